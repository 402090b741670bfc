import Foundation
import Testing
import MoE
import TestSupport
@testable import Continual

@Suite("Learner judgement")
struct LearnerJudgementTests {
    /// A learner that met classes 0 and 1, then 1 and 2 (class 1 kept by two slots).
    func sharedClassLearner() throws -> (Learner, Blobs) {
        var blobs = Blobs(classes: 3, width: 20, seed: 12, spread: 1)
        let learner = try Learner.streamed(&blobs, experiences: [[0, 1], [1, 2]])
        return (learner, blobs)
    }

    @Test("each answer tried in a slot gives the mixture's prediction with it; the arbiter's own is the one served")
    func trials() throws {
        var (learner, blobs) = try sharedClassLearner()
        learner = learner.snapshot()
        #expect(learner.model.gate.slotCount >= 2)
        let (x, y) = blobs.batch(300, classes: [0, 1, 2])
        let scaled = learner.scaler?.transform(x) ?? x
        let pass = learner.model.forward(scaled)
        for s in 0..<learner.model.gate.slotCount {
            let answers = learner.answers(pass: pass, input: scaled, trying: s)
            #expect(Set(answers.trials.keys) == Set(AnswerArbiter.Answer.allCases))
            #expect(answers.trials[learner.arbiter.answer(slot: s)] == answers.predicted)
        }
        #expect(learner.answers(pass: pass, input: scaled).trials.isEmpty)

        // Judging slot 0 on these rows decides by the mixture's right answers under each
        // candidate, compared with the gate's by the arbiter's test.
        var judged = learner
        judged.judge(slot: 0, input: scaled, features: learner.model.gateFeatures(scaled), labels: y)
        let trials = learner.answers(pass: pass, input: scaled, trying: 0).trials
        func right(_ answer: AnswerArbiter.Answer) -> [Bool] { zip(trials[answer]!, y).map { $0 == $1 } }
        var expected = AnswerArbiter(settings: learner.configuration.arbiter)
        // Held rows count as the slot's classes would (`weighsHeldRowsByClass`).
        let weights = try #require(learner.classWeights(slot: 0, labels: y))
        expected.decide(slot: 0, gate: right(.gate), network: right(.network), product: right(.product), prior: right(.prior),
                        weights: weights)
        #expect(judged.arbiter.decided.first == expected.decided.first)
        #expect(judged.arbiter.answer(slot: 0) == expected.answer(slot: 0))
    }

