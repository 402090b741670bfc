#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits CSV lines into fields and parses numbers, reusing its field arrays from line
/// to line (no allocation per line once warmed up).
///
/// A line without quotes (the common case) is split eight bytes at a time, and each of
/// its fields that is a plain decimal (`255`, `-0.5`: see `fastFloat`) is read during the
/// split, so that `number` only looks its value up; any other field (spaces, exponents,
/// text) and every field of a line with quotes is parsed by `number` as before, with the
/// same errors.
struct CSVRowParser {
    let source: String
    let separator: UInt8
    /// Field boundaries of the last split line: `starts[i]..<ends[i]` (inside the quotes
    /// for quoted fields). Only the first `count` entries are meaningful.
    private var starts: [Int] = []
    private var ends: [Int] = []
    private var quoted: [Bool] = []
    /// The value of each plain decimal field of the last split line, NaN for the others.
    private var values: [Float] = []
    /// Number of fields of the last split line.
    private(set) var count = 0
    /// Whether an empty last field (a line that ends with the separator) is no field: set
    /// for files whose every line ends so (`CSVSource`'s trailing separator).
    var dropsTrailingEmptyField = false

    /// With a file whose header holds the learned columns in another order, or more
    /// columns besides (``readFields(_:of:)``): per learned field, the file's field it is
    /// read from. Nil: fields are read in the file's order.
    private(set) var fieldOrder: [Int]?
    /// With ``fieldOrder``: the file's fields per row, and the fields of the last split
    /// line when it had another number of them (``split(_:)`` then returns -1).
    private(set) var fileFields = 0
    private(set) var misfitFields = 0
    /// Fields of the line as split (before ``fieldOrder`` places them) whose text each
    /// ``split(_:)`` keeps in ``keptText``: the columns `moe predict --keep-columns` writes
    /// beside each answer, which need not be columns the model reads.
    var keep: [Int] = []
    /// The text of ``keep``'s fields in the last split line ("" where it has fewer fields).
    private(set) var keptText: [String] = []
    /// The field arrays ``reorder(_:)`` writes into and swaps in, kept from line to line.
    private var spare: (starts: [Int], ends: [Int], quoted: [Bool], values: [Float]) = ([], [], [], [])

    init(source: String, separator: UInt8) {
        self.source = source
        self.separator = separator
    }

    /// Reads field `order[i]` of each line of `fields` fields as field `i`: the columns a
    /// model learned, placed by name in a file that orders them otherwise or holds more
    /// (a field may be read twice, for a left-out column the file lacks). Messages name
    /// the file's own field. A line of another number of fields splits into none (-1),
    /// ``misfitFields`` saying how many it had.
    mutating func readFields(_ order: [Int], of fields: Int) {
        precondition(order.allSatisfy { $0 >= 0 && $0 < fields })
        fieldOrder = order
        fileFields = fields
    }

    /// Splits `line` and returns the number of fields. `line` must be followed in memory
    /// by one readable byte that cannot continue a number (the line reader puts a 0 there).
    mutating func split(_ line: UnsafeBufferPointer<UInt8>) -> Int {
        let n = line.count
        if starts.count < n + 1 {
            starts = [Int](repeating: 0, count: n + 1)
            ends = [Int](repeating: 0, count: n + 1)
            quoted = [Bool](repeating: false, count: n + 1)
            values = [Float](repeating: .nan, count: n + 1)
        }
        let separator = self.separator
        count = starts.withUnsafeMutableBufferPointer { starts in
            ends.withUnsafeMutableBufferPointer { ends in
                quoted.withUnsafeMutableBufferPointer { quoted in
                    values.withUnsafeMutableBufferPointer { values in
                        separator == Self.blank
                            ? Self.blankSplit(line, starts: starts, ends: ends, quoted: quoted, values: values)
                            : Self.fastSplit(line, separator: separator, starts: starts, ends: ends, quoted: quoted, values: values)
                                ?? Self.generalSplit(line, separator: separator, starts: starts, ends: ends, quoted: quoted, values: values)
                    }
                }
            }
        }
        if dropsTrailingEmptyField && count > 1 && starts[count - 1] == ends[count - 1] && !quoted[count - 1] {
            count -= 1
        }
        if !keep.isEmpty { captureKept(line) }
        if let order = fieldOrder { reorder(order) }
        return count
    }

