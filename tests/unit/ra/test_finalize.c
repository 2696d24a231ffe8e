/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/ra/finalize.c through ra.h: finalize (happy path with
 * an EAB-bound account whose contract the certificate joins; not ready;
 * twice; a CSR naming an extra or a missing domain; a bad CSR; the account
 * key as certificate key; an authorization of another account; a
 * validation older than the reuse period allows now; CAA forbidding),
 * each failure leaving the order invalid and no certificate in the store;
 * the chain download; revocation by the owner, by the certificate key, by
 * an account holding authorizations for every name, refused for others,
 * bad reasons, twice; ARI windows. Last, the whole path with the real
 * validation library: http-01 on loopback and CAA from a real knotd.
 */
#include "ra_test.h"
#include "../validation/testlib.h"

#include "store/store.h"
#include "util/buf.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define DAY 86400
#define NCERTS "SELECT count(*) FROM certificates WHERE profile = 'dv'"

static void
raw_sql(struct rt_env *e, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(e->db, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

/* Order -> validated -> ready, for names. */
static int64_t
ready_order(struct rt_env *e, int64_t acct, const char *names)
{
	int64_t o = rt_order(e, acct, names);
	struct ra_order ro = {0};

	rt_validate_order(e, acct, o, strchr(names, '*') ? RA_CHALL_DNS01
							 : RA_CHALL_HTTP01);
	assert_int_equal(ra_order_get(e->ra, acct, o, &ro, NULL), 0);
	assert_int_equal(ro.status, RA_ST_READY);
	ra_order_clear(&ro);
	return o;
}

/* Finalizes with a CSR for names; returns rc, fills o and err. */
static int
finalize(struct rt_env *e, int64_t acct, int64_t order, EVP_PKEY *k,
    const char *names, struct ra_order *o, struct ra_err *err)
{
	size_t len;
	uint8_t *csr = rt_csr(k, names, &len);
	int rc;

	memset(err, 0, sizeof(*err));
	rc = ra_order_finalize(e->ra, acct, order, csr, len, o, err);
	free(csr);
	return rc;
}

static X509 *
load_cert(struct rt_env *e, const char *serial, uint8_t **der, size_t *len)
{
	struct store_cert c = {0};
	const uint8_t *p;
	X509 *x;

	assert_int_equal(store_cert_get(e->st, serial, &c), 0);
	p = c.der;
	x = d2i_X509(NULL, &p, (long)c.der_len);
	assert_non_null(x);
	if (der != NULL) {
		*der = xmemdup(c.der, c.der_len);
		*len = c.der_len;
	}
	store_cert_clear(&c);
	return x;
}

static void
test_finalize_ok(void **state)
{
	struct rt_env *e = *state;
	struct ra_account a = {0};
	struct ra_order o = {0};
	struct ra_err err = {0};
	struct sec *key = NULL;
	struct store_cert sc = {0};
	char kid[RA_EAB_KID_LEN + 1], tp[44], *pem = NULL, want[64];
	EVP_PKEY *k = rt_key();
	int64_t ord, other;
	BIO *b;
	X509 *x1, *x2;

	/* an EAB-bound account: its certificates join the contract */
	assert_int_equal(ra_eab_create(e->ra, e->contract, "test", kid, &key,
	    NULL), 0);
	rt_thumbprint("alice", tp);
	assert_int_equal(ra_account_new(e->ra, "{}", tp, NULL, kid, &a, &err),
	    0);
	other = rt_account(e, "bob");
	ord = ready_order(e, a.id, "www.example.com example.com");
	e->fake.caa_calls = 0;
	assert_int_equal(finalize(e, a.id, ord, k, "example.com "
	    "www.example.com", &o, &err), 0);
	assert_int_equal(o.status, RA_ST_VALID);
	assert_true(strlen(o.cert_serial) > 0);
	assert_null(o.error_json);
	/* CAA ran for each name with the account URL and the method */
	assert_int_equal(e->fake.caa_calls, 2);
	assert_string_equal(e->fake.last_method, "http-01");
	snprintf(want, sizeof(want), RT_URL_PREFIX "%lld", (long long)a.id);
	assert_string_equal(e->fake.last_account_uri, want);
	/* stored like any certificate: with the order and the contract */
	assert_int_equal(store_cert_get(e->st, o.cert_serial, &sc), 0);
	assert_int_equal(sc.order_id, ord);
	assert_int_equal(sc.contract_id, e->contract);
	assert_string_equal(sc.profile, "dv");
	store_cert_clear(&sc);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM orders WHERE "
	    "status = 'valid' AND csr IS NOT NULL AND cert_serial IS NOT "
	    "NULL"), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.order.valid' AND details LIKE '%\"caa\"%'"), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'cert.issue' AND actor LIKE 'acme:account/%'"), 1);

	/* the chain: end entity then the issuing CA */
	assert_int_equal(ra_cert_chain_pem(e->ra, a.id, o.cert_serial, &pem,
	    &err), 0);
	b = BIO_new_mem_buf(pem, -1);
	x1 = PEM_read_bio_X509(b, NULL, NULL, NULL);
	x2 = PEM_read_bio_X509(b, NULL, NULL, NULL);
	assert_non_null(x1);
	assert_non_null(x2);
	assert_int_equal(X509_check_issued(x2, x1), X509_V_OK);
	assert_int_equal(X509_check_host(x1, "www.example.com", 0, 0, NULL),
	    1);
	assert_null(PEM_read_bio_X509(b, NULL, NULL, NULL));
	X509_free(x1);
	X509_free(x2);
	BIO_free(b);
	free(pem);
	pem = NULL;
	/* another account: not found; any case of the serial is fine */
	assert_int_equal(ra_cert_chain_pem(e->ra, other, o.cert_serial, &pem,
	    &err), RC_NOTFOUND);
	assert_null(pem);
	assert_int_equal(ra_cert_chain_pem(e->ra, a.id, "xyz", &pem, &err),
	    RC_NOTFOUND);
	assert_int_equal(ra_cert_chain_pem(e->ra, a.id, "abcdef", &pem, &err),
	    RC_NOTFOUND);
	assert_int_equal(ra_cert_chain_pem(e->ra, 0, o.cert_serial, &pem,
	    &err), 0);
	free(pem);

	/* twice: orderNotReady, nothing more issued */
	ra_order_clear(&o);
	assert_int_equal(finalize(e, a.id, ord, k, "example.com "
	    "www.example.com", &o, &err), RC_STATE);
	assert_int_equal(err.problem, RA_PROB_ORDER_NOT_READY);
	assert_int_equal(rt_count(e, NCERTS), 1);
	/* by another account: not found */
	assert_int_equal(finalize(e, other, ord, k, "example.com", &o, &err),
	    RC_NOTFOUND);

	ra_account_clear(&a);
	sec_free(key);
	EVP_PKEY_free(k);
}

