import Foundation
import Logging
import MoE

/// The one loop of the framework: it reads a stream of batches from its source, hands
/// each to the learner, keeps the stream's real position, saves checkpoints by its
/// policy and calls its plugins. Every kind of stream runs here: a scenario's experiences
/// (with their evaluations and cycles), joint training, a CSV file or standard input, IDX
/// files, and the epochs of `moe train`.
///
/// A checkpoint it writes holds the learner, the stream's description and position
/// (`/sections/stream`) and the state of its plugins, so that
/// ``init(resuming:learner:scenario:dataDirectory:passes:policy:plugins:)`` continues a paused
/// stream of any kind exactly where it stopped, bit for bit, and
/// ``init(continuing:learner:on:policy:plugins:)`` goes on learning from new data.
///
/// ```swift
/// // Monday: learn from a file, save.
/// let policy = CheckpointPolicy(path: "Checkpoints/mine.h5")
/// let monday = StreamSource.csv(.init(path: "monday.csv", labelColumn: .last))
/// let first = try StreamDriver(source: monday, policy: policy) { batch in
///     try Learner(configuration: LearnerConfiguration(), inputWidth: batch.features.columns, classCount: 1)
/// }
/// try first.run()
/// // Tuesday: the learner with everything it learned, on new rows.
/// let saved = try Checkpoint.load(from: "Checkpoints/mine.h5")
/// let tuesday = try StreamDriver(continuing: saved, learner: try Learner(checkpoint: saved),
///                                on: .csv(.init(path: "tuesday.csv", labelColumn: .last)), policy: policy)
/// try tuesday.run()
/// ```
public final class StreamDriver<L: StreamLearner> {
    public typealias Position = StreamProgress

    /// The learner: nil until the first batch when it is made from that batch.
    public private(set) var learner: L?
    /// What the stream reads.
    public private(set) var source: StreamSource
    /// The scenario of a scenario or joint stream.
    public let scenario: Scenario?
    /// Where the stream is.
    public private(set) var position: Position
    public var policy: CheckpointPolicy
    public var plugins: [any StreamPlugin<L>]
    /// Where a CSV stream's label column by place counts when its file holds the learned
    /// columns in another order, read by name (`CSVSource.labelColumnPlace`): in the rows
    /// learned, as a saved stream's label column does; `moe stream --resume --source`
    /// with `--label-column` given by place sets `.unclear`.
    public var labelColumnPlace = CSVSource.LabelColumnPlace.learned
    /// How the reader chose a CSV stream's label column, none being given (nil when one
    /// was, or before the file showed it): the column itself is in `source`'s settings.
    public private(set) var labelColumnChoice: CSVSource.LabelColumnChoice?
    /// The checkpoint whose learner this stream continues on new data, if any (named in errors).
    public let continuing: String?
    /// The path of the last successful save, if any.
    public private(set) var lastSaved: String?
    /// Where the learner was saved when bad data stopped the stream (see `read()`).
    public private(set) var stoppedSave: String?
    /// Samples learned by this driver (this process) and the seconds spent learning them
    /// (not reading, evaluating or saving).
    public private(set) var samplesLearnedHere = 0
    public private(set) var secondsLearning = 0.0
    /// Where this driver's wall-clock time went.
    public private(set) var timing = StreamTiming()

    private var makeLearner: ((Batch) throws -> L)?
    private let trainingSet: Dataset?
    /// The open source of the experience in progress.
    private var reader: (any BatchSource)?
    /// `position.batches` and `position.experience` at the last save.
    private var savedAt: (batches: Int, experience: Int)?
    /// Whether the last save was at the current position.
    private var savedHere: Bool {
        savedAt.map { $0.batches == position.batches && $0.experience == position.experience } ?? false
    }
    /// The label map a continuation started with, until its first batch is checked.
    private var continuedLabels: LabelMap?
    /// The text columns (and their values) of the stream a continued learner learned
    /// from: new files must have the same layout (nil: no saved stream, the first row decides).
    private var continuedText: CSVTextLayout?
    private var continuedImputation: CSVImputation?

    /// Missing values filled before the rows still to come: a paused stream's so far, or
    /// the saved learner's when it continues on new rows (the count goes on from them).
    public var filledSoFar: Int { position.source.imputation?.filled ?? continuedImputation?.filled ?? 0 }

