/// Elementwise operations, written as tight loops over the storage.
extension Matrix {
    /// Applies `body` to every element in place.
    @inlinable
    public mutating func apply(_ body: (Float) -> Float) {
        scalars.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = body(p[i]) }
        }
    }

    /// A new matrix with `body` applied to every element.
    @inlinable
    public func map(_ body: (Float) -> Float) -> Matrix {
        var result = self
        result.apply(body)
        return result
    }

    /// Combines two matrices of the same shape element by element.
    @inlinable
    public func zip(_ other: Matrix, _ body: (Float, Float) -> Float) -> Matrix {
        precondition(rows == other.rows && columns == other.columns,
                     "Shapes differ: \(rows)x\(columns) and \(other.rows)x\(other.columns)")
        var result = self
        result.scalars.withUnsafeMutableBufferPointer { r in
            other.scalars.withUnsafeBufferPointer { o in
                for i in r.indices { r[i] = body(r[i], o[i]) }
            }
        }
        return result
    }

    /// `self *= factor`.
    public mutating func scale(by factor: Float) {
        scalars.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] *= factor }
        }
    }

    /// `self += factor * other` (same shape).
    public mutating func add(_ other: Matrix, scaledBy factor: Float = 1) {
        precondition(rows == other.rows && columns == other.columns,
                     "Shapes differ: \(rows)x\(columns) and \(other.rows)x\(other.columns)")
        scalars.withUnsafeMutableBufferPointer { p in
            other.scalars.withUnsafeBufferPointer { o in
                for i in p.indices { p[i] += factor * o[i] }
            }
        }
    }

    /// Adds the `1 x columns` row vector to every row.
    public mutating func addRowVector(_ vector: Matrix) {
        precondition(vector.rows == 1 && vector.columns == columns,
                     "Row vector is \(vector.rows)x\(vector.columns), matrix has \(columns) columns")
        let width = columns, height = rows
        scalars.withUnsafeMutableBufferPointer { p in
            vector.scalars.withUnsafeBufferPointer { v in
                for r in 0..<height {
                    let base = r * width
                    for c in 0..<width { p[base + c] += v[c] }
                }
            }
        }
    }

    /// Multiplies every row, elementwise, by the `1 x columns` row vector.
    public mutating func multiplyRows(by vector: Matrix) {
        precondition(vector.rows == 1 && vector.columns == columns,
                     "Row vector is \(vector.rows)x\(vector.columns), matrix has \(columns) columns")
        let width = columns, height = rows
        scalars.withUnsafeMutableBufferPointer { p in
            vector.scalars.withUnsafeBufferPointer { v in
                for r in 0..<height {
                    let base = r * width
                    for c in 0..<width { p[base + c] *= v[c] }
                }
            }
        }
    }

    /// Multiplies each row `r` by `factors[r]`.
    public mutating func scaleRows(by factors: [Float]) {
        precondition(factors.count == rows, "Need \(rows) row factors, got \(factors.count)")
        let width = columns, height = rows
        scalars.withUnsafeMutableBufferPointer { p in
            for r in 0..<height {
                let f = factors[r]
                let base = r * width
                for c in 0..<width { p[base + c] *= f }
            }
        }
    }

    /// The `1 x columns` sums of each column.
    public func columnSums() -> Matrix {
        var result = Matrix(rows: 1, columns: columns)
        columnSums(into: &result)
        return result
    }

    /// The `1 x columns` sums of each column into `sums` (storage reused when its size
    /// fits), added row after row from row 0.
    public func columnSums(into sums: inout Matrix) {
        sums.reshape(rows: 1, columns: columns)
        let width = columns
        scalars.withUnsafeBufferPointer { p in
            sums.scalars.withUnsafeMutableBufferPointer { s in
                s.update(repeating: 0)
                if rows > 0 && width > 0 { Kernels.addRows(p.baseAddress!, rows: rows, width: width, into: s.baseAddress!) }
            }
        }
    }

    /// Sum of all elements (accumulated in Double).
    public func sum() -> Double {
        scalars.withUnsafeBufferPointer { p in
            var total = 0.0
            for v in p { total += Double(v) }
            return total
        }
    }

    public static func + (lhs: Matrix, rhs: Matrix) -> Matrix { lhs.zip(rhs, +) }
    public static func - (lhs: Matrix, rhs: Matrix) -> Matrix { lhs.zip(rhs, -) }
    /// Elementwise (Hadamard) product.
    public static func * (lhs: Matrix, rhs: Matrix) -> Matrix { lhs.zip(rhs, *) }
    public static func * (lhs: Matrix, rhs: Float) -> Matrix { lhs.map { $0 * rhs } }
    public static func * (lhs: Float, rhs: Matrix) -> Matrix { rhs.map { $0 * lhs } }
    public static func += (lhs: inout Matrix, rhs: Matrix) { lhs.add(rhs) }
    public static func -= (lhs: inout Matrix, rhs: Matrix) { lhs.add(rhs, scaledBy: -1) }
}
