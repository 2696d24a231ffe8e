/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of src/util/der.c: strict TLV walking over hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/der.h"
#include "util/rc.h"

/* SEQUENCE { INTEGER 5, OCTET STRING "ab" } */
static const uint8_t seq[] = {0x30, 0x07, 0x02, 0x01, 0x05, 0x04, 0x02,
	'a', 'b'};

static void
test_walk(void **state)
{
	struct der d = {seq, sizeof(seq)}, in;
	struct der_elem e, i, o;

	assert_int_equal(der_expect(&d, DER_SEQUENCE, &e), 0);
	assert_int_equal(d.len, 0);
	assert_int_equal(e.raw_len, sizeof(seq));
	in = e.body;
	assert_int_equal(der_expect(&in, DER_INTEGER, &i), 0);
	assert_int_equal(i.body.len, 1);
	assert_int_equal(i.body.p[0], 5);
	assert_int_equal(der_optional(&in, DER_NULL, &o), 0);
	assert_int_equal(der_optional(&in, DER_OCTETSTRING, &o), 1);
	assert_memory_equal(o.body.p, "ab", 2);
	assert_true(der_eq(&o, seq + 5, 4));
	assert_false(der_eq(&o, seq + 5, 3));
	assert_int_equal(der_next(&in, &o), RC_NOTFOUND);
	/* expecting the wrong tag leaves the cursor where it was */
	in = e.body;
	assert_int_equal(der_expect(&in, DER_SEQUENCE, &o), RC_INVAL);
	assert_int_equal(in.len, e.body.len);
}

static void
test_truncations(void **state)
{
	/* every proper prefix of a valid element is refused, never read past */
	for (size_t n = 1; n < sizeof(seq); n++) {
		uint8_t *p = malloc(n);	/* exact size: ASan catches overreads */
		struct der d;
		struct der_elem e;

		memcpy(p, seq, n);
		d.p = p;
		d.len = n;
		assert_int_equal(der_next(&d, &e), RC_INVAL);
		free(p);
	}
}

static void
test_hostile_lengths(void **state)
{
	static const uint8_t indefinite[] = {0x30, 0x80, 0x00, 0x00};
	static const uint8_t nonminimal[] = {0x04, 0x81, 0x05, 1, 2, 3, 4, 5};
	static const uint8_t leadzero[] = {0x04, 0x82, 0x00, 0x90};
	static const uint8_t huge[] = {0x04, 0x84, 0xff, 0xff, 0xff, 0xff, 0};
	static const uint8_t toolong[] = {0x04, 0x85, 1, 0, 0, 0, 0};
	static const uint8_t hightag[] = {0x1f, 0x81, 0x01, 0x00};
	static const uint8_t overrun[] = {0x04, 0x05, 1, 2};
	const struct {
		const uint8_t *p;
		size_t n;
	} bad[] = {
		{indefinite, sizeof(indefinite)}, {nonminimal, sizeof(nonminimal)},
		{leadzero, sizeof(leadzero)}, {huge, sizeof(huge)},
		{toolong, sizeof(toolong)}, {hightag, sizeof(hightag)},
		{overrun, sizeof(overrun)},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct der d = {bad[i].p, bad[i].n};
		struct der_elem e;

		assert_int_equal(der_next(&d, &e), RC_INVAL);
	}
}

static void
test_long_form(void **state)
{
	uint8_t *p = calloc(1, 4 + 300);
	struct der d;
	struct der_elem e;

	p[0] = DER_OCTETSTRING;
	p[1] = 0x82;
	p[2] = 0x01;
	p[3] = 0x2c;	/* 300 */
	d.p = p;
	d.len = 304;
	assert_int_equal(der_next(&d, &e), 0);
	assert_int_equal(e.body.len, 300);
	assert_int_equal(e.raw_len, 304);
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_hostile_lengths),
		cmocka_unit_test(test_long_form),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
