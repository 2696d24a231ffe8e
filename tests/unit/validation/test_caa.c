/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/validation/caa.c: the RDATA parser and the issue-value
 * parser with hostile input (truncated, tag length 0 and over 15,
 * non-alphanumeric tags, huge values, bad parameter syntax, the whitespace
 * RFC 8659 §4.2 allows), RFC 8657 validationmethods lists, the decision on
 * an RRset, and val_caa_check() against Knot DNS (records at many levels,
 * CNAMEs, DNSSEC secure and bogus) and the hostile responder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "validation/val_int.h"

/* ---- RDATA ------------------------------------------------------------- */

/* RDATA for flags/tag/value into out; returns its length. */
static size_t
rr(uint8_t *out, uint8_t flags, const char *tag, const char *value)
{
	size_t tl = strlen(tag), vl = strlen(value);

	out[0] = flags;
	out[1] = (uint8_t)tl;
	memcpy(out + 2, tag, tl);
	memcpy(out + 2 + tl, value, vl);
	return 2 + tl + vl;
}

static void
test_rr_parse(void **state)
{
	struct val_caa_rr r;
	uint8_t b[300], *huge;
	size_t n;

	(void)state;
	n = rr(b, 0, "issue", "ca.example");
	assert_int_equal(val_caa_rr_parse(b, n, &r), 0);
	assert_int_equal(r.flags, 0);
	assert_string_equal(r.tag, "issue");
	assert_int_equal(r.value_len, 10);
	assert_memory_equal(r.value, "ca.example", 10);
	/* empty value, 15-character tag, flags kept */
	n = rr(b, 128, "abcdefghijklmno", "");
	assert_int_equal(val_caa_rr_parse(b, n, &r), 0);
	assert_int_equal(r.flags, 128);
	assert_int_equal(r.tag_len, 15);
	assert_int_equal(r.value_len, 0);
	/* truncated: nothing, flags only, tag cut */
	assert_int_equal(val_caa_rr_parse(b, 0, &r), RC_INVAL);
	assert_int_equal(val_caa_rr_parse(b, 1, &r), RC_INVAL);
	n = rr(b, 0, "issue", "");
	assert_int_equal(val_caa_rr_parse(b, n - 1, &r), RC_INVAL);
	assert_int_equal(val_caa_rr_parse(NULL, 5, &r), RC_INVAL);
	/* tag length 0, 16, 255 */
	b[0] = 0;
	b[1] = 0;
	assert_int_equal(val_caa_rr_parse(b, 10, &r), RC_INVAL);
	n = rr(b, 0, "abcdefghijklmnop", "x");
	assert_int_equal(val_caa_rr_parse(b, n, &r), RC_INVAL);
	memset(b, 'a', sizeof(b));
	b[0] = 0;
	b[1] = 255;
	assert_int_equal(val_caa_rr_parse(b, sizeof(b), &r), RC_INVAL);
	/* tags that are not letters and digits */
	n = rr(b, 0, "iss-e", "x");
	assert_int_equal(val_caa_rr_parse(b, n, &r), RC_INVAL);
	n = rr(b, 0, "is ue", "x");
	assert_int_equal(val_caa_rr_parse(b, n, &r), RC_INVAL);
	n = rr(b, 0, "issu\xc3", "x");
	assert_int_equal(val_caa_rr_parse(b, n, &r), RC_INVAL);
	n = rr(b, 0, "issue", "x");
	b[4] = '\0';
	assert_int_equal(val_caa_rr_parse(b, n, &r), RC_INVAL);
	/* a huge value parses (the value grammar is checked later) */
	huge = malloc(65000);
	assert_non_null(huge);
	memset(huge, 'v', 65000);
	huge[0] = 0;
	huge[1] = 5;
	memcpy(huge + 2, "issue", 5);
	assert_int_equal(val_caa_rr_parse(huge, 65000, &r), 0);
	assert_int_equal(r.value_len, 65000 - 7);
	free(huge);
}

static int
issue(const char *v, struct val_caa_issue *iv)
{
	return val_caa_issue_parse((const uint8_t *)v, strlen(v), iv);
}

