/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/ra/order.c through ra.h: newOrder policy (bad names
 * with one subproblem each and nothing created, IDN U-labels, trailing
 * dots, wildcards on public suffixes, IP identifiers off and on, blocked
 * names, duplicates and case), challenges per identifier, authorization
 * reuse within the domain validation reuse period and not after it, the
 * order state machine (pending -> ready, -> invalid by a failed challenge,
 * by expiry, by deactivation), authorization deactivation, another
 * account's ids, and the orders list.
 */
#include "ra_test.h"

#include "ca/ca.h"
#include "util/xmalloc.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define DAY 86400

static int
setup(void **state)
{
	*state = rt_setup(RT_T0, "blocked.example\n");
	return 0;
}

static void
test_order_policy(void **state)
{
	struct rt_env *e = *state;
	static const struct {
		const char *type, *value;
		enum ra_prob p;
	} bad[] = {
		{"dns", "b\xc3\xbc" "cher.example",
		    RA_PROB_REJECTED_IDENTIFIER},
		{"dns", "www.example.com.", RA_PROB_REJECTED_IDENTIFIER},
		{"dns", "*.com", RA_PROB_REJECTED_IDENTIFIER},
		{"dns", "*.co.uk", RA_PROB_REJECTED_IDENTIFIER},
		{"dns", "a.*.example.com", RA_PROB_REJECTED_IDENTIFIER},
		{"dns", "192.0.2.1", RA_PROB_REJECTED_IDENTIFIER},
		/* ip identifiers are off here: a type not supported */
		{"ip", "192.0.2.1", RA_PROB_UNSUPPORTED_IDENTIFIER},
		{"dns", "www.blocked.example", RA_PROB_REJECTED_IDENTIFIER},
		{"dns", "intranet", RA_PROB_REJECTED_IDENTIFIER},
		{"email", "a@example.com", RA_PROB_UNSUPPORTED_IDENTIFIER},
		{"dns", "", RA_PROB_REJECTED_IDENTIFIER},
	};
	int64_t acct = rt_account(e, "alice");
	struct ra_ident ids[16];
	struct ra_order o = {0};
	struct ra_err err;
	size_t n = sizeof(bad) / sizeof(bad[0]);

	/* each alone: its own problem as the top-level one */
	for (size_t i = 0; i < n; i++) {
		memset(&err, 0, sizeof(err));
		ids[0].type = bad[i].type;
		ids[0].value = bad[i].value;
		if (ra_order_new(e->ra, acct, ids, 1, &o, &err) == 0)
			fail_msg("accepted %s:%s", bad[i].type, bad[i].value);
		assert_int_equal(err.problem, bad[i].p);
		assert_int_equal(err.nsub, 1);
		assert_int_equal(err.sub[0].problem, bad[i].p);
		assert_string_equal(err.sub[0].type, bad[i].type);
	}
	/* together with a good one: one subproblem each, nothing made */
	ids[0].type = "dns";
	ids[0].value = "good.example.com";
	for (size_t i = 0; i < 6; i++)
		ids[i + 1] = (struct ra_ident){bad[i].type, bad[i].value};
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_order_new(e->ra, acct, ids, 7, &o, &err),
	    RC_BADNAME);
	assert_int_equal(err.problem, RA_PROB_REJECTED_IDENTIFIER);
	assert_int_equal(err.nsub, 6);
	assert_string_equal(err.sub[1].value, "www.example.com.");
	assert_string_equal(err.sub[0].value, "b\xc3\xbc" "cher.example");
	assert_int_equal(rt_count(e, "SELECT count(*) FROM orders"), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM authorizations"),
	    0);
	/* no identifiers; too many; NULL parts */
	assert_int_equal(ra_order_new(e->ra, acct, ids, 0, &o, &err),
	    RC_INVAL);
	assert_int_equal(err.problem, RA_PROB_MALFORMED);
	{
		struct ra_ident *many = xcalloc(101, sizeof(*many));
		char (*names)[32] = xcalloc(101, 32);

		for (size_t i = 0; i < 101; i++) {
			snprintf(names[i], 32, "n%zu.example.com", i);
			many[i].type = "dns";
			many[i].value = names[i];
		}
		assert_int_equal(ra_order_new(e->ra, acct, many, 101, &o,
		    &err), RC_INVAL);
		free(names);
		free(many);
	}
	ids[0].type = NULL;
	assert_int_equal(ra_order_new(e->ra, acct, ids, 1, &o, &err),
	    RC_BADNAME);
	assert_int_equal(err.problem, RA_PROB_MALFORMED);
	/* unknown account */
	ids[0].type = "dns";
	assert_int_equal(ra_order_new(e->ra, acct + 9, ids, 1, &o, &err),
	    RC_NOTFOUND);
	assert_int_equal(err.problem, RA_PROB_ACCOUNT_DOES_NOT_EXIST);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM orders"), 0);
}

