import MoE
import Testing
import TestSupport

/// The largest absolute difference relative to the largest reference magnitude.
private func normRelativeDifference(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "Sizes differ")
    let scale = b.map(abs).max() ?? 0
    return zip(a, b).map { abs($0 - $1) }.max()! / max(scale, .leastNormalMagnitude)
}

@Suite("Class statistics")
struct ClassStatisticsTests {
    /// Uniform features in [0, 1) (means far from 0, like ReLU features), with an unseen
    /// label in the middle and one class of a single sample.
    private func sample() -> (x: Matrix, labels: [Int]) {
        var generator = SeededGenerator(seed: 11)
        let x = Matrix.uniform(rows: 161, columns: 9, low: 0, high: 1, using: &generator)
        var labels = (0..<160).map { _ in [0, 1, 3][generator.nextInt(below: 3)] }
        labels.append(4)
        return (x, labels)
    }

    @Test func batchesMergeToTheDirectComputation() {
        let (x, labels) = sample()
        var streamed = ClassStatistics(featureCount: 9)
        var start = 0
        for size in [1, 17, 50, 2, 91] {
            streamed.update(features: x.rows(start..<(start + size)), labels: Array(labels[start..<(start + size)]))
            start += size
        }
        #expect(start == x.rows)
        #expect(streamed.classCount == 5)
        #expect(streamed.classes == [0, 1, 3, 4])
        #expect(streamed.sampleCount == 161)
        for c in 0..<5 { #expect(streamed.counts[c] == Double(labels.filter { $0 == c }.count)) }

        let direct = directWithinClassScatter(x, labels: labels, classCount: 5)
        #expect(normRelativeDifference(streamed.withinClassScatter(), direct) < 1e-6)
        for c in 0..<5 {
            let rows = labels.indices.filter { labels[$0] == c }
            let mean = (0..<9).map { j in rows.reduce(0.0) { $0 + Double(x[$1, j]) } / Double(max(rows.count, 1)) }
            #expect(normRelativeDifference(streamed.mean(ofClass: c), mean) < 1e-12)
        }
    }

    @Test func pendingRowsAreFlushedWithoutChangingTheResult() {
        var generator = SeededGenerator(seed: 12)
        let x = Matrix.uniform(rows: 1300, columns: 5, low: 0, high: 1, using: &generator)
        let labels = (0..<1300).map { _ in generator.nextInt(below: 3) }
        var streamed = ClassStatistics(featureCount: 5)
        for start in stride(from: 0, to: 1300, by: 100) {
            streamed.update(features: x.rows(start..<(start + 100)), labels: Array(labels[start..<(start + 100)]))
        }
        #expect(1300 > 2 * ClassStatistics.pendingRowLimit)
        let direct = directWithinClassScatter(x, labels: labels, classCount: 3)
        #expect(normRelativeDifference(streamed.withinClassScatter(), direct) < 1e-6)
        let restored = try? ClassStatistics(featureCount: 5, state: streamed.state)
        #expect(restored?.withinClassScatter() == streamed.withinClassScatter())
    }

    @Test("a flush's product serves the next flush of the same rows, and only of the same rows, to the last bit")
    func aSharedProductChangesNoBit() {
        var generator = SeededGenerator(seed: 14)
        // The pooled statistics and a slot's own take the same batches (the slot in
        // charge's rows), then the pooled ones take rows of another label the own ones do
        // not: the products are shared while the pending rows agree, and not after.
        var pooled = ClassStatistics(featureCount: 7), own = pooled
        var pooledAlone = pooled, ownAlone = pooled
        var reused = 0
        for batch in 0..<24 {
            let x = Matrix.uniform(rows: 100, columns: 7, low: -1, high: 2, using: &generator)
            let labels = (0..<100).map { _ in 2 + generator.nextInt(below: 2) }
            var share = ScatterShare()
            if batch < 16 {
                own.update(features: x, rows: nil, labels: labels, sharing: &share)
                ownAlone.update(features: x, labels: labels)
                pooled.update(features: x, rows: nil, labels: labels, sharing: &share)
                pooledAlone.update(features: x, labels: labels)
            } else {
                // A row of another slot's label joins the pooled batch alone.
                let rows = Array(0..<99)
                own.update(features: x, rows: rows, labels: Array(labels[0..<99]), sharing: &share)
                ownAlone.update(features: x, rows: rows, labels: Array(labels[0..<99]))
                pooled.update(features: x, rows: nil, labels: Array(labels[0..<99]) + [0], sharing: &share)
                pooledAlone.update(features: x, labels: Array(labels[0..<99]) + [0])
            }
            if batch == 7 {
                // A refit flushes both: the pooled statistics first, then the slot's.
                pooled.flush(sharing: &share)
                pooledAlone.flush()
                own.flush(sharing: &share)
                ownAlone.flush()
            }
            reused += share.reused
            #expect(pooled.state == pooledAlone.state && own.state == ownAlone.state, "batch \(batch)")
        }
        // 16 batches of 100 rows (and their correction rows) in step: flushes at the
        // pending limit and at the refit, each product computed once.
        #expect(reused >= 3)
        var unshared = 0
        var share = ScatterShare()
        var a = pooled, b = own
        a.flush(sharing: &share)
        b.flush(sharing: &share)
        unshared += share.reused
        #expect(unshared == 0, "rows that differ compute their own product")
        pooledAlone.flush(); ownAlone.flush()
        #expect(a.state == pooledAlone.state && b.state == ownAlone.state)
    }

    @Test func rowsReadInPlaceGiveTheGatheredRowsBits() {
        var generator = SeededGenerator(seed: 13)
        var gathered = ClassStatistics(featureCount: 6), inPlace = gathered
        for _ in 0..<9 {
            let x = Matrix.uniform(rows: 128, columns: 6, low: -1, high: 1, using: &generator)
            let rows = (0..<128).filter { _ in generator.nextInt(below: 16) != 0 }
            let labels = rows.map { _ in generator.nextInt(below: 4) }
            gathered.update(features: x.gatherRows(rows), labels: labels)
            inPlace.update(features: x, rows: rows, labels: labels)
        }
        #expect(inPlace.state == gathered.state)
    }

    @Test("the statistics of the leading features are those the narrower rows would have gathered")
    func leadingFeaturesAreTheNarrowStatistics() throws {
        var generator = SeededGenerator(seed: 14)
        let x = Matrix.uniform(rows: 1300, columns: 9, low: 0, high: 1, using: &generator)
        let labels = (0..<1300).map { _ in generator.nextInt(below: 3) }
        let narrow = Matrix(rows: 1300, columns: 4, scalars: (0..<1300).flatMap { r in (0..<4).map { x[r, $0] } })
        var wide = ClassStatistics(featureCount: 9), small = ClassStatistics(featureCount: 4)
        // 1300 rows in batches of 100: two flushes, and rows still pending.
        for start in stride(from: 0, to: 1300, by: 100) {
            wide.update(features: x.rows(start..<(start + 100)), labels: Array(labels[start..<(start + 100)]))
            small.update(features: narrow.rows(start..<(start + 100)), labels: Array(labels[start..<(start + 100)]))
        }
        #expect(!wide.pendingRows.isEmpty)
        let part = wide.leading(4)
        #expect(part.featureCount == 4 && part.counts == small.counts && part.sums == small.sums)
        #expect(part.pendingRows == small.pendingRows)
        #expect(normRelativeDifference(part.withinClassScatter(), small.withinClassScatter()) < 1e-6)
        let (w, b) = try part.fitDiscriminant()
        let (ws, bs) = try small.fitDiscriminant()
        #expect(normRelativeDifference(w.scalars.map(Double.init), ws.scalars.map(Double.init)) < 1e-4)
        #expect(normRelativeDifference(b.scalars.map(Double.init), bs.scalars.map(Double.init)) < 1e-4)
        // All the features: the statistics themselves.
        #expect(wide.leading(9).state == wide.state)
    }

    @Test func mergeDoesNotDependOnOrder() {
        let (x, labels) = sample()
        var first = ClassStatistics(featureCount: 9), second = ClassStatistics(featureCount: 9)
        first.update(features: x.rows(0..<70), labels: Array(labels[0..<70]))
        second.update(features: x.rows(70..<161), labels: Array(labels[70..<161]))
        var whole = ClassStatistics(featureCount: 9)
        whole.update(features: x, labels: labels)

        let forward = first.merging(second), backward = second.merging(first)
        #expect(forward.counts == whole.counts)
        #expect(backward.counts == whole.counts)
        #expect(normRelativeDifference(forward.withinClassScatter(), whole.withinClassScatter()) < 1e-6)
        #expect(normRelativeDifference(backward.withinClassScatter(), forward.withinClassScatter()) < 1e-12)
        #expect(normRelativeDifference(backward.sums, whole.sums) < 1e-12)
    }

    @Test func stateRoundTripsAndBadStateIsNamed() throws {
        let (x, labels) = sample()
        var statistics = ClassStatistics(featureCount: 9)
        statistics.update(features: x, labels: labels)
        let state = statistics.state
        #expect(state["scatter"]?.count == 9 * 10 / 2)
        #expect(statistics.memoryInFloats == 5 + 5 * 9 + 45)
        let restored = try ClassStatistics(featureCount: 9, state: state)
        #expect(restored.counts == statistics.counts)
        #expect(restored.withinClassScatter() == statistics.withinClassScatter())

        var missing = state
        missing["sums"] = nil
        #expect(throws: DiscriminantError.missingState(name: "sums")) {
            try ClassStatistics(featureCount: 9, state: missing)
        }
        var short = state
        short["scatter"]?.removeLast()
        let error = #expect(throws: DiscriminantError.self) { try ClassStatistics(featureCount: 9, state: short) }
        #expect(error?.description
            == "The saved class statistics entry 'scatter' should hold 45 values, it holds 44.")
        var negative = state
        negative["counts"]?[2] = -1
        #expect(throws: DiscriminantError.invalidStateValue(name: "counts", index: 2, value: -1)) {
            try ClassStatistics(featureCount: 9, state: negative)
        }
    }

    @Test("a generation names the values: copies share it, every change and every restore draws a new one")
    func generationNamesTheValues() throws {
        let (x, labels) = sample()
        var statistics = ClassStatistics(featureCount: 9)
        let empty = statistics.generation
        #expect(ClassStatistics(featureCount: 9).generation != empty)
        statistics.update(features: x.rows(0..<20), labels: Array(labels[0..<20]))
        let updated = statistics.generation
        #expect(updated != empty)
        var copy = statistics
        #expect(copy.generation == updated)
        // An empty batch changes nothing.
        copy.update(features: Matrix(rows: 0, columns: 9), labels: [])
        #expect(copy.generation == updated)
        // Copies that change apart never meet on one generation.
        copy.update(features: x.rows(20..<40), labels: Array(labels[20..<40]))
        statistics.update(features: x.rows(40..<60), labels: Array(labels[40..<60]))
        #expect(copy.generation != statistics.generation && copy.generation != updated)
        let beforeFlush = statistics.generation
        statistics.flush()
        #expect(statistics.generation != beforeFlush)
        copy.merge(statistics)
        #expect(copy.generation != statistics.generation)
        #expect(try ClassStatistics(featureCount: 9, state: statistics.state).generation != statistics.generation)
    }
}

