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
            (the accuracy matrix). Growth decisions are logged with their reasons.
            """)

    @OptionGroup var common: CommonOptions

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

    @Option(name: .customLong("permutations"), help: "Experiences of the permuted scenario.")
    var permutations: Int = 5

    @Option(name: .customLong("stop-after"), help: "Stop after this many experiences (pause the stream; resume with --resume).")
    var stopAfter: Int?

    @Option(name: .customLong("data"), help: "Folder holding the Fashion-MNIST IDX files.")
    var dataDirectory: String = FashionMNIST.defaultDirectory

    @Flag(help: "Log every growth decision, including suppressed ones.")
    var verbose = false

    func validate() throws {
        guard passes >= 1 else { throw ValidationError("--passes must be at least 1, got \(passes)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        guard replay >= 0 else { throw ValidationError("--replay must be 0 or more, got \(replay)") }
        guard permutations >= 2 else { throw ValidationError("--permutations must be at least 2, got \(permutations)") }
        if let stopAfter, stopAfter < 1 { throw ValidationError("--stop-after must be at least 1, got \(stopAfter)") }
        guard hiddenSizes != nil else { throw ValidationError("--hidden must be positive integers separated by commas, got '\(hidden)'") }
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

    func run() throws {
        let console = Console(json: common.json)
        var logger = Logger(label: "moe.stream") { _ in StreamLogHandler.standardError(label: "moe") }
        logger.logLevel = verbose ? .info : .notice
        let loaded: Scenario
        switch scenario {
        case .splitFMNIST: loaded = try Scenario.splitFashionMNIST(directory: dataDirectory, seed: common.seed)
        case .permutedFMNIST: loaded = try Scenario.permutedFashionMNIST(directory: dataDirectory, experienceCount: permutations, seed: common.seed)
        }
        let learner = try Learner(configuration: learnerConfiguration(), inputWidth: loaded.inputWidth, classCount: 1)
        var run = ScenarioRun(scenario: loaded, learner: learner, batchSize: batchSize, passes: passes)
        console.say("\(loaded.name): \(loaded.experiences.count) experiences, \(passes) pass(es), batch \(batchSize), replay \(replay), growth \(growth), gate \(gate), seed \(common.seed)")
        var lastPrint = 0.0
        let start = ContinuousClock.now
        try run.run(stopAfter: stopAfter, logger: logger, progress: { p in
            let now = seconds(since: start)
            if now - lastPrint > 0.5 || p.samplesInExperience == p.experienceSamples {
                lastPrint = now
                console.progress(
                    "experience \(p.experience + 1)/\(loaded.experiences.count)  \(p.samplesInExperience)/\(p.experienceSamples)  \(fixed(p.samplesPerSecond, 0)) samples/s  windowed accuracy \(fixed(p.windowedAccuracy, 3))  experts \(p.step.experts)",
                    final: p.samplesInExperience == p.experienceSamples)
            }
        })
        let matrix = run.state.classIncremental
        console.say("accuracy matrix (row: trained through experience i; column: tested on experience j):")
        for (i, row) in matrix.values.enumerated() {
            console.say("  \(i + 1): " + row.map { $0.map { fixed($0, 3) } ?? "  -  " }.joined(separator: " "))
        }
        if run.scenario.kind == .split, let task = run.state.taskIncremental.finalAverageAccuracy {
            console.say("task-incremental final average accuracy \(fixed(task))")
        }
        console.say("final average accuracy \(fixed(matrix.finalAverageAccuracy ?? 0)), forgetting \(matrix.forgetting.map { fixed($0) } ?? "n/a"), BWT \(matrix.backwardTransfer.map { fixed($0) } ?? "n/a")")
        for g in run.learner.history.growths {
            console.say("grew expert \(g.expert) at batch \(g.batch) (sample \(g.sample)), hidden layer \(g.layer), \(g.detectors.count) detectors, classes \(g.classes): \(g.reason)")
        }
        console.say("steps accepted \(run.learner.counters.acceptedSteps), rejected \(run.learner.counters.rejectedSteps), halvings \(run.learner.counters.halvings); \(fixed(run.samplesPerSecond, 0)) samples/s")
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
