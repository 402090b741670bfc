#ifndef MOE_CBLAS_ABI_H
#define MOE_CBLAS_ABI_H
#include <stddef.h>
// The CBLAS calling convention (the standard's enum values and function types).
// OpenBLAS itself is opened at run time by Sources/MoE/Numerics/BLAS.swift, after the
// kernel has been chosen from the CPU's features: OpenBLAS reads OPENBLAS_CORETYPE
// only when it loads, so linking it at build time would make that choice too late.

enum { MOE_CblasRowMajor = 101, MOE_CblasColMajor = 102 };
enum { MOE_CblasNoTrans = 111, MOE_CblasTrans = 112 };
enum { MOE_CblasUpper = 121, MOE_CblasLower = 122 };
enum { MOE_CblasLeft = 141, MOE_CblasRight = 142 };
enum { MOE_CblasNonUnit = 131, MOE_CblasUnit = 132 };

typedef void (*moe_cblas_sgemm_fn)(int order, int transA, int transB,
                                   int m, int n, int k, float alpha,
                                   const float *a, int lda, const float *b, int ldb,
                                   float beta, float *c, int ldc);
typedef void (*moe_cblas_sgemv_fn)(int order, int trans, int m, int n, float alpha,
                                   const float *a, int lda, const float *x, int incx,
                                   float beta, float *y, int incy);
typedef void (*moe_cblas_saxpy_fn)(int n, float alpha, const float *x, int incx,
                                   float *y, int incy);
typedef void (*moe_cblas_ssyrk_fn)(int order, int uplo, int trans, int n, int k,
                                   float alpha, const float *a, int lda,
                                   float beta, float *c, int ldc);
typedef void (*moe_cblas_dsyrk_fn)(int order, int uplo, int trans, int n, int k,
                                   double alpha, const double *a, int lda,
                                   double beta, double *c, int ldc);
typedef void (*moe_cblas_strsm_fn)(int order, int side, int uplo, int transA, int diag,
                                   int m, int n, float alpha, const float *a, int lda,
                                   float *b, int ldb);
typedef void (*moe_cblas_dsymm_fn)(int order, int side, int uplo, int m, int n,
                                   double alpha, const double *a, int lda,
                                   const double *b, int ldb, double beta, double *c, int ldc);
// LAPACK (Fortran calling convention, column-major; OpenBLAS ships it). The trailing
// size_t is the hidden length of the character argument that gfortran passes.
typedef void (*moe_lapack_dpotrf_fn)(const char *uplo, const int *n, double *a,
                                     const int *lda, int *info, size_t uplo_length);
typedef void (*moe_lapack_dpotrs_fn)(const char *uplo, const int *n, const int *nrhs,
                                     const double *a, const int *lda, double *b,
                                     const int *ldb, int *info, size_t uplo_length);
typedef void (*moe_lapack_spotrf_fn)(const char *uplo, const int *n, float *a,
                                     const int *lda, int *info, size_t uplo_length);
typedef void (*moe_lapack_spotrs_fn)(const char *uplo, const int *n, const int *nrhs,
                                     const float *a, const int *lda, float *b,
                                     const int *ldb, int *info, size_t uplo_length);
typedef char *(*moe_openblas_get_corename_fn)(void);
typedef void (*moe_openblas_set_num_threads_fn)(int n);
typedef int (*moe_openblas_get_num_threads_fn)(void);

#endif
