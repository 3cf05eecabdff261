/* GOST R 34.10-2012 core: Montgomery field arithmetic over 4 or 8 64-bit limbs, complete
 * projective formulas for secret scalars, Jacobian coordinates for (public) verification.
 *
 * Every arithmetic helper takes the limb count as a compile-time constant through an always-inline
 * chain, so the compiler produces one fully unrolled instance per width from a single source.
 */
#define _GNU_SOURCE
#include "ec.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

typedef uint64_t limb;
typedef unsigned __int128 dlimb;

#define MAXN 8
#define INL static inline __attribute__((always_inline))
/* The field operations are inlined into the point formulas in the optimised build (~10% faster),
 * but kept out of line under the sanitizers, whose instrumented build of the fully inlined code
 * takes minutes. */
#if defined(__SANITIZE_ADDRESS__) || defined(BK_NO_FORCE_INLINE)
#define FE_INLINE 0
#else
#define FE_INLINE 1
#endif
/* Signed fixed window of the comb: digits in [-2^(W-1), 2^(W-1)], 2^(W-1) entries per window. */
#define COMB_W 6
#define COMB_ENTRIES (1 << (COMB_W - 1))
/* Verification: width-w NAF of both scalars over affine odd multiples, sharing the doublings.
 * G's multiples are a per-curve table; Q's are made per call and made affine with one
 * (variable-time) inversion. */
#define WNAF_WQ 6
#define WNAF_PREQ (1 << (WNAF_WQ - 2))
#define WNAF_WG 9
#define WNAF_PREG (1 << (WNAF_WG - 2))

/* ---------------------------------------------------------------- curve constants (hex, BE) */

static const ec_curve_info INFO[EC_CURVE_COUNT] = {
    [EC_TC26_256_A] = {"tc26-256-A", 256, 4,
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
        "C2173F1513981673AF4892C23035A27CE25E2013BF95AA33B22C656F277E7335",
        "295F9BAE7428ED9CCC20E7C359A9D41A22FCCD9108E17BF7BA9337A6F8AE9513",
        "400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67",
        "91E38443A5E82C0D880923425712B2BB658B9196932E02C78B2582FE742DAA28",
        "32879423AB1A0375895786C4BB46E9565FDE0B5344766740AF268ADB32322E5C"},
    [EC_TC26_256_B] = {"tc26-256-B", 256, 1,
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD94",
        "A6",
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893",
        "1",
        "8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14"},
    [EC_TC26_256_C] = {"tc26-256-C", 256, 1,
        "8000000000000000000000000000000000000000000000000000000000000C99",
        "8000000000000000000000000000000000000000000000000000000000000C96",
        "3E1AF419A269A5F866A7D3C25C3DF80AE979259373FF2B182F49D4CE7E1BBC8B",
        "800000000000000000000000000000015F700CFFF1A624E5E497161BCC8A198F",
        "1",
        "3FA8124359F96680B83D1C3EB2C070E5C545C9858D03ECFB744BF8D717717EFC"},
    [EC_TC26_256_D] = {"tc26-256-D", 256, 1,
        "9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D759B",
        "9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D7598",
        "805A",
        "9B9F605F5A858107AB1EC85E6B41C8AA582CA3511EDDFB74F02F3A6598980BB9",
        "0",
        "41ECE55743711A8C3CBF3783CD08C0EE4D4DC440D4641A8F366E550DFDB3BB67"},
    [EC_TC26_512_A] = {"tc26-512-A", 512, 1,
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7",
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC4",
        "E8C2505DEDFC86DDC1BD0B2B6667F1DA34B82574761CB0E879BD081CFD0B6265"
        "EE3CB090F30D27614CB4574010DA90DD862EF9D4EBEE4761503190785A71C760",
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275",
        "3",
        "7503CFE87A836AE3A61B8816E25450E6CE5E1C93ACF1ABC1778064FDCBEFA921"
        "DF1626BE4FD036E93D75E6A50E3A41E98028FE5FC235F5B889A589CB5215F2A4"},
    [EC_TC26_512_B] = {"tc26-512-B", 512, 1,
        "8000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000006F",
        "8000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000006C",
        "687D1B459DC841457E3E06CF6F5E2517B97C7D614AF138BCBF85DC806C4B289F"
        "3E965D2DB1416D217F8B276FAD1AB69C50F78BEE1FA3106EFB8CCBC7C5140116",
        "8000000000000000000000000000000000000000000000000000000000000001"
        "49A1EC142565A545ACFDB77BD9D40CFA8B996712101BEA0EC6346C54374F25BD",
        "2",
        "1A8F7EDA389B094C2C071E3647A8940F3C123B697578C213BE6DD9E6C8EC7335"
        "DCB228FD1EDF4A39152CBCAAF8C0398828041055F94CEEEC7E21340780FE41BD"},
    [EC_TC26_512_C] = {"tc26-512-C", 512, 4,
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7",
        "DC9203E514A721875485A529D2C722FB187BC8980EB866644DE41C68E1430645"
        "46E861C0E2C9EDD92ADE71F46FCF50FF2AD97F951FDA9F2A2EB6546F39689BD3",
        "B4C4EE28CEBC6C2C8AC12952CF37F16AC7EFB6A9F69F4B57FFDA2E4F0DE5ADE0"
        "38CBC2FFF719D2C18DE0284B8BFEF3B52B8CC7A5F5BF0A3C8D2319A5312557E1",
        "3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
        "C98CDBA46506AB004C33A9FF5147502CC8EDA9E7A769A12694623CEF47F023ED",
        "E2E31EDFC23DE7BDEBE241CE593EF5DE2295B7A9CBAEF021D385F7074CEA043A"
        "A27272A7AE602BF2A7B9033DB9ED3610C6FB85487EAE97AAC5BC7928C1950148",
        "F5CE40D95B5EB899ABBCCFF5911CB8577939804D6527378B8C108C3D2090FF9B"
        "E18E2D33E3021ED2EF32D85822423B6304F726AA854BAE07D0396E9A9ADDC40F"},
    [EC_TEST_256] = {"cryptopro-test", 256, 1,
        "8000000000000000000000000000000000000000000000000000000000000431",
        "7",
        "5FBFF498AA938CE739B8E022FBAFEF40563F6E6A3472FC2A514C0CE9DAE23B7E",
        "8000000000000000000000000000000150FE8A1892976154C59CFC193ACCF5B3",
        "2",
        "08E2A8A0E65147D4BD6316030E16D19C85C97F0A9CA267122B96ABBCEA7E8FC8"},
    [EC_TEST_512] = {"tc26-512-test", 512, 1,
        "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D"
        "F1D852741AF4704A0458047E80E4546D35B8336FAC224DD81664BBF528BE6373",
        "7",
        "1CFF0806A31116DA29D8CFA54E57EB748BC5F377E49400FDD788B649ECA1AC43"
        "61834013B2AD7322480A89CA58E0CF74BC9E540C2ADD6897FAD0A3084F302ADC",
        "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D"
        "A82F2D7ECB1DBAC719905C5EECC423F1D86E25EDBE23C595D644AAF187E6E6DF",
        "24D19CC64572EE30F396BF6EBBFD7A6C5213B3B3D7057CC825F91093A68CD762"
        "FD60611262CD838DC6B60AA7EEE804E28BC849977FAC33B4B530F1B120248A9A",
        "2BB312A43BD2CE6E0D020613C857ACDDCFBF061E91E5F2C3F32447C259F39B2C"
        "83AB156D77F1496BF7EB3351E1EE4E43DC1A18B91B24640B6DBB92CB1ADD371E"},
};

/* ---------------------------------------------------------------- derived per-curve state */

typedef struct {
    limb m[MAXN];
    limb minv;       /* -m^-1 mod 2^64 */
    limb one[MAXN];  /* R mod m: 1 in Montgomery form */
    limb r2[MAXN];   /* R^2 mod m */
    limb em2[MAXN];  /* m - 2, the Fermat inversion exponent */
    int pm;          /* m = 2^(64n) - c: plain representation, reduction by folding */
    limb c;
} modulus;

typedef struct {
    int n;           /* limbs */
    size_t size;     /* bytes */
    unsigned qbits;
    int a_m3;        /* a = -3: cheaper multiplication by a */
    modulus P, Q;
    limb a[MAXN], b[MAXN], b3[MAXN], gx[MAXN], gy[MAXN]; /* Montgomery form mod p */
    int nwin;
    limb *table;     /* nwin * COMB_ENTRIES affine points (x, y), Montgomery form */
    limb *gtab;      /* WNAF_PREG affine odd multiples G, 3G, 5G, ... for verification */
    atomic_int ready;
} curve;

static curve CURVES[EC_CURVE_COUNT];
static pthread_mutex_t INIT_LOCK = PTHREAD_MUTEX_INITIALIZER;

/* ---------------------------------------------------------------- constant-time helpers */

static void wipe(void *p, size_t len) {
    volatile unsigned char *v = (volatile unsigned char *)p;
    while (len--) *v++ = 0;
}

/* all-ones when x == 0 */
INL limb ct_zero_mask(limb x) { return (limb)0 - (limb)(1 ^ ((x | ((limb)0 - x)) >> 63)); }

INL void cmov(limb *r, const limb *a, limb mask, int n) {
    for (int i = 0; i < n; i++) r[i] ^= mask & (r[i] ^ a[i]);
}

INL limb is_zero_ct(const limb *a, int n) {
    limb acc = 0;
    for (int i = 0; i < n; i++) acc |= a[i];
    return ct_zero_mask(acc);
}

INL int is_zero_vt(const limb *a, int n) { return is_zero_ct(a, n) != 0; }

/* borrow out of a - b (the subtraction is not stored) */
INL limb lt_ct(const limb *a, const limb *b, int n) {
    limb borrow = 0;
    for (int i = 0; i < n; i++) {
        dlimb d = (dlimb)a[i] - b[i] - borrow;
        borrow = (limb)(d >> 64) & 1;
    }
    return borrow;
}

/* ---------------------------------------------------------------- modular arithmetic */

