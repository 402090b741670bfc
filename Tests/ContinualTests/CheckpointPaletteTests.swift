import Continual
import Foundation
import MoE
import Testing
import TestSupport

@Suite("Checkpoint palette coding")
struct CheckpointPaletteTests {
    /// Rows of `rows x 784` pixels in [0, 1] (k / 255 for k < 255), with a -0.0 and a
    /// 0.0 in them: 256 distinct bit patterns, a full palette.
    static func pixels(rows: Int, seed: UInt64) -> Matrix {
        var generator = SeededGenerator(seed: seed)
        var m = Matrix(rows: rows, columns: 784)
        for i in 0..<m.count { m.scalars[i] = Float(generator.nextInt(below: 255)) / 255 }
        m.scalars[0] = -0.0
        m.scalars[1] = 0.0
        return m
    }

    static func checkpoint(_ datasets: [String: CheckpointArray]) -> Checkpoint {
        var c = CheckpointFixtures.fullCheckpoint()
        c.sections["rows"] = CheckpointSection(datasets: datasets)
        return c
    }

    @Test("Few distinct values are stored as indices and a palette, smaller, and read back bit for bit")
    func roundTrip() throws {
        let rows = Self.pixels(rows: 300, seed: 3)
        var generator = SeededGenerator(seed: 4)
        let weights = Matrix.normal(rows: 300, columns: 784, standardDeviation: 1, using: &generator)
        let checkpoint = Self.checkpoint(["pixels": .float32(rows), "weights": .float32(weights)])
        let bytes = try checkpoint.encoded(name: "palette.h5")
        let decoded = try Checkpoint.decode(bytes, name: "palette.h5")
        guard case let .float32(back) = decoded.sections["rows"]?.datasets["pixels"] else {
            Issue.record("pixels did not come back as float32")
            return
        }
        #expect(back.shape == rows.shape)
        #expect(back.scalars.map(\.bitPattern) == rows.scalars.map(\.bitPattern))
        #expect(back.scalars[0].sign == .minus && back.scalars[1].sign == .plus)
        #expect(decoded.sections["rows"]?.datasets["pixels.palette"] == nil)
        #expect(decoded.sections["rows"]?.datasets["weights"] == .float32(weights))
        // Coded, the (incompressible, uniformly drawn) pixels take about a byte each, not
        // the 700 KB their float32 values take deflated.
        let plain = try Self.checkpoint(["weights": .float32(weights)]).encoded(name: "plain.h5")
        #expect(bytes.count - plain.count < 300_000, "\(bytes.count - plain.count) bytes for the coded pixels")
    }

    @Test("h5py reads a palette-coded dataset as the format document says",
          .enabled(if: CheckpointFixtures.python != nil, CheckpointFixtures.needsPython))
    func h5pyReads() throws {
        let python = try #require(CheckpointFixtures.python)
        let rows = Self.pixels(rows: 100, seed: 5)
        try withTemporaryDirectory { directory in
            let path = directory.path("palette.h5")
            try Self.checkpoint(["pixels": .float32(rows)]).save(to: path)
            let script = """
            import h5py, sys, numpy as np
            g = h5py.File(sys.argv[1], "r")["sections/rows"]
            x = g["pixels.palette"][0][g["pixels"][()]]
            assert g["pixels"].dtype == np.int64 and x.dtype == np.float32 and x.shape == (100, 784)
            print(float(x.sum()))
            """
            let result = CheckpointFixtures.runProgram(python, ["-c", script, path])
            #expect(result.status == 0, "h5py: \(result.error)")
            let sum = Double(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? .nan
            let expected = rows.scalars.reduce(0.0) { $0 + Double($1) }
            #expect(abs(sum - expected) < 1e-3 * expected, "h5py summed \(sum), expected \(expected)")
        }
    }

    @Test("An index outside its palette, or a palette without indices, is refused naming the dataset")
    func corrupt() throws {
        let palette = CheckpointArray.float32(Matrix([[0, 0.5, 1]]))
        let outside = Self.checkpoint(["pixels": .int64([0, 1, 2, 3], shape: [2, 2]), "pixels.palette": palette])
        let error = try #require(throws: CheckpointError.self) {
            try Checkpoint.decode(try outside.encoded(name: "bad.h5"), name: "bad.h5", parsing: .inProcess)
        }
        #expect(error.description.contains("/sections/rows/pixels"), "\(error)")
        #expect(error.description.contains("index 3"), "\(error)")
        #expect(error.description.contains("bad.h5"), "\(error)")
        let lonely = Self.checkpoint(["pixels.palette": palette])
        let missing = try #require(throws: CheckpointError.self) {
            try Checkpoint.decode(try lonely.encoded(name: "lonely.h5"), name: "lonely.h5", parsing: .inProcess)
        }
        #expect(missing.description.contains("pixels.palette"), "\(missing)")
        #expect(missing.description.contains("indices"), "\(missing)")
    }
}
