import Foundation
import MoE

/// The stream's recent class shares, served to the stream's own next rows when they
/// have been more often right there, batch after batch.
///
/// A stream's classes need not come in the proportions it holds overall: in class
/// order, in blocks, a rate that rises over the day. The mixture's class weights carry
/// the shares of everything it learned (`p(c | x)` with the long-run prior `π(c)`), and
/// what comes next follows the recent ones. Bayes' rule for a change of prior (Saerens,
/// Latinne and Decaestecker, 2002) re-weighs them:
///
/// ```
/// p'(c | x) ∝ p(c | x) · ρ(c) / π(c)
/// ρ(c) = (f(c) + α π(c)) / (F + α)       f: class counts faded with a half-life h, F their sum
/// ```
///
/// with `α` one sample's worth of the long-run shares, so a class the recent rows did not
/// show is weighed down, not ruled out. Several half-lives are tried at once; each answer
/// is compared with the mixture's own on every first-visit row, predicted before anything
/// learned from it, and the one ahead by more than `z` standard errors with the most rows
/// right beyond it answers the next batch (and goes on answering while it is ahead at
/// all). The test is McNemar's with the batch as its unit (``BatchTally``): the recent
/// shares answer a whole batch with the class of the moment, so its rows are right or
/// wrong together. On rows in no order none is ahead and the mixture answers as it did.
///
/// Only the stream's prequential predictions are served so (`moe stream`, its
/// `--predictions` file and its prequential accuracy): nothing learned reads them (the
/// course, the arbiter's counts and the calibration read the mixture's own answers), and
/// a learner asked about other rows (`predict`, `moe eval`, `moe predict`) answers with the
/// long-run shares, the right prior for rows drawn from the whole stream.
public struct RecentShares: Sendable, Codable, Equatable {
    /// The answers tried and their test.
    public struct Settings: Sendable, Codable, Equatable {
        /// Half-lives of the recent counts, in first-visit samples.
        public var halfLives: [Double] = [16, 128, 1024]
        /// One-sided threshold of the paired test, in standard errors. With the batch as
        /// the unit, `k` batches that agree stand `√k` errors ahead: 1 serves after two
        /// batches that agree (or a net lead of one error over more), where the arbiter's
        /// 1.5 waited for three. In class order the first change of class was then answered
        /// by the mixture for three batches that the class of the moment would have got
        /// nearly all right: over 300 real streams drawn at random, prequential accuracy
        /// 0.7128 with 1.5, 0.7248 with 1 (93 up, 8 down by more than 0.005; two of the 38
        /// shuffled streams down) and 0.7353 with 0.5, one batch (117 up, 25 down; seven
        /// shuffled streams down). Configurations saved before 2026-12-06's seventh round
        /// hold 1.5 and keep it.
        public var z: Double = 1
        /// Half-life of the paired counts, in first-visit samples (the arbiter's).
        public var countsHalfLife: Double = 4096

        public init() {}

