import Foundation
import MoE

// The holdout of the slot in charge (see `Holdout`): set aside while the slot trains,
// judged when it stops, then given to the gate like every other sample.
extension Learner {
    /// Sets aside some of `rows` (first visits in the charge of the slot in charge) and
    /// returns the others.
    mutating func setAside(_ x: Matrix, labels: [Int], rows: [Int]) -> [Int] {
        guard statistics != nil, !rows.isEmpty else { return rows }
        let chosen = holdout.choose(rows, generator: &generator)
        guard !chosen.isEmpty else { return rows }
        let left = holdout.keep(x, labels: labels, rows: Array(chosen), generator: &generator)
        // Rows the full reservoir does not keep join the gate's statistics at once.
        if !left.labels.isEmpty {
            giveToGate(raw: Matrix(rows: left.labels.count, columns: x.columns, scalars: left.features),
                       labels: left.labels, slot: holdout.slot)
        }
        return rows.filter { !chosen.contains($0) }
    }

    /// Judges the holdout's slot on it (its network, the gate and their product, on rows
    /// no part of the learner has learned from) and fixes that slot's answer; keeps up to
    /// `Holdout.retainedPerSlot` of the rows for later judgements and adds the others to
    /// the gate's statistics; then judges every other frozen slot again on its retained
    /// rows, against the gate as it is now. The holdout then belongs to `nextSlot`.
    mutating func judgeHoldout(nextSlot: Int) {
        let slot = holdout.slot
        let (raw, labels) = holdout.release(nextSlot: nextSlot)
        guard statistics != nil else { return }
        if !labels.isEmpty {
            let x = scaler?.transform(raw) ?? raw
            let features = model.gateFeatures(x)
            judge(slot: slot, input: x, features: features, labels: labels)
            let kept = min(labels.count, Holdout.retainedPerSlot)
            holdout.retain(slot: slot, features: raw.rows(0..<kept), labels: Array(labels[..<kept]))
            if kept < labels.count {
                let rest = Array(kept..<labels.count)
                giveToGate(raw: raw.gatherRows(rest), labels: rest.map { labels[$0] }, slot: slot,
                           features: features.gatherRows(rest))
            }
        }
        refreshHeadIfStale()
        for s in holdout.retainedSlotIDs where s != slot {
            let (rows, rowLabels) = holdout.retained(slot: s)
            let x = scaler?.transform(rows) ?? rows
            judge(slot: s, input: x, features: model.gateFeatures(x), labels: rowLabels)
        }
    }

    /// Judges every slot with held rows against the gate as it is now, learning nothing:
    /// the slot in charge on its holdout, frozen slots on their retained rows.
    mutating func judgeHeldSlots() {
        guard statistics != nil else { return }
        var held: [(slot: Int, rows: Matrix, labels: [Int])] = holdout.retainedSlotIDs.map { s in
            let (rows, labels) = holdout.retained(slot: s)
            return (s, rows, labels)
        }
        if !holdout.isEmpty { held.append((holdout.slot, holdout.features, holdout.labels)) }
        for (s, rows, labels) in held {
            let x = scaler?.transform(rows) ?? rows
            judge(slot: s, input: x, features: model.gateFeatures(x), labels: labels)
        }
    }

    /// Decides `slot`'s answer from its network's, the gate's and their product's answers
    /// on held rows (scaled `input`, their gate `features`).
    mutating func judge(slot: Int, input x: Matrix, features: Matrix, labels: [Int]) {
        let members = model.gatePairs.enumerated().filter { $0.element.slot == slot }.map { (column: $0.offset, label: $0.element.label) }
        guard !members.isEmpty, !labels.isEmpty else { return }
        refreshHeadIfStale()
        let logits = model.forward(x, routedTo: slot).logits
        var z = Matrix(rows: x.rows, columns: model.gate.headWeight.columns)
        z.addRowVector(model.gate.headBias)
        z.addProduct(features, model.gate.headWeight)
        var gate: [Bool] = [], network: [Bool] = [], product: [Bool] = [], prior: [Bool] = []
        let frequent = members[argmax(priorLog(members))].label
        for r in 0..<x.rows {
            let netLog = logSoftmax(members.map { logits[r, $0.label] })
            let gateLog = logSoftmax(members.map { z[r, $0.column] })
            let both = zip(netLog, gateLog).map { $0 + $1 }
            gate.append(members[argmax(gateLog)].label == labels[r])
            network.append(members[argmax(netLog)].label == labels[r])
            product.append(members[argmax(both)].label == labels[r])
            prior.append(frequent == labels[r])
        }
        arbiter.decide(slot: slot, gate: gate, network: network, product: product, prior: prior)
    }

    /// Adds held rows (raw inputs; their gate features when already computed) to the
    /// gate's statistics under the slot they were in the charge of.
    mutating func giveToGate(raw: Matrix, labels: [Int], slot: Int, features known: Matrix? = nil) {
        guard !labels.isEmpty, statistics != nil else { return }
        let features = known ?? model.gateFeatures(scaler?.transform(raw) ?? raw)
        var columns: [Int] = []
        var added = false
        for y in labels {
            let pair = GatePair(slot: slot, label: y)
            if let column = model.gateColumn(of: pair) {
                columns.append(column)
            } else {
                columns.append(model.addGatePair(pair))
                added = true
            }
        }
        statistics!.update(features: features, labels: columns)
        counters.samplesSinceRefit += labels.count
        counters.headIsStale = true
        if added { refitHead() }
    }
}

/// The index of the largest value (the first on ties).
func argmax(_ values: [Float]) -> Int {
    var index = 0
    for i in values.indices.dropFirst() where values[i] > values[index] { index = i }
    return index
}

/// `log softmax` of a short vector.
func logSoftmax(_ values: [Float]) -> [Float] {
    let top = values.max() ?? 0
    var total: Float = 0
    for v in values { total += exp(v - top) }
    let shift = log(total) + top
    return values.map { $0 - shift }
}
