import Foundation
import Testing
import MoE
import TestSupport
@testable import Continual

@Suite("Learner warm-up")
struct LearnerWarmUpTests {
    func configuration(warmUp: Bool? = true) -> LearnerConfiguration {
        var c = LearnerConfiguration.small()
        c.warmUp = warmUp
        return c
    }

    @Test("a learner's first batch is observed in pieces that double; later batches, later passes and warmUp off whole")
    func pieces() throws {
        let learner = try Learner(configuration: configuration(), inputWidth: 20, classCount: 3)
        #expect(learner.warmUpPieces(rows: 128, pass: 0).map(\.count) == [1, 1, 2, 4, 8, 16, 32, 64])
        #expect(learner.warmUpPieces(rows: 100, pass: 0).map(\.count) == [1, 1, 2, 4, 8, 16, 32, 36])
        #expect(learner.warmUpPieces(rows: 1, pass: 0) == [0..<1])
        #expect(learner.warmUpPieces(rows: 128, pass: 1) == [0..<128])
        let off = try Learner(configuration: configuration(warmUp: nil), inputWidth: 20, classCount: 3)
        #expect(off.warmUpPieces(rows: 128, pass: 0) == [0..<128])

        // After 5 rows, a batch of 32 goes on doubling from what was seen: 5, 10, then the rest.
        var blobs = Blobs(classes: 3, width: 20, seed: 3)
        var started = learner
        let (x, y) = blobs.batch(5, classes: [0, 1, 2])
        _ = try started.observe(features: x, labels: y)
        #expect(started.warmUpPieces(rows: 32, pass: 0).map(\.count) == [5, 10, 17])
        #expect(started.warmUpPieces(rows: 4, pass: 0) == [0..<4])
    }

    @Test("the first batch's rows are predicted from the rows before them, not blind; the batch counts once")
    func firstBatch() throws {
        func run(_ warmUp: Bool?) throws -> (Learner, Learner.StepReport, Learner.StepReport) {
            var blobs = Blobs(classes: 3, width: 20, seed: 5)
            var learner = try Learner(configuration: configuration(warmUp: warmUp), inputWidth: 20, classCount: 3)
            let (x, y) = blobs.batch(128, classes: [0, 1, 2])
            let first = try learner.observe(features: x, labels: y)
            let (x2, y2) = blobs.batch(128, classes: [0, 1, 2])
            let second = try learner.observe(features: x2, labels: y2)
            return (learner, first, second)
        }
        let (warm, first, second) = try run(true)
        let (cold, blind, _) = try run(nil)
        #expect(first.samples == 128 && first.batch == 1 && second.batch == 2)
        #expect(warm.counters.batches == 2 && warm.counters.firstVisits == 256 && warm.prequential.samples == 256)
        #expect(cold.counters.batches == 2)
        // Blind, three well-separated classes are mostly wrong; in pieces, mostly right.
        #expect(blind.errors > 64, "\(blind.errors) errors blind")
        #expect(first.errors < 32, "\(first.errors) errors in pieces")
        #expect(first.routed.reduce(0, +) == 128)
        // Eight pieces, each trained: more steps than the one batch's two.
        #expect(first.steps.count > blind.steps.count)
        #expect(first.newClasses == [0, 1, 2] && blind.newClasses == [0, 1, 2])
        // Classes new in a later piece of the first batch are no novelty: nothing to decide.
        #expect(first.decision == nil && blind.decision == nil)
        #expect(second.steps.count == blind.steps.count)
        // The scaler took in the whole first batch before any piece was scaled, as it does
        // for a batch observed whole: the same transform either way.
        #expect(warm.scaler != nil && warm.scaler == cold.scaler)

        // The same seed gives the same learner, bit for bit.
        let (again, _, _) = try run(true)
        #expect(again.model.parameters == warm.model.parameters)
        #expect(again.prequential == warm.prequential)
    }

    @Test("a stream of single rows: the gate's head is fitted from one row per class on, and refitted as pairs double")
    func singleRows() throws {
        var c = configuration()
        c.predictor = .discriminant
        c.refitEvery = 4096
        var blobs = Blobs(classes: 2, width: 8, seed: 4)
        var learner = try Learner(configuration: c, inputWidth: 8, classCount: 2)
        var right = 0
        for row in 0..<64 {
            let (x, y) = blobs.batch(1, classes: [row % 2])
            let report = try learner.observe(features: x, labels: y)
            if row >= 8 { right += report.samples - report.errors }
        }
        // One refit per doubling of a pair (2, 4, … 32 rows each), not one until
        // `refitEvery` samples (a fit over one row per class used to fail, and with it
        // the doubling that would have retried it).
        #expect(learner.profile.refits >= 5, "\(learner.profile.refits) refits")
        #expect(learner.counters.pairCountsAtRefit != nil)
        #expect(right >= 52, "\(right) of 56 right")
    }

    @Test("a row out of range in a later piece is named by its row in the whole batch")
    func faultRowNumbers() throws {
        var blobs = Blobs(classes: 2, width: 8, seed: 9)
        var learner = try Learner(configuration: configuration(), inputWidth: 8, classCount: 2)
        var (x, y) = blobs.batch(128, classes: [0, 1])
        x[99, 2] = 1e30
        let report = try learner.observe(features: x, labels: y)
        #expect(report.samples == 128 && learner.counters.rowsOutOfRange == 1)
        let fault = try #require(learner.history.recentFaults.last)
        #expect(fault.batch == 1)
        #expect(fault.detail.contains("first: row 100"), "\(fault.detail)")
        // Errors of the data still name the batch's row, before any piece is learned.
        var bad = x
        bad[70, 1] = .nan
        var fresh = try Learner(configuration: configuration(), inputWidth: 8, classCount: 2)
        #expect(throws: LearnerError.nonFinite(row: 71, column: 2, source: "batch")) {
            _ = try fresh.observe(features: bad, labels: y)
        }
        #expect(fresh.counters.firstVisits == 0)
    }

    @Test("a configuration saved before the warm-up existed reads it as off")
    func savedBefore() throws {
        let saved = try configurationSavedBefore("warmUp")
        #expect(saved.written["warmUp"] as? Bool == true && saved.read.warmUp == nil)
    }
}