    @Test("every routed slot's counts judge the answer the mixture serves; the row is a visit of its heaviest slot only")
    func countsTheMixture() throws {
        var (learner, blobs) = try sharedClassLearner()
        learner = learner.snapshot()
        let (x, y) = blobs.batch(300, classes: [0, 1, 2])
        let scaled = learner.scaler?.transform(x) ?? x
        let answers = learner.answers(pass: learner.model.forward(scaled), input: scaled, counting: true)
        #expect(answers.mixed.count == 300)
        var routedBeyondTop = 0
        for r in 0..<300 {
            let mixed = answers.mixed[r]
            #expect(mixed.first?.slot == answers.slots[r], "row \(r): the heaviest slot first")
            #expect(Set(mixed.map(\.slot)).count == mixed.count)
            routedBeyondTop += mixed.count - 1
            for m in mixed {
                // The slot's own answer reproduces the served one; with the gate in it and
                // the gate in every other slot, the mixture is the gate's discriminant.
                let own = [AnswerArbiter.Answer.gate: m.gate, .network: m.network, .product: m.product, .prior: m.prior]
                #expect(own[learner.arbiter.answer(slot: m.slot)] == answers.predicted[r])
                if (0..<learner.model.gate.slotCount).allSatisfy({ learner.arbiter.answer(slot: $0) == .gate }) {
                    #expect(m.gate == answers.course[r])
                }
            }
        }
        #expect(routedBeyondTop > 0, "class 1, kept by two slots, routes some rows to both")

        // Recorded: visits of the heaviest slot only, tallies of every routed slot.
        var recorded = learner
        recorded.recordArbiter(answers, labels: y, inputs: x, inRange: Array(repeating: true, count: 300))
        let before = learner.arbiter, after = recorded.arbiter
        for s in 0..<learner.model.gate.slotCount {
            let heaviest = answers.slots.filter { $0 == s }.count
            #expect((after.visits[s] - (s < before.visits.count ? before.visits[s] : 0)) == heaviest)
        }
        var expected = before
        for r in 0..<300 {
            for m in answers.mixed[r] {
                if m.slot == answers.slots[r] {
                    expected.record(slot: m.slot, label: y[r], gate: m.gate == y[r], network: m.network == y[r],
                                    product: m.product == y[r], prior: m.prior == y[r])
                } else {
                    expected.tally(slot: m.slot, gate: m.gate == y[r], network: m.network == y[r], product: m.product == y[r],
                                   prior: m.prior == y[r])
                }
            }
        }
        #expect(expected.network == after.network && expected.product == after.product && expected.prior == after.prior)

        // Settings saved before it existed count as before: the heaviest slot's own answers.
        let json = try JSONEncoder().encode(learner.configuration.arbiter)
        var object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        object["countsTheMixture"] = nil
        let old = try JSONDecoder().decode(AnswerArbiter.Settings.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(!old.countsTheMixture && learner.configuration.arbiter.countsTheMixture)
    }

    /// A learner whose slot 0 met classes 0 and 1 for more than `Holdout.startAfter` rows
    /// and was frozen when class 2 came: it has retained rows.
    func frozenSlotLearner() throws -> Learner {
        var c = LearnerConfiguration.small()
        c.refitEvery = LearnerConfiguration().refitEvery
        c.statisticsHalfLife = LearnerConfiguration().statisticsHalfLife
        var blobs = Blobs(classes: 3, width: 20, seed: 12, spread: 1)
        var learner = try Learner(configuration: c, inputWidth: 20, classCount: 2)
        for (classes, batches) in [([0, 1], 160), ([2], 20)] {
            for _ in 0..<batches {
                let (x, y) = blobs.batch(32, classes: classes)
                _ = try learner.observe(features: x, labels: y)
            }
        }
        return learner
    }

    @Test("a frozen slot's retained rows keep their gate features while the scaler's transform is the one they were computed under")
    func retainedFeaturesKept() throws {
        let learner = try frozenSlotLearner()
        let slot = try #require(learner.holdout.retainedSlotIDs.first)
        let kept = try #require(learner.retainedFeatures[slot])
        // The kept features are the ones computed again.
        var fresh = learner
        fresh.retainedFeatures = [:]
        #expect(fresh.retainedRows(slot: slot).features == kept.features)
        #expect(fresh.retainedFeatures[slot]?.features == kept.features)
        // They are used while the transform is theirs (a marked copy comes back), and
        // computed again when it is not (the scaler may have widened a feature since they
        // were kept: the copy computed again holds the transform of now).
        var marked = fresh
        let now = try #require(fresh.retainedFeatures[slot]).transform
        let zeros = Matrix(rows: kept.features.rows, columns: kept.features.columns)
        marked.retainedFeatures[slot] = .init(transform: now, features: zeros)
        #expect(marked.retainedRows(slot: slot).features == zeros)
        marked.retainedFeatures[slot] = .init(transform: .init(center: now.center.map { $0.map { $0 + 1 } },
                                                                inverseScale: now.inverseScale, knee: now.knee),
                                              features: zeros)
        #expect(marked.retainedRows(slot: slot).features == kept.features)
        // Judged with or without them, the same answers.
        var with = learner, without = learner
        without.retainedFeatures = [:]
        with.judgeHeldSlots()
        without.judgeHeldSlots()
        #expect(with.arbiter == without.arbiter)
    }

    @Test("held rows are weighed by their class's share of the slot's first visits over its share of the rows")
    func heldRowWeights() throws {
        let learner = try frozenSlotLearner()
        let samples = learner.arbiter.classSamples[0]
        let total = Double(samples.values.reduce(0, +))
        let labels = [0, 0, 0, 1]
        let weights = try #require(learner.classWeights(slot: 0, labels: labels))
        #expect(abs(weights[0] - Double(samples[0]!) / total / 0.75) < 1e-12)
        #expect(abs(weights[3] - Double(samples[1]!) / total / 0.25) < 1e-12)
        // Rows in the slot's own proportions weigh about 1 each; a slot never visited has none.
        #expect(learner.classWeights(slot: 7, labels: labels) == nil)
        #expect(learner.classWeights(slot: 0, labels: []) == nil)
    }

    @Test("a head that won its counts is vetoed when the head answering is more often right on the held rows")
    func heldRowsVetoHeads() throws {
        var learner = try frozenSlotLearner()
        let slot = try #require(learner.holdout.retainedSlotIDs.first)
        let (_, features, labels) = learner.retainedRows(slot: slot)
        #expect(Set(labels) == [0, 1])
        let weight = learner.model.gate.headWeight, bias = learner.model.gate.headBias
        // A head that names class 2 for every row.
        var always2 = Matrix(rows: 1, columns: bias.columns)
        for (column, pair) in learner.model.gatePairs.enumerated() { always2[0, column] = pair.label == 2 ? 100 : -100 }
        let constant = GateHead(weight: Matrix(rows: weight.rows, columns: weight.columns), bias: always2)
        // The held rows are of classes 0 and 1, which the head answering mostly gets right.
        var current = Matrix(rows: features.rows, columns: weight.columns)
        current.addRowVector(bias)
        current.addProduct(features, weight)
        #expect(labels.indices.filter { learner.discriminantAnswer(current, row: $0, among: nil) == labels[$0] }.count
                > labels.count / 2)
        learner.shrinkageHeads[1] = constant
        let vetoed = learner.heldRowsPreferCurrentHead(over: 1)
        #expect(vetoed)
        // The same head as the one answering disagrees nowhere: no veto. Nor without a head.
        learner.shrinkageHeads[1] = GateHead(weight: weight, bias: bias)
        let kept1 = learner.heldRowsPreferCurrentHead(over: 1)
        #expect(!kept1)
        learner.shrinkageHeads[1] = nil
        let kept2 = learner.heldRowsPreferCurrentHead(over: 1)
        #expect(!kept2)
        // With the constant head answering, the real one wins the held rows: no veto.
        learner.model.setClassHead(weight: constant.weight, bias: constant.bias)
        learner.shrinkageHeads[1] = GateHead(weight: weight, bias: bias)
        let kept3 = learner.heldRowsPreferCurrentHead(over: 1)
        #expect(!kept3)
        // A learner with no held rows never vetoes.
        var young = try Learner(configuration: .small(), inputWidth: 20, classCount: 2)
        var blobs = Blobs(classes: 2, width: 20, seed: 3, spread: 1)
        let (x, y) = blobs.batch(64, classes: [0, 1])
        _ = try young.observe(features: x, labels: y)
        young.shrinkageHeads[1] = GateHead(weight: Matrix(rows: young.model.gate.headWeight.rows,
                                                          columns: young.model.gate.headWeight.columns),
                                           bias: Matrix(rows: 1, columns: young.model.gate.headBias.columns))
        #expect(young.holdout.retainedSlotIDs.isEmpty && young.holdout.isEmpty)
        let kept4 = young.heldRowsPreferCurrentHead(over: 1)
        #expect(!kept4)
    }

