/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/ca/crl.c: revocation (serial normalisation, allowed
 * reasons per BR 7.2.2, double and unknown revocations), the CRL that
 * follows (entry and reason, signature checked with X509_CRL_verify and by
 * the openssl command line, cRLNumber increasing, OpenSSL's own revocation
 * check refusing the revoked certificate), the root CRL for a revoked CA
 * certificate, the refresh schedule, and the audit chain afterwards; a
 * keyCompromise revocation blocking the key and revoking its other
 * certificates.
 */
#include "ca/ca.h"
#include "ca_fixture.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

/* ---- environment: temp dir, store, signer, initialised CA ---------------- */

static int
setup(void **state)
{
	*state = ca_fixture_ca(0);
	return 0;
}

static int
teardown(void **state)
{
	ca_fixture_free(*state);
	return 0;
}

static X509_CRL *
read_crl(struct ca_fixture *e, const char *name)
{
	char *path = xasprintf("%s/%s.crl", e->crl_dir, name);
	FILE *f = fopen(path, "rb");
	X509_CRL *crl;

	assert_non_null(f);
	crl = d2i_X509_CRL_fp(f, NULL);
	fclose(f);
	free(path);
	assert_non_null(crl);
	return crl;
}

static long
crl_number(X509_CRL *crl)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL,
	    NULL);
	long v;

	assert_non_null(n);
	v = ASN1_INTEGER_get(n);
	ASN1_INTEGER_free(n);
	return v;
}

/* The reason of serial in crl: -1 when listed without reasonCode, -2 when
 * not listed. */
static int
crl_reason(X509_CRL *crl, const char *serial)
{
	STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);

	for (int i = 0; i < sk_X509_REVOKED_num(rev); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(rev, i);
		BIGNUM *bn = ASN1_INTEGER_to_BN(
		    X509_REVOKED_get0_serialNumber(r), NULL);
		char *hex = BN_bn2hex(bn);
		int match, reason = -1;
		ASN1_ENUMERATED *re;

		for (char *q = hex; *q; q++)
			if (*q >= 'A' && *q <= 'F')
				*q = (char)(*q - 'A' + 'a');
		match = strcmp(hex, serial) == 0;
		OPENSSL_free(hex);
		BN_free(bn);
		if (!match)
			continue;
		re = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
		if (re) {
			reason = (int)ASN1_ENUMERATED_get(re);
			ASN1_ENUMERATED_free(re);
		}
		return reason;
	}
	return -2;
}

/* `openssl crl -verify` against root + issuing, as the brief demands. */
static void
openssl_verify(struct ca_fixture *e, const char *name)
{
	char *cmd = xasprintf("openssl crl -inform DER -in %s/%s.crl "
	    "-CAfile %s -noout -verify 2>&1", e->crl_dir, name, e->cafile);
	FILE *p = popen(cmd, "r");
	char out[512] = "";
	size_t n;

	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out, "verify OK"));
	free(cmd);
}

/* OpenSSL's path validation with CRL checking. */
static int
verify_with_crl(struct ca_fixture *e, const struct ca_cert *c, X509_CRL *crl)
{
	const unsigned char *p = c->der;
	X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
	X509_STORE *xs = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *chain = sk_X509_new_null();
	int ok, err;

	X509_STORE_add_cert(xs, e->root);
	X509_STORE_add_crl(xs, crl);
	X509_STORE_set_flags(xs, X509_V_FLAG_CRL_CHECK);
	sk_X509_push(chain, e->issuing);
	X509_STORE_CTX_init(ctx, xs, x, chain);
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx),
	    e->conf.now + 60);
	ok = X509_verify_cert(ctx);
	err = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(xs);
	sk_X509_free(chain);
	X509_free(x);
	return ok == 1 ? 0 : err;
}

/* ---- tests --------------------------------------------------------------- */

/* A DV certificate of a key of its own (not e->key): a keyCompromise
 * revocation of e->key's certificates leaves it alone. */
static struct ca_cert *
issue_other_key(struct ca_fixture *e, const char *name)
{
	EVP_PKEY *mine = e->key;
	struct ca_cert *c;

	e->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(e->key);
	c = ca_fixture_issue_dv(e, name);
	EVP_PKEY_free(e->key);
	e->key = mine;
	return c;
}

