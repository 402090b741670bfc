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
        let magics: [(bytes: [UInt8], kind: String, undo: String)] = [
            ([0x50, 0x4B, 0x03, 0x04], "a zip archive", "unzip it"),
            ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], "xz-compressed", "unxz it"),
            ([0x28, 0xB5, 0x2F, 0xFD], "zstd-compressed", "unzstd it"),
            ([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C], "a 7z archive", "extract it"),
            ([0x42, 0x5A, 0x68], "bzip2-compressed", "bunzip2 it"),
        ]
        for magic in magics where first.count >= magic.bytes.count && zip(first, magic.bytes).allSatisfy({ $0 == $1 }) {
            // bzip2's "BZh" is followed by its block size, a digit 1-9.
            if magic.bytes.count == 3 && !(first.count > 3 && (0x31...0x39).contains(first[3])) { continue }
            throw .unreadable(path: name, reason: "it is \(magic.kind), and only gzip is read: \(magic.undo) first (or gzip the file)")
        }
    }

    private func zlibError(_ handle: gzFile) -> DataError {
        var code: Int32 = 0
        let message = gzerror(handle, &code).map { String(cString: $0) } ?? "unknown zlib error"
        if code == Z_ERRNO { return .unreadable(path: name, reason: String(cString: strerror(errno))) }
        if code == Z_BUF_ERROR { return .corruptGzip(path: name, reason: "the compressed data ends early (\(message))") }
        return .corruptGzip(path: name, reason: message)
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
