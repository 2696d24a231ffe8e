/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/portal/form.c: the x-www-form-urlencoded parser, with good
 * forms and hostile ones (bad escapes, NUL, control characters, bad
 * UTF-8, duplicates, too many or too long fields, huge bodies).
 */
#include "portal/portal_int.h"
#include "util/rc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int
parse(const char *s, struct portal_form **f)
{
	return portal_form_parse((const uint8_t *)s, strlen(s), f);
}

static void
test_good(void **state)
{
	struct portal_form *f = NULL;

	(void)state;
	assert_int_equal(parse("email=a%40b.example&password=p+w%2Bx&csrf=",
	    &f), 0);
	assert_int_equal(portal_form_count(f), 3);
	assert_string_equal(portal_form_get(f, "email"), "a@b.example");
	assert_string_equal(portal_form_get(f, "password"), "p w+x");
	assert_string_equal(portal_form_get(f, "csrf"), "");
	assert_null(portal_form_get(f, "missing"));
	portal_form_free(f);
}

static void
test_empty_pairs_and_bare_names(void **state)
{
	struct portal_form *f = NULL;

	(void)state;
	assert_int_equal(parse("&&a=1&&b&", &f), 0);
	assert_int_equal(portal_form_count(f), 2);
	assert_string_equal(portal_form_get(f, "a"), "1");
	assert_string_equal(portal_form_get(f, "b"), "");
	portal_form_free(f);
	assert_int_equal(parse("", &f), 0);
	assert_int_equal(portal_form_count(f), 0);
	portal_form_free(f);
	assert_int_equal(portal_form_parse(NULL, 0, &f), 0);
	portal_form_free(f);
}

static void
test_utf8_and_newlines(void **state)
{
	struct portal_form *f = NULL;

	(void)state;
	/* "München" and a textarea value with CR LF and TAB */
	assert_int_equal(parse("city=M%C3%BCnchen&note=a%0D%0Ab%09c", &f), 0);
	assert_string_equal(portal_form_get(f, "city"), "M\xc3\xbcnchen");
	assert_string_equal(portal_form_get(f, "note"), "a\r\nb\tc");
	portal_form_free(f);
}

static void
test_bad_escapes(void **state)
{
	static const char *const bad[] = {
		"a=%", "a=%4", "a=%zz", "a=%4g", "a=x%", "%=1", "a%2=1",
		"a=%00", "a=%01", "a=%7f", "a=%1b[31m", "n%0a=1", "n%09=1",
		"a=%C3", "a=%C3%28", "a=%C0%80", "a=%ED%A0%80",
		"a=%F5%80%80%80",
		"a=%E0%80%AF", "a=%FF",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct portal_form *f = (void *)1;

		assert_int_equal(parse(bad[i], &f), RC_INVAL);
		assert_null(f);
	}
}

static void
test_duplicates_and_empty_names(void **state)
{
	struct portal_form *f = NULL;

	(void)state;
	assert_int_equal(parse("csrf=a&csrf=b", &f), RC_INVAL);
	assert_null(f);
	/* the same name spelled two ways is still the same name */
	assert_int_equal(parse("csrf=a&%63srf=b", &f), RC_INVAL);
	assert_int_equal(parse("=x", &f), RC_INVAL);
	assert_int_equal(parse("a=1&=2", &f), RC_INVAL);
}

