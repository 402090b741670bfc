import MoE

/// A bounded reservoir of past samples (Vitter's algorithm R): after `seen` offers,
/// every sample offered so far is in the buffer with the same probability
/// `capacity / seen`, whatever the order of the stream.
///
/// A capacity of 0 keeps nothing. The buffer's memory is `capacity x width` floats plus
/// the labels, whatever the length of the stream.
public struct ReplayBuffer: Sendable, Equatable {
    /// Most samples kept.
    public let capacity: Int
    /// Kept samples, one per row (at most `capacity` rows).
    public private(set) var features: Matrix
    /// Their labels.
    public private(set) var labels: [Int]
    /// A tag per kept sample (the learner's: the slot that was in charge of it).
    public private(set) var tags: [Int]
    /// Samples offered so far.
    public private(set) var seen: Int = 0
    /// The reservoir's own generator, so replay never disturbs other random choices.
    public private(set) var generator: SeededGenerator

    public init(capacity: Int, width: Int, seed: UInt64) {
        precondition(capacity >= 0, "Replay capacity must be non-negative")
        self.capacity = capacity
        self.features = Matrix(rows: 0, columns: width)
        self.labels = []
        self.tags = []
        self.generator = SeededGenerator(seed: seed)
    }

    /// Restores a saved buffer (tags default to 0).
    public init(capacity: Int, features: Matrix, labels: [Int], tags: [Int]? = nil, seen: Int, generator: SeededGenerator) {
        precondition(features.rows == labels.count && features.rows <= capacity && seen >= features.rows
                     && (tags?.count ?? labels.count) == labels.count,
                     "A replay buffer's rows, labels, tags, capacity and count must agree")
        self.capacity = capacity
        self.features = features
        self.labels = labels
        self.tags = tags ?? Array(repeating: 0, count: labels.count)
        self.seen = seen
        self.generator = generator
    }

    public var count: Int { labels.count }
    public var isEmpty: Bool { labels.isEmpty }
    /// Floats kept (features plus one per label).
    public var memoryFloats: Int { capacity * (features.columns + 1) }

    /// Offers every row of a batch to the reservoir, each with a tag (0 when none given).
    public mutating func offer(features batch: Matrix, labels batchLabels: [Int], tags batchTags: [Int]? = nil) {
        precondition(batch.rows == batchLabels.count, "\(batch.rows) rows but \(batchLabels.count) labels")
        precondition(batchTags == nil || batchTags!.count == batch.rows, "\(batch.rows) rows but \(batchTags!.count) tags")
        guard capacity > 0 else {
            seen += batch.rows
            return
        }
        if features.columns != batch.columns {
            precondition(features.rows == 0, "Replay rows are \(features.columns) wide, the batch is \(batch.columns)")
            features = Matrix(rows: 0, columns: batch.columns)
        }
        var appended: [Float] = []
        var appendedLabels: [Int] = []
        var appendedTags: [Int] = []
        let width = batch.columns
        for r in 0..<batch.rows {
            seen += 1
            if labels.count + appendedLabels.count < capacity {
                appended.append(contentsOf: batch.scalars[r * width ..< (r + 1) * width])
                appendedLabels.append(batchLabels[r])
                appendedTags.append(batchTags?[r] ?? 0)
            } else {
                if !appended.isEmpty { flush(&appended, &appendedLabels, &appendedTags) }
                let slot = generator.nextInt(below: seen)
                if slot < capacity {
                    features.scalars.replaceSubrange(slot * width ..< (slot + 1) * width,
                                                     with: batch.scalars[r * width ..< (r + 1) * width])
                    labels[slot] = batchLabels[r]
                    tags[slot] = batchTags?[r] ?? 0
                }
            }
        }
        if !appended.isEmpty { flush(&appended, &appendedLabels, &appendedTags) }
    }

    private mutating func flush(_ rows: inout [Float], _ rowLabels: inout [Int], _ rowTags: inout [Int]) {
        features = Matrix(rows: features.rows + rowLabels.count, columns: features.columns, scalars: features.scalars + rows)
        labels += rowLabels
        tags += rowTags
        rows.removeAll()
        rowLabels.removeAll()
        rowTags.removeAll()
    }

    /// Drops every kept sample tagged `tag` (the labels of a concept that changed), and
    /// starts the reservoir over from the samples that remain: `seen` becomes their
    /// count, so the samples offered next fill the freed rows and then keep their share.
    public mutating func forget(tag: Int) {
        let keep = tags.indices.filter { tags[$0] != tag }
        guard keep.count < tags.count else { return }
        features = features.gatherRows(keep)
        labels = keep.map { labels[$0] }
        tags = keep.map { tags[$0] }
        seen = keep.count
    }

    /// `count` distinct kept samples drawn with the buffer's generator (all when fewer),
    /// among those tagged `tag` when one is given.
    public mutating func sample(_ count: Int, tag: Int? = nil) -> (features: Matrix, labels: [Int]) {
        let candidates = tag.map { t in tags.indices.filter { tags[$0] == t } } ?? Array(labels.indices)
        let n = min(count, candidates.count)
        guard n > 0 else { return (Matrix(rows: 0, columns: features.columns), []) }
        let order = generator.permutation(candidates.count).prefix(n).map { candidates[$0] }
        return (features.gatherRows(order), order.map { labels[$0] })
    }
}
