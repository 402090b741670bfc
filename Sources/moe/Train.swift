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

            --save NAME writes the model, Adam's state, the epoch counters and the stream's \
            position to Checkpoints/NAME.h5 at the end (a path with a folder is used as \
            given; .h5 is added to a name without extension), and every N batches with \
            --checkpoint-every N. --resume PATH continues exactly where the checkpoint \
            stopped, even mid-epoch: the architecture, batch size, learning rate, seed and \
            limit come from the checkpoint, and --epochs counts from the start of the first \
            run, so `--epochs 1 --save B` then `--resume B --epochs 2` ends with the very \
            weights of `--epochs 2`. Without --save, a resumed run saves over its checkpoint.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var network: NetworkOptions
    @OptionGroup var checkpoints: CheckpointRunOptions
    @OptionGroup var keys: CheckpointKeyOptions

    @Option(help: "Total passes over the training set, counted from the start of the first run (with --resume too).")
    var epochs: Int = 10

    @Option(name: .customLong("learning-rate"), help: "Adam's initial step size, decaying by a cosine schedule to 5% of it (default 0.001).")
    var learningRate: Float?

    @Option(help: "Hidden nonlinearity: relu, tanh or sigmoid (default relu).")
    var activation: Activation?

    @OptionGroup var data: DataFolderOption

    @Option(help: "Use only the first N training samples (quick runs).")
    var limit: Int?

    @Option(name: .customLong("stop-after-steps"), help: ArgumentHelp(
        "Stop once the run has taken N optimizer steps in all, save, and evaluate (simulates an interruption, for tests).",
        visibility: .hidden))
    var stopAfterSteps: Int?

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if let learningRate, !(learningRate > 0 && learningRate.isFinite) {
            throw ValidationError("--learning-rate must be a positive number")
        }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let stopAfterSteps, stopAfterSteps < 1 { throw ValidationError("--stop-after-steps must be at least 1") }
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
        let test = try failingClearly { try FashionMNIST.load(split: .test, directory: data.folder) }
        let policy = CheckpointPolicy(
            path: try checkpoints.savePath(), everyBatches: checkpoints.checkpointEvery ?? 0, atEachExperience: false,
            title: "moe train", signingKey: try keys.signingKey())
        let evaluation = TestSetEvaluation<PlainLearner>(test: test)
        let lines = TrainLines(console: console)
        let plugins: [any StreamPlugin<PlainLearner>] = [lines, evaluation]
        let driver: StreamDriver<PlainLearner>
        if let resume = checkpoints.resume {
            let loaded = try loadCheckpoint(resume, keys: keys)
            let file = loaded.source ?? resume
            var learner = try failingClearly { try PlainLearner(checkpoint: loaded) }
            try keepSavedThreads(of: loaded, file: file, console: console)
            try checkResumable(learner, source: try failingClearly { try StreamDriver<PlainLearner>.savedStream(in: loaded) }, file: file)
            learner.epochs = epochs
            driver = try failingClearly {
                try StreamDriver(resuming: loaded, learner: learner, dataDirectory: data.directory, passes: epochs,
                                 policy: policy, plugins: plugins)
            }
            console.say("resuming \(file) after \(learner.completedEpochs) epoch(s) and \(learner.batchInEpoch) batch(es), step \(learner.trainer.steps)")
            if learner.completedEpochs >= epochs {
                console.say("the checkpoint has already trained \(learner.completedEpochs) epoch(s); nothing to do for --epochs \(epochs)")
            }
        } else {
            let source = StreamSource.TrainingSetSettings(
                dataDirectory: data.directory, limit: limit, batchSize: network.batchSize ?? 128, epochs: epochs, shuffleSeed: 0)
            let train = try failingClearly { try source.load() }
            let settings = PlainLearner.Settings(
                hidden: network.hiddenWidths(default: [256, 128]), activation: activation ?? .relu,
                learningRate: learningRate ?? 1e-3, seed: common.seed, trainingSamples: train.count)
            let learner = PlainLearner(settings: settings, inputWidth: train.inputWidth, classCount: train.classCount, epochs: epochs)
            var seeded = source
            seeded.shuffleSeed = learner.shuffleSeed
            driver = try failingClearly {
                try StreamDriver(learner: learner, source: .trainingSet(seeded), policy: policy, plugins: plugins)
            }
        }
        let learner = driver.learner!
        try failingClearly {
            try test.requireInputWidth(learner.inputWidth)
            try test.requireLabels(below: learner.classCount)
        }
        let s = learner.settings
        console.say("MLP \(learner.sizesText) (\(learner.model.parameterCount) parameters), Adam, batch \(driver.source.batchSize), seed \(s.seed), \(s.trainingSamples) training samples; BLAS kernel \(BLAS.info.kernel)")
        var outcome = RunOutcome.finished
        let interrupts = Interrupts(saves: policy.path != nil) { console.warn($0) }
        if learner.completedEpochs < epochs {
            let stop = StopCondition(batches: stopAfterSteps, request: interrupts.request)
            outcome = try failingClearly { try driver.run(until: stop) }
        } else {
            evaluation.atEnd(driver)
        }
        let trained = driver.learner!
        if outcome == .paused {
            console.progress("stopped after step \(trained.trainer.steps) (epoch \(trained.completedEpochs + 1), batch \(trained.batchInEpoch))", final: true)
        }
        if let saved = driver.lastSaved { console.say("saved \(saved)") }
        let accuracy = evaluation.accuracy ?? 0
        let rate = driver.samplesLearnedHere > 0 ? driver.samplesPerSecond : nil
        console.say("test accuracy \(fixed(accuracy)) on \(test.count) samples" + (rate.map { "; \(fixed($0, 0)) training samples/s" } ?? ""))
        try console.emit(Output(
            testAccuracy: accuracy, epochs: trained.completedEpochs, steps: trained.trainer.steps, trainSamplesPerSecond: rate,
            trainAccuracy: trained.epochSamples > 0 ? trained.epochAccuracy : nil,
            parameters: trained.model.parameterCount, seed: s.seed, checkpoint: driver.lastSaved, blasKernel: BLAS.info.kernel))
        if let status = interrupts.exitStatus { throw ExitCode(status) }
    }

    /// A resumed run may not change what defines it.
    func checkResumable(
        _ learner: PlainLearner, source saved: (source: StreamSource, position: StreamProgress)?, file: String
    ) throws(CommandFailure) {
        guard let saved, case let .trainingSet(t) = saved.source else {
            throw CommandFailure("checkpoint '\(file)' holds no training run to resume (no /sections/stream of a training set)")
        }
        let s = learner.settings
        try refuseChange("hidden", given: network.hidden.flatMap(NetworkOptions.widths), saved: s.hidden, file: file) {
            $0.map(String.init).joined(separator: ",")
        }
        try refuseChange("activation", given: activation, saved: s.activation, file: file) { $0.rawValue }
        try refuseChange("batch-size", given: network.batchSize, saved: t.batchSize, file: file)
        try refuseChange("learning-rate", given: learningRate, saved: s.learningRate, file: file)
        try refuseChange("seed", given: common.givenSeed, saved: s.seed, file: file)
        if let limit, limit != t.limit {
            throw CommandFailure("--limit \(limit) differs from \(t.limit.map(String.init) ?? "no limit") in checkpoint '\(file)'; a resumed run keeps its settings (drop the option)")
        }
    }
}

