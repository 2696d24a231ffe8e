/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DNS lookups for validation, through libunbound with DNSSEC validation:
 * several questions at once within one deadline (started and waited for on
 * this thread's event base, dns_event.c; whatever is left at the deadline
 * is a timeout), each answer classified (data, NODATA, NXDOMAIN, SERVFAIL, bogus,
 * timeout, other rcode) and written into the evidence; and name to
 * address resolution (AAAA, then A) with special-purpose addresses
 * dropped unless the configuration allows them.
 *
 * Runs on the check's worker thread with its own struct val_ctx. Every
 * answer is untrusted: records are parsed with bounds and quoted before
 * they reach text or JSON.
 */
#include "validation/val_int.h"
#include "util/ipaddr.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RR_A 1
#define RR_CNAME 5
#define RR_TXT 16
#define RR_AAAA 28
#define RR_CAA VAL_RR_CAA

#define EV_MAX_ANSWERS 32	/* answers kept per lookup in the evidence */

const char *
val_dns_status_str(enum val_dns_status s)
{
	switch (s) {
	case VAL_DNS_DATA:
		return "data";
	case VAL_DNS_NODATA:
		return "NODATA";
	case VAL_DNS_NXDOMAIN:
		return "NXDOMAIN";
	case VAL_DNS_SERVFAIL:
		return "SERVFAIL";
	case VAL_DNS_BOGUS:
		return "bogus";
	case VAL_DNS_TIMEOUT:
		return "timeout";
	case VAL_DNS_RCODE:
		return "error rcode";
	case VAL_DNS_ERROR:
		break;
	}
	return "error";
}

const char *
val_dns_type_str(int qtype)
{
	switch (qtype) {
	case RR_A:
		return "A";
	case RR_AAAA:
		return "AAAA";
	case RR_TXT:
		return "TXT";
	case RR_CAA:
		return "CAA";
	case RR_CNAME:
		return "CNAME";
	}
	return "TYPE?";
}

static const char *
rcode_str(int rcode, char *buf, size_t n)
{
	static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL",
		"NXDOMAIN", "NOTIMP", "REFUSED"};

	if (rcode >= 0 && rcode < 6)
		return names[rcode];
	snprintf(buf, n, "RCODE%d", rcode);
	return buf;
}

int
val_dns_failed(const struct val_dns_q *q)
{
	return q->status != VAL_DNS_DATA && q->status != VAL_DNS_NODATA &&
	    q->status != VAL_DNS_NXDOMAIN;
}

static void
classify(struct val_dns_q *q)
{
	struct ub_result *res = q->res;

	q->dnssec = VAL_DNSSEC_NONE;
	if (q->ub_err != 0 || res == NULL) {
		q->status = VAL_DNS_ERROR;
		return;
	}
	q->rcode = res->rcode;
	if (res->bogus) {
		q->status = VAL_DNS_BOGUS;
		q->dnssec = VAL_DNSSEC_BOGUS;
		return;
	}
	if (res->rcode == 2) {
		q->status = VAL_DNS_SERVFAIL;
		return;
	}
	q->dnssec = res->secure ? VAL_DNSSEC_SECURE : VAL_DNSSEC_INSECURE;
	if (res->rcode == 3)
		q->status = VAL_DNS_NXDOMAIN;
	else if (res->rcode != 0)
		q->status = VAL_DNS_RCODE;
	else if (res->havedata)
		q->status = VAL_DNS_DATA;
	else
		q->status = VAL_DNS_NODATA;
	if (q->status == VAL_DNS_RCODE)
		q->dnssec = VAL_DNSSEC_NONE;
}

int
val_dns_resolve(struct val_ctx *ctx, struct val_dns_q *q, size_t n)
{
	int64_t deadline = val_now_ms() + ctx->conf.dns_timeout_ms;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		int e;

		if (q[i].cached_at != 0)
			continue;	/* a reused CAA answer */
		q[i].done = 0;
		q[i].res = NULL;
		q[i].ub_err = 0;
		q[i].rcode = -1;
		e = val_dns_event_start(ctx, &q[i]);
		if (e != 0) {
			log_err(LOG_VAL, "validation: resolve %s: %s",
			    q[i].qname, ub_strerror(e));
			q[i].done = 1;
			q[i].ub_err = e;
			rc = RC_ERR;
		}
	}
	val_dns_event_wait(ctx, q, n, deadline);
	for (size_t i = 0; i < n; i++) {
		if (q[i].cached_at != 0)
			continue;
		if (!q[i].done) {
			/* abandoned by val_dns_event_wait(): its answer,
			 * should it still come, is dropped */
			q[i].done = 1;
			q[i].status = VAL_DNS_TIMEOUT;
			q[i].dnssec = VAL_DNSSEC_NONE;
			continue;
		}
		classify(&q[i]);
	}
	return rc;
}

