/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/ca/ocsp.c (RFC 6960): the pre-signed response of a new
 * certificate (good, verified by OpenSSL's OCSP_basic_verify against the
 * issuing CA), the response after revocation (revoked, time and reason),
 * the signed "unknown" answer, the worker's re-signing, the request parser
 * with requests made by OpenSSL (nonce ignored, several certificates and
 * other hash algorithms) and with every truncation and garbage, the
 * unsigned error responses, the signer refusing a ResponseData for another
 * issuer, CRL shards (numbering, IDP, the shard named in the CRL DP) and
 * the linter accepting only the sharded CRL DP.
 */
#include "ca/ca_int.h"
#include "ca_fixture.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/xmalloc.h"

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
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

#define BASE CA_FIXTURE_BASE

/* ---- environment: temp dir, store, signer, initialised CA ---------------- */

static int
setup(void **state)
{
	*state = ca_fixture_ca(1);
	return 0;
}

static int
teardown(void **state)
{
	ca_fixture_free(*state);
	return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static OCSP_RESPONSE *
d2i_resp(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)len);

	assert_non_null(r);
	assert_true(p == der + len);
	return r;
}

/* Status of the single response after OCSP_basic_verify against the
 * issuing CA (anchored by the root); reason and times when wanted. */
static int
resp_status(struct ca_fixture *e, const uint8_t *der, size_t len, int *reason,
    time_t *revtime, time_t *tu, time_t *nu)
{
	OCSP_RESPONSE *r = d2i_resp(der, len);
	OCSP_BASICRESP *bs;
	X509_STORE *xs = X509_STORE_new();
	STACK_OF(X509) *certs = sk_X509_new_null();
	OCSP_SINGLERESP *sr;
	ASN1_GENERALIZEDTIME *rt = NULL, *thisupd = NULL, *nextupd = NULL;
	int st, rsn = -1;
	struct tm tm;

	assert_int_equal(OCSP_response_status(r),
	    OCSP_RESPONSE_STATUS_SUCCESSFUL);
	bs = OCSP_response_get1_basic(r);
	assert_non_null(bs);
	X509_STORE_add_cert(xs, e->root);
	sk_X509_push(certs, e->issuing);
	X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(xs),
	    e->conf.now + 60);
	assert_int_equal(OCSP_basic_verify(bs, certs, xs, 0), 1);
	assert_int_equal(OCSP_resp_count(bs), 1);
	sr = OCSP_resp_get0(bs, 0);
	st = OCSP_single_get0_status(sr, &rsn, &rt, &thisupd, &nextupd);
	if (reason)
		*reason = rsn;
	if (revtime && rt && ASN1_TIME_to_tm(rt, &tm) == 1)
		*revtime = timegm(&tm);
	if (tu && ASN1_TIME_to_tm(thisupd, &tm) == 1)
		*tu = timegm(&tm);
	if (nu && nextupd && ASN1_TIME_to_tm(nextupd, &tm) == 1)
		*nu = timegm(&tm);
	sk_X509_free(certs);
	X509_STORE_free(xs);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(r);
	return st;
}

static X509 *
cert_x509(const struct ca_cert *c)
{
	const unsigned char *p = c->der;
	X509 *x = d2i_X509(NULL, &p, (long)c->der_len);

	assert_non_null(x);
	return x;
}

/* An OCSP request for the given certificates made by OpenSSL (SHA-1
 * CertIDs unless md), with a nonce when nonce. DER newly allocated. */
static uint8_t *
make_req(struct ca_fixture *e, X509 **certs, int n, const EVP_MD *md, int nonce,
    size_t *len)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	unsigned char *der = NULL;
	int l;

	for (int i = 0; i < n; i++) {
		OCSP_CERTID *id = OCSP_cert_to_id(md, certs[i], e->issuing);

		assert_non_null(OCSP_request_add0_id(req, id));
	}
	if (nonce)
		assert_int_equal(OCSP_request_add1_nonce(req, NULL, 16), 1);
	l = i2d_OCSP_REQUEST(req, &der);
	assert_true(l > 0);
	OCSP_REQUEST_free(req);
	*len = (size_t)l;
	return der;
}

