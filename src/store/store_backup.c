/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store_backup(): a consistent copy of the SQLite database while other
 * processes go on writing to it, checked before it is put in place.
 *
 * SQLite's online backup copies every page under one read transaction of
 * the source, so the copy is one snapshot (in WAL mode readers never block
 * writers, and the server is not held up). It is written to DEST.partial,
 * which must not exist (two backups to one name, or one interrupted, are
 * refused rather than mixed), switched to a rollback journal so that it is
 * one self-contained file, checked (its schema against the migrations'
 * before anything runs it; PRAGMA integrity_check; the audit log's hash
 * chain through a store opened on it, which is how `certdesk audit verify`
 * checks the live log), synced, and linked to DEST, which link(2) refuses
 * to replace; then the directory is synced. Whatever fails, nothing is
 * left at DEST or DEST.partial.
 *
 * `certdesk restore` makes its copy of a backup file the same way, so a
 * backup from elsewhere gets every check; store_restore_carry() then brings
 * into that copy the CAs and certificates the backup predates.
 *
 * Runs in the `certdesk backup` and `certdesk restore` processes. Reads
 * the source only. Trusts no schema but the migrations': a file whose
 * triggers or views differ would run them in every process that opens it.
 */
#include "store/store.h"
#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BACKUP_TRIES 50		/* of 100 ms each while the source is busy */

static int
dberr(struct rc_detail *d, sqlite3 *db, const char *what)
{
	rc_detail_set(d, "%s: %s", what, db != NULL ? sqlite3_errmsg(db) :
	    "out of memory");
	return RC_DB;
}

/* The one integer a query answers, or -1. */
static int64_t
one_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* A connection to a file from elsewhere: what its schema says does not
 * run (no triggers, no views, no functions called from them, no writes to
 * the schema). */
static void
distrust(sqlite3 *db)
{
	(void)sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	(void)sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	(void)sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
	(void)sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
}

/* Copies the source into the (empty) file partial: one snapshot. */
static int
copy(const char *src_path, const char *partial, struct rc_detail *d)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b;
	int rc, tries = 0;

	rc = sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK) {
		rc = dberr(d, src, src_path);
		goto out;
	}
	sqlite3_busy_timeout(src, 5000);
	distrust(src);
	rc = sqlite3_open_v2(partial, &dst, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		rc = dberr(d, dst, partial);
		goto out;
	}
	distrust(dst);
	if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL) {
		rc = dberr(d, dst, "backup");
		goto out;
	}
	/* all pages in one step: one read transaction, one snapshot */
	while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY ||
	    rc == SQLITE_LOCKED) {
		struct timespec ts = {0, 100 * 1000 * 1000};

		if (++tries >= BACKUP_TRIES)
			break;
		nanosleep(&ts, NULL);
	}
	(void)sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		rc_detail_set(d, "copying %s: %s", src_path, sqlite3_errstr(rc));
		rc = RC_DB;
		goto out;
	}
	rc = 0;
out:
	sqlite3_close(dst);
	sqlite3_close(src);
	return rc;
}

/* The audit log's chain and the schema, through a store on the copy. */
static int
check_store(const char *partial, struct store_backup_info *info,
    struct rc_detail *d)
{
	const struct store_conf c = {"sqlite", partial, 0};
	struct store *st = NULL;
	int64_t bad = 0;
	int rc;

	if ((rc = store_open(&c, &st)) != 0) {
		rc_detail_set(d, "the copy does not open as a store: %s",
		    rc_str(rc));
		return rc;
	}
	info->schema = store_schema_version(st);
	rc = store_audit_verify(st, &info->audit_entries, &bad);
	if (rc == RC_TAMPER)
		info->audit_bad = bad;
	else if (rc != 0)
		rc_detail_set(d, "verifying the copy's audit log: %s",
		    rc_str(rc));
	store_close(st);
	return rc;
}

/* One file again (no WAL), whole, counted. */
static int
check_file(const char *partial, struct store_backup_info *info,
    struct rc_detail *d)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	const char *r;
	int rc;

	rc = sqlite3_open_v2(partial, &db, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		rc = dberr(d, db, partial);
		goto out;
	}
	distrust(db);
	if (sqlite3_exec(db, "PRAGMA journal_mode=DELETE", NULL, NULL,
	    NULL) != SQLITE_OK) {
		rc = dberr(d, db, "journal_mode");
		goto out;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s,
	    NULL) != SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
		rc = dberr(d, db, "integrity_check");
		goto out;
	}
	r = (const char *)sqlite3_column_text(s, 0);
	if (r == NULL || strcmp(r, "ok") != 0) {
		rc_detail_set(d, "the copy fails SQLite's integrity check: %.200s",
		    r != NULL ? r : "?");
		rc = RC_DB;
		goto out;
	}
	info->certificates = one_int(db, "SELECT count(*) FROM certificates");
	info->revocations = one_int(db, "SELECT count(*) FROM revocations");
	rc = 0;
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

