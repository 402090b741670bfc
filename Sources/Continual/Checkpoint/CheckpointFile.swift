import HDF5Kit

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
///     28     4  flags: bit 0 = signed (other bits 0)
///     32     8  digest of the payload
///     40    96  a line of text for people who `head` the file, NUL-padded
///    136    32  signed: the signer's Ed25519 public key; else zeros
///    168    64  signed: the Ed25519 signature (CheckpointSignature); else zeros
///    232   272  zeros
///    504     8  XXH64 of bytes 0..<504 (the header's own digest)
/// ```
///
/// Readers written before signatures existed ignore bytes 28 and 136 ..< 504, so a signed
/// file is still an ordinary version-1 file to them.
struct CheckpointHeader: Equatable {
    static let size = 512
    static let magic: [UInt8] = Array("MOE-CKPT".utf8)
    static let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
    static let xxh64Algorithm: UInt32 = 1
    static let signedFlag: UInt32 = 1
    /// The bytes of the header a signature covers (up to the signature itself).
    static let signedHeaderBytes = 168
    static let signerRange = 136..<168
    static let signatureRange = 168..<232

    var version: Int
    var payloadLength: Int
    var payloadDigest: UInt64
    /// The signer's public key and the signature, for a signed file.
    var signer: CheckpointPublicKey? = nil
    var signature: [UInt8] = []

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
        if let signer {
            put(Self.signedFlag, at: 28, in: &bytes)
            bytes.replaceSubrange(Self.signerRange, with: signer.rawRepresentation)
            if !signature.isEmpty { bytes.replaceSubrange(Self.signatureRange, with: signature) }
        }
        put(XXHash64.hash(bytes, range: 0..<504), at: 504, in: &bytes)
        return bytes
    }

    /// Reads and checks the header at the start of `bytes` (the whole file).
    static func decode(_ bytes: UnsafeRawBufferPointer, file: String) throws(CheckpointError) -> CheckpointHeader {
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
        let computed = XXHash64.hash(UnsafeRawBufferPointer(rebasing: bytes[0..<504]))
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
        var header = CheckpointHeader(version: version, payloadLength: Int(length), payloadDigest: get(UInt64.self, at: 32, in: bytes))
        let flags = get(UInt32.self, at: 28, in: bytes)
        guard flags & ~signedFlag == 0 else { throw .corruptHeader(file: file, reason: "unknown flags 0x\(String(flags, radix: 16))") }
        let zerosFrom = flags == signedFlag ? signatureRange.upperBound : signerRange.lowerBound
        guard bytes[zerosFrom..<504].allSatisfy({ $0 == 0 }) else {
            throw .corruptHeader(file: file, reason: "bytes \(zerosFrom)..<504 are not zero")
        }
        if flags == signedFlag {
            do {
                header.signer = try CheckpointPublicKey(rawRepresentation: Array(bytes[signerRange]))
            } catch {
                throw .corruptHeader(file: file, reason: "the signer's key is not an Ed25519 public key")
            }
            header.signature = Array(bytes[signatureRange])
        }
        return header
    }

    private func put<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange(offset..<(offset + MemoryLayout<T>.size), with: $0) }
    }

    private static func get<T: FixedWidthInteger>(_: T.Type, at offset: Int, in bytes: UnsafeRawBufferPointer) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension Checkpoint {
    /// The file's bytes: the 512-byte header followed by the HDF5 file.
    ///
    /// - Parameters:
    ///   - name: the name used in error messages.
    ///   - signingKey: signs the header and the payload (`CheckpointSignature`); loads
    ///     that trust the key's public key accept the file.
    public func encoded(name: String = "<memory>", signingKey: CheckpointSigningKey? = nil) throws(CheckpointError) -> [UInt8] {
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
        var header = CheckpointHeader(version: Self.formatVersion, payloadLength: payload.count,
                                      payloadDigest: XXHash64.hash(bytes, range: payload), signer: signingKey?.publicKey)
        bytes.replaceSubrange(0..<CheckpointHeader.size, with: header.encoded())
        if let signingKey {
            header.signature = try signingKey.sign(CheckpointSignature.message(of: bytes))
            bytes.replaceSubrange(0..<CheckpointHeader.size, with: header.encoded())
        }
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

    /// Decodes and verifies the bytes of a checkpoint file: header, length and digest,
    /// then the signature (a signed file's signature must match; with `trustedKeys`, the
    /// file must be signed by one of them), and only then the HDF5 structure, types and
    /// shapes, parsed as `parsing` says.
    ///
    /// - Parameters:
    ///   - name: the name used in error messages.
    ///   - trustedKeys: when not empty, only files signed by one of these keys load
    ///     (strict mode); the refusal comes before libhdf5 sees a byte of the file.
    ///   - parsing: `.isolated` (the default) parses in the reader process;
    ///     `.inProcess` only for bytes you trust.
    public static func decode(
        _ bytes: [UInt8], name: String = "<memory>", trustedKeys: Set<CheckpointPublicKey> = [],
        parsing: CheckpointParsing = .isolated
    ) throws(CheckpointError) -> Checkpoint {
        let signer = try bytes.withUnsafeBytes { buffer in
            Result { () throws(CheckpointError) -> CheckpointPublicKey? in try verify(buffer, name: name, trustedKeys: trustedKeys) }
        }.get()
        let snapshot: HDF5Snapshot
        switch parsing {
        case .inProcess:
            // libhdf5 parses exactly the bytes that were verified (no second read of the
            // file); it finds the HDF5 superblock after the 512-byte user block itself.
            do {
                snapshot = try HDF5File.open(image: bytes, name: name).snapshot()
            } catch { throw .hdf5(error) }
        case let .isolated(limits):
            snapshot = try CheckpointReaderProcess.shared.snapshot(of: bytes, name: name, limits: limits)
        }
        var checkpoint = try CheckpointReader(snapshot: snapshot, name: name).read()
        checkpoint.signer = signer
        return checkpoint
    }

    /// Checks everything that comes before libhdf5: the header, the length, the digest,
    /// and the signature. Returns the verified signer of a signed file.
    static func verify(_ bytes: UnsafeRawBufferPointer, name: String, trustedKeys: Set<CheckpointPublicKey>) throws(CheckpointError) -> CheckpointPublicKey? {
        let header = try CheckpointHeader.decode(bytes, file: name)
        let actual = bytes.count - CheckpointHeader.size
        if actual < header.payloadLength {
            throw .truncated(file: name, expectedBytes: CheckpointHeader.size + header.payloadLength, actualBytes: bytes.count)
        }
        if actual > header.payloadLength {
            throw .trailingBytes(file: name, expectedBytes: CheckpointHeader.size + header.payloadLength, actualBytes: bytes.count)
        }
        let digest = XXHash64.hash(UnsafeRawBufferPointer(rebasing: bytes[CheckpointHeader.size...]))
        guard digest == header.payloadDigest else {
            throw .checksumMismatch(file: name, stored: header.payloadDigest, computed: digest)
        }
        guard let signer = header.signer else {
            if !trustedKeys.isEmpty { throw .unsigned(file: name) }
            return nil
        }
        // A file that claims a signature must carry a valid one, trusted keys or not.
        if !trustedKeys.isEmpty && !trustedKeys.contains(signer) {
            throw .untrustedSigner(file: name, signer: signer.fingerprint)
        }
        guard signer.verifies(header.signature, of: CheckpointSignature.message(of: bytes)) else {
            throw .invalidSignature(file: name, signer: signer.fingerprint)
        }
        return signer
    }

    /// Saves the checkpoint atomically: a crash at any moment leaves either the previous
    /// file or the new one under `path`, never a partial file.
    ///
    /// The bytes go to a temporary file `.<name>.tmp-<pid>-<random>` in the same folder,
    /// which is flushed to disk (`fsync`) and renamed over `path`; then the folder is
    /// flushed so the rename itself is durable. Temporary files left by writers that
    /// died (their process no longer exists) are removed first. What is under `path` is
    /// replaced only when it is a checkpoint or an empty file (``checkReplaceable(_:)``),
    /// and the new file keeps its permissions.
    ///
    /// - Parameter signingKey: signs the file (see `encoded(name:signingKey:)`).
    public func save(to path: String, signingKey: CheckpointSigningKey? = nil) throws(CheckpointError) {
        let bytes = try encoded(name: path, signingKey: signingKey)
        try AtomicFile.write(bytes, to: path, replacing: CheckpointHeader.magic)
    }

    /// Throws the error ``save(to:signingKey:)`` would throw for what is already under
    /// `path`: something that is not a checkpoint (a file of other bytes, a folder, a
    /// pipe), which a save never replaces. A command checks before it learns, so that a
    /// slip of `--save` costs no run.
    public static func checkReplaceable(_ path: String) throws(CheckpointError) {
        _ = try AtomicFile.existingMode(of: path, signature: CheckpointHeader.magic)
    }

    /// Loads and verifies a checkpoint: the whole file's length and digest, and its
    /// signature, before libhdf5 reads it; then the format version, every object's kind,
    /// element type and shape. Call `makeModel()` to rebuild the network (which verifies
    /// every parameter against the architecture).
    ///
    /// By default libhdf5 parses the file in the reader process (`CheckpointParsing`):
    /// a crafted file that crashes or hangs it gives a `CheckpointError.readerFailed`
    /// here, and this process lives on. Pass `parsing: .inProcess` only for files you
    /// trust, such as one this process has just written.
    ///
    /// - Parameter trustedKeys: when not empty, only files signed by one of these keys
    ///   load; an unsigned file or one signed by another key is refused before libhdf5
    ///   sees it.
    public static func load(
        from path: String, trustedKeys: Set<CheckpointPublicKey> = [], parsing: CheckpointParsing = .isolated
    ) throws(CheckpointError) -> Checkpoint {
        guard case let .isolated(limits) = parsing else {
            return try decode(try AtomicFile.read(path), name: path, trustedKeys: trustedKeys, parsing: parsing)
        }
        // The file is read straight into the memory the reader process reads it from,
        // and verified there: the bytes parsed are the bytes verified, with no copy.
        let file = try AtomicFile.openForReading(path)
        defer { file.close() }
        var signer: CheckpointPublicKey?
        let snapshot = try CheckpointReaderProcess.shared.snapshot(name: path, capacity: file.size, limits: limits) {
            space throws(CheckpointError) -> Int in
            let count = try file.read(into: space)
            signer = try verify(UnsafeRawBufferPointer(rebasing: space[0..<count]), name: path, trustedKeys: trustedKeys)
            return count
        }
        var checkpoint = try CheckpointReader(snapshot: snapshot, name: path).read()
        checkpoint.signer = signer
        return checkpoint
    }
}
