import Continual
import MoE
import Testing

/// `perClass` samples of each of `classCount` classes, labels cycling `0, 1, ...`, and
/// features that identify the row: `x[r][k] = offset + r * width + k`.
private func traceable(classCount: Int, perClass: Int, width: Int = 4, offset: Float = 0) -> Dataset {
    let count = classCount * perClass
    let scalars = (0..<(count * width)).map { offset + Float($0) }
    return Dataset(features: Matrix(rows: count, columns: width, scalars: scalars),
                   labels: (0..<count).map { $0 % classCount }, classCount: classCount, name: "traceable")
}

/// The row of a traceable data set that a (possibly permuted) feature row came from.
private func sourceRow(_ features: [Float], width: Int, offset: Float = 0) -> Int {
    Int((features.min()! - offset) / Float(width))
}

/// Every batch of a stream.
private func allBatches(_ stream: inout some BatchSource) throws -> [Batch] {
    var batches: [Batch] = []
    while let batch = try stream.next() { batches.append(batch) }
    return batches
}

@Suite("Scenarios")
struct ScenarioTests {
    let train = traceable(classCount: 6, perClass: 10)
    let test = traceable(classCount: 6, perClass: 4, offset: 100_000)

    @Test func splitDealsClassesInTheRequestedOrder() throws {
        let natural = try Scenario.split(train: train, test: test, seed: 1)
        #expect(natural.experiences.map(\.classes) == [[0, 1], [2, 3], [4, 5]])
        #expect(natural.experiences[1].trainIndices == train.indices(ofClasses: [2, 3]))
        #expect(natural.experiences[1].testIndices.count == 8)
        #expect(natural.testSet(experience: 2).labels.allSatisfy { $0 == 4 || $0 == 5 })

        let explicit = try Scenario.split(train: train, test: test, classesPerExperience: 3,
                                          classOrder: .explicit([5, 0, 3, 1, 4, 2]), seed: 1)
        #expect(explicit.experiences.map(\.classes) == [[0, 3, 5], [1, 2, 4]])

        let shuffled = try Scenario.split(train: train, test: test, classOrder: .shuffled, seed: 1)
        let again = try Scenario.split(train: train, test: test, classOrder: .shuffled, seed: 1)
        #expect(shuffled.experiences == again.experiences)
        #expect(shuffled.experiences.flatMap(\.classes).sorted() == Array(0..<6))
        let orders = try (1...6).map { seed in
            try Scenario.split(train: train, test: test, classOrder: .shuffled, seed: seed).experiences.map(\.classes)
        }
        #expect(Set(orders.map { "\($0)" }).count > 1)
    }

