import Foundation
import Testing
import TestSupport

/// `moe suite`: the streams run for each learner and path, and every row carries its
/// figures and where its time went.
@Suite("moe suite")
struct SuiteCommandTests {
    @Test("a small stream, two learners, both paths: rows with accuracy, seconds and work by phase; the table is written")
    func smallSuite() throws {
        try withTemporaryDirectory { dir in
            let r = MoeProcess.run(["suite", "--data", TrainingData.synthetic, "--streams", "small-fmnist",
                                    "--learners", "default,gate", "--out", dir.path("suite"), "--json"])
            #expect(r.status == 0, "\(r.error)")
            let json = try #require(MoeProcess.json(r))
            let rows = try #require(json["rows"] as? [[String: Any]])
            #expect(rows.count == 4, "2 learners x 2 paths, got \(rows.count)")
            for row in rows {
                let accuracy = try #require(row["accuracy"] as? Double)
                #expect(accuracy > 0.5, "\(row)")
                let prequential = try #require(row["prequential_accuracy"] as? Double)
                #expect(prequential > 0.3 && prequential < 1, "\(row)")
                // The served scores: better than a uniform guess over the 10 classes (log 10;
                // the synthetic images are easy: 0 when every answer is sure and right),
                // and calibrated within a few points.
                let logLoss = try #require(row["log_loss"] as? Double)
                #expect(logLoss >= 0 && logLoss < log(10.0), "\(row)")
                let calibration = try #require(row["calibration_error"] as? Double)
                #expect(calibration >= 0 && calibration < 0.25, "\(row)")
                let seconds = try #require(row["phase_seconds"] as? [String: Double])
                let work = try #require(row["phase_flops"] as? [String: Double])
                for phase in ["predict", "gate_statistics", "refit", "training"] {
                    #expect(seconds[phase] != nil && (work[phase] ?? 0) > 0, "\(phase) in \(row)")
                }
                #expect(seconds.values.reduce(0, +) <= (row["seconds"] as? Double ?? 0) * 1.01, "phases exceed the run: \(row)")
            }
            let table = try String(contentsOfFile: dir.path("suite/suite.md"), encoding: .utf8)
            #expect(table.contains("| log-loss (default) |"), "\(table)")
            #expect(FileManager.default.fileExists(atPath: dir.path("suite/suite.json")))
        }
    }

    /// `StreamContinueTests.colourRows()` under a header: the first `training` rows train,
    /// the rest test.
    static func ownFile(in dir: TemporaryDirectory, training: Int = 600) throws -> (train: String, test: String) {
        let lines = StreamContinueTests.colourRows()
        let write = { (rows: ArraySlice<String>, name: String) in
            try ((["x,colour,class"] + rows).joined(separator: "\n") + "\n").write(toFile: dir.path(name), atomically: true, encoding: .utf8)
        }
        try write(lines[..<training], "train.csv")
        try write(lines[training...], "test.csv")
        return (dir.path("train.csv"), dir.path("test.csv"))
    }

