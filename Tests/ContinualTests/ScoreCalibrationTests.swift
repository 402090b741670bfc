import Foundation
import Testing
import MoE
import TestSupport
import Continual

@Suite("Score calibration")
struct ScoreCalibrationTests {
    /// Rows of `classes` classes whose weights name the right class with `sure` (the rest
    /// shared by one other class and a sliver), right in `rightShare` of the rows.
    static func rows(_ n: Int, classes: Int, sure: Double, rightShare: Double, seed: UInt64) -> ([[Double]], [Int]) {
        var g = SeededGenerator(seed: seed)
        var weights: [[Double]] = [], labels: [Int] = []
        for _ in 0..<n {
            let predicted = g.nextInt(below: classes)
            let other = (predicted + 1 + g.nextInt(below: classes - 1)) % classes
            var row = [Double](repeating: 0, count: classes)
            row[predicted] = sure
            row[other] = 1 - sure
            weights.append(row)
            labels.append(Double(g.nextInt(below: 1000)) / 1000 < rightShare ? predicted : other)
        }
        return (weights, labels)
    }

    @Test("overconfident weights are flattened until a score of 0.7 is right seven times in ten")
    func flattens() {
        var calibration = ScoreCalibration()
        #expect(calibration.fitted == nil)
        #expect(calibration.calibrate([0.999, 0.001, 0, 0]) == [0.999, 0.001, 0, 0])
        let (weights, labels) = Self.rows(3000, classes: 4, sure: 0.999, rightShare: 0.7, seed: 1)
        calibration.record(weights: weights, seen: Array(0..<weights[0].count), labels: labels)
        let fitted = try! #require(calibration.fitted)
        #expect(fitted.temperature > 1, "\(fitted)")
        let calibrated = calibration.calibrate([0.999, 0.001, 0, 0])
        #expect(abs(calibrated.reduce(0, +) - 1) < 1e-12)
        #expect(abs(calibrated[0] - 0.7) < 0.05, "\(calibrated)")
        // The order of the classes is kept: the largest is still the first.
        #expect(calibrated[0] > calibrated[1] && calibrated[1] >= calibrated[2] && calibrated[2] == calibrated[3])
    }

    @Test("underconfident weights are sharpened")
    func sharpens() {
        var calibration = ScoreCalibration()
        let (weights, labels) = Self.rows(3000, classes: 3, sure: 0.6, rightShare: 0.95, seed: 2)
        calibration.record(weights: weights, seen: Array(0..<weights[0].count), labels: labels)
        let fitted = try! #require(calibration.fitted)
        #expect(fitted.temperature < 1, "\(fitted)")
        let calibrated = calibration.calibrate([0.6, 0.4, 0])
        #expect(calibrated[0] > 0.85, "\(calibrated)")
    }

    @Test("rows of classes never seen are not counted; a class the weights miss gets a share of doubt")
    func skipsAndDoubts() {
        var calibration = ScoreCalibration()
        calibration.record(weights: [[0.5, 0.5], [1, 0]], seen: [3, 5], labels: [4, 0])
        #expect(calibration.rows == 0 && calibration.fitted == nil)
        // One row in five is of a class the weights give nothing: about that share is doubt.
        let rows = (0..<500).map { $0 % 5 == 0 ? 2 : 0 }
        calibration.record(weights: Array(repeating: [1, 0, 0], count: 500), seen: [0, 1, 2], labels: rows)
        let fitted = try! #require(calibration.fitted)
        #expect(fitted.share == 0.3, "\(fitted)")
        let calibrated = calibration.calibrate([1, 0, 0])
        #expect(calibrated[0] > calibrated[1] && calibrated[1] == calibrated[2] && calibrated[2] > 0.05, "\(calibrated)")
        #expect(calibration.isValid && calibration.classes == [0, 2] && calibration.counted == [400, 100])
    }

    @Test("classes weigh by their shares of the rows, not by how recently they came")
    func classOrder() {
        // A majority class scored by its share (0.9), right nine times in ten, then a run of
        // rows of the minority class, every one scored 0.9 for the majority: the run is the
        // latest stretch, but a tenth of the rows.
        var calibration = ScoreCalibration()
        let labels = (0..<4500).map { $0 % 9 == 0 ? 1 : 0 }.filter { $0 == 0 } + Array(repeating: 1, count: 450)
        calibration.record(weights: Array(repeating: [0.9, 0.1], count: labels.count), seen: [0, 1], labels: labels)
        let calibrated = calibration.calibrate([0.9, 0.1])
        #expect(abs(calibrated[0] - 0.9) < 0.02, "\(calibrated), fitted \(String(describing: calibration.fitted))")
    }

