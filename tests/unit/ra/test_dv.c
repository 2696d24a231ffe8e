/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/ra/dv.c and dv_email.c, the domain validation of portal
 * orders, over a real store, signer and CA: the method each name starts
 * with (email to hostmaster@, dns, dns-auto for hosted zones, reuse within
 * the BR reuse period and not after it); the email links (single use,
 * expiry, a resend replaces the old link, rate limits, tokens that are
 * empty, huge, not base64url or of the wrong length, the stored hash);
 * the dns-auto state machine through a DNS provider the test steers
 * (record added, waited for, checked, removed also after a failure and
 * when a removal fails first); the customer's dns and http methods with
 * "check now" and problems in customer words; CAA, looked at with every
 * validation and at issuance when older than 8 hours or none (an
 * operator's validation looks at none), never twice; forbidden method
 * changes and other customers' orders; dns-auto refused for a zone two
 * customers hold as hosted and for a public suffix, and stopped when its
 * domain is removed; the policy calendar for email;
 * bounced mail; and that nothing is issued before every name is valid.
 */
#include "ra_test.h"
#include "ra/dv_int.h"
#include "store/store.h"
#include "util/xmalloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <cmocka.h>

#define DAY 86400

/* ---- a DNS provider the test steers -------------------------------------- */

struct fake_dns {
	char zone[256];		/* the zone that is "ours" via NS */
	char records[8][2][300];	/* owner, value */
	size_t n;
	int adds, deletes, fail_add, fail_delete, publish_after;
	int polls;
};

static int
fd_find_zone(void *arg, const char *name, char *zone, size_t zonesz,
    int *ours, struct rc_detail *d)
{
	struct fake_dns *f = arg;
	size_t zl = strlen(f->zone), nl = strlen(name);

	(void)d;
	*ours = 0;
	if (zl > 0 && (strcmp(name, f->zone) == 0 || (nl > zl &&
	    strcmp(name + nl - zl, f->zone) == 0 && name[nl - zl - 1] ==
	    '.'))) {
		snprintf(zone, zonesz, "%s", f->zone);
		*ours = 1;
	}
	return 0;
}

static int
fd_add(void *arg, const char *zone, const char *owner, const char *value,
    struct rc_detail *d)
{
	struct fake_dns *f = arg;

	(void)zone;
	f->adds++;
	if (f->fail_add) {
		rc_detail_set(d, "REFUSED");
		return RC_DNS;
	}
	assert_true(f->n < 8);
	snprintf(f->records[f->n][0], 300, "%s", owner);
	snprintf(f->records[f->n][1], 300, "%s", value);
	f->n++;
	f->polls = 0;
	return 0;
}

static int
fd_delete(void *arg, const char *zone, const char *owner, const char *value,
    struct rc_detail *d)
{
	struct fake_dns *f = arg;

	(void)zone;
	f->deletes++;
	if (f->fail_delete > 0) {
		f->fail_delete--;
		rc_detail_set(d, "timeout");
		return RC_DNS;
	}
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->records[i][0], owner) == 0 &&
		    (value == NULL || strcmp(f->records[i][1], value) == 0)) {
			memmove(f->records[i], f->records[i + 1],
			    (f->n - i - 1) * sizeof(f->records[0]));
			f->n--;
			i--;
		}
	return 0;
}

static int
fd_published(void *arg, const char *owner, const char *value, size_t *nok,
    size_t *nservers)
{
	struct fake_dns *f = arg;
	int there = 0;

	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->records[i][0], owner) == 0 &&
		    strcmp(f->records[i][1], value) == 0)
			there = 1;
	*nservers = 2;
	*nok = there && f->polls++ >= f->publish_after ? 2 : there ? 1 : 0;
	return 0;
}

static struct ra_dnsupd_ops fd_ops = {fd_find_zone, fd_add, fd_delete,
	fd_published, 30};

/* ---- the environment ----------------------------------------------------- */

struct t {
	struct rt_env *e;
	struct fake_dns dns;
	EVP_PKEY *k;
	int64_t user;		/* who places the orders: gets their mail */
};

static int
setup(void **state)
{
	struct t *t = xcalloc(1, sizeof(*t));

	t->e = rt_setup(RT_T0, NULL);
	t->k = rt_key();
	ra_set_dnsupd_ops(t->e->ra, &fd_ops, &t->dns);
	assert_int_equal(store_user_add(t->e->st, t->e->customer,
	    "uma@example.net", "Uma User", STORE_ROLE_CUSTOMER, NULL,
	    &t->user), 0);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	EVP_PKEY_free(t->k);
	rt_teardown(t->e);
	free(t);
	return 0;
}

static void
set_now(struct rt_env *e, time_t now)
{
	rt_set_now(e, now);
	e->ra->ca = e->ca;	/* rt_set_now reopened the CA */
}

/* Places an order of product for domain (CSR for names). */
static int64_t
order(struct t *t, const char *product, const char *domain, const char *names)
{
	return rt_portal_order(t->e, t->user, t->k, product, domain, names);
}

static struct ra_dv_state *
list(struct t *t, int64_t id, size_t *n)
{
	struct ra_dv_state *v = NULL;

	assert_int_equal(ra_dv_list(t->e->ra, t->e->customer, id, &v, n), 0);
	return v;
}

#define order_status(t, id, buf, n) rt_order_status((t)->e, id, buf, n)