static int
sync_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
store_backup(const struct store_conf *conf, const char *dest,
    struct store_backup_info *info, struct rc_detail *d)
{
	static const char *const sfx[] = {"", "-journal", "-wal", "-shm",
	    "-nonce-ring"};
	char *partial;
	struct stat sb;
	int fd, rc, audit, placed = 0;

	if (conf == NULL || conf->path == NULL || dest == NULL ||
	    dest[0] == '\0' || info == NULL)
		return RC_INVAL;
	if (conf->backend != NULL && conf->backend[0] != '\0' &&
	    strcmp(conf->backend, "sqlite") != 0) {
		rc_detail_set(d, "backups are for the sqlite backend");
		return RC_CONFIG;
	}
	memset(info, 0, sizeof(*info));
	if (lstat(dest, &sb) == 0) {
		rc_detail_set(d, "%s exists: a backup never replaces a file",
		    dest);
		return RC_EXISTS;
	}
	partial = xasprintf("%s.partial", dest);
	fd = open(partial, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd < 0) {
		rc = errno == EEXIST ? RC_EXISTS : RC_IO;
		rc_detail_set(d, errno == EEXIST ? "%s exists: another backup "
		    "is being written there, or one was interrupted (remove it)"
		    : "cannot create %s: %s", partial, strerror(errno));
		free(partial);
		return rc;
	}
	close(fd);
	if ((rc = copy(conf->path, partial, d)) != 0)
		goto out;
	/* before any store opens it: opening runs the migrations, and with
	 * them whatever triggers the file has */
	if ((rc = store_schema_check(partial, NULL, d)) != 0) {
		if (rc == RC_TAMPER)
			rc = RC_INVAL;
		goto out;
	}
	/* a broken audit chain still gives a backup: it is the evidence */
	audit = check_store(partial, info, d);
	if (audit != 0 && audit != RC_TAMPER) {
		rc = audit;
		goto out;
	}
	if ((rc = check_file(partial, info, d)) != 0)
		goto out;
	rc = audit;
	if (stat(partial, &sb) == 0)
		info->bytes = (int64_t)sb.st_size;
	if (sync_file(partial) != 0 || link(partial, dest) != 0) {
		int e = errno;

		rc_detail_set(d, e == EEXIST ? "%s appeared while the backup "
		    "was made: not replaced" : "cannot write %s: %s", dest,
		    strerror(e));
		rc = e == EEXIST ? RC_EXISTS : RC_IO;
		goto out;
	}
	placed = 1;
	if (fs_sync_dir_of(dest) != 0) {
		rc_detail_set(d, "cannot sync the directory of %s: %s", dest,
		    strerror(errno));
		rc = RC_IO;
	}
out:
	/* the partial file, and what a check may have left beside it */
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		char *p = xasprintf("%s%s", partial, sfx[i]);

		(void)unlink(p);
		free(p);
	}
	if (rc != 0 && rc != RC_TAMPER && placed)
		(void)unlink(dest);
	free(partial);
	return rc;
}

/* ---- the schema a store file may have ------------------------------------ */

/*
 * Every object of sqlite_master (type, name, table, SQL) must be the one a
 * store made fresh by the migrations has, at the same migration: one made
 * in memory through the normal open path. Only SQLite's bookkeeping tables
 * may differ: sqlite_sequence (AUTOINCREMENT counters) and sqlite_stat*
 * (ANALYZE's statistics), which hold data and run nothing.
 */
static const char SQL_OBJECTS[] =
    "SELECT type, name, tbl_name, sql FROM sqlite_master "
    "WHERE NOT (type = 'table' AND (name = 'sqlite_sequence' "
    "OR name GLOB 'sqlite_stat[1-9]')) ORDER BY type, name";

struct obj {
	char *f[4];		/* type, name, tbl_name, sql (NULL: none) */
};

struct objs {
	struct obj *v;
	size_t n, cap;
};

static void
objs_free(struct objs *o)
{
	for (size_t i = 0; i < o->n; i++)
		for (int k = 0; k < 4; k++)
			free(o->v[i].f[k]);
	free(o->v);
	memset(o, 0, sizeof(*o));
}

/* The objects of db, ordered as SQL_OBJECTS orders them: SQLITE_OK or
 * SQLite's error code. */
