import Glibc
import HDF5Kit

/// The next request, or nil when standard input has ended (the parent closed it or
/// died). A malformed request ends the process: the parent sees its reader die.
func readRequest() -> HDF5SnapshotRequest? {
    guard let bytes = readExactly(STDIN_FILENO, HDF5SnapshotRequest.headerSize, endAllowed: true) else { return nil }
    guard let request = HDF5SnapshotRequest(header: bytes) else { exit(2) }
    return request
}

/// Exactly `count` bytes from `fd`; nil at the end of input (allowed only before the
/// first byte when `endAllowed`; otherwise the process ends).
func readExactly(_ fd: Int32, _ count: Int, endAllowed: Bool) -> [UInt8]? {
    var bytes = [UInt8](repeating: 0, count: count)
    var total = 0
    while total < count {
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, count - total) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 {
            if total == 0 && endAllowed { return nil }
            exit(2)
        }
        total += n
    }
    return bytes
}

/// Parses the request's image in a fork with the request's limits and says how it
/// ended; the answer is then at the start of the request's answer segment.
func parseInFork(_ request: HDF5SnapshotRequest) -> HDF5SnapshotReply {
    // The fork writes the answer's length to this pipe, and its end closes when it
    // exits: the end of input is the signal.
    var ends: [Int32] = [-1, -1]
    guard pipe(&ends) == 0 else { return HDF5SnapshotReply(.exited(-1)) }
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    let deadline = monotonicMilliseconds() + request.timeoutMilliseconds
    let pid = fork()
    if pid == 0 {
        close(ends[0])
        parse(request, lengthTo: ends[1])
    }
    close(ends[1])
    defer { close(ends[0]) }
    guard pid > 0 else { return HDF5SnapshotReply(.exited(-1)) }

    var length = [UInt8](repeating: 0, count: 9)
    var received = 0
    while true {
        var poller = pollfd(fd: ends[0], events: Int16(POLLIN), revents: 0)
        let wait = deadline - monotonicMilliseconds()
        if wait <= 0 || poll(&poller, 1, Int32(clamping: wait)) == 0 { return stop(pid, .timedOut) }
        let n = length.withUnsafeMutableBytes { read(ends[0], $0.baseAddress! + received, 9 - received) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        received += n
        if received == 9 { break }
    }
    // Its end of the pipe closed as it exited: it is reaped at once, or very soon.
    var status: Int32 = 0
    var pause = timespec(tv_sec: 0, tv_nsec: 20_000)
    while true {
        let done = waitpid(pid, &status, WNOHANG)
        if done == pid { break }
        if done < 0 && errno != EINTR { return HDF5SnapshotReply(.exited(-1)) }
        if monotonicMilliseconds() >= deadline { return stop(pid, .timedOut) }
        nanosleep(&pause, nil)
        pause.tv_nsec = min(2 * pause.tv_nsec, 1_000_000)
    }
    let signal = status & 0x7f
    if signal != 0 { return HDF5SnapshotReply(.signaled(signal)) }
    let code = (status >> 8) & 0xff
    if code == answerTooLarge { return HDF5SnapshotReply(.answerTooLarge) }
    if code != 0 { return HDF5SnapshotReply(.exited(code)) }
    let bytes = length.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    guard received == 8, bytes > 0 else { return HDF5SnapshotReply(.exited(-1)) }
    guard bytes <= UInt64(request.answerLimit) else { return HDF5SnapshotReply(.answerTooLarge) }
    return HDF5SnapshotReply(.answered(bytes: Int(bytes)))
}

/// The exit status of a fork whose answer would exceed the request's limit.
private let answerTooLarge: Int32 = 6

/// Kills the fork and reaps it.
private func stop(_ pid: pid_t, _ outcome: HDF5SnapshotReply.Outcome) -> HDF5SnapshotReply {
    kill(pid, SIGKILL)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return HDF5SnapshotReply(outcome)
}

/// The fork: the image attached, limits set, then libhdf5 on the image, the answer into
/// the answer segment, its length to `pipe`, and exit.
private func parse(_ request: HDF5SnapshotRequest, lengthTo pipe: Int32) -> Never {
    // Default actions: a fault ends this process at once, with its signal as the outcome.
    for signal in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGXCPU, SIGXFSZ, SIGPIPE] { _ = Glibc.signal(signal, SIG_DFL) }
    // Nothing of the parent's conversation: standard input, output and error become
    // /dev/null. Standard error too: no file may be written here (below), and where the
    // parent's standard error is a file (a log, a test runner's capture), the runtime's
    // last words on an allocation the memory limit refused ended the parse with SIGXFSZ,
    // which was told as an answer too large.
    let null = open("/dev/null", O_RDWR)
    if null >= 0 {
        dup2(null, STDIN_FILENO)
        dup2(null, STDOUT_FILENO)
        dup2(null, STDERR_FILENO)
        close(null)
    }
    // The image (libhdf5 reads it in place, read-only, without a copy) and the answer's
    // room, both attached before the address space is limited.
    guard let image = attach(request.imageSegment, bytes: request.imageBytes, readOnly: true),
          let answer = attach(request.answerSegment, bytes: request.answerLimit, readOnly: false) else { _exit(5) }
    // Address space: what the process has now plus the allowance; CPU: the soft limit
    // sends SIGXCPU, the hard one a second later SIGKILL; no file may be written.
    let addressSpace = rlim_t(addressSpaceBytes() + request.memoryBytes)
    var memory = rlimit(rlim_cur: addressSpace, rlim_max: addressSpace)
    var cpu = rlimit(rlim_cur: rlim_t(request.cpuSeconds), rlim_max: rlim_t(request.cpuSeconds + 1))
    var files = rlimit(rlim_cur: 0, rlim_max: 0)
    guard lowerLimit(RLIMIT_AS, &memory), lowerLimit(RLIMIT_CPU, &cpu), setLimit(RLIMIT_FSIZE, &files) else { _exit(4) }

    var length: Int
    do {
        let file = try HDF5File.open(borrowing: UnsafeRawBufferPointer(image), name: "")
        // libhdf5 reads every dataset straight into its place in the answer.
        length = try file.encodeSnapshot { bytes -> UnsafeMutableRawBufferPointer? in
            if bytes > answer.count { _exit(answerTooLarge) }
            return UnsafeMutableRawBufferPointer(rebasing: answer[0..<bytes])
        }
    } catch {
        // Whatever was written is overwritten: the error is the answer.
        let encoded = HDF5SnapshotWire.encode(.failure(error))
        if encoded.count > answer.count { _exit(answerTooLarge) }
        encoded.withUnsafeBytes { answer.copyMemory(from: $0) }
        length = encoded.count
    }
    // The answer's length, for the reader process to pass on.
    _exit(withUnsafeBytes(of: UInt64(length).littleEndian, { writeAll(pipe, $0) }) ? 0 : 3)
}

