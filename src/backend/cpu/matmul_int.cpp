// Quantized weights times integer activations (see matmul_int.h).
//
// int8: every weight type is read as unsigned bytes u = w + offset (Q4_0 stores its nibbles
// n = w + 8, so u = n and offset 8; Q4_1 stores n with w = d n + m, so u = n and offset 0; Q8_0's
// signed bytes get 128 added, offset 128), since vpdpbusd multiplies unsigned bytes by signed
// ones; for a block, sum_i w_i q_i = sum_i u_i q_i - offset * sum_i q_i, exact in int32.
// int16: vpdpwssd multiplies signed 16-bit integers, so the weights are widened as they are.
// Either way the block then adds d * scale * that (d the weights' scale) and, for Q4_1,
// m * sum_i x_i with the inputs' exact float sum, so Q4_1's minimum sees no input rounding.
//
// Two kernels: one weight row against one input (int8 only: a block of 32 products is one
// 256-bit vpdpbusd), and tiles of weight rows against up to 16 inputs (the inputs laid out so
// that one 512-bit vector holds a group of consecutive elements of all 16 inputs, 4 bytes each,
// and each weight row's 4 bytes of the same elements are broadcast against it).
#include "backend/cpu/matmul_int.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "core/half.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512VNNI__)
#define TSFT_INT_VNNI 1
#include <immintrin.h>
#endif

namespace tsft {
namespace {

constexpr int64_t kQK = 32;  // elements per block
// Below this many products the OpenMP fork/join costs more than the work it splits.
constexpr int64_t kMinParallelElems = 64 * 1024;

std::atomic<Activations> g_activations{Activations::kAuto};

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

// A block's 32 unsigned values u in element order.
void block_u_ref(const Format& f, const uint8_t* blk, int* u) {
  const uint8_t* qs = blk + f.header;
  for (int i = 0; i < 16 && f.nibbles; ++i) {
    u[i] = qs[i] & 0x0F;
    u[i + 16] = qs[i] >> 4;
  }
  for (int i = 0; i < kQK && !f.nibbles; ++i) u[i] = (qs[i] ^ 0x80);
}

void check_args(DType t, int64_t T, int64_t N, int64_t K) {
  TSFT_CHECK(t == DType::kQ4_0 || t == DType::kQ4_1 || t == DType::kQ8_0,
             "matmul_int: unsupported weight type ", dtype_name(t));
  TSFT_CHECK(T >= 0 && N >= 0 && K >= 0 && K % kQK == 0, "matmul_int: bad shape ", T, " x ", N,
             " x ", K, " (K must be a multiple of ", kQK, ")");
}

template <typename Q>
float quantize_ref(const float* x, Q* q, float qmax) {
  float amax = 0.0f;
  for (int64_t i = 0; i < kQK; ++i) amax = std::max(amax, std::fabs(x[i]));
  if (!(amax > 0.0f)) {
    std::memset(q, 0, kQK * sizeof(Q));
    return 0.0f;
  }
  const float scale = amax / qmax;
  const float inv = qmax / amax;
  for (int64_t i = 0; i < kQK; ++i) q[i] = static_cast<Q>(std::nearbyint(x[i] * inv));
  return scale;
}

#ifdef TSFT_INT_VNNI
// GCC 12's own avx512fintrin.h trips -Wmaybe-uninitialized in its conversions (their "undefined"
// source operand is a self-initialised variable); no such value is read here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

inline int32_t load_i32(const void* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// What a precision's kernels work with: E the inputs' integers, U the weights' as unpacked.
template <IntBits kBits>
struct Kind {
  static constexpr bool k8 = kBits == IntBits::k8;
  using E = std::conditional_t<k8, int8_t, int16_t>;
  using U = std::conditional_t<k8, uint8_t, int16_t>;
  static constexpr float kQMax = k8 ? 127.0f : 32767.0f;
  static constexpr int kGroup = 4 / static_cast<int>(sizeof(E));  // elements per 32-bit lane
  static constexpr int kGroups = kQK / kGroup;                      // groups per block
};

// A row's blocks unpacked: K values in element order (int8: u, int16: u - offset) and the
// scales (and minima). `ahead` bytes further on (the next tile's rows) is fetched meanwhile.
template <IntBits kBits>
void unpack_row(const Format& f, const uint8_t* row, int64_t nb, int64_t ahead,
                typename Kind<kBits>::U* u, float* d, float* m) {
  const __m128i mask = _mm_set1_epi8(0x0F);
  for (int64_t i = 0; i < nb * f.block_bytes; i += 64)
    _mm_prefetch(reinterpret_cast<const char*>(row + ahead + i), _MM_HINT_T0);
  for (int64_t b = 0; b < nb; ++b, row += f.block_bytes, u += kQK) {
    d[b] = load_f16_fast(row);
    if (f.has_min) m[b] = load_f16_fast(row + 2);
    const uint8_t* qs = row + f.header;
    if (f.nibbles) {
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
      const __m128i lo = _mm_and_si128(raw, mask), hi = _mm_and_si128(_mm_srli_epi16(raw, 4), mask);
      if constexpr (Kind<kBits>::k8) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(u), lo);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(u + 16), hi);
      } else {
        const __m512i n = _mm512_cvtepu8_epi16(_mm256_set_m128i(hi, lo));
        _mm512_storeu_si512(u, _mm512_sub_epi16(n, _mm512_set1_epi16(static_cast<short>(f.offset))));
      }
    } else {
      const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs));
      if constexpr (Kind<kBits>::k8)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(u),
                            _mm256_xor_si256(raw, _mm256_set1_epi8(static_cast<char>(0x80))));
      else
        _mm512_storeu_si512(u, _mm512_cvtepi8_epi16(raw));
    }
  }
}

