import Foundation
import MoE

/// A CSV stream's text columns (0-based field indices, in order) and, for each, the
/// values that have an indicator of their own, in order (see `CSVFormat`); and its numeric
/// columns whose missing values have an indicator (`flagged`, 0-based fields in order).
public struct CSVTextLayout: Sendable, Equatable {
    public var columns: [Int]
    public var values: [[String]]
    public var flagged: [Int]
    /// The header's column names of the stream, when it had a header (nil: none, or a
    /// position saved before names were kept): a file read for its model whose header
    /// puts one of these names at another place is refused (`DataError.columnMoved`).
    public var names: [String]?
    /// Whether the stream's first field was its rows' names, left out (`CSVSource.rowNames`):
    /// a file read for the model without them places the other columns by name.
    public var rowNames: Bool
    /// The numeric fields blank in every row read ahead to find their kind
    /// (`CSVSource.TextInBlankColumn`).
    public var blank: [Int]

    public init(columns: [Int], values: [[String]], flagged: [Int] = [], names: [String]? = nil, rowNames: Bool = false,
                blank: [Int] = []) {
        self.columns = columns
        self.values = values
        self.flagged = flagged
        self.names = names
        self.rowNames = rowNames
        self.blank = blank
    }
}

/// What a CSV stream knows for its missing values: per feature column (in the order of
/// the features), the sum of its values and how many were missing, over `rows` rows read,
/// and the value its missing values take once it is settled.
public struct CSVImputation: Sendable, Equatable, Codable {
    public var rows: Int
    public var sums: [Double]
    public var missing: [Int]
    /// Missing values filled so far.
    public var filled: Int
    /// Per feature, the value its missing values take once settled: its mean when the
    /// stream filled its first gap after it settled (nil: not settled, its mean so far
    /// fills its gaps). nil for the whole stream in a position saved before it existed:
    /// every missing value takes its column's mean so far, as it did.
    public var settled: [Float?]?

    /// A feature settles once it has held this many values…
    public static let settleValues = 32
    /// …or once this many rows were read, if it has held a value: the input scaler's
    /// `settle` and its 32 values. A fill is a value the scaler's transform reads, and
    /// both stop moving together.
    public static let settleRows = 128

    public init(rows: Int = 0, sums: [Double], missing: [Int], filled: Int = 0, settled: [Float?]? = nil) {
        self.rows = rows
        self.sums = sums
        self.missing = missing
        self.filled = filled
        self.settled = settled
    }

    /// A stream's first state for `width` features: nothing read, nothing settled.
    public init(width: Int) {
        self.init(sums: [Double](repeating: 0, count: width), missing: [Int](repeating: 0, count: width),
                  settled: [Float?](repeating: nil, count: width))
    }

    /// The mean of feature `k` so far (0 before any value).
    public func mean(_ k: Int) -> Float {
        let count = rows - missing[k]
        return count > 0 ? Float(sums[k] / Double(count)) : 0
    }

    /// The value a missing value of feature `k` takes: its settled value, else its mean so
    /// far. A fill that kept following the mean would tell the learner when a row came:
    /// in a file kept in order (a Danish breast cancer cohort in its register's order,
    /// whose follow-up times are blank in four rows of five and larger in its first rows)
    /// the mean drifts along the stream, the filled rows carry the drift as a feature, and
    /// every test row, filled with the last mean, reads as the stream's last rows do: the
    /// gate alone scored 0.791 there, 0.910 on the same rows shuffled.
    public func fill(_ k: Int) -> Float {
        if let settled, let value = settled[k] { return value }
        return mean(k)
    }

    /// Whether `settled` is absent or holds one finite value or nil per feature of `width`.
    func settledFits(width: Int) -> Bool {
        guard let settled else { return true }
        return settled.count == width && settled.allSatisfy { $0?.isFinite ?? true }
    }

    /// Fixes feature `k`'s fill at its mean so far, when a gap of it is filled once it has
    /// settled (it held `settleValues` values, or a value after `settleRows` rows). A
    /// column that has no gap while the stream learns keeps following its mean, so
    /// that a later file's gaps there take the stream's mean.
    mutating func settleFill(_ k: Int) {
        guard settled != nil, settled![k] == nil else { return }
        let values = rows - missing[k]
        if values >= Self.settleValues || (rows >= Self.settleRows && values > 0) { settled![k] = mean(k) }
    }
}

/// Labelled batches read incrementally from a CSV file (plain or gzip), standard input or
/// any file descriptor.
///
/// Memory stays bounded by the read chunk (256 KiB for files, 16 KiB for descriptors),
/// the longest line and one batch, whatever the length of the stream. The width is
/// declared (`inputWidth:`, e.g. the network's input) or fixed by the header or the first
/// row; classes are declared (`labels:`) or learned as they appear (see `LabelMap`).
///
/// Rows are counted from 1 at the first line of the file, header included, in every
/// message.
public final class CSVSource: BatchSource {
    public let name: String
    /// The file layout: the one given, with a header and `,` between fields once the
    /// file shows itself to be ARFF (``isARFF``).
    public private(set) var format: CSVFormat
    /// Samples per batch.
    public let batchSize: Int
    /// What happens to bad rows.
    public let badRows: BadRowPolicy
    /// The header's column names, when the format has a header (after the first `next()`).
    public private(set) var header: [String]?
    public private(set) var inputWidth: Int?
    public private(set) var labelMap: LabelMap

    private let declaredWidth: Int?
    private let reader: LineReader
    private var parser: CSVRowParser
    private var fieldCount: Int?
    /// Whether ``fieldCount`` came from the model's width rather than from a row or a header.
    private var fieldCountFromWidth = false
    /// Whether a model declared the width when the stream began reading (`moe eval`'s
    /// file, a continued stream), rather than its rows: a bad row is then named against
    /// the model. A resumed source takes it from the position (``resume(from:)``), so a
    /// paused stream fails as it would have read on, whatever width the resumed reader
    /// is given.
    private var widthFromModel: Bool { resumedWidthFromModel ?? (declaredWidth != nil) }
    private var resumedWidthFromModel: Bool?
    private var labelIndex = 0
    private var prepared = false
    private var rowsRead = 0
    /// FNV-1a of the data lines read (``rowsRead`` of them), so that a paused stream
    /// resumed on its path can tell that the file's first rows are still the rows it read.
    private var digest = RowsDigest()
    private var samplesDelivered = 0
    private var skipped = SkippedRows()
    private var failure: DataError?
    /// Lines read ahead (bytes with a 0 after them, and their numbers), read before the reader's.
    private var ahead: [(bytes: [UInt8], number: Int)] = []
    /// How many of `ahead` were read to find the columns' kinds in the first
    /// ``typeLookahead`` rows, when a column blank in all of them had more read
    /// (``blankColumnLookahead``): the columns to name are found in those alone, as before.
    private var typeRowsAhead: Int?
    /// The file read as Weka's ARFF (`ARFFLines`), nil for CSV: decided by the first line
    /// that is not blank or a `%` comment, `@relation` in an ARFF file.
    private var arff: ARFFLines?
    /// The file read as an svmlight (LIBSVM) file (`SVMLightLines`), nil for CSV: decided
    /// by its first row, when the separator is found rather than given.
    private var svmlight: SVMLightLines?
    /// The file read as JSON Lines (`JSONLines`), nil for CSV: decided by its first line
    /// that is not blank, a JSON record, when the separator is found rather than given.
    private var json: JSONLines?
    /// The file's path, when it was opened by one: a regular file is read whole for an
    /// svmlight file's width before its rows are read.
    private var path: String?
    /// Whether the next line read is the svmlight file's header line, CSV already.
    private var headerPassing = false
    /// The faults of svmlight rows converted but not yet parsed, by line number.
    private var rowFaults: [Int: DataError] = [:]
    private var kindDecided = false
    /// The lines read to decide the kind (bytes with a 0 after them, and their numbers),
    /// handed out before the reader's, as the kind has them read.
    private var undecided: [(bytes: [UInt8], number: Int)] = []
    /// The number of the line being parsed.
    private var lineNumber = 0
    /// Whether the first line was found to be a header without one being declared.
    public private(set) var headerFound = false
    /// Whether the file lacks the header the model learned (its names are given): declared
    /// without one (`CSVFormat.detectsHeader` false), or its first line is data under the
    /// learned names although a header was declared or saved (``firstLineIsData()``).
    /// The learned names then place a column given by name.
    public private(set) var headerAbsent = false
    /// The field separator: the format's, or the one its first lines showed
    /// (`CSVFormat.detectsSeparator`), once the first row is read.
    public private(set) var separator: Character
    private var scratch: UnsafeMutableBufferPointer<Float>?
    /// Per field: its text column's number (in field order), -1 for numbers, -2 for a
    /// column left out; nil until the first data row decides.
    private var textSlot: [Int]?
    /// Fields that the rows read ahead show to be text although the first data row has a
    /// number or a missing mark there (`textColumnsAhead()`).
    private var textAhead: Set<Int> = []
    /// Fields whose first data row holds text but whose rows ahead are numbers
    /// (`textColumnsAhead()`): numeric, the first field a bad one.
    private var numbersAhead: Set<Int> = []
    /// Text columns whose values are numbers written with a currency or percent sign,
    /// thousands separators or a decimal comma (``textColumnsToName(first:)``).
    private var numberLikeText: [Int] = []
    /// Text columns that hold another value in nearly every row read ahead: a date, a
    /// name, an identifier (``textColumnsToName(first:)``).
    private var rowLikeText: [Int] = []
    /// Whether some field is text or left out (the rows then take the general loop).
    private var hasSpecialFields = false
    /// The fields left out (`format.ignoredColumns`), once the header or first row is known.
    private var ignoredFields: Set<Int> = []
    /// Text columns given rather than decided (a resumed or continued stream, a saved model).
    private var givenText: CSVTextLayout?
    /// Whether values not seen before get indicators of their own (not when a saved model
    /// reads a file: its indicators mean what they meant when it learned).
    private var learnsColumns = true
    /// Per text column: the values with indicators of their own, in order, and their index.
    private var ownValues: [[String]] = []
    private var indicatorOf: [[String: Int]] = []
    /// Sums for missing values (nil without imputation, or before the width is fixed).
    private var imputation: CSVImputation?
    private var givenImputation: CSVImputation?
    /// Features of the current row that took a mean, and the same as a mark per feature
    /// (so that a wide row with many gaps is not searched once per feature).
    private var filledInRow: [Int] = []
    private var filled: [Bool] = []
    /// Numeric fields with a missing mark in the rows read ahead (``typeLookahead``, header
    /// excluded), with their line numbers; nil when not looked for.
    private var gapsAhead: [(field: Int, line: Int)]?
    /// The number of the header line, when the file has one.
    private var headerLine: Int?
    /// The numeric fields whose missing values have an indicator, in order, and their
    /// features (the indicators are the row's last features, in the same order).
    private var flaggedFields: [Int] = []
    private var flaggedFeatures: [Int] = []
    /// The field each numeric feature reads (not a text column's indicators nor a missing
    /// value's), once the width is fixed.
    private var numericFieldOf: [Int: Int] = [:]
    /// Numeric columns, as (field, feature), whose values have counted up by exactly 1
    /// from row to row so far (a row number or an identifier), over the first
    /// ``countingRows`` rows this source read; their values in the last row.
    private var counting: [(field: Int, feature: Int)] = []
    private var countingLast: [Float] = []
    private var countedRows = 0
    /// Rows over which a column is watched for counting up.
    public static let countingRows = 1024
    /// Fewest rows over which a counting column is reported.
    public static let countingEvidence = 32
    /// Rows without the label column (``readWithoutLabelColumn(placeholder:)``): the field a
    /// label is put at (nil: after the last), the text put there in rows and in the header
    /// line, and the same quoted as fields once the separator is known, with the parser
    /// that finds the field; whether lines read now get it, and whether the next non-blank
    /// one is the header.
    private var missingLabel: (field: Int?, value: String, headerValue: String)?
    private var labelBytes: (value: [UInt8], header: [UInt8]) = ([], [])
    private var labelProbe: CSVRowParser?
    private var inserting = false
    private var headerPending = false

    /// Columns whose text `moe predict --keep-columns` writes beside each row's answer (an
    /// identifier to join the answers on): header names, or 0-based indices of the file's
    /// own fields, counted without a label column its rows lack. They need not be columns
    /// the model reads. Set before the first ``next()``.
    public var keptColumns: [String] = [] {
        willSet { precondition(!prepared, "Name the kept columns before reading") }
    }
    /// The kept columns as the file's header names them (as given without a header), once
    /// the first row is read.
    public private(set) var keptNames: [String] = []
    /// The text of ``keptColumns`` in each row of the last batch ``next()`` returned.
    public private(set) var keptText: [[String]] = []

    /// Numeric columns (0-based fields) whose values counted up by exactly 1 from row to
    /// row over the first rows this source read (at least ``countingEvidence``): a row
    /// number or identifier, which a learner takes for a feature that only grows.
    public var countingColumns: [Int] {
        countedRows >= Self.countingEvidence ? counting.map(\.field) : []
    }

    /// Opens the CSV file at `path` (gzip-compressed or plain, whatever its name).
    ///
    /// - Parameters:
    ///   - inputWidth: the declared number of features; rows of another width are bad.
    ///   - labels: declared classes, or a `LabelMap()` that learns them (the default).
    ///   - text: the text columns and values of the stream a model learned from, so that
    ///     its layout is kept (nil: the first row decides); `learnsColumns` false keeps
    ///     the values as they are (a new one shares an indicator).
    public convenience init(
        path: String, format: CSVFormat = CSVFormat(), batchSize: Int = 128, inputWidth: Int? = nil,
        labels: LabelMap = LabelMap(), badRows: BadRowPolicy = .fail, text: CSVTextLayout? = nil,
        imputation: CSVImputation? = nil, learnsColumns: Bool = true
    ) throws(DataError) {
        self.init(file: try GzipFile(path: path), chunkSize: 1 << 18, format: format, batchSize: batchSize,
                  inputWidth: inputWidth, labels: labels, badRows: badRows)
        self.path = path
        givenText = text
        givenImputation = imputation
        self.learnsColumns = learnsColumns
    }

    /// Reads CSV lines (plain or gzip) from an open file descriptor; the descriptor is
    /// duplicated, so the caller still owns and closes its own.
    public convenience init(
        fileDescriptor: Int32, name: String, format: CSVFormat = CSVFormat(), batchSize: Int = 128,
        inputWidth: Int? = nil, labels: LabelMap = LabelMap(), badRows: BadRowPolicy = .fail
    ) throws(DataError) {
        self.init(file: try GzipFile(fileDescriptor: fileDescriptor, name: name), chunkSize: 1 << 14,
                  format: format, batchSize: batchSize, inputWidth: inputWidth, labels: labels, badRows: badRows)
    }