static int
objs_read(sqlite3 *db, struct objs *o)
{
	sqlite3_stmt *s = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, SQL_OBJECTS, -1, &s, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct obj *b;

		if (o->n == o->cap) {
			o->cap = o->cap ? 2 * o->cap : 128;
			o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
		}
		b = &o->v[o->n++];
		for (int k = 0; k < 4; k++) {
			const char *t = (const char *)sqlite3_column_text(s, k);

			b->f[k] = t != NULL ? xstrdup(t) : NULL;
		}
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
nullcmp(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

/* Adds "what type name" to the list of differences in buf. */
static void
differs(char *buf, size_t size, size_t *n, const char *what,
    const struct obj *o)
{
	size_t len = strlen(buf);

	if ((*n)++ > 0 && len + 2 < size) {
		memcpy(buf + len, ", ", 3);
		len += 2;
	}
	if (len < size)
		snprintf(buf + len, size - len, "%s %s %s", what,
		    o->f[0] != NULL ? o->f[0] : "?",
		    o->f[1] != NULL ? o->f[1] : "?");
}

/* Which migration the file is at, from its schema_migrations: each of
 * 1..version recorded, by its name. 0, or RC_TAMPER with d. */
static int
file_version(sqlite3 *db, int *version, struct rc_detail *d)
{
	const struct store_migration *m = store_sqlite_migrations;
	sqlite3_stmt *s = NULL;
	int64_t want = 1;
	int rc;

	*version = 0;
	rc = sqlite3_prepare_v2(db, "SELECT version, name FROM "
	    "schema_migrations ORDER BY version", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		rc_detail_set(d, "not a certdesk store: %s",
		    sqlite3_errmsg(db));
		return RC_TAMPER;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 1);
		int64_t v = sqlite3_column_int64(s, 0);

		if (v != want || v > (int64_t)store_sqlite_migrations_count ||
		    name == NULL || strcmp(name, m[v - 1].name) != 0) {
			rc_detail_set(d, "schema_migrations: migration %lld "
			    "is not this certdesk's %s", (long long)v,
			    v == want ? "(or is newer)" : "(gap)");
			sqlite3_finalize(s);
			return RC_TAMPER;
		}
		want++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE || want == 1) {
		rc_detail_set(d, "schema_migrations: %s", rc != SQLITE_DONE ?
		    sqlite3_errmsg(db) : "empty");
		return RC_TAMPER;
	}
	*version = (int)(want - 1);
	return 0;
}

int
store_schema_check(const char *path, int *version, struct rc_detail *d)
{
	const struct store_conf mem = {"sqlite", ":memory:", 0};
	struct objs have = {0}, want = {0};
	struct store *ref = NULL;
	sqlite3 *db = NULL;
	char list[200] = "";
	size_t i = 0, k = 0, n = 0;
	int v = 0, rc;

	if (version != NULL)
		*version = 0;
	if (path == NULL)
		return RC_INVAL;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		rc = dberr(d, db, path);
		goto out;
	}
	distrust(db);
	if ((rc = file_version(db, &v, d)) != 0)
		goto out;
	if (objs_read(db, &have) != SQLITE_OK) {
		rc = dberr(d, db, "reading the schema");
		goto out;
	}
	if ((rc = sq_open_upto(&mem, v, &ref)) != 0) {
		rc_detail_set(d, "a fresh store at migration %d: %s", v,
		    rc_str(rc));
		goto out;
	}
	if (objs_read(ref->db, &want) != SQLITE_OK) {
		rc = dberr(d, ref->db, "reading a fresh store's schema");
		goto out;
	}
	/* both ordered by (type, name): one merge */
	while (i < have.n || k < want.n) {
		int c;

		if (i == have.n)
			c = 1;
		else if (k == want.n)
			c = -1;
		else if ((c = nullcmp(have.v[i].f[0], want.v[k].f[0])) == 0)
			c = nullcmp(have.v[i].f[1], want.v[k].f[1]);
		if (c < 0) {
			differs(list, sizeof(list), &n, "extra", &have.v[i++]);
		} else if (c > 0) {
			differs(list, sizeof(list), &n, "missing",
			    &want.v[k++]);
		} else {
			if (nullcmp(have.v[i].f[2], want.v[k].f[2]) != 0 ||
			    nullcmp(have.v[i].f[3], want.v[k].f[3]) != 0)
				differs(list, sizeof(list), &n, "changed",
				    &have.v[i]);
			i++;
			k++;
		}
	}
	if (n > 0) {
		rc_detail_set(d, "its schema is not the one certdesk's "
		    "migrations make (migration %d): %s", v, list);
		rc = RC_TAMPER;
		goto out;
	}
	if (version != NULL)
		*version = v;
	rc = 0;
out:
	objs_free(&have);
	objs_free(&want);
	store_close(ref);
	sqlite3_close(db);
	return rc;
}

/* ---- what a restore carries over ----------------------------------------- */