void
val_dns_q_release(struct val_dns_q *q, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (q[i].res != NULL)
			ub_resolve_free(q[i].res);
		q[i].res = NULL;
	}
}

/* One TXT RDATA: its character-strings concatenated into out (quoted).
 * Returns 0 or -1 when malformed. */
static int
txt_text(const uint8_t *p, size_t len, char *out, size_t outsz)
{
	uint8_t raw[2048];
	size_t o = 0, i = 0;

	while (i < len) {
		size_t l = p[i++];

		if (l > len - i)
			return -1;
		if (o + l > sizeof(raw))
			l = sizeof(raw) - o;
		memcpy(raw + o, p + i, l);
		o += l;
		i += p[i - 1];
	}
	val_quote(out, outsz, raw, o, 512);
	return 0;
}

static json_t *
answer_json(int qtype, const uint8_t *p, size_t len)
{
	char text[2200];

	if (qtype == RR_A && len == 4) {
		inet_ntop(AF_INET, p, text, sizeof(text));
		return json_string(text);
	}
	if (qtype == RR_AAAA && len == 16) {
		inet_ntop(AF_INET6, p, text, sizeof(text));
		return json_string(text);
	}
	if (qtype == RR_TXT && txt_text(p, len, text, sizeof(text)) == 0)
		return json_string(text);
	if (qtype == RR_CAA) {
		struct val_caa_rr rr;

		if (val_caa_rr_parse(p, len, &rr) == 0) {
			val_quote(text, sizeof(text), rr.value, rr.value_len,
			    512);
			return json_pack("{s:i, s:s, s:s}", "flags", rr.flags,
			    "tag", rr.tag, "value", text);
		}
	}
	/* Anything else, or malformed: the bytes in hex, bounded. */
	{
		static const char hx[] = "0123456789abcdef";
		size_t o = 0;

		for (size_t i = 0; i < len && o + 3 < 1024; i++) {
			text[o++] = hx[p[i] >> 4];
			text[o++] = hx[p[i] & 15];
		}
		text[o] = '\0';
		return json_pack("{s:s, s:I}", "malformed_hex", text, "len",
		    (json_int_t)len);
	}
}

/* Names equal ignoring case and one trailing dot on either. */
static int
same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

void
val_run_dns(struct val_run *r, const struct val_dns_q *q)
{
	json_t *e = json_object(), *answers;
	char rb[16];

	json_object_set_new(e, "qname", json_string(q->qname));
	json_object_set_new(e, "qtype", json_string(val_dns_type_str(
	    q->qtype)));
	json_object_set_new(e, "status", json_string(val_dns_status_str(
	    q->status)));
	json_object_set_new(e, "dnssec", json_string(val_dnssec_str(
	    q->dnssec)));
	if (q->cached_at != 0) {
		char at[32];
		struct tm tm;

		gmtime_r(&q->cached_at, &tm);
		strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_object_set_new(e, "asked_at", json_string(at));
	}
	if (q->res != NULL) {
		struct ub_result *res = q->res;
		size_t n = 0;

		json_object_set_new(e, "rcode", json_string(rcode_str(
		    res->rcode, rb, sizeof(rb))));
		if (res->canonname != NULL && !same_name(res->canonname,
		    q->qname)) {
			char c[VAL_MAX_NAME * 4 + 8];

			val_quote(c, sizeof(c), res->canonname,
			    strlen(res->canonname), 300);
			json_object_set_new(e, "canonname", json_string(c));
		}
		if (res->why_bogus != NULL)
			json_object_set_new(e, "why_bogus",
			    val_json_str(res->why_bogus));
		answers = json_array();
		for (; res->havedata && res->data[n] != NULL; n++)
			if (n < EV_MAX_ANSWERS)
				json_array_append_new(answers, answer_json(
				    q->qtype, (const uint8_t *)res->data[n],
				    (size_t)res->len[n]));
		json_object_set_new(e, "answers", answers);
		if (n > EV_MAX_ANSWERS)
			json_object_set_new(e, "answers_omitted",
			    json_integer((json_int_t)(n - EV_MAX_ANSWERS)));
	} else if (q->ub_err != 0) {
		json_object_set_new(e, "error", json_string(ub_strerror(
		    q->ub_err)));
	}
	json_array_append_new(val_run_array(r, "dns"), e);
	val_run_dnssec(r, q->dnssec);
}

