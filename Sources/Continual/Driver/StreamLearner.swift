import Logging
import MoE

/// What a ``StreamDriver`` drives: something that learns from one labelled batch at a time
/// and saves itself into a checkpoint.
///
/// Two learners conform: the continual ``Learner`` (predict first, then learn; experts grow
/// where its detectors say so) and ``PlainLearner`` (a network trained by the plain
/// `Trainer`, what `moe train` runs). The driver owns the loop, the source and the
/// checkpoints; the learner only learns.
///
/// ```swift
/// var driver = try StreamDriver(learner: learner, source: .csv(.init(path: "monday.csv")))
/// try driver.run()
/// ```
public protocol StreamLearner: Sendable {
    /// What one ``learn(_:source:logger:)`` reports (progress lines read it).
    associatedtype Step: Sendable

    /// Features per sample.
    var inputWidth: Int { get }
    /// Classes the output distinguishes now.
    var classCount: Int { get }
    /// Batches learned over the learner's whole life (across checkpoints and streams).
    var learnedBatches: Int { get }
    /// Samples learned over the learner's whole life.
    var learnedSamples: Int { get }
    /// Experts grown so far (0 for a plain network).
    var expertCount: Int { get }
    /// Trainable and frozen parameters and experts, now.
    var modelSize: ModelSize { get }

    /// Learns from one batch. `batch.pass` says whether its rows were seen before; `source`
    /// names the rows in errors.
    mutating func learn(_ batch: Batch, source: String, logger: Logger?) throws -> Step
    /// An experience of a scenario starts (a boundary of the prequential bands).
    mutating func beginExperience(_ index: Int)
    /// The raw labels of classes `0..<labels.count` (the stream's label map), for what the
    /// learner writes in logs and reasons; not part of what it learns or saves.
    mutating func nameClasses(_ labels: [String])
    /// A copy ready to predict from everything it has learned, for an evaluation.
    func readyToPredict() -> Self
    /// Fraction of rows predicted right, among `classes` only when given (task-incremental).
    func score(features: Matrix, labels: [Int], among classes: Set<Int>?) -> Double
    /// Fractions of rows predicted right under each restriction of `restrictions` (nil:
    /// every class), for test set `set` of an evaluation that scores the same sets again
    /// and again: what the learner prepares for a set may be kept in `cache`.
    func scores(features: Matrix, labels: [Int], among restrictions: [Set<Int>?], set: Int,
                cache: inout EvaluationCache) -> [Double]
    /// The learner as a checkpoint, with extra sections (the driver adds the stream's).
    func checkpoint(description: String, sections: [String: CheckpointSection]) -> Checkpoint
}

extension StreamLearner {
    /// Nothing to mark by default.
    public mutating func beginExperience(_ index: Int) {}

    /// Classes named by their indices by default.
    public mutating func nameClasses(_ labels: [String]) {}

    /// One ``score(features:labels:among:)`` per restriction, nothing cached.
    public func scores(features: Matrix, labels: [Int], among restrictions: [Set<Int>?], set: Int,
                       cache: inout EvaluationCache) -> [Double] {
        restrictions.map { score(features: features, labels: labels, among: $0) }
    }
}

/// What an evaluation keeps between scorings of the same test sets: the continual
/// learner's rows scaled and passed through its gate's random features, reused while its
/// input scaling stays the same (up to ``capacityBytes``). Not saved: a resumed stream
/// prepares its sets again.
public struct EvaluationCache: Sendable {
    var prepared: [Int: Learner.PreparedRows] = [:]
    /// Most bytes kept.
    public var capacityBytes = 256 << 20

    public init() {}

    /// Bytes kept now.
    public var bytes: Int { prepared.values.reduce(0) { $0 + $1.bytes } }
}
