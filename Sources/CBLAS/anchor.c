#include "cblas_abi.h"
// A C target needs one source file; the ABI is all in the header.
void moe_cblas_abi_anchor(void) {}
