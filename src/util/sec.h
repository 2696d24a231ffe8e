/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret buffers: memory for key material and tokens that is wiped with
 * OPENSSL_cleanse() when freed and never logged. Also the constant-time
 * comparison every token, MAC and hash check must use.
 */
#ifndef CERTDESK_UTIL_SEC_H
#define CERTDESK_UTIL_SEC_H

#include <stddef.h>
#include <stdint.h>

struct sec {
	uint8_t *data;
	size_t len;
};

/* Returns a new zeroed secret of n bytes; free with sec_free(). */
struct sec *sec_new(size_t n);
/* Returns a new secret holding a copy of p[0..n). */
struct sec *sec_dup(const void *p, size_t n);
void sec_free(struct sec *s);	/* wipes, then frees; NULL is fine */
/* Wipes n bytes at p (for stack copies). */
void sec_wipe(void *p, size_t n);
/* 1 when equal, in time independent of the contents. */
int sec_equal(const void *a, const void *b, size_t n);
/* Fills p with n bytes from the CSPRNG; RC_CRYPTO on failure. */
int sec_random(void *p, size_t n);

#endif
