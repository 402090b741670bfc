import Continual
import Foundation
import Testing
import MoE

/// Shared helpers of the checkpoint tests.
enum CheckpointFixtures {
    /// A small trained model (6-10-3, ReLU) with Adam state and a frozen bias, for checkpoint tests.
    static func checkpointFixture(steps: Int = 3, seed: UInt64 = 11) -> (model: MixtureOfExperts, adam: Adam, data: SeededGenerator) {
        var generator = SeededGenerator(seed: seed)
        var model = MixtureOfExperts(sizes: [6, 10, 3], generator: &generator)
        model.frozen = ["trunk.0.bias"]
        var adam = Adam(learningRate: 0.01)
        var data = SeededGenerator(seed: seed &+ 1)
        for _ in 0..<steps { trainingStep(&model, &adam, &data) }
        return (model, adam, data)
    }

    /// One Adam step on a batch of 8 drawn from `data`.
    static func trainingStep(_ model: inout MixtureOfExperts, _ optimizer: inout Adam, _ data: inout SeededGenerator) {
        let inputs = Matrix.uniform(rows: 8, columns: model.inputWidth, low: -1, high: 1, using: &data)
        let labels = (0..<8).map { _ in data.nextInt(below: model.classCount) }
        let (_, gradients, _) = model.lossAndGradients(inputs, labels: labels)
        optimizer.update(&model, gradients: gradients, frozen: model.frozen)
    }

    /// A checkpoint with every part filled: optimizer, training state, string classes and
    /// sections using every kind of value.
    static func fullCheckpoint() -> Checkpoint {
        let (model, adam, data) = checkpointFixture()
        var history = CheckpointSection()
        history.attributes["json"] = .string(#"[{"step": 3, "grew": "expert 0"}]"#)
        var statistics = CheckpointSection(
            attributes: ["count": .int(42), "decay": .double(0.99), "note": .string("Ünïcode ☃"),
                         "windows": .integers([1, 2, 3]), "thresholds": .doubles([-0.1, -4])],
            datasets: ["mean": .doubles([0.5, -1.25, 3]), "comoment": .float64([1, 2, 3, 4], shape: [2, 2]),
                       "counts": .integers([7, 8]), "seeds": .unsigned([UInt64.max, 1]),
                       "buffer": .float32(Matrix([[1, 2], [3, 4], [5, 6]])), "labels": .strings(["a", "b"]),
                       "empty": .float32(Matrix(rows: 0, columns: 6)), "none": .strings([])],
            children: ["history": history])
        statistics.children["nothing"] = CheckpointSection()
        let training = Checkpoint.TrainingState(
            learningRate: 0.005, counters: ["step": 3, "samples": 24], generators: ["data": data.state])
        return Checkpoint(model: model, optimizer: adam, training: training,
                          classes: .strings(["cat", "dog", "eel"]), sections: ["controller": statistics],
                          description: "fixture for tests")
    }

    /// A grown model: widened output, a class-posterior gate and two experts at two
    /// layers, every parameter random (zeros would hide a mix-up).
    static func grownModel(seed: UInt64 = 41) -> MixtureOfExperts {
        var generator = SeededGenerator(seed: seed)
        var model = MixtureOfExperts(sizes: [5, 8, 6, 3], activation: .tanh, generator: &generator)
        model.widenOutput(to: 4)
        model.configureGate(.classPosterior(features: .init(count: 12, seed: 9), k: 1))
        model.grow(at: 0, detectors: [1, 4], hiddenWidth: 3, classes: [0, 1], activation: .relu, generator: &generator)
        model.grow(at: 1, detectors: [0, 2, 5], hiddenWidth: 4, classes: [2, 3], context: .layerOutput,
                   activation: .tanh, generator: &generator)
        model.updateParameters { path, value in
            value = .uniform(rows: value.rows, columns: value.columns, low: -0.8, high: 0.8, using: &generator)
        }
        return model
    }

    /// What loading `checkpoint` as a learner says once `change` has altered its section
    /// `name`: the error's description, or "accepted" when it loads.
    static func learnerRefusal(_ checkpoint: Checkpoint, section name: String, _ change: (inout CheckpointSection) -> Void) -> String {
        var altered = checkpoint
        change(&altered.sections[name]!)
        do {
            _ = try Learner(checkpoint: altered)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    /// The repository's root folder (for scripts/ and Checkpoints/).
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs a program and returns its exit status and its standard output and error.
    static func runProgram(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch { return (-1, "", "\(error)") }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }

    /// Debian's python3 when it imports h5py and numpy (scripts/install-dependencies.sh
    /// installs them), else nil: the tests that need it are then skipped, saying why.
    static let python: String? = {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python),
              runProgram(python, ["-c", "import h5py, numpy"]).status == 0 else {
            return nil
        }
        return python
    }()

    /// Why a test that needs h5py is skipped.
    static let needsPython: Comment = "needs /usr/bin/python3 with h5py and numpy (apt-get install python3-h5py python3-numpy)"

    /// Rows of comma-separated numbers.
    static func writeCSV(_ matrix: Matrix, to path: String) throws {
        let lines = (0..<matrix.rows).map { r in matrix.row(r).map { "\($0)" }.joined(separator: ",") }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func readCSV(_ path: String) throws -> Matrix {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let rows = text.split(separator: "\n").filter { !$0.isEmpty }.map { line in
            line.split(separator: ",").map { Float(String($0).trimmingCharacters(in: .whitespaces))! }
        }
        return Matrix(rows)
    }
}

extension Checkpoint {
    /// This checkpoint with its learner state (the JSON object of
    /// `/sections/learner/state`) changed by `change`: a file saved before a key existed,
    /// or a crafted one.
    func changingLearnerState(_ change: (inout [String: Any]) -> Void) throws -> Checkpoint {
        var crafted = self
        let text = try crafted.section("learner").strings("state", count: 1)[0]
        var object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        change(&object)
        crafted.sections["learner"]!.datasets["state"] = .strings([String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)])
        return crafted
    }
}
