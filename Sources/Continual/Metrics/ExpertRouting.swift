import MoE

/// How the gate shares the inputs among the experts.
///
/// For every input that passes through the gate, each expert it is routed to (a gate
/// weight above zero) gets one count and the gate weight; an input routed to `k` experts
/// counts `k` times. Expert `e`'s share is its part of all routings:
///
/// ```
/// share_e       = count_e / Σ_e' count_e'
/// weightShare_e = Σ_x g_e(x) / Σ_e' Σ_x g_e'(x)
/// ```
///
/// A gate that sends everything to the newest expert shows up as a share near 1 there.
/// Memory is two numbers per expert.
public struct ExpertRouting: Codable, Sendable, Equatable {
    /// Inputs routed to each expert, indexed by expert.
    public private(set) var counts: [Int] = []
    /// The summed gate weight of each expert.
    public private(set) var gateWeights: [Double] = []
    /// Inputs that passed through the gate.
    public private(set) var inputs = 0

    public init() {}

    /// Experts seen so far (the largest expert index recorded, plus one).
    public var expertCount: Int { counts.count }

    /// Records a batch of gate weights: row = input, column = expert; zero = not routed.
    ///
    /// - Precondition: the weights are finite and non-negative.
    public mutating func record(gates: Matrix) {
        grow(to: gates.columns)
        for r in 0..<gates.rows {
            for e in 0..<gates.columns {
                let g = gates[r, e]
                precondition(g.isFinite && g >= 0, "Gate weights must be finite and non-negative, got \(g) for input \(r), expert \(e)")
                if g > 0 {
                    counts[e] += 1
                    gateWeights[e] += Double(g)
                }
            }
        }
        inputs += gates.rows
    }

    /// Records `inputs` inputs routed to `expert` with summed gate weight `weight`
    /// (for a gate that routes without a weight matrix, such as top-1).
    public mutating func record(expert: Int, inputs routed: Int = 1, weight: Double? = nil) {
        precondition(expert >= 0 && routed >= 0, "Expert \(expert) and routed count \(routed) must be non-negative")
        let weight = weight ?? Double(routed)
        precondition(weight.isFinite && weight >= 0, "A gate weight must be finite and non-negative, got \(weight)")
        grow(to: expert + 1)
        counts[expert] += routed
        gateWeights[expert] += weight
    }

    /// Counts inputs that went through the gate (with ``record(expert:inputs:weight:)``,
    /// which does not know how many distinct inputs a batch had).
    public mutating func countInputs(_ n: Int) {
        precondition(n >= 0, "An input count cannot be negative, got \(n)")
        inputs += n
    }

    /// Each expert's share of the routings, `nil` before any routing.
    public var shares: [Double]? {
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        return counts.map { Double($0) / Double(total) }
    }

    /// Each expert's share of the summed gate weight, `nil` before any routing.
    public var weightShares: [Double]? {
        let total = gateWeights.reduce(0, +)
        guard total > 0 else { return nil }
        return gateWeights.map { $0 / total }
    }

    private mutating func grow(to count: Int) {
        guard count > counts.count else { return }
        counts.append(contentsOf: Array(repeating: 0, count: count - counts.count))
        gateWeights.append(contentsOf: Array(repeating: 0, count: count - gateWeights.count))
    }

    private enum CodingKeys: String, CodingKey {
        case counts, inputs
        case gateWeights = "gate_weights"
    }
}
