/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A minimal, strict DER reader for walking structures without decoding them
 * into OpenSSL objects (which, in OpenSSL 3.0, decodes every public key it
 * meets and is slow). Used where bytes only need to be located or compared:
 * the signer checking what it signs, the CA locating a CSR's key.
 *
 * Only definite lengths, single-byte tags (low tag numbers), minimal length
 * encodings; anything else is RC_INVAL. Never reads past the input.
 */
#ifndef CERTDESK_UTIL_DER_H
#define CERTDESK_UTIL_DER_H

#include <stddef.h>
#include <stdint.h>

#define DER_INTEGER 0x02
#define DER_BITSTRING 0x03
#define DER_OCTETSTRING 0x04
#define DER_NULL 0x05
#define DER_OID 0x06
#define DER_UTF8 0x0c
#define DER_PRINTABLE 0x13
#define DER_IA5 0x16
#define DER_UTCTIME 0x17
#define DER_GENTIME 0x18
#define DER_SEQUENCE 0x30
#define DER_SET 0x31
#define DER_CTX(n) (0xa0 | (n))	/* constructed, context-specific */

/* A cursor over p[0..len). Borrowed: valid while the input lives. */
struct der {
	const uint8_t *p;
	size_t len;
};

/* One element: tag, the whole TLV (raw, raw_len), and its contents. */
struct der_elem {
	uint8_t tag;
	const uint8_t *raw;
	size_t raw_len;
	struct der body;
};

/* Reads the next element from d and advances d. RC_NOTFOUND at the end,
 * RC_INVAL on malformed encoding. */
int der_next(struct der *d, struct der_elem *e);
/* Like der_next, but the tag must equal tag (RC_INVAL otherwise). */
int der_expect(struct der *d, uint8_t tag, struct der_elem *e);
/* Reads the next element only if its tag is tag: 1 read, 0 absent. */
int der_optional(struct der *d, uint8_t tag, struct der_elem *e);
/* 1 when the element's bytes equal p[0..n). */
int der_eq(const struct der_elem *e, const uint8_t *p, size_t n);
/* The head of an X.509 certificate (RFC 5280 4.1), the whole of cert:
 * its TBSCertificate's validity, subject and subjectPublicKeyInfo
 * elements, and in *rest what follows them (the unique ids and
 * extensions). Neither signature nor contents are checked. 0 or
 * RC_INVAL. */
int der_cert_head(const uint8_t *cert, size_t len, struct der *rest,
    struct der_elem *validity, struct der_elem *subject,
    struct der_elem *spki);

#endif
