/// How the raw labels of a file or stream become class indices `0..<classCount`.
///
/// Two kinds of labels:
/// - **integers** (`"0"`, `"7"`, `"3.0"`, `"+1"`): the number is the class index, so data
///   labelled 0...9 keeps the meaning it has in IDX files and in a saved model. Seeing
///   label 7 first makes 8 classes. A learned map also takes integers that cannot be
///   their own index, a negative one (the `-1` / `+1` of binary data sets), one above
///   ``largestLearnedIndex`` (a code such as `70001`, which would make that many outputs)
///   or one whose index an earlier such label took: it gets the next class index, an *alias* kept
///   with the map (`-1, +1` in that order: classes 0 and 1 hold labels -1 and 1, and
///   class 0 is not label 0).
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
    /// For `.integers`: labels whose class index is not their number (label -> index).
    public var aliases: [Int: Int] {
        guard kind == .integers else { return [:] }
        return Dictionary(uniqueKeysWithValues: lookup.compactMap { key, index in Int(key).map { ($0, index) } })
    }
    /// True when the classes were declared up front and may not grow.
    public let isDeclared: Bool

    /// The largest integer label that is its own class index in a learned map, so that
    /// one value (a code, a pixel in the label column) cannot create a billion outputs;
    /// larger labels get the next index (an alias), and a stream learns at most this many
    /// classes plus one.
    public static let largestLearnedIndex = 65_535

    /// The outputs an integer label may leave unused below it to be its own class index
    /// in a learned map: fewer than this many. Labels 0-9 keep their numbers whatever
    /// order they come in (seeing 7 first makes 8 classes); a label far beyond the
    /// classes so far (`42000`, a price read as the label; `1000`, a code) gets the next
    /// index, an alias, as a code above ``largestLearnedIndex`` does. Until 2026-12-05's
    /// tenth round it was its own index: a price column streamed as the label made 65,536
    /// outputs, each with the gate's statistics of its class, and took the process past
    /// 24 GB until the system killed it.
    public static let largestOwnIndexGap = 256

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

    /// Declared integer classes whose labels are `labels` (class `i` is label `labels[i]`;
    /// labels that are not their own index are aliases), as a saved model names them.
    public static func integers(labels: [Int]) -> LabelMap {
        precondition(!labels.isEmpty, "Declare at least one class")
        precondition(Set(labels).count == labels.count, "Declared class labels must be distinct")
        var map = LabelMap(kind: .integers, names: [], classCount: labels.count, isDeclared: true)
        for (index, label) in labels.enumerated() where label != index { map.addAlias(label, index: index) }
        return map
    }

    /// The same classes (and aliases), open to new labels: how a saved model's map goes on
    /// learning from new data.
    public var opened: LabelMap {
        guard isDeclared else { return self }
        var map = LabelMap(kind: kind, names: names, classCount: classCount, isDeclared: false)
        for (label, index) in aliases { map.addAlias(label, index: index) }
        return map
    }

    private init(kind: Kind?, names: [String], classCount: Int, isDeclared: Bool) {
        self.kind = kind
        self.names = names
        self.classCount = classCount
        self.isDeclared = isDeclared
        for (i, name) in names.enumerated() { lookup[name] = i }
    }

    /// Names: the class of each name. Integers: the class of each alias, keyed by the
    /// label's decimal form (one table for both keeps the map's layout as it was: a
    /// stored property more made the debug build of a typed-throws caller crash).
    private var lookup: [String: Int] = [:]

    private mutating func addAlias(_ label: Int, index: Int) {
        lookup[String(label)] = index
    }

    /// The class index an alias gave `label`, if one did.
    private func aliasIndex(of label: Int) -> Int? {
        lookup.isEmpty ? nil : lookup[String(label)]
    }

    /// The label an alias gave class `index`, if one did (aliases are few: a search).
    private func aliasLabel(of index: Int) -> Int? {
        guard !lookup.isEmpty else { return nil }
        return lookup.first { $0.value == index }.flatMap { Int($0.key) }
    }

    private enum CodingKeys: String, CodingKey { case kind, names, classCount, isDeclared, aliases }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(kind: try c.decodeIfPresent(Kind.self, forKey: .kind),
                  names: try c.decode([String].self, forKey: .names),
                  classCount: try c.decode(Int.self, forKey: .classCount),
                  isDeclared: try c.decode(Bool.self, forKey: .isDeclared))
        // [label, index] pairs; absent in maps saved before aliases existed.
        for pair in try c.decodeIfPresent([[Int]].self, forKey: .aliases) ?? [] {
            guard pair.count == 2, pair[1] >= 0, pair[1] < classCount, aliasIndex(of: pair[0]) == nil,
                  aliasLabel(of: pair[1]) == nil else {
                throw DecodingError.dataCorruptedError(
                    forKey: .aliases, in: c, debugDescription: "label alias \(pair) is not a [label, class index] pair of a distinct label and class below \(classCount)")
            }
            addAlias(pair[0], index: pair[1])
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(kind, forKey: .kind)
        try c.encode(names, forKey: .names)
        try c.encode(classCount, forKey: .classCount)
        try c.encode(isDeclared, forKey: .isDeclared)
        if !aliases.isEmpty { try c.encode(aliases.sorted { $0.value < $1.value }.map { [$0.key, $0.value] }, forKey: .aliases) }
    }

    public static func == (a: LabelMap, b: LabelMap) -> Bool {
        a.kind == b.kind && a.names == b.names && a.classCount == b.classCount && a.isDeclared == b.isDeclared
            && a.aliases == b.aliases
    }

    /// The raw label of class `index` (its number for integer labels).
    public func label(of index: Int) -> String {
        if kind == .names { return index < names.count ? names[index] : String(index) }
        return aliasLabel(of: index).map(String.init) ?? String(index)
    }

    /// For `.integers`: the integer label of every class `0..<classCount` (its index, or
    /// the label an alias gave it).
    public var integerLabels: [Int] {
        var labels = Array(0..<classCount)
        for (label, index) in aliases { labels[index] = label }
        return labels
    }

    /// Labels that mark a missing label in a file (`?`, `NA`, `NaN`, `null`): a row with
    /// one has no class to learn or score. Fewer than ``CSVFormat/missingMarks``, which
    /// mark missing features: `-` is a class of promoter gene sequences (`+` and `-`), and
    /// `None` a plausible answer.
    public static let missingMarks: Set<String> = ["?", "NA", "N/A", "na", "n/a", "NaN", "nan", "null", "NULL", "#N/A", "#NA", "<NA>"]

    /// The class index of the raw label `text`, adding a class to a learned map.
    /// `location` names the row in errors. With `refusingMissingMarks`, a label of
    /// ``missingMarks`` that is not already a class is refused as a missing label.
    public mutating func classIndex(of text: String, at location: DataLocation,
                                    refusingMissingMarks: Bool = false) throws(DataError) -> Int {
        let label = text.trimmingSpaces
        func refuseMissing() throws(DataError) {
            guard refusingMissingMarks, Self.missingMarks.contains(label) else { return }
            throw .invalidLabel(at: location, label: label, reason: "it marks a missing label, and a row without its class can be neither "
                                + "learned nor scored: remove such rows (moe stream skips them with --skip-bad-rows)")
        }
        if kind == nil {
            try refuseMissing()
            kind = Self.integerValue(label) != nil ? .integers : .names
        }
        switch kind! {
        case .names:
            if let index = lookup[label] { return index }
            try refuseMissing()
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
            // A row without its label is not a text label among class numbers.
            guard !label.isEmpty else { throw .invalidLabel(at: location, label: label, reason: "it is empty") }
            guard let value = Self.integerValue(label) else {
                try refuseMissing()
                throw .invalidLabel(at: location, label: label,
                                    reason: isDeclared ? "the declared classes are the integers 0..<\(classCount)"
                                        : Self.isAmount(label) ? Self.amountAmongClassNumbers
                                        : "earlier labels were class numbers, and a stream keeps the kind of label it began with: give this row a class number too, or every row a name (is it the label column? --label-column names it)")
            }
            if let index = aliasIndex(of: value) { return index }
            if value >= 0 && value < classCount && aliasLabel(of: value) == nil { return value }
            if isDeclared {
                throw .labelOutOfRange(at: location, label: label, declared: declaredIntegers)
            }
            if value < 0 || value < classCount || value > Self.largestLearnedIndex || value - classCount >= Self.largestOwnIndexGap {
                // Negative, its index an alias's, a code beyond the outputs a class
                // number may make (`70001`, refused until 2026-12-04's seventh round), or
                // one that would leave hundreds of outputs unused below it: the next
                // class index.
                guard classCount <= Self.largestLearnedIndex else {
                    throw .invalidLabel(at: location, label: label,
                                        reason: "a stream learns at most \(Self.largestLearnedIndex + 1) classes (is it the label column? --label-column names it)")
                }
                addAlias(value, index: classCount)
                classCount += 1
                return classCount - 1
            }
            classCount = value + 1
            return value
        }
    }

    /// The declared integer classes, for messages: `0..<k`, or the labels.
    private var declaredIntegers: String {
        aliases.isEmpty ? "0..<\(classCount)" : Self.summary(integerLabels.map(String.init))
    }

    /// A finite number with a fraction (`17.5`, `2.16e+01`): after whole class numbers,
    /// the label column holds an amount, not classes.
    static func isAmount(_ text: String) -> Bool {
        guard let value = Double(text) else { return false }
        return value.isFinite && integerValue(text) == nil
    }

    /// Why a number with a fraction after whole class numbers is refused: a column of
    /// amounts (a price, a regression target) read as the label began with a whole number
    /// (mlxtend's Auto MPG's `18.0`, its 186th row `17.5`).
    static let amountAmongClassNumbers = "it is a number with a fraction where earlier labels were whole class numbers: "
        + "the label column holds amounts (a regression target?), and moe learns classes: bin the amounts into classes first, "
        + "or name the column that holds the classes with --label-column"

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
