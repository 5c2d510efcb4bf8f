/*
 * Data-only recovery of EIP-7594 cells, without the KZG proofs.
 *
 * The blob is the polynomial P (degree < 4096) evaluated over the 4096-th roots of unity, and
 * its extension over the 8192-th roots w, both in bit-reversed order. Cell c holds P on the
 * coset h_c * <mu>, where mu = w^128 generates the 64-th roots and h_c = w^brp7(c); its j-th
 * element is P(h_c * mu^brp6(j)). Split P by residues mod 64:
 *
 *     P(x) = sum_{k<64} x^k Q_k(x^64),   deg Q_k < 64,
 *
 * so that cell c is a 64-point DFT of (h_c^k Q_k(y_c))_k, with y_c = h_c^64 = v^brp7(c) and v a
 * primitive 128-th root. The recovery of 8192 values then falls apart into three cheap steps:
 *
 *  1. each given cell: one inverse 64-point NTT (the cell's bit-reversed order is exactly the
 *     order an in-place decimation-in-time transform wants) and a twist by h_c^-k gives
 *     Q_k(y_c) for all 64 k;
 *  2. each k: Q_k is known at the given points y_c and wanted at the missing ones. With Z the
 *     polynomial vanishing on the missing points, Q_k * Z has degree < 128 and equals the known
 *     E_k * Z on all 128 points, so one inverse 128-point NTT gives its coefficients. At a
 *     missing point y_m, (Q_k Z)'(y_m) = Q_k(y_m) Z'(y_m): scaling coefficient i by i and one
 *     forward NTT give y * (Q_k Z)' everywhere, and Z(y) Z_S(y) = y^128 - 1 (Z_S vanishing on
 *     the given points) turns the division by y_m Z'(y_m) into a product with Z_S(y_m) / 128.
 *     No inversion at all, and no coset: where the spec and c-kzg divide by Z over a shifted
 *     8192-point domain, this divides by nothing;
 *  3. each wanted cell: twist by h_c^k and one forward 64-point NTT (decimation in frequency,
 *     whose output order is the cell's bit-reversed order).
 *
 * About 100k field products per blob (70k from the parity half alone), against about 320k for the
 * 8192-point formulation. The
 * vanishing values, twists and constants depend only on which cells are missing and are built
 * once per call, however many blobs share them.
 */
#include "erasure.h"

#include <stdlib.h>

#include "fr.h"

static fr FR_ONE;   /* R mod r: one in Montgomery form */
static fr FR_RR;    /* R^2 mod r: converts into Montgomery form */
static const fr FR_RAW_ONE = {{1, 0, 0, 0}};

static fr TW64[32], ITW64[32];    /* mu^k and mu^-k */
static fr TW128[64], ITW128[64];  /* v^k and v^-k */
static fr Y[CELLAR_CELLS];        /* y_c = v^brp7(c), indexed by cell */
static fr HPOW[CELLAR_CELLS][64]; /* h_c^k */
static fr HINV[CELLAR_CELLS][64]; /* h_c^-k */
static fr ISCALE[CELLAR_CELLS];   /* i / 2^20: the derivative's factor and all the transforms' 1/n */

static unsigned brp(unsigned x, unsigned bits) {
  unsigned r = 0;
  for (unsigned i = 0; i < bits; i++) r |= ((x >> i) & 1u) << (bits - 1 - i);
  return r;
}

static void fr_pow(fr *o, const fr *base, const uint64_t e[4]) {
  fr acc = FR_ONE, b = *base;
  for (int limb = 0; limb < 4; limb++) {
    for (int bit = 0; bit < 64; bit++) {
      if ((e[limb] >> bit) & 1) fr_mul(&acc, &acc, &b);
      fr_mul(&b, &b, &b);
    }
  }
  *o = acc;
}

static void fr_from_u64(fr *o, uint64_t x) {
  fr raw = {{x, 0, 0, 0}};
  fr_mul(o, &raw, &FR_RR);
}

static void fr_inv(fr *o, const fr *a) {
  const uint64_t e[4] = {FR_R0 - 2, FR_R1, FR_R2, FR_R3};
  fr_pow(o, a, e);
}

