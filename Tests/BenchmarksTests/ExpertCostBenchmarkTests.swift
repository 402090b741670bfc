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
        let sixteen = top1.first { $0.experts == 16 }!.cpuMilliseconds
        #expect(sixteen < 2 * one, "16 experts under top-1 cost \(sixteen) ms, one expert \(one) ms")
    }

    @Test("the benchmark runs on a small configuration")
    func small() {
        let figures = ExpertCostBenchmark.run(sizes: [6, 5, 4, 3], batchSize: 16, expertCounts: [1, 3], expertWidth: 2,
                                              detectorCount: 2, steps: 2)
        #expect(figures.map(\.routing) == ["trunk", "frozen", "top-1", "softmax", "top-1", "softmax"])
        #expect(figures.map(\.expertRows) == [0, 0, 16, 16, 16, 48])
        #expect(figures.allSatisfy { $0.cpuMilliseconds > 0 && $0.milliseconds > 0 })
        #expect(ExpertCostBenchmark.report(figures).contains("BLAS kernel"))
    }
}