@Suite("Linear discriminant")
struct LinearDiscriminantTests {
    /// One class, samples ±a_i e_i repeated 20 times: Σ̂ = diag(0.25, 1, 2.25, 4), n = 160.
    @Test func oasIntensityMatchesTheClosedForm() throws {
        var rows: [[Float]] = []
        for _ in 0..<20 {
            for (i, a) in [Float(1), 2, 3, 4].enumerated() {
                var plus = [Float](repeating: 0, count: 4), minus = plus
                plus[i] = a
                minus[i] = -a
                rows += [plus, minus]
            }
        }
        var statistics = ClassStatistics(featureCount: 4)
        statistics.update(features: Matrix(rows), labels: Array(repeating: 0, count: rows.count))
        // tr = 7.5, tr(Σ̂²) = 22.125: ((1 - 1/2) 22.125 + 56.25) / ((161 - 1/2) (22.125 - 56.25/4)).
        let expected = 67.3125 / (160.5 * 8.0625)
        #expect(isClose(try statistics.shrinkageIntensity(.oas), expected, tolerance: 1e-12))
        #expect(try statistics.shrinkageIntensity(.fixed(0.3)) == 0.3)
        #expect(throws: DiscriminantError.invalidShrinkage(1.5)) { try statistics.shrinkageIntensity(.fixed(1.5)) }

        // A covariance that is already a multiple of I needs full shrinkage.
        var isotropic = ClassStatistics(featureCount: 2)
        isotropic.update(features: Matrix([[1, 0], [-1, 0], [0, 1], [0, -1]]), labels: [0, 0, 0, 0])
        #expect(try isotropic.shrinkageIntensity(.oas) == 1)
    }

