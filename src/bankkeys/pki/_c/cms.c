#include "cms.h"

#include <string.h>

#include "der.h"

/* The identifier octets and OIDs the reader compares with (X.690; RFC 5652; RFC 5035). */
enum {
    T_INTEGER = 0x02,
    T_OCTET_STRING = 0x04,
    T_OID = 0x06,
    T_UTC_TIME = 0x17,
    T_GENERALIZED_TIME = 0x18,
    T_SEQUENCE = 0x30,
    T_SET = 0x31,
    T_CTX0_PRIMITIVE = 0x80,
    T_CTX0 = 0xa0,
    T_CTX1 = 0xa1
};

static const uint8_t OID_SIGNED_DATA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02};
static const uint8_t OID_CONTENT_TYPE[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03};
static const uint8_t OID_MESSAGE_DIGEST[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04};
static const uint8_t OID_SIGNING_TIME[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05};
static const uint8_t OID_SIGNING_CERTIFICATE_V2[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
                                                     0x01, 0x09, 0x10, 0x02, 0x2f};

#define MAX_FIELDS 8      /* SignedData has at most 6, SignerInfo at most 7 */
#define MAX_ATTRIBUTES 16 /* more: left to Python (its duplicate check is by the whole list) */

struct tlv {
    int tag;
    size_t start, body, end;
};

static int header(const uint8_t *data, size_t pos, size_t limit, struct tlv *t)
{
    t->start = pos;
    return bk_der_header(data, pos, limit, &t->tag, &t->body, &t->end) == BK_DER_OK;
}

/* The children of `parent` into out[0..max); their count, or -1 when there are more than max
 * (or they do not frame: impossible after bk_der_check, but never trusted). */
static int children(const uint8_t *data, const struct tlv *parent, struct tlv *out, int max)
{
    int count = 0;
    size_t pos = parent->body;
    while (pos < parent->end) {
        if (count == max || !header(data, pos, parent->end, &out[count]))
            return -1;
        pos = out[count++].end;
    }
    return count;
}

/* The first child of `parent`, if it has one. */
static int first_child(const uint8_t *data, const struct tlv *parent, struct tlv *out)
{
    return parent->body < parent->end && header(data, parent->body, parent->end, out);
}

static struct bk_span contents(const struct tlv *t)
{
    struct bk_span s = {t->body, t->end};
    return s;
}

/* An OBJECT IDENTIFIER as the Python reader accepts one (_der_read.dotted): not empty, the
 * last octet ends a subidentifier, and no subidentifier begins with 0x80. */
static int oid_ok(const uint8_t *data, const struct tlv *t)
{
    if (t->tag != T_OID || t->body == t->end || (data[t->end - 1] & 0x80))
        return 0;
    int fresh = 1;
    for (size_t i = t->body; i < t->end; i++) {
        if (fresh && data[i] == 0x80)
            return 0;
        fresh = !(data[i] & 0x80);
    }
    return 1;
}

static int oid_is(const uint8_t *data, const struct tlv *t, const uint8_t *oid, size_t len)
{
    return oid_ok(data, t) && t->end - t->body == len && memcmp(data + t->body, oid, len) == 0;
}

/* An INTEGER in its minimal form (_der_read.integer). */
static int integer_ok(const uint8_t *data, const struct tlv *t)
{
    if (t->tag != T_INTEGER || t->body == t->end)
        return 0;
    if (t->end - t->body > 1) {
        uint8_t a = data[t->body], b = data[t->body + 1];
        if ((a == 0x00 && b < 0x80) || (a == 0xff && b >= 0x80))
            return 0;
    }
    return 1;
}

/* AlgorithmIdentifier { algorithm OID, parameters ANY OPTIONAL }: the OID's contents. */
static int algorithm(const uint8_t *data, const struct tlv *t, struct bk_span *oid)
{
    struct tlv parts[2];
    if (t->tag != T_SEQUENCE)
        return 0;
    int n = children(data, t, parts, 2);
    if (n < 1 || !oid_ok(data, &parts[0]))
        return 0;
    *oid = contents(&parts[0]);
    return 1;
}