    @Test func badSplitOptionsAreRejectedWithASentence() {
        #expect(throws: ScenarioError.indivisibleClasses(classCount: 6, classesPerExperience: 4)) {
            try Scenario.split(train: train, test: test, classesPerExperience: 4, seed: 1)
        }
        #expect(ScenarioError.indivisibleClasses(classCount: 6, classesPerExperience: 4).description
            == "6 classes cannot be split into experiences of 4 classes each; choose a number of classes per experience that divides 6.")
        #expect(throws: ScenarioError.invalidClassOrder(order: [0, 1, 2, 3, 4, 4], classCount: 6)) {
            try Scenario.split(train: train, test: test, classOrder: .explicit([0, 1, 2, 3, 4, 4]), seed: 1)
        }
        let withoutLastClasses = test.subset(test.labels.indices.filter { test.labels[$0] < 4 })
        #expect(withoutLastClasses.classCount == 6)
        let error = #expect(throws: ScenarioError.self) { try Scenario.split(train: train, test: withoutLastClasses, seed: 1) }
        #expect(error?.description == "Experience 2 (classes 4, 5) has no test sample.")
        #expect(throws: ScenarioError.tooFewExperiences(requested: 1, minimum: 2)) {
            try Scenario.permuted(train: train, test: test, experienceCount: 1, seed: 1)
        }
    }

    @Test func streamShowsEverySampleOncePerPassInASeededOrder() throws {
        let scenario = try Scenario.split(train: train, test: test, seed: 3)
        var stream = scenario.trainStream(experience: 1, batchSize: 7, passes: 2)
        #expect(stream.count == 40)
        let batches = try allBatches(&stream)
        // A batch ends where a pass does.
        #expect(batches.map(\.count) == [7, 7, 6, 7, 7, 6])
        let rows = batches.flatMap { batch in (0..<batch.count).map { sourceRow(batch.features.row($0), width: 4) } }
        let own = scenario.experiences[1].trainIndices
        #expect(rows[..<20].sorted() == own)
        #expect(rows[20...].sorted() == own)
        #expect(Array(rows[..<20]) != Array(rows[20...]))
        #expect(Array(rows[..<20]) != own)
        #expect(batches.flatMap(\.labels) == rows.map { train.labels[$0] })

        var repeated = scenario.trainStream(experience: 1, batchSize: 7, passes: 2)
        #expect(try allBatches(&repeated) == batches)
        var otherSeed = try Scenario.split(train: train, test: test, seed: 4).trainStream(experience: 1, batchSize: 7, passes: 2)
        #expect(try allBatches(&otherSeed) != batches)
    }

    @Test func batchesSayWhichPassOverTheDataTheyBelongTo() throws {
        let scenario = try Scenario.split(train: train, test: test, seed: 3)
        // 20 samples per experience, 2 passes, batches of 8: the third batch ends with the
        // first pass (4 rows), so no batch holds rows of both: a first visit is never
        // taken for a repeat, nor a repeat for a first visit (which would add it to the
        // gate's statistics and the prequential counts twice).
        var stream = scenario.trainStream(experience: 1, batchSize: 8, passes: 2)
        let batches = try allBatches(&stream)
        #expect(batches.map(\.pass) == [0, 0, 0, 1, 1, 1])
        #expect(batches.map(\.count) == [8, 8, 4, 8, 8, 4])
        // A later cycle repeats the same data: its passes continue the count.
        var again = scenario.trainStream(experience: 1, batchSize: 8, passes: 2, earlierPasses: 2)
        #expect(try allBatches(&again).map(\.pass) == [2, 2, 2, 3, 3, 3])
        var resumed = scenario.trainStream(experience: 1, batchSize: 8, passes: 2)
        var position = resumed.position
        position.samplesDelivered = 24
        try resumed.resume(from: position)
        #expect(try allBatches(&resumed).map(\.pass) == [1, 1])
        // Resumed inside the first pass, it still ends the pass's batch at its last row.
        var early = scenario.trainStream(experience: 1, batchSize: 8, passes: 2)
        position.samplesDelivered = 10
        try early.resume(from: position)
        #expect(try allBatches(&early).map(\.count) == [8, 2, 8, 8, 4])
    }

    @Test func resumeContinuesExactlyWhereTheStreamStopped() throws {
        let scenario = try Scenario.permuted(train: train, test: test, experienceCount: 3, seed: 8)
        var whole = scenario.trainStream(experience: 2, batchSize: 8, passes: 2)
        let expected = try allBatches(&whole)
        var paused = scenario.trainStream(experience: 2, batchSize: 8, passes: 2)
        for _ in 0..<3 { _ = try paused.next() }
        let saved = paused.position
        #expect(saved.samplesDelivered == 24)
        var resumed = scenario.trainStream(experience: 2, batchSize: 8, passes: 2)
        try resumed.resume(from: saved)
        #expect(try allBatches(&resumed) == Array(expected[3...]))
    }

    @Test func permutedExperiencesApplyOneFixedPixelPermutationEach() throws {
        let scenario = try Scenario.permuted(train: train, test: test, experienceCount: 5, identityFirst: true, seed: 2)
        #expect(scenario.experiences.count == 5)
        #expect(scenario.experiences[0].pixelPermutation == nil)
        let permutations = scenario.experiences.dropFirst().map { $0.pixelPermutation! }
        #expect(permutations.allSatisfy { $0.sorted() == Array(0..<4) })
        #expect(scenario.experiences.allSatisfy { $0.classes == Array(0..<6) && $0.trainIndices.count == 60 })
        #expect(Set(permutations).count > 1)
        #expect(scenario.evaluationProtocols == [.domainIncremental])

        let permutation = scenario.experiences[3].pixelPermutation!
        var stream = scenario.trainStream(experience: 3, batchSize: 16)
        for batch in try allBatches(&stream) {
            for r in 0..<batch.count {
                let row = batch.features.row(r)
                let original = train.features.row(sourceRow(row, width: 4))
                #expect(row == permutation.map { original[$0] })
            }
        }
        let testSet = scenario.testSet(experience: 3)
        #expect(testSet.features.row(0) == permutation.map { test.features.row(0)[$0] })
        #expect(scenario.testSet(experience: 0).features == test.features)

        let allPermuted = try Scenario.permuted(train: train, test: test, identityFirst: false, seed: 2)
        #expect(allPermuted.experiences[0].pixelPermutation != nil)
    }

    @Test func taskIncrementalEvaluationMasksLogitsToTheExperiencesClasses() throws {
        let scenario = try Scenario.split(train: train, test: test, seed: 1)
        let logits = Matrix([[0, 2, 0, 0, 0, 9], [3, 1, 0, 0, 0, 9]])
        #expect(scenario.predictions(logits: logits, experience: 0, protocol: .classIncremental) == [5, 5])
        #expect(scenario.predictions(logits: logits, experience: 0, protocol: .taskIncremental) == [1, 0])
        #expect(scenario.predictions(logits: logits.gatherColumns([0, 1, 2]), experience: 2, protocol: .taskIncremental) == [-1, -1])

        // A learner that always says "class 0 or 2 or 4, whichever is first in the experience".
        let evenClass: (Matrix) -> Matrix = { x in
            Matrix(rows: x.rows, columns: 6, scalars: (0..<(x.rows * 6)).map { $0 % 2 == 0 ? Float($0 % 6 + 1) : 0 })
        }
        var classIncremental = AccuracyMatrix(), taskIncremental = AccuracyMatrix()
        scenario.evaluate(trainedThrough: 0, protocol: .classIncremental, into: &classIncremental, logits: evenClass)
        scenario.evaluate(trainedThrough: 0, protocol: .taskIncremental, into: &taskIncremental, logits: evenClass)
        #expect(classIncremental.values[0] == [0, 0, 0.5])
        #expect(taskIncremental.values[0] == [0.5, 0.5, 0.5])
    }
}

