/// Weka's ARFF files (the format of Weka, MOA and OpenML data), read as the CSV lines
/// they describe, so that every CSV rule applies to them: text columns, missing values,
/// positions, resumption and the errors that name a line.
///
/// An ARFF file is a header (`@relation`, one `@attribute NAME TYPE` per column, `%`
/// comments) and, after `@data`, one row per line, dense (`5.1,3.5,'Iris setosa'`) or
/// sparse (`{0 5.1, 4 'Iris setosa'}`: the columns not named hold 0, or a nominal
/// column's first value). ``csvLine(_:number:)`` turns each line into one CSV line and
/// keeps the file's line numbers: the header's lines become blank lines, `@data` becomes
/// a CSV header of the attributes' names, and each row is written with `,` between
/// fields, double quotes where a value needs them and `?` where a value is missing.
///
/// Read as Weka reads them: `'` or `"` quote a value (`\'`, `\"`, `\\`, `\n`, `\t`, `\r`
/// and `\%` inside stand for those characters), `%` outside quotes starts a comment to the
/// line's end, keywords are read in any case. Types: `numeric`, `real` and `integer` are
/// numbers; a nominal `{…}` column's values are text, or numbers when written as numbers
/// (a `{0,1}` flag), as a CSV file's would be; `string` and `date` columns are text.
/// Refused, with the line: a `relational` attribute, an instance weight (`{2}` after a
/// row), a sparse entry out of order or past the last attribute, an unknown type, and a
/// file whose header ends without `@data`.
struct ARFFLines {
    enum Kind: Equatable {
        case numeric
        case nominal([String])
        case string
        case date
    }

    struct Attribute: Equatable {
        var name: String
        var kind: Kind
    }

    /// The file's name in errors.
    let source: String
    /// The attributes declared so far.
    private(set) var attributes: [Attribute] = []
    /// Whether `@data` was read: the lines after it are rows.
    private(set) var inData = false
    /// The attributes KEEL's `@outputs` line names (its files are ARFF with an `@inputs`
    /// and an `@outputs` line before `@data`): the class, when it names one.
    private(set) var outputs: [String]?

    init(source: String) {
        self.source = source
    }

    /// Whether `line` opens an ARFF file: its first word is `@relation`, in any case.
    /// (`LineReader` has already taken a byte-order mark off the first line.)
    static func opens(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        keyword(line, at: skipBlanks(line, from: 0)) == "@relation"
    }

