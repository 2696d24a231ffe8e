/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/util/dnsname.c, the one DNS name checker: a table of hostile
 * names run with the flag sets of its callers (CSR parsing, the pre-issuance
 * lint, validation with and without wildcards, the command line), each row
 * with the reason it must give and, when accepted, the normalised name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/dnsname.h"
#include "util/rc.h"

/* the callers' flags (src/ca/csr.c, lint.c, validation/name.c,
 * daemon/args.c, store/store_sqlite.c) */
#define STORE 0
#define CSR (DNSNAME_FOLD | DNSNAME_WILDCARD | DNSNAME_IDNA | DNSNAME_PSL)
#define LINT (DNSNAME_WILDCARD | DNSNAME_IDNA | DNSNAME_PSL)
#define VAL (DNSNAME_FOLD)
#define VALW (DNSNAME_FOLD | DNSNAME_WILDCARD)
#define CLI (DNSNAME_FOLD | DNSNAME_ULABELS | DNSNAME_IDNA | DNSNAME_ROOT_DOT)
/* zone, owner and TSIG key names (validation/ctx.c, dnsupd.c) */
#define ZONE DNSNAME_ZONE

struct row {
	const char *in;
	unsigned flags;
	enum dnsname_why why;
	const char *out;	/* when accepted */
};

