/* The DER framing check on its own, under ASan + UBSan: each defect with its offset, nesting at
 * the depth bound, and every truncation and single-octet change of a nested sample walked without
 * an out-of-bounds read. */
#include "der.h"

#include "check.h"
#include <stdio.h>
#include <string.h>


struct sample {
    const char *name;
    const uint8_t *data;
    size_t len;
    enum bk_der_status status;
    size_t where;
};

#define S(name, status, where, ...)                                           \
    {name, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), status, where}

static const struct sample samples[] = {
    S("null", BK_DER_OK, 0, 0x05, 0x00),
    S("empty sequence", BK_DER_OK, 0, 0x30, 0x00),
    S("nested", BK_DER_OK, 0, 0x30, 0x07, 0x31, 0x05, 0x02, 0x01, 0x05, 0x05, 0x00),
    S("high tag", BK_DER_OK, 0, 0x3f, 0x81, 0x00, 0x02, 0x05, 0x00),
    S("indefinite", BK_DER_INDEFINITE_LENGTH, 1, 0x30, 0x80, 0x05, 0x00, 0x00, 0x00),
    S("long form short", BK_DER_LENGTH_NOT_MINIMAL, 1, 0x04, 0x81, 0x01, 0x41),
    S("leading zero", BK_DER_LENGTH_NOT_MINIMAL, 1, 0x04, 0x82, 0x00, 0x01, 0x41),
    S("five octets", BK_DER_LENGTH_OVERFLOW, 1, 0x04, 0x85, 1, 0, 0, 0, 0),
    S("past the end", BK_DER_LENGTH_OVERFLOW, 1, 0x04, 0x05, 0x41),
    S("child past parent", BK_DER_LENGTH_OVERFLOW, 3, 0x30, 0x03, 0x04, 0x02, 0x41, 0x41),
    S("parent ends in header", BK_DER_TRUNCATED_LENGTH, 5, 0x30, 0x03, 0x04, 0x00, 0x05),
    S("trailing", BK_DER_TRAILING_BYTES, 3, 0x04, 0x01, 0x41, 0x00),
    S("tag 0x80 start", BK_DER_TAG_NOT_MINIMAL, 1, 0x1f, 0x80, 0x01, 0x00),
    S("high form low number", BK_DER_TAG_NOT_MINIMAL, 1, 0x1f, 0x05, 0x00),
    S("huge tag", BK_DER_TAG_TOO_LARGE, 6, 0x1f, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00),
    S("cut tag", BK_DER_TRUNCATED_TAG, 2, 0x1f, 0x81),
    S("only a tag", BK_DER_TRUNCATED_LENGTH, 1, 0x30),
};

static void test_samples(void)
{
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        size_t where = 99;
        enum bk_der_status got = bk_der_check(samples[i].data, samples[i].len, &where);
        CHECK(got == samples[i].status, "%s: status %d, expected %d", samples[i].name, got,
              samples[i].status);
        if (got != BK_DER_OK)
            CHECK(where == samples[i].where, "%s: offset %zu, expected %zu", samples[i].name,
                  where, samples[i].where);
    }
    size_t where;
    CHECK(bk_der_check((const uint8_t *)"", 0, &where) == BK_DER_EMPTY, "empty input");
}

/* SEQUENCE nested `levels` deep around a NULL, built from the inside out at the end of buf,
 * then moved to its start; the length. */
static size_t nest(uint8_t *buf, size_t cap, int levels)
{
    size_t start = cap - 2;
    buf[start] = 0x05;
    buf[start + 1] = 0x00;
    for (int i = 0; i < levels; i++) {
        size_t inner = cap - start;
        if (inner < 0x80) {
            start -= 2;
            buf[start + 1] = (uint8_t)inner;
        } else {
            start -= 3;
            buf[start + 1] = 0x81;
            buf[start + 2] = (uint8_t)inner;
        }
        buf[start] = 0x30;
    }
    memmove(buf, buf + start, cap - start);
    return cap - start;
}

