/// How the raw labels of a file or stream become class indices `0..<classCount`.
///
/// Two kinds of labels:
/// - **integers** (`"0"`, `"7"`, `"3.0"`): the number is the class index, so data labelled
///   0...9 keeps the meaning it has in IDX files and in a saved model. Seeing label 7
///   first makes 8 classes.
/// - **names** (`"cat"`, `"T-shirt"`): classes are numbered in order of first appearance,
///   or by their position in a declared list.
///
/// A map is either *declared* (closed: a label outside it is an error) or *learned*
/// (open: a new label adds a class). A learned map without a kind takes the kind of the
/// first label it sees. The map is part of a stream's saved position, so a resumed
/// stream or a saved model keeps the same numbering.
public struct LabelMap: Equatable, Sendable, Codable {
    /// The two kinds of labels.
    public enum Kind: String, Equatable, Sendable, Codable {
        case integers, names
    }

    /// The kind of labels; nil until the first label of a learned map.
    public private(set) var kind: Kind?
    /// For `.names`: the raw label of each class, in class order. Empty for `.integers`.
    public private(set) var names: [String]
    /// Number of classes known so far (declared, or learned).
    public private(set) var classCount: Int
    /// True when the classes were declared up front and may not grow.
    public let isDeclared: Bool

    /// The largest class index a learned integer map accepts, so that one stray value
    /// (a pixel in the label column) cannot create a billion outputs.
    public static let largestLearnedIndex = 65_535

    /// A learned map: classes come from the data; `kind` nil means decided by the first label.
    public init(learning kind: Kind? = nil) {
        self.kind = kind
        names = []
        classCount = 0
        isDeclared = false
    }

    /// Declared integer classes `0..<classCount`.
    public static func integers(classCount: Int) -> LabelMap {
        precondition(classCount > 0, "Declare at least one class")
        return LabelMap(kind: .integers, names: [], classCount: classCount, isDeclared: true)
    }

    /// Declared named classes, numbered by their position in `names`.
    public static func names(_ names: [String]) -> LabelMap {
        precondition(!names.isEmpty, "Declare at least one class")
        precondition(Set(names).count == names.count, "Declared class names must be distinct")
        return LabelMap(kind: .names, names: names, classCount: names.count, isDeclared: true)
    }

    private init(kind: Kind?, names: [String], classCount: Int, isDeclared: Bool) {
        self.kind = kind
        self.names = names
        self.classCount = classCount
        self.isDeclared = isDeclared
        for (i, name) in names.enumerated() { lookup[name] = i }
    }

    private var lookup: [String: Int] = [:]

    private enum CodingKeys: String, CodingKey { case kind, names, classCount, isDeclared }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(kind: try c.decodeIfPresent(Kind.self, forKey: .kind),
                  names: try c.decode([String].self, forKey: .names),
                  classCount: try c.decode(Int.self, forKey: .classCount),
                  isDeclared: try c.decode(Bool.self, forKey: .isDeclared))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(kind, forKey: .kind)
        try c.encode(names, forKey: .names)
        try c.encode(classCount, forKey: .classCount)
        try c.encode(isDeclared, forKey: .isDeclared)
    }

    public static func == (a: LabelMap, b: LabelMap) -> Bool {
        a.kind == b.kind && a.names == b.names && a.classCount == b.classCount && a.isDeclared == b.isDeclared
    }

    /// The raw label of class `index` (its number for integer labels).
    public func label(of index: Int) -> String {
        kind == .names && index < names.count ? names[index] : String(index)
    }

    /// The class index of the raw label `text`, adding a class to a learned map.
    /// `location` names the row in errors.
    public mutating func classIndex(of text: String, at location: DataLocation) throws(DataError) -> Int {
        let label = text.trimmingSpaces
        if kind == nil { kind = Self.integerValue(label) != nil ? .integers : .names }
        switch kind! {
        case .names:
            if let index = lookup[label] { return index }
            if isDeclared {
                throw .labelOutOfRange(at: location, label: label, declared: Self.summary(names))
            }
            guard !label.isEmpty else {
                throw .invalidLabel(at: location, label: label, reason: "it is empty")
            }
            names.append(label)
            lookup[label] = names.count - 1
            classCount = names.count
            return names.count - 1
        case .integers:
            guard let value = Self.integerValue(label) else {
                throw .invalidLabel(at: location, label: label,
                                    reason: isDeclared ? "the declared classes are the integers 0..<\(classCount)"
                                        : "earlier labels were class numbers; declare the class names to use text labels")
            }
            guard value >= 0 else {
                throw .invalidLabel(at: location, label: label, reason: "a class number cannot be negative")
            }
            if value < classCount { return value }
            if isDeclared {
                throw .labelOutOfRange(at: location, label: label, declared: "0..<\(classCount)")
            }
            guard value <= Self.largestLearnedIndex else {
                throw .invalidLabel(at: location, label: label,
                                    reason: "class numbers above \(Self.largestLearnedIndex) are refused; declare the classes")
            }
            classCount = value + 1
            return value
        }
    }

    /// The integer in `text` ("7", "+7", "7.0"), or nil.
    static func integerValue(_ text: String) -> Int? {
        if let value = Int(text) { return value }
        if let value = Double(text), value.isFinite, value == value.rounded(), abs(value) < 1e15 { return Int(value) }
        return nil
    }

    private static func summary(_ names: [String]) -> String {
        let shown = names.prefix(12).map { "'\($0)'" }.joined(separator: ", ")
        return names.count > 12 ? shown + ", ... (\(names.count) in all)" : shown
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
