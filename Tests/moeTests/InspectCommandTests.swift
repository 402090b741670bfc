import Continual
import Foundation
import MoE
import Testing
import TestSupport

@Suite("moe inspect and moe eval on good and bad files")
struct InspectCommandTests {
    static let golden = repositoryRoot.appendingPathComponent("Checkpoints/golden-v1.h5").path

    @Test("inspect prints a readable summary of the golden checkpoint")
    func goldenSummary() {
        let result = MoeProcess.run(["inspect", Self.golden])
        #expect(result.status == 0)
        #expect(result.error.isEmpty)
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.first == "checkpoint '\(Self.golden)': format version 1, library 0.1.0, created 2025-01-01T00:00:00.000Z")
        for expected in [
            "description: golden checkpoint of format version 1: an 8-16-3 ReLU MLP, first layer frozen, 5 Adam steps",
            "trunk: dense(8->16) -> relu -> dense(16->3)",
            "parameters: 195 scalars, 51 trainable, 144 frozen",
            "  trunk.0.bias    1x16  frozen",
            "  trunk.0.weight  8x16  frozen",
            "  trunk.2.bias    1x3",
            "  trunk.2.weight  16x3",
            "classes (3): alpha, beta, gamma",
            "training: step=5, generator data",
            "  /sections/controller/mean  float64 16",
            "file: 26880 bytes; model rebuilt and verified: 195 parameters, 8 inputs, 3 classes, 0 expert(s)",
        ] {
            #expect(lines.contains(expected), "missing line '\(expected)' in:\n\(result.output)")
        }
    }

    @Test("inspect --json prints the parameters with shapes and frozen flags, and the metadata")
    func goldenJSON() throws {
        let result = MoeProcess.run(["inspect", Self.golden, "--json"])
        #expect(result.status == 0)
        let json = try #require(MoeProcess.json(result))
        #expect(json["format_version"] as? Int == 1)
        #expect(json["library_version"] as? String == "0.1.0")
        #expect(json["created"] as? String == "2025-01-01T00:00:00.000Z")
        #expect((json["description"] as? String)?.hasPrefix("golden checkpoint") == true)
        #expect(json["frozen_parameter_count"] as? Int == 144)
        #expect(json["trainable_parameter_count"] as? Int == 51)
        #expect(json["file_bytes"] as? Int == 26880)
        let parameters = try #require(json["parameters"] as? [[String: Any]])
        let byPath = Dictionary(uniqueKeysWithValues: parameters.map { ($0["path"] as! String, $0) })
        #expect(byPath.keys.sorted() == ["trunk.0.bias", "trunk.0.weight", "trunk.2.bias", "trunk.2.weight"])
        #expect(byPath["trunk.0.weight"]?["shape"] as? [Int] == [8, 16])
        #expect(byPath["trunk.0.weight"]?["frozen"] as? Bool == true)
        #expect(byPath["trunk.2.weight"]?["frozen"] as? Bool == false)
        let digests = try #require(json["parameter_digests"] as? [String: String])
        #expect(digests.count == 4 && digests.values.allSatisfy { $0.count == 16 })
        #expect(Set(digests.values).count == 4)
    }

    @Test("inspect shows a grown model's experts (layer, detectors) and gate, in text and --json")
    func grownModel() throws {
        var generator = SeededGenerator(seed: 3)
        var model = MixtureOfExperts(sizes: [12, 10, 8, 4], generator: &generator)
        model.configureGate(.learned(selection: .topK(2)))
        model.grow(at: 1, detectors: [6, 2, 5], hiddenWidth: 7, generator: &generator)
        model.widenOutput(to: 5)
        model.grow(at: 0, detectors: [0, 9], hiddenWidth: 4, classes: [4], generator: &generator)
        try withTemporaryDirectory { directory in
            let path = directory.path("grown.h5")
            try Checkpoint(model: model, description: "two experts").save(to: path)
            let text = MoeProcess.run(["inspect", path])
            #expect(text.status == 0, "\(text.error)")
            let lines = text.output.split(separator: "\n").map(String.init)
            #expect(lines.contains("architecture:"))
            #expect(lines.contains { $0.hasPrefix("  expert 0: hidden layer 1, detectors [6, 2, 5], context layerInput, ") }, "\(text.output)")
            #expect(lines.contains { $0.hasPrefix("  expert 1: hidden layer 0, detectors [0, 9], ") && $0.hasSuffix(", classes [4]") }, "\(text.output)")
            #expect(lines.contains { $0.hasPrefix("  gate: learned, top-2, reads the network input") }, "\(text.output)")
            #expect(lines.last == "file: \(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int) bytes; model rebuilt and verified: \(model.parameterCount) parameters, 12 inputs, 5 classes, 2 expert(s)")

            let json = try #require(MoeProcess.json(MoeProcess.run(["inspect", path, "--json"])))
            let experts = try #require(json["experts"] as? [[String: Any]])
            #expect(experts.count == 2)
            #expect(experts.first?["layer"] as? Int == 1)
            #expect(experts.first?["detectors"] as? [Int] == [6, 2, 5])
            #expect(experts.last?["hidden_width"] as? Int == 4)
            #expect(json["gate"] != nil)
            let parameters = try #require(json["parameters"] as? [[String: Any]])
            let frozen = Set(parameters.filter { $0["frozen"] as? Bool == true }.compactMap { $0["path"] as? String })
            #expect(frozen == model.frozen)
        }
    }

    /// Damaged copies of the golden file, by name.
    static func damagedFiles(in directory: TemporaryDirectory) throws -> [String: String] {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: golden)))
        var files: [String: [UInt8]] = [
            "empty.h5": [],
            "random.h5": (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) },
            "truncated.h5": Array(bytes.prefix(bytes.count / 2)),
            "header-only.h5": Array(bytes.prefix(512)),
            "appended.h5": bytes + [0, 1, 2],
        ]
        var flipped = bytes
        flipped[bytes.count - 700] ^= 0x10
        files["flipped.h5"] = flipped
        var header = bytes
        header[20] ^= 0x01
        files["header.h5"] = header
        var result: [String: String] = [:]
        for (name, content) in files {
            let path = directory.path(name)
            try Data(content).write(to: URL(fileURLWithPath: path))
            result[name] = path
        }
        try FileManager.default.createDirectory(atPath: directory.path("folder.h5"), withIntermediateDirectories: true)
        result["folder.h5"] = directory.path("folder.h5")
        result["missing.h5"] = directory.path("missing.h5")
        return result
    }

    @Test("inspect and eval on missing or damaged files exit 1 with one line naming the file", arguments: ["inspect", "eval"])
    func damaged(command: String) throws {
        try withTemporaryDirectory { directory in
            for (name, path) in try Self.damagedFiles(in: directory).sorted(by: { $0.key < $1.key }) {
                let result = MoeProcess.run([command, path, "--json"])
                #expect(result.status == 1, "\(command) \(name) exited \(result.status)")
                #expect(!result.signalled)
                #expect(result.output.isEmpty, "\(command) \(name) printed \(result.output)")
                #expect(result.errorLines.count == 1, "\(command) \(name):\n\(result.error)")
                let line = result.errorLines.first ?? ""
                #expect(line.hasPrefix("Error: "), "\(line)")
                #expect(line.contains("'\(path)'"), "\(command) \(name): \(line)")
            }
        }
    }

    @Test("The error line says what is wrong with each file")
    func damagedReasons() throws {
        try withTemporaryDirectory { directory in
            let files = try Self.damagedFiles(in: directory)
            let expected = [
                "missing.h5": "does not exist", "empty.h5": "the file is empty", "random.h5": "is not a checkpoint",
                "truncated.h5": "is truncated", "header-only.h5": "is truncated", "appended.h5": "unexpected bytes after its end",
                "flipped.h5": "content digest", "header.h5": "header is damaged", "folder.h5": "not a regular file",
            ]
            for (name, reason) in expected {
                let result = MoeProcess.run(["inspect", files[name]!])
                #expect(result.error.contains(reason), "\(name): \(result.error)")
            }
        }
    }

    @Test("A bare name is looked up in Checkpoints/ and named in the error")
    func bareName() throws {
        try withTemporaryDirectory { directory in
            let result = MoeProcess.run(["eval", "nothing-here"], in: directory.url.path)
            #expect(result.status == 1)
            #expect(result.errorLines == ["Error: checkpoint 'Checkpoints/nothing-here.h5' does not exist"])
        }
    }

    @Test("eval reads CSV rows from a file and from stdin, with class names as labels")
    func evalCSV() throws {
        // The golden checkpoint's logits for its inputs give the labels it must predict.
        let inputs = try String(contentsOf: repositoryRoot.appendingPathComponent("Checkpoints/golden-v1-inputs.csv"), encoding: .utf8)
            .split(separator: "\n")
        let logits = try String(contentsOf: repositoryRoot.appendingPathComponent("Checkpoints/golden-v1-logits.csv"), encoding: .utf8)
            .split(separator: "\n")
        let names = ["alpha", "beta", "gamma"]
        var rows: [String] = []
        for (x, l) in zip(inputs, logits) {
            let values = l.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces))! }
            let best = values.indices.max { values[$0] < values[$1] }!
            rows.append(x + "," + names[best])
        }
        // One wrong label: 5 of 6 right.
        rows[0] = String(rows[0].split(separator: ",").dropLast().joined(separator: ",")) + ","
            + (rows[0].hasSuffix("alpha") ? "beta" : "alpha")
        let csv = rows.joined(separator: "\n") + "\n"
        try withTemporaryDirectory { directory in
            let path = directory.path("rows.csv")
            try csv.write(toFile: path, atomically: true, encoding: .utf8)
            let fromFile = MoeProcess.run(["eval", Self.golden, "--source", "csv:\(path)", "--label-column", "last", "--json"])
            #expect(fromFile.status == 0, "\(fromFile.error)")
            let json = try #require(MoeProcess.json(fromFile))
            #expect(json["samples"] as? Int == 6)
            #expect(json["correct"] as? Int == 5)
            #expect(json["test_accuracy"] as? Double == 5.0 / 6.0)
            let fromStdin = MoeProcess.run(["eval", Self.golden, "--source", "stdin", "--label-column", "last", "--json"], input: csv)
            #expect(fromStdin.status == 0)
            #expect(MoeProcess.json(fromStdin)?["correct"] as? Int == 5)
            // A label the model does not know counts as an error, named; with
            // --unknown-labels error it stops the evaluation in one line naming the row.
            let unknown = csv + "1,2,3,4,5,6,7,8,delta\n"
            let counted = MoeProcess.run(["eval", Self.golden, "--source", "stdin", "--label-column", "last", "--json"], input: unknown)
            #expect(counted.status == 0, "\(counted.error)")
            let figures = try #require(MoeProcess.json(counted))
            #expect(figures["samples"] as? Int == 7 && figures["correct"] as? Int == 5)
            #expect(figures["unknown_class_samples"] as? Int == 1 && figures["unknown_labels"] as? [String] == ["delta"])
            #expect(counted.error.contains("1 of them are of classes the model has no output for (it has 3), labelled 'delta'"), "\(counted.error)")
            #expect(!counted.error.contains("warning"), "\(counted.error)")
            let bad = MoeProcess.run(["eval", Self.golden, "--source", "stdin", "--label-column", "last", "--unknown-labels", "error"],
                                     input: unknown)
            #expect(bad.status == 1)
            #expect(bad.errorLines.count == 1)
            #expect(bad.error.contains("standard input, line 7"), "\(bad.error)")
            // Most rows unknown (the wrong label column, or a stream stopped early): a warning.
            let wrong = MoeProcess.run(["eval", Self.golden, "--source", "stdin", "--label-column", "last"],
                                       input: unknown + String(repeating: "1,2,3,4,5,6,7,8,delta\n", count: 7))
            #expect(wrong.status == 0 && wrong.output.contains("warning: 8 of 14 rows have labels the model never learned"), "\(wrong.output)")
        }
    }

    @Test("eval skips and counts bad rows when told, scoring the rest as a clean file; labels written otherwise are named as the learned ones")
    func evalSkipsBadRows() throws {
        try withTemporaryDirectory { dir in
            let train = dir.path("train.csv"), test = dir.path("test.csv"), dirty = dir.path("dirty.csv"), dotted = dir.path("dotted.csv")
            let labels = ["alpha", "beta", "gamma"]
            try PredictCommandTests.write(PredictCommandTests.rows(600, seed: 5, labels: labels, order: [0, 1, 2, 3]), to: train)
            let rows = PredictCommandTests.rows(150, seed: 6, labels: labels, order: [0, 1, 2, 3])
            try PredictCommandTests.write(rows, to: test)
            // A line of notes first (the adult census's test file has one), a short row, a word
            // where a number goes.
            var bad = rows.map { $0.joined(separator: ",") }
            bad.insert("1,2,red", at: 40)
            bad.insert("x,2,red,beta", at: 90)
            try ("|1x3 Cross validator\n" + bad.joined(separator: "\n") + "\n").write(toFile: dirty, atomically: true, encoding: .utf8)
            try PredictCommandTests.write(rows.map { $0.dropLast() + [$0.last! + "."] }, to: dotted)
            let model = dir.path("m.h5")
            let s = MoeProcess.run(["stream", "--source", "csv:" + train, "--label-column", "last", "--hidden", "16", "--save", model])
            #expect(s.status == 0, "\(s.error)")
            let clean = MoeProcess.run(["eval", model, "--source", "csv:" + test, "--label-column", "last", "--json"])
            let cleanJSON = try #require(MoeProcess.json(clean), "\(clean.error)")
            #expect(cleanJSON["rows_skipped"] as? Int == 0 && cleanJSON["samples"] as? Int == 150)
            // Without the flag the first bad line stops it, named; with it, the rest scores as the clean file.
            let stopped = MoeProcess.run(["eval", model, "--source", "csv:" + dirty, "--label-column", "last"])
            #expect(stopped.status == 1 && stopped.error.contains("dirty.csv, line 1:"), "\(stopped.error)")
            let skipped = MoeProcess.run(["eval", model, "--source", "csv:" + dirty, "--label-column", "last", "--skip-bad-rows", "--json"])
            let skippedJSON = try #require(MoeProcess.json(skipped), "\(skipped.error)")
            #expect(skippedJSON["rows_skipped"] as? Int == 3 && skippedJSON["samples"] as? Int == 150)
            #expect(skippedJSON["test_accuracy"] as? Double == cleanJSON["test_accuracy"] as? Double)
            #expect(skipped.error.contains("3 rows skipped (2 of the wrong width, 1 with a field that is not a number)"), "\(skipped.error)")
            // Fashion-MNIST's test set has no rows to skip: said, not ignored.
            let idx = MoeProcess.run(["eval", model, "--skip-bad-rows"])
            #expect(idx.status == 1 && idx.error.contains("--skip-bad-rows reads a CSV source's rows"), "\(idx.error)")
            // Every label with a '.' after it: named as the learned labels written otherwise.
            let dots = MoeProcess.run(["eval", model, "--source", "csv:" + dotted, "--label-column", "last"])
            #expect(dots.status == 0 && dots.output.contains("'alpha.' for 'alpha'") && dots.output.contains("test accuracy 0.0000"), "\(dots.output)")
            #expect(!dots.output.contains("wrong label column"), "\(dots.output)")
        }
    }

    @Test("inspect outlines a stream's learner: its slots, their classes, who answers, the gate's head and the scores' calibration")
    func learnerOutline() throws {
        try withTemporaryDirectory { dir in
            let train = dir.path("train.csv"), test = dir.path("test.csv")
            let labels = ["alpha", "beta", "gamma"]
            try PredictCommandTests.write(PredictCommandTests.rows(600, seed: 5, labels: labels, order: [0, 1, 2, 3]), to: train)
            try PredictCommandTests.write(PredictCommandTests.rows(150, seed: 6, labels: labels, order: [0, 1, 2, 3]), to: test)
            for (name, options) in [("default", [String]()), ("replay", ["--growth", "off", "--gate", "learned"])] {
                let model = dir.path("\(name).h5")
                let s = MoeProcess.run(["stream", "--source", "csv:" + train, "--label-column", "last", "--hidden", "16", "--save", model] + options)
                #expect(s.status == 0, "\(s.error)")
                let text = MoeProcess.run(["inspect", model])
                #expect(text.status == 0, "\(text.error)")
                let lines = text.output.split(separator: "\n").map(String.init)
                // The outline comes before the parameters' list, where a first screen shows it.
                let start = try #require(lines.firstIndex { $0.hasPrefix("learner: 600 first-visit samples, prequential accuracy 0.") }, "\(text.output)")
                #expect(lines[start].hasSuffix(", 500 rows in the replay buffer"), "\(lines[start])")
                #expect(start < lines.firstIndex { $0.hasPrefix("parameters: ") }!)
                let slot = try #require(lines.first { $0.hasPrefix("  slot 0 (trunk): answered by the ") }, "\(text.output)")
                #expect(slot.hasSuffix("classes alpha, beta, gamma"), "\(slot)")
                #expect(lines.contains { $0.hasPrefix("  scores: calibrated with a temperature of ") }, "\(text.output)")
                let json = try #require(MoeProcess.json(MoeProcess.run(["inspect", model, "--json"])))
                let learner = try #require(json["learner"] as? [String: Any])
                // Two numbers, the gaps' indicator and the text column's indicators.
                let width = try #require(learner["input_features"] as? Int)
                #expect(width > 4 && learner["scaled_features"] as? Int ?? 0 > 2)
                #expect(lines[start + 1].hasPrefix("  inputs: \(width) features, scaled online"), "\(text.output)")
                let slots = try #require(learner["slots"] as? [[String: Any]])
                #expect(slots.count == 1 && slots[0]["classes"] as? [String] == labels && slots[0]["part"] as? String == "trunk")
                #expect(learner["samples_seen"] as? Int == 600 && learner["replay_rows"] as? Int == 500)
                let calibration = try #require(learner["calibration"] as? [String: Double])
                #expect(calibration["temperature"]! > 0 && calibration["rows"]! > 500)
                let eval = MoeProcess.run(["eval", model, "--source", "csv:" + test, "--label-column", "last"])
                #expect(eval.status == 0, "\(eval.error)")
                #expect(eval.output.contains("learner with 0 experts, \(width)->3"), "\(eval.output)")
                if name == "default" {
                    // The gate's discriminant routes: the arbiter's answer, as eval says it.
                    let answer = try #require(slots[0]["answer"] as? String)
                    #expect(eval.output.contains("who answers: slot 0 \(answer)"), "\(eval.output)")
                    #expect((learner["gate_head"] as? String)?.hasPrefix("a discriminant over ") == true)
                    #expect(slots[0]["first_visits"] as? Int ?? 0 > 500)
                } else {
                    // A learned gate: the networks answer, and no arbiter counts visits.
                    #expect(slot.hasPrefix("  slot 0 (trunk): answered by the network, classes"), "\(slot)")
                    #expect(slots[0]["first_visits"] == nil && learner["gate_head"] as? String == "a learned gate (no discriminant)")
                    #expect(!eval.output.contains("who answers"), "\(eval.output)")
                }
            }
            // A model `moe train` saved has no learner to outline.
            #expect(!MoeProcess.run(["inspect", Self.golden]).output.contains("learner:"))
            #expect(try #require(MoeProcess.json(MoeProcess.run(["inspect", Self.golden, "--json"])))["learner"] == nil)
        }
    }
}
