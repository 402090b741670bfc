import Foundation
import MoE

// How a MixtureOfExperts maps onto a checkpoint: the architecture in `/model`, the
// parameters by their `Parameterized` paths. This is the one file to extend when the
// model grows new parts: describe them in `architecture(of:)`, rebuild them in
// `buildSkeleton()`; their parameters then round-trip through the generic path API
// without further code.
//
//   /model                 attr kind = "mixture-of-experts"
//                          attr architecture = JSON of MixtureOfExperts.Architecture
//                          (trunk, output extensions, experts with layer, detectors and
//                          sizes, gate configuration, trunk classes, frozen paths)
//   /model/trunk/kinds     string [L]: dense, relu, tanh, sigmoid
//   /model/trunk/sizes     int64 [L, 2]: (inputs, outputs) of a dense layer, (0, 0) otherwise
//
// The trunk datasets repeat the JSON's trunk for readers without a JSON parser; a file
// without the `architecture` attribute (written before experts existed, such as
// Checkpoints/golden-v1.h5) describes a trunk-only model.

extension Checkpoint {
    /// The value of `/model@kind`.
    static let modelKind = "mixture-of-experts"
    /// The widest layer a checkpoint may describe (a corrupt size must not allocate without bound).
    static let maximumWidth = 1 << 24
    /// Scalars an architecture may need beyond four times what is stored before it is
    /// refused unbuilt.
    static let allocationAllowance = 1 << 24

    /// A checkpoint of `model`, with the optimizer's state and the training state when
    /// given (both are needed to resume training bit for bit).
    ///
    /// - Parameters:
    ///   - classes: the label of each logit (default: `0..<classCount`).
    ///   - sections: the rest of the learner's state by name.
    ///   - description: free text stored in the metadata.
    public init(
        model: MixtureOfExperts, optimizer: (any Optimizer)? = nil, training: TrainingState? = nil,
        classes: ClassLabels? = nil, sections: [String: CheckpointSection] = [:], description: String = ""
    ) {
        var parameters: [String: Parameter] = [:]
        model.forEachParameter { path, value in
            parameters[path] = Parameter(value, frozen: model.frozen.contains(path))
        }
        let labels = classes ?? .integers((0..<model.classCount).map(Int64.init))
        precondition(labels.count == model.classCount,
                     "\(labels.count) class labels for a model with \(model.classCount) logits")
        self.init(
            metadata: Metadata(description: description), model: Self.architecture(of: model),
            parameters: parameters, classes: labels, optimizer: optimizer.map(OptimizerState.init),
            training: training, sections: sections)
    }

    /// The architecture section of `model`.
    static func architecture(of model: MixtureOfExperts) -> CheckpointSection {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let json = try? encoder.encode(model.architecture) else {
            preconditionFailure("MixtureOfExperts.Architecture must encode to JSON")
        }
        var trunk = CheckpointSection()
        let kinds = model.trunk.kinds
        trunk.datasets["kinds"] = .strings(kinds.map(\.checkpointName))
        trunk.datasets["sizes"] = .int64(kinds.flatMap { kind -> [Int64] in
            if case let .dense(i, o) = kind { return [Int64(i), Int64(o)] }
            return [0, 0]
        }, shape: [kinds.count, 2])
        return CheckpointSection(
            attributes: ["kind": .string(modelKind), "architecture": .string(String(decoding: json, as: UTF8.self))],
            children: ["trunk": trunk])
    }

    /// The stored architecture: decoded from `/model@architecture` and checked against
    /// the trunk datasets, or a trunk-only architecture for files without it.
    public func architecture() throws(CheckpointError) -> MixtureOfExperts.Architecture {
        let model = modelSection
        try model.expectOnly(attributes: ["kind", "architecture"], children: ["trunk"])
        let kind = try model.string("kind")
        guard kind == Self.modelKind else {
            throw .invalidArchitecture(reason: "model kind is '\(kind)', not '\(Self.modelKind)'", file: source)
        }
        let layers = try trunkLayers()
        guard model.attributes["architecture"] != nil else {
            // A trunk-only model as `MixtureOfExperts(trunk:)` builds it (nothing allocated yet).
            let classes = layers.reduce(0) { if case let .dense(_, o) = $1 { o } else { $0 } }
            return MixtureOfExperts.Architecture(
                trunk: layers, headExtensions: [], experts: [], gate: .learned(),
                trunkClasses: Array(0..<classes), frozen: frozen.sorted())
        }
        let json = try model.string("architecture")
        let architecture: MixtureOfExperts.Architecture
        do {
            architecture = try JSONDecoder().decode(MixtureOfExperts.Architecture.self, from: Data(json.utf8))
        } catch {
            throw .invalidArchitecture(reason: "/model@architecture cannot be decoded (\(error))", file: source)
        }
        guard architecture.trunk == layers else {
            throw .invalidArchitecture(reason: "/model@architecture describes the trunk \(architecture.trunk.map(\.description)) but /model/trunk holds \(layers.map(\.description))", file: source)
        }
        return architecture
    }

