/// The gating network: it scores the slots (the trunk as slot 0 when
/// `configuration.includesTrunk`, then one slot per expert) for every input and routes
/// each row to one or more of them.
///
/// ```
/// logits(x) = trunk(x) + Σ_{s routed} g_s(x) · expert_s(x)      (the trunk slot adds nothing)
/// ```
///
/// A `learned` gate keeps one weight column per slot, `<slot>.weight` (`width x 1`),
/// `<slot>.bias` (`1 x 1`) and, when noisy, `<slot>.noise`; `<slot>` is `trunk` or the
/// expert index. Separate parameters per slot let growth freeze the old slots' rows
/// while the new one trains. A `classPosterior` gate has `features.weight`,
/// `features.bias` (random, frozen at creation) and `head.weight`, `head.bias`, which
/// no gradient ever reaches: they are set from the streaming discriminant by
/// `setClassHead`. The model prefixes everything with `gate.`.
///
/// References: N. Shazeer et al., "Outrageously large neural networks: the
/// sparsely-gated mixture-of-experts layer", ICLR 2017; W. Fedus, B. Zoph and
/// N. Shazeer, "Switch Transformers", JMLR 2022.
public struct Gate: Parameterized {
    /// What kind of gate this is and how it routes.
    public let configuration: Configuration
    /// Number of experts the gate routes to.
    public private(set) var expertCount: Int = 0
    /// Learned gate: per-slot score weights (`width x 1`).
    public var slotWeights: [Matrix] = []
    /// Learned gate: per-slot score biases (`1 x 1`).
    public var slotBiases: [Matrix] = []
    /// Noisy learned gate: per-slot noise weights (`width x 1`).
    public var slotNoiseWeights: [Matrix] = []
    /// Class-posterior gate: random projection (`inputs x features`), frozen.
    public var featureWeight = Matrix(rows: 0, columns: 0)
    /// Class-posterior gate: random bias (`1 x features`), frozen.
    public var featureBias = Matrix(rows: 0, columns: 0)
    /// Class-posterior gate: class head (`features x classes`), set from statistics.
    public var headWeight = Matrix(rows: 0, columns: 0)
    /// Class-posterior gate: class head bias (`1 x classes`), set from statistics.
    public var headBias = Matrix(rows: 0, columns: 0)
    /// Class-posterior gate routing by pairs: the slots that answer among their classes
    /// with their own discriminant (nil: every slot with the pooled head's columns). Set
    /// by the learner from per-slot statistics; not a parameter (a checkpoint keeps it
    /// with the learner's state).
    public var slotHeads: GateSlotHeads?

    /// Bias given to the head column of a class the discriminant has not yet described:
    /// its posterior is zero, so widening the output never changes routing.
    public static let unseenClassBias: Float = -1e9

    /// A gate with its trunk slot (if any) and no expert slots.
    ///
    /// - Parameters:
    ///   - configuration: The gate's kind and routing.
    ///   - inputWidth: Width of the shared gate input (ignored for `.expertDetectors`).
    ///   - classCount: Number of classes (width of a class-posterior head).
    public init(configuration: Configuration, inputWidth: Int, classCount: Int) {
        self.init(configuration: configuration, inputWidth: inputWidth, classCount: classCount, drawsFeatures: true)
    }

    /// As above; without `drawsFeatures` the random features are zero (a checkpoint fills them).
    init(configuration: Configuration, inputWidth: Int, classCount: Int, drawsFeatures: Bool) {
        self.configuration = configuration
        self.sharedInputWidth = configuration.input == .expertDetectors ? 0 : inputWidth
        switch configuration.kind {
        case .learned:
            break
        case let .classPosterior(features):
            precondition(inputWidth > 0, "A class-posterior gate needs a non-empty input")
            headWeight = Matrix(rows: features.count, columns: classCount)
            headBias = Matrix(rows: 1, columns: classCount, repeating: Gate.unseenClassBias)
            guard drawsFeatures else {
                featureWeight = Matrix(rows: inputWidth, columns: features.count)
                featureBias = Matrix(rows: 1, columns: features.count)
                return
            }
            // The same draws, in the same order, as RandomFeatures(inputCount:featureCount:seed:...).
            var generator = SeededGenerator(seed: features.seed)
            featureWeight = .gridNormal(rows: inputWidth, columns: features.count,
                                        standardDeviation: features.weightScale / Float(inputWidth).squareRoot(),
                                        using: &generator)
            featureBias = .normal(rows: 1, columns: features.count, standardDeviation: features.biasScale,
                                  using: &generator)
            // The inputs' hinges replace the leading draws: x_j = max(0, x_j) - max(0, -x_j), so a
            // discriminant over them alone is additive in the inputs, linear and more.
            for j in 0..<(features.hingeCount(inputWidth: inputWidth) / 2) {
                for i in 0..<inputWidth {
                    featureWeight[i, 2 * j] = 0
                    featureWeight[i, 2 * j + 1] = 0
                }
                featureWeight[j, 2 * j] = 1
                featureWeight[j, 2 * j + 1] = -1
                featureBias[0, 2 * j] = 0
                featureBias[0, 2 * j + 1] = 0
            }
        }
    }

