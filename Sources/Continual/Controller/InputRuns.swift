import Foundation

/// Whether a slot's first visits come with their inputs in runs: consecutive rows lie
/// closer together, in some feature, than the same rows in a random order would. A file
/// sorted by a measurement (a date, an age) or kept in groups (rows by subject) shows
/// this; a shuffled one does not.
///
/// Per feature, over the slot's `n` first visits `x_1 … x_n` (raw inputs, in their order),
/// with `M2 = Σ (x_t − x̄)²` and `D = Σ_{t>1} (x_t − x_{t−1})²`:
///
/// ```
/// r = 1 − D / (2 M2)          the lag-one serial correlation (von Neumann's ratio)
/// z = r √n
/// ```
///
/// In a random order of the same values `E[D] = 2 M2` exactly, and `r √n` is close to a
/// standard normal whatever the values' distribution, as long as the values are not
/// concentrated on a few rows: a 0/1 feature with three ones in a thousand rows makes
/// `D` a count of a rare event, and two adjacent ones (a chance of 0.6%) would read as
/// `z` = 10. So only features whose effective number of rows `n_eff = M2² / M4` (`M4 =
/// Σ (x_t − x̄)⁴`: `n / 3` for Gaussian values, the number of the rarer value's rows for
/// a rare 0/1 feature) gives `n_eff² / n ≥` ``minimumPairs`` expected coincidences are
/// tested; and the inputs come in runs when the largest `z` among the `k` tested features
/// passes the one-sided normal quantile of `p / k` (Bonferroni, `p` the chance
/// ``AnswerArbiter/runsZ`` gives labels: a shuffled stream passes once in 740, however
/// many features it has).
///
/// The moments are updated one row at a time (Terriberry's extension of Welford's
/// update to the third and fourth central moments), in Float64.
public struct InputRuns: Sendable, Equatable, Codable {
    /// Rows counted.
    public private(set) var count: Int = 0
    /// Per feature: the mean, and the sums of the deviations' squares, cubes and fourth
    /// powers.
    public private(set) var mean: [Double] = []
    public private(set) var m2: [Double] = []
    public private(set) var m3: [Double] = []
    public private(set) var m4: [Double] = []
    /// Per feature: the sum of the squared differences of consecutive rows.
    public private(set) var successive: [Double] = []
    /// The latest row counted.
    public private(set) var last: [Double] = []

    /// Expected coincidences a feature needs to be tested: `n_eff² / n`, the number of
    /// consecutive pairs in which both rows carry much of the feature's spread. (At 30, a
    /// Poisson count's upper tail at the test's quantile is within a factor of three of
    /// the normal's.)
    public static let minimumPairs = 30.0

    public init() {}

    /// The number of features (0 before the first row).
    public var width: Int { mean.count }

    /// Counts one row of raw inputs (every value finite).
    mutating func add(_ row: UnsafeBufferPointer<Float>) {
        if count == 0 {
            mean = Array(repeating: 0, count: row.count)
            m2 = mean
            m3 = mean
            m4 = mean
            successive = mean
            last = mean
        }
        precondition(row.count == mean.count, "InputRuns counts rows of \(mean.count) features, got \(row.count)")
        let n1 = Double(count)
        count += 1
        let n = Double(count)
        let first = count == 1
        mean.withUnsafeMutableBufferPointer { mean in
            m2.withUnsafeMutableBufferPointer { m2 in
                m3.withUnsafeMutableBufferPointer { m3 in
                    m4.withUnsafeMutableBufferPointer { m4 in
                        successive.withUnsafeMutableBufferPointer { successive in
                            last.withUnsafeMutableBufferPointer { last in
                                for j in 0..<row.count {
                                    let x = Double(row[j])
                                    if !first {
                                        let step = x - last[j]
                                        successive[j] += step * step
                                    }
                                    last[j] = x
                                    let delta = x - mean[j]
                                    let deltaN = delta / n
                                    let deltaN2 = deltaN * deltaN
                                    let term = delta * deltaN * n1
                                    mean[j] += deltaN
                                    m4[j] += term * deltaN2 * (n * n - 3 * n + 3) + 6 * deltaN2 * m2[j] - 4 * deltaN * m3[j]
                                    m3[j] += term * deltaN * (n - 2) - 3 * deltaN * m2[j]
                                    m2[j] += term
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The largest `z` among the tested features and how many were tested.
    public var strongest: (z: Double, tested: Int) {
        let n = Double(count)
        guard count > 2 else { return (0, 0) }
        var top = -Double.infinity
        var tested = 0
        for j in 0..<width where m2[j] > 0 && m4[j] > 0 {
            let effective = m2[j] * m2[j] / m4[j]
            guard effective * effective / n >= Self.minimumPairs else { continue }
            tested += 1
            top = max(top, (1 - successive[j] / (2 * m2[j])) * n.squareRoot())
        }
        return (tested > 0 ? top : 0, tested)
    }

    /// Whether the rows come in runs: the strongest tested feature's `z` passes the
    /// one-sided normal quantile of `tail / tested` (``strongest``).
    public func comeInRuns(tail: Double) -> Bool {
        let (z, tested) = strongest
        guard tested > 0 else { return false }
        return z > InputMoments.normalQuantile(upperTail: tail / Double(tested))
    }

    /// Checks a decoded value: every array as wide as the others, the count not negative,
    /// and no row counted without features.
    func validated() -> String? {
        guard count >= 0 else { return "a negative row count \(count)" }
        let widths = [mean.count, m2.count, m3.count, m4.count, successive.count, last.count]
        guard Set(widths).count == 1 else { return "moments of different widths \(widths)" }
        guard (count == 0) == (width == 0) else { return "\(count) rows counted over \(width) features" }
        guard (mean + m2 + m3 + m4 + successive + last).allSatisfy(\.isFinite) else { return "a value that is not finite" }
        return nil
    }
}