static void
test_revoke(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_cert *a = ca_fixture_issue_dv(e, "a.example.com");
	struct ca_cert *b = issue_other_key(e, "b.example.com");
	struct rc_detail d = {""};
	X509_CRL *crl;
	char colons[64], *p = colons;
	long n1, n2;

	/* a and b are in the first CRL shard of the issuing CA */
	crl = read_crl(e, "issuing-1-0");
	n1 = crl_number(crl);
	assert_int_equal(verify_with_crl(e, a, crl), 0);
	X509_CRL_free(crl);

	/* upper case with colons and a leading zero octet is the same
	 * serial */
	p += sprintf(p, "00:");
	for (size_t i = 0; i < strlen(a->serial); i += 2)
		p += sprintf(p, "%c%c%s", a->serial[i] >= 'a' ?
		    a->serial[i] - 32 : a->serial[i], a->serial[i + 1] >= 'a' ?
		    a->serial[i + 1] - 32 : a->serial[i + 1],
		    i + 2 < strlen(a->serial) ? ":" : "");
	if (ca_revoke(e->ca, colons, ca_reason_parse("keyCompromise"),
	    "agent@example.com", NULL, &d) != 0)
		fail_msg("revoke %s: %s", colons, d.msg);

	crl = read_crl(e, "issuing-1-0");
	n2 = crl_number(crl);
	assert_true(n2 > n1);
	assert_int_equal(X509_CRL_get_version(crl), 1);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(e->issuing)),
	    1);
	assert_int_equal(crl_reason(crl, a->serial), 1);
	assert_int_equal(crl_reason(crl, b->serial), -2);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl),
	    e->conf.now), 0);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl),
	    e->conf.now + 7 * 86400), 0);
	{
		AUTHORITY_KEYID *akid = X509_CRL_get_ext_d2i(crl,
		    NID_authority_key_identifier, NULL, NULL);

		assert_non_null(akid);
		assert_int_equal(ASN1_OCTET_STRING_cmp(akid->keyid,
		    X509_get0_subject_key_id(e->issuing)), 0);
		AUTHORITY_KEYID_free(akid);
	}
	assert_int_equal(verify_with_crl(e, a, crl), X509_V_ERR_CERT_REVOKED);
	assert_int_equal(verify_with_crl(e, b, crl), 0);
	X509_CRL_free(crl);
	openssl_verify(e, "issuing-1-0");
	openssl_verify(e, "root");
	{
		struct store_cert sc;

		memset(&sc, 0, sizeof(sc));
		assert_int_equal(store_cert_get(e->st, a->serial, &sc), 0);
		assert_int_equal(sc.revoked, 1);
		assert_int_equal(sc.reason, 1);
		store_cert_clear(&sc);
	}

	/* again: RC_EXISTS; unknown: RC_NOTFOUND; not hex: RC_INVAL */
	assert_int_equal(ca_revoke(e->ca, a->serial, 1, "test", NULL, &d),
	    RC_EXISTS);
	assert_int_equal(ca_revoke(e->ca, "7fffffffffffffffffffffffffffffff",
	    1, "test", NULL, &d), RC_NOTFOUND);
	assert_int_equal(ca_revoke(e->ca, "xyz", 1, "test", NULL, &d),
	    RC_INVAL);
	assert_int_equal(ca_revoke(e->ca, NULL, 1, "test", NULL, &d), RC_INVAL);

	/* BR 7.2.2: certificateHold, removeFromCRL never; cACompromise
	 * not for a subscriber; codes that do not exist */
	assert_int_equal(ca_revoke(e->ca, b->serial,
	    ca_reason_parse("certificateHold"), "test", NULL, &d), RC_INVAL);
	assert_int_equal(ca_revoke(e->ca, b->serial,
	    ca_reason_parse("removeFromCRL"), "test", NULL, &d), RC_INVAL);
	assert_int_equal(ca_revoke(e->ca, b->serial,
	    ca_reason_parse("cACompromise"), "test", NULL, &d), RC_INVAL);
	assert_int_equal(ca_revoke(e->ca, b->serial, 7, "test", NULL, &d),
	    RC_INVAL);
	assert_int_equal(ca_revoke(e->ca, b->serial, -1, "test", NULL, &d),
	    RC_INVAL);
	/* unspecified: listed without a reasonCode */
	assert_int_equal(ca_revoke(e->ca, b->serial, 0, "test", NULL, &d), 0);
	crl = read_crl(e, "issuing-1-0");
	assert_true(crl_number(crl) > n2);
	assert_int_equal(crl_reason(crl, a->serial), 1);
	assert_int_equal(crl_reason(crl, b->serial), -1);
	X509_CRL_free(crl);
	openssl_verify(e, "issuing-1-0");
	ca_cert_free(a);
	ca_cert_free(b);
}