int
val_run_dns_fail(struct val_run *r, const struct val_dns_q *q)
{
	const char *t = val_dns_type_str(q->qtype);
	char rb[16];

	switch (q->status) {
	case VAL_DNS_SERVFAIL:
		return val_run_fail(r, 0, VAL_PROB_DNS,
		    "DNS SERVFAIL for %s %s", t, q->qname);
	case VAL_DNS_BOGUS: {
		char why[200] = "";

		if (q->res != NULL && q->res->why_bogus != NULL)
			val_quote(why, sizeof(why), q->res->why_bogus,
			    strlen(q->res->why_bogus), 150);
		return val_run_fail(r, 0, VAL_PROB_DNS,
		    "DNSSEC validation failed (bogus) for %s %s%s%s", t,
		    q->qname, why[0] ? ": " : "", why);
	}
	case VAL_DNS_TIMEOUT:
		return val_run_fail(r, 0, VAL_PROB_DNS,
		    "DNS timeout after %u ms for %s %s",
		    r->ctx->conf.dns_timeout_ms, t, q->qname);
	case VAL_DNS_RCODE:
		return val_run_fail(r, 0, VAL_PROB_DNS,
		    "DNS error %s for %s %s", rcode_str(q->rcode, rb,
		    sizeof(rb)), t, q->qname);
	case VAL_DNS_ERROR:
		return val_run_fail(r, 0, VAL_PROB_DNS,
		    "DNS lookup failed for %s %s: %s", t, q->qname,
		    q->ub_err != 0 ? ub_strerror(q->ub_err) : "no answer");
	case VAL_DNS_NXDOMAIN:
		return val_run_fail(r, 0, VAL_PROB_DNS,
		    "DNS NXDOMAIN for %s %s", t, q->qname);
	case VAL_DNS_NODATA:
	case VAL_DNS_DATA:
		break;
	}
	return val_run_fail(r, 0, VAL_PROB_DNS, "No %s records for %s", t,
	    q->qname);
}

/* Not globally reachable: the IANA special-purpose registries
 * (util/ipaddr.h, the same list the CA refuses to certify). */
int
val_addr_special(int family, const uint8_t *a)
{
	return ipaddr_reserved(a, family == AF_INET ? 4 : 16) != 0;
}

int
val_resolve_host(struct val_run *r, const char *host, int caa_ahead,
    struct val_addr *addrs, size_t *naddrs)
{
	struct val_dns_q q[2 + VAL_CAA_AHEAD_MAX];
	json_t *filtered = NULL;
	size_t n = 0, ahead;
	int ret = -1;

	*naddrs = 0;
	memset(q, 0, sizeof(q));
	snprintf(q[0].qname, sizeof(q[0].qname), "%s", host);
	snprintf(q[1].qname, sizeof(q[1].qname), "%s", host);
	q[0].qtype = RR_AAAA;
	q[1].qtype = RR_A;
	/* the CAA check before issuance will want these: same round */
	ahead = caa_ahead ? val_caa_ahead(r->ctx, host, q + 2,
	    VAL_CAA_AHEAD_MAX) : 0;
	if (val_dns_resolve(r->ctx, q, 2 + ahead) != 0) {
		val_run_dns(r, &q[0]);
		val_run_dns(r, &q[1]);
		val_run_fail(r, 0, VAL_PROB_DNS, "DNS lookup for %s could "
		    "not be started", host);
		goto out;
	}
	for (int i = 0; i < 2; i++)
		val_run_dns(r, &q[i]);
	/* Both answers must be usable: SERVFAIL is never a permission, and
	 * a bogus AAAA may be an attack on the A answer too. */
	for (int i = 0; i < 2; i++)
		if (val_dns_failed(&q[i])) {
			val_run_dns_fail(r, &q[i]);
			goto out;
		}
	for (int i = 0; i < 2; i++) {
		struct ub_result *res = q[i].res;
		int fam = q[i].qtype == RR_AAAA ? AF_INET6 : AF_INET;
		size_t alen = fam == AF_INET6 ? 16 : 4;

		if (q[i].status != VAL_DNS_DATA)
			continue;
		for (size_t k = 0; res->data[k] != NULL; k++) {
			struct val_addr *a = &addrs[n];

			if ((size_t)res->len[k] != alen || n >= VAL_MAX_ADDRS)
				continue;
			a->family = fam;
			memcpy(a->bytes, res->data[k], alen);
			inet_ntop(fam, a->bytes, a->text, sizeof(a->text));
			if (!r->ctx->conf.allow_private_addresses &&
			    val_addr_special(fam, a->bytes)) {
				if (filtered == NULL)
					filtered = json_array();
				json_array_append_new(filtered,
				    json_string(a->text));
				continue;
			}
			n++;
		}
	}
	if (filtered != NULL) {
		val_run_set(r, "addresses_refused", filtered);
		filtered = NULL;
	}
	if (n == 0) {
		val_run_fail(r, 0, VAL_PROB_DNS, json_object_get(r->ev,
		    "addresses_refused") != NULL ?
		    "No public IP address found for %s (only special-purpose "
		    "addresses)" : "No valid IP addresses found for %s", host);
		goto out;
	}
	*naddrs = n;
	ret = 0;
out:
	json_decref(filtered);
	val_dns_q_release(q, 2);
	val_caa_ahead_keep(r->ctx, q + 2, ahead);
	return ret;
}