/* The token from the newest validation mail to `to`. */
static void
mail_token(struct t *t, const char *to, char out[RA_DV_TOKEN_LEN + 1])
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	const char *body, *p;

	assert_int_equal(sqlite3_open_v2(t->e->db, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT body FROM mail_outbox "
	    "WHERE kind = 'validation.email' AND to_addr = ?1 ORDER BY id "
	    "DESC LIMIT 1", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, to, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	body = (const char *)sqlite3_column_text(s, 0);
	p = strstr(body, "/confirm/");
	assert_non_null(p);
	snprintf(out, RA_DV_TOKEN_LEN + 1, "%s", p + 9);
	assert_int_equal(strlen(out), RA_DV_TOKEN_LEN);
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* The "action needed" mails queued for order id whose body is like
 * `like` (SQL LIKE; NULL: any). */
static int64_t
action_mails(struct t *t, int64_t id, const char *like)
{
	char sql[600];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.action' AND ref = '%lld' AND body LIKE '%s'",
	    (long long)id, like != NULL ? like : "%");
	return rt_count(t->e, sql);
}

/* ---- email --------------------------------------------------------------- */

static void
test_email_default_confirm_issue(void **state)
{
	struct t *t = *state;
	struct ra_dv_email_link l = {0};
	struct ra_err err = {0};
	struct ra_dv_state *v;
	char tok[RA_DV_TOKEN_LEN + 1], st[16];
	size_t n = 0;
	int64_t id = order(t, "starter", "example.com",
	    "example.com www.example.com");

	/* one mail to hostmaster@ the domain, for both names */
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM mail_outbox "
	    "WHERE kind = 'validation.email'"), 1);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM mail_outbox "
	    "WHERE kind = 'validation.email' AND to_addr = "
	    "'hostmaster@example.com' AND body LIKE '%Beispiel GmbH%' AND "
	    "body LIKE '%SSL Starter%' AND body LIKE '%www.example.com%'"), 1);
	/* the customer is told where it went, both names in one line, and
	 * to open the order (its link) */
	assert_int_equal(action_mails(t, id, "Hello Uma User,%Before we can "
	    "issue your SSL certificate for example.com, www.example.com, we "
	    "need to confirm that you control the domains.%open your order, "
	    "which shows how to confirm each name:%/portal/orders/%" 
	    "example.com, www.example.com: we sent a confirmation email to "
	    "hostmaster@example.com.%"), 1);
	assert_int_equal(action_mails(t, id, "%overview%"), 0);
	/* the token is stored only as a hash */
	mail_token(t, "hostmaster@example.com", tok);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM dv_email_tokens "
	    "WHERE length(token_hash) = 32"), 1);
	v = list(t, id, &n);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(v[i].status, "pending");
		assert_int_equal(v[i].method, RA_DV_EMAIL);
		assert_string_equal(v[i].email_to, "hostmaster@example.com");
		assert_true(v[i].email_allowed);
		assert_non_null(strstr(v[i].email_warning,
		    "Email validation ends on 15 Mar 2028: "));
		assert_true(v[i].email_sent_at > 0);
		assert_int_equal(strlen(v[i].dns_value), 32);
		assert_string_equal(v[i].http_body, v[i].dns_value);
	}
	assert_string_equal(v[1].dns_owner, "_acme-challenge.www.example.com");
	free(v);
	/* GET: shows, changes nothing */
	assert_int_equal(ra_dv_email_lookup(t->e->ra, tok, &l), 0);
	assert_string_equal(l.state, "pending");
	assert_string_equal(l.name, "example.com");
	assert_string_equal(l.customer, "Beispiel GmbH");
	assert_string_equal(l.product, "starter");
	assert_string_equal(l.email_to, "hostmaster@example.com");
	/* the page names every name the POST confirms */
	assert_string_equal(l.names, "example.com, www.example.com");
	assert_int_equal(l.expires_at - l.sent_at, 30 * DAY);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "pending");
	/* POST: confirms both names, the DV order is issued */
	assert_int_equal(t->e->fake.caa_calls, 0);
	assert_int_equal(ra_dv_email_confirm(t->e->ra, tok, "192.0.2.7",
	    "Mozilla/5.0\r\nX: y", &err), 0);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "valid");
	/* CAA once per name with the confirmation, not again to issue */
	assert_int_equal(t->e->fake.caa_calls, 2);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM authorizations "
	    "WHERE status = 'valid' AND method = 'email' AND br_version = '"
	    RA_BR_VERSION "' AND evidence LIKE '%3.2.2.4.4%' AND evidence LIKE "
	    "'%192.0.2.7%'"), 2);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM dv_attempts "
	    "WHERE method = 'email' AND outcome = 'valid' AND length(value) = "
	    "64"), 2);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.success'"), 2);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.email.sent'"), 1);
	/* single use */
	assert_int_equal(ra_dv_email_confirm(t->e->ra, tok, NULL, NULL, &err),
	    RC_STATE);
	assert_int_equal(ra_dv_email_lookup(t->e->ra, tok, &l), 0);
	assert_string_equal(l.state, "confirmed");
	v = list(t, id, &n);
	assert_string_equal(v[0].status, "valid");
	assert_int_equal(v[0].method, RA_DV_EMAIL);
	assert_int_equal(v[0].expires_at - v[0].validated_at,
	    (time_t)ca_cal_dv_reuse_days(RT_T0) * DAY);
	free(v);
	/* "www." is dropped only above a public suffix */
	{
		static const char *const cases[][2] = {
			{"www.shop.co.uk", "hostmaster@shop.co.uk"},
			{"www.co.uk", "hostmaster@www.co.uk"},
		};

		for (size_t k = 0; k < 2; k++) {
			int64_t o = order(t, "unlimited", cases[k][0],
			    cases[k][0]);

			v = list(t, o, &n);
			assert_int_equal(n, 1);
			assert_string_equal(v[0].email_to, cases[k][1]);
			free(v);
		}
	}
}

static void
test_email_bad_tokens(void **state)
{
	struct t *t = *state;
	struct ra_dv_email_link l = {0};
	struct ra_err err = {0};
	char tok[RA_DV_TOKEN_LEN + 1], bad[RA_DV_TOKEN_LEN + 2];
	char *huge = xmalloc(100001);
	const char *bads[] = {"", "a", "../../etc/passwd",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!", "%00%00", NULL};

	(void)order(t, "unlimited", "bad.example", "bad.example");
	mail_token(t, "hostmaster@bad.example", tok);
	memset(huge, 'A', 100000);
	huge[100000] = '\0';
	assert_int_equal(ra_dv_email_lookup(t->e->ra, NULL, &l), RC_NOTFOUND);
	assert_int_equal(ra_dv_email_lookup(t->e->ra, huge, &l), RC_NOTFOUND);
	assert_int_equal(ra_dv_email_confirm(t->e->ra, huge, NULL, NULL, &err),
	    RC_NOTFOUND);
	for (size_t i = 0; bads[i] != NULL; i++) {
		assert_int_equal(ra_dv_email_lookup(t->e->ra, bads[i], &l),
		    RC_NOTFOUND);
		assert_int_equal(ra_dv_email_confirm(t->e->ra, bads[i], NULL,
		    NULL, &err), RC_NOTFOUND);
	}
	/* one character short, one more, one changed, a non-base64url one */
	snprintf(bad, sizeof(bad), "%.*s", RA_DV_TOKEN_LEN - 1, tok);
	assert_int_equal(ra_dv_email_confirm(t->e->ra, bad, NULL, NULL, &err),
	    RC_NOTFOUND);
	snprintf(bad, sizeof(bad), "%sA", tok);
	assert_int_equal(ra_dv_email_confirm(t->e->ra, bad, NULL, NULL, &err),
	    RC_NOTFOUND);
	snprintf(bad, sizeof(bad), "%s", tok);
	bad[5] = bad[5] == 'A' ? 'B' : 'A';
	assert_int_equal(ra_dv_email_confirm(t->e->ra, bad, NULL, NULL, &err),
	    RC_NOTFOUND);
	snprintf(bad, sizeof(bad), "%s", tok);
	bad[7] = '+';
	assert_int_equal(ra_dv_email_lookup(t->e->ra, bad, &l), RC_NOTFOUND);
	/* nothing was confirmed by any of them */
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM authorizations "
	    "WHERE status = 'valid'"), 0);
	assert_int_equal(ra_dv_email_lookup(t->e->ra, tok, &l), 0);
	assert_string_equal(l.state, "pending");
	free(huge);
}

