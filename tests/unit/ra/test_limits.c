/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/ra/limits.c (and the store's buckets under it), on a
 * real store with the clock pinned: new orders per account; failed
 * validations per account and name; duplicate certificates and
 * certificates per registered domain, with the renewal exemption; new
 * accounts per IPv4 address and IPv6 /48, EAB-bound ones exempt; each
 * refusal a rateLimited problem with the limit, a retry time and
 * retry_after, writing nothing; the buckets refilling with time and swept
 * when full; the GCRA arithmetic and bad arguments of store_rl_take.
 */
#include "ra_test.h"

#include "store/store.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define DAY 86400
#define NCERTS "SELECT count(*) FROM certificates WHERE profile = 'dv'"

/* newOrder for the space-separated DNS names: rc, err filled. */
static int
try_order(struct rt_env *e, int64_t acct, const char *names,
    struct ra_err *err)
{
	return rt_try_order(e, acct, names, NULL, err);
}

static void
expect_limited(int rc, const struct ra_err *err, const char *needle,
    long retry_after)
{
	assert_int_equal(rc, RC_POLICY);
	assert_int_equal(err->problem, RA_PROB_RATE_LIMITED);
	if (strstr(err->detail.msg, needle) == NULL ||
	    strstr(err->detail.msg, "retry after 2026-") == NULL)
		fail_msg("detail '%s' lacks '%s' or the time", err->detail.msg,
		    needle);
	assert_int_equal(err->retry_after, retry_after);
}

/* An order for names, validated and finalized: the certificate's
 * serial. */
static void
issue(struct rt_env *e, int64_t acct, const char *names)
{
	int64_t ord = rt_order(e, acct, names);
	struct ra_order o = {0};
	struct ra_err err = {0};
	EVP_PKEY *k = rt_key();
	size_t len;
	uint8_t *csr = rt_csr(k, names, &len);

	rt_validate_order(e, acct, ord, strchr(names, '*') ? RA_CHALL_DNS01
							   : RA_CHALL_HTTP01);
	if (ra_order_finalize(e->ra, acct, ord, csr, len, &o, &err) != 0)
		fail_msg("finalize %s: %s", names, err.detail.msg);
	ra_order_clear(&o);
	free(csr);
	EVP_PKEY_free(k);
}

static void
test_orders_per_account(void **state)
{
	struct rt_env *e = *state;
	struct ra_err err;
	int64_t a = rt_account(e, "a"), b = rt_account(e, "b");

	e->ra->conf.lim_orders = (struct ra_limit){3, 3600};
	for (int i = 0; i < 3; i++)
		rt_order(e, a, "www.example.com");
	expect_limited(try_order(e, a, "www.example.com", &err), &err,
	    "too many new orders from this account (3 per 1h)", 1200);
	/* nothing written for it */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM orders"), 3);
	/* another account has its own */
	rt_order(e, b, "www.example.com");
	/* a third of the period later, one more */
	rt_set_now(e, RT_T0 + 1199);
	expect_limited(try_order(e, a, "x.example.com", &err), &err,
	    "new orders", 1);
	rt_set_now(e, RT_T0 + 1200);
	rt_order(e, a, "x.example.com");
	expect_limited(try_order(e, a, "x.example.com", &err), &err,
	    "new orders", 1200);
	/* a whole period later, the whole burst */
	rt_set_now(e, RT_T0 + 1200 + 3600);
	for (int i = 0; i < 3; i++)
		rt_order(e, a, "y.example.com");
	expect_limited(try_order(e, a, "y.example.com", &err), &err,
	    "new orders", 1200);
	/* off: no limit */
	e->ra->conf.lim_orders = (struct ra_limit){0, 0};
	rt_order(e, a, "y.example.com");
}

static void
test_failed_validations(void **state)
{
	struct rt_env *e = *state;
	struct ra_err err;
	int64_t a = rt_account(e, "a"), b = rt_account(e, "b");
	int64_t o;

	e->ra->conf.lim_failed = (struct ra_limit){2, 3600};
	e->fake.http01_ok = 0;
	for (int i = 0; i < 2; i++) {
		o = rt_order(e, a, "fail.example.com");
		rt_validate_order(e, a, o, RA_CHALL_HTTP01);
	}
	assert_int_equal(rt_count(e, "SELECT count(*) FROM authorizations "
	    "WHERE status = 'invalid'"), 2);
	expect_limited(try_order(e, a, "fail.example.com", &err), &err,
	    "too many failed validations of fail.example.com by this "
	    "account (2 per 1h)", 1800);
	/* the name in another case is the same name */
	expect_limited(try_order(e, a, "FAIL.example.com", &err), &err,
	    "fail.example.com", 1800);
	/* other names, and other accounts, are not held up */
	rt_order(e, a, "ok.example.com");
	rt_order(e, b, "fail.example.com");
	/* a wildcard is another name */
	rt_order(e, a, "*.fail.example.com");
	/* half an hour later, one more try */
	rt_set_now(e, RT_T0 + 1800);
	o = rt_order(e, a, "fail.example.com");
	e->fake.http01_ok = 1;
	rt_validate_order(e, a, o, RA_CHALL_HTTP01);
	/* success counts nothing */
	rt_set_now(e, RT_T0 + 3600);
	rt_order(e, a, "fail.example.com");
	rt_order(e, a, "fail.example.com");
}

static void
test_duplicates_and_domains(void **state)
{
	struct rt_env *e = *state;
	struct ra_err err;
	int64_t a = rt_account(e, "a"), b = rt_account(e, "b");

	e->ra->conf.lim_duplicate = (struct ra_limit){2, 7 * DAY};
	e->ra->conf.lim_domain = (struct ra_limit){3, 7 * DAY};
	issue(e, a, "example.com www.example.com");		/* domain: 1 */
	rt_set_now(e, RT_T0 + 100);
	/* the same set in another order, from another account: a
	 * duplicate, and a renewal, which the domain does not count */
	issue(e, b, "www.example.com example.com");
	expect_limited(try_order(e, a, "example.com www.example.com", &err),
	    &err, "too many certificates for exactly these names (2 per 7d)",
	    7 * DAY - 100);
	expect_limited(try_order(e, b, "WWW.example.com example.com", &err),
	    &err, "exactly these names", 7 * DAY - 100);
	/* new sets under the same registered domain */
	issue(e, a, "mail.example.com");			/* 2 */
	issue(e, a, "*.example.com");				/* 3 */
	/* GCRA: one each 7d / 3 = 201600 s, three spent since RT_T0 */
	expect_limited(try_order(e, a, "new.example.com", &err), &err,
	    "too many certificates for example.com (3 per 7d)", 201500);
	expect_limited(try_order(e, a, "a.b.c.example.com", &err), &err,
	    "example.com", 201500);
	/* a renewal still passes; another registered domain has its own */
	issue(e, a, "mail.example.com");
	issue(e, a, "example.net www.example.net");
	issue(e, a, "shop.example.co.uk");
	assert_int_equal(rt_count(e, NCERTS), 7);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM issued_sets"), 7);
	/* the refusals wrote no order */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM orders"), 7);
	/* the domain refills one certificate per 201600 s */
	rt_set_now(e, RT_T0 + 201600);
	issue(e, a, "new.example.com");
	expect_limited(try_order(e, a, "new2.example.com", &err), &err,
	    "example.com", 201600);
	/* the duplicates leave the window a week after they were issued */
	rt_set_now(e, RT_T0 + 7 * DAY - 1);
	expect_limited(try_order(e, a, "example.com www.example.com", &err),
	    &err, "exactly these names", 1);
	rt_set_now(e, RT_T0 + 7 * DAY);
	issue(e, a, "example.com www.example.com");
}

static void
test_accounts_per_ip(void **state)
{
	struct rt_env *e = *state;
	struct ra_account acct = {0};
	struct ra_err err = {0};
	struct sec *key = NULL;
	char tp[44], kid[RA_EAB_KID_LEN + 1], seed[32];
	int n = 0;

	e->ra->conf.lim_accounts_ip = (struct ra_limit){2, 3 * 3600};
	e->ra->conf.lim_accounts_ip6 = (struct ra_limit){2, 3 * 3600};
#define NEW(ip) (snprintf(seed, sizeof(seed), "s%d", n++), \
	rt_thumbprint(seed, tp), ra_account_clear(&acct), \
	memset(&err, 0, sizeof(err)), \
	ra_account_new_from(e->ra, ip, "{}", tp, NULL, NULL, NULL, &acct, &err))
	assert_int_equal(NEW("192.0.2.1"), 0);
	assert_int_equal(NEW("192.0.2.1"), 0);
	expect_limited(NEW("192.0.2.1"), &err, "too many new accounts from "
	    "your address (2 per 3h)", 5400);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM acme_accounts"),
	    2);
	assert_int_equal(NEW("192.0.2.2"), 0);
	/* no address (not from the network): not counted */
	assert_int_equal(NEW(NULL), 0);
	assert_int_equal(NEW(NULL), 0);
	assert_int_equal(NEW(NULL), 0);
	/* an unknown client ("?": a trusted proxy forwarded garbage): one
	 * bucket of the IPv4 limit for every one of them */
	assert_int_equal(NEW("?"), 0);
	assert_int_equal(NEW("unknown"), 0);
	expect_limited(NEW("?"), &err, "too many new accounts from your "
	    "address (2 per 3h)", 5400);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM rate_limits "
	    "WHERE key = 'accounts-ip:?'"), 1);
	/* a dual-stack listener's IPv4 client is that IPv4 address */
	expect_limited(NEW("::ffff:192.0.2.1"), &err, "accounts", 5400);
	assert_int_equal(NEW("::ffff:192.0.2.9"), 0);
	/* loopback (a reverse proxy on this host, the operator's tools):
	 * not counted */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(NEW("127.0.0.1"), 0);
		assert_int_equal(NEW("127.8.9.10"), 0);
		assert_int_equal(NEW("::1"), 0);
		assert_int_equal(NEW("::ffff:127.0.0.1"), 0);
	}
	/* IPv6 by /48 */
	assert_int_equal(NEW("2001:db8:1:2::1"), 0);
	assert_int_equal(NEW("2001:db8:1:ffff::9"), 0);
	expect_limited(NEW("2001:db8:1::"), &err, "accounts", 5400);
	assert_int_equal(NEW("2001:db8:2::1"), 0);
	/* an EAB-bound account is not counted */
	assert_int_equal(ra_eab_create(e->ra, e->contract, "test", kid, &key,
	    NULL), 0);
	sec_free(key);
	rt_thumbprint("eab", tp);
	ra_account_clear(&acct);
	assert_int_equal(ra_account_new_from(e->ra, "192.0.2.1", "{}", tp, NULL,
	    NULL, kid, &acct, &err), 0);
	/* an existing key is returned, not counted */
	rt_thumbprint("s0", tp);
	ra_account_clear(&acct);
	assert_int_equal(ra_account_new_from(e->ra, "192.0.2.1", "{}", tp, NULL,
	    NULL, NULL, &acct, &err), RC_EXISTS);
	/* 90 minutes: one more */
	rt_set_now(e, RT_T0 + 5400);
	assert_int_equal(NEW("192.0.2.1"), 0);
	expect_limited(NEW("192.0.2.1"), &err, "accounts", 5400);
	ra_account_clear(&acct);
