/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CSR parsing (RFC 2986) for issuance: structure, self-signature, key policy
 * and the DNS names the CSR asks for.
 *
 * The CSR is walked with the strict DER reader (util/der.h) rather than
 * d2i_X509_REQ: OpenSSL 3.0 decodes the public key through its decoder
 * framework, which costs more than the signature check itself. The key is
 * built from its parts (keycheck_int.h) and the signature is checked over
 * the CertificationRequestInfo bytes exactly as received, with digests
 * fetched once per process.
 *
 * Names (BR 7.1.2.7.12, RFC 5280 4.2.1.6, RFC 5890): the dNSName entries of
 * the subjectAltName in the extensionRequest attribute, and the subject CN,
 * which must then be one of them (without a SAN the CN is the only name;
 * under CA_CSR_CN_NAME, ACME's rule, it is one more name).
 * Names are checked by util/dnsname.h (the rules of the whole program):
 * lower-cased LDH host names, "--" in positions 3-4 only in a valid xn--
 * A-label, raw UTF-8 (U-labels) refused, a wildcard only as the whole
 * leftmost label and not directly on a public suffix. Other SAN types (IP
 * addresses, email, URI, ...) are refused, except iPAddress entries of 4
 * or 16 octets under CA_CSR_ALLOW_IP (RFC 8738 orders), kept apart in
 * canonical text; a CN that is an address must then be one of them.
 *
 * Runs in the main certdesk process on untrusted bytes from customers and
 * ACME clients. Every refusal says what was wrong and names the offending
 * value, escaped for printing.
 */
#include "ca/ca.h"
#include "ca/keycheck_int.h"
#include "util/der.h"
#include "util/dnsname.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAME DNSNAME_MAX
_Static_assert(CA_NAME_BUF == DNSNAME_BUF, "name buffer");
#define SHOW_MAX 72		/* characters of an offending value shown */
#define SHOW_LEN (SHOW_MAX + 8)

/* ---- digests, fetched once ----------------------------------------------- */

enum { MD_SHA256, MD_SHA384, MD_SHA512, MD_N };

static EVP_MD *mds[MD_N];
static int mds_ok;
static pthread_once_t mds_once = PTHREAD_ONCE_INIT;

static void
mds_init(void)
{
	mds[MD_SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL);
	mds[MD_SHA384] = EVP_MD_fetch(NULL, "SHA384", NULL);
	mds[MD_SHA512] = EVP_MD_fetch(NULL, "SHA512", NULL);
	mds_ok = mds[0] && mds[1] && mds[2];
	if (!mds_ok)
		log_openssl(LOG_CA, "csr: digest fetch");
}

/* ---- OIDs ---------------------------------------------------------------- */

struct sigalg {
	const char *name;
	uint8_t len;
	uint8_t oid[9];
	int key;		/* KC_RSA, KC_EC, or 0: refused */
	int md;
};

#define PKCS1(x) {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, x}
#define ECDSA(x, y) {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, x, y}

static const struct sigalg sigalgs[] = {
	{"sha256WithRSAEncryption", 9, PKCS1(0x0b), KC_RSA, MD_SHA256},
	{"sha384WithRSAEncryption", 9, PKCS1(0x0c), KC_RSA, MD_SHA384},
	{"sha512WithRSAEncryption", 9, PKCS1(0x0d), KC_RSA, MD_SHA512},
	{"ecdsa-with-SHA256", 8, ECDSA(0x03, 0x02), KC_EC, MD_SHA256},
	{"ecdsa-with-SHA384", 8, ECDSA(0x03, 0x03), KC_EC, MD_SHA384},
	{"ecdsa-with-SHA512", 8, ECDSA(0x03, 0x04), KC_EC, MD_SHA512},
	/* refused, named in the message */
	{"sha1WithRSAEncryption (SHA-1)", 9, PKCS1(0x05), 0, 0},
	{"md5WithRSAEncryption (MD5)", 9, PKCS1(0x04), 0, 0},
	{"md2WithRSAEncryption (MD2)", 9, PKCS1(0x02), 0, 0},
	{"sha224WithRSAEncryption (SHA-224)", 9, PKCS1(0x0e), 0, 0},
	{"RSASSA-PSS (not supported: use PKCS#1 v1.5 or ECDSA)", 9,
	    PKCS1(0x0a), 0, 0},
	{"ecdsa-with-SHA1 (SHA-1)", 7, {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04,
	    0x01}, 0, 0},
	{"ecdsa-with-SHA224 (SHA-224)", 8, ECDSA(0x03, 0x01), 0, 0},
	{"dsa-with-SHA1", 7, {0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x03}, 0,
	    0},
	{"dsa-with-SHA256", 9, {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
	    0x03, 0x02}, 0, 0},
	{"Ed25519", 3, {0x2b, 0x65, 0x70}, 0, 0},
	{"Ed448", 3, {0x2b, 0x65, 0x71}, 0, 0},
};

static const uint8_t oid_cn[] = {0x55, 0x04, 0x03};
static const uint8_t oid_ext_req[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
    0x01, 0x09, 0x0e};
static const uint8_t oid_san[] = {0x55, 0x1d, 0x11};
static const uint8_t oid_tls_feature[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
    0x07, 0x01, 0x18};

/* Extensions that may be marked critical in a CSR: the CA does not copy
 * them (the profile decides; a TLS Feature asking for status_request sets
 * must_staple, which ca_issue() honours while it answers OCSP), but it
 * understands what they mean. */
static const struct {
	uint8_t len;
	uint8_t oid[8];
} known_exts[] = {
	{3, {0x55, 0x1d, 0x11}},	/* subjectAltName */
	{3, {0x55, 0x1d, 0x0f}},	/* keyUsage */
	{3, {0x55, 0x1d, 0x13}},	/* basicConstraints */
	{3, {0x55, 0x1d, 0x25}},	/* extKeyUsage */
	{3, {0x55, 0x1d, 0x0e}},	/* subjectKeyIdentifier */
	{8, {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x18}}, /* TLS feature */
};

static int
oid_eq(const struct der_elem *e, const uint8_t *oid, size_t n)
{
	return e->body.len == n && memcmp(e->body.p, oid, n) == 0;
}

/* ---- messages ------------------------------------------------------------ */

/* Printable text of untrusted bytes for messages: printable ASCII kept
 * (except quote and backslash), the rest as \xNN, cut with "..." after
 * SHOW_MAX characters. out has room for SHOW_LEN. */
static void
show(const uint8_t *p, size_t n, char *out)
{
	size_t o = 0, i;

	for (i = 0; i < n && o < SHOW_MAX; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' &&
		    p[i] != '\\')
			out[o++] = (char)p[i];
		else
			o += (size_t)sprintf(out + o, "\\x%02x", p[i]);
	}
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static int
bad(struct rc_detail *d, const char *what)
{
	rc_detail_set(d, "CSR: %s", what);
	return RC_BADCSR;
}

/* ---- PEM ----------------------------------------------------------------- */

static int
b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The first line of p[0..n) without its end of line; *next past it. */
static size_t
line(const uint8_t *p, size_t n, size_t *next)
{
	const uint8_t *nl = memchr(p, '\n', n);
	size_t l = nl ? (size_t)(nl - p) : n;

	*next = nl ? l + 1 : n;
	if (l > 0 && p[l - 1] == '\r')
		l--;
	return l;
}

/*
 * RFC 7468 strict-ish: "-----BEGIN CERTIFICATE REQUEST-----" (or NEW
 * CERTIFICATE REQUEST), base64 lines (any length, whitespace ignored, no
 * headers), the matching END line, then nothing but whitespace.
 */
static int
pem_decode(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len,
    struct rc_detail *d)
{
	static const char *const labels[] = {"CERTIFICATE REQUEST",
	    "NEW CERTIFICATE REQUEST"};
	char endl[64], txt[SHOW_LEN];
	const uint8_t *p = in;
	size_t n = len, next, l, o = 0, i;
	unsigned acc = 0;
	int bitsn = 0, pad = 0;
	uint8_t *der = NULL;
	const char *label = NULL;

	l = line(p, n, &next);
	for (i = 0; i < 2 && label == NULL; i++) {
		size_t ll = strlen(labels[i]);

		if (l == 11 + ll + 5 && p[10] == ' ' &&
		    memcmp(p + 11, labels[i], ll) == 0 &&
		    memcmp(p + 11 + ll, "-----", 5) == 0)
			label = labels[i];
	}
	if (label == NULL) {
		show(p, l, txt);
		rc_detail_set(d, "CSR: PEM block \"%s\" is not a CERTIFICATE "
		    "REQUEST", txt);
		return RC_BADCSR;
	}
	snprintf(endl, sizeof(endl), "-----END %s-----", label);
	p += next;
	n -= next;
	der = xmalloc(n / 4 * 3 + 3);
	for (;;) {
		if (n == 0) {
			free(der);
			return bad(d, "PEM END line missing");
		}
		l = line(p, n, &next);
		if (l > 0 && p[0] == '-')
			break;
		for (i = 0; i < l; i++) {
			int v;

			if (is_space(p[i]))
				continue;
			if (p[i] == '=') {
				pad++;
				continue;
			}
			v = b64val(p[i]);
			if (v < 0 || pad > 0) {
				free(der);
				return bad(d, "bad character in PEM base64");
			}
			acc = (acc << 6) | (unsigned)v;
			bitsn += 6;
			if (bitsn >= 8) {
				bitsn -= 8;
				der[o++] = (uint8_t)(acc >> bitsn);
			}
		}
		p += next;
		n -= next;
	}
	if (l != strlen(endl) || memcmp(p, endl, l) != 0) {
		free(der);
		return bad(d, "PEM END line does not match the BEGIN line");
	}
	/* leftover bits must be the zero padding of a final quantum */
	if (pad > 2 || (acc & ((1u << bitsn) - 1)) != 0 ||
	    (bitsn == 0 && pad != 0) || (bitsn == 2 && pad != 1) ||
	    (bitsn == 4 && pad != 2) || bitsn == 6) {
		free(der);
		return bad(d, "bad PEM base64 padding");
	}
	for (i = next; i < n; i++) {
		if (!is_space(p[i])) {
			free(der);
			return bad(d, "data after the PEM END line");
		}
	}
	*out = der;
	*out_len = o;
	return 0;
}

/* ---- names --------------------------------------------------------------- */

struct names {
	char *v[CA_MAX_NAMES];
	size_t n;
};

static void
names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	nm->n = 0;
}