/* ---- tests --------------------------------------------------------------- */

/* RFC 6960 2.2, 4.2.1; BR 4.9.10: signed at issuance, good */
static void
test_presigned_good(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_cert *a = ca_fixture_issue_dv(e, "good.example.com");
	struct store_ocsp o;
	time_t tu = 0, nu = 0;

	memset(&o, 0, sizeof(o));
	assert_int_equal(store_ocsp_get(e->st, a->serial, &o), 0);
	assert_int_equal(o.status, 0);
	assert_int_equal(o.issuer_id, e->issuing_id);
	assert_int_equal(resp_status(e, o.der, o.der_len, NULL, NULL, &tu,
	    &nu), V_OCSP_CERTSTATUS_GOOD);
	assert_int_equal(tu, e->conf.now);
	assert_int_equal(nu - tu, 96 * 3600);	/* ocsp.validity_hours */
	assert_int_equal(o.next_update, nu);
	store_ocsp_clear(&o);
	ca_cert_free(a);
}

/* revoked at once, with revocationTime and revocationReason */
static void
test_revoked(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_cert *a = ca_fixture_issue_dv(e, "revoked.example.com");
	struct rc_detail d = {""};
	struct store_ocsp o;
	int reason = -1;
	time_t rt = 0;
	uint64_t epoch = ca_revocation_epoch();

	assert_int_equal(ca_revoke(e->ca, a->serial, 1, "test", NULL, &d), 0);
	/* the responder of this process learns it at once */
	assert_int_equal(ca_revocation_epoch(), epoch + 1);
	assert_int_equal(ca_revoked_since(epoch, a->serial), 1);
	assert_int_equal(ca_revoked_since(epoch, "0123"), 0);
	assert_int_equal(ca_revoked_since(epoch + 1, a->serial), 0);
	/* more revocations than remembered: "re-read" for any serial */
	for (int i = 0; i < 200; i++)
		ca_revocation_note("abcd");
	assert_int_equal(ca_revoked_since(epoch + 1, "0123"), 1);
	assert_int_equal(ca_revoked_since(epoch + 150, "0123"), 0);
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_ocsp_get(e->st, a->serial, &o), 0);
	assert_int_equal(o.status, 1);
	assert_int_equal(resp_status(e, o.der, o.der_len, &reason, &rt, NULL,
	    NULL), V_OCSP_CERTSTATUS_REVOKED);
	assert_int_equal(reason, 1);		/* keyCompromise */
	assert_int_equal(rt, e->conf.now);
	store_ocsp_clear(&o);
	ca_cert_free(a);
}

/* the parser against requests made by OpenSSL */
static void
test_request_parse(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_cert *a = ca_fixture_issue_dv(e, "req.example.com");
	struct ca_cert *b = ca_fixture_issue_dv(e, "req2.example.com");
	X509 *x[2] = {cert_x509(a), cert_x509(b)};
	struct ca_ocsp_req r;
	uint8_t *der;
	size_t len;

	/* one certificate with a nonce: parsed, nonce ignored */
	der = make_req(e, x, 1, EVP_sha1(), 1, &len);
	assert_int_equal(ca_ocsp_req_parse(der, len, &r), 0);
	assert_true(r.sha1);
	assert_string_equal(r.serial_hex, a->serial);
	assert_int_equal(r.key_hash_len, 20);
	assert_int_equal(ca_ocsp_issuer_of(e->ca, r.name_hash, r.key_hash),
	    e->issuing_id);
	OPENSSL_free(der);
	/* several certificates: malformed (RFC 5019 2.1.1) */
	der = make_req(e, x, 2, EVP_sha1(), 0, &len);
	assert_int_equal(ca_ocsp_req_parse(der, len, &r), RC_INVAL);
	OPENSSL_free(der);
	/* a SHA-256 CertID parses, but is not SHA-1 (answered unauthorized) */
	der = make_req(e, x, 1, EVP_sha256(), 0, &len);
	assert_int_equal(ca_ocsp_req_parse(der, len, &r), 0);
	assert_false(r.sha1);
	assert_int_equal(r.key_hash_len, 32);
	OPENSSL_free(der);
	X509_free(x[0]);
	X509_free(x[1]);
	ca_cert_free(a);
	ca_cert_free(b);
}

