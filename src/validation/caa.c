/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CAA (RFC 8659) with the ACME parameters accounturi and validationmethods
 * (RFC 8657): our own strict parsers of the CAA RDATA and of the
 * issue/issuewild value grammar, the decision on a relevant RRset, and
 * val_caa_check(), which finds that RRset by climbing the name tree through
 * libunbound.
 *
 * Runs on the check's worker thread. CAA records come from the network and
 * are untrusted: every byte is checked against the grammar, and anything
 * that does not parse never authorizes issuance.
 */
#include "validation/val_int.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RR_CAA VAL_RR_CAA
#define CAA_FLAG_CRITICAL 0x80	/* RFC 8659 §4.1, "bit 0" */
#define CAA_FLAG_CRITICAL_ALIAS 0x01	/* common misreading, see below */

static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

int
val_caa_rr_parse(const uint8_t *rdata, size_t len, struct val_caa_rr *out)
{
	size_t tl;

	memset(out, 0, sizeof(*out));
	if (rdata == NULL || len < 2)
		return RC_INVAL;
	tl = rdata[1];
	/* RFC 8659 §4.1: tag length at least 1, at most 15. */
	if (tl < 1 || tl > VAL_CAA_MAX_TAG || 2 + tl > len)
		return RC_INVAL;
	for (size_t i = 0; i < tl; i++) {
		if (!is_alnum(rdata[2 + i]))
			return RC_INVAL;
		out->tag[i] = (char)rdata[2 + i];
	}
	out->tag[tl] = '\0';
	out->tag_len = tl;
	out->flags = rdata[0];
	out->value = rdata + 2 + tl;
	out->value_len = len - 2 - tl;
	return 0;
}

/*
 * (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT)) at v[*i]: advances *i past it.
 * Returns 0, or -1 when there is none or it ends with a hyphen.
 */
static int
ldh_token(const uint8_t *v, size_t len, size_t *i)
{
	size_t j = *i;

	if (j >= len || !is_alnum(v[j]))
		return -1;
	while (j < len && (is_alnum(v[j]) || v[j] == '-'))
		j++;
	if (v[j - 1] == '-')
		return -1;
	*i = j;
	return 0;
}

static void
skip_wsp(const uint8_t *v, size_t len, size_t *i)
{
	while (*i < len && is_wsp(v[*i]))
		(*i)++;
}

int
val_caa_issue_parse(const uint8_t *v, size_t len, struct val_caa_issue *out)
{
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	if (v == NULL && len > 0)
		return RC_INVAL;
	skip_wsp(v, len, &i);
	if (i < len && v[i] != ';') {
		/* issuer-domain-name = label *("." label) */
		size_t start = i;

		for (;;) {
			if (ldh_token(v, len, &i) != 0)
				return RC_INVAL;
			if (i < len && v[i] == '.') {
				i++;
				continue;
			}
			break;
		}
		out->domain = (const char *)v + start;
		out->domain_len = i - start;
		skip_wsp(v, len, &i);
	}
	if (i == len)
		return 0;
	if (v[i] != ';')
		return RC_INVAL;
	i++;
	skip_wsp(v, len, &i);
	if (i == len)
		return 0;
	for (;;) {
		struct val_caa_param *p;
		size_t t0 = i, v0;

		if (out->nparams == VAL_CAA_MAX_PARAMS)
			return RC_TOOBIG;
		p = &out->params[out->nparams];
		/* parameter = tag *WSP "=" *WSP value */
		if (ldh_token(v, len, &i) != 0)
			return RC_INVAL;
		p->tag = (const char *)v + t0;
		p->tag_len = i - t0;
		skip_wsp(v, len, &i);
		if (i >= len || v[i] != '=')
			return RC_INVAL;
		i++;
		skip_wsp(v, len, &i);
		/* value = *(%x21-3A / %x3C-7E) */
		v0 = i;
		while (i < len && v[i] >= 0x21 && v[i] <= 0x7e && v[i] != ';')
			i++;
		p->value = (const char *)v + v0;
		p->value_len = i - v0;
		out->nparams++;
		skip_wsp(v, len, &i);
		if (i == len)
			return 0;
		if (v[i] != ';')
			return RC_INVAL;
		i++;
		skip_wsp(v, len, &i);
		/* parameters = (parameter *WSP ";" *WSP parameters) /
		 * parameter: a ';' is always followed by a parameter. */
		if (i == len)
			return RC_INVAL;
	}
}

int
val_caa_methods_contain(const char *v, size_t len, const char *method)
{
	const uint8_t *u = (const uint8_t *)v;
	size_t i = 0, ml = method != NULL ? strlen(method) : 0;
	int found = 0;

	if (len == 0)
		return 0;	/* an empty list allows no method */
	for (;;) {
		size_t t0 = i;

		if (ldh_token(u, len, &i) != 0)
			return RC_INVAL;
		if (method != NULL && i - t0 == ml &&
		    memcmp(v + t0, method, ml) == 0)
			found = 1;
		if (i == len)
			return found;
		if (u[i] != ',')
			return RC_INVAL;
		i++;
	}
}

