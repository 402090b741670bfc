/// Why class statistics could not be restored or turned into a discriminant.
///
/// Every case names the quantity at fault and, where it applies, the expected and the
/// actual size, so that a damaged checkpoint or a degenerate stream is diagnosed from
/// the message alone.
public enum DiscriminantError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No sample has been seen, so there is no class to discriminate.
    case noSamples
    /// The pooled covariance is not positive definite even after shrinkage: the
    /// Cholesky factorisation stopped at the leading minor of order `minor`.
    case notPositiveDefinite(featureCount: Int, minor: Int, shrinkage: Double)
    /// A fixed shrinkage intensity outside `[0, 1]` (or not a number).
    case invalidShrinkage(Double)
    /// A saved state lacks an entry.
    case missingState(name: String)
    /// A saved state has an entry this type does not know.
    case unknownState(name: String)
    /// A saved entry has the wrong number of values.
    case wrongStateSize(name: String, expected: Int, actual: Int)
    /// A saved entry holds a value that cannot be (NaN, infinite, a negative count).
    case invalidStateValue(name: String, index: Int, value: Double)

    public var description: String {
        switch self {
        case .noSamples:
            return "The class statistics hold no sample yet, so no discriminant can be fitted."
        case let .notPositiveDefinite(featureCount, minor, shrinkage):
            return "The pooled \(featureCount)x\(featureCount) covariance (shrinkage \(shrinkage)) is not "
                + "positive definite: the Cholesky factorisation failed at leading minor \(minor). "
                + "Use Oracle Approximating Shrinkage or a fixed shrinkage above 0."
        case let .invalidShrinkage(value):
            return "A fixed shrinkage must lie in [0, 1], got \(value)."
        case let .missingState(name):
            return "The saved class statistics have no entry '\(name)'."
        case let .unknownState(name):
            return "The saved class statistics have an unknown entry '\(name)'."
        case let .wrongStateSize(name, expected, actual):
            return "The saved class statistics entry '\(name)' should hold \(expected) values, it holds \(actual)."
        case let .invalidStateValue(name, index, value):
            return "The saved class statistics entry '\(name)' holds the invalid value \(value) at index \(index)."
        }
    }
}
