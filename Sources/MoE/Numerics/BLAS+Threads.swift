#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension BLAS {
    /// How many threads OpenBLAS uses for a product, by its size in FLOPs (`2 m n k` for
    /// sgemm, `n² k` for syrk, `n³ / 3` for a Cholesky factorisation).
    ///
    /// A second thread costs a hand-over to OpenBLAS's worker and pays only on large
    /// products; `moe bench --suite threads` measures where (docs/benchmarks.md, "Threads").
    /// Results are the same bits whatever the policy. OpenBLAS's own threads can give
    /// other bits than one thread: its threaded sgemm cuts some products otherwise (the
    /// gate's `128 x 2048 x 784` differed in most elements), and so does its threaded
    /// Cholesky factorisation. So a product given more threads is cut by `BLAS.sgemm`
    /// itself into blocks of rows (of columns when the rows are few) of at least
    /// `splitMinimumFLOPs`, each a one-thread call in a thread of its own (a smaller
    /// block would take OpenBLAS's kernel for small products, whose bits differ); a
    /// Cholesky factor is blocked as the one-thread `spotrf` blocks it, its diagonal
    /// blocks on one thread; and the syrk, symm and triangular solves run on OpenBLAS's
    /// threads only with a kernel that keeps one thread's bits there
    /// (``BLAS/threadsKeepBits``: SkylakeX; Haswell does not), in pieces cut by their
    /// size alone otherwise, each a one-thread call.
    /// Until 2026-12-04 the main job's figures depended on whether a core was free as it
    /// started, and until 2026-12-05 its experts' last bits did (a block of 9 rows).
    public enum ThreadPolicy: Sendable, Equatable, CustomStringConvertible {
        /// The same number of threads for every product.
        case fixed(Int)
        /// `threads` for products of at least `minimumFLOPs`, one for smaller ones.
        case automatic(threads: Int, minimumFLOPs: Double)

        /// Products from this size on run on two threads in ``measured``. On the 2-vCPU
        /// machine with its second core free, `moe bench --suite threads` (medians of five)
        /// found every product from `1e7` FLOPs at least 1.67 times faster with two threads
        /// (the MLP's `32 x 256 x 784` 1.8x, the gate's `128 x 2048 x 784` features 1.95x)
        /// but one, the gate's features of 8 rows (`8 x 2048 x 784`, 0.82x: only the first
        /// batch's warm-up pieces are that small); the main job's stream took 0.90 of the
        /// time it took with `3e7` (7.06 s against 7.82 s, medians of three in turn), the
        /// difference in its training steps' `128 x 256 x 256` and experts' products. The threshold was
        /// `3e7`, from a run on a machine whose other core was busy, where small products
        /// did not pay. On a machine whose second core is busy with other work two threads
        /// pay on no size: ``measured`` then uses one (`MOE_BLAS_THREADS=1` says so).
        public static let measuredMinimumFLOPs = 1.0e7

        /// Two threads for products of at least ``measuredMinimumFLOPs`` when the machine
        /// has a core and a half to spare as the process starts (``CPUActivity``: what other
        /// processes kept busy since the `moe` command started, or over 50 ms); one thread
        /// otherwise. OpenBLAS's second thread spins while it waits for a core: on the
        /// 2-vCPU machine with two other jobs running, a Split stream took 151 s with two
        /// threads where it takes 17 s alone. Without `/proc/stat`, the 1-minute load
        /// average stands for the other processes' CPUs.
        public static var measured: ThreadPolicy {
            let cpus = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
            let busy = CPUActivity.othersBusy() ?? {
                var load = [Double](repeating: 0, count: 1)
                return getloadavg(&load, 1) == 1 ? load[0] : 0
            }()
            return measured(cpus: cpus, othersBusy: busy)
        }

        /// ``measured`` on a machine of `cpus` CPUs of which other processes keep
        /// `othersBusy` busy: two threads when at least 1.5 CPUs are free.
        public static func measured(cpus: Int, othersBusy busy: Double) -> ThreadPolicy {
            cpus >= 2 && Double(cpus) - busy >= 1.5
                ? .automatic(threads: 2, minimumFLOPs: measuredMinimumFLOPs) : .fixed(1)
        }

        /// The environment variable that overrides the default: a thread count (`1`, `2`…)
        /// or `auto` for ``measured``.
        public static let environmentVariable = "MOE_BLAS_THREADS"

        /// The value of `MOE_BLAS_THREADS`, nil when it is unset or empty.
        static var environmentSetting: String? {
            guard let text = getenv(environmentVariable).map({ String(cString: $0) }), !text.isEmpty else { return nil }
            return text
        }

        /// `MOE_BLAS_THREADS` when it is set to a valid value, else ``measured``.
        public static var standard: ThreadPolicy {
            environmentSetting.flatMap { ThreadPolicy(environmentValue: $0) } ?? measured
        }

        /// Parses a `MOE_BLAS_THREADS` value: a positive thread count, or `auto`.
        public init?(environmentValue text: String) {
            let trimmed = text.trimmingCharacters(in: " \t")
            if trimmed == "auto" {
                self = Self.measured
            } else if let count = Int(trimmed), count >= 1, count <= 256 {
                self = .fixed(count)
            } else {
                return nil
            }
        }

        /// Threads for a product of `flops` floating-point operations.
        public func threads(forFLOPs flops: Double) -> Int {
            switch self {
            case .fixed(let count): count
            case .automatic(let threads, let minimum): flops >= minimum ? threads : 1
            }
        }

        /// The most threads any product uses.
        public var maximumThreads: Int {
            switch self {
            case .fixed(let count): count
            case .automatic(let threads, _): threads
            }
        }

        public var description: String {
            switch self {
            case .fixed(let count): "\(count) thread\(count == 1 ? "" : "s") for every product"
            case .automatic(let threads, let minimum):
                "\(threads) threads for products of at least \(minimum.formatted) FLOPs, 1 below"
            }
        }
    }

    /// Whether `MOE_BLAS_THREADS` is set to a value (valid or not): the user chose the
    /// thread count, which a resumed stream then keeps rather than the one it was saved with.
    public static var threadSettingIsExplicit: Bool { ThreadPolicy.environmentSetting != nil }

    /// Runs `body` with `policy` for the BLAS calls of the current task (and of the
    /// tasks it starts), whatever ``threadPolicy`` says: a scoped setting that other
    /// tasks and threads do not see.
    public static func withThreadPolicy<R>(_ policy: ThreadPolicy, _ body: () throws -> R) rethrows -> R {
        precondition(policy.maximumThreads >= 1, "BLAS thread count must be at least 1")
        return try $scopedPolicy.withValue(policy, operation: body)
    }

    /// Floating-point operations of every BLAS and LAPACK call this process has made (by
    /// their sizes: `2 m n k` for sgemm, `n² k` for syrk, `n³ / 3` for a Cholesky factor):
    /// the numerator of a stream's FLOP rate.
    public static var flopsPerformed: Double { threads.flops }

    /// The policy set by ``withThreadPolicy(_:_:)`` for the current task, if any.
    @TaskLocal static var scopedPolicy: ThreadPolicy?

    /// Whether `MOE_BLAS_THREADS` is set to something ``ThreadPolicy/init(environmentValue:)``
    /// refuses (the default policy is then ``ThreadPolicy/measured``), and its value.
    public static var invalidThreadSetting: String? {
        guard let text = ThreadPolicy.environmentSetting, ThreadPolicy(environmentValue: text) == nil else { return nil }
        return text
    }

    /// The policy, and the calls in flight.
    ///
    /// OpenBLAS's thread count is one global setting that every call reads when it
    /// starts, so a call that wants two threads runs alone: it waits until no other call
    /// is in flight, sets two threads, runs, and sets one thread again; calls with one
    /// thread run side by side in their callers' threads (as they always could), but not
    /// beside a two-thread call. Every call thus runs with exactly the count the policy
    /// gives its size, whatever other threads do at the same time.
    final class ThreadState: @unchecked Sendable {
        private let mutex: UnsafeMutablePointer<pthread_mutex_t>
        private let changed: UnsafeMutablePointer<pthread_cond_t>
        private let library: Library
        /// One-thread calls in flight.
        private var active = 0
        /// Whether a call with more than one thread is in flight.
        private var exclusive = false
        /// Floating-point operations of every call so far (by their sizes).
        private var flopsDone = 0.0
        private var chosen: ThreadPolicy

        init(policy: ThreadPolicy, library: Library) {
            mutex = .allocate(capacity: 1)
            pthread_mutex_init(mutex, nil)
            changed = .allocate(capacity: 1)
            pthread_cond_init(changed, nil)
            self.library = library
            chosen = policy
            library.setThreads(1)
        }

        var policy: ThreadPolicy {
            get { locked { chosen } }
            set {
                precondition(newValue.maximumThreads >= 1, "BLAS thread count must be at least 1")
                locked { chosen = newValue }
            }
        }

        /// The thread count the policy (the current task's scoped one first) gives a call
        /// of `flops`.
        func count(forFLOPs flops: Double) -> Int {
            let scoped = BLAS.scopedPolicy
            return locked { (scoped ?? chosen).threads(forFLOPs: flops) }
        }

        /// Runs `body`, a BLAS call of `flops`, on one OpenBLAS thread whatever the policy
        /// says (a part of a product the caller split, or a call whose bits would change
        /// with more threads), beside other one-thread calls.
        func runOnOneThread<R>(flops: Double, _ body: () -> R) -> R {
            pthread_mutex_lock(mutex)
            flopsDone += flops
            while exclusive { pthread_cond_wait(changed, mutex) }
            active += 1
            pthread_mutex_unlock(mutex)
            defer {
                pthread_mutex_lock(mutex)
                active -= 1
                if active == 0 { pthread_cond_broadcast(changed) }
                pthread_mutex_unlock(mutex)
            }
            return body()
        }

        /// Runs one BLAS call of `flops` with the thread count the policy gives it.
        func run<R>(flops: Double, _ body: () -> R) -> R {
            let scoped = BLAS.scopedPolicy
            pthread_mutex_lock(mutex)
            let threads = (scoped ?? chosen).threads(forFLOPs: flops)
            if threads == 1 {
                pthread_mutex_unlock(mutex)
                return runOnOneThread(flops: flops, body)
            }
            flopsDone += flops
            while exclusive || active > 0 { pthread_cond_wait(changed, mutex) }
            exclusive = true
            library.setThreads(Int32(threads))
            pthread_mutex_unlock(mutex)
            defer {
                pthread_mutex_lock(mutex)
                library.setThreads(1)
                exclusive = false
                pthread_cond_broadcast(changed)
                pthread_mutex_unlock(mutex)
            }
            return body()
        }

        /// Floating-point operations of every call so far.
        var flops: Double { locked { flopsDone } }

        private func locked<R>(_ body: () -> R) -> R {
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            return body()
        }
    }
}

