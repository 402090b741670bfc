import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The only file that calls zlib. No zlib handle or C pointer leaves it.

/// A file read through zlib's `gzread`, which decompresses gzip and passes plain files
/// through unchanged, so every reader in this module accepts `name` and `name.gz` alike.
///
/// A file whose name ends in `.gz` must really be gzip; a gzip stream that ends early or
/// fails its checksum is reported as corrupt, never returned as short data.
final class GzipFile {
    /// What the file is called in error messages (its path, or "standard input").
    let name: String
    private var handle: gzFile?
    private var checkedFormat = false
    private let mustBeGzip: Bool
    /// Text written as UTF-16 (told by its byte-order mark; Excel's "Unicode Text" and
    /// Windows' exports): read as the same text in UTF-8, so that every reader after this
    /// one sees UTF-8. Nil for any other data, passed through as it is.
    private var utf16: UTF16Text?

    /// Opens `path` for reading.
    init(path: String) throws(DataError) {
        name = path
        mustBeGzip = path.hasSuffix(".gz")
        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .fileNotFound(path: path) }
            throw .unreadable(path: path, reason: String(cString: strerror(code)))
        }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw .unreadable(path: path, reason: "it is a directory") }
        guard let opened = gzopen(path, "rb") else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        handle = opened
        _ = gzbuffer(opened, 1 << 20)
    }

    /// Reads from an open file descriptor (standard input, a pipe). The descriptor is
    /// duplicated, so the caller keeps ownership of its own.
    init(fileDescriptor: Int32, name: String) throws(DataError) {
        self.name = name
        mustBeGzip = false
        let copy = dup(fileDescriptor)
        guard copy >= 0, let opened = gzdopen(copy, "rb") else {
            let reason = String(cString: strerror(errno))
            if copy >= 0 { close(copy) }
            throw .unreadable(path: name, reason: reason)
        }
        handle = opened
        _ = gzbuffer(opened, 1 << 16)
    }

    deinit { if let handle { gzclose_r(handle) } }

    /// Reads up to `buffer.count` bytes into `buffer`; returns how many were read, 0 at
    /// the end of the data.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(DataError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        if !checkedFormat {
            // The first bytes tell UTF-16 by its mark; everything else reads as it is.
            let total = try readRaw(into: buffer)
            guard let text = UTF16Text(first: UnsafeRawBufferPointer(start: base, count: total)) else { return total }
            utf16 = text
            try utf16!.add(UnsafeRawBufferPointer(start: base, count: total), name: name)
        }
        guard utf16 != nil else { return try readRaw(into: buffer) }
        // UTF-8 takes at most 3 bytes for 2 of UTF-16: read raw in pieces until the buffer
        // is full or the data ends.
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: max(2, buffer.count / 2), alignment: 8)
        defer { raw.deallocate() }
        while utf16!.output.count - utf16!.taken < buffer.count && !utf16!.ended {
            let got = try readRaw(into: raw)
            if got == 0 {
                try utf16!.finish(name: name)
            } else {
                try utf16!.add(UnsafeRawBufferPointer(rebasing: raw[0 ..< got]), name: name)
            }
        }
        return utf16!.take(into: buffer)
    }

    /// Reads up to `buffer.count` bytes of the data as they are (decompressed).
    private func readRaw(into buffer: UnsafeMutableRawBufferPointer) throws(DataError) -> Int {
        guard let handle else { preconditionFailure("Reading \(name) after it was closed") }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        var total = 0
        while total < buffer.count {
            let chunk = UInt32(min(buffer.count - total, 1 << 30))
            let got = gzread(handle, base + total, chunk)
            if got < 0 { throw zlibError(handle) }
            if !checkedFormat && (got > 0 || total > 0) {
                try checkFormat(handle, first: UnsafeRawBufferPointer(start: base, count: total + Int(got)))
            }
            if got == 0 {
                // zlib reports a gzip stream cut short as Z_BUF_ERROR and returns 0.
                var code: Int32 = 0
                _ = gzerror(handle, &code)
                if code != Z_OK { throw zlibError(handle) }
                break
            }
            total += Int(got)
        }
        return total
    }

    /// Reads into `bytes[range]`; returns how many bytes were read (fewer than
    /// `range.count` only at the end of the data).
    func read(into bytes: inout [UInt8], range: Range<Int>) throws(DataError) -> Int {
        let result = bytes.withUnsafeMutableBytes { p in
            Result { () throws(DataError) -> Int in try read(into: UnsafeMutableRawBufferPointer(rebasing: p[range])) }
        }
        return try result.get()
    }

    /// Reads `count` bytes, or fewer only at the end of the data.
    func readBytes(_ count: Int) throws(DataError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try read(into: &bytes, range: 0..<count)
        if got < count { bytes.removeSubrange(got...) }
        return bytes
    }

    /// Refuses a `.gz` name over plain data, and data that another compressor wrote: read
    /// as it is, a zip or xz file was called "not UTF-8 text" (a NUL byte) or read as rows
    /// of noise. `first`: the first bytes read.
    private func checkFormat(_ handle: gzFile, first: UnsafeRawBufferPointer) throws(DataError) {
        checkedFormat = true
        guard gzdirect(handle) != 0 else { return }
        if mustBeGzip { throw .notGzip(path: name) }
        // `pipe`: the command that writes the text to standard output, which any command
        // reads (`--source stdin`, or a pipe's path) as a file.
        let magics: [(bytes: [UInt8], kind: String, undo: String, pipe: String)] = [
            ([0x50, 0x4B, 0x03, 0x04], "a zip archive", "unzip it", "unzip -p"),
            ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], "xz-compressed", "unxz it", "xzcat"),
            ([0x28, 0xB5, 0x2F, 0xFD], "zstd-compressed", "unzstd it", "zstdcat"),
            ([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C], "a 7z archive", "extract it", "7z x -so"),
            ([0x42, 0x5A, 0x68], "bzip2-compressed", "bunzip2 it", "bzcat"),
        ]
        func opens(_ bytes: [UInt8]) -> Bool { first.count >= bytes.count && zip(first, bytes).allSatisfy { $0 == $1 } }
        // Files of other programs, told by their first bytes: read as text, each was "not
        // UTF-8" or a row of noise at line 1; a spreadsheet was "a zip archive: unzip it".
        if let other = Self.otherProgramsFile(first, opens: opens) {
            throw .unreadable(path: name, reason: "it is \(other.kind), not text: \(other.remedy)")
        }
        for magic in magics where opens(magic.bytes) {
            // bzip2's "BZh" is followed by its block size, a digit 1-9.
            if magic.bytes.count == 3 && !(first.count > 3 && (0x31...0x39).contains(first[3])) { continue }
            throw .unreadable(path: name, reason: "it is \(magic.kind), and only gzip is read: \(magic.undo) first, gzip the file, "
                + "or read it from a pipe ('\(magic.pipe) FILE | moe … --source stdin')")
        }
    }

    /// What a file of another program is and how to get its rows as CSV, told by its first
    /// bytes: spreadsheets (Excel's `.xlsx` and `.xls`, OpenDocument's `.ods`), Parquet,
    /// Arrow and Feather, numpy's `.npy` and `.npz`, HDF5, SQLite and PDF.
    private static func otherProgramsFile(_ first: UnsafeRawBufferPointer, opens: ([UInt8]) -> Bool) -> (kind: String, remedy: String)? {
        let head = String(decoding: first.prefix(4096), as: UTF8.self)
        let sheet = "save the sheet as CSV (UTF-8), or with pandas: pd.read_excel(FILE).to_csv('rows.csv', index=False)"
        if opens([0x50, 0x4B, 0x03, 0x04]) {
            if head.contains("application/vnd.oasis.opendocument.spreadsheet") {
                return ("an OpenDocument spreadsheet (.ods)", sheet)
            }
            if head.contains("xl/") { return ("an Excel workbook (.xlsx)", sheet) }
            if head.contains(".npy") && !head.contains("/") {
                return ("numpy's .npz archive of arrays", "write the rows with np.savetxt('rows.csv', np.column_stack([X, y]), delimiter=',')")
            }
            return nil
        }
        if opens([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            return ("an Excel 97-2003 workbook (.xls) or another old Office file", sheet)
        }
        if opens(Array("PAR1".utf8)) {
            return ("a Parquet file", "write it as CSV, with pandas: pd.read_parquet(FILE).to_csv('rows.csv', index=False)")
        }
        if opens(Array("ARROW1".utf8)) {
            return ("an Arrow or Feather file", "write it as CSV, with pandas: pd.read_feather(FILE).to_csv('rows.csv', index=False)")
        }
        if opens([0x93] + Array("NUMPY".utf8)) {
            return ("a numpy array (.npy)", "write the rows with np.savetxt('rows.csv', np.column_stack([X, y]), delimiter=',')")
        }
        if opens([0x89] + Array("HDF\r\n".utf8) + [0x1A, 0x0A]) {
            return ("an HDF5 file", "a checkpoint is read by moe eval, moe predict and moe inspect; data in HDF5 needs writing as CSV first")
        }
        if opens(Array("SQLite format 3".utf8) + [0]) {
            return ("an SQLite database", "export the table as CSV (sqlite3 -header -csv FILE 'select * from TABLE' > rows.csv)")
        }
        if opens(Array("%PDF-".utf8)) {
            return ("a PDF document", "export its table as CSV")
        }
        return nil
    }

    private func zlibError(_ handle: gzFile) -> DataError {
        var code: Int32 = 0
        let message = gzerror(handle, &code).map { String(cString: $0) } ?? "unknown zlib error"
        if code == Z_ERRNO { return .unreadable(path: name, reason: String(cString: strerror(errno))) }
        if code == Z_BUF_ERROR { return .corruptGzip(path: name, reason: "the compressed data ends early (\(message))") }
        return .corruptGzip(path: name, reason: message)
    }
}

