/// Something that watches a ``StreamDriver`` at fixed points of its loop: metrics,
/// reports, progress lines (after Avalanche's strategy plugins, Lomonaco et al. 2021).
///
/// Every hook has an empty default, so a plugin implements only what it needs:
///
/// ```swift
/// final class Dots: StreamPlugin {
///     func afterBatch(_ driver: StreamDriver<L>, _ event: BatchEvent<Learner.StepReport>) {
///         print(".", terminator: "")
///     }
/// }
/// ```
///
/// The driver calls the hooks in this order: `beforeExperience`, then per batch
/// `beforeBatch` and `afterBatch`, `afterExperience` when the experience's data is used
/// up (evaluations happen here), `onCheckpoint` after each save attempt, and `atEnd` when
/// the run finishes or pauses. A plugin whose results must survive a pause names a
/// checkpoint section (`sectionName`): the driver saves `savedState()` there with every
/// checkpoint and gives it back to `restore(from:)` when the stream is resumed.
public protocol StreamPlugin<L>: AnyObject {
    /// The learner the driver drives.
    associatedtype L: StreamLearner

    /// The section (`/sections/<name>`) holding this plugin's state; nil keeps none.
    var sectionName: String? { get }
    /// An experience starts (not called again when a paused experience is resumed).
    func beforeExperience(_ driver: StreamDriver<L>, _ experience: ExperiencePosition)
    /// A batch is about to be read and learned.
    func beforeBatch(_ driver: StreamDriver<L>)
    /// A batch was learned.
    func afterBatch(_ driver: StreamDriver<L>, _ event: BatchEvent<L.Step>)
    /// An experience's data is used up (the learner has learned all of it).
    func afterExperience(_ driver: StreamDriver<L>, _ experience: ExperiencePosition)
    /// A save was attempted.
    func onCheckpoint(_ driver: StreamDriver<L>, _ event: CheckpointEvent)
    /// The run finished or paused.
    func atEnd(_ driver: StreamDriver<L>)
    /// The state to save in `sectionName`.
    func savedState() throws -> CheckpointSection
    /// Restores the state saved by `savedState()`.
    func restore(from section: CheckpointSection) throws
}

extension StreamPlugin {
    public var sectionName: String? { nil }
    public func beforeExperience(_ driver: StreamDriver<L>, _ experience: ExperiencePosition) {}
    public func beforeBatch(_ driver: StreamDriver<L>) {}
    public func afterBatch(_ driver: StreamDriver<L>, _ event: BatchEvent<L.Step>) {}
    public func afterExperience(_ driver: StreamDriver<L>, _ experience: ExperiencePosition) {}
    public func onCheckpoint(_ driver: StreamDriver<L>, _ event: CheckpointEvent) {}
    public func atEnd(_ driver: StreamDriver<L>) {}
    public func savedState() throws -> CheckpointSection { CheckpointSection() }
    public func restore(from section: CheckpointSection) throws {}
}

/// Which experience of the stream: counted over all cycles, and as the scenario's.
public struct ExperiencePosition: Sendable, Equatable {
    /// Experiences before this one, over all cycles.
    public var ordinal: Int
    /// The scenario's experience (`ordinal` modulo the scenario's count; 0 for a stream
    /// of one experience).
    public var experience: Int
    /// The cycle (0-based).
    public var cycle: Int
    /// Experiences per cycle.
    public var perCycle: Int
}

/// What one learned batch was, for `afterBatch`.
public struct BatchEvent<Step: Sendable>: Sendable {
    /// What the learner reported.
    public var step: Step
    /// Samples in the batch and its pass over the data.
    public var samples: Int
    public var pass: Int
    public var experience: ExperiencePosition
    /// Samples of the experience delivered so far, and in all when the source knows.
    public var samplesInExperience: Int
    public var experienceSamples: Int?
}

/// The outcome of one save.
public enum CheckpointEvent: Sendable {
    /// Why the driver saved.
    public enum Reason: String, Sendable {
        /// `stopped`: bad data stopped the stream; saved at the last batch learned.
        case periodic, experience, end, stopped
    }

    case saved(path: String, reason: Reason)
    case failed(path: String, reason: Reason, error: CheckpointError)
}
