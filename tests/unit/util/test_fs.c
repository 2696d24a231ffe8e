/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of src/util/fs.c: atomic writes, exclusive key-file creation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/fs.h"
#include "util/rc.h"
#include "util/xmalloc.h"

static void
test_excl_and_atomic(void **state)
{
	char dir[] = "/tmp/certdesk-test-fs-XXXXXX";
	char *sub, *key, *pub;
	struct stat st;
	struct buf b;
	mode_t old = umask(0);	/* the mode must not depend on the umask */

	assert_non_null(mkdtemp(dir));
	sub = xasprintf("%s/a/b/c", dir);
	assert_int_equal(fs_mkdir_p(sub, 0700), 0);
	assert_int_equal(fs_mkdir_p(sub, 0700), 0);
	assert_true(fs_exists(sub));
	assert_int_equal(fs_mkdir_p("", 0700), RC_INVAL);
	key = xasprintf("%s/k.key", sub);
	assert_int_equal(fs_write_excl(key, "secret", 6, 0600), 0);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(fs_write_excl(key, "other", 5, 0600), RC_EXISTS);
	buf_init(&b, 100);
	assert_int_equal(buf_read_file(&b, key), 0);
	assert_string_equal((char *)b.data, "secret");
	buf_free(&b);
	pub = xasprintf("%s/p.pem", sub);
	assert_int_equal(fs_write_atomic(pub, "one", 3, 0644), 0);
	assert_int_equal(fs_write_atomic(pub, "two!", 4, 0644), 0);
	buf_init(&b, 100);
	assert_int_equal(buf_read_file(&b, pub), 0);
	assert_string_equal((char *)b.data, "two!");
	buf_free(&b);
	assert_int_equal(stat(pub, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(fs_write_atomic("/nonexistent/dir/x", "a", 1, 0644),
	    RC_IO);
	/* a link planted at the path (or at a temporary name of the old
	 * kind, path.tmp.<pid>) is replaced, never written through */
	{
		char *link = xasprintf("%s/l.crl", sub);
		char *old_tmp = xasprintf("%s.tmp.%ld", link, (long)getpid());
		char *victim = xasprintf("%s/victim", sub);

		assert_int_equal(fs_write_excl(victim, "keep", 4, 0600), 0);
		assert_int_equal(symlink(victim, link), 0);
		assert_int_equal(symlink(victim, old_tmp), 0);
		assert_int_equal(fs_write_excl(link, "x", 1, 0644), RC_EXISTS);
		assert_int_equal(fs_write_atomic(link, "new", 3, 0644), 0);
		assert_int_equal(lstat(link, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		buf_init(&b, 100);
		assert_int_equal(buf_read_file(&b, victim), 0);
		assert_string_equal((char *)b.data, "keep");
		buf_free(&b);
		assert_int_equal(stat(victim, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		unlink(link);
		unlink(old_tmp);
		unlink(victim);
		free(link);
		free(old_tmp);
		free(victim);
	}
	umask(old);
	unlink(key);
	unlink(pub);
	free(key);
	free(pub);
	free(sub);
	assert_int_equal(system("true"), 0);
	{
		char *cmd = xasprintf("rm -rf '%s'", dir);

		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
}

/* Run as root in a directory of another user's (serve's general.user):
 * what root makes there becomes that user's, so that serve can replace
 * it, but never a file of root's that has another name (a hard link the
 * user planted) nor a directory of root's with something in it. */
static void
test_own_like_dir(void **state)
{
	char dir[] = "/tmp/certdesk-test-own-XXXXXX";
	const uid_t u = 65534;	/* nobody */
	char *p, *q, *outside, *sub, *full;
	struct stat st;
	int fd;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	outside = xasprintf("%s/root-only", dir);
	assert_int_equal(mkdir(outside, 0700), 0);
	p = xasprintf("%s/users", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(chown(p, u, u), 0);

	/* made by the fs helpers: the directory's owner */
	q = xasprintf("%s/a.crl", p);
	assert_int_equal(fs_write_atomic(q, "crl", 3, 0644), 0);
	assert_int_equal(stat(q, &st), 0);
	assert_int_equal(st.st_uid, u);
	free(q);
	q = xasprintf("%s/k.key", p);
	assert_int_equal(fs_write_excl(q, "k", 1, 0600), 0);
	assert_int_equal(stat(q, &st), 0);
	assert_int_equal(st.st_uid, u);
	free(q);
	sub = xasprintf("%s/mail/spool", p);
	assert_int_equal(fs_mkdir_p(sub, 0750), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_uid, u);
	/* in a directory of root's: root's */
	q = xasprintf("%s/r.pem", outside);
	assert_int_equal(fs_write_atomic(q, "r", 1, 0644), 0);
	assert_int_equal(stat(q, &st), 0);
	assert_int_equal(st.st_uid, 0);

	/* a hard link to root's file, planted where a file is opened */
	full = xasprintf("%s/ring", p);
	assert_int_equal(link(q, full), 0);
	fd = open(full, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(fs_own_like_dir(fd, full), 0);
	close(fd);
	assert_int_equal(stat(q, &st), 0);
	assert_int_equal(st.st_uid, 0);
	unlink(full);
	free(full);
	/* a directory of root's with something in it */
	full = xasprintf("%s/moved", p);
	assert_int_equal(rename(outside, full), 0);
	fd = open(full, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(fs_own_like_dir(fd, full), 0);
	close(fd);
	assert_int_equal(stat(full, &st), 0);
	assert_int_equal(st.st_uid, 0);
	free(full);
	free(q);
	free(sub);
	free(p);
	free(outside);
	{
		char *cmd = xasprintf("rm -rf '%s'", dir);

		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_excl_and_atomic),
		cmocka_unit_test(test_own_like_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
