import Logging
import MoE

/// The continual learner under the driver: a batch is `observe`d with its pass.
extension Learner: StreamLearner {
    public typealias Step = StepReport

    public var learnedBatches: Int { counters.batches }
    public var learnedSamples: Int { counters.samples }
    public var expertCount: Int { model.experts.count }

    /// Trainable and frozen parameter counts and experts, now.
    public var modelSize: ModelSize {
        var trainable = 0, frozen = 0
        model.forEachParameter { path, value in
            if model.frozen.contains(path) { frozen += value.count } else { trainable += value.count }
        }
        return ModelSize(trainableParameters: trainable, frozenParameters: frozen, experts: model.experts.count)
    }

    public mutating func learn(_ batch: Batch, source: String, logger: Logger?) throws -> StepReport {
        try observe(features: batch.features, labels: batch.labels, source: source, pass: batch.pass, logger: logger)
    }

    public mutating func beginExperience(_ index: Int) {
        prequential.beginExperience(index)
    }

    public func readyToPredict() -> Learner { snapshot() }

    public func score(features: Matrix, labels: [Int], among classes: Set<Int>?) -> Double {
        accuracy(features: features, labels: labels, among: classes)
    }
}
