import MoE

/// Everything that defines a learner's behaviour; saved with it.
///
/// Every threshold is stated in samples or in statistics, never in windows or batches,
/// so that it means the same on a stream of 400 rows per class and on one of 12,000.
public struct LearnerConfiguration: Sendable, Codable, Equatable {
    /// Hidden widths of the trunk.
    public var hidden: [Int] = [256, 256]
    /// Hidden nonlinearity.
    public var activation: Activation = .relu
    /// Adam's step size (half-learning's starting rate when it is on).
    public var learningRate: Float = 1e-3
    /// Half-learning (METHOD.md §3): halve a step until the error count on the step set
    /// does not rise. Off: every Adam step is taken.
    public var halfLearning: Bool = true
    /// λ of the covariance cost (METHOD.md §2); 0 trains on cross-entropy alone.
    public var covarianceStrength: Float = 0.1
    /// Replay buffer capacity (0: none).
    public var replayCapacity: Int = 500
    /// Replayed samples (of the slot in charge) added to every training step.
    public var replayPerStep: Int = 64
    /// Training passes over each batch (the stream's own passes come on top).
    public var stepsPerBatch: Int = 1
    /// New rows per training step: a batch's rows are split into `ceil(rows / stepRows)`
    /// slices of nearly equal size, one step each (with its own replayed samples), so the
    /// number of steps a stream gets depends on its rows, not on the batch size it
    /// arrives in (nil: one step on the whole batch, as configurations saved before it
    /// existed do).
    public var stepRows: Int? = 64
    /// Whether a batch of fewer than `stepRows` rows, in a stream whose batches average
    /// fewer too, replays in proportion to its rows: its one step takes
    /// `ceil(replayPerStep * rows / stepRows)` replayed samples (at least one) rather than
    /// `replayPerStep`, so a stream replays as many samples per new row whatever the batch
    /// size it arrives in (`Learner.replayedPerStep`). With a full replay per step,
    /// `--batch-size 1` trained on 64 replayed rows for every new one and learned the
    /// replay buffer by heart: its network then won the arbiter's checks on the replayed
    /// rows and answered worse than the gate on 6 of 40 real streams (the doctor visits in
    /// blocks of 200 rows 0.590, its gate 0.649). Batches of `stepRows` rows or more, the
    /// pieces of a first batch observed in pieces (`warmUp`, judged by the whole batch),
    /// and the short last batch of a stream of larger ones are unchanged (nil or false:
    /// every step replays `replayPerStep`, as configurations saved before it existed do).
    public var replayFollowsRows: Bool? = true
    /// The first rows a learner ever sees are observed in pieces that double: a first
    /// batch of 128 rows as 1, 1, 2, 4, 8, 16, 32 and 64 rows, each predicted before it
    /// is learned, so a stream's first batch is not predicted blind by an untrained
    /// learner (which costs a 1,000-row stream up to a tenth of its prequential accuracy).
    /// Later batches are observed whole (nil or false: the first batch too, as
    /// configurations saved before it existed do).
    public var warmUp: Bool? = true
    /// The first-visit rows a learner observes in more than one batch before its input
    /// scaler settles (`settle` samples) are kept, and once it has settled the learner is
    /// rebuilt from them: a learner built for them observes them as its first batch, under
    /// the settled transform, as a stream read in batches of that size would (see
    /// `FirstStretch`). What was served while they came stays as it was. A stream read
    /// one row at a time learned its first rows under a transform estimated from one or
    /// two values; a file streamed so gives after the stretch, bit for bit, the learner a
    /// batch of the stretch's rows gives. Streams whose first batch settles the scaler
    /// (128 rows or more at the defaults) are unchanged (nil or false: the rows stay
    /// learned as they came, as configurations saved before it existed do).
    public var relearnsFirstStretch: Bool? = true
    /// Half-life of the covariance statistics, in samples (0: no forgetting).
    public var statisticsHalfLife: Double = 2048
    /// Error-detector significance.
    public var detectors: ErrorDetectors = ErrorDetectors()
    /// When, where and how often to grow.
    public var growth: GrowthPolicy = GrowthPolicy()
    /// Hidden width of a grown expert.
    public var expertWidth: Int = 128
    /// Hidden layers of a grown expert.
    public var expertDepth: Int = 1
    /// What an expert reads besides its detectors.
    public var expertContext: Expert.Context = .layerInput
    /// How the experts are chosen per input.
    public var gate: GateChoice = .classPosterior(features: 2048)
    /// First-visit samples between refits of the gate's discriminant (it is also refitted
    /// when a (slot, class) pair appears and before every evaluation).
    public var refitEvery: Int = 4096
    /// Also refit as soon as some (slot, class) pair has twice the samples it had at the
    /// last fit, so a young pair's mean is refreshed at 2, 4, 8, … times its first
    /// evidence, whatever the batch size or the stream's length (nil: only every
    /// `refitEvery`, as configurations saved before it existed do).
    public var refitOnDoubling: Bool? = true
    /// Shares `t` of the way from the gate's OAS shrinkage to the identity tried for its
    /// discriminant while its statistics hold fewer samples than four times its features
    /// (``gateShrinkageChoiceSpan``; `ShrinkageChoice`); the first answers until another
    /// is significantly more often right. Nil (what configurations saved before it read):
    /// OAS alone.
    public var gateShrinkageBlends: [Double]? = [0, 0.25, 0.5]
    /// The blends are tried while the statistics hold fewer samples than this many times
    /// the gate's features; from then on OAS answers (`ShrinkageChoice.settle()`). OAS
    /// shrinks too little to classify best until about four times as many samples as
    /// features (`docs/algorithm.md`, *How far to shrink*). Nil (what configurations
    /// saved before it read): 1, as many samples as features.
    public var gateShrinkageChoiceSpan: Double? = 4
    /// Narrow heads tried beside them for the whole stream: OAS discriminants over the
    /// leading share of the gate's features (1/16 and 1/64: 128 and 32 of 2048), which
    /// answer once significantly more often right (`ShrinkageChoice`). Nil (what
    /// configurations saved before it read): none.
    public var gateNarrowHeads: [Double]? = [0.0625, 0.015625]
    /// Whether the gate's leading features are the scaled inputs' hinges, `max(0, x_j)`
    /// and `max(0, -x_j)`, when two per input take at most 1/16 of its features (at most
    /// 64 columns at 2048 features; not Fashion-MNIST's 784 pixels), and a narrow head
    /// over exactly those is tried beside the others: a discriminant additive in the inputs,
    /// which on tables of a few noisy columns classifies better than one over random
    /// features; the other narrow heads read the hinges and their share of random
    /// features (`docs/algorithm.md`, *The inputs' hinges*). Nil or false (what
    /// configurations saved before it read): every feature random.
    public var gateInputHinges: Bool? = true
    /// What answers `predict`.
    public var predictor: Predictor = .mixture
    /// Whether the learner's course follows its gate's own answer rather than the one it
    /// serves: the correctness the error detectors, the drift test and the growth
    /// trigger read, and the slot in charge of each row, come from what the gate alone
    /// (the `discriminant` predictor) would answer, so that who answers in a slot never
    /// changes what is learned, and the mixture's parts are the gate-alone learner's,
    /// bit for bit. Nil or false (what configurations saved before it read): the course
    /// follows the served answer.
    public var courseFollowsGate: Bool? = true
    /// Whether, while the slot in charge is one grown because the inputs moved (a drift or
    /// stagnation growth, not new labels), a frozen slot keeps a first-visit row it
    /// answered right only when the slot in charge had a pair of the row's class to rival
    /// it (the row goes to the slot in charge otherwise; `Learner.slotsInCharge`).
    /// Without it a new domain's rows of a class that the features every domain shares
    /// tell apart join an old slot's pair of that class for good: a new permutation's
    /// bags went to the trunk's bag pair, and returning domains were routed to their own
    /// slot for 91% of their rows instead of 100%. Nil or false (what configurations
    /// saved before it read): a frozen slot keeps every row it answered right.
    public var chargeNeedsRival: Bool? = true
    /// Whether a frozen slot's own head goes unjudged by first-visit rows while the slot
    /// in charge is one grown because the inputs moved and fewer first-visit samples than
    /// the gate has features have come since its growth (`Learner.chooseSlotHeads`): the
    /// gate cannot yet tell the new domain's rows from a frozen slot's own, and it sends
    /// them to the old slots, where an old domain's head answers them worse than the
    /// pooled one. Evidence a frozen slot's head gathered fades while its domain is away,
    /// so a handful of such rows used to turn it off: on Permuted Fashion-MNIST, seed 3,
    /// six of the fifth domain's first rows turned the second domain's head off for good
    /// (its test set 0.865 to 0.836). Nil or false (what configurations saved before it
    /// read): every first-visit row judges every slot's head.
    public var frozenHeadsWaitForNewDomain: Bool? = true
    /// Whether, once the gate has two slots, each slot keeps statistics of its own pairs
    /// (their within-pair scatter apart from the other slots') and, once they hold as many
    /// samples as the gate has features, answers among its classes with its own
    /// discriminant, the gate's pooled head still weighing the slots (`GateSlotHeads`).
    /// Nil or false (what configurations saved before it read): every slot answers with
    /// the pooled head's columns.
    public var slotHeads: Bool? = true

