import Foundation
import Testing
import MoE
import TestSupport

/// `moe stream` as a user runs it: a scenario on a small synthetic Fashion-MNIST-shaped
/// set (fast in debug), pausing and resuming across processes, CSV streams, bad input.
@Suite("moe stream")
struct StreamCommandTests {
    let small = ["--data", TrainingData.synthetic, "--hidden", "32,32", "--passes", "1", "--batch-size", "50"]

    @Test("a split stream grows experts, saves, and prints the summary keys")
    func splitStream() throws {
        try withTemporaryDirectory { dir in
            let r = MoeProcess.run(["stream"] + small + ["--save", dir.path("s.h5"), "--report", dir.path("report"), "--json"])
            #expect(r.status == 0, "\(r.error)")
            let json = try #require(MoeProcess.json(r))
            for key in ["final_average_accuracy", "task_incremental_accuracy", "forgetting", "bwt", "accuracy_matrix",
                        "prequential_accuracy", "experts", "parameters", "samples_per_second"] {
                #expect(json[key] != nil, "missing \(key)")
            }
            #expect((json["experts"] as? Int ?? 0) >= 1)
            #expect(r.error.contains("grew expert 0"))
            // The profile: seconds and floating-point work by phase; the phases' work adds
            // up to no more than the run's (loading the data does no BLAS work).
            let seconds = try #require(json["seconds"] as? [String: Double])
            let work = try #require(json["flops_by_phase"] as? [String: Double])
            for phase in ["predict", "gate_statistics", "refit", "training", "evaluation"] {
                #expect(seconds[phase] != nil, "no seconds for \(phase)")
                #expect((work[phase] ?? 0) > 0, "no work for \(phase)")
            }
            let total = try #require(json["flops"] as? Double)
            #expect(work.values.reduce(0, +) <= total * (1 + 1e-9), "phases \(work.values.reduce(0, +)) of \(total)")
            #expect(FileManager.default.fileExists(atPath: dir.path("report/report.json")))
            #expect(FileManager.default.fileExists(atPath: dir.path("report/accuracy-matrix.svg")))
            let eval = MoeProcess.run(["eval", dir.path("s.h5"), "--data", TrainingData.synthetic, "--json"])
            #expect(eval.status == 0, "\(eval.error)")
            // Eight batches per experience: far from converged, but well above chance (0.1).
            #expect((MoeProcess.json(eval)?["test_accuracy"] as? Double ?? 0) > 0.3)
        }
    }

    @Test("a paused stream resumed in a new process ends exactly as an uninterrupted one")
    func pauseAndResume() throws {
        try withTemporaryDirectory { dir in
            let straight = MoeProcess.run(["stream"] + small + ["--stop-after", "3", "--json"])
            let first = MoeProcess.run(["stream"] + small + ["--stop-after", "2", "--save", dir.path("p.h5"), "--json"])
            let second = MoeProcess.run(["stream", "--data", TrainingData.synthetic, "--resume", dir.path("p.h5"), "--stop-after", "3", "--json"])
            #expect(straight.status == 0 && first.status == 0 && second.status == 0, "\(first.error)\(second.error)")
            let a = try #require(MoeProcess.json(straight)), b = try #require(MoeProcess.json(second))
            for key in ["accuracy_matrix", "final_average_accuracy", "prequential_accuracy", "experts", "parameters"] {
                #expect("\(a[key]!)" == "\(b[key]!)", "\(key) differs after resume")
            }
        }
    }

    @Test("a CSV sorted by a measurement: by default the stream says the feature trended, with widened tails how many widened; moe eval reads them beyond the clip")
    func sortedCSVTails() throws {
        try withTemporaryDirectory { dir in
            // The first column counts up and says the label; the second is noise.
            var generator = SeededGenerator(seed: 5)
            let lines = (0..<1024).map { i in "\(i),\(generator.nextNormal()),\(i > 600 ? 1 : 0)" }
            try lines.joined(separator: "\n").write(toFile: dir.path("sorted.csv"), atomically: true, encoding: .utf8)
            try #"{"inputScaling": {"online": {"widensTails": true}}}"#.write(toFile: dir.path("widened.json"), atomically: true, encoding: .utf8)
            for widened in [false, true] {
                let r = MoeProcess.run(["stream", "--source", "csv:" + dir.path("sorted.csv"), "--label-column", "last", "--hidden", "16",
                                        "--save", dir.path("s.h5"), "--json"] + (widened ? ["--learner-config", dir.path("widened.json")] : []))
                #expect(r.status == 0, "\(r.error)")
                #expect(MoeProcess.json(r)?["trending_features"] as? Int == 1, "\(r.error)")
                #expect(r.error.contains("trending features: 1 of 2 input features trended with the rows' arrival"), "\(r.error)")
                if widened {
                    #expect(MoeProcess.json(r)?["widened_features"] as? Int == 1, "\(r.error)")
                    #expect(r.error.contains("widened tails: 1 of 2 input features"), "\(r.error)")
                } else {
                    #expect(MoeProcess.json(r)?["widened_features"] == nil && !r.error.contains("widened tails"))
                }
                let e = MoeProcess.run(["eval", dir.path("s.h5"), "--source", "csv:" + dir.path("sorted.csv"), "--json"])
                #expect(e.status == 0, "\(e.error)")
                #expect((MoeProcess.json(e)?["test_accuracy"] as? Double ?? 0) > 0.8, "\(e.output)")
            }
        }
    }

