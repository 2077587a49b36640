// Matrix-vector products read straight from Q4_0 / Q4_1 / Q8_0 blocks, keeping x in float32.
//
// Per row and block the quantized integers q are widened to float and dotted with x (tmp), and
// the block's scale is applied once: acc += d * tmp. Q4_1's offset needs no per-element work:
// sum_i (d q_i + m) x_i = d * tmp + m * xsum_block, and xsum_block depends only on x, so it is
// computed once per call and shared by every row. Unlike llama.cpp we do not quantize x to int8:
// callers need results within float32 rounding of the exact product (see the tests' tolerance).
#include "backend/cpu/matvec_quant.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "backend/cpu/dequant.h"
#include "core/error.h"
#include "core/half.h"
#include "core/tensor.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define TSFT_MATVEC_AVX2 1
#include <immintrin.h>
#if defined(__AVX512F__)
// The broadcast form's kernel in 512-bit registers: 16 inputs are exactly one vector.
#define TSFT_MATVEC_AVX512 1
#endif
#endif

namespace tsft {
namespace {

constexpr int64_t kQK = 32;  // elements per Q4_0/Q4_1/Q8_0 block
// Below this many weights the OpenMP fork/join costs more than the work it splits.
constexpr int64_t kMinParallelElems = 64 * 1024;

// Calls f(std::integral_constant<int, n>{}) for the runtime n in 2..kMax, and with 1 for any
// other n: the tile kernels are templates on their tile sizes so that their accumulators stay in
// registers, and this turns a remainder tile's size into that template argument.
template <int kMax, typename F>
void with_tile_size(int n, const F& f) {
  if constexpr (kMax > 1) {
    if (n == kMax) return f(std::integral_constant<int, kMax>{});
    return with_tile_size<kMax - 1>(n, f);
  } else {
    f(std::integral_constant<int, 1>{});
  }
}

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline float load_f16(const uint8_t* p) { return f16_to_f32(load_u16(p)); }

// Sum of x over each block, accumulated in double so that a block whose x nearly cancels still
// gets a correctly rounded float (Q4_1's m * xsum would otherwise amplify the cancellation).
void block_sums(const float* x, int64_t nb, float* xsum) {
  for (int64_t b = 0; b < nb; ++b) {
    double s = 0.0;
    for (int64_t i = 0; i < kQK; ++i) s += x[b * kQK + i];
    xsum[b] = static_cast<float>(s);
  }
}

// ---- portable scalar kernels (one row), used when the build has no AVX2+FMA+F16C -----------

[[maybe_unused]] float row_q4_0_scalar(const uint8_t* w, const float* x, int64_t nb) {
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += 18, x += kQK) {
    const float d = load_f16(w);
    const uint8_t* qs = w + 2;
    float tmp = 0.0f;
    for (int j = 0; j < 16; ++j) {
      tmp += static_cast<float>((qs[j] & 0x0F) - 8) * x[j];
      tmp += static_cast<float>((qs[j] >> 4) - 8) * x[j + 16];
    }
    acc += d * tmp;
  }
  return acc;
}

[[maybe_unused]] float row_q4_1_scalar(const uint8_t* w, const float* x, const float* xsum,
                                       int64_t nb) {
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += 20, x += kQK) {
    const float d = load_f16(w);
    const float m = load_f16(w + 2);
    const uint8_t* qs = w + 4;
    float tmp = 0.0f;
    for (int j = 0; j < 16; ++j) {
      tmp += static_cast<float>(qs[j] & 0x0F) * x[j];
      tmp += static_cast<float>(qs[j] >> 4) * x[j + 16];
    }
    acc += d * tmp + m * xsum[b];
  }
  return acc;
}

[[maybe_unused]] float row_q8_0_scalar(const uint8_t* w, const float* x, int64_t nb) {
  float acc = 0.0f;
  for (int64_t b = 0; b < nb; ++b, w += 34, x += kQK) {
    const float d = load_f16(w);
    const int8_t* qs = reinterpret_cast<const int8_t*>(w + 2);
    float tmp = 0.0f;
    for (int j = 0; j < kQK; ++j) tmp += static_cast<float>(qs[j]) * x[j];
    acc += d * tmp;
  }
  return acc;
}