    @Test("your own file: each learner streams it and is scored on the test file, as moe stream --save and moe eval score it")
    func ownFileSuite() throws {
        try withTemporaryDirectory { dir in
            let (train, test) = try Self.ownFile(in: dir)
            let options = ["--label-column", "class", "--batch-size", "20", "--seed", "2"]
            let r = MoeProcess.run(["suite", "--source", "csv:" + train, "--test", "csv:" + test, "--learners", "default,gate,replay",
                                    "--out", dir.path("suite"), "--json"] + options)
            #expect(r.status == 0, "\(r.error)")
            let rows = try #require(MoeProcess.json(r)?["rows"] as? [[String: Any]])
            #expect(rows.map { $0["learner"] as? String } == ["default", "gate", "replay"])
            // Named by the file's folder and name: sets kept as a folder each share file names.
            let shown = URL(fileURLWithPath: train).deletingLastPathComponent().lastPathComponent + "/train.csv"
            for row in rows {
                #expect(row["stream"] as? String == shown && row["path"] as? String == "csv", "\(row)")
                #expect(try #require(row["accuracy"] as? Double) > 0.55, "\(row)")
            }
            let table = try String(contentsOfFile: dir.path("suite/suite.md"), encoding: .utf8)
            #expect(table.contains("| \(shown) | csv | "), "\(table)")
            // The checkpoints each learner saved go with the data folder, unless --keep-data.
            #expect(!FileManager.default.fileExists(atPath: dir.path("suite/data")))
            // The user's two commands give the default learner's row, to the last digit.
            let streamed = MoeProcess.run(["stream", "--source", "csv:" + train, "--save", dir.path("d.h5"), "--json"] + options)
            #expect(streamed.status == 0, "\(streamed.error)")
            let eval = MoeProcess.run(["eval", dir.path("d.h5"), "--source", "csv:" + test, "--label-column", "class", "--json"])
            #expect(eval.status == 0, "\(eval.error)")
            let accuracy = try #require(MoeProcess.json(eval)?["test_accuracy"] as? Double)
            #expect(rows[0]["accuracy"] as? Double == accuracy, "suite \(rows[0]), eval \(accuracy)")
            #expect(rows[0]["prequential_accuracy"] as? Double == MoeProcess.json(streamed)?["prequential_accuracy"] as? Double)
            // A test file whose header holds the columns in another order, and one more:
            // read by their names, the label where the training file's last column was,
            // the same row; said once.
            let lines = try String(contentsOfFile: test, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
            let reordered = lines.enumerated().map { i, f in "\(f[2]),\(i == 0 ? "id" : String(i)),\(f[0]),\(f[1])" }
            try (reordered.joined(separator: "\n") + "\n").write(toFile: dir.path("reordered.csv"), atomically: true, encoding: .utf8)
            let byName = MoeProcess.run(["suite", "--source", "csv:" + train, "--test", "csv:" + dir.path("reordered.csv"),
                                         "--learners", "default,gate", "--out", dir.path("suite"), "--json",
                                         "--label-column", "last", "--batch-size", "20", "--seed", "2"])
            #expect(byName.status == 0, "\(byName.error)")
            #expect(try #require(MoeProcess.json(byName)?["rows"] as? [[String: Any]]).first?["accuracy"] as? Double == accuracy)
            #expect(byName.error.components(separatedBy: "columns read by their header names").count == 2, "\(byName.error)")
        }
    }

    @Test("--learner-config: the default learner, its gate alone and growth off start from the file's settings, replay-500 does not; a file that cannot give them is named before anything is written")
    func learnerConfig() throws {
        try withTemporaryDirectory { dir in
            let (train, test) = try Self.ownFile(in: dir)
            let options = ["--label-column", "class", "--batch-size", "20"]
            let settings = dir.path("narrow.json")
            try #"{"hidden": [8], "gate": {"classPosterior": {"features": 64}}}"#.write(toFile: settings, atomically: true, encoding: .utf8)
            func suite(_ extra: [String]) throws -> (rows: [[String: Any]], json: [String: Any], table: String) {
                let r = MoeProcess.run(["suite", "--source", "csv:" + train, "--test", "csv:" + test, "--learners", "default,gate,replay",
                                        "--out", dir.path("suite"), "--json"] + options + extra)
                #expect(r.status == 0, "\(r.error)")
                let json = try #require(MoeProcess.json(r))
                let table = try String(contentsOfFile: dir.path("suite/suite.md"), encoding: .utf8)
                return (try #require(json["rows"] as? [[String: Any]]), json, table)
            }
            let plain = try suite([]), narrow = try suite(["--learner-config", settings])
            // The default learner's row is what moe stream --learner-config and moe eval give.
            let streamed = MoeProcess.run(["stream", "--source", "csv:" + train, "--learner-config", settings,
                                           "--save", dir.path("d.h5"), "--json"] + options)
            #expect(streamed.status == 0, "\(streamed.error)")
            let eval = MoeProcess.run(["eval", dir.path("d.h5"), "--source", "csv:" + test, "--label-column", "class", "--json"])
            let accuracy = try #require(MoeProcess.json(eval)?["test_accuracy"] as? Double)
            #expect(narrow.rows[0]["accuracy"] as? Double == accuracy, "suite \(narrow.rows[0]), eval \(accuracy)")
            let prequential = try #require(narrow.rows[0]["prequential_accuracy"] as? Double)
            #expect(prequential == MoeProcess.json(streamed)?["prequential_accuracy"] as? Double)
            // Other learners than the defaults' (measured: the gate's refits do the work of
            // 64 features, not 2,048), the gate alone too.
            func refitWork(_ row: [String: Any]) throws -> Double {
                try #require((row["phase_flops"] as? [String: Double])?["refit"])
            }
            #expect(try refitWork(narrow.rows[0]) < refitWork(plain.rows[0]) / 10, "\(plain.rows[0])")
            #expect(narrow.rows[1]["learner"] as? String == "gate")
            #expect(try refitWork(narrow.rows[1]) < refitWork(plain.rows[1]) / 10, "\(plain.rows[1])")
            // Replay-500 is the fixed baseline, the same with the file and without it.
            #expect(narrow.rows[2]["learner"] as? String == "replay")
            #expect(narrow.rows[2]["accuracy"] as? Double == plain.rows[2]["accuracy"] as? Double)
            #expect(narrow.rows[2]["prequential_accuracy"] as? Double == plain.rows[2]["prequential_accuracy"] as? Double)
            // The file is recorded in the JSON and said under the table.
            #expect(narrow.json["learner_config"] as? String == settings && plain.json["learner_config"] == nil)
            #expect(narrow.table.contains("with the settings of \(settings)") && !plain.table.contains("with the settings of"), "\(narrow.table)")
            // A key the settings do not have, and a file that is not there: named, nothing written.
            try #"{"growth": {"coolDown": 3}}"#.write(toFile: dir.path("typo.json"), atomically: true, encoding: .utf8)
            for (file, phrase) in [(dir.path("typo.json"), "no key 'growth.coolDown'"), (dir.path("absent.json"), "cannot read the learner configuration")] {
                let r = MoeProcess.run(["suite", "--source", "csv:" + train, "--out", dir.path("refused"), "--learner-config", file] + options)
                #expect(r.status != 0 && r.error.contains(file) && r.error.contains(phrase), "\(r.error)")
                #expect(!FileManager.default.fileExists(atPath: dir.path("refused")))
            }
        }
    }

    @Test("your own file: --test is a CSV file and goes only with --source, standard input is refused, a bad row, a test file or a missing one is named")
    func ownFileErrors() throws {
        try withTemporaryDirectory { dir in
            let (train, test) = try Self.ownFile(in: dir)
            let out = ["--out", dir.path("suite"), "--learners", "default"]
            try "x,colour,class\n1,red,c0\n2,blue,c1\n".write(toFile: dir.path("two.csv"), atomically: true, encoding: .utf8)
            let few = MoeProcess.run(["suite", "--source", "csv:" + dir.path("two.csv"), "--label-column", "class"] + out)
            #expect(few.status != 0 && few.error.contains("two.csv' has 2 rows, too few to hold a quarter out to score on; give --test csv:PATH"), "\(few.error)")
            let notCSV = MoeProcess.run(["suite", "--source", "csv:" + train, "--test", test] + out)
            #expect(notCSV.status != 0 && notCSV.error.contains("--test must be csv:PATH"), "\(notCSV.error)")
            let stray = MoeProcess.run(["suite", "--test", "csv:" + test] + out)
            #expect(stray.status != 0 && stray.error.contains("--test, --batch-size and --orders go with --source csv:PATH"), "\(stray.error)")
            let order = MoeProcess.run(["suite", "--source", "csv:" + train, "--test", "csv:" + test, "--orders", "file,sorted"] + out)
            #expect(order.status != 0 && order.error.contains("unknown order 'sorted'; the orders are file, shuffled, class"), "\(order.error)")
            let piped = MoeProcess.run(["suite", "--source", "stdin", "--test", "csv:" + test] + out)
            #expect(piped.status != 0 && piped.error.contains("moe suite --source takes a file"), "\(piped.error)")
            let named = MoeProcess.run(["suite", "--source", "csv:" + train, "--test", "csv:" + test, "--streams", "split-fmnist"] + out)
            #expect(named.status != 0 && named.error.contains("with --source the suite streams your file"), "\(named.error)")
            // A test file whose rows have a column more than its header: named. (A header
            // naming the column more is read by the learned names, the column left out.)
            let lines = try String(contentsOfFile: test, encoding: .utf8).split(separator: "\n")
            try (lines.enumerated().map { $0.offset == 0 ? String($0.element) : $0.element + ",1" }.joined(separator: "\n") + "\n")
                .write(toFile: dir.path("wider.csv"), atomically: true, encoding: .utf8)
            let wider = MoeProcess.run(["suite", "--source", "csv:" + train, "--test", "csv:" + dir.path("wider.csv"),
                                        "--label-column", "class"] + out)
            #expect(wider.status != 0 && wider.error.contains("wider.csv"), "\(wider.error)")
            // A ragged row in the training file: its line.
            var rows = try String(contentsOfFile: train, encoding: .utf8).split(separator: "\n").map(String.init)
            rows.insert("1,2", at: 51)
            try (rows.joined(separator: "\n") + "\n").write(toFile: dir.path("ragged.csv"), atomically: true, encoding: .utf8)
            let ragged = MoeProcess.run(["suite", "--source", "csv:" + dir.path("ragged.csv"), "--test", "csv:" + test,
                                         "--label-column", "class"] + out)
            #expect(ragged.status != 0 && ragged.error.contains("ragged.csv, line 52"), "\(ragged.error)")
            // A test file that is not there: named before any learner streams, nothing written.
            let absent = MoeProcess.run(["suite", "--source", "csv:" + train, "--test", "csv:" + dir.path("nope.csv"),
                                         "--label-column", "class", "--out", dir.path("none")])
            #expect(absent.status == 1 && absent.errorLines.last == "Error: \(dir.path("nope.csv")): no such file.", "\(absent.error)")
            #expect(!FileManager.default.fileExists(atPath: dir.path("none")))
        }
    }

    @Test("a data folder the output already held keeps what it held: the suite removes only the files it wrote, after a failure too, and overwrites none")
    func keepsTheUsersDataFolder() throws {
        try withTemporaryDirectory { dir in
            let (train, test) = try Self.ownFile(in: dir)
            try FileManager.default.createDirectory(atPath: dir.path("out/data"), withIntermediateDirectories: true)
            try "mine".write(toFile: dir.path("out/data/notes.txt"), atomically: true, encoding: .utf8)
            let r = MoeProcess.run(["suite", "--source", "csv:" + train, "--test", "csv:" + test, "--label-column", "class",
                                    "--learners", "replay,default", "--out", dir.path("out")])
            #expect(r.status == 0, "\(r.error)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path("out/data")) == ["notes.txt"])
            let failed = MoeProcess.run(["suite", "--source", "csv:" + train, "--test", "csv:" + dir.path("absent.csv"),
                                         "--label-column", "class", "--learners", "replay", "--out", dir.path("out")])
            #expect(failed.status != 0 && failed.error.contains("absent.csv"), "\(failed.error)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path("out/data")) == ["notes.txt"])
            // A file of a name the suite writes, there before it: refused, not overwritten.
            try "mine".write(toFile: dir.path("out/data/train.csv-replay.h5"), atomically: true, encoding: .utf8)
            let clash = MoeProcess.run(["suite", "--source", "csv:" + train, "--test", "csv:" + test, "--label-column", "class",
                                        "--learners", "replay", "--out", dir.path("out")])
            #expect(clash.status != 0 && clash.error.contains("train.csv-replay.h5' is already there"), "\(clash.error)")
            #expect(try String(contentsOfFile: dir.path("out/data/train.csv-replay.h5"), encoding: .utf8) == "mine")
        }
    }

    @Test("your own file in other orders: its header and records as written, shuffled, one class after another or in blocks taking turns, each streamed as moe stream streams that file")
    func ownFileOrders() throws {
        try withTemporaryDirectory { dir in
            let (train, test) = try Self.ownFile(in: dir)
            // A blank line between rows, and a text value written over two lines.
            var lines = try String(contentsOfFile: train, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            lines.insert("", at: 100)
            lines[200] = lines[200].replacingOccurrences(of: ",red,", with: ",\"red\nish\",").replacingOccurrences(of: ",green,", with: ",\"red\nish\",")
                .replacingOccurrences(of: ",blue,", with: ",\"red\nish\",")
            try lines.joined(separator: "\n").write(toFile: train, atomically: true, encoding: .utf8)
            let r = MoeProcess.run(["suite", "--source", "csv:" + train, "--test", "csv:" + test, "--label-column", "class",
                                    "--orders", "file,shuffled,class,blocks", "--learners", "gate", "--keep-data", "--out", dir.path("s"), "--json"])
            #expect(r.status == 0, "\(r.error)")
            let rows = try #require(MoeProcess.json(r)?["rows"] as? [[String: Any]])
            let shown = URL(fileURLWithPath: train).deletingLastPathComponent().lastPathComponent + "/train.csv"
            #expect(rows.map { $0["stream"] as? String } == [shown, "\(shown), shuffled", "\(shown), in class order",
                                                             "\(shown), in blocks of 20 rows, the classes taking turns"])
            let original = try String(contentsOfFile: train, encoding: .utf8)
            for order in ["shuffled", "class", "blocks"] {
                let written = try String(contentsOfFile: dir.path("s/data/train.csv.\(order).csv"), encoding: .utf8)
                #expect(written.hasPrefix("x,colour,class\n"), "\(order)")
                #expect(written.contains("\"red\nish\""), "the record over two lines, \(order)")
                #expect(!written.contains("\n\n"), "the blank line is left out, \(order)")
                // The same records: the file's lines, the blank one left out.
                #expect(written.split(separator: "\n").sorted() == original.split(separator: "\n").sorted(), "\(order)")
            }
            func classes(_ order: String) throws -> [String] {
                try String(contentsOfFile: dir.path("s/data/train.csv.\(order).csv"), encoding: .utf8)
                    .split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").last.map(String.init) }.filter { $0.hasPrefix("c") }
            }
            let inOrder = try classes("class")
            let runs = zip(inOrder, inOrder.dropFirst()).filter { $0 != $1 }.count
            #expect(runs == 2, "three classes, one after another: \(runs + 1) runs")
            // Blocks: runs of 20 rows of a class, the three taking turns, until one runs out.
            var blocks: [(label: String, rows: Int)] = []
            for label in try classes("blocks") {
                if blocks.last?.label == label { blocks[blocks.count - 1].rows += 1 } else { blocks.append((label, 1)) }
            }
            #expect(blocks.prefix(9).map(\.rows) == Array(repeating: 20, count: 9), "\(blocks.prefix(9))")
            #expect(Set(blocks.prefix(3).map(\.label)).count == 3 && blocks[3].label == blocks[0].label, "\(blocks.prefix(4))")
            // The class-order row is what the user's commands give on that file.
            let streamed = MoeProcess.run(["stream", "--source", "csv:" + dir.path("s/data/train.csv.class.csv"), "--label-column", "class",
                                           "--predictor", "discriminant", "--save", dir.path("c.h5")])
            #expect(streamed.status == 0, "\(streamed.error)")
            let eval = MoeProcess.run(["eval", dir.path("c.h5"), "--source", "csv:" + test, "--label-column", "class", "--json"])
            #expect(rows[2]["accuracy"] as? Double == MoeProcess.json(eval)?["test_accuracy"] as? Double, "\(rows[2]), \(eval.error)")
        }
    }

    @Test("your own file alone: a quarter of its rows drawn with the seed is held out, the rest streams in the file's order")
    func ownFileHeldOut() throws {
        try withTemporaryDirectory { dir in
            let (train, _) = try Self.ownFile(in: dir)
            let r = MoeProcess.run(["suite", "--source", "csv:" + train, "--label-column", "class", "--learners", "gate",
                                    "--keep-data", "--out", dir.path("s"), "--json"])
            #expect(r.status == 0, "\(r.error)")
            let rows = try #require(MoeProcess.json(r)?["rows"] as? [[String: Any]])
            let heldOut = try String(contentsOfFile: dir.path("s/data/train.csv.held-out.csv"), encoding: .utf8).split(separator: "\n")
            let training = try String(contentsOfFile: dir.path("s/data/train.csv.training.file.csv"), encoding: .utf8).split(separator: "\n")
            let original = try String(contentsOfFile: train, encoding: .utf8).split(separator: "\n")
            #expect(heldOut.count == 1 + 150 && training.count == 1 + 450, "\(heldOut.count), \(training.count)")
            #expect(heldOut.first == "x,colour,class" && training.first == "x,colour,class")
            #expect((heldOut.dropFirst() + training.dropFirst()).sorted() == original.dropFirst().sorted())
            // The training rows keep the file's order.
            let place = Dictionary(original.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
            #expect(training.dropFirst().map { place[$0]! } == training.dropFirst().map { place[$0]! }.sorted())
            // The row is what the user's commands give on those two files.
            let streamed = MoeProcess.run(["stream", "--source", "csv:" + dir.path("s/data/train.csv.training.file.csv"),
                                           "--label-column", "class", "--predictor", "discriminant", "--save", dir.path("g.h5")])
            #expect(streamed.status == 0, "\(streamed.error)")
            let eval = MoeProcess.run(["eval", dir.path("g.h5"), "--source", "csv:" + dir.path("s/data/train.csv.held-out.csv"),
                                       "--label-column", "class", "--json"])
            #expect(rows.first?["accuracy"] as? Double == MoeProcess.json(eval)?["test_accuracy"] as? Double, "\(rows), \(eval.error)")
        }
    }

    @Test("your own file: a label column that looks like a number is warned of, as moe stream warns of it")
    func ownFileLabelWarning() throws {
        try withTemporaryDirectory { dir in
            // 1,000 rows, each of a label of its own: an amount given as the label (750 of
            // them stream, the rest are held out).
            let rows = (1...1000).map { i in "\(Double(i % 7)),\(Double(i % 11)),\(Double(i) * 0.37)" }
            try (["a,b,amount"] + rows).joined(separator: "\n").write(toFile: dir.path("amounts.csv"), atomically: true, encoding: .utf8)
            let r = MoeProcess.run(["suite", "--source", "csv:" + dir.path("amounts.csv"), "--label-column", "amount",
                                    "--learners", "gate,replay", "--out", dir.path("s")])
            #expect(r.status == 0, "\(r.error)")
            #expect(r.error.contains("the label column holds") && r.error.contains("is it the label?"), "\(r.error)")
        }
    }
}