/* CSR names: folded to lower case, a leading wildcard allowed but not on a
 * public suffix, "--" at 3-4 only in valid A-labels (util/dnsname.h). */
#define CSR_NAME_FLAGS (DNSNAME_FOLD | DNSNAME_WILDCARD | DNSNAME_IDNA | \
	DNSNAME_PSL)

/*
 * Checks one DNS name from the CSR (untrusted bytes p[0..n)) and writes its
 * lower-case form to out (MAX_NAME + 1 bytes). what says where it came from.
 */
static int
check_name(const uint8_t *p, size_t n, const char *what, char *out,
    struct rc_detail *d)
{
	char txt[SHOW_LEN];
	enum dnsname_why why;

	if (dnsname_norm((const char *)p, n, CSR_NAME_FLAGS, out, &why) == 0)
		return 0;
	if (why == DNSNAME_EMPTY) {
		rc_detail_set(d, "CSR: empty DNS name in the %s", what);
		return RC_BADCSR;
	}
	show(p, n, txt);
	rc_detail_set(d, "CSR: %s \"%s\" %s", what, txt, dnsname_why_str(why));
	return RC_BADCSR;
}

int
ca_csr_check_name(const uint8_t *p, size_t n, char out[CA_NAME_BUF],
    struct rc_detail *d)
{
	return check_name(p, n, "DNS name", out, d);
}

