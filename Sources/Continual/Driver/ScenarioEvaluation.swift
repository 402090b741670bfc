/// Evaluates the learner on the test sets of the experiences it has trained when an
/// experience ends, filling the accuracy matrices (class-incremental, and task-incremental
/// for split scenarios); a plugin of scenario and joint streams (it does nothing on other
/// streams).
///
/// Experiences not trained yet (`R[i][j]` with `j > i`, forward transfer) are evaluated
/// only with `evaluatesAhead`: no figure of the report uses them, and on a split
/// scenario their class-incremental accuracy is 0 by construction (the learner cannot
/// name a class it has not seen). Skipping them takes Split Fashion-MNIST's evaluation
/// from 25 test-set passes to 15. In a later cycle every experience has been trained once
/// and all are evaluated.
///
/// With cycles (a scenario streamed several times) the matrices hold the current cycle
/// only, one row and one column per distinct experience: they are cleared when a new
/// cycle starts, and each completed cycle leaves one ``CycleSummary`` in a
/// ``DownsampledSeries``, so memory stays flat however long the stream. A joint stream
/// (one experience of all the data) is evaluated once, as the row of the last experience.
/// The state is saved in `/sections/evaluation`.
public final class ScenarioEvaluation<L: StreamLearner>: StreamPlugin {
    /// What has been measured.
    public struct State: Sendable, Codable, Equatable {
        public var classIncremental = AccuracyMatrix()
        public var taskIncremental = AccuracyMatrix()
        /// One summary per completed cycle (downsampled beyond 256 cycles).
        public var cycles = DownsampledSeries<CycleSummary>(capacity: 256)
        /// Whether experiences not trained yet are evaluated too (forward transfer).
    public let evaluatesAhead: Bool

    public init(evaluatesAhead: Bool = false) {
        self.evaluatesAhead = evaluatesAhead
    }
    }

    public private(set) var state = State()
    /// The test sets as the learner prepared them (not saved).
    private var cache = EvaluationCache()

    /// Whether experiences not trained yet are evaluated too (forward transfer).
    public let evaluatesAhead: Bool

    public init(evaluatesAhead: Bool = false) {
        self.evaluatesAhead = evaluatesAhead
    }

    public var sectionName: String? { "evaluation" }

    public func beforeExperience(_ driver: StreamDriver<L>, _ experience: ExperiencePosition) {
        guard case .scenario = driver.source, experience.cycle > 0, experience.experience == 0 else { return }
        // A new cycle: the matrices hold one cycle; the last one was summarised.
        state.classIncremental = AccuracyMatrix()
        state.taskIncremental = AccuracyMatrix()
    }

    public func afterExperience(_ driver: StreamDriver<L>, _ experience: ExperiencePosition) {
        guard let scenario = driver.scenario, let learner = driver.learner else { return }
        let joint: Bool
        switch driver.source {
        case .scenario: joint = false
        case .joint: joint = true
        default: return
        }
        let trained = joint ? scenario.experiences.count - 1 : experience.experience
        let ready = learner.readyToPredict()
        let last = joint || evaluatesAhead || experience.cycle > 0 ? scenario.experiences.count - 1 : trained
        for j in 0...last {
            let test = scenario.testSet(experience: j)
            // Class-incremental, and task-incremental on split scenarios, from one preparation.
            let restrictions: [Set<Int>?] = scenario.kind == .split ? [nil, Set(scenario.experiences[j].classes)] : [nil]
            let scores = ready.scores(features: test.features, labels: test.labels, among: restrictions, set: j, cache: &cache)
            state.classIncremental.record(scores[0], trainedThrough: trained, evaluatedOn: j)
            if scenario.kind == .split {
                state.taskIncremental.record(scores[1], trainedThrough: trained, evaluatedOn: j)
            }
        }
        if !joint && experience.experience == experience.perCycle - 1 {
            state.cycles.append(CycleSummary(
                cycle: experience.cycle, samples: learner.learnedSamples,
                finalAverageAccuracy: state.classIncremental.finalAverageAccuracy,
                forgetting: state.classIncremental.forgetting,
                backwardTransfer: state.classIncremental.backwardTransfer,
                taskIncrementalAccuracy: scenario.kind == .split ? state.taskIncremental.finalAverageAccuracy : nil))
        }
    }

    public func savedState() throws -> CheckpointSection {
        try CheckpointSection(json: state, format: "evaluation-json")
    }

    public func restore(from section: CheckpointSection) throws {
        state = try section.decodeJSON(State.self, format: "evaluation-json", file: section.origin.file)
    }
}