static void test_depth(void)
{
    uint8_t buf[256];
    size_t where;
    size_t len = nest(buf, sizeof buf, BK_DER_MAX_DEPTH);
    CHECK(bk_der_check(buf, len, &where) == BK_DER_OK, "depth at the bound");
    len = nest(buf, sizeof buf, BK_DER_MAX_DEPTH + 1);
    CHECK(bk_der_check(buf, len, &where) == BK_DER_TOO_DEEP, "depth past the bound");
}

static void test_every_mutation(void)
{
    /* SEQUENCE { SET { INTEGER 5, [0] { OCTET STRING "AB" } }, BIT STRING 00 FF } */
    static const uint8_t good[] = {0x30, 0x0f, 0x31, 0x09, 0x02, 0x01, 0x05, 0xa0, 0x04, 0x04,
                                   0x02, 0x41, 0x42, 0x03, 0x02, 0x00, 0xff};
    size_t where;
    CHECK(bk_der_check(good, sizeof good, &where) == BK_DER_OK, "the sample itself");
    for (size_t cut = 0; cut < sizeof good; cut++) {
        uint8_t copy[sizeof good];
        memcpy(copy, good, cut);
        /* an exact-size heap-free copy: ASan catches a read past `cut` on the stack copy too */
        enum bk_der_status got = bk_der_check(copy, cut, &where);
        CHECK(got != BK_DER_OK, "truncated to %zu accepted", cut);
        CHECK(where <= cut, "offset %zu past a %zu-byte input", where, cut);
    }
    for (size_t i = 0; i < sizeof good; i++) {
        for (int v = 0; v < 256; v++) {
            uint8_t copy[sizeof good];
            memcpy(copy, good, sizeof good);
            copy[i] = (uint8_t)v;
            enum bk_der_status got = bk_der_check(copy, sizeof good, &where);
            CHECK(got == BK_DER_OK || where <= sizeof good, "offset past the input");
        }
    }
}

static void test_header(void)
{
    static const uint8_t data[] = {0x30, 0x05, 0x02, 0x01, 0x05, 0x05, 0x00, 0x3f, 0x81, 0x00, 0x00};
    int tag;
    size_t body, end;
    CHECK(bk_der_header(data, 0, sizeof data, &tag, &body, &end) == BK_DER_OK, "header");
    CHECK(tag == 0x30 && body == 2 && end == 7, "sequence: %d %zu %zu", tag, body, end);
    CHECK(bk_der_header(data, 2, 7, &tag, &body, &end) == BK_DER_OK && tag == 2 && end == 5,
          "child");
    CHECK(bk_der_header(data, 7, sizeof data, &tag, &body, &end) == BK_DER_OK && tag == -1 &&
              body == 11 && end == 11,
          "high tag: %d %zu %zu", tag, body, end);
    CHECK(bk_der_header(data, 0, 6, &tag, &body, &end) == BK_DER_LENGTH_OVERFLOW, "past limit");
    CHECK(bk_der_header(data, 6, 6, &tag, &body, &end) == BK_DER_TRUNCATED_TAG, "at limit");
    CHECK(bk_der_header(data, 0, 1, &tag, &body, &end) == BK_DER_TRUNCATED_LENGTH, "no length");
    static const uint8_t indefinite[] = {0x30, 0x80, 0x00, 0x00};
    CHECK(bk_der_header(indefinite, 0, sizeof indefinite, &tag, &body, &end) ==
              BK_DER_INDEFINITE_LENGTH,
          "indefinite");
    /* Every truncation of every prefix: a header either fits inside the limit or is refused. */
    for (size_t limit = 0; limit <= sizeof data; limit++) {
        for (size_t pos = 0; pos < limit; pos++) {
            if (bk_der_header(data, pos, limit, &tag, &body, &end) == BK_DER_OK)
                CHECK(pos < body && body <= end && end <= limit, "fits: %zu %zu", pos, limit);
        }
    }
}

int main(void)
{
    test_header();
    test_samples();
    test_depth();
    test_every_mutation();
    return verdict("der");
}