/* Carry chains: the x86-64 intrinsics compile to adc/sbb; elsewhere the double-width form. */
#if defined(__x86_64__)
#include <immintrin.h>
INL unsigned char addc(unsigned char c, limb a, limb b, limb *r) {
    unsigned long long t;
    c = _addcarry_u64(c, a, b, &t);
    *r = t;
    return c;
}
INL unsigned char subb(unsigned char c, limb a, limb b, limb *r) {
    unsigned long long t;
    c = _subborrow_u64(c, a, b, &t);
    *r = t;
    return c;
}
#else
INL unsigned char addc(unsigned char c, limb a, limb b, limb *r) {
    dlimb z = (dlimb)a + b + c;
    *r = (limb)z;
    return (unsigned char)(z >> 64);
}
INL unsigned char subb(unsigned char c, limb a, limb b, limb *r) {
    dlimb z = (dlimb)a - b - c;
    *r = (limb)z;
    return (unsigned char)((z >> 64) & 1);
}
#endif

/* r = a + b mod m for a, b < m. For m = 2^(64n) - c (pm) the wrap is an addition of c. */
INL void mod_add_impl(limb *r, const limb *a, const limb *b, const modulus *M, int n, int pm) {
    limb t[MAXN], d[MAXN];
    unsigned char carry = 0, c2 = 0;
    for (int i = 0; i < n; i++) carry = addc(carry, a[i], b[i], &t[i]);
    limb keep;
    if (pm) {
        /* t + c carries out exactly when a + b >= m (given no carry already) */
        c2 = addc(0, t[0], M->c, &d[0]);
        for (int i = 1; i < n; i++) c2 = addc(c2, t[i], 0, &d[i]);
        keep = (limb)(carry | c2) - 1;
    } else {
        for (int i = 0; i < n; i++) c2 = subb(c2, t[i], M->m[i], &d[i]);
        /* keep t when the sum did not overflow and t < m */
        keep = (limb)0 - (limb)(c2 & (carry ^ 1));
    }
    for (int i = 0; i < n; i++) r[i] = (t[i] & keep) | (d[i] & ~keep);
}

/* r = a - b mod m for a, b < m */
INL void mod_sub_impl(limb *r, const limb *a, const limb *b, const modulus *M, int n, int pm) {
    limb t[MAXN];
    unsigned char borrow = 0, c = 0;
    for (int i = 0; i < n; i++) borrow = subb(borrow, a[i], b[i], &t[i]);
    limb mask = (limb)0 - (limb)borrow;
    if (pm) {
        /* + m = - c mod 2^(64n); t >= 2^(64n) - m + 1 > c after a borrow, so no second borrow */
        c = subb(0, t[0], M->c & mask, &r[0]);
        for (int i = 1; i < n; i++) c = subb(c, t[i], 0, &r[i]);
    } else {
        for (int i = 0; i < n; i++) c = addc(c, t[i], M->m[i] & mask, &r[i]);
    }
}

/* r = a * b / R mod m (CIOS). a < R, b < m gives r < m. */
INL void mont_mul_impl(limb *r, const limb *a, const limb *b, const modulus *M, int n) {
    limb t[MAXN + 2] = {0};
    _Pragma("GCC unroll 16")
    for (int i = 0; i < n; i++) {
        limb carry = 0;
        _Pragma("GCC unroll 16")
        for (int j = 0; j < n; j++) {
            dlimb z = (dlimb)a[j] * b[i] + t[j] + carry;
            t[j] = (limb)z;
            carry = (limb)(z >> 64);
        }
        dlimb z = (dlimb)t[n] + carry;
        t[n] = (limb)z;
        t[n + 1] = (limb)(z >> 64);
        limb u = t[0] * M->minv;
        z = (dlimb)u * M->m[0] + t[0];
        carry = (limb)(z >> 64);
        _Pragma("GCC unroll 16")
        for (int j = 1; j < n; j++) {
            z = (dlimb)u * M->m[j] + t[j] + carry;
            t[j - 1] = (limb)z;
            carry = (limb)(z >> 64);
        }
        z = (dlimb)t[n] + carry;
        t[n - 1] = (limb)z;
        t[n] = t[n + 1] + (limb)(z >> 64);
    }
    limb d[MAXN], borrow = 0;
    _Pragma("GCC unroll 16")
    for (int i = 0; i < n; i++) {
        dlimb s = (dlimb)t[i] - M->m[i] - borrow;
        d[i] = (limb)s;
        borrow = (limb)(s >> 64) & 1;
    }
    limb keep = (limb)0 - (borrow & ct_zero_mask(t[n]) & 1);
    _Pragma("GCC unroll 16")
    for (int i = 0; i < n; i++) r[i] = (t[i] & keep) | (d[i] & ~keep);
}


/* Pseudo-Mersenne m = 2^(64n) - c (2^256 - 617, 2^512 - 569): elements are kept plain, and
 * 2^(64n) = c (mod m) folds the high half of a product into the low half. */
INL void pm_reduce(limb *r, const limb *t, const modulus *M, int n) {
    limb u[MAXN], carry = 0, c = M->c;
    _Pragma("GCC unroll 16")
    for (int i = 0; i < n; i++) {
        dlimb z = (dlimb)t[n + i] * c + t[i] + carry;
        u[i] = (limb)z;
        carry = (limb)(z >> 64);
    }
    dlimb z = (dlimb)carry * c + u[0];
    u[0] = (limb)z;
    carry = (limb)(z >> 64);
    _Pragma("GCC unroll 16")
    for (int i = 1; i < n; i++) {
        z = (dlimb)u[i] + carry;
        u[i] = (limb)z;
        carry = (limb)(z >> 64);
    }
    /* a last wrap leaves u tiny, so adding c once more cannot carry out */
    z = (dlimb)u[0] + (c & ((limb)0 - carry));
    u[0] = (limb)z;
    carry = (limb)(z >> 64);
    _Pragma("GCC unroll 16")
    for (int i = 1; i < n; i++) {
        z = (dlimb)u[i] + carry;
        u[i] = (limb)z;
        carry = (limb)(z >> 64);
    }
    /* u >= m exactly when u + c carries out of n limbs; then u - m = u + c mod 2^(64n) */
    limb v[MAXN];
    carry = 0;
    z = (dlimb)u[0] + c;
    v[0] = (limb)z;
    carry = (limb)(z >> 64);
    _Pragma("GCC unroll 16")
    for (int i = 1; i < n; i++) {
        z = (dlimb)u[i] + carry;
        v[i] = (limb)z;
        carry = (limb)(z >> 64);
    }
    limb take = (limb)0 - carry;
    _Pragma("GCC unroll 16")
    for (int i = 0; i < n; i++) r[i] = (v[i] & take) | (u[i] & ~take);
}

/* Product scanning (Comba): each column of the product summed into a three-limb accumulator,
 * which the carry intrinsics keep in registers. */
INL void mac(limb *c0, limb *c1, limb *c2, limb a, limb b) {
    dlimb p = (dlimb)a * b;
    unsigned char c = addc(0, *c0, (limb)p, c0);
    c = addc(c, *c1, (limb)(p >> 64), c1);
    *c2 += c;
}

INL void pm_mul_impl(limb *r, const limb *a, const limb *b, const modulus *M, int n) {
    limb t[2 * MAXN], c0 = 0, c1 = 0, c2 = 0;
    _Pragma("GCC unroll 16")
    for (int k = 0; k < 2 * n - 1; k++) {
        for (int i = k < n ? 0 : k - n + 1; i <= (k < n ? k : n - 1); i++) mac(&c0, &c1, &c2, a[i], b[k - i]);
        t[k] = c0;
        c0 = c1;
        c1 = c2;
        c2 = 0;
    }
    t[2 * n - 1] = c0;
    pm_reduce(r, t, M, n);
}

INL void pm_sqr_impl(limb *r, const limb *a, const modulus *M, int n) {
    limb t[2 * MAXN], c0 = 0, c1 = 0, c2 = 0;
    /* the products a_i a_j, i < j, by columns */
    t[0] = 0;
    _Pragma("GCC unroll 16")
    for (int k = 1; k < 2 * n - 2; k++) {
        for (int i = k < n ? 0 : k - n + 1; i < k - i; i++) mac(&c0, &c1, &c2, a[i], a[k - i]);
        t[k] = c0;
        c0 = c1;
        c1 = c2;
        c2 = 0;
    }
    t[2 * n - 2] = c0;
    t[2 * n - 1] = 0;
    /* doubled, plus the squares on the diagonal */
    unsigned char c = 0;
    _Pragma("GCC unroll 16")
    for (int k = 0; k < 2 * n; k++) c = addc(c, t[k], t[k], &t[k]);
    c = 0;
    _Pragma("GCC unroll 16")
    for (int i = 0; i < n; i++) {
        dlimb sq = (dlimb)a[i] * a[i];
        c = addc(c, t[2 * i], (limb)sq, &t[2 * i]);
        c = addc(c, t[2 * i + 1], (limb)(sq >> 64), &t[2 * i + 1]);
    }
    pm_reduce(r, t, M, n);
}

/* One out-of-line instance per width; callers with a run-time width pick one per call. */
static __attribute__((noinline)) void mont_mul4(limb *r, const limb *a, const limb *b, const modulus *M) { mont_mul_impl(r, a, b, M, 4); }
static __attribute__((noinline)) void mont_mul8(limb *r, const limb *a, const limb *b, const modulus *M) { mont_mul_impl(r, a, b, M, 8); }
static __attribute__((noinline)) void mod_add4(limb *r, const limb *a, const limb *b, const modulus *M) { mod_add_impl(r, a, b, M, 4, 0); }
static __attribute__((noinline)) void mod_add8(limb *r, const limb *a, const limb *b, const modulus *M) { mod_add_impl(r, a, b, M, 8, 0); }
static __attribute__((noinline)) void mod_sub4(limb *r, const limb *a, const limb *b, const modulus *M) { mod_sub_impl(r, a, b, M, 4, 0); }
static __attribute__((noinline)) void mod_sub8(limb *r, const limb *a, const limb *b, const modulus *M) { mod_sub_impl(r, a, b, M, 8, 0); }
static __attribute__((noinline)) void pm_mul4(limb *r, const limb *a, const limb *b, const modulus *M) { pm_mul_impl(r, a, b, M, 4); }
static __attribute__((noinline)) void pm_mul8(limb *r, const limb *a, const limb *b, const modulus *M) { pm_mul_impl(r, a, b, M, 8); }
static __attribute__((noinline)) void pm_sqr4(limb *r, const limb *a, const modulus *M) { pm_sqr_impl(r, a, M, 4); }
static __attribute__((noinline)) void pm_sqr8(limb *r, const limb *a, const modulus *M) { pm_sqr_impl(r, a, M, 8); }
/* "Montgomery" multiplication of the modulus' representation: a b / R, with R = 1 for the
 * pseudo-Mersenne moduli (whose one and r2 are then 1). */
