/// The framework's network: a trunk MLP and experts planted on its detectors, with a
/// gate that decides per input which of them speak (METHOD.md section 4).
///
/// ```
/// correction:  logits(x) = T(x) + Σ_{e routed} g_e(x) · expert_e(x)
/// slots:       logits(x) = g_0(x) · T(x) + Σ_{e routed} g_e(x) · expert_e(x)
/// T(x)       = [trunk(x) | h_last(x) V_1 + c_1 | …]
/// ```
///
/// With `expertOutput == .correction` (METHOD.md's formula) an expert's output is added
/// to the trunk's logits; with `.slot` each expert writes its slot's logits itself and
/// the trunk is one more slot (slot 0, weight `g_0`). The continual learner uses slots:
/// its gate sends an input to the slot in charge of its domain, and the trunk's logits,
/// learned on other classes or another domain, would be noise an expert has to learn to
/// cancel first (measured on Permuted Fashion-MNIST: experts answered 0.828 as
/// corrections, 0.836 as slots).
///
/// `h_last` is the input of the trunk's last dense layer and `V_k, c_k` are the output
/// extensions added by `widenOutput` (a frozen parameter never changes shape). With no
/// experts it computes exactly what the trunk computes, bit for bit. Parameters are
/// addressed as `trunk.<layer>.weight`, `trunk.extension.<k>.weight`,
/// `experts.<e>.<layer>.weight`, `gate.…`; `frozen` is the set of paths no optimizer may
/// change. Growing only ever adds paths: existing ones keep their names and shapes, so
/// optimizer state keyed by path survives growth.
public struct MixtureOfExperts: Parameterized {
    /// The base network, `inputs -> hidden… -> classes`.
    public var trunk: Sequential
    /// Paths of parameters that are never trained again.
    public var frozen: Set<String> = []
    /// Output columns added after the trunk's own, one dense block per widening
    /// (`lastHiddenWidth x newClasses`), paths `trunk.extension.<k>.weight`/`.bias`.
    public var headExtensions: [Dense] = []
    /// The experts, in the order they grew.
    public var experts: [Expert] = []
    /// Scores the trunk (slot 0, when included) and the experts.
    public var gate: Gate
    /// The classes the trunk answers for, as the gate's slot 0.
    public var trunkClasses: Set<Int>
    /// How an expert's output meets the trunk's logits.
    public var expertOutput: ExpertOutput = .correction

    /// How an expert's output meets the trunk's logits.
    public enum ExpertOutput: String, Sendable, Codable, CaseIterable {
        /// Added to the trunk's logits (METHOD.md section 4).
        case correction
        /// The logits of the expert's gate slot; the trunk is slot 0. Needs a gate that
        /// includes the trunk and is not trained by gradient (a class-posterior gate).
        case slot
    }
    /// The head columns of a gate that routes by (slot, class) pairs, in the order they
    /// appeared (empty otherwise); see `GatePair`. A slot answers for the classes of its
    /// pairs.
    public internal(set) var gatePairs: [GatePair] = []

    /// A model over an existing trunk, with the default gate (learned softmax over the
    /// network input, trunk included; see `configureGate`).
    public init(trunk: Sequential) {
        self.trunk = trunk
        trunkClasses = Set(0..<trunk.outputWidth)
        gate = Gate(configuration: .learned(), inputWidth: trunk.inputWidth, classCount: trunk.outputWidth)
    }

    /// A model whose trunk is an MLP of the given sizes.
    public init(sizes: [Int], activation: Activation = .relu, generator: inout SeededGenerator) {
        self.init(trunk: .mlp(sizes, activation: activation, generator: &generator))
    }

    /// Input width.
    public var inputWidth: Int { trunk.inputWidth }
    /// Number of classes (logits), including output extensions.
    public var classCount: Int { trunk.outputWidth + headExtensions.reduce(0) { $0 + $1.outputs } }
    /// Number of hidden layers of the trunk.
    public var hiddenLayerCount: Int { trunk.hiddenLayerIndices.count }
    /// Index in `trunk.layers` of the last dense layer (the output layer).
    var lastDenseIndex: Int {
        trunk.layers.lastIndex { if case .dense = $0.kind { true } else { false } } ?? 0
    }

