/// A small MLP planted at a hidden layer of the trunk, specialised in the mistakes that
/// a set of error detectors reveals (METHOD.md section 4).
///
/// It reads the activations of its detector neurons at hidden layer `layer` and, by
/// default, the whole input of that layer; its output gives the class logits of its
/// slot (`MixtureOfExperts.ExpertOutput.slot`, what the learner uses) or a correction
/// added to the trunk's (`.correction`):
///
/// ```
/// u = [ h_l[:, detectors] | context ]            context: see `Context`
/// expert(x) = W_out act(… act(W1 u + b1) …) + b_out   (`depth` hidden layers of `hiddenWidth`)
/// ```
///
/// The output layer starts at zero, so a freshly grown expert changes nothing until it
/// is trained. Its output width is the class count when it was grown; classes that
/// arrive later get logit 0 from it (it stays frozen once the next expert grows).
/// Parameters are `<i>.weight`, `<i>.bias` of its `network` (the model prefixes
/// `experts.<e>.`).
public struct Expert: Parameterized {
    /// What the expert reads besides its detectors.
    public enum Context: String, Sendable, Codable, CaseIterable {
        /// The detector activations only.
        case none
        /// Also the full input of the detectors' layer: the network input for hidden
        /// layer 0, hidden layer `l - 1` otherwise. This is METHOD.md's "full input of
        /// that layer" and the variant the prototype measured (detectors alone lacked
        /// capacity); it is the default.
        case layerInput
        /// Also the full activation of the detectors' own layer.
        case layerOutput
    }

    /// Hidden layer of the trunk whose detectors the expert reads.
    public let layer: Int
    /// Indices of the detector neurons within hidden layer `layer`, in reading order.
    public let detectors: [Int]
    /// What is read besides the detectors.
    public let context: Context
    /// The classes this expert is responsible for (the class-posterior gate routes to it
    /// by them); nil means "no particular classes".
    public let classes: Set<Int>?
    /// Nonlinearity of its hidden layer.
    public let activation: Activation
    /// `[detectors | context] -> hidden -> outputWidth`.
    public var network: Sequential

    /// A new expert whose output layer is zero.
    ///
    /// - Parameters:
    ///   - layer: Hidden layer it is planted at.
    ///   - detectors: Detector neurons of that layer (distinct, within `layerWidth`).
    ///   - context: What it reads besides the detectors.
    ///   - layerWidth: Width of hidden layer `layer` (to check the detector indices).
    ///   - contextWidth: Width of the context (0 for `.none`).
    ///   - hiddenWidth: Width of its hidden layers.
    ///   - depth: Number of hidden layers (1 by default).
    ///   - outputWidth: Number of class logits it corrects.
    ///   - classes: Classes it is responsible for.
    ///   - activation: Nonlinearity of its hidden layer.
    ///   - generator: Source of the first layer's weights.
    public init(
        layer: Int, detectors: [Int], context: Context, layerWidth: Int, contextWidth: Int,
        hiddenWidth: Int, depth: Int = 1, outputWidth: Int, classes: Set<Int>?, activation: Activation = .relu,
        generator: inout SeededGenerator
    ) {
        precondition(Set(detectors).count == detectors.count, "Detector indices must be distinct, got \(detectors)")
        precondition(detectors.allSatisfy { $0 >= 0 && $0 < layerWidth },
                     "Detector indices must lie in 0..<\(layerWidth) (hidden layer \(layer)), got \(detectors)")
        precondition(context == .none || contextWidth > 0, "A context must have a positive width")
        let inputs = detectors.count + (context == .none ? 0 : contextWidth)
        precondition(inputs > 0, "An expert needs at least one input: give it detectors or a context")
        precondition(hiddenWidth > 0 && outputWidth > 0, "An expert needs positive widths, got \(hiddenWidth) and \(outputWidth)")
        precondition(depth >= 1, "An expert has at least one hidden layer, got \(depth)")
        self.layer = layer
        self.detectors = detectors
        self.context = context
        self.classes = classes
        self.activation = activation
        var layers = [Dense(inputs: inputs, outputs: hiddenWidth, initializer: activation.initializer, generator: &generator) as any Layer,
                      activation.layer]
        for _ in 1..<depth {
            layers += [Dense(inputs: hiddenWidth, outputs: hiddenWidth, initializer: activation.initializer, generator: &generator) as any Layer,
                       activation.layer]
        }
        layers.append(Dense(inputs: hiddenWidth, outputs: outputWidth, initializer: .zeros, generator: &generator))
        network = Sequential(layers)
    }