constexpr int kLanes = 16;    // inputs per pass of the tile kernel
constexpr int kTileRows = 8;  // weight rows per tile

// One block of 32 inputs quantized as quantize_activations does (the same float operations, so
// the same integers), with its scale, exact sum and (int8) the sum of its integers.
template <IntBits kBits>
inline void quantize_block_fast(const float* x, typename Kind<kBits>::E* q, float* scale,
                                float* sum_x, int32_t* sum_q) {
  const __m512 a = _mm512_loadu_ps(x), b = _mm512_loadu_ps(x + 16);
  const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
  // x's sum in double, as the reference adds it (here in another order: within an ulp of float)
  const __m512d s = _mm512_add_pd(
      _mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(a)),
                    _mm512_cvtps_pd(_mm512_extractf32x8_ps(a, 1))),
      _mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(b)),
                    _mm512_cvtps_pd(_mm512_extractf32x8_ps(b, 1))));
  *sum_x = static_cast<float>(_mm512_reduce_add_pd(s));
  if (!(amax > 0.0f)) {
    std::memset(q, 0, kQK * sizeof(*q));
    *scale = 0.0f;
    *sum_q = 0;
    return;
  }
  constexpr float kQMax = Kind<kBits>::kQMax;
  *scale = amax / kQMax;
  const __m512 inv = _mm512_set1_ps(kQMax / amax);
  const __m512i qa = _mm512_cvtps_epi32(_mm512_mul_ps(a, inv));
  const __m512i qb = _mm512_cvtps_epi32(_mm512_mul_ps(b, inv));
  if constexpr (Kind<kBits>::k8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm512_cvtepi32_epi8(qa));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16), _mm512_cvtepi32_epi8(qb));
  } else {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), _mm512_cvtepi32_epi16(qa));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 16), _mm512_cvtepi32_epi16(qb));
  }
  // Only int8 needs it (its weights' offset); int16 takes the weights as they are.
  *sum_q = Kind<kBits>::k8 ? _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qb)) : 0;
}

