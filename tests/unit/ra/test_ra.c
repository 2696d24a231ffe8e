/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/ra/ra.c: ra_open() arguments and the blocked-names
 * file, the naming policy (ra_name_check) with hostile names, problem names
 * and documents (URNs, subproblems, a client's bytes made safe), statuses,
 * base64url.
 */
#include "ra_test.h"

#include "util/xmalloc.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define BLOCKED                                                                \
	"# names we never issue for\n"                                         \
	"Blocked.Example\n"                                                    \
	"  bank.example.   # with a dot and spaces\n"                          \
	"\n"                                                                   \
	"secret.corp.example\n"

static int
setup(void **state)
{
	*state = rt_setup(RT_T0, BLOCKED);
	return 0;
}

static void
test_open(void **state)
{
	struct rt_env *e = *state;
	struct ra_conf c = {0};
	struct rc_detail d = {""};
	struct ra *ra = NULL;

	assert_int_equal(ra_open(NULL, e->st, NULL, NULL, &ra, &d),
	    RC_INVAL);
	assert_int_equal(ra_open(&c, e->st, NULL, NULL, &ra, &d),
	    RC_CONFIG);
	assert_null(ra);
	c.account_url_prefix = RT_URL_PREFIX;
	assert_int_equal(ra_open(&c, NULL, NULL, NULL, &ra, &d),
	    RC_INVAL);
	c.blocked_names = "/nonexistent/blocked.txt";
	assert_int_equal(ra_open(&c, e->st, NULL, NULL, &ra, &d),
	    RC_CONFIG);
	assert_non_null(strstr(d.msg, "/nonexistent/blocked.txt"));
	assert_null(ra);
	c.blocked_names = "";
	assert_int_equal(ra_open(&c, e->st, NULL, NULL, &ra, &d), 0);
	assert_true(ra_now(ra) >= RT_T0);	/* the real clock */
	ra_free(ra);
	ra_free(NULL);
	assert_int_equal(ra_now(e->ra), RT_T0);
}

static void
test_names(void **state)
{
	struct rt_env *e = *state;
	static const struct {
		const char *in, *out;	/* out NULL: refused */
		int wild;
	} v[] = {
		{"www.example.com", "www.example.com", 0},
		{"WWW.Example.COM", "www.example.com", 0},
		{"*.example.com", "*.example.com", 1},
		{"*.Example.com", "*.example.com", 1},
		{"*.example.com", NULL, 0},	/* wildcard not allowed */
		{"xn--bcher-kva.example", "xn--bcher-kva.example", 0},
		{"b\xc3\xbc" "cher.example", NULL, 0},	/* U-label */
		{"xn--zz.example", NULL, 0},		/* bad A-label */
		{"ab--c.example", NULL, 0},		/* reserved */
		{"www.example.com.", NULL, 0},		/* trailing dot */
		{"example", NULL, 0},			/* one label */
		{"localhost", NULL, 0},
		{"*.com", NULL, 1},			/* public suffix */
		{"*.co.uk", NULL, 1},
		{"*.github.io", NULL, 1},		/* private PSL */
		{"*.example.co.uk", "*.example.co.uk", 1},
		{"a.*.example.com", NULL, 1},
		{"*a.example.com", NULL, 1},
		{"**.example.com", NULL, 1},
		{"*", NULL, 1},
		{"192.0.2.1", NULL, 0},
		{"1.2.3.4", NULL, 0},
		{"[::1]", NULL, 0},
		{"::1", NULL, 0},
		{"-a.example.com", NULL, 0},
		{"a-.example.com", NULL, 0},
		{"a..example.com", NULL, 0},
		{".example.com", NULL, 0},
		{"a_b.example.com", NULL, 0},
		{"a b.example.com", NULL, 0},
		{"a\tb.example.com", NULL, 0},
		{"a\nexample.com", NULL, 0},
		{"", NULL, 0},
		{"blocked.example", NULL, 0},
		{"www.blocked.example", NULL, 0},
		{"*.blocked.example", NULL, 1},
		{"notblocked.example", "notblocked.example", 0},
		{"bank.example", NULL, 0},
		{"BANK.EXAMPLE", NULL, 0},
		{"*.corp.example", NULL, 1},	/* covers secret.corp */
		{"www.corp.example", "www.corp.example", 0},
		{"x.secret.corp.example", NULL, 0},
	};
	char out[254], big[400];
	struct ra_err err;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int rc;

		memset(&err, 0, sizeof(err));
		rc = ra_name_check(e->ra, v[i].in, v[i].wild, out, &err);
		if (v[i].out == NULL) {
			if (rc != RC_BADNAME)
				fail_msg("accepted '%s'", v[i].in);
			assert_int_equal(err.problem,
			    RA_PROB_REJECTED_IDENTIFIER);
			assert_true(err.detail.msg[0] != '\0');
			assert_string_equal(out, "");
		} else {
			if (rc != 0)
				fail_msg("refused '%s': %s", v[i].in,
				    err.detail.msg);
			assert_string_equal(out, v[i].out);
		}
	}
	assert_int_equal(ra_name_check(e->ra, NULL, 0, out, NULL),
	    RC_BADNAME);
	/* the detail says why, clearly; bytes that are not printable ASCII
	 * are not echoed */
	{
		static const struct {
			const char *in, *says;
			int wild;
		} m[] = {
			{"", "DNS name is empty", 0},
			{"www.example.com.", "\"www.example.com.\" ends with "
			    "a dot", 0},
			{"b\xc3\xbc" "cher.example", "DNS name is not ASCII: "
			    "internationalised names must be A-labels (xn--)",
			    0},
			{"a\nb.example", "DNS name contains a space or "
			    "control character", 0},
			{"*.example.com", "\"*.example.com\" is a wildcard "
			    "name, not allowed here", 0},
			{"a_b.example", "\"a_b.example\" has a character "
			    "other than letters", 1},
			{"example", "is not a fully-qualified", 0},
			{"*.com", "public suffix", 1},
			{"xn--zz.example", "A-label", 0},
		};

		for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
			memset(&err, 0, sizeof(err));
			assert_int_equal(ra_name_check(e->ra, m[i].in,
			    m[i].wild, out, &err), RC_BADNAME);
			if (strstr(err.detail.msg, m[i].says) == NULL)
				fail_msg("'%s': \"%s\"", m[i].in,
				    err.detail.msg);
		}
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		memset(&err, 0, sizeof(err));
		assert_int_equal(ra_name_check(e->ra, big, 0, out, &err),
		    RC_BADNAME);
		assert_string_equal(err.detail.msg, "DNS name is longer than "
		    "253 characters");
	}
	/* too long: a label over 63, a name over 253 */
	memset(big, 'a', sizeof(big));
	memcpy(big + 64, ".example", 9);
	assert_int_equal(ra_name_check(e->ra, big, 0, out, NULL), RC_BADNAME);
	for (size_t i = 0; i < 300; i += 2)
		big[i] = 'a', big[i + 1] = '.';
	memcpy(big + 300, "com", 4);
	assert_int_equal(ra_name_check(e->ra, big, 0, out, NULL), RC_BADNAME);
}

