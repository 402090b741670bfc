import HDF5Kit
import MoE

// The HDF5 layout of format version 1 (docs/checkpoint-format.md):
//
//   /                              attrs format, format_version, library_version, created, description
//   /model                         the architecture (a generic section)
//   /parameters/<dotted path>      float32 [rows, columns], attr frozen (0 or 1)
//   /classes                       int64 [k] or string [k]
//   /optimizer                     attr kind; /optimizer/hyperparameters (float64 attrs);
//                                  /optimizer/state/<kind>/<path> float32 [rows, columns]
//   /training                      attr learning_rate (optional); /training/counters (int64 attrs);
//                                  /training/generators/<name> uint64 [4]
//   /sections/<name>               generic sections

extension Checkpoint {
    /// The value of the root attribute `format`.
    static let formatName = "moe-checkpoint"

    /// Writes the checkpoint's tree into `file` (format version 1).
    func write(to file: HDF5File) throws(CheckpointError) {
        do {
            let root = try file.root()
            try root.attributes.set("format", .string(Self.formatName))
            try root.attributes.set("format_version", .int64(Int64(Self.formatVersion)))
            try root.attributes.set("library_version", .string(metadata.libraryVersion))
            try root.attributes.set("created", .string(metadata.created))
            try root.attributes.set("description", .string(metadata.description))

            try Self.write(model, into: try root.createGroup("model"), origin: "/model")

            let group = try root.createGroup("parameters")
            for path in parameters.keys.sorted() {
                let parameter = parameters[path]!
                let dataset = try group.createDataset(path, values: parameter.value.scalars, shape: parameter.value.shape)
                try dataset.attributes.set("frozen", .int64(parameter.frozen ? 1 : 0))
            }

            switch classes {
            case let .integers(labels): try root.createDataset("classes", values: labels, shape: [labels.count])
            case let .strings(labels): try root.createDataset("classes", strings: labels)
            }

            if let optimizer {
                let group = try root.createGroup("optimizer")
                try group.attributes.set("kind", .string(optimizer.kind))
                let hyperparameters = try group.createGroup("hyperparameters")
                for (name, value) in optimizer.hyperparameters.sorted(by: { $0.key < $1.key }) {
                    try hyperparameters.attributes.set(name, .double(value))
                }
                let state = try group.createGroup("state")
                var groups: [String: HDF5Group] = ["": state]
                for key in optimizer.state.keys.sorted() {
                    let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                    guard parts.allSatisfy({ !$0.isEmpty && $0 != "." }) else {
                        throw CheckpointError.invalidValue(path: "/optimizer/state", reason: "state key '\(key)' has an empty part", file: file.path)
                    }
                    var parent = state
                    var prefix = ""
                    for part in parts.dropLast() {
                        prefix += "/" + part
                        if let existing = groups[prefix] { parent = existing } else {
                            parent = try parent.createGroup(part)
                            groups[prefix] = parent
                        }
                    }
                    let value = optimizer.state[key]!
                    try parent.createDataset(parts.last!, values: value.scalars, shape: value.shape)
                }
            }

            if let training {
                let group = try root.createGroup("training")
                if let rate = training.learningRate { try group.attributes.set("learning_rate", .double(rate)) }
                let counters = try group.createGroup("counters")
                for (name, value) in training.counters.sorted(by: { $0.key < $1.key }) {
                    try counters.attributes.set(name, .int64(value))
                }
                let generators = try group.createGroup("generators")
                for (name, state) in training.generators.sorted(by: { $0.key < $1.key }) {
                    try generators.createDataset(name, values: state, shape: [state.count])
                }
            }

            if !sections.isEmpty {
                let group = try root.createGroup("sections")
                for (name, section) in sections.sorted(by: { $0.key < $1.key }) {
                    try Self.write(section, into: try group.createGroup(name), origin: "/sections/\(name)")
                }
            }
        } catch let error as HDF5Error {
            throw .hdf5(error)
        } catch let error as CheckpointError {
            throw error
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }

    /// Writes a generic section as a group.
    private static func write(_ section: CheckpointSection, into group: HDF5Group, origin: String) throws {
        for (name, value) in section.attributes.sorted(by: { $0.key < $1.key }) {
            let converted: HDF5AttributeValue
            switch value {
            case let .int(v): converted = .int64(v)
            case let .double(v): converted = .double(v)
            case let .string(v): converted = .string(v)
            case let .integers(v): converted = .int64s(v)
            case let .doubles(v): converted = .doubles(v)
            }
            try group.attributes.set(name, converted)
        }
        for (name, array) in section.datasets.sorted(by: { $0.key < $1.key }) {
            guard section.children[name] == nil else {
                throw CheckpointError.invalidValue(path: origin + "/" + name, reason: "a dataset and a subsection share the name", file: group.file.path)
            }
            guard array.isWellFormed else {
                throw CheckpointError.invalidValue(path: origin + "/" + name, reason: "shape \(array.shape) does not hold its \(array.count) values (datasets are 1-D or 2-D)", file: group.file.path)
            }
            switch array {
            case let .float32(m): try group.createDataset(name, values: m.scalars, shape: m.shape)
            case let .float64(v, shape): try group.createDataset(name, values: v, shape: shape)
            case let .int64(v, shape): try group.createDataset(name, values: v, shape: shape)
            case let .uint64(v, shape): try group.createDataset(name, values: v, shape: shape)
            case let .strings(v): try group.createDataset(name, strings: v)
            }
        }
        for (name, child) in section.children.sorted(by: { $0.key < $1.key }) {
            try write(child, into: try group.createGroup(name), origin: origin + "/" + name)
        }
    }
}

/// Reads format version 1 from an open HDF5 file, verifying every object's kind, type
/// and shape, and that nothing undefined is present.
struct CheckpointReader {
    let file: HDF5File
    var name: String { file.path }

