/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/util/sec.c: the secret buffers and the reader of secret
 * files (sec_read_file, sec_read_fd): a file read whole, NUL-terminated;
 * its maximum; an empty file; no such file; a directory, a FIFO (without
 * blocking) and a device refused; a symbolic link and a mode others may
 * use refused when the file must be private, taken when not; a file that
 * grows or shrinks between fstat() and the read refused, also one that
 * grows past the maximum, and one that says it is empty and is not
 * (/proc).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/rc.h"
#include "util/sec.h"
#include "util/xmalloc.h"

struct dir {
	char path[64];
};

static int
setup(void **state)
{
	struct dir *d = xcalloc(1, sizeof(*d));

	snprintf(d->path, sizeof(d->path), "/tmp/certdesk-test-sec-XXXXXX");
	if (mkdtemp(d->path) == NULL)
		return -1;
	*state = d;
	return 0;
}

static int
teardown(void **state)
{
	struct dir *d = *state;
	char *cmd = xasprintf("rm -rf '%s'", d->path);
	int rc = system(cmd);

	free(cmd);
	free(d);
	return rc == 0 ? 0 : -1;
}

/* path in the test's directory, holding n bytes of text with mode. */
static char *
file_with(const struct dir *d, const char *name, const char *text,
    size_t n, mode_t mode)
{
	char *path = xasprintf("%s/%s", d->path, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void
has(const struct rc_detail *d, const char *what)
{
	if (strstr(d->msg, what) == NULL)
		fail_msg("'%s' without '%s'", d->msg, what);
}

static void
test_read_whole(void **state)
{
	struct dir *dir = *state;
	char *path = file_with(dir, "k.key", "secret\n\0more", 12, 0600);
	struct rc_detail d = {{0}};
	struct sec *s = NULL;
	struct stat sb;

	assert_int_equal(sec_read_file(path, 12, 077, &s, &sb, &d), 0);
	assert_non_null(s);
	assert_int_equal(s->len, 12);
	assert_memory_equal(s->data, "secret\n\0more", 12);
	assert_int_equal(s->data[12], '\0');	/* usable as text */
	assert_int_equal(sb.st_size, 12);
	assert_true(S_ISREG(sb.st_mode));
	sec_free(s);
	/* *sb may be NULL, and so may d */
	assert_int_equal(sec_read_file(path, 100, 0, &s, NULL, NULL), 0);
	assert_int_equal(s->len, 12);
	sec_free(s);
	free(path);
}

/* IMPLEMENTATION-OF: sec_read_file size limits */
static void
test_limits_and_empty(void **state)
{
	struct dir *dir = *state;
	char *path = file_with(dir, "pin", "123456", 6, 0600);
	char *empty = file_with(dir, "empty", "", 0, 0600);
	char *none = xasprintf("%s/none", dir->path);
	struct rc_detail d = {{0}};
	struct sec *s = (struct sec *)&d;	/* set to NULL on failure */

	assert_int_equal(sec_read_file(path, 5, 077, &s, NULL, &d),
	    RC_TOOBIG);
	assert_null(s);
	has(&d, "larger than 5 bytes");
	assert_int_equal(sec_read_file(path, 6, 077, &s, NULL, &d), 0);
	assert_string_equal((char *)s->data, "123456");
	sec_free(s);

	/* empty: a buffer of no bytes, still a C string */
	assert_int_equal(sec_read_file(empty, 0, 077, &s, NULL, &d), 0);
	assert_int_equal(s->len, 0);
	assert_string_equal((char *)s->data, "");
	sec_free(s);

	s = (struct sec *)&d;
	assert_int_equal(sec_read_file(none, 100, 077, &s, NULL, &d),
	    RC_NOTFOUND);
	assert_null(s);
	has(&d, "cannot open");
	free(path);
	free(empty);
	free(none);
}

/* IMPLEMENTATION-OF: sec_read_file refuses what is no regular file */
static void
test_not_regular(void **state)
{
	struct dir *dir = *state;
	char *fifo = xasprintf("%s/fifo", dir->path);
	struct rc_detail d = {{0}};
	struct sec *s = NULL;

	/* a FIFO without a writer would block open() and read() */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	for (int forbid = 0; forbid <= 077; forbid += 077) {
		assert_int_equal(sec_read_file(fifo, 100, (mode_t)forbid, &s,
		    NULL, &d), RC_POLICY);
		assert_null(s);
		has(&d, "not a regular file");
		assert_int_equal(sec_read_file(dir->path, 100, (mode_t)forbid,
		    &s, NULL, &d), RC_POLICY);
		has(&d, "not a regular file");
	}
	assert_int_equal(sec_read_file("/dev/null", 100, 0, &s, NULL, &d),
	    RC_POLICY);
	assert_int_equal(sec_read_file("/dev/zero", 100, 0, &s, NULL, &d),
	    RC_POLICY);
	assert_null(s);
	free(fifo);
}

/* A private file: ours, no link, none of the forbidden mode bits; a
 * shared one (forbid 0) as it is. */
static void
test_private(void **state)
{
	struct dir *dir = *state;
	char *path = file_with(dir, "k.key", "key", 3, 0640);
	char *link = xasprintf("%s/link.key", dir->path);
	struct rc_detail d = {{0}};
	struct sec *s = NULL;

	assert_int_equal(sec_read_file(path, 100, 077, &s, NULL, &d),
	    RC_POLICY);
	assert_null(s);
	has(&d, "mode 640");
	has(&d, "chmod 600");
	/* 022: nobody else may write it, the group may read it */
	assert_int_equal(sec_read_file(path, 100, 022, &s, NULL, &d), 0);
	sec_free(s);
	assert_int_equal(sec_read_file(path, 100, 0, &s, NULL, &d), 0);
	sec_free(s);

	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(sec_read_file(link, 100, 077, &s, NULL, &d),
	    RC_POLICY);
	assert_null(s);
	has(&d, "symbolic link");
	assert_int_equal(sec_read_file(link, 100, 0, &s, NULL, &d), 0);
	assert_string_equal((char *)s->data, "key");
	sec_free(s);
	free(path);
	free(link);
}

/* IMPLEMENTATION-OF: sec_read_fd, a file changed between fstat and read */
static void
test_changed_while_read(void **state)
{
	struct dir *dir = *state;
	char *path = file_with(dir, "grows", "0123456789", 10, 0600);
	struct rc_detail d = {{0}};
	struct sec *s = NULL;
	struct stat sb;
	int fd, w;

	/* grows: what was read is no whole secret */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	w = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(w >= 0);
	assert_int_equal(write(w, "abc", 3), 3);
	assert_int_equal(sec_read_fd(fd, &sb, 100, path, &s, &d), RC_IO);
	assert_null(s);
	has(&d, "changed while read");
	/* the same past the maximum: never the first max bytes */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(sec_read_fd(fd, &sb, 10, path, &s, &d), RC_IO);
	assert_null(s);
	has(&d, "changed while read");
	/* with the size it has now, it is whole */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sec_read_fd(fd, &sb, 100, path, &s, &d), 0);
	assert_string_equal((char *)s->data, "0123456789abc");
	sec_free(s);

	/* shrinks */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(ftruncate(w, 4), 0);
	assert_int_equal(sec_read_fd(fd, &sb, 100, path, &s, &d), RC_IO);
	assert_null(s);
	has(&d, "changed while read");
	close(w);
	close(fd);

	/* a file that says it is empty and is not: the same */
	assert_int_equal(sec_read_file("/proc/self/status", 1 << 20, 0, &s,
	    NULL, &d), RC_IO);
	assert_null(s);
	has(&d, "changed while read");
	free(path);
}

static void
test_sec_buffers(void **state)
{
	struct sec *s = sec_dup("abc", 3), *z = sec_new(0);
	uint8_t r[16] = {0}, zero[16] = {0};

	(void)state;
	assert_int_equal(s->len, 3);
	assert_memory_equal(s->data, "abc", 3);
	assert_true(sec_equal(s->data, "abc", 3));
	assert_false(sec_equal(s->data, "abd", 3));
	assert_int_equal(z->len, 0);
	assert_int_equal(sec_random(r, sizeof(r)), 0);
	assert_false(memcmp(r, zero, sizeof(r)) == 0);
	sec_wipe(r, sizeof(r));
	assert_memory_equal(r, zero, sizeof(r));
	sec_free(s);
	sec_free(z);
	sec_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_whole, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_limits_and_empty, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_regular, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_private, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_changed_while_read, setup,
		    teardown),
		cmocka_unit_test(test_sec_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