static inline void mont_mul(limb *r, const limb *a, const limb *b, const modulus *M, int n) {
    if (M->pm) {
        if (n == 4) pm_mul4(r, a, b, M); else pm_mul8(r, a, b, M);
    } else {
        if (n == 4) mont_mul4(r, a, b, M); else mont_mul8(r, a, b, M);
    }
}
static inline void mont_sqr(limb *r, const limb *a, const modulus *M, int n) {
    if (M->pm) {
        if (n == 4) pm_sqr4(r, a, M); else pm_sqr8(r, a, M);
    } else {
        if (n == 4) mont_mul4(r, a, a, M); else mont_mul8(r, a, a, M);
    }
}
static inline void mod_add(limb *r, const limb *a, const limb *b, const modulus *M, int n) {
    if (n == 4) mod_add4(r, a, b, M); else mod_add8(r, a, b, M);
}
static inline void mod_sub(limb *r, const limb *a, const limb *b, const modulus *M, int n) {
    if (n == 4) mod_sub4(r, a, b, M); else mod_sub8(r, a, b, M);
}


static void mod_neg(limb *r, const limb *a, const modulus *M, int n) {
    limb z[MAXN] = {0};
    mod_sub(r, z, a, M, n);
}


static void to_mont(limb *r, const limb *a, const modulus *M, int n) { mont_mul(r, a, M->r2, M, n); }

static void from_mont(limb *r, const limb *a, const modulus *M, int n) {
    limb one[MAXN] = {1};
    mont_mul(r, a, one, M, n);
}

/* r = a^e in the Montgomery domain; e is public (a fixed exponent), a may be secret. */
static void mod_pow(limb *r, const limb *a, const limb *e, const modulus *M, int n) {
    limb tbl[16][MAXN], acc[MAXN];
    memcpy(tbl[0], M->one, sizeof(limb) * n);
    for (int i = 1; i < 16; i++) mont_mul(tbl[i], tbl[i - 1], a, M, n);
    memcpy(acc, M->one, sizeof(limb) * n);
    for (int i = 64 * n - 4; i >= 0; i -= 4) {
        for (int j = 0; j < 4; j++) mont_sqr(acc, acc, M, n);
        unsigned nib = (unsigned)(e[i / 64] >> (i % 64)) & 15;
        if (nib) mont_mul(acc, acc, tbl[nib], M, n);
    }
    memcpy(r, acc, sizeof(limb) * n);
    wipe(tbl, sizeof tbl);
}

/* a^(2^k) */
INL void pm_sqr_times(limb *r, const limb *a, int k, const modulus *M, int n) {
    pm_sqr_impl(r, a, M, n);
    for (int i = 1; i < k; i++) pm_sqr_impl(r, r, M, n);
}

/* a^(m-2) for m = 2^(64n) - c, c + 2 < 2^16: m - 2 is 64n - 16 ones followed by the 16 bits of
 * 2^16 - c - 2. The ones come from x_(2^j) = a^(2^(2^j) - 1) by x_(2i) = x_i^(2^i) x_i, and the
 * low bits one by one: 64n - 1 squarings and about 25 multiplications instead of the 4-bit
 * window's 16n + 15. A fixed sequence for a public exponent: constant time in a. */
INL void pm_inv_impl(limb *r, const limb *a, const modulus *M, int n) {
    limb x[9][MAXN], t[MAXN], u[MAXN];
    int top = n == 4 ? 7 : 8; /* x[top] = a^(2^128 - 1) or a^(2^256 - 1) */
    memcpy(x[0], a, sizeof(limb) * (size_t)n);
    for (int j = 1; j <= top; j++) {
        pm_sqr_times(t, x[j - 1], 1 << (j - 1), M, n);
        pm_mul_impl(x[j], t, x[j - 1], M, n);
    }
    /* 64n - 16 ones: x[top], then halving runs down to 16 */
    memcpy(u, x[top], sizeof(limb) * (size_t)n);
    for (int j = top - 1; j >= 4; j--) {
        pm_sqr_times(t, u, 1 << j, M, n);
        pm_mul_impl(u, t, x[j], M, n);
    }
    limb low = (limb)0x10000 - M->c - 2;
    for (int i = 15; i >= 0; i--) {
        pm_sqr_impl(u, u, M, n);
        if ((low >> i) & 1) pm_mul_impl(u, u, a, M, n); /* public exponent bit */
    }
    memcpy(r, u, sizeof(limb) * (size_t)n);
    wipe(x, sizeof x);
    wipe(t, sizeof t);
    wipe(u, sizeof u);
}
static __attribute__((noinline)) void pm_inv4(limb *r, const limb *a, const modulus *M) { pm_inv_impl(r, a, M, 4); }
static __attribute__((noinline)) void pm_inv8(limb *r, const limb *a, const modulus *M) { pm_inv_impl(r, a, M, 8); }

/* Constant-time inverse in the modulus' representation (Fermat) */
static void mod_inv(limb *r, const limb *a, const modulus *M, int n) {
    if (M->pm && M->c + 2 < 0x10000) {
        if (n == 4) pm_inv4(r, a, M); else pm_inv8(r, a, M);
    } else {
        mod_pow(r, a, M->em2, M, n);
    }
}

/* a / 2 mod m for a < m */
static void mod_half(limb *a, const modulus *M, int n) {
    limb mask = (limb)0 - (a[0] & 1), carry = 0;
    for (int i = 0; i < n; i++) {
        dlimb z = (dlimb)a[i] + (M->m[i] & mask) + carry;
        a[i] = (limb)z;
        carry = (limb)(z >> 64);
    }
    for (int i = 0; i < n - 1; i++) a[i] = (a[i] >> 1) | (a[i + 1] << 63);
    a[n - 1] = (a[n - 1] >> 1) | (carry << 63);
}

static int is_one_vt(const limb *a, int n) {
    limb acc = a[0] ^ 1;
    for (int i = 1; i < n; i++) acc |= a[i];
    return acc == 0;
}

/* r = a^-1 mod m, plain representation, for 0 < a < m and m prime: binary extended Euclid.
 * Variable time, so for public values only. Returns -1 (r untouched) when a = 0 mod m. */
static int inv_vt(limb *r, const limb *a, const modulus *M, int n) {
    limb u[MAXN], v[MAXN], x1[MAXN] = {1}, x2[MAXN] = {0};
    memcpy(u, a, sizeof(limb) * (size_t)n);
    memcpy(v, M->m, sizeof(limb) * (size_t)n);
    for (;;) {
        /* invariants: x1 a = u and x2 a = v (mod m), gcd(u, v) = gcd(a, m) */
        if (is_zero_vt(u, n)) return -1;
        while (!(u[0] & 1)) {
            for (int i = 0; i < n - 1; i++) u[i] = (u[i] >> 1) | (u[i + 1] << 63);
            u[n - 1] >>= 1;
            mod_half(x1, M, n);
        }
        while (!(v[0] & 1)) {
            for (int i = 0; i < n - 1; i++) v[i] = (v[i] >> 1) | (v[i + 1] << 63);
            v[n - 1] >>= 1;
            mod_half(x2, M, n);
        }
        if (is_one_vt(u, n)) { memcpy(r, x1, sizeof(limb) * (size_t)n); return 0; }
        if (is_one_vt(v, n)) { memcpy(r, x2, sizeof(limb) * (size_t)n); return 0; }
        limb *big = lt_ct(u, v, n) ? v : u, *small = big == u ? v : u;
        limb *xb = big == u ? x1 : x2, *xs = big == u ? x2 : x1;
        limb borrow = 0;
        for (int i = 0; i < n; i++) {
            dlimb d = (dlimb)big[i] - small[i] - borrow;
            big[i] = (limb)d;
            borrow = (limb)(d >> 64) & 1;
        }
        mod_sub(xb, xb, xs, M, n);
        if (is_zero_vt(big, n)) return -1; /* u = v: gcd > 1 */
    }
}

/* Montgomery-domain inverse of public am: (a R)^-1 -> a^-1 R. */
static int mont_inv_vt(limb *r, const limb *am, const modulus *M, int n) {
    limb a[MAXN], t[MAXN];
    from_mont(a, am, M, n);
    if (inv_vt(t, a, M, n)) return -1;
    to_mont(r, t, M, n);
    return 0;
}

/* ---------------------------------------------------------------- byte conversions */

static void limbs_from_le(limb *r, const uint8_t *b, size_t size) {
    for (size_t i = 0; i < size / 8; i++) {
        limb v = 0;
        for (int j = 7; j >= 0; j--) v = (v << 8) | b[8 * i + (size_t)j];
        r[i] = v;
    }
}

static void limbs_from_be(limb *r, const uint8_t *b, size_t size) {
    for (size_t i = 0; i < size / 8; i++) {
        limb v = 0;
        for (int j = 0; j < 8; j++) v = (v << 8) | b[size - 8 * (i + 1) + (size_t)j];
        r[i] = v;
    }
}

static void limbs_to_le(uint8_t *b, const limb *a, size_t size) {
    for (size_t i = 0; i < size; i++) b[i] = (uint8_t)(a[i / 8] >> (8 * (i % 8)));
}

static void limbs_to_be(uint8_t *b, const limb *a, size_t size) {
    for (size_t i = 0; i < size; i++) b[size - 1 - i] = (uint8_t)(a[i / 8] >> (8 * (i % 8)));
}