static void
test_issue_parse_valid(void **state)
{
	static const char *const ok[] = {
		"ca.example", "", ";", " ca.example ", "\tca.example\t;\t",
		"ca.example;", "ca.example; a=b", "ca.example;a=b;c=d",
		"ca.example ; a = b ; c=d ", "; a=b", "ca.example; a=",
		"ca.example; accounturi=https://x.example/y?z=1&w=%20",
		"a-b.c--d.example", "1.2", "CA.EXAMPLE", "x", ("ca.example; "
		"a-b=c"), "ca.example;\ta\t=\tb\t", " ", "\t;\t",
	};
	struct val_caa_issue iv;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (issue(ok[i], &iv) != 0)
			fail_msg("refused '%s'", ok[i]);
	assert_int_equal(issue(" ca.example ; a = b ; c=d ", &iv), 0);
	assert_int_equal(iv.domain_len, 10);
	assert_memory_equal(iv.domain, "ca.example", 10);
	assert_int_equal(iv.nparams, 2);
	assert_int_equal(iv.params[0].tag_len, 1);
	assert_memory_equal(iv.params[0].tag, "a", 1);
	assert_int_equal(iv.params[0].value_len, 1);
	assert_memory_equal(iv.params[0].value, "b", 1);
	assert_memory_equal(iv.params[1].value, "d", 1);
	assert_int_equal(issue(";", &iv), 0);
	assert_null(iv.domain);
	assert_int_equal(issue("", &iv), 0);
	assert_null(iv.domain);
	assert_int_equal(issue("ca.example; a=", &iv), 0);
	assert_int_equal(iv.params[0].value_len, 0);
	assert_int_equal(issue("ca.example; u=https://x/?a=b", &iv), 0);
	assert_int_equal(iv.params[0].value_len, 14);
	assert_int_equal(issue("ca.example;a==", &iv), 0);	/* value "=" */
	assert_int_equal(iv.params[0].value_len, 1);
}

static void
test_issue_parse_hostile(void **state)
{
	static const char *const bad[] = {
		"ca.example; a=b;", "ca.example extra", "-ca.example",
		"ca-.example", "ca..example", ".ca.example", "ca.example.",
		"ca.example; =b", "ca.example; a", "ca.example; a b=c",
		"ca.example; a=b c", "ca.example; a=b;;c=d", "ca_example",
		"ca.example; a=\x7f", "ca.example; a=\xc3\xa4",
		"ca.example\n", "ca.example ;; ", "ca.example; -a=b",
		"ca.example; a-=b", "\xff", "ca.example;a=b\r",
		"ca.example ; ; a=b", ";;", "ca.ex\xc3\xa4mple", "ca .example",
	};
	struct val_caa_issue iv;
	char many[2000];
	size_t o;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (issue(bad[i], &iv) == 0)
			fail_msg("accepted '%s'", bad[i]);
	/* an embedded NUL */
	assert_int_equal(val_caa_issue_parse((const uint8_t *)"ca.example\0x",
	    12, &iv), RC_INVAL);
	/* 32 parameters are fine, 33 too many */
	o = (size_t)snprintf(many, sizeof(many), "ca.example");
	for (int i = 0; i < 32; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o, "%sp%d=v",
		    i ? ";" : "; ", i);
	assert_int_equal(issue(many, &iv), 0);
	assert_int_equal(iv.nparams, 32);
	snprintf(many + o, sizeof(many) - o, ";p32=v");
	assert_int_equal(issue(many, &iv), RC_TOOBIG);
}

static void
test_methods(void **state)
{
#define M(v, m) val_caa_methods_contain((v), strlen(v), (m))
	(void)state;
	assert_int_equal(M("dns-01", "dns-01"), 1);
	assert_int_equal(M("dns-01,http-01", "http-01"), 1);
	assert_int_equal(M("dns-01,http-01,tls-alpn-01", "tls-alpn-01"), 1);
	assert_int_equal(M("dns-01", "http-01"), 0);
	assert_int_equal(M("dns-01", "dns-0"), 0);
	assert_int_equal(M("dns-011", "dns-01"), 0);
	assert_int_equal(M("DNS-01", "dns-01"), 0);
	assert_int_equal(M("", "dns-01"), 0);
	assert_int_equal(M("dns-01", NULL), 0);
	assert_int_equal(M("dns-01,", "dns-01"), RC_INVAL);
	assert_int_equal(M(",dns-01", "dns-01"), RC_INVAL);
	assert_int_equal(M("dns-01,,x", "dns-01"), RC_INVAL);
	assert_int_equal(M("dns-01-", "dns-01"), RC_INVAL);
	assert_int_equal(M("dns_01", "dns-01"), RC_INVAL);
	assert_int_equal(M("dns-01;x", "dns-01"), RC_INVAL);
#undef M
}

