/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns-01 (RFC 8555 §8.4): one TXT lookup at _acme-challenge.NAME through
 * libunbound (CNAMEs followed by the resolver), valid when any record's
 * concatenated character-strings equal the expected value.
 *
 * Runs on the check's worker thread. The TXT records are untrusted: each is
 * parsed with bounds; a malformed record never matches.
 */
#include "validation/val_int.h"

#include <stdio.h>
#include <string.h>

#define RR_TXT 16
#define DNS01_LABEL "_acme-challenge"
#define MAX_EXPECTED 512	/* longest expected value accepted */

/*
 * 1 when the TXT RDATA p[0..len) is well formed and its strings,
 * concatenated, equal want[0..wl); 0 otherwise. The comparison does not
 * stop at the first differing byte.
 */
static int
txt_equals(const uint8_t *p, size_t len, const char *want, size_t wl)
{
	size_t i = 0, o = 0;
	unsigned diff = 0;

	while (i < len) {
		size_t l = p[i++];

		if (l > len - i)
			return 0;
		for (size_t k = 0; k < l; k++, o++)
			diff |= o < wl ? (unsigned)(p[i + k] ^
			    (uint8_t)want[o]) : 1u;
		i += l;
	}
	return diff == 0 && o == wl;
}

/* The first record's text, quoted, for the detail. */
static void
first_text(const struct ub_result *res, char *out, size_t outsz)
{
	const uint8_t *p = (const uint8_t *)res->data[0];
	size_t len = (size_t)res->len[0], i = 0, o = 0;
	uint8_t raw[128];

	while (i < len && o < sizeof(raw)) {
		size_t l = p[i++];

		if (l > len - i) {
			snprintf(out, outsz, "(malformed record)");
			return;
		}
		if (l > sizeof(raw) - o)
			l = sizeof(raw) - o;
		memcpy(raw + o, p + i, l);
		o += l;
		i += p[i - 1];
	}
	val_quote(out, outsz, raw, o, 80);
}

int
val_dns01(struct val_ctx *ctx, const char *name, const char *expected,
    struct val_result *out)
{
	struct val_run r;
	/* the TXT lookup, then the CAA ones asked ahead */
	struct val_dns_q qs[1 + VAL_CAA_AHEAD_MAX], *q = qs;
	struct rc_detail d = {{0}};
	char norm[VAL_MAX_NAME + 1], shown[128];
	size_t wl, nrec = 0, nahead = 0;
	int rc = 0;

	memset(qs, 0, sizeof(qs));
	val_run_begin(&r, ctx, out, VAL_KIND_DNS01, name);
	if (ctx == NULL || name == NULL || expected == NULL ||
	    (wl = strlen(expected)) == 0 || wl > MAX_EXPECTED) {
		rc = val_run_fail(&r, RC_INVAL, VAL_PROB_SERVER_INTERNAL,
		    "dns-01: missing argument or bad expected value");
		goto out;
	}
	/* RFC 8555 §8.4 with §7.1.3: for "*.base" the record is at
	 * _acme-challenge.base. */
	if (val_name_normalize(name, 1, norm, NULL, &d) != 0) {
		rc = val_run_fail(&r, RC_BADNAME,
		    VAL_PROB_REJECTED_IDENTIFIER, "dns-01: not a DNS name: %s",
		    d.msg);
		goto out;
	}
	if (strlen(norm) + sizeof(DNS01_LABEL) > VAL_MAX_NAME) {
		rc = val_run_fail(&r, RC_BADNAME,
		    VAL_PROB_REJECTED_IDENTIFIER,
		    "dns-01: " DNS01_LABEL ".%s would exceed %d characters",
		    norm, VAL_MAX_NAME);
		goto out;
	}
	memcpy(q->qname, DNS01_LABEL ".", sizeof(DNS01_LABEL));
	memcpy(q->qname + sizeof(DNS01_LABEL), norm, strlen(norm) + 1);
	q->qtype = RR_TXT;
	val_quote(shown, sizeof(shown), expected, wl, 80);
	val_run_set(&r, "expected", json_string(shown));
	/* the CAA check before issuance will want these: same round */
	nahead = val_caa_ahead(ctx, norm, qs + 1, VAL_CAA_AHEAD_MAX);
	if (val_dns_resolve(ctx, qs, 1 + nahead) != 0) {
		val_run_dns(&r, q);
		rc = val_run_fail(&r, 0, VAL_PROB_DNS, "dns-01: DNS lookup "
		    "for %s could not be started", q->qname);
		goto out;
	}
	val_run_dns(&r, q);
	if (val_dns_failed(q)) {
		val_run_dns_fail(&r, q);
		goto out;
	}
	if (q->status == VAL_DNS_NXDOMAIN || q->status == VAL_DNS_NODATA) {
		val_run_fail(&r, 0, VAL_PROB_UNAUTHORIZED,
		    "No TXT record found at %s (%s); expected '%s'", q->qname,
		    q->status == VAL_DNS_NXDOMAIN ? "NXDOMAIN" : "NODATA",
		    shown);
		goto out;
	}
	for (; q->res->data[nrec] != NULL; nrec++) {
		if (txt_equals((const uint8_t *)q->res->data[nrec],
		    (size_t)q->res->len[nrec], expected, wl)) {
			val_run_valid(&r, "Found TXT '%s' at %s%s", shown,
			    q->qname, q->dnssec == VAL_DNSSEC_SECURE ?
			    " (DNSSEC secure)" : "");
			goto out;
		}
	}
	{
		char found[128];

		first_text(q->res, found, sizeof(found));
		val_run_fail(&r, 0, VAL_PROB_INCORRECT_RESPONSE,
		    "Expected TXT '%s' at %s, found '%s'%s", shown, q->qname,
		    found, nrec > 1 ? " and other non-matching records" : "");
	}
out:
	val_dns_q_release(q, 1);
	val_caa_ahead_keep(ctx, qs + 1, nahead);
	return val_run_end(&r, rc);
}
