extension MixtureOfExperts.Architecture {
    /// Checks everything `MixtureOfExperts(architecture:)` relies on and counts the
    /// parameters it would allocate.
    ///
    /// - Parameter limit: The largest number of scalar parameters accepted.
    /// - Returns: The number of scalar parameters the model will have.
    public func validate(limit: Int = 1 << 31) throws(ExpertError) -> Int {
        var widths: [Int] = []          // hidden widths
        var width: Int?
        var count = Counter(limit: limit)
        for (index, kind) in trunk.enumerated() {
            switch kind {
            case let .dense(i, o):
                guard i > 0, o > 0 else { throw .invalidTrunk(reason: "layer \(index) is dense \(i)->\(o)") }
                if let width, width != i { throw .invalidTrunk(reason: "layer \(index) takes \(i) inputs, the layer before gives \(width)") }
                width = o
                try count.add(i, o, plus: o)
            default:
                guard let width else { throw .invalidTrunk(reason: "layer \(index) (\(kind)) comes before any dense layer") }
                widths.append(width)
            }
        }
        guard let classes = width, let inputs = trunk.first.flatMap({ if case let .dense(i, _) = $0 { i } else { nil } }) else {
            throw .invalidTrunk(reason: "it has no dense layer")
        }
        let lastInput: Int = trunk.last { if case .dense = $0 { true } else { false } }
            .flatMap { if case let .dense(i, _) = $0 { i } else { nil } } ?? classes
        var classCount = classes
        for (k, w) in headExtensions.enumerated() {
            guard w > 0 else { throw .invalidExtension(index: k, width: w) }
            try count.add(lastInput, w, plus: w)
            classCount += w
        }
        // A negative trunk class indexed the gate's class scores out of range (found by fuzzing).
        guard trunkClasses.allSatisfy({ $0 >= 0 && $0 < classCount }) else {
            throw .invalidGate(reason: "the trunk's classes \(trunkClasses) are not all in 0..<\(classCount)")
        }
        for (e, expert) in experts.enumerated() {
            guard expert.layer >= 0, expert.layer < widths.count else {
                throw .invalidExpert(index: e, reason: "it reads hidden layer \(expert.layer), the trunk has \(widths.count)")
            }
            let layerWidth = widths[expert.layer]
            guard Set(expert.detectors).count == expert.detectors.count, expert.detectors.allSatisfy({ $0 >= 0 && $0 < layerWidth }) else {
                throw .invalidExpert(index: e, reason: "its detectors must be distinct indices in 0..<\(layerWidth)")
            }
            let context: Int = switch expert.context {
            case .none: 0
            case .layerOutput: layerWidth
            case .layerInput: expert.layer == 0 ? inputs : widths[expert.layer - 1]
            }
            guard expert.contextWidth == context else {
                throw .invalidExpert(index: e, reason: "its \(expert.context) context is \(context) wide, not \(expert.contextWidth)")
            }
            guard expert.detectors.count + context > 0, expert.hiddenWidth > 0,
                  expert.outputWidth > 0, expert.outputWidth <= classCount else {
                throw .invalidExpert(index: e, reason: "its widths (\(expert.detectors.count + context) inputs, \(expert.hiddenWidth) hidden, \(expert.outputWidth) outputs of \(classCount) classes) are not positive and within the classes")
            }
            if let set = expert.classes, !set.allSatisfy({ $0 >= 0 && $0 < classCount }) {
                throw .invalidExpert(index: e, reason: "its classes \(set) are not all in 0..<\(classCount)")
            }
            try count.add(expert.detectors.count + context, expert.hiddenWidth, plus: expert.hiddenWidth)
            try count.add(expert.hiddenWidth, expert.outputWidth, plus: expert.outputWidth)
        }
        try validateGate(inputs: inputs, widths: widths, classCount: classCount, count: &count)
        return count.total
    }

    private func validateGate(inputs: Int, widths: [Int], classCount: Int, count: inout Counter) throws(ExpertError) {
        if case let .topK(k) = gate.selection, k < 1 { throw .invalidGate(reason: "top-k routing needs k >= 1, got \(k)") }
        guard gate.loadBalancing >= 0, gate.routingSupervision >= 0, gate.loadBalancing.isFinite, gate.routingSupervision.isFinite else {
            throw .invalidGate(reason: "its loss coefficients must be finite and non-negative")
        }
        let shared: Int
        switch gate.input {
        case .networkInput: shared = inputs
        case let .hiddenLayer(l):
            guard l >= 0, l < widths.count else { throw .invalidGate(reason: "it reads hidden layer \(l), the trunk has \(widths.count)") }
            shared = widths[l]
        case .expertDetectors: shared = 0
        }
        switch gate.kind {
        case .learned:
            guard !experts.isEmpty else { return }
            let slots = (gate.includesTrunk ? [shared] : []) + experts.map { gate.input == .expertDetectors ? $0.detectors.count : shared }
            for w in slots { try count.add(w, gate.noisy ? 2 : 1, plus: 1) }
        case let .classPosterior(features):
            guard shared > 0, features.count > 0, !gate.noisy else {
                throw .invalidGate(reason: "a class-posterior gate needs a shared input, at least one feature and no noise")
            }
            try count.add(shared, features.count, plus: features.count)
            guard gate.pairRouting else {
                guard experts.allSatisfy({ $0.classes != nil }) else {
                    throw .invalidGate(reason: "a class-posterior gate needs every expert to have a class set")
                }
                try count.add(features.count, classCount, plus: classCount)
                return
            }
            let pairs = gatePairs ?? []
            let slots = experts.count + (gate.includesTrunk ? 1 : 0)
            var seen = Set<GatePair>()
            for (k, pair) in pairs.enumerated() {
                guard pair.slot >= 0, pair.slot < slots, pair.label >= 0, pair.label < classCount else {
                    throw .invalidGate(reason: "its pair column \(k) \(pair) is outside \(slots) slots and \(classCount) classes")
                }
                guard seen.insert(pair).inserted else { throw .invalidGate(reason: "its pair column \(k) \(pair) is repeated") }
            }
            try count.add(features.count, pairs.count, plus: pairs.count)
        }
        if expertOutput == .slot, gate.kind == .learned || !gate.includesTrunk {
            throw .invalidGate(reason: "experts that write their slots' logits need a class-posterior gate that includes the trunk")
        }
        if !gate.pairRouting, let pairs = gatePairs, !pairs.isEmpty {
            throw .invalidGate(reason: "it has \(pairs.count) pair columns but does not route by pairs")
        }
    }

    /// Sums `rows * columns + extra` without overflow, up to a limit.
    private struct Counter {
        let limit: Int
        var total = 0
        mutating func add(_ rows: Int, _ columns: Int, plus extra: Int) throws(ExpertError) {
            let (product, o1) = rows.multipliedReportingOverflow(by: columns)
            let (size, o2) = product.addingReportingOverflow(extra)
            let (sum, o3) = total.addingReportingOverflow(size)
            guard !(o1 || o2 || o3), sum <= limit else { throw .tooLarge(scalars: o1 || o2 || o3 ? Int.max : sum, limit: limit) }
            total = sum
        }
    }
}
