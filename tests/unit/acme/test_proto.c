/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/acme/proto.c, the pure parts of the ACME resources: the base
 * URL and the Host header (RFC 8555 §6.4), ids and serials in our URLs,
 * "kid" account URLs, RFC 9773 certIDs (with the RFC's own example), the
 * ra -> ACME problem table, RFC 7807 problem documents with subproblems,
 * RFC 3339 times and the JWS Content-Type. Every parser gets hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "acme/acme_int.h"
#include "util/rc.h"

static void
test_base_parse(void **state)
{
	static const char *const good[][2] = {
		{"https://127.0.0.1:8443", "127.0.0.1:8443"},
		{"https://CA.Example", "ca.example"},
		{"https://ca.example:443", "ca.example"},
		{"https://[::1]:8443", "[::1]:8443"},
		{"https://[2001:DB8::1]", "[2001:db8::1]"},
		{"https://localhost:1", "localhost:1"},
		{"https://a.b:65535", "a.b:65535"},
	};
	static const char *const bad[] = {
		"http://127.0.0.1:8443", "https://", "https://ca.example/",
		"https://ca.example/acme", "https://user@ca.example",
		"https://ca.example:0", "https://ca.example:65536",
		"https://ca.example:08443", "https://ca.example:",
		"https://:80", "https://ca example", "https://ca.example?x",
		"https://ca.exa#m",
		"https://[::1", "https://[]:80", "https://[::1]x", "HTTPS://x",
		"https://ca.example:8443:1", "https://ca_example", "",
		"https://[::g]:1", "https://ca.example:123456",
	};
	char auth[ACME_MAX_BASE], longurl[400];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(acme_base_parse(good[i][0], auth), 0);
		assert_string_equal(auth, good[i][1]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(acme_base_parse(bad[i], auth), RC_INVAL);
	assert_int_equal(acme_base_parse(NULL, auth), RC_INVAL);
	memset(longurl, 'a', sizeof(longurl) - 1);
	longurl[sizeof(longurl) - 1] = '\0';
	memcpy(longurl, "https://", 8);
	assert_int_equal(acme_base_parse(longurl, auth), RC_INVAL);
}

static void
test_host_matches(void **state)
{
	assert_true(acme_host_matches("127.0.0.1:8443", "127.0.0.1:8443"));
	assert_false(acme_host_matches("127.0.0.1:8443", "127.0.0.1"));
	assert_false(acme_host_matches("127.0.0.1:8443", "127.0.0.1:8444"));
	assert_false(acme_host_matches("127.0.0.1:8443", "localhost:8443"));
	assert_true(acme_host_matches("ca.example", "CA.EXAMPLE"));
	assert_true(acme_host_matches("ca.example", "ca.example:443"));
	assert_false(acme_host_matches("ca.example", "ca.example:80"));
	assert_true(acme_host_matches("[::1]:8443", "[::1]:8443"));
	assert_false(acme_host_matches("[::1]:8443", "::1:8443"));
	/* hostile Host headers */
	assert_false(acme_host_matches("ca.example", ""));
	assert_false(acme_host_matches("ca.example", "ca.example/x"));
	assert_false(acme_host_matches("ca.example", "ca.example:"));
	assert_false(acme_host_matches("ca.example", "ca.example:+443"));
	assert_false(acme_host_matches("ca.example", "ca.example\r\nX: y"));
	assert_false(acme_host_matches("ca.example", "evil@ca.example"));
	assert_false(acme_host_matches("ca.example", NULL));
	assert_false(acme_host_matches(NULL, "ca.example"));
}

static void
test_id_parse(void **state)
{
	static const char *const bad[] = {
		"0", "01", "-1", "+1", "9223372036854775808", "", "1a", " 1",
		"1 ", "99999999999999999999", "0x10", "1.0", "\xd9\xa1",
	};
	int64_t id = 0;

	assert_int_equal(acme_id_parse("1", 1, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(acme_id_parse("9223372036854775807", 19, &id), 0);
	assert_true(id == INT64_MAX);
	assert_int_equal(acme_id_parse("42/finalize", 2, &id), 0);
	assert_int_equal(id, 42);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(acme_id_parse(bad[i], strlen(bad[i]), &id),
		    RC_INVAL);
	assert_int_equal(acme_id_parse(NULL, 0, &id), RC_INVAL);
}

static void
test_kid_parse(void **state)
{
	const char *p = "https://ca.example:8443/acme/acct/";
	int64_t id = 0;

	assert_int_equal(acme_kid_parse(p,
	    "https://ca.example:8443/acme/acct/7", &id), 0);
	assert_int_equal(id, 7);
	assert_int_equal(acme_kid_parse(p,
	    "https://ca.example:8443/acme/acct/", &id), RC_INVAL);
	assert_int_equal(acme_kid_parse(p,
	    "https://ca.example:8443/acme/acct/7/orders", &id), RC_INVAL);
	assert_int_equal(acme_kid_parse(p,
	    "https://evil.example:8443/acme/acct/7", &id), RC_INVAL);
	assert_int_equal(acme_kid_parse(p,
	    "http://ca.example:8443/acme/acct/7", &id), RC_INVAL);
	assert_int_equal(acme_kid_parse(p, "7", &id), RC_INVAL);
	assert_int_equal(acme_kid_parse(p,
	    "https://ca.example:8443/acme/acct/07", &id), RC_INVAL);
	assert_int_equal(acme_kid_parse(p, NULL, &id), RC_INVAL);
}

static void
test_serial_ok(void **state)
{
	assert_true(acme_serial_ok("01"));
	assert_true(acme_serial_ok("7f0102"));
	assert_true(acme_serial_ok("0080"));	/* 00 needed before 0x80 */
	assert_true(acme_serial_ok("1234567890abcdef1234567890abcdef12345678"));
	assert_false(acme_serial_ok(""));
	assert_false(acme_serial_ok("1"));	/* odd */
	assert_false(acme_serial_ok("0001"));	/* not minimal */
	assert_false(acme_serial_ok("AB"));	/* upper case */
	assert_false(acme_serial_ok("zz"));
	assert_false(acme_serial_ok("ab/"));
	assert_false(acme_serial_ok("../.."));
	assert_false(acme_serial_ok(
	    "1234567890abcdef1234567890abcdef1234567890"));	/* 21 bytes */
	assert_false(acme_serial_ok(NULL));
}

/* RFC 9773 §4.1 example */
static void
test_certid_rfc9773(void **state)
{
	static const uint8_t aki_want[] = {0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46,
	    0x40, 0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE,
	    0x01, 0xC8, 0xD4};
	static const uint8_t serial_want[] = {0x00, 0x87, 0x65, 0x43, 0x21};
	uint8_t aki[64], serial[20];
	size_t al = 0, sl = 0;

	assert_int_equal(acme_certid_parse(
	    "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", aki, &al, serial, &sl), 0);
	assert_int_equal(al, sizeof(aki_want));
	assert_memory_equal(aki, aki_want, al);
	assert_int_equal(sl, sizeof(serial_want));
	assert_memory_equal(serial, serial_want, sl);
}

static void
test_certid_bad(void **state)
{
	static const char *const bad[] = {
		"", ".", "aYhba4dGQEHhs3uEe6CuLN4ByNQ",
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.",
		".AIdlQyE",
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE.AA",
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ=.AIdlQyE",	/* padding */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE=",
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdl+yE",	/* std alphabet */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.gA",	/* 0x80: negative */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AAE",	/* 00 01: not minimal */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AA",	/* zero */
		/* 21 serial bytes */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AQEBAQEBAQEBAQEBAQEBAQEBAQEB",
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.A",	/* 1 mod 4 */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyF",	/* non-zero tail bits */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ AIdlQyE",
		"../../etc/passwd",
	};
	uint8_t aki[64], serial[20];
	size_t al, sl;
	char big[600];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(acme_certid_parse(bad[i], aki, &al, serial,
		    &sl), RC_INVAL);
	assert_int_equal(acme_certid_parse(NULL, aki, &al, serial, &sl),
	    RC_INVAL);
	/* an AKI of more than 64 bytes */
	memset(big, 'A', 100);
	memcpy(big + 100, ".AQ", 4);
	assert_int_equal(acme_certid_parse(big, aki, &al, serial, &sl),
	    RC_INVAL);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[10] = '.';
	assert_int_equal(acme_certid_parse(big, aki, &al, serial, &sl),
	    RC_INVAL);
}

/* the ra's problems are the ACME problems one for one */
static void
test_prob_table(void **state)
{
	for (int p = RA_PROB_NONE + 1; p < RA_PROB_MAX_; p++)
		assert_int_equal(acme_prob_from_ra((enum ra_prob)p), p);
	assert_int_equal(RA_PROB_MAX_, ACME_PROB_MAX_);
	assert_int_equal(acme_prob_from_ra(RA_PROB_NONE),
	    ACME_PROB_SERVER_INTERNAL);
	assert_int_equal(acme_prob_from_ra((enum ra_prob)999),
	    ACME_PROB_SERVER_INTERNAL);
	assert_string_equal(acme_prob_urn(acme_prob_from_ra(RA_PROB_CAA)),
	    "urn:ietf:params:acme:error:caa");
	assert_string_equal(acme_prob_urn(acme_prob_from_ra(
	    RA_PROB_BAD_NONCE)), "urn:ietf:params:acme:error:badNonce");
	assert_string_equal(acme_prob_urn(acme_prob_from_ra(
	    RA_PROB_ORDER_NOT_READY)),
	    "urn:ietf:params:acme:error:orderNotReady");
	assert_string_equal(acme_prob_urn(acme_prob_from_ra(
	    RA_PROB_USER_ACTION_REQUIRED)),
	    "urn:ietf:params:acme:error:userActionRequired");
}

static void
test_prob_for(void **state)
{
	struct ra_err e = {0};

	assert_int_equal(acme_prob_for(RC_NOTFOUND, NULL), ACME_PROB_MALFORMED);
	assert_int_equal(acme_prob_for(RC_UNAUTH, NULL),
	    ACME_PROB_UNAUTHORIZED);
	assert_int_equal(acme_prob_for(RC_BADNAME, &e),
	    ACME_PROB_REJECTED_IDENTIFIER);
	assert_int_equal(acme_prob_for(RC_BADCSR, &e), ACME_PROB_BAD_CSR);
	assert_int_equal(acme_prob_for(RC_WEAKKEY, &e),
	    ACME_PROB_BAD_PUBLIC_KEY);
	assert_int_equal(acme_prob_for(RC_DB, &e), ACME_PROB_SERVER_INTERNAL);
	assert_int_equal(acme_prob_for(RC_SIGNER, NULL),
	    ACME_PROB_SERVER_INTERNAL);
	/* the ra's own answer wins */
	e.problem = RA_PROB_CAA;
	assert_int_equal(acme_prob_for(RC_POLICY, &e), ACME_PROB_CAA);
	e.problem = RA_PROB_ORDER_NOT_READY;
	assert_int_equal(acme_prob_for(RC_STATE, &e),
	    ACME_PROB_ORDER_NOT_READY);
}

static void
test_problem_json(void **state)
{
	struct ra_err e = {0};
	json_t *o, *subs, *s0;

	o = acme_problem_json(ACME_PROB_MALFORMED, 0, "bad \x01thing\xff",
	    NULL);
	assert_string_equal(json_string_value(json_object_get(o, "type")),
	    "urn:ietf:params:acme:error:malformed");
	assert_int_equal(json_integer_value(json_object_get(o, "status")),
	    400);
	assert_string_equal(json_string_value(json_object_get(o, "detail")),
	    "bad ?thing?");
	assert_null(json_object_get(o, "subproblems"));
	json_decref(o);

	o = acme_problem_json(ACME_PROB_UNAUTHORIZED, 0, NULL, NULL);
	assert_int_equal(json_integer_value(json_object_get(o, "status")),
	    403);
	assert_null(json_object_get(o, "detail"));
	json_decref(o);

	o = acme_problem_json(ACME_PROB_MALFORMED, 415, "", NULL);
	assert_int_equal(json_integer_value(json_object_get(o, "status")),
	    415);
	json_decref(o);

	e.problem = RA_PROB_REJECTED_IDENTIFIER;
	e.nsub = 2;
	e.nsub_total = 2;
	e.sub[0].problem = RA_PROB_REJECTED_IDENTIFIER;
	strcpy(e.sub[0].type, "dns");
	strcpy(e.sub[0].value, "bad..example");
	strcpy(e.sub[0].detail, "empty label");
	e.sub[1].problem = RA_PROB_CAA;
	strcpy(e.sub[1].value, "caa.example");
	o = acme_problem_json(ACME_PROB_REJECTED_IDENTIFIER, 0, "2 names",
	    &e);
	subs = json_object_get(o, "subproblems");
	assert_int_equal(json_array_size(subs), 2);
	s0 = json_array_get(subs, 0);
	assert_string_equal(json_string_value(json_object_get(s0, "type")),
	    "urn:ietf:params:acme:error:rejectedIdentifier");
	assert_string_equal(json_string_value(json_object_get(s0, "detail")),
	    "empty label");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(s0, "identifier"), "value")), "bad..example");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(s0, "identifier"), "type")), "dns");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(subs, 1), "type")),
	    "urn:ietf:params:acme:error:caa");
	/* no detail: no member */
	assert_null(json_object_get(json_array_get(subs, 1), "detail"));
	json_decref(o);

	/* an identifier's value goes back as sent when it is valid UTF-8
	 * without control characters (the client matches it to its
	 * request); otherwise it is made safe */
	e.nsub = 3;
	strcpy(e.sub[0].value, "b\xc3\xbc" "cher.example");
	strcpy(e.sub[1].value, "a\x01" "b.example");
	strcpy(e.sub[2].value, "cut\xc3");	/* a sequence cut short */
	o = acme_problem_json(ACME_PROB_REJECTED_IDENTIFIER, 0, "x", &e);
	subs = json_object_get(o, "subproblems");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(subs, 0), "identifier"), "value")),
	    "b\xc3\xbc" "cher.example");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(subs, 1), "identifier"), "value")), "a?b.example");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(subs, 2), "identifier"), "value")), "cut?");
	json_decref(o);

	/* a hostile count is bounded by the array */
	e.nsub = 1000;
	o = acme_problem_json(ACME_PROB_COMPOUND, 0, "x", &e);
	assert_int_equal(json_array_size(json_object_get(o, "subproblems")),
	    RA_MAX_SUBPROBLEMS);
	json_decref(o);
}

