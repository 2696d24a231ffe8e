/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DNS provider's questions (see dnsupd.c for the updates): has a new
 * record reached every authoritative server of our zones (asked directly,
 * without recursion, all at once, each on its own thread and socket), and
 * is a name's zone hosted with us (its apex and NS set through the
 * validation context's libunbound resolver).
 *
 * Runs on the ra's DV worker threads; the val_dnsupd handle is only read.
 * Every answer is untrusted: it must match our ID, opcode and question,
 * only an authoritative NOERROR answer counts, and names and strings are
 * compared with bounds.
 */
#include "validation/dnsupd_int.h"
#include "util/xmalloc.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RR_NS 2
#define RR_SOA 6
#define MAX_LABELS 128

/* ---- propagation -------------------------------------------------------- */

/* See dnsupd_int.h. */
int
val_dnsupd_txt_found(const ldns_pkt *q, const ldns_pkt *r, const char *value)
{
	const ldns_rr_list *an;
	size_t vlen = strlen(value);
	int found = 0;

	if (!ldns_pkt_aa(r) || ldns_pkt_get_rcode(r) != LDNS_RCODE_NOERROR)
		return 0;
	an = ldns_pkt_answer(r);
	for (size_t i = 0; !found && i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(an, i);
		size_t off = 0;
		int same = 1;

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT ||
		    ldns_dname_compare(ldns_rr_owner(rr), ldns_rr_owner(
		    ldns_rr_list_rr(ldns_pkt_question(q), 0))) != 0)
			continue;
		/* The TXT's strings concatenated must equal value. */
		for (size_t k = 0; same && k < ldns_rr_rd_count(rr); k++) {
			const ldns_rdf *f = ldns_rr_rdf(rr, k);
			const uint8_t *p = ldns_rdf_data(f);
			size_t fl = ldns_rdf_size(f);

			if (ldns_rdf_get_type(f) != LDNS_RDF_TYPE_STR ||
			    fl < 1 || (size_t)p[0] + 1 != fl ||
			    off + p[0] > vlen ||
			    memcmp(value + off, p + 1, p[0]) != 0)
				same = 0;
			else
				off += p[0];
		}
		found = same && off == vlen;
	}
	return found;
}

/* 1 when server s answers owner TXT authoritatively with value. */
static int
has_value(const struct val_dnsupd *u, const struct val_dnsupd_server *s,
    const char *odot, const char *value)
{
	ldns_rdf *o = ldns_dname_new_frm_str(odot);
	ldns_pkt *q = NULL, *r = NULL;
	ldns_buffer *qb = NULL;
	uint8_t *wire = NULL;
	size_t wlen;
	int found = 0;

	if (o == NULL)
		return 0;
	q = ldns_pkt_query_new(o, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0);
	if (q == NULL || val_dnsupd_wire(u, q, 0, &qb, NULL) != 0)
		goto out;
	if (val_dnsupd_exchange(u, s, 0, qb, q, &r, &wire, &wlen, NULL) != 0)
		goto out;
	if (ldns_pkt_tc(r)) {
		ldns_pkt_free(r);
		free(wire);
		r = NULL;
		wire = NULL;
		if (val_dnsupd_exchange(u, s, 1, qb, q, &r, &wire, &wlen,
		    NULL) != 0)
			goto out;
	}
	found = val_dnsupd_txt_found(q, r, value);
out:
	ldns_pkt_free(q);
	ldns_pkt_free(r);
	ldns_buffer_free(qb);
	free(wire);
	return found;
}

struct ask {
	const struct val_dnsupd *u;
	const struct val_dnsupd_server *s;
	const char *odot, *value;
	int found;
};

static void *
ask_thread(void *arg)
{
	struct ask *a = arg;

	a->found = has_value(a->u, a->s, a->odot, a->value);
	return NULL;
}

int
val_dnsupd_published(const struct val_dnsupd *u, const char *owner,
    const char *value, size_t *nok, size_t *nservers)
{
	char o[VAL_MAX_NAME + 1], odot[VAL_MAX_NAME + 2];
	struct ask a[VAL_DNSUPD_MAX_SERVERS];
	pthread_t t[VAL_DNSUPD_MAX_SERVERS];
	int started[VAL_DNSUPD_MAX_SERVERS];

	if (nok != NULL)
		*nok = 0;
	if (nservers != NULL)
		*nservers = 0;
	if (u == NULL || nok == NULL || nservers == NULL ||
	    val_dnsupd_name(owner, o) != 0 || value == NULL ||
	    val_dnsupd_value_ok(value) != 0)
		return RC_INVAL;
	snprintf(odot, sizeof(odot), "%s.", o);
	/* Every server at once, so that one that does not answer costs one
	 * timeout, not one per server; the first inline. */
	for (size_t i = 0; i < u->ncheck; i++) {
		a[i] = (struct ask){.u = u, .s = &u->check[i], .odot = odot,
		    .value = value};
		started[i] = i > 0 && pthread_create(&t[i], NULL, ask_thread,
		    &a[i]) == 0;
	}
	for (size_t i = 0; i < u->ncheck; i++) {
		if (started[i])
			pthread_join(t[i], NULL);
		else
			ask_thread(&a[i]);	/* inline, or no thread */
		if (a[i].found)
			(*nok)++;
	}
	*nservers = u->ncheck;
	return 0;
}

