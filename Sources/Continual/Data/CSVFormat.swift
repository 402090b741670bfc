/// Which column of a CSV file holds the label; every other column is a numeric feature.
public enum LabelColumn: Equatable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The first column (the default, as in the Kaggle Fashion-MNIST CSV files).
    case first
    /// The last column.
    case last
    /// The column at a 0-based index (`.index(0)` is the first column).
    case index(Int)
    /// The column whose header is this name (implies a header line).
    case name(String)

    /// Parses a command-line value: `first`, `last`, a 0-based index, or a header name.
    public init(argument: String) {
        switch argument {
        case "first": self = .first
        case "last": self = .last
        default:
            if let index = Int(argument), index >= 0 { self = .index(index) } else { self = .name(argument) }
        }
    }

    /// The header name of the column this names among `names` (a header's, in order), nil
    /// for an index beyond them: `.first` is the first named one when the first name is
    /// empty (R's row names), as the reader places it.
    public func name(among names: [String]) -> String? {
        switch self {
        case .name(let name): return name
        case .first: return names.first == "" && names.count > 1 ? names[1] : names.first
        case .last: return names.last
        case .index(let i): return names.indices.contains(i) ? names[i] : nil
        }
    }

    public var description: String {
        switch self {
        case .first: return "first"
        case .last: return "last"
        case .index(let i): return "index \(i)"
        case .name(let name): return "'\(name)'"
        }
    }
}

/// The layout of a CSV file: one sample per line, fields separated by `separator`,
/// one label column and features in all the others.
///
/// A feature column is numbers, or text: a column whose field in the first data row is
/// neither a number nor a missing-value mark (see ``missingMarks``) is read as text, a
/// category whose value sets one of `textIndicators` columns to 1. The first
/// `textIndicators` distinct values of a column each get their own indicator, in order of
/// first appearance (kept with the stream's position and the saved model, like the
/// labels); later values share one, chosen by a hash of the text (``indicator(of:among:)``).
/// An empty or missing value sets none. With `textIndicators` 0, text is an error as in
/// any numeric column.
///
/// A missing mark in a numeric column (an empty field, `?`, `NA`, …) takes the mean of
/// that column's values so far in the stream, 0 before any (`imputesMissing`; the sums
/// are kept with the stream's position and the saved model, like the text values). With
/// `imputesMissing` false it is an error naming the field.
///
/// Fields may be quoted with double quotes (a doubled quote inside stands for one); a
/// line end inside a quoted field is part of it (`LineReader`). Blank lines are ignored;
/// a final line without a newline is read; `\r\n` and lone `\r` (old Mac) line ends and a
/// UTF-8 byte-order mark are accepted. A Weka ARFF file is read as the CSV lines it
/// describes (`ARFFLines`).
public struct CSVFormat: Equatable, Sendable {
    /// Which column holds the label.
    public var labelColumn: LabelColumn
    /// Whether no label column was given, so that the reader chooses it once the file
    /// shows its kind and header (`CSVSource.labelColumnChoice`): in an ARFF file the
    /// attribute a KEEL `@outputs` line names, else its last; under a header with one
    /// column alone named as a label is (``labelNames``), that column; else
    /// `labelColumn`. Cleared by the reader once it has chosen. Set before any row is
    /// read, and for streams only: a saved model keeps the column it learned.
    public var choosesLabelColumn = false
    /// The names that mark a label column in a header, compared without case and
    /// surrounding blanks (`choosesLabelColumn`).
    public static let labelNames: Set<String> = ["label", "labels", "class", "target"]
    /// True when the first line names the columns (forced by `.name` label columns).
    public var hasHeader: Bool
    /// Without `hasHeader`: whether a first line of names over a second of numbers is taken
    /// for a header all the same (the default). False says the file has none, for a first
    /// row such as `3+,1.2,4.5` whose text level looks like a name.
    public var detectsHeader: Bool
    /// The field separator (one ASCII character: `,`, `;`, tab...); with
    /// `detectsSeparator`, the one taken when the first lines do not show another.
    public var separator: Character
    /// Whether the separator is found from the file's first lines (none was given): the
    /// one of ``detectableSeparators`` that splits them into the same number of fields,
    /// at least two, with the most numbers among them, then the most fields.
    public var detectsSeparator: Bool
    /// Indicator columns per text column (0: text is an error).
    public var textIndicators: Int
    /// Whether a missing mark in a numeric column takes the mean of the column's values
    /// so far in the stream (0 before any); false makes it an error.
    public var imputesMissing: Bool
    /// Columns left out of the features (an identifier, a timestamp): header names, or
    /// 0-based indices for a file without a header.
    public var ignoredColumns: [String]

