import Foundation
import Testing
import TestSupport

/// svmlight (LIBSVM) files through the user's commands.
@Suite("moe with svmlight files")
struct SVMLightCommandTests {
    /// `count` rows of three classes over `width` features, most of them 0: each row as
    /// svmlight (`label index:value …`, indices from 1, the features that are 0 left out)
    /// and as CSV (the label first, every feature written). Without `lastFeature` no row
    /// names the last feature.
    private static func rows(_ count: Int, width: Int, seed: UInt64, lastFeature: Bool = true) -> (svm: String, csv: String) {
        var state = seed
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        var svm = "", csv = ""
        for i in 0..<count {
            let c = i % 3
            var values = [Double](repeating: 0, count: width)
            for k in 0..<width where uniform() < 0.3 { values[k] = (Double(Int(uniform() * 100)) / 10) + (k % 3 == c ? 4 : 0) }
            values[c] = 5 + Double(Int(uniform() * 10)) / 10
            if i == 0 && lastFeature { values[width - 1] = 1 }
            if !lastFeature { values[width - 1] = 0 }
            let shown = values.map { $0 == 0 ? "0" : String($0) }
            csv += "\(c)," + shown.joined(separator: ",") + "\n"
            svm += "\(c)" + values.indices.filter { values[$0] != 0 }.map { " \($0 + 1):\(shown[$0])" }.joined() + "\n"
        }
        return (svm, csv)
    }

