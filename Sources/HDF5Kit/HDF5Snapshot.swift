/// A whole HDF5 file read into plain Swift values: every group, dataset and attribute,
/// with nothing left open in libhdf5.
///
/// `HDF5File.snapshot()` makes one in this process. A program that must not let libhdf5
/// parse an untrusted file in its own process has a child process make it and send it
/// back in the wire format (`HDF5Snapshot+Wire.swift`), which the parent decodes with
/// every length, count and shape checked before anything is allocated. Both ways give
/// the same value.
///
/// ```
/// let snapshot = try HDF5File.open(image: bytes, name: "run.h5").snapshot()
/// if case let .dataset(weights)? = snapshot.root.children["weights"],
///    case let .float32(array) = weights.values { print(array.shape) }
/// ```
public struct HDF5Snapshot: Sendable, Equatable {
    /// The deepest nesting of groups a snapshot holds (the root group is at depth 0).
    public static let maximumDepth = 32

    /// The root group `/`.
    public var root: HDF5GroupSnapshot

    public init(root: HDF5GroupSnapshot) {
        self.root = root
    }
}

/// A group: its attributes and its children by link name.
public struct HDF5GroupSnapshot: Sendable, Equatable {
    public var attributes: [String: HDF5AttributeValue]
    public var children: [String: HDF5Node]

    public init(attributes: [String: HDF5AttributeValue] = [:], children: [String: HDF5Node] = [:]) {
        self.attributes = attributes
        self.children = children
    }
}

/// What a link in a group leads to.
public indirect enum HDF5Node: Sendable, Equatable {
    case group(HDF5GroupSnapshot)
    case dataset(HDF5DatasetSnapshot)
    /// A soft or external link (never followed).
    case link
    /// A named datatype or another kind of object (not read).
    case other

    /// The kind, as `HDF5Group.children()` reports it.
    public var kind: HDF5Group.Child.Kind {
        switch self {
        case .group: .group
        case .dataset: .dataset
        case .link: .link
        case .other: .other
        }
    }
}

/// A dataset: its attributes and its values.
public struct HDF5DatasetSnapshot: Sendable, Equatable {
    public var attributes: [String: HDF5AttributeValue]
    public var values: HDF5Values

    public init(attributes: [String: HDF5AttributeValue] = [:], values: HDF5Values) {
        self.attributes = attributes
        self.values = values
    }
}

/// The values of a dataset, in the element type the file stores (never converted).
///
/// Numeric datasets are 1-D or 2-D, string datasets 1-D, as `HDF5Dataset.read(as:)` and
/// `readStrings()` require; a dataset of another element type is kept as `unsupported`
/// with its type and shape, so a reader can say what it found.
public enum HDF5Values: Sendable, Equatable {
    case float32(HDF5Array<Float>)
    case float64(HDF5Array<Double>)
    case int32(HDF5Array<Int32>)
    case int64(HDF5Array<Int64>)
    case uint8(HDF5Array<UInt8>)
    case uint64(HDF5Array<UInt64>)
    /// A 1-D dataset of strings, variable-length or fixed-length in the file.
    case strings([String], variableLength: Bool)
    /// An element type this layer does not read, described (`int16`, `compound`).
    case unsupported(type: String, shape: [Int])

    /// What the file stores.
    public var storedType: HDF5StoredType {
        switch self {
        case .float32: .element(.float32)
        case .float64: .element(.float64)
        case .int32: .element(.int32)
        case .int64: .element(.int64)
        case .uint8: .element(.uint8)
        case .uint64: .element(.uint64)
        case let .strings(_, variableLength): .string(variableLength: variableLength)
        case let .unsupported(type, _): .other(type)
        }
    }

    /// The dimensions.
    public var shape: [Int] {
        switch self {
        case let .float32(a): a.shape
        case let .float64(a): a.shape
        case let .int32(a): a.shape
        case let .int64(a): a.shape
        case let .uint8(a): a.shape
        case let .uint64(a): a.shape
        case let .strings(v, _): [v.count]
        case let .unsupported(_, shape): shape
        }
    }

    /// The values of element type `T`, or nil when the dataset holds another type.
    public func array<T: HDF5Scalar>(of _: T.Type) -> HDF5Array<T>? {
        switch self {
        case let .float32(a): a as? HDF5Array<T>
        case let .float64(a): a as? HDF5Array<T>
        case let .int32(a): a as? HDF5Array<T>
        case let .int64(a): a as? HDF5Array<T>
        case let .uint8(a): a as? HDF5Array<T>
        case let .uint64(a): a as? HDF5Array<T>
        case .strings, .unsupported: nil
        }
    }
}