void cellar_erasure_init(void) {
  /* R^2 mod r by doubling one 512 times (plain representation, then it is R^2). */
  fr x = FR_RAW_ONE;
  for (int i = 0; i < 512; i++) fr_add(&x, &x, &x);
  FR_RR = x;
  fr_mul(&FR_ONE, &FR_RR, &FR_RAW_ONE);

  /* w = 7^((r-1)/8192), the spec's root of unity of order 8192. */
  const uint64_t r[4] = {FR_R0, FR_R1, FR_R2, FR_R3};
  uint64_t e[4];
  const uint64_t r_minus_1_0 = r[0] - 1;
  e[0] = (r_minus_1_0 >> 13) | (r[1] << 51);
  e[1] = (r[1] >> 13) | (r[2] << 51);
  e[2] = (r[2] >> 13) | (r[3] << 51);
  e[3] = r[3] >> 13;
  fr seven, w;
  fr_from_u64(&seven, 7);
  fr_pow(&w, &seven, e);

  fr w_inv;
  fr_inv(&w_inv, &w);
  fr v = w, v_inv = w_inv;
  for (int i = 0; i < 6; i++) {
    fr_mul(&v, &v, &v);
    fr_mul(&v_inv, &v_inv, &v_inv);
  }
  fr mu, mu_inv;
  fr_mul(&mu, &v, &v);
  fr_mul(&mu_inv, &v_inv, &v_inv);

  fr p = FR_ONE, q = FR_ONE;
  for (int k = 0; k < 64; k++) {
    TW128[k] = p;
    ITW128[k] = q;
    fr_mul(&p, &p, &v);
    fr_mul(&q, &q, &v_inv);
  }
  for (int k = 0; k < 32; k++) {
    TW64[k] = TW128[2 * k];
    ITW64[k] = ITW128[2 * k];
  }

  fr vpow[CELLAR_CELLS];
  p = FR_ONE;
  for (int t = 0; t < CELLAR_CELLS; t++) {
    vpow[t] = p;
    fr_mul(&p, &p, &v);
  }
  for (unsigned c = 0; c < CELLAR_CELLS; c++) {
    unsigned t = brp(c, 7);
    Y[c] = vpow[t];
    fr h = FR_ONE, h_inv = FR_ONE;
    for (unsigned i = 0; i < t; i++) {
      fr_mul(&h, &h, &w);
      fr_mul(&h_inv, &h_inv, &w_inv);
    }
    fr a = FR_ONE, b = FR_ONE;
    for (int k = 0; k < 64; k++) {
      HPOW[c][k] = a;
      HINV[c][k] = b;
      fr_mul(&a, &a, &h);
      fr_mul(&b, &b, &h_inv);
    }
  }

  fr two20, inv20;
  fr_from_u64(&two20, (uint64_t)1 << 20);
  fr_inv(&inv20, &two20);
  for (int i = 0; i < CELLAR_CELLS; i++) {
    fr fi;
    fr_from_u64(&fi, (uint64_t)i);
    fr_mul(&ISCALE[i], &fi, &inv20);
  }
}

/* In place, bit-reversed input to natural output: out[k] = sum_n in[brp(n)] * tw^(n k). */
static void ntt_dit(fr *a, unsigned n, const fr *tw) {
  for (unsigned len = 2; len <= n; len <<= 1) {
    unsigned half = len >> 1, step = n / len;
    for (unsigned i = 0; i < n; i += len) {
      fr *lo = a + i, *hi = a + i + half;
      fr t;
      fr_sub(&t, &lo[0], &hi[0]);
      fr_add(&lo[0], &lo[0], &hi[0]);
      hi[0] = t;
      for (unsigned j = 1; j < half; j++) {
        fr vj;
        fr_mul(&vj, &hi[j], &tw[j * step]);
        fr_sub(&hi[j], &lo[j], &vj);
        fr_add(&lo[j], &lo[j], &vj);
      }
    }
  }
}

/* In place, natural input to bit-reversed output: out[brp(k)] = sum_n in[n] * tw^(n k). */
static void ntt_dif(fr *a, unsigned n, const fr *tw) {
  for (unsigned len = n; len >= 2; len >>= 1) {
    unsigned half = len >> 1, step = n / len;
    for (unsigned i = 0; i < n; i += len) {
      fr *lo = a + i, *hi = a + i + half;
      fr t;
      fr_sub(&t, &lo[0], &hi[0]);
      fr_add(&lo[0], &lo[0], &hi[0]);
      hi[0] = t;
      for (unsigned j = 1; j < half; j++) {
        fr_sub(&t, &lo[j], &hi[j]);
        fr_add(&lo[j], &lo[j], &hi[j]);
        fr_mul(&hi[j], &t, &tw[j * step]);
      }
    }
  }
}

