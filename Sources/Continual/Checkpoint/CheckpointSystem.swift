import Foundation

#if canImport(Glibc)
import Glibc
#endif

// Every operating-system call of the checkpoint code: whole-file reads, crash-safe
// replacement of files, key files, and the reader process (started with posix_spawn,
// talked to through a Unix socket with deadlines; the bytes go in System V shared memory
// segments named in the messages).

/// Whole-file reads and crash-safe replacement of files.
enum AtomicFile {
    /// The prefix of temporary files for `name` (`.<name>.tmp-`).
    static func temporaryPrefix(for name: String) -> String { "." + name + ".tmp-" }

    /// Replaces `path` with `bytes`. With `replacing`, a file already there is replaced
    /// only when it is empty or starts with those bytes (a checkpoint's signature): a
    /// checkpoint named by mistake after the CSV file being read, or after notes, would
    /// otherwise take their place without a word. The new file keeps the old one's
    /// permissions.
    static func write(_ bytes: [UInt8], to path: String, replacing signature: [UInt8]? = nil) throws(CheckpointError) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw .writeFailed(file: path, reason: "the folder '\(folder)' does not exist")
        }
        guard isFolder.boolValue else { throw .writeFailed(file: path, reason: "'\(folder)' is not a folder") }
        let mode = try existingMode(of: path, signature: signature)
        removeStaleTemporaries(in: folder, name: name)
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let temporary = folder + "/" + temporaryPrefix(for: name) + "\(getpid())-\(random)"

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .writeFailed(file: path, reason: "cannot create '\(temporary)': \(errorText())") }
        var failure = writeAll(fd, bytes)
        if failure == nil, let mode, fchmod(fd, mode) != 0 { failure = "cannot give it the permissions of the file it replaces: \(errorText())" }
        if failure == nil && fsync(fd) != 0 { failure = "fsync failed: \(errorText())" }
        if Glibc.close(fd) != 0 && failure == nil { failure = "close failed: \(errorText())" }
        if failure == nil && rename(temporary, path) != 0 { failure = "cannot rename over '\(path)': \(errorText())" }
        if let failure {
            unlink(temporary)
            throw .writeFailed(file: path, reason: failure)
        }
        // Make the rename durable.
        let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderFD >= 0 {
            _ = fsync(folderFD)
            _ = Glibc.close(folderFD)
        }
    }

    /// The permission bits of the file under `path` (nil: none there), after checking that
    /// it may be replaced: a regular file, empty or starting with `signature` when one is
    /// given.
    static func existingMode(of path: String, signature: [UInt8]?) throws(CheckpointError) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .writeFailed(file: path, reason: "something that is not a regular file is there (a folder, a pipe or a device); it is left as it is")
        }
        if let signature, info.st_size > 0 {
            // Non-blocking, like every open here: a file swapped for a pipe meanwhile must
            // not hang the save.
            let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            var head = [UInt8](repeating: 0, count: signature.count)
            let count = fd >= 0 ? head.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) } : -1
            if fd >= 0 { _ = Glibc.close(fd) }
            guard count >= 0 else { throw .writeFailed(file: path, reason: "the file there cannot be read to check that it is a checkpoint: \(errorText())") }
            guard count == signature.count && head == signature else {
                throw .writeFailed(file: path, reason: "a file that is not a checkpoint is there (it does not start with '\(String(decoding: signature, as: UTF8.self))'); it is left as it is: remove it or choose another name")
            }
        }
        return info.st_mode & 0o7777
    }

    /// Removes `.<name>.tmp-<pid>-*` files whose writer process no longer exists.
    static func removeStaleTemporaries(in folder: String, name: String) {
        let prefix = temporaryPrefix(for: name)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                unlink(folder + "/" + entry)
            }
        }
    }

    /// A file open for reading, with its size when it was opened.
    struct OpenFile {
        let fd: Int32
        let size: Int
        let path: String

        /// Reads up to `space.count` bytes from the start; returns how many (fewer when
        /// the file shrank meanwhile: the header check reports it).
        func read(into space: UnsafeMutableRawBufferPointer) throws(CheckpointError) -> Int {
            var total = 0
            while total < space.count {
                let n = Glibc.read(fd, space.baseAddress! + total, space.count - total)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw .unreadable(file: path, reason: errorText())
                }
                if n == 0 { break }
                total += n
            }
            return total
        }

        func close() {
            _ = Glibc.close(fd)
        }
    }

    /// Opens a regular file for reading.
    static func openForReading(_ path: String) throws(CheckpointError) -> OpenFile {
        // Non-blocking: opening a pipe without a writer would wait for one for ever; it is
        // refused below as not a regular file (reads of a regular file never block).
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw .fileNotFound(file: path) }
            throw .unreadable(file: path, reason: errorText())
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = errorText()
            _ = Glibc.close(fd)
            throw .unreadable(file: path, reason: reason)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            _ = Glibc.close(fd)
            throw .unreadable(file: path, reason: "it is not a regular file")
        }
        return OpenFile(fd: fd, size: Int(info.st_size), path: path)
    }

    /// The whole file.
    static func read(_ path: String) throws(CheckpointError) -> [UInt8] {
        let file = try openForReading(path)
        defer { file.close() }
        var failure: CheckpointError?
        let bytes = [UInt8](unsafeUninitializedCapacity: file.size) { buffer, count in
            do throws(CheckpointError) {
                count = try file.read(into: UnsafeMutableRawBufferPointer(buffer))
            } catch {
                failure = error
                count = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// Writes a new file readable by its owner only (a private key); an existing file is
    /// never replaced. Returns the reason of a failure.
    static func createPrivate(_ bytes: [UInt8], at path: String) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return errno == EEXIST ? "the file exists (it is never replaced)" : errorText() }
        var failure = writeAll(fd, bytes)
        if failure == nil && fsync(fd) != 0 { failure = "fsync failed: \(errorText())" }
        if Glibc.close(fd) != 0 && failure == nil { failure = "close failed: \(errorText())" }
        if failure != nil { unlink(path) }
        return failure
    }

    /// The permission bits of `path`, or nil when it cannot be examined.
    static func permissions(of path: String) -> UInt32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt32(info.st_mode & 0o7777)
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> String? {
        var written = 0
        return bytes.withUnsafeBytes { buffer -> String? in
            while written < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return "writing failed: \(errorText())"
                }
                written += n
            }
            return nil
        }
    }
}