/// UTF-16 text turned into UTF-8 as it is read: little- or big-endian, as its byte-order
/// mark says (the mark becomes UTF-8's, which the line reader takes off). A surrogate
/// pair split between two reads, or a byte of a code unit, waits for the next.
struct UTF16Text {
    let bigEndian: Bool
    /// UTF-8 bytes made and not yet handed out (from `taken` on).
    private(set) var output: [UInt8] = []
    private(set) var taken = 0
    private(set) var ended = false
    private var odd: UInt8?
    private var highSurrogate: UInt16?
    private var units = 0

    /// Nil unless `first` opens with a UTF-16 byte-order mark (FF FE or FE FF), not
    /// followed by two zero bytes (UTF-32's little-endian mark, FF FE 00 00).
    init?(first: UnsafeRawBufferPointer) {
        guard first.count >= 2 else { return nil }
        if first[0] == 0xFF && first[1] == 0xFE && !(first.count >= 4 && first[2] == 0 && first[3] == 0) {
            bigEndian = false
        } else if first[0] == 0xFE && first[1] == 0xFF {
            bigEndian = true
        } else {
            return nil
        }
    }

    /// Turns `bytes` (the next raw bytes) into UTF-8.
    mutating func add(_ bytes: UnsafeRawBufferPointer, name: String) throws(DataError) {
        if taken > 0 {
            output.removeSubrange(0 ..< taken)
            taken = 0
        }
        var i = 0
        while i < bytes.count {
            let a: UInt8, b: UInt8
            if let first = odd {
                a = first
                b = bytes[i]
                odd = nil
                i += 1
            } else if i + 1 < bytes.count {
                a = bytes[i]
                b = bytes[i + 1]
                i += 2
            } else {
                odd = bytes[i]
                break
            }
            units += 1
            try unit(bigEndian ? UInt16(a) << 8 | UInt16(b) : UInt16(b) << 8 | UInt16(a), name: name)
        }
    }

