import Continual
import Foundation
import MoE
import Testing
import TestSupport

/// `moe stream --predictions FILE`: every first-visit row's prediction, made before the
/// row was learned, as CSV; a paused and resumed stream writes the file a straight one does.
@Suite("moe stream --predictions")
struct PredictionsFileTests {
    /// 600 rows of 3 features, classes named with a comma and a quote, labels last.
    static func rows() -> [String] {
        var generator = SeededGenerator(seed: 8)
        let names = ["cat", "\"big\" dog", "eel, small"]
        return (0..<600).map { _ in
            let label = generator.nextInt(below: 3)
            let features = (0..<3).map { j in String(Float(j == label ? 2 : 0) + generator.nextNormal()) }
            let name = names[label].contains(",") || names[label].contains("\"")
                ? "\"" + names[label].replacingOccurrences(of: "\"", with: "\"\"") + "\"" : names[label]
            return features.joined(separator: ",") + "," + name
        }
    }

    static let stream = ["stream", "--label-column", "last", "--hidden", "16", "--batch-size", "50", "--json"]

    @Test("each first-visit row's prediction, its label and number; the rows right are the prequential accuracy")
    func written() throws {
        try withTemporaryDirectory { dir in
            try (["x,y,z,animal"] + Self.rows()).joined(separator: "\n").write(toFile: dir.path("rows.csv"), atomically: true, encoding: .utf8)
            let run = MoeProcess.run(Self.stream + ["--source", "csv:" + dir.path("rows.csv"), "--predictions", dir.path("p.csv")])
            #expect(run.status == 0, "\(run.error)")
            #expect(run.error.contains("predictions: 600 rows in \(dir.path("p.csv"))"))
            let lines = try String(contentsOfFile: dir.path("p.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(lines.count == 601 && lines[0] == "sample,experience,label,predicted")
            let labels = Self.rows().map { String($0.split(separator: ",", maxSplits: 3)[3]) }
            var right = 0
            for (i, line) in lines.dropFirst().enumerated() {
                let number = "\(i + 1),1,"
                #expect(line.hasPrefix(number + labels[i] + ","), "line \(i + 2): \(line)")
                if line == number + labels[i] + "," + labels[i] { right += 1 }
            }
            let accuracy = try #require(MoeProcess.json(run)?["prequential_accuracy"] as? Double)
            #expect(abs(Double(right) / 600 - accuracy) < 1e-12, "\(right) of 600 right in the file, prequential accuracy \(accuracy)")
            #expect(right > 400, "the learner predicts these blobs, or this checks little")

            // The kappas the command reports are the file's: computed here from its lines.
            let names = Array(Set(labels)).sorted()
            let pairs = lines.dropFirst().enumerated().map { i, line -> (String, String) in
                let rest = line.dropFirst("\(i + 1),1,".count)
                let label = names.first { rest.hasPrefix($0 + ",") }!
                return (label, String(rest.dropFirst(label.count + 1)))
            }
            // The first row, predicted before any class was learned, has no answer: it is
            // wrong in the accuracy above and left out of the kappas.
            #expect(pairs[0].1.isEmpty, "\(lines[1])")
            let answered = Array(pairs.dropFirst())
            #expect(answered.allSatisfy { names.contains($0.1) })
            let n = Double(answered.count)
            var p0 = 0.0, pc = 0.0, repeated = 0.0
            for name in names {
                let byLabel = Double(answered.filter { $0.0 == name }.count), byGuess = Double(answered.filter { $0.1 == name }.count)
                pc += byLabel * byGuess / (n * n)
            }
            p0 = Double(answered.filter { $0.0 == $0.1 }.count) / n
            for i in 1..<answered.count where answered[i].0 == answered[i - 1].0 { repeated += 1 }
            let json = try #require(MoeProcess.json(run))
            let kappa = try #require(json["prequential_kappa"] as? Double), temporal = try #require(json["prequential_kappa_temporal"] as? Double)
            #expect(abs(kappa - (p0 - pc) / (1 - pc)) < 1e-9, "kappa \(kappa)")
            #expect(abs(temporal - (p0 - repeated / n) / (1 - repeated / n)) < 1e-9, "temporal kappa \(temporal)")
            #expect(abs(try #require(json["no_change_accuracy"] as? Double) - repeated / n) < 1e-12)
            #expect(run.error.contains("kappa \(String(format: "%.4f", kappa)), temporal kappa \(String(format: "%.4f", temporal)) over the 599 first visits it answered"))
        }
    }

    @Test("a paused stream resumed writes the file a straight one does, dropping lines written after its checkpoint; a write that fails warns; a file that cannot be made, or one that is not a file of predictions, stops the command and is left as it was")
    func resumed() throws {
        try withTemporaryDirectory { dir in
            try Self.rows().joined(separator: "\n").write(toFile: dir.path("rows.csv"), atomically: true, encoding: .utf8)
            let source = ["--source", "csv:" + dir.path("rows.csv")]
            let straight = MoeProcess.run(Self.stream + source + ["--predictions", dir.path("straight.csv")])
            #expect(straight.status == 0, "\(straight.error)")
            let paused = MoeProcess.run(Self.stream + source + ["--predictions", dir.path("resumed.csv"), "--save", dir.path("p.h5"),
                                                               "--stop-after-batches", "5"])
            #expect(paused.status == 0, "\(paused.error)")
            // Lines a process wrote after its checkpoint, and one it cut, go on resuming.
            let handle = try #require(FileHandle(forWritingAtPath: dir.path("resumed.csv")))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("251,1,cat,cat\n252,1,\"eel".utf8))
            try handle.close()
            let resumed = MoeProcess.run(["stream", "--resume", dir.path("p.h5"), "--predictions", dir.path("resumed.csv"), "--json"])
            #expect(resumed.status == 0, "\(resumed.error)")
            let a = try String(contentsOfFile: dir.path("straight.csv"), encoding: .utf8)
            let b = try String(contentsOfFile: dir.path("resumed.csv"), encoding: .utf8)
            #expect(a == b && a.split(separator: "\n").count == 601)
            // The kappa counts went into the checkpoint: the resumed stream's are the straight one's.
            for key in ["prequential_kappa", "prequential_kappa_temporal", "no_change_accuracy"] {
                let x = MoeProcess.json(straight)?[key] as? Double, y = MoeProcess.json(resumed)?[key] as? Double
                #expect(x != nil && x == y, "\(key): \(String(describing: x)) straight, \(String(describing: y)) resumed")
            }

            // A write that fails part-way (a file-size limit of 4 KiB) does not stop the
            // stream: it ends, and says the file is not whole.
            let limited = MoeProcess.shell("ulimit -f 4; exec env --default-signal=XFSZ \"$MOE\" "
                + (Self.stream + source + ["--predictions", dir.path("limited.csv")]).map { "'\($0)'" }.joined(separator: " "))
            #expect(limited.status == 0 && !limited.signalled, "\(limited.error)")
            #expect(limited.error.contains("warning: the predictions file '\(dir.path("limited.csv"))' could not be written whole"), "\(limited.error)")
            #expect(MoeProcess.json(limited)?["samples"] as? Int == 600)

            // The stream's own data file given by mistake is left whole.
            let before = try Data(contentsOf: URL(fileURLWithPath: dir.path("rows.csv")))
            let mistaken = MoeProcess.run(Self.stream + source + ["--predictions", dir.path("rows.csv")])
            #expect(mistaken.status != 0 && mistaken.error.contains("is there and is not a file of predictions"), "\(mistaken.error)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: dir.path("rows.csv"))) == before)

            let missing = dir.path("no-such-folder/p.csv")
            let refused = MoeProcess.run(Self.stream + source + ["--predictions", missing])
            #expect(refused.status != 0 && refused.error.contains("the predictions file '\(missing)' cannot be written"), "\(refused.error)")
        }
    }
}
