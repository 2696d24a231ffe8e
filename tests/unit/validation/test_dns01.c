/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/validation/dns01.c (RFC 8555 §8.4) against Knot DNS: the
 * right record, a wrong one, several, split strings, CNAME chains, NXDOMAIN
 * and NODATA, wildcards, DNSSEC secure and bogus; and against the hostile
 * responder: SERVFAIL, garbage, silence, a huge TXT set.
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

struct case_ {
	const char *name;
	const char *expected;
	enum val_problem prob;	/* VAL_PROB_NONE: valid */
	const char *detail;	/* substring of the detail, or NULL */
};

static void
test_dns01_knot(void **state)
{
	static const struct case_ cases[] = {
		{"good.vtest", TL_TXT_GOOD, VAL_PROB_NONE, "Found TXT"},
		{"GOOD.vtest", TL_TXT_GOOD, VAL_PROB_NONE, NULL},
		{"*.good.vtest", TL_TXT_GOOD, VAL_PROB_NONE, NULL},
		{"several.vtest", TL_TXT_GOOD, VAL_PROB_NONE, NULL},
		{"split.vtest", TL_TXT_GOOD, VAL_PROB_NONE, NULL},
		{"cname.vtest", TL_TXT_GOOD, VAL_PROB_NONE, NULL},
		{"chain.vtest", TL_TXT_GOOD, VAL_PROB_NONE, NULL},
		{"www.sec.vtest", TL_TXT_GOOD, VAL_PROB_NONE, "DNSSEC secure"},
		{"wrong.vtest", TL_TXT_GOOD, VAL_PROB_INCORRECT_RESPONSE,
		    "Expected TXT '" TL_TXT_GOOD "' at "
		    "_acme-challenge.wrong.vtest, found '" TL_TXT_WRONG "'"},
		{"good.vtest", TL_TXT_WRONG, VAL_PROB_INCORRECT_RESPONSE,
		    NULL},
		{"good.vtest", "LoqXcYV8q5ONbJQxbmR7SC", /* a prefix */
		    VAL_PROB_INCORRECT_RESPONSE, NULL},
		{"good.vtest", TL_TXT_GOOD "x", VAL_PROB_INCORRECT_RESPONSE,
		    NULL},
		{"several.vtest", "one" "three", VAL_PROB_INCORRECT_RESPONSE,
		    "and other non-matching records"},
		{"dangling.vtest", TL_TXT_GOOD, VAL_PROB_UNAUTHORIZED,
		    "NXDOMAIN"},
		{"nodata.vtest", TL_TXT_GOOD, VAL_PROB_UNAUTHORIZED,
		    "No TXT record found at _acme-challenge.nodata.vtest "
		    "(NODATA)"},
		{"missing.vtest", TL_TXT_GOOD, VAL_PROB_UNAUTHORIZED,
		    "NXDOMAIN"},
		{"www.bog.vtest", TL_TXT_GOOD, VAL_PROB_DNS, "bogus"},
		{"www.example.org", TL_TXT_GOOD, VAL_PROB_DNS, "SERVFAIL"},
	};
	struct val_result res;

	(void)state;
	if (!have_knot)
		skip();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct case_ *c = &cases[i];

		assert_int_equal(val_dns01(kctx, c->name, c->expected, &res),
		    0);
		if (res.problem != c->prob ||
		    (res.outcome == VAL_VALID) != (c->prob == VAL_PROB_NONE) ||
		    (c->detail != NULL && strstr(res.detail, c->detail) ==
		    NULL))
			fail_msg("%s: %s: %s", c->name,
			    val_problem_name(res.problem), res.detail);
		if (getenv("TL_VERBOSE") != NULL)
			printf("%-24s %-18s %s\n", c->name,
			    val_problem_name(res.problem), res.detail);
		assert_true(tl_json_has(res.evidence, "kind", "dns-01"));
		val_result_clear(&res);
	}
}

static void
test_dns01_evidence(void **state)
{
	struct val_result res;
	json_t *j, *q;

	(void)state;
	if (!have_knot)
		skip();
	assert_int_equal(val_dns01(kctx, "chain.vtest", TL_TXT_GOOD, &res), 0);
	assert_int_equal(res.outcome, VAL_VALID);
	assert_int_equal(res.dnssec, VAL_DNSSEC_INSECURE);
	j = json_loads(res.evidence, 0, NULL);
	assert_non_null(j);
	q = json_array_get(json_object_get(j, "dns"), 0);
	assert_string_equal(json_string_value(json_object_get(q, "qname")),
	    "_acme-challenge.chain.vtest");
	assert_string_equal(json_string_value(json_object_get(q, "qtype")),
	    "TXT");
	assert_string_equal(json_string_value(json_object_get(q,
	    "canonname")), "c2.chain.vtest.");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    q, "answers"), 0)), TL_TXT_GOOD);
	assert_string_equal(json_string_value(json_object_get(j, "outcome")),
	    "valid");
	assert_true(json_is_null(json_object_get(j, "problem")));
	assert_string_equal(json_string_value(json_object_get(j,
	    "perspective")), "test");
	assert_string_equal(json_string_value(json_object_get(j, "resolver")),
	    knot.resolver);
	json_decref(j);
	val_result_clear(&res);

	/* the request form (as a remote perspective would run it) */
	{
		struct val_request req = {.kind = VAL_KIND_DNS01,
			.name = "*.good.vtest", .expected = TL_TXT_GOOD};

		assert_int_equal(val_check(kctx, &req, &res), 0);
		assert_int_equal(res.outcome, VAL_VALID);
		val_result_clear(&res);
	}
}

