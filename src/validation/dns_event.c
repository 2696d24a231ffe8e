/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libunbound driven on the checking thread itself: each struct val_ctx has
 * a libevent base, its unbound context is made with ub_ctx_create_event(),
 * and val_dns_resolve() (dns.c) runs that base until its answers are in or
 * its deadline passes. Before this, a context used ub_ctx_async(): every
 * batch of lookups went to unbound's resolver thread through a pipe and
 * came back the same way, two thread hand-offs (and their context
 * switches) per batch.
 *
 * unbound hands an event-mode answer over as the DNS message itself; this
 * file turns it into the struct ub_result the rest of the component reads,
 * as libunbound's own threads do: the answer RRset of the question's type
 * at the end of the CNAME chain from the question's name (canonname that
 * name when a CNAME was followed, else NULL), rcode from the message, secure/bogus from unbound's verdict. The
 * message is parsed with ldns and treated as untrusted (bounded CNAME
 * chain, RDATA copied with its length).
 *
 * A lookup that misses the deadline is not cancelled (ub_cancel() is not
 * safe on event contexts in libunbound 1.17): its ticket forgets the
 * caller's struct val_dns_q and the answer, when it comes during a later
 * run of the base, is dropped; tickets still out when the context closes
 * are freed after unbound is. Runs on the thread that owns the context.
 */
#include "validation/val_int.h"
#include "util/xmalloc.h"

#include <event2/event.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>
#include <unbound-event.h>

#define MAX_CNAMES 16

struct val_dns_ticket {
	struct val_dns_q *q;		/* NULL: abandoned */
	struct val_dns_ticket *next, **prevp;
};

static char *
dname_text(const ldns_rdf *d)
{
	char *s = ldns_rdf2str(d);
	char *c = s != NULL ? xstrdup(s) : NULL;

	free(s);	/* ldns allocates with malloc */
	return c;
}

/* The RDATA of rr in wire form (no RDLENGTH), malloc'd; *len its size. */
static uint8_t *
rdata_wire(const ldns_rr *rr, size_t *len)
{
	size_t n = 0, o = 0;
	uint8_t *p;

	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++)
		n += ldns_rdf_size(ldns_rr_rdf(rr, i));
	p = xmalloc(n + 1);
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);

		memcpy(p + o, ldns_rdf_data(f), ldns_rdf_size(f));
		o += ldns_rdf_size(f);
	}
	*len = n;
	return p;
}

struct ub_result *
val_dns_result_from_msg(const char *qname, int qtype, int rcode,
    const uint8_t *msg, size_t len, int sec, const char *why_bogus)
{
	struct ub_result *res = xcalloc(1, sizeof(*res));
	ldns_pkt *p = NULL;
	ldns_rdf *name = NULL;
	ldns_rr_list *an;
	size_t n = 0, cap = 0;

	res->qname = xstrdup(qname);
	res->qtype = qtype;
	res->qclass = 1;
	res->secure = sec == 2;
	res->bogus = sec == 1;
	res->why_bogus = why_bogus != NULL ? xstrdup(why_bogus) : NULL;
	res->rcode = rcode;
	res->data = xcalloc(1, sizeof(*res->data));
	res->len = xcalloc(1, sizeof(*res->len));
	if (rcode != 0 || msg == NULL || len == 0 ||
	    ldns_wire2pkt(&p, msg, len) != LDNS_STATUS_OK) {
		/* no message to read: unbound's error rcode (SERVFAIL) */
		if (res->rcode == 0)
			res->rcode = 2;
		res->nxdomain = res->rcode == 3;
		return res;
	}
	res->answer_packet = xmalloc(len);
	memcpy(res->answer_packet, msg, len);
	res->answer_len = (int)len;
	res->rcode = (int)ldns_pkt_get_rcode(p);
	res->nxdomain = res->rcode == 3;
	an = ldns_pkt_answer(p);
	if (ldns_str2rdf_dname(&name, qname) != LDNS_STATUS_OK) {
		ldns_pkt_free(p);
		return res;
	}
	/* the CNAME chain from qname, then the RRset of qtype at its end */
	for (int hop = 0; hop <= MAX_CNAMES; hop++) {
		ldns_rdf *next = NULL;

		for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
			ldns_rr *rr = ldns_rr_list_rr(an, i);

			if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
			    ldns_dname_compare(ldns_rr_owner(rr), name) != 0)
				continue;
			if ((int)ldns_rr_get_type(rr) == qtype) {
				size_t l;

				if (n + 2 > cap) {
					cap = cap ? 2 * cap : 8;
					res->data = xrealloc(res->data,
					    cap * sizeof(*res->data));
					res->len = xrealloc(res->len,
					    cap * sizeof(*res->len));
				}
				res->data[n] = (char *)rdata_wire(rr, &l);
				res->len[n] = (int)l;
				if (n == 0 || ldns_rr_ttl(rr) < (uint32_t)res->ttl)
					res->ttl = (int)ldns_rr_ttl(rr);
				n++;
				res->data[n] = NULL;
				res->len[n] = 0;
			} else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
			    next == NULL && ldns_rr_rd_count(rr) == 1) {
				next = ldns_rr_rdf(rr, 0);
			}
		}
		if (n > 0 || next == NULL || qtype == LDNS_RR_TYPE_CNAME)
			break;
		ldns_rdf_deep_free(name);
		name = ldns_rdf_clone(next);
		free(res->canonname);
		res->canonname = dname_text(name);
	}
	res->havedata = n > 0;
	ldns_rdf_deep_free(name);
	ldns_pkt_free(p);
	return res;
}