    @Test("a full holdout's reservoir returns the rows it turns away by index, and pushed-out rows as data")
    func holdoutReservoir() throws {
        let g = SeededGenerator(seed: 5)
        let x = Matrix(rows: 40, columns: 2, scalars: (0..<80).map(Float.init))
        let labels = (0..<40).map { $0 % 3 }
        for returns in [true, false] {
            var holdout = Holdout(rate: 1, capacity: 4, width: 2)
            var g2 = g
            let left = holdout.keep(x, labels: labels, rows: Array(0..<40), returnsTurnedAway: returns, generator: &g2)
            #expect(holdout.count == 4 && holdout.seen == 40)
            // Every row is held, turned away or pushed out: 40 in all, none twice.
            #expect(holdout.count + left.turnedAway.count + left.labels.count == 40)
            #expect(left.features.count == 2 * left.labels.count)
            if returns {
                #expect(!left.turnedAway.isEmpty && left.turnedAway == left.turnedAway.sorted())
                // A row turned away is neither held nor among the pushed-out rows.
                let held = Set(stride(from: 0, to: holdout.scalars.count, by: 2).map { Int(holdout.scalars[$0]) / 2 })
                let pushed = Set(stride(from: 0, to: left.features.count, by: 2).map { Int(left.features[$0]) / 2 })
                #expect(held.isDisjoint(with: left.turnedAway) && pushed.isDisjoint(with: left.turnedAway))
                #expect(held.union(pushed).union(left.turnedAway) == Set(0..<40))
            } else {
                #expect(left.turnedAway.isEmpty)
            }
        }
    }

    @Test("rows a full holdout turns away are learned by the network; settings saved before left them to the gate")
    func holdoutTurnedAwayLearned() throws {
        // 48 batches of 128: the holdout starts after 4,096 rows and sets aside half of the
        // last 2,048, in a reservoir of 16.
        func stream(_ learns: Bool) throws -> Learner {
            var c = LearnerConfiguration.small()
            c.arbiter.holdoutRate = 0.5
            c.arbiter.holdoutCapacity = 16
            c.arbiter.holdoutLearnsTurnedAway = learns
            var learner = try Learner(configuration: c, inputWidth: 6, classCount: 2)
            var blobs = Blobs(classes: 2, width: 6, seed: 8)
            for _ in 0..<48 {
                let (x, y) = blobs.batch(128, classes: [0, 1])
                _ = try learner.observe(features: x, labels: y)
            }
            return learner
        }
        let now = try stream(true), before = try stream(false)
        let rows = 48 * 128
        #expect(now.model.experts.isEmpty && before.model.experts.isEmpty)
        #expect(now.holdout.count == 16 && before.holdout.count == 16)
        // Before: every row set aside was kept from the network (and the replay buffer).
        #expect(before.replay.seen == rows - before.holdout.seen, "\(before.replay.seen), \(before.holdout.seen)")
        // Now: only the rows the reservoir holds or pushed out (16 · ln(1,024 / 16) ≈ 67
        // expected) are.
        #expect(now.holdout.seen > 900)
        #expect(now.replay.seen < rows - 16 && now.replay.seen > rows - 16 - 150, "\(now.replay.seen)")
        // Saved, the setting reads back; a file saved before it existed reads it as off.
        let (written, read) = try configurationSavedBefore()
        #expect(read.arbiter.holdoutLearnsTurnedAway && (written["arbiter"] as? [String: Any])?["holdoutLearnsTurnedAway"] as? Bool == true)
        var arbiter = try #require(written["arbiter"] as? [String: Any])
        arbiter["holdoutLearnsTurnedAway"] = nil
        let old = try JSONDecoder().decode(AnswerArbiter.Settings.self, from: JSONSerialization.data(withJSONObject: arbiter))
        #expect(!old.holdoutLearnsTurnedAway)
    }