    /// Width of the shared gate input (0 for `.expertDetectors`).
    public let sharedInputWidth: Int

    /// Number of slots: the trunk's (if included) and one per expert.
    public var slotCount: Int { expertCount + firstExpertSlot }

    /// Index of the first expert slot.
    public var firstExpertSlot: Int { configuration.includesTrunk ? 1 : 0 }

    /// The slot of expert `e`.
    public func slot(ofExpert e: Int) -> Int { e + firstExpertSlot }

    /// The expert of slot `s`, or nil for the trunk slot.
    public func expert(ofSlot s: Int) -> Int? { s < firstExpertSlot ? nil : s - firstExpertSlot }

    /// Name of slot `s` in parameter paths: `trunk` or the expert index.
    public func slotName(_ s: Int) -> String {
        expert(ofSlot: s).map(String.init) ?? "trunk"
    }

    /// Adds the slot of a new expert with `detectorCount` detectors; a learned gate
    /// gives it zero weights reading the shared input (or, for `.expertDetectors`, the
    /// expert's detectors) and, with the first expert, creates the trunk slot's too: a
    /// gate with no experts has no parameters.
    public mutating func addExpertSlot(detectorCount: Int) {
        if configuration.isLearned {
            let perExpert = configuration.input == .expertDetectors
            if configuration.includesTrunk && slotWeights.isEmpty {
                appendSlotParameters(inputWidth: perExpert ? 0 : sharedInputWidth)
            }
            appendSlotParameters(inputWidth: perExpert ? detectorCount : sharedInputWidth)
        }
        expertCount += 1
    }

    private mutating func appendSlotParameters(inputWidth: Int) {
        slotWeights.append(Matrix(rows: inputWidth, columns: 1))
        slotBiases.append(Matrix(rows: 1, columns: 1))
        if configuration.noisy { slotNoiseWeights.append(Matrix(rows: inputWidth, columns: 1)) }
    }

    /// How many leading features of a class-posterior gate are the inputs' hinges
    /// (``ClassPosteriorFeatures/hingeCount(inputWidth:)``; 0 for a learned gate).
    public var hingeCount: Int {
        guard case let .classPosterior(features) = configuration.kind else { return 0 }
        return features.hingeCount(inputWidth: sharedInputWidth)
    }

    /// Number of random features of a class-posterior gate (0 for a learned gate).
    public var featureCount: Int { featureWeight.columns }

    /// The random ReLU features `max(0, x_g W_f + b_f)` of a gate input.
    public func features(_ gateInput: Matrix) -> Matrix {
        precondition(featureCount > 0, "Only a class-posterior gate has features")
        precondition(gateInput.columns == featureWeight.rows,
                     "The gate's features read \(featureWeight.rows) inputs, got \(gateInput.columns)")
        var output = Matrix(rows: gateInput.rows, columns: featureCount)
        output.addRowVector(featureBias)
        output.addProduct(gateInput, featureWeight)
        Activation.relu.apply(&output)
        return output
    }

    /// Adds head columns for new classes, with the unseen-class bias.
    mutating func widenHead(to classCount: Int) {
        guard featureCount > 0, classCount > headWeight.columns else { return }
        let extra = classCount - headWeight.columns
        headWeight = headWeight.concatenatingColumns(Matrix(rows: featureCount, columns: extra))
        headBias = headBias.concatenatingColumns(Matrix(rows: 1, columns: extra, repeating: Gate.unseenClassBias))
    }

    /// Paths (relative to the gate) that are set from statistics, not trained.
    public var statisticPaths: Set<String> {
        featureCount > 0 ? ["head.weight", "head.bias"] : []
    }

    /// Paths (relative to the gate) that are frozen from the moment they exist.
    public var alwaysFrozenPaths: Set<String> {
        featureCount > 0 ? ["features.weight", "features.bias"] : []
    }

    public func forEachParameter(_ body: (String, Matrix) throws -> Void) rethrows {
        if featureCount > 0 {
            try body("features.weight", featureWeight)
            try body("features.bias", featureBias)
            try body("head.weight", headWeight)
            try body("head.bias", headBias)
            return
        }
        for s in slotWeights.indices {
            let name = slotName(s)
            // A slot that reads nothing (the trunk's, with per-expert inputs) has a bias only.
            let reads = slotWeights[s].rows > 0
            if reads { try body(name + ".weight", slotWeights[s]) }
            try body(name + ".bias", slotBiases[s])
            if reads && configuration.noisy { try body(name + ".noise", slotNoiseWeights[s]) }
        }
    }

    public mutating func updateParameters(_ body: (String, inout Matrix) throws -> Void) rethrows {
        if featureCount > 0 {
            try body("features.weight", &featureWeight)
            try body("features.bias", &featureBias)
            try body("head.weight", &headWeight)
            try body("head.bias", &headBias)
            return
        }
        for s in slotWeights.indices {
            let name = slotName(s)
            let reads = slotWeights[s].rows > 0
            if reads { try body(name + ".weight", &slotWeights[s]) }
            try body(name + ".bias", &slotBiases[s])
            if reads && configuration.noisy { try body(name + ".noise", &slotNoiseWeights[s]) }
        }
    }
}