#ifdef TSFT_MATVEC_AVX2

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline __m128i load_8_bytes(const uint8_t* p) {
  return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
}

// The 32 nibbles of a Q4 block as four float vectors in element order: bytes 0..7 and 8..15
// are widened to int32 once, their low nibbles are elements 0..15 and high nibbles 16..31.
// kSubtract8 (Q4_0) takes 8 off in the integer domain: exact, so no cancellation in float later.
template <bool kSubtract8>
inline __m256 dot_q4_block(const uint8_t* qs, const __m256 x[4]) {
  const __m256i mask = _mm256_set1_epi32(0x0F);
  const __m256i v0 = _mm256_cvtepu8_epi32(load_8_bytes(qs));
  const __m256i v1 = _mm256_cvtepu8_epi32(load_8_bytes(qs + 8));
  __m256i i0 = _mm256_and_si256(v0, mask);
  __m256i i1 = _mm256_and_si256(v1, mask);
  __m256i i2 = _mm256_srli_epi32(v0, 4);
  __m256i i3 = _mm256_srli_epi32(v1, 4);
  if constexpr (kSubtract8) {
    const __m256i eight = _mm256_set1_epi32(8);
    i0 = _mm256_sub_epi32(i0, eight);
    i1 = _mm256_sub_epi32(i1, eight);
    i2 = _mm256_sub_epi32(i2, eight);
    i3 = _mm256_sub_epi32(i3, eight);
  }
  __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(i0), x[0]);
  t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i1), x[1], t);
  t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(i2), x[2], t);
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(i3), x[3], t);
}

inline __m256 dot_q8_block(const uint8_t* qs, const __m256 x[4]) {
  __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(load_8_bytes(qs))), x[0]);
  t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(load_8_bytes(qs + 8))), x[1], t);
  t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(load_8_bytes(qs + 16))), x[2], t);
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(load_8_bytes(qs + 24))), x[3],
                         t);
}

// One row, blocks taken in pairs with two accumulator chains: the acc FMA's latency (4 cycles
// on Zen 3) would otherwise bound a single chain at one block per 4 cycles.
template <DType kT>
float row_avx2(const uint8_t* w, const float* x, const float* xsum, int64_t nb) {
  constexpr int64_t kBlockBytes = kT == DType::kQ4_0 ? 18 : kT == DType::kQ4_1 ? 20 : 34;
  __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  __m128 acc_m[2] = {_mm_setzero_ps(), _mm_setzero_ps()};
  auto block = [&](int64_t b, int c) {
    const float* xb = x + b * kQK;
    const __m256 xv[4] = {_mm256_loadu_ps(xb), _mm256_loadu_ps(xb + 8), _mm256_loadu_ps(xb + 16),
                          _mm256_loadu_ps(xb + 24)};
    const uint8_t* blk = w + b * kBlockBytes;
    if constexpr (kT == DType::kQ4_1) {
      // d and m converted together (lane 0 = d, lane 1 = m); the m term is one FMA with
      // (0, xsum, 0, 0), so it needs no scalar extraction per block.
      uint32_t dm_bits;
      std::memcpy(&dm_bits, blk, 4);
      const __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(dm_bits)));
      const __m256 t = dot_q4_block<false>(blk + 4, xv);
      acc[c] = _mm256_fmadd_ps(_mm256_broadcastss_ps(dm), t, acc[c]);
      acc_m[c] = _mm_fmadd_ps(dm, _mm_set_ps(0.0f, 0.0f, xsum[b], 0.0f), acc_m[c]);
    } else if constexpr (kT == DType::kQ4_0) {
      const __m128 d = _mm_cvtph_ps(_mm_cvtsi32_si128(load_u16(blk)));
      acc[c] = _mm256_fmadd_ps(_mm256_broadcastss_ps(d), dot_q4_block<true>(blk + 2, xv), acc[c]);
    } else {
      const __m128 d = _mm_cvtph_ps(_mm_cvtsi32_si128(load_u16(blk)));
      acc[c] = _mm256_fmadd_ps(_mm256_broadcastss_ps(d), dot_q8_block(blk + 2, xv), acc[c]);
    }
  };
  int64_t b = 0;
  for (; b + 1 < nb; b += 2) {
    block(b, 0);
    block(b + 1, 1);
  }
  if (b < nb) block(b, 0);
  float s = hsum(_mm256_add_ps(acc[0], acc[1]));
  if constexpr (kT == DType::kQ4_1) s += _mm_cvtss_f32(_mm_movehdup_ps(_mm_add_ps(acc_m[0], acc_m[1])));
  return s;
}