    /// Reads CSV lines from a `FileHandle` (a pipe, a file).
    public convenience init(
        fileHandle: FileHandle, name: String, format: CSVFormat = CSVFormat(), batchSize: Int = 128,
        inputWidth: Int? = nil, labels: LabelMap = LabelMap(), badRows: BadRowPolicy = .fail
    ) throws(DataError) {
        try self.init(fileDescriptor: fileHandle.fileDescriptor, name: name, format: format, batchSize: batchSize,
                      inputWidth: inputWidth, labels: labels, badRows: badRows)
    }

    /// Reads CSV lines from the process's standard input.
    public static func standardInput(
        format: CSVFormat = CSVFormat(), batchSize: Int = 128, inputWidth: Int? = nil,
        labels: LabelMap = LabelMap(), badRows: BadRowPolicy = .fail, text: CSVTextLayout? = nil,
        imputation: CSVImputation? = nil, learnsColumns: Bool = true
    ) throws(DataError) -> CSVSource {
        let source = try CSVSource(fileDescriptor: FileHandle.standardInput.fileDescriptor, name: "standard input",
                                   format: format, batchSize: batchSize, inputWidth: inputWidth, labels: labels, badRows: badRows)
        source.givenText = text
        source.givenImputation = imputation
        source.learnsColumns = learnsColumns
        return source
    }

    /// Reads rows that lack the label column (`moe predict`): every line gets
    /// `placeholder` at the label's place (the header line the label's name among the
    /// header names saved with the model, its `CSVTextLayout`, or `label`), so that the
    /// fields keep the places the model learned them at, text columns, flagged and
    /// ignored columns included. Call before the first ``next()``. A label column given by
    /// name is placed by those names.
    public func readWithoutLabelColumn(placeholder: String) throws(DataError) {
        precondition(!prepared, "Say that the rows lack their label before reading them")
        let field: Int?
        switch format.labelColumn {
        case .first: field = 0
        case .last: field = nil
        case .index(let i): field = i
        case .name(let wanted):
            guard let i = givenText?.names?.firstIndex(of: wanted) else {
                throw .labelColumnNotFound(source: name, column: "'\(wanted)'",
                                           available: "the model kept no header names to place it by; add the column to the file (any value)")
            }
            field = i
        }
        let names = givenText?.names ?? []
        let place = field ?? names.count - 1
        let headerName: String
        if case .name(let wanted) = format.labelColumn {
            headerName = wanted
        } else {
            headerName = names.indices.contains(place) ? names[place] : "label"
        }
        missingLabel = (field, placeholder, headerName)
    }

    /// The column a numeric feature reads, as the user's file names it: its header name
    /// in quotes, else `column N` (0-based, counted in the file's own rows, without the
    /// label a file read by ``readWithoutLabelColumn(placeholder:)`` lacks). nil for a text
    /// column's indicators, a missing value's indicator, or before the width is fixed.
    public func columnName(ofFeature feature: Int) -> String? {
        guard let field = numericFieldOf[feature] else { return nil }
        return fieldName(field)
    }

    /// A field (0-based, as this source reads its rows) as the user's file names it: its
    /// header name in quotes, else `column N`.
    public func fieldName(_ field: Int) -> String {
        if let header, field < header.count { return "'\(header[field])'" }
        var place = field
        if let missingLabel, let at = missingLabel.field, field > at { place -= 1 }
        return "column \(place)"
    }

    /// `text` as one CSV field: quoted when it holds a separator, a quote, a space at
    /// either end or a line end.
    public static func quoted(_ text: String, separator: Character) -> String {
        let plain = !text.contains(separator) && !text.contains("\"") && !text.contains("\r") && !text.contains("\n")
            && text.first != " " && text.last != " "
        return plain ? text : "\"" + text.replacing("\"", with: "\"\"") + "\""
    }

    /// `line` with the missing label put at its place, and a 0 after it (blank lines as
    /// they are).
    private func withLabel(_ line: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        guard let missingLabel, !isBlank(line) else { return Array(line) + [0] }
        let value = headerPending ? labelBytes.header : labelBytes.value
        headerPending = false
        let separatorByte = separator.asciiValue!
        var copy = Array(line) + [0]
        let count = copy.withUnsafeBufferPointer { labelProbe!.split(UnsafeBufferPointer(rebasing: $0[0 ..< line.count])) }
        // A row too short to hold the label's place gets it last: it is refused for its
        // width, which the error tells without the label.
        let field = min(missingLabel.field ?? count, count)
        // Last, before a trailing separator (`1,2,` becomes `1,2,label,`).
        let trailing = labelProbe!.dropsTrailingEmptyField && line.last == separatorByte
        let at = field == count ? line.count - (trailing ? 1 : 0) : labelProbe!.fieldStart(field)
        copy.insert(contentsOf: field == count ? [separatorByte] + value : value + [separatorByte], at: at)
        return copy
    }

    /// The label column's name, when rows to be read without it
    /// (``readWithoutLabelColumn(placeholder:)``) come under a header that names it, with
    /// as many fields as the model's header: they are then read with it, its values not
    /// read, as `moe predict --labelled` reads them. nil otherwise.
    public private(set) var labelColumnInHeader: String?

    /// Whether the first line read ahead that is not blank has `fields` fields, one of
    /// them `name`.
    private func headerHolds(_ name: String, fields: Int) -> Bool {
        guard var probe = labelProbe else { return false }
        for (bytes, _) in ahead {
            let holds: Bool? = bytes.withUnsafeBufferPointer { all in
                let line = UnsafeBufferPointer(rebasing: all.dropLast())
                guard !isBlank(line) else { return nil }
                let count = probe.split(line)
                return count == fields && (0 ..< count).contains { probe.text($0, in: line).trimmingCharacters(in: .whitespaces) == name }
            }
            if let holds { return holds }
        }
        return false
    }

    /// Whether the label column's values are read (the default). `moe predict` of rows that
    /// have the column but not their class (an ARFF file's `?`) sets it false: every row's
    /// label is then class 0, and a missing mark there is no error.
    public var readsLabels = true

    /// Whether the file is Weka's ARFF (its first line that is not blank or a `%` comment
    /// is `@relation`), read as the CSV lines it describes (`ARFFLines`); known once the
    /// first row is read.
    public var isARFF: Bool { arff != nil }

    /// Whether the file is JSON Lines, a record a line, read as the CSV lines they describe
    /// (`JSONLines`); known once the first row is read.
    public var isJSONLines: Bool { json != nil }

    /// An svmlight (LIBSVM) file's columns, when the file is one (`SVMLightLines`): its
    /// first feature index, its columns, where their count was found, and whether its
    /// features are folded into them (a file of more than ``svmlightFoldedWidth``
    /// features, or a model that learned from one); nil for CSV and ARFF, and before the
    /// first row is read.
    public var svmlightColumns: (firstIndex: Int, width: Int, found: String, folded: Bool)? {
        svmlight.map { ($0.firstIndex, $0.width, $0.widthFound.description, $0.folded) }
    }

    /// The most features an svmlight file is read with as they are; a wider one is folded
    /// into this many columns by a hash of each feature's index (``svmlightFold(_:)``).
    public static let svmlightFoldedWidth = SVMLightLines.foldedWidth

    /// The column of ``svmlightFoldedWidth`` and the sign that an svmlight feature of
    /// `index` is added into in a folded file.
    public static func svmlightFold(_ index: Int) -> (column: Int, negative: Bool) {
        SVMLightLines.fold(index, into: SVMLightLines.foldedWidth)
    }

    /// Whether `header` (a model's learned header) is a folded svmlight file's:
    /// `label,hash0,hash1,…`.
    public static func isFoldedSVMLight(header: [String]) -> Bool {
        SVMLightLines.layout(ofHeader: header)?.folded == true
    }

    /// Rows read ahead for an svmlight file's width when the file cannot be read twice
    /// (a pipe, standard input).
    public static let svmlightLookahead = 4096

    /// With `recordsRowLines`, ``rowLines`` holds the file's line number of every row
    /// delivered, in the order read (the line a row begins on, as errors name it): what
    /// lets a caller write the same records in another order (`moe suite --orders`).
    public var recordsRowLines = false
    public private(set) var rowLines: [Int] = []

    /// The records of a file, as its bytes: lines, but a quoted field's line ends belong to
    /// their record (`LineReader`). Header, comment and blank lines are records too.
    public struct Records: Sendable {
        /// The line each record begins on, ascending.
        public private(set) var lines: [Int] = []
        private var bytes: [UInt8] = []
        private var ends: [Int] = []

        /// Reads the file at `path` (plain or gzip).
        public init(path: String) throws(DataError) {
            let reader = LineReader(file: try GzipFile(path: path))
            while try reader.withNextLine({ line in bytes.append(contentsOf: line) }) != nil {
                lines.append(reader.lineNumber)
                ends.append(bytes.count)
            }
        }

        /// The bytes of record `i`, without its line end.
        public func record(_ i: Int) -> ArraySlice<UInt8> {
            bytes[(i == 0 ? 0 : ends[i - 1]) ..< ends[i]]
        }

        /// The index of the record that begins on `line`, if one does.
        public func index(ofLine line: Int) -> Int? {
            var low = 0, high = lines.count
            while low < high {
                let mid = (low + high) / 2
                if lines[mid] < line { low = mid + 1 } else { high = mid }
            }
            return low < lines.count && lines[low] == line ? low : nil
        }
    }

    /// Whether `path` names a pipe, a socket or a terminal: data read once, that opening
    /// the path again would not give from its start (`/dev/stdin`, `<(zcat …)`, a named
    /// pipe). A look ahead would take its lines from the stream.
    public static func isPipe(path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let kind = info.st_mode & S_IFMT
        return kind == S_IFIFO || kind == S_IFCHR || kind == S_IFSOCK
    }

    /// Whether the file at `path` (plain or gzip) is ARFF; false when it cannot be read
    /// (opening it as a stream then says why), and for a pipe (``isPipe(path:)``), which
    /// is not read ahead.
    public static func isARFF(path: String) -> Bool {
        guard !isPipe(path: path), let file = try? GzipFile(path: path) else { return false }
        let reader = LineReader(file: file, chunkSize: 1 << 14)
        while let verdict = try? reader.withNextLine({ line -> Bool? in
            ARFFLines.isCommentOrBlank(line) ? nil : ARFFLines.opens(line)
        }) {
            if let verdict { return verdict }
        }
        return false
    }

    /// The class attribute of the ARFF file at `path` when its header names it: the one
    /// attribute of a KEEL file's `@outputs` line. Nil when the file is not ARFF, names
    /// none or several, cannot be read (opening it as a stream then says why), or is a
    /// pipe (``isPipe(path:)``).
    public static func arffClassAttribute(path: String) -> String? {
        guard !isPipe(path: path), let file = try? GzipFile(path: path) else { return nil }
        let reader = LineReader(file: file, chunkSize: 1 << 14)
        var lines = ARFFLines(source: path)
        var number = 0, opened = false
        while !lines.inData, let read = try? reader.withNextLine({ line -> Bool? in
            number += 1
            if !opened {
                if ARFFLines.isCommentOrBlank(line) { return true }
                guard ARFFLines.opens(line) else { return false }
                opened = true
            }
            return (try? lines.csvLine(line, number: number)) != nil
        }) {
            guard read == true else { return nil }
        }
        guard let outputs = lines.outputs, outputs.count == 1 else { return nil }
        return outputs[0]
    }

    /// The text columns (0-based field indices), once the first row has fixed them.
    public var textColumns: [Int]? {
        textSlot.map { slots in slots.indices.filter { slots[$0] >= 0 } }
    }

    /// The text columns and their values with indicators of their own, so far, and the
    /// columns whose missing values have an indicator.
    public var textLayout: CSVTextLayout? {
        textColumns.map { CSVTextLayout(columns: $0, values: ownValues, flagged: flaggedFields) }
    }

    /// The numeric columns (0-based fields) whose missing values have an indicator, once
    /// the first row has fixed them: those with a missing mark in the first
    /// ``typeLookahead`` rows (or the saved layout's).
    public var flaggedColumns: [Int]? { textSlot == nil ? nil : flaggedFields }

    private init(
        file: GzipFile, chunkSize: Int, format: CSVFormat, batchSize: Int, inputWidth: Int?,
        labels: LabelMap, badRows: BadRowPolicy
    ) {
        precondition(batchSize > 0, "A batch holds at least one sample")
        precondition(inputWidth.map { $0 > 0 } ?? true, "A declared input width must be positive")
        name = file.name
        self.format = format
        self.batchSize = batchSize
        self.badRows = badRows
        declaredWidth = inputWidth
        labelMap = labels
        reader = LineReader(file: file, chunkSize: chunkSize)
        parser = CSVRowParser(source: file.name, separator: format.separatorByte)
        separator = format.separator
    }

    deinit { scratch?.deallocate() }

    public var position: StreamPosition {
        StreamPosition(rowsRead: rowsRead, samplesDelivered: samplesDelivered, labelMap: labelMap,
                       inputWidth: inputWidth, skipped: skipped, textColumns: ownValues.isEmpty ? nil : textColumns,
                       textValues: ownValues.isEmpty ? nil : ownValues, imputation: imputation,
                       headerFound: headerFound ? true : nil,
                       separatorFound: format.detectsSeparator && separator != "," ? String(separator) : nil,
                       countingColumns: countingColumns.isEmpty ? nil : countingColumns,
                       flaggedColumns: flaggedFields.isEmpty ? nil : flaggedFields,
                       columnNames: header ?? (headerAbsent ? givenText?.names : nil),
                       rowsDigest: rowsRead > 0 ? digest.hex : nil,
                       numberLikeTextColumns: numberLikeText.isEmpty ? nil : numberLikeText,
                       rowLikeTextColumns: rowLikeText.isEmpty ? nil : rowLikeText,
                       columnsPlacedByName: columnsPlacedByName, rowNamesLeftOut: rowNames ? true : nil,
                       widthFromModel: widthFromModel ? true : nil,
                       textInBlankColumns: textInBlankColumns.isEmpty ? nil : textInBlankColumns,
                       blankColumns: blankFields.isEmpty ? nil : blankFields.sorted())
    }