    /// Whether a line says nothing: blank, or a comment (`%` first after blanks).
    static func isCommentOrBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        let i = skipBlanks(line, from: 0)
        return i == line.count || line[i] == UInt8(ascii: "%")
    }

    /// The CSV line for the file's line `number`: empty for a header, comment or blank
    /// line, the attributes' names for `@data`, a row after it; nil for a row that is a
    /// CSV line as it is (numbers and commas only, most rows), which needs no copy.
    mutating func csvLine(_ line: UnsafeBufferPointer<UInt8>, number: Int) throws(DataError) -> [UInt8]? {
        if inData { return try row(line, number: number) }
        if Self.isCommentOrBlank(line) { return [] }
        let i = Self.skipBlanks(line, from: 0)
        let word = Self.keyword(line, at: i)
        switch word {
        case "@relation":
            return []
        case "@attribute":
            try attribute(line, from: i + word.utf8.count, number: number)
            return []
        case "@inputs", "@input", "@outputs", "@output":
            // KEEL's repository writes which attributes are inputs and which the output.
            let names = try attributeNames(line, from: i + word.utf8.count, number: number, keyword: word)
            if word.hasPrefix("@output") { outputs = names }
            return []
        case "@data":
            guard !attributes.isEmpty else { throw failure(number, "@data comes before any @attribute") }
            inData = true
            let names = attributes.map { CSVSource.quoted($0.name, separator: ",") }
            return Array(names.joined(separator: ",").utf8)
        default:
            let shown = String(decoding: line[i ..< min(line.count, i + 40)], as: UTF8.self)
            throw failure(number, "'\(shown)' is not @relation, @attribute, @inputs, @outputs, @data or a % comment, which an ARFF header holds")
        }
    }

    /// The error at the end of the file: a header without `@data` holds no rows.
    func checkEnd(lines: Int) throws(DataError) {
        guard !inData else { return }
        throw failure(lines, "the header ends without an @data line, so the file holds no rows")
    }

    // MARK: The header

    /// The attributes a KEEL `@inputs` or `@outputs` line names (`@outputs Class`,
    /// `@inputs a, b, 'c d'`), each one declared before it.
    private func attributeNames(_ line: UnsafeBufferPointer<UInt8>, from start: Int, number: Int, keyword: String) throws(DataError) -> [String] {
        var names: [String] = []
        var i = Self.skipBlanks(line, from: start)
        while i < line.count {
            // A name as a row's value is read: quoted, or up to a comma or a comment.
            guard let (value, end) = Self.value(line, at: i, stops: [UInt8(ascii: ",")]) else {
                throw failure(number, "\(keyword) opens a quote that does not close")
            }
            let name = value.text
            i = end
            if !name.isEmpty {
                guard attributes.contains(where: { $0.name == name }) else {
                    throw failure(number, "\(keyword) names '\(name)', which no @attribute before it declares")
                }
                names.append(name)
            }
            i = Self.skipBlanks(line, from: i)
            if i < line.count, line[i] == UInt8(ascii: "%") { break }
            if i < line.count, line[i] == UInt8(ascii: ",") { i = Self.skipBlanks(line, from: i + 1) }
        }
        guard !names.isEmpty else { throw failure(number, "\(keyword) names no attribute") }
        return names
    }

    private mutating func attribute(_ line: UnsafeBufferPointer<UInt8>, from start: Int, number: Int) throws(DataError) {
        var i = Self.skipBlanks(line, from: start)
        guard i < line.count else { throw failure(number, "@attribute names no attribute") }
        let name: String
        if line[i] == UInt8(ascii: "'") || line[i] == UInt8(ascii: "\"") {
            guard let (text, end) = Self.quotedValue(line, at: i) else { throw failure(number, "the attribute's name opens a quote that does not close") }
            name = text
            i = end
        } else {
            let begin = i
            while i < line.count, !Self.isBlank(line[i]), line[i] != UInt8(ascii: "{") { i += 1 }
            name = String(decoding: line[begin ..< i], as: UTF8.self)
        }
        i = Self.skipBlanks(line, from: i)
        guard i < line.count else { throw failure(number, "the attribute '\(name)' has no type") }
        let kind: Kind
        if line[i] == UInt8(ascii: "{") {
            kind = .nominal(try nominalValues(line, from: i + 1, number: number, name: name))
        } else {
            let type = Self.keyword(line, at: i)
            switch type {
            case "numeric", "real", "integer": kind = .numeric
            case "string": kind = .string
            case "date": kind = .date
            case "relational":
                throw failure(number, "the attribute '\(name)' is relational (multi-instance data), which is not read; flatten it into columns")
            default:
                throw failure(number, "the attribute '\(name)' has the type '\(type)', not numeric, real, integer, string, date or {values}")
            }
        }
        attributes.append(Attribute(name: name, kind: kind))
    }

    private func nominalValues(_ line: UnsafeBufferPointer<UInt8>, from start: Int, number: Int, name: String) throws(DataError) -> [String] {
        var values: [String] = []
        var i = start
        while true {
            i = Self.skipBlanks(line, from: i)
            guard i < line.count else { throw failure(number, "the values of '\(name)' open a { that no } closes") }
            if line[i] == UInt8(ascii: "}") { break }
            guard let (value, end) = Self.value(line, at: i, stops: [UInt8(ascii: ","), UInt8(ascii: "}")]) else {
                throw failure(number, "a value of '\(name)' opens a quote that does not close")
            }
            values.append(value.text)
            i = Self.skipBlanks(line, from: end)
            guard i < line.count else { throw failure(number, "the values of '\(name)' open a { that no } closes") }
            if line[i] == UInt8(ascii: ",") {
                i += 1
            } else if line[i] != UInt8(ascii: "}") {
                // A comment or a stray character inside the braces (it read the same
                // place again, for ever, before it was refused).
                throw failure(number, "a value of '\(name)' is followed by \(Self.shown(line, from: i)), not by a comma or }")
            }
        }
        return values
    }

    // MARK: Rows

    private func row(_ line: UnsafeBufferPointer<UInt8>, number: Int) throws(DataError) -> [UInt8]? {
        // Most rows of numbers need nothing done: no quote, comment, brace, blank, tab or
        // backslash.
        if !Self.needsWork(line) { return nil }
        if Self.isCommentOrBlank(line) { return [] }
        let start = Self.skipBlanks(line, from: 0)
        let fields = line[start] == UInt8(ascii: "{")
            ? try sparse(line, from: start + 1, number: number)
            : try dense(line, number: number)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(line.count + 8)
        for (k, field) in fields.enumerated() {
            if k > 0 { bytes.append(UInt8(ascii: ",")) }
            if field.missing {
                bytes.append(UInt8(ascii: "?"))
            } else {
                bytes.append(contentsOf: CSVSource.quoted(field.text, separator: ",").utf8)
            }
        }
        return bytes
    }

    private func dense(_ line: UnsafeBufferPointer<UInt8>, number: Int) throws(DataError) -> [(text: String, missing: Bool)] {
        var fields: [(text: String, missing: Bool)] = []
        var i = 0
        while true {
            i = Self.skipBlanks(line, from: i)
            if i == line.count || line[i] == UInt8(ascii: "%") {
                // Nothing after the last separator: an empty last field, as in CSV.
                if !fields.isEmpty { fields.append(("", false)) }
                break
            }
            if line[i] == UInt8(ascii: "{"), fields.count == attributes.count {
                throw failure(number, "the row ends with an instance weight (\(Self.shown(line, from: i))), which is not read; "
                    + "remove the weights, or repeat a row to weigh it more")
            }
            guard let (value, end) = Self.value(line, at: i, stops: [UInt8(ascii: ",")]) else {
                throw failure(number, "a value opens a quote that does not close on its line")
            }
            fields.append(value)
            i = Self.skipBlanks(line, from: end)
            if i == line.count || line[i] == UInt8(ascii: "%") { break }
            guard line[i] == UInt8(ascii: ",") else {
                throw failure(number, "a quoted value is followed by \(Self.shown(line, from: i)), not by a comma")
            }
            i += 1
        }
        return fields
    }

    private func sparse(_ line: UnsafeBufferPointer<UInt8>, from start: Int, number: Int) throws(DataError) -> [(text: String, missing: Bool)] {
        var fields: [(text: String, missing: Bool)] = attributes.map { attribute in
            if case let .nominal(values) = attribute.kind, let first = values.first { return (first, false) }
            return (attribute.kind == .numeric ? "0" : "", false)
        }
        var i = start
        var last = -1
        while true {
            i = Self.skipBlanks(line, from: i)
            guard i < line.count else { throw failure(number, "the sparse row opens a { that no } closes") }
            if line[i] == UInt8(ascii: "}") { break }
            let begin = i
            while i < line.count, line[i] >= 0x30, line[i] <= 0x39 { i += 1 }
            guard i > begin, let index = Int(String(decoding: line[begin ..< i], as: UTF8.self)) else {
                throw failure(number, "a sparse entry (\(Self.shown(line, from: begin))) does not start with an attribute's index")
            }
            guard index < attributes.count else {
                throw failure(number, "a sparse entry names attribute \(index), but the header declares \(attributes.count) (0 to \(attributes.count - 1))")
            }
            guard index > last else {
                throw failure(number, "a sparse entry names attribute \(index) after attribute \(last); entries come in increasing order")
            }
            last = index
            i = Self.skipBlanks(line, from: i)
            guard let (value, end) = Self.value(line, at: i, stops: [UInt8(ascii: ","), UInt8(ascii: "}")]) else {
                throw failure(number, "a value opens a quote that does not close on its line")
            }
            fields[index] = value
            i = Self.skipBlanks(line, from: end)
            if i < line.count, line[i] == UInt8(ascii: ",") { i += 1 }
        }
        i = Self.skipBlanks(line, from: i + 1)
        if i < line.count, line[i] == UInt8(ascii: ",") {
            throw failure(number, "the row ends with an instance weight (\(Self.shown(line, from: i + 1))), which is not read; "
                + "remove the weights, or repeat a row to weigh it more")
        }
        if i < line.count, line[i] != UInt8(ascii: "%") {
            throw failure(number, "the sparse row's } is followed by \(Self.shown(line, from: i)), not by the line's end or a % comment")
        }
        return fields
    }

    // MARK: Tokens

    /// Whether a row holds a byte that needs reading (a quote, `%`, `{`, a blank, a tab or
    /// a backslash): one pass, a word of eight bytes at a time, each byte tested against
    /// the seven by the "has zero byte" trick (S. E. Anderson, "Bit Twiddling Hacks").
    private static func needsWork(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = line.count
        guard let p = line.baseAddress else { return false }
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasByte(_ word: UInt64, _ byte: UInt8) -> Bool {
            let x = word ^ (ones &* UInt64(byte))
            return (x &- ones) & ~x & highs != 0
        }
        var i = 0
        while i + 8 <= n {
            let word = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
            if hasByte(word, 0x27) || hasByte(word, 0x22) || hasByte(word, 0x25) || hasByte(word, 0x7B)
                || hasByte(word, 0x20) || hasByte(word, 0x09) || hasByte(word, 0x5C) {
                return true
            }
            i += 8
        }
        while i < n {
            switch p[i] {
            case 0x27, 0x22, 0x25, 0x7B, 0x20, 0x09, 0x5C: return true
            default: i += 1
            }
        }
        return false
    }

    /// A value at `i`: quoted (to its closing quote), or up to the first of `stops`, a `%`
    /// or the line's end, its trailing blanks dropped; an unquoted `?` is missing. nil for
    /// a quote that does not close.
    private static func value(_ line: UnsafeBufferPointer<UInt8>, at i: Int, stops: [UInt8])
        -> (value: (text: String, missing: Bool), end: Int)? {
        if i < line.count, line[i] == UInt8(ascii: "'") || line[i] == UInt8(ascii: "\"") {
            guard let (text, end) = quotedValue(line, at: i) else { return nil }
            return ((text, false), end)
        }
        var end = i
        while end < line.count, !stops.contains(line[end]), line[end] != UInt8(ascii: "%") { end += 1 }
        var last = end
        while last > i, isBlank(line[last - 1]) { last -= 1 }
        let text = String(decoding: line[i ..< last], as: UTF8.self)
        return ((text, text == "?"), end)
    }

    /// The text of the value quoted at `i`, its escapes read, and the index after its
    /// closing quote; nil when no quote closes it.
    private static func quotedValue(_ line: UnsafeBufferPointer<UInt8>, at i: Int) -> (String, Int)? {
        let quote = line[i]
        var bytes: [UInt8] = []
        var k = i + 1
        while k < line.count {
            let byte = line[k]
            if byte == quote { return (String(decoding: bytes, as: UTF8.self), k + 1) }
            if byte == UInt8(ascii: "\\"), k + 1 < line.count {
                let next = line[k + 1]
                switch next {
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                default: bytes.append(next)
                }
                k += 2
                continue
            }
            bytes.append(byte)
            k += 1
        }
        return nil
    }

    /// The lowercased word at `i` (up to a blank, `{` or the line's end).
    private static func keyword(_ line: UnsafeBufferPointer<UInt8>, at i: Int) -> String {
        var end = i
        while end < line.count, !isBlank(line[end]), line[end] != UInt8(ascii: "{") { end += 1 }
        return String(decoding: line[i ..< end], as: UTF8.self).lowercased()
    }

    /// A space or a tab (svmlight's rows are split at them too, `SVMLightLines`).
    static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    static func skipBlanks(_ line: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var i = start
        while i < line.count, isBlank(line[i]) { i += 1 }
        return i
    }

    private static func shown(_ line: UnsafeBufferPointer<UInt8>, from i: Int) -> String {
        let text = String(decoding: line[i ..< min(line.count, i + 24)], as: UTF8.self)
        return "'" + text + (line.count > i + 24 ? "…" : "") + "'"
    }

    private func failure(_ line: Int, _ problem: String) -> DataError {
        .arff(at: DataLocation(source: source, line: line), problem: problem)
    }
}
