/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the SQLite backend only: the handle and the statement helpers that
 * store_sqlite.c shares with the backend's other files (store_sqlite_*.c,
 * one per area: each keeps its SQL next to its functions).
 *
 * Statements: sq_prep(st, SQL, &s) with a string constant (the cache key is
 * its address), bind, step, then sq_put(st, s), also on errors. Writes go
 * inside store_tx() so that the writer mutex and BEGIN IMMEDIATE are taken;
 * multi-statement reads outside a transaction use sq_read_begin/end for one
 * snapshot.
 */
#ifndef CERTDESK_STORE_STORE_SQLITE_INT_H
#define CERTDESK_STORE_STORE_SQLITE_INT_H

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store/store_q.h"

struct wfile;
struct store_conf;

#define SQ_XCACHE 128		/* statements of the other files per handle */

struct store {
	sqlite3 *db;
	int depth;		/* store_tx nesting; 0: autocommit */
	int version;		/* schema version after migrations */
	unsigned int seed;	/* backoff jitter */
	sqlite3_stmt *cache[Q_MAX];
	unsigned char busy[Q_MAX];	/* cache[q] is stepping */
	struct {
		const char *sql;	/* borrowed: a string constant */
		sqlite3_stmt *s;
		unsigned char busy;
	} xc[SQ_XCACHE];
	EVP_MD *sha256;
	EVP_MD_CTX *md;
	pthread_mutex_t *wmu;	/* writers of this file in this process */
	int wlocked;		/* this handle holds *wmu */
	struct wfile *wf;	/* what the file's handles share */
	int counted;		/* in the file's handle count */
	int durable;		/* opened with store_conf.durable */
	int rq;			/* in a request (store_rq_begin) */
	int snap;		/* the request's read snapshot is open */
	unsigned long snap_gen;	/* the thread's writes when it opened */
	char *path;		/* as opened */
	int wal_sync;		/* its WAL can be synced apart (a file of its
				 * own): durable commits sync after the lock */
};

/* The VFS every handle opens its database with (wal_vfs.c): SQLite's
 * default one, with each transaction's WAL frames written in one system
 * call. NULL (the default VFS) if it could not be registered. */
#define STORE_WAL_VFS "certdesk-wal"
const char *store_wal_vfs(void);

/* SQL certdesk_fold(text): text without leading and trailing white
 * space, each run of it inside one space, A-Z lower-cased; NULL for NULL.
 * How names people type compare (store_org_find_valid). */
