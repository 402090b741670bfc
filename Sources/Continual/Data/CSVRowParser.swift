#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits CSV lines into fields and parses numbers, reusing its field arrays from line
/// to line (no allocation per line once warmed up).
struct CSVRowParser {
    let source: String
    let separator: UInt8
    /// Field boundaries of the last split line: `starts[i]..<ends[i]` (inside the quotes
    /// for quoted fields). Only the first `count` entries are meaningful.
    private var starts: [Int] = []
    private var ends: [Int] = []
    private var quoted: [Bool] = []
    /// Number of fields of the last split line.
    private(set) var count = 0

    init(source: String, separator: UInt8) {
        self.source = source
        self.separator = separator
    }

    /// Splits `line` and returns the number of fields.
    mutating func split(_ line: UnsafeBufferPointer<UInt8>) -> Int {
        let n = line.count
        if starts.count < n + 1 {
            starts = [Int](repeating: 0, count: n + 1)
            ends = [Int](repeating: 0, count: n + 1)
            quoted = [Bool](repeating: false, count: n + 1)
        }
        let separator = self.separator
        count = starts.withUnsafeMutableBufferPointer { starts in
            ends.withUnsafeMutableBufferPointer { ends in
                quoted.withUnsafeMutableBufferPointer { quoted in
                    Self.split(line, separator: separator, starts: starts, ends: ends, quoted: quoted)
                }
            }
        }
        return count
    }

    private static func split(
        _ line: UnsafeBufferPointer<UInt8>, separator: UInt8, starts: UnsafeMutableBufferPointer<Int>,
        ends: UnsafeMutableBufferPointer<Int>, quoted: UnsafeMutableBufferPointer<Bool>
    ) -> Int {
        let n = line.count
        let quote = UInt8(ascii: "\"")
        var fields = 0
        var i = 0
        while true {
            var j = i
            while j < n && (line[j] == 0x20 || line[j] == 0x09) && line[j] != separator { j += 1 }
            if j < n && line[j] == quote {
                var k = j + 1
                while k < n {
                    if line[k] == quote {
                        if k + 1 < n && line[k + 1] == quote { k += 2; continue }
                        break
                    }
                    k += 1
                }
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
            fields += 1
            if i < n { i += 1; continue }  // line[i] is the separator
            break
        }
        return fields
    }

    /// The text of field `index` (spaces trimmed, doubled quotes undone).
    func text(_ index: Int, in line: UnsafeBufferPointer<UInt8>) -> String {
        precondition(index < count, "Field \(index) of a line with \(count) fields")
        let raw = String(decoding: UnsafeBufferPointer(rebasing: line[starts[index] ..< ends[index]]), as: UTF8.self)
        return quoted[index] ? raw.replacing("\"\"", with: "\"") : raw.trimmingSpaces
    }

    /// Field `index` as a finite Float, correctly rounded. `line` must be followed in
    /// memory by a byte that cannot continue a number (the line reader puts a 0 there).
    func number(_ index: Int, in line: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws(DataError) -> Float {
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
            throw .nonNumericField(at: location(lineNumber, index), text: text(index, in: line))
        }
        guard value.isFinite else {
            throw .nonFiniteValue(at: location(lineNumber, index), text: text(index, in: line))
        }
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

    private static let powersOfTen: [Float] = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10]

    func location(_ lineNumber: Int, _ field: Int) -> DataLocation {
        DataLocation(source: source, line: lineNumber, column: field + 1)
    }
}
