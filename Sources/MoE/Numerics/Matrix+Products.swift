/// Matrix products, all computed by `cblas_sgemm`.
extension Matrix {
    /// `op(a) * op(b)` where `op` optionally transposes.
    ///
    /// ```
    /// matmul(x, w)                      // x W
    /// matmul(x, dy, transposeA: true)   // xᵀ dy   (a weight gradient)
    /// matmul(dy, w, transposeB: true)   // dy Wᵀ   (an input gradient)
    /// ```
    public static func matmul(
        _ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false
    ) -> Matrix {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let kb = transposeB ? b.columns : b.rows
        let n = transposeB ? b.rows : b.columns
        precondition(k == kb, "Cannot multiply \(m)x\(k) by \(kb)x\(n)")
        if m == 0 || n == 0 || k == 0 { return Matrix(rows: m, columns: n) }
        // sgemm with beta = 0 writes every element of C: no zero fill first.
        let lda = max(a.columns, 1), ldb = max(b.columns, 1)
        return Matrix(rows: m, columns: n) { pc in
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    BLAS.sgemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                        alpha: 1, a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                        beta: 0, c: pc.baseAddress!, ldc: n)
                }
            }
        }
    }

    /// `self = keep * self + scale * op(a) * op(b)`, in place.
    public mutating func addProduct(
        _ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false,
        scale: Float = 1, keep: Float = 1
    ) {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let kb = transposeB ? b.columns : b.rows
        let n = transposeB ? b.rows : b.columns
        precondition(k == kb, "Cannot multiply \(m)x\(k) by \(kb)x\(n)")
        precondition(rows == m && columns == n, "Product is \(m)x\(n), target is \(rows)x\(columns)")
        if m == 0 || n == 0 { return }
        if k == 0 {
            // BLAS's rule: with beta = 0 the old elements are not read (not even a NaN).
            if keep == 0 {
                scalars.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            } else {
                self.scale(by: keep)
            }
            return
        }
        let lda = max(a.columns, 1), ldb = max(b.columns, 1), ldc = max(columns, 1)
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                scalars.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                        alpha: scale, a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                        beta: keep, c: pc.baseAddress!, ldc: ldc)
                }
            }
        }
    }
}