/* Adds a checked name unless present. RC_BADCSR past CA_MAX_NAMES. */
static int
names_add(struct names *nm, const char *name, struct rc_detail *d)
{
	for (size_t i = 0; i < nm->n; i++)
		if (strcmp(nm->v[i], name) == 0)
			return 0;
	if (nm->n == CA_MAX_NAMES) {
		rc_detail_set(d, "CSR: more than %d distinct DNS names",
		    CA_MAX_NAMES);
		return RC_BADCSR;
	}
	nm->v[nm->n++] = xstrdup(name);
	return 0;
}

/* Refusal of a GeneralName other than dNSName (RFC 5280 4.2.1.6). */
static int
bad_general_name(const struct der_elem *g, struct rc_detail *d)
{
	char txt[SHOW_LEN], ip[INET6_ADDRSTRLEN];

	switch (g->tag) {
	case 0x87:	/* iPAddress */
		if ((g->body.len == 4 && inet_ntop(AF_INET, g->body.p, ip,
		    sizeof(ip))) || (g->body.len == 16 && inet_ntop(AF_INET6,
		    g->body.p, ip, sizeof(ip)))) {
			rc_detail_set(d, "CSR: subjectAltName has the IP "
			    "address %s: only DNS names are allowed", ip);
		} else {
			rc_detail_set(d, "CSR: subjectAltName has a malformed "
			    "IP address: only DNS names are allowed");
		}
		break;
	case 0x81:	/* rfc822Name */
		show(g->body.p, g->body.len, txt);
		rc_detail_set(d, "CSR: subjectAltName has the email address "
		    "\"%s\": only DNS names are allowed", txt);
		break;
	case 0x86:	/* uniformResourceIdentifier */
		show(g->body.p, g->body.len, txt);
		rc_detail_set(d, "CSR: subjectAltName has the URI \"%s\": only "
		    "DNS names are allowed", txt);
		break;
	case 0xa0:
		rc_detail_set(d, "CSR: subjectAltName has an otherName: only "
		    "DNS names are allowed");
		break;
	case 0xa4:
		rc_detail_set(d, "CSR: subjectAltName has a directoryName: "
		    "only DNS names are allowed");
		break;
	case 0x88:
		rc_detail_set(d, "CSR: subjectAltName has a registeredID: "
		    "only DNS names are allowed");
		break;
	default:
		rc_detail_set(d, "CSR: subjectAltName has a name of type "
		    "[%d]: only DNS names are allowed", g->tag & 0x1f);
		break;
	}
	return RC_BADCSR;
}

