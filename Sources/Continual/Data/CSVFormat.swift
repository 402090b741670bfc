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
/// one label column and numeric features in all the others.
///
/// Fields may be quoted with double quotes (a doubled quote inside stands for one);
/// quoted fields cannot span lines. Blank lines are ignored; a final line without a
/// newline is read; `\r\n` line ends and a UTF-8 byte-order mark are accepted.
public struct CSVFormat: Equatable, Sendable {
    /// Which column holds the label.
    public var labelColumn: LabelColumn
    /// True when the first line names the columns (forced by `.name` label columns).
    public var hasHeader: Bool
    /// The field separator (one ASCII character: `,`, `;`, tab...).
    public var separator: Character

    public init(labelColumn: LabelColumn = .first, hasHeader: Bool = false, separator: Character = ",") {
        precondition(Self.canSeparate(separator),
                     "The separator must be one ASCII character that cannot be part of a number, a quote or a line end")
        if case .index(let i) = labelColumn { precondition(i >= 0, "A label column index is 0-based and non-negative") }
        self.labelColumn = labelColumn
        if case .name = labelColumn { self.hasHeader = true } else { self.hasHeader = hasHeader }
        self.separator = separator
    }

    var separatorByte: UInt8 { separator.asciiValue! }

    /// Whether `character` can separate fields: one ASCII character that cannot be part
    /// of a number, a quote or a line end.
    public static func canSeparate(_ character: Character) -> Bool {
        character.isASCII && !character.isLetter && !character.isNumber && !"\"\r\n.+-".contains(character)
    }
}