    /// The stream's recent class shares, served to its own next rows when significantly
    /// more often right there (`RecentShares`; a mixture that routes by pairs only). Nil
    /// (what configurations saved before it read): the mixture's answers are served.
    public var recentShares: RecentShares.Settings? = RecentShares.Settings()

    /// Whether the course reads answers other than the served ones: `courseFollowsGate`
    /// on a mixture that routes by pairs (elsewhere the two are the same).
    public var courseReadsGate: Bool {
        courseFollowsGate == true && predictor == .mixture && gateFeatureCount != nil
    }
    /// How inputs are scaled before anything reads them: each feature's transform is fixed
    /// once it has shown 32 varying values or, from the 128th sample on (a default
    /// batch), as soon as it has varied at all (see `InputScaler`).
    public var inputScaling: InputScaling = .online(evidence: 32, clip: 3, settle: 128, winsorise: nil, anchored: true, trendTails: true)
    /// Who answers inside a slot: the expert, the gate's own posterior, or both.
    public var arbiter: AnswerArbiter.Settings = AnswerArbiter.Settings()
    /// Seed of every random choice.
    public var seed: UInt64 = 1

    public init() {}

    /// Grow as soon as labels never seen arrive (novelty), not only on drift.
    public var growOnNovelClasses: Bool {
        get { growth.onNovelty }
        set { growth.onNovelty = newValue }
    }

