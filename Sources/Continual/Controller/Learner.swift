import Foundation
import Logging
import MoE

/// The continual learner: a stream of labelled batches goes in, the network grows
/// experts where its error detectors say it must (METHOD.md §5).
///
/// The mixture has slots: the trunk (slot 0) and one per expert. Exactly one slot is
/// **in charge**: the newest, the only trainable one. The gate is a streaming linear
/// discriminant over random features of the scaled input whose labels are
/// (slot in charge of the sample, class) pairs; it routes each input to the slot with
/// the most posterior mass, and that slot answers among its own classes (the slot's
/// network, or the gate's posterior over the slot's pairs, whichever the
/// `AnswerArbiter` has found better on that slot).
///
/// For every batch, `observe` (in the spirit of River's `learn_many`):
/// 1. scales the inputs (`InputScaler`, learned from first visits);
/// 2. predicts first and scores the prediction (prequential, test-then-train), feeds
///    the error indicator to a Page-Hinkley drift test, and the arbiter;
/// 3. updates the streaming covariance of every hidden neuron with correctness;
/// 4. asks the `GrowthPolicy` whether to grow, where and on which detectors, and grows
///    (freezing everything that existed; the new expert is in charge);
/// 5. decides who was in charge of each sample: the slot the gate routed it to, if that
///    slot answered it correctly or is the slot in charge; otherwise the slot in charge.
///    So a returning domain stays with its own expert, and what no slot knows — a new
///    class, a new domain — is learned at once by the slot in charge;
/// 6. adds first visits to the gate's statistics under their (slot, class) pairs;
/// 7. trains the slot in charge on its samples plus replayed ones of its own, with
///    the covariance cost and half-learning;
/// 8. offers first visits to the reservoir replay buffer.
/// Every decision, grown or suppressed, is logged and kept in `history`.
///
/// Numerical faults never reach the weights (`Learner+Faults.swift`). The learner is a
/// value: copying it is a snapshot that predicts on other threads while the original
/// keeps learning.
public struct Learner: Sendable {
    public let configuration: LearnerConfiguration
    public internal(set) var model: MixtureOfExperts
    public internal(set) var optimizer: Adam
    public internal(set) var tracker: CovarianceTracker
    public internal(set) var halfLearning: HalfLearning
    /// Statistics of every first-visit sample over the gate's random features, labelled
    /// by the gate's (slot, class) columns.
    public internal(set) var statistics: ClassStatistics?
    /// The input transform (nil: inputs are used as they come).
    public internal(set) var scaler: InputScaler?
    /// Who answers inside each slot.
    public internal(set) var arbiter: AnswerArbiter
    /// The raw labels of the classes, as the stream's driver last named them
    /// (``nameClasses(_:)``), for the growth log; not saved.
    public internal(set) var classLabels: [String] = []
    /// First visits of the slot in charge set aside to judge it (see `Holdout`).
    public internal(set) var holdout: Holdout
    /// The gate discriminant's shrinkage, chosen on the stream (see `ShrinkageChoice`).
    public internal(set) var shrinkage: ShrinkageChoice
    /// The heads of the other blends fitted at the last refit, by blend index (saved).
    var shrinkageHeads: [Int: GateHead] = [:]
    /// Each slot's own statistics over its (slot, class) columns, from the moment the
    /// gate has two slots (`LearnerConfiguration.slotHeads`; saved): what its own head
    /// (`GateSlotHeads`) is fitted from.
    public internal(set) var slotStatistics: [Int: ClassStatistics] = [:]
    /// The samples each slot's statistics held when its own head was last fitted (saved).
    var slotHeadSamples: [Int: Double] = [:]
    /// Per slot with an own head: its paired counts against the pooled head on first
    /// visits, faded (`chooseSlotHeads`; saved).
    public internal(set) var slotHeadTallies: [Int: AnswerArbiter.Tally] = [:]
    /// The blends whose heads are fitted beside the current one.
    public var fittedShrinkageBlends: [Int] { shrinkageHeads.keys.sorted() }
    /// Whether this is a ``snapshot()`` that has judged its held slots and learned
    /// nothing since (not saved: a loaded learner judges again before it predicts).
    var isSnapshot = false
    public internal(set) var replay: ReplayBuffer
    public internal(set) var policyState = GrowthPolicy.State()
    /// Moments of the raw inputs the scaler took, by class (with
    /// `GrowthPolicy.classConditionalShift`; empty otherwise).
    public internal(set) var classMoments: [Int: InputMoments] = [:]
    /// The moments by class before the pending drift (nil without one, or without
    /// `classMoments`).
    public internal(set) var driftClassReference: [Int: InputMoments]?
    public internal(set) var drift = PageHinkley()
    public internal(set) var generator: SeededGenerator
    public internal(set) var history = LearnerHistory()
    public internal(set) var prequential = PrequentialAccuracy()
    /// The stream's recent class shares and their counts against the mixture's answers
    /// (nil where the configuration has none, or the mixture does not route by pairs).
    public internal(set) var recentShares: RecentShares?
    /// The gate's own answers scored before learning, where the course follows them
    /// (`LearnerConfiguration.courseReadsGate`): the growth trigger's windowed error rate
    /// reads it. Nil elsewhere: it reads `prequential`, the served answers.
    public internal(set) var course: PrequentialAccuracy?
    /// The temperature and share of doubt the served scores are calibrated with, fitted to the
    /// weights of every first-visit row scored before learning (``ScoreCalibration``).
    public internal(set) var calibration = ScoreCalibration()
    public internal(set) var counters = Counters()
    /// Classes seen so far.
    public internal(set) var seenClasses: Set<Int> = []
    /// Seconds spent in each phase of `observe` by this process (not saved).
    public internal(set) var profile = LearnerProfile()
    /// Gate features of frozen slots' retained rows, by slot (not saved: see
    /// `retainedRows(slot:)`).
    var retainedFeatures: [Int: RetainedFeatures] = [:]
    /// The head a snapshot of this learner fitted (shared by its copies; not saved).
    let headMemo = HeadMemo()
    /// The replayed rows' gate features and leave-one-out logits, kept while a
    /// ``snapshot()`` judges on them (nil otherwise; not saved).
    var replayedRowsMemo: ReplayedRowsMemo?
    /// The first-visit rows observed, in more than one batch, before the input scaler
    /// settled, to be learned again once it has (``FirstStretch``; saved; nil outside
    /// such a stretch).
    public internal(set) var firstStretch: FirstStretch?

