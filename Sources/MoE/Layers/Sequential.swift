/// Layers applied one after another; the trunk of every network in the framework.
///
/// Parameters are addressed as `<index>.weight`, `<index>.bias` (the container that
/// holds the trunk adds its own prefix, e.g. `trunk.0.weight`).
public struct Sequential: Parameterized {
    public var layers: [any Layer]

    public init(_ layers: [any Layer]) {
        self.layers = layers
    }

    /// A multilayer perceptron `sizes[0] -> sizes[1] -> ... -> sizes.last`, with the
    /// activation after every layer but the last.
    ///
    /// ```
    /// var rng = SeededGenerator(seed: 1)
    /// let trunk = Sequential.mlp([784, 256, 128, 10], activation: .relu, generator: &rng)
    /// ```
    public static func mlp(_ sizes: [Int], activation: Activation = .relu, generator: inout SeededGenerator) -> Sequential {
        precondition(sizes.count >= 2, "An MLP needs at least an input and an output size")
        var layers: [any Layer] = []
        for i in 0..<(sizes.count - 1) {
            let last = i == sizes.count - 2
            layers.append(Dense(inputs: sizes[i], outputs: sizes[i + 1],
                                initializer: last ? .glorot : activation.initializer, generator: &generator))
            if !last { layers.append(activation.layer) }
        }
        return Sequential(layers)
    }

    /// Rebuilds layers from their kinds with zero weights (a checkpoint then fills them).
    public init(kinds: [LayerKind]) {
        layers = kinds.map { kind -> any Layer in
            switch kind {
            case let .dense(i, o): Dense(weight: Matrix(rows: i, columns: o), bias: Matrix(rows: 1, columns: o))
            case .relu: ReLU()
            case .tanh: Tanh()
            case .sigmoid: Sigmoid()
            }
        }
    }

    public var kinds: [LayerKind] { layers.map(\.kind) }

    /// Input width (of the first dense layer).
    public var inputWidth: Int {
        for layer in layers { if case let .dense(i, _) = layer.kind { return i } }
        return 0
    }

    /// Output width (of the last dense layer).
    public var outputWidth: Int {
        for layer in layers.reversed() { if case let .dense(_, o) = layer.kind { return o } }
        return 0
    }

    /// Indices of the layers whose outputs are hidden activations: every nonlinearity.
    /// Hidden layer `l` of the network is the output of `layers[hiddenLayerIndices[l]]`.
    public var hiddenLayerIndices: [Int] {
        layers.indices.filter { i in
            switch layers[i].kind {
            case .dense: false
            default: true
            }
        }
    }

    /// Widths of the hidden layers, in order.
    public var hiddenWidths: [Int] {
        hiddenLayerIndices.map { i in
            // The width of a nonlinearity is the width of the dense layer before it.
            for j in stride(from: i, through: 0, by: -1) {
                if case let .dense(_, o) = layers[j].kind { return o }
            }
            return 0
        }
    }

    public func callAsFunction(_ input: Matrix) -> Matrix {
        layers.reduce(input) { x, layer in layer(x) }
    }

    /// Everything a backward pass needs: the input and every layer's output.
    public struct Trace: Sendable {
        public var input: Matrix
        /// `outputs[i]` is what `layers[i]` returned.
        public var outputs: [Matrix]
        /// The network's output.
        public var output: Matrix { outputs.last ?? input }
        /// The input of layer `i`.
        public func input(of i: Int) -> Matrix { i == 0 ? input : outputs[i - 1] }
    }

    /// The forward pass, keeping every intermediate output.
    public func forward(_ input: Matrix) -> Trace {
        var outputs: [Matrix] = []
        outputs.reserveCapacity(layers.count)
        var x = input
        for layer in layers {
            x = layer(x)
            outputs.append(x)
        }
        return Trace(input: input, outputs: outputs)
    }

    /// The backward pass.
    ///
    /// - Parameters:
    ///   - trace: the forward pass.
    ///   - outputGradient: dLoss/dOutput of the last layer (nil when only `extraGradients` speak).
    ///   - extraGradients: gradients added to the output of layer `i` (the covariance cost
    ///     speaks at hidden layers; experts read hidden layers too).
    ///   - prefix: this trunk's path prefix.
    ///   - gradients: where parameter gradients accumulate (frozen paths are skipped).
    ///   - needsInputGradient: whether to return dLoss/dInput.
    public func backward(
        _ trace: Trace, outputGradient: Matrix?, extraGradients: [Int: Matrix] = [:],
        prefix: String = "", gradients: inout Gradients, needsInputGradient: Bool = false
    ) -> Matrix? {
        // The lowest layer with a parameter whose gradient is wanted: below it no
        // gradient needs to flow (a frozen trunk costs no backward products).
        let lowestTrainable = layers.indices.first { j in
            var wanted = false
            layers[j].forEachParameter { name, _ in
                if gradients.wants(parameterPath(parameterPath(prefix, String(j)), name)) { wanted = true }
            }
            return wanted
        } ?? layers.count
        var gradient: Matrix? = outputGradient
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            if let extra = extraGradients[i] {
                if gradient == nil { gradient = extra } else { gradient!.add(extra) }
            }
            guard let g = gradient else { continue }
            gradient = layers[i].backward(
                input: trace.input(of: i), output: trace.outputs[i], outputGradient: g,
                prefix: parameterPath(prefix, String(i)), gradients: &gradients,
                needsInputGradient: needsInputGradient || lowestTrainable < i)
        }
        return needsInputGradient ? gradient : nil
    }

    public func forEachParameter(_ body: (String, Matrix) throws -> Void) rethrows {
        for (i, layer) in layers.enumerated() {
            try layer.forEachParameter { name, value in try body(String(i) + "." + name, value) }
        }
    }

    public mutating func updateParameters(_ body: (String, inout Matrix) throws -> Void) rethrows {
        for i in layers.indices {
            try layers[i].updateParameters { name, value in try body(String(i) + "." + name, &value) }
        }
    }
}
