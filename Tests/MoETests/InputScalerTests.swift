import Foundation
import MoE
import Testing

@Suite("Input scaler")
struct InputScalerTests {
    /// `n` rows of 3 features: a busy one, one that varies in one row of every 100, and
    /// one that never varies.
    static func rows(_ n: Int, offset: Int = 0, scale: Float = 1) -> Matrix {
        var m = Matrix(rows: n, columns: 3)
        for r in 0..<n {
            let i = r + offset
            m[r, 0] = scale * Float(i % 17)
            m[r, 1] = i % 100 == 7 ? scale * 5 : 0
            m[r, 2] = scale * 2
        }
        return m
    }

    @Test("a feature is fixed after `evidence` varying values; a rare one only once `settle` samples have passed")
    func settling() {
        var scaler = InputScaler(width: 3, evidence: 32, clip: 3, settle: 1024)
        for b in 0..<7 { scaler.update(Self.rows(128, offset: 128 * b)) }
        // 896 samples: the busy feature is fixed, the rare one (9 varying values) is not yet.
        #expect(scaler.fixed == [true, false, false])
        let before = (scaler.center, scaler.inverseScale)
        scaler.update(Self.rows(128, offset: 896))
        // 1024 samples: the rare feature is fixed too; the one that never varied stays open.
        #expect(scaler.fixed == [true, true, false])
        #expect(scaler.center[1] != before.0[1])
        let fixedNow = (scaler.center, scaler.inverseScale)
        for b in 8..<20 { scaler.update(Self.rows(128, offset: 128 * b)) }
        #expect(scaler.center == fixedNow.0 && scaler.inverseScale == fixedNow.1, "a settled transform never moves again")
        // A feature that has never varied maps to 0.
        let t = scaler.transform(Self.rows(4))
        #expect((0..<4).map { t[$0, 2] } == [0, 0, 0, 0])
    }

    @Test("anchored: a feature constant until it varies is fixed around its constant, so the rows seen before keep their value")
    func anchoredConstant() {
        // 512 rows where feature 1 is 4 (a category's indicator before the category comes),
        // then a batch where it is 9 in ten rows: it is fixed in that batch (settled).
        func stream(anchored: Bool) -> InputScaler {
            var scaler = InputScaler(width: 3, evidence: 32, clip: 3, settle: 128, anchored: anchored)
            for b in 0..<4 {
                var x = Self.rows(128, offset: 128 * b)
                for r in 0..<128 { x[r, 1] = 4 }
                scaler.update(x)
            }
            var x = Self.rows(128, offset: 512)
            for r in 0..<128 { x[r, 1] = r < 10 ? 9 : 4 }
            scaler.update(x)
            return scaler
        }
        let anchored = stream(anchored: true), centred = stream(anchored: false)
        #expect(anchored.fixed[1] && centred.fixed[1])
        // The value every earlier row had maps to 0, as it did before the feature was fixed.
        var old = Matrix(rows: 1, columns: 3)
        old[0, 1] = 4
        #expect(anchored.transform(old)[0, 1] == 0)
        #expect(centred.transform(old)[0, 1] < -0.05, "centred on the mean, the old rows move")
        // The scale is the root mean square deviation from the constant: 10 rows of 5 in 640.
        let expected = Float(1 / (10.0 * 25 / 640).squareRoot())
        #expect(abs(anchored.inverseScale[1] - expected) < 1e-4 * expected)
        // The busy feature, fixed in the first batch, is the same either way.
        #expect(anchored.center[0] == centred.center[0] && anchored.inverseScale[0] == centred.inverseScale[0])
        #expect(anchored.anchored && !centred.anchored)
    }

    @Test("without settle (scalers saved before it existed) a rare feature keeps moving until it has shown its evidence")
    func neverSettles() {
        var scaler = InputScaler(width: 3, evidence: 32, clip: 3)
        for b in 0..<20 { scaler.update(Self.rows(128, offset: 128 * b)) }
        #expect(scaler.fixed == [true, false, false])
        #expect(scaler.settle == nil)
    }

    @Test("the transform clamps eight at a time as the scalar formula does, every width and bound")
    func clampedTransform() {
        var generator = SeededGenerator(seed: 21)
        for width in [1, 7, 8, 9, 17, 33] {
            var scaler = InputScaler(width: width, evidence: 4, clip: 3)
            let x = Matrix.normal(rows: 50, columns: width, standardDeviation: 4, using: &generator)
            scaler.update(x)
            let y = scaler.transform(x)
            for r in 0..<x.rows {
                for j in 0..<width {
                    let z = (x[r, j] - scaler.center[j]) * scaler.inverseScale[j]
                    #expect(y[r, j].bitPattern == min(3, max(-3, z)).bitPattern, "width \(width), row \(r), column \(j)")
                }
            }
        }
    }

