import Logging
import MoE

/// The continual learner under the driver: a batch is `observe`d with its pass.
extension Learner: StreamLearner {
    public typealias Step = StepReport

    public var learnedBatches: Int { counters.batches }
    public var learnedSamples: Int { counters.samples }
    public var expertCount: Int { model.experts.count }

    /// Trainable and frozen parameter counts and experts, now.
    public var modelSize: ModelSize { ModelSize(of: model) }

    public mutating func learn(_ batch: Batch, source: String, logger: Logger?) throws -> StepReport {
        try observe(features: batch.features, labels: batch.labels, source: source, pass: batch.pass, logger: logger)
    }

    public mutating func nameClasses(_ labels: [String]) {
        classLabels = labels
    }

    /// Class `index`'s raw label, or its index while unnamed.
    func classLabel(_ index: Int) -> String {
        classLabels.indices.contains(index) ? classLabels[index] : String(index)
    }

    public mutating func beginExperience(_ index: Int) {
        prequential.beginExperience(index)
    }

    public func readyToPredict() -> Learner { snapshot() }

    public func score(features: Matrix, labels: [Int], among classes: Set<Int>?) -> Double {
        accuracy(features: features, labels: labels, among: classes)
    }

    /// Scales the set and computes its gate features once (or takes them from `cache`),
    /// then predicts under every restriction from them.
    public func scores(features: Matrix, labels: [Int], among restrictions: [Set<Int>?], set: Int,
                       cache: inout EvaluationCache) -> [Double] {
        guard features.rows > 0 else { return restrictions.map { _ in 0 } }
        let ready = needsSnapshot ? snapshot() : self
        let prepared: PreparedRows
        if let kept = cache.prepared[set], kept.rows == features.rows, ready.canUse(kept) {
            prepared = kept
        } else {
            cache.prepared[set] = nil
            prepared = ready.prepare(features)
            if cache.bytes + prepared.bytes <= cache.capacityBytes { cache.prepared[set] = prepared }
        }
        // Every restriction changes only the gate's head: the first pass lends its trunk
        // activations to the others.
        var first: MixtureOfExperts.Forward?
        return restrictions.map { classes in
            let (predicted, pass) = ready.predictAndPass(prepared: prepared, among: classes, reusingTrunkOf: first)
            if first == nil { first = pass }
            let correct = zip(predicted, labels).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
            return Double(correct) / Double(features.rows)
        }
    }
}