    // MARK: - Making a driver

    /// A new stream for `learner`.
    ///
    /// - Parameters:
    ///   - scenario: a scenario built in memory, for a source whose scenario is not one of
    ///     Fashion-MNIST's (those are built from the source's settings).
    public convenience init(
        learner: L, source: StreamSource, scenario: Scenario? = nil, policy: CheckpointPolicy = CheckpointPolicy(),
        plugins: [any StreamPlugin<L>] = []
    ) throws {
        try self.init(source: source, scenario: scenario, learner: learner, make: nil, position: Position(), labels: nil,
                      continuing: nil, policy: policy, plugins: plugins)
    }

    /// A new stream whose learner is made from its first batch (when the input width, or
    /// the first classes, are only known then).
    public convenience init(
        source: StreamSource, scenario: Scenario? = nil, policy: CheckpointPolicy = CheckpointPolicy(),
        plugins: [any StreamPlugin<L>] = [], makeLearner: @escaping (_ first: Batch) throws -> L
    ) throws {
        try self.init(source: source, scenario: scenario, learner: nil, make: makeLearner, position: Position(),
                      labels: nil, continuing: nil, policy: policy, plugins: plugins)
    }

    /// Resumes the stream saved in `checkpoint` exactly where it stopped: its source is
    /// reopened from the saved description (a file at its next row) and the plugins get
    /// their saved state back. Standard input cannot be rewound: a stream of standard
    /// input reads on from this process's input, which must hold the rows that follow.
    ///
    /// - Parameters:
    ///   - learner: the learner rebuilt from the same checkpoint (`Learner(checkpoint:)`).
    ///   - scenario: the scenario, when it was built in memory.
    ///   - dataDirectory: where Fashion-MNIST's files are now, if they moved.
    ///   - passes: the passes a training set is read in all, counted from its start
    ///     (`moe train --epochs`): a finished stream with fewer passes goes on; a pass
    ///     under way is always finished.
    ///   - badRows: what bad rows of a CSV or IDX stream do from now on (nil: as saved);
    ///     a stream that bad data stopped resumes skipping them.
    public convenience init(
        resuming checkpoint: Checkpoint, learner: L, scenario: Scenario? = nil, dataDirectory: String? = nil,
        passes: Int? = nil, badRows: BadRowPolicy? = nil, policy: CheckpointPolicy = CheckpointPolicy(),
        plugins: [any StreamPlugin<L>] = []
    ) throws {
        let file = checkpoint.source ?? "<memory>"
        guard let saved = try SavedStream.load(from: checkpoint) else { throw StreamError.noStream(checkpoint: file) }
        var source = saved.source
        if let dataDirectory { source = source.relocated(to: dataDirectory) }
        if let badRows { source = source.with(badRows: badRows) }
        try self.init(source: source, scenario: scenario, learner: learner, make: nil, position: saved.position,
                      labels: nil, continuing: nil, file: file, policy: policy, plugins: plugins)
        if let passes, case var .trainingSet(settings) = source, let rows = trainingSet?.count, rows > 0 {
            precondition(passes > 0, "At least one pass")
            if isFinished {
                if passes > settings.epochs {
                    // Every sample of the earlier passes was delivered: read on from there.
                    position.experience = 0
                    position.source.samplesDelivered = settings.epochs * rows
                    position.source.rowsRead = settings.epochs * rows
                    settings.epochs = passes
                }
            } else {
                // Never fewer passes than the one under way: a position is not undone.
                let begun = (position.source.samplesDelivered + rows - 1) / rows
                settings.epochs = max(passes, begun)
            }
            self.source = .trainingSet(settings)
        }
        if case let .csv(settings) = source, settings.path == nil, isFinished {
            // The end of one process's input is not the end of a stream of standard input.
            position.experience = 0
        }
        for plugin in plugins {
            guard let name = plugin.sectionName, checkpoint.sections[name] != nil else { continue }
            try plugin.restore(from: try checkpoint.section(name))
        }
    }

