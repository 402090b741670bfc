import Foundation
import Testing
import MoE
import TestSupport
@testable import Continual

@Suite("The first stretch learned again once the scaler settles")
struct FirstStretchTests {
    /// Rows of three classes whose features come in mixed units: a price in thousands, a
    /// ratio in hundredths, the rest as drawn.
    static func rows(_ n: Int, seed: UInt64 = 8) -> (Matrix, [Int]) {
        var blobs = Blobs(classes: 3, width: 10, seed: seed)
        var (x, y) = blobs.batch(n, classes: [0, 1, 2])
        for r in 0..<n {
            x[r, 0] = 5000 + 1000 * x[r, 0]
            x[r, 1] = 0.01 * x[r, 1]
        }
        return (x, y)
    }

    /// `learner` fed rows `range` of `x` one at a time.
    static func oneByOne(_ learner: inout Learner, _ x: Matrix, _ y: [Int], _ range: Range<Int>) throws {
        for r in range { _ = try learner.observe(features: x.rows(r..<(r + 1)), labels: [y[r]]) }
    }

    /// The parts of what two learners learned (not what they served) that differ: weights,
    /// Adam's moments, statistics, scaler, replay, holdout, the gate's shrinkage, the
    /// arbiter, the calibration and the generator.
    static func differences(_ a: Learner, _ b: Learner) -> [String] {
        let parts: [(String, Bool)] = [
            ("parameters", a.model.parameters == b.model.parameters),
            ("moments", a.optimizer.firstMoments == b.optimizer.firstMoments && a.optimizer.secondMoments == b.optimizer.secondMoments),
            ("statistics", a.statistics?.state == b.statistics?.state), ("scaler", a.scaler == b.scaler),
            ("replay", a.replay == b.replay), ("holdout", a.holdout == b.holdout), ("shrinkage", a.shrinkage == b.shrinkage),
            ("arbiter", a.arbiter == b.arbiter), ("calibration", a.calibration == b.calibration),
            ("generator", a.generator == b.generator), ("tracker", a.tracker.state.namedArrays.map(\.values) == b.tracker.state.namedArrays.map(\.values)),
        ]
        return parts.filter { !$0.1 }.map(\.0)
    }

    @Test("streamed one row (or 16 rows) at a time, the learner after its first stretch is, bit for bit, the one a batch of those rows gives")
    func sameAsOneBatch() throws {
        let c = LearnerConfiguration.small()
        let (x, y) = Self.rows(128)
        var whole = try Learner(configuration: c, inputWidth: 10, classCount: y.max()! + 1)
        _ = try whole.observe(features: x, labels: y)
        #expect(whole.firstStretch == nil)

        // Built as a file's stream builds a learner: one column past the first batch's largest label.
        var single = try Learner(configuration: c, inputWidth: 10, classCount: y[0] + 1)
        try Self.oneByOne(&single, x, y, 0..<127)
        let open = try #require(single.firstStretch)
        #expect(open.batches == 127 && open.rows.rows == 127 && open.firstBatchRows == 1 && open.builtClasses == y[0] + 1)
        #expect(!Self.differences(single, whole).isEmpty)
        let served = single.prequential
        try Self.oneByOne(&single, x, y, 127..<128)
        #expect(single.firstStretch == nil)
        #expect(Self.differences(single, whole).isEmpty, "\(Self.differences(single, whole))")
        // What the stream was served stays as it was: 128 batches, their answers.
        #expect(single.counters.batches == 128 && whole.counters.batches == 1 && single.counters.firstVisits == 128)
        #expect(single.prequential.samples == 128 && single.prequential.samples == served.samples + 1)

        var sixteen = try Learner(configuration: c, inputWidth: 10, classCount: y[0..<16].max()! + 1)
        for start in stride(from: 0, to: 128, by: 16) {
            _ = try sixteen.observe(features: x.rows(start..<(start + 16)), labels: Array(y[start..<(start + 16)]))
        }
        #expect(Self.differences(sixteen, whole).isEmpty && sixteen.counters.batches == 8, "\(Self.differences(sixteen, whole))")

        // Without the setting (configurations saved before it), the rows stay learned as they came.
        var off = c
        off.relearnsFirstStretch = nil
        var before = try Learner(configuration: off, inputWidth: 10, classCount: y[0] + 1)
        try Self.oneByOne(&before, x, y, 0..<128)
        #expect(before.firstStretch == nil && !Self.differences(before, whole).isEmpty)
    }

