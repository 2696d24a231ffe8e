/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the signer checks before it signs anything, and the facts about a
 * key those checks need (its SPKI, the subject of its certificate).
 *
 * Runs in the signer process. Trusts nothing it is given: the bytes to sign
 * come from the CA core, which may be buggy or compromised, so everything is
 * walked with the strict DER reader (util/der.h) and never decoded into
 * OpenSSL objects (which would be slow and a bigger attack surface). The
 * checks are structural (the right ASN.1 shape, RFC 5280 / RFC 6960) plus
 * the few that decide what a key may vouch for:
 *
 *  - the signature algorithm inside a TBSCertificate or TBSCertList is the
 *    one this key produces (a mismatch makes a certificate that verifies
 *    under another algorithm than stated);
 *  - the issuer (or OCSP responder id) is this key's certificate subject,
 *    so the key only speaks as itself; an OCSP ResponseData is signed only
 *    when every CertID in it names this key as the issuer (SHA-1 of its
 *    certificate's subject and of its key bits, RFC 6960 4.1.1), so the
 *    key never vouches for another CA's certificates;
 *  - a key without a certificate signs nothing but its own self-signed root
 *    certificate, and only if it is a root key;
 *  - only a root key signs CA certificates (basicConstraints cA TRUE, or
 *    keyUsage keyCertSign), and an issuing key never certifies its own key;
 *  - a root key signs CA certificates only (cA TRUE and keyCertSign: its
 *    own self-signed one and its issuing CAs', whose keys must be held
 *    here too), CRLs, and no OCSP response;
 *  - a certificate given to a key (SETCERT) is a CA certificate, and
 *    self-signed for a root key or signed by a root key held here for an
 *    issuing key, since every issuer name check above trusts it. This is
 *    the one place that verifies a signature (EVP, on the key's SPKI).
 *
 * Every refusal is RC_SIGNER with a reason in the detail.
 */
#include "signer/signer_int.h"
#include "util/der.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DER_BOOLEAN 0x01

/* RFC 5758 3.2 (no parameters) and RFC 4055 5 (NULL parameters). */
static const uint8_t alg_ecdsa_sha256[] = {
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t alg_ecdsa_sha384[] = {
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
static const uint8_t alg_rsa_sha256[] = {
	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
	0x0b, 0x05, 0x00};

/* Extension ids (RFC 5280 4.2.1.9 and 4.2.1.3), as whole OID TLVs. */
static const uint8_t oid_basic_constraints[] = {0x06, 0x03, 0x55, 0x1d, 0x13};
static const uint8_t oid_key_usage[] = {0x06, 0x03, 0x55, 0x1d, 0x0f};

const uint8_t *
signer_sigalg_der(int keytype, size_t *len)
{
	const uint8_t *p;
	size_t n;

	switch (keytype) {
	case SIGNER_KEY_EC_P256:
		p = alg_ecdsa_sha256;
		n = sizeof(alg_ecdsa_sha256);
		break;
	case SIGNER_KEY_EC_P384:
		p = alg_ecdsa_sha384;
		n = sizeof(alg_ecdsa_sha384);
		break;
	case SIGNER_KEY_RSA_2048:
	case SIGNER_KEY_RSA_3072:
	case SIGNER_KEY_RSA_4096:
		p = alg_rsa_sha256;
		n = sizeof(alg_rsa_sha256);
		break;
	default:
		return NULL;
	}
	if (len != NULL)
		*len = n;
	return p;
}

int
signer_keyid_valid(const char *id)
{
	size_t n;

	if (id == NULL)
		return 0;
	for (n = 0; id[n] != '\0'; n++) {
		char c = id[n];

		if (n >= SIGNER_KEYID_MAX)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			return 0;
	}
	return n > 0;
}

const char *
signer_keytype_name(int keytype)
{
	switch (keytype) {
	case SIGNER_KEY_EC_P256:
		return "P-256";
	case SIGNER_KEY_EC_P384:
		return "P-384";
	case SIGNER_KEY_RSA_2048:
		return "RSA-2048";
	case SIGNER_KEY_RSA_3072:
		return "RSA-3072";
	case SIGNER_KEY_RSA_4096:
		return "RSA-4096";
	default:
		return "unknown";
	}
}

int
signer_keytype_rsa_bits(int keytype)
{
	switch (keytype) {
	case SIGNER_KEY_RSA_2048:
		return 2048;
	case SIGNER_KEY_RSA_3072:
		return 3072;
	case SIGNER_KEY_RSA_4096:
		return 4096;
	default:
		return 0;
	}
}

int
signer_keytype_rsa(int bits)
{
	for (int t = SIGNER_KEY_RSA_2048; t <= SIGNER_KEY_RSA_4096; t++)
		if (signer_keytype_rsa_bits(t) == bits)
			return t;
	return 0;
}

static int
refuse(struct rc_detail *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
refuse(struct rc_detail *d, const char *fmt, ...)
{
	va_list ap;

	if (d != NULL) {
		va_start(ap, fmt);
		vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
		va_end(ap);
	}
	return RC_SIGNER;
}

/* ---- shapes ------------------------------------------------------------ */

/* Name ::= SEQUENCE OF SET SIZE (1..MAX) OF SEQUENCE { OID, ANY } */
static int
name_ok(const struct der_elem *name)
{
	struct der rdns = name->body;
	struct der_elem rdn;
	int rc;

	if (name->tag != DER_SEQUENCE)
		return 0;
	while ((rc = der_next(&rdns, &rdn)) == 0) {
		struct der atvs = rdn.body;
		struct der_elem atv;
		int n = 0;

		if (rdn.tag != DER_SET)
			return 0;
		while ((rc = der_next(&atvs, &atv)) == 0) {
			struct der in = atv.body;
			struct der_elem oid, val;

			if (atv.tag != DER_SEQUENCE ||
			    der_expect(&in, DER_OID, &oid) != 0 ||
			    oid.body.len == 0 ||
			    der_next(&in, &val) != 0 || in.len != 0)
				return 0;
			n++;
		}
		if (rc != RC_NOTFOUND || n == 0)
			return 0;
	}
	return rc == RC_NOTFOUND;
}

static int
digits(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* RFC 5280 4.1.2.5: UTCTime YYMMDDHHMMSSZ or GeneralizedTime
 * YYYYMMDDHHMMSSZ, no fractions. */
static int
time_ok(const struct der_elem *t, int gen_only)
{
	const uint8_t *p = t->body.p;
	size_t n = t->body.len;

	if (t->tag == DER_UTCTIME && !gen_only)
		return n == 13 && digits(p, 12) && p[12] == 'Z';
	if (t->tag == DER_GENTIME)
		return n == 15 && digits(p, 14) && p[14] == 'Z';
	return 0;
}

/* AlgorithmIdentifier ::= SEQUENCE { OID, parameters ANY OPTIONAL } */
static int
algid_ok(const struct der_elem *a)
{
	struct der in = a->body;
	struct der_elem oid, par;

	if (a->tag != DER_SEQUENCE || der_expect(&in, DER_OID, &oid) != 0 ||
	    oid.body.len == 0)
		return 0;
	if (in.len != 0 && der_next(&in, &par) != 0)
		return 0;
	return in.len == 0;
}

/* SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING };
 * *bits: the key bits (after the unused-bits octet, which must be 0). */
static int
spki_ok(const struct der_elem *s, struct der *bits)
{
	struct der in = s->body;
	struct der_elem alg, bs;

	if (s->tag != DER_SEQUENCE || der_next(&in, &alg) != 0 ||
	    !algid_ok(&alg) || der_expect(&in, DER_BITSTRING, &bs) != 0 ||
	    in.len != 0 || bs.body.len < 2 || bs.body.p[0] != 0)
		return 0;
	if (bits != NULL) {
		bits->p = bs.body.p + 1;
		bits->len = bs.body.len - 1;
	}
	return 1;
}

/* A minimally encoded INTEGER. */
static int
integer_ok(const struct der_elem *e)
{
	const uint8_t *p = e->body.p;
	size_t n = e->body.len;

	if (e->tag != DER_INTEGER || n == 0)
		return 0;
	if (n > 1 && ((p[0] == 0x00 && !(p[1] & 0x80)) ||
	    (p[0] == 0xff && (p[1] & 0x80))))
		return 0;
	return 1;
}

/* RFC 5280 4.1.2.2: positive, at most 20 octets. */
static int
serial_ok(const struct der_elem *e, struct rc_detail *d)
{
	const uint8_t *p = e->body.p;
	size_t n = e->body.len;

	if (!integer_ok(e))
		return refuse(d, "serial number is not a DER INTEGER");
	if (n > 20)
		return refuse(d, "serial number longer than 20 octets");
	if (p[0] & 0x80)
		return refuse(d, "serial number is negative");
	if (n == 1 && p[0] == 0)
		return refuse(d, "serial number is zero");
	return 0;
}

/* What check_exts() found in an Extensions list. */
struct ext_facts {
	int ca;			/* basicConstraints cA TRUE */
	int cert_sign;		/* keyUsage keyCertSign */
};

/*
 * Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
 * Extension ::= SEQUENCE { OID, critical BOOLEAN DEFAULT FALSE, OCTET
 * STRING }. DER: a FALSE critical flag is omitted. No extension twice
 * (RFC 5280 4.2).
 */
static int
exts_ok(const struct der_elem *exts, struct ext_facts *f, const char *what,
    struct rc_detail *d)
{
	struct der list = exts->body, seen = exts->body;
	struct der_elem ext;
	int rc, n = 0;

	if (exts->tag != DER_SEQUENCE)
		return refuse(d, "%s: extensions are not a SEQUENCE", what);
	while ((rc = der_next(&list, &ext)) == 0) {
		struct der in = ext.body, prev_list;
		struct der_elem oid, crit, val, prev;

		if (ext.tag != DER_SEQUENCE ||
		    der_expect(&in, DER_OID, &oid) != 0 || oid.body.len == 0)
			return refuse(d, "%s: malformed extension", what);
		rc = der_optional(&in, DER_BOOLEAN, &crit);
		if (rc < 0 || (rc == 1 && (crit.body.len != 1 ||
		    crit.body.p[0] != 0xff)))
			return refuse(d, "%s: malformed critical flag", what);
		if (der_expect(&in, DER_OCTETSTRING, &val) != 0 || in.len != 0)
			return refuse(d, "%s: malformed extension value", what);
		/* the extensions before this one: none may have this id */
		prev_list = seen;
		for (int i = 0; i < n; i++) {
			struct der pin;
			struct der_elem poid;

			if (der_next(&prev_list, &prev) != 0)
				return refuse(d, "%s: malformed extension",
				    what);
			pin = prev.body;
			if (der_expect(&pin, DER_OID, &poid) == 0 &&
			    der_eq(&poid, oid.raw, oid.raw_len))
				return refuse(d, "%s: duplicate extension",
				    what);
		}
		n++;
		if (der_eq(&oid, oid_basic_constraints,
		    sizeof(oid_basic_constraints))) {
			/* BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT
			 * FALSE, pathLenConstraint INTEGER OPTIONAL } */
			struct der v = val.body, bc;
			struct der_elem seq, ca, plen;

			if (der_expect(&v, DER_SEQUENCE, &seq) != 0 ||
			    v.len != 0)
				return refuse(d, "%s: malformed basic "
				    "constraints", what);
			bc = seq.body;
			rc = der_optional(&bc, DER_BOOLEAN, &ca);
			if (rc < 0 || (rc == 1 && (ca.body.len != 1 ||
			    ca.body.p[0] != 0xff)))
				return refuse(d, "%s: malformed basic "
				    "constraints", what);
			if (rc == 1)
				f->ca = 1;
			if (bc.len != 0 && (der_next(&bc, &plen) != 0 ||
			    !integer_ok(&plen) || bc.len != 0))
				return refuse(d, "%s: malformed basic "
				    "constraints", what);
		} else if (der_eq(&oid, oid_key_usage,
		    sizeof(oid_key_usage))) {
			/* KeyUsage ::= BIT STRING; keyCertSign is bit 5 */
			struct der v = val.body;
			struct der_elem ku;

			if (der_expect(&v, DER_BITSTRING, &ku) != 0 ||
			    v.len != 0 || ku.body.len < 1 ||
			    ku.body.p[0] > 7)
				return refuse(d, "%s: malformed key usage",
				    what);
			if (ku.body.len >= 2 && (ku.body.p[1] & 0x04))
				f->cert_sign = 1;
		}
	}
	if (rc != RC_NOTFOUND)
		return refuse(d, "%s: malformed extensions", what);
	if (n == 0)
		return refuse(d, "%s: empty extensions", what);
	return 0;
}

/* Reads [tag] EXPLICIT Extensions: the wrapper must hold exactly one
 * SEQUENCE. */
static int
explicit_exts(const struct der_elem *wrap, struct ext_facts *f,
    const char *what, struct rc_detail *d)
{
	struct der in = wrap->body;
	struct der_elem exts;

	if (der_expect(&in, DER_SEQUENCE, &exts) != 0 || in.len != 0)
		return refuse(d, "%s: malformed extensions", what);
	return exts_ok(&exts, f, what, d);
}

static int
sigalg_ok(const struct signer_key *k, const struct der_elem *alg)
{
	size_t n;
	const uint8_t *p = signer_sigalg_der(k->keytype, &n);

	return p != NULL && der_eq(alg, p, n);
}

static int
same_bytes(const struct der_elem *e, const uint8_t *p, size_t n)
{
	return p != NULL && der_eq(e, p, n);
}

/* ---- TBSCertificate (RFC 5280 4.1) -------------------------------------- */

/* 1 when spki is the public key of an issuing (non-root) key in keys. */
static int
issuing_key_held(const struct signer_key *keys, const struct der_elem *spki)
{
	for (const struct signer_key *h = keys; h != NULL; h = h->next)
		if (!h->is_root && same_bytes(spki, h->spki, h->spki_len))
			return 1;
	return 0;
}

static int
check_cert(const struct signer_key *k, const struct signer_key *keys,
    const uint8_t *tbs, size_t len, struct rc_detail *d)
{
	static const char w[] = "TBSCertificate";
	struct der in = {tbs, len}, t, v;
	struct der_elem top, e, ver, serial, alg, issuer, validity, nb, na;
	struct der_elem subject, spki;
	struct ext_facts f = {0, 0};
	int rc, own_key;

	if (der_expect(&in, DER_SEQUENCE, &top) != 0)
		return refuse(d, "%s: not one DER SEQUENCE (truncated?)", w);
	if (in.len != 0)
		return refuse(d, "%s: trailing bytes", w);
	t = top.body;
	/* version [0] EXPLICIT INTEGER: v3 (2), required for extensions */
	if (der_expect(&t, DER_CTX(0), &e) != 0)
		return refuse(d, "%s: version missing (must be v3)", w);
	v = e.body;
	if (der_expect(&v, DER_INTEGER, &ver) != 0 || v.len != 0 ||
	    ver.body.len != 1 || ver.body.p[0] != 2)
		return refuse(d, "%s: version is not v3", w);
	if (der_expect(&t, DER_INTEGER, &serial) != 0)
		return refuse(d, "%s: serial number missing", w);
	if ((rc = serial_ok(&serial, d)) != 0)
		return rc;
	if (der_next(&t, &alg) != 0 || !algid_ok(&alg))
		return refuse(d, "%s: malformed signature algorithm", w);
	if (!sigalg_ok(k, &alg))
		return refuse(d, "%s: signature algorithm is not the one of "
		    "key %s (%s)", w, k->id, signer_keytype_name(k->keytype));
	if (der_next(&t, &issuer) != 0 || !name_ok(&issuer))
		return refuse(d, "%s: malformed issuer name", w);
	if (der_expect(&t, DER_SEQUENCE, &validity) != 0)
		return refuse(d, "%s: validity missing", w);
	v = validity.body;
	if (der_next(&v, &nb) != 0 || !time_ok(&nb, 0) ||
	    der_next(&v, &na) != 0 || !time_ok(&na, 0) || v.len != 0)
		return refuse(d, "%s: malformed validity", w);
	if (der_next(&t, &subject) != 0 || !name_ok(&subject))
		return refuse(d, "%s: malformed subject name", w);
	if (der_next(&t, &spki) != 0 || !spki_ok(&spki, NULL))
		return refuse(d, "%s: malformed subject public key info", w);
	if (t.len != 0 && (t.p[0] == 0x81 || t.p[0] == 0x82 ||
	    t.p[0] == DER_CTX(1) || t.p[0] == DER_CTX(2)))
		return refuse(d, "%s: unique identifiers are not allowed", w);
	if (der_expect(&t, DER_CTX(3), &e) != 0)
		return refuse(d, "%s: extensions missing", w);
	if (t.len != 0)
		return refuse(d, "%s: trailing bytes after the extensions", w);
	if ((rc = explicit_exts(&e, &f, w, d)) != 0)
		return rc;

	own_key = same_bytes(&spki, k->spki, k->spki_len);
	if (k->subject == NULL) {
		/* no certificate yet: only its own self-signed root */
		if (!k->is_root)
			return refuse(d, "%s: key %s has no certificate yet",
			    w, k->id);
		if (!der_eq(&issuer, subject.raw, subject.raw_len) ||
		    !own_key)
			return refuse(d, "%s: key %s has no certificate yet "
			    "and this is not its self-signed certificate", w,
			    k->id);
	} else if (!same_bytes(&issuer, k->subject, k->subject_len)) {
		return refuse(d, "%s: issuer name is not the subject of key "
		    "%s's certificate", w, k->id);
	}
	if ((f.ca || f.cert_sign) && !k->is_root)
		return refuse(d, "%s: key %s is not a root key and may not "
		    "sign a CA certificate", w, k->id);
	if (own_key && !k->is_root)
		return refuse(d, "%s: key %s may not certify its own public "
		    "key", w, k->id);
	/* a root key certifies CA keys only (its own in its self-signed
	 * certificate, and issuing CAs): an end-entity certificate by it
	 * would chain straight to the trust anchor */
	if (k->is_root && !(f.ca && f.cert_sign))
		return refuse(d, "%s: key %s is a root key and signs only CA "
		    "certificates (cA TRUE and keyCertSign)", w, k->id);
	if (own_key && !der_eq(&issuer, subject.raw, subject.raw_len))
		return refuse(d, "%s: key %s certifies its own public key "
		    "only in its self-signed certificate", w, k->id);
	/* and the issuing CAs it certifies are keys held here: a CA
	 * certificate for a key from outside would let whoever holds that
	 * key issue under this root without the signer */
	if (k->is_root && !own_key && !issuing_key_held(keys, &spki))
		return refuse(d, "%s: key %s certifies only issuing keys "
		    "held by this signer, and this public key is not one",
		    w, k->id);
	return 0;
}

/* ---- TBSCertList (RFC 5280 5.1) ----------------------------------------- */

static int
check_crl(const struct signer_key *k, const uint8_t *tbs, size_t len,
    struct rc_detail *d)
{
	static const char w[] = "TBSCertList";
	struct der in = {tbs, len}, t;
	struct der_elem top, e, ver, alg, issuer, tu, nu, revoked;
	struct ext_facts f = {0, 0};
	int rc;

	if (der_expect(&in, DER_SEQUENCE, &top) != 0)
		return refuse(d, "%s: not one DER SEQUENCE (truncated?)", w);
	if (in.len != 0)
		return refuse(d, "%s: trailing bytes", w);
	t = top.body;
	if (der_expect(&t, DER_INTEGER, &ver) != 0 || ver.body.len != 1 ||
	    ver.body.p[0] != 1)
		return refuse(d, "%s: version is not v2", w);
	if (der_next(&t, &alg) != 0 || !algid_ok(&alg))
		return refuse(d, "%s: malformed signature algorithm", w);
	if (!sigalg_ok(k, &alg))
		return refuse(d, "%s: signature algorithm is not the one of "
		    "key %s (%s)", w, k->id, signer_keytype_name(k->keytype));
	if (der_next(&t, &issuer) != 0 || !name_ok(&issuer))
		return refuse(d, "%s: malformed issuer name", w);
	if (der_next(&t, &tu) != 0 || !time_ok(&tu, 0))
		return refuse(d, "%s: malformed thisUpdate", w);
	if (der_next(&t, &nu) != 0 || !time_ok(&nu, 0))
		return refuse(d, "%s: nextUpdate missing or malformed", w);
	rc = der_optional(&t, DER_SEQUENCE, &revoked);
	if (rc < 0)
		return refuse(d, "%s: malformed revoked certificates", w);
	if (rc == 1) {
		struct der list = revoked.body;
		struct der_elem ent;
		int n = 0;

		while ((rc = der_next(&list, &ent)) == 0) {
			struct der ein = ent.body;
			struct der_elem ser, when, eext;
			struct ext_facts ef = {0, 0};

			if (ent.tag != DER_SEQUENCE ||
			    der_next(&ein, &ser) != 0 || !integer_ok(&ser) ||
			    der_next(&ein, &when) != 0 || !time_ok(&when, 0))
				return refuse(d, "%s: malformed revoked "
				    "entry", w);
			rc = der_optional(&ein, DER_SEQUENCE, &eext);
			if (rc < 0 || ein.len != 0)
				return refuse(d, "%s: malformed revoked "
				    "entry", w);
			if (rc == 1 && (rc = exts_ok(&eext, &ef, w, d)) != 0)
				return rc;
			n++;
		}
		/* RFC 5280 5.1.2.6: absent, not empty, when none */
		if (rc != RC_NOTFOUND || n == 0)
			return refuse(d, "%s: malformed revoked certificates",
			    w);
	}
	if (der_expect(&t, DER_CTX(0), &e) != 0)
		return refuse(d, "%s: CRL extensions missing", w);
	if (t.len != 0)
		return refuse(d, "%s: trailing bytes after the extensions", w);
	if ((rc = explicit_exts(&e, &f, w, d)) != 0)
		return rc;
	if (k->subject == NULL)
		return refuse(d, "%s: key %s has no certificate", w, k->id);
	if (!same_bytes(&issuer, k->subject, k->subject_len))
		return refuse(d, "%s: issuer name is not the subject of key "
		    "%s's certificate", w, k->id);
	return 0;
}

/* ---- ResponseData (RFC 6960 4.2.1) -------------------------------------- */

/* SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus,
 * thisUpdate GeneralizedTime, nextUpdate [0] EXPLICIT OPTIONAL,
 * singleExtensions [1] EXPLICIT Extensions OPTIONAL } */
static int
single_ok(const struct signer_key *k, const struct der_elem *sr,
    struct rc_detail *d)
{
	static const char w[] = "ResponseData";
	struct der in = sr->body, c, r;
	struct der_elem certid, alg, nh, kh, ser, st, tu, e, gt;
	struct ext_facts f = {0, 0};
	int rc;

	if (sr->tag != DER_SEQUENCE ||
	    der_expect(&in, DER_SEQUENCE, &certid) != 0)
		return refuse(d, "%s: malformed single response", w);
	c = certid.body;
	if (der_next(&c, &alg) != 0 || !algid_ok(&alg) ||
	    der_expect(&c, DER_OCTETSTRING, &nh) != 0 ||
	    der_expect(&c, DER_OCTETSTRING, &kh) != 0 ||
	    der_next(&c, &ser) != 0 || !integer_ok(&ser) || c.len != 0)
		return refuse(d, "%s: malformed CertID", w);
	/* the CertID names this key's certificate as the issuer */
	{
		static const uint8_t oid_sha1[] = {0x06, 0x05, 0x2b, 0x0e,
			0x03, 0x02, 0x1a};
		struct der a = alg.body;
		struct der_elem oid;
		uint8_t name_hash[SIGNER_KEYHASH_LEN];

		if (der_next(&a, &oid) != 0 ||
		    !der_eq(&oid, oid_sha1, sizeof(oid_sha1)))
			return refuse(d, "%s: CertID hash algorithm is not "
			    "SHA-1", w);
		if (k->subject == NULL || !EVP_Digest(k->subject,
		    k->subject_len, name_hash, NULL, EVP_sha1(), NULL))
			return refuse(d, "%s: key %s has no certificate", w,
			    k->id);
		if (nh.body.len != sizeof(name_hash) ||
		    memcmp(nh.body.p, name_hash, sizeof(name_hash)) != 0 ||
		    kh.body.len != SIGNER_KEYHASH_LEN ||
		    memcmp(kh.body.p, k->keyhash, SIGNER_KEYHASH_LEN) != 0)
			return refuse(d, "%s: CertID names another issuer "
			    "than key %s", w, k->id);
	}
	if (der_next(&in, &st) != 0)
		return refuse(d, "%s: certificate status missing", w);
	if (st.tag == 0x80 || st.tag == 0x82) {	/* good, unknown: NULL */
		if (st.body.len != 0)
			return refuse(d, "%s: malformed certificate status",
			    w);
	} else if (st.tag == DER_CTX(1)) {	/* revoked: RevokedInfo */
		r = st.body;
		if (der_next(&r, &gt) != 0 || !time_ok(&gt, 1))
			return refuse(d, "%s: malformed revocation time", w);
		if (der_optional(&r, DER_CTX(0), &e) < 0 || r.len != 0)
			return refuse(d, "%s: malformed revocation reason", w);
	} else {
		return refuse(d, "%s: unknown certificate status", w);
	}
	if (der_next(&in, &tu) != 0 || !time_ok(&tu, 1))
		return refuse(d, "%s: malformed thisUpdate", w);
	rc = der_optional(&in, DER_CTX(0), &e);
	if (rc < 0)
		return refuse(d, "%s: malformed nextUpdate", w);
	if (rc == 1) {
		r = e.body;
		if (der_next(&r, &gt) != 0 || !time_ok(&gt, 1) || r.len != 0)
			return refuse(d, "%s: malformed nextUpdate", w);
	}
	rc = der_optional(&in, DER_CTX(1), &e);
	if (rc < 0)
		return refuse(d, "%s: malformed single extensions", w);
	if (rc == 1 && (rc = explicit_exts(&e, &f, w, d)) != 0)
		return rc;
	if (in.len != 0)
		return refuse(d, "%s: trailing bytes in a single response", w);
	return 0;
}

static int
check_ocsp(const struct signer_key *k, const uint8_t *tbs, size_t len,
    struct rc_detail *d)
{
	static const char w[] = "ResponseData";
	struct der in = {tbs, len}, t, v;
	struct der_elem top, e, ver, rid, name, hash, produced, resps, sr;
	struct ext_facts f = {0, 0};
	int rc, n = 0;

	/* the root certifies CAs only, and CA certificates name no OCSP
	 * responder (src/ca/ocsp.c): a response by the root is never due */
	if (k->is_root)
		return refuse(d, "%s: key %s is a root key and signs no OCSP "
		    "response", w, k->id);
	if (der_expect(&in, DER_SEQUENCE, &top) != 0)
		return refuse(d, "%s: not one DER SEQUENCE (truncated?)", w);
	if (in.len != 0)
		return refuse(d, "%s: trailing bytes", w);
	t = top.body;
	/* version [0] EXPLICIT Version DEFAULT v1: only v1 (0) exists */
	rc = der_optional(&t, DER_CTX(0), &e);
	if (rc < 0)
		return refuse(d, "%s: malformed version", w);
	if (rc == 1) {
		v = e.body;
		if (der_expect(&v, DER_INTEGER, &ver) != 0 || v.len != 0 ||
		    ver.body.len != 1 || ver.body.p[0] != 0)
			return refuse(d, "%s: version is not v1", w);
	}
	if (der_next(&t, &rid) != 0)
		return refuse(d, "%s: responder id missing", w);
	if (k->subject == NULL)
		return refuse(d, "%s: key %s has no certificate", w, k->id);
	v = rid.body;
	if (rid.tag == DER_CTX(1)) {		/* byName */
		if (der_next(&v, &name) != 0 || v.len != 0 ||
		    !name_ok(&name))
			return refuse(d, "%s: malformed responder name", w);
		if (!same_bytes(&name, k->subject, k->subject_len))
			return refuse(d, "%s: responder name is not the "
			    "subject of key %s's certificate", w, k->id);
	} else if (rid.tag == DER_CTX(2)) {	/* byKey */
		if (der_expect(&v, DER_OCTETSTRING, &hash) != 0 ||
		    v.len != 0 || hash.body.len != SIGNER_KEYHASH_LEN)
			return refuse(d, "%s: malformed responder key hash",
			    w);
		if (memcmp(hash.body.p, k->keyhash, SIGNER_KEYHASH_LEN) != 0)
			return refuse(d, "%s: responder key hash is not the "
			    "one of key %s", w, k->id);
	} else {
		return refuse(d, "%s: malformed responder id", w);
	}
	if (der_next(&t, &produced) != 0 || !time_ok(&produced, 1))
		return refuse(d, "%s: malformed producedAt", w);
	if (der_expect(&t, DER_SEQUENCE, &resps) != 0)
		return refuse(d, "%s: responses missing", w);
	v = resps.body;
	while ((rc = der_next(&v, &sr)) == 0) {
		if ((rc = single_ok(k, &sr, d)) != 0)
			return rc;
		n++;
	}
	if (rc != RC_NOTFOUND || n == 0)
		return refuse(d, "%s: malformed responses", w);
	rc = der_optional(&t, DER_CTX(1), &e);
	if (rc < 0)
		return refuse(d, "%s: malformed response extensions", w);
	if (rc == 1 && (rc = explicit_exts(&e, &f, w, d)) != 0)
		return rc;
	if (t.len != 0)
		return refuse(d, "%s: trailing bytes", w);
	return 0;
}

int
signer_check_tbs(const struct signer_key *k, const struct signer_key *keys,
    int kind, const uint8_t *tbs, size_t len, struct rc_detail *d)
{
	if (tbs == NULL || len == 0)
		return refuse(d, "nothing to sign (empty input)");
	switch (kind) {
	case SIGNER_TBS_CERT:
		return check_cert(k, keys, tbs, len, d);
	case SIGNER_TBS_CRL:
		return check_crl(k, tbs, len, d);
	case SIGNER_TBS_OCSP:
		return check_ocsp(k, tbs, len, d);
	default:
		rc_detail_set(d, "unknown kind %d", kind);
		return RC_INVAL;
	}
}

/* ---- key facts ---------------------------------------------------------- */

int
signer_key_set_spki(struct signer_key *k, const uint8_t *spki, size_t len)
{
	struct der in = {spki, len}, bits;
	struct der_elem e;

	if (der_next(&in, &e) != 0 || in.len != 0 || !spki_ok(&e, &bits))
		return RC_INVAL;
	/* RFC 6960 4.2.1 KeyHash: SHA-1 of the BIT STRING value, without
	 * the unused-bits octet (as OpenSSL's X509_pubkey_digest) */
	if (!EVP_Digest(bits.p, bits.len, k->keyhash, NULL, EVP_sha1(),
	    NULL))
		return RC_CRYPTO;
	free(k->spki);
	k->spki = xmemdup(spki, len);
	k->spki_len = len;
	return 0;
}

/* The parts of a certificate that signer_key_set_cert() and
 * signer_key_verify_cert() look at; borrowed from the DER. */
struct cert_parts {
	struct der_elem tbs, alg, issuer, subject, spki, sigalg;
	struct der rest;	/* what follows the SPKI in the TBS */
	struct der sig;		/* the signature bits */
};

static int
cert_parse(const uint8_t *der, size_t len, struct cert_parts *p,
    struct rc_detail *d)
{
	static const char w[] = "certificate";
	struct der in = {der, len}, c, t;
	struct der_elem cert, e, validity, bs;

	if (der == NULL || len == 0)
		return refuse(d, "%s: empty", w);
	if (der_expect(&in, DER_SEQUENCE, &cert) != 0 || in.len != 0)
		return refuse(d, "%s: not one DER SEQUENCE", w);
	c = cert.body;
	if (der_expect(&c, DER_SEQUENCE, &p->tbs) != 0 ||
	    der_next(&c, &p->sigalg) != 0 || !algid_ok(&p->sigalg) ||
	    der_expect(&c, DER_BITSTRING, &bs) != 0 || c.len != 0)
		return refuse(d, "%s: malformed", w);
	t = p->tbs.body;
	if (der_optional(&t, DER_CTX(0), &e) < 0 ||
	    der_expect(&t, DER_INTEGER, &e) != 0 ||
	    der_next(&t, &p->alg) != 0 || !algid_ok(&p->alg) ||
	    der_next(&t, &p->issuer) != 0 || !name_ok(&p->issuer) ||
	    der_expect(&t, DER_SEQUENCE, &validity) != 0 ||
	    der_next(&t, &p->subject) != 0 || !name_ok(&p->subject) ||
	    der_next(&t, &p->spki) != 0 || !spki_ok(&p->spki, NULL))
		return refuse(d, "%s: malformed TBSCertificate", w);
	p->rest = t;
	/* a signature is whole octets: no unused bits */
	p->sig.p = bs.body.len > 1 ? bs.body.p + 1 : NULL;
	p->sig.len = bs.body.len > 1 && bs.body.p[0] == 0 ?
	    bs.body.len - 1 : 0;
	return 0;
}

/* 1 when the signature of the certificate in p verifies under the key of
 * by, with the algorithm by uses (RFC 5280 4.1.1.2: the outer and the
 * inner algorithm are the same). */
static int
cert_signed_by(const struct cert_parts *p, const struct signer_key *by)
{
	const uint8_t *q = by->spki;
	EVP_PKEY *pub = NULL;
	EVP_MD_CTX *ctx = NULL;
	int ok;

	if (p->sig.len == 0 || !sigalg_ok(by, &p->sigalg) ||
	    !der_eq(&p->alg, p->sigalg.raw, p->sigalg.raw_len))
		return 0;
	pub = d2i_PUBKEY(NULL, &q, (long)by->spki_len);
	ctx = EVP_MD_CTX_new();
	ok = pub != NULL && ctx != NULL &&
	    EVP_DigestVerifyInit(ctx, NULL, by->keytype == SIGNER_KEY_EC_P384 ?
	    EVP_sha384() : EVP_sha256(), NULL, pub) == 1 &&
	    EVP_DigestVerify(ctx, p->sig.p, p->sig.len, p->tbs.raw,
	    p->tbs.raw_len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pub);
	ERR_clear_error();	/* a bad signature is an answer, not an error */
	return ok;
}

/* Parses der, a certificate that must be of k's public key. */
static int
cert_of_key(const struct signer_key *k, const uint8_t *der, size_t len,
    struct cert_parts *p, struct rc_detail *d)
{
	int rc;

	if ((rc = cert_parse(der, len, p, d)) != 0)
		return rc;
	if (!same_bytes(&p->spki, k->spki, k->spki_len))
		return refuse(d, "certificate: public key is not the one of "
		    "key %s", k->id);
	return 0;
}
int
signer_key_verify_cert(const struct signer_key *k,
    const struct signer_key *keys, const uint8_t *der, size_t len,
    struct rc_detail *d)
{
	static const char w[] = "certificate";
	struct cert_parts p;
	struct der rest;
	struct der_elem e;
	struct ext_facts f = {0, 0};
	int rc;

	if ((rc = cert_of_key(k, der, len, &p, d)) != 0)
		return rc;
	/* the keys here are CAs: the certificate must say so, or the
	 * issuer names it lends to what the key signs mean nothing */
	rest = p.rest;
	if (der_expect(&rest, DER_CTX(3), &e) != 0 || rest.len != 0)
		return refuse(d, "%s: no extensions, or unique identifiers "
		    "(a CA certificate has the former only)", w);
	if ((rc = explicit_exts(&e, &f, w, d)) != 0)
		return rc;
	if (!f.ca || !f.cert_sign)
		return refuse(d, "%s: not a CA certificate (cA TRUE and "
		    "keyCertSign) for key %s", w, k->id);
	if (k->is_root) {
		if (!der_eq(&p.issuer, p.subject.raw, p.subject.raw_len) ||
		    !cert_signed_by(&p, k))
			return refuse(d, "%s: not self-signed by root key %s",
			    w, k->id);
		return 0;
	}
	/* an issuing CA: certified by a root key held here, under the name
	 * of that root's own (already verified) certificate */
	for (const struct signer_key *r = keys; r != NULL; r = r->next) {
		if (!r->is_root || r->subject == NULL ||
		    !same_bytes(&p.issuer, r->subject, r->subject_len))
			continue;
		if (cert_signed_by(&p, r))
			return 0;
	}
	return refuse(d, "%s: not signed by a root key of this signer "
	    "under its certificate's name", w);
}

int
signer_key_set_cert(struct signer_key *k, const uint8_t *der, size_t len,
    struct rc_detail *d)
{
	static const char w[] = "certificate";
	struct cert_parts p;
	size_t off;
	int rc;

	if ((rc = cert_of_key(k, der, len, &p, d)) != 0)
		return rc;
	if (p.subject.body.len == 0)
		return refuse(d, "%s: empty subject name", w);
	off = (size_t)(p.subject.raw - der);
	free(k->cert);
	k->cert = xmemdup(der, len);
	k->cert_len = len;
	k->subject = k->cert + off;
	k->subject_len = p.subject.raw_len;
	return 0;
}
