import MoE

// Numerical faults (issue 7, item 4). Two guards keep NaN and overflow away from what
// the learner keeps:
//
// 1. Rows out of range. A row whose network input, hidden activations, logits or gate
//    features exceed `magnitudeLimit` (or are not finite) is predicted and scored, but
//    not learned from: it updates neither the covariance tracker, nor the gate's class
//    statistics, nor the weights, and never enters the replay buffer (where it would be
//    replayed into every later step). With inputs scaled online the network's input is
//    the scaled row, and a raw value is judged in deviations of its feature
//    (`rawRowsInRange`): the scaler and every other statistic of raw rows add in
//    Float64, so a feature in units of 1e30 is learned like one in units of 1.
// 2. Unsound steps. Before a step, a non-finite loss or gradient rejects it; after it,
//    a trainable parameter beyond the limit or a non-finite Adam moment rolls it back.
//    Either way the model and Adam's state are exactly as before the step, the rate is
//    halved (half-learning's, or Adam's without half-learning, never below the minimum
//    rate) and the fault is counted and recorded in the history.

extension Learner {
    /// Largest magnitude the learner lets into its statistics and weights:
    ///
    /// ```
    /// limit = 1e15:   limit² · 1e8 = 1e38 < Float.greatestFiniteMagnitude ≈ 3.4e38
    /// ```
    ///
    /// so squares of such values summed over a hundred million rows (scatter matrices,
    /// Adam's second moments) stay finite in Float32.
    public static let magnitudeLimit: Float = 1e15

    /// Per raw row: whether it may be learned from as far as its raw values go. With
    /// inputs scaled online, every value must be finite and lie within `magnitudeLimit`
    /// deviations of its feature's centre (`InputScaler.rowsWithin`; a feature that has
    /// not varied yet, within that many times its median magnitude in the batch): the scaler's
    /// moments, the moments by class and the input runs are Float64 sums, in which any
    /// finite Float is safe, and the network reads the scaled, clipped values. Without a
    /// scaler the raw row is the network's input and is held to `magnitudeLimit` itself.
    /// (Until 2026-12-04 the raw limit held either way: a column measured in units of
    /// 1e20 kept every row of a stream out of learning, which scored 0.30 where the same
    /// rows in units of 1 scored 0.68.)
    func rawRowsInRange(_ x: Matrix) -> [Bool] {
        scaler?.rowsWithin(x, deviations: Self.magnitudeLimit) ?? x.rowsBounded(by: Self.magnitudeLimit)
    }

    /// The rows that may be learned from; `nil` when all of them may (the common case).
    ///
    /// - Parameters:
    ///   - raw: whether each raw input row is in range (`rawRowsInRange`: the raw row
    ///     itself without a scaler; with one, its values in deviations, which bounds the
    ///     scaled, clipped row the network reads).
    ///   - pass: the forward pass of the scaled rows (activations, logits, gate features).
    func rowsInRange(raw: [Bool], pass: MixtureOfExperts.Forward) -> [Int]? {
        var inRange = raw
        let gateFeatures = pass.gate?.features.map { [$0] } ?? []
        for matrix in pass.hidden + [pass.logits] + gateFeatures {
            let rows = matrix.rowsBounded(by: Self.magnitudeLimit)
            for r in inRange.indices where !rows[r] { inRange[r] = false }
        }
        guard inRange.contains(false) else { return nil }
        return inRange.indices.filter { inRange[$0] }
    }

    /// Records rows kept out of learning.
    mutating func recordRowsOutOfRange(kept: [Int], of total: Int, source: String) {
        let out = total - kept.count
        // Rows are numbered in the whole batch, also for a warm-up piece of it.
        let first = (kept.enumerated().first { $0.offset != $0.element }?.offset ?? kept.count) + 1 + (piece?.offset ?? 0)
        counters.rowsOutOfRange += out
        history.record(LearnerHistory.Fault(
            kind: .rowsOutOfRange, batch: batchNumber, sample: counters.samples,
            detail: "\(source): \(out) of \(total) rows\(piece.map { " (of a piece of \($0.batchRows))" } ?? "") (first: row \(first)) reach magnitudes beyond \(Self.magnitudeLimit) in the input (in deviations, when scaled), activations or gate features; predicted and scored, not learned from",
            rate: nil))
    }

    /// Why a step must not be applied: its loss or a gradient is not finite.
    func faultBeforeStep(loss: Float, gradients: Gradients) -> (LearnerHistory.Fault.Kind, String)? {
        if !loss.isFinite { return (.nonFiniteLoss, "the loss is \(loss)") }
        let finite = Float.greatestFiniteMagnitude
        guard gradients.values.values.contains(where: { !$0.isBounded(by: finite) }) else { return nil }
        let path = gradients.values.keys.sorted().first { !gradients.values[$0]!.isBounded(by: finite) }!
        return (.nonFiniteGradient, "the gradient of \(path) is not finite")
    }

    /// Why a step just taken must be rolled back: a trainable parameter beyond the
    /// magnitude limit, or a non-finite moment of Adam, among the parameters stepped.
    func faultAfterStep(paths: some Collection<String>) -> (LearnerHistory.Fault.Kind, String)? {
        let parameters = model.parameters
        let finite = Float.greatestFiniteMagnitude
        for path in paths.sorted() where !model.frozen.contains(path) {
            if let value = parameters[path], !value.isBounded(by: Self.magnitudeLimit) {
                return (.unsoundStep, "\(path) left the range ±\(Self.magnitudeLimit)")
            }
            if let m = optimizer.firstMoments[path], !m.isBounded(by: finite) {
                return (.unsoundStep, "Adam's first moment of \(path) is not finite")
            }
            if let v = optimizer.secondMoments[path], !v.isBounded(by: finite) {
                return (.unsoundStep, "Adam's second moment of \(path) is not finite")
            }
        }
        return nil
    }

    /// Halves the rate the next step starts from, and records the fault.
    ///
    /// - Returns: the new rate.
    mutating func recordStepFault(_ kind: LearnerHistory.Fault.Kind, _ detail: String) -> Float {
        let rate: Float
        if configuration.halfLearning {
            halfLearning.rate = max(halfLearning.minimumRate, halfLearning.rate / 2)
            rate = halfLearning.rate
        } else {
            optimizer.learningRate = max(minimumAdamRate, optimizer.learningRate / 2)
            rate = optimizer.learningRate
        }
        counters.numericalFaults += 1
        history.record(LearnerHistory.Fault(
            kind: kind, batch: counters.batches, sample: counters.samples, detail: detail, rate: rate))
        return rate
    }

    /// Adam's rate never falls below this after faults (half-learning's minimum rate).
    var minimumAdamRate: Float { configuration.learningRate / 64 }
}

extension Matrix {
    /// Whether every entry is finite with magnitude at most `limit` (NaN is not).
    func isBounded(by limit: Float) -> Bool {
        scalars.withUnsafeBufferPointer { $0.allBounded(by: limit) }
    }

    /// Per row: whether every entry is finite with magnitude at most `limit`.
    func rowsBounded(by limit: Float) -> [Bool] {
        let width = columns
        guard width > 0 else { return Array(repeating: true, count: rows) }
        return scalars.withUnsafeBufferPointer { p in
            (0..<rows).map { r in UnsafeBufferPointer(rebasing: p[r * width ..< (r + 1) * width]).allBounded(by: limit) }
        }
    }
}