static int parse_hex(limb *r, const char *hex, int n) {
    memset(r, 0, sizeof(limb) * (size_t)n);
    size_t len = strlen(hex);
    if (len > (size_t)n * 16) return -1;
    for (size_t i = 0; i < len; i++) {
        char c = hex[len - 1 - i];
        limb v = (c >= '0' && c <= '9') ? (limb)(c - '0')
                 : (c >= 'A' && c <= 'F') ? (limb)(c - 'A' + 10)
                 : (c >= 'a' && c <= 'f') ? (limb)(c - 'a' + 10)
                                          : 16;
        if (v == 16) return -1;
        r[i / 16] |= v << (4 * (i % 16));
    }
    return 0;
}

/* ---------------------------------------------------------------- curve arithmetic */

typedef struct { limb x[MAXN], y[MAXN], z[MAXN]; } point;

/* Field operations with the width and the representation fixed at compile time: the point
 * formulas below are instantiated once per (width, representation) and call the out-of-line
 * arithmetic directly. (Inlining the arithmetic into them too is ~10% faster but makes the
 * sanitizer build of the C tests take minutes.) */
INL void fe_mul_t(limb *r, const limb *a, const limb *b, const modulus *M, int n, int pm) {
#if FE_INLINE
    if (pm) pm_mul_impl(r, a, b, M, n); else mont_mul_impl(r, a, b, M, n);
#else
    if (pm) {
        if (n == 4) pm_mul4(r, a, b, M); else pm_mul8(r, a, b, M);
    } else {
        if (n == 4) mont_mul4(r, a, b, M); else mont_mul8(r, a, b, M);
    }
#endif
}

INL void fe_sqr_t(limb *r, const limb *a, const modulus *M, int n, int pm) {
#if FE_INLINE
    if (pm) pm_sqr_impl(r, a, M, n); else mont_mul_impl(r, a, a, M, n);
#else
    if (pm) {
        if (n == 4) pm_sqr4(r, a, M); else pm_sqr8(r, a, M);
    } else {
        if (n == 4) mont_mul4(r, a, a, M); else mont_mul8(r, a, a, M);
    }
#endif
}

INL void fe_add_t(limb *r, const limb *a, const limb *b, const modulus *M, int n, int pm) {
#if FE_INLINE
    mod_add_impl(r, a, b, M, n, pm);
#else
    (void)pm;
    mod_add(r, a, b, M, n);
#endif
}

INL void fe_sub_t(limb *r, const limb *a, const limb *b, const modulus *M, int n, int pm) {
#if FE_INLINE
    mod_sub_impl(r, a, b, M, n, pm);
#else
    (void)pm;
    mod_sub(r, a, b, M, n);
#endif
}

INL void fe_neg_t(limb *r, const limb *a, const modulus *M, int n, int pm) {
    limb z[MAXN] = {0};
    fe_sub_t(r, z, a, M, n, pm);
}

INL void mul_a_t(const curve *C, limb *r, const limb *x, int n, int pm) {
    if (C->a_m3) { /* per-curve, public: the same branch for every secret */
        limb t[MAXN];
        fe_add_t(t, x, x, &C->P, n, pm);
        fe_add_t(t, t, x, &C->P, n, pm);
        fe_neg_t(r, t, &C->P, n, pm);
    } else {
        fe_mul_t(r, x, C->a, &C->P, n, pm);
    }
}


/* Complete mixed addition, projective (X:Y:Z) + affine (x2, y2): Renes-Costello-Batina 2016,
 * algorithm 2 (general a). No exceptions for points of odd order, hence no secret branches. */
INL void rcb_madd_t(const curve *C, point *R, const point *P, const limb *x2, const limb *y2, int n, int pm) {
    const modulus *M = &C->P;
    limb t0[MAXN], t1[MAXN], t2[MAXN], t3[MAXN], t4[MAXN], t5[MAXN];
    limb X3[MAXN], Y3[MAXN], Z3[MAXN];
    fe_mul_t(t0, P->x, x2, M, n, pm);
    fe_mul_t(t1, P->y, y2, M, n, pm);
    memcpy(t2, P->z, sizeof(limb) * n);
    fe_add_t(t3, P->x, P->y, M, n, pm);
    fe_add_t(t4, x2, y2, M, n, pm);
    fe_mul_t(t3, t3, t4, M, n, pm);
    fe_add_t(t4, t0, t1, M, n, pm);
    fe_sub_t(t3, t3, t4, M, n, pm);      /* x1 y2 + x2 y1 */
    fe_mul_t(t4, x2, P->z, M, n, pm);
    fe_add_t(t4, t4, P->x, M, n, pm);    /* x1 + x2 z1 */
    fe_mul_t(t5, y2, P->z, M, n, pm);
    fe_add_t(t5, t5, P->y, M, n, pm);    /* y1 + y2 z1 */
    mul_a_t(C, Z3, t4, n, pm);
    fe_mul_t(X3, C->b3, t2, M, n, pm);
    fe_add_t(Z3, X3, Z3, M, n, pm);
    fe_sub_t(X3, t1, Z3, M, n, pm);
    fe_add_t(Z3, t1, Z3, M, n, pm);
    fe_mul_t(Y3, X3, Z3, M, n, pm);
    fe_add_t(t1, t0, t0, M, n, pm);
    fe_add_t(t1, t1, t0, M, n, pm);
    mul_a_t(C, t2, t2, n, pm);
    fe_mul_t(t4, C->b3, t4, M, n, pm);
    fe_add_t(t1, t1, t2, M, n, pm);
    fe_sub_t(t2, t0, t2, M, n, pm);
    mul_a_t(C, t2, t2, n, pm);
    fe_add_t(t4, t4, t2, M, n, pm);
    fe_mul_t(t0, t1, t4, M, n, pm);
    fe_add_t(Y3, Y3, t0, M, n, pm);
    fe_mul_t(t0, t5, t4, M, n, pm);
    fe_mul_t(X3, X3, t3, M, n, pm);
    fe_sub_t(X3, X3, t0, M, n, pm);
    fe_mul_t(t0, t3, t1, M, n, pm);
    fe_mul_t(Z3, t5, Z3, M, n, pm);
    fe_add_t(Z3, Z3, t0, M, n, pm);
    memcpy(R->x, X3, sizeof(limb) * n);
    memcpy(R->y, Y3, sizeof(limb) * n);
    memcpy(R->z, Z3, sizeof(limb) * n);
}
/* The same for a = -3: Renes-Costello-Batina 2016, algorithm 5 (11 multiplications instead of 13
 * and no multiplications by a). Complete as well; chosen per curve, never per secret. */
INL void rcb_madd_m3_t(const curve *C, point *R, const point *P, const limb *x2, const limb *y2, int n, int pm) {
    const modulus *M = &C->P;
    limb t0[MAXN], t1[MAXN], t2[MAXN], t3[MAXN], t4[MAXN], X3[MAXN], Y3[MAXN], Z3[MAXN];
    fe_mul_t(t0, P->x, x2, M, n, pm);
    fe_mul_t(t1, P->y, y2, M, n, pm);
    fe_add_t(t3, x2, y2, M, n, pm);
    fe_add_t(t4, P->x, P->y, M, n, pm);
    fe_mul_t(t3, t3, t4, M, n, pm);
    fe_add_t(t4, t0, t1, M, n, pm);
    fe_sub_t(t3, t3, t4, M, n, pm);     /* x1 y2 + x2 y1 */
    fe_mul_t(t4, y2, P->z, M, n, pm);
    fe_add_t(t4, t4, P->y, M, n, pm);   /* y1 + y2 z1 */
    fe_mul_t(Y3, x2, P->z, M, n, pm);
    fe_add_t(Y3, Y3, P->x, M, n, pm);   /* x1 + x2 z1 */
    fe_mul_t(Z3, C->b, P->z, M, n, pm);
    fe_sub_t(X3, Y3, Z3, M, n, pm);
    fe_add_t(Z3, X3, X3, M, n, pm);
    fe_add_t(X3, X3, Z3, M, n, pm);
    fe_sub_t(Z3, t1, X3, M, n, pm);
    fe_add_t(X3, t1, X3, M, n, pm);
    fe_mul_t(Y3, C->b, Y3, M, n, pm);
    fe_add_t(t1, P->z, P->z, M, n, pm);
    fe_add_t(t2, t1, P->z, M, n, pm);
    fe_sub_t(Y3, Y3, t2, M, n, pm);
    fe_sub_t(Y3, Y3, t0, M, n, pm);
    fe_add_t(t1, Y3, Y3, M, n, pm);
    fe_add_t(Y3, t1, Y3, M, n, pm);
    fe_add_t(t1, t0, t0, M, n, pm);
    fe_add_t(t0, t1, t0, M, n, pm);
    fe_sub_t(t0, t0, t2, M, n, pm);
    fe_mul_t(t1, t4, Y3, M, n, pm);
    fe_mul_t(t2, t0, Y3, M, n, pm);
    fe_mul_t(Y3, X3, Z3, M, n, pm);
    fe_add_t(Y3, Y3, t2, M, n, pm);
    fe_mul_t(X3, t3, X3, M, n, pm);
    fe_sub_t(X3, X3, t1, M, n, pm);
    fe_mul_t(Z3, t4, Z3, M, n, pm);
    fe_mul_t(t1, t3, t0, M, n, pm);
    fe_add_t(Z3, Z3, t1, M, n, pm);
    memcpy(R->x, X3, sizeof(limb) * n);
    memcpy(R->y, Y3, sizeof(limb) * n);
    memcpy(R->z, Z3, sizeof(limb) * n);
}
static __attribute__((noinline)) void rcb_madd_m3_40(const curve *C, point *R, const point *P, const limb *x2, const limb *y2) { rcb_madd_m3_t(C, R, P, x2, y2, 4, 0); }
static __attribute__((noinline)) void rcb_madd_m3_41(const curve *C, point *R, const point *P, const limb *x2, const limb *y2) { rcb_madd_m3_t(C, R, P, x2, y2, 4, 1); }
static __attribute__((noinline)) void rcb_madd_m3_80(const curve *C, point *R, const point *P, const limb *x2, const limb *y2) { rcb_madd_m3_t(C, R, P, x2, y2, 8, 0); }
static __attribute__((noinline)) void rcb_madd_m3_81(const curve *C, point *R, const point *P, const limb *x2, const limb *y2) { rcb_madd_m3_t(C, R, P, x2, y2, 8, 1); }
static __attribute__((noinline)) void rcb_madd_40(const curve *C, point *R, const point *P, const limb *x2, const limb *y2) { rcb_madd_t(C, R, P, x2, y2, 4, 0); }
static __attribute__((noinline)) void rcb_madd_41(const curve *C, point *R, const point *P, const limb *x2, const limb *y2) { rcb_madd_t(C, R, P, x2, y2, 4, 1); }
static __attribute__((noinline)) void rcb_madd_80(const curve *C, point *R, const point *P, const limb *x2, const limb *y2) { rcb_madd_t(C, R, P, x2, y2, 8, 0); }
static __attribute__((noinline)) void rcb_madd_81(const curve *C, point *R, const point *P, const limb *x2, const limb *y2) { rcb_madd_t(C, R, P, x2, y2, 8, 1); }
static void rcb_madd(const curve *C, point *R, const point *P, const limb *x2, const limb *y2, int n) {
    int pm = C->P.pm;
    if (C->a_m3) { /* per curve: the same branch for every secret */
        if (n == 4) { if (pm) rcb_madd_m3_41(C, R, P, x2, y2); else rcb_madd_m3_40(C, R, P, x2, y2); }
        else { if (pm) rcb_madd_m3_81(C, R, P, x2, y2); else rcb_madd_m3_80(C, R, P, x2, y2); }
        return;
    }
    if (n == 4) { if (pm) rcb_madd_41(C, R, P, x2, y2); else rcb_madd_40(C, R, P, x2, y2); }
    else { if (pm) rcb_madd_81(C, R, P, x2, y2); else rcb_madd_80(C, R, P, x2, y2); }
}


