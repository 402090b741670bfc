import Continual

/// The IDX reader: `IDX.read`, `IDX.loadDataset` and `IDXSource` (with a resume), on
/// plain and gzip files.
///
/// Input layout: two option bytes, then the bytes of the images file followed by those
/// of the labels file.
///
/// ```
/// byte 0   bits 0-1  mode: 0 IDX.loadDataset, 1 IDXSource read and resumed,
///                          2 IDX.read(rank: 3) of the images, 3 IDX.read(rank: 1) of the labels
///          bit 2     images named *.gz        bit 3  labels named *.gz
///          bit 4     raw pixels (else unit)   bit 5  10 classes declared
///          bit 6     skip bad rows            bit 7  batches of 1 (else 3)
/// byte 1   length of the images file (the rest is the labels file); 255 means all
/// ```
///
/// Missing option bytes count as zero.
public enum IDXFuzzing: FuzzTarget {
    public static let name = "idx"

    /// The options of an input.
    public struct Options: Equatable, Sendable {
        public var mode = 0
        public var imagesGzip = false, labelsGzip = false, raw = false, declared = false
        public var skip = false, singleBatches = false

        public init() {}

        init(_ byte: UInt8) {
            mode = Int(byte & 3)
            imagesGzip = byte & 4 != 0
            labelsGzip = byte & 8 != 0
            raw = byte & 16 != 0
            declared = byte & 32 != 0
            skip = byte & 64 != 0
            singleBatches = byte & 128 != 0
        }

        var byte: UInt8 {
            UInt8(mode) | (imagesGzip ? 4 : 0) | (labelsGzip ? 8 : 0) | (raw ? 16 : 0) | (declared ? 32 : 0)
                | (skip ? 64 : 0) | (singleBatches ? 128 : 0)
        }
    }

    /// An input made of `options` and the two files.
    public static func input(_ options: Options, images: [UInt8], labels: [UInt8]) -> [UInt8] {
        precondition(images.count < 255, "The images part of a fuzz input is at most 254 bytes")
        return [options.byte, UInt8(images.count)] + images + labels
    }

    public static func run(_ input: [UInt8], in folder: FuzzFolder) -> FuzzOutcome {
        let options = Options(input.first ?? 0)
        let body = input.dropFirst(2)
        let split = input.count > 1 && input[1] != 255 ? min(Int(input[1]), body.count) : body.count
        let images = folder.write(Array(body.prefix(split)), named: options.imagesGzip ? "images.idx.gz" : "images.idx")
        let labels = folder.write(Array(body.dropFirst(split)), named: options.labelsGzip ? "labels.idx.gz" : "labels.idx")
        let classCount = options.declared ? 10 : nil
        let scaling: PixelScaling = options.raw ? .raw : .unit
        do throws(DataError) {
            switch options.mode {
            case 0:
                let data = try IDX.loadDataset(images: images, labels: labels, classCount: classCount, scaling: scaling)
                precondition(data.features.rows == data.labels.count && data.labels.allSatisfy { $0 < data.classCount },
                             "IDX.loadDataset returned \(data.features.rows) rows, \(data.labels.count) labels, \(data.classCount) classes")
                return .accepted("\(data.features.rows) images of \(data.features.columns), \(data.classCount) classes")
            case 1:
                return StreamChecks.readAndResume(stop: 1) { () throws(DataError) in
                    try IDXSource(images: images, labels: labels, batchSize: options.singleBatches ? 1 : 3,
                                  classCount: classCount, scaling: scaling, badRows: options.skip ? .skip : .fail)
                }
            default:
                let rank = options.mode == 2 ? 3 : 1
                let array = try IDX.read(path: rank == 3 ? images : labels, rank: rank)
                precondition(array.dimensions.count == rank && array.bytes.count == array.dimensions.reduce(1, *),
                             "IDX.read returned dimensions \(array.dimensions) with \(array.bytes.count) bytes")
                return .accepted("dimensions \(array.dimensions)")
            }
        } catch {
            return .rejected(error.description)
        }
    }

    public static func seeds() -> [FuzzSeed] {
        let folder = FuzzFolder.temporary()
        defer { folder.remove() }
        // Three 2x3 images, labels 0, 1, 2; written by IDX.write (and gzip by its .gz name).
        let images = IDXArray(dimensions: [3, 2, 3], bytes: (0..<18).map { UInt8($0 * 14) })
        let labels = IDXArray(dimensions: [3], bytes: [0, 1, 2])
        func file(_ array: IDXArray, _ name: String) -> [UInt8] {
            do { try IDX.write(array, to: folder.path + "/" + name) } catch { preconditionFailure("IDX.write failed: \(error)") }
            return folder.read(named: name)
        }
        let plainImages = file(images, "i.idx"), plainLabels = file(labels, "l.idx")
        let gzipImages = file(images, "i.idx.gz"), gzipLabels = file(labels, "l.idx.gz")
        var seeds: [FuzzSeed] = []
        for mode in 0..<4 {
            var options = Options()
            options.mode = mode
            options.singleBatches = mode == 1
            seeds.append(FuzzSeed(name: "plain-mode\(mode)", bytes: input(options, images: plainImages, labels: plainLabels)))
            options.imagesGzip = true
            options.labelsGzip = true
            options.declared = mode != 0
            options.skip = mode == 1
            seeds.append(FuzzSeed(name: "gzip-mode\(mode)", bytes: input(options, images: gzipImages, labels: gzipLabels)))
        }
        return seeds
    }
}
