/*
 * Data-only erasure recovery and cell extension for EIP-7594 blobs: 4096 field elements
 * extended to 8192, in 128 cells of 64, everything in the spec's bit-reversed order.
 */
#ifndef CELLAR_ERASURE_H
#define CELLAR_ERASURE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CELLAR_CELLS 128
#define CELLAR_DATA_CELLS 64
#define CELLAR_CELL_ELEMENTS 64
#define CELLAR_CELL_BYTES (CELLAR_CELL_ELEMENTS * 32)

enum cellar_status {
  CELLAR_OK = 0,
  /* a 32-byte word is not below the modulus; *bad_cell and *bad_element say where */
  CELLAR_NON_CANONICAL = 1,
  /* indices not ascending and unique, out of range, or fewer than 64 of them */
  CELLAR_BAD_INDICES = 2,
  CELLAR_NO_MEMORY = 3,
};

/* Builds the root tables. Call once, before anything else (not thread-safe). */
void cellar_erasure_init(void);

/*
 * Recovers `blobs` blobs that all hold the same `count` cells `indices` (ascending, unique,
 * < 128, count >= 64). `cells` is blob-major: blob b's i-th given cell is at
 * cells + (b * count + i) * 2048. Writes blob-major `out`: all 128 cells of each blob when
 * `all_cells`, else its 64 original cells (the blob itself), 2048 bytes each.
 * On CELLAR_NON_CANONICAL, *bad_blob, *bad_cell (position in `indices`) and *bad_element say
 * which word; `out` is then undefined. Thread-safe after init.
 */
int cellar_recover(const uint8_t *indices, size_t count, const uint8_t *cells, size_t blobs, int all_cells,
                   uint8_t *out, size_t *bad_blob, size_t *bad_cell, size_t *bad_element);

#ifdef __cplusplus
}
#endif

#endif
