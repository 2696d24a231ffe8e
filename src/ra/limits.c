/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACME rate limits, the ones Let's Encrypt's Boulder enforces and with its
 * default numbers (acme.limit_* in the configuration; "off" turns one off):
 *
 *   new accounts per IPv4 address (10/3h) and per IPv6 /48 (500/3h),
 *     counted at newAccount; an account bound by External Account Binding
 *     is not counted (its EAB key, made by the operator, binds one account);
 *   new orders per account (300/3h), counted at newOrder;
 *   failed validations per account and name (5/1h), counted when an
 *     authorization becomes invalid, checked at newOrder: a client that
 *     keeps failing for a name waits instead of hammering its server;
 *   certificates per registered domain (50/7d, the public suffix list's
 *     registrable domain, IP addresses each their own), counted at
 *     issuance, checked at newOrder; a renewal (a set of names issued
 *     before) neither counts nor is refused;
 *   duplicate certificates (5/7d): certificates for exactly the same set
 *     of names, from the issued sets, checked at newOrder.
 *
 * Each limit is a GCRA bucket in the store (store_rl_take), checked and
 * counted inside the request's write transaction, so instances sharing a
 * database share the limits. A refused request is a rateLimited problem
 * (RFC 8555 §6.6) saying which limit and when to retry, with Retry-After.
 * Checks made at newOrder for what is counted later (failures, issuance)
 * let the orders already in flight through: a limit may be passed by as
 * many orders as were open when it filled, as with Boulder.
 */
#include "ra/ra_int.h"
#include "store/store.h"
#include "util/dnsname.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GC_EVERY 600	/* seconds between two sweeps of full buckets */

static int
on(const struct ra_limit *l)
{
	return l->count > 0 && l->period > 0;
}

