import Foundation
import Logging
import MoE

/// A network trained by the plain `Trainer` (Adam on cross-entropy, one step per batch):
/// what `moe train` runs, under the same ``StreamDriver`` as the continual learner.
///
/// Its stream is a training set read in epochs (a ``StreamSource/trainingSet(_:)`` source:
/// a fresh seeded order per pass). An epoch is one pass, so `batch.pass` is the epoch in
/// progress and sets the learning rate, a cosine from `learningRate` (first epoch) down to
/// 5% of it (epoch `epochs`):
///
/// ```
/// rate(e) = base · (0.05 + 0.95 · ½ (1 + cos(π (e - 1) / (epochs - 1))))
/// ```
///
/// In the checkpoint (format version 1): the model and Adam's state; `/training/counters`
/// `epoch` (epochs completed), `batch` (batches done in the epoch in progress), `steps`,
/// `samples`; `/sections/train` the settings (`activation`, `learning_rate`, `seed`,
/// `training_samples`, `shuffle_seed`) and the running sums of the epoch in progress
/// (`epoch_loss_sum`, `epoch_correct`, `epoch_samples`). The stream's position is the
/// driver's (`/sections/stream`).
public struct PlainLearner: StreamLearner {
    /// What defines the network and its training; a resumed run keeps them.
    public struct Settings: Sendable, Equatable {
        public var hidden: [Int]
        public var activation: Activation
        public var learningRate: Float
        /// Seed of the weights (and, drawn after them, of the training order).
        public var seed: UInt64
        /// Rows of the training set: an epoch ends after this many samples.
        public var trainingSamples: Int

        public init(hidden: [Int], activation: Activation = .relu, learningRate: Float = 1e-3, seed: UInt64 = 1,
                    trainingSamples: Int) {
            self.hidden = hidden
            self.activation = activation
            self.learningRate = learningRate
            self.seed = seed
            self.trainingSamples = trainingSamples
        }
    }

    /// What one batch did.
    public struct Step: Sendable, Equatable {
        /// The batch's mean cross-entropy, before the step.
        public var loss: Float
        /// Rows classified right before the step.
        public var correct: Int
        public var samples: Int
        /// The epoch (1-based) the batch belongs to, and whether it was its last batch.
        public var epoch: Int
        public var endedEpoch: Bool
    }

    public static let sectionName = "train"

    public let settings: Settings
    public private(set) var model: MixtureOfExperts
    public private(set) var trainer: Trainer<Adam>
    /// The seed of the training order: the first draw after the weights.
    public let shuffleSeed: UInt64
    /// Epochs the learning-rate schedule spans (the stream's passes; a resumed run may
    /// extend it).
    public var epochs: Int
    /// Epochs completed.
    public private(set) var completedEpochs = 0
    /// Batches done in the epoch in progress (0 at an epoch boundary).
    public private(set) var batchInEpoch = 0
    /// Running sums of the epoch in progress (of the last epoch, at a boundary).
    public private(set) var epochLossSum = 0.0
    public private(set) var epochCorrect = 0
    public private(set) var epochSamples = 0
    /// Samples trained on, over all epochs.
    public private(set) var samplesSeen = 0

    /// A new network: weights drawn from `settings.seed`, then the training order's seed.
    public init(settings: Settings, inputWidth: Int, classCount: Int, epochs: Int) {
        precondition(settings.trainingSamples > 0, "A training set holds at least one sample")
        precondition(epochs > 0, "At least one epoch")
        self.settings = settings
        var generator = SeededGenerator(seed: settings.seed)
        model = MixtureOfExperts(sizes: [inputWidth] + settings.hidden + [classCount], activation: settings.activation,
                                 generator: &generator)
        shuffleSeed = generator.next()
        trainer = Trainer(optimizer: Adam(learningRate: settings.learningRate), seed: shuffleSeed)
        self.epochs = epochs
    }

    public var inputWidth: Int { model.inputWidth }
    public var classCount: Int { model.classCount }
    public var learnedBatches: Int { trainer.steps }
    public var learnedSamples: Int { samplesSeen }
    public var expertCount: Int { model.experts.count }
    public var modelSize: ModelSize { ModelSize(of: model) }

    /// The layer sizes, `784-256-128-10`.
    public var sizesText: String {
        ([model.inputWidth] + model.trunk.hiddenWidths + [model.classCount]).map(String.init).joined(separator: "-")
    }

    /// The learning rate of epoch `epoch` (1-based) under the cosine schedule.
    public func learningRate(epoch: Int) -> Float {
        guard epochs > 1 else { return settings.learningRate }
        let progress = Double(epoch - 1) / Double(epochs - 1)
        return settings.learningRate * Float(0.05 + 0.95 * 0.5 * (1 + cos(Double.pi * progress)))
    }