    /// Gate features of rows, and the scaler's transform they were computed under.
    struct RetainedFeatures: Sendable {
        let transform: ScalerTransform
        let features: Matrix
    }

    /// The input scaler's transform (nil parts: no scaler): what rows prepared for
    /// scoring and kept gate features were computed under, and are valid while it holds.
    struct ScalerTransform: Sendable, Equatable {
        let center: [Float]?
        let inverseScale: [Float]?
        let knee: [Float]?
    }

    /// The input scaler's transform now.
    var scalerTransform: ScalerTransform { ScalerTransform(center: scaler?.center, inverseScale: scaler?.inverseScale, knee: scaler?.knee) }

    /// While a warm-up piece of a batch is observed: where it starts in its batch and how
    /// many rows the batch has (not saved: pieces never outlive one `observe`).
    var piece: (offset: Int, batchRows: Int)?

    /// Step and sample counters.
    public struct Counters: Sendable, Equatable, Codable {
        /// Batches observed.
        public var batches = 0
        /// Rows observed, every pass.
        public var samples = 0
        /// First-visit rows observed.
        public var firstVisits = 0
        public var samplesSinceRefit = 0
        public var headIsStale = false
        /// Per gate column: the samples of its pair when the head was last fitted (nil in
        /// learners saved before it was kept).
        public var pairCountsAtRefit: [Double]?
        public var acceptedSteps = 0
        public var rejectedSteps = 0
        public var halvings = 0
        /// Steps rolled back for a non-finite loss, gradient or result.
        public var numericalFaults = 0
        /// Rows scored but not learned from because their values were out of range.
        public var rowsOutOfRange = 0
        public init() {}
    }

