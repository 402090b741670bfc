import Foundation
import MoE
import Testing
@testable import Continual

@Suite("Inputs in runs")
struct InputRunsTests {
    /// `n` rows of `width` seeded normal features, in the given order of the first column
    /// (`sorted`) or as drawn.
    static func rows(_ n: Int, width: Int = 6, sorted: Bool = false, seed: UInt64 = 5) -> Matrix {
        var g = SeededGenerator(seed: seed)
        var x = Matrix(rows: n, columns: width)
        for r in 0..<n { for j in 0..<width { x[r, j] = g.nextNormal() } }
        guard sorted else { return x }
        let order = (0..<n).sorted { x[$0, 0] < x[$1, 0] }
        return x.gatherRows(order)
    }

    static func runs(_ x: Matrix) -> InputRuns {
        var runs = InputRuns()
        x.scalars.withUnsafeBufferPointer { p in
            for r in 0..<x.rows { runs.add(UnsafeBufferPointer(rebasing: p[r * x.columns ..< (r + 1) * x.columns])) }
        }
        return runs
    }

    @Test("the moments are the rows' own, updated one row at a time")
    func moments() {
        let x = Self.rows(300, width: 3)
        let runs = Self.runs(x)
        for j in 0..<3 {
            let v = (0..<300).map { Double(x[$0, j]) }
            let mean = v.reduce(0, +) / 300
            let m2 = v.reduce(0.0) { (total: Double, x: Double) -> Double in total + (x - mean) * (x - mean) }
            let m4 = v.reduce(0.0) { (total: Double, x: Double) -> Double in total + pow(x - mean, 4) }
            var successive = 0.0
            for t in 1..<300 {
                let step: Double = v[t] - v[t - 1]
                successive += step * step
            }
            #expect(abs(runs.mean[j] - mean) < 1e-12)
            #expect(abs(runs.m2[j] - m2) < 1e-9 * m2)
            #expect(abs(runs.m4[j] - m4) < 1e-9 * m4)
            #expect(abs(runs.successive[j] - successive) < 1e-9 * successive)
        }
        #expect(runs.count == 300 && runs.validated() == nil)
    }

    @Test("rows sorted by one feature, or kept in groups, come in runs; the same rows shuffled do not")
    func sortedAndGrouped() {
        let tail = AnswerArbiter.runsTail
        #expect(abs(InputMoments.normalQuantile(upperTail: tail) - AnswerArbiter.runsZ) < 1e-3)
        // Sorted by the first of six features: its serial correlation is close to 1.
        let sorted = Self.runs(Self.rows(400, sorted: true))
        #expect(sorted.comeInRuns(tail: tail) && sorted.strongest.z > 15 && sorted.strongest.tested == 6)
        // The same rows as drawn, over several seeds: none passes.
        for seed: UInt64 in 1...20 {
            #expect(!Self.runs(Self.rows(400, seed: seed)).comeInRuns(tail: tail))
        }
        // Groups of 40 rows by subject: each group shifts one feature by its own offset.
        var grouped = Self.rows(400)
        var g = SeededGenerator(seed: 9)
        for group in 0..<10 {
            let offset = 1.5 * g.nextNormal()
            for r in group * 40 ..< (group + 1) * 40 { grouped[r, 2] += offset }
        }
        #expect(Self.runs(grouped).comeInRuns(tail: tail))
    }

    @Test("a rare 0/1 feature is not tested: two adjacent ones in a thousand rows are no runs")
    func rareFeatureNotTested() {
        var x = Self.rows(1000, width: 2)
        for r in 0..<1000 { x[r, 1] = r == 500 || r == 501 || r == 800 ? 1 : 0 }
        let runs = Self.runs(x)
        // Its serial correlation reads as z = 10.5; it is left out of the test.
        let n = 1000.0
        let rare = (1 - runs.successive[1] / (2 * runs.m2[1])) * n.squareRoot()
        #expect(rare > 10)
        #expect(runs.strongest.tested == 1 && !runs.comeInRuns(tail: AnswerArbiter.runsTail))
        // A constant feature is not tested either, and too few rows test nothing.
        #expect(Self.runs(Matrix(rows: 50, columns: 1, scalars: [Float](repeating: 3, count: 50))).strongest.tested == 0)
        #expect(Self.runs(Self.rows(2, sorted: true)).strongest.tested == 0)
    }

