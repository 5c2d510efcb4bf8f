/*
 * The BLS12-381 scalar field Fr in Montgomery form: four 64-bit limbs, little-endian, products
 * through unsigned __int128. Portable C (GCC and Clang on 64-bit targets); no CPU-specific code.
 *
 * r = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001, R = 2^256 mod r.
 * Every value held in an fr is fully reduced (< r).
 */
#ifndef CELLAR_FR_H
#define CELLAR_FR_H

#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;

typedef struct {
  uint64_t l[4];
} fr;

static const uint64_t FR_R0 = 0xffffffff00000001ULL;
static const uint64_t FR_R1 = 0x53bda402fffe5bfeULL;
static const uint64_t FR_R2 = 0x3339d80809a1d805ULL;
static const uint64_t FR_R3 = 0x73eda753299d7d48ULL;
/* -r^-1 mod 2^64 */
static const uint64_t FR_INV = 0xfffffffeffffffffULL;

/* t := t - r when t >= r (t < 2r on entry, with `hi` the bit above the four limbs). */
static inline void fr_reduce_once(uint64_t t[4], uint64_t hi) {
  uint64_t s[4];
  u128 d = (u128)t[0] - FR_R0;
  s[0] = (uint64_t)d;
  d = (u128)t[1] - FR_R1 - (uint64_t)(d >> 127);
  s[1] = (uint64_t)d;
  d = (u128)t[2] - FR_R2 - (uint64_t)(d >> 127);
  s[2] = (uint64_t)d;
  d = (u128)t[3] - FR_R3 - (uint64_t)(d >> 127);
  s[3] = (uint64_t)d;
  uint64_t borrow = (uint64_t)(d >> 127);
  /* keep s when there was no borrow out, or when the value overflowed four limbs */
  uint64_t keep_s = (uint64_t)0 - ((borrow ^ 1) | hi);
  for (int i = 0; i < 4; i++) t[i] = (s[i] & keep_s) | (t[i] & ~keep_s);
}

static inline void fr_add(fr *o, const fr *a, const fr *b) {
  uint64_t t[4];
  u128 c = (u128)a->l[0] + b->l[0];
  t[0] = (uint64_t)c;
  c = (u128)a->l[1] + b->l[1] + (uint64_t)(c >> 64);
  t[1] = (uint64_t)c;
  c = (u128)a->l[2] + b->l[2] + (uint64_t)(c >> 64);
  t[2] = (uint64_t)c;
  c = (u128)a->l[3] + b->l[3] + (uint64_t)(c >> 64);
  t[3] = (uint64_t)c;
  fr_reduce_once(t, (uint64_t)(c >> 64));
  memcpy(o->l, t, sizeof t);
}

static inline void fr_sub(fr *o, const fr *a, const fr *b) {
  uint64_t t[4];
  u128 d = (u128)a->l[0] - b->l[0];
  t[0] = (uint64_t)d;
  d = (u128)a->l[1] - b->l[1] - (uint64_t)(d >> 127);
  t[1] = (uint64_t)d;
  d = (u128)a->l[2] - b->l[2] - (uint64_t)(d >> 127);
  t[2] = (uint64_t)d;
  d = (u128)a->l[3] - b->l[3] - (uint64_t)(d >> 127);
  t[3] = (uint64_t)d;
  /* on a borrow, add r back */
  uint64_t mask = (uint64_t)0 - (uint64_t)(d >> 127);
  u128 c = (u128)t[0] + (FR_R0 & mask);
  t[0] = (uint64_t)c;
  c = (u128)t[1] + (FR_R1 & mask) + (uint64_t)(c >> 64);
  t[1] = (uint64_t)c;
  c = (u128)t[2] + (FR_R2 & mask) + (uint64_t)(c >> 64);
  t[2] = (uint64_t)c;
  c = (u128)t[3] + (FR_R3 & mask) + (uint64_t)(c >> 64);
  t[3] = (uint64_t)c;
  memcpy(o->l, t, sizeof t);
}

/* Montgomery product a * b / R mod r (coarsely integrated operand scanning). */
static inline void fr_mul(fr *o, const fr *a, const fr *b) {
  uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  for (int i = 0; i < 4; i++) {
    uint64_t bi = b->l[i];
    u128 uv;
    uint64_t c;
    uv = (u128)a->l[0] * bi + t0;
    t0 = (uint64_t)uv;
    c = (uint64_t)(uv >> 64);
    uv = (u128)a->l[1] * bi + t1 + c;
    t1 = (uint64_t)uv;
    c = (uint64_t)(uv >> 64);
    uv = (u128)a->l[2] * bi + t2 + c;
    t2 = (uint64_t)uv;
    c = (uint64_t)(uv >> 64);
    uv = (u128)a->l[3] * bi + t3 + c;
    t3 = (uint64_t)uv;
    c = (uint64_t)(uv >> 64);
    uv = (u128)t4 + c;
    t4 = (uint64_t)uv;
    uint64_t t5 = (uint64_t)(uv >> 64);

    uint64_t m = t0 * FR_INV;
    uv = (u128)m * FR_R0 + t0;
    c = (uint64_t)(uv >> 64);
    uv = (u128)m * FR_R1 + t1 + c;
    t0 = (uint64_t)uv;
    c = (uint64_t)(uv >> 64);
    uv = (u128)m * FR_R2 + t2 + c;
    t1 = (uint64_t)uv;
    c = (uint64_t)(uv >> 64);
    uv = (u128)m * FR_R3 + t3 + c;
    t2 = (uint64_t)uv;
    c = (uint64_t)(uv >> 64);
    uv = (u128)t4 + c;
    t3 = (uint64_t)uv;
    t4 = t5 + (uint64_t)(uv >> 64);
  }
  uint64_t t[4] = {t0, t1, t2, t3};
  fr_reduce_once(t, t4);
  memcpy(o->l, t, sizeof t);
}

static inline int fr_is_zero(const fr *a) { return (a->l[0] | a->l[1] | a->l[2] | a->l[3]) == 0; }

#endif
