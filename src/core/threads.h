// Threading: one process-wide thread count, used by our OpenMP loops and by the BLAS library.
#pragma once

#include <cstdint>

namespace tsft {

// Sets the number of worker threads (0 = all hardware threads) for OpenMP and OpenBLAS.
void set_num_threads(int n);
int num_threads();
// The calling thread's index in the current parallel region (0 outside one).
int thread_index();

}  // namespace tsft