/* SHA-256 of c's SubjectPublicKeyInfo, by OpenSSL */
static int
spki_hash(const struct ca_cert *c, uint8_t h[32])
{
	const unsigned char *p = c->der;
	X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
	unsigned char *spki = NULL;
	int n;

	assert_non_null(x);
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
	X509_free(x);
	if (n <= 0)
		return -1;
	SHA256(spki, (size_t)n, h);
	OPENSSL_free(spki);
	return 0;
}

struct audit_q {
	const char *serial, *key, *value;
	int found;
};

static int
audit_row(const struct store_audit_entry *a, void *arg)
{
	struct audit_q *q = arg;
	const char *at;

	if (strcmp(a->action, "cert.revoke") != 0 || a->details == NULL ||
	    strstr(a->object, q->serial) == NULL)
		return 0;
	at = strstr(a->details, q->key);
	if (at != NULL && (q->value == NULL ||
	    strncmp(at + strlen(q->key), q->value, strlen(q->value)) == 0))
		q->found = 1;
	return 0;
}

/* Whether serial's cert.revoke audit entry has key (then value, if not
 * NULL) in its details. */
static int
audit_has(struct ca_fixture *e, const char *serial, const char *key,
    const char *value)
{
	struct audit_q q = {serial, key, value, 0};

	assert_int_equal(store_audit_list(e->st, 1, audit_row, &q), 0);
	return q.found;
}

/* the revocation status of serial: -1 valid, else its reason */
static int
status_of(struct ca_fixture *e, const char *serial)
{
	struct store_cert sc;
	int r;

	memset(&sc, 0, sizeof(sc));
	assert_int_equal(store_cert_get(e->st, serial, &sc), 0);
	r = sc.revoked ? sc.reason : -1;
	store_cert_clear(&sc);
	return r;
}

/*
 * keyCompromise (BR 4.9.1.1 (3), 6.1.1.3 (4)): the key is blocked in the
 * revocation's transaction, every other live certificate of it is revoked
 * with the same reason (audited as following the first), a CSR of it is
 * refused from then on; other reasons and other keys are left alone.
 */
static void
test_key_compromise(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_cert *a = ca_fixture_issue_dv(e, "a.example.com");
	struct ca_cert *b = ca_fixture_issue_dv(e, "b.example.com");
	struct ca_cert *c = issue_other_key(e, "c.example.com");
	struct ca_cert *x = NULL;
	struct ca_csr *csr;
	struct ca_issue_req req;
	struct rc_detail d = {""};
	uint8_t h[32];
	char by[41];
	X509_CRL *crl;

	/* superseded: nothing is blocked */
	assert_int_equal(ca_revoke(e->ca, c->serial, 4, "test", NULL, &d), 0);
	assert_int_equal(spki_hash(c, h), 0);
	assert_int_equal(store_blocked_key_get(e->st, h, by), RC_NOTFOUND);

	/* a for keyCompromise: b, of the same key, follows */
	if (ca_revoke(e->ca, a->serial, 1, "agent@example.com", NULL, &d) != 0)
		fail_msg("revoke: %s", d.msg);
	assert_int_equal(status_of(e, a->serial), 1);
	assert_int_equal(status_of(e, b->serial), 1);
	assert_int_equal(status_of(e, c->serial), 4);
	assert_int_equal(spki_hash(a, h), 0);
	assert_int_equal(store_blocked_key_get(e->st, h, by), 0);
	assert_string_equal(by, a->serial);
	crl = read_crl(e, "issuing-1-0");
	assert_int_equal(crl_reason(crl, a->serial), 1);
	assert_int_equal(crl_reason(crl, b->serial), 1);
	X509_CRL_free(crl);
	assert_true(audit_has(e, b->serial, "\"same_key_as\":\"",
	    a->serial));
	assert_true(audit_has(e, a->serial, "\"spki_sha256\":\"", NULL));

	/* no new certificate of the key */
	csr = ca_fixture_dv_csr(e, "again.example.com");
	memset(&req, 0, sizeof(req));
	req.profile = CA_PROFILE_DV;
	req.csr = csr;
	req.actor = "test";
	assert_int_equal(ca_issue(e->ca, &req, &x, &d), RC_WEAKKEY);
	assert_null(x);
	assert_non_null(strstr(d.msg, "known to be compromised"));
	assert_non_null(strstr(d.msg, a->serial));
	ca_csr_free(csr);
	/* c's key (superseded) still issues */
	ca_cert_free(issue_other_key(e, "other.example.com"));

	/* again: RC_EXISTS, and nothing changes */
	assert_int_equal(ca_revoke(e->ca, b->serial, 1, "test", NULL, &d),
	    RC_EXISTS);
	ca_cert_free(a);
	ca_cert_free(b);
	ca_cert_free(c);
}

