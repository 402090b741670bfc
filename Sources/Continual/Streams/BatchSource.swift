import MoE

/// A source of labelled mini-batches: a file read incrementally, standard input, or a
/// data set in memory.
///
/// A learner pulls batches with `next()` until it returns nil. `labelMap` tells how raw
/// labels map to class indices; a source that repeats its data (several passes) says so
/// in each batch's `pass`. `position` is everything needed to continue later: save it
/// with a checkpoint, reopen the same source and call `resume(from:)`. ``StreamDriver``
/// does all of that for every kind of source.
///
/// ```swift
/// var source = try CSVSource(path: "stream.csv.gz", batchSize: 64)
/// while let batch = try source.next() {
///     _ = try learner.observe(features: batch.features, labels: batch.labels, pass: batch.pass)
/// }
/// let saved = source.position
/// ```
///
/// Bad rows throw a `DataError` naming the row (the default), or are skipped and counted
/// in `position.skipped` under `BadRowPolicy.skip`. After a throw the source is finished:
/// `next()` throws the same error again, so a half-read batch never reaches a model.
public protocol BatchSource {
    /// What the source is called in messages (a path, "standard input").
    var name: String { get }
    /// Features per sample: declared, or learned from the first row (nil before it).
    var inputWidth: Int? { get }
    /// How raw labels become class indices; grows as a learned map sees new labels.
    var labelMap: LabelMap { get }
    /// Where the stream is, with the label map and counters: enough to resume.
    var position: StreamPosition { get }
    /// The next batch (at most the batch size, smaller only at the end), or nil when the
    /// stream ends. Throws `DataError.emptyStream` if it ends before any sample.
    mutating func next() throws(DataError) -> Batch?
    /// Continues from a saved position: restores the label map, width and counters and
    /// skips the samples already consumed. Call it before the first `next()`.
    mutating func resume(from position: StreamPosition) throws(DataError)
    /// Samples the whole stream delivers, when the source knows it before reading (a data
    /// set in memory); nil for files and pipes.
    var expectedSamples: Int? { get }
}

extension BatchSource {
    /// Number of classes known so far.
    public var classCount: Int { labelMap.classCount }

    /// Unknown by default.
    public var expectedSamples: Int? { nil }
}

/// What a source does with a bad row (wrong width, non-numeric or non-finite field,
/// undeclared or invalid label).
public enum BadRowPolicy: String, Equatable, Sendable, Codable, CaseIterable {
    /// Throw a `DataError` naming the row (the default).
    case fail
    /// Skip the row and count it in `StreamPosition.skipped`.
    case skip
}

/// Rows skipped under `BadRowPolicy.skip`, counted by reason.
public struct SkippedRows: Equatable, Sendable, Codable {
    /// Rows whose number of fields differs from the others (or from the declared width).
    public var wrongWidth = 0
    /// Rows with a field that is not a number.
    public var nonNumeric = 0
    /// Rows with a NaN or infinite value.
    public var nonFinite = 0
    /// Rows whose label is not a declared class, or cannot be a class.
    public var badLabel = 0
    /// The message of the last skipped row, for logs.
    public var lastMessage: String?

    public init() {}

    /// All skipped rows.
    public var total: Int { wrongWidth + nonNumeric + nonFinite + badLabel }

    /// The counts as a sentence for people: `no rows skipped`, or `3 rows skipped (2 of
    /// the wrong width, 1 with a bad label); the last: <message>`.
    public var summary: String {
        guard total > 0 else { return "no rows skipped" }
        let parts = [(wrongWidth, "of the wrong width"), (nonNumeric, "with a field that is not a number"),
                     (nonFinite, "with a value that is not finite"), (badLabel, "with a bad label")]
            .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
        var text = "\(total) row\(total == 1 ? "" : "s") skipped (\(parts.joined(separator: ", ")))"
        if let lastMessage { text += "; the last: \(lastMessage)" }
        return text
    }

