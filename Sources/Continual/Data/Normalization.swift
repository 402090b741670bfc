import MoE

/// Per-feature standardisation, fitted on training data and applied unchanged to any
/// later data (test sets, stream batches):
///
/// ```
/// z[i][j] = (x[i][j] - mean[j]) / std[j]
/// std[j]  = max(sqrt(mean_i (x[i][j] - mean[j])^2), minimumDeviation)
/// ```
///
/// Statistics are accumulated in Double (two passes), so they do not depend on the
/// number of rows beyond rounding of the final Float.
public struct Standardizer: Equatable, Sendable, Codable {
    /// Mean of each feature.
    public var mean: [Float]
    /// Standard deviation of each feature (population), floored at the minimum deviation
    /// so constant features pass through centred instead of dividing by zero.
    public var standardDeviation: [Float]

    public init(mean: [Float], standardDeviation: [Float]) {
        precondition(mean.count == standardDeviation.count, "One mean and one deviation per feature")
        precondition(standardDeviation.allSatisfy { $0 > 0 }, "Standard deviations must be positive")
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// Fits the mean and deviation of each column of `features`.
    public init(fitting features: Matrix, minimumDeviation: Float = 1e-6) {
        precondition(features.rows > 0, "Cannot fit a standardizer on no samples")
        precondition(minimumDeviation > 0, "The minimum deviation must be positive")
        let (n, d) = (features.rows, features.columns)
        var sum = [Double](repeating: 0, count: d)
        var squares = [Double](repeating: 0, count: d)
        features.scalars.withUnsafeBufferPointer { x in
            sum.withUnsafeMutableBufferPointer { s in
                for i in 0..<n { for j in 0..<d { s[j] += Double(x[i * d + j]) } }
                for j in 0..<d { s[j] /= Double(n) }
                squares.withUnsafeMutableBufferPointer { q in
                    for i in 0..<n {
                        for j in 0..<d {
                            let delta = Double(x[i * d + j]) - s[j]
                            q[j] += delta * delta
                        }
                    }
                }
            }
        }
        mean = sum.map { Float($0) }
        standardDeviation = squares.map { Swift.max(Float(($0 / Double(n)).squareRoot()), minimumDeviation) }
    }

    /// Number of features.
    public var width: Int { mean.count }

    /// Standardises `features` in place.
    public func apply(to features: inout Matrix) {
        precondition(features.columns == width,
                     "Standardizer fitted on \(width) features applied to \(features.columns)")
        let d = width
        let scale = standardDeviation.map { 1 / $0 }
        features.scalars.withUnsafeMutableBufferPointer { x in
            mean.withUnsafeBufferPointer { m in
                scale.withUnsafeBufferPointer { s in
                    for i in 0..<(x.count / Swift.max(d, 1)) {
                        for j in 0..<d { x[i * d + j] = (x[i * d + j] - m[j]) * s[j] }
                    }
                }
            }
        }
    }

    /// The standardised copy of `features`.
    public func callAsFunction(_ features: Matrix) -> Matrix {
        var copy = features
        apply(to: &copy)
        return copy
    }
}

/// Per-feature scaling to [0, 1] by the range seen in training data:
///
/// ```
/// u[i][j] = (x[i][j] - min[j]) / (max[j] - min[j])     (constant features: x - min)
/// ```
///
/// Later data outside the fitted range maps outside [0, 1]; it is not clipped.
public struct UnitScaler: Equatable, Sendable, Codable {
    /// Smallest value of each feature in the fitted data.
    public var minimum: [Float]
    /// Largest value of each feature in the fitted data.
    public var maximum: [Float]

    /// Fits the range of each column of `features`.
    public init(fitting features: Matrix) {
        precondition(features.rows > 0, "Cannot fit a scaler on no samples")
        let (n, d) = (features.rows, features.columns)
        var low = [Float](repeating: .infinity, count: d)
        var high = [Float](repeating: -.infinity, count: d)
        features.scalars.withUnsafeBufferPointer { x in
            for i in 0..<n {
                for j in 0..<d {
                    low[j] = Swift.min(low[j], x[i * d + j])
                    high[j] = Swift.max(high[j], x[i * d + j])
                }
            }
        }
        minimum = low
        maximum = high
    }

    /// Number of features.
    public var width: Int { minimum.count }

    /// Scales `features` in place.
    public func apply(to features: inout Matrix) {
        precondition(features.columns == width, "Scaler fitted on \(width) features applied to \(features.columns)")
        let d = width
        let scale = zip(minimum, maximum).map { $1 > $0 ? 1 / ($1 - $0) : 1 }
        features.scalars.withUnsafeMutableBufferPointer { x in
            for i in 0..<(x.count / Swift.max(d, 1)) {
                for j in 0..<d { x[i * d + j] = (x[i * d + j] - minimum[j]) * scale[j] }
            }
        }
    }

    /// The scaled copy of `features`.
    public func callAsFunction(_ features: Matrix) -> Matrix {
        var copy = features
        apply(to: &copy)
        return copy
    }
}
