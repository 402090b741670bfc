import MoE

/// A value stored as an HDF5 attribute: a number, a string or a short list of numbers.
public enum CheckpointAttribute: Equatable, Sendable, CustomStringConvertible {
    case int(Int64)
    case double(Double)
    case string(String)
    case integers([Int64])
    case doubles([Double])

    /// The kind, for error messages.
    public var typeName: String {
        switch self {
        case .int: "an integer"
        case .double: "a real number"
        case .string: "a string"
        case .integers: "a list of integers"
        case .doubles: "a list of real numbers"
        }
    }

    public var description: String {
        switch self {
        case let .int(v): "\(v)"
        case let .double(v): "\(v)"
        case let .string(v): "\"\(v)\""
        case let .integers(v): "\(v)"
        case let .doubles(v): "\(v)"
        }
    }
}

/// An array stored as an HDF5 dataset (1-D or 2-D, row-major).
///
/// `float32` is always a 2-D `Matrix` (float32 `[rows, columns]` on disk); the other
/// element types carry their shape, which has one or two dimensions whose product is
/// the number of values.
public enum CheckpointArray: Equatable, Sendable {
    case float32(Matrix)
    case float64([Double], shape: [Int])
    case int64([Int64], shape: [Int])
    case uint64([UInt64], shape: [Int])
    /// Variable-length UTF-8 strings, 1-D.
    case strings([String])

    /// A 1-D float64 array.
    public static func doubles(_ values: [Double]) -> CheckpointArray { .float64(values, shape: [values.count]) }
    /// A 1-D int64 array.
    public static func integers(_ values: [Int64]) -> CheckpointArray { .int64(values, shape: [values.count]) }
    /// A 1-D uint64 array.
    public static func unsigned(_ values: [UInt64]) -> CheckpointArray { .uint64(values, shape: [values.count]) }

    /// The dimensions.
    public var shape: [Int] {
        switch self {
        case let .float32(m): m.shape
        case let .float64(_, shape), let .int64(_, shape), let .uint64(_, shape): shape
        case let .strings(v): [v.count]
        }
    }

    /// The number of values.
    public var count: Int {
        switch self {
        case let .float32(m): m.count
        case let .float64(v, _): v.count
        case let .int64(v, _): v.count
        case let .uint64(v, _): v.count
        case let .strings(v): v.count
        }
    }

    /// The element type's name, as in the format document.
    public var typeName: String {
        switch self {
        case .float32: "float32"
        case .float64: "float64"
        case .int64: "int64"
        case .uint64: "uint64"
        case .strings: "string"
        }
    }

    /// Whether the shape is 1-D or 2-D and holds exactly the values.
    var isWellFormed: Bool {
        let shape = shape
        return (shape.count == 1 || shape.count == 2) && shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == count
    }
}

/// Where a section was read from, for error messages.
public struct CheckpointOrigin: Equatable, Sendable {
    /// The checkpoint file, or nil for a checkpoint built in memory.
    public var file: String?
    /// The HDF5 path of the section (`/sections/controller`).
    public var path: String

    public init(file: String?, path: String) {
        self.file = file
        self.path = path
    }

    func child(_ name: String) -> CheckpointOrigin {
        CheckpointOrigin(file: file, path: path == "/" ? "/" + name : path + "/" + name)
    }

    func attribute(_ name: String) -> String { path + "@" + name }
}

/// A generic, typed tree of named values: what any part of the framework puts in a
/// checkpoint without the format code knowing it.
///
/// It maps one-to-one onto HDF5: a section is a group, `attributes` are its
/// attributes, `datasets` its datasets and `children` its subgroups. Names are HDF5
/// link names (non-empty, no `/`, not `.`); a dataset and a child may not share a name.
///
/// ```
/// var statistics = CheckpointSection()
/// statistics.attributes["window"] = .int(12)
/// statistics.datasets["mean"] = .doubles(mean)
/// statistics.datasets["comoment"] = .float64(comoment, shape: [n, n])
/// checkpoint.sections["covariance"] = statistics
/// // ... after loading:
/// let mean = try checkpoint.section("covariance").doubles("mean", count: n)
/// ```
///
/// The typed accessors throw `CheckpointError.missing`, `.wrongType` or `.wrongShape`
/// naming the file and the full path of the value.
public struct CheckpointSection: Sendable, Equatable {
    public var attributes: [String: CheckpointAttribute]
    public var datasets: [String: CheckpointArray]
    public var children: [String: CheckpointSection]
    /// Where the section was read from (not part of equality).
    public internal(set) var origin: CheckpointOrigin

    public init(
        attributes: [String: CheckpointAttribute] = [:],
        datasets: [String: CheckpointArray] = [:],
        children: [String: CheckpointSection] = [:]
    ) {
        self.attributes = attributes
        self.datasets = datasets
        self.children = children
        origin = CheckpointOrigin(file: nil, path: "/")
    }

    public static func == (a: CheckpointSection, b: CheckpointSection) -> Bool {
        a.attributes == b.attributes && a.datasets == b.datasets && a.children == b.children
    }

    /// Whether the section holds nothing.
    public var isEmpty: Bool { attributes.isEmpty && datasets.isEmpty && children.isEmpty }

    /// This section with `origin` set, recursively.
    func located(at origin: CheckpointOrigin) -> CheckpointSection {
        var copy = self
        copy.origin = origin
        for (name, child) in children { copy.children[name] = child.located(at: origin.child(name)) }
        return copy
    }

