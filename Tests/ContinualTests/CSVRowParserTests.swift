// These tests reach internal API (@testable import), which only a debug build exposes:
// `swift test` in debug runs them; a release test build leaves them out.
#if DEBUG
import Testing
@testable import Continual
import MoE

/// The splitter reads plain decimals in the same pass as it finds the fields: its values
/// and boundaries must be those of the field-by-field path, on every kind of field.
@Suite("CSV row parser")
struct CSVRowParserTests {
    /// Fields of every kind: plain decimals (read while splitting) and everything else.
    static let fields = [
        "0", "255", "-0", "+3", ".5", "5.", "-.25", "0.1", "16777216", "16777217", "123456789", "0.0000000001",
        "0.00000000001", "1e3", "-7.25e+2", " 42", "42 ", "\"17\"", " \"-2.5\" ", "\"1\"\"2\"", "", "abc", "1.2.3",
        "--1", "+", ".", "12a", "0x1p3", "3.4028235e38",
    ]

    /// Each field's value through the splitter, or nil when `number` throws.
    func parse(_ line: String, separator: Character) -> (count: Int, values: [Float?]) {
        var parser = CSVRowParser(source: "test.csv", separator: separator.asciiValue!)
        var bytes = Array(line.utf8)
        bytes.append(0)  // the line reader's terminator
        return bytes.withUnsafeBufferPointer { all in
            let text = UnsafeBufferPointer(rebasing: all[0..<(all.count - 1)])
            let count = parser.split(text)
            let values = (0..<count).map { try? parser.number($0, in: text, lineNumber: 1) }
            return (count, values)
        }
    }

    /// What the field-by-field path gives: `Float(String)` of the trimmed text (quotes
    /// undone), when it is a finite number.
    func expected(_ field: String) -> Float? {
        var text = field.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("\"") && text.hasSuffix("\"") && text.count >= 2 {
            text = String(text.dropFirst().dropLast()).replacing("\"\"", with: "\"")
        }
        guard let value = Float(text), value.isFinite else { return nil }
        return value
    }

    @Test("every field alone and among others, with ',', ';' and tab separators", arguments: [",", ";", "\t"])
    func fieldsInLines(_ separator: Character) {
        var generator = SeededGenerator(seed: 21)
        for round in 0..<400 {
            let width = 1 + generator.nextInt(below: 12)
            let chosen = (0..<width).map { _ in Self.fields[generator.nextInt(below: Self.fields.count)] }
                .map { separator == "\t" ? $0.replacing(" ", with: "") : $0 }
            let line = chosen.joined(separator: String(separator))
            let (count, values) = parse(line, separator: separator)
            #expect(count == width, "round \(round): '\(line)'")
            guard count == width else { continue }
            for (field, value) in zip(chosen, values) {
                let wanted = expected(field)
                #expect(value?.bitPattern == wanted?.bitPattern, "'\(field)' in '\(line)': \(String(describing: value))")
            }
        }
    }

    @Test("blanks: runs of spaces and tabs separate fields, blanks at either end none, quotes hold blanks")
    func blanks() {
        var generator = SeededGenerator(seed: 23)
        let plain = Self.fields.filter { !$0.contains(" ") && !$0.isEmpty }
        for round in 0..<400 {
            let width = 1 + generator.nextInt(below: 12)
            let chosen = (0..<width).map { _ in plain[generator.nextInt(below: plain.count)] }
            let runs = (0...width).map { _ in String(repeating: ["", " ", "\t", "  ", " \t "][generator.nextInt(below: 5)], count: 1) }
            let line = runs[0] + chosen.enumerated().map { i, field in field + (i < width - 1 ? (runs[i + 1].isEmpty ? " " : runs[i + 1]) : "") }
                .joined() + runs[width]
            let (count, values) = parse(line, separator: " ")
            #expect(count == width, "round \(round): '\(line)'")
            guard count == width else { continue }
            for (field, value) in zip(chosen, values) {
                #expect(value?.bitPattern == expected(field)?.bitPattern, "'\(field)' in '\(line)'")
            }
        }
        #expect(parse("  \"a b\"  2\t", separator: " ").count == 2)
        #expect(parse("   ", separator: " ").count == 0)
    }