/* Case-insensitive equality of a counted string and a C string. */
static int
eq_ci(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && strncasecmp(p, s, n) == 0;
}

/*
 * Does this issue/issuewild value authorize us? Returns 1 or 0, with the
 * reason for a 0 in why.
 */
static int
authorizes(const struct val_caa_rr *rr, const char *const *ids,
    const char *account_uri, const char *method, char *why, size_t whysz)
{
	struct val_caa_issue iv;
	const struct val_caa_param *acct = NULL, *meth = NULL;
	int ours = 0, rc;

	rc = val_caa_issue_parse(rr->value, rr->value_len, &iv);
	if (rc != 0) {
		snprintf(why, whysz, "malformed %s value", rr->tag);
		return 0;
	}
	if (iv.domain == NULL) {
		snprintf(why, whysz, "%s with no issuer", rr->tag);
		return 0;
	}
	for (size_t k = 0; ids != NULL && ids[k] != NULL; k++)
		if (eq_ci(iv.domain, iv.domain_len, ids[k]))
			ours = 1;
	if (!ours) {
		snprintf(why, whysz, "issuer is another CA");
		return 0;
	}
	for (size_t k = 0; k < iv.nparams; k++) {
		const struct val_caa_param *p = &iv.params[k];

		if (eq_ci(p->tag, p->tag_len, "accounturi")) {
			if (acct != NULL) {
				snprintf(why, whysz, "duplicate accounturi");
				return 0;
			}
			acct = p;
		} else if (eq_ci(p->tag, p->tag_len, "validationmethods")) {
			if (meth != NULL) {
				snprintf(why, whysz,
				    "duplicate validationmethods");
				return 0;
			}
			meth = p;
		}
		/* Other parameters are not understood and ignored. */
	}
	/* RFC 8657 §3: the account URI must match exactly. */
	if (acct != NULL && (account_uri == NULL ||
	    strlen(account_uri) != acct->value_len ||
	    memcmp(account_uri, acct->value, acct->value_len) != 0)) {
		snprintf(why, whysz, "accounturi does not match%s",
		    account_uri == NULL ? " (no ACME account)" : "");
		return 0;
	}
	/* RFC 8657 §4: the method used must be listed. */
	if (meth != NULL && (method == NULL ||
	    val_caa_methods_contain(meth->value, meth->value_len, method) !=
	    1)) {
		snprintf(why, whysz, "validationmethods does not list %s",
		    method != NULL ? method : "the method used");
		return 0;
	}
	return 1;
}

int
val_caa_decide(const uint8_t *const *rdata, const size_t *len, size_t n,
    const char *const *ids, int is_wildcard, const char *account_uri,
    const char *method, char *why, size_t whysz)
{
	struct val_caa_rr rr;
	size_t nissue = 0, nwild = 0;
	const char *use;
	char last[128] = "";

	if (n == 0) {
		snprintf(why, whysz, "no CAA records");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (val_caa_rr_parse(rdata[i], len[i], &rr) != 0) {
			snprintf(why, whysz, "CAA record %zu is malformed",
			    i + 1);
			return 0;
		}
		if (eq_ci(rr.tag, rr.tag_len, "issue")) {
			nissue++;
		} else if (eq_ci(rr.tag, rr.tag_len, "issuewild")) {
			nwild++;
		} else if (!eq_ci(rr.tag, rr.tag_len, "iodef") &&
		    (rr.flags & (CAA_FLAG_CRITICAL |
		    CAA_FLAG_CRITICAL_ALIAS))) {
			/*
			 * RFC 8659 §4.1: an unknown property with the critical
			 * flag forbids issuance. Many zones set flag 1 meaning
			 * 128; like Boulder, either bit counts as critical.
			 */
			snprintf(why, whysz, "unknown critical CAA property "
			    "'%s' (flags %u)", rr.tag, rr.flags);
			return 0;
		}
	}
	/* RFC 8659 §4.3: for a wildcard, issuewild takes precedence. */
	use = is_wildcard && nwild > 0 ? "issuewild" : "issue";
	if ((is_wildcard && nwild > 0 ? nwild : nissue) == 0) {
		snprintf(why, whysz, "no %s property in the relevant CAA "
		    "RRset", is_wildcard ? "issue or issuewild" : "issue");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		char reason[96];

		val_caa_rr_parse(rdata[i], len[i], &rr);
		if (!eq_ci(rr.tag, rr.tag_len, use))
			continue;
		reason[0] = '\0';
		if (authorizes(&rr, ids, account_uri, method, reason,
		    sizeof(reason))) {
			char v[160];

			val_quote(v, sizeof(v), rr.value, rr.value_len, 120);
			snprintf(why, whysz, "authorized by %s '%s'", use, v);
			return 1;
		}
		if (strcmp(reason, "issuer is another CA") != 0 ||
		    last[0] == '\0')
			snprintf(last, sizeof(last), "%s", reason);
	}
	snprintf(why, whysz, "no %s property authorizes %s (%s)", use,
	    ids != NULL && ids[0] != NULL ? ids[0] : "this CA", last);
	return 0;
}

