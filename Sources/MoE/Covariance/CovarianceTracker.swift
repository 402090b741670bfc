/// Streaming covariance of every hidden neuron with the network's correctness.
///
/// For each sample `x` of a batch the tracker receives the hidden activations `a_j(x)`
/// of every hidden layer and a target `y(x)`: the correctness `c(x) ∈ {0, 1}` (the
/// default) or, as an option, the per-sample loss. Per neuron it keeps, in Float64,
///
/// ```
/// W  = Σ w_i                       (weight of the samples seen; the count without forgetting)
/// W2 = Σ w_i²
/// ā  = Σ w_i a_i / W,   ȳ = Σ w_i y_i / W
/// Maa = Σ w_i (a_i - ā)²,  Myy = Σ w_i (y_i - ȳ)²,  May = Σ w_i (a_i - ā)(y_i - ȳ)
/// ```
///
/// and merges each batch into them with the parallel update of Chan, Golub and LeVeque
/// (1979), so that the result equals a two-pass computation over every sample seen:
///
/// ```
/// δa = ā_B - ā_A,  δy = ȳ_B - ȳ_A,  W = W_A + W_B
/// ā   = ā_A + δa W_B / W
/// May = May_A + May_B + δa δy W_A W_B / W          (Maa, Myy alike)
/// ```
///
/// With exponential forgetting the old statistics are multiplied by a factor `f` before
/// each batch is merged (`W`, `Maa`, `Myy`, `May` by `f`, `W2` by `f²`; the means are
/// unchanged), which gives every sample the weight `w_i = Π f` of the batches that came
/// after it. Each neuron keeps its own weights, so neurons added by growth start empty
/// while older neurons keep their history.
///
/// From the state, per neuron (METHOD.md section 1):
///
/// ```
/// cov = May / W
/// rho = May / sqrt(Maa Myy)                      (point-biserial when y is c)
/// t   = rho sqrt((n - 2) / (1 - rho²)),  n = W² / W2   (Kish's effective sample size)
/// ```
///
/// Without forgetting `n` is the number of samples. Under forgetting, `n = W²/W2` is the
/// number of equally weighted samples that would give the weighted mean the same
/// variance; it approaches `(1 + f) / (1 - f)` batches' worth of samples.
public struct CovarianceTracker: Sendable {
    /// What the activations are correlated with.
    public enum Target: String, Sendable, Codable, CaseIterable {
        /// `c(x) = 1` if the network classified `x` correctly, else 0.
        case correctness
        /// The per-sample cross-entropy `-log p(y | x)` (an error detector then has a
        /// *positive* covariance; the tracker stores it as is).
        case loss
        /// Values the caller passes to `update(hidden:targets:)`, e.g. the signed output
        /// residual `p_k(x) - [y = k]` that Cascade-Correlation correlates with.
        case external
    }

    /// How old samples lose weight.
    public enum Forgetting: Sendable, Codable, Equatable {
        /// Every sample keeps weight 1.
        case none
        /// The statistics are multiplied by `factor` in `(0, 1]` before each batch is merged.
        case perBatch(factor: Double)
        /// A sample's weight halves after `samples` newer samples (a batch of `n` multiplies
        /// the old statistics by `2^(-n / samples)`).
        case halfLife(samples: Double)

        /// The factor applied to the old statistics before a batch of `batchSize` samples.
        public func factor(batchSize: Int) -> Double {
            switch self {
            case .none: 1
            case let .perBatch(f): f
            case let .halfLife(h): _exp(-Double(batchSize) / h * _log(2.0))
            }
        }

        fileprivate func validate() {
            switch self {
            case .none: break
            case let .perBatch(f): precondition(f > 0 && f <= 1, "A forgetting factor must be in (0, 1], got \(f)")
            case let .halfLife(h): precondition(h > 0, "A half-life must be positive, got \(h) samples")
            }
        }
    }

    /// What the activations are correlated with.
    public var target: Target
    /// How old samples lose weight.
    public var forgetting: Forgetting { didSet { forgetting.validate() } }
    /// Every accumulated number (exportable for checkpoints).
    public var state: State

    /// An empty tracker for hidden layers of the given widths.
    public init(widths: [Int], target: Target = .correctness, forgetting: Forgetting = .none) {
        forgetting.validate()
        self.target = target
        self.forgetting = forgetting
        self.state = State(widths: widths)
    }

    /// An empty tracker for every hidden layer of `model`.
    public init(model: MixtureOfExperts, target: Target = .correctness, forgetting: Forgetting = .none) {
        self.init(widths: model.trunk.hiddenWidths, target: target, forgetting: forgetting)
    }

    /// Widths of the tracked hidden layers.
    public var widths: [Int] { state.layers.map(\.width) }

