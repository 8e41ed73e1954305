// DLN_NOINLINE keeps a chunk kernel a function of its own: inlined into the step, GCC 12 loses
// its __restrict and leaves some of it scalar (linear SGD ran 8 scalar lanes).
#pragma once

#if defined(__GNUC__)
#define DLN_NOINLINE __attribute__((noinline))
#else
#define DLN_NOINLINE
#endif
