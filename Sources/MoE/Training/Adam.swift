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

    public mutating func update<M: Parameterized>(_ model: inout M, gradients: Gradients, frozen: Set<String>) {
        model.updateParameters { path, value in
            guard !frozen.contains(path), let g = gradients[path] else { return }
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
    }

    public var state: [String: Matrix] {
        var result: [String: Matrix] = [:]
        for (path, m) in firstMoments { result["m/" + path] = m }
        for (path, v) in secondMoments { result["v/" + path] = v }
        for (path, t) in steps { result["t/" + path] = Matrix(rows: 1, columns: 1, scalars: [Float(t)]) }
        return result
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

    /// The update of one parameter, eight lanes at a time (explicit SIMD: the compiler
    /// does not vectorise the square root and division of the scalar loop).
    @inline(__always)
    static func kernel(
        count: Int, parameter p: UnsafeMutablePointer<Float>, gradient gp: UnsafePointer<Float>,
        first mp: UnsafeMutablePointer<Float>, second vp: UnsafeMutablePointer<Float>,
        beta1 b1: Float, beta2 b2: Float, stepSize: Float, inverseC2: Float, epsilon eps: Float
    ) {
        typealias V = SIMD8<Float>
        let lanes = V.scalarCount
        let vb1 = V(repeating: b1), vb2 = V(repeating: b2)
        let va1 = V(repeating: 1 - b1), va2 = V(repeating: 1 - b2)
        let vStep = V(repeating: stepSize), vInv = V(repeating: inverseC2), vEps = V(repeating: eps)
        var i = 0
        while i + lanes <= count {
            let gi = UnsafeRawPointer(gp + i).loadUnaligned(as: V.self)
            var mi = UnsafeRawPointer(mp + i).loadUnaligned(as: V.self)
            var vi = UnsafeRawPointer(vp + i).loadUnaligned(as: V.self)
            var pi = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
            mi = vb1 * mi + va1 * gi
            vi = vb2 * vi + va2 * (gi * gi)
            pi -= vStep * mi / ((vi * vInv).squareRoot() + vEps)
            UnsafeMutableRawPointer(mp + i).storeBytes(of: mi, as: V.self)
            UnsafeMutableRawPointer(vp + i).storeBytes(of: vi, as: V.self)
            UnsafeMutableRawPointer(p + i).storeBytes(of: pi, as: V.self)
            i += lanes
        }
        while i < count {
            let gi = gp[i]
            mp[i] = b1 * mp[i] + (1 - b1) * gi
            vp[i] = b2 * vp[i] + (1 - b2) * gi * gi
            p[i] -= stepSize * mp[i] / ((vp[i] * inverseC2).squareRoot() + eps)
            i += 1
        }
    }
}
