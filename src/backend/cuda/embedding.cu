// Embedding lookup and its deterministic scatter-add backward.
#include "backend/cuda/common.cuh"
#include "backend/cuda/embedding.h"
#include "core/error.h"

namespace tsft::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kIdTile = 1024;  // ids staged in shared memory per step of the scans

// One block per token (grid-stride over tokens), threads over columns.
__global__ void embedding_forward_kernel(float* out, const int32_t* ids, const float* table,
                                         int64_t T, int64_t C) {
  for (int64_t t = blockIdx.x; t < T; t += gridDim.x) {
    const float* row = table + static_cast<int64_t>(ids[t]) * C;
    float* dst = out + t * C;
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) dst[c] = row[c];
  }
}

// Block t: if token t is the first with its id, add dout of every token with that id, in token
// order, into dtable's row. The scans over ids read them through shared memory in tiles.
__global__ void embedding_backward_kernel(float* dtable, const int32_t* ids, const float* dout,
                                          int64_t T, int64_t C) {
  __shared__ int32_t tile[kIdTile];
  __shared__ int earlier;
  for (int64_t t = blockIdx.x; t < T; t += gridDim.x) {
    const int32_t id = ids[t];
    if (threadIdx.x == 0) earlier = 0;
    __syncthreads();
    for (int64_t j = threadIdx.x; j < t; j += blockDim.x)
      if (ids[j] == id) earlier = 1;  // benign race: every writer writes 1
    __syncthreads();
    const bool first = earlier == 0;
    __syncthreads();
    if (!first) continue;  // uniform over the block
    float* row = dtable + static_cast<int64_t>(id) * C;
    for (int64_t c0 = 0; c0 < C; c0 += blockDim.x) {
      const int64_t c = c0 + threadIdx.x;
      float acc = c < C ? row[c] : 0.0f;
      for (int64_t j0 = t; j0 < T; j0 += kIdTile) {
        const int64_t n = T - j0 < kIdTile ? T - j0 : kIdTile;
        __syncthreads();
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x) tile[j] = ids[j0 + j];
        __syncthreads();
        if (c < C)
          for (int64_t j = 0; j < n; ++j)
            if (tile[j] == id) acc += dout[(j0 + j) * C + c];
      }
      if (c < C) row[c] = acc;
    }
  }
}

unsigned int token_grid(int64_t T) {
  return static_cast<unsigned int>(T < 65535 * 8 ? T : 65535 * 8);
}

}  // namespace

void embedding_forward(float* out, const int32_t* ids, const float* table, int64_t T, int64_t C,
                       const Context& ctx) {
  TSFT_CHECK(T >= 0 && C >= 0, "embedding_forward T=", T, " C=", C);
  if (T == 0 || C == 0) return;
  embedding_forward_kernel<<<token_grid(T), kThreads, 0, ctx.stream()>>>(out, ids, table, T, C);
  check_launch("embedding_forward");
}

void embedding_backward(float* dtable, const int32_t* ids, const float* dout, int64_t T,
                        int64_t C, const Context& ctx) {
  TSFT_CHECK(T >= 0 && C >= 0, "embedding_backward T=", T, " C=", C);
  if (T == 0 || C == 0) return;
  embedding_backward_kernel<<<token_grid(T), kThreads, 0, ctx.stream()>>>(dtable, ids, dout, T,
                                                                          C);
  check_launch("embedding_backward");
}

}  // namespace tsft::cuda
