import Foundation
import Testing
import Continual
import MoE
import TestSupport

/// Weka's ARFF files read as the CSV lines they describe (`ARFFLines`, `CSVSource`).
@Suite("ARFF files")
struct DataARFFTests {
    /// Every row of the file at `path`, read with the label last.
    private func read(_ path: String, label: LabelColumn = .last, hasHeader: Bool = false) throws -> Dataset {
        try CSV.load(path: path, format: CSVFormat(labelColumn: label, hasHeader: hasHeader))
    }

    @Test("a dense ARFF file reads as the CSV file it describes: comments, quotes, escapes, blanks, missing values, any case")
    func denseAsCSV() throws {
        try withTemporaryDirectory { dir in
            let arff = """
                % A comment before the relation, and a blank line.

                @RELATION 'weather, mostly'
                % Attribute names quoted, with blanks; types in any case.
                @attribute 'wind speed' NUMERIC
                @Attribute outlook {sunny, 'light rain', "fog, thick"}
                @attribute humidity real
                @attribute note string
                @attribute play {yes,no}

                @data
                % A row is one line.
                1.5, sunny, 80, 'it\\'s fine', yes
                ?,'light rain',  90  ,"say \\"hi\\"",no
                \t3,"fog, thick",?,'a % sign',yes   % a comment after the row
                4.25,sunny,70,plain,no

                """
            let csv = """
                wind speed,outlook,humidity,note,play
                1.5,sunny,80,it's fine,yes
                ?,light rain,90,"say ""hi\""",no
                3,"fog, thick",?,a % sign,yes
                4.25,sunny,70,plain,no

                """
            try writeText(arff, to: dir.path("w.arff"))
            try writeText(csv, to: dir.path("w.csv"))
            let a = try read(dir.path("w.arff")), c = try read(dir.path("w.csv"), hasHeader: true)
            #expect(a.count == 4)
            #expect(a.features == c.features, "\(a.features) against \(c.features)")
            #expect(a.labels == c.labels && a.classNames == ["yes", "no"])

            // The source says what it read: ARFF, with the attributes' names for a header.
            var source = try CSVSource(path: dir.path("w.arff"), format: CSVFormat(labelColumn: .last))
            _ = try drain(&source)
            #expect(source.isARFF)
            #expect(source.header == ["wind speed", "outlook", "humidity", "note", "play"])
            #expect(source.textColumns == [1, 3])
            var plain = try CSVSource(path: dir.path("w.csv"), format: CSVFormat(labelColumn: .last))
            _ = try drain(&plain)
            #expect(!plain.isARFF)

            // gzip-compressed, and found so by path.
            try Gzip.write(Array(arff.utf8), to: dir.path("w.arff.gz"))
            #expect(try read(dir.path("w.arff.gz")).features == a.features)
            #expect(CSVSource.isARFF(path: dir.path("w.arff")) && CSVSource.isARFF(path: dir.path("w.arff.gz")))
            #expect(!CSVSource.isARFF(path: dir.path("w.csv")) && !CSVSource.isARFF(path: dir.path("absent.arff")))
            // A CSV file whose first line starts with '%' is CSV still.
            try writeText("%share,b,label\n1,2,x\n3,4,y\n", to: dir.path("p.csv"))
            #expect(!CSVSource.isARFF(path: dir.path("p.csv")))
            #expect(try read(dir.path("p.csv")).count == 2)
        }
    }

    @Test("sparse rows hold 0 in numeric columns and a nominal column's first value where they name nothing")
    func sparseRows() throws {
        try withTemporaryDirectory { dir in
            let header = "@relation s\n@attribute a numeric\n@attribute b {low,high}\n@attribute c numeric\n@attribute d numeric\n@attribute class {p,q}\n@data\n"
            try writeText(header + "{0 2.5, 3 7, 4 q}\n{1 high}\n{ }\n1,high,2,3,q\n{2 ?, 4 p} % a comment\n", to: dir.path("s.arff"))
            try writeText(header + "2.5,low,0,7,q\n0,high,0,0,p\n0,low,0,0,p\n1,high,2,3,q\n0,low,?,0,p\n", to: dir.path("d.arff"))
            let sparse = try read(dir.path("s.arff")), dense = try read(dir.path("d.arff"))
            #expect(sparse.count == 5)
            #expect(sparse.features == dense.features, "\(sparse.features) against \(dense.features)")
            #expect(sparse.labels == dense.labels)
        }
    }

