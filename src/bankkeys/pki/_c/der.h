/* DER framing check: every tag, length and nesting of a byte string, no objects built. */
#ifndef BK_DER_H
#define BK_DER_H

#include <stddef.h>
#include <stdint.h>

enum bk_der_status {
    BK_DER_OK = 0,
    BK_DER_EMPTY,              /* no bytes at all */
    BK_DER_TRUNCATED_TAG,      /* the input (or a parent) ends inside a tag */
    BK_DER_TAG_NOT_MINIMAL,    /* high-tag-number form not minimal */
    BK_DER_TAG_TOO_LARGE,      /* tag number beyond 32 bits */
    BK_DER_TRUNCATED_LENGTH,   /* ends before or inside the length octets */
    BK_DER_INDEFINITE_LENGTH,  /* 0x80: BER only */
    BK_DER_LENGTH_NOT_MINIMAL, /* long form for < 128, or a leading zero octet */
    BK_DER_LENGTH_OVERFLOW,    /* the value runs past its parent or the input */
    BK_DER_TRAILING_BYTES,     /* bytes after the single top-level value */
    BK_DER_TOO_DEEP            /* nesting beyond BK_DER_MAX_DEPTH */
};

#define BK_DER_MAX_DEPTH 64

/* Check that data[0..len) is exactly one DER value whose constructed values hold whole values
 * edge to edge, recursively. On failure *where is the offset of the offending octet. */
enum bk_der_status bk_der_check(const uint8_t *data, size_t len, size_t *where);

/* One value's header at data[pos] inside [pos, limit): its identifier octet (or -1 for the
 * high-tag-number form), the offset of its contents and the offset just past it. Returns
 * BK_DER_OK or the framing defect (lengths are checked to fit, not for minimality). */
enum bk_der_status bk_der_header(const uint8_t *data, size_t pos, size_t limit, int *tag,
                                 size_t *body, size_t *end);

#endif
