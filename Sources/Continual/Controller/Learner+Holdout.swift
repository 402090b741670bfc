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
        holdout.keep(x, labels: labels, rows: Array(chosen), generator: &generator)
        return rows.filter { !chosen.contains($0) }
    }

    /// Judges the holdout's slot on it (its network, the gate and their product, on rows
    /// no part of the learner has learned from), fixes that slot's answer, and adds the
    /// rows to the gate's statistics. The holdout then belongs to `nextSlot`.
    mutating func judgeHoldout(nextSlot: Int) {
        let slot = holdout.slot
        let (raw, labels) = holdout.release(nextSlot: nextSlot)
        guard !labels.isEmpty, statistics != nil else { return }
        let x = scaler?.transform(raw) ?? raw
        let members = model.gatePairs.enumerated().filter { $0.element.slot == slot }.map { (column: $0.offset, label: $0.element.label) }
        if !members.isEmpty {
            refreshHeadIfStale()
            let logits = model.forward(x, routedTo: slot).logits
            var z = Matrix(rows: x.rows, columns: model.gate.headWeight.columns)
            z.addRowVector(model.gate.headBias)
            let features = model.gateFeatures(x)
            z.addProduct(features, model.gate.headWeight)
            var gate: [Bool] = [], network: [Bool] = [], product: [Bool] = []
            for r in 0..<x.rows {
                let netLog = logSoftmax(members.map { logits[r, $0.label] })
                let gateLog = logSoftmax(members.map { z[r, $0.column] })
                let both = zip(netLog, gateLog).map { $0 + $1 }
                gate.append(members[argmax(gateLog)].label == labels[r])
                network.append(members[argmax(netLog)].label == labels[r])
                product.append(members[argmax(both)].label == labels[r])
            }
            arbiter.decide(slot: slot, gate: gate, network: network, product: product)
        }
        // The rows join the gate's statistics under the slot they were in the charge of.
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
        statistics!.update(features: model.gateFeatures(x), labels: columns)
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
