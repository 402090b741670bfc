import Foundation
import Testing
import TestSupport
import Continual

@Suite("Report JSON")
struct ReportJSONTests {
    static let summaryKeys: Set<String> = [
        "final_average_accuracy", "task_incremental_accuracy", "forgetting", "bwt", "accuracy_matrix",
        "prequential_accuracy", "experts", "parameters", "samples_per_second",
    ]

    private func object(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func summaryHasExactlyTheCLIKeys() throws {
        let report = ReportFixtures.split()
        let line = try report.summary.jsonLine()
        #expect(!line.contains("\n"))
        let summary = try object(Data(line.utf8))
        #expect(Set(summary.keys) == Self.summaryKeys)
        #expect(isClose(try #require(summary["final_average_accuracy"] as? Double), (0.42 + 0.55 + 0.91) / 3))
        #expect(isClose(try #require(summary["task_incremental_accuracy"] as? Double), (0.97 + 0.985 + 0.995) / 3))
        #expect(isClose(try #require(summary["forgetting"] as? Double), ((0.97 - 0.42) + (0.93 - 0.55)) / 2))
        #expect(isClose(try #require(summary["bwt"] as? Double), ((0.42 - 0.97) + (0.55 - 0.93)) / 2))
        #expect(summary["experts"] as? Int == 2)
        #expect(summary["parameters"] as? Int == 1200 + 10000)
        #expect(summary["samples_per_second"] as? Double == 1234.5)
        let matrix = try #require(summary["accuracy_matrix"] as? [[Any]])
        #expect(matrix.count == 3 && matrix[0][1] is NSNull && matrix[2][2] as? Double == 0.91)
        // Sorted keys: the line lists them alphabetically.
        let positions = Self.summaryKeys.sorted().map { line.range(of: "\"\($0)\"")!.lowerBound }
        #expect(positions == positions.sorted())
    }

    @Test func undefinedFiguresAreNullNotMissing() throws {
        let line = try ReportFixtures.single().summary.jsonLine()
        let summary = try object(Data(line.utf8))
        #expect(Set(summary.keys) == Self.summaryKeys)
        #expect(summary["bwt"] is NSNull)
        #expect(summary["forgetting"] is NSNull)
        #expect(summary["task_incremental_accuracy"] is NSNull)
        #expect(summary["final_average_accuracy"] as? Double == 0.8)
        let full = try object(try ReportFixtures.single().jsonData())
        #expect(full["task_incremental"] is NSNull)
        #expect(full["bwt"] is NSNull)
    }

    @Test func fullReportKeysAreSnakeCase() throws {
        let full = try object(try ReportFixtures.split().jsonData())
        for key in ["scenario", "seed", "config", "class_incremental", "task_incremental", "prequential",
                    "model_growth", "routing", "memory", "growth_events", "summary", "samples_per_second"] {
            #expect(full[key] != nil, "missing \(key)")
        }
        func check(_ value: Any, path: String) {
            if let dictionary = value as? [String: Any] {
                for (key, child) in dictionary where path != "config" {
                    #expect(key == key.lowercased(), "key \(key) at \(path) is not snake_case")
                    check(child, path: key)
                }
            } else if let array = value as? [Any] {
                for child in array { check(child, path: path) }
            }
        }
        check(full, path: "")
        let events = try #require(full["growth_events"] as? [[String: Any]])
        #expect(events.first?["hidden_layer"] as? Int == 1)
        #expect((events.first?["detectors"] as? [Int])?.count == 12)
        #expect(events.first?["sample_index"] as? Int == 832)
        let memory = try #require(full["memory"] as? [String: Any])
        #expect(memory["total_floats"] as? Int == 500 * 785 + 2048)
        let prequential = try #require(full["prequential"] as? [String: Any])
        #expect((prequential["series"] as? [Any])?.count ?? 0 <= 17)
        #expect(isClose(try #require(prequential["accuracy"] as? Double), 0.8))
    }

    @Test func roundTripsThroughJSON() throws {
        let report = ReportFixtures.split()
        let decoded = try StreamReport.decode(from: try report.jsonData())
        #expect(decoded == report)
        #expect(decoded.config == ["replay": 500, "rho_min": 0.1, "growth": true, "name": "a/b"])
    }

    @Test func configFromAnyEncodable() throws {
        struct Options: Encodable { var replay = 500; var gate = "lda"; var layers = [256, 256] }
        #expect(try JSONValue(encoding: Options()) == ["replay": 500, "gate": "lda", "layers": [256, 256]])
    }

    @Test func aValueJSONCannotHoldIsAnError() throws {
        var report = ReportFixtures.single()
        report.config = ["rate": .number(.nan)]
        let error = #expect(throws: ReportError.self) { try report.jsonData() }
        #expect(error?.description.hasPrefix("Cannot encode the report as JSON") == true)
    }
}
