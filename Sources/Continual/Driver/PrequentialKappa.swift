/// Cohen's kappa of the stream's prequential predictions, and the temporal kappa against
/// the no-change classifier, as MOA reports them beside accuracy (Bifet, de Francisci
/// Morales, Read, Holmes and Pfahringer, *Efficient online evaluation of big data stream
/// classifiers*, KDD 2015; Žliobaitė, Bifet, Read, Pfahringer and Holmes, *Evaluation
/// methods and decision theory for classification of streaming data with temporal
/// dependence*, Machine Learning 98(3), 2015).
///
/// ```
/// p0 = Σ_c C[c][c] / n                      (the prequential accuracy)
/// pc = Σ_c (Σ_j C[c][j] / n) (Σ_i C[i][c] / n)   (chance, from the marginals)
/// kappa          = (p0 - pc) / (1 - pc)
/// pn = the share of rows whose label is the row before's   (the no-change classifier)
/// kappa temporal = (p0 - pn) / (1 - pn)
/// ```
///
/// `C[label][predicted]` counts the first-visit rows of the stream, each predicted before
/// it was learned (a row predicted before any class was learned has no answer and is left
/// out). Accuracy alone flatters a learner on a stream of one frequent class
/// (kappa near 0 for one that answers it always) and on a stream whose labels come in
/// runs, as in class order, where repeating the last label scores nearly every row
/// (kappa temporal below 0 for a learner that does worse than that). The counts are kept
/// with the stream's checkpoints, so a paused stream resumed counts as a straight one; a
/// learner continued on new rows starts a new count, as a new stream.
public final class PrequentialKappa: StreamPlugin {
    public typealias L = Learner

    /// The counts.
    public struct Tally: Codable, Sendable, Equatable {
        /// `confusion[label][predicted]`, square, as wide as the classes seen.
        public var confusion: [[Int]] = []
        /// The last row's label (nil before the first row).
        public var previous: Int?
        /// Rows whose label was the row before's.
        public var repeated = 0
        public var samples = 0

        public init() {}

        /// The rows predicted right.
        public var correct: Int { confusion.indices.reduce(0) { $0 + confusion[$1][$1] } }

        /// Cohen's kappa (nil before any row, or when chance agreement is certain: one
        /// class, always predicted).
        public var kappa: Double? {
            guard samples > 0 else { return nil }
            let n = Double(samples), k = confusion.count
            let p0 = Double(correct) / n
            var pc = 0.0
            for c in 0..<k {
                let labelled = Double(confusion[c].reduce(0, +)), predicted = Double((0..<k).reduce(0) { $0 + confusion[$1][c] })
                pc += (labelled / n) * (predicted / n)
            }
            return pc < 1 ? (p0 - pc) / (1 - pc) : nil
        }

        /// The no-change classifier's accuracy (the first row counts as its error).
        public var noChangeAccuracy: Double? { samples > 0 ? Double(repeated) / Double(samples) : nil }

        /// The temporal kappa (nil before any row, or when every row repeats the last).
        public var kappaTemporal: Double? {
            guard samples > 0, let pn = noChangeAccuracy, pn < 1 else { return nil }
            return (Double(correct) / Double(samples) - pn) / (1 - pn)
        }

        /// Adds rows: their labels and predictions, in the stream's order.
        public mutating func add(labels: [Int], predicted: [Int]) {
            // A row predicted before any class was learned has no answer: not counted.
            for (label, guess) in zip(labels, predicted) where guess >= 0 {
                let width = max(label, guess) + 1
                if width > confusion.count {
                    for r in confusion.indices { confusion[r] += Array(repeating: 0, count: width - confusion.count) }
                    confusion += Array(repeating: Array(repeating: 0, count: width), count: width - confusion.count)
                }
                confusion[label][guess] += 1
                if previous == label { repeated += 1 }
                previous = label
                samples += 1
            }
        }

        /// Whether the counts describe a stream: square, non-negative, summing to
        /// `samples`, with at most as many repeats.
        var isValid: Bool {
            let k = confusion.count
            return confusion.allSatisfy { $0.count == k && $0.allSatisfy { $0 >= 0 } } && samples >= 0
                && confusion.reduce(0, { $0 + $1.reduce(0, +) }) == samples && repeated >= 0 && repeated <= samples
                && (previous.map { $0 >= 0 && $0 < k } ?? (samples == 0))
        }
    }

    public private(set) var tally = Tally()

    public init() {}

    public var sectionName: String? { "kappa" }

    public func afterBatch(_ driver: StreamDriver<Learner>, _ event: BatchEvent<Learner.StepReport>) {
        guard event.pass == 0 else { return }
        tally.add(labels: event.step.labels, predicted: event.step.predicted)
    }

    public func savedState() throws -> CheckpointSection {
        try CheckpointSection(json: tally, format: "kappa-json")
    }

    public func restore(from section: CheckpointSection) throws {
        let saved = try section.decodeJSON(Tally.self, format: "kappa-json", file: section.origin.file)
        guard saved.isValid else {
            throw CheckpointError.invalidValue(
                path: section.origin.path,
                reason: "the kappa counts are not a stream's (\(saved.confusion.count) classes, \(saved.samples) samples, \(saved.repeated) repeated labels, the last \(saved.previous.map(String.init) ?? "none"): a square table of counts >= 0 summing to the samples expected)",
                file: section.origin.file)
        }
        tally = saved
    }
}
