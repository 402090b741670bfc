import Continual
import Foundation
import MoE
import Testing
import TestSupport

/// `scripts/checkpoint_predict.py` reading a CSV file as `moe predict` reads it for a
/// learner streamed from CSV: the layout saved in /sections/stream (header, label column,
/// columns left out, text columns and their values, missing values' means and flags).
@Suite("checkpoint_predict.py reads a CSV file as the learner's stream was read")
struct CheckpointPredictCSVTests {
    static let names = ["id", "x1", "colour", "label", "x2", "x3"]

    /// Rows of `names`: an identifier, a measurement that tells the class, a colour (text,
    /// one value quoted with the separator inside), the label by name in the middle, a
    /// column missing one time in five, and noise. With `unseen`, one row in ten has a
    /// colour the stream never had, and two in ten a number in dress.
    static func rows(_ count: Int, from start: Int, unseen: Bool = false, generator: inout SeededGenerator) -> [[String]] {
        let classes = ["cat", "dog", "bird"]
        return (start..<(start + count)).map { i in
            let label = generator.nextInt(below: 3)
            let colours = label == 2 ? ["purple", "red"] : ["red", "green", "\"light, blue\""]
            var colour = colours[generator.nextInt(below: colours.count)]
            if unseen && i % 10 == 0 { colour = "orange" }
            let x1 = generator.nextNormal() + 1.5 * Float(label)
            let x2 = generator.nextInt(below: 5) == 0 ? "NA" : "\(generator.nextNormal() * 100 + 40 * Float(label))"
            // Unseen rows also write numbers in dress now and then, as moe reads them.
            let x3 = unseen && i % 10 == 1 ? "12%" : unseen && i % 10 == 2 ? "\"1,852.18\"" : "\(generator.nextNormal())"
            return ["\(i)", "\(x1)", colour, classes[label], x2, x3]
        }
    }

