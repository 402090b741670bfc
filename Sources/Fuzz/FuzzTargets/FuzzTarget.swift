#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What one input did to a reader: it was read, or refused with a typed error.
///
/// There is no third outcome on purpose: a reader that traps, hangs or allocates without
/// bound on some input has a bug, and the fuzzer (or the mutation tests) report that input.
public enum FuzzOutcome: Equatable, Sendable, CustomStringConvertible {
    /// The input was read; a short account of what came out.
    case accepted(String)
    /// The input was refused; the typed error's message (`DataError`, `CheckpointError`).
    case rejected(String)

    public var isAccepted: Bool { if case .accepted = self { true } else { false } }

    public var description: String {
        switch self {
        case let .accepted(what): "accepted: \(what)"
        case let .rejected(why): "rejected: \(why)"
        }
    }
}

/// A reader under test: turns arbitrary bytes into a call of the public API and reports
/// the outcome. The same code runs under libFuzzer, in the replay executables and in the
/// seeded mutation tests.
public protocol FuzzTarget {
    /// The target's name, as in `scripts/fuzz.sh` (`checkpoint`, `idx`, ...).
    static var name: String { get }
    /// Small valid inputs that start a corpus (written with the library's own writers).
    static func seeds() -> [FuzzSeed]
    /// Runs one input, using `folder` for the files the API needs. Every problem of the
    /// input comes back as `.rejected`; only a bug in the code under test traps.
    static func run(_ input: [UInt8], in folder: FuzzFolder) -> FuzzOutcome
}

/// A named seed input.
public struct FuzzSeed: Sendable {
    public var name: String
    public var bytes: [UInt8]

    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }
}

/// A private folder for the files an input is written to (the readers under test take
/// paths and descriptors, not memory).
///
/// Failures here are the harness's own environment failing, not the input: they trap
/// with a reason.
public struct FuzzFolder: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// A new folder under `$TMPDIR`, else under `/dev/shm` (memory: writing thousands of
    /// small files there is several times faster than on a disk), else under `/tmp`.
    public static func temporary() -> FuzzFolder {
        let base = getenv("TMPDIR").map { String(cString: $0) } ?? (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp")
        var template = Array((base + "/moe-fuzz-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
        }
        guard let made else { preconditionFailure("cannot create a fuzzing folder under \(base): \(String(cString: strerror(errno)))") }
        return FuzzFolder(path: made)
    }

    /// Writes `bytes` to the file `name` in the folder (replacing it) and returns its path.
    @discardableResult
    public func write(_ bytes: [UInt8], named name: String) -> String {
        let file = path + "/" + name
        guard let handle = fopen(file, "wb") else { preconditionFailure("cannot create \(file): \(String(cString: strerror(errno)))") }
        let written = bytes.isEmpty ? 0 : fwrite(bytes, 1, bytes.count, handle)
        guard fclose(handle) == 0, written == bytes.count else {
            preconditionFailure("cannot write \(file): \(String(cString: strerror(errno)))")
        }
        return file
    }

    /// The bytes of the file `name` in the folder.
    public func read(named name: String) -> [UInt8] {
        let file = path + "/" + name
        guard let handle = fopen(file, "rb") else { preconditionFailure("cannot open \(file)") }
        defer { fclose(handle) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&chunk, 1, chunk.count, handle)
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }

    /// Removes the folder and the files in it.
    public func remove() {
        if let directory = opendir(path) {
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(directory)
        }
        rmdir(path)
    }
}