    @Test("streams that differ by a change of units give the same transformed values")
    func units() {
        var a = InputScaler(width: 3, evidence: 32, clip: 3, settle: 1024)
        var b = InputScaler(width: 3, evidence: 32, clip: 3, settle: 1024)
        for k in 0..<12 {
            a.update(Self.rows(128, offset: 128 * k))
            b.update(Self.rows(128, offset: 128 * k, scale: 255))
        }
        #expect(a.fixed == b.fixed)
        let x = a.transform(Self.rows(64)), y = b.transform(Self.rows(64, scale: 255))
        for i in 0..<x.count { #expect(abs(x.scalars[i] - y.scalars[i]) < 1e-5) }
    }

    @Test("a gross error in the batch that fixes a feature does not set its scale; ordinary spread is left alone")
    func grossErrors() {
        // 128 rows: feature 0 counts 0...16 with one value of 10^6 in row 5; feature 1 is
        // mostly 0 with a few values up to 5 (a border pixel); feature 2 is normal.
        var x = Self.rows(128)
        x[5, 0] = 1e6
        var g = SeededGenerator(seed: 3)
        for r in 0..<128 { x[r, 2] = g.nextNormal() }
        var plain = InputScaler(width: 3, evidence: 32, clip: 3, settle: 1024)
        var robust = InputScaler(width: 3, evidence: 32, clip: 3, settle: 1024, winsorise: 20)
        plain.update(x)
        robust.update(x)
        // Without winsorising the outlier sets feature 0's deviation near 10^6 / sqrt(128).
        #expect(1 / plain.inverseScale[0] > 50_000)
        // With it, the value enters at 20 deviations from the median: a deviation near that of 0...16.
        #expect(1 / robust.inverseScale[0] < 20 && 1 / robust.inverseScale[0] > 4)
        // Nothing else moved: the rare feature (its spread measured by the values that
        // differ) and the normal one keep their moments.
        #expect(robust.center[1] == plain.center[1] && robust.inverseScale[1] == plain.inverseScale[1])
        #expect(robust.center[2] == plain.center[2] && robust.inverseScale[2] == plain.inverseScale[2])
        // The outlier itself is still transformed and clipped.
        #expect(robust.transform(x)[5, 0] == 3)
        // Units do not change what counts as a gross error.
        var scaled = InputScaler(width: 3, evidence: 32, clip: 3, settle: 1024, winsorise: 20)
        var y = x
        for i in 0..<y.count { y.scalars[i] *= 255 }
        scaled.update(y)
        #expect(abs(1 / scaled.inverseScale[0] - 255 / robust.inverseScale[0]) < 1e-2 * 255 / robust.inverseScale[0])
    }

    @Test("widened tails: a feature the stream is sorted by continues logarithmically beyond the farthest value it had shown; a stationary one stays clipped")
    func widenedTails() throws {
        // Feature 0 is sorted (0, 1, 2, ... one step a row): fixed on its first 128 values, it
        // leaves them behind. Feature 1 is stationary, with one value in 20 far out.
        func batch(_ b: Int) -> Matrix {
            var m = Matrix(rows: 128, columns: 2)
            for r in 0..<128 {
                m[r, 0] = Float(128 * b + r)
                m[r, 1] = r % 20 == 3 ? 40 : Float(r % 7)
            }
            return m
        }
        var scaler = InputScaler(width: 2, evidence: 32, clip: 3, settle: 128, widensTails: true)
        var clipped = InputScaler(width: 2, evidence: 32, clip: 3, settle: 128)
        for b in 0..<4 {
            scaler.update(batch(b))
            clipped.update(batch(b))
        }
        #expect(scaler.fixed == [true, true])
        // The second batch had more than half its sorted values beyond the clip: the knee is
        // the farthest of them, row 255.
        let farthest = (Float(255) - scaler.center[0]) * scaler.inverseScale[0]
        #expect(scaler.knee == [farthest, 0], "the sorted feature widens at its farthest value, the stationary one does not")
        #expect(farthest > 3 && clipped.knee == [0, 0])
        // Everything the scaler had seen when it widened reads as it did.
        for b in 0..<2 { #expect(scaler.transform(batch(b)) == clipped.transform(batch(b))) }
        // Clipped, every later value of the sorted feature reads as the clip; widened, they
        // keep their order: 3 + ln(1 + u - knee).
        let t = scaler.transform(batch(5)), c = clipped.transform(batch(5))
        #expect((0..<128).allSatisfy { c[$0, 0] == 3 })
        #expect((1..<128).allSatisfy { t[$0, 0] > t[$0 - 1, 0] })
        let u = (Float(640) - scaler.center[0]) * scaler.inverseScale[0]
        #expect(abs(t[0, 0] - (3 + log(1 + u - farthest))) < 1e-5)
        #expect((0..<128).allSatisfy { t[$0, 1] == c[$0, 1] }, "the stationary feature is clipped as before")
        // The state round-trips, window counts included; a state that is not a scaler's is refused.
        scaler.update(Matrix(rows: 5, columns: 2))
        let state = scaler.state
        let restored = try InputScaler(width: 2, evidence: 32, clip: 3, settle: 128, widensTails: true, state: state)
        #expect(restored == scaler && restored.windowCount == 5)
        var bad = state
        bad.windowCount = 128
        #expect(throws: InputScaler.StateError.self) { try InputScaler(width: 2, evidence: 32, clip: 3, settle: 128, widensTails: true, state: bad) }
        bad = state
        bad.knee = [1, 0]
        #expect(throws: InputScaler.StateError.self) { try InputScaler(width: 2, evidence: 32, clip: 3, settle: 128, widensTails: true, state: bad) }
        bad = state
        bad.reach = [.nan, 0]
        #expect(throws: InputScaler.StateError.self) { try InputScaler(width: 2, evidence: 32, clip: 3, settle: 128, widensTails: true, state: bad) }
    }

    @Test("trend tails: a feature whose values trend with their arrival is widened at the clip when it is fixed; rows in no order are clipped as before")
    func trendTails() throws {
        // Feature 0 counts up, feature 1 counts down, feature 2 takes the same values as
        // feature 0 in no order, feature 3 is noise.
        var generator = SeededGenerator(seed: 4)
        let noise = (0..<1024).map { _ in generator.nextNormal() }
        func rows(_ range: Range<Int>) -> Matrix {
            var m = Matrix(rows: range.count, columns: 4)
            for (r, i) in range.enumerated() {
                m[r, 0] = Float(i)
                m[r, 1] = -Float(i)
                m[r, 2] = Float((i * 37) % 128 + 128 * (i / 128))
                m[r, 3] = noise[i]
            }
            return m
        }
        let first = rows(0..<128)
        var scaler = InputScaler(width: 4, evidence: 32, clip: 3, settle: 128, anchored: true, trendTails: true)
        var clipped = InputScaler(width: 4, evidence: 32, clip: 3, settle: 128, anchored: true)
        scaler.update(first)
        clipped.update(first)
        #expect(scaler.knee == [3, 3, 0, 0], "the sorted features trend, the others do not")
        #expect(scaler.center == clipped.center && scaler.inverseScale == clipped.inverseScale)
        #expect(scaler.transform(first) == clipped.transform(first), "nothing seen reaches the clip: it reads as it did")
        // Later values: clipped, all read as the clip; widened, they keep their order,
        // continued from the clip as 3 + ln(1 + |u| - 3).
        let later = rows(640..<768)
        let t = scaler.transform(later), c = clipped.transform(later)
        #expect((0..<128).allSatisfy { c[$0, 0] == 3 && c[$0, 1] == -3 })
        #expect((1..<128).allSatisfy { t[$0, 0] > t[$0 - 1, 0] && t[$0, 1] < t[$0 - 1, 1] })
        let u = (Float(640) - scaler.center[0]) * scaler.inverseScale[0]
        #expect(abs(t[0, 0] - (3 + log(1 + u - 3))) < 1e-5 && abs(t[0, 1] + t[0, 0]) < 1e-5)
        #expect((0..<128).allSatisfy { t[$0, 2] == c[$0, 2] && t[$0, 3] == c[$0, 3] })

        // One row at a time, the features are fixed after 33 rows, and the sorted ones
        // already trend by more than five standard errors.
        var single = InputScaler(width: 4, evidence: 32, clip: 3, settle: 128, anchored: true, trendTails: true)
        for r in 0..<128 { single.update(rows(r..<(r + 1))) }
        #expect(single.knee == [3, 3, 0, 0])

        // A first batch longer than the first stretch is judged whole; a feature that was one
        // value until after the first stretch is not judged (a class's rows in any order show
        // such a feature), and is clipped as before.
        var long = InputScaler(width: 4, evidence: 32, clip: 3, settle: 128, anchored: true, trendTails: true)
        long.update(rows(0..<512))
        #expect(long.knee == [3, 3, 3, 0], "feature 2 is in no order within 128 rows, but climbs from one 128 to the next")
        var late = InputScaler(width: 2, evidence: 32, clip: 3, settle: 128, anchored: true, trendTails: true)
        for b in 0..<4 {
            var m = Matrix(rows: 128, columns: 2)
            for r in 0..<128 {
                m[r, 0] = noise[128 * b + r]
                m[r, 1] = b < 2 ? 0 : Float(128 * b + r)
            }
            late.update(m)
        }
        #expect(late.fixed == [true, true] && late.knee == [0, 0])

        // A long stream in no order: no feature trends, and every row reads as clipped.
        var random = SeededGenerator(seed: 9)
        var a = InputScaler(width: 64, evidence: 32, clip: 3, settle: 128, anchored: true, trendTails: true)
        var b = InputScaler(width: 64, evidence: 32, clip: 3, settle: 128, anchored: true)
        for _ in 0..<20 {
            var m = Matrix(rows: 128, columns: 64)
            for i in m.scalars.indices { m.scalars[i] = random.nextNormal() * 4 + 1 }
            a.update(m)
            b.update(m)
            #expect(a.transform(m) == b.transform(m))
        }
        #expect(a.widenedFeatures.isEmpty)

        // Stopped before its features are fixed and restored, the scaler goes on as one
        // that was never stopped.
        var whole = InputScaler(width: 4, evidence: 32, clip: 3, settle: 128, anchored: true, trendTails: true)
        var part = whole
        whole.update(first)
        part.update(rows(0..<16))
        var restored = try InputScaler(width: 4, evidence: 32, clip: 3, settle: 128, anchored: true, trendTails: true, state: part.state)
        #expect(restored == part && part.fixed == [false, false, false, false])
        var unstopped = part
        restored.update(rows(16..<128))
        unstopped.update(rows(16..<128))
        #expect(restored == unstopped && restored.knee == whole.knee)
        var bad = part.state
        bad.trend = [0, .nan, 0, 0]
        #expect(throws: InputScaler.StateError.self) {
            try InputScaler(width: 4, evidence: 32, clip: 3, settle: 128, anchored: true, trendTails: true, state: bad)
        }
        bad.trend = [0, 0]
        #expect(throws: InputScaler.StateError.self) {
            try InputScaler(width: 4, evidence: 32, clip: 3, settle: 128, anchored: true, trendTails: true, state: bad)
        }
    }