    /// The end of the data: a lone byte or high surrogate left is an error.
    mutating func finish(name: String) throws(DataError) {
        ended = true
        if odd != nil {
            throw .unreadable(path: name, reason: "it is UTF-16 text (its byte-order mark says so) whose last character is cut in half")
        }
        if highSurrogate != nil { try unit(0, name: name) }
    }

    /// Hands out up to `buffer.count` bytes of UTF-8 made.
    mutating func take(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = min(buffer.count, output.count - taken)
        guard count > 0 else { return 0 }
        output.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + taken, byteCount: count) }
        taken += count
        return count
    }

    private mutating func unit(_ u: UInt16, name: String) throws(DataError) {
        let scalar: UInt32
        if let high = highSurrogate {
            highSurrogate = nil
            guard (0xDC00...0xDFFF).contains(u) else { throw broken(name) }
            scalar = 0x10000 + (UInt32(high - 0xD800) << 10) + UInt32(u - 0xDC00)
        } else if (0xD800...0xDBFF).contains(u) {
            highSurrogate = u
            return
        } else if (0xDC00...0xDFFF).contains(u) {
            throw broken(name)
        } else {
            scalar = UInt32(u)
        }
        switch scalar {
        case 0 ..< 0x80:
            output.append(UInt8(scalar))
        case 0x80 ..< 0x800:
            output.append(UInt8(0xC0 | scalar >> 6))
            output.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800 ..< 0x10000:
            output.append(UInt8(0xE0 | scalar >> 12))
            output.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            output.append(UInt8(0x80 | scalar & 0x3F))
        default:
            output.append(UInt8(0xF0 | scalar >> 18))
            output.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            output.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            output.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    private func broken(_ name: String) -> DataError {
        .unreadable(path: name, reason: "it is UTF-16 text (its byte-order mark says so) with a broken surrogate pair at its character \(units)")
    }
}

/// Writing gzip files (test fixtures, exported data).
public enum Gzip {
    /// Writes `bytes` to `path`, gzip-compressed at `level` (1 fastest ... 9 smallest).
    public static func write(_ bytes: [UInt8], to path: String, level: Int = 6) throws(DataError) {
        precondition((1...9).contains(level), "A gzip level is 1...9")
        guard let file = gzopen(path, "wb\(level)") else {
            throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
        var offset = 0
        var failure: DataError?
        bytes.withUnsafeBytes { p in
            while offset < p.count {
                let chunk = UInt32(min(p.count - offset, 1 << 30))
                let wrote = gzwrite(file, p.baseAddress! + offset, chunk)
                if wrote <= 0 {
                    failure = .writeFailed(path: path, reason: String(cString: strerror(errno)))
                    return
                }
                offset += Int(wrote)
            }
        }
        let closed = gzclose_w(file)
        if let failure { throw failure }
        if closed != Z_OK { throw .writeFailed(path: path, reason: "zlib could not finish the file (code \(closed))") }
    }
}