    /// Text in a numeric column that had held no number before it: the column was blank
    /// in every row read ahead to find its kind (``blankColumnLookahead``), so it was read
    /// as numbers, and the learner's width has no indicator for its text. The text reads
    /// as a missing value, and is counted here (per column, with its first line and value)
    /// for the warning at the stream's end. Once the column has held a number, text there
    /// is a bad field, as in any column of numbers.
    public struct TextInBlankColumn: Equatable, Sendable, Codable {
        /// The column's 0-based field.
        public var field: Int
        /// The first such text's line, and the text.
        public var line: Int
        public var value: String
        /// Fields read so.
        public var count: Int

        public init(field: Int, line: Int, value: String, count: Int) {
            self.field = field
            self.line = line
            self.value = value
            self.count = count
        }
    }

    /// The warning for text read as missing in columns blank before it, each column named
    /// by `name` (its header name, or its place).
    public static func sentence(textInBlank list: [TextInBlankColumn], name: (Int) -> String) -> String {
        let shown = list.prefix(3).map { "\(name($0.field)) from line \($0.line) ('\($0.value)', \($0.count) field\($0.count == 1 ? "" : "s"))" }
        let more = list.count > 3 ? " and \(list.count - 3) more" : ""
        let fields = list.map { String($0.field) }.joined(separator: ",")
        return "text in \(list.count == 1 ? "a column" : "columns") that held no number before it: \(shown.joined(separator: ", "))\(more). "
            + "Blank in every row read ahead to find \(list.count == 1 ? "its" : "their") kind (up to \(blankColumnLookahead)), "
            + "\(list.count == 1 ? "it was" : "they were") read as numbers, and such text reads as missing: it is not learned. "
            + "To learn it as categories, put a row holding such text among the first \(blankColumnLookahead); "
            + "--ignore-columns \(fields) (0-based) leaves \(list.count == 1 ? "it" : "them") out"
    }

    /// Text read as missing in columns blank before it (``TextInBlankColumn``), in the
    /// order first found.
    public private(set) var textInBlankColumns: [TextInBlankColumn] = []
    /// The numeric fields blank in every row read ahead to find their kind (the saved
    /// layout's for a model's stream): text there reads as missing while the column has
    /// held no number.
    private var blankFields: Set<Int> = []

    public func next() throws(DataError) -> Batch? {
        if let failure { throw failure }
        do {
            return try readBatch()
        } catch {
            let error = missingLabel == nil ? error : withoutLabel(error)
            failure = error
            throw error
        }
    }

    /// An error about a row's width, told of rows read without their label column: the
    /// counts a user sees are those of the file, which lacks it.
    private func withoutLabel(_ error: DataError) -> DataError {
        func fields(_ n: Int) -> String { n == 1 ? "1 field" : "\(n) fields" }
        switch error {
        case let .savedColumnsMismatch(at, expected, actual):
            return .unlabelledRowMismatch(at: at, problem: "the row has \(fields(actual - 1)), but the saved model reads rows of \(expected - 1) without the label")
        case let .raggedRow(at, expected, actual):
            return .unlabelledRowMismatch(at: at, problem: "the row has \(fields(actual - 1)), but earlier rows have \(expected - 1)")
        case let .widthMismatch(at, expected, actual):
            return .unlabelledRowMismatch(at: at, problem: "the row makes \(actual) features where the saved model reads \(expected)")
        default:
            return error
        }
    }

    public func resume(from position: StreamPosition) throws(DataError) {
        precondition(!prepared, "Resume a stream before reading from it")
        // Positions saved before it was kept: the paused stream's own rows, as a fresh
        // stream's are.
        resumedWidthFromModel = position.widthFromModel ?? false
        if let width = position.inputWidth, let declared = declaredWidth, width != declared {
            throw .widthMismatch(at: DataLocation(source: name), expected: declared, actual: width)
        }
        labelMap = position.labelMap
        inputWidth = position.inputWidth ?? declaredWidth
        if position.inputWidth != nil {
            givenText = position.csvLayout
            givenImputation = position.imputation
        }
        skipped = position.skipped
        textInBlankColumns = position.textInBlankColumns ?? []
        samplesDelivered = position.samplesDelivered
        try prepare()
        var left = position.rowsRead
        while left > 0 {
            guard let blank = try nextLine({ line in
                let blank = isBlank(line)
                if !blank { digest.add(line) }
                return blank
            }) else { break }
            if !blank { left -= 1 }
        }
        if left > 0 { throw .shorterThanPaused(source: name, rows: position.rowsRead - left, rowsRead: position.rowsRead) }
        // Positions saved before the digest existed are not checked, nor is a position
        // that skips nothing.
        if position.rowsRead > 0, let saved = position.rowsDigest, saved != digest.hex {
            throw .otherRowsThanPaused(source: name, rowsRead: position.rowsRead)
        }
        rowsRead = position.rowsRead - left
    }

    // MARK: Reading

    /// The next line, from the lines read ahead or the reader; `lineNumber` is its number
    /// while `body` runs.
    private func nextLine<R>(_ body: (UnsafeBufferPointer<UInt8>) throws(DataError) -> R) throws(DataError) -> R? {
        if !ahead.isEmpty {
            let (bytes, number) = ahead.removeFirst()
            if let rows = typeRowsAhead { typeRowsAhead = max(0, rows - 1) }
            lineNumber = number
            return try bytes.withUnsafeBufferPointer { (all) throws(DataError) -> R in
                try body(UnsafeBufferPointer(rebasing: all[0 ..< (all.count - 1)]))
            }
        }
        return try readLine { (line, number) throws(DataError) -> R in
            lineNumber = number
            guard inserting else { return try body(line) }
            return try withLabel(line).withUnsafeBufferPointer { (all) throws(DataError) -> R in
                try body(UnsafeBufferPointer(rebasing: all[0 ..< (all.count - 1)]))
            }
        }
    }

    /// The reader's next line as CSV, and its number in the file: an ARFF file's lines
    /// are the CSV lines they describe (`ARFFLines.csvLine`), a blank line for each line
    /// of its header but `@data`, which is the header of names. nil at the end of the input.
    private func readLine<R>(_ body: (UnsafeBufferPointer<UInt8>, Int) throws(DataError) -> R) throws(DataError) -> R? {
        if !kindDecided { try decideKind() }
        if !undecided.isEmpty {
            let (bytes, number) = undecided.removeFirst()
            return try bytes.withUnsafeBufferPointer { (all) throws(DataError) -> R in
                try csvLine(UnsafeBufferPointer(rebasing: all.dropLast()), number: number, body)
            }
        }
        let result = try reader.withNextLine { (line) throws(DataError) -> R in
            try csvLine(line, number: reader.lineNumber, body)
        }
        if result == nil, let arff { try arff.checkEnd(lines: reader.lineNumber) }
        return result
    }

    /// `body` called with `line` as CSV (an ARFF line converted, with a 0 after it).
    private func csvLine<R>(
        _ line: UnsafeBufferPointer<UInt8>, number: Int, _ body: (UnsafeBufferPointer<UInt8>, Int) throws(DataError) -> R
    ) throws(DataError) -> R {
        let csv: [UInt8]
        if let svmlight {
            // The header line `readAsSVMLight` put first is CSV already.
            if headerPassing {
                headerPassing = false
                return try body(line, number)
            }
            do {
                csv = try svmlight.csvLine(line, number: number)
            } catch {
                // A row that cannot be read is a bad row, told when it is parsed (and
                // skipped with `--skip-bad-rows`); until then a row of zeros stands in.
                rowFaults[number] = error
                csv = svmlight.standIn
            }
        } else if let json {
            // The header line `readAsJSONLines` put first is CSV already.
            if headerPassing {
                headerPassing = false
                return try body(line, number)
            }
            if isBlank(line) { return try body(line, number) }
            do {
                csv = try json.csvLine(line, number: number)
            } catch {
                rowFaults[number] = error
                csv = json.standIn
            }
        } else {
            guard arff != nil, let converted = try arff!.csvLine(line, number: number) else { return try body(line, number) }
            csv = converted
        }
        let converted = csv + [0]
        return try converted.withUnsafeBufferPointer { (all) throws(DataError) -> R in
            try body(UnsafeBufferPointer(rebasing: all.dropLast()), number)
        }
    }

    /// Reads up to the first line that is not blank or a `%` comment, and reads the file as
    /// ARFF if that line is `@relation`: with a header (the attributes' names) and `,`
    /// between fields, whatever the format said.
    private func decideKind() throws(DataError) {
        kindDecided = true
        // An svmlight file's first row may come after comment lines (scikit-learn's
        // `# Column indices are zero-based`); a few are looked through.
        var comments = 0, said: Int?
        while let (bytes, number, decisive) = try reader.withNextLine({ line in
            (Array(line) + [0], reader.lineNumber, !ARFFLines.isCommentOrBlank(line))
        }) {
            undecided.append((bytes, number))
            guard decisive else { continue }
            let (opens, comment, svm) = bytes.withUnsafeBufferPointer { all in
                let line = UnsafeBufferPointer(rebasing: all.dropLast())
                return (comments == 0 && ARFFLines.opens(line), SVMLightLines.isComment(line) ? SVMLightLines.firstIndex(saidBy: line) ?? -1 : nil,
                        SVMLightLines.opens(line))
            }
            if let comment, format.detectsSeparator, comments < 64 {
                comments += 1
                if comment >= 0 { said = comment }
                continue
            }
            if svm && format.detectsSeparator {
                try readAsSVMLight(said: said)
            } else if comments == 0, format.detectsSeparator,
                      let opening = bytes.withUnsafeBufferPointer({ JSONLines.opening(UnsafeBufferPointer(rebasing: $0.dropLast())) }) {
                switch opening {
                case .record(let keys): try readAsJSONLines(keys: keys)
                case .badRecord(let problem):
                    throw .jsonRecord(at: DataLocation(source: name, line: number), problem: problem, fault: .record)
                case .other: throw .jsonLines(at: DataLocation(source: name, line: number))
                }
            } else if opens {
                arff = ARFFLines(source: name)
                readsConvertedLines()
            }
            return
        }
    }

    /// The reader set to read the CSV lines an ARFF or svmlight file's lines are
    /// converted to: with a header and `,` between fields, whatever the format said.
    private func readsConvertedLines() {
        // Such a file's rows hold their class (an ARFF file's `?` where it is unknown, an
        // svmlight file's first field): rows to be read without their label (`moe
        // predict`) are read with it, its values not read, as `--labelled` reads them.
        // Told here, from the file as it is read, a pipe's too (the command looked ahead
        // in the file before).
        if missingLabel != nil {
            missingLabel = nil
            readsLabels = false
        }
        format.hasHeader = true
        format.separator = ","
        format.detectsSeparator = false
        separator = ","
        parser = CSVRowParser(source: name, separator: UInt8(ascii: ","))
    }

    /// Reads the file as svmlight (`SVMLightLines`), its first row the last line read:
    /// its width is the model's (a header `label,f1,…` it learned), else found in the
    /// whole file when it can be read twice, else in its first ``svmlightLookahead``
    /// rows, read ahead now. A header line of the columns goes first.
    private func readAsSVMLight(said: Int?) throws(DataError) {
        let first = undecided[0].number, opening = undecided[undecided.count - 1].number
        let layout: (firstIndex: Int, width: Int)
        let found: SVMLightLines.WidthFound
        var folded = false
        if let names = givenText?.names, let learned = SVMLightLines.layout(ofHeader: names) {
            layout = (learned.firstIndex, learned.width)
            folded = learned.folded
            found = .model
        } else {
            // A comment further on says which index comes first only in a file read whole.
            var extent = SVMLightLines.Extent(), said = said
            let ahead = try visitLinesBeforeRows { line, whole in
                extent.add(line)
                if whole, said == nil, let told = SVMLightLines.firstIndex(saidBy: line) { said = told }
            }
            layout = extent.layout(said: said)
            found = ahead.map { .linesAhead($0) } ?? .wholeFile
        }
        let lines = folded || found == .model || layout.width <= SVMLightLines.foldedWidth
            ? SVMLightLines(source: name, width: layout.width, firstIndex: layout.firstIndex, widthFound: found, folded: folded)
            : SVMLightLines(source: name, width: SVMLightLines.foldedWidth, firstIndex: layout.firstIndex, widthFound: found, folded: true)
        svmlight = lines
        readsConvertedLines()
        undecided.insert((lines.headerLine + [0], first), at: 0)
        headerPassing = true
        // The label is each row's first field: a label column given otherwise names a feature.
        if !format.choosesLabelColumn {
            switch format.labelColumn {
            case .first, .index(0): break
            case .name(let given) where given.lowercased() == SVMLightLines.labelName: break
            default:
                throw .svmlight(at: DataLocation(source: name, line: opening),
                                problem: "a row's label is its first field, but --label-column says \(format.labelColumn.description), a feature: leave the option out")
            }
        }
    }

    /// Visits every line of the file before its rows are read, for what its first row
    /// cannot tell (an svmlight file's width, a JSON Lines file's columns): the whole file,
    /// read once more, when it has a path that is not a pipe (nil returned); else the lines
    /// held ahead, read ahead now up to ``svmlightLookahead`` in all (their count
    /// returned). `visit` is told whether the file is read whole.
    private func visitLinesBeforeRows(_ visit: (UnsafeBufferPointer<UInt8>, _ whole: Bool) -> Void) throws(DataError) -> Int? {
        if let path, !Self.isPipe(path: path) {
            let whole = LineReader(file: try GzipFile(path: path), chunkSize: 1 << 18)
            while try whole.withNextLine({ (line) -> Bool in visit(line, true); return true }) != nil {}
            return nil
        }
        var rows = undecided.count
        while rows < Self.svmlightLookahead, let (bytes, number) = try reader.withNextLine({ (Array($0) + [0], reader.lineNumber) }) {
            undecided.append((bytes, number))
            rows += 1
        }
        for (bytes, _) in undecided { bytes.withUnsafeBufferPointer { visit(UnsafeBufferPointer(rebasing: $0.dropLast()), false) } }
        return rows
    }

    /// Reads the file as JSON Lines (`JSONLines`), its first record the last line read:
    /// its columns are those the model learned, placed by name (a record's other keys
    /// passed over), else every record's keys (`JSONLines.Columns`): in the whole file
    /// when it can be read twice, else in its first ``svmlightLookahead`` lines, read ahead
    /// now. A header line of the columns goes first.
    private func readAsJSONLines(keys: [String]) throws(DataError) {
        let first = undecided[0].number
        let learned = givenText.flatMap { $0.rowNames ? nil : $0.names }
        var columns = JSONLines.Columns(first: keys)
        var found = "the whole file"
        if learned == nil, let ahead = try visitLinesBeforeRows({ line, _ in columns.add(line) }) {
            found = "its first \(ahead) lines"
        }
        let lines = JSONLines(source: name, names: learned ?? columns.names, passesOverOtherKeys: learned != nil, columnsFound: found)
        json = lines
        readsConvertedLines()
        undecided.insert((lines.headerLine + [0], first), at: 0)
        headerPassing = true
    }