    /// One expert's evaluation on the rows routed to it.
    public struct ExpertPass: Sendable {
        /// Which expert.
        public var expert: Int
        /// The batch rows it was evaluated on (ascending).
        public var rows: [Int]
        /// Gate weight `g` of each of those rows.
        public var weights: [Float]
        /// Its network's forward pass on those rows (output not yet weighted).
        public var trace: Sequential.Trace
    }

    /// Everything a backward pass needs.
    public struct Forward: Sendable {
        /// The trunk's forward pass.
        public var trunk: Sequential.Trace
        /// The final logits.
        public var logits: Matrix
        /// Hidden activations of layer `l` (post-nonlinearity), for `l in 0..<hiddenLayerCount`.
        public var hidden: [Matrix]
        /// The trunk's logits with the output extensions, before any expert.
        public var trunkLogits: Matrix
        /// The gate's pass (nil when there are no experts).
        public var gate: GatePass?
        /// The experts that were evaluated, on their rows.
        public var experts: [ExpertPass]
        /// The gate's auxiliary (load-balancing) loss, already part of `backward`.
        public var auxiliaryLoss: Float { gate?.loadBalancingLoss ?? 0 }
    }

    /// The final logits.
    public func callAsFunction(_ input: Matrix) -> Matrix {
        forward(input).logits
    }

    /// Predicted class of each row (restricted to the routed slots' classes when the
    /// gate's `restrictsPredictions` is on).
    public func predict(_ input: Matrix) -> [Int] {
        predictions(forward(input))
    }

    /// The forward pass at inference (no routing noise), keeping what `backward` needs.
    public func forward(_ input: Matrix) -> Forward {
        var none: SeededGenerator? = nil
        return forward(input, generator: &none)
    }

    /// The forward pass in training: a noisy gate draws its noise from `generator`.
    public func forward(_ input: Matrix, noise generator: inout SeededGenerator) -> Forward {
        var source: SeededGenerator? = generator
        defer { generator = source! }
        return forward(input, generator: &source)
    }

    /// The inference pass with the gate's random features of `input` given (computed
    /// once by ``gateFeatures(_:)`` for inputs scored again and again, such as a test set):
    /// the same result as ``forward(_:)`` without the largest product. Only a
    /// class-posterior gate over the network input has such features.
    ///
    /// - Parameter earlier: A pass of the same input through the same trunk (a model that
    ///   differs only in its gate's head, such as a copy restricted to a task's classes),
    ///   whose trunk activations are reused instead of recomputed: the same bits.
    public func forward(_ input: Matrix, gateFeatures: Matrix, reusingTrunkOf earlier: Forward? = nil) -> Forward {
        precondition(gate.featureCount > 0 && gate.configuration.input == .networkInput,
                     "Only a class-posterior gate over the network input takes precomputed features")
        precondition(gateFeatures.rows == input.rows && gateFeatures.columns == gate.featureCount,
                     "Gate features must be \(input.rows) x \(gate.featureCount), got \(gateFeatures.rows) x \(gateFeatures.columns)")
        var none: SeededGenerator? = nil
        return forward(input, generator: &none, gateFeatures: gateFeatures, reusingTrunkOf: earlier)
    }

    /// The inference pass with the gate's head logits given instead of computed (the
    /// logits a head fitted without each row would give it, to judge the mixture fairly on
    /// rows its gate's statistics hold): the slots' posterior mass, the routing and the
    /// experts evaluated all follow from them. Only a class-posterior gate has a head.
    public func forward(_ input: Matrix, gateFeatures: Matrix, gateHeadLogits: Matrix) -> Forward {
        precondition(gate.featureCount > 0 && gate.configuration.input == .networkInput,
                     "Only a class-posterior gate over the network input takes given head logits")
        var none: SeededGenerator? = nil
        return forward(input, generator: &none, gateFeatures: gateFeatures, gateHeadLogits: gateHeadLogits)
    }

    /// Whether ``forward(_:gateFeatures:)`` applies: the gate's features depend on the
    /// network input alone.
    public var takesPrecomputedGateFeatures: Bool {
        gate.featureCount > 0 && gate.configuration.input == .networkInput
    }

