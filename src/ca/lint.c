/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pre-issuance linter (BR 4.3.1.2): every to-be-signed certificate is
 * walked again, byte by byte, with the strict DER reader and checked against
 * the profile, RFC 5280 and the CA/Browser Forum Baseline Requirements
 * before it is sent to the signer. It is deliberately independent of the
 * builder in tbs.c: it does not reuse the builder's pre-encoded parts or the
 * signer's algorithm table, it re-derives what it compares against from the
 * issuer certificate. A failure names the check in the style of zlint
 * ("e_sub_cert_eku_extra_values") so that a refusal can be looked up.
 *
 * Also here: the walkers for issuer certificates and public keys, and the
 * dNSName check (util/dnsname.h's rules, failures named as zlint does).
 *
 * Runs in the main certdesk process. Trusts nothing in the bytes it lints.
 */
#include "ca/ca_int.h"
#include "signer/signer.h"
#include "util/der.h"
#include "util/dnsname.h"
#include "util/ipaddr.h"
#include "util/rc.h"

#include <arpa/inet.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- failures ------------------------------------------------------------ */

static int
fail(struct rc_detail *d, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct rc_detail *d, const char *check, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (d == NULL)
		return RC_LINT;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rc_detail_set(d, "lint: %s: %s", check, msg);
	return RC_LINT;
}

/* A sub-check (SPKI, dNSName) wrote "check: reason" into sub. */
static int
fail_sub(struct rc_detail *d, const struct rc_detail *sub)
{
	rc_detail_set(d, "lint: %s", sub->msg);
	return RC_LINT;
}

static int
detail(struct rc_detail *d, int rc, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
detail(struct rc_detail *d, int rc, const char *check, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	if (d == NULL)
		return rc;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rc_detail_set(d, "%s: %s", check, msg);
	return rc;
}

/* ---- object identifiers -------------------------------------------------- */

static const uint8_t oid_rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
    0x01, 0x01};
static const uint8_t oid_ec[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t oid_p256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
    0x07};
static const uint8_t oid_p384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t oid_ad_ocsp[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07,
    0x30, 0x01};
static const uint8_t oid_ad_ca_issuers[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
    0x07, 0x30, 0x02};

/* RFC 5758 3.2 (no parameters for ECDSA), RFC 4055 5 (NULL for RSA) */
static const uint8_t alg_ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
    0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t alg_ecdsa_sha384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
    0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
static const uint8_t alg_rsa_sha256[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86,
    0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};

static int
oid_is(const struct der_elem *e, const uint8_t *oid, size_t n)
{
	return e->tag == DER_OID && e->body.len == n &&
	    memcmp(e->body.p, oid, n) == 0;
}

const uint8_t *
ca_sigalg_expected(int keytype, size_t *len)
{
	switch (keytype) {
	case SIGNER_KEY_EC_P256:
		*len = sizeof(alg_ecdsa_sha256);
		return alg_ecdsa_sha256;
	case SIGNER_KEY_EC_P384:
		*len = sizeof(alg_ecdsa_sha384);
		return alg_ecdsa_sha384;
	case SIGNER_KEY_RSA_2048:
	case SIGNER_KEY_RSA_3072:
	case SIGNER_KEY_RSA_4096:
		*len = sizeof(alg_rsa_sha256);
		return alg_rsa_sha256;
	default:
		*len = 0;
		return NULL;
	}
}

int
ca_keytype_of(int is_ec, int bits)
{
	if (is_ec)
		return bits == 256 ? SIGNER_KEY_EC_P256 :
		    bits == 384 ? SIGNER_KEY_EC_P384 : 0;
	switch (bits) {
	case 2048:
		return SIGNER_KEY_RSA_2048;
	case 3072:
		return SIGNER_KEY_RSA_3072;
	case 4096:
		return SIGNER_KEY_RSA_4096;
	default:
		return 0;
	}
}

/* ---- public keys --------------------------------------------------------- */

/* A DER INTEGER's contents: 0 when minimal and positive. */
static int
int_positive_minimal(const struct der *v)
{
	if (v->len == 0 || (v->p[0] & 0x80))
		return -1;
	if (v->len > 1 && v->p[0] == 0 && !(v->p[1] & 0x80))
		return -1;
	return 0;
}

int
ca_spki_walk(const uint8_t *spki, size_t len, int *is_ec, int *bits,
    struct rc_detail *d)
{
	struct der top = {spki, len}, s, a, k;
	struct der_elem e, alg, oid, param, bs, key, n, x;

	if (der_expect(&top, DER_SEQUENCE, &e) != 0 || top.len != 0)
		return detail(d, RC_BADKEY, "e_spki_malformed",
		    "SubjectPublicKeyInfo is not one DER SEQUENCE");
	s = e.body;
	if (der_expect(&s, DER_SEQUENCE, &alg) != 0 ||
	    der_expect(&s, DER_BITSTRING, &bs) != 0 || s.len != 0)
		return detail(d, RC_BADKEY, "e_spki_malformed",
		    "SubjectPublicKeyInfo is not { algorithm, BIT STRING }");
	a = alg.body;
	if (der_expect(&a, DER_OID, &oid) != 0)
		return detail(d, RC_BADKEY, "e_spki_malformed",
		    "algorithm has no OID");
	if (bs.body.len < 2 || bs.body.p[0] != 0)
		return detail(d, RC_BADKEY, "e_spki_malformed",
		    "subjectPublicKey has unused bits or is empty");
	k.p = bs.body.p + 1;
	k.len = bs.body.len - 1;
	if (oid_is(&oid, oid_rsa, sizeof(oid_rsa))) {
		size_t nl;
		int b;

		/* RFC 3279 2.3.1: parameters MUST be NULL */
		if (der_expect(&a, DER_NULL, &param) != 0 ||
		    param.body.len != 0 || a.len != 0)
			return detail(d, RC_BADKEY,
			    "e_spki_rsa_encryption_parameter_not_null",
			    "rsaEncryption parameters are not NULL");
		if (der_expect(&k, DER_SEQUENCE, &key) != 0 || k.len != 0)
			return detail(d, RC_BADKEY, "e_spki_malformed",
			    "RSAPublicKey is not one SEQUENCE");
		k = key.body;
		if (der_expect(&k, DER_INTEGER, &n) != 0 ||
		    der_expect(&k, DER_INTEGER, &x) != 0 || k.len != 0 ||
		    int_positive_minimal(&n.body) != 0 ||
		    int_positive_minimal(&x.body) != 0)
			return detail(d, RC_BADKEY, "e_spki_malformed",
			    "RSAPublicKey is not { n, e } as positive DER "
			    "INTEGERs");
		nl = n.body.len;
		const uint8_t *np = n.body.p;
		if (np[0] == 0) {
			np++;
			nl--;
		}
		if (nl > 2048)
			return detail(d, RC_BADKEY, "e_rsa_mod_too_large",
			    "RSA modulus over 8192 bits");
		b = (int)nl * 8;
		for (uint8_t top8 = np[0]; !(top8 & 0x80); top8 <<= 1)
			b--;
		if (b < 2048)
			return detail(d, RC_BADKEY,
			    "e_rsa_mod_less_than_2048_bits",
			    "RSA modulus of %d bits", b);
		if (b > 8192)
			return detail(d, RC_BADKEY, "e_rsa_mod_too_large",
			    "RSA modulus of %d bits is over 8192", b);
		if (b % 8 != 0)
			return detail(d, RC_BADKEY,
			    "e_rsa_mod_not_multiple_of_8",
			    "RSA modulus of %d bits", b);
		if (!(np[nl - 1] & 1))
			return detail(d, RC_BADKEY, "e_rsa_mod_not_odd",
			    "RSA modulus is even");
		if (x.body.len != 3 || x.body.p[0] != 0x01 ||
		    x.body.p[1] != 0x00 || x.body.p[2] != 0x01)
			return detail(d, RC_BADKEY, "e_rsa_exp_not_65537",
			    "RSA public exponent is not 65537");
		*is_ec = 0;
		*bits = b;
		return 0;
	}
	if (oid_is(&oid, oid_ec, sizeof(oid_ec))) {
		size_t coord;

		if (der_expect(&a, DER_OID, &param) != 0 || a.len != 0)
			return detail(d, RC_BADKEY, "e_ec_improper_curves",
			    "EC parameters are not a named curve");
		if (oid_is(&param, oid_p256, sizeof(oid_p256))) {
			*bits = 256;
			coord = 32;
		} else if (oid_is(&param, oid_p384, sizeof(oid_p384))) {
			*bits = 384;
			coord = 48;
		} else {
			return detail(d, RC_BADKEY, "e_ec_improper_curves",
			    "EC curve is not P-256 or P-384");
		}
		if (k.len != 1 + 2 * coord || k.p[0] != 0x04)
			return detail(d, RC_BADKEY, "e_ec_point_malformed",
			    "EC point is not an uncompressed P-%d point",
			    *bits);
		*is_ec = 1;
		return 0;
	}
	return detail(d, RC_BADKEY, "e_public_key_type_not_allowed",
	    "public key algorithm is not RSA or EC");
}

/* ---- times --------------------------------------------------------------- */

static int
digits(const uint8_t *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* RFC 5280 4.1.2.5: returns NULL, or the name of the failed check. */
static const char *
time_parse(const struct der_elem *e, time_t *out)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31};
	const uint8_t *s = e->body.p;
	size_t n = e->body.len, i;
	int year, mon, day, hour, min, sec, dim;
	struct tm tm;

	if (e->tag == DER_UTCTIME) {
		if (n == 0 || s[n - 1] != 'Z')
			return "e_utc_time_not_in_zulu";
		if (n != 13)
			return "e_utc_time_does_not_include_seconds";
		if (digits(s, 2, &year) != 0)
			return "e_utc_time_malformed";
		year += year < 50 ? 2000 : 1900;
		i = 2;
	} else if (e->tag == DER_GENTIME) {
		if (n == 0 || s[n - 1] != 'Z')
			return "e_generalized_time_not_in_zulu";
		if (n != 15)
			return "e_generalized_time_includes_fraction_or_"
			       "lacks_seconds";
		if (digits(s, 4, &year) != 0)
			return "e_generalized_time_malformed";
		if (year < 2050)
			return "e_wrong_time_format_pre2050";
		i = 4;
	} else {
		return "e_validity_time_not_a_time";
	}
	if (digits(s + i, 2, &mon) != 0 || digits(s + i + 2, 2, &day) != 0 ||
	    digits(s + i + 4, 2, &hour) != 0 ||
	    digits(s + i + 6, 2, &min) != 0 ||
	    digits(s + i + 8, 2, &sec) != 0)
		return "e_time_malformed";
	if (mon < 1 || mon > 12)
		return "e_time_malformed";
	dim = mdays[mon - 1];
	if (mon == 2 && ((year % 4 == 0 && year % 100 != 0) ||
	    year % 400 == 0))
		dim = 29;
	if (day < 1 || day > dim || hour > 23 || min > 59 || sec > 59)
		return "e_time_malformed";
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	*out = timegm(&tm);
	return NULL;
}