/* Reopens e->ra with acme.allow_ip and the trust given, fake checks. */
static void
reopen_ip(struct rt_env *e, int trust_private)
{
	struct rc_detail d = {""};

	ra_free(e->ra);
	e->ra = NULL;
	e->rconf.allow_ip = 1;
	e->rconf.trust_private = trust_private;
	if (ra_open(&e->rconf, e->st, e->ca, NULL, &e->ra, &d) != 0)
		fail_msg("ra_open: %s", d.msg);
	rt_fake_install(e);
}

/* A ready order for the identifiers ("ip:x" or a DNS name), validated by
 * the fake with http-01. */
static int64_t
ready_ip_order(struct rt_env *e, int64_t acct, const char *const *v,
    size_t n)
{
	struct ra_ident ids[8];
	struct ra_order o = {0};
	struct ra_err err = {0};
	int64_t id;

	for (size_t i = 0; i < n; i++) {
		ids[i].type = strncmp(v[i], "ip:", 3) == 0 ? "ip" : "dns";
		ids[i].value = strncmp(v[i], "ip:", 3) == 0 ? v[i] + 3 : v[i];
	}
	if (ra_order_new(e->ra, acct, ids, n, &o, &err) != 0)
		fail_msg("order: %s", err.detail.msg);
	id = o.id;
	ra_order_clear(&o);
	rt_validate_order(e, acct, id, RA_CHALL_HTTP01);
	assert_int_equal(ra_order_get(e->ra, acct, id, &o, NULL), 0);
	assert_int_equal(o.status, RA_ST_READY);
	ra_order_clear(&o);
	return id;
}

/* RFC 8738 orders end to end through the ra (fake validation) and the CA:
 * the CSR's iPAddresses exactly the order's, no CAA for addresses, the
 * certificate's SAN iPAddress */
static void
test_finalize_ip(void **state)
{
	static const char *const loop[] = {"ip:127.0.0.1"};
	static const char *const mixed[] = {"www.example.com", "ip:::1"};
	struct rt_env *e = *state;
	struct ra_order o = {0};
	struct ra_err err = {0};
	EVP_PKEY *k = rt_key();
	int64_t acct, ord;
	X509 *x;

	/* without allow_ip an address in the CSR is refused as before */
	acct = rt_account(e, "alice");
	ord = ready_order(e, acct, "www.example.com");
	assert_int_equal(finalize(e, acct, ord, k, "www.example.com "
	    "IP:127.0.0.1", &o, &err), RC_BADCSR);
	assert_int_equal(err.problem, RA_PROB_BAD_CSR);
	assert_non_null(strstr(err.detail.msg, "only DNS names"));
	ra_order_clear(&o);

	reopen_ip(e, 1);
	e->fake.last_is_ip = 0;
	ord = ready_ip_order(e, acct, loop, 1);
	assert_int_equal(e->fake.last_is_ip, 1);	/* validate.c says so */
	/* the CSR must name exactly the order's address */
	assert_int_equal(finalize(e, acct, ord, k, "IP:127.0.0.2", &o, &err),
	    RC_BADCSR);
	assert_int_equal(err.problem, RA_PROB_BAD_CSR);
	assert_string_equal(err.sub[0].type, "ip");
	assert_string_equal(err.sub[0].value, "127.0.0.2");
	ra_order_clear(&o);
	ord = ready_ip_order(e, acct, loop, 1);
	assert_int_equal(finalize(e, acct, ord, k, "IP:127.0.0.1 "
	    "www.example.com", &o, &err), RC_BADCSR);
	ra_order_clear(&o);
	ord = ready_ip_order(e, acct, loop, 1);
	e->fake.caa_calls = 0;
	if (finalize(e, acct, ord, k, "IP:127.0.0.1", &o, &err) != 0)
		fail_msg("finalize: %s", err.detail.msg);
	assert_int_equal(o.status, RA_ST_VALID);
	/* RFC 8738 §7: no CAA for addresses */
	assert_int_equal(e->fake.caa_calls, 0);
	x = load_cert(e, o.cert_serial, NULL, NULL);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	/* an iPAddress, not a dNSName */
	assert_int_equal(X509_check_host(x, "127.0.0.1", 0,
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL), 0);
	X509_free(x);
	ra_order_clear(&o);

	/* a name and an IPv6 address */
	ord = ready_ip_order(e, acct, mixed, 2);
	e->fake.caa_calls = 0;
	if (finalize(e, acct, ord, k, "www.example.com IP:0:0:0:0:0:0:0:1",
	    &o, &err) != 0)
		fail_msg("finalize: %s", err.detail.msg);
	assert_int_equal(e->fake.caa_calls, 1);
	x = load_cert(e, o.cert_serial, NULL, NULL);
	assert_int_equal(X509_check_ip_asc(x, "::1", 0), 1);
	assert_int_equal(X509_check_host(x, "www.example.com", 0, 0, NULL),
	    1);
	X509_free(x);
	ra_order_clear(&o);

	/* public trust: a public address is issued */
	reopen_ip(e, 0);
	{
		static const char *const pub[] = {"ip:8.8.8.8"};

		ord = ready_ip_order(e, acct, pub, 1);
		if (finalize(e, acct, ord, k, "IP:8.8.8.8", &o, &err) != 0)
			fail_msg("finalize: %s", err.detail.msg);
		x = load_cert(e, o.cert_serial, NULL, NULL);
		assert_int_equal(X509_check_ip_asc(x, "8.8.8.8", 0), 1);
		X509_free(x);
		ra_order_clear(&o);
	}
	EVP_PKEY_free(k);
}