static const struct row rows[] = {
	/* plain names, case */
	{"example.com", LINT, DNSNAME_OK, "example.com"},
	{"a1.b-2.example", CLI, DNSNAME_OK, "a1.b-2.example"},
	{"Example.COM", CSR, DNSNAME_OK, "example.com"},
	{"WWW.Example.COM", VAL, DNSNAME_OK, "www.example.com"},
	{"Example.com", LINT, DNSNAME_UPPERCASE, NULL},
	{"example.coM", LINT, DNSNAME_UPPERCASE, NULL},
	{"1.2.3.example", VAL, DNSNAME_OK, "1.2.3.example"},
	/* empty, empty labels, dots */
	{"", CSR, DNSNAME_EMPTY, NULL},
	{"", CLI, DNSNAME_EMPTY, NULL},
	{".", LINT, DNSNAME_TRAILING_DOT, NULL},
	{".", CLI, DNSNAME_EMPTY, NULL},
	{"..", CLI, DNSNAME_EMPTY_LABEL, NULL},
	{"a..b.com", CSR, DNSNAME_EMPTY_LABEL, NULL},
	{".example.com", VAL, DNSNAME_EMPTY_LABEL, NULL},
	{"example.com.", CSR, DNSNAME_TRAILING_DOT, NULL},
	{"example.com.", VAL, DNSNAME_TRAILING_DOT, NULL},
	{"Example.com.", CLI, DNSNAME_OK, "example.com"},
	{"example.com..", CLI, DNSNAME_EMPTY_LABEL, NULL},
	/* characters */
	{"a_b.example.com", CSR, DNSNAME_BAD_CHAR, NULL},
	{"_acme-challenge.example.com", VAL, DNSNAME_BAD_CHAR, NULL},
	{"example.com:80", VAL, DNSNAME_BAD_CHAR, NULL},
	{"a/b.example.com", VAL, DNSNAME_BAD_CHAR, NULL},
	{"a@b.example", CLI, DNSNAME_BAD_CHAR, NULL},
	{"[::1]", VAL, DNSNAME_BAD_CHAR, NULL},
	{"exa mple.com", LINT, DNSNAME_CONTROL, NULL},
	{"a\tb.example", CLI, DNSNAME_CONTROL, NULL},
	{"a\n.example", CLI, DNSNAME_CONTROL, NULL},
	{"\x01" "evil.example.com", CSR, DNSNAME_CONTROL, NULL},
	{"del\x7f.example.com", CSR, DNSNAME_CONTROL, NULL},
	/* hyphens, reserved "--" */
	{"-a.example.com", CSR, DNSNAME_HYPHEN_EDGE, NULL},
	{"a-.example.com", VAL, DNSNAME_HYPHEN_EDGE, NULL},
	{"example.com-", LINT, DNSNAME_HYPHEN_EDGE, NULL},
	{"a-b--c.example.com", CSR, DNSNAME_OK, "a-b--c.example.com"},
	{"ab--cd.example.com", CSR, DNSNAME_RESERVED_LABEL, NULL},
	{"ab--cd.example.com", CLI, DNSNAME_RESERVED_LABEL, NULL},
	/* a host name, not an IDN: validation still reaches such hosts */
	{"r1---sn-abc.example.com", VAL, DNSNAME_OK,
	    "r1---sn-abc.example.com"},
	{"r1---sn-abc.example.com", LINT, DNSNAME_RESERVED_LABEL, NULL},
	/* A-labels and U-labels */
	{"xn--bcher-kva.example", LINT, DNSNAME_OK, "xn--bcher-kva.example"},
	{"XN--BCHER-KVA.example", CSR, DNSNAME_OK, "xn--bcher-kva.example"},
	{"XN--BCHER-KVA.example", LINT, DNSNAME_UPPERCASE, NULL},
	{"xn--zz.de", CSR, DNSNAME_BAD_ALABEL, NULL},
	{"xn--9a.de", CSR, DNSNAME_BAD_ALABEL, NULL},
	{"xn--bcher-kva2.de", CSR, DNSNAME_BAD_ALABEL, NULL},
	{"xn--ls8h.example.com", LINT, DNSNAME_BAD_ALABEL, NULL},  /* emoji */
	{"xn--zz.example", CLI, DNSNAME_BAD_ALABEL, NULL},
	/* U+2260 NOT EQUAL TO: UTS 46 takes it, IDNA2008 does not (the
	 * lint's own copy used to accept it) */
	{"xn--1ch.example.com", LINT, DNSNAME_BAD_ALABEL, NULL},
	{"xn--ab-miv.example.com", CSR, DNSNAME_BAD_ALABEL, NULL},
	{"\xe2\x89\xa0.example", CLI, DNSNAME_BAD_ALABEL, NULL},
	{"xn--.de", CSR, DNSNAME_HYPHEN_EDGE, NULL},
	{"xn--abc-.example.com", CSR, DNSNAME_HYPHEN_EDGE, NULL},
	{"b\xc3\xbc" "cher.example", CSR, DNSNAME_NOT_ASCII, NULL},
	{"b\xc3\xbc" "cher.example", VAL, DNSNAME_NOT_ASCII, NULL},
	{"b\xc3\xbc" "cher.example", CLI, DNSNAME_OK,
	    "xn--bcher-kva.example"},
	{"B\xc3\x9c" "CHER.Example.", CLI, DNSNAME_OK,
	    "xn--bcher-kva.example"},
	{"\xf0\x9f\x92\xa9.example", CLI, DNSNAME_BAD_ULABEL, NULL},
	{"\xff\xfe.example", CLI, DNSNAME_BAD_ULABEL, NULL},
	{"\xc3.example", CLI, DNSNAME_BAD_ULABEL, NULL},
	{"b\xc3\xbc" "cher_x.example", CLI, DNSNAME_BAD_CHAR, NULL},
	{"b\xc3\xbc" "cher.*.example", CLI, DNSNAME_WILDCARD_POSITION, NULL},
	/* wildcards */
	{"*.example.com", CSR, DNSNAME_OK, "*.example.com"},
	{"*.Example.com", VALW, DNSNAME_OK, "*.example.com"},
	{"*.example.com", VAL, DNSNAME_WILDCARD_NOT_ALLOWED, NULL},
	{"*.example.com", CLI, DNSNAME_WILDCARD_NOT_ALLOWED, NULL},
	{"*", CSR, DNSNAME_WILDCARD_POSITION, NULL},
	{"*.", CSR, DNSNAME_TRAILING_DOT, NULL},
	{"**.example.com", CSR, DNSNAME_WILDCARD_POSITION, NULL},
	{"*example.com", LINT, DNSNAME_WILDCARD_POSITION, NULL},
	{"w*.example.com", LINT, DNSNAME_WILDCARD_POSITION, NULL},
	{"foo.*.example.com", CSR, DNSNAME_WILDCARD_POSITION, NULL},
	{"*.*.example.com", VALW, DNSNAME_WILDCARD_POSITION, NULL},
	{"a.*.example.com", VAL, DNSNAME_WILDCARD_POSITION, NULL},
	{"*.com", CSR, DNSNAME_PUBLIC_SUFFIX, NULL},
	{"*.com", VALW, DNSNAME_SINGLE_LABEL, NULL},
	{"*.co.uk", LINT, DNSNAME_PUBLIC_SUFFIX, NULL},
	{"*.co.uk", VALW, DNSNAME_OK, "*.co.uk"},
	{"*.github.io", CSR, DNSNAME_PUBLIC_SUFFIX, NULL},	/* private */
	{"*.test", LINT, DNSNAME_PUBLIC_SUFFIX, NULL},	/* unlisted TLD */
	{"*.example.co.uk", CSR, DNSNAME_OK, "*.example.co.uk"},
	{"*.123", CSR, DNSNAME_NUMERIC_TLD, NULL},
	/* single labels, numeric TLDs, IP literals */
	{"com", CSR, DNSNAME_SINGLE_LABEL, NULL},
	{"localhost", LINT, DNSNAME_SINGLE_LABEL, NULL},
	{"example", CLI, DNSNAME_SINGLE_LABEL, NULL},
	{"123", VAL, DNSNAME_SINGLE_LABEL, NULL},
	{"a.123", CLI, DNSNAME_NUMERIC_TLD, NULL},
	{"x.123", VAL, DNSNAME_NUMERIC_TLD, NULL},
	{"a.b.c.123", CSR, DNSNAME_NUMERIC_TLD, NULL},
	{"1.2.3.4.5", CSR, DNSNAME_NUMERIC_TLD, NULL},
	{"1.2.3.4", LINT, DNSNAME_IP_ADDRESS, NULL},
	{"192.0.2.1", CSR, DNSNAME_IP_ADDRESS, NULL},
	{"127.0.0.1", VAL, DNSNAME_IP_ADDRESS, NULL},
	{"192.168.0.1.", CLI, DNSNAME_IP_ADDRESS, NULL},
	{"::1", VAL, DNSNAME_IP_ADDRESS, NULL},
	{"2001:DB8::1", CSR, DNSNAME_IP_ADDRESS, NULL},
	{"::ffff:192.0.2.1", CSR, DNSNAME_IP_ADDRESS, NULL},
	{"0x7f.0.0.1", VAL, DNSNAME_NUMERIC_TLD, NULL},
	/* zone and owner names: '_', single labels, a trailing dot */
	{"_acme-challenge.Example.COM.", ZONE, DNSNAME_OK,
	    "_acme-challenge.example.com"},
	{"_acme-challenge.example.com", ZONE, DNSNAME_OK,
	    "_acme-challenge.example.com"},
	{"test", ZONE, DNSNAME_OK, "test"},
	{"Test.", ZONE, DNSNAME_OK, "test"},
	{"_x", ZONE, DNSNAME_OK, "_x"},
	{"ab--cd.example", ZONE, DNSNAME_OK, "ab--cd.example"},
	{"certdesk-key.", ZONE, DNSNAME_OK, "certdesk-key"},
	{".", ZONE, DNSNAME_EMPTY, NULL},
	{"", ZONE, DNSNAME_EMPTY, NULL},
	{"example..com", ZONE, DNSNAME_EMPTY_LABEL, NULL},
	{"example.com..", ZONE, DNSNAME_EMPTY_LABEL, NULL},
	{".example", ZONE, DNSNAME_EMPTY_LABEL, NULL},
	{"-a.example", ZONE, DNSNAME_HYPHEN_EDGE, NULL},
	{"*.example.com", ZONE, DNSNAME_WILDCARD_NOT_ALLOWED, NULL},
	{"a b.example", ZONE, DNSNAME_CONTROL, NULL},
	{"a$.example", ZONE, DNSNAME_BAD_CHAR, NULL},
	{"a/b", ZONE, DNSNAME_BAD_CHAR, NULL},
	{"b\xc3\xbc" "cher.example", ZONE, DNSNAME_NOT_ASCII, NULL},
	{"123", ZONE, DNSNAME_NUMERIC_TLD, NULL},
	{"127.0.0.1", ZONE, DNSNAME_IP_ADDRESS, NULL},
	{"*.test", VALW | DNSNAME_SINGLE, DNSNAME_SINGLE_LABEL, NULL},
	/* the store's sanity check: normalised names only */
	{"example.com", STORE, DNSNAME_OK, "example.com"},
	{"example", STORE, DNSNAME_SINGLE_LABEL, NULL},
	{"Example.com", STORE, DNSNAME_UPPERCASE, NULL},
	{"example.com.", STORE, DNSNAME_TRAILING_DOT, NULL},
	{"a_b.example", STORE, DNSNAME_BAD_CHAR, NULL},
};