    /// A learner for inputs of `inputWidth` features, starting with `classCount` outputs
    /// (more are added as new labels arrive).
    public init(configuration: LearnerConfiguration, inputWidth: Int, classCount: Int) throws(LearnerError) {
        try configuration.validate()
        guard inputWidth > 0 else { throw .invalidConfiguration("the input width must be positive, got \(inputWidth)") }
        guard classCount > 0 else { throw .invalidConfiguration("the class count must be positive, got \(classCount)") }
        try Self.checkMemory(configuration, inputWidth: inputWidth, classCount: classCount)
        self.configuration = configuration
        var generator = SeededGenerator(seed: configuration.seed)
        var model = MixtureOfExperts(
            sizes: [inputWidth] + configuration.hidden + [classCount], activation: configuration.activation,
            generator: &generator)
        model.trunkClasses = []
        switch configuration.gate {
        case let .classPosterior(features):
            // Bias scale 0.3: 0.859 against 0.849-0.852 with 1 on Split Fashion-MNIST (docs/results.md).
            model.configureGate(.classPosterior(
                features: .init(count: features, seed: generator.next(), biasScale: 0.3,
                                inputHinges: configuration.gateInputHinges == true), pairs: true))
            statistics = ClassStatistics(featureCount: features)
            model.expertOutput = .slot
        case .learned:
            statistics = nil
        }
        self.model = model
        optimizer = Adam(learningRate: configuration.learningRate)
        let halfLife = configuration.statisticsHalfLife
        tracker = CovarianceTracker(model: model, forgetting: halfLife > 0 ? .halfLife(samples: halfLife) : .none)
        halfLearning = HalfLearning(
            rate: configuration.learningRate, minimumRate: configuration.learningRate / 64, growth: 2,
            maximumRate: configuration.learningRate)
        replay = ReplayBuffer(capacity: configuration.replayCapacity, width: inputWidth, seed: generator.next())
        if case let .online(evidence, clip, settle, winsorise, anchored, widensTails, trendTails) = configuration.inputScaling {
            scaler = InputScaler(width: inputWidth, evidence: evidence, clip: clip, settle: settle, winsorise: winsorise,
                                 anchored: anchored, widensTails: widensTails, trendTails: trendTails)
        }
        arbiter = AnswerArbiter(settings: configuration.arbiter)
        course = configuration.courseReadsGate ? Self.courseAccuracy() : nil
        recentShares = Self.recentSharesRecord(configuration)
        shrinkage = ShrinkageChoice(blends: statistics != nil ? configuration.gateShrinkageBlends ?? [0] : [0],
                                    leading: statistics.map {
                                        configuration.narrowHeadFeatures(
                                            of: $0.featureCount,
                                            hinges: configuration.gateHingeCount(features: $0.featureCount, inputWidth: inputWidth))
                                    } ?? [])
        let judged = statistics != nil && configuration.arbiter.enabled && configuration.arbiter.fixed == nil
        holdout = Holdout(rate: judged ? configuration.arbiter.holdoutRate : 0,
                          capacity: judged ? configuration.arbiter.holdoutCapacity : 0, width: inputWidth)
        self.generator = generator
    }

    /// Refuses a learner whose weights and statistics alone would not fit in this
    /// machine's memory, before anything is allocated: `--hidden 100000,100000` (160 GB)
    /// or 10^8 gate features ended the process in an allocation instead. Counted: the
    /// trunk's weights with their gradients and Adam's two moments (Float), the gate's
    /// projection (Float) and its statistics' scatter with its factor (Double), and the
    /// replay buffer.
    static func checkMemory(_ configuration: LearnerConfiguration, inputWidth: Int, classCount: Int) throws(LearnerError) {
        let widths = ([inputWidth] + configuration.hidden + [classCount]).map(Double.init)
        var bytes = 16 * zip(widths, widths.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }
        var features = 0
        if case let .classPosterior(f) = configuration.gate {
            features = f
            bytes += 4 * widths[0] * Double(f) + 16 * Double(f) * Double(f)
        }
        bytes += 4 * Double(configuration.replayCapacity) * widths[0]
        let available = Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes <= available else {
            let gb = { (b: Double) in String(format: "%.1f GB", b / 1e9) }
            throw .invalidConfiguration("the learner would need at least \(gb(bytes)) for its weights and statistics (hidden widths "
                + "\(configuration.hidden), \(features) gate features, \(inputWidth) inputs, \(classCount) classes), more than "
                + "this machine's \(gb(available)) of memory")
        }
    }

    public var inputWidth: Int { model.inputWidth }
    public var classCount: Int { model.classCount }
    /// The gate slot in charge: the newest (0, the trunk, before any growth).
    public var slotInCharge: Int { model.experts.isEmpty ? 0 : model.gate.slot(ofExpert: model.experts.count - 1) }

