import Foundation
import HDF5Kit
import Testing
import TestSupport

@Suite("HDF5Kit: snapshots and their wire format")
struct HDF5SnapshotTests {
    /// A file with every kind of value the layer writes.
    static func sample() throws -> HDF5File {
        let file = try HDF5File.createInMemory(name: "sample.h5", userBlockSize: 512)
        let root = try file.root()
        try root.attributes.set("format", .string("sample ☃"))
        try root.attributes.set("version", .int64(-3))
        let group = try root.createGroup("group")
        try group.attributes.set("rates", .doubles([0.5, -1e300]))
        try group.attributes.set("sizes", .int64s([1, 2, 3]))
        try group.attributes.set("rate", .double(.pi))
        try group.createDataset("f32", values: [1.5, -2, 3.25, 4, 5, 6] as [Float], shape: [2, 3])
        try group.createDataset("f64", values: [Double.pi, -1e300], shape: [2])
        try group.createDataset("i32", values: [Int32.min, 0, Int32.max], shape: [3])
        try group.createDataset("i64", values: [Int64.min, 7, Int64.max, -1], shape: [2, 2])
        try group.createDataset("u8", values: [0, 255, 17] as [UInt8], shape: [1, 3])
        let u64 = try group.createDataset("u64", values: [UInt64.max, 0], shape: [2])
        try u64.attributes.set("frozen", .int64(1))
        try group.createDataset("empty", values: [] as [Float], shape: [0, 784])
        try group.createDataset("labels", strings: ["a", "Ünïcode", ""])
        try group.createGroup("nested").createGroup("deeper")
        try root.createDataset("none", strings: [])
        return file
    }

    @Test("A snapshot holds every group, dataset and attribute with its stored type and shape")
    func snapshot() throws {
        let snapshot = try Self.sample().snapshot()
        #expect(snapshot.root.attributes == ["format": .string("sample ☃"), "version": .int64(-3)])
        guard case let .group(group)? = snapshot.root.children["group"] else {
            Issue.record("no /group in \(snapshot.root.children.keys)")
            return
        }
        #expect(group.attributes["sizes"] == .int64s([1, 2, 3]))
        guard case let .dataset(f32)? = group.children["f32"], case let .dataset(u64)? = group.children["u64"],
              case let .dataset(labels)? = group.children["labels"] else {
            Issue.record("datasets missing from \(group.children.keys)")
            return
        }
        #expect(f32.values == .float32(HDF5Array(values: [1.5, -2, 3.25, 4, 5, 6], shape: [2, 3])))
        #expect(u64.values == .uint64(HDF5Array(values: [UInt64.max, 0], shape: [2])))
        #expect(u64.attributes == ["frozen": .int64(1)])
        #expect(labels.values == .strings(["a", "Ünïcode", ""], variableLength: true))
        #expect(group.children["i32"].map(\.kind) == .dataset)
        #expect(group.children["nested"] == .group(HDF5GroupSnapshot(children: ["deeper": .group(HDF5GroupSnapshot())])))
        #expect(snapshot.root.children["none"] == .dataset(HDF5DatasetSnapshot(values: .strings([], variableLength: true))))
    }

    @Test("The wire format round-trips a snapshot and every kind of error, byte for byte")
    func wireRoundTrip() throws {
        let snapshot = try Self.sample().snapshot()
        let bytes = HDF5SnapshotWire.encode(.success(snapshot))
        #expect(try HDF5SnapshotWire.decode(bytes, name: "x") == .success(snapshot))
        #expect(HDF5SnapshotWire.encode(try HDF5SnapshotWire.decode(bytes, name: "x")) == bytes)
        let reasons: [HDF5Error.Reason] = [
            .library(stack: ["H5Dread(): failed [Dataset: Read failed]", "H5C_protect(): bad"]),
            .typeMismatch(expected: "float32", found: "int16"), .shapeMismatch(expected: [2, 3], found: [4]),
            .unsupportedRank(3), .notFound, .invalidName("a/b"), .malformed("the dataspace is null"),
        ]
        for reason in reasons {
            let error = HDF5Error(file: "f.h5", path: "/a@b", operation: "read it", reason: reason)
            let encoded = HDF5SnapshotWire.encode(.failure(error))
            #expect(try HDF5SnapshotWire.decode(encoded, name: "f.h5") == .failure(error))
        }
    }

