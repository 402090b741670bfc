import MoE

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

/// The rate of `cblas_sgemm` on one shape, under the process's thread policy: the yardstick
/// a stream's FLOP rate is set against (`moe stream --json`).
public enum SgemmYardstick {
    /// The deepest product `moe stream` times for its yardstick (`k`): OpenBLAS's sgemm
    /// reaches its rate on the gate's shape within a few hundred columns and keeps it.
    public static let widestTimed = 4096

    /// GFLOP/s of `m x k` times `k x n` products, median of `repeats` timings of `runs`
    /// products each (the default shape is the gate's random features of a batch of 128).
    /// Operands are uniform in [-1, 1): the rate does not depend on the values, and drawing
    /// 1.7 million normal values took longer than the products timed.
    public static func gflopsPerSecond(m: Int = 128, n: Int = 2048, k: Int = 784, runs: Int = 4, repeats: Int = 5) -> Double {
        var generator = SeededGenerator(seed: 1)
        var a = Matrix(rows: m, columns: k), b = Matrix(rows: k, columns: n)
        a.apply { _ in 2 * generator.nextUnitFloat() - 1 }
        b.apply { _ in 2 * generator.nextUnitFloat() - 1 }
        var c = Matrix(rows: m, columns: n)
        let seconds = Stopwatch.median(repeats: repeats) {
            for _ in 0..<runs { c.addProduct(a, b, keep: 0) }
        }
        return 2 * Double(m) * Double(n) * Double(k) * Double(runs) / seconds / 1e9
    }
}