static void
test_order_normalise(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice");
	struct ra_ident ids[] = {
		{"dns", "WWW.Example.COM"},
		{"dns", "www.example.com"},
		{"dns", "*.Example.com"},
		{"dns", "example.com"},
		{"dns", "*.example.com"},
	};
	struct ra_order o = {0};
	struct ra_authz a = {0};
	struct ra_err err = {0};
	char tokens[8][RA_TOKEN_LEN + 1];
	size_t nt = 0;

	assert_int_equal(ra_order_new(e->ra, acct, ids, 5, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_PENDING);
	assert_int_equal(o.account_id, acct);
	assert_int_equal(o.nident, 3);
	assert_string_equal(o.ident[0], "www.example.com");
	assert_string_equal(o.ident[1], "*.example.com");
	assert_string_equal(o.ident[2], "example.com");
	assert_string_equal(o.ident_type[0], "dns");
	assert_int_equal(o.nauthz, 3);
	assert_int_equal(o.expires_at, RT_T0 + 7 * DAY);
	assert_string_equal(o.cert_serial, "");
	assert_null(o.error_json);
	/* a wildcard and its base are different authorizations */
	assert_true(o.authz_ids[1] != o.authz_ids[2]);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(ra_authz_get(e->ra, acct, o.authz_ids[i], &a,
		    &err), 0);
		assert_int_equal(a.status, RA_ST_PENDING);
		assert_int_equal(a.expires_at, RT_T0 + 7 * DAY);
		assert_string_equal(a.type, "dns");
		if (i == 1) {
			/* RFC 8555 §7.1.3: wildcard only through dns-01 */
			assert_int_equal(a.wildcard, 1);
			assert_string_equal(a.identifier, "example.com");
			assert_int_equal(a.nchall, 1);
			assert_int_equal(a.chall[0].type, RA_CHALL_DNS01);
		} else {
			assert_int_equal(a.wildcard, 0);
			assert_int_equal(a.nchall, 3);
		}
		for (size_t k = 0; k < a.nchall; k++) {
			assert_int_equal(a.chall[k].status, RA_ST_PENDING);
			assert_int_equal(a.chall[k].authz_id, a.id);
			assert_int_equal(strlen(a.chall[k].token),
			    RA_TOKEN_LEN);
			assert_true(ra_b64u_ok(a.chall[k].token, 64));
			for (size_t j = 0; j < nt; j++)
				assert_string_not_equal(tokens[j],
				    a.chall[k].token);
			memcpy(tokens[nt++], a.chall[k].token,
			    RA_TOKEN_LEN + 1);
		}
		ra_authz_clear(&a);
	}
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.order.new'"), 1);
}