static void
test_finalize_not_ready(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice"), ord;
	struct ra_order o = {0};
	struct ra_err err = {0};
	EVP_PKEY *k = rt_key();

	ord = rt_order(e, acct, "www.example.com");
	assert_int_equal(finalize(e, acct, ord, k, "www.example.com", &o,
	    &err), RC_STATE);
	assert_int_equal(err.problem, RA_PROB_ORDER_NOT_READY);
	assert_non_null(strstr(err.detail.msg, "pending"));
	/* nothing changed */
	assert_int_equal(ra_order_get(e->ra, acct, ord, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_PENDING);
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, NCERTS), 0);
	EVP_PKEY_free(k);
}

static void
test_finalize_bad_csr(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice"), ord;
	struct ra_order o = {0};
	struct ra_err err = {0};
	EVP_PKEY *k = rt_key();
	static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};

	/* an extra domain: badCSR with a subproblem, nothing issued, and
	 * the order left ready for an amended CSR (RFC 8555 7.4) */
	ord = ready_order(e, acct, "www.example.com");
	assert_int_equal(finalize(e, acct, ord, k, "www.example.com "
	    "evil.example.net", &o, &err), RC_BADCSR);
	assert_int_equal(err.problem, RA_PROB_BAD_CSR);
	assert_int_equal(err.nsub, 1);
	assert_string_equal(err.sub[0].value, "evil.example.net");
	assert_int_equal(err.sub[0].problem, RA_PROB_BAD_CSR);
	assert_int_equal(o.status, RA_ST_READY);
	ra_order_clear(&o);
	assert_int_equal(ra_order_get(e->ra, acct, ord, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_READY);
	assert_int_equal(o.error, RA_PROB_NONE);
	assert_null(o.error_json);
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, NCERTS), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.order.invalid'"), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM orders WHERE "
	    "csr IS NOT NULL"), 0);
	/* the amended CSR is issued */
	memset(&err, 0, sizeof(err));
	assert_int_equal(finalize(e, acct, ord, k, "www.example.com", &o,
	    &err), 0);
	assert_int_equal(o.status, RA_ST_VALID);
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, NCERTS), 1);
	/* a valid order is not finalized again */
	assert_int_equal(finalize(e, acct, ord, k, "www.example.com", &o,
	    &err), RC_STATE);
	assert_int_equal(err.problem, RA_PROB_ORDER_NOT_READY);
	ra_order_clear(&o);

	/* a missing domain (the authorizations are reused: ready at once) */
	ord = ready_order(e, acct, "www.example.com example.com");
	assert_int_equal(finalize(e, acct, ord, k, "www.example.com", &o,
	    &err), RC_BADCSR);
	assert_int_equal(err.nsub, 1);
	assert_string_equal(err.sub[0].value, "example.com");
	ra_order_clear(&o);

	/* not a CSR at all */
	ord = ready_order(e, acct, "www.example.com");
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_order_finalize(e->ra, acct, ord, junk,
	    sizeof(junk), &o, &err), RC_BADCSR);
	assert_int_equal(err.problem, RA_PROB_BAD_CSR);
	assert_int_equal(o.status, RA_ST_READY);
	ra_order_clear(&o);
	assert_int_equal(ra_order_finalize(e->ra, acct, ord, NULL, 0, &o,
	    &err), RC_BADCSR);
	assert_int_equal(o.status, RA_ST_READY);
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, NCERTS), 1);
	EVP_PKEY_free(k);
}

/* OCSP Must-Staple asked for while the CA runs no OCSP responder: the CA
 * refuses the CSR, which the client sees as badCSR (not an internal
 * error), the order is invalid and nothing is issued. */
static void
test_finalize_must_staple_no_ocsp(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice"), ord;
	struct ra_order o = {0};
	struct ra_err err = {0};
	EVP_PKEY *k = rt_key();
	size_t len;
	uint8_t *csr = rt_csr_tlsf(k, "www.example.com", "status_request",
	    &len);

	e->cconf.ocsp = 0;
	rt_set_now(e, e->now);
	ord = ready_order(e, acct, "www.example.com");
	assert_int_equal(ra_order_finalize(e->ra, acct, ord, csr, len, &o,
	    &err), RC_BADCSR);
	assert_int_equal(err.problem, RA_PROB_BAD_CSR);
	assert_non_null(strstr(err.detail.msg, "Must-Staple"));
	assert_int_equal(o.status, RA_ST_INVALID);
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, NCERTS), 0);
	free(csr);
	EVP_PKEY_free(k);
}

/* RFC 7638 thumbprint of an EC P-256 key, computed here independently. */
static void
ec_thumbprint(EVP_PKEY *k, char out[44])
{
	uint8_t pt[65], h[SHA256_DIGEST_LENGTH];
	char x[48], y[48], json[200];
	size_t len = 0;

	assert_true(EVP_PKEY_get_octet_string_param(k,
	    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &len));
	assert_int_equal(len, 65);
	ra_b64u(pt + 1, 32, x);
	ra_b64u(pt + 33, 32, y);
	snprintf(json, sizeof(json),
	    "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", x,
	    y);
	SHA256((const uint8_t *)json, strlen(json), h);
	ra_b64u(h, sizeof(h), out);
}

static void
test_finalize_account_key(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key();
	struct ra_account a = {0};
	struct ra_order o = {0};
	struct ra_err err = {0};
	char tp[44];
	int64_t ord;

	/* RFC 8555 §11.1: the account key may not be the certificate key */
	ec_thumbprint(k, tp);
	assert_int_equal(ra_account_new(e->ra, "{}", tp, NULL, NULL, &a, &err),
	    0);
	ord = ready_order(e, a.id, "www.example.com");
	assert_int_equal(finalize(e, a.id, ord, k, "www.example.com", &o,
	    &err), RC_BADCSR);
	assert_non_null(strstr(err.detail.msg, "account key"));
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, NCERTS), 0);
	ra_account_clear(&a);
	EVP_PKEY_free(k);
}

