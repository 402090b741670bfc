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

    @Test("without settle (scalers saved before it existed) a rare feature keeps moving until it has shown its evidence")
    func neverSettles() {
        var scaler = InputScaler(width: 3, evidence: 32, clip: 3)
        for b in 0..<20 { scaler.update(Self.rows(128, offset: 128 * b)) }
        #expect(scaler.fixed == [true, false, false])
        #expect(scaler.settle == nil)
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
}
