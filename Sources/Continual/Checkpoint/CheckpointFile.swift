import Foundation
import HDF5Kit

#if canImport(Glibc)
import Glibc
#endif

/// The 512-byte header in the HDF5 user block of a checkpoint file, and the digest that
/// lets a load verify the whole file before libhdf5 parses a byte of it.
///
/// Layout (little-endian; offsets 0, 8 and 504 are fixed for every format version):
///
/// ```
/// offset  size  field
///      0     8  magic "MOE-CKPT"
///      8     4  format version (1)
///     12     4  header size (512)
///     16     8  payload length: bytes after the header (the HDF5 file proper)
///     24     4  digest algorithm (1 = XXH64, seed 0)
///     28     4  reserved (0)
///     32     8  digest of the payload
///     40    96  a line of text for people who `head` the file, NUL-padded
///    136   368  zeros
///    504     8  XXH64 of bytes 0..<504 (the header's own digest)
/// ```
struct CheckpointHeader: Equatable {
    static let size = 512
    static let magic: [UInt8] = Array("MOE-CKPT".utf8)
    static let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
    static let xxh64Algorithm: UInt32 = 1

    var version: Int
    var payloadLength: Int
    var payloadDigest: UInt64

    /// The 512 header bytes.
    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        bytes.replaceSubrange(0..<8, with: Self.magic)
        put(UInt32(version), at: 8, in: &bytes)
        put(UInt32(Self.size), at: 12, in: &bytes)
        put(UInt64(payloadLength), at: 16, in: &bytes)
        put(Self.xxh64Algorithm, at: 24, in: &bytes)
        put(payloadDigest, at: 32, in: &bytes)
        let note = Array("moe checkpoint v\(version): an HDF5 file with a 512-byte user block\n".utf8.prefix(96))
        bytes.replaceSubrange(40..<(40 + note.count), with: note)
        put(XXHash64.hash(bytes, range: 0..<504), at: 504, in: &bytes)
        return bytes
    }

    /// Reads and checks the header at the start of `bytes` (the whole file).
    static func decode(_ bytes: [UInt8], file: String) throws(CheckpointError) -> CheckpointHeader {
        if bytes.isEmpty { throw .notACheckpoint(file: file, reason: "the file is empty") }
        let prefix = Array(bytes.prefix(8))
        guard prefix == magic else {
            if prefix == hdf5Signature {
                throw .notACheckpoint(file: file, reason: "it is an HDF5 file without a checkpoint header (not written by this library, or rewritten by another tool)")
            }
            if bytes.count < 8 && prefix == Array(magic.prefix(bytes.count)) {
                throw .truncated(file: file, expectedBytes: size, actualBytes: bytes.count)
            }
            throw .notACheckpoint(file: file, reason: "it does not start with the checkpoint signature 'MOE-CKPT'")
        }
        guard bytes.count >= size else { throw .truncated(file: file, expectedBytes: size, actualBytes: bytes.count) }
        let stored = get(UInt64.self, at: 504, in: bytes)
        let computed = XXHash64.hash(bytes, range: 0..<504)
        guard stored == computed else { throw .corruptHeader(file: file, reason: "its digest does not match its content") }
        let version = Int(get(UInt32.self, at: 8, in: bytes))
        guard version == Checkpoint.formatVersion else { throw .unsupportedVersion(file: file, version: version) }
        guard get(UInt32.self, at: 12, in: bytes) == UInt32(size) else {
            throw .corruptHeader(file: file, reason: "header size is not \(size)")
        }
        guard get(UInt32.self, at: 24, in: bytes) == xxh64Algorithm else {
            throw .corruptHeader(file: file, reason: "unknown digest algorithm")
        }
        let length = get(UInt64.self, at: 16, in: bytes)
        guard length <= UInt64(Int.max - size) else { throw .corruptHeader(file: file, reason: "impossible payload length") }
        return CheckpointHeader(version: version, payloadLength: Int(length), payloadDigest: get(UInt64.self, at: 32, in: bytes))
    }

    private func put<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + MemoryLayout<T>.size), with: $0) }
    }

    private static func get<T: FixedWidthInteger>(_: T.Type, at offset: Int, in bytes: [UInt8]) -> T {
        bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}

extension Checkpoint {
    /// The file's bytes: the 512-byte header followed by the HDF5 file.
    ///
    /// - Parameter name: the name used in error messages.
    public func encoded(name: String = "<memory>") throws(CheckpointError) -> [UInt8] {
        let file: HDF5File
        do {
            file = try HDF5File.createInMemory(name: name, userBlockSize: CheckpointHeader.size, expectedBytes: estimatedBytes)
        } catch { throw .hdf5(error) }
        try write(to: file)
        var bytes: [UInt8]
        do {
            bytes = try file.image(leadingBytes: CheckpointHeader.size)
            try file.close()
        } catch { throw .hdf5(error) }
        let payload = CheckpointHeader.size..<bytes.count
        let header = CheckpointHeader(version: Self.formatVersion, payloadLength: payload.count,
                                      payloadDigest: XXHash64.hash(bytes, range: payload))
        bytes.replaceSubrange(0..<CheckpointHeader.size, with: header.encoded())
        return bytes
    }

