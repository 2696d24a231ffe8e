/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Secret buffers wiped on free; secret files read into them; constant-time
 * compare; CSPRNG bytes.
 */
#include "util/sec.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct sec *
sec_new(size_t n)
{
	struct sec *s = xmalloc(sizeof(*s));

	s->data = xcalloc(1, n ? n : 1);
	s->len = n;
	return s;
}

struct sec *
sec_dup(const void *p, size_t n)
{
	struct sec *s = sec_new(n);

	if (n)
		memcpy(s->data, p, n);
	return s;
}

void
sec_free(struct sec *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s->data, s->len);
	free(s->data);
	free(s);
}

void
sec_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

int
sec_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

int
sec_random(void *p, size_t n)
{
	if (n > 0x7fffffff || RAND_bytes(p, (int)n) != 1)
		return RC_CRYPTO;
	return 0;
}

int
sec_read_fd(int fd, const struct stat *sb, size_t max, const char *name,
    struct sec **out, struct rc_detail *d)
{
	struct sec *s = NULL;
	uint8_t extra = 0;
	size_t len, got = 0;
	ssize_t r;
	int rc = RC_IO;

	*out = NULL;
	if (sb->st_size < 0 || (uintmax_t)sb->st_size > max) {
		rc_detail_set(d, "%s: larger than %zu bytes", name, max);
		return RC_TOOBIG;
	}
	len = (size_t)sb->st_size;
	s = sec_new(len + 1);		/* and the NUL; len is set below */
	while (got < len) {
		r = read(fd, s->data + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc_detail_set(d, "%s: cannot read (%s)", name,
			    strerror(errno));
			goto out;
		}
		if (r == 0) {
			rc_detail_set(d, "%s: changed while read (shorter "
			    "than %zu bytes)", name, len);
			goto out;
		}
		got += (size_t)r;
	}
	/* the end must be there: a file that grew since fstat() (or one
	 * that says 0 bytes and has more, as in /proc) is being written,
	 * and what we have is no whole secret */
	do
		r = read(fd, &extra, 1);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		rc_detail_set(d, "%s: cannot read (%s)", name,
		    strerror(errno));
		goto out;
	}
	sec_wipe(&extra, sizeof(extra));
	if (r > 0) {
		rc_detail_set(d, "%s: changed while read (longer than %zu "
		    "bytes)", name, len);
		goto out;
	}
	s->data[len] = '\0';
	s->len = len;
	*out = s;
	s = NULL;
	rc = 0;
out:
	sec_free(s);
	return rc;
}

int
sec_read_file(const char *path, size_t max, mode_t forbid,
    struct sec **out, struct stat *sb, struct rc_detail *d)
{
	struct stat st;
	/* O_NONBLOCK: a FIFO (or a device) planted at the path does not
	 * hold the open up; fstat() then refuses it */
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, fd, rc;

	*out = NULL;
	if (forbid != 0)
		flags |= O_NOFOLLOW;
	fd = open(path, flags);
	if (fd < 0) {
		rc = errno == ENOENT ? RC_NOTFOUND : forbid != 0 &&
		    errno == ELOOP ? RC_POLICY : RC_IO;
		if (rc == RC_POLICY)
			rc_detail_set(d, "%s: a symbolic link", path);
		else
			rc_detail_set(d, "%s: cannot open (%s)", path,
			    strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) != 0) {
		rc_detail_set(d, "%s: cannot read (%s)", path,
		    strerror(errno));
		rc = RC_IO;
	} else if (!S_ISREG(st.st_mode)) {
		rc_detail_set(d, "%s: not a regular file", path);
		rc = RC_POLICY;
	} else if (forbid != 0 && st.st_uid != geteuid()) {
		rc_detail_set(d, "%s: belongs to another user", path);
		rc = RC_POLICY;
	} else if ((st.st_mode & forbid) != 0) {
		rc_detail_set(d, "%s: mode %03o has bits of %03o set (chmod "
		    "%03o)", path, (unsigned)(st.st_mode & 0777),
		    (unsigned)forbid, (unsigned)(st.st_mode & 0777 & ~forbid));
		rc = RC_POLICY;
	} else {
		rc = sec_read_fd(fd, &st, max, path, out, d);
	}
	close(fd);
	if (rc == 0 && sb != NULL)
		*sb = st;
	return rc;
}
