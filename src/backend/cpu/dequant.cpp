// Dequantization of GGML block formats to float32, bit-exact with gguf-py's numpy code
// (gguf/quants.py), which is what transformers runs when it loads a GGUF file.
//
// Bit-exactness rests on doing the same float32 operations in the same order as numpy: e.g.
// Q4_1 is (d * q) + m with two roundings, Q4_K is ((d * sc) * q) - (dmin * m). For today's
// formats the products are exact (an f16 scale times a few-bit integer fits in 24 bits), so a
// fused multiply-add would give the same bits, but contraction is switched off for this file
// anyway so that no future format or refactor can silently diverge (GCC contracts by default in
// gnu++ mode, and AVX2 intrinsics are plain vector arithmetic to it).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "backend/cpu/dequant.h"

#include <cstring>

#include "core/error.h"
#include "core/half.h"

#ifdef __AVX2__
#include <immintrin.h>
#endif

namespace tsft {
namespace {

constexpr int kQK = 32;    // elements per Q4_0/Q4_1/Q8_0 block
constexpr int kQKK = 256;  // elements per K-quant super-block

inline uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline float load_f16(const uint8_t* p) { return f16_to_f32(load_u16(p)); }

// ---- scalar references, one per type -----------------------------------------------------

void ref_f32(const uint8_t* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * 4);
}

void ref_f16(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(load_u16(src + 2 * i));
}

void ref_bf16(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(load_u16(src + 2 * i));
}

// Block: f16 d, 16 bytes of nibbles. Low nibbles are elements 0..15, high nibbles 16..31.
void ref_q4_0(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, src += 18, dst += kQK) {
    const float d = load_f16(src);
    const uint8_t* qs = src + 2;
    for (int j = 0; j < 16; ++j) {
      dst[j] = d * static_cast<float>((qs[j] & 0x0F) - 8);
      dst[j + 16] = d * static_cast<float>((qs[j] >> 4) - 8);
    }
  }
}

// Block: f16 d, f16 m, 16 bytes of nibbles; x = (d * q) + m.
void ref_q4_1(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, src += 20, dst += kQK) {
    const float d = load_f16(src);
    const float m = load_f16(src + 2);
    const uint8_t* qs = src + 4;
    for (int j = 0; j < 16; ++j) {
      const float lo = d * static_cast<float>(qs[j] & 0x0F);
      const float hi = d * static_cast<float>(qs[j] >> 4);
      dst[j] = lo + m;
      dst[j + 16] = hi + m;
    }
  }
}

// Block: f16 d, 32 int8.
void ref_q8_0(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, src += 34, dst += kQK) {
    const float d = load_f16(src);
    const int8_t* qs = reinterpret_cast<const int8_t*>(src + 2);
    for (int j = 0; j < kQK; ++j) dst[j] = static_cast<float>(qs[j]) * d;
  }
}

// The 12-byte packing of eight 6-bit scales and eight 6-bit mins shared by Q4_K and Q5_K.
void unpack_scale_min_k4(const uint8_t* s, uint8_t sc[8], uint8_t mn[8]) {
  for (int i = 0; i < 4; ++i) {
    sc[i] = s[i] & 0x3F;
    mn[i] = s[4 + i] & 0x3F;
    sc[4 + i] = (s[8 + i] & 0x0F) | ((s[i] >> 2) & 0x30);
    mn[4 + i] = (s[8 + i] >> 4) | ((s[4 + i] >> 2) & 0x30);
  }
}