    /// What one `observe` did.
    public struct StepReport: Sendable, Equatable {
        public var batch: Int
        public var samples: Int
        /// Misclassified before training on the batch (first visits; a later pass is
        /// not scored again and reports 0).
        public var errors: Int
        public var accuracy: Double { samples > 0 ? 1 - Double(errors) / Double(samples) : 0 }
        public var loss: Float
        public var newClasses: [Int]
        public var drift: Bool
        /// The growth decision, when a trigger fired in this batch.
        public var decision: GrowthDecision?
        public var steps: [HalfLearning.StepOutcome]
        public var experts: Int
        /// First visits: how many rows the gate weighed most to each slot (index = slot).
        public var routed: [Int] = []
        /// Of the features that have varied, the share whose mean over the batch lay more
        /// than ``InputScaler/unitsDeviations`` deviations from the mean of every row
        /// before it (`InputScaler.shareShifted(means:)`): near 1 for rows in other units
        /// than those learned. nil for a later pass, a batch of fewer than
        /// ``Learner/unitsBatchRows`` rows, before ``Learner/unitsEvidence`` rows were
        /// learned, or without a scaler.
        public var farFromLearned: Double?
        /// First visits: the class each row was predicted before it was learned (-1: none,
        /// the learner had learned no class), and its label, in the batch's order (empty
        /// for a later pass).
        public var predicted: [Int] = []
        public var labels: [Int] = []

        /// This piece of a batch followed by `later`, the next piece: one report for the
        /// batch (a growth in either piece is the batch's decision).
        func merged(with later: StepReport) -> StepReport {
            var routed = [Int](repeating: 0, count: max(self.routed.count, later.routed.count))
            for (s, count) in self.routed.enumerated() { routed[s] += count }
            for (s, count) in later.routed.enumerated() { routed[s] += count }
            let grew = { (d: GrowthDecision?) in if case .grow = d?.outcome { true } else { false } }
            return StepReport(
                batch: later.batch, samples: samples + later.samples, errors: errors + later.errors, loss: later.loss,
                newClasses: Set(newClasses + later.newClasses).sorted(), drift: drift || later.drift,
                decision: grew(later.decision) || !grew(decision) ? later.decision ?? decision : decision,
                steps: steps + later.steps, experts: later.experts, routed: routed,
                predicted: predicted + later.predicted, labels: labels + later.labels)
        }
    }

    /// Predicts, scores, learns from one batch.
    ///
    /// - Parameters:
    ///   - x: `n x inputWidth` features.
    ///   - labels: `n` class labels (non-negative), one per row.
    ///   - source: What the rows are called in errors (a file name).
    ///   - pass: 0 when the rows are seen for the first time; 1, 2, … when a stream
    ///     repeats data it already gave (a scenario's second pass). Statistics that must
    ///     count every sample once (the scaler, the gate, the covariance tracker), and
    ///     scores that must be honest (prequential accuracy, the drift test, the
    ///     arbiter), use first visits only; training uses every pass.
    ///   - logger: Where growth decisions are logged.
    public mutating func observe(
        features x: Matrix, labels: [Int], source: String = "batch", pass: Int = 0, logger: Logger? = nil
    ) throws(LearnerError) -> StepReport {
        // Judged before the batch enters the scaler's moments.
        let far = pass == 0 ? shareFarFromLearned(x) : nil
        let firstVisitsBefore = counters.firstVisits, classesBefore = model.classCount
        var report = try observeBatch(features: x, labels: labels, source: source, pass: pass, logger: logger)
        report.farFromLearned = far
        try followFirstStretch(x, labels: labels, pass: pass, firstVisitsBefore: firstVisitsBefore, classesBefore: classesBefore,
                               source: source, logger: logger, report: &report)
        return report
    }

    /// Rows learned before a batch is judged for other units (``shareFarFromLearned(_:)``).
    public static let unitsEvidence = 256
    /// Rows a batch needs to be judged for other units: the mean of a few rows is not the
    /// mean of the rows to come.
    public static let unitsBatchRows = 32

    /// Of the features that have varied, the share whose mean over `x` lies more than
    /// ``InputScaler/unitsDeviations`` deviations from the mean learned so far
    /// (`StepReport.farFromLearned`). A stream whose rows change units (a sensor's export
    /// in mm after m, the rows of another file resumed) is still learned, but its rows
    /// are read by a transform fixed on the old units. Over the 879 streams of the 116
    /// real tables, every window of 256 or 1,024 rows against all the rows before it
    /// gave at most 0.2 (in class order, sorted by a column, in blocks); Fashion-MNIST in
    /// Split's or class order at most 0.014; rows in other units near 1.
    public func shareFarFromLearned(_ x: Matrix) -> Double? {
        guard let scaler, scaler.count >= Double(Self.unitsEvidence), x.rows >= Self.unitsBatchRows,
              x.columns == scaler.width else { return nil }
        return scaler.shareShifted(means: x.columnSums().scalars.map { Double($0) / Double(x.rows) })
    }