static void
test_dns01_bad_input(void **state)
{
	struct val_result res;
	char longname[300];

	(void)state;
	if (!have_knot)
		skip();
	assert_int_equal(val_dns01(kctx, "good.vtest", NULL, &res), RC_INVAL);
	assert_int_equal(res.problem, VAL_PROB_SERVER_INTERNAL);
	val_result_clear(&res);
	assert_int_equal(val_dns01(kctx, "good.vtest", "", &res), RC_INVAL);
	val_result_clear(&res);
	assert_int_equal(val_dns01(kctx, "under_score.vtest", TL_TXT_GOOD,
	    &res), RC_BADNAME);
	assert_int_equal(res.problem, VAL_PROB_REJECTED_IDENTIFIER);
	val_result_clear(&res);
	assert_int_equal(val_dns01(kctx, "10.0.0.1", TL_TXT_GOOD, &res),
	    RC_BADNAME);
	val_result_clear(&res);
	/* 240 characters: fine as a name, too long with _acme-challenge. */
	memset(longname, 'a', 240);
	for (int i = 50; i < 240; i += 50)
		longname[i] = '.';
	strcpy(longname + 234, ".vtest");
	assert_int_equal(val_dns01(kctx, longname, TL_TXT_GOOD, &res),
	    RC_BADNAME);
	assert_non_null(strstr(res.detail, "would exceed"));
	val_result_clear(&res);
	/* NULL out is allowed */
	assert_int_equal(val_dns01(kctx, "good.vtest", TL_TXT_GOOD, NULL), 0);
}

static void
test_dns01_stub(void **state)
{
	struct tl_stub s;
	struct val_conf c;
	struct val_ctx *ctx;
	struct val_result res;
	json_t *j, *q;
	int64_t t0;

	(void)state;
	assert_int_equal(tl_stub_start(&s), 0);
	tl_conf(&c, s.resolver);
	assert_int_equal(val_ctx_open(&c, &ctx, NULL), 0);

	assert_int_equal(val_dns01(ctx, "ok.stub.vtest", TL_TXT_GOOD, &res),
	    0);
	assert_int_equal(res.outcome, VAL_VALID);
	val_result_clear(&res);

	/* 250 records of 200 bytes over TCP: checked, none matches, the
	 * evidence keeps 32 */
	assert_int_equal(val_dns01(ctx, "hugetxt.stub.vtest", TL_TXT_GOOD,
	    &res), 0);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_int_equal(res.problem, VAL_PROB_INCORRECT_RESPONSE);
	if (strstr(res.detail, "found '00") == NULL)
		fail_msg("%s", res.detail);
	j = json_loads(res.evidence, 0, NULL);
	assert_non_null(j);
	q = json_array_get(json_object_get(j, "dns"), 0);
	assert_int_equal(json_array_size(json_object_get(q, "answers")), 32);
	assert_int_equal(json_integer_value(json_object_get(q,
	    "answers_omitted")), 218);
	json_decref(j);
	assert_true(strlen(res.evidence) < 16384);
	val_result_clear(&res);

	assert_int_equal(val_dns01(ctx, "servfail.stub.vtest", TL_TXT_GOOD,
	    &res), 0);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	assert_string_equal(res.detail, "DNS SERVFAIL for TXT "
	    "_acme-challenge.servfail.stub.vtest");
	val_result_clear(&res);

	assert_int_equal(val_dns01(ctx, "garbage.stub.vtest", TL_TXT_GOOD,
	    &res), 0);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	val_result_clear(&res);

	t0 = val_now_ms();
	assert_int_equal(val_dns01(ctx, "silent.stub.vtest", TL_TXT_GOOD,
	    &res), 0);
	assert_true(val_now_ms() - t0 < 2500);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	assert_non_null(strstr(res.detail, "DNS timeout after 1500 ms"));
	val_result_clear(&res);

	val_ctx_free(ctx);
	tl_stub_stop(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dns01_knot),
		cmocka_unit_test(test_dns01_evidence),
		cmocka_unit_test(test_dns01_bad_input),
		cmocka_unit_test(test_dns01_stub),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
