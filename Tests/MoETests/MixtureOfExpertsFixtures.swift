import Foundation
import MoE
import TestSupport

/// Small seeded models and data shared by the expert, gate and mixture tests.
enum Fixtures {
    struct ExpertSpec {
        var layer: Int
        var detectors: [Int]
        var context: Expert.Context = .layerInput
        var classes: Set<Int>? = nil
    }

    /// A tanh model (no kinks for finite differences) with the given gate and experts.
    static func model(
        sizes: [Int] = [4, 5, 4, 3], gate: Gate.Configuration = .learned(), widenTo: Int? = nil,
        experts: [ExpertSpec], hiddenWidth: Int = 3, seed: UInt64 = 7
    ) -> MixtureOfExperts {
        var g = SeededGenerator(seed: seed)
        var model = MixtureOfExperts(sizes: sizes, activation: .tanh, generator: &g)
        if let widenTo { model.widenOutput(to: widenTo) }
        model.configureGate(gate)
        for spec in experts {
            model.grow(at: spec.layer, detectors: spec.detectors, hiddenWidth: hiddenWidth, classes: spec.classes,
                       context: spec.context, activation: .tanh, generator: &g)
        }
        return model
    }

    /// Replaces every parameter except the gate's random features and class head with
    /// uniform values in ±scale (zero-initialised layers would hide gradients).
    static func randomize(_ model: inout MixtureOfExperts, seed: UInt64, scale: Float = 0.6) {
        var g = SeededGenerator(seed: seed)
        model.updateParameters { path, value in
            guard !path.hasPrefix("gate.features"), !path.hasPrefix("gate.head") else { return }
            value = .uniform(rows: value.rows, columns: value.columns, low: -scale, high: scale, using: &g)
        }
        if model.gate.featureCount > 0 {
            model.setClassHead(
                weight: .uniform(rows: model.gate.featureCount, columns: model.classCount, low: -1, high: 1, using: &g),
                bias: .uniform(rows: 1, columns: model.classCount, low: -0.5, high: 0.5, using: &g))
        }
    }

    /// Cross-entropy of Float logits, computed in Double.
    static func crossEntropy(_ logits: Matrix, _ labels: [Int]) -> Double {
        var total = 0.0
        for r in 0..<logits.rows {
            let row = logits.row(r).map(Double.init)
            let top = row.max()!
            let lse = top + log(row.reduce(0) { $0 + exp($1 - top) })
            total += lse - row[labels[r]]
        }
        return total / Double(logits.rows)
    }

    /// Gaussian blobs: `perClass` rows for each class in `classes`, centres drawn from
    /// `centreSeed` (shared by train and test sets), noise from `seed`.
    static func blobs(classes: [Int], perClass: Int, dimensions: Int = 16, spread: Float = 1,
                      centreSeed: UInt64 = 99, seed: UInt64) -> (x: Matrix, labels: [Int]) {
        var centres = SeededGenerator(seed: centreSeed)
        let allCentres = Matrix.normal(rows: 8, columns: dimensions, standardDeviation: 2.5, using: &centres)
        var g = SeededGenerator(seed: seed)
        var rows: [Float] = []
        var labels: [Int] = []
        for i in 0..<(perClass * classes.count) {
            let c = classes[i % classes.count]
            for d in 0..<dimensions { rows.append(allCentres[c, d] + spread * g.nextNormal()) }
            labels.append(c)
        }
        return (Matrix(rows: labels.count, columns: dimensions, scalars: rows), labels)
    }
}
