/*
 * Streebog core checks, run under ASan+UBSan by scripts/ctest.sh.
 *
 * Vectors: M1 and M2 of GOST R 34.11-2012 / RFC 6986 (byte order as `openssl dgst` prints them);
 * as printed by OpenSSL 3 + gost-engine: the empty message, 64 bytes of 0xFF (the checksum wraps
 * around 2^512 when the padding block is added) and a message of just over 1 MiB. Then: every split
 * of several messages into two and three updates equals the one-shot hash, unaligned input,
 * forking a context by copy, and the refusal of a bad digest size.
 */
#include "streebog.h"

#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok, const char *what)
{
    CHECK(ok, "%s", what);
}

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void check_vector(unsigned bits, const uint8_t *msg, size_t len, const char *expected_hex,
                         const char *what)
{
    uint8_t expected[64], got[64];
    size_t n = unhex(expected_hex, expected);
    check(n == bits / 8, "vector length");
    check(streebog(bits, msg, len, got) == 0, what);
    if (memcmp(got, expected, n) != 0) {
        fprintf(stderr, "  %s (%u): got ", what, bits);
        for (size_t i = 0; i < n; i++) {
            fprintf(stderr, "%02x", got[i]);
        }
        fprintf(stderr, "\n");
        check(0, what);
    }
}

static void vectors(void)
{
    static const char m1[] = "012345678901234567890123456789012345678901234567890123456789012";
    uint8_t m2[72];
    size_t m2_len = unhex("d1e520e2e5f2f0e82c20d1f2f0e8e1eee6e820e2edf3f6e82c20e2e5fef2fa20f120ecee"
                          "f0ff20f1f2f0e5ebe0ece820ede020f5f0e0e1f0fbff20efebfaeafb20c8e3eef0e5e2fb",
                          m2);
    uint8_t ff[64];
    memset(ff, 0xff, sizeof ff);

    check_vector(256, (const uint8_t *)m1, sizeof m1 - 1,
                 "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500", "M1-256");
    check_vector(512, (const uint8_t *)m1, sizeof m1 - 1,
                 "1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa"
                 "00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48",
                 "M1-512");
    check(m2_len == 72, "M2 length");
    check_vector(256, m2, m2_len, "9dd2fe4e90409e5da87f53976d7405b0c0cac628fc669a741d50063c557e8f50",
                 "M2-256");
    check_vector(512, m2, m2_len,
                 "1e88e62226bfca6f9994f1f2d51569e0daf8475a3b0fe61a5300eee46d961376"
                 "035fe83549ada2b8620fcd7c496ce5b33f0cb9dddc2b6460143b03dabac9fb28",
                 "M2-512");
    check_vector(256, NULL, 0, "3f539a213e97c802cc229d474c6aa32a825a360b2a933a949fd925208d9ce1bb",
                 "empty-256");
    check_vector(512, NULL, 0,
                 "8e945da209aa869f0455928529bcae4679e9873ab707b55315f56ceb98bef0a7"
                 "362f715528356ee83cda5f2aac4c6ad2ba3a715c1bcd81cb8e9f90bf4c1c1a8a",
                 "empty-512");
    check_vector(256, ff, sizeof ff,
                 "964a5ab60286f106288743e2fe1a422d160898ca1bd535e831aa500cfe34d7e8", "0xFF*64-256");
    check_vector(512, ff, sizeof ff,
                 "41629de677d7e8090c3cd70affe3300d1e1cfba2db97945ec37feb4e1375bc02"
                 "a53f00370b7d715b07f37f93cac844efadbfd1b85f9ddae3de9656c0e95affc7",
                 "0xFF*64-512");

    /* bytes 0..255 repeated 4099 times (just over 1 MiB), from `openssl dgst` */
    size_t long_len = 256u * 4099u;
    uint8_t *long_msg = malloc(long_len);
    check(long_msg != NULL, "malloc");
    if (long_msg != NULL) {
        for (size_t i = 0; i < long_len; i++) {
            long_msg[i] = (uint8_t)i;
        }
        check_vector(256, long_msg, long_len,
                     "cbde8a9d19078d16a8de73326effb717296d6ba6d0422b3f9183ae9e1fe4a681", "long-256");
        check_vector(512, long_msg, long_len,
                     "df76c122e5b7537e6243d1c4794bed1bec01ea9d79cba3bb7bb15cee5cc3e317"
                     "0adb7c339aa533942ff43340453771ad0069469d6ace9156b1cf7872ffb6419e",
                     "long-512");
        free(long_msg);
    }
}

