/// Prequential (test-then-train) accuracy over a stream: every sample is scored by the
/// model *before* the model learns from it.
///
/// Three estimates are kept, following Gama, Sebastião and Rodrigues, "On evaluating
/// stream learning algorithms", Machine Learning 90(3), 2013, with `c_k` = 1 if sample
/// `k` was predicted correctly and 0 if not, after `n` samples:
///
/// ```
/// overall   = (1/n) Σ_{k=1..n} c_k
/// windowed  = (1/m) Σ_{k=n-m+1..n} c_k,    m = min(n, W)   (sliding window of W samples)
/// faded     = S_n / N_n,  S_n = c_n + α S_{n-1},  N_n = 1 + α N_{n-1},  S_0 = N_0 = 0
/// ```
///
/// The window costs `W` booleans; the fading factor `α` in `(0, 1]` costs two numbers
/// (its effective memory is about `1 / (1 - α)` samples; `α = 1` is the overall
/// accuracy). After every batch one ``Point`` is offered to a ``DownsampledSeries`` of at
/// most `seriesCapacity` points, so the whole state is bounded for an endless stream.
public struct PrequentialAccuracy: Codable, Sendable, Equatable {
    /// The state after one scored batch.
    public struct Point: Codable, Sendable, Equatable {
        /// Batches scored so far, this one included (1-based batch number).
        public var batch: Int
        /// Samples scored so far, this batch included: the x of a plot.
        public var samples: Int
        /// The experience being streamed, if the stream declares experiences.
        public var experience: Int?
        /// This batch's accuracy.
        public var batchAccuracy: Double
        /// Accuracy over the whole stream so far.
        public var overall: Double
        /// Accuracy over the last `windowSize` samples.
        public var windowed: Double
        /// Accuracy with fading factor `α`.
        public var faded: Double

        public init(batch: Int, samples: Int, experience: Int?, batchAccuracy: Double,
                    overall: Double, windowed: Double, faded: Double) {
            self.batch = batch
            self.samples = samples
            self.experience = experience
            self.batchAccuracy = batchAccuracy
            self.overall = overall
            self.windowed = windowed
            self.faded = faded
        }

        private enum CodingKeys: String, CodingKey {
            case batch, samples, experience, overall, windowed, faded
            case batchAccuracy = "batch_accuracy"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(batch, forKey: .batch)
            try container.encode(samples, forKey: .samples)
            try container.encode(experience, forKey: .experience)
            try container.encode(batchAccuracy, forKey: .batchAccuracy)
            try container.encode(overall, forKey: .overall)
            try container.encode(windowed, forKey: .windowed)
            try container.encode(faded, forKey: .faded)
        }
    }

    /// Where an experience starts in the stream.
    public struct Boundary: Codable, Sendable, Equatable {
        /// The experience that starts.
        public var experience: Int
        /// Samples scored before its first sample.
        public var samples: Int

        public init(experience: Int, samples: Int) {
            self.experience = experience
            self.samples = samples
        }
    }

    /// Samples in the sliding window (`W`).
    public let windowSize: Int
    /// The fading factor `α`.
    public let fadingFactor: Double
    /// Samples scored so far.
    public private(set) var samples = 0
    /// Of which predicted correctly.
    public private(set) var correct = 0
    /// Batches scored so far.
    public private(set) var batches = 0
    /// The experience being streamed (set by ``beginExperience(_:)``).
    public private(set) var experience: Int?
    /// One entry per change of experience, in stream order; the most recent
    /// ``boundaryCapacity`` of them, so an endless stream of experiences stays bounded.
    public private(set) var boundaries: [Boundary] = []
    /// Most experience boundaries kept.
    public static let boundaryCapacity = 1024
    /// One point per batch, downsampled.
    public private(set) var series: DownsampledSeries<Point>

    private var window: [Bool] = []
    private var windowNext = 0
    private var windowCorrect = 0
    private var fadedCorrect = 0.0
    private var fadedWeight = 0.0

    /// - Parameters:
    ///   - windowSize: samples in the sliding window (`W >= 1`).
    ///   - fadingFactor: `α` in `(0, 1]`.
    ///   - seriesCapacity: most points kept for plotting (even, at least 2).
    public init(windowSize: Int = 1000, fadingFactor: Double = 0.999, seriesCapacity: Int = 512) {
        precondition(windowSize >= 1, "The prequential window needs at least one sample, got \(windowSize)")
        precondition(fadingFactor > 0 && fadingFactor <= 1, "The fading factor must lie in (0, 1], got \(fadingFactor)")
        self.windowSize = windowSize
        self.fadingFactor = fadingFactor
        self.series = DownsampledSeries(capacity: seriesCapacity)
        window.reserveCapacity(windowSize)
    }

