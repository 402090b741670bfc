import Foundation

/// svmlight files (LIBSVM's format: `label index:value index:value …`, as LIBSVM's
/// data sets, scikit-learn's `dump_svmlight_file`, XGBoost and Vowpal's tools write
/// them), read as the dense CSV lines they describe, so that every CSV rule applies to
/// them: positions, resumption, the label map and the errors that name a line.
///
/// Each row is a label and its non-zero features in increasing order of their index; a
/// feature not named holds 0. `qid:N` (a ranking query) is passed over, `#` starts a
/// comment to the line's end, and a line that is blank or a comment says nothing. The
/// columns are `f<index>` for every index from the first to the widest the file holds
/// (``width``): indices from 0 when one is 0 or a comment line says `zero-based`
/// (scikit-learn's), else from 1 (LIBSVM's). ``csvLine(_:number:)`` turns each line into
/// one CSV line, keeping the file's line numbers: `label,0,0,3.5,…`.
///
/// A file of more than ``foldedWidth`` features (text as a bag of words: LIBSVM's
/// `news20` has 1,355,191) is *folded*: each feature is added, with a sign, into one of
/// ``foldedWidth`` columns `hash0`, `hash1`, … chosen by a hash of its index (feature
/// hashing, Weinberger et al., 2009: inner products are kept on average, and a row's few
/// features rarely share a column). Read as dense rows, such a file asked for gigabytes
/// per thousand rows and minutes per batch, and the learner's input layers grew with
/// its widest index. A folded model reads any index, so a later file may name features
/// the first never did (a vocabulary that grows).
///
/// Refused, with the line (`DataError.svmlightRow`, a fault of the row, which
/// `--skip-bad-rows` skips): an index out of order, repeated, beyond the width or below
/// the first (a folded file has no width to pass), a value that is not a number (or,
/// folded, not finite), a label of several classes (`1,3`: multi-label data), and a line
/// that is not such a row.
struct SVMLightLines {
    /// The file's name in errors.
    let source: String
    /// The features: columns for indices `firstIndex ..< firstIndex + width`.
    let width: Int
    let firstIndex: Int
    /// Where the width was found.
    let widthFound: WidthFound
    /// Whether the features are folded into the `width` columns by a hash of their index
    /// (`fold(_:into:)`).
    let folded: Bool

    /// The most features a file is read with as they are; a wider one is folded into
    /// this many columns.
    static let foldedWidth = 16_384

    /// The column (of `width`) and the sign that feature `index` is folded into: SplitMix64's
    /// finaliser of the index, its low bits modulo `width`, its top bit the sign. A fixed
    /// function of the index, so that every file and every model folds alike.
    static func fold(_ index: Int, into width: Int) -> (column: Int, negative: Bool) {
        var z = UInt64(truncatingIfNeeded: index) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return (Int(z % UInt64(width)), z >> 63 == 1)
    }

    /// The name of a folded file's column `k`.
    static func foldedName(_ k: Int) -> String { "hash\(k)" }

    /// Where an svmlight file's width was found.
    enum WidthFound: Equatable, CustomStringConvertible {
        /// The model's own: the file is read for a model.
        case model
        /// The largest index in the whole file, read once more for it.
        case wholeFile
        /// The largest index in the first lines of a file read once (a pipe).
        case linesAhead(Int)

        var description: String {
            switch self {
            case .model: "by the model"
            case .wholeFile: "in the whole file"
            case .linesAhead(let lines): "in its first \(lines) lines"
            }
        }
    }

    /// The label column's name in the header line.
    static let labelName = "label"

    /// What a line holds.
    enum Line: Equatable {
        /// Blank, or a `#` comment.
        case nothing
        /// A row: its label's bytes.
        case row(label: Range<Int>)
        /// Not a row: why.
        case bad(String)
    }

    /// Whether `line` opens an svmlight file: a label (no `:` in it) and at least one
    /// `index:value` after it, nothing else but `qid:` and a comment. (A label of several
    /// classes, `1,3`, opens one too, to be refused as multi-label.)
    static func opens(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var features = 0
        guard case .row = walk(line, { _, _ in features += 1; return true }) else { return false }
        return features > 0
    }

