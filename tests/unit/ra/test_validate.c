/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/ra/validate.c through ra.h: challenge respond
 * (idempotent, one challenge per authorization at a time), validation run
 * in the caller's thread, jobs left in processing picked up by the worker
 * after a "restart" (a new ra on the same database), leases (a job claimed
 * by one runner is not run by another until the lease ends), the record of
 * each validation (evidence, method, BR version, audit entry), and real
 * validations through the validation library: http-01 against a tiny HTTP
 * server on loopback (right and wrong key authorization) and dns-01 for a
 * wildcard against a real knotd updated with knsupdate, names resolved by
 * that knotd.
 */
#include "ra_test.h"
#include "../validation/testlib.h"

#include "store/store.h"
#include "util/xmalloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* The first challenge of type t of the order's first authorization. */
static int64_t
chall_of(struct rt_env *e, int64_t acct, int64_t order, size_t k,
    enum ra_chall_type t, char token[RA_TOKEN_LEN + 1])
{
	struct ra_order o = {0};
	struct ra_authz a = {0};
	int64_t id = 0;

	assert_int_equal(ra_order_get(e->ra, acct, order, &o, NULL), 0);
	assert_int_equal(ra_authz_get(e->ra, acct, o.authz_ids[k], &a, NULL),
	    0);
	for (size_t i = 0; i < a.nchall; i++)
		if (a.chall[i].type == t) {
			id = a.chall[i].id;
			if (token != NULL)
				memcpy(token, a.chall[i].token,
				    RA_TOKEN_LEN + 1);
		}
	ra_authz_clear(&a);
	ra_order_clear(&o);
	assert_true(id > 0);
	return id;
}

static void
test_respond_and_validate(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice"), ord, ch, ch2;
	struct ra_challenge c = {0};
	struct ra_authz a = {0};
	struct ra_order o = {0};
	struct ra_err err = {0};
	char token[RA_TOKEN_LEN + 1], tp[44], want[128];

	ord = rt_order(e, acct, "www.example.com");
	ch = chall_of(e, acct, ord, 0, RA_CHALL_HTTP01, token);
	ch2 = chall_of(e, acct, ord, 0, RA_CHALL_TLSALPN01, NULL);
	assert_int_equal(ra_challenge_respond(e->ra, acct, ch, &c, &err), 0);
	assert_int_equal(c.status, RA_ST_PROCESSING);
	ra_challenge_clear(&c);
	/* the job is in the store */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM challenges WHERE "
	    "status = 'processing' AND lease_until IS NULL"), 1);
	/* idempotent */
	assert_int_equal(ra_challenge_respond(e->ra, acct, ch, &c, &err), 0);
	assert_int_equal(c.status, RA_ST_PROCESSING);
	ra_challenge_clear(&c);
	/* another challenge of the same authorization meanwhile: refused */
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_challenge_respond(e->ra, acct, ch2, &c, &err),
	    RC_STATE);
	assert_int_equal(err.problem, RA_PROB_MALFORMED);
	/* run it now */
	assert_int_equal(ra_challenge_validate_now(e->ra, acct, ch, &c, &err),
	    0);
	assert_int_equal(c.status, RA_ST_VALID);
	assert_int_equal(c.validated_at, RT_T0);
	assert_null(c.error_json);
	ra_challenge_clear(&c);
	/* the key authorization was token.thumbprint (RFC 8555 §8.1) */
	rt_thumbprint("alice", tp);
	snprintf(want, sizeof(want), "%s.%s", token, tp);
	assert_string_equal(e->fake.last_key_authz, want);
	/* again: nothing runs, still valid */
	e->fake.calls = 0;
	assert_int_equal(ra_challenge_validate_now(e->ra, acct, ch, &c, &err),
	    0);
	assert_int_equal(c.status, RA_ST_VALID);
	assert_int_equal(e->fake.calls, 0);
	ra_challenge_clear(&c);
	assert_int_equal(ra_challenge_respond(e->ra, acct, ch, &c, &err), 0);
	assert_int_equal(c.status, RA_ST_VALID);
	ra_challenge_clear(&c);

	assert_int_equal(ra_order_get(e->ra, acct, ord, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_READY);
	assert_int_equal(ra_authz_get(e->ra, acct, o.authz_ids[0], &a, &err),
	    0);
	assert_int_equal(a.status, RA_ST_VALID);
	assert_string_equal(a.method, "http-01");
	ra_authz_clear(&a);
	ra_order_clear(&o);
	/* audited with the evidence */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.success' AND object LIKE 'authz:%' AND "
	    "details LIKE '%\"fake\":true%' AND details LIKE "
	    "'%\"br_version\":\"" RA_BR_VERSION "\"%' AND details LIKE "
	    "'%\"method\":\"http-01\"%'"), 1);
	/* the evidence is valid JSON, the same in the authorization and in
	 * the audit entry */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log l JOIN "
	    "authorizations a ON l.object = 'authz:' || a.id WHERE "
	    "l.action = 'validation.success' AND json_valid(l.details) AND "
	    "json_valid(a.evidence) AND json_extract(l.details, '$.evidence') "
	    "= json_extract(a.evidence, '$.validation') AND "
	    "json_extract(a.evidence, '$.validation.fake') = 1 AND "
	    "json_extract(a.evidence, '$.challenge') > 0 AND "
	    "json_extract(l.details, '$.identifier') IS NOT NULL"), 1);
	/* a pending challenge is not validated by validate_now */
	assert_int_equal(ra_challenge_validate_now(e->ra, acct, ch2, &c, &err),
	    0);
	assert_int_equal(c.status, RA_ST_PENDING);
	ra_challenge_clear(&c);
	assert_int_equal(ra_challenge_validate_now(e->ra, acct, 0, &c, &err),
	    RC_NOTFOUND);
	assert_int_equal(ra_challenge_respond(e->ra, acct, -5, &c, &err),
	    RC_NOTFOUND);
}

