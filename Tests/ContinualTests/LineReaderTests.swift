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
            }
            // Text that begins as bzip2 does, but without its block size, is text.
            try writeText("BZhx,1\nBZhy,0\n", to: path)
            #expect(dataError { _ = try CSV.load(path: path, format: CSVFormat(labelColumn: .last)) } == nil)
        }
    }
}