int
val_caa_check(struct val_ctx *ctx, const char *name, int is_wildcard,
    const char *account_uri, const char *method, struct val_result *out)
{
	struct val_run r;
	struct val_dns_q *q = NULL;
	struct rc_detail d = {{0}};
	char norm[VAL_MAX_NAME + 1], why[384];
	const char *p;
	size_t n = 0, rel;
	int wild = 0, rc = 0, ok;
	json_t *caa;

	val_run_begin(&r, ctx, out, VAL_KIND_CAA, name);
	if (ctx == NULL || name == NULL) {
		rc = val_run_fail(&r, RC_INVAL, VAL_PROB_SERVER_INTERNAL,
		    "CAA: missing argument");
		goto out;
	}
	if (val_name_normalize(name, 1, norm, &wild, &d) != 0) {
		rc = val_run_fail(&r, RC_BADNAME,
		    VAL_PROB_REJECTED_IDENTIFIER, "CAA: not a DNS name: %s",
		    d.msg);
		goto out;
	}
	is_wildcard = is_wildcard || wild;
	caa = json_object();
	json_object_set_new(caa, "wildcard", json_boolean(is_wildcard));
	json_object_set_new(caa, "account_uri", val_json_str(account_uri));
	json_object_set_new(caa, "method", val_json_str(method));
	{
		json_t *idl = json_array();

		for (size_t i = 0; ctx->caa_ids[i] != NULL; i++)
			json_array_append_new(idl, json_string(
			    ctx->caa_ids[i]));
		json_object_set_new(caa, "identities", idl);
	}
	val_run_set(&r, "caa", caa);

	/* RFC 8659 §3: the name and each parent, not the root. */
	for (p = norm; p != NULL; p = strchr(p, '.'), p = p ? p + 1 : NULL)
		n++;
	q = xcalloc(n, sizeof(*q));
	n = 0;
	for (p = norm; p != NULL; p = strchr(p, '.'), p = p ? p + 1 : NULL) {
		snprintf(q[n].qname, sizeof(q[n].qname), "%s", p);
		q[n].qtype = RR_CAA;
		(void)val_caa_cache_get(ctx, &q[n]);
		n++;
	}
	if (val_dns_resolve(ctx, q, n) != 0) {
		rc = val_run_fail(&r, 0, VAL_PROB_DNS, "CAA: DNS lookups for "
		    "%s could not be started", norm);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		val_caa_cache_put(ctx, &q[i]);
	/* The nearest non-empty RRset wins; a failure below it refuses
	 * (SERVFAIL is never a permission). Failures above it do not
	 * matter: those names are not consulted. */
	for (rel = 0; rel < n; rel++) {
		val_run_dns(&r, &q[rel]);
		if (val_dns_failed(&q[rel])) {
			val_run_dns_fail(&r, &q[rel]);
			goto out;
		}
		if (q[rel].status == VAL_DNS_DATA)
			break;
	}
	if (rel == n) {
		json_object_set_new(caa, "relevant", json_null());
		json_object_set_new(caa, "decision", json_string("permitted"));
		val_run_valid(&r, "No CAA records for %s or its parents",
		    norm);
		goto out;
	}
	{
		struct ub_result *res = q[rel].res;
		size_t nrr = 0;
		const uint8_t **rd;
		size_t *rl;

		while (res->data[nrr] != NULL)
			nrr++;
		rd = xcalloc(nrr + 1, sizeof(*rd));
		rl = xcalloc(nrr + 1, sizeof(*rl));
		for (size_t i = 0; i < nrr; i++) {
			rd[i] = (const uint8_t *)res->data[i];
			rl[i] = (size_t)res->len[i];
		}
		ok = val_caa_decide(rd, rl, nrr,
		    (const char *const *)ctx->caa_ids, is_wildcard,
		    account_uri, method, why, sizeof(why));
		free(rd);
		free(rl);
	}
	json_object_set_new(caa, "relevant", json_string(q[rel].qname));
	json_object_set_new(caa, "decision", json_string(ok ? "permitted" :
	    "forbidden"));
	json_object_set_new(caa, "reason", val_json_str(why));
	if (ok)
		val_run_valid(&r, "CAA at %s permits issuance for %s%s: %s",
		    q[rel].qname, is_wildcard ? "*." : "", norm, why);
	else
		val_run_fail(&r, 0, VAL_PROB_CAA, "CAA record for %s%s "
		    "prevents issuance (relevant RRset at %s): %s",
		    is_wildcard ? "*." : "", norm, q[rel].qname, why);
out:
	if (q != NULL)
		val_dns_q_release(q, n);
	free(q);
	return val_run_end(&r, rc);
}
