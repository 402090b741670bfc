import Foundation
import Testing
import TestSupport

/// `moe suite`: the streams run for each learner and path, and every row carries its
/// figures and where its time went.
@Suite("moe suite")
struct SuiteCommandTests {
    @Test("a small stream, two learners, both paths: rows with accuracy, seconds and work by phase; the table is written")
    func smallSuite() throws {
        try withTemporaryDirectory { dir in
            let r = MoeProcess.run(["suite", "--data", TrainingData.synthetic, "--streams", "small-fmnist",
                                    "--learners", "default,gate", "--out", dir.path("suite"), "--json"])
            #expect(r.status == 0, "\(r.error)")
            let json = try #require(MoeProcess.json(r))
            let rows = try #require(json["rows"] as? [[String: Any]])
            #expect(rows.count == 4, "2 learners x 2 paths, got \(rows.count)")
            for row in rows {
                let accuracy = try #require(row["accuracy"] as? Double)
                #expect(accuracy > 0.5, "\(row)")
                let prequential = try #require(row["prequential_accuracy"] as? Double)
                #expect(prequential > 0.3 && prequential < 1, "\(row)")
                // The served scores: better than a uniform guess over the 10 classes (log 10;
                // the synthetic images are easy: 0 when every answer is sure and right),
                // and calibrated within a few points.
                let logLoss = try #require(row["log_loss"] as? Double)
                #expect(logLoss >= 0 && logLoss < log(10.0), "\(row)")
                let calibration = try #require(row["calibration_error"] as? Double)
                #expect(calibration >= 0 && calibration < 0.25, "\(row)")
                let seconds = try #require(row["phase_seconds"] as? [String: Double])
                let work = try #require(row["phase_flops"] as? [String: Double])
                for phase in ["predict", "gate_statistics", "refit", "training"] {
                    #expect(seconds[phase] != nil && (work[phase] ?? 0) > 0, "\(phase) in \(row)")
                }
                #expect(seconds.values.reduce(0, +) <= (row["seconds"] as? Double ?? 0) * 1.01, "phases exceed the run: \(row)")
            }
            let table = try String(contentsOfFile: dir.path("suite/suite.md"), encoding: .utf8)
            #expect(table.contains("| log-loss (default) |"), "\(table)")
            #expect(FileManager.default.fileExists(atPath: dir.path("suite/suite.json")))
        }
    }
}