    @Test("a column the header declares is read as declared: text after 300 missing rows, a {0,1} flag as numbers")
    func declaredKinds() throws {
        try withTemporaryDirectory { dir in
            // Supermarket baskets: a department's column is `?` until a basket holds it.
            var text = "@relation baskets\n@attribute bread {t}\n@attribute flag {0,1}\n@attribute amount numeric\n@attribute total {low,high}\n@data\n"
            for i in 0..<300 { text += "?,\(i % 2),\(i),\(i % 3 == 0 ? "high" : "low")\n" }
            text += "t,1,5,high\n"
            try writeText(text, to: dir.path("b.arff"))
            var source = try CSVSource(path: dir.path("b.arff"), format: CSVFormat(labelColumn: .last))
            let batches = try drain(&source)
            #expect(batches.map(\.labels.count).reduce(0, +) == 301)
            #expect(source.textColumns == [0], "\(source.textColumns ?? [])")
            // The same rows as a CSV file: bread, blank in the 256 rows read for its kind,
            // takes the kind of its first value further on (before 2026-12-06 they stopped
            // at the basket that holds it, line 302).
            let csv = text.split(separator: "\n").dropFirst(6).joined(separator: "\n")
            try writeText("bread,flag,amount,total\n" + csv + "\n", to: dir.path("b.csv"))
            var plain = try CSVSource(path: dir.path("b.csv"), format: CSVFormat(labelColumn: .last, hasHeader: true))
            #expect(try drain(&plain).map(\.labels.count).reduce(0, +) == 301)
            #expect(plain.textColumns == [0], "\(plain.textColumns ?? [])")
        }
    }

