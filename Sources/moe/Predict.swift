import ArgumentParser
import Continual
import Foundation
import MoE

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a checkpoint and predict the class of every row of a CSV file, or of every image of an IDX file.",
        discussion: """
            The rows have the columns of the file the model learned from, without its label \
            column (with --labelled, with it: its values are not read; an ARFF file is read so, \
            its class attribute holding `?` or a class, and so is a file whose header names the \
            label column). They are read as \
            `moe eval` reads them: text columns, missing values and header as the model \
            learned them, a bad row an error naming it. One line per row goes to --output \
            (default standard output): the predicted class as the training file wrote it. \
            With --scores, a header line first (`class` and every class's name) and, after \
            each row's class, the probability the model gives every class, in that order: \
            the mixture's weights as it served the answer, calibrated (a temperature and a \
            share of doubt fitted to the stream's own prequential predictions, so that a score \
            of 0.9 is right about nine times in ten; `moe eval` reports how well), whose \
            largest is the class written; --uncalibrated gives the weights as served. \
            --keep-columns id writes each row's id (any columns, by header name or 0-based \
            index in the file, read by the model or not) before its class, under a header line \
            that names them and `class`: blank lines have no answer, so the answers are joined \
            to the rows by such a column. A file given with --output is written whole or not at all: on an error an \
            existing file is left as it was. --images FILE reads the images of an IDX file \
            without labels instead (unsigned bytes, plain or gzip, pixels scaled to [0, 1] \
            as `--source idx:` reads them).
            """)

    @Argument(help: "The checkpoint file (a bare name means Checkpoints/NAME.h5).")
    var checkpoint: String

    @OptionGroup var data: DataSourceOptions

    @Flag(help: "The rows have the label column too, where the training file had it (its values are not read).")
    var labelled = false

    @Option(help: "Predict the images of this IDX file (plain or .gz), which has no labels, instead of CSV rows.")
    var images: String?

    @Flag(help: "After each class, the probability of every class (a header line names them).")
    var scores = false

    @Option(name: .customLong("keep-columns"),
            help: "Columns of the rows written before each answer, comma-separated: header names, 0-based indices of the file's fields, `first` or `last` (an identifier to join the answers on); a header line names them and `class`.")
    var keepColumns: String?

    /// `--keep-columns` as a list.
    var kept: [String] {
        keepColumns.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
    }

    @Flag(help: "With --scores, a learner's weights as the mixture served them, without the calibration fitted to its stream.")
    var uncalibrated = false

    @Option(name: .shortAndLong, help: "Write the predictions to this file instead of standard output, one line per row.")
    var output: String?

    @OptionGroup var keys: CheckpointKeyOptions

    @OptionGroup var report: JSONOutputOption

    struct Output: Encodable {
        var rows: Int
        /// Rows predicted per class, by the class's label.
        var classCounts: [String: Int]
        /// A learner's: as `moe eval`'s `features_far_from_learned`.
        var featuresFarFromLearned: Double?
        /// A learner's, read from a CSV file: its numeric columns whose mean lies that far,
        /// farthest first.
        var columnsFarFromLearned: [String]?
        var output: String
        var checkpoint: String
        var data: String
    }

    func validate() throws {
        if images != nil {
            guard !data.hasSource, !labelled else {
                throw ValidationError("--images reads images without labels: give it without --source and --labelled")
            }
        } else {
            switch data.parsedSource {
            case .csv?, .standardInput?: break
            default: throw ValidationError("moe predict reads CSV rows or IDX images: give --source csv:PATH or stdin, or --images FILE")
            }
        }
        if let keepColumns {
            guard images == nil else {
                throw ValidationError("--keep-columns names columns of CSV rows: an IDX file's images have none")
            }
            // An empty option splits into one empty name.
            guard !kept.contains("") else {
                throw ValidationError("--keep-columns takes header names, 0-based indices, first or last, comma-separated, got '\(keepColumns)'")
            }
        }
        if uncalibrated && !scores {
            throw ValidationError("--uncalibrated changes the scores: give it with --scores")
        }
        if report.json && output == nil {
            throw ValidationError("--json needs --output: standard output carries the predictions")
        }
    }

    func run() throws {
        // Standard output carries the predictions unless --output is given.
        let console = Console(json: report.json || output == nil)
        let loaded = try loadCheckpoint(checkpoint, keys: keys)
        let file = loaded.source ?? checkpoint
        let model = try failingClearly { try loaded.makeModel() }
        let (predict, scored, learner) = try Eval.predictor(loaded, model: model, calibrated: !uncalibrated)
        let scaler = learner?.scaler
        let classes = data.labelMap(loaded)
        // One field per line, quoted as a comma-separated file's field would be.
        let names = (0..<model.classCount).map { CSVSource.quoted(classes.label(of: $0), separator: ",") }
        if let output {
            // The predictions replace what is under --output: never the learner, nor the rows.
            var inputs = [try CheckpointPath.forReading(checkpoint)]
            if let images { inputs.append(images) }
            if case .csv(let path)? = data.parsedSource { inputs.append(path) }
            try PredictionSink.refuseOverwriting(output, inputs: inputs)
        }
        let sink = try PredictionSink(path: output)
        // With kept columns the header line waits for their names, which the file's header gives.
        if scores && kept.isEmpty { sink.write((["class"] + names).joined(separator: ",") + "\n") }
        var keptText: [[String]] = []
        var rows = 0
        var counts = [Int](repeating: 0, count: model.classCount)
        var means = ColumnMeans()
        let dataName: String
        var columnName: (Int) -> String? = { _ in nil }
        do {
            let keep = { (keptNames: [String], text: [[String]]) in
                if rows == 0 {
                    let quoted = keptNames.map { CSVSource.quoted($0, separator: ",") }
                    sink.write((quoted + ["class"] + (scores ? names : [])).joined(separator: ",") + "\n")
                }
                keptText = text
            }
            (dataName, columnName) = try eachBatch(model: model, checkpoint: loaded, file: file, warn: console.warn, kept: keep) { features in
                let (answers, weights) = scores ? scored(features) : (predict(features), nil)
                if scaler != nil { means.add(features) }
                var text = ""
                text.reserveCapacity(answers.count * (weights.map { 8 * $0.columns } ?? 8))
                for (r, k) in answers.enumerated() {
                    if r < keptText.count {
                        for value in keptText[r] {
                            text += CSVSource.quoted(value, separator: ",")
                            text += ","
                        }
                    }
                    text += names[k]
                    if let weights {
                        for c in 0..<weights.columns {
                            text += ","
                            text += Self.probability(weights[r, c])
                        }
                    }
                    text += "\n"
                    counts[k] += 1
                }
                sink.write(text)
                rows += answers.count
            }
            try sink.finish()
        } catch {
            sink.abandon()
            throw error
        }
        let where_ = output ?? "standard output"
        console.say("predicted \(rows) rows of \(dataName) with \(file) into \(where_): "
            + counts.indices.filter { counts[$0] > 0 }.map { "\(classes.label(of: $0)) \(counts[$0])" }.joined(separator: ", "))
        let far = means.far(of: scaler, naming: columnName)
        if let warning = ColumnMeans.warning(far) { console.warn(warning) }
        guard report.json else { return }
        try console.emit(Output(rows: rows,
                                classCounts: Dictionary(uniqueKeysWithValues: counts.indices.map { (classes.label(of: $0), counts[$0]) }),
                                featuresFarFromLearned: far.share, columnsFarFromLearned: far.names, output: where_, checkpoint: file, data: dataName))
    }
}

