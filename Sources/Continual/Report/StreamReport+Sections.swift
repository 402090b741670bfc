extension StreamReport {
    /// An accuracy matrix with the figures derived from it (see ``AccuracyMatrix``).
    public struct MatrixFigures: Codable, Sendable, Equatable {
        /// R[i][j], `null` where not measured.
        public var accuracyMatrix: [[Double?]]
        /// A_i, the average accuracy after each trained experience.
        public var averageAccuracies: [Double?]
        /// ACC.
        public var finalAverageAccuracy: Double?
        /// BWT.
        public var bwt: Double?
        /// Forgetting: best earlier accuracy minus final accuracy (Chaudhry et al. 2018).
        public var forgetting: Double?
        /// Avalanche's stream forgetting: accuracy right after training minus final (= -BWT).
        public var forgettingSinceFirstEvaluation: Double?

        public init(_ matrix: AccuracyMatrix) {
            accuracyMatrix = matrix.values
            averageAccuracies = matrix.averageAccuracies
            finalAverageAccuracy = matrix.finalAverageAccuracy
            bwt = matrix.backwardTransfer
            forgetting = matrix.forgetting
            forgettingSinceFirstEvaluation = matrix.forgettingSinceFirstEvaluation
        }

        /// The matrix again, to compute further figures.
        public var matrix: AccuracyMatrix { AccuracyMatrix(rows: accuracyMatrix) }

        enum CodingKeys: String, CodingKey {
            case bwt, forgetting
            case accuracyMatrix = "accuracy_matrix"
            case averageAccuracies = "average_accuracies"
            case finalAverageAccuracy = "final_average_accuracy"
            case forgettingSinceFirstEvaluation = "forgetting_since_first_evaluation"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(accuracyMatrix, forKey: .accuracyMatrix)
            try container.encode(averageAccuracies, forKey: .averageAccuracies)
            try container.encode(finalAverageAccuracy, forKey: .finalAverageAccuracy)
            try container.encode(bwt, forKey: .bwt)
            try container.encode(forgetting, forKey: .forgetting)
            try container.encode(forgettingSinceFirstEvaluation, forKey: .forgettingSinceFirstEvaluation)
        }
    }

    /// Prequential accuracy: the final estimates and the downsampled series to plot.
    public struct Prequential: Codable, Sendable, Equatable {
        /// Overall accuracy, `null` for an empty stream.
        public var accuracy: Double?
        /// Accuracy over the last `windowSize` samples.
        public var windowed: Double?
        /// Accuracy with fading factor `fadingFactor`.
        public var faded: Double?
        /// W.
        public var windowSize: Int
        /// α.
        public var fadingFactor: Double
        /// Samples scored.
        public var samples: Int
        /// Batches scored.
        public var batches: Int
        /// Only every `seriesStride`-th batch is in `series` (plus the last one).
        public var seriesStride: Int
        /// One point per kept batch.
        public var series: [PrequentialAccuracy.Point]
        /// Where each experience starts.
        public var experiences: [PrequentialAccuracy.Boundary]

        public init(_ prequential: PrequentialAccuracy) {
            accuracy = prequential.accuracy
            windowed = prequential.windowedAccuracy
            faded = prequential.fadedAccuracy
            windowSize = prequential.windowSize
            fadingFactor = prequential.fadingFactor
            samples = prequential.samples
            batches = prequential.batches
            seriesStride = prequential.series.stride
            series = prequential.series.points
            experiences = prequential.boundaries
        }

        enum CodingKeys: String, CodingKey {
            case accuracy, windowed, faded, samples, batches, series, experiences
            case windowSize = "window_size"
            case fadingFactor = "fading_factor"
            case seriesStride = "series_stride"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(accuracy, forKey: .accuracy)
            try container.encode(windowed, forKey: .windowed)
            try container.encode(faded, forKey: .faded)
            try container.encode(windowSize, forKey: .windowSize)
            try container.encode(fadingFactor, forKey: .fadingFactor)
            try container.encode(samples, forKey: .samples)
            try container.encode(batches, forKey: .batches)
            try container.encode(seriesStride, forKey: .seriesStride)
            try container.encode(series, forKey: .series)
            try container.encode(experiences, forKey: .experiences)
        }
    }

    /// Parameter counts of the final model.
    public struct Parameters: Codable, Sendable, Equatable {
        /// Parameters an optimizer may still change.
        public var trainable: Int
        /// Parameters frozen for good.
        public var frozen: Int
        /// All parameters.
        public var total: Int

        public init(_ size: ModelSize) {
            trainable = size.trainableParameters
            frozen = size.frozenParameters
            total = size.parameters
        }
    }

    /// One expert's part of the routing (see ``ExpertRouting``).
    public struct ExpertShare: Codable, Sendable, Equatable {
        /// The expert's index.
        public var expert: Int
        /// Inputs routed to it.
        public var routed: Int
        /// Its share of all routings, `null` before any routing.
        public var share: Double?
        /// Its share of the summed gate weight, `null` before any routing.
        public var gateWeightShare: Double?

        public init(expert: Int, routed: Int, share: Double?, gateWeightShare: Double?) {
            self.expert = expert
            self.routed = routed
            self.share = share
            self.gateWeightShare = gateWeightShare
        }

        enum CodingKeys: String, CodingKey {
            case expert, routed, share
            case gateWeightShare = "gate_weight_share"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(expert, forKey: .expert)
            try container.encode(routed, forKey: .routed)
            try container.encode(share, forKey: .share)
            try container.encode(gateWeightShare, forKey: .gateWeightShare)
        }
    }

    /// Memory the learner keeps besides its weights, in floats (4 bytes each).
    public struct Memory: Codable, Sendable, Equatable {
        /// The replay buffer: stored inputs (a label counts as one float).
        public var replayBufferFloats: Int
        /// Streaming statistics (covariance co-moments, gate statistics, …).
        public var statisticsFloats: Int
        /// Their sum.
        public var totalFloats: Int

        public init(replayBufferFloats: Int, statisticsFloats: Int) {
            precondition(replayBufferFloats >= 0 && statisticsFloats >= 0,
                         "Memory sizes cannot be negative: \(replayBufferFloats), \(statisticsFloats)")
            self.replayBufferFloats = replayBufferFloats
            self.statisticsFloats = statisticsFloats
            totalFloats = replayBufferFloats + statisticsFloats
        }

        enum CodingKeys: String, CodingKey {
            case replayBufferFloats = "replay_buffer_floats"
            case statisticsFloats = "statistics_floats"
            case totalFloats = "total_floats"
        }
    }

    /// One growth of the model: when, where, on which detectors, why.
    public struct GrowthEvent: Codable, Sendable, Equatable {
        /// The batch after which the model grew (1-based step number).
        public var step: Int
        /// Samples streamed when the model grew: the x of the prequential plot.
        public var sampleIndex: Int
        /// The experience being streamed, if the stream declares experiences.
        public var experience: Int?
        /// The hidden layer the expert reads from (0-based, as `MixtureOfExperts.hidden`).
        public var hiddenLayer: Int
        /// Indices of the error-detector neurons the expert reads, in that layer.
        public var detectors: [Int]
        /// Why the controller grew, in words.
        public var reason: String
        /// The index of the new expert, if an expert was grown.
        public var expert: Int?

        public init(step: Int, sampleIndex: Int, experience: Int?, hiddenLayer: Int,
                    detectors: [Int], reason: String, expert: Int? = nil) {
            self.step = step
            self.sampleIndex = sampleIndex
            self.experience = experience
            self.hiddenLayer = hiddenLayer
            self.detectors = detectors
            self.reason = reason
            self.expert = expert
        }

        /// The label drawn on the prequential plot, e.g. `L1: 12 det.`.
        public var label: String { "L\(hiddenLayer): \(detectors.count) det." }

        enum CodingKeys: String, CodingKey {
            case step, experience, detectors, reason, expert
            case sampleIndex = "sample_index"
            case hiddenLayer = "hidden_layer"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(step, forKey: .step)
            try container.encode(sampleIndex, forKey: .sampleIndex)
            try container.encode(experience, forKey: .experience)
            try container.encode(hiddenLayer, forKey: .hiddenLayer)
            try container.encode(detectors, forKey: .detectors)
            try container.encode(reason, forKey: .reason)
            try container.encode(expert, forKey: .expert)
        }
    }
}
