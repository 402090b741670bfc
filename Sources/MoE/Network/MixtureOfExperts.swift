/// The framework's network: a trunk MLP whose logits experts correct, with a gate that
/// decides per input which experts speak.
///
/// ```
/// logits(x) = trunk(x) + Σ_{e routed} g_e(x) · expert_e(x)
/// ```
///
/// With no experts it computes exactly what the trunk computes. Parameters are
/// addressed as `trunk.<layer>.weight`, `experts.<e>.…`, `gate.…`; `frozen` is the set
/// of paths no optimizer may change.
public struct MixtureOfExperts: Parameterized {
    /// The base network, `inputs -> hidden… -> classes`.
    public var trunk: Sequential
    /// Paths of parameters that are never trained again.
    public var frozen: Set<String> = []

    /// A model over an existing trunk.
    public init(trunk: Sequential) {
        self.trunk = trunk
    }

    /// A model whose trunk is an MLP of the given sizes.
    public init(sizes: [Int], activation: Activation = .relu, generator: inout SeededGenerator) {
        self.init(trunk: .mlp(sizes, activation: activation, generator: &generator))
    }

    /// Input width.
    public var inputWidth: Int { trunk.inputWidth }
    /// Number of classes (logits).
    public var classCount: Int { trunk.outputWidth }
    /// Number of hidden layers of the trunk.
    public var hiddenLayerCount: Int { trunk.hiddenLayerIndices.count }

    /// Everything a backward pass needs.
    public struct Forward: Sendable {
        /// The trunk's forward pass.
        public var trunk: Sequential.Trace
        /// The final logits.
        public var logits: Matrix
        /// Hidden activations of layer `l` (post-nonlinearity), for `l in 0..<hiddenLayerCount`.
        public var hidden: [Matrix]
    }

    /// The final logits.
    public func callAsFunction(_ input: Matrix) -> Matrix {
        forward(input).logits
    }

    /// Predicted class of each row.
    public func predict(_ input: Matrix) -> [Int] {
        self(input).argmaxRows()
    }

    /// The forward pass, keeping what `backward` needs.
    public func forward(_ input: Matrix) -> Forward {
        precondition(input.columns == inputWidth, "The model expects \(inputWidth) inputs, got \(input.columns)")
        let trace = trunk.forward(input)
        let hidden = trunk.hiddenLayerIndices.map { trace.outputs[$0] }
        return Forward(trunk: trace, logits: trace.output, hidden: hidden)
    }

    /// The backward pass.
    ///
    /// - Parameters:
    ///   - forward: the forward pass.
    ///   - logitGradient: dLoss/dLogits.
    ///   - hiddenGradients: extra gradients at hidden layer `l`'s activations (the
    ///     covariance cost), keyed by hidden-layer index.
    /// - Returns: parameter gradients by path; frozen paths are not computed.
    public func backward(_ forward: Forward, logitGradient: Matrix, hiddenGradients: [Int: Matrix] = [:]) -> Gradients {
        var gradients = Gradients(skipping: frozen)
        let indices = trunk.hiddenLayerIndices
        var extra: [Int: Matrix] = [:]
        for (l, g) in hiddenGradients {
            precondition(l >= 0 && l < indices.count, "Hidden layer \(l) does not exist")
            extra[indices[l]] = g
        }
        _ = trunk.backward(forward.trunk, outputGradient: logitGradient, extraGradients: extra,
                           prefix: "trunk", gradients: &gradients)
        return gradients
    }

    /// Mean cross-entropy on a batch, its parameter gradients, and the forward pass.
    public func lossAndGradients(_ input: Matrix, labels: [Int]) -> (loss: Float, gradients: Gradients, forward: Forward) {
        let pass = forward(input)
        let (loss, g) = SoftmaxCrossEntropy.lossAndGradient(logits: pass.logits, labels: labels)
        return (loss, backward(pass, logitGradient: g), pass)
    }

    /// Freezes every parameter that exists now.
    public mutating func freezeAll() {
        frozen.formUnion(parameterPaths)
    }

    public func forEachParameter(_ body: (String, Matrix) throws -> Void) rethrows {
        try trunk.forEachParameter { try body("trunk." + $0, $1) }
    }

    public mutating func updateParameters(_ body: (String, inout Matrix) throws -> Void) rethrows {
        try trunk.updateParameters { try body("trunk." + $0, &$1) }
    }
}
