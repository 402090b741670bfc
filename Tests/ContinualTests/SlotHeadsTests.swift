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
        let heads = try #require(learner.model.gate.slotHeads)
        #expect(heads.slots == Array(0..<learner.model.gate.slotCount))

        let x = learner.scaler?.transform(Self.probe()) ?? Self.probe()
        let own = learner.model.forward(x).gate!
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

    @Test("the own head of a slot is refitted when it is frozen, then when its samples double")
    func frozenSlotRefittedOnceThenOnDoubling() throws {
        let learner = try Self.learner()
        let inCharge = learner.slotInCharge
        let own = try #require(learner.slotStatistics[0])
        // The trunk's slot, frozen by the growth, was fitted once more after it: on what it
        // held then, which later first visits it answered right add to.
        let fitted = try #require(learner.slotHeadSamples[0])
        #expect(fitted <= own.sampleCount && own.sampleCount < 2 * fitted)
        #expect(inCharge == 1)
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
            var checkpoint = good
            change(&checkpoint.sections["slot_statistics"]!)
            do {
                _ = try Learner(checkpoint: checkpoint)
                return "accepted"
            } catch {
                return "\(error)"
            }
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
    }
}
