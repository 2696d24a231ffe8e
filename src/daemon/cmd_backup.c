/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `certdesk backup --data DIR --out FILE`: a consistent, checked copy of
 * the store while `certdesk serve` goes on (store_backup). Prints what the
 * copy holds; exit 0 when it is written and its audit log verifies, 1 when
 * nothing could be written or its audit log is broken (the copy is then
 * kept, as evidence). The CA keys are not in it: they are backed up
 * offline, by their own procedure. Reads the store only (after the
 * migrations any command applies when it opens the store).
 *
 * `certdesk restore --data DIR --from FILE`: puts a backup in the store's
 * place while no process has the store open (found through /proc; a
 * process that looks like certdesk and whose open files cannot be read
 * counts as having it open): a copy checked as a backup is (store_backup
 * from FILE, schema included), into which the CAs made after the backup
 * (a `ca roll`: each once the signer holds its key and takes its
 * certificate) and the certificates issued after it are carried over from
 * the replaced store with their revocations, and the revocations a portal
 * reissue scheduled after it (store_restore_carry), the replaced store
 * kept with its -wal and -shm under a new name, and every other revocation
 * of the replaced store that the backup lacks made again through the CA,
 * so that a restore never makes a revoked certificate good nor loses an
 * issuing CA or a scheduled revocation. When that cannot be done, the
 * restore is refused unless --drop-later-revocations.
 *
 * Runs in the main certdesk process; restore forks the signer only when it
 * has CAs to carry over (before the swap) or revocations to make again
 * (after it).
 */
#include "ca/ca.h"
#include "daemon/daemon_int.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int
daemon_cmd_backup(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *out = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--out", DAEMON_OPT_STR, &out, "FILE", 1,
		    "the backup file to write (never replaced)"},
	};
	struct rc_detail d = {""};
	struct store_backup_info info;
	int done, rc;

	rc = daemon_opts(cx, opts, sizeof(opts) / sizeof(opts[0]), argc, argv,
	    NULL, 0, NULL, &done);
	if (done)
		return rc;
	if ((rc = daemon_load(cx, data, 0)) != DAEMON_EXIT_OK)
		return rc;
	/* with general.user, run by root, backup becomes the user as every
	 * command does before it opens the store (root would run SQLite on
	 * the user's files, and make files in its directory): FILE is then
	 * written by the user */
	/* opening the store applies pending migrations, so that the copy has
	 * this certdesk's schema */
	rc = daemon_open(cx, DAEMON_NEED_STORE);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	{
		struct store_conf sc = {cx->conf.store_backend, cx->db_path, 1};

		rc = store_backup(&sc, out, &info, &d);
	}
	if (rc != 0 && rc != RC_TAMPER) {
		daemon_fail(cx, "%s%s%s%s", rc_detail_str(&d, rc),
		    cx->user_dropped ? " (running as " : "",
		    cx->user_dropped ? cx->user.name : "",
		    cx->user_dropped ? ", general.user: write the backup "
		    "where that user may, then move it)" : "");
		return DAEMON_EXIT_FAIL;
	}
	printf("backup of %s written to %s: %lld bytes, schema %d, %lld "
	    "certificates, %lld revocations, audit log %s (%lld entries)\n",
	    cx->db_path, out, (long long)info.bytes, info.schema,
	    (long long)info.certificates, (long long)info.revocations,
	    rc == 0 ? "intact" : "BROKEN", (long long)info.audit_entries);
	if (cx->conf.signer_pkcs11_module[0] != '\0')
		printf("not in it: the CA keys (%s, and those on the PKCS#11 "
		    "token '%s', backed up by the HSM's means), to be backed "
		    "up offline\n", cx->keys_dir,
		    cx->conf.signer_pkcs11_token);
	else
		printf("not in it: the CA keys (%s), to be backed up "
		    "offline\n", cx->keys_dir);
	if (rc == RC_TAMPER) {
		daemon_fail(cx, "the audit log is broken at entry %lld (in the "
		    "store and so in the copy, which is kept as evidence)",
		    (long long)info.audit_bad);
		return DAEMON_EXIT_FAIL;
	}
	return DAEMON_EXIT_OK;
}

