/// Growth: new experts, wider outputs, the gate's configuration and its class head.
///
/// Every operation here only adds parameters; it never renames, reshapes or rewrites an
/// existing trained parameter, so frozen parameters stay bit-identical and optimizer
/// state (keyed by path) stays valid.
extension MixtureOfExperts {
    /// Grows an expert at hidden layer `layer` on the given detectors.
    ///
    /// Everything that existed is frozen first (except a class-posterior gate's head,
    /// which is set from statistics); the new expert and its gate slot are trainable.
    /// With a learned gate that includes the trunk, the first growth also creates the
    /// trunk slot's gate row, trainable alongside the new expert's.
    ///
    /// - Parameters:
    ///   - layer: Hidden layer of the trunk whose detectors the expert reads.
    ///   - detectors: Indices of the detector neurons in that layer.
    ///   - hiddenWidth: Width of the expert's hidden layer.
    ///   - classes: Classes the expert is responsible for; required by a class-posterior gate.
    ///   - context: What the expert reads besides its detectors (default: the layer's input).
    ///   - activation: The expert's nonlinearity.
    ///   - generator: Source of the expert's first-layer weights.
    /// - Returns: The index of the new expert.
    @discardableResult
    public mutating func grow(
        at layer: Int, detectors: [Int], hiddenWidth: Int, classes: Set<Int>? = nil,
        context: Expert.Context = .layerInput, activation: Activation = .relu,
        generator: inout SeededGenerator
    ) -> Int {
        precondition(layer >= 0 && layer < hiddenLayerCount,
                     "Cannot grow at hidden layer \(layer): the trunk has \(hiddenLayerCount)")
        if case .classPosterior = gate.configuration.kind, !gate.configuration.pairRouting {
            precondition(classes != nil, "A class-posterior gate routes by classes: give the expert its class set")
        }
        if let classes {
            precondition(classes.allSatisfy { $0 >= 0 && $0 < classCount },
                         "Expert classes \(classes.sorted()) must lie in 0..<\(classCount): widen the output first")
        }
        let widths = trunk.hiddenWidths
        let contextWidth = self.contextWidth(context, at: layer)
        freezeAll()
        let expert = Expert(
            layer: layer, detectors: detectors, context: context, layerWidth: widths[layer],
            contextWidth: contextWidth, hiddenWidth: hiddenWidth, outputWidth: classCount, classes: classes,
            activation: activation, generator: &generator)
        experts.append(expert)
        gate.addExpertSlot(detectorCount: detectors.count)
        return experts.count - 1
    }

    /// How many values an expert at hidden layer `layer` reads besides its detectors.
    public func contextWidth(_ context: Expert.Context, at layer: Int) -> Int {
        let widths = trunk.hiddenWidths
        switch context {
        case .none: return 0
        case .layerOutput: return widths[layer]
        case .layerInput: return layer == 0 ? inputWidth : widths[layer - 1]
        }
    }

    /// Widens the output to `classCount` classes when unseen classes arrive.
    ///
    /// The new columns live in a new block `trunk.extension.<k>` reading the input of
    /// the trunk's last dense layer, zero-initialised and trainable, so the logits of the
    /// old classes are unchanged bit for bit and no existing parameter changes shape.
    /// Existing experts keep their width (they correct only the classes that existed
    /// when they grew); a class-posterior head gets columns whose posterior is zero until
    /// `setClassHead` describes the new classes.
    public mutating func widenOutput(to newClassCount: Int) {
        precondition(newClassCount >= classCount, "Cannot narrow the output from \(classCount) to \(newClassCount) classes")
        guard newClassCount > classCount else { return }
        let width = trunk.input(ofLayer: lastDenseIndex)
        headExtensions.append(Dense(weight: Matrix(rows: width, columns: newClassCount - classCount),
                                    bias: Matrix(rows: 1, columns: newClassCount - classCount)))
        // A pair-routing head grows with its pairs, not with the classes.
        if !gate.configuration.pairRouting { gate.widenHead(to: newClassCount) }
    }

    /// Replaces the gate. Allowed before the first growth, or at any time for a
    /// class-posterior gate; the new gate's slots for existing experts are trainable,
    /// its random features frozen.
    ///
    /// - Parameter configuration: Kind, input and routing of the new gate.
    public mutating func configureGate(_ configuration: Gate.Configuration) {
        if case let .hiddenLayer(l) = configuration.input {
            precondition(l >= 0 && l < hiddenLayerCount, "The gate cannot read hidden layer \(l): the trunk has \(hiddenLayerCount)")
        }
        if case .classPosterior = configuration.kind, !configuration.pairRouting {
            precondition(experts.allSatisfy { $0.classes != nil }, "A class-posterior gate needs every expert to have a class set")
        }
        precondition(gatePairs.isEmpty, "A gate with pair columns cannot be replaced")
        let width: Int
        switch configuration.input {
        case .networkInput: width = inputWidth
        case let .hiddenLayer(l): width = trunk.hiddenWidths[l]
        case .expertDetectors: width = 0
        }
        frozen = frozen.filter { !$0.hasPrefix("gate.") }
        gate = Gate(configuration: configuration, inputWidth: width, classCount: configuration.pairRouting ? 0 : classCount)
        for expert in experts {
            gate.addExpertSlot(detectorCount: expert.detectors.count)
        }
        frozen.formUnion(gate.alwaysFrozenPaths.map { "gate." + $0 })
    }

    /// What the gate reads for a batch: the input itself or a hidden layer.
    public func gateInput(_ input: Matrix) -> Matrix {
        switch gate.configuration.input {
        case .networkInput: return input
        case let .hiddenLayer(l): return forward(input).hidden[l]
        case .expertDetectors: preconditionFailure("A gate reading per-expert detectors has no shared input")
        }
    }

    /// The class-posterior gate's random features of a batch: what the streaming
    /// discriminant must observe for its head to fit this gate.
    public func gateFeatures(_ input: Matrix) -> Matrix {
        gate.features(gateInput(input))
    }

    /// Sets the class-posterior gate's head from the streaming discriminant
    /// (`featureCount x columns`, `1 x columns`: classes, or pairs when the gate routes
    /// by pairs). Columns beyond those given get the unseen-class bias (no posterior mass).
    public mutating func setClassHead(weight: Matrix, bias: Matrix) {
        precondition(gate.featureCount > 0, "Only a class-posterior gate has a class head")
        precondition(weight.rows == gate.featureCount, "The head must read \(gate.featureCount) features, got \(weight.rows)")
        precondition(bias.rows == 1 && bias.columns == weight.columns, "The head bias must be 1x\(weight.columns)")
        let width = gate.configuration.pairRouting ? gatePairs.count : classCount
        precondition(weight.columns <= width, "The head has \(weight.columns) columns, the model \(width)")
        let missing = width - weight.columns
        gate.headWeight = weight.concatenatingColumns(Matrix(rows: weight.rows, columns: missing))
        gate.headBias = bias.concatenatingColumns(Matrix(rows: 1, columns: missing, repeating: Gate.unseenClassBias))
    }
}

extension Sequential {
    /// Input width of `layers[index]` (a dense layer's inputs, or the width before it).
    func input(ofLayer index: Int) -> Int {
        for j in stride(from: index, through: 0, by: -1) {
            switch layers[j].kind {
            case let .dense(i, o): return j == index ? i : o
            default: continue
            }
        }
        return inputWidth
    }
}