extension Double {
    /// `1e9`, `2.5e7`: a FLOP count for messages.
    fileprivate var formatted: String {
        guard self > 0, isFinite else { return String(self) }
        var exponent = 0, mantissa = self
        while mantissa >= 10 { mantissa /= 10; exponent += 1 }
        while mantissa < 1 { mantissa *= 10; exponent -= 1 }
        let rounded = (mantissa * 10).rounded() / 10
        let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        return text + "e" + String(exponent)
    }
}

extension String {
    /// Without leading and trailing characters from `set`.
    fileprivate func trimmingCharacters(in set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}

/// Saved with a stream (`{"fixed": 1}`, `{"automatic": {"threads": 2, "minimumFLOPs": 1e7}}`),
/// so that a resumed stream runs with the thread counts it ran with: two threads can give
/// other bits than one.
extension BLAS.ThreadPolicy: Codable {
    private enum Keys: String, CodingKey { case fixed, automatic }
    private enum AutomaticKeys: String, CodingKey { case threads, minimumFLOPs }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        if let count = try container.decodeIfPresent(Int.self, forKey: .fixed) {
            guard count >= 1 else {
                throw DecodingError.dataCorruptedError(forKey: .fixed, in: container, debugDescription: "a thread count must be at least 1, got \(count)")
            }
            self = .fixed(count)
            return
        }
        let automatic = try container.nestedContainer(keyedBy: AutomaticKeys.self, forKey: .automatic)
        let threads = try automatic.decode(Int.self, forKey: .threads)
        let minimum = try automatic.decode(Double.self, forKey: .minimumFLOPs)
        guard threads >= 1, minimum.isFinite, minimum >= 0 else {
            throw DecodingError.dataCorruptedError(
                forKey: .threads, in: automatic, debugDescription: "threads \(threads) and minimum \(minimum) are not a thread policy")
        }
        self = .automatic(threads: threads, minimumFLOPs: minimum)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        switch self {
        case .fixed(let count): try container.encode(count, forKey: .fixed)
        case .automatic(let threads, let minimum):
            var automatic = container.nestedContainer(keyedBy: AutomaticKeys.self, forKey: .automatic)
            try automatic.encode(threads, forKey: .threads)
            try automatic.encode(minimum, forKey: .minimumFLOPs)
        }
    }
}
