import Foundation
import Testing
import TestSupport

/// `moe stream --cycles`: the scenario's experiences repeated, the matrix of one cycle,
/// one summary per cycle, a pause across a cycle boundary resumed exactly.
@Suite("moe stream --cycles")
struct StreamCyclesTests {
    let small = ["--data", TrainingData.synthetic, "--hidden", "32,32", "--passes", "1", "--batch-size", "100", "--cycles", "2"]

    @Test("into the second cycle: a 5x5 matrix, a summary per cycle, and a resumed pause ends as the straight run")
    func twoCycles() throws {
        try withTemporaryDirectory { dir in
            let straight = MoeProcess.run(["stream"] + small + ["--stop-after", "7", "--json"])
            #expect(straight.status == 0, "\(straight.error)")
            let json = try #require(MoeProcess.json(straight))
            let matrix = try #require(json["accuracy_matrix"] as? [[Any]])
            #expect(matrix.count == 5 && matrix.allSatisfy { $0.count == 5 })
            let cycles = try #require(json["cycles"] as? [[String: Any]])
            #expect(cycles.map { $0["cycle"] as? Int } == [0])
            #expect(straight.error.contains("cycle 1: 2000 samples"), "\(straight.error)")
            // The second cycle's first two rows; the rest were cleared when it began.
            #expect(matrix.map { row in row.filter { !($0 is NSNull) }.count } == [5, 5, 0, 0, 0])
            #expect(json["numerical_faults"] as? Int == 0)

            let first = MoeProcess.run(["stream"] + small + ["--stop-after", "6", "--save", dir.path("c.h5"), "--json"])
            #expect(first.status == 0, "\(first.error)")
            let second = MoeProcess.run(["stream", "--data", TrainingData.synthetic, "--resume", dir.path("c.h5"), "--stop-after", "7", "--json"])
            #expect(second.status == 0, "\(second.error)")
            #expect(second.error.contains("resumed") && second.error.contains("cycle 2, experience 2"), "\(second.error)")
            let resumed = try #require(MoeProcess.json(second))
            for key in ["accuracy_matrix", "final_average_accuracy", "prequential_accuracy", "experts", "parameters", "cycles"] {
                #expect(json[key] as? NSObject == resumed[key] as? NSObject, "\(key) differs after resume")
            }
        }
    }

    @Test("--cycles 0 is a usage error")
    func badCycles() {
        let r = MoeProcess.run(["stream", "--cycles", "0"])
        #expect(r.status == 64)
        #expect(r.error.contains("--cycles must be at least 1, got 0"), "\(r.error)")
    }
}
