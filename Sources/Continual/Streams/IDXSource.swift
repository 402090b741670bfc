import MoE

/// Labelled batches read incrementally from a pair of IDX files (images `n x rows x
/// columns`, labels `n`), plain or gzip: only one batch of bytes is in memory at a time.
///
/// Labels are class numbers. With `classCount` declared, a label outside `0..<classCount`
/// is a bad row (thrown, or skipped and counted); otherwise classes grow as labels appear.
public final class IDXSource: BatchSource {
    public var name: String { images.path }
    /// Samples per batch.
    public let batchSize: Int
    /// How bytes become features.
    public let scaling: PixelScaling
    /// What happens to samples with a bad label.
    public let badRows: BadRowPolicy
    public private(set) var labelMap: LabelMap
    /// Number of samples the files hold.
    public var count: Int { images.count }

    private let images: IDXReader
    /// nil: images without labels (`moe predict`), each read with class 0.
    private let labels: IDXReader?
    private var samplesDelivered = 0
    private var skipped = SkippedRows()
    private var failure: DataError?

    /// Opens the two files and checks their headers against each other and against a
    /// declared `inputWidth` (the network's).
    public convenience init(
        images imagesPath: String, labels labelsPath: String, batchSize: Int = 128, classCount: Int? = nil,
        inputWidth: Int? = nil, scaling: PixelScaling = .unit, badRows: BadRowPolicy = .fail
    ) throws(DataError) {
        let images = try IDXReader(path: imagesPath, rank: 3)
        let labels = try IDXReader(path: labelsPath, rank: 1)
        guard labels.count == images.count else {
            throw .wrongDimensions(path: labelsPath, expected: "\(images.count) labels, one per image of \(imagesPath)",
                                   actual: labels.dimensions)
        }
        try self.init(images: images, labels: labels, batchSize: batchSize, inputWidth: inputWidth, scaling: scaling, badRows: badRows,
                      labelMap: classCount.map { LabelMap.integers(classCount: $0) } ?? LabelMap(learning: .integers))
    }

    /// Images without labels (rows to predict): every image is read with class 0, which
    /// nothing should learn from.
    public convenience init(images imagesPath: String, batchSize: Int = 128, inputWidth: Int? = nil, scaling: PixelScaling = .unit) throws(DataError) {
        try self.init(images: IDXReader(path: imagesPath, rank: 3), labels: nil, batchSize: batchSize, inputWidth: inputWidth,
                      scaling: scaling, badRows: .fail, labelMap: LabelMap.integers(classCount: 1))
    }

    private init(
        images: IDXReader, labels: IDXReader?, batchSize: Int, inputWidth: Int?, scaling: PixelScaling, badRows: BadRowPolicy,
        labelMap: LabelMap
    ) throws(DataError) {
        precondition(batchSize > 0, "A batch holds at least one sample")
        if let inputWidth, inputWidth != images.itemSize {
            throw .widthMismatch(at: DataLocation(source: images.path), expected: inputWidth, actual: images.itemSize)
        }
        self.images = images
        self.labels = labels
        self.batchSize = batchSize
        self.scaling = scaling
        self.badRows = badRows
        self.labelMap = labelMap
    }

    public var inputWidth: Int? { images.itemSize }

    public var position: StreamPosition {
        StreamPosition(rowsRead: images.itemsRead, samplesDelivered: samplesDelivered, labelMap: labelMap,
                       inputWidth: images.itemSize, skipped: skipped)
    }

    public func next() throws(DataError) -> Batch? {
        if let failure { throw failure }
        do {
            return try readBatch()
        } catch {
            failure = error
            throw error
        }
    }

    public func resume(from position: StreamPosition) throws(DataError) {
        precondition(images.itemsRead == 0, "Resume a stream before reading from it")
        if let width = position.inputWidth, width != images.itemSize {
            throw .widthMismatch(at: DataLocation(source: name), expected: width, actual: images.itemSize)
        }
        labelMap = position.labelMap
        skipped = position.skipped
        samplesDelivered = position.samplesDelivered
        try images.skip(position.rowsRead)
        try labels?.skip(position.rowsRead)
    }

    private func readBatch() throws(DataError) -> Batch? {
        var features: [Float] = []
        var targets: [Int] = []
        let width = images.itemSize
        while targets.isEmpty && images.itemsRead < images.count {
            let n = min(batchSize, images.count - images.itemsRead)
            let pixels = IDX.convert(try images.readItems(n), scaling: scaling)
            guard let labels else {
                features = pixels
                targets = Array(repeating: 0, count: n)
                break
            }
            let first = labels.itemsRead + 1
            let raw = try labels.readItems(n)
            var keep: [Int] = []
            for (i, byte) in raw.enumerated() {
                let at = DataLocation(source: labels.path, item: first + i)
                do {
                    targets.append(try labelMap.classIndex(of: String(byte), at: at))
                    keep.append(i)
                } catch {
                    if badRows == .fail { throw error }
                    skipped.count(error)
                }
            }
            if keep.count == n {
                features = pixels
            } else {
                for i in keep { features += pixels[i * width ..< (i + 1) * width] }
            }
        }
        guard !targets.isEmpty else {
            if samplesDelivered == 0 { throw .emptyStream(source: name) }
            return nil
        }
        samplesDelivered += targets.count
        return Batch(features: Matrix(rows: targets.count, columns: width, scalars: features), labels: targets)
    }
}