static void
test_email_expiry_resend_limits(void **state)
{
	struct t *t = *state;
	struct ra_dv_email_link l = {0};
	struct ra_err err = {0};
	struct ra_dv_state *v;
	char tok1[RA_DV_TOKEN_LEN + 1], tok2[RA_DV_TOKEN_LEN + 1], st[16];
	size_t n = 0;
	int64_t id, aid;

	t->e->ra->conf.dv_email_token_days = 2;
	t->e->ra->conf.dv_email_max_sends = 3;
	id = order(t, "unlimited", "mail.example", "mail.example");
	mail_token(t, "hostmaster@mail.example", tok1);
	v = list(t, id, &n);
	aid = v[0].authz_id;
	assert_int_equal(v[0].email_sends_left, 2);
	assert_int_equal(v[0].email_resend_at, RT_T0 + 600);
	free(v);
	/* rate limited: not before 10 minutes */
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_dv_email_resend(t->e->ra, t->e->customer, id, aid,
	    "portal:user/7", &err), RC_POLICY);
	assert_non_null(strstr(err.detail.msg, "resend in 10 minutes"));
	/* another customer: as if it did not exist */
	assert_int_equal(ra_dv_email_resend(t->e->ra, t->e->customer + 1, id,
	    aid, NULL, &err), RC_NOTFOUND);
	set_now(t->e, RT_T0 + 601);
	assert_int_equal(ra_dv_email_resend(t->e->ra, t->e->customer, id, aid,
	    "portal:user/7", &err), 0);
	mail_token(t, "hostmaster@mail.example", tok2);
	assert_string_not_equal(tok1, tok2);
	/* the old link is replaced */
	assert_int_equal(ra_dv_email_lookup(t->e->ra, tok1, &l), 0);
	assert_string_equal(l.state, "replaced");
	assert_int_equal(ra_dv_email_confirm(t->e->ra, tok1, NULL, NULL, &err),
	    RC_STATE);
	/* the third and last send, then no more */
	set_now(t->e, RT_T0 + 1300);
	assert_int_equal(ra_dv_email_resend(t->e->ra, t->e->customer, id, aid,
	    NULL, &err), 0);
	mail_token(t, "hostmaster@mail.example", tok2);
	set_now(t->e, RT_T0 + 2000);
	assert_int_equal(ra_dv_email_resend(t->e->ra, t->e->customer, id, aid,
	    NULL, &err), RC_POLICY);
	assert_non_null(strstr(err.detail.msg, "No more"));
	v = list(t, id, &n);
	assert_int_equal(v[0].email_sends_left, 0);
	free(v);
	/* expiry after dv.email_token_days */
	set_now(t->e, RT_T0 + 1300 + 2 * DAY);
	assert_int_equal(ra_dv_email_lookup(t->e->ra, tok2, &l), 0);
	assert_string_equal(l.state, "expired");
	assert_int_equal(ra_dv_email_confirm(t->e->ra, tok2, NULL, NULL, &err),
	    RC_STATE);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "pending");
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM certificates "
	    "WHERE profile = 'dv'"), 0);
}

static void
test_email_calendar_and_bounce(void **state)
{
	struct t *t = *state;
	struct ra_err err = {0};
	struct ra_dv_state *v;
	size_t n = 0;
	int64_t id, aid, mid;
	time_t after = 1836691200 + DAY;	/* 2028-03-16 */

	/* a bounce: the SMTP server refused the recipient for good */
	id = order(t, "unlimited", "bounce.example", "bounce.example");
	mid = rt_count(t->e, "SELECT id FROM mail_outbox WHERE kind = "
	    "'validation.email'");
	/* a temporary failure is no bounce, whatever its text says: only
	 * the mail worker's mark counts (migration 0009) */
	assert_int_equal(store_mail_failed(t->e->st, mid, "SMTP: Couldn't "
	    "connect to server", RT_T0 + 60), 0);
	v = list(t, id, &n);
	assert_string_equal(v[0].problem, "");
	free(v);
	assert_int_equal(store_mail_failed(t->e->st, mid, "SMTP: RCPT: 451 "
	    "4.3.0 try again: 550 later", RT_T0 + 60), 0);
	v = list(t, id, &n);
	assert_string_equal(v[0].problem, "");
	free(v);
	assert_int_equal(store_mail_bounced(t->e->st, mid, "SMTP: RCPT: "
	    "550 5.1.1 no such mailbox", RT_T0 + 61, NULL), 0);
	v = list(t, id, &n);
	assert_string_equal(v[0].problem, "mail_bounced");
	assert_non_null(strstr(v[0].message, "hostmaster@bounce.example"));
	free(v);

	/* public trust after 2028-03-15: no email */
	set_now(t->e, after);
	id = order(t, "unlimited", "late.example", "late.example");
	v = list(t, id, &n);
	aid = v[0].authz_id;
	assert_int_equal(v[0].method, RA_DV_DNS);
	assert_false(v[0].email_allowed);
	free(v);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, aid,
	    RA_DV_EMAIL, NULL, "portal:user/7", &err), RC_POLICY);
	/* a private PKI keeps it */
	t->e->ra->conf.trust_private = 1;
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, aid,
	    RA_DV_EMAIL, "postmaster", "portal:user/7", &err), 0);
	v = list(t, id, &n);
	assert_int_equal(v[0].method, RA_DV_EMAIL);
	assert_string_equal(v[0].email_to, "postmaster@late.example");
	assert_string_equal(v[0].email_warning, "");
	free(v);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.method'"), 1);
	/* dv.email = off: DNS from the start, email refused */
	t->e->ra->conf.dv_email_off = 1;
	id = order(t, "unlimited", "off.example", "off.example");
	v = list(t, id, &n);
	assert_int_equal(v[0].method, RA_DV_DNS);
	assert_false(v[0].email_allowed);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id,
	    v[0].authz_id, RA_DV_EMAIL, NULL, NULL, &err), RC_POLICY);
	free(v);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM mail_outbox "
	    "WHERE kind = 'validation.email' AND to_addr LIKE "
	    "'%off.example'"), 0);
	/* the calendar as data */
	assert_int_equal(ca_cal_method_status(CA_CAL_EMAIL_CONSTRUCTED, RT_T0,
	    NULL), CA_CAL_METHOD_OK);
	assert_int_equal(ca_cal_method_status(CA_CAL_EMAIL_CONSTRUCTED,
	    1773532800, NULL), CA_CAL_METHOD_DEPRECATED);
	assert_int_equal(ca_cal_method_status(CA_CAL_EMAIL_CONSTRUCTED,
	    1836691200 - 1, NULL), CA_CAL_METHOD_DEPRECATED);
	assert_int_equal(ca_cal_method_status(CA_CAL_EMAIL_CONSTRUCTED,
	    1836691200, NULL), CA_CAL_METHOD_ENDED);
	assert_int_equal(ca_cal_method_status(CA_CAL_PHONE, 1805068800, NULL),
	    CA_CAL_METHOD_ENDED);
}

/*
 * IMPLEMENTATION-OF BR 3.2.2.4.4: the addresses offered for a name are the
 * constructed ones at each Authorization Domain Name: the one the first
 * mail used (the contract's domain) first, then the name and its parents
 * down to the registered domain, never a public suffix. One of them can
 * be chosen and the mail, its resend and the evidence go there; others
 * are refused. A link whose name switched to another address or method
 * says "switched" (no newer mail went there), one a resend replaced says
 * "replaced".
 */
