import MoE

/// Everything that defines a learner's behaviour; saved with it.
public struct LearnerConfiguration: Sendable, Codable, Equatable {
    /// Hidden widths of the trunk.
    public var hidden: [Int] = [256, 256]
    /// Hidden nonlinearity.
    public var activation: Activation = .relu
    /// Adam's step size (half-learning's starting rate when it is on).
    public var learningRate: Float = 1e-3
    /// Half-learning (METHOD.md §3): halve a step until the error count on the step set
    /// does not rise. Off: every Adam step is taken.
    public var halfLearning: Bool = true
    /// λ of the covariance cost (METHOD.md §2); 0 trains on cross-entropy alone.
    public var covarianceStrength: Float = 0.1
    /// Replay buffer capacity (0: none).
    public var replayCapacity: Int = 500
    /// Replayed samples added to every training step.
    public var replayPerStep: Int = 64
    /// Training passes over each batch (the stream's own passes come on top).
    public var stepsPerBatch: Int = 1
    /// Samples per controller window (the unit of growth decisions).
    public var windowSize: Int = 256
    /// Half-life of the covariance statistics, in samples (0: no forgetting).
    public var statisticsHalfLife: Double = 2048
    /// Error-detector significance.
    public var detectors: ErrorDetectors = ErrorDetectors()
    /// When to grow.
    public var growth: GrowthPolicy = GrowthPolicy()
    /// Grow as soon as labels never seen arrive (novelty), not only on drift.
    public var growOnNovelClasses: Bool = true
    /// Hidden width of a grown expert.
    public var expertWidth: Int = 128
    /// What an expert reads besides its detectors.
    public var expertContext: Expert.Context = .layerInput
    /// How the experts are chosen per input.
    public var gate: GateChoice = .classPosterior(features: 2048)
    /// Samples between refits of the class-posterior head.
    public var refitEvery: Int = 4096
    /// What answers `predict`.
    public var predictor: Predictor = .mixture
    /// Seed of every random choice.
    public var seed: UInt64 = 1

    public init() {}

    /// The gate of the mixture.
    public enum GateChoice: Sendable, Codable, Equatable {
        /// Class posteriors of a streaming linear discriminant over random ReLU features
        /// of the input, from statistics of every sample seen (NOTES: the gate decides).
        case classPosterior(features: Int)
        /// A linear softmax gate on the input, trained with the experts (top-1).
        case learned
    }

    /// Who predicts.
    public enum Predictor: String, Sendable, Codable, Equatable, CaseIterable {
        /// Trunk plus routed experts (the method).
        case mixture
        /// The streaming discriminant alone (the gate's own classifier, a baseline).
        case discriminant
    }

    /// Plain fine-tuning: no growth, no replay, no covariance machinery in the way.
    public static var fineTuning: LearnerConfiguration {
        var c = LearnerConfiguration()
        c.growth.enabled = false
        c.growOnNovelClasses = false
        c.replayCapacity = 0
        c.gate = .learned
        return c
    }

    /// Fine-tuning with a replay buffer of `capacity` samples.
    public static func replay(_ capacity: Int) -> LearnerConfiguration {
        var c = fineTuning
        c.replayCapacity = capacity
        return c
    }

    /// Checks the values a user can set.
    public func validate() throws(LearnerError) {
        func fail(_ reason: String) throws(LearnerError) { throw .invalidConfiguration(reason) }
        if hidden.isEmpty || hidden.contains(where: { $0 < 1 }) { try fail("hidden widths must be positive, got \(hidden)") }
        if !(learningRate > 0 && learningRate.isFinite) { try fail("the learning rate must be a positive number, got \(learningRate)") }
        if covarianceStrength < 0 || !covarianceStrength.isFinite { try fail("the covariance strength must be >= 0, got \(covarianceStrength)") }
        if replayCapacity < 0 { try fail("the replay capacity must be >= 0, got \(replayCapacity)") }
        if replayPerStep < 0 { try fail("replayed samples per step must be >= 0, got \(replayPerStep)") }
        if stepsPerBatch < 1 { try fail("steps per batch must be >= 1, got \(stepsPerBatch)") }
        if windowSize < 1 { try fail("the window must hold at least one sample, got \(windowSize)") }
        if statisticsHalfLife < 0 { try fail("the statistics half-life must be >= 0, got \(statisticsHalfLife)") }
        if expertWidth < 1 { try fail("the expert width must be positive, got \(expertWidth)") }
        if refitEvery < 1 { try fail("refit-every must be positive, got \(refitEvery)") }
        if case let .classPosterior(f) = gate, f < 1 { try fail("the gate needs at least one random feature, got \(f)") }
        if predictor == .discriminant, case .learned = gate {
            try fail("the discriminant predictor needs the class-posterior gate's statistics; choose gate classPosterior")
        }
    }
}

/// A learner cannot do what it was asked.
public enum LearnerError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidConfiguration(String)
    case widthMismatch(expected: Int, actual: Int, source: String)
    case invalidLabel(label: Int, row: Int, source: String)
    case nonFinite(row: Int, column: Int, source: String)
    case emptyBatch(source: String)
    case labelCountMismatch(rows: Int, labels: Int, source: String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(reason): "invalid learner configuration: \(reason)"
        case let .widthMismatch(expected, actual, source):
            "\(source): rows have \(actual) features, the learner expects \(expected)"
        case let .invalidLabel(label, row, source): "\(source), row \(row): label \(label) is negative"
        case let .nonFinite(row, column, source): "\(source), row \(row), column \(column): value is not finite"
        case let .emptyBatch(source): "\(source): the batch is empty"
        case let .labelCountMismatch(rows, labels, source):
            "\(source): \(rows) rows but \(labels) labels; every row needs exactly one label"
        }
    }
}
