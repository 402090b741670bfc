import HDF5Kit

/// Why a checkpoint could not be saved, loaded or turned back into a model.
///
/// Every case names the file (when there is one) and the object at fault: an HDF5 path
/// such as `/sections/controller/mean`, or a parameter's dotted path such as
/// `trunk.0.weight`.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No file at that path.
    case fileNotFound(file: String)
    /// The file exists but could not be read (permissions, a folder, an I/O error).
    case unreadable(file: String, reason: String)
    /// The file is not a checkpoint at all (empty, random bytes, a foreign HDF5 file).
    case notACheckpoint(file: String, reason: String)
    /// The 512-byte checkpoint header is damaged (its own digest does not match).
    case corruptHeader(file: String, reason: String)
    /// The file was written by a format version this build does not read.
    case unsupportedVersion(file: String, version: Int)
    /// The file is shorter than its header says: it was cut off.
    case truncated(file: String, expectedBytes: Int, actualBytes: Int)
    /// The file is longer than its header says: something was appended.
    case trailingBytes(file: String, expectedBytes: Int, actualBytes: Int)
    /// The content's digest differs from the one recorded at save time: bytes changed.
    case checksumMismatch(file: String, stored: UInt64, computed: UInt64)
    /// libhdf5 failed (the message carries HDF5's error stack).
    case hdf5(HDF5Error)
    /// A required group, dataset or attribute is absent.
    case missing(path: String, file: String?)
    /// An object the format does not define is present.
    case unexpected(path: String, file: String?)
    /// An object has another kind or element type than the format defines.
    case wrongType(path: String, expected: String, actual: String, file: String?)
    /// A dataset or parameter has another shape than expected.
    case wrongShape(path: String, expected: [Int], actual: [Int], file: String?)
    /// The architecture needs a parameter the checkpoint lacks.
    case missingParameter(path: String, expectedShape: [Int], file: String?)
    /// The checkpoint holds a parameter the architecture does not have.
    case unexpectedParameter(path: String, shape: [Int], file: String?)
    /// A value is out of its range or inconsistent.
    case invalidValue(path: String, reason: String, file: String?)
    /// The stored architecture cannot be built.
    case invalidArchitecture(reason: String, file: String?)
    /// Writing the file failed; the previous file under that name, if any, is intact.
    case writeFailed(file: String, reason: String)
    /// Trusted keys were given, and the file is not signed.
    case unsigned(file: String)
    /// Trusted keys were given, and the file is signed by another key (its fingerprint).
    case untrustedSigner(file: String, signer: String)
    /// The file's signature does not match its header and content.
    case invalidSignature(file: String, signer: String)
    /// A key file cannot be read or written, or holds no key of the right kind.
    case keyFile(file: String, reason: String)
    /// The reader process could not parse the file in isolation: it crashed, ran out of
    /// time or memory, or could not be found or started.
    case readerFailed(file: String, reason: CheckpointReaderFailure)

    public var description: String {
        switch self {
        case let .fileNotFound(file):
            "checkpoint '\(file)' does not exist"
        case let .unreadable(file, reason):
            "checkpoint '\(file)' cannot be read: \(reason)"
        case let .notACheckpoint(file, reason):
            "'\(file)' is not a checkpoint: \(reason)"
        case let .corruptHeader(file, reason):
            "checkpoint '\(file)' is corrupt: its header is damaged (\(reason))"
        case let .unsupportedVersion(file, version):
            "checkpoint '\(file)' has unsupported format version \(version); this build reads \(Checkpoint.formatVersion)"
                + (version > Checkpoint.formatVersion ? " (it was written by a newer version of the library)" : "")
        case let .truncated(file, expected, actual):
            "checkpoint '\(file)' is truncated: it has \(actual) bytes, its header says \(expected)"
        case let .trailingBytes(file, expected, actual):
            "checkpoint '\(file)' has \(actual - expected) unexpected bytes after its end (\(actual) bytes, header says \(expected))"
        case let .checksumMismatch(file, stored, computed):
            "checkpoint '\(file)' is corrupt: its content digest is \(hex(computed)) but \(hex(stored)) was recorded when it was saved"
        case let .hdf5(error):
            error.description
        case let .missing(path, file):
            "\(where_(file)) has no \(object(path))"
        case let .unexpected(path, file):
            "\(where_(file)) has an unexpected \(object(path))"
        case let .wrongType(path, expected, actual, file):
            "\(where_(file)): \(object(path)) should be \(expected) but is \(actual)"
        case let .wrongShape(path, expected, actual, file):
            "\(where_(file)): \(subject(path)) has shape \(actual) but \(expected) is expected"
        case let .missingParameter(path, shape, file):
            "\(where_(file)) lacks parameter '\(path)' (the architecture needs shape \(shape))"
        case let .unexpectedParameter(path, shape, file):
            "\(where_(file)) holds parameter '\(path)' of shape \(shape) that the architecture does not have"
        case let .invalidValue(path, reason, file):
            "\(where_(file)): \(object(path)) is invalid: \(reason)"
        case let .invalidArchitecture(reason, file):
            "\(where_(file)) describes an architecture that cannot be built: \(reason)"
        case let .writeFailed(file, reason):
            "cannot save checkpoint '\(file)': \(reason)"
        case let .unsigned(file):
            "checkpoint '\(file)' is not signed; only checkpoints signed by a trusted key are loaded when trusted keys are given"
        case let .untrustedSigner(file, signer):
            "checkpoint '\(file)' is signed by key \(signer), which is not one of the trusted keys"
        case let .invalidSignature(file, signer):
            "checkpoint '\(file)' has a signature by key \(signer) that does not match its content: it was changed after it was signed"
        case let .keyFile(file, reason):
            "key file '\(file)': \(reason)"
        case let .readerFailed(file, reason):
            "checkpoint '\(file)' could not be read in isolation: \(reason)"
        }
    }
}

