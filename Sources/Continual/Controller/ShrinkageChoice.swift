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
/// samples). A candidate significantly worse than the current head stops being fitted,
/// until the head changes. Choosing costs a `p x p` factorisation per candidate and refit.
///
/// Two guards, both measured: only rows of classes the statistics hold in at least half
/// the average share are scored (`Learner.chooseShrinkage`: a class-ordered stream's new
/// classes otherwise reward the head that names new classes most readily; Satellite in
/// class order lost 0.026), and the choice ends once the statistics hold as many samples
/// as features (``settle()``: a blend chosen on Split Fashion-MNIST's first rows cost it
/// 0.03 by its fifth experience).
public struct ShrinkageChoice: Sendable, Codable, Equatable {
    /// The shares `t` tried; the first answers until another wins.
    public private(set) var blends: [Double]
    /// The index of the blend the gate answers with.
    public private(set) var current = 0
    /// Per blend: its paired counts against the current one (the current's unused).
    public private(set) var tallies: [AnswerArbiter.Tally]
    /// Per blend: still fitted and scored.
    public private(set) var active: [Bool]
    /// The test's quantile.
    public static let z = 1.5
    /// Half-life of the counts, in samples.
    public static let halfLife = 4096.0

    public init(blends: [Double]) {
        self.blends = blends.isEmpty ? [0] : blends
        tallies = Array(repeating: AnswerArbiter.Tally(), count: self.blends.count)
        active = self.blends.indices.map { $0 != 0 }
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

    /// The current blend's shrinkage.
    public var currentShrinkage: Shrinkage { shrinkage(current) }

    /// Records one batch: whether the current head was right on each row, and each
    /// candidate's rows. Returns the index of the blend that wins (the head to answer
    /// with from now on), or nil.
    public mutating func record(current right: [Bool], candidates: [Int: [Bool]]) -> Int? {
        let fade = exp2(-1 / Self.halfLife)
        for (k, rows) in candidates.sorted(by: { $0.key < $1.key }) where k < blends.count && active[k] {
            for (c, a) in zip(right, rows) { tallies[k].record(a, gate: c, fade: fade) }
            if tallies[k].advantage < -Self.z { active[k] = false }
        }
        guard let best = AnswerArbiter.Tally.strongest(blends.indices.filter { active[$0] }.map { ($0, tallies[$0]) }, z: Self.z)
        else { return nil }
        current = best
        tallies = Array(repeating: AnswerArbiter.Tally(), count: blends.count)
        active = blends.indices.map { $0 != best }
        return best
    }

    /// Ends the choice: OAS answers from now on, and nothing else is fitted. Once the
    /// statistics hold as many samples as features, the pooled covariance is no longer
    /// singular, OAS's own intensity falls with every sample, and the evidence a blend
    /// won on (the stream's first rows) says little about the rest (on Split
    /// Fashion-MNIST a blend chosen on the first experience cost 0.03 by the fifth).
    /// Returns whether the head must change.
    public mutating func settle() -> Bool {
        let changed = current != 0 || blends[0] != 0
        current = 0
        blends = [0]
        tallies = [AnswerArbiter.Tally()]
        active = [false]
        return changed
    }

    private enum CodingKeys: String, CodingKey { case blends, current, tallies, active }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        blends = try c.decode([Double].self, forKey: .blends)
        current = try c.decode(Int.self, forKey: .current)
        tallies = try c.decode([AnswerArbiter.Tally].self, forKey: .tallies)
        active = try c.decode([Bool].self, forKey: .active)
        guard !blends.isEmpty, blends.allSatisfy({ $0 >= 0 && $0 < 1 }), blends.indices.contains(current),
              tallies.count == blends.count, active.count == blends.count, !active[current] else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath,
                debugDescription: "the shrinkage choice's \(blends.count) blends \(blends), current \(current), \(tallies.count) tallies and \(active.count) flags do not agree"))
        }
    }
}
