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
        var times = (0..<repeats).map { _ in time(body) }
        times.sort()
        return times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
    }
}
