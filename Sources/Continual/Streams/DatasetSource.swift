import MoE

/// Batches of an in-memory data set, in data order or shuffled by a seed, over one or
/// more passes: the source behind scenarios and tests.
///
/// Pass `p` (0-based) uses the `p`-th permutation drawn from a generator seeded with
/// `shuffleSeed`, so a resumed source replays exactly the order it would have had; its
/// batches carry `pass == p`. A batch never straddles two passes (the last batch of a
/// pass is smaller), so an epoch of `moe train` is exactly one pass.
public struct DatasetSource: BatchSource {
    /// The data set being streamed.
    public let dataset: Dataset
    /// Samples per batch.
    public let batchSize: Int
    /// Number of passes over the data.
    public let passes: Int
    /// Seed of the sample order, or nil for data order.
    public let shuffleSeed: UInt64?

    public var name: String { dataset.name }
    public var inputWidth: Int? { dataset.inputWidth }
    public let labelMap: LabelMap
    /// Samples in the whole stream (all passes).
    public var count: Int { dataset.count * passes }
    public var expectedSamples: Int? { count }

    private var generator: SeededGenerator?
    private var order: [Int] = []
    private var pass = 0
    private var offset = 0
    private var samplesDelivered = 0

    public init(dataset: Dataset, batchSize: Int = 128, passes: Int = 1, shuffleSeed: UInt64? = nil) {
        precondition(batchSize > 0, "A batch holds at least one sample")
        precondition(passes > 0, "At least one pass over the data")
        self.dataset = dataset
        self.batchSize = batchSize
        self.passes = passes
        self.shuffleSeed = shuffleSeed
        labelMap = dataset.classCount > 0 ? .integers(classCount: dataset.classCount) : LabelMap(learning: .integers)
        generator = shuffleSeed.map { SeededGenerator(seed: $0) }
    }

    public var position: StreamPosition {
        StreamPosition(rowsRead: samplesDelivered, samplesDelivered: samplesDelivered, labelMap: labelMap,
                       inputWidth: dataset.inputWidth)
    }

    public mutating func next() throws(DataError) -> Batch? {
        if dataset.count == 0 { throw .emptyStream(source: name) }
        if offset == order.count {
            guard pass < passes else { return nil }
            startPass()
        }
        let indices = order[offset ..< min(offset + batchSize, order.count)]
        let batchPass = pass
        offset += indices.count
        samplesDelivered += indices.count
        if offset == order.count { pass += 1 }
        return Batch(features: dataset.features.gatherRows(indices), labels: indices.map { dataset.labels[$0] },
                     pass: batchPass)
    }

    public mutating func resume(from position: StreamPosition) throws(DataError) {
        precondition(samplesDelivered == 0, "Resume a stream before reading from it")
        if let width = position.inputWidth, width != dataset.inputWidth {
            throw .widthMismatch(at: DataLocation(source: name), expected: width, actual: dataset.inputWidth)
        }
        let total = min(position.samplesDelivered, dataset.count * passes)
        guard dataset.count > 0 else { return }
        for _ in 0..<(total / dataset.count) {
            startPass()
            pass += 1
        }
        let within = total % dataset.count
        if within > 0 {
            startPass()
            offset = within
        } else {
            offset = order.count
        }
        samplesDelivered = total
    }

    private mutating func startPass() {
        order = generator != nil ? generator!.permutation(dataset.count) : Array(0..<dataset.count)
        offset = 0
    }
}
