// Quantized weights times int8 activations (see matmul_int8.h).
//
// Every weight type is read as unsigned bytes u = w + offset (Q4_0 stores its nibbles n = w + 8,
// so u = n and offset 8; Q4_1 stores n with w = d n + m, so u = n and offset 0; Q8_0's signed
// bytes get 128 added, offset 128), since vpdpbusd multiplies unsigned bytes by signed ones. For
// a block, sum_i w_i q_i = sum_i u_i q_i - offset * sum_i q_i: exact in int32. The block then
// adds d * scale * that (d the weights' scale) and, for Q4_1, m * sum_i x_i with the inputs'
// exact float sum, so Q4_1's offset term has no input rounding at all.
//
// Two kernels: one weight row against one input (decoding a single sequence: a block of 32
// products is one 256-bit vpdpbusd), and tiles of weight rows against up to 16 inputs (batched
// steps: the inputs' bytes are laid out so that one 512-bit vector holds 4 consecutive elements
// of all 16 inputs, and each weight row's 4 bytes are broadcast against it).
#include "backend/cpu/matmul_int8.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/half.h"
#include "core/tensor.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512VNNI__)
#define TSFT_INT8_VNNI 1
#include <immintrin.h>
#endif

namespace tsft {
namespace {

constexpr int64_t kQK = 32;  // elements per block
// Below this many products the OpenMP fork/join costs more than the work it splits.
constexpr int64_t kMinParallelElems = 64 * 1024;

std::atomic<bool> g_int8_activations{false};

struct Format {
  int64_t block_bytes;  // bytes per block
  int64_t header;       // bytes of scale (and minimum) before the quantized values
  int offset;           // u = w + offset
  bool has_min;         // Q4_1's m
  bool nibbles;         // 4-bit values, element i in byte i's low nibble, i + 16 in its high
};

Format format_of(DType t) {
  switch (t) {
    case DType::kQ4_0: return {18, 2, 8, false, true};
    case DType::kQ4_1: return {20, 4, 0, true, true};
    default: return {34, 2, 128, false, false};  // Q8_0
  }
}

float f16_at(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return f16_to_f32(v);
}

// A block's 32 unsigned bytes u in element order.
void block_u_ref(const Format& f, const uint8_t* blk, uint8_t* u) {
  const uint8_t* qs = blk + f.header;
  for (int i = 0; i < 16 && f.nibbles; ++i) {
    u[i] = qs[i] & 0x0F;
    u[i + 16] = qs[i] >> 4;
  }
  for (int i = 0; i < kQK && !f.nibbles; ++i) u[i] = static_cast<uint8_t>(qs[i] ^ 0x80);
}

void check_args(DType t, int64_t T, int64_t N, int64_t K) {
  TSFT_CHECK(t == DType::kQ4_0 || t == DType::kQ4_1 || t == DType::kQ8_0,
             "matmul_int8: unsupported weight type ", dtype_name(t));
  TSFT_CHECK(T >= 0 && N >= 0 && K >= 0 && K % kQK == 0, "matmul_int8: bad shape ", T, " x ", N,
             " x ", K, " (K must be a multiple of ", kQK, ")");
}

// Per input row and block: the scale, the exact float sum (Q4_1's m term) and -offset * sum q.
struct BlockStats {
  float scale;
  float sum_x;
  int32_t correction;
};

BlockStats quantize_block(const float* x, int8_t* q, int offset) {
  BlockStats s;
  s.scale = quantize_activations(x, q);
  double sx = 0.0;
  int32_t sq = 0;
  for (int64_t i = 0; i < kQK; ++i) {
    sx += x[i];
    sq += q[i];
  }
  s.sum_x = static_cast<float>(sx);
  s.correction = -offset * sq;
  return s;
}

#ifdef TSFT_INT8_VNNI
// GCC 12's own avx512fintrin.h trips -Wmaybe-uninitialized in its conversions (their "undefined"
// source operand is a self-initialised variable); no such value is read here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// The hardware conversion (F16C): f16_to_f32's portable bit manipulation, run for every block
// of every weight row, cost more than the integer products.
inline float f16_hw(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return _cvtsh_ss(v);
}

inline int32_t load_i32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// A row's blocks unpacked: u bytes in element order (K of them) and the scales (and minima).
// `ahead` bytes further on (the next tile's rows) is fetched into cache meanwhile.
void unpack_row(const Format& f, const uint8_t* row, int64_t nb, int64_t ahead, uint8_t* u,
                float* d, float* m) {
  const __m128i mask = _mm_set1_epi8(0x0F);
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t i = 0; i < nb * f.block_bytes; i += 64)
    _mm_prefetch(reinterpret_cast<const char*>(row + ahead + i), _MM_HINT_T0);
  for (int64_t b = 0; b < nb; ++b, row += f.block_bytes, u += kQK) {
    d[b] = f16_hw(row);
    if (f.has_min) m[b] = f16_hw(row + 2);
    if (f.nibbles) {
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + f.header));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(u), _mm_and_si128(raw, mask));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(u + 16),
                       _mm_and_si128(_mm_srli_epi16(raw, 4), mask));
    } else {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + f.header));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(u), _mm256_xor_si256(raw, flip));
    }
  }
}