    /// The trunk's layers as stored, validated (sizes in range, dense layers chained).
    public func trunkLayers() throws(CheckpointError) -> [LayerKind] {
        let model = modelSection
        let trunk = try model.child("trunk")
        try trunk.expectOnly(datasets: ["kinds", "sizes"])
        let names = try trunk.strings("kinds")
        let sizes = try trunk.integers("sizes", shape: [names.count, 2])
        var layers: [LayerKind] = []
        var width: Int?
        for (index, name) in names.enumerated() {
            let inputs = sizes[2 * index], outputs = sizes[2 * index + 1]
            let layer: LayerKind
            switch name {
            case "dense":
                guard (1...Int64(Self.maximumWidth)).contains(inputs), (1...Int64(Self.maximumWidth)).contains(outputs) else {
                    throw .invalidArchitecture(reason: "trunk layer \(index) is dense \(inputs)->\(outputs); sizes must be 1...\(Self.maximumWidth)", file: source)
                }
                if let width, width != Int(inputs) {
                    throw .invalidArchitecture(reason: "trunk layer \(index) takes \(inputs) inputs but the layer before gives \(width)", file: source)
                }
                width = Int(outputs)
                layer = .dense(inputs: Int(inputs), outputs: Int(outputs))
            case "relu", "tanh", "sigmoid":
                guard inputs == 0 && outputs == 0 else {
                    throw .invalidArchitecture(reason: "trunk layer \(index) (\(name)) has sizes (\(inputs), \(outputs)); an activation has (0, 0)", file: source)
                }
                guard width != nil else {
                    throw .invalidArchitecture(reason: "trunk layer \(index) (\(name)) comes before any dense layer", file: source)
                }
                layer = name == "relu" ? .relu : name == "tanh" ? .tanh : .sigmoid
            default:
                throw .invalidArchitecture(reason: "trunk layer \(index) has unknown kind '\(name)'", file: source)
            }
            layers.append(layer)
        }
        guard width != nil else { throw .invalidArchitecture(reason: "the trunk has no dense layer", file: source) }
        return layers
    }

    /// The network with the stored architecture and zero weights.
    func buildSkeleton() throws(CheckpointError) -> MixtureOfExperts {
        let architecture = try architecture()
        // A guard before allocating: every parameter the architecture needs must be
        // stored, so a corrupt size may not make it allocate far more than the file
        // holds. (Missing and wrongly shaped parameters are reported precisely below.)
        let stored = parameters.values.reduce(0) { $0 + $1.value.count }
        let limit = max(4 * stored, Self.allocationAllowance)
        do {
            _ = try architecture.validate(limit: limit)
        } catch let .tooLarge(scalars, _) {
            // `validate` stops counting at the limit: `scalars` is a lower bound.
            let needed = scalars == Int.max ? "more than \(limit)" : "at least \(scalars)"
            throw .invalidArchitecture(reason: "the architecture needs \(needed) parameters, far more than the \(stored) stored", file: source)
        } catch {
            throw .invalidArchitecture(reason: error.description, file: source)
        }
        return MixtureOfExperts(architecture: architecture)
    }

    /// Rebuilds the model: the architecture first, then every parameter verified against
    /// it (a missing, an unexpected or a wrongly shaped parameter is an error naming its
    /// path and both shapes) and filled in, and the frozen set restored.
    public func makeModel() throws(CheckpointError) -> MixtureOfExperts {
        var model = try buildSkeleton()
        var expected: [String: [Int]] = [:]
        var order: [String] = []
        model.forEachParameter { path, value in
            expected[path] = value.shape
            order.append(path)
        }
        for path in order {
            guard let stored = parameters[path] else {
                throw .missingParameter(path: path, expectedShape: expected[path]!, file: source)
            }
            guard stored.value.shape == expected[path]! else {
                throw .wrongShape(path: path, expected: expected[path]!, actual: stored.value.shape, file: source)
            }
        }
        for path in parameters.keys.sorted() where expected[path] == nil {
            throw .unexpectedParameter(path: path, shape: parameters[path]!.value.shape, file: source)
        }
        guard classes.count == model.classCount else {
            throw .invalidValue(path: "/classes", reason: "\(classes.count) labels for \(model.classCount) logits", file: source)
        }
        model.updateParameters { path, value in value = parameters[path]!.value }
        // The per-parameter flags are authoritative; the architecture's frozen list must agree.
        let flagged = frozen
        if modelSection.attributes["architecture"] != nil {
            for path in order where model.frozen.contains(path) != flagged.contains(path) {
                throw .invalidValue(path: "/parameters/\(path)@frozen", reason: "disagrees with the frozen list of /model@architecture", file: source)
            }
        }
        model.frozen = model.frozen.subtracting(order).union(flagged)
        return model
    }
}

extension LayerKind {
    /// The name stored in `/model/trunk/kinds`.
    var checkpointName: String {
        switch self {
        case .dense: "dense"
        case .relu: "relu"
        case .tanh: "tanh"
        case .sigmoid: "sigmoid"
        }
    }
}
