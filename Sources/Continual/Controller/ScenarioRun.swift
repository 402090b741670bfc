import Foundation
import Logging
import MoE

/// Runs a learner through a scenario's experiences in order, evaluating on every
/// experience's test set after each one, and keeps what a report needs.
///
/// With `cycles > 1` the experiences repeat (experience `k` of the run is experience
/// `k mod count` of the scenario), an endless stream made finite. Memory stays flat:
/// the accuracy matrices keep one row and one column per *distinct* experience and hold
/// the current cycle only (they are cleared when a new cycle starts); each completed
/// cycle leaves one ``CycleSummary`` in a ``DownsampledSeries``.
///
/// Its `state` (where the stream is, the accuracy matrices so far) is saved in the
/// learner's checkpoint so that a stopped run resumes exactly where it stopped.
public struct ScenarioRun: Sendable {
    public let scenario: Scenario
    public var learner: Learner
    public var state: State
    public let batchSize: Int
    public let passes: Int
    /// Times the scenario's experiences are streamed.
    public let cycles: Int

    /// The figures of one completed cycle, from its accuracy matrices.
    public struct CycleSummary: Sendable, Codable, Equatable {
        /// The cycle (0-based).
        public var cycle: Int
        /// Samples observed by the end of the cycle (over the whole run).
        public var samples: Int
        public var finalAverageAccuracy: Double?
        public var forgetting: Double?
        public var backwardTransfer: Double?
        /// Task-incremental final average accuracy (split scenarios).
        public var taskIncrementalAccuracy: Double?
    }

    /// Where the run is and what it has measured.
    public struct State: Sendable, Codable, Equatable {
        /// The experience being trained, counted over all cycles (== experience count x
        /// cycles when finished); the scenario's experience is this modulo its count.
        public var experience = 0
        /// Samples of that experience's stream already observed.
        public var samplesInExperience = 0
        public var classIncremental = AccuracyMatrix()
        public var taskIncremental = AccuracyMatrix()
        /// Seconds spent observing (not evaluating), for samples per second.
        public var observeSeconds = 0.0
        public var samplesObserved = 0
        /// Parameters and experts over the stream.
        public var growth = ModelGrowthHistory()
        /// One summary per completed cycle (downsampled beyond 256 cycles).
        public var cycles = DownsampledSeries<CycleSummary>(capacity: 256)
        public init() {}

        private enum CodingKeys: String, CodingKey {
            case experience, samplesInExperience, classIncremental, taskIncremental, observeSeconds, samplesObserved
            case growth, cycles
        }

