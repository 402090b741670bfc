#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// How many CPUs other processes keep busy, measured over a window of wall time: the
/// machine's busy time from `/proc/stat` less this process's own CPU time. Linux only;
/// elsewhere (or when `/proc/stat` cannot be read) there is no reading.
///
/// The thread policy (``BLAS/ThreadPolicy/measured``) asks it rather than the 1-minute
/// load average, which lags: right after a build the load average still says 2 on the
/// 2-vCPU machine while both cores are idle, and the README's first command (build, then
/// stream) ran the main job on one thread.
public enum CPUActivity {
    /// One look at the counters.
    public struct Reading: Sendable, Equatable {
        /// Seconds all CPUs together spent busy since boot (user, nice, system, irq,
        /// softirq, steal).
        public var busySeconds: Double
        /// CPU seconds of this process (all its threads).
        public var ownSeconds: Double
        /// Wall seconds on a monotonic clock.
        public var wallSeconds: Double
    }

    /// The shortest window a measurement uses: a reading younger than this is waited for
    /// (the kernel counts in ticks of 10 ms; 50 ms on two CPUs are 10 ticks).
    public static let minimumWindow = 0.05

    private static let start = Mutex<Reading?>(nil)

    /// Takes the reading the next ``othersBusy()`` measures from (the `moe` command does
    /// as it starts, so that the window covers its loading and costs no wait).
    public static func markStart() {
        let now = read()
        start.withLock { $0 = now }
    }

    /// CPUs busy with other processes' work since ``markStart()`` (waiting to make the
    /// window ``minimumWindow`` long, a whole window when no start was marked); nil
    /// without `/proc/stat`.
    public static func othersBusy() -> Double? {
        guard let first = start.withLock({ $0 }) ?? read(), let now = read() else { return nil }
        let elapsed = now.wallSeconds - first.wallSeconds
        if elapsed < minimumWindow { usleep(UInt32((minimumWindow - elapsed) * 1e6)) }
        guard let last = read() else { return nil }
        return othersBusy(from: first, to: last)
    }

    /// CPUs busy with other processes between two readings (0 when the window is empty).
    public static func othersBusy(from first: Reading, to last: Reading) -> Double {
        let wall = last.wallSeconds - first.wallSeconds
        guard wall > 0 else { return 0 }
        let others = (last.busySeconds - first.busySeconds) - (last.ownSeconds - first.ownSeconds)
        return max(0, others / wall)
    }

    /// Busy seconds of all CPUs from the text of `/proc/stat` (its first line,
    /// `cpu  user nice system idle iowait irq softirq steal …`, in `ticksPerSecond`).
    public static func busySeconds(procStat text: String, ticksPerSecond: Double) -> Double? {
        guard let line = text.split(separator: "\n", maxSplits: 1).first else { return nil }
        let fields = line.split(separator: " ")
        guard fields.first == "cpu", fields.count >= 8 else { return nil }
        let values = fields.dropFirst().compactMap { Double($0) }
        guard values.count == fields.count - 1, ticksPerSecond > 0 else { return nil }
        // user, nice, system, (idle, iowait), irq, softirq, steal
        let busy = values[0] + values[1] + values[2] + values[5] + values[6] + (values.count > 7 ? values[7] : 0)
        return busy / ticksPerSecond
    }

    /// The counters now, nil when `/proc/stat` cannot be read.
    public static func read() -> Reading? {
        guard let file = fopen("/proc/stat", "r") else { return nil }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 512)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return nil }
        let line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard let busy = busySeconds(procStat: line, ticksPerSecond: ticks) else { return nil }
        var own = timespec(), wall = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &own)
        clock_gettime(CLOCK_MONOTONIC, &wall)
        return Reading(busySeconds: busy, ownSeconds: Double(own.tv_sec) + Double(own.tv_nsec) / 1e9,
                       wallSeconds: Double(wall.tv_sec) + Double(wall.tv_nsec) / 1e9)
    }
}