    // MARK: Typed access

    /// The subsection `name`.
    public func child(_ name: String) throws(CheckpointError) -> CheckpointSection {
        guard let child = children[name] else { throw .missing(path: origin.child(name).path, file: origin.file) }
        return child.located(at: origin.child(name))
    }

    /// The attribute `name`.
    public func attribute(_ name: String) throws(CheckpointError) -> CheckpointAttribute {
        guard let value = attributes[name] else { throw .missing(path: origin.attribute(name), file: origin.file) }
        return value
    }

    /// The integer attribute `name`.
    public func int(_ name: String) throws(CheckpointError) -> Int64 {
        let value = try attribute(name)
        guard case let .int(v) = value else { throw wrongType(attribute: name, "an integer", value.typeName) }
        return v
    }

    /// The real attribute `name`.
    public func double(_ name: String) throws(CheckpointError) -> Double {
        let value = try attribute(name)
        guard case let .double(v) = value else { throw wrongType(attribute: name, "a real number", value.typeName) }
        return v
    }

    /// The string attribute `name`.
    public func string(_ name: String) throws(CheckpointError) -> String {
        let value = try attribute(name)
        guard case let .string(v) = value else { throw wrongType(attribute: name, "a string", value.typeName) }
        return v
    }

    /// The dataset `name`, whatever its type.
    public func dataset(_ name: String) throws(CheckpointError) -> CheckpointArray {
        guard let value = datasets[name] else { throw .missing(path: origin.child(name).path, file: origin.file) }
        return value
    }

    /// The float32 matrix `name`, optionally of a given shape.
    public func matrix(_ name: String, rows: Int? = nil, columns: Int? = nil) throws(CheckpointError) -> Matrix {
        let value = try dataset(name)
        guard case let .float32(m) = value else { throw wrongType(dataset: name, "float32", value.typeName) }
        if (rows.map { $0 != m.rows } ?? false) || (columns.map { $0 != m.columns } ?? false) {
            throw .wrongShape(path: origin.child(name).path, expected: [rows ?? m.rows, columns ?? m.columns],
                              actual: m.shape, file: origin.file)
        }
        return m
    }

    /// The float64 array `name`; with `shape`, it must have exactly that shape.
    public func doubles(_ name: String, shape: [Int]? = nil) throws(CheckpointError) -> [Double] {
        let value = try dataset(name)
        guard case let .float64(v, actual) = value else { throw wrongType(dataset: name, "float64", value.typeName) }
        try check(name, shape: actual, expected: shape)
        return v
    }

    /// The 1-D float64 array `name` of `count` values.
    public func doubles(_ name: String, count: Int) throws(CheckpointError) -> [Double] {
        try doubles(name, shape: [count])
    }

    /// The int64 array `name`; with `shape`, it must have exactly that shape.
    public func integers(_ name: String, shape: [Int]? = nil) throws(CheckpointError) -> [Int64] {
        let value = try dataset(name)
        guard case let .int64(v, actual) = value else { throw wrongType(dataset: name, "int64", value.typeName) }
        try check(name, shape: actual, expected: shape)
        return v
    }

    /// The uint64 array `name`; with `shape`, it must have exactly that shape.
    public func unsigned(_ name: String, shape: [Int]? = nil) throws(CheckpointError) -> [UInt64] {
        let value = try dataset(name)
        guard case let .uint64(v, actual) = value else { throw wrongType(dataset: name, "uint64", value.typeName) }
        try check(name, shape: actual, expected: shape)
        return v
    }

    /// The string array `name`; with `count`, it must have exactly that many strings.
    public func strings(_ name: String, count: Int? = nil) throws(CheckpointError) -> [String] {
        let value = try dataset(name)
        guard case let .strings(v) = value else { throw wrongType(dataset: name, "string", value.typeName) }
        try check(name, shape: [v.count], expected: count.map { [$0] })
        return v
    }

    /// Throws `.unexpected` for any attribute, dataset or child not listed (for readers
    /// that own a section's whole layout).
    public func expectOnly(
        attributes allowedAttributes: Set<String> = [], datasets allowedDatasets: Set<String> = [],
        children allowedChildren: Set<String> = []
    ) throws(CheckpointError) {
        for name in attributes.keys.sorted() where !allowedAttributes.contains(name) {
            throw .unexpected(path: origin.attribute(name), file: origin.file)
        }
        for name in datasets.keys.sorted() where !allowedDatasets.contains(name) {
            throw .unexpected(path: origin.child(name).path, file: origin.file)
        }
        for name in children.keys.sorted() where !allowedChildren.contains(name) {
            throw .unexpected(path: origin.child(name).path, file: origin.file)
        }
    }

    private func check(_ name: String, shape actual: [Int], expected: [Int]?) throws(CheckpointError) {
        if let expected, expected != actual {
            throw .wrongShape(path: origin.child(name).path, expected: expected, actual: actual, file: origin.file)
        }
    }

    private func wrongType(attribute name: String, _ expected: String, _ actual: String) -> CheckpointError {
        .wrongType(path: origin.attribute(name), expected: expected, actual: actual, file: origin.file)
    }

    private func wrongType(dataset name: String, _ expected: String, _ actual: String) -> CheckpointError {
        .wrongType(path: origin.child(name).path, expected: expected, actual: actual, file: origin.file)
    }
}
