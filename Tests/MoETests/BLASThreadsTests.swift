// These tests reach internal API (@testable import), which only a debug build exposes:
// `swift test` in debug runs them; a release test build leaves them out.
#if DEBUG
import Foundation
import Testing
@testable import MoE
import TestSupport

/// The thread policy of `BLAS`, and the reproducibility it rests on: OpenBLAS's sgemm and
/// ssyrk give the same bits run after run with two threads (not always the bits of one
/// thread), and each call gets the count its size asks for, also among concurrent calls.
@Suite("BLAS threads", .serialized)
struct BLASThreadsTests {
    /// How many elements differ in their bits (compared as a count: a failing `#expect`
    /// on two arrays of a million elements would diff them for minutes).
    func differences(_ a: [Float], _ b: [Float]) -> Int {
        precondition(a.count == b.count, "Sizes differ")
        var count = 0
        for i in a.indices where a[i].bitPattern != b[i].bitPattern { count += 1 }
        return count
    }

    /// `body` under `policy` (for this test's task only: other suites run meanwhile).
    func with<R>(_ policy: BLAS.ThreadPolicy, _ body: () -> R) -> R {
        BLAS.withThreadPolicy(policy, body)
    }

    @Test("sgemm: identical bits run after run with two threads, and the bits of one thread",
          arguments: [(512, 2048, 784), (784, 256, 512), (1000, 333, 517), (128, 2048, 784), (40, 2048, 784), (64, 64, 64),
                      (73, 128, 817), (66, 256, 784)])
    func sgemmBits(_ shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        let a = randomMatrix(m, k, seed: 1), b = randomMatrix(k, n, seed: 2)
        let bt = b.transposed, ta = a.transposed
        with(.fixed(2)) {
            let first = Matrix.matmul(a, b)
            for run in 0..<5 {
                #expect(differences(Matrix.matmul(a, b).scalars, first.scalars) == 0, "run \(run) of \(m)x\(n)x\(k)")
                // The transposed forms go through other OpenBLAS drivers.
                let firstT = Matrix.matmul(a, bt, transposeB: true), firstA = Matrix.matmul(ta, b, transposeA: true)
                #expect(differences(Matrix.matmul(a, bt, transposeB: true).scalars, firstT.scalars) == 0, "run \(run), B transposed")
                #expect(differences(Matrix.matmul(ta, b, transposeA: true).scalars, firstA.scalars) == 0, "run \(run), A transposed")
            }
        }
        // Against one thread: the same bits, in every form. A product given more threads is
        // cut into blocks of rows (of columns when the rows are few), each a one-thread call;
        // OpenBLAS's own threads cut `128 x 2048 x 784` otherwise, and its bits differed.
        for threads in [2, 3] {
            for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                let left = transposeA ? ta : a, right = transposeB ? bt : b
                let one = with(.fixed(1)) { Matrix.matmul(left, right, transposeA: transposeA, transposeB: transposeB) }
                let more = with(.fixed(threads)) { Matrix.matmul(left, right, transposeA: transposeA, transposeB: transposeB) }
                #expect(differences(one.scalars, more.scalars) == 0,
                        "\(m)x\(n)x\(k), \(threads) threads, transposed A \(transposeA), B \(transposeB)")
            }
        }
    }

    @Test("OpenBLAS is opened with idle threads that sleep at once, unless the environment says otherwise")
    func idleThreadsSleep() {
        _ = BLAS.info
        let value = getenv("OPENBLAS_THREAD_TIMEOUT").map { String(cString: $0) }
        // "4" (2^4 cycles), or a value the environment gave, which is kept.
        #expect(value.flatMap { Int($0) }.map { $0 > 0 } == true, "OPENBLAS_THREAD_TIMEOUT is \(value ?? "not set") once OpenBLAS is open")
    }

    @Test("a split product's blocks start at multiples of 32 and cover it once")
    func cuts() {
        #expect(BLAS.cuts(128, parts: 2) == [0, 64, 128])
        #expect(BLAS.cuts(100, parts: 2) == [0, 64, 100])
        #expect(BLAS.cuts(40, parts: 2) == [0, 40])
        #expect(BLAS.cuts(2048, parts: 3) == [0, 704, 1376, 2048])
        #expect(BLAS.cuts(64, parts: 8) == [0, 32, 64])
        // No block so small that OpenBLAS's kernel for small products would take it: the
        // 9 rows left of an expert's `73 x 128 x 817` stay with the first 64.
        #expect(BLAS.cuts(73, parts: 2, flopsPerLine: 2 * 128 * 817) == [0, 73])
        #expect(BLAS.cuts(128, parts: 2, flopsPerLine: 2 * 2048 * 784) == [0, 64, 128])
        #expect(BLAS.cuts(2048, parts: 3, flopsPerLine: 2 * 8 * 400) == [0, 1024, 2048])
    }

    @Test("dpotrf: the bits of one thread with two")
    func factorisationBits() {
        let n = 1024
        let x = randomMatrix(2 * n, n, seed: 9)
        let gram = with(.fixed(1)) { Matrix.matmul(x, x, transposeA: true) }
        let spd = (0..<(n * n)).map { Double(gram.scalars[$0]) + ($0 % (n + 1) == 0 ? 1 : 0) }
        func factor() -> [Double] {
            var a = spd
            let info = a.withUnsafeMutableBufferPointer { BLAS.dpotrf(n: n, a: $0.baseAddress!, lda: n) }
            #expect(info == 0)
            return a
        }
        let one = with(.fixed(1)) { factor() }
        let two = with(.fixed(2)) { factor() }
        #expect(one == two)
    }

    @Test("spotrf: the bits of one call on one thread, blocked on two", arguments: [300, 1000, 1501, 2048])
    func blockedFactorisationBits(_ n: Int) {
        let x = randomMatrix(n + 64, n, seed: 10)
        let gram = with(.fixed(1)) { Matrix.matmul(x, x, transposeA: true) }
        let spd = (0..<(n * n)).map { gram.scalars[$0] / Float(n) + ($0 % (n + 1) == 0 ? 0.01 : 0) }
        func factor() -> [Float] {
            var a = spd
            let info = a.withUnsafeMutableBufferPointer { BLAS.spotrf(n: n, a: $0.baseAddress!, lda: n) }
            #expect(info == 0)
            // Only the factor's triangle (the upper one, row-major) is the result.
            return (0..<(n * n)).map { $0 / n <= $0 % n ? a[$0] : 0 }
        }
        let one = with(.fixed(1)) { factor() }
        let two = with(.fixed(2)) { factor() }
        #expect(differences(one, two) == 0, "\(n) features")
        // A matrix that is not positive definite names the same failing minor either way.
        var broken = spd
        broken[(n - 3) * (n + 1)] = -1
        let failing = with(.fixed(2)) { broken.withUnsafeMutableBufferPointer { BLAS.spotrf(n: n, a: $0.baseAddress!, lda: n) } }
        #expect(failing == n - 2)
    }

    @Test("the same product under the automatic policy, from eight threads at once, gives one thread count's bits")
    func concurrentCalls() async {
        let a = randomMatrix(512, 784, seed: 6), b = randomMatrix(784, 2048, seed: 7)
        let small = randomMatrix(64, 784, seed: 8)
        let policy = BLAS.ThreadPolicy.automatic(threads: 2, minimumFLOPs: 1e9)
        let (big, little) = with(policy) { (Matrix.matmul(a, b), Matrix.matmul(small, b)) }
        let mismatches = await BLAS.$scopedPolicy.withValue(policy) {
            await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var wrong = 0
                    for _ in 0..<3 {
                        // Alternate big (two threads) and small (one thread) products.
                        if task % 2 == 0 {
                            wrong += differences(Matrix.matmul(a, b).scalars, big.scalars)
                        } else {
                            wrong += differences(Matrix.matmul(small, b).scalars, little.scalars)
                        }
                    }
                    return wrong
                }
            }
            return await group.reduce(0, +)
        }
        }
        #expect(mismatches == 0)
    }

    @Test("ssyrk: identical bits run after run with two threads")
    func ssyrkBits() {
        let n = 1024, k = 700
        let a = randomMatrix(k, n, seed: 3)
        func scatter() -> [Float] {
            var c = [Float](repeating: 0, count: n * n)
            a.scalars.withUnsafeBufferPointer { pa in
                c.withUnsafeMutableBufferPointer { pc in
                    BLAS.ssyrk(transpose: true, n: n, k: k, alpha: 1, a: pa.baseAddress!, lda: n, beta: 0,
                               c: pc.baseAddress!, ldc: n)
                }
            }
            return c
        }
        let first = with(.fixed(2)) { scatter() }
        with(.fixed(2)) {
            for run in 0..<4 { #expect(differences(scatter(), first) == 0, "run \(run)") }
        }
        // And one thread's bits, whatever the kernel (cut into pieces by its size alone
        // where OpenBLAS's threads would change them).
        #expect(differences(with(.fixed(1)) { scatter() }, first) == 0)
    }

    @Test("dsyrk and dsymm: one thread's bits with two, at shapes whose OpenBLAS threads changed them",
          arguments: [150, 600, 2048])
    func doubleBits(_ p: Int) {
        var generator = SeededGenerator(seed: 22)
        func doubles(_ count: Int) -> [Double] { (0..<count).map { _ in Double.random(in: -0.5..<0.5, using: &generator) } }
        // A Gram matrix of 150 rows of p features (the few-rows fit) and the refinement's
        // residual of 20 classes (OpenBLAS's threaded dsyrk and dsymm gave other bits here).
        let rows = 150, classes = 20
        let x = doubles(rows * p), b = doubles(classes * p)
        var symmetric = doubles(p * p)
        for i in 0..<p { for j in 0..<i { symmetric[i * p + j] = symmetric[j * p + i] } }
        func compute() -> [Double] {
            var gram = [Double](repeating: 0, count: rows * rows)
            var residual = b
            x.withUnsafeBufferPointer { x in
                gram.withUnsafeMutableBufferPointer { g in
                    BLAS.dsyrk(transpose: false, n: rows, k: p, alpha: 1, a: x.baseAddress!, lda: p, beta: 0,
                               c: g.baseAddress!, ldc: rows)
                }
            }
            symmetric.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { bs in
                    residual.withUnsafeMutableBufferPointer { r in
                        BLAS.dsymmRight(m: classes, n: p, alpha: -0.5, a: a.baseAddress!, lda: p, b: bs.baseAddress!, ldb: p,
                                        beta: 1, c: r.baseAddress!, ldc: p)
                    }
                }
            }
            return (0..<(rows * rows)).map { $0 / rows <= $0 % rows ? gram[$0] : 0 } + residual
        }
        let one = with(.fixed(1)) { compute() }, two = with(.fixed(2)) { compute() }
        #expect(zip(one, two).filter { $0.bitPattern != $1.bitPattern }.count == 0, "\(p) features")
    }

    @Test("a discriminant's fit (factor, solves, refinement): the same bits on one thread and two")
    func fitBits() throws {
        var generator = SeededGenerator(seed: 21)
        let p = 600, classes = 20
        let x = Matrix.uniform(rows: 1500, columns: p, low: 0, high: 1, using: &generator)
        let labels = (0..<1500).map { _ in generator.nextInt(below: classes) }
        // The scatter's flush (its ssyrk and its Float64 sums, in parts under two threads).
        func gathered() -> ClassStatistics {
            var statistics = ClassStatistics(featureCount: p)
            statistics.update(features: x, labels: labels)
            statistics.flush()
            return statistics
        }
        let statistics = with(.fixed(1)) { gathered() }
        #expect(with(.fixed(2)) { gathered() }.state == statistics.state)
        let one = with(.fixed(1)) { try? statistics.fitDiscriminant() }
        let two = with(.fixed(2)) { try? statistics.fitDiscriminant() }
        let fitted = try #require(one), other = try #require(two)
        #expect(differences(fitted.weight.scalars, other.weight.scalars) == 0)
        #expect(differences(fitted.bias.scalars, other.bias.scalars) == 0)
    }

    @Test("the automatic policy: two threads from the threshold on, one below")
    func automatic() {
        let policy = BLAS.ThreadPolicy.automatic(threads: 2, minimumFLOPs: 1e9)
        #expect(policy.threads(forFLOPs: 999_999_999) == 1)
        #expect(policy.threads(forFLOPs: 1e9) == 2)
        #expect(policy.maximumThreads == 2)
        #expect(BLAS.ThreadPolicy.fixed(3).threads(forFLOPs: 1) == 3)
        #expect(policy.description == "2 threads for products of at least 1e9 FLOPs, 1 below")
        #expect(BLAS.ThreadPolicy.fixed(1).description == "1 thread for every product")
    }

    @Test("the measured policy takes two threads while other processes leave 1.5 CPUs free, from /proc/stat's busy time less ours")
    func measuredFromOtherProcesses() throws {
        let two = BLAS.ThreadPolicy.automatic(threads: 2, minimumFLOPs: BLAS.ThreadPolicy.measuredMinimumFLOPs)
        #expect(BLAS.ThreadPolicy.measured(cpus: 2, othersBusy: 0) == two)
        #expect(BLAS.ThreadPolicy.measured(cpus: 2, othersBusy: 0.5) == two)
        #expect(BLAS.ThreadPolicy.measured(cpus: 2, othersBusy: 0.6) == .fixed(1))
        #expect(BLAS.ThreadPolicy.measured(cpus: 1, othersBusy: 0) == .fixed(1))
        #expect(BLAS.ThreadPolicy.measured(cpus: 8, othersBusy: 6) == two)
        // user nice system idle iowait irq softirq steal guest guest_nice, in ticks.
        let text = "cpu  100 20 30 5000 40 5 6 7 0 0\ncpu0 50 10 15 2500 20 2 3 3 0 0\n"
        #expect(CPUActivity.busySeconds(procStat: text, ticksPerSecond: 100) == 1.68)
        #expect(CPUActivity.busySeconds(procStat: "intr 1 2 3\n", ticksPerSecond: 100) == nil)
        #expect(CPUActivity.busySeconds(procStat: "cpu 1 2 x 4 5 6 7 8\n", ticksPerSecond: 100) == nil)
        // Over 2 s, the machine was busy 3 CPU-seconds, this process 1: one CPU for others.
        let first = CPUActivity.Reading(busySeconds: 10, ownSeconds: 0.5, wallSeconds: 100)
        let last = CPUActivity.Reading(busySeconds: 13, ownSeconds: 1.5, wallSeconds: 102)
        #expect(CPUActivity.othersBusy(from: first, to: last) == 1)
        #expect(CPUActivity.othersBusy(from: first, to: first) == 0)
        #if os(Linux)
        let now = try #require(CPUActivity.read())
        #expect(now.busySeconds > 0 && now.ownSeconds > 0)
        let busy = try #require(CPUActivity.othersBusy())
        #expect(busy >= 0 && busy.isFinite)
        #endif
    }

    @Test("MOE_BLAS_THREADS values: a count or auto; anything else is refused")
    func environmentValues() throws {
        #expect(BLAS.ThreadPolicy(environmentValue: "1") == .fixed(1))
        #expect(BLAS.ThreadPolicy(environmentValue: " 2 ") == .fixed(2))
        let measured = try #require(BLAS.ThreadPolicy(environmentValue: "auto"))
        #expect([.fixed(1), .automatic(threads: 2, minimumFLOPs: BLAS.ThreadPolicy.measuredMinimumFLOPs)].contains(measured))
        for bad in ["0", "-1", "two", "2.5", "", "auto2", "1000"] {
            #expect(BLAS.ThreadPolicy(environmentValue: bad) == nil, "'\(bad)'")
        }
    }

    @Test("a thread policy saved as JSON reads back as it was; a count below one is refused")
    func policyJSON() throws {
        for policy in [BLAS.ThreadPolicy.fixed(1), .fixed(2), .automatic(threads: 2, minimumFLOPs: 3e7)] {
            let data = try JSONEncoder().encode(policy)
            #expect(try JSONDecoder().decode(BLAS.ThreadPolicy.self, from: data) == policy, "\(String(decoding: data, as: UTF8.self))")
        }
        #expect(String(decoding: try JSONEncoder().encode(BLAS.ThreadPolicy.fixed(2)), as: UTF8.self) == #"{"fixed":2}"#)
        for bad in [#"{"fixed":0}"#, #"{"automatic":{"threads":0,"minimumFLOPs":1}}"#, #"{"threads":2}"#] {
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(BLAS.ThreadPolicy.self, from: Data(bad.utf8)) }
        }
    }

    @Test("an epoch of training gives the same bits run after run with two threads on every product")
    func training() {
        func train() -> MixtureOfExperts {
            with(.fixed(2)) {
                var generator = SeededGenerator(seed: 4)
                var model = MixtureOfExperts(sizes: [784, 256, 128, 10], generator: &generator)
                var trainer = Trainer(optimizer: Adam(), batchSize: 256, seed: 4)
                let x = randomMatrix(1024, 784, seed: 5)
                _ = trainer.epoch(&model, features: x, labels: (0..<1024).map { $0 % 10 })
                return model
            }
        }
        let first = train(), second = train()
        for (path, value) in first.parameters {
            #expect(differences(value.scalars, second.parameters[path]!.scalars) == 0, "\(path)")
        }
    }
}
#endif
