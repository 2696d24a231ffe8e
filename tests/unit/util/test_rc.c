/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of src/util/rc.c and sec.c: every code has text; secrets compare. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/rc.h"
#include "util/sec.h"

static void
test_texts(void **state)
{
	struct rc_detail d = {""};

	for (int rc = 0; rc > RC_LAST_; rc--)
		assert_string_not_equal(rc_str(rc), "unknown error");
	assert_string_equal(rc_str(5), "unknown error");
	assert_string_equal(rc_str(-1000), "unknown error");
	assert_string_equal(rc_detail_str(NULL, RC_NOTFOUND), "not found");
	assert_string_equal(rc_detail_str(&d, RC_NOTFOUND), "not found");
	rc_detail_set(&d, "csr: %s", "bad");
	assert_string_equal(rc_detail_str(&d, RC_NOTFOUND), "csr: bad");
	rc_detail_set(NULL, "ignored");
}

static void
test_sec(void **state)
{
	struct sec *s = sec_dup("abc", 3);
	uint8_t r1[16], r2[16];

	assert_true(sec_equal(s->data, "abc", 3));
	assert_false(sec_equal(s->data, "abd", 3));
	sec_free(s);
	sec_free(NULL);
	assert_int_equal(sec_random(r1, sizeof(r1)), 0);
	assert_int_equal(sec_random(r2, sizeof(r2)), 0);
	assert_memory_not_equal(r1, r2, sizeof(r1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_texts),
		cmocka_unit_test(test_sec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
