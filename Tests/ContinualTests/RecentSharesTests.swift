import Foundation
import Testing
import MoE
import TestSupport
import Continual

@Suite("Recent class shares")
struct RecentSharesTests {
    /// A small learner, with or without the recent shares, fed `batches` batches of 32 rows
    /// of `blobs` per experience in turn.
    static func stream(_ seed: UInt64, spread: Float, experiences: [[Int]], batches: Int, shares: Bool) throws -> (Learner, Blobs) {
        var configuration = LearnerConfiguration.small()
        if !shares { configuration.recentShares = nil }
        var learner = try Learner(configuration: configuration, inputWidth: 20, classCount: 2)
        var blobs = Blobs(classes: 4, width: 20, seed: seed, spread: spread)
        for classes in experiences {
            for _ in 0..<batches {
                let (x, y) = blobs.batch(32, classes: classes)
                _ = try learner.observe(features: x, labels: y)
            }
        }
        return (learner, blobs)
    }

    @Test("in class order they answer the stream's next rows, and nothing learned moves")
    func classOrder() throws {
        // Classes that overlap, one at a time: what comes next is the class of the moment.
        let order = [[0], [1], [2], [3]]
        let (with, blobs) = try Self.stream(5, spread: 0.4, experiences: order, batches: 12, shares: true)
        let (without, _) = try Self.stream(5, spread: 0.4, experiences: order, batches: 12, shares: false)
        let record = try #require(with.recentShares)
        #expect(without.recentShares == nil)
        #expect(record.serving != nil)
        let (served, own) = (try #require(with.prequential.accuracy), try #require(without.prequential.accuracy))
        #expect(served > own + 0.1, "\(served) against \(own)")
        #expect(record.servedGains > 4 * record.servedLosses, "\(record)")
        // Rows drawn from every class are answered as the learner without them answers:
        // the same weights, statistics, counts and calibration.
        var test = blobs
        let (x, _) = test.batch(400, classes: [0, 1, 2, 3])
        #expect(with.predict(x) == without.predict(x))
        #expect(with.predictWithScores(x).scores == without.predictWithScores(x).scores)
        #expect(with.arbiter == without.arbiter && with.calibration == without.calibration)
        #expect(with.counters.firstVisits == without.counters.firstVisits)
    }

    @Test("on rows in no order they leave the mixture's answers")
    func shuffled() throws {
        // Two batches that agree make the shares serve (`threshold`, below), which rows in
        // no order can give by chance: over three seeds they serve at most 2% of the rows,
        // and the stream's accuracy is the mixture's within 0.005.
        let all = [[0, 1, 2, 3]]
        for seed: UInt64 in [6, 7, 8] {
            let (with, _) = try Self.stream(seed, spread: 0.4, experiences: all, batches: 60, shares: true)
            let (without, _) = try Self.stream(seed, spread: 0.4, experiences: all, batches: 60, shares: false)
            let record = try #require(with.recentShares)
            #expect(record.servedRows * 50 <= with.counters.firstVisits, "seed \(seed): \(record)")
            let (served, own) = (try #require(with.prequential.accuracy), try #require(without.prequential.accuracy))
            #expect(abs(served - own) < 0.005, "seed \(seed): \(served) against \(own)")
        }
    }

    @Test("blocks shorter than two batches: the recent shares do not serve the rows after a change")
    func shortBlocks() throws {
        // Two overlapping classes take turns in blocks of 48 rows, 32 rows a batch: a batch
        // inside a block, where the class of the moment is right, is followed by one across
        // the next change, where it is wrong for a third of the rows or more.
        func run(_ shares: Bool) throws -> Learner {
            var configuration = LearnerConfiguration.small()
            if !shares { configuration.recentShares = nil }
            var learner = try Learner(configuration: configuration, inputWidth: 20, classCount: 2)
            var blobs = Blobs(classes: 2, width: 20, seed: 8, spread: 0.4)
            var rows: [(Matrix, [Int])] = []
            for block in 0..<40 { for _ in 0..<48 { rows.append(blobs.batch(1, classes: [block % 2])) } }
            for start in stride(from: 0, to: rows.count, by: 32) {
                var x = Matrix(rows: 32, columns: 20)
                for r in 0..<32 { for j in 0..<20 { x[r, j] = rows[start + r].0[0, j] } }
                _ = try learner.observe(features: x, labels: (0..<32).map { rows[start + $0].1[0] })
            }
            return learner
        }
        let with = try run(true), without = try run(false)
        let record = try #require(with.recentShares)
        let (served, own) = (try #require(with.prequential.accuracy), try #require(without.prequential.accuracy))
        #expect(served >= own - 0.005, "\(served) against \(own); \(record)")
        #expect(record.servedLosses <= record.servedGains, "\(record)")
    }

    @Test("the recent shares serve after two batches that agree; a configuration saved with the arbiter's 1.5 keeps it")
    func threshold() throws {
        #expect(RecentShares.Settings().z == 1)
        var two = BatchTally(), one = BatchTally()
        one.record(net: 40, fade: 1)
        two.record(net: 40, fade: 1)
        two.record(net: 40, fade: 1)
        #expect(!(one.advantage > RecentShares.Settings().z) && two.advantage > RecentShares.Settings().z)
        var saved = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(LearnerConfiguration())) as? [String: Any])
        var shares = try #require(saved["recentShares"] as? [String: Any])
        #expect(shares["z"] as? Double == 1)
        shares["z"] = 1.5
        saved["recentShares"] = shares
        let read = try JSONDecoder().decode(LearnerConfiguration.self, from: JSONSerialization.data(withJSONObject: saved))
        #expect(read.recentShares?.z == 1.5)
    }

    @Test("the paired test counts batches when a batch's rows are right or wrong together")
    func batchTally() {
        // 40 batches of 32 rows: in each, 4 rows right against 2 wrong, or the whole batch
        // right or wrong in turns of 3 to 2.
        var scattered = BatchTally(), whole = BatchTally()
        for b in 0..<40 {
            scattered.record(net: 2, fade: 1)
            whole.record(net: b % 5 < 3 ? 32 : -32, fade: 1)
        }
        // 80 rows net, 2 in each batch: 80 / √160 = 6.3 standard errors (McNemar on the
        // 240 rows that disagree: 80 / √240 = 5.2).
        #expect(abs(scattered.advantage - 80 / 160.0.squareRoot()) < 1e-12)
        // 1.26: ahead at the default threshold of 1 (right on three batches of five, the
        // class of the moment gains 6.4 rows a batch), not at the arbiter's 1.5.
        #expect(abs(whole.advantage - 256 / (40 * 32 * 32.0).squareRoot()) < 1e-12)
        #expect(whole.advantage > RecentShares.Settings().z && whole.advantage < 1.5)
    }

    @Test("a step report gives the answers served and counts their errors")
    func report() throws {
        var (learner, blobs) = try Self.stream(5, spread: 0.4, experiences: [[0], [1], [2]], batches: 12, shares: true)
        #expect(learner.recentShares?.serving != nil)
        let (x, y) = blobs.batch(32, classes: [2])
        let step = try learner.observe(features: x, labels: y)
        #expect(step.labels == y)
        #expect(step.errors == zip(step.predicted, y).filter { $0 != $1 }.count)
        // The class of the moment is answered where the rows leave it in doubt.
        #expect(step.predicted.filter { $0 == 2 }.count > 28, "\(step.predicted)")
    }

    @Test("kept across a save and load; older files and crafted records")
    func checkpoint() throws {
        var (learner, blobs) = try Self.stream(7, spread: 0.4, experiences: [[0], [1], [2]], batches: 8, shares: true)
        let saved = learner.checkpoint()
        var loaded = try Learner(checkpoint: Checkpoint.decode(saved.encoded()))
        #expect(loaded.recentShares == learner.recentShares)
        for _ in 0..<8 {
            let (x, y) = blobs.batch(32, classes: [3])
            let a = try learner.observe(features: x, labels: y)
            let b = try loaded.observe(features: x, labels: y)
            #expect(a.predicted == b.predicted)
        }
        #expect(loaded.recentShares == learner.recentShares && loaded.prequential.accuracy == learner.prequential.accuracy)

        func state(_ change: (inout [String: Any]) -> Void) throws -> Checkpoint {
            try saved.changingLearnerState(change)
        }
        // A file saved before them: its configuration has none, and the mixture answers.
        let older = try Learner(checkpoint: state {
            $0["recentShares"] = nil
            var configuration = $0["configuration"] as! [String: Any]
            configuration["recentShares"] = nil
            $0["configuration"] = configuration
        })
        #expect(older.recentShares == nil && older.configuration.recentShares == nil)
        // A configuration with them and no record starts one.
        let fresh = try Learner(checkpoint: state { $0["recentShares"] = nil })
        #expect(fresh.recentShares == RecentShares(halfLives: 3))
        // Crafted records are refused, naming where they are.
        let short = try state {
            var record = $0["recentShares"] as! [String: Any]
            record["tallies"] = [["sum": 1.0, "squares": 1.0]]
            $0["recentShares"] = record
        }
        #expect { try Learner(checkpoint: short) } throws: {
            "\($0)".contains("/sections/learner/state") && "\($0)".contains("recent class shares")
        }
        let negative = try state {
            var record = $0["recentShares"] as! [String: Any]
            var counts = record["counts"] as! [Double]
            counts[0] = -1
            record["counts"] = counts
            $0["recentShares"] = record
        }
        #expect { try Learner(checkpoint: negative) } throws: { "\($0)".contains("recent class shares") }
        let serving = try state {
            var record = $0["recentShares"] as! [String: Any]
            record["serving"] = 7
            $0["recentShares"] = record
        }
        #expect { try Learner(checkpoint: serving) } throws: { "\($0)".contains("recent class shares") }
        let overflowing = try state {
            var record = $0["recentShares"] as! [String: Any]
            record["servedRows"] = Int.max
            $0["recentShares"] = record
        }
        #expect { try Learner(checkpoint: overflowing) } throws: { "\($0)".contains("recent class shares") }
        let unasked = try state {
            var configuration = $0["configuration"] as! [String: Any]
            configuration["recentShares"] = nil
            $0["configuration"] = configuration
        }
        #expect { try Learner(checkpoint: unasked) } throws: { "\($0)".contains("serves none") }
    }

    @Test("settings are checked")
    func settings() throws {
        var configuration = LearnerConfiguration()
        configuration.recentShares?.halfLives = []
        #expect(throws: LearnerError.self) { try configuration.validate() }
        configuration.recentShares?.halfLives = [0]
        #expect(throws: LearnerError.self) { try configuration.validate() }
        configuration.recentShares = RecentShares.Settings()
        configuration.recentShares?.z = .nan
        #expect(throws: LearnerError.self) { try configuration.validate() }
        // The baselines serve their own answers.
        var baseline = LearnerConfiguration.small()
        baseline.gate = .learned
        baseline.growth.enabled = false
        #expect(try Learner(configuration: baseline, inputWidth: 4, classCount: 2).recentShares == nil)
    }
}
