import Foundation
import Testing
import TestSupport

/// The label column `moe stream` reads when none is given: chosen by the reader once the
/// file shows its kind and header, from a file, a pipe or standard input alike.
@Suite("The label column chosen from the file, and files read from pipes")
struct LabelColumnChoiceTests {
    /// `count` rows of two measurements and a class named `k0` … `k2` under `header`
    /// (the class's column last), told apart by the measurements.
    private static func rows(_ count: Int, seed: UInt64, header: String = "a,b,class") -> String {
        var state = seed
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        var text = header + "\n"
        for _ in 0..<count {
            let c = Int(uniform() * 3)
            text += String(format: "%.4f,%.4f,k%d\n", Double(c) + uniform(), Double(2 - c) * 3 + uniform(), c)
        }
        return text
    }

    private static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    private static func accuracy(_ result: MoeProcess.Result) -> Double? {
        MoeProcess.json(result)?["prequential_accuracy"] as? Double
    }

    @Test("a header's one column named class is the label, and the saved learner, moe eval and a continued stream read it")
    func namedColumn() throws {
        try withTemporaryDirectory { dir in
            let train = dir.path("train.csv"), later = dir.path("later.csv"), model = dir.path("m.h5")
            try Self.write(Self.rows(600, seed: 1), to: train)
            try Self.write(Self.rows(300, seed: 2), to: later)
            let s = MoeProcess.run(["stream", "--source", "csv:" + train, "--hidden", "16", "--save", model])
            #expect(s.status == 0 && s.output.contains("label column: 'class' (the header's one column named as a label is"),
                    "\(s.output)\(s.error)")
            #expect(s.output.contains("3 classes: 'k"), "\(s.output)")
            // Before, the first column was the label: each of its values a class of its own.
            #expect(!s.error.contains("is it the label?"), "\(s.error)")
            let e = MoeProcess.run(["eval", model, "--source", "csv:" + later, "--json"])
            #expect(try #require(MoeProcess.json(e)?["correct"] as? Int, "\(e.error)") > 250)
            let c = MoeProcess.run(["stream", "--resume", model, "--source", "csv:" + later, "--hidden", "16"])
            #expect(c.status == 0 && c.output.contains("label column: 'class', 3 classes"), "\(c.output)\(c.error)")
            // Given, the option wins.
            let first = MoeProcess.run(["stream", "--source", "csv:" + train, "--hidden", "16", "--label-column", "first"])
            #expect(first.status == 0 && first.output.contains("label column: the first ('a'),"), "\(first.output)")
        }
    }

    @Test("the first column stays the label when the header names two columns as labels, or the named one is left out or first")
    func firstStands() throws {
        try withTemporaryDirectory { dir in
            let two = dir.path("two.csv"), first = dir.path("first.csv")
            let text = Self.rows(300, seed: 3, header: "label,b,class")
            try Self.write(text, to: two)
            let s = MoeProcess.run(["stream", "--source", "csv:" + two, "--hidden", "16"])
            #expect(s.output.contains("label column: the first ('label') (the default;"), "\(s.output)\(s.error)")
            let ignored = MoeProcess.run(["stream", "--source", "csv:" + two, "--hidden", "16", "--ignore-columns", "label"])
            #expect(ignored.output.contains("label column: 'class' (the header's one column named as a label is"),
                    "\(ignored.output)\(ignored.error)")
            // The class first, named: the first column, as before.
            let swapped = Self.rows(300, seed: 3, header: "x").split(separator: "\n").dropFirst().map { line in
                let f = line.split(separator: ",")
                return "\(f[2]),\(f[0]),\(f[1])"
            }
            try Self.write((["Class,a,b"] + swapped).joined(separator: "\n"), to: first)
            let f = MoeProcess.run(["stream", "--source", "csv:" + first, "--hidden", "16"])
            #expect(f.output.contains("label column: the first ('Class') (the default;"), "\(f.output)\(f.error)")
        }
    }

    @Test("without a name, a first column whose values are all different is no label: the last, whose values recur, is")
    func identifierFirst() throws {
        try withTemporaryDirectory { dir in
            let body = Self.rows(400, seed: 6).split(separator: "\n").dropFirst()
            // Kaggle's Iris.csv: an Id first, the species last.
            let kaggle = dir.path("kaggle.csv")
            try Self.write((["Id,a,b,Species"] + body.enumerated().map { "\($0 + 1),\($1)" }).joined(separator: "\n"), to: kaggle)
            let k = MoeProcess.run(["stream", "--source", "csv:" + kaggle, "--hidden", "16"])
            #expect(k.status == 0 && k.output.contains("label column: the last ('Species') (the first column's values are all different"),
                    "\(k.output)\(k.error)")
            #expect(k.output.contains("3 classes: 'k"), "\(k.output)")
            // A guess from the values: warned of, as a file with its identifier first and
            // its class second (as Kaggle's Titanic file has them) would get a feature.
            #expect(k.error.contains("warning: no --label-column, and the first column ('Id') holds a different value in every one of "
                + "the first rows: the last column ('Species') was taken"), "\(k.error)")
            // Without a header: measurements of four digits first.
            let plain = dir.path("plain.csv")
            try Self.write(body.joined(separator: "\n"), to: plain)
            let p = MoeProcess.run(["stream", "--source", "csv:" + plain, "--hidden", "16"])
            #expect(p.status == 0 && p.output.contains("label column: the last (the first column's values are all different"),
                    "\(p.output)\(p.error)")
            // A first column whose values recur stays the label (Kaggle's Fashion-MNIST files).
            let labelFirst = dir.path("first.csv")
            try Self.write(body.map { line -> String in
                let f = line.split(separator: ",")
                return "\(f[2]),\(f[0]),\(f[1])"
            }.joined(separator: "\n"), to: labelFirst)
            let f = MoeProcess.run(["stream", "--source", "csv:" + labelFirst, "--hidden", "16"])
            #expect(f.status == 0 && f.output.contains("label column: the first (the default;"), "\(f.output)\(f.error)")
            // Nor is the last taken when its values do not recur either, or when it is left out.
            let noRecur = dir.path("norecur.csv")
            try Self.write(body.enumerated().map { "\($0.offset),\($0.element),\($0.offset * 7 % 400)" }.joined(separator: "\n"), to: noRecur)
            let n = MoeProcess.run(["stream", "--source", "csv:" + noRecur, "--hidden", "16"])
            #expect(n.output.contains("label column: the first (the default;"), "\(n.output)\(n.error)")
            let left = MoeProcess.run(["stream", "--source", "csv:" + kaggle, "--hidden", "16", "--ignore-columns", "Species"])
            #expect(left.output.contains("label column: the first ('Id') (the default;"), "\(left.output)\(left.error)")
        }
    }

    @Test("moe suite streams every order of a file with the label column the file showed")
    func suiteOrdersKeepTheChoice() throws {
        try withTemporaryDirectory { dir in
            // A first column whose values differ in the file's first 64 rows (so the last
            // is the label) but repeat among the first class's rows, which the class order
            // puts first: read alone, that order would take the first column.
            let body = Self.rows(240, seed: 7).split(separator: "\n").dropFirst()
            let lines = body.enumerated().map { i, line in "\(i < 64 ? i : i % 8),\(line)" }
            let path = dir.path("rows.csv")
            try Self.write(lines.joined(separator: "\n"), to: path)
            let r = MoeProcess.run(["suite", "--source", "csv:" + path, "--orders", "file,class", "--learners", "default",
                                    "--out", dir.path("suite"), "--json"])
            #expect(r.status == 0, "\(r.error)")
            let rows = try #require(MoeProcess.json(r)?["rows"] as? [[String: Any]], "\(r.output)")
            #expect(rows.count == 2)
            for row in rows { #expect(try #require(row["accuracy"] as? Double) > 0.6, "\(row)") }
        }
    }

    @Test("a pipe is read once: csv:/dev/stdin, a named pipe and stdin stream what the file streams")
    func pipes() throws {
        try withTemporaryDirectory { dir in
            let train = dir.path("train.csv")
            try Self.write(Self.rows(500, seed: 4), to: train)
            let file = MoeProcess.run(["stream", "--source", "csv:" + train, "--hidden", "16", "--json"])
            let expected = try #require(Self.accuracy(file), "\(file.error)")
            // Before, the look for an ARFF header read the pipe's first lines: the stream
            // found 'no samples in it', and a named pipe's reader waited for ever.
            let devStdin = MoeProcess.shell("cat '\(train)' | \"$MOE\" stream --source csv:/dev/stdin --hidden 16 --json")
            #expect(Self.accuracy(devStdin) == expected, "\(devStdin.output)\(devStdin.error)")
            let named = MoeProcess.shell("""
                mkfifo '\(dir.path("rows"))' && (cat '\(train)' > '\(dir.path("rows"))' &) \
                && timeout -s KILL 120 "$MOE" stream --source csv:'\(dir.path("rows"))' --hidden 16 --json
                """)
            #expect(Self.accuracy(named) == expected, "\(named.output)\(named.error)")
            let stdin = MoeProcess.run(["stream", "--source", "stdin", "--hidden", "16", "--json"], input: Self.rows(500, seed: 4))
            #expect(Self.accuracy(stdin) == expected, "\(stdin.output)\(stdin.error)")
            // moe suite reads its file once per learner: a pipe is refused before it starts.
            let suite = MoeProcess.shell("cat '\(train)' | \"$MOE\" suite --source csv:/dev/stdin --out '\(dir.path("suite"))'")
            #expect(suite.status != 0 && suite.error.contains("a pipe, read once"), "\(suite.output)\(suite.error)")
        }
    }

    @Test("a Latin-1 file is refused with the pipe that converts it, and that pipe streams it")
    func latin1ThroughPipe() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("latin1.csv")
            var bytes = Array("a,b,class\n".utf8)
            for i in 0..<300 {
                bytes += Array("\(i % 7),\(i % 3 + (i % 2) * 5),".utf8) + (i % 2 == 0 ? [0x63, 0x61, 0x66, 0xE9] : Array("bar".utf8)) + [0x0A]
            }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let refused = MoeProcess.run(["stream", "--source", "csv:" + path, "--hidden", "16"])
            #expect(refused.status != 0 && refused.error.contains("'iconv -f WINDOWS-1252 -t UTF-8 FILE | moe … --source stdin'"),
                    "\(refused.error)")
            let piped = MoeProcess.shell("iconv -f WINDOWS-1252 -t UTF-8 '\(path)' | \"$MOE\" stream --source stdin --hidden 16")
            #expect(piped.status == 0 && piped.output.contains("2 classes: 'café', 'bar'"), "\(piped.output)\(piped.error)")
        }
    }

    @Test("an ARFF file on standard input takes its last attribute as the class, and moe predict reads it, as the file")
    func arffOnStandardInput() throws {
        try withTemporaryDirectory { dir in
            let arff = "@relation r\n@attribute a real\n@attribute b real\n@attribute kind {k0,k1,k2}\n@data\n"
                + Self.rows(300, seed: 5).split(separator: "\n").dropFirst().joined(separator: "\n") + "\n"
            let path = dir.path("rows.arff"), model = dir.path("m.h5")
            try Self.write(arff, to: path)
            let s = MoeProcess.run(["stream", "--source", "stdin", "--hidden", "16", "--save", model], input: arff)
            #expect(s.status == 0 && s.output.contains("label column: the last ('kind') (the default in an ARFF file"),
                    "\(s.output)\(s.error)")
            // Its rows hold the class: read as --labelled reads, from the file and from a
            // pipe alike (the command looked ahead in the file, which a pipe cannot give).
            let file = MoeProcess.run(["predict", model, "--source", "csv:" + path])
            #expect(file.status == 0 && file.output.split(separator: "\n").count == 300, "\(file.error)")
            let piped = MoeProcess.run(["predict", model, "--source", "stdin"], input: arff)
            #expect(piped.status == 0 && piped.output == file.output, "\(piped.error)")
            let devStdin = MoeProcess.shell("cat '\(path)' | \"$MOE\" predict '\(model)' --source csv:/dev/stdin")
            #expect(devStdin.status == 0 && devStdin.output == file.output, "\(devStdin.error)")
        }
    }
}
