import HDF5Kit
import MoE

extension Checkpoint {
    /// The checkpoint in a snapshot of its HDF5 content (`HDF5File.snapshot()`, or one
    /// decoded from the reader process's answer), verified object by object.
    ///
    /// This is the step after libhdf5 of `decode(_:name:trustedKeys:parsing:)`; it calls
    /// no C code, whatever the snapshot holds.
    public static func read(_ snapshot: HDF5Snapshot, name: String) throws(CheckpointError) -> Checkpoint {
        try CheckpointReader(snapshot: snapshot, name: name).read()
    }
}

/// Reads format version 1 from a snapshot of the HDF5 file (made in this process or by
/// the reader process: plain values either way), verifying every object's kind, element
/// type and shape, and that nothing undefined is present.
struct CheckpointReader {
    let snapshot: HDF5Snapshot
    let name: String

    func read() throws(CheckpointError) -> Checkpoint {
        let root = Group(snapshot.root, path: "/", file: name)
        guard root.group.attributes["format"] != nil else {
            throw .notACheckpoint(file: name, reason: "its HDF5 root has no 'format' attribute")
        }
        let format = try root.string("format")
        guard format == Checkpoint.formatName else {
            throw .notACheckpoint(file: name, reason: "its format attribute is '\(format)', not '\(Checkpoint.formatName)'")
        }
        let version = try root.int("format_version")
        guard version == Int64(Checkpoint.formatVersion) else {
            throw .unsupportedVersion(file: name, version: Int(clamping: version))
        }
        var metadata = Checkpoint.Metadata(
            libraryVersion: try root.string("library_version"), created: try root.string("created"),
            description: try root.string("description"))
        metadata.formatVersion = Int(version)

        let known: [String: HDF5Group.Child.Kind] = [
            "model": .group, "parameters": .group, "classes": .dataset,
            "optimizer": .group, "training": .group, "sections": .group,
        ]
        for (child, node) in root.children {
            guard let kind = known[child] else { throw .unexpected(path: "/" + child, file: name) }
            guard kind == node.kind else {
                throw .wrongType(path: "/" + child, expected: "a \(kind)", actual: "a \(node.kind)", file: name)
            }
        }
        for required in ["model", "parameters", "classes"] where root.group.children[required] == nil {
            throw .missing(path: "/" + required, file: name)
        }

        let model = try readSection(try root.group("model"))

        var parameters: [String: Checkpoint.Parameter] = [:]
        let parameterGroup = try root.group("parameters")
        for (child, node) in parameterGroup.children {
            let dataset = try parameterGroup.dataset(child, node)
            let frozen = try dataset.int("frozen")
            guard frozen == 0 || frozen == 1 else {
                throw .invalidValue(path: dataset.path + "@frozen", reason: "must be 0 or 1, is \(frozen)", file: name)
            }
            parameters[child] = Checkpoint.Parameter(try dataset.matrix(), frozen: frozen == 1)
        }

        let classesDataset = try root.dataset("classes")
        let classes: Checkpoint.ClassLabels
        switch classesDataset.dataset.values {
        case let .int64(array):
            guard array.shape.count == 1 else {
                throw .wrongShape(path: "/classes", expected: [array.values.count], actual: array.shape, file: name)
            }
            classes = .integers(array.values)
        case let .strings(labels, _):
            classes = .strings(labels)
        case let other:
            throw .wrongType(path: "/classes", expected: "int64 or string", actual: other.storedType.description, file: name)
        }

        var optimizer: Checkpoint.OptimizerState?
        if root.group.children["optimizer"] != nil {
            let group = try root.group("optimizer")
            try group.expectChildren(["hyperparameters": .group, "state": .group])
            let kind = try group.string("kind")
            var hyperparameters: [String: Double] = [:]
            let hyperGroup = try group.group("hyperparameters")
            for attribute in hyperGroup.group.attributes.keys {
                hyperparameters[attribute] = try hyperGroup.double(attribute)
            }
            var state: [String: Matrix] = [:]
            try readStateTree(try group.group("state"), prefix: "", into: &state)
            optimizer = Checkpoint.OptimizerState(kind: kind, hyperparameters: hyperparameters, state: state)
        }

        var training: Checkpoint.TrainingState?
        if root.group.children["training"] != nil {
            let group = try root.group("training")
            try group.expectChildren(["counters": .group, "generators": .group])
            var state = Checkpoint.TrainingState()
            if group.group.attributes["learning_rate"] != nil { state.learningRate = try group.double("learning_rate") }
            let counters = try group.group("counters")
            for attribute in counters.group.attributes.keys { state.counters[attribute] = try counters.int(attribute) }
            let generators = try group.group("generators")
            for (child, node) in generators.children {
                let dataset = try generators.dataset(child, node)
                guard case let .uint64(array) = dataset.dataset.values else {
                    throw .wrongType(path: dataset.path, expected: "uint64", actual: dataset.dataset.values.storedType.description, file: name)
                }
                guard array.shape == [4] else { throw .wrongShape(path: dataset.path, expected: [4], actual: array.shape, file: name) }
                state.generators[child] = array.values
            }
            training = state
        }

        var sections: [String: CheckpointSection] = [:]
        if root.group.children["sections"] != nil {
            let group = try root.group("sections")
            for (child, node) in group.children {
                guard case let .group(section) = node else {
                    throw .wrongType(path: "/sections/" + child, expected: "a group", actual: "a \(node.kind)", file: name)
                }
                sections[child] = try readSection(Group(section, path: "/sections/" + child, file: name))
            }
        }

        var checkpoint = Checkpoint(metadata: metadata, model: model, parameters: parameters, classes: classes,
                                    optimizer: optimizer, training: training, sections: sections)
        checkpoint.source = name
        return checkpoint
    }

