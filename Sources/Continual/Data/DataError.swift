/// Where in the input a problem was found: the file (or "standard input"), and when
/// known the 1-based line of a text file or item of a binary file, and the 1-based column.
public struct DataLocation: Equatable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The file's path, or a name such as "standard input".
    public var source: String
    /// 1-based line of a text file (CSV), counting the header line.
    public var line: Int?
    /// 1-based record of a binary file (an image or label of an IDX file).
    public var item: Int?
    /// 1-based column (field) of a CSV line.
    public var column: Int?

    public init(source: String, line: Int? = nil, item: Int? = nil, column: Int? = nil) {
        self.source = source
        self.line = line
        self.item = item
        self.column = column
    }

    public var description: String {
        var text = source
        if let line { text += ", line \(line)" }
        if let item { text += ", item \(item)" }
        if let column { text += ", column \(column)" }
        return text
    }
}

/// Everything that can be wrong with a data file or a stream of data.
///
/// Every case names the file (or stream) and, where it applies, the line or item and the
/// column (1-based), and the expected and actual width or shape. Bad user data always
/// throws one of these; it never traps and never yields silently wrong values.
public enum DataError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No file at `path`.
    case fileNotFound(path: String)
    /// The file exists but cannot be read (permissions, a directory, an I/O error).
    case unreadable(path: String, reason: String)
    /// A file could not be written.
    case writeFailed(path: String, reason: String)
    /// A data set that comes from a system package is not installed.
    case missingDataset(name: String, path: String, package: String)
    /// A file named `*.gz` that is not gzip.
    case notGzip(path: String)
    /// A gzip stream that zlib cannot decompress (corrupt, cut short, bad checksum).
    case corruptGzip(path: String, reason: String)
    /// An IDX file shorter than its header says.
    case truncatedIDX(path: String, expectedBytes: Int, actualBytes: Int)
    /// An IDX file whose magic number is not the expected one.
    case wrongIDXMagic(path: String, expected: String, actual: UInt32)
    /// Dimensions that do not fit (an IDX header, images and labels of different counts).
    case wrongDimensions(path: String, expected: String, actual: [Int])
    /// A CSV field that is not a number.
    case nonNumericField(at: DataLocation, text: String)
    /// A value that is NaN or infinite (or too large for a Float).
    case nonFiniteValue(at: DataLocation, text: String)
    /// A row whose number of fields differs from the first row's.
    case raggedRow(at: DataLocation, expectedColumns: Int, actualColumns: Int)
    /// A row whose number of fields differs from what a saved model reads (its columns as
    /// it learned them: the label, the features, text and ignored columns), found before
    /// any row of the file set a count.
    case savedColumnsMismatch(at: DataLocation, expectedColumns: Int, actualColumns: Int)
    /// A line that the separator in use leaves whole (one field) where a saved model reads
    /// `fields`, and that another separator (`fits`) splits into exactly that many: the
    /// separator given (or saved) is not the file's. Every row would fail the same way,
    /// so it is a fault of the file, not of one row.
    case otherSeparator(at: DataLocation, separator: Character, fits: Character, fields: Int)
    /// Data whose feature width differs from the declared width (the network's input).
    case widthMismatch(at: DataLocation, expected: Int, actual: Int)
    /// A label that is not one of the declared classes.
    case labelOutOfRange(at: DataLocation, label: String, declared: String)
    /// A label that cannot be a class (a negative number, text where integers were used).
    case invalidLabel(at: DataLocation, label: String, reason: String)
    /// The chosen label column does not exist.
    case labelColumnNotFound(source: String, column: String, available: String)
    /// A column to leave out does not exist, or is the label.
    case ignoredColumnNotFound(source: String, column: String, available: String)
    /// A column to keep beside each answer (`moe predict --keep-columns`) that the file
    /// does not have.
    case keptColumnNotFound(source: String, column: String, available: String)
    /// A column given by name (the label, or one to leave out: `option`) that the header
    /// names at more than one place (0-based `fields`): taking the first was a guess.
    case repeatedColumnName(at: DataLocation, name: String, fields: [Int], option: String)
    /// Rows read without their label column (`moe predict`) under a header that names it
    /// (`name`), with another field count than the model's header: the file has the
    /// column, which `--labelled` reads.
    case labelColumnInRowsToPredict(at: DataLocation, name: String)
    /// A line longer than the reader's bound (probably not a text file).
    case lineTooLong(at: DataLocation, limit: Int)
    /// A quoted field (a quote at the start of a field) that no quote closes before the
    /// end of the file, or within the reader's bound: every line after it would be read
    /// as its text. `at` is the line the record begins on.
    case unclosedQuote(at: DataLocation)
    /// An ARFF file's header or row that cannot be read (`problem`, in words).
    case arff(at: DataLocation, problem: String)
    /// An svmlight (LIBSVM) file that cannot be read as the options say (`problem`, in
    /// words: a label column that names a feature).
    case svmlight(at: DataLocation, problem: String)
    /// An svmlight (LIBSVM) file's row that cannot be read (`problem`, in words): a fault
    /// of the row, which `--skip-bad-rows` skips and counts as `fault` says.
    case svmlightRow(at: DataLocation, problem: String, fault: SVMLightFault)
    /// A JSON file that is not JSON Lines of records (its first line that is not blank is
    /// a JSON list, or opens a JSON document over many lines: `JSONLines`), which is not
    /// read: read as CSV, its keys and values were text.
    case jsonLines(at: DataLocation)
    /// A JSON Lines file's line that is not a record of its columns (`problem`, in words):
    /// a fault of the row, which `--skip-bad-rows` skips and counts as `fault` says.
    case jsonRecord(at: DataLocation, problem: String, fault: JSONFault)
    /// A stream or file with no samples in it.
    case emptyStream(source: String)
    /// A header naming a column the saved model learned from at another place: the
    /// columns were reordered, or one was added or taken out before it (read by place,
    /// every later row would be answered from the wrong columns).
    case columnMoved(at: DataLocation, name: String, field: Int, learnedField: Int, learned: [String])
    /// A header of another width than the learned one that lacks columns the model learned
    /// (`missing`, as the model learned them; `label` when its label column is among them):
    /// read by place, every row would be read from the wrong columns.
    case columnsMissing(at: DataLocation, missing: [String], label: String?, learned: [String])
    /// A label column that falls on a column the model learned as a text feature
    /// (`column`, as given; `field`, 0-based; `name`, the header's name for it, if any):
    /// a file that lacks its label column, or a label column the model did not learn.
    case labelOnFeature(source: String, column: String, field: Int, name: String?)
    /// A header that places the learned columns by name, read with a label column by place
    /// (`column`: first, last, an index) that names one column in this file (`here`) and
    /// another in the rows the model learned (`learned`), when nothing says which file the
    /// place was meant for (`CSVSource.labelColumnPlace`).
    case labelColumnPlaceUnclear(at: DataLocation, column: String, here: String, learned: String)
    /// A label column given by place for this file (`moe eval --label-column 4`) that is a
    /// column the model did not learn, left out when the learned columns are placed by name.
    case labelColumnNotLearned(at: DataLocation, column: String, name: String, learned: [String])
    /// A label, text field or header name that is not UTF-8 text (`problem`): read with
    /// replacement characters, `caf\u{E9}` and `caf\u{E8}` of a Latin-1 file were one class,
    /// and a NUL byte stopped the checkpoint's save after the whole stream was learned.
    case notUTF8(at: DataLocation, problem: TextProblem)
    /// A paused stream resumed on a file with fewer rows than it had read: another file,
    /// or the same one cut short (rows the learner never saw would otherwise be taken as
    /// learned, and the stream would end without a word).
    case shorterThanPaused(source: String, rows: Int, rowsRead: Int)
    /// A paused CSV stream resumed on its path whose first `rowsRead` data rows are not
    /// the rows it read (their digest differs): the file was replaced or edited, and the
    /// rows after them are not the rows that followed.
    case otherRowsThanPaused(source: String, rowsRead: Int)
    /// A row read without its label column (`CSVSource.readWithoutLabelColumn`) whose
    /// fields are not those a saved model reads (`problem`, in words).
    case unlabelledRowMismatch(at: DataLocation, problem: String)

    /// Whether this is a fault of one row, which `BadRowPolicy.skip` (`--skip-bad-rows`)
    /// skips and counts; a fault of the file (corrupt gzip, a missing file, a bad header)
    /// stops the stream whatever the policy.
    public var isRowFault: Bool {
        switch self {
        case .nonNumericField, .nonFiniteValue, .raggedRow, .savedColumnsMismatch, .widthMismatch,
             .labelOutOfRange, .invalidLabel, .notUTF8, .unlabelledRowMismatch, .svmlightRow, .jsonRecord:
            return true
        default:
            return false
        }
    }

    /// What is wrong with an svmlight row, as skipped rows count it (`SkippedRows`).
    public enum SVMLightFault: Equatable, Sendable {
        /// A value that is not a number.
        case value
        /// A label of several classes.
        case label
        /// Its features: out of order, repeated, past the width, or not `index:value`.
        case features
    }

    /// What is wrong with a JSON Lines record, as skipped rows count it (`SkippedRows`).
    public enum JSONFault: Equatable, Sendable {
        /// A value that is a list.
        case value
        /// The line: not a record, a key twice, or a key that is not a column.
        case record
    }

    /// Why a field is not UTF-8 text.
    public enum TextProblem: Equatable, Sendable {
        /// A NUL byte, which no label or name can hold.
        case nul
        /// A byte that cannot start or continue a UTF-8 character (Latin-1's `é` is 0xE9).
        case invalidByte(UInt8)
        /// NUL bytes at every other byte of the line: UTF-16 text.
        case utf16
    }

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): no such file."
        case .unreadable(let path, let reason):
            return "\(path): cannot be read: \(reason)."
        case .writeFailed(let path, let reason):
            return "\(path): cannot be written: \(reason)."
        case .missingDataset(let name, let path, let package):
            return "The \(name) data set is missing: \(path) does not exist. "
                + "Install it with `apt-get install \(package)`, or point to a directory that holds the files."
        case .notGzip(let path):
            return "\(path): the name ends in .gz but the file is not gzip-compressed."
        case .corruptGzip(let path, let reason):
            return "\(path): the gzip data is corrupt: \(reason)."
        case .truncatedIDX(let path, let expected, let actual):
            return "\(path): the IDX file is truncated: its header promises \(expected) bytes of data, "
                + "but only \(actual) are there."
        case .wrongIDXMagic(let path, let expected, let actual):
            return "\(path): not the expected IDX file: magic number \(hex(actual)), expected \(expected)."
        case .wrongDimensions(let path, let expected, let actual):
            let shape = actual.map(String.init).joined(separator: "x")
            return "\(path): wrong dimensions \(shape.isEmpty ? "(none)" : shape), expected \(expected)."
        case .nonNumericField(let at, let text):
            // Text in a column read as numbers (its first value was one): a code such as
            // `229a` among numbers, a unit typed in. Say how to go on (1-based columns in
            // the message, 0-based indices for leaving one out).
            if text.isEmpty || CSVFormat.marksMissing(text) {
                // Only `--missing error` refuses a missing value in a numeric column.
                return "\(at): the value is missing (\(quoted(text))), and missing values are refused "
                    + "(--missing mean, the default, fills one with its column's mean so far; --skip-bad-rows skips the row)."
            }
            guard let column = at.column else {
                return "\(at): the field \(quoted(text)) is not a number."
            }
            return "\(at): the field \(quoted(text)) is not a number; correct the field, "
                + "or leave the column out (--ignore-columns \(column - 1), the 0-based index, or its header name)."
        case .nonFiniteValue(let at, let text):
            return "\(at): the value \(quoted(text)) is not finite (NaN, infinity or beyond Float's range)."
        case .raggedRow(let at, let expected, let actual):
            return "\(at): the row has \(actual) field\(actual == 1 ? "" : "s"), but earlier rows have \(expected)."
        case .savedColumnsMismatch(let at, let expected, let actual):
            return "\(at): the row has \(actual) field\(actual == 1 ? "" : "s"), but the saved model reads rows of \(expected) (the label and "
                + "the columns it learned from); give it a file with the columns of the one it was trained on."
        case .otherSeparator(let at, let separator, let fits, let fields):
            func name(_ c: Character) -> String { c == "\t" ? "tab" : c == CSVFormat.blankSeparator ? "blanks" : "'\(c)'" }
            let option = fits == "\t" ? "tab" : fits == CSVFormat.blankSeparator ? "space" : "'\(fits)'"
            return "\(at): split at \(name(separator)) the row is one field, but at \(name(fits)) it has the \(fields) the saved model reads: "
                + "the file is separated by \(name(fits)); give --separator \(option), or leave the option out and it is found."
        case .notUTF8(let at, .nul):
            return "\(at): the field holds a NUL byte, which no text can hold; the file is not UTF-8 text."
        case .notUTF8(let at, .invalidByte(let byte)):
            return "\(at): the field is not UTF-8 (byte \(hex(byte)) cannot be part of a UTF-8 character); "
                + "the file is not UTF-8 (Latin-1 or Windows-1252?): save it as UTF-8, or read it converted from a pipe "
                + "('iconv -f WINDOWS-1252 -t UTF-8 FILE | moe … --source stdin')."
        case .notUTF8(let at, .utf16):
            return "\(at): the file is UTF-16 (a NUL byte every other byte) without the byte-order mark that says so: save it as UTF-8 "
                + "(or as UTF-16 with its mark), or read it converted from a pipe ('iconv -f UTF-16LE -t UTF-8 FILE | moe … --source stdin')."
        case .unlabelledRowMismatch(let at, let problem):
            return "\(at): \(problem); rows are read without the label "
                + "column, with every other column of the file the model learned from (a file that has the label column is read with --labelled)."
        case .widthMismatch(let at, let expected, let actual):
            return "\(at): the data has \(actual) features per sample, but \(expected) were expected "
                + "(the declared input width of the network)."
        case .labelOutOfRange(let at, let label, let declared):
            return "\(at): the label \(quoted(label)) is not one of the declared classes (\(declared))."
        case .invalidLabel(let at, let label, let reason):
            return "\(at): the label \(quoted(label)) cannot be used: \(reason)."
        case .labelColumnNotFound(let source, let column, let available):
            return "\(source): there is no label column \(column); \(available)."
        case .ignoredColumnNotFound(let source, let column, let available):
            return "\(source): there is no column \(column) to leave out; \(available)."
        case .keptColumnNotFound(let source, let column, let available):
            return "\(source): there is no column \(column) to keep beside the answers; \(available)."
        case .repeatedColumnName(let at, let name, let fields, let option):
            let places = fields.map { String($0 + 1) }
            let indices = fields.map(String.init)
            return "\(at): the header names '\(name)' at fields \(places.dropLast().joined(separator: ", ")) and \(places.last!); "
                + "give the column by its 0-based index (\(option) \(indices.dropLast().joined(separator: ", ")) or \(indices.last!))."
        case .labelColumnInRowsToPredict(let at, let name):
            return "\(at): the header names the label column, '\(name)', which rows to predict are read without: "
                + "give --labelled to read the file with it (its values are not read)."
        case .lineTooLong(let at, let limit):
            return "\(at): the line is longer than \(limit) bytes; is this a text file?"
        case .unclosedQuote(let at):
            return "\(at): a field of this row opens a quote that no quote closes, so every line after it would be its text; "
                + "close it, or double a quote meant as a character inside a quoted field (\"\"), as CSV writes it."
        case .arff(let at, let problem):
            return "\(at): \(problem) (read as an ARFF file, as its @relation line says it is)."
        case .svmlight(let at, let problem), .svmlightRow(let at, let problem, _):
            return "\(at): \(problem) (read as an svmlight (LIBSVM) file, 'label index:value …', as its first row is; "
                + "give --separator to read it as CSV)."
        case .jsonLines(let at):
            return "\(at): this line is a JSON list or opens a JSON document over many lines, which is not read: "
                + "JSON Lines are (one record a line, {\"name\": value, …}); write it so, or as CSV, for example with pandas "
                + "(python3 -c \"import pandas; pandas.read_json('FILE').to_csv('FILE.csv', index=False)\"), "
                + "or give --separator to read it as CSV as it is."
        case .jsonRecord(let at, let problem, _):
            return "\(at): \(problem) (read as JSON Lines, a record a line, as its first line is; give --separator to read it as CSV)."
        case .emptyStream(let source):
            return "\(source): there are no samples in it."
        case .otherRowsThanPaused(let source, let rowsRead):
            return "\(source): the file's first \(rowsRead) rows are not the rows the paused stream read from it (their digest differs): was it replaced or edited since? Resumed, the stream would skip rows it never learned (a new file of rows goes on with --source)"
        case .shorterThanPaused(let source, let rows, let rowsRead):
            return "\(source): the file has \(rows) rows, fewer than the \(rowsRead) the paused stream had read from it: is it the file the stream paused on? (a new file of rows goes on with --source)"
        case .columnMoved(let at, let name, let field, let learnedField, let learned):
            let names = learned.prefix(12).map { "'\($0)'" }.joined(separator: ", ") + (learned.count > 12 ? ", …" : "")
            return "\(at): the column '\(name)' is field \(field + 1) here but was field \(learnedField + 1) in the data "
                + "the model learned from (\(names)); put the columns in that order, so that each is read as the one it learned "
                + "(a header that names every column it learned, once each, is read by those names, in any order)."
        case .columnsMissing(let at, let missing, let label, let learned):
            func list(_ names: [String], _ most: Int) -> String {
                names.prefix(most).map { "'\($0)'" }.joined(separator: ", ") + (names.count > most ? ", … (\(names.count) in all)" : "")
            }
            let features = missing.filter { $0 != label }
            var parts: [String] = []
            if let label {
                parts.append("no column '\(label)', the label column of the rows the model learned (moe eval and a continued stream "
                    + "read labelled rows; moe predict answers rows without their label)")
            }
            if !features.isEmpty {
                parts.append("no column \(list(features, 8)) of the \(learned.count) the model learned from (\(list(learned, 12))): "
                    + "a file read for the model needs each column it learned, found by its header name in any order "
                    + "(columns more are left out)")
            }
            return "\(at): the header has " + parts.joined(separator: "; and ") + "."
        case .labelOnFeature(let source, let column, let field, let name):
            return "\(source): the label column (\(column)) is field \(field + 1)\(name.map { " ('\($0)')" } ?? ""), a column the model "
                + "learned as a feature (text read as categories): give the label column the model learned, or, for rows without "
                + "their label, use moe predict."
        case .labelColumnPlaceUnclear(let at, let column, let here, let learned):
            return "\(at): the header holds the columns the model learned in another order, read by their names; the label column "
                + "(\(column)) is '\(here)' in this file but '\(learned)' in the rows the model learned: give it by name "
                + "(--label-column '\(learned)', or '\(here)')."
        case .labelColumnNotLearned(let at, let column, let name, let learned):
            let names = learned.prefix(12).map { "'\($0)'" }.joined(separator: ", ") + (learned.count > 12 ? ", …" : "")
            return "\(at): the label column (\(column)) is '\(name)', a column the model did not learn (\(names)); "
                + "give the label column the model learned."
        }
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

private func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return "0x" + (digits.count < 2 ? "0" : "") + digits
}

/// Quotes user text for a message, shortened so a binary line cannot flood the terminal.
private func quoted(_ text: String) -> String {
    let limit = 40
    let shown = text.count > limit ? String(text.prefix(limit)) + "..." : text
    return "'" + shown + "'"
}