/*
 * The replaced store is attached read-only to the restored copy's
 * connection, and in one transaction of the copy what happened after the
 * backup comes over.
 *
 * First the CAs the copy lacks (by id: ids are never reused), which a
 * `ca roll` after the backup made: without its issuers row the restored
 * store would not know the CA, so the certificates it issued could not be
 * revoked, listed on a CRL or answered for by OCSP, the active issuing CA
 * would go back to an older one, and the next roll would find the CA's key
 * file and refuse it. Each comes with its id (its certificates, OCSP
 * responses, revocations and CRLs refer to it), name (its signer key id),
 * parent, certificate, CRL number and active flag, so that the newest
 * active CA of the replaced store is the active one again; the caller's
 * check (the signer holds the key and takes the certificate) runs first.
 * A CA whose name the copy has under another id, or a CA or certificate
 * hanging from an issuer the copy has with another name or certificate,
 * means the backup is not of this store: nothing is carried.
 *
 * Then the certificates the copy lacks (issued after the backup) with what
 * makes their status: the certificate row (DER, issuer, CRL shard; its
 * order and contract only when the copy has them, as their ids were
 * handed out after the backup and will be again), its key hash (from the
 * DER, as store_cert_add makes it), its signed OCSP response, its
 * revocation and its issued set; and, for every certificate, the keys
 * reported compromised; and for every CA that is the same in both, the
 * CRLs, CRL shards and shard counters the copy lacks, and the larger CRL
 * number (RFC 5280 5.2.3: they only increase).
 *
 * Then the revocations a portal reissue for other names scheduled
 * (superseded_certs: one row per replaced certificate, from its schedule
 * until the sweep revokes it, or finds it revoked or expired, and deletes
 * it). A row the copy lacks was made after the backup: without it the
 * replaced certificate would stay valid until it expires, although its
 * customer was told when it goes; it comes over as it is (its date, and
 * the certificate replacing it, which may have been issued after the
 * backup and carried over just now), so the sweep revokes it on time, or
 * at once when that time has passed. A row of the copy that the replaced
 * store no longer has, its certificate revoked there and not in the copy,
 * was done after the backup: it goes, and `certdesk restore` makes the
 * revocation again as it does every later revocation. (Any other row the
 * replaced store no longer has stays, for the sweep: it drops a row whose
 * certificate is revoked or expired, and revokes any other, as promised.)
 * Each CA, certificate and schedule carried over gets an audit entry.
 */
static const char *const carry_setup_sql[] = {
	"CREATE TEMP TABLE IF NOT EXISTS restore_carry "
	    "(serial TEXT PRIMARY KEY)",
	"DELETE FROM temp.restore_carry",
	"INSERT INTO temp.restore_carry SELECT serial FROM old.certificates "
	    "WHERE serial NOT IN (SELECT serial FROM main.certificates)",
	"CREATE TEMP TABLE IF NOT EXISTS restore_carry_ca "
	    "(id INTEGER PRIMARY KEY)",
	"DELETE FROM temp.restore_carry_ca",
	"INSERT INTO temp.restore_carry_ca SELECT id FROM old.issuers "
	    "WHERE id NOT IN (SELECT id FROM main.issuers)",
	/* superseded certificates scheduled after the backup */
	"CREATE TEMP TABLE IF NOT EXISTS restore_carry_sup "
	    "(serial TEXT PRIMARY KEY)",
	"DELETE FROM temp.restore_carry_sup",
	"INSERT INTO temp.restore_carry_sup SELECT serial "
	    "FROM old.superseded_certs WHERE serial NOT IN "
	    "(SELECT serial FROM main.superseded_certs)",
	/* and those scheduled before it and revoked after it */
	"CREATE TEMP TABLE IF NOT EXISTS restore_done_sup "
	    "(serial TEXT PRIMARY KEY, reason INTEGER)",
	"DELETE FROM temp.restore_done_sup",
	"INSERT INTO temp.restore_done_sup SELECT m.serial, r.reason "
	    "FROM main.superseded_certs m JOIN old.revocations r "
	    "USING (serial) WHERE m.serial NOT IN "
	    "(SELECT serial FROM old.superseded_certs) AND m.serial NOT IN "
	    "(SELECT serial FROM main.revocations)",
};