    /// Indicator columns per text column by default: 16 distinct values each have their
    /// own, for a width of 16 per text column.
    public static let defaultTextIndicators = 16

    /// Fields that mark a missing value: a column whose first value is one of them is not
    /// taken for text, and in a text column they set no indicator.
    public static let missingMarks: Set<String> = ["", "?", "NA", "N/A", "na", "n/a", "NaN", "nan", "null", "NULL", "None", "-",
                                                   "#N/A", "#NA", "<NA>"]

    /// Whether a field marks a missing value: one of ``missingMarks`` (Excel's `#N/A`,
    /// pandas' `<NA>` among them), or NaN spelled any way C's `printf` and others write
    /// it: any case, a sign, a payload in brackets (`NAN`, `-nan`, `+NaN`, `nan(123)`).
    /// Until 2026-12-04 `nan` was missing while `-nan`, which glibc writes for a negative
    /// NaN, stopped the stream as a value that is not finite.
    public static func marksMissing(_ text: String) -> Bool {
        if missingMarks.contains(text) { return true }
        var t = Substring(text)
        if t.first == "-" || t.first == "+" { t = t.dropFirst() }
        guard t.count >= 3, t.prefix(3).lowercased() == "nan" else { return false }
        let payload = t.dropFirst(3)
        return payload.isEmpty || (payload.first == "(" && payload.last == ")" && !payload.dropFirst().dropLast().contains(")"))
    }

    /// Separators a file's first lines are tried with when none is given (then blanks).
    public static let detectableSeparators: [Character] = [",", ";", "\t", "|"]

    /// The separator that stands for blanks: a run of spaces and tabs separates two
    /// fields, and blanks at either end of a line separate nothing (`--separator space`).
    public static let blankSeparator: Character = " "

    /// How a message names `separator`: tabs, blanks, or the character in quotes.
    public static func describe(separator: Character) -> String {
        separator == "\t" ? "tabs" : separator == blankSeparator ? "blanks (spaces and tabs)" : "'\(separator)'"
    }

    /// - Parameters:
    ///   - separator: the field separator; nil finds it from the file's first lines
    ///     (`detectsSeparator`), `,` when they do not tell.
    ///   - detectsHeader: without `hasHeader`, whether a header is found all the same
    ///     (false: the file has none, and a label column by name is placed by the names a
    ///     saved model learned).
    public init(labelColumn: LabelColumn = .first, hasHeader: Bool = false, separator: Character? = nil,
                textIndicators: Int = CSVFormat.defaultTextIndicators, imputesMissing: Bool = true,
                ignoredColumns: [String] = [], detectsHeader: Bool = true) {
        precondition(textIndicators >= 0 && textIndicators <= 4096, "Text indicators are 0 (text refused) to 4096 per column")
        detectsSeparator = separator == nil
        let separator = separator ?? ","
        precondition(Self.canSeparate(separator),
                     "The separator must be one ASCII character that cannot be part of a number, a quote or a line end")
        if case .index(let i) = labelColumn { precondition(i >= 0, "A label column index is 0-based and non-negative") }
        self.labelColumn = labelColumn
        if case .name = labelColumn { self.hasHeader = detectsHeader || hasHeader } else { self.hasHeader = hasHeader }
        self.detectsHeader = detectsHeader
        self.separator = separator
        self.textIndicators = textIndicators
        self.imputesMissing = imputesMissing
        self.ignoredColumns = ignoredColumns
    }

    /// The indicator column a value beyond a column's own ones shares among `indicators`:
    /// 64-bit FNV-1a of its UTF-8 bytes, mixed by MurmurHash3's finaliser (FNV's low bits
    /// alone put "red", "green" and "Private" in the same one of 16).
    public static func indicator(of text: String, among indicators: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        hash = hash &* 0xc4ce_b9fe_1a85_ec53
        hash ^= hash >> 33
        return Int(hash % UInt64(indicators))
    }

    var separatorByte: UInt8 { separator.asciiValue! }

    /// Whether `character` can separate fields: one ASCII character that cannot be part
    /// of a number, a quote or a line end.
    public static func canSeparate(_ character: Character) -> Bool {
        character.isASCII && !character.isLetter && !character.isNumber && !"\"\r\n.+-".contains(character)
    }
}