/* ---- structure ----------------------------------------------------------- */

/* What the walk collects; all pointers borrowed from the DER. */
struct parts {
	struct der_elem cri, spki, sigalg_oid, sig, cn;
	struct der sigalg_params;
	struct der san;		/* GeneralNames contents */
	int has_cn, has_san;
	int must_staple;	/* TLS Feature lists status_request */
};

static int
walk_subject(const struct der_elem *name, struct parts *pt,
    struct rc_detail *d)
{
	struct der rdns = name->body;
	struct der_elem rdn, atv, oid, val;
	int rc;

	while ((rc = der_next(&rdns, &rdn)) == 0) {
		if (rdn.tag != DER_SET || rdn.body.len == 0)
			return bad(d, "malformed subject");
		while ((rc = der_next(&rdn.body, &atv)) == 0) {
			if (atv.tag != DER_SEQUENCE ||
			    der_expect(&atv.body, DER_OID, &oid) != 0 ||
			    der_next(&atv.body, &val) != 0 ||
			    atv.body.len != 0)
				return bad(d, "malformed subject attribute");
			if (!oid_eq(&oid, oid_cn, sizeof(oid_cn)))
				continue;
			if (pt->has_cn)
				return bad(d, "subject has more than one CN");
			if (val.tag != DER_UTF8 && val.tag != DER_PRINTABLE &&
			    val.tag != DER_IA5)
				return bad(d, "subject CN is not a UTF8String, "
				    "PrintableString or IA5String");
			pt->cn = val;
			pt->has_cn = 1;
		}
		if (rc != RC_NOTFOUND)
			return bad(d, "malformed subject");
	}
	if (rc != RC_NOTFOUND)
		return bad(d, "malformed subject");
	return 0;
}

