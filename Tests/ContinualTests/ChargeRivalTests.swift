import Foundation
import MoE
import Testing
@testable import Continual

@Suite("A frozen slot keeps a row only against a rival pair")
struct ChargeRivalTests {
    /// Two domains of five classes over 12 features, visited A B A B, `rows` rows each in
    /// batches of 32. Classes 0-3 lift two features each, which domain B gives to the
    /// next class (so one discriminant cannot serve both), and B lifts features 10 and 11
    /// on every row (so the inputs move and an expert grows). Class 4 lifts every
    /// feature, which no such change touches: Fashion-MNIST's bags, which the features of
    /// every pixel permutation tell apart.
    static func stream(rows: Int = 1280) -> [(x: Matrix, labels: [Int], domain: Int)] {
        var g = SeededGenerator(seed: 29)
        let lifted: [[[Int]]] = [[[0, 1], [2, 3], [4, 5], [6, 7]], [[2, 3], [4, 5], [6, 7], [0, 1]]]
        var batches: [(x: Matrix, labels: [Int], domain: Int)] = []
        for d in [0, 1, 0, 1] {
            for _ in 0..<(rows / 32) {
                var x = Matrix(rows: 32, columns: 12)
                var labels: [Int] = []
                for r in 0..<32 {
                    for j in 0..<12 { x[r, j] = g.nextNormal() }
                    let c = g.nextInt(below: 5)
                    labels.append(c)
                    if d == 1 { x[r, 10] += 4; x[r, 11] += 4 }
                    if c < 4 {
                        for j in lifted[d][c] { x[r, j] += 4 }
                    } else {
                        for j in 0..<12 { x[r, j] += 4 }
                    }
                }
                batches.append((x, labels, d))
            }
        }
        return batches
    }

    /// The learner after the stream, and the share of B's return routed to slot 1.
    static func streamed(rival: Bool?) throws -> (learner: Learner, returnToOwnSlot: Double) {
        var c = LearnerConfiguration.small()
        c.gate = .classPosterior(features: 16)
        c.chargeNeedsRival = rival
        var learner = try Learner(configuration: c, inputWidth: 12, classCount: 5)
        let batches = stream()
        var own = 0, rows = 0
        for (i, batch) in batches.enumerated() {
            let step = try learner.observe(features: batch.x, labels: batch.labels)
            if i >= 3 * batches.count / 4 {
                own += step.routed.count > 1 ? step.routed[1] : 0
                rows += step.samples
            }
        }
        return (learner, Double(own) / Double(rows))
    }

    /// Samples of pair (slot, class) in the gate's statistics.
    static func samples(_ learner: Learner, slot: Int, label: Int) -> Double {
        guard let column = learner.model.gatePairs.firstIndex(where: { $0.slot == slot && $0.label == label }) else { return 0 }
        return learner.statistics?.counts[column] ?? 0
    }

    @Test("a new domain's rows of a class every domain shares go to the slot in charge until it has a pair of that class; returns are routed home")
    func sharedClassJoinsTheNewSlot() throws {
        let with = try Self.streamed(rival: true), without = try Self.streamed(rival: nil)
        // The same growth: one expert, on B's first visit.
        #expect(with.learner.history.growths.map(\.sample) == without.learner.history.growths.map(\.sample))
        #expect(with.learner.model.experts.count == 1)
        // B's class-4 rows: without the rule they join the trunk's pair of class 4, which
        // answered them right before slot 1 had one (measured: 92 of them reach slot 1's
        // pair, and the trunk's pair holds 942 samples); with it, slot 1's pair is
        // made at once and holds three times as many (283).
        let rivalled = Self.samples(with.learner, slot: 1, label: 4), kept = Self.samples(without.learner, slot: 1, label: 4)
        #expect(rivalled > 2 * kept, "slot 1's class 4: \(rivalled) with the rule, \(kept) without")
        #expect(Self.samples(with.learner, slot: 0, label: 4) < Self.samples(without.learner, slot: 0, label: 4))
        // The classes the slots did not share are where they were.
        for label in 0..<4 {
            #expect(abs(Self.samples(with.learner, slot: 1, label: label) - Self.samples(without.learner, slot: 1, label: label)) <= 16)
        }
        // B's return goes to B's slot more often (measured: 0.895 against 0.834).
        #expect(with.returnToOwnSlot > without.returnToOwnSlot, "\(with.returnToOwnSlot) against \(without.returnToOwnSlot)")
        #expect(with.returnToOwnSlot >= 0.85, "\(with.returnToOwnSlot)")
        // On by default and saved; a configuration saved before it existed reads it as off.
        let saved = try configurationSavedBefore("chargeNeedsRival")
        #expect(saved.written["chargeNeedsRival"] as? Bool == true && saved.read.chargeNeedsRival == nil)
        #expect(try Learner(checkpoint: without.learner.checkpoint()).configuration.chargeNeedsRival == nil)
        #expect(try Learner(checkpoint: with.learner.checkpoint()).configuration.chargeNeedsRival == true)
    }

    @Test("a slot grown for new labels leaves the old classes' rows with the slots that answer them")
    func novelSlotLeavesOldClasses() throws {
        // `LearnerCourseTests`' stream: classes 0 and 1, then class 2 among them, which
        // grows an expert for new labels; the old classes keep coming.
        let with = try LearnerCourseTests.learner(), without = try LearnerCourseTests.learner { $0.chargeNeedsRival = nil }
        #expect(!with.history.growths.isEmpty && with.history.growths.allSatisfy { $0.trigger == "novelty" })
        let same = LearnerCourseTests.learned(with) == LearnerCourseTests.learned(without)
        #expect(same, "pairs \(with.model.gatePairs) against \(without.model.gatePairs)")
    }
}
