import MoE

/// A labelled data set held in memory: one sample per row of `features`, its class index
/// in `labels`.
public struct Dataset: Equatable, Sendable {
    /// `count x inputWidth` features.
    public var features: Matrix
    /// Class index of each row, in `0..<classCount`.
    public var labels: [Int]
    /// Number of classes (the width of a classifier's output).
    public var classCount: Int
    /// Optional human-readable class names, `classCount` of them.
    public var classNames: [String]?
    /// What the data is called in messages (a file path or a description).
    public var name: String

    /// A data set over existing features and labels.
    ///
    /// - Parameter classCount: when nil, one more than the largest label.
    public init(features: Matrix, labels: [Int], classCount: Int? = nil, classNames: [String]? = nil,
                name: String = "data set") {
        precondition(features.rows == labels.count,
                     "\(features.rows) feature rows but \(labels.count) labels")
        let classes = classCount ?? ((labels.max() ?? -1) + 1)
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classes }, "Every label must be in 0..<\(classes)")
        precondition(classNames.map { $0.count == classes } ?? true,
                     "\(classNames?.count ?? 0) class names for \(classes) classes")
        self.features = features
        self.labels = labels
        self.classCount = classes
        self.classNames = classNames
        self.name = name
    }

    /// Number of samples.
    public var count: Int { labels.count }

    /// Number of features per sample.
    public var inputWidth: Int { features.columns }

    /// The samples at `indices`, in that order.
    public func subset<C: Collection>(_ indices: C) -> Dataset where C.Element == Int {
        var result = self
        result.features = features.gatherRows(indices)
        result.labels = indices.map { labels[$0] }
        return result
    }

    /// Indices of the samples whose label is in `classes`, in data order.
    public func indices(ofClasses classes: Set<Int>) -> [Int] {
        labels.indices.filter { classes.contains(labels[$0]) }
    }

    /// Number of samples of each class.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[label] += 1 }
        return counts
    }

    /// Throws `DataError.widthMismatch` unless samples have `width` features (the
    /// network's input width).
    public func requireInputWidth(_ width: Int) throws(DataError) {
        if inputWidth != width {
            throw .widthMismatch(at: DataLocation(source: name), expected: width, actual: inputWidth)
        }
    }

    /// Throws `DataError.labelOutOfRange` naming the first sample whose label is not below
    /// `classCount` (the network's output width).
    public func requireLabels(below classCount: Int) throws(DataError) {
        if let i = labels.firstIndex(where: { $0 >= classCount }) {
            throw .labelOutOfRange(at: DataLocation(source: name, item: i + 1), label: String(labels[i]),
                                   declared: "0..<\(classCount)")
        }
    }
}
