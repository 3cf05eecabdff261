/* The GOST R 34.10-2012 core on its own, under ASan + UBSan: the standard's vectors, the curve
 * constants, round trips and refusals of bad input. */
#include "ec.h"

#include "check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* big-endian hex -> size bytes, little-endian when le, else big-endian */
static void hex_to(uint8_t *out, const char *hex, size_t size, int le) {
    uint8_t be[64] = {0};
    size_t len = strlen(hex);
    for (size_t i = 0; i < len; i++) {
        char c = hex[len - 1 - i];
        int v = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
        be[size - 1 - i / 2] |= (uint8_t)(v << (4 * (i % 2)));
    }
    for (size_t i = 0; i < size; i++) out[i] = le ? be[size - 1 - i] : be[i];
}

typedef struct {
    int curve;
    const char *d, *e, *k, *r, *s, *qx, *qy;
} vector;

static const vector VECTORS[] = {
    {EC_TEST_256,
     "7A929ADE789BB9BE10ED359DD39A72C11B60961F49397EEE1D19CE9891EC3B28",
     "2DFBC1B372D89A1188C09C52E0EEC61FCE52032AB1022E8E67ECE6672B043EE5",
     "77105C9B20BCD3122823C8CF6FCC7B956DE33814E95B7FE64FED924594DCEAB3",
     "41AA28D2F1AB148280CD9ED56FEDA41974053554A42767B83AD043FD39DC0493",
     "01456C64BA4642A1653C235A98A60249BCD6D3F746B631DF928014F6C5BF9C40",
     "7F2B49E270DB6D90D8595BEC458B50C58585BA1D4E9B788F6689DBD8E56FD80B",
     "26F1B489D6701DD185C8413A977B3CBBAF64D1C593D26627DFFB101A87FF77DA"},
    {EC_TEST_512,
     "0BA6048AADAE241BA40936D47756D7C93091A0E8514669700EE7508E508B102072E8123B2200A0563322DAD2827E2714A2636B7BFD18AADFC62967821FA18DD4",
     "3754F3CFACC9E0615C4F4A7C4D8DAB531B09B6F9C170C533A71D147035B0C5917184EE536593F4414339976C647C5D5A407ADEDB1D560C4FC6777D2972075B8C",
     "0359E7F4B1410FEACC570456C6801496946312120B39D019D455986E364F365886748ED7A44B3E794434006011842286212273A6D14CF70EA3AF71BB1AE679F1",
     "2F86FA60A081091A23DD795E1E3C689EE512A3C82EE0DCC2643C78EEA8FCACD35492558486B20F1C9EC197C90699850260C93BCBCD9C5C3317E19344E173AE36",
     "1081B394696FFE8E6585E7A9362D26B6325F56778AADBC081C0BFBE933D52FF5823CE288E8C4F362526080DF7F70CE406A6EEB1F56919CB92A9853BDE73E5B4A",
     "115DC5BC96760C7B48598D8AB9E740D4C4A85A65BE33C1815B5C320C854621DD5A515856D13314AF69BC5B924C8B4DDFF75C45415C1D9DD9DD33612CD530EFE1",
     "37C7C90CD40B0F5621DC3AC1B751CFA0E2634FA0503B3D52639F5D7FB72AFD61EA199441D943FFE7F0C70A2759A3CDB84C114E1F9339FDF27F35ECA93677BEEC"},
};

static void test_vectors(void) {
    for (size_t i = 0; i < sizeof VECTORS / sizeof VECTORS[0]; i++) {
        const vector *v = &VECTORS[i];
        size_t n = ec_size(v->curve);
        uint8_t d[64], e[64], k[64], pub[128], want_pub[128], sig[128], want_sig[128];
        hex_to(d, v->d, n, 1);
        hex_to(e, v->e, n, 1);
        hex_to(k, v->k, n, 1);
        hex_to(want_pub, v->qx, n, 1);
        hex_to(want_pub + n, v->qy, n, 1);
        hex_to(want_sig, v->s, n, 0);
        hex_to(want_sig + n, v->r, n, 0);
        CHECK(ec_public_key(v->curve, d, pub) == EC_OK, "public key %zu", i);
        CHECK(memcmp(pub, want_pub, 2 * n) == 0, "public key value %zu", i);
        CHECK(ec_sign_with_k(v->curve, d, e, k, sig) == EC_OK, "sign %zu", i);
        CHECK(memcmp(sig, want_sig, 2 * n) == 0, "signature value %zu", i);
        CHECK(ec_verify(v->curve, want_pub, e, want_sig) == EC_OK, "verify %zu", i);
        e[0] ^= 1;
        CHECK(ec_verify(v->curve, want_pub, e, want_sig) == EC_ERR_SIGNATURE, "tampered %zu", i);
    }
}

