import Foundation
import MoE

// Prediction: the gate weighs the slots, each slot answers among its classes.
//
//   m_s(x)       = Σ_c p(s, c | x)                            (the gate's pair posterior)
//   network_s(c) = softmax over classes(s) of the slot's logits (the trunk's in slot 0, the expert's in its own slot)
//   gate_s(c)    = p(s, c | x) / m_s(x)
//   product_s(c) ∝ network_s(c) · gate_s(c)
//   p(c | x)     = Σ_{s routed} m_s(x) q_s(c) / Σ_{s routed} m_s(x)
//
// q_s is the answer the arbiter has chosen for slot s. Routed slots are the heaviest
// ones until they hold 99% of the mass (at most `routedSlots`): a class whose samples
// were in the charge of two slots speaks through both. With the gate's answer in every
// slot the mixture is exactly the gate's discriminant; each expert that answers better
// in its slot makes it better. The `discriminant` predictor (the gate alone, a
// baseline) answers argmax_c Σ_s p(s, c | x).
extension Learner {
    /// Most slots whose answers are mixed for one input.
    static let routedSlots = 3
    /// Routed slots are added, heaviest first, until they hold this much of the mass.
    static let routedMass: Float = 0.99

    /// Everything the learner decided about a batch of rows.
    struct Answers {
        /// The prediction served (the configured predictor's).
        var predicted: [Int]
        /// The heaviest slot of each row.
        var slots: [Int]
        /// The slot that gave the predicted class the most weight (the heaviest one when
        /// a single slot answers).
        var answering: [Int]
        /// In that slot: the network's, the gate's, the product's and the prior's answer
        /// (all but the network's are nil without a pair-routing gate).
        var network: [Int]
        var gate: [Int]?
        var product: [Int]?
        var prior: [Int]?
        /// What the gate alone answers (the `discriminant` predictor's answer, the trunk's
        /// before any pair exists): the answer the learner's course follows
        /// (`LearnerConfiguration.courseFollowsGate`).
        var course: [Int] = []
        /// With `answers(…, trying:)`: the mixture's prediction with each answer in the
        /// slot tried, the other slots answering as the arbiter says.
        var trials: [AnswerArbiter.Answer: [Int]] = [:]
        /// Per row, for every routed slot: the mixture's prediction with that slot
        /// answering with the gate, its network, the product and its prior, the other
        /// slots as the arbiter says (what the arbiter's counts judge with
        /// `AnswerArbiter.Settings.countsTheMixture`).
        var mixed: [[MixedAnswers]] = []
        /// With `answers(…, scoring: true)`: per row, the probability of every class the
        /// model has (`rows x classes`) as the served prediction weighs them; its largest
        /// entry is `predicted`'s class (the smallest class on ties, as `predicted`).
        var scores: Matrix?
        /// With `scoring`: whether each row's scores are class shares rather than learned
        /// weights (the stream's most frequent class answering everything, or a prior
        /// answering in the row's heaviest slot), which the calibration leaves as they are.
        var classShares: [Bool] = []
    }

    /// The mixture's predictions for one row with one slot's answer varied.
    struct MixedAnswers {
        var slot: Int
        var gate: Int, network: Int, product: Int, prior: Int
    }

