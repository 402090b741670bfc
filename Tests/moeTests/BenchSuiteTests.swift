import Continual
import Foundation
import Testing
import TestSupport

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
        let lines = figures.map { "\($0["routing"] as? String ?? "?") \($0["gate"] as? String ?? "?") \($0["experts"] as? Int ?? -1)" }
        var expected = ["trunk  0", "frozen  0"]
        for e in [1, 4, 16] {
            expected += ["top-1 random \(e)", "top-1 balanced \(e)", "top-1 skewed \(e)", "softmax random \(e)"]
        }
        #expect(lines == expected)
        #expect(figures.first?["cpu_relative_to_trunk"] as? Double == 1)
        // Top-1 routing sends each of the 128 rows to one expert; balanced, 8 to each of 16.
        #expect(figures.filter { $0["routing"] as? String == "top-1" }.allSatisfy { $0["expert_rows"] as? Int == 128 })
        let balanced = figures.first { $0["gate"] as? String == "balanced" && $0["experts"] as? Int == 16 }
        #expect(balanced?["rows_per_expert"] as? [Int] == Array(repeating: 8, count: 16))
    }

    @Test("the reading suite reads a generated CSV, plain and gzip, the same rows as ARFF, blank-separated and svmlight, and the IDX files, under its JSON keys",
          .enabled(if: FashionMNIST.isAvailable()))
    func reading() throws {
        let result = MoeProcess.run(["bench", "--suite", "reading", "--csv-bytes", "200000", "--repeats", "1", "--json"])
        #expect(result.status == 0, "\(result.error)")
        let figures = try #require(MoeProcess.json(result)?["reading"] as? [[String: Any]])
        #expect(figures.map { $0["format"] as? String } == ["csv", "csv.gz", "arff", "blanks", "svmlight", "idx", "idx.gz"])
        #expect([2, 3, 4].allSatisfy { figures[$0]["rows"] as? Int == figures[0]["rows"] as? Int })
        #expect(figures.allSatisfy { ($0["rows_per_second"] as? Double ?? 0) > 0 && ($0["file_megabytes_per_second"] as? Double ?? 0) > 0 })
        #expect(figures[5]["rows"] as? Int == 60000)
    }

    @Test("--threads takes a count or auto; --reference names a file scripts/bench_reference.py wrote")
    func threadsAndReference() throws {
        let bad = MoeProcess.run(["bench", "--threads", "two"])
        #expect(bad.status == 64)
        #expect(bad.error.contains("--threads must be a positive count or auto, got 'two'"), "\(bad.error)")
        let missing = MoeProcess.run(["bench", "--reference", "/nonexistent/pytorch.json"])
        #expect(missing.status == 1)
        #expect(missing.error.contains("cannot read the reference figures '/nonexistent/pytorch.json'"), "\(missing.error)")
        try withTemporaryDirectory { dir in
            let path = dir.path("pytorch.json")
            try """
                {"library": "pytorch", "version": "2.15.0", "threads": {"1": {"16": {"train_samples_per_second": 1000,
                 "inference_samples_per_second": 5000, "adam": "fused"}}}}
                """.write(toFile: path, atomically: true, encoding: .utf8)
            let result = MoeProcess.run(["bench", "--reference", path, "--batches", "16", "--repeats", "1", "--json"])
            #expect(result.status == 0, "\(result.error)")
            let rows = try #require(MoeProcess.json(result)?["reference"] as? [[String: Any]])
            #expect(rows.count == 1)
            #expect(rows.first?["reference_train_samples_per_second"] as? Double == 1000)
            #expect(rows.first?["threads"] as? Int == 1)
            #expect(result.error.contains("this framework beside PyTorch 2.15.0"))
        }
    }

    @Test("An unknown suite is refused with the choices")
    func unknownSuite() {
        let result = MoeProcess.run(["bench", "--suite", "speed"])
        #expect(result.status == 64)
        #expect(result.errorLines.first?.contains("'speed'") == true, "\(result.error)")
        #expect(result.error.contains("core"))
    }
}
