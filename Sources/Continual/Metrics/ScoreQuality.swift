import Foundation
import MoE

/// How well a model's scores (every class's probability) describe how often it is right,
/// over labelled rows: the log-loss (the mean of `-log p(label)`) and the expected
/// calibration error (rows binned by their largest score into ``bins`` equal-width bins;
/// the mean over rows of `|accuracy - mean largest score|` of their bin).
public struct ScoreQuality: Sendable, Equatable {
    /// Confidence bins of the calibration error.
    public static let bins = 15
    /// The smallest probability the log-loss reads: a label given no weight at all costs
    /// `-log(1e-12)` ≈ 27.6, not infinity.
    public static let smallest = 1e-12

    private var loss = 0.0
    private var confidence = [Double](repeating: 0, count: Self.bins)
    private var right = [Int](repeating: 0, count: Self.bins)
    private var counted = [Int](repeating: 0, count: Self.bins)
    /// Rows counted.
    public private(set) var rows = 0

    public init() {}

    /// Counts every row of `scores` (`rows x classes`) whose label `labels[r]` has a
    /// column; the predicted class of a row is `predicted[r]` (its largest score).
    public mutating func add(scores: Matrix, labels: [Int], predicted: [Int]) {
        for r in 0..<scores.rows where labels[r] >= 0 && labels[r] < scores.columns {
            let top = Double(scores[r, predicted[r]])
            loss -= log(max(Double(scores[r, labels[r]]), Self.smallest))
            let bin = min(Self.bins - 1, max(0, Int(top * Double(Self.bins))))
            confidence[bin] += top
            counted[bin] += 1
            if predicted[r] == labels[r] { right[bin] += 1 }
            rows += 1
        }
    }

    /// The mean log-loss (nil before any row).
    public var logLoss: Double? { rows > 0 ? loss / Double(rows) : nil }

    /// The expected calibration error (nil before any row).
    public var calibrationError: Double? {
        guard rows > 0 else { return nil }
        var error = 0.0
        for b in 0..<Self.bins where counted[b] > 0 {
            error += abs(Double(right[b]) - confidence[b]) / Double(rows)
        }
        return error
    }
}
