#pragma once
// The scalar type of every tensor. The library is float32; the test suite compiles the same
// sources a second time with ST_REAL=double (target st_core_f64) so that finite-difference
// gradient checks run in double precision against exactly the code that ships.
#ifndef ST_REAL
#define ST_REAL float
#endif

namespace st {
using real = ST_REAL;
}  // namespace st