    /// ``observe(features:labels:source:pass:logger:)`` but for the judgement of units.
    private mutating func observeBatch(
        features x: Matrix, labels: [Int], source: String, pass: Int, logger: Logger?
    ) throws(LearnerError) -> StepReport {
        let pieces = warmUpPieces(rows: x.rows, pass: pass)
        guard pieces.count > 1 else { return try observeRows(features: x, labels: labels, source: source, pass: pass, logger: logger) }
        // Errors name rows of the whole batch, before any piece is learned.
        try validate(x, labels, source: source)
        // The scaler takes in the whole batch first, as it does for a batch observed
        // whole: its transform is settled (32 varying values) before any row is scaled,
        // rather than moving from piece to piece while the first rows enter the gate's
        // statistics and the first steps (river's Agrawal, salaries and ages in raw
        // units, lost 0.027 that way). Its labels enter only the moments by class, which
        // the growth policy reads after the rows are scored.
        let scalerRows = takeIntoScaler(x, labels: labels)
        defer { piece = nil }
        var report: StepReport?
        for range in pieces {
            piece = (range.lowerBound, x.rows)
            let part = try observeRows(features: x.rows(range), labels: Array(labels[range]), source: source, pass: pass,
                                       logger: logger, scalerTook: .some(scalerRows))
            report = report.map { $0.merged(with: part) } ?? part
        }
        return report!
    }

    /// The rows of a batch observed one after the other: the whole batch, or while the
    /// learner has seen fewer first visits than the batch holds (with `warmUp`), pieces
    /// that double — each as large as everything seen before it — up to the batch's end.
    func warmUpPieces(rows n: Int, pass: Int) -> [Range<Int>] {
        guard configuration.warmUp == true, pass == 0, counters.firstVisits < n else { return [0..<n] }
        var pieces: [Range<Int>] = []
        var start = 0
        while start < n {
            let seen = counters.firstVisits + start
            let end = seen >= n ? n : min(n, start + max(1, seen))
            pieces.append(start..<end)
            start = end
        }
        return pieces
    }

    /// First visits `x` update the scaler (and the moments by class), but for rows out of
    /// range (`rawRowsInRange`); the rows it took and their labels (nil without a scaler).
    mutating func takeIntoScaler(_ x: Matrix, labels: [Int], inRange known: [Bool]? = nil) -> ScalerRows? {
        guard scaler != nil else { return nil }
        let inRange = known ?? rawRowsInRange(x)
        let whole = inRange.allSatisfy { $0 }
        let kept = whole ? [] : inRange.indices.filter { inRange[$0] }
        let usable = ScalerRows(rows: whole ? x : x.gatherRows(kept), labels: whole ? labels : kept.map { labels[$0] })
        if usable.rows.rows > 0 {
            scaler!.update(usable.rows)
            if keepsClassMoments { classMoments = usable.addingRows(to: classMoments) }
        }
        return usable
    }

    /// Rows the scaler took, with their labels.
    struct ScalerRows {
        let rows: Matrix
        let labels: [Int]

        /// The rows of each class, in class order.
        var byClass: [(label: Int, rows: Matrix)] {
            var indices: [Int: [Int]] = [:]
            for (r, label) in labels.enumerated() { indices[label, default: []].append(r) }
            return indices.keys.sorted().map { ($0, rows.gatherRows(indices[$0]!)) }
        }

        /// `moments` with these rows added to their classes'.
        func addingRows(to moments: [Int: InputMoments]) -> [Int: InputMoments] {
            var result = moments
            for (label, part) in byClass {
                result[label] = (result[label] ?? .empty(width: rows.columns)).adding(part)
            }
            return result
        }

        /// `moments` (which include these rows) without them.
        func removingRows(from moments: [Int: InputMoments]) -> [Int: InputMoments] {
            var result = moments
            for (label, part) in byClass { result[label] = result[label]?.removing(part) }
            return result
        }
    }

    /// Whether the learner keeps the moments of its inputs by class (to tell a new domain
    /// from a change in the labels' mix).
    var keepsClassMoments: Bool { scaler != nil && configuration.growth.classConditionalShift == true }

    /// The 1-based number of the batch being observed (a warm-up piece belongs to its
    /// batch: the first piece counts it).
    var batchNumber: Int { counters.batches + (piece.map { $0.offset > 0 } == true ? 0 : 1) }