    func forward(_ input: Matrix, generator: inout SeededGenerator?, gateFeatures: Matrix? = nil,
                 gateHeadLogits: Matrix? = nil, reusingTrunkOf earlier: Forward? = nil) -> Forward {
        precondition(input.columns == inputWidth, "The model expects \(inputWidth) inputs, got \(input.columns)")
        let (trace, hidden, trunkLogits) = trunkPass(input, reusing: earlier)
        guard !experts.isEmpty || !gatePairs.isEmpty else {
            return Forward(trunk: trace, logits: trunkLogits, hidden: hidden, trunkLogits: trunkLogits, gate: nil, experts: [])
        }
        let (gateInput, slotInputs) = gateInputs(hidden: hidden, input: input)
        let pass = gate.forward(input: gateInput, slotInputs: slotInputs, slotColumns: slotColumns, features: gateFeatures,
                                headLogits: gateHeadLogits, generator: &generator)
        var logits = trunkLogits
        if expertOutput == .slot { logits.scaleRows(by: trunkShares(pass.routing)) }
        var passes: [ExpertPass] = []
        for (e, expert) in experts.enumerated() {
            let group = pass.routing.groups[gate.slot(ofExpert: e)]
            guard !group.rows.isEmpty else { continue }
            let everyRow = group.rows.count == input.rows
            let trace = expert.network.forward(
                expert.input(hidden: hidden, networkInput: input, rows: everyRow ? nil : group.rows))
            var correction = trace.output
            correction.scaleRows(by: group.weights)
            logits.addRows(correction, at: everyRow ? nil : group.rows)
            passes.append(ExpertPass(expert: e, rows: group.rows, weights: group.weights, trace: trace))
        }
        return Forward(trunk: trace, logits: logits, hidden: hidden, trunkLogits: trunkLogits, gate: pass, experts: passes)
    }

    /// The trunk's trace, hidden activations and logits (with the output extensions) for
    /// `input`, or those of `earlier`, a pass of the same input through the same trunk.
    private func trunkPass(_ input: Matrix, reusing earlier: Forward?)
        -> (trace: Sequential.Trace, hidden: [Matrix], trunkLogits: Matrix)
    {
        if let earlier {
            precondition(earlier.trunkLogits.rows == input.rows, "The earlier pass has \(earlier.trunkLogits.rows) rows, the input \(input.rows)")
            return (earlier.trunk, earlier.hidden, earlier.trunkLogits)
        }
        let trace = trunk.forward(input)
        var logits = trace.output
        if !headExtensions.isEmpty {
            let h = trace.input(of: lastDenseIndex)
            for block in headExtensions { logits = logits.concatenatingColumns(block(h)) }
        }
        return (trace, trunk.hiddenLayerIndices.map { trace.outputs[$0] }, logits)
    }

    /// The forward pass with every row sent to one gate slot with weight 1, the gate not
    /// consulted: what training one slot on the rows in its charge needs. Slot 0 is the
    /// trunk when the gate includes it.
    ///
    /// - Parameter earlier: A pass of the same input through the same trunk, whose trunk
    ///   activations are reused instead of recomputed (a frozen trunk gives the same bits:
    ///   half-learning's re-evaluation of an expert's step).
    public func forward(_ input: Matrix, routedTo slot: Int, reusingTrunkOf earlier: Forward? = nil) -> Forward {
        precondition(input.columns == inputWidth, "The model expects \(inputWidth) inputs, got \(input.columns)")
        precondition(slot >= 0 && slot < max(1, gate.slotCount), "Slot \(slot) does not exist (the gate has \(gate.slotCount))")
        let (trace, hidden, trunkLogits) = trunkPass(input, reusing: earlier)
        guard !experts.isEmpty, let e = gate.expert(ofSlot: slot) else {
            return Forward(trunk: trace, logits: trunkLogits, hidden: hidden, trunkLogits: trunkLogits, gate: nil, experts: [])
        }
        let expertTrace = experts[e].network.forward(experts[e].input(hidden: hidden, networkInput: input, rows: nil))
        var logits = expertOutput == .slot ? Matrix(rows: trunkLogits.rows, columns: trunkLogits.columns) : trunkLogits
        logits.addRows(expertTrace.output, at: nil)
        let pass = ExpertPass(expert: e, rows: Array(0..<input.rows), weights: Array(repeating: 1, count: input.rows),
                              trace: expertTrace)
        return Forward(trunk: trace, logits: logits, hidden: hidden, trunkLogits: trunkLogits, gate: nil, experts: [pass])
    }

