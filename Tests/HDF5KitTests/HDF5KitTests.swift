import Foundation
import HDF5Kit
import Testing
import TestSupport

@Suite("HDF5Kit")
struct HDF5KitTests {
    @Test("Every element type round-trips in 1-D and 2-D, on disk and in memory")
    func roundTrip() throws {
        try withTemporaryDirectory { directory in
            let path = directory.path("types.h5")
            do {
                let file = try HDF5File.create(at: path)
                let root = try file.root()
                try root.createDataset("f32", values: [1.5, -2, 3.25, 4, 5, 6] as [Float], shape: [2, 3])
                try root.createDataset("f64", values: [Double.pi, -1e300], shape: [2])
                try root.createDataset("i32", values: [Int32.min, 0, Int32.max], shape: [3])
                try root.createDataset("i64", values: [Int64.min, 7, Int64.max, -1], shape: [2, 2])
                try root.createDataset("u8", values: [0, 255, 17] as [UInt8], shape: [1, 3])
                try root.createDataset("u64", values: [UInt64.max, 0, 12_345_678_901_234_567_890], shape: [3])
                try root.createDataset("empty", values: [] as [Float], shape: [0, 784])
                try file.close()
            }
            let file = try HDF5File.open(at: path)
            let root = try file.root()
            #expect(try root.dataset("f32").read(as: Float.self) == HDF5Array(values: [1.5, -2, 3.25, 4, 5, 6], shape: [2, 3]))
            #expect(try root.dataset("f64").read(as: Double.self).values == [Double.pi, -1e300])
            #expect(try root.dataset("i32").read(as: Int32.self).values == [Int32.min, 0, Int32.max])
            #expect(try root.dataset("i64").read(as: Int64.self) == HDF5Array(values: [Int64.min, 7, Int64.max, -1], shape: [2, 2]))
            #expect(try root.dataset("u8").read(as: UInt8.self).shape == [1, 3])
            #expect(try root.dataset("u64").read(as: UInt64.self).values == [UInt64.max, 0, 12_345_678_901_234_567_890])
            #expect(try root.dataset("empty").read(as: Float.self) == HDF5Array(values: [], shape: [0, 784]))
            #expect(try root.dataset("u64").storedType() == .element(.uint64))
        }
    }

    @Test("Reading as another element type names the file, the path, both types")
    func typeIsVerified() throws {
        let file = try HDF5File.createInMemory(name: "memory.h5")
        try file.root().createDataset("w", values: [1, 2] as [Double], shape: [2])
        let error = try #require(throws: HDF5Error.self) { try file.root().dataset("w").read(as: Float.self) }
        #expect(error.reason == .typeMismatch(expected: "float32", found: "float64"))
        #expect(error.description.contains("memory.h5") && error.description.contains("/w"))
        #expect(throws: HDF5Error.self) { try file.root().dataset("w").read(as: Int64.self) }
        #expect(throws: HDF5Error.self) { try file.root().dataset("w").readStrings() }
    }

    @Test("Missing objects, wrong kinds and bad names are distinct errors naming the path")
    func lookups() throws {
        let file = try HDF5File.createInMemory(name: "lookups.h5")
        let root = try file.root()
        let model = try root.createGroup("model")
        try model.createDataset("x", values: [1] as [Int64], shape: [1])
        #expect(try root.contains("model"))
        #expect(try !root.contains("nothing"))
        let missing = try #require(throws: HDF5Error.self) { try model.dataset("y") }
        #expect(missing.reason == .notFound && missing.path == "/model/y")
        let kind = try #require(throws: HDF5Error.self) { try model.group("x") }
        #expect(kind.reason == .typeMismatch(expected: "group", found: "dataset"))
        let name = try #require(throws: HDF5Error.self) { try model.createGroup("a/b") }
        #expect(name.reason == .invalidName("a/b"))
        #expect(try root.children() == [.init(name: "model", kind: .group)])
        #expect(try model.children() == [.init(name: "x", kind: .dataset)])
        let duplicate = try #require(throws: HDF5Error.self) { try model.createGroup("x") }
        guard case let .library(stack) = duplicate.reason else {
            Issue.record("expected HDF5's own error stack, got \(duplicate)")
            return
        }
        #expect(!stack.isEmpty)
        #expect(duplicate.description.contains("H5Gcreate2"))
    }

