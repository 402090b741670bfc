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
            case let .float32(m):
                if section.datasets[name + CheckpointPalette.suffix] == nil, let (indices, palette) = CheckpointPalette.encode(m) {
                    try group.createDataset(name, values: indices, shape: m.shape)
                    try group.createDataset(name + CheckpointPalette.suffix, values: palette.scalars, shape: palette.shape)
                } else {
                    try group.createDataset(name, values: m.scalars, shape: m.shape)
                }
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
