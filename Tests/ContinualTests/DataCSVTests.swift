import Foundation
import Testing
import Continual
import MoE
import TestSupport

@Suite("CSV files")
struct DataCSVTests {
    @Test("label column first (default), last, by index and by header name give the same data",
          arguments: [
              ("1,0.5,2\n0,1.5,-3\n", CSVFormat()),
              ("0.5,2,1\n1.5,-3,0\n", CSVFormat(labelColumn: .last)),
              ("0.5,1,2\n1.5,0,-3\n", CSVFormat(labelColumn: .index(1))),
              ("a,y,b\n0.5,1,2\n1.5,0,-3\n", CSVFormat(labelColumn: .name("y"))),
              ("y,a,b\n1,0.5,2\n0,1.5,-3\n", CSVFormat(hasHeader: true)),
              ("1;0.5;2\r\n\r\n0;1.5;-3", CSVFormat(separator: ";")),
              ("\"1\", 0.5 ,\"2\"\n  \n0,1.5e0,-3\n", CSVFormat()),
          ])
    func labelColumns(text: String, format: CSVFormat) throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("data.csv")
            try writeText(text, to: path)
            let dataset = try CSV.load(path: path, format: format)
            #expect(dataset.features == Matrix([[0.5, 2], [1.5, -3]]))
            #expect(dataset.labels == [1, 0])
            #expect(dataset.classCount == 2)
        }
    }

    @Test("numbers parse bit for bit as Float(String) does, in every notation")
    func numberParsing() throws {
        var texts = ["0", "-0", "+3", ".5", "5.", "0.1", "16777216", "16777217", "123456789", "0.0000000001",
                     "0.00000000001", "3.4028235e38", "1e-45", "1.17549435E-38", "-7.25e+2", "0x1p3", "  42 ",
                     "2.5000000000000000001", "0.30000001192092896"]
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<3000 {
            let whole = generator.nextInt(below: 100_000_000)
            let fraction = String(generator.nextInt(below: 1_000_000_000))
            let places = generator.nextInt(below: 11)
            let sign = generator.nextInt(below: 2) == 0 ? "-" : ""
            texts.append(places == 0 ? "\(sign)\(whole % 40_000_000)" : "\(sign)\(whole % 1000).\(fraction.prefix(places))")
        }
        try withTemporaryDirectory { dir in
            let path = dir.path("numbers.csv")
            try writeText(texts.map { "0,\($0)" }.joined(separator: "\n"), to: path)
            let parsed = try CSV.load(path: path).features.scalars
            for (text, value) in zip(texts, parsed) {
                let expected = Float(text.trimmingCharacters(in: .whitespaces))!
                #expect(value.bitPattern == expected.bitPattern, "\(text): \(value) != \(expected)")
            }
        }
    }

    @Test("label column parsing from a command-line value")
    func labelColumnArgument() {
        #expect(LabelColumn(argument: "first") == .first)
        #expect(LabelColumn(argument: "last") == .last)
        #expect(LabelColumn(argument: "3") == .index(3))
        #expect(LabelColumn(argument: "class") == .name("class"))
        #expect(CSVFormat(labelColumn: .name("class")).hasHeader)
    }

    @Test("gzip CSV reads like plain CSV; text labels are numbered in order of appearance")
    func gzipAndNames() throws {
        try withTemporaryDirectory { dir in
            let text = "f1,f2,kind\n1,2,cat\n3,4,dog\n5,6,cat\n7,8,bird\n"
            try Gzip.write(Array(text.utf8), to: dir.path("d.csv.gz"))
            let dataset = try CSV.load(path: dir.path("d.csv.gz"), format: CSVFormat(labelColumn: .last, hasHeader: true))
            #expect(dataset.labels == [0, 1, 0, 2])
            #expect(dataset.classNames == ["cat", "dog", "bird"])
            #expect(dataset.features == Matrix([[1, 2], [3, 4], [5, 6], [7, 8]]))
            #expect(dataset.name == dir.path("d.csv.gz"))
        }
    }

    @Test("a non-numeric field names the file, line, column and text")
    func nonNumeric() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("bad.csv")
            try writeText("h1,h2,h3\n0,1,2\n1,2,x3\n", to: path)
            let error = dataError { _ = try CSV.load(path: path, format: CSVFormat(hasHeader: true)) }
            #expect(error == .nonNumericField(at: DataLocation(source: path, line: 3, column: 3), text: "x3"))
            #expect(error?.description == "\(path), line 3, column 3: the field 'x3' is not a number; correct the field, "
                + "or leave the column out (--ignore-columns 2, the 0-based index, or its header name).")
            // An empty field (when missing values are not filled) and a number followed by
            // text are not numbers either.
            try writeText("0,1,\n", to: path)
            let missing = dataError { _ = try CSV.load(path: path, format: CSVFormat(imputesMissing: false)) }
            #expect(missing == .nonNumericField(at: DataLocation(source: path, line: 1, column: 3), text: ""))
            #expect(missing?.description == "\(path), line 1, column 3: the value is missing (''), and missing values are refused "
                + "(--missing mean, the default, fills one with its column's mean so far; --skip-bad-rows skips the row).")
            #expect(missing?.isRowFault == true && DataError.corruptGzip(path: path, reason: "cut").isRowFault == false)
            // Text in the first row makes a text column, unless text is refused.
            try writeText("0,1.5kg,2\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(textIndicators: 0)) }
                == .nonNumericField(at: DataLocation(source: path, line: 1, column: 2), text: "1.5kg"))
        }
    }

    @Test("a ragged row names the line and both widths")
    func ragged() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("ragged.csv")
            try writeText("0,1,2\n1,2,3\n\n2,3\n", to: path)
            let error = dataError { _ = try CSV.load(path: path) }
            #expect(error == .raggedRow(at: DataLocation(source: path, line: 4), expectedColumns: 3, actualColumns: 2))
            #expect(error?.description == "\(path), line 4: the row has 2 fields, but earlier rows have 3.")
        }
    }

    @Test("infinite values, and NaN when missing values are not filled, are refused with their line and column",
          arguments: [("nan", false), ("NaN", false), ("inf", true), ("-Infinity", true), ("1e39", true)])
    func nonFinite(value: String, filling: Bool) throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("nan.csv")
            try writeText("0,1,2\n1,\(value),3\n", to: path)
            let error = dataError { _ = try CSV.load(path: path, format: CSVFormat(imputesMissing: filling)) }
            #expect(error == .nonFiniteValue(at: DataLocation(source: path, line: 2, column: 2), text: value))
            #expect(error?.description.contains("\(path), line 2, column 2") == true)
        }
    }

    @Test("an infinite value in the first row is a number refused with its line, not a category",
          arguments: ["inf", "-inf", "Infinity", "1e39"])
    func nonFiniteFirstRow(value: String) throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("first.csv")
            // Read as text, the first line became a header, or the column one of
            // categories, and the stream went on without a word.
            for (text, line) in [("\(value),1,0\n0.5,2,1\n0.25,3,0\n", 1), ("x,y,label\n\(value),1,0\n0.5,2,1\n", 2)] {
                try writeText(text, to: path)
                var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
                let error = dataError { _ = try drain(&source) }
                #expect(error == .nonFiniteValue(at: DataLocation(source: path, line: line, column: 1), text: value),
                        "\(String(describing: error))")
            }
        }
    }

    @Test("a header that names every learned column once is read by those names, in any order and with more columns; other names are read by place")
    func columnPlaces() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("h.csv")
            let learned = CSVTextLayout(columns: [], values: [], names: ["a", "b", "c", "label"])
            // The rows as the model learned them: a = 1, b = 2, c = 3, class 0; then 4, 5, 6, class 1.
            let rows = Matrix([[1, 2, 3], [4, 5, 6]])
            func read(_ header: String, _ lines: String, place: CSVSource.LabelColumnPlace = .learned) throws -> (Batch, CSVSource) {
                try writeText(header + "\n" + lines, to: path)
                var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last), labels: .integers(classCount: 2),
                                           text: learned)
                source.labelColumnPlace = place
                let batches = try drain(&source)
                return (batches[0], source)
            }
            let (same, unmoved) = try read("a,b,c,label", "1,2,3,0\n4,5,6,1\n")
            #expect(same.features == rows && same.labels == [0, 1] && unmoved.columnsPlacedByName == nil)
            #expect(try read("p,q,r,y", "1,2,3,0\n4,5,6,1\n").0.features == rows)  // renamed: read by place, as before
            #expect(try read("a,a,c,label", "1,2,3,0\n4,5,6,1\n").0.features == rows)  // a repeated name says nothing of its place
            // Refused before 2026-12-05's eighth round, each read now as the model learned it.
            for (header, lines, moved, leftOut) in [
                ("c,b,a,label", "3,2,1,0\n6,5,4,1\n", ["a", "c"], [String]()),
                ("label,a,b,c", "0,1,2,3\n1,4,5,6\n", ["a", "b", "c", "label"], []),
                ("x,a,b,c,label", "9,1,2,3,0\n9,4,5,6,1\n", [], ["x"]),  // shifted, not moved
                ("a,b,c,label,note", "1,2,3,0,hi\n4,5,6,1,yo\n", [], ["note"]),
                (" C ,id,LABEL,b,a", "3,7,0,2,1\n6,8,1,5,4\n", ["a", "b", "C", "LABEL"], ["id"]),
            ] {
                let (batch, source) = try read(header, lines)
                #expect(batch.features == rows && batch.labels == [0, 1], "\(header)")
                #expect(source.columnsPlacedByName == CSVSource.ColumnPlacement(moved: moved, leftOut: leftOut), "\(header)")
                #expect(source.position.columnsPlacedByName == source.columnsPlacedByName)
            }
            #expect(try read("x,a,b,c,label", "9,1,2,3,0\n").1.columnName(ofFeature: 0) == "'a'")
            let said = try read("x,a,b,c,label", "9,1,2,3,0\n").1.columnsPlacedByName?.sentence(source: path)
            #expect(said == "\(path): columns read by their header names: the file has 'x' that the model did not learn, left out")
            let both = try read("x,label,a,b,c", "9,0,1,2,3\n").1.columnsPlacedByName?.sentence(source: path)
            #expect(both == "\(path): columns read by their header names: the file has 'a', 'b', 'c', 'label' at other places than in "
                + "the rows the model learned, and 'x' that the model did not learn, left out")

            // A label column by place: in the rows learned (a saved stream's), in this file
            // (given for it), or unclear, refused when the two name different columns.
            try writeText("b,a,label,c\n2,1,0,3\n5,4,1,6\n", to: path)
            var given = try CSVSource(path: path, format: CSVFormat(labelColumn: .index(2)), labels: .integers(classCount: 2), text: learned)
            given.labelColumnPlace = .file
            #expect(try drain(&given)[0].features == rows)  // index 2 of this file, 'label' (of the learned rows: 'c')
            #expect(try read("b,a,c,label", "2,1,3,0\n5,4,6,1\n", place: .unclear).0.features == rows)  // 'label' last in both
            let unclear = dataError { _ = try read("label,a,b,c", "0,1,2,3\n", place: .unclear) }
            #expect(unclear == .labelColumnPlaceUnclear(at: DataLocation(source: path, line: 1), column: "last", here: "c", learned: "label"))
            #expect(unclear?.description.contains("give it by name (--label-column 'label', or 'c')") == true)
            try writeText("x,a,b,c,label\n9,1,2,3,0\n", to: path)
            var first = try CSVSource(path: path, format: CSVFormat(labelColumn: .first), labels: .integers(classCount: 2), text: learned)
            first.labelColumnPlace = .file
            let notLearned = dataError { _ = try drain(&first) }
            #expect(notLearned == .labelColumnNotLearned(at: DataLocation(source: path, line: 1), column: "first", name: "x",
                                                         learned: ["a", "b", "c", "label"]))

            // A row of another width than the header's, and a bad field, name the file's own line and column.
            let ragged = dataError { _ = try read("x,a,b,c,label", "9,1,2,3,0\n1,2,3,0\n") }
            #expect(ragged == .raggedRow(at: DataLocation(source: path, line: 3), expectedColumns: 5, actualColumns: 4))
            let bad = dataError { _ = try read("c,b,a,label", "3,2,1,0\n6,5,oops,1\n") }
            #expect(bad == .nonNumericField(at: DataLocation(source: path, line: 3, column: 3), text: "oops"))

            // A column the model left out may be missing: by name or by its learned index.
            for ignored in ["id", "0"] {
                let withId = CSVTextLayout(columns: [], values: [], names: ["id", "a", "b", "c", "label"])
                try writeText("b,a,label,c\n2,1,0,3\n5,4,1,6\n", to: path)
                var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last, ignoredColumns: [ignored]),
                                           labels: .integers(classCount: 2), text: withId)
                source.labelColumnPlace = .learned
                #expect(try drain(&source)[0].features == rows, "\(ignored)")
                #expect(source.columnsPlacedByName == CSVSource.ColumnPlacement(moved: ["a", "b", "c", "label"], leftOut: [], lacking: ["id"]))
            }

            // A learned name missing, and another moved, in a header of the learned width (a
            // renamed column): refused as before.
            for (header, name, field, learnedField) in [("c,b,z,label", "c", 0, 2)] {
                let row = (0..<header.split(separator: ",").count).map(String.init).joined(separator: ",")
                let error = dataError { _ = try read(header, row + "\n") }
                #expect(error == .columnMoved(at: DataLocation(source: path, line: 1), name: name, field: field,
                                              learnedField: learnedField, learned: ["a", "b", "c", "label"]), "\(header)")
                #expect(error?.description.contains("the column '\(name)' is field \(field + 1) here but was field \(learnedField + 1)") == true)
                #expect(error?.description.contains("a header that names every column it learned, once each, is read by those names") == true)
            }
            // A header of another width that lacks learned columns names them: before, the
            // error named a column that had only shifted ('label' at field 1 here), or a
            // text column's field when the label column was the one missing.
            for (header, missing, label) in [("label,a,b", ["c"], nil as String?), ("a,b,c", ["label"], "label"),
                                              ("b,c", ["a", "label"], "label"), ("q,r,s,t,u", ["a", "b", "c", "label"], "label")] {
                let row = (0..<header.split(separator: ",").count).map(String.init).joined(separator: ",")
                let error = dataError { _ = try read(header, row + "\n") }
                #expect(error == .columnsMissing(at: DataLocation(source: path, line: 1), missing: missing, label: label,
                                                 learned: ["a", "b", "c", "label"]), "\(header)")
                let said = error?.description ?? ""
                #expect(said.contains(path + ", line 1: the header has no column"), "\(said)")
                if let label {
                    #expect(said.contains("no column '\(label)', the label column of the rows the model learned"), "\(said)")
                    #expect(said.contains("moe predict answers rows without their label"), "\(said)")
                }
                let features = missing.filter { $0 != label }
                if !features.isEmpty {
                    #expect(said.contains("no column " + features.map { "'\($0)'" }.joined(separator: ", ") + " of the 4 the model learned from"),
                            "\(said)")
                }
            }
            // The label column given by name among them is named as the label.
            try writeText("a,b,c\n1,2,3\n", to: path)
            var byName = try CSVSource(path: path, format: CSVFormat(labelColumn: .name("label")), labels: .integers(classCount: 2),
                                       text: learned)
            byName.labelColumnPlace = .learned
            #expect(dataError { _ = try drain(&byName) } == .columnsMissing(at: DataLocation(source: path, line: 1), missing: ["label"],
                                                                              label: "label", learned: ["a", "b", "c", "label"]))
        }
    }

    @Test("a label column names its header's column: the first after R's row names, an index beyond the names none")
    func labelColumnNames() {
        let names = ["a", "b", "label"], rowNamed = ["", "a", "b"]
        #expect(LabelColumn.first.name(among: names) == "a" && LabelColumn.first.name(among: rowNamed) == "a")
        #expect(LabelColumn.last.name(among: names) == "label" && LabelColumn.index(1).name(among: names) == "b")
        #expect(LabelColumn.index(3).name(among: names) == nil && LabelColumn.last.name(among: []) == nil)
        #expect(LabelColumn.name("y").name(among: names) == "y")
    }

    @Test("a label column that falls on a learned text column is refused, naming the column, not the text layout's fields")
    func labelOnLearnedTextColumn() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("rows.csv")
            // Learned as 'a', 'colour' (text), label: rows without their label put the label
            // on 'colour'; before, "wrong dimensions 2, expected a text column at field 1
            // besides the label (field 1) among 2".
            let learned = CSVTextLayout(columns: [1], values: [["red", "blue"]])
            try writeText("1,red\n2,blue\n", to: path)
            var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last, hasHeader: false),
                                       labels: .integers(classCount: 2), text: learned)
            let error = dataError { _ = try drain(&source) }
            #expect(error == .labelOnFeature(source: path, column: "last", field: 1, name: nil))
            #expect(error?.description == "\(path): the label column (last) is field 2, a column the model learned as a feature "
                + "(text read as categories): give the label column the model learned, or, for rows without their label, use moe predict.")
        }
    }

    @Test("columns placed by name read the rows as the learned order does: random orders, columns more, a left-out column missing, text and gaps")
    func columnPlacesAtRandom() throws {
        try withTemporaryDirectory { dir in
            var generator = SeededGenerator(seed: 31)
            for round in 0..<150 {
                let width = 2 + generator.nextInt(below: 5)
                let names = (0..<width).map { "f\($0)" } + ["label"]
                let text = generator.nextInt(below: 2) == 0 ? 0 : 1  // f0 a category in half the rounds
                let ignored = generator.nextInt(below: 3) == 0 ? ["f\(width - 1)"] : []
                let rows = (0..<12).map { r -> [String] in
                    (0..<width).map { j in
                        if j == 0 && text == 1 { return ["red", "green", "blue"][generator.nextInt(below: 3)] }
                        return r % 5 == 3 && j == 1 ? "NA" : String(generator.nextInt(below: 100))
                    } + ["c\(generator.nextInt(below: 2))"]
                }
                let learnedPath = dir.path("learned.csv"), placedPath = dir.path("placed.csv")
                try writeText(([names] + rows).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n", to: learnedPath)
                let format = CSVFormat(labelColumn: .last, hasHeader: true, textIndicators: 4, ignoredColumns: ignored)
                var learned = try CSVSource(path: learnedPath, format: format)
                let wanted = try Dataset(reading: &learned)
                // The same rows, columns shuffled, one or two columns more, the left-out one dropped half the time.
                var columns = names.indices.filter { !(ignored.contains(names[$0]) && generator.nextInt(below: 2) == 0) }.map { Optional($0) }
                for _ in 0...generator.nextInt(below: 2) { columns.insert(nil, at: generator.nextInt(below: columns.count + 1)) }
                columns.shuffle(using: &generator)
                let header = columns.enumerated().map { k, c in c.map { names[$0].uppercased() } ?? "extra\(k)" }
                let lines = rows.map { row in columns.map { c in c.map { row[$0] } ?? "7" } }
                try writeText(([header] + lines).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n", to: placedPath)
                var placed = try CSVSource(path: placedPath, format: format, labels: learned.labelMap, text: learned.position.csvLayout,
                                           imputation: learned.position.imputation, learnsColumns: false)
                placed.labelColumnPlace = .learned
                let read = try Dataset(reading: &placed)
                #expect(read.labels == wanted.labels, "round \(round): \(header)")
                // Gaps take the learned stream's means at its end, where the learned read took them as it went.
                let gapsOf = Set((0..<rows.count).filter { rows[$0][1] == "NA" })
                for r in 0..<rows.count where !gapsOf.contains(r) {
                    #expect(read.features.row(r) == wanted.features.row(r), "round \(round), row \(r): \(header)")
                }
            }
        }
    }

    @Test("names are placed without case and surrounding spaces, but for learned names that differ only in case")
    func columnPlacesWithoutCase() throws {
        try withTemporaryDirectory { (dir) throws in
            let path = dir.path("h.csv")
            let learned = CSVTextLayout(columns: [], values: [], names: ["a", "b", "c", "label"])
            func read(_ header: String, _ lines: String = "1,2,3,0\n4,5,6,1\n") throws -> Matrix {
                try writeText(header + "\n" + lines, to: path)
                var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last), labels: .integers(classCount: 2),
                                           text: learned)
                source.labelColumnPlace = .learned
                return try drain(&source)[0].features
            }
            let rows = Matrix([[1, 2, 3], [4, 5, 6]])
            #expect(try read("A,B,C,Label") == rows)
            #expect(try read("\" a \",b, C ,LABEL") == rows)
            // Read by place before 2026-12-04, refused until 2026-12-05's eighth round: a and
            // b swapped, in capitals, are read by their names.
            #expect(try read("B,A,C,Label", "2,1,3,0\n5,4,6,1\n") == rows)
            #expect(try read("\" b\",a,c,label", "2,1,3,0\n5,4,6,1\n") == rows)

            // Learned names that differ only in case are compared case and all: swapped,
            // they were one name without case, not checked, and read by place.
            let cased = CSVTextLayout(columns: [], values: [], names: ["x", "X", "label"])
            func readCased(_ header: String, _ lines: String = "1,2,0\n4,5,1\n") throws -> Matrix {
                try writeText(header + "\n" + lines, to: path)
                var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last), labels: .integers(classCount: 2),
                                           text: cased)
                return try drain(&source)[0].features
            }
            #expect(try readCased("x,X,label") == Matrix([[1, 2], [4, 5]]) && readCased(" x , X ,Label") == Matrix([[1, 2], [4, 5]]))
            #expect(try readCased("X,x,label") == Matrix([[2, 1], [5, 4]]))
        }
    }

    @Test("a file without the header the model learned is read from its first row, with or without its label column")
    func learnedHeaderAbsent() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("h.csv")
            func read(_ text: String, _ label: LabelColumn, lacksLabel: Bool = false,
                      names: [String] = ["a", "b", "c", "label"], detectsHeader: Bool = true) throws -> (Matrix, CSVSource) {
                try writeText(text, to: path)
                let format = CSVFormat(labelColumn: label, hasHeader: detectsHeader, detectsHeader: detectsHeader)
                var source = try CSVSource(path: path, format: format, labels: .integers(classCount: 2),
                                           text: CSVTextLayout(columns: [], values: [], names: names), learnsColumns: false)
                if lacksLabel { try source.readWithoutLabelColumn(placeholder: "0") }
                return (try Dataset(reading: &source).features, source)
            }
            let rows = Matrix([[1, 2, 3], [4, 5, 6]])
            // The first row was taken for the header before: one row fewer.
            for label in [LabelColumn.last, .name("label")] {
                let (labelled, source) = try read("1,2,3,0\n4,5,6,1\n", label)
                #expect(labelled == rows && source.headerAbsent && source.header == nil, "\(label)")
                #expect(try read("1,2,3\n4,5,6\n", label, lacksLabel: true).0 == rows, "\(label)")
                #expect(try read("a,b,c,label\n1,2,3,0\n4,5,6,1\n", label).0 == rows, "\(label)")
                #expect(try read("a,b,c\n1,2,3\n4,5,6\n", label, lacksLabel: true).0 == rows, "\(label)")
                // Told there is none (--no-header), a label by name is placed by the learned names.
                #expect(try read("1,2,3,0\n4,5,6,1\n", label, detectsHeader: false).0 == rows, "\(label)")
            }
            // A missing mark is data too; a renamed header, or numbers where the learned
            // header had numbers, is a header.
            #expect(try read("1,NA,3,0\n4,5,6,1\n", .last).0.rows == 2)
            #expect(try read("p,q,r,y\n1,2,3,0\n4,5,6,1\n", .last).0 == rows)
            #expect(try read("1,2,3,label\n1,2,3,0\n4,5,6,1\n", .last, names: ["1", "2", "3", "label"]).0 == rows)
        }
    }

    @Test("rows without the label column read as the same rows with it, wherever the label was; a short row keeps its width")
    func withoutLabelColumn() throws {
        try withTemporaryDirectory { dir in
            let labelled = dir.path("l.csv"), bare = dir.path("b.csv")
            // The label at field 1 (named in a header), a quoted text field, a gap, ';' found.
            try writeText("x;y;\"t; t\";z\n1.5;b;\"p;q\";2\n;a;r;3\n4;b;\"p;q\";\n", to: labelled)
            try writeText("x;\"t; t\";z\n1.5;\"p;q\";2\n;r;3\n4;\"p;q\";\n", to: bare)
            let layout = CSVTextLayout(columns: [2], values: [["p;q", "r"]], names: ["x", "y", "t; t", "z"])
            func read(_ path: String, missing: Bool) throws -> [Batch] {
                var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .name("y"), textIndicators: 4),
                                           labels: LabelMap(learning: .names), text: layout, learnsColumns: false)
                if missing { try source.readWithoutLabelColumn(placeholder: "b") }
                return try drain(&source)
            }
            let expected = try read(labelled, missing: false), got = try read(bare, missing: true)
            #expect(expected.map(\.features) == got.map(\.features))
            #expect(expected.reduce(0) { $0 + $1.count } == 3)
            // The label first or last, no header.
            for (label, line, row) in [(LabelColumn.first, "0,1,2\n", "1,2\n"), (.last, "1,2,0\n", "1,2\n")] {
                try writeText(line, to: labelled)
                try writeText(row, to: bare)
                func features(_ path: String, missing: Bool) throws -> [Float] {
                    var source = try CSVSource(path: path, format: CSVFormat(labelColumn: label))
                    if missing { try source.readWithoutLabelColumn(placeholder: "0") }
                    return try drain(&source).flatMap(\.features.scalars)
                }
                #expect(try features(labelled, missing: false) == features(bare, missing: true), "\(label)")
            }
            // A row short of the label's field, and a label by name without saved names.
            try writeText("1,2\n1\n", to: bare)
            var short = try CSVSource(path: bare, format: CSVFormat(labelColumn: .index(2)))
            try short.readWithoutLabelColumn(placeholder: "0")
            let error = dataError { _ = try drain(&short) }
            #expect(error?.description.contains("line 2: the row has 1 field, but earlier rows have 2") == true, "\(String(describing: error))")
            let unnamed = try CSVSource(path: bare, format: CSVFormat(labelColumn: .name("y")))
            #expect(dataError { try unnamed.readWithoutLabelColumn(placeholder: "0") }
                    == .labelColumnNotFound(source: bare, column: "'y'",
                                            available: "the model kept no header names to place it by; add the column to the file (any value)"))
        }
    }

    @Test("a width that does not match the network is reported on the first row")
    func widthMismatch() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("w.csv")
            try writeText("0,1,2,3\n", to: path)
            let error = dataError { _ = try CSV.load(path: path, inputWidth: 784) }
            #expect(error == .widthMismatch(at: DataLocation(source: path, line: 1), expected: 784, actual: 3))
            #expect(error?.description.contains("has 3 features per sample, but 784 were expected") == true)
            // Without text columns, a header of the wrong width is caught before any row;
            // with them, the first data row (which says which columns are text) is.
            try writeText("a,b,c\n0,1,2\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(hasHeader: true, textIndicators: 0), inputWidth: 3) }
                == .widthMismatch(at: DataLocation(source: path, line: 1), expected: 3, actual: 2))
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(hasHeader: true), inputWidth: 3) }
                == .widthMismatch(at: DataLocation(source: path, line: 2), expected: 3, actual: 2))
        }
    }

    @Test("a data set checks its width and labels against a network")
    func datasetChecks() throws {
        let dataset = Dataset(features: Matrix(rows: 3, columns: 4), labels: [0, 5, 2], name: "tiny")
        #expect(dataError { try dataset.requireInputWidth(784) }
            == .widthMismatch(at: DataLocation(source: "tiny"), expected: 784, actual: 4))
        #expect(dataError { try dataset.requireLabels(below: 3) }
            == .labelOutOfRange(at: DataLocation(source: "tiny", item: 2), label: "5", declared: "0..<3"))
        #expect(dataError { try dataset.requireInputWidth(4); try dataset.requireLabels(below: 6) } == nil)
    }

    @Test("labels outside declared classes, by number and by name")
    func undeclaredLabels() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("l.csv")
            try writeText("3,1\n10,2\n", to: path)
            let number = dataError { _ = try CSV.load(path: path, labels: .integers(classCount: 10)) }
            #expect(number == .labelOutOfRange(at: DataLocation(source: path, line: 2, column: 1), label: "10",
                                               declared: "0..<10"))
            #expect(number?.description.contains("\(path), line 2, column 1") == true)

            try writeText("cat,1\nemu,2\n", to: path)
            let name = dataError { _ = try CSV.load(path: path, labels: .names(["cat", "dog"])) }
            #expect(name == .labelOutOfRange(at: DataLocation(source: path, line: 2, column: 1), label: "emu",
                                             declared: "'cat', 'dog'"))

            try writeText("1,1\n-2,2\n", to: path)
            let declaredNegative = dataError { _ = try CSV.load(path: path, labels: .integers(classCount: 3)) }
            #expect(declaredNegative == .labelOutOfRange(at: DataLocation(source: path, line: 2, column: 1), label: "-2",
                                                         declared: "0..<3"))

            try writeText("1,1\ncat,2\n", to: path)
            guard case .invalidLabel(let at2, "cat", let reason)? = dataError({ _ = try CSV.load(path: path) }) else {
                Issue.record("text after integer labels was accepted")
                return
            }
            #expect(at2 == DataLocation(source: path, line: 2, column: 1) && reason.contains("a stream keeps the kind of label it began with"))

            // An amount read as the label (a regression target whose first values are
            // whole): its first fraction says so, not that names and numbers mix.
            try writeText("1,18.0\n2,15.0\n3,17.5\n", to: path)
            let amount = dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }
            #expect(amount?.description == "\(path), line 3, column 2: the label '17.5' cannot be used: it is a number with a fraction "
                    + "where earlier labels were whole class numbers: the label column holds amounts (a regression target?), and moe "
                    + "learns classes: bin the amounts into classes first, or name the column that holds the classes with --label-column.",
                    "\(String(describing: amount))")
            try writeText("1,24\n2,2.16e+01\n", to: path)
            let exponent = dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }
            #expect(exponent?.description.contains("line 2, column 2: the label '2.16e+01' cannot be used: it is a number with a fraction") == true,
                    "\(String(describing: exponent))")
        }
    }

    @Test("a missing label column lists what exists")
    func labelColumnNotFound() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("c.csv")
            try writeText("a,b\n1,2\n", to: path)
            let byName = dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .name("label"))) }
            #expect(byName == .labelColumnNotFound(source: path, column: "'label'", available: "the header names 'a', 'b'"))
            let byIndex = dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .index(5))) }
            #expect(byIndex?.description.contains("no label column index 5") == true)
            // A name matches without case and surrounding spaces when one column alone does,
            // and exactly first; two columns that differ only in case need the exact name.
            try writeText("x, Class ,b\n0.5,yes,1\n1.5,no,2\n", to: path)
            let loose = try CSV.load(path: path, format: CSVFormat(labelColumn: .name("CLASS")))
            #expect(loose.labels == [0, 1] && loose.features.scalars == [0.5, 1, 1.5, 2])
            try writeText("x,X,label\n1,2,0\n3,4,1\n", to: path)
            let exact = try CSV.load(path: path, format: CSVFormat(labelColumn: .name("X")))
            #expect(exact.labels == [2, 4] && exact.features.scalars == [1, 0, 3, 1])
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .name(" x "))) }
                    == .labelColumnNotFound(source: path, column: "' x '", available: "the header names 'x', 'X', 'label'"))
            let ignored = try CSV.load(path: path, format: CSVFormat(labelColumn: .name("Label"), ignoredColumns: ["x"]))
            #expect(ignored.features.scalars == [2, 4])
            try writeText("1\n2\n", to: path)
            guard case .wrongDimensions("\(path), line 1", _, [1])? = dataError({ _ = try CSV.load(path: path) }) else {
                Issue.record("a one-column file was accepted")
                return
            }
        }
    }

    @Test("lines that end with the separator are read as the same lines without it; a last column a header names is kept")
    func trailingSeparator() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("t.csv")
            let plain = try { () throws -> Dataset in
                try writeText("a,b,label\n1,2,x\n3,4,y\n5,6,x\n", to: path)
                return try CSV.load(path: path, format: CSVFormat(labelColumn: .last))
            }()
            #expect(plain.labels == [0, 1, 0] && plain.features.scalars == [1, 2, 3, 4, 5, 6])
            // The header without it, with it, none at all, and ';' found as the separator.
            for text in ["a,b,label\n1,2,x,\n3,4,y,\n5,6,x,\n", "a,b,label,\n1,2,x,\n3,4,y,\n5,6,x,\n",
                         "1,2,x,\n3,4,y,\n5,6,x,\n", "a;b;label\n1;2;x;\n3;4;y;\n5;6;x;\n"] {
                try writeText(text, to: path)
                let read = try CSV.load(path: path, format: CSVFormat(labelColumn: .last))
                #expect(read.labels == plain.labels && read.features.scalars == plain.features.scalars, "\(text)")
            }
            // A last column the header names, empty in the first rows, stays a column (its
            // gaps filled with the column's mean so far, 0 before any value).
            try writeText("a,b,note,label\n1,2,,x\n3,4,,y\n5,6,7,x\n", to: path)
            #expect(try CSV.load(path: path, format: CSVFormat(labelColumn: .last)).features.columns >= 3)
            try writeText("a,b,note\n1,2,\n3,4,\n5,6,7\n", to: path)
            let named = try CSV.load(path: path, format: CSVFormat(labelColumn: .first))
            #expect(named.features.columns >= 2 && named.labels == [1, 3, 5])
            // A row after the first 64 that has a value where the others end with the
            // separator is one field longer than them, and named.
            try writeText(String(repeating: "1,2,x,\n3,4,y,\n", count: 40) + "5,6,x,7\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }
                    == .raggedRow(at: DataLocation(source: path, line: 81), expectedColumns: 3, actualColumns: 4))
        }
    }

    @Test("empty files, blank files and header-only files are empty streams")
    func empty() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("e.csv")
            for (text, header) in [("", false), ("\n  \n\n", false), ("a,b,c\n", true)] {
                try writeText(text, to: path)
                let error = dataError { _ = try CSV.load(path: path, format: CSVFormat(hasHeader: header)) }
                #expect(error == .emptyStream(source: path))
                #expect(error?.description == "\(path): there are no samples in it.")
            }
            try Gzip.write([], to: dir.path("e.csv.gz"))
            #expect(dataError { _ = try CSV.load(path: dir.path("e.csv.gz")) } == .emptyStream(source: dir.path("e.csv.gz")))
            // Undeclared, a lone line of names is a header over no rows (the export of an
            // empty table; it was learned as one sample of categories); a lone line with
            // a number is a row.
            try writeText("x,y,label\n", to: path)
            var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            #expect(dataError { _ = try drain(&source) } == .emptyStream(source: path))
            try writeText("x,2,label\n", to: path)
            source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            #expect(try drain(&source).map(\.count) == [1])
        }
    }

    @Test("a line without a newline at the end of the file is read; a BOM is ignored")
    func lastLineAndBOM() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("n.csv")
            try writeFileBytes([0xEF, 0xBB, 0xBF] + Array("2,1\n0,4".utf8), to: path)
            let dataset = try CSV.load(path: path)
            #expect(dataset.labels == [2, 0] && dataset.features == Matrix([[1], [4]]))
            #expect(dataset.classCount == 3)
        }
    }

    @Test("a lone CR ends a line (old Mac files), CRLF is one line end, a CR inside quotes is data")
    func carriageReturns() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("cr.csv")
            // Read as one row of 7 fields before.
            try writeText("a,b,label\r1,2,x\r3,4,y\r\r5,6,x", to: path)
            var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last, hasHeader: true))
            let dataset = try Dataset(reading: &source)
            #expect(dataset.features == Matrix([[1, 2], [3, 4], [5, 6]]) && dataset.labels == [0, 1, 0])
            #expect(source.header == ["a", "b", "label"])
            // A CR in a quoted field, in a CR file and in an LF file, is part of its text.
            for end in ["\r", "\n", "\r\n"] {
                try writeText(["1,\"p\rq\",x", "2,\"\"\"r\r\",y", "3,\"p\rq\",x"].joined(separator: end) + end, to: path)
                var quoted = try CSVSource(path: path, format: CSVFormat(labelColumn: .last), batchSize: 1)
                #expect(try Dataset(reading: &quoted).labels == [0, 1, 0], "\(Array(end.utf8))")
                #expect(quoted.textLayout?.values == [["p\rq", "\"r\r"]], "\(Array(end.utf8))")
            }
            // A CRLF whose CR is the last byte of the first 256 KiB read stays one line end.
            try writeText(String(repeating: "1,2\r\n", count: 60_000), to: path)
            let crlf = try CSV.load(path: path)
            #expect(crlf.labels.count == 60_000 && crlf.features.columns == 1)
        }
    }

    @Test("a label, category or header name that is not UTF-8 (a NUL, Latin-1, UTF-16) is refused with its line and column")
    func notUTF8() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("u.csv")
            func error(_ bytes: [UInt8], header: Bool = false) throws -> DataError? {
                try writeFileBytes(bytes, to: path)
                var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last, hasHeader: header))
                return dataError { _ = try drain(&source) }
            }
            // A NUL in a label: learned, and then the checkpoint could not be saved.
            let nul = try error(Array("a,b,label\n0.1,0.2,z\n1.6,0.1,x".utf8) + [0] + Array("y\n".utf8), header: true)
            #expect(nul == .notUTF8(at: DataLocation(source: path, line: 3, column: 3), problem: .nul))
            #expect(nul?.description == "\(path), line 3, column 3: the field holds a NUL byte, which no text can hold; the file is not UTF-8 text.")
            // Latin-1 'café' and 'cafè': one class of replacement characters before.
            let latin = try error(Array("0.1,0.2,caf".utf8) + [0xE9, 0x0A] + Array("0.3,0.4,caf".utf8) + [0xE8, 0x0A])
            #expect(latin == .notUTF8(at: DataLocation(source: path, line: 1, column: 3), problem: .invalidByte(0xE9)))
            #expect(latin?.description.contains("line 1, column 3: the field is not UTF-8 (byte 0xE9 cannot be part of a UTF-8 character); the file is not UTF-8") == true)
            // A NUL or Latin-1 byte in a text column, and in a header name.
            #expect(try error(Array("1,re".utf8) + [0] + Array("d,a\n".utf8))
                    == .notUTF8(at: DataLocation(source: path, line: 1, column: 2), problem: .nul))
            #expect(try error(Array("1,red,a\n2,gr".utf8) + [0xFC] + Array("n,b\n".utf8))
                    == .notUTF8(at: DataLocation(source: path, line: 2, column: 2), problem: .invalidByte(0xFC)))
            #expect(try error(Array("x,gr".utf8) + [0xF6, 0xDF] + Array("e,label\n1,2,a\n".utf8))
                    == .notUTF8(at: DataLocation(source: path, line: 1, column: 2), problem: .invalidByte(0xF6)))
            // UTF-16 without its byte-order mark says so; with it, it reads as the same
            // text in UTF-8 (Excel's "Unicode Text"), either byte order, gzip too.
            let text = "a,b,label\n1.5,2,x\n3,4,y\n"
            let little = text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            let utf16 = try error(little)
            #expect(utf16.map { if case .notUTF8(_, .utf16) = $0 { true } else { false } } == true, "\(String(describing: utf16))")
            #expect(utf16?.description.contains("the file is UTF-16 (a NUL byte every other byte) without the byte-order mark") == true)
            let words = "x\ty\tlabel\r\n1.5\t2\tcafé\r\n3\t4\t𝔁-ray\r\n"
            try writeText(words.replacingOccurrences(of: "\r\n", with: "\n"), to: path)
            let expected = try CSV.load(path: path, format: CSVFormat(labelColumn: .last))
            let le: [UInt8] = [0xFF, 0xFE] + words.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            let be: [UInt8] = [0xFE, 0xFF] + words.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
            for (k, bytes) in [le, be].enumerated() {
                try writeFileBytes(bytes, to: path)
                let read = try CSV.load(path: path, format: CSVFormat(labelColumn: .last))
                #expect(read.features == expected.features && read.classNames == ["café", "𝔁-ray"], "\(k)")
                try Gzip.write(bytes, to: path + ".gz")
                #expect(try CSV.load(path: path + ".gz", format: CSVFormat(labelColumn: .last)).classNames == ["café", "𝔁-ray"])
            }
            // Many reads (a descriptor's 16 KiB chunks): characters of two code units split
            // between two reads wait for their other half.
            let long = "x\ty\tlabel\n" + (0..<3000).map { "\($0)\t\($0 % 5)\t" + String(repeating: "𝔁", count: $0 % 7 + 1) + "é\n" }.joined()
            try writeText(long, to: path)
            let wanted = try CSV.load(path: path, format: CSVFormat(labelColumn: .last))
            try writeFileBytes([0xFF, 0xFE] + long.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }, to: path)
            let handle = try #require(FileHandle(forReadingAtPath: path))
            var pieces = try CSVSource(fileHandle: handle, name: "pieces", format: CSVFormat(labelColumn: .last))
            let read = try Dataset(reading: &pieces)
            #expect(read.features == wanted.features && read.classNames == wanted.classNames && read.labels == wanted.labels)
            // A character cut in half at the end, or a surrogate without its pair, is named.
            try writeFileBytes(Array(le.dropLast()), to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }?.description.contains("cut in half") == true)
            try writeFileBytes([0xFF, 0xFE] + Array("1,".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } + [0x00, 0xDC, 0x0A, 0x00], to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }?.description.contains("broken surrogate pair") == true)
            // UTF-8 beyond ASCII is text like any other.
            try writeText("0.1,café\n0.2,cafè\n", to: path)
            #expect(try CSV.load(path: path, format: CSVFormat(labelColumn: .last)).classNames == ["café", "cafè"])
        }
    }

    @Test("a label or left-out column named twice in the header is refused, naming its places and its indices")
    func repeatedColumnName() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("r.csv")
            try writeText("label,a,label\n42,-0.1,cat\n31,2.6,dog\n", to: path)
            let label = dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .name("label"))) }
            #expect(label == .repeatedColumnName(at: DataLocation(source: path, line: 1), name: "label", fields: [0, 2],
                                                 option: "--label-column"))
            #expect(label?.description == "\(path), line 1: the header names 'label' at fields 1 and 3; "
                    + "give the column by its 0-based index (--label-column 0 or 2).")
            try writeText("id,x,id,y\n1,0.5,7,a\n2,1.5,8,b\n", to: path)
            let ignored = dataError {
                _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last, hasHeader: true, ignoredColumns: ["id"]))
            }
            #expect(ignored == .repeatedColumnName(at: DataLocation(source: path, line: 1), name: "id", fields: [0, 2],
                                                   option: "--ignore-columns"))
            // By index, the same file reads.
            let byIndex = try CSV.load(path: path, format: CSVFormat(labelColumn: .last, hasHeader: true, ignoredColumns: ["0", "2"]))
            #expect(byIndex.features == Matrix([[0.5], [1.5]]))
        }
    }

    @Test("a label that marks a missing value is refused with its line and column, or skipped; '-' and 'None' are classes")
    func missingLabels() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("m.csv")
            for mark in ["?", "NA", "NaN", "null"] {
                // Among names, among class numbers, and as the first label of all.
                for (first, second) in [("cat", "dog"), ("1", "2"), (mark, "dog")] {
                    try writeText("\(first),1\n\(second),2\n\(mark),3\n", to: path)
                    let line = first == mark ? 1 : 3
                    guard case .invalidLabel(let location, let label, let reason)? = dataError({ _ = try CSV.load(path: path) }) else {
                        Issue.record("the label '\(mark)' after '\(first)' was accepted")
                        continue
                    }
                    #expect(location == DataLocation(source: path, line: line, column: 1) && label == mark)
                    #expect(reason.contains("marks a missing label") && reason.contains("--skip-bad-rows"))
                }
            }
            // Skipped and counted as bad labels.
            try writeText("cat,1\n?,2\ndog,3\nNA,4\n", to: path)
            var source = try CSVSource(path: path, badRows: .skip)
            let dataset = try Dataset(reading: &source)
            #expect(dataset.labels == [0, 1] && source.position.skipped.badLabel == 2)
            // Promoter genes' classes are '+' and '-'; 'None' is an answer.
            try writeText("+,1\n-,2\nNone,3\n", to: path)
            var signs = try CSVSource(path: path)
            #expect(try Dataset(reading: &signs).labels == [0, 1, 2] && signs.labelMap.names == ["+", "-", "None"])
            // A class a learner already has keeps its rows, whatever its name (learned before).
            var learned = LabelMap(learning: .names)
            let old = try learned.classIndex(of: "NA", at: DataLocation(source: "checkpoint"))
            #expect(try learned.classIndex(of: "NA", at: DataLocation(source: path, line: 1), refusingMissingMarks: true) == old)
        }
    }

    @Test("a paused CSV stream keeps a digest of the rows it read: other rows refuse the resume; blank lines and old positions do not")
    func rowsDigest() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("d.csv")
            let rows = (0..<10).map { "\($0 % 3),\($0),\($0 * 2)" }
            try writeText(rows.joined(separator: "\n") + "\n", to: path)
            let source = try CSVSource(path: path, batchSize: 4)
            _ = try source.next()
            let position = source.position
            #expect(position.rowsRead == 4 && position.rowsDigest?.count == 16)
            // The same rows with blank lines among them and rows after them: resumed.
            try writeText(rows[0..<2].joined(separator: "\n") + "\n\n  \n" + rows[2...].joined(separator: "\n") + "\n5,5,5\n", to: path)
            var same = try CSVSource(path: path, batchSize: 4)
            try same.resume(from: position)
            #expect(try drain(&same).flatMap(\.labels) == [1, 2, 0, 1, 2, 0, 5])
            // One field of the rows read changed: refused, naming the file and the rows.
            var edited = rows
            edited[3] = "0,3,7"
            try writeText(edited.joined(separator: "\n") + "\n", to: path)
            let other = try CSVSource(path: path, batchSize: 4)
            #expect(dataError { try other.resume(from: position) } == .otherRowsThanPaused(source: path, rowsRead: 4))
            #expect(DataError.otherRowsThanPaused(source: path, rowsRead: 4).description
                .contains("\(path): the file's first 4 rows are not the rows the paused stream read from it"))
            // A position saved before the digest existed is not checked.
            var old = position
            old.rowsDigest = nil
            var unchecked = try CSVSource(path: path, batchSize: 4)
            try unchecked.resume(from: old)
            #expect(try drain(&unchecked).count == 2)
        }
    }

    @Test("skipping bad rows counts them by reason")
    func skipBadRows() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("s.csv")
            try writeText("0,1,2\n1,x,2\n1,2\n2,inf,1\ncat,1,1\n1,5,6\n", to: path)
            var source = try CSVSource(path: path, badRows: .skip)
            let dataset = try Dataset(reading: &source)
            #expect(dataset.labels == [0, 1] && dataset.features == Matrix([[1, 2], [5, 6]]))
            let skipped = source.position.skipped
            #expect(skipped.nonNumeric == 1 && skipped.wrongWidth == 1 && skipped.nonFinite == 1 && skipped.badLabel == 1)
            #expect(skipped.total == 4)
            #expect(skipped.lastMessage?.contains("\(path), line 5") == true)
            #expect(source.position.rowsRead == 6)
        }
    }

    @Test("negative and displaced integer labels get the next class index, kept as aliases")
    func integerAliases() throws {
        var map = LabelMap()
        let here = DataLocation(source: "t.csv")
        // A binary set labelled -1 / +1, in file order.
        #expect(try map.classIndex(of: "1", at: here) == 1)
        #expect(try map.classIndex(of: "-1", at: here) == 2)
        #expect(try map.classIndex(of: "+1", at: here) == 1)
        #expect(try map.classIndex(of: "-1.0", at: here) == 2)
        #expect(map.classCount == 3 && map.aliases == [-1: 2])
        #expect(map.label(of: 2) == "-1" && map.label(of: 1) == "1" && map.integerLabels == [0, 1, -1])
        // Label 2 would be its own index, but an alias holds it: it gets the next one.
        #expect(try map.classIndex(of: "2", at: here) == 3)
        #expect(try map.classIndex(of: "0", at: here) == 0)
        #expect(try map.classIndex(of: "7", at: here) == 7)
        #expect(map.integerLabels == [0, 1, -1, 2, 4, 5, 6, 7])
        // A row without its label is named as such, not as a text label among numbers.
        #expect(throws: DataError.invalidLabel(at: here, label: "", reason: "it is empty")) {
            try map.classIndex(of: " ", at: here)
        }

        // Codes above the largest own index are aliases too, in order of appearance; so
        // is a label that would leave 256 outputs or more unused below it.
        var codes = LabelMap()
        let coded = ["70001", "1", "80000", "70001", "65535", "300", "259"].map { try? codes.classIndex(of: $0, at: here) }
        #expect(coded == [0, 1, 2, 0, 3, 4, 259] && codes.classCount == 260 && codes.aliases == [70001: 0, 80000: 2, 65535: 3, 300: 4])
        #expect(codes.label(of: 2) == "80000" && codes.label(of: 3) == "65535" && codes.label(of: 259) == "259")
        // Prices read as the label: one output per price, not 42,001.
        var prices = LabelMap()
        let priced = ["42000.0", "38500", "49500.0", "38500.0"].map { try? prices.classIndex(of: $0, at: here) }
        #expect(priced == [0, 1, 2, 1] && prices.classCount == 3)
        // Labels 0-9 in any order keep their numbers.
        var digits = LabelMap()
        #expect(try [9, 3, 0, 7].map { try digits.classIndex(of: String($0), at: here) } == [9, 3, 0, 7])
        #expect(digits.classCount == 10 && digits.aliases.isEmpty)

        // -1 first: -1, 0, 1 are three distinct classes whatever the order.
        var ternary = LabelMap()
        let order = ["-1", "0", "1", "0", "-1"].map { try? ternary.classIndex(of: $0, at: here) }
        #expect(order == [0, 1, 2, 1, 0] && ternary.integerLabels == [-1, 0, 1])

        // Saved and read back; a map saved before aliases existed reads as none.
        let data = try JSONEncoder().encode(map)
        #expect(try JSONDecoder().decode(LabelMap.self, from: data) == map)
        let old = #"{"kind":"integers","names":[],"classCount":4,"isDeclared":false}"#
        #expect(try JSONDecoder().decode(LabelMap.self, from: Data(old.utf8)).aliases.isEmpty)
        let bad = #"{"kind":"integers","names":[],"classCount":2,"isDeclared":false,"aliases":[[-1,5]]}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(LabelMap.self, from: Data(bad.utf8)) }

        // A saved model's labels, declared: known labels by number, others refused.
        var declared = LabelMap.integers(labels: [0, 1, -1])
        #expect(try declared.classIndex(of: "+1", at: here) == 1)
        #expect(try declared.classIndex(of: "-1", at: here) == 2)
        #expect(throws: DataError.labelOutOfRange(at: here, label: "-2", declared: "'0', '1', '-1'")) {
            try declared.classIndex(of: "-2", at: here)
        }
        var opened = declared.opened
        #expect(try opened.classIndex(of: "-2", at: here) == 3)
    }

    @Test("text in a column's first value makes it a category: 16 indicators, one per value in order, then shared")
    func textColumns() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("t.csv")
            try writeText("a,colour,b,label\n1,red,2,0\n3,blue,4,1\n5,,6,0\n7,?,8,1\n9,red,12,0\n10,12,1,1\n", to: path)
            var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last, hasHeader: true), batchSize: 2)
            let dataset = try Dataset(reading: &source)
            #expect(source.textColumns == [1] && source.position.textColumns == [1])
            #expect(source.position.textValues == [["red", "blue", "12"]])
            #expect(dataset.features.columns == 2 + 16 && dataset.labels == [0, 1, 0, 1, 0, 1])
            func block(_ row: Int) -> [Float] { (1...16).map { dataset.features[row, $0] } }
            for (row, indicator) in [(0, 0), (1, 1), (4, 0), (5, 2)] {
                var expected = [Float](repeating: 0, count: 16)
                expected[indicator] = 1
                #expect(block(row) == expected, "row \(row)")
            }
            #expect(block(2).allSatisfy { $0 == 0 } && block(3).allSatisfy { $0 == 0 }, "a missing value sets no indicator")
            #expect(dataset.features[0, 0] == 1 && dataset.features[0, 17] == 2 && dataset.features[4, 17] == 12)
            // Beyond a column's own indicators values share one.
            let many = (0..<20).map { "\($0),v\($0),0" }.joined(separator: "\n") + "\n"
            let manyPath = dir.path("many.csv")
            try writeText(many, to: manyPath)
            var wide = try CSVSource(path: manyPath, format: CSVFormat(labelColumn: .last, textIndicators: 4))
            let four = try Dataset(reading: &wide)
            #expect(wide.position.textValues == [["v0", "v1", "v2", "v3"]] && four.features.columns == 5)
            for row in 0..<20 {
                let on = (1...4).filter { four.features[row, $0] == 1 }.map { $0 - 1 }
                #expect(on == [row < 4 ? row : CSVFormat.indicator(of: "v\(row)", among: 4)], "row \(row)")
            }
            var reading = try CSVSource(path: manyPath, format: CSVFormat(labelColumn: .last, textIndicators: 4),
                                        text: CSVTextLayout(columns: [1], values: [["v2"]]), learnsColumns: false)
            let frozen = try Dataset(reading: &reading)
            // A model reading a file: a value it learned reads as itself; one it never saw,
            // in a column whose values all had their own indicators, as a missing mark (no
            // shared indicator learned anything there), counted.
            #expect(frozen.features[2, 1] == 1 && (1...4).allSatisfy { frozen.features[0, $0] == 0 })
            #expect(reading.unseenText.count == 19 && reading.unseenText.examples.count == 5 && reading.unseenText.more)
            #expect(reading.position.textValues == [["v2"]])
            // In a column that had more values than indicators, one never seen shares one, as
            // the learned values beyond the column's own did.
            var full = try CSVSource(path: manyPath, format: CSVFormat(labelColumn: .last, textIndicators: 4),
                                     text: CSVTextLayout(columns: [1], values: [["v0", "v1", "v2", "v3"]]), learnsColumns: false)
            let shared = try Dataset(reading: &full)
            #expect(shared.features[7, 1 + CSVFormat.indicator(of: "v7", among: 4)] == 1 && full.unseenText.count == 0)
            // A model's reader knows its row width before the first row: a row of another
            // width is named against the saved model, not against "earlier rows".
            let shortPath = dir.path("short.csv")
            try writeText("1,v1\n", to: shortPath)
            var short = try CSVSource(path: shortPath, format: CSVFormat(labelColumn: .last, textIndicators: 4), inputWidth: 5,
                                      text: CSVTextLayout(columns: [1], values: [["v2"]]), learnsColumns: false)
            let shortError = dataError { _ = try Dataset(reading: &short) }
            #expect(shortError == .savedColumnsMismatch(at: DataLocation(source: shortPath, line: 1), expectedColumns: 3, actualColumns: 2))
            #expect(shortError?.description == "\(shortPath), line 1: the row has 2 fields, but the saved model reads rows of 3 "
                + "(the label and the columns it learned from); give it a file with the columns of the one it was trained on.")
            // The shared indicator is spread by the hash's high bits too (FNV's low bits alone put these together).
            #expect(Set(["red", "green", "blue", "Private"].map { CSVFormat.indicator(of: $0, among: 16) }).count > 2)

            // Resumed after one batch: the saved text columns, not the next row, fix the layout.
            #expect(try featuresAcrossResume(path: path, format: CSVFormat(labelColumn: .last, hasHeader: true), batchSize: 2) == dataset.features)

            // A number column that later holds text is a bad row naming it.
            try writeText("1,red,0\nx,blue,1\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }
                    == .nonNumericField(at: DataLocation(source: path, line: 2, column: 1), text: "x"))
            // A word at the top of a column of measurements is a bad field of a numeric
            // column, not the first level of a category (before, 999 measurements were
            // hashed into 16 indicators); two more words ahead keep it a category.
            let measurements = (0..<40).map { "\($0).25,blue,\($0 % 2)\n" }.joined()
            try writeText("x,colour,label\nn.a.,red,0\n" + measurements, to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }
                    == .nonNumericField(at: DataLocation(source: path, line: 2, column: 1), text: "n.a."))
            var skipping = try CSVSource(path: path, format: CSVFormat(labelColumn: .last), badRows: .skip)
            #expect(try Dataset(reading: &skipping).count == 40 && skipping.position.textColumns == [1])
            try writeText("x,colour,label\nn.a.,red,0\nn.a.,red,1\n" + measurements + "n.a.,red,1\n", to: path)
            var words = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            _ = try Dataset(reading: &words)
            #expect(words.position.textColumns == [0, 1])
            // Levels that look like numbers: text in two fields ahead among at most
            // `textIndicators` values makes a category of a column that began with a number.
            try writeText("0,red,0\n3+,blue,1\n1,red,0\n3+,red,1\n2,blue,0\n", to: path)
            var levels = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            let children = try Dataset(reading: &levels)
            #expect(children.features.columns == 32 && levels.position.textColumns == [0, 1])
            #expect(levels.position.textValues?.first == ["0", "3+", "1", "2"])
            #expect((0..<5).map { row in (0..<16).filter { children.features[row, $0] == 1 } } == [[0], [1], [2], [1], [3]])
            // Text among more distinct values than a category has is a column of numbers
            // with bad fields: the first is named.
            let measured = (0..<20).map { "\($0).5,red,0\n" }.joined() + "x,blue,1\nx,red,0\n"
            try writeText(measured, to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }
                    == .nonNumericField(at: DataLocation(source: path, line: 21, column: 1), text: "x"))
            // A missing mark first: the column's first value in the rows after it decides.
            try writeText("?,red,0\nx,blue,1\n,red,0\ny,red,1\n", to: path)
            let gaps = try CSV.load(path: path, format: CSVFormat(labelColumn: .last))
            #expect(gaps.features.columns == 32)
            #expect((0..<4).map { row in (0..<16).filter { gaps.features[row, $0] == 1 } } == [[], [0], [], [1]])
            try writeText("?,red,0\n5,blue,1\n", to: path)
            #expect(try CSV.load(path: path, format: CSVFormat(labelColumn: .last)).features == Matrix([
                [0] + [1] + [Float](repeating: 0, count: 15) + [1], [5, 0, 1] + [Float](repeating: 0, count: 14) + [0]]))
            // A column blank in all of those rows takes the kind of its first value further
            // on: text (a survey's item asked of one group, sorted by group) ...
            let late = String(repeating: "?,red,0\n", count: CSVSource.typeLookahead + 300) + "x,blue,1\n5,red,0\n"
            try writeText(late, to: path)
            let lateText = try CSV.load(path: path, format: CSVFormat(labelColumn: .last))
            #expect(lateText.features.columns == 32)
            #expect((0..<16).filter { lateText.features[CSVSource.typeLookahead + 300, $0] == 1 } == [0])
            #expect((0..<16).filter { lateText.features[CSVSource.typeLookahead + 301, $0] == 1 } == [1])
            // ... or numbers, which a column of blanks was before, its gaps flagged.
            try writeText(String(repeating: "?,red,0\n", count: CSVSource.typeLookahead + 300) + "5,blue,1\n", to: path)
            let lateNumbers = try CSV.load(path: path, format: CSVFormat(labelColumn: .last))
            #expect(lateNumbers.features.columns == 18)
            #expect(lateNumbers.features[CSVSource.typeLookahead + 300, 0] == 5)
            // Beyond the rows read ahead for it a blank column is numeric. Text there, while
            // the column has held no number, reads as missing and is counted, with its first
            // line, for the stream's warning; the position keeps the count.
            let beyond = CSVSource.blankColumnLookahead
            try writeText(String(repeating: "?,red,0\n", count: beyond) + "x,blue,1\ny,red,0\n", to: path)
            var blank = try CSVSource(path: path, format: CSVFormat(labelColumn: .last), batchSize: 1000)
            let read = try Dataset(reading: &blank)
            #expect(read.count == beyond + 2 && read.features.columns == 18)
            #expect(read.features[beyond, 0] == 0 && read.features[beyond, 17] == 1)
            let counted = [CSVSource.TextInBlankColumn(field: 0, line: beyond + 1, value: "x", count: 2)]
            #expect(blank.textInBlankColumns == counted && blank.position.textInBlankColumns == counted)
            let said = CSVSource.sentence(textInBlank: counted) { "column \($0)" }
            #expect(said.contains("column 0 from line \(beyond + 1) ('x', 2 fields)") && said.contains("--ignore-columns 0"))
            // A saved model's reading keeps the rule: the blank column is saved with the
            // layout, and its text in a test file reads as missing, counted, where a column
            // that held numbers is refused at its text.
            #expect(blank.position.blankColumns == [0] && blank.position.csvLayout.blank == [0])
            let test = dir.path("test.csv")
            try writeText("z,red,0\n", to: test)
            var evaluated = try CSVSource(path: test, format: CSVFormat(labelColumn: .last), inputWidth: 18, labels: blank.labelMap,
                                          text: blank.position.csvLayout, imputation: blank.position.imputation, learnsColumns: false)
            #expect(try Dataset(reading: &evaluated).features[0, 0] == 0)
            #expect(evaluated.textInBlankColumns == [CSVSource.TextInBlankColumn(field: 0, line: 1, value: "z", count: 1)])
            var layout = blank.position.csvLayout
            layout.blank = []
            var refused = try CSVSource(path: test, format: CSVFormat(labelColumn: .last), inputWidth: 18, labels: blank.labelMap,
                                        text: layout, imputation: blank.position.imputation, learnsColumns: false)
            #expect(dataError { _ = try Dataset(reading: &refused) } == .nonNumericField(at: DataLocation(source: test, line: 1, column: 1), text: "z"))
            // Lines of 64 KiB fill the bytes read ahead for a blank column within the first
            // 256 rows: nothing more is read ahead, and the column's text at row 301, within
            // the rows it would have read, reads as missing.
            let long = String(repeating: "a", count: 65_600)
            try writeText(String(repeating: "?,\(long),0\n", count: 300) + "x,\(long),1\n", to: path)
            #expect(256 * (long.utf8.count + 5) > CSVSource.blankColumnBytes)
            var bounded = try CSVSource(path: path, format: CSVFormat(labelColumn: .last), batchSize: 1000)
            #expect(try Dataset(reading: &bounded).count == 301)
            #expect(bounded.textInBlankColumns == [CSVSource.TextInBlankColumn(field: 0, line: 301, value: "x", count: 1)])
            // Once the column has held a number, text there is a bad field, named.
            try writeText(String(repeating: "?,red,0\n", count: beyond) + "5,blue,1\nx,red,0\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }
                    == .nonNumericField(at: DataLocation(source: path, line: beyond + 2, column: 1), text: "x"))
            // Positions saved before text columns have no such key, and read as none.
            let before = try JSONEncoder().encode(StreamPosition(rowsRead: 3, inputWidth: 2))
            #expect(!String(decoding: before, as: UTF8.self).contains("textColumns"))
            #expect(try JSONDecoder().decode(StreamPosition.self, from: before).textColumns == nil)
        }
    }

    @Test("a missing value in a numeric column takes the column's mean so far, kept across a resume")
    func missingValues() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("m.csv")
            try writeText("?,1,0\n2,,1\n4,NA,0\n,5,1\n6,3,0\n", to: path)
            let format = CSVFormat(labelColumn: .last)
            var source = try CSVSource(path: path, format: format, batchSize: 2)
            let dataset = try Dataset(reading: &source)
            // Row 1: nothing seen yet, 0. Rows 2-3: column 2's mean of 1. Row 4: (2 + 4) / 2.
            // Both columns have gaps in the first rows, so each has an indicator, last.
            #expect(dataset.features == Matrix([[0, 1, 1, 0], [2, 1, 0, 1], [4, 1, 0, 1], [3, 5, 1, 0], [6, 3, 0, 0]]))
            #expect(source.flaggedColumns == [0, 1])
            let imputation = try #require(source.position.imputation)
            #expect(imputation.rows == 5 && imputation.filled == 4 && imputation.missing == [2, 2, 0, 0])
            #expect(imputation.sums == [12, 9, 2, 2])

            // Resumed after a batch, the sums come with the position: the same values.
            #expect(try featuresAcrossResume(path: path, format: format, batchSize: 2) == dataset.features)

            // A model reading a file uses its stream's means and learns none.
            try writeText("?,?,0\n10,10,1\n?,?,0\n", to: path)
            var reading = try CSVSource(path: path, format: format, text: source.textLayout, imputation: imputation,
                                        learnsColumns: false)
            #expect(try Dataset(reading: &reading).features == Matrix([[4, 3, 1, 1], [10, 10, 0, 0], [4, 3, 1, 1]]))

            // Refused on request, naming the field.
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last, imputesMissing: false)) }
                    == .nonNumericField(at: DataLocation(source: path, line: 1, column: 1), text: "?"))
        }
    }

    @Test("a missing value's fill settles with the scaler, at its first gap after 32 values or after a value and 128 rows; saved before, it follows the mean")
    func missingValuesSettle() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("drift.csv")
            // Column 1 counts up (a file kept in order), blank in every fourth row; column 2
            // is blank until row 200, then 1000 + its row, blank in every third row after.
            let rows = (1...300).map { i in
                let a = i % 4 == 0 ? "" : "\(i)"
                let b = i < 200 || i % 3 == 0 ? "" : "\(1000 + i)"
                return "\(a),\(b),\(i % 2)"
            }
            try writeText(rows.joined(separator: "\n") + "\n", to: path)
            let format = CSVFormat(labelColumn: .last)
            var source = try CSVSource(path: path, format: format, batchSize: 50)
            let features = try Dataset(reading: &source).features
            // Column 1's 32nd value is row 42's: its first gap after, row 44, fixes its fill at
            // the mean of rows 1 to 43 without the fourth ones; before, the mean so far.
            let early = (1...43).filter { $0 % 4 != 0 }
            let settledA = Float(Double(early.reduce(0, +)) / Double(early.count))
            #expect(features[3, 0] == 2)  // row 4: (1 + 2 + 3) / 3
            #expect(features[39, 0] == Float(Double((1...39).filter { $0 % 4 != 0 }.reduce(0, +)) / 30))
            for i in stride(from: 44, through: 300, by: 4) { #expect(features[i - 1, 0] == settledA, "row \(i)") }
            // Column 2 held nothing for 199 rows (0 filled them); its first gap after its first
            // value, row 201, fixes its fill at that value.
            #expect(features[198, 1] == 0 && features[199, 1] == 1200)
            for i in stride(from: 201, through: 300, by: 3) { #expect(features[i - 1, 1] == 1200, "row \(i)") }
            let imputation = try #require(source.position.imputation)
            // The gap indicators, last, are never missing: they follow their means.
            #expect(imputation.settled == [settledA, 1200, nil, nil])
            // Resumed after any batch, the same values: the settled fills come with the position.
            #expect(try featuresAcrossResume(path: path, format: format, batchSize: 50) == features)
            #expect(try featuresAcrossResume(path: path, format: format, batchSize: 20) == features)
            // A model reads a file's gaps with its settled fills and learns none.
            try writeText(",,0\n5,7,1\n", to: path)
            var reading = try CSVSource(path: path, format: format, text: source.textLayout, imputation: imputation, learnsColumns: false)
            #expect(source.flaggedColumns == [0, 1])
            #expect(try Dataset(reading: &reading).features.rows(0..<1) == Matrix([[settledA, 1200, 1, 1]]))
            // A position saved before settled fills existed follows the mean, as it did; so
            // does one whose settled fills do not fit the width (a crafted file).
            let stale = CSVImputation(rows: imputation.rows, sums: imputation.sums, missing: imputation.missing, filled: imputation.filled)
            let crafted = CSVImputation(rows: imputation.rows, sums: imputation.sums, missing: imputation.missing,
                                        filled: imputation.filled, settled: [.nan, 3, 0, 0])
            for given in [stale, crafted] {
                var old = try CSVSource(path: path, format: format, text: source.textLayout, imputation: given, learnsColumns: false)
                #expect(try Dataset(reading: &old).features.rows(0..<1) == Matrix([[imputation.mean(0), imputation.mean(1), 1, 1]]))
            }
            let decoded = try JSONDecoder().decode(CSVImputation.self, from: Data(#"{"rows": 2, "sums": [1, 2], "missing": [0, 0], "filled": 0}"#.utf8))
            #expect(decoded.settled == nil && decoded.fill(1) == 1)
        }
    }

    @Test("numbers in dress ($7.58, 1,852.18, 30%, 1.852,18) read as the same numbers written plainly; codes and words stay text")
    func dressedNumbers() throws {
        for text in ["$7.58", "1,852.18", "30%", "-1,28", "€ 3", "1'000"] { #expect(CSVSource.looksLikeDressedNumber(text), "\(text)") }
        for text in ["7.58", "red", "$", "3+", "1,2,a", "%"] { #expect(!CSVSource.looksLikeDressedNumber(text), "\(text)") }
        try withTemporaryDirectory { dir in
            let path = dir.path("x.csv"), plainPath = dir.path("p.csv")
            let rows = (0..<40).map { i in "\"\(i + 1),\(100 + i).5\",\(i)%,$\(i).25,\(["red", "blue"][i % 2]),\(i % 2)" }
            let plain = (0..<40).map { i in "\(i + 1)\(100 + i).5,\(i),\(i).25,\(["red", "blue"][i % 2]),\(i % 2)" }
            try writeText("amount,rate,price,colour,label\n" + rows.joined(separator: "\n") + "\n", to: path)
            try writeText("amount,rate,price,colour,label\n" + plain.joined(separator: "\n") + "\n", to: plainPath)
            var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last, hasHeader: true))
            let dressed = try Dataset(reading: &source)
            #expect(source.position.textColumns == [3] && source.position.numberLikeTextColumns == nil)
            #expect(try CSV.load(path: plainPath, format: CSVFormat(labelColumn: .last, hasHeader: true)).features == dressed.features)
            // Until 2026-12-05's ninth round they were text, and said so: a number whose dress
            // is not read (a blank grouping the thousands) still is.
            let spaced = (0..<40).map { i in "\(i + 1) \(100 + i),\(i % 2)" }
            try writeText("amount,label\n" + spaced.joined(separator: "\n") + "\n", to: path)
            var blanks = try CSVSource(path: path, format: CSVFormat(labelColumn: .last, hasHeader: true, separator: ","))
            _ = try Dataset(reading: &blanks)
            #expect(blanks.position.textColumns == [0] && blanks.position.numberLikeTextColumns == [0])
            // A header over columns of dressed numbers only is found; a headerless file of
            // them keeps its first row; a category whose levels look dressed ('0%' among
            // '1 - 10%', the insurance data) tells no header (its first row was taken for one).
            let money = (0..<30).map { i in "\"$\(1000 + i * 37).50\",\(i % 9)%,\(["yes", "no"][i % 2])" }
            try writeText("amount,rate,paid\n" + money.joined(separator: "\n") + "\n", to: path)
            var headed = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            #expect(try Dataset(reading: &headed).count == 30 && headed.headerFound && headed.header == ["amount", "rate", "paid"])
            try writeText(money.joined(separator: "\n") + "\n", to: path)
            var headless = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            #expect(try Dataset(reading: &headless).count == 30 && !headless.headerFound)
            let levels = (0..<40).map { i in "\(["1 - 10%", "0%", "11 - 23%", "100%"][i % 4]),\(i % 3),\(i % 2)" }
            try writeText(levels.joined(separator: "\n") + "\n", to: path)
            var insurance = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            #expect(try Dataset(reading: &insurance).count == 40 && !insurance.headerFound && insurance.textColumns == [0])
            // A dressed value in a column of plain numbers is that number, not a bad field.
            try writeText("1.5,0\n\"2,500.25\",1\n$3,0\n", to: path)
            #expect(try CSV.load(path: path, format: CSVFormat(labelColumn: .last)).features == Matrix([[1.5], [2500.25], [3]]))
        }
    }

    @Test("NaN in any spelling, Excel's #N/A and pandas' <NA> are missing values; a word that begins with nan is not")
    func missingSpellings() throws {
        for text in ["nan", "NaN", "NAN", "-nan", "+NaN", "nan(123)", "-NAN(0x7fc)", "#N/A", "#NA", "<NA>", "?", ""] {
            #expect(CSVFormat.marksMissing(text), "\(text)")
        }
        for text in ["nanx", "banana", "na n", "nan(", "nan(1)(2)", "1"] {
            #expect(!CSVFormat.marksMissing(text), "\(text)")
        }
        try withTemporaryDirectory { dir in
            let path = dir.path("n.csv")
            // Before, '-nan' (glibc's negative NaN) stopped the stream: not finite.
            try writeText("1,2,0\n-nan,4,1\nNAN,#N/A,0\n3,<NA>,1\n", to: path)
            var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            let dataset = try Dataset(reading: &source)
            #expect(dataset.labels == [0, 1, 0, 1] && source.position.imputation?.filled == 4)
            try writeText("1,2,0\nnanx,4,1\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }
                    == .nonNumericField(at: DataLocation(source: path, line: 2, column: 1), text: "nanx"))
        }
    }

    @Test("a numeric column with gaps in the first rows flags them in a feature of its own, kept by a saved layout")
    func missingIndicators() throws {
        try withTemporaryDirectory { dir in
            // Column 1 has gaps from the start, column 0 only after the rows read ahead; the
            // header's empty name is not a gap, and the text column's gaps set no indicator.
            let path = dir.path("g.csv")
            let early = "a,,colour,y\n" + String(repeating: "1,,red,0\n2,5,,1\n", count: 2)
            let late = String(repeating: "3,7,blue,0\n", count: CSVSource.typeLookahead) + "NA,9,red,1\n"
            try writeText(early + late, to: path)
            let format = CSVFormat(labelColumn: .last, hasHeader: true)
            var source = try CSVSource(path: path, format: format, batchSize: 3)
            let dataset = try Dataset(reading: &source)
            #expect(source.flaggedColumns == [1])
            #expect(source.position.flaggedColumns == [1])
            // Fields 0 and 1, 16 indicators for the colour, then field 1's gap flag.
            #expect(dataset.features.columns == 2 + CSVFormat.defaultTextIndicators + 1)
            let flag = dataset.features.columns - 1
            #expect((0..<5).map { dataset.features[$0, flag] } == [1, 0, 1, 0, 0])
            // The late gap takes the mean, (1 + 2 + 1 + 2 + 3 x 256) / 260, and no flag.
            let last = dataset.features.rows - 1
            #expect(abs(dataset.features[last, 0] - 774 / 260) < 1e-5 && dataset.features[last, flag] == 0)

            // Resumed, the flags come with the position; a model reading another file keeps
            // them, whether or not that file has gaps in its first rows.
            #expect(try featuresAcrossResume(path: path, format: format, batchSize: 3) == dataset.features)
            let other = dir.path("other.csv")
            try writeText("a,b,colour,y\n1,2,red,0\n3,,blue,1\n", to: other)
            var reading = try CSVSource(path: other, format: format, inputWidth: dataset.features.columns,
                                        text: source.textLayout, imputation: source.position.imputation, learnsColumns: false)
            let read = try Dataset(reading: &reading)
            #expect(read.features.columns == dataset.features.columns)
            #expect(read.features[0, flag] == 0 && read.features[1, flag] == 1)

            // A saved layout whose flagged column is the label here is refused, naming it.
            let moved = CSVFormat(labelColumn: .index(1), hasHeader: true)
            let error = dataError {
                var wrong = try CSVSource(path: other, format: moved, text: source.textLayout, learnsColumns: false)
                _ = try Dataset(reading: &wrong)
            }
            #expect(error?.description.contains("whose missing values are flagged") == true)

            // Without filling, a gap is an error and nothing is flagged; a position saved
            // before flags read as none.
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last, hasHeader: true, imputesMissing: false)) }
                    == .nonNumericField(at: DataLocation(source: path, line: 2, column: 2), text: ""))
            let before = try JSONEncoder().encode(StreamPosition(rowsRead: 3, inputWidth: 2))
            #expect(try JSONDecoder().decode(StreamPosition.self, from: before).csvLayout.flagged == [])
        }
    }

    @Test("an undeclared header is found when the rows below have numbers where line 1 has names, missing values passed over")
    func undeclaredHeader() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("h.csv")
            try writeText("\nlength,colour,species\n\n5.1,red,setosa\n4.9,blue,versicolor\n", to: path)
            var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last), batchSize: 1)
            let dataset = try Dataset(reading: &source)
            #expect(source.headerFound && source.header == ["length", "colour", "species"])
            #expect(dataset.labels == [0, 1] && dataset.features.columns == 17 && dataset.features[0, 0] == 5.1)
            #expect(source.position.rowsRead == 2 && source.position.headerFound == true)
            // Resumed after one row: the header is found again, and the second row follows.
            #expect(try featuresAcrossResume(path: path, format: CSVFormat(labelColumn: .last), batchSize: 1) == dataset.features)
            // Text in both lines is a category, not a header; numbers in both are data.
            try writeText("red,x,a\nblue,y,b\n", to: path)
            var categories = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            #expect(try Dataset(reading: &categories).labels == [0, 1] && !categories.headerFound)
            try writeText("1,2,0\n3,4,1\n", to: path)
            var numbers = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            #expect(try Dataset(reading: &numbers).labels == [0, 1] && !numbers.headerFound)
            // A first row missing its numbers (the age of the Titanic's first passenger in
            // the file): the first row below that has one tells the header.
            try writeText("name,sex,age,survived\n\"Murdlin, Mr. Joseph\",male,,no\n\"Wenzel, Mr. Linhart\",male,32.5,no\n", to: path)
            var gaps = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            let passengers = try Dataset(reading: &gaps)
            #expect(gaps.headerFound && gaps.header == ["name", "sex", "age", "survived"] && passengers.count == 2)
            // A text value below the name, missing ones before it, is no header's sign.
            try writeText("red,,x,a\nblue,,y,b\ngreen,,z,a\n", to: path)
            var texts = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            #expect(try Dataset(reading: &texts).count == 3 && !texts.headerFound)
            // A headerless first row with text over a gap and then a number stays a row, as before.
            try writeText("1.5,abc,0\n2.5,,1\n3.5,4,0\n", to: path)
            var typo = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            #expect(try Dataset(reading: &typo).count == 3 && !typo.headerFound)
            // Errors still name the file's own lines.
            try writeText("a,b,y\n1,2,0\n3,x,1\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }
                    == .nonNumericField(at: DataLocation(source: path, line: 3, column: 2), text: "x"))
        }
    }

    @Test("a line of names over rows of words only is a header where its names are none of the values their columns repeat")
    func headerOverWords() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("w.csv")
            let votes = ["y,n,y,democrat", "n,n,y,republican", "y,,n,democrat", "n,y,y,republican",
                         "y,n,n,democrat", "n,n,y,republican", "y,y,,democrat", "n,n,n,republican"]
            func read(_ lines: [String], detectsHeader: Bool = true) throws -> (Dataset, CSVSource) {
                try writeText(lines.joined(separator: "\n") + "\n", to: path)
                var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last, detectsHeader: detectsHeader))
                return (try Dataset(reading: &source), source)
            }
            // Every column a category, no number to tell: the names stand once, the values recur.
            let (found, source) = try read(["budget,water,aid,party"] + votes)
            #expect(source.headerFound && source.header == ["budget", "water", "aid", "party"])
            #expect(found.count == 8 && source.labelMap.classCount == 2 && found.labels.prefix(2) == [0, 1])
            #expect(try featuresAcrossResume(path: path, format: CSVFormat(labelColumn: .last), batchSize: 3) == found.features)
            // The same rows without it: the first row is a row.
            let (rows, plain) = try read(votes)
            #expect(!plain.headerFound && rows.count == 8 && rows.features == found.features)
            // A first row whose values its columns repeat below, a name that is one of its
            // column's values, names repeated, or too few rows to tell: a row, as before.
            #expect(try read(["y,n,n,republican"] + votes).0.count == 9)
            #expect(try read(["budget,y,aid,party"] + votes).0.count == 9)
            #expect(try read(["vote,vote,vote,party"] + votes).0.count == 9)
            #expect(try read(["budget,water,aid,party"] + votes.prefix(3)).0.count == 4)
            // Two columns of levels beside free text tell it; one alone does not.
            let people = ["ann,y,a", "bob,n,b", "cy,y,a", "dee,n,b", "eve,y,a"]
            #expect(try read(["who,vote,group"] + people).1.headerFound)
            let tagged = ["ann,y,t1", "bob,n,t2", "cy,y,t3", "dee,n,t4", "eve,y,t5"]
            #expect(try read(["who,vote,tag"] + tagged).0.count == 6)
            // Told there is none, it is a row.
            #expect(try read(["budget,water,aid,party"] + votes, detectsHeader: false).0.count == 9)
        }
    }

    @Test("comment lines at the top are not rows; numpy's header written as a comment is the file's header")
    func commentLines() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("c.txt")
            let rows = "1.5 2 0\n3.5 4 1\n5.5 6 0\n"
            func read(_ text: String, _ format: CSVFormat = CSVFormat(labelColumn: .last)) throws -> (Dataset, CSVSource) {
                try writeText(text, to: path)
                var source = try CSVSource(path: path, format: format)
                return (try Dataset(reading: &source), source)
            }
            let (plain, _) = try read(rows)
            // numpy.savetxt(header="x y label"): the comment is the header.
            let (numpy, found) = try read("# x y label\n" + rows)
            #expect(numpy.features == plain.features && found.headerFound && found.header == ["x", "y", "label"])
            #expect(try read("# x y label\n" + rows, CSVFormat(labelColumn: .name("label"))).0.labels == plain.labels)
            // Notes: left out, the line numbers kept; '##', '#' alone and blanks first are comments too.
            let (noted, source) = try read("# made by a script\n##\n  #\n# three columns\n" + rows)
            #expect(noted.features == plain.features && !source.headerFound)
            try writeText("# notes\n1.5 2 0\n3.5 x 1\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }
                    == .nonNumericField(at: DataLocation(source: path, line: 3, column: 2), text: "x"))
            // A header below the comments stays the header; told there is none, the comment stays one.
            let (below, headed) = try read("# x y label\na b c\n" + rows)
            #expect(below.features == plain.features && headed.header == ["a", "b", "c"])
            #expect(try read("# x y label\n" + rows, CSVFormat(labelColumn: .last, detectsHeader: false)).0.features == plain.features)
            // A value that begins with '#' is no comment: a colour, a rank.
            let (colours, text) = try read("#ff0000,1.5,a\n#00ff00,2.5,b\n#ff0000,3.5,a\n")
            #expect(colours.count == 3 && text.textColumns == [0])
            // Comment lines in the middle are rows, as before (a bad one).
            try writeText(rows + "# late\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) } != nil)
            // Resumed after a row, the comments are passed over again.
            try writeText("# x y label\n" + rows, to: path)
            #expect(try featuresAcrossResume(path: path, format: CSVFormat(labelColumn: .last), batchSize: 1) == plain.features)
        }
    }

    @Test("a model of words only, learned with its header, reads a file without it from its first row")
    func learnedWordsHeaderAbsent() throws {
        try withTemporaryDirectory { (dir) throws in
            let path = dir.path("w.csv")
            let names = ["budget", "water", "party"]
            let layout = CSVTextLayout(columns: [0, 1], values: [["y", "n"], ["n", "y"]], names: names)
            func read(_ text: String) throws -> Int {
                try writeText(text, to: path)
                var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last, hasHeader: true, detectsHeader: true),
                                           labels: .names(["democrat", "republican"]), text: layout, learnsColumns: false)
                return try Dataset(reading: &source).count
            }
            // The first row was taken for the header before: one row fewer.
            #expect(try read("y,n,democrat\nn,y,republican\n") == 2)
            #expect(try read("budget,water,party\ny,n,democrat\nn,y,republican\n") == 2)
            #expect(try read("Budget , water,party\ny,n,democrat\nn,y,republican\n") == 2)
            // Values the model never learned, where no number tells, keep the line a header
            // (renamed columns); one learned value under another name makes it a row.
            #expect(try read("maybe,perhaps,democrat\nn,y,republican\n") == 1)
            #expect(try read("maybe,n,democrat\nn,y,republican\n") == 2)
        }
    }

    @Test("told the file has no header, a first row whose level looks like a name is a row")
    func declaredNoHeader() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("n.csv")
            try writeText("3+,0.126,0\n1,2.105,1\n3+,0.362,0\n3+,1.5,1\n2,0.3,0\n", to: path)
            // Found, the first line is a header of names '3+', '0.126' and '0': a row lost.
            var found = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            #expect(try Dataset(reading: &found).labels.count == 4 && found.headerFound)
            var declared = try CSVSource(path: path, format: CSVFormat(labelColumn: .last, detectsHeader: false))
            let dataset = try Dataset(reading: &declared)
            #expect(dataset.labels == [0, 1, 0, 1, 0] && !declared.headerFound && declared.header == nil)
            #expect(declared.textColumns == [0] && dataset.features[0, 0] == 1 && dataset.features[2, 0] == 1)
            // A label by name needs a header, or the names a saved model learned.
            let byName = dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .name("y"), detectsHeader: false)) }
            #expect(byName == .labelColumnNotFound(source: path, column: "'y'",
                                                   available: "the file is read without a header; give the label column by its 0-based index"))
        }
    }

    @Test("decimal commas are numbers when ',' does not separate fields")
    func decimalCommas() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("eu.csv")
            try writeText("5,1;3,5;0\n-4,25;\"3,0\";1\n7;1e3;0\n", to: path)
            let dataset = try CSV.load(path: path, format: CSVFormat(labelColumn: .last, separator: ";"))
            #expect(dataset.features == Matrix([[5.1, 3.5], [-4.25, 3], [7, 1000]]) && dataset.labels == [0, 1, 0])
            // With ',' as the separator a quoted "5,1" is not a decimal comma. 1,234.5 has its
            // thousands grouped (a number in dress since 2026-12-05's ninth round).
            try writeText("1,2,0\n\"5,1\",2,1\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }
                    == .nonNumericField(at: DataLocation(source: path, line: 2, column: 1), text: "5,1"))
            try writeText("1;2;0\n1,234.5;2;1\n", to: path)
            #expect(try CSV.load(path: path, format: CSVFormat(labelColumn: .last, separator: ";")).features == Matrix([[1, 2], [1234.5, 2]]))
        }
    }

    @Test("without a separator given, the first lines tell it: ';' with decimal commas, tabs, '|'; ',' wins ties")
    func separatorFound() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("s.csv")
            try writeText("a;b;label\n5,1;3,5;x\n-4,25;\"2\";y\n7;1e3;x\n", to: path)
            var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last), batchSize: 1)
            let dataset = try Dataset(reading: &source)
            #expect(source.separator == ";" && source.headerFound && source.position.separatorFound == ";")
            #expect(dataset.features == Matrix([[5.1, 3.5], [-4.25, 2], [7, 1000]]) && dataset.labels == [0, 1, 0])
            // Resumed after a row: found again, and the rows follow.
            #expect(try featuresAcrossResume(path: path, format: CSVFormat(labelColumn: .last), batchSize: 1) == dataset.features)
            for (separator, text) in [("\t", "1\t2\t0\n3\t4\t1\n"), ("|", "1|2|0\n\n3|4|1\n")] {
                try writeText(text, to: path)
                var found = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
                #expect(try Dataset(reading: &found).features == Matrix([[1, 2], [3, 4]]))
                #expect(found.position.separatorFound == separator)
            }
            // A comma file whose text holds ';' in every row: ',' splits it into more numbers.
            try writeText("1,a;b,0\n2,c;d,1\n", to: path)
            var commas = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            #expect(try Dataset(reading: &commas).features.columns == 1 + 16)
            #expect(commas.separator == "," && commas.position.separatorFound == nil)
            // A separator given is kept, and its error names it.
            try writeText("1;2;0\n3;4;1\n", to: path)
            let given = dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last, separator: ",")) }
            #expect(given?.description.hasPrefix("\(path), line 1: wrong dimensions 1, expected at least 2 columns (a label and a feature) "
                + "separated by ',' (are the fields separated by another character? --separator ';', tab, '|' or space says which; a line of "
                + "notes is read as a row unless it opens the file with '# ': remove it).") == true, "\(String(describing: given))")
            // Excel's first line `sep=;` declares the separator: the file reads as the same
            // file without it, a resume finds it again, and line numbers still count it.
            for declaration in ["sep=;\n", "\"sep=;\"\r\n", "\nSEP=;\n"] {
                try writeText(declaration + "a;b;label\n5,1;3,5;x\n-4,25;\"2\";y\n7;1e3;x\n", to: path)
                var declared = try CSVSource(path: path, format: CSVFormat(labelColumn: .last), batchSize: 1)
                #expect(try Dataset(reading: &declared).features == dataset.features, "\(declaration)")
                #expect(declared.separator == ";" && declared.headerFound)
                #expect(try featuresAcrossResume(path: path, format: CSVFormat(labelColumn: .last), batchSize: 1) == dataset.features)
            }
            try writeText("sep=|\n1|2|0\n3|x|1\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last, textIndicators: 0)) }
                    == .nonNumericField(at: DataLocation(source: path, line: 3, column: 2), text: "x"))
            // A separator given wins over the line, which is still no row.
            try writeText("sep=;\n1,2,0\n3,4,1\n", to: path)
            #expect(try CSV.load(path: path, format: CSVFormat(labelColumn: .last, separator: ",")).features == Matrix([[1, 2], [3, 4]]))
            // A comment line first is passed over ('#' and a blank); a line of notes of
            // another kind is named, with what is passed over.
            try writeText("# exported 2024-05-01\n1,2,0\n3,4,1\n", to: path)
            #expect(try CSV.load(path: path, format: CSVFormat(labelColumn: .last)).features == Matrix([[1, 2], [3, 4]]))
            try writeText("// exported 2024-05-01\n1,2,0\n3,4,1\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }?.description
                .contains("line 1: wrong dimensions 1") == true)
            // Lines that no separator splits alike: ',' as before, and the row at fault is named.
            try writeText("1,2,0\n3,4\n", to: path)
            let unsplit = dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }
            #expect(unsplit != nil && unsplit == dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last, separator: ",")) })
        }
    }

    @Test("blanks separate fields when they split the first lines into more numbers than any character: numpy's savetxt, aligned columns, quoted values")
    func blankSeparated() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("s.txt")
            let rows = Matrix([[1.5, -2], [3, 4]])
            // numpy.savetxt's default, columns aligned with runs of spaces and tabs, blanks at
            // either end, a header, and R's quoted names and values.
            for text in ["1.500000000000000000e+00 -2.000000000000000000e+00 0.000000000000000000e+00\n"
                            + "3.000000000000000000e+00 4.000000000000000000e+00 1.000000000000000000e+00\n",
                         "  1.5   -2   0\n  3.0 \t 4   1  \n",
                         "x y label\n1.5 -2 0\n\n3 4 1\n",
                         "\"x\" \"y\" \"label\"\n1.5 -2 \"a b\"\n3 4 \"c\"\n"] {
                try writeText(text, to: path)
                var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
                let dataset = try Dataset(reading: &source)
                #expect(dataset.features == rows && dataset.labels == [0, 1], "\(text)")
                #expect(source.separator == " " && source.position.separatorFound == " ", "\(text)")
                #expect(try featuresAcrossResume(path: path, format: CSVFormat(labelColumn: .last), batchSize: 1) == rows)
            }
            // Given (`--separator space`), the same.
            try writeText("1.5  -2 0\n3 4 1\n", to: path)
            #expect(try CSV.load(path: path, format: CSVFormat(labelColumn: .last, separator: " ")).features == rows)
            // A tab-separated file whose text holds a space, and a comma file with a blank
            // after each comma, keep their separator: blanks find no more numbers.
            try writeText("New York\t1.5\t-2\t0\nSan Jose\t3\t4\t1\n", to: path)
            var tabs = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            _ = try Dataset(reading: &tabs)
            #expect(tabs.separator == "\t")
            try writeText("1.5, -2, 0\n3, 4, 1\n", to: path)
            var commas = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            #expect(try Dataset(reading: &commas).features == rows && commas.separator == ",")
            // A row of another width after the first lines is named with its line.
            try writeText(String(repeating: "1.5 -2 0\n", count: 9) + "5 6\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) }
                    == .raggedRow(at: DataLocation(source: path, line: 10), expectedColumns: 3, actualColumns: 2))
        }
    }

    @Test("a header one name short of its rows, as R's write.table writes it: the first field is each row's name, left out; files with and without row names read for one another's models")
    func rowNames() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("r.txt")
            let rows = Matrix([[1.5, -2], [3, 4]])
            for (text, hasHeader) in [("\"x\" \"y\" \"Species\"\n\"1\" 1.5 -2 \"setosa\"\n\"2\" 3 4 \"virginica\"\n", false),
                                      ("x,y,Species\nr1,1.5,-2,setosa\nr2,3,4,virginica\n", false),
                                      ("x,y,Species\n1,1.5,-2,setosa\n2,3,4,virginica\n", true)] {
                try writeText(text, to: path)
                let format = CSVFormat(labelColumn: .last, hasHeader: hasHeader)
                var source = try CSVSource(path: path, format: format, batchSize: 1)
                let dataset = try Dataset(reading: &source)
                #expect(dataset.features == rows && dataset.labels == [0, 1], "\(text)")
                #expect(source.rowNames && source.header == ["", "x", "y", "Species"] && source.position.rowNamesLeftOut == true)
                #expect(try featuresAcrossResume(path: path, format: format, batchSize: 1) == rows)
            }
            // R's write.csv and pandas' to_csv: the names or index under an empty name, whole
            // numbers (in any order) or words, all different, are left out alike; a column of
            // measurements, or of repeated values, under an empty name stays a feature.
            for text in ["\"\",\"x\",\"y\",\"Species\"\n\"1\",1.5,-2,\"setosa\"\n\"2\",3,4,\"virginica\"\n",
                         ",x,y,Species\n7,1.5,-2,setosa\n0,3,4,virginica\n", ",x,y,Species\nMazda RX4,1.5,-2,setosa\nDatsun 710,3,4,virginica\n"] {
                try writeText(text, to: path)
                var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last), batchSize: 1)
                #expect(try Dataset(reading: &source).features == rows, "\(text)")
                #expect(source.rowNames && source.header == ["", "x", "y", "Species"] && source.position.rowNamesLeftOut == true, "\(text)")
                #expect(try featuresAcrossResume(path: path, format: CSVFormat(labelColumn: .last), batchSize: 1) == rows)
            }
            for text in [",x,y,Species\n0.25,1.5,-2,setosa\n0.5,3,4,virginica\n", ",x,y,Species\n1,1.5,-2,setosa\n1,3,4,virginica\n"] {
                try writeText(text, to: path)
                var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last), batchSize: 1)
                let read = try Dataset(reading: &source)
                #expect(!source.rowNames && read.features.columns == 3, "\(text)")
            }
            // A gap in the first rows is flagged as it is without the row names.
            try writeText("\"x\" \"y\" \"Species\"\n\"1\" 1.5 NA \"setosa\"\n\"2\" 3 4 \"virginica\"\n", to: path)
            var gapped = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            try writeText("x,y,Species\n1.5,NA,setosa\n3,4,virginica\n", to: dir.path("plain.csv"))
            var plain = try CSVSource(path: dir.path("plain.csv"), format: CSVFormat(labelColumn: .last))
            #expect(try Dataset(reading: &gapped).features == Dataset(reading: &plain).features)
            #expect(gapped.position.flaggedColumns == [2] && plain.position.flaggedColumns == [1])
            // The label column first: the first named column, not the rows' names; a header
            // of one name over two fields is no header of row names (no feature would be left).
            try writeText("a b\n\"r1\" 1 5\n\"r2\" 0 6\n", to: path)
            var first = try CSVSource(path: path, format: CSVFormat(labelColumn: .first))
            let labelled = try Dataset(reading: &first)
            #expect(labelled.features == Matrix([[5], [6]]) && first.labelMap.label(of: labelled.labels[0]) == "1")
            try writeText("a\n1 2\n3 4\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .first)) } != nil)
            // A model learned with row names reads a file without them by name, and the other way round.
            let withNames = CSVTextLayout(columns: [], values: [], names: ["", "x", "y", "Species"], rowNames: true)
            let without = CSVTextLayout(columns: [], values: [], names: ["x", "y", "Species"])
            for (layout, text, placed) in [
                // Only the row names differ: placed, with nothing to say (the columns only shifted).
                (withNames, "x,y,Species\n1.5,-2,setosa\n3,4,virginica\n", nil),
                (withNames, "x,y,Species\n1,1.5,-2,setosa\n2,3,4,virginica\n", nil),
                (without, "x,y,Species\n1,1.5,-2,setosa\n2,3,4,virginica\n", nil),
                (without, "y,x,Species\n1,-2,1.5,setosa\n2,4,3,virginica\n", CSVSource.ColumnPlacement(moved: ["x", "y"], leftOut: [])),
            ] {
                try writeText(text, to: path)
                var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last), labels: .names(["setosa", "virginica"]),
                                           text: layout)
                source.labelColumnPlace = .learned
                #expect(try Dataset(reading: &source).features == rows, "\(text)")
                #expect(source.columnsPlacedByName == placed, "\(text)")
            }
        }
    }

    @Test("a numeric column that counts up by 1 from row to row (a row number) is named, after 32 rows")
    func countingColumns() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("c.csv")
            // Field 0: a row number (pandas' index under a name; under none it is left out,
            // `rowNames`); field 1: text; field 2: an id from 1000; field 3: a feature; field
            // 4: constant; the label last.
            let rows = (0..<40).map { i in "\(i),\(["a", "b"][i % 2]),\(1000 + i),\(Double(i % 7) / 2),5,\(i % 2)" }
            try writeText("n,kind,id,x,k,y\n" + rows.joined(separator: "\n") + "\n", to: path)
            var source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            _ = try Dataset(reading: &source)
            #expect(source.countingColumns == [0, 2] && source.position.countingColumns == [0, 2])
            // Fewer than 32 rows tell nothing.
            try writeText(",x,y\n" + (0..<20).map { "\($0),\($0 % 3),\($0 % 2)" }.joined(separator: "\n") + "\n", to: path)
            var short = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            _ = try Dataset(reading: &short)
            #expect(short.countingColumns.isEmpty && short.position.countingColumns == nil)
            // A gap, or a missing value, ends the count.
            let gapped = (0..<40).map { i in "\(i == 20 ? 99 : i),\(i == 30 ? "?" : String(i)),\(i % 2)" }
            try writeText(gapped.joined(separator: "\n") + "\n", to: path)
            var broken = try CSVSource(path: path, format: CSVFormat(labelColumn: .last))
            _ = try Dataset(reading: &broken)
            #expect(broken.countingColumns.isEmpty)
        }
    }

    @Test("columns left out by name or index are not features; a column that is not there is named")
    func ignoredColumns() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("i.csv")
            try writeText("id,x,colour,when,label\n1,0.5,red,2024-01-01,a\n2,1.5,blue,2024-01-02,b\n3,2.5,red,2024-01-03,a\n", to: path)
            let format = CSVFormat(labelColumn: .name("label"), ignoredColumns: ["id", "when"])
            var source = try CSVSource(path: path, format: format, batchSize: 2)
            let dataset = try Dataset(reading: &source)
            #expect(dataset.features.columns == 1 + 16 && source.textColumns == [2])
            #expect(dataset.features[0, 0] == 0.5 && dataset.features[2, 0] == 2.5 && dataset.features[1, 2] == 1)
            // Resumed after a batch: the same layout and rows.
            #expect(try featuresAcrossResume(path: path, format: format, batchSize: 2) == dataset.features)
            // By index without a header; a name or index that is not there, or the label, is refused.
            try writeText("7,0.5,0\n8,1.5,1\n", to: path)
            let byIndex = try CSV.load(path: path, format: CSVFormat(labelColumn: .last, ignoredColumns: ["0"]))
            #expect(byIndex.features == Matrix([[0.5], [1.5]]))
            let declared = try CSV.load(path: path, format: CSVFormat(labelColumn: .last, ignoredColumns: ["0"]), inputWidth: 1)
            #expect(declared.features == byIndex.features)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last, ignoredColumns: ["id"])) }
                    == .ignoredColumnNotFound(source: path, column: "'id'", available: "the rows have 3 columns, indices 0...2, and no header"))
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last, ignoredColumns: ["2"])) }
                    == .ignoredColumnNotFound(source: path, column: "'2'", available: "it is the label column"))
        }
    }
}

