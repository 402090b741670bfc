import MoE

// Streams of other rhythms than Split's 12,000-sample experiences, built from the same
// data: few rows per class, classes one at a time, blurry boundaries, an imbalanced
// class, domains that come back. Each is an ordinary scenario: its experiences refer to
// rows of the shared training and test sets, and everything random follows from the seed.
extension Scenario {
    /// A split scenario over at most `rowsPerClass` training rows of every class (a
    /// seeded choice, the same for every stream of the seed; nil keeps them all): classes
    /// dealt `classesPerExperience` at a time in natural order. One class per experience
    /// with a few hundred rows each is the rhythm of a user's data arriving class by class.
    public static func split(
        train: Dataset, test: Dataset, classesPerExperience: Int, rowsPerClass: Int?, seed: UInt64
    ) throws(ScenarioError) -> Scenario {
        let kept = chosenRows(of: train, seed: seed) { _, rows in rowsPerClass.map { Array(rows.prefix($0)) } ?? rows }
        return try split(train: train, test: test, classesPerExperience: classesPerExperience, seed: seed) { classes in
            classes.flatMap { kept[$0] }.sorted()
        }
    }

    /// Split 5 x 2 with blurry boundaries: every experience gives `share` of its rows to
    /// its neighbours (half to the previous experience, half to the next; the first and
    /// the last give all of it to their one neighbour), so neighbouring experiences share
    /// that fraction of their samples. Every row appears once. An experience's `classes`
    /// (its task, and its test set) stay its own.
    public static func blurry(
        train: Dataset, test: Dataset, classesPerExperience: Int = 2, share: Double, seed: UInt64
    ) throws(ScenarioError) -> Scenario {
        guard share >= 0 && share < 1 else { throw .invalidShare(share) }
        let rows = chosenRows(of: train, seed: seed) { _, rows in rows }
        let groups = stride(from: 0, to: train.classCount, by: classesPerExperience).map {
            Array($0..<min($0 + classesPerExperience, train.classCount))
        }
        var given = [[Int]](repeating: [], count: groups.count)
        for (e, classes) in groups.enumerated() {
            let own = classes.flatMap { rows[$0] }
            let count = Int((Double(own.count) * share).rounded())
            let out = Array(own.prefix(count))
            given[e] = Array(own.dropFirst(count))
            let previous = e > 0 ? e - 1 : nil, next = e + 1 < groups.count ? e + 1 : nil
            switch (previous, next) {
            case let (p?, n?):
                given[p] += out.prefix(count / 2)
                given[n] += out.dropFirst(count / 2)
            case let (p?, nil): given[p] += out
            case let (nil, n?): given[n] += out
            case (nil, nil): given[e] += out
            }
        }
        return try split(train: train, test: test, classesPerExperience: classesPerExperience, seed: seed) { classes in
            given[groups.firstIndex(of: classes)!].sorted()
        }
    }

    /// Split 5 x 2 in which class `rare` keeps only `1 / factor` of its training rows.
    public static func imbalanced(
        train: Dataset, test: Dataset, rare: Int, factor: Int, seed: UInt64
    ) throws(ScenarioError) -> Scenario {
        guard rare >= 0 && rare < train.classCount && factor >= 1 else { throw .invalidImbalance(rare: rare, factor: factor) }
        let kept = chosenRows(of: train, seed: seed) { c, rows in c == rare ? Array(rows.prefix(rows.count / factor)) : rows }
        return try split(train: train, test: test, classesPerExperience: 2, seed: seed) { classes in
            classes.flatMap { kept[$0] }.sorted()
        }
    }

    /// Domains that come back: `domains` pixel permutations visited in turn `visits`
    /// times (A B C A B C for 3 and 2), each visit on its own `rowsPerVisit` training rows
    /// (disjoint, a seeded choice), each scored on the whole test set under its domain's
    /// permutation. Scored domain-incrementally, like `permuted`.
    public static func recurringDomains(
        train: Dataset, test: Dataset, domains: Int, visits: Int, rowsPerVisit: Int, seed: UInt64
    ) throws(ScenarioError) -> Scenario {
        try checkCompatible(train: train, test: test)
        guard domains >= 2 && visits >= 1 else { throw .tooFewExperiences(requested: domains * visits, minimum: 2) }
        guard rowsPerVisit >= 1 && rowsPerVisit * domains * visits <= train.count else {
            throw .notEnoughRows(needed: rowsPerVisit * domains * visits, available: train.count)
        }
        var generator = SeededGenerator(seed: derivedSeed(seed, .subsample, 0))
        let order = generator.permutation(train.count)
        let permutations = (0..<domains).map { d -> [Int] in
            var g = SeededGenerator(seed: derivedSeed(seed, .pixelPermutation, d))
            return g.permutation(train.inputWidth)
        }
        let experiences = (0..<(domains * visits)).map { k in
            Experience(
                index: k, classes: Array(0..<train.classCount),
                trainIndices: order[(k * rowsPerVisit)..<((k + 1) * rowsPerVisit)].sorted(),
                testIndices: Array(0..<test.count), pixelPermutation: permutations[k % domains])
        }
        return try Scenario(kind: .permuted, experiences: experiences, drift: nil, seed: seed, train: train, test: test)
    }

    /// Every class's training rows in a seeded order, passed through `keep`.
    private static func chosenRows(of data: Dataset, seed: UInt64, keep: (Int, [Int]) -> [Int]) -> [[Int]] {
        (0..<data.classCount).map { c in
            var generator = SeededGenerator(seed: derivedSeed(seed, .subsample, c + 1))
            let rows = data.indices(ofClasses: [c])
            return keep(c, generator.permutation(rows.count).map { rows[$0] })
        }
    }

    /// A split scenario in natural class order whose experiences take the training rows
    /// `rows(classes)`.
    private static func split(
        train: Dataset, test: Dataset, classesPerExperience: Int, seed: UInt64, rows: ([Int]) -> [Int]
    ) throws(ScenarioError) -> Scenario {
        try checkCompatible(train: train, test: test)
        let classCount = train.classCount
        try checkSplit(classCount: classCount, classesPerExperience: classesPerExperience)
        var experiences: [Experience] = []
        for index in 0..<(classCount / classesPerExperience) {
            let classes = Array((index * classesPerExperience)..<((index + 1) * classesPerExperience))
            let experience = Experience(
                index: index, classes: classes, trainIndices: rows(classes),
                testIndices: test.indices(ofClasses: Set(classes)), pixelPermutation: nil)
            for (part, taken) in [("training", experience.trainIndices), ("test", experience.testIndices)] where taken.isEmpty {
                throw .emptyExperience(index: index, classes: classes, part: part)
            }
            experiences.append(experience)
        }
        return try Scenario(kind: .split, experiences: experiences, drift: nil, seed: seed, train: train, test: test)
    }
}
