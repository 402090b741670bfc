/// Saved covariance statistics that cannot be read back.
public enum CovarianceError: Error, Equatable, CustomStringConvertible {
    /// An array the state needs is absent.
    case missingArray(String)
    /// An array the state does not know.
    case unknownArray(String)
    /// An array has the wrong length or impossible values.
    case malformedArray(name: String, reason: String)

    public var description: String {
        switch self {
        case let .missingArray(name): "covariance statistics lack the array '\(name)'"
        case let .unknownArray(name): "covariance statistics contain an unknown array '\(name)'"
        case let .malformedArray(name, reason): "covariance statistics array '\(name)' is malformed: \(reason)"
        }
    }
}