    /// Whether `line` is a `#` comment (its first character that is not a blank).
    static func isComment(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        let i = ARFFLines.skipBlanks(line, from: 0)
        return i < line.count && line[i] == UInt8(ascii: "#")
    }

    /// Whether a comment line says which index comes first (scikit-learn writes
    /// `# Column indices are zero-based`): 0 or 1, nil when it does not say.
    static func firstIndex(saidBy line: UnsafeBufferPointer<UInt8>) -> Int? {
        guard isComment(line) else { return nil }
        let text = String(decoding: line, as: UTF8.self).lowercased()
        if text.contains("zero-based") || text.contains("zero based") { return 0 }
        if text.contains("one-based") || text.contains("one based") { return 1 }
        return nil
    }

    /// Reads the line as a row: `feature` gets each feature's index and its value's bytes,
    /// in the line's order, and returns false to stop (its caller then knows why); `qid:`
    /// and a comment are passed over. `.bad` names what is wrong with the line.
    static func walk(_ line: UnsafeBufferPointer<UInt8>, _ feature: (Int, Range<Int>) -> Bool) -> Line {
        var end = line.count
        if let hash = line.firstIndex(of: UInt8(ascii: "#")) { end = hash }
        var i = ARFFLines.skipBlanks(line, from: 0)
        guard i < end else { return .nothing }
        let labelStart = i
        var colonInLabel = false
        while i < end, !ARFFLines.isBlank(line[i]) {
            if line[i] == UInt8(ascii: ":") { colonInLabel = true }
            i += 1
        }
        let label = labelStart ..< i
        if colonInLabel {
            return .bad("the line opens with \(shown(line, label)), not with a label (a row is 'label index:value index:value …')")
        }
        while true {
            i = ARFFLines.skipBlanks(line, from: i)
            guard i < end else { break }
            let start = i
            var index = 0, digits = 0, colon = -1
            while i < end, !ARFFLines.isBlank(line[i]) {
                let byte = line[i]
                if colon < 0 {
                    // digits is -1 once the name is not an index of at most 9 digits.
                    if byte == UInt8(ascii: ":") {
                        colon = i
                    } else if byte >= 0x30 && byte <= 0x39 && digits >= 0 && digits < 9 {
                        index = index * 10 + Int(byte - 0x30)
                        digits += 1
                    } else {
                        digits = -1
                    }
                }
                i += 1
            }
            let token = start ..< i
            guard colon >= 0 else { return .bad("\(shown(line, token)) is not index:value") }
            if digits < 0, colon - start == 3, line[start] == UInt8(ascii: "q"), line[start + 1] == UInt8(ascii: "i"),
               line[start + 2] == UInt8(ascii: "d") { continue }
            guard digits > 0, digits == colon - start else {
                return .bad("\(shown(line, token)) does not start with a feature's index (a whole number, 0 or more, of at most 9 digits)")
            }
            guard colon + 1 < i else { return .bad("\(shown(line, token)) has no value after its ':'") }
            if !feature(index, (colon + 1) ..< i) { break }
        }
        return .row(label: label)
    }

    /// The CSV line for the file's line `number`: empty for a blank or comment line, the
    /// row's label and its `width` values otherwise.
    func csvLine(_ line: UnsafeBufferPointer<UInt8>, number: Int) throws(DataError) -> [UInt8] {
        if folded { return try foldedLine(line, number: number) }
        var bytes: [UInt8] = []
        var next = firstIndex
        var problem: String?, fault = DataError.SVMLightFault.features
        let last = firstIndex + width - 1
        let read = Self.walk(line) { index, value in
            guard index >= next else {
                problem = "a feature has " + (index < firstIndex
                    ? "index \(index), but the file's indices start at \(firstIndex) (found \(widthFound))"
                    : "index \(index) after a feature of index \(next - 1): indices come in increasing order, each once")
                return false
            }
            guard index <= last else {
                problem = "feature \(index) is beyond the last feature, \(last), found \(widthFound)"
                if case .linesAhead = widthFound {
                    problem! += " (a pipe is read once: give the file's path to have its width found in all of it)"
                }
                return false
            }
            let text = UnsafeBufferPointer(rebasing: line[value])
            guard Self.isNumber(text) else {
                (problem, fault) = (Self.notANumber(index, line, value), .value)
                return false
            }
            if bytes.isEmpty { bytes.reserveCapacity(line.count + 2 * width + 8) }
            if index > next { bytes.append(contentsOf: zeros[0 ..< 2 * (index - next)]) }
            bytes.append(UInt8(ascii: ","))
            bytes.append(contentsOf: text)
            next = index + 1
            return true
        }
        if let problem { throw failure(number, problem, fault) }
        if case .row = read, next <= last { bytes.append(contentsOf: zeros[0 ..< 2 * (last + 1 - next)]) }
        return try finish(read, features: bytes, line, number: number)
    }