    @Test("a learner takes the head its snapshot fitted from the same statistics, with the bits of its own fit, once")
    func snapshotHeadTaken() throws {
        // Two learners built alike, each with its own memo.
        var (taking, blobs) = try sharedClassLearner()
        var (fitting, _) = try sharedClassLearner()
        try #require(taking.counters.headIsStale && taking.statistics!.pendingRows.count > 0)
        let snapshot = taking.snapshot()
        #expect(snapshot.profile.refits == taking.profile.refits + 1)
        taking.refitHead()
        fitting.refitHead()
        #expect(taking.profile.refits == fitting.profile.refits - 1)
        #expect(taking.model.gate.headWeight == fitting.model.gate.headWeight)
        #expect(taking.model.gate.headBias == fitting.model.gate.headBias)
        #expect(taking.model.gate.headWeight == snapshot.model.gate.headWeight)
        #expect(taking.statistics!.state == fitting.statistics!.state)
        #expect(taking.statistics!.generation == snapshot.statistics!.generation)
        #expect(taking.counters == fitting.counters)
        // Taken once: the next refit computes, and the two go on alike.
        let refits = taking.profile.refits
        taking.counters.headIsStale = true
        taking.refitHead()
        #expect(taking.profile.refits == refits + 1)
        for _ in 0..<10 {
            let (x, y) = blobs.batch(32, classes: [0, 1, 2])
            _ = try taking.observe(features: x, labels: y)
            _ = try fitting.observe(features: x, labels: y)
        }
        #expect(taking.model.gate.headWeight == fitting.model.gate.headWeight)
        #expect(taking.prequential == fitting.prequential)
        // A snapshot of other statistics is not taken.
        var other = fitting
        let (x, y) = blobs.batch(32, classes: [0, 2])
        _ = try other.observe(features: x, labels: y)
        _ = other.snapshot()
        fitting.counters.headIsStale = true
        let before = fitting.profile.refits
        fitting.refitHead()
        #expect(fitting.profile.refits == before + 1)
    }

