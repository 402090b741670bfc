import MoE
print(BLAS.info)