static void
test_ip_identifiers(void **state)
{
	struct rt_env *e = *state;
	struct ra_conf c = e->rconf;
	struct ra *ra = NULL;
	struct ra_ident ids[] = {{"ip", "192.0.2.1"}, {"ip", "2001:DB8::01"}};
	struct ra_ident bad = {"ip", "192.0.2.300"};
	struct ra_order o = {0};
	struct ra_authz a = {0};
	struct ra_err err = {0};
	int64_t acct = rt_account(e, "ipper");

	c.allow_ip = 1;
	c.trust_private = 1;	/* documentation addresses are reserved */
	assert_int_equal(ra_open(&c, e->st, e->ca, NULL, &ra, NULL), 0);
	assert_int_equal(ra_order_new(ra, acct, ids, 2, &o, &err), 0);
	assert_string_equal(o.ident[0], "192.0.2.1");
	assert_string_equal(o.ident[1], "2001:db8::1");
	assert_string_equal(o.ident_type[0], "ip");
	assert_string_equal(o.ident_type[1], "ip");
	assert_int_equal(ra_authz_get(ra, acct, o.authz_ids[1], &a, &err), 0);
	assert_string_equal(a.type, "ip");
	/* RFC 8738 §7: no dns-01 for addresses */
	assert_int_equal(a.nchall, 2);
	for (size_t k = 0; k < a.nchall; k++)
		assert_int_not_equal(a.chall[k].type, RA_CHALL_DNS01);
	ra_authz_clear(&a);
	ra_order_clear(&o);
	assert_int_equal(ra_order_new(ra, acct, &bad, 1, &o, &err),
	    RC_BADNAME);
	assert_int_equal(err.problem, RA_PROB_MALFORMED);
	ra_free(ra);
}

/* RFC 8738 forms, IPv4-mapped addresses and the public-trust refusal of
 * reserved addresses (BR 4.2.2) */
static void
test_ip_policy(void **state)
{
	static const char *const malformed[] = {
		"1.2.3", "01.2.3.4", "1.2.3.4.", "fe80::1%eth0", "[::1]",
		"1.2.3.4/32", "::1::", "0x7f.0.0.1", "", " 8.8.8.8",
		"*.8.8.8.8", "1.2.3.256",
	};
	static const char *const reserved[] = {
		"127.0.0.1", "10.0.0.1", "192.168.1.1", "172.16.5.4",
		"169.254.0.1", "100.64.1.1", "192.0.2.1", "198.51.100.1",
		"203.0.113.1", "0.0.0.0", "224.0.0.1", "255.255.255.255",
		"::1", "::", "fe80::1", "fc00::1", "2001:db8::1", "ff02::1",
	};
	struct rt_env *e = *state;
	struct ra_conf c = e->rconf;
	struct ra *ra = NULL;
	struct ra_order o = {0};
	struct ra_authz a = {0};
	struct ra_err err;
	struct ra_ident id = {"ip", NULL};
	int64_t acct = rt_account(e, "ipper");
	char huge[8192];

	c.allow_ip = 1;
	c.trust_private = 0;
	assert_int_equal(ra_open(&c, e->st, e->ca, NULL, &ra, NULL), 0);
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]);
	    i++) {
		memset(&err, 0, sizeof(err));
		id.value = malformed[i];
		if (ra_order_new(ra, acct, &id, 1, &o, &err) != RC_BADNAME ||
		    err.problem != RA_PROB_MALFORMED)
			fail_msg("'%s' accepted or not malformed (%s)",
			    malformed[i], ra_prob_name(err.problem));
	}
	memset(huge, '1', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memset(&err, 0, sizeof(err));
	id.value = huge;
	assert_int_equal(ra_order_new(ra, acct, &id, 1, &o, &err),
	    RC_BADNAME);
	assert_int_equal(err.problem, RA_PROB_MALFORMED);
	assert_true(strlen(err.sub[0].value) <= 255);
	/* public trust: no reserved address */
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		memset(&err, 0, sizeof(err));
		id.value = reserved[i];
		if (ra_order_new(ra, acct, &id, 1, &o, &err) != RC_BADNAME ||
		    err.problem != RA_PROB_REJECTED_IDENTIFIER ||
		    strstr(err.sub[0].detail, "reserved") == NULL)
			fail_msg("'%s' not refused as reserved (%s: %s)",
			    reserved[i], ra_prob_name(err.problem),
			    err.sub[0].detail);
	}
	/* IPv4-mapped: refused under either trust, the IPv4 form named */
	memset(&err, 0, sizeof(err));
	id.value = "::ffff:8.8.8.8";
	assert_int_equal(ra_order_new(ra, acct, &id, 1, &o, &err),
	    RC_BADNAME);
	assert_int_equal(err.problem, RA_PROB_REJECTED_IDENTIFIER);
	assert_non_null(strstr(err.sub[0].detail, "8.8.8.8 instead"));
	/* public addresses: normalised, http-01 and tls-alpn-01 only */
	{
		struct ra_ident ok[] = {{"ip", "8.8.8.8"},
			{"ip", "2001:4860:4860:0:0:0:0:8888"},
			{"dns", "www.example.com"}};

		memset(&err, 0, sizeof(err));
		assert_int_equal(ra_order_new(ra, acct, ok, 3, &o, &err), 0);
		assert_int_equal(o.nident, 3);
		for (size_t i = 0; i < o.nident; i++) {
			if (strcmp(o.ident[i], "2001:4860:4860::8888") == 0 ||
			    strcmp(o.ident[i], "8.8.8.8") == 0)
				assert_string_equal(o.ident_type[i], "ip");
			else
				assert_string_equal(o.ident_type[i], "dns");
			assert_int_equal(ra_authz_get(ra, acct,
			    o.authz_ids[i], &a, &err), 0);
			if (strcmp(a.type, "ip") == 0) {
				assert_int_equal(a.nchall, 2);
				for (size_t k = 0; k < a.nchall; k++)
					assert_true(a.chall[k].type ==
					    RA_CHALL_HTTP01 || a.chall[k].type
					    == RA_CHALL_TLSALPN01);
			} else {
				assert_int_equal(a.nchall, 3);
			}
			ra_authz_clear(&a);
		}
		ra_order_clear(&o);
	}
	ra_free(ra);

	/* private trust: reserved addresses are fine, mapped ones not */
	c.trust_private = 1;
	assert_int_equal(ra_open(&c, e->st, e->ca, NULL, &ra, NULL), 0);
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		memset(&err, 0, sizeof(err));
		id.value = reserved[i];
		if (ra_order_new(ra, acct, &id, 1, &o, &err) != 0)
			fail_msg("'%s' refused under private trust: %s",
			    reserved[i], err.detail.msg);
		ra_order_clear(&o);
	}
	memset(&err, 0, sizeof(err));
	id.value = "::ffff:127.0.0.1";
	assert_int_equal(ra_order_new(ra, acct, &id, 1, &o, &err),
	    RC_BADNAME);
	assert_int_equal(err.problem, RA_PROB_REJECTED_IDENTIFIER);
	ra_free(ra);
}