static const char *const carry_sql[] = {
	"INSERT INTO main.certificates (serial, issuer_id, profile, names, "
	    "order_id, contract_id, not_before, not_after, der, created_at, "
	    "crl_shard) SELECT c.serial, c.issuer_id, c.profile, c.names, "
	    "(SELECT id FROM main.orders WHERE id = c.order_id), "
	    "(SELECT id FROM main.contracts WHERE id = c.contract_id), "
	    "c.not_before, c.not_after, c.der, c.created_at, c.crl_shard "
	    "FROM old.certificates c JOIN temp.restore_carry USING (serial)",
	"INSERT OR IGNORE INTO main.cert_keys (spki_sha256, serial) "
	    "SELECT certdesk_spki_sha256(der), serial FROM main.certificates "
	    "WHERE serial IN temp.restore_carry AND profile <> 'ca' "
	    "AND certdesk_spki_sha256(der) IS NOT NULL",
	"INSERT INTO main.ocsp_responses (serial, issuer_id, status, "
	    "this_update, next_update, der) SELECT r.serial, r.issuer_id, "
	    "r.status, r.this_update, r.next_update, r.der "
	    "FROM old.ocsp_responses r JOIN temp.restore_carry USING (serial)",
	"INSERT INTO main.revocations (serial, issuer_id, reason, revoked_at) "
	    "SELECT r.serial, r.issuer_id, r.reason, r.revoked_at "
	    "FROM old.revocations r JOIN temp.restore_carry USING (serial)",
	"INSERT OR IGNORE INTO main.issued_sets (hash, issued_at, serial) "
	    "SELECT i.hash, i.issued_at, i.serial "
	    "FROM old.issued_sets i JOIN temp.restore_carry USING (serial)",
	"INSERT OR IGNORE INTO main.blocked_keys (spki_sha256, serial, "
	    "added_at) SELECT spki_sha256, serial, added_at "
	    "FROM old.blocked_keys",
	/* the CAs that are the same in both, the carried ones included */
	"CREATE TEMP TABLE IF NOT EXISTS restore_same "
	    "(id INTEGER PRIMARY KEY)",
	"DELETE FROM temp.restore_same",
	"INSERT INTO temp.restore_same SELECT m.id FROM main.issuers m "
	    "JOIN old.issuers o ON o.id = m.id AND o.name IS m.name "
	    "AND o.cert_der IS m.cert_der",
	"UPDATE main.issuers SET crl_number = (SELECT o.crl_number "
	    "FROM old.issuers o WHERE o.id = issuers.id) "
	    "WHERE id IN temp.restore_same AND crl_number < (SELECT "
	    "o.crl_number FROM old.issuers o WHERE o.id = issuers.id)",
	"INSERT OR IGNORE INTO main.crls (issuer_id, number, this_update, "
	    "next_update, der, created_at) SELECT issuer_id, number, "
	    "this_update, next_update, der, created_at FROM old.crls "
	    "WHERE issuer_id IN temp.restore_same",
	"INSERT OR IGNORE INTO main.crl_shards (issuer_id, shard, number, "
	    "this_update, next_update, der) SELECT issuer_id, shard, number, "
	    "this_update, next_update, der FROM old.crl_shards "
	    "WHERE issuer_id IN temp.restore_same",
	"INSERT INTO main.crl_shard_seq (issuer_id, next_seq) "
	    "SELECT issuer_id, next_seq FROM old.crl_shard_seq "
	    "WHERE issuer_id IN temp.restore_same "
	    "ON CONFLICT (issuer_id) DO UPDATE "
	    "SET next_seq = max(next_seq, excluded.next_seq)",
	/* the certificates they name are all in the copy by now */
	"INSERT INTO main.superseded_certs (serial, by_serial, revoke_at) "
	    "SELECT o.serial, o.by_serial, o.revoke_at "
	    "FROM old.superseded_certs o JOIN temp.restore_carry_sup "
	    "USING (serial)",
};

/* A CA to carry whose name the copy has (under another id). */
static const char SQL_CARRY_CLASH[] =
    "SELECT o.name, o.id, m.id FROM old.issuers o "
    "JOIN temp.restore_carry_ca USING (id) "
    "JOIN main.issuers m ON m.name = o.name LIMIT 1";

/* The issuer of a certificate to carry, or the parent of a CA to carry,
 * that the copy lacks (and that is not carried) or has as another CA. */
static const char SQL_CARRY_ISSUER[] =
    "SELECT x.id FROM (SELECT c.issuer_id AS id FROM old.certificates c "
    "JOIN temp.restore_carry USING (serial) "
    "UNION SELECT o.parent_id FROM old.issuers o "
    "JOIN temp.restore_carry_ca USING (id) "
    "WHERE o.parent_id IS NOT NULL) x "
    "LEFT JOIN old.issuers o ON o.id = x.id "
    "LEFT JOIN main.issuers m ON m.id = x.id "
    "WHERE x.id NOT IN temp.restore_carry_ca AND (m.id IS NULL "
    "OR o.id IS NULL OR m.name IS NOT o.name "
    "OR m.cert_der IS NOT o.cert_der) LIMIT 1";

/* A schedule to carry that names a certificate neither the copy has nor
 * the replaced store has to carry (its foreign keys would not hold). */
static const char SQL_CARRY_SUP_ORPHAN[] =
    "SELECT o.serial, o.by_serial FROM old.superseded_certs o "
    "JOIN temp.restore_carry_sup USING (serial) "
    "WHERE o.serial NOT IN (SELECT serial FROM main.certificates "
    "UNION SELECT serial FROM temp.restore_carry) "
    "OR o.by_serial NOT IN (SELECT serial FROM main.certificates "
    "UNION SELECT serial FROM temp.restore_carry) LIMIT 1";

static const char SQL_CARRY_CAS[] =
    "SELECT o.id, o.name, o.parent_id, o.is_root, o.active, o.cert_der, "
    "o.crl_number FROM old.issuers o JOIN temp.restore_carry_ca USING (id) "
    "ORDER BY o.id";