/* ra_challenge_respond_now: the answer validated at once and written with
 * its result in one transaction; the same refusals and results as
 * ra_challenge_respond() and a job. */
static void
test_respond_now(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice"), bob = rt_account(e, "bob");
	int64_t ord, ch, ch2, ord2, ch3;
	struct ra_challenge c = {0};
	struct ra_err err = {0};
	char token[RA_TOKEN_LEN + 1], tp[44], want[128];

	ord = rt_order(e, acct, "www.example.com");
	ch = chall_of(e, acct, ord, 0, RA_CHALL_HTTP01, token);
	ch2 = chall_of(e, acct, ord, 0, RA_CHALL_TLSALPN01, NULL);
	/* another account's challenge, or none: not found, nothing runs */
	e->fake.calls = 0;
	assert_int_equal(ra_challenge_respond_now(e->ra, bob, ch, &c, &err),
	    RC_NOTFOUND);
	assert_int_equal(ra_challenge_respond_now(e->ra, acct, 0, &c, &err),
	    RC_NOTFOUND);
	assert_int_equal(ra_challenge_respond_now(e->ra, acct, ch, NULL,
	    &err), RC_INVAL);
	assert_int_equal(e->fake.calls, 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM challenges WHERE "
	    "status <> 'pending'"), 0);
	/* pending -> validated at once, one claim (one attempt) */
	assert_int_equal(ra_challenge_respond_now(e->ra, acct, ch, &c, &err),
	    0);
	assert_int_equal(c.status, RA_ST_VALID);
	assert_int_equal(c.validated_at, RT_T0);
	ra_challenge_clear(&c);
	assert_int_equal(e->fake.calls, 1);
	rt_thumbprint("alice", tp);
	snprintf(want, sizeof(want), "%s.%s", token, tp);
	assert_string_equal(e->fake.last_key_authz, want);
	assert_int_equal(rt_count(e, "SELECT attempts FROM challenges WHERE "
	    "status = 'valid' AND lease_until IS NULL"), 1);
	/* the order was settled in the same transaction: stored ready
	 * before anyone reads it */
	snprintf(want, sizeof(want), "SELECT count(*) FROM orders WHERE "
	    "id = %lld AND status = 'ready'", (long long)ord);
	assert_int_equal(rt_count(e, want), 1);
	/* again: idempotent, nothing runs */
	assert_int_equal(ra_challenge_respond_now(e->ra, acct, ch, &c, &err),
	    0);
	assert_int_equal(c.status, RA_ST_VALID);
	ra_challenge_clear(&c);
	assert_int_equal(e->fake.calls, 1);
	/* another challenge of the now valid authorization: refused */
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_challenge_respond_now(e->ra, acct, ch2, &c, &err),
	    RC_STATE);
	assert_int_equal(err.problem, RA_PROB_MALFORMED);
	assert_int_equal(e->fake.calls, 1);
	/* a failing validation: invalid, recorded, still rc 0 */
	e->fake.http01_ok = 0;
	ord2 = rt_order(e, acct, "bad.example.com");
	ch3 = chall_of(e, acct, ord2, 0, RA_CHALL_HTTP01, NULL);
	assert_int_equal(ra_challenge_respond_now(e->ra, acct, ch3, &c, &err),
	    0);
	assert_int_equal(c.status, RA_ST_INVALID);
	assert_non_null(c.error_json);
	ra_challenge_clear(&c);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.failure'"), 1);
	snprintf(want, sizeof(want), "SELECT count(*) FROM orders WHERE "
	    "id = %lld AND status = 'invalid' AND error LIKE "
	    "'%%bad.example.com%%'", (long long)ord2);
	assert_int_equal(rt_count(e, want), 1);
	/* one attempt per authorization */
	assert_int_equal(ra_challenge_respond_now(e->ra, acct, ch3, &c, &err),
	    0);
	assert_int_equal(c.status, RA_ST_INVALID);
	ra_challenge_clear(&c);
	assert_int_equal(e->fake.calls, 2);
}

