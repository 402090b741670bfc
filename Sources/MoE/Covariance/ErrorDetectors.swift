#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The rule that decides which neurons are error detectors (METHOD.md section 1).
///
/// A neuron is a detector when its correlation with correctness is negative enough,
/// significantly so, and survives a false-discovery guard over every tested neuron
/// (those with more than two samples and non-zero variances):
///
/// ```
/// rho_j <= -rhoMin   and   t_j <= -tMin   and   p_j = P(T_{n_j - 2} <= t_j) passes the guard
/// ```
///
/// The default guard is Benjamini-Hochberg (1995) at `q = 0.05` over all hidden neurons
/// of all layers together: sort the `m` p-values, find the largest `k` with
/// `p_(k) <= k q / m`, and keep the `k` smallest. It bounds the expected *fraction* of
/// false detectors among those reported, whatever the width of the network, while
/// Bonferroni (`p_j <= alpha / m`, also offered) bounds the chance of even one and loses
/// real detectors when many exist (at the start of a new task dozens of neurons detect
/// the novelty). The `t` threshold alone already corresponds to a one-sided p-value of
/// about 3e-5 for `t = -4`, so with the defaults the guard only bites for very wide
/// networks or small windows. BH is valid for independent or positively dependent tests
/// (Benjamini and Yekutieli 2001); neurons of one layer are dependent, so read its
/// guarantee as approximate. Streaming samples are treated as independent.
///
/// With `target == .loss` the signs flip: a detector correlates *positively* with the
/// loss. External targets are read like correctness (negative means detector).
public struct ErrorDetectors: Sendable, Equatable, Codable {
    /// How many false discoveries to tolerate among thousands of tested neurons.
    public enum FalseDiscoveryControl: Sendable, Equatable, Codable, CustomStringConvertible {
        /// Thresholds only.
        case none
        /// Keep `p_j <= familyWiseRate / m`.
        case bonferroni(familyWiseRate: Double)
        /// Benjamini-Hochberg step-up at false-discovery rate `rate`.
        case benjaminiHochberg(rate: Double)

        public var description: String {
            switch self {
            case .none: "no false-discovery guard"
            case let .bonferroni(a): "Bonferroni alpha = \(a)"
            case let .benjaminiHochberg(q): "Benjamini-Hochberg q = \(q)"
            }
        }
    }

    /// `rhoMin`: the smallest |rho| that counts.
    public var minimumCorrelation: Double
    /// `tMin`: the smallest |t| that counts.
    public var minimumT: Double
    /// The guard against false discoveries.
    public var falseDiscovery: FalseDiscoveryControl

    /// The defaults (`rho <= -0.1`, `t <= -4`, Benjamini-Hochberg at 0.05) come from the
    /// experiment recorded in docs/algorithm.md.
    public init(minimumCorrelation: Double = 0.1, minimumT: Double = 4,
                falseDiscovery: FalseDiscoveryControl = .benjaminiHochberg(rate: 0.05)) {
        precondition(minimumCorrelation >= 0 && minimumCorrelation <= 1, "rhoMin must be in [0, 1], got \(minimumCorrelation)")
        precondition(minimumT >= 0, "tMin must be non-negative, got \(minimumT)")
        switch falseDiscovery {
        case .none: break
        case let .bonferroni(a): precondition(a > 0 && a < 1, "A family-wise rate must be in (0, 1), got \(a)")
        case let .benjaminiHochberg(q): precondition(q > 0 && q < 1, "A false-discovery rate must be in (0, 1), got \(q)")
        }
        self.minimumCorrelation = minimumCorrelation
        self.minimumT = minimumT
        self.falseDiscovery = falseDiscovery
    }

    /// The detectors among the neurons a tracker has seen.
    public func report(_ tracker: CovarianceTracker) -> DetectorReport {
        report(tracker.statistics, target: tracker.target)
    }

    /// The detectors among neurons with the given statistics.
    public func report(_ statistics: [LayerStatistics], target: CovarianceTracker.Target = .correctness) -> DetectorReport {
        // Orient so that "more negative" always means "more of an error detector".
        let sign: Double = target == .loss ? -1 : 1
        struct Candidate { var layer: Int; var neuron: Int; var p: Double }
        var tested: [Candidate] = []
        // Only the p-values that can matter are computed (the continued fraction of every
        // neuron, every batch, was a seventh of a one-row-a-batch stream's time): a
        // neuron's own, when its t passes `-tMin` (a detector reports it); and under
        // Benjamini-Hochberg at `q`, every one that can be at most `q`, the largest cutoff
        // the step-up can choose. For `t < 0` Student's `P(T <= t)` exceeds the normal
        // `Φ(t)` at any degrees of freedom (its tails are heavier, and the two CDFs meet
        // only at 0), so `Φ(t) > q` (with a margin far above rounding) says `p > q`: such
        // a p-value is 1 here, above every cutoff it could meet, and the report, cutoff
        // and detectors are the same to the last bit.
        let bound: Double
        if case let .benjaminiHochberg(q) = falseDiscovery { bound = q * (1 + 1e-9) + 1e-12 } else { bound = -1 }
        for (l, s) in statistics.enumerated() {
            for j in 0..<s.width where s.isTestable(j) {
                let t = sign * s.t[j]
                let matters = t <= -minimumT || (bound >= 0 && 0.5 * erfc(-t / 2.0.squareRoot()) <= bound)
                let p = matters ? StudentT.cdf(t, degreesOfFreedom: s.count[j] - 2) : 1
                tested.append(Candidate(layer: l, neuron: j, p: p))
            }
        }
        let m = Double(tested.count)
        // The largest p-value the guard lets through.
        var cutoff: Double
        switch falseDiscovery {
        case .none: cutoff = 1
        case let .bonferroni(alpha): cutoff = alpha / m
        case let .benjaminiHochberg(q):
            cutoff = -1
            let sorted = tested.map(\.p).sorted()
            for k in stride(from: sorted.count, through: 1, by: -1) where sorted[k - 1] <= Double(k) * q / m {
                cutoff = sorted[k - 1]
                break
            }
        }
        var layers = statistics.enumerated().map { l, s in DetectorReport.Layer(layer: l, width: s.width, detectors: []) }
        for candidate in tested where candidate.p <= cutoff {
            let s = statistics[candidate.layer], j = candidate.neuron
            guard sign * s.correlation[j] <= -minimumCorrelation, sign * s.t[j] <= -minimumT else { continue }
            layers[candidate.layer].detectors.append(DetectorReport.Detector(
                neuron: j, covariance: s.covariance[j], rho: s.correlation[j], t: s.t[j], n: s.count[j], pValue: candidate.p))
        }
        for l in layers.indices {
            layers[l].detectors.sort { sign * $0.rho < sign * $1.rho || (sign * $0.rho == sign * $1.rho && $0.neuron < $1.neuron) }
        }
        return DetectorReport(layers: layers, target: target, criteria: self, testedNeurons: tested.count)
    }
}