// One weight row against one input: q (K int8), stats per block.
template <bool kNibbles, bool kMin>
float row_dot(const Format& f, const uint8_t* row, const int8_t* q, const BlockStats* st,
              int64_t nb) {
  const __m128i mask = _mm_set1_epi8(0x0F);
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  float acc_m[2] = {0.0f, 0.0f};
  auto block = [&](int64_t b, int c) {
    const uint8_t* blk = row + b * f.block_bytes;
    __m256i u;
    if constexpr (kNibbles) {
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + f.header));
      u = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), mask), _mm_and_si128(raw, mask));
    } else {
      u = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + f.header)),
                           flip);
    }
    // The offset's correction rides in lane 0 of the starting sum.
    const __m256i start = _mm256_castsi128_si256(_mm_cvtsi32_si128(st[b].correction));
    const __m256i s = _mm256_dpbusd_epi32(
        start, u, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + b * kQK)));
    acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_set1_ps(f16_hw(blk) * st[b].scale),
                             acc[c]);
    if constexpr (kMin) acc_m[c] += f16_hw(blk + 2) * st[b].sum_x;
  };
  int64_t b = 0;
  for (; b + 1 < nb; b += 2) {
    block(b, 0);
    block(b + 1, 1);
  }
  if (b < nb) block(b, 0);
  const __m256 v = _mm256_add_ps(acc[0], acc[1]);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h) + (acc_m[0] + acc_m[1]);
}

constexpr int kLanes = 16;    // inputs per pass of the tile kernel
constexpr int kTileRows = 8;  // weight rows per tile

// The inputs of a pass laid out for the tile kernel: for block b and group g of 4 elements,
// 64 bytes (input j's 4 bytes at 4 j), then per block 16 scales, sums and corrections.
struct PackedInputs {
  const uint8_t* q;
  const float* scale;
  const float* sum_x;
  const int32_t* correction;
};

// res[r * 16 + j] = row r . input j for R weight rows (u: K bytes each, d and m: nb each).
template <int R, bool kMin>
void tile(const uint8_t* u, const float* d, const float* m, const PackedInputs& in, int64_t nb,
          int64_t K, float* res) {
  __m512 acc[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const __m512i start = _mm512_load_si512(in.correction + b * kLanes);
    __m512i s[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) s[r] = start;
#pragma GCC unroll 8
    for (int g = 0; g < 8; ++g) {
      const __m512i xv = _mm512_load_si512(in.q + (b * 8 + g) * 64);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r)
        s[r] = _mm512_dpbusd_epi32(s[r], _mm512_set1_epi32(load_i32(u + r * K + b * kQK + g * 4)),
                                   xv);
    }
    const __m512 scale = _mm512_load_ps(in.scale + b * kLanes);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[r]),
                               _mm512_mul_ps(_mm512_set1_ps(d[r * nb + b]), scale), acc[r]);
    if constexpr (kMin) {
      const __m512 sx = _mm512_load_ps(in.sum_x + b * kLanes);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r)
        acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(m[r * nb + b]), sx, acc[r]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) _mm512_store_ps(res + r * kLanes, acc[r]);
}

