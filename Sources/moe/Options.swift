import ArgumentParser
import Continual
import Foundation
import MoE

/// `--json`: the figures as one JSON object on the last line of stdout.
struct JSONOutputOption: ParsableArguments {
    @Flag(help: "Print the figures as one JSON object on the last line of stdout; human-readable output goes to stderr.")
    var json = false
}

/// Options every command that computes figures shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("seed"), help: "Seed for weights, shuffles and every other random choice; the same seed gives the same result, bit for bit (default 1).")
    var givenSeed: UInt64?

    @OptionGroup var output: JSONOutputOption

    /// The seed to use.
    var seed: UInt64 { givenSeed ?? 1 }
    var json: Bool { output.json }
}

/// Where a run saves its checkpoint and what it resumes: `moe stream` and `moe train`.
struct CheckpointRunOptions: ParsableArguments {
    @Option(help: "Save the checkpoint here at the end (a bare name goes to Checkpoints/, .h5 is added); with --resume, the resumed file is the default.")
    var save: String?

    @Option(help: "Continue from this checkpoint.")
    var resume: String?

    @Option(name: .customLong("checkpoint-every"), help: "Also save every N batches (0: never; a failed periodic save is a warning; the run goes on).")
    var checkpointEvery: Int?

    func validate() throws {
        if let checkpointEvery {
            guard checkpointEvery >= 0 else { throw ValidationError("--checkpoint-every must be 0 (never) or more batches, got \(checkpointEvery)") }
            guard checkpointEvery == 0 || save != nil || resume != nil else {
                throw ValidationError("--checkpoint-every needs a checkpoint to write: give --save (or --resume)")
            }
        }
    }

    /// The file to write: `--save`, else the resumed checkpoint.
    func savePath() throws(CommandFailure) -> String? {
        if let save { return try CheckpointPath.forSaving(save) }
        return try resume.map { argument throws(CommandFailure) in try CheckpointPath.forReading(argument) }
    }
}

/// The network's shape and batch size, shared by `moe stream` and `moe train` (each
/// documents its own defaults); nil when not given, so a resumed run can refuse a value
/// that contradicts its checkpoint.
struct NetworkOptions: ParsableArguments {
    @Option(help: "Hidden layer widths, comma-separated (stream: 256,256; train: 256,128).")
    var hidden: String?

    @Option(name: .customLong("batch-size"), help: "Samples per batch (default 128).")
    var batchSize: Int?

    func validate() throws {
        if let hidden, Self.widths(hidden) == nil {
            throw ValidationError("--hidden must be positive integers separated by commas, got '\(hidden)'")
        }
        if let batchSize, !(1...StreamSource.largestBatch).contains(batchSize) {
            throw ValidationError("--batch-size must be 1 to \(StreamSource.largestBatch) samples, got \(batchSize)")
        }
    }

    /// The widths of `text` (empty text: no hidden layer), or nil when it is not a list of
    /// positive integers.
    static func widths(_ text: String) -> [Int]? {
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return [] }
        let values = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return values.map { $0! }
    }

    /// The given widths, or `fallback`.
    func hiddenWidths(default fallback: [Int]) -> [Int] {
        hidden.flatMap(Self.widths) ?? fallback
    }
}

/// Refuses, with one sentence, an option given with `--resume` whose value differs from
/// the checkpoint's: a resumed run keeps its settings.
func refuseChange<T: Equatable>(
    _ option: String, given: T?, saved: T, file: String, show: (T) -> String = { "\($0)" }
) throws(CommandFailure) {
    guard let given, given != saved else { return }
    throw CommandFailure("--\(option) \(show(given)) differs from \(show(saved)) in checkpoint '\(file)'; a resumed run keeps its settings (drop the option)")
}

/// Where human-readable output goes: stdout normally, stderr in `--json` mode, with a
/// progress line that rewrites itself on a terminal.
struct Console {
    let json: Bool
    private let interactive = isatty(STDERR_FILENO) != 0

    init(json: Bool) { self.json = json }

    /// A line of human-readable output.
    func say(_ text: String) {
        if json {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        } else {
            print(text)
        }
    }

    /// A warning on stderr, never mixed with `--json` output, on a line of its own (a
    /// progress line rewritten in place is cleared first; the next one is written below it).
    func warn(_ text: String) {
        // What stdout holds goes first, so that a file of both reads in order.
        fflush(nil)
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + "warning: " + text + "\n").utf8))
    }

    /// A progress line, on stderr; rewritten in place on a terminal, else printed sparsely.
    func progress(_ text: String, final: Bool = false) {
        if interactive {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + text + (final ? "\n" : "")).utf8))
        } else if final {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        }
    }

    /// The machine-readable result: one JSON object, the last line of stdout.
    func emit<T: Encodable>(_ value: T) throws {
        guard json else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }
}

/// Formats a number with a fixed count of decimals.
func fixed(_ value: Double, _ decimals: Int = 4) -> String {
    String(format: "%.\(decimals)f", value)
}

/// Seconds elapsed since `start`.
func seconds(since start: ContinuousClock.Instant) -> Double {
    (ContinuousClock.now - start).inSeconds
}

extension Activation: ExpressibleByArgument {}

extension LearnerConfiguration {
    /// The configuration with the keys of the JSON file at `path` put in place, as
    /// `--learner-config` reads it (itself when `path` is nil).
    func patched(byFile path: String?) throws(CommandFailure) -> LearnerConfiguration {
        guard let path else { return self }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure("cannot read the learner configuration '\(path)'")
        }
        return try failingClearly { try patched(with: data, source: path) }
    }
}
