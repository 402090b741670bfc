import Foundation
import MoE
import Testing
@testable import Continual

@Suite("Each slot's own covariance")
struct SlotHeadsTests {
    /// The stream of ``LearnerCourseTests``: two classes, then a third that grows an
    /// expert; with the small configuration's gate of 64 features both slots pass 64
    /// samples, so both answer with their own heads.
    static func learner(batches: Int? = nil, _ change: (inout LearnerConfiguration) -> Void = { _ in }) throws -> Learner {
        var c = LearnerConfiguration.small()
        c.replayCapacity = 200
        change(&c)
        var learner = try Learner(configuration: c, inputWidth: 8, classCount: 3)
        for (x, y) in LearnerCourseTests.stream().prefix(batches ?? .max) { _ = try learner.observe(features: x, labels: y) }
        return learner
    }

    static func probe() -> Matrix {
        var g = SeededGenerator(seed: 5)
        var x = Matrix(rows: 64, columns: 8)
        x.apply { _ in g.nextNormal() }
        for r in stride(from: 0, to: 64, by: 3) { x[r, 3] += 5; x[r, 4] += 5 }
        return x
    }

    @Test("each slot's statistics hold its own pairs, which add up to the gate's; a slot's head keeps its mass and splits it by its own fit")
    func slotHeadsFollowTheirStatistics() throws {
        let learner = try Self.learner().snapshot()
        #expect(learner.model.experts.count >= 1)
        let statistics = try #require(learner.statistics)
        #expect(learner.slotStatistics.keys.sorted() == Array(0..<learner.model.gate.slotCount))
        // Every pair's samples are in its own slot's statistics, and only there.
        for (column, pair) in learner.model.gatePairs.enumerated() {
            for (slot, own) in learner.slotStatistics {
                let n = column < own.counts.count ? own.counts[column] : 0
                #expect(n == (slot == pair.slot ? statistics.counts[column] : 0), "pair \(pair) in slot \(slot)")
            }
        }
        var heads = try #require(learner.model.gate.slotHeads)
        #expect(heads.slots == Array(0..<learner.model.gate.slotCount))
        // Made to answer for every fitted slot (here none won its counts: see
        // `answerOnceTheyWin`).
        heads.answering = heads.slots
        var answering = learner.model
        answering.gate.slotHeads = heads

        let x = learner.scaler?.transform(Self.probe()) ?? Self.probe()
        let own = answering.forward(x).gate!
        var pooledModel = learner.model
        pooledModel.gate.slotHeads = nil
        let pooled = pooledModel.forward(x).gate!
        // The same masses, bit for bit: routing is the pooled head's.
        #expect(own.probabilities == pooled.probabilities)
        // Inside each slot, the split is the slot's own discriminant's softmax.
        let phi = try #require(own.features)
        let ownLogits = GateHead(weight: heads.weight, bias: heads.bias).logits(phi)
        var differs = false
        for s in heads.slots {
            let columns = learner.model.gatePairs.indices.filter { learner.model.gatePairs[$0].slot == s }
            for r in 0..<x.rows {
                let adjusted = logSoftmax(columns.map { own.headLogits![r, $0] })
                let expected = logSoftmax(columns.map { ownLogits[r, $0] })
                for (a, e) in zip(adjusted, expected) { #expect(abs(a - e) <= 1e-4) }
                let before = logSoftmax(columns.map { pooled.headLogits![r, $0] })
                if zip(adjusted, before).contains(where: { abs($0 - $1) > 1e-3 }) { differs = true }
            }
        }
        #expect(differs, "the own heads split no slot's mass otherwise than the pooled one")
    }

    /// Two experiences of three classes, a gate over 16 random features: by default the
    /// second experience's features share one strong common factor the first's lack, so
    /// its own covariance whitens it where the pooled one, averaged with the first, does
    /// so by half. Experience `k`'s rows are `ε + loadings[k] f`, with `shifts[k]` added
    /// to the feature of the row's class, `rows` rows each.
    static func correlatedStream(loadings: [[Float]] = [[0, 0, 0, 0, 0, 0], [3, 3, 3, 3, 3, 3]],
                                 shifts: [Float] = [3, 1.5], rows count: Int = 1500) -> [(Matrix, [Int])] {
        var g = SeededGenerator(seed: 23)
        var rows: [(features: [Float], label: Int)] = []
        for (k, loading) in loadings.enumerated() {
            for _ in 0..<count {
                let label = 3 * k + g.nextInt(below: 3)
                let factor: Float = loading.contains { $0 != 0 } ? g.nextNormal() : 0
                var features = (0..<6).map { i in g.nextNormal() + loading[i] * factor }
                features[label % 3] += shifts[k]
                rows.append((features, label))
            }
        }
        return stride(from: 0, to: rows.count, by: 32).map { start in
            let part = rows[start..<min(start + 32, rows.count)]
            return (Matrix(part.map(\.features)), part.map(\.label))
        }
    }

    /// Two experiences whose features share a common factor with different loadings,
    /// 6,000 rows each: one growth, and the trunk's slot holds rows back.
    static func twoFactors() -> [(Matrix, [Int])] {
        correlatedStream(loadings: [[3, 3, 3, 3, 3, 3], [3, 3, 3, -3, -3, -3]], shifts: [1.5, 1.5], rows: 6000)
    }

    /// A learner of 16 random features over `stream`.
    static func correlatedLearner(_ stream: [(Matrix, [Int])] = correlatedStream()) throws -> Learner {
        var c = LearnerConfiguration.small()
        c.hidden = [16]
        c.gate = .classPosterior(features: 16)
        c.gateNarrowHeads = nil
        var learner = try Learner(configuration: c, inputWidth: 6, classCount: 6)
        for (x, y) in stream { _ = try learner.observe(features: x, labels: y) }
        return learner
    }

    @Test("an own head answers once it is right significantly more often than the pooled head on rows not yet learned from, and not before")
    func answerOnceTheyWin() throws {
        var learner = try Self.correlatedLearner([])
        var answeredAt: Int?
        for (k, (x, y)) in Self.correlatedStream().enumerated() {
            _ = try learner.observe(features: x, labels: y)
            let heads = learner.model.gate.slotHeads
            if answeredAt == nil, heads?.answering.contains(learner.slotInCharge) == true { answeredAt = k }
            // A slot answers with its own head only after its counts put it ahead.
            for s in heads?.answering ?? [] where !(heads?.slots.contains(s) ?? false) || learner.slotHeadTallies[s] == nil {
                Issue.record("slot \(s) answers with a head it has no counts for")
            }
        }
        #expect(learner.model.experts.count >= 1)
        let heads = try #require(learner.model.gate.slotHeads)
        let inCharge = learner.slotInCharge
        #expect(heads.answering.contains(inCharge), "\(heads.slots) fitted, \(heads.answering) answering")
        let tally = try #require(learner.slotHeadTallies[inCharge])
        #expect(tally.advantage > ShrinkageChoice.z, "\(tally)")
        // It answered some batches into the second experience (its rows start in batch
        // 46): fitted first, then ahead in its counts.
        let answered = try #require(answeredAt)
        #expect(answered > 47, "answering from batch \(answered)")
        // The stream of `learner()`: heads fitted, none ahead, the pooled split answers.
        let quiet = try Self.learner()
        let quietHeads = try #require(quiet.model.gate.slotHeads)
        #expect(!quietHeads.slots.isEmpty && quietHeads.answering.isEmpty, "\(quietHeads.slots), \(quietHeads.answering)")
        var pooled = quiet
        pooled.model.gate.slotHeads = nil
        #expect(quiet.model.forward(Self.probe()).gate!.headLogits == pooled.model.forward(Self.probe()).gate!.headLogits)
    }

    /// A learner of the course stream with 24 batches of the third class and 12 of a
    /// fourth: two growths.
    static func twoGrowths() throws -> Learner {
        var c = LearnerConfiguration.small()
        c.replayCapacity = 200
        var learner = try Learner(configuration: c, inputWidth: 8, classCount: 4)
        for (x, y) in LearnerCourseTests.stream(thirdBatches: 24, fourthBatches: 12) { _ = try learner.observe(features: x, labels: y) }
        return learner
    }

    @Test("a frozen slot whose head did not win while in charge keeps its head and drops its statistics; the trunk's slot keeps them")
    func frozenSlotDropsItsStatistics() throws {
        // Two growths: the second slot's head, fitted while it was in charge, did not win
        // its counts before the second froze it.
        let learner = try Self.twoGrowths()
        #expect(learner.slotInCharge == 2)
        #expect(learner.slotStatistics[1] == nil && learner.slotHeadSamples[1] == nil)
        let heads = try #require(learner.model.gate.slotHeads)
        #expect(heads.slots.contains(1) && !heads.answering.contains(1), "\(heads.slots), \(heads.answering)")
        // The pooled statistics hold its samples; it does not take its own up again.
        let pooled = try #require(learner.statistics)
        #expect(learner.model.gatePairs.indices.contains { learner.model.gatePairs[$0].slot == 1 && pooled.counts[$0] > 0 })
        // The trunk's slot, whose head was born at its freeze, keeps them for its held
        // rows to judge; the slot in charge keeps its own.
        #expect(learner.slotStatistics[0] != nil && learner.slotStatistics[2] != nil)
    }

    @Test("the trunk's slot, which keeps its statistics, is refitted when it is frozen, then when its samples double")
    func frozenSlotRefittedOnceThenOnDoubling() throws {
        let learner = try Self.learner()
        #expect(learner.slotInCharge == 1)
        let own = try #require(learner.slotStatistics[0])
        // Frozen by the growth, it was fitted once more after it: on what it held then,
        // which later first visits it answered right add to.
        let fitted = try #require(learner.slotHeadSamples[0])
        #expect(fitted <= own.sampleCount && own.sampleCount < 2 * fitted)
    }

    @Test("a frozen slot's head is judged against the pooled head on the slot's held rows: it answers when ahead, and gives way when behind")
    func frozenSlotJudgedOnHeldRows() throws {
        var learner = try Self.correlatedLearner(Self.twoFactors())
        #expect(learner.slotInCharge == 1 && learner.holdout.retainedSlotIDs.contains(0))
        let fitted = try #require(learner.model.gate.slotHeads)
        let zero = learner.model.gatePairs.indices.filter { learner.model.gatePairs[$0].slot == 0 }
        #expect(zero.count >= 2)
        let weight = learner.model.gate.headWeight, bias = learner.model.gate.headBias
        // The pooled head with slot 0's columns rotated: the slot keeps its mass (a sum
        // over its columns) and splits it wrongly.
        var rotatedWeight = weight, rotatedBias = bias
        for (k, c) in zero.enumerated() {
            let from = zero[(k + 1) % zero.count]
            for i in 0..<weight.rows { rotatedWeight[i, c] = weight[i, from] }
            rotatedBias[0, c] = bias[0, from]
        }
        // Slot 0's own head is the pooled head as it was; the pooled one, rotated.
        var heads = fitted
        for c in zero {
            for i in 0..<weight.rows { heads.weight[i, c] = weight[i, c] }
            heads.bias[0, c] = bias[0, c]
        }
        heads.answering.removeAll { $0 == 0 }
        learner.model.setClassHead(weight: rotatedWeight, bias: rotatedBias)
        learner.judgeSlotHeadsOnHeldRows(&heads)
        #expect(heads.answering.contains(0), "\(heads.answering)")
        // The other way round: the own head rotated, the pooled one as it was.
        for c in zero {
            for i in 0..<weight.rows { heads.weight[i, c] = rotatedWeight[i, c] }
            heads.bias[0, c] = rotatedBias[0, c]
        }
        learner.model.setClassHead(weight: weight, bias: bias)
        learner.judgeSlotHeadsOnHeldRows(&heads)
        #expect(!heads.answering.contains(0), "\(heads.answering)")
        // The slot in charge is not judged there: its first visits are its test.
        let inCharge = heads.answering.contains(1)
        learner.judgeSlotHeadsOnHeldRows(&heads)
        #expect(heads.answering.contains(1) == inCharge)
    }

    @Test("a slot frozen with fewer samples than the gate has features keeps no statistics and answers with the pooled head")
    func tooSmallAtFreeze() throws {
        // 768 rows before the third class arrives, a gate over 1,024 features: the trunk's
        // slot is frozen with fewer samples than features.
        let learner = try Self.learner { $0.gate = .classPosterior(features: 1024) }
        #expect(learner.model.experts.count >= 1)
        let statistics = try #require(learner.statistics)
        #expect(statistics.sampleCount > 0 && learner.slotStatistics[0] == nil)
        #expect(learner.slotStatistics[learner.slotInCharge] != nil)
        #expect(!(learner.model.gate.slotHeads?.slots.contains(0) ?? false))
    }

    @Test("without the setting (configurations saved before it) no slot keeps statistics and every slot answers with the pooled head")
    func offKeepsThePooledHead() throws {
        let learner = try Self.learner { $0.slotHeads = nil }
        #expect(learner.model.experts.count >= 1)
        #expect(learner.slotStatistics.isEmpty && learner.model.gate.slotHeads == nil)
        let data = try JSONEncoder().encode(LearnerConfiguration.small())
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        object["slotHeads"] = nil
        let old = try JSONDecoder().decode(LearnerConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.slotHeads == nil)
    }

    @Test("slot statistics and heads are saved: a learner resumed after growth continues bit for bit")
    func savedAndResumed() throws {
        let batches = LearnerCourseTests.stream()
        let whole = try Self.learner()
        let first = try Self.learner(batches: 30)
        #expect(!first.slotStatistics.isEmpty)
        var resumed = try Learner(checkpoint: Checkpoint.decode(try first.checkpoint().encoded()))
        #expect(resumed.model.gate.slotHeads == first.model.gate.slotHeads)
        #expect(resumed.slotHeadSamples == first.slotHeadSamples)
        #expect(resumed.slotHeadTallies.filter { $0.value != AnswerArbiter.Tally() }
                    == first.slotHeadTallies.filter { $0.value != AnswerArbiter.Tally() })
        for (x, y) in batches.dropFirst(30) { _ = try resumed.observe(features: x, labels: y) }
        #expect(LearnerCourseTests.learned(resumed) == LearnerCourseTests.learned(whole))
        #expect(resumed.model.gate.slotHeads == whole.model.gate.slotHeads)
        #expect(resumed.slotStatistics.mapValues(\.state) == whole.slotStatistics.mapValues(\.state))
        #expect(resumed.snapshot().predict(Self.probe()) == whole.snapshot().predict(Self.probe()))
    }