/// The first `bytes` bytes of the System V shared memory segment `id`, attached; nil if
/// it cannot be attached or is shorter.
private func attach(_ id: Int32, bytes: Int, readOnly: Bool) -> UnsafeMutableRawBufferPointer? {
    var info = shmid_ds()
    guard bytes > 0, shmctl(id, IPC_STAT, &info) == 0, Int(info.shm_segsz) >= bytes,
          let base = shmat(id, nil, readOnly ? SHM_RDONLY : 0), base != UnsafeMutableRawPointer(bitPattern: -1) else { return nil }
    return UnsafeMutableRawBufferPointer(start: base, count: bytes)
}

/// Lowers a limit (never above what the process may have: the parent's hard limit stays).
private func lowerLimit(_ resource: __rlimit_resource, _ limit: inout rlimit) -> Bool {
    var current = rlimit()
    guard getrlimit(__rlimit_resource_t(resource.rawValue), &current) == 0 else { return false }
    limit.rlim_max = min(limit.rlim_max, current.rlim_max)
    limit.rlim_cur = min(limit.rlim_cur, limit.rlim_max)
    return setLimit(resource, &limit)
}

func setLimit(_ resource: __rlimit_resource, _ limit: inout rlimit) -> Bool {
    setrlimit(__rlimit_resource_t(resource.rawValue), &limit) == 0
}

/// The process's current address space in bytes (`/proc/self/statm`, first field).
private func addressSpaceBytes() -> Int {
    let fd = open("/proc/self/statm", O_RDONLY)
    guard fd >= 0 else { return 0 }
    defer { close(fd) }
    var text = [UInt8](repeating: 0, count: 128)
    let n = text.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard n > 0 else { return 0 }
    let pages = Int(String(decoding: text[0..<n].prefix { $0 != UInt8(ascii: " ") }, as: UTF8.self)) ?? 0
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// Writes all of `bytes`; false when the other end is gone or a limit stops it.
func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { writeAll(fd, $0) }
}

func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Bool {
    var written = 0
    while written < buffer.count {
        let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        written += n
    }
    return true
}

func monotonicMilliseconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
}
