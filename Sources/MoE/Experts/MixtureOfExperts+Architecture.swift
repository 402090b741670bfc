extension MixtureOfExperts {
    /// Everything needed to rebuild the model's shape before a checkpoint fills its
    /// parameters: trunk layers, output extensions, experts with their layers and
    /// detector indices, the gate, the trunk's classes and the frozen set.
    ///
    /// ```
    /// let restored = MixtureOfExperts(architecture: model.architecture)  // zero parameters
    /// // then fill every path of restored.parameterPaths from the file
    /// ```
    public struct Architecture: Sendable, Codable, Equatable {
        /// The trunk's layers.
        public var trunk: [LayerKind]
        /// Width (classes) of each output extension, in order.
        public var headExtensions: [Int]
        /// The experts, in growth order.
        public var experts: [Expert.Architecture]
        /// The gate.
        public var gate: Gate.Configuration
        /// Classes of the trunk's gate slot, sorted.
        public var trunkClasses: [Int]
        /// Frozen parameter paths, sorted.
        public var frozen: [String]
        /// The (slot, class) columns of a gate that routes by pairs, in column order
        /// (nil or empty otherwise; files written before pairs existed have none).
        public var gatePairs: [GatePair]?
        /// How experts' outputs meet the trunk's logits (nil, in files written before it
        /// existed: corrections).
        public var expertOutput: ExpertOutput?

        public init(trunk: [LayerKind], headExtensions: [Int], experts: [Expert.Architecture],
                    gate: Gate.Configuration, trunkClasses: [Int], frozen: [String], gatePairs: [GatePair]? = nil,
                    expertOutput: ExpertOutput? = nil) {
            self.trunk = trunk
            self.headExtensions = headExtensions
            self.experts = experts
            self.gate = gate
            self.trunkClasses = trunkClasses
            self.frozen = frozen
            self.gatePairs = gatePairs
            self.expertOutput = expertOutput
        }
    }

    /// The model's architecture.
    public var architecture: Architecture {
        Architecture(trunk: trunk.kinds, headExtensions: headExtensions.map(\.outputs),
                     experts: experts.map(\.architecture), gate: gate.configuration,
                     trunkClasses: trunkClasses.sorted(), frozen: frozen.sorted(),
                     gatePairs: gate.configuration.pairRouting ? gatePairs : nil,
                     expertOutput: expertOutput == .correction ? nil : expertOutput)
    }

    /// A model of the given architecture with every parameter zero (random gate
    /// features included): a checkpoint then fills each path.
    public init(architecture a: Architecture) {
        trunk = Sequential(kinds: a.trunk)
        trunkClasses = Set(a.trunkClasses)
        frozen = Set(a.frozen)
        let width = trunk.input(ofLayer: trunk.layers.lastIndex { if case .dense = $0.kind { true } else { false } } ?? 0)
        headExtensions = a.headExtensions.map {
            Dense(weight: Matrix(rows: width, columns: $0), bias: Matrix(rows: 1, columns: $0))
        }
        experts = a.experts.map(Expert.init(architecture:))
        let gateWidth: Int
        switch a.gate.input {
        case .networkInput: gateWidth = trunk.inputWidth
        case let .hiddenLayer(l): gateWidth = trunk.hiddenWidths[l]
        case .expertDetectors: gateWidth = 0
        }
        let classes = trunk.outputWidth + a.headExtensions.reduce(0, +)
        let pairs = a.gatePairs ?? []
        gate = Gate(configuration: a.gate, inputWidth: gateWidth, classCount: a.gate.pairRouting ? pairs.count : classes,
                    drawsFeatures: false)
        for expert in experts {
            gate.addExpertSlot(detectorCount: expert.detectors.count)
        }
        gatePairs = pairs
        expertOutput = a.expertOutput ?? .correction
    }
}

extension MixtureOfExperts.Architecture: CustomStringConvertible {
    /// Lines for `moe inspect`: the trunk, the extensions, the gate and each expert.
    public var description: String {
        var lines = ["trunk: " + trunk.map(\.description).joined(separator: " ")]
        if !headExtensions.isEmpty {
            lines.append("output extensions: " + headExtensions.map { "+\($0)" }.joined(separator: " ") + " classes")
        }
        let selection: String = switch gate.selection {
        case .softmax: "softmax over all slots"
        case let .topK(k): "top-\(k)"
        }
        let kind: String = switch gate.kind {
        case .learned: "learned" + (gate.noisy ? " noisy" : "")
        case let .classPosterior(f): "class-posterior (\(f.count) random features, seed \(f.seed))"
        }
        let input: String = switch gate.input {
        case .networkInput: "the network input"
        case let .hiddenLayer(l): "hidden layer \(l)"
        case .expertDetectors: "each expert's detectors"
        }
        if gate.pairRouting {
            var bySlot: [Int: [Int]] = [:]
            for pair in gatePairs ?? [] { bySlot[pair.slot, default: []].append(pair.label) }
            let owned = bySlot.keys.sorted().map { "slot \($0): \(bySlot[$0]!.sorted())" }.joined(separator: "; ")
            lines.append("gate: \(kind), \(selection), reads \(input), routes by \((gatePairs ?? []).count) (slot, class) pairs"
                + (gate.includesTrunk ? ", trunk is slot 0" : "") + (owned.isEmpty ? "" : " (\(owned))"))
        } else {
            lines.append("gate: \(kind), \(selection), reads \(input)"
                + (gate.includesTrunk ? ", trunk is slot 0 (classes \(trunkClasses))" : ""))
        }
        for (e, x) in experts.enumerated() {
            lines.append("expert \(e): hidden layer \(x.layer), detectors \(x.detectors), context \(x.context.rawValue), "
                + "\(x.detectors.count + x.contextWidth)->\(x.hiddenWidth)->\(x.outputWidth) \(x.activation.rawValue)"
                + (x.classes.map { ", classes \($0)" } ?? ""))
        }
        if expertOutput == .slot { lines.append("experts write their slots' logits (the trunk is slot 0)") }
        lines.append("frozen: \(frozen.count) parameters")
        return lines.joined(separator: "\n")
    }
}
