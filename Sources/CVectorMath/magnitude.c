#include "vector_math.h"
#include <stdint.h>
#include <string.h>

// The largest of the bit patterns of |x[i]| (sign bit cleared): with the sign cleared a
// float's bits order as its magnitude does, and NaN's bits exceed infinity's, so one
// integer maximum answers "is every value finite and at most L" (largest <= bits of L).

#define MAGNITUDE_LOOP(T, lanes)                                                              \
    T largest = (T)0;                                                                       \
    size_t i = 0;                                                                           \
    for (; i + (lanes) <= count; i += (lanes)) {                                            \
        T v;                                                                                \
        memcpy(&v, x + i, sizeof(T));                                                       \
        v &= (T)0x7FFFFFFFu;                                                                \
        largest = v > largest ? v : largest;                                                \
    }                                                                                       \
    uint32_t top = 0;                                                                       \
    for (int lane = 0; lane < (lanes); lane++) top = largest[lane] > top ? largest[lane] : top; \
    for (; i < count; i++) {                                                                \
        uint32_t v;                                                                         \
        memcpy(&v, x + i, sizeof v);                                                        \
        v &= 0x7FFFFFFFu;                                                                   \
        top = v > top ? v : top;                                                            \
    }                                                                                       \
    return top;

typedef uint32_t u16x __attribute__((ext_vector_type(16)));
typedef uint32_t u8x __attribute__((ext_vector_type(8)));
typedef uint32_t u4x __attribute__((ext_vector_type(4)));

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static uint32_t magnitude512(const float *x, size_t count) { MAGNITUDE_LOOP(u16x, 16) }
__attribute__((target("avx2"))) static uint32_t magnitude256(const float *x, size_t count) { MAGNITUDE_LOOP(u8x, 8) }
#endif
static uint32_t magnitude128(const float *x, size_t count) { MAGNITUDE_LOOP(u4x, 4) }

uint32_t moe_largest_magnitude_bits(const float *x, size_t count) {
    int bits = moe_adam_vector_bits();
#if defined(__x86_64__)
    if (bits == 512) return magnitude512(x, count);
    if (bits == 256) return magnitude256(x, count);
#endif
    return magnitude128(x, count);
}
