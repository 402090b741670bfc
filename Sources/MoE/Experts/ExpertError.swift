/// Why a stored mixture-of-experts architecture cannot be built.
///
/// `MixtureOfExperts.Architecture.validate()` throws it before anything is allocated, so
/// that a damaged or hand-edited checkpoint is refused with a sentence naming the part at
/// fault instead of stopping the program on a precondition.
public enum ExpertError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The trunk is not a chain of dense layers with activations between them.
    case invalidTrunk(reason: String)
    /// An expert's description does not fit the trunk.
    case invalidExpert(index: Int, reason: String)
    /// The gate's description does not fit the model.
    case invalidGate(reason: String)
    /// An output extension has a width below 1.
    case invalidExtension(index: Int, width: Int)
    /// The architecture needs more parameters than the caller allows.
    case tooLarge(scalars: Int, limit: Int)

    public var description: String {
        switch self {
        case let .invalidTrunk(reason):
            "The trunk cannot be built: \(reason)."
        case let .invalidExpert(index, reason):
            "Expert \(index) cannot be built: \(reason)."
        case let .invalidGate(reason):
            "The gate cannot be built: \(reason)."
        case let .invalidExtension(index, width):
            "Output extension \(index) has width \(width); it must add at least one class."
        case let .tooLarge(scalars, limit):
            "The architecture needs \(scalars) parameters, more than the limit of \(limit)."
        }
    }
}
