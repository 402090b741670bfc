import Dispatch
import Synchronization

/// Streaming class-conditional statistics of every sample seen: per-class counts and
/// feature sums, and one shared within-class scatter matrix.
///
/// ```
/// n_c = |{i : y_i = c}|          s_c = Σ_{y_i = c} f_i          μ_c = s_c / n_c
/// S   = Σ_c Σ_{y_i = c} (f_i - μ_c)(f_i - μ_c)ᵀ          (features x features)
/// ```
///
/// Batches are merged with the parallel co-moment update (Chan, Golub and LeVeque,
/// "Updating formulae and a pairwise algorithm for computing sample variances", 1979),
/// once per class present in both parts:
///
/// ```
/// S = S_a + S_b + Σ_c (n_a,c n_b,c / n_c) (μ_b,c - μ_a,c)(μ_b,c - μ_a,c)ᵀ
/// ```
///
/// so the result does not depend on how the stream was cut into batches or in which
/// order they came (up to float rounding). A batch's own scatter comes from its rows
/// centred on their class means (Float32); those rows, and the batch's correction rows,
/// are gathered over a few batches (up to ``pendingRowLimit`` rows) and their scatter
/// added in one `cblas_ssyrk`: one pass over the `p x p` total per flush instead of two
/// per batch (a batch of 128 rows at p = 2048 spent more time reading and writing the
/// 32 MB total than multiplying); totals are kept in Float64. Only
/// the upper triangle of `S` is stored meaningfully.
///
/// Classes are the labels `0..<classCount`; a label never seen has count 0. The
/// statistics never forget: they are the memory of a gate that routes by class
/// posterior (see ``fitDiscriminant(shrinkage:classCount:)``).
public struct ClassStatistics: Sendable {
    /// Width of the feature rows.
    public let featureCount: Int
    /// Samples seen per class label (index = label).
    public private(set) var counts: [Double]
    /// Feature sums per class, `classCount x featureCount` row-major.
    public private(set) var sums: [Double]
    /// Within-class scatter, `featureCount x featureCount` row-major; upper triangle
    /// valid. Excludes the rows in `pending`.
    private var scatter: [Double]
    /// Centred rows and correction rows (row-major, `featureCount` wide) whose scatter is not yet in `scatter`.
    private var pending: [Float] = []

    /// Centred rows gathered before their scatter is added to the totals in one product.
    public static let pendingRowLimit = 512

    /// Names these statistics' values: a fresh number from a process-wide counter
    /// whenever they change (not saved). Two copies with the same generation hold the same
    /// values, so a fit made from one holds for the other.
    public private(set) var generation = ClassStatistics.nextGeneration()

    private static let generations = Atomic<UInt64>(0)

