#include "core/malloc_tuning.h"

#include <malloc.h>

namespace tsft {

void keep_large_allocations_in_heap() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 512 << 20);  // blocks below 512 MiB come from the heap
  mallopt(M_TRIM_THRESHOLD, 1 << 30);    // and freed memory stays there for the next step
#endif
}

}  // namespace tsft