static void
test_authz_reuse(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice"), other = rt_account(e, "bob");
	int64_t o1, o2, a1;
	struct ra_order o = {0};
	struct ra_authz a = {0};
	struct ra_err err = {0};

	o1 = rt_order(e, acct, "www.example.com");
	/* pending authorizations are reused too (as Boulder) */
	o2 = rt_order(e, acct, "www.example.com");
	assert_int_equal(ra_order_get(e->ra, acct, o1, &o, &err), 0);
	a1 = o.authz_ids[0];
	ra_order_clear(&o);
	assert_int_equal(ra_order_get(e->ra, acct, o2, &o, &err), 0);
	assert_int_equal(o.authz_ids[0], a1);
	ra_order_clear(&o);
	/* never another account's */
	o2 = rt_order(e, other, "www.example.com");
	assert_int_equal(ra_order_get(e->ra, other, o2, &o, &err), 0);
	assert_int_not_equal(o.authz_ids[0], a1);
	ra_order_clear(&o);

	rt_validate_order(e, acct, o1, RA_CHALL_HTTP01);
	assert_int_equal(ra_authz_get(e->ra, acct, a1, &a, &err), 0);
	assert_int_equal(a.status, RA_ST_VALID);
	assert_int_equal(a.validated_at, RT_T0);
	assert_string_equal(a.method, "http-01");
	/* valid until validated_at + the reuse period of that date */
	assert_int_equal(a.expires_at, RT_T0 + (time_t)
	    ca_cal_dv_reuse_days(RT_T0) * DAY);
	ra_authz_clear(&a);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM authorizations "
	    "WHERE br_version = '" RA_BR_VERSION "' AND evidence LIKE "
	    "'%\"method\":\"http-01\"%'"), 1);

	/* 150 days on (2026-06-09, reuse period 200 days): reused, and the
	 * new order is ready at once */
	rt_set_now(e, RT_T0 + 150 * DAY);
	o2 = rt_order(e, acct, "www.example.com");
	assert_int_equal(ra_order_get(e->ra, acct, o2, &o, &err), 0);
	assert_int_equal(o.authz_ids[0], a1);
	assert_int_equal(o.status, RA_ST_READY);
	ra_order_clear(&o);

	/* 201 days on: validated longer ago than the period allows now, so
	 * a new authorization (although the old one has not expired) */
	rt_set_now(e, RT_T0 + 201 * DAY);
	o2 = rt_order(e, acct, "www.example.com");
	assert_int_equal(ra_order_get(e->ra, acct, o2, &o, &err), 0);
	assert_int_not_equal(o.authz_ids[0], a1);
	assert_int_equal(o.status, RA_ST_PENDING);
	ra_order_clear(&o);
	assert_int_equal(ra_authz_get(e->ra, acct, a1, &a, &err), 0);
	assert_int_equal(a.status, RA_ST_VALID);
	ra_authz_clear(&a);
	/* once past expires_at it reads expired */
	rt_set_now(e, RT_T0 + 400 * DAY);
	assert_int_equal(ra_authz_get(e->ra, acct, a1, &a, &err), 0);
	assert_int_equal(a.status, RA_ST_EXPIRED);
	ra_authz_clear(&a);
}