    /// Continues the learner saved in `checkpoint` on a new source, from the source's first
    /// row. Its label map continues the saved stream's (a class name keeps its index, new
    /// names get new ones); its rows must be as wide as the learner's input and its labels
    /// of the kind the checkpoint knows, or the stream stops with a ``StreamError`` naming
    /// both sides. It is a new stream: its position and its plugins start afresh (the
    /// learner keeps its own counters, history and prequential accuracy).
    public convenience init(
        continuing checkpoint: Checkpoint, learner: L, on source: StreamSource,
        policy: CheckpointPolicy = CheckpointPolicy(), plugins: [any StreamPlugin<L>] = []
    ) throws {
        let saved = try SavedStream.load(from: checkpoint)
        let labels = saved.map { continuation(of: $0.position.source.labelMap) } ?? continuation(of: checkpoint.classes)
        try self.init(source: source, scenario: nil, learner: learner, make: nil, position: Position(), labels: labels,
                      continuing: checkpoint.source ?? "<memory>", policy: policy, plugins: plugins)
        continuedLabels = labels
        if let position = saved?.position.source, position.inputWidth != nil {
            continuedText = position.csvLayout
            continuedImputation = position.imputation
        }
    }

    private init(
        source: StreamSource, scenario: Scenario?, learner: L?, make: ((Batch) throws -> L)?, position: Position,
        labels: LabelMap?, continuing: String?, file: String? = nil, policy: CheckpointPolicy, plugins: [any StreamPlugin<L>]
    ) throws {
        self.source = source
        self.learner = learner
        makeLearner = make
        self.position = position
        if let labels { self.position.source.labelMap = labels }
        self.continuing = continuing
        self.policy = policy
        self.plugins = plugins
        if let settings = source.scenarioSettings {
            if let built = try settings.makeBuiltIn() {
                self.scenario = built
            } else if let scenario {
                self.scenario = scenario
            } else {
                throw StreamError.scenarioNeeded(name: settings.scenario, checkpoint: file ?? "<memory>")
            }
        } else {
            self.scenario = nil
        }
        if case let .trainingSet(settings) = source { trainingSet = try settings.load() } else { trainingSet = nil }
        try policy.checkFolder()
    }

    /// The stream saved in `checkpoint` by a driver (its source and position), or nil
    /// when the checkpoint holds none.
    public static func savedStream(in checkpoint: Checkpoint) throws -> (source: StreamSource, position: StreamProgress)? {
        try SavedStream.load(from: checkpoint).map { ($0.source, $0.position) }
    }

    /// The BLAS thread policy the stream saved in `checkpoint` ran with, or nil when the
    /// checkpoint holds no stream or was saved before the policy was kept. Two threads can
    /// give other bits than one: a stream resumed with its saved policy continues as the
    /// uninterrupted run would have (`moe stream --resume` applies it unless
    /// `MOE_BLAS_THREADS` is set).
    public static func savedThreadPolicy(in checkpoint: Checkpoint) throws -> BLAS.ThreadPolicy? {
        try SavedStream.load(from: checkpoint)?.blasThreads
    }

    // MARK: - Where the stream is

    /// Experiences per cycle (1 for a stream that is not a scenario).
    public var experiencesPerCycle: Int {
        if case .scenario = source, let scenario { return scenario.experiences.count }
        return 1
    }

    /// Experiences of the whole stream.
    public var experienceCount: Int {
        if case let .scenario(settings) = source { return experiencesPerCycle * settings.cycles }
        return 1
    }

    /// True when every experience is done.
    public var isFinished: Bool { position.experience >= experienceCount }

    /// The experience in progress (the last one when finished).
    public var currentExperience: ExperiencePosition {
        let ordinal = min(position.experience, experienceCount - 1)
        return ExperiencePosition(ordinal: ordinal, experience: ordinal % experiencesPerCycle,
                                  cycle: ordinal / experiencesPerCycle, perCycle: experiencesPerCycle)
    }

    /// Samples learned per second of learning, by this driver.
    public var samplesPerSecond: Double {
        Double(samplesLearnedHere) / max(secondsLearning, 1e-9)
    }

    // MARK: - The loop