static void
test_email_adns_and_switched(void **state)
{
	struct t *t = *state;
	struct ra_err err = {0};
	struct ra_dv_email_link l = {0};
	struct ra_dv_state *v;
	char tok1[RA_DV_TOKEN_LEN + 1], tok2[RA_DV_TOKEN_LEN + 1], st[16];
	size_t n = 0;
	int64_t id, aid, did = 0;
	static const char *const bad[] = {"admin@example",
		"admin@evil.example", "admin@hop.example",
		"admin@b.shop.example.", "admin@", "root@shop.example",
		"admin@x.a.b.shop.example"};

	assert_int_equal(store_domain_add(t->e->st, t->e->contract,
	    "shop.example", 0, &did), 0);
	id = order(t, "unlimited", "a.b.shop.example", "a.b.shop.example");
	mail_token(t, "hostmaster@shop.example", tok1);
	v = list(t, id, &n);
	aid = v[0].authz_id;
	assert_int_equal(v[0].n_email_adns, 3);
	assert_string_equal(v[0].email_adns[0], "shop.example");
	assert_string_equal(v[0].email_adns[1], "b.shop.example");
	assert_string_equal(v[0].email_adns[2], "a.b.shop.example");
	assert_string_equal(v[0].email_to, "hostmaster@shop.example");
	free(v);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id,
		    aid, RA_DV_EMAIL, bad[i], "portal:user/7", &err), RC_INVAL);
		assert_non_null(strstr(err.detail.msg, "a.b.shop.example"));
	}
	/* the address it waits for: no new mail */
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, aid,
	    RA_DV_EMAIL, "hostmaster@shop.example", "portal:user/7", &err), 0);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM mail_outbox "
	    "WHERE kind = 'validation.email'"), 1);
	/* another address, at the name itself (a new mail: once the
	 * resend interval has passed) */
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, aid,
	    RA_DV_EMAIL, "admin@a.b.shop.example", "portal:user/7", &err),
	    RC_POLICY);
	set_now(t->e, RT_T0 + 601);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, aid,
	    RA_DV_EMAIL, "admin@a.b.shop.example", "portal:user/7", &err), 0);
	mail_token(t, "admin@a.b.shop.example", tok2);
	v = list(t, id, &n);
	assert_string_equal(v[0].email_to, "admin@a.b.shop.example");
	free(v);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.method' AND details LIKE "
	    "'%\"email_domain\":\"a.b.shop.example\"%'"), 1);
	assert_int_equal(ra_dv_email_lookup(t->e->ra, tok1, &l), 0);
	assert_string_equal(l.state, "switched");
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_dv_email_confirm(t->e->ra, tok1, NULL, NULL, &err),
	    RC_STATE);
	assert_non_null(strstr(err.detail.msg, "another way"));
	/* a resend goes to the chosen address; the link it replaces says
	 * a newer mail was sent */
	set_now(t->e, RT_T0 + 1202);
	assert_int_equal(ra_dv_email_resend(t->e->ra, t->e->customer, id, aid,
	    "portal:user/7", &err), 0);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM mail_outbox "
	    "WHERE to_addr = 'admin@a.b.shop.example'"), 2);
	assert_int_equal(ra_dv_email_lookup(t->e->ra, tok2, &l), 0);
	assert_string_equal(l.state, "replaced");
	mail_token(t, "admin@a.b.shop.example", tok2);
	/* another method: the link says so */
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, aid,
	    RA_DV_DNS, NULL, "portal:user/7", &err), 0);
	assert_int_equal(ra_dv_email_lookup(t->e->ra, tok2, &l), 0);
	assert_string_equal(l.state, "switched");
	/* back to email, at the registered domain: confirmed there */
	set_now(t->e, RT_T0 + 1803);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, aid,
	    RA_DV_EMAIL, "webmaster@shop.example", "portal:user/7", &err), 0);
	mail_token(t, "webmaster@shop.example", tok1);
	assert_int_equal(ra_dv_email_confirm(t->e->ra, tok1, NULL, NULL, &err),
	    0);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "valid");
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM authorizations "
	    "WHERE id = (SELECT authz_id FROM dv_email_tokens WHERE email_to "
	    "= 'webmaster@shop.example') AND status = 'valid' AND evidence "
	    "LIKE '%\"authorization_domain_name\":\"shop.example\"%'"), 1);
	/* no domain of the contract: "www." dropped first */
	id = order(t, "unlimited", "www.other.example", "www.other.example");
	v = list(t, id, &n);
	assert_int_equal(v[0].n_email_adns, 2);
	assert_string_equal(v[0].email_adns[0], "other.example");
	assert_string_equal(v[0].email_adns[1], "www.other.example");
	free(v);
}

/* One mail confirms example.com and www.example.com. The customer moves
 * example.com to a DNS record: the link stays, www.example.com still
 * waits for it, and confirming it validates www.example.com only. */
static void
test_switch_keeps_a_shared_link(void **state)
{
	struct t *t = *state;
	struct ra_err err = {0};
	struct ra_dv_email_link l = {0};
	struct ra_dv_state *v;
	char tok[RA_DV_TOKEN_LEN + 1];
	size_t n = 0;
	int64_t id = order(t, "starter", "shared.example",
	    "shared.example www.shared.example");

	mail_token(t, "hostmaster@shared.example", tok);
	v = list(t, id, &n);
	assert_int_equal(n, 2);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id,
	    v[0].authz_id, RA_DV_DNS, NULL, "portal:user/7", &err), 0);
	free(v);
	assert_int_equal(ra_dv_email_lookup(t->e->ra, tok, &l), 0);
	assert_string_equal(l.state, "pending");
	assert_int_equal(ra_dv_email_confirm(t->e->ra, tok, NULL, NULL, &err),
	    0);
	v = list(t, id, &n);
	assert_string_equal(v[0].status, "pending");
	assert_int_equal(v[0].method, RA_DV_DNS);
	assert_string_equal(v[1].status, "valid");
	assert_int_equal(v[1].method, RA_DV_EMAIL);
	free(v);
	/* the last one by email moves away: now the link goes */
	id = order(t, "starter", "alone.example",
	    "alone.example www.alone.example");
	mail_token(t, "hostmaster@alone.example", tok);
	v = list(t, id, &n);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id,
	    v[1].authz_id, RA_DV_DNS, NULL, "portal:user/7", &err), 0);
	assert_int_equal(ra_dv_email_lookup(t->e->ra, tok, &l), 0);
	assert_string_equal(l.state, "pending");
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id,
	    v[0].authz_id, RA_DV_HTTP, NULL, "portal:user/7", &err), 0);
	free(v);
	assert_int_equal(ra_dv_email_lookup(t->e->ra, tok, &l), 0);
	assert_string_equal(l.state, "switched");
}

/* The name a shared link was sent for moves to DNS and is validated there
 * first: the link still confirms the other name, which waits for it. */
static void
test_shared_link_outlives_the_name_that_moved(void **state)
{
	struct t *t = *state;
	struct ra_err err = {0};
	struct ra_dv_email_link l = {0};
	struct ra_dv_state *v;
	char tok[RA_DV_TOKEN_LEN + 1];
	size_t n = 0;
	int valid = 0;
	int64_t id = order(t, "starter", "first.example",
	    "first.example www.first.example");

	mail_token(t, "hostmaster@first.example", tok);
	v = list(t, id, &n);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id,
	    v[0].authz_id, RA_DV_DNS, NULL, "portal:user/7", &err), 0);
	assert_int_equal(ra_dv_check_now(t->e->ra, t->e->customer, id,
	    v[0].authz_id, "portal:user/7", &valid, &err), 0);
	assert_true(valid);
	free(v);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.method' AND details LIKE "
	    "'%old_link_to_authz%'"), 1);
	assert_int_equal(ra_dv_email_lookup(t->e->ra, tok, &l), 0);
	assert_string_equal(l.state, "pending");
	assert_int_equal(ra_dv_email_confirm(t->e->ra, tok, NULL, NULL, &err),
	    0);
	v = list(t, id, &n);
	assert_string_equal(v[0].status, "valid");
	assert_int_equal(v[0].method, RA_DV_DNS);
	assert_string_equal(v[1].status, "valid");
	assert_int_equal(v[1].method, RA_DV_EMAIL);
	free(v);
}

/* A name whose mail goes to another address instead leaves its link to
 * the other name that waits for it: the link confirms that one, not the
 * one that moved, which waits for its new mail. A link no name waits for
 * any more goes. */
