/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store's WAL VFS (src/store/wal_vfs.c): a transaction's frames reach
 * the file in one write; a commit is in the file (for another connection
 * through the default VFS) as soon as it returns; an uncommitted spill or
 * a process that dies mid-transaction leaves a database that is whole.
 * Below the store's VFS sits a counting one, registered as the default
 * first, so the tests see the writes that reach the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store/store_sqlite_int.h"

static char dir[] = "/tmp/certdesk-test-walvfs-XXXXXX";
static char path[128];

/* ---- a counting VFS under the store's ----------------------------------- */

static sqlite3_vfs count_vfs, *unix_vfs;
static sqlite3_io_methods count_methods;
static int wal_writes;	/* xWrite calls on -wal files */

struct cfile {
	sqlite3_file base;
	sqlite3_file *real;
	int wal;
};

#define R(f) (((struct cfile *)(f))->real)
#define unix_methods (R(f)->pMethods)

static int
c_close(sqlite3_file *f)
{
	return unix_methods->xClose(R(f));
}

static int
c_read(sqlite3_file *f, void *p, int n, sqlite3_int64 o)
{
	return unix_methods->xRead(R(f), p, n, o);
}

static int
c_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 o)
{
	if (((struct cfile *)f)->wal)
		__atomic_add_fetch(&wal_writes, 1, __ATOMIC_RELAXED);
	return unix_methods->xWrite(R(f), p, n, o);
}

static int
c_truncate(sqlite3_file *f, sqlite3_int64 n)
{
	return unix_methods->xTruncate(R(f), n);
}

static int
c_sync(sqlite3_file *f, int fl)
{
	return unix_methods->xSync(R(f), fl);
}

static int
c_size(sqlite3_file *f, sqlite3_int64 *n)
{
	return unix_methods->xFileSize(R(f), n);
}

static int
c_lock(sqlite3_file *f, int l)
{
	return unix_methods->xLock(R(f), l);
}

static int
c_unlock(sqlite3_file *f, int l)
{
	return unix_methods->xUnlock(R(f), l);
}

static int
c_reserved(sqlite3_file *f, int *o)
{
	return unix_methods->xCheckReservedLock(R(f), o);
}

static int
c_fcntl(sqlite3_file *f, int op, void *a)
{
	return unix_methods->xFileControl(R(f), op, a);
}

static int
c_sector(sqlite3_file *f)
{
	return unix_methods->xSectorSize(R(f));
}

static int
c_caps(sqlite3_file *f)
{
	return unix_methods->xDeviceCharacteristics(R(f));
}

static int
c_shmmap(sqlite3_file *f, int i, int sz, int w, void volatile **pp)
{
	return unix_methods->xShmMap(R(f), i, sz, w, pp);
}

static int
c_shmlock(sqlite3_file *f, int o, int n, int fl)
{
	return unix_methods->xShmLock(R(f), o, n, fl);
}

static void
c_shmbarrier(sqlite3_file *f)
{
	unix_methods->xShmBarrier(R(f));
}

static int
c_shmunmap(sqlite3_file *f, int del)
{
	return unix_methods->xShmUnmap(R(f), del);
}

static int
c_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *out)
{
	struct cfile *c = (struct cfile *)f;
	int rc;

	(void)vfs;
	c->real = (sqlite3_file *)(c + 1);
	c->wal = (flags & SQLITE_OPEN_WAL) != 0;
	rc = unix_vfs->xOpen(unix_vfs, name, c->real, flags, out);
	if (c->real->pMethods != NULL) {
		count_methods = (sqlite3_io_methods){2, c_close, c_read,
		    c_write, c_truncate, c_sync, c_size, c_lock, c_unlock,
		    c_reserved, c_fcntl, c_sector, c_caps, c_shmmap,
		    c_shmlock, c_shmbarrier, c_shmunmap, NULL, NULL};
		f->pMethods = &count_methods;
	} else
		f->pMethods = NULL;
	return rc;
}

static void
counting_default(void)
{
	unix_vfs = sqlite3_vfs_find(NULL);
	assert_non_null(unix_vfs);
	count_vfs = *unix_vfs;
	count_vfs.zName = "counting";
	count_vfs.szOsFile = (int)sizeof(struct cfile) + unix_vfs->szOsFile;
	count_vfs.pNext = NULL;
	count_vfs.xOpen = c_open;
	assert_int_equal(sqlite3_vfs_register(&count_vfs, 1), SQLITE_OK);
}

/* ---- helpers ------------------------------------------------------------- */

static sqlite3 *
open_db(const char *vfs)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, vfs), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL; "
	    "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0",
	    NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static int64_t
count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static void
exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
}

