import Continual
import Foundation
import HDF5Kit
import MoE
import Testing
import TestSupport

/// Bad input of every kind: each is a distinct, clear error naming the file; never a
/// crash and never a model that loads wrong.
@Suite("Checkpoint integrity")
struct CheckpointIntegrityTests {
    @Test("A missing file, an empty file, random bytes and a folder are told apart")
    func notCheckpoints() throws {
        try withTemporaryDirectory { directory in
            let missing = directory.path("missing.h5")
            #expect(throws: CheckpointError.fileNotFound(file: missing)) { try Checkpoint.load(from: missing) }

            let empty = directory.path("empty.h5")
            try Data().write(to: URL(fileURLWithPath: empty))
            let e1 = try #require(throws: CheckpointError.self) { try Checkpoint.load(from: empty) }
            #expect(e1 == .notACheckpoint(file: empty, reason: "the file is empty"))
            #expect(e1.description.contains(empty))

            var generator = SeededGenerator(seed: 9)
            let random = directory.path("random.h5")
            let noise = (0..<5000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            try Data(noise).write(to: URL(fileURLWithPath: random))
            let e2 = try #require(throws: CheckpointError.self) { try Checkpoint.load(from: random) }
            #expect(e2.description == "'\(random)' is not a checkpoint: it does not start with the checkpoint signature 'MOE-CKPT'")

            let e3 = try #require(throws: CheckpointError.self) { try Checkpoint.load(from: directory.url.path) }
            guard case .unreadable(file: directory.url.path, _) = e3 else {
                Issue.record("expected unreadable, got \(e3)")
                return
            }
        }
    }

    @Test("An HDF5 file that is not a checkpoint is refused, with or without a header")
    func foreignHDF5() throws {
        try withTemporaryDirectory { directory in
            let path = directory.path("foreign.h5")
            do {
                let file = try HDF5File.create(at: path)
                try file.root().createDataset("weights", values: [1, 2, 3] as [Float], shape: [3])
                try file.close()
            }
            let e1 = try #require(throws: CheckpointError.self) { try Checkpoint.load(from: path) }
            guard case let .notACheckpoint(file, reason) = e1, file == path, reason.contains("HDF5 file without a checkpoint header") else {
                Issue.record("unexpected \(e1)")
                return
            }
            // Even behind a valid header, foreign content is not taken for a checkpoint.
            let memory = try HDF5File.createInMemory(name: path, userBlockSize: 512)
            try memory.root().createDataset("weights", values: [1, 2, 3] as [Float], shape: [3])
            let wrapped = CheckpointFixtures.withHeader(try memory.image())
            let e2 = try #require(throws: CheckpointError.self) { try Checkpoint.decode(wrapped, name: "wrapped.h5") }
            #expect(e2 == .notACheckpoint(file: "wrapped.h5", reason: "its HDF5 root has no 'format' attribute"))
        }
    }

    @Test("A file cut at any of 50 points is reported as truncated (or empty)")
    func truncation() throws {
        let bytes = try CheckpointFixtures.fullCheckpoint().encoded(name: "t.h5")
        try withTemporaryDirectory { directory in
            let path = directory.path("cut.h5")
            for k in 0..<50 {
                let length = bytes.count * k / 50
                try Data(bytes.prefix(length)).write(to: URL(fileURLWithPath: path))
                let error = try #require(throws: CheckpointError.self) { try Checkpoint.load(from: path) }
                let expected: CheckpointError = length == 0
                    ? .notACheckpoint(file: path, reason: "the file is empty")
                    : .truncated(file: path, expectedBytes: length < 512 ? 512 : bytes.count, actualBytes: length)
                #expect(error == expected, "cut at \(length) of \(bytes.count)")
                #expect(error.description.contains(path))
            }
        }
        let error = try #require(throws: CheckpointError.self) { try Checkpoint.decode(bytes + [0], name: "long.h5") }
        #expect(error == .trailingBytes(file: "long.h5", expectedBytes: bytes.count, actualBytes: bytes.count + 1))
    }

    @Test("A byte flipped at any of 200 positions is detected: signature, header or content")
    func byteFlips() throws {
        let bytes = try CheckpointFixtures.fullCheckpoint().encoded(name: "f.h5")
        var positions = Array(stride(from: 0, to: bytes.count, by: max(1, bytes.count / 200)))
        positions += [0, 7, 8, 12, 16, 24, 32, 39, 100, 503, 504, 511, 512, bytes.count - 1]
        #expect(positions.count >= 100)
        for position in positions {
            for mask: UInt8 in [0x01, 0xFF] {
                var corrupt = bytes
                corrupt[position] ^= mask
                let error = try #require(throws: CheckpointError.self) { try Checkpoint.decode(corrupt, name: "f.h5") }
                switch (position, error) {
                case (0..<8, .notACheckpoint(file: "f.h5", _)): break
                case (8..<512, .corruptHeader(file: "f.h5", _)): break
                case (512..., .checksumMismatch(file: "f.h5", _, _)): break
                default: Issue.record("flip at \(position) gave \(error)")
                }
            }
        }
    }

    @Test("A newer format version is refused with a clear message, in the header or inside")
    func newerVersion() throws {
        let bytes = try CheckpointFixtures.fullCheckpoint().encoded(name: "v.h5")
        // A header that says version 2, with a valid header digest.
        var header = Array(bytes.prefix(512))
        header[8] = 2
        header.replaceSubrange(504..<512, with: CheckpointFixtures.littleEndian(XXHash64.hash(header, range: 0..<504)))
        let error = try #require(throws: CheckpointError.self) { try Checkpoint.decode(header + bytes[512...], name: "v2.h5") }
        #expect(error == .unsupportedVersion(file: "v2.h5", version: 2))
        #expect(error.description.hasPrefix("checkpoint 'v2.h5' has unsupported format version 2; this build reads 1"))

        // A valid v1 header around content whose format_version attribute says 3.
        let memory = try HDF5File.createInMemory(name: "inner", userBlockSize: 512)
        let root = try memory.root()
        try root.attributes.set("format", .string("moe-checkpoint"))
        try root.attributes.set("format_version", .int64(3))
        let inner = try #require(throws: CheckpointError.self) { try Checkpoint.decode(CheckpointFixtures.withHeader(try memory.image()), name: "v3.h5") }
        #expect(inner == .unsupportedVersion(file: "v3.h5", version: 3))
    }

    @Test("Structural damage inside a well-formed file is named precisely")
    func structure() throws {
        func build(_ edit: (HDF5Group) throws -> Void) throws -> [UInt8] {
            let memory = try HDF5File.createInMemory(name: "s", userBlockSize: 512)
            let root = try memory.root()
            for (name, value) in [("format", HDF5AttributeValue.string("moe-checkpoint")), ("format_version", .int64(1)),
                                  ("library_version", .string("x")), ("created", .string("now")), ("description", .string(""))] {
                try root.attributes.set(name, value)
            }
            try edit(root)
            return CheckpointFixtures.withHeader(try memory.image())
        }
        let noParameters = try build { root in
            try root.createGroup("model")
            try root.createDataset("classes", values: [0] as [Int64], shape: [1])
        }
        #expect(throws: CheckpointError.missing(path: "/parameters", file: "s.h5")) { try Checkpoint.decode(noParameters, name: "s.h5") }
        let extra = try build { root in
            for name in ["model", "parameters", "junk"] { try root.createGroup(name) }
            try root.createDataset("classes", values: [0] as [Int64], shape: [1])
        }
        #expect(throws: CheckpointError.unexpected(path: "/junk", file: "s.h5")) { try Checkpoint.decode(extra, name: "s.h5") }
        let float64Parameter = try build { root in
            try root.createGroup("model")
            let parameters = try root.createGroup("parameters")
            let dataset = try parameters.createDataset("trunk.0.weight", values: [1, 2] as [Double], shape: [1, 2])
            try dataset.attributes.set("frozen", .int64(0))
            try root.createDataset("classes", values: [0] as [Int64], shape: [1])
        }
        let e = try #require(throws: CheckpointError.self) { try Checkpoint.decode(float64Parameter, name: "s.h5") }
        #expect(e == .wrongType(path: "/parameters/trunk.0.weight", expected: "float32", actual: "float64", file: "s.h5"))
        #expect(e.description == "checkpoint 's.h5': /parameters/trunk.0.weight should be float32 but is float64")
        let noFrozenFlag = try build { root in
            try root.createGroup("model")
            try root.createGroup("parameters").createDataset("w", values: [1] as [Float], shape: [1, 1])
            try root.createDataset("classes", values: [0] as [Int64], shape: [1])
        }
        #expect(throws: CheckpointError.missing(path: "/parameters/w@frozen", file: "s.h5")) { try Checkpoint.decode(noFrozenFlag, name: "s.h5") }
    }
}

extension CheckpointFixtures {
    /// `payload` (an HDF5 image without user block) behind a valid version-1 header.
    static func withHeader(_ payload: [UInt8]) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        header.replaceSubrange(0..<8, with: Array("MOE-CKPT".utf8))
        header[8] = 1
        header.replaceSubrange(12..<16, with: [0, 2, 0, 0])
        header.replaceSubrange(16..<24, with: CheckpointFixtures.littleEndian(UInt64(payload.count)))
        header[24] = 1
        header.replaceSubrange(32..<40, with: CheckpointFixtures.littleEndian(XXHash64.hash(payload)))
        header.replaceSubrange(504..<512, with: CheckpointFixtures.littleEndian(XXHash64.hash(header, range: 0..<504)))
        return header + payload
    }

    static func littleEndian(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}
