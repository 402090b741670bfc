/// One column of a class-posterior gate's head when the gate routes by pairs: a class,
/// and the slot (the trunk, or an expert) that was in charge of the samples of that
/// class the statistics counted under this column.
///
/// METHOD.md section 5: routing by class alone cannot give an expert a domain (every
/// permutation of the same images has the same classes). So the gate learns
/// `p(slot, class | x)` over these pairs and routes each input to the slot with the most
/// posterior mass, `Σ_c p(s, c | x)`; the slot then answers among its own classes.
public struct GatePair: Sendable, Codable, Equatable, Hashable, CustomStringConvertible {
    /// The gate slot: 0 for the trunk when the gate includes it, then one per expert.
    public var slot: Int
    /// The class.
    public var label: Int

    public init(slot: Int, label: Int) {
        self.slot = slot
        self.label = label
    }

    public var description: String { "(slot \(slot), class \(label))" }
}