/* ---- decisions ----------------------------------------------------------- */

static const char *const ids[] = {TL_CA_ID, "second-id.example", NULL};

/* Decides on records given as "flags tag value" lines. */
static int
decide(int wild, const char *acct, const char *method, char *why,
    size_t whysz, ...)
{
	uint8_t bufs[8][300];
	const uint8_t *rd[8];
	size_t len[8], n = 0;
	va_list ap;
	const char *line;

	va_start(ap, whysz);
	while ((line = va_arg(ap, const char *)) != NULL && n < 8) {
		unsigned flags;
		char tag[40];
		int off = 0;

		assert_int_equal(sscanf(line, "%u %39s %n", &flags, tag, &off),
		    2);
		len[n] = rr(bufs[n], (uint8_t)flags, tag, line + off);
		rd[n] = bufs[n];
		n++;
	}
	va_end(ap);
	return val_caa_decide(rd, len, n, ids, wild, acct, method, why,
	    whysz);
}

static void
test_decide(void **state)
{
	char why[256];

	(void)state;
	assert_int_equal(val_caa_decide(NULL, NULL, 0, ids, 0, NULL, NULL, why,
	    sizeof(why)), 1);
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "0 issue certdesk.example", NULL), 1);
	assert_non_null(strstr(why, "authorized by issue"));
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "0 issue second-id.example", NULL), 1);
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "0 issue otherca.example", NULL), 0);
	assert_non_null(strstr(why, "issuer is another CA"));
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "0 issue ;", NULL), 0);
	/* known tags may be critical */
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "128 issue certdesk.example", NULL), 1);
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "128 IODEF mailto:x@example.com", "0 issue certdesk.example",
	    NULL), 1);
	/* unknown critical: forbidden, whatever else is there */
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "0 issue certdesk.example", "128 future x", NULL), 0);
	assert_non_null(strstr(why, "unknown critical"));
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "129 future x", NULL), 0);
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "1 future x", NULL), 0);
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "2 future x", "0 issue certdesk.example", NULL), 1);
	/* no issue property: permitted (issuewild ignored for non-wild) */
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "0 issuewild otherca.example", "0 iodef mailto:a@b.example",
	    NULL), 1);
	assert_int_equal(decide(1, NULL, "dns-01", why, sizeof(why),
	    "0 issuewild otherca.example", NULL), 0);
	assert_int_equal(decide(1, NULL, "dns-01", why, sizeof(why),
	    "0 issue otherca.example", NULL), 0);
	assert_int_equal(decide(1, NULL, "dns-01", why, sizeof(why),
	    "0 issue otherca.example", "0 issuewild certdesk.example", NULL),
	    1);
	assert_int_equal(decide(1, NULL, "dns-01", why, sizeof(why),
	    "0 iodef mailto:a@b.example", NULL), 1);
	/* RFC 8657 */
	assert_int_equal(decide(0, TL_ACCOUNT, "dns-01", why, sizeof(why),
	    "0 issue certdesk.example; accounturi=" TL_ACCOUNT, NULL), 1);
	assert_int_equal(decide(0, TL_ACCOUNT "0", "dns-01", why, sizeof(why),
	    "0 issue certdesk.example; accounturi=" TL_ACCOUNT, NULL), 0);
	assert_non_null(strstr(why, "accounturi"));
	assert_int_equal(decide(0, "HTTPS://acme.test/acme/acct/1", "dns-01",
	    why, sizeof(why), "0 issue certdesk.example; accounturi="
	    TL_ACCOUNT, NULL), 0);
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "0 issue certdesk.example; accounturi=" TL_ACCOUNT, NULL), 0);
	assert_int_equal(decide(0, TL_ACCOUNT, "dns-01", why, sizeof(why),
	    "0 issue certdesk.example; AccountURI=" TL_ACCOUNT "x", NULL), 0);
	assert_int_equal(decide(0, NULL, "http-01", why, sizeof(why),
	    "0 issue certdesk.example; validationmethods=dns-01", NULL), 0);
	assert_non_null(strstr(why, "validationmethods"));
	assert_int_equal(decide(0, NULL, NULL, why, sizeof(why),
	    "0 issue certdesk.example; validationmethods=dns-01", NULL), 0);
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "0 issue certdesk.example; validationmethods=dns-01,", NULL), 0);
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "0 issue certdesk.example; validationmethods=dns-01; "
	    "validationmethods=dns-01", NULL), 0);
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "0 issue certdesk.example; validationmethods=http-01",
	    "0 issue certdesk.example; validationmethods=dns-01", NULL), 1);
	/* unknown parameters are ignored */
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "0 issue certdesk.example; policy=ev; x-y=1", NULL), 1);
}