static void
test_finalize_foreign_authz(void **state)
{
	struct rt_env *e = *state;
	int64_t alice = rt_account(e, "alice"), bob = rt_account(e, "bob");
	int64_t oa, ob, aa;
	struct ra_order o = {0};
	struct ra_err err = {0};
	EVP_PKEY *k = rt_key();
	char sql[200];

	/* bob's order made to point at alice's valid authorization (as a
	 * bug or a tampered row would): it never counts for bob */
	oa = ready_order(e, alice, "shared.example.com");
	ob = rt_order(e, bob, "shared.example.com");
	assert_int_equal(ra_order_get(e->ra, alice, oa, &o, &err), 0);
	aa = o.authz_ids[0];
	ra_order_clear(&o);
	snprintf(sql, sizeof(sql), "UPDATE order_authz SET authz_id = %lld "
	    "WHERE order_id = %lld", (long long)aa, (long long)ob);
	raw_sql(e, sql);
	assert_int_equal(ra_order_get(e->ra, bob, ob, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_INVALID);
	assert_int_equal(o.error, RA_PROB_UNAUTHORIZED);
	ra_order_clear(&o);
	assert_int_equal(finalize(e, bob, ob, k, "shared.example.com", &o,
	    &err), RC_STATE);
	assert_int_equal(err.problem, RA_PROB_ORDER_NOT_READY);

	/* (finalize's own re-check of the authorizations is shown by
	 * test_finalize_stale_validation) */
	assert_int_equal(rt_count(e, NCERTS), 0);
	EVP_PKEY_free(k);
}

static void
test_finalize_stale_validation(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice"), ord;
	struct ra_order o = {0};
	struct ra_err err = {0};
	EVP_PKEY *k = rt_key();
	char sql[200];

	/* the authorization still reads valid (unexpired), but it was
	 * validated longer ago than the policy calendar allows to reuse
	 * now: finalize refuses (no issuance without a current validation) */
	ord = ready_order(e, acct, "www.example.com");
	snprintf(sql, sizeof(sql), "UPDATE authorizations SET validated_at "
	    "= %lld", (long long)(RT_T0 - 400 * DAY));
	raw_sql(e, sql);
	assert_int_equal(finalize(e, acct, ord, k, "www.example.com", &o,
	    &err), RC_UNAUTH);
	assert_int_equal(err.problem, RA_PROB_UNAUTHORIZED);
	assert_int_equal(err.nsub, 1);
	assert_string_equal(err.sub[0].value, "www.example.com");
	assert_int_equal(o.status, RA_ST_INVALID);
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, NCERTS), 0);
	EVP_PKEY_free(k);
}

static void
test_finalize_caa(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice"), ord;
	struct ra_order o = {0};
	struct ra_err err = {0};
	EVP_PKEY *k = rt_key();

	ord = ready_order(e, acct, "a.example.com b.example.com");
	e->fake.caa_forbid = "b.example.com";
	assert_int_equal(finalize(e, acct, ord, k, "a.example.com "
	    "b.example.com", &o, &err), RC_POLICY);
	assert_int_equal(err.problem, RA_PROB_CAA);
	assert_int_equal(err.nsub, 1);
	assert_string_equal(err.sub[0].value, "b.example.com");
	assert_int_equal(o.status, RA_ST_INVALID);
	assert_int_equal(o.error, RA_PROB_CAA);
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, NCERTS), 0);
	/* the wildcard asks CAA for the base name with the wildcard flag */
	e->fake.caa_forbid = NULL;
	ord = ready_order(e, acct, "*.example.com");
	assert_int_equal(finalize(e, acct, ord, k, "*.example.com", &o, &err),
	    0);
	assert_string_equal(e->fake.last_method, "dns-01");
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, NCERTS), 1);
	EVP_PKEY_free(k);
}

/* Issues a certificate for names to acct; returns its serial (41). */
static void
issue(struct rt_env *e, int64_t acct, const char *names, EVP_PKEY *k,
    char serial[41])
{
	struct ra_order o = {0};
	struct ra_err err = {0};
	int64_t ord = ready_order(e, acct, names);

	if (finalize(e, acct, ord, k, names, &o, &err) != 0)
		fail_msg("finalize: %s", err.detail.msg);
	memcpy(serial, o.cert_serial, 41);
	ra_order_clear(&o);
}

/*
 * Issuance interrupted by a crash or a restart: orders left in processing
 * are settled by ra_jobs_run once they are RA_PROCESSING_STALE old, valid
 * when the certificate was stored, else invalid with serverInternal; each
 * audited; a young processing order and other states are left alone.
 */
