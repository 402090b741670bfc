/// What can go wrong while writing a report; every case names the path at fault.
public enum ReportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The report directory does not exist and cannot be created.
    case cannotCreateDirectory(path: String, reason: String)
    /// Something that is not a directory is in the way.
    case notADirectory(path: String)
    /// A report file cannot be written.
    case cannotWrite(path: String, reason: String)
    /// The report cannot be encoded as JSON (a value JSON cannot hold).
    case cannotEncode(reason: String)

    public var description: String {
        switch self {
        case let .cannotCreateDirectory(path, reason):
            "Cannot create the report directory \(path): \(reason)"
        case let .notADirectory(path):
            "Cannot write the report into \(path): it exists and is not a directory"
        case let .cannotWrite(path, reason):
            "Cannot write the report file \(path): \(reason)"
        case let .cannotEncode(reason):
            "Cannot encode the report as JSON: \(reason)"
        }
    }
}