    /// Without a declared header: whether the first line names the columns, told by a
    /// number below one of its names (a name, not a category: a category's column holds
    /// text in every row): in the second line, or, under a line of names only, in the
    /// first line below that name whose value there is not missing (of the next 63). The
    /// header's names if so; the lines read stay ahead to be read as rows.
    ///
    /// A file of one line whose every field is text (no number, no missing mark) is a
    /// header over no rows: the export of an empty table. Read as a row, it was learned
    /// as one sample of categories.
    private func headerAhead() throws(DataError) -> [String]? {
        let rows = try rowsAhead(Self.trailingLookahead)
        let lines = ahead
        guard !rows.isEmpty else { return nil }
        // Each field's text, whether it is a plain number, and whether a number in dress.
        func fields(_ k: Int) -> [(text: String, number: Bool, dressed: Bool)] {
            lines[rows[k]].bytes.withUnsafeBufferPointer { all in
                let line = UnsafeBufferPointer(rebasing: all[0 ..< (all.count - 1)])
                let count = parser.split(line)
                // An infinite value, or one beyond Float's range, is a number (refused
                // when its row is read), not a column's name.
                return (0..<count).map { i in
                    let number = !isText(i, in: line, lineNumber: lines[rows[k]].number, dress: false)
                    return (parser.text(i, in: line), number, !number && !isText(i, in: line, lineNumber: lines[rows[k]].number))
                }
            }
        }
        func isName(_ field: (text: String, number: Bool, dressed: Bool)) -> Bool {
            !field.number && !field.dressed && !CSVFormat.marksMissing(field.text)
        }
        let first = fields(0)
        if rows.count == 1 {
            guard first.allSatisfy(isName) else { return nil }
        } else {
            // A number in the next row under a name tells a header; under a line of names
            // only, the first value below each name that is not missing. (The next row
            // alone told it until 2026-12-05: the Titanic's passengers with their names,
            // sorted by survival, begin with a row whose only numeric field, the age, is
            // missing, and the header was read as a row, 'age' not a number. A first row
            // with numbers in it, a headerless file's, is judged by the next row alone, as
            // before: a typo over a gap is a bad row, not a header.)
            var later = rows.indices.dropFirst().map(fields).filter { $0.count == first.count }
            if later.isEmpty && first.allSatisfy(isName) {
                // A line of names one short of the rows: R's row names first (findRowNames).
                later = rows.indices.dropFirst().map(fields).filter { $0.count == first.count + 1 }.map { Array($0.dropFirst()) }
            }
            guard !later.isEmpty else { return nil }
            let allNames = first.allSatisfy(isName)
            // A number in dress below a name tells it only where its column holds numbers in
            // every row read ahead: a category whose levels read `0%` and `1 - 10%` (the
            // insurance data, `ticdata`) took its first row for a header.
            let tells = first.indices.filter { isName(first[$0]) }.contains { f in
                let below = allNames ? later.first(where: { !CSVFormat.marksMissing($0[f].text) }) : later.first
                guard let below else { return false }
                return below[f].number || (below[f].dressed && later.allSatisfy {
                    $0[f].number || $0[f].dressed || CSVFormat.marksMissing($0[f].text)
                })
            }
            guard tells || (allNames && Self.namesOverLevels(first.map(\.text), later.map { $0.map(\.text) })) else { return nil }
        }
        lineNumber = lines[rows[0]].number
        ahead.removeSubrange(0...rows[0])
        return try lines[rows[0]].bytes.withUnsafeBufferPointer { (all) throws(DataError) in
            try headerNames(UnsafeBufferPointer(rebasing: all[0 ..< (all.count - 1)]))
        }
    }

    /// Whether a line of names (`first`) heads rows of words only (`later`: every column
    /// a category, as in votes or a mushroom's traits), where no number below a name can
    /// tell it: its fields are distinct, and in each column whose values recur below (at
    /// most half as many distinct values as values, four at least), at least two such
    /// columns, its field is none of those values. A row of such a file holds values its
    /// columns repeat; a header's names stand once. Until 2026-12-05's ninth round such a
    /// header was read as a row, its label a class of that row alone, unless `--header`
    /// was given.
    static func namesOverLevels(_ first: [String], _ later: [[String]]) -> Bool {
        guard first.count >= 2, Set(first).count == first.count else { return false }
        var levelColumns = 0
        for f in first.indices {
            let values = later.compactMap { f < $0.count && !CSVFormat.marksMissing($0[f]) ? $0[f] : nil }
            let distinct = Set(values)
            guard values.count >= 4, distinct.count * 2 <= values.count else { continue }
            if distinct.contains(first[f]) { return false }
            levelColumns += 1
        }
        return levelColumns >= 2
    }

    /// The fields `wanted(count)` of each of the next ``trailingLookahead`` rows, as text
    /// without surrounding blanks, with the row's number of fields `count`.
    private func textsAhead(_ wanted: (Int) -> [Int]) throws(DataError) -> [(count: Int, texts: [String])] {
        try rowsAhead(Self.trailingLookahead).map { k in
            ahead[k].bytes.withUnsafeBufferPointer { all in
                let line = UnsafeBufferPointer(rebasing: all[0 ..< (all.count - 1)])
                let count = parser.split(line)
                return (count, wanted(count).map { parser.text($0, in: line).trimmingCharacters(in: .whitespaces) })
            }
        }
    }

    /// Reads ahead until `count` non-blank lines are ahead (fewer at the end of the
    /// input); their indices in `ahead`.
    private func rowsAhead(_ count: Int) throws(DataError) -> [Int] {
        var rows = ahead.indices.filter { k in
            ahead[k].bytes.withUnsafeBufferPointer { !isBlank(UnsafeBufferPointer(rebasing: $0.dropLast())) }
        }
        while rows.count < count {
            guard let line = try readLine({ line, number in (inserting ? withLabel(line) : Array(line) + [0], number, isBlank(line)) })
            else { break }
            if !line.2 { rows.append(ahead.count) }
            ahead.append((line.0, line.1))
        }
        return Array(rows.prefix(count))
    }

    /// Without a separator given: the one of `CSVFormat.detectableSeparators` that splits
    /// the first 8 non-blank lines into the same number of fields, at least two, with the
    /// most numbers (or missing marks) among them, then the most fields; the format's
    /// when none does. A `;`-separated file with decimal commas (`5,1;3,2`) has more
    /// numbers split at `;` than at `,`, so it is read as it was written. Blanks
    /// (`CSVFormat.blankSeparator`: runs of spaces and tabs) are tried last and taken only
    /// with more numbers than the best of the others: numpy's `savetxt`, R's `write.table`
    /// and many `.data` files separate their fields so, and were refused at their first
    /// line until 2026-12-05's eighth round ("at least 2 columns separated by ','").
    private func detectSeparator() throws(DataError) {
        let rows = try rowsAhead(8)
        var best: (separator: Character, numbers: Int, fields: Int)?
        let trailingRows = try rowsAhead(Self.trailingLookahead)
        for candidate in CSVFormat.detectableSeparators + [CSVFormat.blankSeparator] {
            var probe = CSVRowParser(source: name, separator: candidate.asciiValue!)
            probe.dropsTrailingEmptyField = candidate != CSVFormat.blankSeparator && endsLinesWith(candidate.asciiValue!, rows: trailingRows)
            var counts: [Int] = []
            var numbers = 0
            for r in rows {
                ahead[r].bytes.withUnsafeBufferPointer { all in
                    let line = UnsafeBufferPointer(rebasing: all[0 ..< (all.count - 1)])
                    let count = probe.split(line)
                    counts.append(count)
                    for i in 0..<count where (try? probe.number(i, in: line, lineNumber: ahead[r].number, dress: false)) != nil
                        || CSVFormat.marksMissing(probe.text(i, in: line)) {
                        numbers += 1
                    }
                }
            }
            // The same count on every line; the first may be one short (a header over R's
            // row names, findRowNames).
            let rest = Set(counts.dropFirst())
            guard let fields = rest.count == 1 ? rest.first : counts.count == 1 ? counts.first : nil, fields >= 2,
                  counts[0] == fields || (counts[0] == fields - 1 && counts[0] >= 2) else { continue }
            // Blanks, tried last, take a file only with more numbers than any character
            // finds: a tab-separated file with a text value of two words stays one.
            if candidate == CSVFormat.blankSeparator, let best, numbers <= best.numbers { continue }
            if best.map({ (numbers, fields) > ($0.numbers, $0.fields) }) ?? true { best = (candidate, numbers, fields) }
        }
        if let best, best.separator != separator {
            separator = best.separator
            parser = CSVRowParser(source: name, separator: best.separator.asciiValue!)
        }
    }

    /// The separator other than the one in use that splits `line` into `fields` fields,
    /// if one does (for the error of a file read with another's separator).
    private func separator(splitting line: UnsafeBufferPointer<UInt8>, into fields: Int) -> Character? {
        (CSVFormat.detectableSeparators + [CSVFormat.blankSeparator]).first { candidate in
            var probe = CSVRowParser(source: name, separator: candidate.asciiValue!)
            return candidate != separator && probe.split(line) == fields
        }
    }

