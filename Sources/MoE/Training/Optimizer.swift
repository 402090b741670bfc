/// A rule that turns gradients into parameter updates.
///
/// Optimizers see parameters by path and never touch a path in `frozen`; their state
/// (moments, step counts) is keyed by the same paths and created lazily, so a newly
/// grown expert gets state without special code and growing never resets the state of
/// older parameters.
public protocol Optimizer: Sendable {
    /// The step size.
    var learningRate: Float { get set }
    /// Applies one update to every trainable parameter of `model` that has a gradient.
    mutating func update<M: Parameterized>(_ model: inout M, gradients: Gradients, frozen: Set<String>)
    /// Applies one update to one parameter, the one at `path` (state is kept by path):
    /// what `update(_:gradients:frozen:)` does to each parameter, so a training loop can
    /// update a layer as soon as its gradient is ready, while the gradient is in cache.
    mutating func update(parameter: inout Matrix, gradient: Matrix, path: String)
    /// The optimizer's state as named matrices (for checkpoints), by `<kind>/<path>`.
    var state: [String: Matrix] { get }
    /// Restores state written by `state`.
    mutating func restore(state: [String: Matrix]) throws(OptimizerError)
}

extension Optimizer {
    public mutating func update<M: Parameterized>(_ model: inout M, gradients: Gradients, frozen: Set<String>) {
        model.updateParameters { path, value in
            guard !frozen.contains(path), let g = gradients[path] else { return }
            update(parameter: &value, gradient: g, path: path)
        }
    }
}

/// An optimizer's state does not fit.
public enum OptimizerError: Error, Equatable, CustomStringConvertible {
    case unknownStateKey(String)
    case malformedState(key: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownStateKey(key): "optimizer state has an unknown entry '\(key)'"
        case let .malformedState(key, reason): "optimizer state '\(key)' is malformed: \(reason)"
        }
    }
}

/// Stochastic gradient descent with (heavy-ball) momentum.
///
/// ```
/// v = momentum * v + g;  θ = θ - lr * v
/// ```
public struct SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    public private(set) var velocity: [String: Matrix] = [:]

    public init(learningRate: Float = 0.01, momentum: Float = 0.9) {
        precondition(learningRate >= 0, "Learning rate must be non-negative")
        precondition(momentum >= 0 && momentum < 1, "Momentum must be in [0, 1)")
        self.learningRate = learningRate
        self.momentum = momentum
    }

    public mutating func update(parameter value: inout Matrix, gradient g: Matrix, path: String) {
        precondition(g.rows == value.rows && g.columns == value.columns, "Gradient of \(path) has the wrong shape")
        if momentum == 0 {
            value.add(g, scaledBy: -learningRate)
            return
        }
        var v = velocity.removeValue(forKey: path) ?? Matrix(rows: value.rows, columns: value.columns)
        let mu = momentum, lr = learningRate, tiny = Float.leastNormalMagnitude
        v.scalars.withUnsafeMutableBufferPointer { vp in
            g.scalars.withUnsafeBufferPointer { gp in
                value.scalars.withUnsafeMutableBufferPointer { p in
                    for i in p.indices {
                        // A velocity below 2^-126 is stored as 0: see `Adam.kernel`.
                        let velocity = mu * vp[i] + gp[i]
                        vp[i] = velocity < tiny && velocity > -tiny ? 0 : velocity
                        p[i] -= lr * vp[i]
                    }
                }
            }
        }
        velocity[path] = v
    }

    public var state: [String: Matrix] {
        Dictionary(uniqueKeysWithValues: velocity.map { ("velocity/" + $0.key, $0.value) })
    }

    public mutating func restore(state: [String: Matrix]) throws(OptimizerError) {
        var restored: [String: Matrix] = [:]
        for (key, value) in state {
            guard key.hasPrefix("velocity/") else { throw .unknownStateKey(key) }
            restored[String(key.dropFirst("velocity/".count))] = value
        }
        velocity = restored
    }
}
