/// Fixed random ReLU features of the input, drawn once from a seed and never trained.
///
/// ```
/// φ(x) = max(0, x W + b)     W: inputs x features,  b: 1 x features
/// W_ij ~ N(0, weightScale² / inputs) rounded to a grid of σ/16 or finer,   b_j ~ N(0, biasScale²)
/// ```
///
/// A linear model over many such features approximates a kernel machine (random features
/// of the arc-cosine kernel: Cho and Saul, "Kernel methods for deep learning", NIPS 2009;
/// Rahimi and Recht, "Random features for large-scale kernel machines", NIPS 2007). Because
/// nothing here is learned, statistics gathered over these features do not depend on
/// the order of the stream.
public struct RandomFeatures: Sendable, Equatable {
    /// `inputs x features`.
    public private(set) var weight: Matrix
    /// `1 x features`.
    public private(set) var bias: Matrix

    /// Draws the projection from `seed`: the same seed gives the same features, bit for bit.
    ///
    /// - Parameters:
    ///   - inputCount: Width of the input rows.
    ///   - featureCount: Number of random features (2048 by default).
    ///   - seed: Seed of the projection.
    ///   - weightScale: Standard deviation of `x W` for an input of unit mean square.
    ///   - biasScale: Standard deviation of the bias. Only its ratio to the spread of
    ///     `x W` matters to a discriminant (which is invariant to a common scale). On
    ///     Fashion-MNIST pixels in [0, 1] (root mean square 0.41), 0 and 0.3 gave the same
    ///     accuracy and 1 was 0.7-1 point worse; 0.3 is the default.
    public init(
        inputCount: Int, featureCount: Int = 2048, seed: UInt64,
        weightScale: Float = 1, biasScale: Float = 0.3
    ) {
        precondition(inputCount > 0 && featureCount > 0,
                     "Random features need positive sizes, got \(inputCount) inputs and \(featureCount) features")
        precondition(weightScale > 0 && biasScale >= 0, "Random feature scales must be positive (bias: non-negative)")
        var generator = SeededGenerator(seed: seed)
        weight = .gridNormal(rows: inputCount, columns: featureCount,
                         standardDeviation: weightScale / Float(inputCount).squareRoot(), using: &generator)
        bias = .normal(rows: 1, columns: featureCount, standardDeviation: biasScale, using: &generator)
    }

    /// Features over a given projection (a restored checkpoint).
    public init(weight: Matrix, bias: Matrix) {
        precondition(bias.rows == 1 && bias.columns == weight.columns,
                     "Random feature bias must be 1x\(weight.columns), got \(bias.rows)x\(bias.columns)")
        self.weight = weight
        self.bias = bias
    }

    /// Width of the input.
    public var inputCount: Int { weight.rows }
    /// Number of features.
    public var featureCount: Int { weight.columns }

    /// `max(0, x W + b)` for a batch `x` of `n x inputs`: one `cblas_sgemm`.
    public func callAsFunction(_ input: Matrix) -> Matrix {
        precondition(input.columns == inputCount,
                     "Random features expect \(inputCount) inputs, got \(input.columns)")
        var output = Matrix(rows: input.rows, columns: featureCount)
        output.addRowVector(bias)
        output.addProduct(input, weight)
        output.apply { max(0, $0) }
        return output
    }
}