    @Test("a save after an evaluation (a second snapshot, for /sections/served) leaves the snapshot's fit for the learner, and serves its head")
    func secondSnapshotLeavesHead() throws {
        var (taking, _) = try sharedClassLearner()
        var (fitting, _) = try sharedClassLearner()
        try #require(taking.counters.headIsStale)
        let evaluated = taking.snapshot()
        // The save snapshots again: it takes the fit and leaves it, fitting nothing.
        let checkpoint = taking.checkpoint()
        let served = try #require(checkpoint.sections["served"])
        #expect(try served.matrix("head_weight") == evaluated.model.gate.headWeight)
        #expect(try served.strings("slot_answers", count: taking.model.gate.slotCount)
                == (0..<taking.model.gate.slotCount).map { evaluated.arbiter.answer(slot: $0).rawValue })
        // The learner still takes it: one factorisation fewer, the same bits.
        taking.refitHead()
        fitting.refitHead()
        #expect(taking.profile.refits == fitting.profile.refits - 1)
        #expect(taking.model.gate.headWeight == fitting.model.gate.headWeight && taking.counters == fitting.counters)
        // The served section is derived: the learner read back from the file saves it again, bit for bit.
        let restored = try Learner(checkpoint: Checkpoint.decode(checkpoint.encoded()))
        #expect(restored.checkpoint().sections["served"] == served)
    }

    /// A gate of 256 features that chooses between plain OAS and a head over its first 2,
    /// with 500 replayed rows.
    private static func narrowHeadConfiguration() -> LearnerConfiguration {
        var c = LearnerConfiguration.small()
        c.gate = .classPosterior(features: 256)
        c.gateShrinkageBlends = [0]
        c.gateNarrowHeads = [1.0 / 128]
        c.replayCapacity = 500
        return c
    }

    /// A shrinkage choice whose counts chose the head over 2 features (as, kept on the
    /// class of the moment, they can).
    private static func narrowChoice() -> ShrinkageChoice {
        var choice = ShrinkageChoice(blends: [0], leading: [2])
        _ = choice.record(current: [Bool](repeating: false, count: 20), candidates: [1: [Bool](repeating: true, count: 20)],
                          samples: 20)
        return choice
    }

    @Test("in class order a head worse than plain OAS on the replayed rows, scored leave-one-out, gives way; shuffled, nothing is judged")
    func headJudgedOnReplayedRows() throws {
        let c = Self.narrowHeadConfiguration()
        // Four blobs in 20 dimensions: two random features cannot tell them apart, 256 can.
        var blobs = Blobs(classes: 4, width: 20, seed: 31, spread: 1)
        let batches = (0..<4).flatMap { k in (0..<10).map { _ in blobs.batch(32, classes: [k]) } }
        let test = blobs.batch(2000, classes: [0, 1, 2, 3])
        var inRuns = try Learner(configuration: c, inputWidth: 20, classCount: 4)
        for (x, y) in batches { _ = try inRuns.observe(features: x, labels: y) }
        // The counts are made to choose the head over 2 features (as, kept on the class of
        // the moment, they can); the judgement on the replayed rows is then due.
        func narrowChosen(_ learner: Learner, judging: Bool) throws -> Learner {
            var choice = Self.narrowChoice()
            if !judging {
                var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(choice)) as! [String: Any]
                object.removeValue(forKey: "judgesRunsOnReplayedRows")
                choice = try JSONDecoder().decode(ShrinkageChoice.self, from: JSONSerialization.data(withJSONObject: object))
            }
            var copy = learner
            copy.shrinkage = choice
            copy.counters.headIsStale = true
            return copy
        }
        var forced = try narrowChosen(inRuns, judging: true)
        #expect(forced.labelsComeInRuns && forced.shrinkage.current == 1 && forced.headJudgementPending)
        // The arbiter's counts last checked against the narrow head.
        let checked = AnswerArbiter.CheckKey(answer: forced.arbiter.countedAnswer(slot: 0), stopped: [], headSamples: 1280,
                                             headShrinkage: 1, runs: false)
        forced.arbiter.noteChecked(slot: 0, with: checked)
        // A copy made to predict judges it, drops it until the samples double, and plain
        // OAS answers; the counts' choices are checked against plain OAS; the learner
        // itself is unchanged.
        let ready = forced.snapshot()
        #expect(ready.shrinkage.current == 0 && !ready.shrinkage.active[1] && ready.shrinkage.retryAt[1] == 2560)
        #expect(!ready.headJudgementPending && forced.shrinkage.current == 1)
        #expect(ready.arbiter.checkedWith[0]?.headShrinkage == 0 && forced.arbiter.checkedWith[0] == checked)
        // So does the learner's own next refit.
        var refitted = forced
        refitted.refitHead()
        #expect(refitted.shrinkage == ready.shrinkage && refitted.model.gate.headWeight == ready.model.gate.headWeight)
        // Saved before judgements existed, the choice keeps the narrow head, which is worse.
        let unjudged = try narrowChosen(inRuns, judging: false)
        #expect(!unjudged.headJudgementPending && unjudged.snapshot().shrinkage.current == 1)
        let judgedAccuracy = forced.accuracy(features: test.0, labels: test.1)
        #expect(judgedAccuracy > unjudged.accuracy(features: test.0, labels: test.1) + 0.1)
        #expect(judgedAccuracy == inRuns.accuracy(features: test.0, labels: test.1))
        // The same rows shuffled: the counts are fair there, and nothing is judged.
        var order = SeededGenerator(seed: 5)
        let rows = batches.flatMap { b in (0..<32).map { (b.0.rows($0..<($0 + 1)), b.1[$0]) } }
        let shuffledRows = rows.indices.map { ($0, order.nextInt(below: 1 << 30)) }.sorted { $0.1 < $1.1 }.map { rows[$0.0] }
        var shuffled = try Learner(configuration: c, inputWidth: 20, classCount: 4)
        for start in stride(from: 0, to: shuffledRows.count, by: 32) {
            let part = shuffledRows[start..<(start + 32)]
            _ = try shuffled.observe(features: part.dropFirst().reduce(part.first!.0) { $0.concatenatingRows($1.0) }, labels: part.map(\.1))
        }
        let shuffledForced = try narrowChosen(shuffled, judging: true)
        #expect(!shuffledForced.labelsComeInRuns && !shuffledForced.headJudgementPending)
        #expect(shuffledForced.snapshot().shrinkage.current == 1)
        // A judgement is saved with the learner: stopped and resumed, the same state.
        let resumed = try Learner(checkpoint: Checkpoint.decode(try ready.checkpoint().encoded()))
        #expect(resumed.shrinkage == ready.shrinkage)
    }

    @Test("a snapshot that judges the head and then the prior reads the replayed rows' leave-one-out logits once, to the same bits")
    func replayedRowsReadOnce() throws {
        var blobs = Blobs(classes: 4, width: 20, seed: 31, spread: 1)
        var learner = try Learner(configuration: Self.narrowHeadConfiguration(), inputWidth: 20, classCount: 4)
        for k in 0..<4 {
            for _ in 0..<10 {
                let (x, y) = blobs.batch(32, classes: [k])
                _ = try learner.observe(features: x, labels: y)
            }
        }
        // The head over 2 features answers (as in the test above), so a copy made to
        // predict judges it on the replayed rows, then the slot's prior on the same rows.
        learner.shrinkage = Self.narrowChoice()
        learner.counters.headIsStale = true
        #expect(learner.headJudgementPending && learner.judgesPriors)
        let ready = learner.snapshot()
        let computed = learner.snapshot(memoising: false)
        #expect(ready.replayedRowsMemo == nil && ready.arbiter.priorJudged.contains { $0 != nil })
        #expect(ready.arbiter == computed.arbiter && ready.shrinkage == computed.shrinkage)
        #expect(ready.model.gate.headWeight == computed.model.gate.headWeight)
        let test = blobs.batch(400, classes: [0, 1, 2, 3])
        #expect(ready.predict(test.0) == computed.predict(test.0))
        // The head's judgement keeps the replayed rows' features and both heads' logits, and
        // the refit's flush of the pending rows keeps them valid: the prior's judgement, next,
        // reads the head's from the memo instead of factorising again.
        var judging = learner
        judging.replayedRowsMemo = ReplayedRowsMemo()
        judging.refreshHeadIfStale(remembering: true)
        var probe = judging
        probe.replayedRowsMemo = nil
        let statistics = try #require(probe.statistics)
        let read = probe.readReplayedRows(statistics, columns: probe.model.gatePairs.count)
        let kept = try #require(read).key
        let judged = try #require(judging.replayedRowsMemo)
        #expect(judged.features(for: kept) != nil)
        #expect(judged.logits(head: judging.shrinkage.current, for: kept) != nil && judged.logits(head: 0, for: kept) != nil)

        // The memo hands out what it kept only for the same statistics, replayed rows and columns.
        var memo = ReplayedRowsMemo()
        let key = ReplayedRowsMemo.Key(generation: 7, replaySeen: 100, replayRows: 50, columns: 4)
        let z = Matrix(rows: 2, columns: 4, repeating: 1)
        memo.keep(logits: z, head: 1, for: key)
        memo.keep(logits: nil, head: 0, for: key)
        #expect(memo.logits(head: 1, for: key) == .some(z) && memo.logits(head: 0, for: key) == .some(nil))
        #expect(memo.logits(head: 2, for: key) == nil && memo.features(for: key) == nil)
        var later = key
        later.replaySeen = 101
        #expect(memo.logits(head: 1, for: later) == nil)
        // Flushed statistics keep their values under a new generation; others are not followed.
        memo.statisticsFlushed(from: 6, to: 9)
        #expect(memo.logits(head: 1, for: key) == .some(z))
        memo.statisticsFlushed(from: 7, to: 8)
        var flushed = key
        flushed.generation = 8
        #expect(memo.logits(head: 1, for: flushed) == .some(z) && memo.logits(head: 1, for: key) == nil)
        memo.keep(features: z, for: later)
        #expect(memo.features(for: later) == z && memo.logits(head: 1, for: later) == nil)
    }

    @Test("features that say little of the label, in class order: the prior, judged on the replayed rows against the gate left one out, answers")
    func priorJudgedOnReplayedRows() throws {
        // Twenty dimensions whose class means differ by 0.2 standard deviations each, five
        // rows of class 0 for one of class 1, in class order: the best answer is nearly
        // always class 0, right five times in six, and a gate over 256 features fits the
        // noise and falls below it.
        var noise = Blobs(classes: 2, width: 20, seed: 41, spread: 0.2)
        let batches = (0..<20).map { _ in noise.batch(32, classes: [0]) } + (0..<4).map { _ in noise.batch(32, classes: [1]) }
        let test = noise.batch(1200, classes: [0, 0, 0, 0, 0, 1])
        let frequent = Double(test.1.filter { $0 == 0 }.count) / Double(test.1.count)
        func learner(growth: Bool, judging: Bool, shuffled: Bool = false, gateAlone: Bool = false) throws -> Learner {
            var c = LearnerConfiguration.small()
            if gateAlone { c.predictor = .discriminant }
            c.gate = .classPosterior(features: 256)
            c.replayCapacity = 500
            c.growth.enabled = growth
            c.arbiter.judgesPriorOnReplayedRows = judging
            var learner = try Learner(configuration: c, inputWidth: 20, classCount: 2)
            var order = SeededGenerator(seed: 9)
            let rows = batches.flatMap { b in (0..<32).map { (b.0.rows($0..<($0 + 1)), b.1[$0]) } }
            let stream = shuffled ? rows.indices.map { ($0, order.nextInt(below: 1 << 30)) }.sorted { $0.1 < $1.1 }.map { rows[$0.0] } : rows
            for start in stride(from: 0, to: stream.count, by: 32) {
                let part = stream[start..<(start + 32)]
                _ = try learner.observe(features: part.dropFirst().reduce(part.first!.0) { $0.concatenatingRows($1.0) }, labels: part.map(\.1))
            }
            return learner
        }
        // One slot keeps both classes: its prior is the stream's, and answers.
        let one = try learner(growth: false, judging: true)
        let oneReady = one.snapshot()
        #expect(one.judgesPriors && oneReady.arbiter.countsCannotJudgePrior(slot: 0) && oneReady.arbiter.answer(slot: 0) == .prior)
        #expect(one.accuracy(features: test.0, labels: test.1) == frequent)
        let unjudged = try learner(growth: false, judging: false)
        #expect(unjudged.snapshot().arbiter.answer(slot: 0) == .gate)
        #expect(unjudged.accuracy(features: test.0, labels: test.1) < frequent - 0.015)
        // With growth, an expert is grown when class 1 arrives and takes its rows: a slot's
        // prior names what its gate does there, and the stream's most frequent class answers.
        let grown = try learner(growth: true, judging: true)
        let grownReady = grown.snapshot()
        #expect(grown.model.experts.count >= 1 && grownReady.arbiter.answersMostFrequent)
        #expect(grown.accuracy(features: test.0, labels: test.1) == frequent)
        #expect(try learner(growth: true, judging: false).accuracy(features: test.0, labels: test.1) < frequent - 0.015)
        // The gate alone answers by its own posterior: nothing to judge.
        let gateAlone = try learner(growth: false, judging: true, gateAlone: true)
        #expect(!gateAlone.judgesPriors && gateAlone.snapshot().arbiter.priorJudged.isEmpty)
        #expect(gateAlone.accuracy(features: test.0, labels: test.1) == unjudged.accuracy(features: test.0, labels: test.1))
        // The same rows shuffled: the counts judge the prior, and nothing is judged here.
        let shuffled = try learner(growth: false, judging: true, shuffled: true).snapshot()
        #expect(!shuffled.arbiter.countsCannotJudgePrior(slot: 0) && shuffled.arbiter.priorJudged.allSatisfy { $0 == nil })
        // Saved and resumed: the same judgement, the same answers.
        let resumed = try Learner(checkpoint: Checkpoint.decode(try grown.checkpoint().encoded()))
        #expect(resumed.arbiter == grown.arbiter && resumed.counters == grown.counters)
        #expect(resumed.predict(test.0) == grown.predict(test.0))
    }

    @Test("an answer the counts chose is checked on the replayed samples of the classes the stream stopped showing")
    func stoppedClassesChecked() throws {
        var c = LearnerConfiguration.small()
        c.growth.enabled = false
        c.replayCapacity = 400
        // Batches of 32 with a full replay per step: the network this check was written
        // against (replaying in proportion, the counts' product is another answer to veto).
        c.replayFollowsRows = nil
        var blobs = Blobs(classes: 4, width: 20, seed: 5, spread: 1)
        var learner = try Learner(configuration: c, inputWidth: 20, classCount: 1)
        for k in 0..<4 {
            for _ in 0..<10 {
                let (x, y) = blobs.batch(32, classes: [k])
                _ = try learner.observe(features: x, labels: y)
            }
        }
        // 1,280 visits in class order: classes 0 and 1 have not come for 640 or more (the
        // window is 512), class 2 for 320.
        #expect(learner.arbiter.stoppedClasses(slot: 0) == [0, 1])
        // Counts that favour the network on the class the stream shows now.
        for _ in 0..<400 { learner.arbiter.record(slot: 0, label: 3, gate: false, network: true, product: false, prior: false) }
        #expect(learner.arbiter.countedAnswer(slot: 0) == .network)
        // 400 visits later class 2 has stopped too.
        let stopped = learner.arbiter.stoppedClasses(slot: 0)
        #expect(stopped == [0, 1, 2])
        learner.checkStoppedClasses()
        // The check: the mixture with each answer in slot 0, on the slot's replayed rows,
        // those of the stopped classes apart, all of them weighed by class.
        let rows = learner.replay.labels.indices.filter { learner.replay.tags[$0] == 0 }
        #expect(rows.count == learner.replay.count)
        let x = try #require(learner.scaler).transform(learner.replay.features.gatherRows(rows))
        let y = rows.map { learner.replay.labels[$0] }
        #expect(y.contains { stopped.contains($0) })
        let trials = learner.answers(pass: learner.model.forward(x), input: x, trying: 0).trials
        func right(_ answer: AnswerArbiter.Answer) -> [Bool] { zip(trials[answer]!, y).map { $0 == $1 } }
        var expected = learner.arbiter
        let weights = try #require(learner.classWeights(slot: 0, labels: y))
        expected.check(slot: 0, gate: right(.gate), network: right(.network), product: right(.product), prior: right(.prior),
                       replayed: (stopped: y.map { stopped.contains($0) }, weights: weights))
        #expect(learner.arbiter.stoppedCheck == expected.stoppedCheck)
        let check = try #require(learner.arbiter.stoppedCheck.first ?? nil)
        let replayed = try #require(check.replayed?[.network])
        let vetoed = check.network.losses > check.network.wins || replayed.advantage < -learner.arbiter.settings.replayedZ
        #expect(learner.arbiter.answer(slot: 0) == (vetoed ? .gate : .network))
        // Without the check on every replayed row (settings saved before it), the stopped
        // classes' rows alone, as before.
        var before = learner
        before.arbiter = try JSONDecoder().decode(AnswerArbiter.self, from: JSONEncoder().encode(learner.arbiter).withoutSetting("checksReplayedRows"))
        before.checkStoppedClasses(slot: 0, answer: .network)
        let stoppedRows = y.indices.filter { stopped.contains(y[$0]) }
        var stoppedOnly = learner.arbiter
        func rightOn(_ answer: AnswerArbiter.Answer) -> [Bool] { stoppedRows.map { right(answer)[$0] } }
        stoppedOnly.check(slot: 0, gate: rightOn(.gate), network: rightOn(.network), product: rightOn(.product), prior: rightOn(.prior))
        #expect(before.arbiter.stoppedCheck.first??.replayed == nil)
        #expect(before.arbiter.stoppedCheck == stoppedOnly.stoppedCheck)
        // Nothing it compares moved (the answer, the classes, the head): not made again.
        var again = learner
        again.arbiter.check(slot: 0, gate: nil, network: [], product: [], prior: [])
        again.checkStoppedClasses()
        #expect(again.arbiter.stoppedCheck.first == .some(nil))
        // The gate chosen by the counts: nothing to check.
        var quiet = learner
        for _ in 0..<800 { quiet.arbiter.record(slot: 0, label: 3, gate: true, network: false, product: true, prior: true) }
        quiet.checkStoppedClasses()
        #expect(quiet.arbiter.stoppedCheck.first == .some(nil) && quiet.arbiter.answer(slot: 0) == quiet.arbiter.countedAnswer(slot: 0))
    }
}

