import MoE

extension Scenario {
    /// A permuted (domain-incremental) scenario: `experienceCount` experiences, each
    /// holding the whole training and test set under its own fixed pixel permutation.
    ///
    /// - Parameters:
    ///   - experienceCount: Number of permutations (at least 2; 5 or more is usual).
    ///   - identityFirst: Whether experience 0 shows the original images.
    ///   - drift: Blend consecutive streams (nil: abrupt boundaries).
    ///   - seed: Seed of the permutations, sample orders and drift draws.
    public static func permuted(
        train: Dataset, test: Dataset, experienceCount: Int = 5, identityFirst: Bool = false,
        drift: GradualDrift? = nil, seed: UInt64
    ) throws(ScenarioError) -> Scenario {
        try checkCompatible(train: train, test: test)
        guard experienceCount >= 2 else { throw .tooFewExperiences(requested: experienceCount, minimum: 2) }
        for (part, data) in [("training", train), ("test", test)] where data.count == 0 {
            throw .emptyExperience(index: 0, classes: Array(0..<train.classCount), part: part)
        }
        let experiences = (0..<experienceCount).map { index in
            var generator = SeededGenerator(seed: derivedSeed(seed, .pixelPermutation, index))
            let permutation = index == 0 && identityFirst ? nil : generator.permutation(train.inputWidth)
            return Experience(
                index: index, classes: Array(0..<train.classCount),
                trainIndices: Array(0..<train.count), testIndices: Array(0..<test.count),
                pixelPermutation: permutation)
        }
        return try Scenario(kind: .permuted, experiences: experiences, drift: drift, seed: seed, train: train, test: test)
    }
}
