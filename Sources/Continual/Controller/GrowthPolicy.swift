import Foundation

/// When, where and on which detectors to grow an expert (METHOD.md section 5, step 4).
///
/// Once per window of samples the controller hands the policy what it observed; the
/// policy answers with a `GrowthDecision`. Growth needs all of:
/// 1. a **trigger**: the Page-Hinkley test found an increase of the error rate
///    (`drift`), or the windowed error rate has not improved for `patience` windows
///    while staying above `stagnationErrorRate` (`stagnation`);
/// 2. **persistent detectors**: some hidden layer has had significant error detectors
///    in each of the last `persistence` windows;
/// 3. the **cool-down** since the last growth has passed and the **budget** (experts,
///    parameters) is not spent.
/// Where: the lowest hidden layer with persistent detectors ("push feature detection
/// down to the lowest layer that can make it"). What: an expert on at most
/// `maxDetectors` of that layer's most negative detectors.
public struct GrowthPolicy: Sendable, Equatable, Codable {
    /// Windows in a row that a layer must show significant detectors.
    public var persistence: Int = 2
    /// Windows without improvement that count as stagnation.
    public var patience: Int = 8
    /// Smallest decrease of the windowed error rate that counts as improvement.
    public var minimumImprovement: Double = 0.005
    /// Stagnation only triggers growth above this windowed error rate.
    public var stagnationErrorRate: Double = 0.5
    /// Windows to wait after a growth before the next one.
    public var cooldownWindows: Int = 16
    /// Most experts the model may have.
    public var maxExperts: Int = 8
    /// Most parameters the model may have (0: no limit).
    public var maxParameters: Int = 0
    /// Most detectors an expert reads.
    public var maxDetectors: Int = 64
    /// Whether growth is allowed at all (off for the fine-tuning and replay baselines).
    public var enabled: Bool = true

    public init() {}

    /// What the controller saw in one window.
    public struct Observation: Sendable, Equatable {
        /// Index of the window (0, 1, …).
        public var window: Int
        /// The window's error rate (prequential, before training on it).
        public var errorRate: Double
        /// Whether the drift test fired during the window.
        public var drift: Bool
        /// Significant detectors per hidden layer, most negative first.
        public var detectors: [[Int]]
        /// Experts the model has now.
        public var experts: Int
        /// Parameters the model has now.
        public var parameters: Int
        /// Parameters the new expert would add, per hidden layer.
        public var expertParameters: [Int]

        public init(window: Int, errorRate: Double, drift: Bool, detectors: [[Int]],
                    experts: Int, parameters: Int, expertParameters: [Int]) {
            self.window = window
            self.errorRate = errorRate
            self.drift = drift
            self.detectors = detectors
            self.experts = experts
            self.parameters = parameters
            self.expertParameters = expertParameters
        }
    }

    /// The policy's memory between windows (saved in checkpoints).
    public struct State: Sendable, Equatable, Codable {
        /// Consecutive windows with significant detectors, per hidden layer.
        public var persistentWindows: [Int] = []
        /// Recent windowed error rates (at most `patience + 1`).
        public var recentErrorRates: [Double] = []
        /// The window of the last growth, if any.
        public var lastGrowthWindow: Int?
        /// A drift seen but not yet acted on (waits for detectors to persist).
        public var pendingDrift: Bool = false

        public init() {}
    }

    /// Decides for one window and updates `state`.
    public func decide(_ o: Observation, state: inout State) -> GrowthDecision {
        if state.persistentWindows.count != o.detectors.count {
            state.persistentWindows = Array(repeating: 0, count: o.detectors.count)
        }
        for l in o.detectors.indices {
            state.persistentWindows[l] = o.detectors[l].isEmpty ? 0 : state.persistentWindows[l] + 1
        }
        let stagnating = isStagnating(o.errorRate, history: state.recentErrorRates)
        state.recentErrorRates.append(o.errorRate)
        if state.recentErrorRates.count > patience + 1 { state.recentErrorRates.removeFirst() }
        if o.drift { state.pendingDrift = true }

        let trigger: GrowthDecision.Trigger? = state.pendingDrift ? .drift : (stagnating ? .stagnation : nil)
        var decision = GrowthDecision(window: o.window, errorRate: o.errorRate, trigger: trigger)
        guard let trigger else {
            decision.outcome = .none
            return decision
        }
        guard enabled else {
            decision.outcome = .suppressed("growth is disabled")
            state.pendingDrift = false
            return decision
        }
        guard let layer = state.persistentWindows.firstIndex(where: { $0 >= persistence }) else {
            let best = state.persistentWindows.max() ?? 0
            decision.outcome = .suppressed(
                "no hidden layer has had significant error detectors for \(persistence) windows (best: \(best))")
            return decision
        }
        if let last = state.lastGrowthWindow, o.window - last < cooldownWindows {
            decision.outcome = .suppressed("cool-down: last growth \(o.window - last) window(s) ago, need \(cooldownWindows)")
            return decision
        }
        if o.experts >= maxExperts {
            decision.outcome = .suppressed("expert budget spent (\(o.experts) of \(maxExperts))")
            state.pendingDrift = false
            return decision
        }
        if maxParameters > 0, o.parameters + o.expertParameters[layer] > maxParameters {
            decision.outcome = .suppressed(
                "parameter budget: \(o.parameters) + \(o.expertParameters[layer]) would exceed \(maxParameters)")
            state.pendingDrift = false
            return decision
        }
        let detectors = Array(o.detectors[layer].prefix(maxDetectors))
        decision.outcome = .grow(layer: layer, detectors: detectors)
        decision.reason = trigger == .drift
            ? "the error rate rose (Page-Hinkley) and layer \(layer) has had \(o.detectors[layer].count) significant detectors for \(state.persistentWindows[layer]) windows"
            : "the windowed error rate \(String(format: "%.3f", o.errorRate)) has not improved for \(patience) windows and layer \(layer) has \(o.detectors[layer].count) significant detectors"
        state.lastGrowthWindow = o.window
        state.pendingDrift = false
        state.recentErrorRates.removeAll()
        return decision
    }

    func isStagnating(_ rate: Double, history: [Double]) -> Bool {
        guard history.count >= patience, rate >= stagnationErrorRate else { return false }
        let best = history.suffix(patience).min()!
        return rate > best - minimumImprovement
    }
}

/// One decision of the growth policy, kept in the learner's history.
public struct GrowthDecision: Sendable, Equatable, Codable {
    public enum Trigger: String, Sendable, Codable { case drift, stagnation, novelty }

    public enum Outcome: Sendable, Equatable, Codable {
        /// Nothing called for growth.
        case none
        /// A trigger fired but a condition held growth back; the reason says which.
        case suppressed(String)
        /// Grow an expert at this hidden layer on these detector neurons.
        case grow(layer: Int, detectors: [Int])
    }

    public var window: Int
    public var errorRate: Double
    public var trigger: Trigger?
    public var outcome: Outcome = .none
    /// Why growth happened (empty otherwise; a suppression carries its own reason).
    public var reason: String = ""

    /// A one-line account for logs and reports.
    public var summary: String {
        switch outcome {
        case .none: return "window \(window): no trigger (error rate \(String(format: "%.3f", errorRate)))"
        case let .suppressed(why): return "window \(window): \(trigger?.rawValue ?? "") trigger suppressed: \(why)"
        case let .grow(layer, detectors): return "window \(window): grow an expert at hidden layer \(layer) on \(detectors.count) detectors: \(reason)"
        }
    }
}
