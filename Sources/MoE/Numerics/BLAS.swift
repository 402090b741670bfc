import CBLAS
import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The BLAS that computes every matrix product: OpenBLAS's CBLAS, opened at run time.
///
/// Debian's OpenBLAS does not recognise recent Intel CPUs and falls back to its SSE3
/// (`Prescott`) kernels, about five times slower than the CPU allows. It reads
/// `OPENBLAS_CORETYPE` only when the library loads, so this type chooses the kernel from
/// the CPU's features (`/proc/cpuinfo`) *before* opening the library (``kernelChoice``):
/// `MOE_BLAS_KERNEL` forces a kernel; an `OPENBLAS_CORETYPE` already in the environment
/// is kept unless it names an older x86 kernel than the CPU runs (a machine-wide
/// workaround for OpenBLAS's detection: the development machine sets `Haswell` on an
/// AVX-512 CPU, where `SkylakeX` streams the main job in 0.75 of the time).
///
/// This is the only file that touches the CBLAS module or a raw C function pointer.
public enum BLAS {
    /// What was loaded and how it was configured.
    public struct Info: Sendable, Codable, Equatable {
        /// The library file that was opened.
        public var library: String
        /// The kernel OpenBLAS reports (`openblas_get_corename()`), e.g. `SkylakeX`.
        public var kernel: String
        /// Where the kernel choice came from: `MOE_BLAS_KERNEL`, `environment`,
        /// `cpu-features`, `cpu-features over OPENBLAS_CORETYPE=…` or `library-default`.
        public var kernelSource: String
        /// Threads OpenBLAS was set to when it loaded (1); each product then uses the
        /// count ``BLAS/threadPolicy`` gives it.
        public var threads: Int
    }

    /// The loaded library's description.
    public static var info: Info { library.info }

    /// How many threads OpenBLAS uses for each product; see ``ThreadPolicy``. The
    /// default is ``ThreadPolicy/standard``: `MOE_BLAS_THREADS` from the environment if
    /// set, else ``ThreadPolicy/measured``.
    public static var threadPolicy: ThreadPolicy {
        get { threads.policy }
        set { threads.policy = newValue }
    }

    /// Uses `count` threads for every product (`threadPolicy = .fixed(count)`).
    public static func setThreads(_ count: Int) {
        precondition(count >= 1, "BLAS thread count must be at least 1")
        threadPolicy = .fixed(count)
    }

