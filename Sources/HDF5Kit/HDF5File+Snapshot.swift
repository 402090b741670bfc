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
        return HDF5Snapshot(root: try root().snapshot(depth: 0, visited: &visited))
    }
}

extension HDF5Group {
    fileprivate func snapshot(depth: Int, visited: inout Set<UInt64>) throws(HDF5Error) -> HDF5GroupSnapshot {
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
                node = .group(try self.group(child.name).snapshot(depth: depth + 1, visited: &visited))
            case .dataset: node = .dataset(try dataset(child.name).snapshot(visited: &visited))
            case .link: node = .link
            case .other: node = .other
            }
            try insertOnce(node, named: child.name, into: &group.children, site: handle.site)
        }
        return group
    }
}

extension HDF5Dataset {
    fileprivate func snapshot(visited: inout Set<UInt64>) throws(HDF5Error) -> HDF5DatasetSnapshot {
        try handle.visit(&visited)
        let values: HDF5Values
        switch try storedType() {
        case .element(.float32): values = .float32(try read())
        case .element(.float64): values = .float64(try read())
        case .element(.int32): values = .int32(try read())
        case .element(.int64): values = .int64(try read())
        case .element(.uint8): values = .uint8(try read())
        case .element(.uint64): values = .uint64(try read())
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
