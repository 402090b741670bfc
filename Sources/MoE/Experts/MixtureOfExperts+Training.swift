extension MixtureOfExperts {
    /// Predicted class of each row of a forward pass.
    ///
    /// When the gate's `restrictsPredictions` is on and every slot a row was routed to
    /// has a class set, the prediction is the best logit among those classes: under
    /// top-1 routing the routed slot speaks for its own classes (the trunk slot for the
    /// classes the trunk learned). Otherwise it is the best logit overall.
    public func predictions(_ forward: Forward) -> [Int] {
        let best = forward.logits.argmaxRows()
        guard gate.configuration.restrictsPredictions, forward.gate != nil else { return best }
        let classes = slotClasses, logits = forward.logits
        return (0..<logits.rows).map { r in
            guard let allowed = predictionClasses(forward, row: r, slotClasses: classes) else { return best[r] }
            var choice = allowed[0]
            for c in allowed.dropFirst() where logits[r, c] > logits[r, choice] { choice = c }
            return choice
        }
    }

    /// The classes row `r` is predicted among, in order: the union of its routed slots'
    /// classes when the gate's `restrictsPredictions` is on and every one of them has a
    /// class set that names an output; nil for every class.
    private func predictionClasses(_ forward: Forward, row r: Int, slotClasses classes: [Set<Int>?]) -> [Int]? {
        guard gate.configuration.restrictsPredictions, let routing = forward.gate?.routing else { return nil }
        var allowed = Set<Int>()
        for j in 0..<routing.k {
            guard let owned = classes[routing.selected[r * routing.k + j]] else { return nil }
            allowed.formUnion(owned)
        }
        let within = allowed.filter { $0 < forward.logits.columns }.sorted()
        return within.isEmpty ? nil : within
    }

    /// Per row, the probability of every class (`rows x classes`) as ``predictions(_:)``
    /// weighs them: the softmax of the logits over the classes a row may be predicted
    /// among (the routed slots' when the gate's `restrictsPredictions` is on), 0 for the
    /// others. The largest score of a row is its predicted class.
    public func predictionScores(_ forward: Forward) -> Matrix {
        let logits = forward.logits
        var scores = Matrix(rows: logits.rows, columns: logits.columns)
        let chosen = predictions(forward)
        let classes = slotClasses
        for r in 0..<logits.rows {
            let allowed = predictionClasses(forward, row: r, slotClasses: classes) ?? Array(0..<logits.columns)
            let top = logits[r, chosen[r]]
            var total: Float = 0
            for c in allowed { total += _exp(logits[r, c] - top) }
            for c in allowed { scores[r, c] = _exp(logits[r, c] - top) / total }
        }
        return scores
    }

    /// One training step: forward (with gate noise from `generator` when the gate is
    /// noisy), loss, backward, and an optimizer update of the trainable parameters.
    ///
    /// - Returns: The loss before the step.
    @discardableResult
    public mutating func trainingStep<O: Optimizer>(
        _ input: Matrix, labels: [Int], optimizer: inout O, noise generator: inout SeededGenerator
    ) -> Float {
        let (loss, gradients, _) = lossAndGradients(input, labels: labels, noise: &generator)
        optimizer.update(&self, gradients: gradients, frozen: frozen)
        return loss
    }

    /// Accuracy and routing of a labelled set, evaluated in batches.
    public struct Evaluation: Sendable, Equatable {
        /// Fraction of rows predicted correctly.
        public var accuracy: Double
        /// For every gate slot, the fraction of rows whose best slot it is (empty when
        /// the model has no experts).
        public var routedFractions: [Double]
        /// Fraction of rows whose best slot owns their label (nil without experts or
        /// when no slot has class sets).
        public var routingAccuracy: Double?
    }

    /// Accuracy and routing on `(input, labels)`, `batchSize` rows at a time.
    public func evaluate(_ input: Matrix, labels: [Int], batchSize: Int = 512) -> Evaluation {
        precondition(labels.count == input.rows, "\(labels.count) labels for \(input.rows) rows")
        precondition(batchSize > 0, "Batch size must be positive")
        var correct = 0, routedRight = 0, owned = 0
        var routed = [Int](repeating: 0, count: experts.isEmpty ? 0 : gate.slotCount)
        for start in stride(from: 0, to: input.rows, by: batchSize) {
            let range = start..<min(start + batchSize, input.rows)
            let pass = forward(input.rows(range))
            let batchLabels = Array(labels[range])
            for (p, y) in zip(predictions(pass), batchLabels) where p == y { correct += 1 }
            guard let routing = pass.gate?.routing else { continue }
            let targets = routingTargets(batchLabels)
            let classes = slotClasses
            for (r, slot) in routing.topSlots.enumerated() {
                routed[slot] += 1
                guard targets[r] != nil else { continue }
                owned += 1
                if classes[slot]?.contains(batchLabels[r]) ?? false { routedRight += 1 }
            }
        }
        let n = Double(max(1, input.rows))
        return Evaluation(accuracy: Double(correct) / n, routedFractions: routed.map { Double($0) / n },
                          routingAccuracy: owned == 0 ? nil : Double(routedRight) / Double(owned))
    }
}
