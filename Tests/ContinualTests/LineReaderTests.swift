import Foundation
import Testing
import TestSupport
@testable import Continual

@Suite("Line reader")
struct LineReaderTests {
    @Test("a line longer than the bound is refused with its number, however far the buffer grew; lines within it are read")
    func lineTooLong() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("long.csv")
            // Chunks of 1 KiB and a bound of 40 KiB: the buffer grows to 64 KiB for the
            // long line, and a line of 50 KiB fitted it. It was read before: the bound was
            // checked only before the buffer grew.
            let long = String(repeating: "z", count: 50 * 1024)
            try writeText("a,b\n1,\(String(repeating: "y", count: 30 * 1024))\n2,\(long)\n3,x\n", to: path)
            let reader = LineReader(file: try GzipFile(path: path), chunkSize: 1024, maxLineLength: 40 * 1024)
            var lengths: [Int] = []
            let error = dataError {
                while let n = try reader.withNextLine({ $0.count }) { lengths.append(n) }
            }
            #expect(lengths == [3, 2 + 30 * 1024])
            #expect(error == .lineTooLong(at: DataLocation(source: path, line: 3), limit: 40 * 1024))
        }
    }

    @Test("a file another compressor wrote is refused by name (zip, xz, zstd, 7z, bzip2), not read as text")
    func otherCompressors() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("rows.csv")
            for (magic, kind) in [([0x50, 0x4B, 0x03, 0x04], "a zip archive"), ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], "xz-compressed"),
                                  ([0x28, 0xB5, 0x2F, 0xFD], "zstd-compressed"), ([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C], "a 7z archive"),
                                  ([0x42, 0x5A, 0x68, 0x39], "bzip2-compressed")] as [([UInt8], String)] {
                try writeFileBytes(magic + Array("\u{0}\u{1}rest,1,0\n".utf8), to: path)
                guard case let .unreadable(at, reason)? = dataError({ _ = try CSV.load(path: path) }) else {
                    Issue.record("\(kind) was read")
                    continue
                }
                #expect(at == path && reason.hasPrefix("it is \(kind), and only gzip is read"), "\(reason)")
                #expect(reason.contains(" FILE | moe … --source stdin')"), "\(reason)")
            }
            // Text that begins as bzip2 does, but without its block size, is text.
            try writeText("BZhx,1\nBZhy,0\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) } == nil)
        }
    }

    @Test("a file of another program (a spreadsheet, Parquet, Arrow, numpy, HDF5, SQLite, PDF) is named, with how to write it as CSV")
    func otherProgramsFiles() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("rows.csv")
            let zipHeader: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 26)
            let cases: [([UInt8], String)] = [
                (zipHeader + Array("[Content_Types].xml<Types/>xl/workbook.xml".utf8), "an Excel workbook (.xlsx), not text: save the sheet as CSV"),
                (zipHeader + Array("mimetypeapplication/vnd.oasis.opendocument.spreadsheet".utf8), "an OpenDocument spreadsheet (.ods)"),
                (zipHeader + Array("x.npy".utf8), "numpy's .npz archive"),
                ([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0], "an Excel 97-2003 workbook (.xls)"),
                (Array("PAR1".utf8) + [0, 0, 1], "a Parquet file, not text: write it as CSV"),
                (Array("ARROW1".utf8) + [0, 0], "an Arrow or Feather file"),
                ([0x93] + Array("NUMPY".utf8) + [1, 0], "a numpy array (.npy)"),
                ([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A, 0], "an HDF5 file"),
                (Array("SQLite format 3".utf8) + [0, 16], "an SQLite database"),
                (Array("%PDF-1.7\n".utf8), "a PDF document"),
            ]
            for (bytes, words) in cases {
                try writeFileBytes(bytes, to: path)
                guard case let .unreadable(at, reason)? = dataError({ _ = try CSV.load(path: path) }) else {
                    Issue.record("\(words): read")
                    continue
                }
                #expect(at == path && reason.hasPrefix("it is " + words), "\(reason)")
            }
            // Any other zip archive is still one to unzip.
            try writeFileBytes(zipHeader + Array("rows.csv1,2,0".utf8), to: path)
            #expect(dataError { _ = try CSV.load(path: path) }?.description.contains("it is a zip archive, and only gzip is read") == true)
        }
    }

    /// Every record of `text` as the reader hands it out, with its line number, read in
    /// chunks of `chunk` bytes (small chunks put record ends and quotes across refills).
    private func records(_ text: String, chunk: Int, in dir: TemporaryDirectory) throws -> [(String, Int)] {
        let path = dir.path("records.csv")
        try writeText(text, to: path)
        let reader = LineReader(file: try GzipFile(path: path), chunkSize: chunk)
        var out: [(String, Int)] = []
        while let line = try reader.withNextLine({ String(decoding: $0, as: UTF8.self) }) { out.append((line, reader.lineNumber)) }
        return out
    }

    @Test("a line end inside a quoted field is data: the record goes on, and line numbers count the file's lines")
    func quotedLineEnds() throws {
        try withTemporaryDirectory { dir in
            // A note over two and three lines (LF, CRLF, a lone CR), a doubled quote, an
            // empty quoted field: the stream stopped at the second line before ("the row
            // has 1 field").
            let text = "a,note,label\n1,\"two\nlines\",x\r\n2,\"three\r\nmore \"\"quoted\"\"\rlines\",y\n3,\"\",x\n4,plain,y"
            let expected = [("a,note,label", 1), ("1,\"two\nlines\",x", 2), ("2,\"three\r\nmore \"\"quoted\"\"\rlines\",y", 4),
                            ("3,\"\",x", 7), ("4,plain,y", 8)]
            for chunk in [1, 2, 3, 5, 8, 1 << 18] {
                let got = try records(text, chunk: chunk, in: dir)
                #expect(got.map(\.0) == expected.map(\.0), "chunk \(chunk)")
                #expect(got.map(\.1) == expected.map(\.1), "chunk \(chunk)")
            }
            // Through the source: the note is a category whose values hold their line ends,
            // and an error names the file's line.
            let path = dir.path("notes.csv")
            try writeText(text + "\n5,\"a\nb\",x,extra\n", to: path)
            let source = try CSVSource(path: path, format: CSVFormat(labelColumn: .last, hasHeader: true), batchSize: 1)
            var labels: [Int] = []
            let error = dataError { while let batch = try source.next() { labels += batch.labels } }
            #expect(labels == [0, 1, 0, 1])
            #expect(source.textLayout?.values.first?.prefix(2) == ["two\nlines", "three\r\nmore \"quoted\"\rlines"])
            #expect(error == .raggedRow(at: DataLocation(source: path, line: 9), expectedColumns: 3, actualColumns: 4))
        }
    }

    @Test("a quote inside a field opens nothing; a quoted field never closed is refused, naming the line it opened on")
    func quotesThatOpenNothing() throws {
        try withTemporaryDirectory { dir in
            // `12"` is a character: the lone CR after it ends the line (an odd count of
            // quotes on the line kept it as data before, and the two rows were one).
            let inch = try records("1,12\" screen,x\r2,3,y\r", chunk: 4, in: dir)
            #expect(inch.map(\.0) == ["1,12\" screen,x", "2,3,y"] && inch.map(\.1) == [1, 2])
            // After blanks, or after ';', tab or '|', a quote opens a field.
            let opened = try records("1; \"a\nb\";x\n2|\t\"c\nd\"|y\n", chunk: 3, in: dir)
            #expect(opened.map(\.0) == ["1; \"a\nb\";x", "2|\t\"c\nd\"|y"])
            // Never closed: every later line would have been its text.
            let path = dir.path("open.csv")
            try writeText("a,b,label\n1,2,x\n3,\"open,y\n4,5,x\n6,7,y\n", to: path)
            let open = dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last, hasHeader: true)) }
            #expect(open == .unclosedQuote(at: DataLocation(source: path, line: 3)))
            #expect(open?.description.hasPrefix("\(path), line 3: a field of this row opens a quote that no quote closes") == true)
            // Held open past the reader's bound, the same error rather than "not a text file".
            try writeText("1,x\n2,\"" + String(repeating: "y,\n", count: 2000) + "3,z\n", to: path)
            let reader = LineReader(file: try GzipFile(path: path), chunkSize: 256, maxLineLength: 4096)
            let bounded = dataError { while try reader.withNextLine({ $0.count }) != nil {} }
            #expect(bounded == .unclosedQuote(at: DataLocation(source: path, line: 2)))
        }
    }

    @Test("a file's records with their lines, and each row's line as the stream read it: header, blank lines, CRLF and a quoted field over two lines")
    func recordsAndRowLines() throws {
        try withTemporaryDirectory { dir in
            let path = dir.path("rows.csv")
            try writeText("x,note,class\r\n1,plain,a\r\n\r\n2,\"two\r\nlines\",b\r\n3,after,a\r\n", to: path)
            let records = try CSVSource.Records(path: path)
            #expect(records.lines == [1, 2, 3, 4, 6])
            let texts = records.lines.indices.map { String(decoding: records.record($0), as: UTF8.self) }
            #expect(texts == ["x,note,class", "1,plain,a", "", "2,\"two\r\nlines\",b", "3,after,a"])
            #expect(records.index(ofLine: 4) == 3 && records.index(ofLine: 5) == nil && records.index(ofLine: 7) == nil)
            let csv = try CSVSource(path: path, format: CSVFormat(labelColumn: .last, hasHeader: true), batchSize: 2)
            csv.recordsRowLines = true
            while try csv.next() != nil {}
            #expect(csv.rowLines == [2, 4, 6])
        }
    }
}
