#include "vector_math.h"

// No fused multiply-add: each lane must round as the scalar formula does.
#pragma clang fp contract(off)

typedef float f16 __attribute__((ext_vector_type(16)));
typedef float f8 __attribute__((ext_vector_type(8)));
typedef float f4 __attribute__((ext_vector_type(4)));

// The update of `lanes` elements at i, written once for every vector type.
#define ADAM_LANES(T, i)                                                                    \
    do {                                                                                    \
        T g, m, v, p;                                                                       \
        __builtin_memcpy(&g, gradient + (i), sizeof(T));                                    \
        __builtin_memcpy(&m, first + (i), sizeof(T));                                       \
        __builtin_memcpy(&v, second + (i), sizeof(T));                                      \
        __builtin_memcpy(&p, parameter + (i), sizeof(T));                                   \
        m = (T)beta1 * m + (T)(1 - beta1) * g;                                              \
        v = (T)beta2 * v + (T)(1 - beta2) * (g * g);                                        \
        m = (m < (T)tiny && m > -(T)tiny) ? (T)0 : m;                                       \
        v = (v < (T)tiny) ? (T)0 : v;                                                       \
        p = p - (T)step * m / (__builtin_elementwise_sqrt(v * (T)inverseC2) + (T)epsilon);  \
        __builtin_memcpy(first + (i), &m, sizeof(T));                                       \
        __builtin_memcpy(second + (i), &v, sizeof(T));                                      \
        __builtin_memcpy(parameter + (i), &p, sizeof(T));                                   \
    } while (0)

#define ADAM_ARGUMENTS                                                                        \
    size_t count, float *parameter, const float *gradient, float *first, float *second,      \
    float beta1, float beta2, float step, float inverseC2, float epsilon

static const float tiny = 1.17549435e-38f;  // FLT_MIN, the smallest normal float

// The elements 0..<end (a multiple of 8), `width` at a time, then by 8.
#define ADAM_BODY(T, width)                                                                  \
    size_t end = count & ~(size_t)7, i = 0;                                                  \
    for (; i + (width) <= end; i += (width)) ADAM_LANES(T, i);                               \
    for (; i < end; i += 8) ADAM_LANES(f8, i);

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static void adam512(ADAM_ARGUMENTS) { ADAM_BODY(f16, 16) }
__attribute__((target("avx2"))) static void adam256(ADAM_ARGUMENTS) { ADAM_BODY(f8, 8) }
#endif
static void adam128(ADAM_ARGUMENTS) { ADAM_BODY(f8, 8) }

static int vector_bits(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 512;
    if (__builtin_cpu_supports("avx2")) return 256;
#endif
    return 128;
}

int moe_adam_vector_bits(void) { return vector_bits(); }

void moe_adam_update(ADAM_ARGUMENTS) {
    int bits = vector_bits();
#if defined(__x86_64__)
    if (bits == 512) adam512(count, parameter, gradient, first, second, beta1, beta2, step, inverseC2, epsilon);
    else if (bits == 256) adam256(count, parameter, gradient, first, second, beta1, beta2, step, inverseC2, epsilon);
    else
#endif
        adam128(count, parameter, gradient, first, second, beta1, beta2, step, inverseC2, epsilon);
    // The scalar tail, in the scalar form.
    for (size_t i = count & ~(size_t)7; i < count; i++) {
        float g = gradient[i];
        float m = beta1 * first[i] + (1 - beta1) * g;
        float v = beta2 * second[i] + (1 - beta2) * g * g;
        first[i] = (m < tiny && m > -tiny) ? 0 : m;
        second[i] = v < tiny ? 0 : v;
        parameter[i] -= step * first[i] / (__builtin_elementwise_sqrt(second[i] * inverseC2) + epsilon);
    }
}
