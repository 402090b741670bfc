import MoE

/// Bytes a learner holds, by component: what the JSON of `moe stream` and the results
/// report beside the replay buffer, counted as stored (Float32 weights, Float64
/// statistics, the full square scatter, the pending rows), not as a checkpoint packs them.
public struct LearnerMemory: Sendable, Equatable, Codable {
    /// Trainable and frozen weights of the trunk, the experts and the gate's head (and
    /// the slots' own heads).
    public var weights = 0
    /// The gate's random projection (fixed at creation, never trained).
    public var randomFeatures = 0
    /// The gate's class statistics: counts, sums and the full `p x p` Float64 scatter,
    /// and each slot's own (`Learner.slotStatistics`).
    public var statistics = 0
    /// Rows whose scatter is not yet added to the statistics.
    public var pendingRows = 0
    /// The covariance tracker's moments.
    public var covariance = 0
    /// The replay buffer's rows, labels and tags.
    public var replay = 0
    /// Rows set aside to judge the slot in charge.
    public var holdout = 0
    /// The optimizer's moments (Adam's m and v for every parameter it has updated).
    public var optimizer = 0
    /// The input scaler's running moments and transform, and the inputs' moments by class
    /// (`Learner.classMoments`, with the drift's reference).
    public var scaler = 0

    public init() {}

    /// Bytes in all.
    public var total: Int { weights + randomFeatures + statistics + pendingRows + covariance + replay + holdout + optimizer + scaler }

    /// The components by name, for reports.
    public var components: [(name: String, bytes: Int)] {
        [("weights", weights), ("random_features", randomFeatures), ("statistics", statistics),
         ("pending_rows", pendingRows), ("covariance", covariance), ("replay", replay), ("holdout", holdout),
         ("optimizer", optimizer), ("scaler", scaler)]
    }
}

extension Learner {
    /// What the learner holds now, in bytes per component.
    public var memory: LearnerMemory {
        var m = LearnerMemory()
        let float = MemoryLayout<Float>.stride, double = MemoryLayout<Double>.stride, int = MemoryLayout<Int>.stride
        let random = Set(model.gate.alwaysFrozenPaths.map { "gate." + $0 })
        model.forEachParameter { path, value in
            if random.contains(path) { m.randomFeatures += float * value.count } else { m.weights += float * value.count }
        }
        for part in [statistics].compactMap({ $0 }) + slotStatistics.values {
            m.pendingRows += part.pendingBytes
            m.statistics += part.residentBytes - part.pendingBytes
        }
        if let heads = model.gate.slotHeads { m.weights += float * (heads.weight.count + heads.bias.count) }
        m.covariance = double * tracker.widths.reduce(0, +) * 7
        m.replay = float * replay.features.scalars.count + int * (replay.labels.count + replay.tags.count)
        m.holdout = float * (holdout.scalars.count + holdout.retainedScalars.count)
            + int * (holdout.labels.count + holdout.retainedLabels.count + holdout.retainedSlots.count)
        m.optimizer = float * (optimizer.firstMoments.values.reduce(0) { $0 + $1.count }
            + optimizer.secondMoments.values.reduce(0) { $0 + $1.count })
        if let scaler { m.scaler = scaler.width * (2 * double + 3 * float + int + 1) }
        let byClass = classMoments.count + (driftClassReference?.count ?? 0)
        m.scaler += byClass * (double * (2 * inputWidth + 1) + int)
        return m
    }
}
