import ArgumentParser
import Continual
import Foundation
import Logging
import MoE

struct Stream: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stream a continual-learning scenario through the learner, growing experts as needed.",
        discussion: """
            Each batch is predicted first and scored (prequential accuracy), then learned. \
            After every experience the learner is evaluated on every experience's test set \
            (the accuracy matrix). Growth decisions are logged with their reasons. \
            With --cycles N the experiences repeat N times (an endless stream whose memory \
            stays flat): the accuracy matrix shows the last cycle, and every cycle is \
            summarised in one line.
            """)

    @OptionGroup var common: CommonOptions

    @OptionGroup var keys: CheckpointKeyOptions

    @Option(help: "Scenario: split-fmnist (5 experiences of 2 classes) or permuted-fmnist.")
    var scenario: ScenarioChoice = .splitFMNIST

    @Option(help: "Passes over each experience's data.")
    var passes: Int = 2

    @Option(name: .customLong("batch-size"), help: "Samples per batch of the stream.")
    var batchSize: Int = 128

    @Option(help: "Replay buffer capacity in samples (0: no replay).")
    var replay: Int = 500

    @Option(help: "Growth of experts: on (the method) or off (a baseline).")
    var growth: Switch = .on

    @Option(help: "Gate: class-posterior (streaming discriminant) or learned (a softmax gate).")
    var gate: GateOption = .classPosterior

    @Option(help: "Who predicts: mixture (trunk plus experts) or discriminant (the gate's classifier alone).")
    var predictor: LearnerConfiguration.Predictor = .mixture

    @Option(help: "Hidden layer widths of the trunk, comma-separated.")
    var hidden: String = "256,256"

    @Flag(help: "Joint training, the upper bound: all experiences' data as one shuffled experience (split-fmnist).")
    var joint = false

    @Option(help: "Stream the scenario's experiences this many times (experience k is experience k mod count).")
    var cycles: Int = 1

    @Option(name: .customLong("permutations"), help: "Experiences of the permuted scenario.")
    var permutations: Int = 5

    @Option(name: .customLong("stop-after"), help: "Stop after this many experiences, counted over all cycles (pause the stream; resume with --resume).")
    var stopAfter: Int?

    @Option(name: .customLong("data"), help: "Folder holding the Fashion-MNIST IDX files.")
    var dataDirectory: String = FashionMNIST.defaultDirectory

    @Flag(help: "Log every growth decision, including suppressed ones.")
    var verbose = false

    @Option(help: "Save the learner (and the stream's position) here at the end and after every experience (a bare name goes to Checkpoints/).")
    var save: String?

    @Option(name: .customLong("checkpoint-every"), help: "Also save every N batches (needs --save).")
    var checkpointEvery: Int = 0

    @Option(help: "Continue a stream saved with --save, exactly where it stopped (scenario, seed, passes, batch size and cycles come from the checkpoint).")
    var resume: String?

    @Option(help: "Write report.json, accuracy-matrix.svg and prequential.svg into this folder.")
    var report: String?

    @Option(help: "Learn from labelled rows instead of a scenario: csv:PATH (plain or .gz) or stdin.")
    var source: String?

    @Option(name: .customLong("label-column"), help: "With --source: the label column: first, last, a 0-based index, or a header name.")
    var labelColumn: String = "first"

    @Flag(help: "With --source: the first line names the columns.")
    var header = false

    @Flag(name: .customLong("skip-bad-rows"), help: "With --source: skip and count bad rows instead of stopping at the first.")
    var skipBadRows = false

    func validate() throws {
        guard passes >= 1 else { throw ValidationError("--passes must be at least 1, got \(passes)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        guard replay >= 0 else { throw ValidationError("--replay must be 0 or more, got \(replay)") }
        guard cycles >= 1 else { throw ValidationError("--cycles must be at least 1, got \(cycles)") }
        guard permutations >= 2 else { throw ValidationError("--permutations must be at least 2, got \(permutations)") }
        if let stopAfter, stopAfter < 1 { throw ValidationError("--stop-after must be at least 1, got \(stopAfter)") }
        guard hiddenSizes != nil else { throw ValidationError("--hidden must be positive integers separated by commas, got '\(hidden)'") }
        if checkpointEvery < 0 { throw ValidationError("--checkpoint-every must be 0 or more, got \(checkpointEvery)") }
        if checkpointEvery > 0 && save == nil && resume == nil { throw ValidationError("--checkpoint-every needs --save (where to save)") }
        if let source, !(source == "stdin" || (source.hasPrefix("csv:") && source.count > 4)) {
            throw ValidationError("--source must be csv:PATH or stdin, got '\(source)'")
        }
        if joint && (resume != nil || stopAfter != nil) { throw ValidationError("--joint trains on everything at once; it cannot pause or resume") }
        if source != nil && resume != nil { throw ValidationError("--resume continues a scenario; a --source stream starts anew") }
        if predictor == .discriminant && gate == .learned {
            throw ValidationError("--predictor discriminant needs --gate class-posterior (the discriminant is the gate's classifier)")
        }
    }

    var hiddenSizes: [Int]? {
        let values = hidden.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return values.map { $0! }
    }

    func learnerConfiguration() -> LearnerConfiguration {
        var c = LearnerConfiguration()
        c.seed = common.seed
        c.hidden = hiddenSizes!
        c.replayCapacity = replay
        c.growth.enabled = growth == .on
        c.growOnNovelClasses = growth == .on
        c.gate = gate == .learned ? .learned : .classPosterior(features: 2048)
        c.predictor = predictor
        return c
    }

    struct Summary: Encodable {
        var finalAverageAccuracy: Double?
        var taskIncrementalAccuracy: Double?
        var forgetting: Double?
        var bwt: Double?
        var accuracyMatrix: [[Double?]]
        var prequentialAccuracy: Double?
        var experts: Int
        var parameters: Int
        var samplesPerSecond: Double
        var memoryFloats: Int
        var checkpoint: String?
        /// One entry per completed cycle (with --cycles).
        var cycles: [ScenarioRun.CycleSummary]?
        var numericalFaults: Int
        var rowsOutOfRange: Int
    }

    func run() throws {
        ignoreFileSizeSignal()
        let console = Console(json: common.json)
        var logger = Logger(label: "moe.stream") { _ in StreamLogHandler.standardError(label: "moe") }
        logger.logLevel = verbose ? .info : .notice
        if source != nil { return try runSource(console: console, logger: logger) }

        var settings: ScenarioRun.Settings
        var run: ScenarioRun
        let signingKey = try keys.signingKey()
        if let resume {
            let loaded = try loadCheckpoint(resume, keys: keys)
            let (saved, state) = try failingClearly { try ScenarioRun.saved(in: loaded) }
            settings = saved
            let learner = try failingClearly { try Learner(checkpoint: loaded) }
            let scenario = try makeScenario(saved.scenario, seed: saved.seed, experiences: saved.experiences)
            run = ScenarioRun(
                scenario: scenario, learner: learner, batchSize: saved.batchSize, passes: saved.passes, cycles: saved.cycles,
                state: state)
            let count = scenario.experiences.count
            let cycle = saved.cycles > 1 ? "cycle \(state.experience / count + 1), " : ""
            console.say("resumed \(loaded.source ?? resume): \(cycle)experience \(state.experience % count + 1), \(state.samplesInExperience) samples into it, \(learner.model.experts.count) experts")
        } else if joint {
            // The upper bound: every experience's data in one shuffled stream, then the
            // same evaluation on each experience's test set.
            let scenario = try makeScenario(self.scenario.rawValue, seed: common.seed, experiences: permutations)
            settings = ScenarioRun.Settings(
                scenario: self.scenario.rawValue + "-joint", seed: common.seed, experiences: scenario.experiences.count,
                passes: passes, batchSize: batchSize, cycles: 1)
            var learner = try Learner(configuration: learnerConfiguration(), inputWidth: scenario.inputWidth, classCount: 1)
            var source = DatasetSource(dataset: scenario.train, batchSize: batchSize, passes: passes, shuffleSeed: common.seed)
            let clock = ContinuousClock.now
            var samples = 0
            while let batch = try failingClearly({ try source.next() }) {
                _ = try learner.observe(features: batch.features, labels: batch.labels, source: source.name, logger: logger)
                samples += batch.labels.count
                console.progress("joint  \(samples) samples  windowed accuracy \(fixed(learner.prequential.windowedAccuracy ?? 0, 3))")
            }
            console.progress("joint  \(samples) samples", final: true)
            run = ScenarioRun(scenario: scenario, learner: learner, batchSize: batchSize, passes: passes)
            run.state.samplesObserved = samples
            run.state.observeSeconds = seconds(since: clock)
            run.evaluate(trainedThrough: scenario.experiences.count - 1)
            run.state.experience = scenario.experiences.count
        } else {
            let scenario = try makeScenario(self.scenario.rawValue, seed: common.seed, experiences: permutations)
            settings = ScenarioRun.Settings(
                scenario: self.scenario.rawValue, seed: common.seed, experiences: scenario.experiences.count,
                passes: passes, batchSize: batchSize, cycles: cycles)
            let learner = try Learner(configuration: learnerConfiguration(), inputWidth: scenario.inputWidth, classCount: 1)
            run = ScenarioRun(scenario: scenario, learner: learner, batchSize: batchSize, passes: passes, cycles: cycles)
        }
        let savePath = try (save ?? resume).map { try CheckpointPath.forSaving($0) }
        if let savePath {
            // Fail now, not after an hour of streaming.
            let folder = URL(fileURLWithPath: savePath).deletingLastPathComponent().path
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw CommandFailure("cannot save checkpoint '\(savePath)': the folder '\(folder)' does not exist")
            }
        }
        let scenario = run.scenario
        let cycleCount = settings.cycles
        console.say("\(scenario.name): \(scenario.experiences.count) experiences\(cycleCount > 1 ? " x \(cycleCount) cycles" : ""), \(settings.passes) pass(es), batch \(settings.batchSize), replay \(run.learner.configuration.replayCapacity), growth \(run.learner.configuration.growth.enabled ? "on" : "off"), seed \(settings.seed)")
        var lastPrint = 0.0
        let start = ContinuousClock.now
        let finalSettings = settings
        try run.run(stopAfter: stopAfter, checkpointEvery: checkpointEvery, logger: logger, progress: { p in
            let now = seconds(since: start)
            let done = p.samplesInExperience == p.experienceSamples
            if now - lastPrint > 0.5 || done {
                lastPrint = now
                console.progress(
                    (cycleCount > 1 ? "cycle \(p.cycle + 1)/\(cycleCount)  " : "") + "experience \(p.experience + 1)/\(scenario.experiences.count)  \(p.samplesInExperience)/\(p.experienceSamples)  \(fixed(p.samplesPerSecond, 0)) samples/s  windowed accuracy \(fixed(p.windowedAccuracy, 3))  experts \(p.step.experts)",
                    final: done)
            }
        }, checkpoint: { current in
            guard let savePath else { return }
            let description = "moe stream \(finalSettings.scenario), \(current.state.experience) of \(current.experienceCount) experiences done, \(current.learner.counters.samples) samples observed"
            try current.checkpoint(settings: finalSettings, description: description).save(to: savePath, signingKey: signingKey)
        })

        let matrix = run.state.classIncremental
        let summaries = run.state.cycles.points
        if cycleCount > 1 {
            for c in summaries {
                console.say("cycle \(c.cycle + 1): \(c.samples) samples, final average accuracy \(c.finalAverageAccuracy.map { fixed($0) } ?? "n/a"), forgetting \(c.forgetting.map { fixed($0) } ?? "n/a")")
            }
        }
        console.say("accuracy matrix (\(cycleCount > 1 ? "last cycle; " : "")\(scenario.kind == .split ? "class-incremental; " : "")row i: after experience i; column j: test set of experience j):")
        for (i, row) in matrix.values.enumerated() {
            console.say("  \(i + 1): " + row.map { $0.map { fixed($0, 3) } ?? "  -  " }.joined(separator: " "))
        }
        let task = scenario.kind == .split ? run.state.taskIncremental.finalAverageAccuracy : nil
        if let task { console.say("task-incremental final average accuracy \(fixed(task))") }
        console.say("final average accuracy \(matrix.finalAverageAccuracy.map { fixed($0) } ?? "n/a"), forgetting \(matrix.forgetting.map { fixed($0) } ?? "n/a"), BWT \(matrix.backwardTransfer.map { fixed($0) } ?? "n/a")")
        for g in run.learner.history.growths {
            console.say("grew expert \(g.expert) at batch \(g.batch) (sample \(g.sample)) on hidden layer \(g.layer), \(g.detectors.count) detectors, classes \(g.classes): \(g.reason)")
        }
        for (reason, count) in run.learner.history.suppressions.sorted(by: { $0.key < $1.key }) {
            console.say("growth held back \(count) time(s): \(reason)")
        }
        let memory = run.learner.memoryFloats
        let counters = run.learner.counters
        if counters.numericalFaults > 0 || counters.rowsOutOfRange > 0 {
            console.say("numerical faults: \(counters.numericalFaults) step(s) rolled back, \(counters.rowsOutOfRange) row(s) out of range not learned from")
        }
        console.say("half-learning steps accepted \(run.learner.counters.acceptedSteps), rejected \(run.learner.counters.rejectedSteps); \(fixed(run.samplesPerSecond, 0)) samples/s; memory besides weights \(memory.replay + memory.statistics) floats (replay \(memory.replay), statistics \(memory.statistics))")
        if let savePath { console.say("saved \(savePath)") }
        if let report {
            let document = run.report(settings: settings, configuration: try JSONValue(encoding: run.learner.configuration))
            let files = try failingClearly { try document.write(toDirectory: URL(fileURLWithPath: report)) }
            console.say("report: \(files.json.path), \(files.accuracyMatrix.path), \(files.prequential.path)")
        }
        try console.emit(Summary(
            finalAverageAccuracy: matrix.finalAverageAccuracy, taskIncrementalAccuracy: task,
            forgetting: matrix.forgetting, bwt: matrix.backwardTransfer, accuracyMatrix: matrix.values,
            prequentialAccuracy: run.learner.prequential.accuracy, experts: run.learner.model.experts.count,
            parameters: run.learner.model.parameterCount, samplesPerSecond: run.samplesPerSecond,
            memoryFloats: memory.replay + memory.statistics, checkpoint: savePath,
            cycles: cycleCount > 1 ? summaries : nil, numericalFaults: counters.numericalFaults,
            rowsOutOfRange: counters.rowsOutOfRange))
    }

    func makeScenario(_ name: String, seed: UInt64, experiences: Int) throws -> Scenario {
        switch ScenarioChoice(rawValue: name) {
        case .splitFMNIST: return try failingClearly { try Scenario.splitFashionMNIST(directory: dataDirectory, seed: seed) }
        case .permutedFMNIST:
            return try failingClearly { try Scenario.permutedFashionMNIST(directory: dataDirectory, experienceCount: experiences, seed: seed) }
        case nil: throw CommandFailure("unknown scenario '\(name)' in the checkpoint")
        }
    }

    /// A labelled CSV stream: prequential accuracy only (there is no test set).
    func runSource(console: Console, logger: Logger) throws {
        let format = CSVFormat(labelColumn: LabelColumn(argument: labelColumn), hasHeader: header)
        let policy: BadRowPolicy = skipBadRows ? .skip : .fail
        var stream: CSVSource
        if source == "stdin" {
            stream = try failingClearly { try CSVSource.standardInput(format: format, batchSize: batchSize, badRows: policy) }
        } else {
            stream = try failingClearly { try CSVSource(path: String(source!.dropFirst(4)), format: format, batchSize: batchSize, badRows: policy) }
        }
        var learner: Learner?
        var seen = 0
        let clock = ContinuousClock.now
        while let batch = try failingClearly({ try stream.next() }) {
            if learner == nil {
                learner = try Learner(configuration: learnerConfiguration(), inputWidth: batch.features.columns,
                                      classCount: max(1, (batch.labels.max() ?? 0) + 1))
            }
            _ = try learner!.observe(features: batch.features, labels: batch.labels, source: stream.name, logger: logger)
            seen += batch.labels.count
            console.progress("\(seen) samples  windowed accuracy \(fixed(learner!.prequential.windowedAccuracy ?? 0, 3))  experts \(learner!.model.experts.count)")
        }
        guard let learner else { throw CommandFailure("\(stream.name): the stream held no samples") }
        console.progress("\(seen) samples", final: true)
        let rate = Double(seen) / max(seconds(since: clock), 1e-9)
        let skipped = stream.position.skipped
        console.say("prequential accuracy \(fixed(learner.prequential.accuracy ?? 0)) over \(seen) samples; \(learner.model.experts.count) experts; skipped rows: \(skipped)")
        if let save {
            let path = try CheckpointPath.forSaving(save)
            try failingClearly { try learner.checkpoint(description: "moe stream \(stream.name), \(seen) samples").save(to: path, signingKey: try keys.signingKey()) }
            console.say("saved \(path)")
        }
        let memory = learner.memoryFloats
        try console.emit(Summary(
            finalAverageAccuracy: nil, taskIncrementalAccuracy: nil, forgetting: nil, bwt: nil, accuracyMatrix: [],
            prequentialAccuracy: learner.prequential.accuracy, experts: learner.model.experts.count,
            parameters: learner.model.parameterCount, samplesPerSecond: rate, memoryFloats: memory.replay + memory.statistics,
            checkpoint: nil, cycles: nil, numericalFaults: learner.counters.numericalFaults,
            rowsOutOfRange: learner.counters.rowsOutOfRange))
    }
}

enum ScenarioChoice: String, ExpressibleByArgument, CaseIterable {
    case splitFMNIST = "split-fmnist"
    case permutedFMNIST = "permuted-fmnist"
}

enum Switch: String, ExpressibleByArgument, CaseIterable { case on, off }

enum GateOption: String, ExpressibleByArgument, CaseIterable {
    case classPosterior = "class-posterior"
    case learned
}

extension LearnerConfiguration.Predictor: ExpressibleByArgument {}
