import Foundation
import Testing
import TestSupport

/// JSON Lines files through the user's commands.
@Suite("moe with JSON Lines files")
struct JSONLinesCommandTests {
    /// `count` rows of three classes: a colour (text), two measurements (one sometimes
    /// missing) and the class; as JSON Lines (keys in `order`, the class left out without
    /// `label`) and as CSV (a header, the class last).
    private static func rows(_ count: Int, seed: UInt64, order: [String] = ["colour", "x", "z", "kind"],
                             label: Bool = true) -> (json: String, csv: String) {
        var state = seed
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let kinds = ["ash", "birch", "cedar"], colours = ["red", "green", "blue, dark"]
        var json = "", csv = label ? "colour,x,z,kind\n" : "colour,x,z\n"
        for i in 0..<count {
            let c = i % 3
            let x = Double(Int((Double(c) * 2 + uniform() * 3) * 100)) / 100
            let z: Double? = uniform() < 0.1 ? nil : Double(Int((uniform() * 4 - Double(c)) * 100)) / 100
            let colour = colours[(c + (uniform() < 0.3 ? 1 : 0)) % 3]
            let values: [String: String] = ["colour": "\"\(colour)\"", "x": "\(x)", "z": z.map { "\($0)" } ?? "null", "kind": "\"\(kinds[c])\""]
            json += "{" + order.filter { label || $0 != "kind" }.map { "\"\($0)\": \(values[$0]!)" }.joined(separator: ", ") + "}\n"
            csv += "\"\(colour)\",\(x),\(z.map { "\($0)" } ?? "")" + (label ? ",\(kinds[c])" : "") + "\n"
        }
        return (json, csv)
    }

    @Test("moe stream, eval and predict read JSON Lines as the same rows written as CSV, to the last bit")
    func sameAsCSV() throws {
        try withTemporaryDirectory { dir in
            let train = Self.rows(600, seed: 1)
            let test = Self.rows(150, seed: 2, order: ["kind", "z", "x", "colour"])
            let unlabelled = Self.rows(150, seed: 2, label: false)
            let files = ["train.jsonl": train.json, "train.csv": train.csv, "test.jsonl": test.json, "test.csv": test.csv,
                         "rows.jsonl": unlabelled.json, "rows.csv": unlabelled.csv]
            for (name, text) in files { try Data(text.utf8).write(to: URL(fileURLWithPath: dir.path(name))) }
            // The test records hold their keys in another order: they are placed by name.
            let runs = BesideCSV(format: "jsonl", in: dir, arguments: ["--label-column", "kind", "--hidden", "16"], testInput: test.json)
            for s in runs.streams.values { #expect(s.status == 0, "\(s.error)") }
            let prequential = runs.prequential
            #expect(prequential["jsonl"] != nil && prequential["jsonl"] == prequential["csv"], "\(prequential)")
            #expect(try #require(prequential["jsonl"]) > 0.6)
            #expect(runs.correct != nil && runs.correct == runs.csvCorrect, "\(runs.evalErrors)")
            #expect(runs.pipedCorrect == runs.correct, "\(runs.pipedError)")

            // Predictions for records without the class, and for the same rows as CSV.
            let p = MoeProcess.run(["predict", dir.path("jsonl.h5"), "--source", "csv:" + dir.path("rows.jsonl")])
            let q = MoeProcess.run(["predict", dir.path("csv.h5"), "--source", "csv:" + dir.path("rows.csv")])
            #expect(p.status == 0 && p.output.split(separator: "\n").count == 150 && p.output == q.output, "\(p.error)\(q.error)")
        }
    }

    @Test("a JSON document is refused by moe stream with the sentence that says how to read it")
    func documentRefused() throws {
        try withTemporaryDirectory { dir in
            try Data("[\n  {\"x\": 1, \"kind\": \"ash\"}\n]\n".utf8).write(to: URL(fileURLWithPath: dir.path("doc.json")))
            let s = MoeProcess.run(["stream", "--source", "csv:" + dir.path("doc.json")])
            #expect(s.status != 0 && s.error.contains("doc.json, line 1: this line is a JSON list or opens a JSON document"), "\(s.error)")
        }
    }
}
