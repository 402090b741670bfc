import HDF5Kit
import Synchronization

/// The reader process that parses untrusted checkpoints for this one
/// (`moe-checkpoint-reader`, see `CheckpointParsing`).
///
/// One per process, started at the first isolated load and kept for the next ones:
/// loads take turns (a lock), each sends the verified bytes and the limits, and gets back
/// a reply saying how the parse ended, then the snapshot. The reader parses each file in
/// a fresh fork of itself, so one file cannot affect the parse of another, and a crash
/// or a hang ends only that fork. If the reader itself stops answering (it never parses
/// a file, so it should not), it is killed and started again at the next load.
final class CheckpointReaderProcess: Sendable {
    /// The program's name; `MOE_CHECKPOINT_READER` names another path.
    static let programName = "moe-checkpoint-reader"
    static let environmentVariable = "MOE_CHECKPOINT_READER"

    static let shared = CheckpointReaderProcess()

    private let child = Mutex<ReaderProcessSystem.Child?>(nil)

    /// The reader's process id while it runs (for tests).
    var processID: Int32? { child.withLock { $0?.pid } }

    /// Parses `bytes` (a verified checkpoint file) in the reader process.
    func snapshot(of bytes: [UInt8], name: String, limits: CheckpointReaderLimits) throws(CheckpointError) -> HDF5Snapshot {
        let request = limits.request(fileBytes: bytes.count)
        let answer = try child.withLock { (child: inout ReaderProcessSystem.Child?) throws(CheckpointError) -> [UInt8] in
            do throws(CheckpointReaderFailure) {
                return try exchange(request, bytes, with: &child)
            } catch {
                throw .readerFailed(file: name, reason: error)
            }
        }
        let decoded: Result<HDF5Snapshot, HDF5Error>
        do {
            decoded = try HDF5SnapshotWire.decode(answer, name: name)
        } catch {
            throw .readerFailed(file: name, reason: .malformedAnswer(error.description))
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
        _ request: HDF5SnapshotRequest, _ bytes: [UInt8], with child: inout ReaderProcessSystem.Child?
    ) throws(CheckpointReaderFailure) -> [UInt8] {
        if let running = child, ReaderProcessSystem.exitStatus(of: running) != nil {
            // It ended between loads (killed from outside; now reaped): start another.
            ReaderProcessSystem.close(running)
            child = nil
        }
        if child == nil { child = try ReaderProcessSystem.start(try Self.locate()) }
        let reader = child!
        // The parse has its own deadline inside the reader; this one also covers the
        // transfers, and a reader that stopped answering altogether.
        let deadline = ContinuousClock.now + .milliseconds(request.timeoutMilliseconds) + .seconds(10 + bytes.count / (16 << 20))
        func fail(_ reason: String) -> CheckpointReaderFailure {
            let ended = ReaderProcessSystem.exitStatus(of: reader)
            if ended == nil { ReaderProcessSystem.stop(reader) } else { ReaderProcessSystem.close(reader) }
            child = nil
            return .readerStopped(ended.map { "it ended (\($0))" } ?? reason)
        }
        if let problem = ReaderProcessSystem.send(request.header(), to: reader, by: deadline)
            ?? ReaderProcessSystem.send(bytes, to: reader, by: deadline) {
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
            switch ReaderProcessSystem.receive(length, from: reader, by: deadline) {
            case let .success(answer): return answer
            case .failure(.ended): throw fail("it closed its output")
            case let .failure(.other(reason)): throw fail(reason)
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