/* A CSR of key with subject CN cn (n bytes, -1: strlen), and a second CN
 * cn2 unless NULL; DER in *der (OPENSSL_free). */
static int
proof_csr_n(EVP_PKEY *key, const char *cn, int n, const char *cn2,
    unsigned char **der)
{
	X509_REQ *r = X509_REQ_new();
	X509_NAME *name = X509_REQ_get_subject_name(r);
	int len;

	X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)cn, n, -1, 0);
	if (cn2 != NULL)
		X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
		    (const unsigned char *)cn2, -1, -1, 0);
	X509_REQ_set_pubkey(r, key);
	assert_true(X509_REQ_sign(r, key, EVP_sha256()) > 0);
	*der = NULL;
	len = i2d_X509_REQ(r, der);
	X509_REQ_free(r);
	assert_true(len > 0);
	return len;
}

static int
proof_csr(EVP_PKEY *key, const char *cn, unsigned char **der)
{
	return proof_csr_n(key, cn, -1, NULL, der);
}

/* der[0..len) and then extra zero bytes, as one PEM CERTIFICATE REQUEST
 * (one base64 line) in a new string */
static char *
pem_of(const unsigned char *der, int len, int extra)
{
	unsigned char *in = xcalloc(1, (size_t)len + 3);
	size_t b64 = ((size_t)len + 3) / 3 * 4 + 8;
	char *out = xmalloc(b64 + 80);
	int n;

	memcpy(in, der, (size_t)len);
	n = sprintf(out, "-----BEGIN CERTIFICATE REQUEST-----\n");
	n += EVP_EncodeBlock((unsigned char *)out + n, in, len + extra);
	sprintf(out + n, "\n-----END CERTIFICATE REQUEST-----\n");
	free(in);
	return out;
}

/*
 * A key compromise reported with proof (ca_key_proof, ca_block_key): the
 * CSR's signature and, when asked, its exact CN; then the key is blocked
 * and its live certificates revoked.
 */
