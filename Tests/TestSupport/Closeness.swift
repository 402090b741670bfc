import MoE

/// Whether `a` and `b` agree to `tolerance`, relative to their size (absolute near 0).
public func isClose(_ a: Double, _ b: Double, tolerance: Double = 1e-5) -> Bool {
    abs(a - b) <= tolerance * max(1, abs(a), abs(b))
}

/// The largest relative difference between two equally shaped matrices.
public func maxRelativeDifference(_ a: Matrix, _ b: Matrix) -> Double {
    precondition(a.shape == b.shape, "Shapes differ: \(a.shape) vs \(b.shape)")
    var worst = 0.0
    for i in 0..<a.count {
        let x = Double(a.scalars[i]), y = Double(b.scalars[i])
        worst = max(worst, abs(x - y) / max(1, abs(x), abs(y)))
    }
    return worst
}

/// A matrix of uniform values in [-scale, scale) from a seed.
public func randomMatrix(_ rows: Int, _ columns: Int, seed: UInt64, scale: Float = 1) -> Matrix {
    var generator = SeededGenerator(seed: seed)
    return .uniform(rows: rows, columns: columns, low: -scale, high: scale, using: &generator)
}
