import MoE

/// What `moe inspect` shows: metadata, parameters with shapes and frozen flags, counts,
/// the optimizer, the training state and the outline of every section. `Codable` for
/// `--json`; `description` is the readable text.
public struct CheckpointSummary: Sendable, Equatable, Codable, CustomStringConvertible {
    public struct ParameterEntry: Sendable, Equatable, Codable {
        public var path: String
        public var shape: [Int]
        public var frozen: Bool

        public init(path: String, shape: [Int], frozen: Bool) {
            self.path = path
            self.shape = shape
            self.frozen = frozen
        }
    }

    /// One dataset, attribute or group of a section, by HDF5 path.
    public struct SectionEntry: Sendable, Equatable, Codable {
        public var path: String
        /// `group`, `attribute`, or the dataset's element type (`float32`, ...).
        public var kind: String
        /// The dataset's shape (empty for groups and attributes).
        public var shape: [Int]
        /// The attribute's value, as text (empty otherwise).
        public var value: String

        public init(path: String, kind: String, shape: [Int], value: String) {
            self.path = path
            self.kind = kind
            self.shape = shape
            self.value = value
        }
    }

    public var file: String?
    /// The fingerprint of the key whose signature was verified at load, if signed.
    public var signer: String?
    public var formatVersion: Int
    public var libraryVersion: String
    public var created: String
    /// The free-text description of the metadata (`description` in JSON).
    public var note: String
    public var trunkLayers: [String]
    public var parameters: [ParameterEntry]
    public var frozenParameterCount: Int
    public var trainableParameterCount: Int
    public var classes: [String]
    public var optimizer: String?
    public var optimizerHyperparameters: [String: Double]
    public var optimizerStateEntries: Int
    public var trainingCounters: [String: Int64]
    public var generators: [String]
    /// The architecture and the learner's sections, outlined.
    public var sections: [SectionEntry]

    enum CodingKeys: String, CodingKey {
        case file, signer, formatVersion, libraryVersion, created, note = "description", trunkLayers, parameters
        case frozenParameterCount, trainableParameterCount, classes, optimizer, optimizerHyperparameters
        case optimizerStateEntries, trainingCounters, generators, sections
    }

    public var description: String { description(before: nil) }

    /// The readable text with `block` (say, a learner's outline) after the metadata and the
    /// trunk, before the parameters' list, where the first screen shows it.
    public func description(before block: String?) -> String {
        var lines: [String] = []
        lines.append("checkpoint \(file.map { "'\($0)'" } ?? "(in memory)"): format version \(formatVersion), library \(libraryVersion), created \(created)")
        if let signer { lines.append("signed by key \(signer) (signature verified)") }
        if !note.isEmpty { lines.append("description: \(note)") }
        lines.append("trunk: " + trunkLayers.joined(separator: " -> "))
        if let block { lines.append(block) }
        lines.append("parameters: \(trainableParameterCount + frozenParameterCount) scalars, \(trainableParameterCount) trainable, \(frozenParameterCount) frozen")
        let width = parameters.map(\.path.count).max() ?? 0
        for entry in parameters {
            let padded = entry.path.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("  \(padded)  \(entry.shape.map(String.init).joined(separator: "x"))\(entry.frozen ? "  frozen" : "")")
        }
        lines.append("classes (\(classes.count)): " + classes.joined(separator: ", "))
        if let optimizer {
            // Hyperparameters are Float in the optimizers: shown as Float, they read as typed.
            let settings = optimizerHyperparameters.sorted { $0.key < $1.key }.map { "\($0.key)=\(Float($0.value))" }
            lines.append("optimizer: \(optimizer) (\(settings.joined(separator: ", "))), \(optimizerStateEntries) state entries")
        } else {
            lines.append("optimizer: none")
        }
        if !trainingCounters.isEmpty || !generators.isEmpty {
            let counters = trainingCounters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            lines.append("training: " + (counters + generators.map { "generator \($0)" }).joined(separator: ", "))
        }
        for entry in sections {
            switch entry.kind {
            case "group": lines.append("  \(entry.path)/")
            case "attribute": lines.append("  \(entry.path) = \(entry.value)")
            default: lines.append("  \(entry.path)  \(entry.kind) \(entry.shape.map(String.init).joined(separator: "x"))")
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension Checkpoint {
    /// The summary `moe inspect` prints.
    public var summary: CheckpointSummary {
        let entries = parameters.keys.sorted().map { path in
            CheckpointSummary.ParameterEntry(path: path, shape: parameters[path]!.value.shape, frozen: parameters[path]!.frozen)
        }
        let frozenCount = parameters.values.filter(\.frozen).reduce(0) { $0 + $1.value.count }
        let total = parameters.values.reduce(0) { $0 + $1.value.count }
        let labels: [String]
        switch classes {
        case let .integers(v): labels = v.map(String.init)
        case let .strings(v): labels = v
        }
        var outline: [CheckpointSummary.SectionEntry] = []
        func visit(_ section: CheckpointSection, _ path: String) {
            outline.append(.init(path: path, kind: "group", shape: [], value: ""))
            for (name, value) in section.attributes.sorted(by: { $0.key < $1.key }) {
                var text = value.description
                if text.count > 60 { text = String(text.prefix(57)) + "..." }
                outline.append(.init(path: path + "@" + name, kind: "attribute", shape: [], value: text))
            }
            for (name, array) in section.datasets.sorted(by: { $0.key < $1.key }) {
                outline.append(.init(path: path + "/" + name, kind: array.typeName, shape: array.shape, value: ""))
            }
            for (name, child) in section.children.sorted(by: { $0.key < $1.key }) { visit(child, path + "/" + name) }
        }
        visit(model, "/model")
        for (name, section) in sections.sorted(by: { $0.key < $1.key }) { visit(section, "/sections/" + name) }
        return CheckpointSummary(
            file: source, signer: signer?.fingerprint, formatVersion: metadata.formatVersion, libraryVersion: metadata.libraryVersion,
            created: metadata.created, note: metadata.description,
            trunkLayers: ((try? trunkLayers()) ?? []).map(\.description),
            parameters: entries, frozenParameterCount: frozenCount, trainableParameterCount: total - frozenCount,
            classes: labels, optimizer: optimizer?.kind, optimizerHyperparameters: optimizer?.hyperparameters ?? [:],
            optimizerStateEntries: optimizer?.state.count ?? 0, trainingCounters: training?.counters ?? [:],
            generators: (training?.generators.keys.sorted()) ?? [], sections: outline)
    }
}