    /// Keeps the text of ``keep``'s fields of `line`, as it was last split and not
    /// reordered.
    mutating func captureKept(_ line: UnsafeBufferPointer<UInt8>) {
        keptText = keep.map { $0 < count ? text($0, in: line) : "" }
    }

    /// Puts the last split line's fields in ``fieldOrder``'s order (none, -1, for a line
    /// of another number of fields than the file's).
    private mutating func reorder(_ order: [Int]) {
        guard count == fileFields else {
            misfitFields = count
            count = -1
            return
        }
        // As large as the arrays it replaces, so the next split need not grow them.
        if spare.starts.count < starts.count {
            spare = ([Int](repeating: 0, count: starts.count), [Int](repeating: 0, count: starts.count),
                     [Bool](repeating: false, count: starts.count), [Float](repeating: .nan, count: starts.count))
        }
        for (i, field) in order.enumerated() {
            spare.starts[i] = starts[field]
            spare.ends[i] = ends[field]
            spare.quoted[i] = quoted[field]
            spare.values[i] = values[field]
        }
        swap(&starts, &spare.starts)
        swap(&ends, &spare.ends)
        swap(&quoted, &spare.quoted)
        swap(&values, &spare.values)
        count = order.count
    }

    /// A line without a quote: its fields are the bytes between separators, found eight
    /// bytes at a time (an exact zero-byte test on `word ^ separators`, S. E. Anderson,
    /// "Bit Twiddling Hacks"), and every field that is a plain decimal is read on the way.
    /// Returns nil for a line with a quote or shorter than eight bytes.
    private static func fastSplit(
        _ line: UnsafeBufferPointer<UInt8>, separator: UInt8, starts: UnsafeMutableBufferPointer<Int>,
        ends: UnsafeMutableBufferPointer<Int>, quoted: UnsafeMutableBufferPointer<Bool>,
        values: UnsafeMutableBufferPointer<Float>
    ) -> Int? {
        let n = line.count
        guard let p = line.baseAddress, n >= 8, memchr(p, Int32(UInt8(ascii: "\"")), n) == nil else { return nil }
        let low: UInt64 = 0x7F7F_7F7F_7F7F_7F7F, separators = UInt64(separator) &* 0x0101_0101_0101_0101
        var fields = 0, start = 0
        // The field start..<end: an integer of 1 to 7 digits from one 8-byte load (the
        // line is followed by one readable byte, so a load may end at index n), anything
        // else through `fastFloat`.
        @inline(__always) func field(_ end: Int) {
            starts[fields] = start
            ends[fields] = end
            quoted[fields] = false
            let length = end - start
            var value = Float.nan
            if length >= 1 && length <= 7 && start + 8 <= n + 1,
               case let word = UInt64(littleEndian: UnsafeRawPointer(p + start).loadUnaligned(as: UInt64.self)),
               leadingDigits(word) == length {
                value = Float(eightDigits(word, count: length))
            } else if let parsed = fastFloat(p + start, length) {
                value = parsed
            }
            values[fields] = value
            fields += 1
            start = end + 1
        }
        var base = 0
        while base + 8 <= n {
            let word = UInt64(littleEndian: UnsafeRawPointer(p + base).loadUnaligned(as: UInt64.self)) ^ separators
            // High bit of each byte of `word` that is zero (a separator), exactly.
            var hits = ~(((word & low) &+ low) | word | low)
            while hits != 0 {
                field(base + hits.trailingZeroBitCount >> 3)
                hits &= hits &- 1
            }
            base += 8
        }
        while base < n {
            if p[base] == separator { field(base) }
            base += 1
        }
        field(n)
        return fields
    }

