import Glibc
import HDF5Kit

/// Parses a small file this process makes itself, with every kind of value a checkpoint
/// holds, exactly as a request is parsed, before the first request.
///
/// Every fork then starts from a process that has already resolved its library symbols,
/// filled the Swift runtime's caches and set up libhdf5's: without this, each fork
/// repeated that work (about 3 ms, more than parsing a small checkpoint). The file is
/// trusted: no byte of it comes from outside.
func warmUp() {
    do {
        let file = try HDF5File.createInMemory(name: "warm-up", userBlockSize: 512)
        let root = try file.root()
        try root.attributes.set("text", .string("warm-up"))
        try root.attributes.set("number", .int64(1))
        try root.attributes.set("real", .double(0.5))
        try root.attributes.set("numbers", .int64s([1, 2]))
        try root.attributes.set("reals", .doubles([0.5, 1.5]))
        let group = try root.createGroup("group")
        let matrix = try group.createDataset("matrix", values: [1, 2, 3, 4] as [Float], shape: [2, 2])
        try matrix.attributes.set("frozen", .int64(0))
        try group.createDataset("reals", values: [1, 2] as [Double], shape: [2])
        try group.createDataset("integers", values: [1, 2] as [Int64], shape: [1, 2])
        try group.createDataset("unsigned", values: [1, 2, 3, 4] as [UInt64], shape: [4])
        try group.createDataset("strings", strings: ["a", "b"])
        try group.createGroup("empty")
        let image = try file.image(leadingBytes: 512)
        try file.close()
        let imageBytes = UnsafeMutableRawBufferPointer.allocate(byteCount: image.count, alignment: 16)
        let answer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer {
            imageBytes.deallocate()
            answer.deallocate()
        }
        imageBytes.copyBytes(from: image)
        let parsed = try HDF5File.open(borrowing: UnsafeRawBufferPointer(imageBytes), name: "warm-up")
        _ = try parsed.encodeSnapshot { size in size <= answer.count ? UnsafeMutableRawBufferPointer(rebasing: answer[0..<size]) : nil }
        try parsed.close()
        let error = HDF5Error(file: "", path: "/", operation: "warm up", reason: .library(stack: ["a line"]))
        _ = HDF5SnapshotWire.encode(.failure(error)) { _ in true }
    } catch {
        // Only slower forks: nothing depends on the warm-up.
        _ = writeAll(STDERR_FILENO, Array("moe-checkpoint-reader: warm-up failed: \(error)\n".utf8))
    }
}
