/// The error detectors found in each hidden layer, most negative correlation first.
///
/// Produced by `ErrorDetectors.report(_:)`; `Codable` for logs and checkpoints, and
/// `table()` renders it for the command line.
public struct DetectorReport: Sendable, Equatable, Codable {
    /// One detector neuron.
    public struct Detector: Sendable, Equatable, Codable {
        /// Index of the neuron in its hidden layer.
        public var neuron: Int
        /// `cov(a_j, y)` over the tracked samples.
        public var covariance: Double
        /// The correlation `rho_j`.
        public var rho: Double
        /// The t statistic.
        public var t: Double
        /// The (effective) number of samples.
        public var n: Double
        /// The one-sided p-value `P(T_{n-2} <= t)` (oriented towards "detector").
        public var pValue: Double

        public init(neuron: Int, covariance: Double, rho: Double, t: Double, n: Double, pValue: Double) {
            self.neuron = neuron
            self.covariance = covariance
            self.rho = rho
            self.t = t
            self.n = n
            self.pValue = pValue
        }
    }

    /// The detectors of one hidden layer.
    public struct Layer: Sendable, Equatable, Codable {
        /// Index of the hidden layer (`MixtureOfExperts.Forward.hidden[layer]`).
        public var layer: Int
        /// Number of neurons in the layer.
        public var width: Int
        /// Its detectors, most negative correlation first.
        public var detectors: [Detector]

        public init(layer: Int, width: Int, detectors: [Detector]) {
            self.layer = layer
            self.width = width
            self.detectors = detectors
        }
    }

    /// One entry per hidden layer, in order.
    public var layers: [Layer]
    /// What the neurons were correlated with.
    public var target: CovarianceTracker.Target
    /// The rule that selected them.
    public var criteria: ErrorDetectors
    /// How many neurons had enough samples to be tested.
    public var testedNeurons: Int

    public init(layers: [Layer], target: CovarianceTracker.Target, criteria: ErrorDetectors, testedNeurons: Int) {
        self.layers = layers
        self.target = target
        self.criteria = criteria
        self.testedNeurons = testedNeurons
    }

    /// Total number of detectors.
    public var count: Int { layers.reduce(0) { $0 + $1.detectors.count } }

    /// Neuron indices of the detectors of hidden layer `l` (most negative first).
    public func neurons(layer l: Int) -> [Int] {
        l < layers.count ? layers[l].detectors.map(\.neuron) : []
    }

    /// The lowest hidden layer that has detectors (METHOD.md section 5: grow there).
    public var lowestLayerWithDetectors: Int? {
        layers.first { !$0.detectors.isEmpty }?.layer
    }

    /// A plain-text table, one line per detector:
    ///
    /// ```
    /// Error detectors: rho <= -0.10, t <= -4.00, Benjamini-Hochberg q = 0.05; 384 neurons tested, 2 detectors
    /// layer  neuron       rho         t          n   p-value
    ///     0      17    -0.412    -11.23     1024.0   1.2e-27
    ///     1         (none of 128)
    /// ```
    public func table() -> String {
        let sign = target == .loss ? ">= " : "<= -"
        var lines = [
            "Error detectors against \(target): rho \(sign)\(formatted("%.2f", criteria.minimumCorrelation)), "
                + "t \(sign)\(formatted("%.2f", criteria.minimumT)), \(criteria.falseDiscovery); "
                + "\(testedNeurons) neurons tested, \(count) detector\(count == 1 ? "" : "s")",
            "layer  neuron       rho         t          n   p-value",
        ]
        for layer in layers {
            if layer.detectors.isEmpty {
                lines.append(formatted("%5d", layer.layer) + "         (none of \(layer.width))")
            }
            for d in layer.detectors {
                lines.append(formatted("%5d  %6d  %8.3f  %8.2f  %9.1f  %8.1e", layer.layer, d.neuron, d.rho, d.t, d.n, d.pValue))
            }
        }
        return lines.joined(separator: "\n")
    }
}