/* ---- issuer certificates ------------------------------------------------- */

static const uint8_t oid_ski[] = {0x55, 0x1d, 0x0e};

int
ca_cert_spki(const uint8_t *cert, size_t len, const uint8_t **spki,
    size_t *spki_len)
{
	struct der rest;
	struct der_elem v, subj, k;

	if (der_cert_head(cert, len, &rest, &v, &subj, &k) != 0)
		return RC_INVAL;
	*spki = k.raw;
	*spki_len = k.raw_len;
	return 0;
}

int
ca_issuer_info_parse(const uint8_t *cert, size_t len,
    struct ca_issuer_info *out)
{
	struct der t;
	struct der_elem x, v, nb, na, subj, spki;
	struct der vd;
	int is_ec, bits;

	memset(out, 0, sizeof(*out));
	if (der_cert_head(cert, len, &t, &v, &subj, &spki) != 0)
		return RC_INVAL;
	vd = v.body;
	if (der_next(&vd, &nb) != 0 || der_next(&vd, &na) != 0 ||
	    time_parse(&nb, &out->not_before) != NULL ||
	    time_parse(&na, &out->not_after) != NULL)
		return RC_INVAL;
	out->subject = subj.raw;
	out->subject_len = subj.raw_len;
	out->spki = spki.raw;
	out->spki_len = spki.raw_len;
	if (ca_spki_walk(spki.raw, spki.raw_len, &is_ec, &bits, NULL) != 0)
		return RC_INVAL;
	out->keytype = ca_keytype_of(is_ec, bits);
	if (out->keytype == 0)
		return RC_INVAL;
	(void)der_optional(&t, DER_CTX(1), &x);
	(void)der_optional(&t, DER_CTX(2), &x);
	if (der_optional(&t, DER_CTX(3), &x) == 1) {
		struct der xs = x.body, list;
		struct der_elem l, ext;

		if (der_expect(&xs, DER_SEQUENCE, &l) != 0)
			return RC_INVAL;
		list = l.body;
		while (der_next(&list, &ext) == 0) {
			struct der es = ext.body, os;
			struct der_elem oid, val, id;

			if (der_expect(&es, DER_OID, &oid) != 0)
				return RC_INVAL;
			if (!oid_is(&oid, oid_ski, sizeof(oid_ski)))
				continue;
			(void)der_optional(&es, 0x01, &val);
			if (der_expect(&es, DER_OCTETSTRING, &val) != 0)
				return RC_INVAL;
			os = val.body;
			if (der_expect(&os, DER_OCTETSTRING, &id) != 0 ||
			    id.body.len == 0 || id.body.len > sizeof(out->ski))
				return RC_INVAL;
			memcpy(out->ski, id.body.p, id.body.len);
			out->ski_len = id.body.len;
		}
	}
	if (out->ski_len == 0) {
		if (ca_spki_keyid(out->spki, out->spki_len, out->ski) != 0)
			return RC_INVAL;
		out->ski_len = 20;
	}
	return 0;
}

/* ---- DNS names ----------------------------------------------------------- */

/* The zlint-style check for each reason util/dnsname.h gives, and what
 * follows the name in the message. */
static const struct {
	const char *check, *text;
} dnsname_lint[DNSNAME_WHY_MAX_] = {
	[DNSNAME_NOT_ASCII] = {"e_dnsname_bad_character_in_label",
	    "has a character other than a-z, 0-9 and '-'"},
	[DNSNAME_CONTROL] = {"e_dnsname_bad_character_in_label",
	    "has a character other than a-z, 0-9 and '-'"},
	[DNSNAME_TRAILING_DOT] = {"e_dnsname_trailing_dot",
	    "ends with a dot"},
	[DNSNAME_WILDCARD_POSITION] = {
	    "e_dnsname_wildcard_only_in_left_label",
	    "has a wildcard that is not the whole leftmost label"},
	[DNSNAME_EMPTY_LABEL] = {"e_dnsname_empty_label",
	    "has an empty label"},
	[DNSNAME_LABEL_TOO_LONG] = {"e_dnsname_label_too_long",
	    "has a label over 63 octets"},
	[DNSNAME_UPPERCASE] = {"e_dnsname_not_lowercase",
	    "has upper-case letters"},
	[DNSNAME_BAD_CHAR] = {"e_dnsname_bad_character_in_label",
	    "has a character other than a-z, 0-9 and '-'"},
	[DNSNAME_HYPHEN_EDGE] = {"e_dnsname_hyphen_in_label_edge",
	    "has a label starting or ending with '-'"},
	[DNSNAME_RESERVED_LABEL] = {"e_dnsname_reserved_label",
	    "has a reserved label (\"--\" in positions 3 and 4)"},
	[DNSNAME_BAD_ALABEL] = {"e_international_dns_name_not_valid_idna",
	    "has an invalid A-label"},
	[DNSNAME_SINGLE_LABEL] = {"e_dnsname_internal_name",
	    "is not a fully-qualified domain name"},
	[DNSNAME_NUMERIC_TLD] = {"e_dnsname_numeric_tld",
	    "ends in an all-numeric label (an IP address?)"},
	[DNSNAME_PUBLIC_SUFFIX] = {"e_dnsname_wildcard_left_of_public_suffix",
	    "is a wildcard directly on a public suffix"},
	[DNSNAME_NO_PSL] = {"e_dnsname_wildcard_left_of_public_suffix",
	    "is a wildcard and there is no public suffix list to check"},
};

/* BR 7.1.4.2.1 dNSName rules (util/dnsname.h), not folded: upper case is a
 * failure here. */
int
ca_dnsname_check(const char *name, struct rc_detail *d)
{
	enum dnsname_why why;

	if (dnsname_check(name, DNSNAME_WILDCARD | DNSNAME_IDNA | DNSNAME_PSL,
	    &why) == 0)
		return 0;
	if (why == DNSNAME_EMPTY)
		return detail(d, RC_BADNAME, "e_dnsname_empty", "empty name");
	if (why == DNSNAME_TOO_LONG)
		return detail(d, RC_BADNAME, "e_dnsname_too_long",
		    "name of %zu octets (over 253)", strlen(name));
	if (why == DNSNAME_IP_ADDRESS)	/* as the rules below would say */
		why = strchr(name, ':') != NULL ? DNSNAME_BAD_CHAR :
		    DNSNAME_NUMERIC_TLD;
	if (dnsname_lint[why].check == NULL)	/* not with these flags */
		return detail(d, RC_BADNAME, "e_dnsname_bad_character_in_label",
		    "'%s' %s", name, dnsname_why_str(why));
	return detail(d, RC_BADNAME, dnsname_lint[why].check, "'%s' %s",
	    name, dnsname_lint[why].text);
}

int
ca_ip_parse(const char *s, uint8_t ip[16], size_t *len)
{
	uint8_t buf[16];
	size_t n;

	if (s == NULL)
		return RC_INVAL;
	if (inet_pton(AF_INET, s, buf) == 1)
		n = 4;
	else if (inet_pton(AF_INET6, s, buf) == 1)
		n = 16;
	else
		return RC_INVAL;
	if (ip)
		memcpy(ip, buf, n);
	if (len)
		*len = n;
	return 0;
}

int
ca_ip_reserved(const uint8_t *ip, size_t len)
{
	return ipaddr_reserved(ip, len);
}

int
ca_ip_text_reserved(const char *s)
{
	uint8_t ip[16];
	size_t len;

	if (ca_ip_parse(s, ip, &len) != 0)
		return -1;
	return ca_ip_reserved(ip, len);
}

/* The public face of ca_dnsname_check() (ca.h), for the ra's name policy. */
int
ca_name_check(const char *name, struct rc_detail *d)
{
	return ca_dnsname_check(name, d);
}

int
ca_service_name_check(const char *name, uint8_t ip[16], size_t *len,
    struct rc_detail *d)
{
	if (len)
		*len = 0;
	if (name == NULL || name[0] == '\0')
		return detail(d, RC_BADNAME, "e_dnsname_empty", "empty name");
	if (strcmp(name, "localhost") == 0)
		return 0;
	if (ca_ip_parse(name, ip, len) == 0)
		return 0;
	if (name[0] == '*')
		return detail(d, RC_BADNAME, "e_service_wildcard",
		    "'%s': no wildcards in the service certificate", name);
	return ca_dnsname_check(name, d);
}