struct meanwhile {
	struct rt_env *e;
	int64_t acct, ch;
	int then_ok;		/* http-01 outcome for the check after */
	long long processing;	/* challenges in processing meanwhile */
	int rc;
	enum ra_status status;
};

/* Another request answers m->ch while the first answer is being checked. */
static void
answer_meanwhile(void *arg)
{
	struct meanwhile *m = arg;
	struct ra_challenge c = {0};
	struct ra_err err = {0};

	m->processing = rt_count(m->e, "SELECT count(*) FROM challenges "
	    "WHERE status = 'processing'");
	m->rc = ra_challenge_respond_now(m->e->ra, m->acct, m->ch, &c, &err);
	m->status = c.status;
	ra_challenge_clear(&c);
	m->e->fake.http01_ok = m->then_ok;
}

/* Has the next check run answer_meanwhile for ch first. */
static void
meanwhile_arm(struct meanwhile *m, struct rt_env *e, int64_t acct,
    int64_t ch, int then_ok)
{
	*m = (struct meanwhile){e, acct, ch, then_ok, -1, -1, 0};
	e->fake.during = answer_meanwhile;
	e->fake.during_arg = m;
}

/* An answer is checked before anything is written, and what happened to
 * its challenge or authorization meanwhile decides when the result is: no
 * second valid challenge, no result over another's. */