    /// Marks the start of an experience at the current position of the stream (a repeat
    /// of the current experience is ignored).
    public mutating func beginExperience(_ experience: Int) {
        guard experience != self.experience else { return }
        self.experience = experience
        boundaries.append(Boundary(experience: experience, samples: samples))
        if boundaries.count > Self.boundaryCapacity { boundaries.removeFirst(boundaries.count - Self.boundaryCapacity) }
    }

    /// Scores one batch from its per-sample outcomes (`true` = predicted correctly).
    ///
    /// - Precondition: the batch is not empty.
    public mutating func record(_ outcomes: some Collection<Bool>) {
        precondition(!outcomes.isEmpty, "A prequential batch needs at least one sample")
        var batchCorrect = 0
        for outcome in outcomes {
            let c = outcome ? 1 : 0
            batchCorrect += c
            if window.count < windowSize {
                window.append(outcome)
            } else {
                windowCorrect -= window[windowNext] ? 1 : 0
                window[windowNext] = outcome
                windowNext = (windowNext + 1) % windowSize
            }
            windowCorrect += c
            fadedCorrect = Double(c) + fadingFactor * fadedCorrect
            fadedWeight = 1 + fadingFactor * fadedWeight
        }
        samples += outcomes.count
        correct += batchCorrect
        batches += 1
        series.append(Point(
            batch: batches, samples: samples, experience: experience,
            batchAccuracy: Double(batchCorrect) / Double(outcomes.count),
            overall: Double(correct) / Double(samples),
            windowed: Double(windowCorrect) / Double(window.count),
            faded: fadedCorrect / fadedWeight))
    }

    /// Scores one batch from predicted and true classes.
    ///
    /// - Precondition: equally many predictions and labels, at least one.
    public mutating func record(predictions: [Int], labels: [Int]) {
        precondition(predictions.count == labels.count,
                     "Scoring needs one prediction per label, got \(predictions.count) predictions for \(labels.count) labels")
        record(zip(predictions, labels).map { $0 == $1 })
    }

    /// Overall accuracy, `nil` before the first sample.
    public var accuracy: Double? {
        samples > 0 ? Double(correct) / Double(samples) : nil
    }

    /// Accuracy over the last `min(n, W)` samples, `nil` before the first sample.
    public var windowedAccuracy: Double? {
        window.isEmpty ? nil : Double(windowCorrect) / Double(window.count)
    }

    /// Samples the windowed accuracy rests on: all seen, up to `windowSize`.
    public var windowedSamples: Int { window.count }

    /// Accuracy with fading factor `α`, `nil` before the first sample.
    public var fadedAccuracy: Double? {
        fadedWeight > 0 ? fadedCorrect / fadedWeight : nil
    }

    private enum CodingKeys: String, CodingKey {
        case samples, correct, batches, experience, boundaries, series, window
        case windowSize = "window_size"
        case fadingFactor = "fading_factor"
        case windowNext = "window_next"
        case windowCorrect = "window_correct"
        case fadedCorrect = "faded_correct"
        case fadedWeight = "faded_weight"
    }

    /// Decodes a saved state, checking that it is consistent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        windowSize = try container.decode(Int.self, forKey: .windowSize)
        fadingFactor = try container.decode(Double.self, forKey: .fadingFactor)
        samples = try container.decode(Int.self, forKey: .samples)
        correct = try container.decode(Int.self, forKey: .correct)
        batches = try container.decode(Int.self, forKey: .batches)
        experience = try container.decodeIfPresent(Int.self, forKey: .experience)
        boundaries = try container.decode([Boundary].self, forKey: .boundaries)
        series = try container.decode(DownsampledSeries<Point>.self, forKey: .series)
        window = try container.decode([Bool].self, forKey: .window)
        windowNext = try container.decode(Int.self, forKey: .windowNext)
        windowCorrect = try container.decode(Int.self, forKey: .windowCorrect)
        fadedCorrect = try container.decode(Double.self, forKey: .fadedCorrect)
        fadedWeight = try container.decode(Double.self, forKey: .fadedWeight)
        guard windowSize >= 1, fadingFactor > 0, fadingFactor <= 1,
              samples >= 0, correct >= 0, correct <= samples, batches >= 0,
              window.count == min(samples, windowSize), windowNext >= 0, windowNext < windowSize,
              windowCorrect == window.filter({ $0 }).count,
              fadedCorrect >= 0, fadedWeight >= fadedCorrect
        else {
            throw DecodingError.dataCorruptedError(
                forKey: .window, in: container,
                debugDescription: "Inconsistent prequential state: \(correct) of \(samples) samples correct, window of \(window.count)/\(windowSize) with \(windowCorrect) correct")
        }
    }
}
