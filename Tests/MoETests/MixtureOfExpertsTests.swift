import Foundation
import Testing
import MoE
import TestSupport

@Suite("Mixture of experts")
struct MixtureOfExpertsTests {
    let x = randomMatrix(10, 4, seed: 21, scale: 1.5)
    let labels = [0, 1, 2, 0, 1, 2, 2, 1, 0, 0]

    @Test("zero experts compute exactly what the trunk computes, forward and backward")
    func zeroExperts() {
        for gate in [Gate.Configuration.learned(selection: .topK(1)), .classPosterior(features: .init(count: 8, seed: 1))] {
            let model = Fixtures.model(gate: gate, experts: [])
            let trace = model.trunk.forward(x)
            #expect(model(x) == trace.output)
            let (_, g) = SoftmaxCrossEntropy.lossAndGradient(logits: trace.output, labels: labels)
            var reference = Gradients()
            _ = model.trunk.backward(trace, outputGradient: g, prefix: "trunk", gradients: &reference)
            #expect(model.lossAndGradients(x, labels: labels).gradients.values == reference.values)
        }
    }

    @Test("growth only adds paths: old names and shapes stay, everything old is frozen")
    func growthPaths() {
        var g = SeededGenerator(seed: 2)
        var model = MixtureOfExperts(sizes: [4, 5, 4, 3], generator: &g)
        let before = model.parameters
        let first = model.grow(at: 1, detectors: [0, 2], hiddenWidth: 6, generator: &g)
        #expect(first == 0)
        for (path, value) in before { #expect(model.parameters[path] == value, "\(path) unchanged") }
        #expect(model.frozen == Set(before.keys))
        let added = Set(model.parameterPaths).subtracting(before.keys)
        #expect(added == ["experts.0.0.weight", "experts.0.0.bias", "experts.0.2.weight", "experts.0.2.bias",
                          "gate.trunk.weight", "gate.trunk.bias", "gate.0.weight", "gate.0.bias"])
        // Detectors plus the layer's input (hidden layer 0, width 5).
        #expect(model.parameters["experts.0.0.weight"]!.shape == [7, 6])
        let afterFirst = model.parameters
        model.widenOutput(to: 5)
        #expect(model.grow(at: 0, detectors: [1], hiddenWidth: 2, context: .none, generator: &g) == 1)
        for (path, value) in afterFirst { #expect(model.parameters[path] == value, "\(path) unchanged") }
        #expect(model.frozen.isSuperset(of: afterFirst.keys))
        #expect(model.frozen.contains("trunk.extension.0.weight"))
        #expect(model.parameters["experts.1.2.weight"]!.shape == [2, 5])
        #expect(model.parameters["experts.0.2.weight"]!.shape == [6, 3])
    }

