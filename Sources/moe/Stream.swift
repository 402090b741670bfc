import ArgumentParser
import Benchmarks
import Continual
import Foundation
import Logging
import MoE

struct Stream: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stream a scenario or your own labelled rows through the learner, growing experts as needed.",
        discussion: """
            Each batch is predicted first and scored (prequential accuracy), then learned. \
            In a scenario, after every experience the learner is evaluated on every \
            experience's test set (the accuracy matrix). Growth decisions are logged with \
            their reasons. With --cycles N the experiences repeat N times (an endless stream \
            whose memory stays flat): the accuracy matrix shows the last cycle, and every \
            cycle is summarised in one line.

            --save writes the learner with the stream's description and position after \
            every experience and at the end. --resume PATH alone continues a paused stream \
            of any kind exactly where it stopped (a CSV file from its next row; standard \
            input reads on from this process's input): everything that defines the stream \
            and the learner comes from the checkpoint, and an option that contradicts it \
            is refused. --resume PATH --source csv:NEW.csv (or stdin, or idx:IMAGES,LABELS) \
            goes on learning from new rows, from their first: class names keep the indices \
            they had, new ones get new indices, and the rows must be as wide as the \
            learner's input; the label column, header and batch size are the saved CSV \
            stream's unless given. With --resume, --save defaults to the resumed file.
            """)

    @OptionGroup var common: CommonOptions
    @OptionGroup var network: NetworkOptions
    @OptionGroup var checkpoints: CheckpointRunOptions
    @OptionGroup var keys: CheckpointKeyOptions
    @OptionGroup var data: DataSourceOptions

    @Option(help: ArgumentHelp(
        "Scenario: one of Fashion-MNIST's named streams (default split-fmnist).",
        discussion: StreamCatalogue.entries.map { "\($0.name): \($0.summary) (\($0.passes) pass\($0.passes > 1 ? "es" : ""))" }
            .joined(separator: "\n")))
    var scenario: ScenarioChoice?

    @Option(help: "Units of the scenario's pixels: unit ([0, 1], the default), raw (0-255) or standardized.")
    var inputs: StreamCatalogue.Units?

    @Option(help: "Passes over each experience's data (default 2).")
    var passes: Int?

    @Flag(help: "Joint training, the upper bound: all experiences' data as one shuffled experience.")
    var joint = false

    @Option(help: "Stream the scenario's experiences this many times (experience k is experience k mod count; default 1).")
    var cycles: Int?

    @Flag(name: .customLong("evaluate-ahead"), help: "Also evaluate the experiences not trained yet after each experience (the accuracy matrix's forward-transfer entries, which no figure uses).")
    var evaluateAhead = false

    @Option(name: .customLong("permutations"), help: "Experiences of the permuted scenario (default 5).")
    var permutations: Int?

    @Option(help: "Replay buffer capacity in samples (0: no replay; default 500).")
    var replay: Int?

    @Option(help: "Growth of experts: on (the method, the default) or off (a baseline).")
    var growth: Switch?

    @Option(name: .customLong("learner-config"), help: "A JSON file of learner settings that replace the defaults key by key, e.g. {\"growth\": {\"maxExperts\": 4}} (LearnerConfiguration's names; options given on the command line win).")
    var learnerConfig: String?

    @Option(name: .customLong("growth-cooldown"), help: "First-visit samples the slot in charge learns from before the next growth (default 512).")
    var growthCooldown: Int?

    @Option(help: "Gate: class-posterior (streaming discriminant, the default) or learned (a softmax gate).")
    var gate: GateOption?

    @Option(help: "Who predicts: mixture (trunk plus experts, the default) or discriminant (the gate's classifier alone).")
    var predictor: LearnerConfiguration.Predictor?

    @Flag(name: .customLong("skip-bad-rows"), help: "With --source: skip and count bad rows instead of stopping at the first.")
    var skipBadRows = false

    @Option(name: .customLong("stop-after"), help: "Pause after this many experiences, counted over all cycles (continue with --resume).")
    var stopAfter: Int?

    @Option(name: .customLong("stop-after-batches"), help: "Pause after this many batches of the stream (continue with --resume).")
    var stopAfterBatches: Int?

    @Option(help: "Write report.json, accuracy-matrix.svg and prequential.svg into this folder.")
    var report: String?

    @Option(help: ArgumentHelp(
        "Write every first-visit row's prediction, made before the row was learned, to this CSV file.",
        discussion: "Columns sample, experience, label, predicted. A new stream replaces a file of predictions (any other file there is refused, never replaced); a resumed or continued one keeps the lines of the samples its checkpoint had learned and goes on after them."))
    var predictions: String?

    @Flag(help: "Log every growth decision, including suppressed ones.")
    var verbose = false

    @Flag(name: .customLong("show-learner-config"), help: "Print the learner settings this command would use (the defaults, --learner-config and the options on top), as the JSON --learner-config reads, and stop.")
    var showLearnerConfig = false

    func validate() throws {
        if let passes, passes < 1 { throw ValidationError("--passes must be at least 1, got \(passes)") }
        if let replay, replay < 0 { throw ValidationError("--replay must be 0 or more, got \(replay)") }
        if let growthCooldown, growthCooldown < 0 { throw ValidationError("--growth-cooldown must be 0 or more samples, got \(growthCooldown)") }
        if let cycles, cycles < 1 { throw ValidationError("--cycles must be at least 1, got \(cycles)") }
        if let permutations, permutations < 2 { throw ValidationError("--permutations must be at least 2, got \(permutations)") }
        if let stopAfter, stopAfter < 1 { throw ValidationError("--stop-after must be at least 1, got \(stopAfter)") }
        if let stopAfterBatches, stopAfterBatches < 1 {
            throw ValidationError("--stop-after-batches must be at least 1, got \(stopAfterBatches)")
        }
        if predictor == .discriminant && gate == .learned {
            throw ValidationError("--predictor discriminant needs --gate class-posterior (the discriminant is the gate's classifier)")
        }
        if data.hasSource {
            for (given, option) in [(scenario != nil, "--scenario"), (passes != nil, "--passes"), (joint, "--joint"),
                                    (cycles != nil, "--cycles"), (permutations != nil, "--permutations"), (inputs != nil, "--inputs"),
                                    (stopAfter != nil, "--stop-after")] where given {
                throw ValidationError("\(option) describes a scenario, but --source streams rows instead; drop one of them (pause a --source stream with --stop-after-batches)")
            }
        } else if skipBadRows && checkpoints.resume == nil {
            throw ValidationError("--skip-bad-rows applies to rows read with --source, or to a resumed stream of them")
        }
        if joint && (cycles ?? 1) > 1 { throw ValidationError("--joint streams all the data once as one experience; --cycles repeats a scenario's experiences") }
        if joint && stopAfter != nil { throw ValidationError("--joint is one experience; pause it with --stop-after-batches") }
    }

    /// The learner's configuration from the options and their defaults.
    func learnerConfiguration() throws -> LearnerConfiguration {
        var c = try LearnerConfiguration().patched(byFile: learnerConfig)
        // Options given on the command line win over the file; the others keep its values
        // (or the defaults).
        if let seed = common.givenSeed { c.seed = seed }
        if network.hidden != nil { c.hidden = network.hiddenWidths(default: c.hidden) }
        if let replay { c.replayCapacity = replay }
        if let growth { c.growth.enabled = growth == .on }
        if let growthCooldown { c.growth.cooldownSamples = growthCooldown }
        if let gate { c.gate = gate == .learned ? .learned : .classPosterior(features: 2048) }
        if let predictor { c.predictor = predictor }
        return c
    }

    struct Summary: Encodable {
        var finalAverageAccuracy: Double?
        var taskIncrementalAccuracy: Double?
        var forgetting: Double?
        var bwt: Double?
        var accuracyMatrix: [[Double?]]
        /// Over every first visit the learner has scored, a checkpoint's included.
        var prequentialAccuracy: Double?
        /// Over the first visits of this run (nil: none scored).
        var runPrequentialAccuracy: Double?
        /// Cohen's kappa and the temporal kappa of the stream's prequential predictions,
        /// and the accuracy of repeating the last label (`PrequentialKappa`; over the
        /// stream since it started, pauses included; nil where undefined).
        var prequentialKappa: Double?
        var prequentialKappaTemporal: Double?
        var noChangeAccuracy: Double?
        /// First visits the stream's recent class shares answered where the mixture would
        /// have answered otherwise, those of them right where the mixture was wrong, and
        /// the reverse (`RecentShares`; over the learner's life; nil: it serves none).
        var recentSharesServed: Int?
        var recentSharesGained: Int?
        var recentSharesLost: Int?
        var experts: Int
        var parameters: Int
        var samplesPerSecond: Double
        var memoryFloats: Int
        var checkpoint: String?
        /// One entry per completed cycle (with --cycles).
        var cycles: [CycleSummary]?
        var numericalFaults: Int
        var rowsOutOfRange: Int
        var samples: Int
        var rowsSkipped: Int
        /// A CSV source's text columns (0-based fields), read as categories; nil without.
        var textColumns: [Int]?
        /// Missing values of a CSV source filled with their column's mean.
        var missingValuesFilled: Int?
        /// A CSV source's numeric columns whose missing values have an indicator (0-based fields).
        var flaggedColumns: [Int]?
        /// The separator a CSV source found from its first lines, when not ','.
        var separatorFound: String?
        /// A CSV source's numeric columns that count up by 1 from row to row (0-based fields).
        var countingColumns: [Int]?
        /// Text columns of another value in nearly every row (a date, a name, an identifier).
        var rowLikeTextColumns: [Int]?
        var paused: Bool
        /// Wall-clock seconds by phase: loading the data, the driver's reading, the
        /// learner's phases, reports, evaluation, checkpoints, and the whole run.
        var seconds: [String: Double]
        /// Floating-point operations of the BLAS and LAPACK calls, their rate over the
        /// whole run, and cblas_sgemm's rate on the gate's shape in the same process.
        var flops: Double
        var gflopsPerSecond: Double
        var sgemmGflopsPerSecond: Double
        var sgemmFraction: Double
        /// The BLAS thread policy the stream ran with (its bits depend on it).
        var blasThreads: String
        /// OpenBLAS's kernel and where the choice came from (the bits depend on it too).
        var blasKernel: String
        /// Floating-point operations by phase (the learner's phases, refits, evaluation).
        var flopsByPhase: [String: Double]
        /// Bytes the learner holds, by component.
        var memoryBytes: [String: Int]
        /// The share of the way from OAS to the identity the gate's covariance is shrunk
        /// (0: OAS), and whether the choice still goes on (blends while samples are fewer
        /// than features, narrow heads for the whole stream).
        var gateShrinkage: Double
        var gateShrinkageChoosing: Bool
        /// The gate's features its head reads (fewer than all when a narrow head answers).
        var gateHeadFeatures: Int?
        /// Input features whose tails the scaler widened (nil unless
        /// `inputScaling.online.widensTails` is set).
        var widenedFeatures: Int?
        /// Input features that trended with their arrival over the stream's first rows and
        /// continue logarithmically beyond the clip (nil unless
        /// `inputScaling.online.trendTails` is set, as it is by default).
        var trendingFeatures: Int?
        /// Batches of this run whose rows' means lay, on most features, more than 5
        /// deviations from those of every row learned before them (other units?).
        var batchesFarFromLearned: Int
        /// The slots that answer among their classes with their own discriminant
        /// (`LearnerConfiguration.slotHeads`; empty while none does).
        var slotHeads: [Int] = []
        /// The slots whose own discriminant is fitted, answering or not.
        var slotHeadsFitted: [Int] = []
    }

    func run() throws {
        if showLearnerConfig {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            // A resumed or continued learner keeps the settings it was saved with.
            let configuration: LearnerConfiguration
            if let resume = checkpoints.resume {
                let (_, file, learner) = try loadLearner(resume)
                configuration = learner.configuration
                try refuseLearnerChanges(configuration, file: file)
            } else {
                configuration = try learnerConfiguration()
            }
            let json = try encoder.encode(configuration)
            print(String(decoding: json, as: UTF8.self))
            return
        }
        let started = ContinuousClock.now
        ignoreFileSizeSignal()
        let console = Console(json: common.json)
        var logger = Logger(label: "moe.stream") { _ in StreamLogHandler.standardError(label: "moe") }
        logger.logLevel = verbose ? .info : .notice
        let policy = CheckpointPolicy(
            path: try checkpoints.savePath(), everyBatches: checkpoints.checkpointEvery ?? 0, title: "moe stream",
            signingKey: try keys.signingKey())
        let evaluation = ScenarioEvaluation<Learner>(evaluatesAhead: evaluateAhead), growth = GrowthRecorder<Learner>()
        let lines = StreamLines(console: console)
        let kappa = PrequentialKappa()
        let plugins: [any StreamPlugin<Learner>] = [evaluation, growth, lines, kappa]
        let driver = try makeDriver(policy: policy, plugins: plugins, console: console)
        let predicted = try predictions.map { path in
            try failingClearly { try PredictionsFile(path: path, learnedSamples: driver.learner?.counters.firstVisits ?? 0) }
        }
        if let predicted { driver.plugins.append(predicted) }
        // What the learner had scored before this run (a resumed or continued learner).
        let scoredBefore = driver.learner.map { (samples: $0.prequential.samples, correct: $0.prequential.correct) } ?? (0, 0)
        // The gaps a continued stream had filled before this run: the count goes on.
        let filledBefore = driver.filledSoFar
        let loaded = ContinuousClock.now
        console.say(describe(driver))
        let interrupts = Interrupts(saves: policy.path != nil) { console.warn($0) }
        let stop = StopCondition(experiences: stopAfter, batches: stopAfterBatches, request: interrupts.request)
        let outcome = try failingClearly {
            do {
                return try driver.run(until: stop, logger: logger)
            } catch {
                guard let file = driver.stoppedSave else { throw error }
                // Skipping is offered only for a fault --skip-bad-rows skips: a cut gzip
                // stops a resume with it all the same.
                let skipping = (error as? DataError)?.isRowFault == true ? " (or resume with --skip-bad-rows to skip such rows)" : ""
                throw CommandFailure("\(CommandFailure(error).description) What was learned from the \(driver.position.samples) samples before it is saved in \(file): correct the data and `moe stream --resume \(file)` goes on from the row after them\(skipping).")
            }
        }
        let clock = RunClock(started: started, loaded: loaded, flops: BLAS.flopsPerformed)
        try finish(driver, outcome: outcome, evaluation: evaluation, growth: growth, lines: lines, kappa: kappa.tally,
                   scoredBefore: scoredBefore, filledBefore: filledBefore, console: console, clock: clock)
        if let predicted {
            if let failure = predicted.failure {
                console.warn("the predictions file '\(predicted.path)' could not be written whole (\(failure)); the stream and its checkpoints are not affected")
            } else {
                console.say("predictions: \(predicted.lines) rows in \(predicted.path)")
            }
        }
        if let status = interrupts.exitStatus { throw ExitCode(status) }
    }

    /// When the run started and how much work it did, for the profile.
    struct RunClock {
        var started: ContinuousClock.Instant
        var loaded: ContinuousClock.Instant
        var flops: Double
        var ended = ContinuousClock.now

        var loadSeconds: Double { (loaded - started).inSeconds }
        var totalSeconds: Double { (ended - started).inSeconds }
    }

    /// A fresh stream, a resumed one, or a saved learner continued on new rows.
    func makeDriver(policy: CheckpointPolicy, plugins: [any StreamPlugin<Learner>], console: Console) throws
        -> StreamDriver<Learner>
    {
        let badRows: BadRowPolicy = skipBadRows ? .skip : .fail
        guard let resume = checkpoints.resume else {
            let configuration = try learnerConfiguration()
            if let source = data.streamSource(batchSize: network.batchSize ?? 128, badRows: badRows) {
                return try failingClearly {
                    try StreamDriver(source: source, policy: policy, plugins: plugins) { first in
                        try Learner(configuration: configuration, inputWidth: first.features.columns,
                                    classCount: max(1, (first.labels.max() ?? 0) + 1))
                    }
                }
            }
            let settings = StreamSource.ScenarioSettings(
                scenario: (scenario ?? .splitFMNIST).rawValue, dataDirectory: data.dataDirectory,
                experiences: permutations ?? 5, seed: common.seed,
                passes: passes ?? StreamCatalogue.entry((scenario ?? .splitFMNIST).rawValue)!.passes, batchSize: network.batchSize ?? 128,
                cycles: cycles ?? 1, units: inputs)
            return try failingClearly {
                try StreamDriver(source: joint ? .joint(settings) : .scenario(settings), policy: policy, plugins: plugins) { first in
                    try Learner(configuration: configuration, inputWidth: first.features.columns, classCount: 1)
                }
            }
        }
        let (loaded, file, learner) = try loadLearner(resume)
        try refuseLearnerChanges(learner.configuration, file: file)
        let saved = try failingClearly { try StreamDriver<Learner>.savedStream(in: loaded) }
        try keepSavedThreads(of: loaded, file: file, console: console)
        if case let .csv(settings)? = saved?.source {
            try data.refuseOtherTextIndicators(saved: settings.format, file: file)
            try data.refuseLabelOnLearnedFeature(saved: settings.format, names: saved?.position.source.columnNames, file: file)
        }
        if let source = data.streamSource(
            batchSize: network.batchSize ?? saved?.source.batchSize ?? 128, badRows: badRows, like: saved?.source) {
            try pausedInAFile(saved, file: file, continuingOn: source, console: console)
            let driver = try failingClearly {
                try StreamDriver(continuing: loaded, learner: learner, on: source, policy: policy, plugins: plugins)
            }
            // The saved label column counts in the rows learned; one given, in either file.
            if data.labelColumn != nil { driver.labelColumnPlace = .unclear }
            console.say("continuing \(file) (\(learner.counters.samples) samples learned, \(learner.model.experts.count) experts, \(learner.classCount) classes) on \(source.name)")
            return driver
        }
        guard let saved else {
            throw CommandFailure("checkpoint '\(file)' holds a learner but no stream to resume (no /sections/stream); give --source to continue it on new data")
        }
        if case let .csv(settings) = saved.source, let path = settings.path, !FileManager.default.fileExists(atPath: path) {
            throw CommandFailure("checkpoint '\(file)' was reading '\(path)', which is not there"
                + (path.hasPrefix("/") ? "" : " from this directory (a relative path is read from the directory the command runs in: resume it where the stream started)")
                + "; put the file back to go on from its next row, or give --source to continue the learner on other rows")
        }
        try refuseStreamChanges(saved.source, file: file)
        if skipBadRows, saved.source.scenarioSettings != nil {
            throw CommandFailure("checkpoint '\(file)' streams \(saved.source.name), which has no bad rows to skip; --skip-bad-rows applies to rows read from CSV or IDX files")
        }
        let driver = try failingClearly {
            try StreamDriver(resuming: loaded, learner: learner, dataDirectory: data.dataDirectory,
                             badRows: skipBadRows ? .skip : nil, policy: policy, plugins: plugins)
        }
        console.say("resumed \(file): \(whereResumed(driver)), \(learner.model.experts.count) experts")
        return driver
    }

    /// The checkpoint `resume` names, what to call it, and the continual learner it holds.
    func loadLearner(_ resume: String) throws -> (loaded: Checkpoint, file: String, learner: Learner) {
        let loaded = try loadCheckpoint(resume, keys: keys)
        let file = loaded.source ?? resume
        if loaded.sections["learner"] == nil && loaded.sections[PlainLearner.sectionName] != nil {
            throw CommandFailure("checkpoint '\(file)' holds a network trained by moe train, not a continual learner; continue it with moe train --resume")
        }
        return (loaded, file, try failingClearly { try Learner(checkpoint: loaded) })
    }

    /// A stream paused part-way through a file, continued with `--source`: the new source
    /// is learned from its first row. The same file is refused (its rows read would be
    /// learned twice: `--resume` alone goes on from the next row); another file is warned
    /// of, as the paused file's other rows are left unlearned. Before 2026-12-04 both were
    /// silent.
    func pausedInAFile(_ saved: (source: StreamSource, position: StreamProgress)?, file: String, continuingOn source: StreamSource,
                       console: Console) throws(CommandFailure) {
        guard let saved, saved.source.scenarioSettings == nil, saved.position.experience == 0,
              !saved.position.source.isAtStart else { return }
        let rows = saved.position.source.rowsRead
        if case let .csv(old) = saved.source {
            // The rest of a pipe is gone with the process that paused: nothing is left unlearned.
            guard let a = old.path else { return }
            func resolved(_ path: String) -> URL { URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath() }
            if case let .csv(new) = source, let b = new.path, resolved(a) == resolved(b) {
                throw CommandFailure("checkpoint '\(file)' is paused after \(rows) rows of \(saved.source.name); `moe stream --resume \(file)` goes on "
                    + "from the row after them (with --source the file would be learned again from its first row)")
            }
        }
        console.warn("checkpoint '\(file)' was paused after \(rows) rows of \(saved.source.name): the rest of it is left unlearned, and "
            + "\(source.name) is learned from its first row (`moe stream --resume \(file)` alone would have gone on with \(saved.source.name))")
    }

    /// Refuses learner options that differ from the checkpoint's configuration, and a
    /// `--learner-config` file that would change any of its settings (it was ignored
    /// before 2026-12-04: a resumed learner kept the checkpoint's settings without a word).
    func refuseLearnerChanges(_ c: LearnerConfiguration, file: String) throws(CommandFailure) {
        let patched = try c.patched(byFile: learnerConfig)
        if let learnerConfig, patched != c {
            let changed = Self.changedSettings(from: c, to: patched)
            throw CommandFailure("--learner-config \(learnerConfig) changes settings of checkpoint '\(file)' (\(changed.joined(separator: ", "))); "
                + "a resumed or continued learner keeps the settings it learned with (drop the option; --show-learner-config with --resume shows them)")
        }
        try refuseChange("seed", given: common.givenSeed, saved: c.seed, file: file)
        try refuseChange("hidden", given: network.hidden.flatMap(NetworkOptions.widths), saved: c.hidden, file: file) {
            $0.map(String.init).joined(separator: ",")
        }
        try refuseChange("replay", given: replay, saved: c.replayCapacity, file: file)
        try refuseChange("growth-cooldown", given: growthCooldown, saved: c.growth.cooldownSamples, file: file)
        try refuseChange("growth", given: growth, saved: c.growth.enabled ? .on : .off, file: file) { $0.rawValue }
        try refuseChange("gate", given: gate, saved: c.gate == .learned ? .learned : .classPosterior, file: file) { $0.rawValue }
        try refuseChange("predictor", given: predictor, saved: c.predictor, file: file) { $0.rawValue }
    }

    /// `items` joined by commas, the first 20 and the last when there are more, with their
    /// count: a file of 17,881 JSON keys listed every one of its flagged columns.
    static func listed(_ items: [String]) -> String {
        guard items.count > 21 else { return items.joined(separator: ", ") }
        return items.prefix(20).joined(separator: ", ") + ", …, \(items.last!) (\(items.count) in all)"
    }

    /// A value of a user's column quoted in a warning, on one line and at most 40
    /// characters: a quoted CSV field may hold line ends and a paragraph of text.
    static func example(_ value: String) -> String {
        let oneLine = value.replacingOccurrences(of: "\r\n", with: "\\n").replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\t", with: "\\t")
        return "'" + (oneLine.count > 40 ? oneLine.prefix(40) + "…" : oneLine) + "'"
    }

    /// A warning when a CSV stream's first line was read as a row and its label is a class
    /// of that row alone: a header whose feature names are numbers (wavelengths, years) has
    /// numbers where the rows have them, so it is not found as one, and its label's name
    /// became a class (`moe eval` then listed a class 'species' of one row). nil when a
    /// header was found, either way was said, the stream is a continuation or resumed one
    /// (its first line may be another file's), or it holds fewer than 50 rows.
    static func headerReadAsRow(driver: StreamDriver<Learner>, learner: Learner, given: Bool) -> String? {
        guard case let .csv(settings) = driver.source, !settings.hasHeader, !given,
              driver.position.source.headerFound != true, driver.position.samples == learner.counters.firstVisits,
              learner.counters.firstVisits >= 50 else { return nil }
        let map = driver.position.source.labelMap
        guard map.kind == .names, map.classCount >= 2 else { return nil }
        // Names are numbered in order of appearance: class 0 is the first row's label. The
        // gate's statistics count every first visit under its (slot, class) pair (a stream
        // this short holds no rows out).
        guard let counts = learner.statistics?.counts, counts.count == learner.model.gatePairs.count else { return nil }
        let rows = zip(learner.model.gatePairs, counts).filter { $0.0.label == 0 }.reduce(0) { $0 + $1.1 }
        guard rows == 1 else { return nil }
        return "the first line was read as a row, and its label '\(map.label(of: 0))' is a class of that row alone: is the line a header "
            + "(names that are numbers, such as wavelengths or years, look like a row)? Give --header to read it as one"
    }

    /// The top-level settings (and nested keys, dotted) whose JSON differs between `a` and `b`.
    static func changedSettings(from a: LearnerConfiguration, to b: LearnerConfiguration) -> [String] {
        func object(_ c: LearnerConfiguration) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: JSONEncoder().encode(c))) as? [String: Any] ?? [:]
        }
        func differences(_ x: [String: Any], _ y: [String: Any], prefix: String) -> [String] {
            Set(x.keys).union(y.keys).sorted().flatMap { key -> [String] in
                let name = prefix + key
                if let u = x[key] as? [String: Any], let v = y[key] as? [String: Any] {
                    return differences(u, v, prefix: name + ".")
                }
                let same = x[key].map { NSDictionary(dictionary: ["v": $0]) } == y[key].map { NSDictionary(dictionary: ["v": $0]) }
                return same ? [] : [name]
            }
        }
        return differences(object(a), object(b), prefix: "")
    }

    /// Refuses stream options that differ from the saved stream's.
    func refuseStreamChanges(_ source: StreamSource, file: String) throws(CommandFailure) {
        try refuseChange("batch-size", given: network.batchSize, saved: source.batchSize, file: file)
        guard let s = source.scenarioSettings else {
            if scenario != nil || joint || passes != nil || cycles != nil || permutations != nil || stopAfter != nil {
                throw CommandFailure("checkpoint '\(file)' streams \(source.name), not a scenario; drop the scenario options")
            }
            return
        }
        if case .joint = source, !joint, scenario != nil || cycles != nil {
            throw CommandFailure("checkpoint '\(file)' holds a joint stream; a resumed run keeps its settings (drop the option)")
        }
        if case .scenario = source, joint {
            throw CommandFailure("--joint differs from checkpoint '\(file)', which streams the scenario's experiences; a resumed run keeps its settings (drop the option)")
        }
        try refuseChange("scenario", given: scenario?.rawValue, saved: s.scenario, file: file)
        try refuseChange("passes", given: passes, saved: s.passes, file: file)
        try refuseChange("inputs", given: inputs, saved: s.units ?? .unit, file: file) { $0.rawValue }
        try refuseChange("cycles", given: cycles, saved: s.cycles, file: file)
        if s.scenario == ScenarioChoice.permutedFMNIST.rawValue {
            try refuseChange("permutations", given: permutations, saved: s.experiences, file: file)
        }
    }

    /// Where a resumed stream picks up, for the first line.
    func whereResumed(_ driver: StreamDriver<Learner>) -> String {
        let p = driver.position
        switch driver.source {
        case .scenario:
            let e = driver.currentExperience
            if driver.isFinished { return "all \(driver.experienceCount) experiences done" }
            let cycle = driver.experienceCount > e.perCycle ? "cycle \(e.cycle + 1), " : ""
            return "\(cycle)experience \(e.experience + 1), \(p.source.samplesDelivered) samples into it"
        default:
            return "\(driver.source.name) after \(p.samples) samples in \(p.batches) batches" + (driver.isFinished ? " (finished)" : "")
        }
    }

    /// The line that says what is streamed.
    func describe(_ driver: StreamDriver<Learner>) -> String {
        let c = driver.learner?.configuration ?? (try? learnerConfiguration()) ?? LearnerConfiguration()
        let learner = "replay \(c.replayCapacity), growth \(c.growth.enabled ? "on" : "off"), seed \(c.seed)"
        switch driver.source {
        case let .scenario(s), let .joint(s):
            let name = driver.scenario!.name + (driver.source == .joint(s) ? " (joint)" : "")
            let cycles = s.cycles > 1 ? " x \(s.cycles) cycles" : ""
            return "\(name): \(driver.scenario!.experiences.count) experiences\(cycles), \(s.passes) pass(es), batch \(s.batchSize), \(learner)"
        default:
            return "\(driver.source.name): batch \(driver.source.batchSize), \(learner)"
        }
    }

    /// Whether a header name names rows rather than a measurement: `id`, `ID`,
    /// `customer_id`, `Customer ID`, `index`, R's `rownames`, pandas' `Unnamed: 0`.
    static func namesAnIdentifier(_ name: String) -> Bool {
        let n = name.trimmingCharacters(in: .whitespaces).lowercased()
        return n == "id" || n.hasSuffix("_id") || n.hasSuffix(" id") || n.hasSuffix(".id") || n == "index"
            || n == "rownames" || n == "row.names" || n.hasPrefix("unnamed: ")
    }

    /// Prints the figures, writes the report, emits the JSON line.
    func finish(
        _ driver: StreamDriver<Learner>, outcome: RunOutcome, evaluation: ScenarioEvaluation<Learner>,
        growth: GrowthRecorder<Learner>, lines: StreamLines, kappa: PrequentialKappa.Tally,
        scoredBefore: (samples: Int, correct: Int), filledBefore: Int = 0, console: Console, clock: RunClock
    ) throws {
        guard let learner = driver.learner else { throw CommandFailure("\(driver.source.name): the stream held no samples") }
        let matrix = evaluation.state.classIncremental
        let summaries = evaluation.state.cycles.points
        let cycleCount = driver.source.scenarioSettings?.cycles ?? 1
        var task: Double?
        if let scenario = driver.scenario {
            if cycleCount > 1 {
                for c in summaries {
                    console.say("cycle \(c.cycle + 1): \(c.samples) samples, final average accuracy \(c.finalAverageAccuracy.map { fixed($0) } ?? "n/a"), forgetting \(c.forgetting.map { fixed($0) } ?? "n/a")")
                }
            }
            console.say("accuracy matrix (\(cycleCount > 1 ? "last cycle; " : "")\(scenario.kind == .split ? "class-incremental; " : "")row i: after experience i; column j: test set of experience j):")
            for (i, row) in matrix.values.enumerated() {
                console.say("  \(i + 1): " + row.map { $0.map { fixed($0, 3) } ?? "  -  " }.joined(separator: " "))
            }
            task = scenario.kind == .split ? evaluation.state.taskIncremental.finalAverageAccuracy : nil
            if let task { console.say("task-incremental final average accuracy \(fixed(task))") }
            console.say("final average accuracy \(matrix.finalAverageAccuracy.map { fixed($0) } ?? "n/a"), forgetting \(matrix.forgetting.map { fixed($0) } ?? "n/a"), BWT \(matrix.backwardTransfer.map { fixed($0) } ?? "n/a")")
        } else {
            // A resumed or continued learner's prequential accuracy is its whole life's: said
            // so, beside this run's (before 2026-12-04 the life's figure was printed as the
            // named file's: "0.8541 over 1 samples").
            let scored = learner.prequential
            let figure: String
            if scoredBefore.samples == 0 {
                figure = "prequential accuracy \(fixed(scored.accuracy ?? 0)) over \(driver.position.samples) samples of \(driver.source.name)"
            } else {
                let run = scored.samples - scoredBefore.samples
                let runAccuracy = run > 0 ? fixed(Double(scored.correct - scoredBefore.correct) / Double(run)) : "n/a"
                figure = "prequential accuracy \(runAccuracy) over the \(run) samples of \(driver.source.name) this run; "
                    + "\(fixed(scored.accuracy ?? 0)) over the learner's \(scored.samples) first visits"
            }
            console.say("\(figure); \(learner.model.experts.count) experts; \(driver.position.source.skipped.summary)")
        }
        if let shares = learner.recentShares, shares.servedRows > 0 {
            console.say("the stream's recent class shares answered \(shares.servedRows) of the learner's rows so far where the mixture would have "
                        + "answered otherwise: \(shares.servedGains) right that it had wrong, \(shares.servedLosses) the reverse "
                        + "(rows predicted later, by moe eval or moe predict, are answered with the whole stream's shares)")
        }
        if let k = kappa.kappa {
            let temporal = kappa.kappaTemporal.map { fixed($0) } ?? "n/a"
            console.say("kappa \(fixed(k)), temporal kappa \(temporal) over the \(kappa.samples) first visits it answered "
                        + "(against chance, and against repeating the last label, which scores \(fixed(kappa.noChangeAccuracy ?? 0)))")
        }
        if case let .csv(settings) = driver.source {
            // Which column the classes came from, by name where the file has a header: a
            // user who forgot --label-column last sees 'sex' with classes F and M.
            let names = driver.position.source.columnNames
            let place: String
            switch settings.labelColumn {
            case .first: place = "the first" + (names?.first.map { " ('\($0)')" } ?? "")
            case .last: place = "the last" + (names?.last.map { " ('\($0)')" } ?? "")
            case .index(let i): place = "field \(i) (0-based)" + (names.flatMap { i < $0.count ? " ('\($0[i])')" : nil } ?? "")
            case .name(let n): place = "'\(n)'"
            }
            let map = driver.position.source.labelMap
            let classes = learner.seenClasses.sorted()
            let shown = classes.prefix(8).map { "'\(map.label(of: $0))'" }.joined(separator: ", ") + (classes.count > 8 ? ", …" : "")
            let hint: String
            switch driver.labelColumnChoice {
            case .first?: hint = " (the default; --label-column last, an index or a header name picks another)"
            case .arffLast?: hint = " (the default in an ARFF file; --label-column first, an index or a header name picks another)"
            case .arffOutputs?: hint = " (the output the ARFF file's @outputs line names; --label-column picks another)"
            case .svmlight?:
                let features = (names?.count ?? 1) - 1
                let span = features > 0 ? "\(names![1]) to \(names!.last!)" : "none"
                hint = CSVSource.isFoldedSVMLight(header: names ?? [])
                    ? " (an svmlight (LIBSVM) file's label, each row's first field; its features, more than \(CSVSource.svmlightFoldedWidth), "
                        + "are folded into \(features) columns, \(span), each added with a sign into the column a hash of its index picks)"
                    : " (an svmlight (LIBSVM) file's label, each row's first field; its \(features) features, \(span), are 0 where a row does not name them)"
            case .named?:
                let names = CSVFormat.labelNames.sorted().map { "'\($0)'" }
                hint = " (the header's one column named as a label is: \(names.dropLast().joined(separator: ", ")) or \(names.last!); "
                    + "--label-column picks another)"
            case .lastRecurring?:
                hint = " (the first column's values are all different in the first rows, an identifier or a measurement, "
                    + "and the last's recur; --label-column first, an index or a header name picks another)"
            case nil: hint = ""
            }
            console.say("label column: \(place)\(hint), \(classes.count) class\(classes.count == 1 ? "" : "es"): \(shown)")
            if driver.labelColumnChoice == .lastRecurring {
                // A guess from the values alone: said where it cannot be missed, as the
                // first column taken for the label was (a file with its identifier first
                // and its class second, as Kaggle's Titanic file has them, would get a
                // feature).
                let first = names?.first.map { " ('\($0)')" } ?? "", last = names?.last.map { " ('\($0)')" } ?? ""
                console.warn("no --label-column, and the first column\(first) holds a different value in every one of the first rows: "
                    + "the last column\(last) was taken for the label; give --label-column if another column is it")
            }
            // Names that differ only in case or inner spaces are distinct classes, as
            // written; a user who exported `Yes` and `yes` most likely meant one.
            let alike = Dictionary(grouping: classes.map { map.label(of: $0) }) {
                $0.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
            }.values.filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
            if !alike.isEmpty {
                let groups = alike.prefix(4).map { $0.map { "'\($0)'" }.joined(separator: " and ") }.joined(separator: "; ")
                console.warn("the labels \(groups)\(alike.count > 4 ? "; …" : "") differ only in case or spaces, and are "
                    + "learned as different classes: is that meant? (write each class one way to have them one)")
            }
        }
        if let text = driver.position.source.textColumns, !text.isEmpty, case let .csv(settings) = driver.source {
            let fields = Self.listed(text.map(String.init))
            // By their header names too, where the file has them.
            let position = driver.position.source
            let names = text.compactMap { position.columnName(ofField: $0) }
            let named = names.count == text.count ? Self.listed(names.map { "'\($0)'" }) + " " : ""
            console.say("text columns \(named)(0-based fields \(fields)) read as categories, \(settings.textIndicators ?? 0) indicator columns each: their first values were not numbers")
        }
        if let dressed = driver.position.source.numberLikeTextColumns, !dressed.isEmpty, case let .csv(settings) = driver.source {
            let position = driver.position.source
            let named = dressed.map { field -> String in
                let name = position.columnName(ofField: field).map { "'\($0)'" } ?? "field \(field) (0-based)"
                let example = position.textValues(ofField: field)?.first(where: CSVSource.looksLikeDressedNumber)
                return name + (example.map { " (such as \(Self.example($0)))" } ?? "")
            }
            console.warn("column\(dressed.count > 1 ? "s" : "") \(named.joined(separator: ", ")) hold\(dressed.count > 1 ? "" : "s") numbers written with "
                + "a currency or percent sign, thousands separators or a decimal comma, read as text: a category of "
                + "\(settings.textIndicators ?? CSVFormat.defaultTextIndicators) indicators, most values sharing one. Write them as plain numbers "
                + "(1852.18, 0.30) to have them read as numbers")
        }
        if let rowLike = driver.position.source.rowLikeTextColumns, !rowLike.isEmpty {
            let position = driver.position.source
            let names = rowLike.map(position.columnName(ofField:))
            let named = zip(rowLike, names).map { field, name -> String in
                let example = position.textValues(ofField: field)?.first
                return (name.map { "'\($0)'" } ?? "\(field) (0-based)") + (example.map { " (such as \(Self.example($0)))" } ?? "")
            }
            // By name where every one has a unique name, else by index.
            let byName = names.allSatisfy { name in name.map { n in position.columnNames!.filter { $0 == n }.count == 1 } ?? false }
            let option = byName ? names.map { $0! }.joined(separator: ",") : rowLike.map(String.init).joined(separator: ",")
            console.warn("column\(rowLike.count > 1 ? "s" : "") \(named.joined(separator: ", ")) hold\(rowLike.count > 1 ? "" : "s") "
                + "another value in nearly every row (a date, a name, an identifier?): read as a category, such a column tells "
                + "the rows apart, not the classes, and costs accuracy. Leave \(rowLike.count > 1 ? "them" : "it") out with "
                + "--ignore-columns \(option) (or write a date as a number)")
        }
        if let placed = driver.position.source.columnsPlacedByName { console.warn(placed.sentence(source: driver.source.name)) }
        if let blank = driver.position.source.textInBlankColumns, !blank.isEmpty {
            let position = driver.position.source
            console.warn(CSVSource.sentence(textInBlank: blank) { field in position.columnName(ofField: field).map { "'\($0)'" } ?? "column \(field) (0-based)" })
        }
        if let flagged = driver.position.source.flaggedColumns, !flagged.isEmpty {
            let fields = Self.listed(flagged.map(String.init))
            console.say("missing values flagged in column\(flagged.count > 1 ? "s" : "") \(fields) (0-based), one indicator each: \(flagged.count > 1 ? "they have" : "it has") gaps in the first rows")
        }
        // Classes seen, not the output's width (integer labels are their own indices), in
        // rows learned, a checkpoint's included (a continued stream's position is its own).
        let seen = learner.seenClasses.count, learned = learner.counters.firstVisits
        if case .csv = driver.source, seen > 50, seen * 4 > learned {
            console.say("warning: the label column held \(seen) classes in \(learned) rows: is it the label? (--label-column first, last, an index or a header name)")
        }
        if let counting = driver.position.source.countingColumns, !counting.isEmpty {
            let fields = counting.map(String.init).joined(separator: ", ")
            console.say("warning: column\(counting.count > 1 ? "s" : "") \(fields) (0-based) count\(counting.count > 1 ? "" : "s") up by 1 from row to row, like a row number or identifier, and \(counting.count > 1 ? "are" : "is") read as a feature that only grows: --ignore-columns \(fields) leaves \(counting.count > 1 ? "them" : "it") out")
        }
        // A column named as an identifier and read as numbers is a feature too; rows
        // shuffled before they were written do not count up, so the warning above missed
        // an 'id' column of all different numbers.
        if case let .csv(settings) = driver.source, driver.position.source.widthFromModel != true,
           let names = driver.position.source.columnNames {
            let said = Set(driver.position.source.textColumns ?? []).union(driver.position.source.countingColumns ?? [])
            let label = settings.labelColumn.name(among: names)
            let ignored = Set(settings.format.ignoredColumns)
            let named = names.indices.filter { field in
                Self.namesAnIdentifier(names[field]) && !said.contains(field) && names[field] != label
                    && !ignored.contains(names[field]) && !ignored.contains(String(field))
            }.map { names[$0] }
            if !named.isEmpty {
                let list = named.map { "'\($0)'" }.joined(separator: ", ")
                console.say("warning: column\(named.count > 1 ? "s" : "") \(list) \(named.count > 1 ? "are" : "is") named like an identifier "
                    + "and read as a feature: if \(named.count > 1 ? "they" : "it") only name\(named.count > 1 ? "" : "s") the rows, "
                    + "--ignore-columns \(named.joined(separator: ",")) leaves \(named.count > 1 ? "them" : "it") out")
            }
        }
        if let found = driver.position.source.separatorFound {
            console.say("fields separated by \(CSVFormat.describe(separator: found.first ?? ",")), found from the first lines (give --separator to say so)")
        }
        if driver.position.source.rowNamesLeftOut == true {
            console.say("the first field of each row was taken for its name or index and left out: the header names one column "
                + "fewer than the rows hold (as R's write.table writes them), or none over it (R's write.csv, pandas' to_csv)")
        }
        if driver.position.source.headerFound == true {
            console.say("column names read from line 1, found from the first lines: it has names where line 2 has numbers (give --header to say so, or --no-header if it is a row)")
        }
        if let warning = Self.headerReadAsRow(driver: driver, learner: learner, given: data.header || data.noHeader) {
            console.warn(warning)
        }
        if let filled = driver.position.source.imputation?.filled, filled > 0 {
            // A continued stream's count is the learner's whole life's: this run's beside it
            // (the life's count alone read as the new file's).
            let run = filledBefore > 0 ? " (\(filled - filledBefore) of them in \(driver.source.name) this run)" : ""
            console.say("missing values: \(filled) filled with their column's mean so far\(run)")
        }
        // Classes by their labels (`classes ['cat', 'dog']`); a scenario's are numbers.
        let labels = driver.position.source.labelMap
        for g in learner.history.growths {
            let classes = labels.kind == .names
                ? "[" + g.classes.map { "'\(labels.label(of: $0))'" }.joined(separator: ", ") + "]"
                : "\(g.classes.map { Int(labels.label(of: $0)) ?? $0 })"
            console.say("grew expert \(g.expert) at batch \(g.batch) (sample \(g.sample)) on hidden layer \(g.layer), \(g.detectors.count) detectors, classes \(classes): \(g.reason)")
        }
        for (reason, count) in learner.history.suppressions.sorted(by: { $0.key < $1.key }) {
            console.say("growth held back \(count) time(s): \(reason)")
        }
        let memory = learner.memoryFloats
        let counters = learner.counters
        if counters.numericalFaults > 0 || counters.rowsOutOfRange > 0 {
            console.say("numerical faults: \(counters.numericalFaults) step(s) rolled back, \(counters.rowsOutOfRange) row(s) out of range not learned from")
        }
        console.say("half-learning steps accepted \(counters.acceptedSteps), rejected \(counters.rejectedSteps); \(fixed(driver.samplesPerSecond, 0)) samples/s; memory besides weights \(memory.replay + memory.statistics) floats (replay \(memory.replay), statistics \(memory.statistics))")
        if outcome == .paused {
            let resume = driver.lastSaved.map { "; continue with moe stream --resume \($0)" } ?? " (nothing was saved: give --save to continue later)"
            console.say("paused: \(driver.progressText)\(resume)")
        }
        if let saved = driver.lastSaved { console.say("saved \(saved)") }
        let profile = learner.profile
        let timing = driver.timing
        let phases = PhaseFigures(driver)
        var seconds = phases.seconds
        seconds["load"] = clock.loadSeconds
        seconds["total"] = clock.totalSeconds
        console.say("time: load \(fixed(clock.loadSeconds, 2)) s, read \(fixed(timing.read, 2)) s, learn \(fixed(timing.learn, 2)) s ("
            + profile.phases.map { "\($0.name) \(fixed($0.seconds, 2))" }.joined(separator: ", ")
            + "; \(profile.refits) refits), evaluation \(fixed(timing.evaluation, 2)) s, checkpoint \(fixed(timing.checkpoint, 2)) s, "
            + "reports \(fixed(timing.reports, 2)) s; \(fixed(clock.totalSeconds, 2)) s in all")
        let rate = clock.flops / max(clock.totalSeconds, 1e-9) / 1e9
        // The stream's own first product: a batch through the gate's random features (the
        // first hidden layer without them), so a file of a few columns is set against
        // what sgemm does on a few columns.
        // Timed at most `SgemmYardstick.widestTimed` columns deep: sgemm's rate does not
        // grow past a few thousand, and a file of 100,000 columns spent 20 s and 0.8 GB
        // timing the product of its own width, more than learning its rows took.
        let shape = (m: driver.source.batchSize, n: learner.configuration.gateFeatureCount ?? learner.configuration.hidden[0],
                     k: min(learner.inputWidth, SgemmYardstick.widestTimed))
        let yardstick = SgemmYardstick.gflopsPerSecond(m: shape.m, n: shape.n, k: shape.k)
        let kernel = "\(BLAS.info.kernel) (chosen by \(BLAS.info.kernelSource))"
        console.say("work: \(fixed(clock.flops / 1e9, 1)) GFLOP in BLAS and LAPACK calls, \(fixed(rate, 1)) GFLOP/s over the run, "
            + "\(fixed(rate / yardstick, 2)) of cblas_sgemm's \(fixed(yardstick, 1)) GFLOP/s on the "
            + "\(shape.m) x \(shape.n) x \(shape.k) product of a batch through the gate's features; BLAS: kernel \(kernel), "
            + "\(BLAS.threadPolicy)")
        let memoryBytes = learner.memory
        console.say("memory: " + memoryBytes.components.map { "\($0.name) \(fixed(Double($0.bytes) / 1_048_576, 2)) MiB" }
            .joined(separator: ", ") + "; \(fixed(Double(memoryBytes.total) / 1_048_576, 1)) MiB in all")
        let arbiter = learner.arbiter
        func counts(_ tally: AnswerArbiter.Tally) -> String {
            "+\(Int(tally.wins.rounded()))/-\(Int(tally.losses.rounded()))"
        }
        console.say("who answers in each slot while learning (network, and prior where it answers, against the gate where they disagree, "
            + "faded counts; a copy made to predict, as `moe eval`'s, may judge the prior on the replayed rows): "
            + arbiter.answers.enumerated().map { s, answer in
                let prior = answer == .prior && s < arbiter.prior.count ? ", prior \(counts(arbiter.prior[s]))" : ""
                return "slot \(s) \(answer.rawValue) (\(counts(arbiter.network[s]))\(prior))"
            }.joined(separator: ", "))
        let shrinkage = learner.shrinkage
        let blend = shrinkage.blends[shrinkage.current]
        let features = learner.statistics?.featureCount ?? 0
        let narrow = shrinkage.leading[shrinkage.current]
        let hinges = learner.model.gate.hingeCount
        let candidates = shrinkage.candidates.map { k in
            let name = shrinkage.leading[k].map { $0 == hinges ? "the inputs' \($0) hinges" : "\($0) features" }
                ?? (shrinkage.blends[k] == 0 ? "OAS" : "blend \(shrinkage.blends[k])")
            return "\(name) \(counts(shrinkage.tallies[k]))"
        }
        console.say("the gate's head: " + (narrow.map {
            $0 == hinges ? "OAS over the inputs' hinges, the first \($0) of its \(features) features"
                : "OAS over the first \($0) of its \(features) features"
        }
                                            ?? (blend == 0 ? "OAS over all its features" : "shrunk \(blend) of the way from OAS to the identity"))
            + (candidates.isEmpty ? "" : " (still choosing; against it where they disagree: " + candidates.joined(separator: ", ") + ")"))
        if learner.model.gate.slotCount > 1 && !learner.slotStatistics.isEmpty {
            let heads = learner.model.gate.slotHeads
            let own = heads?.answering ?? []
            let losing = (heads?.slots ?? []).filter { !own.contains($0) }
            console.say("slots answering among their classes with their own covariance: "
                        + (own.isEmpty ? "none yet" : own.map(String.init).joined(separator: ", "))
                        + " of \(learner.model.gate.slotCount)"
                        + (losing.isEmpty ? "" : "; fitted, not ahead of the pooled head: " + losing.map(String.init).joined(separator: ", "))
                        + " (a slot's own head is fitted once it holds as many samples as the gate has features, and answers once it has been right more often than the pooled one)")
        }
        let widening = learner.scaler.flatMap { $0.widensTails ? $0 : nil }
        if let widening {
            console.say("widened tails: \(widening.widenedFeatures.count) of \(widening.width) input features continue past the farthest value they had shown")
        }
        if let scaler = learner.scaler, !scaler.trendingFeatures.isEmpty {
            console.say("trending features: \(scaler.trendingFeatures.count) of \(scaler.width) input features trended with the rows' arrival over the first "
                        + "\(scaler.tailWindow) rows (the stream comes in order of them, or of what they follow): beyond \(fixed(Double(scaler.clip), 0)) deviations "
                        + "their values continue logarithmically instead of all reading as the clip")
        }
        if let report {
            let document = try failingClearly { try driver.report(evaluation: evaluation, growth: growth) }
            let files = try failingClearly { try document.write(toDirectory: URL(fileURLWithPath: report)) }
            console.say("report: \(files.json.path), \(files.accuracyMatrix.path), \(files.prequential.path)")
        }
        try console.emit(Summary(
            finalAverageAccuracy: matrix.finalAverageAccuracy, taskIncrementalAccuracy: task,
            forgetting: matrix.forgetting, bwt: matrix.backwardTransfer, accuracyMatrix: matrix.values,
            prequentialAccuracy: learner.prequential.accuracy,
            runPrequentialAccuracy: learner.prequential.samples > scoredBefore.samples
                ? Double(learner.prequential.correct - scoredBefore.correct) / Double(learner.prequential.samples - scoredBefore.samples) : nil,
            prequentialKappa: kappa.kappa, prequentialKappaTemporal: kappa.kappaTemporal, noChangeAccuracy: kappa.noChangeAccuracy,
            recentSharesServed: learner.recentShares?.servedRows, recentSharesGained: learner.recentShares?.servedGains,
            recentSharesLost: learner.recentShares?.servedLosses,
            experts: learner.model.experts.count,
            parameters: learner.model.parameterCount, samplesPerSecond: driver.samplesPerSecond,
            memoryFloats: memory.replay + memory.statistics, checkpoint: driver.lastSaved,
            cycles: cycleCount > 1 ? summaries : nil, numericalFaults: counters.numericalFaults,
            rowsOutOfRange: counters.rowsOutOfRange, samples: driver.position.samples,
            rowsSkipped: driver.position.source.skipped.total, textColumns: driver.position.source.textColumns,
            missingValuesFilled: driver.position.source.imputation?.filled,
            flaggedColumns: driver.position.source.flaggedColumns,
            separatorFound: driver.position.source.separatorFound,
            countingColumns: driver.position.source.countingColumns,
            rowLikeTextColumns: driver.position.source.rowLikeTextColumns,
            paused: outcome == .paused,
            seconds: seconds, flops: clock.flops, gflopsPerSecond: rate, sgemmGflopsPerSecond: yardstick,
            sgemmFraction: rate / yardstick, blasThreads: BLAS.threadPolicy.description,
            blasKernel: kernel,
            flopsByPhase: phases.flops,
            memoryBytes: Dictionary(uniqueKeysWithValues: memoryBytes.components.map { ($0.name, $0.bytes) }),
            gateShrinkage: blend, gateShrinkageChoosing: shrinkage.choosing,
            gateHeadFeatures: learner.statistics.map { _ in narrow ?? features }, widenedFeatures: widening?.widenedFeatures.count,
            trendingFeatures: learner.scaler.flatMap { $0.trendTails ? $0.trendingFeatures.count : nil },
            batchesFarFromLearned: lines.batchesFarFromLearned,
            slotHeads: learner.model.gate.slotHeads?.answering ?? [],
            slotHeadsFitted: learner.model.gate.slotHeads?.slots ?? []))
    }
}

extension StreamCatalogue.Units: ExpressibleByArgument {}

/// The named streams of `StreamCatalogue`.
enum ScenarioChoice: String, ExpressibleByArgument, CaseIterable {
    case splitFMNIST = "split-fmnist"
    case classOrderedFMNIST = "class-ordered-fmnist"
    case smallFMNIST = "small-fmnist"
    case blurryFMNIST = "blurry-fmnist"
    case imbalancedFMNIST = "imbalanced-fmnist"
    case permutedFMNIST = "permuted-fmnist"
    case recurringFMNIST = "recurring-fmnist"
    case driftFMNIST = "drift-fmnist"
}

enum Switch: String, ExpressibleByArgument, CaseIterable { case on, off }

enum GateOption: String, ExpressibleByArgument, CaseIterable {
    case classPosterior = "class-posterior"
    case learned
}

extension LearnerConfiguration.Predictor: ExpressibleByArgument {}