    /// The index of the quote that closes the field opened by the quote at `open` (a
    /// doubled quote is a quote inside it), or the line's length when none does.
    private static func closingQuote(in line: UnsafeBufferPointer<UInt8>, after open: Int) -> Int {
        let quote = UInt8(ascii: "\""), n = line.count
        var k = open + 1
        while k < n {
            if line[k] == quote {
                if k + 1 < n && line[k + 1] == quote { k += 2; continue }
                break
            }
            k += 1
        }
        return k
    }

    /// The separator byte that stands for blanks (``blankSplit``): a space.
    static let blank = UInt8(ascii: " ")

    /// A line whose fields are separated by blanks: runs of spaces and tabs, as numpy's
    /// `savetxt`, R's `write.table` and many `.data` files write them, columns aligned
    /// or not; blanks at either end separate nothing. A field may be quoted (and then hold
    /// blanks). Plain decimals are read on the way, as in ``fastSplit``.
    private static func blankSplit(
        _ line: UnsafeBufferPointer<UInt8>, starts: UnsafeMutableBufferPointer<Int>, ends: UnsafeMutableBufferPointer<Int>,
        quoted: UnsafeMutableBufferPointer<Bool>, values: UnsafeMutableBufferPointer<Float>
    ) -> Int {
        let n = line.count, quote = UInt8(ascii: "\"")
        @inline(__always) func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        var fields = 0, i = 0
        while true {
            while i < n && isBlank(line[i]) { i += 1 }
            if i >= n { break }
            if line[i] == quote {
                let k = closingQuote(in: line, after: i)
                starts[fields] = i + 1
                ends[fields] = Swift.min(k, n)
                quoted[fields] = true
                values[fields] = .nan
                i = Swift.min(k + 1, n)
                while i < n && !isBlank(line[i]) { i += 1 }
            } else {
                var m = i
                while m < n && !isBlank(line[m]) { m += 1 }
                starts[fields] = i
                ends[fields] = m
                quoted[fields] = false
                values[fields] = line.baseAddress.flatMap { fastFloat($0 + i, m - i) } ?? .nan
                i = m
            }
            fields += 1
        }
        return fields
    }

    /// Any line: fields may be quoted (and then hold separators) or start with blanks.
    /// Their values are left to `number` (NaN here).
    private static func generalSplit(
        _ line: UnsafeBufferPointer<UInt8>, separator: UInt8, starts: UnsafeMutableBufferPointer<Int>,
        ends: UnsafeMutableBufferPointer<Int>, quoted: UnsafeMutableBufferPointer<Bool>,
        values: UnsafeMutableBufferPointer<Float>
    ) -> Int {
        let n = line.count
        let quote = UInt8(ascii: "\"")
        var fields = 0
        var i = 0
        while true {
            var j = i
            while j < n && (line[j] == 0x20 || line[j] == 0x09) && line[j] != separator { j += 1 }
            if j < n && line[j] == quote {
                let k = closingQuote(in: line, after: j)
                starts[fields] = j + 1
                ends[fields] = Swift.min(k, n)
                quoted[fields] = true
                i = Swift.min(k + 1, n)
                while i < n && line[i] != separator { i += 1 }
            } else {
                var m = i
                while m < n && line[m] != separator { m += 1 }
                starts[fields] = i
                ends[fields] = m
                quoted[fields] = false
                i = m
            }
            values[fields] = .nan
            fields += 1
            if i < n { i += 1; continue }  // line[i] is the separator
            break
        }
        return fields
    }