/* every truncation, every single-byte corruption, garbage and huge input:
 * RC_INVAL or a clean parse, never a crash (ASan watches) */
static void
test_request_hostile(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_cert *a = ca_fixture_issue_dv(e, "fuzz.example.com");
	X509 *x = cert_x509(a);
	struct ca_ocsp_req r;
	uint8_t *der, *copy, *big;
	size_t len;
	unsigned seed = 1;

	der = make_req(e, &x, 1, EVP_sha1(), 1, &len);
	for (size_t n = 0; n < len; n++) {
		copy = xmemdup(der, n ? n : 1);
		assert_int_equal(ca_ocsp_req_parse(copy, n, &r), RC_INVAL);
		free(copy);
	}
	copy = xmemdup(der, len);
	for (size_t i = 0; i < len; i++) {
		for (int v = 0; v < 256; v += 37) {
			uint8_t old = copy[i];

			copy[i] = (uint8_t)v;
			(void)ca_ocsp_req_parse(copy, len, &r);
			copy[i] = old;
		}
	}
	for (int k = 0; k < 2000; k++) {
		size_t n = (size_t)(rand_r(&seed) % 200);

		for (size_t i = 0; i < n; i++)
			copy[i % len] = (uint8_t)rand_r(&seed);
		(void)ca_ocsp_req_parse(copy, n < len ? n : len, &r);
		memcpy(copy, der, len);
	}
	free(copy);
	big = xcalloc(1, CA_OCSP_MAX_REQUEST + 1);
	memcpy(big, der, len);
	assert_int_equal(ca_ocsp_req_parse(big, CA_OCSP_MAX_REQUEST + 1, &r),
	    RC_INVAL);
	assert_int_equal(ca_ocsp_req_parse(NULL, 10, &r), RC_INVAL);
	free(big);
	OPENSSL_free(der);
	X509_free(x);
	ca_cert_free(a);
}

/* RFC 6960 4.2.1: the unsigned error responses OpenSSL reads */
static void
test_error_responses(void **state)
{
	static const int codes[] = {CA_OCSP_MALFORMED, CA_OCSP_INTERNAL,
		CA_OCSP_TRYLATER, CA_OCSP_UNAUTHORIZED};

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		size_t len;
		const uint8_t *p = ca_ocsp_error_der(codes[i], &len);
		OCSP_RESPONSE *r = d2i_resp(p, len);

		assert_int_equal(OCSP_response_status(r), codes[i]);
		OCSP_RESPONSE_free(r);
	}
}

/* a serial of our issuer that was never issued: signed "unknown" */
static void
test_unknown(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_cert *a = ca_fixture_issue_dv(e, "known.example.com");
	X509 *x = cert_x509(a);
	struct ca_ocsp_req r;
	struct rc_detail d = {""};
	uint8_t *der, *resp = NULL;
	size_t len, rlen = 0;
	time_t tu, nu;

	der = make_req(e, &x, 1, EVP_sha1(), 0, &len);
	assert_int_equal(ca_ocsp_req_parse(der, len, &r), 0);
	assert_int_equal(ca_ocsp_sign_unknown(e->ca, 0, &r, &resp, &rlen, &tu,
	    &nu, &d), 0);
	assert_int_equal(resp_status(e, resp, rlen, NULL, NULL, NULL, NULL),
	    V_OCSP_CERTSTATUS_UNKNOWN);
	assert_int_equal(nu - tu, 96 * 3600);
	free(resp);
	/* another issuer's hashes: refused */
	r.key_hash = (const uint8_t *)"01234567890123456789";
	assert_int_equal(ca_ocsp_sign_unknown(e->ca, 0, &r, &resp, &rlen, &tu,
	    &nu, &d), RC_INVAL);
	OPENSSL_free(der);
	X509_free(x);
	ca_cert_free(a);
}