static void
unlink_ticket(struct val_dns_ticket *t)
{
	*t->prevp = t->next;
	if (t->next != NULL)
		t->next->prevp = t->prevp;
}

static void
on_event_answer(void *arg, int rcode, void *msg, int len, int sec,
    char *why_bogus, int ratelimited)
{
	struct val_dns_ticket *t = arg;

	(void)ratelimited;
	if (t->q != NULL) {
		t->q->res = val_dns_result_from_msg(t->q->qname, t->q->qtype,
		    rcode, msg, len > 0 ? (size_t)len : 0, sec, why_bogus);
		t->q->ub_err = 0;
		t->q->done = 1;
	}
	unlink_ticket(t);
	free(t);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(int *)arg = 1;
}

int
val_dns_event_start(struct val_ctx *ctx, struct val_dns_q *q)
{
	struct val_dns_ticket *t = xcalloc(1, sizeof(*t));
	int e, id = 0;

	t->q = q;
	t->next = ctx->tickets;
	t->prevp = &ctx->tickets;
	if (t->next != NULL)
		t->next->prevp = &t->next;
	ctx->tickets = t;
	/* may answer at once (local data), before it returns */
	e = ub_resolve_event(ctx->ub, q->qname, q->qtype, 1, t,
	    on_event_answer, &id);
	if (e != 0 && q->done == 0) {
		unlink_ticket(t);
		free(t);
	}
	return e;
}

void
val_dns_event_wait(struct val_ctx *ctx, struct val_dns_q *q, size_t n,
    int64_t deadline)
{
	int expired = 0;
	size_t pending;
	struct event *tmo;
	struct timeval tv;
	int64_t left = deadline - val_now_ms();

	if (left < 0)
		left = 0;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	tmo = evtimer_new(ctx->evb, on_deadline, &expired);
	if (tmo != NULL)
		evtimer_add(tmo, &tv);
	for (;;) {
		pending = 0;
		for (size_t i = 0; i < n; i++)
			if (!q[i].done)
				pending++;
		if (pending == 0 || expired || tmo == NULL)
			break;
		if (event_base_loop(ctx->evb, EVLOOP_ONCE) < 0)
			break;
	}
	if (tmo != NULL)
		event_free(tmo);
	/* what is still out is abandoned: its answer will be dropped */
	for (struct val_dns_ticket *t = ctx->tickets; t != NULL; t = t->next)
		for (size_t i = 0; i < n; i++)
			if (t->q == &q[i])
				t->q = NULL;
}

void
val_dns_event_free(struct val_ctx *ctx)
{
	while (ctx->tickets != NULL) {
		struct val_dns_ticket *t = ctx->tickets;

		unlink_ticket(t);
		free(t);
	}
	if (ctx->evb != NULL)
		event_base_free(ctx->evb);
	ctx->evb = NULL;
}