static void
test_time(void **state)
{
	char t[32];

	acme_time(0, t);
	assert_string_equal(t, "1970-01-01T00:00:00Z");
	acme_time(1700000000, t);
	assert_string_equal(t, "2023-11-14T22:13:20Z");
	acme_time(4102444800, t);
	assert_string_equal(t, "2100-01-01T00:00:00Z");
}

static void
test_is_jose(void **state)
{
	assert_true(acme_is_jose("application/jose+json"));
	assert_true(acme_is_jose("Application/JOSE+JSON"));
	assert_true(acme_is_jose("application/jose+json; charset=utf-8"));
	assert_true(acme_is_jose(" application/jose+json "));
	assert_false(acme_is_jose("application/json"));
	assert_false(acme_is_jose("application/jose+jsonx"));
	assert_false(acme_is_jose("application/jose"));
	assert_false(acme_is_jose("text/plain, application/jose+json"));
	assert_false(acme_is_jose(""));
	assert_false(acme_is_jose(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_parse),
		cmocka_unit_test(test_host_matches),
		cmocka_unit_test(test_id_parse),
		cmocka_unit_test(test_kid_parse),
		cmocka_unit_test(test_serial_ok),
		cmocka_unit_test(test_certid_rfc9773),
		cmocka_unit_test(test_certid_bad),
		cmocka_unit_test(test_prob_table),
		cmocka_unit_test(test_prob_for),
		cmocka_unit_test(test_problem_json),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_is_jose),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
