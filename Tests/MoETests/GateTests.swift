import Foundation
import Testing
import MoE
import TestSupport

@Suite("Gate")
struct GateTests {
    let x = randomMatrix(9, 4, seed: 11, scale: 1.5)

    @Test("top-k picks the best scores, ties to the lower slot, and groups rows per slot")
    func topK() {
        let scores = Matrix([[0.1, 0.5, 0.3], [2, 2, 1], [-1, -3, -2]])
        #expect(Routing.topK(scores, k: 1) == [1, 0, 0])
        #expect(Routing.topK(scores, k: 2) == [1, 2, 0, 1, 0, 2])
        let routing = Routing(slotCount: 3, k: 2, selected: Routing.topK(scores, k: 2), weights: [0.6, 0.4, 0.5, 0.5, 0.9, 0.1])
        #expect(routing.groups[0].rows == [1, 2] && routing.groups[0].weights == [0.5, 0.9])
        #expect(routing.groups[1].rows == [0, 1] && routing.groups[2].rows == [0, 2])
        #expect(routing.denseWeights == Matrix([[0, 0.6, 0.4], [0.5, 0.5, 0], [0.9, 0, 0.1]]))
        let third: Float = 2.0 / 6.0
        #expect(routing.loadFractions == [third, third, third])
        #expect(routing.topSlots == [1, 0, 0])
    }

    func learnedModel(_ gate: Gate.Configuration) -> MixtureOfExperts {
        var model = Fixtures.model(gate: gate, experts: [
            .init(layer: 0, detectors: [1, 3]), .init(layer: 1, detectors: [0]), .init(layer: 1, detectors: [2, 3]),
        ])
        Fixtures.randomize(&model, seed: 12, scale: 1)
        return model
    }

    @Test("a gate has no parameters before the first expert; the first growth adds the trunk's slot")
    func lazySlots() {
        var g = SeededGenerator(seed: 1)
        var model = MixtureOfExperts(sizes: [4, 5, 3], generator: &g)
        #expect(model.parameterPaths.allSatisfy { $0.hasPrefix("trunk.") })
        model.grow(at: 0, detectors: [0], hiddenWidth: 2, generator: &g)
        #expect(model.parameterPaths.filter { $0.hasPrefix("gate.") } == ["gate.trunk.weight", "gate.trunk.bias", "gate.0.weight", "gate.0.bias"])
        #expect(!model.frozen.contains("gate.trunk.weight") && !model.frozen.contains("gate.0.weight"))
    }

    @Test("top-k weights: softmax over all slots (Switch) or renormalised over the routed ones (Shazeer)")
    func learnedWeights() throws {
        for renormalizes in [false, true] {
            let model = learnedModel(.learned(selection: .topK(2), renormalizes: renormalizes))
            let pass = try #require(model.forward(x).gate)
            #expect(pass.probabilities == SoftmaxCrossEntropy.softmax(pass.scores))
            let routing = pass.routing
            #expect(routing.k == 2 && routing.slotCount == 4)
            #expect(routing.selected == Routing.topK(pass.scores, k: 2))
            for r in 0..<x.rows {
                let a = routing.selected[2 * r], b = routing.selected[2 * r + 1]
                let pa = pass.probabilities[r, a], pb = pass.probabilities[r, b]
                if renormalizes {
                    #expect(isClose(Double(routing.weights[2 * r]), Double(pa / (pa + pb))))
                    #expect(isClose(Double(routing.weights[2 * r] + routing.weights[2 * r + 1]), 1))
                } else {
                    #expect(routing.weights[2 * r] == pa && routing.weights[2 * r + 1] == pb)
                }
            }
        }
    }

    @Test("noise only in training, from the seed: same seed, same routing")
    func noise() throws {
        let model = learnedModel(.learned(selection: .topK(1), noisy: true))
        let clean = try #require(model.forward(x).gate)
        #expect(clean.probabilities == SoftmaxCrossEntropy.softmax(clean.scores))
        var a = SeededGenerator(seed: 5), b = SeededGenerator(seed: 5)
        let first = try #require(model.forward(x, noise: &a).gate)
        let second = try #require(model.forward(x, noise: &b).gate)
        #expect(first.probabilities == second.probabilities && a == b)
        #expect(first.scores == clean.scores)
        #expect(first.probabilities != clean.probabilities)
        #expect(a != SeededGenerator(seed: 5), "the generator advanced")
    }

    @Test("load-balancing loss is α · S · Σ f_s · P̄_s")
    func loadBalancing() throws {
        let model = learnedModel(.learned(selection: .topK(1), loadBalancing: 0.01))
        let pass = try #require(model.forward(x).gate)
        let f = pass.routing.loadFractions
        var expected = 0.0
        for s in 0..<4 {
            var mean = 0.0
            for r in 0..<x.rows { mean += Double(pass.probabilities[r, s]) / Double(x.rows) }
            expected += Double(f[s]) * mean
        }
        #expect(isClose(Double(pass.loadBalancingLoss), 0.01 * 4 * expected, tolerance: 1e-5))
        #expect(learnedModel(.learned(selection: .topK(1))).forward(x).auxiliaryLoss == 0)
    }