    /// A unit below Float's smallest normal number (about 1e-39).
    static let subnormal = Float.leastNormalMagnitude / 12

    @Test("a feature in units of 1e30 or of 1e-39 (subnormal) is scaled as in units of 1, and its state restores")
    func extremeUnits() throws {
        var unit = InputScaler(width: 3, evidence: 32, clip: 3, settle: 1024)
        var huge = InputScaler(width: 3, evidence: 32, clip: 3, settle: 1024)
        var tiny = InputScaler(width: 3, evidence: 32, clip: 3, settle: 1024)
        for k in 0..<12 {
            unit.update(Self.rows(128, offset: 128 * k))
            huge.update(Self.rows(128, offset: 128 * k, scale: 1e30))
            tiny.update(Self.rows(128, offset: 128 * k, scale: Self.subnormal))
        }
        // 1 / deviation is beyond Float's range for the subnormal feature: the largest
        // finite Float stands in (it was infinite, and every row left the range).
        #expect(tiny.inverseScale.allSatisfy { $0.isFinite && $0 > 0 })
        let x = unit.transform(Self.rows(64))
        let y = huge.transform(Self.rows(64, scale: 1e30)), z = tiny.transform(Self.rows(64, scale: Self.subnormal))
        for i in 0..<x.count {
            #expect(abs(x.scalars[i] - y.scalars[i]) < 1e-4)
            #expect(z.scalars[i].isFinite && abs(z.scalars[i]) <= 3)
        }
        // The busy feature keeps its order and most of its spread at the subnormal scale.
        #expect(z[10, 0] > z[5, 0] && z[10, 0] - z[5, 0] > 0.3 * (x[10, 0] - x[5, 0]))
        // Every row of the same units is in range; a checkpoint of either scaler restores.
        #expect(huge.rowsWithin(Self.rows(64, scale: 1e30), deviations: 1e15).allSatisfy { $0 })
        #expect(tiny.rowsWithin(Self.rows(64, scale: Self.subnormal), deviations: 1e15).allSatisfy { $0 })
        for scaler in [huge, tiny] {
            let restored = try InputScaler(width: 3, evidence: 32, clip: 3, settle: 1024, state: scaler.state)
            #expect(restored.transform(Self.rows(8)) == scaler.transform(Self.rows(8)))
        }
        // The infinite inverse scale earlier builds saved for such a feature loads as the
        // largest finite Float; NaN or a negative scale is still refused.
        var old = InputScaler.State(count: tiny.count, mean: tiny.mean, squares: tiny.squares, first: tiny.first,
                                    varying: tiny.varying, fixed: tiny.fixed, center: tiny.center, inverseScale: tiny.inverseScale)
        old.inverseScale[0] = .infinity
        let repaired = try InputScaler(width: 3, evidence: 32, clip: 3, settle: 1024, state: old)
        #expect(repaired.inverseScale[0] == .greatestFiniteMagnitude)
        for bad: Float in [.nan, -1, -.infinity] {
            old.inverseScale[0] = bad
            #expect(throws: InputScaler.StateError.self) { try InputScaler(width: 3, evidence: 32, clip: 3, settle: 1024, state: old) }
        }
    }

