/// The figures of one completed cycle of a scenario streamed several times, from its
/// accuracy matrices.
public struct CycleSummary: Sendable, Codable, Equatable {
    /// The cycle (0-based).
    public var cycle: Int
    /// Samples the learner had learned by the end of the cycle.
    public var samples: Int
    public var finalAverageAccuracy: Double?
    public var forgetting: Double?
    public var backwardTransfer: Double?
    /// Task-incremental final average accuracy (split scenarios).
    public var taskIncrementalAccuracy: Double?

    public init(cycle: Int, samples: Int, finalAverageAccuracy: Double?, forgetting: Double?, backwardTransfer: Double?,
                taskIncrementalAccuracy: Double?) {
        self.cycle = cycle
        self.samples = samples
        self.finalAverageAccuracy = finalAverageAccuracy
        self.forgetting = forgetting
        self.backwardTransfer = backwardTransfer
        self.taskIncrementalAccuracy = taskIncrementalAccuracy
    }
}
