import MoE

/// The size of a model at one moment: parameters that still learn, parameters frozen for
/// good, and the number of experts.
public struct ModelSize: Codable, Sendable, Equatable {
    /// Parameters (scalars) an optimizer may still change.
    public var trainableParameters: Int
    /// Parameters (scalars) frozen for good.
    public var frozenParameters: Int
    /// Experts grown so far.
    public var experts: Int

    public init(trainableParameters: Int, frozenParameters: Int, experts: Int) {
        precondition(trainableParameters >= 0 && frozenParameters >= 0 && experts >= 0,
                     "Model sizes are counts and cannot be negative: \(trainableParameters), \(frozenParameters), \(experts)")
        self.trainableParameters = trainableParameters
        self.frozenParameters = frozenParameters
        self.experts = experts
    }

    /// All parameters, trainable and frozen.
    public var parameters: Int { trainableParameters + frozenParameters }

    private enum CodingKeys: String, CodingKey {
        case experts
        case trainableParameters = "trainable_parameters"
        case frozenParameters = "frozen_parameters"
    }
}

extension ModelSize {
    /// The size of `model` now: its frozen parameters, the rest, and its experts.
    public init(of model: MixtureOfExperts) {
        var trainable = 0, frozen = 0
        model.forEachParameter { path, value in
            if model.frozen.contains(path) { frozen += value.count } else { trainable += value.count }
        }
        self.init(trainableParameters: trainable, frozenParameters: frozen, experts: model.experts.count)
    }
}

/// How the model's size changed over the stream.
///
/// The size is reported once per step (batch), but only changes are stored: a point is
/// kept when the size differs from the previous step's, so the history is a step
/// function that is exact as long as fewer than `capacity` changes happen. Changes come
/// from growth and freezing, which a growth budget bounds; should there be more, the
/// changes are downsampled by a ``DownsampledSeries`` and memory stays bounded anyway.
public struct ModelGrowthHistory: Codable, Sendable, Equatable {
    /// The size after a step.
    public struct Point: Codable, Sendable, Equatable {
        /// Batches processed so far (1-based step number).
        public var step: Int
        /// Samples processed so far.
        public var samples: Int
        /// The model's size after this step.
        public var size: ModelSize

        public init(step: Int, samples: Int, size: ModelSize) {
            self.step = step
            self.samples = samples
            self.size = size
        }
    }

    /// The points at which the size changed (the first report included).
    public private(set) var changes: DownsampledSeries<Point>
    /// The most recent report, changed or not.
    public private(set) var current: Point?

    /// - Parameter capacity: most change points kept (even, at least 2).
    public init(capacity: Int = 256) {
        changes = DownsampledSeries(capacity: capacity)
    }

    /// Reports the model's size after a step.
    ///
    /// - Precondition: steps and samples never go backwards.
    public mutating func record(step: Int, samples: Int, size: ModelSize) {
        if let current {
            precondition(step >= current.step && samples >= current.samples,
                         "Model growth is reported in stream order: step \(step) after \(current.step)")
        }
        let point = Point(step: step, samples: samples, size: size)
        if current?.size != size { changes.append(point) }
        current = point
    }

    /// The step function to plot: every kept change, then the current point.
    public var points: [Point] {
        guard let current else { return [] }
        let kept = changes.points
        return kept.last == current ? kept : kept + [current]
    }
}