static void
test_answer_races(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice");
	int64_t ord, ch, ch2, ord2, ch3;
	struct ra_challenge c = {0};
	struct ra_err err = {0};
	struct meanwhile m = {0};
	long long ok0, bad0;

	ord = rt_order(e, acct, "race.example.com");
	ch = chall_of(e, acct, ord, 0, RA_CHALL_HTTP01, NULL);
	ch2 = chall_of(e, acct, ord, 0, RA_CHALL_TLSALPN01, NULL);
	ok0 = rt_count(e, "SELECT count(*) FROM audit_log WHERE action = "
	    "'validation.success'");
	/* tls-alpn-01 answered and valid while http-01 is checked: the
	 * http-01 answer is refused, its result not written */
	meanwhile_arm(&m, e, acct, ch2, 1);
	e->fake.calls = 0;
	assert_int_equal(ra_challenge_respond_now(e->ra, acct, ch, &c, &err),
	    RC_STATE);
	assert_int_equal(err.problem, RA_PROB_MALFORMED);
	assert_int_equal(m.processing, 0);	/* no job while checking */
	assert_int_equal(m.rc, 0);
	assert_int_equal(m.status, RA_ST_VALID);
	assert_int_equal(e->fake.calls, 2);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM challenges WHERE "
	    "status = 'valid'"), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.success'"), ok0 + 1);
	/* the same challenge answered and valid meanwhile, this check
	 * failing: the stored result stands, and is the answer */
	ord2 = rt_order(e, acct, "race2.example.com");
	ch3 = chall_of(e, acct, ord2, 0, RA_CHALL_HTTP01, NULL);
	bad0 = rt_count(e, "SELECT count(*) FROM audit_log WHERE action = "
	    "'validation.failure'");
	meanwhile_arm(&m, e, acct, ch3, 0);
	assert_int_equal(ra_challenge_respond_now(e->ra, acct, ch3, &c, &err),
	    0);
	assert_int_equal(c.status, RA_ST_VALID);
	ra_challenge_clear(&c);
	assert_int_equal(m.rc, 0);
	assert_int_equal(m.status, RA_ST_VALID);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.failure'"), bad0);
	assert_int_equal(rt_count(e, "SELECT attempts FROM challenges WHERE "
	    "status = 'valid' AND id = (SELECT max(id) FROM challenges "
	    "WHERE status = 'valid')"), 1);
	e->fake.http01_ok = 1;
}

static void
test_failure_recorded(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice"), ord, ch;
	struct ra_challenge c = {0};
	struct ra_err err = {0};

	e->fake.dns01_ok = 0;
	ord = rt_order(e, acct, "*.example.com");
	ch = chall_of(e, acct, ord, 0, RA_CHALL_DNS01, NULL);
	assert_int_equal(ra_challenge_respond(e->ra, acct, ch, &c, &err), 0);
	ra_challenge_clear(&c);
	assert_int_equal(ra_challenge_validate_now(e->ra, acct, ch, &c, &err),
	    0);
	assert_int_equal(c.status, RA_ST_INVALID);
	assert_int_equal(c.validated_at, 0);
	ra_challenge_clear(&c);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.failure' AND details LIKE "
	    "'%\"outcome\":\"invalid\"%' AND details LIKE "
	    "'%\"wildcard\":true%'"), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM authorizations "
	    "WHERE status = 'invalid' AND evidence IS NOT NULL AND "
	    "method IS NULL AND validated_at IS NULL"), 1);
}

static void
test_jobs_after_restart(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice"), o1, o2, c1, c2;
	struct ra_challenge c = {0};
	struct ra_err err = {0};
	struct ra *ra2 = NULL;
	size_t ran = 99;

	o1 = rt_order(e, acct, "a.example.com");
	o2 = rt_order(e, acct, "b.example.com");
	c1 = chall_of(e, acct, o1, 0, RA_CHALL_HTTP01, NULL);
	c2 = chall_of(e, acct, o2, 0, RA_CHALL_TLSALPN01, NULL);
	assert_int_equal(ra_challenge_respond(e->ra, acct, c1, &c, &err), 0);
	ra_challenge_clear(&c);
	assert_int_equal(ra_challenge_respond(e->ra, acct, c2, &c, &err), 0);
	ra_challenge_clear(&c);
	/* "crash": the request threads are gone; a new instance's worker
	 * finds the jobs in the store */
	ra_free(e->ra);
	e->ra = NULL;
	assert_int_equal(ra_open(&e->rconf, e->st, e->ca, NULL, &ra2,
	    NULL), 0);
	e->ra = ra2;
	rt_fake_install(e);
	rt_set_now(e, RT_T0 + 10);
	e->fake.calls = 0;
	assert_int_equal(ra_jobs_run(e->ra, 10, &ran), 0);
	assert_int_equal(ran, 2);
	assert_int_equal(e->fake.calls, 2);
	assert_int_equal(ra_challenge_get(e->ra, acct, c1, &c, &err), 0);
	assert_int_equal(c.status, RA_ST_VALID);
	assert_int_equal(c.validated_at, RT_T0 + 10);
	ra_challenge_clear(&c);
	assert_int_equal(ra_challenge_get(e->ra, acct, c2, &c, &err), 0);
	assert_int_equal(c.status, RA_ST_VALID);
	ra_challenge_clear(&c);
	assert_int_equal(ra_jobs_run(e->ra, 10, &ran), 0);
	assert_int_equal(ran, 0);

	/* without a validation context a job fails safe: invalid */
	o1 = rt_order(e, acct, "c.example.com");
	c1 = chall_of(e, acct, o1, 0, RA_CHALL_HTTP01, NULL);
	assert_int_equal(ra_challenge_respond(e->ra, acct, c1, &c, &err), 0);
	ra_challenge_clear(&c);
	ra_set_check(e->ra, NULL, NULL);
	assert_int_equal(ra_jobs_run(e->ra, 10, &ran), 0);
	assert_int_equal(ran, 1);
	assert_int_equal(ra_challenge_get(e->ra, acct, c1, &c, &err), 0);
	assert_int_equal(c.status, RA_ST_INVALID);
	assert_int_equal(c.error, RA_PROB_SERVER_INTERNAL);
	ra_challenge_clear(&c);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM challenges WHERE "
	    "status = 'processing'"), 0);
}

