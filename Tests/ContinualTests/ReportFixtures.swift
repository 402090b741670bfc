import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Continual

/// Reports built from small hand-made runs.
enum ReportFixtures {
    /// A split run of 3 experiences with two growth events.
    static func split(scenario: String = "split-fmnist", batches: Int = 60) -> StreamReport {
        let classIncremental = AccuracyMatrix(rows: [[0.97], [0.61, 0.93], [0.42, 0.55, 0.91]])
        let taskIncremental = AccuracyMatrix(rows: [[0.99], [0.98, 0.99], [0.97, 0.985, 0.995]])
        var prequential = PrequentialAccuracy(windowSize: 100, seriesCapacity: 16)
        var growth = ModelGrowthHistory()
        var routing = ExpertRouting()
        var experts = 0
        for b in 0..<batches {
            prequential.beginExperience(b * 3 / batches)
            prequential.record((0..<32).map { ($0 + b) % 5 != 0 })
            if b == 25 || b == 45 { experts += 1 }
            growth.record(step: b + 1, samples: (b + 1) * 32,
                          size: ModelSize(trainableParameters: 1000 + 100 * experts, frozenParameters: 5000 * experts, experts: experts))
            if experts > 0 { routing.record(expert: experts - 1, inputs: 32) }
            routing.countInputs(32)
        }
        return StreamReport(
            scenario: scenario, seed: 42, config: ["replay": 500, "rho_min": 0.1, "growth": true, "name": "a/b"],
            classIncremental: classIncremental, taskIncremental: taskIncremental,
            prequential: prequential, modelSize: growth.current!.size, growth: growth, routing: routing,
            samplesPerSecond: 1234.5, memory: .init(replayBufferFloats: 500 * 785, statisticsFloats: 2048),
            growthEvents: [
                .init(step: 26, sampleIndex: 26 * 32, experience: 1, hiddenLayer: 1, detectors: Array(0..<12),
                      reason: "12 detectors persisted for 3 windows; windowed error did not improve", expert: 0),
                .init(step: 46, sampleIndex: 46 * 32, experience: 2, hiddenLayer: 0, detectors: [3, 17, 40],
                      reason: "new classes", expert: 1),
            ])
    }

    /// A domain-incremental run with one experience and no tasks.
    static func single() -> StreamReport {
        var prequential = PrequentialAccuracy()
        prequential.record([true, false, true, true])
        return StreamReport(
            scenario: "permuted-fmnist", seed: 1, classIncremental: AccuracyMatrix(rows: [[0.8]]),
            prequential: prequential, modelSize: ModelSize(trainableParameters: 10, frozenParameters: 0, experts: 0),
            samplesPerSecond: 0, memory: .init(replayBufferFloats: 0, statisticsFloats: 0))
    }
}

/// What an XML parser saw in a document.
struct ParsedXML {
    var elements: [String] = []
    var texts: [String] = []
    var attributes: [[String: String]] = []
}

/// Parses `text` with Foundation's XML parser; throws the parser's error if it is not
/// well-formed XML.
func parseXML(_ text: String) throws -> ParsedXML {
    final class Collector: NSObject, XMLParserDelegate {
        var parsed = ParsedXML()
        private var current = ""
        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            parsed.elements.append(elementName)
            parsed.attributes.append(attributeDict)
            current = ""
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) {
            current += string
        }
        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            if elementName == "text" || elementName == "title" { parsed.texts.append(current) }
            current = ""
        }
    }
    let parser = XMLParser(data: Data(text.utf8))
    let collector = Collector()
    parser.delegate = collector
    guard parser.parse() else {
        throw parser.parserError ?? CocoaError(.coderReadCorrupt)
    }
    return collector.parsed
}
