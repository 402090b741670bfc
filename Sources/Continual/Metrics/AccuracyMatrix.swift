/// The accuracy matrix of a continual-learning run and the figures derived from it.
///
/// `R[i][j]` is the test accuracy on experience `j` measured after training through
/// experience `i` (both 0-based). Entries are filled incrementally as the stream goes;
/// an entry never measured is `nil`. Entries above the diagonal (`j > i`: an experience
/// not trained yet) are allowed; they show forward transfer and are ignored by every
/// figure below. The matrix grows when an index beyond its size is recorded.
///
/// With `t` the last trained row (the largest `i` with any entry), so that a stream paused
/// after `K` experiences is scored on what it has seen:
///
/// ```
/// A_i         = mean_{j=0..i} R[i][j]                        (average accuracy after i)
/// ACC         = A_t = mean_{j=0..t} R[t][j]                  (final average accuracy)
/// BWT         = mean_{j=0..t-1} (R[t][j] - R[j][j])          (backward transfer)
/// F           = mean_{j=0..t-1} (max_{i=j..t-1} R[i][j] - R[t][j])      (forgetting)
/// F_first     = mean_{j=0..t-1} (R[j][j] - R[t][j]) = -BWT   (Avalanche's StreamForgetting)
/// ```
///
/// BWT follows Lopez-Paz and Ranzato, "Gradient Episodic Memory for Continual Learning"
/// (NeurIPS 2017). `F` is the "best earlier accuracy minus final accuracy" of Chaudhry et
/// al., "Riemannian Walk for Incremental Learning" (ECCV 2018). Avalanche's
/// `StreamForgetting` subtracts from the accuracy measured right after training on `j`
/// instead (`F_first`); `F >= F_first` always. With one trained experience (`t = 0`) BWT
/// and both forgettings are undefined and are `nil` (JSON `null`), never 0. An entry
/// needed by a figure but never measured makes that figure `nil` as well.
public struct AccuracyMatrix: Codable, Sendable, Equatable {
    /// `values[i][j]` = R[i][j]; square, `nil` where not measured.
    public private(set) var values: [[Double?]]

    /// An empty matrix that grows as entries are recorded.
    public init() {
        values = []
    }

    /// A matrix of `experienceCount` x `experienceCount` unmeasured entries.
    public init(experienceCount: Int) {
        precondition(experienceCount >= 0, "An accuracy matrix needs a non-negative number of experiences, got \(experienceCount)")
        values = Array(repeating: Array(repeating: nil, count: experienceCount), count: experienceCount)
    }

    /// A matrix from rows (in tests and when loading); rows may be shorter than the size,
    /// missing entries are `nil`.
    public init(rows: [[Double?]]) {
        self.init(experienceCount: max(rows.count, rows.map(\.count).max() ?? 0))
        for (i, row) in rows.enumerated() {
            for (j, value) in row.enumerated() {
                if let value { record(value, trainedThrough: i, evaluatedOn: j) }
            }
        }
    }

    /// The matrix's size: the number of experiences it can hold in each direction.
    public var experienceCount: Int { values.count }

    /// Records R[i][j], growing the matrix if needed.
    ///
    /// - Precondition: `accuracy` is in `0...1`; indices are non-negative.
    public mutating func record(_ accuracy: Double, trainedThrough i: Int, evaluatedOn j: Int) {
        precondition(i >= 0 && j >= 0, "Experience indices must be non-negative, got R[\(i)][\(j)]")
        precondition(accuracy >= 0 && accuracy <= 1, "An accuracy must lie in 0...1, got \(accuracy) for R[\(i)][\(j)]")
        grow(to: max(i, j) + 1)
        values[i][j] = accuracy
    }

    /// Records R[i][j] = correct / total.
    ///
    /// - Precondition: `0 <= correct <= total` and `total > 0`.
    public mutating func record(correct: Int, total: Int, trainedThrough i: Int, evaluatedOn j: Int) {
        precondition(total > 0 && correct >= 0 && correct <= total,
                     "An accuracy needs 0 <= correct <= total and total > 0, got \(correct) of \(total)")
        record(Double(correct) / Double(total), trainedThrough: i, evaluatedOn: j)
    }

