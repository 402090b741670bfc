/// A series that covers an endless stream with at most `capacity` kept points.
///
/// Every point offered has an index `k = 0, 1, 2, …`. The series keeps the points whose
/// index is a multiple of its `stride`, which starts at 1. When a point is due and the
/// series is full, every second kept point is dropped and the stride doubles:
///
/// ```
/// kept = { point k : k mod stride == 0 },   capacity / 2 <= |kept| <= capacity
/// stride = 2^m, the smallest power of two with ceil(offered / stride) <= capacity
/// ```
///
/// So the kept points always span the whole stream at a uniform spacing, memory stays
/// at `capacity + 1` points however long the stream runs, and the result depends only on
/// the sequence offered (deterministic). The most recent point is kept aside as `latest`
/// so that a plot always reaches the present.
public struct DownsampledSeries<Point: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    /// The largest number of kept points (even, at least 2).
    public let capacity: Int
    /// Only points whose index is a multiple of the stride are kept.
    public private(set) var stride: Int = 1
    /// How many points have been offered.
    public private(set) var offered: Int = 0
    /// The kept points, oldest first: point `k * stride` at position `k`.
    public private(set) var kept: [Point] = []
    /// The most recently offered point.
    public private(set) var latest: Point?

    /// An empty series.
    ///
    /// - Precondition: `capacity` is even and at least 2.
    public init(capacity: Int) {
        precondition(capacity >= 2 && capacity.isMultiple(of: 2),
                     "A downsampled series needs an even capacity of at least 2, got \(capacity)")
        self.capacity = capacity
    }

    private enum CodingKeys: String, CodingKey {
        case capacity, stride, offered, kept, latest
    }

    /// Decodes a saved series, checking the invariants that keep it bounded.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        capacity = try container.decode(Int.self, forKey: .capacity)
        stride = try container.decode(Int.self, forKey: .stride)
        offered = try container.decode(Int.self, forKey: .offered)
        kept = try container.decode([Point].self, forKey: .kept)
        latest = try container.decodeIfPresent(Point.self, forKey: .latest)
        let expectedKept = (offered + stride - 1) / max(stride, 1)
        guard capacity >= 2, capacity.isMultiple(of: 2), stride >= 1, stride.nonzeroBitCount == 1,
              offered >= 0, kept.count <= capacity, kept.count == expectedKept, (latest == nil) == (offered == 0)
        else {
            throw DecodingError.dataCorruptedError(
                forKey: .kept, in: container,
                debugDescription: "A downsampled series of capacity \(capacity) with stride \(stride) cannot keep \(kept.count) of \(offered) points")
        }
    }

    /// Offers the next point.
    public mutating func append(_ point: Point) {
        defer {
            offered += 1
            latest = point
        }
        guard offered.isMultiple(of: stride) else { return }
        if kept.count == capacity {
            kept = kept.indices.filter { $0.isMultiple(of: 2) }.map { kept[$0] }
            stride *= 2
        }
        // With an even capacity the point that forced the compaction is still due.
        kept.append(point)
    }

    /// The points to plot: the kept ones, and the latest if it was not kept.
    public var points: [Point] {
        guard offered > 0, let latest else { return kept }
        return (offered - 1).isMultiple(of: stride) ? kept : kept + [latest]
    }

    /// Whether no point has been offered.
    public var isEmpty: Bool { offered == 0 }
}
