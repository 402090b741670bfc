/// The Page-Hinkley test for an increase in the mean of a stream (here: the error
/// indicator, 1 when a sample was misclassified).
///
/// ```
/// x̄_t = mean of x_1…x_t  (or fading: x̄_t = x̄_{t-1} + (x_t - x̄_{t-1}) / min(t, 1/(1-α)))
/// m_t = m_{t-1} + (x_t - x̄_t - δ)
/// M_t = min(M_{t-1}, m_t)
/// drift when m_t - M_t > λ  (after at least `minimumSamples`)
/// ```
///
/// Reference: E. S. Page, "Continuous inspection schemes", Biometrika 41 (1954); the
/// parameters follow River's `drift.PageHinkley` (δ = 0.005, λ = 50, α = 0.9999).
/// After a detection the test resets, so it can fire again on the next change.
public struct PageHinkley: Sendable, Equatable, Codable {
    public var delta: Double
    public var threshold: Double
    public var alpha: Double
    public var minimumSamples: Int

    public private(set) var count: Int = 0
    public private(set) var mean: Double = 0
    public private(set) var cumulative: Double = 0
    public private(set) var minimum: Double = 0
    /// Detections so far.
    public private(set) var detections: Int = 0

    public init(delta: Double = 0.005, threshold: Double = 50, alpha: Double = 0.9999, minimumSamples: Int = 30) {
        precondition(delta >= 0 && threshold > 0, "Page-Hinkley needs delta >= 0 and a positive threshold")
        precondition(alpha > 0 && alpha <= 1, "Page-Hinkley's fading factor must be in (0, 1]")
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self.minimumSamples = minimumSamples
    }

    /// The test statistic `m_t - M_t`.
    public var statistic: Double { cumulative - minimum }

    /// Adds one observation; returns true when a drift (an increase) is detected.
    @discardableResult
    public mutating func update(_ x: Double) -> Bool {
        count += 1
        mean += (x - mean) / Double(count)
        cumulative = alpha * cumulative + (x - mean - delta)
        minimum = min(minimum, cumulative)
        if count >= minimumSamples && statistic > threshold {
            detections += 1
            reset()
            return true
        }
        return false
    }

    /// Forgets the stream so far (keeps the detection count).
    public mutating func reset() {
        count = 0
        mean = 0
        cumulative = 0
        minimum = 0
    }
}