    private static func nextGeneration() -> UInt64 {
        generations.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// Empty statistics over rows of `featureCount` features.
    public init(featureCount: Int) {
        precondition(featureCount > 0, "Class statistics need a positive feature count, got \(featureCount)")
        self.featureCount = featureCount
        counts = []
        sums = []
        scatter = Array(repeating: 0, count: featureCount * featureCount)
    }

    /// One more than the largest label seen (0 before any sample).
    public var classCount: Int { counts.count }

    /// The labels seen at least once, ascending.
    public var classes: [Int] { counts.indices.filter { counts[$0] > 0 } }

    /// Samples seen in all.
    public var sampleCount: Double { counts.reduce(0, +) }

    /// Number of values that define the statistics (counts, sums, the upper triangle of
    /// the scatter): what a checkpoint stores, and the memory figure to report beside a
    /// replay buffer's.
    ///
    /// ```
    /// C + C p + p (p + 1) / 2
    /// ```
    public var memoryInFloats: Int {
        classCount + classCount * featureCount + featureCount * (featureCount + 1) / 2
    }

    /// Bytes actually held: Float64 totals and a full square scatter.
    public var residentBytes: Int {
        MemoryLayout<Double>.stride * (counts.count + sums.count + scatter.count)
            + MemoryLayout<Float>.stride * pending.capacity
    }

    /// The rows whose scatter is not yet in the totals (row-major, ``featureCount`` wide).
    public var pendingRows: [Float] { pending }

    /// Bytes of the rows whose scatter is not yet in the totals (at most
    /// ``pendingRowLimit`` rows and a batch's correction rows, Float32).
    public var pendingBytes: Int { MemoryLayout<Float>.stride * pending.capacity }

    /// The mean feature row of class `label` (zeros when it was never seen).
    public func mean(ofClass label: Int) -> [Double] {
        precondition(label >= 0, "Class labels are non-negative, got \(label)")
        guard label < classCount, counts[label] > 0 else { return Array(repeating: 0, count: featureCount) }
        let p = featureCount, n = counts[label]
        return (0..<p).map { sums[label * p + $0] / n }
    }

    /// The within-class scatter `S` as a full symmetric `featureCount²` row-major array.
    public func withinClassScatter() -> [Double] {
        var full = completeScatter()
        let p = featureCount
        for i in 0..<p {
            for j in (i + 1)..<p { full[j * p + i] = full[i * p + j] }
        }
        return full
    }

    // MARK: Updating

    /// Adds a batch: `features` is `n x featureCount` (rows = samples), `labels` its `n`
    /// non-negative class labels. A label beyond ``classCount`` widens the statistics.
    public mutating func update(features: Matrix, labels: [Int]) {
        update(features: features, rows: nil, labels: labels)
    }

    /// Adds rows `rows` of `features` (all of them when nil), `labels` being theirs, in
    /// that order: the rows are read where they are, not gathered first.
    public mutating func update(features: Matrix, rows: [Int]?, labels: [Int]) {
        var off = ScatterShare.off
        update(features: features, rows: rows, labels: labels, sharing: &off)
    }

    /// ``update(features:rows:labels:)``, a flush taking the product `share` holds when
    /// its pending rows are the ones that product came from, and offering its own
    /// otherwise (``ScatterShare``).
    public mutating func update(features: Matrix, rows: [Int]?, labels: [Int], sharing share: inout ScatterShare) {
        precondition(features.columns == featureCount,
                     "Class statistics expect \(featureCount) features, got \(features.columns)")
        let n = rows?.count ?? features.rows
        precondition(labels.count == n, "A batch of \(n) rows needs \(n) labels, got \(labels.count)")
        if let rows { precondition(rows.allSatisfy { $0 >= 0 && $0 < features.rows }, "Row out of range 0..<\(features.rows)") }
        guard let highest = labels.max(), let lowest = labels.min() else { return }
        precondition(lowest >= 0, "Class labels are non-negative, got \(lowest)")
        let p = featureCount
        let width = max(classCount, highest + 1)
        let source: (Int) -> Int = rows.map { chosen in { chosen[$0] } } ?? { $0 }

        // Per-class counts and sums of the batch, in Float64.
        var batchCounts = [Double](repeating: 0, count: width)
        var batchSums = [Double](repeating: 0, count: width * p)
        features.scalars.withUnsafeBufferPointer { x in
            batchSums.withUnsafeMutableBufferPointer { s in
                for r in 0..<n {
                    let label = labels[r]
                    batchCounts[label] += 1
                    let row = source(r) * p, sum = label * p
                    for j in 0..<p { s[sum + j] += Double(x[row + j]) }
                }
            }
        }
        var means = [Float](repeating: 0, count: width * p)
        for c in 0..<width where batchCounts[c] > 0 {
            for j in 0..<p { means[c * p + j] = Float(batchSums[c * p + j] / batchCounts[c]) }
        }
        // Chan's between-part correction rows go with the centred rows into the next
        // product: one pass over the scatter per flush, not one per batch. Rows that would
        // take the pending buffer past its limit flush it first, so it never grows beyond.
        let corrections = absorb(counts: batchCounts, sums: batchSums)
        let limit = Self.pendingRowLimit * p
        if pending.count + n * p + corrections.count > limit { flushPending(share: &share) }
        if pending.capacity < limit { pending.reserveCapacity(limit) }
        // The rows centred on their class's batch mean, written straight into the pending
        // rows; their scatter Xcᵀ Xc is added at the next flush.
        let start = pending.count
        pending.append(contentsOf: repeatElement(0, count: n * p))
        pending.withUnsafeMutableBufferPointer { out in
            features.scalars.withUnsafeBufferPointer { x in
                means.withUnsafeBufferPointer { m in
                    for r in 0..<n {
                        let row = source(r) * p, mean = labels[r] * p, to = start + r * p
                        for j in 0..<p { out[to + j] = x[row + j] - m[mean + j] }
                    }
                }
            }
        }
        pending += corrections.map { Float($0) }
        if pending.count >= limit { flushPending(share: &share) }
        generation = Self.nextGeneration()
    }

    /// Adds the scatter of the pending rows to the totals now (a refit does, so that
    /// their scatter is computed once, not once for the fit and again at the next flush).
    public mutating func flush() {
        var off = ScatterShare.off
        flushPending(share: &off)
    }

    /// ``flush()``, taking the product `share` holds when the pending rows are the ones
    /// it came from, and offering this flush's product otherwise (``ScatterShare``).
    public mutating func flush(sharing share: inout ScatterShare) {
        flushPending(share: &share)
    }

    /// Rows pending, at most this many, and nothing flushed yet: a fit reads them alone
    /// (``fitsFromPendingRows``).
    public static let lowRankRows = 256

    /// Whether every row seen so far is still pending (nothing flushed into the scatter),
    /// and they are at most ``lowRankRows``: the scatter is then `Pᵀ P` of those rows, and
    /// ``fitDiscriminant(shrinkage:classCount:)`` solves through the `m x m` Gram matrix
    /// (the Woodbury identity) instead of factorising `p x p`, without flushing them.
    public var fitsFromPendingRows: Bool {
        pending.count <= Self.lowRankRows * featureCount && !scatter.contains { $0 != 0 }
    }

    /// Adds the scatter of the pending rows to the totals.
    private mutating func flushPending(share: inout ScatterShare) {
        guard !pending.isEmpty else { return }
        if share.isOff {
            Self.addScatter(of: pending, featureCount: featureCount, into: &scatter)
        } else if share.holdsProduct(of: pending, featureCount: featureCount) {
            Self.addUpperTriangle(of: share.product, featureCount: featureCount, into: &scatter)
            share.taken()
        } else {
            let product = Self.scatterProduct(of: pending, featureCount: featureCount)
            Self.addUpperTriangle(of: product, featureCount: featureCount, into: &scatter)
            share.offer(rows: pending, product: product, featureCount: featureCount)
        }
        pending.removeAll(keepingCapacity: true)
        generation = Self.nextGeneration()
    }

    /// The scatter including the pending rows (a copy only when rows are pending).
    func completeScatter() -> [Double] {
        guard !pending.isEmpty else { return scatter }
        var total = scatter
        Self.addScatter(of: pending, featureCount: featureCount, into: &total)
        return total
    }

    /// `Xᵀ X` of `rows` in Float32, `p x p` row-major: one ssyrk, the upper triangle
    /// written, the strict lower one left as it was allocated (never read).
    private static func scatterProduct(of rows: [Float], featureCount p: Int) -> [Float] {
        let rowCount = rows.count / p
        return [Float](unsafeUninitializedCapacity: p * p) { product, initialized in
            rows.withUnsafeBufferPointer { x in
                BLAS.ssyrk(transpose: true, n: p, k: rowCount, alpha: 1, a: x.baseAddress!, lda: p,
                           beta: 0, c: product.baseAddress!, ldc: p)
            }
            initialized = p * p
        }
    }

    /// `total += product` on the upper triangle, in Float64: each element by itself, so
    /// the rows are added in two parts side by side when the thread policy allows a
    /// second thread (the first `p (1 - 1/√2)` rows hold half the triangle). Memory-bound
    /// (48 MB read or written per flush at 2,048 features): the main job's statistics
    /// phase took 2.16 s with one thread here and 2.01-2.04 s with two, the same bits.
    private static func addUpperTriangle(of product: [Float], featureCount p: Int, into total: inout [Double]) {
        product.withUnsafeBufferPointer { product in
            total.withUnsafeMutableBufferPointer { t in
                let buffers = TriangleBuffers(product: product, total: t)
                let split = p >= 512 && BLAS.allowsSecondThread ? Int(Double(p) * (1 - 0.5.squareRoot())) : p
                let add: @Sendable (Int) -> Void = { part in
                    let (product, t) = (buffers.product, buffers.total)
                    for i in (part == 0 ? 0..<split : split..<p) {
                        let row = i * p
                        for j in i..<p { t[row + j] += Double(product[row + j]) }
                    }
                }
                if split < p {
                    DispatchQueue.concurrentPerform(iterations: 2, execute: add)
                } else {
                    add(0)
                }
            }
        }
    }

    /// The buffers of ``addUpperTriangle(of:featureCount:into:)``, whose two parts write
    /// disjoint rows.
    private struct TriangleBuffers: @unchecked Sendable {
        let product: UnsafeBufferPointer<Float>
        let total: UnsafeMutableBufferPointer<Double>
    }

    /// `total += Xᵀ X` on the upper triangle: one ssyrk in Float32, added in Float64.
    /// The product's buffer is never zeroed: ssyrk with beta = 0 writes the upper
    /// triangle without reading it, and only that triangle is read back (16 MB per flush
    /// at p = 2048).
    private static func addScatter(of rows: [Float], featureCount p: Int, into total: inout [Double]) {
        addUpperTriangle(of: scatterProduct(of: rows, featureCount: p), featureCount: p, into: &total)
    }

    /// Adds everything `other` has seen (as if its batches had been given to `update`).
    public mutating func merge(_ other: ClassStatistics) {
        precondition(other.featureCount == featureCount,
                     "Cannot merge statistics of \(other.featureCount) features into \(featureCount)")
        let p = featureCount
        let otherScatter = other.completeScatter()
        let corrections = absorb(counts: other.counts, sums: other.sums)
        scatter.withUnsafeMutableBufferPointer { total in
            otherScatter.withUnsafeBufferPointer { b in
                for i in 0..<p {
                    let row = i * p
                    for j in i..<p { total[row + j] += b[row + j] }
                }
            }
            if !corrections.isEmpty {
                corrections.withUnsafeBufferPointer { d in
                    BLAS.dsyrk(transpose: true, n: p, k: d.count / p, alpha: 1, a: d.baseAddress!, lda: p,
                               beta: 1, c: total.baseAddress!, ldc: p)
                }
            }
        }
        generation = Self.nextGeneration()
    }

    /// The statistics of the first `count` features alone: the same counts, the leading
    /// part of every class's sums, the scatter's leading `count x count` block and the
    /// pending rows' leading columns (each block is exactly what the smaller statistics
    /// would have gathered). Costs `O(count²)`, no product.
    public func leading(_ count: Int) -> ClassStatistics {
        precondition(count > 0 && count <= featureCount, "Leading features must be in 1...\(featureCount), got \(count)")
        let p = featureCount
        guard count < p else { return self }
        var part = ClassStatistics(featureCount: count)
        part.counts = counts
        part.sums.reserveCapacity(counts.count * count)
        for c in counts.indices { part.sums.append(contentsOf: sums[(c * p)..<(c * p + count)]) }
        part.scatter.withUnsafeMutableBufferPointer { out in
            scatter.withUnsafeBufferPointer { s in
                for i in 0..<count {
                    for j in i..<count { out[i * count + j] = s[i * p + j] }
                }
            }
        }
        let rows = pending.count / p
        part.pending.reserveCapacity(rows * count)
        for r in 0..<rows { part.pending.append(contentsOf: pending[(r * p)..<(r * p + count)]) }
        return part
    }

    /// The statistics of both `self` and `other`.
    public func merging(_ other: ClassStatistics) -> ClassStatistics {
        var result = self
        result.merge(other)
        return result
    }

    /// Adds another part's counts and sums; returns the rows of Chan's between-part
    /// correction, whose scatter `Dᵀ D` the caller adds to the total:
    /// `sqrt(n_a n_b / n) (μ_b - μ_a)` for each class present on both sides.
    private mutating func absorb(counts partCounts: [Double], sums partSums: [Double]) -> [Double] {
        let p = featureCount
        if partCounts.count > counts.count {
            sums += Array(repeating: 0, count: (partCounts.count - counts.count) * p)
            counts += Array(repeating: 0, count: partCounts.count - counts.count)
        }
        var corrections: [Double] = []
        for c in partCounts.indices where partCounts[c] > 0 && counts[c] > 0 {
            let na = counts[c], nb = partCounts[c]
            let factor = (na * nb / (na + nb)).squareRoot()
            for j in 0..<p {
                corrections.append(factor * (partSums[c * p + j] / nb - sums[c * p + j] / na))
            }
        }
        for c in partCounts.indices where partCounts[c] > 0 {
            counts[c] += partCounts[c]
            for j in 0..<p { sums[c * p + j] += partSums[c * p + j] }
        }
        return corrections
    }
}

/// One flush's scatter product, offered to the next flush whose pending rows are the same
/// values, bit for bit.
///
/// From a slot's first refit with as many samples as the gate has features, the slot in
/// charge's own statistics (`Learner.slotStatistics`) take the same rows as the gate's
/// pooled ones, centred on the same class means (its pairs' counts and sums are the
/// pooled ones), and the two flush together: at the same pending limit and at the same
/// refits. The second flush then adds the product the first computed instead of
/// computing it again (`ssyrk` of up to 512 rows of 2,048 features, 2.1 GFLOP). Rows
/// that differ in a single bit (a batch that held another slot's rows, a slot's first
/// rows, which the pooled statistics flushed at other moments) compute their own
/// product, so the totals are what separate flushes give, to the last bit.
///
/// A share holds a `p x p` Float32 product and the rows it came from (16 MB and up to
/// 4 MB at 2,048 features): keep one for one batch's updates or one refit, not longer.
public struct ScatterShare {
    fileprivate var rows: [Float] = []
    fileprivate var product: [Float] = []
    fileprivate var featureCount = 0
    /// Flushes that took the product another flush computed.
    public private(set) var reused = 0
    /// Offers nothing and takes nothing: a flush computes its own product and keeps no
    /// reference to its rows (which would make the next batch's pending rows a new buffer).
    fileprivate var isOff = false

