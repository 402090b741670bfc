import Continual
import Foundation
import MoE
import Testing
import TestSupport

/// The committed golden checkpoint and the Python reader.
@Suite("Checkpoint interop")
struct CheckpointInteropTests {
    static let golden = CheckpointFixtures.repositoryRoot.appendingPathComponent("Checkpoints/golden-v1.h5").path
    static let goldenInputs = CheckpointFixtures.repositoryRoot.appendingPathComponent("Checkpoints/golden-v1-inputs.csv").path
    static let goldenLogits = CheckpointFixtures.repositoryRoot.appendingPathComponent("Checkpoints/golden-v1-logits.csv").path
    static let script = CheckpointFixtures.repositoryRoot.appendingPathComponent("scripts/checkpoint_predict.py").path

    @Test("The committed version-1 checkpoint still loads and predicts its recorded logits")
    func goldenLoads() throws {
        let checkpoint = try Checkpoint.load(from: Self.golden)
        #expect(checkpoint.metadata.formatVersion == 1)
        #expect(checkpoint.metadata.created == "2025-01-01T00:00:00.000Z")
        #expect(checkpoint.classes == .strings(["alpha", "beta", "gamma"]))
        let model = try checkpoint.makeModel()
        #expect(model.trunk.kinds == [.dense(inputs: 8, outputs: 16), .relu, .dense(inputs: 16, outputs: 3)])
        #expect(model.frozen == ["trunk.0.weight", "trunk.0.bias"])
        let adam = try checkpoint.makeAdam(for: model)
        #expect(adam.steps["trunk.2.weight"] == 5 && adam.steps["trunk.0.weight"] == nil)
        #expect(checkpoint.training?.counters["step"] == 5)
        #expect(try checkpoint.section("controller").doubles("mean", count: 16).count == 16)

        let logits = model(try CheckpointFixtures.readCSV(Self.goldenInputs))
        let expected = try CheckpointFixtures.readCSV(Self.goldenLogits)
        #expect(logits.shape == expected.shape)
        #expect(maxRelativeDifference(logits, expected) <= 1e-5)
    }

