import MoE

// Training: one step of the slot in charge on the rows in its charge.
//
//   logits = trunk(x) [+ expert_s(x)]                     (every row through slot s)
//   L      = CE over classes(s) ∪ labels  [+ λ Σ_D w_j max(0, -cov_j) on a trainable trunk]
//
// The cross-entropy is taken over the slot's own classes: the gate has already decided
// that an input belongs to the slot, so the slot only has to tell its classes apart.
extension Learner {
    /// Whether the trunk's own parameters still train (before the first growth).
    var trunkIsTrainable: Bool { model.experts.isEmpty }

    /// One training step of `slot` on `(x, y)` (scaled inputs): the gradient of the
    /// cross-entropy over the slot's classes (plus the covariance cost when `detectors`
    /// is given), then half-learning (or a plain Adam step). A step whose loss or
    /// gradient is not finite, or whose result is out of range, is rolled back (see
    /// `Learner+Faults.swift`).
    mutating func train(_ x: Matrix, _ y: [Int], slot: Int, detectors: DetectorReport?) -> (HalfLearning.StepOutcome, Float) {
        let columns = answerClasses(slot: slot).union(y).sorted()
        let local = y.map { label in columns.firstIndex(of: label)! }
        let forward = model.forward(x, routedTo: slot)
        let restricted = forward.logits.gatherColumns(columns)
        let (loss, localGradient) = SoftmaxCrossEntropy.lossAndGradient(logits: restricted, labels: local)
        var gradient = Matrix(rows: x.rows, columns: forward.logits.columns)
        for r in 0..<x.rows {
            for (j, c) in columns.enumerated() { gradient[r, c] = localGradient[r, j] }
        }
        let predictions = restricted.argmaxRows()
        let correct = zip(predictions, local).map { $0 == $1 }
        let errors = correct.reduce(0) { $0 + ($1 ? 0 : 1) }
        var hidden: [Int: Matrix] = [:]
        if let detectors {
            hidden = CovarianceCost(strength: configuration.covarianceStrength)
                .evaluate(hidden: forward.hidden, correct: correct, detectors: detectors).hiddenGradients
        }
        let gradients = model.backward(forward, logitGradient: gradient, hiddenGradients: hidden)
        // A step of an expert writing its own slot leaves the frozen trunk as it was: its
        // activations are reused by the re-evaluation.
        let reusable = !trunkIsTrainable && slot != 0 && model.expertOutput == .slot ? forward : nil
        return applyStep(loss: loss, gradients: gradients, errorsBefore: errors) { candidate in
            let logits = candidate.forward(x, routedTo: slot, reusingTrunkOf: reusable).logits.gatherColumns(columns)
            return zip(logits.argmaxRows(), local).reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1) }
        }
    }

    /// Applies one step's gradients (half-learning or plain Adam), unless the loss or a
    /// gradient is not finite; rolls it back if it leaves the weights or Adam's state out
    /// of range. A refused or rolled-back step halves the rate and is recorded.
    mutating func applyStep(
        loss: Float, gradients: Gradients, errorsBefore errors: Int, errorsOf count: (MixtureOfExperts) -> Int
    ) -> (HalfLearning.StepOutcome, Float) {
        func refuse(_ fault: (LearnerHistory.Fault.Kind, String)) -> (HalfLearning.StepOutcome, Float) {
            let rate = recordStepFault(fault.0, fault.1)
            let outcome = HalfLearning.StepOutcome(
                accepted: false, halvings: 0, errorsBefore: errors, errorsAfter: errors, rate: rate, proposals: 0)
            tally(outcome)
            return (outcome, loss)
        }
        if let fault = faultBeforeStep(loss: loss, gradients: gradients) { return refuse(fault) }
        let before = (model: model, optimizer: optimizer)
        let outcome: HalfLearning.StepOutcome
        if configuration.halfLearning {
            outcome = halfLearning.step(&model, optimizer: &optimizer, gradients: gradients, frozen: model.frozen,
                                        errorsBefore: errors, errors: count)
        } else {
            optimizer.update(&model, gradients: gradients, frozen: model.frozen)
            outcome = HalfLearning.StepOutcome(
                accepted: true, halvings: 0, errorsBefore: errors, errorsAfter: -1, rate: optimizer.learningRate, proposals: 1)
        }
        if outcome.accepted, let fault = faultAfterStep(paths: gradients.values.keys) {
            model = before.model
            optimizer = before.optimizer
            return refuse(fault)
        }
        if !configuration.halfLearning && optimizer.learningRate < configuration.learningRate {
            // Regrow after a fault halved the rate, as half-learning does (bold driver).
            optimizer.learningRate = min(configuration.learningRate, optimizer.learningRate * 1.1)
        }
        tally(outcome)
        return (outcome, loss)
    }

    mutating func tally(_ outcome: HalfLearning.StepOutcome) {
        if outcome.accepted { counters.acceptedSteps += 1 } else { counters.rejectedSteps += 1 }
        counters.halvings += outcome.halvings
    }
}
