import MoE

/// The training stream of one experience of a ``Scenario``: its samples in a seeded
/// order, over `passes` passes, in batches of `batchSize` (the last one smaller).
///
/// The order is fixed when the stream is made: pass `p` is the `p`-th permutation drawn
/// from a seed derived from the scenario's seed and the experience index, so two streams
/// of the same experience are identical and ``resume(from:)`` continues exactly. With
/// ``GradualDrift`` some positions near the ends hold samples of the neighbouring
/// experiences. A batch's `pass` is `earlierPasses` plus the pass of its first row
/// (batches run on across the passes, so one batch per pass boundary holds rows of two
/// passes).
public struct ExperienceStream: BatchSource {
    /// Which experience this is.
    public let experience: Int
    /// Samples per batch.
    public let batchSize: Int
    /// Passes over the experience's data.
    public let passes: Int
    /// Passes over this data that earlier streams already made (a repeated cycle's).
    public let earlierPasses: Int
    public let name: String
    public let labelMap: LabelMap
    public var inputWidth: Int? { data.inputWidth }

    /// Rows of `data`, in stream order.
    private let rows: [Int]
    /// The experience each row is drawn from (nil: all from `experience`).
    private let sources: [Int]?
    /// Pixel permutation of each experience of the scenario.
    private let permutations: [[Int]?]
    private let data: Dataset
    /// Rows of one pass.
    private let passLength: Int
    private var offset = 0

    init(scenario: Scenario, experience index: Int, batchSize: Int, passes: Int, earlierPasses: Int) {
        precondition(batchSize > 0, "A batch holds at least one sample")
        precondition(passes > 0, "At least one pass over the data")
        precondition(earlierPasses >= 0, "Earlier passes are counted from 0")
        experience = index
        self.batchSize = batchSize
        self.passes = passes
        self.earlierPasses = earlierPasses
        name = "\(scenario.train.name), \(scenario.name) experience \(index)"
        labelMap = .integers(classCount: scenario.classCount)
        data = scenario.train
        permutations = scenario.experiences.map(\.pixelPermutation)
        let plan = scenario.streamPlan(experience: index, passes: passes)
        rows = plan.rows
        sources = plan.sources
        passLength = scenario.experiences[index].trainIndices.count
    }

    /// Samples in the whole stream (all passes).
    public var count: Int { rows.count }
    public var expectedSamples: Int? { rows.count }

    /// Samples delivered so far.
    public var samplesDelivered: Int { offset }

    public var position: StreamPosition {
        StreamPosition(rowsRead: offset, samplesDelivered: offset, labelMap: labelMap, inputWidth: data.inputWidth)
    }

    public mutating func next() throws(DataError) -> Batch? {
        if rows.isEmpty { throw .emptyStream(source: name) }
        guard offset < rows.count else { return nil }
        // A batch ends where a pass does: its rows are then all first visits or all
        // revisits (a batch that straddled the end of Split's first pass gave 32 rows of
        // the second to the gate's statistics and the prequential counts a second time).
        let passEnd = (offset / passLength + 1) * passLength
        let range = offset..<min(offset + batchSize, rows.count, passEnd)
        offset = range.upperBound
        let indices = rows[range]
        var features = data.features.gatherRows(indices)
        permute(&features, sources: range.map { sources?[$0] ?? experience })
        return Batch(features: features, labels: indices.map { data.labels[$0] },
                     pass: earlierPasses + range.lowerBound / passLength)
    }

    public mutating func resume(from position: StreamPosition) throws(DataError) {
        precondition(offset == 0, "Resume a stream before reading from it")
        if let width = position.inputWidth, width != data.inputWidth {
            throw .widthMismatch(at: DataLocation(source: name), expected: width, actual: data.inputWidth)
        }
        offset = min(position.samplesDelivered, rows.count)
    }

    /// Applies each row's experience's pixel permutation, `x'[k] = x[π[k]]`.
    private func permute(_ features: inout Matrix, sources: [Int]) {
        guard permutations.contains(where: { $0 != nil }) else { return }
        let width = features.columns
        let original = features.scalars
        features.scalars.withUnsafeMutableBufferPointer { target in
            original.withUnsafeBufferPointer { source in
                for (r, experience) in sources.enumerated() {
                    guard let permutation = permutations[experience] else { continue }
                    let base = r * width
                    for k in 0..<width { target[base + k] = source[base + permutation[k]] }
                }
            }
        }
    }
}

extension Scenario {
    /// The training stream of experience `index`.
    ///
    /// - Parameters:
    ///   - batchSize: Samples per batch (128 by default).
    ///   - passes: Passes over the experience's data (each in a fresh seeded order).
    ///   - earlierPasses: Passes over the same data made before this stream (a later
    ///     cycle of the scenario repeats its experiences): added to every batch's `pass`.
    public func trainStream(experience index: Int, batchSize: Int = 128, passes: Int = 1, earlierPasses: Int = 0) -> ExperienceStream {
        _ = experience(index)
        return ExperienceStream(scenario: self, experience: index, batchSize: batchSize, passes: passes,
                                earlierPasses: earlierPasses)
    }

    /// The rows of experience `index`'s stream, and (with drift) the experience each
    /// comes from. See ``GradualDrift`` for the blend.
    func streamPlan(experience index: Int, passes: Int) -> (rows: [Int], sources: [Int]?) {
        let own = experiences[index].trainIndices
        var orderGenerator = SeededGenerator(seed: derivedSeed(seed, .sampleOrder, index))
        var ownOrder: [Int] = []
        ownOrder.reserveCapacity(own.count * passes)
        for _ in 0..<passes { ownOrder += orderGenerator.permutation(own.count).map { own[$0] } }
        guard let drift, experiences.count > 1 else { return (ownOrder, nil) }

        var draws = SeededGenerator(seed: derivedSeed(seed, .driftDraws, index))
        let length = ownOrder.count, half = Double(drift.window) / 2, window = Double(drift.window)
        var rows: [Int] = [], sources: [Int] = []
        rows.reserveCapacity(length)
        sources.reserveCapacity(length)
        var cursor = 0
        for t in 0..<length {
            let position = Double(t)
            var source = index
            if index + 1 < experiences.count && position >= Double(length) - half {
                // Before the boundary with the next experience: P(next) rises from 0 to ½.
                let next = (position - (Double(length) - half) + 0.5) / window
                if draws.nextUnitDouble() < next { source = index + 1 }
            } else if index > 0 && position < half {
                // After the boundary with the previous one: P(previous) falls from ½ to 0.
                let previous = 1 - (position + half + 0.5) / window
                if draws.nextUnitDouble() < previous { source = index - 1 }
            }
            if source == index {
                rows.append(ownOrder[cursor])
                cursor += 1
            } else {
                let other = experiences[source].trainIndices
                rows.append(other[draws.nextInt(below: other.count)])
            }
            sources.append(source)
        }
        return (rows, sources)
    }
}