static void
test_decide_malformed(void **state)
{
	uint8_t good[64], bad[8];
	const uint8_t *rd[2] = {good, bad};
	size_t len[2];
	char why[256];

	(void)state;
	len[0] = rr(good, 0, "issue", TL_CA_ID);
	bad[0] = 0;
	bad[1] = 0;	/* tag length 0 */
	bad[2] = 'x';
	len[1] = 3;
	assert_int_equal(val_caa_decide(rd, len, 2, ids, 0, NULL, "dns-01",
	    why, sizeof(why)), 0);
	assert_non_null(strstr(why, "malformed"));
	/* a malformed value only fails its own record */
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "0 issue certdesk.example; bad", "0 issue certdesk.example",
	    NULL), 1);
	assert_int_equal(decide(0, NULL, "dns-01", why, sizeof(why),
	    "0 issue certdesk.example; bad", NULL), 0);
	assert_non_null(strstr(why, "malformed"));
	/* no identities configured: any issue record forbids */
	len[0] = rr(good, 0, "issue", TL_CA_ID);
	assert_int_equal(val_caa_decide(rd, len, 1, NULL, 0, NULL, "dns-01",
	    why, sizeof(why)), 0);
}

/* ---- against knotd --------------------------------------------------- */

static struct tl_knot knot;
static int have_knot;
static struct val_ctx *kctx;

static int
setup(void **state)
{
	int rc = tl_knot_ctx(&knot, &kctx);

	(void)state;
	have_knot = rc == 0;
	return rc < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	tl_knot_ctx_close(&knot, kctx);
	return 0;
}

struct caa_case {
	const char *name;
	int wild;
	const char *acct;
	const char *method;
	int permitted;
	enum val_problem prob;	/* when not permitted */
};