static void
test_recover_interrupted(void **state)
{
	struct rt_env *e = *state;
	struct ra_order o = {0};
	struct ra_err err = {0};
	EVP_PKEY *k = rt_key();
	int64_t acct = rt_account(e, "alice");
	int64_t stored, lost, young, done;
	char serial[41], sql[256];
	size_t ran = 0;

	/* stored: the CA stored the certificate, the order did not record
	 * it (what a crash between the two leaves) */
	stored = ready_order(e, acct, "stored.example.com");
	assert_int_equal(finalize(e, acct, stored, k, "stored.example.com",
	    &o, &err), 0);
	assert_int_equal(o.status, RA_ST_VALID);
	snprintf(serial, sizeof(serial), "%s", o.cert_serial);
	ra_order_clear(&o);
	snprintf(sql, sizeof(sql), "UPDATE orders SET status = 'processing', "
	    "cert_serial = NULL WHERE id = %lld", (long long)stored);
	raw_sql(e, sql);
	/* lost: processing, nothing issued (a crash before the CA) */
	lost = ready_order(e, acct, "lost.example.com");
	assert_int_equal(store_order_set_status(e->st, lost, "ready",
	    "processing", NULL, NULL, NULL, 0, e->now), 0);
	/* done: a normal valid order */
	done = ready_order(e, acct, "done.example.com");
	assert_int_equal(finalize(e, acct, done, k, "done.example.com", &o,
	    &err), 0);
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, NCERTS), 2);

	/* not yet stale: ra_jobs_run leaves them processing */
	rt_set_now(e, e->now + RA_PROCESSING_STALE - 10);
	assert_int_equal(ra_jobs_run(e->ra, 8, &ran), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM orders WHERE "
	    "status = 'processing'"), 2);

	/* young: went processing just now */
	young = ready_order(e, acct, "young.example.com");
	assert_int_equal(store_order_set_status(e->st, young, "ready",
	    "processing", NULL, NULL, NULL, 0, e->now), 0);

	/* stale (and RA_RECOVER_EVERY passed): settled */
	rt_set_now(e, e->now + RA_RECOVER_EVERY + 10);
	assert_int_equal(ra_jobs_run(e->ra, 8, &ran), 0);
	assert_int_equal(ra_order_get(e->ra, acct, stored, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_VALID);
	assert_string_equal(o.cert_serial, serial);
	assert_null(o.error_json);
	ra_order_clear(&o);
	assert_int_equal(ra_order_get(e->ra, acct, lost, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_INVALID);
	assert_string_equal(o.cert_serial, "");
	assert_non_null(o.error_json);
	assert_non_null(strstr(o.error_json,
	    "urn:ietf:params:acme:error:serverInternal"));
	ra_order_clear(&o);
	assert_int_equal(ra_order_get(e->ra, acct, young, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_PROCESSING);
	ra_order_clear(&o);
	assert_int_equal(ra_order_get(e->ra, acct, done, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_VALID);
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.order.recovered' AND actor = 'system' AND "
	    "details LIKE '%\"outcome\":\"valid\"%'"), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.order.recovered' AND "
	    "details LIKE '%\"outcome\":\"invalid\"%'"), 1);
	/* nothing more was issued */
	assert_int_equal(rt_count(e, NCERTS), 2);

	/* the young one too, once stale; the settled ones stay as they are
	 * (no second audit entry) */
	rt_set_now(e, e->now + RA_PROCESSING_STALE + RA_RECOVER_EVERY);
	assert_int_equal(ra_jobs_run(e->ra, 8, &ran), 0);
	assert_int_equal(ra_order_get(e->ra, acct, young, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_INVALID);
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.order.recovered'"), 3);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM orders WHERE "
	    "status = 'processing'"), 0);
	/* the store's helpers refuse bad input */
	assert_int_equal(store_order_stale(e->st, "bogus", e->now, &young, 1,
	    &ran), RC_INVAL);
	assert_int_equal(store_cert_serial_by_order(e->st, 0, serial),
	    RC_INVAL);
	assert_int_equal(store_cert_serial_by_order(e->st, lost, serial),
	    RC_NOTFOUND);
	EVP_PKEY_free(k);
}

/* More interrupted orders than one batch: all settled in one call. */
static void
test_recover_many(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice");
	char names[64], sql[160];
	size_t ran = 0;

	for (int i = 0; i < 70; i++) {
		snprintf(names, sizeof(names), "n%d.example.com", i);
		(void)rt_order(e, acct, names);
	}
	snprintf(sql, sizeof(sql), "UPDATE orders SET status = 'processing', "
	    "updated_at = %lld", (long long)e->now);
	raw_sql(e, sql);
	rt_set_now(e, e->now + RA_PROCESSING_STALE + 1);
	assert_int_equal(ra_jobs_run(e->ra, 8, &ran), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM orders WHERE "
	    "status = 'invalid'"), 70);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.order.recovered'"), 70);
	assert_int_equal(rt_count(e, NCERTS), 0);
}

