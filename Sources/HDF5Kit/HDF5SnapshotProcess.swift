/// A request to the process that snapshots HDF5 images for another one
/// (`moe-checkpoint-reader`): a fixed 56-byte header on its standard input. The bytes
/// themselves never cross that pipe: the image is in a System V shared memory segment
/// the requester filled, and the answer goes to another one it made (both named by
/// their ids here; the requester may keep them, and their memory, from one request to
/// the next). Shared memory rather than files: a file-size limit (`ulimit -f`) on the
/// requester must not stop it from loading.
///
/// ```
/// offset size field (little-endian)
///      0    8 "H5SNAPRQ"
///      8    8 image bytes (at the start of the image segment)
///     16    8 memory: address space the parse may add to the reader's own
///     24    8 answer limit: the largest answer the requester accepts, in bytes
///     32    4 CPU seconds the parse may use
///     36    4 wall-clock milliseconds the parse may take
///     40    4 the image segment's id (at least `image bytes` long)
///     44    4 the answer segment's id (at least `answer limit` long)
///     48    8 zeros
/// ```
public struct HDF5SnapshotRequest: Sendable, Equatable {
    public static let headerSize = 56
    static let magic: [UInt8] = Array("H5SNAPRQ".utf8)

    public var imageBytes: Int
    public var memoryBytes: Int
    public var answerLimit: Int
    public var cpuSeconds: Int
    public var timeoutMilliseconds: Int
    public var imageSegment: Int32
    public var answerSegment: Int32

    public init(
        imageBytes: Int, memoryBytes: Int, answerLimit: Int, cpuSeconds: Int, timeoutMilliseconds: Int,
        imageSegment: Int32 = 0, answerSegment: Int32 = 0
    ) {
        precondition(imageBytes >= 0 && memoryBytes > 0 && answerLimit > 0, "A request needs an image and positive limits")
        precondition((1...Int(UInt32.max)).contains(cpuSeconds) && (1...Int(UInt32.max)).contains(timeoutMilliseconds),
                     "CPU seconds and milliseconds of a request must be positive 32-bit numbers")
        precondition(imageSegment >= 0 && answerSegment >= 0, "Segment ids are non-negative")
        self.imageBytes = imageBytes
        self.memoryBytes = memoryBytes
        self.answerLimit = answerLimit
        self.cpuSeconds = cpuSeconds
        self.timeoutMilliseconds = timeoutMilliseconds
        self.imageSegment = imageSegment
        self.answerSegment = answerSegment
    }

    /// The 56 header bytes.
    public func header() -> [UInt8] {
        var bytes = Self.magic
        append(UInt64(imageBytes), to: &bytes)
        append(UInt64(memoryBytes), to: &bytes)
        append(UInt64(answerLimit), to: &bytes)
        append(UInt32(cpuSeconds), to: &bytes)
        append(UInt32(timeoutMilliseconds), to: &bytes)
        append(UInt32(imageSegment), to: &bytes)
        append(UInt32(answerSegment), to: &bytes)
        append(UInt64(0), to: &bytes)
        return bytes
    }

    /// The request in `header`, or nil when it is not a well-formed request header.
    public init?(header: [UInt8]) {
        guard header.count == Self.headerSize, header.starts(with: Self.magic),
              let image = field(UInt64.self, 8, header), let memory = field(UInt64.self, 16, header),
              let limit = field(UInt64.self, 24, header), memory > 0, limit > 0,
              let cpu = field(UInt32.self, 32, header), let timeout = field(UInt32.self, 36, header),
              cpu > 0, timeout > 0, let imageSegment = field(UInt32.self, 40, header), imageSegment <= Int(Int32.max),
              let answerSegment = field(UInt32.self, 44, header), answerSegment <= Int(Int32.max),
              field(UInt64.self, 48, header) == 0
        else { return nil }
        self.init(imageBytes: image, memoryBytes: memory, answerLimit: limit, cpuSeconds: cpu, timeoutMilliseconds: timeout,
                  imageSegment: Int32(imageSegment), answerSegment: Int32(answerSegment))
    }
}

/// The reader process's reply to a request: a fixed 24-byte header on its standard
/// output saying how the parse ended; when it answered, the answer (`HDF5SnapshotWire`)
/// is the first `bytes` bytes of the request's answer segment.
///
/// ```
/// offset size field (little-endian)
///      0    8 "H5SNAPRP"
///      8    4 outcome: 1 answered, 2 killed by a signal, 3 exited with a status,
///             4 timed out, 5 answer too large
///     12    4 the signal or the exit status (0 otherwise)
///     16    8 answer bytes (in the answer segment; 0 unless answered)
/// ```
public struct HDF5SnapshotReply: Sendable, Equatable {
    public static let headerSize = 24
    static let magic: [UInt8] = Array("H5SNAPRP".utf8)

    /// How the process that parsed the image ended.
    public enum Outcome: Sendable, Equatable {
        /// It exited normally after writing an answer of this many bytes to the answer segment.
        case answered(bytes: Int)
        /// It was killed by this signal (a crash, or a CPU limit: `SIGXCPU`, `SIGKILL`).
        case signaled(Int32)
        /// It exited with this status without answering.
        case exited(Int32)
        /// It did not finish within the request's wall-clock time and was killed.
        case timedOut
        /// Its answer would have exceeded the request's answer limit.
        case answerTooLarge
    }

    public var outcome: Outcome

    public init(_ outcome: Outcome) {
        self.outcome = outcome
    }

    /// The 24 header bytes.
    public func header() -> [UInt8] {
        let (code, detail, length): (UInt32, Int32, Int)
        switch outcome {
        case let .answered(bytes): (code, detail, length) = (1, 0, bytes)
        case let .signaled(signal): (code, detail, length) = (2, signal, 0)
        case let .exited(status): (code, detail, length) = (3, status, 0)
        case .timedOut: (code, detail, length) = (4, 0, 0)
        case .answerTooLarge: (code, detail, length) = (5, 0, 0)
        }
        var bytes = Self.magic
        append(code, to: &bytes)
        append(detail, to: &bytes)
        append(UInt64(length), to: &bytes)
        return bytes
    }

    /// The reply in `header`, or nil when it is not a well-formed reply header.
    public init?(header: [UInt8]) {
        guard header.count == Self.headerSize, header.starts(with: Self.magic),
              let code = field(UInt32.self, 8, header), let length = field(UInt64.self, 16, header)
        else { return nil }
        let detail = header.withUnsafeBytes { Int32(littleEndian: $0.loadUnaligned(fromByteOffset: 12, as: Int32.self)) }
        switch (code, length) {
        case (1, _) where detail == 0: outcome = .answered(bytes: length)
        case (2, 0): outcome = .signaled(detail)
        case (3, 0): outcome = .exited(detail)
        case (4, 0) where detail == 0: outcome = .timedOut
        case (5, 0) where detail == 0: outcome = .answerTooLarge
        default: return nil
        }
    }
}

private func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}

/// The unsigned field at `offset`, as an `Int` (nil when it does not fit in one).
private func field<T: UnsignedInteger & FixedWidthInteger>(_: T.Type, _ offset: Int, _ bytes: [UInt8]) -> Int? {
    let value = bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    return value <= T(clamping: Int.max) ? Int(value) : nil
}
