import Foundation
import MoE
import Testing
import TestSupport

/// The loss `CE + λ Σ w_j max(0, -cov_j)` computed in Float64 from the model's Float32
/// weights, with the correctness `c` held fixed.
private func referenceLoss(
    _ model: MixtureOfExperts, input: Matrix, labels: [Int], correct: [Bool], detectors: DetectorReport, strength: Double
) -> Double {
    let n = input.rows
    var x: [[Double]] = (0..<n).map { r in input.row(r).map(Double.init) }
    var hidden: [[[Double]]] = []
    for (index, layer) in model.trunk.layers.enumerated() {
        if let dense = layer as? Dense {
            x = x.map { row in
                (0..<dense.outputs).map { o in
                    (0..<dense.inputs).reduce(Double(dense.bias[0, o])) { $0 + row[$1] * Double(dense.weight[$1, o]) }
                }
            }
        } else if layer is Tanh {
            x = x.map { $0.map { tanh($0) } }
        } else {
            Issue.record("unexpected layer \(layer.kind)")
        }
        if model.trunk.hiddenLayerIndices.contains(index) { hidden.append(x) }
    }
    var loss = 0.0
    for (row, y) in zip(x, labels) {
        let top = row.max()!
        loss += log(row.reduce(0) { $0 + exp($1 - top) }) + top - row[y]
    }
    loss /= Double(n)
    let cMean = Double(correct.filter { $0 }.count) / Double(n)
    for layer in detectors.layers {
        for d in layer.detectors {
            let a = hidden[layer.layer].map { $0[d.neuron] }
            let aMean = a.reduce(0, +) / Double(n)
            var cov = 0.0
            for i in 0..<n { cov += (a[i] - aMean) * ((correct[i] ? 1 : 0) - cMean) }
            cov /= Double(n)
            loss += strength * abs(d.rho) * max(0, -cov)
        }
    }
    return loss
}

/// The batch covariance of every neuron of every hidden layer with correctness.
private func batchCovariances(_ hidden: [Matrix], correct: [Bool]) -> [[Double]] {
    let n = Double(correct.count)
    let cMean = Double(correct.filter { $0 }.count) / n
    return hidden.map { a in
        (0..<a.columns).map { j in
            let mean = (0..<a.rows).reduce(0.0) { $0 + Double(a[$1, j]) } / n
            return (0..<a.rows).reduce(0.0) { $0 + (Double(a[$1, j]) - mean) * ((correct[$1] ? 1 : 0) - cMean) } / n
        }
    }
}

private func report(_ detectors: [[(neuron: Int, rho: Double)]], widths: [Int]) -> DetectorReport {
    DetectorReport(
        layers: detectors.enumerated().map { l, list in
            DetectorReport.Layer(layer: l, width: widths[l], detectors: list.map {
                DetectorReport.Detector(neuron: $0.neuron, covariance: 0, rho: $0.rho, t: -5, n: 100, pValue: 1e-6)
            })
        },
        target: .correctness, criteria: ErrorDetectors(), testedNeurons: widths.reduce(0, +))
}

