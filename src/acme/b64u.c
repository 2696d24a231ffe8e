/* SPDX-License-Identifier: Apache-2.0 */
/*
 * base64url without padding (RFC 4648 §5, as JOSE uses it: RFC 7515 §2).
 * Decoding is strict: one accepted encoding per byte string, so that a JWS,
 * a JWK coordinate or a nonce cannot be sent in several spellings. Refused:
 * '=', whitespace, '+' and '/', any other byte, a length of 1 mod 4, and
 * non-zero unused bits in the last character.
 *
 * Runs in the main certdesk process on request threads; the input is
 * untrusted network data. No state, no allocation except in
 * acme_b64u_encode() and acme_b64u_decode().
 */
#include "acme/acme_int.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <stdint.h>
#include <stdlib.h>

static const char alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 1 + (0..63) for alphabet characters, 0 for everything else. */
static const uint8_t rev[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
	['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
	['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
	['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
	['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
	['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
	['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
	['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64,
};

size_t
acme_b64u_enc_len(size_t n)
{
	return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

size_t
acme_b64u_dec_max(size_t len)
{
	return len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
}

size_t
acme_b64u_encode_to(const uint8_t *p, size_t n, char *out)
{
	char *o = out;
	size_t i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
		    p[i + 2];

		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = alphabet[(v >> 6) & 63];
		*o++ = alphabet[v & 63];
	}
	if (n - i == 1) {
		*o++ = alphabet[p[i] >> 2];
		*o++ = alphabet[(p[i] & 3) << 4];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 8 | p[i + 1];

		*o++ = alphabet[v >> 10];
		*o++ = alphabet[(v >> 4) & 63];
		*o++ = alphabet[(v & 15) << 2];
	}
	*o = '\0';
	return (size_t)(o - out);
}

char *
acme_b64u_encode(const uint8_t *p, size_t n)
{
	char *s = xmalloc(acme_b64u_enc_len(n) + 1);

	acme_b64u_encode_to(p, n, s);
	return s;
}

/* The 6-bit value of character c, or -1. */
static inline int
val(uint8_t c)
{
	return (int)rev[c] - 1;
}

/*
 * The one decoder. out may be NULL (validation only); otherwise it has room
 * for acme_b64u_dec_max(len) bytes.
 */
static int
decode(const char *s, size_t len, uint8_t *out, size_t *outlen)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t i = 0, o = 0;
	int a, b, c, d;

	if (len % 4 == 1)
		return RC_INVAL;
	for (; i + 4 <= len; i += 4) {
		a = val(u[i]);
		b = val(u[i + 1]);
		c = val(u[i + 2]);
		d = val(u[i + 3]);
		if ((a | b | c | d) < 0)
			return RC_INVAL;
		if (out != NULL) {
			out[o] = (uint8_t)(a << 2 | b >> 4);
			out[o + 1] = (uint8_t)(b << 4 | c >> 2);
			out[o + 2] = (uint8_t)(c << 6 | d);
		}
		o += 3;
	}
	switch (len - i) {
	case 2:		/* one byte: 8 bits in 12, the low 4 must be 0 */
		a = val(u[i]);
		b = val(u[i + 1]);
		if ((a | b) < 0 || (b & 0x0f) != 0)
			return RC_INVAL;
		if (out != NULL)
			out[o] = (uint8_t)(a << 2 | b >> 4);
		o += 1;
		break;
	case 3:		/* two bytes: 16 bits in 18, the low 2 must be 0 */
		a = val(u[i]);
		b = val(u[i + 1]);
		c = val(u[i + 2]);
		if ((a | b | c) < 0 || (c & 0x03) != 0)
			return RC_INVAL;
		if (out != NULL) {
			out[o] = (uint8_t)(a << 2 | b >> 4);
			out[o + 1] = (uint8_t)(b << 4 | c >> 2);
		}
		o += 2;
		break;
	default:
		break;
	}
	if (outlen != NULL)
		*outlen = o;
	return 0;
}

int
acme_b64u_valid(const char *s, size_t len)
{
	return decode(s, len, NULL, NULL) == 0;
}

int
acme_b64u_decode_to(const char *s, size_t len, uint8_t *out, size_t max,
    size_t *outlen)
{
	size_t n;
	int rc;

	/* validate first so a too-small buffer is never written */
	rc = decode(s, len, NULL, &n);
	if (rc != 0)
		return rc;
	if (n > max)
		return RC_TOOBIG;
	rc = decode(s, len, out, &n);
	if (rc == 0 && outlen != NULL)
		*outlen = n;
	return rc;
}

int
acme_b64u_decode(const char *s, size_t len, uint8_t **out, size_t *outlen)
{
	uint8_t *p;
	size_t n;
	int rc;

	if (len % 4 == 1)
		return RC_INVAL;
	p = xmalloc(acme_b64u_dec_max(len) + 1);
	rc = decode(s, len, p, &n);
	if (rc != 0) {
		free(p);
		return rc;
	}
	p[n] = '\0';
	*out = p;
	if (outlen != NULL)
		*outlen = n;
	return 0;
}