    /// Width of what it reads: detectors plus context.
    public var inputWidth: Int { network.inputWidth }
    /// Width of its hidden layers.
    public var hiddenWidth: Int { network.hiddenWidths.first ?? 0 }
    /// Number of its hidden layers.
    public var depth: Int { network.hiddenWidths.count }
    /// Number of class logits it corrects (the first `outputWidth` classes).
    public var outputWidth: Int { network.outputWidth }
    /// Width of the context part of its input.
    public var contextWidth: Int { inputWidth - detectors.count }

    /// Index into the trunk's `Sequential.Trace.outputs` of the context it reads, or nil
    /// when the context is the network input (or there is none).
    func contextTraceIndex(hiddenLayerIndices: [Int]) -> Int? {
        switch context {
        case .none: nil
        case .layerOutput: hiddenLayerIndices[layer]
        case .layerInput: layer == 0 ? nil : hiddenLayerIndices[layer - 1]
        }
    }

    /// The context matrix (all rows) among the trunk's activations.
    func contextMatrix(hidden: [Matrix], networkInput: Matrix) -> Matrix? {
        switch context {
        case .none: nil
        case .layerOutput: hidden[layer]
        case .layerInput: layer == 0 ? networkInput : hidden[layer - 1]
        }
    }

    /// What the expert reads for the given rows (all rows when `rows` is nil).
    ///
    /// - Parameters:
    ///   - hidden: Hidden activations of the trunk, one matrix per hidden layer.
    ///   - networkInput: The network's input batch.
    public func input(hidden: [Matrix], networkInput: Matrix, rows: [Int]? = nil) -> Matrix {
        precondition(layer < hidden.count, "Expert reads hidden layer \(layer), the trunk has \(hidden.count)")
        let layerRows = rows.map { hidden[layer].gatherRows($0) } ?? hidden[layer]
        let detectorPart = layerRows.gatherColumns(detectors)
        guard let context = contextMatrix(hidden: hidden, networkInput: networkInput) else { return detectorPart }
        if self.context == .layerOutput { return detectorPart.concatenatingColumns(layerRows) }
        return detectorPart.concatenatingColumns(rows.map { context.gatherRows($0) } ?? context)
    }

    /// The expert's correction for every row of a batch, given the trunk's activations
    /// (the dense reference that routed evaluation must agree with).
    public func callAsFunction(hidden: [Matrix], networkInput: Matrix) -> Matrix {
        network(input(hidden: hidden, networkInput: networkInput))
    }

    public func forEachParameter(_ body: (String, Matrix) throws -> Void) rethrows {
        try network.forEachParameter(body)
    }

    public mutating func updateParameters(_ body: (String, inout Matrix) throws -> Void) rethrows {
        try network.updateParameters(body)
    }
}

extension Expert {
    /// What rebuilds an expert before a checkpoint fills its parameters.
    public struct Architecture: Sendable, Codable, Equatable {
        public var layer: Int
        public var detectors: [Int]
        public var context: Context
        /// Width of the context part of the input.
        public var contextWidth: Int
        public var hiddenWidth: Int
        public var outputWidth: Int
        public var activation: Activation
        /// Sorted class set, or nil.
        public var classes: [Int]?
        /// Hidden layers (nil, in files written before deeper experts existed: 1).
        public var depth: Int?

        public init(layer: Int, detectors: [Int], context: Context, contextWidth: Int, hiddenWidth: Int,
                    outputWidth: Int, activation: Activation, classes: [Int]?, depth: Int? = nil) {
            self.layer = layer
            self.detectors = detectors
            self.context = context
            self.contextWidth = contextWidth
            self.hiddenWidth = hiddenWidth
            self.outputWidth = outputWidth
            self.activation = activation
            self.classes = classes
            self.depth = depth
        }
    }

    /// This expert's architecture.
    public var architecture: Architecture {
        Architecture(layer: layer, detectors: detectors, context: context, contextWidth: contextWidth,
                     hiddenWidth: hiddenWidth, outputWidth: outputWidth, activation: activation,
                     classes: classes.map { $0.sorted() }, depth: depth == 1 ? nil : depth)
    }

    /// An expert of the given architecture with zero parameters.
    public init(architecture a: Architecture) {
        layer = a.layer
        detectors = a.detectors
        context = a.context
        classes = a.classes.map(Set.init)
        activation = a.activation
        let inputs = a.detectors.count + (a.context == .none ? 0 : a.contextWidth)
        var kinds: [LayerKind] = [.dense(inputs: inputs, outputs: a.hiddenWidth), a.activation.layer.kind]
        for _ in 1..<max(1, a.depth ?? 1) {
            kinds += [.dense(inputs: a.hiddenWidth, outputs: a.hiddenWidth), a.activation.layer.kind]
        }
        kinds.append(.dense(inputs: a.hiddenWidth, outputs: a.outputWidth))
        network = Sequential(kinds: kinds)
    }
}