static void
test_revoke(void **state)
{
	struct rt_env *e = *state;
	int64_t alice = rt_account(e, "alice"), bob = rt_account(e, "bob");
	int64_t carol = rt_account(e, "carol");
	EVP_PKEY *k = rt_key(), *k2 = rt_key();
	struct ra_revoke_req rq = {0};
	struct ra_err err = {0};
	struct store_cert sc = {0};
	char s1[41], s2[41], s3[41];
	uint8_t *der = NULL, *spki = NULL;
	size_t len = 0;
	int spki_len;
	X509 *x;

	issue(e, alice, "a.example.com", k, s1);
	issue(e, alice, "b.example.com", k, s2);
	issue(e, alice, "c.example.com", k2, s3);

	/* by an account without authorizations: refused */
	x = load_cert(e, s1, &der, &len);
	rq.cert_der = der;
	rq.cert_len = len;
	rq.reason = 4;
	rq.account_id = bob;
	assert_int_equal(ra_cert_revoke(e->ra, &rq, &err), RC_UNAUTH);
	assert_int_equal(err.problem, RA_PROB_UNAUTHORIZED);
	/* bad reasons */
	rq.account_id = alice;
	for (int r = -1; r <= 11; r++) {
		if (r == 0 || r == 1 || r == 3 || r == 4 || r == 5)
			continue;
		rq.reason = r;
		memset(&err, 0, sizeof(err));
		assert_int_equal(ra_cert_revoke(e->ra, &rq, &err), RC_INVAL);
		assert_int_equal(err.problem, RA_PROB_BAD_REVOCATION_REASON);
	}
	/* by the owner */
	rq.reason = 4;
	assert_int_equal(ra_cert_revoke(e->ra, &rq, &err), 0);
	assert_int_equal(store_cert_get(e->st, s1, &sc), 0);
	assert_int_equal(sc.revoked, 1);
	assert_int_equal(sc.reason, 4);
	store_cert_clear(&sc);
	/* twice */
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_cert_revoke(e->ra, &rq, &err), RC_EXISTS);
	assert_int_equal(err.problem, RA_PROB_ALREADY_REVOKED);
	X509_free(x);
	free(der);

	/* by the certificate key (the caller verified the JWS with it) */
	x = load_cert(e, s2, &der, &len);
	rq.cert_der = der;
	rq.cert_len = len;
	rq.account_id = 0;
	rq.reason = 1;
	spki_len = i2d_PUBKEY(k2, &spki);	/* a different key */
	rq.key_spki = spki;
	rq.key_spki_len = (size_t)spki_len;
	assert_int_equal(ra_cert_revoke(e->ra, &rq, &err), RC_UNAUTH);
	OPENSSL_free(spki);
	spki = NULL;
	spki_len = i2d_PUBKEY(k, &spki);
	rq.key_spki = spki;
	rq.key_spki_len = (size_t)spki_len;
	/* not both ways at once */
	rq.account_id = alice;
	assert_int_equal(ra_cert_revoke(e->ra, &rq, &err), RC_INVAL);
	rq.account_id = 0;
	rq.reason = 0;		/* asked: unspecified */
	assert_int_equal(ra_cert_revoke(e->ra, &rq, &err), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'cert.revoke' AND actor = 'acme:certkey'"), 1);
	/* whoever signs with the key holds it: keyCompromise, key blocked */
	assert_int_equal(store_cert_get(e->st, s2, &sc), 0);
	assert_int_equal(sc.reason, 1);
	store_cert_clear(&sc);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM blocked_keys"), 1);
	OPENSSL_free(spki);
	spki = NULL;
	X509_free(x);
	free(der);

	/* by another account holding valid authorizations for every name
	 * (as Boulder) */
	x = load_cert(e, s3, &der, &len);
	memset(&rq, 0, sizeof(rq));
	rq.cert_der = der;
	rq.cert_len = len;
	rq.account_id = carol;
	rq.reason = 1;
	assert_int_equal(ra_cert_revoke(e->ra, &rq, &err), RC_UNAUTH);
	(void)ready_order(e, carol, "c.example.com");
	assert_int_equal(ra_cert_revoke(e->ra, &rq, &err), 0);
	/* it speaks for the names, not for alice's key: cessationOfOperation
	 * whatever it asked, and the key is not blocked */
	assert_int_equal(store_cert_get(e->st, s3, &sc), 0);
	assert_int_equal(sc.reason, 5);
	store_cert_clear(&sc);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM blocked_keys"), 1);
	/* signed by the key of a certificate revoked already (by its owner,
	 * as superseded): the key is blocked all the same */
	rq.account_id = 0;
	rq.reason = 4;
	spki_len = i2d_PUBKEY(k2, &spki);
	rq.key_spki = spki;
	rq.key_spki_len = (size_t)spki_len;
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_cert_revoke(e->ra, &rq, &err), RC_EXISTS);
	assert_int_equal(err.problem, RA_PROB_ALREADY_REVOKED);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM blocked_keys"), 2);
	/* again: blocked already, nothing more is written */
	assert_int_equal(ra_cert_revoke(e->ra, &rq, &err), RC_EXISTS);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'key.compromised'"), 1);
	OPENSSL_free(spki);
	spki = NULL;
	memset(&rq, 0, sizeof(rq));
	rq.cert_der = der;
	rq.cert_len = len;
	rq.account_id = carol;

	/* malformed input: truncated, trailing bytes, not ours */
	rq.cert_len = len - 1;
	assert_int_equal(ra_cert_revoke(e->ra, &rq, &err), RC_INVAL);
	assert_int_equal(err.problem, RA_PROB_MALFORMED);
	rq.cert_der = (const uint8_t *)"junk";
	rq.cert_len = 4;
	assert_int_equal(ra_cert_revoke(e->ra, &rq, &err), RC_INVAL);
	rq.cert_der = NULL;
	assert_int_equal(ra_cert_revoke(e->ra, &rq, &err), RC_INVAL);
	X509_free(x);
	free(der);
	{
		/* a certificate we did not issue, with a serial like ours */
		X509 *self = X509_new();
		unsigned char *sd = NULL;
		int sl;

		X509_set_version(self, 2);
		ASN1_INTEGER_set(X509_get_serialNumber(self), 12345);
		X509_gmtime_adj(X509_getm_notBefore(self), 0);
		X509_gmtime_adj(X509_getm_notAfter(self), 3600);
		X509_set_pubkey(self, k);
		X509_sign(self, k, EVP_sha256());
		sl = i2d_X509(self, &sd);
		rq.cert_der = sd;
		rq.cert_len = (size_t)sl;
		memset(&err, 0, sizeof(err));
		assert_int_equal(ra_cert_revoke(e->ra, &rq, &err),
		    RC_NOTFOUND);
		assert_int_equal(err.problem, RA_PROB_MALFORMED);
		OPENSSL_free(sd);
		X509_free(self);
	}
	/* the certificates' CRL shard was republished with each revocation */
	assert_true(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'crl.publish'") >= 3);
	assert_true(rt_count(e, "SELECT count(*) FROM crl_shards WHERE "
	    "der IS NOT NULL") >= 1);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

/* Issues a certificate for names to acct: its serial in s, its DER in
 * *der (free()), its certID parts in id (the serial octets in ser, the
 * AKI in the certificate returned: X509_free() it after id). */
static X509 *
issue_certid(struct rt_env *e, int64_t acct, const char *names, EVP_PKEY *k,
    char s[41], uint8_t **der, size_t *len, uint8_t ser[20],
    struct ra_certid *id)
{
	const ASN1_OCTET_STRING *kid;
	X509 *x;

	issue(e, acct, names, k, s);
	x = load_cert(e, s, der, len);
	kid = X509_get0_authority_key_id(x);
	assert_non_null(kid);
	id->aki = ASN1_STRING_get0_data(kid);
	id->aki_len = (size_t)ASN1_STRING_length(kid);
	id->serial = ser;
	id->serial_len = (size_t)hex_decode(s, ser, 20);
	return x;
}

static void
test_ari(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice");
	EVP_PKEY *k = rt_key();
	struct ra_revoke_req rq = {0};
	struct ra_err err = {0};
	struct ra_certid id;
	uint8_t ser[20], *der = NULL, badkid[64];
	char s1[41];
	size_t len = 0, sl;
	time_t start, end, nb, na;
	X509 *x = issue_certid(e, acct, "a.example.com", k, s1, &der, &len,
	    ser, &id);

	sl = id.serial_len;
	{
		struct store_cert sc = {0};

		assert_int_equal(store_cert_get(e->st, s1, &sc), 0);
		nb = sc.not_before;
		na = sc.not_after;
		store_cert_clear(&sc);
	}
	assert_int_equal(ra_ari_window(e->ra, id.aki, id.aki_len, ser, sl,
	    &start, &end, &err), 0);
	assert_int_equal(start, nb + (na - nb) / 3 * 2);
	assert_int_equal(end, nb + (na - nb) / 6 * 5);
	assert_true(start > RT_T0 && end > start && end < na);
	/* a wrong AKI, a wrong serial, non-minimal serials */
	memcpy(badkid, id.aki, id.aki_len);
	badkid[0] ^= 1;
	assert_int_equal(ra_ari_window(e->ra, badkid, id.aki_len, ser, sl,
	    &start, &end, &err), RC_NOTFOUND);
	ser[sl - 1] ^= 1;
	assert_int_equal(ra_ari_window(e->ra, id.aki, id.aki_len, ser, sl,
	    &start, &end, &err), RC_NOTFOUND);
	ser[sl - 1] ^= 1;
	{
		uint8_t padded[21] = {0};

		memcpy(padded + 1, ser, sl);
		assert_int_equal(ra_ari_window(e->ra, id.aki, id.aki_len,
		    padded, sl + 1, &start, &end, &err), RC_NOTFOUND);
	}
	assert_int_equal(ra_ari_window(e->ra, NULL, 0, ser, sl, &start, &end,
	    &err), RC_NOTFOUND);
	/* revoked: renew now */
	rq.cert_der = der;
	rq.cert_len = len;
	rq.account_id = acct;
	assert_int_equal(ra_cert_revoke(e->ra, &rq, &err), 0);
	assert_int_equal(ra_ari_window(e->ra, id.aki, id.aki_len, ser, sl,
	    &start, &end, &err), 0);
	assert_int_equal(start, RT_T0 - 3600);
	assert_int_equal(end, RT_T0 - 1800);
	X509_free(x);
	free(der);
	EVP_PKEY_free(k);
}

/*
 * RFC 9773 §5, newOrder's "replaces", checked as Boulder does: a
 * certificate of ours, issued to this account, sharing an identifier with
 * the order, and not already being replaced by a live order (409
 * alreadyReplaced); a refusal stores nothing; the order keeps the
 * canonical certID; a replacement is a renewal for the per-domain limit.
 */
static void
test_ari_replaces(void **state)
{
	struct rt_env *e = *state;
	int64_t alice = rt_account(e, "alice"), bob = rt_account(e, "bob");
	EVP_PKEY *k = rt_key();
	struct ra_err err = {0};
	struct ra_order o = {0};
	struct ra_certid id;
	uint8_t ser[20], *der = NULL;
	char s1[41], s2[41], cid[RA_CERTID_MAX], want[200];
	size_t len = 0;
	int64_t first, second, third, orders;
	X509 *x = issue_certid(e, alice, "r.example.com www.r.example.com", k,
	    s1, &der, &len, ser, &id);

	ra_b64u(id.aki, id.aki_len, cid);
	strcat(cid, ".");
	ra_b64u(ser, id.serial_len, cid + strlen(cid));
	orders = rt_count(e, "SELECT count(*) FROM orders");

	/* another account's certificate */
	assert_int_equal(rt_try_order_replacing(e, bob, "r.example.com", &id,
	    NULL, &err), RC_UNAUTH);
	assert_int_equal(err.problem, RA_PROB_UNAUTHORIZED);
	snprintf(want, sizeof(want), "the certificate %s named by "
	    "\"replaces\" was not issued to this account", s1);
	assert_string_equal(err.detail.msg, want);
	/* no identifier in common (case and order aside) */
	assert_int_equal(rt_try_order_replacing(e, alice, "x.example.com "
	    "r.example.org", &id, NULL, &err), RC_INVAL);
	assert_int_equal(err.problem, RA_PROB_MALFORMED);
	assert_non_null(strstr(err.detail.msg, "shares no identifier"));
	/* not a certificate of ours: another serial, another AKI */
	ser[id.serial_len - 1] ^= 1;
	assert_int_equal(rt_try_order_replacing(e, alice, "r.example.com",
	    &id, NULL, &err), RC_NOTFOUND);
	assert_int_equal(err.problem, RA_PROB_MALFORMED);
	ser[id.serial_len - 1] ^= 1;
	{
		uint8_t bad[64];
		struct ra_certid other = id;

		memcpy(bad, id.aki, id.aki_len);
		bad[0] ^= 0x80;
		other.aki = bad;
		assert_int_equal(rt_try_order_replacing(e, alice,
		    "r.example.com", &other, NULL, &err), RC_NOTFOUND);
	}
	assert_int_equal(rt_count(e, "SELECT count(*) FROM orders"), orders);

	/* a replacement sharing one name, with a new one, and the
	 * per-domain limit full: a renewal is not refused by it */
	e->ra->conf.lim_domain = (struct ra_limit){1, 7 * 86400};
	assert_int_equal(rt_try_order(e, alice, "new.example.com", NULL,
	    &err), 0);	/* 1 of 1, counted at issuance */
	issue(e, alice, "new.example.com", k, s2);
	assert_int_equal(rt_try_order(e, alice, "new2.example.com", NULL,
	    &err), RC_POLICY);
	assert_int_equal(rt_try_order_replacing(e, alice, "WWW.r.example.com "
	    "more.r.example.com", &id, &first, &err), 0);
	assert_int_equal(ra_order_get(e->ra, alice, first, &o, NULL), 0);
	assert_non_null(o.replaces);
	assert_string_equal(o.replaces, cid);
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.order.new' AND details LIKE '%\"replaces\"%'"),
	    1);
	/* a second replacement while the first is live */
	assert_int_equal(rt_try_order_replacing(e, alice, "r.example.com", &id,
	    &second, &err), RC_EXISTS);
	assert_int_equal(err.problem, RA_PROB_ALREADY_REPLACED);
	snprintf(want, sizeof(want), "the certificate %s is already being "
	    "replaced by order %lld", cid, (long long)first);
	assert_string_equal(err.detail.msg, want);
	/* the first can no longer be finalized (an authorization
	 * deactivated): a new replacement may go */
	assert_int_equal(ra_order_get(e->ra, alice, first, &o, NULL), 0);
	{
		struct ra_authz a = {0};

		assert_int_equal(ra_authz_deactivate(e->ra, alice,
		    o.authz_ids[o.nauthz - 1], &a, NULL), 0);
		ra_authz_clear(&a);
	}
	ra_order_clear(&o);
	assert_int_equal(rt_try_order_replacing(e, alice, "r.example.com "
	    "www.r.example.com", &id, &third, &err), 0);
	rt_validate_order(e, alice, third, RA_CHALL_HTTP01);
	assert_int_equal(finalize(e, alice, third, k, "r.example.com "
	    "www.r.example.com", &o, &err), 0);
	assert_int_equal(o.status, RA_ST_VALID);
	ra_order_clear(&o);
	/* replaced: after the order's expiry too */
	rt_set_now(e, RT_T0 + 30 * 86400);
	assert_int_equal(rt_try_order_replacing(e, alice, "r.example.com", &id,
	    NULL, &err), RC_EXISTS);
	assert_int_equal(err.problem, RA_PROB_ALREADY_REPLACED);
	X509_free(x);
	free(der);
	EVP_PKEY_free(k);
}

