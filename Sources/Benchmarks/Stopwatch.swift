/// Timing helpers for the benchmarks: medians of repeated runs, in seconds.
public enum Stopwatch {
    /// Seconds taken by `body`.
    public static func time(_ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let elapsed = clock.measure(body)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    /// The median of `repeats` timings of `body` after `warmup` untimed runs.
    public static func median(repeats: Int, warmup: Int = 1, _ body: () -> Void) -> Double {
        precondition(repeats > 0, "Need at least one repeat")
        for _ in 0..<warmup { body() }
        return median(of: (0..<repeats).map { _ in time(body) })
    }

    /// The median of some timings.
    public static func median(of times: [Double]) -> Double {
        precondition(!times.isEmpty, "Need at least one timing")
        let sorted = times.sorted()
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
}
