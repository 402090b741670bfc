import ArgumentParser
import Continual
import Foundation
import MoE

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train an MLP classifier on Fashion-MNIST (or IDX files), save it, resume it, report test accuracy.",
        discussion: """
            Defaults: Fashion-MNIST from Debian's dataset-fashion-mnist package, MLP \
            784-256-128-10 with ReLU, Adam, batch 128, 10 epochs.

            --save NAME writes the model, Adam's state, the shuffling generator and the \
            epoch counters to Checkpoints/NAME.h5 at the end (a path with a folder is used \
            as given; .h5 is added to a name without extension), and every N batches with \
            --checkpoint-every N. --resume PATH continues exactly where the checkpoint \
            stopped, even mid-epoch: the architecture, batch size, learning rate, seed and \
            limit come from the checkpoint, and --epochs counts from the start of the first \
            run, so `--epochs 1 --save B` then `--resume B --epochs 2` ends with the very \
            weights of `--epochs 2`. Without --save, a resumed run saves over its checkpoint.
            """)

    @OptionGroup var common: CommonOptions

    @OptionGroup var keys: CheckpointKeyOptions

    @Option(help: "Total passes over the training set, counted from the start of the first run (with --resume too).")
    var epochs: Int = 10

    @Option(name: .customLong("batch-size"), help: "Samples per optimizer step (default 128).")
    var batchSize: Int?

    @Option(name: .customLong("learning-rate"), help: "Adam's initial step size, decaying by a cosine schedule to 5% of it (default 0.001).")
    var learningRate: Float?

    @Option(help: "Hidden layer widths, comma-separated (default 256,128).")
    var hidden: String?

    @Option(help: "Hidden nonlinearity: relu, tanh or sigmoid (default relu).")
    var activation: Activation?

    @Option(name: .customLong("data"), help: "Folder holding {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz].")
    var dataDirectory: String = FashionMNIST.defaultDirectory

    @Option(help: "Use only the first N training samples (quick runs).")
    var limit: Int?

    @Option(help: "Save the checkpoint here at the end (a bare name goes to Checkpoints/, .h5 is added).")
    var save: String?

    @Option(help: "Continue training from this checkpoint.")
    var resume: String?

    @Option(name: .customLong("checkpoint-every"), help: "Also save every N batches (a failed periodic save is a warning; training goes on).")
    var checkpointEvery: Int?

    @Option(name: .customLong("stop-after-steps"), help: ArgumentHelp(
        "Stop once the run has taken N optimizer steps in all, save, and evaluate (simulates an interruption, for tests).",
        visibility: .hidden))
    var stopAfterSteps: Int?

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        if let learningRate, !(learningRate > 0 && learningRate.isFinite) {
            throw ValidationError("--learning-rate must be a positive number")
        }
        if let hidden, hiddenSizes(hidden) == nil {
            throw ValidationError("--hidden must be positive integers separated by commas, got '\(hidden)'")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let stopAfterSteps, stopAfterSteps < 1 { throw ValidationError("--stop-after-steps must be at least 1") }
        if let checkpointEvery {
            guard checkpointEvery >= 1 else { throw ValidationError("--checkpoint-every must be at least 1 batch") }
            guard save != nil || resume != nil else {
                throw ValidationError("--checkpoint-every needs a checkpoint to write: give --save (or --resume)")
            }
        }
    }

    func hiddenSizes(_ text: String) -> [Int]? {
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return [] }
        let values = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return values.map { $0! }
    }

    struct Output: Encodable {
        var testAccuracy: Double
        var epochs: Int
        var steps: Int
        var trainSamplesPerSecond: Double?
        var trainAccuracy: Double?
        var parameters: Int
        var seed: UInt64
        var checkpoint: String?
        var blasKernel: String
    }

    func run() throws {
        ignoreFileSizeSignal()
        let console = Console(json: common.json)
        let savePath = try save.map(CheckpointPath.forSaving) ?? resume.map(CheckpointPath.forReading)
        let resumed = try resume.map { argument throws(CommandFailure) in try loadCheckpoint(argument, keys: keys) }
        let signingKey = try keys.signingKey()

        let (train, test) = try failingClearly {
            (try FashionMNIST.load(split: .train, directory: dataDirectory),
             try FashionMNIST.load(split: .test, directory: dataDirectory))
        }
        var run: TrainingRun
        if let resumed {
            run = try failingClearly { try TrainingRun(checkpoint: resumed) }
            try checkResumable(run, file: resumed.source ?? "", train: train)
        } else {
            let settings = TrainingRun.Settings(
                hidden: hidden.flatMap(hiddenSizes) ?? [256, 128], activation: activation ?? .relu,
                batchSize: batchSize ?? 128, learningRate: learningRate ?? 1e-3, seed: common.seed, limit: limit)
            run = TrainingRun(settings: settings, inputWidth: train.inputWidth, classCount: train.classCount,
                              trainingSamples: min(limit ?? train.count, train.count))
        }
        var features = train.features, labels = train.labels
        if run.trainingSamples < features.rows {
            features = features.rows(0..<run.trainingSamples)
            labels = Array(labels[0..<run.trainingSamples])
        }
        let settings = run.settings
        console.say("MLP \(run.sizesText) (\(run.model.parameterCount) parameters), Adam, batch \(settings.batchSize), seed \(settings.seed), \(features.rows) training samples; BLAS kernel \(BLAS.info.kernel)")
        if let resumed {
            console.say("resuming \(resumed.source ?? "") after \(run.completedEpochs) epoch(s) and \(run.batchInEpoch) batch(es), step \(run.trainer.steps)")
        }

        var trainingSeconds = 0.0, trainedSamples = 0
        if run.completedEpochs >= epochs {
            console.say("the checkpoint has already trained \(run.completedEpochs) epoch(s); nothing to do for --epochs \(epochs)")
        }
        var stopped = false
        while run.completedEpochs < epochs && !stopped {
            let epoch = run.completedEpochs + 1
            run.trainer.optimizer.learningRate = cosineRate(epoch: epoch, base: settings.learningRate)
            let start = ContinuousClock.now, samplesBefore = run.samplesSeen
            var lastPrint = 0.0
            stopped = !run.trainEpoch(epoch, features: features, labels: labels) { run in
                if let checkpointEvery, let savePath, run.trainer.steps % checkpointEvery == 0 {
                    do {
                        try run.checkpoint(description: description(of: run)).save(to: savePath, signingKey: signingKey)
                    } catch {
                        warn("\(CommandFailure(error)); training goes on, the previous checkpoint is intact")
                    }
                }
                let elapsed = seconds(since: start)
                if elapsed - lastPrint > 0.25 {
                    lastPrint = elapsed
                    let done = run.completedEpochs == epoch ? features.rows : run.epochSamples
                    console.progress("epoch \(epoch)/\(epochs)  \(done)/\(features.rows)  loss \(fixed(run.epochLossSum / Double(max(run.epochSamples, 1))))  accuracy \(fixed(Double(run.epochCorrect) / Double(max(run.epochSamples, 1))))")
                }
                return stopAfterSteps.map { run.trainer.steps < $0 } ?? true
            }
            let elapsed = seconds(since: start)
            trainingSeconds += elapsed
            trainedSamples += run.samplesSeen - samplesBefore
            if stopped {
                console.progress("stopped after step \(run.trainer.steps) (epoch \(epoch), batch \(run.batchInEpoch))", final: true)
                break
            }
            console.progress("epoch \(epoch)/\(epochs)  \(fixed(Double(run.samplesSeen - samplesBefore) / max(elapsed, 1e-9), 0)) samples/s  loss \(fixed(run.epochLossSum / Double(max(run.epochSamples, 1))))  train accuracy \(fixed(Double(run.epochCorrect) / Double(max(run.epochSamples, 1))))", final: true)
        }
        if let savePath {
            try failingClearly { try run.checkpoint(description: description(of: run)).save(to: savePath, signingKey: signingKey) }
            console.say("saved \(savePath)")
        }
        try failingClearly {
            try test.requireInputWidth(run.model.inputWidth)
            try test.requireLabels(below: run.model.classCount)
        }
        let accuracy = run.model.accuracy(features: test.features, labels: test.labels)
        let rate = trainedSamples > 0 ? Double(trainedSamples) / trainingSeconds : nil
        console.say("test accuracy \(fixed(accuracy)) on \(test.count) samples" + (rate.map { "; \(fixed($0, 0)) training samples/s" } ?? ""))
        try console.emit(Output(
            testAccuracy: accuracy, epochs: run.completedEpochs, steps: run.trainer.steps, trainSamplesPerSecond: rate,
            trainAccuracy: run.epochSamples > 0 ? Double(run.epochCorrect) / Double(run.epochSamples) : nil,
            parameters: run.model.parameterCount, seed: settings.seed, checkpoint: savePath, blasKernel: BLAS.info.kernel))
    }

    /// A resumed run may not change what defines it, and must see the same training set.
    func checkResumable(_ run: TrainingRun, file: String, train: Dataset) throws(CommandFailure) {
        let s = run.settings
        func differ(_ option: String, _ given: String, _ stored: String) -> CommandFailure {
            CommandFailure("--\(option) \(given) differs from \(stored) in checkpoint '\(file)'; a resumed run keeps its settings (drop the option)")
        }
        if let hidden, let sizes = hiddenSizes(hidden), sizes != s.hidden {
            throw differ("hidden", hidden, s.hidden.map(String.init).joined(separator: ","))
        }
        if let activation, activation != s.activation { throw differ("activation", activation.rawValue, s.activation.rawValue) }
        if let batchSize, batchSize != s.batchSize { throw differ("batch-size", "\(batchSize)", "\(s.batchSize)") }
        if let learningRate, learningRate != s.learningRate { throw differ("learning-rate", "\(learningRate)", "\(s.learningRate)") }
        if let limit, limit != s.limit { throw differ("limit", "\(limit)", s.limit.map(String.init) ?? "no limit") }
        guard train.inputWidth == run.model.inputWidth, train.classCount <= run.model.classCount,
              run.trainingSamples <= train.count else {
            throw CommandFailure("checkpoint '\(file)' was trained on \(run.trainingSamples) samples of \(run.model.inputWidth) features and \(run.model.classCount) classes, but \(train.name) has \(train.count) samples of \(train.inputWidth) features and \(train.classCount) classes")
        }
    }

    func description(of run: TrainingRun) -> String {
        "moe train: MLP \(run.sizesText) \(run.settings.activation.rawValue), \(run.trainingSamples) training samples, "
            + "\(run.completedEpochs) epoch(s) and \(run.batchInEpoch) batch(es) done, step \(run.trainer.steps)"
    }

    /// Cosine decay from the initial rate to 5% of it over the epochs.
    func cosineRate(epoch: Int, base: Float) -> Float {
        guard epochs > 1 else { return base }
        let progress = Double(epoch - 1) / Double(epochs - 1)
        return base * Float(0.05 + 0.95 * 0.5 * (1 + cos(Double.pi * progress)))
    }
}

/// Seconds elapsed since `start`.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

extension Activation: ExpressibleByArgument {}