/* Jacobian (X:Y:Z), x = X/Z^2, y = Y/Z^3, Z = 0 is the point at infinity. Variable time. */
INL void jac_dbl_t(const curve *C, point *R, const point *P, int n, int pm) {
    const modulus *M = &C->P;
    if (is_zero_vt(P->z, n) || is_zero_vt(P->y, n)) {
        memset(R, 0, sizeof *R);
        return;
    }
    limb xx[MAXN], yy[MAXN], yyyy[MAXN], zz[MAXN], s[MAXN], m[MAXN], t[MAXN], u[MAXN];
    fe_sqr_t(zz, P->z, M, n, pm);
    if (C->a_m3) {
        fe_sub_t(t, P->x, zz, M, n, pm);
        fe_add_t(u, P->x, zz, M, n, pm);
        fe_mul_t(m, t, u, M, n, pm);
        fe_add_t(t, m, m, M, n, pm);
        fe_add_t(m, t, m, M, n, pm);
    } else {
        fe_sqr_t(xx, P->x, M, n, pm);
        fe_sqr_t(t, zz, M, n, pm);
        fe_mul_t(t, t, C->a, M, n, pm);
        fe_add_t(m, xx, xx, M, n, pm);
        fe_add_t(m, m, xx, M, n, pm);
        fe_add_t(m, m, t, M, n, pm);
    }
    fe_sqr_t(yy, P->y, M, n, pm);
    fe_sqr_t(yyyy, yy, M, n, pm);
    fe_mul_t(s, P->x, yy, M, n, pm);
    fe_add_t(s, s, s, M, n, pm);
    fe_add_t(s, s, s, M, n, pm);          /* S = 4 X YY */
    fe_mul_t(R->z, P->y, P->z, M, n, pm);
    fe_add_t(R->z, R->z, R->z, M, n, pm); /* Z3 = 2 Y Z */
    fe_sqr_t(t, m, M, n, pm);
    fe_sub_t(t, t, s, M, n, pm);
    fe_sub_t(t, t, s, M, n, pm);          /* X3 = M^2 - 2S */
    fe_sub_t(u, s, t, M, n, pm);
    fe_mul_t(u, m, u, M, n, pm);
    fe_add_t(yyyy, yyyy, yyyy, M, n, pm);
    fe_add_t(yyyy, yyyy, yyyy, M, n, pm);
    fe_add_t(yyyy, yyyy, yyyy, M, n, pm);
    fe_sub_t(R->y, u, yyyy, M, n, pm);
    memcpy(R->x, t, sizeof(limb) * n);
}
static __attribute__((noinline)) void jac_dbl_40(const curve *C, point *R, const point *P) { jac_dbl_t(C, R, P, 4, 0); }
static __attribute__((noinline)) void jac_dbl_41(const curve *C, point *R, const point *P) { jac_dbl_t(C, R, P, 4, 1); }
static __attribute__((noinline)) void jac_dbl_80(const curve *C, point *R, const point *P) { jac_dbl_t(C, R, P, 8, 0); }
static __attribute__((noinline)) void jac_dbl_81(const curve *C, point *R, const point *P) { jac_dbl_t(C, R, P, 8, 1); }
static void jac_dbl(const curve *C, point *R, const point *P, int n) {
    int pm = C->P.pm;
    if (n == 4) { if (pm) jac_dbl_41(C, R, P); else jac_dbl_40(C, R, P); }
    else { if (pm) jac_dbl_81(C, R, P); else jac_dbl_80(C, R, P); }
}


INL void jac_add_t(const curve *C, point *R, const point *P, const point *Q, int n, int pm) {
    const modulus *M = &C->P;
    if (is_zero_vt(P->z, n)) { *R = *Q; return; }
    if (is_zero_vt(Q->z, n)) { *R = *P; return; }
    limb z1z1[MAXN], z2z2[MAXN], u1[MAXN], u2[MAXN], s1[MAXN], s2[MAXN], h[MAXN], r[MAXN];
    limb i[MAXN], j[MAXN], v[MAXN], t[MAXN];
    fe_sqr_t(z1z1, P->z, M, n, pm);
    fe_sqr_t(z2z2, Q->z, M, n, pm);
    fe_mul_t(u1, P->x, z2z2, M, n, pm);
    fe_mul_t(u2, Q->x, z1z1, M, n, pm);
    fe_mul_t(s1, P->y, Q->z, M, n, pm);
    fe_mul_t(s1, s1, z2z2, M, n, pm);
    fe_mul_t(s2, Q->y, P->z, M, n, pm);
    fe_mul_t(s2, s2, z1z1, M, n, pm);
    fe_sub_t(h, u2, u1, M, n, pm);
    fe_sub_t(r, s2, s1, M, n, pm);
    if (is_zero_vt(h, n)) {
        if (is_zero_vt(r, n)) jac_dbl(C, R, P, n);
        else memset(R, 0, sizeof *R);
        return;
    }
    fe_add_t(r, r, r, M, n, pm);
    fe_add_t(i, h, h, M, n, pm);
    fe_sqr_t(i, i, M, n, pm);
    fe_mul_t(j, h, i, M, n, pm);
    fe_mul_t(v, u1, i, M, n, pm);
    limb x3[MAXN], y3[MAXN], z3[MAXN];
    fe_sqr_t(x3, r, M, n, pm);
    fe_sub_t(x3, x3, j, M, n, pm);
    fe_sub_t(x3, x3, v, M, n, pm);
    fe_sub_t(x3, x3, v, M, n, pm);
    fe_sub_t(t, v, x3, M, n, pm);
    fe_mul_t(y3, r, t, M, n, pm);
    fe_mul_t(t, s1, j, M, n, pm);
    fe_add_t(t, t, t, M, n, pm);
    fe_sub_t(y3, y3, t, M, n, pm);
    fe_add_t(z3, P->z, Q->z, M, n, pm);
    fe_sqr_t(z3, z3, M, n, pm);
    fe_sub_t(z3, z3, z1z1, M, n, pm);
    fe_sub_t(z3, z3, z2z2, M, n, pm);
    fe_mul_t(z3, z3, h, M, n, pm);
    memcpy(R->x, x3, sizeof(limb) * n);
    memcpy(R->y, y3, sizeof(limb) * n);
    memcpy(R->z, z3, sizeof(limb) * n);
}
static __attribute__((noinline)) void jac_add_40(const curve *C, point *R, const point *P, const point *Q) { jac_add_t(C, R, P, Q, 4, 0); }
static __attribute__((noinline)) void jac_add_41(const curve *C, point *R, const point *P, const point *Q) { jac_add_t(C, R, P, Q, 4, 1); }
static __attribute__((noinline)) void jac_add_80(const curve *C, point *R, const point *P, const point *Q) { jac_add_t(C, R, P, Q, 8, 0); }
static __attribute__((noinline)) void jac_add_81(const curve *C, point *R, const point *P, const point *Q) { jac_add_t(C, R, P, Q, 8, 1); }
static void jac_add(const curve *C, point *R, const point *P, const point *Q, int n) {
    int pm = C->P.pm;
    if (n == 4) { if (pm) jac_add_41(C, R, P, Q); else jac_add_40(C, R, P, Q); }
    else { if (pm) jac_add_81(C, R, P, Q); else jac_add_80(C, R, P, Q); }
}


