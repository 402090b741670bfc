/// A layer that applies one ``Activation`` elementwise: its forward and backward passes
/// are the activation's own, and it has no parameters.
public protocol ActivationLayer: Layer {
    /// The nonlinearity this layer applies.
    static var activation: Activation { get }
}

extension ActivationLayer {
    public func callAsFunction(_ input: Matrix) -> Matrix { Self.activation.applied(to: input) }

    public func backward(
        input: Matrix, output: Matrix, outputGradient: Matrix,
        prefix: String, gradients: inout Gradients, needsInputGradient: Bool
    ) -> Matrix? {
        guard needsInputGradient else { return nil }
        var gradient = outputGradient
        Self.activation.backward(&gradient, output: output)
        return gradient
    }
}

/// `max(0, x)`, elementwise.
public struct ReLU: ActivationLayer {
    public init() {}
    public static var activation: Activation { .relu }
    public var kind: LayerKind { .relu }
}

/// The hyperbolic tangent, elementwise; its derivative is `1 - y²`.
public struct Tanh: ActivationLayer {
    public init() {}
    public static var activation: Activation { .tanh }
    public var kind: LayerKind { .tanh }
}

/// The logistic function `1 / (1 + e^-x)`, elementwise; its derivative is `y (1 - y)`.
public struct Sigmoid: ActivationLayer {
    public init() {}
    public static var activation: Activation { .sigmoid }
    public var kind: LayerKind { .sigmoid }
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

    /// The activation a layer of this kind computes, or nil for a dense layer.
    public init?(kind: LayerKind) {
        switch kind {
        case .relu: self = .relu
        case .tanh: self = .tanh
        case .sigmoid: self = .sigmoid
        case .dense: return nil
        }
    }

    /// The initializer that suits it.
    public var initializer: Dense.Initializer {
        self == .relu ? .he : .glorot
    }

    /// A new matrix with the nonlinearity applied to every element of `input` (one pass,
    /// no copy of the input first).
    public func applied(to input: Matrix) -> Matrix {
        Matrix(rows: input.rows, columns: input.columns) { out in
            input.scalars.withUnsafeBufferPointer { x in
                switch self {
                case .relu: if x.count > 0 { Kernels.relu(x.baseAddress!, out.baseAddress!, count: x.count) }
                case .tanh: for i in 0..<x.count { out[i] = _tanh(x[i]) }
                case .sigmoid: for i in 0..<x.count { out[i] = Self.sigmoid(x[i]) }
                }
            }
        }
    }

    /// Applies the nonlinearity to every element of `values`, in place (the same values
    /// as ``applied(to:)``, bit for bit).
    public func apply(_ values: inout Matrix) {
        values.scalars.withUnsafeMutableBufferPointer { x in
            switch self {
            case .relu: if x.count > 0 { Kernels.relu(x.baseAddress!, x.baseAddress!, count: x.count) }
            case .tanh: for i in 0..<x.count { x[i] = _tanh(x[i]) }
            case .sigmoid: for i in 0..<x.count { x[i] = Self.sigmoid(x[i]) }
            }
        }
    }

    /// Turns dLoss/dOutput into dLoss/dInput in place, with the derivative read from the
    /// layer's output `output` (`y > 0`, `1 - y²`, `y (1 - y)`).
    public func backward(_ gradient: inout Matrix, output: Matrix) {
        precondition(gradient.rows == output.rows && gradient.columns == output.columns,
                     "Gradient is \(gradient.rows)x\(gradient.columns), output \(output.rows)x\(output.columns)")
        gradient.scalars.withUnsafeMutableBufferPointer { g in
            output.scalars.withUnsafeBufferPointer { y in
                switch self {
                case .relu: if g.count > 0 { Kernels.reluBackward(g.baseAddress!, output: y.baseAddress!, count: g.count) }
                case .tanh: for i in 0..<g.count { g[i] = g[i] * (1 - y[i] * y[i]) }
                case .sigmoid: for i in 0..<g.count { g[i] = g[i] * y[i] * (1 - y[i]) }
                }
            }
        }
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        // Two branches so that neither exp overflows.
        if x >= 0 { return 1 / (1 + _exp(-x)) }
        let e = _exp(x)
        return e / (1 + e)
    }
}
