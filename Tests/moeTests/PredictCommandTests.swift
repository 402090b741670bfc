import Foundation
import Testing
import Continual
import MoE
import TestSupport

/// `moe predict` as a user runs it: a saved learner answers rows without labels, read as
/// `moe eval` reads its test file (text columns, gaps, header, label place), one line per
/// row; bad rows and bad options are refused and no half file is left.
@Suite("moe predict")
struct PredictCommandTests {
    /// Rows of two numeric features (one with gaps) and a text column, the class in the
    /// first feature and the text; fields in `order` (indices into [x, y, colour, label]).
    static func rows(_ count: Int, seed: UInt64, labels: [String], order: [Int], separator: String = ",") -> [[String]] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { i in
            let k = generator.nextInt(below: labels.count)
            let x = String(Float(k * 3) + generator.nextNormal())
            let y = i % 7 == 3 ? "" : String(generator.nextNormal())
            let colour = ["red", "green", "blue"][(k + (generator.nextInt(below: 4) == 0 ? 1 : 0)) % 3]
            let fields = [x, y, colour, labels[k]]
            return order.map { fields[$0] }
        }
    }

    static func write(_ rows: [[String]], header: [String]? = nil, separator: String = ",", to path: String) throws {
        let lines = (header.map { [$0] } ?? []) + rows
        try lines.map { $0.joined(separator: separator) }.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test("unlabelled rows get the answers moe eval scores, with the label last, first or named in a header")
    func answersMatchEval() throws {
        try withTemporaryDirectory { dir in
            // The label last, no header; the label first (the default); the label named in
            // a ';'-separated header, in the middle, with class names that need quotes.
            let layouts: [(order: [Int], header: [String]?, separator: String, labels: [String], options: [String])] = [
                ([0, 1, 2, 3], nil, ",", ["a", "b", "c"], ["--label-column", "last"]),
                ([3, 0, 1, 2], nil, ",", ["0", "1", "2"], []),
                ([0, 3, 1, 2], ["x", "kind", "y", "colour"], ";", ["one; two", "say \"hi\"", "three"], ["--label-column", "kind"]),
            ]
            for (n, layout) in layouts.enumerated() {
                let train = dir.path("train\(n).csv"), test = dir.path("test\(n).csv"), bare = dir.path("bare\(n).csv")
                let quote = { (s: String) in s.contains(layout.separator) || s.contains("\"") ? "\"" + s.replacing("\"", with: "\"\"") + "\"" : s }
                let learned = Self.rows(600, seed: UInt64(n + 1), labels: layout.labels, order: layout.order)
                let held = Self.rows(200, seed: UInt64(n + 11), labels: layout.labels, order: layout.order)
                try Self.write(learned.map { $0.map(quote) }, header: layout.header, separator: layout.separator, to: train)
                try Self.write(held.map { $0.map(quote) }, header: layout.header, separator: layout.separator, to: test)
                let labelField = layout.order.firstIndex(of: 3)!
                let drop = { (row: [String]) in row.enumerated().filter { $0.offset != labelField }.map(\.element) }
                try Self.write(held.map { drop($0).map(quote) }, header: layout.header.map(drop), separator: layout.separator, to: bare)
                let model = dir.path("m\(n).h5")
                let s = MoeProcess.run(["stream", "--source", "csv:" + train, "--hidden", "16", "--save", model] + layout.options)
                #expect(s.status == 0, "\(s.error)")
                let e = MoeProcess.run(["eval", model, "--source", "csv:" + test, "--json"])
                #expect(e.status == 0, "\(e.error)")
                let correct = try #require(MoeProcess.json(e)?["correct"] as? Int)
                // Each class's accuracy and rows, by label, add up to the whole.
                let perClass = try #require(MoeProcess.json(e)?["class_accuracy"] as? [String: Double])
                let perRows = try #require(MoeProcess.json(e)?["class_rows"] as? [String: Int])
                #expect(Set(perClass.keys) == Set(layout.labels) && Set(perRows.keys) == Set(layout.labels), "\(perClass)")
                #expect(perRows.values.reduce(0, +) == held.count)
                let rightByClass = perClass.map { label, share in Int((share * Double(perRows[label] ?? 0)).rounded()) }.reduce(0, +)
                #expect(rightByClass == correct, "\(perClass), \(perRows): \(rightByClass) right, moe eval counts \(correct)")
                // Balanced accuracy: the classes' shares, each weighing the same.
                let balanced = try #require(MoeProcess.json(e)?["balanced_accuracy"] as? Double)
                #expect(abs(balanced - perClass.values.reduce(0, +) / Double(perClass.count)) < 1e-12)
                let kappa = try #require(MoeProcess.json(e)?["kappa"] as? Double)
                #expect(kappa > 0.5 && kappa < 1, "kappa \(kappa) for \(correct) of \(held.count) right")
                #expect(e.error.contains("per class, worst first: "), "\(e.error)")

                let p = MoeProcess.run(["predict", model, "--source", "csv:" + bare])
                #expect(p.status == 0, "\(p.error)")
                let answers = p.output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
                #expect(answers.count == held.count, "\(layout.order): \(answers.count) lines for \(held.count) rows")
                // One field per line, quoted as a CSV field when it holds a comma or a quote.
                let unquoted = answers.map { $0.hasPrefix("\"") ? String($0.dropFirst().dropLast()).replacing("\"\"", with: "\"") : $0 }
                let right = zip(unquoted, held).filter { $0 == $1[labelField] }.count
                #expect(right == correct, "\(layout.order): \(right) right answers where moe eval counts \(correct)")
                #expect(correct > 150, "\(layout.order): the learner learned little (\(correct) of 200)")
                #expect(p.error.contains("predicted 200 rows"), "\(p.error)")

                // The same rows with their labels (--labelled), and into a file with --json.
                let l = MoeProcess.run(["predict", model, "--source", "csv:" + test, "--labelled"])
                #expect(l.status == 0 && l.output == p.output, "\(l.error)")
                // Without --labelled, a header that names the label column says the file has it.
                if layout.header != nil {
                    let named = MoeProcess.run(["predict", model, "--source", "csv:" + test])
                    #expect(named.status == 0 && named.output == p.output, "\(named.error)")
                    #expect(named.error.contains("its header names the label column, 'kind': read as --labelled reads it"), "\(named.error)")
                    // With a column more than the model's, it cannot be read so: the error says what to give.
                    let wider = dir.path("wider\(n).csv")
                    try Self.write(held.map { $0.map(quote) + ["1"] }, header: layout.header.map { $0 + ["z"] }, separator: layout.separator, to: wider)
                    let refused = MoeProcess.run(["predict", model, "--source", "csv:" + wider])
                    #expect(refused.status == 1 && refused.error.contains(
                        "line 1: the header names the label column, 'kind', which rows to predict are read without: give --labelled"), "\(refused.error)")
                }
                let f = MoeProcess.run(["predict", model, "--source", "csv:" + bare, "--output", dir.path("answers.csv"), "--json"])
                #expect(f.status == 0, "\(f.error)")
                #expect(try String(contentsOfFile: dir.path("answers.csv"), encoding: .utf8) == p.output)
                #expect(MoeProcess.json(f)?["rows"] as? Int == 200)
                let piped = MoeProcess.run(["predict", model, "--source", "stdin"], input: try String(contentsOfFile: bare, encoding: .utf8))
                #expect(piped.status == 0 && piped.output == p.output, "\(piped.error)")

                // With --scores: a header naming the classes, then each row's class and the
                // probability of every class, which sum to 1 and are largest at that class.
                let scored = MoeProcess.run(["predict", model, "--source", "csv:" + bare, "--scores"])
                #expect(scored.status == 0, "\(scored.error)")
                let lines = scored.output.split(separator: "\n").map(String.init)
                let k = layout.labels.count
                // Class names here hold no comma: the last k fields are the probabilities.
                let header = lines.first.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
                #expect(header.count == k + 1 && header.first == "class", "\(header)")
                let names = header.dropFirst().map { $0.hasPrefix("\"") ? String($0.dropFirst().dropLast()).replacing("\"\"", with: "\"") : $0 }
                #expect(Set(names) == Set(layout.labels), "\(names)")
                #expect(lines.dropFirst().joined(separator: "\n") + "\n" != p.output, "the scores are missing")
                var spread = 0
                for (line, answer) in zip(lines.dropFirst(), answers) {
                    let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                    let values = fields.suffix(k).compactMap(Double.init)
                    #expect(values.count == k && fields.dropLast(k).joined(separator: ",") == answer, "\(line)")
                    #expect(abs(values.reduce(0, +) - 1) < 1e-4 && values.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(line)")
                    let top = values.indices.max { values[$0] < values[$1] }
                    #expect(top.map { header[1 + $0] } == answer, "\(line): the largest probability is not the class written")
                    if values.contains(where: { $0 > 0.001 && $0 < 0.999 }) { spread += 1 }
                }
                #expect(lines.count == held.count + 1)
                #expect(spread > 0, "\(layout.order): every probability is 0 or 1")

                // --uncalibrated: the same classes, the mixture's weights as served. moe eval
                // scores both: the log-loss of the calibrated ones is what this file's gives.
                let raw = MoeProcess.run(["predict", model, "--source", "csv:" + bare, "--scores", "--uncalibrated"])
                #expect(raw.status == 0, "\(raw.error)")
                let rawLines = raw.output.split(separator: "\n").map(String.init)
                #expect(rawLines.count == lines.count && rawLines.first == lines.first)
                let classOf = { (line: String) in line.split(separator: ",", omittingEmptySubsequences: false).dropLast(k).joined(separator: ",") }
                #expect(rawLines.dropFirst().map(classOf) == lines.dropFirst().map(classOf))
                #expect(rawLines != lines, "\(layout.order): calibration changed no score")
                let evaluation = try #require(MoeProcess.json(e))
                let logLoss = try #require(evaluation["log_loss"] as? Double)
                let rawLogLoss = try #require(evaluation["uncalibrated_log_loss"] as? Double)
                #expect(evaluation["calibration_error"] is Double && evaluation["uncalibrated_calibration_error"] is Double)
                func fileLogLoss(_ lines: [String]) -> Double {
                    zip(lines.dropFirst(), held).map { line, row in
                        let values = line.split(separator: ",", omittingEmptySubsequences: false).suffix(k).compactMap { Double($0) }
                        let label = row[labelField]
                        let column = names.firstIndex { quote($0) == label || $0 == label }!
                        return -log(max(values[column], 1e-12))
                    }.reduce(0, +) / Double(held.count)
                }
                #expect(abs(fileLogLoss(lines) - logLoss) < 1e-3, "\(fileLogLoss(lines)) from the file, \(logLoss) from moe eval")
                #expect(abs(fileLogLoss(rawLines) - rawLogLoss) < 1e-3, "\(fileLogLoss(rawLines)) from the file, \(rawLogLoss) from moe eval")
                #expect(e.error.contains("scores (moe predict --scores): log-loss"), "\(e.error)")
            }
        }
    }

    @Test("files whose lines end with the separator are streamed, evaluated and answered as the same files without it")
    func trailingSeparator() throws {
        try withTemporaryDirectory { dir in
            let header = ["x", "y", "colour", "label"]
            let learned = Self.rows(400, seed: 5, labels: ["a", "b", "c"], order: [0, 1, 2, 3])
            let held = Self.rows(100, seed: 6, labels: ["a", "b", "c"], order: [0, 1, 2, 3])
            var answers: [String] = [], correct: [Int] = []
            for trailing in [false, true] {
                let end = trailing ? [""] : []
                let tag = trailing ? "t" : "p"
                try Self.write(learned.map { $0 + end }, header: header, to: dir.path("train-\(tag).csv"))
                try Self.write(held.map { $0 + end }, header: header + end, to: dir.path("test-\(tag).csv"))
                try Self.write(held.map { Array($0.prefix(3)) + end }, to: dir.path("bare-\(tag).csv"))
                let model = dir.path("m-\(tag).h5")
                let s = MoeProcess.run(["stream", "--source", "csv:" + dir.path("train-\(tag).csv"), "--label-column", "last",
                                        "--hidden", "16", "--save", model])
                #expect(s.status == 0, "\(s.error)")
                let e = MoeProcess.run(["eval", model, "--source", "csv:" + dir.path("test-\(tag).csv"), "--json"])
                #expect(e.status == 0, "\(e.error)")
                correct.append(try #require(MoeProcess.json(e)?["correct"] as? Int))
                let p = MoeProcess.run(["predict", model, "--source", "csv:" + dir.path("bare-\(tag).csv")])
                #expect(p.status == 0, "\(p.error)")
                answers.append(p.output)
            }
            #expect(correct[0] == correct[1] && correct[0] > 70, "\(correct)")
            #expect(answers[0] == answers[1] && answers[0].split(separator: "\n").count == held.count)
        }
    }

    @Test("a file read for a saved model with another file's separator is named as such: eval, predict and a continued stream")
    func otherSeparatorNamed() throws {
        try withTemporaryDirectory { dir in
            let learned = Self.rows(300, seed: 5, labels: ["a", "b", "c"], order: [0, 1, 2, 3])
            let held = Self.rows(50, seed: 6, labels: ["a", "b", "c"], order: [0, 1, 2, 3])
            let model = dir.path("m.h5"), semi = dir.path("semi.csv"), bare = dir.path("bare.tsv")
            try Self.write(learned, to: dir.path("train.csv"))
            try Self.write(held, separator: ";", to: semi)
            try Self.write(held.map { Array($0.prefix(3)) }, separator: "\t", to: bare)
            let s = MoeProcess.run(["stream", "--source", "csv:" + dir.path("train.csv"), "--label-column", "last", "--hidden", "16",
                                    "--save", model])
            #expect(s.status == 0, "\(s.error)")
            // Found, the file's own separator reads it.
            #expect(MoeProcess.run(["eval", model, "--source", "csv:" + semi]).status == 0)
            for (command, file, fields, fits) in [(["eval", model], semi, 4, "';'"), (["predict", model], bare, 3, "tab"),
                                                  (["stream", "--resume", model, "--save", dir.path("n.h5")], semi, 4, "';'")] {
                let r = MoeProcess.run(command + ["--source", "csv:" + file, "--separator", ","])
                #expect(r.status != 0 && r.error.contains("line 1: split at ',' the row is one field, but at \(fits) it has the \(fields)")
                        && r.error.contains("give --separator \(fits)"), "\(command[0]): \(r.error)")
            }
        }
    }

    @Test("a model learned with a header answers every row of a file without one; --no-header says so, and not with --header")
    func fileWithoutLearnedHeader() throws {
        try withTemporaryDirectory { dir in
            let labels = ["a", "b", "c"], order = [0, 1, 2, 3]
            let learned = Self.rows(600, seed: 5, labels: labels, order: order)
            let held = Self.rows(200, seed: 15, labels: labels, order: order)
            let train = dir.path("train.csv"), test = dir.path("test.csv"), bare = dir.path("bare.csv"), model = dir.path("m.h5")
            try Self.write(learned, header: ["x", "y", "colour", "label"], to: train)
            try Self.write(held, to: test)
            try Self.write(held.map { Array($0.dropLast()) }, to: bare)
            for label in ["last", "label"] {
                let s = MoeProcess.run(["stream", "--source", "csv:" + train, "--label-column", label, "--header", "--hidden", "16",
                                        "--save", model])
                #expect(s.status == 0, "\(s.error)")
                // The first row was taken for the header: 199 answers, each a row off.
                for options in [[], ["--no-header"]] {
                    let p = MoeProcess.run(["predict", model, "--source", "csv:" + bare] + options)
                    #expect(p.status == 0 && p.output.split(separator: "\n").count == held.count, "\(label) \(options): \(p.error)")
                    let right = zip(p.output.split(separator: "\n"), held).filter { $0 == $1[3] }.count
                    #expect(right > 150, "\(label) \(options): \(right) of 200 right")
                    let e = MoeProcess.run(["eval", model, "--source", "csv:" + test, "--json"] + options)
                    #expect(e.status == 0 && MoeProcess.json(e)?["samples"] as? Int == held.count, "\(label) \(options): \(e.error)")
                }
            }
            let both = MoeProcess.run(["predict", model, "--source", "csv:" + bare, "--header", "--no-header"])
            #expect(both.status == 64 && both.error.contains("--header and --no-header"), "\(both.error)")
        }
    }

    @Test("a text value the learner never saw reads as missing, with a warning naming it, not as a value it learned")
    func unseenTextValues() throws {
        try withTemporaryDirectory { dir in
            let train = dir.path("train.csv"), model = dir.path("m.h5")
            try Self.write(Self.rows(600, seed: 21, labels: ["a", "b", "c"], order: [0, 1, 2, 3]), header: ["x", "y", "colour", "kind"], to: train)
            let s = MoeProcess.run(["stream", "--source", "csv:" + train, "--label-column", "kind", "--hidden", "16", "--save", model])
            #expect(s.status == 0, "\(s.error)")
            let held = Self.rows(120, seed: 22, labels: ["a", "b", "c"], order: [0, 1, 2])
            let answers = { (colour: String, name: String) throws -> (lines: [String], error: String) in
                let path = dir.path(name)
                try Self.write(held.map { [$0[0], $0[1], colour] }, header: ["x", "y", "colour"], to: path)
                let p = MoeProcess.run(["predict", model, "--source", "csv:" + path])
                #expect(p.status == 0, "\(p.error)")
                return (p.output.split(separator: "\n").map(String.init), p.error)
            }
            let purple = try answers("purple", "purple.csv"), missing = try answers("", "missing.csv"), green = try answers("green", "green.csv")
            #expect(purple.lines.count == 120 && purple.lines == missing.lines, "an unseen value must read as a missing one")
            #expect(purple.error.contains("warning: 120 text values the learner never saw ('purple' in 'colour') read as missing"), "\(purple.error)")
            #expect(!missing.error.contains("never saw") && !green.error.contains("never saw"), "\(missing.error)\(green.error)")
            // A value it learned still reads as itself.
            #expect(green.lines != missing.lines)
        }
    }

    @Test("text in a column blank in every row read ahead for its kind reads as missing: the stream goes on, and it and predict say so")
    func textInBlankColumn() throws {
        try withTemporaryDirectory { dir in
            let train = dir.path("train.csv"), model = dir.path("m.h5"), later = dir.path("later.csv")
            let blank = CSVSource.blankColumnLookahead
            let rows = (0..<(blank + 40)).map { i -> String in
                let kind = i % 2, x = Double(kind) + Double(i % 7) / 10
                return "\(x),\(i % 5),\(i < blank ? "" : "late"),\(kind == 0 ? "a" : "b")"
            }
            try ("x,y,note,kind\n" + rows.joined(separator: "\n") + "\n").write(toFile: train, atomically: true, encoding: .utf8)
            let s = MoeProcess.run(["stream", "--source", "csv:" + train, "--label-column", "kind", "--hidden", "8", "--save", model])
            #expect(s.status == 0, "\(s.error)")
            #expect(s.error.contains("warning: text in a column that held no number before it: 'note' from line \(blank + 2) ('late', 40 fields)")
                    && s.error.contains("--ignore-columns 2"), "\(s.error)")
            // A saved model reads such text as missing too: the same answers as blanks, said.
            let answers = { (note: String) throws -> (lines: [String], error: String) in
                try ("x,y,note\n" + (0..<20).map { "\(Double($0 % 2) + 0.3),\($0 % 5),\(note)" }.joined(separator: "\n") + "\n")
                    .write(toFile: later, atomically: true, encoding: .utf8)
                let p = MoeProcess.run(["predict", model, "--source", "csv:" + later])
                #expect(p.status == 0, "\(p.error)")
                return (p.output.split(separator: "\n").map(String.init), p.error)
            }
            let text = try answers("other"), missing = try answers("")
            #expect(text.lines.count == 20 && text.lines == missing.lines)
            #expect(text.error.contains("'note' from line 2 ('other', 20 fields)") && !missing.error.contains("held no number"), "\(text.error)")
        }
    }

    @Test("a labelled file without --labelled, a bad row and bad options are refused by name; no half file is left")
    func refusals() throws {
        try withTemporaryDirectory { dir in
            let train = dir.path("train.csv"), bare = dir.path("bare.csv")
            let learned = Self.rows(400, seed: 3, labels: ["a", "b"], order: [0, 1, 2, 3])
            try Self.write(learned, to: train)
            let model = dir.path("m.h5")
            #expect(MoeProcess.run(["stream", "--source", "csv:" + train, "--label-column", "last", "--hidden", "8", "--save", model]).status == 0)

            // The training file itself has one field more than unlabelled rows.
            let labelled = MoeProcess.run(["predict", model, "--source", "csv:" + train])
            #expect(labelled.status == 1 && labelled.error.contains("train.csv") && labelled.error.contains("line 1"), "\(labelled.error)")

            // A bad value on line 5 stops it, names the line, and keeps the old output file.
            var rows = Self.rows(20, seed: 5, labels: ["a", "b"], order: [0, 1, 2])
            rows[4][0] = "12..5"
            try Self.write(rows, to: bare)
            try "kept\n".write(toFile: dir.path("out.csv"), atomically: true, encoding: .utf8)
            let bad = MoeProcess.run(["predict", model, "--source", "csv:" + bare, "--output", dir.path("out.csv")])
            #expect(bad.status == 1 && bad.error.contains("bare.csv") && bad.error.contains("line 5"), "\(bad.error)")
            #expect(try String(contentsOfFile: dir.path("out.csv"), encoding: .utf8) == "kept\n")
            let left = try FileManager.default.contentsOfDirectory(atPath: dir.path("")).filter { $0.hasSuffix(".partial") }
            #expect(left.isEmpty, "\(left)")

            let json = MoeProcess.run(["predict", model, "--source", "csv:" + bare, "--json"])
            #expect(json.status != 0 && json.error.contains("--json needs --output"), "\(json.error)")
            let uncalibrated = MoeProcess.run(["predict", model, "--source", "csv:" + bare, "--uncalibrated"])
            #expect(uncalibrated.status != 0 && uncalibrated.error.contains("give it with --scores"), "\(uncalibrated.error)")
            let idx = MoeProcess.run(["predict", model])
            #expect(idx.status != 0 && idx.error.contains("give --source csv:PATH or stdin"), "\(idx.error)")
            // An empty file and a missing one are named, and leave no output file.
            try "".write(toFile: dir.path("empty.csv"), atomically: true, encoding: .utf8)
            let empty = MoeProcess.run(["predict", model, "--source", "csv:" + dir.path("empty.csv"), "--output", dir.path("e.csv")])
            #expect(empty.status == 1 && empty.error.contains("empty.csv: there are no samples in it"), "\(empty.error)")
            #expect(!FileManager.default.fileExists(atPath: dir.path("e.csv")))
            let missing = MoeProcess.run(["predict", model, "--source", "csv:" + dir.path("absent.csv")])
            #expect(missing.status == 1 && missing.error.contains("absent.csv: no such file"), "\(missing.error)")
            let folder = MoeProcess.run(["predict", model, "--source", "csv:" + train, "--labelled", "--output", dir.path("no/such/out.csv")])
            #expect(folder.status == 1 && folder.error.contains("no/such/out.csv"), "\(folder.error)")
        }
    }

    @Test("--keep-columns writes each row's identifier before its answer, whatever the blank lines, the columns' order and the label's place")
    func keptColumns() throws {
        try withTemporaryDirectory { dir in
            // Learned with an identifier left out and the label in the middle.
            let train = dir.path("train.csv"), bare = dir.path("bare.csv"), model = dir.path("m.h5")
            let learned = Self.rows(400, seed: 21, labels: ["a", "b", "c"], order: [3, 0, 1, 2])
            try Self.write(learned.enumerated().map { ["L\($0.offset)"] + $0.element }, header: ["id", "kind", "x", "y", "colour"], to: train)
            let s = MoeProcess.run(["stream", "--source", "csv:" + train, "--label-column", "kind", "--ignore-columns", "id",
                                    "--hidden", "8", "--save", model])
            #expect(s.status == 0, "\(s.error)")

            // Rows to answer: the columns in another order, a note the model never saw (with
            // a separator and a quote in it), blank lines between some rows.
            let held = Self.rows(30, seed: 22, labels: ["a", "b", "c"], order: [1, 0, 2])
            var lines = ["y,id,x,colour,note"]
            var plain = ["id,x,y,colour"]
            for (i, row) in held.enumerated() {
                lines.append([row[0], "R\(i)", row[1], row[2], "\"n\(i), \"\"x\"\"\""].joined(separator: ","))
                plain.append(["R\(i)", row[1], row[0], row[2]].joined(separator: ","))
                if i % 7 == 2 { lines.append("") }
            }
            try lines.joined(separator: "\n").write(toFile: bare, atomically: true, encoding: .utf8)
            try plain.joined(separator: "\n").write(toFile: dir.path("plain.csv"), atomically: true, encoding: .utf8)
            let answers = MoeProcess.run(["predict", model, "--source", "csv:" + dir.path("plain.csv")])
            #expect(answers.status == 0, "\(answers.error)")
            let classes = answers.output.split(separator: "\n").map(String.init)
            #expect(classes.count == held.count)

            let kept = MoeProcess.run(["predict", model, "--source", "csv:" + bare, "--keep-columns", "id,note"])
            #expect(kept.status == 0, "\(kept.error)")
            let keptLines = kept.output.split(separator: "\n").map(String.init)
            #expect(keptLines == ["id,note,class"] + classes.indices.map { "R\($0),\"n\($0), \"\"x\"\"\",\(classes[$0])" },
                    "\(keptLines.prefix(4))")
            // By index in the file as written (the label the rows lack not counted), and
            // with the scores: the same identifiers, and each row's class before its scores.
            let byIndex = MoeProcess.run(["predict", model, "--source", "csv:" + bare, "--keep-columns", "1", "--scores"])
            #expect(byIndex.status == 0, "\(byIndex.error)")
            let scored = byIndex.output.split(separator: "\n").map(String.init)
            let header = scored.first?.split(separator: ",").map(String.init) ?? []
            #expect(header.prefix(2) == ["id", "class"] && Set(header.dropFirst(2)) == ["a", "b", "c"], "\(header)")
            #expect(scored.dropFirst().map { $0.split(separator: ",").prefix(2).joined(separator: ",") }
                        == classes.indices.map { "R\($0),\(classes[$0])" })

            // `first` and `last`, as --label-column takes them: the file's first and last fields.
            let ends = MoeProcess.run(["predict", model, "--source", "csv:" + bare, "--keep-columns", "last,first"])
            #expect(ends.status == 0, "\(ends.error)")
            let endLines = ends.output.split(separator: "\n").map(String.init)
            #expect(endLines.first == "note,y,class" && endLines.count == classes.count + 1, "\(endLines.prefix(2))")
            #expect(endLines.dropFirst().map { $0.hasPrefix("\"n") } == Array(repeating: true, count: classes.count))

            // Refused by name: a column the file lacks, an index beyond its fields, the label
            // the rows lack, images, an empty name; no output file is left.
            for (columns, said) in [("id,nope", "there is no column 'nope' to keep beside the answers; the header names 'y', 'id', 'x', 'colour', 'note'"),
                                    ("5", "there is no column '5' to keep beside the answers"),
                                    ("kind", "there is no column 'kind' to keep beside the answers")] {
                let refused = MoeProcess.run(["predict", model, "--source", "csv:" + bare, "--keep-columns", columns, "-o", dir.path("k.csv")])
                #expect(refused.status == 1 && refused.error.contains("bare.csv: " + said), "\(columns): \(refused.error)")
                #expect(!FileManager.default.fileExists(atPath: dir.path("k.csv")))
            }
            let images = MoeProcess.run(["predict", model, "--images", dir.path("i.gz"), "--keep-columns", "id"])
            #expect(images.status != 0 && images.error.contains("an IDX file's images have none"), "\(images.error)")
            let empty = MoeProcess.run(["predict", model, "--source", "csv:" + bare, "--keep-columns", "id,"])
            #expect(empty.status != 0 && empty.error.contains("--keep-columns takes header names, 0-based indices, first or last"), "\(empty.error)")
        }
    }

    @Test("the images of an IDX file without labels get the answers moe eval scores, from a learner and from a trained model")
    func images() throws {
        try withTemporaryDirectory { dir in
            let data = ["--data", TrainingData.synthetic]
            let images = TrainingData.synthetic + "/t10k-images-idx3-ubyte"
            let labels = try Data(contentsOf: URL(fileURLWithPath: TrainingData.synthetic + "/t10k-labels-idx1-ubyte")).dropFirst(8).map(Int.init)
            let learner = MoeProcess.run(["stream", "--source", "idx:\(TrainingData.synthetic)/train-images-idx3-ubyte,\(TrainingData.synthetic)/train-labels-idx1-ubyte",
                                          "--hidden", "16", "--save", dir.path("l.h5")])
            #expect(learner.status == 0, "\(learner.error)")
            let model = MoeProcess.run(["train", "--epochs", "1", "--limit", "500", "--hidden", "16", "--save", dir.path("t.h5")] + data)
            #expect(model.status == 0, "\(model.error)")
            for checkpoint in [dir.path("l.h5"), dir.path("t.h5")] {
                let e = MoeProcess.run(["eval", checkpoint, "--json"] + data)
                let correct = try #require(MoeProcess.json(e)?["correct"] as? Int, "\(e.error)")
                let p = MoeProcess.run(["predict", checkpoint, "--images", images, "--scores"])
                #expect(p.status == 0 && p.error.contains("predicted 500 rows"), "\(p.error)")
                let lines = p.output.split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
                #expect(lines.count == labels.count)
                #expect(zip(lines, labels).filter { Int($0.first ?? "") == $1 }.count == correct, "\(checkpoint)")
                #expect(correct > 150, "\(checkpoint): \(correct) of 500, chance 50")
                for line in lines {
                    let values = line.dropFirst().compactMap { Double($0) }
                    #expect(values.count == 10 && abs(values.reduce(0, +) - 1) < 1e-4, "\(line)")
                }
            }
            // Labels given as images, and images with other options, are refused by name.
            let wrong = MoeProcess.run(["predict", dir.path("l.h5"), "--images", TrainingData.synthetic + "/t10k-labels-idx1-ubyte"])
            #expect(wrong.status == 1 && wrong.error.contains("t10k-labels-idx1-ubyte: wrong dimensions"), "\(wrong.error)")
            let missing = MoeProcess.run(["predict", dir.path("l.h5"), "--images", dir.path("absent.gz")])
            #expect(missing.status == 1 && missing.error.contains("absent.gz: no such file"), "\(missing.error)")
            let both = MoeProcess.run(["predict", dir.path("l.h5"), "--images", images, "--labelled"])
            #expect(both.status != 0 && both.error.contains("--images reads images without labels"), "\(both.error)")
        }
    }

    /// 500 rows of four measurements about 10 m, and their class: the measurement that is
    /// 2 m more.
    static func measurements(seed: UInt64) -> (classes: [Int], values: [[Float]]) {
        var generator = SeededGenerator(seed: seed)
        let classes = (0..<500).map { _ in generator.nextInt(below: 2) }
        return (classes, classes.map { k in (0..<4).map { j in 10 + Float(j == k ? 2 : 0) + generator.nextNormal() } })
    }

    @Test("rows in other units than the learner learned are answered with a warning that says so; rows like them are not")
    func otherUnits() throws {
        try withTemporaryDirectory { dir in
            let (classes, values) = Self.measurements(seed: 12)
            for (name, scale) in [("metres.csv", Float(1)), ("millimetres.csv", 1000)] {
                try Self.write(zip(values, classes).map { v, k in v.map { String($0 * scale) } + [String(k)] }, to: dir.path(name))
            }
            let model = dir.path("m.h5")
            let s = MoeProcess.run(["stream", "--source", "csv:" + dir.path("metres.csv"), "--label-column", "last", "--hidden", "8", "--save", model])
            #expect(s.status == 0, "\(s.error)")
            let same = MoeProcess.run(["eval", model, "--source", "csv:" + dir.path("metres.csv"), "--json"])
            #expect(same.status == 0 && !same.error.contains("other units"), "\(same.error)")
            #expect(MoeProcess.json(same)?["features_far_from_learned"] as? Double == 0)
            let other = MoeProcess.run(["eval", model, "--source", "csv:" + dir.path("millimetres.csv"), "--json"])
            #expect(other.status == 0 && other.error.contains("the means of 100% of the features lie more than 5 deviations"), "\(other.error)")
            #expect(MoeProcess.json(other)?["features_far_from_learned"] as? Double == 1)
            let predicted = MoeProcess.run(["predict", model, "--source", "csv:" + dir.path("millimetres.csv"), "--labelled"])
            #expect(predicted.status == 0 && predicted.error.contains("are the rows in other units"), "\(predicted.error)")
        }
    }

    @Test("one column in other units among others is named, by its header name or its place in the file read")
    func oneColumnInOtherUnits() throws {
        try withTemporaryDirectory { dir in
            // The label first; the third measurement (field 3) in mm in the rows to answer.
            let (classes, values) = Self.measurements(seed: 13)
            let header = ["kind", "m0", "m1", "m2", "m3"]
            for named in [false, true] {
                let lines = { (scale: Float, labels: Bool) in
                    zip(values, classes).map { v, k in (labels ? [String(k)] : []) + v.enumerated().map { String($1 * ($0 == 2 ? scale : 1)) } }
                }
                let heading = { (labels: Bool) in named ? (labels ? header : Array(header.dropFirst())) : nil }
                try Self.write(lines(1, true), header: heading(true), to: dir.path("learned.csv"))
                try Self.write(lines(1000, true), header: heading(true), to: dir.path("mixed.csv"))
                try Self.write(lines(1000, false), header: heading(false), to: dir.path("bare.csv"))
                let model = dir.path("m\(named).h5")
                let s = MoeProcess.run(["stream", "--source", "csv:" + dir.path("learned.csv"), "--hidden", "8", "--save", model]
                                       + (named ? ["--header"] : []))
                #expect(s.status == 0, "\(s.error)")
                let same = MoeProcess.run(["eval", model, "--source", "csv:" + dir.path("learned.csv"), "--json"])
                #expect(same.status == 0 && !same.error.contains("deviations"), "\(same.error)")
                #expect(MoeProcess.json(same)?["columns_far_from_learned"] as? [String] == [])
                // Read with its label: the column is field 3; without it, the file's column 2.
                let other = MoeProcess.run(["eval", model, "--source", "csv:" + dir.path("mixed.csv"), "--json"])
                let withLabel = named ? "'m2'" : "column 3"
                #expect(other.status == 0 && other.error.contains("the mean of \(withLabel) lies"), "\(other.error)")
                #expect(other.error.contains("is it in other units"), "\(other.error)")
                #expect(MoeProcess.json(other)?["columns_far_from_learned"] as? [String] == [withLabel])
                #expect(MoeProcess.json(other)?["features_far_from_learned"] as? Double == 0.25)
                let bare = MoeProcess.run(["predict", model, "--source", "csv:" + dir.path("bare.csv")])
                let withoutLabel = named ? "'m2'" : "column 2"
                #expect(bare.status == 0 && bare.error.contains("the mean of \(withoutLabel) lies"), "\(bare.error)")
            }
        }
    }
}