    /// The answers for a forward pass of scaled inputs `input`, optionally restricted to a
    /// task's classes; with `tried`, also the mixture's predictions with each answer in
    /// that slot (`Answers.trials`); with `counting` (first-visit rows the arbiter will
    /// count), each routed slot's answers in the mixture (`Answers.mixed`); with
    /// `scoring`, every class's probability (`Answers.scores`).
    func answers(pass: MixtureOfExperts.Forward, input: Matrix, among task: Set<Int>? = nil, trying tried: Int? = nil,
                 ignoringMostFrequent: Bool = false, counting: Bool = false, scoring: Bool = false) -> Answers {
        let logits = pass.logits
        let n = logits.rows
        var scores = scoring ? Matrix(rows: n, columns: logits.columns) : nil
        /// Row `r`'s scores: `weights` (class -> non-negative weight) over their sum.
        func score(_ r: Int, _ weights: [Int: Double]) {
            guard scores != nil else { return }
            let total = weights.values.reduce(0, +)
            guard total > 0 else { return }
            for (c, w) in weights where c < logits.columns { scores![r, c] = Float(w / total) }
        }
        guard model.gate.configuration.pairRouting, let gatePass = pass.gate, let z = gatePass.headLogits else {
            // No pair yet (nothing learned) or a learned gate: the trunk answers among
            // the classes seen (all classes when none is).
            let allowed = (task ?? seenClasses).filter { $0 < logits.columns }.sorted()
            let among = allowed.isEmpty ? Array(0..<logits.columns) : allowed
            let network = (0..<n).map { r in best(logits, row: r, among: among) }
            if scoring {
                for r in 0..<n {
                    let top = Double(logits[r, network[r]])
                    score(r, Dictionary(uniqueKeysWithValues: among.map { ($0, exp(Double(logits[r, $0]) - top)) }))
                }
            }
            let zeros = Array(repeating: 0, count: n)
            return Answers(predicted: network, slots: zeros, answering: zeros, network: network, gate: nil, product: nil,
                           course: network, scores: scores, classShares: Array(repeating: false, count: scoring ? n : 0))
        }
        let slotCount = model.gate.slotCount
        var members = [[(column: Int, label: Int)]](repeating: [], count: slotCount)
        for (column, pair) in model.gatePairs.enumerated() where task?.contains(pair.label) ?? true {
            members[pair.slot].append((column, pair.label))
        }
        let mass = gatePass.probabilities
        // The routed slots of every row, heaviest first; the heaviest is the top-1 routing's.
        var routed = [[Int]](repeating: [], count: n)
        for r in 0..<n {
            let order = (0..<slotCount).filter { !members[$0].isEmpty && mass[r, $0] > 0 }
                .sorted { mass[r, $0] > mass[r, $1] || (mass[r, $0] == mass[r, $1] && $0 < $1) }
            var total: Float = 0
            for s in order.prefix(Self.routedSlots) {
                routed[r].append(s)
                total += mass[r, s]
                if total >= Self.routedMass { break }
            }
        }
        // The logits of every routed slot that is not the one the forward pass evaluated.
        var extra: [Int: (index: [Int: Int], logits: Matrix)] = [:]
        let evaluated = gatePass.routing.topSlots
        if configuration.predictor == .mixture {
            for s in 0..<slotCount {
                let rows = (0..<n).filter { routed[$0].contains(s) && evaluated[$0] != s }
                if !rows.isEmpty {
                    let index = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($1, $0) })
                    extra[s] = (index, model.slotLogits(pass, input: input, slot: s, rows: rows))
                }
            }
        }
        func slotLogits(_ s: Int, row r: Int) -> (Int) -> Float {
            if evaluated[r] == s { return { logits[r, $0] } }
            let (index, m) = extra[s]!
            let i = index[r]!
            return { m[i, $0] }
        }

        var slots = [Int](repeating: 0, count: n)
        var network = slots, gate = slots, product = slots, prior = slots, predicted = slots, answering = slots, course = slots
        let trying = tried.map { _ in AnswerArbiter.Answer.allCases } ?? []
        // Who answers in each slot, once per batch rather than per row and slot.
        let slotAnswers = (0..<slotCount).map { arbiter.answer(slot: $0) }
        var trials = Dictionary(uniqueKeysWithValues: trying.map { ($0, slots) })
        let mixing = counting && arbiter.settings.countsTheMixture && configuration.predictor == .mixture
        var mixed = [[MixedAnswers]](repeating: [], count: mixing ? n : 0)
        /// The class with the most mass (the smallest on ties).
        func heaviest(_ classMass: [Int: Double]) -> Int {
            classMass.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }!.key
        }
        for r in 0..<n {
            guard let top = routed[r].first else {
                // Only possible inside a task no slot has pairs for: the trunk decides.
                let allowed = (task ?? seenClasses).filter { $0 < logits.columns }.sorted()
                let fallback = best(logits, row: r, among: allowed.isEmpty ? Array(0..<logits.columns) : allowed)
                (network[r], gate[r], product[r], prior[r], predicted[r]) = (fallback, fallback, fallback, fallback, fallback)
                course[r] = fallback
                score(r, [fallback: 1])
                for answer in trying { trials[answer]![r] = fallback }
                continue
            }
            slots[r] = top
            answering[r] = top
            if configuration.predictor == .discriminant {
                let own = members[top]
                let gateLog = logSoftmax(own.map { z[r, $0.column] })
                gate[r] = own[argmax(gateLog)].label
                network[r] = gate[r]
                product[r] = gate[r]
                prior[r] = own[argmax(priorLog(own))].label
                predicted[r] = discriminantAnswer(z, row: r, among: task)
                course[r] = predicted[r]
                if scoring { score(r, discriminantMass(z, row: r, among: task)) }
                continue
            }
            course[r] = discriminantAnswer(z, row: r, among: task)
            var classMass: [Int: Double] = [:]
            var contributions: [(slot: Int, label: Int, mass: Double)] = []
            var triedMass = [[Int: Double]](repeating: [:], count: trying.count)
            // Per routed slot: its members and the mass each answer would give them.
            var slotMass: [(slot: Int, labels: [Int], chosen: [Double], by: [AnswerArbiter.Answer: [Double]])] = []
            for s in routed[r] {
                let own = members[s]
                let value = slotLogits(s, row: r)
                let netLog = logSoftmax(own.map { value($0.label) })
                let gateLog = logSoftmax(own.map { z[r, $0.column] })
                let productLog = logSoftmax(zip(netLog, gateLog).map { $0 + $1 })
                let frequencies = priorLog(own)
                if s == top {
                    network[r] = own[argmax(netLog)].label
                    gate[r] = own[argmax(gateLog)].label
                    product[r] = own[argmax(productLog)].label
                    prior[r] = own[argmax(frequencies)].label
                }
                func distribution(_ answer: AnswerArbiter.Answer) -> [Float] {
                    switch answer {
                    case .network: netLog
                    case .gate: gateLog
                    case .product: productLog
                    case .prior: frequencies
                    }
                }
                let chosen = distribution(slotAnswers[s])
                for (k, member) in own.enumerated() {
                    let weight = Double(mass[r, s]) * Double(exp(chosen[k]))
                    classMass[member.label, default: 0] += weight
                    contributions.append((s, member.label, weight))
                }
                if mixing {
                    let weights = { (q: [Float]) in q.map { Double(mass[r, s]) * Double(exp($0)) } }
                    slotMass.append((s, own.map(\.label), weights(chosen),
                                     Dictionary(uniqueKeysWithValues: AnswerArbiter.Answer.allCases.map { ($0, weights(distribution($0))) })))
                }
                for (t, answer) in trying.enumerated() {
                    let q = s == tried ? distribution(answer) : chosen
                    for (k, member) in own.enumerated() {
                        triedMass[t][member.label, default: 0] += Double(mass[r, s]) * Double(exp(q[k]))
                    }
                }
            }
            for (t, answer) in trying.enumerated() { trials[answer]![r] = heaviest(triedMass[t]) }
            let choice = heaviest(classMass)
            for part in slotMass {
                // The mixture with this slot's chosen answer replaced by each answer.
                func with(_ answer: AnswerArbiter.Answer) -> Int {
                    var varied = classMass
                    for (k, label) in part.labels.enumerated() { varied[label, default: 0] += part.by[answer]![k] - part.chosen[k] }
                    return heaviest(varied)
                }
                mixed[r].append(MixedAnswers(slot: part.slot, gate: with(.gate), network: with(.network), product: with(.product),
                                             prior: with(.prior)))
            }
            predicted[r] = choice
            score(r, classMass)
            answering[r] = contributions.filter { $0.label == choice }.max { $0.mass < $1.mass }!.slot
        }
        var classShares = scoring ? slots.map { configuration.predictor == .mixture && slotAnswers[$0] == .prior } : []
        // The stream's most frequent class answers everything when it beat the mixture.
        if configuration.predictor == .mixture, !ignoringMostFrequent, arbiter.answersMostFrequent {
            let frequent = mostFrequentClass(among: task)
            predicted = predicted.map { _ in frequent }
            // The class shares: their largest is the most frequent class.
            let shares = classCounts(among: task)
            for r in 0..<n { score(r, shares) }
            if scoring { classShares = Array(repeating: true, count: n) }
        }
        return Answers(predicted: predicted, slots: slots, answering: answering, network: network, gate: gate, product: product,
                       prior: prior, course: course, trials: trials, mixed: mixed, scores: scores, classShares: classShares)
    }

    /// The samples of each class in the gate's statistics, over all slots (only `task`'s
    /// classes when given).
    func classCounts(among task: Set<Int>? = nil) -> [Int: Double] {
        let counts = statistics?.counts ?? []
        var perClass: [Int: Double] = [:]
        for (column, pair) in model.gatePairs.enumerated() where column < counts.count && (task?.contains(pair.label) ?? true) {
            perClass[pair.label, default: 0] += counts[column]
        }
        return perClass
    }

    /// The class with the most samples in the gate's statistics, over all slots (among
    /// `task`'s classes when given; the smallest on ties).
    func mostFrequentClass(among task: Set<Int>?) -> Int {
        classCounts(among: task).max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? 0
    }

    /// A slot's prior over its pairs `own`: the log-share of each pair's samples so far
    /// (the arbiter's `prior` answer is its first maximum).
    func priorLog(_ own: [(column: Int, label: Int)]) -> [Float] {
        let counts = statistics?.counts ?? []
        return logSoftmax(own.map { Float(log(max(0.5, $0.column < counts.count ? counts[$0.column] : 0))) })
    }

    /// The gate alone: the class with the most posterior mass summed over slots.
    func discriminantAnswer(_ z: Matrix, row r: Int, among task: Set<Int>?) -> Int {
        let mass = discriminantMass(z, row: r, among: task)
        return mass.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key ?? 0
    }

    /// The gate's posterior mass of every class, summed over slots (unnormalised).
    func discriminantMass(_ z: Matrix, row r: Int, among task: Set<Int>?) -> [Int: Double] {
        var mass: [Int: Double] = [:]
        let top = (0..<z.columns).map { z[r, $0] }.max() ?? 0
        for (column, pair) in model.gatePairs.enumerated() where task?.contains(pair.label) ?? true {
            mass[pair.label, default: 0] += Double(exp(z[r, column] - top))
        }
        return mass
    }

    /// Feeds the arbiter every first-visit row that a pair-routing gate routed, with its
    /// raw inputs `x` (the input runs take the rows `inRange` says are in range).
    mutating func recordArbiter(_ answers: Answers, labels: [Int], inputs x: Matrix, inRange: [Bool]) {
        guard let gate = answers.gate, let product = answers.product, let prior = answers.prior else { return }
        arbiter.recordInputs(x, slots: answers.slots, inRange: inRange)
        for r in labels.indices {
            let y = labels[r]
            guard arbiter.settings.countsTheMixture, r < answers.mixed.count, !answers.mixed[r].isEmpty else {
                arbiter.record(slot: answers.slots[r], label: y, gate: gate[r] == y, network: answers.network[r] == y,
                               product: product[r] == y, prior: prior[r] == y)
                continue
            }
            // Every routed slot's counts judge what its answer does to the served answer;
            // the row is a visit of its heaviest slot only.
            for m in answers.mixed[r] {
                let right = (gate: m.gate == y, network: m.network == y, product: m.product == y, prior: m.prior == y)
                if m.slot == answers.slots[r] {
                    arbiter.record(slot: m.slot, label: y, gate: right.gate, network: right.network, product: right.product, prior: right.prior)
                } else {
                    arbiter.tally(slot: m.slot, gate: right.gate, network: right.network, product: right.product, prior: right.prior)
                }
            }
        }
    }

    /// Predicted class of every row (raw, unscaled features).
    public func predict(_ x: Matrix) -> [Int] {
        precondition(x.columns == inputWidth, "The learner expects \(inputWidth) features, got \(x.columns)")
        let ready = needsSnapshot ? snapshot() : self
        let scaled = ready.scaler?.transform(x) ?? x
        return ready.answers(pass: ready.model.forward(scaled), input: scaled).predicted
    }

    /// ``predict(_:)``'s classes and, per row, the probability of every class the model
    /// has (`rows x classes`), as the served prediction weighs them: the mixture's
    /// `Σ_s m_s q_s(c)` over its routed slots, normalised (the gate's posterior with the
    /// `discriminant` predictor; the class shares when the stream's most frequent class
    /// answers everything). The largest score of a row is its predicted class.
    ///
    /// The scores are calibrated (`calibrated`, the default) with the temperature and share
    /// of doubt fitted to the stream's prequential predictions (``ScoreCalibration``); the
    /// classes the learner has not seen keep 0, and class shares (a prior answering, or the
    /// most frequent class) are served as they are. `calibrated: false` gives the weights as
    /// the mixture served them.
    public func predictWithScores(_ x: Matrix, calibrated: Bool = true) -> (classes: [Int], scores: Matrix) {
        let both = predictWithBothScores(x)
        return (both.classes, calibrated ? both.calibrated : both.uncalibrated)
    }

    /// ``predictWithScores(_:calibrated:)``'s classes with both its scores, from one pass.
    public func predictWithBothScores(_ x: Matrix) -> (classes: [Int], calibrated: Matrix, uncalibrated: Matrix) {
        precondition(x.columns == inputWidth, "The learner expects \(inputWidth) features, got \(x.columns)")
        let ready = needsSnapshot ? snapshot() : self
        let scaled = ready.scaler?.transform(x) ?? x
        let answers = ready.answers(pass: ready.model.forward(scaled), input: scaled, scoring: true)
        return (answers.predicted, ready.calibrated(answers), answers.scores!)
    }

    /// `answers`' scores calibrated with the fitted temperature and share of doubt
    /// (``ScoreCalibration``), where they are learned weights (not `Answers.classShares`); the
    /// classes the learner has not seen keep 0, and nothing changes while no row is counted.
    func calibrated(_ answers: Answers) -> Matrix {
        var scores = answers.scores!
        guard let fit = calibration.fitted else { return scores }
        let seen = seenClasses.filter { $0 < scores.columns }.sorted()
        for (r, shares) in answers.classShares.enumerated() where !shares {
            let weights = ScoreCalibration.calibrate(seen.map { Double(scores[r, $0]) }, fit)
            for (k, c) in seen.enumerated() { scores[r, c] = Float(weights[k]) }
        }
        return scores
    }

    /// Counts the weights served to first-visit rows (`answers.scores`, over every class)
    /// for the calibration of scores, among the classes seen before this batch: a row of a
    /// class first seen here, or whose scores were class shares, is not counted.
    mutating func recordCalibration(_ answers: Answers, labels: [Int]) {
        let scores = answers.scores!
        let seen = seenClasses.filter { $0 < scores.columns }.sorted()
        let rows = answers.classShares.indices.filter { !answers.classShares[$0] }
        calibration.record(weights: rows.map { r in seen.map { Double(scores[r, $0]) } }, seen: seen,
                           labels: rows.map { labels[$0] })
    }

    /// Whether predictions need ``snapshot()`` first: the head is stale, rows are held
    /// out, or the heads are to be judged on the replayed rows.
    var needsSnapshot: Bool {
        !isSnapshot && (counters.headIsStale || !holdout.isEmpty || headJudgementPending || judgesPriors)
    }

    /// A copy ready to predict (use before evaluation): its gate head refitted from every
    /// sample the statistics hold (the learner itself refits every `refitEvery` samples)
    /// and, when something changed since the last judgement (a stale head, rows held out),
    /// every slot with held rows judged again against that head: the slot in charge on its
    /// holdout, frozen slots on their retained rows. In a stream whose labels come in
    /// runs, the gate's head is judged on the replayed rows first, on every sample so far
    /// (`judgeHeadsOnReplayedRows(columns:beforePredicting:)`), and when that changes it,
    /// the answers the arbiter's counts chose are checked against the new head
    /// (`checkStoppedClasses()`), as the learner's next batch would. Nothing is learned:
    /// held rows stay held, so a saved learner predicts the same before and after `moe eval`.
    public func snapshot() -> Learner { snapshot(memoising: true) }

    /// ``snapshot()``, its judgements reading the replayed rows' features and leave-one-out
    /// logits through a ``ReplayedRowsMemo`` (`memoising`) or computing them each time
    /// they are read (the same bits, more work).
    func snapshot(memoising: Bool) -> Learner {
        var copy = self
        // The judgements below read the replayed rows' features and leave-one-out logits
        // from the same statistics; the copy keeps them only while it judges.
        copy.replayedRowsMemo = memoising ? ReplayedRowsMemo() : nil
        let rejudge = needsSnapshot
        if copy.headJudgementPending { copy.counters.headIsStale = true }
        let head = copy.shrinkage.current
        copy.refreshHeadIfStale(remembering: true)
        if rejudge { copy.judgeHeldSlots() }
        // A judgement gave the gate another head: the counts' choices, kept against the
        // head before, are checked against it as the learner's next batch would check them.
        if copy.shrinkage.current != head { copy.checkStoppedClasses() }
        if !isSnapshot { copy.judgePriorsOnReplayedRows() }
        copy.replayedRowsMemo = nil
        copy.isSnapshot = true
        return copy
    }

    /// Predictions restricted to `classes` (task-incremental evaluation: the task, and so
    /// its classes, is known). The gate routes only among slots with pairs of those
    /// classes, and the slot answers among them.
    public func predict(_ x: Matrix, among classes: Set<Int>) -> [Int] {
        let copy = snapshot().restricted(to: classes)
        let scaled = copy.scaler?.transform(x) ?? x
        return copy.answers(pass: copy.model.forward(scaled), input: scaled, among: classes).predicted
    }

    /// A copy whose gate gives no posterior mass to columns outside `classes`, so routing
    /// stays inside them.
    func restricted(to classes: Set<Int>) -> Learner {
        var copy = self
        if copy.model.gate.featureCount > 0 {
            let labels = copy.model.gate.configuration.pairRouting
                ? copy.model.gatePairs.map(\.label) : Array(0..<copy.model.gate.headBias.columns)
            for (column, label) in labels.enumerated() where !classes.contains(label) {
                copy.model.gate.headBias[0, column] = Gate.unseenClassBias
            }
        }
        return copy
    }

    /// Rows scaled, and passed through the gate's random features, once: a test set
    /// scored after every experience is prepared once while the scaler's transform stays
    /// the same (``canUse(_:)``), which saves the largest product of every evaluation.
    public struct PreparedRows: Sendable {
        /// The rows scaled by the learner's input scaler.
        let scaled: Matrix
        /// Their gate features (nil when the gate's features depend on more than the input).
        let gateFeatures: Matrix?
        /// The scaler's transform they were scaled with.
        let transform: ScalerTransform

        /// Rows prepared.
        public var rows: Int { scaled.rows }
        /// Bytes held.
        public var bytes: Int { 4 * (scaled.scalars.count + (gateFeatures?.scalars.count ?? 0)) }
    }

    /// `x` (raw rows) prepared for repeated scoring.
    public func prepare(_ x: Matrix) -> PreparedRows {
        precondition(x.columns == inputWidth, "The learner expects \(inputWidth) features, got \(x.columns)")
        let scaled = scaler?.transform(x) ?? x
        return PreparedRows(
            scaled: scaled, gateFeatures: model.takesPrecomputedGateFeatures ? model.gateFeatures(scaled) : nil,
            transform: scalerTransform)
    }

    /// Whether rows prepared before still describe what this learner would compute: the
    /// same input scaling (the gate's random features never change).
    public func canUse(_ prepared: PreparedRows) -> Bool {
        prepared.transform == scalerTransform
            && (prepared.gateFeatures == nil || model.takesPrecomputedGateFeatures)
    }

    /// Predictions for prepared rows (optionally among a task's classes), from a learner
    /// ready to predict (``snapshot()``).
    public func predict(prepared: PreparedRows, among classes: Set<Int>? = nil) -> [Int] {
        predictAndPass(prepared: prepared, among: classes).predicted
    }

    /// ``predict(prepared:among:)`` and its forward pass; `earlier`, a pass of the same
    /// rows by this learner (under another restriction), lends its trunk activations.
    func predictAndPass(prepared: PreparedRows, among classes: Set<Int>?, reusingTrunkOf earlier: MixtureOfExperts.Forward? = nil)
        -> (predicted: [Int], pass: MixtureOfExperts.Forward)
    {
        precondition(canUse(prepared), "Rows prepared under another input scaling")
        let ready = needsSnapshot ? snapshot() : self
        let copy = classes.map { ready.restricted(to: $0) } ?? ready
        let pass = prepared.gateFeatures.map { copy.model.forward(prepared.scaled, gateFeatures: $0, reusingTrunkOf: earlier) }
            ?? copy.model.forward(prepared.scaled)
        return (copy.answers(pass: pass, input: prepared.scaled, among: classes).predicted, pass)
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

    /// The classes slot `slot` answers for: those of its pairs, or every class seen
    /// without a pair-routing gate.
    func answerClasses(slot: Int) -> Set<Int> {
        guard model.gate.configuration.pairRouting else { return seenClasses }
        return Set(model.gatePairs.filter { $0.slot == slot }.map(\.label))
    }
}

/// The column of the largest value among `columns` of row `r` (the first on ties).
private func best(_ m: Matrix, row r: Int, among columns: [Int]) -> Int {
    var choice = columns[0]
    var top = m[r, choice]
    for c in columns.dropFirst() where m[r, c] > top {
        choice = c
        top = m[r, c]
    }
    return choice
}
