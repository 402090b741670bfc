/// Scores the learner on a held-out data set when the run ends or pauses (`moe train`'s
/// test accuracy). The result is not saved: it is measured again at every end.
public final class TestSetEvaluation<L: StreamLearner>: StreamPlugin {
    /// The data set scored.
    public let test: Dataset
    /// The last score, after `atEnd`.
    public private(set) var accuracy: Double?

    public init(test: Dataset) { self.test = test }

    public func atEnd(_ driver: StreamDriver<L>) {
        guard let learner = driver.learner else { return }
        accuracy = learner.readyToPredict().score(features: test.features, labels: test.labels, among: nil)
    }
}
