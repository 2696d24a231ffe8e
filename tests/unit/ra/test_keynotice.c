/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/ra/keynotice.c through ra.h: the subscribers of the
 * certificates a key compromise revokes are told by mail, whichever path
 * revoked them (BR 4.9.1.1 (3) revokes every certificate of the key): an
 * ACME revocation signed by the key (every subscriber, the requested
 * certificate's too), an ACME account's and a portal customer's own
 * revocation for keyCompromise (not about the certificate it revoked,
 * about its other ones of the key), the operator's block and revocation
 * (every subscriber). Each mail names its subscriber's certificates only;
 * who was told about what is audited with the revocations. The portal
 * slots of the certificates a key's revocation takes along follow them.
 */
#include "ra_test.h"
#include "store/store.h"
#include "util/xmalloc.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define ALICE "alice@shop-owner.example"
#define OPS "ops@acme-x.example"
#define YOU "y@acme-y.example"

static int64_t
alice(struct rt_env *e)
{
	int64_t uid = 0;

	assert_int_equal(store_user_add(e->st, e->customer, ALICE,
	    "Alice Owner", STORE_ROLE_CUSTOMER, NULL, &uid), 0);
	return uid;
}

/* The revocation reason of serial, or -1 when it is not revoked. */
static int
reason_of(struct rt_env *e, const char *serial)
{
	struct store_cert c = {0};
	int r;

	assert_int_equal(store_cert_get(e->st, serial, &c), 0);
	r = c.revoked ? c.reason : -1;
	store_cert_clear(&c);
	return r;
}

/* ra_cert_revoke of serial by account acct (0: signed by key k). */
static int
acme_revoke(struct rt_env *e, const char *serial, int64_t acct, EVP_PKEY *k,
    int reason)
{
	struct store_cert c = {0};
	struct ra_revoke_req rq;
	struct ra_err err = {0};
	unsigned char *spki = NULL;
	int rc, n = 0;

	assert_int_equal(store_cert_get(e->st, serial, &c), 0);
	memset(&rq, 0, sizeof(rq));
	rq.cert_der = c.der;
	rq.cert_len = c.der_len;
	rq.reason = reason;
	rq.account_id = acct;
	if (acct == 0) {
		n = i2d_PUBKEY(k, &spki);
		assert_true(n > 0);
		rq.key_spki = spki;
		rq.key_spki_len = (size_t)n;
	}
	rc = ra_cert_revoke(e->ra, &rq, &err);
	if (rc != 0)
		print_message("revoke: %s\n", err.detail.msg);
	OPENSSL_free(spki);
	store_cert_clear(&c);
	return rc;
}

/* rt_count() of the query that fmt and the rest make. */
static long long count_f(struct rt_env *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static long long
count_f(struct rt_env *e, const char *fmt, ...)
{
	char sql[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	return rt_count(e, sql);
}

/*
 * IMPLEMENTATION-OF: RFC 8555 §7.6 revocation signed by the certificate's
 * key. Whoever signed holds the key, and may or may not be the
 * subscriber: every certificate of the key is revoked and every
 * subscriber told, the requested certificate's too.
 */
static void
test_key_holder(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key(), *other = rt_key();
	int64_t uid = alice(e), x, y, order = 0;
	char p[41], a1[41], a2[41], o[41], hex[65], st[16];
	char *body, *subject = NULL;

	rt_portal_cert(e, uid, "shop.example.com",
	    "shop.example.com www.shop.example.com", k, p, &order);
	x = rt_account_with(e, "acme-x", "[\"mailto:" OPS "\"]");
	y = rt_account_with(e, "acme-y", "[\"mailto:" YOU "\"]");
	rt_acme_cert(e, x, "a1.example.org", k, a1);
	rt_acme_cert(e, y, "a2.example.org", k, a2);
	rt_acme_cert(e, x, "o.example.org", other, o);
	rt_spki_hex(k, hex);

	assert_int_equal(acme_revoke(e, a1, 0, k, 0), 0);
	assert_int_equal(reason_of(e, a1), 1);
	assert_int_equal(reason_of(e, a2), 1);
	assert_int_equal(reason_of(e, p), 1);
	assert_int_equal(reason_of(e, o), -1);
	/* the portal slot follows its certificate, though the portal did
	 * not revoke it */
	assert_string_equal(rt_slot_state(e, order, st, sizeof(st)),
	    "revoked");

	body = rt_mail_to(e, "key.revoked", ALICE, &subject);
	assert_non_null(body);
	assert_string_equal(subject, "Revoked: your SSL certificate for "
	    "shop.example.com (key compromised)");
	assert_true(strncmp(body, "Hello Alice Owner,\n\n", 20) == 0);
	rt_has(body, p);
	rt_has(body, "someone asked us to revoke a certificate of the key "
	    "and proved that they hold the key");
	rt_has(body, "our report to you (4.9.5)");
	/* the time as the pages show it (util/timefmt.h) */
	rt_has(body, " On 10 Jan 2026, 00:00 UTC someone asked");
	rt_has(body, "Revoked: 10 Jan 2026, 00:00 UTC, reason keyCompromise\n");
	rt_has(body, hex);
	rt_has(body, "open its order above and choose \"Renew or reissue");
	rt_has_not(body, a1);
	rt_has_not(body, a2);
	free(body);
	free(subject);
	/* the requested certificate's subscriber too: the key's holder
	 * need not be it */
	body = rt_mail_to(e, "key.revoked", OPS, NULL);
	assert_non_null(body);
	rt_has(body, "Serial number: ");
	rt_has(body, a1);
	rt_has(body, "ACME client");
	rt_has_not(body, a2);
	rt_has_not(body, p);
	rt_has_not(body, o);
	free(body);
	body = rt_mail_to(e, "key.revoked", YOU, NULL);
	assert_non_null(body);
	rt_has(body, a2);
	rt_has_not(body, a1);
	free(body);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind LIKE 'key.%'"), 3);
	/* audited after the revocations, in their transaction */
	assert_int_equal(count_f(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'key.revoke.mail' AND actor = 'acme:certkey' AND "
	    "object = 'key:%s' AND details LIKE '%%\"cause\":\"key_holder\""
	    "%%\"requested\":\"%s\"%%'", hex, a1), 1);
	assert_int_equal(count_f(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'key.revoke.mail' AND details LIKE "
	    "'%%{\"serials\":[\"%s\"],\"to\":\"" ALICE "\"}%%'", p),
	    1);
	assert_int_equal(rt_count(e, "SELECT (SELECT max(seq) FROM audit_log "
	    "WHERE action = 'key.revoke.mail') > (SELECT max(seq) FROM "
	    "audit_log WHERE action = 'cert.revoke')"), 1);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

/*
 * An ACME account revokes its own certificate for keyCompromise: it is
 * not told about that one, but is about its other certificate of the key,
 * which went with it; the other subscriber is told without learning who.
 * An account with no other certificate of the key gets no mail; another
 * reason tells nobody.
 */
static void
test_acme_subscriber(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key(), *k2 = rt_key(), *k3 = rt_key();
	int64_t x, y;
	char a1[41], a2[41], a3[41], b1[41], c1[41], hex[65];
	char *body, *subject = NULL;

	x = rt_account_with(e, "acme-x", "[\"mailto:" OPS "\"]");
	y = rt_account_with(e, "acme-y", "[\"mailto:" YOU "\"]");
	rt_acme_cert(e, x, "a1.example.org", k, a1);
	rt_acme_cert(e, x, "a3.example.org", k, a3);
	rt_acme_cert(e, y, "a2.example.org", k, a2);
	rt_acme_cert(e, x, "b1.example.org", k2, b1);
	rt_acme_cert(e, x, "c1.example.org", k3, c1);
	rt_spki_hex(k, hex);

	/* superseded: nothing else revoked, nobody told */
	assert_int_equal(acme_revoke(e, c1, x, NULL, 4), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action LIKE 'key.%.mail'"), 0);

	assert_int_equal(acme_revoke(e, a1, x, NULL, 1), 0);
	assert_int_equal(reason_of(e, a3), 1);
	assert_int_equal(reason_of(e, a2), 1);
	body = rt_mail_to(e, "key.revoked", OPS, &subject);
	assert_non_null(body);
	assert_string_equal(subject, "Revoked: your SSL certificate for "
	    "a3.example.org (key compromised)");
	rt_has(body, "Serial number: ");
	rt_has(body, a3);
	rt_has(body, "you revoked your certificate");
	{
		char line[80];

		snprintf(line, sizeof(line), "Serial number: %s", a1);
		rt_has_not(body, line);
	}
	rt_has_not(body, "4.9.5");
	rt_has_not(body, a2);
	free(body);
	free(subject);
	body = rt_mail_to(e, "key.revoked", YOU, NULL);
	assert_non_null(body);
	rt_has(body, a2);
	rt_has(body, "the holder of another certificate of the same key "
	    "revoked it");
	rt_has_not(body, a1);
	rt_has_not(body, a3);
	rt_has_not(body, "acme-x");
	free(body);
	{
		char sql[400];

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log "
		    "WHERE action = 'key.revoke.mail' AND actor = "
		    "'acme:account/%lld' AND details LIKE '%%\"cause\":"
		    "\"subscriber\"%%\"requested\":\"%s\"%%"
		    "\"subscriber_mails\":2%%'", (long long)x, a1);
		assert_int_equal(rt_count(e, sql), 1);
	}

	/* its only certificate of k2: no mail, the revocation audited */
	assert_int_equal(acme_revoke(e, b1, x, NULL, 1), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind LIKE 'key.%'"), 2);
	assert_int_equal(count_f(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'key.revoke.mail' AND details LIKE "
	    "'%%\"requested\":\"%s\"%%\"subscriber_mails\":0%%'", b1),
	    1);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
}

/*
 * A portal customer revokes a certificate for keyCompromise: its other
 * certificate of the key (another slot) goes with it, and it is told
 * about that one; the ACME subscriber of the key too. Both slots follow
 * their certificates.
 */
static void
test_portal_subscriber(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key();
	int64_t uid = alice(e), y, o1 = 0, o2 = 0;
	struct ra_err err = {0};
	char p1[41], p2[41], a2[41], st[16], link[64], actor[48];
	char *body;

	rt_portal_cert(e, uid, "shop.example.com",
	    "shop.example.com www.shop.example.com", k, p1, &o1);
	rt_portal_cert(e, uid, "blog.example.com",
	    "blog.example.com www.blog.example.com", k, p2, &o2);
	y = rt_account_with(e, "acme-y", "[\"mailto:" YOU "\"]");
	rt_acme_cert(e, y, "a2.example.org", k, a2);
	snprintf(actor, sizeof(actor), "portal:user/%lld", (long long)uid);

	assert_int_equal(ra_portal_revoke(e->ra, e->customer, p1, 1, actor,
	    &err), 0);
	assert_int_equal(reason_of(e, p2), 1);
	assert_int_equal(reason_of(e, a2), 1);
	assert_string_equal(rt_slot_state(e, o1, st, sizeof(st)), "revoked");
	assert_string_equal(rt_slot_state(e, o2, st, sizeof(st)), "revoked");

	body = rt_mail_to(e, "key.revoked", ALICE, NULL);
	assert_non_null(body);
	rt_has(body, "We have revoked your SSL certificate for "
	    "blog.example.com");
	rt_has(body, p2);
	snprintf(link, sizeof(link), "/portal/orders/%lld\n", (long long)o2);
	rt_has(body, link);
	rt_has(body, "you revoked your certificate");
	snprintf(link, sizeof(link), "/portal/orders/%lld\n", (long long)o1);
	rt_has_not(body, link);
	rt_has_not(body, a2);
	free(body);
	body = rt_mail_to(e, "key.revoked", YOU, NULL);
	assert_non_null(body);
	rt_has(body, a2);
	rt_has_not(body, p1);
	rt_has_not(body, p2);
	rt_has_not(body, "shop.example.com");
	free(body);
	assert_int_equal(count_f(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'key.revoke.mail' AND actor = '%s' AND details LIKE "
	    "'%%\"requested\":\"%s\"%%'", actor, p1), 1);
	EVP_PKEY_free(k);
}

/*
 * The operator blocks a key (certdesk ca block-key) or revokes a
 * certificate for keyCompromise (ca revoke): it speaks for no
 * subscriber, so every one is told of every certificate. A hook that
 * fails undoes the block.
 */
static void
test_operator(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key(), *k2 = rt_key();
	int64_t uid = alice(e), y, z, order = 0;
	struct ra_key_notice kn;
	struct ca_block_hook hook;
	struct rc_detail d = {""};
	unsigned char *spki = NULL;
	uint8_t hash[32];
	char p[41], a2[41], c[41], st[16], *body;
	size_t revoked = 0;
	int n;

	rt_portal_cert(e, uid, "shop.example.com",
	    "shop.example.com www.shop.example.com", k, p, &order);
	y = rt_account_with(e, "acme-y", "[\"mailto:" YOU "\"]");
	rt_acme_cert(e, y, "a2.example.org", k, a2);
	z = rt_account_with(e, "acme-z", "[\"mailto:z@acme-z.example\"]");
	rt_acme_cert(e, z, "c.example.org", k2, c);

	n = i2d_PUBKEY(k, &spki);
	assert_true(n > 0);
	SHA256(spki, (size_t)n, hash);
	OPENSSL_free(spki);
	ra_key_notice_init(&kn, e->ra, RA_KEY_OPERATOR, "cli:root", &hook);
	assert_int_equal(ca_block_key_hash(e->ca, hash, "cli:root",
	    "a list of leaked keys", &hook, &revoked, &d), 0);
	assert_int_equal(revoked, 2);
	assert_int_equal(kn.mails, 2);
	assert_int_equal(kn.no_contact, 0);
	assert_string_equal(rt_slot_state(e, order, st, sizeof(st)),
	    "revoked");
	body = rt_mail_to(e, "key.revoked", ALICE, NULL);
	assert_non_null(body);
	rt_has(body, p);
	rt_has(body, "we found that the key is compromised");
	rt_has_not(body, a2);
	rt_has_not(body, "leaked");
	free(body);
	body = rt_mail_to(e, "key.revoked", YOU, NULL);
	assert_non_null(body);
	rt_has(body, a2);
	free(body);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'key.revoke.mail' AND actor = 'cli:root' AND details "
	    "LIKE '%\"cause\":\"operator\"%' AND details NOT LIKE "
	    "'%\"requested\"%'"), 1);

	/* ca revoke --reason keyCompromise: the requested certificate's
	 * subscriber is told too */
	ra_key_notice_init(&kn, e->ra, RA_KEY_OPERATOR, "cli:root", &hook);
	assert_int_equal(ca_revoke(e->ca, c, 1, "cli:root", &hook, &d), 0);
	assert_int_equal(kn.mails, 1);
	body = rt_mail_to(e, "key.revoked", "z@acme-z.example", NULL);
	assert_non_null(body);
	rt_has(body, c);
	free(body);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_holder, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_acme_subscriber,
		    rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_portal_subscriber,
		    rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_operator, rt_cm_setup,
		    rt_cm_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
