import MoE

// Each slot's own covariance (`LearnerConfiguration.slotHeads`, `GateSlotHeads`).
//
// The gate's statistics pool one within-pair scatter over every (slot, class) pair. A
// slot grown on a new domain (a permutation of the pixels, a sensor that drifted) has
// classes whose features vary in ways the old domains' do not, and the pooled covariance
// describes neither well; a domain that comes back finds it changed by the ones that came
// since. From the moment the gate has two slots every slot also keeps its own pairs'
// statistics (slot 0 starts from everything so far, which was all its own), and a slot
// whose statistics hold as many samples as the gate has features answers among its
// classes with a discriminant fitted on them alone. The pooled head still weighs the
// slots, so routing is what it was.
extension Learner {
    /// Adds rows (all of `features` when nil) to their slots' own statistics, `columns`
    /// being their gate columns; before the pooled statistics take them.
    mutating func addToSlotStatistics(features: Matrix, rows: [Int]?, columns: [Int]) {
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
                // in the pooled statistics without its own (frozen too small, or resumed
                // from a file saved without them) cannot know its part of the pooled
                // scatter: it keeps the pooled head's columns.
                guard !statistics.counts.indices.contains(where: { statistics.counts[$0] > 0 && pairs[$0].slot == s }) else { continue }
                slotStatistics[s] = ClassStatistics(featureCount: statistics.featureCount)
            }
            let part = bySlot[s]!
            slotStatistics[s]!.update(features: features, rows: part.rows, labels: part.columns)
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

    /// Fits the own head of every slot whose statistics hold at least as many samples as
    /// the gate has features and that has none yet, is in charge and took samples since
    /// its last fit, was frozen since its last fit (growth forgets that fit's sample
    /// count), or holds twice the samples it held then (a frozen slot takes a few
    /// rows it answers right, and a returning domain many: refitting every slot at every
    /// refit cost Permuted Fashion-MNIST more than the rest of the gate), in the pooled
    /// head's form (its shrinkage choice), and sets the gate's slot heads.
    mutating func refitSlotHeads(columns: Int) {
        guard !slotStatistics.isEmpty else { return }
        let p = model.gate.featureCount
        var heads = model.gate.slotHeads
            ?? GateSlotHeads(weight: Matrix(rows: p, columns: 0), bias: Matrix(rows: 1, columns: 0), slots: [])
        if heads.weight.columns < columns {
            let extra = columns - heads.weight.columns
            heads = GateSlotHeads(weight: heads.weight.concatenatingColumns(Matrix(rows: p, columns: extra)),
                                  bias: heads.bias.concatenatingColumns(Matrix(rows: 1, columns: extra, repeating: Gate.unseenClassBias)),
                                  slots: heads.slots)
        }
        let pairs = model.gatePairs
        var clock = PhaseClock()
        var fitted = false
        for s in slotStatistics.keys.sorted() {
            let samples = slotStatistics[s]!.sampleCount
            guard samples >= Double(p) else { continue }
            if let before = slotHeadSamples[s], heads.slots.contains(s),
               !(s == slotInCharge && samples > before) && samples < 2 * before { continue }
            slotStatistics[s]!.flush()
            guard let (weight, bias) = try? fitChoice(shrinkage.current, slotStatistics[s]!, columns: columns),
                  weight.isFinite && bias.isFinite else { continue }
            fitted = true
            for c in 0..<columns where pairs[c].slot == s {
                for i in 0..<p { heads.weight[i, c] = weight[i, c] }
                heads.bias[0, c] = bias[0, c]
            }
            if !heads.slots.contains(s) { heads.slots = (heads.slots + [s]).sorted() }
            slotHeadSamples[s] = samples
        }
        if fitted {
            profile.refit += clock.lap()
            profile.flops["refit", default: 0] += clock.work()
        }
        model.gate.slotHeads = heads.slots.isEmpty ? nil : heads
    }
}