    /// How many of the eight bytes of `word` (the first in the lowest byte) are ASCII
    /// digits before the first that is not (8 when all are).
    ///
    /// Bytes below `0` and bytes above `9` are flagged with the classic "has less" and
    /// "has more" tricks; a borrow or carry can only spread upwards from a flagged byte,
    /// so the lowest flag is exact (S. E. Anderson, "Bit Twiddling Hacks").
    @inline(__always)
    static func leadingDigits(_ word: UInt64) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let below = (word &- ones &* 0x30) & ~word & highs
        let above = ((word &+ ones &* (127 - 0x39)) | word) & highs
        return (below | above).trailingZeroBitCount >> 3
    }

    /// The value of the first `count` (1...8) bytes of `word`, all ASCII digits, the first
    /// the most significant: three multiplications instead of a loop (D. Lemire,
    /// "Number parsing at a gigabyte per second", Software: Practice and Experience, 2021).
    @inline(__always)
    static func eightDigits(_ word: UInt64, count: Int) -> UInt32 {
        // Digits as values, shifted so that the missing ones become leading zeros.
        var v = (word &- 0x3030_3030_3030_3030) << UInt64(8 * (8 - count))
        v = v &* 10 &+ (v >> 8)
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        v = ((v & mask) &* 0x000F_4240_0000_0064 &+ ((v >> 16) & mask) &* 0x0000_2710_0000_0001) >> 32
        return UInt32(truncatingIfNeeded: v)
    }

    /// The byte offset at which field `index` of the last split line begins (its opening
    /// quote, for a quoted field).
    func fieldStart(_ index: Int) -> Int {
        starts[index] - (quoted[index] ? 1 : 0)
    }

    /// The text of field `index` (spaces trimmed, doubled quotes undone).
    func text(_ index: Int, in line: UnsafeBufferPointer<UInt8>) -> String {
        precondition(index < count, "Field \(index) of a line with \(count) fields")
        let raw = String(decoding: UnsafeBufferPointer(rebasing: line[starts[index] ..< ends[index]]), as: UTF8.self)
        return quoted[index] ? raw.replacing("\"\"", with: "\"") : raw.trimmingSpaces
    }

    /// The text of field `index`, as ``text(_:in:)``, refused when it is not UTF-8 or
    /// holds a NUL byte: a label or a category's value is kept as it is read (a class, a
    /// checkpoint's names), where replacement characters made `caf\u{E9}` and `caf\u{E8}`
    /// of a Latin-1 file one class, and a NUL stopped the save after a whole stream.
    func validText(_ index: Int, in line: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws(DataError) -> String {
        precondition(index < count, "Field \(index) of a line with \(count) fields")
        let bytes = UnsafeBufferPointer(rebasing: line[starts[index] ..< ends[index]])
        if let problem = Self.textProblem(bytes, in: line) {
            throw .notUTF8(at: location(lineNumber, index), problem: problem)
        }
        return text(index, in: line)
    }

    /// Why `bytes` (a field of `line`) are not UTF-8 text, or nil when they are.
    static func textProblem(_ bytes: UnsafeBufferPointer<UInt8>, in line: UnsafeBufferPointer<UInt8>) -> DataError.TextProblem? {
        // Plain ASCII, the common case, in one pass.
        if !bytes.contains(where: { $0 == 0 || $0 >= 0x80 }) { return nil }
        // UTF-16 text of ASCII characters has a NUL at every other byte; allow for some
        // characters beyond ASCII.
        let utf16 = line.count >= 4 && 3 * line.count(where: { $0 == 0 }) >= line.count
        if bytes.contains(0) { return utf16 ? .utf16 : .nul }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return utf16 ? .utf16 : .invalidByte(bytes[offset])
            }
        }
    }

    /// Field `index` as a finite Float, correctly rounded. `line` must be followed in
    /// memory by a byte that cannot continue a number (the line reader puts a 0 there).
    /// With `dress` false a number in dress (`dressedNumber`) is not a number: a header
    /// is told by plain numbers below its names, as before numbers in dress were read (a
    /// category whose levels read `0%`, `1 - 10%` took its first row for a header).
    func number(_ index: Int, in line: UnsafeBufferPointer<UInt8>, lineNumber: Int, dress: Bool = true) throws(DataError) -> Float {
        let parsed = values[index]
        if !parsed.isNaN { return parsed }
        let (first, last) = (starts[index], ends[index])
        let base = line.baseAddress!
        if let value = Self.fastFloat(base + first, last - first) { return value }
        var stop: UnsafeMutablePointer<CChar>?
        let begin = UnsafeRawPointer(base + first).assumingMemoryBound(to: CChar.self)
        let value = strtof(begin, &stop)
        var used = stop.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? first
        if used > first && used <= last {
            while used < last && (base[used] == 0x20 || base[used] == 0x09) { used += 1 }
        }
        guard used > first && used == last else {
            let written = text(index, in: line)
            if let value = decimalComma(written) ?? (dress ? dressedNumber(written) : nil) { return value }
            // Not UTF-8 (a NUL after a digit, UTF-16's digits, a Latin-1 unit): the
            // message says why, rather than "not a number" of replacement characters.
            if let problem = Self.textProblem(UnsafeBufferPointer(rebasing: line[first ..< last]), in: line) {
                throw .notUTF8(at: location(lineNumber, index), problem: problem)
            }
            throw .nonNumericField(at: location(lineNumber, index), text: text(index, in: line))
        }
        guard value.isFinite else {
            throw .nonFiniteValue(at: location(lineNumber, index), text: text(index, in: line))
        }
        return value
    }

    /// A number written with a decimal comma (`5,1`, `-0,25`: European spreadsheets' CSV,
    /// whose separator is then `;` or a tab) as a finite Float, correctly rounded; nil for
    /// anything else, and whenever `,` separates fields (a comma inside a quoted field is
    /// then more likely a thousands separator).
    func decimalComma(_ text: String) -> Float? {
        guard separator != UInt8(ascii: ","), text.utf8.count(where: { $0 == UInt8(ascii: ",") }) == 1,
              !text.contains("."), let value = Float(text.replacing(",", with: ".")), value.isFinite else { return nil }
        return value
    }

    /// A number in dress, as spreadsheets and reports write amounts and rates, as a finite
    /// Float (the value `Float` gives the same number written plainly); nil for anything
    /// else. Read:
    /// - a currency sign before or after the digits (`$`, `€`, `£`, `¥`; blanks between),
    ///   or a `%` after them (`30%` is 30: inputs are scaled online, so units do not
    ///   matter), a sign before or after the currency (`-$5`, `$-5`);
    /// - thousands grouped by `,`, `.` or `'` in groups of three (`1,852.18`, `1.852,18`,
    ///   `1'852.18`, `12,345,678`): where `,` and `.` both appear, the last is the decimal
    ///   mark; a lone `,` over a group of three is a thousands separator where `,` separates
    ///   fields (the value was quoted), a decimal comma in other files (`decimalComma`, as a
    ///   plain field reads); a lone `.` is a decimal point.
    /// Something must be dress (a sign of currency or percent, or grouping): plain numbers
    /// are read before this. Codes such as `1_2`, `A1` or `3+` are not numbers.
    func dressedNumber(_ text: String) -> Float? {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        let currencies: Set<Character> = ["$", "€", "£", "¥"]
        var negative = false, dressed = false
        func sign() {
            if s.first == "-" || s.first == "+" {
                negative = negative != (s.first == "-")
                s.removeFirst()
            }
        }
        sign()
        if let c = s.first, currencies.contains(c) {
            s = s.dropFirst().drop { $0 == " " }
            dressed = true
            if !negative { sign() }
        }
        if s.last == "%" || s.last.map(currencies.contains) == true {
            s = s.dropLast()
            while s.last == " " { s.removeLast() }
            dressed = true
        }
        guard let first = s.first, first.isASCII, first.isNumber,
              s.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "," || $0 == "." || $0 == "'") }) else { return nil }
        let commas = s.count { $0 == "," }, dots = s.count { $0 == "." }, quotes = s.count { $0 == "'" }
        var decimal: Character?, group: Character?
        if commas > 0 && dots > 0 {
            decimal = s.lastIndex(of: ",")! > s.lastIndex(of: ".")! ? "," : "."
            group = decimal == "," ? "." : ","
            guard quotes == 0 else { return nil }
        } else if quotes > 0 {
            guard commas == 0 else { return nil }
            group = "'"
            decimal = dots == 1 ? "." : nil
        } else if commas > 0 {
            let groupsOfThree = String(s).components(separatedBy: ",").dropFirst().allSatisfy { $0.count == 3 }
            if commas == 1 && (separator != UInt8(ascii: ",") || !groupsOfThree) {
                decimal = ","
                guard separator != UInt8(ascii: ",") else { return nil }
            } else {
                group = ","
            }
        } else if dots > 1 {
            group = "."
        } else if dots == 1 {
            decimal = "."
        }
        if let decimal { guard s.count(where: { $0 == decimal }) == 1 else { return nil } }
        let parts = decimal.map { String(s).components(separatedBy: String($0)) } ?? [String(s)]
        let whole = parts[0], fraction = parts.count > 1 ? parts[1] : ""
        guard !whole.isEmpty, fraction.allSatisfy(\.isNumber), decimal == nil || !fraction.isEmpty else { return nil }
        var digits = String(whole)
        if let group {
            let groups = whole.components(separatedBy: String(group))
            guard groups.count > 1, (1...3).contains(groups[0].count), groups.dropFirst().allSatisfy({ $0.count == 3 }),
                  groups.allSatisfy({ $0.allSatisfy(\.isNumber) }) else { return nil }
            digits = groups.joined()
            dressed = true
        }
        guard dressed, digits.allSatisfy(\.isNumber) else { return nil }
        guard let value = Float((negative ? "-" : "") + digits + (fraction.isEmpty ? "" : "." + fraction)), value.isFinite else { return nil }
        return value
    }

    /// Plain decimals (`-12.5`, `255`, `.25`) with at most 2^24 as significand and at most
    /// 10 decimals, or nil for anything else (exponents, spaces, long digit strings,
    /// text), which `strtof` then handles.
    ///
    /// Both the significand and the power of ten are exact Floats there, so one Float
    /// division is correctly rounded: the same value `strtof` returns (Clinger's fast
    /// path; W. D. Clinger, "How to read floating point numbers accurately", PLDI 1990).
    @inline(__always)
    static func fastFloat(_ p: UnsafePointer<UInt8>, _ n: Int) -> Float? {
        var i = 0
        var negative = false
        if n > 0 && (p[0] == UInt8(ascii: "-") || p[0] == UInt8(ascii: "+")) {
            negative = p[0] == UInt8(ascii: "-")
            i = 1
        }
        var significand: UInt32 = 0
        var decimals = 0
        var digits = 0
        while i < n && p[i] &- 48 < 10 {
            significand = significand &* 10 &+ UInt32(p[i] &- 48)
            if significand > 1 << 24 { return nil }
            digits += 1
            i += 1
        }
        if i < n && p[i] == UInt8(ascii: ".") {
            i += 1
            while i < n && p[i] &- 48 < 10 {
                significand = significand &* 10 &+ UInt32(p[i] &- 48)
                if significand > 1 << 24 { return nil }
                digits += 1
                decimals += 1
                i += 1
            }
        }
        guard digits > 0, i == n, decimals <= 10 else { return nil }
        let value = decimals == 0 ? Float(significand) : Float(significand) / powersOfTen[decimals]
        return negative ? -value : value
    }

    static let powersOfTen: [Float] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]

    func location(_ lineNumber: Int, _ field: Int) -> DataLocation {
        DataLocation(source: source, line: lineNumber, column: (fieldOrder.map { $0[field] } ?? field) + 1)
    }
}