    @Test("Attributes: numbers, arrays and UTF-8 strings round-trip; listing and removal")
    func attributes() throws {
        let file = try HDF5File.createInMemory(name: "attributes.h5")
        let group = try file.root().createGroup("g")
        let values: [String: HDF5AttributeValue] = [
            "count": .int64(-42), "rate": .double(1e-3), "text": .string("grüße, ☃"),
            "empty": .string(""), "ints": .int64s([1, 2, 3]), "reals": .doubles([0.5, -0.25]),
        ]
        for (name, value) in values { try group.attributes.set(name, value) }
        try group.attributes.set("count", .int64(43))
        #expect(try group.attributes.names() == ["count", "empty", "ints", "rate", "reals", "text"])
        for (name, value) in values where name != "count" { #expect(try group.attributes.value(name) == value) }
        #expect(try group.attributes.value("count") == .int64(43))
        try group.attributes.remove("text")
        #expect(try !group.attributes.contains("text"))
        let error = try #require(throws: HDF5Error.self) { try group.attributes.value("text") }
        #expect(error.reason == .notFound && error.path == "/g@text")
    }

    @Test("String datasets round-trip, including an empty one")
    func strings() throws {
        let file = try HDF5File.createInMemory(name: "strings.h5")
        let root = try file.root()
        try root.createDataset("labels", strings: ["cat", "", "Ünïcode"])
        try root.createDataset("none", strings: [])
        #expect(try root.dataset("labels").readStrings() == ["cat", "", "Ünïcode"])
        #expect(try root.dataset("none").readStrings() == [])
        #expect(try root.dataset("labels").storedType() == .string(variableLength: true))
        // A NUL would silently cut the string: refused.
        let nul = try #require(throws: HDF5Error.self) { try root.createDataset("bad", strings: ["a\u{0}b"]) }
        #expect(nul.description.contains("NUL"))
        #expect(throws: HDF5Error.self) { try root.attributes.set("bad", .string("x\u{0}")) }
    }

    @Test("An in-memory image is the file after its user block; both forms reopen")
    func imageWithUserBlock() throws {
        let file = try HDF5File.createInMemory(name: "image.h5", userBlockSize: 512)
        try file.root().createDataset("w", values: [1, 2, 3, 4] as [Float], shape: [2, 2])
        let image = try file.image()
        try file.close()
        #expect(Array(image[0..<8]) == [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A])
        let reopened = try HDF5File.open(image: image, name: "copy.h5")
        #expect(try reopened.root().dataset("w").read(as: Float.self).values == [1, 2, 3, 4])
        try withTemporaryDirectory { directory in
            // Written to disk behind 512 bytes of ours, it is a file with a user block.
            let path = directory.path("block.h5")
            let block = [UInt8](repeating: 0x41, count: 512)
            try Data(block + image).write(to: URL(fileURLWithPath: path))
            let disk = try HDF5File.open(at: path)
            #expect(try disk.userBlockSize() == 512)
            #expect(try disk.root().dataset("w").read(as: Float.self).values == [1, 2, 3, 4])
            let withBlock = try HDF5File.open(image: block + image, name: path)
            #expect(try withBlock.root().dataset("w").read(as: Float.self).shape == [2, 2])
        }
        // The same content gives the same bytes (no modification times are stored).
        let again = try HDF5File.createInMemory(name: "image2.h5", userBlockSize: 512)
        try again.root().createDataset("w", values: [1, 2, 3, 4] as [Float], shape: [2, 2])
        #expect(try again.image() == image)
    }

    @Test("Opening a missing file or garbage fails with HDF5's stack and the file name")
    func badFiles() throws {
        try withTemporaryDirectory { directory in
            let missing = try #require(throws: HDF5Error.self) { try HDF5File.open(at: directory.path("none.h5")) }
            #expect(missing.description.contains("none.h5"))
            let garbage = directory.path("garbage.h5")
            try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: URL(fileURLWithPath: garbage))
            let error = try #require(throws: HDF5Error.self) { try HDF5File.open(at: garbage) }
            guard case let .library(stack) = error.reason else {
                Issue.record("expected a library error, got \(error)")
                return
            }
            #expect(!stack.isEmpty && error.file == garbage)
            #expect(throws: HDF5Error.self) { try HDF5File.open(image: [1, 2, 3], name: "tiny") }
            #expect(throws: HDF5Error.self) { try HDF5File.open(image: [], name: "empty") }
        }
    }