void sq_fold(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* store_open(), with the migrations applied only up to version (> 0):
 * what a store of that version is made of, for comparing schemas
 * (store_backup.c). A database past version is left as it is. */
int sq_open_upto(const struct store_conf *conf, int version,
    struct store **out);

/* 1 when path names a file of its own (not ":memory:" or a "file:" URI):
 * one that -wal, -shm and -nonce-ring files can stand beside. */
int sq_own_file(const char *path);

/*
 * The nonce ring of st's database file (store_nonce.c), kept with what the
 * file's handles in this process share: mapped by the first caller, with
 * store_ring_map(), and unmapped with store_ring_unmap() when the file's
 * last handle closes. RC_DB past the files the process can track.
 */
int sq_file_ring(struct store *st, void **map);
int store_ring_map(const char *db_path, void **map);
void store_ring_unmap(void *map);	/* NULL is fine */

/*
 * The durable commits of every process on a database file, counted in its
 * ring's header (store_sqlite.c, tx_run):
 *   [SQ_NUMBERED] the last number a commit took, under SQLite's write lock
 *   [SQ_WRITTEN]  the highest number whose COMMIT returned
 *   [SQ_SYNCED]   the highest number known to be on disk, with every
 *                 lower one
 */
enum { SQ_NUMBERED, SQ_WRITTEN, SQ_SYNCED, SQ_COMMIT_COUNTERS };
_Atomic uint64_t *store_ring_commits(void *map);

/* Tests only: while set, the syncers of deferred commits (store_tx_deferred)
 * leave them unsynced until their file's last handle closes. */
extern _Atomic int sq_syncer_hold;

/* A cached statement for sql (a string constant); return it with sq_put. */
int sq_prep(struct store *st, const char *sql, sqlite3_stmt **out);
void sq_put(struct store *st, sqlite3_stmt *s);	/* NULL is fine */

/* SQLite result code -> RC_CONFLICT (busy/locked), RC_EXISTS (unique),
 * RC_INVAL (other constraint) or RC_DB, logged with what. */
int sq_dberr(struct store *st, const char *what, int code);
/* Steps a statement that returns no rows; 0 or RC_*. */
int sq_step_done(struct store *st, const char *what, sqlite3_stmt *s);
/* Steps a statement whose first row's column 0 is an integer: 0 with *v,
 * RC_NOTFOUND (v untouched) when there is no row, or RC_*. */
int sq_step_int64(struct store *st, const char *what, sqlite3_stmt *s,
    int64_t *v);
/* sq_step_done, then the code none (RC_NOTFOUND, RC_STATE) when the
 * statement changed no row. */
int sq_step_changed(struct store *st, const char *what, sqlite3_stmt *s,
    int none);
/* Steps an INSERT; *id (may be NULL) gets the new rowid. */
int sq_insert_id(struct store *st, const char *what, sqlite3_stmt *s,
    int64_t *id);
/* Steps s and calls row() for each row; stops on its non-zero result. */
/* Ids read by sq_each_row(..., sq_id_row, &ids): column 0 of each row
 * appended to v (grown as needed; free(v)). */
struct sq_ids {
	int64_t *v;
	size_t n, cap;
};
int sq_id_row(sqlite3_stmt *s, void *arg);
int sq_each_row(struct store *st, const char *what, sqlite3_stmt *s,
    int (*row)(sqlite3_stmt *, void *), void *arg);
/* The whole life of a statement keyed by one id (bound to ?1): sq_prep,
 * then sq_step_done or sq_each_row, then sq_put; their results. */
int sq_exec_id(struct store *st, const char *what, const char *sql,
    int64_t id);
int sq_each_row_id(struct store *st, const char *what, const char *sql,
    int64_t id, int (*row)(sqlite3_stmt *, void *), void *arg);

/* Binds without copies: the caller's data must outlive the step. Text and
 * blob NULL bind SQL NULL; ref and time 0 bind SQL NULL. */
void sq_bind_text(sqlite3_stmt *s, int i, const char *v);
void sq_bind_ref(sqlite3_stmt *s, int i, int64_t id);
void sq_bind_blob(sqlite3_stmt *s, int i, const void *p, size_t n);
void sq_bind_time(sqlite3_stmt *s, int i, time_t t);
/* Column copies (xmalloc'd, free()); NULL for SQL NULL. */
char *sq_col_dup(sqlite3_stmt *s, int i);
uint8_t *sq_col_blob_dup(sqlite3_stmt *s, int i, size_t *len);

/* Argument checks: 0, or RC_INVAL with a log line naming what and field.
 * Text: at most max bytes, no control characters; flags SQ_*. */
enum {
	SQ_NULL_OK = 1,		/* NULL allowed */
	SQ_EMPTY_OK = 2,	/* "" allowed */
	SQ_MULTI = 4,		/* tabs and newlines allowed (JSON) */
};
/* A normalised DNS name (util/dnsname, no flags): lowercase LDH labels of
 * 1..63 bytes, no hyphen first or last, at least two, at most 253 bytes,
 * not an IP address (RFC 1035, RFC 1123); RC_INVAL, logged, otherwise. */
int sq_check_domain(const char *what, const char *v);
int sq_check_text(const char *what, const char *field, const char *v,
    size_t max, int flags);
/* A row id > 0, or 0 too with zero_ok. */
int sq_check_id(const char *what, const char *field, int64_t id,
    int zero_ok);
/* One of the strings of the NULL-terminated list allowed; NULL fails. */
int sq_check_enum(const char *what, const char *field, const char *v,
    const char *const *allowed);
/* A certificate serial: 1..40 lowercase hex digits. */
int sq_check_serial(const char *what, const char *v);

/* The columns id, to_addr, subject, body, kind, ref, last_error,
 * created_at, next_try_at, attempts of a mail_outbox row, in this order
 * from column 0, into *m (the strings xmalloc'd, NULL for SQL NULL);
 * store_sqlite_mailq.c. */
struct store_mail;
void sq_mail_cols(sqlite3_stmt *s, struct store_mail *m);

/* One read snapshot for several statements outside store_tx. */
int sq_read_begin(struct store *st);
void sq_read_end(struct store *st);

#endif
