import Foundation
import Testing
import TestSupport

/// Weka's ARFF files through the user's commands.
@Suite("moe with ARFF files")
struct ARFFCommandTests {
    /// An ARFF file of `count` rows: two numbers, a nominal column, and the class last
    /// (`?` in every row with `unknownClass`).
    private static func arff(_ count: Int, seed: UInt64, unknownClass: Bool = false) -> String {
        var text = """
            % Three classes told apart by x and y.
            @relation 'points'
            @attribute x numeric
            @attribute y REAL
            @attribute shade {'pale blue', dark}
            @attribute class {north, 'south west', east}
            @data

            """
        var state = seed
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let names = ["north", "'south west'", "east"]
        for i in 0..<count {
            let c = i % 3
            let x = Double(c) * 2 + uniform(), y = Double(2 - c) + uniform()
            let shade = uniform() < 0.5 ? "'pale blue'" : "dark"
            text += String(format: "%.4f,%.4f,", x, y) + shade + "," + (unknownClass ? "?" : names[c]) + "\n"
        }
        return text
    }

    @Test("a KEEL file's @outputs line names the class moe stream and moe eval take by default")
    func keelOutputs() throws {
        try withTemporaryDirectory { dir in
            // KEEL writes the class where its header put it: here, before the last column.
            func keel(_ count: Int, seed: UInt64) -> String {
                Self.arff(count, seed: seed).split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
                    if line == "@data" { return "@inputs x, y, shade\n@outputs class\n@data" }
                    return String(line)
                }.joined(separator: "\n")
            }
            let train = dir.path("train.dat"), test = dir.path("test.dat"), model = dir.path("m.h5")
            try Data(keel(600, seed: 1).utf8).write(to: URL(fileURLWithPath: train))
            try Data(keel(150, seed: 2).utf8).write(to: URL(fileURLWithPath: test))
            let s = MoeProcess.run(["stream", "--source", "csv:" + train, "--hidden", "16", "--save", model])
            #expect(s.status == 0 && s.output.contains("label column: 'class' (the output the ARFF file's @outputs line names"), "\(s.output)\(s.error)")
            let e = MoeProcess.run(["eval", model, "--source", "csv:" + test, "--json"])
            #expect(try #require(MoeProcess.json(e)?["correct"] as? Int, "\(e.error)") > 120)
            // Named otherwise, the @outputs line is what the user overrides.
            let shade = MoeProcess.run(["stream", "--source", "csv:" + train, "--hidden", "16", "--label-column", "shade"])
            #expect(shade.status == 0 && shade.output.contains("label column: 'shade', 2 classes"), "\(shade.output)")
        }
    }

    @Test("moe stream takes the class last in an ARFF file; moe eval and moe predict read ARFF files the same way")
    func streamEvalPredict() throws {
        try withTemporaryDirectory { dir in
            let train = dir.path("train.arff"), test = dir.path("test.arff"), unknown = dir.path("unknown.arff")
            try Data(Self.arff(600, seed: 1).utf8).write(to: URL(fileURLWithPath: train))
            try Data(Self.arff(150, seed: 2).utf8).write(to: URL(fileURLWithPath: test))
            try Data(Self.arff(150, seed: 2, unknownClass: true).utf8).write(to: URL(fileURLWithPath: unknown))
            let model = dir.path("m.h5")
            let s = MoeProcess.run(["stream", "--source", "csv:" + train, "--hidden", "16", "--save", model])
            #expect(s.status == 0, "\(s.error)")
            #expect(s.output.contains("label column: the last ('class') (the default in an ARFF file"), "\(s.output)")
            #expect(s.output.contains("3 classes: 'north', 'south west', 'east'"), "\(s.output)")

            let e = MoeProcess.run(["eval", model, "--source", "csv:" + test, "--json"])
            #expect(e.status == 0, "\(e.error)")
            let correct = try #require(MoeProcess.json(e)?["correct"] as? Int)
            #expect(correct > 120, "the learner learned little: \(correct) of 150")

            // Rows whose class is '?' need no --labelled: an ARFF file declares its class.
            let p = MoeProcess.run(["predict", model, "--source", "csv:" + unknown])
            #expect(p.status == 0, "\(p.error)")
            let answers = p.output.split(separator: "\n").map(String.init)
            let truth = Self.arff(150, seed: 2).split(separator: "\n").suffix(150).map {
                String($0.split(separator: ",").last!).replacing("'", with: "")
            }
            #expect(answers.count == 150)
            #expect(zip(answers, truth).filter { $0 == $1 }.count == correct, "moe predict and moe eval disagree")
            let l = MoeProcess.run(["predict", model, "--source", "csv:" + test])
            #expect(l.status == 0 && l.output == p.output, "\(l.error)")
            // The same rows as CSV with '?' classes: --labelled reads the column's values no
            // more than an ARFF file's (a '?' there stopped it before).
            let rows = Self.arff(150, seed: 2, unknownClass: true).split(separator: "\n").suffix(150).map {
                $0.replacing("'pale blue'", with: "pale blue")
            }
            let csv = dir.path("unknown.csv")
            try (["x,y,shade,class"] + rows).joined(separator: "\n").write(toFile: csv, atomically: true, encoding: .utf8)
            let c = MoeProcess.run(["predict", model, "--source", "csv:" + csv, "--labelled"])
            #expect(c.status == 0 && c.output == p.output, "\(c.error)")

            // The class elsewhere is named as in any CSV file.
            let first = MoeProcess.run(["stream", "--source", "csv:" + train, "--hidden", "16", "--label-column", "shade"])
            #expect(first.status == 0 && first.output.contains("label column: 'shade', 2 classes: '")
                && first.output.contains("'pale blue'") && first.output.contains("'dark'"), "\(first.output)")

            // A bad file is one line naming it, its line and what is wrong.
            try Data("@relation r\n@attribute x numeric\n@attribute c {a,b}\n@data\n1,a,{3}\n".utf8).write(to: URL(fileURLWithPath: dir.path("w.arff")))
            let bad = MoeProcess.run(["stream", "--source", "csv:" + dir.path("w.arff")])
            #expect(bad.status != 0 && !bad.signalled)
            #expect(bad.error.contains("w.arff, line 5: the row ends with an instance weight"), "\(bad.error)")
        }
    }
}
