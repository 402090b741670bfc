import Foundation
import MoE

// Each slot's own covariance (`LearnerConfiguration.slotHeads`, `GateSlotHeads`).
//
// The gate's statistics pool one within-pair scatter over every (slot, class) pair. A
// slot grown on a new domain (a permutation of the pixels, a sensor that drifted) has
// classes whose features vary in ways the old domains' do not, and the pooled covariance
// describes neither well; a domain that comes back finds it changed by the ones that came
// since. From the moment the gate has two slots every slot also keeps its own pairs'
// statistics (slot 0 starts from everything so far, which was all its own), and a slot
// whose statistics hold as many samples as the gate has features fits a discriminant on
// them alone, which answers among the slot's classes once it has been right
// significantly more often than the pooled head on rows not yet learned from. The pooled
// head still weighs the slots, so routing is what it was.
extension Learner {
    /// Adds rows (all of `features` when nil) to their slots' own statistics, `columns`
    /// being their gate columns; before the pooled statistics take them, with `share`,
    /// which then holds the product of a flush the pooled statistics may make of the same
    /// rows (``ScatterShare``).
    mutating func addToSlotStatistics(features: Matrix, rows: [Int]?, columns: [Int], sharing share: inout ScatterShare) {
        guard configuration.slotHeads == true, model.gate.configuration.pairRouting, model.gate.slotCount >= 2,
              let statistics else { return }
        let pairs = model.gatePairs
        var bySlot: [Int: (rows: [Int], columns: [Int])] = [:]
        for (i, column) in columns.enumerated() {
            bySlot[pairs[column].slot, default: ([], [])].rows.append(rows?[i] ?? i)
            bySlot[pairs[column].slot, default: ([], [])].columns.append(column)
        }
        for s in bySlot.keys.sorted() {
            if slotStatistics[s] == nil {
                // A new slot starts with its first sample. A slot that already has samples
                // in the pooled statistics without its own (frozen too small, frozen with a
                // head that had not won, or resumed from a file saved without them) cannot
                // know its part of the pooled scatter: it keeps the pooled head's columns,
                // or the own head it has.
                guard !statistics.counts.indices.contains(where: { statistics.counts[$0] > 0 && pairs[$0].slot == s }) else { continue }
                slotStatistics[s] = ClassStatistics(featureCount: statistics.featureCount)
            }
            let part = bySlot[s]!
            slotStatistics[s]!.update(features: features, rows: part.rows, labels: part.columns, sharing: &share)
        }
    }

    /// A growth froze `slot`: its own head is fitted once more, on all its samples, at the
    /// next refit (then only when its samples double). At the first growth the trunk's
    /// slot starts its own statistics from the pooled ones, which were all its own. A
    /// slot frozen with fewer samples than the gate has features learns only the rows it
    /// answers right from now on, and would rarely, if ever, fit a head, while its scatter
    /// holds 32 MB at 2048 features (letters in class order grew eight experts whose slots
    /// held a few hundred rows each: 337 MB of statistics for one slot's head): its
    /// statistics go, and it keeps the pooled head's columns.
    mutating func slotFrozen(_ slot: Int) {
        slotHeadSamples[slot] = nil
        guard configuration.slotHeads == true, model.gate.configuration.pairRouting, let statistics else { return }
        let p = Double(statistics.featureCount)
        // The first growth: two slots, and every sample so far the trunk's.
        if slot == 0 && model.gate.slotCount == 2 && slotStatistics.isEmpty
            && statistics.counts.indices.allSatisfy({ statistics.counts[$0] == 0 || model.gatePairs[$0].slot == 0 }) {
            if statistics.sampleCount >= p { slotStatistics[0] = statistics }
            return
        }
        if let own = slotStatistics[slot], own.sampleCount < p { slotStatistics[slot] = nil }
    }

