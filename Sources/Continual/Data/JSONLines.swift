import Foundation

/// JSON Lines: one JSON record per line (`{"bill": 39.1, "species": "Adelie"}`), as
/// pandas' `to_json(orient="records", lines=True)`, Spark, BigQuery's exports and logs of
/// event streams write them, read as the CSV lines they describe, so that every CSV rule
/// applies to them: positions, resumption, the label map, text columns, missing values
/// and the errors that name a line.
///
/// The columns are every record's keys (``Columns``: in the whole file when it can be
/// read twice, else in its first lines), or, for a saved model, the columns it learned
/// (a record's keys then place its values by name, and keys it did not learn are passed
/// over). ``csvLine(_:number:)`` turns each record into one CSV line
/// of those columns: a number as written, a string as a CSV field (quoted when it must
/// be), `true` and `false` as text, `null` and a key the record lacks as a missing value,
/// and an object's fields as fields of their own, `user.id` (as `pandas.json_normalize`
/// names them).
///
/// Refused, with the line (`DataError.jsonRecord`, a fault of the row, which
/// `--skip-bad-rows` skips): a line that is not a JSON record, a key not among the columns
/// (a pipe's record beyond the lines read for them), a key twice, and a value that is a
/// list. A file whose first line is a JSON list, or a JSON document over
/// many lines, is refused whole (`DataError.jsonLines`): read as CSV, every key and value
/// was text, and a stream that learned nothing ran to its end.
struct JSONLines {
    /// The file's name in errors.
    let source: String
    /// The columns of each converted line, in order.
    let names: [String]
    /// Whether keys not among `names` are passed over (a model's columns) or refused.
    let passesOverOtherKeys: Bool
    /// Where the columns were found, for errors: "the whole file", "its first 4096 lines".
    let columnsFound: String
    private let place: [[UInt8]: Int]

    init(source: String, names: [String], passesOverOtherKeys: Bool, columnsFound: String = "the whole file") {
        self.source = source
        self.names = names
        self.passesOverOtherKeys = passesOverOtherKeys
        self.columnsFound = columnsFound
        var place: [[UInt8]: Int] = [:]
        for (i, name) in names.enumerated() where place[Array(name.utf8)] == nil { place[Array(name.utf8)] = i }
        self.place = place
    }

    /// The header line: the columns' names as CSV fields.
    var headerLine: [UInt8] {
        Array(names.map { CSVSource.quoted($0, separator: ",") }.joined(separator: ",").utf8)
    }

    /// A row of zeros, standing in for a record that cannot be read until its fault is
    /// told (as an svmlight row's).
    var standIn: [UInt8] {
        Array(Array(repeating: "0", count: names.count).joined(separator: ",").utf8)
    }

    /// What a file's first line that is not blank opens.
    enum Opening: Equatable {
        /// A JSON record: its keys, in order.
        case record([String])
        /// A line that opens like a record (`{"`) but is not one: why.
        case badRecord(String)
        /// A JSON list on one line, or the start of a JSON document over many lines.
        case other
    }

