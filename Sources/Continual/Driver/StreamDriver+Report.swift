import MoE

extension StreamDriver where L == Learner {
    /// The report of the stream so far: the evaluation's matrices (empty for a stream
    /// without test sets), prequential accuracy, growth, the gate's routing of the test
    /// sets, throughput and memory.
    ///
    /// - Precondition: the learner exists (a batch was learned, or it was given).
    public func report(evaluation: ScenarioEvaluation<Learner>? = nil, growth: GrowthRecorder<Learner>? = nil) throws
        -> StreamReport
    {
        guard let learner else { preconditionFailure("No report before the first batch") }
        let memory = learner.memoryFloats
        var routing = ExpertRouting()
        if learner.model.experts.count > 0, let scenario {
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
        let split = scenario?.kind == .split
        return StreamReport(
            scenario: source.name, seed: source.scenarioSettings?.seed ?? learner.configuration.seed,
            config: try JSONValue(encoding: learner.configuration),
            classIncremental: evaluation?.state.classIncremental ?? AccuracyMatrix(),
            taskIncremental: split ? evaluation?.state.taskIncremental : nil,
            prequential: learner.prequential, modelSize: learner.modelSize, growth: growth?.history ?? ModelGrowthHistory(),
            routing: routing, samplesPerSecond: samplesPerSecond,
            memory: .init(replayBufferFloats: memory.replay, statisticsFloats: memory.statistics), growthEvents: events)
    }

    /// The scenario's experience whose stream held sample `index` (counted over the
    /// whole stream, every cycle streaming the same experiences); nil for other streams.
    public func experience(ofSample index: Int) -> Int? {
        guard case let .scenario(settings) = source, let scenario else { return nil }
        let lengths = scenario.experiences.map { $0.trainIndices.count * settings.passes }
        let cycleLength = lengths.reduce(0, +)
        guard index >= 0, cycleLength > 0, index < cycleLength * settings.cycles else { return nil }
        var start = 0
        let offset = index % cycleLength
        for (e, length) in lengths.enumerated() {
            if offset < start + length { return e }
            start += length
        }
        return nil
    }
}
