import Continual
import Foundation
import MoE
import Testing
import TestSupport

/// Issue 7, item 2: a save that cannot be written (file-size limit, full disk, read-only or
/// missing folder) fails with one clear error, leaves the previous checkpoint intact and
/// no temporary file, and the learner in memory goes on working.
@Suite("Write failures during save")
struct WriteFailureTests {
    /// The child starts with SIGXFSZ at its default action (kill), whatever this test
    /// process inherited (the test runner may ignore it): `moe` itself must ignore it.
    static let defaultSignals = "env --default-signal=XFSZ"

    /// Writes version 1 of `checkpoint-soak` (~560 KB) to `path`.
    static func writeFirstVersion(_ path: String) {
        let first = MoeProcess.run(["checkpoint-soak", path, "--count", "1"])
        #expect(first.status == 0, "\(first.error)")
    }

    /// Tries to save version 2 over `path` in a child process and checks the outcome:
    /// exit 1 (not a signal), one error line naming the file and `reason`, version 1
    /// intact, no temporary file left.
    static func expectFailedSoak(_ path: String, reason: String, shellPrefix: String = "",
                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = MoeProcess.shell("\(shellPrefix) exec \(defaultSignals) \"$MOE\" checkpoint-soak '\(path)' --count 1")
        #expect(result.status == 1 && !result.signalled, "status \(result.status), signalled \(result.signalled)", sourceLocation: sourceLocation)
        #expect(result.output == "start 2\n", sourceLocation: sourceLocation)
        #expect(result.errorLines.count == 1, "\(result.error)", sourceLocation: sourceLocation)
        let line = result.errorLines.first ?? ""
        #expect(line.hasPrefix("Error: cannot save checkpoint '\(path)': "), "\(line)", sourceLocation: sourceLocation)
        #expect(line.contains(reason), "\(line)", sourceLocation: sourceLocation)
        try expectVersionOne(path, sourceLocation: sourceLocation)
    }