static void
test_leases(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice"), ord, ch;
	struct ra_challenge c = {0};
	struct ra_err err = {0};
	size_t ran = 99;

	ord = rt_order(e, acct, "a.example.com");
	ch = chall_of(e, acct, ord, 0, RA_CHALL_HTTP01, NULL);
	assert_int_equal(ra_challenge_respond(e->ra, acct, ch, &c, &err), 0);
	ra_challenge_clear(&c);
	/* another runner claimed it (and died): nobody runs it ... */
	assert_int_equal(store_challenge_claim(e->st, ch, RT_T0, RT_T0 + 120),
	    0);
	e->fake.calls = 0;
	assert_int_equal(ra_challenge_validate_now(e->ra, acct, ch, &c, &err),
	    0);
	assert_int_equal(c.status, RA_ST_PROCESSING);
	ra_challenge_clear(&c);
	assert_int_equal(ra_jobs_run(e->ra, 10, &ran), 0);
	assert_int_equal(ran, 0);
	assert_int_equal(e->fake.calls, 0);
	/* ... until the lease ends */
	rt_set_now(e, RT_T0 + 120);
	assert_int_equal(ra_jobs_run(e->ra, 10, &ran), 0);
	assert_int_equal(ran, 1);
	assert_int_equal(e->fake.calls, 1);
	assert_int_equal(ra_challenge_get(e->ra, acct, ch, &c, &err), 0);
	assert_int_equal(c.status, RA_ST_VALID);
	ra_challenge_clear(&c);
	assert_int_equal(rt_count(e, "SELECT attempts FROM challenges WHERE "
	    "status = 'valid'"), 2);
}

/* ---- real validations ---------------------------------------------------- */

/* Puts "<token>.<thumbprint of seed><end>" on r's HTTP server for the
 * http-01 challenge of the order's first authorization, answers it and
 * validates it: c gets the outcome. */
static void
real_http01(struct rt_real *r, int64_t acct, int64_t ord, const char *seed,
    const char *end, struct ra_challenge *c)
{
	struct rt_env *e = r->e;
	struct ra_err err = {0};
	char token[RA_TOKEN_LEN + 1], tp[44], body[128];
	int64_t ch = chall_of(e, acct, ord, 0, RA_CHALL_HTTP01, token);

	rt_thumbprint(seed, tp);
	snprintf(body, sizeof(body), "%s.%s%s", token, tp, end);
	rt_http_set(&r->http, token, body);
	assert_int_equal(ra_challenge_respond(e->ra, acct, ch, c, &err), 0);
	ra_challenge_clear(c);
	assert_int_equal(ra_challenge_validate_now(e->ra, acct, ch, c, &err),
	    0);
}

