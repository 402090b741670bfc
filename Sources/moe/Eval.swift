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
            Checkpoints/run1.h5). With --source csv:PATH (plain or .gz), stdin or \
            idx:IMAGES,LABELS, rows are read incrementally: one label column, every other \
            column a feature, features as the model was trained on them; a label the model \
            does not know stops the evaluation, naming the row. On Fashion-MNIST, samples of \
            classes the model has no output for (a stream paused before they came) count as \
            errors, and the output says how many there are.
            """)

    @Argument(help: "The checkpoint file (a bare name means Checkpoints/NAME.h5).")
    var checkpoint: String

    @OptionGroup var data: DataSourceOptions

    @OptionGroup var keys: CheckpointKeyOptions

    @OptionGroup var output: JSONOutputOption

    struct Output: Encodable {
        var testAccuracy: Double
        var samples: Int
        var correct: Int
        /// Samples of classes the model has no output for (counted as errors).
        var unknownClassSamples: Int
        var checkpoint: String
        var data: String
        /// A learner's: who answers in each slot, and whether the stream's most frequent
        /// class answers every input.
        var answers: [String]?
        var mostFrequentClassAnswers: Bool?
    }

    func run() throws {
        let console = Console(json: output.json)
        let loaded = try loadCheckpoint(checkpoint, keys: keys)
        let file = loaded.source ?? checkpoint
        let model = try failingClearly { try loaded.makeModel() }
        // A learner's checkpoint predicts through the learner (its gate head refitted to
        // every sample seen); a model's through the model.
        let predict: (Matrix) -> [Int]
        var answering: String?, arbiter: AnswerArbiter?
        if loaded.sections["learner"] != nil {
            let learner = try failingClearly { try Learner(checkpoint: loaded).snapshot() }
            predict = { learner.predict($0) }
            answering = Self.answering(learner)
            arbiter = learner.arbiter
        } else {
            predict = { model.predict($0) }
        }
        var correct = 0, samples = 0, unseen = 0
        // Fashion-MNIST's ten classes are known to be classes: a learner paused before some
        // of them came is scored with them as errors. In rows of your own, a label the
        // model does not know is more likely a mistake, and stops the evaluation.
        let fashionMNIST = data.parsedSource == .fashionMNIST
        let dataName = try data.forEachBatch(for: model, of: loaded, file: file, unknownLabels: fashionMNIST) { features, labels in
            for (p, y) in zip(predict(features), labels) where p == y { correct += 1 }
            samples += labels.count
            unseen += labels.filter { $0 >= model.classCount }.count
        }
        let accuracy = samples > 0 ? Double(correct) / Double(samples) : 0
        console.say("checkpoint \(file): MLP \(model.inputWidth)->\(model.classCount), \(model.parameterCount) parameters")
        if let answering { console.say(answering) }
        let note = unseen > 0 ? "; \(unseen) of them are of classes the model has no output for (it has \(model.classCount)), and count as errors" : ""
        console.say("test accuracy \(fixed(accuracy)) (\(correct) of \(samples) samples of \(dataName)\(note))")
        try console.emit(Output(testAccuracy: accuracy, samples: samples, correct: correct, unknownClassSamples: unseen,
                                checkpoint: file, data: dataName, answers: arbiter?.answers.map(\.rawValue),
                                mostFrequentClassAnswers: arbiter?.answersMostFrequent))
    }

    /// Who answers in a learner made ready to predict: each slot's answer, and whether the
    /// stream's most frequent class answers every input.
    static func answering(_ learner: Learner) -> String {
        let arbiter = learner.arbiter
        var line = "who answers: " + arbiter.answers.enumerated().map { s, answer in
            let lead = arbiter.priorLeadOnReplayedRows(slot: s)
                .map { $0 == 0 ? " (the prior level with the gate on the replayed rows)"
                    : " (the prior \($0 < 0 ? "behind" : "ahead of") the gate by \(fixed(abs($0), 1)) standard errors on the replayed rows)" }
            return "slot \(s) \(answer.rawValue)\(lead ?? "")"
        }.joined(separator: ", ")
        if arbiter.answersMostFrequent, let t = arbiter.mostFrequentJudged {
            line += "; the stream's most frequent class answers every input (ahead of the mixture by \(fixed(t.advantage, 1))"
                + " standard errors on the replayed rows, the gate scored leave-one-out)"
        }
        return line
    }
}
