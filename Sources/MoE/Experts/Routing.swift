/// Which gate slots each row of a batch is routed to, and with what weight.
///
/// Row `r` goes to `k` slots `selected[r*k ..< (r+1)*k]` (best score first) with weights
/// `weights[r*k ..< (r+1)*k]`. `groups` inverts this: for every slot, the rows routed to
/// it, so that each expert is evaluated once on just its rows (one matrix product per
/// layer per expert, never one per sample).
public struct Routing: Sendable, Equatable {
    /// Number of rows of the batch.
    public let rowCount: Int
    /// Number of slots (trunk slot, if any, plus experts).
    public let slotCount: Int
    /// Slots per row.
    public let k: Int
    /// `rowCount * k` slot indices, best first within a row.
    public let selected: [Int]
    /// `rowCount * k` weights `g`, aligned with `selected`.
    public let weights: [Float]
    /// For every slot, its rows (ascending) and their weights.
    public let groups: [Group]

    /// The rows routed to one slot.
    public struct Group: Sendable, Equatable {
        public var rows: [Int] = []
        public var weights: [Float] = []
        /// Position of each row's entry in `selected` (`r * k + j`).
        public var positions: [Int] = []
    }

    /// A routing from per-row choices.
    public init(slotCount: Int, k: Int, selected: [Int], weights: [Float]) {
        precondition(k >= 1 && k <= slotCount, "Routing to \(k) of \(slotCount) slots")
        precondition(selected.count == weights.count && selected.count % k == 0,
                     "Routing needs k entries per row, got \(selected.count) slots and \(weights.count) weights")
        self.slotCount = slotCount
        self.k = k
        self.rowCount = selected.count / k
        self.selected = selected
        self.weights = weights
        var groups = [Group](repeating: Group(), count: slotCount)
        for (position, slot) in selected.enumerated() {
            precondition(slot >= 0 && slot < slotCount, "Slot \(slot) outside 0..<\(slotCount)")
            groups[slot].rows.append(position / k)
            groups[slot].weights.append(weights[position])
            groups[slot].positions.append(position)
        }
        self.groups = groups
    }

    /// The `k` best slots of every row of `scores` (ties go to the lower slot index).
    ///
    /// - Returns: `rowCount * k` slot indices, best first within a row.
    public static func topK(_ scores: Matrix, k: Int) -> [Int] {
        let s = scores.columns
        precondition(k >= 1 && k <= s, "Cannot choose \(k) of \(s) slots")
        var result = [Int](repeating: 0, count: scores.rows * k)
        scores.scalars.withUnsafeBufferPointer { p in
            var taken = [Bool](repeating: false, count: s)
            for r in 0..<scores.rows {
                for c in 0..<s { taken[c] = false }
                for j in 0..<k {
                    var best = -1
                    var bestValue = -Float.infinity
                    for c in 0..<s where !taken[c] && (best < 0 || p[r * s + c] > bestValue) {
                        best = c
                        bestValue = p[r * s + c]
                    }
                    taken[best] = true
                    result[r * k + j] = best
                }
            }
        }
        return result
    }

    /// `rowCount x slotCount` weights, zero where a row is not routed (the dense view
    /// that reference computations multiply by).
    public var denseWeights: Matrix {
        var result = Matrix(rows: rowCount, columns: slotCount)
        for (position, slot) in selected.enumerated() {
            result[position / k, slot] = weights[position]
        }
        return result
    }

    /// Fraction of the `rowCount * k` routing assignments that went to each slot.
    public var loadFractions: [Float] {
        let total = Float(max(1, rowCount * k))
        return groups.map { Float($0.rows.count) / total }
    }

    /// The best slot of every row.
    public var topSlots: [Int] {
        (0..<rowCount).map { selected[$0 * k] }
    }
}
