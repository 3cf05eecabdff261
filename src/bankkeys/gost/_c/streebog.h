/*
 * Streebog, the GOST R 34.11-2012 hash function (RFC 6986), 256- and 512-bit digests.
 *
 * Pure C11, no Python, no allocation. The context is a plain struct: copying it with memcpy or
 * assignment forks the hash state (that is how the Python binding implements copy()).
 *
 * Byte order: input is hashed in stream order and the digest is written exactly as
 * `openssl dgst -md_gost12_256` prints it (the standard prints its vectors byte-reversed).
 */
#ifndef BANKKEYS_STREEBOG_H
#define BANKKEYS_STREEBOG_H

#include <stddef.h>
#include <stdint.h>

#define STREEBOG_BLOCK_SIZE 64
#define STREEBOG256_DIGEST_SIZE 32
#define STREEBOG512_DIGEST_SIZE 64

typedef struct {
    uint64_t h[8];      /* chaining value, word 0 = least significant */
    uint64_t n[8];      /* number of message bits processed so far, mod 2^512 */
    uint64_t sigma[8];  /* sum of the message blocks, mod 2^512 */
    uint8_t buf[STREEBOG_BLOCK_SIZE];
    size_t buflen;      /* 0..63 bytes waiting in buf */
    size_t digest_size; /* 32 or 64 */
} streebog_ctx;

/* Start a hash of `digest_bits` = 256 or 512. Returns 0, or -1 (ctx untouched) for any other size.
 * Safe to call from several threads at once (the shared lookup tables are built exactly once). */
int streebog_init(streebog_ctx *ctx, unsigned digest_bits);

/* Absorb `len` bytes; `data` needs no alignment and may be NULL when len is 0. */
void streebog_update(streebog_ctx *ctx, const void *data, size_t len);

/* Write ctx->digest_size bytes to `out` and wipe the context. Copy the context first to keep
 * hashing after a digest. */
void streebog_final(streebog_ctx *ctx, uint8_t *out);

/* One-shot hash; returns -1 for a bad digest size, else 0. */
int streebog(unsigned digest_bits, const void *data, size_t len, uint8_t *out);

/* Zeroise a context (or anything else) in a way the compiler may not drop. */
void streebog_wipe(void *p, size_t len);

#endif
