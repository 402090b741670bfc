import Foundation
import MoE
import Testing
import TestSupport

@Suite("Error detectors")
struct CovarianceDetectorTests {
    /// A 4-32-16-2 ReLU network that predicts `x1 > 0` while the label is
    /// `(x1 > 0) XOR (x0 > 0)`, so it is wrong exactly when `x0 > 0`. Hidden neuron 3 of
    /// the first layer is `relu(x0)`: it fires exactly on the misclassified inputs. No
    /// other neuron reads `x0`, directly or through neuron 3.
    static func plantedNetwork(seed: UInt64) -> MixtureOfExperts {
        var generator = SeededGenerator(seed: seed)
        var w1 = Matrix.uniform(rows: 4, columns: 32, low: -1, high: 1, using: &generator)
        var b1 = Matrix.uniform(rows: 1, columns: 32, low: -0.5, high: 0.5, using: &generator)
        for j in 0..<32 { w1[0, j] = 0 }
        for i in 0..<4 { w1[i, 0] = 0; w1[i, 1] = 0; w1[i, 3] = 0 }
        w1[1, 0] = 1; w1[1, 1] = -1; w1[0, 3] = 1
        b1[0, 0] = 0; b1[0, 1] = 0; b1[0, 3] = 0
        var w2 = Matrix.uniform(rows: 32, columns: 16, low: -0.3, high: 0.3, using: &generator)
        for j in 0..<16 { w2[3, j] = 0 }
        var b2 = Matrix.uniform(rows: 1, columns: 16, low: 0, high: 0.5, using: &generator)
        var w3 = Matrix(rows: 16, columns: 2)
        let b3 = Matrix(rows: 1, columns: 2)
        // The output reads the first layer's neurons 0 and 1 through two relay neurons.
        for j in 0..<32 { w2[j, 0] = 0; w2[j, 1] = 0 }
        w2[0, 0] = 1; w2[1, 1] = 1; b2[0, 0] = 0; b2[0, 1] = 0
        w3[0, 0] = -1; w3[0, 1] = 1; w3[1, 0] = 1; w3[1, 1] = -1
        return MixtureOfExperts(trunk: Sequential([
            Dense(weight: w1, bias: b1), ReLU(), Dense(weight: w2, bias: b2), ReLU(), Dense(weight: w3, bias: b3),
        ]))
    }

    static func plantedData(rows: Int, generator: inout SeededGenerator) -> (Matrix, [Int]) {
        let x = Matrix.uniform(rows: rows, columns: 4, low: -1, high: 1, using: &generator)
        let labels = (0..<rows).map { r in (x[r, 1] > 0) != (x[r, 0] > 0) ? 1 : 0 }
        return (x, labels)
    }

    @Test func plantedDetectorIsFound() {
        let model = Self.plantedNetwork(seed: 21)
        var generator = SeededGenerator(seed: 22)
        var tracker = CovarianceTracker(model: model)
        var errors = 0, planted = 0, plantedOnErrors = 0
        for _ in 0..<8 {
            let (x, labels) = Self.plantedData(rows: 100, generator: &generator)
            let pass = model.forward(x)
            let correct = tracker.update(pass, labels: labels)
            for (i, ok) in correct.enumerated() {
                let fires = pass.hidden[0][i, 3] > 0
                if !ok { errors += 1 }
                if fires { planted += 1 }
                if fires && !ok { plantedOnErrors += 1 }
            }
        }
        // The construction: neuron 3 fires exactly on the errors.
        #expect(errors > 300 && errors == planted && planted == plantedOnErrors)

        let report = ErrorDetectors().report(tracker)
        #expect(report.testedNeurons >= 40)
        #expect(report.neurons(layer: 0) == [3])
        #expect(report.neurons(layer: 1) == [])
        let detector = try! #require(report.layers[0].detectors.first)
        #expect(detector.rho < -0.6 && detector.t < -20 && detector.n == 800)
        #expect(report.lowestLayerWithDetectors == 0)
    }

