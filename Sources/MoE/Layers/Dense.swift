/// A fully connected layer: `y = x W + b`.
///
/// `weight` is `inputs x outputs` and `bias` is `1 x outputs`, so a batch `x` of
/// `n x inputs` maps to `n x outputs` with one `cblas_sgemm`. In numpy terms the same
/// layer is `x @ weight + bias`.
public struct Dense: Layer {
    public var weight: Matrix
    public var bias: Matrix

    /// How initial weights are drawn.
    public enum Initializer: Sendable {
        /// Uniform in `±sqrt(6 / inputs)`, for ReLU (He et al. 2015).
        case he
        /// Uniform in `±sqrt(6 / (inputs + outputs))`, for tanh and sigmoid (Glorot and Bengio 2010).
        case glorot
        /// All zeros (an expert's output layer starts as "no correction").
        case zeros
    }

    /// A layer with weights drawn from `generator`; the bias starts at zero.
    public init(inputs: Int, outputs: Int, initializer: Initializer = .he, generator: inout SeededGenerator) {
        precondition(inputs > 0 && outputs > 0, "A dense layer needs positive sizes, got \(inputs)->\(outputs)")
        let limit: Float
        switch initializer {
        case .he: limit = (6 / Float(inputs)).squareRoot()
        case .glorot: limit = (6 / Float(inputs + outputs)).squareRoot()
        case .zeros: limit = 0
        }
        weight = limit == 0
            ? Matrix(rows: inputs, columns: outputs)
            : .uniform(rows: inputs, columns: outputs, low: -limit, high: limit, using: &generator)
        bias = Matrix(rows: 1, columns: outputs)
    }

    /// A layer with given weights.
    public init(weight: Matrix, bias: Matrix) {
        precondition(bias.rows == 1 && bias.columns == weight.columns,
                     "Bias must be 1x\(weight.columns), got \(bias.rows)x\(bias.columns)")
        self.weight = weight
        self.bias = bias
    }

    public var inputs: Int { weight.rows }
    public var outputs: Int { weight.columns }
    public var kind: LayerKind { .dense(inputs: inputs, outputs: outputs) }

    public func callAsFunction(_ input: Matrix) -> Matrix {
        var output = Matrix(rows: 0, columns: 0)
        forward(input, into: &output)
        return output
    }

    /// The forward pass into `output`, whose storage is reused when its size fits:
    /// the bias broadcast into every row, then `x W` added by one sgemm (beta = 1).
    public func forward(_ input: Matrix, into output: inout Matrix) {
        precondition(input.columns == inputs, "Dense layer expects \(inputs) inputs, got \(input.columns)")
        let width = outputs, rows = input.rows
        if output.count == rows * width {
            output.reshape(rows: rows, columns: width)
            output.scalars.withUnsafeMutableBufferPointer { p in
                bias.scalars.withUnsafeBufferPointer { b in
                    for r in 0..<rows { (p.baseAddress! + r * width).update(from: b.baseAddress!, count: width) }
                }
            }
        } else {
            output = Matrix(rows: rows, columns: width) { p in
                bias.scalars.withUnsafeBufferPointer { b in
                    for r in 0..<rows { (p.baseAddress! + r * width).initialize(from: b.baseAddress!, count: width) }
                }
            }
        }
        output.addProduct(input, weight)
    }

    public func backward(
        input: Matrix, output: Matrix, outputGradient: Matrix,
        prefix: String, gradients: inout Gradients, needsInputGradient: Bool
    ) -> Matrix? {
        let weightPath = parameterPath(prefix, "weight")
        let biasPath = parameterPath(prefix, "bias")
        if gradients.wants(weightPath) {
            gradients.accumulate(weightPath, .matmul(input, outputGradient, transposeA: true))
        }
        if gradients.wants(biasPath) {
            gradients.accumulate(biasPath, outputGradient.columnSums())
        }
        return needsInputGradient ? .matmul(outputGradient, weight, transposeB: true) : nil
    }

    /// `xᵀ dy` into `gradient` (storage reused when its size fits): the weight gradient.
    public func weightGradient(input: Matrix, outputGradient: Matrix, into gradient: inout Matrix) {
        gradient.reshape(rows: inputs, columns: outputs)
        gradient.addProduct(input, outputGradient, transposeA: true, keep: 0)
    }

    /// `dy Wᵀ` into `gradient` (storage reused when its size fits): dLoss/dInput.
    public func inputGradient(outputGradient: Matrix, into gradient: inout Matrix) {
        gradient.reshape(rows: outputGradient.rows, columns: inputs)
        gradient.addProduct(outputGradient, weight, transposeB: true, keep: 0)
    }

    public func forEachParameter(_ body: (String, Matrix) throws -> Void) rethrows {
        try body("weight", weight)
        try body("bias", bias)
    }

    public mutating func updateParameters(_ body: (String, inout Matrix) throws -> Void) rethrows {
        try body("weight", &weight)
        try body("bias", &bias)
    }
}
