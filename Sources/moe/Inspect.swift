import ArgumentParser
import Continual
import Foundation
import MoE

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a checkpoint holds: metadata, parameters with shapes and frozen flags, the architecture and the learner's state.",
        discussion: """
            The file is verified first (length, digest, format version, every shape); a \
            damaged file is an error, never a partial listing. A bare name is looked up in \
            Checkpoints/. With --json, one object: the metadata, every parameter (path, \
            shape, frozen, and an FNV-1a digest of its float32 bytes, so two checkpoints can \
            be compared for bit-identical weights), the counts and the sections.
            """)

    @Argument(help: "The checkpoint file (a bare name means Checkpoints/NAME.h5).")
    var checkpoint: String

    @Flag(help: "Print one JSON object on stdout instead of the readable summary.")
    var json = false

    @OptionGroup var keys: CheckpointKeyOptions

    func run() throws {
        let loaded = try loadCheckpoint(checkpoint, keys: keys)
        let file = loaded.source ?? checkpoint
        // Rebuilding the model checks every parameter against the architecture.
        let model = try failingClearly { try loaded.makeModel() }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        let summary = loaded.summary
        let experts = model.experts.map(\.architecture)
        // A stream's checkpoint holds a learner: what it does, as eval and predict serve it.
        let outline = try loaded.sections["learner"] == nil ? nil
            : failingClearly { try Learner(checkpoint: loaded).snapshot() }.outline(classNames: summary.classes)
        if json {
            let output = Output(summary: summary, fileBytes: bytes,
                                parameterDigests: loaded.parameters.mapValues { digest($0.value) },
                                experts: experts, gate: experts.isEmpty ? nil : model.gate.configuration, learner: outline)
            try Console(json: true).emit(output)
        } else {
            print(summary.description(before: outline?.description))
            if !model.experts.isEmpty || !model.headExtensions.isEmpty {
                print("architecture:")
                for line in model.architecture.description.split(separator: "\n") { print("  " + line) }
            }
            print("file: \(bytes) bytes; model rebuilt and verified: \(model.parameterCount) parameters, \(model.inputWidth) inputs, \(model.classCount) classes, \(experts.count) expert(s)")
        }
    }

    /// The summary plus what only the CLI knows, flattened into one object.
    struct Output: Encodable {
        var summary: CheckpointSummary
        var fileBytes: Int
        var parameterDigests: [String: String]
        var experts: [Expert.Architecture]
        var gate: Gate.Configuration?
        /// A stream's learner, outlined (absent for a model `moe train` saved).
        var learner: LearnerOutline?

        enum Keys: String, CodingKey { case fileBytes, parameterDigests, experts, gate, learner }

        func encode(to encoder: any Encoder) throws {
            try summary.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(fileBytes, forKey: .fileBytes)
            try container.encode(parameterDigests, forKey: .parameterDigests)
            try container.encode(experts, forKey: .experts)
            try container.encodeIfPresent(gate, forKey: .gate)
            try container.encodeIfPresent(learner, forKey: .learner)
        }
    }
}

/// FNV-1a (64-bit) of a matrix's shape and float32 bit patterns, as 16 hex digits: equal
/// digests mean (with overwhelming probability) bit-identical parameters.
func digest(_ matrix: Matrix) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    func mix(_ word: UInt64, bytes: Int = 8) {
        var w = word
        for _ in 0..<bytes {
            hash = (hash ^ (w & 0xff)) &* 0x0000_0100_0000_01b3
            w >>= 8
        }
    }
    mix(UInt64(matrix.rows))
    mix(UInt64(matrix.columns))
    for scalar in matrix.scalars { mix(UInt64(scalar.bitPattern), bytes: 4) }
    let text = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - text.count) + text
}
