/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/ra/keyreport.c through ra.h: the reporter's contact
 * (none, an https:// URL, one plain address; line breaks, overlong,
 * lists, names, bad domains refused with a sentence), and a key report
 * whose key has a certificate of a portal order and one of an ACME order
 * (BR 4.9.5): the preliminary report to the reporter (the key, the
 * serials, no subscriber named) and to each subscriber (its own
 * certificate only) queued with the revocations and audited; a key with
 * no certificate; a subscriber without an address; a refused contact that
 * does nothing; the reporter mails one address gets in a day.
 */
#include "ra_test.h"
#include "store/store.h"
#include "util/buf.h"
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

/* A proof of possession of k: a request signed by it, CN as the ra
 * wants; *len its DER length; free(). */
static uint8_t *
proof_of(EVP_PKEY *k, size_t *len)
{
	X509_REQ *r = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	unsigned char *der = NULL;
	uint8_t *out;
	int dl;

	assert_non_null(r);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)RA_KEY_PROOF_CN, -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_subject_name(r, n), 1);
	assert_int_equal(X509_REQ_set_pubkey(r, k), 1);
	assert_true(X509_REQ_sign(r, k, EVP_sha256()) > 0);
	dl = i2d_X509_REQ(r, &der);
	assert_true(dl > 0);
	out = xmemdup(der, (size_t)dl);
	*len = (size_t)dl;
	OPENSSL_free(der);
	X509_NAME_free(n);
	X509_REQ_free(r);
	return out;
}

/* IMPLEMENTATION-OF: ra_key_report_contact (the form's contact field) */
static void
test_contact(void **state)
{
	static const char *const good_mail[] = {"finder@example.org",
		"first.last+tag@Sub.Example.COM", "o'brien@example.org"};
	static const struct {
		const char *c, *why;
	} bad[] = {
		{"finder@example.org\r\nBcc: evil@example.net", "line break"},
		{"finder@example.org\n", "line break"},
		{"finder @example.org", "a space"},
		{"finder@example.org\t", "a space"},
		{"Finder <finder@example.org>", "a space"},
		{"<finder@example.org>", "'<'"},
		{"a@example.org,b@example.org", "','"},
		{"a@example.org;b@example.org", "';'"},
		{"\"a b\"@example.org", "a space"},
		{"\"ab\"@example.org", "'\"'"},
		{"a%b@example.org", "'%'"},
		{"call me maybe", "a space"},
		{"nobody", "not an email address"},
		{"@example.org", "not an email address"},
		{"a@", "not an email address"},
		{"a@b@example.org", "not an email address"},
		{".a@example.org", "a dot"},
		{"a..b@example.org", "a dot"},
		{"a.@example.org", "a dot"},
		{"a@localhost", "not a domain name"},
		{"a@example..org", "not a domain name"},
		{"a@*.example.org", "not a domain name"},
		{"a@exa_mple.org", "not a domain name"},
		{"a@192.0.2.1", "not a domain name"},
		{"http://example.org/report", "must begin with https://"},
		{"mailto:finder@example.org", "':'"},
		{"https://", "no host"},
		{"https:///path", "no host"},
		{"caf\xc3\xa9@example.org", "outside ASCII"},
	};
	struct ra_err err;
	char local[80], long_addr[300];

	(void)state;
	assert_int_equal(ra_key_report_contact(NULL, NULL),
	    RA_KEY_CONTACT_NONE);
	assert_int_equal(ra_key_report_contact("", NULL),
	    RA_KEY_CONTACT_NONE);
	assert_int_equal(ra_key_report_contact("https://example.org/bug/42",
	    NULL), RA_KEY_CONTACT_URL);
	for (size_t i = 0; i < sizeof(good_mail) / sizeof(good_mail[0]); i++)
		assert_int_equal(ra_key_report_contact(good_mail[i], NULL),
		    RA_KEY_CONTACT_EMAIL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (ra_key_report_contact(bad[i].c, &err) != RC_INVAL)
			fail_msg("accepted: %s", bad[i].c);
		if (strstr(err.detail.msg, bad[i].why) == NULL)
			fail_msg("%s: '%s' without '%s'", bad[i].c,
			    err.detail.msg, bad[i].why);
	}
	/* a local part of 64, not 65 */
	memset(local, 'a', 65);
	local[65] = '\0';
	snprintf(long_addr, sizeof(long_addr), "%s@example.org", local);
	assert_int_equal(ra_key_report_contact(long_addr, &err), RC_INVAL);
	rt_has(err.detail.msg, "longer than 64");
	snprintf(long_addr, sizeof(long_addr), "%s@example.org", local + 1);
	assert_int_equal(ra_key_report_contact(long_addr, NULL),
	    RA_KEY_CONTACT_EMAIL);
	/* 254 characters at most, an address or a URL */
	memset(long_addr, 'b', sizeof(long_addr));
	memcpy(long_addr, "x@", 2);
	memcpy(long_addr + 255 - 12, ".example.org", 13);
	assert_int_equal(strlen(long_addr), 255);
	assert_int_equal(ra_key_report_contact(long_addr, &err), RC_INVAL);
	rt_has(err.detail.msg, "too long");
	memcpy(long_addr, "https://", 8);
	assert_int_equal(ra_key_report_contact(long_addr, &err), RC_INVAL);
	rt_has(err.detail.msg, "too long");
	long_addr[254] = '\0';
	assert_int_equal(ra_key_report_contact(long_addr, NULL),
	    RA_KEY_CONTACT_URL);
}

