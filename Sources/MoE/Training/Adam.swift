/// Adam (Kingma and Ba 2015), with a step count per parameter.
///
/// ```
/// m = β1 m + (1-β1) g;   v = β2 v + (1-β2) g²
/// θ = θ - lr * (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + ε)
/// ```
///
/// Each parameter counts its own steps `t`, so an expert grown after a thousand steps
/// gets Adam's bias correction from its own first step.
public struct Adam: Optimizer {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public private(set) var firstMoments: [String: Matrix] = [:]
    public private(set) var secondMoments: [String: Matrix] = [:]
    public private(set) var steps: [String: Int] = [:]

    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        precondition(learningRate >= 0, "Learning rate must be non-negative")
        precondition(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam's betas must be in [0, 1)")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    public mutating func update(parameter value: inout Matrix, gradient g: Matrix, path: String) {
        precondition(g.rows == value.rows && g.columns == value.columns, "Gradient of \(path) has the wrong shape")
        var m = firstMoments.removeValue(forKey: path) ?? Matrix(rows: value.rows, columns: value.columns)
        var v = secondMoments.removeValue(forKey: path) ?? Matrix(rows: value.rows, columns: value.columns)
        let t = (steps[path] ?? 0) + 1
        steps[path] = t
        let b1 = beta1, b2 = beta2, eps = epsilon
        let c1 = 1 - Float(_exp(Double(t) * _log(Double(b1))))
        let c2 = 1 - Float(_exp(Double(t) * _log(Double(b2))))
        let stepSize = learningRate / c1
        let inverseC2 = 1 / c2
        m.scalars.withUnsafeMutableBufferPointer { mp in
            v.scalars.withUnsafeMutableBufferPointer { vp in
                g.scalars.withUnsafeBufferPointer { gp in
                    value.scalars.withUnsafeMutableBufferPointer { p in
                        Adam.kernel(
                            count: p.count, parameter: p.baseAddress!, gradient: gp.baseAddress!,
                            first: mp.baseAddress!, second: vp.baseAddress!,
                            beta1: b1, beta2: b2, stepSize: stepSize, inverseC2: inverseC2, epsilon: eps)
                    }
                }
            }
        }
        firstMoments[path] = m
        secondMoments[path] = v
    }

    public var state: [String: Matrix] {
        var result: [String: Matrix] = [:]
        for (path, m) in firstMoments { result["m/" + path] = m }
        for (path, v) in secondMoments { result["v/" + path] = v }
        for (path, t) in steps { result["t/" + path] = Matrix(rows: 1, columns: 1, scalars: [Float(t)]) }
        return result
    }

    /// Drops the moments and step counts of `paths` (parameters frozen for good: their
    /// state would never be read again, yet be kept in memory and in every checkpoint).
    public mutating func forget(_ paths: Set<String>) {
        for path in paths {
            firstMoments[path] = nil
            secondMoments[path] = nil
            steps[path] = nil
        }
    }

    public mutating func restore(state: [String: Matrix]) throws(OptimizerError) {
        var m: [String: Matrix] = [:], v: [String: Matrix] = [:], t: [String: Int] = [:]
        for (key, value) in state {
            if key.hasPrefix("m/") { m[String(key.dropFirst(2))] = value }
            else if key.hasPrefix("v/") { v[String(key.dropFirst(2))] = value }
            else if key.hasPrefix("t/") {
                guard value.count == 1, value.scalars[0] >= 1, value.scalars[0] == value.scalars[0].rounded() else {
                    throw .malformedState(key: key, reason: "a step count must be one positive integer")
                }
                t[String(key.dropFirst(2))] = Int(value.scalars[0])
            } else { throw .unknownStateKey(key) }
        }
        for path in Set(m.keys).union(v.keys).union(t.keys) {
            guard let mm = m[path], let vv = v[path], t[path] != nil else {
                throw .malformedState(key: path, reason: "needs m, v and t entries together")
            }
            guard mm.shape == vv.shape else {
                throw .malformedState(key: path, reason: "m is \(mm.shape) but v is \(vv.shape)")
            }
        }
        firstMoments = m
        secondMoments = v
        steps = t
    }

    /// The width of the vectors the update runs in on this CPU, in bits (512 with
    /// AVX-512, 256 with AVX2, else 128).
    public static var vectorBits: Int { VectorMath.adamVectorBits }

    /// The update of one parameter, in C (`VectorMath.adamUpdate`) so that it runs in the
    /// CPU's widest vectors: its square root and division share one unit, which bounds the
    /// loop (0.75 ns per parameter with SSE's four lanes, the default target). Each lane does
    /// the same IEEE operations in the same order, without fused multiply-adds: the same
    /// bits as the eight-lane Swift loop it replaces, whatever the width.
    ///
    /// Moments below the smallest normal Float (2^-126) are stored as 0. Without this, the
    /// first moment of a weight whose gradient has become exactly 0 (a ReLU unit that died)
    /// decays by β1 every step into the subnormal range and stays there: `0.9 m` rounds
    /// back to `m` for the smallest subnormals. Arithmetic on subnormals takes a slow path
    /// on x86 (a microcode assist per operation): 39,000 such moments doubled the time of
    /// a training step of the 784-256-128-10 MLP after 800 steps (docs/benchmarks.md).
    /// The parameter moves by at most `lr · 2^-126 / ε` less than it would have, far below
    /// a Float's resolution at any weight above 10^-25.
    @inline(__always)
    static func kernel(
        count: Int, parameter p: UnsafeMutablePointer<Float>, gradient gp: UnsafePointer<Float>,
        first mp: UnsafeMutablePointer<Float>, second vp: UnsafeMutablePointer<Float>,
        beta1 b1: Float, beta2 b2: Float, stepSize: Float, inverseC2: Float, epsilon eps: Float
    ) {
        VectorMath.adamUpdate(count: count, parameter: p, gradient: gp, first: mp, second: vp, beta1: b1, beta2: b2,
                              step: stepSize, inverseC2: inverseC2, epsilon: eps)
    }
}