static void
test_other_address_keeps_a_shared_link(void **state)
{
	struct t *t = *state;
	struct ra_err err = {0};
	struct ra_dv_email_link l = {0};
	struct ra_dv_state *v;
	char tok[RA_DV_TOKEN_LEN + 1], tok2[RA_DV_TOKEN_LEN + 1];
	size_t n = 0;
	int64_t id = order(t, "starter", "moved.example",
	    "moved.example www.moved.example");

	mail_token(t, "hostmaster@moved.example", tok);
	set_now(t->e, RT_T0 + 601);	/* past the resend interval */
	v = list(t, id, &n);
	assert_int_equal(n, 2);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id,
	    v[0].authz_id, RA_DV_EMAIL, "admin", "portal:user/7", &err), 0);
	free(v);
	mail_token(t, "admin@moved.example", tok2);
	assert_int_equal(ra_dv_email_lookup(t->e->ra, tok, &l), 0);
	assert_string_equal(l.state, "pending");
	v = list(t, id, &n);
	assert_string_equal(v[0].email_to, "admin@moved.example");
	assert_string_equal(v[1].email_to, "hostmaster@moved.example");
	free(v);
	assert_int_equal(ra_dv_email_confirm(t->e->ra, tok, NULL, NULL, &err),
	    0);
	v = list(t, id, &n);
	assert_string_equal(v[0].status, "pending");
	assert_string_equal(v[1].status, "valid");
	free(v);
	assert_int_equal(ra_dv_email_confirm(t->e->ra, tok2, NULL, NULL,
	    &err), 0);
	v = list(t, id, &n);
	assert_string_equal(v[0].status, "valid");
	free(v);
	/* nobody else waits for it: the link goes */
	id = order(t, "starter", "left.example",
	    "left.example www.left.example");
	mail_token(t, "hostmaster@left.example", tok);
	set_now(t->e, RT_T0 + 1202);
	v = list(t, id, &n);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id,
	    v[1].authz_id, RA_DV_DNS, NULL, "portal:user/7", &err), 0);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id,
	    v[0].authz_id, RA_DV_EMAIL, "admin", "portal:user/7", &err), 0);
	free(v);
	assert_int_equal(ra_dv_email_lookup(t->e->ra, tok, &l), 0);
	assert_string_equal(l.state, "switched");
}

/* An order that ends unvalidated tells its customer which of its names
 * were not confirmed. */
static void
test_expired_order_mail(void **state)
{
	struct t *t = *state;
	struct ra_err err = {0};
	struct ra_dv_state *v;
	size_t n = 0, ran = 0;
	int valid = 0;
	int64_t id = order(t, "starter", "part.example",
	    "part.example www.part.example");

	v = list(t, id, &n);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id,
	    v[0].authz_id, RA_DV_DNS, NULL, "portal:user/7", &err), 0);
	assert_int_equal(ra_dv_check_now(t->e->ra, t->e->customer, id,
	    v[0].authz_id, "portal:user/7", &valid, &err), 0);
	assert_true(valid);
	free(v);
	set_now(t->e, RT_T0 + 8 * DAY);
	assert_int_equal(ra_dv_jobs_run(t->e->ra, 0, &ran), 0);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM mail_outbox "
	    "WHERE kind = 'portal.expired' AND to_addr = 'uma@example.net' AND "
	    "subject = 'Your SSL certificate order for part.example has "
	    "expired' AND body LIKE 'Hello Uma User,%within the 7 days an "
	    "order waits for its validation, the domain www.part.example was "
	    "not confirmed.%'"), 1);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'portal.order.expired.mail' AND details LIKE "
	    "'%uma@example.net%'"), 1);
	/* the sweep again: nothing more */
	set_now(t->e, RT_T0 + 9 * DAY);
	assert_int_equal(ra_dv_jobs_run(t->e->ra, 0, &ran), 0);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM mail_outbox "
	    "WHERE kind = 'portal.expired'"), 1);
}

/* ---- choosing methods ---------------------------------------------------- */

static void
test_choose_forbidden(void **state)
{
	struct t *t = *state;
	struct ra_err err = {0};
	struct ra_dv_state *v;
	size_t n = 0;
	int64_t id, other, wid;
	int valid = 0;

	id = order(t, "unlimited", "plain.example", "plain.example");
	other = order(t, "unlimited", "other.example", "other.example");
	v = list(t, id, &n);
	wid = v[0].authz_id;
	free(v);
	/* another customer's order, another order's name */
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer + 1, id, wid,
	    RA_DV_DNS, NULL, NULL, &err), RC_NOTFOUND);
	assert_int_equal(ra_dv_list(t->e->ra, t->e->customer + 1, id, &v, &n),
	    RC_NOTFOUND);
	assert_int_equal(ra_dv_check_now(t->e->ra, t->e->customer + 1, id, wid,
	    NULL, &valid, &err), RC_NOTFOUND);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, other, wid,
	    RA_DV_DNS, NULL, NULL, &err), RC_NOTFOUND);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, 999999,
	    RA_DV_DNS, NULL, NULL, &err), RC_NOTFOUND);
	/* methods that cannot be chosen */
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, wid,
	    RA_DV_OPERATOR, NULL, NULL, &err), RC_INVAL);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, wid,
	    RA_DV_REUSED, NULL, NULL, &err), RC_INVAL);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, wid,
	    (enum ra_dv_method)42, NULL, NULL, &err), RC_INVAL);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, wid,
	    RA_DV_EMAIL, "root", NULL, &err), RC_INVAL);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, wid,
	    RA_DV_EMAIL, "hostmaster@evil.example", NULL, &err), RC_INVAL);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, wid,
	    RA_DV_DNS_AUTO, NULL, NULL, &err), RC_POLICY);
	/* email needs confirmation, not "check now" */
	assert_int_equal(ra_dv_check_now(t->e->ra, t->e->customer, id, wid,
	    NULL, &valid, &err), RC_STATE);
	/* a wildcard only through DNS (DESIGN.md): it starts with the
	 * record the customer places, no mail goes out for it, and neither
	 * email nor http can be chosen for it */
	{
		int64_t mails = rt_count(t->e, "SELECT count(*) FROM "
		    "mail_outbox WHERE kind = 'validation.email'");
		int64_t w = order(t, "business_wildcard", "wild.example",
		    "*.wild.example wild.example");
		int64_t star;
		char tok[RA_DV_TOKEN_LEN + 1];
		struct ra_dv_email_link l = {0};

		v = list(t, w, &n);
		assert_int_equal(n, 2);
		assert_true(v[0].wildcard);
		assert_int_equal(v[0].method, RA_DV_DNS);
		assert_int_equal(v[0].email_sent_at, 0);
		assert_int_equal(v[0].n_email_adns, 0);
		assert_int_equal(v[1].method, RA_DV_EMAIL);
		assert_string_equal(v[0].http_url, "");
		star = v[0].authz_id;
		free(v);
		/* one mail, for wild.example alone */
		assert_int_equal(rt_count(t->e, "SELECT count(*) FROM "
		    "mail_outbox WHERE kind = 'validation.email'"), mails + 1);
		mail_token(t, "hostmaster@wild.example", tok);
		assert_int_equal(ra_dv_email_lookup(t->e->ra, tok, &l), 0);
		assert_string_equal(l.names, "wild.example");
		assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, w,
		    star, RA_DV_HTTP, NULL, NULL, &err), RC_POLICY);
		assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, w,
		    star, RA_DV_EMAIL, "hostmaster", NULL, &err), RC_POLICY);
		assert_non_null(strstr(err.detail.msg, "only be validated "
		    "through DNS"));
		assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, w,
		    star, RA_DV_EMAIL, "admin@wild.example", NULL, &err),
		    RC_POLICY);
		assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, w,
		    star, RA_DV_DNS, NULL, NULL, &err), 0);
		/* confirming the base name's mail leaves the wildcard
		 * pending, and the base name's email validation does not
		 * count for the next order's wildcard */
		assert_int_equal(ra_dv_email_confirm(t->e->ra, tok, NULL,
		    NULL, &err), 0);
		v = list(t, w, &n);
		assert_string_equal(v[0].status, "pending");
		assert_string_equal(v[1].status, "valid");
		free(v);
		w = order(t, "business_wildcard", "wild.example",
		    "*.wild.example wild.example");
		v = list(t, w, &n);
		assert_string_equal(v[0].status, "pending");
		assert_int_equal(v[0].method, RA_DV_DNS);
		assert_string_equal(v[1].status, "valid");	/* reused */
		free(v);
	}
	/* a valid name cannot change */
	assert_int_equal(ra_portal_validate(t->e->ra, id, "operator",
	    "cli:root", NULL, &err), 0);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, wid,
	    RA_DV_DNS, NULL, NULL, &err), RC_STATE);
	v = list(t, id, &n);
	assert_int_equal(v[0].method, RA_DV_OPERATOR);
	assert_string_equal(v[0].status, "valid");
	free(v);
	assert_string_equal(ra_dv_method_name(RA_DV_DNS_AUTO), "dns-auto");
	assert_int_equal(ra_dv_method_parse("http"), RA_DV_HTTP);
	assert_int_equal(ra_dv_method_parse("bogus"), RA_DV_NONE);
	assert_int_equal(ra_dv_method_parse(NULL), RA_DV_NONE);
	assert_string_equal(ra_dv_method_name((enum ra_dv_method)99), "none");
}