    /// Reads a generic section (a group with attributes, datasets and subgroups).
    private func readSection(_ group: Group) throws(CheckpointError) -> CheckpointSection {
        var section = CheckpointSection()
        for (attribute, value) in group.group.attributes {
            switch value {
            case let .int64(v): section.attributes[attribute] = .int(v)
            case let .double(v): section.attributes[attribute] = .double(v)
            case let .string(v): section.attributes[attribute] = .string(v)
            case let .int64s(v): section.attributes[attribute] = .integers(v)
            case let .doubles(v): section.attributes[attribute] = .doubles(v)
            }
        }
        for (child, node) in group.children {
            let path = group.childPath(child)
            switch node {
            case let .group(subgroup):
                section.children[child] = try readSection(Group(subgroup, path: path, file: name))
            case let .dataset(snapshot):
                let dataset = Dataset(dataset: snapshot, path: path, file: name)
                switch snapshot.values {
                case .float32: section.datasets[child] = .float32(try dataset.matrix())
                case let .float64(a): section.datasets[child] = .float64(a.values, shape: a.shape)
                case let .int64(a): section.datasets[child] = .int64(a.values, shape: a.shape)
                case let .uint64(a): section.datasets[child] = .uint64(a.values, shape: a.shape)
                case let .strings(v, _): section.datasets[child] = .strings(v)
                case let other:
                    throw .wrongType(path: path, expected: "float32, float64, int64, uint64 or string",
                                     actual: other.storedType.description, file: name)
                }
            case .link, .other:
                throw .unexpected(path: path, file: name)
            }
        }
        // Palette-coded float32 datasets (CheckpointPalette): indices and their palette
        // become the matrix they stand for.
        for key in section.datasets.keys.sorted() where key.hasSuffix(CheckpointPalette.suffix) {
            let base = String(key.dropLast(CheckpointPalette.suffix.count))
            let path = group.childPath(key)
            guard case let .float32(palette) = section.datasets[key] else {
                throw .wrongType(path: path, expected: "float32", actual: section.datasets[key]!.typeName, file: name)
            }
            guard case let .int64(indices, shape) = section.datasets[base] else {
                throw .invalidValue(path: path, reason: "a palette needs an int64 dataset of indices named '\(base)' beside it", file: name)
            }
            section.datasets[base] = .float32(try CheckpointPalette.decode(
                indices: indices, shape: shape, palette: palette, path: group.childPath(base), file: name))
            section.datasets[key] = nil
        }
        return section.located(at: CheckpointOrigin(file: name, path: group.path))
    }

    /// Reads the optimizer state tree: datasets are state entries keyed by their path below `state`.
    private func readStateTree(_ group: Group, prefix: String, into state: inout [String: Matrix]) throws(CheckpointError) {
        for (child, node) in group.children {
            let key = prefix.isEmpty ? child : prefix + "/" + child
            switch node {
            case let .group(subgroup): try readStateTree(Group(subgroup, path: group.childPath(child), file: name), prefix: key, into: &state)
            case let .dataset(dataset): state[key] = try Dataset(dataset: dataset, path: group.childPath(child), file: name).matrix()
            case .link, .other: throw .unexpected(path: "/optimizer/state/" + key, file: name)
            }
        }
    }
}

