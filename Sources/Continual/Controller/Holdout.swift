import MoE

/// First-visit samples of the slot in charge that nothing learns from while the slot
/// trains: the fair test of its network against the gate once it stops learning.
///
/// Judged on the samples it is learning from, a network looks worse than it ends up: its
/// prequential score averages over the whole of its learning curve, while the gate's
/// statistics converge within a few hundred samples. On Permuted Fashion-MNIST the experts
/// lost to the gate on first visits in four of five slots and beat it by a point on the
/// test set. So a fraction of the slot's samples (`rate`, a seeded choice) is kept aside in
/// a reservoir of at most `capacity` rows; when the slot is frozen (or a prediction is
/// asked of the slot still in charge) the slot's answers are compared on them, and then
/// they join the gate's statistics like every other sample. The networks never learn from
/// the rows held: the cost of the test is `rate` of the slot's rows until the reservoir is
/// full, and from then on the rows it keeps (`capacity / seen` of those set aside) and the
/// ones they push out; the rows it turns away are learned at once
/// (`AnswerArbiter.Settings.holdoutLearnsTurnedAway`).
public struct Holdout: Sendable, Equatable {
    /// Fraction of the slot in charge's first-visit rows kept aside.
    public let rate: Double
    /// Most rows kept (a reservoir over all rows set aside).
    public let capacity: Int
    /// The slot whose rows these are.
    public private(set) var slot: Int = 0
    /// Features per row.
    public let width: Int
    /// Kept rows (raw inputs, row-major) and their labels.
    public private(set) var scalars: [Float] = []
    public private(set) var labels: [Int] = []
    /// Rows set aside for the current slot, kept or not.
    public private(set) var seen = 0
    /// First-visit rows in the current slot's charge offered so far (set aside or not).
    public private(set) var offered = 0
    /// Rows of a slot learned from before any is set aside: while a slot has few
    /// samples, the gate needs every one of them (on 400 rows per class a holdout cost
    /// the gate 0.4 points), and its network rarely beats the gate anyway.
    public static let startAfter = 4096
    /// Rows of frozen slots kept for good (at most ``retainedPerSlot`` each): every
    /// growth and every evaluation judges those slots again on them, because the gate's
    /// answer in an old slot changes as its statistics take in other slots' samples (its
    /// pooled scatter mixes domains), while a frozen network's does not.
    public private(set) var retainedScalars: [Float] = []
    public private(set) var retainedLabels: [Int] = []
    public private(set) var retainedSlots: [Int] = []
    /// Rows kept per frozen slot.
    public static let retainedPerSlot = 512

    public init(rate: Double, capacity: Int, width: Int) {
        self.rate = rate
        self.capacity = capacity
        self.width = width
    }

    /// Restores a saved holdout.
    public init(rate: Double, capacity: Int, slot: Int, features: Matrix, labels: [Int], seen: Int, offered: Int,
                retained: (features: Matrix, labels: [Int], slots: [Int])? = nil) {
        precondition(features.rows == labels.count && features.rows <= capacity && seen >= features.rows && offered >= seen,
                     "A holdout's rows, labels, capacity and count must agree")
        self.rate = rate
        self.capacity = capacity
        self.width = features.columns
        self.slot = slot
        self.scalars = features.scalars
        self.labels = labels
        self.seen = seen
        self.offered = offered
        if let retained {
            precondition(retained.features.columns == width && retained.features.rows == retained.labels.count
                         && retained.labels.count == retained.slots.count, "Retained rows, labels and slots must agree")
            retainedScalars = retained.features.scalars
            retainedLabels = retained.labels
            retainedSlots = retained.slots
        }
    }

    /// The retained rows of frozen slots as a matrix.
    public var retainedFeatures: Matrix { Matrix(rows: retainedLabels.count, columns: width, scalars: retainedScalars) }

    /// The frozen slots with retained rows, ascending.
    var retainedSlotIDs: [Int] { Set(retainedSlots).sorted() }

    /// The retained rows of `slot`.
    func retained(slot s: Int) -> (features: Matrix, labels: [Int]) {
        let rows = retainedSlots.indices.filter { retainedSlots[$0] == s }
        var scalars: [Float] = []
        scalars.reserveCapacity(rows.count * width)
        for r in rows { scalars.append(contentsOf: retainedScalars[(r * width)..<((r + 1) * width)]) }
        return (Matrix(rows: rows.count, columns: width, scalars: scalars), rows.map { retainedLabels[$0] })
    }

    /// Keeps `features`/`labels` (rows of frozen slot `s`) for good.
    mutating func retain(slot s: Int, features: Matrix, labels newLabels: [Int]) {
        precondition(features.columns == width && features.rows == newLabels.count, "Retained rows and labels must agree")
        retainedScalars += features.scalars
        retainedLabels += newLabels
        retainedSlots += Array(repeating: s, count: newLabels.count)
    }

    /// The kept rows as a matrix.
    public var features: Matrix { Matrix(rows: labels.count, columns: width, scalars: scalars) }

    public var isEmpty: Bool { labels.isEmpty }
    public var count: Int { labels.count }

    /// Which of `rows` (first visits in the charge of the slot in charge) to set aside.
    mutating func choose(_ rows: [Int], generator: inout SeededGenerator) -> Set<Int> {
        guard rate > 0, capacity > 0 else { return [] }
        var chosen = Set<Int>()
        for r in rows {
            offered += 1
            if offered > Self.startAfter && generator.nextUnitDouble() < rate { chosen.insert(r) }
        }
        return chosen
    }

    /// Keeps `x` rows `rows` (reservoir sampling, Vitter's algorithm R); returns the rows
    /// of `rows` that the full reservoir turned away (`turnedAway`, ascending) and the
    /// rows it pushed out (`features` and `labels`: raw inputs and labels), which must be
    /// learned from like any other sample. With `returnsTurnedAway` false, the rows
    /// turned away are returned among the pushed-out ones, as they were before.
    mutating func keep(_ x: Matrix, labels batchLabels: [Int], rows: [Int], returnsTurnedAway: Bool,
                       generator: inout SeededGenerator) -> (features: [Float], labels: [Int], turnedAway: [Int]) {
        precondition(x.columns == width, "The holdout keeps rows of \(width) features, got \(x.columns)")
        var leftFeatures: [Float] = [], leftLabels: [Int] = [], turnedAway: [Int] = []
        for r in rows.sorted() {
            seen += 1
            let row = x.scalars[(r * width)..<((r + 1) * width)]
            if labels.count < capacity {
                scalars.append(contentsOf: row)
                labels.append(batchLabels[r])
            } else {
                let j = generator.nextInt(below: seen)
                if j < capacity {
                    leftFeatures.append(contentsOf: scalars[(j * width)..<((j + 1) * width)])
                    leftLabels.append(labels[j])
                    scalars.replaceSubrange((j * width)..<((j + 1) * width), with: row)
                    labels[j] = batchLabels[r]
                } else if returnsTurnedAway {
                    turnedAway.append(r)
                } else {
                    leftFeatures.append(contentsOf: row)
                    leftLabels.append(batchLabels[r])
                }
            }
        }
        return (leftFeatures, leftLabels, turnedAway)
    }

    /// Empties the holdout for slot `slot`; returns what it held.
    mutating func release(nextSlot: Int) -> (features: Matrix, labels: [Int]) {
        let held = (features, labels)
        slot = nextSlot
        scalars = []
        labels = []
        seen = 0
        offered = 0
        return held
    }

    /// Floats held (features plus one per label), the retained rows included.
    public var memoryFloats: Int { capacity * (width + 1) + retainedLabels.count * (width + 2) }
}
