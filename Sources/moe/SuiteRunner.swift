import Continual
import Foundation
import MoE

/// A stream of the suite: a catalogue name and the units of its pixels.
struct SuiteStream: Sendable, Equatable {
    var name: String
    var units: StreamCatalogue.Units

    /// `class-ordered-fmnist`, or `class-ordered-fmnist@raw` for other units.
    var label: String { units == .unit ? name : "\(name)@\(units.rawValue)" }
}

/// The four learners every stream is measured with.
enum SuiteLearner: String, CaseIterable, Sendable, Codable {
    /// The method, with its defaults.
    case `default`
    /// The same learner answering with its gate's discriminant alone.
    case gate
    /// The same learner that never grows (the trunk and the gate).
    case growthOff = "growth-off"
    /// Fine-tuning with a replay buffer of 500 samples (no gate statistics, no growth).
    case replay

    /// The learner's settings: `base` (the defaults, or a `--learner-config` file's on
    /// top of them) with the learner's own difference put on it; replay-500 is the fixed
    /// baseline, whatever `base` says.
    func configuration(seed: UInt64, base: LearnerConfiguration) -> LearnerConfiguration {
        var c: LearnerConfiguration
        switch self {
        case .default: c = base
        case .gate:
            c = base
            c.predictor = .discriminant
        case .growthOff:
            c = base
            c.growth.enabled = false
        case .replay: c = .replay(500)
        }
        c.seed = seed
        return c
    }
}

/// The orders a user's own file is streamed in (`moe suite --source … --orders`).
enum SuiteOrder: String, CaseIterable, Sendable {
    /// As the file has its rows.
    case file
    /// Shuffled with the suite's seed.
    case shuffled
    /// One class after another, in the order the classes first appear, each class's rows
    /// in the file's order.
    case classOrder = "class"
    /// Blocks of ``blockRows`` rows of one class, the classes taking turns in the order
    /// they first appear (a class that runs out leaves the turns), each class's rows in
    /// the file's order.
    case blocks

    /// Rows in a block of `blocks`.
    static let blockRows = 20

    /// How the table names a stream in this order.
    var phrase: String {
        switch self {
        case .file: "as the file has it"
        case .shuffled: "shuffled"
        case .classOrder: "in class order"
        case .blocks: "in blocks of \(Self.blockRows) rows, the classes taking turns"
        }
    }
}

/// Where the rows come from.
enum SuitePath: String, Sendable, Codable {
    /// The scenario in memory, evaluated after every experience.
    case memory
    /// A CSV file of the same rows in the same order, evaluated on the test rows at the end.
    case csv
}

/// One run of the suite.
struct SuiteRow: Codable, Sendable {
    var stream: String
    var path: SuitePath
    var learner: SuiteLearner
    /// Final average accuracy (memory) or test accuracy (csv; the same figure when the
    /// experiences' test sets have equal sizes).
    var accuracy: Double
    var forgetting: Double?
    var backwardTransfer: Double?
    var taskIncrementalAccuracy: Double?
    /// Each first-visit row predicted before it was learned (absent in suites written
    /// before it was recorded).
    var prequentialAccuracy: Double?
    /// The served scores' mean log-loss and expected calibration error on the test rows
    /// (every experience's, for the memory path), as `moe eval` reports them (absent in
    /// suites written before they were recorded).
    var logLoss: Double?
    var calibrationError: Double?
    var experts: Int
    var samples: Int
    var seconds: Double
    var samplesPerSecond: Double
    /// Seconds and BLAS work by phase, as `moe stream --json` reports them (absent in
    /// suites written before they were recorded).
    var phaseSeconds: [String: Double]?
    var phaseFlops: [String: Double]?
}