    @Test("widening keeps the old logits bit for bit and starts the new ones at zero")
    func widen() {
        var model = Fixtures.model(experts: [.init(layer: 1, detectors: [1])])
        Fixtures.randomize(&model, seed: 3)
        let before = model(x)
        model.freezeAll()
        let frozen = model.parameters
        model.widenOutput(to: 5)
        let after = model(x)
        #expect(model.classCount == 5 && after.shape == [10, 5])
        #expect(after.gatherColumns([0, 1, 2]) == before)
        #expect(after.gatherColumns([3, 4]).scalars.allSatisfy { $0 == 0 })
        for (path, value) in frozen { #expect(model.parameters[path] == value) }
        #expect(!model.frozen.contains("trunk.extension.0.weight"))
    }

    @Test("frozen parameters stay bit-identical through many Adam steps, and growing keeps Adam's old state")
    func frozenStaysFrozen() {
        var g = SeededGenerator(seed: 4)
        var model = MixtureOfExperts(sizes: [4, 6, 5, 3], generator: &g)
        var adam = Adam(learningRate: 0.01)
        var noise = SeededGenerator(seed: 5)
        for _ in 0..<20 { model.trainingStep(x, labels: labels, optimizer: &adam, noise: &noise) }
        model.configureGate(.learned(selection: .topK(2), noisy: true, loadBalancing: 0.01, routingSupervision: 0.5))
        model.widenOutput(to: 4)
        model.grow(at: 1, detectors: [0, 3], hiddenWidth: 4, classes: [3], generator: &g)
        model.grow(at: 0, detectors: [5], hiddenWidth: 4, classes: [2, 3], context: .layerOutput, generator: &g)
        let frozen = model.parameters.filter { model.frozen.contains($0.key) }
        let trainable = model.parameters.filter { !model.frozen.contains($0.key) }
        let oldState = adam.state
        let newLabels = labels.map { $0 == 0 ? 3 : $0 }
        for _ in 0..<60 { model.trainingStep(x, labels: newLabels, optimizer: &adam, noise: &noise) }
        for (path, value) in frozen { #expect(model.parameters[path] == value, "\(path) is frozen") }
        #expect(frozen.keys.contains("experts.0.0.weight") && frozen.keys.contains("trunk.extension.0.weight"))
        for (path, value) in trainable { #expect(model.parameters[path] != value, "\(path) trained") }
        for (key, value) in oldState { #expect(adam.state[key] == value, "optimizer state \(key) kept") }
    }

    /// Cross-entropy plus the gate's auxiliary losses, computed in Double from a forward pass.
    func doubleLoss(_ m: MixtureOfExperts, _ pass: MixtureOfExperts.Forward, labels: [Int]) -> Double {
        var total = Fixtures.crossEntropy(pass.logits, labels)
        guard let gate = pass.gate, m.gate.featureCount == 0 else { return total }
        let p = gate.probabilities, n = Double(p.rows), s = p.columns
        let f = gate.routing.loadFractions
        if pass.auxiliaryLoss > 0 {
            var sum = 0.0
            for slot in 0..<s { for r in 0..<p.rows { sum += Double(f[slot]) * Double(p[r, slot]) / n } }
            total += Double(m.gate.configuration.loadBalancing) * Double(s) * sum
        }
        let targets = m.routingTargets(labels)
        let owned = targets.compactMap { $0 }.count
        if m.gate.configuration.routingSupervision > 0, owned > 0 {
            var sum = 0.0
            for (r, t) in targets.enumerated() { if let t { sum -= log(Double(p[r, t])) } }
            total += Double(m.gate.configuration.routingSupervision) * sum / Double(owned)
        }
        return total
    }

    /// Checks every trainable parameter's gradient against finite differences (Float32
    /// forward passes limit the numerical gradient to ~1e-4 absolute, hence the floor).
    func checkGradients(_ model: MixtureOfExperts, labels: [Int], noiseSeed: UInt64? = nil, atLeast: Int) {
        func pass(_ m: MixtureOfExperts) -> MixtureOfExperts.Forward {
            var noise = SeededGenerator(seed: noiseSeed ?? 1)
            return noiseSeed == nil ? m.forward(x) : m.forward(x, noise: &noise)
        }
        let forward = pass(model)
        let (loss, dz) = SoftmaxCrossEntropy.lossAndGradient(logits: forward.logits, labels: labels)
        let analytic = model.backward(forward, logitGradient: dz, labels: labels)
        var noise = SeededGenerator(seed: noiseSeed ?? 1)
        let reported = noiseSeed == nil ? model.lossAndGradients(x, labels: labels).loss
            : model.lossAndGradients(x, labels: labels, noise: &noise).loss
        #expect(isClose(Double(reported), doubleLoss(model, forward, labels: labels), tolerance: 1e-5))
        #expect(loss <= reported)
        var checked = 0, skipped = 0, total = 0
        model.forEachParameter { path, value in
            guard !model.frozen.contains(path), !path.hasPrefix("gate.head") else {
                #expect(analytic[path] == nil, "no gradient for \(path)")
                return
            }
            guard let a = analytic[path] else {
                Issue.record("missing gradient for \(path)")
                return
            }
            // Central differences, except where the step changes the routing (top-k is
            // piecewise constant: a difference across a switch measures the jump).
            var kept = Matrix(rows: 1, columns: 0), numerical: [Double] = []
            for i in 0..<value.count {
                var results: [(loss: Double, selected: [Int]?)] = []
                var h = 0.0
                for sign in [1.0, -1.0] {
                    var copy = model
                    copy.updateParameters { p, v in
                        if p == path {
                            v.scalars[i] = Float(Double(v.scalars[i]) + sign * 4e-3)
                            h += sign * (Double(v.scalars[i]) - Double(value.scalars[i]))
                        }
                    }
                    let f = pass(copy)
                    results.append((doubleLoss(copy, f, labels: labels), f.gate?.routing.selected))
                }
                total += 1
                guard results.allSatisfy({ $0.selected == forward.gate?.routing.selected }) else {
                    skipped += 1
                    continue
                }
                kept = kept.concatenatingColumns(Matrix(rows: 1, columns: 1, scalars: [a.scalars[i]]))
                numerical.append((results[0].loss - results[1].loss) / h)
            }
            #expect(gradientError(analytic: kept, numerical: numerical, floor: 1e-2) < 2e-2, "gradient of \(path)")
            checked += 1
        }
        #expect(checked >= atLeast)
        #expect(skipped * 10 <= total, "\(skipped) of \(total) differences crossed a routing switch")
    }

    @Test("gradients: softmax gate on a hidden layer, three contexts, widened output, trainable trunk")
    func gradientsSoftmaxGate() {
        var model = Fixtures.model(gate: .learned(input: .hiddenLayer(0)), widenTo: 4, experts: [
            .init(layer: 0, detectors: [1, 4], context: .layerInput),
            .init(layer: 1, detectors: [2], context: .layerOutput),
            .init(layer: 1, detectors: [0, 3], context: .none),
        ])
        Fixtures.randomize(&model, seed: 31)
        model.frozen = []
        checkGradients(model, labels: labels.map { $0 == 0 ? 3 : $0 }, atLeast: 19)
    }

    @Test("gradients: noisy top-2 gate on the experts' detectors, renormalised, with load balancing and routing supervision")
    func gradientsNoisyTopK() {
        var model = Fixtures.model(
            gate: .learned(input: .expertDetectors, selection: .topK(2), noisy: true, renormalizes: true,
                           loadBalancing: 0.05, routingSupervision: 0.3),
            experts: [
                .init(layer: 1, detectors: [0, 1], classes: [1]),
                .init(layer: 0, detectors: [2, 3, 4], classes: [2]),
                .init(layer: 1, detectors: [3], classes: [2]),
            ])
        Fixtures.randomize(&model, seed: 36)
        model.trunkClasses = [0]
        model.frozen = []
        checkGradients(model, labels: labels, noiseSeed: 8, atLeast: 22)
    }

    @Test("gradients: Switch-style top-1 on the network input, only the newest expert trainable")
    func gradientsTopOne() {
        var model = Fixtures.model(gate: .learned(selection: .topK(1), loadBalancing: 0.02), experts: [
            .init(layer: 0, detectors: [0, 1]), .init(layer: 1, detectors: [2]),
        ])
        Fixtures.randomize(&model, seed: 33)
        checkGradients(model, labels: labels, atLeast: 6)
    }

    @Test("gradients: class-posterior top-2 gate (its weights are constants), trainable trunk")
    func gradientsClassPosterior() {
        var model = Fixtures.model(
            gate: .classPosterior(features: .init(count: 12, seed: 2), k: 2), widenTo: 4,
            experts: [.init(layer: 1, detectors: [0, 2], classes: [2, 3]), .init(layer: 0, detectors: [1], classes: [1])])
        Fixtures.randomize(&model, seed: 34)
        model.frozen = model.frozen.filter { $0.hasPrefix("gate.features") }
        checkGradients(model, labels: labels.map { $0 == 0 ? 3 : $0 }, atLeast: 16)
    }

    @Test("routing by groups equals the dense computation: every expert on every row, masked by the gate", arguments: [1, 2, 3])
    func groupedEqualsDense(k: Int) throws {
        var model = Fixtures.model(gate: .learned(selection: .topK(k), includesTrunk: k != 3), widenTo: 4, experts: [
            .init(layer: 0, detectors: [1]), .init(layer: 1, detectors: [0, 2], context: .layerOutput),
            .init(layer: 1, detectors: [3], context: .none),
        ])
        Fixtures.randomize(&model, seed: 40 + UInt64(k))
        let pass = model.forward(x)
        let gate = try #require(pass.gate)
        let dense = gate.routing.denseWeights
        var expected = pass.trunkLogits
        for (e, expert) in model.experts.enumerated() {
            var out = expert(hidden: pass.hidden, networkInput: x)
            out.scaleRows(by: (0..<x.rows).map { dense[$0, model.gate.slot(ofExpert: e)] })
            expected.add(out.concatenatingColumns(Matrix(rows: x.rows, columns: 4 - out.columns)))
        }
        #expect(maxRelativeDifference(pass.logits, expected) < 1e-6)
        // Only routed experts are evaluated, each once, on just its rows.
        let expertSlots = model.gate.firstExpertSlot..<model.gate.slotCount
        let routedEntries = (0..<x.rows).reduce(0) { n, r in n + expertSlots.filter { dense[r, $0] != 0 }.count }
        #expect(pass.experts.reduce(0) { $0 + $1.rows.count } == routedEntries)
        #expect(pass.experts.allSatisfy { p in p.rows.allSatisfy { dense[$0, model.gate.slot(ofExpert: p.expert)] != 0 } })
    }

    @Test("architecture round-trips through JSON and rebuilds a model that computes the same logits")
    func architectureRoundTrip() throws {
        for gate in [Gate.Configuration.learned(input: .expertDetectors, selection: .topK(2), noisy: true),
                     .classPosterior(features: .init(count: 20, seed: 9), input: .hiddenLayer(0), k: 1)] {
            var model = Fixtures.model(gate: gate, widenTo: 5, experts: [
                .init(layer: 1, detectors: [3, 1], classes: [3, 4]), .init(layer: 0, detectors: [0], context: .none, classes: [2]),
            ])
            model.trunkClasses = [0, 1, 2]
            Fixtures.randomize(&model, seed: 50)
            model.widenOutput(to: 6)
            let json = try JSONEncoder().encode(model.architecture)
            let architecture = try JSONDecoder().decode(MixtureOfExperts.Architecture.self, from: json)
            #expect(architecture == model.architecture)
            var rebuilt = MixtureOfExperts(architecture: architecture)
            #expect(rebuilt.parameterPaths == model.parameterPaths)
            #expect(rebuilt.frozen == model.frozen && rebuilt.trunkClasses == model.trunkClasses)
            #expect(rebuilt.parameters.values.allSatisfy { $0.scalars.allSatisfy { $0 == 0 || $0 == Gate.unseenClassBias } })
            let saved = model.parameters
            rebuilt.updateParameters { path, value in
                #expect(saved[path]!.shape == value.shape, "shape of \(path)")
                value = saved[path]!
            }
            #expect(rebuilt(x) == model(x))
            #expect(rebuilt.predict(x) == model.predict(x))
        }
    }

    @Test("a stored architecture is validated before it is built, with a sentence naming the fault")
    func validation() throws {
        for gate in [Gate.Configuration.learned(input: .expertDetectors, noisy: true), .learned(input: .hiddenLayer(1), noisy: true),
                     .classPosterior(features: .init(count: 20, seed: 9), input: .hiddenLayer(0))] {
            let model = Fixtures.model(gate: gate, widenTo: 5, experts: [
                .init(layer: 1, detectors: [3, 1], classes: [3, 4]), .init(layer: 0, detectors: [0], context: .layerOutput, classes: [2]),
            ])
            #expect(try model.architecture.validate() == model.parameterCount)
        }
        let good = Fixtures.model(widenTo: 5, experts: [.init(layer: 1, detectors: [3, 1])]).architecture
        var bad = good
        bad.experts[0].detectors = [3, 4]
        #expect(throws: ExpertError.invalidExpert(index: 0, reason: "its detectors must be distinct indices in 0..<4")) { try bad.validate() }
        bad = good
        bad.experts[0].layer = 2
        #expect((try? bad.validate()) == nil)
        bad = good
        bad.gate.input = .hiddenLayer(7)
        #expect(throws: ExpertError.invalidGate(reason: "it reads hidden layer 7, the trunk has 2")) { try bad.validate() }
        bad = good
        bad.headExtensions = [0]
        #expect(throws: ExpertError.invalidExtension(index: 0, width: 0)) { try bad.validate() }
        bad = good
        bad.experts[0].hiddenWidth = 1 << 40
        do {
            _ = try bad.validate(limit: 1 << 20)
            Issue.record("a huge expert was accepted")
        } catch {
            #expect(error.description.hasPrefix("The architecture needs"))
        }
        let shown = Fixtures.model(gate: .classPosterior(features: .init(count: 8, seed: 3)), experts: [
            .init(layer: 1, detectors: [3, 1], classes: [2]),
        ]).architecture.description
        #expect(shown.contains("expert 0: hidden layer 1, detectors [3, 1], context layerInput, 7->3->3 tanh, classes [2]"))
        #expect(shown.contains("gate: class-posterior (8 random features, seed 3), top-1, reads the network input, trunk is slot 0"))
        #expect(ExpertError.invalidGate(reason: "it reads hidden layer 7, the trunk has 2").description
                == "The gate cannot be built: it reads hidden layer 7, the trunk has 2.")
    }
}