    /// The gate of the mixture.
    public enum GateChoice: Sendable, Codable, Equatable {
        /// Posteriors of a streaming linear discriminant over random ReLU features of the
        /// (scaled) input, from statistics of every sample seen, over (slot, class)
        /// pairs: the slot in charge of a sample when it arrived, and its class.
        case classPosterior(features: Int)
        /// A linear softmax gate trained with the network: for the baselines (fine-tuning,
        /// replay, joint training), which never grow.
        case learned
    }

    /// Who predicts.
    public enum Predictor: String, Sendable, Codable, Equatable, CaseIterable {
        /// The gate routes each input to one slot (the trunk or an expert), and the slot
        /// answers among its classes (the method).
        case mixture
        /// The gate's discriminant alone, its posterior summed over slots per class (a
        /// baseline: the gate's own classifier).
        case discriminant
    }

    /// How inputs are scaled (`InputScaler`).
    public enum InputScaling: Sendable, Codable, Equatable {
        /// The identity.
        case none
        /// Per-feature standardisation learned from the stream, each feature's transform
        /// fixed after `evidence` varying values (or, once `settle` samples have been
        /// seen, after any; nil: never), values clipped to `±clip`, gross errors (beyond
        /// `winsorise` median absolute deviations of their batch) moved in before they
        /// enter the moments (nil: never); with `anchored`, a feature that kept one value
        /// until it varied is centred on that value when fixed (false in configurations
        /// saved before it existed: around its mean); with `widensTails`, a fixed feature
        /// whose values mostly fall beyond the clip continues logarithmically beyond it
        /// (false in configurations saved before it existed: clipped); with `trendTails`, a
        /// feature whose values trended with their arrival until it was fixed continues
        /// logarithmically beyond the clip (false in configurations saved before it
        /// existed: clipped).
        case online(evidence: Int, clip: Float, settle: Int?, winsorise: Double?, anchored: Bool = false, widensTails: Bool = false,
                    trendTails: Bool = false)