    /// Counts `error` under its reason.
    mutating func count(_ error: DataError) {
        switch error {
        case .raggedRow, .savedColumnsMismatch, .widthMismatch, .unlabelledRowMismatch: wrongWidth += 1
        case .nonNumericField, .svmlightRow(_, _, .value): nonNumeric += 1
        case .svmlightRow(_, _, .features), .jsonRecord(_, _, .record): wrongWidth += 1
        case .jsonRecord(_, _, .value): nonNumeric += 1
        case .nonFiniteValue: nonFinite += 1
        default: badLabel += 1
        }
        lastMessage = error.description
    }
}

/// How far a stream has got: saved with a checkpoint and given back to `resume(from:)`.
public struct StreamPosition: Equatable, Sendable, Codable {
    /// Data rows (samples) read from the input, delivered or skipped; header and blank
    /// lines are not counted. For a data set source over several passes, samples read
    /// over all passes.
    public var rowsRead: Int
    /// Samples delivered in batches.
    public var samplesDelivered: Int
    /// The label map at this point.
    public var labelMap: LabelMap
    /// The input width at this point (nil if no row has been read and none was declared).
    public var inputWidth: Int?
    /// Rows skipped under `BadRowPolicy.skip`.
    public var skipped: SkippedRows
    /// A CSV source's text columns (0-based field indices), once its first row fixed them;
    /// nil before, for other sources, and in positions saved before text was read.
    public var textColumns: [Int]?
    /// For each text column, its values with an indicator of their own, in order.
    public var textValues: [[String]]?
    /// A CSV source's sums of every feature column, for the means that missing values take.
    public var imputation: CSVImputation?
    /// True when a CSV source without a declared header found its first line to be one.
    public var headerFound: Bool?
    /// The separator a CSV source found from its first lines, when not `,` (nil: `,`, one
    /// given, another source, or a position saved before separators were found).
    public var separatorFound: String?
    /// A CSV source's numeric columns (0-based fields) that counted up by exactly 1 from
    /// row to row over the first rows it read (`CSVSource.countingColumns`): a row number
    /// or identifier, left in the features unless `ignoredColumns` names it.
    public var countingColumns: [Int]?
    /// A CSV source's numeric columns (0-based fields) whose missing values have an
    /// indicator, the row's last features (`CSVSource.flaggedColumns`); nil for none, other
    /// sources, and positions saved before missing values were flagged.
    public var flaggedColumns: [Int]?
    /// A CSV source's header names, when it had a header (nil: none, other sources, and
    /// positions saved before names were kept): `moe eval` and `--resume` refuse a file
    /// whose header puts one of them at another place.
    public var columnNames: [String]?
    /// A CSV source's digest of the data lines it read (64-bit FNV-1a, 16 hexadecimal
    /// digits; nil: none read, other sources, and positions saved before it existed): a
    /// stream resumed on its path refuses a file whose first rows are other rows.
    public var rowsDigest: String?
    /// A CSV source's text columns (0-based fields) whose first values were numbers in
    /// dress (`$7.58`, `1,852.18`, `30%`), read as categories (nil: none, other sources,
    /// positions saved before 2026-12-04). Said, not saved for any reading.
    public var numberLikeTextColumns: [Int]?
    /// A CSV source's text columns of another value in nearly every row read ahead (a
    /// date, a name, an identifier), read as categories that tell the rows apart, not the
    /// classes (nil: none, other sources, positions saved before 2026-12-05). Said, not
    /// saved for any reading.
    public var rowLikeTextColumns: [Int]?
    /// A CSV source read for a saved model whose header holds the learned columns in
    /// another order or more columns besides: what was placed by name (nil: read by
    /// place, other sources, positions saved before 2026-12-05's eighth round). Said, not
    /// saved for any reading.
    public var columnsPlacedByName: CSVSource.ColumnPlacement?
    /// True when a CSV source's header named one column fewer than its rows held, and the
    /// first field of each row was taken for its name and left out (`CSVSource.rowNames`;
    /// nil otherwise). A file read for the model finds it again, or, without row names,
    /// is placed by name (`CSVTextLayout.rowNames`).
    public var rowNamesLeftOut: Bool?
    /// True when a model gave a CSV source's width as it began reading (a continued stream,
    /// a saved model's file), rather than its rows (nil: its rows, other sources, positions
    /// saved before 2026-12-05's eighth round): a resumed source names bad rows as the
    /// stream would have read on.
    public var widthFromModel: Bool?
    /// Text found in numeric columns that held no number before it (blank in every row
    /// read ahead to find their kind): read as missing, counted per column (nil: none, or a
    /// position saved before 2026-12-06, when such text stopped the stream).
    public var textInBlankColumns: [CSVSource.TextInBlankColumn]?
    /// A CSV stream's fields blank in every row read ahead to find their kind
    /// (`CSVSource.blankColumnLookahead`), read as numbers: text there reads as missing
    /// while the column has held no number (nil: none, or a position saved before
    /// 2026-12-06).
    public var blankColumns: [Int]?

