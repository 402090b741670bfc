import Foundation
import MoE

/// An array read from (or written to) an IDX file of unsigned bytes: the format of the
/// MNIST family (MNIST, Fashion-MNIST, KMNIST).
///
/// ```
/// magic   0x00 0x00 0x08 rank      (0x08 = unsigned byte)
/// sizes   rank big-endian UInt32   (count, then rows and columns for images)
/// data    product(sizes) bytes, row-major
/// ```
///
/// Reference: Y. LeCun, C. Cortes, C. Burges, "The MNIST database of handwritten digits".
public struct IDXArray: Equatable, Sendable {
    /// The sizes from the header, e.g. `[60000, 28, 28]` for images or `[60000]` for labels.
    public var dimensions: [Int]
    /// `dimensions.reduce(1, *)` bytes, row-major.
    public var bytes: [UInt8]

    public init(dimensions: [Int], bytes: [UInt8]) {
        precondition(!dimensions.isEmpty && dimensions.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) },
                     "IDX dimensions are 1 or more sizes in 0...UInt32.max")
        precondition(bytes.count == dimensions.reduce(1, *),
                     "IDX data of dimensions \(dimensions) needs \(dimensions.reduce(1, *)) bytes, got \(bytes.count)")
        self.dimensions = dimensions
        self.bytes = bytes
    }
}

/// Reading and writing IDX files, gzip-compressed or plain.
public enum IDX {
    /// Reads a whole IDX file of unsigned bytes whose header has `rank` dimensions
    /// (3 for images, 1 for labels). Throws on a missing or corrupt file, a wrong magic
    /// number or rank, and data shorter or longer than the header says.
    public static func read(path: String, rank: Int) throws(DataError) -> IDXArray {
        let reader = try IDXReader(path: path, rank: rank)
        let bytes = try reader.readItems(reader.count)
        if try reader.hasTrailingData() {
            throw .wrongDimensions(
                path: path, expected: "exactly \(reader.count * reader.itemSize) data bytes after the header",
                actual: reader.dimensions)
        }
        return IDXArray(dimensions: reader.dimensions, bytes: bytes)
    }

    /// Writes `array` to `path`, gzip-compressed when the name ends in `.gz`.
    public static func write(_ array: IDXArray, to path: String) throws(DataError) {
        var file: [UInt8] = [0, 0, 0x08, UInt8(array.dimensions.count)]
        for size in array.dimensions {
            let s = UInt32(size)
            file += [UInt8(s >> 24), UInt8((s >> 16) & 0xFF), UInt8((s >> 8) & 0xFF), UInt8(s & 0xFF)]
        }
        file += array.bytes
        if path.hasSuffix(".gz") {
            try Gzip.write(file, to: path)
        } else {
            try writePlain(file, to: path)
        }
    }

    /// A labelled data set from an images file (`n x rows x columns`) and a labels file
    /// (`n`), each image flattened to one row of `rows * columns` features.
    ///
    /// - Parameters:
    ///   - classCount: the declared number of classes; a label `>= classCount` throws.
    ///     When nil, it is one more than the largest label.
    ///   - scaling: `.unit` divides the bytes by 255, `.raw` keeps 0...255.
    public static func loadDataset(
        images: String, labels: String, classCount: Int? = nil, classNames: [String]? = nil,
        scaling: PixelScaling = .unit, name: String? = nil
    ) throws(DataError) -> Dataset {
        let pixels = try read(path: images, rank: 3)
        let targets = try read(path: labels, rank: 1)
        let count = pixels.dimensions[0]
        guard targets.dimensions[0] == count else {
            throw .wrongDimensions(path: labels, expected: "\(count) labels, one per image of \(images)",
                                   actual: targets.dimensions)
        }
        guard count > 0 else { throw .emptyStream(source: images) }
        let width = pixels.dimensions[1] * pixels.dimensions[2]
        let labelList = try checkedLabels(targets.bytes, classCount: classCount, path: labels)
        let features = Matrix(rows: count, columns: width, scalars: convert(pixels.bytes, scaling: scaling))
        return Dataset(
            features: features, labels: labelList,
            classCount: classCount ?? ((labelList.max() ?? 0) + 1),
            classNames: classNames, name: name ?? images)
    }

    /// Labels as class indices, each checked against `classCount` when declared.
    static func checkedLabels(
        _ bytes: [UInt8], classCount: Int?, path: String, firstItem: Int = 1
    ) throws(DataError) -> [Int] {
        var labels = [Int](repeating: 0, count: bytes.count)
        for (i, byte) in bytes.enumerated() {
            let label = Int(byte)
            if let classCount, label >= classCount {
                throw .labelOutOfRange(
                    at: DataLocation(source: path, item: firstItem + i), label: String(label),
                    declared: "0..<\(classCount)")
            }
            labels[i] = label
        }
        return labels
    }