    /// One Adam step on the batch at the rate of its epoch.
    public mutating func learn(_ batch: Batch, source: String, logger: Logger?) throws -> Step {
        guard batch.features.columns == inputWidth else {
            throw StreamError.widthMismatch(source: source, expected: inputWidth, actual: batch.features.columns, checkpoint: nil)
        }
        if let label = batch.labels.first(where: { $0 < 0 || $0 >= classCount }) {
            throw StreamError.labelOutsideModel(source: source, label: label, classCount: classCount)
        }
        if batchInEpoch == 0 {
            epochLossSum = 0
            epochCorrect = 0
            epochSamples = 0
        }
        let epoch = batch.pass + 1
        trainer.optimizer.learningRate = learningRate(epoch: epoch)
        let (loss, correct) = trainer.step(&model, features: batch.features, labels: batch.labels)
        epochLossSum += Double(loss) * Double(batch.count)
        epochCorrect += correct
        epochSamples += batch.count
        samplesSeen += batch.count
        batchInEpoch += 1
        let ended = epochSamples >= settings.trainingSamples
        if ended {
            completedEpochs = epoch
            batchInEpoch = 0
        }
        return Step(loss: loss, correct: correct, samples: batch.count, epoch: epoch, endedEpoch: ended)
    }

    public func readyToPredict() -> PlainLearner { self }

    public func score(features: Matrix, labels: [Int], among classes: Set<Int>?) -> Double {
        guard let classes else { return model.accuracy(features: features, labels: labels) }
        guard features.rows > 0 else { return 0 }
        let logits = model(features)
        let allowed = classes.filter { $0 < logits.columns }.sorted()
        var correct = 0
        for r in 0..<features.rows {
            let best = allowed.max { logits[r, $0] < logits[r, $1] }
            if best == labels[r] { correct += 1 }
        }
        return Double(correct) / Double(features.rows)
    }

    /// Mean loss and accuracy of the epoch in progress (of the last one at a boundary).
    public var epochLoss: Double { epochLossSum / Double(max(epochSamples, 1)) }
    public var epochAccuracy: Double { Double(epochCorrect) / Double(max(epochSamples, 1)) }
}

extension PlainLearner {
    public func checkpoint(description: String, sections extra: [String: CheckpointSection]) -> Checkpoint {
        let section = CheckpointSection(attributes: [
            "activation": .string(settings.activation.rawValue),
            "learning_rate": .double(Double(settings.learningRate)),
            "seed": .int(Int64(bitPattern: settings.seed)),
            "shuffle_seed": .int(Int64(bitPattern: shuffleSeed)),
            "training_samples": .int(Int64(settings.trainingSamples)),
            "epochs": .int(Int64(epochs)),
            "epoch_loss_sum": .double(epochLossSum),
            "epoch_correct": .int(Int64(epochCorrect)),
            "epoch_samples": .int(Int64(epochSamples)),
        ])
        var sections = extra
        sections[Self.sectionName] = section
        let training = Checkpoint.TrainingState(learningRate: Double(trainer.optimizer.learningRate), counters: [
            "epoch": Int64(completedEpochs), "batch": Int64(batchInEpoch),
            "steps": Int64(trainer.steps), "samples": Int64(samplesSeen),
        ])
        return Checkpoint(model: model, optimizer: trainer.optimizer, training: training, sections: sections,
                          description: description)
    }

    /// The network and its training saved by ``checkpoint(description:sections:)``.
    public init(checkpoint: Checkpoint) throws(CheckpointError) {
        let file = checkpoint.source
        model = try checkpoint.makeModel()
        let adam = try checkpoint.makeAdam(for: model)
        let section = try checkpoint.section(Self.sectionName)
        let path = "/sections/\(Self.sectionName)"
        let activationName = try section.string("activation")
        guard let activation = Activation(rawValue: activationName) else {
            throw .invalidValue(path: path + "@activation", reason: "unknown activation '\(activationName)'", file: file)
        }
        func count(_ name: String) throws(CheckpointError) -> Int {
            let value = try section.int(name)
            guard value >= 0 else { throw .invalidValue(path: path + "@" + name, reason: "\(value) is negative", file: file) }
            return Int(value)
        }
        let trainingSamples = try count("training_samples")
        guard trainingSamples > 0 else {
            throw .invalidValue(path: path + "@training_samples", reason: "a training set holds at least one sample", file: file)
        }
        let rate = try section.double("learning_rate")
        guard rate > 0 && rate.isFinite else {
            throw .invalidValue(path: path + "@learning_rate", reason: "\(rate) is not a learning rate", file: file)
        }
        settings = Settings(
            hidden: model.trunk.hiddenWidths, activation: activation, learningRate: Float(rate),
            seed: UInt64(bitPattern: try section.int("seed")), trainingSamples: trainingSamples)
        shuffleSeed = UInt64(bitPattern: try section.int("shuffle_seed"))
        epochs = section.attributes["epochs"] == nil ? 1 : max(1, try count("epochs"))
        trainer = Trainer(optimizer: adam, seed: shuffleSeed)
        let counters = checkpoint.training?.counters ?? [:]
        func counter(_ name: String) throws(CheckpointError) -> Int {
            guard let value = counters[name] else { throw .missing(path: "/training/counters@\(name)", file: file) }
            guard value >= 0 else {
                throw .invalidValue(path: "/training/counters@\(name)", reason: "\(value) is negative", file: file)
            }
            return Int(value)
        }
        completedEpochs = try counter("epoch")
        batchInEpoch = try counter("batch")
        trainer.steps = try counter("steps")
        samplesSeen = try counter("samples")
        epochLossSum = try section.double("epoch_loss_sum")
        epochCorrect = try count("epoch_correct")
        epochSamples = try count("epoch_samples")
    }
}