static void
test_caa_knot(void **state)
{
	static const struct caa_case cases[] = {
		{"ours.caa.vtest", 0, NULL, "dns-01", 1, 0},
		{"deep.sub.ours.caa.vtest", 0, NULL, "http-01", 1, 0},
		{"x.ours.caa.vtest", 1, NULL, "dns-01", 1, 0},
		{"other.caa.vtest", 0, NULL, "dns-01", 0, VAL_PROB_CAA},
		{"a.b.other.caa.vtest", 0, NULL, "dns-01", 0, VAL_PROB_CAA},
		{"none.caa.vtest", 0, NULL, "dns-01", 0, VAL_PROB_CAA},
		{"wildonly.caa.vtest", 0, NULL, "dns-01", 1, 0},
		{"wildonly.caa.vtest", 1, NULL, "dns-01", 1, 0},
		{"wildother.caa.vtest", 0, NULL, "dns-01", 1, 0},
		{"wildother.caa.vtest", 1, NULL, "dns-01", 0, VAL_PROB_CAA},
		{"*.wildother.caa.vtest", 0, NULL, "dns-01", 0, VAL_PROB_CAA},
		{"wildsemi.caa.vtest", 0, NULL, "dns-01", 0, VAL_PROB_CAA},
		{"wildsemi.caa.vtest", 1, NULL, "dns-01", 1, 0},
		{"crit.caa.vtest", 0, NULL, "dns-01", 0, VAL_PROB_CAA},
		{"noncrit.caa.vtest", 0, NULL, "dns-01", 1, 0},
		{"critalias.caa.vtest", 0, NULL, "dns-01", 0, VAL_PROB_CAA},
		{"critiodef.caa.vtest", 0, NULL, "dns-01", 1, 0},
		{"iodefonly.caa.vtest", 0, NULL, "dns-01", 1, 0},
		{"acct.caa.vtest", 0, TL_ACCOUNT, "dns-01", 1, 0},
		{"acct.caa.vtest", 0, TL_ACCOUNT "2", "dns-01", 0,
		    VAL_PROB_CAA},
		{"acct.caa.vtest", 0, NULL, "dns-01", 0, VAL_PROB_CAA},
		{"meth.caa.vtest", 0, NULL, "dns-01", 1, 0},
		{"meth.caa.vtest", 0, NULL, "tls-alpn-01", 1, 0},
		{"meth.caa.vtest", 0, NULL, "http-01", 0, VAL_PROB_CAA},
		{"meth.caa.vtest", 0, NULL, NULL, 0, VAL_PROB_CAA},
		{"both.caa.vtest", 0, TL_ACCOUNT, "http-01", 1, 0},
		{"both.caa.vtest", 0, TL_ACCOUNT, "dns-01", 0, VAL_PROB_CAA},
		{"both.caa.vtest", 0, NULL, "http-01", 0, VAL_PROB_CAA},
		{"dupacct.caa.vtest", 0, TL_ACCOUNT, "dns-01", 0, VAL_PROB_CAA},
		{"case.caa.vtest", 0, NULL, "dns-01", 1, 0},
		{"multi.caa.vtest", 0, NULL, "dns-01", 1, 0},
		{"malformed.caa.vtest", 0, NULL, "dns-01", 0, VAL_PROB_CAA},
		{"trailing.caa.vtest", 0, NULL, "dns-01", 0, VAL_PROB_CAA},
		{"empty.caa.vtest", 0, NULL, "dns-01", 0, VAL_PROB_CAA},
		{"ws.caa.vtest", 0, TL_ACCOUNT, "dns-01", 1, 0},
		{"ws.caa.vtest", 0, NULL, "dns-01", 0, VAL_PROB_CAA},
		{"cname.caa.vtest", 0, NULL, "dns-01", 1, 0},
		{"cnameother.caa.vtest", 0, NULL, "dns-01", 0, VAL_PROB_CAA},
		{"caa.vtest", 0, NULL, "dns-01", 1, 0},
		{"nothing.vtest", 1, NULL, "dns-01", 1, 0},
		/* not served by knot: REFUSED -> SERVFAIL: refused */
		{"www.example.org", 0, NULL, "dns-01", 0, VAL_PROB_DNS},
	};
	struct val_result res;

	(void)state;
	if (!have_knot)
		skip();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct caa_case *c = &cases[i];
		int rc = val_caa_check(kctx, c->name, c->wild, c->acct,
		    c->method, &res);

		assert_int_equal(rc, 0);
		if ((res.outcome == VAL_VALID) != c->permitted ||
		    (!c->permitted && res.problem != c->prob))
			fail_msg("%s wild=%d acct=%s method=%s: %s (%s)",
			    c->name, c->wild, c->acct ? c->acct : "-",
			    c->method ? c->method : "-",
			    val_problem_name(res.problem), res.detail);
		assert_non_null(res.evidence);
		if (getenv("TL_VERBOSE") != NULL)
			printf("%-24s %-18s %s\n", c->name,
			    val_problem_name(res.problem), res.detail);
		assert_true(tl_json_has(res.evidence, "kind", "caa"));
		if (res.outcome == VAL_VALID)
			assert_int_equal(res.problem, VAL_PROB_NONE);
		val_result_clear(&res);
	}
}

/* The dns entry of the evidence j for qname (borrowed), or NULL. */
static json_t *
dns_entry(json_t *j, const char *qname)
{
	json_t *dns = json_object_get(j, "dns"), *e;
	size_t i;

	json_array_foreach(dns, i, e)
		if (strcmp(json_string_value(json_object_get(e, "qname")),
		    qname) == 0)
			return e;
	return NULL;
}

/* 1 when the evidence of res shows qname's answer as reused. */
static int
reused(const struct val_result *res, const char *qname)
{
	json_t *j = json_loads(res->evidence, 0, NULL), *e;
	int r;

	assert_non_null(j);
	e = dns_entry(j, qname);
	assert_non_null(e);
	r = json_object_get(e, "asked_at") != NULL;
	json_decref(j);
	return r;
}