    /// Streams until the source is used up or `stop` says to pause, then saves by the policy.
    ///
    /// - Returns: `.finished` or `.paused`.
    @discardableResult
    public func run(until stop: StopCondition = StopCondition(), logger: Logger? = nil) throws -> RunOutcome {
        while !isFinished {
            if let n = stop.experiences, position.experience >= n { return try end(.paused) }
            if stop.request?.requested != nil { return try end(.paused) }
            let experience = currentExperience
            let starting = position.source.isAtStart
            if reader == nil { reader = try open(experience) }
            // A learner made from the first batch is told when it exists.
            var beginning: Int?
            if starting {
                if case .scenario = source { beginning = experience.experience }
                if let index = beginning, learner != nil {
                    learner!.beginExperience(index)
                    beginning = nil
                }
                for plugin in plugins { plugin.beforeExperience(self, experience) }
            }
            let total = reader!.expectedSamples
            var namedClasses = -1
            while true {
                if let n = stop.batches, position.batches >= n { return try end(.paused) }
                if stop.request?.requested != nil { return try end(.paused) }
                var lap = ContinuousClock.now
                for plugin in plugins { plugin.beforeBatch(self) }
                timing.reports += lap.advance()
                guard let batch = try read() else { timing.read += lap.advance(); break }
                timing.read += lap.advance()
                let name = reader!.name
                if let known = continuedLabels {
                    try checkLabels(known: known, now: reader!.labelMap, source: name)
                    continuedLabels = nil
                }
                if learner == nil {
                    learner = try makeLearner!(batch)
                    makeLearner = nil
                }
                if let index = beginning {
                    learner!.beginExperience(index)
                    beginning = nil
                }
                // The growth log names new classes by their labels, not their indices.
                let map = reader!.labelMap
                if map.classCount != namedClasses {
                    learner!.nameClasses((0..<map.classCount).map(map.label(of:)))
                    namedClasses = map.classCount
                }
                lap = ContinuousClock.now
                var step: L.Step?
                step = try learner!.learn(batch, source: name, logger: logger)
                let elapsed = lap.advance()
                secondsLearning += elapsed
                timing.learn += elapsed
                samplesLearnedHere += batch.count
                position.batches += 1
                position.samples += batch.count
                position.source = reader!.position
                let event = BatchEvent(
                    step: step!, samples: batch.count, pass: batch.pass, experience: experience,
                    samplesInExperience: position.source.samplesDelivered, experienceSamples: total)
                for plugin in plugins { plugin.afterBatch(self, event) }
                timing.reports += lap.advance()
                if policy.everyBatches > 0 && position.batches % policy.everyBatches == 0 {
                    let endsExperience = total.map { position.source.samplesDelivered >= $0 } ?? false
                    if !(endsExperience && policy.atEachExperience) { saveReporting(.periodic) }
                }
            }
            reader = nil
            var lap = ContinuousClock.now
            let work = BLAS.flopsPerformed
            for plugin in plugins { plugin.afterExperience(self, experience) }
            timing.evaluation += lap.advance()
            timing.evaluationFlops += BLAS.flopsPerformed - work
            position.experience += 1
            // The next experience's source starts at its first row; everything the
            // stream knows of its columns and labels carries over (a field-by-field copy
            // once dropped the header's names).
            position.source.rowsRead = 0
            position.source.samplesDelivered = 0
            if policy.atEachExperience && experienceCount > 1 { try save(.experience) }
        }
        return try end(.finished)
    }

    /// Calls the plugins' `atEnd` and saves by the policy.
    private func end(_ outcome: RunOutcome) throws -> RunOutcome {
        var lap = ContinuousClock.now
        let work = BLAS.flopsPerformed
        for plugin in plugins { plugin.atEnd(self) }
        timing.evaluation += lap.advance()
        timing.evaluationFlops += BLAS.flopsPerformed - work
        if policy.atEnd && !savedHere && learner != nil { try save(.end) }
        return outcome
    }

    /// The next batch; errors of new data met by a continued learner name both sides.
    ///
    /// What was learned before bad data stops the stream is not lost: with a save path
    /// and saves at the end, the learner is saved at the last batch it learned, with the
    /// stream's position there (`stoppedSave`), so that the stream resumes from the row
    /// after that batch once the data is corrected (or with bad rows skipped).
    private func read() throws -> Batch? {
        do {
            defer { keepLabelColumnChosen() }
            return try reader!.next()
        } catch {
            let reported = explained(error)
            if policy.atEnd, policy.path != nil, learner != nil, position.batches > 0 {
                if savedHere || (try? save(.stopped)) != nil { stoppedSave = policy.path }
            }
            throw reported
        }
    }

