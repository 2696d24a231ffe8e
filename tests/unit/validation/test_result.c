/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/validation/result.c: problem types, DNSSEC aggregation,
 * quoting of hostile bytes, and the evidence JSON a check leaves behind
 * (always present, always valid JSON, first failure wins).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "validation/val_int.h"

static void
test_problem_types(void **state)
{
	(void)state;
	assert_null(val_problem_urn(VAL_PROB_NONE));
	assert_string_equal(val_problem_urn(VAL_PROB_DNS),
	    "urn:ietf:params:acme:error:dns");
	assert_string_equal(val_problem_urn(VAL_PROB_CONNECTION),
	    "urn:ietf:params:acme:error:connection");
	assert_string_equal(val_problem_urn(VAL_PROB_UNAUTHORIZED),
	    "urn:ietf:params:acme:error:unauthorized");
	assert_string_equal(val_problem_urn(VAL_PROB_INCORRECT_RESPONSE),
	    "urn:ietf:params:acme:error:incorrectResponse");
	assert_string_equal(val_problem_urn(VAL_PROB_TLS),
	    "urn:ietf:params:acme:error:tls");
	assert_string_equal(val_problem_urn(VAL_PROB_CAA),
	    "urn:ietf:params:acme:error:caa");
	assert_string_equal(val_problem_urn(VAL_PROB_REJECTED_IDENTIFIER),
	    "urn:ietf:params:acme:error:rejectedIdentifier");
	assert_string_equal(val_problem_urn(VAL_PROB_SERVER_INTERNAL),
	    "urn:ietf:params:acme:error:serverInternal");
	assert_string_equal(val_problem_urn((enum val_problem)99),
	    "urn:ietf:params:acme:error:serverInternal");
	assert_string_equal(val_problem_name(VAL_PROB_INCORRECT_RESPONSE),
	    "incorrectResponse");
	assert_string_equal(val_dnssec_str(VAL_DNSSEC_BOGUS), "bogus");
	assert_string_equal(val_dnssec_str(VAL_DNSSEC_NONE), "none");
	assert_string_equal(val_kind_label(VAL_KIND_TLSALPN01), "tls-alpn-01");
	assert_int_equal(val_kind_parse("dns-01"), VAL_KIND_DNS01);
	assert_int_equal(val_kind_parse("DNS-01"), 0);
	assert_null(val_kind_label((enum val_kind)0));
}

static void
test_quote(void **state)
{
	char out[32];

	(void)state;
	val_quote(out, sizeof(out), "abc", 3, 100);
	assert_string_equal(out, "abc");
	val_quote(out, sizeof(out), "a\0b\n'\\\xff", 7, 100);
	assert_string_equal(out, "a\\x00b\\x0a\\x27\\x5c\\xff");
	val_quote(out, sizeof(out), "abcdefgh", 8, 4);
	assert_string_equal(out, "abcd...");
	/* never past outsz, always terminated */
	val_quote(out, 8, "0123456789", 10, 100);
	assert_true(strlen(out) < 8);
	assert_string_equal(out, "0123...");
	val_quote(out, 4, "\x01\x02", 2, 100);
	assert_true(strlen(out) < 4);
}

static void
test_run_evidence(void **state)
{
	struct val_run r;
	struct val_result res;
	json_error_t err;
	json_t *j;

	(void)state;
	memset(&res, 0x55, sizeof(res));	/* garbage, overwritten */
	val_run_begin(&r, NULL, &res, VAL_KIND_DNS01, "bad\xff\xfename");
	val_run_dnssec(&r, VAL_DNSSEC_SECURE);
	val_run_dnssec(&r, VAL_DNSSEC_INSECURE);
	val_run_dnssec(&r, VAL_DNSSEC_SECURE);
	val_run_fail(&r, 0, VAL_PROB_DNS, "first %d", 1);
	val_run_fail(&r, 0, VAL_PROB_TLS, "second");
	val_run_valid(&r, "too late");
	assert_int_equal(val_run_end(&r, 0), 0);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	assert_string_equal(res.detail, "first 1");
	assert_int_equal(res.dnssec, VAL_DNSSEC_INSECURE);
	j = json_loads(res.evidence, 0, &err);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "kind")),
	    "dns-01");
	assert_string_equal(json_string_value(json_object_get(j, "name")),
	    "bad\\xff\\xfename");
	assert_string_equal(json_string_value(json_object_get(j, "problem")),
	    "urn:ietf:params:acme:error:dns");
	assert_string_equal(json_string_value(json_object_get(j, "outcome")),
	    "invalid");
	assert_string_equal(json_string_value(json_object_get(j, "dnssec")),
	    "insecure");
	assert_non_null(json_object_get(j, "time"));
	assert_non_null(json_object_get(j, "duration_ms"));
	json_decref(j);
	val_result_clear(&res);
	assert_null(res.evidence);
	assert_int_equal(res.outcome, VAL_INVALID);
	val_result_clear(NULL);

	/* bogus is the weakest and sticks */
	val_run_begin(&r, NULL, &res, VAL_KIND_CAA, "x.example");
	val_run_dnssec(&r, VAL_DNSSEC_BOGUS);
	val_run_dnssec(&r, VAL_DNSSEC_SECURE);
	val_run_valid(&r, "ok");
	val_run_end(&r, 0);
	assert_int_equal(res.dnssec, VAL_DNSSEC_BOGUS);
	assert_int_equal(res.outcome, VAL_VALID);
	assert_int_equal(res.problem, VAL_PROB_NONE);
	val_result_clear(&res);

	/* no verdict, or an error code: serverInternal */
	val_run_begin(&r, NULL, &res, VAL_KIND_CAA, NULL);
	assert_int_equal(val_run_end(&r, 0), 0);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_int_equal(res.problem, VAL_PROB_SERVER_INTERNAL);
	val_result_clear(&res);
	val_run_begin(&r, NULL, &res, VAL_KIND_CAA, NULL);
	val_run_valid(&r, "ok");
	assert_int_equal(val_run_end(&r, RC_ERR), RC_ERR);
	assert_int_equal(res.outcome, VAL_INVALID);	/* an error wins */
	assert_int_equal(res.problem, VAL_PROB_SERVER_INTERNAL);
	val_result_clear(&res);

	/* NULL out: still runs, nothing leaks */
	val_run_begin(&r, NULL, NULL, VAL_KIND_HTTP01, "a.example");
	val_run_fail(&r, 0, VAL_PROB_TLS, "x");
	val_run_end(&r, 0);
}

static void
test_check_dispatch_errors(void **state)
{
	struct val_result res;
	struct val_request req = {.kind = (enum val_kind)77,
		.name = "a.example"};

	(void)state;
	assert_int_equal(val_check(NULL, &req, &res), RC_INVAL);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_int_equal(res.problem, VAL_PROB_SERVER_INTERNAL);
	assert_non_null(res.evidence);
	val_result_clear(&res);
	assert_int_equal(val_check(NULL, NULL, &res), RC_INVAL);
	val_result_clear(&res);
	/* NULL ctx on a real kind */
	req.kind = VAL_KIND_DNS01;
	req.expected = "x";
	assert_int_equal(val_check(NULL, &req, &res), RC_INVAL);
	assert_int_equal(res.problem, VAL_PROB_SERVER_INTERNAL);
	val_result_clear(&res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_problem_types),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_run_evidence),
		cmocka_unit_test(test_check_dispatch_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