    @Test("Encoding straight into memory gives the same bytes, the values read into their places")
    func encodeIntoMemory() throws {
        let file = try Self.sample()
        let expected = HDF5SnapshotWire.encode(.success(try file.snapshot()))
        var memory = [UInt8](repeating: 0xAA, count: expected.count + 10)
        var offered = -1
        let size = try memory.withUnsafeMutableBytes { buffer in
            try file.encodeSnapshot { bytes in
                offered = bytes
                return UnsafeMutableRawBufferPointer(rebasing: buffer[0..<bytes])
            }
        }
        #expect(size == expected.count && offered == expected.count)
        #expect(Array(memory.prefix(size)) == expected)
        // Without room, an error and nothing read.
        let error = try #require(throws: HDF5Error.self) { try file.encodeSnapshot { _ in nil } }
        #expect(error.description.contains("no room for an answer of \(expected.count) bytes"))
        // Memory in place: a file opened without a copy of its image reads the same.
        let image = try file.image(leadingBytes: 512)
        let borrowed = try image.withUnsafeBytes { try HDF5File.open(borrowing: $0, name: "borrowed").snapshot() }
        #expect(borrowed == (try file.snapshot()))
    }

    @Test("Every truncation of an answer, and bytes added after it, are refused as malformed")
    func wireTruncation() throws {
        let bytes = HDF5SnapshotWire.encode(.success(try Self.sample().snapshot()))
        for length in 0..<bytes.count {
            let error = try #require(throws: HDF5Error.self) { try HDF5SnapshotWire.decode(Array(bytes.prefix(length)), name: "cut.h5") }
            guard case .malformed = error.reason, error.file == "cut.h5" else {
                Issue.record("cut at \(length): \(error)")
                return
            }
        }
        let long = try #require(throws: HDF5Error.self) { try HDF5SnapshotWire.decode(bytes + [0], name: "long.h5") }
        #expect(long.description.contains("1 bytes after the end"))
    }

    /// The answer of a root with one dataset `d` of `values`, written by hand.
    static func answer(dataset values: [UInt8]) -> [UInt8] {
        var bytes = Array("HDF5SNAP".utf8) + [1, 1]
        bytes += [1] + le(UInt32(0)) + le(UInt32(1))              // root: no attributes, one child
        bytes += le(UInt32(1)) + Array("d".utf8) + [2] + le(UInt32(0)) // "d": a dataset, no attributes
        return bytes + values
    }

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

