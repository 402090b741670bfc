import Continual
import Foundation
import MoE
import Testing
import TestSupport

/// `moe train --save/--resume` across processes. Runs use a 32-unit hidden layer, 2000
/// training samples and (except `saveThenEval`) the synthetic data set, so each process
/// takes well under a second in debug.
@Suite("moe train, save, resume and eval across processes")
struct TrainCommandTests {
    static func train(_ arguments: [String], in directory: String) -> MoeProcess.Result {
        MoeProcess.run(["train"] + arguments + ["--data", TrainingData.synthetic, "--json"], in: directory)
    }

    /// Asserts that two checkpoints hold bit-identical weights, optimizer state, shuffling
    /// generator and counters.
    static func expectSameState(_ a: String, _ b: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let x = try Checkpoint.load(from: a), y = try Checkpoint.load(from: b)
        #expect(x.parameters == y.parameters, "parameters of \(a) and \(b) differ", sourceLocation: sourceLocation)
        #expect(x.optimizer == y.optimizer, "optimizer state of \(a) and \(b) differs", sourceLocation: sourceLocation)
        #expect(x.training?.generators == y.training?.generators, sourceLocation: sourceLocation)
        #expect(x.training?.counters == y.training?.counters, sourceLocation: sourceLocation)
        #expect(x.sections == y.sections, sourceLocation: sourceLocation)
        let probe = randomMatrix(7, 784, seed: 5)
        #expect(try x.makeModel()(probe) == y.makeModel()(probe), sourceLocation: sourceLocation)
    }

    @Test("train --epochs 2 equals train --epochs 1 then train --resume --epochs 2, bit for bit")
    func crossProcessResume() throws {
        try withTemporaryDirectory { directory in
            let folder = directory.url.path
            let a = Self.train(["--epochs", "2", "--limit", "2000", "--hidden", "32", "--save", "A"], in: folder)
            let b = Self.train(["--epochs", "1", "--limit", "2000", "--hidden", "32", "--save", "B"], in: folder)
            #expect(a.status == 0, "\(a.error)")
            #expect(b.status == 0, "\(b.error)")
            // The resumed run takes its settings from B: no --limit or --hidden here.
            let c = Self.train(["--resume", "B", "--epochs", "2", "--save", "C"], in: folder)
            #expect(c.status == 0, "\(c.error)")
            #expect(c.error.contains("resuming Checkpoints/B.h5 after 1 epoch(s) and 0 batch(es)"), "\(c.error)")
            try Self.expectSameState(directory.path("Checkpoints/A.h5"), directory.path("Checkpoints/C.h5"))
            let ja = try #require(MoeProcess.json(a)), jc = try #require(MoeProcess.json(c))
            #expect(ja["test_accuracy"] as? Double == jc["test_accuracy"] as? Double)
            #expect(jc["epochs"] as? Int == 2)
            #expect(jc["steps"] as? Int == 32)
            // Training did move the weights: B (one epoch) differs from A.
            let weightsA = try Checkpoint.load(from: directory.path("Checkpoints/A.h5")).parameters
            let weightsB = try Checkpoint.load(from: directory.path("Checkpoints/B.h5")).parameters
            #expect(weightsA != weightsB)
            // The same comparison through the CLI: inspect --json digests.
            let digestA = MoeProcess.json(MoeProcess.run(["inspect", "A", "--json"], in: folder))?["parameter_digests"] as? [String: String]
            let digestC = MoeProcess.json(MoeProcess.run(["inspect", "C", "--json"], in: folder))?["parameter_digests"] as? [String: String]
            #expect(digestA != nil && digestA == digestC)
        }
    }

