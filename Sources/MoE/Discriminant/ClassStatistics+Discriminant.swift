#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the pooled within-class covariance is shrunk towards a scaled identity before it
/// is inverted:
///
/// ```
/// Σ = (1 - ρ) Σ̂ + ρ (tr(Σ̂) / p) I
/// ```
public enum Shrinkage: Sendable, Equatable, Hashable, Codable {
    /// Oracle Approximating Shrinkage: ρ chosen from the data (Chen, Wiesel, Eldar and
    /// Hero, "Shrinkage algorithms for MMSE covariance estimation", IEEE Transactions on
    /// Signal Processing 58(10), 2010, equation 23).
    case oas
    /// A fixed intensity ρ in `[0, 1]` (0: the plain sample covariance).
    case fixed(Double)
    /// Oracle Approximating Shrinkage moved a share `t` in `[0, 1]` of the way to the
    /// identity target: `ρ = ρ_OAS + (1 - ρ_OAS) t` (`t = 0` is ``oas``).
    case oasToward(Double)
}

extension ClassStatistics {
    /// The logit given to a class never seen, so that its posterior is 0 without an
    /// infinity that could turn into NaN downstream.
    public static let unseenClassBias: Float = -1e9

    /// The shrinkage intensity ρ that `shrinkage` gives for these statistics.
    ///
    /// With `Σ̂ = S / n` (the pooled within-class covariance, divided by the number of
    /// samples as scikit-learn does) and `p` features, Oracle Approximating Shrinkage is
    ///
    /// ```
    /// ρ = min(1, ((1 - 2/p) tr(Σ̂²) + tr(Σ̂)²) / ((n + 1 - 2/p) (tr(Σ̂²) - tr(Σ̂)² / p)))
    /// ```
    ///
    /// and 1 when the denominator is not positive (Σ̂ already a multiple of I).
    public func shrinkageIntensity(_ shrinkage: Shrinkage) throws(DiscriminantError) -> Double {
        guard sampleCount > 0 else { throw .noSamples }
        switch shrinkage {
        case .oas, .oasToward:
            return try intensity(shrinkage, traces: Self.covarianceTraces(completeScatter(), featureCount: featureCount, samples: sampleCount))
        case .fixed:
            return try intensity(shrinkage, traces: (0, 0))
        }
    }

    /// ρ from the traces of `Σ̂` (read only by `.oas` and `.oasToward`).
    func intensity(_ shrinkage: Shrinkage, traces: (trace: Double, traceOfSquare: Double)) throws(DiscriminantError) -> Double {
        let n = sampleCount
        guard n > 0 else { throw .noSamples }
        switch shrinkage {
        case let .fixed(value):
            guard value >= 0 && value <= 1 else { throw .invalidShrinkage(value) }
            return value
        case .oas:
            let (trace, traceOfSquare) = traces
            let p = Double(featureCount)
            let numerator = (1 - 2 / p) * traceOfSquare + trace * trace
            let denominator = (n + 1 - 2 / p) * (traceOfSquare - trace * trace / p)
            return denominator > 0 ? min(1, numerator / denominator) : 1
        case let .oasToward(share):
            guard share >= 0 && share <= 1 else { throw .invalidShrinkage(share) }
            let oas = try intensity(.oas, traces: traces)
            return oas + (1 - oas) * share
        }
    }

    /// `tr(Σ̂)` and `tr(Σ̂²)` (the squared Frobenius norm) of `Σ̂ = S / n`.
    static func covarianceTraces(
        _ scatter: [Double], featureCount p: Int, samples n: Double
    ) -> (trace: Double, traceOfSquare: Double) {
        var trace = 0.0, diagonalSquares = 0.0, offDiagonalSquares = 0.0
        scatter.withUnsafeBufferPointer { s in
            for i in 0..<p {
                let d = s[i * p + i] / n
                trace += d
                diagonalSquares += d * d
                for j in (i + 1)..<p {
                    let v = s[i * p + j] / n
                    offDiagonalSquares += v * v
                }
            }
        }
        return (trace, diagonalSquares + 2 * offDiagonalSquares)
    }

