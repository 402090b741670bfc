// These tests reach internal API (@testable import), which only a debug build exposes:
// `swift test` in debug runs them; a release test build leaves them out.
#if DEBUG
import Testing
@testable import MoE
import TestSupport

/// The SIMD loops give the bits of the scalar loops they replace, on awkward values too.
@Suite("Elementwise kernels")
struct KernelsTests {
    /// Values with NaN, infinities, ±0 and subnormals among random ones, `count` of them.
    func values(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        let special: [Float] = [.nan, .infinity, -.infinity, 0, -0, .leastNonzeroMagnitude, -.leastNormalMagnitude]
        return (0..<count).map { i in i % 5 == 0 ? special[(i / 5) % special.count] : generator.nextNormal() }
    }

    func same(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    @Test("ReLU forward and backward, every length from 0 to 40", arguments: 0...40)
    func relu(_ count: Int) {
        let x = values(count, seed: UInt64(count)), y = values(count, seed: UInt64(100 + count))
        var out = [Float](repeating: 7, count: count)
        x.withUnsafeBufferPointer { px in
            out.withUnsafeMutableBufferPointer { po in
                if count > 0 { Kernels.relu(px.baseAddress!, po.baseAddress!, count: count) }
            }
        }
        #expect(same(out, x.map { max(0, $0) }))
        var g = x
        g.withUnsafeMutableBufferPointer { pg in
            y.withUnsafeBufferPointer { py in
                if count > 0 { Kernels.reluBackward(pg.baseAddress!, output: py.baseAddress!, count: count) }
            }
        }
        #expect(same(g, zip(x, y).map { $1 > 0 ? $0 : 0 }))
    }

    @Test("column sums: each column added row after row", arguments: [(1, 1), (3, 7), (5, 8), (17, 33), (128, 10)])
    func columnSums(_ shape: (Int, Int)) {
        let (rows, width) = shape
        let m = Matrix(rows: rows, columns: width, scalars: values(rows * width, seed: 3).map { $0.isNaN ? 1 : $0 })
        var expected = [Float](repeating: 0, count: width)
        for r in 0..<rows { for c in 0..<width { expected[c] += m[r, c] } }
        #expect(same(m.columnSums().scalars, expected))
    }

    /// Adam's update as the eight-lane Swift loop computed it before it moved to C.
    func swiftAdam(_ p: inout [Float], _ g: [Float], _ m: inout [Float], _ v: inout [Float],
                   b1: Float, b2: Float, step: Float, inverseC2: Float, eps: Float) {
        typealias V = SIMD8<Float>
        let count = p.count, tiny = Float.leastNormalMagnitude
        let (vb1, vb2, va1, va2) = (V(repeating: b1), V(repeating: b2), V(repeating: 1 - b1), V(repeating: 1 - b2))
        let (vStep, vInv, vEps) = (V(repeating: step), V(repeating: inverseC2), V(repeating: eps))
        var i = 0
        while i + 8 <= count {
            let gi = V(g[i..<(i + 8)]), pi0 = V(p[i..<(i + 8)])
            var mi = V(m[i..<(i + 8)]), vi = V(v[i..<(i + 8)])
            mi = vb1 * mi + va1 * gi
            vi = vb2 * vi + va2 * (gi * gi)
            mi.replace(with: 0, where: (mi .< V(repeating: tiny)) .& (mi .> V(repeating: -tiny)))
            vi.replace(with: 0, where: vi .< V(repeating: tiny))
            let root = V((0..<8).map { (vi[$0] * vInv[$0]).squareRoot() })
            let pi = pi0 - vStep * mi / (root + vEps)
            for k in 0..<8 { (m[i + k], v[i + k], p[i + k]) = (mi[k], vi[k], pi[k]) }
            i += 8
        }
        while i < count {
            let mi = b1 * m[i] + (1 - b1) * g[i]
            let vi = b2 * v[i] + (1 - b2) * g[i] * g[i]
            m[i] = mi < tiny && mi > -tiny ? 0 : mi
            v[i] = vi < tiny ? 0 : vi
            p[i] -= step * m[i] / ((v[i] * inverseC2).squareRoot() + eps)
            i += 1
        }
    }

    @Test("Adam's update in C, in the CPU's widest vectors, gives the eight-lane Swift loop's bits",
          arguments: [0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 1000, 1283])
    func adam(_ count: Int) {
        var generator = SeededGenerator(seed: UInt64(count))
        let g = values(count, seed: 50).map { $0.isNaN || $0.isInfinite ? 0.5 : $0 * 1e-3 }
        var p = values(count, seed: 51).map { $0.isFinite ? $0 : 0.25 }
        var m = (0..<count).map { _ in generator.nextNormal() * 1e-3 }
        var v = (0..<count).map { _ in abs(generator.nextNormal()) * 1e-6 }
        // Moments about to fall below the smallest normal, as dead units' do.
        for i in stride(from: 0, to: count, by: 3) { m[i] = 1.2e-38; v[i] = 1.1e-38 }
        var (p2, m2, v2) = (p, m, v)
        for step in 1...3 {
            let c2 = 1 - Float(_exp(Double(step) * _log(0.999)))
            let c1 = 1 - Float(_exp(Double(step) * _log(0.9)))
            swiftAdam(&p, g, &m, &v, b1: 0.9, b2: 0.999, step: 0.001 / c1, inverseC2: 1 / c2, eps: 1e-8)
            p2.withUnsafeMutableBufferPointer { pp in
                g.withUnsafeBufferPointer { gp in
                    m2.withUnsafeMutableBufferPointer { mp in
                        v2.withUnsafeMutableBufferPointer { vp in
                            if count > 0 {
                                Adam.kernel(count: count, parameter: pp.baseAddress!, gradient: gp.baseAddress!,
                                            first: mp.baseAddress!, second: vp.baseAddress!, beta1: 0.9, beta2: 0.999,
                                            stepSize: 0.001 / c1, inverseC2: 1 / c2, epsilon: 1e-8)
                            }
                        }
                    }
                }
            }
        }
        #expect(same(p2, p) && same(m2, m) && same(v2, v), "\(VectorMath.adamVectorBits)-bit kernel")
        #expect(m2.allSatisfy { !$0.isSubnormal } && v2.allSatisfy { !$0.isSubnormal })
    }

    @Test("the bounds check in the widest vectors says what the scalar comparison says, every length from 0 to 70",
          arguments: 0...70)
    func bounded(count: Int) {
        let limit: Float = 1e6
        func scalar(_ x: [Float]) -> Bool { x.allSatisfy { $0 <= limit && $0 >= -limit } }
        func vector(_ x: [Float]) -> Bool { x.withUnsafeBufferPointer { $0.allBounded(by: limit) } }
        var generator = SeededGenerator(seed: UInt64(count) + 3)
        let inside = (0..<count).map { _ in (2 * generator.nextUnitFloat() - 1) * limit }
        #expect(vector(inside) && scalar(inside))
        // One value out of bounds, at every place: NaN, ±infinity, just beyond the limit;
        // the limit itself, -0 and the largest subnormal are inside.
        for position in 0..<count {
            for bad in [Float.nan, -Float.nan, .infinity, -.infinity, limit.nextUp, -limit.nextUp, .greatestFiniteMagnitude] {
                var x = inside
                x[position] = bad
                #expect(vector(x) == scalar(x) && !vector(x), "\(bad) at \(position) of \(count)")
            }
            for good in [limit, -limit, -0.0, Float.leastNormalMagnitude.nextDown] {
                var x = inside
                x[position] = good
                #expect(vector(x) && scalar(x), "\(good) at \(position) of \(count)")
            }
        }
        #expect(values(count, seed: 9).withUnsafeBufferPointer { $0.allBounded(by: .infinity) } == values(count, seed: 9).allSatisfy { !$0.isNaN })
    }
}
#endif
