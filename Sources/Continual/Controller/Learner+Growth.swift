import Logging
import MoE

// Growth, and who is in charge of what: the growth policy's decision after a batch, the
// slot in charge of each sample, and the gate's statistics over (slot, class) pairs.
extension Learner {
    /// Asks the growth policy, grows when it says so, and records the decision.
    ///
    /// - Returns: The decision when a trigger fired (nil on a quiet batch).
    mutating func decideGrowth(
        novelty: Bool, drifted: Bool, batchSamples: Int, batchErrors: Int, novel: [Int], scalerRows: ScalerRows?,
        report: inout DetectorReport?, logger: Logger?
    ) -> GrowthDecision? {
        if report == nil { report = configuration.detectors.report(tracker) }
        let detectors = (0..<model.hiddenLayerCount).map { l in
            report!.layers.first { $0.layer == l }?.detectors.map(\.neuron) ?? []
        }
        let policy = configuration.growth
        // What the scaler saw, with this batch and (when a reference starts) before it.
        let seen = scaler.map { InputMoments($0) }
        func beforeBatch() -> InputMoments? { scalerRows.flatMap { rows in seen?.removing(rows.rows) } }
        // The inputs before the drift: kept while it is pending; when this batch raises
        // it, everything the scaler saw before this batch.
        var reference = policyState.driftReference
        var classReference = driftClassReference
        if reference == nil, drifted, policy.onDrift, policyState.pendingDriftSample == nil, let before = beforeBatch(),
           let scalerRows {
            reference = before
            if keepsClassMoments { classReference = scalerRows.removingRows(from: classMoments) }
        }
        let shift = reference.flatMap { seen?.shift(since: $0) }
        let classShift = keepsClassMoments ? classReference.flatMap { InputMoments.shift(byClass: classMoments, since: $0) } : nil
        let scored = course ?? prequential
        // The inputs before the error rate rose to the stagnation rate: kept while it stays.
        let measuresStagnation = policy.stagnationNeedsInputShift == true && policy.minimumInputShift != nil
        let stagnationShift = measuresStagnation ? policyState.stagnationReference.flatMap { seen?.shift(since: $0) } : nil
        let observation = GrowthPolicy.Observation(
            samples: counters.firstVisits, batchSamples: batchSamples, novelty: novelty, drift: drifted, batchErrors: batchErrors,
            errorRate: 1 - (scored.windowedAccuracy ?? 1), detectors: detectors,
            experts: model.experts.count, parameters: model.parameterCount,
            expertParameters: (0..<model.hiddenLayerCount).map {
                expertParameters(layer: $0, detectors: min(detectors[$0].count, policy.maxDetectors))
            }, inputShift: shift, labelsComeInRuns: policy.recentRuns == true
                ? arbiter.labelsComeInRecentRuns(slot: slotInCharge) : arbiter.labelsComeInRuns(slot: slotInCharge), classInputShift: classShift,
            errorRateSamples: scored.windowedSamples >= scored.windowSize ? nil : scored.windowedSamples,
            stagnationInputShift: stagnationShift)
        var decision = policy.decide(observation, state: &policyState)
        if !measuresStagnation || policyState.bestErrorRate == nil {
            policyState.stagnationReference = nil
        } else if policyState.stagnationReference == nil {
            policyState.stagnationReference = beforeBatch()
        }
        policyState.driftReference = policyState.pendingDriftSample == nil ? nil : reference
        driftClassReference = policyState.pendingDriftSample == nil || !keepsClassMoments ? nil : classReference
        // A new concept: the replayed samples of the slot in charge teach the old labels.
        if decision.newConcept == true { replay.forget(tag: slotInCharge) }
        guard decision.trigger != nil else {
            history.record(decision)
            return nil
        }
        if case let .grow(layer, chosen) = decision.outcome {
            let frozenSlot = slotInCharge
            let expert = model.grow(
                at: layer, detectors: chosen, hiddenWidth: configuration.expertWidth, depth: configuration.expertDepth,
                classes: novelty ? Set(novel) : nil, context: configuration.expertContext, generator: &generator)
            // Frozen parameters never step again: their optimizer state goes.
            optimizer.forget(model.frozen)
            // The frozen slot's own statistics: started (the first growth), kept, or
            // dropped when too small to fit a head (`Learner+SlotHeads.swift`).
            slotFrozen(frozenSlot)
            // A new slot is in charge: its error rate starts over; the one that stops
            // learning is judged on its holdout.
            drift.reset()
            if holdout.slot == frozenSlot { judgeHoldout(nextSlot: slotInCharge) }
            if novelty {
                decision.reason = "labels never seen (\(novel.map(classLabel).joined(separator: ", "))) arrived and layer \(layer) has \(detectors[layer].count) significant detectors"
            }
            let layerReport = report!.layers.first { $0.layer == layer }
            history.recordGrowth(.init(
                expert: expert, batch: batchNumber, sample: counters.firstVisits, layer: layer, detectors: chosen,
                classes: novelty ? novel : [],
                rho: chosen.compactMap { n in layerReport?.detectors.first { $0.neuron == n }?.rho },
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
        return decision
    }

    /// Whether the slot in charge was grown because the inputs moved (a drift or
    /// stagnation growth), not for new labels: a new domain's slot.
    var slotInChargeGrewOnShift: Bool {
        history.growths.last.map { $0.trigger != GrowthDecision.Trigger.novelty.rawValue } ?? false
    }

    /// The slot in charge of each row: the slot that answered it, when the answer was
    /// right (and, in a new domain's slot, when that slot had a pair of the row's class to
    /// rival it); otherwise the slot in charge.
    ///
    /// A sample a frozen slot already knows stays that slot's (a returning domain is
    /// routed to its own expert and grows nothing); a sample no frozen slot gets right —
    /// a new class, a new domain, a hard case — is learned by the slot in charge. Where
    /// the slot in charge was grown because the inputs moved and has no pair of the
    /// class, the gate's choice of a frozen slot weighed nothing against it, and the row
    /// goes to the slot in charge too (``LearnerConfiguration/chargeNeedsRival``):
    /// otherwise a class that features every domain shares tell apart (a new
    /// permutation's bags) joins the trunk's pair of that class, and each later domain's
    /// rows of it follow. A slot grown for new labels owns those; the old classes' rows
    /// stay with the slots that answer them.
    func slotsInCharge(answering: [Int], correct: [Bool], labels: [Int]) -> [Int] {
        let inCharge = slotInCharge
        guard configuration.chargeNeedsRival == true, slotInChargeGrewOnShift else {
            return answering.indices.map { r in correct[r] ? answering[r] : inCharge }
        }
        let rivals = Set(model.gatePairs.lazy.filter { $0.slot == inCharge }.map(\.label))
        return answering.indices.map { r in
            correct[r] && (answering[r] == inCharge || rivals.contains(labels[r])) ? answering[r] : inCharge
        }
    }

    /// Adds first-visit rows to the gate's statistics under their (slot, class) pairs.
    mutating func addToGateStatistics(pass: MixtureOfExperts.Forward, input: Matrix, rows: [Int], labels: [Int], slots: [Int]) {
        guard statistics != nil else { return }
        let all = pass.gate?.features ?? model.gateFeatures(input)
        addToGateStatistics(features: all, rows: rows.count == all.rows ? nil : rows,
                            pairs: rows.map { GatePair(slot: slots[$0], label: labels[$0]) })
    }

    /// Adds rows `rows` of `features` (all of them when nil) to the pooled statistics and
    /// their slots' own, under `pairs` (one per row); a pair never seen gets a head column
    /// and the head is refitted at once.
    mutating func addToGateStatistics(features: Matrix, rows: [Int]?, pairs: [GatePair]) {
        var columns: [Int] = []
        columns.reserveCapacity(pairs.count)
        var added = false
        for pair in pairs {
            if let column = model.gateColumn(of: pair) {
                columns.append(column)
            } else {
                columns.append(model.addGatePair(pair))
                added = true
            }
        }
        var share = slotStatistics.isEmpty ? ScatterShare.off : ScatterShare()
        addToSlotStatistics(features: features, rows: rows, columns: columns, sharing: &share)
        statistics!.update(features: features, rows: rows, labels: columns, sharing: &share)
        counters.samplesSinceRefit += pairs.count
        counters.headIsStale = true
        if added { refitHead() }
    }

    /// Whether some (slot, class) pair has at least twice the samples it had when the
    /// head was last fitted (with `refitOnDoubling`).
    var pairEvidenceDoubled: Bool {
        guard configuration.refitOnDoubling == true, let statistics, let before = counters.pairCountsAtRefit else { return false }
        let counts = statistics.counts
        for c in counts.indices where c < before.count && before[c] > 0 && counts[c] >= 2 * before[c] { return true }
        return false
    }

    /// Refits the head if samples were added since the last fit; `remembering` keeps
    /// the fit in ``headMemo`` for the learner this is a snapshot of.
    mutating func refreshHeadIfStale(remembering: Bool = false) {
        if counters.headIsStale { refitHead(remembering: remembering) }
    }

    /// Fits the gate's head from the statistics (a shrunk linear discriminant), or takes
    /// the fit a snapshot made from the same statistics (``HeadMemo``).
    mutating func refitHead(remembering: Bool = false) {
        guard self.statistics.map({ $0.sampleCount > 1 }) ?? false else { return }
        let columns = model.gate.configuration.pairRouting ? model.gatePairs.count : model.classCount
        // Four times as many samples as features (the span; as many in configurations
        // saved before it): OAS alone from now on (`ShrinkageChoice.settle()`).
        let span = configuration.gateShrinkageChoiceSpan ?? 1
        if let held = self.statistics, held.sampleCount >= span * Double(held.featureCount), shrinkage.blending {
            _ = shrinkage.settle()
            shrinkageHeads = [:]
        }
        // A copy made to predict judges on every sample so far; when that changes its head,
        // the fit is not the learner's and is not kept for it.
        let rechosen = judgeHeadsOnReplayedRows(columns: columns, beforePredicting: remembering)
        if rechosen { shrinkageHeads = [:] }
        let form = (blend: shrinkage.blends[shrinkage.current], leading: shrinkage.leading[shrinkage.current])
        if !rechosen, let kept = headMemo.take(generation: self.statistics!.generation, columns: columns,
                                                blend: form.blend, leading: form.leading) {
            // A second snapshot of the same learner (a save after an evaluation) leaves
            // the fit for the learner, as the first did, and fits no candidates either.
            if remembering { headMemo.store(kept) }
            self.statistics = kept.statistics
            model.setClassHead(weight: kept.weight, bias: kept.bias)
            if !remembering { fitShrinkageCandidates(kept.statistics, columns: columns) }
            counters.pairCountsAtRefit = kept.statistics.counts
            counters.samplesSinceRefit = 0
            counters.headIsStale = false
            refitSlotHeads(columns: columns, judging: !remembering)
            return
        }
        let generation = self.statistics!.generation
        var clock = PhaseClock()
        // The pending rows join the totals now: the fit needs their scatter anyway, and
        // it is then computed once rather than again at the next flush. While they are
        // all there is and few (a stream's first rows), the fit reads them as they are.
        var share = slotStatistics.isEmpty ? ScatterShare.off : ScatterShare()
        if !self.statistics!.fitsFromPendingRows {
            self.statistics!.flush(sharing: &share)
            replayedRowsMemo?.statisticsFlushed(from: generation, to: self.statistics!.generation)
        }
        let statistics = self.statistics!
        defer {
            let spent = clock.lap()
            profile.refit += spent
            profile.refits += 1
            profile.flops["refit", default: 0] += clock.work()
        }
        do {
            let (weight, bias) = try fitChoice(shrinkage.current, statistics, columns: columns)
            guard weight.isFinite && bias.isFinite else {
                // Keep the previous head; the statistics may support a fit later.
                history.record(LearnerHistory.Fault(
                    kind: .unsoundHead, batch: counters.batches, sample: counters.samples,
                    detail: "the discriminant fit over \(Int(statistics.sampleCount)) samples gave a non-finite head", rate: nil))
                counters.pairCountsAtRefit = statistics.counts
                counters.samplesSinceRefit = 0
                return
            }
            model.setClassHead(weight: weight, bias: bias)
            if remembering && !rechosen {
                headMemo.store(.init(generation: generation, columns: columns, blend: form.blend, leading: form.leading,
                                     statistics: statistics, weight: weight, bias: bias))
            } else {
                fitShrinkageCandidates(statistics, columns: columns)
            }
            counters.pairCountsAtRefit = statistics.counts
            counters.samplesSinceRefit = 0
            counters.headIsStale = false
            refitSlotHeads(columns: columns, judging: !remembering, sharing: &share)
        } catch {
            // Too few samples to fit yet: keep the previous head and try again when some
            // pair's samples double (without its counts, doubling never fired again and
            // the next try waited for `refitEvery` samples).
            counters.pairCountsAtRefit = statistics.counts
            counters.samplesSinceRefit = 0
        }
    }

    /// Whether the stream's labels come in runs in some slot (`AnswerArbiter.labelsComeInRuns(slot:)`):
    /// then the counts a head is chosen by see the class of the moment.
    var labelsComeInRuns: Bool {
        arbiter.visits.indices.contains { arbiter.labelsComeInRuns(slot: $0) }
    }

    /// Whether a copy made to predict would judge the gate's head on the replayed rows
    /// (``judgeHeadsOnReplayedRows(columns:beforePredicting:)``): in a stream whose labels
    /// come in runs, a head other than plain OAS answers and a sample came since its last
    /// judgement.
    var headJudgementPending: Bool { headJudgementDue(beforePredicting: true) }

    /// Whether the gate's head is due to be judged on the replayed rows now
    /// (``ShrinkageChoice/judgementDue(samples:classes:beforePredicting:)``, in a stream
    /// whose labels come in runs, by a gate that routes by pairs).
    func headJudgementDue(beforePredicting: Bool) -> Bool {
        guard let statistics, model.gate.configuration.pairRouting,
              shrinkage.judgementDue(samples: statistics.sampleCount, classes: statistics.classes.count,
                                     beforePredicting: beforePredicting) else { return false }
        return labelsComeInRuns
    }

    /// Judges the gate's head answering against plain OAS over all its features on the
    /// replayed rows, each scored by the head fitted without it
    /// (``ClassStatistics/leaveOneOutLogits(_:labels:shrinkage:classCount:)``), when the
    /// stream's labels come in runs and a judgement is due
    /// (``ShrinkageChoice/judgementDue(samples:classes:beforePredicting:)``, in a copy made
    /// `beforePredicting` whenever a sample came since the last); returns whether the
    /// head answering changed (``ShrinkageChoice/judge(right:samples:classes:)``). Only
    /// rows whose (slot, class) pair the statistics hold are scored: every replayed row
    /// joined the statistics under that pair when it came.
    mutating func judgeHeadsOnReplayedRows(columns: Int, beforePredicting: Bool = false) -> Bool {
        guard headJudgementDue(beforePredicting: beforePredicting), let statistics else { return false }
        var clock = PhaseClock()
        defer { profile.flops["refit", default: 0] += clock.work() }
        guard let read = readReplayedRows(statistics, columns: columns) else { return false }
        let labels = read.labels
        var right: [Int: [Bool]] = [:]
        for k in Set([shrinkage.plain, shrinkage.current]).sorted() {
            guard let z = memoisedLeaveOneOutLogits(head: k, read, statistics: statistics) else { continue }
            right[k] = labels.indices.map { discriminantAnswer(z, row: $0, among: nil) == labels[$0] }
        }
        return shrinkage.judge(right: right, samples: statistics.sampleCount, classes: statistics.classes.count)
    }

    /// The replayed rows the statistics hold, as the judgements on them read them.
    struct ReplayedRowsRead {
        /// Their labels and the gate columns of their (slot, class) pairs.
        let labels: [Int]
        let pairColumns: [Int]
        /// The rows scaled, and through the gate's random features.
        let scaled: Matrix
        let features: Matrix
        /// The memo's key for them (``ReplayedRowsMemo``).
        let key: ReplayedRowsMemo.Key
    }

    /// The replayed rows the statistics hold (``replayedRowsInStatistics(_:)``) for a head
    /// of `columns` columns, their gate features kept while a snapshot judges; nil when
    /// they show fewer than two classes (rows of one class tell answers apart by nothing
    /// but their bias).
    mutating func readReplayedRows(_ statistics: ClassStatistics, columns: Int) -> ReplayedRowsRead? {
        let (rows, pairColumns) = replayedRowsInStatistics(statistics)
        let labels = rows.map { replay.labels[$0] }
        guard Set(labels).count > 1 else { return nil }
        let key = ReplayedRowsMemo.Key(generation: statistics.generation, replaySeen: replay.seen, replayRows: replay.count,
                                       columns: columns)
        let raw = replay.features.gatherRows(rows)
        let scaled = scaler?.transform(raw) ?? raw
        let features: Matrix
        if let kept = replayedRowsMemo?.features(for: key) {
            features = kept
        } else {
            features = model.gateFeatures(scaled)
            replayedRowsMemo?.keep(features: features, for: key)
        }
        return ReplayedRowsRead(labels: labels, pairColumns: pairColumns, scaled: scaled, features: features, key: key)
    }

    /// The replayed rows whose (slot, class) pair the statistics hold, and that pair's gate
    /// column: every replayed row joined the statistics under its pair when it came.
    func replayedRowsInStatistics(_ statistics: ClassStatistics) -> (rows: [Int], columns: [Int]) {
        var rows: [Int] = [], pairColumns: [Int] = []
        for r in replay.labels.indices {
            guard let column = model.gateColumn(of: GatePair(slot: replay.tags[r], label: replay.labels[r])),
                  column < statistics.classCount, statistics.counts[column] > 0 else { continue }
            rows.append(r)
            pairColumns.append(column)
        }
        return (rows, pairColumns)
    }

    /// ``leaveOneOutLogits(head:features:pairColumns:statistics:columns:)`` of the replayed
    /// rows `read`, kept while a snapshot judges: judging the head and then the prior, it
    /// reads the current head's twice.
    mutating func memoisedLeaveOneOutLogits(head k: Int, _ read: ReplayedRowsRead, statistics: ClassStatistics) -> Matrix? {
        if let kept = replayedRowsMemo?.logits(head: k, for: read.key) { return kept }
        let z = leaveOneOutLogits(head: k, features: read.features, pairColumns: read.pairColumns, statistics: statistics,
                                  columns: read.key.columns)
        replayedRowsMemo?.keep(logits: z, head: k, for: read.key)
        return z
    }

    /// The logits of head `k` of the shrinkage choice (its blend over all the gate's
    /// features, or OAS over the leading ones) for rows the statistics hold (their gate
    /// `features`, under `pairColumns`), each as the head fitted without it would give them
    /// (``ClassStatistics/leaveOneOutLogits(_:labels:shrinkage:classCount:)``); nil when
    /// the fit fails or is not finite.
    func leaveOneOutLogits(head k: Int, features: Matrix, pairColumns: [Int], statistics: ClassStatistics,
                           columns: Int) -> Matrix? {
        var x = features, held = statistics
        if let m = shrinkage.leading[k], m < statistics.featureCount {
            x = features.gatherColumns(Array(0..<m))
            held = statistics.leading(m)
        }
        guard let z = try? held.leaveOneOutLogits(x, labels: pairColumns, shrinkage: shrinkage.shrinkage(k), classCount: columns),
              z.isFinite else { return nil }
        return z
    }

    /// Whether a copy made to predict judges the prior on the replayed rows
    /// (``judgePriorsOnReplayedRows()``): the mixture predicts (the gate alone answers by
    /// its own posterior), and some slot answering from its counts cannot judge it there
    /// (`AnswerArbiter.priorJudgedSlots`) or chose it where they can
    /// (`AnswerArbiter.countedPriorJudgedSlots`).
    var judgesPriors: Bool {
        guard configuration.predictor == .mixture, arbiter.settings.judgesPriorOnReplayedRows, arbiter.settings.enabled,
              arbiter.settings.fixed == nil,
              model.gate.configuration.pairRouting, let statistics, statistics.sampleCount > 1 else { return false }
        return !arbiter.priorJudgedSlots.isEmpty || !arbiter.countedPriorJudgedSlots.isEmpty
    }

    /// Judges, in every slot whose counts cannot (`AnswerArbiter.priorJudgedSlots`), the mixture with
    /// the slot's prior answering against the mixture with its gate answering, on every
    /// replayed row, each weighed as its class's share of the stream over its share of the
    /// rows, with the gate's head logits of each row those of the head fitted without it:
    /// neither answer has then learned the row, as on a holdout's. The arbiter answers with
    /// the prior there when it is ahead by `holdoutZ` standard errors
    /// (`AnswerArbiter.answer(slot:)`). The same in every slot whose counts chose the prior
    /// where they can judge it (`AnswerArbiter.countedPriorJudgedSlots`): there the gate
    /// answers instead when it is that far ahead. Then the stream's most frequent class
    /// is judged against the mixture the slots make, on the same rows
    /// (`AnswerArbiter.answersMostFrequent`). Only a copy made to predict judges
    /// (``snapshot()``): what the learner answers while it learns, and so which slot is in
    /// charge of what and when it grows, is as it was.
    mutating func judgePriorsOnReplayedRows() {
        guard judgesPriors, let statistics else { return }
        let slots = arbiter.priorJudgedSlots
        var clock = PhaseClock()
        defer { profile.flops["refit", default: 0] += clock.work() }
        let counted = arbiter.countedPriorJudgedSlots
        func judgeNothing() {
            for slot in counted { arbiter.noteCountedPriorJudged(slot: slot, gate: nil, prior: [], weights: []) }
            for slot in slots { arbiter.notePriorJudged(slot: slot, gate: nil, prior: [], weights: []) }
            arbiter.noteMostFrequentJudged(mixture: nil, mostFrequent: [], weights: [])
        }
        guard model.takesPrecomputedGateFeatures, let read = readReplayedRows(statistics, columns: model.gatePairs.count)
        else { return judgeNothing() }
        let labels = read.labels, x = read.scaled
        // Each row counts as its class's share of the stream over its share of the rows:
        // the reservoir is a uniform sample of the stream until a concept is forgotten,
        // which restarts it from the rows that remain.
        let weights = Self.classWeights(labels: labels, shares: arbiter.streamClassShares)
        guard let z = memoisedLeaveOneOutLogits(head: shrinkage.current, read, statistics: statistics),
              z.columns == model.gate.headWeight.columns else { return judgeNothing() }
        let pass = model.forward(x, gateFeatures: read.features, gateHeadLogits: z)
        for slot in slots {
            guard let right = rightWithEachAnswer(slot: slot, pass: pass, input: x, labels: labels) else { continue }
            arbiter.notePriorJudged(slot: slot, gate: right.gate, prior: right.prior, weights: weights)
        }
        for slot in counted {
            guard let right = rightWithEachAnswer(slot: slot, pass: pass, input: x, labels: labels) else { continue }
            arbiter.noteCountedPriorJudged(slot: slot, gate: right.gate, prior: right.prior, weights: weights)
        }
        // Then the stream's most frequent class against the mixture the slots now make.
        let mixture = answers(pass: pass, input: x, ignoringMostFrequent: true).predicted
        let frequent = mostFrequentClass(among: nil)
        arbiter.noteMostFrequentJudged(mixture: zip(mixture, labels).map { $0 == $1 }, mostFrequent: labels.map { $0 == frequent },
                                       weights: weights)
    }

    /// Fits the head of every blend still tried beside the current one (see
    /// `ShrinkageChoice`); a snapshot's refit, which learns nothing, fits none.
    mutating func fitShrinkageCandidates(_ statistics: ClassStatistics, columns: Int) {
        shrinkageHeads = [:]
        shrinkage.wake(samples: statistics.sampleCount)
        for k in shrinkage.candidates {
            guard let (weight, bias) = try? fitChoice(k, statistics, columns: columns),
                  weight.isFinite && bias.isFinite else { continue }
            shrinkageHeads[k] = GateHead(weight: weight, bias: bias)
        }
    }

    /// The head of choice `k` (`ShrinkageChoice`): its blend over all the gate's
    /// features, or OAS over the leading ones, the weight's other rows zero (the gate
    /// multiplies every feature; zeros leave the logits those of the narrow discriminant).
    func fitChoice(_ k: Int, _ statistics: ClassStatistics, columns: Int) throws(DiscriminantError) -> (weight: Matrix, bias: Matrix) {
        guard let m = shrinkage.leading[k], m < statistics.featureCount else {
            return try statistics.fitDiscriminant(shrinkage: shrinkage.shrinkage(k), classCount: columns)
        }
        let (narrow, bias) = try statistics.leading(m).fitDiscriminant(shrinkage: shrinkage.shrinkage(k), classCount: columns)
        var weight = Matrix(rows: statistics.featureCount, columns: columns)
        weight.scalars.replaceSubrange(0..<(m * columns), with: narrow.scalars)
        return (weight, bias)
    }

    /// Scores every candidate head on a first-visit batch, before anything learns from
    /// it, against the head the gate answers with (the gate alone's answer: the class
    /// with the most posterior mass), and answers with a candidate once it wins its
    /// counts, unless the held rows prefer the head answering (then the next candidate
    /// that wins, if any, is tried).
    mutating func chooseShrinkage(pass: MixtureOfExperts.Forward, labels: [Int]) {
        guard shrinkage.choosing, !shrinkageHeads.isEmpty, let features = pass.gate?.features,
              let z = pass.gate?.headLogits else { return }
        // Only rows of classes the statistics already hold in at least half the average
        // share: the first rows of a new class reward whichever head names new classes
        // most readily, and a class-incremental stream shows little else.
        let perClass = classCounts()
        let total = perClass.values.reduce(0, +)
        let floor = perClass.isEmpty ? 0 : total / Double(perClass.count) / 2
        let rows = labels.indices.filter { (perClass[labels[$0]] ?? 0) >= floor && floor > 0 }
        guard !rows.isEmpty else { return }
        func right(_ logits: Matrix) -> [Bool] { rows.map { discriminantAnswer(logits, row: $0, among: nil) == labels[$0] } }
        var candidates: [Int: [Bool]] = [:]
        for (k, head) in shrinkageHeads where head.weight.columns == z.columns && head.weight.rows == features.columns {
            candidates[k] = right(head.logits(features))
        }
        let previous = shrinkage.current
        var vetoed: Set<Int> = []
        while true {
            var trial = shrinkage
            let won = trial.record(current: right(z), candidates: candidates, samples: statistics?.sampleCount ?? 0,
                                   excluding: vetoed)
            if let won, trial.checksHeldRows, heldRowsPreferCurrentHead(over: won) {
                vetoed.insert(won)
                continue
            }
            shrinkage = trial
            if let won { _ = takeCandidateHead(won, replacing: previous) }
            break
        }
        keepCandidateHeadsOnly()
    }

    /// Whether the head answering is right more often than candidate `k`'s where they
    /// disagree on the held rows (frozen slots' retained rows and the holdout of the slot
    /// in charge), which are not in the statistics any head was fitted on. The counts are
    /// kept on the rows a stream shows, and in class order that is one class: a head that
    /// names it more readily wins them whatever it does to the others. ggplot2's diamonds
    /// in class order (five cuts, 40,456 rows) at 256 rows a batch chose the head over 128
    /// features on the last cut's rows, and the gate scored 0.607 where OAS over all the
    /// features scores 0.713; the held rows of the earlier cuts veto it (0.710). No
    /// stream shorter than a slot's first 4,096 samples has held rows: there the counts
    /// decide alone.
    mutating func heldRowsPreferCurrentHead(over k: Int) -> Bool {
        guard let head = shrinkageHeads[k] else { return false }
        let answering = GateHead(weight: model.gate.headWeight, bias: model.gate.headBias)
        var current: [Bool] = [], candidate: [Bool] = []
        func score(_ features: Matrix, _ labels: [Int]) {
            guard !labels.isEmpty, head.weight.rows == features.columns else { return }
            let a = head.logits(features), c = answering.logits(features)
            for r in labels.indices {
                candidate.append(discriminantAnswer(a, row: r, among: nil) == labels[r])
                current.append(discriminantAnswer(c, row: r, among: nil) == labels[r])
            }
        }
        for s in holdout.retainedSlotIDs {
            let (_, features, labels) = retainedRows(slot: s)
            score(features, labels)
        }
        if !holdout.isEmpty {
            let x = scaler?.transform(holdout.features) ?? holdout.features
            score(model.gateFeatures(x), holdout.labels)
        }
        let t = AnswerArbiter.tally(gate: current, candidate)
        return t.losses > t.wins
    }

    /// A class new to the stream arrived: a narrow head answering gives way to the head
    /// over all the gate's features (``ShrinkageChoice/widen()``).
    mutating func widenHeadForNewClasses() {
        let previous = shrinkage.current
        guard let plain = shrinkage.widen() else { return }
        if !takeCandidateHead(plain, replacing: previous) {
            counters.headIsStale = true
            refitHead()
        }
        keepCandidateHeadsOnly()
    }

    /// Makes candidate `k`'s head, fitted at the last refit, the gate's, and keeps the
    /// head it replaces as candidate `previous`'s; false (nothing changed) when `k` has
    /// no fitted head.
    mutating func takeCandidateHead(_ k: Int, replacing previous: Int) -> Bool {
        guard let head = shrinkageHeads[k] else { return false }
        shrinkageHeads[previous] = GateHead(weight: model.gate.headWeight, bias: model.gate.headBias)
        shrinkageHeads[k] = nil
        model.setClassHead(weight: head.weight, bias: head.bias)
        return true
    }

    /// Drops the heads of candidates no longer tried: a dropped candidate's head is fitted
    /// again when it is tried again; kept, it would only be saved (and a checkpoint reads
    /// the heads of the candidates still tried).
    mutating func keepCandidateHeadsOnly() {
        shrinkageHeads = shrinkageHeads.filter { shrinkage.candidates.contains($0.key) }
    }

    /// Parameters an expert with `detectors` detectors at hidden layer `layer` would add.
    func expertParameters(layer: Int, detectors: Int) -> Int {
        let context = model.contextWidth(configuration.expertContext, at: layer)
        let h = configuration.expertWidth
        return (detectors + context + 1) * h + (configuration.expertDepth - 1) * (h + 1) * h + (h + 1) * model.classCount
    }
}

/// A gate head: the discriminant's weight (`features x columns`) and bias (`1 x columns`).
struct GateHead: Sendable {
    var weight: Matrix
    var bias: Matrix

    /// The head's logits on rows of gate `features`.
    func logits(_ features: Matrix) -> Matrix {
        var z = Matrix(rows: features.rows, columns: weight.columns)
        z.addRowVector(bias)
        z.addProduct(features, weight)
        return z
    }
}
