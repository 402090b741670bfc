import Testing
import MoE
import TestSupport

@Suite("Optimizers")
struct OptimizerTests {
    func data() -> (Matrix, [Int]) {
        var g = SeededGenerator(seed: 11)
        var x = Matrix(rows: 200, columns: 2)
        var labels: [Int] = []
        for i in 0..<200 {
            let c = i % 2
            x[i, 0] = (c == 0 ? -1 : 1) + 0.3 * g.nextNormal()
            x[i, 1] = (c == 0 ? 1 : -1) + 0.3 * g.nextNormal()
            labels.append(c)
        }
        return (x, labels)
    }

    func train<O: Optimizer>(_ optimizer: inout O, steps: Int) -> MixtureOfExperts {
        var g = SeededGenerator(seed: 12)
        var model = MixtureOfExperts(sizes: [2, 8, 2], generator: &g)
        let (x, labels) = data()
        for _ in 0..<steps {
            let (_, gradients, _) = model.lossAndGradients(x, labels: labels)
            optimizer.update(&model, gradients: gradients, frozen: model.frozen)
        }
        return model
    }

    @Test("Adam and SGD learn a separable problem")
    func learns() {
        var adam = Adam(learningRate: 0.05)
        var sgd = SGD(learningRate: 0.1, momentum: 0.9)
        let (x, labels) = data()
        for model in [train(&adam, steps: 60), train(&sgd, steps: 60)] {
            let correct = zip(model.predict(x), labels).filter { $0 == $1 }.count
            #expect(correct >= 196)
        }
    }

    @Test("Adam's first step moves each weight by about the learning rate")
    func adamFirstStep() {
        var g = SeededGenerator(seed: 1)
        var model = MixtureOfExperts(sizes: [3, 2], generator: &g)
        let before = model.trunk.layers[0].parameters["weight"]!
        var adam = Adam(learningRate: 0.01)
        let (_, gradients, _) = model.lossAndGradients(randomMatrix(4, 3, seed: 2), labels: [0, 1, 0, 1])
        adam.update(&model, gradients: gradients, frozen: [])
        let after = model.trunk.layers[0].parameters["weight"]!
        for i in 0..<before.count where gradients["trunk.0.weight"]!.scalars[i] != 0 {
            #expect(abs(abs(after.scalars[i] - before.scalars[i]) - 0.01) < 1e-4)
        }
    }

    @Test("optimizer state round-trips and continues bit for bit")
    func stateRoundTrip() throws {
        var adam = Adam(learningRate: 0.02)
        var model = train(&adam, steps: 5)
        var restored = Adam(learningRate: 0.02)
        try restored.restore(state: adam.state)
        var copy = model
        let (x, labels) = data()
        for _ in 0..<5 {
            let (_, g1, _) = model.lossAndGradients(x, labels: labels)
            adam.update(&model, gradients: g1, frozen: [])
            let (_, g2, _) = copy.lossAndGradients(x, labels: labels)
            restored.update(&copy, gradients: g2, frozen: [])
        }
        #expect(model.parameters == copy.parameters)
        #expect(throws: OptimizerError.unknownStateKey("bogus/x")) {
            try restored.restore(state: ["bogus/x": Matrix(rows: 1, columns: 1)])
        }
    }

    @Test("same seed, same training, bit for bit")
    func determinism() {
        var a = Adam(), b = Adam()
        #expect(train(&a, steps: 10).parameters == train(&b, steps: 10).parameters)
    }
}