        public func validate() throws(LearnerError) {
            guard !halfLives.isEmpty, halfLives.count <= 16, halfLives.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw .invalidConfiguration("the recent shares' half-lives must be 1 to 16 positive numbers of samples, got \(halfLives)")
            }
            guard z >= 0, z.isFinite else { throw .invalidConfiguration("the recent shares' z must be >= 0, got \(z)") }
            guard countsHalfLife > 0, countsHalfLife.isFinite else {
                throw .invalidConfiguration("the recent shares' counts half-life must be a positive number of samples, got \(countsHalfLife)")
            }
        }
    }

    /// Per class index: first-visit samples so far (not faded).
    public private(set) var counts: [Double] = []
    /// Per half-life (as `Settings.halfLives`), per class: the counts faded.
    public private(set) var recent: [[Double]] = []
    /// Per half-life: its answer's paired counts against the mixture's, by batch.
    public private(set) var tallies: [BatchTally] = []
    /// The half-life (an index of `Settings.halfLives`) whose answer serves the next
    /// batch; nil: the mixture's own.
    public private(set) var serving: Int?
    /// First-visit rows where a half-life's answer served and differed from the mixture's,
    /// those of them it got right (the mixture's answer was wrong), and those the
    /// mixture's answer would have got right.
    public private(set) var servedRows = 0
    public private(set) var servedGains = 0
    public private(set) var servedLosses = 0

    /// The most rows a saved record may say it served (2^53, the largest count a Double
    /// holds exactly): a crafted count near `Int.max` would overflow on the next row.
    public static let largestCount = 1 << 53

    public init(halfLives: Int) {
        recent = Array(repeating: [], count: halfLives)
        tallies = Array(repeating: BatchTally(), count: halfLives)
    }

    /// Whether a saved record fits settings of `halfLives` half-lives: as many recent
    /// counts and tallies, every count finite and non-negative, as many classes in each,
    /// the answer serving one of them, and served rows at least their gains and losses
    /// and at most ``largestCount``.
    public func isValid(halfLives: Int) -> Bool {
        func fine(_ v: Double) -> Bool { v.isFinite && v >= 0 }
        return recent.count == halfLives && tallies.count == halfLives
            && counts.allSatisfy(fine) && recent.allSatisfy { $0.count == counts.count && $0.allSatisfy(fine) }
            && tallies.allSatisfy { $0.sum.isFinite && fine($0.squares) }
            && (serving.map { $0 >= 0 && $0 < halfLives } ?? true)
            && servedGains >= 0 && servedLosses >= 0 && servedGains + servedLosses <= servedRows
            && servedRows <= Self.largestCount
    }

    /// Each half-life's answer for rows whose class weights are the columns `seen` of
    /// `scores` (one row per input; negative weights read as 0); where every weight of a
    /// row is 0 the row keeps `fallback`'s answer.
    func answers(scores: Matrix, seen: [Int], fallback: [Int]) -> [[Int]] {
        let total = counts.reduce(0, +)
        guard total > 0 else { return recent.map { _ in fallback } }
        return recent.map { faded in
            let sum = faded.reduce(0, +)
            // ρ(c) / π(c), with α = 1: (f(c) + π(c)) / ((F + 1) π(c)). A class seen before
            // the record began (a learner saved before it, continued) has no share in it:
            // it keeps its weight.
            let ratio: [Double] = seen.map { c in
                let share = c < counts.count ? counts[c] / total : 0
                guard share > 0 else { return 1 }
                return ((c < faded.count ? faded[c] : 0) + share) / ((sum + 1) * share)
            }
            return (0..<scores.rows).map { r in
                var best = -1, top = 0.0
                for (k, c) in seen.enumerated() {
                    let w = Double(max(scores[r, c], 0)) * ratio[k]
                    if w > top { (best, top) = (c, w) }
                }
                return best >= 0 ? best : fallback[r]
            }
        }
    }

    /// Counts a batch of first-visit rows: each half-life's answers (`tried`) against the
    /// mixture's (`own`) on `labels`, then the labels; and chooses who serves next.
    mutating func record(tried: [[Int]], own: [Int], served: [Int], labels: [Int], settings: Settings) {
        let fadeCounts = pow(exp2(-1 / settings.countsHalfLife), Double(labels.count))
        for (h, answers) in tried.enumerated() {
            var net = 0
            for r in labels.indices where (answers[r] == labels[r]) != (own[r] == labels[r]) {
                net += answers[r] == labels[r] ? 1 : -1
            }
            tallies[h].record(net: Double(net), fade: fadeCounts)
        }
        for r in labels.indices where served[r] != own[r] {
            servedRows += 1
            if served[r] == labels[r] { servedGains += 1 }
            if own[r] == labels[r] { servedLosses += 1 }
        }
        if let top = labels.max(), top >= counts.count {
            counts += Array(repeating: 0, count: top + 1 - counts.count)
            for h in recent.indices { recent[h] += Array(repeating: 0, count: top + 1 - recent[h].count) }
        }
        // Row i of n is followed by n - 1 - i rows of this batch: it is faded that often.
        let n = labels.count
        for (h, halfLife) in settings.halfLives.enumerated() {
            let fade = exp2(-1 / halfLife)
            let batchFade = pow(fade, Double(n))
            for c in recent[h].indices { recent[h][c] *= batchFade }
            for (i, label) in labels.enumerated() { recent[h][label] += pow(fade, Double(n - 1 - i)) }
        }
        for label in labels { counts[label] += 1 }
        // The strongest answer ahead by `z` serves; one serving goes on while it is ahead
        // at all, so that it is not served only after its best batches.
        let keeps = serving.map { tallies[$0].sum > 0 } ?? false
        serving = tallies.indices.filter { tallies[$0].advantage > settings.z }.max { tallies[$0].sum < tallies[$1].sum }
            ?? (keeps ? serving : nil)
    }
}

/// Paired counts of an answer against another, with the batch as their unit: each batch
/// adds `d`, the rows the answer got right and the other wrong less the reverse, and
///
/// ```
/// sum = Σ_b f_b d_b,   squares = Σ_b f_b d_b²,   advantage = sum / √squares
/// ```
///
/// with `f_b` the fade of the rows since batch `b`. Where the rows of a batch disagree
/// independently, `d_b²` averages the disagreements and this is McNemar's test; where an
/// answer is right or wrong for a whole batch at once, as the recent shares are, it
/// counts batches rather than rows. (With rows as the unit, on Train's choices in blocks
/// of 200 rows, one batch inside a block put the recent shares 72 rows ahead, and the
/// next, across the block's end, served them and lost 58: 41 rows gained and 284 lost
/// over the stream.)
public struct BatchTally: Sendable, Codable, Equatable {
    public var sum: Double = 0
    public var squares: Double = 0

    public init() {}

    /// How far the answer is ahead, in standard errors (0 with no disagreement).
    public var advantage: Double { squares > 0 ? sum / squares.squareRoot() : 0 }

    /// Fades the counts by `fade`, then adds a batch whose net is `net`.
    public mutating func record(net: Double, fade: Double) {
        sum = sum * fade + net
        squares = squares * fade + net * net
    }
}

extension Learner {
    /// A new learner's record of recent shares: for a mixture that routes by pairs with
    /// `recentShares` set, nil elsewhere (the baselines serve their own answers).
    static func recentSharesRecord(_ configuration: LearnerConfiguration) -> RecentShares? {
        guard let settings = configuration.recentShares, configuration.predictor == .mixture,
              configuration.gateFeatureCount != nil else { return nil }
        return RecentShares(halfLives: settings.halfLives.count)
    }

    /// The answers a batch of first-visit rows is served (the mixture's, or the recent
    /// shares' answering now), after counting every half-life's answers on `labels`.
    mutating func serveRecentShares(_ answers: Answers, labels: [Int]) -> [Int] {
        guard var record = recentShares, let settings = configuration.recentShares else { return answers.predicted }
        let scores = calibrated(answers)
        let seen = seenClasses.filter { $0 < scores.columns }.sorted()
        let tried = record.answers(scores: scores, seen: seen, fallback: answers.predicted)
        let served = record.serving.map { tried[$0] } ?? answers.predicted
        record.record(tried: tried, own: answers.predicted, served: served, labels: labels, settings: settings)
        recentShares = record
        return served
    }
}
