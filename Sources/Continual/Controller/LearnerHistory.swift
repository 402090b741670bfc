/// What the learner decided and grew, bounded so that an endless stream keeps flat
/// memory: every growth is kept (growth is bounded by the expert budget), the most
/// recent decisions and numerical faults are kept in full, older ones only as counts.
public struct LearnerHistory: Sendable, Equatable, Codable {
    /// One grown expert.
    public struct Growth: Sendable, Equatable, Codable {
        public var expert: Int
        public var batch: Int
        /// First-visit samples observed when it grew.
        public var sample: Int
        public var layer: Int
        public var detectors: [Int]
        public var classes: [Int]
        public var rho: [Double]
        public var trigger: String
        public var reason: String
    }

    /// One numerical fault: a step that was rolled back, or rows kept out of learning.
    public struct Fault: Sendable, Equatable, Codable {
        public enum Kind: String, Sendable, Codable, CaseIterable {
            /// The loss of a step was NaN or infinite; nothing was applied.
            case nonFiniteLoss = "non-finite loss"
            /// A gradient held NaN or infinity; nothing was applied.
            case nonFiniteGradient = "non-finite gradient"
            /// The step was taken but left a parameter or Adam's state out of range;
            /// the model and the optimizer were restored.
            case unsoundStep = "step out of range"
            /// Rows whose input, activations or gate features are beyond the learner's
            /// magnitude limit: predicted and scored, not learned from.
            case rowsOutOfRange = "rows out of range"
            /// The gate's discriminant fit gave a non-finite head; the previous one stays.
            case unsoundHead = "non-finite gate head"
        }

        public var kind: Kind
        /// The batch in which it happened (1-based, as in `StepReport.batch`).
        public var batch: Int
        /// Samples observed before that batch.
        public var sample: Int
        /// Where: the parameter path, the rows, the value.
        public var detail: String
        /// The learning rate after halving (rolled-back steps only).
        public var rate: Float?
    }

    /// Most decisions (and, separately, most faults) kept in full.
    public var capacity: Int = 256
    public private(set) var growths: [Growth] = []
    /// The most recent decisions (triggered ones: grown or suppressed).
    public private(set) var recentDecisions: [GrowthDecision] = []
    /// Batches after which no trigger fired.
    public private(set) var quietBatches = 0
    /// Triggers held back, by reason prefix (the text before the first colon).
    public private(set) var suppressions: [String: Int] = [:]
    /// The most recent numerical faults.
    public private(set) var recentFaults: [Fault] = []
    /// Numerical faults of every kind so far, by `Fault.Kind` raw value.
    public private(set) var faults: [String: Int] = [:]

    public init() {}

    mutating func record(_ decision: GrowthDecision) {
        switch decision.outcome {
        case .none:
            quietBatches += 1
            return
        case let .suppressed(why):
            let key = String(why.prefix { $0 != ":" && $0 != "(" }).trimmingCharacters(in: .whitespaces)
            suppressions[key, default: 0] += 1
        case .grow:
            break
        }
        recentDecisions.append(decision)
        if recentDecisions.count > capacity { recentDecisions.removeFirst(recentDecisions.count - capacity) }
    }

    mutating func recordGrowth(_ growth: Growth) {
        growths.append(growth)
    }

    mutating func record(_ fault: Fault) {
        faults[fault.kind.rawValue, default: 0] += 1
        recentFaults.append(fault)
        if recentFaults.count > capacity { recentFaults.removeFirst(recentFaults.count - capacity) }
    }

    private enum CodingKeys: String, CodingKey {
        case capacity, growths, recentDecisions, quietBatches, suppressions, recentFaults, faults
    }

    /// Decodes a saved history; one saved before faults were recorded has none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        capacity = try container.decode(Int.self, forKey: .capacity)
        growths = try container.decode([Growth].self, forKey: .growths)
        recentDecisions = try container.decode([GrowthDecision].self, forKey: .recentDecisions)
        quietBatches = try container.decode(Int.self, forKey: .quietBatches)
        suppressions = try container.decode([String: Int].self, forKey: .suppressions)
        recentFaults = try container.decodeIfPresent([Fault].self, forKey: .recentFaults) ?? []
        faults = try container.decodeIfPresent([String: Int].self, forKey: .faults) ?? [:]
        guard capacity >= 1, recentDecisions.count <= capacity, recentFaults.count <= capacity else {
            throw DecodingError.dataCorruptedError(
                forKey: .capacity, in: container,
                debugDescription: "A history of capacity \(capacity) cannot hold \(recentDecisions.count) decisions and \(recentFaults.count) faults")
        }
    }
}
