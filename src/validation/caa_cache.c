/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CAA answers reused for val_conf.caa_cache_s seconds, per validation
 * context. BR 3.2.2.8 lets a CA issue within the TTL of the CAA record or 8
 * hours, whichever is greater (RFC 8659 §3 lets CAA answers be cached), and
 * every name climbs to the same parents (its registered domain, its TLD),
 * so without this each issuance asks the same empty parent RRsets again.
 * Only CAA answers are kept here: the resolver's own cache stays off, so a
 * TXT record, an address or an NXDOMAIN used for domain control is always
 * asked anew (see val_ctx_open() in val.h). The TTLs libunbound reports are
 * of no use for this (its cache-max-ttl of 0 makes them 0), hence the
 * configured lifetime, bounded by the BR's 8 hours.
 *
 * Kept: data, NODATA and NXDOMAIN answers, DNSSEC secure or insecure.
 * Never kept: SERVFAIL, bogus, timeouts, other rcodes. A direct-mapped
 * table of CACHE_SLOTS entries: a new answer replaces whatever had its
 * slot. A slot keeps the answer's DNS message; a hit reads it again with
 * val_dns_result_from_msg() (dns_event.c), as its first answer was read,
 * into a struct ub_result its caller releases like any other, and the
 * evidence names when it was asked.
 *
 * A context's own cache is created by its first answer; a cache made by
 * val_caa_cache_new() is shared by the contexts given it (val_conf), each
 * on its own thread, under its mutex. The kept answers are as untrusted as
 * on the wire: every reader parses them with bounds.
 *
 * Asked ahead (val_caa_ahead): the address or TXT lookups of a validation
 * take the uncached CAA RRsets of the same name along, so that the CAA
 * check before issuance, moments later, asks nothing (Boulder checks CAA
 * during validation, in parallel with it, for the same reason).
 */
#include "validation/val_int.h"
#include "util/xmalloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CACHE_SLOTS 256

struct caa_slot {
	char qname[VAL_MAX_NAME + 2];	/* "" when empty */
	int64_t until_ms;		/* monotonic */
	time_t asked;			/* wall clock, for the evidence */
	enum val_dns_status status;
	enum val_dnssec dnssec;
	int rcode;
	uint8_t *msg;			/* the answer, as unbound gave it */
	size_t len;
};

struct val_caa_cache {
	pthread_mutex_t mu;
	int shared;		/* val_caa_cache_new: not the context's */
	struct caa_slot slot[CACHE_SLOTS];
};

static struct val_caa_cache *
cache_new(int shared)
{
	struct val_caa_cache *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->mu, NULL);
	c->shared = shared;
	return c;
}

struct val_caa_cache *
val_caa_cache_new(void)
{
	return cache_new(1);
}

/* FNV-1a over the name, case-folded */
static size_t
slot_of(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name != '\0'; name++) {
		unsigned char c = (unsigned char)*name;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 16777619u;
	}
	return h % CACHE_SLOTS;
}

static void
slot_clear(struct caa_slot *s)
{
	free(s->msg);
	memset(s, 0, sizeof(*s));
}

/* With c->mu held: q's slot when it holds a live answer for it. */
static struct caa_slot *
find(struct val_caa_cache *c, const char *qname)
{
	struct caa_slot *s = &c->slot[slot_of(qname)];

	if (s->qname[0] == '\0' || strcasecmp(s->qname, qname) != 0)
		return NULL;
	if (val_now_ms() >= s->until_ms) {
		slot_clear(s);
		return NULL;
	}
	return s;
}