static int
walk_extensions(struct der exts, struct parts *pt, struct rc_detail *d)
{
	struct der_elem ext, oid, crit, val, gns;
	struct der_elem seen[64];
	size_t nseen = 0;
	char txt[96];
	int rc;

	while ((rc = der_next(&exts, &ext)) == 0) {
		int critical = 0, known = 0;

		if (ext.tag != DER_SEQUENCE ||
		    der_expect(&ext.body, DER_OID, &oid) != 0)
			return bad(d, "malformed extension");
		if (der_optional(&ext.body, 0x01, &crit) == 1) {
			/* DER omits FALSE; an explicit FALSE is tolerated
			 * (the bytes are signed, so nothing is ambiguous) */
			if (crit.body.len != 1 || (crit.body.p[0] != 0 &&
			    crit.body.p[0] != 0xff))
				return bad(d, "malformed extension");
			critical = crit.body.p[0] == 0xff;
		}
		if (der_expect(&ext.body, DER_OCTETSTRING, &val) != 0 ||
		    ext.body.len != 0)
			return bad(d, "malformed extension");
		for (size_t i = 0; i < nseen; i++) {
			if (der_eq(&seen[i], oid.raw, oid.raw_len)) {
				ca_kc_oid_text(oid.body.p, oid.body.len, txt,
				    sizeof(txt));
				rc_detail_set(d, "CSR: extension %s appears "
				    "twice", txt);
				return RC_BADCSR;
			}
		}
		if (nseen == sizeof(seen) / sizeof(seen[0]))
			return bad(d, "too many extensions");
		seen[nseen++] = oid;
		for (size_t i = 0; i < sizeof(known_exts) /
		    sizeof(known_exts[0]); i++)
			if (oid_eq(&oid, known_exts[i].oid, known_exts[i].len))
				known = 1;
		if (critical && !known) {
			ca_kc_oid_text(oid.body.p, oid.body.len, txt,
			    sizeof(txt));
			rc_detail_set(d, "CSR: unknown critical extension %s",
			    txt);
			return RC_BADCSR;
		}
		if (oid_eq(&oid, oid_tls_feature, sizeof(oid_tls_feature))) {
			/* RFC 7633 §6: Features ::= SEQUENCE OF INTEGER,
			 * TLS extension numbers; 5 is status_request */
			struct der_elem feats, f;
			struct der fs;

			if (der_expect(&val.body, DER_SEQUENCE, &feats) != 0 ||
			    val.body.len != 0)
				return bad(d, "malformed TLS Feature");
			fs = feats.body;
			while ((rc = der_next(&fs, &f)) == 0) {
				if (f.tag != DER_INTEGER || f.body.len == 0 ||
				    f.body.len > 3)
					return bad(d, "malformed TLS Feature");
				if (f.body.len == 1 && f.body.p[0] == 5)
					pt->must_staple = 1;
			}
			if (rc != RC_NOTFOUND)
				return bad(d, "malformed TLS Feature");
			continue;
		}
		if (!oid_eq(&oid, oid_san, sizeof(oid_san)))
			continue;
		if (der_expect(&val.body, DER_SEQUENCE, &gns) != 0 ||
		    val.body.len != 0)
			return bad(d, "malformed subjectAltName");
		if (gns.body.len == 0)
			return bad(d, "empty subjectAltName");
		pt->san = gns.body;
		pt->has_san = 1;
	}
	if (rc != RC_NOTFOUND)
		return bad(d, "malformed extensions");
	return 0;
}

static int
walk_attributes(const struct der_elem *attrs, struct parts *pt,
    struct rc_detail *d)
{
	struct der in = attrs->body;
	struct der_elem attr, oid, vals, exts;
	int rc, seen_req = 0;

	while ((rc = der_next(&in, &attr)) == 0) {
		if (attr.tag != DER_SEQUENCE ||
		    der_expect(&attr.body, DER_OID, &oid) != 0 ||
		    der_expect(&attr.body, DER_SET, &vals) != 0 ||
		    attr.body.len != 0)
			return bad(d, "malformed attribute");
		/* other attributes (challengePassword, ...) carry nothing
		 * the CA uses */
		if (!oid_eq(&oid, oid_ext_req, sizeof(oid_ext_req)))
			continue;
		if (seen_req++)
			return bad(d, "more than one extensionRequest");
		if (der_expect(&vals.body, DER_SEQUENCE, &exts) != 0 ||
		    vals.body.len != 0)
			return bad(d, "malformed extensionRequest");
		if ((rc = walk_extensions(exts.body, pt, d)) != 0)
			return rc;
	}
	if (rc != RC_NOTFOUND)
		return bad(d, "malformed attributes");
	return 0;
}