/* ContentInfo { signedData, [0] EXPLICIT SignedData }: eContent and the SignerInfos' SET. */
static int signed_data(const uint8_t *data, size_t len, struct bk_cms_signer *out,
                       struct tlv *signer_infos)
{
    struct tlv top, info[2], wrapped, fields[MAX_FIELDS], encap[2], explicit_;
    if (!header(data, 0, len, &top) || top.tag != T_SEQUENCE)
        return 0;
    if (children(data, &top, info, 2) != 2)
        return 0;
    if (!oid_is(data, &info[0], OID_SIGNED_DATA, sizeof OID_SIGNED_DATA))
        return 0;
    if (info[1].tag != T_CTX0 || children(data, &info[1], &wrapped, 1) != 1)
        return 0;
    if (wrapped.tag != T_SEQUENCE)
        return 0;
    int n = children(data, &wrapped, fields, MAX_FIELDS);
    if (n < 4)
        return 0;
    /* version: 0..5, so one contents octet (a longer form would not be minimal) */
    if (fields[0].tag != T_INTEGER || fields[0].end - fields[0].body != 1 ||
        data[fields[0].body] > 5)
        return 0;
    if (fields[1].tag != T_SET)
        return 0;
    /* between encapContentInfo and signerInfos: [0] certificates, [1] crls, each at most
     * once, in that order */
    int middle = n - 4;
    if (middle > 2)
        return 0;
    if (middle == 2 && (fields[3].tag != T_CTX0 || fields[4].tag != T_CTX1))
        return 0;
    if (middle == 1 && fields[3].tag != T_CTX0 && fields[3].tag != T_CTX1)
        return 0;
    if (fields[n - 1].tag != T_SET)
        return 0;
    *signer_infos = fields[n - 1];
    if (fields[2].tag != T_SEQUENCE)
        return 0;
    int parts = children(data, &fields[2], encap, 2);
    if (parts < 1 || !oid_ok(data, &encap[0]))
        return 0;
    out->content_type = contents(&encap[0]);
    out->has_attached = parts == 2;
    if (parts == 2) {
        if (encap[1].tag != T_CTX0 || children(data, &encap[1], &explicit_, 1) != 1)
            return 0;
        if (explicit_.tag != T_OCTET_STRING)
            return 0;
        out->attached = contents(&explicit_);
    }
    return 1;
}

/* SignerIdentifier: [0] subjectKeyIdentifier, or issuerAndSerialNumber. */
static int signer_identifier(const uint8_t *data, const struct tlv *t, struct bk_cms_signer *out)
{
    if (t->tag == T_CTX0_PRIMITIVE) {
        out->sid_is_key_id = 1;
        out->sid = contents(t);
        return 1;
    }
    struct tlv parts[2];
    if (t->tag != T_SEQUENCE || children(data, t, parts, 2) != 2)
        return 0;
    if (parts[0].tag != T_SEQUENCE || !integer_ok(data, &parts[1]))
        return 0;
    out->sid_is_key_id = 0;
    out->sid.start = parts[0].start;
    out->sid.end = parts[0].end;
    out->serial = contents(&parts[1]);
    return 1;
}

/* SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2, policies OPTIONAL }, its first
 * ESSCertIDv2 { hashAlgorithm DEFAULT sha256, certHash OCTET STRING, issuerSerial OPTIONAL }. */
static int signing_certificate(const uint8_t *data, const struct tlv *value,
                               struct bk_cms_signer *out)
{
    struct tlv certs, first, parts[3];
    if (value->tag != T_SEQUENCE || !first_child(data, value, &certs))
        return 0;
    if (certs.tag != T_SEQUENCE || !first_child(data, &certs, &first))
        return 0;
    if (first.tag != T_SEQUENCE)
        return 0;
    /* all of its children are read only for their count (the first two matter) */
    int n = 0;
    size_t pos = first.body;
    while (pos < first.end) {
        struct tlv t;
        if (!header(data, pos, first.end, &t))
            return 0;
        if (n < 3)
            parts[n] = t;
        n++;
        pos = t.end;
    }
    int at = 0;
    out->has_ess_hash_oid = 0;
    if (n >= 2 && parts[0].tag == T_SEQUENCE && parts[1].tag == T_OCTET_STRING) {
        if (!algorithm(data, &parts[0], &out->ess_hash_oid))
            return 0;
        out->has_ess_hash_oid = 1;
        at = 1;
    }
    if (n <= at || parts[at].tag != T_OCTET_STRING)
        return 0;
    out->ess_cert_hash = contents(&parts[at]);
    out->has_ess = 1;
    return 1;
}

