import ArgumentParser
import Continual
import Foundation

struct Keygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make an Ed25519 key pair that signs checkpoints: a private key file and its public key beside it.",
        discussion: """
            Writes FILE (the private key, readable by you only: mode 600) and FILE.pub (the \
            public key, to give to whoever loads your checkpoints). Existing files are never \
            replaced. Sign with --sign-key FILE on any command that saves a checkpoint; load \
            with --trust-key FILE.pub (repeatable) on any command that loads one, and only \
            checkpoints signed by a trusted key are accepted.
            """)

    @Option(help: ArgumentHelp("The private key file to write; the public key goes to FILE.pub.", valueName: "file"))
    var out: String

    @Flag(help: "Print one JSON object (the two paths and the key's fingerprint) on the last line of stdout.")
    var json = false

    struct Output: Encodable {
        var privateKey: String
        var publicKey: String
        var fingerprint: String
    }

    func run() throws {
        let publicPath = out + ".pub"
        for path in [out, publicPath] where FileManager.default.fileExists(atPath: path) {
            throw CommandFailure("'\(path)' exists; keys are never replaced (choose another --out, or remove the old pair)")
        }
        let key = CheckpointSigningKey()
        try failingClearly { try key.write(to: out) }
        do {
            try key.publicKey.write(to: publicPath)
        } catch {
            try? FileManager.default.removeItem(atPath: out)
            throw CommandFailure(error)
        }
        let console = Console(json: json)
        console.say("private key: \(out) (mode 600; keep it secret; sign with --sign-key \(out))")
        console.say("public key:  \(publicPath) (fingerprint \(key.publicKey.fingerprint); load with --trust-key \(publicPath))")
        try console.emit(Output(privateKey: out, publicKey: publicPath, fingerprint: key.publicKey.fingerprint))
    }
}