// The inputs of a group of products, quantized once. One input (T == 1, int8): q holds its K
// values in order and the stats one per block. Several: per pass of 16 inputs, for block b and
// group g of elements, 64 bytes (input j's 4 bytes at 4 j), and 16 stats per block; inputs
// beyond T in the last pass are zeros.
struct IntInputs {
  int64_t T = 0, K = 0, nb = 0, passes = 0;
  int64_t elem_bytes = 1;
  uint8_t* q = nullptr;
  float* scale = nullptr;
  float* sum_x = nullptr;
  int32_t* sum_q = nullptr;
  int64_t pass_q() const { return K * kLanes * elem_bytes; }  // bytes of q per pass
  int64_t pass_v() const { return nb * kLanes; }              // stats per pass
};

size_t round64(size_t n) { return (n + 63) / 64 * 64; }

// Room for the inputs' quantization, kept per calling thread and grown as needed.
IntInputs layout_inputs(int64_t T, int64_t K, IntBits bits) {
  thread_local std::vector<uint8_t> storage;
  IntInputs in;
  in.T = T;
  in.K = K;
  in.nb = K / kQK;
  in.elem_bytes = bits == IntBits::k8 ? 1 : 2;
  in.passes = T == 1 ? 1 : (T + kLanes - 1) / kLanes;
  const int64_t lanes = T == 1 ? 1 : kLanes;
  const size_t q_bytes = round64(static_cast<size_t>(in.passes * K * lanes * in.elem_bytes));
  const size_t v_bytes = round64(static_cast<size_t>(in.passes * in.nb * lanes) * 4);
  const size_t total = q_bytes + 3 * v_bytes + 64;
  if (storage.size() < total) storage.resize(total);
  uint8_t* base = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
  in.q = base;
  in.scale = reinterpret_cast<float*>(base + q_bytes);
  in.sum_x = reinterpret_cast<float*>(base + q_bytes + v_bytes);
  in.sum_q = reinterpret_cast<int32_t*>(base + q_bytes + 2 * v_bytes);
  return in;
}

// Quantizes block index i of the inputs x (the caller shares the indices out over its threads):
// for T == 1 block i of the one input; otherwise block i % nb of every input of pass i / nb.
template <IntBits kBits>
void quantize_inputs_block(const float* x, const IntInputs& in, int64_t i) {
  using E = typename Kind<kBits>::E;
  constexpr int kGroup = Kind<kBits>::kGroup, kGroups = Kind<kBits>::kGroups;
  if (in.T == 1) {
    quantize_block_fast<kBits>(x + i * kQK, reinterpret_cast<E*>(in.q) + i * kQK, in.scale + i,
                               in.sum_x + i, in.sum_q + i);
    return;
  }
  const int64_t p = i / in.nb, b = i % in.nb;
  uint8_t* q = in.q + p * in.pass_q() + b * kGroups * 64;
  const int64_t v = p * in.pass_v() + b * kLanes;
  for (int64_t j = 0; j < kLanes; ++j) {
    const int64_t row = p * kLanes + j;
    alignas(64) E qb[kQK] = {};
    float scale = 0.0f, sum_x = 0.0f;
    int32_t sum_q = 0;
    if (row < in.T)
      quantize_block_fast<kBits>(x + row * in.K + b * kQK, qb, &scale, &sum_x, &sum_q);
    for (int g = 0; g < kGroups; ++g) std::memcpy(q + g * 64 + j * 4, qb + g * kGroup, 4);
    in.scale[v + j] = scale;
    in.sum_x[v + j] = sum_x;
    in.sum_q[v + j] = sum_q;
  }
}