@Suite("Covariance cost")
struct CovarianceCostTests {
    /// The hidden-activation gradient is `-λ w_j (c_i - c̄)/n` for detectors with negative
    /// batch covariance, zero elsewhere, and matches finite differences of the cost.
    @Test func hiddenGradientMatchesFiniteDifferences() {
        var generator = SeededGenerator(seed: 4)
        let a = Matrix.uniform(rows: 10, columns: 4, low: -1, high: 1, using: &generator)
        let correct = [true, false, true, true, false, false, true, true, false, true]
        let covs = batchCovariances([a], correct: correct)[0]
        let negative = covs.indices.filter { covs[$0] < -1e-3 }
        let positive = covs.indices.filter { covs[$0] > 1e-3 }
        #expect(!negative.isEmpty && !positive.isEmpty)
        let detectors = report([(negative + positive).map { ($0, -0.4) }], widths: [4])
        let cost = CovarianceCost(strength: 3)
        let evaluation = cost.evaluate(hidden: [a], correct: correct, detectors: detectors)
        #expect(isClose(evaluation.cost, 3 * 0.4 * negative.reduce(0) { $0 - covs[$1] }, tolerance: 1e-6))
        #expect(zip(evaluation.batchCovariances[0]!, negative + positive).allSatisfy { isClose($0, covs[$1], tolerance: 1e-6) })
        let g = evaluation.hiddenGradients[0]!
        let numerical = numericalGradient(of: a, step: 1e-3) { perturbed in
            cost.evaluate(hidden: [perturbed], correct: correct, detectors: detectors).cost
        }
        #expect(gradientError(analytic: g, numerical: numerical) < 1e-3)
        for j in positive { #expect((0..<10).allSatisfy { g[$0, j] == 0 }) }
        for j in negative { #expect((0..<10).contains { g[$0, j] != 0 }) }
    }

    /// Finite-difference check of `CE + cost` through the whole network: the covariance
    /// cost's gradient at hidden activations reaches every layer below the detectors.
    @Test func gradientThroughTheNetworkMatchesFiniteDifferences() throws {
        var generator = SeededGenerator(seed: 12)
        let model = MixtureOfExperts(sizes: [3, 6, 5, 3], activation: .tanh, generator: &generator)
        let input = Matrix.uniform(rows: 16, columns: 3, low: -1.5, high: 1.5, using: &generator)
        let labels = (0..<16).map { _ in generator.nextInt(below: 3) }
        let pass = model.forward(input)
        let correct = CovarianceTracker.correctness(logits: pass.logits, labels: labels)
        let errors = correct.filter { !$0 }.count
        #expect(errors > 2 && errors < 14, "the batch needs both correct and wrong samples")

        // Up to two detectors with clearly negative batch covariance per layer, one positive in layer 1.
        let covs = batchCovariances(pass.hidden, correct: correct)
        func mostNegative(_ l: Int) -> [Int] {
            Array(covs[l].indices.sorted { covs[l][$0] < covs[l][$1] }.prefix(2).filter { covs[l][$0] < -1e-3 })
        }
        let positive = covs[1].indices.max { covs[1][$0] < covs[1][$1] }!
        #expect(!mostNegative(0).isEmpty && !mostNegative(1).isEmpty)
        #expect(covs[1][positive] > 1e-3)
        let detectors = report([mostNegative(0).map { ($0, -0.5) }, mostNegative(1).map { ($0, -0.3) } + [(positive, -0.2)]],
                               widths: [6, 5])
        let strength: Float = 20
        let result = CovarianceCost(strength: strength).lossAndGradients(model, input: input, labels: labels, detectors: detectors)
        #expect(result.correct == correct)
        #expect(result.covarianceCost > 0.01)
        let reference = referenceLoss(model, input: input, labels: labels, correct: correct, detectors: detectors, strength: Double(strength))
        #expect(isClose(result.loss, reference, tolerance: 1e-5))

        let plain = model.lossAndGradients(input, labels: labels).gradients
        for path in model.parameterPaths {
            let parameter = model.parameters[path]!
            let numerical = numericalGradient(of: parameter, step: 1e-3) { perturbed in
                var m = model
                m.updateParameters { p, value in if p == path { value = perturbed } }
                return referenceLoss(m, input: input, labels: labels, correct: correct, detectors: detectors, strength: Double(strength))
            }
            let analytic = try #require(result.gradients[path])
            #expect(gradientError(analytic: analytic, numerical: numerical) < 2e-3, "gradient of \(path)")
            // The cost changes the gradient of every layer at or below the detectors.
            if path.hasPrefix("trunk.0.") || path.hasPrefix("trunk.2.") {
                #expect(maxRelativeDifference(analytic, plain[path]!) > 1e-3, "the cost must reach \(path)")
            }
        }
    }

    @Test func noDetectorsNoCost() {
        var generator = SeededGenerator(seed: 1)
        let model = MixtureOfExperts(sizes: [2, 4, 2], generator: &generator)
        let input = Matrix.uniform(rows: 8, columns: 2, low: -1, high: 1, using: &generator)
        let labels = [0, 1, 0, 1, 1, 0, 0, 1]
        let detectors = report([[]], widths: [4])
        let result = CovarianceCost(strength: 5).lossAndGradients(model, input: input, labels: labels, detectors: detectors)
        let plain = model.lossAndGradients(input, labels: labels)
        #expect(result.covarianceCost == 0)
        #expect(Float(result.loss) == plain.loss)
        for path in model.parameterPaths { #expect(result.gradients[path] == plain.gradients[path]) }
    }
}