    /// ``observe(features:labels:source:pass:logger:)`` on one piece of a batch (or the
    /// whole batch).
    ///
    /// - Parameter scalerTook: given (`.some`) when the scaler has already taken in the
    ///   batch this piece belongs to: the batch's rows it took (nil: no scaler).
    mutating func observeRows(
        features x: Matrix, labels: [Int], source: String, pass: Int, logger: Logger?, scalerTook: ScalerRows?? = .none
    ) throws(LearnerError) -> StepReport {
        var clock = PhaseClock(refits: profile.refit, refitFlops: profile.flops["refit", default: 0])
        try validate(x, labels, source: source)
        isSnapshot = false
        let firstVisit = pass == 0
        let n = x.rows
        // Rows out of range (not finite, or too many deviations away) never reach a
        // statistic or a weight.
        let rawInRange = rawRowsInRange(x)
        let usable: ScalerRows? = switch scalerTook {
        case let .some(rows): rows
        case .none: firstVisit ? takeIntoScaler(x, labels: labels, inRange: rawInRange) : nil
        }
        let scaled = scaler?.transform(x) ?? x

        // Unseen labels widen the output first, so that predictions can name them.
        let top = labels.max()!
        if top >= model.classCount { model.widenOutput(to: top + 1) }
        let novel = Set(labels).subtracting(seenClasses).sorted()
        clock.lap(into: \.prepare, of: &profile)
        guard firstVisit else {
            return revisit(scaled, labels: labels, inRange: rawInRange, source: source, clock: &clock)
        }
        if counters.headIsStale && (counters.samplesSinceRefit >= configuration.refitEvery || pairEvidenceDoubled) { refitHead() }
        clock.lap(into: nil, of: &profile)

        // 1. Predict first, then score.
        let pass = model.forward(scaled)
        let answers = self.answers(pass: pass, input: scaled, counting: true, scoring: true)
        let correct = (0..<n).map { answers.predicted[$0] == labels[$0] }
        // What the stream is answered: the mixture's answers, or the recent shares' when
        // they have been ahead on its rows by the test's threshold. Nothing learned reads them.
        let served = firstVisit ? serveRecentShares(answers, labels: labels) : answers.predicted
        // A learner that has learned no class has no answer. Its rows were predicted
        // among the output's columns, which this batch's labels just widened, so a first
        // row whose class was the first column (numbered 0, as a name read first is) was
        // "predicted" right with nothing learned. They are reported as no class (-1) and
        // scored wrong, as the no-change classifier scores its first row; what is learned
        // reads the answers as before.
        let answered = !seenClasses.isEmpty
        let reported = answered ? served : Array(repeating: -1, count: n)
        let servedCorrect = (0..<n).map { reported[$0] == labels[$0] }
        let errors = servedCorrect.reduce(0) { $0 + ($1 ? 0 : 1) }
        // The course (detectors, drift, growth, the charge of each row) follows the gate's
        // own answer where the configuration says so, the served one elsewhere.
        let followsGate = configuration.courseReadsGate
        let courseCorrect = followsGate ? (0..<n).map { answers.course[$0] == labels[$0] } : correct
        let courseErrors = courseCorrect.reduce(0) { $0 + ($1 ? 0 : 1) }
        var drifted = false
        if firstVisit {
            prequential.record(servedCorrect)
            course?.record(courseCorrect)
            for c in courseCorrect where drift.update(c ? 0 : 1) { drifted = true }
            recordArbiter(answers, labels: labels, inputs: x, inRange: rawInRange)
            recordCalibration(answers, labels: labels)
            chooseShrinkage(pass: pass, labels: labels)
            chooseSlotHeads(pass: pass, labels: labels)
            if !novel.isEmpty && counters.firstVisits > 0 { widenHeadForNewClasses() }
        }

        // Rows whose values could overflow the statistics or the weights are scored
        // above but learned from nowhere below (nil: every row is in range).
        let kept = rowsInRange(raw: rawInRange, pass: pass)
        if let kept { recordRowsOutOfRange(kept: kept, of: n, source: source) }
        let keep = kept ?? Array(0..<n)

        clock.lap(into: \.predict, of: &profile)

        // 2. Covariance of every hidden neuron with correctness (first visits).
        if firstVisit && !keep.isEmpty {
            tracker.update(hidden: kept == nil ? pass.hidden : pass.hidden.map { $0.gatherRows(keep) },
                           correct: keep.map { courseCorrect[$0] })
        }
        // The detectors, computed at most once per batch and only when something reads
        // them: a growth trigger, or the covariance cost on a trainable trunk.
        var report: DetectorReport?

        clock.lap(into: \.covariance, of: &profile)

        // 3. Growth.
        // Labels are novel to a learner that learned before this batch (not before this
        // warm-up piece: the classes of a stream's first batch are no novelty).
        let hadLearned = counters.firstVisits - (piece?.offset ?? 0) > 0
        seenClasses.formUnion(novel)
        if model.experts.isEmpty && statistics == nil { model.trunkClasses = seenClasses }
        var decision: GrowthDecision?
        if firstVisit {
            counters.firstVisits += n
            decision = decideGrowth(
                novelty: hadLearned && !novel.isEmpty, drifted: drifted, batchSamples: n, batchErrors: courseErrors, novel: novel,
                scalerRows: usable, report: &report, logger: logger)
        }
        counters.batches = batchNumber
        counters.samples += n

        clock.lap(into: \.growth, of: &profile)

        // 4. Who was in charge of each row; some rows of the slot in charge are set aside
        // to judge it later; the others join the gate's statistics.
        let charge = slotsInCharge(answering: followsGate ? answers.slots : answers.answering, correct: courseCorrect, labels: labels)
        let inCharge = slotInCharge
        var learned = keep
        if firstVisit {
            let kept = setAside(x, labels: labels, rows: keep.filter { charge[$0] == inCharge })
            if kept.count < keep.filter({ charge[$0] == inCharge }).count {
                let aside = Set(keep.filter { charge[$0] == inCharge }).subtracting(kept)
                learned = keep.filter { !aside.contains($0) }
            }
        }
        if firstVisit && !learned.isEmpty {
            addToGateStatistics(pass: pass, input: scaled, rows: learned, labels: labels, slots: charge)
        }

        clock.lap(into: \.gateStatistics, of: &profile)

        // 5. Train the slot in charge on its rows plus its replayed samples.
        let steps = trainSlotInCharge(scaled, labels: labels, rows: learned.filter { charge[$0] == inCharge }, report: report)
        clock.lap(into: \.training, of: &profile)

        // 6. Replay (first visits), each sample tagged with the slot in charge of it.
        if firstVisit && !learned.isEmpty {
            replay.offer(features: learned.count == n ? x : x.gatherRows(learned), labels: learned.map { labels[$0] },
                         tags: learned.map { charge[$0] })
        }

        // 7. An answer the counts chose, checked on the classes the stream stopped showing.
        if firstVisit { checkStoppedClasses() }

        clock.lap(into: \.replay, of: &profile)

        var routed = [Int](repeating: 0, count: max(1, model.gate.slotCount))
        for s in answers.slots where s < routed.count { routed[s] += 1 }
        return StepReport(
            batch: counters.batches, samples: n, errors: errors, loss: steps.loss, newClasses: novel,
            drift: drifted, decision: decision, steps: steps.outcomes, experts: model.experts.count, routed: routed,
            predicted: reported, labels: labels)
    }

