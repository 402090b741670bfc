import Logging
import MoE

/// The continual learner: a stream of labelled batches goes in, the network grows
/// experts where its error detectors say it must (METHOD.md §5).
///
/// For every batch, `observe` (in the spirit of River's `learn_many`):
/// 1. predicts first and scores the prediction (prequential, test-then-train), and
///    feeds the error indicator to a Page-Hinkley drift test;
/// 2. widens the output for labels never seen;
/// 3. updates the streaming covariance of every hidden neuron with correctness;
/// 4. adds the batch to the gate's class statistics (a class-posterior gate);
/// 5. at the end of each window (or at once when unseen classes arrive) asks the
///    `GrowthPolicy` whether to grow, where and on which detectors, and grows;
/// 6. trains the trainable parameters on the batch plus replayed samples, with the
///    covariance cost and half-learning;
/// 7. offers the batch to the reservoir replay buffer.
/// Every decision, grown or suppressed, is logged and kept in `history`.
///
/// Numerical faults never reach the weights (`Learner+Faults.swift`): a step with a
/// non-finite loss or gradient, or one that leaves the weights or Adam's state out of
/// range, is rolled back and the rate halved; rows whose values would overflow are
/// scored but not learned from. Each event is counted in `counters` and kept in `history`.
///
/// The learner is a value: copying it is a snapshot that predicts on other threads
/// while the original keeps learning.
public struct Learner: Sendable {
    public let configuration: LearnerConfiguration
    public internal(set) var model: MixtureOfExperts
    public internal(set) var optimizer: Adam
    public internal(set) var tracker: CovarianceTracker
    public internal(set) var halfLearning: HalfLearning
    /// Class-conditional statistics of every sample over the gate's random features.
    public internal(set) var statistics: ClassStatistics?
    public internal(set) var replay: ReplayBuffer
    public internal(set) var policyState = GrowthPolicy.State()
    public internal(set) var drift = PageHinkley()
    public internal(set) var generator: SeededGenerator
    public internal(set) var history = LearnerHistory()
    public internal(set) var prequential = PrequentialAccuracy()
    public internal(set) var counters = Counters()
    /// Classes seen so far.
    public internal(set) var seenClasses: Set<Int> = []
    /// Classes first seen since the last growth (the next expert's responsibility).
    public internal(set) var classesSinceGrowth: Set<Int> = []

    /// Step, sample and window counters.
    public struct Counters: Sendable, Equatable, Codable {
        public var batches = 0
        public var samples = 0
        public var windows = 0
        public var windowErrors = 0
        public var windowSamples = 0
        public var samplesSinceRefit = 0
        public var headIsStale = false
        public var acceptedSteps = 0
        public var rejectedSteps = 0
        public var halvings = 0
        /// Steps rolled back for a non-finite loss, gradient or result.
        public var numericalFaults = 0
        /// Rows scored but not learned from because their values were out of range.
        public var rowsOutOfRange = 0
        public init() {}

        private enum CodingKeys: String, CodingKey {
            case batches, samples, windows, windowErrors, windowSamples, samplesSinceRefit, headIsStale
            case acceptedSteps, rejectedSteps, halvings, numericalFaults, rowsOutOfRange
        }

