/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/validation/name.c: which DNS names validation accepts
 * (hostile ones: IP literals, underscores, empty and long labels, NUL-free
 * non-ASCII, wildcards where not allowed) and the dns-01 record value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "validation/val.h"
#include "validation/val_int.h"

static void
test_names_accepted(void **state)
{
	char out[VAL_MAX_NAME + 1];
	int w = -1;

	(void)state;
	assert_int_equal(val_name_normalize("Example.COM", 0, out, &w, NULL),
	    0);
	assert_string_equal(out, "example.com");
	assert_int_equal(w, 0);
	assert_int_equal(val_name_normalize("*.a-b.example.com", 1, out, &w,
	    NULL), 0);
	assert_string_equal(out, "a-b.example.com");
	assert_int_equal(w, 1);
	assert_int_equal(val_name_normalize("xn--bcher-kva.example", 0, out,
	    NULL, NULL), 0);
	assert_int_equal(val_name_normalize("1.2.3.example", 0, out, NULL,
	    NULL), 0);
}

static void
test_names_refused(void **state)
{
	static const char *const bad[] = {
		"", "com", "example.com.", ".example.com", "a..example.com",
		"-a.example.com", "a-.example.com", "a_b.example.com",
		"127.0.0.1", "1.2.3.4", "[::1]", "::1", "exa mple.com",
		"ex\xc3\xa4mple.com", "*.example.com", "a.*.example.com",
		"*", "*.", "example.com:80", "a/b.example.com", "x.123",
	};
	char out[VAL_MAX_NAME + 1], big[400];
	struct rc_detail d = {{0}};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = val_name_normalize(bad[i], 0, out, NULL, &d);

		if (rc != RC_BADNAME)
			fail_msg("accepted '%s'", bad[i]);
		assert_true(d.msg[0] != '\0');
	}
	/* a wildcard is still refused in the middle, twice, or bare */
	assert_int_equal(val_name_normalize("*.*.example.com", 1, out, NULL,
	    NULL), RC_BADNAME);
	assert_int_equal(val_name_normalize("*.com", 1, out, NULL, NULL),
	    RC_BADNAME);
	assert_int_equal(val_name_normalize(NULL, 1, out, NULL, NULL),
	    RC_BADNAME);
	/* 64-character label, 254-character name */
	memset(big, 'a', 64);
	strcpy(big + 64, ".example.com");
	assert_int_equal(val_name_normalize(big, 0, out, NULL, NULL),
	    RC_BADNAME);
	memmove(big + 63, big + 64, strlen(big + 64) + 1);	/* 63 a's */
	assert_int_equal(val_name_normalize(big, 0, out, NULL, NULL), 0);
	for (int i = 0; i < 127; i++) {
		big[2 * i] = 'a';
		big[2 * i + 1] = '.';
	}
	big[253] = '\0';	/* 127 labels "a." ... ends with "a" */
	big[252] = 'a';
	assert_int_equal(strlen(big), 253);
	assert_int_equal(val_name_normalize(big, 0, out, NULL, NULL), 0);
	big[253] = 'b';
	big[254] = '\0';
	assert_int_equal(val_name_normalize(big, 0, out, NULL, NULL),
	    RC_BADNAME);
	/* "*." counts in the 253 (it used not to: "*." + 253 passed) */
	memcpy(big, "*.", 2);
	for (int i = 0; i < 126; i++) {
		big[2 + 2 * i] = 'a';
		big[2 + 2 * i + 1] = '.';
	}
	strcpy(big + 2 + 250, "b");	/* 2 + 251 = 253 */
	assert_int_equal(val_name_normalize(big, 1, out, NULL, NULL), 0);
	assert_int_equal(strlen(out), 251);
	strcpy(big + 2 + 250, "bc");	/* 254 */
	assert_int_equal(val_name_normalize(big, 1, out, NULL, NULL),
	    RC_BADNAME);
	strcpy(big + 2 + 250, "b.cd");	/* 256: base alone is 253 */
	assert_int_equal(val_name_normalize(big, 1, out, NULL, NULL),
	    RC_BADNAME);
}

/* RFC 8555 §8.4 value: base64url(SHA-256(key authorization)); vectors
 * computed with `openssl dgst -sha256 -binary | base64`. */
/* RFC 4648 §10 test vectors, base64url without padding; and cut short,
 * still NUL-terminated, when out is too small */
static void
test_b64url(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"},
		{"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
		{"\xfb\xff", "-_8"},
	};
	char out[16];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		val_b64url((const uint8_t *)v[i].in, strlen(v[i].in), out,
		    sizeof(out));
		assert_string_equal(out, v[i].out);
	}
	memset(out, 'x', sizeof(out));
	val_b64url((const uint8_t *)"foobar", 6, out, 5);
	assert_string_equal(out, "Zm9v");
	val_b64url((const uint8_t *)"foobar", 6, out, 1);
	assert_string_equal(out, "");
}

static void
test_dns01_value(void **state)
{
	char v[64];

	(void)state;
	assert_int_equal(val_dns01_value("evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-"
	    "PCt92wr-oA.nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ", v,
	    sizeof(v)), 0);
	assert_string_equal(v, "NGwKoXBgCT8JhEa0bK7AwfSqHyu_ZWeugV07fLGIVq0");
	assert_int_equal(val_dns01_value("", v, sizeof(v)), 0);
	assert_string_equal(v, "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
	assert_int_equal(strlen(v), 43);
	assert_int_equal(val_dns01_value("x", v, 43), RC_INVAL);
	assert_int_equal(val_dns01_value(NULL, v, sizeof(v)), RC_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_accepted),
		cmocka_unit_test(test_names_refused),
		cmocka_unit_test(test_dns01_value),
		cmocka_unit_test(test_b64url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
