import Crypto
import Foundation

/// An Ed25519 key that signs checkpoints (`moe keygen` makes one; `--sign-key` uses it).
///
/// The signature covers the checkpoint's header and its whole HDF5 payload
/// (docs/checkpoint-format.md, "Signatures"): whoever holds `publicKey` can tell that
/// the file was written by the holder of this key and not changed since.
///
/// The key file is one line, `moe-checkpoint-signing-key ed25519 <base64 of 32 bytes>`,
/// readable by its owner only; the public key's file is
/// `moe-checkpoint-public-key ed25519 <base64 of 32 bytes>`.
public struct CheckpointSigningKey: Sendable, Equatable {
    static let fileTag = "moe-checkpoint-signing-key"

    /// The 32-byte Ed25519 private key (seed).
    public let rawRepresentation: [UInt8]

    /// A new random key.
    public init() {
        rawRepresentation = Array(Curve25519.Signing.PrivateKey().rawRepresentation)
    }

    /// The key with these 32 bytes.
    public init(rawRepresentation: [UInt8]) throws(CheckpointError) {
        guard rawRepresentation.count == 32 else {
            throw .keyFile(file: "<memory>", reason: "an Ed25519 private key is 32 bytes, not \(rawRepresentation.count)")
        }
        self.rawRepresentation = rawRepresentation
    }

    /// The public key that verifies this key's signatures.
    public var publicKey: CheckpointPublicKey {
        CheckpointPublicKey(verified: Array(cryptoKey.publicKey.rawRepresentation))
    }

    private var cryptoKey: Curve25519.Signing.PrivateKey {
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: rawRepresentation) else {
            preconditionFailure("32 bytes always make an Ed25519 private key")
        }
        return key
    }

    /// The signature of `message`.
    func sign(_ message: [UInt8]) throws(CheckpointError) -> [UInt8] {
        do {
            return Array(try cryptoKey.signature(for: message))
        } catch {
            throw .writeFailed(file: "<memory>", reason: "signing failed: \(error)")
        }
    }

    /// The text of the key's file.
    public var fileText: String {
        "\(Self.fileTag) ed25519 \(Data(rawRepresentation).base64EncodedString())\n"
    }

    /// Reads a key file written by `write(to:)` (`moe keygen`). A file that other users
    /// may read or write is refused, as ssh does.
    public static func read(from path: String) throws(CheckpointError) -> CheckpointSigningKey {
        let raw = try readKeyFile(path, tag: fileTag, other: (CheckpointPublicKey.fileTag, "it holds a public key; signing needs the private key file"))
        if let mode = AtomicFile.permissions(of: path), mode & 0o077 != 0 {
            throw .keyFile(file: path, reason: "other users may read or change it (mode \(String(mode, radix: 8))); make it private with `chmod 600 \(path)`")
        }
        do {
            return try CheckpointSigningKey(rawRepresentation: raw)
        } catch {
            throw .keyFile(file: path, reason: "an Ed25519 private key is 32 bytes, not \(raw.count)")
        }
    }

    /// Writes the key to a new file readable by its owner only (an existing file is never
    /// replaced).
    public func write(to path: String) throws(CheckpointError) {
        if let failure = AtomicFile.createPrivate(Array(fileText.utf8), at: path) {
            throw .keyFile(file: path, reason: "cannot be written: \(failure)")
        }
    }
}

/// An Ed25519 public key: checkpoints signed by the matching `CheckpointSigningKey` are
/// accepted when it is among the trusted keys of a load.
public struct CheckpointPublicKey: Sendable, Hashable, CustomStringConvertible {
    static let fileTag = "moe-checkpoint-public-key"

    /// The 32 bytes of the key.
    public let rawRepresentation: [UInt8]

    /// The key with these 32 bytes (an error if they are not an Ed25519 public key).
    public init(rawRepresentation: [UInt8]) throws(CheckpointError) {
        guard rawRepresentation.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation)) != nil else {
            throw .keyFile(file: "<memory>", reason: "\(rawRepresentation.count) bytes are not an Ed25519 public key")
        }
        self.rawRepresentation = rawRepresentation
    }

    init(verified raw: [UInt8]) {
        rawRepresentation = raw
    }

    /// A short name for messages: the first 8 bytes of the key's SHA-256, in hex.
    public var fingerprint: String {
        SHA256.hash(data: rawRepresentation).prefix(8).map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }

    public var description: String { fingerprint }

    /// Whether `signature` is this key's signature of `message`.
    func verifies(_ signature: [UInt8], of message: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation) else { return false }
        return key.isValidSignature(signature, for: message)
    }

    /// The text of the key's file.
    public var fileText: String {
        "\(Self.fileTag) ed25519 \(Data(rawRepresentation).base64EncodedString())\n"
    }

    /// Reads a public key file (`<key>.pub`, written by `moe keygen`).
    public static func read(from path: String) throws(CheckpointError) -> CheckpointPublicKey {
        let raw = try readKeyFile(path, tag: fileTag, other: (CheckpointSigningKey.fileTag, "it holds a private key; trust its public key file (.pub) instead"))
        do {
            return try CheckpointPublicKey(rawRepresentation: raw)
        } catch {
            throw .keyFile(file: path, reason: "it does not hold an Ed25519 public key")
        }
    }

    /// Writes the key to `path` (replacing any file there).
    public func write(to path: String) throws(CheckpointError) {
        do {
            try AtomicFile.write(Array(fileText.utf8), to: path)
        } catch {
            throw .keyFile(file: path, reason: "cannot be written: \(error)")
        }
    }
}

/// The bytes of a key file `<tag> ed25519 <base64>`.
private func readKeyFile(_ path: String, tag: String, other: (tag: String, hint: String)) throws(CheckpointError) -> [UInt8] {
    let bytes: [UInt8]
    do {
        bytes = try AtomicFile.read(path)
    } catch .fileNotFound {
        throw .keyFile(file: path, reason: "it does not exist")
    } catch {
        throw .keyFile(file: path, reason: "it cannot be read (\(error))")
    }
    guard bytes.count <= 4096 else { throw .keyFile(file: path, reason: "it is too large to be a key file") }
    let fields = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isWhitespace).map(String.init)
    if fields.first == other.tag { throw .keyFile(file: path, reason: other.hint) }
    guard fields.count == 3, fields[0] == tag, fields[1] == "ed25519", let raw = Data(base64Encoded: fields[2]) else {
        throw .keyFile(file: path, reason: "it is not a key file of the form '\(tag) ed25519 <base64>' (make keys with `moe keygen`)")
    }
    return Array(raw)
}

/// What a checkpoint's signature covers, and how it is made and checked.
///
/// The signed message is `"MOE-CKPT-SIGN-V1"` followed by the SHA-256 of the header's
/// bytes 0 ..< 168 (everything that has a meaning: magic, version, sizes, digest
/// algorithm, flags, payload digest, text line, the signer's public key) and of the whole
/// payload. The signature itself (bytes 168 ..< 232) and the header's own digest are
/// not covered; the bytes between them must be zero.
enum CheckpointSignature {
    static let domain: [UInt8] = Array("MOE-CKPT-SIGN-V1".utf8)

    /// The message signed for a file whose header is `bytes[0..<512]`.
    static func message(of bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[0..<CheckpointHeader.signedHeaderBytes]))
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[CheckpointHeader.size...]))
        return domain + Array(hasher.finalize())
    }

    static func message(of bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { message(of: $0) }
    }
}