    /// The solutions `x_c` of `Σ x_c = b_c`, `Σ = scale S + ridge I`, for the `count` rows
    /// `b_c` of `rightHandSides` (`S` Float64, row-major, upper triangle read): Cholesky in
    /// Float32 (`spotrf`), then one step of iterative refinement, the residual
    /// `b_c - Σ x_c` computed in Float64 (`dsymm` on `S`) and solved with the same factor.
    /// The factorisation is the refit's main cost, and Float32 halves it; the refinement
    /// brings the error from about `cond(Σ) ε₃₂` to about `(cond(Σ) ε₃₂)²` relative
    /// (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., section 12.1),
    /// well below what moves a posterior, for about 2% more work. `Σ` is never formed in
    /// Float64. Nil when `Σ` is not positive definite in Float32.
    public static func refinedSolve(
        _ s: [Double], scale: Double = 1, ridge: Double = 0, featureCount p: Int, rightHandSides b: [Double], count: Int
    ) -> [Double]? {
        // Only the upper triangle is written, and only it is read.
        let factor = UnsafeMutableBufferPointer<Float>.allocate(capacity: p * p)
        defer { factor.deallocate() }
        s.withUnsafeBufferPointer { a in
            for i in 0..<p {
                factor[i * p + i] = Float(a[i * p + i] * scale + ridge)
                for j in (i + 1)..<p { factor[i * p + j] = Float(a[i * p + j] * scale) }
            }
        }
        guard BLAS.spotrf(n: p, a: factor.baseAddress!, lda: p) == 0 else { return nil }
        func solve(_ rows: [Double]) -> [Double] {
            var x = rows.map { Float($0) }
            let solved = x.withUnsafeMutableBufferPointer {
                BLAS.spotrs(n: p, count: count, a: UnsafePointer(factor.baseAddress!), lda: p, b: $0.baseAddress!, ldb: p)
            }
            precondition(solved == 0, "spotrs rejected argument \(-solved)")
            return x.map { Double($0) }
        }
        var x = solve(b)
        var residual = b
        s.withUnsafeBufferPointer { a in
            x.withUnsafeBufferPointer { xs in
                residual.withUnsafeMutableBufferPointer { r in
                    BLAS.dsymmRight(m: count, n: p, alpha: -scale, a: a.baseAddress!, lda: p, b: xs.baseAddress!, ldb: p,
                                    beta: 1, c: r.baseAddress!, ldc: p)
                }
            }
        }
        for i in residual.indices { residual[i] -= ridge * x[i] }
        let correction = solve(residual)
        for i in x.indices { x[i] += correction[i] }
        return x
    }