/*
 * validation.caa_cache_seconds: a sibling's check reuses the parents'
 * answers (data and NODATA) and asks its own name; the decision is the
 * same as with fresh answers; failures are never reused; 0 reuses
 * nothing; more than 8 hours is refused.
 */
static void
test_caa_cache(void **state)
{
	struct val_ctx *ctx, *off;
	struct val_result res;
	struct val_conf c;

	(void)state;
	if (!have_knot)
		skip();
	tl_conf(&c, knot.resolver);
	c.trust_anchor = knot.anchor;
	c.caa_cache_s = VAL_CAA_CACHE_MAX_S + 1;
	assert_int_equal(val_ctx_open(&c, &ctx, NULL), RC_CONFIG);
	c.caa_cache_s = 60;
	assert_int_equal(val_ctx_open(&c, &ctx, NULL), 0);
	c.caa_cache_s = 0;
	assert_int_equal(val_ctx_open(&c, &off, NULL), 0);

	assert_int_equal(val_caa_check(ctx, "a.ours.caa.vtest", 0, NULL,
	    "dns-01", &res), 0);
	assert_int_equal(res.outcome, VAL_VALID);
	assert_false(reused(&res, "ours.caa.vtest"));
	val_result_clear(&res);
	/* the sibling: its own name asked, the relevant RRset reused */
	assert_int_equal(val_caa_check(ctx, "b.ours.caa.vtest", 0, NULL,
	    "dns-01", &res), 0);
	assert_int_equal(res.outcome, VAL_VALID);
	assert_false(reused(&res, "b.ours.caa.vtest"));
	assert_true(reused(&res, "ours.caa.vtest"));
	val_result_clear(&res);
	/* a reused RRset decides as a fresh one: allows, then forbids */
	assert_int_equal(val_caa_check(ctx, "x.ours.caa.vtest", 1, NULL,
	    "http-01", &res), 0);
	assert_int_equal(res.outcome, VAL_VALID);
	val_result_clear(&res);
	assert_int_equal(val_caa_check(ctx, "c.other.caa.vtest", 0, NULL,
	    "dns-01", &res), 0);
	assert_int_equal(res.problem, VAL_PROB_CAA);
	val_result_clear(&res);
	assert_int_equal(val_caa_check(ctx, "d.other.caa.vtest", 0, NULL,
	    "dns-01", &res), 0);
	assert_int_equal(res.problem, VAL_PROB_CAA);
	assert_true(reused(&res, "other.caa.vtest"));
	val_result_clear(&res);
	/* NODATA at a parent is reused too */
	assert_int_equal(val_caa_check(ctx, "nothing.vtest", 0, NULL,
	    "dns-01", &res), 0);
	val_result_clear(&res);
	assert_int_equal(val_caa_check(ctx, "nothing.vtest", 0, NULL,
	    "dns-01", &res), 0);
	assert_int_equal(res.outcome, VAL_VALID);
	assert_true(reused(&res, "vtest"));
	val_result_clear(&res);
	/* a failure (REFUSED: SERVFAIL) is asked again */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(val_caa_check(ctx, "www.example.org", 0, NULL,
		    "dns-01", &res), 0);
		assert_int_equal(res.problem, VAL_PROB_DNS);
		assert_false(reused(&res, "www.example.org"));
		val_result_clear(&res);
	}
	/* caa_cache_seconds = 0 */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(val_caa_check(off, "a.ours.caa.vtest", 0, NULL,
		    "dns-01", &res), 0);
		assert_false(reused(&res, "ours.caa.vtest"));
		val_result_clear(&res);
	}
	val_ctx_free(ctx);
	val_ctx_free(off);
}

/*
 * CAA asked ahead: an http-01 or dns-01 check takes its name's uncached
 * CAA RRsets along in its own round of lookups, into the cache that the
 * contexts share; the CAA check before issuance, on another context, asks
 * nothing and decides as with fresh answers. Nothing ahead when caching
 * is off.
 */