static void
test_key_report(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_cert *a = ca_fixture_issue_dv(e, "a.example.com");
	struct ca_cert *x = NULL;
	struct ca_csr *csr;
	struct ca_issue_req req;
	struct rc_detail d = {""};
	unsigned char *der = NULL, *mine = NULL;
	uint8_t *spki = NULL;
	size_t spki_len = 0, revoked = 9;
	int len, mlen;
	static const char cn[] = "Proof of key compromise for certdesk";

	len = proof_csr(e->key, cn, &der);
	mlen = i2d_PUBKEY(e->key, &mine);
	/* its CN must be the one asked for */
	assert_int_equal(ca_key_proof(der, (size_t)len, "something else",
	    &spki, &spki_len, &d), RC_BADCSR);
	assert_non_null(strstr(d.msg, "must be exactly"));
	/* trailing bytes, garbage, empty, a broken signature */
	{
		unsigned char *more = xmalloc((size_t)len + 1);

		memcpy(more, der, (size_t)len);
		more[len] = 0;
		assert_int_equal(ca_key_proof(more, (size_t)len + 1, NULL,
		    &spki, &spki_len, &d), RC_BADCSR);
		memcpy(more, der, (size_t)len);
		more[len - 3] ^= 0x40;
		assert_int_equal(ca_key_proof(more, (size_t)len, NULL, &spki,
		    &spki_len, &d), RC_BADCSR);
		assert_non_null(strstr(d.msg, "does not verify"));
		free(more);
	}
	/* in PEM: as good, but not with bytes after the request (OpenSSL's
	 * PEM reader would ignore them; a broken last base64 quantum such as
	 * "AA==" made "AAAA" adds two) */
	{
		char *pem = pem_of(der, len, 0);

		assert_int_equal(ca_key_proof((const uint8_t *)pem,
		    strlen(pem), cn, &spki, &spki_len, &d), 0);
		free(spki);
		spki = NULL;
		free(pem);
		pem = pem_of(der, len, 2);
		assert_int_equal(ca_key_proof((const uint8_t *)pem,
		    strlen(pem), cn, &spki, &spki_len, &d), RC_BADCSR);
		assert_null(spki);
		free(pem);
	}
	/* the CN exactly: not with a NUL and more after it, not twice */
	{
		unsigned char *odd = NULL;
		char withnul[sizeof(cn) + 2];
		int olen;

		memcpy(withnul, cn, sizeof(cn));
		memcpy(withnul + sizeof(cn), "x", 2);
		olen = proof_csr_n(e->key, withnul, (int)sizeof(withnul) - 1,
		    NULL, &odd);
		assert_int_equal(ca_key_proof(odd, (size_t)olen, cn, &spki,
		    &spki_len, &d), RC_BADCSR);
		assert_non_null(strstr(d.msg, "must be exactly"));
		OPENSSL_free(odd);
		odd = NULL;
		olen = proof_csr_n(e->key, cn, -1, cn, &odd);
		assert_int_equal(ca_key_proof(odd, (size_t)olen, cn, &spki,
		    &spki_len, &d), RC_BADCSR);
		OPENSSL_free(odd);
	}
	assert_int_equal(ca_key_proof((const uint8_t *)"-----BEGIN junk",
	    15, NULL, &spki, &spki_len, &d), RC_BADCSR);
	assert_int_equal(ca_key_proof(der, 0, NULL, &spki, &spki_len, &d),
	    RC_BADCSR);
	assert_null(spki);
	/* the right one: its key */
	assert_int_equal(ca_key_proof(der, (size_t)len, cn, &spki, &spki_len,
	    &d), 0);
	assert_int_equal(spki_len, (size_t)mlen);
	assert_memory_equal(spki, mine, spki_len);

	assert_int_equal(ca_block_key(e->ca, spki, spki_len, "test",
	    "a \"quoted\" report", NULL, &revoked, &d), 0);
	assert_int_equal(revoked, 1);
	assert_int_equal(status_of(e, a->serial), 1);
	csr = ca_fixture_dv_csr(e, "b.example.com");
	memset(&req, 0, sizeof(req));
	req.profile = CA_PROFILE_DV;
	req.csr = csr;
	req.actor = "test";
	assert_int_equal(ca_issue(e->ca, &req, &x, &d), RC_WEAKKEY);
	assert_non_null(strstr(d.msg, "reported it compromised"));
	ca_csr_free(csr);
	{
		int64_t count = 0, bad = -1;

		assert_int_equal(store_audit_verify(e->st, &count, &bad), 0);
	}
	free(spki);
	OPENSSL_free(der);
	OPENSSL_free(mine);
	ca_cert_free(a);
}

/* What the hook of ca_block_key and ca_revoke saw, and what it answers. */
struct hook_seen {
	int calls, fail;
	size_t n;
	char serials[4][41];
	char requested[41];	/* "" when NULL */
	char spki[65];
	int revoked_in_tx;	/* the revocations visible through st */
};

static int
block_hook(struct store *st, const struct ca_key_revoked *r, void *arg)
{
	struct hook_seen *h = arg;

	h->calls++;
	h->n = r->n;
	h->revoked_in_tx = 0;
	snprintf(h->requested, sizeof(h->requested), "%s",
	    r->requested ? r->requested : "");
	snprintf(h->spki, sizeof(h->spki), "%s", r->spki_sha256);
	for (size_t i = 0; i < r->n && i < 4; i++) {
		struct store_cert sc;

		memset(&sc, 0, sizeof(sc));
		snprintf(h->serials[i], 41, "%s", r->v[i].serial);
		assert_true(r->v[i].issuer_id > 0);
		if (store_cert_get(st, r->v[i].serial, &sc) == 0 &&
		    sc.revoked && sc.reason == 1 && sc.revoked_at == r->when)
			h->revoked_in_tx++;
		store_cert_clear(&sc);
	}
	if (h->fail)
		return RC_DB;
	return store_audit_append(st, "test", "test.hook", "key", "{}");
}

struct action_q {
	const char *action;
	int n;
};

static int
action_row(const struct store_audit_entry *a, void *arg)
{
	struct action_q *q = arg;

	q->n += strcmp(a->action, q->action) == 0;
	return 0;
}

/* How many audit entries have this action. */
static int
audit_count(struct ca_fixture *e, const char *action)
{
	struct action_q q = {action, 0};

	assert_int_equal(store_audit_list(e->st, 1, action_row, &q), 0);
	return q.n;
}

