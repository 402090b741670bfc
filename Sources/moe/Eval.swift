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

    @OptionGroup var keys: CheckpointKeyOptions

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
        let loaded = try loadCheckpoint(checkpoint, keys: keys)
        let file = loaded.source ?? checkpoint
        let model = try failingClearly { try loaded.makeModel() }
        // A learner's checkpoint predicts through the learner (its gate head refitted to
        // every sample seen); a model's through the model.
        let predict: (Matrix) -> [Int]
        if loaded.sections["learner"] != nil {
            let learner = try failingClearly { try Learner(checkpoint: loaded).snapshot() }
            predict = { learner.predict($0) }
        } else {
            predict = { model.predict($0) }
        }
        var correct = 0, samples = 0
        let dataName = try data.forEachBatch(for: model, of: loaded, file: file) { features, labels in
            for (p, y) in zip(predict(features), labels) where p == y { correct += 1 }
            samples += labels.count
        }
        let accuracy = samples > 0 ? Double(correct) / Double(samples) : 0
        console.say("checkpoint \(file): MLP \(model.inputWidth)->\(model.classCount), \(model.parameterCount) parameters")
        console.say("test accuracy \(fixed(accuracy)) (\(correct) of \(samples) samples of \(dataName))")
        try console.emit(Output(testAccuracy: accuracy, samples: samples, correct: correct, checkpoint: file, data: dataName))
    }
}