/* ---- restore ------------------------------------------------------------- */

/* 1 when the process pid looks like certdesk: its name, the name it was
 * started by, or its executable. All three can be read of any process. */
static int
certdesk_like(long pid)
{
	char path[64], buf[256];
	const char *base;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if ((f = fopen(path, "r")) != NULL) {
		n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n > 0 ? n : 0] = '\0';
		if (strncmp(buf, "certdesk", 8) == 0)
			return 1;
	}
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if ((f = fopen(path, "r")) != NULL) {
		n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n > 0 ? n : 0] = '\0';	/* argv[0] ends at a NUL */
		base = strrchr(buf, '/');
		if (strstr(base != NULL ? base + 1 : buf, "certdesk") != NULL)
			return 1;
	}
	snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		base = strrchr(buf, '/');
		if (strstr(base != NULL ? base + 1 : buf, "certdesk") != NULL)
			return 1;
	}
	return 0;
}

/* The pid of a process other than this one that has a file of (dev, ino)
 * open, or 0. Reads /proc/<pid>/fd of every process it may read (all of
 * them as root, those of this user otherwise). Fails closed: a process
 * whose open files cannot be read and that looks like certdesk counts as
 * a holder, with *blind set; -1 when /proc cannot be read. */
static long
holder(dev_t dev, ino_t ino, int *blind)
{
	DIR *d = opendir("/proc"), *fds;
	struct dirent *p, *f;
	long found = 0, self = (long)getpid();

	*blind = 0;
	if (d == NULL)
		return -1;
	while (found == 0 && (p = readdir(d)) != NULL) {
		char path[300];
		long pid = strtol(p->d_name, NULL, 10);

		if (pid <= 0 || pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
		if ((fds = opendir(path)) == NULL) {
			/* gone meanwhile, or not ours to read */
			if (errno != ENOENT && certdesk_like(pid)) {
				found = pid;
				*blind = 1;
			}
			continue;
		}
		while ((f = readdir(fds)) != NULL) {
			struct stat sb;

			snprintf(path, sizeof(path), "/proc/%ld/fd/%s", pid,
			    f->d_name);
			if (f->d_name[0] != '.' && stat(path, &sb) == 0 &&
			    sb.st_dev == dev && sb.st_ino == ino) {
				found = pid;
				break;
			}
		}
		closedir(fds);
	}
	closedir(d);
	return found;
}

/* A revocation of the store that is being replaced. */
struct old_rev {
	char serial[48];
	int reason;
	int lost;		/* its certificate is not in the restored
				 * copy */
};

/* The revocations of the database at path (read-only; it may be damaged:
 * then *ok is 0, why says why, and v holds those read). */
static struct old_rev *
old_revocations(const char *path, size_t *n, int *ok, struct rc_detail *why)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	struct old_rev *v = NULL;
	size_t cap = 0;
	int rc;

	*n = 0;
	*ok = 0;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, "SELECT serial, reason FROM "
	    "revocations ORDER BY revoked_at", -1, &s, NULL) != SQLITE_OK) {
		rc_detail_set(why, "%s", db ? sqlite3_errmsg(db) :
		    "out of memory");
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *serial = (const char *)sqlite3_column_text(s, 0);

		if (serial == NULL || strlen(serial) >= sizeof(v->serial))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			v = xrealloc(v, cap * sizeof(*v));
		}
		snprintf(v[*n].serial, sizeof(v[*n].serial), "%s", serial);
		v[*n].reason = sqlite3_column_int(s, 1);
		(*n)++;
	}
	if (rc != SQLITE_DONE)
		rc_detail_set(why, "stopped early: %s", sqlite3_errmsg(db));
	else
		*ok = 1;
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* Marks the revocations of revs whose certificate the store at path lacks
 * and returns how many; all of them when it cannot tell. */