/*
 * IMPLEMENTATION-OF: BR 4.9.5 preliminary report. One key, two
 * subscribers: a portal customer (its user) and an ACME account (its
 * mailto: contacts); a third certificate of another key is left alone.
 */
static void
test_report_mails(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key(), *other = rt_key();
	struct ra_key_report_res res;
	struct ra_err err = {0};
	char portal_serial[41], acme_serial[41], other_serial[41], hex[65];
	char *body, *subject = NULL, sql[400];
	int64_t uid = 0, acct, order = 0;
	uint8_t *proof;
	size_t plen;

	assert_int_equal(store_user_add(e->st, e->customer,
	    "alice@shop-owner.example", "Alice Owner", STORE_ROLE_CUSTOMER,
	    NULL, &uid), 0);
	rt_portal_cert(e, uid, "shop.example.com",
	    "shop.example.com www.shop.example.com", k, portal_serial,
	    &order);
	acct = rt_account_with(e, "acme-sub",
	    "[\"mailto:ops@acme-sub.example\","
	    "\"mailto:cto@acme-sub.example\"]");
	rt_acme_cert(e, acct, "api.example.org", k, acme_serial);
	rt_acme_cert(e, acct, "other.example.org", other, other_serial);
	rt_spki_hex(k, hex);
	/* the mails of the orders themselves out of the way */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind LIKE 'key.%'"), 0);

	/* a refused contact: nothing happens */
	proof = proof_of(k, &plen);
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_key_report(e->ra, proof, plen,
	    "finder@research.example\r\nBcc: evil@example.net", "192.0.2.7",
	    &res, &err), RC_INVAL);
	rt_has(err.detail.msg, "line break");
	assert_int_equal(rt_count(e, "SELECT count(*) FROM blocked_keys"), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM revocations"), 0);

	assert_int_equal(ra_key_report(e->ra, proof, plen,
	    "finder@research.example", "192.0.2.7", &res, &err), 0);
	assert_int_equal(res.revoked, 2);
	assert_int_equal(res.reporter_mailed, 1);
	assert_int_equal(res.subscriber_mails, 3);
	assert_int_equal(res.no_contact, 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM revocations WHERE "
	    "reason = 1 AND serial IN ('%s', '%s')", portal_serial,
	    acme_serial);
	assert_int_equal(rt_count(e, sql), 2);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM revocations WHERE "
	    "serial = '%s'", other_serial);
	assert_int_equal(rt_count(e, sql), 0);
	/* the portal slot follows its certificate */
	assert_string_equal(rt_slot_state(e, order, sql, sizeof(sql)),
	    "revoked");

	/* the reporter: the findings, not who the subscribers are */
	body = rt_mail_to(e, "key.report", "finder@research.example", &subject);
	assert_non_null(body);
	assert_string_equal(subject, "Your key compromise report: key "
	    "blocked, 2 certificates revoked");
	assert_true(strncmp(body, "Hello,\n\n", 8) == 0);
	rt_has(body, hex);
	rt_has(body, "verified");
	rt_has(body, "We have blocked the key: we will issue no certificate "
	    "for it again.");
	rt_has(body, portal_serial);
	rt_has(body, acme_serial);
	rt_has(body, "on 10 Jan 2026, 00:00 UTC. Relying parties");
	rt_has_not(body, other_serial);
	rt_has_not(body, "shop.example.com");
	rt_has_not(body, "api.example.org");
	rt_has_not(body, "alice@");
	rt_has_not(body, "acme-sub");
	rt_has_not(body, "Beispiel");
	free(body);
	free(subject);

	/* the portal subscriber: its certificate only, with what to do */
	body = rt_mail_to(e, "key.revoked", "alice@shop-owner.example",
	    &subject);
	assert_non_null(body);
	assert_string_equal(subject, "Revoked: your SSL certificate for "
	    "shop.example.com (key compromised)");
	assert_true(strncmp(body, "Hello Alice Owner,\n\n", 20) == 0);
	rt_has(body, portal_serial);
	rt_has(body, "Names: shop.example.com, www.shop.example.com");
	rt_has(body, "reason keyCompromise");
	rt_has(body, hex);
	rt_has(body, "Make a new private key");
	rt_has(body, "open its order above and choose \"Renew or reissue");
	snprintf(sql, sizeof(sql), "/portal/orders/%lld\n",
	    (long long)order);
	rt_has(body, sql);
	rt_has_not(body, acme_serial);
	rt_has_not(body, "api.example.org");
	rt_has_not(body, "finder@");
	free(body);
	free(subject);

	/* the ACME subscriber, at each of its addresses */
	for (int i = 0; i < 2; i++) {
		body = rt_mail_to(e, "key.revoked", i ? "cto@acme-sub.example" :
		    "ops@acme-sub.example", NULL);
		assert_non_null(body);
		assert_true(strncmp(body, "Hello,\n\n", 8) == 0);
		rt_has(body, acme_serial);
		rt_has(body, "Names: api.example.org");
		rt_has(body, "ACME client");
		rt_has_not(body, portal_serial);
		rt_has_not(body, "shop.example.com");
		rt_has_not(body, other_serial);
		rt_has_not(body, "finder@");
		free(body);
	}
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind LIKE 'key.%'"), 4);
	/* audited, in the transaction of the revocations: after them */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE "
	    "action = 'key.report.mail' AND actor = 'report:192.0.2.7' AND "
	    "object = 'key:%s' AND details LIKE "
	    "'%%\"reporter\":\"finder@research.example\"%%'", hex);
	assert_int_equal(rt_count(e, sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE "
	    "action = 'key.report.mail' AND details LIKE '%%{\"serials\":"
	    "[\"%s\"],\"to\":\"alice@shop-owner.example\"}%%'",
	    portal_serial);
	assert_int_equal(rt_count(e, sql), 1);
	assert_int_equal(rt_count(e, "SELECT (SELECT max(seq) FROM audit_log "
	    "WHERE action = 'key.report.mail') > (SELECT max(seq) FROM "
	    "audit_log WHERE action = 'cert.revoke')"), 1);

	/* the same key again, from an https:// contact: blocked already,
	 * nothing to revoke, no mail */
	assert_int_equal(ra_key_report(e->ra, proof, plen,
	    "https://research.example/advisories/7", "192.0.2.7", &res,
	    &err), 0);
	assert_int_equal(res.revoked, 0);
	assert_int_equal(res.reporter_mailed, 0);
	assert_int_equal(res.subscriber_mails, 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind LIKE 'key.%'"), 4);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'key.report.mail' AND details LIKE "
	    "'%\"reporter\":null%'"), 1);
	free(proof);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