/* The subject CN of the active issuing CA in the store. */
static char *
active_cn(struct ca_fixture *e, int64_t *id)
{
	struct store_issuer is;
	const unsigned char *p;
	X509 *x;
	char cn[128];

	memset(&is, 0, sizeof(is));
	assert_int_equal(store_issuer_get_active(e->st, 0, &is), 0);
	p = is.cert_der;
	x = d2i_X509(NULL, &p, (long)is.cert_len);
	assert_non_null(x);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, cn, sizeof(cn)) > 0);
	*id = is.id;
	X509_free(x);
	store_issuer_clear(&is);
	return xstrdup(cn);
}

/*
 * An issuing CA rollover (ca_new_issuing): the new CA is active for handles
 * opened afterwards, with the next number in its name and CN; the earlier
 * one still answers OCSP for its serials (known and unknown) and revokes.
 */
static void
test_rollover(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_cert *a = ca_fixture_issue_dv(e, "before.example.com");
	struct ca_cert *b;
	X509 *x = cert_x509(a);
	struct ca_ocsp_req r;
	struct rc_detail d = {""};
	struct ca *ca2 = NULL;
	uint8_t *der, *resp = NULL;
	size_t len, rlen = 0;
	time_t tu, nu;
	char *name = NULL, *cn;
	int64_t id = 0, active;

	assert_int_equal(ca_new_issuing(&e->conf, e->st, e->sg, NULL,
	    "test", &name, &id, &d), 0);
	assert_string_equal(name, "issuing-2");
	cn = active_cn(e, &active);
	assert_int_equal(active, id);
	assert_string_equal(cn, "certdesk Test Issuing CA 2");
	free(cn);
	free(name);
	/* the same name again: refused, nothing changes */
	assert_int_equal(ca_new_issuing(&e->conf, e->st, e->sg,
	    "certdesk Test Issuing CA 2", "test", &name, &id, &d), RC_EXISTS);
	assert_null(name);
	assert_int_equal(ca_new_issuing(&e->conf, e->st, e->sg, "bad\nname",
	    "test", &name, &id, &d), RC_CONFIG);
	assert_int_equal(ca_new_issuing(&e->conf, e->st, e->sg, "", "test",
	    &name, &id, &d), RC_CONFIG);
	assert_int_equal(ca_new_issuing(&e->conf, e->st, e->sg, "Rollover 2029",
	    "test", &name, &id, &d), 0);
	assert_string_equal(name, "issuing-3");
	free(name);
	cn = active_cn(e, &active);
	assert_string_equal(cn, "Rollover 2029");
	free(cn);

	/* a new handle issues from the newest */
	assert_int_equal(ca_open(&e->conf, e->st, e->sg, NULL, &ca2), 0);
	{
		struct ca *old = e->ca;

		e->ca = ca2;
		b = ca_fixture_issue_dv(e, "after.example.com");
		e->ca = old;
	}
	{
		X509 *y = cert_x509(b);
		char buf[128];

		X509_NAME_get_text_by_NID(X509_get_issuer_name(y),
		    NID_commonName, buf, sizeof(buf));
		assert_string_equal(buf, "Rollover 2029");
		X509_free(y);
	}
	/* the first issuing CA still answers for its serials */
	der = make_req(e, &x, 1, EVP_sha1(), 0, &len);
	assert_int_equal(ca_ocsp_req_parse(der, len, &r), 0);
	assert_int_equal(ca_ocsp_issuer_of(ca2, r.name_hash, r.key_hash),
	    e->issuing_id);
	assert_int_equal(ca_ocsp_sign_unknown(ca2, 0, &r, &resp, &rlen, &tu,
	    &nu, &d), 0);
	/* verified against issuing-1 (resp_status uses e->issuing) */
	assert_int_equal(resp_status(e, resp, rlen, NULL, NULL, NULL, NULL),
	    V_OCSP_CERTSTATUS_UNKNOWN);
	free(resp);
	assert_int_equal(ca_revoke(ca2, a->serial, 1, "test", NULL, &d), 0);
	assert_int_equal(ca_ocsp_resign(ca2, a->serial, &d), 0);
	OPENSSL_free(der);
	X509_free(x);
	ca_cert_free(a);
	ca_cert_free(b);
	ca_free(ca2);
}