static void
test_caa_ahead(void **state)
{
	static const char ka[] = "tok.0123456789abcdefghijklmnopqrstuvwxyz";
	static const char txt[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
	struct val_caa_cache *shared = val_caa_cache_new();
	struct val_ctx *v, *f, *off;
	struct val_result res;
	struct val_conf c;

	(void)state;
	if (!have_knot) {
		val_caa_cache_release(shared);
		skip();
	}
	tl_conf(&c, knot.resolver);
	c.trust_anchor = knot.anchor;
	c.caa_cache_s = 60;
	c.caa_cache = shared;
	assert_int_equal(val_ctx_open(&c, &v, NULL), 0);
	assert_int_equal(val_ctx_open(&c, &f, NULL), 0);
	/* http-01: nothing listens, so it fails, after its lookups */
	(void)val_http01(v, "deep.sub.ours.caa.vtest", "tok", ka, &res);
	val_result_clear(&res);
	assert_int_equal(val_caa_check(f, "deep.sub.ours.caa.vtest", 0, NULL,
	    "http-01", &res), 0);
	assert_int_equal(res.outcome, VAL_VALID);
	assert_true(reused(&res, "deep.sub.ours.caa.vtest"));
	assert_true(reused(&res, "sub.ours.caa.vtest"));
	assert_true(reused(&res, "ours.caa.vtest"));
	val_result_clear(&res);
	/* dns-01, a name whose CAA names another CA */
	(void)val_dns01(v, "x.other.caa.vtest", txt, &res);
	val_result_clear(&res);
	assert_int_equal(val_caa_check(f, "x.other.caa.vtest", 0, NULL,
	    "dns-01", &res), 0);
	assert_int_equal(res.problem, VAL_PROB_CAA);
	assert_true(reused(&res, "x.other.caa.vtest"));
	assert_true(reused(&res, "other.caa.vtest"));
	val_result_clear(&res);
	/* caching off: nothing asked ahead, nothing reused */
	c.caa_cache_s = 0;
	c.caa_cache = NULL;
	assert_int_equal(val_ctx_open(&c, &off, NULL), 0);
	(void)val_dns01(off, "y.ours.caa.vtest", txt, &res);
	val_result_clear(&res);
	assert_int_equal(val_caa_check(off, "y.ours.caa.vtest", 0, NULL,
	    "dns-01", &res), 0);
	assert_int_equal(res.outcome, VAL_VALID);
	assert_false(reused(&res, "y.ours.caa.vtest"));
	val_result_clear(&res);
	val_ctx_free(v);
	val_ctx_free(f);
	val_ctx_free(off);
	val_caa_cache_release(shared);
}

static void
test_caa_evidence(void **state)
{
	struct val_result res;
	json_t *j, *caa, *dns, *last;

	(void)state;
	if (!have_knot)
		skip();
	assert_int_equal(val_caa_check(kctx, "deep.sub.other.caa.vtest", 0,
	    NULL, "dns-01", &res), 0);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_int_equal(res.problem, VAL_PROB_CAA);
	assert_non_null(strstr(res.detail, "CAA record for "
	    "deep.sub.other.caa.vtest prevents issuance"));
	assert_non_null(strstr(res.detail, "other.caa.vtest"));
	j = json_loads(res.evidence, 0, NULL);
	assert_non_null(j);
	caa = json_object_get(j, "caa");
	assert_string_equal(json_string_value(json_object_get(caa,
	    "relevant")), "other.caa.vtest");
	assert_string_equal(json_string_value(json_object_get(caa,
	    "decision")), "forbidden");
	dns = json_object_get(j, "dns");
	/* deep.sub.other, sub.other, other: three lookups used */
	assert_int_equal(json_array_size(dns), 3);
	last = json_array_get(dns, 2);
	assert_string_equal(json_string_value(json_object_get(last, "qtype")),
	    "CAA");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(last, "answers"), 0), "value")),
	    "otherca.example");
	assert_string_equal(json_string_value(json_object_get(j, "problem")),
	    "urn:ietf:params:acme:error:caa");
	json_decref(j);
	val_result_clear(&res);
}

static void
test_caa_dnssec(void **state)
{
	struct val_result res;

	(void)state;
	if (!have_knot)
		skip();
	assert_int_equal(val_caa_check(kctx, "www.sec.vtest", 0, NULL,
	    "dns-01", &res), 0);
	assert_int_equal(res.outcome, VAL_VALID);
	assert_int_equal(res.dnssec, VAL_DNSSEC_SECURE);
	assert_true(tl_json_has(res.evidence, "dnssec", "secure"));
	val_result_clear(&res);
	assert_int_equal(val_caa_check(kctx, "www.bog.vtest", 0, NULL,
	    "dns-01", &res), 0);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	assert_int_equal(res.dnssec, VAL_DNSSEC_BOGUS);
	assert_non_null(strstr(res.detail, "bogus"));
	val_result_clear(&res);
}

