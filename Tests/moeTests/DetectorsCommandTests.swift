import Continual
import Foundation
import MoE
import Testing
import TestSupport

@Suite("moe detectors")
struct DetectorsCommandTests {
    static let golden = repositoryRoot.appendingPathComponent("Checkpoints/golden-v1.h5").path
    static let names = ["alpha", "beta", "gamma"]

    /// CSV rows for the golden checkpoint (8 features, label last) on which it is wrong
    /// exactly when hidden neuron `planted` is above its median: that neuron is then an
    /// error detector by construction.
    static func plantedRows(count: Int = 400) throws -> (csv: String, planted: Int, accuracy: Double) {
        let model = try Checkpoint.load(from: golden).makeModel()
        var generator = SeededGenerator(seed: 11)
        let input = Matrix(rows: count, columns: 8, scalars: (0..<(count * 8)).map { _ in generator.nextNormal() })
        let pass = model.forward(input)
        let hidden = pass.hidden[0]
        // The neuron with the largest variance over these inputs.
        func variance(_ j: Int) -> Float {
            let values = (0..<count).map { hidden[$0, j] }
            let mean = values.reduce(0, +) / Float(count)
            return values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        }
        let planted = (0..<hidden.columns).max { variance($0) < variance($1) }!
        let median = (0..<count).map { hidden[$0, planted] }.sorted()[count / 2]
        let predictions = pass.logits.argmaxRows()
        var lines: [String] = [], right = 0
        for i in 0..<count {
            let wrong = hidden[i, planted] > median
            right += wrong ? 0 : 1
            let label = wrong ? (predictions[i] + 1) % 3 : predictions[i]
            lines.append((0..<8).map { "\(input[i, $0])" }.joined(separator: ",") + "," + names[label])
        }
        return (lines.joined(separator: "\n") + "\n", planted, Double(right) / Double(count))
    }

