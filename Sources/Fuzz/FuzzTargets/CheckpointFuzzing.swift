import Continual
#if canImport(Glibc)
import Glibc
#endif
import MoE

/// The checkpoint loader as users meet it: `Checkpoint.decode` (header, length and
/// whole-file XXH64 before libhdf5, then the HDF5 structure parsed by libhdf5 in the
/// reader process, whose snapshot comes back through the wire decoder) and everything a
/// loaded checkpoint is used for (`summary`, `makeModel()`, `makeOptimizer(for:)`,
/// generators, a prediction and a training step).
///
/// The input is the checkpoint file. Mutated files are refused by the digest exactly as
/// damaged files on disk are; `RehashedCheckpointFuzzing` goes past it.
///
/// `MOE_FUZZ_PARSING=in-process` parses in this process instead (how the crafted
/// fixtures are shown to crash libhdf5); `MOE_FUZZ_READER_TIMEOUT=<seconds>` sets the
/// reader's wall-clock limit (default 2; a hang costs that much).
public enum CheckpointFuzzing: FuzzTarget {
    public static let name = "checkpoint"

    public static func run(_ input: [UInt8], in folder: FuzzFolder) -> FuzzOutcome {
        do throws(CheckpointError) {
            let checkpoint = try Checkpoint.decode(input, name: "fuzz.ckpt", parsing: parsing)
            return .accepted(try exercise(checkpoint))
        } catch {
            return .rejected(error.description)
        }
    }

    /// Where libhdf5 parses, from the environment.
    static let parsing: CheckpointParsing = {
        if getenv("MOE_FUZZ_PARSING").map({ String(cString: $0) }) == "in-process" { return .inProcess }
        let timeout = getenv("MOE_FUZZ_READER_TIMEOUT").flatMap { Double(String(cString: $0)) } ?? 2
        return .isolated(CheckpointReaderLimits(timeoutSeconds: timeout, cpuSeconds: max(1, Int(timeout.rounded(.up))),
                                                memoryBytes: 512 << 20))
    }()

    /// Uses a loaded checkpoint the way `moe inspect`, `moe eval` and `moe train --resume`
    /// do; returns a one-line account.
    static func exercise(_ checkpoint: Checkpoint) throws(CheckpointError) -> String {
        _ = checkpoint.summary.description
        var model = try checkpoint.makeModel()
        for name in (checkpoint.training?.generators.keys).map(Array.init) ?? [] {
            _ = try checkpoint.generator(name)
        }
        var optimizer: (any Optimizer)? = nil
        if checkpoint.optimizer != nil { optimizer = try checkpoint.makeOptimizer(for: model) }
        let (inputs, labels) = probe(for: model)
        let predictions = model.predict(inputs)
        precondition(predictions.count == inputs.rows && predictions.allSatisfy { (0..<model.classCount).contains($0) },
                     "a loaded model predicted \(predictions) for \(inputs.rows) rows of \(model.classCount) classes")
        if var optimizer {
            let (_, gradients, _) = model.lossAndGradients(inputs, labels: labels)
            optimizer.update(&model, gradients: gradients, frozen: model.frozen)
        }
        return "\(model.inputWidth) inputs, \(model.classCount) classes, \(model.experts.count) experts, "
            + "\(model.parameterCount) parameters" + (optimizer.map { ", optimizer \(type(of: $0))" } ?? "")
    }

    /// Two deterministic rows for `model` and labels for them.
    static func probe(for model: MixtureOfExperts) -> (Matrix, [Int]) {
        let rows = 2, width = model.inputWidth
        let scalars = (0..<(rows * width)).map { Float(($0 * 7919) % 17) / 8 - 1 }
        return (Matrix(rows: rows, columns: width, scalars: scalars), (0..<rows).map { $0 % model.classCount })
    }