static uint64_t load_be64(const uint8_t *p) {
  uint64_t x = 0;
  for (int i = 0; i < 8; i++) x = (x << 8) | p[i];
  return x;
}

static void store_be64(uint8_t *p, uint64_t x) {
  for (int i = 7; i >= 0; i--) {
    p[i] = (uint8_t)x;
    x >>= 8;
  }
}

/* A 32-byte big-endian word is canonical when it is below r. */
static int is_canonical(const uint8_t *p) {
  const uint64_t r[4] = {FR_R3, FR_R2, FR_R1, FR_R0};
  for (int i = 0; i < 4; i++) {
    uint64_t x = load_be64(p + 8 * i);
    if (x < r[i]) return 1;
    if (x > r[i]) return 0;
  }
  return 0;
}

/*
 * The words are read and written as they are, without converting into or out of Montgomery
 * form: the map from given cells to wanted cells is linear, so reading x as the representative
 * of x/R yields outputs whose representatives are the plain results. It saves a product per word.
 */
static void fr_load(fr *o, const uint8_t *p) {
  o->l[0] = load_be64(p + 24);
  o->l[1] = load_be64(p + 16);
  o->l[2] = load_be64(p + 8);
  o->l[3] = load_be64(p);
}

static void fr_store(uint8_t *p, const fr *a) {
  store_be64(p, a->l[3]);
  store_be64(p + 8, a->l[2]);
  store_be64(p + 16, a->l[1]);
  store_be64(p + 24, a->l[0]);
}