    @Test("errors name the ARFF file's own line: a short row, a word in a numeric column")
    func lineNumbers() throws {
        try withTemporaryDirectory { dir in
            let header = "% two comment lines\n%\n@relation r\n@attribute x numeric\n@attribute y numeric\n@attribute c {a,b}\n\n@data\n"
            try writeText(header + "1,2,a\n% a comment\n3,b\n", to: dir.path("short.arff"))
            let short = dataError { _ = try read(dir.path("short.arff")) }
            #expect(short.map { "\($0)".contains("short.arff, line 11") } == true, "\(String(describing: short))")
            try writeText(header + "1,2,a\n3,four,b\n", to: dir.path("word.arff"))
            let word = dataError { _ = try read(dir.path("word.arff")) }
            #expect(word.map { "\($0)".contains("word.arff, line 10, column 2") && "\($0)".contains("'four'") } == true,
                    "\(String(describing: word))")
        }
    }

    @Test("what is not read is refused with its line and a reason: no @data, relational, unknown types, bad sparse rows, weights")
    func refusals() throws {
        try withTemporaryDirectory { dir in
            let start = "@relation r\n@attribute x numeric\n@attribute c {a,b}\n"
            let cases: [(text: String, line: Int, words: String)] = [
                (start, 3, "without an @data line"),
                ("@relation r\n@data\n1,a\n", 2, "before any @attribute"),
                ("@relation r\n@attribute bag relational\n@end bag\n@data\n", 2, "relational"),
                ("@relation r\n@attribute x numbers\n@data\n", 2, "'numbers'"),
                ("@relation r\nx,c\n", 2, "is not @relation"),
                ("@relation r\n@attribute c {a,b\n@data\n", 2, "no } closes"),
                ("@relation r\n@attribute c {a % b}\n@data\n", 2, "not by a comma or }"),
                ("@relation r\n@attribute c {'a' x}\n@data\n", 2, "not by a comma or }"),
                (start + "@data\n{1 a, 0 2}\n", 5, "after attribute 1"),
                (start + "@data\n{0 1, 2 a}\n", 5, "declares 2"),
                (start + "@data\n{0 1, 1 a\n", 5, "no } closes"),
                (start + "@data\n1,a,{2}\n", 5, "instance weight"),
                (start + "@data\n{0 1}, {3}\n", 5, "instance weight"),
                (start + "@data\n{0 1} a\n", 5, "not by the line's end"),
                (start + "@data\n1,'a\n", 5, "does not close"),
                (start + "@data\n1,'a' b\n", 5, "not by a comma"),
                (start + "@outputs y\n@data\n", 4, "no @attribute before it declares"),
                (start + "@inputs\n@data\n", 4, "names no attribute"),
            ]
            for (k, c) in cases.enumerated() {
                let path = dir.path("bad\(k).arff")
                try writeText(c.text, to: path)
                let error = dataError { _ = try read(path) }
                let text = error.map { "\($0)" } ?? "no error"
                #expect(text.contains("bad\(k).arff, line \(c.line):") && text.contains(c.words) && text.contains("ARFF"),
                        "case \(k): \(text)")
            }
        }
    }

    @Test("KEEL's files (ARFF with @inputs and @outputs lines, ranges after types) read as ARFF; @outputs names the class")
    func keel() throws {
        try withTemporaryDirectory { dir in
            let keel = """
                @relation pima
                @attribute Preg integer [0, 17]
                @attribute Plas real [0.0, 199.0]
                @attribute Class {tested_negative, tested_positive}
                @attribute Mass real [0.0, 67.1]
                @inputs Preg, Plas, Mass
                @outputs Class
                @data
                6, 148.0, tested_positive, 33.6
                1, 85.0, tested_negative, 26.6
                8, 183.0, tested_positive, 23.3

                """
            let path = dir.path("pima.dat")
            try writeText(keel, to: path)
            #expect(CSVSource.arffClassAttribute(path: path) == "Class")
            let data = try read(path, label: .name("Class"))
            #expect(data.labels == [0, 1, 0] && data.features.columns == 3 && data.features[0, 2] == 33.6)
            // '@output' and '@input' (singular, as some of its files write them) and quoted names.
            try writeText(keel.replacingOccurrences(of: "@outputs Class", with: "@output 'Class'")
                .replacingOccurrences(of: "@inputs", with: "@input"), to: path)
            #expect(CSVSource.arffClassAttribute(path: path) == "Class")
            #expect(try read(path, label: .name("Class")).labels == [0, 1, 0])
            // Weka's own files name no output; a CSV file is no ARFF file.
            try writeText(keel.replacingOccurrences(of: "@outputs Class\n", with: ""), to: path)
            #expect(CSVSource.arffClassAttribute(path: path) == nil)
            try writeText("x,Class\n1,a\n", to: path)
            #expect(CSVSource.arffClassAttribute(path: path) == nil)
        }
    }

    @Test("a paused ARFF stream resumes at its next row, and a model reads an ARFF test file as it read its stream")
    func resumeAndEvaluate() throws {
        try withTemporaryDirectory { dir in
            var text = "% preamble\n@relation r\n@attribute x numeric\n@attribute kind {red,'dark blue'}\n@attribute y numeric\n@attribute c {p,q,r}\n@data\n"
            for i in 0..<40 { text += "\(i % 7).5,\(i % 3 == 0 ? "'dark blue'" : "red"),\(i % 5),\(["p", "q", "r"][i % 3])\n" }
            try writeText(text, to: dir.path("r.arff"))
            let format = CSVFormat(labelColumn: .last)
            let whole = try read(dir.path("r.arff")).features
            #expect(try featuresAcrossResume(path: dir.path("r.arff"), format: format, batchSize: 16) == whole)

            // A source reading with the saved layout (as `moe eval` does) reads the same.
            var first = try CSVSource(path: dir.path("r.arff"), format: format)
            _ = try drain(&first)
            var again = try CSVSource(path: dir.path("r.arff"), format: format, labels: first.labelMap,
                                      text: first.textLayout, learnsColumns: false)
            let batches = try drain(&again)
            #expect(Matrix(rows: 40, columns: whole.columns, scalars: batches.flatMap { $0.features.scalars }) == whole)
        }
    }

    @Test("rows whose class is '?' are read when their labels are not (moe predict), refused when they are")
    func unknownClasses() throws {
        try withTemporaryDirectory { dir in
            try writeText("@relation r\n@attribute x numeric\n@attribute c {a,b}\n@data\n1,?\n2,?\n", to: dir.path("u.arff"))
            let refused = dataError { _ = try read(dir.path("u.arff")) }
            #expect(refused.map { "\($0)".contains("line 5") && "\($0)".contains("missing label") } == true, "\(String(describing: refused))")
            var source = try CSVSource(path: dir.path("u.arff"), format: CSVFormat(labelColumn: .last))
            source.readsLabels = false
            let batches = try drain(&source)
            #expect(batches.flatMap { $0.features.scalars } == [1, 2])
        }
    }
}