/// What the recurring-domains stream shows about domains that return.
struct ReturnFigures: Codable, Sendable {
    var stream: String
    var learner: SuiteLearner
    var domain: Int
    /// Prequential accuracy over the last 1,000 samples of the domain's first visit.
    var endOfFirstVisit: Double
    /// Prequential accuracy over the first 1,000 samples of its return.
    var startOfReturn: Double
    /// The slot the gate sent most of the first visit's last samples to.
    var ownSlot: Int
    /// Fraction of the return's samples the gate sent there.
    var routedToOwnSlot: Double
    /// Experts grown during the return.
    var expertsGrownDuringReturn: Int
}

/// Everything the suite measured.
struct SuiteDocument: Codable, Sendable {
    var seed: UInt64
    var rows: [SuiteRow]
    var returns: [ReturnFigures]
    /// The `--learner-config` file the default learner, its gate alone and growth off
    /// started from (absent: the defaults).
    var learnerConfig: String?

    /// Per stream and path: the default learner's accuracy against its parts.
    struct Check: Codable, Sendable {
        var stream: String
        var path: SuitePath
        var atLeastGateMinus0005: Bool?
        var atLeastReplay: Bool?
    }

    var checks: [Check] {
        var result: [Check] = []
        for key in keys {
            func accuracy(_ l: SuiteLearner) -> Double? { row(key, l)?.accuracy }
            guard let mixture = accuracy(.default) else { continue }
            result.append(Check(
                stream: key.stream, path: key.path, atLeastGateMinus0005: accuracy(.gate).map { mixture >= $0 - 0.005 },
                atLeastReplay: accuracy(.replay).map { mixture >= $0 }))
        }
        return result
    }

    private var keys: [(stream: String, path: SuitePath)] {
        var seen: [(String, SuitePath)] = []
        for r in rows where !seen.contains(where: { $0.0 == r.stream && $0.1 == r.path }) { seen.append((r.stream, r.path)) }
        return seen
    }

    private func row(_ key: (stream: String, path: SuitePath), _ learner: SuiteLearner) -> SuiteRow? {
        rows.first { $0.stream == key.stream && $0.path == key.path && $0.learner == learner }
    }