    /// Scores each slot's own head against the pooled head on a first-visit batch, before
    /// anything learns from it: the gate's answer with that slot's classes split by its own
    /// head, against the pooled head's answer, on every row (only rows whose answer lies in
    /// that slot can differ). The paired counts fade with ``ShrinkageChoice/halfLife``;
    /// an own head answers once it is ahead by more than ``ShrinkageChoice/z`` standard
    /// errors and gives way once it is behind by as much. A few thousand noisy rows can
    /// describe a slot worse than the covariance pooled over every slot does (verbal
    /// aggression answers in blocks of 200 lost 0.027 to own heads that answered as soon
    /// as they were fitted), while a slot whose domain differs wins within a few hundred
    /// rows (Permuted Fashion-MNIST). While a slot grown because the inputs moved is
    /// younger than the gate's feature count, only its own head is judged
    /// (``LearnerConfiguration/frozenHeadsWaitForNewDomain``): the new domain's rows the
    /// gate still sends to frozen slots say nothing of those slots' domains.
    mutating func chooseSlotHeads(pass: MixtureOfExperts.Forward, labels: [Int]) {
        guard var heads = model.gate.slotHeads, !heads.slots.isEmpty, let phi = pass.gate?.features,
              phi.columns == heads.weight.rows else { return }
        let (pooled, members) = pooledLogits(phi)
        let own = heads.ownLogits(phi)
        let base = rightAnswers(pooled, labels: labels)
        let fade = exp2(-1 / ShrinkageChoice.halfLife)
        // A new domain's slot too young to rival the frozen slots: they are not judged.
        let frozenWait = configuration.frozenHeadsWaitForNewDomain == true && newDomainSlotIsYoung(features: phi.columns)
        for s in heads.slots where !frozenWait || s == slotInCharge {
            let adjusted = heads.adjusting(pooled, features: phi, slotColumns: members, only: [s], own: own)
            var tally = slotHeadTallies[s] ?? AnswerArbiter.Tally()
            for (right, gate) in zip(rightAnswers(adjusted, labels: labels), base) { tally.record(right, gate: gate, fade: fade) }
            slotHeadTallies[s] = tally
            Self.settle(&heads, slot: s, advantage: tally.advantage)
        }
        model.gate.slotHeads = heads
    }

    /// The pooled head's logits on gate features `phi`, and each slot's columns among them.
    func pooledLogits(_ phi: Matrix) -> (logits: Matrix, members: [[Int]]) {
        let pooled = GateHead(weight: model.gate.headWeight, bias: model.gate.headBias).logits(phi)
        return (pooled, model.slotColumns.map { $0.filter { $0 < pooled.columns } })
    }

    /// Whether the slot in charge was grown because the inputs moved (a drift or
    /// stagnation growth, not new labels) and fewer first-visit samples than the gate has
    /// features (`p`) have come since: the samples its own head needs to be fitted.
    func newDomainSlotIsYoung(features p: Int) -> Bool {
        guard slotInChargeGrewOnShift, let last = history.growths.last else { return false }
        return counters.firstVisits - last.sample < p
    }

    /// Whether the discriminant's answer in `z` names each row's label.
    func rightAnswers(_ z: Matrix, labels: [Int]) -> [Bool] {
        labels.indices.map { discriminantAnswer(z, row: $0, among: nil) == labels[$0] }
    }

    /// Slot `s`'s head answers once it is ahead of the pooled head by more than
    /// ``ShrinkageChoice/z`` standard errors, and gives way once it is as far behind.
    static func settle(_ heads: inout GateSlotHeads, slot s: Int, advantage: Double) {
        if advantage > ShrinkageChoice.z && !heads.answering.contains(s) {
            heads.answering = (heads.answering + [s]).sorted()
        } else if advantage < -ShrinkageChoice.z {
            heads.answering.removeAll { $0 == s }
        }
    }

    /// A frozen slot sees no first visits of its classes unless its domain returns, and
    /// the trunk's slot has no own head before it is frozen (at the first growth its
    /// head is the pooled one, fitted on the same samples). So at every refit of the
    /// learner's each frozen slot's own head is scored against the pooled head as it is
    /// then, on the slot's retained held rows, which no statistics hold (unfaded counts
    /// on these rows alone): it answers when ahead by more than ``ShrinkageChoice/z``
    /// standard errors, gives way when as far behind, and is left as it was otherwise.
    /// A slot without held rows (a stream shorter than a slot's first 4,096 samples)
    /// keeps the first visits' choice. Permuted Fashion-MNIST's first domain is answered
    /// by its own head only so. Two products of the held rows' features per frozen slot
    /// with a head, beside a refit's factorisations.
    mutating func judgeSlotHeadsOnHeldRows(_ heads: inout GateSlotHeads) {
        let inCharge = slotInCharge
        for s in holdout.retainedSlotIDs where s != inCharge && heads.slots.contains(s) {
            let (_, phi, labels) = retainedRows(slot: s)
            guard !labels.isEmpty, phi.columns == heads.weight.rows else { continue }
            let (pooled, members) = pooledLogits(phi)
            let adjusted = heads.adjusting(pooled, features: phi, slotColumns: members, only: [s])
            let t = AnswerArbiter.tally(gate: rightAnswers(pooled, labels: labels), rightAnswers(adjusted, labels: labels))
            Self.settle(&heads, slot: s, advantage: t.advantage)
        }
    }

