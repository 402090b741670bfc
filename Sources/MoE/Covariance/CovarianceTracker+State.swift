extension CovarianceTracker {
    /// Everything the tracker has accumulated, as plain Float64 arrays (for checkpoints).
    ///
    /// `Codable` as is; `namedArrays` lists the same numbers as named `[Double]` arrays
    /// for formats that store arrays (HDF5), and `init(namedArrays:)` reads them back.
    public struct State: Sendable, Equatable, Codable {
        /// Per hidden layer, per neuron.
        public var layers: [LayerState]
        /// Samples merged so far (not discounted).
        public var samplesSeen: Int

        /// An empty state for hidden layers of the given widths.
        public init(widths: [Int]) {
            precondition(widths.allSatisfy { $0 >= 0 }, "Hidden widths must be non-negative, got \(widths)")
            layers = widths.map(LayerState.init(width:))
            samplesSeen = 0
        }

        /// The state as named arrays: `samples_seen` (one value), and for each hidden
        /// layer `l` the arrays `layer<l>/weight`, `layer<l>/weight_squares`,
        /// `layer<l>/activation_mean`, `layer<l>/target_mean`, `layer<l>/activation_m2`,
        /// `layer<l>/target_m2`, `layer<l>/comoment`.
        public var namedArrays: [(name: String, values: [Double])] {
            var result: [(name: String, values: [Double])] = [("samples_seen", [Double(samplesSeen)])]
            for (l, layer) in layers.enumerated() {
                for (field, values) in layer.fields {
                    result.append(("layer\(l)/\(field)", values))
                }
            }
            return result
        }

        /// Reads the arrays written by `namedArrays`.
        ///
        /// - Throws: `CovarianceError` naming the array that is missing, unknown, or of
        ///   the wrong length.
        public init(namedArrays arrays: [String: [Double]]) throws(CovarianceError) {
            guard let seen = arrays["samples_seen"] else { throw .missingArray("samples_seen") }
            guard seen.count == 1, seen[0] >= 0, seen[0] == seen[0].rounded(), seen[0] < 9e15 else {
                throw .malformedArray(name: "samples_seen", reason: "must be one non-negative integer, got \(seen)")
            }
            var layerCount = 0
            for name in arrays.keys where name != "samples_seen" {
                guard let (l, field) = Self.parse(name), LayerState.fieldNames.contains(field) else {
                    throw .unknownArray(name)
                }
                layerCount = max(layerCount, l + 1)
            }
            var layers: [LayerState] = []
            for l in 0..<layerCount {
                var fields: [String: [Double]] = [:]
                for field in LayerState.fieldNames {
                    let name = "layer\(l)/\(field)"
                    guard let values = arrays[name] else { throw .missingArray(name) }
                    fields[field] = values
                }
                let width = fields["weight"]!.count
                for (field, values) in fields where values.count != width {
                    throw .malformedArray(name: "layer\(l)/\(field)",
                                          reason: "has \(values.count) values but layer\(l)/weight has \(width)")
                }
                let layer = LayerState(fields: fields)
                for j in 0..<width where layer.weight[j] < 0 || layer.weightSquares[j] < 0
                    || layer.activationM2[j] < 0 || layer.targetM2[j] < 0 {
                    throw .malformedArray(name: "layer\(l)", reason: "neuron \(j) has a negative weight or sum of squares")
                }
                layers.append(layer)
            }
            self.layers = layers
            self.samplesSeen = Int(seen[0])
        }

        private static func parse(_ name: String) -> (Int, String)? {
            guard name.hasPrefix("layer"), let slash = name.firstIndex(of: "/") else { return nil }
            guard let l = Int(name[name.index(name.startIndex, offsetBy: 5)..<slash]), l >= 0, l < 100_000 else { return nil }
            return (l, String(name[name.index(after: slash)...]))
        }
    }

    /// The statistics of one hidden layer, neuron by neuron (see `CovarianceTracker`).
    public struct LayerState: Sendable, Equatable, Codable {
        /// `W = Σ w_i`.
        public var weight: [Double]
        /// `W2 = Σ w_i²`.
        public var weightSquares: [Double]
        /// `ā`.
        public var activationMean: [Double]
        /// `ȳ` over the samples this neuron has seen.
        public var targetMean: [Double]
        /// `Σ w_i (a_i - ā)²`.
        public var activationM2: [Double]
        /// `Σ w_i (y_i - ȳ)²`.
        public var targetM2: [Double]
        /// `Σ w_i (a_i - ā)(y_i - ȳ)`.
        public var comoment: [Double]

        /// Neurons with no samples.
        public init(width: Int) {
            let zeros = [Double](repeating: 0, count: width)
            weight = zeros
            weightSquares = zeros
            activationMean = zeros
            targetMean = zeros
            activationM2 = zeros
            targetM2 = zeros
            comoment = zeros
        }

        /// Number of neurons.
        public var width: Int { weight.count }

        static let fieldNames = ["weight", "weight_squares", "activation_mean", "target_mean",
                                 "activation_m2", "target_m2", "comoment"]

        var fields: [(String, [Double])] {
            [("weight", weight), ("weight_squares", weightSquares), ("activation_mean", activationMean),
             ("target_mean", targetMean), ("activation_m2", activationM2), ("target_m2", targetM2),
             ("comoment", comoment)]
        }

        init(fields: [String: [Double]]) {
            weight = fields["weight"]!
            weightSquares = fields["weight_squares"]!
            activationMean = fields["activation_mean"]!
            targetMean = fields["target_mean"]!
            activationM2 = fields["activation_m2"]!
            targetM2 = fields["target_m2"]!
            comoment = fields["comoment"]!
        }

        /// Appends `count` neurons with no samples.
        mutating func append(_ count: Int) {
            guard count > 0 else { return }
            let zeros = [Double](repeating: 0, count: count)
            weight += zeros
            weightSquares += zeros
            activationMean += zeros
            targetMean += zeros
            activationM2 += zeros
            targetM2 += zeros
            comoment += zeros
        }
    }
}
