import Foundation
import Testing
import TestSupport

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite("moe spirals")
struct SpiralsCommandTests {
    /// Counts the elements of an XML document by name; nil when it does not parse.
    final class ElementCounter: NSObject, XMLParserDelegate {
        var counts: [String: Int] = [:]
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            counts[name, default: 0] += 1
        }

        static func count(_ data: Data) -> [String: Int]? {
            let parser = XMLParser(data: data)
            let counter = ElementCounter()
            parser.delegate = counter
            return parser.parse() ? counter.counts : nil
        }
    }

    @Test("--json reaches 100% on the 194 points and writes reports/spirals.svg, valid XML with every point")
    func demonstration() throws {
        try withTemporaryDirectory { directory in
            let result = MoeProcess.run(["spirals", "--json"], in: directory.url.path)
            #expect(result.status == 0, "\(result.error)")
            let json = try #require(MoeProcess.json(result), "no JSON line in:\n\(result.output)")
            #expect(json["train_accuracy"] as? Double == 1.0)
            let added = try #require(json["hidden_units_added"] as? Int)
            #expect(added >= 1 && added <= 60)
            #expect(json["hidden_units"] as? Int == 8 + added)
            let epochs = try #require(json["epochs"] as? Int)
            #expect(epochs > 0)
            #expect(json["cascade_correlation_hidden_units"] as? [Int] == [12, 19])
            #expect(json["svg"] as? String == "reports/spirals.svg")
            let phases = try #require(json["phases"] as? [[String: Any]])
            #expect(phases.count == added + 1)
            for phase in phases {
                #expect((phase["errors_after"] as? Int ?? .max) <= (phase["errors_before"] as? Int ?? -1))
            }
            #expect(phases.last?["errors_after"] as? Int == 0)
            // Human-readable output goes to stderr in --json mode.
            #expect(result.error.contains("Cascade-Corr."))
            let data = try Data(contentsOf: directory.url.appendingPathComponent("reports/spirals.svg"))
            let elements = try #require(ElementCounter.count(data), "reports/spirals.svg is not well-formed XML")
            #expect(elements["svg"] == 1)
            #expect(elements["circle"] == 194)
            #expect((elements["rect"] ?? 0) >= 120)
        }
    }

    @Test("The same seed gives the same run; the text output stands beside Cascade-Correlation's figures")
    func textAndSeed() throws {
        try withTemporaryDirectory { directory in
            // A growth budget of zero ends after the first phase: quick, and not at 100%.
            let arguments = ["spirals", "--max-units", "0", "--seed", "7", "--svg", directory.path("a/b/regions.svg")]
            let first = MoeProcess.run(arguments)
            #expect(first.status == 0, "\(first.error)")
            let lines = first.output.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("two spirals (194 points): train accuracy ") == true, "\(first.output)")
            #expect(lines.contains { $0.hasPrefix("this run ") })
            #expect(lines.contains { $0.hasPrefix("Cascade-Corr.                 12-19    ~1700") })
            #expect(lines.contains("not every point is classified yet: the growth or epoch budget ran out (seed 7)"))
            #expect(lines.last?.hasSuffix("decision regions written to \(directory.path("a/b/regions.svg"))") == true)
            #expect(FileManager.default.fileExists(atPath: directory.path("a/b/regions.svg")))
            let again = MoeProcess.run(arguments + ["--json"])
            let json = try #require(MoeProcess.json(again))
            #expect(json["hidden_units_added"] as? Int == 0)
            #expect(json["seed"] as? Int == 7)
            // The summary's accuracy is the JSON's.
            let accuracy = try #require(json["train_accuracy"] as? Double)
            #expect(accuracy < 1)
            #expect(lines.first == "two spirals (194 points): train accuracy \(String(format: "%.1f", accuracy * 100))%")
        }
    }

    @Test("An SVG path that cannot be written fails at once with one line naming it")
    func unwritable() throws {
        try withTemporaryDirectory { directory in
            try "x".write(toFile: directory.path("file"), atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: directory.path("folder"), withIntermediateDirectories: true)
            let cases = [
                directory.path("file/spirals.svg"): "cannot write '\(directory.path("file/spirals.svg"))': '\(directory.path("file"))' is not a folder",
                directory.path("file/deeper/spirals.svg"): "cannot write '\(directory.path("file/deeper/spirals.svg"))': cannot create the folder '\(directory.path("file/deeper"))'",
                directory.path("folder"): "cannot write '\(directory.path("folder"))': it is a folder",
            ]
            for (path, message) in cases {
                let result = MoeProcess.run(["spirals", "--svg", path, "--json"])
                #expect(result.status == 1)
                #expect(result.output.isEmpty)
                #expect(result.errorLines.count == 1, "\(result.error)")
                #expect(result.errorLines.first?.hasPrefix("Error: " + message) == true, "\(result.error)")
            }
            let bad = MoeProcess.run(["spirals", "--max-units=-1"])
            #expect(bad.status == 64)
            #expect(bad.errorLines.first == "Error: --max-units must be at least 0")
        }
    }
}
