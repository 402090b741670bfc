#ifndef MOE_VECTOR_MATH_H
#define MOE_VECTOR_MATH_H
#include <stddef.h>
#include <stdint.h>

// Square roots that compile to the CPU's square-root instruction, one lane or eight.
//
// Swift's Float.squareRoot() goes through a C shim that Linux compiles with errno
// semantics (a sqrtss, then a call to sqrtf for negative inputs), which stops the
// loop vectoriser: a loop over Adam's moments stays scalar. The element-wise builtin
// has no errno and gives the same correctly rounded result (IEEE 754 square root).
// Clang's ext_vector_type(8) imports into Swift as SIMD8<Float>.

typedef float moe_float8 __attribute__((ext_vector_type(8)));

static inline __attribute__((always_inline)) float moe_sqrtf(float x) {
    return __builtin_elementwise_sqrt(x);
}

static inline __attribute__((always_inline)) moe_float8 moe_sqrtf8(moe_float8 x) {
    return __builtin_elementwise_sqrt(x);
}

// One Adam update of `count` parameters (see Sources/MoE/Training/Adam.swift):
//
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) (g g)      (moments below 2^-126 become 0)
//   p = p - step m / (sqrt(v inverseC2) + epsilon)
//
// in the widest vectors the CPU has (AVX-512, AVX2, else SSE), chosen at run time: the
// square root and the division share one unit, which bounds the loop. Every lane does
// the same IEEE operations in the same order, without fused multiply-adds, so the result
// is the same bits whatever the width. Elements past the last multiple of 8 use the
// scalar form m = b1 m + (1 - b1) g, v = b2 v + ((1 - b2) g) g, as the Swift kernel did.
void moe_adam_update(size_t count, float *parameter, const float *gradient, float *first, float *second,
                     float beta1, float beta2, float step, float inverseC2, float epsilon);

// Which kernel moe_adam_update uses: 512, 256 or 128 (bits).
int moe_adam_vector_bits(void);

// The largest bit pattern of |x[i]| over `count` floats (sign bit cleared; 0 when empty),
// in the same widest vectors: every value is finite with magnitude at most L exactly when
// the result is at most the bits of L (NaN's bits exceed infinity's).
uint32_t moe_largest_magnitude_bits(const float *x, size_t count);

#endif