// Super-block: f16 d, f16 dmin, 12 bytes scales, 128 bytes nibbles. Sub-block j (32 elements)
// uses byte group j/2 and the low (j even) or high (j odd) nibble.
void ref_q4_k(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQKK; ++b, src += 144, dst += kQKK) {
    const float d = load_f16(src);
    const float dmin = load_f16(src + 2);
    uint8_t sc[8], mn[8];
    unpack_scale_min_k4(src + 4, sc, mn);
    const uint8_t* qs = src + 16;
    for (int j = 0; j < 8; ++j) {
      const float dl = d * static_cast<float>(sc[j]);
      const float ml = dmin * static_cast<float>(mn[j]);
      const uint8_t* q = qs + (j / 2) * 32;
      const int shift = (j % 2) * 4;
      for (int l = 0; l < 32; ++l) {
        const float prod = dl * static_cast<float>((q[l] >> shift) & 0x0F);
        dst[j * 32 + l] = prod - ml;
      }
    }
  }
}

// Super-block: f16 d, f16 dmin, 12 bytes scales, 32 bytes high bits, 128 bytes nibbles.
// Sub-block j takes bit j of qh[l] as its fifth bit.
void ref_q5_k(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQKK; ++b, src += 176, dst += kQKK) {
    const float d = load_f16(src);
    const float dmin = load_f16(src + 2);
    uint8_t sc[8], mn[8];
    unpack_scale_min_k4(src + 4, sc, mn);
    const uint8_t* qh = src + 16;
    const uint8_t* qs = src + 48;
    for (int j = 0; j < 8; ++j) {
      const float dl = d * static_cast<float>(sc[j]);
      const float ml = dmin * static_cast<float>(mn[j]);
      const uint8_t* q = qs + (j / 2) * 32;
      const int shift = (j % 2) * 4;
      for (int l = 0; l < 32; ++l) {
        const int v = ((q[l] >> shift) & 0x0F) | (((qh[l] >> j) & 1) << 4);
        const float prod = dl * static_cast<float>(v);
        dst[j * 32 + l] = prod - ml;
      }
    }
  }
}

// Super-block: 128 bytes low nibbles, 64 bytes high 2-bit pairs, 16 int8 scales, f16 d.
// Element i in half h = i/128, r = i%128: low bits from ql[h*64 + r%64] >> 4*(r/64), high bits
// from qh[h*32 + r%32] >> 2*(r/32); scale index i/16.
void ref_q6_k(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQKK; ++b, src += 210, dst += kQKK) {
    const uint8_t* ql = src;
    const uint8_t* qh = src + 128;
    const int8_t* scales = reinterpret_cast<const int8_t*>(src + 192);
    const float d = load_f16(src + 208);
    for (int i = 0; i < kQKK; ++i) {
      const int h = i / 128, r = i % 128;
      const int lo = (ql[h * 64 + r % 64] >> (4 * (r / 64))) & 0x0F;
      const int hi = (qh[h * 32 + r % 32] >> (2 * (r / 32))) & 0x03;
      const float ds = d * static_cast<float>(scales[i / 16]);
      dst[i] = ds * static_cast<float>((lo | (hi << 4)) - 32);
    }
  }
}

void check_row(DType t, int64_t n) {
  const DTypeInfo& info = dtype_info(t);
  TSFT_CHECK(n >= 0 && n % info.block_elems == 0, "dequantize ", info.name, ": ", n,
             " elements is not a multiple of the block size ", info.block_elems);
}

// ---- fast versions -------------------------------------------------------------------------

#ifdef __AVX2__
[[maybe_unused]] void fast_q8_0(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, src += 34, dst += kQK) {
    const __m256 d = _mm256_set1_ps(load_f16_fast(src));
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2));
    const __m128i lo = _mm256_castsi256_si128(q);
    const __m128i hi = _mm256_extracti128_si256(q, 1);
    const __m256 f0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo));
    const __m256 f1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
    const __m256 f2 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi));
    const __m256 f3 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
    _mm256_storeu_ps(dst, _mm256_mul_ps(f0, d));
    _mm256_storeu_ps(dst + 8, _mm256_mul_ps(f1, d));
    _mm256_storeu_ps(dst + 16, _mm256_mul_ps(f2, d));
    _mm256_storeu_ps(dst + 24, _mm256_mul_ps(f3, d));
  }
}

