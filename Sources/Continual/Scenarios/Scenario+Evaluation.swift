import MoE

/// How a prediction on an experience's test set is scored (van de Ven and Tolias,
/// "Three scenarios for continual learning", 2019).
public enum EvaluationProtocol: String, Sendable, Codable, CaseIterable {
    /// One head over every class, no task identity at test time (split scenarios).
    case classIncremental = "class-incremental"
    /// The task identity is given: logits are masked to the experience's classes.
    case taskIncremental = "task-incremental"
    /// One head, the same classes in every experience (permuted scenarios); scored as
    /// class-incremental.
    case domainIncremental = "domain-incremental"
}

extension Scenario {
    /// The protocols that make sense for this scenario: class- and task-incremental for
    /// a split scenario, domain-incremental for a permuted one.
    public var evaluationProtocols: [EvaluationProtocol] {
        kind == .split ? [.classIncremental, .taskIncremental] : [.domainIncremental]
    }

    /// The predicted class of each row of `logits` (`n x classes`) for a sample of
    /// experience `index`.
    ///
    /// ```
    /// class- and domain-incremental:  ŷ = argmax_c z_c            (all columns)
    /// task-incremental:               ŷ = argmax_{c ∈ classes_i} z_c
    /// ```
    ///
    /// A learner whose output is still narrower than the scenario's classes is scored on
    /// the columns it has; a row with none of the experience's classes predicts -1.
    public func predictions(logits: Matrix, experience index: Int, protocol evaluation: EvaluationProtocol) -> [Int] {
        guard evaluation == .taskIncremental else { return logits.columns > 0 ? logits.argmaxRows() : Array(repeating: -1, count: logits.rows) }
        let allowed = experience(index).classes.filter { $0 < logits.columns }
        guard let first = allowed.first else { return Array(repeating: -1, count: logits.rows) }
        return (0..<logits.rows).map { r in
            allowed.dropFirst().reduce(first) { best, c in logits[r, c] > logits[r, best] ? c : best }
        }
    }

    /// Accuracy on experience `index`'s test set of a learner given by `logits`
    /// (features `n x inputWidth` to logits `n x classes`), evaluated in batches.
    public func accuracy(
        experience index: Int, protocol evaluation: EvaluationProtocol, batchSize: Int = 1000,
        logits: (Matrix) throws -> Matrix
    ) rethrows -> Double {
        precondition(batchSize > 0, "An evaluation batch holds at least one sample")
        let test = testSet(experience: index)
        var correct = 0
        for start in stride(from: 0, to: test.count, by: batchSize) {
            let range = start..<min(start + batchSize, test.count)
            let output = try logits(test.features.rows(range))
            precondition(output.rows == range.count, "The learner returned \(output.rows) rows for \(range.count) samples")
            let predicted = predictions(logits: output, experience: index, protocol: evaluation)
            for (offset, label) in test.labels[range].enumerated() where predicted[offset] == label { correct += 1 }
        }
        return test.count == 0 ? 0 : Double(correct) / Double(test.count)
    }

    /// Fills row `trained` of `matrix`: the accuracy on every experience's test set after
    /// training through experience `trained` (`R[trained][j]` for all `j`).
    public func evaluate(
        trainedThrough trained: Int, protocol evaluation: EvaluationProtocol, into matrix: inout AccuracyMatrix,
        batchSize: Int = 1000, logits: (Matrix) throws -> Matrix
    ) rethrows {
        for j in experiences.indices {
            let value = try accuracy(experience: j, protocol: evaluation, batchSize: batchSize, logits: logits)
            matrix.record(value, trainedThrough: trained, evaluatedOn: j)
        }
    }
}