    static func write(_ header: [String]?, _ rows: [[String]], columns: [Int], to path: String) throws {
        let lines = (header.map { [$0] } ?? []) + rows
        // A row shorter than `columns` (a bad row) is written as short.
        try lines.map { row in columns.filter { $0 < row.count }.map { row[$0] }.joined(separator: ",") }
            .joined(separator: "\n").appending("\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A learner streamed by `moe stream` from `count` rows with their header, the label
    /// column named: its checkpoint and the stream's result.
    static func streamed(_ count: Int, in directory: TemporaryDirectory, generator: inout SeededGenerator,
                         _ arguments: [String] = []) throws -> (String, MoeProcess.Result) {
        try write(names, rows(count, from: 0, generator: &generator), columns: Array(0..<6), to: directory.path("train.csv"))
        let checkpoint = directory.path("learner.h5")
        let stream = MoeProcess.run(["stream", "--source", "csv:" + directory.path("train.csv"), "--label-column", "label",
                                     "--hidden", "16", "--save", checkpoint] + arguments)
        #expect(stream.status == 0, "\(stream.error)")
        return (checkpoint, stream)
    }

    func script(_ python: String, _ arguments: [String]) -> MoeProcess.Result {
        MoeProcess.run(executable: python, [CheckpointPredictScriptTests.script] + arguments, in: nil, input: nil)
    }

    @Test("Header, label by name, a column left out, text with an unseen value, gaps filled and flagged: the classes moe predict gives, and moe eval's accuracy")
    func readAsStreamed() throws {
        guard let python = CheckpointPredictScriptTests.python() else { return }
        try withTemporaryDirectory { directory in
            var generator = SeededGenerator(seed: 7)
            let (checkpoint, stream) = try Self.streamed(900, in: directory, generator: &generator, ["--ignore-columns", "id", "--json"])
            #expect(MoeProcess.json(stream)?["text_columns"] != nil)
            let test = Self.rows(200, from: 900, unseen: true, generator: &generator)
            let all = Array(0..<6), features = [0, 1, 2, 4, 5]
            try Self.write(Self.names, test, columns: all, to: directory.path("test.csv"))
            let predict = MoeProcess.run(["predict", checkpoint, "--source", "csv:" + directory.path("test.csv"), "--labelled"])
            #expect(predict.status == 0, "\(predict.error)")
            let expected = predict.output.split(separator: "\n").map(String.init)
            #expect(expected.count == test.count)
            let eval = MoeProcess.run(["eval", checkpoint, "--source", "csv:" + directory.path("test.csv"), "--json"])
            let accuracy = try #require(MoeProcess.json(eval)?["test_accuracy"] as? Double)

            let labelled = script(python, [checkpoint, directory.path("test.csv"), "--labelled", "--classes"])
            #expect(labelled.status == 0, "\(labelled.error)")
            #expect(labelled.output.split(separator: "\n").map(String.init) == expected)
            #expect(labelled.error.contains(String(format: "accuracy %.4f (", accuracy)), "\(labelled.error) against \(accuracy)")
            #expect(labelled.error.contains("text values the learner never saw ('orange' in 'colour') read as missing"), "\(labelled.error)")

            // The same rows without their label, the columns in another order under their
            // names; and with neither header nor label, in the learned order.
            try Self.write(Self.names, test, columns: [5, 2, 4, 1, 0], to: directory.path("shuffled.csv"))
            try Self.write(nil, test, columns: features, to: directory.path("bare.csv"))
            for file in ["shuffled.csv", "bare.csv"] {
                let read = script(python, [checkpoint, directory.path(file), "--classes"])
                #expect(read.status == 0, "\(file): \(read.error)")
                #expect(read.output.split(separator: "\n").map(String.init) == expected, "\(file)")
            }
        }
    }

    @Test("The shared indicator of a text value beyond a column's own ones is CSVFormat.indicator's, bytes beyond ASCII too")
    func sharedIndicator() throws {
        guard let python = CheckpointPredictScriptTests.python() else { return }
        let values = ["red", "green", "Private", "Self-emp-not-inc", "caf\u{E9}", "東京", "", "a,b"]
        let program = "import importlib.util, json, sys; spec = importlib.util.spec_from_file_location('cp', sys.argv[1]); "
            + "cp = importlib.util.module_from_spec(spec); spec.loader.exec_module(cp); "
            + "print(json.dumps([[cp.text_indicator(v, n) for v in json.loads(sys.argv[2])] for n in (16, 7, 4096)]))"
        let json = String(decoding: try JSONSerialization.data(withJSONObject: values), as: UTF8.self)
        let run = MoeProcess.run(executable: python, ["-c", program, CheckpointPredictScriptTests.script, json], in: nil, input: nil)
        #expect(run.status == 0, "\(run.error)")
        let expected = [16, 7, 4096].map { n in values.map { CSVFormat.indicator(of: $0, among: n) } }
        let printed = try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [[Int]]
        #expect(printed == expected)
    }

    @Test("A bad field, a row of another width and a header without a learned column are refused, naming the line, the column or the name")
    func badRowsNamed() throws {
        guard let python = CheckpointPredictScriptTests.python() else { return }
        try withTemporaryDirectory { directory in
            var generator = SeededGenerator(seed: 8)
            let (checkpoint, _) = try Self.streamed(600, in: directory, generator: &generator)
            var test = Self.rows(20, from: 600, generator: &generator)
            test[4][1] = "abc"
            try Self.write(Self.names, test, columns: Array(0..<6), to: directory.path("bad.csv"))
            test[4][1] = "inf"
            try Self.write(Self.names, test, columns: Array(0..<6), to: directory.path("infinite.csv"))
            test[4][1] = "1.5"
            test[7].removeLast()
            try Self.write(Self.names, test, columns: Array(0..<6), to: directory.path("short.csv"))
            try Self.write(["id", "x1", "colour", "label", "x2"], Self.rows(5, from: 0, generator: &generator),
                           columns: Array(0..<5), to: directory.path("lacking.csv"))
            try Self.write(nil, Self.rows(5, from: 0, generator: &generator), columns: Array(0..<6), to: directory.path("labelled.csv"))
            try "@relation pets\n@attribute x1 numeric\n@data\n1\n".write(toFile: directory.path("weka.csv"), atomically: true, encoding: .utf8)
            let cases = [
                ("bad.csv", "line 6, column 2 ('x1'): the field 'abc' is not a number"),
                ("infinite.csv", "line 6, column 2 ('x1'): the field 'inf' is not finite"),
                ("short.csv", "line 9: the row has 5 fields, the learner's rows with their label have 6"),
                ("lacking.csv", "the header lacks the learned columns 'x3'"),
                ("labelled.csv", "line 1: the row has 6 fields, as the learner's rows with their label; give --labelled"),
                ("weka.csv", "ARFF and JSON lines files are not read by this script: use moe predict"),
            ]
            for (file, message) in cases {
                let read = script(python, [checkpoint, directory.path(file), "--classes"])
                #expect(read.status == 1 && read.error.contains(message) && !read.error.contains("Traceback"), "\(file): \(read.error)")
            }
            // --labelled for inputs that are the network's own (a .npy file) is refused too.
            let inputs = MoeProcess.run(executable: python, ["-c", "import numpy, sys; numpy.save(sys.argv[1], numpy.zeros((2, 20), numpy.float32))",
                                                             directory.path("x.npy")], in: nil, input: nil)
            #expect(inputs.status == 0, "\(inputs.error)")
            let npy = script(python, [checkpoint, directory.path("x.npy"), "--labelled", "--classes"])
            #expect(npy.status == 1 && npy.error.contains("--labelled reads a CSV file laid out as the learner's stream"), "\(npy.error)")
        }
    }

    @Test("A learner streamed from rows led by R's row names, or from svmlight rows folded into hashed columns, is refused with a sentence: use moe predict")
    func layoutsItDoesNotRead() throws {
        guard let python = CheckpointPredictScriptTests.python() else { return }
        try withTemporaryDirectory { directory in
            var generator = SeededGenerator(seed: 9)
            // R's write.csv: the rows' names first, under an empty name.
            let named = (1...300).map { i -> String in
                let label = generator.nextInt(below: 3)
                return "\"\(i)\",\(generator.nextNormal() + Float(label)),\(generator.nextNormal()),\"c\(label)\""
            }
            try (["\"\",\"x1\",\"x2\",\"label\""] + named).joined(separator: "\n").appending("\n")
                .write(toFile: directory.path("named.csv"), atomically: true, encoding: .utf8)
            // svmlight rows with a feature index past 16,384: folded into hashed columns.
            let sparse = (0..<300).map { _ -> String in
                let label = generator.nextInt(below: 2)
                return "\(label) 3:\(generator.nextNormal() + Float(label)) 20000:\(generator.nextNormal())"
            }
            try sparse.joined(separator: "\n").appending("\n").write(toFile: directory.path("wide.svm"), atomically: true, encoding: .utf8)
            try #"{"gate": {"classPosterior": {"features": 16}}}"#.write(toFile: directory.path("small.json"), atomically: true, encoding: .utf8)
            try "1,2,3\n".write(toFile: directory.path("rows.csv"), atomically: true, encoding: .utf8)
            let cases = [
                ("named.csv", ["--label-column", "label"], "the learner's rows began with R's row names, left out; this script does not read such files: use moe predict"),
                ("wide.svm", [], "the learner's rows were folded into hashed columns (a file wider than 16,384 columns or svmlight); this script does not fold them: use moe predict"),
            ]
            for (file, options, message) in cases {
                let checkpoint = directory.path(file + ".h5")
                let stream = MoeProcess.run(["stream", "--source", "csv:" + directory.path(file), "--hidden", "8",
                                             "--learner-config", directory.path("small.json"), "--save", checkpoint] + options)
                #expect(stream.status == 0, "\(file): \(stream.error)")
                let read = script(python, [checkpoint, directory.path("rows.csv"), "--classes"])
                #expect(read.status == 1 && read.error.contains(message) && !read.error.contains("Traceback"), "\(file): \(read.error)")
            }
        }
    }
}