    /// R[i][j], or `nil` if not measured (or outside the matrix).
    public subscript(trainedThrough i: Int, evaluatedOn j: Int) -> Double? {
        guard i >= 0, j >= 0, i < values.count, j < values.count else { return nil }
        return values[i][j]
    }

    /// The last trained row `t`: the largest `i` with any entry, `nil` for an empty matrix.
    public var lastTrainedExperience: Int? {
        values.lastIndex { row in row.contains { $0 != nil } }
    }

    /// Average accuracy after training through experience `i`: `mean_{j<=i} R[i][j]`,
    /// `nil` if an entry is missing.
    public func averageAccuracy(after i: Int) -> Double? {
        guard i >= 0, i < values.count else { return nil }
        return mean((0...i).map { values[i][$0] })
    }

    /// The average accuracy after each trained experience, `A_0 ... A_t`.
    public var averageAccuracies: [Double?] {
        guard let t = lastTrainedExperience else { return [] }
        return (0...t).map { averageAccuracy(after: $0) }
    }

    /// ACC: the average accuracy after the last trained experience.
    public var finalAverageAccuracy: Double? {
        lastTrainedExperience.flatMap { averageAccuracy(after: $0) }
    }

    /// BWT: the mean change, from just after training to the end, of each earlier
    /// experience's accuracy. `nil` with fewer than two trained experiences.
    public var backwardTransfer: Double? {
        guard let t = lastTrainedExperience, t > 0 else { return nil }
        return mean((0..<t).map { j in difference(values[t][j], values[j][j]) })
    }

    /// Forgetting (Chaudhry et al. 2018): the mean drop from each earlier experience's
    /// best accuracy before the last experience to its final accuracy. `nil` with fewer
    /// than two trained experiences.
    public var forgetting: Double? {
        guard let t = lastTrainedExperience, t > 0 else { return nil }
        return mean((0..<t).map { j -> Double? in
            let earlier = (j..<t).map { values[$0][j] }
            guard !earlier.contains(where: { $0 == nil }) else { return nil }
            return difference(earlier.compactMap { $0 }.max(), values[t][j])
        })
    }

    /// Avalanche's stream forgetting: the mean drop from the accuracy right after
    /// training each earlier experience to its final accuracy; equals `-BWT`.
    public var forgettingSinceFirstEvaluation: Double? {
        backwardTransfer.map { -$0 }
    }

    private enum CodingKeys: String, CodingKey {
        case values
    }

    /// Decodes `{"values": [[...]]}`, checking that it is square with accuracies in 0...1.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let rows = try container.decode([[Double?]].self, forKey: .values)
        for (i, row) in rows.enumerated() {
            guard row.count == rows.count else {
                throw DecodingError.dataCorruptedError(
                    forKey: .values, in: container,
                    debugDescription: "Accuracy matrix row \(i) has \(row.count) entries; a \(rows.count)x\(rows.count) matrix needs \(rows.count)")
            }
            for (j, value) in row.enumerated() {
                if let value, !(value >= 0 && value <= 1) {
                    throw DecodingError.dataCorruptedError(
                        forKey: .values, in: container,
                        debugDescription: "Accuracy matrix entry R[\(i)][\(j)] = \(value) is not in 0...1")
                }
            }
        }
        values = rows
    }

    private mutating func grow(to size: Int) {
        guard size > values.count else { return }
        for i in values.indices {
            values[i].append(contentsOf: Array(repeating: nil, count: size - values.count))
        }
        values.append(contentsOf: Array(repeating: Array(repeating: nil, count: size), count: size - values.count))
    }

    private func difference(_ a: Double?, _ b: Double?) -> Double? {
        guard let a, let b else { return nil }
        return a - b
    }

    private func mean(_ items: [Double?]) -> Double? {
        guard !items.isEmpty, !items.contains(where: { $0 == nil }) else { return nil }
        return items.reduce(0) { $0 + $1! } / Double(items.count)
    }
}
