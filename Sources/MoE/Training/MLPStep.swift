/// A training step of a plain MLP (a trunk of dense layers, each followed by at most one
/// activation, with no experts and no output extensions) that keeps its buffers from step
/// to step and updates each layer as soon as its gradients are ready.
///
/// It computes what `MixtureOfExperts.lossAndGradients` followed by
/// `Optimizer.update(_:gradients:frozen:)` compute, bit for bit: the same products in the
/// same shapes, the same elementwise operations on the same values, and every gradient
/// from the weights before the step. What it saves is the rest of the step: no
/// allocation (freshly allocated buffers of a few hundred kilobytes cost page faults on
/// every step), the activation applied in place on the dense layer's output, the
/// softmax turned into its gradient in place, no dictionary of gradients, and each
/// layer's optimizer update made while its gradient is still in cache.
///
/// ```
/// var step = MLPStep()
/// let (loss, correct) = step.train(&model, input: x, labels: y, optimizer: &adam)!
/// ```
public struct MLPStep: Sendable {
    /// Per dense layer `j`: its output after its activation (the logits, then their
    /// gradient, for the last layer), dLoss/d(that output) (below the last layer), and
    /// the gradients of its weight and bias.
    private var activations: [Matrix] = []
    private var gradients: [Matrix] = []
    private var weightGradients: [Matrix] = []
    private var biasGradients: [Matrix] = []

    public init() {}

    /// The layout of a trunk this step can train: the index of every dense layer in
    /// `layers` and the activation that follows it, or nil for another layout.
    static func plan(_ trunk: Sequential) -> [(dense: Int, activation: Activation?)]? {
        var plan: [(dense: Int, activation: Activation?)] = []
        for (i, layer) in trunk.layers.enumerated() {
            if case .dense = layer.kind {
                plan.append((i, nil))
            } else if let activation = Activation(kind: layer.kind), let last = plan.last,
                      last.activation == nil, last.dense == i - 1 {
                plan[plan.count - 1].activation = activation
            } else {
                return nil
            }
        }
        return plan.isEmpty ? nil : plan
    }

    /// Whether `train` handles `model` (no experts, no output extensions, a trunk of dense
    /// layers each followed by at most one activation).
    public static func supports(_ model: MixtureOfExperts) -> Bool {
        model.experts.isEmpty && model.headExtensions.isEmpty && plan(model.trunk) != nil
    }

    /// One step on `(input, labels)`: forward, mean cross-entropy, backward and an
    /// optimizer update of every trainable trunk parameter.
    ///
    /// - Returns: the loss before the step and how many rows the model classified
    ///   correctly before it, or nil (and nothing done) when `supports(model)` is false.
    public mutating func train<O: Optimizer>(
        _ model: inout MixtureOfExperts, input: Matrix, labels: [Int], optimizer: inout O
    ) -> (loss: Float, correct: Int)? {
        guard model.experts.isEmpty, model.headExtensions.isEmpty, let plan = Self.plan(model.trunk) else { return nil }
        precondition(input.columns == model.inputWidth, "The model expects \(model.inputWidth) inputs, got \(input.columns)")
        precondition(labels.count == input.rows, "\(labels.count) labels for \(input.rows) rows")
        if activations.count != plan.count {
            let empty = Matrix(rows: 0, columns: 0)
            activations = Array(repeating: empty, count: plan.count)
            gradients = activations
            weightGradients = activations
            biasGradients = activations
        }
        // Forward.
        for (j, layer) in plan.enumerated() {
            Self.withDense(model.trunk, layer.dense) { dense in
                dense.forward(j == 0 ? input : activations[j - 1], into: &activations[j])
            }
            layer.activation?.apply(&activations[j])
        }
        let last = plan.count - 1
        let correct = Self.correctCount(activations[last], labels: labels)
        // The logits become their own gradient.
        let loss = SoftmaxCrossEntropy.lossAndGradient(inPlace: &activations[last], labels: labels)
        swap(&gradients[last], &activations[last])
        defer { swap(&gradients[last], &activations[last]) }

        // Backward from the top layer down to the lowest trainable one. A layer is
        // updated once the gradient below it has been computed with its weights.
        let frozen = model.frozen
        let trainable = plan.map { layer in
            (weight: !frozen.contains("trunk.\(layer.dense).weight"), bias: !frozen.contains("trunk.\(layer.dense).bias"))
        }
        guard let lowest = trainable.firstIndex(where: { $0.weight || $0.bias }) else { return (loss, correct) }
        for j in stride(from: last, through: lowest, by: -1) {
            let index = plan[j].dense
            Self.withDense(model.trunk, index) { dense in
                if trainable[j].weight {
                    dense.weightGradient(input: j == 0 ? input : activations[j - 1], outputGradient: gradients[j],
                                         into: &weightGradients[j])
                }
                if trainable[j].bias { gradients[j].columnSums(into: &biasGradients[j]) }
                if j > lowest { dense.inputGradient(outputGradient: gradients[j], into: &gradients[j - 1]) }
            }
            let (weightGradient, biasGradient) = (weightGradients[j], biasGradients[j])
            model.trunk.layers[index].updateParameters { name, value in
                if name == "weight" && trainable[j].weight {
                    optimizer.update(parameter: &value, gradient: weightGradient, path: "trunk.\(index).weight")
                } else if name == "bias" && trainable[j].bias {
                    optimizer.update(parameter: &value, gradient: biasGradient, path: "trunk.\(index).bias")
                }
            }
            if j > lowest { plan[j - 1].activation?.backward(&gradients[j - 1], output: activations[j - 1]) }
        }
        return (loss, correct)
    }

    /// Calls `body` with dense layer `index` of `trunk`; the copy ends with the call, so
    /// that updating the layer afterwards does not copy its weights.
    private static func withDense<R>(_ trunk: Sequential, _ index: Int, _ body: (Dense) -> R) -> R {
        body(trunk.layers[index] as! Dense)
    }

    /// Rows whose largest logit (the first, on ties) is at their label.
    private static func correctCount(_ logits: Matrix, labels: [Int]) -> Int {
        let width = logits.columns
        guard width > 0 else { return 0 }
        return logits.scalars.withUnsafeBufferPointer { p in
            var correct = 0
            for r in 0..<logits.rows {
                var best = 0
                var bestValue = p[r * width]
                for c in 1..<width where p[r * width + c] > bestValue {
                    best = c
                    bestValue = p[r * width + c]
                }
                if best == labels[r] { correct += 1 }
            }
            return correct
        }
    }
}