static void
test_blocked_file_errors(void **state)
{
	struct rt_env *e = *state;
	struct ra_conf c = e->rconf;
	struct rc_detail d = {""};
	struct ra *ra = NULL;
	char *path = xasprintf("%s/bad-blocked.txt", e->dir);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("ok.example\nnot a name\n", f);
	fclose(f);
	c.blocked_names = path;
	assert_int_equal(ra_open(&c, e->st, NULL, NULL, &ra, &d),
	    RC_CONFIG);
	assert_non_null(strstr(d.msg, ":2:"));
	assert_null(ra);
	free(path);
}

static void
test_problems(void **state)
{
	struct ra_err err = {0};
	enum ra_prob p;
	char *j, *detail;
	json_t *o;

	(void)state;
	assert_string_equal(ra_prob_name(RA_PROB_BAD_CSR), "badCSR");
	assert_string_equal(ra_prob_name(RA_PROB_ORDER_NOT_READY),
	    "orderNotReady");
	assert_string_equal(ra_prob_name(RA_PROB_USER_ACTION_REQUIRED),
	    "userActionRequired");
	assert_string_equal(ra_prob_name((enum ra_prob)999),
	    "serverInternal");
	assert_string_equal(ra_prob_name((enum ra_prob)-1), "serverInternal");
	for (int i = 1; i < RA_PROB_MAX_; i++) {
		char urn[80];

		assert_int_equal(ra_prob_parse(ra_prob_name((enum ra_prob)i)),
		    i);
		snprintf(urn, sizeof(urn), "urn:ietf:params:acme:error:%s",
		    ra_prob_name((enum ra_prob)i));
		assert_int_equal(ra_prob_parse(urn), i);
	}
	assert_int_equal(ra_prob_parse("nonsense"), RA_PROB_NONE);
	assert_int_equal(ra_prob_parse(NULL), RA_PROB_NONE);
	assert_int_equal(ra_prob_parse("none"), RA_PROB_NONE);

	/* a document with subproblems; the client's bytes made safe */
	ra_fail(&err, RC_BADNAME, RA_PROB_REJECTED_IDENTIFIER, "two bad");
	ra_sub(&err, RA_PROB_REJECTED_IDENTIFIER, "dns", "a\x01\xff.example",
	    "bad %d", 1);
	ra_sub(&err, RA_PROB_UNSUPPORTED_IDENTIFIER, "email", "x@y", "nope");
	/* valid UTF-8 stays as sent, control characters apart */
	ra_sub(&err, RA_PROB_REJECTED_IDENTIFIER, "dns",
	    "b\xc3\xbc" "cher\x7f.example", "U-label");
	assert_string_equal(err.sub[2].value, "b\xc3\xbc" "cher?.example");
	for (int i = 0; i < 9; i++)
		ra_sub(&err, RA_PROB_MALFORMED, "dns", "z", "more");
	assert_int_equal(err.nsub, RA_MAX_SUBPROBLEMS);
	assert_int_equal(err.nsub_total, 12);
	/* cut inside a UTF-8 sequence: shown as ASCII */
	{
		struct ra_err cut = {0};
		char v[300];

		memset(v, 'a', sizeof(v));
		v[254] = '\xc3';
		v[255] = '\xbc';
		v[299] = '\0';
		ra_sub(&cut, RA_PROB_REJECTED_IDENTIFIER, "dns", v, "long");
		assert_int_equal(strlen(cut.sub[0].value), 255);
		assert_int_equal(cut.sub[0].value[254], '?');
	}
	j = ra_err_json(&err);
	o = json_loads(j, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "type")),
	    "urn:ietf:params:acme:error:rejectedIdentifier");
	assert_string_equal(json_string_value(json_object_get(o, "detail")),
	    "two bad");
	assert_int_equal(json_array_size(json_object_get(o, "subproblems")),
	    RA_MAX_SUBPROBLEMS);
	{
		json_t *s0 = json_array_get(json_object_get(o, "subproblems"),
		    0);
		json_t *id = json_object_get(s0, "identifier");

		assert_string_equal(json_string_value(json_object_get(id,
		    "value")), "a??.example");
		assert_string_equal(json_string_value(json_object_get(id,
		    "type")), "dns");
		assert_string_equal(json_string_value(json_object_get(s0,
		    "detail")), "bad 1");
	}
	json_decref(o);
	ra_err_parse(j, &p, &detail);
	assert_int_equal(p, RA_PROB_REJECTED_IDENTIFIER);
	assert_string_equal(detail, "two bad");
	free(detail);
	free(j);
	ra_err_parse("not json", &p, &detail);
	assert_int_equal(p, RA_PROB_SERVER_INTERNAL);
	assert_null(detail);
	ra_err_parse("{\"type\":\"odd\"}", &p, &detail);
	assert_int_equal(p, RA_PROB_SERVER_INTERNAL);
	ra_err_parse(NULL, &p, &detail);
	assert_int_equal(p, RA_PROB_NONE);
	j = ra_err_json(NULL);
	assert_non_null(strstr(j, "serverInternal"));
	free(j);
	/* NULL err is fine everywhere */
	assert_int_equal(ra_fail(NULL, RC_INVAL, RA_PROB_MALFORMED, "x"),
	    RC_INVAL);
	ra_sub(NULL, RA_PROB_MALFORMED, "dns", "x", "y");
	/* validation problems map one to one */
	assert_int_equal(ra_prob_from_val(VAL_PROB_DNS), RA_PROB_DNS);
	assert_int_equal(ra_prob_from_val(VAL_PROB_CAA), RA_PROB_CAA);
	assert_int_equal(ra_prob_from_val(VAL_PROB_TLS), RA_PROB_TLS);
	assert_int_equal(ra_prob_from_val(VAL_PROB_INCORRECT_RESPONSE),
	    RA_PROB_INCORRECT_RESPONSE);
	assert_int_equal(ra_prob_from_val((enum val_problem)77),
	    RA_PROB_SERVER_INTERNAL);
}