static size_t
lacking(const char *path, struct old_rev *revs, size_t n)
{
	const struct store_conf c = {"sqlite", path, 0};
	struct store *st = NULL;
	size_t lost = 0;

	if (store_open(&c, &st) != 0)
		st = NULL;
	for (size_t i = 0; i < n; i++) {
		struct store_cert cert;

		revs[i].lost = st == NULL ||
		    store_cert_get(st, revs[i].serial, &cert) != 0;
		if (st != NULL)
			store_cert_clear(&cert);
		lost += (size_t)revs[i].lost;
	}
	store_close(st);
	return lost;
}

/* The serial of the first lost revocation of revs, or "". */
static const char *
first_lost(const struct old_rev *revs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (revs[i].lost)
			return revs[i].serial;
	return "";
}

/* A CA of the store being replaced that the restored copy lacks. */
struct lost_ca {
	char name[65];
	int64_t id;
	int64_t certs, revoked;		/* of its certificates, in the
					 * replaced store */
};

/*
 * The CAs of the database at replaced (read-only) that the store at
 * restored lacks (no issuer of the same id and name), with how many
 * certificates each issued and how many of them are revoked; *ok is 0 when
 * the replaced store's CAs cannot be read (why says why) and 1 otherwise.
 */
static struct lost_ca *
lost_cas(const char *replaced, const char *restored, size_t *n, int *ok,
    struct rc_detail *why)
{
	const struct store_conf c = {"sqlite", restored, 0};
	struct store *st = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	struct lost_ca *v = NULL;
	size_t cap = 0;
	int rc;

	*n = 0;
	*ok = 0;
	if (sqlite3_open_v2(replaced, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, "SELECT i.id, i.name, "
	    "(SELECT count(*) FROM certificates c WHERE c.issuer_id = i.id), "
	    "(SELECT count(*) FROM revocations r WHERE r.issuer_id = i.id) "
	    "FROM issuers i ORDER BY i.id", -1, &s, NULL) != SQLITE_OK) {
		rc_detail_set(why, "its CAs: %s", db ? sqlite3_errmsg(db) :
		    "out of memory");
		goto out;
	}
	if (store_open(&c, &st) != 0)
		st = NULL;	/* then every CA counts as lost */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 1);
		struct store_issuer is;
		int64_t id = sqlite3_column_int64(s, 0);
		int have;

		if (name == NULL)
			name = "?";
		have = st != NULL && store_issuer_get(st, id, &is) == 0 &&
		    is.name != NULL && strcmp(is.name, name) == 0;
		if (st != NULL)
			store_issuer_clear(&is);
		if (have)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 4;
			v = xrealloc(v, cap * sizeof(*v));
		}
		snprintf(v[*n].name, sizeof(v[*n].name), "%s", name);
		v[*n].id = id;
		v[*n].certs = sqlite3_column_int64(s, 2);
		v[*n].revoked = sqlite3_column_int64(s, 3);
		(*n)++;
	}
	if (rc != SQLITE_DONE)
		rc_detail_set(why, "its CAs: stopped early: %s",
		    sqlite3_errmsg(db));
	else
		*ok = 1;
out:
	store_close(st);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* A revocation of a superseded certificate scheduled in the store being
 * replaced (superseded_certs) that the restored copy lacks. */
struct lost_sup {
	char serial[48];
	char by_serial[48];
	time_t revoke_at;
};

/*
 * The revocations scheduled in the database at replaced (read-only) of
 * superseded certificates not revoked there, that the store file at
 * restored does not schedule (all of them when it cannot tell): what a
 * restore that carries nothing loses. *ok is 0 when the replaced store's
 * cannot be read (why says why), 1 otherwise.
 */
static struct lost_sup *
lost_sups(const char *replaced, const char *restored, size_t *n, int *ok,
    struct rc_detail *why)
{
	sqlite3 *db = NULL, *cp = NULL;
	sqlite3_stmt *s = NULL, *q = NULL;
	struct lost_sup *v = NULL;
	size_t cap = 0;
	int rc;