/*
 * ca_block_key with a hook (the ra's mail to the reporter and the
 * subscribers, BR 4.9.5): the key blocked and all its live certificates
 * revoked in one transaction with what the hook writes. A hook that
 * fails undoes all of it: no key blocked with its mail lost.
 */
static void
test_block_key_hook(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_cert *a = ca_fixture_issue_dv(e, "a.example.com");
	struct ca_cert *b = ca_fixture_issue_dv(e, "b.example.com");
	struct hook_seen h;
	struct ca_block_hook hook = {block_hook, &h};
	struct rc_detail d = {""};
	unsigned char *spki = NULL;
	char why[CA_KEY_WHY_MAX];
	size_t revoked = 9;
	int len = i2d_PUBKEY(e->key, &spki);

	assert_true(len > 0);
	memset(&h, 0, sizeof(h));
	h.fail = 1;
	assert_int_equal(ca_block_key(e->ca, spki, (size_t)len, "test",
	    "evidence", &hook, &revoked, &d), RC_DB);
	assert_int_equal(revoked, 0);
	assert_true(h.calls >= 1);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.revoked_in_tx, 2);
	/* rolled back: nothing blocked, nothing revoked, nothing audited */
	assert_int_equal(status_of(e, a->serial), -1);
	assert_int_equal(status_of(e, b->serial), -1);
	assert_int_equal(ca_key_blocked(e->st, spki, (size_t)len, why), 0);
	assert_int_equal(audit_count(e, "key.compromised"), 0);
	assert_int_equal(audit_count(e, "test.hook"), 0);

	memset(&h, 0, sizeof(h));
	assert_int_equal(ca_block_key(e->ca, spki, (size_t)len, "test",
	    "evidence", &hook, &revoked, &d), 0);
	assert_int_equal(revoked, 2);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.revoked_in_tx, 2);
	assert_string_equal(h.requested, "");
	{
		uint8_t hh[32];
		char hex[65];

		assert_int_equal(spki_hash(a, hh), 0);
		hex_encode(hh, 32, hex);
		assert_string_equal(h.spki, hex);
	}
	assert_true((strcmp(h.serials[0], a->serial) == 0 &&
	    strcmp(h.serials[1], b->serial) == 0) ||
	    (strcmp(h.serials[0], b->serial) == 0 &&
	    strcmp(h.serials[1], a->serial) == 0));
	assert_int_equal(status_of(e, a->serial), 1);
	assert_int_equal(status_of(e, b->serial), 1);
	assert_int_equal(ca_key_blocked(e->st, spki, (size_t)len, why), 1);
	assert_int_equal(audit_count(e, "key.compromised"), 1);
	assert_int_equal(audit_count(e, "test.hook"), 1);
	/* each revocation audited, naming the key */
	assert_true(audit_has(e, a->serial, "\"spki_sha256\":\"", NULL));
	assert_true(audit_has(e, b->serial, "\"reason\":\"",
	    "keyCompromise"));
	/* and the CRL lists them */
	{
		X509_CRL *crl = read_crl(e, "issuing-1-0");

		assert_int_equal(crl_reason(crl, a->serial), 1);
		assert_int_equal(crl_reason(crl, b->serial), 1);
		X509_CRL_free(crl);
	}

	/* again: the key stays blocked, nothing left to revoke; the hook
	 * still runs (the reporter is told so) */
	memset(&h, 0, sizeof(h));
	assert_int_equal(ca_block_key(e->ca, spki, (size_t)len, "test",
	    "again", &hook, &revoked, &d), 0);
	assert_int_equal(revoked, 0);
	assert_int_equal(h.calls, 1);
	assert_int_equal(h.n, 0);
	{
		int64_t count = 0, bad = -1;

		assert_int_equal(store_audit_verify(e->st, &count, &bad), 0);
	}
	OPENSSL_free(spki);
	ca_cert_free(a);
	ca_cert_free(b);
}

/*
 * ca_revoke for keyCompromise with a hook (the ra's mail to the
 * subscribers of the key's other certificates): the certificate, the key
 * block and every other live certificate of the key are revoked in one
 * transaction with what the hook writes, the requested one first; a hook
 * that fails undoes all of it. Another reason ignores the hook.
 */
