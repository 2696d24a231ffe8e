/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/acme/b64u.c: base64url without padding, strict decoding
 * (RFC 4648 §5 vectors, round trips, every refused spelling, and exhaustive
 * checks that each byte string has exactly one accepted encoding).
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

static const char alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
dec(const char *s, uint8_t **out, size_t *n)
{
	return acme_b64u_decode(s, strlen(s), out, n);
}

/* RFC 4648 §10 test vectors, without padding */
static void
test_rfc4648_vectors(void **state)
{
	static const char *const v[][2] = {
		{"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"},
		{"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"},
		{"foobar", "Zm9vYmFy"},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *e = acme_b64u_encode((const uint8_t *)v[i][0],
		    strlen(v[i][0]));
		uint8_t *d = NULL;
		size_t n = 99;

		assert_string_equal(e, v[i][1]);
		assert_int_equal(acme_b64u_enc_len(strlen(v[i][0])),
		    strlen(v[i][1]));
		assert_int_equal(dec(v[i][1], &d, &n), 0);
		assert_int_equal(n, strlen(v[i][0]));
		assert_memory_equal(d, v[i][0], n);
		assert_int_equal(d[n], 0);	/* NUL-terminated */
		assert_true(acme_b64u_dec_max(strlen(v[i][1])) == n);
		free(e);
		free(d);
	}
}

/* the two characters that differ from standard base64 */
static void
test_url_alphabet(void **state)
{
	static const uint8_t b[] = {0xfb, 0xff, 0xbf};
	char out[8];
	uint8_t *d = NULL;
	size_t n;

	assert_int_equal(acme_b64u_encode_to(b, 3, out), 4);
	assert_string_equal(out, "-_-_");
	assert_int_equal(dec("-_-_", &d, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(d, b, 3);
	free(d);
	assert_int_equal(dec("+/+/", &d, &n), RC_INVAL);
	assert_int_equal(dec("-_+/", &d, &n), RC_INVAL);
}

static void
test_round_trip(void **state)
{
	uint8_t b[300];

	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(b); len++) {
		char *e = acme_b64u_encode(b, len);
		uint8_t *d = NULL;
		size_t n = 0;

		assert_int_equal(strlen(e), acme_b64u_enc_len(len));
		assert_true(acme_b64u_valid(e, strlen(e)));
		assert_int_equal(dec(e, &d, &n), 0);
		assert_int_equal(n, len);
		if (len)
			assert_memory_equal(d, b, len);
		free(e);
		free(d);
	}
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"Zg==", "Zg=", "Zm9v=", "Zm8=", "=", "====",	/* padding */
		" Zg", "Zg ", "Z g", "Zg\n", "\tZm9v", "Zm9v\r\n",
		"Zm9v+A", "Zm9v/A", "Zm.v", "Zm9v!",
		"Z", "Zm9vY", "Zm9vYmFyZ",		/* 1 mod 4 */
		"Zh", "Zm9", "Zm9vYh", "Zm9vYmF",	/* trailing bits */
		"AB", "AAB",
		"\xc3\xa9\xc3\xa9",			/* UTF-8 letters */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *d = (uint8_t *)"untouched";
		uint8_t buf[16];
		size_t n = 77;

		assert_int_equal(dec(bad[i], &d, &n), RC_INVAL);
		assert_string_equal((char *)d, "untouched");
		assert_int_equal(n, 77);
		assert_false(acme_b64u_valid(bad[i], strlen(bad[i])));
		assert_int_equal(acme_b64u_decode_to(bad[i], strlen(bad[i]),
		    buf, sizeof(buf), &n), RC_INVAL);
	}
	/* an embedded NUL is not an alphabet character */
	assert_false(acme_b64u_valid("Zm\0v", 4));
}

/* every byte value in every position of a group: only the alphabet */
static void
test_every_byte(void **state)
{
	for (int pos = 0; pos < 4; pos++) {
		for (int c = 0; c < 256; c++) {
			char s[4] = {'A', 'A', 'A', 'A'};

			s[pos] = (char)c;
			assert_int_equal(acme_b64u_valid(s, 4),
			    c != 0 && strchr(alpha, c) != NULL);
		}
	}
}

/*
 * Exhaustive over all 2- and 3-character strings: a string is accepted
 * exactly when it is the encoding of what it decodes to, so each byte string
 * has one accepted spelling.
 */
static void
test_canonical_exhaustive(void **state)
{
	char s[4], e[8];
	uint8_t b[3];
	size_t n, accepted = 0;

	for (int i = 0; i < 64; i++)
		for (int j = 0; j < 64; j++) {
			s[0] = alpha[i];
			s[1] = alpha[j];
			if (acme_b64u_decode_to(s, 2, b, 3, &n) == 0) {
				assert_int_equal(n, 1);
				acme_b64u_encode_to(b, 1, e);
				assert_memory_equal(e, s, 2);
				accepted++;
			}
		}
	assert_int_equal(accepted, 256);
	accepted = 0;
	for (int i = 0; i < 64; i++)
		for (int j = 0; j < 64; j++)
			for (int k = 0; k < 64; k++) {
				s[0] = alpha[i];
				s[1] = alpha[j];
				s[2] = alpha[k];
				if (acme_b64u_decode_to(s, 3, b, 3, &n) == 0) {
					assert_int_equal(n, 2);
					acme_b64u_encode_to(b, 2, e);
					assert_memory_equal(e, s, 3);
					accepted++;
				}
			}
	assert_int_equal(accepted, 65536);
}

static void
test_decode_to_bounds(void **state)
{
	uint8_t buf[8];
	size_t n = 0;

	memset(buf, 0xee, sizeof(buf));
	/* "foobar" needs 6 bytes: 5 is too few and nothing is written */
	assert_int_equal(acme_b64u_decode_to("Zm9vYmFy", 8, buf, 5, &n),
	    RC_TOOBIG);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xee);
	assert_int_equal(acme_b64u_decode_to("Zm9vYmFy", 8, buf, 6, &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "foobar", 6);
	assert_int_equal(buf[6], 0xee);
	/* empty input: zero bytes, fine even with no room */
	assert_int_equal(acme_b64u_decode_to("", 0, buf, 0, &n), 0);
	assert_int_equal(n, 0);
	/* length is what counts, not a NUL */
	assert_int_equal(acme_b64u_decode_to("Zm9vYmFy", 4, buf, 8, &n), 0);
	assert_int_equal(n, 3);
}

static void
test_lengths(void **state)
{
	assert_int_equal(acme_b64u_enc_len(0), 0);
	assert_int_equal(acme_b64u_enc_len(1), 2);
	assert_int_equal(acme_b64u_enc_len(2), 3);
	assert_int_equal(acme_b64u_enc_len(3), 4);
	assert_int_equal(acme_b64u_enc_len(32), 43);
	assert_int_equal(acme_b64u_enc_len(64), 86);
	assert_int_equal(acme_b64u_dec_max(43), 32);
	assert_int_equal(acme_b64u_dec_max(86), 64);
	assert_int_equal(acme_b64u_dec_max(4), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_url_alphabet),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_canonical_exhaustive),
		cmocka_unit_test(test_decode_to_bounds),
		cmocka_unit_test(test_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