    /// `C = alpha * op(A) * op(B) + beta * C` on row-major Float32 buffers.
    ///
    /// - Parameters: `m`, `n`, `k` are the sizes of `op(A)` (m x k) and `op(B)` (k x n);
    ///   `lda`, `ldb`, `ldc` are the row strides of the stored (not transposed) buffers.
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        let flops = 2 * Double(m) * Double(n) * Double(k)
        // More threads split C into blocks of rows (of columns when the rows are few), each
        // computed by a one-thread call in a thread of its own: OpenBLAS's one-thread
        // result of an element does not depend on the block it is in, while its threaded
        // driver cuts the inner dimension of some shapes otherwise (the gate's `128 x 784 x
        // 2048` differs in most elements). So the bits are those of one thread, whatever
        // the policy.
        // Blocks of fewer FLOPs than `splitMinimumFLOPs` would take OpenBLAS's paths for
        // small products, whose bits need not be those of the whole.
        // With a kernel whose elements need not keep their bits from one block to another
        // (``threadsKeepBits``), the cut depends on the product's size alone, and the
        // blocks run one after the other on one thread: the bits do not depend on the
        // thread count there either.
        let threadCount = threads.count(forFLOPs: flops), blocks = max(1, Int(flops / splitMinimumFLOPs))
        let byRows = m >= 2 * splitAlignment
        let cuts = Self.cuts(byRows ? m : n, parts: threadsKeepBits ? min(threadCount, blocks) : min(2, blocks),
                             flopsPerLine: flops / Double(byRows ? m : n))
        guard cuts.count > 2 else {
            threads.runOnOneThread(flops: flops) {
                library.sgemm(
                    transposeA, transposeB, Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
            }
            return
        }
        let operands = Operands(a: a, b: b, c: c)
        let block: @Sendable (Int) -> Void = { part in
            let start = cuts[part], size = cuts[part + 1] - start
            let (rows, columns) = byRows ? (size, n) : (m, size)
            // A block of rows reads op(A)'s rows from `start` (A's columns when it is
            // transposed); a block of columns, op(B)'s columns (B's rows when transposed).
            let a = byRows ? operands.a + (transposeA ? start : start * lda) : operands.a
            let b = byRows ? operands.b : operands.b + (transposeB ? start * ldb : start)
            let c = operands.c + (byRows ? start * ldc : start)
            threads.runOnOneThread(flops: 2 * Double(rows) * Double(columns) * Double(k)) {
                library.sgemm(
                    transposeA, transposeB, Int32(rows), Int32(columns), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
            }
        }
        if threadCount > 1 {
            DispatchQueue.concurrentPerform(iterations: cuts.count - 1, execute: block)
        } else {
            for part in 0..<(cuts.count - 1) { block(part) }
        }
    }

    /// Whether this kernel keeps one thread's bits in OpenBLAS's own threaded `ssyrk`,
    /// `strsm` and `spotrs` and gives an element of a product the same bits in any block
    /// of rows or columns. Measured, not assumed: true of `SkylakeX`, the kernel this
    /// project picks on AVX-512 machines (`BLASThreadsTests`, and scans through `ctypes`
    /// of `ssyrk` from 150 to 2,048 features and 1 to 1,500 rows and of `spotrs` with 2
    /// to 64 right-hand sides, compared bit for bit; its threaded `dsyrk` and `dsymm` are
    /// not, and never get OpenBLAS's threads); false of `Haswell`, which AVX2 machines
    /// get, where OpenBLAS's threaded `ssyrk` and `strsm`, and `sgemm` cut into blocks of
    /// rows, differ from one thread in thousands of elements. With any other kernel
    /// products, `ssyrk`, the solves and the Cholesky factor are cut into pieces by their
    /// size alone, each a one-thread call (run side by side under two threads, one after
    /// the other under one), so results are the same bits on any number of threads
    /// whatever the kernel.
    public static var threadsKeepBits: Bool { kernelsWhoseThreadsKeepBits.contains(library.info.kernel) }

    /// The kernels ``threadsKeepBits`` holds for.
    static let kernelsWhoseThreadsKeepBits: Set<String> = ["SkylakeX"]

    /// Runs an OpenBLAS call of `flops` with the threads the policy gives it when the
    /// kernel keeps one thread's bits with more (``threadsKeepBits``), on one otherwise.
    private static func runKeepingBits<R>(flops: Double, _ body: () -> R) -> R {
        threadsKeepBits ? threads.run(flops: flops, body) : threads.runOnOneThread(flops: flops, body)
    }

    /// The fewest FLOPs of a block of a split product: half the threshold from which the
    /// measured policy gives a product two threads.
    static let splitMinimumFLOPs = ThreadPolicy.measuredMinimumFLOPs / 2

    /// Blocks of a split product start at multiples of this many rows or columns, so that
    /// every block but the last is whole in OpenBLAS's micro-kernels.
    static let splitAlignment = 32

    /// Where `size` rows or columns, each of `flopsPerLine`, are cut into at most `parts`
    /// blocks, each starting at a multiple of ``splitAlignment`` and none of fewer FLOPs
    /// than ``splitMinimumFLOPs`` (fewer blocks when the last would be smaller): `[0, …,
    /// size]`. A small last block takes OpenBLAS's kernel for small products, whose bits
    /// are not the whole product's: the 9 rows left of `73 x 128 x 817` (an expert's
    /// first layer) differed in 1,065 of their 1,152 elements, so two threads gave other
    /// bits than one.
    static func cuts(_ size: Int, parts: Int, flopsPerLine: Double) -> [Int] {
        var parts = parts
        while parts > 1 {
            let cut = cuts(size, parts: parts)
            let smallest = zip(cut.dropFirst(), cut).map { $0 - $1 }.min() ?? size
            if Double(smallest) * flopsPerLine >= splitMinimumFLOPs { return cut }
            parts -= 1
        }
        return [0, size]
    }

    /// Where `size` rows or columns are cut into at most `parts` blocks, each starting at a
    /// multiple of ``splitAlignment``: `[0, …, size]`.
    static func cuts(_ size: Int, parts: Int) -> [Int] {
        let blocks = max(1, min(parts, size / splitAlignment))
        var cuts = [0]
        for i in 1..<blocks {
            let cut = (size * i / blocks + splitAlignment - 1) / splitAlignment * splitAlignment
            if cut > cuts.last! && cut < size { cuts.append(cut) }
        }
        return cuts + [size]
    }

    /// A product's buffers, handed to the threads that compute its blocks (each writes
    /// rows or columns of `c` no other writes).
    private struct Operands: @unchecked Sendable {
        let a: UnsafePointer<Float>
        let b: UnsafePointer<Float>
        let c: UnsafeMutablePointer<Float>
    }

    /// `C = alpha * op(A) * op(A)ᵀ + beta * C` on the **upper triangle** of a row-major
    /// symmetric `n x n` Float32 buffer (`cblas_ssyrk`); the strict lower triangle of `C`
    /// is neither read nor written.
    ///
    /// `op(A)` is `n x k`: with `transpose` true, `A` is stored `k x n` and the product is
    /// `Aᵀ A` (the scatter of `k` samples of width `n`, rows = samples).
    public static func ssyrk(
        transpose: Bool, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if n == 0 { return }
        guard let function = library.ssyrkFunction else { missing("cblas_ssyrk") }
        let flops = Double(n) * Double(n) * Double(k)
        if !threadsKeepBits && transpose && flops >= ThreadPolicy.measuredMinimumFLOPs && n >= 4 * splitAlignment {
            ssyrkInPieces(n: n, k: k, alpha: alpha, a: a, lda: lda, beta: beta, c: c, ldc: ldc)
            return
        }
        // CblasRowMajor = 101, CblasUpper = 121, CblasNoTrans = 111, CblasTrans = 112.
        runKeepingBits(flops: flops) {
            function(101, 121, transpose ? 112 : 111, Int32(n), Int32(k), alpha, a, Int32(lda), beta, c, Int32(ldc))
        }
    }

    /// ``ssyrk(transpose:n:k:alpha:a:lda:beta:c:ldc:)`` (`Aᵀ A`) in pieces cut by its size
    /// alone, for kernels whose threaded `ssyrk` gives other bits than one thread
    /// (``threadsKeepBits``): the upper triangle of the leading `s x s` block, `s` about
    /// `n / √2`, by one `ssyrk`, and the rows above the diagonal to its right and the
    /// trailing block by an `sgemm` and an `ssyrk`, each call on one OpenBLAS thread. The
    /// two halves hold about as many FLOPs and run side by side when the policy gives the
    /// product two threads, one after the other otherwise: the same bits either way.
    private static func ssyrkInPieces(
        n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard let function = library.ssyrkFunction else { missing("cblas_ssyrk") }
        let split = min(n - splitAlignment, (n * 707 / 1000 + splitAlignment - 1) / splitAlignment * splitAlignment)
        let operands = Unchecked((a, c))
        let rest = n - split
        runPieces(2, flops: Double(n) * Double(n) * Double(k)) { piece in
            let (a, c) = operands.value
            if piece == 0 {
                threads.runOnOneThread(flops: Double(split) * Double(split) * Double(k)) {
                    function(101, 121, 112, Int32(split), Int32(k), alpha, a, Int32(lda), beta, c, Int32(ldc))
                }
            } else {
                threads.runOnOneThread(flops: 2 * Double(split) * Double(rest) * Double(k)) {
                    library.sgemm(true, false, Int32(split), Int32(rest), Int32(k), alpha, a, Int32(lda),
                                  a + split, Int32(lda), beta, c + split, Int32(ldc))
                }
                threads.runOnOneThread(flops: Double(rest) * Double(rest) * Double(k)) {
                    function(101, 121, 112, Int32(rest), Int32(k), alpha, a + split, Int32(lda), beta,
                             c + split * ldc + split, Int32(ldc))
                }
            }
        }
    }

    /// Whether the thread policy gives any call a second thread (a loop of this package's
    /// own, cut into pieces whose results do not depend on the cut, may then use one).
    static var allowsSecondThread: Bool { threads.count(forFLOPs: .greatestFiniteMagnitude) > 1 }

    /// Runs `count` pieces of a call of `flops` side by side when the policy gives it more
    /// than one thread, one after the other otherwise.
    private static func runPieces(_ count: Int, flops: Double, _ piece: @Sendable (Int) -> Void) {
        if threads.count(forFLOPs: flops) > 1 {
            DispatchQueue.concurrentPerform(iterations: count, execute: piece)
        } else {
            for i in 0..<count { piece(i) }
        }
    }

    /// `C = alpha * op(A) * op(A)ᵀ + beta * C` on the upper triangle of a row-major
    /// symmetric `n x n` Float64 buffer (`cblas_dsyrk`); see ``ssyrk(transpose:n:k:alpha:a:lda:beta:c:ldc:)``.
    public static func dsyrk(
        transpose: Bool, n: Int, k: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        if n == 0 { return }
        guard let function = library.dsyrkFunction else { missing("cblas_dsyrk") }
        // One thread on every kernel: OpenBLAS's threaded dsyrk gave other bits even with
        // SkylakeX (a Gram matrix of 150 rows of 2,048 features, 132 elements), and its
        // products here are small (a few hundred rows, or a batch's correction rows).
        threads.runOnOneThread(flops: Double(n) * Double(n) * Double(k)) {
            function(101, 121, transpose ? 112 : 111, Int32(n), Int32(k), alpha, a, Int32(lda), beta, c, Int32(ldc))
        }
    }

    /// Cholesky factorisation `A = Uᵀ U` in place (LAPACK `dpotrf`) of a symmetric
    /// positive definite `n x n` Float64 matrix stored row-major, of which only the
    /// **upper triangle** is read; `U` overwrites it.
    ///
    /// - Returns: LAPACK's `info`: 0 on success, `i > 0` when the leading minor of order
    ///   `i` is not positive definite (the factorisation could not be completed).
    public static func dpotrf(n: Int, a: UnsafeMutablePointer<Double>, lda: Int) -> Int {
        if n == 0 { return 0 }
        guard let function = library.dpotrfFunction else { missing("dpotrf_") }
        // Row-major upper is column-major lower: LAPACK is told 'L'.
        var uplo = CChar(UInt8(ascii: "L")), order = Int32(n), leading = Int32(lda), info: Int32 = 0
        // One thread: OpenBLAS's threaded factorisation blocks the matrix otherwise, and
        // its bits differ from one thread's.
        threads.runOnOneThread(flops: Double(n) * Double(n) * Double(n) / 3) {
            function(&uplo, &order, a, &leading, &info, 1)
        }
        return Int(info)
    }

    /// Solves `A X = B` (LAPACK `dpotrs`) with the factor written by
    /// ``dpotrf(n:a:lda:)``. The `count` right-hand sides are the **rows** of `b`
    /// (`count x n`, row stride `ldb >= n`) and are overwritten by the solutions.
    ///
    /// - Returns: LAPACK's `info` (0 on success, negative for an invalid argument).
    public static func dpotrs(
        n: Int, count: Int, a: UnsafePointer<Double>, lda: Int,
        b: UnsafeMutablePointer<Double>, ldb: Int
    ) -> Int {
        if n == 0 || count == 0 { return 0 }
        guard let function = library.dpotrsFunction else { missing("dpotrs_") }
        // Each right-hand side contiguous = a column-major n x count matrix.
        var uplo = CChar(UInt8(ascii: "L")), order = Int32(n), columns = Int32(count)
        var leadingA = Int32(lda), leadingB = Int32(ldb), info: Int32 = 0
        // One thread: the Float64 solves serve the rare fits whose Float32 factor failed,
        // and no kernel's threaded dpotrs was measured to keep one thread's bits.
        threads.runOnOneThread(flops: 2 * Double(n) * Double(n) * Double(count)) {
            function(&uplo, &order, &columns, a, &leadingA, b, &leadingB, &info, 1)
        }
        return Int(info)
    }

    /// `C = alpha * B * A + beta * C` (`cblas_dsymm`, side right) with `A` a symmetric
    /// `n x n` Float64 matrix of which only the **upper triangle** is read (row-major),
    /// `B` and `C` row-major `m x n`.
    public static func dsymmRight(
        m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        guard let function = library.dsymmFunction else { missing("cblas_dsymm") }
        let flops = 2 * Double(m) * Double(n) * Double(n)
        // CblasRowMajor = 101, CblasRight = 142, CblasUpper = 121.
        // OpenBLAS's threaded dsymm gave other bits than one thread even with SkylakeX (600
        // features, 17 rows or more), so it never gets OpenBLAS's threads. Each row of C is
        // its row of B times A: from 1,024 features two halves of the rows, one-thread
        // calls, give the whole call's bits with SkylakeX (2 to 64 rows, up to 4,096
        // features; at 300 features they did not); smaller ones run whole, on one thread.
        if m < 2 || n < 1024 || flops < ThreadPolicy.measuredMinimumFLOPs {
            threads.runOnOneThread(flops: flops) {
                function(101, 142, 121, Int32(m), Int32(n), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
            }
            return
        }
        let half = m / 2
        let operands = Unchecked((a, b, c))
        runPieces(2, flops: flops) { piece in
            let (start, rows) = piece == 0 ? (0, half) : (half, m - half)
            let (a, b, c) = operands.value
            threads.runOnOneThread(flops: flops * Double(rows) / Double(m)) {
                function(101, 142, 121, Int32(rows), Int32(n), alpha, a, Int32(lda), b + start * ldb, Int32(ldb), beta,
                         c + start * ldc, Int32(ldc))
            }
        }
    }

    /// ``dpotrf(n:a:lda:)`` in Float32 (LAPACK `spotrf`), the same bits on any number of
    /// threads.
    ///
    /// OpenBLAS's threaded factorisation cuts the matrix otherwise than its one-thread
    /// one, and its bits differ. Its one-thread `spotrf` is a blocked right-looking
    /// factorisation (`potrf_L_single`): columns in blocks of its sgemm's `Q` (`n / 4`
    /// when `n ≤ 4 Q`), each diagonal block factorised the same way, the block column
    /// below it solved against it (`trsm`) and the rest updated by it (`syrk`, `k` the
    /// block's width). With a kernel whose threaded `trsm` and `syrk` keep one thread's
    /// bits (``threadsKeepBits``) the same steps are made here, the diagonal blocks on one
    /// thread and the solves and updates with the threads the policy gives their size:
    /// with ``choleskyBlock``, SkylakeX's `Q`, that is one `spotrf` call's bits, on one
    /// thread or two (`BLASThreadsTests` from 300 to 2,048 features, `ctypes` from 200 to
    /// 4,096). At 2,048 features two threads take 0.61 of one call's time. Otherwise one
    /// `spotrf` call, on one thread.
    public static func spotrf(n: Int, a: UnsafeMutablePointer<Float>, lda: Int) -> Int {
        if n == 0 { return 0 }
        let flops = Double(n) * Double(n) * Double(n) / 3
        // With a kernel whose threaded solves and updates keep one thread's bits, blocks
        // only to use a second thread (one call's bits either way); with any other, always,
        // in pieces cut by size alone (the bits of those pieces on any thread count).
        guard n > choleskyBlock, !threadsKeepBits || threads.count(forFLOPs: flops) > 1,
              let strsm = library.strsmFunction, let ssyrk = library.ssyrkFunction else {
            return spotrfOnOneThread(n: n, a: a, lda: lda)
        }
        let blocking = n > 4 * choleskyBlock ? choleskyBlock : n / 4
        for j in stride(from: 0, to: n, by: blocking) {
            let width = min(blocking, n - j)
            let info = spotrfOnOneThread(n: width, a: a + j * lda + j, lda: lda)
            if info != 0 { return info + j }
            let rest = n - j - width
            guard rest > 0 else { continue }
            // Column-major, as LAPACK sees the buffer: the block column below the diagonal
            // block is L21 = A21 L11⁻ᵀ, and the lower triangle of the rest A22 -= L21 L21ᵀ.
            // CblasColMajor = 102, CblasRight = 142, CblasLower = 122, CblasTrans = 112,
            // CblasNonUnit = 131, CblasNoTrans = 111.
            let diagonal = a + j * lda + j, below = a + j * lda + j + width, trailing = a + (j + width) * lda + j + width
            guard !threadsKeepBits else {
                threads.run(flops: Double(rest) * Double(width) * Double(width)) {
                    strsm(102, 142, 122, 112, 131, Int32(rest), Int32(width), 1, diagonal, Int32(lda), below, Int32(lda))
                }
                threads.run(flops: Double(rest) * Double(rest) * Double(width)) {
                    ssyrk(102, 122, 111, Int32(rest), Int32(width), -1, below, Int32(lda), 1, trailing, Int32(lda))
                }
                continue
            }
            // The rows of the block column are solved independently: two halves. The update
            // of the rest, column-major lower, is the row-major upper `A21ᵀ`'s `Aᵀ A`.
            let half = rest / 2
            let operands = Unchecked((diagonal, below))
            runPieces(2, flops: Double(rest) * Double(width) * Double(width)) { piece in
                let (start, rows) = piece == 0 ? (0, half) : (half, rest - half)
                let (diagonal, below) = operands.value
                threads.runOnOneThread(flops: Double(rows) * Double(width) * Double(width)) {
                    strsm(102, 142, 122, 112, 131, Int32(rows), Int32(width), 1, diagonal, Int32(lda), below + start,
                          Int32(lda))
                }
            }
            if rest >= 4 * splitAlignment {
                ssyrkInPieces(n: rest, k: width, alpha: -1, a: below, lda: lda, beta: 1, c: trailing, ldc: lda)
            } else {
                threads.runOnOneThread(flops: Double(rest) * Double(rest) * Double(width)) {
                    ssyrk(102, 122, 111, Int32(rest), Int32(width), -1, below, Int32(lda), 1, trailing, Int32(lda))
                }
            }
        }
        return 0
    }

    /// The width of the column blocks of ``spotrf(n:a:lda:)`` above `4 x` it: the `Q` of
    /// OpenBLAS's SkylakeX sgemm, whose one-thread factorisation blocks the same way
    /// (found by factorising with every width from 8 to 1,016: only 448 gives its bits;
    /// Cooperlake's is 320, Sandybridge's 384).
    public static let choleskyBlock = 448

    /// LAPACK `spotrf` on one OpenBLAS thread (``spotrf(n:a:lda:)``).
    private static func spotrfOnOneThread(n: Int, a: UnsafeMutablePointer<Float>, lda: Int) -> Int {
        guard let function = library.spotrfFunction else { missing("spotrf_") }
        var uplo = CChar(UInt8(ascii: "L")), order = Int32(n), leading = Int32(lda), info: Int32 = 0
        threads.runOnOneThread(flops: Double(n) * Double(n) * Double(n) / 3) {
            function(&uplo, &order, a, &leading, &info, 1)
        }
        return Int(info)
    }

    /// ``dpotrs(n:count:a:lda:b:ldb:)`` in Float32 (LAPACK `spotrs`), with the factor of
    /// ``spotrf(n:a:lda:)``.
    public static func spotrs(
        n: Int, count: Int, a: UnsafePointer<Float>, lda: Int,
        b: UnsafeMutablePointer<Float>, ldb: Int
    ) -> Int {
        if n == 0 || count == 0 { return 0 }
        guard let function = library.spotrsFunction else { missing("spotrs_") }
        let flops = 2 * Double(n) * Double(n) * Double(count)
        let operands = Unchecked((a, b))
        @Sendable func solve(_ start: Int, _ size: Int) -> Int32 {
            var uplo = CChar(UInt8(ascii: "L")), order = Int32(n), columns = Int32(size)
            var leadingA = Int32(lda), leadingB = Int32(ldb), info: Int32 = 0
            function(&uplo, &order, &columns, operands.value.0, &leadingA, operands.value.1 + start * ldb, &leadingB, &info, 1)
            return info
        }
        if threadsKeepBits || count < 2 || flops < ThreadPolicy.measuredMinimumFLOPs {
            return Int(runKeepingBits(flops: flops) { solve(0, count) })
        }
        // Each right-hand side is solved on its own: two halves, cut by their count alone.
        let half = count / 2
        let infos = PieceResults(count: 2)
        runPieces(2, flops: flops) { piece in
            let (start, size) = piece == 0 ? (0, half) : (half, count - half)
            infos.set(piece, threads.runOnOneThread(flops: flops * Double(size) / Double(count)) { solve(start, size) })
        }
        return infos.firstNonZero
    }

    /// A value handed to the threads of a call's pieces (pointers into buffers each piece
    /// reads, or writes where no other piece does).
    private struct Unchecked<Value>: @unchecked Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    /// The `info` each piece of a LAPACK call returned (each piece writes its own).
    private final class PieceResults: @unchecked Sendable {
        private let values: UnsafeMutableBufferPointer<Int32>
        init(count: Int) {
            values = .allocate(capacity: count)
            values.initialize(repeating: 0)
        }
        deinit { values.deallocate() }
        func set(_ piece: Int, _ value: Int32) { values[piece] = value }
        var firstNonZero: Int { Int(values.first { $0 != 0 } ?? 0) }
    }

    private static func missing(_ symbol: String) -> Never {
        fatalError("\(library.info.library) has no \(symbol) symbol (an OpenBLAS built without it?)")
    }

    static let library = Library.open()

    /// The thread policy and OpenBLAS's current thread count, under one lock.
    static let threads = ThreadState(policy: .standard, library: library)

    struct Library: Sendable {
        let sgemmFunction: moe_cblas_sgemm_fn
        let setThreadsFunction: moe_openblas_set_num_threads_fn?
        let ssyrkFunction: moe_cblas_ssyrk_fn?
        let strsmFunction: moe_cblas_strsm_fn?
        let dsyrkFunction: moe_cblas_dsyrk_fn?
        let dpotrfFunction: moe_lapack_dpotrf_fn?
        let dpotrsFunction: moe_lapack_dpotrs_fn?
        let dsymmFunction: moe_cblas_dsymm_fn?
        let spotrfFunction: moe_lapack_spotrf_fn?
        let spotrsFunction: moe_lapack_spotrs_fn?
        let info: Info

        func sgemm(
            _ ta: Bool, _ tb: Bool, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: Float,
            _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafePointer<Float>, _ ldb: Int32,
            _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32
        ) {
            // CBLAS's enum values: CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112.
            sgemmFunction(
                101, ta ? 112 : 111, tb ? 112 : 111,
                m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        }

        func setThreads(_ count: Int32) {
            setThreadsFunction?(count)
        }

        static let candidates = [
            "libopenblas.so.0", "libopenblas.so",
            "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
            "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
            "libopenblas.dylib",
        ]

        static func open() -> Library {
            func variable(_ name: String) -> String? {
                getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
            }
            let choice = kernelChoice(forced: variable(kernelVariable), preset: variable("OPENBLAS_CORETYPE"),
                                      detected: kernelForThisCPU())
            if let kernel = choice.kernel { setenv("OPENBLAS_CORETYPE", kernel, 1) }
            // OpenBLAS's idle threads spin (`sched_yield`) for 2^28 cycles after every
            // threaded call before they sleep, so under the thread policy they never sleep:
            // the main job spent 7.4 s of system time on a 15.6 s stream, a core a second
            // process could have used. At 2^4 cycles they sleep at once and are woken for
            // the next threaded call: 0.7 s of system time, the stream 14.9 s, the same
            // bits (`docs/benchmarks.md`). Read when the library loads; a value already in
            // the environment is kept.
            if variable("OPENBLAS_THREAD_TIMEOUT") == nil { setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1) }
            let source = choice.source
            var handle: UnsafeMutableRawPointer?
            var opened = ""
            for name in candidates {
                handle = dlopen(name, RTLD_NOW | RTLD_LOCAL)
                if handle != nil { opened = name; break }
            }
            guard let handle else {
                fatalError(
                    "OpenBLAS could not be opened (tried \(candidates.joined(separator: ", "))). "
                        + "Install it: apt-get install libopenblas-dev")
            }
            guard let sgemmSymbol = dlsym(handle, "cblas_sgemm") else {
                fatalError("\(opened) has no cblas_sgemm symbol")
            }
            let sgemm = unsafeBitCast(sgemmSymbol, to: moe_cblas_sgemm_fn.self)
            let setThreads = dlsym(handle, "openblas_set_num_threads").map {
                unsafeBitCast($0, to: moe_openblas_set_num_threads_fn.self)
            }
            let getThreads = dlsym(handle, "openblas_get_num_threads").map {
                unsafeBitCast($0, to: moe_openblas_get_num_threads_fn.self)
            }
            // Optional routines: their absence only stops the code that needs them.
            let ssyrk = dlsym(handle, "cblas_ssyrk").map { unsafeBitCast($0, to: moe_cblas_ssyrk_fn.self) }
            let dsyrk = dlsym(handle, "cblas_dsyrk").map { unsafeBitCast($0, to: moe_cblas_dsyrk_fn.self) }
            let strsm = dlsym(handle, "cblas_strsm").map { unsafeBitCast($0, to: moe_cblas_strsm_fn.self) }
            let dpotrf = dlsym(handle, "dpotrf_").map { unsafeBitCast($0, to: moe_lapack_dpotrf_fn.self) }
            let dpotrs = dlsym(handle, "dpotrs_").map { unsafeBitCast($0, to: moe_lapack_dpotrs_fn.self) }
            let dsymm = dlsym(handle, "cblas_dsymm").map { unsafeBitCast($0, to: moe_cblas_dsymm_fn.self) }
            let spotrf = dlsym(handle, "spotrf_").map { unsafeBitCast($0, to: moe_lapack_spotrf_fn.self) }
            let spotrs = dlsym(handle, "spotrs_").map { unsafeBitCast($0, to: moe_lapack_spotrs_fn.self) }
            setThreads?(1)
            var kernel = "unknown"
            if let coreSymbol = dlsym(handle, "openblas_get_corename") {
                let coreName = unsafeBitCast(coreSymbol, to: moe_openblas_get_corename_fn.self)
                if let name = coreName() { kernel = String(cString: name) }
            }
            let threads = Int(getThreads?() ?? 1)
            return Library(
                sgemmFunction: sgemm, setThreadsFunction: setThreads,
                ssyrkFunction: ssyrk, strsmFunction: strsm, dsyrkFunction: dsyrk,
                dpotrfFunction: dpotrf, dpotrsFunction: dpotrs,
                dsymmFunction: dsymm, spotrfFunction: spotrf, spotrsFunction: spotrs,
                info: Info(library: opened, kernel: kernel, kernelSource: source, threads: threads))
        }

        /// The OpenBLAS kernel name for this CPU, from the flags in `/proc/cpuinfo`.
        static func kernelForThisCPU() -> String? {
            guard let file = fopen("/proc/cpuinfo", "r") else { return nil }
            defer { fclose(file) }
            var flags = Set<Substring>()
            var line: UnsafeMutablePointer<CChar>?
            var capacity = 0
            while getline(&line, &capacity, file) > 0 {
                let text = String(cString: line!)
                if text.hasPrefix("flags") {
                    if let colon = text.firstIndex(of: ":") {
                        flags = Set(text[text.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\n" }))
                    }
                    break
                }
            }
            free(line)
            return chooseKernel(flags: flags)
        }
    }

    /// The environment variable that forces an OpenBLAS kernel (`SkylakeX`, `Haswell`…)
    /// whatever the CPU and `OPENBLAS_CORETYPE` say.
    public static let kernelVariable = "MOE_BLAS_KERNEL"

    /// x86 kernels this type chooses, oldest first.
    static let kernelGenerations = ["Sandybridge", "Haswell", "SkylakeX"]

    /// The kernel to set as `OPENBLAS_CORETYPE` before OpenBLAS loads (nil: leave the
    /// environment as it is) and where it came from: `forced` (`MOE_BLAS_KERNEL`) if
    /// set; else the `preset` `OPENBLAS_CORETYPE`, unless it names an older kernel of
    /// ``kernelGenerations`` than the one `detected` for this CPU, which then wins; else
    /// the detected kernel; else the library's own choice.
    public static func kernelChoice(forced: String?, preset: String?, detected: String?) -> (kernel: String?, source: String) {
        if let forced { return (forced, kernelVariable) }
        if let preset {
            if let detected, let old = kernelGenerations.firstIndex(of: preset),
               let new = kernelGenerations.firstIndex(of: detected), new > old {
                return (detected, "cpu-features over OPENBLAS_CORETYPE=\(preset)")
            }
            return (nil, "environment")
        }
        if let detected { return (detected, "cpu-features") }
        return (nil, "library-default")
    }

    /// The kernel OpenBLAS should use on a CPU with these `/proc/cpuinfo` flags, or nil
    /// to keep the library's own choice.
    public static func chooseKernel<S: StringProtocol>(flags: Set<S>) -> String? {
        let has = { (flag: String) in flags.contains(where: { $0 == flag }) }
        if has("avx512f") && has("avx512bw") && has("avx512vl") && has("avx512dq") {
            return "SkylakeX"
        }
        if has("avx2") && has("fma") { return "Haswell" }
        if has("avx") { return "Sandybridge" }
        return nil
    }
}
