import ArgumentParser
import Continual
import Foundation
import Logging
import MoE

/// `moe suite`: every learner on every named stream, from memory and from CSV files, or
/// on a user's own file (`--source csv:PATH`).
struct Suite: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The stream suite: the default learner, its gate alone, growth off and replay-500 on every named stream, or on your own rows.",
        discussion: """
            Each stream of Fashion-MNIST (see moe stream --help) runs in memory, with an accuracy \
            matrix after every experience, and from a CSV file of the same rows in the same order \
            (raw 0-255 pixels, label last; what a user streams), scored on the test rows at the end. \
            The class-ordered stream also runs with pixels in [0, 1], raw and standardised. Writes \
            suite.json and suite.md into the output folder and prints the table.

            With --source csv:PATH the suite runs the same learners on your own rows instead: each \
            streams the file in its order, as moe stream --source reads it (the CSV options below \
            apply), is saved, and is scored as moe eval scores it on the rows of --test csv:PATH, \
            or without it on a quarter of the file's rows held out (drawn with --seed; the others \
            stream, in the file's order). --orders file,shuffled,class,blocks also streams the \
            rows shuffled, one class after another, and in blocks of 20 rows of a class taking \
            turns (written into the output folder's data/, header and records as the file has \
            them). The table says whether the default learner scored \
            at least its gate alone minus 0.005 and at least replay-500.
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

    @OptionGroup var input: DataSourceOptions

    @Option(help: "With --source: the labelled rows every learner is scored on, csv:PATH (read as moe eval reads them; without it, a quarter of the file's rows drawn with --seed are held out for it).")
    var test: String?

    @Option(name: .customLong("batch-size"), help: "With --source: rows per batch (default 128).")
    var batchSize: Int?

    @Option(help: "With --source: the orders to stream the file's rows in, comma-separated: file (as it has them), shuffled (with --seed), class (one class after another, in the order they first appear), blocks (blocks of 20 rows of a class, the classes taking turns) (default: file).")
    var orders: String?

    /// `--orders` as orders (the file's alone when not given).
    func chosenOrders() throws -> [SuiteOrder] {
        guard let orders else { return [.file] }
        return try orders.split(separator: ",").map { part in
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let order = SuiteOrder(rawValue: name) else {
                throw ValidationError("unknown order '\(name)'; the orders are \(SuiteOrder.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return order
        }
    }

    @Option(name: .customLong("learner-config"), help: "A JSON file of learner settings, as moe stream --learner-config reads it, that the default learner, its gate alone and growth off start from instead of the defaults (each learner's own difference and --seed on top); replay-500 stays the fixed baseline.")
    var learnerConfig: String?

    @Flag(help: "Keep what the suite writes into the output folder's data/: the CSV files of the csv path; with --source the rows held out or in other orders and each learner's checkpoint (otherwise these, and only these, are removed at the end).")
    var keepData = false

    func validate() throws {
        if input.source != nil {
            guard case .csv? = input.parsedSource else {
                throw ValidationError("moe suite --source takes a file, csv:PATH: every learner streams it from its first row")
            }
            if let test, !test.hasPrefix("csv:") || test.count <= 4 {
                throw ValidationError("--test must be csv:PATH, got '\(test)'")
            }
            // Each learner reads the file from its first row, and the test rows once each:
            // a pipe gives its rows once (the second learner found none, or a row that
            // began no record).
            for case let (option, path?) in [("--source", input.source), ("--test", test)] {
                if CSVSource.isPipe(path: String(path.dropFirst(4))) {
                    throw ValidationError("moe suite \(option) \(path): a pipe, read once, but every learner reads it from its "
                        + "first row; write it to a file first (moe stream reads a pipe)")
                }
            }
            if streams != nil || paths != nil {
                throw ValidationError("--streams and --paths choose among Fashion-MNIST's streams; with --source the suite streams your file")
            }
            if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
            _ = try chosenOrders()
        } else if test != nil || batchSize != nil || orders != nil {
            throw ValidationError("--test, --batch-size and --orders go with --source csv:PATH (your own rows)")
        }
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
        // A file that cannot give settings stops the suite before it writes anything.
        let settings = try learnerConfig.map { try LearnerConfiguration().patched(byFile: $0) }
        // So does a file that is not there: a missing --test was found only after every
        // learner had streamed the training rows.
        for case let path? in [input.source, test] where path.hasPrefix("csv:") {
            let file = String(path.dropFirst(4))
            if !FileManager.default.fileExists(atPath: file) { throw CommandFailure(DataError.fileNotFound(path: file).description) }
        }
        let folder = URL(fileURLWithPath: out)
        try failingClearly { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        var runner = SuiteRunner(
            seed: common.seed, dataDirectory: input.dataDirectory, folder: folder, console: console,
            learners: chosenLearners().compactMap(SuiteLearner.init(rawValue:)),
            paths: chosenPaths().compactMap(SuitePath.init(rawValue:)))
        runner.keepsData = keepData
        if let settings, let learnerConfig { runner.useSettings(settings, from: learnerConfig) }
        defer { if !keepData { runner.removeWrittenData() } }
        // A CSV file (validate() refused the other sources), or Fashion-MNIST's streams.
        if case let .csv(settings)? = input.streamSource(batchSize: batchSize ?? 128, badRows: .fail) {
            var scored = input
            scored.source = test
            // The test file's label is the one each saved learner learned (the same column,
            // by name where its header places the columns otherwise).
            scored.labelColumn = nil
            try runner.run(own: settings, orders: try chosenOrders(), test: scored, holdsOut: test == nil)
        } else {
            for stream in try chosenStreams() { try runner.run(stream) }
        }
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