    /// Number of samples merged so far (not discounted by forgetting).
    public var samplesSeen: Int { state.samplesSeen }

    /// Forgets everything, keeping the widths.
    public mutating func reset() {
        state = State(widths: widths)
    }

    /// Follows growth of the network: layers may widen (new neurons start with no
    /// samples) and layers may be appended; a layer may not shrink.
    public mutating func resize(widths newWidths: [Int]) {
        precondition(newWidths.count >= state.layers.count,
                     "The network has \(newWidths.count) hidden layers but \(state.layers.count) are tracked; layers cannot be removed")
        for (l, width) in newWidths.enumerated() {
            if l < state.layers.count {
                precondition(width >= state.layers[l].width,
                             "Hidden layer \(l) shrank from \(state.layers[l].width) to \(width) neurons")
                state.layers[l].append(width - state.layers[l].width)
            } else {
                state.layers.append(LayerState(width: width))
            }
        }
    }

    /// Merges one batch: `hidden[l]` is `n x width_l`, `targets` has `n` values.
    public mutating func update(hidden: [Matrix], targets: [Float]) {
        precondition(hidden.count == state.layers.count,
                     "Got \(hidden.count) hidden layers, the tracker has \(state.layers.count)")
        let n = targets.count
        guard n > 0 else { return }
        // The batch's target moments, once for every neuron.
        var ySum = 0.0
        for y in targets { ySum += Double(y) }
        let yMean = ySum / Double(n)
        var centred = [Double](repeating: 0, count: n)
        var yM2 = 0.0
        for i in 0..<n {
            let d = Double(targets[i]) - yMean
            centred[i] = d
            yM2 += d * d
        }
        let factor = forgetting.factor(batchSize: n)
        for l in hidden.indices {
            let a = hidden[l]
            precondition(a.rows == n, "Hidden layer \(l) has \(a.rows) rows for \(n) targets")
            precondition(a.columns == state.layers[l].width,
                         "Hidden layer \(l) has \(a.columns) neurons, the tracker expects \(state.layers[l].width)")
            let batch = BatchMoments(a, centredTargets: centred)
            state.layers[l].merge(batch, count: Double(n), targetMean: yMean, targetM2: yM2, factor: factor)
        }
        state.samplesSeen += n
    }

    /// Merges one batch against correctness (`true` = classified correctly).
    public mutating func update(hidden: [Matrix], correct: [Bool]) {
        precondition(target == .correctness, "This tracker correlates with \(target), not correctness")
        update(hidden: hidden, targets: correct.map { $0 ? 1 : 0 })
    }

    /// Merges the batch of a forward pass, computing the target from the logits and labels.
    ///
    /// - Returns: whether each sample was classified correctly (argmax of the logits).
    @discardableResult
    public mutating func update(_ forward: MixtureOfExperts.Forward, labels: [Int]) -> [Bool] {
        let correct = Self.correctness(logits: forward.logits, labels: labels)
        switch target {
        case .correctness:
            update(hidden: forward.hidden, targets: correct.map { $0 ? 1 : 0 })
        case .loss:
            update(hidden: forward.hidden, targets: SoftmaxCrossEntropy.losses(logits: forward.logits, labels: labels))
        case .external:
            preconditionFailure("A tracker of external targets is updated with update(hidden:targets:)")
        }
        return correct
    }

    /// `argmax(logits[i]) == labels[i]` for every row.
    public static func correctness(logits: Matrix, labels: [Int]) -> [Bool] {
        precondition(labels.count == logits.rows, "\(labels.count) labels for \(logits.rows) rows")
        return zip(logits.argmaxRows(), labels).map { $0 == $1 }
    }

    /// Covariance, correlation, t statistic and effective count of every neuron of hidden layer `l`.
    public func statistics(layer l: Int) -> LayerStatistics {
        precondition(l >= 0 && l < state.layers.count, "Hidden layer \(l) is not tracked (0..<\(state.layers.count))")
        return LayerStatistics(state.layers[l])
    }

    /// `statistics(layer:)` for every tracked layer.
    public var statistics: [LayerStatistics] {
        state.layers.map(LayerStatistics.init)
    }
}

/// Per-neuron statistics of one hidden layer, derived from the tracker's state.
public struct LayerStatistics: Sendable, Equatable, Codable {
    /// Effective number of samples, `W² / W2` (the count when nothing is forgotten).
    public var count: [Double]
    /// `cov(a_j, y)`, normalised by the weight `W` (a population covariance).
    public var covariance: [Double]
    /// `var(a_j) = Maa / W`.
    public var activationVariance: [Double]
    /// `var(y) = Myy / W` over the samples neuron `j` has seen.
    public var targetVariance: [Double]
    /// The correlation `rho_j` (point-biserial when `y` is correctness); 0 when either
    /// variance is 0.
    public var correlation: [Double]
    /// `rho sqrt((n - 2) / (1 - rho²))`; 0 when `n <= 2` or the correlation is undefined.
    public var t: [Double]

