import CHDF5
import CZlib
import Dispatch
import Synchronization

/// HDF5's shuffle and deflate filters, run here on every chunk of a dataset at once, the
/// chunks then written as they are (`H5Dwrite_chunk`).
///
/// libhdf5 filters a dataset's chunks one after the other on the calling thread, with
/// deflate's default strategy; a checkpoint's 16 MB of gate statistics took most of a
/// save's 0.5 s that way. Here the chunks are shuffled and deflated on every core, with
/// zlib's run-length strategy (`Z_RLE`): on shuffled floats it is about twice as fast as
/// the default and compresses a little better (matches within a byte plane are runs).
/// What is written is what the filters themselves would write: the byte shuffle of
/// HDF5's `H5Z_filter_shuffle`, then a zlib stream that any inflate reads (h5py,
/// `h5dump`, libhdf5); a chunk that deflate would not shrink is stored shuffled only,
/// with the deflate filter marked skipped in its filter mask, as libhdf5 does for an
/// optional filter that fails. Values never change.
enum HDF5ChunkFilters {
    /// Writes `bytes` (the dataset's row-major values, `elementSize` bytes each, of
    /// `shape`) into `dataset`, whose chunks are `chunk` (whole rows of a 2-D dataset, or
    /// runs of a 1-D one) and whose filters are shuffle then deflate. The last chunk is
    /// padded with zeros, as libhdf5 pads it.
    static func write(
        dataset: hid_t, bytes: [UInt8], shape: [Int], chunk: [Int], elementSize: Int, site: Site
    ) throws(HDF5Error) {
        precondition(shape.count == chunk.count && (shape.count == 1 || chunk[1] == shape[1]),
                     "Chunks are runs of a 1-D dataset or whole rows of a 2-D one")
        let chunkBytes = chunk.reduce(1, *) * elementSize
        let count = (bytes.count + chunkBytes - 1) / chunkBytes
        let filtered = Mutex<[(bytes: [UInt8], deflated: Bool)?]>(Array(repeating: nil, count: count))
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let start = index * chunkBytes
            let shuffled = shuffle(bytes, from: start, count: min(chunkBytes, bytes.count - start),
                                   chunkBytes: chunkBytes, elementSize: elementSize)
            let result = deflated(shuffled).map { (bytes: $0, deflated: true) } ?? (bytes: shuffled, deflated: false)
            filtered.withLock { $0[index] = result }
        }
        let chunks = filtered.withLock { $0 }
        for (index, stored) in chunks.enumerated() {
            guard let stored else { preconditionFailure("Chunk \(index) was not filtered") }
            var offset = [hsize_t](repeating: 0, count: shape.count)
            offset[0] = hsize_t(index * chunk[0])
            // Filter mask: bit i set means filter i (0 shuffle, 1 deflate) was skipped.
            let mask: UInt32 = stored.deflated ? 0 : 1 << 1
            let status = stored.bytes.withUnsafeBytes {
                H5Dwrite_chunk(dataset, moe_H5P_DEFAULT(), mask, offset, $0.count, $0.baseAddress)
            }
            try site.check(status, "write chunk \(index) of \(count)")
        }
    }

    /// HDF5's byte shuffle of one chunk: byte `j` of element `i` goes to `j * n + i`
    /// (`n` elements in the chunk), the elements past `count` bytes being zeros.
    static func shuffle(_ bytes: [UInt8], from start: Int, count: Int, chunkBytes: Int, elementSize: Int) -> [UInt8] {
        let n = chunkBytes / elementSize, valid = count / elementSize
        guard elementSize > 1 else {
            return Array(bytes[start..<(start + count)]) + Array(repeating: 0, count: chunkBytes - count)
        }
        return [UInt8](unsafeUninitializedCapacity: chunkBytes) { out, initialized in
            bytes.withUnsafeBufferPointer { source in
                for j in 0..<elementSize {
                    let plane = j * n
                    for i in 0..<valid { out[plane + i] = source[start + i * elementSize + j] }
                    for i in valid..<n { out[plane + i] = 0 }
                }
            }
            initialized = chunkBytes
        }
    }

    /// `bytes` as one zlib stream (level 1, run-length strategy), or nil when it would
    /// not be smaller.
    static func deflated(_ bytes: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        guard deflateInit2_(&stream, 1, Z_DEFLATED, 15, 8, Z_RLE, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { return nil }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(bytes.count)))
        var input = bytes
        var output = [UInt8](repeating: 0, count: bound)
        let status = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) < bytes.count else { return nil }
        output.removeLast(output.count - Int(stream.total_out))
        return output
    }
}
