/// What a layer is, for rebuilding a network from a checkpoint.
public enum LayerKind: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    case dense(inputs: Int, outputs: Int)
    case relu
    case tanh
    case sigmoid

    public var description: String {
        switch self {
        case let .dense(i, o): "dense(\(i)->\(o))"
        case .relu: "relu"
        case .tanh: "tanh"
        case .sigmoid: "sigmoid"
        }
    }
}

/// A differentiable transformation of a batch (rows are samples).
///
/// Forward is `callAsFunction`; `backward` receives the forward pass's input and output
/// and the gradient of the loss with respect to the output, returns the gradient with
/// respect to the input, and accumulates parameter gradients into `gradients`.
public protocol Layer: Parameterized {
    /// The layer's description for checkpoints.
    var kind: LayerKind { get }
    /// The forward pass.
    func callAsFunction(_ input: Matrix) -> Matrix
    /// The backward pass.
    ///
    /// - Parameters:
    ///   - input: what the forward pass received.
    ///   - output: what the forward pass returned.
    ///   - outputGradient: dLoss/dOutput.
    ///   - prefix: this layer's path, under which its parameter gradients are stored.
    ///   - gradients: where parameter gradients accumulate.
    ///   - needsInputGradient: false when nobody below wants dLoss/dInput (saves a product).
    /// - Returns: dLoss/dInput, or nil when not requested.
    func backward(
        input: Matrix, output: Matrix, outputGradient: Matrix,
        prefix: String, gradients: inout Gradients, needsInputGradient: Bool
    ) -> Matrix?
}

extension Layer {
    public func forEachParameter(_ body: (String, Matrix) throws -> Void) rethrows {}
    public mutating func updateParameters(_ body: (String, inout Matrix) throws -> Void) rethrows {}
}
