import Foundation
import Testing
import MoE
import Benchmarks

/// The cost benchmark of issue 5, run on demand in release:
///
/// ```
/// MOE_BENCHMARK=1 swift test -c release --filter ExpertCostBenchmarkTests
/// ```
@Suite("Expert cost benchmark")
struct ExpertCostBenchmarkTests {
    @Test("a top-1 step costs about one trunk plus one expert, whatever E is",
          .enabled(if: ProcessInfo.processInfo.environment["MOE_BENCHMARK"] != nil))
    func cost() {
        let figures = ExpertCostBenchmark.run()
        print(ExpertCostBenchmark.report(figures))
        let top1 = figures.filter { $0.routing == "top-1" }
        #expect(top1.allSatisfy { $0.expertRows == 128 })
        let one = top1.first { $0.experts == 1 }!.cpuMilliseconds
        let sixteen = top1.first { $0.experts == 16 && $0.gate == "balanced" }!.cpuMilliseconds
        #expect(sixteen < 2 * one, "16 balanced experts under top-1 cost \(sixteen) ms, one expert \(one) ms")
    }

    @Test("the benchmark runs on a small configuration, with the rows spread as each gate says")
    func small() {
        let figures = ExpertCostBenchmark.run(sizes: [6, 5, 4, 3], batchSize: 16, expertCounts: [1, 4], expertWidth: 2,
                                              detectorCount: 2, steps: 2)
        #expect(figures.map { "\($0.routing) \($0.gate) \($0.experts)" } == [
            "trunk  0", "frozen  0",
            "top-1 random 1", "top-1 balanced 1", "top-1 skewed 1", "softmax random 1",
            "top-1 random 4", "top-1 balanced 4", "top-1 skewed 4", "softmax random 4",
        ])
        #expect(figures.map(\.expertRows) == [0, 0, 16, 16, 16, 16, 16, 16, 16, 64])
        let four = figures.filter { $0.experts == 4 }
        #expect(four.map(\.rowsPerExpert) == [four[0].rowsPerExpert, [4, 4, 4, 4], [8, 4, 2, 2], [16, 16, 16, 16]])
        #expect(figures.allSatisfy { $0.rowsPerExpert.reduce(0, +) == $0.expertRows })
        #expect(figures.allSatisfy { $0.cpuMilliseconds > 0 && $0.milliseconds > 0 })
        #expect(ExpertCostBenchmark.report(figures).contains("rows per expert"))
    }

    @Test("skewed routing: half the rows to expert 0, a quarter to expert 1, the rest shared")
    func skewedTargets() {
        let targets = ExpertCostBenchmark.Spread.skewed.targets(rows: 128, experts: 16)
        let counts = (0..<16).map { e in targets.filter { $0 == e }.count }
        #expect(counts[0] == 64 && counts[1] == 32)
        #expect(counts[2...].allSatisfy { $0 == 2 || $0 == 3 })
        #expect(ExpertCostBenchmark.Spread.balanced.targets(rows: 128, experts: 16).allSatisfy { $0 < 16 })
    }
}
