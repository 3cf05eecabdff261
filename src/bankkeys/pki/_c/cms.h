/* The fields of a CMS SignedData's single SignerInfo that a verifier reads, located in C: the fast
 * path of bankkeys.pki.cms.verify_cms. It only ever answers "here they are" for input the Python
 * reader (pki/cms.py, the oracle) reads without complaint; anything else — a defect, or merely
 * something the fast path leaves to Python (several signers, no signed attributes, a repeated
 * attribute) — is BK_CMS_OTHER, and the Python reader then decides and words the refusal. */
#ifndef BK_CMS_H
#define BK_CMS_H

#include <stddef.h>
#include <stdint.h>

struct bk_span {
    size_t start, end; /* data[start:end] */
};

struct bk_cms_signer {
    struct bk_span content_type;  /* eContentType: OBJECT IDENTIFIER contents */
    int has_attached;             /* eContent present */
    struct bk_span attached;      /* its OCTET STRING contents */
    int sid_is_key_id;            /* sid is [0] subjectKeyIdentifier */
    struct bk_span sid;           /* key id contents, or the issuer Name's whole encoding */
    struct bk_span serial;        /* INTEGER contents (issuer and serial only) */
    struct bk_span digest_oid;    /* digestAlgorithm's OID contents */
    struct bk_span signature_oid; /* signatureAlgorithm's OID contents */
    struct bk_span signature;     /* OCTET STRING contents */
    struct bk_span attrs;         /* [0] signedAttrs contents */
    struct bk_span attr_content_type; /* the contentType attribute's one OID value, contents */
    struct bk_span message_digest;    /* the messageDigest attribute's one OCTET STRING value */
    int time_tag;                 /* signingTime's first value: 0x17, 0x18, or 0 for none */
    size_t time_start;            /* ... its identifier octet */
    struct bk_span time;          /* ... its contents */
    int has_ess;                  /* signingCertificateV2 with at least one value */
    int has_ess_hash_oid;         /* ESSCertIDv2 names its hashAlgorithm */
    struct bk_span ess_hash_oid;  /* ... its OID contents */
    struct bk_span ess_cert_hash; /* certHash contents */
};

enum bk_cms_status {
    BK_CMS_OK = 0,
    BK_CMS_OTHER = 1 /* not for the fast path: let the Python reader decide */
};

/* Locate the fields in data[0..len) (a whole ContentInfo; its framing is checked here too). */
enum bk_cms_status bk_cms_signer(const uint8_t *data, size_t len, struct bk_cms_signer *out);

#endif
