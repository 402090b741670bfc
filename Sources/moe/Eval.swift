import ArgumentParser
import Continual
import Foundation
import MoE

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a checkpoint and measure its accuracy on the Fashion-MNIST test set or on CSV data.",
        discussion: """
            The checkpoint is verified (length, digest, format, every shape) before the model \
            is rebuilt. A bare name is looked up in Checkpoints/ (`moe eval run1` reads \
            Checkpoints/run1.h5). With --source csv:PATH (plain or .gz) or --source stdin, \
            rows are read incrementally: one label column, every other column a feature, \
            features as the model was trained on them.
            """)

    @Argument(help: "The checkpoint file (a bare name means Checkpoints/NAME.h5).")
    var checkpoint: String

    @OptionGroup var data: DataSourceOptions

    @Flag(help: "Print the figures as one JSON object on the last line of stdout; human-readable output goes to stderr.")
    var json = false

    struct Output: Encodable {
        var testAccuracy: Double
        var samples: Int
        var correct: Int
        var checkpoint: String
        var data: String
    }

    func run() throws {
        let console = Console(json: json)
        let loaded = try loadCheckpoint(checkpoint)
        let file = loaded.source ?? checkpoint
        let model = try failingClearly { try loaded.makeModel() }
        // A learner's checkpoint predicts through the learner (its gate head refitted to
        // every sample seen); a model's through the model.
        let predict: @Sendable (Matrix) -> [Int]
        if loaded.sections["learner"] != nil {
            let learner = try failingClearly { try Learner(checkpoint: loaded).snapshot() }
            predict = { learner.predict($0) }
        } else {
            predict = { model.predict($0) }
        }
        var correct = 0, samples = 0
<<<<<<< HEAD
        let dataName: String
        switch parsedSource! {
        case .fashionMNIST:
            let test = try failingClearly { try FashionMNIST.load(split: .test, directory: dataDirectory) }
            do {
                try test.requireInputWidth(model.inputWidth)
                try test.requireLabels(below: model.classCount)
            } catch {
                throw CommandFailure("checkpoint '\(file)' cannot be evaluated on \(test.name): \(error)")
            }
            dataName = test.name
            samples = test.count
            var start = 0
            while start < test.count {
                let end = min(start + 4096, test.count)
                for (i, p) in predict(test.features.rows(start..<end)).enumerated() where p == test.labels[start + i] {
                    correct += 1
                }
                start = end
            }
        case let .csv(path):
            var stream = try failingClearly { try CSVSource(path: path, format: format, inputWidth: model.inputWidth, labels: labelMap(loaded)) }
            dataName = stream.name
            (correct, samples) = try score(predict, on: &stream)
        case .standardInput:
            var stream = try failingClearly { try CSVSource.standardInput(format: format, inputWidth: model.inputWidth, labels: labelMap(loaded)) }
            dataName = stream.name
            (correct, samples) = try score(predict, on: &stream)
=======
        let dataName = try data.forEachBatch(for: model, of: loaded, file: file) { features, labels in
            for (p, y) in zip(model.predict(features), labels) where p == y { correct += 1 }
            samples += labels.count
>>>>>>> main
        }
        let accuracy = samples > 0 ? Double(correct) / Double(samples) : 0
        console.say("checkpoint \(file): MLP \(model.inputWidth)->\(model.classCount), \(model.parameterCount) parameters")
        console.say("test accuracy \(fixed(accuracy)) (\(correct) of \(samples) samples of \(dataName))")
        try console.emit(Output(testAccuracy: accuracy, samples: samples, correct: correct, checkpoint: file, data: dataName))
    }
<<<<<<< HEAD

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

    /// Correct predictions and samples over the whole stream.
    func score(_ predict: (Matrix) -> [Int], on source: inout CSVSource) throws(CommandFailure) -> (Int, Int) {
        var correct = 0, samples = 0
        try failingClearly {
            while let batch = try source.next() {
                for (p, y) in zip(predict(batch.features), batch.labels) where p == y { correct += 1 }
                samples += batch.count
            }
        }
        return (correct, samples)
    }
=======
>>>>>>> main
}