/* The issuer CN of a certificate. */
static void
issuer_cn(const struct ca_cert *c, char cn[128])
{
	X509 *x = cert_x509(c);

	assert_true(X509_NAME_get_text_by_NID(X509_get_issuer_name(x),
	    NID_commonName, cn, 128) > 0);
	X509_free(x);
}

/* The store's issuing CA with this id, parsed. */
static X509 *
stored_issuer(struct ca_fixture *e, int64_t id)
{
	struct store_issuer is;
	const unsigned char *p;
	X509 *x;

	memset(&is, 0, sizeof(is));
	assert_int_equal(store_issuer_get(e->st, id, &is), 0);
	p = is.cert_der;
	x = d2i_X509(NULL, &p, (long)is.cert_len);
	assert_non_null(x);
	store_issuer_clear(&is);
	return x;
}

/*
 * A rollover by another process (its own signer on the key directory)
 * while handles sharing a struct ca_current issue: they go on with
 * issuing-1, a handle opened now too (its signer has no issuing-2 yet),
 * until one of them follows the store (ca_follow); then each issues from
 * issuing-2 from its next issuance on, with the OCSP response signed by
 * issuing-2, while issuing-1's certificates keep their answers. A roll
 * whose key the signer refuses changes nothing.
 */
static void
test_follow(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_current *cur;
	struct ca_current_info ci;
	struct ca_conf other = e->conf;
	struct ca *h1, *h2, *h3;
	struct signer *sg2;
	struct rc_detail d = {""};
	struct ca_cert *a, *b, *c;
	struct store_cert sc;
	struct store_ocsp o;
	char cn[128], *name = NULL, *path, *pem;
	int64_t id2 = 0, id3 = 0;
	X509 *iss1 = e->issuing, *iss2;
	FILE *fp;

	assert_int_equal(ca_current_new(&cur), 0);
	e->conf.current = cur;
	assert_int_equal(ca_open(&e->conf, e->st, e->sg, NULL, &h1), 0);
	assert_int_equal(ca_open(&e->conf, e->st, e->sg, NULL, &h2), 0);
	ca_current_get(cur, &ci);
	assert_string_equal(ci.name, "issuing-1");
	assert_int_equal(ci.id, e->issuing_id);
	assert_int_equal(ci.not_after, ca_asn1_time(X509_get0_notAfter(
	    e->issuing)));
	ca_free(e->ca);
	e->ca = h2;
	a = ca_fixture_issue_dv(e, "before.example.com");

	/* `ca roll` elsewhere: the store's active CA is issuing-2 */
	other.current = NULL;
	assert_int_equal(signer_spawn(e->keydir, &sg2), 0);
	assert_int_equal(ca_new_issuing(&other, e->st, sg2, NULL, "test",
	    &name, &id2, &d), 0);
	assert_string_equal(name, "issuing-2");
	free(name);
	b = ca_fixture_issue_dv(e, "still.example.com");
	issuer_cn(b, cn);
	assert_string_equal(cn, "certdesk Test Issuing CA");
	ca_cert_free(b);
	/* a handle opened now: the process's CA, which this signer has */
	assert_int_equal(ca_open(&e->conf, e->st, e->sg, NULL, &h3), 0);
	ca_current_get(cur, &ci);
	assert_string_equal(ci.name, "issuing-1");

	/* followed: the signer loads issuing-2; once */
	assert_int_equal(ca_follow(h1, &d), 1);
	ca_current_get(cur, &ci);
	assert_string_equal(ci.name, "issuing-2");
	assert_int_equal(ci.id, id2);
	assert_int_equal(ca_follow(h1, &d), 0);
	assert_int_equal(ca_follow(h3, &d), 0);
	/* h2 takes it up at its next issuance: certificate, its OCSP
	 * response and the issuer stored with it are issuing-2's */
	b = ca_fixture_issue_dv(e, "after.example.com");
	issuer_cn(b, cn);
	assert_string_equal(cn, "certdesk Test Issuing CA 2");
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(store_cert_get(e->st, b->serial, &sc), 0);
	assert_int_equal(sc.issuer_id, id2);
	store_cert_clear(&sc);
	assert_int_equal(ca_chain_pem(h2, &pem), 0);
	assert_non_null(strstr(pem, "BEGIN CERTIFICATE"));
	iss2 = stored_issuer(e, id2);
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_ocsp_get(e->st, b->serial, &o), 0);
	e->issuing = iss2;
	assert_int_equal(resp_status(e, o.der, o.der_len, NULL, NULL, NULL,
	    NULL), V_OCSP_CERTSTATUS_GOOD);
	store_ocsp_clear(&o);
	{
		/* the chain h2 hands out is issuing-2's certificate */
		BIO *bio = BIO_new_mem_buf(pem, -1);
		X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

		assert_non_null(x);
		assert_int_equal(X509_cmp(x, iss2), 0);
		X509_free(x);
		BIO_free(bio);
	}
	free(pem);
	/* issuing-1's certificate: answered and revoked by issuing-1 */
	e->issuing = iss1;
	assert_int_equal(ca_revoke(h3, a->serial, 4, "test", NULL, &d), 0);
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_ocsp_get(e->st, a->serial, &o), 0);
	assert_int_equal(resp_status(e, o.der, o.der_len, NULL, NULL, NULL,
	    NULL), V_OCSP_CERTSTATUS_REVOKED);
	store_ocsp_clear(&o);

	/* issuing-3, whose certificate file the signer finds broken: not
	 * followed, issuing-2 issues on */
	assert_int_equal(ca_new_issuing(&other, e->st, sg2, NULL, "test",
	    &name, &id3, &d), 0);
	assert_string_equal(name, "issuing-3");
	free(name);
	path = xasprintf("%s/issuing-3.crt", e->keydir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs("not a certificate", fp);
	fclose(fp);
	free(path);
	memset(&d, 0, sizeof(d));
	assert_int_equal(ca_follow(h1, &d), RC_SIGNER);
	assert_non_null(strstr(d.msg, "the signer does not take key "
	    "issuing-3"));
	ca_current_get(cur, &ci);
	assert_string_equal(ci.name, "issuing-2");
	c = ca_fixture_issue_dv(e, "later.example.com");
	issuer_cn(c, cn);
	assert_string_equal(cn, "certdesk Test Issuing CA 2");

	e->issuing = iss1;
	X509_free(iss2);
	ca_cert_free(a);
	ca_cert_free(b);
	ca_cert_free(c);
	e->ca = NULL;
	ca_free(h1);
	ca_free(h2);
	ca_free(h3);
	signer_free(sg2);
	e->conf.current = NULL;
	ca_current_free(cur);
}

