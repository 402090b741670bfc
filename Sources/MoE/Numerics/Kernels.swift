/// Elementwise loops written with explicit SIMD, for the ones the compiler leaves scalar
/// at the default target (a conditional select; a sum into another buffer it cannot
/// prove distinct). Each gives the same bits as the scalar loop it replaces: the same
/// operations on each element, in the same order.
enum Kernels {
    typealias V = SIMD8<Float>

    /// `out[i] = max(0, x[i])` (`x >= 0 ? x : 0`, as Swift's `max(0, x)`: NaN gives 0,
    /// -0 stays -0). `out` may be `x`.
    @inline(__always)
    static func relu(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
        let zero = V(repeating: 0)
        var i = 0
        while i + V.scalarCount <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: v.replacing(with: zero, where: .!(v .>= zero)), as: V.self)
            i += V.scalarCount
        }
        while i < count {
            out[i] = max(0, x[i])
            i += 1
        }
    }

    /// `g[i] = y[i] > 0 ? g[i] : 0`: the gradient through a ReLU whose output was `y`.
    @inline(__always)
    static func reluBackward(_ g: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>, count: Int) {
        let zero = V(repeating: 0)
        var i = 0
        while i + V.scalarCount <= count {
            let gv = UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
            let yv = UnsafeRawPointer(y + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(g + i).storeBytes(of: gv.replacing(with: zero, where: .!(yv .> zero)), as: V.self)
            i += V.scalarCount
        }
        while i < count {
            g[i] = y[i] > 0 ? g[i] : 0
            i += 1
        }
    }

    /// `sums[c] += p[r * width + c]` for every row `r` in order, then every column `c`:
    /// each column summed from row 0 down, as the scalar loop does.
    @inline(__always)
    static func addRows(_ p: UnsafePointer<Float>, rows: Int, width: Int, into sums: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = p + r * width
            var c = 0
            while c + V.scalarCount <= width {
                let s = UnsafeRawPointer(sums + c).loadUnaligned(as: V.self)
                let v = UnsafeRawPointer(row + c).loadUnaligned(as: V.self)
                UnsafeMutableRawPointer(sums + c).storeBytes(of: s + v, as: V.self)
                c += V.scalarCount
            }
            while c < width {
                sums[c] += row[c]
                c += 1
            }
        }
    }
}