static void
test_table(void **state)
{
	char out[DNSNAME_BUF];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		enum dnsname_why why = DNSNAME_WHY_MAX_, why2;
		int rc;

		memset(out, 'x', sizeof(out));
		rc = dnsname_norm(r->in, strlen(r->in), r->flags, out, &why);
		if (why != r->why || rc != (r->why == DNSNAME_OK ? 0 :
		    RC_BADNAME))
			fail_msg("row %zu '%s' flags %#x: rc %d why %d (%s), "
			    "want %d (%s)", i, r->in, r->flags, rc, (int)why,
			    dnsname_why_str(why), (int)r->why,
			    dnsname_why_str(r->why));
		if (r->out != NULL && strcmp(out, r->out) != 0)
			fail_msg("row %zu '%s': out '%s', want '%s'", i, r->in,
			    out, r->out);
		if (r->why != DNSNAME_OK)
			assert_string_equal(out, "");
		/* the checker agrees with the normaliser */
		assert_int_equal(dnsname_check(r->in, r->flags, &why2), rc);
		assert_int_equal(why2, why);
	}
}

/* Names with a NUL inside (CSR bytes), NULL, and no why pointer. */
static void
test_bytes(void **state)
{
	char out[DNSNAME_BUF];
	enum dnsname_why why;

	(void)state;
	assert_int_equal(dnsname_norm("a\0b.example.com", 15, CSR, out, &why),
	    RC_BADNAME);
	assert_int_equal(why, DNSNAME_CONTROL);
	assert_int_equal(dnsname_norm("example.com\0", 12, CSR, out, &why),
	    RC_BADNAME);
	assert_int_equal(why, DNSNAME_CONTROL);
	/* only n bytes are read */
	assert_int_equal(dnsname_norm("example.comXYZ", 11, CSR, out, NULL), 0);
	assert_string_equal(out, "example.com");
	assert_int_equal(dnsname_norm(NULL, 0, CSR, out, &why), RC_BADNAME);
	assert_int_equal(why, DNSNAME_EMPTY);
	assert_int_equal(dnsname_check(NULL, VAL, &why), RC_BADNAME);
	assert_int_equal(why, DNSNAME_EMPTY);
	assert_int_equal(dnsname_check("a..b", VAL, NULL), RC_BADNAME);
}