    /// Fits a linear discriminant (LDA) with a shared, shrunk covariance:
    ///
    /// ```
    /// Σ̂ = S / n,   Σ = (1 - ρ) Σ̂ + ρ (tr(Σ̂) / p) I
    /// w_c = Σ⁻¹ μ_c
    /// b_c = -½ μ_cᵀ Σ⁻¹ μ_c + log(n_c / n)
    /// logit_c(f) = fᵀ w_c + b_c
    /// ```
    ///
    /// stored less the seen classes' mean `w̄` and `b̄` (the same softmax; logits Float32
    /// keeps precisely: ``head(solutions:means:classCount:)``).
    ///
    /// `Σ` is factorised once by Cholesky and solved for every class mean at once, in
    /// Float32 with one step of Float64 refinement (``refinedSolve(_:scale:ridge:featureCount:rightHandSides:count:)``;
    /// `dpotrf` and `dpotrs` in Float64 if the Float32 factorisation fails). A softmax over the logits is the Gaussian class
    /// posterior `P(c | f)` (Hastie, Tibshirani and Friedman, The Elements of Statistical
    /// Learning, section 4.3). Classes never seen get weight 0 and bias
    /// ``unseenClassBias``. Without any spread within the classes (`tr(Σ̂) = 0`: one
    /// sample per class, as after a stream's first rows) `Σ = I`: the nearest class mean.
    ///
    /// - Parameters:
    ///   - shrinkage: Oracle Approximating Shrinkage (the default) or a fixed intensity.
    ///   - classCount: Number of output columns (at least ``classCount``; default that).
    /// - Returns: `weight` of `featureCount x classes` and `bias` of `1 x classes`.
    public func fitDiscriminant(
        shrinkage: Shrinkage = .oas, classCount outputs: Int? = nil
    ) throws(DiscriminantError) -> (weight: Matrix, bias: Matrix) {
        let columns = outputs ?? classCount
        precondition(columns >= classCount,
                     "A discriminant over \(classCount) seen classes cannot have \(columns) outputs")
        guard sampleCount > 0 else { throw .noSamples }
        let p = featureCount, n = sampleCount
        let seen = classes
        if fitsFromPendingRows, let few = try fitFromPendingRows(shrinkage: shrinkage, classCount: columns) { return few }

        // Σ = keep S + ridge I, from the scatter's upper triangle (never copied on the
        // Float32 path); its traces serve ρ and the ridge.
        let scatter = completeScatter()
        let traces = Self.covarianceTraces(scatter, featureCount: p, samples: n)
        let rho = try intensity(shrinkage, traces: traces)
        let trace = traces.trace
        // No spread within any class (one sample per class, or rows that repeat): the
        // scatter is 0, and so is every shrunk Σ. Σ = I is the limit of every isotropic
        // one: nearest class mean, weighed by the class priors.
        let ridge = trace > 0 ? rho * trace / Double(p) : 1
        let keep = (1 - rho) / n
        // Class means as rows: the right-hand sides.
        let means = seen.flatMap { mean(ofClass: $0) }
        let solutions: [Double]
        if let refined = Self.refinedSolve(scatter, scale: keep, ridge: ridge, featureCount: p, rightHandSides: means, count: seen.count) {
            solutions = refined
        } else {
            // Σ in Float32 was not positive definite: factorise it in Float64.
            var covariance = scatter
            covariance.withUnsafeMutableBufferPointer { a in
                for i in 0..<p {
                    for j in i..<p { a[i * p + j] *= keep }
                    a[i * p + i] += ridge
                }
            }
            var exact = means
            try Self.choleskySolve(&covariance, order: p, &exact, count: seen.count, shrinkage: rho)
            solutions = exact
        }

        return head(solutions: solutions, means: means, classCount: columns)
    }

    /// Solves `A X = B` in Float64 by Cholesky: `a` (`order x order`, upper triangle read)
    /// becomes its factor, the `count` rows of `b` become the solutions.
    static func choleskySolve(
        _ a: inout [Double], order n: Int, _ b: inout [Double], count: Int, shrinkage rho: Double
    ) throws(DiscriminantError) {
        let info = a.withUnsafeMutableBufferPointer { BLAS.dpotrf(n: n, a: $0.baseAddress!, lda: n) }
        if info > 0 { throw .notPositiveDefinite(featureCount: n, minor: info, shrinkage: rho) }
        precondition(info == 0, "dpotrf rejected argument \(-info)")
        let solved = a.withUnsafeBufferPointer { factor in
            b.withUnsafeMutableBufferPointer { rows in
                BLAS.dpotrs(n: n, count: count, a: factor.baseAddress!, lda: n, b: rows.baseAddress!, ldb: n)
            }
        }
        precondition(solved == 0, "dpotrs rejected argument \(-solved)")
    }

    /// The head from the solutions `Σ⁻¹ μ_c` and the means `μ_c` (rows, one per seen
    /// class): `w_c` and `b_c = -½ μ_cᵀ Σ⁻¹ μ_c + log(n_c / n)`, less the seen classes'
    /// mean weight and bias (`w̄`, `b̄`, in Float64).
    ///
    /// Taking `w̄` and `b̄` off moves every seen class's logit by the same `fᵀ w̄ + b̄`, so
    /// the softmax, the argmax and every posterior are those of the formula; but the
    /// logits are computed in Float32. Where the features share a direction the spread
    /// within the classes hardly shows (a mean they all have, which `Σ⁻¹` magnifies), every
    /// class's logit stood near 10⁵ on some real tables (diamonds, Star, Wages), where
    /// Float32 keeps 1/64 of a unit: posteriors came in steps of a few hundredths, and a
    /// row's answer moved with the rows multiplied beside it (`moe predict` on a whole
    /// file and on the row alone). Centred, the same logits stand within a few tens.
    private func head(solutions: [Double], means: [Double], classCount columns: Int) -> (weight: Matrix, bias: Matrix) {
        let p = featureCount, n = sampleCount, seen = classes
        var biases = [Double](repeating: 0, count: seen.count)
        var common = [Double](repeating: 0, count: p)
        for row in seen.indices {
            var quadratic = 0.0
            for j in 0..<p {
                quadratic += means[row * p + j] * solutions[row * p + j]
                common[j] += solutions[row * p + j]
            }
            biases[row] = -0.5 * quadratic + log(counts[seen[row]] / n)
        }
        let share = 1 / Double(max(seen.count, 1))
        for j in 0..<p { common[j] *= share }
        let commonBias = biases.reduce(0, +) * share
        var weight = Matrix(rows: p, columns: columns)
        var bias = Matrix(rows: 1, columns: columns, repeating: Self.unseenClassBias)
        for (row, label) in seen.enumerated() {
            for j in 0..<p { weight[j, label] = Float(solutions[row * p + j] - common[j]) }
            bias[0, label] = Float(biases[row] - commonBias)
        }
        return (weight, bias)
    }