    @Test("A run stopped mid-epoch resumes exactly (periodic checkpoints on the way)")
    func midEpochResume() throws {
        try withTemporaryDirectory { directory in
            let folder = directory.url.path
            let whole = Self.train(["--epochs", "2", "--limit", "2000", "--hidden", "32", "--save", "whole"], in: folder)
            #expect(whole.status == 0, "\(whole.error)")
            // 16 batches per epoch: stop at step 21 (epoch 2, batch 5), saving every 4 steps.
            let part = Self.train(["--epochs", "2", "--limit", "2000", "--hidden", "32", "--save", "part",
                                   "--checkpoint-every", "4", "--stop-after-steps", "21"], in: folder)
            #expect(part.status == 0, "\(part.error)")
            let stopped = try Checkpoint.load(from: directory.path("Checkpoints/part.h5"))
            #expect(stopped.training?.counters == ["epoch": 1, "batch": 5, "steps": 21, "samples": 2640])
            let rest = Self.train(["--resume", "Checkpoints/part.h5", "--epochs", "2", "--save", "rest"], in: folder)
            #expect(rest.status == 0, "\(rest.error)")
            try Self.expectSameState(directory.path("Checkpoints/whole.h5"), directory.path("Checkpoints/rest.h5"))
        }
    }

    @Test("train --save then eval on Fashion-MNIST gives the accuracy train reported; eval --json prints test_accuracy",
          .enabled(if: TrainingData.hasFashionMNIST, TrainingData.needsFashionMNIST))
    func saveThenEval() throws {
        try withTemporaryDirectory { directory in
            let folder = directory.url.path
            let trained = MoeProcess.run(["train", "--epochs", "1", "--limit", "2000", "--hidden", "32", "--save", "model",
                                          "--data", TrainingData.fashionMNIST, "--json"], in: folder)
            #expect(trained.status == 0, "\(trained.error)")
            #expect(FileManager.default.fileExists(atPath: directory.path("Checkpoints/model.h5")))
            let accuracy = try #require(MoeProcess.json(trained)?["test_accuracy"] as? Double)
            #expect(accuracy > 0.3)
            let evaluated = MoeProcess.run(["eval", "model", "--data", TrainingData.fashionMNIST, "--json"], in: folder)
            #expect(evaluated.status == 0, "\(evaluated.error)")
            let json = try #require(MoeProcess.json(evaluated))
            #expect(json["test_accuracy"] as? Double == accuracy)
            #expect(json["checkpoint"] as? String == "Checkpoints/model.h5")
            // Human-readable output names the figure.
            let text = MoeProcess.run(["eval", "Checkpoints/model.h5", "--data", TrainingData.fashionMNIST], in: folder)
            #expect(text.output.contains("test accuracy \(String(format: "%.4f", accuracy))"))
        }
    }

    @Test("Bad option combinations and resumes exit non-zero with one clear line")
    func badOptions() throws {
        try withTemporaryDirectory { directory in
            let folder = directory.url.path
            let every = MoeProcess.run(["train", "--checkpoint-every", "5"], in: folder)
            #expect(every.status == 64)
            #expect(every.errorLines.first == "Error: --checkpoint-every needs a checkpoint to write: give --save (or --resume)")
            let missing = Self.train(["--resume", "nothing"], in: folder)
            #expect(missing.status == 1)
            #expect(missing.errorLines == ["Error: checkpoint 'Checkpoints/nothing.h5' does not exist"])
            let saved = Self.train(["--epochs", "1", "--limit", "300", "--hidden", "8", "--save", "small"], in: folder)
            #expect(saved.status == 0, "\(saved.error)")
            let conflict = Self.train(["--resume", "small", "--hidden", "16", "--epochs", "2"], in: folder)
            #expect(conflict.status == 1)
            #expect(conflict.errorLines.last == "Error: --hidden 16 differs from 8 in checkpoint 'Checkpoints/small.h5'; a resumed run keeps its settings (drop the option)")
            // The golden checkpoint was not written by moe train.
            let golden = repositoryRoot.appendingPathComponent("Checkpoints/golden-v1.h5").path
            let foreign = Self.train(["--resume", golden, "--epochs", "2", "--save", "x"], in: folder)
            #expect(foreign.status == 1)
            #expect(foreign.errorLines.last == "Error: checkpoint '\(golden)' has no /sections/train")
            let folderMissing = Self.train(["--epochs", "1", "--limit", "300", "--hidden", "8", "--save", "no/such/folder/m"], in: folder)
            #expect(folderMissing.status == 1)
            let line = folderMissing.errorLines.last ?? ""
            #expect(line.hasPrefix("Error: cannot save checkpoint 'no/such/folder/m.h5': the folder '"), "\(line)")
            #expect(line.hasSuffix("no/such/folder' does not exist"), "\(line)")
        }
    }
}
