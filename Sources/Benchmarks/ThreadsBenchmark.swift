import MoE

/// Where a second OpenBLAS thread pays: `cblas_sgemm` on the framework's product shapes
/// with one and with two threads, timed in turn, by FLOPs (`2 m n k`).
///
/// The shapes are those of the MLP's training step (`B x 784 x 256` and its backward
/// products), of the gate's random features (`B x 784 x 2048`) and a square series, at
/// batch sizes from 8 to 1024, plus the gate's Float64 statistics (`dsyrk` scatter of 2048
/// features, `dpotrf` factor): from 10^5 to 10^10 FLOPs. `BLAS.ThreadPolicy`'s threshold
/// comes from this table (docs/benchmarks.md).
public enum ThreadsBenchmark {
    /// One shape's timing.
    public struct Figure: Sendable, Equatable, Codable {
        /// `sgemm`, `dsyrk` (the gate's Float64 scatter) or `dpotrf` (its Cholesky factor).
        public var operation: String
        /// sgemm: `op(A)` is `m x k`, `op(B)` is `k x n`; dsyrk: `n x n` from `k` rows
        /// (`m = n`); dpotrf: `n x n` (`m = n`, `k = n`).
        public var m: Int, n: Int, k: Int
        /// The FLOPs the thread policy counts: `2 m n k`, `n² k`, `n³ / 3`.
        public var flops: Double
        /// Median microseconds of one product with one thread and with two.
        public var oneThreadMicroseconds: Double
        public var twoThreadsMicroseconds: Double
        /// One-thread time over two-thread time (above 1: the second thread pays).
        public var speedup: Double

        public init(operation: String = "sgemm", m: Int, n: Int, k: Int, flops: Double? = nil,
                    oneThreadMicroseconds: Double, twoThreadsMicroseconds: Double) {
            self.operation = operation
            (self.m, self.n, self.k) = (m, n, k)
            self.flops = flops ?? 2 * Double(m) * Double(n) * Double(k)
            self.oneThreadMicroseconds = oneThreadMicroseconds
            self.twoThreadsMicroseconds = twoThreadsMicroseconds
            speedup = oneThreadMicroseconds / twoThreadsMicroseconds
        }
    }

    /// The shapes measured by default, in increasing FLOPs.
    public static let defaultShapes: [(m: Int, n: Int, k: Int)] = {
        var shapes: [(m: Int, n: Int, k: Int)] = []
        for batch in [8, 32, 128, 512, 1024] {
            shapes.append((batch, 256, 784))     // forward, first layer
            shapes.append((784, 256, batch))     // its weight gradient
            shapes.append((batch, 128, 256))     // second layer
            shapes.append((batch, 2048, 784))    // random features
        }
        for size in [64, 128, 256, 512, 1024] { shapes.append((size, size, size)) }
        return shapes.sorted { $0.m * $0.n * $0.k < $1.m * $1.n * $1.k }
    }()

    /// The gate's Float64 products: the scatter of `k` rows of 2048 random features
    /// (`dsyrk`) and the Cholesky factor of 1024 and 2048 features (`dpotrf`).
    public static let defaultStatisticsShapes: [(operation: String, n: Int, k: Int)] = [
        ("dsyrk", 2048, 128), ("dsyrk", 2048, 512), ("dsyrk", 2048, 1024), ("dpotrf", 1024, 1024), ("dpotrf", 2048, 2048),
    ]

