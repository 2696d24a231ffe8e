/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of src/util/buf.c: bounded growth, printf, hex round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <stdio.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/rc.h"

static void
test_append_and_max(void **state)
{
	struct buf b;

	buf_init(&b, 10);
	assert_int_equal(buf_append(&b, "hello", 5), 0);
	assert_int_equal(buf_append_str(&b, "world"), 0);
	assert_int_equal(b.len, 10);
	assert_string_equal((char *)b.data, "helloworld");
	/* one byte over the maximum fails and leaves the contents alone */
	assert_int_equal(buf_append(&b, "!", 1), RC_TOOBIG);
	assert_int_equal(b.len, 10);
	assert_string_equal((char *)b.data, "helloworld");
	/* a huge length cannot wrap the bound check */
	assert_int_equal(buf_append(&b, "x", SIZE_MAX), RC_TOOBIG);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_printf(&b, "%d-%s", 42, "x"), 0);
	assert_string_equal((char *)b.data, "42-x");
	buf_free(&b);
}

static void
test_printf_long(void **state)
{
	struct buf b;
	char big[1000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, 1500);
	assert_int_equal(buf_printf(&b, "%s%s", big, "b"), 0);
	assert_int_equal(b.len, 1000);
	assert_int_equal(b.data[999], 'b');
	assert_int_equal(buf_printf(&b, "%s", big), RC_TOOBIG);
	buf_free(&b);
}

static void
test_steal(void **state)
{
	struct buf b;
	size_t len;
	uint8_t *p;

	buf_init(&b, 100);
	p = buf_steal(&b, &len);	/* empty buffer gives an empty string */
	assert_non_null(p);
	assert_int_equal(len, 0);
	free(p);
	assert_int_equal(buf_append(&b, "abc", 3), 0);
	p = buf_steal(&b, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "abc", 3);
	assert_null(b.data);
	free(p);
}

static void
test_hex(void **state)
{
	uint8_t in[] = {0x00, 0x7f, 0x80, 0xff, 0x12};
	uint8_t out[8];
	char s[11];

	hex_encode(in, sizeof(in), s);
	assert_string_equal(s, "007f80ff12");
	assert_int_equal(hex_decode("007F80fF12", out, sizeof(out)), 5);
	assert_memory_equal(in, out, 5);
	assert_int_equal(hex_decode("abc", out, sizeof(out)), RC_INVAL);
	assert_int_equal(hex_decode("zz", out, sizeof(out)), RC_INVAL);
	assert_int_equal(hex_decode("0011223344556677889900", out, 8),
	    RC_INVAL);
	assert_int_equal(hex_decode("", out, sizeof(out)), 0);
}

static void
test_read_file(void **state)
{
	struct buf b;
	char path[] = "/tmp/certdesk-test-buf-XXXXXX";
	FILE *f;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("0123456789", f);
	fclose(f);
	buf_init(&b, 5);
	assert_int_equal(buf_read_file(&b, path), RC_TOOBIG);
	buf_free(&b);
	buf_init(&b, 100);
	assert_int_equal(buf_read_file(&b, path), 0);
	assert_int_equal(b.len, 10);
	buf_free(&b);
	unlink(path);
	buf_init(&b, 100);
	assert_int_equal(buf_read_file(&b, path), RC_NOTFOUND);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_max),
		cmocka_unit_test(test_printf_long),
		cmocka_unit_test(test_steal),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_read_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