    /// A batch the stream gave before (a later pass): nothing is scored or counted
    /// again; the slot in charge trains on the rows of its classes (the gate would send
    /// them there: they were in its charge on their first visit), plus its replay.
    mutating func revisit(
        _ scaled: Matrix, labels: [Int], inRange: [Bool], source: String, clock: inout PhaseClock
    ) -> StepReport {
        let n = scaled.rows
        let inCharge = slotInCharge
        let own = answerClasses(slot: inCharge)
        let mine = (0..<n).filter { inRange[$0] && own.contains(labels[$0]) }
        if mine.count < n && !inRange.allSatisfy({ $0 }) {
            recordRowsOutOfRange(kept: (0..<n).filter { inRange[$0] }, of: n, source: source)
        }
        counters.batches += 1
        counters.samples += n
        let steps = trainSlotInCharge(scaled, labels: labels, rows: mine, report: nil)
        clock.lap(into: \.training, of: &profile)
        return StepReport(
            batch: counters.batches, samples: n, errors: 0, loss: steps.loss, newClasses: [], drift: false, decision: nil,
            steps: steps.outcomes, experts: model.experts.count)
    }

    /// `stepsPerBatch` passes of training steps of the slot in charge on rows `rows` of a
    /// scaled batch, one step per slice of `stepRows` rows, each with replayed samples of
    /// its own.
    mutating func trainSlotInCharge(
        _ scaled: Matrix, labels: [Int], rows mine: [Int], report: DetectorReport?
    ) -> (outcomes: [HalfLearning.StepOutcome], loss: Float) {
        guard !mine.isEmpty else { return ([], 0) }
        let inCharge = slotInCharge
        let n = scaled.rows
        let ownX = mine.count == n ? scaled : scaled.gatherRows(mine)
        let ownY = mine.count == n ? labels : mine.map { labels[$0] }
        let slices = Self.stepSlices(rows: mine.count, rowsPerStep: configuration.stepRows)
        var outcomes: [HalfLearning.StepOutcome] = []
        var loss: Float = 0
        // The trunk, where the detectors live, trains (and pays the covariance cost) only
        // before the first growth.
        let costed = configuration.covarianceStrength > 0 && trunkIsTrainable
        var report = report
        if costed && report == nil { report = configuration.detectors.report(tracker) }
        let replayed = replayedPerStep(batchRows: piece?.batchRows ?? n)
        for _ in 0..<configuration.stepsPerBatch {
            for slice in slices {
                var stepX = slices.count == 1 ? ownX : ownX.rows(slice)
                var stepY = slices.count == 1 ? ownY : Array(ownY[slice])
                let (rx, ry) = replay.sample(replayed, tag: inCharge)
                if !ry.isEmpty {
                    stepX = stepX.concatenatingRows(scaler?.transform(rx) ?? rx)
                    stepY += ry
                }
                let (outcome, stepLoss) = train(stepX, stepY, slot: inCharge, detectors: costed ? report : nil)
                outcomes.append(outcome)
                loss = stepLoss
            }
        }
        return (outcomes, loss)
    }

