import MoE
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Reference computations in Float64 with plain loops, written the obvious way, to check
// the streaming statistics and the BLAS/LAPACK-based discriminant against.

/// Samples of a labelled Gaussian mixture: class `c` has mean `means[c]`, unit variance
/// times `spread`, `perClass` samples each, rows shuffled.
func gaussianClasses(
    means: [[Float]], perClass: Int, spread: Float = 1, seed: UInt64
) -> (features: Matrix, labels: [Int]) {
    var generator = SeededGenerator(seed: seed)
    let width = means[0].count
    var rows: [[Float]] = []
    var labels: [Int] = []
    for (label, mean) in means.enumerated() {
        for _ in 0..<perClass {
            rows.append((0..<width).map { mean[$0] + spread * generator.nextNormal() })
            labels.append(label)
        }
    }
    let order = generator.permutation(rows.count)
    return (Matrix(order.map { rows[$0] }), order.map { labels[$0] })
}

/// The within-class scatter computed directly (two passes, Float64).
func directWithinClassScatter(_ x: Matrix, labels: [Int], classCount: Int) -> [Double] {
    let p = x.columns
    var sums = [Double](repeating: 0, count: classCount * p)
    var counts = [Double](repeating: 0, count: classCount)
    for r in 0..<x.rows {
        counts[labels[r]] += 1
        for j in 0..<p { sums[labels[r] * p + j] += Double(x[r, j]) }
    }
    var scatter = [Double](repeating: 0, count: p * p)
    for r in 0..<x.rows {
        let c = labels[r]
        let centred = (0..<p).map { Double(x[r, $0]) - sums[c * p + $0] / counts[c] }
        for i in 0..<p { for j in 0..<p { scatter[i * p + j] += centred[i] * centred[j] } }
    }
    return scatter
}

/// Solves `A X = B` for symmetric `A` (`p x p`) and the columns of `B` (`p x k`) by
/// Gaussian elimination with partial pivoting.
func referenceSolve(_ a: [Double], _ b: [Double], p: Int, k: Int) -> [Double] {
    var a = a, b = b
    for column in 0..<p {
        let pivot = (column..<p).max { abs(a[$0 * p + column]) < abs(a[$1 * p + column]) }!
        if pivot != column {
            for j in 0..<p { a.swapAt(column * p + j, pivot * p + j) }
            for j in 0..<k { b.swapAt(column * k + j, pivot * k + j) }
        }
        for row in (column + 1)..<p {
            let factor = a[row * p + column] / a[column * p + column]
            for j in column..<p { a[row * p + j] -= factor * a[column * p + j] }
            for j in 0..<k { b[row * k + j] -= factor * b[column * k + j] }
        }
    }
    var x = [Double](repeating: 0, count: p * k)
    for row in stride(from: p - 1, through: 0, by: -1) {
        for j in 0..<k {
            var value = b[row * k + j]
            for i in (row + 1)..<p { value -= a[row * p + i] * x[i * k + j] }
            x[row * k + j] = value / a[row * p + row]
        }
    }
    return x
}

/// scikit-learn's `LinearDiscriminantAnalysis(solver="lsqr")` over a pooled covariance
/// shrunk by Oracle Approximating Shrinkage (Chen et al. 2010, equation 23), in Float64:
/// weight `p x C` and bias `C`, for labels `0..<classCount` all present.
func referenceDiscriminant(
    _ x: Matrix, labels: [Int], classCount: Int, fixedShrinkage: Double? = nil
) -> (weight: [Double], bias: [Double], shrinkage: Double) {
    let n = Double(x.rows), p = x.columns
    var means = [Double](repeating: 0, count: classCount * p)
    var counts = [Double](repeating: 0, count: classCount)
    for r in 0..<x.rows {
        counts[labels[r]] += 1
        for j in 0..<p { means[labels[r] * p + j] += Double(x[r, j]) }
    }
    for c in 0..<classCount { for j in 0..<p { means[c * p + j] /= counts[c] } }
    var covariance = directWithinClassScatter(x, labels: labels, classCount: classCount).map { $0 / n }
    let trace = (0..<p).reduce(0.0) { $0 + covariance[$1 * p + $1] }
    let traceOfSquare = covariance.reduce(0.0) { $0 + $1 * $1 }
    let dp = Double(p)
    let rho = fixedShrinkage ?? min(1, ((1 - 2 / dp) * traceOfSquare + trace * trace)
        / ((n + 1 - 2 / dp) * (traceOfSquare - trace * trace / dp)))
    for i in 0..<p {
        for j in 0..<p { covariance[i * p + j] *= 1 - rho }
        covariance[i * p + i] += rho * trace / dp
    }
    var rightHandSides = [Double](repeating: 0, count: p * classCount)
    for c in 0..<classCount { for j in 0..<p { rightHandSides[j * classCount + c] = means[c * p + j] } }
    let weight = referenceSolve(covariance, rightHandSides, p: p, k: classCount)
    let bias = (0..<classCount).map { c in
        -0.5 * (0..<p).reduce(0.0) { $0 + means[c * p + $1] * weight[$1 * classCount + c] } + log(counts[c] / n)
    }
    return (weight, bias, rho)
}

/// Fraction of `predicted` equal to `labels`.
func accuracy(_ predicted: [Int], _ labels: [Int]) -> Double {
    Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
}
