import Continual
import Foundation
import MoE

/// The part of the loader that turns `/model@architecture` (JSON of
/// `MixtureOfExperts.Architecture`) into a working model: validation, the zero model,
/// parameter checks, prediction, a training step, and a save and reload.
///
/// The input is the JSON text. It is stored in an in-memory checkpoint with the trunk
/// datasets it describes and, when the architecture validates, a parameter of the right
/// shape for every path; no bytes go through libhdf5's parser unverified, so whatever
/// breaks here is this library's own validation. Reaching this code from a file takes a
/// crafted checkpoint (the digest stops accidental damage before it).
///
/// Two properties are checked beyond "no trap": a model that loads predicts the same
/// after `encoded()` and `decode`, and it trains one step.
public enum ArchitectureFuzzing: FuzzTarget {
    public static let name = "architecture"

    public static func run(_ input: [UInt8], in folder: FuzzFolder) -> FuzzOutcome {
        let architecture: MixtureOfExperts.Architecture
        do {
            architecture = try JSONDecoder().decode(MixtureOfExperts.Architecture.self, from: Data(input))
        } catch {
            return .rejected("not an architecture: \(error)")
        }
        let checkpoint = Self.checkpoint(json: String(decoding: input, as: UTF8.self), architecture: architecture)
        do throws(CheckpointError) {
            let account = try CheckpointFuzzing.exercise(checkpoint)
            try checkRoundTrip(checkpoint)
            return .accepted(account)
        } catch {
            return .rejected(error.description)
        }
    }

    /// An in-memory checkpoint holding `json` as its architecture.
    static func checkpoint(json: String, architecture: MixtureOfExperts.Architecture) -> Checkpoint {
        var trunk = CheckpointSection()
        trunk.datasets["kinds"] = .strings(architecture.trunk.map { kind in
            switch kind {
            case .dense: "dense"
            case .relu: "relu"
            case .tanh: "tanh"
            case .sigmoid: "sigmoid"
            }
        })
        trunk.datasets["sizes"] = .int64(architecture.trunk.flatMap { kind -> [Int64] in
            if case let .dense(i, o) = kind { return [Int64(i), Int64(o)] }
            return [0, 0]
        }, shape: [architecture.trunk.count, 2])
        let model = CheckpointSection(
            attributes: ["kind": .string("mixture-of-experts"), "architecture": .string(json)],
            children: ["trunk": trunk])

        // Parameters of the right shapes when the architecture is sound and small;
        // otherwise none, and the loader must refuse it.
        var parameters: [String: Checkpoint.Parameter] = [:]
        var classCount = 1
        if (try? architecture.validate(limit: 1 << 18)) != nil {
            var built = MixtureOfExperts(architecture: architecture)
            var generator = SeededGenerator(seed: 3)
            built.updateParameters { _, value in
                value = .uniform(rows: value.rows, columns: value.columns, low: -0.5, high: 0.5, using: &generator)
            }
            built.forEachParameter { path, value in
                parameters[path] = Checkpoint.Parameter(value, frozen: built.frozen.contains(path))
            }
            classCount = built.classCount
        }
        return Checkpoint(model: model, parameters: parameters,
                          classes: .integers((0..<classCount).map(Int64.init)))
    }

    /// Saves and reloads `checkpoint`; the reloaded model must predict as the original.
    static func checkRoundTrip(_ checkpoint: Checkpoint) throws(CheckpointError) {
        let model = try checkpoint.makeModel()
        // Bytes this process has just written: parsed in process.
        let reloaded = try Checkpoint.decode(try checkpoint.encoded(name: "round-trip"), name: "round-trip", parsing: .inProcess).makeModel()
        let (inputs, _) = CheckpointFuzzing.probe(for: model)
        let before = model.predict(inputs), after = reloaded.predict(inputs)
        precondition(before == after, "a saved and reloaded model predicts \(after), the original \(before)")
        precondition(reloaded.architecture == model.architecture, "the architecture changed in a save and reload")
    }

    /// The seeds' bytes, computed once (documents to splice from in mutations).
    public static let donors: [[UInt8]] = seeds().map(\.bytes)

    public static func seeds() -> [FuzzSeed] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return ArchitectureSeeds.models().map { name, model in
            guard let json = try? encoder.encode(model.architecture) else {
                preconditionFailure("the architecture of \(name) does not encode")
            }
            return FuzzSeed(name: name, bytes: Array(json))
        }
    }
}

/// Models of every shape the library grows: trunk only, widened outputs, experts at
/// several layers with each context, learned gates (top-k, noisy, on a hidden layer, on
/// detectors) and class-posterior gates.
enum ArchitectureSeeds {
    static func models() -> [(String, MixtureOfExperts)] {
        var generator = SeededGenerator(seed: 17)
        let trunk = MixtureOfExperts(sizes: [3, 4, 2], generator: &generator)

        var learned = MixtureOfExperts(sizes: [4, 5, 5, 3], activation: .sigmoid, generator: &generator)
        learned.configureGate(.learned(input: .hiddenLayer(1), selection: .topK(2), noisy: true, renormalizes: true,
                                       loadBalancing: 0.01, routingSupervision: 0.1))
        learned.grow(at: 1, detectors: [0, 3], hiddenWidth: 2, classes: [1, 2], context: .none, generator: &generator)
        learned.grow(at: 0, detectors: [4], hiddenWidth: 3, context: .layerOutput, generator: &generator)

        var detectors = MixtureOfExperts(sizes: [2, 3, 2], generator: &generator)
        detectors.configureGate(.learned(input: .expertDetectors, includesTrunk: false))
        detectors.grow(at: 0, detectors: [1, 2], hiddenWidth: 2, generator: &generator)

        return [("trunk.json", trunk), ("grown-posterior.json", grownModel()), ("learned-topk.json", learned),
                ("detector-gate.json", detectors)]
    }

    /// A grown model: widened output, a class-posterior gate and two experts at two layers.
    static func grownModel() -> MixtureOfExperts {
        var generator = SeededGenerator(seed: 41)
        var model = MixtureOfExperts(sizes: [5, 8, 6, 3], activation: .tanh, generator: &generator)
        model.widenOutput(to: 4)
        model.configureGate(.classPosterior(features: .init(count: 6, seed: 9), k: 1))
        model.grow(at: 0, detectors: [1, 4], hiddenWidth: 3, classes: [0, 1], activation: .relu, generator: &generator)
        model.grow(at: 1, detectors: [0, 2, 5], hiddenWidth: 4, classes: [2, 3], context: .layerOutput,
                   activation: .tanh, generator: &generator)
        return model
    }
}