    /// What `line` opens: a JSON record (blanks around it allowed), other JSON (a list,
    /// or `[` or `{` alone, or `[{` or `{"` first: a document over many lines), or nil: not
    /// JSON. A CSV line whose first field merely begins with `{` or `[` is none of these.
    static func opening(_ line: UnsafeBufferPointer<UInt8>) -> Opening? {
        var start = 0, end = line.count
        while start < end, isBlank(line[start]) { start += 1 }
        while end > start, isBlank(line[end - 1]) { end -= 1 }
        guard end > start else { return nil }
        let first = line[start]
        guard first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return nil }
        if end - start == 1 { return .other }
        let second = line[(start + 1 ..< end).first { !isBlank(line[$0]) }!]
        if first == UInt8(ascii: "{") {
            switch record(line) {
            case .success(let fields) where !fields.isEmpty: return .record(fields.map { String(decoding: $0.key, as: UTF8.self) })
            case .failure(let problem) where second == UInt8(ascii: "\"") && line[end - 1] == UInt8(ascii: "}"):
                return .badRecord(problem.text)
            default: break
            }
        }
        if (first == UInt8(ascii: "[") && second == UInt8(ascii: "{")) || (first == UInt8(ascii: "{") && second == UInt8(ascii: "\"")) {
            return .other
        }
        if first == UInt8(ascii: "["), line[end - 1] == UInt8(ascii: "]"),
           (try? JSONSerialization.jsonObject(with: Data(UnsafeBufferPointer(rebasing: line[start ..< end])), options: [])) is [Any] {
            return .other
        }
        return nil
    }

    /// The columns of a file's records: every key, each placed after the key before it in
    /// the record that first has it, so that records that leave out keys (Spark leaves out
    /// a null) give the columns in the order of the records that have them all.
    struct Columns {
        private var keys: [[UInt8]] = []
        private var known: Set<[UInt8]> = []
        /// The keys of the last record added, in its order: most records repeat them.
        private var last: [[UInt8]] = []

        /// The columns' names.
        var names: [String] { keys.map { String(decoding: $0, as: UTF8.self) } }

        init(first: [String]) {
            for key in first.map({ Array($0.utf8) }) where known.insert(key).inserted { keys.append(key) }
        }

        /// Adds the keys of `line` that are new; a line that is not a record adds nothing
        /// (it is refused when its row is read).
        mutating func add(_ line: UnsafeBufferPointer<UInt8>) {
            guard case .success(let fields) = JSONLines.record(line) else { return }
            if fields.count == last.count, zip(fields, last).allSatisfy({ $0.key == $1 }) { return }
            var previous: [UInt8]?
            for (key, _) in fields {
                if known.insert(key).inserted {
                    let at = previous.flatMap { p in keys.firstIndex(of: p).map { $0 + 1 } } ?? 0
                    keys.insert(key, at: at)
                }
                previous = key
            }
            last = fields.map(\.key)
        }
    }

    /// `line`, a JSON record, as a CSV line of ``names``.
    func csvLine(_ line: UnsafeBufferPointer<UInt8>, number: Int) throws(DataError) -> [UInt8] {
        let fields: [(key: [UInt8], value: Value)]
        switch Self.record(line) {
        case .success(let read): fields = read
        case .failure(let problem): throw failure(number, problem.text)
        }
        var values = [Value?](repeating: nil, count: names.count)
        var passedOver = Set<[UInt8]>()
        for (bytes, value) in fields {
            let i = place[bytes]
            guard i.map({ values[$0] == nil }) ?? passedOver.insert(bytes).inserted else {
                throw failure(number, "the key '\(String(decoding: bytes, as: UTF8.self))' is given twice")
            }
            func key() -> String { String(decoding: bytes, as: UTF8.self) }
            guard let i else {
                if passesOverOtherKeys { continue }
                let shown = names.prefix(8).map { "'\($0)'" }.joined(separator: ", ") + (names.count > 8 ? ", …" : "")
                throw failure(number, "the key '\(key())' is not among the columns (\(shown)), found in \(columnsFound) before the first row was read: "
                    + "the stream's columns are fixed then")
            }
            if value == .list {
                throw failure(number, "the value of '\(key())' is a list; only numbers, strings, true, false, null and objects (their fields read as 'key.field') are read", fault: .value)
            }
            values[i] = value
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(line.count)
        for (i, value) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            switch value {
            case .number(let range)?: bytes += UnsafeBufferPointer(rebasing: line[range])
            case .text(let text)?: bytes += Self.csvField(text)
            case .literal(let word)?: bytes += Array(word.utf8)
            case .null?, .list?, nil: break
            }
        }
        return bytes
    }

    private func failure(_ line: Int, _ problem: String, fault: DataError.JSONFault = .record) -> DataError {
        .jsonRecord(at: DataLocation(source: source, line: line), problem: problem, fault: fault)
    }

    /// `text` as one CSV field: quoted, its quotes doubled, when it holds a comma, a quote,
    /// a line end or a space at either end (`CSVSource.quoted`'s rule, on bytes).
    static func csvField(_ text: [UInt8]) -> [UInt8] {
        let special = { (byte: UInt8) in byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == 13 || byte == 10 }
        let plain = !text.contains(where: special) && text.first != UInt8(ascii: " ") && text.last != UInt8(ascii: " ")
        guard !plain else { return text }
        var out: [UInt8] = [UInt8(ascii: "\"")]
        for byte in text {
            out.append(byte)
            if byte == UInt8(ascii: "\"") { out.append(byte) }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }

    /// A value of a record.
    enum Value: Equatable {
        /// A number: where its bytes are, as written, in the line.
        case number(Range<Int>)
        /// A string, its escapes read (its UTF-8 bytes, checked as a CSV field's are).
        case text([UInt8])
        /// `true` or `false`.
        case literal(String)
        case null
        /// A list, passed over (an object's fields are the record's own, flattened).
        case list
    }

    struct Problem: Error, Equatable {
        let text: String
    }

    /// The keys and values of `line`, a JSON object with blanks around it allowed.
    static func record(_ line: UnsafeBufferPointer<UInt8>) -> Result<[(key: [UInt8], value: Value)], Problem> {
        var parser = Parser(bytes: line)
        do {
            let fields = try parser.object()
            parser.skipBlanks()
            guard parser.at == line.count else { throw Problem(text: "text after the record's closing brace, at character \(parser.at + 1)") }
            return .success(fields)
        } catch let problem as Problem {
            return .failure(problem)
        } catch {
            return .failure(Problem(text: "\(error)"))
        }
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    /// A reader of one line of JSON (RFC 8259), enough for a record: objects inside it
    /// flattened, lists checked for their brackets and strings, not read.
    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var at = 0

        mutating func skipBlanks() {
            while at < bytes.count, JSONLines.isBlank(bytes[at]) || bytes[at] == UInt8(ascii: "\n") { at += 1 }
        }

        func fail(_ what: String) -> Problem {
            Problem(text: at < bytes.count ? "not a JSON record: \(what) at character \(at + 1)" : "not a JSON record: \(what) at the line's end")
        }

        mutating func expect(_ byte: Character) throws(Problem) {
            skipBlanks()
            guard at < bytes.count, bytes[at] == byte.asciiValue! else { throw fail("'\(byte)' expected") }
            at += 1
        }

        /// How deep objects may nest in a record (a crafted line of a million braces would
        /// otherwise exhaust the stack).
        static let deepest = 64

        /// The record's fields, an object's inside it flattened: `{"user": {"id": 7}}` is
        /// the field `user.id`, as `pandas.json_normalize` names it.
        mutating func object() throws(Problem) -> [(key: [UInt8], value: Value)] {
            var fields: [(key: [UInt8], value: Value)] = []
            try object(prefix: [], depth: 1, into: &fields)
            return fields
        }

        mutating func object(prefix: [UInt8], depth: Int, into fields: inout [(key: [UInt8], value: Value)]) throws(Problem) {
            try expect("{")
            skipBlanks()
            if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return }
            while true {
                skipBlanks()
                guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw fail("a key in quotes expected") }
                let key = prefix.isEmpty ? try string() : prefix + (try string())
                try expect(":")
                skipBlanks()
                if at < bytes.count, bytes[at] == UInt8(ascii: "{") {
                    guard depth < Self.deepest else { throw fail("objects nested more than \(Self.deepest) deep") }
                    try object(prefix: key + [UInt8(ascii: ".")], depth: depth + 1, into: &fields)
                } else {
                    fields.append((key, try value()))
                }
                skipBlanks()
                guard at < bytes.count else { throw fail("',' or '}' expected") }
                if bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                if bytes[at] == UInt8(ascii: "}") { at += 1; return }
                throw fail("',' or '}' expected")
            }
        }

        mutating func value() throws(Problem) -> Value {
            skipBlanks()
            guard at < bytes.count else { throw fail("a value expected") }
            switch bytes[at] {
            case UInt8(ascii: "\""): return .text(try string())
            case UInt8(ascii: "["):
                try skipNested()
                return .list
            case UInt8(ascii: "t"): try word("true"); return .literal("true")
            case UInt8(ascii: "f"): try word("false"); return .literal("false")
            case UInt8(ascii: "n"): try word("null"); return .null
            default: return .number(try number())
            }
        }

        mutating func word(_ text: String) throws(Problem) {
            let utf8 = Array(text.utf8)
            guard at + utf8.count <= bytes.count, Array(bytes[at ..< at + utf8.count]) == utf8 else { throw fail("a value expected") }
            at += utf8.count
        }

        /// A number as JSON writes it: `-`, digits (no leading zero before more), a
        /// fraction, an exponent.
        mutating func number() throws(Problem) -> Range<Int> {
            let start = at
            func digits() -> Int {
                let from = at
                while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") { at += 1 }
                return at - from
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "-") { at += 1 }
            let whole = at
            guard digits() > 0, !(bytes[whole] == UInt8(ascii: "0") && at - whole > 1) else { at = start; throw fail("a value expected") }
            if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
                at += 1
                guard digits() > 0 else { throw fail("digits expected after the decimal point") }
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
                at += 1
                if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
                guard digits() > 0 else { throw fail("digits expected in the exponent") }
            }
            return start ..< at
        }

        /// A string at `at` (its opening quote), its escapes read.
        mutating func string() throws(Problem) -> [UInt8] {
            at += 1
            var out: [UInt8] = []
            while at < bytes.count {
                let byte = bytes[at]
                at += 1
                if byte == UInt8(ascii: "\"") { return out }
                guard byte == UInt8(ascii: "\\") else { out.append(byte); continue }
                guard at < bytes.count else { break }
                let escape = bytes[at]
                at += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800 ..< 0xDC00).contains(scalar) {
                        guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else {
                            throw fail("a lone surrogate in a string")
                        }
                        at += 2
                        let low = try hex4()
                        guard (0xDC00 ..< 0xE000).contains(low) else { throw fail("a lone surrogate in a string") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail("a lone surrogate in a string") }
                    out += Array(String(Character(unicode)).utf8)
                default:
                    at -= 1
                    throw fail("an unknown escape '\\\(Character(Unicode.Scalar(escape)))' in a string")
                }
            }
            throw fail("a string that no quote closes")
        }

        mutating func hex4() throws(Problem) -> UInt32 {
            guard at + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[at ..< at + 4], as: UTF8.self), radix: 16) else {
                throw fail("four hexadecimal digits expected after \\u")
            }
            at += 4
            return value
        }

        /// An object or list at `at`, passed over: its brackets matched, its strings read.
        mutating func skipNested() throws(Problem) {
            var depth = 0
            while at < bytes.count {
                switch bytes[at] {
                case UInt8(ascii: "\""): _ = try string(); continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { at += 1; return }
                default: break
                }
                at += 1
            }
            throw fail("an object or list that is not closed")
        }
    }
}
