import MoE

/// Where a learner's time goes: seconds per phase of `observe`, accumulated by this
/// process (a resumed learner starts from zero), and the floating-point work of the
/// products it made, so that a stream's speed can be set against `cblas_sgemm`'s.
public struct LearnerProfile: Sendable, Equatable, Codable {
    /// Validating and scaling the inputs.
    public var prepare = 0.0
    /// The forward pass, the gate's routing and the answers (prediction first).
    public var predict = 0.0
    /// The covariance tracker and its detector report.
    public var covariance = 0.0
    /// The gate's class statistics.
    public var gateStatistics = 0.0
    /// Refits of the gate's discriminant.
    public var refit = 0.0
    /// Refits made.
    public var refits = 0
    /// Training steps of the slot in charge (half-learning included).
    public var training = 0.0
    /// Growth decisions and growth.
    public var growth = 0.0
    /// Replay buffer updates and sampling.
    public var replay = 0.0
    /// Floating-point operations of the BLAS and LAPACK calls made in each phase (keys:
    /// the names of ``phases``, and "refit").
    public var flops: [String: Double] = [:]

    public init() {}

    /// Every phase, with the name reports give it, in report order.
    static var named: [(path: WritableKeyPath<LearnerProfile, Double>, name: String)] {
        [(\.prepare, "prepare"), (\.predict, "predict"), (\.covariance, "covariance"),
         (\.gateStatistics, "gate_statistics"), (\.refit, "refit"), (\.training, "training"),
         (\.growth, "growth"), (\.replay, "replay")]
    }

    /// The name of the phase a key path points at (nil for a path that is not a phase).
    static func name(of phase: WritableKeyPath<LearnerProfile, Double>) -> String? {
        named.first { $0.path == phase }?.name
    }

    /// Seconds in all phases.
    public var total: Double { prepare + predict + covariance + gateStatistics + refit + training + growth + replay }

    /// The phases by name, for reports.
    public var phases: [(name: String, seconds: Double)] {
        Self.named.map { ($0.name, self[keyPath: $0.path]) }
    }
}

/// Laps of a monotonic clock, charged to the phases of a profile; the time refits took
/// in the meantime (they happen inside other phases) is charged to `refit` only.
struct PhaseClock {
    private var last = ContinuousClock.now
    private var refits: Double
    private var lastFlops = BLAS.flopsPerformed
    private var refitFlops: Double

    init(refits: Double = 0, refitFlops: Double = 0) {
        self.refits = refits
        self.refitFlops = refitFlops
    }

    /// Floating-point operations since the previous call (or since the clock was made).
    mutating func work() -> Double {
        let now = BLAS.flopsPerformed
        defer { lastFlops = now }
        return now - lastFlops
    }

    /// Seconds since the previous lap (or since the clock was made).
    mutating func lap() -> Double {
        let now = ContinuousClock.now
        let elapsed = now - last
        last = now
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    /// Charges the time since the previous lap, less refits, to `phase` (nil: nowhere).
    mutating func lap(into phase: WritableKeyPath<LearnerProfile, Double>?, of profile: inout LearnerProfile) {
        let spent = lap() - (profile.refit - refits)
        refits = profile.refit
        let refitWork = profile.flops["refit", default: 0]
        let done = work() - (refitWork - refitFlops)
        refitFlops = refitWork
        if let phase {
            profile[keyPath: phase] += max(0, spent)
            if let name = LearnerProfile.name(of: phase) { profile.flops[name, default: 0] += max(0, done) }
        }
    }
}