/* ---- the customer's dns and http methods --------------------------------- */

static void
test_dns_http_check_now(void **state)
{
	struct t *t = *state;
	struct ra_err err = {0};
	struct ra_dv_state *v;
	size_t n = 0;
	int64_t id, a0, a1;
	int valid = 0;
	char st[16];

	id = order(t, "starter", "shop.example",
	    "shop.example www.shop.example");
	v = list(t, id, &n);
	a0 = v[0].authz_id;
	a1 = v[1].authz_id;
	assert_int_equal(strncmp(v[1].http_url, "http://www.shop.example/"
	    ".well-known/pki-validation/", 51), 0);
	assert_non_null(strstr(v[1].http_url, ".txt"));
	free(v);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, a0,
	    RA_DV_DNS, NULL, "portal:user/7", &err), 0);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id, a1,
	    RA_DV_HTTP, NULL, "portal:user/7", &err), 0);
	/* the record is not there yet */
	t->e->fake.dns01_ok = 0;
	assert_int_equal(ra_dv_check_now(t->e->ra, t->e->customer, id, a0,
	    "portal:user/7", &valid, &err), 0);
	assert_false(valid);
	v = list(t, id, &n);
	assert_string_equal(v[0].problem, "wrong_value");
	assert_non_null(strstr(v[0].message, "_acme-challenge.shop.example"));
	assert_true(v[0].next_check_at > RT_T0);
	free(v);
	/* it is; but CAA forbids */
	set_now(t->e, RT_T0 + 10);
	t->e->fake.dns01_ok = 1;
	t->e->fake.caa_forbid = "shop.example";
	assert_int_equal(ra_dv_check_now(t->e->ra, t->e->customer, id, a0,
	    NULL, &valid, &err), 0);
	assert_false(valid);
	v = list(t, id, &n);
	assert_string_equal(v[0].problem, "caa_forbidden");
	assert_string_equal(v[0].status, "pending");
	free(v);
	assert_string_equal(t->e->fake.last_method, "ca-dns-change");
	/* CAA fixed: one name valid, the order still waits (no issuance
	 * before every name is valid) */
	set_now(t->e, RT_T0 + 20);
	t->e->fake.caa_forbid = NULL;
	assert_int_equal(ra_dv_check_now(t->e->ra, t->e->customer, id, a0,
	    NULL, &valid, &err), 0);
	assert_true(valid);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "pending");
	assert_int_equal(ra_portal_issue(t->e->ra, id, &err), RC_STATE);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM certificates "
	    "WHERE profile = 'dv'"), 0);
	/* the file: wrong content, then right; then issued */
	t->e->fake.http01_ok = 0;
	assert_int_equal(ra_dv_check_now(t->e->ra, t->e->customer, id, a1,
	    NULL, &valid, &err), 0);
	v = list(t, id, &n);
	assert_string_equal(v[1].problem, "wrong_content");
	free(v);
	/* the worker re-checks when due */
	t->e->fake.http01_ok = 1;
	set_now(t->e, RT_T0 + 60);
	{
		size_t ran = 0;

		assert_int_equal(ra_dv_jobs_run(t->e->ra, 16, &ran), 0);
		assert_true(ran >= 1);
	}
	assert_string_equal(order_status(t, id, st, sizeof(st)), "valid");
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM authorizations "
	    "WHERE method = 'http' AND evidence LIKE '%3.2.2.4.18%'"), 1);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM dv_attempts "
	    "WHERE outcome = 'invalid' AND problem IS NOT NULL AND "
	    "br_version = '" RA_BR_VERSION "'"), 3);
	assert_true(rt_count(t->e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.failure'") >= 2);
}

/* ---- reuse --------------------------------------------------------------- */

static void
test_reuse_within_and_after(void **state)
{
	struct t *t = *state;
	struct ra_err err = {0};
	struct ra_dv_state *v;
	size_t n = 0;
	int64_t id;
	char st[16];

	id = order(t, "unlimited", "reuse.example", "reuse.example");
	assert_int_equal(ra_portal_validate(t->e->ra, id, "operator",
	    "cli:root", NULL, &err), 0);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "valid");
	/* 10 days later: reused and issued at once, no mail */
	set_now(t->e, RT_T0 + 10 * DAY);
	id = order(t, "unlimited", "reuse.example", "reuse.example");
	assert_string_equal(order_status(t, id, st, sizeof(st)), "valid");
	v = list(t, id, &n);
	assert_int_equal(v[0].method, RA_DV_REUSED);
	assert_int_equal(v[0].validated_at, RT_T0);
	free(v);
	/* CAA asked for the method that proved it (RFC 8657): an
	 * operator's, which no validationmethods list names */
	assert_string_equal(t->e->fake.last_method, "ca-operator");
	/* reused again: from the validation itself, never from a reuse */
	set_now(t->e, RT_T0 + 20 * DAY);
	id = order(t, "unlimited", "reuse.example", "reuse.example");
	assert_string_equal(order_status(t, id, st, sizeof(st)), "valid");
	assert_string_equal(t->e->fake.last_method, "ca-operator");
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM authorizations "
	    "WHERE method = 'reused' AND json_extract(evidence, "
	    "'$.reused_method') <> 'operator'"), 0);
	/* the lookup's index holds no reuse (migration 0029): a name
	 * ordered again and again does not make each lookup read every
	 * earlier order */
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM "
	    "pragma_index_list('authorizations') WHERE name = "
	    "'authorizations_identifier' AND partial = 1"), 1);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM sqlite_master "
	    "WHERE name = 'authorizations_identifier' AND sql LIKE "
	    "'%WHERE account_id IS NULL AND method <> ''reused''%'"), 1);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM authorizations "
	    "INDEXED BY authorizations_identifier WHERE identifier = "
	    "'reuse.example' AND status = 'valid' AND expires_at > 0 AND "
	    "account_id IS NULL AND method <> 'reused'"), 1);
	/* only the first order's mail */
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM mail_outbox "
	    "WHERE kind = 'validation.email' AND to_addr LIKE "
	    "'%reuse.example'"), 1);
	/* another contract does not reuse it */
	{
		int64_t k2 = 0;

		assert_int_equal(store_contract_add(t->e->st, t->e->customer,
		    "K-2", &k2), 0);
		assert_int_equal(store_dv_reusable(t->e->st, k2,
		    "reuse.example", 0, 0, RT_T0 + 10 * DAY, 0, &k2),
		    RC_NOTFOUND);
	}
	/* after the reuse period (200 days from 2026-03-15): a new
	 * validation */
	set_now(t->e, RT_T0 + 250 * DAY);
	id = order(t, "unlimited", "reuse.example", "reuse.example");
	assert_string_equal(order_status(t, id, st, sizeof(st)), "pending");
	v = list(t, id, &n);
	assert_int_equal(v[0].method, RA_DV_EMAIL);
	free(v);
}