    @Test("with its output and its errors in one file, a run's opening line comes before the error that stopped it")
    func outputBeforeError() throws {
        try withTemporaryDirectory { dir in
            var lines = ["a,b,label"] + (0..<300).map { "\($0 % 7),\($0 % 5),c\($0 % 2)" }
            lines.append("x,1,c0")
            try lines.joined(separator: "\n").write(toFile: dir.path("rows.csv"), atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "\"$0\" stream --source csv:\"$1\" --label-column last --save \"$2\" > \"$3\" 2>&1",
                                 MoeProcess.executable, dir.path("rows.csv"), dir.path("m.h5"), dir.path("log")]
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 1)
            let log = try String(contentsOfFile: dir.path("log"), encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(log.count >= 2 && log.first?.hasPrefix("csv:") == true && log.last?.hasPrefix("Error: ") == true, "\(log)")
            #expect(log.last?.contains("line 302") == true, "\(log)")
        }
    }

    @Test("a CSV stream learns, and a bad row is named")
    func csvStream() throws {
        try withTemporaryDirectory { dir in
            var generator = SeededGenerator(seed: 3)
            var lines: [String] = []
            for _ in 0..<2000 {
                let label = generator.nextInt(below: 3)
                let features = (0..<4).map { j in String(Float(j == label ? 3 : 0) + generator.nextNormal()) }
                lines.append(features.joined(separator: ",") + ",\(label)")
            }
            try lines.joined(separator: "\n").write(toFile: dir.path("rows.csv"), atomically: true, encoding: .utf8)
            let r = MoeProcess.run(["stream", "--source", "csv:" + dir.path("rows.csv"), "--label-column", "last",
                                    "--hidden", "16", "--batch-size", "20", "--save", dir.path("c.h5"), "--json"])
            #expect(r.status == 0, "\(r.error)")
            #expect((MoeProcess.json(r)?["prequential_accuracy"] as? Double ?? 0) > 0.7)
            // 2,000 rows, fewer than the gate's 2,048 features: its shrinkage is still chosen.
            #expect(MoeProcess.json(r)?["gate_shrinkage_choosing"] as? Bool == true)
            #expect([0, 0.25, 0.5].contains(MoeProcess.json(r)?["gate_shrinkage"] as? Double ?? -1))
            // Its head reads all 2048 features, or a narrow head's 128 or 32.
            #expect([2048, 128, 32].contains(MoeProcess.json(r)?["gate_head_features"] as? Int ?? -1))
            #expect(r.error.contains("the gate's head: "))
            // The label column is named with its classes; the default is said to be one.
            #expect(r.error.contains("label column: the last, 3 classes: '0', '1', '2'"), "\(r.error)")
            // Widened tails are off by default: not counted, not said.
            #expect(MoeProcess.json(r)?["widened_features"] == nil && !r.error.contains("widened tails"))
            // Rows in no order: no feature trends.
            #expect(MoeProcess.json(r)?["trending_features"] as? Int == 0 && !r.error.contains("trending features"))
            // The kernel its bits depend on, and why it was chosen.
            #expect((MoeProcess.json(r)?["blas_kernel"] as? String)?.contains("(chosen by ") == true)
            lines[300] = "1,2,x,4,0"
            try lines.joined(separator: "\n").write(toFile: dir.path("bad.csv"), atomically: true, encoding: .utf8)
            let bad = MoeProcess.run(["stream", "--source", "csv:" + dir.path("bad.csv"), "--label-column", "last", "--hidden", "16"])
            #expect(bad.status == 1)
            #expect(bad.errorLines.last?.contains("bad.csv") == true && bad.errorLines.last?.contains("301") == true, "\(bad.error)")
            let skipped = MoeProcess.run(["stream", "--source", "csv:" + dir.path("bad.csv"), "--label-column", "last", "--hidden", "16",
                                          "--skip-bad-rows", "--json"])
            #expect(skipped.status == 0, "\(skipped.error)")
            // The bad row was skipped and counted, the 1999 others learned.
            let figures = try #require(MoeProcess.json(skipped))
            #expect(figures["rows_skipped"] as? Int == 1 && figures["samples"] as? Int == 1999)
            #expect(skipped.error.contains("1 row skipped (1 with a field that is not a number); the last: \(dir.path("bad.csv")), line 301, column 3: the field 'x' is not a number; correct the field, or leave the column out (--ignore-columns 2,"),
                    "\(skipped.error)")
        }
    }

    /// `count` rows of `width` features, each its class (0 or 1) plus unit noise, times
    /// `unit(row)`, the label last as `names[class]`.
    static func twoClassRows(_ count: Int, width: Int, seed: UInt64, names: [String] = ["0", "1"],
                             unit: (Int) -> Float = { _ in 1 }) -> [String] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { i in
            let label = generator.nextInt(below: 2)
            return (0..<width).map { _ in String((Float(label) + generator.nextNormal()) * unit(i)) }.joined(separator: ",") + ",\(names[label])"
        }
    }

    @Test("a growth for classes never seen names them by their labels, in the log and at the end of the stream")
    func growthNamesLabels() throws {
        try withTemporaryDirectory { dir in
            var generator = SeededGenerator(seed: 12)
            let names = ["cat", "dog", "emu"]
            let rows = (0..<1800).map { i -> String in
                let k = i / 600
                return (0..<5).map { _ in "\(generator.nextNormal() + Float(2 * k))" }.joined(separator: ",") + "," + names[k]
            }
            try (rows.joined(separator: "\n") + "\n").write(toFile: dir.path("named.csv"), atomically: true, encoding: .utf8)
            let run = MoeProcess.run(["stream", "--source", "csv:" + dir.path("named.csv"), "--label-column", "last", "--hidden", "32"])
            #expect(run.status == 0, "\(run.error)")
            #expect(run.error.contains("labels never seen (dog) arrived"), "\(run.error)")
            #expect(run.output.contains("classes ['dog']: labels never seen (dog) arrived"), "\(run.output)")
        }
    }

    @Test("rows in other units than those learned are warned of, mid-stream and in a file a saved learner continues on")
    func rowsInOtherUnits() throws {
        try withTemporaryDirectory { dir in
            let lines = Self.twoClassRows(1200, width: 4, seed: 9) { $0 >= 600 ? 1000 : 1 }
            func write(_ rows: ArraySlice<String>, _ name: String) throws {
                try rows.joined(separator: "\n").write(toFile: dir.path(name), atomically: true, encoding: .utf8)
            }
            try write(lines[...], "all.csv")
            try write(lines[..<600], "m.csv")
            try write(lines[600...], "mm.csv")
            let warning = "of the features lie more than 5 deviations from those of every row learned before them: are they in other units"
            let all = MoeProcess.run(["stream", "--source", "csv:" + dir.path("all.csv"), "--label-column", "last", "--hidden", "16", "--json"])
            #expect(all.status == 0, "\(all.error)")
            #expect(all.error.contains("rows 513-640 of the stream: the means of 100% " + warning), "\(all.error)")
            #expect((MoeProcess.json(all)?["batches_far_from_learned"] as? Int ?? 0) >= 1)
            // Rows in one unit: no warning.
            let first = MoeProcess.run(["stream", "--source", "csv:" + dir.path("m.csv"), "--label-column", "last", "--hidden", "16",
                                        "--save", dir.path("m.h5"), "--json"])
            #expect(first.status == 0 && !first.error.contains(warning), "\(first.error)")
            #expect(MoeProcess.json(first)?["batches_far_from_learned"] as? Int == 0)
            // A saved learner continued on rows in mm: said on their first batch.
            let more = MoeProcess.run(["stream", "--resume", dir.path("m.h5"), "--source", "csv:" + dir.path("mm.csv"),
                                       "--label-column", "last", "--json"])
            #expect(more.status == 0, "\(more.error)")
            #expect(more.error.contains("rows 1-128 of the stream: the means of 100% " + warning), "\(more.error)")
        }
    }

    @Test("a header whose names are numbers, read as a row, is warned of: its label is a class of that row alone; numbers in dress are named")
    func numericHeaderWarned() throws {
        try withTemporaryDirectory { dir in
            let rows = Self.twoClassRows(300, width: 3, seed: 4, names: ["low", "high"])
            let warning = "the first line was read as a row, and its label 'grade' is a class of that row alone: is the line a header"
            try (["2019,2020,2021,grade"] + rows).joined(separator: "\n").write(toFile: dir.path("years.csv"), atomically: true, encoding: .utf8)
            let read = MoeProcess.run(["stream", "--source", "csv:" + dir.path("years.csv"), "--label-column", "last", "--hidden", "8", "--json"])
            #expect(read.status == 0 && read.error.contains(warning), "\(read.error)")
            let told = MoeProcess.run(["stream", "--source", "csv:" + dir.path("years.csv"), "--label-column", "last", "--hidden", "8",
                                       "--header", "--json"])
            #expect(told.status == 0 && !told.error.contains(warning) && told.error.contains("label column: the last ('grade'), 2 classes"),
                    "\(told.error)")
            // Amounts in dress are named, with one of their values.
            let amounts = (0..<300).map { i in "\"$\(1000 + i * 7),\(i % 100)\",\(i % 2 == 0 ? "low" : "high")" }
            try (["amount,grade"] + amounts).joined(separator: "\n").write(toFile: dir.path("money.csv"), atomically: true, encoding: .utf8)
            let money = MoeProcess.run(["stream", "--source", "csv:" + dir.path("money.csv"), "--label-column", "last", "--hidden", "8",
                                        "--header", "--json"])
            #expect(money.status == 0 && money.error.contains("column 'amount' (such as '$1000,0') holds numbers written with a currency or percent sign"),
                    "\(money.error)")
        }
    }

    @Test("a text column of another value in nearly every row (a date) is named, with the --ignore-columns that leaves it out; a category is not")
    func rowLikeTextNamed() throws {
        try withTemporaryDirectory { dir in
            // A day per row before the measurements, and a colour of three values: the date
            // as a category tells the rows apart, not the classes.
            let rows = Self.twoClassRows(300, width: 2, seed: 6, names: ["dry", "wet"])
            let dated = rows.enumerated().map { i, row in
                "2012-\(String(format: "%02d", 1 + i / 28))-\(String(format: "%02d", 1 + i % 28)),\(["red", "green", "blue"][i % 3]),\(row)"
            }
            try (["day,colour,a,b,weather"] + dated).joined(separator: "\n").write(toFile: dir.path("days.csv"), atomically: true, encoding: .utf8)
            let run = MoeProcess.run(["stream", "--source", "csv:" + dir.path("days.csv"), "--label-column", "weather", "--hidden", "8", "--json"])
            #expect(run.status == 0, "\(run.error)")
            #expect(run.error.contains("warning: column 'day' (such as '2012-01-01') holds another value in nearly every row (a date, a name, "
                                       + "an identifier?)") && run.error.contains("Leave it out with --ignore-columns day"), "\(run.error)")
            #expect(!run.error.contains("'colour' (such as"), "\(run.error)")
            #expect(MoeProcess.json(run)?["row_like_text_columns"] as? [Int] == [0])
            // Left out, it is not named; without a header the column is named by its place.
            let left = MoeProcess.run(["stream", "--source", "csv:" + dir.path("days.csv"), "--label-column", "weather", "--hidden", "8",
                                       "--ignore-columns", "day", "--json"])
            #expect(left.status == 0 && !left.error.contains("another value in nearly every row"), "\(left.error)")
            #expect(MoeProcess.json(left)?["row_like_text_columns"] == nil)
            try dated.joined(separator: "\n").write(toFile: dir.path("bare.csv"), atomically: true, encoding: .utf8)
            let bare = MoeProcess.run(["stream", "--source", "csv:" + dir.path("bare.csv"), "--label-column", "last", "--hidden", "8", "--json"])
            #expect(bare.status == 0 && bare.error.contains("column 0 (0-based) (such as '2012-01-01') holds another value")
                    && bare.error.contains("--ignore-columns 0"), "\(bare.error)")
        }
    }

    @Test("labels that differ only in case or spaces are learned apart, and the stream asks whether that is meant")
    func labelsAlikeWarned() throws {
        try withTemporaryDirectory { dir in
            let rows = Self.twoClassRows(200, width: 2, seed: 9, names: ["no", "yes"]).enumerated().map { i, row in
                i % 5 == 0 ? row.replacingOccurrences(of: ",yes", with: ",Yes").replacingOccurrences(of: ",no", with: ",No") : row
            }
            try (["a,b,answer"] + rows).joined(separator: "\n").write(toFile: dir.path("alike.csv"), atomically: true, encoding: .utf8)
            let run = MoeProcess.run(["stream", "--source", "csv:" + dir.path("alike.csv"), "--label-column", "last", "--hidden", "8", "--json"])
            #expect(run.status == 0 && run.error.contains("label column: the last ('answer'), 4 classes"), "\(run.error)")
            #expect(run.error.contains("warning: the labels 'No' and 'no'; 'Yes' and 'yes' differ only in case or spaces, "
                                       + "and are learned as different classes: is that meant?"), "\(run.error)")
            // Written one way, nothing is said.
            try (["a,b,answer"] + Self.twoClassRows(200, width: 2, seed: 9, names: ["no", "yes"])).joined(separator: "\n")
                .write(toFile: dir.path("plain.csv"), atomically: true, encoding: .utf8)
            let plain = MoeProcess.run(["stream", "--source", "csv:" + dir.path("plain.csv"), "--label-column", "last", "--hidden", "8"])
            #expect(plain.status == 0 && !plain.error.contains("differ only in case"), "\(plain.error)")
        }
    }

    @Test("the same CSV in units of 1, of 1e20 and of 1e-39 streams, saves and evaluates alike")
    func extremeUnitsCSV() throws {
        try withTemporaryDirectory { dir in
            var accuracies: [Double] = []
            for unit in [1, 1e20, 1e-39] {
                var generator = SeededGenerator(seed: 8)
                let lines = (0..<600).map { _ in
                    let label = generator.nextInt(below: 3)
                    let features = (0..<3).map { j in Double(Float(j == label ? 2 : 0) + generator.nextNormal()) * unit }
                    return features.map { "\($0)" }.joined(separator: ",") + ",\(label)"
                }
                try lines.joined(separator: "\n").write(toFile: dir.path("u.csv"), atomically: true, encoding: .utf8)
                let r = MoeProcess.run(["stream", "--source", "csv:" + dir.path("u.csv"), "--label-column", "last", "--hidden", "16",
                                        "--save", dir.path("u.h5"), "--json"])
                #expect(r.status == 0, "\(r.error)")
                // Until 2026-12-04 every row in units of 1e20 was out of range, and the
                // file saved in units of 1e-39 was refused on loading.
                #expect(MoeProcess.json(r)?["rows_out_of_range"] as? Int == 0, "unit \(unit)")
                let e = MoeProcess.run(["eval", dir.path("u.h5"), "--source", "csv:" + dir.path("u.csv"), "--json"])
                #expect(e.status == 0, "unit \(unit): \(e.error)")
                accuracies.append(MoeProcess.json(e)?["test_accuracy"] as? Double ?? 0)
            }
            #expect(accuracies[0] > 0.8, "\(accuracies)")
            // Units of 1e20 keep every bit of a Float's precision; units of 1e-39 are
            // subnormal Floats, which keep several bits fewer, and a choice between heads
            // that nearly tie can go the other way (the inputs' hinges, 0.870 against
            // 0.885 on these 600 rows).
            #expect(abs(accuracies[1] - accuracies[0]) <= 0.005, "\(accuracies)")
            #expect(abs(accuracies[2] - accuracies[0]) <= 0.02, "\(accuracies)")
        }
    }

    @Test("a file whose header reorders the learned columns is read by their names; one that also renames a column is refused by moe eval and --resume with the column named")
    func reorderedColumns() throws {
        try withTemporaryDirectory { dir in
            var generator = SeededGenerator(seed: 9)
            let rows = (0..<300).map { _ in
                let label = generator.nextInt(below: 2)
                return [Float(label * 2) + generator.nextNormal(), generator.nextNormal(), generator.nextNormal()].map { "\($0)" } + ["\(label)"]
            }
            func write(_ name: String, order: [Int], names: [String] = ["a", "b", "c", "label"]) throws {
                let lines = [order.map { names[$0] }] + rows.map { row in order.map { row[$0] } }
                try lines.map { $0.joined(separator: ",") }.joined(separator: "\n").write(toFile: dir.path(name), atomically: true, encoding: .utf8)
            }
            try write("train.csv", order: [0, 1, 2, 3])
            try write("swapped.csv", order: [2, 1, 0, 3])
            try write("renamed.csv", order: [2, 1, 0, 3], names: ["z", "b", "c", "label"])
            let r = MoeProcess.run(["stream", "--source", "csv:" + dir.path("train.csv"), "--label-column", "last", "--hidden", "16",
                                    "--save", dir.path("m.h5")])
            #expect(r.status == 0, "\(r.error)")
            let inOrder = MoeProcess.run(["eval", dir.path("m.h5"), "--source", "csv:" + dir.path("train.csv"), "--json"])
            #expect(inOrder.status == 0)
            // Read by place, the swapped file was answered from the wrong columns, silently;
            // then refused; now read by the names.
            let swapped = MoeProcess.run(["eval", dir.path("m.h5"), "--source", "csv:" + dir.path("swapped.csv"), "--json"])
            #expect(swapped.status == 0, "\(swapped.error)")
            let accuracy = try #require(MoeProcess.json(inOrder)?["test_accuracy"] as? Double)
            #expect(MoeProcess.json(swapped)?["test_accuracy"] as? Double == accuracy && accuracy > 0.8)
            // 'a' renamed: the names cannot place the columns, and 'c' moved.
            let sentence = "renamed.csv, line 1: the column 'c' is field 1 here but was field 3 in the data the model learned from ('a', 'b', 'c', 'label')"
            let e = MoeProcess.run(["eval", dir.path("m.h5"), "--source", "csv:" + dir.path("renamed.csv")])
            #expect(e.status == 1 && e.errorLines.last?.contains(sentence) == true, "\(e.error)")
            let c = MoeProcess.run(["stream", "--resume", dir.path("m.h5"), "--source", "csv:" + dir.path("renamed.csv")])
            #expect(c.status == 1 && c.error.contains(sentence), "\(c.error)")
        }
    }

    @Test("a file separated by blanks, as numpy's savetxt writes it, streams (found, or with --separator space) and is evaluated")
    func separatedByBlanks() throws {
        try withTemporaryDirectory { dir in
            var generator = SeededGenerator(seed: 6)
            func rows(_ count: Int) -> String {
                (0..<count).map { _ in
                    let label = generator.nextInt(below: 2)
                    return (0..<3).map { j in String(format: "%.18e", Double(Float(j == label ? 3 : 0) + generator.nextNormal())) }
                        .joined(separator: " ") + " " + String(format: "%.18e", Double(label))
                }.joined(separator: "\n") + "\n"
            }
            try rows(600).write(toFile: dir.path("train.txt"), atomically: true, encoding: .utf8)
            try rows(200).write(toFile: dir.path("test.txt"), atomically: true, encoding: .utf8)
            let found = MoeProcess.run(["stream", "--source", "csv:" + dir.path("train.txt"), "--label-column", "last", "--hidden", "16",
                                        "--save", dir.path("m.h5"), "--json"])
            #expect(found.status == 0, "\(found.error)")
            #expect(found.error.contains("fields separated by blanks (spaces and tabs), found from the first lines"), "\(found.error)")
            let given = MoeProcess.run(["stream", "--source", "csv:" + dir.path("train.txt"), "--label-column", "last", "--hidden", "16",
                                        "--separator", "space", "--json"])
            #expect(given.status == 0, "\(given.error)")
            #expect(MoeProcess.json(given)?["prequential_accuracy"] as? Double == MoeProcess.json(found)?["prequential_accuracy"] as? Double)
            // Before, the first line was one field: "at least 2 columns separated by ','".
            let eval = MoeProcess.run(["eval", dir.path("m.h5"), "--source", "csv:" + dir.path("test.txt"), "--json"])
            #expect(eval.status == 0, "\(eval.error)")
            #expect(try #require(MoeProcess.json(eval)?["test_accuracy"] as? Double) > 0.8)
        }
    }

    @Test("a file separated by ';' streams with --separator or without (found), resumes with its layout; a wrong one is named")
    func separatedBySemicolons() throws {
        try withTemporaryDirectory { dir in
            var generator = SeededGenerator(seed: 4)
            func rows(_ count: Int) -> String {
                (0..<count).map { _ in
                    let label = generator.nextInt(below: 2)
                    return (0..<3).map { j in String(Float(j == label ? 3 : 0) + generator.nextNormal()) }.joined(separator: ";") + ";c\(label)"
                }.joined(separator: "\n")
            }
            try ("a;b;c;label\n" + rows(600)).write(toFile: dir.path("monday.csv"), atomically: true, encoding: .utf8)
            try ("a;b;c;label\n" + rows(200)).write(toFile: dir.path("tuesday.csv"), atomically: true, encoding: .utf8)
            let wrong = MoeProcess.run(["stream", "--source", "csv:" + dir.path("monday.csv"), "--label-column", "label", "--separator", ",",
                                        "--hidden", "8"])
            #expect(wrong.status == 1 && wrong.error.contains("separated by ','"), "\(wrong.error)")
            let first = MoeProcess.run(["stream", "--source", "csv:" + dir.path("monday.csv"), "--label-column", "label", "--separator", ";",
                                        "--hidden", "8", "--save", dir.path("m.h5"), "--json"])
            #expect(first.status == 0, "\(first.error)")
            #expect((MoeProcess.json(first)?["prequential_accuracy"] as? Double ?? 0) > 0.8)
            #expect(MoeProcess.json(first)?["separator_found"] == nil && !first.error.contains("found from the first lines"))
            let found = MoeProcess.run(["stream", "--source", "csv:" + dir.path("monday.csv"), "--label-column", "label",
                                        "--hidden", "8", "--json"])
            #expect(found.status == 0 && found.error.contains("fields separated by ';', found from the first lines"), "\(found.error)")
            #expect(MoeProcess.json(found)?["prequential_accuracy"] as? Double == MoeProcess.json(first)?["prequential_accuracy"] as? Double)
            // New rows, same layout: the separator and label column come from the checkpoint.
            let more = MoeProcess.run(["stream", "--resume", dir.path("m.h5"), "--source", "csv:" + dir.path("tuesday.csv"), "--json"])
            #expect(more.status == 0, "\(more.error)")
            let eval = MoeProcess.run(["eval", dir.path("m.h5"), "--source", "csv:" + dir.path("tuesday.csv"), "--label-column", "label",
                                       "--separator", ";", "--json"])
            #expect(eval.status == 0 && (MoeProcess.json(eval)?["test_accuracy"] as? Double ?? 0) > 0.8, "\(eval.error)")
            #expect(MoeProcess.run(["stream", "--source", "csv:" + dir.path("monday.csv"), "--separator", "ab"]).status == 64)
            // The CSV-only options are refused out of range and without a CSV source, in one line.
            let wide = MoeProcess.run(["stream", "--source", "csv:" + dir.path("monday.csv"), "--text-indicators", "5000"])
            #expect(wide.status == 64 && wide.error.contains("--text-indicators must be 0 (text refused) to 4096, got 5000"), "\(wide.error)")
            for option in [["--missing", "error"], ["--ignore-columns", "id"], ["--text-indicators", "8"]] {
                let stray = MoeProcess.run(["stream", "--passes", "1"] + option)
                #expect(stray.status == 64 && stray.error.contains("describe a CSV source"), "\(option): \(stray.error)")
            }
            #expect(MoeProcess.run(["stream", "--source", "csv:" + dir.path("monday.csv"), "--missing", "zero"]).status == 64)
        }
    }

    @Test("moe eval says who answers: in class order, on columns that say little of the label, the prior")
    func evalSaysWhoAnswers() throws {
        try withTemporaryDirectory { dir in
            var generator = SeededGenerator(seed: 8)
            // Five rows of "no" for one of "yes", the class means 0.2 apart in each of 20 columns.
            func rows(_ labels: [Int]) -> String {
                labels.map { label in
                    (0..<20).map { _ in String(Float(label) * 0.2 + generator.nextNormal()) }.joined(separator: ",") + (label == 1 ? ",yes" : ",no")
                }.joined(separator: "\n")
            }
            try rows(Array(repeating: 0, count: 640) + Array(repeating: 1, count: 128)).write(toFile: dir.path("train.csv"), atomically: true, encoding: .utf8)
            let test = (0..<600).map { $0 % 6 == 5 ? 1 : 0 }
            try rows(test).write(toFile: dir.path("test.csv"), atomically: true, encoding: .utf8)
            let stream = MoeProcess.run(["stream", "--source", "csv:" + dir.path("train.csv"), "--label-column", "last", "--growth", "off",
                                         "--save", dir.path("m.h5")])
            #expect(stream.status == 0, "\(stream.error)")
            let eval = MoeProcess.run(["eval", dir.path("m.h5"), "--source", "csv:" + dir.path("test.csv"), "--label-column", "last", "--json"])
            #expect(eval.status == 0, "\(eval.error)")
            let json = MoeProcess.json(eval)
            #expect(json?["answers"] as? [String] == ["prior"] && json?["most_frequent_class_answers"] as? Bool == false)
            #expect(json?["test_accuracy"] as? Double == 500.0 / 600)
            #expect(eval.error.contains("who answers: slot 0 prior (the prior ahead of the gate by"), "\(eval.error)")
        }
    }

    @Test("--show-learner-config prints the settings in use, which --learner-config reads back")
    func showLearnerConfig() throws {
        try withTemporaryDirectory { dir in
            try #"{"halfLearning": false, "growth": {"maxExperts": 3}}"#.write(toFile: dir.path("mine.json"), atomically: true, encoding: .utf8)
            let shown = MoeProcess.run(["stream", "--show-learner-config", "--learner-config", dir.path("mine.json"), "--replay", "100"])
            #expect(shown.status == 0, "\(shown.error)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(shown.output.utf8)) as? [String: Any])
            #expect(json["halfLearning"] as? Bool == false && json["replayCapacity"] as? Int == 100)
            #expect((json["growth"] as? [String: Any])?["maxExperts"] as? Int == 3)
            #expect(json["refitOnDoubling"] as? Bool == true)
            // What it prints is a complete configuration: read back, it prints the same.
            try shown.output.write(toFile: dir.path("all.json"), atomically: true, encoding: .utf8)
            let again = MoeProcess.run(["stream", "--show-learner-config", "--learner-config", dir.path("all.json")])
            #expect(again.status == 0 && again.output == shown.output, "\(again.error)")
            let bad = MoeProcess.run(["stream", "--show-learner-config", "--learner-config", dir.path("missing.json")])
            #expect(bad.status == 1 && bad.error.contains("missing.json"))
        }
    }

    @Test("--no-header reads a first row whose level looks like a name as a row, and the saved stream keeps it")
    func noHeader() throws {
        try withTemporaryDirectory { dir in
            // Living children 0, 1, 2 or 3+ first: taken for a header's name over line 2's number.
            var generator = SeededGenerator(seed: 4)
            let rows = (0..<300).map { i in
                let label = generator.nextInt(below: 2)
                let children = i == 0 ? "3+" : ["0", "1", "2", "3+"][generator.nextInt(below: 4)]
                return "\(children),\(Float(label * 2) + generator.nextNormal()),\(label)"
            }
            let path = dir.path("c.csv")
            try rows.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            let found = MoeProcess.run(["stream", "--source", "csv:" + path, "--label-column", "last", "--hidden", "8", "--json"])
            #expect(found.status == 0 && MoeProcess.json(found)?["samples"] as? Int == 299, "\(found.error)")
            #expect(found.error.contains("column names read from line 1, found from the first lines") && found.error.contains("--no-header"), "\(found.error)")
            let told = MoeProcess.run(["stream", "--source", "csv:" + path, "--label-column", "last", "--no-header", "--hidden", "8",
                                       "--stop-after-batches", "1", "--save", dir.path("n.h5"), "--json"])
            #expect(told.status == 0 && !told.error.contains("column names read from line 1"), "\(told.error)")
            let resumed = MoeProcess.run(["stream", "--resume", dir.path("n.h5"), "--json"])
            #expect(resumed.status == 0 && MoeProcess.json(resumed)?["samples"] as? Int == 300, "\(resumed.error)")
            #expect(MoeProcess.run(["stream", "--source", "csv:" + path, "--header", "--no-header"]).status == 64)
        }
    }

    @Test("bad options and a missing save folder fail at once with one line")
    func badOptions() {
        let missing = MoeProcess.run(["stream"] + small + ["--save", "/nonexistent-folder/x.h5"])
        #expect(missing.status == 1)
        #expect(missing.errorLines.count == 1 && missing.error.contains("/nonexistent-folder"), "\(missing.error)")
        #expect(MoeProcess.run(["stream", "--source", "ftp:x"]).status == 64)
        #expect(MoeProcess.run(["stream", "--checkpoint-every", "5"]).status == 64)
        #expect(MoeProcess.run(["stream", "--predictor", "discriminant", "--gate", "learned"]).status == 64)
        let resume = MoeProcess.run(["stream", "--resume", "/nonexistent-folder/x.h5"])
        #expect(resume.status == 1 && resume.error.contains("x.h5"))
    }
}
