// SwiGLU forward and backward, elementwise with accurate expf (not __expf).
#include "backend/cuda/common.cuh"
#include "backend/cuda/swiglu.h"
#include "core/error.h"

namespace tsft::cuda {
namespace {

__global__ void swiglu_forward_kernel(float* out, const float* gate, const float* up, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float g = gate[i], u = up[i];
    out[i] = g / (1.0f + expf(-g)) * u;
  }
}

// d/dg [g sigma(g) u] = u sigma(g) (1 + g (1 - sigma(g))); d/du = g sigma(g).
__global__ void swiglu_backward_kernel(float* dgate, float* dup, const float* dout,
                                       const float* gate, const float* up, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float g = gate[i], u = up[i], dy = dout[i];
    const float sg = 1.0f / (1.0f + expf(-g));
    const float du = dy * g * sg;
    const float dg = dy * u * sg * (1.0f + g * (1.0f - sg));
    dup[i] = du;
    dgate[i] = dg;
  }
}

}  // namespace

void swiglu_forward(float* out, const float* gate, const float* up, int64_t n, const Context& ctx) {
  TSFT_CHECK(n >= 0, "swiglu_forward n=", n);
  if (n == 0) return;
  swiglu_forward_kernel<<<grid_for(n, 256), 256, 0, ctx.stream()>>>(out, gate, up, n);
  check_launch("swiglu_forward");
}

void swiglu_backward(float* dgate, float* dup, const float* dout, const float* gate,
                     const float* up, int64_t n, const Context& ctx) {
  TSFT_CHECK(n >= 0, "swiglu_backward n=", n);
  if (n == 0) return;
  swiglu_backward_kernel<<<grid_for(n, 256), 256, 0, ctx.stream()>>>(dgate, dup, dout, gate, up,
                                                                     n);
  check_launch("swiglu_backward");
}

}  // namespace tsft::cuda