/* ---- the real path: http-01 and CAA from knotd --------------------------- */

/* Real http-01 for name (answered by our server), then finalize. */
static int
real_issue(struct rt_real *r, int64_t acct, const char *seed, const char *name,
    struct ra_order *o, struct ra_err *err)
{
	struct rt_env *e = r->e;
	struct ra_order ro = {0};
	struct ra_authz a = {0};
	struct ra_challenge c = {0};
	char tp[44], body[128];
	EVP_PKEY *k = rt_key();
	int64_t ord = rt_order(e, acct, name);
	int rc;

	rt_thumbprint(seed, tp);
	assert_int_equal(ra_order_get(e->ra, acct, ord, &ro, NULL), 0);
	assert_int_equal(ra_authz_get(e->ra, acct, ro.authz_ids[0], &a, NULL),
	    0);
	for (size_t i = 0; i < a.nchall; i++) {
		if (a.chall[i].type != RA_CHALL_HTTP01)
			continue;
		snprintf(body, sizeof(body), "%s.%s", a.chall[i].token, tp);
		rt_http_set(&r->http, a.chall[i].token, body);
		assert_int_equal(ra_challenge_respond(e->ra, acct,
		    a.chall[i].id, &c, NULL), 0);
		ra_challenge_clear(&c);
		assert_int_equal(ra_challenge_validate_now(e->ra, acct,
		    a.chall[i].id, &c, NULL), 0);
		if (c.status != RA_ST_VALID)
			fail_msg("http-01 %s: %s", name, c.error_detail);
		ra_challenge_clear(&c);
	}
	ra_authz_clear(&a);
	ra_order_clear(&ro);
	rc = finalize(e, acct, ord, k, name, o, err);
	EVP_PKEY_free(k);
	return rc;
}