/// The operating-system side of the reader process: finding the program, starting it,
/// and exchanging bytes with it under a deadline.
enum ReaderProcessSystem {
    /// A started reader: its process id and this process's end of the socket that is its
    /// standard input and output.
    struct Child {
        let pid: pid_t
        let socket: Int32
    }

    /// The value of an environment variable.
    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }

    /// The folder of the running executable (`/proc/self/exe`, symbolic links resolved),
    /// and that of the path it was started by, when they differ.
    static func executableFolders() -> [String] {
        var folders: [String] = []
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 {
            let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            folders.append((path as NSString).deletingLastPathComponent)
        }
        if let first = CommandLine.arguments.first, first.contains("/") {
            let folder = (first as NSString).deletingLastPathComponent
            if !folders.contains(folder) { folders.append(folder) }
        }
        return folders
    }

    /// Starts `executable` with standard input and output on a socket, standard error on
    /// /dev/null, and a small environment (no crash backtraces, no HDF5 plugins).
    static func start(_ executable: String) throws(CheckpointReaderFailure) -> Child {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw .cannotStart(executable: executable, reason: "socketpair failed: \(errorText())")
        }
        defer { _ = Glibc.close(ends[1]) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[1], STDIN_FILENO)
        posix_spawn_file_actions_adddup2(&actions, ends[1], STDOUT_FILENO)
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0)

        // Default signal mask and actions, whatever this process set for itself.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGXCPU, SIGXFSZ, SIGSEGV, SIGBUS, SIGILL, SIGABRT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        // Large allocations on huge pages: a parse touches several copies of the file,
        // and faulting them in 4 KiB at a time costs more than the parse.
        var environment = ["SWIFT_BACKTRACE=enable=no", "HDF5_PLUGIN_PRELOAD=::", "GLIBC_TUNABLES=glibc.malloc.hugetlb=1"]
        if let libraries = Self.environment("LD_LIBRARY_PATH") { environment.append("LD_LIBRARY_PATH=" + libraries) }
        let arguments = [strdup(executable)] + [UnsafeMutablePointer<CChar>?(nil)]
        let variables = environment.map { strdup($0) } + [nil]
        defer {
            arguments.forEach { free($0) }
            variables.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, arguments, variables)
        guard status == 0 else {
            _ = Glibc.close(ends[0])
            throw .cannotStart(executable: executable, reason: String(cString: strerror(status)))
        }
        return Child(pid: pid, socket: ends[0])
    }

    /// A System V shared memory segment attached to this process: the exchange of bytes
    /// with the reader, which attaches it by id. Marked for removal at once, so it goes
    /// away when the last process detaches (or dies); no file, so a file-size limit
    /// (`ulimit -f`) does not apply.
    struct SharedMemory {
        let id: Int32
        let memory: UnsafeMutableRawBufferPointer
    }

    /// A new segment of `bytes` bytes (pages are allocated when first touched).
    static func makeSharedMemory(bytes: Int) throws(CheckpointReaderFailure) -> SharedMemory {
        let id = shmget(IPC_PRIVATE, max(bytes, 1), Int32(IPC_CREAT) | 0o600)
        guard id >= 0 else { throw .exchangeFile("shmget of \(bytes) bytes failed: \(errorText())") }
        let base = shmat(id, nil, 0)
        _ = shmctl(id, IPC_RMID, nil)
        guard let base, base != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw .exchangeFile("shmat failed: \(errorText())")
        }
        return SharedMemory(id: id, memory: UnsafeMutableRawBufferPointer(start: base, count: bytes))
    }

    static func release(_ segment: SharedMemory) {
        _ = shmdt(segment.memory.baseAddress)
    }

    /// Sends all of `bytes`, or says why not (the reader ended, or the deadline passed).
    static func send(_ bytes: [UInt8], to child: Child, by deadline: ContinuousClock.Instant) -> String? {
        bytes.withUnsafeBytes { buffer -> String? in
            var sent = 0
            while sent < buffer.count {
                if let problem = wait(for: Int16(POLLOUT), on: child.socket, until: deadline) { return problem }
                let n = Glibc.send(child.socket, buffer.baseAddress! + sent, buffer.count - sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                if n < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    return "sending to it failed: \(errorText())"
                }
                sent += n
            }
            return nil
        }
    }

    /// Exactly `count` bytes, or why not.
    static func receive(_ count: Int, from child: Child, by deadline: ContinuousClock.Instant) -> Result<[UInt8], ReceiveFailure> {
        var problem: ReceiveFailure?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var total = 0
            while total < count {
                if let reason = wait(for: Int16(POLLIN), on: child.socket, until: deadline) {
                    problem = .other(reason)
                    break
                }
                let n = recv(child.socket, buffer.baseAddress! + total, count - total, Int32(MSG_DONTWAIT))
                if n < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    problem = .other("receiving from it failed: \(errorText())")
                    break
                }
                if n == 0 {
                    problem = .ended
                    break
                }
                total += n
            }
            if total < count {
                UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[total...]).initializeMemory(as: UInt8.self, repeating: 0)
            }
            initialized = count
        }
        if let problem { return .failure(problem) }
        return .success(bytes)
    }

    enum ReceiveFailure: Error {
        /// The reader closed its end (it exited).
        case ended
        case other(String)
    }

    /// Waits until `events` are possible on `fd`, or says why not.
    private static func wait(for events: Int16, on fd: Int32, until deadline: ContinuousClock.Instant) -> String? {
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return "it did not answer in time" }
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            var poller = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&poller, 1, milliseconds)
            if ready < 0 && errno != EINTR { return "poll failed: \(errorText())" }
            if ready > 0 { return nil }
        }
    }

    /// How the reader ended, if it has (it is then reaped: call `close`, not `stop`);
    /// nil while it runs.
    static func exitStatus(of child: Child) -> String? {
        var status: Int32 = 0
        guard waitpid(child.pid, &status, WNOHANG) == child.pid else { return nil }
        return describe(status)
    }

    /// Closes the socket of a reader that has ended and been reaped.
    static func close(_ child: Child) {
        _ = Glibc.close(child.socket)
    }

    /// Closes the socket, kills the reader and reaps it.
    static func stop(_ child: Child) {
        _ = Glibc.close(child.socket)
        kill(child.pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// "exit status N" or "signal N (SIGNAME)".
    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        return signal == 0 ? "exit status \((status >> 8) & 0xff)" : "signal \(signal) (\(signalName(signal)))"
    }

    /// The signal of an exceeded CPU time limit.
    static let cpuLimitSignal = SIGXCPU

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGSEGV: "SIGSEGV"
        case SIGBUS: "SIGBUS"
        case SIGILL: "SIGILL"
        case SIGFPE: "SIGFPE"
        case SIGABRT: "SIGABRT"
        case SIGTRAP: "SIGTRAP"
        case SIGKILL: "SIGKILL"
        case SIGXCPU: "SIGXCPU"
        case SIGXFSZ: "SIGXFSZ"
        case SIGPIPE: "SIGPIPE"
        case SIGTERM: "SIGTERM"
        default: "signal \(signal)"
        }
    }
}

private func errorText() -> String { String(cString: strerror(errno)) }
