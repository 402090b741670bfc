/// What the learner decided and grew, bounded so that an endless stream keeps flat
/// memory: every growth is kept (growth is bounded by the expert budget), the most
/// recent decisions are kept in full, older ones only as counts.
public struct LearnerHistory: Sendable, Equatable, Codable {
    /// One grown expert.
    public struct Growth: Sendable, Equatable, Codable {
        public var expert: Int
        public var window: Int
        public var batch: Int
        public var sample: Int
        public var layer: Int
        public var detectors: [Int]
        public var classes: [Int]
        public var rho: [Double]
        public var trigger: String
        public var reason: String
    }

    /// Most decisions kept in full.
    public var capacity: Int = 256
    public private(set) var growths: [Growth] = []
    /// The most recent decisions (triggered ones: grown or suppressed).
    public private(set) var recentDecisions: [GrowthDecision] = []
    /// Windows closed with no trigger.
    public private(set) var quietWindows = 0
    /// Triggers held back, by reason prefix (the text before the first colon).
    public private(set) var suppressions: [String: Int] = [:]

    public init() {}

    mutating func record(_ decision: GrowthDecision) {
        switch decision.outcome {
        case .none:
            quietWindows += 1
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
}

import Foundation