int
val_caa_cache_get(struct val_ctx *ctx, struct val_dns_q *q)
{
	struct val_caa_cache *c = ctx->caa_cache;
	struct caa_slot *s;
	uint8_t *msg = NULL;
	size_t len = 0;
	int sec = 0;

	if (c == NULL || q->qtype != VAL_RR_CAA)
		return 0;
	pthread_mutex_lock(&c->mu);
	if ((s = find(c, q->qname)) != NULL) {
		q->status = s->status;
		q->dnssec = s->dnssec;
		q->rcode = s->rcode;
		q->cached_at = s->asked;
		sec = s->dnssec == VAL_DNSSEC_SECURE ? 2 : 0;
		len = s->len;
		msg = xmalloc(len);
		memcpy(msg, s->msg, len);
	}
	pthread_mutex_unlock(&c->mu);
	if (msg == NULL)
		return 0;
	/* read outside the lock, from a copy */
	q->ub_err = 0;
	q->res = val_dns_result_from_msg(q->qname, q->qtype, 0, msg, len, sec,
	    NULL);
	q->done = 1;
	free(msg);
	return 1;
}

void
val_caa_cache_put(struct val_ctx *ctx, const struct val_dns_q *q)
{
	struct caa_slot *s;
	size_t len = strlen(q->qname);

	if (ctx->conf.caa_cache_s == 0 || q->qtype != VAL_RR_CAA ||
	    q->res == NULL || q->res->answer_packet == NULL ||
	    q->res->answer_len <= 0 || q->cached_at != 0 ||
	    (q->status != VAL_DNS_DATA && q->status != VAL_DNS_NODATA &&
	    q->status != VAL_DNS_NXDOMAIN) ||
	    (q->dnssec != VAL_DNSSEC_SECURE &&
	    q->dnssec != VAL_DNSSEC_INSECURE) ||
	    len == 0 || len >= sizeof(s->qname))
		return;
	if (ctx->caa_cache == NULL)
		ctx->caa_cache = cache_new(0);
	pthread_mutex_lock(&ctx->caa_cache->mu);
	s = &ctx->caa_cache->slot[slot_of(q->qname)];
	slot_clear(s);
	memcpy(s->qname, q->qname, len + 1);
	s->until_ms = val_now_ms() + (int64_t)ctx->conf.caa_cache_s * 1000;
	s->asked = time(NULL);
	s->status = q->status;
	s->dnssec = q->dnssec;
	s->rcode = q->rcode;
	s->len = (size_t)q->res->answer_len;
	s->msg = xmalloc(s->len);
	memcpy(s->msg, q->res->answer_packet, s->len);
	pthread_mutex_unlock(&ctx->caa_cache->mu);
}

size_t
val_caa_ahead(struct val_ctx *ctx, const char *name, struct val_dns_q *q,
    size_t max)
{
	struct val_caa_cache *c = ctx->caa_cache;
	size_t n = 0;

	if (ctx->conf.caa_cache_s == 0 || name == NULL)
		return 0;
	/* RFC 8659 §3: the name and each parent, not the root */
	for (const char *p = name; p != NULL && *p != '\0' && n < max;
	    p = strchr(p, '.'), p = p != NULL ? p + 1 : NULL) {
		int have = 0;

		if (strlen(p) >= sizeof(q[n].qname))
			continue;
		if (c != NULL) {
			pthread_mutex_lock(&c->mu);
			have = find(c, p) != NULL;
			pthread_mutex_unlock(&c->mu);
		}
		if (have)
			continue;
		memset(&q[n], 0, sizeof(q[n]));
		snprintf(q[n].qname, sizeof(q[n].qname), "%s", p);
		q[n].qtype = VAL_RR_CAA;
		n++;
	}
	return n;
}

void
val_caa_ahead_keep(struct val_ctx *ctx, struct val_dns_q *q, size_t n)
{
	for (size_t i = 0; i < n; i++)
		val_caa_cache_put(ctx, &q[i]);
	val_dns_q_release(q, n);
}

static void
cache_free(struct val_caa_cache *c)
{
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		slot_clear(&c->slot[i]);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void
val_caa_cache_free(struct val_ctx *ctx)
{
	if (ctx->caa_cache != NULL && !ctx->caa_cache->shared)
		cache_free(ctx->caa_cache);
	ctx->caa_cache = NULL;
}

void
val_caa_cache_release(struct val_caa_cache *c)
{
	if (c != NULL)
		cache_free(c);
}