    /// ``fitDiscriminant(shrinkage:classCount:)`` while every row is pending and they are
    /// few (``fitsFromPendingRows``): with `P` the `m` pending rows (centred rows and
    /// correction rows, `S = Pᵀ P`) and `G = P Pᵀ`,
    ///
    /// ```
    /// tr(S) = tr(G),   tr(S²) = ‖G‖²_F
    /// Σ = r I + k Pᵀ P,   Σ⁻¹ = (1/r) (I - Pᵀ (r/k I + G)⁻¹ P)      (Woodbury)
    /// ```
    ///
    /// so the solutions cost an `m x m` Cholesky factorisation and products of `P` with
    /// the class means, in Float64, instead of a `p x p` factorisation (a stream's first
    /// fits, made from a handful of rows, cost as much as one from thousands before).
    /// Nil without a ridge (`ρ = 0`: `Σ` may be singular, the `p x p` fit says where).
    private func fitFromPendingRows(shrinkage: Shrinkage, classCount columns: Int) throws(DiscriminantError) -> (weight: Matrix, bias: Matrix)? {
        let p = featureCount, n = sampleCount
        let seen = classes
        let rows = pendingRows.map { Double($0) }
        let m = rows.count / p
        var gram = [Double](repeating: 0, count: m * m)
        if m > 0 {
            rows.withUnsafeBufferPointer { a in
                gram.withUnsafeMutableBufferPointer { g in
                    BLAS.dsyrk(transpose: false, n: m, k: p, alpha: 1, a: a.baseAddress!, lda: p, beta: 0, c: g.baseAddress!, ldc: m)
                }
            }
        }
        // The upper triangle holds G; tr(Σ̂) and tr(Σ̂²) with Σ̂ = S / n.
        var trace = 0.0, squares = 0.0
        for i in 0..<m {
            trace += gram[i * m + i]
            squares += gram[i * m + i] * gram[i * m + i]
            for j in (i + 1)..<m { squares += 2 * gram[i * m + j] * gram[i * m + j] }
        }
        let rho = try intensity(shrinkage, traces: (trace / n, squares / (n * n)))
        // As in the p x p fit: without spread within the classes, Σ = I.
        let ridge = trace > 0 ? rho * trace / n / Double(p) : 1
        guard ridge > 0 else { return nil }
        let keep = (1 - rho) / n
        let means = seen.flatMap { mean(ofClass: $0) }
        var solutions = means.map { $0 / ridge }
        guard keep > 0, trace > 0, m > 0 else { return head(solutions: solutions, means: means, classCount: columns) }
        // Y = (M Pᵀ) (r/k I + G)⁻¹: the c x m products solved as rows with the m x m factor.
        var projected = [Double](repeating: 0, count: seen.count * m)
        for c in 0..<seen.count {
            for i in 0..<m {
                var dot = 0.0
                for j in 0..<p { dot += means[c * p + j] * rows[i * p + j] }
                projected[c * m + i] = dot
            }
        }
        for i in 0..<m { gram[i * m + i] += ridge / keep }
        try Self.choleskySolve(&gram, order: m, &projected, count: seen.count, shrinkage: rho)
        // X = (M - Y P) / r.
        for c in 0..<seen.count {
            for i in 0..<m {
                let y = projected[c * m + i] / ridge
                if y == 0 { continue }
                for j in 0..<p { solutions[c * p + j] -= y * rows[i * p + j] }
            }
        }
        return head(solutions: solutions, means: means, classCount: columns)
    }
}