        /// Decodes a saved position; one saved before cycles existed has no summaries.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            experience = try c.decode(Int.self, forKey: .experience)
            samplesInExperience = try c.decode(Int.self, forKey: .samplesInExperience)
            classIncremental = try c.decode(AccuracyMatrix.self, forKey: .classIncremental)
            taskIncremental = try c.decode(AccuracyMatrix.self, forKey: .taskIncremental)
            observeSeconds = try c.decode(Double.self, forKey: .observeSeconds)
            samplesObserved = try c.decode(Int.self, forKey: .samplesObserved)
            growth = try c.decode(ModelGrowthHistory.self, forKey: .growth)
            cycles = try c.decodeIfPresent(DownsampledSeries<CycleSummary>.self, forKey: .cycles) ?? DownsampledSeries(capacity: 256)
        }
    }

    public init(scenario: Scenario, learner: Learner, batchSize: Int = 128, passes: Int = 2, cycles: Int = 1, state: State = State()) {
        precondition(batchSize > 0 && passes > 0, "Batch size and passes must be positive")
        precondition(cycles > 0, "A run streams its scenario at least once, got \(cycles) cycles")
        self.scenario = scenario
        self.learner = learner
        self.batchSize = batchSize
        self.passes = passes
        self.cycles = cycles
        self.state = state
    }

    /// Experiences streamed by the whole run (the scenario's count times the cycles).
    public var experienceCount: Int { scenario.experiences.count * cycles }

    public var isFinished: Bool { state.experience >= experienceCount }

    /// What happened after each batch, for progress lines.
    public struct Progress: Sendable {
        /// The cycle (0-based) and the scenario's experience in it.
        public var cycle: Int
        public var experience: Int
        public var samplesInExperience: Int
        public var experienceSamples: Int
        public var step: Learner.StepReport
        public var windowedAccuracy: Double
        public var samplesPerSecond: Double
    }

    /// Trains through the experiences, evaluating after each.
    ///
    /// - Parameters:
    ///   - stopAfter: stop once this many experiences are complete, counted over all
    ///     cycles (a paused stream).
    ///   - checkpointEvery: call `checkpoint` every this many batches (0: never).
    ///   - progress: called after every batch.
    ///   - checkpoint: called with the run to save it (every `checkpointEvery` batches
    ///     and after every experience).
    public mutating func run(
        stopAfter: Int? = nil, checkpointEvery: Int = 0, logger: Logger? = nil,
        progress: (Progress) -> Void = { _ in },
        checkpoint: (ScenarioRun) throws -> Void = { _ in }
    ) throws {
        let end = min(experienceCount, stopAfter ?? experienceCount)
        let count = scenario.experiences.count
        var batchesSinceSave = 0
        while state.experience < end {
            let e = state.experience % count, cycle = state.experience / count
            if cycle > 0 && e == 0 && state.samplesInExperience == 0 {
                // A new cycle: the matrices hold one cycle; the last one is summarised.
                state.classIncremental = AccuracyMatrix()
                state.taskIncremental = AccuracyMatrix()
            }
            var stream = scenario.trainStream(experience: e, batchSize: batchSize, passes: passes)
            if state.samplesInExperience > 0 {
                var position = stream.position
                position.samplesDelivered = state.samplesInExperience
                position.rowsRead = state.samplesInExperience
                try stream.resume(from: position)
            }
            if state.samplesInExperience == 0 { learner.prequential.beginExperience(e) }
            let total = stream.count
            while let batch = try stream.next() {
                let clock = ContinuousClock()
                var step: Learner.StepReport!
                let elapsed = try clock.measure {
                    step = try learner.observe(features: batch.features, labels: batch.labels, source: stream.name, logger: logger)
                }
                state.observeSeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                state.samplesObserved += batch.labels.count
                state.samplesInExperience += batch.labels.count
                if state.growth.current == nil || state.growth.current!.size.experts != learner.model.experts.count {
                    state.growth.record(step: learner.counters.batches, samples: learner.counters.samples, size: learner.modelSize)
                }
                progress(Progress(
                    cycle: cycle, experience: e, samplesInExperience: state.samplesInExperience, experienceSamples: total, step: step,
                    windowedAccuracy: learner.prequential.windowedAccuracy ?? 0,
                    samplesPerSecond: Double(state.samplesObserved) / max(state.observeSeconds, 1e-9)))
                batchesSinceSave += 1
                if checkpointEvery > 0 && batchesSinceSave >= checkpointEvery && state.samplesInExperience < total {
                    try checkpoint(self)
                    batchesSinceSave = 0
                }
            }
            evaluate(trainedThrough: e)
            if e == count - 1 { summariseCycle(cycle) }
            state.experience += 1
            state.samplesInExperience = 0
            try checkpoint(self)
            batchesSinceSave = 0
        }
    }

    /// Fills row `trained` of the accuracy matrices.
    public mutating func evaluate(trainedThrough trained: Int) {
        let ready = learner.snapshot()
        for j in scenario.experiences.indices {
            let test = scenario.testSet(experience: j)
            state.classIncremental.record(
                ready.accuracy(features: test.features, labels: test.labels), trainedThrough: trained, evaluatedOn: j)
            if scenario.kind == .split {
                state.taskIncremental.record(
                    ready.accuracy(features: test.features, labels: test.labels, among: Set(scenario.experience(j).classes)),
                    trainedThrough: trained, evaluatedOn: j)
            }
        }
    }

    /// Adds the summary of a completed cycle from the matrices.
    mutating func summariseCycle(_ cycle: Int) {
        state.cycles.append(CycleSummary(
            cycle: cycle, samples: learner.counters.samples,
            finalAverageAccuracy: state.classIncremental.finalAverageAccuracy,
            forgetting: state.classIncremental.forgetting,
            backwardTransfer: state.classIncremental.backwardTransfer,
            taskIncrementalAccuracy: scenario.kind == .split ? state.taskIncremental.finalAverageAccuracy : nil))
    }

    /// Samples observed per second of observing.
    public var samplesPerSecond: Double {
        Double(state.samplesObserved) / max(state.observeSeconds, 1e-9)
    }
}

extension Learner {
    /// Trainable and frozen parameter counts and experts, now.
    public var modelSize: ModelSize {
        var trainable = 0, frozen = 0
        model.forEachParameter { path, value in
            if model.frozen.contains(path) { frozen += value.count } else { trainable += value.count }
        }
        return ModelSize(trainableParameters: trainable, frozenParameters: frozen, experts: model.experts.count)
    }
}

