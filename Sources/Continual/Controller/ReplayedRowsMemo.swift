import MoE

/// The replayed rows as the judgements on them read them (scaled, through the gate's
/// random features) and each head's leave-one-out logits of them, kept for the statistics
/// and the replay buffer they came from.
///
/// A copy made to predict in a stream whose labels come in runs judges the gate's head on
/// the replayed rows (`Learner.judgeHeadsOnReplayedRows(columns:beforePredicting:)`) and
/// then the slots' priors on the same rows (`Learner.judgePriorsOnReplayedRows()`), each
/// with the leave-one-out logits of the head answering: the same factorisation of the
/// `2048 x 2048` scatter, and the same rows through the gate's features, twice. The memo
/// hands the second judgement what the first computed. It is keyed by the statistics'
/// generation (their values), the replay buffer's offers and rows, and the gate's columns,
/// so a learner that learned anything since finds it empty: what it hands out is what a
/// computation would give, to the bit. Not saved.
struct ReplayedRowsMemo: Sendable {
    struct Key: Equatable, Sendable {
        /// ``ClassStatistics/generation`` of the statistics the logits were computed from.
        var generation: UInt64
        /// The replay buffer's offers and rows.
        var replaySeen: Int
        var replayRows: Int
        /// The gate's columns (its (slot, class) pairs).
        var columns: Int
    }

    private var key: Key?
    /// The replayed rows' gate features.
    private var features: Matrix?
    /// Leave-one-out logits by head of the shrinkage choice (nil: the fit failed).
    private var logits: [Int: Matrix?] = [:]

    /// The replayed rows' gate features kept for `key` (nil: none).
    func features(for key: Key) -> Matrix? { self.key == key ? features : nil }

    /// Keeps the replayed rows' gate features for `key`.
    mutating func keep(features computed: Matrix, for key: Key) {
        open(key)
        features = computed
    }

    /// Head `k`'s leave-one-out logits kept for `key`: nil when none are, `.some(nil)` when
    /// the fit was tried and failed.
    func logits(head k: Int, for key: Key) -> Matrix?? { self.key == key ? logits[k] : nil }

    /// Keeps head `k`'s leave-one-out logits (nil: the fit failed) for `key`.
    mutating func keep(logits computed: Matrix?, head k: Int, for key: Key) {
        open(key)
        logits[k] = .some(computed)
    }

    /// The statistics of `generation` were flushed into `flushed`: the same values under
    /// a new generation (``ClassStatistics/flush()`` moves the pending rows' scatter into
    /// the totals exactly as the leave-one-out's complete scatter adds it).
    mutating func statisticsFlushed(from generation: UInt64, to flushed: UInt64) {
        if key?.generation == generation { key?.generation = flushed }
    }

    /// Forgets what was kept for another key.
    private mutating func open(_ wanted: Key) {
        guard key != wanted else { return }
        key = wanted
        features = nil
        logits = [:]
    }
}