    func read() throws(CheckpointError) -> Checkpoint {
        do {
            return try readUnchecked()
        } catch let error as HDF5Error {
            throw .hdf5(error)
        } catch let error as CheckpointError {
            throw error
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }

    private func readUnchecked() throws -> Checkpoint {
        let root = try file.root()
        guard try root.attributes.contains("format") else {
            throw CheckpointError.notACheckpoint(file: name, reason: "its HDF5 root has no 'format' attribute")
        }
        let format = try string(root, "format")
        guard format == Checkpoint.formatName else {
            throw CheckpointError.notACheckpoint(file: name, reason: "its format attribute is '\(format)', not '\(Checkpoint.formatName)'")
        }
        let version = try int(root, "format_version")
        guard version == Int64(Checkpoint.formatVersion) else {
            throw CheckpointError.unsupportedVersion(file: name, version: Int(clamping: version))
        }
        var metadata = Checkpoint.Metadata(
            libraryVersion: try string(root, "library_version"),
            created: try string(root, "created"),
            description: try string(root, "description"))
        metadata.formatVersion = Int(version)

        let children = try root.children()
        let known: [String: HDF5Group.Child.Kind] = [
            "model": .group, "parameters": .group, "classes": .dataset,
            "optimizer": .group, "training": .group, "sections": .group,
        ]
        for child in children {
            guard let kind = known[child.name] else { throw CheckpointError.unexpected(path: "/" + child.name, file: name) }
            guard kind == child.kind else {
                throw CheckpointError.wrongType(path: "/" + child.name, expected: "a \(kind)", actual: "a \(child.kind)", file: name)
            }
        }
        let present = Set(children.map(\.name))
        for required in ["model", "parameters", "classes"] where !present.contains(required) {
            throw CheckpointError.missing(path: "/" + required, file: name)
        }

        let model = try readSection(try root.group("model"))

        var parameters: [String: Checkpoint.Parameter] = [:]
        let parameterGroup = try root.group("parameters")
        for child in try parameterGroup.children() {
            let path = "/parameters/" + child.name
            guard child.kind == .dataset else {
                throw CheckpointError.wrongType(path: path, expected: "a dataset", actual: "a \(child.kind)", file: name)
            }
            let dataset = try parameterGroup.dataset(child.name)
            let matrix = try readMatrix(dataset)
            let frozen = try int(dataset, "frozen")
            guard frozen == 0 || frozen == 1 else {
                throw CheckpointError.invalidValue(path: path + "@frozen", reason: "must be 0 or 1, is \(frozen)", file: name)
            }
            parameters[child.name] = Checkpoint.Parameter(matrix, frozen: frozen == 1)
        }

        let classesDataset = try root.dataset("classes")
        let classes: Checkpoint.ClassLabels
        switch try classesDataset.storedType() {
        case .element(.int64):
            let array = try classesDataset.read(as: Int64.self)
            guard array.shape.count == 1 else {
                throw CheckpointError.wrongShape(path: "/classes", expected: [array.values.count], actual: array.shape, file: name)
            }
            classes = .integers(array.values)
        case .string:
            classes = .strings(try classesDataset.readStrings())
        case let other:
            throw CheckpointError.wrongType(path: "/classes", expected: "int64 or string", actual: other.description, file: name)
        }

        var optimizer: Checkpoint.OptimizerState?
        if present.contains("optimizer") {
            let group = try root.group("optimizer")
            try expectChildren(group, ["hyperparameters": .group, "state": .group])
            let kind = try string(group, "kind")
            var hyperparameters: [String: Double] = [:]
            let hyperGroup = try group.group("hyperparameters")
            for attribute in try hyperGroup.attributes.names() {
                hyperparameters[attribute] = try double(hyperGroup, attribute)
            }
            var state: [String: Matrix] = [:]
            try readStateTree(try group.group("state"), prefix: "", into: &state)
            optimizer = Checkpoint.OptimizerState(kind: kind, hyperparameters: hyperparameters, state: state)
        }

        var training: Checkpoint.TrainingState?
        if present.contains("training") {
            let group = try root.group("training")
            try expectChildren(group, ["counters": .group, "generators": .group])
            var state = Checkpoint.TrainingState()
            if try group.attributes.contains("learning_rate") { state.learningRate = try double(group, "learning_rate") }
            let counters = try group.group("counters")
            for attribute in try counters.attributes.names() { state.counters[attribute] = try int(counters, attribute) }
            let generators = try group.group("generators")
            for child in try generators.children() {
                let path = "/training/generators/" + child.name
                guard child.kind == .dataset else {
                    throw CheckpointError.wrongType(path: path, expected: "a dataset", actual: "a \(child.kind)", file: name)
                }
                let array = try typed(try generators.dataset(child.name), UInt64.self)
                guard array.shape == [4] else { throw CheckpointError.wrongShape(path: path, expected: [4], actual: array.shape, file: name) }
                state.generators[child.name] = array.values
            }
            training = state
        }

        var sections: [String: CheckpointSection] = [:]
        if present.contains("sections") {
            let group = try root.group("sections")
            for child in try group.children() {
                guard child.kind == .group else {
                    throw CheckpointError.wrongType(path: "/sections/" + child.name, expected: "a group", actual: "a \(child.kind)", file: name)
                }
                sections[child.name] = try readSection(try group.group(child.name))
            }
        }

        var checkpoint = Checkpoint(metadata: metadata, model: model, parameters: parameters, classes: classes,
                                    optimizer: optimizer, training: training, sections: sections)
        checkpoint.source = name
        return checkpoint
    }

    /// Reads a generic section (a group with attributes, datasets and subgroups).
    private func readSection(_ group: HDF5Group) throws -> CheckpointSection {
        var section = CheckpointSection()
        for attribute in try group.attributes.names() {
            switch try group.attributes.value(attribute) {
            case let .int64(v): section.attributes[attribute] = .int(v)
            case let .double(v): section.attributes[attribute] = .double(v)
            case let .string(v): section.attributes[attribute] = .string(v)
            case let .int64s(v): section.attributes[attribute] = .integers(v)
            case let .doubles(v): section.attributes[attribute] = .doubles(v)
            }
        }
        for child in try group.children() {
            let path = group.path + "/" + child.name
            switch child.kind {
            case .group:
                section.children[child.name] = try readSection(try group.group(child.name))
            case .dataset:
                let dataset = try group.dataset(child.name)
                switch try dataset.storedType() {
                case .element(.float32): section.datasets[child.name] = .float32(try readMatrix(dataset))
                case .element(.float64):
                    let a = try dataset.read(as: Double.self)
                    section.datasets[child.name] = .float64(a.values, shape: a.shape)
                case .element(.int64):
                    let a = try dataset.read(as: Int64.self)
                    section.datasets[child.name] = .int64(a.values, shape: a.shape)
                case .element(.uint64):
                    let a = try dataset.read(as: UInt64.self)
                    section.datasets[child.name] = .uint64(a.values, shape: a.shape)
                case .string:
                    section.datasets[child.name] = .strings(try dataset.readStrings())
                case let other:
                    throw CheckpointError.wrongType(path: path, expected: "float32, float64, int64, uint64 or string",
                                                    actual: other.description, file: name)
                }
            case .link, .other:
                throw CheckpointError.unexpected(path: path, file: name)
            }
        }
        return section.located(at: CheckpointOrigin(file: name, path: group.path))
    }

    /// Reads the optimizer state tree: datasets are state entries keyed by their path below `state`.
    private func readStateTree(_ group: HDF5Group, prefix: String, into state: inout [String: Matrix]) throws {
        for child in try group.children() {
            let key = prefix.isEmpty ? child.name : prefix + "/" + child.name
            switch child.kind {
            case .group: try readStateTree(try group.group(child.name), prefix: key, into: &state)
            case .dataset: state[key] = try readMatrix(try group.dataset(child.name))
            case .link, .other: throw CheckpointError.unexpected(path: "/optimizer/state/" + key, file: name)
            }
        }
    }

    /// A float32 2-D dataset as a matrix.
    private func readMatrix(_ dataset: HDF5Dataset) throws -> Matrix {
        let array = try typed(dataset, Float.self)
        guard array.shape.count == 2 else {
            throw CheckpointError.wrongType(path: dataset.path, expected: "a 2-D float32 matrix",
                                            actual: "a \(array.shape.count)-D float32 array", file: name)
        }
        return Matrix(rows: array.shape[0], columns: array.shape[1], scalars: array.values)
    }

    /// Reads a dataset of element type `T`, turning a type mismatch into `.wrongType`.
    private func typed<T: HDF5Scalar & Equatable>(_ dataset: HDF5Dataset, _: T.Type) throws -> HDF5Array<T> {
        do {
            return try dataset.read(as: T.self)
        } catch {
            if case let .typeMismatch(expected, found) = error.reason {
                throw CheckpointError.wrongType(path: dataset.path, expected: expected, actual: found, file: name)
            }
            throw error
        }
    }

    private func expectChildren(_ group: HDF5Group, _ expected: [String: HDF5Group.Child.Kind]) throws {
        let children = try group.children()
        for child in children {
            guard let kind = expected[child.name] else { throw CheckpointError.unexpected(path: group.path + "/" + child.name, file: name) }
            guard kind == child.kind else {
                throw CheckpointError.wrongType(path: group.path + "/" + child.name, expected: "a \(kind)", actual: "a \(child.kind)", file: name)
            }
        }
        for required in expected.keys.sorted() where !children.contains(where: { $0.name == required }) {
            throw CheckpointError.missing(path: group.path + "/" + required, file: name)
        }
    }

    private func attribute(_ group: HDF5Group, _ attribute: String) throws -> HDF5AttributeValue {
        guard try group.attributes.contains(attribute) else {
            throw CheckpointError.missing(path: group.path + "@" + attribute, file: name)
        }
        return try group.attributes.value(attribute)
    }

    private func string(_ group: HDF5Group, _ name: String) throws -> String {
        let value = try attribute(group, name)
        guard case let .string(v) = value else { throw wrongAttribute(group.path, name, "a string", value) }
        return v
    }

    private func int(_ group: HDF5Group, _ name: String) throws -> Int64 {
        let value = try attribute(group, name)
        guard case let .int64(v) = value else { throw wrongAttribute(group.path, name, "an integer", value) }
        return v
    }

    private func double(_ group: HDF5Group, _ name: String) throws -> Double {
        let value = try attribute(group, name)
        guard case let .double(v) = value else { throw wrongAttribute(group.path, name, "a real number", value) }
        return v
    }

    private func int(_ dataset: HDF5Dataset, _ attribute: String) throws -> Int64 {
        guard try dataset.attributes.contains(attribute) else {
            throw CheckpointError.missing(path: dataset.path + "@" + attribute, file: name)
        }
        let value = try dataset.attributes.value(attribute)
        guard case let .int64(v) = value else { throw wrongAttribute(dataset.path, attribute, "an integer", value) }
        return v
    }

    private func wrongAttribute(_ path: String, _ attribute: String, _ expected: String, _ value: HDF5AttributeValue) -> CheckpointError {
        let actual: String
        switch value {
        case .int64: actual = "an integer"
        case .double: actual = "a real number"
        case .string: actual = "a string"
        case .int64s: actual = "a list of integers"
        case .doubles: actual = "a list of real numbers"
        }
        return .wrongType(path: path + "@" + attribute, expected: expected, actual: actual, file: name)
    }
}