/* ---- dns-auto ------------------------------------------------------------ */

/* Runs the worker until nothing is due, moving the clock a second each
 * round; at most rounds. */
static void
work(struct t *t, time_t *now, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		size_t ran = 0;

		assert_int_equal(ra_dv_jobs_run(t->e->ra, 16, &ran), 0);
		*now += 1;
		set_now(t->e, *now);
	}
}

static void
test_dns_auto_success(void **state)
{
	struct t *t = *state;
	struct ra_dv_state *v;
	size_t n = 0;
	time_t now = RT_T0;
	int64_t id, did = 0;
	char st[16];

	assert_int_equal(store_domain_add(t->e->st, t->e->contract,
	    "hosted.example", 1, &did), 0);
	t->dns.publish_after = 2;
	id = order(t, "starter", "hosted.example",
	    "hosted.example www.hosted.example");
	v = list(t, id, &n);
	assert_int_equal(v[0].method, RA_DV_DNS_AUTO);
	assert_true(v[0].hosted);
	free(v);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM mail_outbox "
	    "WHERE kind = 'validation.email'"), 0);
	work(t, &now, 1);
	/* both records are there, waiting for the second server */
	assert_int_equal(t->dns.n, 2);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "pending");
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM dv_dns_records"),
	    2);
	work(t, &now, 6);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "valid");
	/* the records are gone, and so are their rows */
	assert_int_equal(t->dns.n, 0);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM dv_dns_records"),
	    0);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.dns.added'"), 2);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.dns.removed'"), 2);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM authorizations "
	    "WHERE method = 'dns-auto' AND evidence LIKE '%3.2.2.4.7%'"), 2);
	/* nothing was asked of the customer: no "action needed" mail */
	assert_int_equal(action_mails(t, id, NULL), 0);
}

static void
test_dns_auto_failure_and_cleanup(void **state)
{
	struct t *t = *state;
	struct ra_dv_state *v;
	size_t n = 0;
	time_t now = RT_T0;
	int64_t id, did = 0;
	char st[16];

	/* a hosted domain of the contract, its own zone on our nameservers */
	assert_int_equal(store_domain_add(t->e->st, t->e->contract,
	    "ns.example", 1, &did), 0);
	snprintf(t->dns.zone, sizeof(t->dns.zone), "ns.example");
	id = order(t, "unlimited", "ns.example", "ns.example");
	v = list(t, id, &n);
	assert_int_equal(v[0].method, RA_DV_DNS_AUTO);
	free(v);
	/* automatic: nothing to tell the customer yet */
	assert_int_equal(action_mails(t, id, NULL), 0);
	/* the CA's resolver does not see it: failure, record removed */
	t->e->fake.dns01_ok = 0;
	work(t, &now, 3);
	/* now they are told, once, what they can do */
	assert_int_equal(action_mails(t, id, "%ns.example: we could not "
	    "confirm it automatically with a temporary DNS record on our "
	    "nameservers (our resolver did not see the record). We keep "
	    "trying; to finish sooner, confirm it yourself: choose \"Use "
	    "another method\"%"), 1);
	assert_int_equal(action_mails(t, id, NULL), 1);
	assert_int_equal(t->dns.n, 0);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM dv_dns_records"),
	    0);
	v = list(t, id, &n);
	assert_string_equal(v[0].status, "pending");
	assert_string_equal(v[0].problem, "wrong_value");
	free(v);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "pending");
	/* the next try: the removal fails once; its row stays until it
	 * worked */
	t->dns.fail_delete = 1;
	now += 60;
	set_now(t->e, now);
	work(t, &now, 3);
	assert_int_equal(t->dns.n, 1);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM dv_dns_records "
	    "WHERE attempts = 1 AND last_error LIKE '%timeout%'"), 1);
	now += 60;
	set_now(t->e, now);
	work(t, &now, 1);
	assert_int_equal(t->dns.n, 0);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM dv_dns_records"),
	    0);
	/* a crash after the record was added: the row removes it once its
	 * time has come, even when the name was validated otherwise */
	t->e->fake.dns01_ok = 1;
	t->dns.publish_after = 1000;
	now += 60;
	set_now(t->e, now);
	work(t, &now, 1);
	assert_int_equal(t->dns.n, 1);
	{
		struct ra_err err = {0};

		assert_int_equal(ra_portal_validate(t->e->ra, id, "operator",
		    "cli:root", NULL, &err), 0);
	}
	now += 30 + 2 * 120 + 61;
	set_now(t->e, now);
	work(t, &now, 1);
	assert_int_equal(t->dns.n, 0);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM dv_dns_records"),
	    0);
	/* the add refused: no record, the problem in words */
	assert_int_equal(store_domain_add(t->e->st, t->e->contract,
	    "refused.example", 1, &did), 0);
	snprintf(t->dns.zone, sizeof(t->dns.zone), "refused.example");
	t->dns.fail_add = 1;
	id = order(t, "unlimited", "refused.example", "refused.example");
	work(t, &now, 1);
	v = list(t, id, &n);
	assert_string_equal(v[0].problem, "dns_error");
	assert_non_null(strstr(v[0].message, "REFUSED"));
	free(v);
}

/* IMPLEMENTATION-OF BR 3.2.2.8: staff validate the names (`certdesk admin
 * validate`), which looks at no CAA; issuance does, and CAA forbids us:
 * not issued, the names valid, the reason shown on them; once CAA
 * permits, the DV worker issues. */
static void
test_operator_caa(void **state)
{
	struct t *t = *state;
	struct ra_err err = {0};
	struct ra_dv_state *v;
	size_t n = 0, ran = 0;
	int64_t id;
	int issued = 7;
	char st[16];

	id = order(t, "starter", "op.example", "op.example www.op.example");
	t->e->fake.caa_forbid = "www.op.example";
	assert_int_equal(ra_portal_validate(t->e->ra, id, "operator",
	    "cli:root", &issued, &err), RC_STATE);
	assert_int_equal(issued, 0);
	assert_int_equal(err.problem, RA_PROB_CAA);
	assert_non_null(strstr(err.detail.msg, "www.op.example"));
	/* op.example permitted, www.op.example forbidden */
	assert_int_equal(t->e->fake.caa_calls, 2);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "pending");
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM certificates "
	    "WHERE profile = 'dv'"), 0);
	v = list(t, id, &n);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(v[i].status, "valid");
		assert_int_equal(v[i].method, RA_DV_OPERATOR);
	}
	assert_string_equal(v[0].problem, "");
	assert_string_equal(v[1].problem, "caa_forbidden");
	free(v);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.failure' AND details LIKE "
	    "'%caa_forbidden%'"), 1);
	/* permitted again: the worker looks (only at the name it forbade:
	 * op.example's look is fresh) and issues */
	t->e->fake.caa_forbid = NULL;
	set_now(t->e, RT_T0 + 3600);
	assert_int_equal(ra_dv_jobs_run(t->e->ra, 16, &ran), 0);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "valid");
	assert_int_equal(t->e->fake.caa_calls, 3);
}