static void
test_revoke_key_hook(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_cert *a = ca_fixture_issue_dv(e, "a.example.com");
	struct ca_cert *b = ca_fixture_issue_dv(e, "b.example.com");
	struct ca_cert *c = issue_other_key(e, "c.example.com");
	struct hook_seen h;
	struct ca_block_hook hook = {block_hook, &h};
	struct rc_detail d = {""};
	uint8_t hh[32];
	char by[41];

	memset(&h, 0, sizeof(h));
	assert_int_equal(ca_revoke(e->ca, c->serial, 4, "test", &hook, &d),
	    0);
	assert_int_equal(h.calls, 0);

	h.fail = 1;
	assert_int_equal(ca_revoke(e->ca, a->serial, 1, "test", &hook, &d),
	    RC_DB);
	assert_true(h.calls >= 1);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.revoked_in_tx, 2);
	/* rolled back: nothing revoked, the key not blocked */
	assert_int_equal(status_of(e, a->serial), -1);
	assert_int_equal(status_of(e, b->serial), -1);
	assert_int_equal(spki_hash(a, hh), 0);
	assert_int_equal(store_blocked_key_get(e->st, hh, by), RC_NOTFOUND);
	assert_int_equal(audit_count(e, "test.hook"), 0);

	memset(&h, 0, sizeof(h));
	assert_int_equal(ca_revoke(e->ca, a->serial, 1, "test", &hook, &d), 0);
	assert_int_equal(h.calls, 1);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.revoked_in_tx, 2);
	assert_string_equal(h.requested, a->serial);
	assert_string_equal(h.serials[0], a->serial);
	assert_string_equal(h.serials[1], b->serial);
	assert_int_equal(status_of(e, a->serial), 1);
	assert_int_equal(status_of(e, b->serial), 1);
	assert_int_equal(store_blocked_key_get(e->st, hh, by), 0);
	assert_string_equal(by, a->serial);
	assert_int_equal(audit_count(e, "test.hook"), 1);
	assert_true(audit_has(e, b->serial, "\"same_key_as\":\"",
	    a->serial));
	{
		X509_CRL *crl = read_crl(e, "issuing-1-0");

		assert_int_equal(crl_reason(crl, a->serial), 1);
		assert_int_equal(crl_reason(crl, b->serial), 1);
		X509_CRL_free(crl);
	}
	ca_cert_free(a);
	ca_cert_free(b);
	ca_cert_free(c);
}

/* A shard with many revoked certificates (rows straight into the store,
 * in one transaction: what a mass revocation leaves) */
struct many_revoked {
	int64_t issuer_id, shard;
	int n;
	time_t when;
};

static int
many_revoked_tx(struct store *st, void *arg)
{
	const struct many_revoked *m = arg;
	uint8_t der[8] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
	struct store_cert c;
	int rc;

	for (int i = 0; i < m->n; i++) {
		memset(&c, 0, sizeof(c));
		/* 20-octet serials, the longest RFC 5280 allows */
		snprintf(c.serial, sizeof(c.serial), "7e%038x", i);
		c.issuer_id = m->issuer_id;
		c.profile = "dv";
		c.names = "many.example.com";
		c.not_before = m->when - 60;
		c.not_after = m->when + 86400 * 90;
		c.der = der;
		c.der_len = sizeof(der);
		c.has_crl_shard = 1;
		c.crl_shard = m->shard;
		if ((rc = store_cert_add(st, &c)) != 0 ||
		    (rc = store_revoke(st, c.serial, 1, m->when)) != 0)
			return rc;
	}
	return 0;
}

/*
 * A shard's CRL with tens of thousands of entries (an incident) is still
 * signed and published: the signer takes a TBSCertList of a full shard.
 * It once refused anything over 256 KiB, about 5,000 revocations.
 */
static void
test_big_shard_crl(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_cert *a = ca_fixture_issue_dv(e, "a.example.com");
	struct many_revoked m = {e->issuing_id, 0, 20000, time(NULL)};
	struct rc_detail d = {""};
	X509_CRL *crl;

	assert_int_equal(store_cert_get_shard(e->st, a->serial, &m.shard), 0);
	assert_int_equal(store_tx(e->st, many_revoked_tx, &m), 0);
	if (ca_crl_publish_shard(e->ca, e->issuing_id, m.shard, &d) != 0)
		fail_msg("publish: %s", d.msg);
	crl = read_crl(e, "issuing-1-0");
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)),
	    m.n);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(e->issuing)),
	    1);
	X509_CRL_free(crl);
	ca_cert_free(a);
}