extension CheckpointReader {
    /// A group of the snapshot with its path, and typed access that names both in errors.
    struct Group {
        let group: HDF5GroupSnapshot
        let path: String
        let file: String

        init(_ group: HDF5GroupSnapshot, path: String, file: String) {
            self.group = group
            self.path = path
            self.file = file
        }

        func childPath(_ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }

        /// The children in the order HDF5 lists them (by the bytes of their names).
        var children: [(String, HDF5Node)] {
            group.children.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, $0.value) }
        }

        func group(_ name: String) throws(CheckpointError) -> Group {
            guard let node = group.children[name] else { throw .missing(path: childPath(name), file: file) }
            guard case let .group(child) = node else {
                throw .wrongType(path: childPath(name), expected: "a group", actual: "a \(node.kind)", file: file)
            }
            return Group(child, path: childPath(name), file: file)
        }

        func dataset(_ name: String) throws(CheckpointError) -> Dataset {
            guard let node = group.children[name] else { throw .missing(path: childPath(name), file: file) }
            return try dataset(name, node)
        }

        func dataset(_ name: String, _ node: HDF5Node) throws(CheckpointError) -> Dataset {
            guard case let .dataset(child) = node else {
                throw .wrongType(path: childPath(name), expected: "a dataset", actual: "a \(node.kind)", file: file)
            }
            return Dataset(dataset: child, path: childPath(name), file: file)
        }

        /// Every child must be listed with its kind, and every listed one present.
        func expectChildren(_ expected: [String: HDF5Group.Child.Kind]) throws(CheckpointError) {
            for (name, node) in children {
                guard let kind = expected[name] else { throw .unexpected(path: childPath(name), file: file) }
                guard kind == node.kind else {
                    throw .wrongType(path: childPath(name), expected: "a \(kind)", actual: "a \(node.kind)", file: file)
                }
            }
            for required in expected.keys.sorted() where group.children[required] == nil {
                throw .missing(path: childPath(required), file: file)
            }
        }

        func string(_ name: String) throws(CheckpointError) -> String {
            let value = try attribute(group.attributes, path, name, file)
            guard case let .string(v) = value else { throw wrongAttribute(path, name, "a string", value, file) }
            return v
        }

        func int(_ name: String) throws(CheckpointError) -> Int64 {
            let value = try attribute(group.attributes, path, name, file)
            guard case let .int64(v) = value else { throw wrongAttribute(path, name, "an integer", value, file) }
            return v
        }

        func double(_ name: String) throws(CheckpointError) -> Double {
            let value = try attribute(group.attributes, path, name, file)
            guard case let .double(v) = value else { throw wrongAttribute(path, name, "a real number", value, file) }
            return v
        }
    }

    /// A dataset of the snapshot with its path.
    struct Dataset {
        let dataset: HDF5DatasetSnapshot
        let path: String
        let file: String

        func int(_ name: String) throws(CheckpointError) -> Int64 {
            let value = try attribute(dataset.attributes, path, name, file)
            guard case let .int64(v) = value else { throw wrongAttribute(path, name, "an integer", value, file) }
            return v
        }

        /// A float32 2-D dataset as a matrix.
        func matrix() throws(CheckpointError) -> Matrix {
            guard case let .float32(array) = dataset.values else {
                throw .wrongType(path: path, expected: "float32", actual: dataset.values.storedType.description, file: file)
            }
            guard array.shape.count == 2 else {
                throw .wrongType(path: path, expected: "a 2-D float32 matrix", actual: "a \(array.shape.count)-D float32 array", file: file)
            }
            return Matrix(rows: array.shape[0], columns: array.shape[1], scalars: array.values)
        }
    }
}

private func attribute(_ attributes: [String: HDF5AttributeValue], _ path: String, _ name: String, _ file: String) throws(CheckpointError) -> HDF5AttributeValue {
    guard let value = attributes[name] else { throw .missing(path: path + "@" + name, file: file) }
    return value
}

private func wrongAttribute(_ path: String, _ attribute: String, _ expected: String, _ value: HDF5AttributeValue, _ file: String) -> CheckpointError {
    let actual: String
    switch value {
    case .int64: actual = "an integer"
    case .double: actual = "a real number"
    case .string: actual = "a string"
    case .int64s: actual = "a list of integers"
    case .doubles: actual = "a list of real numbers"
    }
    return .wrongType(path: path + "@" + attribute, expected: expected, actual: actual, file: file)
}
