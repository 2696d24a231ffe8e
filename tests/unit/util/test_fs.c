/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of src/util/fs.c: atomic writes, exclusive key-file creation. */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_excl_and_atomic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