    /// Without a guard, a loose rule finds many "detectors" in pure noise; the default
    /// rule finds none, and still finds real but weak detectors planted among the noise.
    @Test func falseDiscoveriesAreGuarded() {
        var generator = SeededGenerator(seed: 5)
        let n = 400, width = 2000, planted = 10
        var a = Matrix.uniform(rows: n, columns: width, low: 0, high: 1, using: &generator)
        let correct = (0..<n).map { _ in generator.nextUnitFloat() < 0.7 }
        // Neurons 0..<10 fire a little more on errors (true rho around -0.3).
        for i in 0..<n where !correct[i] {
            for j in 0..<planted { a[i, j] += 0.35 }
        }
        var tracker = CovarianceTracker(widths: [width])
        tracker.update(hidden: [a], correct: correct)

        let loose = ErrorDetectors(minimumCorrelation: 0, minimumT: 1.645, falseDiscovery: .none).report(tracker)
        let strict = ErrorDetectors().report(tracker)
        let bonferroni = ErrorDetectors(minimumCorrelation: 0, minimumT: 0, falseDiscovery: .bonferroni(familyWiseRate: 0.05)).report(tracker)
        let looseFalse = loose.neurons(layer: 0).filter { $0 >= planted }.count
        #expect(looseFalse > 50, "about 5% of 1990 null neurons pass t <= -1.645")
        #expect(strict.neurons(layer: 0).filter { $0 >= planted }.isEmpty)
        #expect(strict.neurons(layer: 0).filter { $0 < planted }.count >= 8)
        #expect(bonferroni.neurons(layer: 0).filter { $0 >= planted }.isEmpty)
        // BH alone (no thresholds) keeps few false ones among its discoveries.
        let bh = ErrorDetectors(minimumCorrelation: 0, minimumT: 0).report(tracker)
        #expect(bh.neurons(layer: 0).filter { $0 >= planted }.count <= 2)
    }

    /// The detectors as the rule defines them, every p-value computed: the report before
    /// it skipped the p-values that cannot matter.
    static func referenceDetectors(_ rule: ErrorDetectors, _ statistics: [LayerStatistics]) -> [[DetectorReport.Detector]] {
        var tested: [(layer: Int, neuron: Int, p: Double)] = []
        for (l, s) in statistics.enumerated() {
            for j in 0..<s.width where s.isTestable(j) {
                tested.append((l, j, StudentT.cdf(s.t[j], degreesOfFreedom: s.count[j] - 2)))
            }
        }
        let m = Double(tested.count)
        var cutoff = 1.0
        switch rule.falseDiscovery {
        case .none: break
        case let .bonferroni(alpha): cutoff = alpha / m
        case let .benjaminiHochberg(q):
            cutoff = -1
            let sorted = tested.map(\.p).sorted()
            for k in stride(from: sorted.count, through: 1, by: -1) where sorted[k - 1] <= Double(k) * q / m {
                cutoff = sorted[k - 1]
                break
            }
        }
        var layers = statistics.map { _ in [DetectorReport.Detector]() }
        for c in tested where c.p <= cutoff {
            let s = statistics[c.layer], j = c.neuron
            guard s.correlation[j] <= -rule.minimumCorrelation, s.t[j] <= -rule.minimumT else { continue }
            layers[c.layer].append(DetectorReport.Detector(neuron: j, covariance: s.covariance[j], rho: s.correlation[j], t: s.t[j],
                                                           n: s.count[j], pValue: c.p))
        }
        return layers.map { $0.sorted { $0.rho < $1.rho || ($0.rho == $1.rho && $0.neuron < $1.neuron) } }
    }