/* A name of len characters at p: labels of 62 letters and dots. */
static char *
name_of(char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = i % 63 == 62 ? '.' : 'a';
	if (p[len - 1] == '.')
		p[len - 1] = 'b';
	p[len] = '\0';
	return p;
}

/* 63/64-character labels, 253/254-character names, a wildcard counted in
 * the length, a trailing dot not counted, huge input. */
static void
test_limits(void **state)
{
	char in[4096], out[DNSNAME_BUF];
	enum dnsname_why why;

	(void)state;
	memset(in, 'a', 63);
	strcpy(in + 63, ".example.com");
	assert_int_equal(dnsname_check(in, LINT, &why), 0);
	memset(in, 'a', 64);
	strcpy(in + 64, ".example.com");
	assert_int_equal(dnsname_check(in, VAL, &why), RC_BADNAME);
	assert_int_equal(why, DNSNAME_LABEL_TOO_LONG);
	name_of(in, 253);
	assert_int_equal(dnsname_norm(in, 253, VAL, out, &why), 0);
	assert_string_equal(out, in);
	name_of(in, 254);
	assert_int_equal(dnsname_check(in, CSR, &why), RC_BADNAME);
	assert_int_equal(why, DNSNAME_TOO_LONG);
	/* a trailing dot is not counted where it is allowed */
	strcpy(name_of(in, 253) + 253, ".");
	assert_int_equal(dnsname_norm(in, 254, CLI, out, &why), 0);
	assert_int_equal(strlen(out), 253);
	assert_int_equal(dnsname_check(in, LINT, &why), RC_BADNAME);
	assert_int_equal(why, DNSNAME_TRAILING_DOT);
	/* "*." counts: 2 + 251 is fine, 2 + 252 is not */
	memcpy(in, "*.", 2);
	name_of(in + 2, 251);
	assert_int_equal(dnsname_norm(in, 253, VALW, out, &why), 0);
	assert_string_equal(out, in);
	name_of(in + 2, 252);
	assert_int_equal(dnsname_check(in, VALW, &why), RC_BADNAME);
	assert_int_equal(why, DNSNAME_TOO_LONG);
	/* huge input is refused without being read past the limit */
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	assert_int_equal(dnsname_check(in, CLI, &why), RC_BADNAME);
	assert_int_equal(why, DNSNAME_TOO_LONG);
	assert_int_equal(dnsname_norm(in, sizeof(in) - 1, CSR, out, &why),
	    RC_BADNAME);
	assert_int_equal(why, DNSNAME_TOO_LONG);
	/* many labels of one character */
	for (int i = 0; i < 126; i++) {
		in[2 * i] = 'a';
		in[2 * i + 1] = '.';
	}
	strcpy(in + 252, "b");
	assert_int_equal(dnsname_check(in, VAL, &why), 0);
}

