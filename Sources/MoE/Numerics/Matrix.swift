/// A dense row-major matrix of `Float`, with value semantics.
///
/// Rows are samples and columns are features throughout the framework, so a batch of
/// `n` inputs of width `d` is an `n x d` matrix and a dense layer computes `x W + b`.
/// Storage is a Swift array, so copies are cheap until one side is mutated.
public struct Matrix: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// Number of rows.
    public private(set) var rows: Int
    /// Number of columns.
    public private(set) var columns: Int
    /// The elements, row after row (`rows * columns` of them: change values, never the
    /// count). A plain stored property on purpose: with a `didSet` observer checking the
    /// count, every `m.scalars[i] = v` or `withUnsafeMutableBufferPointer` from another
    /// module went through get and set, and so copied the whole array (measured: the
    /// replay buffer copied its 1.5 MB on nearly every row it replaced).
    public var scalars: [Float]

    /// A matrix filled with one value.
    public init(rows: Int, columns: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && columns >= 0, "Matrix dimensions must be non-negative")
        self.rows = rows
        self.columns = columns
        self.scalars = Array(repeating: value, count: rows * columns)
    }

    /// A matrix over existing row-major elements.
    public init(rows: Int, columns: Int, scalars: [Float]) {
        precondition(rows >= 0 && columns >= 0, "Matrix dimensions must be non-negative")
        precondition(scalars.count == rows * columns,
                     "Matrix of \(rows)x\(columns) needs \(rows * columns) elements, got \(scalars.count)")
        self.rows = rows
        self.columns = columns
        self.scalars = scalars
    }

    /// A matrix whose elements `initializer` writes, every one of them, through a
    /// pointer to uninitialised storage: no zero fill before a product overwrites it.
    init(rows: Int, columns: Int, initializingWith initializer: (UnsafeMutableBufferPointer<Float>) -> Void) {
        precondition(rows >= 0 && columns >= 0, "Matrix dimensions must be non-negative")
        self.rows = rows
        self.columns = columns
        let count = rows * columns
        self.scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            initializer(buffer)
            initialized = count
        }
    }

    /// Gives the matrix the shape `rows x columns`, keeping its storage when the element
    /// count is unchanged: the elements are then stale, and the caller overwrites them.
    /// Buffers reused from step to step this way cost no allocation (and no page faults).
    mutating func reshape(rows: Int, columns: Int) {
        precondition(rows >= 0 && columns >= 0, "Matrix dimensions must be non-negative")
        if rows * columns == count {
            self.rows = rows
            self.columns = columns
            return
        }
        self = Matrix(rows: rows, columns: columns) { buffer in
            buffer.initialize(repeating: 0)
        }
    }

    /// A matrix from nested rows (convenient in tests and examples).
    public init(_ nested: [[Float]]) {
        let columns = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == columns }, "All rows must have the same length")
        self.init(rows: nested.count, columns: columns, scalars: nested.flatMap { $0 })
    }

    /// A `1 x n` row vector.
    public init(row: [Float]) {
        self.init(rows: 1, columns: row.count, scalars: row)
    }

    /// `rows * columns`.
    @inlinable public var count: Int { rows * columns }

    /// The shape as `[rows, columns]`.
    public var shape: [Int] { [rows, columns] }

    /// Element access.
    @inlinable
    public subscript(row: Int, column: Int) -> Float {
        get {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "Matrix index out of range")
            return scalars[row * columns + column]
        }
        set {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "Matrix index out of range")
            scalars[row * columns + column] = newValue
        }
    }

    /// One row as an array.
    public func row(_ index: Int) -> [Float] {
        precondition(index >= 0 && index < rows, "Row \(index) out of range 0..<\(rows)")
        return Array(scalars[index * columns ..< (index + 1) * columns])
    }

    /// The rows at `indices`, in that order, as a new matrix.
    public func gatherRows<C: Collection>(_ indices: C) -> Matrix where C.Element == Int {
        var result = Matrix(rows: indices.count, columns: columns)
        let width = columns
        scalars.withUnsafeBufferPointer { source in
            result.scalars.withUnsafeMutableBufferPointer { target in
                for (out, index) in indices.enumerated() {
                    precondition(index >= 0 && index < rows, "Row \(index) out of range 0..<\(rows)")
                    let from = source.baseAddress! + index * width
                    (target.baseAddress! + out * width).update(from: from, count: width)
                }
            }
        }
        return result
    }

    /// Rows `range` as a new matrix.
    public func rows(_ range: Range<Int>) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "Row range \(range) out of 0..<\(rows)")
        return Matrix(rows: range.count, columns: columns,
                      scalars: Array(scalars[range.lowerBound * columns ..< range.upperBound * columns]))
    }

    /// The columns at `indices`, in that order, as a new matrix.
    public func gatherColumns(_ indices: [Int]) -> Matrix {
        var result = Matrix(rows: rows, columns: indices.count)
        for index in indices { precondition(index >= 0 && index < columns, "Column \(index) out of range 0..<\(columns)") }
        let width = columns, outWidth = indices.count
        scalars.withUnsafeBufferPointer { source in
            result.scalars.withUnsafeMutableBufferPointer { target in
                for r in 0..<rows {
                    for (j, index) in indices.enumerated() {
                        target[r * outWidth + j] = source[r * width + index]
                    }
                }
            }
        }
        return result
    }

    /// Side by side: `[self | other]` (same number of rows).
    public func concatenatingColumns(_ other: Matrix) -> Matrix {
        precondition(rows == other.rows, "Cannot join \(rows) rows with \(other.rows) rows")
        var result = Matrix(rows: rows, columns: columns + other.columns)
        let a = columns, b = other.columns, w = a + b
        scalars.withUnsafeBufferPointer { left in
            other.scalars.withUnsafeBufferPointer { right in
                result.scalars.withUnsafeMutableBufferPointer { target in
                    for r in 0..<rows {
                        if a > 0 { (target.baseAddress! + r * w).update(from: left.baseAddress! + r * a, count: a) }
                        if b > 0 { (target.baseAddress! + r * w + a).update(from: right.baseAddress! + r * b, count: b) }
                    }
                }
            }
        }
        return result
    }

    /// Stacked: `[self; other]` (same number of columns).
    public func concatenatingRows(_ other: Matrix) -> Matrix {
        precondition(columns == other.columns || count == 0 || other.count == 0,
                     "Cannot stack \(columns) columns on \(other.columns) columns")
        if count == 0 && rows == 0 { return other }
        if other.rows == 0 { return self }
        return Matrix(rows: rows + other.rows, columns: columns, scalars: scalars + other.scalars)
    }

    /// The transpose.
    public var transposed: Matrix {
        var result = Matrix(rows: columns, columns: rows)
        let r0 = rows, c0 = columns
        scalars.withUnsafeBufferPointer { source in
            result.scalars.withUnsafeMutableBufferPointer { target in
                for r in 0..<r0 { for c in 0..<c0 { target[c * r0 + r] = source[r * c0 + c] } }
            }
        }
        return result
    }

    /// Index of the largest element of each row (ties: the first).
    public func argmaxRows() -> [Int] {
        var result = [Int](repeating: 0, count: rows)
        let width = columns
        guard width > 0 else { return result }
        scalars.withUnsafeBufferPointer { p in
            for r in 0..<rows {
                var best = 0
                var bestValue = p[r * width]
                for c in 1..<width where p[r * width + c] > bestValue {
                    best = c
                    bestValue = p[r * width + c]
                }
                result[r] = best
            }
        }
        return result
    }

    /// True when every element is finite.
    public var isFinite: Bool {
        scalars.withUnsafeBufferPointer { p in
            var ok = true
            for v in p where !v.isFinite { ok = false; break }
            return ok
        }
    }

    public var description: String {
        "Matrix(\(rows)x\(columns))"
    }
}