static void
test_bounds(void **state)
{
	struct portal_form *f = NULL;
	size_t n = PORTAL_FORM_MAX_BODY + 1;
	uint8_t *big = malloc(n);
	char name[PORTAL_FORM_MAX_NAME + 4];
	char *val, *many;
	size_t k = 0;

	(void)state;
	memset(big, 'a', n);
	assert_int_equal(portal_form_parse(big, n, &f), RC_TOOBIG);
	assert_null(f);
	free(big);

	memset(name, 'n', sizeof(name) - 3);
	memcpy(name + sizeof(name) - 3, "=1", 3);
	assert_int_equal(parse(name, &f), RC_INVAL);	/* name too long */
	name[PORTAL_FORM_MAX_NAME] = '=';
	name[PORTAL_FORM_MAX_NAME + 1] = '1';
	name[PORTAL_FORM_MAX_NAME + 2] = '\0';
	assert_int_equal(parse(name, &f), 0);		/* exactly at max */
	portal_form_free(f);

	val = malloc(PORTAL_FORM_MAX_VALUE + 4);
	memcpy(val, "v=", 2);
	memset(val + 2, 'x', PORTAL_FORM_MAX_VALUE + 1);
	val[PORTAL_FORM_MAX_VALUE + 3] = '\0';
	assert_int_equal(parse(val, &f), RC_INVAL);	/* value too long */
	val[PORTAL_FORM_MAX_VALUE + 2] = '\0';
	assert_int_equal(parse(val, &f), 0);
	assert_int_equal(strlen(portal_form_get(f, "v")),
	    PORTAL_FORM_MAX_VALUE);
	portal_form_free(f);
	free(val);

	many = malloc(16 * (PORTAL_FORM_MAX_FIELDS + 2));
	for (int i = 0; i <= PORTAL_FORM_MAX_FIELDS; i++)
		k += (size_t)sprintf(many + k, "f%d=1&", i);
	assert_int_equal(parse(many, &f), RC_TOOBIG);
	assert_null(f);
	free(many);
}

static void
test_embedded_nul_in_body(void **state)
{
	static const uint8_t body[] = {'a', '=', '1', 0, '2'};
	struct portal_form *f = NULL;

	(void)state;
	assert_int_equal(portal_form_parse(body, sizeof(body), &f), RC_INVAL);
	assert_int_equal(portal_form_parse(NULL, 3, &f), RC_INVAL);
	assert_int_equal(portal_form_parse(body, 3, NULL), RC_INVAL);
}

/* A form the server fills in itself (portal_form_add): the same bounds as
 * a posted one. */
static void
test_add(void **state)
{
	struct portal_form *f = NULL;
	char name[PORTAL_FORM_MAX_NAME + 2], big[PORTAL_FORM_MAX_VALUE + 2];

	(void)state;
	assert_int_equal(portal_form_add(&f, "domain", "shop.example"), 0);
	assert_non_null(f);
	assert_int_equal(portal_form_add(&f, "purpose", ""), 0);
	assert_string_equal(portal_form_get(f, "domain"), "shop.example");
	assert_string_equal(portal_form_get(f, "purpose"), "");
	assert_int_equal(portal_form_add(&f, "domain", "again"), RC_INVAL);
	assert_int_equal(portal_form_add(&f, "", "x"), RC_INVAL);
	/* what a posted form could not carry (a multipart form's fields
	 * come through here) */
	assert_int_equal(portal_form_add(&f, "a", "\xff\xfe"), RC_INVAL);
	assert_int_equal(portal_form_add(&f, "a", "\xc0\xaf"), RC_INVAL);
	assert_int_equal(portal_form_add(&f, "a", "\xed\xa0\x80"), RC_INVAL);
	assert_int_equal(portal_form_add(&f, "a", "bell\x07"), RC_INVAL);
	assert_int_equal(portal_form_add(&f, "a", "del\x7f"), RC_INVAL);
	assert_int_equal(portal_form_add(&f, "a\tb", "x"), RC_INVAL);
	assert_int_equal(portal_form_add(&f, "\xe9", "x"), RC_INVAL);
	assert_int_equal(portal_form_add(&f, "text", "line\r\n\tM\xc3\xbcller"),
	    0);
	assert_int_equal(portal_form_add(&f, "x", NULL), RC_INVAL);
	assert_int_equal(portal_form_add(NULL, "x", "y"), RC_INVAL);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(portal_form_add(&f, name, "y"), RC_INVAL);
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(portal_form_add(&f, "big", big), RC_TOOBIG);
	while (portal_form_count(f) < PORTAL_FORM_MAX_FIELDS) {
		char n[16];

		snprintf(n, sizeof(n), "f%zu", portal_form_count(f));
		assert_int_equal(portal_form_add(&f, n, "1"), 0);
	}
	assert_int_equal(portal_form_add(&f, "one-more", "1"), RC_TOOBIG);
	assert_int_equal(portal_form_count(f), PORTAL_FORM_MAX_FIELDS);
	portal_form_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_empty_pairs_and_bare_names),
		cmocka_unit_test(test_utf8_and_newlines),
		cmocka_unit_test(test_bad_escapes),
		cmocka_unit_test(test_duplicates_and_empty_names),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_embedded_nul_in_body),
		cmocka_unit_test(test_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
