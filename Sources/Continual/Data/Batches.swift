import MoE

/// A mini-batch of labelled samples.
public struct Batch: Equatable, Sendable {
    /// `count x inputWidth` features.
    public var features: Matrix
    /// Class index of each row.
    public var labels: [Int]
    /// How many times the stream had already given these rows: 0 on the first pass over
    /// the data, 1, 2, … when a source repeats it (a scenario's second pass or cycle, an
    /// epoch of `moe train`). A learner counts each sample once in its statistics and
    /// scores by it. A batch that straddles two passes carries the first row's pass, so
    /// rows seen for the first time are never counted as repeats.
    public var pass: Int

    public init(features: Matrix, labels: [Int], pass: Int = 0) {
        precondition(features.rows == labels.count, "\(features.rows) feature rows but \(labels.count) labels")
        precondition(pass >= 0, "A pass over the data is counted from 0, got \(pass)")
        self.features = features
        self.labels = labels
        self.pass = pass
    }

    /// Number of samples.
    public var count: Int { labels.count }
}