    /// The CSV line of a row `walk` has `read`, its features' fields (`,value` each) in
    /// `features`: empty for a blank or comment line, the label first otherwise.
    private func finish(_ read: Line, features: [UInt8], _ line: UnsafeBufferPointer<UInt8>, number: Int) throws(DataError) -> [UInt8] {
        switch read {
        case .nothing:
            return []
        case .bad(let problem):
            throw failure(number, problem)
        case .row(let label):
            let labelBytes = UnsafeBufferPointer(rebasing: line[label])
            if labelBytes.contains(UInt8(ascii: ",")) {
                throw failure(number, "the label \(Self.shown(line, label)) names several classes (multi-label data), "
                    + "which is not read: give each row one class", .label)
            }
            let head = labelBytes.contains(UInt8(ascii: "\""))
                ? Array(CSVSource.quoted(String(decoding: labelBytes, as: UTF8.self), separator: ",").utf8)
                : Array(labelBytes)
            return head + features
        }
    }

    /// The CSV line of a folded file's line: each feature's value, read as the CSV reader
    /// reads a number, added with its sign into its column (`fold(_:into:)`) in Float64,
    /// then written as the Float it rounds to (its shortest digits, which read back as that
    /// Float). A missing value (`nan`) leaves its column missing; an infinite one is
    /// refused with its feature's index.
    private func foldedLine(_ line: UnsafeBufferPointer<UInt8>, number: Int) throws(DataError) -> [UInt8] {
        var sums: [Int: Double] = [:]
        var next = 0
        var problem: String?, fault = DataError.SVMLightFault.features
        let read = Self.walk(line) { index, value in
            guard index >= next else {
                problem = "a feature has index \(index) after a feature of index \(next - 1): indices come in increasing order, each once"
                return false
            }
            guard let number = Self.number(UnsafeBufferPointer(rebasing: line[value])) else {
                (problem, fault) = (Self.notANumber(index, line, value), .value)
                return false
            }
            guard number.isFinite || number.isNaN else {
                problem = "the value of feature \(index), \(Self.shown(line, value)), is not finite (infinity or beyond Float's range)"
                fault = .value
                return false
            }
            let (column, negative) = Self.fold(index, into: width)
            sums[column, default: 0] += negative ? -Double(number) : Double(number)
            next = index + 1
            return true
        }
        if let problem { throw failure(number, problem, fault) }
        guard case .row = read else { return try finish(read, features: [], line, number: number) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2 * width + 16 * sums.count)
        var filled = 0
        for column in sums.keys.sorted() {
            let value = Float(sums[column]!)
            guard value.isFinite || value.isNaN else {
                throw failure(number, "the features folded into column \(Self.foldedName(column)) add up to \(sums[column]!), "
                    + "beyond Float's range", .value)
            }
            bytes.append(contentsOf: zeros[0 ..< 2 * (column - filled)])
            bytes.append(UInt8(ascii: ","))
            bytes.append(contentsOf: (value.isNaN ? "nan" : value == 0 ? "0" : value.description).utf8)
            filled = column + 1
        }
        bytes.append(contentsOf: zeros[0 ..< 2 * (width - filled)])
        return try finish(read, features: bytes, line, number: number)
    }

    /// Why feature `index`'s value, `line[value]`, which is not a number, is refused.
    private static func notANumber(_ index: Int, _ line: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) -> String {
        "the value of feature \(index), \(shown(line, value)), is not a number"
    }

    /// `,0` once per feature: the fields of features a row does not name.
    private let zeros: [UInt8]