/* Jacobian + affine (x2, y2). Variable time. */
INL void jac_madd_t(const curve *C, point *R, const point *P, const limb *x2, const limb *y2, int n, int pm) {
    const modulus *M = &C->P;
    if (is_zero_vt(P->z, n)) {
        memcpy(R->x, x2, sizeof(limb) * n);
        memcpy(R->y, y2, sizeof(limb) * n);
        memcpy(R->z, M->one, sizeof(limb) * n);
        return;
    }
    limb z1z1[MAXN], u2[MAXN], s2[MAXN], h[MAXN], hh[MAXN], i[MAXN], j[MAXN], r[MAXN], v[MAXN];
    limb t[MAXN];
    fe_sqr_t(z1z1, P->z, M, n, pm);
    fe_mul_t(u2, x2, z1z1, M, n, pm);
    fe_mul_t(s2, y2, P->z, M, n, pm);
    fe_mul_t(s2, s2, z1z1, M, n, pm);
    fe_sub_t(h, u2, P->x, M, n, pm);
    fe_sub_t(r, s2, P->y, M, n, pm);
    if (is_zero_vt(h, n)) {
        if (is_zero_vt(r, n)) jac_dbl(C, R, P, n);
        else memset(R, 0, sizeof *R);
        return;
    }
    fe_sqr_t(hh, h, M, n, pm);
    fe_add_t(i, hh, hh, M, n, pm);
    fe_add_t(i, i, i, M, n, pm);
    fe_mul_t(j, h, i, M, n, pm);
    fe_add_t(r, r, r, M, n, pm);
    fe_mul_t(v, P->x, i, M, n, pm);
    limb x3[MAXN], y3[MAXN], z3[MAXN];
    fe_sqr_t(x3, r, M, n, pm);
    fe_sub_t(x3, x3, j, M, n, pm);
    fe_sub_t(x3, x3, v, M, n, pm);
    fe_sub_t(x3, x3, v, M, n, pm);
    fe_sub_t(t, v, x3, M, n, pm);
    fe_mul_t(y3, r, t, M, n, pm);
    fe_mul_t(t, P->y, j, M, n, pm);
    fe_add_t(t, t, t, M, n, pm);
    fe_sub_t(y3, y3, t, M, n, pm);
    fe_add_t(z3, P->z, h, M, n, pm);
    fe_sqr_t(z3, z3, M, n, pm);
    fe_sub_t(z3, z3, z1z1, M, n, pm);
    fe_sub_t(z3, z3, hh, M, n, pm);
    memcpy(R->x, x3, sizeof(limb) * n);
    memcpy(R->y, y3, sizeof(limb) * n);
    memcpy(R->z, z3, sizeof(limb) * n);
}
static __attribute__((noinline)) void jac_madd_40(const curve *C, point *R, const point *P, const limb *x2, const limb *y2) { jac_madd_t(C, R, P, x2, y2, 4, 0); }
static __attribute__((noinline)) void jac_madd_41(const curve *C, point *R, const point *P, const limb *x2, const limb *y2) { jac_madd_t(C, R, P, x2, y2, 4, 1); }
static __attribute__((noinline)) void jac_madd_80(const curve *C, point *R, const point *P, const limb *x2, const limb *y2) { jac_madd_t(C, R, P, x2, y2, 8, 0); }
static __attribute__((noinline)) void jac_madd_81(const curve *C, point *R, const point *P, const limb *x2, const limb *y2) { jac_madd_t(C, R, P, x2, y2, 8, 1); }
static void jac_madd(const curve *C, point *R, const point *P, const limb *x2, const limb *y2, int n) {
    int pm = C->P.pm;
    if (n == 4) { if (pm) jac_madd_41(C, R, P, x2, y2); else jac_madd_40(C, R, P, x2, y2); }
    else { if (pm) jac_madd_81(C, R, P, x2, y2); else jac_madd_80(C, R, P, x2, y2); }
}


/* k * P for public k and P (affine, Montgomery), double-and-add. Used for subgroup checks. */
static void jac_mul_vt(const curve *C, point *R, const limb *x, const limb *y, const limb *k, int n) {
    point acc;
    memset(&acc, 0, sizeof acc);
    for (int i = 64 * n - 1; i >= 0; i--) {
        jac_dbl(C, &acc, &acc, n);
        if ((k[i / 64] >> (i % 64)) & 1) jac_madd(C, &acc, &acc, x, y, n);
    }
    *R = acc;
}

/* y^2 == x^3 + a x + b for affine Montgomery-form coordinates */
static int on_curve(const curve *C, const limb *x, const limb *y, int n) {
    const modulus *M = &C->P;
    limb l[MAXN], r[MAXN], t[MAXN];
    mont_sqr(l, y, M, n);
    mont_sqr(r, x, M, n);
    mont_mul(r, r, x, M, n);
    mont_mul(t, C->a, x, M, n);
    mod_add(r, r, t, M, n);
    mod_add(r, r, C->b, M, n);
    return memcmp(l, r, sizeof(limb) * (size_t)n) == 0;
}

/* ---------------------------------------------------------------- setup */

static void modulus_init(modulus *M, const limb *m, int n) {
    memset(M, 0, sizeof *M);
    memcpy(M->m, m, sizeof(limb) * (size_t)n);
    limb inv = 1;
    for (int i = 0; i < 7; i++) inv *= 2 - m[0] * inv;
    M->minv = (limb)0 - inv;
    limb x[MAXN] = {1};
    for (int i = 0; i < 64 * n; i++) mod_add(x, x, x, M, n);
    memcpy(M->one, x, sizeof(limb) * (size_t)n);
    for (int i = 0; i < 64 * n; i++) mod_add(x, x, x, M, n);
    memcpy(M->r2, x, sizeof(limb) * (size_t)n);
    memcpy(M->em2, m, sizeof(limb) * (size_t)n);
    M->em2[0] -= 2; /* m is odd and > 2: no borrow */
    int pm = m[0] > ((limb)1 << 63);
    for (int i = 1; i < n; i++) pm &= m[i] == ~(limb)0;
    if (pm) {
        M->pm = 1;
        M->c = (limb)0 - m[0];
        memset(M->one, 0, sizeof M->one);
        memset(M->r2, 0, sizeof M->r2);
        M->one[0] = M->r2[0] = 1;
    }
}

static limb * table_entry(const curve *C, int win, int idx, int n) {
    return C->table + ((size_t)win * COMB_ENTRIES + (size_t)idx) * 2 * (size_t)n;
}

/* out[i] = (x, y) of the Jacobian pts[i] (public, none at infinity), Montgomery form, with one
 * variable-time inversion for all (Montgomery's trick). -1 when a Z is zero or memory runs out. */
static int batch_affine(const curve *C, limb *out, const point *pts, size_t count, int n) {
    const modulus *M = &C->P;
    limb(*acc)[MAXN] = malloc(count * sizeof *acc);
    if (!acc) return -1;
    memcpy(acc[0], pts[0].z, sizeof(limb) * n);
    for (size_t i = 1; i < count; i++) mont_mul(acc[i], acc[i - 1], pts[i].z, M, n);
    limb inv[MAXN], zi[MAXN], zi2[MAXN];
    if (mont_inv_vt(inv, acc[count - 1], M, n)) {
        free(acc);
        return -1;
    }
    for (size_t i = count; i-- > 0;) {
        if (i > 0) {
            mont_mul(zi, inv, acc[i - 1], M, n);
            mont_mul(inv, inv, pts[i].z, M, n);
        } else {
            memcpy(zi, inv, sizeof(limb) * n);
        }
        limb *e = out + i * 2 * (size_t)n;
        mont_sqr(zi2, zi, M, n);
        mont_mul(e, pts[i].x, zi2, M, n);
        mont_mul(zi2, zi2, zi, M, n);
        mont_mul(e + n, pts[i].y, zi2, M, n);
    }
    free(acc);
    return 0;
}

/* P, 3P, 5P, ... (count points), Jacobian */
static void odd_multiples(const curve *C, point *pre, const limb *x, const limb *y, int count, int n) {
    point p2;
    memcpy(pre[0].x, x, sizeof(limb) * n);
    memcpy(pre[0].y, y, sizeof(limb) * n);
    memcpy(pre[0].z, C->P.one, sizeof(limb) * n);
    jac_dbl(C, &p2, &pre[0], n);
    for (int i = 1; i < count; i++) jac_add(C, &pre[i], &pre[i - 1], &p2, n);
}

/* table[w][j] = (j + 1) * 2^(COMB_W w) * G and gtab[i] = (2i + 1) G, affine */
static int build_table(curve *C, int n) {
    size_t count = (size_t)C->nwin * COMB_ENTRIES;
    point *pts = malloc(count * sizeof(point));
    C->table = malloc(count * 2 * (size_t)n * sizeof(limb));
    C->gtab = malloc((size_t)WNAF_PREG * 2 * (size_t)n * sizeof(limb));
    int rc = -1;
    if (!pts || !C->table || !C->gtab || count < WNAF_PREG) goto out;
    point base;
    memcpy(base.x, C->gx, sizeof(limb) * n);
    memcpy(base.y, C->gy, sizeof(limb) * n);
    memcpy(base.z, C->P.one, sizeof(limb) * n);
    for (int w = 0; w < C->nwin; w++) {
        point *row = pts + (size_t)w * COMB_ENTRIES;
        row[0] = base;
        for (int j = 1; j < COMB_ENTRIES; j++) jac_add(C, &row[j], &row[j - 1], &base, n);
        jac_dbl(C, &base, &row[COMB_ENTRIES - 1], n); /* 2^COMB_W * base */
    }
    /* each entry is a nonzero multiple below q: no Z is zero */
    if (batch_affine(C, C->table, pts, count, n)) goto out;
    odd_multiples(C, pts, C->gx, C->gy, WNAF_PREG, n);
    if (batch_affine(C, C->gtab, pts, WNAF_PREG, n)) goto out;
    rc = 0;
out:
    free(pts);
    if (rc) {
        free(C->table);
        free(C->gtab);
        C->table = C->gtab = NULL;
    }
    return rc;
}

static int curve_init(curve *C, const ec_curve_info *I, int n) {
    limb p[MAXN], q[MAXN], t[MAXN];
    C->n = n;
    C->size = (size_t)n * 8;
    if (parse_hex(p, I->p, n) || parse_hex(q, I->q, n)) return -1;
    modulus_init(&C->P, p, n);
    modulus_init(&C->Q, q, n);
    C->qbits = 0;
    for (int i = 64 * n - 1; i >= 0; i--)
        if ((q[i / 64] >> (i % 64)) & 1) { C->qbits = (unsigned)i + 1; break; }
    if (parse_hex(t, I->a, n)) return -1;
    to_mont(C->a, t, &C->P, n);
    limb m3[MAXN];
    memcpy(m3, p, sizeof(limb) * n);
    m3[0] -= 3;
    C->a_m3 = memcmp(t, m3, sizeof(limb) * n) == 0;
    if (parse_hex(t, I->b, n)) return -1;
    to_mont(C->b, t, &C->P, n);
    mod_add(C->b3, C->b, C->b, &C->P, n);
    mod_add(C->b3, C->b3, C->b, &C->P, n);
    if (parse_hex(t, I->x, n)) return -1;
    to_mont(C->gx, t, &C->P, n);
    if (parse_hex(t, I->y, n)) return -1;
    to_mont(C->gy, t, &C->P, n);
    C->nwin = (64 * n + 1 + COMB_W - 1) / COMB_W;
    return build_table(C, n);
}

