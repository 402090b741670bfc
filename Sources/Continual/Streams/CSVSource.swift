import Foundation
import MoE

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
    /// The file layout.
    public let format: CSVFormat
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
    private var labelIndex = 0
    private var prepared = false
    private var rowsRead = 0
    private var samplesDelivered = 0
    private var skipped = SkippedRows()
    private var failure: DataError?
    private var scratch: UnsafeMutableBufferPointer<Float>?

    /// Opens the CSV file at `path` (gzip-compressed or plain, whatever its name).
    ///
    /// - Parameters:
    ///   - inputWidth: the declared number of features; rows of another width are bad.
    ///   - labels: declared classes, or a `LabelMap()` that learns them (the default).
    public convenience init(
        path: String, format: CSVFormat = CSVFormat(), batchSize: Int = 128, inputWidth: Int? = nil,
        labels: LabelMap = LabelMap(), badRows: BadRowPolicy = .fail
    ) throws(DataError) {
        self.init(file: try GzipFile(path: path), chunkSize: 1 << 18, format: format, batchSize: batchSize,
                  inputWidth: inputWidth, labels: labels, badRows: badRows)
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
        labels: LabelMap = LabelMap(), badRows: BadRowPolicy = .fail
    ) throws(DataError) -> CSVSource {
        try CSVSource(fileDescriptor: FileHandle.standardInput.fileDescriptor, name: "standard input",
                      format: format, batchSize: batchSize, inputWidth: inputWidth, labels: labels, badRows: badRows)
    }

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
    }

    deinit { scratch?.deallocate() }

    public var position: StreamPosition {
        StreamPosition(rowsRead: rowsRead, samplesDelivered: samplesDelivered, labelMap: labelMap,
                       inputWidth: inputWidth, skipped: skipped)
    }

    public func next() throws(DataError) -> Batch? {
        if let failure { throw failure }
        do {
            return try readBatch()
        } catch {
            failure = error
            throw error
        }
    }

    public func resume(from position: StreamPosition) throws(DataError) {
        precondition(!prepared, "Resume a stream before reading from it")
        if let width = position.inputWidth, let declared = declaredWidth, width != declared {
            throw .widthMismatch(at: DataLocation(source: name), expected: declared, actual: width)
        }
        labelMap = position.labelMap
        inputWidth = position.inputWidth ?? declaredWidth
        skipped = position.skipped
        samplesDelivered = position.samplesDelivered
        try prepare()
        var left = position.rowsRead
        while left > 0 {
            guard let blank = try reader.withNextLine({ line in isBlank(line) }) else { break }
            if !blank { left -= 1 }
        }
        rowsRead = position.rowsRead - left
    }

    // MARK: Reading

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
        while labels.count < batchSize {
            guard let row = try reader.withNextLine({ (line) throws(DataError) in try parse(line) }) else { break }
            switch row {
            case .blank:
                continue
            case .sample(let label):
                rowsRead += 1
                features.append(contentsOf: scratch!)
                labels.append(label)
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

    /// Reads the header, or fixes the width from a declared one.
    private func prepare() throws(DataError) {
        guard !prepared else { return }
        prepared = true
        if format.hasHeader {
            var names: [String]?
            while names == nil {
                guard let line = try reader.withNextLine({ line in isBlank(line) ? nil : headerNames(line) }) else {
                    throw .emptyStream(source: name)
                }
                names = line
            }
            header = names
            try establish(fieldCount: names!.count, line: reader.lineNumber)
        } else if let width = inputWidth ?? declaredWidth {
            try establish(fieldCount: width + 1, line: nil)
        }
    }

    private func headerNames(_ line: UnsafeBufferPointer<UInt8>) -> [String] {
        let count = parser.split(line)
        return (0..<count).map { parser.text($0, in: line) }
    }

    /// Fixes the number of fields, the label column and the width.
    private func establish(fieldCount count: Int, line: Int?) throws(DataError) {
        guard count >= 2 else {
            let separator = format.separator == "\t" ? "tabs" : "'\(format.separator)'"
            throw .wrongDimensions(path: name, expected: "at least 2 columns (a label and a feature) separated by \(separator)", actual: [count])
        }
        switch format.labelColumn {
        case .first: labelIndex = 0
        case .last: labelIndex = count - 1
        case .index(let i):
            guard i < count else {
                throw .labelColumnNotFound(source: name, column: "index \(i)",
                                           available: "the rows have \(count) columns, indices 0...\(count - 1)")
            }
            labelIndex = i
        case .name(let wanted):
            guard let i = header?.firstIndex(of: wanted) else {
                let names = (header ?? []).prefix(20).map { "'\($0)'" }.joined(separator: ", ")
                throw .labelColumnNotFound(source: name, column: "'\(wanted)'", available: "the header names \(names)")
            }
            labelIndex = i
        }
        if let expected = inputWidth ?? declaredWidth, expected != count - 1 {
            throw .widthMismatch(at: DataLocation(source: name, line: line), expected: expected, actual: count - 1)
        }
        fieldCount = count
        inputWidth = count - 1
        scratch = .allocate(capacity: count - 1)
    }

    private func parse(_ line: UnsafeBufferPointer<UInt8>) throws(DataError) -> Row {
        if isBlank(line) { return .blank }
        let lineNumber = reader.lineNumber
        let count = parser.split(line)
        if fieldCount == nil { try establish(fieldCount: count, line: lineNumber) }
        let expected = fieldCount!
        guard count == expected else {
            let at = DataLocation(source: name, line: lineNumber)
            if declaredWidth != nil {
                return .bad(.widthMismatch(at: at, expected: expected - 1, actual: count - 1))
            }
            return .bad(.raggedRow(at: at, expectedColumns: expected, actualColumns: count))
        }
        // Locals, so the hot loop touches no class property.
        let values = scratch!, fields = parser, labelField = labelIndex
        var k = 0
        for field in 0..<count where field != labelField {
            do {
                values[k] = try fields.number(field, in: line, lineNumber: lineNumber)
            } catch {
                return .bad(error)
            }
            k += 1
        }
        var map = labelMap
        do {
            let label = try map.classIndex(
                of: parser.text(labelIndex, in: line),
                at: DataLocation(source: name, line: lineNumber, column: labelIndex + 1))
            labelMap = map
            return .sample(label: label)
        } catch {
            return .bad(error)
        }
    }
}

/// True for an empty line or one of spaces and tabs only.
private func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
    line.allSatisfy { $0 == 0x20 || $0 == 0x09 }
}