static void
test_real_caa(void **state)
{
	struct rt_real *r = *state;
	struct rt_env *e;
	int64_t a1, a2;
	struct ra_order o = {0};
	struct ra_err err = {0};

	if (r == NULL)
		skip();
	e = r->e;
	/* addresses for names that only have CAA records in the zone */
	if (rt_nsupdate(r->knot.resolver,
	    "update add ours.caa.vtest. 60 A 127.0.0.1\n"
	    "update add other.caa.vtest. 60 A 127.0.0.1\n"
	    "update add acct.caa.vtest. 60 A 127.0.0.1\n"
	    "update add both.caa.vtest. 60 A 127.0.0.1") != 0)
		fail_msg("knsupdate failed");
	a1 = rt_account(e, "alice");	/* id 1: TL_ACCOUNT's account */
	a2 = rt_account(e, "bob");
	assert_int_equal(a1, 1);

	assert_int_equal(real_issue(r, a1, "alice", "ours.caa.vtest", &o,
	    &err), 0);
	assert_int_equal(o.status, RA_ST_VALID);
	ra_order_clear(&o);
	/* CAA names another CA */
	assert_int_equal(real_issue(r, a1, "alice", "other.caa.vtest", &o,
	    &err), RC_POLICY);
	assert_int_equal(err.problem, RA_PROB_CAA);
	assert_int_equal(o.status, RA_ST_INVALID);
	ra_order_clear(&o);
	/* RFC 8657 accounturi: account 1 only */
	assert_int_equal(real_issue(r, a2, "bob", "acct.caa.vtest", &o,
	    &err), RC_POLICY);
	assert_int_equal(err.problem, RA_PROB_CAA);
	ra_order_clear(&o);
	assert_int_equal(real_issue(r, a1, "alice", "acct.caa.vtest", &o,
	    &err), 0);
	ra_order_clear(&o);
	/* accounturi + validationmethods=http-01 */
	assert_int_equal(real_issue(r, a1, "alice", "both.caa.vtest", &o,
	    &err), 0);
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, NCERTS), 3);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.order.invalid' AND details LIKE '%\"caa\"%'"), 2);
	/* the audit entries are JSON, with one CAA record per name as the
	 * validation wrote it */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action IN ('acme.order.valid', 'acme.order.invalid') AND "
	    "json_valid(details) AND json_array_length(details, '$.caa') = 1 "
	    "AND json_type(details, '$.caa[0]') = 'object' AND "
	    "json_extract(details, '$.order') > 0"), 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_finalize_ok, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_finalize_ip, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_finalize_not_ready, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_finalize_bad_csr, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(
		    test_finalize_must_staple_no_ocsp, rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_finalize_account_key,
		    rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_finalize_foreign_authz,
		    rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_finalize_stale_validation,
		    rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_finalize_caa, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_recover_interrupted,
		    rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_recover_many, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_revoke, rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_ari, rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_ari_replaces, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_real_caa, rt_real_setup,
		    rt_real_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
