import MoE

extension Scenario {
    /// The order in which classes are dealt to the experiences of a split scenario.
    public enum ClassOrder: Sendable, Equatable, Codable {
        /// `0, 1, 2, ...`: experience `i` holds classes `k i ..< k (i + 1)`.
        case natural
        /// A permutation of the classes drawn from the scenario's seed.
        case shuffled
        /// This order (a permutation of `0..<classCount`).
        case explicit([Int])
    }

    /// Checks that `classCount` classes split into at least two experiences of
    /// `classesPerExperience` each.
    static func checkSplit(classCount: Int, classesPerExperience: Int) throws(ScenarioError) {
        guard classesPerExperience > 0 && classCount % classesPerExperience == 0 else {
            throw .indivisibleClasses(classCount: classCount, classesPerExperience: classesPerExperience)
        }
        guard classCount / classesPerExperience >= 2 else {
            throw .tooFewExperiences(requested: classCount / classesPerExperience, minimum: 2)
        }
    }

    /// A split (class-incremental) scenario: the classes, in `classOrder`, dealt
    /// `classesPerExperience` at a time to consecutive experiences; each experience
    /// holds every training and test sample of its classes.
    ///
    /// - Parameters:
    ///   - train: The training set.
    ///   - test: The test set (same width and classes).
    ///   - classesPerExperience: Classes per experience (2 gives Split Fashion-MNIST's 5).
    ///   - classOrder: Natural order by default.
    ///   - drift: Blend consecutive streams (nil: abrupt boundaries).
    ///   - seed: Seed of the class order (when shuffled), sample orders and drift draws.
    public static func split(
        train: Dataset, test: Dataset, classesPerExperience: Int = 2, classOrder: ClassOrder = .natural,
        drift: GradualDrift? = nil, seed: UInt64
    ) throws(ScenarioError) -> Scenario {
        try checkCompatible(train: train, test: test)
        let classCount = train.classCount
        try checkSplit(classCount: classCount, classesPerExperience: classesPerExperience)
        let order: [Int]
        switch classOrder {
        case .natural:
            order = Array(0..<classCount)
        case .shuffled:
            var generator = SeededGenerator(seed: derivedSeed(seed, .classOrder, 0))
            order = generator.permutation(classCount)
        case let .explicit(given):
            guard given.sorted() == Array(0..<classCount) else {
                throw .invalidClassOrder(order: given, classCount: classCount)
            }
            order = given
        }
        var experiences: [Experience] = []
        for index in 0..<(classCount / classesPerExperience) {
            let classes = order[(index * classesPerExperience)..<((index + 1) * classesPerExperience)].sorted()
            let members = Set(classes)
            let experience = Experience(
                index: index, classes: classes,
                trainIndices: train.indices(ofClasses: members), testIndices: test.indices(ofClasses: members),
                pixelPermutation: nil)
            for (part, rows) in [("training", experience.trainIndices), ("test", experience.testIndices)] where rows.isEmpty {
                throw .emptyExperience(index: index, classes: classes, part: part)
            }
            experiences.append(experience)
        }
        return try Scenario(kind: .split, experiences: experiences, drift: drift, seed: seed, train: train, test: test)
    }
}
