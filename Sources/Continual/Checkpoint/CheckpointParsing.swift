import HDF5Kit

/// Where libhdf5 parses the HDF5 content of a checkpoint, once the header, the length,
/// the digest and any signature have been checked.
///
/// libhdf5 1.10 is not robust against crafted files: a file whose digests were
/// recomputed after its content was changed can crash it or make it loop forever. The
/// default, `.isolated`, lets it parse in a child process (`moe-checkpoint-reader`) with
/// limits on memory, CPU time and wall-clock time; only a snapshot of plain values comes
/// back, checked before anything is allocated, and a crash, a hang or a limit there is a
/// `CheckpointError.readerFailed` naming the file. `.inProcess` is the fast path for
/// files you trust, such as one this process has just written.
public enum CheckpointParsing: Sendable, Equatable {
    /// In the reader process, with these limits.
    case isolated(CheckpointReaderLimits)
    /// In this process (trusted files only).
    case inProcess

    /// In the reader process, with limits scaled to the file.
    public static let isolated = CheckpointParsing.isolated(CheckpointReaderLimits())
}

/// The limits of one parse in the reader process. Each default (nil) scales with the
/// file: a checkpoint of S MiB may take 10 + S/16 seconds of wall-clock time and as much
/// CPU time, 256 + 8 S MiB of address space beyond what the reader had before, and its
/// answer may hold 2 S + 1 MiB (the values of an honest file take no more room than the
/// file itself).
public struct CheckpointReaderLimits: Sendable, Equatable {
    /// Wall-clock seconds, after which the parse is killed.
    public var timeoutSeconds: Double?
    /// CPU seconds (whole), after which the parse is killed.
    public var cpuSeconds: Int?
    /// Bytes of address space the parse may add.
    public var memoryBytes: Int?
    /// Bytes of the largest answer accepted (by default as much as the parse may hold in
    /// memory: compressed datasets make the answer larger than the file).
    public var answerBytes: Int?

    public init(timeoutSeconds: Double? = nil, cpuSeconds: Int? = nil, memoryBytes: Int? = nil, answerBytes: Int? = nil) {
        precondition(timeoutSeconds.map { $0 > 0 && $0 <= 86_400 } ?? true, "The timeout must be positive and at most a day")
        precondition(cpuSeconds.map { $0 > 0 && $0 <= 86_400 } ?? true, "The CPU time must be positive and at most a day")
        precondition(memoryBytes.map { $0 > 0 } ?? true, "The memory limit must be positive")
        precondition(answerBytes.map { $0 > 0 } ?? true, "The answer limit must be positive")
        self.timeoutSeconds = timeoutSeconds
        self.cpuSeconds = cpuSeconds
        self.memoryBytes = memoryBytes
        self.answerBytes = answerBytes
    }

    /// The limits for a file of `bytes` bytes.
    func request(fileBytes bytes: Int) -> HDF5SnapshotRequest {
        let mebibytes = Double(bytes) / Double(1 << 20)
        let timeout = timeoutSeconds ?? (10 + mebibytes / 16)
        return HDF5SnapshotRequest(
            imageBytes: bytes, memoryBytes: memoryBytes ?? ((256 << 20) + 8 * bytes),
            answerLimit: answerBytes ?? ((256 << 20) + 8 * bytes), cpuSeconds: cpuSeconds ?? max(1, Int(timeout.rounded(.up))),
            timeoutMilliseconds: max(1, Int((timeout * 1000).rounded(.up))))
    }
}
