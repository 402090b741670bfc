import Continual
import Foundation
import Testing
import TestSupport

/// `moe keygen`, `--sign-key` and `--trust-key`, and crafted files through the commands.
@Suite("moe keygen, signed checkpoints and crafted files")
struct CheckpointKeyCommandTests {
    @Test("keygen writes a private key (mode 600) and its public key, and never replaces them")
    func keygen() throws {
        try withTemporaryDirectory { directory in
            let folder = directory.url.path
            let result = MoeProcess.run(["keygen", "--out", "me", "--json"], in: folder)
            #expect(result.status == 0, "\(result.error)")
            let json = try #require(MoeProcess.json(result))
            let fingerprint = try #require(json["fingerprint"] as? String)
            #expect(json["public_key"] as? String == "me.pub")
            #expect(try CheckpointPublicKey.read(from: directory.path("me.pub")).fingerprint == fingerprint)
            let mode = try FileManager.default.attributesOfItem(atPath: directory.path("me"))[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let again = MoeProcess.run(["keygen", "--out", "me"], in: folder)
            #expect(again.status == 1)
            #expect(again.errorLines == ["Error: 'me' exists; keys are never replaced (choose another --out, or remove the old pair)"])
        }
    }

    @Test("train --sign-key, then inspect, eval and train --resume --trust-key; other keys and unsigned files are refused")
    func signAndTrust() throws {
        try withTemporaryDirectory { directory in
            let folder = directory.url.path
            for name in ["mine", "theirs"] {
                #expect(MoeProcess.run(["keygen", "--out", name], in: folder).status == 0)
            }
            let fingerprint = try CheckpointPublicKey.read(from: directory.path("mine.pub")).fingerprint
            let data = ["--data", TrainingData.synthetic]
            let train = MoeProcess.run(["train", "--epochs", "1", "--limit", "500", "--hidden", "16", "--save", "run", "--sign-key", "mine"] + data, in: folder)
            #expect(train.status == 0, "\(train.error)")

            let inspect = MoeProcess.run(["inspect", "run", "--trust-key", "mine.pub"], in: folder)
            #expect(inspect.status == 0, "\(inspect.error)")
            #expect(inspect.output.contains("signed by key \(fingerprint) (signature verified)"))
            let eval = MoeProcess.run(["eval", "run", "--trust-key", "theirs.pub", "--trust-key", "mine.pub"] + data, in: folder)
            #expect(eval.status == 0, "\(eval.error)")
            // Each class's accuracy, Fashion-MNIST's classes by number and name.
            #expect(eval.output.contains("per class, worst first: ") && eval.output.contains("1 Trouser "), "\(eval.output)")

            let refused = MoeProcess.run(["eval", "run", "--trust-key", "theirs.pub"] + data, in: folder)
            #expect(refused.status == 1)
            #expect(refused.errorLines == ["Error: checkpoint 'Checkpoints/run.h5' is signed by key \(fingerprint), which is not one of the trusted keys"])

            // A resumed run keeps signing; an unsigned checkpoint does not resume under --trust-key.
            let resumed = MoeProcess.run(["train", "--resume", "run", "--epochs", "2", "--save", "run2", "--trust-key", "mine.pub", "--sign-key", "mine"] + data, in: folder)
            #expect(resumed.status == 0, "\(resumed.error)")
            #expect(try Checkpoint.load(from: directory.path("Checkpoints/run2.h5"), trustedKeys: [CheckpointPublicKey.read(from: directory.path("mine.pub"))]).signer != nil)
            let plain = MoeProcess.run(["train", "--epochs", "1", "--limit", "500", "--hidden", "16", "--save", "plain"] + data, in: folder)
            #expect(plain.status == 0)
            let unsigned = MoeProcess.run(["train", "--resume", "plain", "--epochs", "2", "--trust-key", "mine.pub"] + data, in: folder)
            #expect(unsigned.status == 1)
            #expect(unsigned.errorLines == ["Error: checkpoint 'Checkpoints/plain.h5' is not signed; only checkpoints signed by a trusted key are loaded when trusted keys are given"])

            let wrongKey = MoeProcess.run(["inspect", "run", "--trust-key", "mine"], in: folder)
            #expect(wrongKey.status != 0)
            #expect(wrongKey.error.contains("key file 'mine': it holds a private key; trust its public key file (.pub) instead"))
        }
    }

    @Test("A crafted file that crashes libhdf5 is one error line from inspect and eval, not a crash")
    func craftedFile() throws {
        let folder = repositoryRoot.appendingPathComponent("Tests/ContinualTests/Fixtures/crafted")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("crash-") }.sorted()
        let crash = folder.appendingPathComponent(try #require(names.first)).path
        for command in ["inspect", "detectors"] {
            let result = MoeProcess.run([command, crash])
            #expect(!result.signalled)
            #expect(result.status == 1)
            #expect(result.errorLines.count == 1 && result.errorLines[0].hasPrefix("Error: checkpoint '\(crash)'"), "\(result.error)")
        }
    }
}
