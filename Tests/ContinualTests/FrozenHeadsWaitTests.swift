import Foundation
import MoE
import Testing
@testable import Continual

@Suite("A frozen slot's head is not judged by a new domain's first rows")
struct FrozenHeadsWaitTests {
    /// The gate's features: a new domain's slot is young for this many samples.
    static let features = 128

    /// The trunk's slot's tally of its own head against the pooled one after every batch
    /// of `ChargeRivalTests`' stream (domains A B A B over 12 features, an expert grown on
    /// B's first visit), with each batch's first sample.
    static func streamed(waiting: Bool?) throws -> (learner: Learner, starts: [Int], tallies: [AnswerArbiter.Tally?]) {
        var c = LearnerConfiguration.small()
        c.gate = .classPosterior(features: features)
        c.frozenHeadsWaitForNewDomain = waiting
        var learner = try Learner(configuration: c, inputWidth: 12, classCount: 5)
        var starts: [Int] = [], tallies: [AnswerArbiter.Tally?] = []
        for batch in ChargeRivalTests.stream() {
            starts.append(learner.counters.firstVisits)
            _ = try learner.observe(features: batch.x, labels: batch.labels)
            tallies.append(learner.slotHeadTallies[0])
        }
        return (learner, starts, tallies)
    }

    @Test("while the slot grown on a drift holds fewer samples than the gate has features, only its own head is judged")
    func frozenHeadWaits() throws {
        let with = try Self.streamed(waiting: true), without = try Self.streamed(waiting: nil)
        // The same growth, on a drift, at B's first visit.
        let growth = try #require(with.learner.history.growths.first)
        #expect(with.learner.history.growths.map(\.sample) == without.learner.history.growths.map(\.sample))
        #expect(growth.trigger != GrowthDecision.Trigger.novelty.rawValue, "\(growth.trigger)")
        // The batches predicted while the new slot was young, and the ones after.
        let young = with.starts.indices.filter { with.starts[$0] >= growth.sample && with.starts[$0] - growth.sample < Self.features }
        let after = with.starts.indices.filter { with.starts[$0] - growth.sample >= Self.features }
        #expect(young.count == Self.features / 32)
        let before = try #require(young.first).advanced(by: -1)
        // Without the rule, B's first rows judge the trunk's head (measured: its tally
        // moves on the young batches); with it, the tally stands still until the new slot
        // holds as many samples as the gate has features, and judging resumes after.
        #expect(young.contains { without.tallies[$0] != without.tallies[before] })
        #expect(young.allSatisfy { with.tallies[$0] == with.tallies[before] }, "\(young.map { with.tallies[$0] as Any })")
        #expect(after.contains { with.tallies[$0] != with.tallies[before] })
        // On by default and saved; a configuration saved before it existed reads it as off.
        let saved = try configurationSavedBefore("frozenHeadsWaitForNewDomain")
        #expect(saved.written["frozenHeadsWaitForNewDomain"] as? Bool == true && saved.read.frozenHeadsWaitForNewDomain == nil)
        #expect(try Learner(checkpoint: with.learner.checkpoint()).configuration.frozenHeadsWaitForNewDomain == true)
        #expect(try Learner(checkpoint: without.learner.checkpoint()).configuration.frozenHeadsWaitForNewDomain == nil)
    }

    @Test("a slot grown for new labels leaves every head judged as before")
    func novelSlotChangesNothing() throws {
        let with = try LearnerCourseTests.learner(), without = try LearnerCourseTests.learner { $0.frozenHeadsWaitForNewDomain = nil }
        #expect(!with.history.growths.isEmpty && with.history.growths.allSatisfy { $0.trigger == "novelty" })
        #expect(!with.slotHeadTallies.isEmpty && with.slotHeadTallies == without.slotHeadTallies, "\(with.slotHeadTallies)")
        #expect(LearnerCourseTests.learned(with) == LearnerCourseTests.learned(without))
    }
}