    @Test("a first batch that settles the scaler opens no stretch; a later pass or a learner saved before it ends one")
    func whenNoStretch() throws {
        let (x, y) = Self.rows(300)
        var learner = try Learner(configuration: .small(), inputWidth: 10, classCount: 3)
        _ = try learner.observe(features: x.rows(0..<128), labels: Array(y[0..<128]))
        #expect(learner.firstStretch == nil)

        var passing = try Learner(configuration: .small(), inputWidth: 10, classCount: 3)
        _ = try passing.observe(features: x.rows(0..<40), labels: Array(y[0..<40]))
        #expect(passing.firstStretch?.batches == 1)
        _ = try passing.observe(features: x.rows(40..<80), labels: Array(y[40..<80]))
        #expect(passing.firstStretch?.batches == 2)
        let before = passing.statistics?.state
        _ = try passing.observe(features: x.rows(0..<40), labels: Array(y[0..<40]), pass: 1)
        #expect(passing.firstStretch == nil)
        _ = try passing.observe(features: x.rows(80..<200), labels: Array(y[80..<200]))
        #expect(passing.firstStretch == nil && passing.statistics?.state != before)

        let saved = try configurationSavedBefore("relearnsFirstStretch")
        #expect(saved.written["relearnsFirstStretch"] as? Bool == true && saved.read.relearnsFirstStretch == nil)
    }

    @Test("a stream saved within its first stretch resumes as one that never stopped")
    func resumesExactly() throws {
        let (x, y) = Self.rows(200, seed: 12)
        var reference = try Learner(configuration: .small(), inputWidth: 10, classCount: y[0] + 1)
        try Self.oneByOne(&reference, x, y, 0..<200)

        var first = try Learner(configuration: .small(), inputWidth: 10, classCount: y[0] + 1)
        try Self.oneByOne(&first, x, y, 0..<60)
        try withTemporaryDirectory { directory in
            let path = directory.path("stretch.h5")
            try first.checkpoint().save(to: path)
            var resumed = try Learner(checkpoint: Checkpoint.load(from: path))
            #expect(resumed.firstStretch == first.firstStretch && resumed.firstStretch?.batches == 60)
            try Self.oneByOne(&resumed, x, y, 60..<200)
            #expect(Self.differences(resumed, reference).isEmpty, "\(Self.differences(resumed, reference))")
            #expect(resumed.prequential == reference.prequential, "prequential")
            #expect(resumed.counters == reference.counters, "counters")
        }
    }

    @Test("a first stretch that does not describe the learner is refused with a sentence naming the section")
    func refusesBadSection() throws {
        let (x, y) = Self.rows(50)
        var learner = try Learner(configuration: .small(), inputWidth: 10, classCount: 3)
        try Self.oneByOne(&learner, x, y, 0..<50)
        let good = learner.checkpoint()
        #expect(try Learner(checkpoint: good).firstStretch == learner.firstStretch)
        func refused(_ change: (inout CheckpointSection) -> Void) -> String {
            CheckpointFixtures.learnerRefusal(good, section: "first_stretch", change)
        }
        let cases: [(String, (inout CheckpointSection) -> Void)] = [
            ("a label beyond the classes", { $0.datasets["labels"] = .integers(Array(repeating: 7, count: 50)) }),
            ("no batches", { $0.attributes["batches"] = .int(0) }),
            ("more batches than rows", { $0.attributes["batches"] = .int(51) }),
            ("a first batch beyond the rows", { $0.attributes["first_batch_rows"] = .int(51) }),
            ("built with no class", { $0.attributes["built_classes"] = .int(0) }),
            ("a row not finite", {
                var rows = x
                rows[3, 4] = .infinity
                $0.datasets["rows"] = .float32(rows)
            }),
            ("more rows than first visits", {
                $0.datasets["rows"] = .float32(x.concatenatingRows(x))
                $0.datasets["labels"] = .integers((y + y).map(Int64.init))
            }),
        ]
        for (what, change) in cases {
            let message = refused(change)
            #expect(message.contains("/sections/first_stretch"), "\(what): \(message)")
            #expect(message.contains("first stretch"), "\(what): \(message)")
        }
        // Rows of another width, in a file, are named by the dataset's path.
        var narrow = good
        narrow.sections["first_stretch"]!.datasets["rows"] = .float32(Matrix(rows: 50, columns: 9))
        try withTemporaryDirectory { directory in
            let path = directory.path("narrow.h5")
            try narrow.save(to: path)
            #expect {
                _ = try Learner(checkpoint: Checkpoint.load(from: path))
            } throws: { error in
                "\(error)".contains("/sections/first_stretch/rows") && "\(error)".contains("narrow.h5")
            }
        }
    }
}