/* as it was, created_at included */
static const char SQL_CARRY_CA[] =
    "INSERT INTO main.issuers (id, name, parent_id, is_root, active, "
    "cert_der, crl_number, created_at) SELECT id, name, parent_id, "
    "is_root, active, cert_der, crl_number, created_at FROM old.issuers "
    "WHERE id = ?1";

static const char SQL_CARRIED[] =
    "SELECT c.serial, r.reason FROM temp.restore_carry c "
    "LEFT JOIN main.revocations r USING (serial) ORDER BY c.serial";

/* The schedules carried and those done, each with its audit details. */
static const char SQL_CARRIED_SUPS[] =
    "SELECT serial, by_serial, revoke_at, -1, json_object('restore', "
    "'superseded after the backup', 'by', by_serial, 'revoke_at', "
    "revoke_at) FROM main.superseded_certs "
    "JOIN temp.restore_carry_sup USING (serial) "
    "UNION ALL SELECT m.serial, m.by_serial, m.revoke_at, d.reason, "
    "json_object('restore', 'revoked after the backup', 'by', "
    "m.by_serial, 'revoke_at', m.revoke_at, 'revoked', d.reason) "
    "FROM main.superseded_certs m JOIN temp.restore_done_sup d "
    "USING (serial) ORDER BY 3, 1";

struct carry_ctx {
	const char *actor;
	int (*check_ca)(const struct store_issuer *, void *,
	    struct rc_detail *);
	void *arg;
	struct store_carry out;		/* what was carried, for the caller */
	size_t cap, cap_ca, cap_sup;
	struct rc_detail *d;
};

/* The statement that just failed on st's connection, in d. */
static int
carry_err(struct store *st, struct rc_detail *d)
{
	rc_detail_set(d, "carrying over: %s", sqlite3_errmsg(st->db));
	return sq_dberr(st, "restore carry", sqlite3_errcode(st->db));
}

static int
carry_exec(struct store *st, const char *sql, struct rc_detail *d)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	return carry_err(st, d);
}

/*
 * Runs a check query: no row, 0; a row, RC_STATE after what(s, d) said
 * why; else the error.
 */
static int
carry_refuse_if(struct store *st, const char *sql,
    void (*what)(sqlite3_stmt *, struct rc_detail *), struct rc_detail *d)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return carry_err(st, d);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		what(s, d);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return RC_STATE;
	return rc == SQLITE_DONE ? 0 : carry_err(st, d);
}

static void
clash_says(sqlite3_stmt *s, struct rc_detail *d)
{
	const char *name = (const char *)sqlite3_column_text(s, 0);

	rc_detail_set(d, "the CA %.64s is issuer %lld in the replaced store "
	    "and issuer %lld in the backup: it is not a backup of this store",
	    name != NULL ? name : "?", (long long)sqlite3_column_int64(s, 1),
	    (long long)sqlite3_column_int64(s, 2));
}

static void
orphan_says(sqlite3_stmt *s, struct rc_detail *d)
{
	const char *serial = (const char *)sqlite3_column_text(s, 0);
	const char *by = (const char *)sqlite3_column_text(s, 1);

	rc_detail_set(d, "the revocation of %.40s (superseded by %.40s) "
	    "scheduled in the replaced store names a certificate that "
	    "neither store has", serial != NULL ? serial : "?",
	    by != NULL ? by : "?");
}

static void
issuer_says(sqlite3_stmt *s, struct rc_detail *d)
{
	rc_detail_set(d, "certificates or CAs made after the backup hang "
	    "from issuer %lld, which the backup has as another CA (name or "
	    "certificate): it is not a backup of this store",
	    (long long)sqlite3_column_int64(s, 0));
}

/* Carries one CA, the row s of SQL_CARRY_CAS, after the caller's check. */
static int
carry_ca(struct store *st, struct carry_ctx *c, sqlite3_stmt *s)
{
	struct store_issuer is;
	struct store_carried_ca *e;
	sqlite3_stmt *ins = NULL;
	char details[128];
	int rc;

	memset(&is, 0, sizeof(is));
	is.id = sqlite3_column_int64(s, 0);
	is.name = (char *)(uintptr_t)sqlite3_column_text(s, 1);
	is.parent_id = sqlite3_column_int64(s, 2);
	is.is_root = sqlite3_column_int(s, 3);
	is.active = sqlite3_column_int(s, 4);
	is.cert_der = (uint8_t *)(uintptr_t)sqlite3_column_blob(s, 5);
	is.cert_len = (size_t)sqlite3_column_bytes(s, 5);
	is.crl_number = sqlite3_column_int64(s, 6);
	if (is.name == NULL || strlen(is.name) >= sizeof(e->name) ||
	    is.cert_der == NULL) {
		rc_detail_set(c->d, "issuer %lld of the replaced store has no "
		    "usable name or certificate", (long long)is.id);
		return RC_STATE;
	}
	if (c->check_ca != NULL &&
	    (rc = c->check_ca(&is, c->arg, c->d)) != 0) {
		if (c->d != NULL && c->d->msg[0] == '\0')
			rc_detail_set(c->d, "CA %s: %s", is.name, rc_str(rc));
		return rc;
	}
	if (sqlite3_prepare_v2(st->db, SQL_CARRY_CA, -1, &ins, NULL) !=
	    SQLITE_OK)
		return carry_err(st, c->d);
	sqlite3_bind_int64(ins, 1, is.id);
	rc = sqlite3_step(ins);
	sqlite3_finalize(ins);
	if (rc != SQLITE_DONE)
		return carry_err(st, c->d);
	if (c->out.ncas == c->cap_ca) {
		c->cap_ca = c->cap_ca ? 2 * c->cap_ca : 4;
		c->out.cas = xrealloc(c->out.cas,
		    c->cap_ca * sizeof(*c->out.cas));
	}
	e = &c->out.cas[c->out.ncas++];
	e->id = is.id;
	memcpy(e->name, is.name, strlen(is.name) + 1);
	e->is_root = is.is_root;
	e->active = is.active;
	snprintf(details, sizeof(details), "{\"restore\":\"made after the "
	    "backup\",\"issuer\":%lld,\"active\":%s}", (long long)is.id,
	    is.active ? "true" : "false");
	rc = store_audit_append(st, c->actor, "ca.restore.carry", e->name,
	    details);
	if (rc != 0)
		rc_detail_set(c->d, "auditing %s: %s", e->name, rc_str(rc));
	return rc;
}

