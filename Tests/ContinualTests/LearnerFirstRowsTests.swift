import Foundation
import Testing
import MoE
import TestSupport
@testable import Continual

@Suite("Learner first rows")
struct LearnerFirstRowsTests {
    func configuration(whole: Bool? = true) -> LearnerConfiguration {
        var c = LearnerConfiguration.small()
        c.firstRowsWhole = whole
        return c
    }

    /// 300 rows of three blobs on features of mixed ranges, in 8-row classes runs.
    func rows() -> (Matrix, [Int]) {
        var blobs = Blobs(classes: 3, width: 12, seed: 11)
        var x: [Float] = [], y: [Int] = []
        for block in 0..<38 {
            let (bx, by) = blobs.batch(8, classes: [block % 3])
            x += bx.scalars.enumerated().map { $0.element * Float(1 + ($0.offset % 12) * 40) }
            y += by
        }
        return (Matrix(rows: 300, columns: 12, scalars: Array(x[0..<(300 * 12)])), Array(y[0..<300]))
    }

    /// A learner that observed rows `range` of `(x, y)` in batches of `size`.
    func observe(_ learner: inout Learner, _ x: Matrix, _ y: [Int], _ range: Range<Int>, size: Int) throws -> [Learner.StepReport] {
        var reports: [Learner.StepReport] = []
        var start = range.lowerBound
        while start < range.upperBound {
            let end = min(range.upperBound, start + size)
            reports.append(try learner.observe(features: x.rows(start..<end), labels: Array(y[start..<end])))
            start = end
        }
        return reports
    }

    @Test("first rows that came one at a time are learned as one batch at 128: the learner keeps what one batch of them gives, with the predictions made as they came")
    func learnedWhole() throws {
        let (x, y) = rows()
        var single = try Learner(configuration: configuration(), inputWidth: 12, classCount: 1)
        var kept = try Learner(configuration: configuration(whole: nil), inputWidth: 12, classCount: 1)
        let reports = try observe(&single, x, y, 0..<127, size: 1)
        let keptReports = try observe(&kept, x, y, 0..<127, size: 1)
        // Until the 128th row, each row is predicted and learned as before.
        #expect(reports.map(\.errors) == keptReports.map(\.errors))
        #expect(single.model.parameters == kept.model.parameters)
        #expect(single.firstRows?.rows == 127 && single.firstRows?.batches == 127 && kept.firstRows == nil)
        _ = try observe(&single, x, y, 127..<128, size: 1)
        _ = try observe(&kept, x, y, 127..<128, size: 1)
        #expect(single.firstRows == nil)

        // A learner made the same way that saw the 128 rows as one batch.
        var batch = try Learner(configuration: configuration(), inputWidth: 12, classCount: 1)
        _ = try batch.observe(features: x.rows(0..<128), labels: Array(y[0..<128]))
        #expect(batch.firstRows == nil)
        #expect(single.model.parameters == batch.model.parameters)
        #expect(single.scaler == batch.scaler && single.arbiter == batch.arbiter)
        #expect(single.statistics?.withinClassScatter() == batch.statistics?.withinClassScatter())
        #expect(single.replay.features == batch.replay.features)
        #expect(single.predict(x.rows(128..<300)) == batch.predict(x.rows(128..<300)))
        // The record is the rows' own, one at a time.
        #expect(single.prequential.samples == 128 && single.counters.batches == 128 && single.counters.firstVisits == 128)
        #expect(single.prequential.correct == kept.prequential.correct)
        #expect(single.prequential != batch.prequential)
        // The scaler fixed on 128 rows, not on the first ones: the transforms differ.
        #expect(single.scaler != kept.scaler)

        // Learning goes on one row at a time, the same on every run.
        _ = try observe(&single, x, y, 128..<300, size: 1)
        var again = try Learner(configuration: configuration(), inputWidth: 12, classCount: 1)
        _ = try observe(&again, x, y, 0..<300, size: 1)
        #expect(again.model.parameters == single.model.parameters && again.prequential == single.prequential)
    }

