/// `max(0, x)`, elementwise.
public struct ReLU: Layer {
    public init() {}
    public var kind: LayerKind { .relu }
    public func callAsFunction(_ input: Matrix) -> Matrix { input.map { max(0, $0) } }
    public func backward(
        input: Matrix, output: Matrix, outputGradient: Matrix,
        prefix: String, gradients: inout Gradients, needsInputGradient: Bool
    ) -> Matrix? {
        guard needsInputGradient else { return nil }
        return outputGradient.zip(output) { g, y in y > 0 ? g : 0 }
    }
}

/// The hyperbolic tangent, elementwise; its derivative is `1 - y²`.
public struct Tanh: Layer {
    public init() {}
    public var kind: LayerKind { .tanh }
    public func callAsFunction(_ input: Matrix) -> Matrix { input.map { _tanh($0) } }
    public func backward(
        input: Matrix, output: Matrix, outputGradient: Matrix,
        prefix: String, gradients: inout Gradients, needsInputGradient: Bool
    ) -> Matrix? {
        guard needsInputGradient else { return nil }
        return outputGradient.zip(output) { g, y in g * (1 - y * y) }
    }
}

/// The logistic function `1 / (1 + e^-x)`, elementwise; its derivative is `y (1 - y)`.
public struct Sigmoid: Layer {
    public init() {}
    public var kind: LayerKind { .sigmoid }
    public func callAsFunction(_ input: Matrix) -> Matrix {
        input.map { x in
            // Two branches so that neither exp overflows.
            if x >= 0 { return 1 / (1 + _exp(-x)) }
            let e = _exp(x)
            return e / (1 + e)
        }
    }
    public func backward(
        input: Matrix, output: Matrix, outputGradient: Matrix,
        prefix: String, gradients: inout Gradients, needsInputGradient: Bool
    ) -> Matrix? {
        guard needsInputGradient else { return nil }
        return outputGradient.zip(output) { g, y in g * y * (1 - y) }
    }
}

/// The hidden-unit nonlinearity of a multilayer perceptron.
public enum Activation: String, Sendable, Codable, CaseIterable {
    case relu, tanh, sigmoid

    /// The layer that computes it.
    public var layer: any Layer {
        switch self {
        case .relu: ReLU()
        case .tanh: Tanh()
        case .sigmoid: Sigmoid()
        }
    }

    /// The initializer that suits it.
    public var initializer: Dense.Initializer {
        self == .relu ? .he : .glorot
    }
}