    /// The results as a markdown table, one line per stream and path.
    var markdown: String {
        func f(_ x: Double?, _ digits: Int = 3) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "—" }
        var lines = [
            "| stream | path | default | gate alone | growth off | replay-500 | forgetting (default) | prequential (default) | log-loss (default) | experts | seconds (default) | ≥ gate − 0.005, ≥ replay |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for key in keys {
            let d = row(key, .default)
            let check = checks.first { $0.stream == key.stream && $0.path == key.path }
            let verdict = [check?.atLeastGateMinus0005, check?.atLeastReplay].map { $0.map { $0 ? "yes" : "**no**" } ?? "—" }
                .joined(separator: ", ")
            lines.append("| \(key.stream) | \(key.path.rawValue) | \(f(d?.accuracy)) | \(f(row(key, .gate)?.accuracy)) | "
                + "\(f(row(key, .growthOff)?.accuracy)) | \(f(row(key, .replay)?.accuracy)) | \(f(d?.forgetting)) | \(f(d?.prequentialAccuracy)) | \(f(d?.logLoss)) | "
                + "\(d.map { String($0.experts) } ?? "—") | \(f(d?.seconds, 1)) | \(verdict) |")
        }
        if let learnerConfig {
            lines += ["", "The default learner, its gate alone and growth off with the settings of \(learnerConfig) on top of the defaults; replay-500 as always."]
        }
        if !returns.isEmpty {
            lines += ["", "| stream | learner | domain | end of first visit | first 1,000 of return | routed to own slot | experts grown on return |",
                      "|---|---|---|---|---|---|---|"]
            for r in returns {
                lines.append("| \(r.stream) | \(r.learner.rawValue) | \(r.domain) | \(f(r.endOfFirstVisit)) | \(f(r.startOfReturn)) | "
                    + "\(f(r.routedToOwnSlot)) (slot \(r.ownSlot)) | \(r.expertsGrownDuringReturn) |")
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// Records what every first-visit batch did, for figures a stream's end cannot give.
final class SuiteRecorder: StreamPlugin {
    typealias L = Learner

    struct Entry {
        var experience: Int
        var samples: Int
        var errors: Int
        var routed: [Int]
        var experts: Int
    }

    private(set) var entries: [Entry] = []

    func afterBatch(_ driver: StreamDriver<Learner>, _ event: BatchEvent<Learner.StepReport>) {
        guard event.pass == 0 else { return }
        entries.append(Entry(experience: event.experience.ordinal, samples: event.step.samples, errors: event.step.errors,
                             routed: event.step.routed, experts: event.step.experts))
    }
}

/// Runs the suite's streams, learner by learner, path by path.
struct SuiteRunner {
    let seed: UInt64
    let dataDirectory: String?
    let folder: URL
    let console: Console
    let learners: [SuiteLearner]
    let paths: [SuitePath]
    private(set) var document: SuiteDocument
    private var fashion: (train: Dataset, test: Dataset)?
    /// The files the runs wrote into `data/` (CSV files, checkpoints), and whether the
    /// runner made that folder: ``removeWrittenData()`` removes only these.
    private var written: [String] = []
    private var madeDataFolder = false
    /// Whether the files written into `data/` stay (`--keep-data`).
    var keepsData = false
    /// The settings the default learner, its gate alone and growth off start from: the
    /// defaults, or `--learner-config`'s file on top of them (``useSettings(_:from:)``).
    private(set) var learnerSettings = LearnerConfiguration()

    /// Runs the default learner, its gate alone and growth off with `settings`, read from
    /// the file `path` (recorded in the document).
    mutating func useSettings(_ settings: LearnerConfiguration, from path: String) {
        learnerSettings = settings
        document.learnerConfig = path
    }

    init(seed: UInt64, dataDirectory: String?, folder: URL, console: Console, learners: [SuiteLearner], paths: [SuitePath]) {
        self.seed = seed
        self.dataDirectory = dataDirectory
        self.folder = folder
        self.console = console
        self.learners = learners
        self.paths = paths
        document = SuiteDocument(seed: seed, rows: [], returns: [])
    }

    mutating func run(_ stream: SuiteStream) throws {
        let entry = StreamCatalogue.entry(stream.name)!
        var files: (train: String, test: String)?
        for path in paths {
            for learner in learners {
                console.progress("\(stream.label) from \(path.rawValue): \(learner.rawValue)…")
                let row: SuiteRow
                switch path {
                case .memory:
                    row = try runInMemory(stream, entry: entry, learner: learner)
                case .csv:
                    if files == nil { files = try export(stream, entry: entry) }
                    row = try runFromCSV(stream, files: files!, learner: learner)
                }
                document.rows.append(row)
                let forgetting = row.forgetting.map { String(format: ", forgetting %.3f", $0) } ?? ""
                console.progress(String(format: "\(stream.label) from \(path.rawValue): \(learner.rawValue) %.4f\(forgetting), \(row.experts) experts, %.1f s", row.accuracy, row.seconds), final: true)
            }
        }
    }

    /// `data/` in the output folder, made if it is not there.
    private mutating func dataFolder() throws -> URL {
        let data = folder.appendingPathComponent("data")
        if !FileManager.default.fileExists(atPath: data.path) {
            try failingClearly { try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true) }
            madeDataFolder = true
        }
        return data
    }

    /// `path`, to be written into `data/` and removed with it: refused when a file this run
    /// did not write is there and would be removed (without `--keep-data`, which keeps
    /// what a run before kept to be written again).
    private mutating func claim(_ path: String) throws -> String {
        if !written.contains(path) {
            if !keepsData && FileManager.default.fileExists(atPath: path) {
                throw CommandFailure("'\(path)' is already there, and the suite writes a file of that name; give another --out or move it")
            }
            written.append(path)
        }
        return path
    }

    /// Removes the files the runs wrote, and `data/` if the runner made it and nothing
    /// else is in it: a folder of that name the user had (`--out .`) keeps what it held.
    func removeWrittenData() {
        for path in written { try? FileManager.default.removeItem(atPath: path) }
        let data = folder.appendingPathComponent("data").path
        if madeDataFolder, (try? FileManager.default.contentsOfDirectory(atPath: data))?.isEmpty == true {
            try? FileManager.default.removeItem(atPath: data)
        }
    }

    /// How the table names a user's file: its folder and its name (`medexp/train.csv`),
    /// the folder resolved from the working one for a bare name. Data sets are often kept
    /// as a folder each with files of the same names, and a table of `train.csv` rows
    /// could not say which set each came from.
    static func streamName(of path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let folder = url.deletingLastPathComponent().lastPathComponent
        return folder.isEmpty || folder == "/" ? url.lastPathComponent : folder + "/" + url.lastPathComponent
    }

    /// The suite's learners on a user's own rows, in each of `orders`: each streams the file
    /// of `settings` (or its rows written in that order into `data/`) as `moe stream
    /// --source csv:… --save` would, and the file it saves is scored on the rows `test`
    /// reads as `moe eval` reads them (the saved learner's label column, text columns and
    /// means; a label it never learned counts as an error). Without `test`, a quarter of
    /// the file's rows drawn with the seed are held out to score them on (written into
    /// `data/`), and the others stream. The table's stream is the file's folder and name
    /// (``streamName(of:)``), and the order when it is not the file's.
    mutating func run(own settings: StreamSource.CSVSettings, orders: [SuiteOrder], test: DataSourceOptions, holdsOut: Bool) throws {
        guard let path = settings.path else { return }
        let name = URL(fileURLWithPath: path).lastPathComponent
        let shown = Self.streamName(of: path)
        var rows: UserRows?
        var training: [Int]?
        var scored = test
        if holdsOut {
            let read = try UserRows(path: path, format: settings.format)
            var drawn = Array(read.lines.indices)
            shuffle(&drawn)
            let held = drawn.count / 4
            guard held > 0 else {
                throw CommandFailure("'\(path)' has \(drawn.count) row\(drawn.count == 1 ? "" : "s"), too few to hold a quarter out to score on; give --test csv:PATH")
            }
            scored.source = "csv:" + (try write(read, rows: drawn[..<held].sorted(), as: "\(name).held-out.csv"))
            training = drawn[held...].sorted()
            rows = read
        }
        for order in orders {
            var ordered = settings
            if order != .file || holdsOut {
                let read = try rows ?? UserRows(path: path, format: settings.format)
                rows = read
                let chosen = arranged(training ?? Array(read.lines.indices), in: order, labels: read.labels)
                ordered.path = try write(read, rows: chosen, as: "\(name).\(holdsOut ? "training." : "")\(order.rawValue).csv")
                // The label column the user's file showed, not one each order's first rows
                // would show (`CSVFormat.choosesLabelColumn`): the rows were arranged by it.
                ordered.labelColumn = read.labelColumn
                ordered.choosesLabelColumn = nil
            }
            let suffix = order == .file ? "" : ", \(order.phrase)"
            try run(own: .csv(ordered), name: shown + suffix, files: name + suffix, test: scored)
        }
    }

    /// A user's file as records: every row's line and class (read as the stream will read
    /// it, `format`, so a bad row stops here with its line, as it would), and the file's
    /// records (its bytes, about the file's size in memory).
    struct UserRows {
        let path: String
        let lines: [Int]
        let labels: [Int]
        let records: CSVSource.Records
        /// The label column the rows were read with (the reader's choice when none was given).
        let labelColumn: LabelColumn

        init(path: String, format: CSVFormat) throws {
            self.path = path
            let csv = try failingClearly { try CSVSource(path: path, format: format, batchSize: 4096) }
            csv.recordsRowLines = true
            var labels: [Int] = []
            try failingClearly { while let batch = try csv.next() { labels += batch.labels } }
            self.labels = labels
            labelColumn = csv.format.labelColumn
            lines = csv.rowLines
            records = try failingClearly { try CSVSource.Records(path: path) }
        }
    }

    /// `rows` (indices into a file's rows, in the file's order) in `order`; `labels` holds
    /// every row's class.
    private func arranged(_ rows: [Int], in order: SuiteOrder, labels: [Int]) -> [Int] {
        var rows = rows
        switch order {
        case .file:
            return rows
        case .shuffled:
            shuffle(&rows)
            return rows
        case .classOrder:
            var rank: [Int: Int] = [:]
            for r in rows where rank[labels[r]] == nil { rank[labels[r]] = rank.count }
            return rows.sorted { (rank[labels[$0]]!, $0) < (rank[labels[$1]]!, $1) }
        case .blocks:
            // One queue per class, in the order the classes first appear.
            var queues: [[Int]] = [], queue: [Int: Int] = [:]
            for r in rows {
                let k = queue[labels[r]] ?? queues.count
                if k == queues.count { queue[labels[r]] = k; queues.append([]) }
                queues[k].append(r)
            }
            var taken = [Int](repeating: 0, count: queues.count), turns: [Int] = []
            while turns.count < rows.count {
                for k in queues.indices {
                    let end = min(taken[k] + SuiteOrder.blockRows, queues[k].count)
                    turns += queues[k][taken[k] ..< end]
                    taken[k] = end
                }
            }
            return turns
        }
    }

    /// Shuffles `rows` with the suite's seed (Fisher-Yates).
    private func shuffle(_ rows: inout [Int]) {
        var generator = SeededGenerator(seed: seed)
        for i in stride(from: rows.count - 1, to: 0, by: -1) { rows.swapAt(i, generator.nextInt(below: i + 1)) }
    }

    /// Writes the records before the first row of `file` as they were (a header, Excel's
    /// `sep=` line, an ARFF header), then the records of `rows` (indices of its rows) in
    /// that order, into `data/` as `name`; lines between rows that hold none (blank,
    /// comments) are left out.
    private mutating func write(_ file: UserRows, rows: [Int], as name: String) throws -> String {
        let path = try claim(try dataFolder().appendingPathComponent(name).path)
        let first = file.lines.first ?? Int.max
        var writer = try CSVRowWriter(path: path)
        for i in file.records.lines.indices where file.records.lines[i] < first { try writer.write(record: file.records.record(i)) }
        for r in rows {
            guard let i = file.records.index(ofLine: file.lines[r]) else {
                throw CommandFailure("'\(file.path)', line \(file.lines[r]): the row read there begins no record when read again; did the file change while the suite read it?")
            }
            try writer.write(record: file.records.record(i))
        }
        try writer.close()
        return path
    }

    /// The suite's learners on `source`, a user's file in one order (above). The first
    /// learner's stream shows `moe stream`'s progress lines and its warnings (a label
    /// column that looks like a number, rows in other units than those learned). `name`
    /// is the table's; `files` begins the names of the files the learners save.
    private mutating func run(own source: StreamSource, name: String, files: String, test: DataSourceOptions) throws {
        let data = try dataFolder()
        for learner in learners {
            console.progress("\(name): \(learner.rawValue)…")
            let saved = try claim(data.appendingPathComponent("\(files)-\(learner.rawValue).h5").path)
            let configuration = learner.configuration(seed: seed, base: learnerSettings)
            let start = ContinuousClock.now
            let driver = try failingClearly {
                try StreamDriver(source: source, policy: CheckpointPolicy(path: saved),
                                 plugins: learner == learners.first ? [StreamLines(console: console)] : []) { first in
                    try Learner(configuration: configuration, inputWidth: first.features.columns,
                                classCount: max(1, (first.labels.max() ?? 0) + 1))
                }
            }
            _ = try failingClearly { try driver.run() }
            let elapsed = seconds(since: start)
            let trained = driver.learner!
            let phases = PhaseFigures(driver)
            let loaded = try failingClearly { try Checkpoint.load(from: saved) }
            let model = try failingClearly { try loaded.makeModel() }
            let ready = try failingClearly { try Learner(checkpoint: loaded).snapshot() }
            var quality = ScoreQuality()
            var correct = 0, rows = 0
            // The test file's warnings (columns placed by name, text never seen) are the same
            // for every learner: said once.
            let firstLearner = learner == learners.first, say = console
            let warn: (String) -> Void = { text in if firstLearner { say.warn(text) } }
            _ = try test.forEachBatch(for: model, of: loaded, file: saved, unknownLabels: true, warn: warn) { features, labels in
                correct += Self.score(ready, features: features, labels: labels, into: &quality)
                rows += labels.count
            }
            let row = SuiteRow(
                stream: name, path: .csv, learner: learner, accuracy: rows > 0 ? Double(correct) / Double(rows) : 0,
                forgetting: nil, backwardTransfer: nil, taskIncrementalAccuracy: nil,
                prequentialAccuracy: trained.prequential.accuracy, logLoss: quality.logLoss,
                calibrationError: quality.calibrationError, experts: trained.model.experts.count,
                samples: trained.counters.samples, seconds: elapsed, samplesPerSecond: driver.samplesPerSecond,
                phaseSeconds: phases.seconds, phaseFlops: phases.flops)
            document.rows.append(row)
            console.progress(String(format: "\(name): \(learner.rawValue) %.4f on %d test rows, \(row.experts) experts, %.1f s",
                                    row.accuracy, rows, row.seconds), final: true)
        }
    }

    private mutating func runInMemory(_ stream: SuiteStream, entry: StreamCatalogue.Entry, learner: SuiteLearner) throws -> SuiteRow {
        let settings = StreamSource.ScenarioSettings(
            scenario: stream.name, dataDirectory: dataDirectory, seed: seed, passes: entry.passes, batchSize: 128,
            units: stream.units)
        let evaluation = ScenarioEvaluation<Learner>(), recorder = SuiteRecorder()
        let configuration = learner.configuration(seed: seed, base: learnerSettings)
        let start = ContinuousClock.now
        let driver = try failingClearly {
            try StreamDriver(source: .scenario(settings), policy: CheckpointPolicy(path: nil), plugins: [evaluation, recorder]) { first in
                try Learner(configuration: configuration, inputWidth: first.features.columns, classCount: 1)
            }
        }
        _ = try failingClearly { try driver.run() }
        let elapsed = seconds(since: start)
        let trained = driver.learner!
        let phases = PhaseFigures(driver)
        let matrix = evaluation.state.classIncremental
        if let scenario = driver.scenario, stream.name == "recurring-fmnist" {
            document.returns += returnFigures(recorder.entries, domains: scenario.experiences.count / 2, stream: stream.label, learner: learner)
        }
        var quality = ScoreQuality()
        if let scenario = driver.scenario {
            let ready = trained.snapshot()
            for e in scenario.experiences.indices {
                let set = scenario.testSet(experience: e)
                Self.score(ready, features: set.features, labels: set.labels, into: &quality)
            }
        }
        return SuiteRow(
            stream: stream.label, path: .memory, learner: learner, accuracy: matrix.finalAverageAccuracy ?? 0,
            forgetting: matrix.forgetting, backwardTransfer: matrix.backwardTransfer,
            taskIncrementalAccuracy: driver.scenario?.kind == .split ? evaluation.state.taskIncremental.finalAverageAccuracy : nil,
            prequentialAccuracy: trained.prequential.accuracy, logLoss: quality.logLoss, calibrationError: quality.calibrationError,
            experts: trained.model.experts.count, samples: trained.counters.samples, seconds: elapsed,
            samplesPerSecond: driver.samplesPerSecond, phaseSeconds: phases.seconds, phaseFlops: phases.flops)
    }

    private func runFromCSV(_ stream: SuiteStream, files: (train: String, test: String), learner: SuiteLearner) throws -> SuiteRow {
        let configuration = learner.configuration(seed: seed, base: learnerSettings)
        let start = ContinuousClock.now
        let source = StreamSource.csv(.init(path: files.train, labelColumn: .last, batchSize: 128))
        let driver = try failingClearly {
            try StreamDriver(source: source, policy: CheckpointPolicy(path: nil), plugins: []) { first in
                try Learner(configuration: configuration, inputWidth: first.features.columns,
                            classCount: max(1, (first.labels.max() ?? 0) + 1))
            }
        }
        _ = try failingClearly { try driver.run() }
        let test = try failingClearly { try CSV.load(path: files.test, format: CSVFormat(labelColumn: .last)) }
        let trained = driver.learner!
        let phases = PhaseFigures(driver)
        // One pass over the test rows gives the classes (the accuracy) and their scores.
        var quality = ScoreQuality()
        let correct = Self.score(trained.snapshot(), features: test.features, labels: test.labels, into: &quality)
        let accuracy = test.features.rows > 0 ? Double(correct) / Double(test.features.rows) : 0
        return SuiteRow(
            stream: stream.label, path: .csv, learner: learner, accuracy: accuracy, forgetting: nil, backwardTransfer: nil,
            taskIncrementalAccuracy: nil, prequentialAccuracy: trained.prequential.accuracy,
            logLoss: quality.logLoss, calibrationError: quality.calibrationError, experts: trained.model.experts.count,
            samples: trained.counters.samples,
            seconds: seconds(since: start), samplesPerSecond: driver.samplesPerSecond,
            phaseSeconds: phases.seconds, phaseFlops: phases.flops)
    }

    /// Adds the served (calibrated) scores of the rows to `quality`, in chunks, from a
    /// learner made ready to predict (``Learner/snapshot()``, taken once by the caller);
    /// returns how many rows its classes got right (a label it has no class for is wrong,
    /// as `Learner.accuracy(features:labels:)` counts it).
    @discardableResult
    static func score(_ ready: Learner, features: Matrix, labels: [Int], into quality: inout ScoreQuality, chunk: Int = 2048) -> Int {
        var start = 0, correct = 0
        while start < features.rows {
            let end = min(start + chunk, features.rows)
            let rows = features.rows(start..<end)
            let (classes, scores) = ready.predictWithScores(rows)
            quality.add(scores: scores, labels: Array(labels[start..<end]), predicted: classes)
            for (i, p) in classes.enumerated() where p == labels[start + i] { correct += 1 }
            start = end
        }
        return correct
    }

    /// Writes the stream's training rows, in the order the scenario streams them (every
    /// pass), and the test rows of every experience, as CSV: label last, pixels as raw
    /// bytes 0-255 (standardised pixels as decimals).
    private mutating func export(_ stream: SuiteStream, entry: StreamCatalogue.Entry) throws -> (train: String, test: String) {
        if fashion == nil {
            let directory = dataDirectory ?? FashionMNIST.defaultDirectory
            fashion = try failingClearly {
                try FashionMNIST.loadSplits(directory: directory)
            }
        }
        let scenario = try failingClearly {
            try StreamCatalogue.scenario(stream.name, train: fashion!.train, test: fashion!.test, units: stream.units, seed: seed)!
        }
        let data = try dataFolder()
        let train = try claim(data.appendingPathComponent("\(stream.label).train.csv").path)
        let test = try claim(data.appendingPathComponent("\(stream.label).test.csv").path)
        let bytes = stream.units != .standardized
        let scale: Float = stream.units == .unit ? 255 : 1
        var writer = try CSVRowWriter(path: train)
        for e in scenario.experiences.indices {
            var rows = scenario.trainStream(experience: e, batchSize: 4096, passes: entry.passes)
            while let batch = try failingClearly({ try rows.next() }) {
                try writer.write(batch.features, labels: batch.labels, scale: scale, asBytes: bytes)
            }
        }
        try writer.close()
        writer = try CSVRowWriter(path: test)
        for e in scenario.experiences.indices {
            let set = scenario.testSet(experience: e)
            try writer.write(set.features, labels: set.labels, scale: scale, asBytes: bytes)
        }
        try writer.close()
        return (train, test)
    }

    /// Per domain of a recurring stream: accuracy at the end of the first visit and at the
    /// start of the return, and where the gate sent the return.
    private func returnFigures(_ entries: [SuiteRecorder.Entry], domains: Int, stream: String, learner: SuiteLearner) -> [ReturnFigures] {
        func window(_ batches: [SuiteRecorder.Entry], samples: Int) -> (accuracy: Double, routed: [Int]) {
            var n = 0, errors = 0
            var routed: [Int] = []
            for b in batches where n < samples {
                n += b.samples
                errors += b.errors
                if routed.count < b.routed.count { routed += Array(repeating: 0, count: b.routed.count - routed.count) }
                for (s, k) in b.routed.enumerated() { routed[s] += k }
            }
            return (n > 0 ? 1 - Double(errors) / Double(n) : 0, routed)
        }
        return (0..<domains).compactMap { d in
            let first = entries.filter { $0.experience == d }
            let back = entries.filter { $0.experience == d + domains }
            guard !first.isEmpty, !back.isEmpty else { return nil }
            let end = window(first.reversed(), samples: 1000)
            let start = window(back, samples: 1000)
            let all = window(back, samples: .max)
            let own = end.routed.indices.max { end.routed[$0] < end.routed[$1] } ?? 0
            let total = all.routed.reduce(0, +)
            let grown = (back.last?.experts ?? 0) - (entries.last { $0.experience < d + domains }?.experts ?? 0)
            return ReturnFigures(
                stream: stream, learner: learner, domain: d, endOfFirstVisit: end.accuracy, startOfReturn: start.accuracy,
                ownSlot: own, routedToOwnSlot: total > 0 && own < all.routed.count ? Double(all.routed[own]) / Double(total) : 0,
                expertsGrownDuringReturn: grown)
        }
    }
}

/// Writes CSV lines, buffered: labelled rows (features, then the label), or records of
/// text as a file had them.
struct CSVRowWriter {
    private let handle: FileHandle
    private let path: String
    private var buffer: [UInt8] = []

    init(path: String) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw CommandFailure("cannot write '\(path)'")
        }
        self.handle = handle
        buffer.reserveCapacity(1 << 22)
    }