    /// Keeps in the stream's settings, saved with every checkpoint, the label column the
    /// reader chose once the file showed it (`CSVFormat.choosesLabelColumn`), so that a
    /// resumed or continued stream, `moe eval` and `moe predict` read that column.
    private func keepLabelColumnChosen() {
        guard case var .csv(settings) = source, settings.choosesLabelColumn == true, let csv = reader as? CSVSource,
              let choice = csv.labelColumnChoice else { return }
        settings.labelColumn = csv.format.labelColumn
        settings.choosesLabelColumn = nil
        source = .csv(settings)
        labelColumnChoice = choice
    }

    private func explained(_ error: DataError) -> any Error {
        guard let continuing, let learner else { return error }
        switch error {
        case let .widthMismatch(at, expected, actual) where expected == learner.inputWidth:
            return StreamError.widthMismatch(source: at.description, expected: expected, actual: actual, checkpoint: continuing)
        case .invalidLabel:
            return StreamError.labelsDisagree(checkpoint: continuing, known: describe(position.source.labelMap), error: error)
        default:
            return error
        }
    }

    /// A checkpoint that names its classes continues on named labels: new data whose first
    /// batch brings only class numbers is refused (they would silently become new names).
    private func checkLabels(known: LabelMap, now: LabelMap, source name: String) throws {
        guard known.kind == .names, now.kind == .names, now.names.count > known.names.count else { return }
        let added = now.names[known.names.count...]
        guard added.allSatisfy({ Int($0) != nil }) else { return }
        let shown = added.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
        throw StreamError.labelsDisagree(
            checkpoint: continuing ?? "<memory>", known: describe(known),
            error: .invalidLabel(at: DataLocation(source: name), label: added.first!,
                                 reason: "the first batch's new labels (\(shown)) are class numbers, not names"))
    }

    /// Opens the source of `experience`, at the saved position when it was under way.
    private func open(_ experience: ExperiencePosition) throws -> any BatchSource {
        var opened: any BatchSource
        let width = learner?.inputWidth
        do {
            switch source {
            case let .scenario(settings):
                opened = scenario!.trainStream(
                    experience: experience.experience, batchSize: settings.batchSize, passes: settings.passes,
                    earlierPasses: experience.cycle * settings.passes)
            case let .joint(settings):
                opened = DatasetSource(dataset: scenario!.train, batchSize: settings.batchSize, passes: settings.passes,
                                       shuffleSeed: settings.seed)
            case let .trainingSet(settings):
                opened = DatasetSource(dataset: trainingSet!, batchSize: settings.batchSize, passes: settings.epochs,
                                       shuffleSeed: settings.shuffleSeed)
            case let .csv(settings):
                let labels = position.source.labelMap
                let text = position.source.isAtStart ? continuedText : nil
                let imputation = position.source.isAtStart ? continuedImputation : nil
                let csv = try settings.path.map { (path) throws(DataError) in
                    try CSVSource(path: path, format: settings.format, batchSize: settings.batchSize,
                                  inputWidth: width, labels: labels, badRows: settings.badRows, text: text, imputation: imputation)
                } ?? CSVSource.standardInput(format: settings.format, batchSize: settings.batchSize, inputWidth: width,
                                             labels: labels, badRows: settings.badRows, text: text, imputation: imputation)
                csv.labelColumnPlace = labelColumnPlace
                opened = csv
            case let .idx(settings):
                opened = try IDXSource(images: settings.images, labels: settings.labels, batchSize: settings.batchSize,
                                       inputWidth: width, scaling: settings.scaling, badRows: settings.badRows)
            }
            if let width, let actual = opened.inputWidth, actual != width {
                throw StreamError.widthMismatch(source: opened.name, expected: width, actual: actual, checkpoint: continuing)
            }
            if !position.source.isAtStart {
                var saved = position.source
                // Standard input cannot be rewound: this process's input holds the rest,
                // and nothing of it is skipped or checked against the rows read before.
                if case let .csv(settings) = source, settings.path == nil {
                    saved.rowsRead = 0
                    saved.rowsDigest = nil
                }
                try opened.resume(from: saved)
            }
        } catch let error as DataError {
            throw explained(error)
        }
        return opened
    }

    // MARK: - Saving