    /// The logits slot `slot` gives rows `rows` of a forward pass's input, from the pass's
    /// own activations (nothing of the trunk is recomputed): the trunk's (with its output
    /// extensions) in the trunk's slot; in an expert's slot the expert's output, which
    /// replaces the trunk's logits (`expertOutput = .slot`) or corrects them (`.correction`).
    public func slotLogits(_ pass: Forward, input: Matrix, slot: Int, rows: [Int]) -> Matrix {
        let trunkRows = pass.trunkLogits.gatherRows(rows)
        guard let e = gate.expert(ofSlot: slot), e < experts.count else { return trunkRows }
        var logits = expertOutput == .slot ? Matrix(rows: trunkRows.rows, columns: trunkRows.columns) : trunkRows
        logits.addRows(experts[e](hidden: pass.hidden.map { $0.gatherRows(rows) }, networkInput: input.gatherRows(rows)), at: nil)
        return logits
    }

    /// Per row, the weight of the trunk's logits when experts write their slots' logits:
    /// the trunk slot's routed weight (0 for a row routed to experts only).
    func trunkShares(_ routing: Routing) -> [Float] {
        var shares = [Float](repeating: 0, count: routing.rowCount)
        guard gate.configuration.includesTrunk else { return shares }
        for (i, r) in routing.groups[0].rows.enumerated() { shares[r] = routing.groups[0].weights[i] }
        return shares
    }

    /// What the gate reads: a shared matrix, or one matrix per slot.
    func gateInputs(hidden: [Matrix], input: Matrix) -> (Matrix?, [Matrix]) {
        switch gate.configuration.input {
        case .networkInput: return (input, [])
        case let .hiddenLayer(l): return (hidden[l], [])
        case .expertDetectors:
            let slots = (0..<gate.slotCount).map { s -> Matrix in
                guard let e = gate.expert(ofSlot: s) else { return Matrix(rows: input.rows, columns: 0) }
                return hidden[experts[e].layer].gatherColumns(experts[e].detectors)
            }
            return (nil, slots)
        }
    }

    /// The class set of every gate slot: the classes it answers for.
    public var slotClasses: [Set<Int>?] {
        if gate.configuration.pairRouting {
            var sets = [Set<Int>](repeating: [], count: gate.slotCount)
            for pair in gatePairs { sets[pair.slot].insert(pair.label) }
            return sets
        }
        return (gate.configuration.includesTrunk ? [trunkClasses] : []) + experts.map(\.classes)
    }

    /// The head columns of every gate slot, for a class-posterior gate's scores: the
    /// indices of its pairs when the gate routes by pairs, its classes otherwise.
    public var slotColumns: [[Int]] {
        if gate.configuration.pairRouting {
            var columns = [[Int]](repeating: [], count: gate.slotCount)
            for (k, pair) in gatePairs.enumerated() { columns[pair.slot].append(k) }
            return columns
        }
        guard gate.featureCount > 0 else { return Array(repeating: [], count: gate.slotCount) }
        return slotClasses.enumerated().map { s, classes in
            guard let classes else { preconditionFailure("Slot \(s) has no class set; a class-posterior gate routes by classes") }
            return classes.sorted()
        }
    }

    /// The column of `pair` in a pair-routing gate's head, if it has one.
    public func gateColumn(of pair: GatePair) -> Int? {
        gatePairs.firstIndex(of: pair)
    }

    /// Adds a (slot, class) column to a pair-routing gate's head, with no posterior
    /// mass until `setClassHead` describes it.
    ///
    /// - Returns: The new column's index.
    @discardableResult
    public mutating func addGatePair(_ pair: GatePair) -> Int {
        precondition(gate.configuration.pairRouting, "Only a gate that routes by pairs has pair columns")
        precondition(pair.slot >= 0 && pair.slot < gate.slotCount, "Slot \(pair.slot) does not exist (the gate has \(gate.slotCount))")
        precondition(pair.label >= 0 && pair.label < classCount, "Class \(pair.label) is not in 0..<\(classCount): widen the output first")
        precondition(gateColumn(of: pair) == nil, "The gate already has a column for \(pair)")
        gatePairs.append(pair)
        gate.widenHead(to: gatePairs.count)
        return gatePairs.count - 1
    }

