import Foundation
import MoE
import SpiralsDemo
import Testing
import TestSupport

@Suite("Two spirals")
struct SpiralsTests {
    @Test func pointsFollowLangAndWitbrock() {
        let (x, labels) = TwoSpirals.points()
        #expect(x.shape == [194, 2] && labels.count == 194)
        #expect(labels.filter { $0 == 0 }.count == 97)
        // i = 0: angle 0, radius 6.5; i = 96: angle 6π, radius 0.5.
        #expect(x.row(0) == [0, 6.5] && x.row(1) == [-0, -6.5] && labels[0] == 0 && labels[1] == 1)
        #expect(abs(x[192, 0]) < 1e-5 && abs(x[192, 1] - 0.5) < 1e-6)
        // i = 8: angle π/2, radius 6.5 · 96/104.
        #expect(abs(x[16, 0] - 6) < 1e-5 && abs(x[16, 1]) < 1e-5)
        for i in 0..<97 { #expect(x[2 * i + 1, 0] == -x[2 * i, 0] && x[2 * i + 1, 1] == -x[2 * i, 1]) }
    }

    /// The cascade's backward pass, with extra gradients at its blocks, against finite differences.
    @Test func cascadeGradientMatchesFiniteDifferences() throws {
        var generator = SeededGenerator(seed: 6)
        var network = CascadeNetwork(inputs: 2, width: 3, classes: 3, generator: &generator)
        network.appendBlock(weight: .uniform(rows: 5, columns: 2, low: -1, high: 1, using: &generator),
                            bias: .uniform(rows: 1, columns: 2, low: -1, high: 1, using: &generator))
        network.updateParameters { path, value in
            if path == "output.weight" { value = .uniform(rows: value.rows, columns: value.columns, low: -1, high: 1, using: &generator) }
        }
        let input = Matrix.uniform(rows: 7, columns: 2, low: -1, high: 1, using: &generator)
        let labels = [0, 1, 2, 0, 1, 2, 1]
        let extra = [0: Matrix.uniform(rows: 7, columns: 3, low: -1, high: 1, using: &generator),
                     1: Matrix.uniform(rows: 7, columns: 2, low: -1, high: 1, using: &generator)]
        func loss(_ n: CascadeNetwork) -> Double {
            let pass = n.forward(input)
            var total = SoftmaxCrossEntropy.losses(logits: pass.logits, labels: labels).reduce(0.0) { $0 + Double($1) } / 7
            for (b, g) in extra { for i in 0..<g.count { total += Double(g.scalars[i]) * Double(pass.hidden[b].scalars[i]) } }
            return total
        }
        let pass = network.forward(input)
        let (_, logitGradient) = SoftmaxCrossEntropy.lossAndGradient(logits: pass.logits, labels: labels)
        let gradients = network.backward(pass, logitGradient: logitGradient, hiddenGradients: extra)
        #expect(network.parameterPaths == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias", "output.weight", "output.bias"])
        for path in network.parameterPaths {
            let numerical = numericalGradient(of: network.parameters[path]!, step: 1e-2) { perturbed in
                var n = network
                n.updateParameters { p, value in if p == path { value = perturbed } }
                return loss(n)
            }
            #expect(gradientError(analytic: try #require(gradients[path]), numerical: numerical) < 1e-2, "gradient of \(path)")
        }
        // Frozen blocks get no gradient; growth leaves the outputs unchanged.
        var frozen = network
        frozen.freezeBlocks()
        #expect(frozen.backward(pass, logitGradient: logitGradient).values.keys.sorted() == ["output.bias", "output.weight"])
        frozen.appendBlock(weight: Matrix(rows: 7, columns: 1, repeating: 0.3), bias: Matrix(rows: 1, columns: 1))
        #expect(frozen.forward(input).logits == pass.logits)
    }

    /// The demonstration reaches 100% training accuracy, errors never rise from phase
    /// to phase, and the report and picture are complete.
    @Test func demonstrationReachesFullAccuracy() throws {
        let outcome = SpiralsRun().run()
        let result = outcome.result
        #expect(result.trainAccuracy == 1)
        #expect(result.hiddenUnitsAdded >= 1 && result.hiddenUnitsAdded <= 30)
        #expect(result.hiddenUnits == 8 + result.hiddenUnitsAdded && outcome.network.hiddenUnitCount == result.hiddenUnits)
        #expect(result.epochs == result.candidateEpochs + result.phases.reduce(0) { $0 + $1.epochs })
        #expect(result.phases.first?.errorsBefore == 97, "a zero output layer predicts class 0 everywhere")
        for (k, phase) in result.phases.enumerated() {
            #expect(phase.errorsAfter <= phase.errorsBefore)
            if k > 0 { #expect(phase.errorsBefore == result.phases[k - 1].errorsAfter, "growth must not change the predictions") }
        }
        #expect(result.phases.last?.errorsAfter == 0)

        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(result)) as? [String: Any]
        #expect(json?["train_accuracy"] as? Double == 1)
        #expect(json?["hidden_units_added"] as? Int == result.hiddenUnitsAdded)
        #expect(json?["epochs"] as? Int == result.epochs)
        #expect(result.summary.contains("Cascade-Corr.") && result.summary.contains("100.0%"))

        let svg = outcome.svg(cells: 40, size: 200)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<circle").count - 1 == 194)
        #expect(svg.contains("fill=\"#fdd0a2\"") && svg.contains("fill=\"#c6dbef\""))
    }
}
