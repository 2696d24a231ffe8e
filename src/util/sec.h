/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret buffers: memory for key material and tokens that is wiped with
 * OPENSSL_cleanse() when freed and never logged, and the one reader of
 * secret files into them. Also the constant-time comparison every token,
 * MAC and hash check must use.
 */
#ifndef CERTDESK_UTIL_SEC_H
#define CERTDESK_UTIL_SEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/*
 * Reads the regular file path, of at most max bytes, into a new secret
 * *out (free with sec_free()): len its size, data NUL-terminated past it.
 * The buffer is sized from fstat() and read into directly, so that the
 * file leaves no copy in memory that is not wiped: no stdio buffer, no
 * chunk on the stack, no block given up by realloc(). For key files,
 * PINs, passwords and shared secrets (buf_read_file() is for the rest).
 *
 * forbid 0 takes the file the operator names as it is (a symbolic link
 * followed, any owner and mode: a secret shared with another daemon);
 * else it must be this effective user's, not a symbolic link, and have
 * none of the mode bits in forbid (077: nobody else may read or write it;
 * 022: nobody else may write it). A FIFO or device is refused without
 * blocking on it.
 *
 * 0; RC_NOTFOUND when there is no such file; RC_POLICY when it is not a
 * regular file or breaks forbid; RC_TOOBIG over max; RC_IO when it cannot
 * be read or does not hold what fstat() said when read (a writer at work:
 * no whole secret). d (may be NULL) gets "<path>: why"; *sb (may be NULL)
 * the file's fstat().
 */
struct rc_detail;
struct stat;
int sec_read_file(const char *path, size_t max, mode_t forbid,
    struct sec **out, struct stat *sb, struct rc_detail *d);
/* The reading of sec_read_file(): from fd, open on a regular file whose
 * fstat() is sb, exactly sb->st_size bytes (RC_TOOBIG past max) and then
 * the end of the file (RC_IO when it has fewer or more now); name is the
 * file in d. fd stays open. */
int sec_read_fd(int fd, const struct stat *sb, size_t max, const char *name,
    struct sec **out, struct rc_detail *d);

#endif
