/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of store_schema_check() (src/store/store_backup.c) through
 * store.h: a store made by the migrations passes, at the last migration
 * and at an earlier one, with planner statistics too; a schema changed
 * with a raw sqlite3 connection (a trigger added, one dropped, an index
 * rewritten, a view added, a migration renamed, none recorded) is refused
 * with the objects named; store_backup refuses such a copy before a store
 * opens it (and runs its triggers). store_restore_carry() brings an
 * issuing CA made after the backup over (id, certificate, active flag, CRL
 * number, audited), with its certificates, once the caller's check takes
 * it; a CA the check refuses, or one the backup has under another id, or
 * one hanging from a root the backup has otherwise, carries nothing. The
 * revocations a portal reissue scheduled after the backup come over as they
 * are (audited), whether the certificate replacing one was issued before
 * the backup or after it; one scheduled in the backup and revoked after it
 * is no longer scheduled; one naming a certificate neither store has
 * carries nothing. Each test gets a fresh database in its own temporary
 * directory.
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

/* ---- store_restore_carry: the CAs made after the backup ----------------- */

/* The one integer sql answers on the file at path. */
static int64_t
q1(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* Runs sql on the file at path with a plain connection. */
static void
raw_at(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *err = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
	sqlite3_close(db);
}

/* The store: a root (1) and issuing-1 (2); copy: its backup; then a roll
 * in the store: issuing-2 (3), with a certificate, revoked, and a CA
 * certificate of the root; issuing-1 published a CRL (number 50). */
static void
rolled_after_backup(struct fx *fx, char *copy, size_t size)
{
	const struct store_conf c = {"sqlite", fx->path, 0};
	struct store_backup_info info;
	struct rc_detail d = {""};

	raw(fx, "INSERT INTO issuers (name, parent_id, is_root, active, "
	    "cert_der, crl_number, created_at) VALUES "
	    "('root', NULL, 1, 0, x'01', 5, 1), "
	    "('issuing-1', 1, 0, 1, x'02', 10, 1)");
	snprintf(copy, size, "%s/copy.db", fx->dir);
	if (store_backup(&c, copy, &info, &d) != 0)
		fail_msg("backup: %s", d.msg);
	raw(fx, "INSERT INTO issuers (name, parent_id, is_root, active, "
	    "cert_der, crl_number, created_at) VALUES "
	    "('issuing-2', 1, 0, 1, x'03', 20, 2); "
	    "INSERT INTO certificates (serial, issuer_id, profile, names, "
	    "not_before, not_after, der, created_at) VALUES "
	    "('0a', 1, 'ca', 'issuing-2', 1, 2, x'03', 2), "
	    "('0b', 3, 'dv', 'b.example', 1, 2, x'04', 2); "
	    "INSERT INTO revocations (serial, issuer_id, reason, revoked_at) "
	    "VALUES ('0b', 3, 4, 3); "
	    "UPDATE issuers SET crl_number = 50 WHERE id = 2; "
	    "INSERT INTO crls (issuer_id, number, this_update, next_update, "
	    "der, created_at) VALUES (2, 50, 3, 4, x'05', 3)");
}

struct seen {
	int calls;
	char name[65];
	int refuse;
};

static int
check_ca(const struct store_issuer *is, void *arg, struct rc_detail *d)
{
	struct seen *s = arg;

	s->calls++;
	snprintf(s->name, sizeof(s->name), "%s", is->name);
	assert_int_equal(is->cert_len, 1);
	assert_int_equal(is->cert_der[0], 3);
	if (!s->refuse)
		return 0;
	rc_detail_set(d, "CA %s: no key", is->name);
	return RC_SIGNER;
}

static void
unlink_copy(const char *copy)
{
	char p[340];

	unlink(copy);
	snprintf(p, sizeof(p), "%s-wal", copy);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", copy);
	unlink(p);
}

static void
test_carry_later_ca(void **state)
{
	struct fx *fx = *state;
	struct store_conf c = {"sqlite", NULL, 0};
	struct store_carry out;
	struct store_issuer is;
	struct rc_detail d = {""};
	struct seen seen = {0};
	struct store *st = NULL;
	char copy[320];

	rolled_after_backup(fx, copy, sizeof(copy));
	assert_int_equal(store_restore_carry(copy, fx->path, "test",
	    check_ca, &seen, &out, &d), 0);
	assert_int_equal(seen.calls, 1);
	assert_string_equal(seen.name, "issuing-2");
	assert_int_equal(out.ncas, 1);
	assert_int_equal(out.cas[0].id, 3);
	assert_string_equal(out.cas[0].name, "issuing-2");
	assert_int_equal(out.cas[0].active, 1);
	assert_int_equal(out.cas[0].is_root, 0);
	assert_int_equal(out.ncerts, 2);
	assert_string_equal(out.certs[1].serial, "0b");
	assert_int_equal(out.certs[1].reason, 4);
	store_carry_clear(&out);
	/* the active issuing CA is issuing-2 again, with its CRL number;
	 * issuing-1's CRL number and CRL are the later ones */
	c.path = copy;
	assert_int_equal(store_open(&c, &st), 0);
	assert_int_equal(store_issuer_get_active(st, 0, &is), 0);
	assert_string_equal(is.name, "issuing-2");
	assert_int_equal(is.id, 3);
	assert_int_equal(is.crl_number, 20);
	store_issuer_clear(&is);
	assert_int_equal(store_issuer_get(st, 2, &is), 0);
	assert_int_equal(is.crl_number, 50);
	store_issuer_clear(&is);
	store_close(st);
	assert_int_equal(q1(copy, "SELECT count(*) FROM crls WHERE "
	    "issuer_id = 2 AND number = 50"), 1);
	assert_int_equal(q1(copy, "SELECT issuer_id FROM revocations WHERE "
	    "serial = '0b'"), 3);
	assert_int_equal(q1(copy, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'ca.restore.carry' AND object = 'issuing-2'"), 1);
	/* the id is taken for good: the next CA gets 4 */
	assert_int_equal(q1(copy, "SELECT seq FROM sqlite_sequence WHERE "
	    "name = 'issuers'"), 3);
	unlink_copy(copy);
}

static void
test_carry_refused_by_check(void **state)
{
	struct fx *fx = *state;
	struct store_carry out;
	struct rc_detail d = {""};
	struct seen seen = {0, "", 1};
	char copy[320];

	rolled_after_backup(fx, copy, sizeof(copy));
	assert_int_equal(store_restore_carry(copy, fx->path, "test",
	    check_ca, &seen, &out, &d), RC_SIGNER);
	assert_string_equal(d.msg, "CA issuing-2: no key");
	assert_int_equal(out.ncas, 0);
	assert_int_equal(out.ncerts, 0);
	/* nothing at all: not the CA, its certificates, the CRL number */
	assert_int_equal(q1(copy, "SELECT count(*) FROM issuers"), 2);
	assert_int_equal(q1(copy, "SELECT count(*) FROM certificates"), 0);
	assert_int_equal(q1(copy, "SELECT crl_number FROM issuers "
	    "WHERE id = 2"), 10);
	assert_int_equal(q1(copy, "SELECT count(*) FROM audit_log WHERE "
	    "action LIKE '%.restore.carry'"), 0);
	unlink_copy(copy);
}

static void
test_carry_not_this_store(void **state)
{
	struct fx *fx = *state;
	struct store_carry out;
	struct rc_detail d = {""};
	struct seen seen = {0};
	char copy[320];

	rolled_after_backup(fx, copy, sizeof(copy));
	/* the backup has an issuing-2 of its own (id 4) */
	raw_at(copy, "INSERT INTO issuers (id, name, parent_id, is_root, "
	    "active, cert_der, crl_number, created_at) VALUES "
	    "(4, 'issuing-2', 1, 0, 1, x'09', 0, 1)");
	assert_int_equal(store_restore_carry(copy, fx->path, "test",
	    check_ca, &seen, &out, &d), RC_STATE);
	assert_non_null(strstr(d.msg, "the CA issuing-2 is issuer 3 in the "
	    "replaced store and issuer 4 in the backup"));
	raw_at(copy, "DELETE FROM issuers WHERE id = 4");
	/* its root is another one in the backup */
	raw_at(copy, "UPDATE issuers SET cert_der = x'08' WHERE id = 1");
	d.msg[0] = '\0';
	assert_int_equal(store_restore_carry(copy, fx->path, "test",
	    check_ca, &seen, &out, &d), RC_STATE);
	assert_non_null(strstr(d.msg, "hang from issuer 1"));
	assert_int_equal(seen.calls, 0);
	assert_int_equal(q1(copy, "SELECT count(*) FROM issuers"), 2);
	unlink_copy(copy);
}

/*
 * The store: issuing-1 (2) with a0 (replaced by a1, revoked at 500), c0
 * (replaced by c1, at 600), r0 (by r1, at 650, but revoked meanwhile), e0
 * (replaced by e1, at 700), each scheduled, and x0; copy: its backup.
 * Then in the store: a0's revocation done (by the sweep, superseded), the
 * rows of r0 and of e0, expired, gone with nothing to revoke, b1 issued
 * and replacing x0 (at 900), and y1 issued and replacing y0, issued after
 * the backup too (at 800).
 */
static void
superseded_after_backup(struct fx *fx, char *copy, size_t size)
{
	const struct store_conf c = {"sqlite", fx->path, 0};
	struct store_backup_info info;
	struct rc_detail d = {""};

	raw(fx, "INSERT INTO issuers (name, parent_id, is_root, active, "
	    "cert_der, crl_number, created_at) VALUES "
	    "('root', NULL, 1, 0, x'01', 5, 1), "
	    "('issuing-1', 1, 0, 1, x'02', 10, 1); "
	    "INSERT INTO certificates (serial, issuer_id, profile, names, "
	    "not_before, not_after, der, created_at) VALUES "
	    "('a0', 2, 'dv', 'a.example', 1, 9000, x'10', 1), "
	    "('a1', 2, 'dv', 'a1.example', 1, 9000, x'11', 1), "
	    "('c0', 2, 'dv', 'c.example', 1, 9000, x'12', 1), "
	    "('c1', 2, 'dv', 'c1.example', 1, 9000, x'13', 1), "
	    "('e0', 2, 'dv', 'e.example', 1, 2, x'14', 1), "
	    "('e1', 2, 'dv', 'e1.example', 1, 9000, x'15', 1), "
	    "('r0', 2, 'dv', 'r.example', 1, 9000, x'17', 1), "
	    "('r1', 2, 'dv', 'r1.example', 1, 9000, x'18', 1), "
	    "('x0', 2, 'dv', 'x.example', 1, 9000, x'16', 1); "
	    "INSERT INTO superseded_certs (serial, by_serial, revoke_at) "
	    "VALUES ('a0', 'a1', 500), ('c0', 'c1', 600), ('e0', 'e1', 700), "
	    "('r0', 'r1', 650); "
	    "INSERT INTO revocations (serial, issuer_id, reason, revoked_at) "
	    "VALUES ('r0', 2, 1, 2)");
	snprintf(copy, size, "%s/copy.db", fx->dir);
	if (store_backup(&c, copy, &info, &d) != 0)
		fail_msg("backup: %s", d.msg);
	raw(fx, "DELETE FROM superseded_certs WHERE serial IN ('a0', 'e0', "
	    "'r0'); "
	    "INSERT INTO revocations (serial, issuer_id, reason, revoked_at) "
	    "VALUES ('a0', 2, 4, 500); "
	    "INSERT INTO certificates (serial, issuer_id, profile, names, "
	    "not_before, not_after, der, created_at) VALUES "
	    "('b1', 2, 'dv', 'b1.example', 1, 9000, x'20', 2), "
	    "('y0', 2, 'dv', 'y.example', 1, 9000, x'21', 2), "
	    "('y1', 2, 'dv', 'y1.example', 1, 9000, x'22', 2); "
	    "INSERT INTO superseded_certs (serial, by_serial, revoke_at) "
	    "VALUES ('x0', 'b1', 900), ('y0', 'y1', 800)");
}

static void
test_carry_superseded(void **state)
{
	struct fx *fx = *state;
	struct store_carry out;
	struct rc_detail d = {""};
	char copy[320];

	superseded_after_backup(fx, copy, sizeof(copy));
	assert_int_equal(store_restore_carry(copy, fx->path, "test", NULL,
	    NULL, &out, &d), 0);
	assert_int_equal(out.ncerts, 3);
	/* in revoke_at order: a0 done, y0 and x0 carried */
	assert_int_equal(out.nsups, 3);
	assert_string_equal(out.sups[0].serial, "a0");
	assert_string_equal(out.sups[0].by_serial, "a1");
	assert_int_equal(out.sups[0].done, 1);
	assert_int_equal(out.sups[0].reason, 4);
	assert_string_equal(out.sups[1].serial, "y0");
	assert_string_equal(out.sups[1].by_serial, "y1");
	assert_int_equal(out.sups[1].revoke_at, 800);
	assert_int_equal(out.sups[1].done, 0);
	assert_int_equal(out.sups[1].reason, -1);
	assert_string_equal(out.sups[2].serial, "x0");
	assert_string_equal(out.sups[2].by_serial, "b1");
	assert_int_equal(out.sups[2].revoke_at, 900);
	assert_int_equal(out.sups[2].done, 0);
	store_carry_clear(&out);
	/* scheduled as in the replaced store; e0, expired, and r0, revoked
	 * before the backup, are the sweep's */
	assert_int_equal(q1(copy, "SELECT count(*) FROM superseded_certs"),
	    5);
	assert_int_equal(q1(copy, "SELECT revoke_at FROM superseded_certs "
	    "WHERE serial = 'x0' AND by_serial = 'b1'"), 900);
	assert_int_equal(q1(copy, "SELECT revoke_at FROM superseded_certs "
	    "WHERE serial = 'y0' AND by_serial = 'y1'"), 800);
	assert_int_equal(q1(copy, "SELECT count(*) FROM superseded_certs "
	    "WHERE serial IN ('c0', 'e0', 'r0')"), 3);
	assert_int_equal(q1(copy, "SELECT count(*) FROM superseded_certs "
	    "WHERE serial = 'a0'"), 0);
	assert_int_equal(q1(copy, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'superseded.restore.carry' AND object = 'x0' AND "
	    "details = '{\"restore\":\"superseded after the backup\",\"by\":"
	    "\"b1\",\"revoke_at\":900}'"), 1);
	assert_int_equal(q1(copy, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'superseded.restore.carry' AND object = 'a0' AND "
	    "details = '{\"restore\":\"revoked after the backup\",\"by\":"
	    "\"a1\",\"revoke_at\":500,\"revoked\":4}'"), 1);
	assert_int_equal(q1(copy, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'superseded.restore.carry'"), 3);
	assert_int_equal(q1(copy, "PRAGMA foreign_key_check"), -1);
	unlink_copy(copy);
}

static void
test_carry_superseded_orphan(void **state)
{
	struct fx *fx = *state;
	struct store_carry out;
	struct rc_detail d = {""};
	char copy[320];

	superseded_after_backup(fx, copy, sizeof(copy));
	/* a schedule whose replacing certificate neither store has */
	raw(fx, "INSERT INTO superseded_certs (serial, by_serial, revoke_at) "
	    "VALUES ('c1', 'zz', 1000)");
	assert_int_equal(store_restore_carry(copy, fx->path, "test", NULL,
	    NULL, &out, &d), RC_STATE);
	assert_string_equal(d.msg, "the revocation of c1 (superseded by zz) "
	    "scheduled in the replaced store names a certificate that "
	    "neither store has");
	assert_int_equal(out.nsups, 0);
	assert_int_equal(out.ncerts, 0);
	assert_int_equal(q1(copy, "SELECT count(*) FROM superseded_certs"),
	    4);
	assert_int_equal(q1(copy, "SELECT count(*) FROM audit_log WHERE "
	    "action LIKE '%.restore.carry'"), 0);
	unlink_copy(copy);
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
		T(test_carry_later_ca),
		T(test_carry_refused_by_check),
		T(test_carry_not_this_store),
		T(test_carry_superseded),
		T(test_carry_superseded_orphan),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