extension Predict {
    /// Calls `body` with every batch of rows to predict: the CSV rows of `--source`, or the
    /// images of `--images`; returns the data's name and how it names a feature's column.
    func eachBatch(model: MixtureOfExperts, checkpoint: Checkpoint, file: String, warn: (String) -> Void,
                   kept: ([String], [[String]]) -> Void, _ body: (Matrix) -> Void)
        throws(CommandFailure) -> (name: String, columnName: (Int) -> String?)
    {
        guard let images else {
            // An ARFF file declares the class attribute, and its rows hold it (`?` where
            // the class is unknown): the reader reads it as --labelled reads, once it
            // sees the file is ARFF (`CSVSource`), a pipe's too.
            let (name, _, columnName, _) = try data.forEachBatch(for: model, of: checkpoint, file: file, unknownLabels: true,
                                                              rowsLackLabels: !labelled, labelsUnread: labelled, keptColumns: self.kept,
                                                              warn: warn, kept: kept) { features, _ in body(features) }
            return (name, columnName)
        }
        let source = try failingClearly { try IDXSource(images: images, batchSize: 4096, inputWidth: model.inputWidth) }
        try failingClearly {
            while let batch = try source.next() { body(batch.features) }
        }
        return (source.name, { _ in nil })
    }

    /// A probability as written: six significant digits at most, `0` and `1` bare.
    static func probability(_ p: Float) -> String {
        if p == 0 { return "0" }
        if p == 1 { return "1" }
        return String(format: "%.6g", Double(p))
    }
}