static int
walk(const uint8_t *der, size_t len, struct parts *pt, struct rc_detail *d)
{
	struct der in = {der, len}, body, cri;
	struct der_elem top, ver, subject, attrs, alg;
	int rc;

	if (len == 0 || der[0] != DER_SEQUENCE)
		return bad(d, "not a CertificationRequest (expected a DER "
		    "SEQUENCE or PEM)");
	if (der_expect(&in, DER_SEQUENCE, &top) != 0)
		return bad(d, "malformed or truncated DER");
	if (in.len != 0)
		return bad(d, "trailing data after the CertificationRequest");
	body = top.body;
	if (der_expect(&body, DER_SEQUENCE, &pt->cri) != 0 ||
	    der_expect(&body, DER_SEQUENCE, &alg) != 0 ||
	    der_expect(&body, DER_BITSTRING, &pt->sig) != 0 || body.len != 0)
		return bad(d, "malformed CertificationRequest");
	if (der_expect(&alg.body, DER_OID, &pt->sigalg_oid) != 0)
		return bad(d, "malformed signature algorithm");
	pt->sigalg_params = alg.body;
	cri = pt->cri.body;
	if (der_expect(&cri, DER_INTEGER, &ver) != 0)
		return bad(d, "malformed CertificationRequestInfo");
	/*
	 * PKCS#10 knows only v1 (0). 1 and 2 are taken too: certbot before
	 * 1.29 (2022) and the Ruby acme-client gem before its fix of
	 * September 2024 (Debian bookworm's 2.0.9; GitLab's Let's Encrypt
	 * integration) send 2, X.509 v3's value, and Boulder and step-ca
	 * (Go's parser) take any version. It has no bearing on what is
	 * issued; the signature covers the bytes as sent.
	 */
	if (ver.body.len != 1 || ver.body.p[0] > 2)
		return bad(d, "version is not v1 (0)");
	if (der_expect(&cri, DER_SEQUENCE, &subject) != 0 ||
	    der_expect(&cri, DER_SEQUENCE, &pt->spki) != 0)
		return bad(d, "malformed CertificationRequestInfo");
	if ((rc = walk_subject(&subject, pt, d)) != 0)
		return rc;
	/* RFC 2986 makes [0] attributes mandatory; an empty set is what most
	 * tools write, a missing one is tolerated */
	rc = der_optional(&cri, DER_CTX(0), &attrs);
	if (rc < 0)
		return bad(d, "malformed attributes");
	if (rc == 1 && (rc = walk_attributes(&attrs, pt, d)) != 0)
		return rc;
	if (cri.len != 0)
		return bad(d, "data after the attributes");
	return 0;
}

/* ---- signature ----------------------------------------------------------- */

static int
check_signature(const struct parts *pt, const struct kc_key *k,
    EVP_PKEY *pkey, struct rc_detail *d)
{
	const struct sigalg *sa = NULL;
	struct der params = pt->sigalg_params;
	struct der_elem nul;
	EVP_MD_CTX *mctx = NULL;
	char txt[96] = "";
	int rc;

	for (size_t i = 0; i < sizeof(sigalgs) / sizeof(sigalgs[0]); i++)
		if (oid_eq(&pt->sigalg_oid, sigalgs[i].oid, sigalgs[i].len))
			sa = &sigalgs[i];
	if (sa == NULL || sa->key == 0) {
		if (sa == NULL)
			ca_kc_oid_text(pt->sigalg_oid.body.p,
			    pt->sigalg_oid.body.len, txt, sizeof(txt));
		rc_detail_set(d, "CSR: signature algorithm %s is not allowed "
		    "(SHA-256/384/512 with RSA PKCS#1 v1.5 or ECDSA)",
		    sa ? sa->name : txt);
		return RC_BADCSR;
	}
	if (sa->key != k->type) {
		rc_detail_set(d, "CSR: signature algorithm %s does not match "
		    "the %s key", sa->name, k->type == KC_RSA ? "RSA" : "EC");
		return RC_BADCSR;
	}
	/* RFC 4055 2.1: NULL or absent for RSA; RFC 5758 3.2: absent */
	if (params.len != 0 && (sa->key == KC_EC ||
	    der_expect(&params, DER_NULL, &nul) != 0 || nul.body.len != 0 ||
	    params.len != 0))
		return bad(d, "signature algorithm has unexpected parameters");
	if (pt->sig.body.len < 2 || pt->sig.body.p[0] != 0)
		return bad(d, "malformed signature bit string");
	pthread_once(&mds_once, mds_init);
	if (!mds_ok)
		return RC_CRYPTO;
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL || EVP_DigestVerifyInit(mctx, NULL, mds[sa->md], NULL,
	    pkey) != 1) {
		log_openssl(LOG_CA, "csr: verify init");
		rc = RC_CRYPTO;
		goto out;
	}
	if (EVP_DigestVerify(mctx, pt->sig.body.p + 1, pt->sig.body.len - 1,
	    pt->cri.raw, pt->cri.raw_len) != 1) {
		ERR_clear_error();
		rc = bad(d, "signature does not verify");
		goto out;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(mctx);
	return rc;
}

/* ---- names from the parts ------------------------------------------------ */

/* An iPAddress GeneralName (CA_CSR_ALLOW_IP): 4 or 16 octets, kept in
 * canonical text. */
