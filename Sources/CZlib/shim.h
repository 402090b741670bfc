#ifndef MOE_CZLIB_SHIM_H
#define MOE_CZLIB_SHIM_H
#include <zlib.h>
#endif
