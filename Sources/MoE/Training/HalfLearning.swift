/// Half-learning: a training step that never increases the number of misclassifications
/// on its step set (METHOD.md section 3).
///
/// ```
/// E0 = errors(θ);  η = rate
/// repeat:
///     θ1 = propose(θ, η);  E1 = errors(θ1)
///     if E1 <= E0: θ = θ1; rate = min(maximumRate, growth · η); accept
///     η = η / 2
///     if η < minimumRate: keep θ; reject (rate stays as it was)
/// ```
///
/// After an accepted step the rate grows again by `growth` up to `maximumRate`, as in
/// the "bold driver" rule (Battiti 1989; Vogl et al. 1988), so learning does not stall
/// on a rate that halving once made small. By construction the error count of the kept
/// state never increases from one step to the next.
///
/// The trainer is generic over what a "state" is: anything that `propose` can step and
/// `errors` can score. The overloads for a model and an `Optimizer` copy both, so a
/// rejected step leaves the parameters *and* the optimizer's moments exactly as they
/// were (this relies on the optimizer having value semantics, as `SGD` and `Adam` do).
///
/// Cost: one `errors` evaluation per proposal (a forward pass over the step set). Pass
/// `errorsBefore` when it is already known (the prediction made before training, or
/// the forward pass that computed the gradient) to save one more.
public struct HalfLearning: Sendable, Equatable, Codable {
    /// The rate the next step starts from.
    public var rate: Float
    /// Below this rate a step is rejected.
    public var minimumRate: Float
    /// Factor applied to the rate after an accepted step (1 = no re-growth).
    public var growth: Float
    /// The cap on the rate.
    public var maximumRate: Float

    public init(rate: Float = 0.01, minimumRate: Float = 1e-5, growth: Float = 1.1, maximumRate: Float = 0.1) {
        precondition(minimumRate > 0, "The minimum rate must be positive, got \(minimumRate)")
        precondition(rate >= minimumRate && rate <= maximumRate,
                     "The rate \(rate) must lie between the minimum \(minimumRate) and the maximum \(maximumRate)")
        precondition(growth >= 1, "The growth factor must be at least 1, got \(growth)")
        self.rate = rate
        self.minimumRate = minimumRate
        self.growth = growth
        self.maximumRate = maximumRate
    }

    /// What one step did.
    public struct StepOutcome: Sendable, Equatable, Codable {
        /// Whether a proposal was kept.
        public var accepted: Bool
        /// How many times the rate was halved.
        public var halvings: Int
        /// Misclassifications before the step.
        public var errorsBefore: Int
        /// Misclassifications of the state kept (equal to `errorsBefore` if rejected).
        public var errorsAfter: Int
        /// The rate of the accepted proposal, or the last rate tried if rejected.
        public var rate: Float
        /// How many proposals were scored.
        public var proposals: Int

        public init(accepted: Bool, halvings: Int, errorsBefore: Int, errorsAfter: Int, rate: Float, proposals: Int) {
            self.accepted = accepted
            self.halvings = halvings
            self.errorsBefore = errorsBefore
            self.errorsAfter = errorsAfter
            self.rate = rate
            self.proposals = proposals
        }
    }

    /// One step, scoring the current state first.
    public mutating func step<State>(
        _ state: inout State, errors: (State) -> Int, propose: (State, Float) -> State
    ) -> StepOutcome {
        step(&state, errorsBefore: errors(state), errors: errors, propose: propose)
    }

    /// One step when the error count of the current state is already known.
    ///
    /// - Parameters:
    ///   - state: what is trained; replaced by the accepted proposal, untouched if rejected.
    ///   - errorsBefore: `errors(state)`, computed by the caller.
    ///   - errors: misclassifications on the step set.
    ///   - propose: the state after one step of rate `η` (must not mutate anything shared).
    public mutating func step<State>(
        _ state: inout State, errorsBefore: Int, errors: (State) -> Int, propose: (State, Float) -> State
    ) -> StepOutcome {
        var eta = rate
        var halvings = 0, proposals = 0
        while true {
            let candidate = propose(state, eta)
            let after = errors(candidate)
            proposals += 1
            if after <= errorsBefore {
                state = candidate
                rate = min(maximumRate, max(minimumRate, eta * growth))
                return StepOutcome(accepted: true, halvings: halvings, errorsBefore: errorsBefore,
                                   errorsAfter: after, rate: eta, proposals: proposals)
            }
            let next = eta / 2
            if next < minimumRate {
                return StepOutcome(accepted: false, halvings: halvings, errorsBefore: errorsBefore,
                                   errorsAfter: errorsBefore, rate: eta, proposals: proposals)
            }
            eta = next
            halvings += 1
        }
    }
}

extension HalfLearning {
    /// A half-learning step of `optimizer` on any parameterized model.
    ///
    /// The proposal at rate `η` is `optimizer` (a copy, with `learningRate = η`)
    /// applied once to a copy of `model` with `gradients`; accepted, both copies replace
    /// the originals, so the optimizer's moments advance only with accepted steps.
    public mutating func step<M: Parameterized, O: Optimizer>(
        _ model: inout M, optimizer: inout O, gradients: Gradients, frozen: Set<String>,
        errorsBefore: Int? = nil, errors: (M) -> Int
    ) -> StepOutcome {
        var pair = (model: model, optimizer: optimizer)
        let before = errorsBefore ?? errors(model)
        let outcome = step(&pair, errorsBefore: before, errors: { errors($0.model) }, propose: { current, eta in
            var next = current
            next.optimizer.learningRate = eta
            next.optimizer.update(&next.model, gradients: gradients, frozen: frozen)
            return next
        })
        if outcome.accepted {
            model = pair.model
            optimizer = pair.optimizer
        }
        return outcome
    }

    /// A half-learning step on a `MixtureOfExperts` whose step set is `(input, labels)`.
    public mutating func step<O: Optimizer>(
        _ model: inout MixtureOfExperts, optimizer: inout O, gradients: Gradients,
        input: Matrix, labels: [Int], errorsBefore: Int? = nil
    ) -> StepOutcome {
        step(&model, optimizer: &optimizer, gradients: gradients, frozen: model.frozen, errorsBefore: errorsBefore) {
            Self.misclassifications($0, input: input, labels: labels)
        }
    }

    /// The covariance-weighted step of METHOD.md: the gradient of
    /// `CE + λ Σ w_j max(0, -cov_j)` on `(input, labels)`, then half-learning on the
    /// same set. The forward pass that computes the gradient also counts the errors
    /// before the step, so each proposal costs one forward pass.
    ///
    /// - Returns: the step's outcome and the loss terms at the starting parameters.
    public mutating func covarianceStep<O: Optimizer>(
        _ model: inout MixtureOfExperts, optimizer: inout O, input: Matrix, labels: [Int],
        detectors: DetectorReport, cost: CovarianceCost
    ) -> (outcome: StepOutcome, loss: CovarianceCost.Result) {
        let result = cost.lossAndGradients(model, input: input, labels: labels, detectors: detectors)
        let outcome = step(&model, optimizer: &optimizer, gradients: result.gradients,
                           input: input, labels: labels, errorsBefore: result.errors)
        return (outcome, result)
    }

    /// Number of rows of `input` that `model` misclassifies.
    public static func misclassifications(_ model: MixtureOfExperts, input: Matrix, labels: [Int]) -> Int {
        precondition(labels.count == input.rows, "\(labels.count) labels for \(input.rows) rows")
        return zip(model.predict(input), labels).reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1) }
    }
}
