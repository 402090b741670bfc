import Foundation
import MoE
import Testing
import TestSupport
import Continual

@Suite("Prequential accuracy")
struct MetricPrequentialTests {
    @Test func windowAndOverallByHand() throws {
        var metric = PrequentialAccuracy(windowSize: 3, fadingFactor: 1)
        metric.record([true, false, true])
        #expect(isClose(try #require(metric.windowedAccuracy), 2.0 / 3))
        metric.record([true, true])
        #expect(isClose(try #require(metric.accuracy), 0.8))
        #expect(isClose(try #require(metric.windowedAccuracy), 1))
        metric.record(predictions: [3], labels: [4])
        #expect(isClose(try #require(metric.accuracy), 4.0 / 6))
        #expect(isClose(try #require(metric.windowedAccuracy), 2.0 / 3))
        // α = 1 fades nothing.
        #expect(isClose(try #require(metric.fadedAccuracy), 4.0 / 6))
        #expect(metric.samples == 6 && metric.correct == 4 && metric.batches == 3)
    }

    @Test func fadingFactorByHand() throws {
        var metric = PrequentialAccuracy(windowSize: 10, fadingFactor: 0.5)
        metric.record([true, false, true])
        // S = 1 + 0.5 (0 + 0.5 * 1) = 1.25, N = 1 + 0.5 + 0.25 = 1.75.
        #expect(isClose(try #require(metric.fadedAccuracy), 1.25 / 1.75))
    }

    @Test func agreesWithDirectComputationOnARandomStream() throws {
        var generator = SeededGenerator(seed: 7)
        let window = 50, alpha = 0.97
        var metric = PrequentialAccuracy(windowSize: window, fadingFactor: alpha, seriesCapacity: 16)
        var all: [Bool] = []
        for _ in 0..<200 {
            let batch = (0..<(1 + generator.nextInt(below: 17))).map { _ in generator.nextUnitDouble() < 0.7 }
            metric.record(batch)
            all += batch
        }
        let recent = all.suffix(window)
        let direct = Double(recent.filter { $0 }.count) / Double(recent.count)
        #expect(isClose(try #require(metric.windowedAccuracy), direct, tolerance: 1e-12))
        var s = 0.0, n = 0.0
        for (k, c) in all.enumerated() {
            let weight = pow(alpha, Double(all.count - 1 - k))
            s += c ? weight : 0
            n += weight
        }
        #expect(isClose(try #require(metric.fadedAccuracy), s / n, tolerance: 1e-9))
        #expect(isClose(try #require(metric.accuracy), Double(all.filter { $0 }.count) / Double(all.count)))
    }

    @Test func seriesStaysBoundedAndReachesThePresent() throws {
        var metric = PrequentialAccuracy(windowSize: 5, seriesCapacity: 8)
        for b in 0..<1000 { metric.record([b.isMultiple(of: 3)]) }
        let points = metric.series.points
        #expect(metric.series.kept.count <= 8 && metric.series.kept.count >= 4)
        #expect(points.first?.batch == 1)
        #expect(points.last?.batch == 1000)
        #expect(points.last?.samples == 1000)
        let stride = metric.series.stride
        #expect(metric.series.kept.map(\.batch) == metric.series.kept.indices.map { 1 + $0 * stride })
    }

    @Test func experienceBoundaries() {
        var metric = PrequentialAccuracy()
        metric.beginExperience(0)
        metric.record([true, true])
        metric.beginExperience(0)
        metric.record([false])
        metric.beginExperience(1)
        metric.record([true])
        #expect(metric.boundaries == [.init(experience: 0, samples: 0), .init(experience: 1, samples: 3)])
        #expect(metric.series.points.map(\.experience) == [0, 0, 1])
    }

    @Test func resumesExactlyAfterASaveAndLoad() throws {
        var original = PrequentialAccuracy(windowSize: 4, fadingFactor: 0.9, seriesCapacity: 4)
        for b in 0..<9 { original.record([b.isMultiple(of: 2), true, b.isMultiple(of: 3)]) }
        var restored = try JSONDecoder().decode(PrequentialAccuracy.self, from: try JSONEncoder().encode(original))
        #expect(restored == original)
        for b in 0..<7 {
            original.record([b.isMultiple(of: 4)])
            restored.record([b.isMultiple(of: 4)])
        }
        #expect(restored == original)
    }

    @Test func rejectsAnInconsistentSavedState() throws {
        var metric = PrequentialAccuracy(windowSize: 4)
        metric.record([true, false])
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(metric)) as? [String: Any])
        object["window_correct"] = 2
        let data = try JSONSerialization.data(withJSONObject: object)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(PrequentialAccuracy.self, from: data) }
    }
}

@Suite("Downsampled series")
struct MetricSeriesTests {
    @Test func keepsAUniformBoundedSubsetForEveryLength() {
        for capacity in [2, 4, 10] {
            var series = DownsampledSeries<Int>(capacity: capacity)
            for k in 0..<300 {
                series.append(k)
                let kept = series.kept
                #expect(kept.count <= capacity)
                #expect(kept.count >= min(k + 1, capacity / 2))
                #expect(kept == kept.indices.map { $0 * series.stride })
                #expect(series.points.last == k)
                #expect(series.points.first == 0)
            }
        }
    }

    @Test func rejectsASavedSeriesThatWouldGrowWithoutBound() throws {
        let bad = Data(#"{"capacity": 2, "stride": 1, "offered": 3, "kept": [0, 1, 2], "latest": 2}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(DownsampledSeries<Int>.self, from: bad) }
    }
}