/* Deterministic filler so that every byte position differs. */
static void fill(uint8_t *p, size_t len)
{
    uint32_t x = 0x12345678u;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)(x >> 16);
    }
}

static void splits(unsigned bits)
{
    static const size_t sizes[] = {0, 1, 63, 64, 65, 127, 128, 129, 200};
    uint8_t msg[200], whole[64], part[64];
    fill(msg, sizeof msg);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len = sizes[s];
        streebog(bits, msg, len, whole);
        for (size_t a = 0; a <= len; a++) {
            streebog_ctx ctx;
            streebog_init(&ctx, bits);
            streebog_update(&ctx, msg, a);
            streebog_update(&ctx, msg + a, len - a);
            streebog_final(&ctx, part);
            check(memcmp(whole, part, bits / 8) == 0, "two-part split equals one-shot");
            for (size_t b = a; b <= len; b += 7) {
                streebog_init(&ctx, bits);
                streebog_update(&ctx, msg, a);
                streebog_update(&ctx, msg + a, b - a);
                streebog_update(&ctx, msg + b, len - b);
                streebog_final(&ctx, part);
                check(memcmp(whole, part, bits / 8) == 0, "three-part split equals one-shot");
            }
        }
        /* byte by byte */
        streebog_ctx ctx;
        streebog_init(&ctx, bits);
        for (size_t i = 0; i < len; i++) {
            streebog_update(&ctx, msg + i, 1);
        }
        streebog_final(&ctx, part);
        check(memcmp(whole, part, bits / 8) == 0, "byte-by-byte equals one-shot");
    }
}

static void unaligned(unsigned bits)
{
    enum { LEN = 4096 + 17 };
    uint8_t *base = malloc(LEN + 8);
    uint8_t ref[64], got[64];
    check(base != NULL, "malloc");
    if (base == NULL) {
        return;
    }
    fill(base, LEN);
    streebog(bits, base, LEN, ref);
    for (size_t shift = 1; shift < 8; shift++) {
        memmove(base + shift, base + shift - 1, LEN);
        streebog(bits, base + shift, LEN, got);
        check(memcmp(ref, got, bits / 8) == 0, "unaligned input hashes the same");
    }
    free(base);
}

static void fork_by_copy(unsigned bits)
{
    uint8_t msg[300], a[64], b[64], ref_a[64], ref_b[64];
    fill(msg, sizeof msg);
    streebog_ctx ctx, twin;
    streebog_init(&ctx, bits);
    streebog_update(&ctx, msg, 100);
    twin = ctx;
    streebog_update(&ctx, msg + 100, 200);
    streebog_update(&twin, "x", 1);
    streebog_final(&ctx, a);
    streebog_final(&twin, b);

    uint8_t other[101];
    memcpy(other, msg, 100);
    other[100] = 'x';
    streebog(bits, msg, 300, ref_a);
    streebog(bits, other, sizeof other, ref_b);
    check(memcmp(a, ref_a, bits / 8) == 0, "original after copy");
    check(memcmp(b, ref_b, bits / 8) == 0, "copy is independent");
}

static void bad_size(void)
{
    streebog_ctx ctx;
    uint8_t out[64];
    memset(&ctx, 0xAB, sizeof ctx);
    check(streebog_init(&ctx, 384) == -1, "init(384) refused");
    check(ctx.buflen == (size_t)0xABABABABABABABABull, "refused init leaves ctx untouched");
    check(streebog(0, "a", 1, out) == -1, "one-shot with size 0 refused");
}

int main(void)
{
    vectors();
    splits(256);
    splits(512);
    unaligned(256);
    unaligned(512);
    fork_by_copy(256);
    fork_by_copy(512);
    bad_size();
    return verdict("streebog");
}
