/// Something that owns named parameters, addressed by dotted paths
/// (`trunk.0.weight`, `experts.2.hidden.bias`).
///
/// Paths are relative to the object; containers prefix their children's paths with the
/// child's name and a dot. Optimizers, checkpoints and the frozen set all speak in
/// these paths, after mlx-swift's `Module`.
public protocol Parameterized: Sendable {
    /// Visits every parameter, in a fixed order, with its path.
    func forEachParameter(_ body: (String, Matrix) throws -> Void) rethrows
    /// Visits every parameter mutably, in the same order, with its path.
    mutating func updateParameters(_ body: (String, inout Matrix) throws -> Void) rethrows
}

extension Parameterized {
    /// Every parameter by path.
    public var parameters: [String: Matrix] {
        var result: [String: Matrix] = [:]
        forEachParameter { result[$0] = $1 }
        return result
    }

    /// Paths in visiting order.
    public var parameterPaths: [String] {
        var result: [String] = []
        forEachParameter { path, _ in result.append(path) }
        return result
    }

    /// Total number of scalar parameters.
    public var parameterCount: Int {
        var total = 0
        forEachParameter { total += $1.count }
        return total
    }
}

/// Joins a prefix and a name into a dotted path (`""` and `weight` give `weight`).
@inlinable
public func parameterPath(_ prefix: String, _ name: String) -> String {
    prefix.isEmpty ? name : prefix + "." + name
}

/// Parameter gradients by path, accumulated during a backward pass.
///
/// Paths listed in `skipping` (the frozen set) are never computed: layers ask
/// `wants(_:)` before they spend a matrix product on a gradient nobody will use.
public struct Gradients: Sendable {
    /// Gradient of the loss with respect to each parameter, by path.
    public var values: [String: Matrix] = [:]
    /// Paths whose gradients are not wanted (frozen parameters).
    public var skipping: Set<String>

    public init(skipping: Set<String> = []) {
        self.skipping = skipping
    }

    /// Whether the gradient of `path` should be computed.
    @inlinable
    public func wants(_ path: String) -> Bool { !skipping.contains(path) }

    /// Adds `gradient` to the gradient stored for `path`.
    public mutating func accumulate(_ path: String, _ gradient: Matrix) {
        if var existing = values.removeValue(forKey: path) {
            existing.add(gradient)
            values[path] = existing
        } else {
            values[path] = gradient
        }
    }

    public subscript(path: String) -> Matrix? { values[path] }

    /// Multiplies every gradient by `factor`.
    public mutating func scale(by factor: Float) {
        for key in values.keys { values[key]!.scale(by: factor) }
    }

    /// True when every gradient is finite.
    public var isFinite: Bool { values.values.allSatisfy(\.isFinite) }
}
