import Testing
import MoE
import TestSupport

/// Every backward pass against central finite differences computed in Float64.
@Suite("Gradients")
struct GradientTests {
    /// A scalar loss of a layer's output: Σ r ⊙ y with a fixed random r, in Double.
    func projection(_ y: Matrix, _ r: Matrix) -> Double {
        var s = 0.0
        for i in 0..<y.count { s += Double(y.scalars[i]) * Double(r.scalars[i]) }
        return s
    }

    func checkLayer(_ layer: any Layer, inputWidth: Int, outputWidth: Int, seed: UInt64) {
        let x = randomMatrix(5, inputWidth, seed: seed, scale: 1.5)
        let r = randomMatrix(5, outputWidth, seed: seed + 1)
        let y = layer(x)
        var gradients = Gradients()
        let dx = layer.backward(input: x, output: y, outputGradient: r, prefix: "l",
                                gradients: &gradients, needsInputGradient: true)!
        let numericalX = numericalGradient(of: x) { projection(layer($0), r) }
        #expect(gradientError(analytic: dx, numerical: numericalX) < 2e-2, "input gradient of \(layer.kind)")
        layer.forEachParameter { name, value in
            let numerical = numericalGradient(of: value) { perturbed in
                var copy = layer
                copy.updateParameters { n, v in if n == name { v = perturbed } }
                return projection(copy(x), r)
            }
            let analytic = gradients["l." + name]!
            #expect(gradientError(analytic: analytic, numerical: numerical) < 2e-2, "\(name) of \(layer.kind)")
        }
    }

    @Test("dense layer")
    func dense() {
        var g = SeededGenerator(seed: 1)
        var layer = Dense(inputs: 4, outputs: 3, generator: &g)
        layer.bias = randomMatrix(1, 3, seed: 2)
        checkLayer(layer, inputWidth: 4, outputWidth: 3, seed: 10)
    }

    @Test("activations", arguments: Activation.allCases)
    func activation(_ activation: Activation) {
        checkLayer(activation.layer, inputWidth: 6, outputWidth: 6, seed: 20)
    }

    @Test("softmax cross-entropy")
    func softmaxCrossEntropy() {
        let logits = randomMatrix(6, 4, seed: 3, scale: 3)
        let labels = [0, 3, 2, 1, 1, 0]
        let (loss, gradient) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels)
        let perSample = SoftmaxCrossEntropy.losses(logits: logits, labels: labels)
        #expect(isClose(Double(loss), perSample.reduce(0.0) { $0 + Double($1) } / 6, tolerance: 1e-5))
        let numerical = numericalGradient(of: logits) { z in
            SoftmaxCrossEntropy.losses(logits: z, labels: labels).reduce(0.0) { $0 + Double($1) } / 6
        }
        #expect(gradientError(analytic: gradient, numerical: numerical) < 1e-2)
        let p = SoftmaxCrossEntropy.softmax(Matrix([[1000, 0], [-1000, 0]]))
        #expect(p.isFinite && p[0, 0] == 1 && p[1, 1] == 1)
    }

    @Test("the whole network, with an extra gradient at a hidden layer", arguments: Activation.allCases)
    func network(_ activation: Activation) {
        var g = SeededGenerator(seed: 5)
        let model = MixtureOfExperts(sizes: [5, 7, 6, 3], activation: activation, generator: &g)
        let x = randomMatrix(8, 5, seed: 6, scale: 1.5)
        let labels = [0, 1, 2, 0, 1, 2, 2, 1]
        let hiddenProjection = randomMatrix(8, 6, seed: 7)
        func loss(_ m: MixtureOfExperts) -> Double {
            let pass = m.forward(x)
            let ce = SoftmaxCrossEntropy.losses(logits: pass.logits, labels: labels).reduce(0.0) { $0 + Double($1) } / 8
            return ce + projection(pass.hidden[1], hiddenProjection)
        }
        let pass = model.forward(x)
        let (_, dz) = SoftmaxCrossEntropy.lossAndGradient(logits: pass.logits, labels: labels)
        let gradients = model.backward(pass, logitGradient: dz, hiddenGradients: [1: hiddenProjection])
        model.forEachParameter { path, value in
            // Float32 forward passes limit the numerical gradient's precision to ~1e-4
            // absolute; a wrong backward pass is off by order one.
            let numerical = numericalGradient(of: value, step: 4e-3) { perturbed in
                var copy = model
                copy.updateParameters { p, v in if p == path { v = perturbed } }
                return loss(copy)
            }
            #expect(gradientError(analytic: gradients[path]!, numerical: numerical, floor: 1e-2) < 2e-2, "\(path)")
        }
    }

    @Test("frozen parameters get no gradient and no update")
    func frozen() {
        var g = SeededGenerator(seed: 8)
        var model = MixtureOfExperts(sizes: [4, 5, 3], generator: &g)
        model.frozen = ["trunk.0.weight", "trunk.0.bias"]
        let before = model.trunk.layers[0].parameters
        let x = randomMatrix(10, 4, seed: 9)
        let labels = (0..<10).map { $0 % 3 }
        var adam = Adam(learningRate: 0.01)
        var sgd = SGD(learningRate: 0.1)
        for step in 0..<20 {
            let (_, gradients, _) = model.lossAndGradients(x, labels: labels)
            #expect(gradients["trunk.0.weight"] == nil)
            #expect(gradients["trunk.2.weight"] != nil)
            if step % 2 == 0 {
                adam.update(&model, gradients: gradients, frozen: model.frozen)
            } else {
                sgd.update(&model, gradients: gradients, frozen: model.frozen)
            }
        }
        #expect(model.trunk.layers[0].parameters == before)
        #expect(adam.state["m/trunk.0.weight"] == nil)
    }
}
