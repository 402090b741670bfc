import Testing

/// Only that each suite runs and reports its keys: the figures themselves belong to a
/// release build on a quiet machine (docs/benchmarks.md).
@Suite("moe bench --suite")
struct BenchSuiteTests {
    @Test("covariance and experts suites print their figures under their JSON keys, and only theirs")
    func suites() throws {
        let result = MoeProcess.run(["bench", "--suite", "covariance", "--repeats", "3", "--json"])
        #expect(result.status == 0, "\(result.error)")
        let json = try #require(MoeProcess.json(result))
        #expect(json["blas_kernel"] is String)
        #expect(json["train_samples_per_second"] == nil)
        let covariance = try #require(json["covariance"] as? [String: Any])
        #expect(covariance["sizes"] as? [Int] == [784, 256, 128, 10])
        #expect(covariance["batch_size"] as? Int == 128)
        #expect(covariance["repetitions"] as? Int == 3)
        let overhead = try #require(covariance["overhead"] as? Double)
        #expect(overhead > 0 && overhead < 1)
        #expect(result.error.contains("covariance statistics: MLP 784-256-128-10, batch 128, 3 steps"))

        let experts = MoeProcess.run(["bench", "--suite", "experts", "--repeats", "1", "--json"])
        #expect(experts.status == 0, "\(experts.error)")
        let figures = try #require(MoeProcess.json(experts)?["experts"] as? [[String: Any]])
        let lines = figures.map { "\($0["routing"] as? String ?? "?") \($0["experts"] as? Int ?? -1)" }
        #expect(lines == ["trunk 0", "frozen 0", "top-1 1", "softmax 1", "top-1 4", "softmax 4", "top-1 16", "softmax 16"])
        #expect(figures.first?["cpu_relative_to_trunk"] as? Double == 1)
        // Top-1 routing sends each of the 128 rows to one expert.
        #expect(figures.filter { $0["routing"] as? String == "top-1" }.allSatisfy { $0["expert_rows"] as? Int == 128 })
    }

    @Test("An unknown suite is refused with the choices")
    func unknownSuite() {
        let result = MoeProcess.run(["bench", "--suite", "speed"])
        #expect(result.status == 64)
        #expect(result.errorLines.first?.contains("'speed'") == true, "\(result.error)")
        #expect(result.error.contains("core"))
    }
}