    @Test func fitEqualsTheFloat64Reference() throws {
        let (x, labels) = gaussianClasses(
            means: [[0, 1, 0, 2, 1], [1, 0, 0, 1, 3], [2, 2, 1, 0, 0]], perClass: 14, spread: 0.8, seed: 5)
        var statistics = ClassStatistics(featureCount: 5)
        statistics.update(features: x.rows(0..<20), labels: Array(labels[0..<20]))
        statistics.update(features: x.rows(20..<42), labels: Array(labels[20..<42]))
        for shrinkage in [Shrinkage.oas, .fixed(0), .fixed(0.4)] {
            let fixed: Double? = if case let .fixed(value) = shrinkage { value } else { nil }
            let reference = referenceDiscriminant(x, labels: labels, classCount: 3, fixedShrinkage: fixed)
            #expect(isClose(try statistics.shrinkageIntensity(shrinkage), reference.shrinkage, tolerance: 1e-5))
            let (weight, bias) = try statistics.fitDiscriminant(shrinkage: shrinkage)
            #expect(weight.shape == [5, 3])
            #expect(bias.shape == [1, 3])
            // Stored less the classes' mean weight and bias: the same softmax.
            #expect(normRelativeDifference(weight.scalars.map(Double.init), centredRows(reference.weight, columns: 3)) < 1e-5)
            #expect(normRelativeDifference(bias.scalars.map(Double.init), centredRows(reference.bias, columns: 3)) < 1e-5)
        }
    }