static void
test_why_str(void **state)
{
	(void)state;
	for (int w = 0; w < DNSNAME_WHY_MAX_; w++) {
		const char *s = dnsname_why_str((enum dnsname_why)w);

		assert_non_null(s);
		assert_true(strlen(s) > 5);
	}
	assert_string_equal(dnsname_why_str(DNSNAME_TRAILING_DOT),
	    "ends with a dot");
	assert_non_null(dnsname_why_str(DNSNAME_WHY_MAX_));
	assert_non_null(dnsname_why_str((enum dnsname_why)-1));
}

/* The registered domain the per-domain rate limit counts under. */
static void
test_registered(void **state)
{
	(void)state;
	assert_string_equal(dnsname_registered("www.example.com"),
	    "example.com");
	assert_string_equal(dnsname_registered("example.com"), "example.com");
	assert_string_equal(dnsname_registered("*.example.com"),
	    "example.com");
	assert_string_equal(dnsname_registered("a.b.example.co.uk"),
	    "example.co.uk");
	/* an unknown TLD is a suffix of its own ("*" rule) */
	assert_string_equal(dnsname_registered("c1-5.bench.test"),
	    "bench.test");
	/* a public suffix has none: itself */
	assert_string_equal(dnsname_registered("co.uk"), "co.uk");
	assert_string_equal(dnsname_registered("com"), "com");
	/* private-section suffixes: each customer is a domain of its own */
	assert_string_equal(dnsname_registered("x.alice.github.io"),
	    "alice.github.io");
	assert_string_equal(dnsname_registered("xn--mnchen-3ya.de"),
	    "xn--mnchen-3ya.de");
	assert_true(dnsname_is_registered("example.co.uk"));
	assert_true(dnsname_is_registered("bench.test"));
	assert_false(dnsname_is_registered("www.example.co.uk"));
	assert_false(dnsname_is_registered("co.uk"));
	assert_false(dnsname_is_registered("com"));
	/* what no customer's zone can be (a hosted domain) */
	assert_true(dnsname_is_public_suffix("co.uk"));
	assert_true(dnsname_is_public_suffix("com"));
	assert_true(dnsname_is_public_suffix("github.io"));
	assert_true(dnsname_is_public_suffix("test"));
	assert_false(dnsname_is_public_suffix("example.co.uk"));
	assert_false(dnsname_is_public_suffix("www.example.co.uk"));
	assert_false(dnsname_is_public_suffix("bench.test"));
	assert_false(dnsname_is_public_suffix("alice.github.io"));
	assert_false(dnsname_is_public_suffix(""));
	assert_false(dnsname_is_public_suffix(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_why_str),
		cmocka_unit_test(test_registered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