/* the worker's step re-signs what reached its age, and backfills */
static void
test_refresh(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_cert *a = ca_fixture_issue_dv(e, "refresh.example.com");
	struct rc_detail d = {""};
	struct store_ocsp o;
	size_t done = 0;
	time_t later = e->conf.now + 3600;

	/* nothing is due an hour after issuance with 48 h refresh */
	ca_free(e->ca);
	e->conf.now = later;
	assert_int_equal(ca_open(&e->conf, e->st, e->sg, NULL, &e->ca), 0);
	assert_int_equal(ca_ocsp_refresh(e->ca, 48 * 3600, 1, 100, &done, &d),
	    0);
	assert_int_equal(done, 0);
	/* refresh age one hour: re-signed now */
	assert_int_equal(ca_ocsp_refresh(e->ca, 3600, 0, 100, &done, &d), 0);
	assert_int_equal(done, 1);
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_ocsp_get(e->st, a->serial, &o), 0);
	assert_int_equal(o.this_update, later);
	assert_int_equal(resp_status(e, o.der, o.der_len, NULL, NULL, NULL,
	    NULL), V_OCSP_CERTSTATUS_GOOD);
	store_ocsp_clear(&o);
	assert_int_equal(ca_ocsp_resign(e->ca, a->serial, &d), 0);
	assert_int_equal(ca_ocsp_resign(e->ca, "7fffffff", &d), RC_NOTFOUND);
	ca_cert_free(a);
}