    /// Number of neurons.
    public var width: Int { count.count }

    /// Whether neuron `j` can be tested: more than two samples and both variances
    /// positive (a dead neuron, or a window with no errors, has no correlation).
    public func isTestable(_ j: Int) -> Bool {
        count[j] > 2 && activationVariance[j] > 0 && targetVariance[j] > 0
    }

    init(_ layer: CovarianceTracker.LayerState) {
        let width = layer.width
        count = [Double](repeating: 0, count: width)
        covariance = count
        activationVariance = count
        targetVariance = count
        correlation = count
        t = count
        for j in 0..<width {
            let w = layer.weight[j]
            guard w > 0 else { continue }
            let n = w * w / layer.weightSquares[j]
            count[j] = n
            covariance[j] = layer.comoment[j] / w
            activationVariance[j] = layer.activationM2[j] / w
            targetVariance[j] = layer.targetM2[j] / w
            let denominator = (layer.activationM2[j] * layer.targetM2[j]).squareRoot()
            // A constant neuron or a constant target has no correlation to speak of.
            guard denominator > 0, denominator.isFinite else { continue }
            let rho = max(-1, min(1, layer.comoment[j] / denominator))
            correlation[j] = rho
            if n > 2 {
                let rest = max(1 - rho * rho, .leastNormalMagnitude)
                t[j] = rho * ((n - 2) / rest).squareRoot()
            }
        }
    }
}

/// Weighted moments of one batch (every sample weight 1), column by column.
struct BatchMoments {
    /// Column means of the activations.
    var mean: [Double]
    /// `Σ (a - ā)²` per column.
    var m2: [Double]
    /// `Σ (a - ā)(y - ȳ)` per column.
    var comoment: [Double]

    /// Two passes over the rows in Float64: column means, then centred squares and
    /// products with the centred targets. Both inner loops run along a row, so they
    /// vectorise.
    init(_ a: Matrix, centredTargets: [Double]) {
        let n = a.rows, width = a.columns
        var mean = [Double](repeating: 0, count: width)
        var m2 = mean, comoment = mean
        a.scalars.withUnsafeBufferPointer { p in
            mean.withUnsafeMutableBufferPointer { s in
                for r in 0..<n {
                    let row = p.baseAddress! + r * width
                    for c in 0..<width { s[c] += Double(row[c]) }
                }
                let inverse = 1 / Double(n)
                for c in 0..<width { s[c] *= inverse }
            }
            mean.withUnsafeBufferPointer { s in
                m2.withUnsafeMutableBufferPointer { q in
                    comoment.withUnsafeMutableBufferPointer { v in
                        for r in 0..<n {
                            let row = p.baseAddress! + r * width
                            let dy = centredTargets[r]
                            for c in 0..<width {
                                let d = Double(row[c]) - s[c]
                                q[c] += d * d
                                v[c] += d * dy
                            }
                        }
                    }
                }
            }
        }
        self.mean = mean
        self.m2 = m2
        self.comoment = comoment
    }
}

extension CovarianceTracker.LayerState {
    /// Decays the old statistics by `factor`, then merges a batch of `count` samples (Chan et al.).
    mutating func merge(_ batch: BatchMoments, count nB: Double, targetMean yB: Double, targetM2 yyB: Double, factor: Double) {
        let width = self.width
        weight.withUnsafeMutableBufferPointer { w in
        weightSquares.withUnsafeMutableBufferPointer { w2 in
        activationMean.withUnsafeMutableBufferPointer { am in
        targetMean.withUnsafeMutableBufferPointer { ym in
        activationM2.withUnsafeMutableBufferPointer { aa in
        targetM2.withUnsafeMutableBufferPointer { yy in
        comoment.withUnsafeMutableBufferPointer { ay in
            for j in 0..<width {
                let wA = w[j] * factor
                let total = wA + nB
                let da = batch.mean[j] - am[j]
                let dy = yB - ym[j]
                let share = nB / total
                let cross = wA * share  // W_A W_B / W
                am[j] += da * share
                ym[j] += dy * share
                aa[j] = aa[j] * factor + batch.m2[j] + da * da * cross
                yy[j] = yy[j] * factor + yyB + dy * dy * cross
                ay[j] = ay[j] * factor + batch.comoment[j] + da * dy * cross
                w[j] = total
                w2[j] = w2[j] * factor * factor + nB
            }
        }}}}}}}
    }
}