    @Test("The planted detector is found, in the table and in --json; thresholds are honoured")
    func planted() throws {
        let (csv, planted, accuracy) = try Self.plantedRows()
        #expect(accuracy >= 0.5 && accuracy < 0.6)
        try withTemporaryDirectory { directory in
            let path = directory.path("rows.csv")
            try csv.write(toFile: path, atomically: true, encoding: .utf8)
            let source = ["--source", "csv:\(path)", "--label-column", "last"]
            let text = MoeProcess.run(["detectors", Self.golden] + source)
            #expect(text.status == 0, "\(text.error)")
            let lines = text.output.split(separator: "\n").map(String.init)
            #expect(lines.first == "checkpoint \(Self.golden): 8 inputs, hidden widths 16, 3 classes, 0 expert(s)")
            #expect(lines.contains { $0.hasPrefix("400 samples of ") && $0.hasSuffix(", accuracy \(String(format: "%.4f", accuracy))") }, "\(text.output)")
            #expect(lines.contains { $0.hasPrefix("Error detectors against correctness: rho <= -0.10, t <= -4.00, Benjamini-Hochberg q = 0.05; ") })
            #expect(lines.contains("layer  neuron       rho         t          n   p-value"))
            let row = lines.first { $0.hasPrefix(String(format: "%5d  %6d ", 0, planted)) }
            #expect(row != nil, "neuron \(planted) missing from:\n\(text.output)")
            #expect(row?.contains("    400.0") == true)

            let json = try #require(MoeProcess.json(MoeProcess.run(["detectors", Self.golden, "--json"] + source)))
            #expect(json["samples"] as? Int == 400)
            #expect(json["accuracy"] as? Double == accuracy)
            #expect(json["tested_neurons"] as? Int ?? 0 > 0)
            let layers = try #require(json["layers"] as? [[String: Any]])
            #expect(layers.count == 1)
            #expect(layers.first?["width"] as? Int == 16)
            let detectors = try #require(layers.first?["detectors"] as? [[String: Any]])
            #expect(json["detector_count"] as? Int == detectors.count)
            let found = try #require(detectors.first { $0["neuron"] as? Int == planted })
            let rho = try #require(found["rho"] as? Double)
            #expect(rho < -0.5)
            #expect(found["t"] as? Double ?? 0 < -4)
            #expect(found["n"] as? Double == 400)
            // Every reported detector passes the thresholds, most negative first.
            let rhos = detectors.compactMap { $0["rho"] as? Double }
            #expect(rhos == rhos.sorted() && rhos.allSatisfy { $0 <= -0.1 })

            // Above the planted neuron's |rho| nothing is left.
            let strict = MoeProcess.run(["detectors", Self.golden, "--min-rho", String(format: "%.3f", -rho + 0.01), "--json"] + source)
            let strictJSON = try #require(MoeProcess.json(strict))
            #expect(strictJSON["detector_count"] as? Int == 0)
            #expect(strict.error.contains("    0         (none of 16)"), "\(strict.error)")
            let loose = try #require(MoeProcess.json(MoeProcess.run(
                ["detectors", Self.golden, "--min-rho", "0", "--min-t", "0", "--false-discovery", "none", "--json"] + source)))
            #expect(loose["detector_count"] as? Int ?? 0 >= detectors.count)
            let criteria = try #require(loose["criteria"] as? [String: Any])
            #expect(criteria["minimum_t"] as? Double == 0)
        }
    }

    @Test("The default data is Fashion-MNIST's test split (here the synthetic IDX set) for a model trained on it")
    func defaultData() throws {
        try withTemporaryDirectory { directory in
            let folder = directory.url.path
            let trained = MoeProcess.run(["train", "--epochs", "1", "--limit", "300", "--hidden", "8", "--save", "small",
                                          "--data", TrainingData.synthetic], in: folder)
            #expect(trained.status == 0, "\(trained.error)")
            let result = MoeProcess.run(["detectors", "small", "--data", TrainingData.synthetic, "--target", "loss", "--json"], in: folder)
            #expect(result.status == 0, "\(result.error)")
            let json = try #require(MoeProcess.json(result))
            #expect(json["samples"] as? Int == 500)
            #expect(json["checkpoint"] as? String == "Checkpoints/small.h5")
            #expect(json["target"] as? String == "loss")
            let layers = try #require(json["layers"] as? [[String: Any]])
            #expect(layers.map { $0["width"] as? Int } == [8])
        }
    }

    @Test("Bad checkpoints, data and options give one line and a non-zero exit")
    func badInputs() throws {
        try withTemporaryDirectory { directory in
            let missing = MoeProcess.run(["detectors", "nothing-here"], in: directory.url.path)
            #expect(missing.status == 1)
            #expect(missing.errorLines == ["Error: checkpoint 'Checkpoints/nothing-here.h5' does not exist"])

            // The golden model reads 8 features, not 784.
            let wrongWidth = MoeProcess.run(["detectors", Self.golden, "--data", TrainingData.synthetic])
            #expect(wrongWidth.status == 1)
            #expect(wrongWidth.errorLines.count == 1, "\(wrongWidth.error)")
            #expect(wrongWidth.errorLines.first?.hasPrefix("Error: checkpoint '\(Self.golden)' cannot be evaluated on ") == true, "\(wrongWidth.error)")

            let unknownLabel = MoeProcess.run(["detectors", Self.golden, "--source", "stdin", "--label-column", "last", "--json"],
                                              input: "1,2,3,4,5,6,7,8,alpha\n1,2,3,4,5,6,7,8,delta\n")
            #expect(unknownLabel.status == 1)
            #expect(unknownLabel.output.isEmpty)
            #expect(unknownLabel.errorLines.count == 1)
            #expect(unknownLabel.error.contains("standard input, line 2"), "\(unknownLabel.error)")

            let empty = MoeProcess.run(["detectors", Self.golden, "--source", "stdin"], input: "")
            #expect(empty.status == 1)
            #expect(empty.errorLines == ["Error: standard input: there are no samples in it."], "\(empty.error)")

            for (arguments, message) in [
                (["--min-rho", "2"], "Error: --min-rho must be between 0 and 1, got 2.0"),
                (["--min-t=-1"], "Error: --min-t must be a non-negative number, got -1.0"),
                (["--false-discovery", "bh:2"], "Error: --false-discovery must be bh:Q or bonferroni:ALPHA with a rate in (0, 1), or none; got 'bh:2'"),
                (["--source", "file.csv"], "Error: --source must be csv:PATH, stdin or idx:IMAGES,LABELS, got 'file.csv'"),
            ] {
                let result = MoeProcess.run(["detectors", Self.golden] + arguments)
                #expect(result.status == 64)
                #expect(result.errorLines.first == message, "\(result.error)")
            }
        }
    }
}