static void test_constants(void) {
    for (int c = 0; c < EC_CURVE_COUNT; c++) {
        int on = 0, killed = 0;
        CHECK(ec_self_check(c, &on, &killed) == EC_OK, "self check %d", c);
        CHECK(on == 1, "base point on curve %d", c);
        CHECK(killed == 1, "q G = O on %d", c);
    }
}

static void test_round_trips(void) {
    for (int c = 0; c < EC_CURVE_COUNT; c++) {
        size_t n = ec_size(c);
        for (int round = 0; round < 3; round++) {
            uint8_t d[64], pub[128], digest[64], sig[128];
            for (size_t i = 0; i < n; i++) digest[i] = (uint8_t)(i * 7 + round + c);
            CHECK(ec_generate(c, d) == EC_OK, "generate %d", c);
            CHECK(ec_check_private(c, d) == EC_OK, "private ok %d", c);
            CHECK(ec_public_key(c, d, pub) == EC_OK, "public %d", c);
            CHECK(ec_check_public(c, pub) == EC_OK, "public ok %d", c);
            CHECK(ec_sign(c, d, digest, sig) == EC_OK, "sign %d", c);
            CHECK(ec_verify(c, pub, digest, sig) == EC_OK, "verify %d", c);
            sig[n + 3] ^= 0x10;
            CHECK(ec_verify(c, pub, digest, sig) == EC_ERR_SIGNATURE, "tampered r %d", c);
            sig[n + 3] ^= 0x10;
            digest[5] ^= 1;
            CHECK(ec_verify(c, pub, digest, sig) == EC_ERR_SIGNATURE, "tampered digest %d", c);
        }
        /* a zero digest signs as e = 1 */
        uint8_t d[64], pub[128], digest[64] = {0}, sig[128];
        CHECK(ec_generate(c, d) == EC_OK, "generate %d", c);
        CHECK(ec_public_key(c, d, pub) == EC_OK, "public %d", c);
        CHECK(ec_sign(c, d, digest, sig) == EC_OK, "sign zero digest %d", c);
        CHECK(ec_verify(c, pub, digest, sig) == EC_OK, "verify zero digest %d", c);
    }
}

