/// The covariance cost: a whole-network cost that removes the negative covariance of
/// error detectors with correctness (METHOD.md section 2).
///
/// ```
/// L = CE + λ Σ_{j ∈ D} w_j max(0, -cov_j),     w_j = |rho_j|
/// ```
///
/// `D` and `rho_j` come from a `DetectorReport` (the streaming statistics) and are held
/// fixed; `cov_j` is computed on the current batch of `n` samples, with the correctness
/// `c_i` of each sample held fixed (it is a step function of the parameters):
///
/// ```
/// cov_j = (1/n) Σ_i (a_ij - ā_j)(c_i - c̄)
/// ∂cov_j/∂a_ij = (c_i - c̄)/n                  (the ā_j term sums to zero)
/// ∂L/∂a_ij = -λ w_j (c_i - c̄)/n   if cov_j < 0,  else 0
/// ```
///
/// The gradient pushes a detector down on misclassified samples and up on correct ones;
/// handed to `MixtureOfExperts.backward(_:logitGradient:hiddenGradients:)` it reaches
/// every trainable layer below the detector.
public struct CovarianceCost: Sendable, Equatable, Codable {
    /// `λ`, the weight of the cost against the cross-entropy.
    public var strength: Float

    public init(strength: Float = 1) {
        precondition(strength >= 0 && strength.isFinite, "The covariance cost's strength must be finite and non-negative, got \(strength)")
        self.strength = strength
    }

    /// The cost on one batch and its gradient at the hidden activations.
    public struct Evaluation: Sendable {
        /// `λ Σ w_j max(0, -cov_j)`.
        public var cost: Double
        /// dCost/dHidden for every hidden layer with detectors (`n x width`, zero outside
        /// detector columns), keyed by hidden-layer index.
        public var hiddenGradients: [Int: Matrix]
        /// The batch covariance `cov_j` of every detector, by hidden layer, in the
        /// report's order.
        public var batchCovariances: [Int: [Double]]
    }

    /// Evaluates the cost on a batch.
    ///
    /// - Parameters:
    ///   - hidden: the hidden activations (`MixtureOfExperts.Forward.hidden`).
    ///   - correct: whether each sample was classified correctly.
    ///   - detectors: the detectors and their correlations.
    public func evaluate(hidden: [Matrix], correct: [Bool], detectors: DetectorReport) -> Evaluation {
        var result = Evaluation(cost: 0, hiddenGradients: [:], batchCovariances: [:])
        let n = correct.count
        guard n > 0 else { return result }
        let cMean = Double(correct.reduce(0) { $0 + ($1 ? 1 : 0) }) / Double(n)
        let centred = correct.map { ($0 ? 1 : 0) - cMean }
        for layer in detectors.layers where !layer.detectors.isEmpty {
            let l = layer.layer
            precondition(l < hidden.count, "The report has detectors in hidden layer \(l), the network has \(hidden.count) hidden layers")
            let a = hidden[l]
            precondition(a.rows == n, "Hidden layer \(l) has \(a.rows) rows for \(n) samples")
            let width = a.columns
            var gradient = Matrix(rows: n, columns: width)
            var covariances: [Double] = []
            for d in layer.detectors {
                let j = d.neuron
                precondition(j < width, "Detector \(j) is outside hidden layer \(l) of width \(width)")
                // Σ_i a_ij (c_i - c̄) equals Σ_i (a_ij - ā_j)(c_i - c̄), since Σ (c_i - c̄) = 0.
                var total = 0.0
                for i in 0..<n { total += Double(a.scalars[i * width + j]) * centred[i] }
                let cov = total / Double(n)
                covariances.append(cov)
                guard cov < 0 else { continue }
                let w = abs(d.rho)
                result.cost += Double(strength) * w * -cov
                let scale = -Double(strength) * w / Double(n)
                for i in 0..<n { gradient.scalars[i * width + j] += Float(scale * centred[i]) }
            }
            result.batchCovariances[l] = covariances
            result.hiddenGradients[l] = gradient
        }
        return result
    }

    /// Cross-entropy plus covariance cost on a batch, with gradients through the whole network.
    public struct Result: Sendable {
        /// `CE + cost`.
        public var loss: Double
        /// The mean cross-entropy.
        public var crossEntropy: Float
        /// The covariance cost.
        public var covarianceCost: Double
        /// Parameter gradients by path (frozen paths are absent).
        public var gradients: Gradients
        /// The forward pass (its logits give the prediction at the current parameters).
        public var forward: MixtureOfExperts.Forward
        /// Whether each sample was classified correctly.
        public var correct: [Bool]
        /// Number of misclassified samples.
        public var errors: Int { correct.reduce(0) { $0 + ($1 ? 0 : 1) } }
    }

    /// `L = CE + λ Σ w_j max(0, -cov_j)` on a batch and its parameter gradients.
    public func lossAndGradients(_ model: MixtureOfExperts, input: Matrix, labels: [Int], detectors: DetectorReport) -> Result {
        let pass = model.forward(input)
        let correct = CovarianceTracker.correctness(logits: pass.logits, labels: labels)
        let (ce, logitGradient) = SoftmaxCrossEntropy.lossAndGradient(logits: pass.logits, labels: labels)
        let evaluation = evaluate(hidden: pass.hidden, correct: correct, detectors: detectors)
        let gradients = model.backward(pass, logitGradient: logitGradient, hiddenGradients: evaluation.hiddenGradients)
        return Result(loss: Double(ce) + evaluation.cost, crossEntropy: ce, covarianceCost: evaluation.cost,
                      gradients: gradients, forward: pass, correct: correct)
    }
}