#endif  // TSFT_MATVEC_AVX2

// One output row. Rows are done one after another rather than several interleaved: on this
// Zen 3 a single sequential stream per thread is what the hardware prefetcher keeps up with
// (4 interleaved rows read Q8_0 from memory at 4.8 GB/s per thread, one row at 11 GB/s).
float matvec_row(const uint8_t* wr, const float* x, const float* xsum, DType t, int64_t nb) {
#ifdef TSFT_MATVEC_AVX2
  switch (t) {
    case DType::kQ4_0: return row_avx2<DType::kQ4_0>(wr, x, xsum, nb);
    case DType::kQ4_1: return row_avx2<DType::kQ4_1>(wr, x, xsum, nb);
    case DType::kQ8_0: return row_avx2<DType::kQ8_0>(wr, x, xsum, nb);
    default: return 0.0f;
  }
#else
  switch (t) {
    case DType::kQ4_0: return row_q4_0_scalar(wr, x, nb);
    case DType::kQ4_1: return row_q4_1_scalar(wr, x, xsum, nb);
    case DType::kQ8_0: return row_q8_0_scalar(wr, x, nb);
    default: return 0.0f;
  }
#endif
}

// res[r * C + c] = w_r . x_c for R weight rows (stride K) and C input rows (stride K): an R x C
// register tile of accumulators, so each loaded vector feeds several FMAs (one weight row
// against 8 inputs needs 9 loads per 8 FMAs and is load-bound; 2 x 6 as GCC compiles it, 14
// loads per 12 FMAs).
#ifdef TSFT_MATVEC_AVX2
template <int R, int C>
void dot_tile_avx2(const float* w, const float* x, int64_t K, float* res) {
  // The unroll pragmas make GCC keep acc in registers (without them it spills acc to the stack).
  __m256 acc[R][C];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K; k += 8) {
    __m256 wv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = _mm256_loadu_ps(w + r * K + k);
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      const __m256 xv = _mm256_loadu_ps(x + c * K + k);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][c] = _mm256_fmadd_ps(wv[r], xv, acc[r][c]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) res[r * C + c] = hsum(acc[r][c]);
}

template <int R>
void dot_tile_r(const float* w, const float* x, int64_t K, int C, float* res) {
  with_tile_size<6>(C, [&](auto c) { dot_tile_avx2<R, decltype(c)::value>(w, x, K, res); });
}
#endif

// Broadcast form, for 9-16 input rows: xt holds them transposed (xt[k * 16 + j], zero-padded),
// so one k step loads two vectors of 8 inputs and broadcasts one weight per weight row: 6
// weight rows x 16 inputs are 12 accumulators fed by 8 loads, with no horizontal sums. At
// T = 16 it measured 69 GFLOP/s per thread against the dot form's 47 (where GCC loads each
// input vector once per FMA); at T <= 8 it is slower than the dot form, its 6 broadcasts per
// k step then feeding only 6 FMAs.
//
// With AVX-512 the 16 inputs of a k step are one vector: a tile of 12 weight rows is 12
// accumulators (FMA latency 4 x 2 pipes needs at least 8) fed by 12 broadcasts and one load.
#ifdef TSFT_MATVEC_AVX512
constexpr int kBcRows = 12;  // weight rows per tile
#else
constexpr int kBcRows = 6;  // weight rows per tile
#endif
constexpr int kBcCols = 16;  // input rows per pass (xt's row length)

