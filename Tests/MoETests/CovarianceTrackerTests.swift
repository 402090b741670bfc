import Foundation
import MoE
import Testing
import TestSupport

/// A direct weighted two-pass Float64 computation of what the tracker keeps.
private struct Reference {
    var count: [Double] = [], covariance: [Double] = [], correlation: [Double] = [], t: [Double] = []

    /// `columns[j][i]` is neuron j's activation on sample i; `weights[i]` the sample's weight.
    init(columns: [[Double]], targets: [Double], weights: [Double]) {
        let w = weights.reduce(0, +), w2 = weights.reduce(0) { $0 + $1 * $1 }
        let yMean = zip(weights, targets).reduce(0) { $0 + $1.0 * $1.1 } / w
        let yy = zip(weights, targets).reduce(0) { $0 + $1.0 * ($1.1 - yMean) * ($1.1 - yMean) }
        for a in columns {
            let aMean = zip(weights, a).reduce(0) { $0 + $1.0 * $1.1 } / w
            var aa = 0.0, ay = 0.0
            for i in a.indices {
                aa += weights[i] * (a[i] - aMean) * (a[i] - aMean)
                ay += weights[i] * (a[i] - aMean) * (targets[i] - yMean)
            }
            let n = w * w / w2
            let rho = ay / (aa * yy).squareRoot()
            count.append(n)
            covariance.append(ay / w)
            correlation.append(rho)
            t.append(rho * ((n - 2) / (1 - rho * rho)).squareRoot())
        }
    }
}

/// `|x - reference| <= tolerance * |reference|` (plus a floor far below any value compared).
private func relativelyClose(_ x: [Double], _ reference: [Double], tolerance: Double = 1e-5) -> Bool {
    x.count == reference.count && zip(x, reference).allSatisfy { abs($0 - $1) <= tolerance * abs($1) + 1e-300 }
}

/// Random activations with offsets and scales that differ per neuron, and a 0/1 target
/// that depends on some neurons so that correlations are not all near zero.
private func randomBatch(rows: Int, widths: [Int], generator: inout SeededGenerator) -> (hidden: [Matrix], targets: [Float]) {
    let hidden = widths.enumerated().map { l, width -> Matrix in
        var m = Matrix.uniform(rows: rows, columns: width, low: 0, high: 1, using: &generator)
        for r in 0..<rows {
            for c in 0..<width { m[r, c] = Float(c % 5) * 3 + Float(l + 1) * m[r, c] * Float(1 + c % 3) }
        }
        return m
    }
    let targets = (0..<rows).map { r -> Float in
        let score = hidden[0][r, 0] + generator.nextUnitFloat()
        return score > 1 ? 1 : 0
    }
    return (hidden, targets)
}