    /// Debian's python3 when it imports h5py (scripts/install-dependencies.sh installs it).
    static let python: String? = {
        let python = "/usr/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python), run(python, ["-c", "import h5py"]).status == 0 else {
            return nil
        }
        return python
    }()

    @Test("Files written by HDF5Kit are read by h5py with strings as str",
          .enabled(if: python != nil, "needs /usr/bin/python3 with h5py (apt-get install python3-h5py)"))
    func h5pyReads() throws {
        let python = try #require(Self.python)
        try withTemporaryDirectory { directory in
            let path = directory.path("py.h5")
            do {
                let file = try HDF5File.create(at: path, userBlockSize: 512)
                let root = try file.root()
                try root.attributes.set("name", .string("grüße"))
                try root.attributes.set("n", .int64(3))
                try root.createDataset("w", values: [1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
                try root.createDataset("labels", strings: ["a", "b"])
                try file.close()
            }
            let script = """
            import h5py, sys
            f = h5py.File(sys.argv[1], "r")
            assert isinstance(f.attrs["name"], str) and f.attrs["name"] == "grüße", f.attrs["name"]
            assert int(f.attrs["n"]) == 3
            w = f["w"][()]
            assert w.shape == (2, 3) and w.dtype.name == "float32" and w[1, 2] == 6
            assert [s.decode() if isinstance(s, bytes) else s for s in f["labels"][()]] == ["a", "b"]
            assert f.userblock_size == 512
            print("ok")
            """
            let result = run(python, ["-c", script, path])
            #expect(result.status == 0, "h5py failed: \(result.output)")
        }
    }

    /// Datasets big enough to be compressed, in several chunks with a partial last one:
    /// smooth Float64 values, random Float32 bit patterns (NaNs among them) that deflate
    /// cannot shrink (stored shuffled only), small Int64 indices, bytes.
    static func compressedSamples() -> (f64: [Double], f32: [Float], i64: [Int64], u8: [UInt8]) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
        let f64 = (0..<100_000).map { Double($0) * 0.001 + sin(Double($0)) }
        let f32 = (0..<300_000).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: next() >> 32)) }
        let i64 = (0..<77_000).map { _ in Int64(next() % 256) }
        let u8 = (0..<200_001).map { UInt8(truncatingIfNeeded: $0 / 1000) }
        return (f64, f32, i64, u8)
    }

    /// ``compressedSamples()`` as datasets `f64`, `f32` (300 x 1000), `i64` (1000 x 77) and
    /// `u8`, and the Float64 values again uncompressed as `plain`.
    static func writeCompressedSamples(to path: String) throws {
        let (f64, f32, i64, u8) = compressedSamples()
        let file = try HDF5File.create(at: path)
        let root = try file.root()
        try root.createDataset("f64", values: f64, shape: [f64.count])
        try root.createDataset("f32", values: f32, shape: [300, 1000])
        try root.createDataset("i64", values: i64, shape: [1000, 77])
        try root.createDataset("u8", values: u8, shape: [u8.count])
        try root.createDataset("plain", values: f64, shape: [f64.count], compressed: false)
        try file.close()
    }

    @Test("Compressed datasets, their chunks filtered on every core, read back bit for bit (a partial last chunk, chunks deflate cannot shrink)")
    func compressedChunks() throws {
        let (f64, f32, i64, u8) = Self.compressedSamples()
        try withTemporaryDirectory { directory in
            let path = directory.path("chunks.h5")
            try Self.writeCompressedSamples(to: path)
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
            let raw = f64.count * 8 * 2 + f32.count * 4 + i64.count * 8 + u8.count
            #expect(size < raw - f64.count * 4, "the compressible datasets were not compressed: \(size) of \(raw) bytes")
            let root = try HDF5File.open(at: path).root()
            #expect(try root.dataset("f64").read(as: Double.self).values.map(\.bitPattern) == f64.map(\.bitPattern))
            let read32 = try root.dataset("f32").read(as: Float.self)
            #expect(read32.shape == [300, 1000] && read32.values.map(\.bitPattern) == f32.map(\.bitPattern))
            #expect(try root.dataset("i64").read(as: Int64.self) == HDF5Array(values: i64, shape: [1000, 77]))
            #expect(try root.dataset("u8").read(as: UInt8.self).values == u8)
            #expect(try root.dataset("plain").read(as: Double.self).values == f64)
        }
    }

    @Test("h5py reads compressed datasets written chunk by chunk as HDF5's shuffle and deflate filters",
          .enabled(if: python != nil, "needs /usr/bin/python3 with h5py (apt-get install python3-h5py)"))
    func h5pyReadsCompressedChunks() throws {
        let python = try #require(Self.python)
        let (f64, f32, i64, _) = Self.compressedSamples()
        try withTemporaryDirectory { directory in
            let path = directory.path("chunks.h5")
            try Self.writeCompressedSamples(to: path)
            // h5py writes each dataset's bytes as it reads them; they must be the values.
            let script = """
            import h5py, sys
            f = h5py.File(sys.argv[1], "r")
            for name in ("f64", "f32", "i64"):
                d = f[name]
                assert d.compression == "gzip" and d.shuffle, (name, d.compression, d.shuffle)
                open(sys.argv[2] + "/" + name + ".bin", "wb").write(d[()].tobytes())
            print("ok")
            """
            let result = run(python, ["-c", script, path, directory.url.path])
            #expect(result.status == 0, "h5py failed: \(result.output)")
            func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: directory.path(name + ".bin")))) }
            #expect(try bytes("f64") == f64.withUnsafeBytes { Array($0) })
            #expect(try bytes("f32") == f32.withUnsafeBytes { Array($0) })
            #expect(try bytes("i64") == i64.withUnsafeBytes { Array($0) })
        }
    }

    @Test("Concurrent writers on many threads are serialised by the lock")
    func concurrency() async throws {
        let sums = try await withThrowingTaskGroup(of: Float.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var total: Float = 0
                    for round in 0..<20 {
                        let file = try HDF5File.createInMemory(name: "task\(task)-\(round)")
                        let root = try file.root()
                        try root.createDataset("v", values: [Float(task), Float(round)], shape: [2])
                        try root.attributes.set("task", .int64(Int64(task)))
                        let image = try file.image()
                        let copy = try HDF5File.open(image: image, name: "copy")
                        total += try copy.root().dataset("v").read(as: Float.self).values.reduce(0, +)
                    }
                    return total
                }
            }
            var all: [Float] = []
            for try await sum in group { all.append(sum) }
            return all.sorted()
        }
        let expected: [Float] = (0..<8).map { (task: Int) -> Float in Float(task * 20 + 190) }
        #expect(sums == expected)
    }
}

/// Runs a program and returns its exit status and combined output.
func run(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return (-1, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
