// This test reaches the moe executable's internal API (@testable import), which only a
// debug build exposes: swift build -c release --build-tests compiles none of it.
#if DEBUG
@testable import moe
import Testing

@Suite("Lists of columns and values in moe stream's sentences")
struct ListedTests {
    @Test("up to 21 items are listed whole; more show the first 20, the last and their count")
    func listed() {
        #expect(Stream.listed([]) == "")
        #expect(Stream.listed(["3"]) == "3")
        let some = (0..<21).map(String.init)
        #expect(Stream.listed(some) == some.joined(separator: ", "))
        let many = (0..<17_881).map(String.init)
        #expect(Stream.listed(many) == (0..<20).map(String.init).joined(separator: ", ") + ", …, 17880 (17881 in all)")
    }

    @Test("a column's value quoted in a warning stays on one line and within 40 characters")
    func example() {
        #expect(Stream.example("2024-01-05") == "'2024-01-05'")
        #expect(Stream.example("line one\nline two\r\nthree\tfour") == "'line one\\nline two\\nthree\\tfour'")
        let paragraph = String(repeating: "word ", count: 100)
        #expect(Stream.example(paragraph) == "'" + String(repeating: "word ", count: 8) + "…'")
    }
}
#endif
