import MoE

// Optimizers in a checkpoint: kind, hyperparameters, and `Optimizer.state` keyed by
// `<kind>/<parameter path>` (Adam: m/, v/, t/; SGD: velocity/).

extension Checkpoint.OptimizerState {
    /// The state of an `Adam` or `SGD` optimizer.
    ///
    /// - Precondition: the optimizer is `Adam` or `SGD` (for another, build the state
    ///   with the memberwise initializer).
    public init(_ optimizer: any Optimizer) {
        switch optimizer {
        case let adam as Adam:
            self.init(kind: "adam", hyperparameters: [
                "learning_rate": Double(adam.learningRate), "beta1": Double(adam.beta1),
                "beta2": Double(adam.beta2), "epsilon": Double(adam.epsilon),
            ], state: adam.state)
        case let sgd as SGD:
            self.init(kind: "sgd", hyperparameters: [
                "learning_rate": Double(sgd.learningRate), "momentum": Double(sgd.momentum),
            ], state: sgd.state)
        default:
            preconditionFailure("Checkpoints know Adam and SGD, not \(type(of: optimizer)); build an OptimizerState by hand")
        }
    }
}

extension Checkpoint {
    /// The stored optimizer (Adam or SGD) with its state, verified against `model`:
    /// every state entry must belong to one of its parameters and have its shape.
    public func makeOptimizer(for model: MixtureOfExperts) throws(CheckpointError) -> any Optimizer {
        guard let state = optimizer else { throw .missing(path: "/optimizer", file: source) }
        switch state.kind {
        case "adam": return try makeAdam(for: model)
        case "sgd": return try makeSGD(for: model)
        default: throw .invalidValue(path: "/optimizer@kind", reason: "unknown optimizer '\(state.kind)' (this build knows adam and sgd)", file: source)
        }
    }

    /// The stored Adam optimizer with its moments and step counts.
    public func makeAdam(for model: MixtureOfExperts) throws(CheckpointError) -> Adam {
        let state = try optimizerState(kind: "adam", hyperparameters: ["learning_rate", "beta1", "beta2", "epsilon"])
        let h = state.hyperparameters
        try check("learning_rate", h["learning_rate"]!, "must be finite and non-negative") { $0 >= 0 }
        try check("beta1", h["beta1"]!, "must be in [0, 1)") { $0 >= 0 && $0 < 1 }
        try check("beta2", h["beta2"]!, "must be in [0, 1)") { $0 >= 0 && $0 < 1 }
        try check("epsilon", h["epsilon"]!, "must be finite and non-negative") { $0 >= 0 }
        var adam = Adam(learningRate: Float(h["learning_rate"]!), beta1: Float(h["beta1"]!),
                        beta2: Float(h["beta2"]!), epsilon: Float(h["epsilon"]!))
        try verifyState(state.state, against: model, kinds: ["m": nil, "v": nil, "t": [1, 1]])
        do {
            try adam.restore(state: state.state)
        } catch {
            throw .invalidValue(path: "/optimizer/state", reason: error.description, file: source)
        }
        return adam
    }

    /// The stored SGD optimizer with its velocities.
    public func makeSGD(for model: MixtureOfExperts) throws(CheckpointError) -> SGD {
        let state = try optimizerState(kind: "sgd", hyperparameters: ["learning_rate", "momentum"])
        let h = state.hyperparameters
        try check("learning_rate", h["learning_rate"]!, "must be finite and non-negative") { $0 >= 0 }
        try check("momentum", h["momentum"]!, "must be in [0, 1)") { $0 >= 0 && $0 < 1 }
        var sgd = SGD(learningRate: Float(h["learning_rate"]!), momentum: Float(h["momentum"]!))
        try verifyState(state.state, against: model, kinds: ["velocity": nil])
        do {
            try sgd.restore(state: state.state)
        } catch {
            throw .invalidValue(path: "/optimizer/state", reason: error.description, file: source)
        }
        return sgd
    }

    /// The optimizer state, checked to be of `kind` with exactly these hyperparameters.
    private func optimizerState(kind: String, hyperparameters names: Set<String>) throws(CheckpointError) -> OptimizerState {
        guard let state = optimizer else { throw .missing(path: "/optimizer", file: source) }
        guard state.kind == kind else {
            throw .wrongType(path: "/optimizer@kind", expected: "'\(kind)'", actual: "'\(state.kind)'", file: source)
        }
        for name in names.sorted() where state.hyperparameters[name] == nil {
            throw .missing(path: "/optimizer/hyperparameters@\(name)", file: source)
        }
        for name in state.hyperparameters.keys.sorted() where !names.contains(name) {
            throw .unexpected(path: "/optimizer/hyperparameters@\(name)", file: source)
        }
        return state
    }

    private func check(_ name: String, _ value: Double, _ rule: String, _ valid: (Double) -> Bool) throws(CheckpointError) {
        guard value.isFinite && valid(value) && Float(value).isFinite else {
            throw .invalidValue(path: "/optimizer/hyperparameters@\(name)", reason: "\(value) \(rule)", file: source)
        }
    }

    /// Every entry `<kind>/<path>` must name a parameter of `model` and have its shape
    /// (or the fixed shape given for that kind).
    private func verifyState(_ state: [String: Matrix], against model: MixtureOfExperts, kinds: [String: [Int]?]) throws(CheckpointError) {
        let shapes = model.parameters.mapValues(\.shape)
        for key in state.keys.sorted() {
            let path = "/optimizer/state/" + key
            guard let slash = key.firstIndex(of: "/"), let fixed = kinds[String(key[..<slash])] else {
                throw .unexpected(path: path, file: source)
            }
            let parameter = String(key[key.index(after: slash)...])
            guard let shape = shapes[parameter] else {
                throw .invalidValue(path: path, reason: "the model has no parameter '\(parameter)'", file: source)
            }
            let expected = fixed ?? shape
            guard state[key]!.shape == expected else {
                throw .wrongShape(path: path, expected: expected, actual: state[key]!.shape, file: source)
            }
            // Adam's step counts become integers: a crafted infinite or huge value would
            // trap in the conversion (found by fuzzing through the reader process).
            if key.hasPrefix("t/") {
                let value = state[key]!.scalars[0]
                guard value.isFinite, value >= 1, value == value.rounded(), value <= Self.largestStepCount else {
                    throw .invalidValue(path: path, reason: "a step count must be a whole number from 1 to 2^62, not \(value)", file: source)
                }
            }
        }
    }

    /// The largest step count accepted (an `Int` holds it).
    static let largestStepCount = Float(Int64(1) << 62)
}
