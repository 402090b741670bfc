import Foundation
import Logging
import MoE

/// The first-visit rows a learner observed, in more than one batch, before its input
/// scaler settled (`InputScaler.settle`, 128 samples by default), kept raw so that they
/// can be learned again under the transform the scaler settles on
/// (`LearnerConfiguration.relearnsFirstStretch`).
///
/// Until the scaler settles its transform moves with every batch it takes in, and
/// everything learned from those rows (the gate's statistics, which are kept forever,
/// and the first training steps) read them under the transform of their own batch. A
/// stream read 128 rows at a time takes its whole first batch into the scaler before
/// any row is learned, so every row is learned under one transform; a stream read one
/// row at a time learned its first 128 rows under 128 transforms, the first rows under
/// a scale estimated from one or two values. On the 80 real streams of
/// `scripts/small-batch-streams.txt`, the gate alone at one row a batch scored up to
/// 0.10 below the same gate at 128 rows (free light chains in blocks 0.439 against
/// 0.544, the ionosphere in class order 0.864 against 0.898).
public struct FirstStretch: Sendable, Equatable {
    /// The rows as they came (`n x inputWidth`) and their labels.
    public internal(set) var rows: Matrix
    public internal(set) var labels: [Int]
    /// Batches the rows came in.
    public internal(set) var batches: Int
    /// The output width the learner was built with, before its first batch.
    public let builtClasses: Int
    /// Rows of the learner's first batch.
    public let firstBatchRows: Int

    public init(rows: Matrix, labels: [Int], batches: Int, builtClasses: Int, firstBatchRows: Int) {
        self.rows = rows
        self.labels = labels
        self.batches = batches
        self.builtClasses = builtClasses
        self.firstBatchRows = firstBatchRows
    }

    /// The output width a learner built for these rows as its first batch starts with:
    /// a learner built, as a file's stream builds it, with one column past the largest
    /// label of its first batch is built with one past the largest label of the
    /// stretch; any other (a scenario's, built with one) as it was.
    var classesToBuild: Int {
        let firstLabels = labels.prefix(firstBatchRows)
        guard let firstTop = firstLabels.max(), builtClasses == max(1, firstTop + 1) else { return builtClasses }
        return max(1, labels.max()! + 1)
    }
}

extension Learner {
    /// Follows the first stretch after a batch was observed (`firstVisitsBefore`: the
    /// first visits before it; `classesBefore`: the output width before it). A learner's
    /// first batch opens the stretch when its scaler has not settled after it; later
    /// first-visit batches join it; the batch after which the scaler has settled closes
    /// it, and the learner is then rebuilt as a learner built for the stretch's rows that
    /// observed them as its first batch (``relearned(_:source:logger:)``). A later pass,
    /// a growth, or a stretch of twice `settle` rows whose scaler still has not settled
    /// (rows out of range never enter it) ends the stretch as it is.
    mutating func followFirstStretch(
        _ x: Matrix, labels: [Int], pass: Int, firstVisitsBefore: Int, classesBefore: Int, source: String, logger: Logger?,
        report: inout StepReport
    ) throws(LearnerError) {
        guard configuration.relearnsFirstStretch == true, let scaler, let settle = scaler.settle, pass == 0,
              model.experts.isEmpty else {
            firstStretch = nil
            return
        }
        let settled = scaler.count >= Double(settle)
        if firstVisitsBefore == 0 {
            firstStretch = settled ? nil : FirstStretch(rows: x, labels: labels, batches: 1, builtClasses: classesBefore,
                                                        firstBatchRows: x.rows)
            return
        }
        guard var stretch = firstStretch, stretch.rows.rows < 2 * settle else {
            firstStretch = nil
            return
        }
        stretch.rows = stretch.rows.concatenatingRows(x)
        stretch.labels += labels
        stretch.batches += 1
        guard settled else {
            firstStretch = stretch
            return
        }
        firstStretch = nil
        let again = try relearned(stretch, source: source, logger: logger)
        self = again.learner
        report.experts = model.experts.count
        if let decision = again.report.decision { report.decision = decision }
    }

    /// This learner rebuilt from the stretch: a learner built for the stretch's rows (as
    /// the stream built this one for its first batch) observes them as its first batch,
    /// in its warm-up pieces, its scaler taking them in whole first, as a stream read in
    /// batches of the stretch's size would have. What the stream was served stays as it
    /// was: the prequential record (the answers given before each row was learned), the
    /// recent class shares (counted on the batches served, and serving them), the batches
    /// and rows observed, and, when the rebuilt learner did not grow, the history of
    /// decisions and faults.
    func relearned(_ stretch: FirstStretch, source: String, logger: Logger?) throws(LearnerError)
        -> (learner: Learner, report: StepReport)
    {
        var fresh = try Learner(configuration: configuration, inputWidth: inputWidth, classCount: stretch.classesToBuild)
        fresh.classLabels = classLabels
        fresh.profile = profile
        let report = try fresh.observe(features: stretch.rows, labels: stretch.labels, source: source, pass: 0, logger: logger)
        fresh.prequential = prequential
        fresh.recentShares = recentShares
        fresh.counters.batches = counters.batches
        fresh.counters.samples = counters.samples
        if fresh.history.growths == history.growths { fresh.history = history }
        return (fresh, report)
    }
}
