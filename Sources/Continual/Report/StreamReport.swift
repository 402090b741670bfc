/// Everything a stream run measured, ready to be saved as JSON and drawn.
///
/// Built once at the end of a run (or at a pause) from the metrics kept along the way:
/// the accuracy matrices, prequential accuracy, the model's growth and the gate's routing.
/// All derived figures (average accuracy, BWT, forgetting) are computed here and stored,
/// so the JSON file is complete on its own. Keys are snake_case; a figure that is
/// undefined (BWT after one experience, task-incremental accuracy of a scenario without
/// tasks) is written as `null`, never omitted and never a made-up number. See
/// `docs/metrics.md` for the definitions.
public struct StreamReport: Codable, Sendable, Equatable {
    /// The scenario's name (`split-fmnist`, `permuted-fmnist`, `csv:…`).
    public var scenario: String
    /// The seed of the run.
    public var seed: UInt64
    /// The run's configuration, as the controller describes it.
    public var config: JSONValue
    /// The class-incremental accuracy matrix (one head, no task identity) and its figures.
    public var classIncremental: MatrixFigures
    /// For split scenarios: the task-incremental matrix (task identity given at test time).
    public var taskIncremental: MatrixFigures?
    /// ACC of the class-incremental matrix.
    public var finalAverageAccuracy: Double?
    /// ACC of the task-incremental matrix, `nil` when the scenario has no tasks.
    public var taskIncrementalAccuracy: Double?
    /// Forgetting (best earlier accuracy minus final) of the class-incremental matrix.
    public var forgetting: Double?
    /// Backward transfer of the class-incremental matrix.
    public var bwt: Double?
    /// Prequential (test-then-train) accuracy over the stream.
    public var prequential: Prequential
    /// Experts in the final model.
    public var experts: Int
    /// Parameters of the final model.
    public var parameters: Parameters
    /// The model's size each time it changed (downsampled, see ``ModelGrowthHistory``).
    public var modelGrowth: [ModelGrowthHistory.Point]
    /// Each expert's share of the routed inputs.
    public var routing: [ExpertShare]
    /// Inputs that went through the gate.
    public var routedInputs: Int
    /// Training throughput: samples streamed per second of wall-clock time.
    public var samplesPerSecond: Double
    /// Memory the learner keeps besides its weights, in floats.
    public var memory: Memory
    /// Every growth of the model, in stream order.
    public var growthEvents: [GrowthEvent]
    /// The headline figures (the CLI's `--json` line).
    public var summary: Summary

    /// Assembles a report from the metrics of a run.
    ///
    /// - Parameters:
    ///   - scenario: the scenario's name.
    ///   - seed: the run's seed.
    ///   - config: the configuration (see ``JSONValue/init(encoding:)``).
    ///   - classIncremental: R measured class-incrementally.
    ///   - taskIncremental: R measured task-incrementally (split scenarios only).
    ///   - prequential: the prequential accuracy of the whole stream.
    ///   - modelSize: the final model's size.
    ///   - growth: the model's size over the stream.
    ///   - routing: the gate's routing counts.
    ///   - samplesPerSecond: throughput (finite, non-negative).
    ///   - memory: replay buffer and statistics, in floats.
    ///   - growthEvents: every growth, in stream order.
    public init(
        scenario: String, seed: UInt64, config: JSONValue = .object([:]),
        classIncremental: AccuracyMatrix, taskIncremental: AccuracyMatrix? = nil,
        prequential: PrequentialAccuracy, modelSize: ModelSize,
        growth: ModelGrowthHistory = ModelGrowthHistory(), routing: ExpertRouting = ExpertRouting(),
        samplesPerSecond: Double, memory: Memory, growthEvents: [GrowthEvent] = []
    ) {
        precondition(samplesPerSecond.isFinite && samplesPerSecond >= 0,
                     "Samples per second must be finite and non-negative, got \(samplesPerSecond)")
        self.scenario = scenario
        self.seed = seed
        self.config = config
        self.classIncremental = MatrixFigures(classIncremental)
        self.taskIncremental = taskIncremental.map(MatrixFigures.init)
        finalAverageAccuracy = self.classIncremental.finalAverageAccuracy
        taskIncrementalAccuracy = self.taskIncremental?.finalAverageAccuracy
        forgetting = self.classIncremental.forgetting
        bwt = self.classIncremental.bwt
        self.prequential = Prequential(prequential)
        experts = modelSize.experts
        parameters = Parameters(modelSize)
        modelGrowth = growth.points
        let shares = routing.shares, weightShares = routing.weightShares
        self.routing = routing.counts.indices.map { e in
            ExpertShare(expert: e, routed: routing.counts[e], share: shares?[e],
                        gateWeightShare: weightShares?[e])
        }
        routedInputs = routing.inputs
        self.samplesPerSecond = samplesPerSecond
        self.memory = memory
        self.growthEvents = growthEvents
        summary = Summary(
            finalAverageAccuracy: finalAverageAccuracy, taskIncrementalAccuracy: taskIncrementalAccuracy,
            forgetting: forgetting, bwt: bwt, accuracyMatrix: self.classIncremental.accuracyMatrix,
            prequentialAccuracy: self.prequential.accuracy, experts: experts,
            parameters: parameters.total, samplesPerSecond: samplesPerSecond)
    }

    enum CodingKeys: String, CodingKey {
        case scenario, seed, config, forgetting, bwt, prequential, experts, parameters, routing, memory, summary
        case classIncremental = "class_incremental"
        case taskIncremental = "task_incremental"
        case finalAverageAccuracy = "final_average_accuracy"
        case taskIncrementalAccuracy = "task_incremental_accuracy"
        case modelGrowth = "model_growth"
        case routedInputs = "routed_inputs"
        case samplesPerSecond = "samples_per_second"
        case growthEvents = "growth_events"
    }

    /// Writes every key, undefined figures as `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scenario, forKey: .scenario)
        try container.encode(seed, forKey: .seed)
        try container.encode(config, forKey: .config)
        try container.encode(classIncremental, forKey: .classIncremental)
        try container.encode(taskIncremental, forKey: .taskIncremental)
        try container.encode(finalAverageAccuracy, forKey: .finalAverageAccuracy)
        try container.encode(taskIncrementalAccuracy, forKey: .taskIncrementalAccuracy)
        try container.encode(forgetting, forKey: .forgetting)
        try container.encode(bwt, forKey: .bwt)
        try container.encode(prequential, forKey: .prequential)
        try container.encode(experts, forKey: .experts)
        try container.encode(parameters, forKey: .parameters)
        try container.encode(modelGrowth, forKey: .modelGrowth)
        try container.encode(routing, forKey: .routing)
        try container.encode(routedInputs, forKey: .routedInputs)
        try container.encode(samplesPerSecond, forKey: .samplesPerSecond)
        try container.encode(memory, forKey: .memory)
        try container.encode(growthEvents, forKey: .growthEvents)
        try container.encode(summary, forKey: .summary)
    }
}
