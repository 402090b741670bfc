import Testing
import MoE
import TestSupport

/// Routing drift, measured: train on classes {0, 1}, grow an expert on {2, 3}, train it on
/// the new classes only, and compare accuracy on the old classes' test data before and
/// after, for three gates.
@Suite("Mixture of experts: routing drift")
struct MixtureOfExpertsDriftTests {
    struct Outcome: CustomStringConvertible {
        var oldBefore: Double
        var oldAfter: Double
        var newAfter: Double
        var oldRouting: Double?
        var description: String {
            let routing = oldRouting.map { String(($0 * 1000).rounded() / 1000) } ?? "-"
            return "old before \(oldBefore), old after \(oldAfter), new after \(newAfter), old rows routed to the trunk \(routing)"
        }
    }

    let oldTrain = Fixtures.blobs(classes: [0, 1], perClass: 150, spread: 2, seed: 1)
    let oldTest = Fixtures.blobs(classes: [0, 1], perClass: 100, spread: 2, seed: 2)
    let newTrain = Fixtures.blobs(classes: [2, 3], perClass: 150, spread: 2, seed: 3)
    let newTest = Fixtures.blobs(classes: [2, 3], perClass: 100, spread: 2, seed: 4)

    /// Minibatch Adam steps over `(x, labels)`, optionally mixing in replay rows.
    func train(_ model: inout MixtureOfExperts, _ data: (x: Matrix, labels: [Int]), steps: Int,
               replay: (x: Matrix, labels: [Int])? = nil, seed: UInt64) {
        var adam = Adam(learningRate: 0.01)
        var g = SeededGenerator(seed: seed)
        var noise = SeededGenerator(seed: seed + 1)
        for _ in 0..<steps {
            let rows = (0..<32).map { _ in g.nextInt(below: data.x.rows) }
            var x = data.x.gatherRows(rows)
            var labels = rows.map { data.labels[$0] }
            if let replay {
                let old = (0..<16).map { _ in g.nextInt(below: replay.x.rows) }
                x = x.concatenatingRows(replay.x.gatherRows(old))
                labels += old.map { replay.labels[$0] }
            }
            model.trainingStep(x, labels: labels, optimizer: &adam, noise: &noise)
        }
    }

    func scenario(_ gate: Gate.Configuration, replay: Bool) throws -> Outcome {
        var g = SeededGenerator(seed: 10)
        var model = MixtureOfExperts(sizes: [16, 32, 16, 2], generator: &g)
        train(&model, oldTrain, steps: 150, seed: 11)
        let oldBefore = model.evaluate(oldTest.x, labels: oldTest.labels).accuracy
        model.widenOutput(to: 4)
        model.configureGate(gate)
        model.grow(at: 1, detectors: [0, 1, 2, 3], hiddenWidth: 16, classes: [2, 3], generator: &g)
        if model.gate.featureCount > 0 {
            // The streaming discriminant's statistics cover every sample seen, old and new.
            var discriminant = LinearDiscriminant(
                features: RandomFeatures(weight: model.gate.featureWeight, bias: model.gate.featureBias))
            discriminant.observe(model.gateInput(oldTrain.x), labels: oldTrain.labels)
            discriminant.observe(model.gateInput(newTrain.x), labels: newTrain.labels)
            try discriminant.refit(classCount: 4)
            model.setClassHead(weight: discriminant.weight, bias: discriminant.bias)
        }
        let buffer = (oldTrain.x.rows(0..<40), Array(oldTrain.labels[0..<40]))
        train(&model, newTrain, steps: 150, replay: replay ? buffer : nil, seed: 12)
        let old = model.evaluate(oldTest.x, labels: oldTest.labels)
        let new = model.evaluate(newTest.x, labels: newTest.labels)
        return Outcome(oldBefore: oldBefore, oldAfter: old.accuracy, newAfter: new.accuracy,
                       oldRouting: old.routedFractions.first)
    }

    @Test("class-posterior gate from statistics of every sample: old classes keep their accuracy")
    func classPosterior() throws {
        let outcome = try scenario(.classPosterior(features: .init(count: 256, seed: 5)), replay: false)
        print("routing drift, class-posterior gate: \(outcome)")
        #expect(outcome.oldBefore > 0.95)
        #expect(outcome.oldAfter >= outcome.oldBefore - 0.02)
        #expect(outcome.newAfter > 0.9)
        #expect(try #require(outcome.oldRouting) > 0.95)
    }

    @Test("learned gates: new data only drifts; routing supervision with a small replay holds")
    func learned() throws {
        let drifting = try scenario(.learned(selection: .topK(1), noisy: true, loadBalancing: 0.01), replay: false)
        let supervised = try scenario(.learned(selection: .topK(1), routingSupervision: 1), replay: true)
        print("routing drift, learned noisy top-1 gate, new data only: \(drifting)")
        print("routing drift, learned top-1 gate, routing supervision + 40-sample replay: \(supervised)")
        // Both start from the same trained trunk.
        #expect(drifting.oldBefore > 0.95 && supervised.oldBefore == drifting.oldBefore)
        // Trained on new data only, the gate sends old inputs to the new expert: they are lost.
        #expect(drifting.oldAfter < drifting.oldBefore - 0.3, "no drift to measure: \(drifting)")
        #expect(try #require(drifting.oldRouting) < 0.7)
        // Routing supervision with a small replay keeps them with the trunk.
        #expect(supervised.oldAfter >= supervised.oldBefore - 0.05, "\(supervised)")
        #expect(try #require(supervised.oldRouting) > 0.9)
        #expect(supervised.newAfter > 0.9)
    }
}