static void
test_ov_waits(void **state)
{
	struct t *t = *state;
	struct ra_err err = {0};
	struct ra_dv_state *v;
	size_t n = 0;
	int64_t id;
	int valid = 0;
	char st[16];

	id = order(t, "business", "ov.example", "ov.example");
	v = list(t, id, &n);
	assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id,
	    v[0].authz_id, RA_DV_DNS, NULL, NULL, &err), 0);
	assert_int_equal(ra_dv_check_now(t->e->ra, t->e->customer, id,
	    v[0].authz_id, NULL, &valid, &err), 0);
	assert_true(valid);
	free(v);
	/* every name valid, but OV waits for the back office */
	assert_string_equal(order_status(t, id, st, sizeof(st)), "pending");
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM certificates "
	    "WHERE profile = 'ov'"), 0);
	/* its contacts were asked to act when it was placed (the mail to
	 * the hostmaster), with the organisation's part */
	assert_int_equal(action_mails(t, id, "%ov.example: we sent a "
	    "confirmation email to hostmaster@ov.example.%we also verify your "
	    "organisation''s details%"), 3);
	/* the next OV order for the name reuses its validation: nothing
	 * for anyone to do about the domain, no "action needed" mail */
	id = order(t, "business", "ov.example", "ov.example");
	v = list(t, id, &n);
	assert_int_equal(v[0].method, RA_DV_REUSED);
	assert_string_equal(v[0].status, "valid");
	free(v);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "pending");
	assert_int_equal(action_mails(t, id, NULL), 0);
}

/* A zone on our nameservers that the ordering contract does not hold as a
 * hosted domain (another customer's, or nobody's) is never validated by a
 * record certdesk places itself: the customer proves control as for any
 * other name, and dns-auto cannot be chosen. */
static void
test_dns_auto_only_for_the_contracts_zones(void **state)
{
	struct t *t = *state;
	struct ra_err err = {0};
	struct ra_dv_state *v;
	size_t n = 0;
	time_t now = RT_T0;
	int64_t id, cust = 0, contract = 0, did = 0;
	char st[16];

	/* another customer's hosted domain, delegated to our nameservers */
	assert_int_equal(store_customer_add(t->e->st, "Other", &cust), 0);
	assert_int_equal(store_contract_add(t->e->st, cust, "OTHER-1",
	    &contract), 0);
	assert_int_equal(store_domain_add(t->e->st, contract,
	    "theirs.example", 1, &did), 0);
	snprintf(t->dns.zone, sizeof(t->dns.zone), "theirs.example");
	id = order(t, "starter", "theirs.example",
	    "theirs.example www.theirs.example");
	v = list(t, id, &n);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_int_not_equal(v[i].method, RA_DV_DNS_AUTO);
		assert_false(v[i].hosted);
		assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id,
		    v[i].authz_id, RA_DV_DNS_AUTO, NULL, "portal:user/7",
		    &err), RC_POLICY);
	}
	free(v);
	work(t, &now, 3);
	assert_int_equal(t->dns.n, 0);	/* no record was placed */
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM dv_dns_records"),
	    0);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.dns.added'"), 0);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "pending");
}

/*
 * Hosted domains of two customers that overlap (a store from before `admin
 * domain add` refused them): certdesk vouches for neither, so no order of
 * either is validated automatically, neither one placed then nor one that
 * started before (its next publish places no record and says why); once
 * the stale domain is removed, the automatic validation runs again. A
 * public suffix marked hosted vouches for nothing either.
 */
static void
test_dns_auto_refused_when_shared(void **state)
{
	struct t *t = *state;
	struct ra_dv_state *v;
	size_t n = 0;
	time_t now = RT_T0;
	int64_t id, id2, cust = 0, contract = 0, did = 0, theirs = 0;
	char st[16];

	assert_int_equal(store_domain_add(t->e->st, t->e->contract,
	    "shared.example", 1, &did), 0);
	assert_int_equal(store_customer_add(t->e->st, "Other", &cust), 0);
	assert_int_equal(store_contract_add(t->e->st, cust, "OTHER-1",
	    &contract), 0);
	/* started while the zone was the contract's alone */
	id = order(t, "starter", "shared.example",
	    "shared.example www.shared.example");
	v = list(t, id, &n);
	assert_int_equal(v[0].method, RA_DV_DNS_AUTO);
	free(v);
	/* another customer's hosted child, as an old store may hold */
	assert_int_equal(store_domain_add(t->e->st, contract,
	    "www.shared.example", 1, &theirs), 0);
	id2 = order(t, "unlimited", "shared.example", "shared.example");
	v = list(t, id2, &n);
	assert_int_not_equal(v[0].method, RA_DV_DNS_AUTO);
	assert_false(v[0].hosted);
	free(v);
	/* the first order's next step: no record, a problem, an attempt */
	work(t, &now, 3);
	assert_int_equal(t->dns.adds, 0);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM dv_dns_records"),
	    0);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.dns.added'"), 0);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM dv_attempts "
	    "WHERE problem = 'not_hosted' AND outcome = 'invalid'"), 2);
	v = list(t, id, &n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(v[i].problem, "not_hosted");
		assert_non_null(strstr(v[i].message, "not set up for "
		    "automatic validation"));
	}
	free(v);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "pending");
	/* the customer is told, as for any failed automatic validation */
	assert_int_equal(action_mails(t, id, "%not set up for automatic "
	    "validation with us right now%"), 1);
	/* the stale domain goes: the next try validates */
	assert_int_equal(store_domain_delete(t->e->st, theirs), 0);
	now += 120;
	set_now(t->e, now);
	work(t, &now, 8);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "valid");
	assert_int_equal(t->dns.n, 0);

	/* a public suffix marked hosted */
	assert_int_equal(store_domain_add(t->e->st, t->e->contract, "co.uk",
	    1, &did), 0);
	id = order(t, "unlimited", "shop.co.uk", "shop.co.uk");
	v = list(t, id, &n);
	assert_int_not_equal(v[0].method, RA_DV_DNS_AUTO);
	assert_false(v[0].hosted);
	free(v);
}

/* A hosted domain removed while its order waits for the record: the
 * order is cancelled, its record removed, none placed again. */
static void
test_dns_auto_stops_when_removed(void **state)
{
	struct t *t = *state;
	struct ra_domain_removed out;
	struct ra_err err = {0};
	time_t now = RT_T0;
	int64_t id, did = 0;
	char st[16];

	assert_int_equal(store_domain_add(t->e->st, t->e->contract,
	    "gone.example", 1, &did), 0);
	t->dns.publish_after = 1000;	/* the second server never has it */
	id = order(t, "starter", "gone.example",
	    "gone.example www.gone.example");
	work(t, &now, 1);
	assert_int_equal(t->dns.n, 2);
	assert_int_equal(ra_domain_remove(t->e->ra, did, "cli:root", &out,
	    &err), 0);
	assert_int_equal(out.orders, 1);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "invalid");
	work(t, &now, 3);
	assert_int_equal(t->dns.n, 0);
	assert_int_equal(t->dns.adds, 2);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM dv_dns_records"),
	    0);
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM authorizations "
	    "WHERE status = 'valid'"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_email_default_confirm_issue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_email_bad_tokens, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_email_expiry_resend_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_email_calendar_and_bounce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_email_adns_and_switched,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_switch_keeps_a_shared_link,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_other_address_keeps_a_shared_link, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_shared_link_outlives_the_name_that_moved, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_expired_order_mail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_choose_forbidden, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dns_http_check_now,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reuse_within_and_after,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_dns_auto_success, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_dns_auto_failure_and_cleanup, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_dns_auto_only_for_the_contracts_zones, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_dns_auto_refused_when_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_dns_auto_stops_when_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ov_waits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_operator_caa, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
