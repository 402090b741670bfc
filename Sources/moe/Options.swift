import ArgumentParser
import Foundation

/// Options every command that computes figures shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "Seed for weights, shuffles and every other random choice; the same seed gives the same result, bit for bit.")
    var seed: UInt64 = 1

    @Flag(help: "Print the figures as one JSON object on the last line of stdout; human-readable output goes to stderr.")
    var json = false
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