    @Test("class-posterior gate: random features as RandomFeatures draws them, score = log Σ posterior of the slot's classes")
    func classPosterior() throws {
        let features = Gate.ClassPosteriorFeatures(count: 32, seed: 3, weightScale: 1.5, biasScale: 0.3)
        var model = Fixtures.model(gate: .classPosterior(features: features, k: 1), widenTo: 5, experts: [
            .init(layer: 1, detectors: [0, 1], classes: [3, 4]), .init(layer: 0, detectors: [2], classes: [2]),
        ])
        model.trunkClasses = [0, 1]
        Fixtures.randomize(&model, seed: 13)
        let reference = RandomFeatures(inputCount: 4, featureCount: 32, seed: 3, weightScale: 1.5, biasScale: 0.3)
        #expect(model.gate.featureWeight == reference.weight && model.gate.featureBias == reference.bias)
        #expect(model.gateFeatures(x) == reference(x))
        #expect(model.frozen.isSuperset(of: ["gate.features.weight", "gate.features.bias"]))
        #expect(!model.frozen.contains("gate.head.weight"))

        let pass = try #require(model.forward(x).gate)
        var z = Matrix.matmul(reference(x), model.gate.headWeight)
        z.addRowVector(model.gate.headBias)
        let sets: [[Int]] = [[0, 1], [3, 4], [2]]
        for r in 0..<x.rows {
            let row = z.row(r).map(Double.init)
            let total = row.reduce(0) { $0 + exp($1) }
            var best = 0
            for s in 0..<3 {
                let mass = sets[s].reduce(0) { $0 + exp(row[$1]) } / total
                #expect(isClose(Double(pass.scores[r, s]), log(mass), tolerance: 1e-4))
                if pass.scores[r, s] > pass.scores[r, best] { best = s }
            }
            #expect(pass.routing.selected[r] == best && pass.routing.weights[r] == 1)
        }
    }

    @Test("the inputs' hinges: the leading features are max(0, x_j) and max(0, -x_j), the others drawn as before")
    func inputHinges() throws {
        let width = 3
        let configuration = { (hinges: Bool, count: Int) in
            Gate.Configuration.classPosterior(features: .init(count: count, seed: 5, inputHinges: hinges), k: 1)
        }
        let plain = Gate(configuration: configuration(false, 96), inputWidth: width, classCount: 2)
        let hinged = Gate(configuration: configuration(true, 96), inputWidth: width, classCount: 2)
        #expect(Gate.ClassPosteriorFeatures(count: 96, seed: 5, inputHinges: true).hingeCount(inputWidth: width) == 6)
        var generator = SeededGenerator(seed: 8)
        var x = Matrix(rows: 7, columns: width)
        x.apply { _ in generator.nextNormal() * 2 }
        let a = plain.features(x), b = hinged.features(x)
        for r in 0..<x.rows {
            for j in 0..<width {
                #expect(b[r, 2 * j] == max(0, x[r, j]) && b[r, 2 * j + 1] == max(0, -x[r, j]))
            }
            for f in 6..<96 { #expect(b[r, f] == a[r, f]) }
        }
        #expect((0..<x.rows).contains { r in (0..<6).contains { a[r, $0] != b[r, $0] } })
        // More than 1/16 of the features: no hinges, every feature drawn.
        let narrow = Gate(configuration: configuration(true, 80), inputWidth: width, classCount: 2)
        #expect(narrow.featureWeight == Gate(configuration: configuration(false, 80), inputWidth: width, classCount: 2).featureWeight)
        #expect(Gate.ClassPosteriorFeatures(count: 80, seed: 5, inputHinges: true).hingeCount(inputWidth: width) == 0)
        // Files written before hinges read them as off.
        let old = #"{"count":96,"seed":5,"weightScale":1,"biasScale":0.3}"#
        let decoded = try JSONDecoder().decode(Gate.ClassPosteriorFeatures.self, from: Data(old.utf8))
        #expect(decoded.inputHinges == nil && decoded.hingeCount(inputWidth: width) == 0)
        #expect(decoded == Gate.ClassPosteriorFeatures(count: 96, seed: 5))
    }

    @Test("widening the output never changes class-posterior routing")
    func wideningKeepsRouting() throws {
        var model = Fixtures.model(gate: .classPosterior(features: .init(count: 16, seed: 1), k: 2), experts: [
            .init(layer: 1, detectors: [0], classes: [2]),
        ])
        Fixtures.randomize(&model, seed: 14)
        let before = try #require(model.forward(x).gate)
        model.widenOutput(to: 6)
        let after = try #require(model.forward(x).gate)
        #expect(after.routing == before.routing)
        #expect(model.gate.headWeight.columns == 6)
    }
}
