import ArgumentParser
import Continual
import MoE

/// Where a command that runs a checkpoint gets labelled samples: Fashion-MNIST's test
/// split (the default), or CSV rows read incrementally from a file or from stdin.
///
/// Shared by `moe eval` and `moe detectors`, so both accept the same options with the
/// same meaning and the same errors.
struct DataSourceOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "Folder holding t10k-{images-idx3,labels-idx1}-ubyte[.gz] (Fashion-MNIST's test split).")
    var dataDirectory: String = FashionMNIST.defaultDirectory

    @Option(help: "Read CSV rows instead: csv:PATH (plain or .gz) or stdin.")
    var source: String?

    @Option(name: .customLong("label-column"), help: "With --source: the label column: first, last, a 0-based index, or a header name.")
    var labelColumn: String = "first"

    @Flag(help: "With --source: the first line names the columns (implied by a label column given by name).")
    var header = false

    /// Where the samples come from.
    enum Source: Equatable {
        case fashionMNIST
        case csv(String)
        case standardInput
    }

    var parsedSource: Source? {
        guard let source else { return .fashionMNIST }
        if source == "stdin" || source == "csv:-" { return .standardInput }
        if source.hasPrefix("csv:"), source.count > 4 { return .csv(String(source.dropFirst(4))) }
        return nil
    }

    func validate() throws {
        guard parsedSource != nil else {
            throw ValidationError("--source must be csv:PATH or stdin, got '\(source ?? "")'")
        }
    }

    var format: CSVFormat {
        CSVFormat(labelColumn: LabelColumn(argument: labelColumn), hasHeader: header)
    }

    /// The model's classes as a declared label map: integer labels `0..<k` are class
    /// numbers; anything else is matched by name.
    func labelMap(_ checkpoint: Checkpoint) -> LabelMap {
        switch checkpoint.classes {
        case let .integers(labels) where labels == (0..<Int64(labels.count)).map { $0 }:
            return .integers(classCount: labels.count)
        case let .integers(labels):
            return .names(labels.map(String.init))
        case let .strings(labels):
            return .names(labels)
        }
    }

    /// Hands every batch of the chosen data to `body` (features as the model reads them,
    /// labels as class indices) and returns the data's name.
    ///
    /// Errors (a missing folder, a width or label the model does not know, a bad CSV
    /// row) are one line naming the file, or `file` for the checkpoint.
    func forEachBatch(
        for model: MixtureOfExperts, of checkpoint: Checkpoint, file: String, _ body: (Matrix, [Int]) -> Void
    ) throws(CommandFailure) -> String {
        switch parsedSource! {
        case .fashionMNIST:
            let test = try failingClearly { try FashionMNIST.load(split: .test, directory: dataDirectory) }
            do {
                try test.requireInputWidth(model.inputWidth)
                try test.requireLabels(below: model.classCount)
            } catch {
                throw CommandFailure("checkpoint '\(file)' cannot be evaluated on \(test.name): \(error)")
            }
            var start = 0
            while start < test.count {
                let end = min(start + 4096, test.count)
                body(test.features.rows(start..<end), Array(test.labels[start..<end]))
                start = end
            }
            return test.name
        case let .csv(path):
            var stream = try failingClearly {
                try CSVSource(path: path, format: format, inputWidth: model.inputWidth, labels: labelMap(checkpoint))
            }
            try drain(&stream, body)
            return stream.name
        case .standardInput:
            var stream = try failingClearly {
                try CSVSource.standardInput(format: format, inputWidth: model.inputWidth, labels: labelMap(checkpoint))
            }
            try drain(&stream, body)
            return stream.name
        }
    }

    private func drain(_ stream: inout CSVSource, _ body: (Matrix, [Int]) -> Void) throws(CommandFailure) {
        try failingClearly {
            while let batch = try stream.next() { body(batch.features, batch.labels) }
        }
    }
}