@Suite("Covariance tracker")
struct CovarianceTrackerTests {
    /// Several batches of different sizes, merged, agree with one two-pass pass over all samples.
    @Test func mergedBatchesMatchTwoPass() {
        var generator = SeededGenerator(seed: 7)
        let widths = [13, 6]
        var tracker = CovarianceTracker(widths: widths)
        var columns = widths.map { [[Double]](repeating: [], count: $0) }
        var targets: [Double] = []
        for size in [17, 64, 1, 33, 128] {
            let (hidden, y) = randomBatch(rows: size, widths: widths, generator: &generator)
            tracker.update(hidden: hidden, targets: y)
            for (l, h) in hidden.enumerated() {
                for j in 0..<h.columns { for i in 0..<h.rows { columns[l][j].append(Double(h[i, j])) } }
            }
            targets += y.map(Double.init)
        }
        #expect(tracker.samplesSeen == 243)
        for l in widths.indices {
            let reference = Reference(columns: columns[l], targets: targets, weights: .init(repeating: 1, count: targets.count))
            let s = tracker.statistics(layer: l)
            #expect(s.count.allSatisfy { $0 == 243 })
            #expect(relativelyClose(s.covariance, reference.covariance))
            #expect(relativelyClose(s.correlation, reference.correlation))
            #expect(relativelyClose(s.t, reference.t))
            if l == 0 { #expect(reference.correlation.contains { abs($0) > 0.3 }, "the data should contain real correlations") }
        }
    }

    /// Forgetting per batch and by half-life agrees with a weighted two-pass computation.
    @Test(arguments: [CovarianceTracker.Forgetting.perBatch(factor: 0.8), .halfLife(samples: 50)])
    func forgettingMatchesWeightedTwoPass(forgetting: CovarianceTracker.Forgetting) {
        var generator = SeededGenerator(seed: 11)
        var tracker = CovarianceTracker(widths: [9], forgetting: forgetting)
        var batches: [(Matrix, [Float])] = []
        for size in [40, 25, 60, 8, 30] {
            let (hidden, y) = randomBatch(rows: size, widths: [9], generator: &generator)
            tracker.update(hidden: hidden, targets: y)
            batches.append((hidden[0], y))
        }
        // Each sample's weight is the product of the factors of the batches after it.
        var columns = [[Double]](repeating: [], count: 9), targets: [Double] = [], weights: [Double] = []
        for (b, (h, y)) in batches.enumerated() {
            let later = batches[(b + 1)...].reduce(1.0) { $0 * forgetting.factor(batchSize: $1.1.count) }
            for i in 0..<h.rows {
                for j in 0..<9 { columns[j].append(Double(h[i, j])) }
                targets.append(Double(y[i]))
                weights.append(later)
            }
        }
        let reference = Reference(columns: columns, targets: targets, weights: weights)
        let s = tracker.statistics(layer: 0)
        #expect(relativelyClose(s.count, reference.count))
        #expect(s.count[0] < 150, "forgetting must shrink the effective count below the 163 samples")
        #expect(relativelyClose(s.covariance, reference.covariance))
        #expect(relativelyClose(s.correlation, reference.correlation))
        #expect(relativelyClose(s.t, reference.t))
    }

    /// A neuron added by growth starts empty and then sees only later samples.
    @Test func widenedLayerStartsEmpty() {
        var generator = SeededGenerator(seed: 3)
        var tracker = CovarianceTracker(widths: [4])
        let (first, y1) = randomBatch(rows: 50, widths: [4], generator: &generator)
        tracker.update(hidden: first, targets: y1)
        tracker.resize(widths: [6, 2])
        let (second, y2) = randomBatch(rows: 70, widths: [6, 2], generator: &generator)
        tracker.update(hidden: second, targets: y2)
        let s = tracker.statistics(layer: 0)
        #expect(s.count == [120, 120, 120, 120, 70, 70])
        #expect(tracker.statistics(layer: 1).count == [70, 70])
        let late = (4..<6).map { j in (0..<70).map { Double(second[0][$0, j]) } }
        let reference = Reference(columns: late, targets: y2.map(Double.init), weights: .init(repeating: 1, count: 70))
        #expect(relativelyClose(Array(s.correlation[4...]), reference.correlation))
    }

    /// Constant neurons and constant targets have no correlation and no t.
    @Test func degenerateNeuronsAreNeutral() {
        var tracker = CovarianceTracker(widths: [2])
        let hidden = Matrix([[1, 0], [1, 1], [1, 2], [1, 3]])
        tracker.update(hidden: [hidden], correct: [true, false, true, false])
        var s = tracker.statistics(layer: 0)
        #expect(s.correlation[0] == 0 && s.t[0] == 0)
        #expect(s.correlation[1] < 0)
        tracker.reset()
        tracker.update(hidden: [hidden], correct: [true, true, true, true])
        s = tracker.statistics(layer: 0)
        #expect(s.correlation == [0, 0] && s.t == [0, 0] && s.count == [4, 4])
    }

    /// The loss target correlates with the per-sample cross-entropy.
    @Test func lossTarget() {
        var generator = SeededGenerator(seed: 5)
        let model = MixtureOfExperts(sizes: [3, 5, 3], generator: &generator)
        let input = Matrix.uniform(rows: 20, columns: 3, low: -1, high: 1, using: &generator)
        let labels = (0..<20).map { $0 % 3 }
        var byLoss = CovarianceTracker(model: model, target: .loss)
        var direct = CovarianceTracker(model: model, target: .loss)
        let pass = model.forward(input)
        let correct = byLoss.update(pass, labels: labels)
        direct.update(hidden: pass.hidden, targets: SoftmaxCrossEntropy.losses(logits: pass.logits, labels: labels))
        #expect(byLoss.state == direct.state)
        #expect(correct == zip(pass.logits.argmaxRows(), labels).map { $0 == $1 })
    }

    @Test func stateRoundTrips() throws {
        var generator = SeededGenerator(seed: 9)
        var tracker = CovarianceTracker(widths: [5, 3], forgetting: .halfLife(samples: 100))
        for _ in 0..<3 {
            let (hidden, y) = randomBatch(rows: 16, widths: [5, 3], generator: &generator)
            tracker.update(hidden: hidden, targets: y)
        }
        let arrays = Dictionary(uniqueKeysWithValues: tracker.state.namedArrays.map { ($0.name, $0.values) })
        #expect(arrays.count == 1 + 2 * 7)
        #expect(arrays["layer1/comoment"]?.count == 3)
        #expect(try CovarianceTracker.State(namedArrays: arrays) == tracker.state)
        let json = try JSONEncoder().encode(tracker.state)
        #expect(try JSONDecoder().decode(CovarianceTracker.State.self, from: json) == tracker.state)

        var missing = arrays
        missing["layer1/target_m2"] = nil
        #expect(throws: CovarianceError.missingArray("layer1/target_m2")) { try CovarianceTracker.State(namedArrays: missing) }
        var short = arrays
        short["layer0/comoment"] = [1, 2]
        do {
            _ = try CovarianceTracker.State(namedArrays: short)
            Issue.record("a short array must be rejected")
        } catch {
            #expect(error.description == "covariance statistics array 'layer0/comoment' is malformed: has 2 values but layer0/weight has 5")
        }
        var unknown = arrays
        unknown["layer0/variance"] = [1]
        #expect(throws: CovarianceError.unknownArray("layer0/variance")) { try CovarianceTracker.State(namedArrays: unknown) }
    }

    /// The Student t distribution function against known values.
    @Test func studentT() {
        #expect(isClose(StudentT.cdf(0, degreesOfFreedom: 5), 0.5, tolerance: 1e-12))
        // t_{0.975, 10} = 2.228138851986; t_{0.995, 3} = 5.840909309733.
        #expect(isClose(StudentT.cdf(-2.228138851986, degreesOfFreedom: 10), 0.025, tolerance: 1e-9))
        #expect(isClose(StudentT.cdf(5.840909309733, degreesOfFreedom: 3), 0.995, tolerance: 1e-9))
        // One degree of freedom is Cauchy: F(t) = 1/2 + atan(t)/π.
        #expect(isClose(StudentT.cdf(-3, degreesOfFreedom: 1), 0.5 + atan(-3) / Double.pi, tolerance: 1e-10))
        // Tails (reference values from scipy.stats.t.cdf).
        #expect(isClose(StudentT.cdf(-6, degreesOfFreedom: 50) / 1.0944697425399989e-07, 1, tolerance: 1e-8))
        #expect(isClose(StudentT.cdf(-4, degreesOfFreedom: 999) / 3.4007354919019706e-05, 1, tolerance: 1e-8))
        // Very large ν is normal: Φ(-4) = 3.167124183e-5; scipy gives 3.1693999e-5 at ν = 99999.
        #expect(abs(StudentT.cdf(-4, degreesOfFreedom: 200_000) - 3.167124183e-5) < 1e-13)
        #expect(isClose(StudentT.cdf(-4, degreesOfFreedom: 99_999) / 3.169399900622747e-05, 1, tolerance: 1e-8))
    }
}
