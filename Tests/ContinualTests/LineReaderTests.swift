import Foundation
import Testing
import TestSupport
@testable import Continual

@Suite("Line reader")
struct LineReaderTests {
    @Test("a line longer than the bound is refused with its number, however far the buffer grew; lines within it are read")
    func lineTooLong() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("long.csv")
            // Chunks of 1 KiB and a bound of 40 KiB: the buffer grows to 64 KiB for the
            // long line, and a line of 50 KiB fitted it. It was read before: the bound was
            // checked only before the buffer grew.
            let long = String(repeating: "z", count: 50 * 1024)
            try writeText("a,b\n1,\(String(repeating: "y", count: 30 * 1024))\n2,\(long)\n3,x\n", to: path)
            let reader = LineReader(file: try GzipFile(path: path), chunkSize: 1024, maxLineLength: 40 * 1024)
            var lengths: [Int] = []
            let error = dataError {
                while let n = try reader.withNextLine({ $0.count }) { lengths.append(n) }
            }
            #expect(lengths == [3, 2 + 30 * 1024])
            #expect(error == .lineTooLong(at: DataLocation(source: path, line: 3), limit: 40 * 1024))
        }
    }
}