/* A revocation whose re-signing failed, and an OCSP worker that signed
 * "good" from a snapshot taken before the revocation: neither leaves a
 * revoked certificate answering good. */
static void
test_revoked_never_good_again(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_cert *a = ca_fixture_issue_dv(e, "stale.example.com");
	struct rc_detail d = {""};
	struct store_ocsp good, o;
	size_t done = 0;

	memset(&good, 0, sizeof(good));
	memset(&o, 0, sizeof(o));
	assert_int_equal(store_ocsp_get(e->st, a->serial, &good), 0);
	assert_int_equal(good.status, 0);
	/* the revocation is stored, its re-signing failed: good remains */
	assert_int_equal(store_revoke(e->st, a->serial, 1, e->conf.now), 0);
	/* the worker's late write of a good response is refused */
	assert_int_equal(store_ocsp_put(e->st, &good), RC_NOTFOUND);
	/* the worker's next round re-signs it first, whatever its age */
	assert_int_equal(ca_ocsp_refresh(e->ca, 48 * 3600, 0, 100, &done, &d),
	    0);
	assert_int_equal(done, 1);
	assert_int_equal(store_ocsp_get(e->st, a->serial, &o), 0);
	assert_int_equal(o.status, 1);
	assert_int_equal(resp_status(e, o.der, o.der_len, NULL, NULL, NULL,
	    NULL), V_OCSP_CERTSTATUS_REVOKED);
	store_ocsp_clear(&o);
	/* and nothing is stale any more */
	assert_int_equal(ca_ocsp_refresh(e->ca, 48 * 3600, 0, 100, &done, &d),
	    0);
	assert_int_equal(done, 0);
	assert_int_equal(store_ocsp_put(e->st, &good), RC_NOTFOUND);
	store_ocsp_clear(&good);
	ca_cert_free(a);
}

/* the signer signs a ResponseData only for its own issuer (check.c) */
static void
test_signer_refuses_other_issuer(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_iss fake = e->ca->issuing;	/* shallow: not cleared */
	struct rc_detail d = {""};
	struct ca_dw w;
	static const uint8_t serial[] = {0x01, 0x02, 0x03};

	ca_dw_init(&w, 16 * 1024);
	/* the CertID of another issuer (its key hash), our responder id */
	fake.name_hash[0] ^= 0xff;
	assert_int_equal(ca_ocsp_make(e->ca, &fake, serial, sizeof(serial), 0,
	    0, 0, e->conf.now, &w, &d), RC_SIGNER);
	assert_non_null(strstr(d.msg, "ResponseData"));
	/* and the root key may not speak for the issuing CA */
	fake = e->ca->issuing;
	fake.name = e->ca->root.name;
	ca_dw_reset(&w);
	assert_int_equal(ca_ocsp_make(e->ca, &fake, serial, sizeof(serial), 0,
	    0, 0, e->conf.now, &w, &d), RC_SIGNER);
	ca_dw_free(&w);
}

/* CRL shards: the CRL DP of each certificate names its shard, which is a
 * complete CRL with an IDP naming the same URL (RFC 5280 5.2.5) */
