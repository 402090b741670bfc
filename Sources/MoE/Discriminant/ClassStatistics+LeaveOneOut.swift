#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ClassStatistics {
    /// The discriminant's logits for `rows` (`m x featureCount`), each as the head fitted
    /// without that row would give them: row `i` is taken to be one of the samples these
    /// statistics hold in class `labels[i]`. A head scores the rows it was fitted on
    /// better than it generalises (with 2,048 features from 2,000 rows, nearly all of them
    /// right); a comparison with another learner on such rows is fair only leave-one-out.
    ///
    /// Without a row `x` of class `j` (`d = x - μ_j`, `n_j` its class's samples) the scatter
    /// loses `n_j / (n_j - 1) d dᵀ`, `μ_j` moves by `-d / (n_j - 1)` and the counts lose one.
    /// With the shrinkage `ρ` and the ridge `r` of the whole statistics held,
    ///
    /// ```
    /// A = (1 - ρ) / (n - 1) S + r I
    /// Σ' = A - β d dᵀ,   β = (1 - ρ) / (n - 1) · n_j / (n_j - 1)
    /// Σ'⁻¹ = A⁻¹ + γ u uᵀ,   u = A⁻¹ d,   γ = β / (1 - β dᵀu)      (Sherman-Morrison)
    /// logit_c = xᵀ Σ'⁻¹ μ'_c - ½ μ'_cᵀ Σ'⁻¹ μ'_c + log(n'_c / (n - 1))
    /// ```
    ///
    /// so one Cholesky factorisation of `A` (Float64) serves every row, and each row costs
    /// one solve and a few dot products per class. With `ρ = 0` it is exactly the fit
    /// without the row; otherwise `ρ` and `r` move by about `1/n` when a row leaves, which
    /// is neglected. A row whose class has one sample keeps it (removing it would remove
    /// the class): its logits are those of `A`'s head. Each row's logits are stored less
    /// their mean over the seen classes, computed in Float64: the same softmax, and as
    /// the fitted head's logits stand (near zero, where Float32 is precise).
    public func leaveOneOutLogits(
        _ rows: Matrix, labels: [Int], shrinkage: Shrinkage = .oas, classCount outputs: Int? = nil
    ) throws(DiscriminantError) -> Matrix {
        let columns = outputs ?? classCount
        precondition(columns >= classCount, "A discriminant over \(classCount) seen classes cannot have \(columns) outputs")
        precondition(rows.columns == featureCount && rows.rows == labels.count,
                     "Rows must be \(labels.count) x \(featureCount), got \(rows.rows) x \(rows.columns)")
        let n = sampleCount
        guard n > 1 else { throw .noSamples }
        let p = featureCount, m = rows.rows
        let seen = classes
        // A = keep S + ridge I as the fit builds it, from the whole statistics' traces.
        let scatter = completeScatter()
        let traces = Self.covarianceTraces(scatter, featureCount: p, samples: n)
        let rho = try intensity(shrinkage, traces: traces)
        let ridge = traces.trace > 0 ? rho * traces.trace / Double(p) : 1
        let keep = (1 - rho) / (n - 1)
        var a = [Double](repeating: 0, count: p * p)
        for i in 0..<p {
            for j in i..<p { a[i * p + j] = scatter[i * p + j] * keep }
            a[i * p + i] += ridge
        }
        // Right-hand sides: the class means, then every row's offset from its class mean;
        // one factorisation of A solves them all.
        let meanRows = seen.flatMap { mean(ofClass: $0) }
        var rhs = meanRows
        rhs.reserveCapacity((seen.count + m) * p)
        for i in 0..<m {
            if let c = seen.firstIndex(of: labels[i]) {
                for k in 0..<p { rhs.append(Double(rows[i, k]) - meanRows[c * p + k]) }
            } else {
                for k in 0..<p { rhs.append(Double(rows[i, k])) }
            }
        }
        try Self.choleskySolve(&a, order: p, &rhs, count: seen.count + m, shrinkage: rho)
        func dot(_ x: UnsafeBufferPointer<Double>, _ xo: Int, _ y: UnsafeBufferPointer<Double>, _ yo: Int) -> Double {
            var s = 0.0
            for k in 0..<p { s += x[xo + k] * y[yo + k] }
            return s
        }
        var logits = Matrix(rows: m, columns: columns, repeating: Self.unseenClassBias)
        meanRows.withUnsafeBufferPointer { mu in
            rhs.withUnsafeBufferPointer { solution in
                // w_c = A⁻¹ μ_c and μ_cᵀ w_c, shared by every row.
                let quadratic = seen.indices.map { c in dot(mu, c * p, solution, c * p) }
                for i in 0..<m {
                    let x = (0..<p).map { Double(rows[i, $0]) }
                    let j = labels[i]
                    let nj = j < classCount ? counts[j] : 0
                    let uOffset = (seen.count + i) * p
                    // d = x - μ_j is not kept; dᵀu = xᵀu - μ_jᵀu.
                    let jIndex = seen.firstIndex(of: j)
                    x.withUnsafeBufferPointer { xs in
                        let xu = dot(xs, 0, solution, uOffset)
                        let mu_u = seen.indices.map { c in dot(mu, c * p, solution, uOffset) }
                        let du = xu - (jIndex.map { mu_u[$0] } ?? 0)
                        let removable = nj >= 2 && jIndex != nil
                        let beta = removable ? keep * nj / (nj - 1) : 0
                        let denominator = 1 - beta * du
                        let gamma = removable && denominator > 0 ? beta / denominator : 0
                        let t = removable && gamma > 0 ? 1 / (nj - 1) : 0
                        // B(a, b) = aᵀ A⁻¹ b + γ (aᵀu)(uᵀb).
                        let xd = xu + gamma * xu * du          // B(x, d)
                        let dd = du + gamma * du * du          // B(d, d)
                        var values = [Double](repeating: 0, count: seen.count)
                        for (c, label) in seen.enumerated() {
                            let xw = dot(xs, 0, solution, c * p)
                            var linear = xw + gamma * xu * mu_u[c]                      // B(x, μ_c)
                            var quad = quadratic[c] + gamma * mu_u[c] * mu_u[c]         // B(μ_c, μ_c)
                            var count = counts[label]
                            if label == j && t > 0 {
                                let md = mu_u[c] + gamma * mu_u[c] * du                 // B(μ_j, d)
                                linear -= t * xd
                                quad += -2 * t * md + t * t * dd
                                count -= 1
                            }
                            values[c] = linear - 0.5 * quad + log(count / (t > 0 ? n - 1 : n))
                        }
                        // Less their mean, as the fitted head's logits are (`head(solutions:means:classCount:)`).
                        let centre = values.reduce(0, +) / Double(values.count)
                        for (c, label) in seen.enumerated() { logits[i, label] = Float(values[c] - centre) }
                    }
                }
            }
        }
        return logits
    }
}
