/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACME rate limits, the ones Let's Encrypt's Boulder enforces and with its
 * default numbers (acme.limit_* in the configuration; "off" turns one off):
 *
 *   new accounts per IPv4 address (10/3h) and per IPv6 /48 (500/3h),
 *     counted at newAccount; an account bound by External Account Binding
 *     is not counted (its EAB key, made by the operator, binds one
 *     account), nor one from loopback (a reverse proxy on the same host,
 *     behind which every client has its address, or the operator's own
 *     tools);
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
 *
 * acme.limit_overrides names a file of other limits for some subjects (a
 * reseller's account, a big customer's domain, an office's address), as
 * Boulder's overrides do, one a line: LIMIT SUBJECT COUNT/PERIOD|off, with
 * LIMIT the key without "limit_" and SUBJECT "account:ID" or
 * "contract:ID" (every account bound to the contract by EAB; an account's
 * own override comes first) for orders, failed validations and
 * duplicates, a registered domain (certs_per_domain), an IPv4 address
 * (accounts_per_ip) or an IPv6 /48 ("2001:db8:1::/48").
 */
#include "ra/ra_int.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/conf.h"
#include "util/dnsname.h"
#include "util/ipaddr.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <limits.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GC_EVERY 600	/* seconds between two sweeps of full buckets */

enum which {
	L_ACCOUNTS_IP, L_ACCOUNTS_IP6, L_ORDERS, L_FAILED, L_DOMAIN,
	L_DUPLICATE, L_MAX_
};

/* as in the overrides file: the configuration key without "limit_" */
static const char *const limit_names[L_MAX_] = {
	[L_ACCOUNTS_IP] = "accounts_per_ip",
	[L_ACCOUNTS_IP6] = "accounts_per_ipv6_48",
	[L_ORDERS] = "orders_per_account",
	[L_FAILED] = "failed_validations",
	[L_DOMAIN] = "certs_per_domain",
	[L_DUPLICATE] = "duplicate_certs",
};

struct ra_override {
	enum which which;
	char subject[DNSNAME_BUF];	/* canonical: "account:7",
					 * "example.com", "192.0.2.1",
					 * "2001:db8:1::/48" */
	struct ra_limit lim;
};

static int
on(const struct ra_limit *l)
{
	return l->count > 0 && l->period > 0;
}

static const struct ra_limit *
conf_limit(const struct ra *ra, enum which w)
{
	switch (w) {
	case L_ACCOUNTS_IP:
		return &ra->conf.lim_accounts_ip;
	case L_ACCOUNTS_IP6:
		return &ra->conf.lim_accounts_ip6;
	case L_ORDERS:
		return &ra->conf.lim_orders;
	case L_FAILED:
		return &ra->conf.lim_failed;
	case L_DOMAIN:
		return &ra->conf.lim_domain;
	default:
		return &ra->conf.lim_duplicate;
	}
}

/* The limit of w for subject: its override, else the configured one. */
static const struct ra_limit *
limit_for(const struct ra *ra, enum which w, const char *subject)
{
	const struct ra_policy *p = ra->pol;

	for (size_t i = 0; i < p->noverrides; i++)
		if (p->overrides[i].which == w &&
		    strcmp(p->overrides[i].subject, subject) == 0)
			return &p->overrides[i].lim;
	return conf_limit(ra, w);
}

/* The limit of w for an account: its own override, else its contract's
 * (contract_id 0: none), else the configured one. */
static const struct ra_limit *
limit_for_account(const struct ra *ra, enum which w, int64_t account_id,
    int64_t contract_id)
{
	char subj[40];
	const struct ra_limit *l;

	snprintf(subj, sizeof(subj), "account:%lld", (long long)account_id);
	l = limit_for(ra, w, subj);
	if (l != conf_limit(ra, w) || contract_id <= 0)
		return l;
	snprintf(subj, sizeof(subj), "contract:%lld", (long long)contract_id);
	return limit_for(ra, w, subj);
}

/* Whether some override of w names a contract. */
static int
contract_override(const struct ra *ra, enum which w)
{
	const struct ra_policy *p = ra->pol;

	for (size_t i = 0; i < p->noverrides; i++)
		if (p->overrides[i].which == w &&
		    strncmp(p->overrides[i].subject, "contract:", 9) == 0)
			return 1;
	return 0;
}

/* Whether w is on for some subject: configured or overridden. */
static int
on_for_any(const struct ra *ra, enum which w)
{
	const struct ra_policy *p = ra->pol;

	if (on(conf_limit(ra, w)))
		return 1;
	for (size_t i = 0; i < p->noverrides; i++)
		if (p->overrides[i].which == w && on(&p->overrides[i].lim))
			return 1;
	return 0;
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
	uint8_t bin[16];
	char key[80], net[INET6_ADDRSTRLEN + 4];
	size_t len = ipaddr_parse(ip, bin);	/* ::ffff: mapped: IPv4 */

	if (ip == NULL)
		return 0;	/* not from the network */
	/* loopback: a reverse proxy on this host (every client would have
	 * its address) or the operator's own tools */
	if ((len == 4 && bin[0] == 127) || (len == 16 &&
	    memcmp(bin, in6addr_loopback.s6_addr, 16) == 0))
		return 0;
	/* an IPv4 address itself, an IPv6 one by its site's /48: one
	 * customer may hold all of it; an unknown client ("?": a trusted
	 * proxy forwarded no address) in one bucket of the IPv4 limit for
	 * all such, so that a proxy's garbage is no way around the limit */
	if (len == 0)
		snprintf(net, sizeof(net), "?");
	else
		(void)ipaddr_prefix_text(ip, 48, net, sizeof(net));
	l = limit_for(ra, len == 16 ? L_ACCOUNTS_IP6 : L_ACCOUNTS_IP, net);
	snprintf(key, sizeof(key), "%s:%s", len == 16 ? "accounts-ip6" :
	    "accounts-ip", net);
	if (!on(l))
		return 0;
	return take(ra, st, l, key, 1, "too many new accounts from your "
	    "address", err);
}

/* Key compromise reports (/report-key) with a proof that verified: each
 * blocks a key (a row and an audit entry that stay for good), so a stream
 * of made-up keys is bounded per address (an IPv6 site by its /48),
 * loopback too. */
static const struct ra_limit key_reports = {RA_KEY_REPORTS_PER_HOUR, 3600};

struct report_take {
	struct ra *ra;
	const char *key;
	struct ra_err *err;
};

static int
report_tx(struct store *st, void *arg)
{
	struct report_take *t = arg;

	return take(t->ra, st, &key_reports, t->key, 1, "too many key "
	    "compromise reports from your address", t->err);
}

int
ra_limit_key_report(struct ra *ra, const char *ip, struct ra_err *err)
{
	uint8_t bin[16];
	char key[80], net[INET6_ADDRSTRLEN + 4];
	size_t len = ipaddr_parse(ip, bin);
	struct report_take t = {ra, key, err};

	if (len == 0)
		snprintf(net, sizeof(net), "?");
	else
		(void)ipaddr_prefix_text(ip, 48, net, sizeof(net));
	snprintf(key, sizeof(key), "key-reports:%s", net);
	return store_tx(ra->st, report_tx, &t);
}

/*
 * The preliminary reports of /report-key mailed to one address: anyone can
 * make up keys and proofs, and each report would mail the contact given,
 * so without this certdesk would mail any address as often as the
 * reports-per-client limit above lets each client. The address as its
 * mailbox: ASCII case folded (no mail system of note tells Finder@ from
 * finder@, and the domain is case-insensitive anyway) and a "+tag" of
 * the local part dropped (finder+1@ and finder+2@ reach finder@ at most
 * providers). The bucket is named by the SHA-256 of that, a key of fixed
 * size that keeps no address in the limits table; it is swept as every
 * bucket once full again (ra_limits_gc), so the table holds at most one
 * row per address mailed within the last day.
 */
static const struct ra_limit report_mails = {RA_KEY_REPORT_MAILS_PER_DAY,
	86400};

int
ra_limit_report_mail(struct ra *ra, struct store *st, const char *addr)
{
	char box[256], key[32 + 2 * SHA256_DIGEST_LENGTH];
	uint8_t md[SHA256_DIGEST_LENGTH];
	const char *at = strrchr(addr, '@');
	size_t n = 0;

	if (at == NULL || strlen(addr) >= sizeof(box))
		return RC_INVAL;	/* ra_key_report_contact() let it by */
	for (const char *p = addr; *p != '\0'; p++) {
		if (*p == '+' && p < at) {
			p = at - 1;	/* the tag, up to the '@' */
			continue;
		}
		box[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' :
		    *p);
	}
	box[n] = '\0';
	SHA256((const unsigned char *)box, n, md);
	memcpy(key, "report-mail:", 12);
	hex_encode(md, sizeof(md), key + 12);
	return take(ra, st, &report_mails, key, 1, "", NULL);
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

/*
 * The certificates-per-domain buckets of the names, each registered domain
 * once: checked (spend 0: RC_POLICY with err at the first full one) or
 * counted (spend 1: a full one is passed over, its certificate was ordered
 * before it filled).
 */
static int
domains_take(struct ra *ra, struct store *st, char *const *names,
    const char *const *types, size_t n, int spend, struct ra_err *err)
{
	char key[320], what[360];
	int rc;

	for (size_t i = 0; i < n; i++) {
		const char *dom = domain_of(names[i], types[i]);
		const struct ra_limit *l;

		if (seen_domain(names, types, i, dom))
			continue;
		l = limit_for(ra, L_DOMAIN, dom);
		if (!on(l))
			continue;
		snprintf(key, sizeof(key), "domain:%s", dom);
		snprintf(what, sizeof(what), "too many certificates for %s",
		    dom);
		rc = take(ra, st, l, key, spend, what, err);
		if (rc != 0 && !(spend && rc == RC_POLICY))
			return rc;
	}
	return 0;
}

int
ra_limit_order(struct ra *ra, struct store *st, int64_t account_id,
    int64_t contract_id, char *const *names, const char *const *types,
    size_t n, int ari_renewal, struct ra_err *err)
{
	const struct ra_limit *l, *dup;
	char key[320], what[360];
	uint8_t hash[32];
	int recent = 0, ever = 0, rc;
	time_t oldest = 0;

	l = limit_for_account(ra, L_FAILED, account_id, contract_id);
	if (on(l))
		for (size_t i = 0; i < n; i++) {
			const char *nm = names[i];

			snprintf(key, sizeof(key), "failed:%lld:%s:%s",
			    (long long)account_id, types[i], nm);
			snprintf(what, sizeof(what), "too many failed "
			    "validations of %s by this account", nm);
			rc = take(ra, st, l, key, 0, what, err);
			if (rc != 0)
				return rc;
		}
	dup = limit_for_account(ra, L_DUPLICATE, account_id, contract_id);
	if (on_for_any(ra, L_DOMAIN) || on(dup)) {
		ra_names_hash(names, n, hash);
		/* the window: the last period, now included */
		rc = store_issued_set_count(st, hash, ra_now(ra) -
		    (time_t)dup->period + 1, on(dup) ? dup->count : 1,
		    &recent, &ever, &oldest);
		if (rc != 0)
			return rc;
	}
	if (on(dup) && recent >= dup->count)
		return refuse(ra, err, dup, ((int64_t)oldest + dup->period) *
		    1000 - now_ms(ra), "too many certificates for exactly "
		    "these names");
	/* a renewal is not refused for its domains' new certificates */
	if (!ever && !ari_renewal &&
	    (rc = domains_take(ra, st, names, types, n, 0, err)) != 0)
		return rc;
	l = limit_for_account(ra, L_ORDERS, account_id, contract_id);
	if (on(l)) {
		snprintf(key, sizeof(key), "orders:%lld",
		    (long long)account_id);
		return take(ra, st, l, key, 1, "too many new orders from this "
		    "account", err);
	}
	return 0;
}

int
ra_limit_failed(struct ra *ra, struct store *st, int64_t account_id,
    const char *type, const char *name)
{
	const struct ra_limit *l;
	int64_t contract_id = 0;
	char key[320];
	int rc;

	if (account_id <= 0)
		return 0;
	if (contract_override(ra, L_FAILED)) {
		struct store_acme_account a;

		if ((rc = store_acme_account_get(st, account_id, &a)) != 0)
			return rc;
		contract_id = a.contract_id;
		store_acme_account_clear(&a);
	}
	l = limit_for_account(ra, L_FAILED, account_id, contract_id);
	if (!on(l))
		return 0;
	snprintf(key, sizeof(key), "failed:%lld:%s:%s", (long long)account_id,
	    type, name);
	rc = take(ra, st, l, key, 1, "", NULL);
	/* full already: the orders for it are refused anyway */
	return rc == RC_POLICY ? 0 : rc;
}

int
ra_limit_issued(struct ra *ra, struct store *st, char *const *names,
    const char *const *types, size_t n, int ari_renewal, const char *serial)
{
	uint8_t hash[32];
	int recent, ever, rc;
	time_t oldest;

	ra_names_hash(names, n, hash);
	rc = store_issued_set_count(st, hash, ra_now(ra), 1, &recent, &ever,
	    &oldest);
	if (rc == 0)
		rc = store_issued_set_add(st, hash, ra_now(ra), serial);
	if (rc != 0 || ever || ari_renewal)
		return rc;
	return domains_take(ra, st, names, types, n, 1, NULL);
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

/* ---- overrides ----------------------------------------------------------- */

/* The canonical subject of an override of w, or -1 with why. */
static int
subject_of(enum which w, const char *in, char out[DNSNAME_BUF],
    const char **why)
{
	unsigned char bin[16];
	char norm[DNSNAME_BUF], *end;
	long long id;

	switch (w) {
	case L_ACCOUNTS_IP:
		if (inet_pton(AF_INET, in, bin) != 1) {
			*why = "not an IPv4 address";
			return -1;
		}
		inet_ntop(AF_INET, bin, out, DNSNAME_BUF);
		return 0;
	case L_ACCOUNTS_IP6: {
		char addr[INET6_ADDRSTRLEN];
		const char *slash = strchr(in, '/');

		if (slash == NULL || strcmp(slash, "/48") != 0 ||
		    (size_t)(slash - in) >= sizeof(addr)) {
			*why = "not an IPv6 /48 (2001:db8:1::/48)";
			return -1;
		}
		memcpy(addr, in, (size_t)(slash - in));
		addr[slash - in] = '\0';
		if (ipaddr_prefix_text(addr, 48, out, INET6_ADDRSTRLEN + 4) !=
		    16) {
			*why = "not an IPv6 /48 (2001:db8:1::/48)";
			return -1;
		}
		return 0;
	}
	case L_DOMAIN:
		if (dnsname_norm(in, strlen(in), DNSNAME_FOLD |
		    DNSNAME_ROOT_DOT | DNSNAME_ULABELS, norm, NULL) != 0) {
			*why = "not a domain name";
			return -1;
		}
		if (!dnsname_is_registered(norm)) {
			*why = "not a registered domain (the public suffix "
			    "list's; the limit counts under those)";
			return -1;
		}
		snprintf(out, DNSNAME_BUF, "%s", norm);
		return 0;
	default: {
		size_t k = strncmp(in, "account:", 8) == 0 ? 8 :
		    strncmp(in, "contract:", 9) == 0 ? 9 : 0;

		if (k == 0 || in[k] < '1' || in[k] > '9') {
			*why = "not account:ID or contract:ID";
			return -1;
		}
		id = strtoll(in + k, &end, 10);
		if (*end != '\0' || id <= 0 || id == LLONG_MAX) {
			*why = "not account:ID or contract:ID";
			return -1;
		}
		snprintf(out, DNSNAME_BUF, "%.*s%lld", (int)k, in, id);
		return 0;
	}
	}
}

/* One line "LIMIT SUBJECT VALUE" (comments and blanks gone) into o. */
static int
parse_override(char *line, struct ra_override *o, const char **why)
{
	char *f[4], *save = NULL;
	struct conf_limit cl;
	size_t n = 0;
	int w;

	for (char *t = strtok_r(line, " \t", &save); t != NULL;
	    t = strtok_r(NULL, " \t", &save)) {
		if (n == 3) {
			*why = "more than LIMIT SUBJECT COUNT/PERIOD";
			return -1;
		}
		f[n++] = t;
	}
	if (n != 3) {
		*why = "not LIMIT SUBJECT COUNT/PERIOD";
		return -1;
	}
	for (w = 0; w < L_MAX_; w++)
		if (strcmp(f[0], limit_names[w]) == 0)
			break;
	if (w == L_MAX_) {
		*why = "unknown limit (accounts_per_ip, accounts_per_ipv6_48, "
		    "orders_per_account, failed_validations, "
		    "certs_per_domain, duplicate_certs)";
		return -1;
	}
	o->which = (enum which)w;
	if (subject_of(o->which, f[1], o->subject, why) != 0)
		return -1;
	if (conf_parse_limit(f[2], &cl) != 0) {
		*why = "not COUNT/PERIOD (e.g. 300/3h) or off";
		return -1;
	}
	o->lim.count = cl.count;
	o->lim.period = cl.period;
	return 0;
}

int
ra_limits_load(struct ra_policy *pol, const char *path, struct rc_detail *d)
{
	struct buf b;
	char *p, *next;
	size_t cap = 0;
	int rc, lineno = 0;

	buf_init(&b, 4 * 1024 * 1024);
	rc = buf_read_file(&b, path);
	if (rc != 0) {
		rc_detail_set(d, "%s: cannot read the rate limit overrides "
		    "(%s)", path, rc_str(rc));
		buf_free(&b);
		return RC_CONFIG;
	}
	for (p = (char *)b.data; p != NULL && *p != '\0'; p = next) {
		struct ra_override o;
		const char *why = NULL;
		char *h;

		lineno++;
		next = strchr(p, '\n');
		if (next != NULL)
			*next++ = '\0';
		if ((h = strchr(p, '#')) != NULL)
			*h = '\0';
		for (h = p; *h != '\0'; h++)
			if (*h == '\r')
				*h = ' ';
		if (strspn(p, " \t") == strlen(p))
			continue;
		memset(&o, 0, sizeof(o));
		if (strlen(p) > 400 || parse_override(p, &o, &why) != 0) {
			rc_detail_set(d, "%s:%d: %s", path, lineno, why != NULL ?
			    why : "line too long");
			rc = RC_CONFIG;
			break;
		}
		for (size_t i = 0; i < pol->noverrides; i++)
			if (pol->overrides[i].which == o.which &&
			    strcmp(pol->overrides[i].subject, o.subject) == 0) {
				rc_detail_set(d, "%s:%d: %s %s is overridden "
				    "twice", path, lineno,
				    limit_names[o.which], o.subject);
				rc = RC_CONFIG;
			}
		if (rc != 0)
			break;
		if (pol->noverrides == cap) {
			cap = cap ? 2 * cap : 8;
			pol->overrides = xrealloc(pol->overrides,
			    cap * sizeof(*pol->overrides));
		}
		pol->overrides[pol->noverrides++] = o;
	}
	buf_free(&b);
	if (rc != 0)
		ra_limits_free(pol);	/* the whole file or nothing */
	return rc;
}

void
ra_limits_free(struct ra_policy *p)
{
	free(p->overrides);
	p->overrides = NULL;
	p->noverrides = 0;
}
