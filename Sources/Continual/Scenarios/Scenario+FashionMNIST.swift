import MoE

extension Scenario {
    /// Split Fashion-MNIST: 5 experiences of 2 classes (0-1, 2-3, ..., 8-9 by default),
    /// 12,000 training and 2,000 test images each, pixels in [0, 1].
    ///
    /// Throws ``ScenarioError/data(_:)`` (which names the Debian package to install)
    /// when the files are missing or damaged.
    public static func splitFashionMNIST(
        directory: String = FashionMNIST.defaultDirectory, classOrder: ClassOrder = .natural,
        drift: GradualDrift? = nil, seed: UInt64
    ) throws(ScenarioError) -> Scenario {
        let (train, test) = try loadFashionMNIST(directory: directory)
        return try split(train: train, test: test, classesPerExperience: 2, classOrder: classOrder,
                         drift: drift, seed: seed)
    }

    /// Permuted Fashion-MNIST: `experienceCount` experiences of all 60,000 training and
    /// 10,000 test images, each under its own pixel permutation.
    public static func permutedFashionMNIST(
        directory: String = FashionMNIST.defaultDirectory, experienceCount: Int = 5, identityFirst: Bool = false,
        drift: GradualDrift? = nil, seed: UInt64
    ) throws(ScenarioError) -> Scenario {
        let (train, test) = try loadFashionMNIST(directory: directory)
        return try permuted(train: train, test: test, experienceCount: experienceCount,
                            identityFirst: identityFirst, drift: drift, seed: seed)
    }

    private static func loadFashionMNIST(directory: String) throws(ScenarioError) -> (Dataset, Dataset) {
        do {
            return try FashionMNIST.loadSplits(directory: directory)
        } catch {
            throw .data(error)
        }
    }
}