// Expands 16 packed bytes into 32 floats of nibbles: low nibbles first, then high nibbles,
// with `bias` subtracted (8 for Q4_0, 0 for Q4_1).
inline void nibbles_to_f32(const uint8_t* qs, int bias, __m256 out[4]) {
  const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i mask = _mm_set1_epi8(0x0F);
  const __m128i lo = _mm_and_si128(raw, mask);
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(raw, 4), mask);
  const __m256i b = _mm256_set1_epi32(bias);
  out[0] = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(lo), b));
  out[1] = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)), b));
  out[2] = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(hi), b));
  out[3] = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8)), b));
}

#ifdef __AVX512F__
// GCC 12's own avx512fintrin.h trips -Wmaybe-uninitialized in the widening conversions (their
// "undefined" source operand is a self-initialised variable); the code here reads no such value.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// With AVX-512 a block is two 16-float vectors: half the instructions of the 8-float forms
// (the batched-decoding kernels dequantize each weight once per step, a quarter of their time).
inline __m512 int8s_to_f32(__m128i bytes16) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(bytes16));
}

void fast_q8_0_avx512(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, src += 34, dst += kQK) {
    const __m512 d = _mm512_set1_ps(load_f16_fast(src));
    const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2));
    const __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 18));
    _mm512_storeu_ps(dst, _mm512_mul_ps(int8s_to_f32(q0), d));
    _mm512_storeu_ps(dst + 16, _mm512_mul_ps(int8s_to_f32(q1), d));
  }
}

// Q4_0 (kQ4_0: 8 subtracted, d * q) or Q4_1 ((d * q) + m).
template <bool kQ4_0>
void fast_q4_avx512(const uint8_t* src, float* dst, int64_t n) {
  constexpr int64_t kBytes = kQ4_0 ? 18 : 20;
  for (int64_t b = 0; b < n / kQK; ++b, src += kBytes, dst += kQK) {
    const __m512 d = _mm512_set1_ps(load_f16_fast(src));
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + (kQ4_0 ? 2 : 4)));
    // One widening for both nibbles: byte j's low nibble is element j, its high nibble j + 16.
    const __m512i v = _mm512_cvtepu8_epi32(raw);
    __m512i lo = _mm512_and_si512(v, _mm512_set1_epi32(0x0F));
    __m512i hi = _mm512_srli_epi32(v, 4);
    if constexpr (kQ4_0) {
      const __m512i eight = _mm512_set1_epi32(8);
      lo = _mm512_sub_epi32(lo, eight);
      hi = _mm512_sub_epi32(hi, eight);
      _mm512_storeu_ps(dst, _mm512_mul_ps(d, _mm512_cvtepi32_ps(lo)));
      _mm512_storeu_ps(dst + 16, _mm512_mul_ps(d, _mm512_cvtepi32_ps(hi)));
    } else {
      // A fused multiply-add: d * q is exact in float32 (an f16 scale times a 4-bit integer
      // needs 15 bits), so rounding (d * q) + m once gives numpy's two roundings bit for bit.
      const __m512 m = _mm512_set1_ps(load_f16_fast(src + 2));
      _mm512_storeu_ps(dst, _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(lo), m));
      _mm512_storeu_ps(dst + 16, _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(hi), m));
    }
  }
}
#pragma GCC diagnostic pop
#endif  // __AVX512F__

[[maybe_unused]] void fast_q4_0(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, src += 18, dst += kQK) {
    const __m256 d = _mm256_set1_ps(load_f16_fast(src));
    __m256 q[4];
    nibbles_to_f32(src + 2, 8, q);
    for (int k = 0; k < 4; ++k) _mm256_storeu_ps(dst + 8 * k, _mm256_mul_ps(d, q[k]));
  }
}