static void
test_statuses_b64u(void **state)
{
	static const uint8_t in[] = {0xfb, 0xff, 0x00, 0x10, 0x83};
	char out[16];

	(void)state;
	assert_string_equal(ra_status_name(RA_ST_READY), "ready");
	assert_string_equal(ra_status_name(RA_ST_DEACTIVATED), "deactivated");
	assert_string_equal(ra_status_name((enum ra_status)55), "invalid");
	assert_int_equal(ra_status_parse("processing"), RA_ST_PROCESSING);
	assert_int_equal(ra_status_parse("nope"), -1);
	assert_int_equal(ra_status_parse(NULL), -1);
	assert_string_equal(ra_chall_type_name(RA_CHALL_TLSALPN01),
	    "tls-alpn-01");
	assert_null(ra_chall_type_name((enum ra_chall_type)9));
	ra_b64u(in, 5, out);
	assert_string_equal(out, "-_8AEIM");
	ra_b64u(in, 3, out);
	assert_string_equal(out, "-_8A");
	ra_b64u(in, 1, out);
	assert_string_equal(out, "-w");
	ra_b64u(in, 0, out);
	assert_string_equal(out, "");
	assert_true(ra_b64u_ok("-_8AEIM", 10));
	assert_false(ra_b64u_ok("-_8A=", 10));
	assert_false(ra_b64u_ok("", 10));
	assert_false(ra_b64u_ok("abcdefghijk", 10));
	assert_false(ra_b64u_ok(NULL, 10));
	assert_string_equal(ra_ident_type("www.example.com"), "dns");
	assert_string_equal(ra_ident_type("192.0.2.1"), "ip");
	assert_string_equal(ra_ident_type("2001:db8::1"), "ip");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open, setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_blocked_file_errors,
		    setup, rt_cm_teardown),
		cmocka_unit_test(test_problems),
		cmocka_unit_test(test_statuses_b64u),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