    @Test("The Python script reproduces the model's logits within 1e-5",
          .enabled(if: CheckpointFixtures.python != nil, CheckpointFixtures.needsPython))
    func pythonPredicts() throws {
        let python = try #require(CheckpointFixtures.python)
        try withTemporaryDirectory { directory in
            // The golden file against its recorded logits.
            let output = directory.path("golden-logits.csv")
            var result = CheckpointFixtures.runProgram(python, [Self.script, Self.golden, Self.goldenInputs, "--output", output])
            #expect(result.status == 0, "script failed: \(result.error)")
            #expect(maxRelativeDifference(try CheckpointFixtures.readCSV(output), try CheckpointFixtures.readCSV(Self.goldenLogits)) <= 1e-5)

            // A freshly trained model (tanh, three hidden layers) against Swift.
            var generator = SeededGenerator(seed: 31)
            var model = MixtureOfExperts(sizes: [5, 12, 9, 4], activation: .tanh, generator: &generator)
            var adam = Adam(learningRate: 0.05)
            let inputs = Matrix.uniform(rows: 20, columns: 5, low: -2, high: 2, using: &generator)
            for _ in 0..<4 {
                let (_, gradients, _) = model.lossAndGradients(inputs, labels: (0..<20).map { $0 % 4 })
                adam.update(&model, gradients: gradients, frozen: [])
            }
            let path = directory.path("fresh.h5")
            try Checkpoint(model: model, optimizer: adam).save(to: path)
            let inputPath = directory.path("inputs.csv")
            try CheckpointFixtures.writeCSV(inputs, to: inputPath)
            result = CheckpointFixtures.runProgram(python, [Self.script, path, inputPath])
            #expect(result.status == 0, "script failed: \(result.error)")
            let printed = directory.path("printed.csv")
            try result.output.write(toFile: printed, atomically: true, encoding: .utf8)
            #expect(maxRelativeDifference(try CheckpointFixtures.readCSV(printed), model(inputs)) <= 1e-5)

            // A signed file is an ordinary version-1 file to a reader written before
            // signatures (the script's header checks predate them).
            let signedPath = directory.path("signed.h5")
            try Checkpoint(model: model, optimizer: adam).save(to: signedPath, signingKey: CheckpointSigningKey())
            result = CheckpointFixtures.runProgram(python, [Self.script, signedPath, inputPath])
            #expect(result.status == 0, "script failed on a signed file: \(result.error)")

            // .npy in and out.
            let npy = directory.path("inputs.npy"), npyOut = directory.path("logits.npy"), back = directory.path("back.csv")
            let convert = "import numpy, sys; numpy.save(sys.argv[2], numpy.loadtxt(sys.argv[1], delimiter=',', ndmin=2).astype('float32'))"
            #expect(CheckpointFixtures.runProgram(python, ["-c", convert, inputPath, npy]).status == 0)
            result = CheckpointFixtures.runProgram(python, [Self.script, path, npy, "--output", npyOut])
            #expect(result.status == 0, "script failed: \(result.error)")
            let unpack = "import numpy, sys; numpy.savetxt(sys.argv[2], numpy.load(sys.argv[1]), delimiter=',', fmt='%.9g')"
            #expect(CheckpointFixtures.runProgram(python, ["-c", unpack, npyOut, back]).status == 0)
            #expect(maxRelativeDifference(try CheckpointFixtures.readCSV(back), model(inputs)) <= 1e-5)

            // A widened output, and experts behind a class-posterior gate, are reproduced.
            var widened = MixtureOfExperts(sizes: [5, 7, 3], generator: &generator)
            widened.widenOutput(to: 5)
            widened.updateParameters { _, value in
                value = .uniform(rows: value.rows, columns: value.columns, low: -1, high: 1, using: &generator)
            }
            let widenedPath = directory.path("widened.h5")
            try Checkpoint(model: widened).save(to: widenedPath)
            result = CheckpointFixtures.runProgram(python, [Self.script, widenedPath, inputPath, "--output", back])
            #expect(result.status == 0, "script failed: \(result.error)")
            #expect(maxRelativeDifference(try CheckpointFixtures.readCSV(back), widened(inputs)) <= 1e-5)
            let grown = CheckpointFixtures.grownModel()
            let grownInputs = Matrix.uniform(rows: 40, columns: grown.inputWidth, low: -2, high: 2, using: &generator)
            let grownPath = directory.path("grown.h5"), grownInputPath = directory.path("grown-inputs.csv")
            try Checkpoint(model: grown).save(to: grownPath)
            try CheckpointFixtures.writeCSV(grownInputs, to: grownInputPath)
            result = CheckpointFixtures.runProgram(python, [Self.script, grownPath, grownInputPath, "--output", back])
            #expect(result.status == 0, "script failed: \(result.error)")
            #expect(maxRelativeDifference(try CheckpointFixtures.readCSV(back), grown(grownInputs)) <= 1e-5)
            result = CheckpointFixtures.runProgram(python, [Self.script, grownPath, grownInputPath, "--classes"])
            #expect(result.status == 0, "script failed: \(result.error)")
            #expect(result.output.split(separator: "\n").map { Int($0) } == grown.predict(grownInputs))
            #expect(Set(grown.forward(grownInputs).gate!.routing.topSlots).count >= 2, "rows are routed to experts too")

            // A corrupted file is refused by the script too.
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count - 10] ^= 0x40
            try bytes.write(to: URL(fileURLWithPath: path))
            result = CheckpointFixtures.runProgram(python, [Self.script, path, inputPath])
            #expect(result.status == 1 && result.error.contains("corrupt"), "\(result.status) \(result.error)")
        }
    }

    /// Writes the golden checkpoint and its expected logits. Run deliberately, only when
    /// adding the golden file of a new format version:
    /// `MOE_WRITE_GOLDEN=1 swift test --filter CheckpointInteropTests/writeGolden`.
    @Test("Write the golden checkpoint (only with MOE_WRITE_GOLDEN=1)",
          .enabled(if: ProcessInfo.processInfo.environment["MOE_WRITE_GOLDEN"] == "1"))
    func writeGolden() throws {
        var generator = SeededGenerator(seed: 2025)
        var model = MixtureOfExperts(sizes: [8, 16, 3], generator: &generator)
        model.frozen = ["trunk.0.weight", "trunk.0.bias"]
        var adam = Adam(learningRate: 0.02)
        for _ in 0..<5 {
            let inputs = Matrix.uniform(rows: 12, columns: 8, low: -1, high: 1, using: &generator)
            let labels = (0..<12).map { _ in generator.nextInt(below: 3) }
            let (_, gradients, _) = model.lossAndGradients(inputs, labels: labels)
            adam.update(&model, gradients: gradients, frozen: model.frozen)
        }
        let hidden = model.forward(Matrix.uniform(rows: 4, columns: 8, low: -1, high: 1, using: &generator)).hidden[0]
        let mean = hidden.columnSums().scalars.map { Double($0) / 4 }
        let controller = CheckpointSection(
            attributes: ["windows": .int(1), "history": .string("[]")], datasets: ["mean": .doubles(mean)])
        var checkpoint = Checkpoint(
            model: model, optimizer: adam,
            training: .init(learningRate: 0.02, counters: ["step": 5], generators: ["data": generator.state]),
            classes: .strings(["alpha", "beta", "gamma"]), sections: ["controller": controller],
            description: "golden checkpoint of format version 1: an 8-16-3 ReLU MLP, first layer frozen, 5 Adam steps")
        checkpoint.metadata.created = "2025-01-01T00:00:00.000Z"
        try checkpoint.save(to: Self.golden)
        let inputs = Matrix.uniform(rows: 6, columns: 8, low: -2, high: 2, using: &generator)
        try CheckpointFixtures.writeCSV(inputs, to: Self.goldenInputs)
        try CheckpointFixtures.writeCSV(model(inputs), to: Self.goldenLogits)
    }
}
