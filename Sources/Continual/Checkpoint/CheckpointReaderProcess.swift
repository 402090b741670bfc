import HDF5Kit
import Synchronization

/// The reader process that parses untrusted checkpoints for this one
/// (`moe-checkpoint-reader`, see `CheckpointParsing`).
///
/// One per process, started at the first isolated load and kept for the next ones:
/// loads take turns (a lock), each sends the limits and the verified bytes, and gets back
/// a reply saying how the parse ended, then the snapshot. The bytes travel in two System
/// V shared memory segments named in the request: the image, and the answer the reader
/// writes. For files up to `keptFileBytes` both are kept for the next load, so their
/// memory is allocated once and not at every load (allocating pages was the larger part
/// of the cost). The reader parses each file in a fresh fork of itself, so one file
/// cannot affect the parse of another, and a crash or a hang ends only that fork. If the reader itself stops answering (it never parses a file, so it
/// should not), it is killed and started again at the next load.
final class CheckpointReaderProcess: Sendable {
    /// The program's name; `MOE_CHECKPOINT_READER` names another path.
    static let programName = "moe-checkpoint-reader"
    static let environmentVariable = "MOE_CHECKPOINT_READER"
    /// The largest checkpoint whose image and answer segments are kept between loads.
    static let keptFileBytes = 64 << 20

    static let shared = CheckpointReaderProcess()

    /// The running reader, and the image and answer segments kept for it.
    struct State {
        var child: ReaderProcessSystem.Child?
        var image: ReaderProcessSystem.SharedMemory?
        var answer: ReaderProcessSystem.SharedMemory?
    }

    private let state = Mutex(State())

    deinit {
        state.withLock { state in
            if let child = state.child { ReaderProcessSystem.stop(child) }
            for segment in [state.image, state.answer].compactMap({ $0 }) { ReaderProcessSystem.release(segment) }
        }
    }

    /// The reader's process id while it runs (for tests).
    var processID: Int32? { state.withLock { $0.child?.pid } }

    /// Parses `bytes` (a verified checkpoint file) in the reader process.
    func snapshot(of bytes: [UInt8], name: String, limits: CheckpointReaderLimits) throws(CheckpointError) -> HDF5Snapshot {
        try snapshot(name: name, capacity: bytes.count, limits: limits) { space throws(CheckpointError) -> Int in
            bytes.withUnsafeBytes { space.copyMemory(from: $0) }
            return bytes.count
        }
    }

    /// Parses a checkpoint that `fill` writes (and verifies) straight into the memory the
    /// reader reads it from: at most `capacity` bytes; `fill` returns how many. A file is
    /// read from disk to that memory without another copy.
    func snapshot(
        name: String, capacity: Int, limits: CheckpointReaderLimits,
        fill: (UnsafeMutableRawBufferPointer) throws(CheckpointError) -> Int
    ) throws(CheckpointError) -> HDF5Snapshot {
        let decoded = try state.withLock { (state: inout State) throws(CheckpointError) -> Result<HDF5Snapshot, HDF5Error> in
            let image: ReaderProcessSystem.SharedMemory
            do throws(CheckpointReaderFailure) {
                image = try segment(for: capacity, keptUpTo: Self.keptFileBytes, kept: &state.image)
            } catch {
                throw .readerFailed(file: name, reason: error)
            }
            defer { if image.id != state.image?.id { ReaderProcessSystem.release(image) } }
            let count = try fill(UnsafeMutableRawBufferPointer(rebasing: image.memory[0..<capacity]))
            precondition(count >= 0 && count <= capacity, "fill wrote \(count) of at most \(capacity) bytes")
            do throws(CheckpointReaderFailure) {
                return try exchange(limits.request(fileBytes: count), image: image, name: name, with: &state)
            } catch {
                throw .readerFailed(file: name, reason: error)
            }
        }
        switch decoded {
        case let .success(snapshot): return snapshot
        case let .failure(error):
            var located = error
            located.file = name
            throw .hdf5(located)
        }
    }