    @Test("the arbiter counts each slot's inputs, treats input runs as label runs, and saves them")
    func arbiterRecordsAndSaves() throws {
        var arbiter = AnswerArbiter()
        #expect(arbiter.settings.checksInputRuns)
        let sorted = Self.rows(400, sorted: true)
        let shuffled = Self.rows(400, seed: 2)
        // Slot 0 takes the sorted rows, slot 1 the shuffled ones, interleaved batch by batch;
        // labels alternate, so they do not come in runs.
        for b in 0..<10 {
            let rows = Array(b * 40 ..< (b + 1) * 40)
            for (slot, x) in [(0, sorted), (1, shuffled)] {
                let batch = x.gatherRows(rows)
                arbiter.recordInputs(batch, slots: rows.map { _ in slot }, limit: Learner.magnitudeLimit)
                for r in rows { arbiter.record(slot: slot, label: r % 2, gate: true, network: true, product: true, prior: true) }
            }
        }
        #expect(!arbiter.labelsComeInRuns(slot: 0) && !arbiter.labelsComeInRuns(slot: 1))
        #expect(arbiter.inputsComeInRuns(slot: 0) && !arbiter.inputsComeInRuns(slot: 1))
        #expect(arbiter.comesInRuns(slot: 0) && arbiter.streamComesInRuns && arbiter.countsCannotJudgePrior(slot: 1))
        // Rows that are not finite or beyond the limit are left out.
        var bad = Self.rows(2)
        bad[0, 0] = .nan
        bad[1, 3] = 2e15
        arbiter.recordInputs(bad, slots: [1, 1], limit: Learner.magnitudeLimit)
        #expect(arbiter.inputRuns[1].count == 400)

        // Saved and read back; saved before the counts existed, they start from nothing and
        // the setting reads as off.
        let data = try JSONEncoder().encode(arbiter)
        #expect(try JSONDecoder().decode(AnswerArbiter.self, from: data) == arbiter)
        #expect(try readAsSavedWithout(["inputRuns"], arbiter).inputRuns.isEmpty)
        #expect(!(try readAsSavedWithout(["checksInputRuns"], AnswerArbiter.Settings())).checksInputRuns)
        // Off, nothing is counted and no slot's inputs come in runs.
        var settings = AnswerArbiter.Settings()
        settings.checksInputRuns = false
        var off = AnswerArbiter(settings: settings)
        off.recordInputs(sorted, slots: (0..<400).map { _ in 0 }, limit: Learner.magnitudeLimit)
        #expect(off.inputRuns.isEmpty && !off.inputsComeInRuns(slot: 0))

        // Counts that contradict themselves are refused with a sentence.
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var runs = try #require(object["inputRuns"] as? [[String: Any]])
        runs[0]["m4"] = [1.0, 2.0]
        object["inputRuns"] = runs
        #expect { try JSONDecoder().decode(AnswerArbiter.self, from: JSONSerialization.data(withJSONObject: object)) } throws: {
            "\($0)".contains("input runs of slot 0") && "\($0)".contains("different widths")
        }
        // So are more rows counted than the slot had visits (a count that would overflow).
        runs = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["inputRuns"] as? [[String: Any]])
        runs[1]["count"] = Int.max
        object["inputRuns"] = runs
        #expect { try JSONDecoder().decode(AnswerArbiter.self, from: JSONSerialization.data(withJSONObject: object)) } throws: {
            "\($0)".contains("input runs of slot 1") && "\($0)".contains("more than its 400 visits")
        }
    }

    @Test("where a slot's inputs come in runs, its holdout's decision must not be significantly worse than the gate on its replayed rows")
    func heldDecisionCheckedWhereInputsRun() {
        func arbiter(_ x: Matrix) -> AnswerArbiter {
            var a = AnswerArbiter()
            a.recordInputs(x, slots: (0..<x.rows).map { _ in 0 }, limit: Learner.magnitudeLimit)
            for r in 0..<x.rows { a.record(slot: 0, label: r % 2, gate: true, network: true, product: true, prior: true) }
            // Held rows decide the network; on twelve replayed rows the gate is right where
            // the network is wrong (3.5 standard errors).
            a.decide(slot: 0, gate: [false, false, false], network: [true, true, true], product: [false, false, false],
                     prior: [false, false, false])
            let none = [Bool](repeating: false, count: 12)
            a.check(slot: 0, gate: [Bool](repeating: true, count: 12), network: none, product: none, prior: none,
                    replayed: (stopped: none, weights: [Double](repeating: 1, count: 12)))
            return a
        }
        let sorted = arbiter(Self.rows(400, sorted: true))
        #expect(sorted.decidedAnswer(slot: 0) == .network && sorted.inputsComeInRuns(slot: 0))
        #expect(sorted.answer(slot: 0) == .gate)
        // The same rows in the order they were drawn: the held rows' decision stands.
        let drawn = arbiter(Self.rows(400))
        #expect(drawn.decidedAnswer(slot: 0) == .network && !drawn.inputsComeInRuns(slot: 0))
        #expect(drawn.answer(slot: 0) == .network)
    }

    @Test("a saved learner whose input runs count another width is refused, naming the state")
    func learnerRefusesOtherWidth() throws {
        var c = LearnerConfiguration.small()
        c.replayCapacity = 100
        var learner = try Learner(configuration: c, inputWidth: 6, classCount: 2)
        let x = Self.rows(256, sorted: true)
        for b in 0..<4 {
            let rows = Array(b * 64 ..< (b + 1) * 64)
            _ = try learner.observe(features: x.gatherRows(rows), labels: rows.map { $0 % 2 })
        }
        #expect(learner.arbiter.inputRuns.first?.width == 6)
        // Resumed, the counts are the same.
        let resumed = try Learner(checkpoint: Checkpoint.decode(try learner.checkpoint().encoded()))
        #expect(resumed.arbiter == learner.arbiter)

        let crafted = try learner.checkpoint().changingLearnerState { object in
            var arbiter = object["arbiter"] as! [String: Any]
            var runs = arbiter["inputRuns"] as! [[String: Any]]
            for key in ["mean", "m2", "m3", "m4", "successive", "last"] {
                runs[0][key] = (runs[0][key] as! [Double]) + [0]
            }
            arbiter["inputRuns"] = runs
            object["arbiter"] = arbiter
        }
        #expect { try Learner(checkpoint: crafted) } throws: {
            "\($0)".contains("/sections/learner/state") && "\($0)".contains("input runs count [7]")
        }
    }
}