static void
test_real_http01(void **state)
{
	struct rt_real *r = *state;
	struct rt_env *e;
	int64_t acct, o1, o2;
	struct ra_challenge c = {0};
	struct ra_order o = {0};
	struct ra_err err = {0};

	if (r == NULL)
		skip();
	e = r->e;
	acct = rt_account(e, "alice");

	/* the right key authorization */
	o1 = rt_order(e, acct, "web.vtest");
	real_http01(r, acct, o1, "alice", "\n", &c);
	if (c.status != RA_ST_VALID)
		fail_msg("http-01: %s", c.error_detail);
	ra_challenge_clear(&c);
	assert_true(r->http.hits >= 1);
	assert_int_equal(ra_order_get(e->ra, acct, o1, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_READY);
	ra_order_clear(&o);
	/* the evidence of the real check is kept */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM authorizations "
	    "WHERE status = 'valid' AND evidence LIKE '%\"http\"%' AND "
	    "evidence LIKE '%web.vtest%'"), 1);

	/* a wrong key authorization (another account's thumbprint) */
	o2 = rt_order(e, acct, "web2.vtest");
	real_http01(r, acct, o2, "mallory", "", &c);
	assert_int_equal(c.status, RA_ST_INVALID);
	assert_int_equal(c.error, RA_PROB_INCORRECT_RESPONSE);
	ra_challenge_clear(&c);
	assert_int_equal(ra_order_get(e->ra, acct, o2, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_INVALID);
	assert_int_equal(o.error, RA_PROB_INCORRECT_RESPONSE);
	ra_order_clear(&o);
}

/* RFC 8738: an ip identifier validated by the real http-01 check against
 * 127.0.0.1 (no DNS), under private trust */
static void
test_real_http01_ip(void **state)
{
	struct rt_real *r = *state;
	struct rt_env *e;
	struct rc_detail d = {""};
	struct ra_ident id = {"ip", "127.0.0.1"};
	struct ra_challenge c = {0};
	struct ra_order o = {0};
	struct ra_authz a = {0};
	struct ra_err err = {0};
	char token[RA_TOKEN_LEN + 1], tp[44], body[128];
	int64_t acct, ch;
	unsigned hits;

	if (r == NULL)
		skip();
	e = r->e;
	ra_free(e->ra);
	e->ra = NULL;
	e->rconf.allow_ip = 1;
	e->rconf.trust_private = 1;
	if (ra_open(&e->rconf, e->st, e->ca, NULL, &e->ra, &d) != 0)
		fail_msg("ra_open: %s", d.msg);
	rt_use_val(e, r->val);
	acct = rt_account(e, "alice");
	rt_thumbprint("alice", tp);
	assert_int_equal(ra_order_new(e->ra, acct, &id, 1, &o, &err), 0);
	assert_int_equal(ra_authz_get(e->ra, acct, o.authz_ids[0], &a, &err),
	    0);
	assert_int_equal(a.nchall, 2);	/* no dns-01 */
	ra_authz_clear(&a);
	ch = chall_of(e, acct, o.id, 0, RA_CHALL_HTTP01, token);
	snprintf(body, sizeof(body), "%s.%s", token, tp);
	rt_http_set(&r->http, token, body);
	hits = r->http.hits;
	assert_int_equal(ra_challenge_respond(e->ra, acct, ch, &c, &err), 0);
	ra_challenge_clear(&c);
	assert_int_equal(ra_challenge_validate_now(e->ra, acct, ch, &c, &err),
	    0);
	if (c.status != RA_ST_VALID)
		fail_msg("http-01 to 127.0.0.1: %s", c.error_detail);
	ra_challenge_clear(&c);
	assert_true(r->http.hits > hits);
	{
		int64_t oid = o.id;

		ra_order_clear(&o);
		assert_int_equal(ra_order_get(e->ra, acct, oid, &o, &err), 0);
	}
	assert_int_equal(o.status, RA_ST_READY);
	ra_order_clear(&o);
	/* the evidence: the address, no DNS lookup */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM authorizations "
	    "WHERE status = 'valid' AND ident_type = 'ip' AND identifier = "
	    "'127.0.0.1' AND evidence LIKE '%\"http\"%' AND evidence NOT "
	    "LIKE '%\"dns\"%'"), 1);
}

