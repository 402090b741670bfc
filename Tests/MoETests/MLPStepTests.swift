import Testing
import MoE
import TestSupport

/// `MLPStep` must compute exactly what the general path computes.
@Suite("MLP step")
struct MLPStepTests {
    /// `steps` steps of the general path (`lossAndGradients`, then `update`) and of
    /// `MLPStep` from the same model, on batches of the given sizes.
    func compare<O: Optimizer>(
        sizes: [Int], activation: Activation, optimizer: O, batches: [Int], frozen: Set<String> = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var generator = SeededGenerator(seed: 5)
        var start = MixtureOfExperts(sizes: sizes, activation: activation, generator: &generator)
        start.frozen = frozen
        var general = start, fused = start
        var generalOptimizer = optimizer, fusedOptimizer = optimizer
        var step = MLPStep()
        for (n, rows) in batches.enumerated() {
            let x = randomMatrix(rows, sizes[0], seed: UInt64(10 + n))
            let labels = (0..<rows).map { ($0 * 7 + n) % sizes.last! }
            let (loss, gradients, pass) = general.lossAndGradients(x, labels: labels)
            let correct = zip(pass.logits.argmaxRows(), labels).filter { $0 == $1 }.count
            generalOptimizer.update(&general, gradients: gradients, frozen: general.frozen)
            let result = step.train(&fused, input: x, labels: labels, optimizer: &fusedOptimizer)
            #expect(result?.loss == loss, "step \(n)", sourceLocation: sourceLocation)
            #expect(result?.correct == correct, "step \(n)", sourceLocation: sourceLocation)
        }
        for (path, value) in general.parameters {
            // Compared to a Bool first: a failing #expect would diff the arrays for minutes.
            let same = fused.parameters[path]?.scalars == value.scalars
            #expect(same, "\(path)", sourceLocation: sourceLocation)
        }
        let sameState = fusedOptimizer.state == generalOptimizer.state
        #expect(sameState, sourceLocation: sourceLocation)
    }

    @Test("the same parameters and optimizer state, bit for bit, as lossAndGradients and update",
          arguments: Activation.allCases)
    func sameAsGeneralPath(_ activation: Activation) {
        compare(sizes: [12, 9, 7, 4], activation: activation, optimizer: Adam(learningRate: 0.01), batches: [8, 8, 5, 8, 1])
        compare(sizes: [12, 9, 7, 4], activation: activation, optimizer: SGD(learningRate: 0.05, momentum: 0.9),
                batches: [8, 3, 8])
    }

    @Test("at the benchmark's shapes: 784-256-128-10, batch 128")
    func benchmarkShapes() {
        compare(sizes: [784, 256, 128, 10], activation: .relu, optimizer: Adam(), batches: [128, 128, 32])
    }

    @Test("frozen parameters are neither computed nor updated")
    func frozen() {
        compare(sizes: [10, 8, 6, 3], activation: .relu, optimizer: Adam(learningRate: 0.01), batches: [6, 6],
                frozen: ["trunk.0.weight", "trunk.0.bias", "trunk.2.bias"])
        compare(sizes: [10, 8, 6, 3], activation: .tanh, optimizer: Adam(learningRate: 0.01), batches: [6, 6],
                frozen: ["trunk.4.weight"])
        // Everything frozen: the loss is computed, nothing changes.
        compare(sizes: [10, 8, 3], activation: .relu, optimizer: Adam(), batches: [4],
                frozen: ["trunk.0.weight", "trunk.0.bias", "trunk.2.weight", "trunk.2.bias"])
    }

    @Test("a model with experts or another layout is left to the general path")
    func unsupported() {
        var generator = SeededGenerator(seed: 3)
        var model = MixtureOfExperts(sizes: [6, 5, 3], generator: &generator)
        #expect(MLPStep.supports(model))
        model.grow(at: 0, detectors: [0, 1], hiddenWidth: 2, generator: &generator)
        #expect(!MLPStep.supports(model))
        var adam = Adam()
        var step = MLPStep()
        let before = model.parameters
        #expect(step.train(&model, input: randomMatrix(4, 6, seed: 1), labels: [0, 1, 2, 0], optimizer: &adam) == nil)
        let unchanged = model.parameters == before
        #expect(unchanged)
        let twoActivations = MixtureOfExperts(trunk: Sequential([Dense(inputs: 4, outputs: 3, generator: &generator), ReLU(), Tanh()]))
        #expect(!MLPStep.supports(twoActivations))
    }

    @Test("Trainer trains a plain MLP exactly as before: the same epoch, bit for bit")
    func trainer() {
        var generator = SeededGenerator(seed: 8)
        let start = MixtureOfExperts(sizes: [10, 8, 4], generator: &generator)
        let x = randomMatrix(50, 10, seed: 9)
        let labels = (0..<50).map { $0 % 4 }
        var fused = start
        var trainer = Trainer(optimizer: Adam(learningRate: 0.01), batchSize: 16, seed: 2)
        let summary = trainer.epoch(&fused, features: x, labels: labels)
        // The same epoch by hand through the general path.
        var general = start
        var adam = Adam(learningRate: 0.01)
        var order = SeededGenerator(seed: 2)
        let permutation = order.permutation(50)
        var lossSum = 0.0
        for start in stride(from: 0, to: 50, by: 16) {
            let rows = permutation[start..<min(start + 16, 50)]
            let (loss, gradients, _) = general.lossAndGradients(x.gatherRows(rows), labels: rows.map { labels[$0] })
            adam.update(&general, gradients: gradients, frozen: general.frozen)
            lossSum += Double(loss) * Double(rows.count)
        }
        let same = fused.parameters == general.parameters
        #expect(same)
        #expect(summary.meanLoss == lossSum / 50)
        #expect(trainer.steps == 4)
    }
}