#undef NEW
}

static void
test_sweep(void **state)
{
	struct rt_env *e = *state;
	int64_t a = rt_account(e, "a");
	size_t ran;

	e->ra->conf.lim_orders = (struct ra_limit){3, 3600};
	rt_order(e, a, "www.example.com");
	assert_int_equal(rt_count(e, "SELECT count(*) FROM rate_limits"), 1);
	/* not yet full again */
	rt_set_now(e, RT_T0 + 1000);
	assert_int_equal(ra_jobs_run(e->ra, 0, &ran), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM rate_limits"), 1);
	/* full again, and ten minutes since the last sweep */
	rt_set_now(e, RT_T0 + 1600);
	assert_int_equal(ra_jobs_run(e->ra, 0, &ran), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM rate_limits"), 0);
}

/* Writes text to DIR/overrides and loads it into e->ra: rc, d filled. */
static int
load(struct rt_env *e, const char *text, struct rc_detail *d)
{
	char *path = xasprintf("%s/overrides", e->dir);
	FILE *f = fopen(path, "w");
	int rc;

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	memset(d, 0, sizeof(*d));
	ra_limits_free(&e->ra->own);
	rc = ra_limits_load(&e->ra->own, path, d);
	free(path);
	return rc;
}

static void
expect_bad_file(struct rt_env *e, const char *text, const char *needle)
{
	struct rc_detail d;

	if (load(e, text, &d) != RC_CONFIG)
		fail_msg("accepted: %.80s", text);
	if (strstr(d.msg, needle) == NULL)
		fail_msg("detail '%s' lacks '%s'", d.msg, needle);
	assert_int_equal(e->ra->pol->noverrides, 0);
}

static void
test_overrides(void **state)
{
	struct rt_env *e = *state;
	struct ra_account acct = {0};
	struct ra_err err;
	struct rc_detail d;
	char tp[44], *text;
	int64_t a = rt_account(e, "a"), b = rt_account(e, "b");
	int64_t c = rt_account(e, "c");

	e->ra->conf.lim_orders = (struct ra_limit){2, 3600};
	e->ra->conf.lim_domain = (struct ra_limit){1, 7 * DAY};
	e->ra->conf.lim_accounts_ip = (struct ra_limit){1, 3 * 3600};
	e->ra->conf.lim_accounts_ip6 = (struct ra_limit){1, 3 * 3600};
	text = xasprintf("# a reseller, a quiet one, one unlimited\n"
	    "orders_per_account account:%lld 4/1h\n"
	    "orders_per_account\taccount:%lld   1/1h  # comment\r\n"
	    "\n   \t\n"
	    "orders_per_account account:%lld off\n"
	    "certs_per_domain EXAMPLE.net. 3/7d\n"
	    "certs_per_domain b\xc3\xbc" "cher.example 2/7d\n"
	    "accounts_per_ip 192.0.2.7 3/3h\n"
	    "accounts_per_ipv6_48 2001:DB8:1:0::/48 2/3h\n",
	    (long long)a, (long long)b, (long long)c);
	assert_int_equal(load(e, text, &d), 0);
	free(text);
	assert_int_equal(e->ra->pol->noverrides, 7);
	for (int i = 0; i < 4; i++)
		rt_order(e, a, "www.example.org");
	expect_limited(try_order(e, a, "www.example.org", &err), &err,
	    "(4 per 1h)", 900);
	rt_order(e, b, "www.example.org");
	expect_limited(try_order(e, b, "www.example.org", &err), &err,
	    "(1 per 1h)", 3600);
	for (int i = 0; i < 10; i++)
		rt_order(e, c, "www.example.org");
	/* the others keep the configured limit */
	{
		int64_t x = rt_account(e, "x");

		rt_order(e, x, "www.example.org");
		rt_order(e, x, "www.example.org");
		expect_limited(try_order(e, x, "www.example.org", &err), &err,
		    "(2 per 1h)", 1800);
	}
	/* domains: example.net 3, the IDN's A-label 2, others 1 */
	issue(e, c, "a.example.net");
	issue(e, c, "b.example.net");
	issue(e, c, "c.example.net");
	expect_limited(try_order(e, c, "d.example.net", &err), &err,
	    "example.net (3 per 7d)", 201600);
	issue(e, c, "www.xn--bcher-kva.example");
	issue(e, c, "xn--bcher-kva.example");
	expect_limited(try_order(e, c, "shop.xn--bcher-kva.example", &err),
	    &err, "(2 per 7d)", 302400);
	issue(e, c, "one.example.org");
	expect_limited(try_order(e, c, "two.example.org", &err), &err,
	    "example.org (1 per 7d)", 7 * DAY);
	/* addresses */
	for (int i = 0; i < 3; i++) {
		rt_thumbprint(i == 0 ? "ip0" : i == 1 ? "ip1" : "ip2", tp);
		ra_account_clear(&acct);
		assert_int_equal(ra_account_new_from(e->ra, "192.0.2.7",
		    "{}", tp, NULL, NULL, NULL, &acct, &err), 0);
	}
	rt_thumbprint("ip3", tp);
	ra_account_clear(&acct);
	expect_limited(ra_account_new_from(e->ra, "192.0.2.7", "{}", tp, NULL,
	    NULL, NULL, &acct, &err), &err, "(3 per 3h)", 3600);
	assert_int_equal(ra_account_new_from(e->ra, "192.0.2.8", "{}", tp, NULL,
	    NULL, NULL, &acct, &err), 0);
	rt_thumbprint("ip4", tp);
	ra_account_clear(&acct);
	expect_limited(ra_account_new_from(e->ra, "192.0.2.8", "{}", tp, NULL,
	    NULL, NULL, &acct, &err), &err, "(1 per 3h)", 3 * 3600);
	assert_int_equal(ra_account_new_from(e->ra, "2001:db8:1:5::1", "{}",
	    tp, NULL, NULL, NULL, &acct, &err), 0);
	rt_thumbprint("ip5", tp);
	ra_account_clear(&acct);
	assert_int_equal(ra_account_new_from(e->ra, "2001:db8:1:6::1", "{}",
	    tp, NULL, NULL, NULL, &acct, &err), 0);
	rt_thumbprint("ip6", tp);
	ra_account_clear(&acct);
	expect_limited(ra_account_new_from(e->ra, "2001:db8:1:7::1", "{}",
	    tp, NULL, NULL, NULL, &acct, &err), &err, "(2 per 3h)", 5400);
	ra_account_clear(&acct);

	/* a contract's accounts (bound by EAB): the contract's override,
	 * unless the account has its own */
	{
		struct sec *key = NULL;
		char kid[RA_EAB_KID_LEN + 1];
		int64_t bound[2];

		e->ra->conf.lim_failed = (struct ra_limit){1, 3600};
		for (int i = 0; i < 2; i++) {
			assert_int_equal(ra_eab_create(e->ra, e->contract,
			    "test", kid, &key, NULL), 0);
			sec_free(key);
			rt_thumbprint(i ? "eab1" : "eab0", tp);
			ra_account_clear(&acct);
			assert_int_equal(ra_account_new(e->ra, "{}", tp, NULL,
			    kid, &acct, &err), 0);
			bound[i] = acct.id;
		}
		ra_account_clear(&acct);
		text = xasprintf("orders_per_account contract:%lld 3/1h\n"
		    "failed_validations contract:%lld off\n"
		    "orders_per_account account:%lld 5/1h\n",
		    (long long)e->contract, (long long)e->contract,
		    (long long)bound[1]);
		assert_int_equal(load(e, text, &d), 0);
		free(text);
		for (int i = 0; i < 3; i++)
			rt_order(e, bound[0], "c.contract.example");
		expect_limited(try_order(e, bound[0], "c.contract.example", &err),
		    &err, "(3 per 1h)", 1200);
		/* an account's own override comes before its contract's */
		for (int i = 0; i < 5; i++)
			rt_order(e, bound[1], "c.contract.example");
		expect_limited(try_order(e, bound[1], "c.contract.example",
		    &err), &err, "(5 per 1h)", 720);
		/* failed validations: off for the contract's accounts, the
		 * configured 1 per hour for the others */
		e->fake.http01_ok = 0;
		rt_set_now(e, RT_T0 + 7200);
		for (int i = 0; i < 2; i++)
			rt_validate_order(e, bound[0], rt_order(e, bound[0],
			    "f.contract.example"), RA_CHALL_HTTP01);
		rt_order(e, bound[0], "f.contract.example");
		rt_validate_order(e, c, rt_order(e, c, "f.contract.example"),
		    RA_CHALL_HTTP01);
		expect_limited(try_order(e, c, "f.contract.example", &err), &err,
		    "failed validations", 3600);
		e->fake.http01_ok = 1;
	}

	/* hostile files: each refused whole, with file:line and why */
	expect_bad_file(e, "orders_per_account account:1 4/1h\nnope x 1/1h\n",
	    "overrides:2: unknown limit");
	expect_bad_file(e, "orders_per_account account:1\n", ":1: not LIMIT");
	expect_bad_file(e, "orders_per_account account:1 4/1h extra\n",
	    "more than LIMIT");
	expect_bad_file(e, "orders_per_account account:0 4/1h\n",
	    "not account:ID");
	expect_bad_file(e, "orders_per_account account:-3 4/1h\n",
	    "not account:ID");
	expect_bad_file(e, "orders_per_account account:07 4/1h\n",
	    "not account:ID");
	expect_bad_file(e, "orders_per_account account:7x 4/1h\n",
	    "not account:ID");
	expect_bad_file(e, "orders_per_account account:99999999999999999999 "
	    "4/1h\n", "not account:ID");
	expect_bad_file(e, "orders_per_account 7 4/1h\n", "not account:ID");
	expect_bad_file(e, "orders_per_account contract:0 4/1h\n",
	    "or contract:ID");
	expect_bad_file(e, "orders_per_account contracts:1 4/1h\n",
	    "or contract:ID");
	expect_bad_file(e, "orders_per_account account:7 4/1w\n",
	    "not COUNT/PERIOD");
	expect_bad_file(e, "orders_per_account account:7 0/1h\n",
	    "not COUNT/PERIOD");
	expect_bad_file(e, "certs_per_domain www.example.com 1/7d\n",
	    "not a registered domain");
	expect_bad_file(e, "certs_per_domain co.uk 1/7d\n",
	    "not a registered domain");
	expect_bad_file(e, "certs_per_domain *.example.com 1/7d\n",
	    "not a domain name");
	expect_bad_file(e, "certs_per_domain exa_mple.com 1/7d\n",
	    "not a domain name");
	expect_bad_file(e, "accounts_per_ip 192.0.2.0/24 1/1h\n",
	    "not an IPv4 address");
	expect_bad_file(e, "accounts_per_ip 2001:db8::1 1/1h\n",
	    "not an IPv4 address");
	expect_bad_file(e, "accounts_per_ipv6_48 2001:db8::/64 1/1h\n",
	    "not an IPv6 /48");
	expect_bad_file(e, "accounts_per_ipv6_48 192.0.2.1/48 1/1h\n",
	    "not an IPv6 /48");
	expect_bad_file(e, "orders_per_account account:7 1/1h\n"
	    "orders_per_account account:7 2/1h\n", ":2: orders_per_account "
	    "account:7 is overridden twice");
	{
		char *huge = xmalloc(5000);

		memset(huge, 'a', 4999);
		huge[4999] = '\0';
		expect_bad_file(e, huge, ":1: line too long");
		free(huge);
	}
	memset(&d, 0, sizeof(d));
	assert_int_equal(ra_limits_load(&e->ra->own, "/nonexistent/overrides",
	    &d),
	    RC_CONFIG);
	assert_non_null(strstr(d.msg, "cannot read"));
}

/* The GCRA arithmetic of the store, and its bad arguments. */
static void
test_store_buckets(void **state)
{
	struct rt_env *e = *state;
	char big[STORE_MAX_TEXT + 2];
	int64_t retry = -1;

	/* 4 per 1000 ms: a burst of 4, then one each 250 ms */
	for (int i = 0; i < 4; i++)
		assert_int_equal(store_rl_take(e->st, "k", 4, 1000, 10000, 1,
		    &retry), 0);
	assert_int_equal(retry, 0);
	assert_int_equal(store_rl_take(e->st, "k", 4, 1000, 10000, 1,
	    &retry), RC_POLICY);
	assert_int_equal(retry, 250);
	assert_int_equal(store_rl_take(e->st, "k", 4, 1000, 10249, 0,
	    &retry), RC_POLICY);
	assert_int_equal(retry, 1);
	/* a check does not count */
	assert_int_equal(store_rl_take(e->st, "k", 4, 1000, 10250, 0,
	    &retry), 0);
	assert_int_equal(store_rl_take(e->st, "k", 4, 1000, 10250, 1,
	    &retry), 0);
	assert_int_equal(store_rl_take(e->st, "k", 4, 1000, 10250, 1,
	    &retry), RC_POLICY);
	/* a clock that went back: still limited, never more */
	assert_int_equal(store_rl_take(e->st, "k", 4, 1000, 5000, 1,
	    &retry), RC_POLICY);
	/* 3 per 10 ms rounds the step up: never a 4th in 10 ms */
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_rl_take(e->st, "r", 3, 10, 0, 1, NULL),
		    0);
	assert_int_equal(store_rl_take(e->st, "r", 3, 10, 3, 1, NULL),
	    RC_POLICY);
	/* bad arguments */
	assert_int_equal(store_rl_take(e->st, "k", 0, 1000, 1, 1, NULL),
	    RC_INVAL);
	assert_int_equal(store_rl_take(e->st, "k", 1, 0, 1, 1, NULL),
	    RC_INVAL);
	assert_int_equal(store_rl_take(e->st, "k", 1, 1000, -1, 1, NULL),
	    RC_INVAL);
	assert_int_equal(store_rl_take(e->st, NULL, 1, 1000, 1, 1, NULL),
	    RC_INVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(store_rl_take(e->st, big, 1, 1000, 1, 1, NULL),
	    RC_INVAL);
	assert_int_equal(store_rl_take(e->st, "bad\nkey", 1, 1000, 1, 1,
	    NULL), RC_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_orders_per_account, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_failed_validations, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_and_domains,
		    rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_accounts_per_ip, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_sweep, rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_overrides, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_store_buckets, rt_cm_setup,
		    rt_cm_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