    init(source: String, width: Int, firstIndex: Int, widthFound: WidthFound, folded: Bool = false) {
        self.source = source
        self.width = width
        self.firstIndex = firstIndex
        self.widthFound = widthFound
        self.folded = folded
        zeros = Array(repeating: [UInt8(ascii: ","), UInt8(ascii: "0")], count: width).flatMap { $0 }
    }

    /// The CSV header line: `label,f1,f2,…`, or folded `label,hash0,hash1,…`.
    var headerLine: [UInt8] {
        var bytes = Array(Self.labelName.utf8)
        if folded {
            for k in 0 ..< width { bytes.append(contentsOf: ",\(Self.foldedName(k))".utf8) }
        } else {
            for index in firstIndex ..< firstIndex + width { bytes.append(contentsOf: ",f\(index)".utf8) }
        }
        return bytes
    }

    /// The first index and width that a header of `names` (a model's learned header)
    /// describes, when it is one ``headerLine`` writes: `label`, then `f<i>` for
    /// consecutive `i` from 0 or 1, or `hash0`, `hash1`, … (folded).
    static func layout(ofHeader names: [String]) -> (firstIndex: Int, width: Int, folded: Bool)? {
        guard names.count >= 2, names[0] == labelName else { return nil }
        if names[1] == foldedName(0) {
            for (k, name) in names.dropFirst().enumerated() where name != foldedName(k) { return nil }
            return (0, names.count - 1, true)
        }
        guard let first = Int(names[1].dropFirst()), names[1].first == "f", first == 0 || first == 1 else { return nil }
        for (k, name) in names.dropFirst().enumerated() where name != "f\(first + k)" { return nil }
        return (first, names.count - 1, false)
    }

    /// The smallest and largest index of the rows of `lines` (nil when none names one).
    struct Extent {
        var smallest = Int.max
        var largest = -1

        mutating func add(_ line: UnsafeBufferPointer<UInt8>) {
            var smallest = self.smallest, largest = self.largest
            _ = SVMLightLines.walk(line) { index, _ in
                smallest = min(smallest, index)
                largest = max(largest, index)
                return true
            }
            (self.smallest, self.largest) = (smallest, largest)
        }

        /// The first index (`said` by a comment, else 0 when 0 was seen, else 1) and the
        /// width from it to the largest index (at least 1).
        func layout(said: Int?) -> (firstIndex: Int, width: Int) {
            let first = said ?? (smallest == 0 ? 0 : 1)
            return (first, max(1, largest + 1 - first))
        }
    }

    // MARK: Bytes

    /// Whether `bytes` are a number as the CSV reader reads one (`CSVRowParser.number`:
    /// its fast path, else all of them read by `strtof`): `-1.5e-3`, `.25`, `7.`, `nan`,
    /// `inf` (a missing value, and a value refused, as the CSV reader takes them). The byte
    /// after them is not a digit or a point (a blank, `#`, or the 0 after every line).
    /// The first build let `1-2` through, which the CSV reader then took for text, its
    /// column a category.
    static func isNumber(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { number(bytes) != nil }

    /// `bytes` as the CSV reader reads them when ``isNumber(_:)`` says they are a number
    /// (NaN for `nan`, infinite for `inf` or beyond Float's range); nil otherwise.
    static func number(_ bytes: UnsafeBufferPointer<UInt8>) -> Float? {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
        if let value = CSVRowParser.fastFloat(base, bytes.count) { return value }
        var stop: UnsafeMutablePointer<CChar>?
        let value = strtof(UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), &stop)
        return stop.map { UnsafeRawPointer($0) == UnsafeRawPointer(base + bytes.count) } == true ? value : nil
    }

    private static func shown(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        let end = min(range.upperBound, range.lowerBound + 24)
        return "'" + String(decoding: line[range.lowerBound ..< end], as: UTF8.self) + (range.upperBound > end ? "…" : "") + "'"
    }

    private func failure(_ line: Int, _ problem: String, _ fault: DataError.SVMLightFault = .features) -> DataError {
        .svmlightRow(at: DataLocation(source: source, line: line), problem: problem, fault: fault)
    }

    /// The CSV line that stands for a row that cannot be read, until its error is told
    /// where the row is parsed: a label and `width` zeros, a row like any other to the
    /// reader's looks ahead.
    var standIn: [UInt8] { [UInt8(ascii: "0")] + zeros }
}