/* A key with no certificate: the reporter hears that it is blocked with
 * nothing to revoke. A subscriber without an address is counted. */
static void
test_report_nothing_and_no_contact(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key(), *k2 = rt_key();
	struct ra_key_report_res res;
	struct ra_err err = {0};
	char serial[41], *body, *subject = NULL, sql[200];
	uint8_t *proof;
	size_t plen;

	proof = proof_of(k, &plen);
	assert_int_equal(ra_key_report(e->ra, proof, plen,
	    "finder@research.example", NULL, &res, &err), 0);
	free(proof);
	assert_int_equal(res.revoked, 0);
	assert_int_equal(res.reporter_mailed, 1);
	body = rt_mail_to(e, "key.report", "finder@research.example", &subject);
	assert_non_null(body);
	assert_string_equal(subject, "Your key compromise report: key "
	    "blocked, no certificate to revoke");
	rt_has(body, "nothing to revoke");
	free(body);
	free(subject);

	/* an account without contacts, and no reporter address */
	rt_acme_cert(e, rt_account(e, "silent"), "silent.example.org", k2,
	    serial);
	proof = proof_of(k2, &plen);
	assert_int_equal(ra_key_report(e->ra, proof, plen, NULL, "192.0.2.8",
	    &res, &err), 0);
	free(proof);
	assert_int_equal(res.revoked, 1);
	assert_int_equal(res.reporter_mailed, 0);
	assert_int_equal(res.subscriber_mails, 0);
	assert_int_equal(res.no_contact, 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind LIKE 'key.%'"), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE "
	    "action = 'key.report.mail' AND details LIKE "
	    "'%%\"no_contact\":[\"%s\"]%%'", serial);
	assert_int_equal(rt_count(e, sql), 1);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

/*
 * IMPLEMENTATION-OF: the reporter mails per address and day. Made-up keys
 * and proofs are free, so each report to one address counts, whatever
 * the case of its letters or a "+tag"; past the limit the report is
 * still acted on (the key blocked, its certificates revoked, their
 * subscribers told), only the reporter's mail is left out, and audited
 * so. Other addresses are not affected, and a day later it is mailed
 * again.
 */
static void
test_reporter_mail_limit(void **state)
{
	static const char *const same[] = {"finder@research.example",
		"Finder@Research.Example", "finder+1@research.example",
		"FINDER+key-42@RESEARCH.EXAMPLE", "finder@research.EXAMPLE"};
	struct rt_env *e = *state;
	struct ra_key_report_res res;
	struct ra_err err = {0};
	EVP_PKEY *k;
	char serial[41], hex[65], sql[400];
	uint8_t *proof;
	size_t plen;

	assert_int_equal(sizeof(same) / sizeof(same[0]),
	    RA_KEY_REPORT_MAILS_PER_DAY);
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		k = rt_key();
		proof = proof_of(k, &plen);
		assert_int_equal(ra_key_report(e->ra, proof, plen, same[i],
		    "192.0.2.7", &res, &err), 0);
		assert_int_equal(res.reporter_mailed, 1);
		assert_int_equal(res.reporter_limited, 0);
		free(proof);
		EVP_PKEY_free(k);
	}
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'key.report'"), RA_KEY_REPORT_MAILS_PER_DAY);

	/* one more to the same mailbox, of a key with a certificate */
	k = rt_key();
	rt_acme_cert(e, rt_account_with(e, "sub", "[\"mailto:ops@sub."
	    "example\"]"), "api.example.org", k, serial);
	rt_spki_hex(k, hex);
	proof = proof_of(k, &plen);
	assert_int_equal(ra_key_report(e->ra, proof, plen,
	    "fInDeR+again@research.example", "192.0.2.7", &res, &err), 0);
	free(proof);
	assert_int_equal(res.revoked, 1);
	assert_int_equal(res.reporter_mailed, 0);
	assert_int_equal(res.reporter_limited, 1);
	assert_int_equal(res.subscriber_mails, 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM blocked_keys WHERE "
	    "lower(hex(spki_sha256)) = '%s'", hex);
	assert_int_equal(rt_count(e, sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM revocations WHERE "
	    "reason = 1 AND serial = '%s'", serial);
	assert_int_equal(rt_count(e, sql), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'key.report'"), RA_KEY_REPORT_MAILS_PER_DAY);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'key.revoked' AND to_addr = 'ops@sub.example'"), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE "
	    "action = 'key.report.mail' AND object = 'key:%s' AND details "
	    "LIKE '%%\"reporter\":\"fInDeR+again@research.example\"%%' AND "
	    "details LIKE '%%\"reporter_mail\":\"not sent: the address had "
	    "its %d reports of the day\"%%'", hex,
	    RA_KEY_REPORT_MAILS_PER_DAY);
	assert_int_equal(rt_count(e, sql), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'key.report.mail' AND details LIKE "
	    "'%\"reporter_mail\":\"queued\"%'"),
	    RA_KEY_REPORT_MAILS_PER_DAY);
	EVP_PKEY_free(k);

	/* another address, one that only looks alike: mailed */
	k = rt_key();
	proof = proof_of(k, &plen);
	assert_int_equal(ra_key_report(e->ra, proof, plen,
	    "finder@research.example.org", "192.0.2.7", &res, &err), 0);
	assert_int_equal(res.reporter_mailed, 1);
	free(proof);
	EVP_PKEY_free(k);

	/* a day later: mailed again */
	rt_set_now(e, RT_T0 + 86400);
	k = rt_key();
	proof = proof_of(k, &plen);
	assert_int_equal(ra_key_report(e->ra, proof, plen,
	    "finder@research.example", "192.0.2.7", &res, &err), 0);
	assert_int_equal(res.reporter_mailed, 1);
	assert_int_equal(res.reporter_limited, 0);
	free(proof);
	EVP_PKEY_free(k);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'key.report'"), RA_KEY_REPORT_MAILS_PER_DAY + 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contact),
		cmocka_unit_test_setup_teardown(test_report_mails,
		    rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(
		    test_report_nothing_and_no_contact, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_reporter_mail_limit,
		    rt_cm_setup, rt_cm_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