    /// Bytes as Floats, scaled. One pass with no per-element bounds checks.
    static func convert(_ bytes: [UInt8], scaling: PixelScaling) -> [Float] {
        let factor: Float = scaling == .unit ? 1 / 255 : 1
        return [Float](unsafeUninitializedCapacity: bytes.count) { buffer, initialized in
            bytes.withUnsafeBufferPointer { source in
                for i in 0..<source.count { buffer[i] = Float(source[i]) * factor }
            }
            initialized = bytes.count
        }
    }

    private static func writePlain(_ bytes: [UInt8], to path: String) throws(DataError) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw .writeFailed(path: path, reason: "\(error.localizedDescription)")
        }
    }
}

/// How bytes 0...255 become features.
public enum PixelScaling: String, Sendable, Codable, CaseIterable {
    /// Divide by 255, giving values in [0, 1].
    case unit
    /// Keep the byte values 0...255.
    case raw
}

/// An open IDX file positioned after its header, read item by item in big chunks.
final class IDXReader {
    let path: String
    let dimensions: [Int]
    /// Number of items (the first dimension).
    var count: Int { dimensions[0] }
    /// Bytes per item (product of the other dimensions; 1 for labels).
    let itemSize: Int
    /// Items read so far.
    private(set) var itemsRead = 0
    private let file: GzipFile

    init(path: String, rank: Int) throws(DataError) {
        precondition(rank >= 1 && rank <= 255, "An IDX rank is 1...255")
        self.path = path
        file = try GzipFile(path: path)
        let magic = try file.readBytes(4)
        guard magic.count == 4 else { throw .truncatedIDX(path: path, expectedBytes: 4, actualBytes: magic.count) }
        let word = magic.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let expected = rank == 3 ? "0x00000803 (unsigned-byte images)"
            : rank == 1 ? "0x00000801 (unsigned-byte labels)" : "0x000008\(rank < 16 ? "0" : "")\(String(rank, radix: 16))"
        guard magic[0] == 0, magic[1] == 0, magic[2] == 0x08 else {
            throw .wrongIDXMagic(path: path, expected: expected, actual: word)
        }
        let fileRank = Int(magic[3])
        let header = try file.readBytes(4 * fileRank)
        guard header.count == 4 * fileRank else {
            throw .truncatedIDX(path: path, expectedBytes: 4 + 4 * fileRank, actualBytes: 4 + header.count)
        }
        var sizes: [Int] = []
        for d in 0..<fileRank {
            sizes.append(header[4 * d ..< 4 * d + 4].reduce(0) { $0 << 8 | Int($1) })
        }
        let shapeName = rank == 3 ? "count x rows x columns" : rank == 1 ? "count" : "\(rank) sizes"
        guard fileRank == rank else {
            throw .wrongDimensions(path: path, expected: "\(rank) dimensions (\(shapeName))", actual: sizes)
        }
        // Saturating product: a wrapped one can be negative and pass the bound below
        // (found by fuzzing: sizes 0xFFFFFFFF x 0xFFFFFFFF wrapped to -2^33 + 1).
        let inner = sizes.dropFirst().reduce(1) { product, size in
            let (value, overflow) = product.multipliedReportingOverflow(by: size)
            return overflow ? Int.max : value
        }
        guard sizes.dropFirst().allSatisfy({ $0 > 0 }), inner <= 1 << 31,
              !sizes[0].multipliedReportingOverflow(by: inner).overflow else {
            throw .wrongDimensions(path: path, expected: "positive item sizes (\(shapeName))", actual: sizes)
        }
        dimensions = sizes
        itemSize = inner
    }

    /// Reads the next `items` items (fewer only if the header says fewer remain).
    func readItems(_ items: Int) throws(DataError) -> [UInt8] {
        let wanted = min(items, count - itemsRead) * itemSize
        guard wanted <= Int(Int32.max) else {
            throw .wrongDimensions(path: path, expected: "at most 2 GiB per read (use an IDXSource to stream it)",
                                   actual: dimensions)
        }
        // Uninitialized storage filled by zlib directly: no per-byte work in Swift.
        var got = 0
        var failure: DataError?
        let bytes = [UInt8](unsafeUninitializedCapacity: wanted) { buffer, initialized in
            do throws(DataError) {
                got = try file.read(into: UnsafeMutableRawBufferPointer(buffer))
            } catch {
                failure = error
            }
            initialized = got
        }
        if let failure { throw failure }
        if got < wanted {
            let header = 4 + 4 * dimensions.count
            throw .truncatedIDX(path: path, expectedBytes: header + count * itemSize,
                                actualBytes: header + itemsRead * itemSize + got)
        }
        itemsRead += wanted / itemSize
        return bytes
    }

    /// Skips `items` items (reading through them: gzip cannot seek).
    func skip(_ items: Int) throws(DataError) {
        var left = min(items, count - itemsRead)
        let step = max(1, (1 << 22) / itemSize)
        while left > 0 {
            let n = min(left, step)
            _ = try readItems(n)
            left -= n
        }
    }

    /// True when bytes follow the data the header describes (call after reading all items).
    func hasTrailingData() throws(DataError) -> Bool {
        try !file.readBytes(1).isEmpty
    }
}
