import Continual
import MoE

/// The whole state of a `moe train` run: enough to stop after any batch and continue in
/// another process with bit-identical results.
///
/// In the checkpoint (format version 1):
///
/// ```
/// /training/counters   epoch (epochs completed), batch (batches done in the epoch in
///                      progress), steps, samples
/// /training/generators shuffle: the trainer's generator before the permutation of the
///                      epoch in progress (the next epoch at a boundary)
/// /optimizer           Adam: moments and per-parameter step counts
/// /sections/train      the run's settings (batch_size, learning_rate, seed, activation,
///                      limit, training_samples) and the running sums of the epoch in
///                      progress (epoch_loss_sum, epoch_correct, epoch_samples)
/// ```
struct TrainingRun {
    /// What defines a run; a resumed run keeps them.
    struct Settings: Equatable {
        var hidden: [Int]
        var activation: Activation
        var batchSize: Int
        var learningRate: Float
        var seed: UInt64
        var limit: Int?
    }

    static let sectionName = "train"

    var settings: Settings
    var model: MixtureOfExperts
    var trainer: Trainer<Adam>
    /// Rows of the training set this run uses.
    var trainingSamples: Int
    /// Epochs completed.
    var completedEpochs = 0
    /// Batches done in the epoch in progress (0 at an epoch boundary).
    var batchInEpoch = 0
    /// The trainer's generator before the permutation of the epoch in progress.
    var epochStart: SeededGenerator
    /// Running sums of the epoch in progress, for its summary line.
    var epochLossSum = 0.0
    var epochCorrect = 0
    var epochSamples = 0
    /// Samples trained on, over all epochs.
    var samplesSeen = 0

    /// A new run: weights drawn from `settings.seed`, then the shuffle seed.
    init(settings: Settings, inputWidth: Int, classCount: Int, trainingSamples: Int) {
        self.settings = settings
        var generator = SeededGenerator(seed: settings.seed)
        let sizes = [inputWidth] + settings.hidden + [classCount]
        model = MixtureOfExperts(sizes: sizes, activation: settings.activation, generator: &generator)
        trainer = Trainer(optimizer: Adam(learningRate: settings.learningRate), batchSize: settings.batchSize,
                          seed: generator.next())
        epochStart = trainer.generator
        self.trainingSamples = trainingSamples
    }

    /// The run saved in `checkpoint` by `checkpoint(description:)`.
    init(checkpoint: Checkpoint) throws(CheckpointError) {
        model = try checkpoint.makeModel()
        let adam = try checkpoint.makeAdam(for: model)
        let section = try checkpoint.section(Self.sectionName)
        let activationName = try section.string("activation")
        guard let activation = Activation(rawValue: activationName) else {
            throw .invalidValue(path: "/sections/train@activation", reason: "unknown activation '\(activationName)'",
                                file: checkpoint.source)
        }
        let batchSize = Int(try section.int("batch_size"))
        guard batchSize >= 1 else {
            throw .invalidValue(path: "/sections/train@batch_size", reason: "\(batchSize) is not a batch size",
                                file: checkpoint.source)
        }
        let limit = section.attributes["limit"] == nil ? nil : Int(try section.int("limit"))
        settings = Settings(
            hidden: model.trunk.hiddenWidths, activation: activation, batchSize: batchSize,
            learningRate: Float(try section.double("learning_rate")),
            seed: UInt64(bitPattern: try section.int("seed")), limit: limit)
        trainer = Trainer(optimizer: adam, batchSize: batchSize, seed: 0)
        trainer.generator = try checkpoint.generator("shuffle")
        epochStart = trainer.generator
        let counters = checkpoint.training?.counters ?? [:]
        func counter(_ name: String) throws(CheckpointError) -> Int {
            guard let value = counters[name] else { throw .missing(path: "/training/counters@\(name)", file: checkpoint.source) }
            guard value >= 0 else {
                throw .invalidValue(path: "/training/counters@\(name)", reason: "\(value) is negative", file: checkpoint.source)
            }
            return Int(value)
        }
        completedEpochs = try counter("epoch")
        batchInEpoch = try counter("batch")
        trainer.steps = try counter("steps")
        samplesSeen = try counter("samples")
        trainingSamples = Int(try section.int("training_samples"))
        epochLossSum = try section.double("epoch_loss_sum")
        epochCorrect = Int(try section.int("epoch_correct"))
        epochSamples = Int(try section.int("epoch_samples"))
    }