    public static func seeds() -> [FuzzSeed] {
        CheckpointSeeds.checkpoints().map { name, seed in
            // A fixed time: the same seeds byte for byte in every run.
            var checkpoint = seed
            checkpoint.metadata.created = "2025-01-01T00:00:00.000Z"
            do {
                return FuzzSeed(name: name, bytes: try checkpoint.encoded(name: name))
            } catch {
                preconditionFailure("the seed checkpoint \(name) does not encode: \(error)")
            }
        }
    }
}

/// The checkpoint loader *past* the digest: the input's header is rewritten with the
/// right length and digests before it is decoded, so every mutation reaches libhdf5 and
/// the reader behind it. This is the crafted-file case: libhdf5 1.10.8 itself is known
/// to crash on such files (docs/checkpoint-format.md), so run it in a forked fuzzer and
/// look at where each crash is.
public enum RehashedCheckpointFuzzing: FuzzTarget {
    public static let name = "checkpoint-rehashed"

    public static func run(_ input: [UInt8], in folder: FuzzFolder) -> FuzzOutcome {
        CheckpointFuzzing.run(rehashed(input), in: folder)
    }

    public static func seeds() -> [FuzzSeed] { CheckpointFuzzing.seeds() }

    /// `bytes` with the payload length and both digests of the header made to match
    /// (unchanged when shorter than the header or without the magic).
    public static func rehashed(_ bytes: [UInt8]) -> [UInt8] {
        let size = 512
        guard bytes.count >= size, bytes.starts(with: Array("MOE-CKPT".utf8)) else { return bytes }
        var fixed = bytes
        func put(_ value: UInt64, at offset: Int) {
            for i in 0..<8 { fixed[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        }
        put(UInt64(bytes.count - size), at: 16)
        put(XXHash64.hash(fixed, range: size..<fixed.count), at: 32)
        put(XXHash64.hash(fixed, range: 0..<504), at: 504)
        return fixed
    }
}

/// Small checkpoints of every kind the library writes.
enum CheckpointSeeds {
    static func checkpoints() -> [(String, Checkpoint)] {
        var generator = SeededGenerator(seed: 5)
        var plain = MixtureOfExperts(sizes: [3, 4, 2], generator: &generator)
        plain.frozen = ["trunk.0.bias"]
        var adam = Adam(learningRate: 0.01)
        let (inputs, labels) = CheckpointFuzzing.probe(for: plain)
        let (_, gradients, _) = plain.lossAndGradients(inputs, labels: labels)
        adam.update(&plain, gradients: gradients, frozen: plain.frozen)

        var section = CheckpointSection(
            attributes: ["count": .int(3), "rate": .double(0.5), "note": .string("seed"),
                         "windows": .integers([1, 2]), "thresholds": .doubles([-0.1])],
            datasets: ["mean": .doubles([0.5, -1]), "counts": .integers([7]), "seeds": .unsigned([1, 2]),
                       "buffer": .float32(Matrix([[1, 2]])), "labels": .strings(["a"])])
        section.children["empty"] = CheckpointSection()
        let training = Checkpoint.TrainingState(learningRate: 0.01, counters: ["step": 1],
                                                generators: ["data": generator.state])
        let full = Checkpoint(model: plain, optimizer: adam, training: training,
                              classes: .strings(["cat", "dog"]), sections: ["controller": section],
                              description: "fuzz seed")

        return [
            ("trunk.ckpt", Checkpoint(model: plain, description: "fuzz seed")),
            ("trunk-adam-sections.ckpt", full),
            ("grown-sgd.ckpt", Checkpoint(model: ArchitectureSeeds.grownModel(), optimizer: SGD(learningRate: 0.1))),
        ]
    }
}

extension CheckpointFuzzing {
    /// The checkpoint target the environment asks for: `RehashedCheckpointFuzzing` when
    /// `MOE_FUZZ_REHASH=1`, else this one.
    public static var selected: any FuzzTarget.Type {
        getenv("MOE_FUZZ_REHASH").map { String(cString: $0) == "1" } == true ? RehashedCheckpointFuzzing.self : CheckpointFuzzing.self
    }
}