    @Test("the report computes only the p-values that can matter, and names the detectors every p-value names")
    func skippedPValuesChangeNothing() {
        // Student's tails are heavier than the normal's at every degree of freedom.
        for nu in [1.0, 2, 5, 30, 1_000, 99_999, 100_000] {
            for t in stride(from: -8.0, to: 0, by: 0.05) {
                #expect(StudentT.cdf(t, degreesOfFreedom: nu) >= 0.5 * erfc(-t / 2.0.squareRoot()), "nu \(nu), t \(t)")
            }
        }
        // Two layers of null neurons and a gradient of real ones, over small and large counts.
        for (n, seed) in [(60, 1), (400, 2), (3_000, 3)] {
            var generator = SeededGenerator(seed: UInt64(seed))
            var a = Matrix.uniform(rows: n, columns: 300, low: 0, high: 1, using: &generator)
            var b = Matrix.uniform(rows: n, columns: 200, low: 0, high: 1, using: &generator)
            let correct = (0..<n).map { _ in generator.nextUnitFloat() < 0.7 }
            // Every neuron of the first layer fires more on errors, by a graded amount (its
            // p-values spread over (0, ½), so a lenient step-up's cutoff is near the top);
            // a few of the second's.
            for i in 0..<n where !correct[i] {
                for j in 0..<300 { a[i, j] += Float(j) * 0.3 / Float(300) / Float(n).squareRoot() * 8 }
                for j in 0..<20 { b[i, j] += Float(j) * 0.02 }
            }
            var tracker = CovarianceTracker(widths: [300, 200])
            tracker.update(hidden: [a, b], correct: correct)
            let rules = [
                ErrorDetectors(),
                ErrorDetectors(minimumCorrelation: 0, minimumT: 0),
                ErrorDetectors(minimumCorrelation: 0, minimumT: 0, falseDiscovery: .benjaminiHochberg(rate: 0.5)),
                ErrorDetectors(minimumCorrelation: 0, minimumT: 0, falseDiscovery: .benjaminiHochberg(rate: 0.9)),
                ErrorDetectors(minimumCorrelation: 0, minimumT: 1.645, falseDiscovery: .none),
                ErrorDetectors(minimumCorrelation: 0, minimumT: 0, falseDiscovery: .bonferroni(familyWiseRate: 0.05)),
            ]
            for rule in rules {
                let report = rule.report(tracker)
                let expected = Self.referenceDetectors(rule, tracker.statistics)
                let same = report.layers.map(\.detectors) == expected
                #expect(same, "n \(n), \(rule.falseDiscovery), tMin \(rule.minimumT): \(report.layers.map(\.detectors.count)) detectors, \(expected.map(\.count)) expected")
                #expect(report.testedNeurons == tracker.statistics.map { s in (0..<s.width).filter(s.isTestable).count }.reduce(0, +))
            }
            #expect(!Self.referenceDetectors(ErrorDetectors(minimumCorrelation: 0, minimumT: 0), tracker.statistics)[0].isEmpty)
        }
        // Where the skipped p-values decide the cutoff: 50 neurons at t = -1.5 (p about
        // 0.07) pass a step-up at q = 0.5 only because 400 more lie at t = -0.35 (p about
        // 0.36), below its line; none of the 400 passes t <= -1, so their p-values are
        // computed because they can be at most q, not for their own sake.
        let t = [Double](repeating: -1.5, count: 50) + [Double](repeating: -0.35, count: 400)
        let n = 1_000.0
        let fields: [String: [Double]] = [
            "count": t.map { _ in n }, "covariance": t.map { $0 / 100 }, "activationVariance": t.map { _ in 1 },
            "targetVariance": t.map { _ in 0.25 }, "correlation": t.map { $0 / ($0 * $0 + n - 2).squareRoot() }, "t": t,
        ]
        let crafted = try! JSONDecoder().decode(LayerStatistics.self, from: JSONSerialization.data(withJSONObject: fields))
        let lenient = ErrorDetectors(minimumCorrelation: 0, minimumT: 1, falseDiscovery: .benjaminiHochberg(rate: 0.5))
        let expected = Self.referenceDetectors(lenient, [crafted])
        #expect(expected[0].count == 50)
        let got = lenient.report([crafted]).layers.map(\.detectors)
        let same = got == expected
        #expect(same, "\(got.map(\.count)) detectors, \(expected.map(\.count)) expected")
    }

    @Test func lossTargetFlipsTheSign() {
        var generator = SeededGenerator(seed: 8)
        let n = 300
        var a = Matrix.uniform(rows: n, columns: 3, low: 0, high: 1, using: &generator)
        let loss = (0..<n).map { _ in generator.nextUnitFloat() }
        for i in 0..<n { a[i, 1] = loss[i] + 0.1 * a[i, 1] }
        var tracker = CovarianceTracker(widths: [3], target: .loss)
        tracker.update(hidden: [a], targets: loss)
        let report = ErrorDetectors().report(tracker)
        #expect(report.neurons(layer: 0) == [1])
        #expect(report.layers[0].detectors[0].rho > 0.9)
    }

    @Test func reportIsSortedCodableAndPrintable() throws {
        var generator = SeededGenerator(seed: 2)
        let n = 500
        var a = Matrix.uniform(rows: n, columns: 6, low: 0, high: 1, using: &generator)
        let correct = (0..<n).map { _ in generator.nextUnitFloat() < 0.5 }
        for i in 0..<n where !correct[i] { a[i, 4] += 0.3; a[i, 2] += 0.8 }
        var tracker = CovarianceTracker(widths: [6, 2])
        tracker.update(hidden: [a, Matrix(rows: n, columns: 2, repeating: 1)], correct: correct)
        let report = ErrorDetectors().report(tracker)
        #expect(report.neurons(layer: 0) == [2, 4])
        #expect(report.count == 2)
        let decoded = try JSONDecoder().decode(DetectorReport.self, from: JSONEncoder().encode(report))
        #expect(decoded == report)

        let lines = report.table().split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0] == "Error detectors against correctness: rho <= -0.10, t <= -4.00, Benjamini-Hochberg q = 0.05; 6 neurons tested, 2 detectors")
        #expect(lines[1] == "layer  neuron       rho         t          n   p-value")
        #expect(lines[2].hasPrefix("    0       2    -0.") && lines[2].contains("500.0"))
        #expect(lines[3].hasPrefix("    0       4    -0."))
        #expect(lines[4] == "    1         (none of 2)")
    }
}