#ifdef TSFT_MATVEC_AVX512
template <int R>
void bc_tile_avx512(const float* w, const float* xt, int64_t K, float* res) {
  __m512 acc[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    const __m512 x = _mm512_load_ps(xt + k * kBcCols);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(w[r * K + k]), x, acc[r]);
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) _mm512_storeu_ps(res + r * kBcCols, acc[r]);
}
#elif defined(TSFT_MATVEC_AVX2)
template <int R>
void bc_tile_avx2(const float* w, const float* xt, int64_t K, float* res) {
  __m256 acc[R][2];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    const __m256 x0 = _mm256_load_ps(xt + k * kBcCols), x1 = _mm256_load_ps(xt + k * kBcCols + 8);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 wv = _mm256_broadcast_ss(w + r * K + k);
      acc[r][0] = _mm256_fmadd_ps(wv, x0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(wv, x1, acc[r][1]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(res + r * kBcCols, acc[r][0]);
    _mm256_storeu_ps(res + r * kBcCols + 8, acc[r][1]);
  }
}
#endif

// res[r * kBcCols + j] = w_r . x_j for R <= kBcRows weight rows (stride K) and the first
// `cols` inputs.
void bc_tile(const float* w, const float* xt, int64_t K, int R, int64_t cols, float* res) {
#ifdef TSFT_MATVEC_AVX512
  (void)cols;  // the padded inputs are zeros: all 16 columns are computed
  with_tile_size<kBcRows>(R, [&](auto r) { bc_tile_avx512<decltype(r)::value>(w, xt, K, res); });
#elif defined(TSFT_MATVEC_AVX2)
  (void)cols;  // the padded inputs are zeros: all 16 columns are computed
  with_tile_size<kBcRows>(R, [&](auto r) { bc_tile_avx2<decltype(r)::value>(w, xt, K, res); });
#else
  for (int r = 0; r < R; ++r)
    for (int64_t j = 0; j < cols; ++j) {
      float s = 0.0f;
      for (int64_t k = 0; k < K; ++k) s += w[r * K + k] * xt[k * kBcCols + j];
      res[r * kBcCols + j] = s;
    }
#endif
}

// n floats from `arena` (made with room for exactly them): 64-byte aligned, and as K is a
// multiple of 32, no 8-float load of a row then crosses a cache line (a split load costs two).
float* floats(Arena& arena, int64_t n) {
  return static_cast<float*>(arena.alloc(static_cast<size_t>(n) * sizeof(float)));
}
Arena arena_for_floats(int64_t n) { return Arena(static_cast<size_t>(n) * sizeof(float)); }

// 2 x 6 measured best of 1x8, 2x5, 2x6, 3x4 and 4x3 (2 threads, SmolLM2 shapes, T = 12-16,
// before the broadcast form took over those sizes).
constexpr int kTileRows = 2;  // weight rows per tile
constexpr int kTileCols = 6;  // input rows per tile

// res[r * C + c] = w_r . x_c for R <= kTileRows, C <= kTileCols.
void dot_tile(const float* w, const float* x, int64_t K, int R, int C, float* res) {
#ifdef TSFT_MATVEC_AVX2
  if (R == 2) return dot_tile_r<2>(w, x, K, C, res);
  return dot_tile_r<1>(w, x, K, C, res);
#else
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) {
      float s = 0.0f;
      for (int64_t k = 0; k < K; ++k) s += w[r * K + k] * x[c * K + k];
      res[r * C + c] = s;
    }
#endif
}

void check_args(DType t, int64_t N, int64_t K) {
  TSFT_CHECK(matvec_quant_supported(t), "matvec_quant: unsupported weight type ", dtype_name(t));
  TSFT_CHECK(N >= 0 && K >= 0 && K % kQK == 0, "matvec_quant: K = ", K,
             " is not a multiple of the block size ", kQK);
}