// res[r * 16 + j] = row r . input j of one pass, for R weight rows (u: K values each, d and m:
// nb each). int8: the offset's correction, -offset * sum q, starts each block's integer sum.
template <IntBits kBits, int R, bool kMin>
void tile(const typename Kind<kBits>::U* u, const float* d, const float* m, const IntInputs& in,
          int64_t pass, int offset, float* res) {
  constexpr int kGroup = Kind<kBits>::kGroup, kGroups = Kind<kBits>::kGroups;
  const int64_t nb = in.nb, K = in.K;
  const uint8_t* q = in.q + pass * in.pass_q();
  const int64_t v0 = pass * in.pass_v();
  const __m512i neg_offset = _mm512_set1_epi32(-offset);
  __m512 acc[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    __m512i start = _mm512_setzero_si512();
    if constexpr (Kind<kBits>::k8)
      start = _mm512_mullo_epi32(_mm512_load_si512(in.sum_q + v0 + b * kLanes), neg_offset);
    __m512i s[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) s[r] = start;
#pragma GCC unroll 16
    for (int g = 0; g < kGroups; ++g) {
      const __m512i xv = _mm512_load_si512(q + (b * kGroups + g) * 64);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        const __m512i wv = _mm512_set1_epi32(load_i32(u + r * K + b * kQK + g * kGroup));
        if constexpr (Kind<kBits>::k8)
          s[r] = _mm512_dpbusd_epi32(s[r], wv, xv);
        else
          s[r] = _mm512_dpwssd_epi32(s[r], wv, xv);
      }
    }
    const __m512 scale = _mm512_load_ps(in.scale + v0 + b * kLanes);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
      acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[r]),
                               _mm512_mul_ps(_mm512_set1_ps(d[r * nb + b]), scale), acc[r]);
    if constexpr (kMin) {
      const __m512 sx = _mm512_load_ps(in.sum_x + v0 + b * kLanes);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r)
        acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(m[r * nb + b]), sx, acc[r]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) _mm512_store_ps(res + r * kLanes, acc[r]);
}

template <IntBits kBits, bool kMin>
void tile_any(int R, const typename Kind<kBits>::U* u, const float* d, const float* m,
              const IntInputs& in, int64_t pass, int offset, float* res) {
  switch (R) {
    case 8: return tile<kBits, 8, kMin>(u, d, m, in, pass, offset, res);
    case 7: return tile<kBits, 7, kMin>(u, d, m, in, pass, offset, res);
    case 6: return tile<kBits, 6, kMin>(u, d, m, in, pass, offset, res);
    case 5: return tile<kBits, 5, kMin>(u, d, m, in, pass, offset, res);
    case 4: return tile<kBits, 4, kMin>(u, d, m, in, pass, offset, res);
    case 3: return tile<kBits, 3, kMin>(u, d, m, in, pass, offset, res);
    case 2: return tile<kBits, 2, kMin>(u, d, m, in, pass, offset, res);
    default: return tile<kBits, 1, kMin>(u, d, m, in, pass, offset, res);
  }
}

// Per-thread room for a tile's unpacked weight rows.
template <IntBits kBits>
struct TileScratch {
  std::vector<typename Kind<kBits>::U> u;
  std::vector<float> d, m;
  TileScratch(int64_t K, int64_t nb)
      : u(static_cast<size_t>(kTileRows * K)), d(static_cast<size_t>(kTileRows * nb)),
        m(d.size()) {}
};

// Rows n0 .. n0 + R of one product against every pass of the inputs.
template <IntBits kBits>
void product_tile(const IntProduct& p, const IntInputs& in, int64_t n0, TileScratch<kBits>& sc) {
  const Format f = format_of(p.t);
  const int64_t K = in.K, nb = in.nb;
  const int64_t row_bytes = static_cast<int64_t>(dtype_bytes(p.t, K));
  const int R = static_cast<int>(std::min<int64_t>(kTileRows, p.N - n0));
  const auto* w = static_cast<const uint8_t*>(p.w);
  for (int r = 0; r < R; ++r)
    unpack_row<kBits>(f, w + (n0 + r) * row_bytes, nb, kTileRows * row_bytes,
                      sc.u.data() + r * K, sc.d.data() + r * nb, sc.m.data() + r * nb);
  alignas(64) float res[kTileRows * kLanes];
  for (int64_t pass = 0; pass < in.passes; ++pass) {
    if (f.has_min)
      tile_any<kBits, true>(R, sc.u.data(), sc.d.data(), sc.m.data(), in, pass, f.offset, res);
    else
      tile_any<kBits, false>(R, sc.u.data(), sc.d.data(), sc.m.data(), in, pass, f.offset, res);
    const int64_t rows = std::min<int64_t>(kLanes, in.T - pass * kLanes);
    float* out = p.out + pass * kLanes * p.N + n0;
    for (int r = 0; r < R; ++r) {
      const float bv = p.bias ? p.bias[n0 + r] : 0.0f;
      for (int64_t j = 0; j < rows; ++j) out[j * p.N + r] = res[r * kLanes + j] + bv;
    }
  }
}

