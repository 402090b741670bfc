import CVectorMath

// The only file that imports CVectorMath.

/// Square roots that vectorise.
///
/// `Float.squareRoot()` reaches a C shim that Linux compiles with `errno` semantics, so
/// a loop that takes square roots stays scalar (one `sqrtss` and a branch per element,
/// eight for a `SIMD8`). These call the element-wise builtin instead: the same correctly
/// rounded IEEE 754 result, bit for bit, in one `sqrtps` per four lanes at the default
/// target.
enum VectorMath {
    /// `x.squareRoot()`, lane by lane.
    @inline(__always)
    static func squareRoot(_ x: SIMD8<Float>) -> SIMD8<Float> { moe_sqrtf8(x) }

    /// `x.squareRoot()`.
    @inline(__always)
    static func squareRoot(_ x: Float) -> Float { moe_sqrtf(x) }

    /// One Adam update of `count` parameters in the CPU's widest vectors (AVX-512, AVX2 or
    /// SSE, chosen at run time), the same bits whatever the width: see `Adam.kernel`.
    static func adamUpdate(
        count: Int, parameter: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        first: UnsafeMutablePointer<Float>, second: UnsafeMutablePointer<Float>,
        beta1: Float, beta2: Float, step: Float, inverseC2: Float, epsilon: Float
    ) {
        moe_adam_update(count, parameter, gradient, first, second, beta1, beta2, step, inverseC2, epsilon)
    }

    /// The vector width `adamUpdate` uses on this CPU, in bits: 512, 256 or 128.
    static var adamVectorBits: Int { Int(moe_adam_vector_bits()) }

    /// Whether every one of `count` values at `values` is finite with magnitude at most
    /// `limit` (NaN is not), in the CPU's widest vectors.
    static func allBounded(_ values: UnsafePointer<Float>, count: Int, limit: Float) -> Bool {
        precondition(limit >= 0, "A magnitude limit is not negative")
        return moe_largest_magnitude_bits(values, count) <= limit.bitPattern
    }
}

extension UnsafeBufferPointer<Float> {
    /// Whether every value is finite with magnitude at most `limit` (NaN is not): one
    /// integer maximum over the values' bits in the CPU's widest vectors.
    public func allBounded(by limit: Float) -> Bool {
        guard let base = baseAddress, count > 0 else { return true }
        return VectorMath.allBounded(base, count: count, limit: limit)
    }
}