    /// The backward pass.
    ///
    /// - Parameters:
    ///   - forward: the forward pass.
    ///   - logitGradient: dLoss/dLogits.
    ///   - hiddenGradients: extra gradients at hidden layer `l`'s activations (the
    ///     covariance cost), keyed by hidden-layer index.
    ///   - labels: when given, the gate's routing supervision (if on) is included.
    /// - Returns: parameter gradients by path; frozen paths are not computed. The
    ///   gradient of the gate's load-balancing loss (if on) is always included.
    public func backward(_ forward: Forward, logitGradient: Matrix, hiddenGradients: [Int: Matrix] = [:],
                         labels: [Int]? = nil) -> Gradients {
        var gradients = Gradients(skipping: frozen)
        let indices = trunk.hiddenLayerIndices
        var extra: [Int: Matrix] = [:]
        for (l, g) in hiddenGradients {
            precondition(l >= 0 && l < indices.count, "Hidden layer \(l) does not exist")
            extra[indices[l]] = g
        }
        func addExtra(_ index: Int, _ body: (inout Matrix) -> Void) {
            var m = extra.removeValue(forKey: index) ?? Matrix(rows: logitGradient.rows, columns: forward.trunk.outputs[index].columns)
            body(&m)
            extra[index] = m
        }
        let gateInputTrace = gateInputTraceIndex
        let gateRuns = forward.gate != nil && gate.configuration.isLearned
            && (gate.hasTrainableParameters(prefix: "gate", frozen: frozen) || gateInputWantsGradient)
        var weightGradient = gateRuns ? Matrix(rows: logitGradient.rows, columns: gate.slotCount) : nil

        for pass in forward.experts {
            let expert = experts[pass.expert]
            let everyRow = pass.rows.count == logitGradient.rows
            var g = everyRow ? logitGradient : logitGradient.gatherRows(pass.rows)
            if expert.outputWidth < g.columns { g = g.gatherColumns(Array(0..<expert.outputWidth)) }
            if weightGradient != nil {
                let slot = gate.slot(ofExpert: pass.expert)
                for (i, dot) in g.rowDots(pass.trace.output).enumerated() { weightGradient![pass.rows[i], slot] = dot }
            }
            g.scaleRows(by: pass.weights)
            let detectorIndex = indices[expert.layer]
            let contextIndex = expert.contextTraceIndex(hiddenLayerIndices: indices)
            let wantsDetectors = trunkWantsGradient(upTo: detectorIndex)
            let wantsContext = contextIndex.map(trunkWantsGradient(upTo:)) ?? false
            let dInput = expert.network.backward(
                pass.trace, outputGradient: g, prefix: "experts.\(pass.expert)", gradients: &gradients,
                needsInputGradient: wantsDetectors || wantsContext)
            guard let dInput else { continue }
            let rows = everyRow ? nil : pass.rows
            let d = expert.detectors.count
            if wantsDetectors {
                addExtra(detectorIndex) { $0.addColumns(of: dInput, 0..<d, at: rows, into: expert.detectors) }
            }
            if wantsContext, let contextIndex {
                addExtra(contextIndex) { $0.addColumns(of: dInput, d..<dInput.columns, at: rows, into: nil) }
            }
        }

        if gateRuns, let pass = forward.gate {
            let targets = labels.map(routingTargets)
            let (shared, slots) = gate.backward(
                pass, weightGradient: weightGradient!, targets: targets, prefix: "gate", gradients: &gradients,
                needsInputGradient: gateInputWantsGradient)
            if let shared, let gateInputTrace { addExtra(gateInputTrace) { $0.add(shared) } }
            for (s, dx) in slots.enumerated() {
                guard let e = gate.expert(ofSlot: s), dx.columns > 0 else { continue }
                let index = indices[experts[e].layer]
                guard trunkWantsGradient(upTo: index) else { continue }
                addExtra(index) { $0.addColumns(of: dx, 0..<dx.columns, at: nil, into: experts[e].detectors) }
            }
        }

        var trunkGradient = logitGradient
        if expertOutput == .slot {
            // The trunk's logits count with its slot's weight: none for rows sent to experts.
            if let routing = forward.gate?.routing {
                trunkGradient.scaleRows(by: trunkShares(routing))
            } else if !forward.experts.isEmpty {
                trunkGradient = Matrix(rows: logitGradient.rows, columns: logitGradient.columns)
            }
        }
        if !headExtensions.isEmpty {
            let last = lastDenseIndex
            let h = forward.trunk.input(of: last)
            let wantsH = last > 0 && trunkWantsGradient(upTo: last - 1)
            var column = trunk.outputWidth
            for (k, block) in headExtensions.enumerated() {
                let g = trunkGradient.gatherColumns(Array(column..<(column + block.outputs)))
                column += block.outputs
                let dh = block.backward(input: h, output: g, outputGradient: g, prefix: "trunk.extension.\(k)",
                                        gradients: &gradients, needsInputGradient: wantsH)
                if let dh { addExtra(last - 1) { $0.add(dh) } }
            }
            trunkGradient = trunkGradient.gatherColumns(Array(0..<trunk.outputWidth))
        }
        _ = trunk.backward(forward.trunk, outputGradient: trunkGradient, extraGradients: extra,
                           prefix: "trunk", gradients: &gradients)
        return gradients
    }