/* The clock in milliseconds: the pinned one of tests in whole seconds. */
static int64_t
now_ms(const struct ra *ra)
{
	struct timespec ts;

	if (ra->conf.now != 0)
		return (int64_t)ra->conf.now * 1000;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "3h", "7d", "90m": the period as configured. */
static void
period_str(long s, char *out, size_t n)
{
	if (s % 86400 == 0)
		snprintf(out, n, "%ldd", s / 86400);
	else if (s % 3600 == 0)
		snprintf(out, n, "%ldh", s / 3600);
	else if (s % 60 == 0)
		snprintf(out, n, "%ldm", s / 60);
	else
		snprintf(out, n, "%lds", s);
}

/*
 * A refusal: rateLimited, "<what> (<count> per <period>): retry after
 * <time> UTC", and err->retry_after in whole seconds (at least 1).
 */
static int
refuse(const struct ra *ra, struct ra_err *err, const struct ra_limit *l,
    int64_t retry_ms, const char *what)
{
	char per[24], when[32];
	time_t at;
	struct tm tm;
	long secs = (long)((retry_ms + 999) / 1000);

	if (secs < 1)
		secs = 1;
	at = (time_t)(now_ms(ra) / 1000) + secs;
	gmtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	period_str(l->period, per, sizeof(per));
	ra_fail(err, RC_POLICY, RA_PROB_RATE_LIMITED, "%s (%d per %s): retry "
	    "after %s UTC", what, l->count, per, when);
	if (err != NULL)
		err->retry_after = secs;
	return RC_POLICY;
}

/* One bucket: 0, RC_POLICY with the refusal in err, or a store error. */
static int
take(struct ra *ra, struct store *st, const struct ra_limit *l,
    const char *key, int spend, const char *what, struct ra_err *err)
{
	int64_t retry = 0;
	int rc;

	rc = store_rl_take(st, key, l->count, (int64_t)l->period * 1000,
	    now_ms(ra), spend, &retry);
	if (rc == RC_POLICY)
		return refuse(ra, err, l, retry, what);
	return rc;
}

int
ra_limit_account(struct ra *ra, struct store *st, const char *ip,
    struct ra_err *err)
{
	const struct ra_limit *l;
	unsigned char bin[16];
	char key[80], net[INET6_ADDRSTRLEN];

	if (ip == NULL)
		return 0;
	if (inet_pton(AF_INET, ip, bin) == 1) {
		l = &ra->conf.lim_accounts_ip;
		snprintf(key, sizeof(key), "accounts-ip:%s", ip);
	} else if (inet_pton(AF_INET6, ip, bin) == 1) {
		/* a site's /48: one customer may hold all of it */
		l = &ra->conf.lim_accounts_ip6;
		memset(bin + 6, 0, 10);
		inet_ntop(AF_INET6, bin, net, sizeof(net));
		snprintf(key, sizeof(key), "accounts-ip6:%s/48", net);
	} else {
		return 0;
	}
	if (!on(l))
		return 0;
	return take(ra, st, l, key, 1, "too many new accounts from your "
	    "address", err);
}

/* Sorted, for the hash of a set. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
ra_names_hash(char *const *names, size_t n, uint8_t out[32])
{
	char **v = xcalloc(n ? n : 1, sizeof(char *));
	size_t len = 0, at = 0;
	char *all;

	memcpy(v, names, n * sizeof(char *));
	qsort(v, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	all = xmalloc(len ? len : 1);
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]) + 1;

		memcpy(all + at, v[i], l);
		at += l;
	}
	SHA256((const unsigned char *)all, len, out);
	free(all);
	free(v);
}

/* What the per-domain limit counts a name under: its registered domain,
 * an IP address itself. */
static const char *
domain_of(const char *name, const char *type)
{
	return strcmp(type, "ip") == 0 ? name : dnsname_registered(name);
}

/* Whether a name before i has the domain dom. */
static int
seen_domain(char *const *names, const char *const *types, size_t i,
    const char *dom)
{
	for (size_t k = 0; k < i; k++)
		if (strcmp(domain_of(names[k], types[k]), dom) == 0)
			return 1;
	return 0;
}

int
ra_limit_order(struct ra *ra, struct store *st, int64_t account_id,
    char *const *names, const char *const *types, size_t n,
    struct ra_err *err)
{
	const struct ra_conf *c = &ra->conf;
	char key[320], what[360];
	uint8_t hash[32];
	int recent = 0, ever = 0, rc;
	time_t oldest = 0;

	if (on(&c->lim_failed))
		for (size_t i = 0; i < n; i++) {
			const char *nm = names[i];

			snprintf(key, sizeof(key), "failed:%lld:%s:%s",
			    (long long)account_id, types[i], nm);
			snprintf(what, sizeof(what), "too many failed "
			    "validations of %s by this account", nm);
			rc = take(ra, st, &c->lim_failed, key, 0, what, err);
			if (rc != 0)
				return rc;
		}
	if (on(&c->lim_domain) || on(&c->lim_duplicate)) {
		ra_names_hash(names, n, hash);
		/* the window: the last period, now included */
		rc = store_issued_set_count(st, hash, ra_now(ra) -
		    (time_t)c->lim_duplicate.period + 1,
		    on(&c->lim_duplicate) ? c->lim_duplicate.count : 1,
		    &recent, &ever, &oldest);
		if (rc != 0)
			return rc;
	}
	if (on(&c->lim_duplicate) && recent >= c->lim_duplicate.count)
		return refuse(ra, err, &c->lim_duplicate,
		    ((int64_t)oldest + c->lim_duplicate.period) * 1000 -
		    now_ms(ra), "too many certificates for exactly these "
		    "names");
	/* a renewal is not refused for its domains' new certificates */
	if (on(&c->lim_domain) && !ever)
		for (size_t i = 0; i < n; i++) {
			const char *dom = domain_of(names[i], types[i]);

			if (seen_domain(names, types, i, dom))
				continue;
			snprintf(key, sizeof(key), "domain:%s", dom);
			snprintf(what, sizeof(what), "too many certificates "
			    "for %s", dom);
			rc = take(ra, st, &c->lim_domain, key, 0, what, err);
			if (rc != 0)
				return rc;
		}
	if (on(&c->lim_orders)) {
		snprintf(key, sizeof(key), "orders:%lld",
		    (long long)account_id);
		return take(ra, st, &c->lim_orders, key, 1, "too many new "
		    "orders from this account", err);
	}
	return 0;
}

int
ra_limit_failed(struct ra *ra, struct store *st, int64_t account_id,
    const char *type, const char *name)
{
	char key[320];
	int rc;

	if (!on(&ra->conf.lim_failed) || account_id <= 0)
		return 0;
	snprintf(key, sizeof(key), "failed:%lld:%s:%s", (long long)account_id,
	    type, name);
	rc = take(ra, st, &ra->conf.lim_failed, key, 1, "", NULL);
	/* full already: the orders for it are refused anyway */
	return rc == RC_POLICY ? 0 : rc;
}

int
ra_limit_issued(struct ra *ra, struct store *st, char *const *names,
    const char *const *types, size_t n, const char *serial)
{
	uint8_t hash[32];
	char key[320];
	int recent, ever, rc;
	time_t oldest;

	ra_names_hash(names, n, hash);
	rc = store_issued_set_count(st, hash, ra_now(ra), 1, &recent, &ever,
	    &oldest);
	if (rc == 0)
		rc = store_issued_set_add(st, hash, ra_now(ra), serial);
	if (rc != 0 || ever || !on(&ra->conf.lim_domain))
		return rc;
	for (size_t i = 0; i < n; i++) {
		const char *dom = domain_of(names[i], types[i]);

		if (seen_domain(names, types, i, dom))
			continue;
		snprintf(key, sizeof(key), "domain:%s", dom);
		rc = take(ra, st, &ra->conf.lim_domain, key, 1, "", NULL);
		/* full: issued for an order made before it filled */
		if (rc != 0 && rc != RC_POLICY)
			return rc;
	}
	return 0;
}

struct gc {
	int64_t now_ms, n;
};

static int
gc_tx(struct store *st, void *arg)
{
	struct gc *g = arg;

	return store_rl_gc(st, g->now_ms, &g->n);
}

void
ra_limits_gc(struct ra *ra)
{
	time_t now = ra_now(ra);
	struct gc g = {0, 0};
	int rc;

	if (ra->last_limits_gc != 0 && now - ra->last_limits_gc < GC_EVERY &&
	    now >= ra->last_limits_gc)
		return;
	ra->last_limits_gc = now;
	g.now_ms = now_ms(ra);
	rc = store_tx(ra->st, gc_tx, &g);
	if (rc != 0)
		log_warn(LOG_RA, "rate limits: sweep: %s", rc_str(rc));
	else if (g.n > 0)
		log_debug(LOG_RA, "rate limits: %lld full buckets dropped",
		    (long long)g.n);
}
