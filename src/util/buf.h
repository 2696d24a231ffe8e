/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Growable byte buffer with a maximum fixed at creation (like curl's dynbuf):
 * anything fed from the network or from files can never grow it past that.
 * The contents are always NUL-terminated (not counted in len) so text can be
 * used as a C string.
 */
#ifndef CERTDESK_UTIL_BUF_H
#define CERTDESK_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;	/* NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;	/* appends past this fail with RC_TOOBIG */
};

void buf_init(struct buf *b, size_t max);
/* Releases the memory; b can be reused after buf_init(). */
void buf_free(struct buf *b);
void buf_reset(struct buf *b);	/* len = 0, memory kept */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the memory to the caller (free with free()); b is emptied. */
uint8_t *buf_steal(struct buf *b, size_t *len);
/* Reads a whole file into b; RC_TOOBIG past b->max, RC_IO otherwise. Not
 * for secrets, whose copies it leaves on the stack and in freed memory:
 * sec_read_file() (util/sec.h) is. */
int buf_read_file(struct buf *b, const char *path);

/* Lowercase hex of p[0..n) into out (2n+1 bytes). */
void hex_encode(const uint8_t *p, size_t n, char *out);
/* Decodes hex (either case) into out (at most max bytes); returns the number
 * of bytes or RC_INVAL. */
int hex_decode(const char *s, uint8_t *out, size_t max);

#endif
