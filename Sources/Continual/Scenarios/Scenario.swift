import MoE

/// A continual-learning benchmark: a training set and a test set cut into a sequence of
/// experiences, each with its own training stream and test set.
///
/// Two families are built here, after Avalanche's benchmarks (Lomonaco et al.,
/// "Avalanche: an end-to-end library for continual learning", CVPR Workshops 2021):
///
/// - ``split(train:test:classesPerExperience:classOrder:drift:seed:)``: class-incremental.
///   Each experience brings new classes (Fashion-MNIST: 0-1, 2-3, ..., 8-9). It is scored
///   class-incrementally (one head over all classes, no task identity at test time) and
///   task-incrementally (logits masked to the experience's classes), see
///   ``EvaluationProtocol``.
/// - ``permuted(train:test:experienceCount:identityFirst:drift:seed:)``:
///   domain-incremental. Every experience holds all classes, its images under one fixed
///   pixel permutation.
///
/// Everything random (class order, permutations, sample order, drift draws) follows from
/// `seed`, so the same seed gives the same streams, bit for bit. Experiences refer to the
/// rows of the shared data sets; images are permuted batch by batch, never all at once.
public struct Scenario: Sendable {
    /// What kind of benchmark this is.
    public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        /// New classes per experience (class-incremental and task-incremental).
        case split
        /// The same classes under a new pixel permutation per experience (domain-incremental).
        case permuted
    }

    /// The benchmark's kind.
    public let kind: Kind
    /// The experiences, in stream order.
    public let experiences: [Experience]
    /// Blending of consecutive experiences' streams, or nil for abrupt boundaries.
    public let drift: GradualDrift?
    /// The seed everything random follows from.
    public let seed: UInt64
    /// The full training set (experiences index into it).
    public let train: Dataset
    /// The full test set.
    public let test: Dataset

    init(kind: Kind, experiences: [Experience], drift: GradualDrift?, seed: UInt64,
         train: Dataset, test: Dataset) throws(ScenarioError) {
        if let drift {
            let shortest = experiences.map(\.trainIndices.count).min() ?? 0
            guard drift.window > 0 && drift.window <= shortest else {
                throw .invalidDriftWindow(window: drift.window, shortestExperience: shortest)
            }
        }
        self.kind = kind
        self.experiences = experiences
        self.drift = drift
        self.seed = seed
        self.train = train
        self.test = test
    }

    /// Width of the classifier's output (all classes of the data).
    public var classCount: Int { train.classCount }
    /// Features per sample.
    public var inputWidth: Int { train.inputWidth }

    /// A short name such as `split` or `permuted`, with `+drift` when blended.
    public var name: String { kind.rawValue + (drift == nil ? "" : "+drift") }

    /// The test set of experience `index` (images permuted for a permuted scenario).
    public func testSet(experience index: Int) -> Dataset {
        materialise(test, rows: experience(index).testIndices, index: index, part: "test")
    }

    /// Throws unless `train` and `test` have the same input width and classes.
    static func checkCompatible(train: Dataset, test: Dataset) throws(ScenarioError) {
        guard train.inputWidth == test.inputWidth else {
            throw .inputWidthMismatch(train: train.inputWidth, test: test.inputWidth)
        }
        guard train.classCount == test.classCount else {
            throw .classCountMismatch(train: train.classCount, test: test.classCount)
        }
    }

    func experience(_ index: Int) -> Experience {
        precondition(index >= 0 && index < experiences.count,
                     "Experience \(index) out of range 0..<\(experiences.count)")
        return experiences[index]
    }

    private func materialise(_ data: Dataset, rows: [Int], index: Int, part: String) -> Dataset {
        var result = data.subset(rows)
        if let permutation = experiences[index].pixelPermutation {
            result.features = result.features.gatherColumns(permutation)
        }
        result.name = "\(data.name), \(name) experience \(index) \(part)"
        return result
    }
}
