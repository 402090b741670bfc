import Foundation
import Testing
import Continual
import MoE
import TestSupport

/// CSV text of `rows` samples with `width` features: feature j of row i is i + j / 10,
/// the label is given by `label(i)`.
private func csvRows(_ rows: Range<Int>, width: Int = 3, label: (Int) -> String = { String($0 % 4) }) -> String {
    rows.map { i in ([label(i)] + (0..<width).map { j in String(Float(i) + Float(j) / 10) }).joined(separator: ",") }
        .joined(separator: "\n") + "\n"
}

@Suite("Stream sources")
struct StreamSourceTests {
    @Test("a CSV file arrives in batches equal to the whole file")
    func csvBatches() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("s.csv")
            try writeText(csvRows(0..<10), to: path)
            var source = try CSVSource(path: path, batchSize: 4)
            #expect(source.inputWidth == nil)
            let batches = try drain(&source)
            #expect(batches.map(\.count) == [4, 4, 2])
            #expect(source.inputWidth == 3 && source.classCount == 4)
            let whole = try CSV.load(path: path)
            #expect(batches.flatMap(\.labels) == whole.labels)
            #expect(batches.flatMap(\.features.scalars) == whole.features.scalars)
            #expect(whole.features[9, 2] == 9.2)
            #expect(batches.allSatisfy { $0.pass == 0 })
            #expect(try source.next() == nil)
            #expect(source.position.rowsRead == 10 && source.position.samplesDelivered == 10)
        }
    }

    @Test("classes are learned in order of appearance; integer labels keep their number")
    func learnedClasses() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("n.csv.gz")
            let labels = ["shirt", "shoe", "shirt", "bag", "shoe", "hat"]
            try Gzip.write(Array(csvRows(0..<6, label: { labels[$0] }).utf8), to: path)
            var source = try CSVSource(path: path, batchSize: 2)
            let batches = try drain(&source)
            #expect(batches.map(\.labels) == [[0, 1], [0, 2], [1, 3]])
            #expect(source.labelMap.names == ["shirt", "shoe", "bag", "hat"])
            #expect(source.labelMap.kind == .names && !source.labelMap.isDeclared)

            // Integer labels keep their number: label 7 first means 8 classes.
            try writeText("7,1\n2,2\n", to: dir.path("i.csv"))
            let numbers = try CSVSource(path: dir.path("i.csv"), batchSize: 1)
            #expect(try numbers.next()?.labels == [7])
            #expect(numbers.classCount == 8)
            #expect(try numbers.next()?.labels == [2])
            #expect(numbers.classCount == 8)
        }
    }

    @Test("a bad row stops the stream, names its line, and no partial batch escapes")
    func failPolicy() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("f.csv")
            var text = csvRows(0..<6)
            text += "1,2,x,4\n"
            text += csvRows(7..<9)
            try writeText(text, to: path)
            let source = try CSVSource(path: path, batchSize: 4)
            #expect(try source.next()?.count == 4)
            let error = dataError { _ = try source.next() }
            #expect(error == .nonNumericField(at: DataLocation(source: path, line: 7, column: 3), text: "x"))
            #expect(source.position.samplesDelivered == 4)
            #expect(dataError { _ = try source.next() } == error)
        }
    }

    @Test("bad input on a stream, each named by its row",
          arguments: [
              ("0,1,2\n1,2\n", "line 2: the data has 1 features per sample, but 2 were expected"),
              ("0,1,2\n1,2,abc\n", "line 2, column 3: the field 'abc' is not a number"),
              ("0,1,2\n1,1e39,2\n", "line 2, column 2: the value '1e39' is not finite"),
              ("0,1,2\n1,2,-inf\n", "line 2, column 3: the value '-inf' is not finite"),
              ("0,1,2\n5,2,2\n", "line 2, column 1: the label '5' is not one of the declared classes (0..<2)"),
              ("0,1,2,3\n", "line 1: the data has 3 features per sample, but 2 were expected"),
          ])
    func badRows(text: String, message: String) throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("bad.csv")
            try writeText(text, to: path)
            var source = try CSVSource(path: path, inputWidth: 2, labels: .integers(classCount: 2))
            let error = dataError { _ = try drain(&source) }
            #expect(error?.description.hasPrefix("\(path), \(message)") == true, "\(String(describing: error))")

            // Skipped and counted instead, when asked; good rows still arrive.
            var lenient = try CSVSource(path: path, inputWidth: 2, labels: .integers(classCount: 2), badRows: .skip)
            let delivered = dataError { _ = try drain(&lenient) }
            let skipped = lenient.position.skipped
            #expect(skipped.total == 1)
            #expect(skipped.lastMessage?.hasPrefix("\(path), \(message)") == true)
            #expect(delivered == (text.hasPrefix("0,1,2,3") ? .emptyStream(source: path) : nil))
        }
    }

    @Test("a stream resumed from a saved position continues exactly where it stopped")
    func resumeCSV() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("r.csv")
            let names = ["a", "b", "c", "d", "e"]
            try writeText("x,y,z,label\n" + csvRows(0..<11, label: { names[$0 * 3 % 5] })
                .split(separator: "\n").map { line -> String in
                    let fields = line.split(separator: ",")
                    return (fields.dropFirst() + [fields[0]]).joined(separator: ",")
                }.joined(separator: "\n\n"), to: path)
            let format = CSVFormat(labelColumn: .name("label"))
            var whole = try CSVSource(path: path, format: format, batchSize: 3)
            let expected = try drain(&whole)

            let first = try CSVSource(path: path, format: format, batchSize: 3)
            let head = [try first.next()!, try first.next()!]
            let saved = try JSONDecoder().decode(StreamPosition.self, from: JSONEncoder().encode(first.position))
            #expect(saved == first.position && saved.rowsRead == 6)

            var second = try CSVSource(path: path, format: format, batchSize: 3)
            try second.resume(from: saved)
            let tail = try drain(&second)
            #expect(head + tail == expected)
            #expect(second.labelMap == whole.labelMap)
            #expect(second.position.samplesDelivered == 11)
        }
    }

    @Test("standard input: CSV lines (plain or gzip) through a pipe, across read chunks")
    func pipe() throws {
        let text = csvRows(0..<1500, width: 4)  // ~45 KB: several 16 KiB chunks, under a pipe's buffer
        #expect(text.utf8.count > 40_000 && text.utf8.count < 60_000)
        for compressed in [false, true] {
            let pipe = Pipe()
            var bytes = Array(text.utf8)
            if compressed {
                try withTemporaryDirectory { dir in
                    try Gzip.write(bytes, to: dir.path("t.gz"))
                    bytes = try readFileBytes(dir.path("t.gz"))
                }
            }
            pipe.fileHandleForWriting.write(Data(bytes))
            try pipe.fileHandleForWriting.close()
            var source = try CSVSource(fileHandle: pipe.fileHandleForReading, name: "standard input", batchSize: 500)
            let batches = try drain(&source)
            #expect(batches.map(\.count) == [500, 500, 500])
            #expect(batches[2].features[499, 3] == Float(1499) + 0.3)
            #expect(batches.flatMap(\.labels) == (0..<1500).map { $0 % 4 })
            try pipe.fileHandleForReading.close()
        }
    }

    @Test("lines longer than the read chunk grow the buffer and still parse")
    func wideLines() throws {
        let width = 6000  // about 24 KB per line, over the 16 KiB chunk used for descriptors
        func value(_ j: Int, _ r: Int) -> Float { Float(j % 97) / 4 + Float(r) }
        let lines: [String] = (0..<2).map { (r: Int) -> String in
            let fields: [String] = (0..<width).map { (j: Int) -> String in String(value(j, r)) }
            return String(r) + "," + fields.joined(separator: ",")
        }
        let pipe = Pipe()
        pipe.fileHandleForWriting.write(Data(lines.joined(separator: "\n").utf8))
        try pipe.fileHandleForWriting.close()
        var source = try CSVSource(fileHandle: pipe.fileHandleForReading, name: "wide", batchSize: 8)
        let batches = try drain(&source)
        #expect(batches.count == 1 && batches[0].features.shape == [2, width])
        let expected: [Float] = (0..<width).map { (j: Int) -> Float in value(j, 1) }
        #expect(batches[0].features.row(1) == expected)
        #expect(batches[0].labels == [0, 1])
        try pipe.fileHandleForReading.close()
    }

    @Test("an empty standard input is an empty stream")
    func emptyPipe() throws {
        let pipe = Pipe()
        try pipe.fileHandleForWriting.close()
        let source = try CSVSource(fileHandle: pipe.fileHandleForReading, name: "standard input")
        let error = dataError { _ = try source.next() }
        #expect(error == .emptyStream(source: "standard input"))
        #expect(error?.description == "standard input: there are no samples in it.")
    }

    @Test("IDX files stream in batches, resume, and check labels and width")
    func idxSource() throws {
        try withTemporaryDirectory { dir in
            let (images, labels) = tinyImages(count: 7)
            try IDX.write(images, to: dir.path("i.gz"))
            try IDX.write(labels, to: dir.path("l.gz"))
            let whole = try IDX.loadDataset(images: dir.path("i.gz"), labels: dir.path("l.gz"))
            var source = try IDXSource(images: dir.path("i.gz"), labels: dir.path("l.gz"), batchSize: 3)
            let batches = try drain(&source)
            #expect(batches.map(\.count) == [3, 3, 1])
            #expect(batches.flatMap(\.features.scalars) == whole.features.scalars)
            #expect(batches.flatMap(\.labels) == whole.labels)
            #expect(batches[0].labels.count == 3 && source.classCount == 3)

            let first = try IDXSource(images: dir.path("i.gz"), labels: dir.path("l.gz"), batchSize: 3)
            _ = try first.next()
            var resumed = try IDXSource(images: dir.path("i.gz"), labels: dir.path("l.gz"), batchSize: 3)
            try resumed.resume(from: first.position)
            #expect(try drain(&resumed) == Array(batches.dropFirst()))

            let narrow = dataError {
                _ = try IDXSource(images: dir.path("i.gz"), labels: dir.path("l.gz"), inputWidth: 784)
            }
            #expect(narrow == .widthMismatch(at: DataLocation(source: dir.path("i.gz")), expected: 784, actual: 6))

            try IDX.write(IDXArray(dimensions: [7], bytes: [0, 1, 2, 9, 1, 0, 9]), to: dir.path("bad.gz"))
            var strict = try IDXSource(images: dir.path("i.gz"), labels: dir.path("bad.gz"), batchSize: 3, classCount: 3)
            let error = dataError { _ = try drain(&strict) }
            #expect(error?.description.hasPrefix("\(dir.path("bad.gz")), item 4: the label '9'") == true)
            var lenient = try IDXSource(images: dir.path("i.gz"), labels: dir.path("bad.gz"), batchSize: 3,
                                        classCount: 3, badRows: .skip)
            let kept = try drain(&lenient)
            #expect(kept.flatMap(\.labels) == [0, 1, 2, 1, 0])
            #expect(kept.map(\.count) == [3, 2])
            #expect(kept[1].features == whole.features.gatherRows([4, 5]))
            #expect(lenient.position.skipped.badLabel == 2)
        }
    }

    @Test("a data set source is seeded, runs several passes and resumes mid-pass")
    func datasetSource() throws {
        let dataset = Dataset(features: Matrix(rows: 7, columns: 1, scalars: (0..<7).map(Float.init)),
                              labels: [0, 1, 2, 0, 1, 2, 3], name: "seven")
        var a = DatasetSource(dataset: dataset, batchSize: 3, passes: 2, shuffleSeed: 9)
        var b = DatasetSource(dataset: dataset, batchSize: 3, passes: 2, shuffleSeed: 9)
        let batches = try drain(&a)
        #expect(try drain(&b) == batches)
        #expect(batches.map(\.count) == [3, 3, 1, 3, 3, 1])
        let firstPass = batches.prefix(3).flatMap { $0.features.scalars.map { Int($0) } }
        let secondPass = batches.suffix(3).flatMap { $0.features.scalars.map { Int($0) } }
        #expect(firstPass.sorted() == Array(0..<7) && secondPass.sorted() == Array(0..<7))
        #expect(firstPass != secondPass)
        #expect(batches.map(\.pass) == [0, 0, 0, 1, 1, 1])

        for consumed in [1, 2, 3, 4] {
            var head = DatasetSource(dataset: dataset, batchSize: 3, passes: 2, shuffleSeed: 9)
            for _ in 0..<consumed { _ = try head.next() }
            var tail = DatasetSource(dataset: dataset, batchSize: 3, passes: 2, shuffleSeed: 9)
            try tail.resume(from: head.position)
            #expect(try drain(&tail).map(\.features) == batches.dropFirst(consumed).map(\.features))
        }
        var empty = DatasetSource(dataset: dataset.subset([Int]()))
        #expect(dataError { _ = try empty.next() } == .emptyStream(source: "seven"))
    }
}
