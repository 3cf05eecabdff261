#include "der.h"

/* One value at data[*pos] inside [.., limit); on success *pos is just past it. Iterative over
 * siblings, recursive over nesting (bounded by BK_DER_MAX_DEPTH). */
static enum bk_der_status check_value(const uint8_t *data, size_t *pos, size_t limit, int depth,
                                      size_t *where)
{
    size_t p = *pos;
    if (depth > BK_DER_MAX_DEPTH) {
        *where = p;
        return BK_DER_TOO_DEEP;
    }
    if (p >= limit) {
        *where = p;
        return BK_DER_TRUNCATED_TAG;
    }
    uint8_t first = data[p++];
    if ((first & 0x1f) == 0x1f) {
        uint64_t number = 0;
        for (;;) {
            if (p >= limit) {
                *where = p;
                return BK_DER_TRUNCATED_TAG;
            }
            uint8_t octet = data[p];
            if (number == 0 && octet == 0x80) {
                *where = p;
                return BK_DER_TAG_NOT_MINIMAL;
            }
            number = (number << 7) | (octet & 0x7f);
            if (number > 0xffffffffu) {
                *where = p;
                return BK_DER_TAG_TOO_LARGE;
            }
            p++;
            if (!(octet & 0x80))
                break;
        }
        if (number < 0x1f) {
            *where = p - 1;
            return BK_DER_TAG_NOT_MINIMAL;
        }
    }
    if (p >= limit) {
        *where = p;
        return BK_DER_TRUNCATED_LENGTH;
    }
    size_t at_length = p;
    uint8_t initial = data[p++];
    size_t length = initial;
    if (initial == 0x80) {
        *where = at_length;
        return BK_DER_INDEFINITE_LENGTH;
    }
    if (initial > 0x80) {
        size_t count = initial & 0x7f;
        if (count > 4 || count > limit - p) {
            *where = at_length;
            return BK_DER_LENGTH_OVERFLOW;
        }
        if (data[p] == 0) {
            *where = at_length;
            return BK_DER_LENGTH_NOT_MINIMAL;
        }
        length = 0;
        for (size_t i = 0; i < count; i++)
            length = (length << 8) | data[p++];
        if (length < 0x80) {
            *where = at_length;
            return BK_DER_LENGTH_NOT_MINIMAL;
        }
    }
    if (length > limit - p) {
        *where = at_length;
        return BK_DER_LENGTH_OVERFLOW;
    }
    size_t end = p + length;
    if (first & 0x20) {
        while (p < end) {
            enum bk_der_status status = check_value(data, &p, end, depth + 1, where);
            if (status != BK_DER_OK)
                return status;
        }
    }
    *pos = end;
    return BK_DER_OK;
}

enum bk_der_status bk_der_check(const uint8_t *data, size_t len, size_t *where)
{
    *where = 0;
    if (len == 0)
        return BK_DER_EMPTY;
    size_t pos = 0;
    enum bk_der_status status = check_value(data, &pos, len, 0, where);
    if (status != BK_DER_OK)
        return status;
    if (pos != len) {
        *where = pos;
        return BK_DER_TRAILING_BYTES;
    }
    return BK_DER_OK;
}

enum bk_der_status bk_der_header(const uint8_t *data, size_t pos, size_t limit, int *tag,
                                 size_t *body, size_t *end)
{
    if (pos >= limit)
        return BK_DER_TRUNCATED_TAG;
    size_t p = pos;
    uint8_t first = data[p++];
    *tag = first;
    if ((first & 0x1f) == 0x1f) {
        *tag = -1;
        while (p < limit && (data[p] & 0x80))
            p++;
        if (p >= limit)
            return BK_DER_TRUNCATED_TAG;
        p++;
    }
    if (p >= limit)
        return BK_DER_TRUNCATED_LENGTH;
    uint8_t initial = data[p++];
    size_t length = initial;
    if (initial == 0x80)
        return BK_DER_INDEFINITE_LENGTH;
    if (initial > 0x80) {
        size_t count = initial & 0x7f;
        if (count > 4 || count > limit - p)
            return BK_DER_LENGTH_OVERFLOW;
        length = 0;
        for (size_t i = 0; i < count; i++)
            length = (length << 8) | data[p++];
    }
    if (length > limit - p)
        return BK_DER_LENGTH_OVERFLOW;
    *body = p;
    *end = p + length;
    return BK_DER_OK;
}
