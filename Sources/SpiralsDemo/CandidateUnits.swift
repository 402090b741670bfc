import Foundation
import MoE

/// A pool of candidate tanh units trained to covary with the network's residual error,
/// the growth step of Cascade-Correlation (Fahlman and Lebiere 1990).
///
/// Each candidate `p` reads the features `z = [x, h_0, …]` and maximises
///
/// ```
/// S_p = Σ_k | Σ_i (v_ip - v̄_p)(E_ik - Ē_k) |,    v_p = tanh(z w_p + b_p),   E = softmax(logits) - onehot(y)
/// ∂S_p/∂v_ip = Σ_k sign(C_pk) (E_ik - Ē_k),      C_pk = Σ_i v_ip (E_ik - Ē_k)
/// ```
///
/// by Adam ascent; all candidates see the same pass over the data, so training the
/// pool for `e` epochs costs `e` epochs. A trained candidate is an error detector by
/// construction: it fires where the output is wrong, in the direction of the residual.
struct CandidateUnits: Parameterized {
    /// `features x pool`.
    var weight: Matrix
    /// `1 x pool`.
    var bias: Matrix

    init(features: Int, pool: Int, generator: inout SeededGenerator) {
        weight = .uniform(rows: features, columns: pool, low: -1, high: 1, using: &generator)
        bias = .uniform(rows: 1, columns: pool, low: -1, high: 1, using: &generator)
    }

    func activations(_ features: Matrix) -> Matrix {
        var a = Matrix.matmul(features, weight)
        a.addRowVector(bias)
        return a.map { tanhf($0) }
    }

    /// Gradient of `-Σ_p S_p` (for a minimising optimizer).
    func gradients(features: Matrix, centredResidual: Matrix) -> Gradients {
        let v = activations(features)
        let c = Matrix.matmul(v, centredResidual, transposeA: true)  // pool x classes
        let signs = c.map { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
        let dv = Matrix.matmul(centredResidual, signs, transposeB: true)  // n x pool
        let da = dv.zip(v) { g, y in -g * (1 - y * y) }
        var gradients = Gradients()
        gradients.accumulate("weight", .matmul(features, da, transposeA: true))
        gradients.accumulate("bias", da.columnSums())
        return gradients
    }

    /// Trains the pool and returns the weights and bias of the candidate whose
    /// activations correlate most with the residual, `Σ_k |rho(v_p, E_k)|` measured by
    /// a `CovarianceTracker`, with that score.
    static func best(
        features: Matrix, residual: Matrix, pool: Int, epochs: Int, learningRate: Float, generator: inout SeededGenerator
    ) -> (weight: Matrix, bias: Matrix, score: Double) {
        let centred = centredColumns(residual)
        var candidates = CandidateUnits(features: features.columns, pool: pool, generator: &generator)
        var optimizer = Adam(learningRate: learningRate)
        for _ in 0..<epochs {
            optimizer.update(&candidates, gradients: candidates.gradients(features: features, centredResidual: centred), frozen: [])
        }
        let v = candidates.activations(features)
        var score = [Double](repeating: 0, count: pool)
        for k in 0..<residual.columns {
            var tracker = CovarianceTracker(widths: [pool], target: .external)
            tracker.update(hidden: [v], targets: (0..<residual.rows).map { residual[$0, k] })
            for (p, rho) in tracker.statistics(layer: 0).correlation.enumerated() { score[p] += abs(rho) }
        }
        let p = score.indices.max { score[$0] < score[$1] }!
        return (candidates.weight.gatherColumns([p]), candidates.bias.gatherColumns([p]), score[p])
    }

    static func centredColumns(_ m: Matrix) -> Matrix {
        var means = m.columnSums()
        means.scale(by: -1 / Float(max(m.rows, 1)))
        var centred = m
        centred.addRowVector(means)
        return centred
    }

    func forEachParameter(_ body: (String, Matrix) throws -> Void) rethrows {
        try body("weight", weight)
        try body("bias", bias)
    }

    mutating func updateParameters(_ body: (String, inout Matrix) throws -> Void) rethrows {
        try body("weight", &weight)
        try body("bias", &bias)
    }
}