/*
 * Lists and audits the schedules carried (inserted by carry_sql) and
 * those done after the backup, which then leave the copy.
 */
static int
carry_sups(struct store *st, struct carry_ctx *c)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, SQL_CARRIED_SUPS, -1, &s, NULL) !=
	    SQLITE_OK)
		return carry_err(st, c->d);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *serial = (const char *)sqlite3_column_text(s, 0);
		const char *by = (const char *)sqlite3_column_text(s, 1);
		const char *details = (const char *)sqlite3_column_text(s, 4);
		struct store_carried_sup *e;

		if (serial == NULL || strlen(serial) >= sizeof(e->serial) ||
		    by == NULL || strlen(by) >= sizeof(e->by_serial) ||
		    details == NULL)
			continue;	/* not a serial this store makes */
		if (c->out.nsups == c->cap_sup) {
			c->cap_sup = c->cap_sup ? 2 * c->cap_sup : 8;
			c->out.sups = xrealloc(c->out.sups,
			    c->cap_sup * sizeof(*c->out.sups));
		}
		e = &c->out.sups[c->out.nsups++];
		memcpy(e->serial, serial, strlen(serial) + 1);
		memcpy(e->by_serial, by, strlen(by) + 1);
		e->revoke_at = (time_t)sqlite3_column_int64(s, 2);
		e->reason = sqlite3_column_int(s, 3);
		e->done = e->reason >= 0;
		rc = store_audit_append(st, c->actor,
		    "superseded.restore.carry", e->serial, details);
		if (rc != 0) {
			rc_detail_set(c->d, "auditing %s: %s", e->serial,
			    rc_str(rc));
			sqlite3_finalize(s);
			return rc;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return carry_err(st, c->d);
	/* done: its revocation is made again, as every later one is */
	return carry_exec(st, "DELETE FROM main.superseded_certs WHERE "
	    "serial IN (SELECT serial FROM temp.restore_done_sup)", c->d);
}