// Up to this many input rows the dot form is faster, above it the broadcast form.
constexpr int64_t kDotMaxRows = 8;

// The dot form for any number of input rows (best up to 8); rows_of(n0, R, scratch) gives the R
// float32 weight rows from n0 on (stride K), using `scratch` (room for kTileRows rows) if it has
// to make them.
template <typename RowsOf>
void dot_form(float* out, const float* in, const float* bias, int64_t T, int64_t N, int64_t K,
              const RowsOf& rows_of) {
  const int64_t n_tiles = (N + kTileRows - 1) / kTileRows;
  Arena x_mem = arena_for_floats(T * K);
  float* x = floats(x_mem, T * K);  // `in`, aligned
  std::memcpy(x, in, static_cast<size_t>(T * K) * sizeof(float));
#pragma omp parallel if (N * K * T >= kMinParallelElems)
  {
    Arena w_mem = arena_for_floats(kTileRows * K);
    float* scratch = floats(w_mem, kTileRows * K);
    float res[kTileRows * kTileCols];
#pragma omp for schedule(guided)
    for (int64_t tile = 0; tile < n_tiles; ++tile) {
      const int64_t n0 = tile * kTileRows;
      const int R = static_cast<int>(std::min<int64_t>(kTileRows, N - n0));
      const float* wrows = rows_of(n0, R, scratch);
      for (int64_t t0 = 0; t0 < T; t0 += kTileCols) {
        const int C = static_cast<int>(std::min<int64_t>(kTileCols, T - t0));
        dot_tile(wrows, x + t0 * K, K, R, C, res);
        for (int r = 0; r < R; ++r) {
          const float b = bias ? bias[n0 + r] : 0.0f;
          for (int c = 0; c < C; ++c) out[(t0 + c) * N + n0 + r] = res[r * C + c] + b;
        }
      }
    }
  }
}

