extension HDF5File {
    /// Reads the whole file into plain values: every group, dataset and attribute, in
    /// the element types the file stores.
    ///
    /// Fails on the first object that cannot be read, with the error the object's own
    /// reader gives (a malformed structure, a numeric dataset that is not 1-D or 2-D, an
    /// attribute of an unsupported type), and also when an object is reached by two
    /// links (a cycle of hard links would otherwise never end), when groups are nested
    /// deeper than `HDF5Snapshot.maximumDepth`, or when two names of one object are equal
    /// as Swift strings (canonically equivalent Unicode). Soft and external links are
    /// recorded, never followed.
    public func snapshot() throws(HDF5Error) -> HDF5Snapshot {
        var visited: Set<UInt64> = []
        var deferred: Deferred? = nil
        return HDF5Snapshot(root: try root().snapshot(depth: 0, visited: &visited, deferring: &deferred))
    }

    /// Encodes the snapshot of the whole file in the wire format straight into memory:
    /// the structure is read first (every check of `snapshot()`), `memory(size)` then
    /// gives room for exactly `size` bytes, and libhdf5 reads each numeric dataset
    /// directly into its place. The bytes are those of
    /// `HDF5SnapshotWire.encode(.success(snapshot()))`, without the values ever being
    /// copied in between (what a reader process that answers through a mapped file
    /// wants). Returns the size.
    public func encodeSnapshot(into memory: (Int) -> UnsafeMutableRawBufferPointer?) throws(HDF5Error) -> Int {
        var visited: Set<UInt64> = []
        var deferred: Deferred? = [:]
        let snapshot = HDF5Snapshot(root: try root().snapshot(depth: 0, visited: &visited, deferring: &deferred))
        var measure = WireWriter(output: .measure)
        measure.deferred = deferred!
        measure.answer(.success(snapshot))
        let size = measure.position
        guard let buffer = memory(size), buffer.count >= size else {
            throw site.error("encode the snapshot", .malformed("no room for an answer of \(size) bytes"))
        }
        var writer = WireWriter(output: .memory(buffer))
        writer.deferred = deferred!
        writer.answer(.success(snapshot))
        precondition(!writer.failed && writer.position == size, "The encoding of a snapshot changed size between two passes")
        for read in writer.reads where read.bytes > 0 {
            try read.dataset.read(into: buffer.baseAddress! + read.offset, read.element)
        }
        return size
    }
}

/// Numeric datasets left unread by the walk, by path, with their element type.
typealias Deferred = [String: (dataset: HDF5Dataset, element: HDF5ElementType)]

extension HDF5Group {
    fileprivate func snapshot(depth: Int, visited: inout Set<UInt64>, deferring deferred: inout Deferred?) throws(HDF5Error) -> HDF5GroupSnapshot {
        try handle.visit(&visited)
        var group = HDF5GroupSnapshot(attributes: try attributes.all())
        for child in try children() {
            let node: HDF5Node
            switch child.kind {
            case .group:
                guard depth < HDF5Snapshot.maximumDepth else {
                    throw handle.site.child(child.name).error(
                        "open group '\(child.name)'", .malformed("groups are nested more than \(HDF5Snapshot.maximumDepth) deep"))
                }
                node = .group(try self.group(child.name).snapshot(depth: depth + 1, visited: &visited, deferring: &deferred))
            case .dataset: node = .dataset(try dataset(child.name).snapshot(visited: &visited, deferring: &deferred))
            case .link: node = .link
            case .other: node = .other
            }
            try insertOnce(node, named: child.name, into: &group.children, site: handle.site)
        }
        return group
    }
}

extension HDF5Dataset {
    fileprivate func snapshot(visited: inout Set<UInt64>, deferring deferred: inout Deferred?) throws(HDF5Error) -> HDF5DatasetSnapshot {
        try handle.visit(&visited)
        /// The values, or (when deferring) only the shape, checked as `read(as:)` checks.
        func array<T: HDF5Scalar>(_: T.Type) throws(HDF5Error) -> HDF5Array<T> {
            guard deferred != nil else { return try read(as: T.self) }
            let shape = try plan(T.hdf5ElementType)
            deferred![path] = (self, T.hdf5ElementType)
            return HDF5Array(values: [], shape: shape)
        }
        let values: HDF5Values
        switch try storedType() {
        case .element(.float32): values = .float32(try array(Float.self))
        case .element(.float64): values = .float64(try array(Double.self))
        case .element(.int32): values = .int32(try array(Int32.self))
        case .element(.int64): values = .int64(try array(Int64.self))
        case .element(.uint8): values = .uint8(try array(UInt8.self))
        case .element(.uint64): values = .uint64(try array(UInt64.self))
        case let .string(variableLength): values = .strings(try readStrings(), variableLength: variableLength)
        case let .other(type): values = .unsupported(type: type, shape: try shape())
        }
        return HDF5DatasetSnapshot(attributes: try attributes.all(), values: values)
    }
}

extension HDF5Attributes {
    /// Every attribute by name (an error if one has an unsupported type).
    public func all() throws(HDF5Error) -> [String: HDF5AttributeValue] {
        var result: [String: HDF5AttributeValue] = [:]
        for name in try names() {
            try insertOnce(try value(name), named: name, into: &result, site: handle.site)
        }
        return result
    }
}

extension ObjectHandle {
    /// Records the object as visited; an error if it was visited before.
    func visit(_ visited: inout Set<UInt64>) throws(HDF5Error) {
        let operation = "identify the object"
        let address = try withHDF5 { () throws(HDF5Error) -> UInt64 in try self.address(operation) }
        guard visited.insert(address).inserted else {
            throw site.error(operation, .malformed("the object is reached by more than one link (a shared object or a cycle of hard links)"))
        }
    }
}

/// Adds `value` under `name`, refusing a name equal (as a Swift string) to one present.
private func insertOnce<Value>(_ value: Value, named name: String, into dictionary: inout [String: Value], site: Site) throws(HDF5Error) {
    guard dictionary[name] == nil else {
        throw site.error("list names", .malformed("two names equal to '\(name)' as Unicode text"))
    }
    dictionary[name] = value
}