	*n = 0;
	*ok = 0;
	if (sqlite3_open_v2(replaced, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, "SELECT serial, by_serial, "
	    "revoke_at FROM superseded_certs WHERE serial NOT IN "
	    "(SELECT serial FROM revocations) ORDER BY revoke_at, serial",
	    -1, &s, NULL) != SQLITE_OK) {
		rc_detail_set(why, "its scheduled revocations: %s", db ?
		    sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	/* read-write, as a store opens it: a read-only connection to a file
	 * in WAL mode leaves its -wal and -shm behind */
	if (sqlite3_open_v2(restored, &cp, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(cp, "SELECT 1 FROM "
	    "superseded_certs WHERE serial = ?1", -1, &q, NULL) != SQLITE_OK)
		q = NULL;	/* then every one counts as lost */
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *serial = (const char *)sqlite3_column_text(s, 0);
		const char *by = (const char *)sqlite3_column_text(s, 1);
		int have = 0;

		if (serial == NULL || strlen(serial) >= sizeof(v->serial))
			continue;	/* not a serial this store makes */
		if (q != NULL) {
			sqlite3_bind_text(q, 1, serial, -1, SQLITE_STATIC);
			have = sqlite3_step(q) == SQLITE_ROW;
			sqlite3_reset(q);
		}
		if (have)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			v = xrealloc(v, cap * sizeof(*v));
		}
		snprintf(v[*n].serial, sizeof(v[*n].serial), "%s", serial);
		snprintf(v[*n].by_serial, sizeof(v[*n].by_serial), "%.40s",
		    by != NULL ? by : "?");
		v[*n].revoke_at = (time_t)sqlite3_column_int64(s, 2);
		(*n)++;
	}
	if (rc != SQLITE_DONE)
		rc_detail_set(why, "its scheduled revocations: stopped early: "
		    "%s", sqlite3_errmsg(db));
	else
		*ok = 1;
out:
	sqlite3_finalize(q);
	sqlite3_close(cp);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/*
 * store_restore_carry's check of a CA the backup lacks, before its row is
 * carried over: the signer (forked here, the first time) must hold its
 * key and take its certificate (SETCERT: a CA certificate of that key,
 * signed by a root key it holds; the check it makes of each key's .crt
 * when it starts). The certificate then is the key's .crt: it is the one
 * the replaced store used with the key, so the signer agrees with either
 * store, whichever ends up in place.
 */
static int
carry_check(const struct store_issuer *is, void *arg, struct rc_detail *d)
{
	struct daemon_ctx *cx = arg;
	int rc;

	if (daemon_open(cx, DAEMON_NEED_SIGNER | DAEMON_MANAGE_KEYS) !=
	    DAEMON_EXIT_OK) {
		rc_detail_set(d, "CA %s: the signer did not start", is->name);
		return RC_SIGNER;
	}
	rc = signer_set_cert(cx->sg, is->name, is->cert_der, is->cert_len);
	if (rc == RC_NOTFOUND || rc == RC_INVAL)
		rc_detail_set(d, "CA %s: the signer has no key %s (%s/%s.key, "
		    "or .p11 on the token)", is->name, is->name, cx->keys_dir,
		    is->name);
	else if (rc != 0)
		rc_detail_set(d, "CA %s: the signer refuses its certificate "
		    "from the replaced store (%s; its reason is logged "
		    "above)", is->name, rc_str(rc));
	return rc;
}

/* What a store file brings along: it, its WAL and its shared memory. */
static const char *const sfx[] = {"", "-wal", "-shm"};

/*
 * Renames the store file from and its -wal and -shm (those that exist) to
 * to with the same suffixes, and syncs the directory. All or none: when one
 * fails, those already moved go back. 0, or 1 + the index in sfx of the
 * one that failed (errno tells why).
 */
static int
move_files(const char *from, const char *to)
{
	size_t n = sizeof(sfx) / sizeof(sfx[0]), i;
	int e = 0;

	for (i = 0; i < n; i++) {
		char *a = xasprintf("%s%s", from, sfx[i]);
		char *b = xasprintf("%s%s", to, sfx[i]);

		e = rename(a, b) == 0 || errno == ENOENT ? 0 : errno;
		free(a);
		free(b);
		if (e != 0)
			break;
	}
	if (e == 0) {
		(void)fs_sync_dir_of(to);
		return 0;
	}
	for (size_t k = i; k-- > 0;) {
		char *a = xasprintf("%s%s", to, sfx[k]);
		char *b = xasprintf("%s%s", from, sfx[k]);

		(void)rename(a, b);
		free(a);
		free(b);
	}
	errno = e;
	return (int)i + 1;
}

/* Copies what fd reads into a new file at path (mode 0600): 0, or -1 with
 * errno (nothing left at path). */
static int
copy_fd(int fd, const char *path)
{
	char buf[65536];
	int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600), e;
	ssize_t n;

	if (out < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || fs_write_all(out, buf, (size_t)n) != 0) {
			n = -1;
			break;
		}
	}
	if (n == 0 && fsync(out) == 0) {
		if (close(out) == 0)
			return 0;
		out = -1;
	}
	e = errno;
	if (out >= 0)
		(void)close(out);
	(void)unlink(path);
	errno = e;
	return -1;
}

