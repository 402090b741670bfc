/// One experience of a scenario: which samples it holds and how they are presented.
public struct Experience: Sendable, Equatable {
    /// Position in the stream (0-based); also its task label.
    public let index: Int
    /// The classes it holds, ascending (all classes in a permuted scenario). A
    /// task-incremental evaluation masks logits to these.
    public let classes: [Int]
    /// Rows of the scenario's training set, in data order.
    public let trainIndices: [Int]
    /// Rows of the scenario's test set, in data order.
    public let testIndices: [Int]
    /// The pixel permutation `x'[k] = x[π[k]]` of a permuted scenario; nil for none.
    public let pixelPermutation: [Int]?
}
