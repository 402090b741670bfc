import Foundation

/// A temperature and a share of doubt for the probabilities a learner serves (`moe
/// predict --scores`), fitted to the stream's own prequential predictions.
///
/// The mixture's weights `Σ_s m_s q_s(c)` are as sure as the gate's discriminant, which is
/// surer than it is right: on Fashion-MNIST's test images, after Split, 72% of the rows got
/// 0.99 or more for one class and 93.8% of those were right, and a row the gate routes
/// away from its class gives that class no weight at all (the log-loss was 2.13, the
/// expected calibration error 0.105). Every first-visit row is scored before anything
/// learns from it, so its predicted weights and its label are an honest sample of how
/// sure the learner should be. Each row adds, for every pair of a temperature `T` and a
/// share `a` of a fixed grid, the log-loss of
///
/// ```
/// q(c)  ∝ p(c)^(1/T)                  (0 where p(c) is 0)
/// p'(c) = (1 - a) q(c) + a / K        over the K classes the learner had seen
/// ```
///
/// and the pair with the least expected loss calibrates the scores served. The
/// temperature flattens or sharpens the weights the mixture gave; the share is the chance
/// that it missed the class altogether (a routing error), spread over every class. Both
/// keep the order of the classes, so the largest score is still the predicted class.
///
/// The loss is kept per class, and the classes' means are weighed by their shares of the
/// rows counted: a stream's rows need not come in the proportions its classes have (in
/// class order they come one class at a time, and a loss kept over the latest rows would
/// judge every class's scores by the newest one's). Within a class, its `n`-th row weighs
/// `n`, faded with a half-life of 4,096 of its rows (the other judges' half-life,
/// ``AnswerArbiter/Settings/halfLife``): a prequential prediction is made by a learner that
/// knows less than the one that will serve the scores, most of all early in a class's
/// life, so the later rows, whatever the class's length, describe the learner better (the
/// first half of a class's rows weighs a quarter). Rows of a class the learner had not
/// seen are not counted (no score could have named it), nor rows whose scores were class
/// shares (``Learner``'s prior answers and the stream's most frequent class): those are
/// calibrated as they are, and served so.
public struct ScoreCalibration: Sendable, Codable, Equatable {
    /// The shares of doubt tried.
    public static let shares: [Double] = [0, 1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.3]
    /// The temperatures tried: 2^(k/2) for k = -6 ... 8 (0.125 to 16).
    public static let temperatures: [Double] = (-6...8).map { exp2(Double($0) / 2) }
    /// Half-life of a class's losses, in its rows.
    public static let halfLife = 4096.0
    /// The smallest probability the losses read (a class given no weight with no share of
    /// doubt), so that a loss stays finite.
    public static let smallest = 1e-12
    /// Pairs of the grid.
    static var pairs: Int { shares.count * temperatures.count }

    /// The classes counted, ascending.
    public private(set) var classes: [Int] = []
    /// Per class: the rows counted (not faded), the sum of its rows' faded weights, and per
    /// share (major) and temperature the sum of its rows' log-losses by those weights.
    public private(set) var counted: [Double] = []
    public private(set) var faded: [Double] = []
    public private(set) var losses: [[Double]] = []

    /// Nothing counted: scores are served as the mixture weighs them.
    public init() {}

    /// Rows counted, over every class.
    public var rows: Double { counted.reduce(0, +) }

    /// Whether a saved calibration is whole (a checkpoint's is checked on load).
    public var isValid: Bool {
        let k = classes.count
        return counted.count == k && faded.count == k && losses.count == k && zip(classes, classes.dropFirst()).allSatisfy { $0 < $1 }
            && classes.allSatisfy { $0 >= 0 }
            && losses.allSatisfy { $0.count == Self.pairs && $0.allSatisfy { $0.isFinite && $0 >= 0 } }
            && zip(counted, faded).allSatisfy { $0.isFinite && $1.isFinite && $0 >= 1 && $1 > 0 && $1 <= $0 * ($0 + 1) / 2 }
    }