    /// Replayed samples a training step of a batch of `batchRows` rows takes:
    /// `replayPerStep`, or with `replayFollowsRows`, for a batch of fewer than `stepRows`
    /// rows in a stream whose batches so far (this one counted) average fewer too, its
    /// share of them, at least one. The last, short batch of a file read 128 rows at a
    /// time replays in full, as it did: on 396 real streams whose last batch is short,
    /// replaying it in proportion cost replay-500 0.0025 on average, its last step then
    /// leaning to the last rows.
    public func replayedPerStep(batchRows: Int) -> Int {
        let full = configuration.replayPerStep
        guard configuration.replayFollowsRows == true, let stepRows = configuration.stepRows, batchRows < stepRows,
              counters.batches > 0, counters.samples < stepRows * counters.batches else {
            return full
        }
        return min(full, max(1, (full * batchRows + stepRows - 1) / stepRows))
    }

    /// A record of the gate's own answers for the growth trigger's window (the served
    /// accuracy's window, without its plotted series).
    static func courseAccuracy() -> PrequentialAccuracy { PrequentialAccuracy(seriesCapacity: 2) }

    /// The slices of `rows` rows that the training steps of one batch take: one slice of
    /// everything without `rowsPerStep`, otherwise `ceil(rows / rowsPerStep)` consecutive
    /// slices whose sizes differ by at most one.
    public static func stepSlices(rows: Int, rowsPerStep: Int?) -> [Range<Int>] {
        guard let rowsPerStep, rows > rowsPerStep else { return [0..<rows] }
        let count = (rows + rowsPerStep - 1) / rowsPerStep
        return (0..<count).map { k in (k * rows / count)..<((k + 1) * rows / count) }
    }

    /// Floats kept besides the weights: the replay buffer and every statistic.
    public var memoryFloats: (replay: Int, statistics: Int) {
        let covariance = tracker.widths.reduce(0, +) * 7
        let own = slotStatistics.values.reduce(0) { $0 + $1.memoryInFloats }
        return (replay.memoryFloats, covariance + (statistics?.memoryInFloats ?? 0) + own)
    }

    func validate(_ x: Matrix, _ labels: [Int], source: String) throws(LearnerError) {
        guard x.rows > 0 else { throw .emptyBatch(source: source) }
        guard labels.count == x.rows else { throw .labelCountMismatch(rows: x.rows, labels: labels.count, source: source) }
        guard x.columns == inputWidth else { throw .widthMismatch(expected: inputWidth, actual: x.columns, source: source) }
        for (r, label) in labels.enumerated() where label < 0 { throw .invalidLabel(label: label, row: r + 1, source: source) }
        if !x.isFinite {
            let i = x.scalars.firstIndex { !$0.isFinite }!
            throw .nonFinite(row: i / x.columns + 1, column: i % x.columns + 1, source: source)
        }
    }
}