    @Test("before the 128th row, a copy that predicts learns the rows kept whole; a stream whose first batch is whole keeps nothing")
    func snapshotsLearnWhole() throws {
        let (x, y) = rows()
        var single = try Learner(configuration: configuration(), inputWidth: 12, classCount: 1)
        _ = try observe(&single, x, y, 0..<60, size: 4)
        #expect(single.firstRowsPending && single.needsSnapshot)
        var batch = try Learner(configuration: configuration(), inputWidth: 12, classCount: 1)
        _ = try batch.observe(features: x.rows(0..<60), labels: Array(y[0..<60]))
        // A first batch of 60 is kept too (the stream may go on in small batches), but
        // nothing is learned again for it.
        #expect(batch.firstRows?.batches == 1 && !batch.firstRowsPending)
        let test = x.rows(200..<300)
        #expect(single.predict(test) == batch.predict(test))
        #expect(single.snapshot().model.parameters == batch.snapshot().model.parameters)
        #expect(single.snapshot().firstRows == nil)
        // Predicting learned nothing: the rows are still kept, and the stream goes on.
        #expect(single.firstRows?.rows == 60)

        // A later pass first learns the kept rows whole.
        var passes = single
        _ = try passes.observe(features: x.rows(0..<4), labels: Array(y[0..<4]), pass: 1)
        #expect(passes.firstRows == nil && passes.counters.firstVisits == 60)

        // A first batch of 128 rows or more keeps nothing; neither does a learner without
        // the setting, or without a scaler that settles.
        var large = try Learner(configuration: configuration(), inputWidth: 12, classCount: 1)
        _ = try large.observe(features: x.rows(0..<128), labels: Array(y[0..<128]))
        #expect(large.firstRows == nil)
        var unscaled = configuration()
        unscaled.inputScaling = .none
        var raw = try Learner(configuration: unscaled, inputWidth: 12, classCount: 1)
        _ = try observe(&raw, x, y, 0..<10, size: 1)
        #expect(raw.firstRows == nil)
    }

    @Test("a learner saved while it keeps first rows resumes bit for bit; bad kept rows are refused naming the section")
    func checkpoints() throws {
        let (x, y) = rows()
        var straight = try Learner(configuration: configuration(), inputWidth: 12, classCount: 1)
        _ = try observe(&straight, x, y, 0..<200, size: 1)

        var first = try Learner(configuration: configuration(), inputWidth: 12, classCount: 1)
        _ = try observe(&first, x, y, 0..<50, size: 1)
        let loaded = try withTemporaryDirectory { dir in
            try first.checkpoint(description: "kept rows").save(to: dir.path("kept.h5"))
            return try Checkpoint.load(from: dir.path("kept.h5"))
        }
        #expect(loaded.sections["first_rows"] != nil)
        var resumed = try Learner(checkpoint: loaded)
        #expect(resumed.firstRows == first.firstRows, "the kept rows changed in the checkpoint")
        _ = try observe(&resumed, x, y, 50..<200, size: 1)
        #expect(resumed.model.parameters == straight.model.parameters)
        #expect(resumed.prequential == straight.prequential)
        #expect(resumed.statistics?.withinClassScatter() == straight.statistics?.withinClassScatter())

        // Saved after the rows were learned whole, nothing is kept.
        #expect(try Checkpoint.decode(try straight.checkpoint().encoded()).sections["first_rows"] == nil)

        func refused(_ change: (inout CheckpointSection) -> Void) throws -> String {
            var crafted = loaded
            change(&crafted.sections["first_rows"]!)
            do {
                _ = try Learner(checkpoint: crafted)
                return "loaded"
            } catch {
                return "\(error)"
            }
        }
        let labels = try loaded.sections["first_rows"]!.integers("labels")
        for message in [
            try refused { $0.insert(.integers(labels.map { _ in -1 }), at: "labels") },
            try refused { $0.attributes["batches"] = .int(0) },
            try refused { $0.attributes["batches"] = .int(51) },
            try refused { $0.attributes["class_count"] = .int(99) },
            try refused { $0.insert(.float32(Matrix(rows: 50, columns: 12, scalars: Array(repeating: .nan, count: 600))), at: "features") },
        ] {
            #expect(message.contains("/sections/first_rows"), "\(message)")
        }
        #expect(try refused { $0.insert(.integers([1, 2]), at: "labels") }.contains("labels"))
    }
}