    public init() {}

    /// A share that is not used: for statistics that no other statistics take rows with.
    public static var off: ScatterShare {
        var share = ScatterShare()
        share.isOff = true
        return share
    }

    /// Whether the product held is the scatter of exactly `pending`.
    fileprivate func holdsProduct(of pending: [Float], featureCount p: Int) -> Bool {
        guard featureCount == p, !product.isEmpty, rows.count == pending.count else { return false }
        return rows.withUnsafeBufferPointer { a in
            pending.withUnsafeBufferPointer { b in
                for i in 0..<a.count where a[i].bitPattern != b[i].bitPattern { return false }
                return true
            }
        }
    }

    fileprivate mutating func offer(rows: [Float], product: [Float], featureCount p: Int) {
        self.rows = rows
        self.product = product
        featureCount = p
    }

    /// The product served its second flush: two statistics share it, no third.
    fileprivate mutating func taken() {
        reused += 1
        rows = []
        product = []
    }
}

// MARK: Checkpoint state

extension ClassStatistics {
    /// The statistics as named Float64 arrays, for checkpoints:
    ///
    /// - `counts`: `C` samples per class;
    /// - `sums`: `C x p` feature sums, row-major;
    /// - `scatter`: the upper triangle of the `p x p` within-class scatter, row by row
    ///   (`p (p + 1) / 2` values).
    /// - `pending`: centred rows whose scatter is not yet added (saved as they are, so
    ///   a restored copy adds them in the same product as the original: bit-identical
    ///   continuation).
    public var state: [String: [Double]] {
        let p = featureCount
        var packed: [Double] = []
        packed.reserveCapacity(p * (p + 1) / 2)
        for i in 0..<p { packed.append(contentsOf: scatter[(i * p + i)..<(i * p + p)]) }
        return ["counts": counts, "sums": sums, "scatter": packed, "pending": pending.map(Double.init)]
    }