int
daemon_cmd_restore(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *from = NULL;
	int drop = 0;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--from", DAEMON_OPT_STR, &from, "FILE", 1,
		    "a file written by 'certdesk backup'"},
		{"--drop-later-revocations", DAEMON_OPT_FLAG, &drop, NULL, 0,
		    "restore even when revocations, scheduled revocations "
		    "or CAs the backup lacks cannot be kept (they are lost: "
		    "revoke them again by hand; a lost CA's certificates are "
		    "unknown)"},
	};
	struct rc_detail d = {""}, why = {""};
	struct store_backup_info info;
	struct old_rev *revs = NULL;
	struct store_carry carried = {0};
	struct lost_ca *cas = NULL;
	struct lost_sup *sups = NULL;
	size_t nrevs = 0, again = 0, dropped = 0, nlost = 0, ncas = 0;
	size_t nsups = 0, scheduled = 0;
	char *restoring = NULL, *kept = NULL, stamp[32], when[32];
	char *from_copy = NULL;
	struct stat sb;
	time_t now = time(NULL);
	struct tm tm;
	int done, rc, have_old, revs_ok = 1, cas_ok = 1, sups_ok = 1;
	int carry_rc = 0;

	rc = daemon_opts(cx, opts, sizeof(opts) / sizeof(opts[0]), argc, argv,
	    NULL, 0, NULL, &done);
	if (done)
		return rc;
	if ((rc = daemon_load(cx, data, 0)) != DAEMON_EXIT_OK)
		return rc;
	have_old = stat(cx->db_path, &sb) == 0;
	if (have_old) {
		int blind;
		long pid = holder(sb.st_dev, sb.st_ino, &blind);

		if (pid < 0) {
			daemon_fail(cx, "cannot look through /proc for "
			    "processes that have %s open: %s", cx->db_path,
			    strerror(errno));
			return DAEMON_EXIT_FAIL;
		}
		if (pid != 0 && blind) {
			daemon_fail(cx, "process %ld looks like certdesk and "
			    "its open files cannot be read, so it may have %s "
			    "open: stop it, or run restore as root or as its "
			    "user", pid, cx->db_path);
			return DAEMON_EXIT_FAIL;
		}
		if (pid != 0) {
			daemon_fail(cx, "process %ld has %s open: stop every "
			    "certdesk serve (and command) on %s first", pid,
			    cx->db_path, cx->data);
			return DAEMON_EXIT_FAIL;
		}
	}
	/* general.user: the signer now, then the user, who makes the copy
	 * and moves the stores in its directory; the backup, root's to read,
	 * is opened first and copied there by the user */
	if (cx->user.set) {
		int fd = open(from, O_RDONLY | O_CLOEXEC | O_NOCTTY);

		if (fd < 0) {
			daemon_fail(cx, "--from %s: %s", from, strerror(errno));
			return DAEMON_EXIT_FAIL;
		}
		if (daemon_open(cx, DAEMON_MANAGE_KEYS) != DAEMON_EXIT_OK) {
			close(fd);
			return DAEMON_EXIT_FAIL;
		}
		from_copy = xasprintf("%s.from", cx->db_path);
		rc = copy_fd(fd, from_copy);
		close(fd);
		if (rc != 0) {
			daemon_fail(cx, "%s: cannot copy %s there: %s",
			    from_copy, from, strerror(errno));
			free(from_copy);
			return DAEMON_EXIT_FAIL;
		}
		from = from_copy;
	}
	/* the backup, copied beside the store and checked (schema,
	 * integrity, audit chain) the way a backup is made */
	restoring = xasprintf("%s.restoring", cx->db_path);
	{
		struct store_conf sc = {cx->conf.store_backend, from, 0};

		if (access(from, R_OK) != 0) {
			daemon_fail(cx, "--from %s: %s", from, strerror(errno));
			rc = DAEMON_EXIT_FAIL;
			goto out;
		}
		rc = store_backup(&sc, restoring, &info, &d);
	}
	if (rc == RC_TAMPER) {
		(void)unlink(restoring);
		daemon_fail(cx, "%s: its audit log is broken at entry %lld: "
		    "not restored", from, (long long)info.audit_bad);
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	if (rc != 0) {
		daemon_fail(cx, "%s: %s: not restored", from,
		    rc_detail_str(&d, rc));
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	/* what happened after the backup: the CAs made since and the
	 * certificates issued since, with their revocations, and the
	 * revocations scheduled since, carried over into the copy; the other
	 * revocations are made again below, once the copy is in place */
	if (have_old) {
		revs = old_revocations(cx->db_path, &nrevs, &revs_ok, &why);
		d.msg[0] = '\0';
		carry_rc = store_restore_carry(restoring, cx->db_path,
		    cx->actor, carry_check, cx, &carried, &d);
		if (carry_rc != 0) {
			nlost = lacking(restoring, revs, nrevs);
			/* nothing was carried: every CA the backup lacks is
			 * lost, with its certificates */
			cas = lost_cas(cx->db_path, restoring, &ncas, &cas_ok,
			    revs_ok ? &why : NULL);
			/* and every revocation scheduled since: the
			 * certificates it would revoke stay valid */
			sups = lost_sups(cx->db_path, restoring, &nsups,
			    &sups_ok, revs_ok && cas_ok ? &why : NULL);
		}
	}
	if ((!revs_ok || !cas_ok || !sups_ok || nlost > 0 || ncas > 0 ||
	    nsups > 0) && !drop) {
		(void)unlink(restoring);
		if (!revs_ok || !cas_ok || !sups_ok) {
			daemon_fail(cx, "the revocations, CAs or scheduled "
			    "revocations of %s cannot be read (%s), so the "
			    "restore could make revoked certificates good or "
			    "lose an issuing CA or a scheduled revocation: not "
			    "restored (--drop-later-revocations restores "
			    "anyway)", cx->db_path, why.msg);
		} else {
			char lost[512] = "";
			size_t l = 0;

			if (nlost > 0) {
				fprintf(stderr, "revoked in %s, unknown to the "
				    "backup:\n", cx->db_path);
				for (size_t i = 0; i < nrevs; i++)
					if (revs[i].lost)
						fprintf(stderr, "  %s reason "
						    "%d\n", revs[i].serial,
						    revs[i].reason);
				l += (size_t)snprintf(lost, sizeof(lost), "%zu "
				    "revoked certificates (%s%s) would be good "
				    "again", nlost, first_lost(revs, nrevs),
				    nlost > 1 ? ", ..." : "");
			}
			if (ncas > 0) {
				fprintf(stderr, "CAs of %s, unknown to the "
				    "backup:\n", cx->db_path);
				for (size_t i = 0; i < ncas; i++)
					fprintf(stderr, "  %s (issuer %lld: "
					    "%lld certificates, %lld revoked)"
					    "\n", cas[i].name,
					    (long long)cas[i].id,
					    (long long)cas[i].certs,
					    (long long)cas[i].revoked);
			}
			if (ncas > 0 && l < sizeof(lost))
				l += (size_t)snprintf(lost + l, sizeof(lost) -
				    l, "%s%zu CAs made after the backup (%s%s) "
				    "would be lost, with the status of the "
				    "certificates they issued", l > 0 ?
				    ", and " : "", ncas, cas[0].name, ncas > 1 ?
				    ", ..." : "");
			if (nsups > 0) {
				fprintf(stderr, "revocations scheduled in %s, "
				    "unknown to the backup:\n", cx->db_path);
				for (size_t i = 0; i < nsups; i++) {
					daemon_fmt_time(sups[i].revoke_at,
					    when);
					fprintf(stderr, "  %s (superseded by "
					    "%s) at %s\n", sups[i].serial,
					    sups[i].by_serial, when);
				}
			}
			if (nsups > 0 && l < sizeof(lost))
				snprintf(lost + l, sizeof(lost) - l, "%s%zu "
				    "certificates superseded after the backup "
				    "(%s%s) would not be revoked as scheduled",
				    l > 0 ? ", and " : "", nsups,
				    sups[0].serial, nsups > 1 ? ", ..." : "");
			daemon_fail(cx, "what happened after the backup cannot "
			    "be carried over (%s), so %s: not restored "
			    "(--drop-later-revocations restores anyway)",
			    rc_detail_str(&d, carry_rc), lost);
		}
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	if (carry_rc != 0)
		fprintf(stderr, "certdesk: %s: warning: the CAs and "
		    "certificates made after the backup were not carried over "
		    "(%s): OCSP will answer unknown for those certificates\n",
		    cx->cmd->name, rc_detail_str(&d, carry_rc));
	/* the store being replaced is kept, with its -wal and -shm (without
	 * them it would lose its last commits), under one new name */
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	kept = xasprintf("%s.before-restore-%s", cx->db_path, stamp);
	if (have_old && (rc = move_files(cx->db_path, kept)) != 0) {
		daemon_fail(cx, "cannot move %s%s aside: %s", cx->db_path,
		    sfx[rc - 1], strerror(errno));
		(void)unlink(restoring);
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	if (rename(restoring, cx->db_path) != 0) {
		daemon_fail(cx, "cannot put %s in place: %s", restoring,
		    strerror(errno));
		if (have_old)
			(void)move_files(kept, cx->db_path);
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	if (fs_sync_dir_of(cx->db_path) != 0)
		fprintf(stderr, "certdesk: %s: cannot sync %s: %s (the restore "
		    "may not survive a crash)\n", cx->cmd->name, cx->data,
		    strerror(errno));
	printf("restored %s from %s: schema %d, %lld certificates, %lld "
	    "revocations, audit log intact (%lld entries)\n", cx->db_path,
	    from, info.schema, (long long)info.certificates,
	    (long long)info.revocations, (long long)info.audit_entries);
	if (have_old)
		printf("the store it replaced: %s\n", kept);
	for (size_t i = 0; i < carried.ncas; i++) {
		const struct store_carried_ca *e = &carried.cas[i];
		int newest = !e->is_root && e->active;

		/* the active issuing CA is the newest active one */
		for (size_t k = i + 1; k < carried.ncas && newest; k++)
			newest = carried.cas[k].is_root ||
			    !carried.cas[k].active;
		printf("carried over, made after the backup: %s CA %s (issuer "
		    "%lld%s)\n", e->is_root ? "root" : "issuing", e->name,
		    (long long)e->id, newest ? ", the active one" : "");
	}
	for (size_t i = 0; i < carried.ncerts; i++) {
		if (carried.certs[i].reason >= 0)
			printf("carried over, issued after the backup: %s "
			    "(revoked, reason %d)\n", carried.certs[i].serial,
			    carried.certs[i].reason);
		else
			printf("carried over, issued after the backup: %s\n",
			    carried.certs[i].serial);
	}
	for (size_t i = 0; i < carried.nsups; i++) {
		const struct store_carried_sup *e = &carried.sups[i];

		daemon_fmt_time(e->revoke_at, when);
		if (e->done) {
			/* its revocation is made again below */
			printf("carried over, revoked after the backup: %s "
			    "(superseded by %s, reason %d), no longer "
			    "scheduled\n", e->serial, e->by_serial, e->reason);
		} else {
			printf("carried over, superseded after the backup: %s "
			    "(by %s), to be revoked at %s\n", e->serial,
			    e->by_serial, when);
			scheduled++;
		}
	}
	if (have_old && carry_rc == 0 && carried.ncas > 0)
		printf("%zu CAs made after the backup carried over\n",
		    carried.ncas);
	if (have_old && carry_rc == 0)
		printf("%zu certificates issued after the backup carried "
		    "over\n", carried.ncerts);
	if (scheduled > 0)
		printf("%zu scheduled revocations of superseded certificates "
		    "carried over\n", scheduled);
	/* --drop-later-revocations: what the operator gave up, named */
	for (size_t i = 0; i < ncas; i++)
		printf("DROPPED: CA %s of the replaced store (issuer %lld: %lld "
		    "certificates, %lld revoked), unknown to the restored one; "
		    "while its key %s is in %s, 'ca roll' refuses it\n",
		    cas[i].name, (long long)cas[i].id, (long long)cas[i].certs,
		    (long long)cas[i].revoked, cas[i].name, cx->keys_dir);
	for (size_t i = 0; i < nsups; i++) {
		daemon_fmt_time(sups[i].revoke_at, when);
		printf("DROPPED: scheduled in the replaced store, unknown to "
		    "the restored one: the revocation of %s (superseded by "
		    "%s) at %s\n", sups[i].serial, sups[i].by_serial, when);
	}
	rc = DAEMON_EXIT_OK;
	/* revocations of the replaced store that the backup predates are
	 * made again: a restore must not make a revoked certificate good */
	if (nrevs > 0) {
		rc = daemon_open(cx, DAEMON_NEED_SIGNER | DAEMON_NEED_STORE |
		    DAEMON_NEED_CA | DAEMON_MANAGE_KEYS);
		if (rc != DAEMON_EXIT_OK) {
			/* the restored store no longer has them and the kept
			 * one is not read again: name them here */
			fprintf(stderr, "certdesk: %s: the CA did not open; "
			    "revoke these again by hand (certdesk ca revoke), "
			    "as the replaced store %s has them:\n",
			    cx->cmd->name, kept);
			for (size_t i = 0; i < nrevs; i++)
				fprintf(stderr, "  %s reason %d\n",
				    revs[i].serial, revs[i].reason);
			goto out;
		}
		/* no mail: a replay of revocations whose subscribers were
		 * told when they happened (by the replaced store's outbox) */
		for (size_t i = 0; i < nrevs; i++) {
			struct rc_detail rd = {""};
			int r = ca_revoke(cx->ca, revs[i].serial, revs[i].reason,
			    cx->actor, NULL, &rd);

			if (r == 0) {
				printf("revoked again: %s (reason %d)\n",
				    revs[i].serial, revs[i].reason);
				again++;
			} else if (r == RC_NOTFOUND && drop) {
				printf("DROPPED: revoked in the replaced "
				    "store, unknown to the restored one: %s "
				    "(reason %d)\n", revs[i].serial, revs[i].reason);
				dropped++;
			} else if (r != RC_EXISTS) {
				daemon_fail(cx, "revoking %s again: %s",
				    revs[i].serial, rc_detail_str(&rd, r));
				rc = DAEMON_EXIT_FAIL;
			}
		}
		printf("%zu revocations made again, %zu dropped\n", again,
		    dropped);
	}
	if (!revs_ok || !cas_ok || !sups_ok) {
		/* --drop-later-revocations: restored, but not checked */
		daemon_fail(cx, "the revocations, CAs or scheduled revocations "
		    "of the replaced store could not be read (%s): check those "
		    "in %s by hand", why.msg, kept);
		rc = DAEMON_EXIT_FAIL;
	}
out:
	store_carry_clear(&carried);
	free(sups);
	free(cas);
	free(revs);
	free(restoring);
	free(kept);
	if (from_copy != NULL)
		(void)unlink(from_copy);
	free(from_copy);
	return rc;
}