    /// Times every shape with one and two threads (`repeats` medians of about 20 ms each).
    public static func run(
        shapes: [(m: Int, n: Int, k: Int)] = defaultShapes,
        statistics: [(operation: String, n: Int, k: Int)] = defaultStatisticsShapes, repeats: Int = 7, seed: UInt64 = 1
    ) -> [Figure] {
        precondition(repeats > 0, "Need at least one repeat")
        var generator = SeededGenerator(seed: seed)
        var figures = shapes.map { shape in
            let a = Matrix.uniform(rows: shape.m, columns: shape.k, low: -1, high: 1, using: &generator)
            let b = Matrix.uniform(rows: shape.k, columns: shape.n, low: -1, high: 1, using: &generator)
            var c = Matrix(rows: shape.m, columns: shape.n)
            let flops = 2 * Double(shape.m) * Double(shape.n) * Double(shape.k)
            let (one, two) = time(flops: flops, repeats: repeats) { c.addProduct(a, b, keep: 0) }
            return Figure(m: shape.m, n: shape.n, k: shape.k, oneThreadMicroseconds: one, twoThreadsMicroseconds: two)
        }
        for shape in statistics {
            let n = shape.n, k = shape.k
            let rows = (0..<(k * n)).map { _ in Double(generator.nextUnitFloat()) - 0.5 }
            var c = [Double](repeating: 0, count: n * n)
            if shape.operation == "dsyrk" {
                let flops = Double(n) * Double(n) * Double(k)
                let (one, two) = time(flops: flops, repeats: repeats) {
                    rows.withUnsafeBufferPointer { a in
                        c.withUnsafeMutableBufferPointer { p in
                            BLAS.dsyrk(transpose: true, n: n, k: k, alpha: 1, a: a.baseAddress!, lda: n, beta: 0,
                                       c: p.baseAddress!, ldc: n)
                        }
                    }
                }
                figures.append(Figure(operation: "dsyrk", m: n, n: n, k: k, flops: flops, oneThreadMicroseconds: one,
                                      twoThreadsMicroseconds: two))
            } else {
                // A positive definite matrix: the scatter of k >= n random rows plus n on the diagonal.
                rows.withUnsafeBufferPointer { a in
                    c.withUnsafeMutableBufferPointer { p in
                        BLAS.dsyrk(transpose: true, n: n, k: k, alpha: 1, a: a.baseAddress!, lda: n, beta: 0,
                                   c: p.baseAddress!, ldc: n)
                    }
                }
                for i in 0..<n { c[i * n + i] += Double(n) }
                let flops = Double(n) * Double(n) * Double(n) / 3
                var factor = c
                let (one, two) = time(flops: flops, repeats: repeats) {
                    factor = c
                    let info = factor.withUnsafeMutableBufferPointer { BLAS.dpotrf(n: n, a: $0.baseAddress!, lda: n) }
                    precondition(info == 0, "The benchmark's matrix is positive definite")
                }
                figures.append(Figure(operation: "dpotrf", m: n, n: n, k: n, flops: flops, oneThreadMicroseconds: one,
                                      twoThreadsMicroseconds: two))
            }
        }
        return figures.sorted { $0.flops < $1.flops }
    }

    /// Median microseconds of one call of `body` with one thread and with two, timed in
    /// turn, about 20 ms per timing.
    private static func time(flops: Double, repeats: Int, _ body: () -> Void) -> (one: Double, two: Double) {
        let calls = max(1, Int(1e9 / flops))
        func calling() { for _ in 0..<calls { body() } }
        var one: [Double] = [], two: [Double] = []
        for round in 0..<(repeats + 1) {
            for threads in round % 2 == 0 ? [1, 2] : [2, 1] {
                let t = BLAS.withThreadPolicy(.fixed(threads)) { Stopwatch.time(calling) } / Double(calls) * 1e6
                guard round > 0 else { continue }  // warm-up
                if threads == 1 { one.append(t) } else { two.append(t) }
            }
        }
        return (Stopwatch.median(of: one), Stopwatch.median(of: two))
    }

    /// A table of the figures.
    public static func report(_ figures: [Figure]) -> String {
        var lines = ["operation      m      n      k       FLOPs   1 thread us   2 threads us   speedup"]
        for f in figures {
            lines.append(
                f.operation + String(repeating: " ", count: max(0, 9 - f.operation.count)) + pad(String(f.m), 7) + pad(String(f.n), 7) + pad(String(f.k), 7)
                    + pad(scientific(f.flops), 12) + pad(decimals(f.oneThreadMicroseconds, 1), 14)
                    + pad(decimals(f.twoThreadsMicroseconds, 1), 15) + pad(decimals(f.speedup, 2), 10))
        }
        return lines.joined(separator: "\n")
    }
}

/// Right-aligns `text` in `width` columns.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

/// `value` rounded to `places` decimals.
func decimals(_ value: Double, _ places: Int) -> String {
    guard value.isFinite else { return String(value) }
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = String(rounded)
    if places == 0, text.hasSuffix(".0") { text.removeLast(2) }
    return text
}

/// `1.2e+07` style.
func scientific(_ value: Double) -> String {
    guard value > 0, value.isFinite else { return String(value) }
    var exponent = 0
    var mantissa = value
    while mantissa >= 10 { mantissa /= 10; exponent += 1 }
    while mantissa < 1 { mantissa *= 10; exponent -= 1 }
    return decimals(mantissa, 1) + "e" + (exponent < 0 ? "-" : "+") + String(abs(exponent))
}