    /// Comment lines at the top of the file, before any row or header: lines whose first
    /// character that is not a blank is `#` followed by a blank, another `#` or the line's
    /// end (`# written by numpy`, `## notes`, `#`); numpy's `savetxt` writes its header so
    /// (`# x y label`), and many data files open with a few such lines. They are taken off
    /// the lines ahead (their lines still count in the numbers errors give); the last one,
    /// its `#` and blanks taken off, is returned (``offerCommentedHeader(_:)``). Until
    /// 2026-12-05's ninth round such a file was refused at its first line. `#ff0000` or `#3`
    /// (a colour, a rank) is a value, not a comment; lines after the first row are rows.
    private func commentLinesAtTop() throws(DataError) -> (text: [UInt8], number: Int)? {
        var last: (text: [UInt8], number: Int)?
        while let r = try rowsAhead(1).first {
            let bytes = ahead[r].bytes.dropLast()
            guard let start = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }), bytes[start] == UInt8(ascii: "#") else { break }
            let next = bytes.index(after: start)
            guard next == bytes.endIndex || [0x20, 0x09, 0x0D, UInt8(ascii: "#")].contains(bytes[next]) else { break }
            var text = bytes[next...].drop { $0 == UInt8(ascii: "#") || $0 == 0x20 || $0 == 0x09 }
            while let end = text.last, end == 0x20 || end == 0x09 || end == 0x0D { text.removeLast() }
            last = (Array(text), ahead[r].number)
            ahead.removeSubrange(0...r)
        }
        return last
    }

    /// numpy's `savetxt` writes its header as a comment (`# x y label`): the last comment
    /// line at the top stands as the file's first line, to be judged as any first line is
    /// (a header by ``headerAhead()`` or declared), when it is a line of names alone, as
    /// many as the first row's fields, over a row that is not itself one (a header below
    /// the comments). Told the file has none (`--no-header`), it stays a comment.
    private func offerCommentedHeader(_ comment: (text: [UInt8], number: Int)) throws(DataError) {
        guard !declaresNoHeader, arff == nil, !comment.text.isEmpty, let r = try rowsAhead(1).first else { return }
        // The parser reads one byte past a line: a 0 follows it, as every line read has.
        let bytes = comment.text + [0]
        let count = bytes.withUnsafeBufferPointer { parser.split(UnsafeBufferPointer(rebasing: $0.dropLast())) }
        let names = bytes.withUnsafeBufferPointer { all in
            let line = UnsafeBufferPointer(rebasing: all.dropLast())
            return (0..<count).allSatisfy { field in
                let text = parser.text(field, in: line)
                return Float(text.trimmingCharacters(in: .whitespaces)) == nil && !CSVFormat.marksMissing(text)
            }
        }
        guard count >= 2, names else { return }
        // The first row, split once: as many fields, and not itself names.
        let fitsUnder = ahead[r].bytes.withUnsafeBufferPointer { all in
            let line = UnsafeBufferPointer(rebasing: all[0 ..< (all.count - 1)])
            return parser.split(line) == count && (0..<count).contains { field in
                Float(parser.text(field, in: line).trimmingCharacters(in: .whitespaces)) != nil
            }
        }
        guard fitsUnder else { return }
        ahead.insert((bytes, comment.number), at: 0)
    }

    /// A first line `sep=;` (as Excel writes and reads it; `"sep=;"` too, `sep` in any
    /// case, the character any ASCII one) declares the separator: it is taken off the
    /// lines ahead, so no reader meets it as a header or a row (its line still counts in
    /// the line numbers errors give), and its separator is the file's unless one is given.
    /// Until 2026-12-05 such a file was refused at its first line. Blank lines before it
    /// are taken off too.
    private func separatorLine() throws(DataError) -> Character? {
        guard let r = try rowsAhead(1).first else { return nil }
        var bytes = ahead[r].bytes.dropLast()[...]
        while let last = bytes.last, last == 0x20 || last == 0x0D { bytes.removeLast() }
        if bytes.count == 7, bytes.first == 0x22, bytes.last == 0x22 { bytes = bytes.dropFirst().dropLast() }
        guard bytes.count == 5, String(decoding: bytes.prefix(4), as: UTF8.self).lowercased() == "sep=",
              let byte = bytes.last, byte > 0, byte < 0x80, byte != 0x22, byte != 0x0A else { return nil }
        ahead.removeSubrange(0...r)
        return Character(Unicode.Scalar(byte))
    }

    /// Lines read ahead to tell a trailing separator.
    static let trailingLookahead = 64

    /// Whether the lines ahead (`rows`, non-blank) end with a separator that closes no
    /// field, as some exporters write them (`1.5,2,cat,`): every line after the first ends
    /// with `byte`, at least one does, and the first line does too or has one field fewer
    /// (a header written without it). Such a file's empty last field is no column: read
    /// as one, it made the label `last` empty on every row, or every row one field longer
    /// than its header. A last column a header names is kept, its first values empty or
    /// not (`a,b,note` over `1,2,`); in a file without a header, a last column empty in
    /// each of the first 64 rows is taken for a trailing separator.
    private func endsLinesWith(_ byte: UInt8, rows: [Int]) -> Bool {
        guard rows.count >= 2 else { return false }
        // Each line read ahead ends with the 0 the reader puts after it.
        func ends(_ r: Int) -> Bool { ahead[r].bytes.count >= 2 && ahead[r].bytes[ahead[r].bytes.count - 2] == byte }
        guard rows.dropFirst().allSatisfy(ends) else { return false }
        if ends(rows[0]) { return true }
        var probe = CSVRowParser(source: name, separator: byte)
        func fields(_ r: Int) -> Int {
            ahead[r].bytes.withUnsafeBufferPointer { probe.split(UnsafeBufferPointer(rebasing: $0.dropLast())) }
        }
        return fields(rows[0]) == fields(rows[1]) - 1
    }

    private enum Row {
        case blank
        case sample(label: Int)
        case bad(DataError)
    }

    private func readBatch() throws(DataError) -> Batch? {
        try prepare()
        var features: [Float] = []
        var labels: [Int] = []
        features.reserveCapacity(batchSize * (inputWidth ?? 0))
        labels.reserveCapacity(batchSize)
        keptText.removeAll(keepingCapacity: true)
        while labels.count < batchSize {
            guard let row = try nextLine({ (line) throws(DataError) in
                let row = try parse(line)
                if case .blank = row {} else { digest.add(line) }
                return row
            }) else { break }
            switch row {
            case .blank:
                continue
            case .sample(let label):
                rowsRead += 1
                features.append(contentsOf: scratch!)
                labels.append(label)
                if recordsRowLines { rowLines.append(lineNumber) }
                if !keptColumns.isEmpty { keptText.append(parser.keptText) }
            case .bad(let error):
                rowsRead += 1
                if badRows == .fail { throw error }
                skipped.count(error)
            }
        }
        guard !labels.isEmpty else {
            if samplesDelivered == 0 { throw .emptyStream(source: name) }
            return nil
        }
        samplesDelivered += labels.count
        return Batch(features: Matrix(rows: labels.count, columns: inputWidth!, scalars: features), labels: labels)
    }

    /// Reads each learned column by its name when the header names every one of them
    /// once and the saved layout names each once (``columnsPlacedByName``): a file whose
    /// columns were reordered, or that holds more columns (left out), is read as the model
    /// learned it. Before 2026-12-05 such a file was refused.
    ///
    /// Otherwise refuses a header that puts a name of the saved layout's header at another
    /// place (names that occur once in each): a column was taken out or renamed and
    /// another moved, and every row would be read from the wrong columns.
    /// Headers of other names (a renamed export) are read by place, as before.
    ///
    /// Names are compared without case and surrounding spaces: a spreadsheet's export
    /// that wrote `B,A,C,Label` over columns learned as `a,b,c,label` swapped two of
    /// them all the same, and was read by place without a word.
    ///
    /// Learned names that differ only in case (`x` and `X`) are compared exactly, case and
    /// all: without case they were one name, not checked, and a file with the two swapped
    /// was read by place without a word.
    private func checkColumnPlaces() throws(DataError) {
        guard let learned = givenText?.names, let header else { return }
        var spellings: [String: Set<String>] = [:]
        for name in learned { spellings[Self.columnKey(name), default: []].insert(name.trimmingCharacters(in: .whitespaces)) }
        let clashing = Set(spellings.filter { $0.value.count > 1 }.keys)
        func key(_ name: String) -> String {
            let lowered = Self.columnKey(name)
            // Exact names cannot be taken for lowered ones: a NUL is not in a header.
            return clashing.contains(lowered) ? "\u{0}" + name.trimmingCharacters(in: .whitespaces) : lowered
        }
        func places(_ names: [String]) -> [String: Int] {
            var seen: [String: Int] = [:], repeated: Set<String> = []
            for (i, name) in names.enumerated() {
                let key = key(name)
                if key.isEmpty { continue }
                if seen[key] != nil { repeated.insert(key) } else { seen[key] = i }
            }
            return seen.filter { !repeated.contains($0.key) }
        }
        let before = places(learned), here = places(header)
        // A learned column left out (`--ignore-columns`) may be absent.
        let ignored = Set(format.ignoredColumns.compactMap { column in before[key(column)] ?? Int(column) })
        if let placed = Self.learnedPlaces(learned, before: before, here: here, key: key, ignored: ignored,
                                           learnedRowNames: givenText?.rowNames == true, rowNames: rowNames) {
            try placeByName(placed, header: header, learned: learned)
            return
        }
        // A header of another width that lacks learned columns: name them. Read by place,
        // every row would be read from the wrong columns, and the error named a column
        // that had only shifted (or, with the label column missing, a text column's
        // field). A header of the learned width with other names is a renamed export,
        // read by place as before.
        // (R's row names, an empty name, are no column to miss.)
        let missing = learned.indices.filter { i in
            !learned[i].isEmpty && !ignored.contains(i) && before[key(learned[i])] != nil && here[key(learned[i])] == nil
        }
        if !missing.isEmpty && header.count != learned.count {
            let label = format.labelColumn.name(among: learned)
            let names = missing.map { learned[$0] }
            throw .columnsMissing(at: DataLocation(source: self.name, line: headerLine ?? 1), missing: names,
                                  label: label.flatMap { l in names.first { key($0) == key(l) } }, learned: learned)
        }
        for (key, field) in here.sorted(by: { $0.value < $1.value }) {
            if let learnedField = before[key], learnedField != field {
                throw .columnMoved(at: DataLocation(source: self.name, line: headerLine ?? 1),
                                   name: header[field], field: field, learnedField: learnedField, learned: learned)
            }
        }
    }

    /// Where each learned column is in the header, by name (`before` and `here`: each name's
    /// place, by `key`, in the learned names and the header, names given twice left out),
    /// nil for a learned column left out (`ignored`, R's row names) that the header lacks;
    /// nil when the names cannot place every column: a learned name given twice, or one
    /// the header lacks.
    private static func learnedPlaces(
        _ learned: [String], before: [String: Int], here: [String: Int], key: (String) -> String,
        ignored: Set<Int>, learnedRowNames: Bool, rowNames: Bool
    ) -> [Int?]? {
        // R's row names learned (an empty name first) need no name.
        let learnedRowNames = learnedRowNames && learned.first == ""
        guard before.count == learned.count - (learnedRowNames ? 1 : 0) else { return nil }
        let optional = ignored.union(learnedRowNames ? [0] : [])
        var placed: [Int?] = []
        for (i, name) in learned.enumerated() {
            if let field = here[key(name)] {
                placed.append(field)
            } else if optional.contains(i) {
                placed.append(learnedRowNames && rowNames && i == 0 ? 0 : nil)
            } else {
                return nil
            }
        }
        return placed
    }

    /// Reads the learned columns from the header's fields `placed` (nil: a left-out column
    /// the file lacks, never read, given the first field), when they are not the
    /// header's own order: the parser puts each line's fields in the learned order, the
    /// header takes the learned order, and ``columnsPlacedByName`` says what moved.
    private func placeByName(_ placed: [Int?], header: [String], learned: [String]) throws(DataError) {
        let absent = Set(placed.indices.filter { placed[$0] == nil }), order = placed.map { $0 ?? 0 }
        guard order != Array(header.indices) || !absent.isEmpty else { return }
        labelOverride = try labelFieldPlacedByName(order: order, absent: absent, header: header, learned: learned)
        parser.readFields(order, of: header.count)
        // A column moved when its place among the learned columns the file has differs from
        // the learned one: columns that only shifted (a column more or fewer before them, R's
        // or pandas' row names in one file only) did not move.
        let present = learned.indices.filter { !absent.contains($0) && !learned[$0].isEmpty }
        let rankHere = Dictionary(uniqueKeysWithValues: present.sorted { order[$0] < order[$1] }.enumerated().map { ($1, $0) })
        // A label put in by this reader is no column of the file.
        let moved = present.enumerated().filter { rankHere[$1] != $0 }.map { header[order[$1]] }
            .filter { missingLabel == nil || $0 != missingLabel!.headerValue }
        // The rows' names (an empty name) are no column to name either.
        let extra = header.indices.filter { !order.contains($0) }.map { header[$0] }.filter { !$0.isEmpty }
        let lacking = absent.sorted().map { learned[$0] }.filter { !$0.isEmpty }
        // Nothing to say (only row names differ): the columns are placed all the same. The
        // sentence was empty before 2026-12-05's ninth round.
        columnsPlacedByName = moved.isEmpty && extra.isEmpty && lacking.isEmpty ? nil : ColumnPlacement(moved: moved, leftOut: extra, lacking: lacking)
        self.header = learned.indices.map { absent.contains($0) ? learned[$0] : header[order[$0]] }
    }

    /// Which file a label column given by place (first, last, an index) counts in when the
    /// learned columns are placed by name (``columnsPlacedByName``).
    public enum LabelColumnPlace: Sendable {
        /// In the rows the model learned: the saved stream's label column.
        case learned
        /// In this file: a label column given for it (`moe eval --label-column 0`).
        case file
        /// Either: refused when the two name different columns.
        case unclear
    }

    /// Where a label column by place counts when the columns are placed by name (set
    /// before the first row is read); `.unclear` by default.
    public var labelColumnPlace = LabelColumnPlace.unclear
    /// The label's field among the learned ones, when a label column given for this file
    /// was placed by name.
    private var labelOverride: Int?

    /// The learned field the label is read from when the columns are placed by name
    /// (`order`), or nil when the format's label column says it as it is: a name, or a
    /// place counted in the learned rows.
    private func labelFieldPlacedByName(order: [Int], absent: Set<Int>, header: [String], learned: [String]) throws(DataError) -> Int? {
        func place(_ count: Int) -> Int? {
            switch format.labelColumn {
            case .first: return 0
            case .last: return count - 1
            case .index(let i): return i < count ? i : nil
            case .name: return nil
            }
        }
        if case .name = format.labelColumn { return nil }
        let column = format.labelColumn.description, at = DataLocation(source: name, line: headerLine ?? 1)
        switch labelColumnPlace {
        case .learned:
            return nil
        case .file:
            guard let field = place(header.count) else {
                throw .labelColumnNotFound(source: name, column: column,
                                           available: "the rows have \(header.count) columns, indices 0...\(header.count - 1)")
            }
            guard let learnedPlace = order.indices.first(where: { order[$0] == field && !absent.contains($0) }) else {
                throw .labelColumnNotLearned(at: at, column: column, name: header[field], learned: learned)
            }
            return learnedPlace
        case .unclear:
            guard let learnedField = place(learned.count), let field = place(header.count), order[learnedField] != field else { return nil }
            throw .labelColumnPlaceUnclear(at: at, column: column, here: header[field], learned: learned[learnedField])
        }
    }

    /// How a file's columns were placed by name (``checkColumnPlaces()``): the learned
    /// columns it holds at other fields, and its columns the model did not learn, left out;
    /// both as the file's header names them.
    public struct ColumnPlacement: Sendable, Equatable, Codable {
        public var moved: [String]
        public var leftOut: [String]
        /// The learned columns left out when learning that the file lacks.
        public var lacking: [String]

        public init(moved: [String], leftOut: [String], lacking: [String] = []) {
            self.moved = moved
            self.leftOut = leftOut
            self.lacking = lacking
        }

        /// The sentence `moe eval`, `moe predict` and a continued stream say of it.
        public func sentence(source: String) -> String {
            func names(_ list: [String]) -> String {
                list.prefix(8).map { "'\($0)'" }.joined(separator: ", ") + (list.count > 8 ? ", … (\(list.count))" : "")
            }
            var parts: [String] = []
            if !moved.isEmpty { parts.append("\(names(moved)) at other places than in the rows the model learned") }
            if !leftOut.isEmpty { parts.append("\(names(leftOut)) that the model did not learn, left out") }
            var said = parts.isEmpty ? [] : ["the file has " + parts.joined(separator: ", and ")]
            if !lacking.isEmpty { said.append("it lacks \(names(lacking)), which the model learned without") }
            return "\(source): columns read by their header names: " + said.joined(separator: "; ")
        }
    }

    /// Set when the header placed the learned columns by name (nil: read by place).
    public private(set) var columnsPlacedByName: ColumnPlacement?

    /// A column's name as the order check compares it: without case and surrounding spaces.
    public static func columnKey(_ name: String) -> String {
        name.trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// Reads the header, or fixes the width from a declared one.
    private func prepare() throws(DataError) {
        guard !prepared else { return }
        prepared = true
        let lastComment = try commentLinesAtTop()
        let declared = try separatorLine()
        if let declared, format.detectsSeparator, declared != separator {
            separator = declared
            parser = CSVRowParser(source: name, separator: declared.asciiValue!)
        }
        if format.detectsSeparator && declared == nil { try detectSeparator() }
        let trailingRows = try rowsAhead(Self.trailingLookahead)
        parser.dropsTrailingEmptyField = separator != CSVFormat.blankSeparator && endsLinesWith(separator.asciiValue!, rows: trailingRows)
        if let lastComment { try offerCommentedHeader(lastComment) }
        if let missingLabel {
            labelBytes = (Array(Self.quoted(missingLabel.value, separator: separator).utf8),
                          Array(Self.quoted(missingLabel.headerValue, separator: separator).utf8))
            labelProbe = CSVRowParser(source: name, separator: separator.asciiValue!)
            labelProbe!.dropsTrailingEmptyField = parser.dropsTrailingEmptyField
        }
        if givenText?.names != nil && declaresNoHeader {
            headerAbsent = true
        } else {
            headerAbsent = try firstLineIsData()
        }
        if let missing = missingLabel, !headerAbsent, let names = givenText?.names, headerHolds(missing.headerValue, fields: names.count) {
            // Rows to be read without their label whose header names the label column, with
            // as many fields as the model's header: the file has the column after all (a
            // test file given to `moe predict`). Read as `--labelled` reads, its values
            // not read; the label put in as well made the header name it twice.
            missingLabel = nil
            readsLabels = false
            labelColumnInHeader = missing.headerValue
        }
        if missingLabel != nil {
            // The separator is known now: the lines read ahead for it get their label too,
            // the header's name in a header line.
            inserting = true
            headerPending = format.hasHeader && !headerAbsent
            for k in ahead.indices {
                ahead[k].bytes = ahead[k].bytes.withUnsafeBufferPointer { withLabel(UnsafeBufferPointer(rebasing: $0.dropLast())) }
            }
        }
        if format.imputesMissing && givenText == nil && declaredWidth == nil { gapsAhead = try gapsInRowsAhead() }
        try readHeader()
        if format.textIndicators > 0 && givenText == nil { (textAhead, numbersAhead) = try textColumnsAhead() }
        if let arff, format.textIndicators > 0, givenText == nil {
            // An ARFF header says what each column is: a column whose first rows are all
            // missing is read as its header declares it (supermarket baskets' `{t}` columns,
            // `?` for 250 rows and then `t`, stopped the stream as numbers).
            for (field, attribute) in arff.attributes.enumerated() {
                switch attribute.kind {
                case .numeric:
                    textAhead.remove(field)
                    numbersAhead.insert(field)
                case .string, .date:
                    numbersAhead.remove(field)
                    textAhead.insert(field)
                case .nominal(let values):
                    // Values written as numbers (a `{0,1}` flag) are numbers, as in a CSV file.
                    if values.allSatisfy({ Double($0.trimmingCharacters(in: .whitespaces)) != nil }) {
                        textAhead.remove(field)
                        numbersAhead.insert(field)
                    } else {
                        numbersAhead.remove(field)
                        textAhead.insert(field)
                    }
                }
            }
        }
    }

    /// With a header declared or saved and the names the model learned: whether the first
    /// line is data all the same, a file written without a header. It is when every field
    /// the model reads as a number (not the label, a text or a left-out column) holds a
    /// number or a missing mark, and at least one number stands where the learned header
    /// has a name (not a number). A model learned with `--header` (or a label by name)
    /// took such a file's first row for its header before, and answered one row fewer,
    /// every answer a row off in `moe predict`.
    private func firstLineIsData() throws(DataError) -> Bool {
        guard format.hasHeader, arff == nil, let learned = givenText?.names, let r = try rowsAhead(1).first else { return false }
        let (raw, number) = ahead[r]
        let bytes = missingLabel == nil
            ? raw : raw.withUnsafeBufferPointer { withLabel(UnsafeBufferPointer(rebasing: $0.dropLast())) }
        // Learned with R's row names (an empty name first): a line one field short stands
        // under the named columns (R's header, or rows written without row names).
        let rowNamesLearned = givenText?.rowNames == true && learned.first == ""
        return bytes.withUnsafeBufferPointer { all in
            let line = UnsafeBufferPointer(rebasing: all[0 ..< (all.count - 1)])
            let count = parser.split(line)
            let shift = rowNamesLearned && count == learned.count - 1 ? 1 : 0
            let names = Array(learned.dropFirst(shift))
            let text = Set((givenText?.columns ?? []).map { $0 - shift })
            var ignored = Set(format.ignoredColumns.compactMap { learned.firstIndex(of: $0) ?? Int($0) }.map { $0 - shift })
            if rowNamesLearned && shift == 0 { ignored.insert(0) }
            let labelField: Int
            switch format.labelColumn {
            case .first: labelField = rowNamesLearned && shift == 0 ? 1 : 0
            case .last: labelField = count - 1
            case .index(let i): labelField = i - shift
            case .name(let wanted):
                guard let i = names.firstIndex(of: wanted) else { return false }
                labelField = i
            }
            var numberUnderName = false
            for field in 0..<count where field != labelField && !text.contains(field) && !ignored.contains(field) {
                if CSVFormat.marksMissing(parser.text(field, in: line)) { continue }
                if isText(field, in: line, lineNumber: number) { return false }
                if field < names.count && Float(names[field].trimmingCharacters(in: .whitespaces)) == nil
                    && !CSVFormat.marksMissing(names[field]) {
                    numberUnderName = true
                }
            }
            if numberUnderName { return true }
            // No number tells (every column a category, or the numbers missing): the line
            // is data when a text column holds one of the values the model learned for it
            // where the learned header has another name, and no field is its column's
            // learned name. A model of words only, learned with its header, took a
            // headerless file's first row for a header and answered one row fewer.
            guard let layout = givenText else { return false }
            var levelUnderName = false
            for (k, column) in layout.columns.enumerated() {
                let field = column - shift
                guard field >= 0, field < count, field < names.count, field != labelField, !ignored.contains(field) else { continue }
                let value = parser.text(field, in: line), name = names[field]
                if value.trimmingCharacters(in: .whitespaces).lowercased() == name.trimmingCharacters(in: .whitespaces).lowercased() { return false }
                if layout.values[k].contains(value) && !layout.values[k].contains(name) { levelUnderName = true }
            }
            return levelUnderName
        }
    }

    /// Whether the format says the file has no header (`--no-header`).
    private var declaresNoHeader: Bool { !format.hasHeader && !format.detectsHeader }

    /// Whether the first field of every row is its name, under a header that names the
    /// other fields only (``findRowNames()``): left out.
    public private(set) var rowNames = false

    /// A header one name short of its rows: R's `write.table` writes each row's name
    /// first (`"1" 5.1 3.5 "setosa"`) under a header of the columns alone (`"x" "y"
    /// "Species"`). The first field is taken for the rows' names, named `""` and left
    /// out; read as it was, every row was one field too many, refused at the first.
    ///
    /// R's `write.csv` and pandas' `to_csv` write the rows' names or index under an empty
    /// name instead (`"","x","y","Species"`, `,x,y,label`): a first column with no name
    /// whose values in the rows ahead are all different, and all whole numbers (pandas'
    /// index, R's row numbers, shuffled or not) or all words (R's row names), is left out
    /// the same way (since 2026-12-05's ninth round; read as a feature, pandas' index cost
    /// a stream in its file's order 0.767 to 0.693, a feature that only grows). A column of
    /// measurements with no name stays a feature.
    private func findRowNames() throws(DataError) {
        // At least a feature and a label besides the names.
        guard let names = header, names.count >= 2, missingLabel == nil, let r = try rowsAhead(1).first else { return }
        let count = ahead[r].bytes.withUnsafeBufferPointer { all in
            parser.split(UnsafeBufferPointer(rebasing: all[0 ..< (all.count - 1)]))
        }
        if count == names.count + 1 {
            rowNames = true
            header = [""] + names
            return
        }
        guard count == names.count, names.count >= 3, names[0].trimmingCharacters(in: .whitespaces).isEmpty,
              names.dropFirst().allSatisfy({ !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else { return }
        if case .index(0) = format.labelColumn { return }
        let values = try textsAhead { $0 == count ? [0] : [] }.compactMap(\.texts.first)
        guard values.count >= 2, Set(values).count == values.count, !values.contains(where: CSVFormat.marksMissing) else { return }
        let wholeNumbers = values.allSatisfy { Int($0) != nil }, words = values.allSatisfy { Double($0) == nil }
        guard wholeNumbers || words else { return }
        rowNames = true
        header![0] = ""
    }

    private func readHeader() throws(DataError) {
        if format.hasHeader && !headerAbsent {
            var names: [String]?
            while names == nil {
                guard let line = try nextLine({ (line) throws(DataError) in isBlank(line) ? nil : try headerNames(line) }) else {
                    throw .emptyStream(source: name)
                }
                names = line
            }
            header = names
            headerLine = lineNumber
            try refuseLabelTwice()
            try findKept(fields: names!.count)
            try findRowNames()
            try checkColumnPlaces()
            try establish(fieldCount: header!.count, line: lineNumber)
            return
        }
        if format.textIndicators > 0, format.detectsHeader, !headerAbsent, var names = try headerAhead() {
            // A file read without its label whose header is found, not declared, got the
            // label's value at its place in the header line (no one knew it was the
            // header then): the label's name goes there, as in a declared header.
            if let missingLabel, !names.isEmpty {
                let at = min(missingLabel.field ?? names.count - 1, names.count - 1)
                if names[at] == missingLabel.value && !names.contains(missingLabel.headerValue) { names[at] = missingLabel.headerValue }
            }
            header = names
            headerFound = true
            headerLine = lineNumber
            try refuseLabelTwice()
            try findKept(fields: names.count)
            try findRowNames()
            try checkColumnPlaces()
            try establish(fieldCount: header!.count, line: lineNumber)
        } else if let width = inputWidth ?? declaredWidth {
            // The fields a row of this width has: with the text columns known, or none (a
            // first row with text then gives another width, an error naming it).
            let text = format.textIndicators == 0 ? 0 : givenText?.columns.count ?? 0
            let ignored = Set(format.ignoredColumns).count, flagged = givenText?.flagged.count ?? 0
            try establish(fieldCount: width + 1 + ignored - text * (format.textIndicators - 1) - flagged, line: nil)
            fieldCountFromWidth = true
        }
        // A file without a header: chosen before its first row is parsed.
        try chooseLabelColumn()
    }

    /// Refuses rows read without their label whose header names the label column besides
    /// the placeholder put in for it: the file has the column (with another field count
    /// than the model's header, else it is read as `--labelled` reads it), and every
    /// check after this one would name a column out of place for it.
    private func refuseLabelTwice() throws(DataError) {
        guard let missingLabel, let header, header.count(where: { $0 == missingLabel.headerValue }) > 1 else { return }
        throw .labelColumnInRowsToPredict(at: DataLocation(source: name, line: headerLine), name: missingLabel.headerValue)
    }

    /// The names of a header line (`lineNumber`'s), refused when one is not UTF-8 text:
    /// they are saved with the model.
    private func headerNames(_ line: UnsafeBufferPointer<UInt8>) throws(DataError) -> [String] {
        let count = parser.split(line)
        var names: [String] = []
        for field in 0..<count { names.append(try parser.validText(field, in: line, lineNumber: lineNumber)) }
        return names
    }

    /// Why the label column is the one read, when the reader chose it
    /// (`CSVFormat.choosesLabelColumn`): nil until the first row or header shows the file,
    /// and when a label column was given.
    public private(set) var labelColumnChoice: LabelColumnChoice?

    /// How the reader chose a label column that was not given.
    public enum LabelColumnChoice: String, Sendable {
        /// The first column: no header name marks another, and its values recur (or
        /// the last's do not).
        case first
        /// An ARFF file's last attribute, its class by Weka's convention.
        case arffLast
        /// The attribute a KEEL file's `@outputs` line names.
        case arffOutputs
        /// An svmlight (LIBSVM) file's label, each row's first field.
        case svmlight
        /// The one column of the header named as a label is (`CSVFormat.labelNames`).
        case named
        /// The last column: no name marks the label, the first column's values in the
        /// rows ahead are all different (an identifier, or a measurement), and the last
        /// column's recur (at most half as many distinct values as rows).
        case lastRecurring
    }

    /// Chooses the label column that was not given, from what the file shows once its
    /// kind and header are known (`CSVFormat.choosesLabelColumn`). A file whose header
    /// gives one column alone, not the first, a name of `CSVFormat.labelNames` (`label`,
    /// `class`, …) takes that column; the first stands otherwise. Until 2026-12-05 a header of
    /// `a,b,class` streamed `a` as the label, each of its values a class; and an ARFF
    /// file's class was looked up by opening the file a second time before the stream
    /// read it, which emptied a pipe (`csv:/dev/stdin`, `csv:<(zcat …)`) or left a named
    /// pipe's reader waiting for a writer that had gone.
    ///
    /// Without a name to go by, a first column whose values in the rows ahead are all
    /// different (Kaggle's `Id`, a timestamp, a measurement of many digits) cannot be a
    /// label whose classes are learned, since no class comes twice; when the last
    /// column's values recur, the last is the label, as Weka, UCI's files and most
    /// exports keep it. Called before any row is parsed (it reads rows ahead).
    private func chooseLabelColumn() throws(DataError) {
        guard format.choosesLabelColumn, labelOverride == nil else { return }
        format.choosesLabelColumn = false
        if svmlight != nil {
            format.labelColumn = .first
            labelColumnChoice = .svmlight
            return
        }
        if let arff {
            if let outputs = arff.outputs, outputs.count == 1 {
                format.labelColumn = .name(outputs[0])
                labelColumnChoice = .arffOutputs
            } else {
                format.labelColumn = .last
                labelColumnChoice = .arffLast
            }
            return
        }
        labelColumnChoice = .first
        let ignored = Set(format.ignoredColumns)
        func isIgnored(_ field: Int) -> Bool {
            ignored.contains(String(field)) || header.map { field < $0.count && ignored.contains($0[field]) } == true
        }
        // The first column of a file with R's row names is its first named one.
        let first = (rowNames || givenText?.rowNames == true) && header?.first == "" ? 1 : 0
        if let header {
            let named = header.indices.filter { field in
                !isIgnored(field) && CSVFormat.labelNames.contains(header[field].trimmingCharacters(in: .whitespaces).lowercased())
            }
            if named.count == 1 && named[0] != first {
                format.labelColumn = .name(header[named[0]])
                labelColumnChoice = .named
            }
            if !named.isEmpty { return }
        }
        let rows = try textsAhead { $0 > first + 1 ? [first, $0 - 1] : [] }
        guard let fields = header?.count ?? rows.first?.count else { return }
        let chosen = rows.filter { $0.count == fields && $0.texts.count == 2 }
        let firstValues = chosen.map { $0.texts[0] }, lastValues = chosen.map { $0.texts[1] }
        guard !isIgnored(fields - 1), firstValues.count >= 16, Set(firstValues).count == firstValues.count,
              !firstValues.contains(where: CSVFormat.marksMissing), !lastValues.contains(where: CSVFormat.marksMissing),
              Set(lastValues).count * 2 <= lastValues.count else { return }
        format.labelColumn = .last
        labelColumnChoice = .lastRecurring
    }

    /// Fixes the number of fields, the label column and the width.
    private func establish(fieldCount count: Int, line: Int?) throws(DataError) {
        guard count >= 2 else {
            let separator = CSVFormat.describe(separator: separator)
            // The line's number, and what makes a first line of one field (a comment line,
            // another separator; Excel's `sep=;` is read by `separatorLine`): before, the
            // error named neither.
            throw .wrongDimensions(path: line.map { "\(name), line \($0)" } ?? name,
                                   expected: "at least 2 columns (a label and a feature) separated by \(separator) (are the fields separated "
                                       + "by another character? --separator ';', tab, '|' or space says which; a line of notes is read as a row "
                                       + "unless it opens the file with '# ': remove it)", actual: [count])
        }
        try chooseLabelColumn()
        switch format.labelColumn {
        case _ where labelOverride != nil: labelIndex = labelOverride!
        case .first: labelIndex = 0
        case .last: labelIndex = count - 1
        case .index(let i):
            guard i < count else {
                throw .labelColumnNotFound(source: name, column: "index \(i)",
                                           available: "the rows have \(count) columns, indices 0...\(count - 1)")
            }
            labelIndex = i
        case .name(let wanted):
            guard let i = try field(named: wanted, option: "--label-column") else {
                guard let header else {
                    throw .labelColumnNotFound(source: name, column: "'\(wanted)'",
                                               available: "the file is read without a header; give the label column by its 0-based index")
                }
                let names = header.prefix(20).map { "'\($0)'" }.joined(separator: ", ")
                throw .labelColumnNotFound(source: name, column: "'\(wanted)'", available: "the header names \(names)")
            }
            labelIndex = i
        }
        // The first column of a file with R's row names is its first named one.
        if labelIndex == 0 && (rowNames || givenText?.rowNames == true) && header?.first == "" { labelIndex = 1 }
        fieldCount = count
        try findIgnored(count: count)
        if parser.keep.isEmpty { try findKept(fields: count) }
        if format.textIndicators == 0 {
            try decide(text: [], line: line)
        } else if let given = givenText {
            for column in given.columns where column < 0 || column >= count || column == labelIndex || ignoredFields.contains(column) {
                if column == labelIndex {
                    throw .labelOnFeature(source: name, column: format.labelColumn.description, field: column,
                                          name: header.flatMap { column < $0.count ? $0[column] : nil })
                }
                throw .wrongDimensions(
                    path: name, expected: "a text column at field \(column) besides the label (field \(labelIndex)) among \(count)",
                    actual: [count])
            }
            try decide(text: given.columns, values: given.values, line: line)
        }
        // Otherwise the first data row decides which columns are text.
    }

    /// The field the header (or, in a file without it, the learned one) names `wanted`
    /// (nil: none, or no header); refused when it
    /// names two or more, which only an index (`option`) tells apart.
    ///
    /// A name is matched exactly, else without case and surrounding spaces when that
    /// finds one field only: `--label-column class` over a header `Class` was refused,
    /// while the check of a saved model's column order already compares names so.
    private func field(named wanted: String, option: String) throws(DataError) -> Int? {
        // A file without the header the model learned: its names place the column.
        guard let header = header ?? (headerAbsent ? givenText?.names : nil) else { return nil }
        let fields = header.indices.filter { header[$0] == wanted }
        guard fields.count < 2 else {
            throw .repeatedColumnName(at: DataLocation(source: name, line: headerLine), name: wanted, fields: fields, option: option)
        }
        return Self.field(named: wanted, in: header)
    }

    /// The field of `header` named `wanted`: exactly, else without case and surrounding
    /// spaces when that finds one field only (nil: none).
    public static func field(named wanted: String, in header: [String]) -> Int? {
        if let field = header.firstIndex(of: wanted) { return field }
        let key = columnKey(wanted)
        let near = header.indices.filter { columnKey(header[$0]) == key }
        return near.count == 1 ? near[0] : nil
    }

    /// Resolves ``keptColumns`` to fields of the line as split, the label's placeholder
    /// included (``readWithoutLabelColumn(placeholder:)``): by the file's own header (or,
    /// without one, the learned names), else a 0-based index of the file's fields, or
    /// `first` or `last` of them (the label's placeholder not counted). Called
    /// once the header is read, before the learned columns are placed by name, so a
    /// column the model did not learn can be kept.
    private func findKept(fields: Int) throws(DataError) {
        guard !keptColumns.isEmpty else { return }
        let placeholder = inserting ? missingLabel!.field.map { min($0, fields - 1) } ?? fields - 1 : nil
        let own = fields - (placeholder == nil ? 0 : 1)
        // A file without the header the model learned is read under the learned names.
        let header = self.header ?? (headerAbsent ? givenText?.names : nil)
        var kept: [Int] = []
        for wanted in keptColumns {
            var field = try self.field(named: wanted, option: "--keep-columns")
            if field != nil && field == placeholder { field = nil }
            // `first` and `last`, as `--label-column` takes them, where no column has the name.
            let position = Int(wanted) ?? (wanted == "first" ? 0 : wanted == "last" ? own - 1 : nil)
            if field == nil, let index = position, index >= 0, index < own {
                field = placeholder.map { index >= $0 ? index + 1 : index } ?? index
            }
            guard let field else {
                let names = header?.enumerated().filter { $0.offset != placeholder }.map { "'\($0.element)'" }
                let listed = names.map { $0.prefix(20).joined(separator: ", ") + ($0.count > 20 ? ", … (\($0.count) in all)" : "") }
                let available = self.header != nil ? "the header names \(listed!)"
                    : "the rows have \(own) columns, indices 0...\(own - 1), and no header"
                        + (listed.map { "; the model learned them as \($0)" } ?? "")
                throw .keptColumnNotFound(source: name, column: "'\(wanted)'", available: available)
            }
            kept.append(field)
        }
        parser.keep = kept
        keptNames = zip(keptColumns, kept).map { wanted, field in
            header.map { field < $0.count ? $0[field] : wanted } ?? wanted
        }
    }

    /// Resolves `format.ignoredColumns`: a header name, else a 0-based index.
    private func findIgnored(count: Int) throws(DataError) {
        // R's row names, unless the learned columns were placed by name without them.
        ignoredFields = (rowNames || givenText?.rowNames == true) && header?.first == "" ? [0] : []
        for wanted in format.ignoredColumns {
            let field = try self.field(named: wanted, option: "--ignore-columns")
                ?? Int(wanted).flatMap { $0 >= 0 && $0 < count ? $0 : nil }
            guard let field, field != labelIndex else {
                let available = header.map { names in
                    "the header names " + names.prefix(20).map { "'\($0)'" }.joined(separator: ", ")
                } ?? "the rows have \(count) columns, indices 0...\(count - 1), and no header"
                throw .ignoredColumnNotFound(source: name, column: "'\(wanted)'",
                                             available: field == labelIndex ? "it is the label column" : available)
            }
            ignoredFields.insert(field)
        }
    }

    /// Fixes the text columns, and with them the width.
    private func decide(text columns: [Int], values: [[String]] = [], line: Int?) throws(DataError) {
        let count = fieldCount!
        var slots = [Int](repeating: -1, count: count)
        for (k, column) in columns.sorted().enumerated() { slots[column] = k }
        for field in ignoredFields { slots[field] = -2 }
        // Numeric fields whose missing values get an indicator: the saved layout's, or
        // those with a missing mark in the rows read ahead.
        let flagged = givenText?.flagged
            ?? Set((gapsAhead ?? []).filter { $0.line > (headerLine ?? 0) }.map(\.field)).sorted()
        flaggedFields = flagged.filter { $0 >= 0 && $0 < count && $0 != labelIndex && slots[$0] == -1 }
        var feature = 0
        var featureOf = [Int](repeating: -1, count: count)
        for field in 0..<count where field != labelIndex && slots[field] != -2 {
            featureOf[field] = feature
            feature += slots[field] >= 0 ? format.textIndicators : 1
        }
        flaggedFeatures = flaggedFields.map { featureOf[$0] }
        numericFieldOf = Dictionary(uniqueKeysWithValues: (0..<count).filter { featureOf[$0] >= 0 && slots[$0] == -1 }.map { (featureOf[$0], $0) })
        let width = count - 1 - ignoredFields.count - columns.count + columns.count * format.textIndicators + flaggedFields.count
        if let expected = inputWidth ?? declaredWidth, expected != width {
            throw .widthMismatch(at: DataLocation(source: name, line: line), expected: expected, actual: width)
        }
        if let given = givenText?.flagged, flaggedFields != given {
            throw .wrongDimensions(
                path: name, expected: "numeric columns at fields \(given) whose missing values are flagged, besides the label (field \(labelIndex)) among \(count)",
                actual: [count])
        }
        blankFields = Set((givenText?.blank ?? Array(blankFields)).filter { $0 >= 0 && $0 < count && $0 != labelIndex && slots[$0] == -1 })
        ownValues = columns.indices.map { k in k < values.count ? Array(values[k].prefix(format.textIndicators)) : [] }
        indicatorOf = ownValues.map { list in Dictionary(list.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first }) }
        textSlot = slots
        hasSpecialFields = !columns.isEmpty || !ignoredFields.isEmpty
        gapsAhead = nil
        if format.imputesMissing {
            if var given = givenImputation, given.sums.count == width, given.missing.count == width {
                // Settled fills that do not fit the width (a crafted position) are dropped:
                // the stream's means fill its gaps, as in a position saved before them.
                if !given.settledFits(width: width) { given.settled = nil }
                imputation = given
            } else {
                imputation = CSVImputation(width: width)
            }
        }
        inputWidth = width
        filled = [Bool](repeating: false, count: width)
        scratch = .allocate(capacity: width)
    }

    /// Narrows the columns that count up by 1 to those this row continues.
    private func watchCounting(_ values: UnsafeMutableBufferPointer<Float>) {
        if countedRows == 0 {
            var feature = 0
            for field in 0..<fieldCount! where field != labelIndex {
                let slot = textSlot![field]
                if slot == -2 { continue }
                if slot >= 0 { feature += format.textIndicators; continue }
                if !filled[feature] && values[feature] == values[feature].rounded() {
                    counting.append((field, feature))
                }
                feature += 1
            }
        } else {
            counting.removeAll { column in
                values[column.feature] != countingLast[column.feature] + 1 || filled[column.feature]
            }
        }
        countedRows += 1
        if countingLast.count != inputWidth! { countingLast = [Float](repeating: 0, count: inputWidth!) }
        for column in counting { countingLast[column.feature] = values[column.feature] }
    }

    /// Adds a good row's values to the sums; its missing values count as missing.
    private func accumulate(_ values: UnsafeMutableBufferPointer<Float>) {
        imputation!.rows += 1
        imputation!.filled += filledInRow.count
        imputation!.sums.withUnsafeMutableBufferPointer { sums in
            if filledInRow.isEmpty {
                for k in 0..<sums.count { sums[k] += Double(values[k]) }
            } else {
                for k in 0..<sums.count where !filled[k] { sums[k] += Double(values[k]) }
            }
        }
        for k in filledInRow { imputation!.missing[k] += 1 }
    }

    /// The indicator of `value` in text column `column`: its own (a new value gets the next
    /// free one while the column has one and values are learned), or a shared one; nil for
    /// a value a saved model never saw in a column whose values all had their own
    /// indicators: no shared indicator learned anything there, and the hashed one is a
    /// learned value's (`purple` was read as `green`, with a score of 1). It sets none,
    /// as a missing mark, and is counted in ``unseenText``.
    private func indicator(of value: String, column: Int) -> Int? {
        if let own = indicatorOf[column][value] { return own }
        if ownValues[column].count < format.textIndicators {
            guard learnsColumns else {
                unseenText.count += 1
                if !unseenText.examples.contains(where: { $0.value == value }) {
                    if unseenText.examples.count < 5 {
                        unseenText.examples.append((column: textColumns?[column] ?? column, value: value))
                    } else {
                        unseenText.more = true
                    }
                }
                return nil
            }
            ownValues[column].append(value)
            indicatorOf[column][value] = ownValues[column].count - 1
            return ownValues[column].count - 1
        }
        return CSVFormat.indicator(of: value, among: format.textIndicators)
    }

    /// Text values a saved model never saw (read by a source that does not learn columns,
    /// as `moe eval` and `moe predict` read): each reads as a missing mark.
    public struct UnseenText: Sendable {
        /// Fields holding one (a row with two counts twice).
        public var count = 0
        /// The first few distinct ones, with their 0-based field.
        public var examples: [(column: Int, value: String)] = []
        /// Whether there were other distinct ones.
        public var more = false
    }

    public private(set) var unseenText = UnseenText()

    /// The text columns of a first data row: fields that are neither numbers nor missing
    /// marks, and those the rows read ahead show to be text (`textColumnsAhead()`).
    private func textColumns(of line: UnsafeBufferPointer<UInt8>, lineNumber: Int) -> [Int] {
        (0..<fieldCount!).filter { field in
            guard field != labelIndex, !ignoredFields.contains(field) else { return false }
            if textAhead.contains(field) { return true }
            if numbersAhead.contains(field) { return false }
            // An infinite value, or one beyond Float's range, is a number refused with its
            // line (as on any later row), not the first level of a column of categories.
            if !isText(field, in: line, lineNumber: lineNumber) { return false }
            return !CSVFormat.marksMissing(parser.text(field, in: line))
        }
    }

    /// The fields holding a missing mark in the first ``typeLookahead`` non-blank lines,
    /// with their line numbers (a header among them is left out once it is known): a
    /// numeric column among them gets an indicator of its missing values, so that a value
    /// missing for a reason (a questionnaire's version, a test not taken) says so, whatever
    /// mean it takes. Lines of another number of fields than the first are passed over.
    private func gapsInRowsAhead() throws(DataError) -> [(field: Int, line: Int)] {
        var gaps: [(field: Int, line: Int)] = []
        var fields: Int?
        let rows = try rowsAhead(Self.typeLookahead)
        for (k, r) in rows.enumerated() {
            let number = ahead[r].number
            ahead[r].bytes.withUnsafeBufferPointer { all in
                let line = UnsafeBufferPointer(rebasing: all[0 ..< (all.count - 1)])
                let count = parser.split(line)
                if fields == nil { fields = count }
                // A first line one field short (a header over R's row names): the rows' count.
                if k == 1 && count == fields! + 1 { fields = count }
                guard count == fields else { return }
                for field in 0..<count where (try? parser.number(field, in: line, lineNumber: number)) == nil
                    && CSVFormat.marksMissing(parser.text(field, in: line)) {
                    gaps.append((field, number))
                }
            }
        }
        return gaps
    }

    /// Fields whose kind the first data row does not tell, decided by the next
    /// ``typeLookahead`` rows (of as many fields):
    /// - missing in the first row: text when its first value after is text, so the value
    ///   missing first does not make a column of categories numeric (mlbench's
    ///   HouseVotes84, `y` / `n` with gaps, stopped at its second row: "the field 'y' is
    ///   not a number"); blank in all of them, its first value in the next
    ///   ``blankColumnLookahead`` rows decides, and it is numeric when there is none;
    /// - a number in the first row: text when at least two of its fields ahead are text and
    ///   it holds at most `textIndicators` distinct values there, a category whose levels
    ///   look like numbers (mlmRev's contraception survey, living children `0`, `1`, `2`,
    ///   `3+`, stopped at its second row). A single text field, or text among more distinct
    ///   values (a column of measurements), is a bad field, named when its row is read;
    /// - text in the first row (the second set): numbers when its fields ahead hold more
    ///   than `textIndicators` distinct numbers and at most one text field, a column of
    ///   measurements whose first field is bad, named when its row is read. Before
    ///   2026-12-04 one stray word at the top (`n.a.`, `--`) made a column of 999
    ///   measurements a category of 16 hashed indicators: a two-class file that scores
    ///   0.92 scored 0.50.
    private func textColumnsAhead() throws(DataError) -> (text: Set<Int>, numbers: Set<Int>) {
        let rows = try rowsAhead(Self.typeLookahead)
        var undecided: Set<Int> = [], text: Set<Int> = []
        // Fields missing so far take the kind of their first value in `line`.
        func settleBlank(_ line: UnsafeBufferPointer<UInt8>, _ number: Int) {
            for field in undecided where !CSVFormat.marksMissing(parser.text(field, in: line)) {
                undecided.remove(field)
                if isText(field, in: line, lineNumber: number) { text.insert(field) }
            }
        }
        // Number-first fields: their distinct values while at most `textIndicators`, and
        // how many of their fields were text.
        var levels: [Int: Set<String>] = [:], textFields: [Int: Int] = [:]
        // Text-first fields: their distinct numbers ahead (up to more than `textIndicators`)
        // and their text fields ahead.
        var numbersSeen: [Int: Set<String>] = [:], wordsAhead: [Int: Int] = [:]
        let most = format.textIndicators
        var fields: Int?
        for r in rows {
            let number = ahead[r].number
            ahead[r].bytes.withUnsafeBufferPointer { all in
                let line = UnsafeBufferPointer(rebasing: all[0 ..< (all.count - 1)])
                let count = parser.split(line)
                guard let expected = fields else {
                    fields = count
                    for field in 0..<count {
                        let value = parser.text(field, in: line)
                        if CSVFormat.marksMissing(value) {
                            undecided.insert(field)
                        } else if (try? parser.number(field, in: line, lineNumber: number)) != nil {
                            levels[field] = [value]
                        } else if isText(field, in: line, lineNumber: number) {
                            numbersSeen[field] = []
                        }
                    }
                    return
                }
                guard count == expected else { return }
                settleBlank(line, number)
                for field in Array(levels.keys) {
                    let value = parser.text(field, in: line)
                    if CSVFormat.marksMissing(value) { continue }
                    if isText(field, in: line, lineNumber: number) { textFields[field, default: 0] += 1 }
                    if levels[field]!.insert(value).inserted && levels[field]!.count > most { levels[field] = nil }
                }
                for field in Array(numbersSeen.keys) {
                    let value = parser.text(field, in: line)
                    if CSVFormat.marksMissing(value) { continue }
                    if isText(field, in: line, lineNumber: number) {
                        wordsAhead[field, default: 0] += 1
                        if wordsAhead[field]! > 1 { numbersSeen[field] = nil }
                    } else if numbersSeen[field]!.count <= most {
                        numbersSeen[field]!.insert(value)
                    }
                }
            }
            if fields != nil && undecided.isEmpty && levels.isEmpty && numbersSeen.isEmpty { break }
        }
        // Fields still blank in every row read: their first value further on decides
        // (`blankColumnLookahead`). Only these are looked at there, so the other kinds are
        // those 256 rows give.
        if let expected = fields, !undecided.isEmpty {
            typeRowsAhead = ahead.count
            var looked = rows.count, bytes = ahead.reduce(0) { $0 + $1.bytes.count }
            // 64 rows at a time, so the bytes read ahead pass the bound by 64 lines at most.
            while !undecided.isEmpty && looked < Self.blankColumnLookahead && bytes < Self.blankColumnBytes {
                let further = try rowsAhead(min(looked + 64, Self.blankColumnLookahead))
                if further.count <= looked { break }
                for r in further[looked...] where !undecided.isEmpty {
                    let number = ahead[r].number
                    bytes += ahead[r].bytes.count
                    ahead[r].bytes.withUnsafeBufferPointer { all in
                        let line = UnsafeBufferPointer(rebasing: all[0 ..< (all.count - 1)])
                        if parser.split(line) == expected { settleBlank(line, number) }
                    }
                }
                looked = further.count
            }
            // The label and the columns left out are known once the first row is read
            // (`decide(text:)` keeps the numeric ones).
            blankFields = undecided
        }
        for (field, count) in textFields where count >= 2 && levels[field] != nil { text.insert(field) }
        let numbers = Set(numbersSeen.filter { $0.value.count > most }.keys)
        return (text, numbers)
    }

    /// The text columns `moe stream` names, from the first row and the rows read ahead.
    ///
    /// First, the text columns whose values are numbers, plain or in dress (``looksLikeDressedNumber(_:)``): at least 20 values,
    /// nine in ten of them so, and more distinct ones than a column has indicators. Such a column is
    /// read as categories, most of its values sharing hashed indicators: an export whose
    /// amounts read `"1,852.18"` scored 0.79 where the same amounts as numbers score 0.96.
    /// `moe stream` names them. Not read as numbers: `1,234` is a thousand and more in one
    /// locale and a little more than one in another.
    ///
    /// Second, the text columns of another value in nearly every row (at least 20 values,
    /// nine in ten of them distinct, more than a column has indicators), numbers in dress
    /// aside: a date (`2012-01-05`), a name, an identifier. As a category such a column
    /// tells the rows apart, not the classes, and costs what it adds in noise: 300 rows of
    /// two classes scored 0.923 prequential with a date column and 0.997 without it.
    /// `moe stream` says so, with the `--ignore-columns` that leaves it out; it is not left
    /// out unasked, as a counting column is not.
    private func textColumnsToName(first line: UnsafeBufferPointer<UInt8>) -> (dressed: [Int], rowLike: [Int]) {
        guard let columns = textColumns, !columns.isEmpty, let expected = fieldCount else { return ([], []) }
        var dressed: [Int: Int] = [:], values: [Int: Int] = [:], distinct: [Int: Set<String>] = [:]
        var seen: [Int: Set<String>] = [:]
        func count(_ fields: CSVRowParser, _ line: UnsafeBufferPointer<UInt8>) {
            for field in columns {
                let value = fields.text(field, in: line)
                if CSVFormat.marksMissing(value) { continue }
                values[field, default: 0] += 1
                seen[field, default: []].insert(value)
                if Self.looksLikeDressedNumber(value) || Float(value) != nil {
                    dressed[field, default: 0] += 1
                    if distinct[field, default: []].count <= format.textIndicators { distinct[field, default: []].insert(value) }
                }
            }
        }
        count(parser, line)
        // A copy splits the rows ahead: the parser keeps the first row's fields.
        var probe = parser
        for r in ahead.indices.prefix(typeRowsAhead ?? ahead.count) {
            ahead[r].bytes.withUnsafeBufferPointer { all in
                let row = UnsafeBufferPointer(rebasing: all[0 ..< (all.count - 1)])
                guard !isBlank(row), probe.split(row) == expected else { return }
                count(probe, row)
            }
        }
        let numberLike = columns.filter { field in
            let n = values[field] ?? 0, d = dressed[field] ?? 0
            return n >= 20 && 10 * d >= 9 * n && (distinct[field]?.count ?? 0) > format.textIndicators
        }
        let rowLike = columns.filter { field in
            let n = values[field] ?? 0, k = seen[field]?.count ?? 0
            return !numberLike.contains(field) && n >= 20 && 10 * k >= 9 * n && k > format.textIndicators
        }
        return (numberLike, rowLike)
    }

    /// Whether `text` is a number once a currency sign (`$`, `€`, `£`, `¥`), a percent
    /// sign, spaces and the separators of thousands (`,`, `'`, `_`) are taken out, and
    /// held something of the kind: `1,852.18`, `$7.58`, `30%`, `-1,28`.
    public static func looksLikeDressedNumber(_ text: String) -> Bool {
        let dress: Set<Character> = ["$", "€", "£", "¥", "%", ",", "'", "_", " "]
        guard text.contains(where: { dress.contains($0) }) else { return false }
        let bare = text.filter { !dress.contains($0) }
        return bare.contains(where: \.isNumber) && Double(bare) != nil
    }

    /// Whether a field is text: not a number (a value too large for a Float, or infinite,
    /// is a number that is refused, not text). Bytes that are not UTF-8 are text, refused
    /// when their row or header is read.
    private func isText(_ field: Int, in line: UnsafeBufferPointer<UInt8>, lineNumber: Int, dress: Bool = true) -> Bool {
        do {
            _ = try parser.number(field, in: line, lineNumber: lineNumber, dress: dress)
            return false
        } catch {
            switch error {
            case .nonNumericField, .notUTF8: return true
            default: return false
            }
        }
    }

    /// Rows read ahead to find the kind of a column whose first row does not tell it.
    public static let typeLookahead = 256

    /// Rows read ahead, at most, for a column blank in all of the first ``typeLookahead``
    /// (a questionnaire's item asked of one group, a fifth vehicle's type filled in only
    /// when five were involved): its first value there decides its kind. Until 2026-12-06
    /// such a column was numeric, and a survey in class order stopped at line 944 ("the
    /// field 'Not pregnant' is not a number"). Reading ahead for it also stops once the
    /// lines read ahead hold ``blankColumnBytes`` bytes (within 64 lines), and a pipe's
    /// first rows wait for those lines.
    public static let blankColumnLookahead = 4096
    public static let blankColumnBytes = 16 << 20

    private func parse(_ line: UnsafeBufferPointer<UInt8>) throws(DataError) -> Row {
        if isBlank(line) { return .blank }
        if !rowFaults.isEmpty, let fault = rowFaults.removeValue(forKey: lineNumber) { return .bad(fault) }
        let lineNumber = self.lineNumber
        let count = parser.split(line)
        if count < 0 {
            // Columns placed by name: a row of another width than the file's header.
            return .bad(.raggedRow(at: DataLocation(source: name, line: lineNumber), expectedColumns: parser.fileFields,
                                   actualColumns: parser.misfitFields))
        }
        if fieldCount == nil {
            try establish(fieldCount: count, line: lineNumber)
            // Split before the kept columns were found.
            if !parser.keep.isEmpty { parser.captureKept(line) }
        }
        let expected = fieldCount!
        guard count == expected else {
            let at = DataLocation(source: name, line: lineNumber)
            // Read without its label, the line also holds the label's placeholder, which a
            // separator that splits nothing puts after its one field.
            let reads = missingLabel == nil ? expected : expected - 1
            // Named against the model only when a model gave the width as the stream began:
            // resumed, a paused stream's rows were named so ("the saved model reads rows of
            // 3", "the declared input width of the network") where read in one go they
            // were ragged rows, and a row its separator left whole stopped it.
            let fromModel = fieldCountFromWidth && widthFromModel
            if count == expected - reads + 1, fromModel, let fits = separator(splitting: line, into: reads) {
                throw .otherSeparator(at: at, separator: separator, fits: fits, fields: reads)
            }
            if widthFromModel && !hasSpecialFields {
                return .bad(.widthMismatch(at: at, expected: expected - 1, actual: count - 1))
            }
            return .bad(fromModel
                ? .savedColumnsMismatch(at: at, expectedColumns: expected, actualColumns: count)
                : .raggedRow(at: at, expectedColumns: expected, actualColumns: count))
        }
        if textSlot == nil {
            try decide(text: textColumns(of: line, lineNumber: lineNumber), line: lineNumber)
            if learnsColumns && givenText == nil {
                (numberLikeText, rowLikeText) = textColumnsToName(first: line)
            }
        }
        for k in filledInRow { filled[k] = false }
        filledInRow.removeAll(keepingCapacity: true)
        // Locals, so the hot loop touches no class property.
        let values = scratch!, fields = parser, labelField = labelIndex, text = textSlot!
        let special = hasSpecialFields, indicators = format.textIndicators
        var k = 0
        for field in 0..<count where field != labelField {
            if special {
                // A column left out, or a text column's indicators.
                let slot = text[field]
                if slot == -2 { continue }
                if slot >= 0 {
                    for j in k..<(k + indicators) { values[j] = 0 }
                    let value: String
                    do {
                        value = try fields.validText(field, in: line, lineNumber: lineNumber)
                    } catch {
                        return .bad(error)
                    }
                    if !CSVFormat.marksMissing(value), let j = indicator(of: value, column: slot) { values[k + j] = 1 }
                    k += indicators
                    continue
                }
            }
            do {
                values[k] = try fields.number(field, in: line, lineNumber: lineNumber)
            } catch {
                guard let known = imputation else { return .bad(error) }
                let written = fields.text(field, in: line)
                if !CSVFormat.marksMissing(written) {
                    // Text where the column has held no number yet (`TextInBlankColumn`).
                    guard case .nonNumericField = error, blankFields.contains(field),
                          known.rows == known.missing[k] else { return .bad(error) }
                    noteTextInBlank(field: field, line: lineNumber, value: written)
                }
                if learnsColumns { imputation!.settleFill(k) }
                values[k] = imputation!.fill(k)
                filledInRow.append(k)
                filled[k] = true
            }
            k += 1
        }
        for feature in flaggedFeatures {
            values[k] = filled[feature] ? 1 : 0
            k += 1
        }
        if !readsLabels {
            if imputation != nil && learnsColumns { accumulate(values) }
            if countedRows < Self.countingRows { watchCounting(values) }
            return .sample(label: 0)
        }
        var map = labelMap
        do {
            let label = try map.classIndex(
                of: parser.validText(labelIndex, in: line, lineNumber: lineNumber),
                at: DataLocation(source: name, line: lineNumber, column: labelIndex + 1), refusingMissingMarks: true)
            labelMap = map
            if imputation != nil && learnsColumns { accumulate(values) }
            if countedRows < Self.countingRows { watchCounting(values) }
            return .sample(label: label)
        } catch {
            return .bad(error)
        }
    }

    /// Counts text read as missing in a column blank before it.
    private func noteTextInBlank(field: Int, line: Int, value: String) {
        if let k = textInBlankColumns.firstIndex(where: { $0.field == field }) {
            textInBlankColumns[k].count += 1
        } else {
            textInBlankColumns.append(TextInBlankColumn(field: field, line: line, value: value, count: 1))
        }
    }
}

/// True for an empty line or one of spaces and tabs only.
private func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
    line.allSatisfy { $0 == 0x20 || $0 == 0x09 }
}