extension ScenarioRun {
    /// What identifies the run, to rebuild its scenario on resume.
    public struct Settings: Sendable, Codable, Equatable {
        public var scenario: String
        public var seed: UInt64
        public var experiences: Int
        public var passes: Int
        public var batchSize: Int
        /// Times the experiences are streamed.
        public var cycles: Int
        public init(scenario: String, seed: UInt64, experiences: Int, passes: Int, batchSize: Int, cycles: Int = 1) {
            self.scenario = scenario
            self.seed = seed
            self.experiences = experiences
            self.passes = passes
            self.batchSize = batchSize
            self.cycles = cycles
        }

        private enum CodingKeys: String, CodingKey {
            case scenario, seed, experiences, passes, batchSize, cycles
        }

        /// Decodes saved settings; those saved before cycles existed streamed once.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            scenario = try c.decode(String.self, forKey: .scenario)
            seed = try c.decode(UInt64.self, forKey: .seed)
            experiences = try c.decode(Int.self, forKey: .experiences)
            passes = try c.decode(Int.self, forKey: .passes)
            batchSize = try c.decode(Int.self, forKey: .batchSize)
            cycles = try c.decodeIfPresent(Int.self, forKey: .cycles) ?? 1
            guard cycles >= 1 else {
                throw DecodingError.dataCorruptedError(forKey: .cycles, in: c, debugDescription: "a run streams at least one cycle, got \(cycles)")
            }
        }
    }

    /// The whole run as a checkpoint: the learner plus `/sections/run` (settings and
    /// position as JSON).
    public func checkpoint(settings: Settings, description: String = "") -> Checkpoint {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try! encoder.encode(SavedRun(settings: settings, state: state)), as: UTF8.self)
        let run = CheckpointSection(attributes: ["format": .string("scenario-run-json")], datasets: ["state": .strings([json])])
        return learner.checkpoint(description: description, sections: ["run": run])
    }

    struct SavedRun: Codable {
        var settings: Settings
        var state: State
    }

    /// The settings and position saved by `checkpoint(settings:)`.
    public static func saved(in checkpoint: Checkpoint) throws(CheckpointError) -> (settings: Settings, state: State) {
        let json = try checkpoint.section("run").strings("state", count: 1)[0]
        do {
            let saved = try JSONDecoder().decode(SavedRun.self, from: Data(json.utf8))
            return (saved.settings, saved.state)
        } catch {
            throw .invalidValue(path: "/sections/run/state", reason: "not a scenario run: \(error)", file: checkpoint.source)
        }
    }

    /// The report of the run so far.
    public func report(settings: Settings, configuration: JSONValue) -> StreamReport {
        let memory = learner.memoryFloats
        var routing = ExpertRouting()
        if learner.model.experts.count > 0 {
            let ready = learner.snapshot()
            for j in scenario.experiences.indices {
                let test = scenario.testSet(experience: j)
                var start = 0
                while start < test.count {
                    let end = min(start + 2048, test.count)
                    if let pass = ready.model.forward(test.features.rows(start..<end)).gate {
                        routing.record(gates: pass.routing.denseWeights)
                    }
                    start = end
                }
            }
        }
        let events = learner.history.growths.map { g in
            StreamReport.GrowthEvent(
                step: g.batch, sampleIndex: g.sample, experience: experience(ofSample: g.sample), hiddenLayer: g.layer,
                detectors: g.detectors, reason: g.reason, expert: g.expert)
        }
        return StreamReport(
            scenario: settings.scenario, seed: settings.seed, config: configuration,
            classIncremental: state.classIncremental,
            taskIncremental: scenario.kind == .split ? state.taskIncremental : nil,
            prequential: learner.prequential, modelSize: learner.modelSize, growth: state.growth, routing: routing,
            samplesPerSecond: samplesPerSecond,
            memory: .init(replayBufferFloats: memory.replay, statisticsFloats: memory.statistics), growthEvents: events)
    }

    /// The scenario's experience whose stream held sample `index` (counted over the
    /// whole run, every cycle streaming the same experiences).
    func experience(ofSample index: Int) -> Int? {
        let lengths = scenario.experiences.indices.map { scenario.experience($0).trainIndices.count * passes }
        let cycleLength = lengths.reduce(0, +)
        guard index >= 0, cycleLength > 0, index < cycleLength * cycles else { return nil }
        var start = 0
        let offset = index % cycleLength
        for (e, length) in lengths.enumerated() {
            if offset < start + length { return e }
            start += length
        }
        return nil
    }
}