static curve *get_curve(int id, ec_status *st) {
    if (id < 0 || id >= EC_CURVE_COUNT) {
        *st = EC_ERR_CURVE;
        return NULL;
    }
    curve *C = &CURVES[id];
    if (atomic_load_explicit(&C->ready, memory_order_acquire)) {
        *st = EC_OK;
        return C;
    }
    pthread_mutex_lock(&INIT_LOCK);
    int rc = 0;
    if (!atomic_load_explicit(&C->ready, memory_order_relaxed)) {
        const ec_curve_info *I = &INFO[id];
        rc = I->bits == 256 ? curve_init(C, I, 4) : curve_init(C, I, 8);
        if (rc == 0) atomic_store_explicit(&C->ready, 1, memory_order_release);
    }
    pthread_mutex_unlock(&INIT_LOCK);
    *st = rc == 0 ? EC_OK : EC_ERR_MEMORY;
    return rc == 0 ? C : NULL;
}

/* ---------------------------------------------------------------- fixed-base comb, constant time */

/* COMB_W + 1 bits of k starting at bit pos (pos may be -1; bits beyond the scalar are zero) */
static unsigned window_bits(const limb *k, int pos, int n) {
    limb v;
    if (pos < 0) return (unsigned)(k[0] << 1) & ((1u << (COMB_W + 1)) - 1);
    int idx = pos / 64, off = pos % 64;
    v = k[idx] >> off;
    if (off > 64 - (COMB_W + 1) && idx + 1 < n) v |= k[idx + 1] << (64 - off);
    return (unsigned)v & ((1u << (COMB_W + 1)) - 1);
}

/* Booth recoding of one window: |digit| and its sign, without branches. */
static void booth(unsigned v, unsigned *mag, unsigned *neg) {
    unsigned t = (v & 1) + (v >> 1);
    unsigned s = (v >> COMB_W) & 1;
    unsigned mask = 0u - s;
    *mag = (t & ~mask) | (((1u << COMB_W) - t) & mask);
    *neg = s;
}

/* R = k G in projective coordinates (X:Y:Z), x = X/Z. k < q secret. */
static void comb_ct(const curve *C, point *R, const limb *k, int n) {
    point acc, sum;
    memset(&acc, 0, sizeof acc);
    memcpy(acc.y, C->P.one, sizeof(limb) * n); /* (0:1:0) */
    limb x[MAXN], y[MAXN], ny[MAXN];
    for (int w = 0; w < C->nwin; w++) {
        unsigned mag, neg;
        booth(window_bits(k, w * COMB_W - 1, n), &mag, &neg);
        memset(x, 0, sizeof x);
        memset(y, 0, sizeof y);
        for (unsigned j = 0; j < COMB_ENTRIES; j++) {
            const limb *e = table_entry(C, w, (int)j, n);
            limb mask = ct_zero_mask((limb)(j + 1) ^ (limb)mag);
            cmov(x, e, mask, n);
            cmov(y, e + n, mask, n);
        }
        mod_neg(ny, y, &C->P, n);
        cmov(y, ny, (limb)0 - (limb)neg, n);
        rcb_madd(C, &sum, &acc, x, y, n);
        limb take = ~ct_zero_mask((limb)mag);
        cmov(acc.x, sum.x, take, n);
        cmov(acc.y, sum.y, take, n);
        cmov(acc.z, sum.z, take, n);
    }
    *R = acc;
    wipe(&acc, sizeof acc);
    wipe(&sum, sizeof sum);
    wipe(x, sizeof x);
    wipe(y, sizeof y);
    wipe(ny, sizeof ny);
}

/* ---------------------------------------------------------------- scalar helpers mod q */

/* r = a mod q for any a < 2^(64n); rm = a * R mod q (Montgomery form) */
static void reduce_q(const curve *C, limb *r, limb *rm, const limb *a, int n) {
    mont_mul(rm, a, C->Q.r2, &C->Q, n);
    from_mont(r, rm, &C->Q, n);
}

/* e = digest (LE) mod q, 1 when 0, returned in Montgomery form */
static void digest_to_e(const curve *C, limb *em, const uint8_t *digest, int n) {
    limb raw[MAXN] = {0}, e[MAXN];
    limbs_from_le(raw, digest, C->size);
    reduce_q(C, e, em, raw, n);
    cmov(em, C->Q.one, is_zero_ct(e, n), n);
}

/* 0 < k < q as an all-ones mask, constant time */
static limb scalar_valid(const curve *C, const limb *k, int n) {
    return ~is_zero_ct(k, n) & ((limb)0 - lt_ct(k, C->Q.m, n));
}

/* ---------------------------------------------------------------- operations */

static ec_status public_key_n(const curve *C, const uint8_t *d_bytes, uint8_t *out, int n) {
    limb d[MAXN], zi[MAXN], x[MAXN], y[MAXN];
    point R;
    limbs_from_le(d, d_bytes, C->size);
    if (!scalar_valid(C, d, n)) {
        wipe(d, sizeof d);
        return EC_ERR_PRIVATE;
    }
    comb_ct(C, &R, d, n);
    mod_inv(zi, R.z, &C->P, n);
    mont_mul(x, R.x, zi, &C->P, n);
    mont_mul(y, R.y, zi, &C->P, n);
    from_mont(x, x, &C->P, n);
    from_mont(y, y, &C->P, n);
    limbs_to_le(out, x, C->size);
    limbs_to_le(out + C->size, y, C->size);
    wipe(d, sizeof d);
    wipe(&R, sizeof R);
    wipe(zi, sizeof zi);
    return EC_OK;
}

static ec_status sign_n(const curve *C, const uint8_t *d_bytes, const uint8_t *digest, const limb *k,
                     uint8_t *out, int n) {
    const modulus *Q = &C->Q;
    limb d[MAXN], em[MAXN], zi[MAXN], x[MAXN], r[MAXN], rm[MAXN], s[MAXN], t[MAXN];
    point R;
    ec_status st = EC_OK;
    limbs_from_le(d, d_bytes, C->size);
    if (!scalar_valid(C, d, n)) {
        st = EC_ERR_PRIVATE;
        goto done;
    }
    if (!scalar_valid(C, k, n)) {
        st = EC_ERR_NONCE;
        goto done;
    }
    digest_to_e(C, em, digest, n);
    comb_ct(C, &R, k, n);
    mod_inv(zi, R.z, &C->P, n);
    mont_mul(x, R.x, zi, &C->P, n);
    from_mont(x, x, &C->P, n);
    reduce_q(C, r, rm, x, n);
    if (is_zero_vt(r, n)) { /* r is published: branching on it leaks nothing */
        st = EC_ERR_NONCE;
        goto done;
    }
    mont_mul(s, rm, d, Q, n); /* r d */
    mont_mul(t, em, k, Q, n); /* k e */
    mod_add(s, s, t, Q, n);
    if (is_zero_vt(s, n)) {
        st = EC_ERR_NONCE;
        goto done;
    }
    limbs_to_be(out, s, C->size);
    limbs_to_be(out + C->size, r, C->size);
done:
    wipe(d, sizeof d);
    wipe(&R, sizeof R);
    wipe(zi, sizeof zi);
    wipe(x, sizeof x);
    wipe(t, sizeof t);
    wipe(em, sizeof em);
    return st;
}

/* Affine Montgomery-form point from the wire: coordinates in range and on the curve, and, unless
 * the caller has validated this key before (key_checked), in the q-order subgroup (the check
 * costs about a verification on the cofactor-4 curves). */
static ec_status parse_public_as(const curve *C, const uint8_t *pub, limb *x, limb *y, int n,
                                 int key_checked) {
    limb px[MAXN] = {0}, py[MAXN] = {0};
    limbs_from_le(px, pub, C->size);
    limbs_from_le(py, pub + C->size, C->size);
    if (!lt_ct(px, C->P.m, n) || !lt_ct(py, C->P.m, n)) return EC_ERR_PUBLIC;
    to_mont(x, px, &C->P, n);
    to_mont(y, py, &C->P, n);
    if (!on_curve(C, x, y, n)) return EC_ERR_PUBLIC;
    if (INFO[C - CURVES].cofactor != 1 && !key_checked) {
        point t;
        jac_mul_vt(C, &t, x, y, C->Q.m, n);
        if (!is_zero_vt(t.z, n)) return EC_ERR_PUBLIC;
    }
    return EC_OK;
}

static ec_status parse_public(const curve *C, const uint8_t *pub, limb *x, limb *y, int n) {
    return parse_public_as(C, pub, x, y, n, 0);
}

/* width-w NAF of k (< 2^(64n)); returns the number of digits */
static int wnaf(int16_t *out, const limb *k_in, int w, int n) {
    limb k[MAXN + 1] = {0};
    memcpy(k, k_in, sizeof(limb) * n);
    int len = 0;
    while (!is_zero_vt(k, n + 1)) {
        int d = 0;
        if (k[0] & 1) {
            d = (int)(k[0] & ((1u << w) - 1));
            if (d >= (1 << (w - 1))) d -= 1 << w;
            /* k -= d */
            if (d > 0) {
                limb borrow = (limb)d;
                for (int i = 0; i <= n && borrow; i++) {
                    limb old = k[i];
                    k[i] -= borrow;
                    borrow = k[i] > old;
                }
            } else {
                limb carry = (limb)(-d);
                for (int i = 0; i <= n && carry; i++) {
                    k[i] += carry;
                    carry = k[i] < carry;
                }
            }
        }
        out[len++] = (int16_t)d;
        for (int i = 0; i < n; i++) k[i] = (k[i] >> 1) | (k[i + 1] << 63);
        k[n] >>= 1;
    }
    return len;
}

