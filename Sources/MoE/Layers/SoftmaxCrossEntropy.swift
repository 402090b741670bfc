/// Softmax over each row followed by the cross-entropy with integer labels.
///
/// ```
/// p = softmax(z),  L = -mean_i log p[i, y_i],  dL/dz = (p - onehot(y)) / n
/// ```
public enum SoftmaxCrossEntropy {
    /// Row-wise softmax, stabilised by subtracting each row's maximum.
    public static func softmax(_ logits: Matrix) -> Matrix {
        var p = logits
        softmaxInPlace(&p)
        return p
    }

    /// Row-wise softmax of `values`, in place.
    public static func softmaxInPlace(_ values: inout Matrix) {
        let width = values.columns, rows = values.rows
        guard width > 0 else { return }
        values.scalars.withUnsafeMutableBufferPointer { s in
            for r in 0..<rows {
                let base = r * width
                var top = s[base]
                for c in 1..<width { top = max(top, s[base + c]) }
                var total: Float = 0
                for c in 0..<width {
                    let e = _exp(s[base + c] - top)
                    s[base + c] = e
                    total += e
                }
                let inverse = 1 / total
                for c in 0..<width { s[base + c] *= inverse }
            }
        }
    }

    /// Per-sample losses `-log p[i, y_i]` (computed stably from the logits).
    public static func losses(logits: Matrix, labels: [Int]) -> [Float] {
        precondition(labels.count == logits.rows, "\(labels.count) labels for \(logits.rows) rows")
        let width = logits.columns
        var result = [Float](repeating: 0, count: logits.rows)
        logits.scalars.withUnsafeBufferPointer { s in
            for r in 0..<logits.rows {
                let base = r * width
                let y = labels[r]
                precondition(y >= 0 && y < width, "Label \(y) outside 0..<\(width)")
                var top = s[base]
                for c in 1..<width { top = max(top, s[base + c]) }
                var total: Float = 0
                for c in 0..<width { total += _exp(s[base + c] - top) }
                result[r] = _log(total) + top - s[base + y]
            }
        }
        return result
    }

    /// The mean loss over the batch and its gradient with respect to the logits.
    ///
    /// - Parameter weights: optional per-sample weights (they replace `1/n`).
    public static func lossAndGradient(logits: Matrix, labels: [Int], weights: [Float]? = nil) -> (loss: Float, gradient: Matrix) {
        var gradient = logits
        let loss = lossAndGradient(inPlace: &gradient, labels: labels, weights: weights)
        return (loss, gradient)
    }

    /// The mean loss over the batch; `values` holds the logits on entry and their
    /// gradient on return (the same figures as ``lossAndGradient(logits:labels:weights:)``,
    /// bit for bit, without a copy).
    public static func lossAndGradient(inPlace values: inout Matrix, labels: [Int], weights: [Float]? = nil) -> Float {
        precondition(labels.count == values.rows, "\(labels.count) labels for \(values.rows) rows")
        let n = values.rows
        guard n > 0 else { return 0 }
        softmaxInPlace(&values)
        let width = values.columns
        var loss: Double = 0
        values.scalars.withUnsafeMutableBufferPointer { g in
            for r in 0..<n {
                let y = labels[r]
                precondition(y >= 0 && y < width, "Label \(y) outside 0..<\(width)")
                let w = weights?[r] ?? (1 / Float(n))
                let base = r * width
                loss -= Double(w) * Double(_log(max(g[base + y], .leastNormalMagnitude)))
                g[base + y] -= 1
                for c in 0..<width { g[base + c] *= w }
            }
        }
        return Float(loss)
    }
}