    /// Each row of a row-major matrix of `columns` less the row's mean.
    private func centredRows(_ values: [Double], columns: Int) -> [Double] {
        stride(from: 0, to: values.count, by: columns).flatMap { start in
            let row = values[start..<(start + columns)], mean = row.reduce(0, +) / Double(columns)
            return row.map { $0 - mean }
        }
    }

    @Test("The head is stored less the seen classes' mean weight and bias: the posteriors of the formula, logits near zero where the formula's all stand near 10^5")
    func headCentred() throws {
        // Features sharing a large mean whose spread within the classes is small: Σ⁻¹
        // magnifies it, and every class's formula logit stands near the same large value.
        var generator = SeededGenerator(seed: 9)
        var rows: [[Float]] = [], labels: [Int] = []
        for i in 0..<300 {
            let label = i % 3
            rows.append((0..<6).map { j in 40 + 0.01 * generator.nextNormal() + (j == label ? 0.002 : 0) + 0.05 * generator.nextNormal() * Float(j >= 3 ? 1 : 0) })
            labels.append(label)
        }
        var statistics = ClassStatistics(featureCount: 6)
        statistics.update(features: Matrix(rows), labels: labels)
        let (weight, bias) = try statistics.fitDiscriminant(shrinkage: .fixed(0.01))
        let reference = referenceDiscriminant(Matrix(rows), labels: labels, classCount: 3, fixedShrinkage: 0.01)
        var logits = Matrix.matmul(Matrix(rows), weight)
        logits.addRowVector(bias)
        // The formula's logits in Float64, and their row means.
        var largest = 0.0, gap = 0.0
        for r in 0..<rows.count {
            let formula = (0..<3).map { c in
                (0..<6).reduce(reference.bias[c]) { $0 + Double(rows[r][$1]) * reference.weight[$1 * 3 + c] }
            }
            let mean = formula.reduce(0, +) / 3
            largest = max(largest, abs(mean))
            for c in 0..<3 { gap = max(gap, abs(Double(logits[r, c]) - (formula[c] - mean))) }
        }
        #expect(largest > 1e4, "the formula's logits stand near \(largest)")
        #expect(gap < 1e-2, "the stored head's logits are the formula's less their mean, within \(gap)")
        #expect((0..<3).map { c in (0..<6).map { weight[$0, c] } }.reduce([Float](repeating: 0, count: 6)) { zip($0, $1).map(+) }
            .allSatisfy { abs($0) < 1e-3 })
    }

    @Test func refinedFloat32SolveMatchesFloat64Cholesky() throws {
        // The covariance of 300 samples of 200 correlated features (a large common
        // component, as ReLU features have), shrunk by a ridge of 0.05% of its mean
        // variance: Split Fashion-MNIST's refits shrink by 0.05% to 13%.
        let p = 200, k = 7
        var generator = SeededGenerator(seed: 13)
        let g = Matrix.normal(rows: 300, columns: p, standardDeviation: 1, using: &generator)
        let mix = Matrix.uniform(rows: p, columns: p, low: 0, high: 1, using: &generator)
        let x = Matrix.matmul(g, mix)
        var sigma = [Double](repeating: 0, count: p * p)
        var trace = 0.0
        for i in 0..<p {
            for j in i..<p {
                var total = 0.0
                for r in 0..<300 { total += Double(x[r, i]) * Double(x[r, j]) }
                sigma[i * p + j] = total / 300
            }
            trace += sigma[i * p + i]
        }
        for i in 0..<p { sigma[i * p + i] += 5e-4 * trace / Double(p) }
        let b = (0..<(k * p)).map { _ in Double(generator.nextNormal()) }
        let refined = try #require(ClassStatistics.refinedSolve(sigma, featureCount: p, rightHandSides: b, count: k))
        var factor = sigma, exact = b
        #expect(factor.withUnsafeMutableBufferPointer { BLAS.dpotrf(n: p, a: $0.baseAddress!, lda: p) } == 0)
        _ = factor.withUnsafeBufferPointer { a in
            exact.withUnsafeMutableBufferPointer { BLAS.dpotrs(n: p, count: k, a: a.baseAddress!, lda: p, b: $0.baseAddress!, ldb: p) }
        }
        #expect(normRelativeDifference(refined, exact) < 1e-6, "\(normRelativeDifference(refined, exact))")
        // Not positive definite in Float32: nil, and the caller factorises in Float64.
        var indefinite = [Double](repeating: 0, count: 4)
        indefinite[0] = 1; indefinite[1] = 2; indefinite[3] = 1
        #expect(ClassStatistics.refinedSolve(indefinite, featureCount: 2, rightHandSides: [1, 1], count: 1) == nil)
    }

    @Test func separableGaussianClassesAreClassifiedAlmostPerfectly() throws {
        var generator = SeededGenerator(seed: 3)
        let means = (0..<4).map { _ in (0..<20).map { _ in 2 * generator.nextNormal() } }
        let train = gaussianClasses(means: means, perClass: 200, seed: 1)
        let test = gaussianClasses(means: means, perClass: 200, seed: 2)

        var statistics = ClassStatistics(featureCount: 20)
        for start in stride(from: 0, to: 800, by: 64) {
            let end = min(start + 64, 800)
            statistics.update(features: train.features.rows(start..<end), labels: Array(train.labels[start..<end]))
        }
        let (weight, bias) = try statistics.fitDiscriminant()
        var logits = Matrix.matmul(test.features, weight)
        logits.addRowVector(bias)
        #expect(accuracy(logits.argmaxRows(), test.labels) >= 0.99)

        // The same through random ReLU features.
        var discriminant = LinearDiscriminant(inputCount: 20, featureCount: 256, seed: 9)
        discriminant.observe(train.features, labels: train.labels)
        try discriminant.refit()
        #expect(accuracy(discriminant.predict(test.features), test.labels) >= 0.98)
    }

    @Test func unseenClassesGetNoPosterior() throws {
        let (x, labels) = gaussianClasses(means: [[0, 0, 3], [3, 0, 0]], perClass: 10, seed: 4)
        var statistics = ClassStatistics(featureCount: 3)
        statistics.update(features: x, labels: labels.map { $0 * 2 })
        let (weight, bias) = try statistics.fitDiscriminant(classCount: 4)
        #expect(weight.shape == [3, 4])
        for unseen in [1, 3] {
            #expect(bias[0, unseen] == ClassStatistics.unseenClassBias)
            #expect((0..<3).allSatisfy { weight[$0, unseen] == 0 })
        }
        #expect(bias[0, 0] > -100 && bias[0, 2] > -100)
    }

    @Test func aFitFromFewPendingRowsIsTheFullFit() throws {
        // 3 classes, 40 rows of 64 features: the Woodbury fit through the 40 x 40 Gram
        // matrix, and the p x p Cholesky fit once the rows are flushed, agree.
        var generator = SeededGenerator(seed: 21)
        let x = Matrix.normal(rows: 40, columns: 64, standardDeviation: 1, using: &generator)
        let labels = (0..<40).map { $0 % 3 }
        var statistics = ClassStatistics(featureCount: 64)
        statistics.update(features: x.rows(0..<16), labels: Array(labels[0..<16]))
        statistics.update(features: x.rows(16..<40), labels: Array(labels[16..<40]))
        #expect(statistics.fitsFromPendingRows)
        let few = try statistics.fitDiscriminant(classCount: 4)
        #expect(statistics.fitsFromPendingRows, "a fit leaves the rows pending")
        var flushed = statistics
        flushed.flush()
        #expect(!flushed.fitsFromPendingRows)
        let full = try flushed.fitDiscriminant(classCount: 4)
        let scale = full.weight.scalars.map(abs).max()!
        let difference = zip(few.weight.scalars, full.weight.scalars).map { abs($0 - $1) }.max()!
        #expect(difference < 1e-4 * scale, "weights differ by \(difference) of \(scale)")
        for c in 0..<3 { #expect(abs(few.bias[0, c] - full.bias[0, c]) < 1e-3 * max(1, abs(full.bias[0, c]))) }
        #expect(few.bias[0, 3] == ClassStatistics.unseenClassBias)
        // With a fixed shrinkage too.
        let fixedFew = try statistics.fitDiscriminant(shrinkage: .fixed(0.3))
        let fixedFull = try flushed.fitDiscriminant(shrinkage: .fixed(0.3))
        let fixedDifference = zip(fixedFew.weight.scalars, fixedFull.weight.scalars).map { abs($0 - $1) }.max()!
        #expect(fixedDifference < 1e-4 * fixedFull.weight.scalars.map(abs).max()!)
        // More rows than lowRankRows: the p x p fit.
        var many = ClassStatistics(featureCount: 4)
        let wide = Matrix.normal(rows: ClassStatistics.lowRankRows + 1, columns: 4, standardDeviation: 1, using: &generator)
        many.update(features: wide, labels: (0..<wide.rows).map { $0 % 2 })
        #expect(!many.fitsFromPendingRows)
    }

    @Test func oneSamplePerClassIsTheNearestClassMean() throws {
        // No spread within any class: every shrunk covariance is 0, and Σ = I is used.
        var statistics = ClassStatistics(featureCount: 2)
        statistics.update(features: Matrix([[4, 0], [0, 4]]), labels: [0, 1])
        let (weight, bias) = try statistics.fitDiscriminant()
        // w_c = μ_c and b_c = -8 - log 2, less their means over the two classes.
        #expect(weight == Matrix([[2, -2], [-2, 2]]))
        #expect(abs(bias[0, 0]) < 1e-5 && abs(bias[0, 1]) < 1e-5)
        // A row nearer the first mean scores higher for the first class.
        let first = 3 * weight[0, 0] + weight[1, 0] + bias[0, 0], second = 3 * weight[0, 1] + weight[1, 1] + bias[0, 1]
        #expect(first > second)
    }

    @Test func singularCovarianceWithoutShrinkageIsReported() throws {
        // The third feature never varies within a class.
        let x = Matrix([[1, 2, 0], [2, 1, 0], [0, 0, 0], [5, 4, 0], [4, 6, 0], [6, 5, 0]])
        var statistics = ClassStatistics(featureCount: 3)
        statistics.update(features: x, labels: [0, 0, 0, 1, 1, 1])
        let error = #expect(throws: DiscriminantError.self) { try statistics.fitDiscriminant(shrinkage: .fixed(0)) }
        guard case .notPositiveDefinite(featureCount: 3, minor: 3, shrinkage: 0)? = error else {
            Issue.record("unexpected error \(String(describing: error))")
            return
        }
        #expect(try statistics.fitDiscriminant(shrinkage: .oas).weight.isFinite)
        #expect(throws: DiscriminantError.noSamples) { try ClassStatistics(featureCount: 3).fitDiscriminant() }
    }

    @Test func randomFeaturesAreSeededReLUProjections() {
        let features = RandomFeatures(inputCount: 6, featureCount: 10, seed: 7)
        #expect(features == RandomFeatures(inputCount: 6, featureCount: 10, seed: 7))
        #expect(features != RandomFeatures(inputCount: 6, featureCount: 10, seed: 8))
        let x = randomMatrix(4, 6, seed: 1)
        let y = features(x)
        #expect(y.shape == [4, 10])
        var negatives = 0
        for r in 0..<4 {
            for j in 0..<10 {
                let pre = (0..<6).reduce(Double(features.bias[0, j])) { $0 + Double(x[r, $1]) * Double(features.weight[$1, j]) }
                if pre < 0 { negatives += 1 }
                #expect(isClose(Double(y[r, j]), max(0, pre), tolerance: 1e-5))
            }
        }
        #expect(negatives > 0 && negatives < 40)
    }
}