    /// Statistics restored from ``state``, checked entry by entry.
    public init(featureCount: Int, state: [String: [Double]]) throws(DiscriminantError) {
        self.init(featureCount: featureCount)
        for name in state.keys.sorted() where !["counts", "sums", "scatter", "pending"].contains(name) {
            throw .unknownState(name: name)
        }
        guard let counts = state["counts"] else { throw .missingState(name: "counts") }
        guard let sums = state["sums"] else { throw .missingState(name: "sums") }
        guard let packed = state["scatter"] else { throw .missingState(name: "scatter") }
        let p = featureCount
        if sums.count != counts.count * p {
            throw .wrongStateSize(name: "sums", expected: counts.count * p, actual: sums.count)
        }
        if packed.count != p * (p + 1) / 2 {
            throw .wrongStateSize(name: "scatter", expected: p * (p + 1) / 2, actual: packed.count)
        }
        for (index, value) in counts.enumerated() where !(value.isFinite && value >= 0 && value.rounded() == value) {
            throw .invalidStateValue(name: "counts", index: index, value: value)
        }
        if let index = sums.firstIndex(where: { !$0.isFinite }) {
            throw .invalidStateValue(name: "sums", index: index, value: sums[index])
        }
        if let index = packed.firstIndex(where: { !$0.isFinite }) {
            throw .invalidStateValue(name: "scatter", index: index, value: packed[index])
        }
        var offset = 0
        for i in 0..<p {
            let diagonal = packed[offset]
            if diagonal < 0 { throw .invalidStateValue(name: "scatter", index: offset, value: diagonal) }
            for j in i..<p {
                scatter[i * p + j] = packed[offset]
                offset += 1
            }
        }
        let pendingRows = state["pending"] ?? []
        if pendingRows.count % p != 0 || pendingRows.count >= Self.pendingRowLimit * p {
            throw .wrongStateSize(name: "pending", expected: (pendingRows.count / p) * p, actual: pendingRows.count)
        }
        if let index = pendingRows.firstIndex(where: { !$0.isFinite || Double(Float($0)) != $0 }) {
            throw .invalidStateValue(name: "pending", index: index, value: pendingRows[index])
        }
        self.counts = counts
        self.sums = sums
        pending = pendingRows.map { Float($0) }
        generation = Self.nextGeneration()
    }
}
