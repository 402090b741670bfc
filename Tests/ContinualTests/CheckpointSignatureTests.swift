import Continual
import Foundation
import MoE
import Testing
import TestSupport

/// Ed25519 signatures of checkpoints: who wrote a file, and that nobody changed it since.
@Suite("Checkpoint signatures")
struct CheckpointSignatureTests {
    static let key = try! CheckpointSigningKey(rawRepresentation: Array(repeating: 7, count: 32))
    static let other = try! CheckpointSigningKey(rawRepresentation: Array(repeating: 9, count: 32))

    static func signed() throws -> [UInt8] {
        try CheckpointFixtures.fullCheckpoint().encoded(name: "s.h5", signingKey: key)
    }

    /// `bytes` with the payload digest and the header digest rewritten, as an attacker would.
    static func rehashed(_ bytes: [UInt8]) -> [UInt8] {
        var fixed = bytes
        fixed.replaceSubrange(32..<40, with: CheckpointFixtures.littleEndian(XXHash64.hash(fixed, range: 512..<fixed.count)))
        fixed.replaceSubrange(504..<512, with: CheckpointFixtures.littleEndian(XXHash64.hash(fixed, range: 0..<504)))
        return fixed
    }

    @Test("A signed checkpoint loads with its key trusted, and names its signer")
    func signedLoads() throws {
        let bytes = try Self.signed()
        let trusted = try Checkpoint.decode(bytes, name: "s.h5", trustedKeys: [Self.key.publicKey])
        #expect(trusted == CheckpointFixtures.fullCheckpoint().withCreated(trusted.metadata.created))
        #expect(trusted.signer == Self.key.publicKey)
        #expect(trusted.summary.description.contains("signed by key \(Self.key.publicKey.fingerprint) (signature verified)"))
        // Without trusted keys it loads too, and the signature is still checked.
        #expect(try Checkpoint.decode(bytes, name: "s.h5").signer == Self.key.publicKey)
        #expect(try Checkpoint.decode(bytes, name: "s.h5", trustedKeys: [Self.other.publicKey, Self.key.publicKey]).signer != nil)
        // The same content, signed or not, differs only in the header.
        let unsigned = try CheckpointFixtures.fullCheckpoint().withCreated(trusted.metadata.created).encoded(name: "s.h5")
        #expect(Array(unsigned[512...]) == Array(bytes[512...]))
    }

    @Test("With trusted keys, an unsigned file and one signed by another key are refused before libhdf5 sees them")
    func strictMode() throws {
        // A crafted file that crashes libhdf5, parsed in this very process: refused first.
        let crash = CheckpointIsolationTests.crafted.appendingPathComponent(CheckpointIsolationTests.fixtures("crash-").first ?? "missing")
        let crafted = [UInt8](try Data(contentsOf: crash))
        let unsigned = try #require(throws: CheckpointError.self) {
            try Checkpoint.decode(crafted, name: "u.h5", trustedKeys: [Self.key.publicKey], parsing: .inProcess)
        }
        #expect(unsigned == .unsigned(file: "u.h5"))
        #expect(unsigned.description == "checkpoint 'u.h5' is not signed; only checkpoints signed by a trusted key are loaded when trusted keys are given")

