import Synchronization

/// Where a ``StreamDriver``'s stream is: saved with every checkpoint. It holds no time,
/// so the same stream saves the same position, bit for bit.
public struct StreamProgress: Sendable, Equatable, Codable {
    /// Experiences completed, over all cycles (the index of the one in progress).
    public var experience = 0
    /// The source of the experience in progress: rows read, samples delivered, label
    /// map, skipped rows. Between experiences only its label map and skipped rows are kept.
    public var source = StreamPosition()
    /// Batches and samples learned in this stream (a continuation starts a new one).
    public var batches = 0
    public var samples = 0

    public init() {}
}

/// When a run of a ``StreamDriver`` pauses before the stream's end.
public struct StopCondition: Sendable, Equatable {
    /// Pause once this many experiences are complete, counted over all cycles.
    public var experiences: Int?
    /// Pause once this many batches have been learned in this stream.
    public var batches: Int?
    /// Pause before the next batch once this is requested (an interrupt: the batch being
    /// learned ends, the stream is saved by its policy and resumes from the next row).
    public var request: StopRequest?

    public init(experiences: Int? = nil, batches: Int? = nil, request: StopRequest? = nil) {
        self.experiences = experiences
        self.batches = batches
        self.request = request
    }

    public static func == (a: StopCondition, b: StopCondition) -> Bool {
        a.experiences == b.experiences && a.batches == b.batches && a.request === b.request
    }
}

/// A request to pause a running stream, made from any thread (a signal handler's queue)
/// and read by the stream between batches.
public final class StopRequest: Sendable {
    private let reason = Atomic<Int32>(0)

    public init() {}

    /// Asks the stream to pause; `code` says why (a signal's number; not 0).
    public func request(_ code: Int32) {
        precondition(code != 0, "A stop request says why with a code other than 0")
        _ = reason.compareExchange(expected: 0, desired: code, ordering: .sequentiallyConsistent)
    }

    /// Why a pause was requested (the first request's code), or nil.
    public var requested: Int32? {
        let code = reason.load(ordering: .sequentiallyConsistent)
        return code == 0 ? nil : code
    }
}

/// How a run of a ``StreamDriver`` ended.
public enum RunOutcome: Sendable, Equatable {
    /// The source is used up.
    case finished
    /// A stop condition paused it; a checkpoint resumes it.
    case paused
}