    /// The run as a checkpoint.
    func checkpoint(description: String) -> Checkpoint {
        var section = CheckpointSection()
        section.attributes = [
            "activation": .string(settings.activation.rawValue),
            "batch_size": .int(Int64(settings.batchSize)),
            "learning_rate": .double(Double(settings.learningRate)),
            "seed": .int(Int64(bitPattern: settings.seed)),
            "training_samples": .int(Int64(trainingSamples)),
            "epoch_loss_sum": .double(epochLossSum),
            "epoch_correct": .int(Int64(epochCorrect)),
            "epoch_samples": .int(Int64(epochSamples)),
        ]
        if let limit = settings.limit { section.attributes["limit"] = .int(Int64(limit)) }
        let training = Checkpoint.TrainingState(
            learningRate: Double(trainer.optimizer.learningRate),
            counters: ["epoch": Int64(completedEpochs), "batch": Int64(batchInEpoch),
                       "steps": Int64(trainer.steps), "samples": Int64(samplesSeen)],
            generators: ["shuffle": epochStart.state])
        return Checkpoint(model: model, optimizer: trainer.optimizer, training: training,
                          sections: [Self.sectionName: section], description: description)
    }

    /// The layer sizes, `784-256-128-10`.
    var sizesText: String {
        ([model.inputWidth] + model.trunk.hiddenWidths + [model.classCount]).map(String.init).joined(separator: "-")
    }

    /// One pass over what remains of epoch `epoch` (all of it at a boundary): a fresh
    /// seeded order, one Adam step per batch.
    ///
    /// - Parameter afterBatch: called after every step with the run (for progress and
    ///   periodic checkpoints), the epoch counters already updated; returning false stops
    ///   the epoch there (the run can be saved and resumed from that batch).
    /// - Returns: false if `afterBatch` stopped the epoch.
    @discardableResult
    mutating func trainEpoch(
        _ epoch: Int, features: Matrix, labels: [Int], afterBatch: (TrainingRun) -> Bool
    ) -> Bool {
        precondition(epoch == completedEpochs + 1, "epoch \(epoch) follows \(completedEpochs) completed epochs")
        if batchInEpoch == 0 {
            epochStart = trainer.generator
            epochLossSum = 0
            epochCorrect = 0
            epochSamples = 0
        } else {
            // Resumed mid-epoch: replay the epoch's permutation, skip the batches done.
            trainer.generator = epochStart
        }
        let order = trainer.generator.permutation(features.rows)
        let batchSize = settings.batchSize
        let batches = (order.count + batchSize - 1) / batchSize
        precondition(batchInEpoch < batches, "batch \(batchInEpoch) of an epoch of \(batches) batches")
        for b in batchInEpoch..<batches {
            let rows = order[(b * batchSize)..<min((b + 1) * batchSize, order.count)]
            let y = rows.map { labels[$0] }
            let (loss, correct) = trainer.step(&model, features: features.gatherRows(rows), labels: y)
            epochLossSum += Double(loss) * Double(y.count)
            epochCorrect += correct
            epochSamples += y.count
            samplesSeen += y.count
            batchInEpoch = b + 1
            if batchInEpoch == batches {
                completedEpochs = epoch
                batchInEpoch = 0
                epochStart = trainer.generator
            }
            if !afterBatch(self) { return false }
        }
        return true
    }
}