    /// `weights` (non-negative, over `K` classes) tempered by `t`: `p^(1/t)` normalised,
    /// 0 where the weight is 0 (uniform when every weight is 0).
    static func tempered(_ weights: [Double], _ t: Double) -> [Double] {
        let positive = weights.filter { $0 > 0 }
        guard let top = positive.max() else { return weights.map { _ in 1 / Double(weights.count) } }
        let scaled = weights.map { $0 > 0 ? exp(log($0 / top) / t) : 0 }
        let sum = scaled.reduce(0, +)
        return scaled.map { $0 / sum }
    }

    /// Counts rows whose weights `weights[r]` (over `seen`, the classes the learner had
    /// seen, in that order) were served for label `labels[r]`; a row whose label is not in
    /// `seen` is skipped.
    public mutating func record(weights: [[Double]], seen: [Int], labels: [Int]) {
        let fade = exp2(-1 / Self.halfLife)
        let temperatures = Self.temperatures
        let index = Dictionary(uniqueKeysWithValues: seen.enumerated().map { ($1, $0) })
        for (row, label) in zip(weights, labels) {
            guard let y = index[label], y < row.count, row.count > 1 else { continue }
            // The first class at or after `label` (the classes are ascending).
            var k = 0, end = classes.count
            while k < end {
                let middle = (k + end) / 2
                if classes[middle] < label { k = middle + 1 } else { end = middle }
            }
            if k == classes.count || classes[k] != label {
                classes.insert(label, at: k)
                counted.insert(0, at: k)
                faded.insert(0, at: k)
                losses.insert(Array(repeating: 0, count: Self.pairs), at: k)
            }
            counted[k] += 1
            let weight = counted[k]
            faded[k] = faded[k] * fade + weight
            for i in losses[k].indices { losses[k][i] *= fade }
            let uniform = 1 / Double(row.count)
            // The label's tempered weight at every temperature, from the logs of the
            // positive weights relative to the largest.
            let top = row.max()!
            let logs = top > 0 ? row.compactMap { $0 > 0 ? log($0 / top) : nil } : []
            let own = row[y] > 0 ? log(row[y] / top) : nil
            for (j, t) in temperatures.enumerated() {
                var q = 1 / Double(row.count)
                if !logs.isEmpty {
                    var sum = 0.0
                    for l in logs { sum += exp(l / t) }
                    q = own.map { exp($0 / t) / sum } ?? 0
                }
                for (i, a) in Self.shares.enumerated() {
                    losses[k][i * temperatures.count + j] -= weight * log(max((1 - a) * q + a * uniform, Self.smallest))
                }
            }
        }
    }

    /// The temperature and share of doubt with the least expected loss (each class's
    /// weighted mean, weighed by its share of the rows); nil while no row is counted.
    public var fitted: (temperature: Double, share: Double)? {
        let total = rows
        guard total > 0 else { return nil }
        var expected = [Double](repeating: 0, count: Self.pairs)
        for k in classes.indices {
            let weight = counted[k] / total / faded[k]
            for p in expected.indices { expected[p] += weight * losses[k][p] }
        }
        var best: (loss: Double, temperature: Double, share: Double)?
        for (i, a) in Self.shares.enumerated() {
            for (j, t) in Self.temperatures.enumerated() {
                let loss = expected[i * Self.temperatures.count + j]
                if best == nil || loss < best!.loss { best = (loss, t, a) }
            }
        }
        return best.map { ($0.temperature, $0.share) }
    }

    /// `weights` (over the classes seen, summing to 1) calibrated: unchanged while nothing
    /// is counted.
    public func calibrate(_ weights: [Double]) -> [Double] {
        guard let fit = fitted else { return weights }
        return Self.calibrate(weights, fit)
    }

    /// `weights` tempered by `fit.temperature` and given the share of doubt `fit.share`.
    public static func calibrate(_ weights: [Double], _ fit: (temperature: Double, share: Double)) -> [Double] {
        guard !weights.isEmpty else { return weights }
        let uniform = 1 / Double(weights.count)
        return tempered(weights, fit.temperature).map { (1 - fit.share) * $0 + fit.share * uniform }
    }
}