        let byOther = try CheckpointFixtures.fullCheckpoint().encoded(name: "o.h5", signingKey: Self.other)
        let untrusted = try #require(throws: CheckpointError.self) {
            try Checkpoint.decode(byOther, name: "o.h5", trustedKeys: [Self.key.publicKey], parsing: .inProcess)
        }
        #expect(untrusted == .untrustedSigner(file: "o.h5", signer: Self.other.publicKey.fingerprint))
        #expect(untrusted.description == "checkpoint 'o.h5' is signed by key \(Self.other.publicKey.fingerprint), which is not one of the trusted keys")
    }

    @Test("A signed file changed after signing is refused, even with its digests recomputed")
    func tampering() throws {
        let bytes = try Self.signed()
        var cases: [(String, [UInt8])] = []
        var payload = bytes
        payload[bytes.count - 100] ^= 1
        cases.append(("a payload byte", Self.rehashed(payload)))
        var note = bytes
        note[60] ^= 0x20
        cases.append(("the header's text", Self.rehashed(note)))
        var signature = bytes
        signature[200] ^= 1
        cases.append(("the signature", Self.rehashed(signature)))
        var signer = bytes
        signer.replaceSubrange(136..<168, with: Self.other.publicKey.rawRepresentation)
        cases.append(("the signer's key", Self.rehashed(signer)))
        for (what, changed) in cases {
            let error = try #require(throws: CheckpointError.self, "\(what)") { try Checkpoint.decode(changed, name: "t.h5", parsing: .inProcess) }
            let claimed = what == "the signer's key" ? Self.other.publicKey : Self.key.publicKey
            #expect(error == .invalidSignature(file: "t.h5", signer: claimed.fingerprint), "\(what)")
        }
        // Stripping the signature leaves an unsigned file: fine without trusted keys, refused with them.
        var stripped = bytes
        stripped.replaceSubrange(28..<32, with: [0, 0, 0, 0])
        stripped.replaceSubrange(136..<232, with: Array(repeating: 0, count: 96))
        stripped = Self.rehashed(stripped)
        #expect(try Checkpoint.decode(stripped, name: "t.h5", parsing: .inProcess).signer == nil)
        #expect(throws: CheckpointError.unsigned(file: "t.h5")) {
            try Checkpoint.decode(stripped, name: "t.h5", trustedKeys: [Self.key.publicKey], parsing: .inProcess)
        }
        // Unknown flags and bytes where zeros belong are a damaged header.
        var flags = bytes
        flags[28] = 3
        let e1 = try #require(throws: CheckpointError.self) { try Checkpoint.decode(Self.rehashed(flags), name: "t.h5") }
        #expect(e1 == .corruptHeader(file: "t.h5", reason: "unknown flags 0x3"))
        var reserved = bytes
        reserved[300] = 1
        let e2 = try #require(throws: CheckpointError.self) { try Checkpoint.decode(Self.rehashed(reserved), name: "t.h5") }
        #expect(e2 == .corruptHeader(file: "t.h5", reason: "bytes 232..<504 are not zero"))
    }

    @Test("Version-1 files written before signatures load unchanged; the header keeps version 1")
    func compatibility() throws {
        let golden = CheckpointFixtures.repositoryRoot.appendingPathComponent("Checkpoints/golden-v1.h5").path
        let checkpoint = try Checkpoint.load(from: golden)
        #expect(checkpoint.signer == nil && checkpoint.metadata.formatVersion == 1)
        let bytes = try Self.signed()
        #expect(bytes[8..<12] == [1, 0, 0, 0])
        #expect(bytes[28..<32] == [1, 0, 0, 0])
    }

    @Test("Key files: written private (mode 600) and public, read back; wrong or exposed files are refused")
    func keyFiles() throws {
        try withTemporaryDirectory { directory in
            let path = directory.path("k")
            let key = CheckpointSigningKey()
            try key.write(to: path)
            try key.publicKey.write(to: path + ".pub")
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(try CheckpointSigningKey.read(from: path) == key)
            #expect(try CheckpointPublicKey.read(from: path + ".pub") == key.publicKey)
            #expect(key.publicKey.fingerprint.count == 16)

            let again = try #require(throws: CheckpointError.self) { try key.write(to: path) }
            #expect(again == .keyFile(file: path, reason: "cannot be written: the file exists (it is never replaced)"))
            let swapped = try #require(throws: CheckpointError.self) { try CheckpointPublicKey.read(from: path) }
            #expect(swapped.description == "key file '\(path)': it holds a private key; trust its public key file (.pub) instead")
            let reversed = try #require(throws: CheckpointError.self) { try CheckpointSigningKey.read(from: path + ".pub") }
            #expect(reversed.description.contains("it holds a public key"))
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
            let exposed = try #require(throws: CheckpointError.self) { try CheckpointSigningKey.read(from: path) }
            #expect(exposed.description.contains("other users may read or change it (mode 644)"))
            try "hello\n".write(toFile: directory.path("junk"), atomically: true, encoding: .utf8)
            let junk = try #require(throws: CheckpointError.self) { try CheckpointPublicKey.read(from: directory.path("junk")) }
            #expect(junk.description.contains("is not a key file"))
            let missing = try #require(throws: CheckpointError.self) { try CheckpointPublicKey.read(from: directory.path("none.pub")) }
            #expect(missing == .keyFile(file: directory.path("none.pub"), reason: "it does not exist"))
        }
    }
}

extension Checkpoint {
    /// The checkpoint with another creation time (to compare a reloaded fixture).
    func withCreated(_ created: String) -> Checkpoint {
        var copy = self
        copy.metadata.created = created
        return copy
    }
}
