/// A streaming classifier: fixed random ReLU features, class-conditional statistics of
/// every sample seen, and the linear discriminant fitted to them.
///
/// ```
/// f = max(0, x W_f + b_f)                     (RandomFeatures, never trained)
/// logits = f W + b                            (W, b from ClassStatistics.fitDiscriminant)
/// ```
///
/// Observing a batch only adds to the statistics; ``refit(classCount:)`` turns them into
/// the head. Because the statistics are sums, the fitted head does not depend on the
/// order in which the samples arrived, so it does not forget earlier classes. It serves
/// as the class-posterior gate of a mixture of experts and, alone, as a baseline.
public struct LinearDiscriminant: Sendable {
    /// The random feature map.
    public let features: RandomFeatures
    /// What has been seen, over `features`.
    public private(set) var statistics: ClassStatistics
    /// How the covariance is shrunk when fitting.
    public var shrinkage: Shrinkage
    /// `featureCount x classes` (no columns before the first fit).
    public private(set) var weight: Matrix
    /// `1 x classes`.
    public private(set) var bias: Matrix

    /// An empty discriminant over `featureCount` random features drawn from `seed`.
    public init(inputCount: Int, featureCount: Int = 2048, seed: UInt64, shrinkage: Shrinkage = .oas) {
        self.init(features: RandomFeatures(inputCount: inputCount, featureCount: featureCount, seed: seed),
                  shrinkage: shrinkage)
    }

    /// An empty discriminant over given features.
    public init(features: RandomFeatures, shrinkage: Shrinkage = .oas) {
        self.features = features
        self.shrinkage = shrinkage
        statistics = ClassStatistics(featureCount: features.featureCount)
        weight = Matrix(rows: features.featureCount, columns: 0)
        bias = Matrix(rows: 1, columns: 0)
    }

    /// Whether a head has been fitted.
    public var isFitted: Bool { weight.columns > 0 }

    /// Adds a batch (`n x inputs`, with `n` labels) to the statistics; the head is not
    /// refitted.
    public mutating func observe(_ input: Matrix, labels: [Int]) {
        statistics.update(features: features(input), labels: labels)
    }

    /// Fits the head to everything observed so far.
    ///
    /// - Parameter classCount: Output width, at least the number of labels seen.
    public mutating func refit(classCount: Int? = nil) throws(DiscriminantError) {
        (weight, bias) = try statistics.fitDiscriminant(shrinkage: shrinkage, classCount: classCount)
    }

    /// Class logits of a batch; a softmax over them is the class posterior.
    public func logits(_ input: Matrix) -> Matrix {
        precondition(isFitted, "The discriminant must be fitted (refit) before it predicts")
        var output = Matrix(rows: input.rows, columns: weight.columns)
        output.addRowVector(bias)
        output.addProduct(features(input), weight)
        return output
    }

    /// The most probable class of each row.
    public func predict(_ input: Matrix) -> [Int] {
        logits(input).argmaxRows()
    }
}
