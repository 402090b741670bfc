import Testing
import MoE
import TestSupport
#if DEBUG
@testable import Continual
#else
import Continual
#endif

/// Endless streams (issue 7, item 5): whatever the length of the stream, everything the
/// learner and a scenario run keep stays within fixed bounds. Sizes are checked, not
/// time or resident memory (that figure is in docs/reliability.md).
@Suite("Endless streams")
struct EndlessStreamTests {
    func configuration() -> LearnerConfiguration {
        var c = LearnerConfiguration()
        c.hidden = [16, 16]
        c.gate = .classPosterior(features: 32)
        c.expertWidth = 8
        c.replayCapacity = 64
        c.replayPerStep = 8
        c.refitEvery = 256
        c.statisticsHalfLife = 256
        c.learningRate = 3e-3
        c.growth.maxExperts = 3
        c.growth.cooldownSamples = 128
        return c
    }

    /// Every size that could grow with the stream.
    struct Sizes: Equatable, CustomStringConvertible {
        var replay: Int
        var replayFloats: Int
        var decisions: Int
        var faults: Int
        var growths: Int
        var suppressionKinds: Int
        var seriesPoints: Int
        var boundaries: Int
        var statisticsFloats: Int
        var trackerWidths: [Int]
        var optimizerEntries: Int
        var parameters: Int
        var experts: Int
        var stateBytes: Int

        var description: String {
            "replay \(replay), decisions \(decisions), faults \(faults), growths \(growths), series \(seriesPoints), experts \(experts), state \(stateBytes) bytes"
        }
    }

    func sizes(_ l: Learner) throws -> Sizes {
        Sizes(
            replay: l.replay.count, replayFloats: l.replay.features.scalars.count, decisions: l.history.recentDecisions.count,
            faults: l.history.recentFaults.count, growths: l.history.growths.count,
            suppressionKinds: l.history.suppressions.count, seriesPoints: l.prequential.series.points.count,
            boundaries: l.prequential.boundaries.count,
            statisticsFloats: l.memoryFloats.statistics, trackerWidths: l.tracker.widths,
            optimizerEntries: l.optimizer.state.count, parameters: l.model.parameterCount, experts: l.model.experts.count,
            // Checkpoints are compressed, so their size follows the values, not only their
            // count: the learner's bytes per component are compared instead, without the
            // gate statistics' pending rows (flushed every 512 rows) and the holdout of the
            // slot in charge (bounded by its capacity), which come and go.
            stateBytes: l.memory.total - l.memory.pendingRows - 4 * l.holdout.scalars.count - 8 * l.holdout.labels.count)
    }

