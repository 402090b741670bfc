import Glibc
import HDF5Kit

/// A request read from standard input (a Unix socket): the header, and the image and
/// answer files whose descriptors came with it.
struct Request {
    var header: HDF5SnapshotRequest
    var image: Int32
    var answer: Int32
}

/// The next request, or nil when standard input has ended (the parent closed it or
/// died). A malformed request ends the process: the parent sees its reader die.
func readRequest() -> Request? {
    var bytes = [UInt8](repeating: 0, count: HDF5SnapshotRequest.headerSize)
    var control = [UInt8](repeating: 0, count: 64)
    var received = 0
    var descriptors: [Int32] = []
    while received < bytes.count {
        let n = bytes.withUnsafeMutableBytes { buffer in
            control.withUnsafeMutableBytes { space in
                var vector = iovec(iov_base: buffer.baseAddress! + received, iov_len: buffer.count - received)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var message = msghdr()
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = space.baseAddress
                    message.msg_controllen = space.count
                    let n = recvmsg(STDIN_FILENO, &message, Int32(MSG_CMSG_CLOEXEC))
                    if n > 0 { descriptors += receivedDescriptors(space, length: Int(message.msg_controllen)) }
                    return n
                }
            }
        }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 {
            if received == 0 && descriptors.isEmpty { return nil }
            exit(2)
        }
        received += n
    }
    guard let header = HDF5SnapshotRequest(header: bytes), descriptors.count == 2 else { exit(2) }
    return Request(header: header, image: descriptors[0], answer: descriptors[1])
}

/// The descriptors of an `SCM_RIGHTS` control message (`struct cmsghdr`: length, level,
/// type, then the descriptors at offset 16).
private func receivedDescriptors(_ control: UnsafeMutableRawBufferPointer, length: Int) -> [Int32] {
    let headerSize = MemoryLayout<cmsghdr>.size
    guard length >= headerSize else { return [] }
    let header = control.load(as: cmsghdr.self)
    guard header.cmsg_level == SOL_SOCKET, header.cmsg_type == Int32(SCM_RIGHTS),
          Int(header.cmsg_len) <= length, Int(header.cmsg_len) >= headerSize else { return [] }
    return (0..<(Int(header.cmsg_len) - headerSize) / 4).map { control.loadUnaligned(fromByteOffset: headerSize + 4 * $0, as: Int32.self) }
}

/// Parses the request's image in a fork with the request's limits and says how it
/// ended; the answer is then at the start of the request's answer file.
func parseInFork(_ request: Request) -> HDF5SnapshotReply {
    // The fork writes the answer's length to this pipe, and its end closes when it
    // exits: the end of input is the signal.
    var ends: [Int32] = [-1, -1]
    guard pipe(&ends) == 0 else { return HDF5SnapshotReply(.exited(-1)) }
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    let deadline = monotonicMilliseconds() + request.header.timeoutMilliseconds
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
    if signal == SIGXFSZ { return HDF5SnapshotReply(.answerTooLarge) }
    if signal != 0 { return HDF5SnapshotReply(.signaled(signal)) }
    let code = (status >> 8) & 0xff
    if code == answerTooLarge { return HDF5SnapshotReply(.answerTooLarge) }
    if code != 0 { return HDF5SnapshotReply(.exited(code)) }
    let bytes = length.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    guard received == 8, bytes > 0 else { return HDF5SnapshotReply(.exited(-1)) }
    guard bytes <= UInt64(request.header.answerLimit) else { return HDF5SnapshotReply(.answerTooLarge) }
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

/// The fork: limits first, then libhdf5 on the image, the answer to the answer file, and
/// exit.
private func parse(_ request: Request, lengthTo pipe: Int32) -> Never {
    // Default actions: a fault ends this process at once, with its signal as the outcome.
    for signal in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGXCPU, SIGXFSZ, SIGPIPE] { _ = Glibc.signal(signal, SIG_DFL) }
    // Nothing of the parent's conversation: standard input and output become /dev/null.
    let null = open("/dev/null", O_RDWR)
    if null >= 0 {
        dup2(null, STDIN_FILENO)
        dup2(null, STDOUT_FILENO)
        close(null)
    }
    // The image, mapped read-only (libhdf5 reads it in place, without a copy).
    let size = request.header.imageBytes
    guard size > 0, let image = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, request.image, 0), image != MAP_FAILED else { _exit(5) }
    // Address space: what the process has now plus the allowance; CPU: the soft limit
    // sends SIGXCPU, the hard one a second later SIGKILL; files: the answer's limit.
    let addressSpace = rlim_t(addressSpaceBytes() + request.header.memoryBytes)
    var memory = rlimit(rlim_cur: addressSpace, rlim_max: addressSpace)
    var cpu = rlimit(rlim_cur: rlim_t(request.header.cpuSeconds), rlim_max: rlim_t(request.header.cpuSeconds + 1))
    var files = rlimit(rlim_cur: rlim_t(request.header.answerLimit), rlim_max: rlim_t(request.header.answerLimit))
    guard setLimit(RLIMIT_AS, &memory), setLimit(RLIMIT_CPU, &cpu), setLimit(RLIMIT_FSIZE, &files) else { _exit(4) }

    // The answer file (grown if it is too small; the requester may reuse it, pages and
    // all) is mapped, and libhdf5 reads every dataset straight into its place there.
    var length: Int
    do {
        let file = try HDF5File.open(borrowing: UnsafeRawBufferPointer(start: image, count: size), name: "")
        length = try file.encodeSnapshot { bytes -> UnsafeMutableRawBufferPointer? in
            // (A kept answer file may be large enough already: the file-size limit would
            // not see the answer grow, so the limit is checked here.)
            if bytes > request.header.answerLimit { _exit(answerTooLarge) }
            var info = stat()
            guard bytes > 0, fstat(request.answer, &info) == 0,
                  Int(info.st_size) >= bytes || ftruncate(request.answer, off_t(bytes)) == 0,
                  let answer = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, request.answer, 0),
                  answer != MAP_FAILED else { return nil }
            return UnsafeMutableRawBufferPointer(start: answer, count: bytes)
        }
    } catch {
        // Whatever was written is overwritten: the error is the answer.
        length = 0
        guard lseek(request.answer, 0, SEEK_SET) == 0,
              HDF5SnapshotWire.encode(.failure(error), to: { chunk in
                  length += chunk.count
                  return writeAll(request.answer, chunk)
              }) else { _exit(3) }
    }
    // The answer's length, for the reader process to pass on.
    _exit(withUnsafeBytes(of: UInt64(length).littleEndian, { writeAll(pipe, $0) }) ? 0 : 3)
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