static int
ip_add(const struct der_elem *g, struct names *ips, struct rc_detail *d)
{
	char ip[INET6_ADDRSTRLEN];

	if ((g->body.len != 4 || inet_ntop(AF_INET, g->body.p, ip,
	    sizeof(ip)) == NULL) && (g->body.len != 16 ||
	    inet_ntop(AF_INET6, g->body.p, ip, sizeof(ip)) == NULL)) {
		rc_detail_set(d, "CSR: subjectAltName has a malformed IP "
		    "address (%zu octets, not 4 or 16)", g->body.len);
		return RC_BADCSR;
	}
	for (size_t i = 0; i < ips->n; i++)
		if (strcmp(ips->v[i], ip) == 0)
			return 0;
	if (ips->n == CA_MAX_NAMES) {
		rc_detail_set(d, "CSR: more than %d distinct IP addresses",
		    CA_MAX_NAMES);
		return RC_BADCSR;
	}
	ips->v[ips->n++] = xstrdup(ip);
	return 0;
}

/*
 * A subject CN that is an IP address literal (CA_CSR_ALLOW_IP): it must be
 * the canonical text of one of the SAN addresses. 1 when the CN is an
 * address (rc then in *rc), 0 when it is not one (a DNS name then).
 */
static int
cn_ip(const struct parts *pt, const struct names *ips, char **cn, int *rc,
    struct rc_detail *d)
{
	char txt[SHOW_LEN], ip[INET6_ADDRSTRLEN];
	uint8_t bin[16];

	if (pt->cn.body.len == 0 || pt->cn.body.len >= sizeof(ip) ||
	    memchr(pt->cn.body.p, 0, pt->cn.body.len) != NULL)
		return 0;
	memcpy(ip, pt->cn.body.p, pt->cn.body.len);
	ip[pt->cn.body.len] = '\0';
	if (inet_pton(AF_INET, ip, bin) != 1 &&
	    inet_pton(AF_INET6, ip, bin) != 1)
		return 0;
	for (size_t i = 0; i < ips->n; i++) {
		if (strcmp(ips->v[i], ip) == 0) {
			*cn = xstrdup(ip);
			*rc = 0;
			return 1;
		}
	}
	show(pt->cn.body.p, pt->cn.body.len, txt);
	rc_detail_set(d, "CSR: subject CN \"%s\" is not one of the "
	    "subjectAltName IP addresses (in canonical form)", txt);
	*rc = RC_BADCSR;
	return 1;
}

static int
collect_names(const struct parts *pt, int flags, struct names *nm,
    struct names *ips, char **cn, struct rc_detail *d)
{
	char buf[MAX_NAME + 1], txt[SHOW_LEN];
	struct der san = pt->san;
	struct der_elem g;
	int rc;

	if (pt->has_san) {
		while ((rc = der_next(&san, &g)) == 0) {
			if (g.tag == 0x87 && (flags & CA_CSR_ALLOW_IP)) {
				if ((rc = ip_add(&g, ips, d)) != 0)
					return rc;
				continue;
			}
			if (g.tag != 0x82)
				return bad_general_name(&g, d);
			rc = check_name(g.body.p, g.body.len,
			    "subjectAltName DNS name", buf, d);
			if (rc == 0)
				rc = names_add(nm, buf, d);
			if (rc != 0)
				return rc;
		}
		if (rc != RC_NOTFOUND)
			return bad(d, "malformed subjectAltName");
	}
	if (pt->has_cn && (flags & CA_CSR_ALLOW_IP) &&
	    cn_ip(pt, ips, cn, &rc, d))
		return rc;
	if (pt->has_cn) {
		rc = check_name(pt->cn.body.p, pt->cn.body.len, "subject CN",
		    buf, d);
		if (rc != 0)
			return rc;
		if (pt->has_san) {
			size_t i;

			for (i = 0; i < nm->n; i++)
				if (strcmp(nm->v[i], buf) == 0)
					break;
			if (i == nm->n && (flags & CA_CSR_CN_NAME)) {
				if ((rc = names_add(nm, buf, d)) != 0)
					return rc;
			} else if (i == nm->n) {
				show(pt->cn.body.p, pt->cn.body.len, txt);
				rc_detail_set(d, "CSR: subject CN \"%s\" is "
				    "not one of the subjectAltName DNS names",
				    txt);
				return RC_BADCSR;
			}
		} else if ((rc = names_add(nm, buf, d)) != 0) {
			return rc;
		}
		*cn = xstrdup(buf);
	}
	if (nm->n == 0 && ips->n == 0)
		return bad(d, "no DNS name (neither a subjectAltName nor a "
		    "subject CN)");
	return 0;
}

/* ---- the entry points ---------------------------------------------------- */

/* PEM, after any leading blanks and line ends (a pasted CSR often has
 * some; DER starts with 0x30, never with one): *in and *len then skip
 * them. */