    /// The header's name of field `field` (0-based), when the file had a header.
    public func columnName(ofField field: Int) -> String? {
        columnNames.flatMap { field < $0.count ? $0[field] : nil }
    }

    /// The values that have an indicator of their own in text column `field` (0-based;
    /// nil: not a text column, or none kept).
    public func textValues(ofField field: Int) -> [String]? {
        guard let slot = textColumns?.firstIndex(of: field), let values = textValues, slot < values.count else { return nil }
        return values[slot]
    }

    public init(rowsRead: Int = 0, samplesDelivered: Int = 0, labelMap: LabelMap = LabelMap(),
                inputWidth: Int? = nil, skipped: SkippedRows = SkippedRows(), textColumns: [Int]? = nil,
                textValues: [[String]]? = nil, imputation: CSVImputation? = nil, headerFound: Bool? = nil,
                separatorFound: String? = nil, countingColumns: [Int]? = nil, flaggedColumns: [Int]? = nil,
                columnNames: [String]? = nil, rowsDigest: String? = nil, numberLikeTextColumns: [Int]? = nil,
                rowLikeTextColumns: [Int]? = nil, columnsPlacedByName: CSVSource.ColumnPlacement? = nil,
                rowNamesLeftOut: Bool? = nil, widthFromModel: Bool? = nil,
                textInBlankColumns: [CSVSource.TextInBlankColumn]? = nil, blankColumns: [Int]? = nil) {
        self.rowsDigest = rowsDigest
        self.textInBlankColumns = textInBlankColumns
        self.blankColumns = blankColumns
        self.widthFromModel = widthFromModel
        self.rowNamesLeftOut = rowNamesLeftOut
        self.columnsPlacedByName = columnsPlacedByName
        self.numberLikeTextColumns = numberLikeTextColumns
        self.rowLikeTextColumns = rowLikeTextColumns
        self.flaggedColumns = flaggedColumns
        self.columnNames = columnNames
        self.headerFound = headerFound
        self.separatorFound = separatorFound
        self.countingColumns = countingColumns
        self.textValues = textValues
        self.imputation = imputation
        self.rowsRead = rowsRead
        self.samplesDelivered = samplesDelivered
        self.labelMap = labelMap
        self.inputWidth = inputWidth
        self.skipped = skipped
        self.textColumns = textColumns
    }

    /// True before any row was read (nothing to skip when the source is reopened).
    public var isAtStart: Bool { rowsRead == 0 && samplesDelivered == 0 }

    /// The CSV columns this position knows: text columns, their values, flagged columns.
    public var csvLayout: CSVTextLayout {
        CSVTextLayout(columns: textColumns ?? [], values: textValues ?? [], flagged: flaggedColumns ?? [], names: columnNames,
                      rowNames: rowNamesLeftOut == true, blank: blankColumns ?? [])
    }
}

extension Dataset {
    /// Reads `source` to its end into one data set (for files that fit in memory).
    public init(reading source: inout some BatchSource, name: String? = nil) throws(DataError) {
        var scalars: [Float] = []
        var labels: [Int] = []
        while let batch = try source.next() {
            scalars += batch.features.scalars
            labels += batch.labels
        }
        let width = source.inputWidth ?? 0
        let map = source.labelMap
        self.init(features: Matrix(rows: labels.count, columns: width, scalars: scalars), labels: labels,
                  classCount: map.classCount, classNames: map.kind == .names ? map.names : nil,
                  name: name ?? source.name)
    }
}
