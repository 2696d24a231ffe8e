/* SPDX-License-Identifier: Apache-2.0 */
/* Durable file writes for the data directory. */
#include "util/fs.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
fs_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return RC_IO;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
fs_root_only(const char *path, int strict, char bad[PATH_MAX],
    struct stat *st)
{
	char *p = bad;

	memset(st, 0, sizeof(*st));
	if (realpath(path, bad) == NULL)
		return RC_NOTFOUND;
	for (;; strict--) {
		if (lstat(p, st) != 0)
			return RC_IO;
		if (st->st_uid != 0 || ((st->st_mode & 022) != 0 &&
		    (strict > 0 || !(S_ISDIR(st->st_mode) &&
		    (st->st_mode & S_ISVTX)))))
			return RC_POLICY;
		if (strcmp(p, "/") == 0)
			return 0;
		/* in place: bad names the component that failed */
		p = dirname(p);
		if (p != bad)
			memmove(bad, p, strlen(p) + 1);
		p = bad;
	}
}

int
fs_sync_dir_of(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd >= 0 && fsync(fd) == 0 ? 0 : RC_IO;

	if (fd >= 0)
		close(fd);
	free(copy);
	return rc;
}

int
fs_write_atomic(const char *path, const void *p, size_t n, mode_t mode)
{
	/* a new file of an unpredictable name (O_EXCL: never through a
	 * link someone planted at a name they guessed), renamed over path,
	 * which replaces a link at path rather than following it */
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	int fd, rc;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		free(tmp);
		return RC_IO;
	}
	(void)fchmod(fd, mode);
	rc = fs_write_all(fd, p, n);
	if (rc == 0 && fsync(fd) != 0)
		rc = RC_IO;
	if (close(fd) != 0 && rc == 0)
		rc = RC_IO;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = RC_IO;
	if (rc != 0)
		unlink(tmp);
	else
		(void)fs_sync_dir_of(path);
	free(tmp);
	return rc;
}

int
fs_write_excl(const char *path, const void *p, size_t n, mode_t mode)
{
	int fd, rc;

	/* O_EXCL: a link at path is never followed (EEXIST) */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd < 0)
		return errno == EEXIST ? RC_EXISTS : RC_IO;
	(void)fchmod(fd, mode);
	rc = fs_write_all(fd, p, n);
	if (rc == 0 && fsync(fd) != 0)
		rc = RC_IO;
	if (close(fd) != 0 && rc == 0)
		rc = RC_IO;
	if (rc != 0)
		unlink(path);
	else
		(void)fs_sync_dir_of(path);
	return rc;
}

int
fs_mkdir_p(const char *path, mode_t mode)
{
	char *copy;
	int rc = 0;

	if (path[0] == '\0')
		return RC_INVAL;
	copy = xstrdup(path);
	for (char *s = copy + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(copy, mode) != 0 && errno != EEXIST) {
				rc = RC_IO;
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(copy);
	return rc;
}

int
fs_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}
