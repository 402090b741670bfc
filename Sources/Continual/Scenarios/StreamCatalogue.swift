import MoE

/// The named streams of Fashion-MNIST: what `moe stream --scenario NAME` streams and what
/// `moe suite` measures every learner on. They differ in rhythm (how many rows arrive per
/// class, one class or several at a time), in boundaries (abrupt, blurry, gradual), in
/// balance, and in the kind of change (new classes, new domains, domains that return).
public enum StreamCatalogue {
    /// One named stream.
    public struct Entry: Sendable, Equatable {
        /// Its name (`class-ordered-fmnist`).
        public var name: String
        /// What it is, in a sentence.
        public var summary: String
        /// Passes over each experience's data when none is given.
        public var passes: Int
    }

    /// Every named stream, in the suite's order.
    public static let entries: [Entry] = [
        Entry(name: "split-fmnist", summary: "Split 5 x 2 classes, 12,000 rows per experience", passes: 2),
        Entry(name: "class-ordered-fmnist", summary: "one class at a time, 400 rows per class", passes: 1),
        Entry(name: "small-fmnist", summary: "Split 5 x 2 classes, 100 rows per class", passes: 1),
        Entry(name: "blurry-fmnist", summary: "Split 5 x 2, neighbouring experiences share 20% of their rows", passes: 1),
        Entry(name: "imbalanced-fmnist", summary: "Split 5 x 2, class 3 ten times rarer than the others", passes: 1),
        Entry(name: "permuted-fmnist", summary: "Permuted, 5 pixel permutations of all 60,000 rows", passes: 1),
        Entry(name: "recurring-fmnist", summary: "domains A B C A B C (pixel permutations), 10,000 new rows per visit", passes: 1),
        Entry(name: "drift-fmnist", summary: "3 permutations of 20,000 rows, each blended into the next over 6,000 rows", passes: 1),
    ]

    /// The entry called `name`, if any.
    public static func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// How the pixels of a stream are given to the learner.
    public enum Units: String, Sendable, Codable, CaseIterable {
        /// Pixels in [0, 1] (the files' bytes divided by 255).
        case unit
        /// The raw bytes, 0-255.
        case raw
        /// Standardised with the training set's per-pixel mean and standard deviation
        /// (pixels that never vary stay 0).
        case standardized

        /// The data in these units (from [0, 1]); `reference` gives the statistics.
        public func apply(to data: Dataset, reference: Dataset) -> Dataset {
            var result = data
            switch self {
            case .unit:
                return data
            case .raw:
                result.features = data.features.map { ($0 * 255).rounded() }
            case .standardized:
                let p = reference.inputWidth, n = Double(max(1, reference.count))
                var mean = [Double](repeating: 0, count: p), squares = [Double](repeating: 0, count: p)
                for r in 0..<reference.count { for j in 0..<p { mean[j] += Double(reference.features[r, j]) } }
                for j in 0..<p { mean[j] /= n }
                for r in 0..<reference.count {
                    for j in 0..<p {
                        let d = Double(reference.features[r, j]) - mean[j]
                        squares[j] += d * d
                    }
                }
                let scale = squares.map { s in s > 0 ? Float(1 / (s / n).squareRoot()) : 1 }
                for r in 0..<data.count {
                    for j in 0..<p { result.features[r, j] = (data.features[r, j] - Float(mean[j])) * scale[j] }
                }
            }
            result.name = data.name + (self == .unit ? "" : " (\(rawValue))")
            return result
        }
    }

    /// Builds the stream `name` from Fashion-MNIST's training and test sets (pixels in
    /// [0, 1]), in `units`; nil when the name is not in the catalogue.
    public static func scenario(
        _ name: String, train: Dataset, test: Dataset, units: Units = .unit, experiences: Int = 5, seed: UInt64
    ) throws(ScenarioError) -> Scenario? {
        let train2 = units.apply(to: train, reference: train), test2 = units.apply(to: test, reference: train)
        switch name {
        case "split-fmnist":
            return try .split(train: train2, test: test2, classesPerExperience: 2, seed: seed)
        case "class-ordered-fmnist":
            return try .split(train: train2, test: test2, classesPerExperience: 1, rowsPerClass: 400, seed: seed)
        case "small-fmnist":
            return try .split(train: train2, test: test2, classesPerExperience: 2, rowsPerClass: 100, seed: seed)
        case "blurry-fmnist":
            return try .blurry(train: train2, test: test2, share: 0.2, seed: seed)
        case "imbalanced-fmnist":
            return try .imbalanced(train: train2, test: test2, rare: 3, factor: 10, seed: seed)
        case "permuted-fmnist":
            return try .permuted(train: train2, test: test2, experienceCount: experiences, seed: seed)
        case "recurring-fmnist":
            return try .recurringDomains(train: train2, test: test2, domains: 3, visits: 2, rowsPerVisit: 10_000, seed: seed)
        case "drift-fmnist":
            var generator = SeededGenerator(seed: derivedSeed(seed, .subsample, 0))
            let rows = generator.permutation(train2.count).prefix(20_000).sorted()
            return try .permuted(train: train2.subset(rows), test: test2, experienceCount: 3,
                                 drift: GradualDrift(window: 6_000), seed: seed)
        default:
            return nil
        }
    }
}
