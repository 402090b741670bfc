import Testing
import MoE
import TestSupport

@Suite("Matrix")
struct MatrixTests {
    /// A naive Double-precision product to check sgemm against.
    func reference(_ a: Matrix, _ b: Matrix, _ ta: Bool, _ tb: Bool) -> Matrix {
        let a2 = ta ? a.transposed : a, b2 = tb ? b.transposed : b
        var c = Matrix(rows: a2.rows, columns: b2.columns)
        for i in 0..<a2.rows {
            for j in 0..<b2.columns {
                var s = 0.0
                for k in 0..<a2.columns { s += Double(a2[i, k]) * Double(b2[k, j]) }
                c[i, j] = Float(s)
            }
        }
        return c
    }

    @Test("matmul agrees with a naive product in every transpose combination",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func products(ta: Bool, tb: Bool) {
        let a = randomMatrix(ta ? 13 : 7, ta ? 7 : 13, seed: 1)
        let b = randomMatrix(tb ? 5 : 13, tb ? 13 : 5, seed: 2)
        let c = Matrix.matmul(a, b, transposeA: ta, transposeB: tb)
        #expect(c.shape == [7, 5])
        #expect(maxRelativeDifference(c, reference(a, b, ta, tb)) < 1e-5)
    }

    @Test("addProduct accumulates with keep and scale")
    func accumulate() {
        let a = randomMatrix(4, 3, seed: 3), b = randomMatrix(3, 2, seed: 4)
        var c = randomMatrix(4, 2, seed: 5)
        let before = c
        c.addProduct(a, b, scale: 2, keep: 0.5)
        let expected = before * 0.5 + reference(a, b, false, false) * 2
        #expect(maxRelativeDifference(c, expected) < 1e-5)
    }

    @Test("gather, concatenate, transpose, argmax")
    func reshaping() {
        let m = Matrix([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
        #expect(m.gatherRows([2, 0]) == Matrix([[7, 8, 9], [1, 2, 3]]))
        #expect(m.gatherColumns([2, 0]) == Matrix([[3, 1], [6, 4], [9, 7]]))
        #expect(m.transposed == Matrix([[1, 4, 7], [2, 5, 8], [3, 6, 9]]))
        #expect(m.rows(1..<2) == Matrix([[4, 5, 6]]))
        #expect(Matrix([[1], [2]]).concatenatingColumns(Matrix([[3, 4], [5, 6]])) == Matrix([[1, 3, 4], [2, 5, 6]]))
        #expect(Matrix([[0, 5, 5], [9, 1, 2]]).argmaxRows() == [1, 0])
        #expect(m.columnSums() == Matrix([[12, 15, 18]]))
    }

    @Test("the seeded generator repeats bit for bit and continues from its state")
    func determinism() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        let x = (0..<100).map { _ in a.next() }
        let y = (0..<100).map { _ in b.next() }
        #expect(x == y)
        var c = SeededGenerator(state: a.state)
        #expect(a.next() == c.next())
        // Another seed gives another sequence.
        var d = SeededGenerator(seed: 43)
        #expect((0..<100).map { _ in d.next() } != x)
        let p = SeededGenerator(seed: 7)
        var p1 = p, p2 = p
        #expect(p1.permutation(50) == p2.permutation(50))
        #expect(Set(p1.permutation(50)) == Set(0..<50))
    }

    @Test("normal samples have roughly unit variance")
    func normal() {
        var g = SeededGenerator(seed: 9)
        let m = Matrix.normal(rows: 100, columns: 100, standardDeviation: 1, using: &g)
        let mean = m.sum() / 10_000
        let variance = m.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } / 10_000 - mean * mean
        #expect(abs(mean) < 0.05)
        #expect(abs(variance - 1) < 0.05)
    }
}

@Suite("BLAS")
struct BLASTests {
    @Test("the kernel is chosen from CPU features")
    func kernelChoice() {
        #expect(BLAS.chooseKernel(flags: Set(["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx2", "fma"])) == "SkylakeX")
        #expect(BLAS.chooseKernel(flags: Set(["avx2", "fma", "avx"])) == "Haswell")
        #expect(BLAS.chooseKernel(flags: Set(["sse3"])) == nil)
    }

    @Test("MOE_BLAS_KERNEL forces a kernel; a preset OPENBLAS_CORETYPE is kept unless it names an older one than the CPU runs")
    func kernelPrecedence() {
        func choice(_ forced: String?, _ preset: String?, _ detected: String?) -> String {
            let c = BLAS.kernelChoice(forced: forced, preset: preset, detected: detected)
            return "\(c.kernel ?? "-") \(c.source)"
        }
        #expect(choice("Haswell", "SkylakeX", "SkylakeX") == "Haswell MOE_BLAS_KERNEL")
        #expect(choice(nil, "Haswell", "SkylakeX") == "SkylakeX cpu-features over OPENBLAS_CORETYPE=Haswell")
        #expect(choice(nil, "SkylakeX", "Haswell") == "- environment")
        #expect(choice(nil, "Haswell", "Haswell") == "- environment")
        // A kernel this type does not rank (another architecture, a newer name) is the user's to keep.
        #expect(choice(nil, "Zen", "SkylakeX") == "- environment")
        #expect(choice(nil, "Haswell", nil) == "- environment")
        #expect(choice(nil, nil, "SkylakeX") == "SkylakeX cpu-features")
        #expect(choice(nil, nil, nil) == "- library-default")
    }

    @Test("OpenBLAS is loaded and reports a kernel")
    func loaded() {
        let info = BLAS.info
        #expect(info.library.contains("openblas"))
        #expect(!info.kernel.isEmpty && info.kernel != "unknown")
        #expect(info.kernel != "Prescott" || info.kernelSource != "cpu-features")
    }
}
