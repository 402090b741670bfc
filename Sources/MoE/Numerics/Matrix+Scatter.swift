extension Matrix {
    /// Adds `source` row `i` into row `rows[i]` (all rows in order when nil), into
    /// columns `0..<source.columns`: the scatter that puts an expert's rows back.
    mutating func addRows(_ source: Matrix, at rows: [Int]?) {
        let w = source.columns, width = columns
        precondition(w <= width, "Cannot add \(w) columns into \(width)")
        precondition(source.rows == (rows?.count ?? self.rows), "Scatter of \(source.rows) rows into \(rows?.count ?? self.rows)")
        if rows == nil && w == width {
            add(source)
            return
        }
        source.scalars.withUnsafeBufferPointer { s in
            scalars.withUnsafeMutableBufferPointer { t in
                for i in 0..<source.rows {
                    let target = (rows?[i] ?? i) * width
                    for c in 0..<w { t[target + c] += s[i * w + c] }
                }
            }
        }
    }

    /// Adds columns `sourceColumns` of `source` row `i` into row `rows[i]` (all rows
    /// when nil) at `targetColumns` (the same count; contiguous from 0 when nil).
    mutating func addColumns(of source: Matrix, _ sourceColumns: Range<Int>, at rows: [Int]?, into targetColumns: [Int]?) {
        let width = columns, sw = source.columns
        precondition(sourceColumns.upperBound <= sw, "Columns \(sourceColumns) outside 0..<\(sw)")
        precondition(targetColumns == nil || targetColumns!.count == sourceColumns.count, "Column counts differ")
        precondition(source.rows == (rows?.count ?? self.rows), "Scatter of \(source.rows) rows into \(rows?.count ?? self.rows)")
        source.scalars.withUnsafeBufferPointer { s in
            scalars.withUnsafeMutableBufferPointer { t in
                for i in 0..<source.rows {
                    let target = (rows?[i] ?? i) * width
                    for (j, c) in sourceColumns.enumerated() {
                        t[target + (targetColumns?[j] ?? j)] += s[i * sw + c]
                    }
                }
            }
        }
    }

    /// Row-wise dot products of the first `columns` columns of two matrices
    /// (`self` may be wider than `other`).
    func rowDots(_ other: Matrix) -> [Float] {
        precondition(rows == other.rows && other.columns <= columns, "Row dots of \(shape) and \(other.shape)")
        var result = [Float](repeating: 0, count: rows)
        let a = columns, b = other.columns
        scalars.withUnsafeBufferPointer { p in
            other.scalars.withUnsafeBufferPointer { q in
                for r in 0..<rows {
                    var total: Float = 0
                    for c in 0..<b { total += p[r * a + c] * q[r * b + c] }
                    result[r] = total
                }
            }
        }
        return result
    }
}
