import MoE
import Testing
import TestSupport

@Suite("Half-learning")
struct HalfLearningTests {
    /// A one-dimensional state whose error count jumps from 1 to 5 past 1.0: the rate
    /// is halved until the step fits, and the step is rejected when it cannot.
    @Test func halvingAndRejectionAtTheMinimumRate() {
        var trainer = HalfLearning(rate: 0.8, minimumRate: 0.1, growth: 1.5, maximumRate: 2)
        var x = 0.0
        let errors: (Double) -> Int = { $0 > 1 ? 5 : 1 }
        let propose: (Double, Float) -> Double = { $0 + Double($1) }

        var outcome = trainer.step(&x, errors: errors, propose: propose)
        #expect(outcome == .init(accepted: true, halvings: 0, errorsBefore: 1, errorsAfter: 1, rate: 0.8, proposals: 1))
        #expect(isClose(x, 0.8, tolerance: 1e-7) && isClose(Double(trainer.rate), 1.2, tolerance: 1e-6))

        // 1.2, 0.6 and 0.3 overshoot; 0.15 fits.
        outcome = trainer.step(&x, errors: errors, propose: propose)
        #expect(outcome.accepted && outcome.halvings == 3 && outcome.proposals == 4)
        #expect(isClose(Double(outcome.rate), 0.15, tolerance: 1e-6))
        #expect(isClose(x, 0.95, tolerance: 1e-6) && isClose(Double(trainer.rate), 0.225, tolerance: 1e-6))

        // 0.225 and 0.1125 overshoot; 0.05625 is below the minimum: rejected, state and rate kept.
        outcome = trainer.step(&x, errors: errors, propose: propose)
        #expect(!outcome.accepted && outcome.halvings == 1 && outcome.proposals == 2)
        #expect(outcome.errorsBefore == 1 && outcome.errorsAfter == 1)
        #expect(isClose(x, 0.95, tolerance: 1e-6) && isClose(Double(trainer.rate), 0.225, tolerance: 1e-6))
    }

    /// After accepted steps the rate grows by the factor up to the cap.
    @Test func rateRegrowsUpToTheCap() {
        var trainer = HalfLearning(rate: 0.01, minimumRate: 0.001, growth: 2, maximumRate: 0.1)
        var x = 0
        var rates: [Float] = []
        for _ in 0..<6 {
            let outcome = trainer.step(&x, errorsBefore: 3, errors: { _ in 3 }, propose: { s, _ in s + 1 })
            #expect(outcome.accepted && outcome.proposals == 1)
            rates.append(outcome.rate)
        }
        #expect(x == 6)
        #expect(rates == [0.01, 0.02, 0.04, 0.08, 0.1, 0.1])
    }

    /// The passed-in error count is used as is (no evaluation of the current state).
    @Test func errorsBeforeSavesAnEvaluation() {
        var trainer = HalfLearning()
        var evaluations = 0
        var x = 0
        let outcome = trainer.step(&x, errorsBefore: 4, errors: { s in evaluations += 1; return s == 0 ? 4 : 2 },
                                   propose: { s, _ in s + 1 })
        #expect(evaluations == 1 && outcome.errorsBefore == 4 && outcome.errorsAfter == 2)
    }

    /// A rejected step leaves the model and the optimizer's moments exactly as they were.
    @Test func rejectedStepRestoresModelAndOptimizer() {
        var generator = SeededGenerator(seed: 3)
        var model = MixtureOfExperts(sizes: [3, 5, 2], generator: &generator)
        let input = Matrix.uniform(rows: 12, columns: 3, low: -1, high: 1, using: &generator)
        let labels = (0..<12).map { $0 % 2 }
        var optimizer = Adam(learningRate: 0.01)
        var trainer = HalfLearning(rate: 0.01, minimumRate: 0.001)
        // One accepted step so that Adam has moments and step counts.
        var outcome = trainer.step(&model, optimizer: &optimizer, gradients: model.lossAndGradients(input, labels: labels).gradients,
                                   frozen: [], errorsBefore: 0, errors: { _ in 0 })
        #expect(outcome.accepted)
        let savedModel = model.parameters, savedState = optimizer.state
        #expect(!savedState.isEmpty)
        // Every proposal that changes a parameter "adds an error".
        outcome = trainer.step(&model, optimizer: &optimizer, gradients: model.lossAndGradients(input, labels: labels).gradients,
                               frozen: [], errors: { $0.parameters == savedModel ? 0 : 1 })
        #expect(!outcome.accepted && outcome.proposals == 4)
        #expect(model.parameters == savedModel)
        #expect(optimizer.state == savedState)
    }

    /// Property: on many random problems and seeds, with the covariance-weighted step,
    /// the number of misclassifications on the step set never increases.
    @Test func errorsNeverIncrease() {
        var accepted = 0, rejected = 0, improved = 0
        for seed in UInt64(0)..<24 {
            var generator = SeededGenerator(seed: seed)
            let classes = 2 + Int(seed % 3), inputs = 2 + Int(seed % 4), n = 24 + Int(seed % 5) * 8
            let activation: Activation = seed % 2 == 0 ? .tanh : .relu
            var model = MixtureOfExperts(sizes: [inputs, 6, 5, classes], activation: activation, generator: &generator)
            let input = Matrix.uniform(rows: n, columns: inputs, low: -1, high: 1, using: &generator)
            let labels = (0..<n).map { _ in generator.nextInt(below: classes) }
            var optimizer = Adam()
            var trainer = HalfLearning(rate: 0.05, minimumRate: 1e-3, growth: 1.5, maximumRate: 0.5)
            var tracker = CovarianceTracker(model: model)
            let cost = CovarianceCost(strength: 1)
            let detectorRule = ErrorDetectors(minimumCorrelation: 0.05, minimumT: 1, falseDiscovery: .none)
            var errors = HalfLearning.misclassifications(model, input: input, labels: labels)
            let initial = errors
            for _ in 0..<15 {
                tracker.update(model.forward(input), labels: labels)
                let detectors = detectorRule.report(tracker)
                let (outcome, loss) = trainer.covarianceStep(&model, optimizer: &optimizer, input: input, labels: labels,
                                                             detectors: detectors, cost: cost)
                let now = HalfLearning.misclassifications(model, input: input, labels: labels)
                #expect(loss.errors == errors, "seed \(seed): the gradient's forward pass counts the errors before")
                #expect(outcome.errorsBefore == errors && outcome.errorsAfter == now, "seed \(seed)")
                #expect(now <= errors, "seed \(seed): errors rose from \(errors) to \(now)")
                if outcome.accepted { accepted += 1 } else { rejected += 1 }
                errors = now
            }
            if errors < initial { improved += 1 }
        }
        // The property must not hold vacuously: steps are taken and errors fall.
        #expect(accepted > 150 && improved > 15, "accepted \(accepted), rejected \(rejected), improved \(improved)")
        #expect(accepted + rejected == 24 * 15)
    }
}
