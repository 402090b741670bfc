/// Mini-batch training of a `MixtureOfExperts` on an in-memory data set: shuffle with a
/// seeded generator, then one optimizer step per batch.
///
/// ```
/// var trainer = Trainer(optimizer: Adam(learningRate: 1e-3), batchSize: 128, seed: 1)
/// let summary = trainer.epoch(&model, features: x, labels: y)
/// ```
///
/// The trainer's generator state is part of the learner's checkpoint, so an epoch
/// started after a resume shuffles exactly as it would have without the stop.
public struct Trainer<O: Optimizer>: Sendable {
    public var optimizer: O
    public var batchSize: Int
    public var generator: SeededGenerator
    /// Optimizer steps taken so far.
    public var steps: Int = 0
    /// The buffers of a plain MLP's step (see `MLPStep`), kept from step to step.
    private var mlpStep = MLPStep()

    public init(optimizer: O, batchSize: Int = 128, seed: UInt64) {
        precondition(batchSize > 0, "Batch size must be positive")
        self.optimizer = optimizer
        self.batchSize = batchSize
        self.generator = SeededGenerator(seed: seed)
    }

    /// What one epoch did.
    public struct EpochSummary: Sendable, Equatable {
        public var meanLoss: Double
        public var trainingAccuracy: Double
        public var samples: Int
        public var steps: Int
    }

    /// One step on one batch; returns the batch loss and how many rows were classified
    /// correctly *before* the step.
    ///
    /// A model without experts or output extensions trains through `MLPStep` (the same
    /// result, bit for bit, with no allocation per step); any other model through
    /// `lossAndGradients` and `Optimizer.update`.
    public mutating func step(_ model: inout MixtureOfExperts, features: Matrix, labels: [Int]) -> (loss: Float, correct: Int) {
        if let result = mlpStep.train(&model, input: features, labels: labels, optimizer: &optimizer) {
            steps += 1
            return result
        }
        let (loss, gradients, pass) = model.lossAndGradients(features, labels: labels)
        let predictions = pass.logits.argmaxRows()
        var correct = 0
        for (p, y) in zip(predictions, labels) where p == y { correct += 1 }
        optimizer.update(&model, gradients: gradients, frozen: model.frozen)
        steps += 1
        return (loss, correct)
    }

    /// One pass over the data in a fresh seeded order.
    ///
    /// - Parameter progress: called after every batch with (samples done, running mean loss, running accuracy).
    public mutating func epoch(
        _ model: inout MixtureOfExperts, features: Matrix, labels: [Int],
        progress: ((Int, Double, Double) -> Void)? = nil
    ) -> EpochSummary {
        precondition(features.rows == labels.count, "\(features.rows) rows but \(labels.count) labels")
        let order = generator.permutation(features.rows)
        var lossSum = 0.0, correct = 0, done = 0, batches = 0
        var start = 0
        while start < order.count {
            let end = min(start + batchSize, order.count)
            let rows = order[start..<end]
            let x = features.gatherRows(rows)
            let y = rows.map { labels[$0] }
            let (loss, right) = step(&model, features: x, labels: y)
            lossSum += Double(loss) * Double(y.count)
            correct += right
            done += y.count
            batches += 1
            progress?(done, lossSum / Double(done), Double(correct) / Double(done))
            start = end
        }
        return EpochSummary(
            meanLoss: done > 0 ? lossSum / Double(done) : 0,
            trainingAccuracy: done > 0 ? Double(correct) / Double(done) : 0,
            samples: done, steps: batches)
    }
}

extension MixtureOfExperts {
    /// Fraction of rows classified correctly, evaluated in chunks to bound memory.
    public func accuracy(features: Matrix, labels: [Int], chunk: Int = 4096) -> Double {
        precondition(features.rows == labels.count, "\(features.rows) rows but \(labels.count) labels")
        guard features.rows > 0 else { return 0 }
        var correct = 0
        var start = 0
        while start < features.rows {
            let end = min(start + chunk, features.rows)
            let predictions = predict(features.rows(start..<end))
            for (i, p) in predictions.enumerated() where p == labels[start + i] { correct += 1 }
            start = end
        }
        return Double(correct) / Double(features.rows)
    }
}