    @Test("a learner saved before slot statistics existed resumes with the pooled head in its old slots")
    func resumedWithoutSlotStatistics() throws {
        let first = try Self.learner(batches: 30)
        var checkpoint = try Checkpoint.decode(try first.checkpoint().encoded())
        checkpoint.sections["slot_statistics"] = nil
        var resumed = try Learner(checkpoint: checkpoint)
        #expect(resumed.slotStatistics.isEmpty && resumed.model.gate.slotHeads == nil)
        for (x, y) in LearnerCourseTests.stream().dropFirst(30) { _ = try resumed.observe(features: x, labels: y) }
        // Both slots had samples in the pooled statistics: neither can know its own part.
        #expect(resumed.slotStatistics.isEmpty && resumed.model.gate.slotHeads == nil)
    }

    @Test("a crafted slot statistics section is refused with a sentence naming what is wrong")
    func craftedSectionsRefused() throws {
        let first = try Self.learner(batches: 30)
        let good = try Checkpoint.decode(try first.checkpoint().encoded())
        func refusal(_ change: (inout CheckpointSection) -> Void) -> String {
            CheckpointFixtures.learnerRefusal(good, section: "slot_statistics", change)
        }
        let noSlot = refusal { $0.children["7"] = $0.children["0"] }
        #expect(noSlot.contains("/sections/slot_statistics/7") && noSlot.contains("not a slot"), "\(noSlot)")
        let foreign = refusal { $0.children["1"] = $0.children["0"] }
        #expect(foreign.contains("/sections/slot_statistics/1/counts"), "\(foreign)")
        let fitted = refusal { $0.insert(.doubles([1e9, 1e9]), at: "fitted_samples") }
        #expect(fitted.contains("fitted_samples") || fitted.contains("fitted_slots"), "\(fitted)")
        let weight = refusal { $0.insert(.float32(Matrix(rows: 3, columns: 2)), at: "head_weight") }
        #expect(weight.contains("head_weight"), "\(weight)")
        let stray = refusal { $0.insert(.integers([0, 0]), at: "head_slots") }
        #expect(stray.contains("/sections/slot_statistics/head_weight"), "\(stray)")
        let answering = refusal { $0.insert(.integers([7]), at: "head_answering") }
        #expect(answering.contains("/sections/slot_statistics/head_answering"), "\(answering)")
        let counts = refusal { $0.insert(.doubles([-1, .nan]), at: "head_wins") }
        #expect(counts.contains("/sections/slot_statistics/head_wins"), "\(counts)")
        let length = refusal { $0.insert(.doubles([1, 2, 3, 4, 5, 6, 7, 8, 9]), at: "head_losses") }
        #expect(length.contains("head_losses"), "\(length)")
        // A head kept without statistics (the second slot of `twoGrowths`) cannot be said
        // by a file saved before the counts.
        let retiring = try Self.twoGrowths()
        #expect(retiring.slotStatistics[1] == nil && retiring.model.gate.slotHeads?.slots.contains(1) == true)
        var retired = try Checkpoint.decode(try retiring.checkpoint().encoded())
        for name in ["head_answering", "head_wins", "head_losses"] { retired.sections["slot_statistics"]!.datasets[name] = nil }
        do {
            _ = try Learner(checkpoint: retired)
            Issue.record("a head without statistics in a file without counts was accepted")
        } catch {
            #expect("\(error)".contains("/sections/slot_statistics/head_weight"), "\(error)")
        }
        // A file saved before the counts, every head with statistics (the course
        // stream's): every head answers.
        let whole = try Self.learner()
        #expect(whole.model.gate.slotHeads?.slots == [0, 1] && whole.slotStatistics.keys.sorted() == [0, 1])
        var old = try Checkpoint.decode(try whole.checkpoint().encoded())
        for name in ["head_answering", "head_wins", "head_losses"] { old.sections["slot_statistics"]!.datasets[name] = nil }
        let resumed = try Learner(checkpoint: old)
        #expect(resumed.model.gate.slotHeads?.answering == resumed.model.gate.slotHeads?.slots)
        #expect(resumed.slotHeadTallies.isEmpty)
    }
}