/* One Attribute { type OID, values SET }: a known type's values read into out. */
static int attribute(const uint8_t *data, const struct tlv *type, const struct tlv *values,
                     struct bk_cms_signer *out)
{
    struct tlv first;
    int has_first = first_child(data, values, &first);
    if (oid_is(data, type, OID_CONTENT_TYPE, sizeof OID_CONTENT_TYPE)) {
        struct tlv one[1];
        if (children(data, values, one, 1) != 1 || !oid_ok(data, &one[0]))
            return 0;
        out->attr_content_type = contents(&one[0]);
    } else if (oid_is(data, type, OID_MESSAGE_DIGEST, sizeof OID_MESSAGE_DIGEST)) {
        struct tlv one[1];
        if (children(data, values, one, 1) != 1 || one[0].tag != T_OCTET_STRING)
            return 0;
        out->message_digest = contents(&one[0]);
    } else if (oid_is(data, type, OID_SIGNING_TIME, sizeof OID_SIGNING_TIME)) {
        if (has_first) {
            if (first.tag != T_UTC_TIME && first.tag != T_GENERALIZED_TIME)
                return 0;
            out->time_tag = first.tag;
            out->time_start = first.start;
            out->time = contents(&first);
        }
    } else if (oid_is(data, type, OID_SIGNING_CERTIFICATE_V2,
                      sizeof OID_SIGNING_CERTIFICATE_V2)) {
        if (has_first && !signing_certificate(data, &first, out))
            return 0;
    }
    return 1;
}

/* [0] signedAttrs: each Attribute well formed, no type twice, contentType and messageDigest
 * there with one value each. */
static int attributes(const uint8_t *data, const struct tlv *attrs, struct bk_cms_signer *out)
{
    struct bk_span seen[MAX_ATTRIBUTES];
    int count = 0, content_type = 0, message_digest = 0;
    size_t pos = attrs->body;
    while (pos < attrs->end) {
        struct tlv attr, parts[2];
        if (count == MAX_ATTRIBUTES || !header(data, pos, attrs->end, &attr))
            return 0;
        pos = attr.end;
        if (attr.tag != T_SEQUENCE || children(data, &attr, parts, 2) != 2)
            return 0;
        if (!oid_ok(data, &parts[0]) || parts[1].tag != T_SET)
            return 0;
        size_t len = parts[0].end - parts[0].body;
        for (int i = 0; i < count; i++)
            if (seen[i].end - seen[i].start == len &&
                memcmp(data + seen[i].start, data + parts[0].body, len) == 0)
                return 0;
        seen[count++] = contents(&parts[0]);
        content_type |= oid_is(data, &parts[0], OID_CONTENT_TYPE, sizeof OID_CONTENT_TYPE);
        message_digest |= oid_is(data, &parts[0], OID_MESSAGE_DIGEST, sizeof OID_MESSAGE_DIGEST);
        if (!attribute(data, &parts[0], &parts[1], out))
            return 0;
    }
    return content_type && message_digest;
}

enum bk_cms_status bk_cms_signer(const uint8_t *data, size_t len, struct bk_cms_signer *out)
{
    memset(out, 0, sizeof *out);
    size_t where;
    if (bk_der_check(data, len, &where) != BK_DER_OK)
        return BK_CMS_OTHER;
    struct tlv signer_infos, info, fields[MAX_FIELDS];
    if (!signed_data(data, len, out, &signer_infos))
        return BK_CMS_OTHER;
    /* exactly one SignerInfo */
    if (!first_child(data, &signer_infos, &info) || info.end != signer_infos.end)
        return BK_CMS_OTHER;
    if (info.tag != T_SEQUENCE)
        return BK_CMS_OTHER;
    /* version, sid, digestAlgorithm, [0] signedAttrs, signatureAlgorithm, signature,
     * [1] unsignedAttrs? */
    int n = children(data, &info, fields, MAX_FIELDS);
    if (n < 5 || !integer_ok(data, &fields[0]) || !signer_identifier(data, &fields[1], out))
        return BK_CMS_OTHER;
    int last = n - 1;
    if (fields[3].tag != T_CTX0) /* no signed attributes: left to Python */
        return BK_CMS_OTHER;
    if (fields[last].tag == T_CTX1)
        last--;
    if (last - 3 != 2) /* exactly signatureAlgorithm and signature after the attributes */
        return BK_CMS_OTHER;
    if (!algorithm(data, &fields[2], &out->digest_oid) ||
        !algorithm(data, &fields[4], &out->signature_oid))
        return BK_CMS_OTHER;
    if (fields[5].tag != T_OCTET_STRING)
        return BK_CMS_OTHER;
    out->signature = contents(&fields[5]);
    out->attrs = contents(&fields[3]);
    if (!attributes(data, &fields[3], out))
        return BK_CMS_OTHER;
    return BK_CMS_OK;
}