    @Test("random decimals of up to 12 places and 9 digits, signed, read bit for bit")
    func decimals() {
        var generator = SeededGenerator(seed: 22)
        var fields: [String] = []
        for _ in 0..<5000 {
            let digits = String(generator.nextInt(below: 1_000_000_000))
            let places = generator.nextInt(below: 13)
            let sign = ["", "-", "+"][generator.nextInt(below: 3)]
            let cut = max(0, digits.count - places)
            fields.append(sign + digits.prefix(cut) + (places > 0 ? "." + digits.dropFirst(cut) : ""))
        }
        let (count, values) = parse(fields.joined(separator: ","), separator: ",")
        #expect(count == fields.count)
        for (field, value) in zip(fields, values) {
            #expect(value?.bitPattern == Float(field)?.bitPattern, "'\(field)'")
        }
    }

    @Test("eight bytes at a time: the count of leading digits and their value, against a byte loop")
    func wordTricks() {
        var generator = SeededGenerator(seed: 23)
        let alphabet = Array("0123456789".utf8) + [0, 0x2C, 0x2E, 0x2D, 0x2F, 0x3A, 0x20, 0x7F, 0x80, 0xB9, 0xBA, 0xFF]
        for round in 0..<20_000 {
            var bytes = (0..<8).map { _ in alphabet[generator.nextInt(below: alphabet.count)] }
            // Mostly digits, as in real rows.
            for k in 0..<8 where generator.nextInt(below: 3) > 0 { bytes[k] = UInt8(48 + generator.nextInt(below: 10)) }
            if round % 7 == 0 { bytes = (0..<8).map { _ in UInt8(truncatingIfNeeded: generator.next()) } }
            let word = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            let digits = bytes.firstIndex { !(48...57).contains($0) } ?? 8
            #expect(CSVRowParser.leadingDigits(word) == digits, "\(bytes)")
            if digits > 0 {
                let value = bytes[0..<digits].reduce(UInt32(0)) { $0 * 10 + UInt32($1 - 48) }
                #expect(CSVRowParser.eightDigits(word, count: digits) == value, "\(bytes)")
            }
        }
    }

    @Test("an empty line is one empty field; a trailing separator adds an empty field")
    func emptyFields() {
        #expect(parse("", separator: ",").count == 1)
        let (count, values) = parse("1,2,", separator: ",")
        #expect(count == 3)
        #expect(values == [1, 2, nil])
    }

    @Test("a number in dress reads as the same number written plainly; codes, words and bad groupings do not")
    func dressedNumber() {
        let comma = CSVRowParser(source: "t", separator: UInt8(ascii: ",")), semicolon = CSVRowParser(source: "t", separator: UInt8(ascii: ";"))
        let both: [(String, Float)] = [("$7.58", 7.58), ("1,852.18", 1852.18), ("1.852,18", 1852.18), ("1'852.18", 1852.18),
                                       ("30%", 30), ("12.5 %", 12.5), ("-$5", -5), ("$-5", -5), ("€ 1,234,567", 1_234_567),
                                       ("1.234.567", 1_234_567), ("12,50 €", 12.5), ("£0.99", 0.99), ("¥ 1,000", 1000)]
        for (text, value) in both {
            let parser = text == "12,50 €" ? semicolon : comma
            #expect(parser.dressedNumber(text) == value, "\(text)")
        }
        // A lone comma over three digits: a thousands separator where ',' separates fields
        // (the value was quoted), a decimal comma elsewhere, as a plain field reads.
        #expect(comma.dressedNumber("1,234") == 1234 && semicolon.dressedNumber("$1,234") == 1.234)
        for text in ["7.58", "1_000", "A1", "3+", "1,2,3", "1,23,456", "12.34.5", "$", "%", "1,234.5.6", "$$5", "5-", "1 000", "(5)", "0x10"] {
            #expect(comma.dressedNumber(text) == nil, "\(text)")
        }
    }
}
#endif