static void test_bad_input(void) {
    uint8_t zero[128] = {0}, pub[128], sig[128], d[64], digest[64] = {1};
    CHECK(ec_size(-1) == 0 && ec_size(EC_CURVE_COUNT) == 0, "size of unknown");
    CHECK(ec_public_key(EC_CURVE_COUNT, zero, pub) == EC_ERR_CURVE, "unknown curve");
    CHECK(ec_verify(-5, zero, zero, zero) == EC_ERR_CURVE, "unknown curve");
    for (int c = 0; c < EC_CURVE_COUNT; c++) {
        size_t n = ec_size(c);
        const ec_curve_info *I = ec_info(c);
        uint8_t q[64], one[64] = {1};
        hex_to(q, I->q, n, 1);
        CHECK(ec_check_private(c, zero) == EC_ERR_PRIVATE, "d = 0 on %d", c);
        CHECK(ec_check_private(c, q) == EC_ERR_PRIVATE, "d = q on %d", c);
        CHECK(ec_public_key(c, q, pub) == EC_ERR_PRIVATE, "pub of q on %d", c);
        CHECK(ec_sign(c, zero, digest, sig) == EC_ERR_PRIVATE, "sign with 0 on %d", c);
        CHECK(ec_sign_with_k(c, one, digest, zero, sig) == EC_ERR_NONCE, "k = 0 on %d", c);
        CHECK(ec_sign_with_k(c, one, digest, q, sig) == EC_ERR_NONCE, "k = q on %d", c);
        memset(d, 0xFF, sizeof d);
        CHECK(ec_check_private(c, d) == EC_ERR_PRIVATE, "d = 2^n - 1 on %d", c);

        CHECK(ec_check_public(c, zero) == EC_ERR_PUBLIC || c == EC_TC26_256_D, "(0, 0) on %d", c);
        CHECK(ec_generate(c, d) == EC_OK, "generate %d", c);
        CHECK(ec_public_key(c, d, pub) == EC_OK, "public %d", c);
        pub[1] ^= 1;
        CHECK(ec_check_public(c, pub) == EC_ERR_PUBLIC, "off-curve point on %d", c);
        CHECK(ec_verify(c, pub, digest, sig) == EC_ERR_PUBLIC, "verify off-curve on %d", c);
        pub[1] ^= 1;
        uint8_t big[128];
        memcpy(big, pub, sizeof big);
        memset(big, 0xFF, n); /* x >= p */
        CHECK(ec_check_public(c, big) == EC_ERR_PUBLIC, "x >= p on %d", c);

        CHECK(ec_sign(c, d, digest, sig) == EC_OK, "sign %d", c);
        uint8_t bad[128];
        memcpy(bad, sig, 2 * n);
        memset(bad + n, 0, n); /* r = 0 */
        CHECK(ec_verify(c, pub, digest, bad) == EC_ERR_SIGNATURE, "r = 0 on %d", c);
        memcpy(bad, sig, 2 * n);
        memset(bad, 0, n); /* s = 0 */
        CHECK(ec_verify(c, pub, digest, bad) == EC_ERR_SIGNATURE, "s = 0 on %d", c);
        memcpy(bad, sig, 2 * n);
        hex_to(bad + n, I->q, n, 0); /* r = q */
        CHECK(ec_verify(c, pub, digest, bad) == EC_ERR_SIGNATURE, "r = q on %d", c);
        memcpy(bad, sig, 2 * n);
        memset(bad, 0xFF, n); /* s > q */
        CHECK(ec_verify(c, pub, digest, bad) == EC_ERR_SIGNATURE, "s > q on %d", c);
    }
}

/* Both inversions agree with each other and invert themselves; 0 and values >= the modulus are
 * refused. (The comparison with an outside reference is in tests/gost/test_gost3410_inverse.py.) */
static void test_inverses(void) {
    for (int c = 0; c < EC_CURVE_COUNT; c++) {
        size_t n = ec_size(c);
        for (int mod_q = 0; mod_q < 2; mod_q++) {
            for (int i = 0; i < 40; i++) {
                uint8_t a[64] = {0}, ct[64], vt[64], back[64];
                /* small values, then mixed bit patterns below the modulus (top byte kept small) */
                if (i < 8) {
                    a[0] = (uint8_t)(i + 1);
                } else {
                    for (size_t j = 0; j < n; j++) a[j] = (uint8_t)(j * 37 + (size_t)i * 101 + 7);
                    a[n - 1] = (uint8_t)(i & 0x3F);
                }
                CHECK(ec_inverse(c, mod_q, 0, a, ct) == EC_OK, "curve %d q %d #%d ct", c, mod_q, i);
                CHECK(ec_inverse(c, mod_q, 1, a, vt) == EC_OK, "curve %d q %d #%d vt", c, mod_q, i);
                CHECK(memcmp(ct, vt, n) == 0, "curve %d q %d #%d: inversions differ", c, mod_q, i);
                CHECK(ec_inverse(c, mod_q, 1, vt, back) == EC_OK && memcmp(back, a, n) == 0,
                      "curve %d q %d #%d: not an involution", c, mod_q, i);
            }
            uint8_t zero[64] = {0}, ones[64], out[64];
            memset(ones, 0xFF, sizeof ones);
            for (int vt = 0; vt < 2; vt++) {
                CHECK(ec_inverse(c, mod_q, vt, zero, out) == EC_ERR_RANGE, "curve %d zero", c);
                CHECK(ec_inverse(c, mod_q, vt, ones, out) == EC_ERR_RANGE, "curve %d 2^n-1", c);
            }
        }
    }
}

int main(void) {
    test_constants();
    test_inverses();
    test_vectors();
    test_round_trips();
    test_bad_input();
    return verdict("test_ec");
}