static void
integrity_ok(void)
{
	sqlite3 *db = open_db(NULL);
	sqlite3_stmt *s;

	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1,
	    &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* ---- tests ---------------------------------------------------------------- */

/* One transaction touching many pages: its frames (two xWrite calls each
 * from SQLite) reach the file in one write. */
static void
test_one_write_per_commit(void **state)
{
	sqlite3 *a = open_db(store_wal_vfs());
	int before;

	(void)state;
	exec(a, "CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB); "
	    "CREATE INDEX t_v ON t (v)");
	exec(a, "PRAGMA wal_checkpoint(TRUNCATE)");	/* an empty WAL */
	before = wal_writes;
	exec(a, "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
	    "SELECT i + 1 FROM n WHERE i < 40) INSERT INTO t (v) "
	    "SELECT randomblob(300) FROM n; COMMIT");
	/* 40 rows of 300 bytes and their index: a few pages, each frame two
	 * writes from SQLite; one write reaches the file, and the header of
	 * the new WAL (which SQLite may sync by itself) */
	assert_true(count(a, "SELECT count(*) FROM t") == 40);
	assert_in_range(wal_writes - before, 1, 2);
	before = wal_writes;
	exec(a, "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
	    "SELECT i + 1 FROM n WHERE i < 40) INSERT INTO t (v) "
	    "SELECT randomblob(300) FROM n; COMMIT");
	assert_true(count(a, "SELECT count(*) FROM t") == 80);
	assert_int_equal(wal_writes - before, 1);
	/* a large one: at most 120 KiB per write */
	before = wal_writes;
	exec(a, "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
	    "SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO t (v) "
	    "SELECT randomblob(300) FROM n; COMMIT");
	assert_true(count(a, "SELECT count(*) FROM t") == 2080);
	{
		int64_t pages = count(a, "PRAGMA page_count");
		int writes = wal_writes - before;

		/* 2000 rows and their index: over 200 frames of 4 KiB */
		assert_true(pages > 200);
		assert_true(writes >= 2 && writes <= 2 + (int)(pages *
		    (4096 + 24) / (120 * 1024)));
	}
	sqlite3_close(a);
	integrity_ok();
}

/* Every commit is in the file when it returns: a connection through the
 * default VFS (its own file objects) sees each one at once, and so does
 * a second connection through the store's. */
static void
test_commits_visible_at_once(void **state)
{
	sqlite3 *a = open_db(store_wal_vfs()), *b = open_db(NULL);
	sqlite3 *c = open_db(store_wal_vfs());
	char sql[128];

	(void)state;
	exec(a, "CREATE TABLE IF NOT EXISTS u (k INTEGER PRIMARY KEY, "
	    "v TEXT)");
	for (int i = 1; i <= 50; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO u (v) VALUES "
		    "('row %d')", i);
		exec(i % 2 ? a : c, sql);
		assert_true(count(b, "SELECT count(*) FROM u") == i);
		assert_true(count(i % 2 ? c : a, "SELECT count(*) FROM u") ==
		    i);
	}
	/* a checkpoint reads the frames back through the store's VFS */
	exec(a, "PRAGMA wal_checkpoint(TRUNCATE)");
	assert_true(count(b, "SELECT count(*) FROM u") == 50);
	sqlite3_close(a);
	sqlite3_close(b);
	sqlite3_close(c);
	integrity_ok();
}

/* A process that dies in a transaction whose pages spilled into the WAL
 * (a small page cache), and one that dies right after its commit: the
 * database is whole, with the committed rows and none of the others. */
static void
test_death_mid_transaction(void **state)
{
	for (int commit = 0; commit <= 1; commit++) {
		pid_t pid;
		int status;
		int64_t had;
		sqlite3 *b = open_db(NULL);

		(void)state;
		exec(b, "CREATE TABLE IF NOT EXISTS w (k INTEGER PRIMARY "
		    "KEY, v BLOB)");
		had = count(b, "SELECT count(*) FROM w");
		sqlite3_close(b);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			sqlite3 *a = open_db(store_wal_vfs());

			exec(a, "PRAGMA cache_size=8; BEGIN; WITH RECURSIVE "
			    "n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
			    "WHERE i < 500) INSERT INTO w (v) SELECT "
			    "randomblob(500) FROM n");
			if (commit)
				exec(a, "COMMIT");
			_exit(0);	/* no close, no rollback */
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		integrity_ok();
		b = open_db(NULL);
		assert_true(count(b, "SELECT count(*) FROM w") ==
		    had + (commit ? 500 : 0));
		sqlite3_close(b);
	}
}

static int
setup(void **state)
{
	(void)state;
	counting_default();	/* before the store's VFS wraps the default */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.db", dir);
	assert_string_equal(store_wal_vfs(), STORE_WAL_VFS);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_write_per_commit),
		cmocka_unit_test(test_commits_visible_at_once),
		cmocka_unit_test(test_death_mid_transaction),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