[[maybe_unused]] void fast_q4_1(const uint8_t* src, float* dst, int64_t n) {
  for (int64_t b = 0; b < n / kQK; ++b, src += 20, dst += kQK) {
    const __m256 d = _mm256_set1_ps(load_f16_fast(src));
    const __m256 m = _mm256_set1_ps(load_f16_fast(src + 2));
    __m256 q[4];
    nibbles_to_f32(src + 4, 0, q);
    for (int k = 0; k < 4; ++k)
      _mm256_storeu_ps(dst + 8 * k, _mm256_add_ps(_mm256_mul_ps(d, q[k]), m));
  }
}

void fast_q4_k(const uint8_t* src, float* dst, int64_t n) {
  const __m256i mask = _mm256_set1_epi32(0x0F);
  for (int64_t b = 0; b < n / kQKK; ++b, src += 144, dst += kQKK) {
    const float d = load_f16_fast(src);
    const float dmin = load_f16_fast(src + 2);
    uint8_t sc[8], mn[8];
    unpack_scale_min_k4(src + 4, sc, mn);
    const uint8_t* qs = src + 16;
    for (int j = 0; j < 8; ++j) {
      const __m256 dl = _mm256_set1_ps(d * static_cast<float>(sc[j]));
      const __m256 ml = _mm256_set1_ps(dmin * static_cast<float>(mn[j]));
      const uint8_t* q = qs + (j / 2) * 32;
      const __m128i shift = _mm_cvtsi32_si128((j % 2) * 4);
      for (int l = 0; l < 32; l += 8) {
        const __m128i raw = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + l));
        const __m256i v = _mm256_and_si256(_mm256_srl_epi32(_mm256_cvtepu8_epi32(raw), shift), mask);
        const __m256 prod = _mm256_mul_ps(dl, _mm256_cvtepi32_ps(v));
        _mm256_storeu_ps(dst + j * 32 + l, _mm256_sub_ps(prod, ml));
      }
    }
  }
}
#endif  // __AVX2__

}  // namespace

void dequantize_row_ref(DType t, const void* src_v, float* dst, int64_t n) {
  check_row(t, n);
  const auto* src = static_cast<const uint8_t*>(src_v);
  switch (t) {
    case DType::kF32: return ref_f32(src, dst, n);
    case DType::kF16: return ref_f16(src, dst, n);
    case DType::kBF16: return ref_bf16(src, dst, n);
    case DType::kQ4_0: return ref_q4_0(src, dst, n);
    case DType::kQ4_1: return ref_q4_1(src, dst, n);
    case DType::kQ8_0: return ref_q8_0(src, dst, n);
    case DType::kQ4_K: return ref_q4_k(src, dst, n);
    case DType::kQ5_K: return ref_q5_k(src, dst, n);
    case DType::kQ6_K: return ref_q6_k(src, dst, n);
    default: break;
  }
  // Integer and F64 tensors are not weights; callers must not route them here.
  TSFT_CHECK(false, "dequantize: unsupported dtype ", dtype_name(t));
}

void dequantize_row(DType t, const void* src_v, float* dst, int64_t n) {
#ifdef __AVX2__
  check_row(t, n);
  const auto* src = static_cast<const uint8_t*>(src_v);
  switch (t) {
#ifdef __AVX512F__
    case DType::kQ4_0: return fast_q4_avx512<true>(src, dst, n);
    case DType::kQ4_1: return fast_q4_avx512<false>(src, dst, n);
    case DType::kQ8_0: return fast_q8_0_avx512(src, dst, n);
#else
    case DType::kQ4_0: return fast_q4_0(src, dst, n);
    case DType::kQ4_1: return fast_q4_1(src, dst, n);
    case DType::kQ8_0: return fast_q8_0(src, dst, n);
#endif
    case DType::kQ4_K: return fast_q4_k(src, dst, n);
    default: break;
  }
#endif
  dequantize_row_ref(t, src_v, dst, n);
}

}  // namespace tsft
