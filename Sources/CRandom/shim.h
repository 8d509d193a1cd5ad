#ifndef CRANDOM_SHIM_H
#define CRANDOM_SHIM_H
// Linux's getrandom(2), which Glibc's Swift module does not carry: RandomBytes fetches the
// random bytes of many ids in one call.
#ifdef __linux__
#include <sys/random.h>
#endif
#endif