// GCC 12's own avx512fintrin.h trips -Wmaybe-uninitialized in its shuffles and masked loads
// (their "undefined" source operand is a self-initialised variable); no such value is read here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#ifdef TSFT_MATVEC_AVX512
// r[i] lane j -> r[j] lane i for a 16 x 16 block of floats: unpacks within 128-bit lanes, then
// 4 x 4 shuffles, then moves of whole 128-bit lanes.
inline void transpose16x16(__m512 r[16]) {
  __m512 t[16];
  for (int k = 0; k < 8; ++k) {
    t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
    t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
  }
  __m512 u[16];  // u[4m + c], 128-bit lane L: column 4L + c of rows 4m .. 4m + 3
  for (int m = 0; m < 4; ++m) {
    u[4 * m] = _mm512_shuffle_ps(t[4 * m], t[4 * m + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * m + 1] = _mm512_shuffle_ps(t[4 * m], t[4 * m + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * m + 2] = _mm512_shuffle_ps(t[4 * m + 1], t[4 * m + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * m + 3] = _mm512_shuffle_ps(t[4 * m + 1], t[4 * m + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);  // lanes 0, 2 of each
    const __m512 v2 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);  // lanes 1, 3 of each
    const __m512 w1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    const __m512 w2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    r[c] = _mm512_shuffle_f32x4(v1, w1, 0x88);
    r[4 + c] = _mm512_shuffle_f32x4(v2, w2, 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
    r[12 + c] = _mm512_shuffle_f32x4(v2, w2, 0xDD);
  }
}
#endif

// xt[k * kBcCols + j] = in[j * K + k] for j < T (rows T..15 zero), shared out over the threads
// of the enclosing parallel region.
void transpose_inputs(const float* in, int64_t T, int64_t K, float* xt) {
  int64_t k_done = 0;
#ifdef TSFT_MATVEC_AVX512
  k_done = K / 16 * 16;
#pragma omp for schedule(static)
  for (int64_t k = 0; k < k_done; k += 16) {
    __m512 r[16];
    for (int64_t j = 0; j < 16; ++j)
      r[j] = j < T ? _mm512_loadu_ps(in + j * K + k) : _mm512_setzero_ps();
    transpose16x16(r);
    for (int64_t i = 0; i < 16; ++i) _mm512_store_ps(xt + (k + i) * kBcCols, r[i]);
  }
#endif
#pragma omp for schedule(static)
  for (int64_t k = k_done; k < K; ++k)
    for (int64_t j = 0; j < kBcCols; ++j) xt[k * kBcCols + j] = j < T ? in[j * K + k] : 0.0f;
}

// out[j * N + r] = res[r * kBcCols + j] (+ bias[r]) for r < R, j < T: a tile's results put in
// place.
void store_tile(const float* res, int R, int64_t T, const float* bias, float* out, int64_t N) {
#ifdef TSFT_MATVEC_AVX512
  __m512 r[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_setzero_ps();
  for (int i = 0; i < std::min(R, kBcRows); ++i) r[i] = _mm512_load_ps(res + i * kBcCols);
  transpose16x16(r);
  const __mmask16 m = static_cast<__mmask16>((1u << R) - 1);
  const __m512 b = bias ? _mm512_maskz_loadu_ps(m, bias) : _mm512_setzero_ps();
  for (int64_t j = 0; j < T; ++j) _mm512_mask_storeu_ps(out + j * N, m, _mm512_add_ps(r[j], b));
#else
  for (int r = 0; r < R; ++r) {
    const float b = bias ? bias[r] : 0.0f;
    for (int64_t j = 0; j < T; ++j) out[j * N + r] = res[r * kBcCols + j] + b;
  }
#endif
}
#pragma GCC diagnostic pop

// The broadcast form for up to 16 input rows; rows_of(n0, R, scratch) gives the R float32 weight
// rows from n0 on (stride K), using `scratch` (room for kBcRows rows) if it has to make them.
template <typename RowsOf>
void broadcast_pass(float* out, const float* in, const float* bias, int64_t T, int64_t N,
                    int64_t K, const RowsOf& rows_of) {
  const int64_t n_tiles = (N + kBcRows - 1) / kBcRows;
  Arena xt_mem = arena_for_floats(kBcCols * K);
  float* xt = floats(xt_mem, kBcCols * K);
#pragma omp parallel if (N * K * T >= kMinParallelElems)
  {
    // The transposition is shared out too: done by one thread it left the other waiting.
    transpose_inputs(in, T, K, xt);
    Arena w_mem = arena_for_floats(kBcRows * K);
    float* scratch = floats(w_mem, kBcRows * K);
    alignas(64) float res[kBcRows * kBcCols];
#pragma omp for schedule(guided)
    for (int64_t tile = 0; tile < n_tiles; ++tile) {
      const int64_t n0 = tile * kBcRows;
      const int R = static_cast<int>(std::min<int64_t>(kBcRows, N - n0));
      bc_tile(rows_of(n0, R, scratch), xt, K, R, T, res);
      store_tile(res, R, T, bias ? bias + n0 : nullptr, out + n0, N);
    }
  }
}

// The broadcast form for any number of input rows, in passes of 16.
template <typename RowsOf>
void broadcast_form(float* out, const float* in, const float* bias, int64_t T, int64_t N,
                    int64_t K, const RowsOf& rows_of) {
  for (int64_t t0 = 0; t0 < T; t0 += kBcCols)
    broadcast_pass(out + t0 * N, in + t0 * K, bias, std::min<int64_t>(kBcCols, T - t0), N, K,
                   rows_of);
}

// rows_of for the two forms: quantized rows dequantized into the scratch (L1) ...
auto dequantized(const uint8_t* wb, DType t, int64_t K) {
  const int64_t row_bytes = static_cast<int64_t>(dtype_bytes(t, K));
  return [=](int64_t n0, int R, float* scratch) {
    dequantize_row(t, wb + n0 * row_bytes, scratch, R * K);
    return static_cast<const float*>(scratch);
  };
}
// ... or float32 rows read where they are.
auto in_place(const float* w, int64_t K) {
  return [=](int64_t n0, int, float*) { return w + n0 * K; };
}

}  // namespace

bool matvec_quant_supported(DType t) {
  return t == DType::kQ4_0 || t == DType::kQ4_1 || t == DType::kQ8_0;
}

void matvec_quant(float* out, const float* x, const void* w, DType t, const float* bias,
                  int64_t N, int64_t K) {
  check_args(t, N, K);
  const int64_t nb = K / kQK;
  const int64_t row_bytes = static_cast<int64_t>(dtype_bytes(t, K));
  const uint8_t* wb = static_cast<const uint8_t*>(w);
  std::vector<float> xsum;
  if (t == DType::kQ4_1) {
    xsum.resize(static_cast<size_t>(nb));
    block_sums(x, nb, xsum.data());
  }
  const float* xs = xsum.data();
  // Guided: contiguous ranges of rows (sequential streams), shrinking toward the end so that a
  // thread running slower (on a shared VM, often) does not leave the other waiting.
#pragma omp parallel for schedule(guided) if (N * K >= kMinParallelElems)
  for (int64_t n = 0; n < N; ++n) {
    const float v = matvec_row(wb + n * row_bytes, x, xs, t, nb);
    out[n] = bias ? v + bias[n] : v;
  }
}

void matmul_quant(float* out, const float* in, const void* w, DType t, const float* bias,
                  int64_t T, int64_t N, int64_t K) {
  check_args(t, N, K);
  TSFT_CHECK(T >= 0, "matmul_quant: T = ", T);
  if (T == 1) return matvec_quant(out, in, w, t, bias, N, K);
  const auto rows_of = dequantized(static_cast<const uint8_t*>(w), t, K);
  if (T <= kDotMaxRows) return dot_form(out, in, bias, T, N, K, rows_of);
  broadcast_form(out, in, bias, T, N, K, rows_of);
}

void matmul_f32_broadcast(float* out, const float* in, const float* w, const float* bias,
                          int64_t T, int64_t N, int64_t K) {
  TSFT_CHECK(T >= 0 && N >= 0 && K >= 0, "matmul_f32_broadcast: bad shape ", T, " x ", N, " x ", K);
  broadcast_form(out, in, bias, T, N, K, in_place(w, K));
}

void matmul_f32_dot(float* out, const float* in, const float* w, const float* bias, int64_t T,
                    int64_t N, int64_t K) {
  TSFT_CHECK(T >= 0 && N >= 0 && K >= 0 && K % 8 == 0, "matmul_f32_dot: bad shape ", T, " x ",
             N, " x ", K, " (K must be a multiple of 8)");
  dot_form(out, in, bias, T, N, K, in_place(w, K));
}

void matmul_quant_ref(float* out, const float* in, const void* w, DType t, const float* bias,
                      int64_t T, int64_t N, int64_t K) {
  std::vector<float> row(static_cast<size_t>(N));
  for (int64_t i = 0; i < T; ++i) {
    matvec_quant_ref(row.data(), in + i * K, w, t, bias, N, K);
    std::memcpy(out + i * N, row.data(), static_cast<size_t>(N) * sizeof(float));
  }
}

void matvec_quant_ref(float* out, const float* x, const void* w, DType t, const float* bias,
                      int64_t N, int64_t K) {
  check_args(t, N, K);
  const size_t row_bytes = dtype_bytes(t, K);
  std::vector<float> row(static_cast<size_t>(K));
  for (int64_t n = 0; n < N; ++n) {
    dequantize_row_ref(t, static_cast<const uint8_t*>(w) + n * row_bytes, row.data(), K);
    double s = 0.0;
    for (int64_t k = 0; k < K; ++k) s += static_cast<double>(row[k]) * x[k];
    if (bias) s += bias[n];
    out[n] = static_cast<float>(s);
  }
}

}  // namespace tsft