    @Test("moe stream, eval and predict read an svmlight file as the same rows written as CSV, to the last bit")
    func sameAsCSV() throws {
        try withTemporaryDirectory { dir in
            let train = Self.rows(600, width: 12, seed: 1), test = Self.rows(150, width: 12, seed: 2, lastFeature: false)
            let files = ["train.svm": train.svm, "train.csv": train.csv, "test.svm": test.svm, "test.csv": test.csv]
            for (name, text) in files { try Data(text.utf8).write(to: URL(fileURLWithPath: dir.path(name))) }
            // The test rows name no 12th feature: read for the model, they are 12 wide all the
            // same; from standard input too.
            let runs = BesideCSV(format: "svm", in: dir, arguments: ["--hidden", "16"], testInput: test.svm)
            for s in runs.streams.values { #expect(s.status == 0, "\(s.error)") }
            let svm = try #require(runs.streams["svm"])
            #expect(svm.error.contains("label column: the first ('label') (an svmlight (LIBSVM) file's label, each row's first field; "
                + "its 12 features, f1 to f12, are 0 where a row does not name them), 3 classes"), "\(svm.error)")
            let prequential = runs.prequential
            #expect(prequential["svm"] != nil && prequential["svm"] == prequential["csv"], "\(prequential)")
            #expect(try #require(prequential["svm"]) > 0.8)
            #expect(runs.correct != nil && runs.correct == runs.csvCorrect, "\(runs.evalErrors)")
            #expect(runs.pipedCorrect == runs.correct, "\(runs.pipedError)")

            // Predictions: an svmlight row holds its label, which is not read.
            let p = MoeProcess.run(["predict", dir.path("svm.h5"), "--source", "csv:" + dir.path("test.svm")])
            let q = MoeProcess.run(["predict", dir.path("csv.h5"), "--source", "csv:" + dir.path("test.csv"), "--labelled"])
            #expect(p.status == 0 && p.output.split(separator: "\n").count == 150 && p.output == q.output, "\(p.error)")
        }
    }

    @Test("an svmlight stream from a pipe, paused and resumed, learns what the file learns")
    func pipeAndResume() throws {
        try withTemporaryDirectory { dir in
            let train = Self.rows(600, width: 12, seed: 3)
            let path = dir.path("train.svm")
            try Data(train.svm.utf8).write(to: URL(fileURLWithPath: path))
            func prequential(_ r: MoeProcess.Result, _ key: String = "prequential_accuracy") -> Double? { MoeProcess.json(r)?[key] as? Double }
            let whole = MoeProcess.run(["stream", "--source", "csv:" + path, "--hidden", "16", "--json"])
            let piped = MoeProcess.run(["stream", "--source", "stdin", "--hidden", "16", "--json"], input: train.svm)
            #expect(prequential(whole) != nil && prequential(piped) == prequential(whole), "\(piped.error)")

            let paused = MoeProcess.run(["stream", "--source", "csv:" + path, "--hidden", "16", "--stop-after-batches", "2",
                                         "--save", dir.path("p.h5"), "--json"])
            #expect(paused.status == 0, "\(paused.error)")
            let resumed = MoeProcess.run(["stream", "--resume", dir.path("p.h5"), "--json"])
            #expect(resumed.status == 0 && prequential(resumed) == prequential(whole), "\(resumed.error)")

            // A label column given otherwise names a feature: refused, with the line.
            let last = MoeProcess.run(["stream", "--source", "csv:" + path, "--label-column", "last"])
            #expect(last.status != 0 && last.error.contains("line 1: a row's label is its first field, but --label-column says last, a feature"),
                    "\(last.error)")
            // From a pipe too, naming the first row's line, not the last line read ahead for the width.
            let piped2 = MoeProcess.run(["stream", "--source", "stdin", "--label-column", "2"], input: "# rows\n" + train.svm)
            #expect(piped2.status != 0 && piped2.error.contains("standard input, line 2: a row's label is its first field, but --label-column says index 2"),
                    "\(piped2.error)")
        }
    }

    @Test("a file of more than 16,384 features streams folded into 16,384 columns; eval and predict fold later files alike, new indices too; it resumes to the bit")
    func foldsWideFiles() throws {
        try withTemporaryDirectory { dir in
            // Three classes, each row 20 features: most from its class's 200 indices, the
            // rest from 60,000 (100,000 in the test rows, which the training rows never name).
            var state: UInt64 = 7
            func below(_ n: Int) -> Int {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Int((state >> 33) % UInt64(n))
            }
            func rows(_ count: Int, widest: Int) -> String {
                (0..<count).map { i in
                    let c = i % 3
                    let indices = Set((0..<20).map { _ in below(4) > 0 ? 1 + c * 20_000 + below(200) : 1 + below(widest) })
                    return "\(c)" + indices.sorted().map { " \($0):1" }.joined()
                }.joined(separator: "\n") + "\n"
            }
            try Data(rows(600, widest: 60_000).utf8).write(to: URL(fileURLWithPath: dir.path("train.svm")))
            try Data(rows(150, widest: 100_000).utf8).write(to: URL(fileURLWithPath: dir.path("test.svm")))
            let stream = MoeProcess.run(["stream", "--source", "csv:" + dir.path("train.svm"), "--hidden", "16", "--save", dir.path("w.h5")])
            #expect(stream.status == 0, "\(stream.error)")
            #expect(stream.output.contains("its features, more than 16384, are folded into 16384 columns, hash0 to hash16383"), "\(stream.output)")
            let eval = MoeProcess.run(["eval", dir.path("w.h5"), "--source", "csv:" + dir.path("test.svm"), "--json"])
            let correct = MoeProcess.json(eval)?["correct"] as? Int
            #expect(eval.status == 0 && (correct ?? 0) > 135, "\(String(describing: correct)) \(eval.error)")
            let predict = MoeProcess.run(["predict", dir.path("w.h5"), "--source", "csv:" + dir.path("test.svm")])
            #expect(predict.status == 0 && predict.output.split(separator: "\n").count == 150, "\(predict.error)")

            // Paused and resumed, the folded stream learns what it learns whole, to the bit.
            func prequential(_ r: MoeProcess.Result) -> Double? { MoeProcess.json(r)?["prequential_accuracy"] as? Double }
            let whole = MoeProcess.run(["stream", "--source", "csv:" + dir.path("train.svm"), "--hidden", "16", "--json"])
            let paused = MoeProcess.run(["stream", "--source", "csv:" + dir.path("train.svm"), "--hidden", "16", "--stop-after-batches", "2",
                                         "--save", dir.path("p.h5"), "--json"])
            let resumed = MoeProcess.run(["stream", "--resume", dir.path("p.h5"), "--json"])
            #expect(paused.status == 0 && prequential(whole) != nil && prequential(resumed) == prequential(whole), "\(resumed.error)")
        }
    }
}