static void
test_real_dns01_wildcard(void **state)
{
	struct rt_real *r = *state;
	struct rt_env *e;
	int64_t acct, ord, ch;
	struct ra_challenge c = {0};
	struct ra_order o = {0};
	struct ra_err err = {0};
	char token[RA_TOKEN_LEN + 1], tp[44], ka[128], val[64], upd[256];

	if (r == NULL)
		skip();
	e = r->e;
	acct = rt_account(e, "alice");
	rt_thumbprint("alice", tp);
	ord = rt_order(e, acct, "*.dyn.vtest");
	ch = chall_of(e, acct, ord, 0, RA_CHALL_DNS01, token);
	snprintf(ka, sizeof(ka), "%s.%s", token, tp);
	assert_int_equal(val_dns01_value(ka, val, sizeof(val)), 0);
	snprintf(upd, sizeof(upd), "update add _acme-challenge.dyn.vtest. 60 "
	    "TXT \"%s\"", val);
	if (rt_nsupdate(r->knot.resolver, upd) != 0)
		fail_msg("knsupdate failed");
	assert_int_equal(ra_challenge_respond(e->ra, acct, ch, &c, &err), 0);
	ra_challenge_clear(&c);
	assert_int_equal(ra_challenge_validate_now(e->ra, acct, ch, &c, &err),
	    0);
	if (c.status != RA_ST_VALID)
		fail_msg("dns-01: %s", c.error_detail);
	ra_challenge_clear(&c);
	assert_int_equal(ra_order_get(e->ra, acct, ord, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_READY);
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM authorizations "
	    "WHERE status = 'valid' AND wildcard = 1 AND method = 'dns-01'"),
	    1);
}

/* A lending pool of one real context, counting (ra_set_val_pool). */
struct lender {
	struct val_ctx *v;
	int out, gets, fail;
};

static int
lend(void *arg, struct val_ctx **out)
{
	struct lender *l = arg;

	*out = NULL;
	if (l->fail)
		return RC_ERR;
	assert_int_equal(l->out, 0);	/* one check at a time here */
	l->out++;
	l->gets++;
	*out = l->v;
	return 0;
}

static void
take_back(void *arg, struct val_ctx *v)
{
	struct lender *l = arg;

	assert_ptr_equal(v, l->v);
	l->out--;
}

/* An ra without a validation context of its own borrows one for each
 * check and gives it back; a pool that cannot lend fails the check
 * (serverInternal), never passes it. */
static void
test_real_val_pool(void **state)
{
	struct rt_real *r = *state;
	struct rt_env *e;
	struct lender l = {0};
	struct ra_challenge c = {0};
	int64_t acct;

	if (r == NULL)
		skip();
	e = r->e;
	l.v = r->val;
	e->ra->val = NULL;
	ra_set_val_pool(e->ra, lend, take_back, &l);
	acct = rt_account(e, "alice");
	real_http01(r, acct, rt_order(e, acct, "web.vtest"), "alice", "", &c);
	if (c.status != RA_ST_VALID)
		fail_msg("http-01: %s", c.error_detail);
	ra_challenge_clear(&c);
	assert_true(l.gets >= 1);
	assert_int_equal(l.out, 0);
	/* nothing to lend */
	l.fail = 1;
	real_http01(r, acct, rt_order(e, acct, "web2.vtest"), "alice", "", &c);
	assert_int_equal(c.status, RA_ST_INVALID);
	assert_int_equal(c.error, RA_PROB_SERVER_INTERNAL);
	assert_non_null(strstr(c.error_detail,
	    "validation is not configured on this server"));
	ra_challenge_clear(&c);
	e->ra->val = r->val;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_respond_and_validate,
		    rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_answer_races, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_respond_now, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_failure_recorded, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_jobs_after_restart, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_leases, rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_real_http01, rt_real_setup,
		    rt_real_teardown),
		cmocka_unit_test_setup_teardown(test_real_http01_ip,
		    rt_real_setup, rt_real_teardown),
		cmocka_unit_test_setup_teardown(test_real_dns01_wildcard,
		    rt_real_setup, rt_real_teardown),
		cmocka_unit_test_setup_teardown(test_real_val_pool,
		    rt_real_setup, rt_real_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