    /// One request and its reply, starting the reader if needed. Under the lock.
    private func exchange(
        _ request: HDF5SnapshotRequest, image: ReaderProcessSystem.SharedMemory, name: String, with state: inout State
    ) throws(CheckpointReaderFailure) -> Result<HDF5Snapshot, HDF5Error> {
        if let running = state.child, ReaderProcessSystem.exitStatus(of: running) != nil {
            // It ended between loads (killed from outside; now reaped): start another.
            ReaderProcessSystem.close(running)
            state.child = nil
        }
        if state.child == nil { state.child = try ReaderProcessSystem.start(try Self.locate()) }
        let reader = state.child!
        // The parse has its own deadline inside the reader; this one also covers the
        // transfers, and a reader that stopped answering altogether.
        let deadline = ContinuousClock.now + .milliseconds(request.timeoutMilliseconds) + .seconds(10 + request.imageBytes / (16 << 20))
        func fail(_ reason: String) -> CheckpointReaderFailure {
            let ended = ReaderProcessSystem.exitStatus(of: reader)
            if ended == nil { ReaderProcessSystem.stop(reader) } else { ReaderProcessSystem.close(reader) }
            state.child = nil
            return .readerStopped(ended.map { "it ended (\($0))" } ?? reason)
        }
        // The bytes are in shared memory (no copy through the socket, no back and forth
        // while they are written); only the two headers cross it.
        let answer = try segment(for: request.answerLimit, keptUpTo: 2 * Self.keptFileBytes + (1 << 20), kept: &state.answer)
        defer { if answer.id != state.answer?.id { ReaderProcessSystem.release(answer) } }
        var sent = request
        sent.imageSegment = image.id
        sent.answerSegment = answer.id
        if let problem = ReaderProcessSystem.send(sent.header(), to: reader, by: deadline) {
            throw fail(problem)
        }
        let header: [UInt8]
        switch ReaderProcessSystem.receive(HDF5SnapshotReply.headerSize, from: reader, by: deadline) {
        case let .success(bytes): header = bytes
        case .failure(.ended): throw fail("it closed its output")
        case let .failure(.other(reason)): throw fail(reason)
        }
        guard let reply = HDF5SnapshotReply(header: header) else { throw fail("its reply is not well formed") }
        switch reply.outcome {
        case let .answered(length):
            guard length <= request.answerLimit else { throw fail("it announced an answer of \(length) bytes, more than the \(request.answerLimit) allowed") }
            // Decoded where it lies: every length is checked against the answer's.
            do {
                return try HDF5SnapshotWire.decode(UnsafeRawBufferPointer(rebasing: answer.memory[0..<length]), name: name)
            } catch {
                throw .malformedAnswer(error.description)
            }
        case let .signaled(signal) where signal == ReaderProcessSystem.cpuLimitSignal:
            throw .cpuLimit(seconds: request.cpuSeconds)
        case let .signaled(signal):
            throw .crashed(signal: signal, name: ReaderProcessSystem.signalName(signal), memoryLimit: request.memoryBytes)
        case let .exited(status):
            throw .exited(status: status)
        case .timedOut:
            throw .timedOut(seconds: Double(request.timeoutMilliseconds) / 1000)
        case .answerTooLarge:
            throw .answerTooLarge(limit: request.answerLimit)
        }
    }

    /// A segment of at least `bytes` bytes: the kept one (made, or made larger, when
    /// needed) up to `limit` bytes, else a new one the caller releases.
    private func segment(for bytes: Int, keptUpTo limit: Int, kept: inout ReaderProcessSystem.SharedMemory?)
        throws(CheckpointReaderFailure) -> ReaderProcessSystem.SharedMemory
    {
        guard bytes <= limit else { return try ReaderProcessSystem.makeSharedMemory(bytes: bytes) }
        if (kept?.memory.count ?? -1) < bytes {
            kept.map(ReaderProcessSystem.release)
            kept = nil
            kept = try ReaderProcessSystem.makeSharedMemory(bytes: max(bytes, 2 << 20))
        }
        return kept!
    }

    /// The reader program: `$MOE_CHECKPOINT_READER`, else the first found of `folders`
    /// (the folder of the running executable, which is the build folder when tests run)
    /// and the folders of `PATH`.
    static func locate(
        environment: (String) -> String? = ReaderProcessSystem.environment,
        folders: [String] = ReaderProcessSystem.executableFolders()
    ) throws(CheckpointReaderFailure) -> String {
        if let path = environment(environmentVariable), !path.isEmpty {
            guard ReaderProcessSystem.isExecutableFile(path) else {
                throw .notFound(searched: ["\(path) (from \(environmentVariable))"])
            }
            return path
        }
        var searched: [String] = []
        let path = environment("PATH") ?? ""
        for folder in folders + path.split(separator: ":").map(String.init) where !folder.isEmpty {
            let candidate = folder + "/" + programName
            if ReaderProcessSystem.isExecutableFile(candidate) { return candidate }
            if !searched.contains(folder) { searched.append(folder) }
        }
        throw .notFound(searched: searched)
    }
}