// One weight row against the one input, int8.
template <bool kNibbles, bool kMin>
float row_dot(const Format& f, const uint8_t* row, const IntInputs& in) {
  const __m128i mask = _mm_set1_epi8(0x0F);
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  const auto* q = reinterpret_cast<const int8_t*>(in.q);
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
    const __m256i start = _mm256_castsi128_si256(_mm_cvtsi32_si128(-f.offset * in.sum_q[b]));
    const __m256i s = _mm256_dpbusd_epi32(
        start, u, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + b * kQK)));
    const __m256 scale = _mm256_set1_ps(load_f16_fast(blk) * in.scale[b]);
    acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), scale, acc[c]);
    if constexpr (kMin) acc_m[c] += load_f16_fast(blk + 2) * in.sum_x[b];
  };
  int64_t b = 0;
  for (; b + 1 < in.nb; b += 2) {
    block(b, 0);
    block(b + 1, 1);
  }
  if (b < in.nb) block(b, 0);
  const __m256 v = _mm256_add_ps(acc[0], acc[1]);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h) + (acc_m[0] + acc_m[1]);
}

float product_row(const IntProduct& p, const IntInputs& in, int64_t n) {
  const Format f = format_of(p.t);
  const uint8_t* row =
      static_cast<const uint8_t*>(p.w) + n * static_cast<int64_t>(dtype_bytes(p.t, in.K));
  float v;
  if (f.has_min) v = row_dot<true, true>(f, row, in);
  else if (f.nibbles) v = row_dot<true, false>(f, row, in);
  else v = row_dot<false, false>(f, row, in);
  return p.bias ? v + p.bias[n] : v;
}

template <IntBits kBits>
void run_group(const float* x, int64_t T, int64_t K, const IntProduct* products, int n) {
  const IntInputs in = layout_inputs(T, K, kBits);
  int64_t work = 0;
  for (int i = 0; i < n; ++i) work += products[i].N * K * T;
  const int64_t n_quant = in.passes * in.nb;
#pragma omp parallel if (work >= kMinParallelElems)
  {
    // The inputs' quantization is shared out too, by blocks: a block's values of all 16 inputs
    // of a pass share cache lines.
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n_quant; ++i) quantize_inputs_block<kBits>(x, in, i);
    if constexpr (kBits == IntBits::k8) {
      if (T == 1) {
        // Guided: contiguous ranges of rows (sequential streams), shrinking toward the end so
        // that a thread running slower does not leave the other waiting; no barrier between
        // products.
        for (int i = 0; i < n; ++i) {
          const IntProduct& p = products[i];
#pragma omp for schedule(guided) nowait
          for (int64_t r = 0; r < p.N; ++r) p.out[r] = product_row(p, in, r);
        }
      }
    }
    if (T > 1) {
      TileScratch<kBits> sc(K, in.nb);
      for (int i = 0; i < n; ++i) {
        const IntProduct& p = products[i];
        const int64_t n_tiles = (p.N + kTileRows - 1) / kTileRows;
#pragma omp for schedule(guided) nowait
        for (int64_t t = 0; t < n_tiles; ++t) product_tile<kBits>(p, in, t * kTileRows, sc);
      }
    }
  }
}

#pragma GCC diagnostic pop
#endif  // TSFT_INT_VNNI

}  // namespace

float quantize_activations(const float* x, int8_t* q) { return quantize_ref(x, q, 127.0f); }
float quantize_activations(const float* x, int16_t* q) { return quantize_ref(x, q, 32767.0f); }

bool matmul_int_supported(DType t) {
#ifdef TSFT_INT_VNNI
  return t == DType::kQ4_0 || t == DType::kQ4_1 || t == DType::kQ8_0;
#else
  (void)t;
  return false;
#endif
}