    /// `path` still holds version 1 and its folder no temporary.
    static func expectVersionOne(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let checkpoint = try Checkpoint.load(from: path)
        #expect(checkpoint.training?.counters["version"] == 1, sourceLocation: sourceLocation)
        #expect(try checkpoint.makeModel().parameters == CrashDuringSaveTests.soakModel(1).parameters, sourceLocation: sourceLocation)
        let url = URL(fileURLWithPath: path)
        let entries = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        #expect(entries.filter { $0.hasPrefix("." + url.lastPathComponent + ".tmp-") }.isEmpty,
                "temporary left: \(entries)", sourceLocation: sourceLocation)
    }

    /// A learner in memory (model and Adam after some steps) whose save to `path` must fail
    /// with `reason`; afterwards it predicts as before, trains on, and saves elsewhere.
    static func expectLearnerSurvives(failingPath path: String, reason: String, goodFolder: TemporaryDirectory,
                                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        var generator = SeededGenerator(seed: 9)
        var model = MixtureOfExperts(sizes: [256, 512, 10], generator: &generator)
        var adam = Adam(learningRate: 0.01)
        let x = Matrix.uniform(rows: 32, columns: 256, low: 0, high: 1, using: &generator)
        let y = (0..<32).map { $0 % 10 }
        func step() {
            let (_, gradients, _) = model.lossAndGradients(x, labels: y)
            adam.update(&model, gradients: gradients, frozen: model.frozen)
        }
        step()
        let before = model(x)
        #expect(throws: CheckpointError.self, sourceLocation: sourceLocation) {
            try Checkpoint(model: model, optimizer: adam).save(to: path)
        }
        do {
            try Checkpoint(model: model, optimizer: adam).save(to: path)
        } catch {
            #expect(error.description.hasPrefix("cannot save checkpoint '\(path)': "), "\(error)", sourceLocation: sourceLocation)
            #expect(error.description.contains(reason), "\(error)", sourceLocation: sourceLocation)
        }
        #expect(model(x) == before, sourceLocation: sourceLocation)
        step()
        #expect(model(x) != before, sourceLocation: sourceLocation)
        let good = goodFolder.path("after-failure.h5")
        try Checkpoint(model: model, optimizer: adam).save(to: good)
        let reloaded = try Checkpoint.load(from: good)
        #expect(try reloaded.makeModel()(x) == model(x), sourceLocation: sourceLocation)
        #expect(try reloaded.makeAdam(for: model).steps == adam.steps, sourceLocation: sourceLocation)
    }

    @Test("A file-size limit (ulimit -f) makes the save fail with EFBIG, not kill the process with SIGXFSZ")
    func fileSizeLimit() throws {
        try withTemporaryDirectory { directory in
            let path = directory.path("limited.h5")
            Self.writeFirstVersion(path)
            // 100 blocks (51-102 KB, as the shell counts them) for a ~560 KB checkpoint.
            try Self.expectFailedSoak(path, reason: "writing failed: File too large", shellPrefix: "ulimit -f 100;")
        }
    }

    @Test("moe train under a file-size limit: periodic saves warn and training goes on; the final save fails clearly")
    func trainUnderFileSizeLimit() throws {
        try withTemporaryDirectory { directory in
            let folder = directory.url.path
            let data = TrainingData.synthetic
            let first = MoeProcess.run(["train", "--epochs", "1", "--limit", "500", "--hidden", "8", "--save", "t", "--data", data], in: folder)
            #expect(first.status == 0, "\(first.error)")
            let saved = try Checkpoint.load(from: directory.path("Checkpoints/t.h5"))
            // 500 samples = 4 batches per epoch; 2 more epochs, a save every 2 batches.
            let limited = MoeProcess.shell(
                "ulimit -f 20; exec \(Self.defaultSignals) \"$MOE\" train --resume t --epochs 3 --checkpoint-every 2 --data '\(data)'", in: folder)
            #expect(limited.status == 1 && !limited.signalled)
            let warnings = limited.errorLines.filter { $0.hasPrefix("warning: ") }
            #expect(warnings.count == 4, "\(limited.error)")
            #expect(warnings.allSatisfy {
                $0 == "warning: cannot save checkpoint 'Checkpoints/t.h5': writing failed: File too large; training goes on, the previous checkpoint is intact"
            })
            #expect(limited.error.contains("epoch 3/3"), "training did not go on: \(limited.error)")
            #expect(limited.errorLines.last == "Error: cannot save checkpoint 'Checkpoints/t.h5': writing failed: File too large")
            #expect(try Checkpoint.load(from: directory.path("Checkpoints/t.h5")) == saved)
            let entries = try FileManager.default.contentsOfDirectory(atPath: directory.path("Checkpoints"))
            #expect(entries == ["t.h5"])
        }
    }

    @Test("A missing folder and a 'folder' that is a file: clear errors, the learner goes on")
    func missingFolder() throws {
        try withTemporaryDirectory { directory in
            let missing = directory.path("no/such/folder/m.h5")
            let result = MoeProcess.run(["checkpoint-soak", missing, "--count", "1"])
            #expect(result.status == 1)
            #expect(result.errorLines == ["Error: cannot save checkpoint '\(missing)': the folder '\(directory.path("no/such/folder"))' does not exist"])
            try Self.expectLearnerSurvives(failingPath: missing, reason: "does not exist", goodFolder: directory)

            try Data("not a folder\n".utf8).write(to: URL(fileURLWithPath: directory.path("plain")))
            let underFile = directory.path("plain/m.h5")
            let file = MoeProcess.run(["checkpoint-soak", underFile, "--count", "1"])
            #expect(file.status == 1)
            #expect(file.errorLines == ["Error: cannot save checkpoint '\(underFile)': '\(directory.path("plain"))' is not a folder"])
            try Self.expectLearnerSurvives(failingPath: underFile, reason: "is not a folder", goodFolder: directory)
        }
    }

    @Test("A full disk (a tmpfs 1.5 times one checkpoint): ENOSPC mid-write, the previous checkpoint intact",
          .enabled(if: TmpfsMount.isAllowed, TmpfsMount.needsRoot))
    func fullDisk() throws {
        try withTemporaryDirectory { directory in
            // One copy fits, a second cannot (checkpoints are compressed: measure one first).
            Self.writeFirstVersion(directory.path("measure.h5"))
            let bytes = try #require(try FileManager.default.attributesOfItem(atPath: directory.path("measure.h5"))[.size] as? Int)
            let mountPoint = directory.path("small")
            let mount = try TmpfsMount(at: mountPoint, sizeKiB: max(64, bytes * 3 / 2 / 1024))
            defer { mount.unmount() }
            let path = mountPoint + "/full.h5"
            Self.writeFirstVersion(path)
            try Self.expectFailedSoak(path, reason: "writing failed: No space left on device")
            try Self.expectLearnerSurvives(failingPath: mountPoint + "/learner.h5", reason: "No space left on device", goodFolder: directory)
            try Self.expectVersionOne(path)
        }
    }

    @Test("A read-only filesystem: EROFS, the previous checkpoint intact",
          .enabled(if: TmpfsMount.isAllowed, TmpfsMount.needsRoot))
    func readOnlyFolder() throws {
        try withTemporaryDirectory { directory in
            // Tests run as root, which chmod does not stop: remount a tmpfs read-only.
            let mountPoint = directory.path("ro")
            let mount = try TmpfsMount(at: mountPoint, sizeKiB: 4096)
            defer { mount.unmount() }
            let path = mountPoint + "/ro.h5"
            Self.writeFirstVersion(path)
            try mount.remountReadOnly()
            try Self.expectFailedSoak(path, reason: "Read-only file system")
            try Self.expectLearnerSurvives(failingPath: path, reason: "Read-only file system", goodFolder: directory)
            try Self.expectVersionOne(path)
        }
    }
}

/// A tmpfs mounted for one test. Mounting needs root (or CAP_SYS_ADMIN): the tests that
/// need it are skipped, saying so, where it is not allowed (CI runs as root).
struct TmpfsMount {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let path: String

    /// True when this process may mount a tmpfs (probed once with a small one).
    static let isAllowed: Bool = {
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("moe-tmpfs-probe-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: probe) }
        guard let mount = try? TmpfsMount(at: probe, sizeKiB: 64) else { return false }
        mount.unmount()
        return true
    }()

    static let needsRoot: Comment = "mounting a tmpfs needs root (or CAP_SYS_ADMIN); run the tests as root to check full and read-only filesystems"

    /// Mounts a tmpfs of `sizeKiB` at `path`.
    init(at path: String, sizeKiB: Int) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let result = MoeProcess.run(executable: "/bin/mount", ["-t", "tmpfs", "-o", "size=\(sizeKiB)k", "tmpfs", path],
                                    in: nil, input: nil)
        guard result.status == 0 else {
            throw Failure(description: "cannot mount a tmpfs at \(path): \(result.error.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        self.path = path
    }

    func remountReadOnly() throws {
        let result = MoeProcess.run(executable: "/bin/mount", ["-o", "remount,ro", path], in: nil, input: nil)
        guard result.status == 0 else { throw Failure(description: "cannot remount \(path) read-only: \(result.error)") }
    }

    func unmount() {
        _ = MoeProcess.run(executable: "/bin/umount", [path], in: nil, input: nil)
    }
}