    /// The stream as a checkpoint: the learner, `/sections/stream` and the plugins' sections.
    public func checkpoint() throws -> Checkpoint {
        guard let learner else { preconditionFailure("No learner before the first batch: nothing to save") }
        var sections = try SavedStream(source: source, position: position, blasThreads: BLAS.threadPolicy).sections()
        for plugin in plugins {
            if let name = plugin.sectionName { sections[name] = try plugin.savedState() }
        }
        var checkpoint = learner.checkpoint(description: "\(policy.title) \(source.name): \(progressText)", sections: sections)
        let map = position.source.labelMap
        if map.kind == .names, map.names.count == learner.classCount { checkpoint.classes = .strings(map.names) }
        if map.kind == .integers, !map.aliases.isEmpty, map.classCount == learner.classCount {
            checkpoint.classes = .integers(map.integerLabels.map(Int64.init))
        }
        return checkpoint
    }

    /// Saves now to the policy's path (nothing without one).
    public func save(_ reason: CheckpointEvent.Reason = .end) throws {
        guard let path = policy.path, learner != nil else { return }
        var lap = ContinuousClock.now
        defer { timing.checkpoint += lap.advance() }
        do {
            try checkpoint().save(to: path, signingKey: policy.signingKey)
        } catch let error as CheckpointError {
            for plugin in plugins { plugin.onCheckpoint(self, .failed(path: path, reason: reason, error: error)) }
            throw error
        }
        savedAt = (position.batches, position.experience)
        lastSaved = path
        for plugin in plugins { plugin.onCheckpoint(self, .saved(path: path, reason: reason)) }
    }

    /// A periodic save: a failure is reported to the plugins and the stream goes on.
    private func saveReporting(_ reason: CheckpointEvent.Reason) {
        do { try save(reason) } catch {}
    }

    /// How far the stream is, for the checkpoint's description.
    public var progressText: String {
        if experienceCount > 1 {
            return "\(position.experience) of \(experienceCount) experiences done, \(position.samples) samples learned"
        }
        return "\(position.samples) samples learned in \(position.batches) batches" + (isFinished ? ", finished" : "")
    }
}

/// A declared map continues as a learned one: new classes may arrive.
func continuation(of map: LabelMap) -> LabelMap {
    guard map.isDeclared else { return map }
    guard map.kind == .names else { return map.opened }
    var learned = LabelMap(learning: .names)
    for name in map.names { _ = try? learned.classIndex(of: name, at: DataLocation(source: "checkpoint")) }
    return learned
}

/// The classes of a checkpoint without a saved stream, open to new labels: class numbers
/// (with their aliases), or names.
func continuation(of classes: Checkpoint.ClassLabels) -> LabelMap {
    switch classes {
    case let .integers(labels) where !labels.isEmpty && Set(labels).count == labels.count:
        return LabelMap.integers(labels: labels.map { Int($0) }).opened
    case let .strings(names) where !names.isEmpty && Set(names).count == names.count:
        return continuation(of: LabelMap.names(names))
    default:
        return LabelMap(learning: .integers)
    }
}

/// The classes a label map knows, for messages.
func describe(_ map: LabelMap) -> String {
    switch map.kind {
    case .names?:
        let shown = map.names.prefix(8).map { "'\($0)'" }.joined(separator: ", ")
        return "its classes by name (\(shown)\(map.names.count > 8 ? ", …" : ""))"
    default:
        return "its classes by number" + (map.classCount > 0 ? " (0..<\(map.classCount))" : "")
    }
}

/// Seconds of a stream's wall-clock time in this process, by what the driver was doing.
public struct StreamTiming: Sendable, Equatable {
    /// Reading and preparing batches from the source.
    public var read = 0.0
    /// The learner's `learn` (its own profile says where inside).
    public var learn = 0.0
    /// Plugins after each batch (reports, progress lines).
    public var reports = 0.0
    /// Plugins after each experience and at the end (evaluations on test sets).
    public var evaluation = 0.0
    /// Floating-point operations of the BLAS and LAPACK calls the evaluations made.
    public var evaluationFlops = 0.0
    /// Saving checkpoints.
    public var checkpoint = 0.0

    public init() {}

    /// Seconds in all.
    public var total: Double { read + learn + reports + evaluation + checkpoint }
}

extension ContinuousClock.Instant {
    /// Seconds from this instant to now; the instant moves to now.
    mutating func advance() -> Double {
        let now = ContinuousClock.now
        defer { self = now }
        return (now - self).inSeconds
    }
}