/* ---- is the zone ours? -------------------------------------------------- */

/* See dnsupd_int.h. */
int
val_dnsupd_ns_target(const uint8_t *p, size_t len, char *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		size_t l = p[i++];

		if (l == 0)
			break;
		if (l > 63 || l > len - i || o + l + 1 > VAL_MAX_NAME + 1)
			return -1;
		if (o > 0)
			out[o++] = '.';
		for (size_t k = 0; k < l; k++) {
			unsigned char c = p[i + k];

			/* Anything odd cannot be one of our names. */
			if (c <= 0x20 || c >= 0x7f || c == '.')
				return -1;
			out[o++] = (char)tolower(c);
		}
		i += l;
	}
	if (o == 0 || o > VAL_MAX_NAME)
		return -1;
	out[o] = '\0';
	return 0;
}

int
val_dnsupd_find_zone(struct val_ctx *ctx, const struct val_dnsupd *u,
    const char *name, char *zone, size_t zonesz, int *ours,
    struct rc_detail *d)
{
	char norm[VAL_MAX_NAME + 1];
	struct val_dns_q *q = NULL, ns;
	const char *suffix[MAX_LABELS];
	size_t n = 0, apex = 0;
	int rc = RC_INVAL, found = 0;

	memset(&ns, 0, sizeof(ns));
	if (ours != NULL)
		*ours = 0;
	if (zone != NULL && zonesz > 0)
		zone[0] = '\0';
	if (ctx == NULL || u == NULL || name == NULL || zone == NULL ||
	    zonesz < VAL_MAX_NAME + 1 || ours == NULL) {
		rc_detail_set(d, "dnsupdate: bad arguments");
		return RC_INVAL;
	}
	if (val_dnsupd_name(name, norm) != 0) {
		rc_detail_set(d, "dnsupdate: bad name");
		return RC_INVAL;
	}
	/* Every suffix of the name, deepest first, asked for SOA one after
	 * the other: the first whose own SOA answers is the apex. One at a
	 * time, so that nothing above the apex is asked (a TLD that does
	 * not answer would otherwise cost the whole timeout). */
	for (const char *p = norm; p != NULL && n < MAX_LABELS; n++) {
		suffix[n] = p;
		p = strchr(p, '.');
		if (p != NULL)
			p++;
	}
	q = xcalloc(n, sizeof(*q));
	for (size_t i = 0; i < n; i++) {
		snprintf(q[i].qname, sizeof(q[i].qname), "%s.", suffix[i]);
		q[i].qtype = RR_SOA;
	}
	rc = RC_DNS;
	for (size_t i = 0; i < n && !found; i++) {
		const struct ub_result *res;

		if (val_dns_resolve(ctx, &q[i], 1) != 0) {
			rc_detail_set(d, "dnsupdate: cannot start the SOA "
			    "lookup for %s", suffix[i]);
			goto out;
		}
		res = q[i].res;
		if (val_dns_failed(&q[i])) {
			rc_detail_set(d, "dnsupdate: SOA lookup for %s: %s",
			    suffix[i], val_dns_status_str(q[i].status));
			goto out;
		}
		/* An SOA reached through a CNAME is another name's. */
		if (q[i].status == VAL_DNS_DATA && res != NULL &&
		    (res->canonname == NULL ||
		    strcasecmp(res->canonname, q[i].qname) == 0)) {
			apex = i;
			found = 1;
		}
	}
	if (!found) {
		rc_detail_set(d, "dnsupdate: no zone found for %s", norm);
		goto out;
	}
	snprintf(zone, zonesz, "%s", suffix[apex]);
	snprintf(ns.qname, sizeof(ns.qname), "%s.", suffix[apex]);
	ns.qtype = RR_NS;
	if (val_dns_resolve(ctx, &ns, 1) != 0 || val_dns_failed(&ns)) {
		rc_detail_set(d, "dnsupdate: NS lookup for %s: %s",
		    suffix[apex], val_dns_status_str(ns.status));
		goto out;
	}
	for (size_t i = 0; ns.status == VAL_DNS_DATA && ns.res != NULL &&
	    ns.res->data[i] != NULL && !*ours; i++) {
		char t[VAL_MAX_NAME + 1];

		if (val_dnsupd_ns_target((const uint8_t *)ns.res->data[i],
		    (size_t)ns.res->len[i], t) != 0)
			continue;
		for (size_t k = 0; k < u->nns; k++)
			if (strcmp(t, u->nameservers[k]) == 0)
				*ours = 1;
	}
	rc = 0;
out:
	if (q != NULL)
		val_dns_q_release(q, n);
	val_dns_q_release(&ns, 1);
	free(q);
	return rc;
}