static void
test_revoke_ca(void **state)
{
	struct ca_fixture *e = *state;
	struct rc_detail d = {""};
	BIGNUM *bn;
	char *hex;
	X509_CRL *crl;
	long root_before;
	int reason;

	crl = read_crl(e, "root");
	root_before = crl_number(crl);
	X509_CRL_free(crl);
	/* the root is never revoked */
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(e->root), NULL);
	hex = BN_bn2hex(bn);
	assert_int_equal(ca_revoke(e->ca, hex, 1, "test", NULL, &d), RC_INVAL);
	OPENSSL_free(hex);
	BN_free(bn);

	/* the issuing CA goes on the root's CRL, with a reason */
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(e->issuing), NULL);
	hex = BN_bn2hex(bn);
	assert_int_equal(ca_revoke(e->ca, hex, 0, "test", NULL, &d), RC_INVAL);
	if (ca_revoke(e->ca, hex, 2, "test", NULL, &d) != 0)
		fail_msg("revoke CA: %s", d.msg);
	for (char *q = hex; *q; q++)
		if (*q >= 'A' && *q <= 'F')
			*q = (char)(*q - 'A' + 'a');
	crl = read_crl(e, "root");
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(e->root)), 1);
	reason = crl_reason(crl, hex);
	assert_int_equal(reason, 2);
	assert_true(crl_number(crl) > root_before);
	X509_CRL_free(crl);
	openssl_verify(e, "root");
	OPENSSL_free(hex);
	BN_free(bn);
}

static void
test_publish_and_refresh(void **state)
{
	struct ca_fixture *e = *state;
	struct rc_detail d = {""};
	struct store_crl c;
	X509_CRL *crl;
	long before, root_before;

	crl = read_crl(e, "issuing-1");
	before = crl_number(crl);
	X509_CRL_free(crl);
	crl = read_crl(e, "root");
	root_before = crl_number(crl);
	X509_CRL_free(crl);
	/* each publication a higher number (the clock in microseconds, see
	 * store_issuer_next_crl_number) */
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(ca_crl_publish(e->ca, e->issuing_id, &d), 0);
		crl = read_crl(e, "issuing-1");
		assert_true(crl_number(crl) > before);
		before = crl_number(crl);
		X509_CRL_free(crl);
	}
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_crl_latest(e->st, e->issuing_id, &c), 0);
	assert_int_equal(c.number, before);
	store_crl_clear(&c);

	/* fresh CRLs: nothing to do; max_age 0: every issuer */
	assert_int_equal(ca_crl_refresh(e->ca, 3600, &d), 0);
	crl = read_crl(e, "issuing-1");
	assert_int_equal(crl_number(crl), before);
	X509_CRL_free(crl);
	assert_int_equal(ca_crl_refresh(e->ca, 0, &d), 0);
	crl = read_crl(e, "issuing-1");
	assert_true(crl_number(crl) > before);
	X509_CRL_free(crl);
	crl = read_crl(e, "root");
	assert_true(crl_number(crl) > root_before);
	X509_CRL_free(crl);
	/* an issuer that does not exist */
	assert_true(ca_crl_publish(e->ca, 9999, &d) != 0);
	openssl_verify(e, "issuing-1");
}

struct counts {
	int issue, revoke, crl, keygen;
};

static int
count(const struct store_audit_entry *a, void *arg)
{
	struct counts *c = arg;

	if (strcmp(a->action, "cert.issue") == 0)
		c->issue++;
	else if (strcmp(a->action, "cert.revoke") == 0)
		c->revoke++;
	else if (strcmp(a->action, "crl.publish") == 0)
		c->crl++;
	else if (strcmp(a->action, "key.generate") == 0)
		c->keygen++;
	return 0;
}

static void
test_audit_chain(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_cert *a = ca_fixture_issue_dv(e, "audit.example.com");
	struct rc_detail d = {""};
	struct counts c = {0, 0, 0, 0};
	int64_t n = 0, bad = -1;

	assert_int_equal(ca_revoke(e->ca, a->serial, 4, "test", NULL, &d), 0);
	assert_int_equal(store_audit_list(e->st, 1, count, &c), 0);
	assert_int_equal(c.issue, 1);
	assert_int_equal(c.revoke, 1);
	/* two at init, the first of the new CRL shard, one after revoke */
	assert_int_equal(c.crl, 4);
	assert_int_equal(c.keygen, 2);
	assert_int_equal(store_audit_verify(e->st, &n, &bad), 0);
	assert_true(n >= 8);
	ca_cert_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_compromise, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_key_report, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_revoke_key_hook, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_block_key_hook, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_revoke_ca, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_big_shard_crl, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_publish_and_refresh, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_audit_chain, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