        /// Decodes saved counters; those saved before faults were counted have none.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            batches = try c.decode(Int.self, forKey: .batches)
            samples = try c.decode(Int.self, forKey: .samples)
            windows = try c.decode(Int.self, forKey: .windows)
            windowErrors = try c.decode(Int.self, forKey: .windowErrors)
            windowSamples = try c.decode(Int.self, forKey: .windowSamples)
            samplesSinceRefit = try c.decode(Int.self, forKey: .samplesSinceRefit)
            headIsStale = try c.decode(Bool.self, forKey: .headIsStale)
            acceptedSteps = try c.decode(Int.self, forKey: .acceptedSteps)
            rejectedSteps = try c.decode(Int.self, forKey: .rejectedSteps)
            halvings = try c.decode(Int.self, forKey: .halvings)
            numericalFaults = try c.decodeIfPresent(Int.self, forKey: .numericalFaults) ?? 0
            rowsOutOfRange = try c.decodeIfPresent(Int.self, forKey: .rowsOutOfRange) ?? 0
        }
    }

    /// A learner for inputs of `inputWidth` features, starting with `classCount` outputs
    /// (more are added as new labels arrive).
    public init(configuration: LearnerConfiguration, inputWidth: Int, classCount: Int) throws(LearnerError) {
        try configuration.validate()
        guard inputWidth > 0 else { throw .invalidConfiguration("the input width must be positive, got \(inputWidth)") }
        guard classCount > 0 else { throw .invalidConfiguration("the class count must be positive, got \(classCount)") }
        self.configuration = configuration
        var generator = SeededGenerator(seed: configuration.seed)
        var model = MixtureOfExperts(
            sizes: [inputWidth] + configuration.hidden + [classCount], activation: configuration.activation,
            generator: &generator)
        model.trunkClasses = []
        switch configuration.gate {
        case let .classPosterior(features):
            // Bias scale 0.3: 0.859 against 0.849-0.852 with 1 on Split Fashion-MNIST (docs/results.md).
            model.configureGate(.classPosterior(features: .init(count: features, seed: generator.next(), biasScale: 0.3)))
            statistics = ClassStatistics(featureCount: features)
        case .learned:
            model.configureGate(.learned(selection: .topK(1)))
            statistics = nil
        }
        self.model = model
        optimizer = Adam(learningRate: configuration.learningRate)
        let halfLife = configuration.statisticsHalfLife
        tracker = CovarianceTracker(model: model, forgetting: halfLife > 0 ? .halfLife(samples: halfLife) : .none)
        halfLearning = HalfLearning(
            rate: configuration.learningRate, minimumRate: configuration.learningRate / 64, growth: 1.1,
            maximumRate: configuration.learningRate * 4)
        replay = ReplayBuffer(capacity: configuration.replayCapacity, width: inputWidth, seed: generator.next())
        self.generator = generator
        prequential = PrequentialAccuracy()
    }

    public var inputWidth: Int { model.inputWidth }
    public var classCount: Int { model.classCount }

    /// What one `observe` did.
    public struct StepReport: Sendable, Equatable {
        public var batch: Int
        public var samples: Int
        /// Misclassified before training on the batch.
        public var errors: Int
        public var accuracy: Double { samples > 0 ? 1 - Double(errors) / Double(samples) : 0 }
        public var loss: Float
        public var newClasses: [Int]
        public var drift: Bool
        /// The growth decision, when a window closed in this batch.
        public var decision: GrowthDecision?
        public var steps: [HalfLearning.StepOutcome]
        public var experts: Int
    }

    /// Predicts, scores, learns from one batch.
    ///
    /// - Parameters:
    ///   - x: `n x inputWidth` features.
    ///   - labels: `n` class labels (non-negative), one per row.
    ///   - source: What the rows are called in errors (a file name).
    ///   - pass: 0 when the rows are seen for the first time; 1, 2, … when a stream
    ///     repeats data it already gave (a scenario's second pass). Statistics that must
    ///     count every sample once, and scores that must be honest, use first visits only.
    ///   - logger: Where growth decisions are logged.
    public mutating func observe(
        features x: Matrix, labels: [Int], source: String = "batch", pass: Int = 0, logger: Logger? = nil
    ) throws(LearnerError) -> StepReport {
        try validate(x, labels, source: source)
        // 2 (first, so that predictions can name new classes): widen for unseen labels.
        let top = labels.max()!
        if top >= model.classCount { model.widenOutput(to: top + 1) }
        let novel = Set(labels).subtracting(seenClasses).sorted()

        // 1. Predict first, then score.
        let pass = model.forward(x)
        let predictions = predict(pass: pass, input: x)
        let correct = zip(predictions, labels).map { $0 == $1 }
        let errors = correct.reduce(0) { $0 + ($1 ? 0 : 1) }
        prequential.record(correct)
        var drifted = false
        for c in correct where drift.update(c ? 0 : 1) { drifted = true }

        // Rows whose values could overflow the statistics or the weights are scored
        // above but learned from nowhere below (nil: every row is in range).
        let gateFeatures = statistics != nil ? model.gateFeatures(x) : nil
        let kept = rowsInRange(input: x, pass: pass, gateFeatures: gateFeatures)
        if let kept { recordRowsOutOfRange(kept: kept, of: x.rows, source: source) }
        let keptCount = kept?.count ?? x.rows
        let learnX = kept.map { x.gatherRows($0) } ?? x
        let learnLabels = kept.map { $0.map { labels[$0] } } ?? labels

        // 3. Covariance of every hidden neuron with correctness.
        if let kept {
            if !kept.isEmpty {
                tracker.update(hidden: pass.hidden.map { $0.gatherRows(kept) }, correct: kept.map { correct[$0] })
            }
        } else {
            tracker.update(hidden: pass.hidden, correct: correct)
        }

        // 4. Gate statistics. Until the first growth the trunk owns what it has learned;
        // labels that trigger growth belong to the new expert.
        let hadLearned = counters.samples > 0
        let noveltyTrigger = configuration.growOnNovelClasses && hadLearned && !novel.isEmpty
            && model.experts.count < configuration.growth.maxExperts
        if model.experts.isEmpty && !noveltyTrigger { model.trunkClasses = seenClasses.union(novel) }
        seenClasses.formUnion(novel)
        classesSinceGrowth.formUnion(novel)
        if statistics != nil, keptCount > 0 {
            statistics!.update(features: kept.map { gateFeatures!.gatherRows($0) } ?? gateFeatures!, labels: learnLabels)
            counters.samplesSinceRefit += keptCount
            counters.headIsStale = true
            if counters.samplesSinceRefit >= configuration.refitEvery || !novel.isEmpty { refitHead() }
        }

        // 5. The growth decision, per window or at once on novelty.
        counters.windowErrors += errors
        counters.windowSamples += x.rows
        var decision: GrowthDecision?
        if counters.windowSamples >= configuration.windowSize || noveltyTrigger || (drifted && policyState.pendingDrift == false) {
            decision = closeWindow(drift: drifted || noveltyTrigger, novelty: noveltyTrigger, logger: logger)
        }

        counters.batches += 1
        counters.samples += x.rows

        // 6. Train on the batch plus replay.
        var steps: [HalfLearning.StepOutcome] = []
        var loss: Float = 0
        for _ in 0..<(keptCount > 0 ? configuration.stepsPerBatch : 0) {
            var stepX = learnX, stepY = learnLabels
            if configuration.replayPerStep > 0 && !replay.isEmpty {
                let (rx, ry) = replay.sample(configuration.replayPerStep)
                stepX = stepX.concatenatingRows(rx)
                stepY += ry
            }
            let (outcome, stepLoss) = train(stepX, stepY)
            steps.append(outcome)
            loss = stepLoss
        }

        // 7. Replay.
        if keptCount > 0 { replay.offer(features: learnX, labels: learnLabels) }

        return StepReport(
            batch: counters.batches, samples: x.rows, errors: errors, loss: loss, newClasses: novel,
            drift: drifted, decision: decision, steps: steps, experts: model.experts.count)
    }

    /// Predicted class of every row.
    public func predict(_ x: Matrix) -> [Int] {
        precondition(x.columns == inputWidth, "The learner expects \(inputWidth) features, got \(x.columns)")
        if configuration.predictor == .discriminant || configuration.gate != .learned {
            var copy = self
            copy.refreshHeadIfStale()
            return copy.predict(pass: copy.model.forward(x), input: x)
        }
        return predict(pass: model.forward(x), input: x)
    }

    /// A copy whose gate head reflects every sample seen (use before evaluation; the
    /// learner itself refits every `refitEvery` samples).
    public func snapshot() -> Learner {
        var copy = self
        copy.refreshHeadIfStale()
        return copy
    }

    /// Predictions restricted to `classes` (task-incremental evaluation: the task, and so
    /// its classes, is known). The gate routes only among slots owning those classes.
    public func predict(_ x: Matrix, among classes: Set<Int>) -> [Int] {
        var copy = snapshot()
        if copy.model.gate.featureCount > 0 {
            // Classes outside the task get no posterior mass, so routing stays inside it.
            for c in 0..<copy.model.gate.headBias.columns where !classes.contains(c) {
                copy.model.gate.headBias[0, c] = Gate.unseenClassBias
            }
        }
        let logits: Matrix
        if configuration.predictor == .discriminant, let head = copy.discriminantLogits(x) {
            logits = head
        } else {
            logits = copy.model(x)
        }
        return (0..<x.rows).map { r in
            var best = -1
            var top = -Float.infinity
            for c in classes.sorted() where c < logits.columns && (best < 0 || logits[r, c] > top) {
                best = c
                top = logits[r, c]
            }
            return best
        }
    }

    /// Fraction of rows predicted correctly (optionally among a task's classes), in chunks.
    public func accuracy(features: Matrix, labels: [Int], among classes: Set<Int>? = nil, chunk: Int = 2048) -> Double {
        guard features.rows > 0 else { return 0 }
        let ready = snapshot()
        var correct = 0
        var start = 0
        while start < features.rows {
            let end = min(start + chunk, features.rows)
            let rows = features.rows(start..<end)
            let predictions = classes.map { ready.predict(rows, among: $0) } ?? ready.predict(rows)
            for (i, p) in predictions.enumerated() where p == labels[start + i] { correct += 1 }
            start = end
        }
        return Double(correct) / Double(features.rows)
    }

    /// Floats kept besides the weights: the replay buffer and every statistic.
    public var memoryFloats: (replay: Int, statistics: Int) {
        let covariance = tracker.widths.reduce(0, +) * 7
        return (replay.memoryFloats, covariance + (statistics?.memoryInFloats ?? 0))
    }

    // MARK: - Parts

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

    func predict(pass: MixtureOfExperts.Forward, input: Matrix) -> [Int] {
        if configuration.predictor == .discriminant, let logits = discriminantLogits(input) {
            return logits.argmaxRows()
        }
        return model.predictions(pass)
    }

    func discriminantLogits(_ x: Matrix) -> Matrix? {
        guard model.gate.featureCount > 0, model.gate.headWeight.columns > 0 else { return nil }
        var logits = Matrix(rows: x.rows, columns: model.gate.headWeight.columns)
        logits.addRowVector(model.gate.headBias)
        logits.addProduct(model.gateFeatures(x), model.gate.headWeight)
        return logits
    }

    mutating func refreshHeadIfStale() {
        if counters.headIsStale { refitHead() }
    }

    mutating func refitHead() {
        guard let statistics, statistics.sampleCount > 1 else { return }
        do {
            let (weight, bias) = try statistics.fitDiscriminant(classCount: model.classCount)
            guard weight.isFinite && bias.isFinite else {
                // Keep the previous head; the statistics may support a fit later.
                history.record(LearnerHistory.Fault(
                    kind: .unsoundHead, batch: counters.batches, sample: counters.samples,
                    detail: "the discriminant fit over \(Int(statistics.sampleCount)) samples gave a non-finite head", rate: nil))
                counters.samplesSinceRefit = 0
                return
            }
            model.setClassHead(weight: weight, bias: bias)
            counters.samplesSinceRefit = 0
            counters.headIsStale = false
        } catch {
            // Too few samples to fit yet: keep the previous head and try again later.
            counters.samplesSinceRefit = 0
        }
    }

    mutating func closeWindow(drift drifted: Bool, novelty: Bool, logger: Logger?) -> GrowthDecision {
        let report = configuration.detectors.report(tracker)
        let detectors = (0..<model.hiddenLayerCount).map { l in
            report.layers.first { $0.layer == l }?.detectors.map(\.neuron) ?? []
        }
        let rate = counters.windowSamples > 0 ? Double(counters.windowErrors) / Double(counters.windowSamples) : 0
        var policy = configuration.growth
        if novelty { policy.persistence = 1 }
        let observation = GrowthPolicy.Observation(
            window: counters.windows, errorRate: rate, drift: drifted, detectors: detectors,
            experts: model.experts.count, parameters: model.parameterCount,
            expertParameters: (0..<model.hiddenLayerCount).map { expertParameters(layer: $0, detectors: min(detectors[$0].count, policy.maxDetectors)) })
        var decision = policy.decide(observation, state: &policyState)
        if novelty && decision.trigger == .drift { decision.trigger = .novelty }
        if case .grow = decision.outcome, model.gate.featureCount > 0, growthClassesAreAmbiguous {
            // A class-posterior gate routes by classes: an expert for classes that
            // others already own would take their inputs (its posterior mass is at
            // least theirs). Without new classes there is nothing to route to it.
            decision.outcome = .suppressed("every class seen already has an owner; a class-posterior gate could not route to a new expert")
            policyState.pendingDrift = false
            policyState.lastGrowthWindow = nil
        }
        if case let .grow(layer, chosen) = decision.outcome {
            let classes = growthClasses()
            let expert = model.grow(
                at: layer, detectors: chosen, hiddenWidth: configuration.expertWidth,
                classes: classes, context: configuration.expertContext, generator: &generator)
            classesSinceGrowth = []
            if novelty { decision.reason = "labels never seen (\(classes.sorted().map(String.init).joined(separator: ", "))) arrived and layer \(layer) has \(report.layers.first { $0.layer == layer }?.detectors.count ?? 0) significant detectors" }
            refitHead()
            history.recordGrowth(.init(
                expert: expert, window: counters.windows, batch: counters.batches + 1, sample: counters.samples,
                layer: layer, detectors: chosen, classes: classes.sorted(),
                rho: chosen.compactMap { n in report.layers.first { $0.layer == layer }?.detectors.first { $0.neuron == n }?.rho },
                trigger: decision.trigger?.rawValue ?? "", reason: decision.reason))
        }
        history.record(decision)
        if let logger {
            switch decision.outcome {
            case .none: logger.debug("\(decision.summary)")
            case .suppressed: logger.info("\(decision.summary)")
            case .grow: logger.notice("\(decision.summary)")
            }
        }
        counters.windows += 1
        counters.windowErrors = 0
        counters.windowSamples = 0
        return decision
    }

    /// The classes a new expert is responsible for: those first seen since the last
    /// growth; with none (drift without new labels), every class seen.
    var growthClassesAreAmbiguous: Bool {
        var owned = model.trunkClasses
        for expert in model.experts { owned.formUnion(expert.classes ?? []) }
        return classesSinceGrowth.subtracting(owned).isEmpty
    }

    func growthClasses() -> Set<Int> {
        var owned = model.trunkClasses
        for expert in model.experts { owned.formUnion(expert.classes ?? []) }
        let fresh = classesSinceGrowth.subtracting(owned)
        return fresh.isEmpty ? seenClasses : fresh
    }

    func expertParameters(layer: Int, detectors: Int) -> Int {
        let context = model.contextWidth(configuration.expertContext, at: layer)
        let h = configuration.expertWidth
        return (detectors + context + 1) * h + (h + 1) * model.classCount + detectors + 1
    }

    /// One training step on `(x, y)`: the covariance-weighted gradient, then half-learning
    /// (or a plain Adam step). A step whose loss or gradient is not finite, or whose
    /// result is out of range, is rolled back (see `Learner+Faults.swift`).
    mutating func train(_ x: Matrix, _ y: [Int]) -> (HalfLearning.StepOutcome, Float) {
        let report = configuration.covarianceStrength > 0 ? configuration.detectors.report(tracker) : nil
        let loss: Float
        let gradients: Gradients
        let errors: Int
        if let report {
            let result = CovarianceCost(strength: configuration.covarianceStrength)
                .lossAndGradients(model, input: x, labels: y, detectors: report)
            (loss, gradients, errors) = (result.crossEntropy, result.gradients, result.errors)
        } else {
            let (l, g, pass) = model.lossAndGradients(x, labels: y)
            (loss, gradients) = (l, g)
            errors = zip(model.predictions(pass), y).reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1) }
        }
        return applyStep(loss: loss, gradients: gradients, errorsBefore: errors, input: x, labels: y)
    }

    /// Applies one step's gradients (half-learning or plain Adam), unless the loss or a
    /// gradient is not finite; rolls it back if it leaves the weights or Adam's state out
    /// of range. A refused or rolled-back step halves the rate and is recorded.
    mutating func applyStep(
        loss: Float, gradients: Gradients, errorsBefore errors: Int, input x: Matrix, labels y: [Int]
    ) -> (HalfLearning.StepOutcome, Float) {
        func refuse(_ fault: (LearnerHistory.Fault.Kind, String)) -> (HalfLearning.StepOutcome, Float) {
            let rate = recordStepFault(fault.0, fault.1)
            let outcome = HalfLearning.StepOutcome(
                accepted: false, halvings: 0, errorsBefore: errors, errorsAfter: errors, rate: rate, proposals: 0)
            count(outcome)
            return (outcome, loss)
        }
        if let fault = faultBeforeStep(loss: loss, gradients: gradients) { return refuse(fault) }
        let before = (model: model, optimizer: optimizer)
        let outcome: HalfLearning.StepOutcome
        if configuration.halfLearning {
            outcome = halfLearning.step(&model, optimizer: &optimizer, gradients: gradients, input: x, labels: y, errorsBefore: errors)
        } else {
            optimizer.update(&model, gradients: gradients, frozen: model.frozen)
            outcome = HalfLearning.StepOutcome(
                accepted: true, halvings: 0, errorsBefore: errors, errorsAfter: -1, rate: optimizer.learningRate, proposals: 1)
        }
        if outcome.accepted, let fault = faultAfterStep(paths: gradients.values.keys) {
            model = before.model
            optimizer = before.optimizer
            return refuse(fault)
        }
        if !configuration.halfLearning && optimizer.learningRate < configuration.learningRate {
            // Regrow after a fault halved the rate, as half-learning does (bold driver).
            optimizer.learningRate = min(configuration.learningRate, optimizer.learningRate * 1.1)
        }
        count(outcome)
        return (outcome, loss)
    }

    mutating func count(_ outcome: HalfLearning.StepOutcome) {
        if outcome.accepted { counters.acceptedSteps += 1 } else { counters.rejectedSteps += 1 }
        counters.halvings += outcome.halvings
    }
}