static void
test_state_machine(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice");
	int64_t o1, o2, o3;
	struct ra_order o = {0};
	struct ra_authz a = {0};
	struct ra_challenge c = {0};
	struct ra_err err = {0};

	/* pending -> ready when every authorization is valid */
	o1 = rt_order(e, acct, "a.example.com b.example.com");
	rt_validate_order(e, acct, o1, RA_CHALL_HTTP01);
	assert_int_equal(ra_order_get(e->ra, acct, o1, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_READY);
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM orders WHERE "
	    "status = 'ready'"), 1);

	/* a failed challenge makes the authorization and order invalid,
	 * with the challenge's problem */
	e->fake.http01_ok = 0;
	o2 = rt_order(e, acct, "c.example.com d.example.com");
	assert_int_equal(ra_order_get(e->ra, acct, o2, &o, &err), 0);
	assert_int_equal(ra_authz_get(e->ra, acct, o.authz_ids[0], &a, &err),
	    0);
	ra_order_clear(&o);
	assert_int_equal(ra_challenge_respond(e->ra, acct, a.chall[0].id, &c,
	    &err), 0);
	assert_int_equal(c.status, RA_ST_PROCESSING);
	ra_challenge_clear(&c);
	assert_int_equal(ra_challenge_validate_now(e->ra, acct, a.chall[0].id,
	    &c, &err), 0);
	assert_int_equal(c.status, RA_ST_INVALID);
	assert_int_equal(c.error, RA_PROB_INCORRECT_RESPONSE);
	assert_non_null(strstr(c.error_detail, "fake failure"));
	assert_non_null(strstr(c.error_json, "incorrectResponse"));
	ra_challenge_clear(&c);
	ra_authz_clear(&a);
	assert_int_equal(ra_order_get(e->ra, acct, o2, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_INVALID);
	assert_int_equal(o.error, RA_PROB_INCORRECT_RESPONSE);
	assert_non_null(strstr(o.error_detail, "c.example.com"));
	assert_non_null(strstr(o.error_json, "subproblems"));
	ra_order_clear(&o);
	/* one attempt: the other challenges of that authz are refused */
	assert_int_equal(ra_order_get(e->ra, acct, o2, &o, &err), 0);
	assert_int_equal(ra_authz_get(e->ra, acct, o.authz_ids[0], &a, &err),
	    0);
	assert_int_equal(a.status, RA_ST_INVALID);
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_challenge_respond(e->ra, acct, a.chall[1].id, &c,
	    &err), RC_STATE);
	assert_int_equal(err.problem, RA_PROB_MALFORMED);
	assert_int_equal(ra_challenge_respond(e->ra, acct, a.chall[0].id, &c,
	    &err), RC_STATE);
	/* validating a challenge of an invalid authorization runs nothing */
	e->fake.calls = 0;
	assert_int_equal(ra_challenge_validate_now(e->ra, acct, a.chall[1].id,
	    &c, &err), 0);
	assert_int_equal(c.status, RA_ST_PENDING);
	assert_int_equal(e->fake.calls, 0);
	ra_challenge_clear(&c);
	ra_authz_clear(&a);
	ra_order_clear(&o);
	e->fake.http01_ok = 1;

	/* expiry: a pending order past its expiry is invalid */
	o3 = rt_order(e, acct, "e.example.com");
	rt_set_now(e, RT_T0 + 7 * DAY);
	assert_int_equal(ra_order_get(e->ra, acct, o3, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_INVALID);
	assert_non_null(strstr(o.error_detail, "expired"));
	ra_order_clear(&o);
	/* ... and so is a ready one */
	assert_int_equal(ra_order_get(e->ra, acct, o1, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_INVALID);
	ra_order_clear(&o);
	/* an expired pending authorization cannot be answered */
	assert_int_equal(ra_order_get(e->ra, acct, o3, &o, &err), 0);
	assert_int_equal(ra_authz_get(e->ra, acct, o.authz_ids[0], &a, &err),
	    0);
	assert_int_equal(a.status, RA_ST_EXPIRED);
	assert_int_equal(ra_challenge_respond(e->ra, acct, a.chall[0].id, &c,
	    &err), RC_STATE);
	assert_non_null(strstr(err.detail.msg, "expired"));
	ra_authz_clear(&a);
	ra_order_clear(&o);
}

static void
test_authz_deactivate(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice"), bob = rt_account(e, "bob");
	int64_t o1, o2;
	struct ra_order o = {0};
	struct ra_authz a = {0};
	struct ra_err err = {0};

	o1 = rt_order(e, acct, "a.example.com");
	assert_int_equal(ra_order_get(e->ra, acct, o1, &o, &err), 0);
	/* another account cannot */
	assert_int_equal(ra_authz_deactivate(e->ra, bob, o.authz_ids[0], &a,
	    &err), RC_NOTFOUND);
	assert_int_equal(ra_authz_deactivate(e->ra, acct, o.authz_ids[0], &a,
	    &err), 0);
	assert_int_equal(a.status, RA_ST_DEACTIVATED);
	ra_authz_clear(&a);
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_authz_deactivate(e->ra, acct, o.authz_ids[0], &a,
	    &err), RC_STATE);
	assert_int_equal(err.problem, RA_PROB_MALFORMED);
	ra_order_clear(&o);
	assert_int_equal(ra_order_get(e->ra, acct, o1, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_INVALID);
	assert_int_equal(o.error, RA_PROB_UNAUTHORIZED);
	ra_order_clear(&o);
	/* a valid one can be deactivated; then it is not reused */
	o2 = rt_order(e, acct, "b.example.com");
	rt_validate_order(e, acct, o2, RA_CHALL_DNS01);
	assert_int_equal(ra_order_get(e->ra, acct, o2, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_READY);
	assert_int_equal(ra_authz_deactivate(e->ra, acct, o.authz_ids[0],
	    NULL, &err), 0);
	ra_order_clear(&o);
	o1 = rt_order(e, acct, "b.example.com");
	assert_int_equal(ra_order_get(e->ra, acct, o1, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_PENDING);
	ra_order_clear(&o);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.authz.deactivate'"), 2);
}

static void
test_other_account(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice"), bob = rt_account(e, "bob");
	int64_t o1;
	struct ra_order o = {0}, ob = {0};
	struct ra_authz a = {0};
	struct ra_challenge c = {0};
	struct ra_err err = {0};

	o1 = rt_order(e, acct, "a.example.com");
	assert_int_equal(ra_order_get(e->ra, acct, o1, &o, &err), 0);
	assert_int_equal(ra_authz_get(e->ra, acct, o.authz_ids[0], &a, &err),
	    0);
	/* the same answers as for ids that do not exist, nothing filled */
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_order_get(e->ra, bob, o1, &ob, &err),
	    RC_NOTFOUND);
	assert_int_equal(ob.id, 0);
	assert_int_equal(err.problem, RA_PROB_MALFORMED);
	assert_int_equal(ra_order_get(e->ra, bob, o1 + 100, &ob, &err),
	    RC_NOTFOUND);
	assert_int_equal(ra_order_get(e->ra, 0, o1, &ob, &err), RC_NOTFOUND);
	{
		struct ra_authz x = {0};

		assert_int_equal(ra_authz_get(e->ra, bob, a.id, &x, &err),
		    RC_NOTFOUND);
		assert_int_equal(x.id, 0);
	}
	assert_int_equal(ra_challenge_get(e->ra, bob, a.chall[0].id, &c,
	    &err), RC_NOTFOUND);
	assert_int_equal(c.id, 0);
	/* responding to another account's challenge: not found, no change */
	assert_int_equal(ra_challenge_respond(e->ra, bob, a.chall[0].id, &c,
	    &err), RC_NOTFOUND);
	assert_int_equal(ra_challenge_validate_now(e->ra, bob, a.chall[0].id,
	    &c, &err), RC_NOTFOUND);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM challenges WHERE "
	    "status <> 'pending'"), 0);
	/* own: fine */
	assert_int_equal(ra_challenge_get(e->ra, acct, a.chall[0].id, &c,
	    &err), 0);
	assert_int_equal(c.id, a.chall[0].id);
	ra_challenge_clear(&c);
	assert_int_equal(ra_challenge_get(e->ra, acct, 999999, &c, &err),
	    RC_NOTFOUND);
	ra_authz_clear(&a);
	ra_order_clear(&o);
}

