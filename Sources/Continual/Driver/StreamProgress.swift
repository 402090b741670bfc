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

    public init(experiences: Int? = nil, batches: Int? = nil) {
        self.experiences = experiences
        self.batches = batches
    }
}

/// How a run of a ``StreamDriver`` ended.
public enum RunOutcome: Sendable, Equatable {
    /// The source is used up.
    case finished
    /// A stop condition paused it; a checkpoint resumes it.
    case paused
}