extension LearnerJudgementTests {
    @Test("a slot whose labels come shuffled is not checked on its replayed rows; the same rows in runs are")
    func replayCheckOnlyInRuns() throws {
        var c = LearnerConfiguration.small()
        c.growth.enabled = false
        c.replayCapacity = 400
        func learner(runs: Bool) throws -> Learner {
            var blobs = Blobs(classes: 4, width: 20, seed: 7, spread: 1)
            var learner = try Learner(configuration: c, inputWidth: 20, classCount: 1)
            for k in 0..<24 {
                let (x, y) = runs ? blobs.batch(32, classes: [k % 4]) : blobs.batch(32, classes: [0, 1, 2, 3])
                _ = try learner.observe(features: x, labels: y)
            }
            // Counts that favour the network, on labels taking turns (no run among them).
            for i in 0..<400 { learner.arbiter.record(slot: 0, label: i % 4, gate: false, network: true, product: false, prior: false) }
            return learner
        }
        var shuffled = try learner(runs: false)
        #expect(!shuffled.arbiter.labelsComeInRuns(slot: 0) && shuffled.arbiter.stoppedClasses(slot: 0).isEmpty)
        shuffled.checkStoppedClasses()
        #expect(shuffled.arbiter.stoppedCheck.first == .some(nil) && shuffled.arbiter.answer(slot: 0) == .network)
        // Four classes taking turns a batch each: in runs, none stopped; every replayed row is checked.
        var inRuns = try learner(runs: true)
        #expect(inRuns.arbiter.labelsComeInRuns(slot: 0) && inRuns.arbiter.stoppedClasses(slot: 0).isEmpty)
        inRuns.checkStoppedClasses()
        let check = try #require(inRuns.arbiter.stoppedCheck.first ?? nil)
        let replayed = try #require(check.replayed?[.network])
        // The network, trained on the class of the moment, is well behind the gate on
        // them: vetoed, whatever its counts.
        #expect(replayed.advantage < -inRuns.arbiter.settings.z)
        #expect(inRuns.arbiter.answer(slot: 0) != .network && inRuns.arbiter.countedAnswer(slot: 0) == .network)
        #expect(inRuns.arbiter.checkedWith.first??.runs == true)
    }
}

extension Data {
    /// This JSON object with `key` taken out of its `settings` (a file saved before the setting existed).
    func withoutSetting(_ key: String) throws -> Data {
        var object = try JSONSerialization.jsonObject(with: self) as! [String: Any]
        var settings = object["settings"] as! [String: Any]
        settings.removeValue(forKey: key)
        object["settings"] = settings
        return try JSONSerialization.data(withJSONObject: object)
    }
}
