/// A failure of an HDF5 operation, naming the file, the object and what was being done.
///
/// When libhdf5 itself refused, `reason` is `.library` and carries HDF5's own error
/// stack (innermost frame first), captured with `H5Ewalk2` at the moment of the failure.
/// Failures found by this layer (a dataset of another type or shape than asked for, a
/// malformed name) carry their own reason.
public struct HDF5Error: Error, Equatable, Sendable, CustomStringConvertible {
    /// Why the operation failed.
    public enum Reason: Equatable, Sendable {
        /// libhdf5 returned an error; its error stack, one line per frame.
        case library(stack: [String])
        /// The object holds another element type than the one asked for.
        case typeMismatch(expected: String, found: String)
        /// The object has another shape than the one asked for.
        case shapeMismatch(expected: [Int], found: [Int])
        /// The dataset's rank is not supported (this layer reads 1-D and 2-D datasets).
        case unsupportedRank(Int)
        /// No object or attribute of that name.
        case notFound
        /// The name cannot be used (empty, contains `/`, or `.`).
        case invalidName(String)
        /// The file's content is inconsistent (e.g. the stored bytes do not match the shape).
        case malformed(String)
    }

    /// The file (its path, or the name given to an in-memory image).
    public var file: String
    /// The HDF5 path of the object concerned (`/parameters/trunk.0.weight`), with
    /// `@name` appended for an attribute.
    public var path: String
    /// What was being done ("read dataset", "create group").
    public var operation: String
    /// Why it failed.
    public var reason: Reason

    public init(file: String, path: String, operation: String, reason: Reason) {
        self.file = file
        self.path = path
        self.operation = operation
        self.reason = reason
    }

    public var description: String {
        let head = "HDF5 error in file '\(file)' at '\(path)' while trying to \(operation)"
        switch reason {
        case let .library(stack):
            return stack.isEmpty
                ? "\(head): the HDF5 library reported a failure without details"
                : "\(head): " + stack.joined(separator: " <- ")
        case let .typeMismatch(expected, found):
            return "\(head): expected \(expected) elements, the file holds \(found)"
        case let .shapeMismatch(expected, found):
            return "\(head): expected shape \(expected), the file holds \(found)"
        case let .unsupportedRank(rank):
            return "\(head): the dataset has rank \(rank); only 1-D and 2-D datasets are supported"
        case .notFound:
            return "\(head): no such object or attribute"
        case let .invalidName(name):
            return "\(head): '\(name)' is not a valid HDF5 name (it must be non-empty, not '.', and contain no '/')"
        case let .malformed(detail):
            return "\(head): \(detail)"
        }
    }
}