/// A 64-bit digest of lines in the manner of FNV-1a, eight bytes at a time: per line, each
/// 8-byte little-endian word of it, then its last bytes as one word, then its length, is
/// XORed into the state, which is multiplied by FNV's 64-bit prime. Each step is a
/// bijection of the state for a given word and of the word for a given state, so two runs
/// of lines that differ in one word always differ. A paused stream's record of the rows it
/// read, checked when it resumes on its path. A word at a time, it costs the reading of
/// Fashion-MNIST rows (2.2 kB each) about 8%, where a byte at a time cost 25%
/// (`docs/benchmarks.md`, 5b); the learner reads some 20 times slower than that.
struct RowsDigest: Equatable {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01b3

    mutating func add(_ line: UnsafeBufferPointer<UInt8>) {
        var h = value
        let n = line.count
        if let base = line.baseAddress {
            let raw = UnsafeRawPointer(base)
            var i = 0
            while i + 8 <= n {
                h = (h ^ UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))) &* Self.prime
                i += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(base[i]) << shift
                shift += 8
                i += 1
            }
            h = (h ^ tail) &* Self.prime
        }
        value = (h ^ UInt64(n)) &* Self.prime
    }

    /// Sixteen hexadecimal digits (JSON numbers do not hold 64 bits).
    var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