static void
test_orders_list(void **state)
{
	struct rt_env *e = *state;
	int64_t acct = rt_account(e, "alice"), bob = rt_account(e, "bob");
	int64_t made[5], ids[3];
	size_t n = 0;
	int more = -1;

	for (int i = 0; i < 5; i++) {
		char name[32];

		snprintf(name, sizeof(name), "n%d.example.com", i);
		made[i] = rt_order(e, acct, name);
	}
	(void)rt_order(e, bob, "x.example.com");
	assert_int_equal(ra_account_orders(e->ra, acct, 0, ids, 3, &n, &more),
	    0);
	assert_int_equal(n, 3);
	assert_int_equal(more, 1);
	assert_int_equal(ids[0], made[4]);
	assert_int_equal(ids[2], made[2]);
	assert_int_equal(ra_account_orders(e->ra, acct, ids[2], ids, 3, &n,
	    &more), 0);
	assert_int_equal(n, 2);
	assert_int_equal(more, 0);
	assert_int_equal(ids[0], made[1]);
	assert_int_equal(ids[1], made[0]);
	/* RFC 8555 7.1.2.1: no invalid orders, so none that expired
	 * before they were valid: once the first five's expiry passed, a
	 * new order is the only one listed */
	rt_set_now(e, RT_T0 + 8 * DAY);	/* the default lifetime: 7 days */
	made[0] = rt_order(e, acct, "late.example.com");
	assert_int_equal(ra_account_orders(e->ra, acct, 0, ids, 3, &n, &more),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(more, 0);
	assert_int_equal(ids[0], made[0]);
	assert_int_equal(ra_account_orders(e->ra, acct, 0, ids, 0, &n, &more),
	    RC_INVAL);
	assert_int_equal(ra_account_orders(e->ra, -1, 0, ids, 3, &n, &more),
	    RC_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_policy, setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_order_normalise, setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_ip_identifiers, setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_ip_policy, setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_authz_reuse, setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_state_machine, setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_authz_deactivate, setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_other_account, setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_orders_list, setup,
		    rt_cm_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
