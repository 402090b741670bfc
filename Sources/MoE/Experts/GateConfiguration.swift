extension Gate {
    /// How the gate scores its slots.
    public enum Kind: Sendable, Codable, Equatable {
        /// A linear softmax gate trained by gradient (Shazeer et al. 2017).
        ///
        /// ```
        /// h = x_g W + b  (+ ε ⊙ softplus(x_g W_noise) when noisy, training only)
        /// p = softmax(h)
        /// ```
        case learned
        /// Fixed random ReLU features of the gate input and a linear class head fitted
        /// outside the gate (the streaming linear discriminant); a slot's score is the
        /// log of the posterior mass of its classes.
        ///
        /// ```
        /// φ = max(0, x_g W_f + b_f)        W_f ~ N(0, weightScale²/d) (on a fine grid), b_f ~ N(0, biasScale²)
        /// p(c | x) = softmax(φ W_c + b_c)
        /// score_s = log Σ_{c ∈ classes(s)} p(c | x)
        /// ```
        case classPosterior(ClassPosteriorFeatures)
    }

    /// The random feature map of a class-posterior gate. It is drawn exactly as
    /// `RandomFeatures(inputCount:featureCount:seed:weightScale:biasScale:)` draws it,
    /// so a `LinearDiscriminant` built with the same values sees the same features.
    public struct ClassPosteriorFeatures: Sendable, Codable, Equatable {
        /// Number of random features.
        public var count: Int
        /// Seed of the projection.
        public var seed: UInt64
        /// Standard deviation of `x W_f` for an input of unit mean square.
        public var weightScale: Float
        /// Standard deviation of `b_f` (0.3 as `RandomFeatures`, whose documentation
        /// gives the Fashion-MNIST measurement behind it).
        public var biasScale: Float
        /// Whether the leading features are the inputs' hinges, `max(0, x_j)` and
        /// `max(0, -x_j)` for each input `j`, when they take at most 1/16 of the features
        /// (``hingeCount(inputWidth:)``); the others are drawn as before. Nil (files
        /// written before hinges existed): none.
        public var inputHinges: Bool?

        public init(count: Int = 2048, seed: UInt64, weightScale: Float = 1, biasScale: Float = 0.3, inputHinges: Bool = false) {
            precondition(count > 0, "A class-posterior gate needs at least one feature")
            precondition(weightScale > 0 && biasScale >= 0, "Feature scales must be positive (bias: non-negative)")
            self.count = count
            self.seed = seed
            self.weightScale = weightScale
            self.biasScale = biasScale
            self.inputHinges = inputHinges ? true : nil
        }

        /// How many leading features are hinges of an input of `inputWidth` columns: two
        /// per input when hinges are on and `2 · inputWidth` is at most `count / 16`, so
        /// that at least 15/16 of the features stay random; 0 otherwise.
        public func hingeCount(inputWidth: Int) -> Int {
            guard inputHinges == true, inputWidth > 0, 2 * inputWidth <= count / 16 else { return 0 }
            return 2 * inputWidth
        }
    }

    /// What the gate reads.
    public enum Input: Sendable, Codable, Equatable, Hashable {
        /// The network input.
        case networkInput
        /// The activations of a hidden layer of the trunk.
        case hiddenLayer(Int)
        /// Each expert's slot reads that expert's own detector activations; the trunk
        /// slot reads nothing (its score is its bias). Learned gates only.
        case expertDetectors
    }

    /// How scores become routing.
    public enum Selection: Sendable, Codable, Equatable {
        /// Every slot is evaluated, weighted by its probability (dense; cost grows with E).
        case softmax
        /// Only the `k` best-scoring slots of each row are evaluated.
        case topK(Int)
    }

    /// Everything that defines a gate; part of the model's architecture.
    public struct Configuration: Sendable, Codable, Equatable {
        public var kind: Kind
        public var input: Input
        public var selection: Selection
        /// Whether the trunk counts as slot 0 ("expert 0"): an input routed there gets the
        /// trunk's logits and no correction.
        public var includesTrunk: Bool
        /// Noisy top-k (Shazeer et al. 2017): seeded Gaussian noise with a learned,
        /// per-input standard deviation is added to the scores during training. Learned
        /// gates only.
        public var noisy: Bool
        /// Whether top-k weights are renormalised over the routed slots
        /// (`g = p_s / Σ_routed p`, Shazeer) instead of kept as the softmax over all
        /// slots (`g = p_s`, Switch Transformer, which keeps a gradient for the gate
        /// under top-1). Class-posterior gates always renormalise.
        public var renormalizes: Bool
        /// Coefficient `α` of the Switch-Transformer load-balancing loss
        /// `α · S · Σ_s f_s · P̄_s`; 0 turns it off.
        public var loadBalancing: Float
        /// Coefficient `β` of a routing cross-entropy that trains a learned gate to
        /// send each labelled row to the slot owning its class (`β · mean -log p_owner`);
        /// trained on new data plus replay it is a task classifier. 0 turns it off.
        public var routingSupervision: Float
        /// Whether `predict` chooses only among the classes of the slots a row was
        /// routed to (when all of them have class sets). `logits` are never masked.
        public var restrictsPredictions: Bool
        /// Class-posterior gates: whether the head's columns are (slot, class) pairs
        /// (`MixtureOfExperts.gatePairs`) rather than classes. nil (files written before
        /// pairs existed) means classes.
        public var routesByPairs: Bool?

        /// Whether the head's columns are (slot, class) pairs.
        public var pairRouting: Bool { routesByPairs ?? false }

        public init(
            kind: Kind = .learned, input: Input = .networkInput, selection: Selection = .softmax,
            includesTrunk: Bool = true, noisy: Bool = false, renormalizes: Bool = false,
            loadBalancing: Float = 0, routingSupervision: Float = 0, restrictsPredictions: Bool = false,
            routesByPairs: Bool? = nil
        ) {
            if case let .topK(k) = selection { precondition(k >= 1, "Top-k routing needs k >= 1, got \(k)") }
            precondition(loadBalancing >= 0 && routingSupervision >= 0, "Gate loss coefficients must be non-negative")
            if case .classPosterior = kind {
                precondition(input != .expertDetectors, "A class-posterior gate needs one shared input, not per-expert detectors")
                precondition(!noisy, "Noisy routing belongs to learned gates")
            }
            self.kind = kind
            self.input = input
            self.selection = selection
            self.includesTrunk = includesTrunk
            self.noisy = noisy
            self.renormalizes = renormalizes
            self.loadBalancing = loadBalancing
            self.routingSupervision = routingSupervision
            self.restrictsPredictions = restrictsPredictions
            if routesByPairs == true {
                guard case .classPosterior = kind else { preconditionFailure("Only a class-posterior gate routes by (slot, class) pairs") }
            }
            self.routesByPairs = routesByPairs
        }

        /// A learned linear softmax gate.
        public static func learned(
            input: Input = .networkInput, selection: Selection = .softmax, includesTrunk: Bool = true,
            noisy: Bool = false, renormalizes: Bool = false, loadBalancing: Float = 0,
            routingSupervision: Float = 0
        ) -> Configuration {
            Configuration(kind: .learned, input: input, selection: selection, includesTrunk: includesTrunk,
                          noisy: noisy, renormalizes: renormalizes, loadBalancing: loadBalancing,
                          routingSupervision: routingSupervision)
        }

        /// A class-posterior gate over random features of `input`, top-`k` routing, the
        /// trunk as slot 0, predictions restricted to the routed slots' classes; with
        /// `pairs`, the head's columns are (slot, class) pairs (see `GatePair`).
        public static func classPosterior(
            features: ClassPosteriorFeatures, input: Input = .networkInput, k: Int = 1,
            includesTrunk: Bool = true, restrictsPredictions: Bool = true, pairs: Bool = false
        ) -> Configuration {
            Configuration(kind: .classPosterior(features), input: input, selection: .topK(k),
                          includesTrunk: includesTrunk, renormalizes: true,
                          restrictsPredictions: restrictsPredictions, routesByPairs: pairs ? true : nil)
        }

        var isLearned: Bool { if case .learned = kind { true } else { false } }
    }
}