void matmul_int_group(const float* in, int64_t T, int64_t K, const IntProduct* products, int n,
                      IntBits bits) {
  for (int i = 0; i < n; ++i) {
    check_args(products[i].t, T, products[i].N, K);
    TSFT_CHECK(matmul_int_supported(products[i].t),
               "matmul_int: this build has no integer kernels (needs AVX512-VNNI)");
  }
  TSFT_CHECK(bits == IntBits::k8 || T != 1, "matmul_int: int16 inputs need 2 or more rows");
  if (T == 0 || n == 0) return;
#ifdef TSFT_INT_VNNI
  if (bits == IntBits::k8)
    run_group<IntBits::k8>(in, T, K, products, n);
  else
    run_group<IntBits::k16>(in, T, K, products, n);
#else
  (void)in;
#endif
}

void matmul_int(float* out, const float* in, const void* w, DType t, const float* bias,
                int64_t T, int64_t N, int64_t K, IntBits bits) {
  const IntProduct p{out, w, t, bias, N};
  matmul_int_group(in, T, K, &p, 1, bits);
}

void matmul_int_ref(float* out, const float* in, const void* w, DType t, const float* bias,
                    int64_t T, int64_t N, int64_t K, IntBits bits, float* bound) {
  check_args(t, T, N, K);
  const Format f = format_of(t);
  const int64_t nb = K / kQK;
  const int64_t row_bytes = static_cast<int64_t>(dtype_bytes(t, K));
  std::vector<int32_t> q(static_cast<size_t>(K));
  std::vector<float> scale(static_cast<size_t>(nb)), sum_x(scale.size());
  int u[kQK];
  for (int64_t i = 0; i < T; ++i) {
    for (int64_t b = 0; b < nb; ++b) {
      const float* x = in + i * K + b * kQK;
      if (bits == IntBits::k8) {
        int8_t qb[kQK];
        scale[b] = quantize_activations(x, qb);
        std::copy(qb, qb + kQK, q.begin() + b * kQK);
      } else {
        int16_t qb[kQK];
        scale[b] = quantize_activations(x, qb);
        std::copy(qb, qb + kQK, q.begin() + b * kQK);
      }
      double s = 0.0;
      for (int64_t k = 0; k < kQK; ++k) s += x[k];
      sum_x[b] = static_cast<float>(s);
    }
    for (int64_t n = 0; n < N; ++n) {
      double s = bias ? bias[n] : 0.0, e = 0.0;
      for (int64_t b = 0; b < nb; ++b) {
        const uint8_t* blk = static_cast<const uint8_t*>(w) + n * row_bytes + b * f.block_bytes;
        block_u_ref(f, blk, u);
        int64_t dot = 0, abs_w = 0;  // sum of w q, and of |w|, w = u - offset
        for (int64_t k = 0; k < kQK; ++k) {
          dot += static_cast<int64_t>(u[k] - f.offset) * q[b * kQK + k];
          abs_w += std::abs(u[k] - f.offset);
        }
        const double d = f16_at(blk);
        s += d * scale[b] * static_cast<double>(dot);
        if (f.has_min) s += static_cast<double>(f16_at(blk + 2)) * sum_x[b];
        e += 0.5 * scale[b] * std::fabs(d) * static_cast<double>(abs_w);
      }
      out[i * N + n] = static_cast<float>(s);
      if (bound) bound[i * N + n] = static_cast<float>(e);
    }
  }
}

void set_activations(Activations a) { g_activations.store(a, std::memory_order_relaxed); }
Activations activations() { return g_activations.load(std::memory_order_relaxed); }

bool parse_activations(const std::string& name, Activations* a) {
  if (name == "f32") *a = Activations::kF32;
  else if (name == "auto") *a = Activations::kAuto;
  else if (name == "int8") *a = Activations::kInt8;
  else return false;
  return true;
}

std::string activations_summary() {
  if (!matmul_int_supported(DType::kQ4_1)) return "f32 (no AVX512-VNNI)";
  switch (activations()) {
    case Activations::kInt8: return "int8";
    case Activations::kAuto: return "auto (int16 for batched steps)";
    default: return "f32";
  }
}

}  // namespace tsft
