// Process-wide allocator settings for long-running compute: large temporary buffers (LM-head
// logits, attention partials) are reused from the heap instead of being mmap'd, page-faulted in
// and unmapped on every step.
#pragma once

namespace tsft {

void keep_large_allocations_in_heap();

}  // namespace tsft
