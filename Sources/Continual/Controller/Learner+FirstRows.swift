import Logging
import MoE

// A stream's first rows, learned as one batch whatever the batch size.
//
// The input scaler fixes a feature's transform from the rows it has seen when the feature
// has shown `evidence` values, or when `settle` rows have come. A stream read 128 rows at
// a time gives the scaler its whole first batch before any row is scaled. One row at a
// time, each of the first rows is scaled by the moments of the rows before it (a
// continuous feature is fixed on its first 33 rows), and the gate's statistics keep
// those features for good: on 60 rows of smartwatch motions the gate alone scored 0.750
// one row a batch and 0.900 in one batch.
//
// So while a stream's first rows come in batches smaller than `settle`, the learner
// keeps them (raw, with their labels). Each batch is still predicted and learned as it
// comes, so every row is predicted by a learner that knows the rows before it, and those
// predictions are the prequential record. Once the kept rows are `settle` or more, a
// learner made as this one was made learns them as one batch, observed in its warm-up
// pieces as a first batch of that size is, and takes this learner's place, keeping the
// record of the predictions made as the rows came (the prequential and gate's answers,
// the batch count, the time spent). Before then, a copy that predicts (`snapshot()`) and
// a later pass learn from the rows taken whole.

extension Learner {
    /// First rows kept to be learned as one batch.
    struct FirstRows: Sendable, Equatable {
        /// The classes the learner was made with (its output width before the first row).
        var classCount: Int
        /// The raw rows, row-major, ``Learner/inputWidth`` wide.
        var features: [Float] = []
        var labels: [Int] = []
        /// The batches they came in.
        var batches = 0
        /// What the last batch was called in errors (not saved).
        var source = "the first rows"

        var rows: Int { labels.count }

        /// The same rows kept the same way (what the last batch was called aside).
        static func == (a: FirstRows, b: FirstRows) -> Bool {
            a.classCount == b.classCount && a.features == b.features && a.labels == b.labels && a.batches == b.batches
        }
    }

    /// Rows after which first rows kept are learned as one batch: the scaler's `settle`
    /// (nil: nothing is kept).
    var firstRowsLimit: Int? {
        guard configuration.firstRowsWhole == true else { return nil }
        return scaler?.settle
    }

    /// Whether a batch of `rows` rows starts keeping first rows: the stream's first batch,
    /// a first visit smaller than the limit.
    func startsFirstRows(rows: Int, pass: Int) -> Bool {
        guard firstRows == nil, pass == 0, counters.firstVisits == 0, let limit = firstRowsLimit else { return false }
        return rows < limit
    }

    /// Whether a copy that predicts would learn the first rows again: they came in more
    /// than one batch.
    var firstRowsPending: Bool { (firstRows?.batches ?? 0) > 1 }

    /// Adds a first-visit batch just learned to the kept rows; once they reach the
    /// limit, learns them whole.
    mutating func keepFirstRows(_ x: Matrix, labels: [Int], source: String, logger: Logger?) throws(LearnerError) {
        firstRows!.features += x.scalars
        firstRows!.labels += labels
        firstRows!.batches += 1
        firstRows!.source = source
        if firstRows!.rows >= firstRowsLimit ?? 0 { self = try learnedWhole(logger: logger) }
    }

    /// A learner made as this one was, that has learned the kept first rows as one batch,
    /// with this one's record of the predictions made as they came; no rows kept.
    func learnedWhole(logger: Logger?) throws(LearnerError) -> Learner {
        guard let kept = firstRows, kept.batches > 1 else {
            var same = self
            same.firstRows = nil
            return same
        }
        var whole = try Learner(configuration: configuration, inputWidth: inputWidth, classCount: kept.classCount)
        whole.classLabels = classLabels
        _ = try whole.observeOnce(features: Matrix(rows: kept.rows, columns: inputWidth, scalars: kept.features),
                                  labels: kept.labels, source: kept.source, pass: 0, logger: logger)
        whole.prequential = prequential
        whole.course = course
        whole.counters.batches = counters.batches
        var profile = self.profile
        for (path, _) in LearnerProfile.named { profile[keyPath: path] += whole.profile[keyPath: path] }
        profile.refits += whole.profile.refits
        profile.flops.merge(whole.profile.flops, uniquingKeysWith: +)
        whole.profile = profile
        return whole
    }
}
