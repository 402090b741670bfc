import MoE

/// Lossless palette coding of float32 datasets that hold few distinct values (pixels of
/// 256 grey levels in any unit, one-hot or categorical columns): the dataset `name`
/// holds int64 indices into the float32 row `name.palette` (`1 x k`, k ≤ 256, distinct
/// bit patterns in ascending order of the patterns). Shuffled and deflated, the indices
/// take about a byte per value where the float32 values took two: the replay buffer and
/// the held-out rows of a Fashion-MNIST learner shrink to a third. Values are compared
/// as bit patterns, so -0.0 and 0.0 stay apart and decoding gives back every bit.
///
/// h5py reads such a dataset as `f[name + ".palette"][0][f[name][()]]`; the checkpoint
/// reader decodes it before anyone sees the section, and refuses indices outside the
/// palette with the dataset's path.
enum CheckpointPalette {
    /// Suffix of the palette dataset beside the indices.
    static let suffix = ".palette"
    /// Most distinct values a palette holds.
    static let capacity = 256
    /// Datasets smaller than this are stored as they are.
    static let minimumBytes = 64 << 10

    /// The indices and palette of `m`, or nil when it is small or has too many values.
    static func encode(_ m: Matrix) -> (indices: [Int64], palette: Matrix)? {
        guard m.count * 4 >= minimumBytes else { return nil }
        var seen = Set<UInt32>()
        for value in m.scalars {
            seen.insert(value.bitPattern)
            if seen.count > capacity { return nil }
        }
        let patterns = seen.sorted()
        var index = [UInt32: Int64](minimumCapacity: patterns.count)
        for (i, pattern) in patterns.enumerated() { index[pattern] = Int64(i) }
        let indices = m.scalars.map { index[$0.bitPattern]! }
        let palette = Matrix(rows: 1, columns: patterns.count, scalars: patterns.map { Float(bitPattern: $0) })
        return (indices, palette)
    }

    /// The float32 matrix of `shape` that `indices` pick from `palette`.
    static func decode(indices: [Int64], shape: [Int], palette: Matrix, path: String, file: String?)
        throws(CheckpointError) -> Matrix
    {
        guard palette.rows == 1, palette.columns >= 1, palette.columns <= capacity else {
            throw .invalidValue(path: path + suffix, reason: "a palette is one row of 1 to \(capacity) values, got \(palette.rows) x \(palette.columns)", file: file)
        }
        guard shape.count == 2 || shape.count == 1 else {
            throw .invalidValue(path: path, reason: "palette indices are 1-D or 2-D, got shape \(shape)", file: file)
        }
        let k = Int64(palette.columns)
        if let bad = indices.firstIndex(where: { $0 < 0 || $0 >= k }) {
            throw .invalidValue(path: path, reason: "index \(indices[bad]) at position \(bad) is outside its palette of \(k) values", file: file)
        }
        let values = palette.scalars
        let (rows, columns) = shape.count == 2 ? (shape[0], shape[1]) : (1, shape[0])
        guard rows >= 0, columns >= 0, rows.multipliedReportingOverflow(by: columns) == (indices.count, false) else {
            throw .invalidValue(path: path, reason: "\(indices.count) indices do not fill shape \(shape)", file: file)
        }
        return Matrix(rows: rows, columns: columns, scalars: indices.map { values[Int($0)] })
    }
}