/// Where predictions go: standard output, or a file written beside its final name and
/// renamed over it only once every row is predicted (a failure leaves no half file and
/// keeps an existing one).
final class PredictionSink {
    private let path: String?
    private let temporary: String?
    private let handle: FileHandle
    private var buffered = Data()

    init(path: String?) throws(CommandFailure) {
        self.path = path
        guard let path else {
            temporary = nil
            handle = FileHandle.standardOutput
            return
        }
        let url = URL(fileURLWithPath: path)
        let partial = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial").path
        guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
            throw CommandFailure("cannot write the predictions to '\(path)': its folder does not exist or is not writable")
        }
        temporary = partial
        self.handle = handle
    }

    /// Refuses an output path that names one of the command's `inputs` (the checkpoint,
    /// the rows), or a checkpoint: a slip of `-o` would replace it with the predictions.
    static func refuseOverwriting(_ path: String, inputs: [String]) throws(CommandFailure) {
        guard let target = CheckpointPath.identity(of: path) else { return }
        if let input = inputs.first(where: { CheckpointPath.identity(of: $0) == target }) {
            throw CommandFailure("cannot write the predictions to '\(path)': it is \(input == path ? "" : "'\(input)', ")a file this command reads; give another --output")
        }
        // Only a regular file is opened to look: a pipe (`-o >(gzip > x)`) would wait for a writer.
        let regular = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType == .typeRegular
        if regular, let handle = FileHandle(forReadingAtPath: path), (try? handle.read(upToCount: 8)) == Data("MOE-CKPT".utf8) {
            throw CommandFailure("cannot write the predictions to '\(path)': a checkpoint is there, and it is left as it is; give another --output")
        }
    }

    func write(_ text: String) {
        buffered.append(contentsOf: text.utf8)
        if buffered.count >= 1 << 16 { flush() }
    }

    private func flush() {
        handle.write(buffered)
        buffered.removeAll(keepingCapacity: true)
    }

    func finish() throws(CommandFailure) {
        flush()
        guard let path, let temporary else { return }
        do {
            try handle.synchronize()
            try handle.close()
            // rename(2) puts the new file in the old one's place in one step.
            guard rename(temporary, path) == 0 else { throw CommandFailure(String(cString: strerror(errno))) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CommandFailure("cannot write the predictions to '\(path)': \(error.localizedDescription)")
        }
    }

    func abandon() {
        guard let temporary else { return }
        try? handle.close()
        try? FileManager.default.removeItem(atPath: temporary)
    }
}
