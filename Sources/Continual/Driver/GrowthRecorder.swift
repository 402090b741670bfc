/// Records the model's size (trainable and frozen parameters, experts) each time its
/// expert count changes, for the report's growth curve; its state is saved in
/// `/sections/growth` so a resumed stream draws the whole curve.
public final class GrowthRecorder<L: StreamLearner>: StreamPlugin {
    public private(set) var history = ModelGrowthHistory()

    public init() {}

    public var sectionName: String? { "growth" }

    public func afterBatch(_ driver: StreamDriver<L>, _ event: BatchEvent<L.Step>) {
        guard let learner = driver.learner else { return }
        if history.current == nil || history.current!.size.experts != learner.expertCount {
            history.record(step: learner.learnedBatches, samples: learner.learnedSamples, size: learner.modelSize)
        }
    }

    public func savedState() throws -> CheckpointSection {
        try CheckpointSection(json: history, format: "growth-json")
    }

    public func restore(from section: CheckpointSection) throws {
        history = try section.decodeJSON(ModelGrowthHistory.self, format: "growth-json", file: section.origin.file)
    }
}
