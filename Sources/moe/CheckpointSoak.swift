import ArgumentParser
import Continual
import Foundation
import MoE

/// A hidden command for the crash and write-failure tests (docs/reliability.md): saves
/// numbered versions of a model to one checkpoint, one after another, as fast as it can.
///
/// Version `v` is the MLP `MixtureOfExperts(sizes:)` drawn from `SeededGenerator(seed:
/// seed + v)`, saved with the counter `version = v`, so whoever finds the file can check
/// that it holds exactly one complete version. A run continues after the version already
/// in the file, which it first loads and checks the same way.
struct CheckpointSoak: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint-soak",
        abstract: "Save numbered checkpoint versions repeatedly (for crash and disk-failure tests).",
        shouldDisplay: false)

    @Argument(help: "The checkpoint to overwrite again and again.")
    var path: String

    @Option(help: "Versions to save; 0 saves until the process is killed.")
    var count: Int = 0

    @Option(help: "Layer sizes of the model, comma-separated.")
    var sizes: String = "256,512,10"

    @Option(help: "Version v is drawn from seed + v.")
    var seed: UInt64 = 1

    @OptionGroup var keys: CheckpointKeyOptions

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be 0 (forever) or more") }
        guard parsedSizes != nil else { throw ValidationError("--sizes must be at least two positive integers, got '\(sizes)'") }
    }

    var parsedSizes: [Int]? {
        let values = sizes.split(separator: ",").map { Int($0) }
        guard values.count >= 2, values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return values.map { $0! }
    }

    /// The model of version `version`.
    static func model(version: Int64, sizes: [Int], seed: UInt64) -> MixtureOfExperts {
        var generator = SeededGenerator(seed: seed &+ UInt64(bitPattern: version))
        return MixtureOfExperts(sizes: sizes, generator: &generator)
    }

    func run() throws {
        ignoreFileSizeSignal()
        let file = try CheckpointPath.forSaving(path)
        let sizes = parsedSizes!
        var version: Int64 = 1
        let signingKey = try keys.signingKey()
        if FileManager.default.fileExists(atPath: file) {
            let existing = try loadCheckpoint(file, keys: keys)
            guard let stored = existing.training?.counters["version"] else {
                throw CommandFailure("checkpoint '\(file)' has no version counter; it was not written by checkpoint-soak")
            }
            let model = try failingClearly { try existing.makeModel() }
            guard model.parameters == Self.model(version: stored, sizes: sizes, seed: seed).parameters else {
                throw CommandFailure("checkpoint '\(file)' says version \(stored) but does not hold its weights")
            }
            version = stored + 1
        }
        say("start \(version)")
        var saved = 0
        while count == 0 || saved < count {
            let model = Self.model(version: version, sizes: sizes, seed: seed)
            let checkpoint = Checkpoint(
                model: model, training: Checkpoint.TrainingState(counters: ["version": version]),
                description: "checkpoint-soak version \(version)")
            try failingClearly { try checkpoint.save(to: file, signingKey: signingKey) }
            say("saved \(version)")
            version += 1
            saved += 1
        }
    }

    /// One unbuffered line on stdout (the parent reads it before killing the process).
    private func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
