import Foundation
import Testing
import Continual
import MoE
import TestSupport

/// JSON Lines files read as the CSV lines they describe, and other JSON refused
/// (`JSONLines`, `CSVSource`).
@Suite("JSON Lines files")
struct DataJSONLinesTests {
    /// The `.jsonLines` or `.jsonRecord` error's line and its sentence, or nil for any
    /// other outcome.
    private func jsonError(_ path: String, format: CSVFormat = CSVFormat(labelColumn: .last)) -> (line: Int?, message: String)? {
        let error = dataError { _ = try CSV.load(path: path, format: format) }
        switch error {
        case let .jsonLines(at)?, let .jsonRecord(at, _, _)?: return (at.line, error!.description)
        default: return nil
        }
    }

    /// Writes `text` as `name` in `dir` and expects it refused at `line`, the sentence
    /// holding `saying`.
    private func expectRefused(_ text: String, _ name: String, in dir: TemporaryDirectory, at line: Int, saying: String,
                               sourceLocation: SourceLocation = #_sourceLocation) throws {
        try writeText(text, to: dir.path(name))
        let error = jsonError(dir.path(name))
        #expect(error?.line == line && error?.message.contains(saying) == true, "\(String(describing: error))",
                sourceLocation: sourceLocation)
    }

    @Test("records read as the CSV file they describe: keys in any order, null and an absent key missing, strings quoted as CSV quotes them")
    func recordsAsCSV() throws {
        try withTemporaryDirectory { dir in
            let json = """
                {"island": "Torgersen", "bill": 39.1, "note": "a, \\"b\\"", "ok": true, "species": "Adelie"}

                {"species": "Gentoo", "ok": false, "note": "line\\nbreak", "bill": -4.61e1, "island": "Biscoe"}
                {"island": "caf\\u00e9 \\ud83d\\ude00", "bill": null, "species": "Adelie"}
                  {"island": "Dream", "bill": 0, "note": "", "ok": true, "species": "Chinstrap"}
                """ + "\r\n"
            let csv = #"""
                island,bill,note,ok,species
                Torgersen,39.1,"a, ""b""",true,Adelie

                Biscoe,-4.61e1,"line
                break",false,Gentoo
                café 😀,,,,Adelie
                Dream,0,,true,Chinstrap

                """#
            try writeText(json, to: dir.path("p.jsonl"))
            try writeText(csv, to: dir.path("p.csv"))
            let format = CSVFormat(labelColumn: .name("species"))
            let j = try CSV.load(path: dir.path("p.jsonl"), format: format), c = try CSV.load(path: dir.path("p.csv"), format: format)
            #expect(j.count == 4 && j.features == c.features, "\(j.features) against \(c.features)")
            #expect(j.labels == c.labels)
            var source = try CSVSource(path: dir.path("p.jsonl"), format: format)
            let batches = try drain(&source)
            #expect(source.isJSONLines && source.header == ["island", "bill", "note", "ok", "species"])
            #expect(source.labelMap.names == ["Adelie", "Gentoo", "Chinstrap"] && batches.count == 1)
            var plain = try CSVSource(path: dir.path("p.csv"), format: format)
            _ = try drain(&plain)
            #expect(!plain.isJSONLines)

            // gzip-compressed, the same rows.
            try Gzip.write(Array(json.utf8), to: dir.path("p.jsonl.gz"))
            #expect(try CSV.load(path: dir.path("p.jsonl.gz"), format: format).features == c.features)
        }
    }

    @Test("a record that is not one of the file's rows is refused by its line, and skipped and counted with --skip-bad-rows")
    func badRecords() throws {
        try withTemporaryDirectory { dir in
            let lines = [
                #"{"a": 1, "b": "x", "y": "p"}"#,
                #"{"a": [1, 2], "b": "z", "y": "q"}"#,  // a list
                #"{"a": 3, "a": 4, "y": "p"}"#,         // a key twice
                #"{"a": 5, "b": "w"  "y": "p"}"#,       // no comma
                #"{"a": 01, "y": "p"}"#,                // not a JSON number
                #"{"a": 6, "b": "v", "y": "q"} x"#,     // text after the record
                #"{"a": 7, "b": "u", "y": "p"}"#,
            ]
            try writeText(lines.joined(separator: "\n") + "\n", to: dir.path("bad.jsonl"))
            let first = try #require(jsonError(dir.path("bad.jsonl")))
            #expect(first.line == 2)
            #expect(first.message.hasPrefix("\(dir.path("bad.jsonl")), line 2: the value of 'a' is a list; only numbers, strings, true, false, null and objects"), "\(first.message)")
            #expect(first.message.contains("read as JSON Lines") && first.message.contains("--separator"))

            var source = try CSVSource(path: dir.path("bad.jsonl"), format: CSVFormat(labelColumn: .last), badRows: .skip)
            let kept = try Dataset(reading: &source)
            #expect(kept.count == 2 && (0..<kept.count).map { kept.features[$0, 0] } == [1, 7])
            let skipped = source.position.skipped
            #expect(skipped.total == 5 && skipped.nonNumeric == 1 && skipped.wrongWidth == 4, "\(skipped)")
            #expect(skipped.lastMessage?.contains("line 6: text after the record's closing brace") == true, "\(skipped)")

            // Each fault's sentence, alone in a file of two lines.
            let problems = [
                (lines[2], "the key 'a' is given twice"),
                (lines[3], "not a JSON record: ',' or '}' expected at character 20"),
                (lines[4], "not a JSON record: a value expected at character 7"),
            ]
            for (line, problem) in problems {
                try expectRefused(lines[0] + "\n" + line + "\n", "one.jsonl", in: dir, at: 2, saying: "line 2: " + problem)
            }
            // A first line that opens like a record and is not one stops the file there.
            try expectRefused(#"{"a": 1, "y": }"# + "\n" + lines[0] + "\n", "first.jsonl", in: dir, at: 1,
                              saying: "not a JSON record: a value expected")
        }
    }

    @Test("an object's fields are fields of their own, named 'key.field'; too deep a nesting is refused by its line")
    func objectsFlattened() throws {
        try withTemporaryDirectory { dir in
            let json = """
                {"event": "click", "user": {"id": 7, "place": {"country": "FR"}}, "ms": 12}
                {"event": "view", "user": {"place": {"country": "DE"}, "id": 8}, "ms": 30}
                {"event": "click", "user": {}, "ms": 5}

                """
            let csv = """
                event,user.id,user.place.country,ms
                click,7,FR,12
                view,8,DE,30
                click,,,5

                """
            try writeText(json, to: dir.path("e.jsonl"))
            try writeText(csv, to: dir.path("e.csv"))
            let format = CSVFormat(labelColumn: .name("event"))
            var source = try CSVSource(path: dir.path("e.jsonl"), format: format)
            let j = try Dataset(reading: &source), c = try CSV.load(path: dir.path("e.csv"), format: format)
            #expect(source.header == ["event", "user.id", "user.place.country", "ms"])
            #expect(j.features == c.features && j.labels == c.labels, "\(j.features) against \(c.features)")

            let deep = String(repeating: #"{"a": "#, count: 70) + "1" + String(repeating: "}", count: 70)
            try expectRefused(#"{"a": 1, "y": "p"}"# + "\n" + deep + "\n", "deep.jsonl", in: dir, at: 2,
                              saying: "objects nested more than 64 deep")
        }
    }

    @Test("records that leave keys out give every key, in the order of the records that have them; a pipe's keys are those of its first lines")
    func keysLeftOut() throws {
        try withTemporaryDirectory { dir in
            // As Spark writes rows, a null left out: 'note' first comes in the second record, 'b' in the third.
            let text = """
                {"a": 1, "y": "p"}
                {"a": 2, "note": "n1", "y": "q"}
                {"b": 5, "a": 3, "y": "p"}
                {"a": 4, "note": "n2", "y": "q"}

                """
            try writeText(text, to: dir.path("s.jsonl"))
            var source = try CSVSource(path: dir.path("s.jsonl"), format: CSVFormat(labelColumn: .last))
            let rows = try Dataset(reading: &source)
            #expect(source.header == ["b", "a", "note", "y"] && rows.count == 4)
            #expect(source.labelMap.names == ["p", "q"])

            // A descriptor has no path to read again: the lines ahead give the columns, and a
            // key first seen past them is refused by its line.
            let count = CSVSource.svmlightLookahead + 10
            var lines = (0..<count).map { #"{"x": \#($0), "c": "k\#($0 % 2)"}"# }
            try writeText(lines.joined(separator: "\n") + "\n", to: dir.path("ok.jsonl"))
            var piped = try CSVSource(fileHandle: try FileHandle(forReadingFrom: URL(fileURLWithPath: dir.path("ok.jsonl"))),
                                      name: "ok.jsonl", format: CSVFormat(labelColumn: .last))
            #expect(try Dataset(reading: &piped).count == count && piped.isJSONLines)
            lines[count - 3] = #"{"x": 1, "z": 2, "c": "k0"}"#
            try writeText(lines.joined(separator: "\n") + "\n", to: dir.path("late.jsonl"))
            let late = dataError {
                var s = try CSVSource(fileHandle: try FileHandle(forReadingFrom: URL(fileURLWithPath: dir.path("late.jsonl"))),
                                      name: "late.jsonl", format: CSVFormat(labelColumn: .last))
                _ = try Dataset(reading: &s)
            }
            guard case let .jsonRecord(at, problem, _)? = late else { Issue.record("\(String(describing: late))"); return }
            #expect(at.line == count - 2)
            #expect(problem == "the key 'z' is not among the columns ('x', 'c'), found in its first \(CSVSource.svmlightLookahead) lines "
                + "before the first row was read: the stream's columns are fixed then", "\(problem)")
            // Read by its path, the whole file gives the columns.
            var whole = try CSVSource(path: dir.path("late.jsonl"), format: CSVFormat(labelColumn: .last))
            _ = try Dataset(reading: &whole)
            #expect(whole.header == ["x", "z", "c"])
        }
    }

    @Test("lists per line and a JSON document over many lines are refused, with a way to read them")
    func listsAndDocumentsRefused() throws {
        try withTemporaryDirectory { dir in
            try writeText("\n[\"Torgersen\", 39.1, \"Adelie\"]\n[\"Biscoe\", 46.1, \"Gentoo\"]\n", to: dir.path("lists.jsonl"))
            let lists = try #require(jsonError(dir.path("lists.jsonl")))
            #expect(lists.line == 2 && lists.message.contains("a JSON list or opens a JSON document") && lists.message.contains("to_csv"))
            try writeText("[\n  {\"bill\": 39.1, \"species\": \"Adelie\"},\n  {\"bill\": 46.1, \"species\": \"Gentoo\"}\n]\n", to: dir.path("doc.json"))
            #expect(jsonError(dir.path("doc.json"))?.line == 1)
            try writeText("[{\"bill\": 39.1, \"species\": \"Adelie\"},\n{\"bill\": 46.1, \"species\": \"Gentoo\"}]\n", to: dir.path("doc2.json"))
            #expect(jsonError(dir.path("doc2.json"))?.line == 1)
            try writeText("{\n  \"bill\": 39.1,\n  \"species\": \"Adelie\"\n}\n", to: dir.path("one.json"))
            #expect(jsonError(dir.path("one.json"))?.line == 1)
        }
    }

    @Test("CSV whose first field begins with a brace or a bracket reads as CSV, and so does JSON given a separator")
    func csvStaysCSV() throws {
        try withTemporaryDirectory { dir in
            try writeText("{a},1,x\n{b},2,y\n{a},3,x\n", to: dir.path("brace.csv"))
            var braces = try CSVSource(path: dir.path("brace.csv"), format: CSVFormat(labelColumn: .last))
            #expect(try Dataset(reading: &braces).count == 3 && !braces.isJSONLines)
            try writeText("[1] 2,5,x\n[2] 3,6,y\n", to: dir.path("bracket.csv"))
            #expect(try CSV.load(path: dir.path("bracket.csv"), format: CSVFormat(labelColumn: .last)).count == 2)
            // The way out the message names: a separator given reads the lines as CSV.
            try writeText("{\"bill\": 39.1, \"species\": \"Adelie\"}\n{\"bill\": 46.1, \"species\": \"Gentoo\"}\n", to: dir.path("p.jsonl"))
            var given = try CSVSource(path: dir.path("p.jsonl"), format: CSVFormat(labelColumn: .last, separator: ","))
            #expect(try Dataset(reading: &given).count == 2 && !given.isJSONLines)
        }
    }

    @Test("a paused JSON Lines stream resumes with the same rows")
    func resumes() throws {
        try withTemporaryDirectory { dir in
            var text = ""
            for i in 0..<50 { text += "{\"x\": \(i), \"z\": \(Double(i) / 4), \"c\": \"k\(i % 3)\"}\n" }
            try writeText(text, to: dir.path("r.jsonl"))
            let format = CSVFormat(labelColumn: .last)
            let whole = try CSV.load(path: dir.path("r.jsonl"), format: format).features
            #expect(whole.rows == 50 && whole.columns == 2)
            #expect(try featuresAcrossResume(path: dir.path("r.jsonl"), format: format, batchSize: 16) == whole)
        }
    }
}