static void
test_caa_bad_input(void **state)
{
	struct val_result res;

	(void)state;
	if (!have_knot)
		skip();
	assert_int_equal(val_caa_check(kctx, "not a name", 0, NULL, NULL,
	    &res), RC_BADNAME);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_int_equal(res.problem, VAL_PROB_REJECTED_IDENTIFIER);
	val_result_clear(&res);
	assert_int_equal(val_caa_check(kctx, "127.0.0.1", 0, NULL, NULL,
	    &res), RC_BADNAME);
	assert_int_equal(res.problem, VAL_PROB_REJECTED_IDENTIFIER);
	val_result_clear(&res);
	assert_int_equal(val_caa_check(kctx, NULL, 0, NULL, NULL, &res),
	    RC_INVAL);
	assert_int_equal(res.problem, VAL_PROB_SERVER_INTERNAL);
	val_result_clear(&res);
	/* through the dispatcher */
	{
		struct val_request req = {.kind = VAL_KIND_CAA,
			.name = "ours.caa.vtest", .method = "dns-01"};

		assert_int_equal(val_check(kctx, &req, &res), 0);
		assert_int_equal(res.outcome, VAL_VALID);
		val_result_clear(&res);
	}
}

/* ---- against the hostile responder --------------------------------------- */

static void
test_caa_stub(void **state)
{
	struct tl_stub s;
	struct val_conf c;
	struct val_ctx *ctx;
	struct val_result res;

	(void)state;
	assert_int_equal(tl_stub_start(&s), 0);
	tl_conf(&c, s.resolver);
	assert_int_equal(val_ctx_open(&c, &ctx, NULL), 0);
	/* RDATA that does not parse forbids */
	assert_int_equal(val_caa_check(ctx, "badcaa.stub.vtest", 0, NULL,
	    "dns-01", &res), 0);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_int_equal(res.problem, VAL_PROB_CAA);
	assert_non_null(strstr(res.detail, "malformed"));
	assert_non_null(strstr(res.evidence, "malformed_hex"));
	val_result_clear(&res);
	/* a failure above the relevant RRset does not matter */
	assert_int_equal(val_caa_check(ctx, "caaok.servfail.stub.vtest", 0,
	    NULL, "dns-01", &res), 0);
	assert_int_equal(res.outcome, VAL_VALID);
	val_result_clear(&res);
	/* ... but below it, or with no RRset found, it refuses */
	assert_int_equal(val_caa_check(ctx, "x.servfail.stub.vtest", 0, NULL,
	    "dns-01", &res), 0);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	assert_non_null(strstr(res.detail, "SERVFAIL"));
	val_result_clear(&res);
	assert_int_equal(val_caa_check(ctx, "a.garbage.stub.vtest", 1, NULL,
	    "dns-01", &res), 0);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	val_result_clear(&res);
	assert_int_equal(val_caa_check(ctx, "silent.stub.vtest", 0, NULL,
	    "dns-01", &res), 0);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	assert_non_null(strstr(res.detail, "timeout"));
	val_result_clear(&res);
	val_ctx_free(ctx);
	tl_stub_stop(&s);
}

int
main(void)
{
	const struct CMUnitTest unit[] = {
		cmocka_unit_test(test_rr_parse),
		cmocka_unit_test(test_issue_parse_valid),
		cmocka_unit_test(test_issue_parse_hostile),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_decide_malformed),
		cmocka_unit_test(test_caa_stub),
	};
	const struct CMUnitTest knot_tests[] = {
		cmocka_unit_test(test_caa_knot),
		cmocka_unit_test(test_caa_evidence),
		cmocka_unit_test(test_caa_cache),
		cmocka_unit_test(test_caa_ahead),
		cmocka_unit_test(test_caa_dnssec),
		cmocka_unit_test(test_caa_bad_input),
	};
	int fails = cmocka_run_group_tests_name("caa unit", unit, NULL, NULL);

	return fails + cmocka_run_group_tests_name("caa knot", knot_tests,
	    setup, teardown);
}