    /// Whether some trunk parameter in `trunk.layers[0...index]` is trainable.
    func trunkWantsGradient(upTo index: Int) -> Bool {
        for j in 0...index {
            var wanted = false
            trunk.layers[j].forEachParameter { name, _ in
                if !frozen.contains("trunk.\(j).\(name)") { wanted = true }
            }
            if wanted { return true }
        }
        return false
    }

    /// Trace index of the gate's shared input, when it is a hidden layer.
    var gateInputTraceIndex: Int? {
        if case let .hiddenLayer(l) = gate.configuration.input { return trunk.hiddenLayerIndices[l] }
        return nil
    }

    /// Whether the gate's input carries a gradient into trainable trunk parameters.
    var gateInputWantsGradient: Bool {
        switch gate.configuration.input {
        case .networkInput: return false
        case let .hiddenLayer(l): return trunkWantsGradient(upTo: trunk.hiddenLayerIndices[l])
        case .expertDetectors:
            return experts.contains { trunkWantsGradient(upTo: trunk.hiddenLayerIndices[$0.layer]) }
        }
    }

    /// The slot that owns each label (the newest slot whose classes contain it), or nil.
    public func routingTargets(_ labels: [Int]) -> [Int?] {
        let classes = slotClasses
        return labels.map { y in classes.lastIndex { $0?.contains(y) ?? false } }
    }

    /// Mean cross-entropy on a batch plus the gate's auxiliary losses, their parameter
    /// gradients, and the forward pass (inference routing: no noise).
    public func lossAndGradients(_ input: Matrix, labels: [Int]) -> (loss: Float, gradients: Gradients, forward: Forward) {
        lossAndGradients(forward(input), labels: labels)
    }

    /// As `lossAndGradients(_:labels:)`, with training noise for a noisy gate.
    public func lossAndGradients(_ input: Matrix, labels: [Int], noise generator: inout SeededGenerator)
        -> (loss: Float, gradients: Gradients, forward: Forward) {
        lossAndGradients(forward(input, noise: &generator), labels: labels)
    }

    func lossAndGradients(_ pass: Forward, labels: [Int]) -> (loss: Float, gradients: Gradients, forward: Forward) {
        let (loss, g) = SoftmaxCrossEntropy.lossAndGradient(logits: pass.logits, labels: labels)
        var total = loss + pass.auxiliaryLoss
        if let gatePass = pass.gate { total += gate.supervisionLoss(gatePass, targets: routingTargets(labels)) }
        return (total, backward(pass, logitGradient: g, labels: labels), pass)
    }

    /// Freezes every parameter that exists now (except a class-posterior gate's head,
    /// which is set from statistics and never trained: see `Gate`).
    public mutating func freezeAll() {
        frozen.formUnion(parameterPaths)
        frozen.subtract(gate.statisticPaths.map { "gate." + $0 })
    }

    public func forEachParameter(_ body: (String, Matrix) throws -> Void) rethrows {
        try trunk.forEachParameter { try body("trunk." + $0, $1) }
        for (k, block) in headExtensions.enumerated() {
            try block.forEachParameter { try body("trunk.extension.\(k)." + $0, $1) }
        }
        for (e, expert) in experts.enumerated() {
            try expert.forEachParameter { try body("experts.\(e)." + $0, $1) }
        }
        try gate.forEachParameter { try body("gate." + $0, $1) }
    }

    public mutating func updateParameters(_ body: (String, inout Matrix) throws -> Void) rethrows {
        try trunk.updateParameters { try body("trunk." + $0, &$1) }
        for k in headExtensions.indices {
            try headExtensions[k].updateParameters { try body("trunk.extension.\(k)." + $0, &$1) }
        }
        for e in experts.indices {
            try experts[e].updateParameters { try body("experts.\(e)." + $0, &$1) }
        }
        try gate.updateParameters { try body("gate." + $0, &$1) }
    }
}