    #if DEBUG
    @Test("20,000 samples in batches of 8 keep every size of the learner bounded")
    func learnerStaysBounded() throws {
        var c = configuration()
        // Every batch past the patience counts as stagnating: a decision to keep each time.
        c.growth.patienceSamples = 16
        c.growth.stagnationErrorRate = 0
        c.growth.minimumImprovement = 1
        // The trajectory the bounds were written on: every (slot, class) pair has come by
        // the halfway point. With small batches replaying in proportion the last expert
        // grows later and takes new pairs after it (bounded all the same, by the slots
        // times the classes), so the two points would compare different models.
        c.replayFollowsRows = nil
        // Likewise with the first stretch learned again at 128 rows.
        c.relearnsFirstStretch = nil
        var learner = try Learner(configuration: c, inputWidth: 8, classCount: 2)
        learner.history.capacity = 16
        var blobs = Blobs(classes: 6, width: 8, seed: 21)
        let phases: [[Int]] = [[0, 1], [2, 3], [4, 5], [0, 1, 2, 3, 4, 5], [1, 3], [0, 5]]
        var halfway: Sizes?
        for b in 0..<2500 {
            var (x, y) = blobs.batch(8, classes: phases[(b / 100) % phases.count])
            if b % 10 == 0 { x[b % 8, 0] = 1e30 }
            _ = try learner.observe(features: x, labels: y)
            if b == 1249 { halfway = try sizes(learner) }
        }
        let end = try sizes(learner)
        let middle = try #require(halfway)

        #expect(learner.counters.samples == 20_000)
        #expect(end.replay == c.replayCapacity && end.replayFloats == c.replayCapacity * 8)
        #expect(end.decisions == 16 && middle.decisions == 16)
        #expect(learner.history.suppressions.values.reduce(0, +) + end.growths > 100,
                "the stream must make more decisions than the history keeps, or this checks nothing")
        #expect(end.faults == 16 && learner.counters.rowsOutOfRange == 250)
        #expect(end.growths <= c.growth.maxExperts && end.experts <= c.growth.maxExperts)
        #expect(end.suppressionKinds <= 6)
        #expect(end.seriesPoints <= learner.prequential.series.capacity)
        // The first batch of 8 is scored as its four warm-up pieces (1, 1, 2 and 4 rows).
        #expect(learner.prequential.batches == 2500 + 3)
        #expect(end.boundaries == 0)
        #expect(end.statisticsFloats == middle.statisticsFloats)
        #expect(end.trackerWidths == [16, 16])
        #expect(end.optimizerEntries <= 3 * learner.model.parameterPaths.count)
        // The whole state: flat between 10,000 and 20,000 samples.
        #expect(end.experts == middle.experts, "the same experts at both points, or this compares different models")
        let growth = Double(end.stateBytes - middle.stateBytes) / Double(middle.stateBytes)
        #expect(abs(growth) < 0.02, "state \(middle.stateBytes) -> \(end.stateBytes) bytes; \(middle) -> \(end)")
    }

    #else
    @Test("20,000 samples in batches of 8 keep every size of the learner bounded",
          .disabled("it shortens the learner's history (an internal setter), which only a debug build (@testable import) exposes: run swift test in debug"))
    func learnerStaysBounded() {}
    #endif

    @Test("prequential accuracy keeps the most recent experience boundaries only")
    func boundariesBounded() {
        var prequential = PrequentialAccuracy()
        for k in 0..<3000 {
            prequential.beginExperience(k % 5)
            prequential.record([true, false])
        }
        #expect(prequential.boundaries.count == PrequentialAccuracy.boundaryCapacity)
        let dropped = 3000 - PrequentialAccuracy.boundaryCapacity
        let first = PrequentialAccuracy.Boundary(experience: dropped % 5, samples: 2 * dropped)
        let last = PrequentialAccuracy.Boundary(experience: 2999 % 5, samples: 2 * 2999)
        #expect(prequential.boundaries.first == first)
        #expect(prequential.boundaries.last == last)
    }

    /// Four classes of 8-wide blobs as train and test sets.
    func blobScenario() throws -> Scenario {
        var blobs = Blobs(classes: 4, width: 8, seed: 31)
        func dataset(_ n: Int, _ name: String) -> Dataset {
            let (x, y) = blobs.batch(n, classes: [0, 1, 2, 3])
            return Dataset(features: x, labels: y, classCount: 4, name: name)
        }
        return try Scenario.split(train: dataset(240, "train"), test: dataset(80, "test"), seed: 1)
    }

    @Test("experiences not trained yet are evaluated only when asked (or in a later cycle), and evaluating them changes nothing learned")
    func evaluationAhead() throws {
        let scenario = try blobScenario()
        func run(ahead: Bool, cycles: Int = 1) throws -> (StreamDriver<Learner>, ScenarioEvaluation<Learner>) {
            let evaluation = ScenarioEvaluation<Learner>(evaluatesAhead: ahead)
            let source = StreamSource.scenario(.init(scenario: "blobs", experiences: 2, seed: 1, passes: 1, batchSize: 16, cycles: cycles))
            let driver = try StreamDriver(
                learner: try Learner(configuration: configuration(), inputWidth: 8, classCount: 1), source: source,
                scenario: scenario, plugins: [evaluation])
            #expect(try driver.run() == .finished)
            return (driver, evaluation)
        }
        let (seen, seenOnly) = try run(ahead: false)
        let (all, ahead) = try run(ahead: true)
        for matrix in [seenOnly.state.classIncremental, seenOnly.state.taskIncremental] {
            #expect(matrix[trainedThrough: 0, evaluatedOn: 1] == nil)
            #expect(matrix[trainedThrough: 1, evaluatedOn: 0] != nil && matrix[trainedThrough: 1, evaluatedOn: 1] != nil)
        }
        #expect(ahead.state.classIncremental[trainedThrough: 0, evaluatedOn: 1] != nil)
        #expect(ahead.state.taskIncremental[trainedThrough: 0, evaluatedOn: 1] != nil)
        for i in 0..<2 {
            for j in 0...i {
                #expect(seenOnly.state.classIncremental[trainedThrough: i, evaluatedOn: j]
                    == ahead.state.classIncremental[trainedThrough: i, evaluatedOn: j])
            }
        }
        #expect(seenOnly.state.classIncremental.finalAverageAccuracy == ahead.state.classIncremental.finalAverageAccuracy)
        #expect(seen.learner?.model.parameters == all.learner?.model.parameters)
        #expect(seen.learner?.prequential == all.learner?.prequential)
        // In the second cycle every experience was trained once: all are evaluated.
        let (_, cycled) = try run(ahead: false, cycles: 2)
        #expect(cycled.state.classIncremental[trainedThrough: 0, evaluatedOn: 1] != nil)
    }

    @Test("cycles repeat the experiences with fixed-size matrices, one summary per cycle, and resume exactly")
    func cycles() throws {
        let scenario = try blobScenario()
        let counts = scenario.experiences.map { $0.trainIndices.count }
        let trainCount = counts.reduce(0, +)
        let source = StreamSource.scenario(.init(scenario: "blobs", experiences: 2, seed: 1, passes: 1, batchSize: 16, cycles: 3))
        func driver() throws -> (StreamDriver<Learner>, ScenarioEvaluation<Learner>) {
            let evaluation = ScenarioEvaluation<Learner>()
            let driver = try StreamDriver(
                learner: try Learner(configuration: configuration(), inputWidth: 8, classCount: 1), source: source,
                scenario: scenario, plugins: [evaluation])
            return (driver, evaluation)
        }
        let (straight, evaluated) = try driver()
        #expect(try straight.run() == .finished)
        #expect(straight.isFinished && straight.position.experience == 6)
        #expect(evaluated.state.classIncremental.experienceCount == 2)
        #expect(evaluated.state.taskIncremental.experienceCount == 2)
        let summaries = evaluated.state.cycles.points
        #expect(summaries.map(\.cycle) == [0, 1, 2])
        #expect(summaries.map(\.samples) == [1, 2, 3].map { $0 * trainCount })
        #expect(summaries.last?.finalAverageAccuracy == evaluated.state.classIncremental.finalAverageAccuracy)
        #expect(summaries.allSatisfy { $0.finalAverageAccuracy != nil && $0.forgetting != nil })
        #expect(straight.learner?.counters.samples == 3 * trainCount)
        #expect(straight.experience(ofSample: 0) == 0)
        #expect(straight.experience(ofSample: counts[0]) == 1)
        #expect(straight.experience(ofSample: 2 * trainCount + 3) == 0)
        #expect(straight.experience(ofSample: 3 * trainCount) == nil)

        // Paused in the first experience of the second cycle, after the matrices were cleared.
        let batchesPerCycle = counts.map { ($0 + 15) / 16 }.reduce(0, +)
        let (stopped, stoppedEvaluation) = try driver()
        #expect(try stopped.run(until: StopCondition(batches: batchesPerCycle + 3)) == .paused)
        #expect(stopped.position.experience == 2 && stopped.position.source.samplesDelivered == 48)
        #expect(stoppedEvaluation.state.classIncremental.lastTrainedExperience == nil)
        let checkpoint = try Checkpoint.decode(try stopped.checkpoint().encoded())
        #expect(try StreamDriver<Learner>.savedStream(in: checkpoint)?.source == source)
        let evaluation = ScenarioEvaluation<Learner>()
        let resumed = try StreamDriver(
            resuming: checkpoint, learner: try Learner(checkpoint: checkpoint), scenario: scenario, plugins: [evaluation])
        #expect(try resumed.run() == .finished)
        #expect(evaluation.state == evaluated.state)
        #expect(resumed.learner?.model.parameters == straight.learner?.model.parameters)
        #expect(resumed.learner?.counters == straight.learner?.counters)
        #expect(resumed.learner?.prequential == straight.learner?.prequential)
        #expect(resumed.position.batches == straight.position.batches && resumed.position.samples == straight.position.samples)

        // A scenario built in memory must be given again.
        let error = try #require(throws: StreamError.self) {
            try StreamDriver(resuming: checkpoint, learner: try Learner(checkpoint: checkpoint))
        }
        #expect(error == .scenarioNeeded(name: "blobs", checkpoint: "<memory>"))
    }
}