    /// Appends every row of `features` (multiplied by `scale`) with its label; as integers
    /// when `asBytes`, as decimals otherwise.
    mutating func write(_ features: Matrix, labels: [Int], scale: Float, asBytes: Bool) throws {
        for r in 0..<features.rows {
            for j in 0..<features.columns {
                let v = features[r, j] * scale
                if asBytes { appendInteger(Int(v.rounded())) } else { buffer += Array(String(format: "%.6g", v).utf8) }
                buffer.append(UInt8(ascii: ","))
            }
            appendInteger(labels[r])
            buffer.append(UInt8(ascii: "\n"))
            if buffer.count > 1 << 22 { try flush() }
        }
    }

    /// Appends `record` and a line feed.
    mutating func write(record: ArraySlice<UInt8>) throws {
        buffer += record
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count > 1 << 22 { try flush() }
    }

    private mutating func appendInteger(_ value: Int) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        var v = abs(value)
        if v == 0 {
            buffer.append(UInt8(ascii: "0"))
            return
        }
        var digits: [UInt8] = []
        while v > 0 {
            digits.append(UInt8(ascii: "0") + UInt8(v % 10))
            v /= 10
        }
        buffer += digits.reversed()
    }

    private mutating func flush() throws {
        do { try handle.write(contentsOf: buffer) } catch { throw CommandFailure("cannot write '\(path)': \(error.localizedDescription)") }
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func close() throws {
        try flush()
        try? handle.close()
    }
}
