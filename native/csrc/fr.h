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

/*
 * Montgomery product a * b / R mod r: coarsely integrated operand scanning, in the form that
 * needs no carry word above the four limbs because r's top limb is below 2^63 - 1.
 */
static inline void fr_mul(fr *o, const fr *a, const fr *b) {
  uint64_t t[4] = {0, 0, 0, 0};
  for (int i = 0; i < 4; i++) {
    uint64_t bi = b->l[i];
    u128 x = (u128)a->l[0] * bi + t[0];
    uint64_t hi = (uint64_t)(x >> 64);
    uint64_t lo = (uint64_t)x;
    uint64_t m = lo * FR_INV;
    u128 y = (u128)m * FR_R0 + lo;
    uint64_t c = (uint64_t)(y >> 64);
    x = (u128)a->l[1] * bi + t[1] + hi;
    hi = (uint64_t)(x >> 64);
    y = (u128)m * FR_R1 + (uint64_t)x + c;
    c = (uint64_t)(y >> 64);
    t[0] = (uint64_t)y;
    x = (u128)a->l[2] * bi + t[2] + hi;
    hi = (uint64_t)(x >> 64);
    y = (u128)m * FR_R2 + (uint64_t)x + c;
    c = (uint64_t)(y >> 64);
    t[1] = (uint64_t)y;
    x = (u128)a->l[3] * bi + t[3] + hi;
    hi = (uint64_t)(x >> 64);
    y = (u128)m * FR_R3 + (uint64_t)x + c;
    c = (uint64_t)(y >> 64);
    t[2] = (uint64_t)y;
    t[3] = hi + c;
  }
  fr_reduce_once(t, 0);
  memcpy(o->l, t, sizeof t);
}


#endif