    /// Fits the own head of every slot whose statistics hold at least as many samples as
    /// the gate has features and that has none yet, is in charge and took samples since
    /// its last fit, was frozen since its last fit (growth forgets that fit's sample
    /// count), or holds twice the samples it held then (a frozen slot takes a few
    /// rows it answers right, and a returning domain many: refitting every slot at every
    /// refit cost Permuted Fashion-MNIST more than the rest of the gate), in the pooled
    /// head's form (its shrinkage choice), and sets the gate's slot heads.
    ///
    /// With `judging` (the learner's own refits, not a prediction's snapshot), every
    /// frozen slot's head is then judged on its held rows
    /// (``judgeSlotHeadsOnHeldRows(_:)``).
    mutating func refitSlotHeads(columns: Int, judging: Bool) {
        // No pooled flush came before: nothing to take, and the slots' rows differ.
        var share = ScatterShare.off
        refitSlotHeads(columns: columns, judging: judging, sharing: &share)
    }

    /// ``refitSlotHeads(columns:judging:)``, a slot's flush taking the product of the
    /// pooled statistics' flush in `share` when it came from the same rows.
    mutating func refitSlotHeads(columns: Int, judging: Bool, sharing share: inout ScatterShare) {
        guard !slotStatistics.isEmpty || model.gate.slotHeads != nil else { return }
        let p = model.gate.featureCount
        var heads = model.gate.slotHeads
            ?? GateSlotHeads(weight: Matrix(rows: p, columns: 0), bias: Matrix(rows: 1, columns: 0), slots: [], answering: [])
        if heads.weight.columns < columns {
            let extra = columns - heads.weight.columns
            heads = GateSlotHeads(weight: heads.weight.concatenatingColumns(Matrix(rows: p, columns: extra)),
                                  bias: heads.bias.concatenatingColumns(Matrix(rows: 1, columns: extra, repeating: Gate.unseenClassBias)),
                                  slots: heads.slots, answering: heads.answering)
        }
        let pairs = model.gatePairs
        var clock = PhaseClock()
        var fitted = false
        for s in slotStatistics.keys.sorted() {
            let samples = slotStatistics[s]!.sampleCount
            guard samples >= Double(p) else { continue }
            if let before = slotHeadSamples[s], heads.slots.contains(s),
               !(s == slotInCharge && samples > before) && samples < 2 * before { continue }
            slotStatistics[s]!.flush(sharing: &share)
            guard let (weight, bias) = try? fitChoice(shrinkage.current, slotStatistics[s]!, columns: columns),
                  weight.isFinite && bias.isFinite else { continue }
            fitted = true
            for c in 0..<columns where pairs[c].slot == s {
                for i in 0..<p { heads.weight[i, c] = weight[i, c] }
                heads.bias[0, c] = bias[0, c]
            }
            // A newly fitted slot answers once it wins its counts (`chooseSlotHeads`).
            if !heads.slots.contains(s) { heads.slots = (heads.slots + [s]).sorted() }
            slotHeadSamples[s] = samples
        }
        if fitted {
            profile.refit += clock.lap()
            profile.flops["refit", default: 0] += clock.work()
        }
        // A frozen slot fitted since it was frozen whose head did not win its counts while
        // the slot was in charge keeps that head, which may still win on its held rows,
        // and drops its statistics: a frozen slot takes only the rows it answers right,
        // and its scatter would hold 32 MB at 2048 features for refits of a head the
        // pooled one answered as well (Split Fashion-MNIST's frozen slots, whose errors
        // lie between slots). A slot whose head answers keeps them for refits when its
        // samples double (a domain that returns), and so does the trunk's slot, whose
        // head is born when it is frozen, equal to the pooled one: only its held rows
        // judge it, as the other slots come into the pooled statistics (dropping them
        // cost recurring domains 0.0035).
        for s in slotStatistics.keys.sorted()
        where s != 0 && s != slotInCharge && slotHeadSamples[s] != nil && heads.slots.contains(s) && !heads.answering.contains(s) {
            slotStatistics[s] = nil
            slotHeadSamples[s] = nil
        }
        if judging { judgeSlotHeadsOnHeldRows(&heads) }
        model.gate.slotHeads = heads.slots.isEmpty ? nil : heads
    }
}
