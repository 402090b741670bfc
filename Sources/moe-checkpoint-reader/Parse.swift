import Glibc
import HDF5Kit

/// The next request on standard input, or nil when it has ended (the parent closed it
/// or died). A malformed request ends the process: the parent sees its reader die.
func readRequest() -> (header: HDF5SnapshotRequest, image: [UInt8])? {
    guard let bytes = readExactly(STDIN_FILENO, HDF5SnapshotRequest.headerSize, endAllowed: true) else { return nil }
    guard let header = HDF5SnapshotRequest(header: bytes),
          let image = readExactly(STDIN_FILENO, header.imageBytes, endAllowed: false) else { exit(2) }
    return (header, image)
}

/// Parses `image` in a fork with the request's limits and returns how it ended, with
/// the answer when there is one.
func parseInFork(_ request: HDF5SnapshotRequest, image: [UInt8]) -> (HDF5SnapshotReply, [UInt8]) {
    var ends: [Int32] = [-1, -1]
    guard pipe(&ends) == 0 else { return (HDF5SnapshotReply(.exited(-1)), []) }
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    let start = monotonicMilliseconds()
    let pid = fork()
    if pid == 0 {
        close(ends[0])
        parse(image, request: request, answerTo: ends[1])
    }
    close(ends[1])
    defer { close(ends[0]) }
    guard pid > 0 else { return (HDF5SnapshotReply(.exited(-1)), []) }
    let deadline = start + request.timeoutMilliseconds

    // The answer, until the fork closes its end (it exits right after writing).
    var answer: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        var poller = pollfd(fd: ends[0], events: Int16(POLLIN), revents: 0)
        let wait = deadline - monotonicMilliseconds()
        if wait <= 0 || poll(&poller, 1, Int32(clamping: wait)) == 0 { return (stop(pid, .timedOut), []) }
        let n = chunk.withUnsafeMutableBytes { read(ends[0], $0.baseAddress, $0.count) }
        if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
        if n <= 0 { break }
        guard answer.count + n <= request.answerLimit else { return (stop(pid, .answerTooLarge), []) }
        answer.append(contentsOf: chunk[0..<n])
    }

    // How it ended.
    var status: Int32 = 0
    while true {
        let done = waitpid(pid, &status, WNOHANG)
        if done == pid { break }
        if done < 0 && errno != EINTR { return (HDF5SnapshotReply(.exited(-1)), []) }
        if monotonicMilliseconds() >= deadline { return (stop(pid, .timedOut), []) }
        var pause = timespec(tv_sec: 0, tv_nsec: 200_000)
        nanosleep(&pause, nil)
    }
    let signal = status & 0x7f
    if signal != 0 { return (HDF5SnapshotReply(.signaled(signal)), []) }
    let code = (status >> 8) & 0xff
    if code != 0 { return (HDF5SnapshotReply(.exited(code)), []) }
    return (HDF5SnapshotReply(.answered(bytes: answer.count)), answer)
}

/// Kills the fork and reaps it.
private func stop(_ pid: pid_t, _ outcome: HDF5SnapshotReply.Outcome) -> HDF5SnapshotReply {
    kill(pid, SIGKILL)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return HDF5SnapshotReply(outcome)
}

/// The fork: limits first, then libhdf5 on the image, the answer to `fd`, and exit.
private func parse(_ image: [UInt8], request: HDF5SnapshotRequest, answerTo fd: Int32) -> Never {
    // Default actions: a fault ends this process at once, with its signal as the outcome.
    for signal in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGXCPU, SIGPIPE] { _ = Glibc.signal(signal, SIG_DFL) }
    // Nothing of the parent's conversation: standard input and output become /dev/null.
    let null = open("/dev/null", O_RDWR)
    if null >= 0 {
        dup2(null, STDIN_FILENO)
        dup2(null, STDOUT_FILENO)
        close(null)
    }
    // Address space: what the process has now plus the allowance; CPU: the soft limit
    // sends SIGXCPU, the hard one a second later SIGKILL; no file may be written.
    let addressSpace = rlim_t(addressSpaceBytes() + request.memoryBytes)
    var memory = rlimit(rlim_cur: addressSpace, rlim_max: addressSpace)
    var cpu = rlimit(rlim_cur: rlim_t(request.cpuSeconds), rlim_max: rlim_t(request.cpuSeconds + 1))
    var files = rlimit(rlim_cur: 0, rlim_max: 0)
    guard setLimit(RLIMIT_AS, &memory), setLimit(RLIMIT_CPU, &cpu), setLimit(RLIMIT_FSIZE, &files) else { _exit(4) }

    let answer: Result<HDF5Snapshot, HDF5Error>
    do {
        answer = .success(try HDF5File.open(image: image, name: "").snapshot())
    } catch {
        answer = .failure(error)
    }
    _exit(writeAll(fd, HDF5SnapshotWire.encode(answer)) ? 0 : 3)
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

/// Exactly `count` bytes from `fd`; nil at the end of input (allowed only before the
/// first byte when `endAllowed`; otherwise the process ends).
func readExactly(_ fd: Int32, _ count: Int, endAllowed: Bool) -> [UInt8]? {
    var failed = false
    let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
        var total = 0
        while total < count {
            let n = read(fd, buffer.baseAddress! + total, count - total)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            total += n
        }
        failed = total < count
        if failed { UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[total...]).initializeMemory(as: UInt8.self, repeating: 0) }
        initialized = count
    }
    guard !failed else {
        if endAllowed { return nil }
        exit(2)
    }
    return bytes
}

/// Writes all of `bytes`; false when the other end is gone.
func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { buffer in
        var written = 0
        while written < buffer.count {
            let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            written += n
        }
        return true
    }
}

func monotonicMilliseconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
}
