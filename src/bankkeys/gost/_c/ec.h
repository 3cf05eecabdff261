/* GOST R 34.10-2012 signatures over the TC26 and CryptoPro curves: the pure C core.
 *
 * Wire forms (the same as RFC 9215 / RFC 4491 and gost-engine):
 *   private key  d, EC_SIZE bytes little-endian, 0 < d < q
 *   public key   X || Y, each EC_SIZE bytes little-endian
 *   digest       Streebog output bytes as `openssl dgst` prints them, read little-endian
 *   signature    s || r, each EC_SIZE bytes big-endian
 *
 * Secret-dependent work (key generation, public key from private, signing) runs in constant time:
 * a signed fixed-window comb over a per-curve table of multiples of the base point, a masked scan
 * of every table entry, and the complete projective formulas of Renes-Costello-Batina (2016).
 * Verification is variable time (it handles public data only).
 *
 * Every function is thread safe; per-curve tables are built once, on first use, under a lock.
 */
#ifndef BANKKEYS_EC_H
#define BANKKEYS_EC_H

#include <stddef.h>
#include <stdint.h>

/* Distinct curves. Aliases (CryptoPro A/B/C/XchA/XchB) share the arithmetic of a TC26 curve and
 * are mapped to it by the caller. */
typedef enum {
    EC_TC26_256_A = 0,
    EC_TC26_256_B,   /* = CryptoPro-A = CryptoPro-XchA */
    EC_TC26_256_C,   /* = CryptoPro-B */
    EC_TC26_256_D,   /* = CryptoPro-C = CryptoPro-XchB */
    EC_TC26_512_A,
    EC_TC26_512_B,
    EC_TC26_512_C,
    EC_TEST_256,     /* GOST R 34.10-2012 Appendix A.1 (id-GostR3410-2001-TestParamSet) */
    EC_TEST_512,     /* GOST R 34.10-2012 Appendix A.2 (id-tc26-gost-3410-2012-512-paramSetTest) */
    EC_CURVE_COUNT
} ec_curve_id;

typedef enum {
    EC_OK = 0,
    EC_ERR_CURVE = 1,     /* unknown curve id */
    EC_ERR_PRIVATE = 2,   /* d = 0 or d >= q */
    EC_ERR_PUBLIC = 3,    /* not a point of the q-order subgroup */
    EC_ERR_SIGNATURE = 4, /* r or s out of [1, q-1], or the equation does not hold */
    EC_ERR_NONCE = 5,     /* given k unusable (0, >= q, or r = 0 / s = 0 with it): take another */
    EC_ERR_RANDOM = 6,    /* the OS random generator failed */
    EC_ERR_MEMORY = 7,    /* the fixed-base table could not be allocated */
    EC_ERR_RANGE = 8      /* ec_inverse: a = 0 or a >= the modulus */
} ec_status;

/* Curve description as hexadecimal strings (big-endian numbers), for the Python face and tests. */
typedef struct {
    const char *name;
    unsigned bits;      /* 256 or 512 */
    unsigned cofactor;  /* 1 or 4 */
    const char *p, *a, *b, *q, *x, *y;
} ec_curve_info;

/* NULL for an unknown id. */
const ec_curve_info *ec_info(int curve);

/* Byte size of one coordinate / scalar: 32 or 64; 0 for an unknown id. */
size_t ec_size(int curve);

/* Builds the curve's fixed-base table now (otherwise done on first use). */
ec_status ec_prepare(int curve);

/* d: ec_size bytes LE. Checks 0 < d < q in constant time. */
ec_status ec_check_private(int curve, const uint8_t *d);

/* pub: 2*ec_size bytes. Checks coordinates < p, the curve equation, and q*Q = O (cofactor curves). */
ec_status ec_check_public(int curve, const uint8_t *pub);

/* d_out: ec_size bytes LE, uniform in [1, q-1] from getrandom(2). */
ec_status ec_generate(int curve, uint8_t *d_out);

/* pub_out: 2*ec_size bytes, X || Y little-endian. */
ec_status ec_public_key(int curve, const uint8_t *d, uint8_t *pub_out);

/* digest: ec_size bytes; sig_out: 2*ec_size bytes s || r big-endian. Nonce from getrandom(2). */
ec_status ec_sign(int curve, const uint8_t *d, const uint8_t *digest, uint8_t *sig_out);

/* Known-nonce signing for the standard's test vectors only. k: ec_size bytes LE.
 * EC_ERR_NONCE when k is 0, k >= q, or r or s come out 0. */
ec_status ec_sign_with_k(int curve, const uint8_t *d, const uint8_t *digest, const uint8_t *k,
                         uint8_t *sig_out);

/* EC_OK when valid; EC_ERR_SIGNATURE when not; EC_ERR_PUBLIC for a bad public key. */
ec_status ec_verify(int curve, const uint8_t *pub, const uint8_t *digest, const uint8_t *sig);

/* ec_verify for a public key the caller validated before (ec_check_public): the coordinates are
 * still range- and curve-checked, the q-subgroup check is skipped when key_checked. */
ec_status ec_verify_key_checked(int curve, const uint8_t *pub, const uint8_t *digest,
                                const uint8_t *sig, int key_checked);

/* Writes q*G's "is infinity" (1/0) and G-on-curve (1/0): self-checks of the constants. */
ec_status ec_self_check(int curve, int *base_on_curve, int *order_kills_base);

/* Test hook for the two field inversions: out = a^-1 mod p (mod_q = 0) or mod q (mod_q = 1),
 * a and out ec_size bytes little-endian, 0 < a < modulus. variable_time = 0 takes the
 * constant-time inversion of signing, 1 the binary extended Euclid of verification. */
ec_status ec_inverse(int curve, int mod_q, int variable_time, const uint8_t *a, uint8_t *out);

#endif