@Suite("Leave-one-out logits")
struct LeaveOneOutTests {
    /// The sample above's kind: uniform features, labels 0, 1 and 3, and a class (4) of
    /// a single sample.
    private func sample(rows: Int, columns: Int, seed: UInt64) -> (x: Matrix, labels: [Int]) {
        var generator = SeededGenerator(seed: seed)
        let x = Matrix.uniform(rows: rows, columns: columns, low: 0, high: 1, using: &generator)
        var labels = (0..<(rows - 1)).map { _ in [0, 1, 3][generator.nextInt(below: 3)] }
        labels.append(4)
        return (x, labels)
    }

    @Test("without shrinkage each row's logits are those of the fit without it; a class's only sample keeps it")
    func exactWithoutShrinkage() throws {
        let (x, labels) = sample(rows: 40, columns: 5, seed: 21)
        var all = ClassStatistics(featureCount: 5)
        all.update(features: x, labels: labels)
        let loo = try all.leaveOneOutLogits(x, labels: labels, shrinkage: .fixed(0), classCount: 6)
        #expect(loo.rows == 40 && loo.columns == 6)
        for i in [0, 7, 19, 38] {
            let others = (0..<40).filter { $0 != i }
            var without = ClassStatistics(featureCount: 5)
            without.update(features: x.gatherRows(others), labels: others.map { labels[$0] })
            let (w, b) = try without.fitDiscriminant(shrinkage: .fixed(0), classCount: 6)
            var refit = Matrix.matmul(x.rows(i..<(i + 1)), w)
            refit.addRowVector(b)
            for c in [0, 1, 3] {
                #expect(abs(loo[i, c] - refit[0, c]) <= 1e-3 * max(1, abs(refit[0, c])), "row \(i), class \(c)")
            }
            #expect(loo[i, 2] == ClassStatistics.unseenClassBias && loo[i, 5] == ClassStatistics.unseenClassBias)
        }
        // The single sample of class 4 is not removed: its row is scored by the whole head.
        let whole = try all.leaveOneOutLogits(x.rows(39..<40), labels: [4], shrinkage: .fixed(0), classCount: 6)
        #expect(whole[0, 4] == loo[39, 4] && loo[39, 4] > ClassStatistics.unseenClassBias)
    }

    @Test("a head that memorises its rows is right on them, and about as right as chance leave-one-out")
    func memorisation() throws {
        // Labels that the features do not show, 48 rows of 40 features: the fitted head
        // knows its own rows; without each, it guesses.
        var generator = SeededGenerator(seed: 22)
        let x = Matrix.uniform(rows: 48, columns: 40, low: 0, high: 1, using: &generator)
        let labels = (0..<48).map { _ in generator.nextInt(below: 2) }
        var statistics = ClassStatistics(featureCount: 40)
        statistics.update(features: x, labels: labels)
        let (w, b) = try statistics.fitDiscriminant(shrinkage: .oas)
        var fitted = Matrix.matmul(x, w)
        fitted.addRowVector(b)
        let loo = try statistics.leaveOneOutLogits(x, labels: labels, shrinkage: .oas)
        func accuracy(_ z: Matrix) -> Double {
            Double(labels.indices.filter { (z[$0, 1] > z[$0, 0] ? 1 : 0) == labels[$0] }.count) / 48
        }
        #expect(accuracy(fitted) > 0.85)
        #expect(accuracy(loo) < 0.7)
    }
}