template <bool kMin>
void tile_any(int R, const uint8_t* u, const float* d, const float* m, const PackedInputs& in,
              int64_t nb, int64_t K, float* res) {
  switch (R) {
    case 8: return tile<8, kMin>(u, d, m, in, nb, K, res);
    case 7: return tile<7, kMin>(u, d, m, in, nb, K, res);
    case 6: return tile<6, kMin>(u, d, m, in, nb, K, res);
    case 5: return tile<5, kMin>(u, d, m, in, nb, K, res);
    case 4: return tile<4, kMin>(u, d, m, in, nb, K, res);
    case 3: return tile<3, kMin>(u, d, m, in, nb, K, res);
    case 2: return tile<2, kMin>(u, d, m, in, nb, K, res);
    default: return tile<1, kMin>(u, d, m, in, nb, K, res);
  }
}

size_t round64(size_t n) { return (n + 63) / 64 * 64; }

// Up to 16 inputs against all N rows.
void tiles_pass(float* out, const float* in, const uint8_t* w, const Format& f, DType t,
                const float* bias, int64_t T, int64_t N, int64_t K) {
  const int64_t nb = K / kQK;
  const size_t q_bytes = round64(static_cast<size_t>(K) * kLanes);
  const size_t v_bytes = round64(static_cast<size_t>(nb * kLanes) * sizeof(float));
  Arena mem(q_bytes + 3 * v_bytes);
  auto* q = static_cast<uint8_t*>(mem.alloc(q_bytes));
  auto* scale = static_cast<float*>(mem.alloc(v_bytes));
  auto* sum_x = static_cast<float*>(mem.alloc(v_bytes));
  auto* corr = static_cast<int32_t*>(mem.alloc(v_bytes));
  const PackedInputs packed{q, scale, sum_x, corr};
  const int64_t row_bytes = static_cast<int64_t>(dtype_bytes(t, K));
  const int64_t n_tiles = (N + kTileRows - 1) / kTileRows;
#pragma omp parallel if (N * K * T >= kMinParallelElems)
  {
    // The inputs' quantization is shared out too (done by one thread it left the other waiting),
    // by blocks: a block's bytes of all 16 inputs share cache lines.
#pragma omp for schedule(static)
    for (int64_t b = 0; b < nb; ++b) {
      for (int64_t j = 0; j < kLanes; ++j) {
        alignas(64) int8_t qb[kQK] = {};
        const BlockStats st =
            j < T ? quantize_block(in + j * K + b * kQK, qb, f.offset) : BlockStats{0.0f, 0.0f, 0};
        for (int g = 0; g < 8; ++g) std::memcpy(q + (b * 8 + g) * 64 + j * 4, qb + g * 4, 4);
        scale[b * kLanes + j] = st.scale;
        sum_x[b * kLanes + j] = st.sum_x;
        corr[b * kLanes + j] = st.correction;
      }
    }
    std::vector<uint8_t> u(static_cast<size_t>(kTileRows * K));
    std::vector<float> d(static_cast<size_t>(kTileRows * nb)), m(d.size());
    alignas(64) float res[kTileRows * kLanes];
#pragma omp for schedule(guided)
    for (int64_t tile_i = 0; tile_i < n_tiles; ++tile_i) {
      const int64_t n0 = tile_i * kTileRows;
      const int R = static_cast<int>(std::min<int64_t>(kTileRows, N - n0));
      for (int r = 0; r < R; ++r)
        unpack_row(f, w + (n0 + r) * row_bytes, nb, kTileRows * row_bytes, u.data() + r * K,
                   d.data() + r * nb, m.data() + r * nb);
      if (f.has_min)
        tile_any<true>(R, u.data(), d.data(), m.data(), packed, nb, K, res);
      else
        tile_any<false>(R, u.data(), d.data(), m.data(), packed, nb, K, res);
      for (int r = 0; r < R; ++r) {
        const float bv = bias ? bias[n0 + r] : 0.0f;
        for (int64_t j = 0; j < T; ++j) out[j * N + n0 + r] = res[r * kLanes + j] + bv;
      }
    }
  }
}

// One input against all N rows.
void rows_pass(float* out, const float* x, const uint8_t* w, const Format& f, DType t,
               const float* bias, int64_t N, int64_t K) {
  const int64_t nb = K / kQK;
  const size_t q_bytes = round64(static_cast<size_t>(K));
  const size_t s_bytes = round64(static_cast<size_t>(nb) * sizeof(BlockStats));
  Arena mem(q_bytes + s_bytes);
  auto* q = static_cast<int8_t*>(mem.alloc(q_bytes));
  auto* st = static_cast<BlockStats*>(mem.alloc(s_bytes, alignof(BlockStats)));
  for (int64_t b = 0; b < nb; ++b) st[b] = quantize_block(x + b * kQK, q + b * kQK, f.offset);
  const int64_t row_bytes = static_cast<int64_t>(dtype_bytes(t, K));
#pragma omp parallel for schedule(guided) if (N * K >= kMinParallelElems)
  for (int64_t n = 0; n < N; ++n) {
    const uint8_t* row = w + n * row_bytes;
    float v;
    if (f.has_min) v = row_dot<true, true>(f, row, q, st, nb);
    else if (f.nibbles) v = row_dot<true, false>(f, row, q, st, nb);
    else v = row_dot<false, false>(f, row, q, st, nb);
    out[n] = bias ? v + bias[n] : v;
  }
}