static int
carry_tx(struct store *st, void *arg)
{
	struct carry_ctx *c = arg;
	sqlite3_stmt *s = NULL;
	int rc;

	for (size_t i = 0; i < sizeof(carry_setup_sql) /
	    sizeof(carry_setup_sql[0]); i++)
		if ((rc = carry_exec(st, carry_setup_sql[i], c->d)) != 0)
			return rc;
	if ((rc = carry_refuse_if(st, SQL_CARRY_CLASH, clash_says,
	    c->d)) != 0 ||
	    (rc = carry_refuse_if(st, SQL_CARRY_ISSUER, issuer_says,
	    c->d)) != 0 ||
	    (rc = carry_refuse_if(st, SQL_CARRY_SUP_ORPHAN, orphan_says,
	    c->d)) != 0)
		return rc;
	/* the CAs first: the certificates refer to them */
	if (sqlite3_prepare_v2(st->db, SQL_CARRY_CAS, -1, &s, NULL) !=
	    SQLITE_OK)
		return carry_err(st, c->d);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if ((rc = carry_ca(st, c, s)) != 0) {
			sqlite3_finalize(s);
			return rc;
		}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return carry_err(st, c->d);
	for (size_t i = 0; i < sizeof(carry_sql) / sizeof(carry_sql[0]); i++)
		if ((rc = carry_exec(st, carry_sql[i], c->d)) != 0)
			return rc;
	if (sqlite3_prepare_v2(st->db, SQL_CARRIED, -1, &s, NULL) !=
	    SQLITE_OK)
		return carry_err(st, c->d);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *serial = (const char *)sqlite3_column_text(s, 0);
		struct store_carried *e;
		char details[96];

		if (serial == NULL || strlen(serial) >= sizeof(e->serial))
			continue;	/* not a serial this store makes */
		if (c->out.ncerts == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 16;
			c->out.certs = xrealloc(c->out.certs,
			    c->cap * sizeof(*c->out.certs));
		}
		e = &c->out.certs[c->out.ncerts++];
		memcpy(e->serial, serial, strlen(serial) + 1);
		e->reason = sqlite3_column_type(s, 1) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(s, 1);
		if (e->reason < 0)
			snprintf(details, sizeof(details), "{\"restore\":"
			    "\"issued after the backup\"}");
		else
			snprintf(details, sizeof(details), "{\"restore\":"
			    "\"issued after the backup\",\"revoked\":%d}",
			    e->reason);
		rc = store_audit_append(st, c->actor, "cert.restore.carry",
		    e->serial, details);
		if (rc != 0) {
			rc_detail_set(c->d, "auditing %s: %s", e->serial,
			    rc_str(rc));
			sqlite3_finalize(s);
			return rc;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return carry_err(st, c->d);
	if ((rc = carry_sups(st, c)) != 0)
		return rc;
	return carry_exec(st, "DROP TABLE temp.restore_carry; "
	    "DROP TABLE temp.restore_carry_ca; DROP TABLE temp.restore_same; "
	    "DROP TABLE temp.restore_carry_sup; "
	    "DROP TABLE temp.restore_done_sup", c->d);
}

void
store_carry_clear(struct store_carry *c)
{
	if (c == NULL)
		return;
	free(c->certs);
	free(c->cas);
	free(c->sups);
	memset(c, 0, sizeof(*c));
}

/* "file:" URI of path, read-only: its bytes percent-encoded but for those
 * a URI path keeps as they are. */
static char *
ro_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path);
	char *u = xmalloc(3 * n + 16), *p;

	p = u + sprintf(u, "file:");
	for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("/-._~", *c) != NULL) {
			*p++ = (char)*c;
		} else {
			*p++ = '%';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 15];
		}
	}
	strcpy(p, "?mode=ro");
	return u;
}

int
store_restore_carry(const char *restored, const char *replaced,
    const char *actor,
    int (*check_ca)(const struct store_issuer *, void *, struct rc_detail *),
    void *arg, struct store_carry *out, struct rc_detail *d)
{
	const struct store_conf conf = {"sqlite", restored, 1};
	struct carry_ctx c;
	struct store *st = NULL;
	sqlite3_stmt *s = NULL;
	char *uri = NULL;
	int attached = 0, rc;
	int64_t v = -1;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.actor = actor;
	c.check_ca = check_ca;
	c.arg = arg;
	c.d = d;
	if ((rc = store_open(&conf, &st)) != 0) {
		rc_detail_set(d, "the restored copy does not open: %s",
		    rc_str(rc));
		return rc;
	}
	/* the replaced store is read only; its schema is not run */
	(void)sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	(void)sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0,
	    NULL);
	uri = ro_uri(replaced);
	if (sqlite3_prepare_v2(st->db, "ATTACH ?1 AS old", -1, &s, NULL) !=
	    SQLITE_OK) {
		rc = dberr(d, st->db, "attaching the replaced store");
		goto out;
	}
	sqlite3_bind_text(s, 1, uri, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = dberr(d, st->db, replaced);
		goto out;
	}
	attached = 1;
	sqlite3_finalize(s);
	s = NULL;
	/* the columns named above are those of this certdesk's schema */
	if (sqlite3_prepare_v2(st->db, "SELECT max(version) FROM "
	    "old.schema_migrations", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	if (v != store_schema_version(st)) {
		rc_detail_set(d, "the replaced store is at migration %lld, "
		    "not %d (open it once with this certdesk)", (long long)v,
		    store_schema_version(st));
		rc = RC_STATE;
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	/* one transaction on this connection, the one the replaced store is
	 * attached to (store_tx may run on another of the file's); no other
	 * process has the copy, so nothing conflicts. store_audit_append
	 * nests in it as a savepoint. */
	if ((rc = carry_exec(st, "BEGIN IMMEDIATE", d)) != 0)
		goto out;
	st->depth = 1;
	rc = carry_tx(st, &c);
	st->depth = 0;
	if (rc == 0)
		rc = carry_exec(st, "COMMIT", d);
	if (rc != 0) {
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		if (d != NULL && d->msg[0] == '\0')
			rc_detail_set(d, "carrying over: %s", rc_str(rc));
		goto out;
	}
	*out = c.out;
	memset(&c.out, 0, sizeof(c.out));
out:
	sqlite3_finalize(s);
	if (attached)
		(void)sqlite3_exec(st->db, "DETACH old", NULL, NULL, NULL);
	store_carry_clear(&c.out);
	free(uri);
	store_close(st);
	return rc;
}
