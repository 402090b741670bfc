import Foundation
import MoE

/// Everything needed to rebuild a model and continue training it exactly: format
/// version 1 (see `docs/checkpoint-format.md`).
///
/// A checkpoint is a value: build it from a model (`init(model:optimizer:...)`), save it
/// atomically (`save(to:)`, optionally signed), load it with full verification
/// (`load(from:)`, parsed in an isolated reader process), and turn it
/// back into a model (`makeModel()`) and an optimizer (`makeOptimizer(for:)`).
///
/// - `model`: the architecture, enough to rebuild the network before any weight is read;
/// - `parameters`: every parameter by dotted path (`trunk.0.weight`) with its frozen flag;
/// - `classes`: the label of each logit;
/// - `optimizer`, `training`: optimizer moments and step counts, learning rate,
///   counters and random number generator states, for bit-identical resumption;
/// - `sections`: named generic trees for the rest of the learner (covariance
///   statistics, growth history, replay buffer, stream position).
public struct Checkpoint: Sendable, Equatable {
    /// The format version this build writes and reads.
    public static let formatVersion = 1
    /// The version of the library that writes checkpoints.
    public static let libraryVersion = "0.1.0"

    /// Who wrote the checkpoint and when.
    public struct Metadata: Sendable, Equatable {
        /// The format version the file was written in (always `Checkpoint.formatVersion`
        /// for a checkpoint built in memory).
        public internal(set) var formatVersion: Int
        /// The library version that wrote it.
        public var libraryVersion: String
        /// Creation time, ISO 8601 in UTC (`2025-01-31T12:00:00.000Z`).
        public var created: String
        /// Free text for people.
        public var description: String

        public init(libraryVersion: String = Checkpoint.libraryVersion, created: String = Metadata.now(), description: String = "") {
            formatVersion = Checkpoint.formatVersion
            self.libraryVersion = libraryVersion
            self.created = created
            self.description = description
        }

        /// The current time in the format of `created`.
        public static func now() -> String {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            formatter.timeZone = TimeZone(identifier: "UTC")
            return formatter.string(from: Date())
        }
    }

    /// One parameter and whether it is frozen (never trained again).
    public struct Parameter: Sendable, Equatable {
        public var value: Matrix
        public var frozen: Bool

        public init(_ value: Matrix, frozen: Bool = false) {
            self.value = value
            self.frozen = frozen
        }
    }

    /// The label of each logit, in logit order.
    public enum ClassLabels: Sendable, Equatable {
        case integers([Int64])
        case strings([String])

        public var count: Int {
            switch self {
            case let .integers(v): v.count
            case let .strings(v): v.count
            }
        }
    }

    /// An optimizer's kind, hyperparameters and state (`Optimizer.state`, keyed by
    /// `<kind>/<parameter path>` such as `m/trunk.0.weight`).
    public struct OptimizerState: Sendable, Equatable {
        /// `adam` or `sgd` (others may be added by name).
        public var kind: String
        /// By name, e.g. `learning_rate`, `beta1`.
        public var hyperparameters: [String: Double]
        public var state: [String: Matrix]

        public init(kind: String, hyperparameters: [String: Double], state: [String: Matrix]) {
            self.kind = kind
            self.hyperparameters = hyperparameters
            self.state = state
        }
    }

    /// Where training stands: what is needed to continue it exactly.
    public struct TrainingState: Sendable, Equatable {
        /// The learner's current learning rate, when it manages one (half-learning).
        public var learningRate: Double?
        /// Step, sample, batch and epoch counters by name.
        public var counters: [String: Int64]
        /// Random number generator states (`SeededGenerator.state`) by name.
        public var generators: [String: [UInt64]]

        public init(learningRate: Double? = nil, counters: [String: Int64] = [:], generators: [String: [UInt64]] = [:]) {
            self.learningRate = learningRate
            self.counters = counters
            self.generators = generators
        }
    }

    public var metadata: Metadata
    /// The architecture, as written by `Checkpoint+Model.swift` (`/model`).
    public var model: CheckpointSection
    /// Every parameter by dotted path.
    public var parameters: [String: Parameter]
    public var classes: ClassLabels
    public var optimizer: OptimizerState?
    public var training: TrainingState?
    /// The learner's other state, by name (`/sections/<name>`).
    public var sections: [String: CheckpointSection]
    /// The file this checkpoint was loaded from, if any (not part of equality).
    public internal(set) var source: String?
    /// The key whose signature was verified when the checkpoint was loaded, if it was
    /// signed (not part of equality).
    public internal(set) var signer: CheckpointPublicKey?

    public init(
        metadata: Metadata = Metadata(), model: CheckpointSection, parameters: [String: Parameter],
        classes: ClassLabels, optimizer: OptimizerState? = nil, training: TrainingState? = nil,
        sections: [String: CheckpointSection] = [:]
    ) {
        self.metadata = metadata
        self.model = model
        self.parameters = parameters
        self.classes = classes
        self.optimizer = optimizer
        self.training = training
        self.sections = sections
    }

    public static func == (a: Checkpoint, b: Checkpoint) -> Bool {
        a.metadata == b.metadata && a.model == b.model && a.parameters == b.parameters && a.classes == b.classes
            && a.optimizer == b.optimizer && a.training == b.training && a.sections == b.sections
    }

    /// The paths of the frozen parameters.
    public var frozen: Set<String> {
        Set(parameters.filter(\.value.frozen).keys)
    }

    /// The section `name`, located for error messages (`/sections/<name>` in `source`).
    public func section(_ name: String) throws(CheckpointError) -> CheckpointSection {
        guard let section = sections[name] else { throw .missing(path: "/sections/\(name)", file: source) }
        return section.located(at: CheckpointOrigin(file: source, path: "/sections/\(name)"))
    }

    /// The random number generator `name` of the training state, continuing exactly
    /// where it was saved.
    public func generator(_ name: String) throws(CheckpointError) -> SeededGenerator {
        let path = "/training/generators/\(name)"
        guard let state = training?.generators[name] else { throw .missing(path: path, file: source) }
        guard state.count == 4, state.contains(where: { $0 != 0 }) else {
            throw .invalidValue(path: path, reason: "a xoshiro256** state is four words, not all zero", file: source)
        }
        return SeededGenerator(state: state)
    }

    /// The model section, located for error messages (`/model` in `source`).
    public var modelSection: CheckpointSection {
        model.located(at: CheckpointOrigin(file: source, path: "/model"))
    }
}
