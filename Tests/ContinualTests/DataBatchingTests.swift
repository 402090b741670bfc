import Foundation
import Testing
import Continual
import MoE
import TestSupport

@Suite("Batching and normalisation")
struct DataBatchingTests {
    /// Ten samples whose single feature is their index, labels index % 3.
    let dataset = Dataset(features: Matrix(rows: 10, columns: 1, scalars: (0..<10).map(Float.init)),
                          labels: (0..<10).map { $0 % 3 }, name: "ten")

    /// Every batch of a source.
    func batches(_ source: DatasetSource) throws -> [Batch] {
        var source = source
        var all: [Batch] = []
        while let batch = try source.next() { all.append(batch) }
        return all
    }

    @Test("the same seed gives bit-identical batches; each pass covers every sample once, in its own order")
    func shuffledDeterminism() throws {
        let first = try batches(DatasetSource(dataset: dataset, batchSize: 4, passes: 2, shuffleSeed: 42))
        let second = try batches(DatasetSource(dataset: dataset, batchSize: 4, passes: 2, shuffleSeed: 42))
        #expect(first == second)
        // A batch never straddles two passes: the last of each pass is smaller.
        #expect(first.map(\.count) == [4, 4, 2, 4, 4, 2])
        #expect(first.map(\.pass) == [0, 0, 0, 1, 1, 1])
        let order = first.prefix(3).flatMap { $0.features.scalars.map { Int($0) } }
        #expect(order.sorted() == Array(0..<10))
        #expect(order == SeededGenerator(seed: 42).permutationOf(10))
        #expect(first.prefix(3).flatMap(\.labels) == order.map { $0 % 3 })
        let nextPass = first.suffix(3).flatMap { $0.features.scalars.map { Int($0) } }
        #expect(nextPass != order && nextPass.sorted() == Array(0..<10))
        #expect(try batches(DatasetSource(dataset: dataset, batchSize: 4, passes: 2, shuffleSeed: 43)) != first)
    }

    @Test("batches in data order without a seed")
    func sequential() throws {
        let all = try batches(DatasetSource(dataset: dataset, batchSize: 4))
        #expect(all.map(\.labels) == [[0, 1, 2, 0], [1, 2, 0, 1], [2, 0]])
        #expect(all.allSatisfy { $0.pass == 0 })
        #expect(try batches(DatasetSource(dataset: dataset, batchSize: 20)).map(\.count) == [10])
    }

    @Test("subsets and class selection")
    func subsets() {
        let picked = dataset.subset(dataset.indices(ofClasses: [2]))
        #expect(picked.labels == [2, 2, 2] && picked.features.scalars == [2, 5, 8])
        #expect(picked.classCount == 3 && picked.name == "ten")
        #expect(dataset.classCounts == [4, 3, 3])
    }

    @Test("standardisation fitted on training data gives mean 0 and deviation 1 there")
    func standardizer() throws {
        let train = randomMatrix(200, 5, seed: 3, scale: 4).map { $0 * 3 + 7 }
        var withConstant = train.concatenatingColumns(Matrix(rows: 200, columns: 1, repeating: 2.5))
        let standardizer = Standardizer(fitting: withConstant)
        standardizer.apply(to: &withConstant)
        for j in 0..<6 {
            let column = (0..<200).map { Double(withConstant[$0, j]) }
            let mean = column.reduce(0, +) / 200
            let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 200
            #expect(abs(mean) < 1e-5)
            #expect(j == 5 ? variance == 0 : abs(variance - 1) < 1e-4)
        }
        #expect(standardizer.standardDeviation[5] == 1e-6 && standardizer.mean[5] == 2.5)
        // Applied to other data with the training statistics, not its own.
        let other = standardizer(Matrix(rows: 1, columns: 6, scalars: standardizer.mean))
        #expect(other.scalars.allSatisfy { $0 == 0 })
        let decoded = try JSONDecoder().decode(Standardizer.self, from: JSONEncoder().encode(standardizer))
        #expect(decoded == standardizer)
    }

    @Test("unit scaling maps the training range to [0, 1]")
    func unitScaler() {
        let train = Matrix([[1, -2, 5], [3, 2, 5], [2, 0, 5]])
        let scaler = UnitScaler(fitting: train)
        #expect(scaler(train) == Matrix([[0, 0, 0], [1, 1, 0], [0.5, 0.5, 0]]))
        #expect(scaler(Matrix([[5, 6, 6]])) == Matrix([[2, 2, 1]]))
    }
}

extension SeededGenerator {
    /// The permutation a fresh copy of this generator would draw.
    func permutationOf(_ count: Int) -> [Int] {
        var copy = self
        return copy.permutation(count)
    }
}