        private enum CodingKeys: String, CodingKey { case none, online }
        private enum OnlineKeys: String, CodingKey { case evidence, clip, settle, winsorise, anchored, widensTails, trendTails }
        private struct Empty: Codable {}

        // Written as the compiler would (`{"online": {"evidence": 32, "clip": 3, "settle":
        // 1024}}`, with `"winsorise": 20` when set; `{"none": {}}`); a configuration saved
        // before `settle` or `winsorise` existed reads it as nil, so an old learner scales
        // as it did.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            guard container.allKeys.count == 1, let key = container.allKeys.first else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: container.codingPath, debugDescription: "input scaling is one of none, online"))
            }
            switch key {
            case .none:
                self = .none
            case .online:
                let online = try container.nestedContainer(keyedBy: OnlineKeys.self, forKey: .online)
                self = .online(evidence: try online.decode(Int.self, forKey: .evidence),
                               clip: try online.decode(Float.self, forKey: .clip),
                               settle: try online.decodeIfPresent(Int.self, forKey: .settle),
                               winsorise: try online.decodeIfPresent(Double.self, forKey: .winsorise),
                               anchored: try online.decodeIfPresent(Bool.self, forKey: .anchored) ?? false,
                               widensTails: try online.decodeIfPresent(Bool.self, forKey: .widensTails) ?? false,
                               trendTails: try online.decodeIfPresent(Bool.self, forKey: .trendTails) ?? false)
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .none:
                try container.encode(Empty(), forKey: .none)
            case let .online(evidence, clip, settle, winsorise, anchored, widensTails, trendTails):
                var online = container.nestedContainer(keyedBy: OnlineKeys.self, forKey: .online)
                try online.encode(evidence, forKey: .evidence)
                try online.encode(clip, forKey: .clip)
                try online.encodeIfPresent(settle, forKey: .settle)
                try online.encodeIfPresent(winsorise, forKey: .winsorise)
                try online.encode(anchored, forKey: .anchored)
                try online.encode(widensTails, forKey: .widensTails)
                try online.encode(trendTails, forKey: .trendTails)
            }
        }
    }

    /// The class-posterior gate's random features (nil with a learned gate).
    public var gateFeatureCount: Int? {
        if case let .classPosterior(features) = gate { return features }
        return nil
    }

    /// The feature counts of the narrow heads over a gate of `features` features: each
    /// share rounded, at least one, fewer than all, without repeats, widest first.
    /// With the inputs' hinges leading the features (`hinges`, their count:
    /// ``gateHingeCount(features:inputWidth:)``), every narrow head reads them and its
    /// share of random features after them, and one more reads the hinges alone: the
    /// random features a narrow head reads are then never some inputs' hinges and not
    /// others'.
    public func narrowHeadFeatures(of features: Int, hinges: Int = 0) -> [Int] {
        let shares = gateNarrowHeads ?? []
        let counts = shares.map { hinges + max(1, Int(($0 * Double(features)).rounded())) } + (hinges > 0 && !shares.isEmpty ? [hinges] : [])
        return Array(Set(counts.filter { $0 < features })).sorted(by: >)
    }

    /// How many of a class-posterior gate's `features` features are the inputs' hinges for
    /// an input of `inputWidth` columns (``gateInputHinges``).
    public func gateHingeCount(features: Int, inputWidth: Int) -> Int {
        Gate.ClassPosteriorFeatures(count: features, seed: 0, inputHinges: gateInputHinges == true)
            .hingeCount(inputWidth: inputWidth)
    }

    /// Plain fine-tuning: no growth, no replay, no gate statistics.
    public static var fineTuning: LearnerConfiguration {
        var c = LearnerConfiguration()
        c.growth.enabled = false
        c.replayCapacity = 0
        c.gate = .learned
        return c
    }

    /// Fine-tuning with a replay buffer of `capacity` samples.
    public static func replay(_ capacity: Int) -> LearnerConfiguration {
        var c = fineTuning
        c.replayCapacity = capacity
        return c
    }

    /// Checks the values a user can set.
    public func validate() throws(LearnerError) {
        func fail(_ reason: String) throws(LearnerError) { throw .invalidConfiguration(reason) }
        if hidden.isEmpty || hidden.contains(where: { $0 < 1 }) { try fail("hidden widths must be positive, got \(hidden)") }
        if !(learningRate > 0 && learningRate.isFinite) { try fail("the learning rate must be a positive number, got \(learningRate)") }
        if covarianceStrength < 0 || !covarianceStrength.isFinite { try fail("the covariance strength must be >= 0, got \(covarianceStrength)") }
        if replayCapacity < 0 { try fail("the replay capacity must be >= 0, got \(replayCapacity)") }
        if replayPerStep < 0 { try fail("replayed samples per step must be >= 0, got \(replayPerStep)") }
        if stepsPerBatch < 1 { try fail("steps per batch must be >= 1, got \(stepsPerBatch)") }
        if let stepRows, stepRows < 1 { try fail("rows per step must be >= 1, got \(stepRows)") }
        if !(statisticsHalfLife >= 0) { try fail("the statistics half-life must be >= 0, got \(statisticsHalfLife)") }
        if let blends = gateShrinkageBlends, blends.isEmpty || !blends.allSatisfy({ $0 >= 0 && $0 < 1 }) {
            try fail("the gate's shrinkage blends must be one or more shares in [0, 1), got \(blends)")
        }
        if let span = gateShrinkageChoiceSpan, !(span > 0 && span.isFinite) {
            try fail("the gate's shrinkage choice span must be a positive number of times its features, got \(span)")
        }
        if let shares = gateNarrowHeads, !shares.allSatisfy({ $0 > 0 && $0 < 1 }) {
            try fail("the gate's narrow heads must be shares of its features in (0, 1), got \(shares)")
        }
        if expertWidth < 1 { try fail("the expert width must be positive, got \(expertWidth)") }
        if !(1...64).contains(expertDepth) { try fail("an expert has 1 to 64 hidden layers, got \(expertDepth)") }
        if refitEvery < 1 { try fail("refit-every must be positive, got \(refitEvery)") }
        if let f = gateFeatureCount, f < 1 { try fail("the gate needs at least one random feature, got \(f)") }
        if case let .online(evidence, clip, settle, winsorise, _, _, _) = inputScaling {
            if let winsorise, !(winsorise > 0 && winsorise.isFinite) {
                try fail("the winsorising bound must be a positive number of deviations, got \(winsorise)")
            }
            if evidence < 1 { try fail("input scaling needs at least one varying value per feature, got \(evidence)") }
            if let settle, settle < 1 { try fail("input scaling settles after at least one sample, got \(settle)") }
            if !(clip > 0 && clip.isFinite) { try fail("the input clip bound must be a positive number, got \(clip)") }
        }
        if predictor == .discriminant, case .learned = gate {
            try fail("the discriminant predictor needs the class-posterior gate's statistics; choose gate classPosterior")
        }
        if growth.enabled, case .learned = gate {
            try fail("growth needs the class-posterior gate: a learned gate has never seen a new expert's inputs and cannot route to it; use growth off for the baselines")
        }
        try growth.validate()
        try arbiter.validate()
        try recentShares?.validate()
    }
}

/// A learner cannot do what it was asked.
public enum LearnerError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidConfiguration(String)
    case widthMismatch(expected: Int, actual: Int, source: String)
    case invalidLabel(label: Int, row: Int, source: String)
    case nonFinite(row: Int, column: Int, source: String)
    case emptyBatch(source: String)
    case labelCountMismatch(rows: Int, labels: Int, source: String)

    public var description: String {
        switch self {
        case let .invalidConfiguration(reason): "invalid learner configuration: \(reason)"
        case let .widthMismatch(expected, actual, source):
            "\(source): rows have \(actual) features, the learner expects \(expected)"
        case let .invalidLabel(label, row, source): "\(source), row \(row): label \(label) is negative"
        case let .nonFinite(row, column, source): "\(source), row \(row), column \(column): value is not finite"
        case let .emptyBatch(source): "\(source): the batch is empty"
        case let .labelCountMismatch(rows, labels, source):
            "\(source): \(rows) rows but \(labels) labels; every row needs exactly one label"
        }
    }
}
