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
 * one self-contained file, checked (PRAGMA integrity_check; the audit log's
 * hash chain through a store opened on it, which is how `certdesk audit
 * verify` checks the live log), synced, and linked to DEST, which link(2)
 * refuses to replace; then the directory is synced. Whatever fails,
 * nothing is left at DEST or DEST.partial.
 *
 * Runs in the `certdesk backup` process. Reads the source only.
 */
#include "store/store.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
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

/* Copies the source into the (empty) file partial: one snapshot. */
static int
copy(const char *src_path, const char *partial, struct rc_detail *d)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b;
	int rc, tries = 0;

	rc = sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		rc = dberr(d, src, src_path);
		goto out;
	}
	sqlite3_busy_timeout(src, 5000);
	rc = sqlite3_open_v2(partial, &dst, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		rc = dberr(d, dst, partial);
		goto out;
	}
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