static ec_status verify_n(const curve *C, const uint8_t *pub, const uint8_t *digest,
                       const uint8_t *sig, int n, int key_checked) {
    const modulus *Q = &C->Q;
    limb qx[MAXN], qy[MAXN], r[MAXN] = {0}, s[MAXN] = {0}, em[MAXN], vm[MAXN], z1[MAXN], z2[MAXN], t[MAXN];
    ec_status st = parse_public_as(C, pub, qx, qy, n, key_checked);
    if (st != EC_OK) return st;
    limbs_from_be(s, sig, C->size);
    limbs_from_be(r, sig + C->size, C->size);
    if (!scalar_valid(C, r, n) || !scalar_valid(C, s, n)) return EC_ERR_SIGNATURE;
    digest_to_e(C, em, digest, n);
    if (mont_inv_vt(vm, em, Q, n)) return EC_ERR_SIGNATURE; /* e^-1 R; e != 0 mod q */
    mont_mul(z1, s, vm, Q, n);   /* s / e */
    mont_mul(t, r, vm, Q, n);    /* r / e, nonzero */
    mod_neg(z2, t, Q, n);

    /* z1 G + z2 Q, both scalars in wNAF over affine odd multiples, doublings shared */
    point pre[WNAF_PREQ], acc;
    limb qtab[WNAF_PREQ * 2 * MAXN];
    odd_multiples(C, pre, qx, qy, WNAF_PREQ, n);
    /* Q has order q (parse_public), so no odd multiple below q is at infinity */
    if (batch_affine(C, qtab, pre, WNAF_PREQ, n)) return EC_ERR_PUBLIC;
    int16_t naf1[64 * MAXN + 2] = {0}, naf2[64 * MAXN + 2] = {0};
    int len1 = wnaf(naf1, z1, WNAF_WG, n), len2 = wnaf(naf2, z2, WNAF_WQ, n);
    int len = len1 > len2 ? len1 : len2;
    limb ny[MAXN];
    memset(&acc, 0, sizeof acc);
    for (int i = len - 1; i >= 0; i--) {
        jac_dbl(C, &acc, &acc, n);
        int d = naf2[i];
        if (d) {
            const limb *e = qtab + (size_t)((d < 0 ? -d : d) >> 1) * 2 * (size_t)n;
            if (d < 0) mod_neg(ny, e + n, &C->P, n);
            jac_madd(C, &acc, &acc, e, d < 0 ? ny : e + n, n);
        }
        d = naf1[i];
        if (d) {
            const limb *e = C->gtab + (size_t)((d < 0 ? -d : d) >> 1) * 2 * (size_t)n;
            if (d < 0) mod_neg(ny, e + n, &C->P, n);
            jac_madd(C, &acc, &acc, e, d < 0 ? ny : e + n, n);
        }
    }
    if (is_zero_vt(acc.z, n)) return EC_ERR_SIGNATURE;
    /* x(C) mod q == r without an inversion: some c = r + j q < p has c Z^2 == X */
    limb zz[MAXN], cand[MAXN], cm[MAXN], lhs[MAXN];
    mont_sqr(zz, acc.z, &C->P, n);
    memcpy(cand, r, sizeof(limb) * (size_t)n);
    while (lt_ct(cand, C->P.m, n)) {
        to_mont(cm, cand, &C->P, n);
        mont_mul(lhs, cm, zz, &C->P, n);
        if (memcmp(lhs, acc.x, sizeof(limb) * (size_t)n) == 0) return EC_OK;
        limb carry = 0;
        for (int i = 0; i < n; i++) {
            dlimb z = (dlimb)cand[i] + C->Q.m[i] + carry;
            cand[i] = (limb)z;
            carry = (limb)(z >> 64);
        }
        if (carry) break;
    }
    return EC_ERR_SIGNATURE;
}

/* ---------------------------------------------------------------- public API */

#define DISPATCH(C, call4, call8) ((C)->n == 4 ? (call4) : (call8))

const ec_curve_info *ec_info(int id) {
    return (id >= 0 && id < EC_CURVE_COUNT) ? &INFO[id] : NULL;
}

size_t ec_size(int id) {
    const ec_curve_info *I = ec_info(id);
    return I ? I->bits / 8 : 0;
}

ec_status ec_prepare(int id) {
    ec_status st;
    get_curve(id, &st);
    return st;
}

ec_status ec_check_private(int id, const uint8_t *d_bytes) {
    ec_status st;
    const curve *C = get_curve(id, &st);
    if (!C) return st;
    limb d[MAXN];
    limbs_from_le(d, d_bytes, C->size);
    limb ok = DISPATCH(C, scalar_valid(C, d, 4), scalar_valid(C, d, 8));
    wipe(d, sizeof d);
    return ok ? EC_OK : EC_ERR_PRIVATE;
}

ec_status ec_check_public(int id, const uint8_t *pub) {
    ec_status st;
    const curve *C = get_curve(id, &st);
    if (!C) return st;
    limb x[MAXN], y[MAXN];
    return DISPATCH(C, parse_public(C, pub, x, y, 4), parse_public(C, pub, x, y, 8));
}

static int random_bytes(uint8_t *buf, size_t len) {
    while (len) {
        ssize_t got = getrandom(buf, len, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += got;
        len -= (size_t)got;
    }
    return 0;
}

/* uniform scalar in [1, q-1] by rejection sampling over qbits-bit candidates */
static ec_status random_scalar(const curve *C, limb *k) {
    uint8_t buf[8 * MAXN];
    for (;;) {
        if (random_bytes(buf, C->size)) {
            wipe(buf, sizeof buf);
            return EC_ERR_RANDOM;
        }
        unsigned excess = (unsigned)(8 * C->size) - C->qbits; /* < 8 for every curve here */
        size_t top = C->size > 0 ? C->size - 1 : 0;
        buf[top] &= (uint8_t)(0xFF >> excess);
        limbs_from_le(k, buf, C->size);
        limb ok = DISPATCH(C, scalar_valid(C, k, 4), scalar_valid(C, k, 8));
        if (ok) break;
    }
    wipe(buf, sizeof buf);
    return EC_OK;
}

ec_status ec_generate(int id, uint8_t *d_out) {
    ec_status st;
    const curve *C = get_curve(id, &st);
    if (!C) return st;
    limb k[MAXN];
    st = random_scalar(C, k);
    if (st == EC_OK) limbs_to_le(d_out, k, C->size);
    wipe(k, sizeof k);
    return st;
}

ec_status ec_public_key(int id, const uint8_t *d, uint8_t *pub_out) {
    ec_status st;
    const curve *C = get_curve(id, &st);
    if (!C) return st;
    return DISPATCH(C, public_key_n(C, d, pub_out, 4), public_key_n(C, d, pub_out, 8));
}

ec_status ec_sign_with_k(int id, const uint8_t *d, const uint8_t *digest, const uint8_t *k_bytes,
                         uint8_t *sig_out) {
    ec_status st;
    const curve *C = get_curve(id, &st);
    if (!C) return st;
    limb k[MAXN];
    limbs_from_le(k, k_bytes, C->size);
    st = DISPATCH(C, sign_n(C, d, digest, k, sig_out, 4), sign_n(C, d, digest, k, sig_out, 8));
    wipe(k, sizeof k);
    return st;
}

ec_status ec_sign(int id, const uint8_t *d, const uint8_t *digest, uint8_t *sig_out) {
    ec_status st;
    const curve *C = get_curve(id, &st);
    if (!C) return st;
    limb k[MAXN];
    do {
        st = random_scalar(C, k);
        if (st != EC_OK) break;
        st = DISPATCH(C, sign_n(C, d, digest, k, sig_out, 4), sign_n(C, d, digest, k, sig_out, 8));
    } while (st == EC_ERR_NONCE);
    wipe(k, sizeof k);
    return st;
}

ec_status ec_verify(int id, const uint8_t *pub, const uint8_t *digest, const uint8_t *sig) {
    return ec_verify_key_checked(id, pub, digest, sig, 0);
}

ec_status ec_verify_key_checked(int id, const uint8_t *pub, const uint8_t *digest,
                                const uint8_t *sig, int key_checked) {
    ec_status st;
    const curve *C = get_curve(id, &st);
    if (!C) return st;
    return DISPATCH(C, verify_n(C, pub, digest, sig, 4, key_checked),
                    verify_n(C, pub, digest, sig, 8, key_checked));
}

static ec_status inverse_n(const curve *C, int mod_q, int variable_time, const uint8_t *a_bytes,
                           uint8_t *out, int n) {
    const modulus *M = mod_q ? &C->Q : &C->P;
    limb a[MAXN], am[MAXN], r[MAXN];
    limbs_from_le(a, a_bytes, C->size);
    if (is_zero_vt(a, n) || !lt_ct(a, M->m, n)) return EC_ERR_RANGE;
    to_mont(am, a, M, n);
    if (variable_time) {
        if (mont_inv_vt(r, am, M, n)) return EC_ERR_RANGE;
    } else {
        mod_inv(r, am, M, n);
    }
    from_mont(r, r, M, n);
    limbs_to_le(out, r, C->size);
    return EC_OK;
}

ec_status ec_inverse(int id, int mod_q, int variable_time, const uint8_t *a, uint8_t *out) {
    ec_status st;
    const curve *C = get_curve(id, &st);
    if (!C) return st;
    return DISPATCH(C, inverse_n(C, mod_q, variable_time, a, out, 4),
                    inverse_n(C, mod_q, variable_time, a, out, 8));
}

ec_status ec_self_check(int id, int *base_on_curve, int *order_kills_base) {
    ec_status st;
    const curve *C = get_curve(id, &st);
    if (!C) return st;
    point t;
    if (C->n == 4) {
        *base_on_curve = on_curve(C, C->gx, C->gy, 4);
        jac_mul_vt(C, &t, C->gx, C->gy, C->Q.m, 4);
        *order_kills_base = is_zero_vt(t.z, 4);
    } else {
        *base_on_curve = on_curve(C, C->gx, C->gy, 8);
        jac_mul_vt(C, &t, C->gx, C->gy, C->Q.m, 8);
        *order_kills_base = is_zero_vt(t.z, 8);
    }
    return EC_OK;
}
