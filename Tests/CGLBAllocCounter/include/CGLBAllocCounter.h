#ifndef CGLB_ALLOC_COUNTER_H
#define CGLB_ALLOC_COUNTER_H
#include <stdint.h>

/// Heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc) made by the calling
/// thread since it started. Test-only: this target defines those functions so that, linked into
/// the test executable, it interposes on every caller in the process (the Swift runtime included)
/// and forwards to glibc's implementations. Per thread, because Swift Testing runs tests in parallel.
uint64_t cglb_thread_allocations(void);

#endif