    @Test("a learner's scores are calibrated on its stream, kept across a save and load, and refused when crafted")
    func learner() throws {
        var blobs = Blobs(classes: 4, width: 20, seed: 3, spread: 1)
        let learner = try Learner.streamed(&blobs, experiences: [[0, 1], [2, 3]])
        // Every first-visit row but those of a batch that brought its class first.
        #expect(learner.calibration.rows > 2000)
        let (x, y) = blobs.batch(2000, classes: [0, 1, 2, 3])
        let (classes, scores) = learner.predictWithScores(x)
        let (rawClasses, raw) = learner.predictWithScores(x, calibrated: false)
        #expect(classes == rawClasses && classes == learner.predict(x))
        #expect(scores != raw)
        let both = learner.predictWithBothScores(x)
        #expect(both.calibrated == scores && both.uncalibrated == raw && both.classes == classes)
        for r in 0..<scores.rows {
            let row = (0..<scores.columns).map { scores[r, $0] }
            #expect(abs(row.reduce(0, +) - 1) < 1e-4 && row.allSatisfy { $0 <= row[classes[r]] }, "row \(r): \(row)")
        }
        // On rows it never saw, the calibrated scores describe its answers better.
        var calibratedQuality = ScoreQuality(), rawQuality = ScoreQuality()
        calibratedQuality.add(scores: scores, labels: y, predicted: classes)
        rawQuality.add(scores: raw, labels: y, predicted: classes)
        #expect(calibratedQuality.logLoss! < rawQuality.logLoss!, "\(calibratedQuality.logLoss!) against \(rawQuality.logLoss!)")

        let checkpoint = learner.checkpoint()
        let loaded = try Learner(checkpoint: Checkpoint.decode(checkpoint.encoded()))
        #expect(loaded.calibration == learner.calibration)
        #expect(loaded.predictWithScores(x).scores == scores)

        // A file saved before the calibration existed serves the weights as they were.
        func state(_ change: (inout [String: Any]) -> Void) throws -> Checkpoint {
            try checkpoint.changingLearnerState(change)
        }
        let older = try Learner(checkpoint: state { $0["calibration"] = nil })
        #expect(older.calibration == ScoreCalibration())
        #expect(older.predictWithScores(x).scores == raw)
        // A crafted calibration is refused, naming where it is.
        let crafted = try state { $0["calibration"] = ["classes": [0], "counted": [1.0], "faded": [1.0], "losses": [[1.0, 2.0]]] }
        #expect { try Learner(checkpoint: crafted) } throws: {
            "\($0)".contains("/sections/learner/state") && "\($0)".contains("calibration")
        }
        let negative = try state { $0["calibration"] = ["classes": [1, 0], "counted": [1.0, 1.0], "faded": [1.0, 1.0],
                                                        "losses": Array(repeating: Array(repeating: 1.0, count: 105), count: 2)] }
        #expect { try Learner(checkpoint: negative) } throws: { "\($0)".contains("calibration") }
    }

    @Test("log-loss and calibration error of known scores")
    func quality() {
        var quality = ScoreQuality()
        #expect(quality.logLoss == nil && quality.calibrationError == nil)
        // Two rows at 0.75 for class 0, one right; one row at 1 for class 1, wrong (label 0 got 0).
        let scores = Matrix([[0.75, 0.25], [0.75, 0.25], [0, 1]])
        quality.add(scores: scores, labels: [0, 1, 0], predicted: [0, 0, 1])
        #expect(quality.rows == 3)
        let expected = (-log(0.75) - log(0.25) - log(1e-12)) / 3
        #expect(abs(quality.logLoss! - expected) < 1e-6)
        // Bin of 0.75: accuracy 0.5, confidence 0.75; bin of 1: accuracy 0, confidence 1.
        #expect(abs(quality.calibrationError! - (2.0 / 3 * 0.25 + 1.0 / 3 * 1)) < 1e-6)
        // A label without a column is not counted.
        quality.add(scores: Matrix([[0.5, 0.5]]), labels: [7], predicted: [0])
        #expect(quality.rows == 3)
    }
}
