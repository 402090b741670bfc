import MoE
import Synchronization

/// The gate head a ``Learner/snapshot()`` fitted, kept for the learner it was taken from.
///
/// Evaluating a learner refits its gate's head in a copy, so that predicting changes
/// nothing the learner will do; the learner then makes the same refit from the same
/// statistics at its next refit (at an experience's end, when the next batch is judged or
/// grows): on Split Fashion-MNIST four factorisations of `2048 x 2048` computed twice.
/// Copies of a learner share one memo; a refit whose statistics have the generation of
/// the memo's (``ClassStatistics/generation``: the same values) and that fits the same
/// form of head (the blend and leading features of its shrinkage choice: copies that
/// chose differently share the memo too) takes the head and the flushed statistics from
/// it instead, with the same bits. One entry, dropped when taken
/// or when a refit finds another generation, so the statistics it holds are not kept
/// alive beside the learner's (not saved: a loaded learner refits itself).
final class HeadMemo: Sendable {
    struct Entry: Sendable {
        /// The generation of the statistics the fit started from.
        let generation: UInt64
        /// The head's columns.
        let columns: Int
        /// The form of the head fitted: its blend and leading features
        /// (``ShrinkageChoice``'s current entry).
        let blend: Double
        let leading: Int?
        /// The statistics after the fit (their pending rows flushed when the fit did).
        let statistics: ClassStatistics
        let weight: Matrix
        let bias: Matrix
    }

    private let entry = Mutex<Entry?>(nil)

    func store(_ fitted: Entry) {
        entry.withLock { $0 = fitted }
    }

    /// The entry for statistics of `generation` and a head of `columns` columns of the
    /// form `blend`, `leading`, if it is the one kept; the memo is empty afterwards
    /// either way.
    func take(generation: UInt64, columns: Int, blend: Double, leading: Int?) -> Entry? {
        entry.withLock { kept in
            defer { kept = nil }
            guard let found = kept, found.generation == generation, found.columns == columns,
                  found.blend == blend, found.leading == leading else { return nil }
            return found
        }
    }
}