/* ---- strings in names ---------------------------------------------------- */

static int
printable_ok(const struct der *v)
{
	for (size_t i = 0; i < v->len; i++) {
		uint8_t c = v->p[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') ||
		    (c != 0 && strchr(" '()+,-./:=?", c) != NULL))
			continue;
		return 0;
	}
	return 1;
}

/* Valid UTF-8 (RFC 3629) without control characters; the number of
 * characters in *chars. */
static int
utf8_ok(const struct der *v, size_t *chars)
{
	const uint8_t *s = v->p;
	size_t i = 0, n = v->len;

	*chars = 0;
	while (i < n) {
		uint32_t cp;
		size_t k;

		if (s[i] < 0x80) {
			cp = s[i];
			k = 1;
		} else if ((s[i] & 0xe0) == 0xc0) {
			cp = s[i] & 0x1f;
			k = 2;
		} else if ((s[i] & 0xf0) == 0xe0) {
			cp = s[i] & 0x0f;
			k = 3;
		} else if ((s[i] & 0xf8) == 0xf0) {
			cp = s[i] & 0x07;
			k = 4;
		} else {
			return 0;
		}
		if (i + k > n)
			return 0;
		for (size_t j = 1; j < k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) ||
		    (k == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return 0;
		i += k;
		(*chars)++;
	}
	return 1;
}

/* ---- walking a TBSCertificate -------------------------------------------- */

enum { A_CN, A_C, A_ST, A_L, A_O, A_SERIAL, A_BUSINESS, A_JUR_C, A_JUR_ST,
	A_JUR_L, N_ATTR };

static const struct attr {
	const uint8_t *oid;
	size_t len;
	const char *name;
	int printable;		/* PrintableString required */
	size_t max;		/* RFC 5280 A.1 upper bound, characters */
} attrs[N_ATTR] = {
	[A_CN] = {CA_OID(ca_oid_cn), "commonName", 0, 64},
	[A_C] = {CA_OID(ca_oid_c), "countryName", 1, 2},
	[A_ST] = {CA_OID(ca_oid_st), "stateOrProvinceName", 0, 128},
	[A_L] = {CA_OID(ca_oid_l), "localityName", 0, 128},
	[A_O] = {CA_OID(ca_oid_o), "organizationName", 0, 64},
	[A_SERIAL] = {CA_OID(ca_oid_serial), "serialNumber", 1, 64},
	[A_BUSINESS] = {CA_OID(ca_oid_business), "businessCategory", 0, 128},
	[A_JUR_C] = {CA_OID(ca_oid_jur_c), "jurisdictionCountryName", 1, 2},
	[A_JUR_ST] = {CA_OID(ca_oid_jur_st), "jurisdictionStateOrProvinceName",
	    0, 128},
	[A_JUR_L] = {CA_OID(ca_oid_jur_l), "jurisdictionLocalityName", 0, 128},
};

enum { X_AKI, X_SKI, X_KU, X_EKU, X_BC, X_CP, X_CRLDP, X_AIA, X_SAN, X_TLSF,
    X_POISON, X_SCTL, N_EXT };

static const uint8_t oid_aki[] = {0x55, 0x1d, 0x23};
static const uint8_t oid_ku[] = {0x55, 0x1d, 0x0f};
static const uint8_t oid_san[] = {0x55, 0x1d, 0x11};
static const uint8_t oid_bc[] = {0x55, 0x1d, 0x13};
static const uint8_t oid_crldp[] = {0x55, 0x1d, 0x1f};
static const uint8_t oid_cp[] = {0x55, 0x1d, 0x20};
static const uint8_t oid_eku[] = {0x55, 0x1d, 0x25};
static const uint8_t oid_aia[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01,
    0x01};
/* RFC 6962: precertificate poison, SCT list (1.3.6.1.4.1.11129.2.4.3/.2) */
static const uint8_t oid_poison[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6,
    0x79, 0x02, 0x04, 0x03};
static const uint8_t oid_sctl[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79,
    0x02, 0x04, 0x02};

static const struct extdef {
	const uint8_t *oid;
	size_t len;
	const char *name;
} extdefs[N_EXT] = {
	[X_AKI] = {CA_OID(oid_aki), "authorityKeyIdentifier"},
	[X_SKI] = {CA_OID(oid_ski), "subjectKeyIdentifier"},
	[X_KU] = {CA_OID(oid_ku), "keyUsage"},
	[X_EKU] = {CA_OID(oid_eku), "extKeyUsage"},
	[X_BC] = {CA_OID(oid_bc), "basicConstraints"},
	[X_CP] = {CA_OID(oid_cp), "certificatePolicies"},
	[X_CRLDP] = {CA_OID(oid_crldp), "cRLDistributionPoints"},
	[X_AIA] = {CA_OID(oid_aia), "authorityInfoAccess"},
	[X_SAN] = {CA_OID(oid_san), "subjectAltName"},
	[X_TLSF] = {CA_OID(ca_oid_tls_feature), "tlsFeature"},
	[X_POISON] = {CA_OID(oid_poison), "CT precertificate poison"},
	[X_SCTL] = {CA_OID(oid_sctl), "CT SCT list"},
};

struct ext_found {
	int critical;
	struct der val;		/* the extnValue contents */
};

struct parts {
	struct der_elem serial, subject, spki;
	time_t nb, na;
	int is_ec, bits;
	struct der_elem attr[N_ATTR];
	unsigned attrs;		/* bit per A_* present */
	size_t nattr;		/* attributes in the subject */
	struct ext_found ext[N_EXT];
	unsigned exts;		/* bit per X_* present */
};

/* Everything every certificate must get right, whatever its profile. */
static int
walk_tbs(const uint8_t *tbs, size_t len, const struct ca_issuer_info *iss,
    struct parts *p, struct rc_detail *d)
{
	static const uint8_t v3[] = {0xa0, 0x03, 0x02, 0x01, 0x02};
	struct der top = {tbs, len}, t, vd;
	struct der_elem e, x, alg, issuer, validity, nb, na, exts;
	const uint8_t *want;
	size_t want_len;
	const char *bad;
	struct rc_detail sub;

	memset(p, 0, sizeof(*p));
	if (der_expect(&top, DER_SEQUENCE, &e) != 0 || top.len != 0)
		return fail(d, "e_tbs_malformed",
		    "TBSCertificate is not one DER SEQUENCE");
	t = e.body;
	if (der_next(&t, &x) != 0 || !der_eq(&x, v3, sizeof(v3)))
		return fail(d, "e_invalid_certificate_version",
		    "version is not v3");
	if (der_expect(&t, DER_INTEGER, &p->serial) != 0)
		return fail(d, "e_tbs_malformed", "no serialNumber");
	if (p->serial.body.len == 0 || (p->serial.body.p[0] & 0x80))
		return fail(d, "e_serial_number_not_positive",
		    "serial number is negative or empty");
	if (p->serial.body.len > 1 && p->serial.body.p[0] == 0 &&
	    !(p->serial.body.p[1] & 0x80))
		return fail(d, "e_serial_number_not_minimal",
		    "serial number is not minimally encoded");
	if (p->serial.body.len > 20)
		return fail(d, "e_serial_number_longer_than_20_octets",
		    "serial number of %zu octets", p->serial.body.len);
	/* BR 7.1: at least 64 bits from a CSPRNG; with the top bit cleared
	 * that needs 9 octets */
	if (p->serial.body.len < 9)
		return fail(d, "e_serial_number_low_entropy",
		    "serial number of %zu octets (under 9)",
		    p->serial.body.len);
	if (der_expect(&t, DER_SEQUENCE, &alg) != 0)
		return fail(d, "e_tbs_malformed", "no signature algorithm");
	want = ca_sigalg_expected(iss->keytype, &want_len);
	if (want == NULL || !der_eq(&alg, want, want_len))
		return fail(d, "e_signature_algorithm_mismatch",
		    "signature algorithm is not the one of the issuer's key");
	if (der_expect(&t, DER_SEQUENCE, &issuer) != 0)
		return fail(d, "e_tbs_malformed", "no issuer");
	if (!der_eq(&issuer, iss->subject, iss->subject_len))
		return fail(d, "e_issuer_dn_mismatch",
		    "issuer is not the issuer certificate's subject");
	if (der_expect(&t, DER_SEQUENCE, &validity) != 0)
		return fail(d, "e_tbs_malformed", "no validity");
	vd = validity.body;
	if (der_next(&vd, &nb) != 0 || der_next(&vd, &na) != 0 ||
	    vd.len != 0)
		return fail(d, "e_tbs_malformed",
		    "validity is not { notBefore, notAfter }");
	if ((bad = time_parse(&nb, &p->nb)) != NULL)
		return fail(d, bad, "notBefore is not a valid time");
	if ((bad = time_parse(&na, &p->na)) != NULL)
		return fail(d, bad, "notAfter is not a valid time");
	if (p->na < p->nb)
		return fail(d, "e_validity_time_negative",
		    "notAfter is before notBefore");
	if (der_expect(&t, DER_SEQUENCE, &p->subject) != 0)
		return fail(d, "e_tbs_malformed", "no subject");
	if (der_expect(&t, DER_SEQUENCE, &p->spki) != 0)
		return fail(d, "e_tbs_malformed", "no subjectPublicKeyInfo");
	sub.msg[0] = '\0';
	if (ca_spki_walk(p->spki.raw, p->spki.raw_len, &p->is_ec, &p->bits,
	    &sub) != 0)
		return fail_sub(d, &sub);
	if (t.len > 0 && (t.p[0] == 0x81 || t.p[0] == 0x82 ||
	    t.p[0] == DER_CTX(1) || t.p[0] == DER_CTX(2)))
		return fail(d, "e_cert_contains_unique_identifier",
		    "issuerUniqueID or subjectUniqueID present");
	if (der_expect(&t, DER_CTX(3), &exts) != 0 || t.len != 0)
		return fail(d, "e_tbs_malformed",
		    "extensions missing or followed by other data");

	/* subject: SEQUENCE OF single-valued RDNs we know */
	struct der names = p->subject.body;
	struct der_elem rdn;
	int rc;

	while ((rc = der_next(&names, &rdn)) == 0) {
		struct der set = rdn.body, seq;
		struct der_elem atv, oid, val;
		size_t chars;
		int a;

		if (rdn.tag != DER_SET || der_expect(&set, DER_SEQUENCE,
		    &atv) != 0)
			return fail(d, "e_subject_malformed",
			    "an RDN is not a SET of AttributeTypeAndValue");
		if (set.len != 0)
			return fail(d, "e_subject_multi_valued_rdn",
			    "multi-valued RDN");
		seq = atv.body;
		if (der_expect(&seq, DER_OID, &oid) != 0 ||
		    der_next(&seq, &val) != 0 || seq.len != 0)
			return fail(d, "e_subject_malformed",
			    "AttributeTypeAndValue is not { type, value }");
		for (a = 0; a < N_ATTR; a++)
			if (oid_is(&oid, attrs[a].oid, attrs[a].len))
				break;
		if (a == N_ATTR)
			return fail(d, "e_subject_contains_unknown_attribute",
			    "subject has an attribute certdesk does not "
			    "issue");
		if (p->attrs & (1u << a))
			return fail(d, "e_subject_dn_duplicate_attribute",
			    "%s appears twice", attrs[a].name);
		p->attrs |= 1u << a;
		p->attr[a] = val;
		p->nattr++;
		if (val.body.len == 0)
			return fail(d, "e_subject_empty_value",
			    "%s is empty", attrs[a].name);
		if (attrs[a].printable) {
			if (val.tag != DER_PRINTABLE)
				return fail(d, "e_subject_printable_string_"
				    "required", "%s is not a PrintableString",
				    attrs[a].name);
		} else if (val.tag != DER_UTF8 && val.tag != DER_PRINTABLE) {
			return fail(d, "e_subject_string_type_not_allowed",
			    "%s is neither UTF8String nor PrintableString",
			    attrs[a].name);
		}
		if (val.tag == DER_PRINTABLE) {
			if (!printable_ok(&val.body))
				return fail(d, "e_subject_printable_string_"
				    "badalpha", "%s has characters outside "
				    "PrintableString", attrs[a].name);
			chars = val.body.len;
		} else if (!utf8_ok(&val.body, &chars)) {
			return fail(d, "e_subject_utf8_invalid",
			    "%s is not valid UTF-8 text", attrs[a].name);
		}
		if (chars > attrs[a].max)
			return fail(d, "e_subject_value_too_long",
			    "%s is longer than %zu characters", attrs[a].name,
			    attrs[a].max);
		if (val.body.p[0] == ' ' ||
		    val.body.p[val.body.len - 1] == ' ')
			return fail(d, "e_subject_value_whitespace",
			    "%s starts or ends with a space", attrs[a].name);
		if ((a == A_C || a == A_JUR_C) &&
		    !(val.body.p[0] >= 'A' && val.body.p[0] <= 'Z' &&
		    val.body.p[1] >= 'A' && val.body.p[1] <= 'Z'))
			return fail(d, "e_subject_country_not_iso",
			    "%s is not two upper-case letters",
			    attrs[a].name);
	}
	if (rc != RC_NOTFOUND)
		return fail(d, "e_subject_malformed", "subject is not DER");

	/* extensions: each known, once, DER (no FALSE critical) */
	struct der xs = exts.body, list;
	struct der_elem l, ext;

	if (der_expect(&xs, DER_SEQUENCE, &l) != 0 || xs.len != 0 ||
	    l.body.len == 0)
		return fail(d, "e_tbs_malformed",
		    "extensions are not one non-empty SEQUENCE");
	list = l.body;
	while ((rc = der_next(&list, &ext)) == 0) {
		struct der es = ext.body;
		struct der_elem oid, crit, val;
		int xi, critical = 0;

		if (ext.tag != DER_SEQUENCE || der_expect(&es, DER_OID,
		    &oid) != 0)
			return fail(d, "e_ext_malformed",
			    "an extension is not { extnID, ... }");
		if (der_optional(&es, 0x01, &crit) == 1) {
			if (crit.body.len != 1 || crit.body.p[0] != 0xff)
				return fail(d, "e_ext_critical_false_encoded",
				    "critical is encoded but not TRUE (DER "
				    "omits defaults)");
			critical = 1;
		}
		if (der_expect(&es, DER_OCTETSTRING, &val) != 0 ||
		    es.len != 0)
			return fail(d, "e_ext_malformed",
			    "an extension has no single extnValue");
		for (xi = 0; xi < N_EXT; xi++)
			if (oid_is(&oid, extdefs[xi].oid, extdefs[xi].len))
				break;
		if (xi == N_EXT)
			return fail(d, "e_ext_unknown_extension",
			    "extension certdesk does not issue");
		if (p->exts & (1u << xi))
			return fail(d, "e_ext_duplicate_extension",
			    "%s appears twice", extdefs[xi].name);
		p->exts |= 1u << xi;
		p->ext[xi].critical = critical;
		p->ext[xi].val = val.body;
	}
	if (rc != RC_NOTFOUND)
		return fail(d, "e_ext_malformed", "extensions are not DER");
	return 0;
}

/* The single TLV inside an extnValue. */
static int
ext_inner(const struct parts *p, int x, uint8_t tag, struct der_elem *e)
{
	struct der v = p->ext[x].val;

	return der_expect(&v, tag, e) == 0 && v.len == 0 ? 0 : -1;
}

/* keyUsage named bits as an integer (bit i = KeyUsage bit i); -1 on
 * malformed or non-DER encoding. */
static int
ku_bits(const struct parts *p)
{
	struct der_elem bs;
	const uint8_t *b;
	size_t n;
	int v = 0;

	if (ext_inner(p, X_KU, DER_BITSTRING, &bs) != 0 || bs.body.len < 2)
		return -1;
	b = bs.body.p;
	n = bs.body.len - 1;
	if (b[0] > 7 || n > 2 || b[n] == 0 ||
	    (b[n] & ((1u << b[0]) - 1)) != 0 || !(b[n] & (1u << b[0])))
		return -1;	/* X.690 11.2.2: no trailing zero bits */
	for (size_t i = 0; i < n * 8; i++)
		if (b[1 + i / 8] & (0x80 >> (i % 8)))
			v |= 1 << i;
	return v;
}

enum { KU_DIGSIG = 1 << 0, KU_KEYENC = 1 << 2, KU_KEYAGREE = 1 << 4,
	KU_CERTSIGN = 1 << 5, KU_CRLSIGN = 1 << 6 };

/* An http:// URI GeneralName ([6] IA5String). */
static int
http_uri(const struct der_elem *gn)
{
	if (gn->tag != 0x86 || gn->body.len <= 7 ||
	    memcmp(gn->body.p, "http://", 7) != 0)
		return 0;
	for (size_t i = 0; i < gn->body.len; i++)
		if (gn->body.p[i] <= 0x20 || gn->body.p[i] >= 0x7f)
			return 0;
	return 1;
}

static int
check_aki(const struct parts *p, const struct ca_issuer_info *iss,
    struct rc_detail *d)
{
	struct der_elem seq, kid;
	struct der s;

	if (p->ext[X_AKI].critical)
		return fail(d, "e_ext_authority_key_identifier_critical",
		    "authorityKeyIdentifier is critical");
	if (ext_inner(p, X_AKI, DER_SEQUENCE, &seq) != 0)
		return fail(d, "e_ext_authority_key_identifier_invalid",
		    "authorityKeyIdentifier is malformed");
	s = seq.body;
	/* BR 7.1.2.11.1: keyIdentifier only */
	if (der_expect(&s, 0x80, &kid) != 0 || s.len != 0)
		return fail(d, "e_ext_authority_key_identifier_invalid",
		    "authorityKeyIdentifier is not just a keyIdentifier");
	if (kid.body.len != iss->ski_len ||
	    memcmp(kid.body.p, iss->ski, iss->ski_len) != 0)
		return fail(d, "e_ext_authority_key_identifier_mismatch",
		    "keyIdentifier is not the issuer's subjectKeyIdentifier");
	return 0;
}

static int
check_ski(const struct parts *p, const char *missing, struct rc_detail *d)
{
	struct der_elem id;
	uint8_t h[20];

	if (!(p->exts & (1u << X_SKI)))
		return fail(d, missing, "subjectKeyIdentifier missing");
	if (p->ext[X_SKI].critical)
		return fail(d, "e_ext_subject_key_identifier_critical",
		    "subjectKeyIdentifier is critical");
	if (ext_inner(p, X_SKI, DER_OCTETSTRING, &id) != 0 ||
	    ca_spki_keyid(p->spki.raw, p->spki.raw_len, h) != 0 ||
	    id.body.len != sizeof(h) || memcmp(id.body.p, h, sizeof(h)) != 0)
		return fail(d, "e_ext_subject_key_identifier_mismatch",
		    "subjectKeyIdentifier is not the SHA-1 of the key "
		    "(RFC 5280 4.2.1.2 method 1)");
	return 0;
}

/*
 * The CRL shard URI certdesk writes into subscriber certificates (crl.c):
 * http://<host>[:port][/path]/crl/<issuer>-<shard>.crl, issuer [a-z0-9-]+,
 * shard a decimal number without leading zeros.
 */
static int
shard_uri(const struct der_elem *gn, const char *issuer)
{
	const uint8_t *u = gn->body.p;
	size_t n = gn->body.len, i, digits = 0, name = 0;

	if (!http_uri(gn) || n < 7 + 5 + 4 + 6 ||
	    memcmp(u + n - 4, ".crl", 4) != 0)
		return 0;
	for (i = n - 4; i > 7 && u[i - 1] >= '0' && u[i - 1] <= '9'; i--)
		digits++;
	if (digits == 0 || digits > 18 || (digits > 1 && u[i] == '0') ||
	    i <= 7 || u[i - 1] != '-')
		return 0;
	for (i--; i > 7 && ((u[i - 1] >= 'a' && u[i - 1] <= 'z') ||
	    (u[i - 1] >= '0' && u[i - 1] <= '9') || u[i - 1] == '-'); i--)
		name++;
	/* the issuer's own name when known (names end in "-<n>" too) */
	if (issuer != NULL && (name != strlen(issuer) ||
	    memcmp(u + i, issuer, name) != 0))
		return 0;
	/* a host of at least one character before the path */
	return name > 0 && i > 7 + 5 && memcmp(u + i - 5, "/crl/", 5) == 0;
}

/* cRLDistributionPoints: DistributionPoints of fullName http URIs only;
 * sharded (end-entity certificates): exactly one DistributionPoint with one
 * URI, of a CRL shard (shard_uri). */
static int
check_crldp_form(const struct parts *p, const char *check, int sharded,
    const char *issuer, struct rc_detail *d)
{
	struct der_elem seq, dp, dpn, full, gn;
	struct der s, ds, fs, gs;
	int uris = 0;

	if (p->ext[X_CRLDP].critical)
		return fail(d, check, "cRLDistributionPoints is critical");
	if (ext_inner(p, X_CRLDP, DER_SEQUENCE, &seq) != 0)
		return fail(d, check, "cRLDistributionPoints is malformed");
	s = seq.body;
	while (der_next(&s, &dp) == 0) {
		ds = dp.body;
		if (dp.tag != DER_SEQUENCE ||
		    der_expect(&ds, DER_CTX(0), &dpn) != 0 || ds.len != 0)
			return fail(d, check, "a DistributionPoint is not "
			    "just a distributionPoint name");
		fs = dpn.body;
		if (der_expect(&fs, DER_CTX(0), &full) != 0 || fs.len != 0)
			return fail(d, check, "a DistributionPoint has no "
			    "fullName");
		gs = full.body;
		while (der_next(&gs, &gn) == 0) {
			if (!http_uri(&gn))
				return fail(d, check, "a CRL location is not "
				    "an http:// URI");
			if (sharded && !shard_uri(&gn, issuer))
				return fail(d, check, "the CRL location is not "
				    "a CRL shard (.../crl/<issuer>-<n>.crl)");
			uris++;
		}
		if (gs.len != 0)
			return fail(d, check, "fullName is malformed");
	}
	if (s.len != 0 || uris == 0)
		return fail(d, check, "cRLDistributionPoints has no http:// "
		    "URI");
	if (sharded && uris != 1)
		return fail(d, check, "cRLDistributionPoints names more than "
		    "one CRL (one shard covers the certificate)");
	return 0;
}

static int
check_crldp(const struct parts *p, const char *check, struct rc_detail *d)
{
	return check_crldp_form(p, check, 0, NULL, d);
}

/* authorityInfoAccess: caIssuers (required) and OCSP, http URIs only. */
static int
check_aia(const struct parts *p, const char *check, struct rc_detail *d)
{
	struct der_elem seq, ad, oid, gn;
	struct der s, as;
	int ca_issuers = 0, ocsp = 0;

	if (p->ext[X_AIA].critical)
		return fail(d, check, "authorityInfoAccess is critical");
	if (ext_inner(p, X_AIA, DER_SEQUENCE, &seq) != 0)
		return fail(d, check, "authorityInfoAccess is malformed");
	s = seq.body;
	while (der_next(&s, &ad) == 0) {
		as = ad.body;
		if (ad.tag != DER_SEQUENCE ||
		    der_expect(&as, DER_OID, &oid) != 0 ||
		    der_next(&as, &gn) != 0 || as.len != 0)
			return fail(d, check, "an AccessDescription is "
			    "malformed");
		if (oid_is(&oid, oid_ad_ca_issuers, sizeof(oid_ad_ca_issuers)))
			ca_issuers++;
		else if (oid_is(&oid, oid_ad_ocsp, sizeof(oid_ad_ocsp)))
			ocsp++;
		else
			return fail(d, check, "an access method other than "
			    "OCSP and caIssuers");
		if (!http_uri(&gn))
			return fail(d, check, "an access location is not an "
			    "http:// URI");
	}
	if (s.len != 0)
		return fail(d, check, "authorityInfoAccess is malformed");
	if (ca_issuers == 0)
		return fail(d, "e_sub_cert_aia_does_not_contain_issuing_ca_url",
		    "authorityInfoAccess has no caIssuers URI");
	/* RFC 7633: Must-Staple promises an OCSP response to staple */
	if ((p->exts & (1u << X_TLSF)) && ocsp == 0)
		return fail(d, "e_ext_tls_feature_without_ocsp",
		    "tlsFeature without an OCSP URI in authorityInfoAccess");
	return 0;
}

/* 1 when the commonName value equals one of the SAN dNSName values. */
static int
cn_in_san(const struct der *cn, const struct der *san, size_t nsan)
{
	for (size_t i = 0; i < nsan; i++)
		if (san[i].len == cn->len &&
		    memcmp(san[i].p, cn->p, cn->len) == 0)
			return 1;
	return 0;
}

/* The extensions every end-entity certificate (subscriber or service)
 * carries to find its issuer and status: CRL DP, AIA, AKI, SKI. */
/* The subjectAltName every leaf needs: present, critical exactly when the
 * subject is empty (RFC 5280 4.2.1.6), a SEQUENCE; *names gets its
 * GeneralNames to walk. */
static int
san_names(const struct parts *p, struct der *names, struct rc_detail *d)
{
	struct der_elem seq;

	if (!(p->exts & (1u << X_SAN)))
		return fail(d, "e_ext_san_missing", "subjectAltName missing");
	if (p->ext[X_SAN].critical != (p->nattr == 0))
		return fail(d, p->nattr == 0 ?
		    "e_ext_san_not_critical_without_subject" :
		    "e_ext_san_critical_with_subject_dn",
		    "subjectAltName criticality does not match the subject");
	if (ext_inner(p, X_SAN, DER_SEQUENCE, &seq) != 0)
		return fail(d, "e_ext_san_malformed",
		    "subjectAltName is malformed");
	*names = seq.body;
	return 0;
}

/*
 * Certificate Transparency (RFC 6962 3.1, 3.3): a precertificate carries
 * the poison, critical, extnValue NULL; a certificate its SCTs in a
 * non-critical SCT list, an OCTET STRING holding a TLS
 * SignedCertificateTimestampList of non-empty SCTs; never both.
 */
static int
check_ct(const struct parts *p, struct rc_detail *d)
{
	struct der_elem os;
	const uint8_t *l;
	size_t n, total, off;

	if ((p->exts & (1u << X_POISON)) && (p->exts & (1u << X_SCTL)))
		return fail(d, "e_ct_poison_and_sct_list",
		    "both the precertificate poison and an SCT list");
	if ((p->exts & (1u << X_POISON)) && (!p->ext[X_POISON].critical ||
	    p->ext[X_POISON].val.len != 2 ||
	    p->ext[X_POISON].val.p[0] != 0x05 ||
	    p->ext[X_POISON].val.p[1] != 0x00))
		return fail(d, "e_precert_poison_invalid",
		    "the poison is not a critical NULL");
	if (!(p->exts & (1u << X_SCTL)))
		return 0;
	if (p->ext[X_SCTL].critical)
		return fail(d, "e_sct_list_critical", "the SCT list is "
		    "critical");
	if (ext_inner(p, X_SCTL, DER_OCTETSTRING, &os) != 0 ||
	    os.body.len < 2)
		return fail(d, "e_sct_list_malformed", "the SCT list is not "
		    "an OCTET STRING");
	l = os.body.p;
	n = os.body.len;
	total = (size_t)l[0] << 8 | l[1];
	if (total + 2 != n || total == 0)
		return fail(d, "e_sct_list_malformed", "the SCT list's "
		    "length is not its contents'");
	for (off = 2; off < n;) {
		size_t one;

		if (off + 2 > n)
			return fail(d, "e_sct_list_malformed", "an SCT is "
			    "truncated");
		one = (size_t)l[off] << 8 | l[off + 1];
		/* v1(1) id(32) timestamp(8) extensions<2> sig(4+) */
		if (one < 47 || off + 2 + one > n || l[off + 2] != 0)
			return fail(d, "e_sct_list_malformed", "an SCT is "
			    "empty, too short, truncated or not v1");
		off += 2 + one;
	}
	return 0;
}

static int
check_leaf_links(const struct parts *p, const struct ca_issuer_info *iss,
    struct rc_detail *d)
{
	const struct der *tlsf = &p->ext[X_TLSF].val;
	int rc;

	/* tlsFeature, when present: exactly { status_request }, not
	 * critical (RFC 7633 §4.2.2 says SHOULD NOT) */
	if ((p->exts & (1u << X_TLSF)) && (p->ext[X_TLSF].critical ||
	    tlsf->len != sizeof(ca_tls_feature_status_request) ||
	    memcmp(tlsf->p, ca_tls_feature_status_request, tlsf->len) != 0))
		return fail(d, "e_ext_tls_feature_invalid",
		    "tlsFeature is not a non-critical { status_request }");
	if ((rc = check_ct(p, d)) != 0)
		return rc;

	if (!(p->exts & (1u << X_CRLDP)))
		return fail(d, "e_sub_cert_crl_distribution_points_missing",
		    "cRLDistributionPoints missing");
	if ((rc = check_crldp_form(p, "e_sub_cert_crl_distribution_points_"
	    "invalid", 1, iss->name, d)) != 0)
		return rc;
	if (!(p->exts & (1u << X_AIA)))
		return fail(d, "e_sub_cert_aia_missing",
		    "authorityInfoAccess missing");
	if ((rc = check_aia(p, "e_sub_cert_aia_invalid", d)) != 0)
		return rc;
	if (!(p->exts & (1u << X_AKI)))
		return fail(d, "e_ext_authority_key_identifier_missing",
		    "authorityKeyIdentifier missing");
	if ((rc = check_aki(p, iss, d)) != 0)
		return rc;
	return check_ski(p, "e_ext_subject_key_identifier_missing", d);
}

/* extKeyUsage: exactly serverAuth. */
static int
check_eku(const struct parts *p, struct rc_detail *d)
{
	struct der_elem seq, oid;
	struct der s;
	int server = 0, other = 0;

	if (!(p->exts & (1u << X_EKU)))
		return fail(d, "e_sub_cert_eku_missing",
		    "extKeyUsage missing");
	if (p->ext[X_EKU].critical)
		return fail(d, "e_sub_cert_eku_critical",
		    "extKeyUsage is critical");
	if (ext_inner(p, X_EKU, DER_SEQUENCE, &seq) != 0)
		return fail(d, "e_sub_cert_eku_malformed",
		    "extKeyUsage is malformed");
	s = seq.body;
	while (der_next(&s, &oid) == 0) {
		if (oid.tag != DER_OID)
			return fail(d, "e_sub_cert_eku_malformed",
			    "extKeyUsage is not a SEQUENCE OF OID");
		if (oid_is(&oid, CA_OID(ca_oid_server_auth)) && !server)
			server = 1;
		else
			other++;
	}
	if (s.len != 0)
		return fail(d, "e_sub_cert_eku_malformed",
		    "extKeyUsage is malformed");
	if (!server)
		return fail(d, "e_sub_cert_eku_server_auth_missing",
		    "extKeyUsage lacks serverAuth");
	if (other)
		return fail(d, "e_sub_cert_eku_extra_values",
		    "extKeyUsage has values other than serverAuth");
	return 0;
}

/* ---- the service certificate (CA_PROFILE_SERVICE) ----------------------- */

/*
 * certdesk's own HTTPS certificate is not a subscriber certificate under
 * the Baseline Requirements (it may name IP addresses and "localhost"), but
 * it is held to the same structure as one: subject CN only, keyUsage,
 * serverAuth only, cA FALSE, its issuer's CRL DP, AIA and AKI, a SKI, no
 * certificate policy, at most CA_SERVICE_VALIDITY_DAYS.
 */
static int
lint_service(const uint8_t *tbs, size_t len, const struct ca_issuer_info *iss,
    time_t now, struct rc_detail *d)
{
	struct parts p;
	struct der_elem seq, e;
	struct der s;
	struct der san[CA_MAX_NAMES];
	size_t nsan = 0;
	int rc, ku;

	if ((rc = walk_tbs(tbs, len, iss, &p, d)) != 0)
		return rc;
	if (p.nb < now - 48 * 3600 || p.nb > now + 300)
		return fail(d, "e_not_before_out_of_range",
		    "notBefore is more than 48 hours before or 5 minutes "
		    "after now");
	if ((int64_t)p.na - (int64_t)p.nb + 1 >
	    (int64_t)CA_SERVICE_VALIDITY_DAYS * 86400)
		return fail(d, "e_service_valid_time_too_long",
		    "validity over %d days", CA_SERVICE_VALIDITY_DAYS);
	if (p.na > iss->not_after)
		return fail(d, "e_validity_exceeds_issuer",
		    "notAfter is after the issuer's notAfter");
	if (p.attrs & ~(1u << A_CN))
		return fail(d, "e_service_subject_invalid_values",
		    "subject has attributes other than commonName");
	if (!(p.exts & (1u << X_KU)) || !p.ext[X_KU].critical)
		return fail(d, "e_sub_cert_key_usage_not_critical",
		    "keyUsage missing or not critical");
	if ((ku = ku_bits(&p)) < 0)
		return fail(d, "e_key_usage_malformed",
		    "keyUsage is not a DER named bit list");
	if (!(ku & KU_DIGSIG) ||
	    (ku & ~(KU_DIGSIG | (p.is_ec ? KU_KEYAGREE : KU_KEYENC))))
		return fail(d, "e_key_usage_incorrect_for_key_type",
		    "keyUsage is not digitalSignature (+keyEncipherment for "
		    "RSA)");
	if ((rc = check_eku(&p, d)) != 0)
		return rc;
	if (!(p.exts & (1u << X_BC)) || !p.ext[X_BC].critical ||
	    ext_inner(&p, X_BC, DER_SEQUENCE, &seq) != 0 ||
	    seq.body.len != 0)
		return fail(d, "e_sub_cert_not_is_ca",
		    "basicConstraints is not a critical cA FALSE");
	if (p.exts & (1u << X_CP))
		return fail(d, "e_service_certificate_policies_present",
		    "certificatePolicies in a service certificate");
	if (p.exts & (1u << X_TLSF))
		return fail(d, "e_service_tls_feature_present",
		    "tlsFeature in a service certificate");
	if (p.exts & ((1u << X_POISON) | (1u << X_SCTL)))
		return fail(d, "e_service_ct_extension_present",
		    "CT poison or SCT list in a service certificate");
	if ((rc = check_leaf_links(&p, iss, d)) != 0)
		return rc;

	/* subjectAltName: dNSNames ("localhost" allowed) and iPAddresses */
	if ((rc = san_names(&p, &s, d)) != 0)
		return rc;
	while ((rc = der_next(&s, &e)) == 0) {
		char name[256];
		struct rc_detail sub;

		if (nsan == CA_MAX_NAMES)
			return fail(d, "e_ext_san_too_many_names",
			    "more than %d names", CA_MAX_NAMES);
		if (e.tag == 0x87) {
			if (e.body.len != 4 && e.body.len != 16)
				return fail(d, "e_ext_san_ip_malformed",
				    "an iPAddress is not 4 or 16 octets");
		} else if (e.tag == 0x82) {
			if (e.body.len == 0 || e.body.len > 253 ||
			    memchr(e.body.p, 0, e.body.len) != NULL)
				return fail(d, "e_ext_san_dns_name_malformed",
				    "a dNSName is empty, too long or has NUL");
			memcpy(name, e.body.p, e.body.len);
			name[e.body.len] = '\0';
			sub.msg[0] = '\0';
			if (ca_ip_parse(name, NULL, NULL) == 0)
				return fail(d, "e_ext_san_dns_name_is_ip",
				    "dNSName '%s' is an IP address", name);
			if (ca_service_name_check(name, NULL, NULL, &sub) != 0)
				return fail_sub(d, &sub);
		} else {
			return fail(d, "e_ext_san_not_dns_name",
			    "subjectAltName has a name other than dNSName or "
			    "iPAddress");
		}
		for (size_t i = 0; i < nsan; i++)
			if (san[i].len == e.body.len &&
			    memcmp(san[i].p, e.body.p, e.body.len) == 0)
				return fail(d, "e_ext_san_duplicate_name",
				    "a name appears twice");
		san[nsan++] = e.body;
	}
	if (rc != RC_NOTFOUND)
		return fail(d, "e_ext_san_malformed",
		    "subjectAltName is malformed");
	if (nsan == 0)
		return fail(d, "e_ext_san_no_entries",
		    "subjectAltName is empty");
	if ((p.attrs & (1u << A_CN)) &&
	    !cn_in_san(&p.attr[A_CN].body, san, nsan))
		return fail(d, "e_subject_common_name_not_exactly_from_san",
		    "commonName is not one of the subjectAltName names");
	return 0;
}

/* ---- subscriber certificates (BR 7.1.2.7) -------------------------------- */

int
ca_lint_tbs_iss(const uint8_t *tbs, size_t len, int profile,
    const struct ca_issuer_info *iss, time_t now, struct rc_detail *d)
{
	return ca_lint_tbs_ips(tbs, len, profile, iss, now, NULL, 0, 0, d);
}

/* 1 when the iPAddress octets are those of one of the ips[] texts. */
static int
ip_allowed(const struct der *v, const char *const *ips, size_t nips)
{
	uint8_t ip[16];
	size_t n;

	for (size_t i = 0; i < nips; i++)
		if (ca_ip_parse(ips[i], ip, &n) == 0 && n == v->len &&
		    memcmp(ip, v->p, n) == 0)
			return 1;
	return 0;
}

/* 1 when the commonName is the canonical text of one SAN address. */
static int
cn_is_san_ip(const struct der *cn, const struct der *ips, size_t nips)
{
	char txt[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < nips; i++) {
		if (inet_ntop(ips[i].len == 4 ? AF_INET : AF_INET6,
		    ips[i].p, txt, sizeof(txt)) == NULL)
			continue;
		if (strlen(txt) == cn->len &&
		    memcmp(txt, cn->p, cn->len) == 0)
			return 1;
	}
	return 0;
}

int
ca_lint_tbs_ips(const uint8_t *tbs, size_t len, int profile,
    const struct ca_issuer_info *iss, time_t now, const char *const *ips,
    size_t nips, int trust_private, struct rc_detail *d)
{
	struct der sanip[CA_MAX_NAMES];
	size_t nip = 0;
	struct parts p;
	struct der_elem seq, e;
	struct der s;
	int rc, ku, max_days;
	const uint8_t *pol;
	size_t pol_len, nsan = 0;
	/* SAN names, as offsets into the TBS, for the duplicate and CN
	 * checks */
	struct der san[CA_MAX_NAMES];
	struct rc_detail sub;

	if (profile == CA_PROFILE_SERVICE)
		return lint_service(tbs, len, iss, now, d);
	if (profile != CA_PROFILE_DV && profile != CA_PROFILE_OV &&
	    profile != CA_PROFILE_EV)
		return fail(d, "e_profile_unknown", "unknown profile %d",
		    profile);
	if ((rc = walk_tbs(tbs, len, iss, &p, d)) != 0)
		return rc;

	/* validity (BR 7.1.2.7, 6.3.2) */
	if (p.nb < now - 48 * 3600 || p.nb > now + 300)
		return fail(d, "e_not_before_out_of_range",
		    "notBefore is more than 48 hours before or 5 minutes "
		    "after now");
	max_days = ca_cal_max_validity_days(p.nb);
	/* RFC 5280 4.1.2.5: the period includes both ends */
	if ((int64_t)p.na - (int64_t)p.nb + 1 > (int64_t)max_days * 86400)
		return fail(d, "e_sub_cert_valid_time_too_long",
		    "validity of %lld seconds is over the %d days allowed",
		    (long long)((int64_t)p.na - (int64_t)p.nb + 1), max_days);
	if (p.na > iss->not_after)
		return fail(d, "e_validity_exceeds_issuer",
		    "notAfter is after the issuer's notAfter");

	/* subject (BR 7.1.2.7.2-4, EV Guidelines 9.2) */
	if (profile == CA_PROFILE_DV) {
		if (p.attrs & (1u << A_O))
			return fail(d, "e_cab_dv_conflicts_with_org",
			    "DV subject has organizationName");
		if (p.attrs & ~(1u << A_CN))
			return fail(d, "e_cab_dv_subject_invalid_values",
			    "DV subject has attributes other than "
			    "commonName");
	} else {
		const char *pfx = profile == CA_PROFILE_EV ? "e_ev" :
		    "e_cab_ov";
		char check[64];

		if (!(p.attrs & (1u << A_O))) {
			snprintf(check, sizeof(check), "%s_requires_org", pfx);
			return fail(d, check, "subject lacks organizationName");
		}
		if (!(p.attrs & (1u << A_C))) {
			snprintf(check, sizeof(check), "%s_requires_country",
			    pfx);
			return fail(d, check, "subject lacks countryName");
		}
		if (!(p.attrs & ((1u << A_L) | (1u << A_ST)))) {
			snprintf(check, sizeof(check),
			    "%s_requires_locality_or_state", pfx);
			return fail(d, check, "subject has neither "
			    "localityName nor stateOrProvinceName");
		}
		if (profile == CA_PROFILE_OV &&
		    (p.attrs & ((1u << A_SERIAL) | (1u << A_BUSINESS) |
		    (1u << A_JUR_C) | (1u << A_JUR_ST) | (1u << A_JUR_L))))
			return fail(d, "e_cab_ov_subject_invalid_values",
			    "OV subject has EV attributes");
		if (profile == CA_PROFILE_EV) {
			if (!(p.attrs & (1u << A_BUSINESS)))
				return fail(d, "e_ev_business_category_missing",
				    "subject lacks businessCategory");
			if (!(p.attrs & (1u << A_JUR_C)))
				return fail(d, "e_ev_jurisdiction_country_"
				    "missing", "subject lacks "
				    "jurisdictionCountryName");
			if (!(p.attrs & (1u << A_SERIAL)))
				return fail(d, "e_ev_serial_number_missing",
				    "subject lacks serialNumber");
		}
	}

	/* public key and keyUsage (BR 7.1.2.7.11) */
	if (!(p.exts & (1u << X_KU)))
		return fail(d, "e_sub_cert_key_usage_missing",
		    "keyUsage missing");
	if (!p.ext[X_KU].critical)
		return fail(d, "e_sub_cert_key_usage_not_critical",
		    "keyUsage is not critical");
	if ((ku = ku_bits(&p)) < 0)
		return fail(d, "e_key_usage_malformed",
		    "keyUsage is not a DER named bit list");
	if (ku & (KU_CERTSIGN | KU_CRLSIGN))
		return fail(d, "e_sub_cert_key_usage_cert_sign_bit_set",
		    "keyCertSign or cRLSign set");
	if (ku & ~(KU_DIGSIG | (p.is_ec ? KU_KEYAGREE : KU_KEYENC)))
		return fail(d, "e_key_usage_incorrect_for_key_type",
		    "keyUsage bits not allowed for an %s key",
		    p.is_ec ? "EC" : "RSA");
	if (!(ku & KU_DIGSIG))
		return fail(d, "e_sub_cert_key_usage_missing_digital_"
		    "signature", "digitalSignature not set");

	if ((rc = check_eku(&p, d)) != 0)
		return rc;

	/* basicConstraints: cA FALSE, no pathLen (BR 7.1.2.7.8) */
	if (!(p.exts & (1u << X_BC)))
		return fail(d, "e_sub_cert_basic_constraints_missing",
		    "basicConstraints missing");
	if (!p.ext[X_BC].critical)
		return fail(d, "e_sub_cert_basic_constraints_not_critical",
		    "basicConstraints is not critical");
	if (ext_inner(&p, X_BC, DER_SEQUENCE, &seq) != 0)
		return fail(d, "e_basic_constraints_malformed",
		    "basicConstraints is malformed");
	s = seq.body;
	if (der_optional(&s, 0x01, &e) == 1) {
		if (e.body.len == 1 && e.body.p[0] == 0xff)
			return fail(d, "e_sub_cert_not_is_ca",
			    "cA is TRUE in a subscriber certificate");
		return fail(d, "e_basic_constraints_malformed",
		    "cA FALSE is encoded (DER omits defaults)");
	}
	if (s.len != 0)
		return fail(d, "e_sub_cert_path_len_present",
		    "pathLenConstraint in a subscriber certificate");

	/* certificatePolicies: exactly the profile's CA/B OID (BR
	 * 7.1.2.7.9) */
	if (!(p.exts & (1u << X_CP)))
		return fail(d, "e_sub_cert_certificate_policies_missing",
		    "certificatePolicies missing");
	if (p.ext[X_CP].critical)
		return fail(d, "e_sub_cert_certificate_policies_critical",
		    "certificatePolicies is critical");
	pol = profile == CA_PROFILE_DV ? ca_oid_policy_dv :
	    profile == CA_PROFILE_OV ? ca_oid_policy_ov : ca_oid_policy_ev;
	pol_len = profile == CA_PROFILE_EV ? sizeof(ca_oid_policy_ev) :
	    sizeof(ca_oid_policy_dv);
	{
		struct der_elem pi, oid;
		struct der ps;

		if (ext_inner(&p, X_CP, DER_SEQUENCE, &seq) != 0)
			return fail(d, "e_sub_cert_policy_not_profile",
			    "certificatePolicies is malformed");
		s = seq.body;
		if (der_expect(&s, DER_SEQUENCE, &pi) != 0 || s.len != 0)
			return fail(d, "e_sub_cert_policy_not_profile",
			    "certificatePolicies does not hold exactly one "
			    "policy");
		ps = pi.body;
		if (der_expect(&ps, DER_OID, &oid) != 0 || ps.len != 0 ||
		    !oid_is(&oid, pol, pol_len))
			return fail(d, "e_sub_cert_policy_not_profile",
			    "policy is not the CA/Browser Forum %s OID",
			    ca_profile_name(profile));
	}

	if ((rc = check_leaf_links(&p, iss, d)) != 0)
		return rc;

	/* subjectAltName: dNSNames only (BR 7.1.2.7.12) */
	if ((rc = san_names(&p, &s, d)) != 0)
		return rc;
	while ((rc = der_next(&s, &e)) == 0) {
		char name[256];

		if (e.tag == 0x87 && profile == CA_PROFILE_DV && nips > 0) {
			/* RFC 8738 orders: BR 7.1.2.7.12 iPAddress */
			if (e.body.len != 4 && e.body.len != 16)
				return fail(d, "e_ext_san_ip_malformed",
				    "an iPAddress is not 4 or 16 octets");
			if (!ip_allowed(&e.body, ips, nips))
				return fail(d, "e_ext_san_ip_not_validated",
				    "an iPAddress is not one of the "
				    "validated addresses");
			if (!trust_private &&
			    ca_ip_reserved(e.body.p, e.body.len) != 0)
				return fail(d, "e_sub_cert_ip_reserved",
				    "an iPAddress is a reserved address (BR "
				    "7.1.2.7.12)");
			if (nsan + nip == CA_MAX_NAMES)
				return fail(d, "e_ext_san_too_many_names",
				    "more than %d names", CA_MAX_NAMES);
			for (size_t i = 0; i < nip; i++)
				if (sanip[i].len == e.body.len &&
				    memcmp(sanip[i].p, e.body.p,
				    e.body.len) == 0)
					return fail(d,
					    "e_ext_san_duplicate_name",
					    "an iPAddress appears twice");
			sanip[nip++] = e.body;
			continue;
		}
		if (e.tag != 0x82)
			return fail(d, "e_ext_san_not_dns_name",
			    "subjectAltName has a name other than dNSName");
		if (nsan + nip == CA_MAX_NAMES)
			return fail(d, "e_ext_san_too_many_names",
			    "more than %d names", CA_MAX_NAMES);
		if (e.body.len == 0 || e.body.len > 253 ||
		    memchr(e.body.p, 0, e.body.len) != NULL)
			return fail(d, "e_ext_san_dns_name_malformed",
			    "a dNSName is empty, too long or has NUL");
		memcpy(name, e.body.p, e.body.len);
		name[e.body.len] = '\0';
		sub.msg[0] = '\0';
		if (ca_dnsname_check(name, &sub) != 0)
			return fail_sub(d, &sub);
		if (profile == CA_PROFILE_EV && name[0] == '*')
			return fail(d, "e_ev_san_wildcard_present",
			    "EV certificate with wildcard '%s'", name);
		for (size_t i = 0; i < nsan; i++)
			if (san[i].len == e.body.len &&
			    memcmp(san[i].p, e.body.p, e.body.len) == 0)
				return fail(d, "e_ext_san_duplicate_name",
				    "'%s' appears twice", name);
		san[nsan++] = e.body;
	}
	if (rc != RC_NOTFOUND)
		return fail(d, "e_ext_san_malformed",
		    "subjectAltName is malformed");
	if (nsan + nip == 0)
		return fail(d, "e_ext_san_no_entries",
		    "subjectAltName is empty");

	/* commonName: one of the SAN names (BR 7.1.2.7.2), an address in
	 * its RFC 5952 / dotted-quad text; may be absent only when no name
	 * fits its 64 characters */
	if (p.attrs & (1u << A_CN)) {
		if (!cn_in_san(&p.attr[A_CN].body, san, nsan) &&
		    !cn_is_san_ip(&p.attr[A_CN].body, sanip, nip))
			return fail(d, "e_subject_common_name_not_exactly_"
			    "from_san", "commonName is not one of the "
			    "subjectAltName names");
	} else {
		for (size_t i = 0; i < nsan; i++)
			if (san[i].len <= 64)
				return fail(d, "e_subject_common_name_missing",
				    "no commonName although a name fits");
	}
	return 0;
}

int
ca_lint_tbs(const uint8_t *tbs, size_t len, int profile,
    const uint8_t *issuer_der, size_t issuer_len, time_t now,
    struct rc_detail *d)
{
	struct ca_issuer_info iss;

	if (tbs == NULL || issuer_der == NULL)
		return fail(d, "e_tbs_malformed", "no input");
	if (ca_issuer_info_parse(issuer_der, issuer_len, &iss) != 0)
		return fail(d, "e_issuer_malformed",
		    "the issuer certificate cannot be used");
	return ca_lint_tbs_iss(tbs, len, profile, &iss, now, d);
}

/* ---- CA certificates (BR 7.1.2.1, 7.1.2.2) ------------------------------- */

int
ca_lint_ca_tbs(const uint8_t *tbs, size_t len, int is_root,
    const struct ca_issuer_info *iss, time_t now, struct rc_detail *d)
{
	struct parts p;
	struct der_elem seq, e;
	struct der s;
	int rc, ku;

	if ((rc = walk_tbs(tbs, len, iss, &p, d)) != 0)
		return rc;
	if (p.nb < now - 48 * 3600 || p.nb > now + 300)
		return fail(d, "e_not_before_out_of_range",
		    "notBefore is more than 48 hours before or 5 minutes "
		    "after now");
	/* BR 6.3.2 / 7.1.2.1.1: a root of at most 25 years */
	if (p.na - p.nb + 1 > (time_t)9132 * 86400)
		return fail(d, "e_ca_valid_time_too_long",
		    "validity over 25 years");
	if (!is_root && p.na > iss->not_after)
		return fail(d, "e_validity_exceeds_issuer",
		    "notAfter is after the root's notAfter");
	if (!(p.attrs & (1u << A_C)))
		return fail(d, "e_ca_country_name_missing",
		    "subject lacks countryName");
	if (!(p.attrs & (1u << A_O)))
		return fail(d, "e_ca_organization_name_missing",
		    "subject lacks organizationName");
	if (!(p.attrs & (1u << A_CN)))
		return fail(d, "e_ca_common_name_missing",
		    "subject lacks commonName");
	if (p.attrs & ~((1u << A_C) | (1u << A_O) | (1u << A_CN)))
		return fail(d, "e_ca_subject_invalid_values",
		    "subject has attributes other than C, O, CN");
	if (is_root && !der_eq(&p.subject, iss->subject, iss->subject_len))
		return fail(d, "e_root_ca_not_self_issued",
		    "root subject is not its issuer");
	if (is_root && !der_eq(&p.spki, iss->spki, iss->spki_len))
		return fail(d, "e_root_ca_key_mismatch",
		    "root key is not the signing key");

	if (!(p.exts & (1u << X_BC)) || !p.ext[X_BC].critical)
		return fail(d, "e_basic_constraints_not_critical",
		    "basicConstraints missing or not critical");
	if (ext_inner(&p, X_BC, DER_SEQUENCE, &seq) != 0)
		return fail(d, "e_basic_constraints_malformed",
		    "basicConstraints is malformed");
	s = seq.body;
	if (der_optional(&s, 0x01, &e) != 1 || e.body.len != 1 ||
	    e.body.p[0] != 0xff)
		return fail(d, "e_ca_is_ca", "cA is not TRUE");
	if (is_root) {
		if (s.len != 0)
			return fail(d, "e_root_ca_path_len_present",
			    "root has a pathLenConstraint");
	} else {
		static const uint8_t zero[] = {0x02, 0x01, 0x00};

		if (der_next(&s, &e) != 0 || !der_eq(&e, zero, sizeof(zero)) ||
		    s.len != 0)
			return fail(d, "e_sub_ca_path_len_not_zero",
			    "pathLenConstraint is not 0");
	}
	if (!(p.exts & (1u << X_KU)) || !p.ext[X_KU].critical)
		return fail(d, "e_ca_key_usage_not_critical",
		    "keyUsage missing or not critical");
	if ((ku = ku_bits(&p)) < 0)
		return fail(d, "e_key_usage_malformed",
		    "keyUsage is not a DER named bit list");
	if (!(ku & KU_CERTSIGN))
		return fail(d, "e_ca_key_cert_sign_not_set",
		    "keyCertSign not set");
	if (!(ku & KU_CRLSIGN))
		return fail(d, "e_ca_crl_sign_not_set", "cRLSign not set");
	if (ku & ~(KU_CERTSIGN | KU_CRLSIGN | KU_DIGSIG))
		return fail(d, "e_ca_key_usage_bits_not_allowed",
		    "keyUsage has bits other than digitalSignature, "
		    "keyCertSign, cRLSign");
	if ((rc = check_ski(&p, "e_ca_subject_key_identifier_missing", d)) != 0)
		return rc;
	if (p.exts & (1u << X_SAN))
		return fail(d, "e_ca_san_present", "CA with subjectAltName");
	if (p.exts & (1u << X_TLSF))
		return fail(d, "e_ca_tls_feature_present", "CA with tlsFeature");
	if (p.exts & ((1u << X_POISON) | (1u << X_SCTL)))
		return fail(d, "e_ca_ct_extension_present",
		    "CA with a CT poison or SCT list");
	if (is_root) {
		if (p.exts & (1u << X_EKU))
			return fail(d, "e_root_ca_extended_key_usage_present",
			    "root with extKeyUsage");
		if (p.exts & (1u << X_CP))
			return fail(d, "e_root_ca_certificate_policies_present",
			    "root with certificatePolicies");
		if ((p.exts & (1u << X_AKI)) && (rc = check_aki(&p, iss, d)))
			return rc;
		return 0;
	}
	if (!(p.exts & (1u << X_AKI)))
		return fail(d, "e_ext_authority_key_identifier_missing",
		    "authorityKeyIdentifier missing");
	if ((rc = check_aki(&p, iss, d)) != 0)
		return rc;
	if ((rc = check_eku(&p, d)) != 0)
		return rc;
	if (!(p.exts & (1u << X_CP)) || p.ext[X_CP].critical)
		return fail(d, "e_sub_ca_certificate_policies_missing",
		    "certificatePolicies missing or critical");
	if (ext_inner(&p, X_CP, DER_SEQUENCE, &seq) != 0)
		return fail(d, "e_sub_ca_certificate_policies_malformed",
		    "certificatePolicies is malformed");
	s = seq.body;
	while (der_next(&s, &e) == 0) {
		struct der ps = e.body;
		struct der_elem oid;

		if (e.tag != DER_SEQUENCE || der_expect(&ps, DER_OID, &oid) ||
		    ps.len != 0 || !(oid_is(&oid, CA_OID(ca_oid_policy_dv)) ||
		    oid_is(&oid, CA_OID(ca_oid_policy_ov)) ||
		    oid_is(&oid, CA_OID(ca_oid_policy_ev))))
			return fail(d, "e_sub_ca_certificate_policies_"
			    "malformed", "a policy other than the CA/Browser "
			    "Forum OIDs");
	}
	if (!(p.exts & (1u << X_CRLDP)))
		return fail(d, "e_sub_ca_crl_distribution_points_missing",
		    "cRLDistributionPoints missing");
	if ((rc = check_crldp(&p, "e_sub_ca_crl_distribution_points_invalid",
	    d)) != 0)
		return rc;
	if (!(p.exts & (1u << X_AIA)))
		return fail(d, "e_sub_ca_aia_missing",
		    "authorityInfoAccess missing");
	return check_aia(&p, "e_sub_ca_aia_invalid", d);
}