private func where_(_ file: String?) -> String {
    file.map { "checkpoint '\($0)'" } ?? "the checkpoint"
}

private func subject(_ path: String) -> String {
    path.hasPrefix("/") ? "dataset \(path)" : "parameter '\(path)'"
}

/// `/a/b@c` -> "attribute 'c' of /a/b"; `/a/b` stays; a dotted path is a parameter.
private func object(_ path: String) -> String {
    if let at = path.lastIndex(of: "@") {
        let owner = path[..<at]
        return "attribute '\(path[path.index(after: at)...])' of \(owner.isEmpty ? "/" : owner)"
    }
    return path.hasPrefix("/") ? path : "parameter '\(path)'"
}

private func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}

/// Why the reader process (`moe-checkpoint-reader`) did not return a checkpoint's content.
/// Whatever happened there, this process is unaffected.
public enum CheckpointReaderFailure: Error, Equatable, Sendable, CustomStringConvertible {
    /// The reader program was not found in these places.
    case notFound(searched: [String])
    /// The reader program could not be started.
    case cannotStart(executable: String, reason: String)
    /// A file in memory for the bytes or the answer could not be made or filled.
    case exchangeFile(String)
    /// libhdf5 crashed on the file (or the parse hit its memory limit: the process then
    /// ends with an allocation failure).
    case crashed(signal: Int32, name: String, memoryLimit: Int)
    /// The parse used up its CPU time.
    case cpuLimit(seconds: Int)
    /// The parse did not finish in time and was killed.
    case timedOut(seconds: Double)
    /// The parse ended with an exit status instead of an answer.
    case exited(status: Int32)
    /// The answer was larger than the file could honestly produce.
    case answerTooLarge(limit: Int)
    /// The answer was not well formed (the wire decoder's reason).
    case malformedAnswer(String)
    /// The reader process itself stopped answering or ended; it is started again at the
    /// next load.
    case readerStopped(String)

    public var description: String {
        switch self {
        case let .notFound(searched):
            "the reader program '\(CheckpointReaderProcess.programName)' was not found (looked in \(searched.joined(separator: ", "))); "
                + "build it with `swift build --product \(CheckpointReaderProcess.programName)` (a plain `swift build` builds it too), "
                + "keep it in the folder of the program that loads checkpoints or on PATH, or set \(CheckpointReaderProcess.environmentVariable) to its path"
        case let .cannotStart(executable, reason):
            "the reader program '\(executable)' could not be started: \(reason)"
        case let .exchangeFile(reason):
            "the file in memory that carries it to the reader process could not be made: \(reason)"
        case let .crashed(signal, name, memoryLimit):
            "libhdf5 crashed on it in the reader process (signal \(signal), \(name)); the file is malformed or crafted "
                + "(a parse also ends this way when it needs more than its \(memoryLimit >> 20) MiB of memory)"
        case let .cpuLimit(seconds):
            "parsing it used up the reader's CPU time limit of \(seconds) s; the file is malformed or crafted"
        case let .timedOut(seconds):
            "parsing it did not finish within \(formatSeconds(seconds)) s and was stopped; the file is malformed or crafted"
        case let .exited(status):
            "the reader process ended with status \(status) instead of answering" + (exitReasons[status].map { " (\($0))" } ?? "")
        case let .answerTooLarge(limit):
            "the reader's answer exceeded \(limit) bytes, more than a checkpoint of its size expands to; the file is malformed or crafted"
        case let .malformedAnswer(reason):
            "the reader's answer is not well formed: \(reason)"
        case let .readerStopped(reason):
            "the reader process stopped answering: \(reason)"
        }
    }
}

/// What the reader's exit statuses mean (moe-checkpoint-reader, Parse.swift).
private let exitReasons: [Int32: String] = [
    2: "its request was not well formed", 3: "it could not write its answer",
    4: "it could not set its limits", 5: "it could not map the file into memory",
]

private func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
}