    @Test("rows within the range: judged in deviations of each feature that has varied, in median magnitudes before")
    func rowsWithinDeviations() {
        var scaler = InputScaler(width: 3, evidence: 32, clip: 3, settle: 1024)
        // Before anything varied, values of any magnitude are in range when their feature's
        // values are all about that large...
        var first = Self.rows(4, scale: 1e37)
        #expect(scaler.rowsWithin(first, deviations: 1e15) == [true, true, true, true])
        first[2, 1] = .nan
        first[3, 2] = -.infinity
        #expect(scaler.rowsWithin(first, deviations: 1e15) == [true, true, false, false])
        // ...but a gross error among ordinary values is out from the first batch on: held
        // to 1e15 times the median magnitude of its feature's values in the batch.
        var glitch = Self.rows(8)
        glitch[3, 0] = 1e30
        #expect(scaler.rowsWithin(glitch, deviations: 1e15) == [true, true, true, false, true, true, true, true])
        for k in 0..<4 { scaler.update(Self.rows(128, offset: 128 * k)) }
        // Feature 0 spreads about 5 around 8: 1e15 deviations is about 5e15 from it.
        var x = Self.rows(4)
        x[0, 0] = 1e15
        x[1, 0] = 1e17
        x[2, 0] = -3e38
        #expect(scaler.rowsWithin(x, deviations: 1e15) == [true, false, false, true])
        // Feature 2 never varied (always 2): held to 1e15 times its median magnitude.
        x = Self.rows(3)
        x[0, 2] = 1e30
        x[1, 2] = 1e15
        #expect(scaler.rowsWithin(x, deviations: 1e15) == [false, true, true])
    }

    @Test("rows in other units than those learned are told apart from rows like them by their features' means")
    func shareShifted() {
        var scaler = InputScaler(width: 3, evidence: 32, clip: 3, settle: 1024)
        #expect(scaler.shareShifted(means: [0, 0, 0]) == nil)  // nothing learned yet
        for k in 0..<4 { scaler.update(Self.rows(128, offset: 128 * k)) }
        func means(_ x: Matrix) -> [Double] {
            (0..<3).map { j in (0..<x.rows).reduce(0.0) { $0 + Double(x[$1, j]) } / Double(x.rows) }
        }
        // Features 0 and 1 varied; feature 2 (always 2) says nothing.
        #expect(scaler.shareShifted(means: means(Self.rows(300, offset: 9))) == 0)
        #expect(scaler.shareShifted(means: means(Self.rows(300, scale: 255))) == 1)
        var moved = Self.rows(300)
        for r in 0..<300 { moved[r, 0] += 100 }  // one feature far off: a drift, a row number
        #expect(scaler.shareShifted(means: means(moved)) == 0.5)
        #expect(scaler.shareShifted(means: [.nan, 0, 0]) == nil)
    }
}