    /// A generous estimate of the file's size (the matrices plus room for metadata).
    private var estimatedBytes: Int {
        var total = 1 << 16
        for parameter in parameters.values { total += 4 * parameter.value.count + 512 }
        for matrix in optimizer?.state.values ?? [:].values { total += 4 * matrix.count + 512 }
        func add(_ section: CheckpointSection) {
            for array in section.datasets.values { total += 8 * array.count + 512 }
            section.children.values.forEach(add)
        }
        add(model)
        sections.values.forEach(add)
        return total
    }

    /// Decodes and verifies the bytes of a checkpoint file: header, length and digest
    /// first, then the HDF5 structure, types and shapes.
    ///
    /// - Parameter name: the name used in error messages.
    public static func decode(_ bytes: [UInt8], name: String = "<memory>") throws(CheckpointError) -> Checkpoint {
        let header = try CheckpointHeader.decode(bytes, file: name)
        let actual = bytes.count - CheckpointHeader.size
        if actual < header.payloadLength {
            throw .truncated(file: name, expectedBytes: CheckpointHeader.size + header.payloadLength, actualBytes: bytes.count)
        }
        if actual > header.payloadLength {
            throw .trailingBytes(file: name, expectedBytes: CheckpointHeader.size + header.payloadLength, actualBytes: bytes.count)
        }
        let digest = XXHash64.hash(bytes, range: CheckpointHeader.size..<bytes.count)
        guard digest == header.payloadDigest else {
            throw .checksumMismatch(file: name, stored: header.payloadDigest, computed: digest)
        }
        // libhdf5 parses exactly the bytes that were verified (no second read of the
        // file); it finds the HDF5 superblock after the 512-byte user block itself.
        let file: HDF5File
        do {
            file = try HDF5File.open(image: bytes, name: name)
        } catch { throw .hdf5(error) }
        return try CheckpointReader(file: file).read()
    }

    /// Saves the checkpoint atomically: a crash at any moment leaves either the previous
    /// file or the new one under `path`, never a partial file.
    ///
    /// The bytes go to a temporary file `.<name>.tmp-<pid>-<random>` in the same folder,
    /// which is flushed to disk (`fsync`) and renamed over `path`; then the folder is
    /// flushed so the rename itself is durable. Temporary files left by writers that
    /// died (their process no longer exists) are removed first.
    public func save(to path: String) throws(CheckpointError) {
        let bytes = try encoded(name: path)
        try AtomicFile.write(bytes, to: path)
    }

    /// Loads and verifies a checkpoint: the whole file's length and digest before libhdf5
    /// reads it, then the format version, every object's kind, element type and shape.
    /// Call `makeModel()` to rebuild the network (which verifies every parameter against
    /// the architecture).
    public static func load(from path: String) throws(CheckpointError) -> Checkpoint {
        try decode(try AtomicFile.read(path), name: path)
    }
}

/// Whole-file reads and crash-safe replacement of files.
enum AtomicFile {
    /// The prefix of temporary files for `name` (`.<name>.tmp-`).
    static func temporaryPrefix(for name: String) -> String { "." + name + ".tmp-" }

    static func write(_ bytes: [UInt8], to path: String) throws(CheckpointError) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw .writeFailed(file: path, reason: "the folder '\(folder)' does not exist")
        }
        guard isFolder.boolValue else { throw .writeFailed(file: path, reason: "'\(folder)' is not a folder") }
        removeStaleTemporaries(in: folder, name: name)
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let temporary = folder + "/" + temporaryPrefix(for: name) + "\(getpid())-\(random)"

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .writeFailed(file: path, reason: "cannot create '\(temporary)': \(errorText())") }
        var written = 0
        var failure: String?
        bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = "writing failed: \(errorText())"
                    return
                }
                written += n
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = "fsync failed: \(errorText())" }
        if Glibc.close(fd) != 0 && failure == nil { failure = "close failed: \(errorText())" }
        if failure == nil && rename(temporary, path) != 0 { failure = "cannot rename over '\(path)': \(errorText())" }
        if let failure {
            unlink(temporary)
            throw .writeFailed(file: path, reason: failure)
        }
        // Make the rename durable.
        let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderFD >= 0 {
            _ = fsync(folderFD)
            _ = Glibc.close(folderFD)
        }
    }

    /// Removes `.<name>.tmp-<pid>-*` files whose writer process no longer exists.
    static func removeStaleTemporaries(in folder: String, name: String) {
        let prefix = temporaryPrefix(for: name)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                unlink(folder + "/" + entry)
            }
        }
    }

    /// The whole file.
    static func read(_ path: String) throws(CheckpointError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw .fileNotFound(file: path) }
            throw .unreadable(file: path, reason: errorText())
        }
        defer { _ = Glibc.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(file: path, reason: errorText()) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(file: path, reason: "it is not a regular file") }
        let size = Int(info.st_size)
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var total = 0
            while total < size {
                let n = Glibc.read(fd, buffer.baseAddress! + total, size - total)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errorText()
                    break
                }
                if n == 0 { break }
                total += n
            }
            // The file may have shrunk while being read; the header check reports it.
            count = total
        }
        if let failure { throw .unreadable(file: path, reason: failure) }
        return bytes
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