    @Test("Counts, lengths and shapes are checked against the bytes present before anything is allocated")
    func wireBounds() throws {
        let cases: [(String, [UInt8], String)] = [
            ("a shape of 2^62 x 2^62 floats", Self.answer(dataset: [1, 2] + Self.le(UInt64(1) << 62) + Self.le(UInt64(1) << 62)), "needs more than"),
            ("a dimension beyond Int.max", Self.answer(dataset: [1, 1] + Self.le(UInt64.max)), "too large"),
            ("4 billion strings", Self.answer(dataset: [7, 1] + Self.le(UInt64(UInt32.max)) + [1]), "cannot fit"),
            ("a rank of 3 for numbers", Self.answer(dataset: [1, 3] + Self.le(UInt64(1)) + Self.le(UInt64(1)) + Self.le(UInt64(1))), "rank 3"),
            ("an unknown element type", Self.answer(dataset: [9, 1] + Self.le(UInt64(0))), "unknown element type"),
            ("a string of 4 GiB", Self.answer(dataset: [8, 0] + Self.le(UInt32.max)), "bytes needed"),
            ("invalid UTF-8", Self.answer(dataset: [8, 0] + Self.le(UInt32(2)) + [0xC3, 0x28]), "not valid UTF-8"),
            ("4 billion attributes", Array("HDF5SNAP".utf8) + [1, 1, 1] + Self.le(UInt32.max), "cannot fit"),
            ("a wire version from the future", Array("HDF5SNAP".utf8) + [2, 1], "wire version 2"),
            ("not an answer", Array("HDF5SNAX".utf8) + [1, 1], "does not start with"),
        ]
        for (what, bytes, expected) in cases {
            let error = try #require(throws: HDF5Error.self, "\(what)") { try HDF5SnapshotWire.decode(bytes, name: "w.h5") }
            #expect(error.description.contains(expected), "\(what): \(error)")
        }
        // Names must be valid, increasing in byte order, and unique.
        func group(_ names: [String]) -> [UInt8] {
            var bytes = Array("HDF5SNAP".utf8) + [1, 1, 1] + Self.le(UInt32(0)) + Self.le(UInt32(names.count))
            for name in names { bytes += Self.le(UInt32(name.utf8.count)) + Array(name.utf8) + [3] }
            return bytes
        }
        #expect(try HDF5SnapshotWire.decode(group(["a", "b"]), name: "n") == .success(HDF5Snapshot(root: HDF5GroupSnapshot(children: ["a": .link, "b": .link]))))
        for (names, expected) in [(["b", "a"], "does not follow"), (["a", "a"], "does not follow"), (["a/b"], "not a valid HDF5 name"),
                                  (["."], "not a valid HDF5 name"), ([""], "not a valid HDF5 name"), (["e\u{301}", "\u{e9}"], "two children")] {
            // (One byte more, so that an empty name is not refused for its size first.)
            let error = try #require(throws: HDF5Error.self) { try HDF5SnapshotWire.decode(group(names) + [0], name: "n") }
            #expect(error.description.contains(expected), "\(names): \(error)")
        }
        // Groups nested deeper than the limit.
        var deep = Array("HDF5SNAP".utf8) + [1, 1, 1] + Self.le(UInt32(0))
        for _ in 0...HDF5Snapshot.maximumDepth { deep += Self.le(UInt32(1)) + Self.le(UInt32(1)) + Array("g".utf8) + [1] + Self.le(UInt32(0)) }
        let error = try #require(throws: HDF5Error.self) { try HDF5SnapshotWire.decode(deep, name: "deep.h5") }
        #expect(error.description.contains("nested more than \(HDF5Snapshot.maximumDepth) deep"))
    }

    @Test("Request and reply headers round-trip; malformed ones are refused")
    func processHeaders() throws {
        let request = HDF5SnapshotRequest(imageBytes: 12_345, memoryBytes: 1 << 30, answerLimit: 99, cpuSeconds: 3, timeoutMilliseconds: 2500)
        #expect(HDF5SnapshotRequest(header: request.header()) == request)
        #expect(request.header().count == HDF5SnapshotRequest.headerSize)
        var bad = request.header()
        bad[0] ^= 1
        #expect(HDF5SnapshotRequest(header: bad) == nil)
        bad = request.header()
        bad[32...35] = [0, 0, 0, 0]  // no CPU time
        #expect(HDF5SnapshotRequest(header: bad) == nil)
        #expect(HDF5SnapshotRequest(header: Array(request.header().prefix(47))) == nil)
        let outcomes: [HDF5SnapshotReply.Outcome] = [.answered(bytes: 77), .signaled(11), .exited(2), .timedOut, .answerTooLarge]
        for outcome in outcomes {
            let reply = HDF5SnapshotReply(outcome)
            #expect(HDF5SnapshotReply(header: reply.header()) == reply)
        }
        var reply = HDF5SnapshotReply(.signaled(9)).header()
        reply[16] = 1  // a crash with an answer length
        #expect(HDF5SnapshotReply(header: reply) == nil)
    }
}