static void
test_shards(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_status_conf sc = {2, 0};
	struct ca_cert *c[5];
	struct rc_detail d = {""};
	int64_t shard = -1;

	ca_status_configure(&sc);
	for (int i = 0; i < 5; i++) {
		char name[32];

		snprintf(name, sizeof(name), "s%d.example.com", i);
		c[i] = ca_fixture_issue_dv(e, name);
		assert_int_equal(store_cert_get_shard(e->st, c[i]->serial,
		    &shard), 0);
		assert_int_equal(shard, i / 2);
	}
	assert_int_equal(ca_revoke(e->ca, c[3]->serial, 4, "test", NULL, &d),
	    0);
	for (int s = 0; s < 3; s++) {
		char *path = xasprintf("%s/issuing-1-%d.crl", e->crl_dir, s);
		char *url = xasprintf(BASE "/crl/issuing-1-%d.crl", s);
		FILE *f = fopen(path, "rb");
		X509_CRL *crl;
		ISSUING_DIST_POINT *idp;
		X509 *x = cert_x509(c[2 * s]);
		STACK_OF(DIST_POINT) *dps;
		GENERAL_NAME *gn;
		int crit = 0;

		assert_non_null(f);
		crl = d2i_X509_CRL_fp(f, NULL);
		fclose(f);
		assert_non_null(crl);
		assert_int_equal(X509_CRL_verify(crl,
		    X509_get0_pubkey(e->issuing)), 1);
		idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point,
		    &crit, NULL);
		assert_non_null(idp);
		assert_int_equal(crit, 1);
		assert_true(idp->onlyuser);
		gn = sk_GENERAL_NAME_value(idp->distpoint->name.fullname, 0);
		assert_string_equal(ASN1_STRING_get0_data(gn->d.ia5), url);
		dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL,
		    NULL);
		gn = sk_GENERAL_NAME_value(
		    sk_DIST_POINT_value(dps, 0)->distpoint->name.fullname, 0);
		assert_string_equal(ASN1_STRING_get0_data(gn->d.ia5), url);
		/* c[3] is listed in shard 1 only */
		assert_int_equal(sk_X509_REVOKED_num(
		    X509_CRL_get_REVOKED(crl)) > 0, s == 1);
		sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
		ISSUING_DIST_POINT_free(idp);
		X509_CRL_free(crl);
		X509_free(x);
		free(path);
		free(url);
	}
	ca_status_configure(NULL);
	for (int i = 0; i < 5; i++)
		ca_cert_free(c[i]);
}

/* lint: a subscriber certificate's CRL DP must be one CRL shard */
static void
test_lint_sharded_cdp(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_tbs t;
	struct ca_dw w;
	struct rc_detail d = {""};
	uint8_t serial[16] = {0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
		14, 15};
	const char *names[] = {"lint.example.com"};
	unsigned char *spki = NULL;
	int spki_len = i2d_PUBKEY(e->key, &spki);

	memset(&t, 0, sizeof(t));
	t.profile = CA_PROFILE_DV;
	t.serial = serial;
	t.serial_len = sizeof(serial);
	t.not_before = e->conf.now - 60;
	t.not_after = t.not_before + 90 * 86400 - 1;
	t.names = names;
	t.nnames = 1;
	t.cn = names[0];
	t.spki = spki;
	t.spki_len = (size_t)spki_len;
	t.key_is_ec = 1;
	ca_dw_init(&w, 64 * 1024);
	t.crl_shard = 12;
	ca_tbs_build(&w, &e->ca->issuing, &t);
	if (ca_lint_tbs_iss(w.b.data, w.b.len, t.profile,
	    &e->ca->issuing.info, e->conf.now, &d) != 0)
		fail_msg("lint: %s", d.msg);
	/* the issuer's full CRL: refused for a subscriber certificate */
	ca_dw_reset(&w);
	t.crl_shard = -1;
	ca_tbs_build(&w, &e->ca->issuing, &t);
	assert_int_equal(ca_lint_tbs_iss(w.b.data, w.b.len, t.profile,
	    &e->ca->issuing.info, e->conf.now, &d), RC_LINT);
	assert_non_null(strstr(d.msg, "crl_distribution_points"));
	ca_dw_free(&w);
	OPENSSL_free(spki);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_presigned_good, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_revoked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_parse, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_request_hostile, setup,
		    teardown),
		cmocka_unit_test(test_error_responses),
		cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked_never_good_again,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_signer_refuses_other_issuer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lint_sharded_cdp, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
