import Foundation
import Testing
import Continual

@Suite("Report pictures")
struct ReportSVGTests {
    @Test func heatMapIsValidXMLWithEveryValueAndTheAxes() throws {
        let parsed = try parseXML(ReportFixtures.split().accuracyMatrixSVG())
        #expect(parsed.elements.first == "svg")
        for value in ["0.97", "0.61", "0.93", "0.42", "0.55", "0.91", "0.99", "0.98"] {
            #expect(parsed.texts.contains(value), "cell \(value) not printed")
        }
        #expect(parsed.texts.contains("trained through experience i"))
        #expect(parsed.texts.contains("evaluated on experience j"))
        #expect(parsed.texts.contains("Class-incremental"))
        #expect(parsed.texts.contains("Task-incremental"))
        #expect(parsed.texts.contains { $0.contains("BWT -0.47") })
    }

    @Test func heatMapWithoutTasksHasOnePanel() throws {
        let parsed = try parseXML(ReportFixtures.single().accuracyMatrixSVG())
        #expect(parsed.texts.contains("0.80"))
        #expect(!parsed.texts.contains("Task-incremental"))
        #expect(parsed.texts.contains { $0.contains("BWT n/a") })
    }

    @Test func prequentialMarksGrowthAndExperiences() throws {
        let report = ReportFixtures.split()
        let parsed = try parseXML(report.prequentialSVG())
        #expect(parsed.texts.contains("L1: 12 det."))
        #expect(parsed.texts.contains("L0: 3 det."))
        #expect(parsed.texts.contains("E0") && parsed.texts.contains("E1") && parsed.texts.contains("E2"))
        #expect(parsed.texts.contains("samples streamed"))
        let polylines = parsed.elements.indices.filter { parsed.elements[$0] == "polyline" }
        #expect(polylines.count == 2)
        // One vertex per plotted point.
        let vertices = try #require(parsed.attributes[polylines[1]]["points"]).split(separator: " ")
        #expect(vertices.count == report.prequential.series.count)
    }

    @Test func labelsAreEscaped() throws {
        let name = #"a<b> & "c" 'd'"#
        let report = ReportFixtures.split(scenario: name)
        for svg in [report.accuracyMatrixSVG(), report.prequentialSVG()] {
            #expect(svg.contains("&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;"))
            let parsed = try parseXML(svg)
            #expect(parsed.texts.contains { $0.contains(name) })
        }
        #expect(ChartText.escapeXML("x\u{1}y") == "xy")
    }

    @Test func emptyRunStillDraws() throws {
        let report = StreamReport(
            scenario: "empty", seed: 0, classIncremental: AccuracyMatrix(), prequential: PrequentialAccuracy(),
            modelSize: ModelSize(trainableParameters: 0, frozenParameters: 0, experts: 0),
            samplesPerSecond: 0, memory: .init(replayBufferFloats: 0, statisticsFloats: 0))
        #expect(try parseXML(report.accuracyMatrixSVG()).texts.contains("nothing measured"))
        #expect(try parseXML(report.prequentialSVG()).texts.contains("no samples scored"))
    }

    @Test func notAValidDocumentIsCaught() {
        // The checker itself must be able to fail.
        #expect(throws: (any Error).self) { try parseXML("<svg><text>a & b</text></svg>") }
    }

    @Test func tickHelpers() {
        #expect(ChartText.ticks(upTo: 10_000) == [0, 2000, 4000, 6000, 8000, 10_000])
        #expect(ChartText.count(2500) == "2.5k")
        #expect(ChartText.count(1_000_000) == "1M")
        #expect(ChartText.figure(-0.125, signed: true) == "-0.12" || ChartText.figure(-0.125, signed: true) == "-0.13")
        #expect(ChartText.figure(nil) == "n/a")
    }
}