static int
is_pem(const uint8_t **in, size_t *len)
{
	size_t i = 0;

	while (i < *len && ((*in)[i] == ' ' || (*in)[i] == '\t' ||
	    (*in)[i] == '\r' || (*in)[i] == '\n'))
		i++;
	if (*len - i < 10 || memcmp(*in + i, "-----BEGIN", 10) != 0)
		return 0;
	*in += i;
	*len -= i;
	return 1;
}

int
ca_csr_der(const uint8_t *in, size_t len, uint8_t **der, size_t *der_len,
    struct rc_detail *d)
{
	*der = NULL;
	*der_len = 0;
	if (len == 0 || len > CA_MAX_CSR) {
		rc_detail_set(d, "CSR: empty or over %d bytes", CA_MAX_CSR);
		return RC_BADCSR;
	}
	if (is_pem(&in, &len))
		return pem_decode(in, len, der, der_len, d);
	*der = xmalloc(len);
	memcpy(*der, in, len);
	*der_len = len;
	return 0;
}

int
ca_csr_parse(const uint8_t *in, size_t len, const struct ca_keycheck *kc,
    struct ca_csr **out, struct rc_detail *d)
{
	return ca_csr_parse_flags(in, len, kc, 0, out, d);
}

int
ca_csr_parse_flags(const uint8_t *in, size_t len,
    const struct ca_keycheck *kc, int flags, struct ca_csr **out,
    struct rc_detail *d)
{
	struct parts pt;
	struct kc_key k;
	struct names nm = {.n = 0}, ips = {.n = 0};
	struct ca_csr *csr = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t *pem_der = NULL;
	const uint8_t *der = in;
	size_t der_len = len;
	char *cn = NULL;
	int rc;

	if (d != NULL)
		d->msg[0] = '\0';
	if (out == NULL)
		return RC_INVAL;
	*out = NULL;
	if (in == NULL || len == 0)
		return bad(d, "empty input");
	if (len > CA_MAX_CSR) {
		rc_detail_set(d, "CSR: %zu bytes is over the maximum of %d",
		    len, CA_MAX_CSR);
		return RC_TOOBIG;
	}
	if (is_pem(&in, &len)) {
		if ((rc = pem_decode(in, len, &pem_der, &der_len, d)) != 0)
			goto out;
		der = pem_der;
	}
	memset(&pt, 0, sizeof(pt));
	if ((rc = walk(der, der_len, &pt, d)) != 0)
		goto out;
	if ((rc = ca_kc_parse_spki(pt.spki.raw, pt.spki.raw_len, &k, d)) != 0)
		goto out;
	if ((rc = ca_kc_make_pkey(&k, &pkey, d)) != 0)
		goto out;
	if ((rc = check_signature(&pt, &k, pkey, d)) != 0)
		goto out;
	if ((rc = ca_kc_check_weak(kc, pt.spki.raw, pt.spki.raw_len, &k,
	    d)) != 0)
		goto out;
	if ((rc = collect_names(&pt, flags, &nm, &ips, &cn, d)) != 0)
		goto out;
	csr = xcalloc(1, sizeof(*csr));
	csr->spki = xmemdup(pt.spki.raw, pt.spki.raw_len);
	csr->spki_len = pt.spki.raw_len;
	csr->key_bits = k.bits;
	csr->key_is_ec = k.type == KC_EC;
	memcpy(csr->names, nm.v, nm.n * sizeof(nm.v[0]));
	csr->nnames = nm.n;
	nm.n = 0;
	memcpy(csr->ips, ips.v, ips.n * sizeof(ips.v[0]));
	csr->nips = ips.n;
	ips.n = 0;
	csr->cn = cn;
	cn = NULL;
	csr->must_staple = pt.must_staple;
	*out = csr;
	rc = 0;
out:
	if (rc != 0 && d != NULL && d->msg[0] == '\0')
		rc_detail_set(d, "CSR: %s", rc_str(rc));
	names_free(&nm);
	names_free(&ips);
	free(cn);
	EVP_PKEY_free(pkey);
	free(pem_der);
	return rc;
}

void
ca_csr_free(struct ca_csr *csr)
{
	if (csr == NULL)
		return;
	for (size_t i = 0; i < csr->nnames; i++)
		free(csr->names[i]);
	for (size_t i = 0; i < csr->nips; i++)
		free(csr->ips[i]);
	free(csr->cn);
	free(csr->spki);
	free(csr);
}