/// The progress lines of `moe train`: the epoch in progress (on a terminal) and one line
/// per finished epoch; a warning when a periodic save fails.
final class TrainLines: StreamPlugin {
    typealias L = PlainLearner

    let console: Console
    private var epochStart = ContinuousClock.now
    private var epochSamples = 0
    private var lastPrint = -1.0

    init(console: Console) { self.console = console }

    func afterBatch(_ driver: StreamDriver<PlainLearner>, _ event: BatchEvent<PlainLearner.Step>) {
        guard let learner = driver.learner else { return }
        let epochs = learner.epochs, epoch = event.step.epoch
        epochSamples += event.samples
        if event.step.endedEpoch {
            let rate = Double(epochSamples) / max(seconds(since: epochStart), 1e-9)
            console.progress("epoch \(epoch)/\(epochs)  \(fixed(rate, 0)) samples/s  loss \(fixed(learner.epochLoss))  train accuracy \(fixed(learner.epochAccuracy))", final: true)
            epochStart = .now
            epochSamples = 0
            lastPrint = -1
            return
        }
        let elapsed = seconds(since: epochStart)
        guard elapsed - lastPrint > 0.25 else { return }
        lastPrint = elapsed
        console.progress("epoch \(epoch)/\(epochs)  \(learner.epochSamples)/\(learner.settings.trainingSamples)  loss \(fixed(learner.epochLoss))  accuracy \(fixed(learner.epochAccuracy))")
    }

    func onCheckpoint(_ driver: StreamDriver<PlainLearner>, _ event: CheckpointEvent) {
        if case let .failed(_, .periodic, error) = event {
            console.warn("\(CommandFailure(error)); training goes on, the previous checkpoint is intact")
        }
    }
}