#pragma GCC diagnostic pop
#endif  // TSFT_INT8_VNNI

}  // namespace

float quantize_activations(const float* x, int8_t* q) {
  float amax = 0.0f;
  for (int64_t i = 0; i < kQK; ++i) amax = std::max(amax, std::fabs(x[i]));
  if (!(amax > 0.0f)) {
    std::memset(q, 0, kQK);
    return 0.0f;
  }
  const float scale = amax / 127.0f;
  const float inv = 127.0f / amax;
  for (int64_t i = 0; i < kQK; ++i) q[i] = static_cast<int8_t>(std::nearbyint(x[i] * inv));
  return scale;
}

bool matmul_int8_supported(DType t) {
#ifdef TSFT_INT8_VNNI
  return t == DType::kQ4_0 || t == DType::kQ4_1 || t == DType::kQ8_0;
#else
  (void)t;
  return false;
#endif
}

void matmul_int8(float* out, const float* in, const void* w, DType t, const float* bias,
                 int64_t T, int64_t N, int64_t K) {
  check_args(t, T, N, K);
  TSFT_CHECK(matmul_int8_supported(t), "matmul_int8: this build has no int8 kernels (needs "
             "AVX512-VNNI)");
#ifdef TSFT_INT8_VNNI
  const Format f = format_of(t);
  const auto* wb = static_cast<const uint8_t*>(w);
  if (T == 1) return rows_pass(out, in, wb, f, t, bias, N, K);
  for (int64_t t0 = 0; t0 < T; t0 += kLanes)
    tiles_pass(out + t0 * N, in + t0 * K, wb, f, t, bias, std::min<int64_t>(kLanes, T - t0), N, K);
#else
  (void)out, (void)in, (void)w, (void)bias;
#endif
}

void matmul_int8_ref(float* out, const float* in, const void* w, DType t, const float* bias,
                     int64_t T, int64_t N, int64_t K, float* bound) {
  check_args(t, T, N, K);
  const Format f = format_of(t);
  const int64_t nb = K / kQK;
  const int64_t row_bytes = static_cast<int64_t>(dtype_bytes(t, K));
  std::vector<int8_t> q(static_cast<size_t>(K));
  std::vector<BlockStats> st(static_cast<size_t>(nb));
  uint8_t u[kQK];
  for (int64_t i = 0; i < T; ++i) {
    for (int64_t b = 0; b < nb; ++b)
      st[b] = quantize_block(in + i * K + b * kQK, q.data() + b * kQK, f.offset);
    for (int64_t n = 0; n < N; ++n) {
      double s = bias ? bias[n] : 0.0, e = 0.0;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = static_cast<const uint8_t*>(w) + n * row_bytes + b * f.block_bytes;
        block_u_ref(f, blk, u);
        int64_t dot = st[b].correction;
        int64_t abs_w = 0;  // sum over the block of |u - offset|
        for (int64_t k = 0; k < kQK; ++k) {
          dot += static_cast<int64_t>(u[k]) * q[b * kQK + k];
          abs_w += std::abs(static_cast<int>(u[k]) - f.offset);
        }
        const double d = f16_at(blk);
        s += d * st[b].scale * static_cast<double>(dot);
        if (f.has_min) s += static_cast<double>(f16_at(blk + 2)) * st[b].sum_x;
        e += 0.5 * st[b].scale * std::fabs(d) * static_cast<double>(abs_w);
      }
      out[i * N + n] = static_cast<float>(s);
      if (bound) bound[i * N + n] = static_cast<float>(e);
    }
  }
}

void set_int8_activations(bool on) { g_int8_activations.store(on, std::memory_order_relaxed); }
bool int8_activations() { return g_int8_activations.load(std::memory_order_relaxed); }

}  // namespace tsft
