import ArgumentParser
import Continual
import Foundation
import Logging
import MoE

/// `moe suite`: every learner on every named stream, from memory and from CSV files.
struct Suite: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The stream suite: the default learner, its gate alone, growth off and replay-500 on every named stream.",
        discussion: """
            Each stream of Fashion-MNIST (see moe stream --help) runs in memory, with an accuracy \
            matrix after every experience, and from a CSV file of the same rows in the same order \
            (raw 0-255 pixels, label last; what a user streams), scored on the test rows at the end. \
            The class-ordered stream also runs with pixels in [0, 1], raw and standardised. Writes \
            suite.json and suite.md into the output folder and prints the table.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Streams to run, comma-separated (default: all; a scale variant is written class-ordered-fmnist@raw).")
    var streams: String?

    @Option(help: "Learners, comma-separated: default, gate, growth-off, replay (default: all four).")
    var learners: String?

    @Option(help: "Paths, comma-separated: memory, csv (default: both).")
    var paths: String?

    @Option(help: "Folder for suite.json, suite.md and the CSV files (default results/suite).")
    var out: String = "results/suite"

    @Option(help: "Folder of the Fashion-MNIST files (default: Debian's).")
    var data: String?

    @Flag(help: "Keep the CSV files written for the csv path (they are removed at the end otherwise).")
    var keepData = false

    func validate() throws {
        for name in try chosenStreams() where StreamCatalogue.entry(name.name) == nil {
            throw ValidationError("unknown stream '\(name.name)'; the streams are \(StreamCatalogue.entries.map(\.name).joined(separator: ", "))")
        }
        for name in chosenLearners() where SuiteLearner(rawValue: name) == nil {
            throw ValidationError("unknown learner '\(name)'; the learners are \(SuiteLearner.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for path in chosenPaths() where SuitePath(rawValue: path) == nil {
            throw ValidationError("unknown path '\(path)'; the paths are memory and csv")
        }
    }

    func chosenStreams() throws -> [SuiteStream] {
        guard let streams else {
            return StreamCatalogue.entries.flatMap { entry -> [SuiteStream] in
                entry.name == "class-ordered-fmnist"
                    ? [.init(name: entry.name, units: .raw), .init(name: entry.name, units: .unit), .init(name: entry.name, units: .standardized)]
                    : [.init(name: entry.name, units: .unit)]
            }
        }
        return try streams.split(separator: ",").map { part in
            let pieces = part.trimmingCharacters(in: .whitespaces).split(separator: "@", maxSplits: 1).map(String.init)
            guard let units = pieces.count > 1 ? StreamCatalogue.Units(rawValue: pieces[1]) : .unit else {
                throw ValidationError("unknown units in '\(part)'; write unit, raw or standardized after @")
            }
            return SuiteStream(name: pieces[0], units: units)
        }
    }

    func chosenLearners() -> [String] {
        learners.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            ?? SuiteLearner.allCases.map(\.rawValue)
    }

    func chosenPaths() -> [String] {
        paths.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? ["memory", "csv"]
    }

    func run() throws {
        let console = Console(json: common.json)
        let folder = URL(fileURLWithPath: out)
        try failingClearly { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        var runner = SuiteRunner(
            seed: common.seed, dataDirectory: data, folder: folder, console: console,
            learners: chosenLearners().compactMap(SuiteLearner.init(rawValue:)),
            paths: chosenPaths().compactMap(SuitePath.init(rawValue:)))
        for stream in try chosenStreams() { try runner.run(stream) }
        if !keepData { try? FileManager.default.removeItem(at: folder.appendingPathComponent("data")) }
        let document = runner.document
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try failingClearly { try encoder.encode(document).write(to: folder.appendingPathComponent("suite.json")) }
        let table = document.markdown
        try failingClearly { try Data(table.utf8).write(to: folder.appendingPathComponent("suite.md")) }
        console.say("")
        console.say(table)
        console.say("wrote \(folder.appendingPathComponent("suite.json").path) and \(folder.appendingPathComponent("suite.md").path)")
        try console.emit(document)
    }
}