@Suite("Scenario drift")
struct ScenarioDriftTests {
    let train = traceable(classCount: 6, perClass: 500)
    let test = traceable(classCount: 6, perClass: 2, offset: 1_000_000)

    /// For each stream position, the experience its sample belongs to.
    private func experienceOf(_ scenario: Scenario, _ index: Int) throws -> [Int] {
        var stream = scenario.trainStream(experience: index, batchSize: 100)
        return try allBatches(&stream).flatMap { batch in
            batch.labels.map { label in scenario.experiences.firstIndex { $0.classes.contains(label) }! }
        }
    }

    @Test func consecutiveExperiencesBlendLinearlyOverTheWindow() throws {
        let scenario = try Scenario.split(train: train, test: test, drift: GradualDrift(window: 400), seed: 5)
        #expect(scenario.name == "split+drift")
        let first = try experienceOf(scenario, 0), middle = try experienceOf(scenario, 1)
        #expect(first.count == 1000 && middle.count == 1000)
        // Away from the window every sample is the experience's own.
        #expect(first[..<800].allSatisfy { $0 == 0 })
        #expect(middle[200..<800].allSatisfy { $0 == 1 })
        // P(next) rises from 0 to ½ over the last 200 positions: 50 borrowed expected,
        // fewer in the first half of that stretch than in the second.
        let borrowed = first[800...].filter { $0 == 1 }.count
        #expect((30...70).contains(borrowed))
        #expect(first[800..<900].filter { $0 == 1 }.count < first[900...].filter { $0 == 1 }.count)
        #expect(first.allSatisfy { $0 == 0 || $0 == 1 })
        // After the boundary the previous experience fades out, and the next fades in.
        let lingering = middle[..<200].filter { $0 == 0 }.count
        #expect((30...70).contains(lingering))
        #expect(middle[..<100].filter { $0 == 0 }.count > middle[100..<200].filter { $0 == 0 }.count)
        #expect((30...70).contains(middle[800...].filter { $0 == 2 }.count))
        let last = try experienceOf(scenario, 2)
        #expect(last[200...].allSatisfy { $0 == 2 })

    }

    @Test func driftWindowMustFitInAnExperience() {
        #expect(throws: ScenarioError.invalidDriftWindow(window: 1001, shortestExperience: 1000)) {
            try Scenario.split(train: train, test: test, drift: GradualDrift(window: 1001), seed: 1)
        }
        #expect(throws: ScenarioError.invalidDriftWindow(window: 0, shortestExperience: 1000)) {
            try Scenario.split(train: train, test: test, drift: GradualDrift(window: 0), seed: 1)
        }
    }
}

@Suite("Fashion-MNIST scenarios", .enabled(if: FashionMNIST.isAvailable()))
struct ScenarioFashionMNISTTests {
    @Test func splitAndPermutedHaveTheStandardShape() throws {
        let split = try Scenario.splitFashionMNIST(seed: 1)
        #expect(split.experiences.map(\.classes) == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]])
        #expect(split.experiences.allSatisfy { $0.trainIndices.count == 12_000 && $0.testIndices.count == 2_000 })
        #expect(split.inputWidth == 784 && split.classCount == 10)

        let permuted = try Scenario.permuted(train: split.train, test: split.test, experienceCount: 5, seed: 1)
        #expect(permuted.experiences.allSatisfy { $0.trainIndices.count == 60_000 && $0.testIndices.count == 10_000 })
        var stream = permuted.trainStream(experience: 4, batchSize: 256)
        let batch = try #require(try stream.next())
        #expect(batch.features.shape == [256, 784])
        #expect(batch.features.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    }
}
