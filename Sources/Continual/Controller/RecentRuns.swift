import Foundation

/// Whether a slot's labels come in runs *now*: the test of
/// ``AnswerArbiter/labelsComeInRuns(slot:)`` on faded counts, so that what the stream did
/// some half-lives ago no longer counts.
///
/// The whole-history test compares the repeats of consecutive labels with `Σ p²` of the
/// slot's class shares over all its visits. When the shares themselves change (a change
/// of concept that moves the labels' mix: one of Agrawal's labelling functions gives 0.65
/// of one class, the next 0.40), labels drawn at random within each stretch repeat more
/// often than the pooled shares predict, and the stream reads as one in runs for good.
/// Here each visit `t` is weighed `f^(n−t)` (`f = 2^(−1/h)`, `h` the arbiter's half-life
/// in samples) and
///
/// ```
/// q_t = Σ_k w_k² / (Σ_k w_k)²      (w_k: class k's faded count before visit t)
/// E   = Σ_t f^(n−t) (r_t − q_t)    (r_t: 1 when visit t repeats the label before it)
/// V   = Σ_t f^(2(n−t)) q_t (1 − q_t)
/// z   = E / √V
/// ```
///
/// Labels in blocks of a few hundred rows repeat nearly always while the faded shares
/// mix many blocks, so `z` grows as it does over the whole history; within a stretch of
/// labels drawn at random `E` has mean 0 and `z` is a standard normal deviate, once the
/// faded shares have forgotten the stretch before (a few half-lives).
///
/// The class weights grow as `f^(−t)` rather than fading at every visit, so a visit costs
/// the same whatever the number of classes; they are scaled down by `2^−400` when the next
/// weight passes `2^400` (every 400 half-lives), which `q_t` does not notice.
public struct RecentRuns: Sendable, Equatable, Codable {
    /// Per class: its visits' weights `f^(−t)`, summed (scaled as above).
    public private(set) var weights: [Int: Double] = [:]
    /// `Σ_k w_k` and `Σ_k w_k²`.
    public private(set) var total: Double = 0
    public private(set) var squares: Double = 0
    /// The next visit's weight.
    public private(set) var next: Double = 1
    /// `E` and `V` above.
    public private(set) var excess: Double = 0
    public private(set) var variance: Double = 0

    public init() {}

    /// Counts one visit of `label`; `repeated` says whether it repeats the label of the
    /// visit before (nil for the slot's first), `fade` is `f`.
    mutating func add(label: Int, repeated: Bool?, fade: Double) {
        if let repeated, total > 0 {
            // 1 with one class so far, and never above it, whatever the sums' rounding.
            let q = weights.count < 2 ? 1 : min(1, squares / (total * total))
            excess = fade * excess + (repeated ? 1 : 0) - q
            variance = fade * fade * variance + q * (1 - q)
        }
        let w = weights[label, default: 0]
        weights[label] = w + next
        squares += (2 * w + next) * next
        total += next
        next /= fade
        if next > 0x1p400 {
            let s = 0x1p-400
            for k in weights.keys { weights[k]! *= s }
            total *= s
            squares *= s * s
            next *= s
        }
    }

    /// Whether the labels come in runs now: `z` beyond `runsZ`.
    func comeInRuns(z runsZ: Double) -> Bool {
        variance > 0 && excess / variance.squareRoot() > runsZ
    }

    /// Why these counts cannot be a stream's (nil when they can).
    func validated() -> String? {
        let values = [total, squares, next, excess, variance] + Array(weights.values)
        if !values.allSatisfy(\.isFinite) { return "values that are not finite" }
        if weights.values.contains(where: { $0 < 0 }) || total < 0 || squares < 0 || variance < 0 {
            return "negative weights, sums or variance"
        }
        return next > 0 ? nil : "a next weight of \(next), not positive"
    }
}
