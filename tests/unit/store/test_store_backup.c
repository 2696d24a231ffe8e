/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of store_schema_check() (src/store/store_backup.c) through
 * store.h: a store made by the migrations passes, at the last migration
 * and at an earlier one, with planner statistics too; a schema changed
 * with a raw sqlite3 connection (a trigger added, one dropped, an index
 * rewritten, a view added, a migration renamed, none recorded) is refused
 * with the objects named; store_backup refuses such a copy before a store
 * opens it (and runs its triggers). Each test gets a fresh database in its
 * own temporary directory.
 */
#include "store/store.h"
#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/rc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fx {
	char dir[256];
	char path[300];
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");
	const struct store_conf c = {"sqlite", fx->path, 0};
	struct store *st = NULL;

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "%s/certdesk-backup-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/store.db", fx->dir);
	assert_int_equal(store_open(&c, &st), 0);
	store_close(st);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	static const char *const sfx[] = {"", "-wal", "-shm", "-journal",
	    "-nonce-ring"};
	char p[320];

	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", fx->path, sfx[i]);
		unlink(p);
	}
	assert_int_equal(rmdir(fx->dir), 0);
	free(fx);
	return 0;
}

/* Runs sql on the file with a plain connection. */
static void
raw(const struct fx *fx, const char *sql)
{
	sqlite3 *db = NULL;
	char *err = NULL;

	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
	sqlite3_close(db);
}

/* store_schema_check refuses the file, naming what in its detail. */
static void
refused(const struct fx *fx, const char *what)
{
	struct rc_detail d = {""};
	int v = -1;

	assert_int_equal(store_schema_check(fx->path, &v, &d), RC_TAMPER);
	assert_int_equal(v, 0);
	if (strstr(d.msg, what) == NULL)
		fail_msg("\"%s\" not in \"%s\"", what, d.msg);
}

static void
test_fresh_store_passes(void **state)
{
	struct fx *fx = *state;
	struct rc_detail d = {""};
	int v = 0;

	assert_int_equal(store_schema_check(fx->path, &v, &d), 0);
	assert_int_equal(v, (int)store_sqlite_migrations_count);
	/* ANALYZE's tables and AUTOINCREMENT counters are data */
	raw(fx, "ANALYZE; INSERT INTO customers (name, created_at) "
	    "VALUES ('x', 1)");
	assert_int_equal(store_schema_check(fx->path, NULL, &d), 0);
}

static void
test_older_store_passes(void **state)
{
	struct fx *fx = *state;
	const struct store_conf c = {"sqlite", fx->path, 0};
	struct rc_detail d = {""};
	struct store *st = NULL;
	char p[320];
	int v = 0;

	unlink(fx->path);
	snprintf(p, sizeof(p), "%s-wal", fx->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", fx->path);
	unlink(p);
	assert_int_equal(sq_open_upto(&c, 8, &st), 0);
	assert_int_equal(store_schema_version(st), 8);
	store_close(st);
	assert_int_equal(store_schema_check(fx->path, &v, &d), 0);
	assert_int_equal(v, 8);
	/* what a later migration adds is extra at 8 */
	raw(fx, "CREATE TABLE cert_keys (spki_sha256 BLOB NOT NULL "
	    "CHECK (length(spki_sha256) = 32), serial TEXT NOT NULL, "
	    "PRIMARY KEY (spki_sha256, serial)) WITHOUT ROWID");
	refused(fx, "extra table cert_keys");
}

static void
test_extra_trigger_refused(void **state)
{
	struct fx *fx = *state;

	raw(fx, "CREATE TRIGGER revocations_vanish AFTER INSERT ON "
	    "revocations BEGIN DELETE FROM revocations WHERE serial = "
	    "NEW.serial; END");
	refused(fx, "extra trigger revocations_vanish");
}

static void
test_missing_trigger_refused(void **state)
{
	struct fx *fx = *state;

	raw(fx, "DROP TRIGGER audit_log_no_update; "
	    "DROP TRIGGER audit_head_no_delete");
	refused(fx, "missing trigger audit_head_no_delete, missing trigger "
	    "audit_log_no_update");
}

static void
test_changed_objects_refused(void **state)
{
	struct fx *fx = *state;

	raw(fx, "DROP INDEX certificates_not_after; CREATE INDEX "
	    "certificates_not_after ON certificates (not_before)");
	refused(fx, "changed index certificates_not_after");
	raw(fx, "DROP INDEX certificates_not_after; CREATE INDEX "
	    "certificates_not_after ON certificates (not_after); "
	    "CREATE VIEW v AS SELECT 1");
	refused(fx, "extra view v");
	raw(fx, "DROP VIEW v; CREATE TEMP TABLE t (x)");
	assert_int_equal(store_schema_check(fx->path, NULL, NULL), 0);
	/* a table rebuilt with the same name, but not the same */
	raw(fx, "DROP TABLE issued_sets; CREATE TABLE issued_sets "
	    "(hash BLOB, issued_at INTEGER, serial TEXT)");
	refused(fx, "changed table issued_sets");
}

static void
test_migrations_checked(void **state)
{
	struct fx *fx = *state;

	raw(fx, "UPDATE schema_migrations SET name = 'other' "
	    "WHERE version = 3");
	refused(fx, "migration 3");
	raw(fx, "DELETE FROM schema_migrations");
	refused(fx, "empty");
	raw(fx, "DROP TABLE schema_migrations");
	refused(fx, "not a certdesk store");
}

/* store_backup checks the copy's schema before a store opens it: opening
 * an older store applies migrations, which would run a trigger the file
 * added (here one that aborts them). Nothing is left at dest. */
static void
test_backup_checks_before_opening(void **state)
{
	struct fx *fx = *state;
	const struct store_conf c = {"sqlite", fx->path, 0};
	struct store_backup_info info;
	struct rc_detail d = {""};
	struct store *st = NULL;
	char dest[320], p[330];

	unlink(fx->path);
	snprintf(p, sizeof(p), "%s-wal", fx->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", fx->path);
	unlink(p);
	assert_int_equal(sq_open_upto(&c, 8, &st), 0);
	store_close(st);
	raw(fx, "CREATE TRIGGER migrations_evil BEFORE INSERT ON "
	    "schema_migrations BEGIN SELECT RAISE(ABORT, 'ran'); END");
	snprintf(dest, sizeof(dest), "%s/copy.db", fx->dir);
	assert_int_equal(store_backup(&c, dest, &info, &d), RC_INVAL);
	assert_null(strstr(d.msg, "ran"));
	assert_non_null(strstr(d.msg, "extra trigger migrations_evil"));
	assert_int_equal(access(dest, F_OK), -1);
	snprintf(p, sizeof(p), "%s.partial", dest);
	assert_int_equal(access(p, F_OK), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_fresh_store_passes),
		T(test_older_store_passes),
		T(test_extra_trigger_refused),
		T(test_missing_trigger_refused),
		T(test_changed_objects_refused),
		T(test_migrations_checked),
		T(test_backup_checks_before_opening),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
