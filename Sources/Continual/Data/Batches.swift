import MoE

/// A mini-batch of labelled samples.
public struct Batch: Equatable, Sendable {
    /// `count x inputWidth` features.
    public var features: Matrix
    /// Class index of each row.
    public var labels: [Int]
    /// Classes seen for the first time in this batch, when the source learns its classes
    /// from the data (a learner widens its output for them). Empty otherwise.
    public var newClasses: [Int]

    public init(features: Matrix, labels: [Int], newClasses: [Int] = []) {
        precondition(features.rows == labels.count, "\(features.rows) feature rows but \(labels.count) labels")
        self.features = features
        self.labels = labels
        self.newClasses = newClasses
    }

    /// Number of samples.
    public var count: Int { labels.count }
}

/// The mini-batches of a data set in a fixed order, computed once when the sequence is
/// made. The last batch is smaller when `size` does not divide the count, unless
/// `dropLast` is set.
public struct BatchSequence: Sequence, IteratorProtocol, Sendable {
    /// The data set being batched.
    public let dataset: Dataset
    /// The sample order (a permutation of the data set's indices).
    public let order: [Int]
    /// Samples per batch.
    public let size: Int
    private let end: Int
    private var start = 0

    init(dataset: Dataset, order: [Int], size: Int, dropLast: Bool) {
        precondition(size > 0, "A batch holds at least one sample")
        self.dataset = dataset
        self.order = order
        self.size = size
        end = dropLast ? order.count - order.count % size : order.count
    }

    /// Number of batches.
    public var underestimatedCount: Int { (end + size - 1) / size }

    public mutating func next() -> Batch? {
        guard start < end else { return nil }
        let indices = order[start ..< Swift.min(start + size, end)]
        start += indices.count
        return Batch(features: dataset.features.gatherRows(indices), labels: indices.map { dataset.labels[$0] })
    }
}

extension Dataset {
    /// Mini-batches in data order.
    public func batches(size: Int, dropLast: Bool = false) -> BatchSequence {
        BatchSequence(dataset: self, order: Array(0..<count), size: size, dropLast: dropLast)
    }

    /// Mini-batches in an order drawn from `generator` (one Fisher-Yates permutation).
    /// The same generator state gives the same batches, bit for bit; calling this once
    /// per epoch with the same generator gives a fresh order each epoch.
    public func batches(size: Int, shuffledBy generator: inout SeededGenerator, dropLast: Bool = false) -> BatchSequence {
        BatchSequence(dataset: self, order: generator.permutation(count), size: size, dropLast: dropLast)
    }
}