int cellar_recover(const uint8_t *indices, size_t count, const uint8_t *cells, size_t blobs, int all_cells,
                   uint8_t *out, size_t *bad_blob, size_t *bad_cell, size_t *bad_element) {
  if (count < CELLAR_DATA_CELLS || count > CELLAR_CELLS) return CELLAR_BAD_INDICES;
  int given[CELLAR_CELLS] = {0};
  for (size_t i = 0; i < count; i++) {
    if (indices[i] >= CELLAR_CELLS || (i > 0 && indices[i] <= indices[i - 1])) return CELLAR_BAD_INDICES;
    given[indices[i]] = 1;
  }

  /* Every word is checked before any work, so a refusal names the first bad word. */
  for (size_t b = 0; b < blobs; b++) {
    for (size_t i = 0; i < count; i++) {
      const uint8_t *cell = cells + (b * count + i) * CELLAR_CELL_BYTES;
      for (size_t e = 0; e < CELLAR_CELL_ELEMENTS; e++) {
        if (!is_canonical(cell + 32 * e)) {
          *bad_blob = b;
          *bad_cell = i;
          *bad_element = e;
          return CELLAR_NON_CANONICAL;
        }
      }
    }
  }

  const size_t out_cells = all_cells ? CELLAR_CELLS : CELLAR_DATA_CELLS;
  unsigned missing[CELLAR_CELLS], wanted[CELLAR_CELLS];
  size_t n_missing = 0, n_wanted = 0;
  for (unsigned c = 0; c < CELLAR_CELLS; c++) {
    if (given[c]) continue;
    missing[n_missing++] = c;
    if (c < out_cells) wanted[n_wanted++] = c;
  }

  /* The given cells go straight to the output. */
  for (size_t b = 0; b < blobs; b++) {
    for (size_t i = 0; i < count; i++) {
      if (indices[i] >= out_cells) continue;
      memcpy(out + (b * out_cells + indices[i]) * CELLAR_CELL_BYTES, cells + (b * count + i) * CELLAR_CELL_BYTES,
             CELLAR_CELL_BYTES);
    }
  }
  if (n_wanted == 0) return CELLAR_OK;

  /* Shared by every blob: the twists with Z(y_c) for given cells, Z_S(y_m) for wanted ones. */
  fr *tin = (fr *)malloc(sizeof(fr) * count * 64);
  fr *tout = (fr *)malloc(sizeof(fr) * n_wanted * 64);
  fr *work = (fr *)malloc(sizeof(fr) * 64 * CELLAR_CELLS); /* work[k * 128 + c] */
  if (tin == NULL || tout == NULL || work == NULL) {
    free(tin);
    free(tout);
    free(work);
    return CELLAR_NO_MEMORY;
  }
  for (size_t i = 0; i < count; i++) {
    unsigned c = indices[i];
    fr z = FR_ONE, d;
    for (size_t j = 0; j < n_missing; j++) {
      fr_sub(&d, &Y[c], &Y[missing[j]]);
      fr_mul(&z, &z, &d);
    }
    for (int k = 0; k < 64; k++) fr_mul(&tin[i * 64 + k], &z, &HINV[c][k]);
  }
  for (size_t j = 0; j < n_wanted; j++) {
    unsigned c = wanted[j];
    fr z = FR_ONE, d;
    for (size_t i = 0; i < count; i++) {
      fr_sub(&d, &Y[c], &Y[indices[i]]);
      fr_mul(&z, &z, &d);
    }
    for (int k = 0; k < 64; k++) fr_mul(&tout[j * 64 + k], &z, &HPOW[c][k]);
  }

  int first_half_missing = indices[0] >= CELLAR_DATA_CELLS;
  int second_half_missing = indices[count - 1] < CELLAR_DATA_CELLS;
  int even_half_wanted = wanted[n_wanted - 1] < CELLAR_DATA_CELLS;
  int odd_half_wanted = wanted[0] >= CELLAR_DATA_CELLS;
  fr buf[64];
  for (size_t b = 0; b < blobs; b++) {
    /* 1. Q_k(y_c) * Z(y_c) (times 64) for every given cell, zero at the missing ones. */
    for (size_t j = 0; j < n_missing; j++)
      for (int k = 0; k < 64; k++) work[k * CELLAR_CELLS + missing[j]] = (fr){{0, 0, 0, 0}};
    for (size_t i = 0; i < count; i++) {
      const uint8_t *cell = cells + (b * count + i) * CELLAR_CELL_BYTES;
      for (int e = 0; e < 64; e++) fr_load(&buf[e], cell + 32 * e);
      ntt_dit(buf, 64, ITW64);
      unsigned c = indices[i];
      for (int k = 0; k < 64; k++) fr_mul(&work[k * CELLAR_CELLS + c], &buf[k], &tin[i * 64 + k]);
    }
    /*
     * 2. Each k: coefficients of Q_k Z, times i, back to values: y (Q_k Z)' at every point.
     * Positions 0..63 are the even powers of v (cells 0..63), 64..127 the odd ones. When one half
     * holds no given cell, that half of the inverse transform is zero and only the other half's
     * transform and the last stage remain; when only one half is wanted (cells 0..63 for a blob,
     * 64..127 for the extension), only that half of the forward transform is computed.
     */
    for (int k = 0; k < 64; k++) {
      fr *col = work + k * CELLAR_CELLS;
      if (first_half_missing) {
        static const fr zero = {{0, 0, 0, 0}};
        ntt_dit(col + 64, 64, ITW64);
        for (int j = 0; j < 64; j++) {
          fr_mul(&col[j], &col[64 + j], &ITW128[j]);
          fr_sub(&col[64 + j], &zero, &col[j]);
        }
      } else if (second_half_missing) {
        ntt_dit(col, 64, ITW64);
        memcpy(col + 64, col, 64 * sizeof(fr));
      } else {
        ntt_dit(col, CELLAR_CELLS, ITW128);
      }
      for (int i = 1; i < CELLAR_CELLS; i++) fr_mul(&col[i], &col[i], &ISCALE[i]);
      col[0] = (fr){{0, 0, 0, 0}};
      if (even_half_wanted) {
        for (int j = 0; j < 64; j++) fr_add(&col[j], &col[j], &col[64 + j]);
        ntt_dif(col, 64, TW64);
      } else if (odd_half_wanted) {
        for (int j = 0; j < 64; j++) {
          fr d;
          fr_sub(&d, &col[j], &col[64 + j]);
          fr_mul(&col[64 + j], &d, &TW128[j]);
        }
        ntt_dif(col + 64, 64, TW64);
      } else {
        ntt_dif(col, CELLAR_CELLS, TW128);
      }
    }
    /* 3. Each wanted cell: h_c^k Q_k(y_c), then its 64 values in bit-reversed order. */
    for (size_t j = 0; j < n_wanted; j++) {
      unsigned c = wanted[j];
      for (int k = 0; k < 64; k++) fr_mul(&buf[k], &work[k * CELLAR_CELLS + c], &tout[j * 64 + k]);
      ntt_dif(buf, 64, TW64);
      uint8_t *dst = out + (b * out_cells + c) * CELLAR_CELL_BYTES;
      for (int e = 0; e < 64; e++) fr_store(dst + 32 * e, &buf[e]);
    }
  }
  free(tin);
  free(tout);
  free(work);
  return CELLAR_OK;
}
