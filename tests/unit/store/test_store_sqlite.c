/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the SQLite store (src/store/store_sqlite.c) through store.h:
 * migrations and reopen, every add/get/list, constraint mapping (RC_EXISTS,
 * RC_NOTFOUND), transactions (rollback, nesting, retries, waiting for
 * another writer), the audit chain (verify, four kinds of tampering made
 * with a raw sqlite3 connection, the triggers), two threads appending, and
 * bad input. Each test gets a fresh database in its own temporary directory.
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

#include <openssl/evp.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct fx {
	char dir[256];
	char path[300];
	struct store *st;
};

static int
open_at(const char *path, int durable, struct store **st)
{
	struct store_conf conf = {"sqlite", path, durable};

	return store_open(&conf, st);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "%s/certdesk-store-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/store.db", fx->dir);
	assert_int_equal(open_at(fx->path, 0, &fx->st), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;
	char p[320];

	store_close(fx->st);
	unlink(fx->path);
	snprintf(p, sizeof(p), "%s-wal", fx->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", fx->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-nonce-ring", fx->path);
	unlink(p);
	assert_int_equal(rmdir(fx->dir), 0);
	free(fx);
	return 0;
}

/* ---- raw SQL on the same file, around the store -------------------------- */

static int
raw_exec(const char *path, const char *sql, char *msg, size_t msglen)
{
	sqlite3 *db = NULL;
	char *err = NULL;
	int rc;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	if (msg != NULL)
		snprintf(msg, msglen, "%s", err != NULL ? err : "");
	sqlite3_free(err);
	sqlite3_close(db);
	return rc;
}

static int64_t
raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	/* a reader that reads the schema while the store's writers reset
	 * the WAL is told SQLITE_BUSY: wait as raw_exec does */
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void
raw_text(const char *path, const char *sql, char *out, size_t len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	out[0] = '\0';
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	/* a reader that reads the schema while the store's writers reset
	 * the WAL is told SQLITE_BUSY: wait as raw_exec does */
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(out, len, "%s", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* ---- listing collector --------------------------------------------------- */

#define MAXROWS 16

struct rows {
	int n;
	int64_t id[MAXROWS], parent[MAXROWS];
	char name[MAXROWS][80];
	char extra[MAXROWS][24];
	char state[MAXROWS][16];	/* users: enabled, disabled */
	int stop_after;		/* return 42 after this many rows, 0: never */
};

static int
collect(const struct store_row *r, void *arg)
{
	struct rows *rows = arg;

	assert_true(rows->n < MAXROWS);
	rows->id[rows->n] = r->id;
	rows->parent[rows->n] = r->parent_id;
	snprintf(rows->name[rows->n], sizeof(rows->name[0]), "%s",
	    r->name != NULL ? r->name : "(null)");
	snprintf(rows->extra[rows->n], sizeof(rows->extra[0]), "%s",
	    r->extra != NULL ? r->extra : "(null)");
	snprintf(rows->state[rows->n], sizeof(rows->state[0]), "%s",
	    r->state != NULL ? r->state : "(null)");
	rows->n++;
	if (rows->stop_after != 0 && rows->n == rows->stop_after)
		return 42;
	return 0;
}

static int
list(struct store *st, const char *what, int64_t parent, struct rows *rows)
{
	memset(rows, 0, sizeof(*rows));
	return store_list(st, what, parent, collect, rows);
}

static int64_t
count_rows(struct store *st, const char *what)
{
	struct rows rows;

	assert_int_equal(list(st, what, 0, &rows), 0);
	return rows.n;
}

/* ---- migrations ---------------------------------------------------------- */

static const char *const tables[] = {"customers", "users", "contracts",
	"domains", "slots", "organizations", "issuers", "orders",
	"authorizations", "certificates", "revocations", "crls", "audit_log",
	"audit_head", "schema_migrations", "org_case_documents",
	"org_case_messages", NULL};

static void
test_migrations_new_and_reopen(void **state)
{
	struct fx *fx = *state;
	char sql[160], mode[16];
	struct stat sb;
	int64_t applied;

	assert_true(store_sqlite_migrations_count >= 1);
	assert_int_equal(store_sqlite_migrations[0].version, 1);
	assert_string_equal(store_sqlite_migrations[0].name, "init");
	assert_int_equal(store_schema_version(fx->st),
	    (int)store_sqlite_migrations_count);
	for (size_t i = 0; tables[i] != NULL; i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master "
		    "WHERE type = 'table' AND name = '%s'", tables[i]);
		assert_int_equal(raw_int(fx->path, sql), 1);
	}
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM "
	    "schema_migrations"), (int64_t)store_sqlite_migrations_count);
	applied = raw_int(fx->path, "SELECT applied_at FROM schema_migrations "
	    "WHERE version = 1");
	assert_true(applied > 0);
	raw_text(fx->path, "PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	/* reopening (twice, while the first handle is open) runs nothing */
	for (int i = 0; i < 2; i++) {
		struct store *st2 = NULL;

		assert_int_equal(open_at(fx->path, 1, &st2), 0);
		assert_int_equal(store_schema_version(st2),
		    (int)store_sqlite_migrations_count);
		store_close(st2);
	}
	store_close(fx->st);
	assert_int_equal(open_at(fx->path, 0, &fx->st), 0);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM "
	    "schema_migrations"), (int64_t)store_sqlite_migrations_count);
	assert_int_equal(raw_int(fx->path, "SELECT applied_at FROM "
	    "schema_migrations WHERE version = 1"), applied);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM audit_head"),
	    1);
}

/* Removes the database at path with its WAL and shared-memory files. */
static void
unlink_db(const char *path)
{
	char p[400];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

/* A new database at path with the migrations up to version applied, as
 * a certdesk of that time left it (for tests of a later migration). */
static void
at_version(const char *path, int version)
{
	char msg[256], sql[200];

	assert_int_equal(raw_exec(path, "CREATE TABLE schema_migrations ("
	    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at "
	    "INTEGER NOT NULL)", msg, sizeof(msg)), SQLITE_OK);
	for (size_t i = 0; i < store_sqlite_migrations_count &&
	    store_sqlite_migrations[i].version <= version; i++) {
		if (raw_exec(path, store_sqlite_migrations[i].sql, msg,
		    sizeof(msg)) != SQLITE_OK)
			fail_msg("migration %d: %s",
			    store_sqlite_migrations[i].version, msg);
		snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations "
		    "VALUES (%d, 'x', 1)", store_sqlite_migrations[i].version);
		assert_int_equal(raw_exec(path, sql, NULL, 0), SQLITE_OK);
	}
}

/* A database at schema 8 with mail that failed before 0009: the 5xx
 * refusals curl reported ("SMTP: RCPT failed: 550") become bounced, and
 * nothing else does; 0010 adds the index on certificates(order_id). */
static void
test_migration_0009_old_bounces(void **state)
{
	struct fx *fx = *state;
	char path[320], msg[256];
	struct store *st = NULL;
	struct store_mail *v = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/v8.db", fx->dir);
	at_version(path, 8);
	assert_int_equal(raw_exec(path, "INSERT INTO mail_outbox (id, to_addr, "
	    "subject, body, created_at, next_try_at, attempts, sent_at, "
	    "last_error) VALUES "
	    "(1, 'a@b.example', 's', 'b', 10, 500, 3, NULL, "
	    "'SMTP: RCPT failed: 550'), "
	    "(2, 'a@b.example', 's', 'b', 10, 500, 3, NULL, "
	    "'SMTP: RCPT failed: 451'), "
	    "(3, 'a@b.example', 's', 'b', 10, 500, 1, NULL, "
	    "'SMTP: Couldn''t connect to server: 550 ms'), "
	    "(4, 'a@b.example', 's', 'b', 10, 500, 0, 20, NULL), "
	    "(5, 'a@b.example', 's', 'b', 10, 500, 1, NULL, "
	    "'SMTP: MAIL failed: 553')", msg, sizeof(msg)), SQLITE_OK);

	assert_int_equal(open_at(path, 0, &st), 0);
	assert_int_equal(store_schema_version(st),
	    (int)store_sqlite_migrations_count);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM mail_outbox "
	    "WHERE bounced_at IS NOT NULL"), 2);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM mail_outbox "
	    "WHERE bounced_at = 500 AND id IN (1, 5)"), 2);
	assert_int_equal(store_mail_due(st, 0, 0, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, 2);
	assert_int_equal(v[1].id, 3);
	store_mail_list_free(v, n);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master "
	    "WHERE type = 'index' AND name = 'certificates_order'"), 1);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master "
	    "WHERE type = 'index' AND name = 'mail_outbox_due' AND sql LIKE "
	    "'%bounced_at IS NULL%'"), 1);
	store_close(st);
	unlink_db(path);
}

/* Several handles creating the same new database at once: the migrations
 * run exactly once. */
struct opener {
	const char *path;
	int rc, version;
};

static void *
opener_main(void *arg)
{
	struct opener *o = arg;
	struct store *st = NULL;

	o->rc = open_at(o->path, 0, &st);
	o->version = store_schema_version(st);
	store_close(st);
	return NULL;
}

static void
test_migrations_concurrent(void **state)
{
	struct fx *fx = *state;
	struct opener o[3];
	pthread_t t[3];
	char path[320];

	snprintf(path, sizeof(path), "%s/fresh.db", fx->dir);
	for (int i = 0; i < 3; i++) {
		o[i].path = path;
		assert_int_equal(pthread_create(&t[i], NULL, opener_main,
		    &o[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(o[i].rc, 0);
		assert_int_equal(o[i].version,
		    (int)store_sqlite_migrations_count);
	}
	assert_int_equal(raw_int(path, "SELECT count(*) FROM "
	    "schema_migrations"), (int64_t)store_sqlite_migrations_count);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM audit_head"), 1);
	unlink_db(path);
}

static void
test_open_errors(void **state)
{
	struct fx *fx = *state;
	struct store_conf conf = {"sqlite", NULL, 0};
	struct store *st = (struct store *)1;
	char path[320];
	FILE *f;

	assert_int_equal(store_open(NULL, &st), RC_INVAL);
	assert_null(st);
	assert_int_equal(store_open(&conf, &st), RC_INVAL);
	conf.path = "";
	assert_int_equal(store_open(&conf, &st), RC_INVAL);
	conf.path = fx->path;
	conf.backend = "oracle";
	assert_int_equal(store_open(&conf, &st), RC_CONFIG);
	assert_null(st);
	assert_int_equal(open_at("/nonexistent-dir/x/store.db", 0, &st),
	    RC_DB);
	assert_null(st);

	/* not a database */
	snprintf(path, sizeof(path), "%s/garbage.db", fx->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 256; i++)
		fputs("this is not an sqlite database ", f);
	fclose(f);
	assert_int_equal(open_at(path, 0, &st), RC_DB);
	assert_null(st);
	unlink(path);

	/* a schema newer than this program */
	assert_int_equal(raw_exec(fx->path, "INSERT INTO schema_migrations "
	    "VALUES (9999, 'future', 1)", NULL, 0), SQLITE_OK);
	assert_int_equal(open_at(fx->path, 0, &st), RC_DB);
	assert_null(st);
	assert_int_equal(raw_exec(fx->path, "DELETE FROM schema_migrations "
	    "WHERE version = 9999", NULL, 0), SQLITE_OK);
	assert_int_equal(open_at(fx->path, 0, &st), 0);
	store_close(st);
	store_close(NULL);
	assert_int_equal(store_schema_version(NULL), 0);
}

/* SQLite's allocation statistics are off (one mutex fewer around every
 * allocation): with a store open, none are counted. */
static void
test_no_memstatus(void **state)
{
	struct fx *fx = *state;
	sqlite3_int64 cur = -1, hi = -1;

	assert_non_null(fx->st);
	assert_int_equal(sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &cur,
	    &hi, 0), SQLITE_OK);
	assert_int_equal(cur, 0);
	assert_int_equal(hi, 0);
}

/* ---- customers, users, contracts, domains, slots ------------------------- */

static void
test_customers_users(void **state)
{
	struct fx *fx = *state;
	struct store *st = fx->st;
	int64_t c1 = 0, c2 = 0, u1 = 0, u2 = 0, u3 = 0, id = 0;
	struct rows rows;

	assert_int_equal(store_customer_add(st, "Example GmbH", &c1), 0);
	assert_int_equal(store_customer_add(st, "Other Ltd", &c2), 0);
	assert_true(c1 > 0 && c2 > c1);
	assert_int_equal(store_customer_add(st, "No id wanted", NULL), 0);

	assert_int_equal(store_user_add(st, c1, "anna@example.com", "Anna",
	    STORE_ROLE_CUSTOMER, "$argon2id$v=19$m=65536,t=2,p=1$x$y", &u1),
	    0);
	assert_int_equal(store_user_add(st, c2, "bob@other.example", "Bob",
	    STORE_ROLE_CUSTOMER, NULL, &u2), 0);
	/* staff belong to no customer */
	assert_int_equal(store_user_add(st, 0, "vera@ca.example", "Vera",
	    STORE_ROLE_AGENT, NULL, &u3), 0);
	assert_int_equal(store_user_add(st, 0, "root@ca.example", "Admin",
	    STORE_ROLE_ADMIN, NULL, &id), 0);

	/* duplicates and unknown parents */
	assert_int_equal(store_user_add(st, c2, "anna@example.com", "Anna 2",
	    STORE_ROLE_CUSTOMER, NULL, &id), RC_EXISTS);
	assert_int_equal(store_user_add(st, 999999, "zed@example.com", "Zed",
	    STORE_ROLE_CUSTOMER, NULL, &id), RC_NOTFOUND);

	assert_int_equal(list(st, "customers", 0, &rows), 0);
	assert_int_equal(rows.n, 3);
	assert_int_equal(rows.id[0], c1);
	assert_string_equal(rows.name[0], "Example GmbH");
	assert_string_equal(rows.name[1], "Other Ltd");
	assert_int_equal(rows.parent[0], 0);
	assert_int_equal(list(st, "customers", c2, &rows), 0);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.name[0], "Other Ltd");

	assert_int_equal(list(st, "users", 0, &rows), 0);
	assert_int_equal(rows.n, 4);
	assert_int_equal(rows.id[0], u1);
	assert_int_equal(rows.parent[0], c1);
	assert_string_equal(rows.name[0], "anna@example.com");
	assert_string_equal(rows.extra[0], "customer");
	assert_int_equal(rows.id[2], u3);
	assert_int_equal(rows.parent[2], 0);
	assert_string_equal(rows.extra[2], "agent");
	assert_string_equal(rows.extra[3], "admin");
	assert_int_equal(list(st, "users", c2, &rows), 0);
	assert_int_equal(rows.n, 1);
	assert_int_equal(rows.id[0], u2);
	assert_string_equal(rows.name[0], "bob@other.example");
	assert_string_equal(rows.state[0], "enabled");
	assert_int_equal(list(st, "customers", 0, &rows), 0);
	assert_string_equal(rows.state[0], "(null)");
}

/*
 * An admin disables a user (0030) and enables them again, sets a new
 * password; the user's sessions end and their usable tokens are revoked
 * by the caller's calls in the same transaction, another user's stay.
 */
static void
test_user_lifecycle(void **state)
{
	struct fx *fx = *state;
	struct store *st = fx->st;
	struct store_session se;
	struct store_token tk;
	struct store_user u;
	struct rows rows;
	int64_t c = 0, u1 = 0, u2 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, n = -1;
	uint8_t h[5][STORE_HASH_LEN];

	assert_int_equal(store_customer_add(st, "C", &c), 0);
	assert_int_equal(store_user_add(st, c, "ann@c.example", "Ann",
	    STORE_ROLE_CUSTOMER, "$argon2id$old", &u1), 0);
	assert_int_equal(store_user_add(st, c, "ben@c.example", "Ben",
	    STORE_ROLE_CUSTOMER, NULL, &u2), 0);
	assert_int_equal(store_user_get(st, u1, &u), 0);
	assert_int_equal(u.disabled_at, 0);
	store_user_clear(&u);
	for (int i = 0; i < 5; i++)
		memset(h[i], 'a' + i, STORE_HASH_LEN);
	for (int i = 0; i < 3; i++) {
		memset(&se, 0, sizeof(se));
		memcpy(se.id_hash, h[i], STORE_HASH_LEN);
		se.user_id = i < 2 ? u1 : u2;
		se.created_at = se.last_seen_at = 1000;
		se.idle_expires_at = se.expires_at = 1000000000000;
		assert_int_equal(store_session_add(st, &se), 0);
	}
	assert_int_equal(store_token_add(st, u1, h[0], "one", 0, &t1), 0);
	assert_int_equal(store_token_add(st, u1, h[1], "two", 0, &t2), 0);
	assert_int_equal(store_token_add(st, u1, h[2], "old", 0, &t3), 0);
	assert_int_equal(store_token_revoke(st, t3, u1, 500), 0);
	assert_int_equal(store_token_add(st, u2, h[3], "ben", 0, &t4), 0);

	/* disabled: once */
	assert_int_equal(store_user_set_disabled(st, u1, 2000), 0);
	assert_int_equal(store_user_set_disabled(st, u1, 3000), RC_STATE);
	assert_int_equal(store_user_get(st, u1, &u), 0);
	assert_int_equal(u.disabled_at, 2000);
	store_user_clear(&u);
	assert_int_equal(store_user_by_email(st, "ANN@c.example", &u), 0);
	assert_int_equal(u.disabled_at, 2000);
	store_user_clear(&u);
	assert_int_equal(list(st, "users", c, &rows), 0);
	assert_string_equal(rows.state[0], "disabled");
	assert_string_equal(rows.state[1], "enabled");
	assert_string_equal(rows.extra[0], "customer");
	/* its sessions end, its usable tokens are revoked; Ben's stay */
	assert_int_equal(store_session_delete_user(st, u1, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_session_get(st, h[0], 2000, &se), RC_NOTFOUND);
	assert_int_equal(store_session_get(st, h[2], 2000, &se), 0);
	assert_int_equal(store_token_revoke_user(st, u1, 2000, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_token_by_hash(st, h[1], &tk), 0);
	assert_int_equal(tk.revoked_at, 2000);
	store_token_clear(&tk);
	assert_int_equal(store_token_by_hash(st, h[2], &tk), 0);
	assert_int_equal(tk.revoked_at, 500);		/* kept */
	store_token_clear(&tk);
	assert_int_equal(store_token_by_hash(st, h[3], &tk), 0);
	assert_int_equal(tk.revoked_at, 0);
	store_token_clear(&tk);
	assert_int_equal(store_token_revoke_user(st, u1, 0, NULL), 0);
	assert_int_equal(store_session_delete_user(st, u1, &n), 0);
	assert_int_equal(n, 0);

	/* enabled again: once; the tokens stay revoked */
	assert_int_equal(store_user_set_disabled(st, u1, 0), 0);
	assert_int_equal(store_user_set_disabled(st, u1, 0), RC_STATE);
	assert_int_equal(store_user_get(st, u1, &u), 0);
	assert_int_equal(u.disabled_at, 0);
	store_user_clear(&u);
	assert_int_equal(store_token_by_hash(st, h[0], &tk), 0);
	assert_int_equal(tk.revoked_at, 2000);
	store_token_clear(&tk);

	/* a new password */
	assert_int_equal(store_user_set_password(st, u2, "$argon2id$new"), 0);
	assert_int_equal(store_user_get(st, u2, &u), 0);
	assert_string_equal(u.pw_hash, "$argon2id$new");
	store_user_clear(&u);

	/* unknown users and bad arguments */
	assert_int_equal(store_user_set_disabled(st, 999999, 2000),
	    RC_NOTFOUND);
	assert_int_equal(store_user_set_disabled(st, 999999, 0), RC_NOTFOUND);
	assert_int_equal(store_user_set_disabled(st, 0, 2000), RC_INVAL);
	assert_int_equal(store_user_set_disabled(st, u1, -1), RC_INVAL);
	assert_int_equal(store_user_set_password(st, 999999, "$x"),
	    RC_NOTFOUND);
	assert_int_equal(store_user_set_password(st, u1, NULL), RC_INVAL);
	assert_int_equal(store_user_set_password(st, u1, "a\nb"), RC_INVAL);
	assert_int_equal(store_session_delete_user(st, 0, &n), RC_INVAL);
	assert_int_equal(store_token_revoke_user(st, -2, 0, &n), RC_INVAL);
	assert_int_equal(store_session_delete_user(st, 999999, &n), 0);
	assert_int_equal(n, 0);
}

static void
test_contracts_domains_slots(void **state)
{
	struct fx *fx = *state;
	struct store *st = fx->st;
	int64_t cu = 0, cu2 = 0, k1 = 0, k2 = 0, d1 = 0, d2 = 0, s1 = 0, s2 = 0;
	int64_t id = 0;
	struct rows rows;
	static const char *const products[] = {"starter", "business",
		"business_wildcard", "premium", "unlimited"};

	assert_int_equal(store_customer_add(st, "Example GmbH", &cu), 0);
	assert_int_equal(store_customer_add(st, "Other Ltd", &cu2), 0);
	assert_int_equal(store_contract_add(st, cu, "K-1000", &k1), 0);
	assert_int_equal(store_contract_add(st, cu2, "K-2000", &k2), 0);
	assert_int_equal(store_contract_add(st, cu2, "K-1000", &id),
	    RC_EXISTS);
	assert_int_equal(store_contract_add(st, 424242, "K-3000", &id),
	    RC_NOTFOUND);

	assert_int_equal(store_domain_add(st, k1, "example.com", 1, &d1), 0);
	assert_int_equal(store_domain_add(st, k1, "example.net", 0, &d2), 0);
	/* the same name under another contract is another row */
	assert_int_equal(store_domain_add(st, k2, "example.com", 0, &id), 0);
	assert_int_equal(store_domain_add(st, k1, "example.com", 0, &id),
	    RC_EXISTS);
	assert_int_equal(store_domain_add(st, 777, "example.org", 0, &id),
	    RC_NOTFOUND);

	for (size_t i = 0; i < 5; i++)
		assert_int_equal(store_slot_add(st, k1, products[i],
		    i == 0 ? &s1 : NULL), 0);
	assert_int_equal(store_slot_add(st, k2, "premium", &s2), 0);
	assert_int_equal(store_slot_add(st, 31337, "starter", &id),
	    RC_NOTFOUND);

	assert_int_equal(list(st, "contracts", 0, &rows), 0);
	assert_int_equal(rows.n, 2);
	assert_int_equal(rows.id[0], k1);
	assert_int_equal(rows.parent[0], cu);
	assert_string_equal(rows.name[0], "K-1000");
	assert_string_equal(rows.extra[0], "(null)");
	assert_int_equal(list(st, "contracts", cu2, &rows), 0);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.name[0], "K-2000");

	assert_int_equal(list(st, "domains", k1, &rows), 0);
	assert_int_equal(rows.n, 2);
	assert_int_equal(rows.id[0], d1);
	assert_int_equal(rows.parent[0], k1);
	assert_string_equal(rows.name[0], "example.com");
	assert_string_equal(rows.extra[0], "hosted");
	assert_int_equal(rows.id[1], d2);
	assert_string_equal(rows.extra[1], "external");
	assert_int_equal(count_rows(st, "domains"), 3);

	assert_int_equal(list(st, "slots", k1, &rows), 0);
	assert_int_equal(rows.n, 5);
	assert_int_equal(rows.id[0], s1);
	for (int i = 0; i < 5; i++) {
		assert_string_equal(rows.name[i], products[i]);
		assert_string_equal(rows.extra[i], "unused");
		assert_int_equal(rows.parent[i], k1);
	}
	assert_int_equal(list(st, "slots", k2, &rows), 0);
	assert_int_equal(rows.n, 1);
	assert_int_equal(rows.id[0], s2);
	assert_int_equal(count_rows(st, "slots"), 6);

	/* an unknown parent lists nothing; a callback can stop the walk */
	assert_int_equal(list(st, "slots", 999, &rows), 0);
	assert_int_equal(rows.n, 0);
	memset(&rows, 0, sizeof(rows));
	rows.stop_after = 2;
	assert_int_equal(store_list(st, "slots", 0, collect, &rows), 42);
	assert_int_equal(rows.n, 2);
	assert_int_equal(list(st, "certificates", 0, &rows), RC_INVAL);
	assert_int_equal(store_list(st, NULL, 0, collect, &rows), RC_INVAL);
	assert_int_equal(store_list(st, "slots", 0, NULL, NULL), RC_INVAL);
	assert_int_equal(store_list(st, "slots", -1, collect, &rows),
	    RC_INVAL);
}

/* A callback that calls back into the store with the same listing: the
 * statement in use must not be reused underneath. */
struct nest {
	struct store *st;
	int outer, inner;
};

static int
nest_inner(const struct store_row *r, void *arg)
{
	struct nest *n = arg;

	n->inner++;
	return 0;
}

static int
nest_outer(const struct store_row *r, void *arg)
{
	struct nest *n = arg;
	int64_t id;

	n->outer++;
	assert_int_equal(store_list(n->st, "customers", 0, nest_inner, n), 0);
	if (n->outer == 1)	/* a write while the read steps */
		assert_int_equal(store_contract_add(n->st, r->id, "K-NEST",
		    &id), 0);
	return 0;
}

static void
test_list_reentrant(void **state)
{
	struct fx *fx = *state;
	struct nest n = {fx->st, 0, 0};

	assert_int_equal(store_customer_add(fx->st, "A", NULL), 0);
	assert_int_equal(store_customer_add(fx->st, "B", NULL), 0);
	assert_int_equal(store_customer_add(fx->st, "C", NULL), 0);
	assert_int_equal(store_list(fx->st, "customers", 0, nest_outer, &n),
	    0);
	assert_int_equal(n.outer, 3);
	assert_int_equal(n.inner, 9);
	assert_int_equal(count_rows(fx->st, "contracts"), 1);
	/* and the cached statement still works afterwards */
	assert_int_equal(count_rows(fx->st, "customers"), 3);
}

/* ---- organisations ------------------------------------------------------- */

static void
test_orgs(void **state)
{
	struct fx *fx = *state;
	struct store *st = fx->st;
	struct store_org o, g;
	int64_t cu = 0, id = 0, id2 = 0;

	assert_int_equal(store_customer_add(st, "Example GmbH", &cu), 0);
	memset(&o, 0, sizeof(o));
	o.customer_id = cu;
	o.legal_name = "Example GmbH";
	o.country = "DE";
	o.state = "Bayern";
	o.locality = "München";
	o.street = "Hauptstraße 1";
	o.postal_code = "80331";
	o.business_category = "Private Organization";
	o.jurisdiction_country = "DE";
	o.jurisdiction_state = "Bayern";
	o.jurisdiction_locality = "München";
	o.registration_number = "HRB 123456";
	o.validated = 1;
	o.ev_validated = 1;
	o.validated_at = 1760000000;
	o.validated_by = "vera@ca.example";
	o.evidence = "{\"registry\": \"handelsregister\",\n \"call\": true}";
	assert_int_equal(store_org_add(st, &o, &id), 0);
	assert_true(id > 0);

	assert_int_equal(store_org_get(st, id, &g), 0);
	assert_int_equal(g.id, id);
	assert_int_equal(g.customer_id, cu);
	assert_string_equal(g.legal_name, o.legal_name);
	assert_string_equal(g.country, "DE");
	assert_string_equal(g.state, o.state);
	assert_string_equal(g.locality, o.locality);
	assert_string_equal(g.street, o.street);
	assert_string_equal(g.postal_code, o.postal_code);
	assert_string_equal(g.business_category, o.business_category);
	assert_string_equal(g.jurisdiction_country, "DE");
	assert_string_equal(g.jurisdiction_state, o.jurisdiction_state);
	assert_string_equal(g.jurisdiction_locality, o.jurisdiction_locality);
	assert_string_equal(g.registration_number, o.registration_number);
	assert_int_equal(g.validated, 1);
	assert_int_equal(g.ev_validated, 1);
	assert_int_equal(g.validated_at, 1760000000);
	assert_string_equal(g.validated_by, o.validated_by);
	assert_string_equal(g.evidence, o.evidence);
	store_org_clear(&g);
	assert_null(g.legal_name);
	store_org_clear(&g);	/* twice is fine */
	store_org_clear(NULL);

	/* a minimal, not yet validated OV organisation: NULLs stay NULL */
	memset(&o, 0, sizeof(o));
	o.customer_id = cu;
	o.legal_name = "Example Two";
	o.country = "AT";
	o.locality = "Wien";
	assert_int_equal(store_org_add(st, &o, &id2), 0);
	assert_int_equal(store_org_get(st, id2, &g), 0);
	assert_null(g.state);
	assert_null(g.street);
	assert_null(g.business_category);
	assert_null(g.jurisdiction_country);
	assert_null(g.validated_by);
	assert_null(g.evidence);
	assert_int_equal(g.validated, 0);
	assert_int_equal(g.validated_at, 0);
	store_org_clear(&g);

	assert_int_equal(store_org_get(st, 987654, &g), RC_NOTFOUND);
	assert_null(g.legal_name);

	/* bad input */
	o.customer_id = 55555;
	assert_int_equal(store_org_add(st, &o, &id2), RC_NOTFOUND);
	o.customer_id = cu;
	o.country = "de";
	assert_int_equal(store_org_add(st, &o, &id2), RC_INVAL);
	o.country = "DEU";
	assert_int_equal(store_org_add(st, &o, &id2), RC_INVAL);
	o.country = NULL;
	assert_int_equal(store_org_add(st, &o, &id2), RC_INVAL);
	o.country = "DE";
	o.legal_name = "";
	assert_int_equal(store_org_add(st, &o, &id2), RC_INVAL);
	o.legal_name = NULL;
	assert_int_equal(store_org_add(st, &o, &id2), RC_INVAL);
	o.legal_name = "Example\nInjected: yes";
	assert_int_equal(store_org_add(st, &o, &id2), RC_INVAL);
	o.legal_name = "Example";
	o.locality = NULL;	/* neither L nor ST */
	assert_int_equal(store_org_add(st, &o, &id2), RC_INVAL);
	o.locality = "Wien";
	o.ev_validated = 1;	/* EV without OV */
	assert_int_equal(store_org_add(st, &o, &id2), RC_INVAL);
	o.validated = 1;	/* validated without a date */
	assert_int_equal(store_org_add(st, &o, &id2), RC_INVAL);
	o.validated_at = 1760000000;
	o.jurisdiction_country = "Germany";
	assert_int_equal(store_org_add(st, &o, &id2), RC_INVAL);
	o.jurisdiction_country = NULL;
	assert_int_equal(store_org_add(st, &o, &id2), 0);
	assert_int_equal(store_org_add(st, NULL, &id2), RC_INVAL);
}

/* ---- issuers ------------------------------------------------------------- */

struct issuers_seen {
	int n;
	int64_t id[4];
	char name[4][32];
	size_t len[4];
};

static int
issuer_cb(const struct store_issuer *is, void *arg)
{
	struct issuers_seen *s = arg;

	assert_true(s->n < 4);
	s->id[s->n] = is->id;
	snprintf(s->name[s->n], sizeof(s->name[0]), "%s", is->name);
	s->len[s->n] = is->cert_len;
	s->n++;
	return 0;
}

/* the wall clock in microseconds, as CRL numbers count it */
static int64_t
now_us(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
test_issuers(void **state)
{
	struct fx *fx = *state;
	struct store *st = fx->st;
	uint8_t der1[300], der2[200];
	struct store_issuer is, g;
	struct issuers_seen seen;
	int64_t root = 0, sub = 0, sub2 = 0, n = 0, id = 0, t0, prev, ahead;
	char sql[160];

	memset(der1, 0x30, sizeof(der1));
	memset(der2, 0x31, sizeof(der2));
	memset(&is, 0, sizeof(is));
	is.name = "root";
	is.is_root = 1;
	is.active = 1;
	is.cert_der = der1;
	is.cert_len = sizeof(der1);
	assert_int_equal(store_issuer_add(st, &is, &root), 0);
	assert_int_equal(store_issuer_get_active(st, 0, &g), RC_NOTFOUND);

	is.name = "issuing-1";
	is.parent_id = root;
	is.is_root = 0;
	is.cert_der = der2;
	is.cert_len = sizeof(der2);
	assert_int_equal(store_issuer_add(st, &is, &sub), 0);
	assert_int_equal(store_issuer_add(st, &is, &id), RC_EXISTS);
	is.name = "issuing-2";
	is.active = 0;
	assert_int_equal(store_issuer_add(st, &is, &sub2), 0);
	is.name = "issuing-3";
	is.parent_id = 4711;
	assert_int_equal(store_issuer_add(st, &is, &id), RC_NOTFOUND);

	assert_int_equal(store_issuer_get(st, sub, &g), 0);
	assert_int_equal(g.id, sub);
	assert_string_equal(g.name, "issuing-1");
	assert_int_equal(g.parent_id, root);
	assert_int_equal(g.is_root, 0);
	assert_int_equal(g.active, 1);
	assert_int_equal(g.cert_len, sizeof(der2));
	assert_memory_equal(g.cert_der, der2, sizeof(der2));
	assert_int_equal(g.crl_number, 0);
	store_issuer_clear(&g);

	assert_int_equal(store_issuer_get_active(st, 0, &g), 0);
	assert_int_equal(g.id, sub);
	store_issuer_clear(&g);
	assert_int_equal(store_issuer_get_active(st, 1, &g), 0);
	assert_int_equal(g.id, root);
	assert_int_equal(g.parent_id, 0);
	assert_int_equal(g.is_root, 1);
	assert_memory_equal(g.cert_der, der1, sizeof(der1));
	store_issuer_clear(&g);
	assert_int_equal(store_issuer_get(st, 99, &g), RC_NOTFOUND);

	/* CRL numbers: at least the clock in microseconds, each above the
	 * last, per issuer */
	t0 = now_us();
	prev = 0;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(store_issuer_next_crl_number(st, sub, &n), 0);
		assert_true(n >= t0);
		assert_true(n > prev);
		prev = n;
	}
	assert_int_equal(store_issuer_next_crl_number(st, root, &n), 0);
	assert_true(n >= t0);
	assert_int_equal(store_issuer_next_crl_number(st, 99, &n),
	    RC_NOTFOUND);
	assert_int_equal(store_issuer_get(st, sub, &g), 0);
	assert_int_equal(g.crl_number, prev);
	store_issuer_clear(&g);
	/* a counter ahead of the clock (it stepped back) goes on from itself
	 * ... */
	ahead = now_us() + 3600LL * 1000000;
	snprintf(sql, sizeof(sql), "UPDATE issuers SET crl_number = %lld "
	    "WHERE id = %lld", (long long)ahead, (long long)sub);
	assert_int_equal(raw_exec(fx->path, sql, NULL, 0), SQLITE_OK);
	assert_int_equal(store_issuer_next_crl_number(st, sub, &n), 0);
	assert_int_equal(n, ahead + 1);
	/* ... and one put back by a restored backup (or the numbering of
	 * before the clock floor) is overtaken by the clock, above every
	 * number handed out before the backup's */
	assert_int_equal(raw_exec(fx->path, "UPDATE issuers SET crl_number = "
	    "2", NULL, 0), SQLITE_OK);
	t0 = now_us();
	assert_int_equal(store_issuer_next_crl_number(st, root, &n), 0);
	assert_true(n >= t0);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_issuer_list(st, issuer_cb, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.id[0], root);
	assert_string_equal(seen.name[1], "issuing-1");
	assert_int_equal(seen.len[2], sizeof(der2));
	assert_int_equal(seen.id[2], sub2);

	/* bad input: names become file names and key ids */
	is.parent_id = root;
	is.name = "../etc/passwd";
	assert_int_equal(store_issuer_add(st, &is, &id), RC_INVAL);
	is.name = ".hidden";
	assert_int_equal(store_issuer_add(st, &is, &id), RC_INVAL);
	is.name = "";
	assert_int_equal(store_issuer_add(st, &is, &id), RC_INVAL);
	is.name = NULL;
	assert_int_equal(store_issuer_add(st, &is, &id), RC_INVAL);
	is.name = "ok-name";
	is.cert_der = NULL;
	assert_int_equal(store_issuer_add(st, &is, &id), RC_INVAL);
	is.cert_der = der2;
	is.cert_len = 0;
	assert_int_equal(store_issuer_add(st, &is, &id), RC_INVAL);
}

/* ---- certificates, revocations, CRLs ------------------------------------- */

static int64_t
make_issuer(struct store *st, const char *name)
{
	static uint8_t der[64] = {0x30, 0x3e};
	struct store_issuer is;
	int64_t id = 0;

	memset(&is, 0, sizeof(is));
	is.name = (char *)name;
	is.is_root = 1;
	is.active = 1;
	is.cert_der = der;
	is.cert_len = sizeof(der);
	assert_int_equal(store_issuer_add(st, &is, &id), 0);
	return id;
}

static void
fill_cert(struct store_cert *c, const char *serial, int64_t issuer,
    uint8_t *der, size_t len)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->serial, sizeof(c->serial), "%s", serial);
	c->issuer_id = issuer;
	c->profile = "dv";
	c->names = "example.com www.example.com";
	c->not_before = 1760000000;
	c->not_after = 1760000000 + 199 * 86400;
	c->der = der;
	c->der_len = len;
}

struct revoked_seen {
	int n;
	char serial[8][41];
	int reason[8];
	time_t when[8];
};

static int
revoked_cb(const char *serial, int reason, time_t when, void *arg)
{
	struct revoked_seen *s = arg;

	assert_true(s->n < 8);
	snprintf(s->serial[s->n], sizeof(s->serial[0]), "%s", serial);
	s->reason[s->n] = reason;
	s->when[s->n] = when;
	s->n++;
	return 0;
}

/* A certificate's shape, as der_cert_head reads it, whose
 * SubjectPublicKeyInfo is SEQUENCE { BIT STRING { 0, key } } (31 bytes) */
#define FAKE_CERT_LEN 31
static void
fake_cert(uint8_t key, uint8_t out[FAKE_CERT_LEN])
{
	static const uint8_t t[FAKE_CERT_LEN] = {
	    0x30, 0x1d, 0x30, 0x16, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01,
	    0x01, 0x30, 0x00, 0x30, 0x00, 0x30, 0x00, 0x30, 0x00, 0x30, 0x04,
	    0x03, 0x02, 0x00, 0x00, 0x30, 0x00, 0x03, 0x01, 0x00};

	memcpy(out, t, sizeof(t));
	out[25] = key;
}

/* SHA-256 of fake_cert(key)'s SubjectPublicKeyInfo */
static void
fake_key_hash(uint8_t key, uint8_t h[32])
{
	uint8_t c[FAKE_CERT_LEN];

	fake_cert(key, c);
	assert_int_equal(EVP_Digest(c + 20, 6, h, NULL, EVP_sha256(), NULL),
	    1);
}

struct serials {
	size_t n;
	char v[8][41];
	int stop_after;
};

static int
serial_seen(const char *serial, void *arg)
{
	struct serials *s = arg;

	assert_true(s->n < 8);
	snprintf(s->v[s->n++], 41, "%s", serial);
	return s->stop_after && (int)s->n >= s->stop_after ? 7 : 0;
}

static int
has_serial(const struct serials *s, const char *serial)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], serial) == 0)
			return 1;
	return 0;
}

/*
 * cert_keys (0018): each certificate is found by its key's hash, when
 * live (not expired, not revoked, not a CA's); bytes that are not a
 * certificate are stored without a key row; a certificate taking over
 * its precertificate's row keeps the one key row.
 */
static void
test_cert_keys(void **state)
{
	struct fx *fx = *state;
	struct store *st = fx->st;
	uint8_t a[FAKE_CERT_LEN], b[FAKE_CERT_LEN], junk[8] = {1, 2, 3};
	uint8_t ha[32], hb[32], hc[32];
	struct store_cert c;
	struct serials seen;
	int64_t iss = make_issuer(st, "issuing-1");
	time_t now = 1760000000 + 86400;

	fake_cert(0xaa, a);
	fake_cert(0xbb, b);
	fake_key_hash(0xaa, ha);
	fake_key_hash(0xbb, hb);
	fake_key_hash(0xcc, hc);
	fill_cert(&c, "01", iss, a, sizeof(a));
	assert_int_equal(store_cert_add(st, &c), 0);
	fill_cert(&c, "02", iss, a, sizeof(a));
	c.profile = "ov";
	assert_int_equal(store_cert_add(st, &c), 0);
	fill_cert(&c, "03", iss, b, sizeof(b));
	assert_int_equal(store_cert_add(st, &c), 0);
	fill_cert(&c, "04", iss, a, sizeof(a));	/* expired */
	c.not_before = 1700000000;
	c.not_after = 1700000000 + 86400;
	assert_int_equal(store_cert_add(st, &c), 0);
	fill_cert(&c, "05", iss, a, sizeof(a));	/* revoked */
	assert_int_equal(store_cert_add(st, &c), 0);
	assert_int_equal(store_revoke(st, "05", 1, now), 0);
	fill_cert(&c, "06", iss, a, sizeof(a));	/* a CA's */
	c.profile = "ca";
	assert_int_equal(store_cert_add(st, &c), 0);
	fill_cert(&c, "07", iss, junk, sizeof(junk));
	assert_int_equal(store_cert_add(st, &c), 0);
	fill_cert(&c, "08", iss, a, sizeof(a));	/* precert, then its cert */
	c.profile = "precert";
	assert_int_equal(store_cert_add(st, &c), 0);
	c.profile = "dv";
	c.replace_precert = 1;
	assert_int_equal(store_cert_add(st, &c), 0);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_cert_each_of_key(st, ha, now, serial_seen,
	    &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_true(has_serial(&seen, "01") && has_serial(&seen, "02") &&
	    has_serial(&seen, "08"));
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_cert_each_of_key(st, hb, now, serial_seen,
	    &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.v[0], "03");
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_cert_each_of_key(st, hc, now, serial_seen,
	    &seen), 0);
	assert_int_equal(seen.n, 0);
	/* the expired one too, seen from before it expired */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_cert_each_of_key(st, ha, 1700000000 + 60,
	    serial_seen, &seen), 0);
	assert_int_equal(seen.n, 4);
	assert_true(has_serial(&seen, "04"));
	/* fn's first nonzero result stops the walk */
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 1;
	assert_int_equal(store_cert_each_of_key(st, ha, now, serial_seen,
	    &seen), 7);
	assert_int_equal(seen.n, 1);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM cert_keys"),
	    6);	/* 01 02 03 04 05 08: not the CA's, not the junk */
	assert_int_equal(store_cert_each_of_key(st, NULL, now, serial_seen,
	    &seen), RC_INVAL);
	assert_int_equal(store_cert_each_of_key(NULL, ha, now, serial_seen,
	    &seen), RC_INVAL);
}

/* A database at schema 17 with certificates: 0018 finds their keys,
 * except a CA's and bytes that are not a certificate. */
static void
test_migration_0018_cert_keys(void **state)
{
	struct fx *fx = *state;
	char path[320], msg[256], sql[800];
	struct store *st = NULL;
	struct serials seen;
	uint8_t a[FAKE_CERT_LEN], ha[32];
	char hex[2 * FAKE_CERT_LEN + 1];

	snprintf(path, sizeof(path), "%s/v17.db", fx->dir);
	at_version(path, 17);
	fake_cert(0xaa, a);
	fake_key_hash(0xaa, ha);
	for (size_t i = 0; i < sizeof(a); i++)
		snprintf(hex + 2 * i, 3, "%02x", a[i]);
	snprintf(sql, sizeof(sql), "INSERT INTO issuers (id, name, is_root, "
	    "active, cert_der, created_at) VALUES (1, 'i', 1, 1, X'30', 1); "
	    "INSERT INTO certificates (serial, issuer_id, profile, names, "
	    "not_before, not_after, der, created_at) VALUES "
	    "('0a', 1, 'dv', 'a.example', 1, 4000000000, X'%s', 1), "
	    "('0b', 1, 'ev', 'b.example', 1, 4000000000, X'%s', 1), "
	    "('0c', 1, 'ca', 'c', 1, 4000000000, X'%s', 1), "
	    "('0d', 1, 'dv', 'd.example', 1, 4000000000, X'0102', 1)",
	    hex, hex, hex);
	if (raw_exec(path, sql, msg, sizeof(msg)) != SQLITE_OK)
		fail_msg("%s", msg);

	assert_int_equal(open_at(path, 0, &st), 0);
	assert_int_equal(store_schema_version(st),
	    (int)store_sqlite_migrations_count);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM cert_keys"), 2);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_cert_each_of_key(st, ha, 1000, serial_seen,
	    &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_true(has_serial(&seen, "0a") && has_serial(&seen, "0b"));
	store_close(st);
	unlink_db(path);
}

/*
 * A database from before 0020 (at 17: a raw connection cannot run 0018,
 * which needs a function the store registers) with API tokens, which
 * had no end: 0020 gives
 * the usable ones of staff members (agent, admin) the default lifetime
 * counted from the migration, not from when they were made (one made
 * long ago would otherwise stop at once), and leaves customers' tokens
 * and revoked ones without an end.
 */
static void
test_migration_0020_token_expiry(void **state)
{
	struct fx *fx = *state;
	char path[320], msg[256];
	struct store *st = NULL;
	time_t before, after;
	int64_t end;

	snprintf(path, sizeof(path), "%s/v17.db", fx->dir);
	at_version(path, 17);
	if (raw_exec(path, "INSERT INTO customers (id, name, created_at) "
	    "VALUES (1, 'C', 1); "
	    "INSERT INTO users (id, customer_id, email, display_name, role, "
	    "created_at) VALUES (1, 1, 'c@c.example', 'C', 'customer', 1), "
	    "(2, NULL, 'agent@s.example', 'A', 'agent', 1), "
	    "(3, NULL, 'admin@s.example', 'B', 'admin', 1); "
	    "INSERT INTO api_tokens (id, user_id, token_hash, label, "
	    "created_at, last_used_at, revoked_at) VALUES "
	    "(1, 1, X'01', 'customer', 1000, NULL, NULL), "
	    "(2, 2, X'02', 'agent', 1000, 2000, NULL), "
	    "(3, 3, X'03', 'admin', 1000, NULL, NULL), "
	    "(4, 3, X'04', 'admin, revoked', 1000, NULL, 1500)", msg,
	    sizeof(msg)) != SQLITE_OK)
		fail_msg("%s", msg);

	before = time(NULL);
	assert_int_equal(open_at(path, 0, &st), 0);
	/* + 1: time() reads the coarse clock, which may lag a tick behind
	 * the one SQLite's 'now' reads */
	after = time(NULL) + 1;
	assert_int_equal(store_schema_version(st),
	    (int)store_sqlite_migrations_count);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM api_tokens "
	    "WHERE expires_at IS NULL AND id IN (1, 4)"), 2);
	for (int id = 2; id <= 3; id++) {
		char sql[100];

		snprintf(sql, sizeof(sql), "SELECT expires_at FROM api_tokens "
		    "WHERE id = %d", id);
		end = raw_int(path, sql);
		assert_in_range(end, before + 90 * 86400, after + 90 * 86400);
	}
	store_close(st);
	unlink_db(path);
}

/* A store from before 0030: every user is enabled, and stays so. */
static void
test_migration_0030_user_disable(void **state)
{
	struct fx *fx = *state;
	struct store_conf conf = {"sqlite", "", 0};
	char path[320], msg[256];
	struct store *st = NULL;
	struct store_user u;

	snprintf(path, sizeof(path), "%s/v29.db", fx->dir);
	conf.path = path;
	assert_int_equal(sq_open_upto(&conf, 29, &st), 0);
	assert_int_equal(store_schema_version(st), 29);
	store_close(st);
	st = NULL;
	if (raw_exec(path, "INSERT INTO users (id, customer_id, email, "
	    "display_name, role, pw_hash, created_at) VALUES "
	    "(1, NULL, 'admin@s.example', 'A', 'admin', '$argon2id$x', 1)",
	    msg, sizeof(msg)) != SQLITE_OK)
		fail_msg("%s", msg);
	assert_int_equal(open_at(path, 0, &st), 0);
	assert_int_equal(store_schema_version(st),
	    (int)store_sqlite_migrations_count);
	assert_int_equal(store_user_get(st, 1, &u), 0);
	assert_int_equal(u.disabled_at, 0);
	assert_string_equal(u.pw_hash, "$argon2id$x");
	store_user_clear(&u);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM users WHERE "
	    "disabled_at IS NULL"), 1);
	store_close(st);
	unlink_db(path);
}

/*
 * A database from before 0021 (at 17, as above) whose slots a failed
 * renewal moved to active while they held a certificate: 0021 gives each
 * the state of the certificate it holds (its newest order's with one):
 * issued, revoked, expired. An SSL Unlimited slot that never held one
 * stays active (0023 moves the other products' to unused), and slots in
 * other states are left alone.
 */
static void
test_migration_0021_slot_held_certificate(void **state)
{
	struct fx *fx = *state;
	char path[320], msg[256], sql[120];
	struct store *st = NULL;
	static const char *const want[] = {"issued", "revoked", "expired",
		"active", "issued", "active", "issued"};

	snprintf(path, sizeof(path), "%s/v17s.db", fx->dir);
	at_version(path, 17);
	if (raw_exec(path, "INSERT INTO customers (id, name, created_at) "
	    "VALUES (1, 'C', 1); "
	    "INSERT INTO contracts (id, customer_id, number, created_at) "
	    "VALUES (1, 1, 'K-1', 1); "
	    "INSERT INTO slots (id, contract_id, product, state, created_at, "
	    "updated_at) VALUES (1, 1, 'starter', 'active', 1, 1), "
	    "(2, 1, 'starter', 'active', 1, 1), "
	    "(3, 1, 'starter', 'active', 1, 1), "
	    "(4, 1, 'unlimited', 'active', 1, 1), "
	    "(5, 1, 'starter', 'issued', 1, 1), "
	    "(6, 1, 'unlimited', 'active', 1, 1), "
	    "(7, 1, 'starter', 'active', 1, 1); "
	    "INSERT INTO issuers (id, name, is_root, active, cert_der, "
	    "created_at) VALUES (1, 'i', 1, 1, X'30', 1); "
	    "INSERT INTO certificates (serial, issuer_id, profile, names, "
	    "not_before, not_after, der, created_at) VALUES "
	    "('0a', 1, 'dv', 'a', 1, 4000000000, X'01', 1), "
	    "('0b', 1, 'dv', 'b', 1, 4000000000, X'02', 1), "
	    "('0c', 1, 'dv', 'c', 1, 1000, X'03', 1), "
	    "('0d', 1, 'dv', 'd', 1, 4000000000, X'04', 1), "
	    "('0e', 1, 'dv', 'e', 1, 1000, X'05', 1), "
	    "('0f', 1, 'dv', 'e', 1, 4000000000, X'06', 1); "
	    "INSERT INTO revocations (serial, issuer_id, reason, revoked_at) "
	    "VALUES ('0b', 1, 1, 5); "
	    "INSERT INTO orders (id, contract_id, slot_id, profile, status, "
	    "names, created_at, updated_at, expires_at, cert_serial) VALUES "
	    "(1, 1, 1, 'dv', 'valid', 'a', 1, 1, 9, '0a'), "
	    "(2, 1, 1, 'dv', 'invalid', 'a', 2, 2, 9, NULL), "
	    "(3, 1, 2, 'dv', 'valid', 'b', 1, 1, 9, '0b'), "
	    "(4, 1, 2, 'dv', 'invalid', 'b', 2, 2, 9, NULL), "
	    "(5, 1, 3, 'dv', 'valid', 'c', 1, 1, 9, '0c'), "
	    "(6, 1, 3, 'dv', 'invalid', 'c', 2, 2, 9, NULL), "
	    "(7, 1, 4, 'dv', 'invalid', 'x', 2, 2, 9, NULL), "
	    "(8, 1, 5, 'dv', 'valid', 'd', 1, 1, 9, '0d'), "
	    "(9, 1, 7, 'dv', 'valid', 'e', 1, 1, 9, '0e'), "
	    "(10, 1, 7, 'dv', 'valid', 'e', 2, 2, 9, '0f'), "
	    "(11, 1, 7, 'dv', 'invalid', 'e', 3, 3, 9, NULL)", msg,
	    sizeof(msg)) != SQLITE_OK)
		fail_msg("%s", msg);

	assert_int_equal(open_at(path, 0, &st), 0);
	assert_int_equal(store_schema_version(st),
	    (int)store_sqlite_migrations_count);
	for (int i = 0; i < 7; i++) {
		struct store_slot s = {0};

		assert_int_equal(store_slot_get(st, i + 1, &s), 0);
		if (strcmp(s.state, want[i]) != 0)
			fail_msg("slot %d: %s, not %s", i + 1, s.state,
			    want[i]);
		store_slot_clear(&s);
	}
	/* untouched rows keep their time */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM slots WHERE "
	    "updated_at = 1 AND id IN (4, 5, 6)");
	assert_int_equal(raw_int(path, sql), 3);
	store_close(st);
	unlink_db(path);
}

/*
 * A database from before 0023 (at 17, as above: 0018 needs the store's
 * SQL functions) whose slots a failed first order moved from unused to
 * active: a Starter, Business, Business Wildcard and Premium slot that
 * never held a certificate is unused again; an SSL Unlimited slot stays
 * active (it was activated before it was set up); a slot that held a
 * certificate is 0021's (issued), and slots in other states are left
 * alone.
 */
static void
test_migration_0023_slot_never_set_up(void **state)
{
	struct fx *fx = *state;
	char path[320], msg[256];
	struct store *st = NULL;
	static const char *const want[] = {"unused", "unused", "unused",
		"unused", "active", "issued", "pending", "unused"};

	snprintf(path, sizeof(path), "%s/v17n.db", fx->dir);
	at_version(path, 17);
	if (raw_exec(path, "INSERT INTO customers (id, name, created_at) "
	    "VALUES (1, 'C', 1); "
	    "INSERT INTO contracts (id, customer_id, number, created_at) "
	    "VALUES (1, 1, 'K-1', 1); "
	    "INSERT INTO slots (id, contract_id, product, state, created_at, "
	    "updated_at) VALUES (1, 1, 'starter', 'active', 1, 1), "
	    "(2, 1, 'business', 'active', 1, 1), "
	    "(3, 1, 'business_wildcard', 'active', 1, 1), "
	    "(4, 1, 'premium', 'active', 1, 1), "
	    "(5, 1, 'unlimited', 'active', 1, 1), "
	    "(6, 1, 'starter', 'active', 1, 1), "
	    "(7, 1, 'business', 'pending', 1, 1), "
	    "(8, 1, 'starter', 'unused', 1, 1); "
	    "INSERT INTO issuers (id, name, is_root, active, cert_der, "
	    "created_at) VALUES (1, 'i', 1, 1, X'30', 1); "
	    "INSERT INTO certificates (serial, issuer_id, profile, names, "
	    "not_before, not_after, der, created_at) VALUES "
	    "('0a', 1, 'dv', 'a', 1, 4000000000, X'01', 1); "
	    "INSERT INTO orders (id, contract_id, slot_id, profile, status, "
	    "names, created_at, updated_at, expires_at, cert_serial) VALUES "
	    "(1, 1, 1, 'dv', 'invalid', 'a', 1, 1, 9, NULL), "
	    "(2, 1, 2, 'ov', 'invalid', 'b', 1, 1, 9, NULL), "
	    "(3, 1, 5, 'dv', 'invalid', 'c', 1, 1, 9, NULL), "
	    "(4, 1, 6, 'dv', 'valid', 'a', 1, 1, 9, '0a')", msg,
	    sizeof(msg)) != SQLITE_OK)
		fail_msg("%s", msg);

	assert_int_equal(open_at(path, 0, &st), 0);
	assert_int_equal(store_schema_version(st),
	    (int)store_sqlite_migrations_count);
	for (int i = 0; i < 8; i++) {
		struct store_slot s = {0};

		assert_int_equal(store_slot_get(st, i + 1, &s), 0);
		if (strcmp(s.state, want[i]) != 0)
			fail_msg("slot %d: %s, not %s", i + 1, s.state,
			    want[i]);
		store_slot_clear(&s);
	}
	/* untouched rows keep their time */
	assert_int_equal(raw_int(path, "SELECT count(*) FROM slots WHERE "
	    "updated_at = 1 AND id IN (5, 7, 8)"), 3);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM slots WHERE "
	    "updated_at = 1"), 3);
	store_close(st);
	unlink_db(path);
}

/*
 * A database at 0027 with conversations as certdesk kept them then: the
 * case's newest request and answer on its row, every earlier one in the
 * audit log (appended through the store, chain and all), the documents in
 * one list per case. 0028 makes each audited request and answer a
 * message in the log's order, with its author (unknown for an actor that
 * is no user) and time; a request or answer the log lacks comes from the
 * row; each document goes with the answer of its transaction, also when
 * a later request had cleared that answer from the row (before 0027), and
 * one the log lacks with the answer sent at its time. The audit log is
 * untouched, and the schema is the one a new store has.
 */
struct msgs_seen {
	int n;
	int64_t id[16], case_id[16], author[16];
	time_t at[16];
	char kind[16][12], body[16][64];
};

static int
msg_seen(const struct store_org_msg *m, void *arg)
{
	struct msgs_seen *v = arg;

	assert_true(v->n < 16);
	v->id[v->n] = m->id;
	v->case_id[v->n] = m->case_id;
	v->author[v->n] = m->author_id;
	v->at[v->n] = m->sent_at;
	snprintf(v->kind[v->n], sizeof(v->kind[0]), "%s", m->kind);
	snprintf(v->body[v->n], sizeof(v->body[0]), "%s", m->body);
	v->n++;
	return 0;
}

static void
test_migration_0028_org_messages(void **state)
{
	struct fx *fx = *state;
	const struct store_conf c27 = {"sqlite", "", 0};
	struct store_conf conf = c27;
	char path[320], msg[256], sql[4096];
	struct store *st = NULL;
	struct msgs_seen v;
	size_t len;
	struct rc_detail d = {""};
	int64_t verified = 0, bad = 0, n_audit;
	static const char *const audit[][4] = {
		/* actor, action, object, details */
		{"backoffice:user/2", "org.case.info_requested", "org_case:1",
		    "{\"from\":\"in_review\",\"order\":1,\"request\":\"Send "
		    "the register extract.\",\"to\":\"info_requested\"}"},
		{"backoffice:user/2", "org.case.info_requested", "org_case:5",
		    "{\"from\":\"in_review\",\"order\":5,\"request\":\"Your "
		    "VAT id?\",\"to\":\"info_requested\"}"},
		{"portal:user/1", "org.case.document", "org_case:1",
		    "{\"document\":1,\"order\":1,\"size\":5}"},
		{"portal:user/1", "org.case.document", "org_case:1",
		    "{\"document\":2,\"order\":1,\"size\":5}"},
		{"portal:user/1", "org.case.customer_response", "org_case:1",
		    "{\"documents\":2,\"from\":\"info_requested\",\"order\":1,"
		    "\"response\":\"Extract\\nand bill.\",\"to\":"
		    "\"in_review\"}"},
		{"portal:user/1", "org.case.document", "org_case:5",
		    "{\"document\":5,\"order\":5,\"size\":5}"},
		{"portal:user/1", "org.case.customer_response", "org_case:5",
		    "{\"documents\":1,\"from\":\"info_requested\",\"order\":5,"
		    "\"response\":\"DE999\",\"to\":\"in_review\"}"},
		{"backoffice:user/3", "org.case.info_requested", "org_case:1",
		    "{\"from\":\"in_review\",\"order\":1,\"request\":\"Which "
		    "court?\",\"to\":\"info_requested\"}"},
		/* before 0027 a new request cleared the answer on the row */
		{"backoffice:user/3", "org.case.info_requested", "org_case:5",
		    "{\"from\":\"in_review\",\"order\":5,\"request\":\"And "
		    "the register?\",\"to\":\"info_requested\"}"},
		/* an author that is no user; no such case; no text */
		{"backoffice:user/99", "org.case.info_requested", "org_case:4",
		    "{\"order\":4,\"request\":\"Is it current?\"}"},
		{"backoffice:user/2", "org.case.info_requested",
		    "org_case:77", "{\"order\":77,\"request\":\"Lost\"}"},
		{"portal:user/1", "org.case.customer_response", "org_case:4",
		    "{\"documents\":0}"},
		{"portal:user/4", "org.case.document", "org_case:1",
		    "{\"document\":3,\"order\":1,\"size\":5}"},
		{"portal:user/4", "org.case.customer_response", "org_case:1",
		    "{\"documents\":1,\"from\":\"info_requested\",\"order\":1,"
		    "\"response\":\"Mannheim.\",\"to\":\"in_review\"}"},
	};
	static const struct {
		int64_t case_id, author;
		const char *kind, *body;
	} want[] = {
		{1, 2, "request", "Send the register extract."},
		{5, 2, "request", "Your VAT id?"},
		{1, 1, "response", "Extract\nand bill."},
		{5, 1, "response", "DE999"},
		{1, 3, "request", "Which court?"},
		{5, 3, "request", "And the register?"},
		{4, 0, "request", "Is it current?"},
		{1, 4, "response", "Mannheim."},
		/* from the row of a case the log knows nothing of */
		{2, 0, "request", "Please send the VAT id."},
		{2, 0, "response", "DE123"},
	};

	snprintf(path, sizeof(path), "%s/v27.db", fx->dir);
	conf.path = path;
	/* (a handle at 27 is for reading its schema: the store's writes go
	 * through handles of their own, which migrate) */
	assert_int_equal(sq_open_upto(&conf, 27, &st), 0);
	assert_int_equal(store_schema_version(st), 27);
	store_close(st);
	st = NULL;
	if (raw_exec(path, "INSERT INTO customers (id, name, created_at) "
	    "VALUES (1, 'C', 1); "
	    "INSERT INTO users (id, customer_id, email, display_name, role, "
	    "created_at) VALUES (1, 1, 'c@c.example', 'Carl', 'customer', 1), "
	    "(2, NULL, 'ann@s.example', 'Ann', 'agent', 1), "
	    "(3, NULL, 'bob@s.example', 'Bob', 'agent', 1), "
	    "(4, 1, 'cora@c.example', 'Cora', 'customer', 1); "
	    "INSERT INTO contracts (id, customer_id, number, created_at) "
	    "VALUES (1, 1, 'K-1', 1); "
	    "INSERT INTO slots (id, contract_id, product, state, created_at, "
	    "updated_at) VALUES (1, 1, 'business', 'pending', 1, 1); "
	    "INSERT INTO orders (id, contract_id, slot_id, profile, status, "
	    "names, created_at, updated_at, expires_at) VALUES "
	    "(1, 1, 1, 'ov', 'pending', 'a', 1, 1, 9), "
	    "(2, 1, 1, 'ov', 'pending', 'b', 1, 1, 9), "
	    "(3, 1, 1, 'ov', 'pending', 'c', 1, 1, 9), "
	    "(4, 1, 1, 'ov', 'pending', 'd', 1, 1, 9), "
	    "(5, 1, 1, 'ov', 'pending', 'e', 1, 1, 9); "
	    "INSERT INTO org_cases (id, order_id, customer_id, profile, "
	    "product, state, approvals_required, assigned_to, info_request, "
	    "info_response, info_response_at, created_at, updated_at) VALUES "
	    "(1, 1, 1, 'ov', 'business', 'in_review', 1, 3, 'Which court?', "
	    "'Mannheim.', 1300, 1, 1), "
	    "(2, 2, 1, 'ov', 'business', 'in_review', 1, 2, "
	    "'Please send the VAT id.', 'DE123', 2000, 1, 1), "
	    "(3, 3, 1, 'ov', 'business', 'open', 1, NULL, NULL, NULL, NULL, "
	    "1, 1), "
	    "(4, 4, 1, 'ov', 'business', 'info_requested', 1, 2, "
	    "'Is it current?', NULL, NULL, 1, 1), "
	    "(5, 5, 1, 'ov', 'business', 'info_requested', 1, 3, "
	    "'And the register?', NULL, NULL, 1, 1); "
	    "INSERT INTO org_case_documents (id, case_id, content_type, size, "
	    "sha256, label, content, uploaded_by, uploaded_at) VALUES "
	    "(1, 1, 'application/pdf', 5, zeroblob(32), 'a.pdf', "
	    "X'255044462D', 1, 1100), "
	    "(2, 1, 'application/pdf', 5, zeroblob(32), 'b.pdf', "
	    "X'255044462D', 1, 1100), "
	    "(3, 1, 'application/pdf', 5, zeroblob(32), 'c.pdf', "
	    "X'255044462D', 4, 1300), "
	    "(4, 2, 'application/pdf', 5, zeroblob(32), 'd.pdf', "
	    "X'255044462D', 1, 2000), "
	    "(5, 5, 'application/pdf', 5, zeroblob(32), 'e.pdf', "
	    "X'255044462D', 1, 1500)", msg, sizeof(msg)) != SQLITE_OK)
		fail_msg("%s", msg);
	/* the log as the store appends it (its chain), in another file
	 * first, then as it is into the one at 27 */
	assert_int_equal(store_audit_append(fx->st, "admin:cli",
	    "customer.add", "customer:1", NULL), 0);
	for (size_t i = 0; i < sizeof(audit) / sizeof(audit[0]); i++)
		assert_int_equal(store_audit_append(fx->st, audit[i][0],
		    audit[i][1], audit[i][2], audit[i][3]), 0);
	/* each entry extends the head (0001's trigger), as appends do */
	len = (size_t)snprintf(sql, sizeof(sql), "ATTACH '%s' AS src;",
	    fx->path);
	for (size_t i = 1; i <= sizeof(audit) / sizeof(audit[0]) + 1; i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len,
		    " INSERT INTO audit_log SELECT * FROM src.audit_log "
		    "WHERE seq = %zu; UPDATE audit_head SET seq = %zu, hash = "
		    "(SELECT hash FROM audit_log WHERE seq = %zu);", i, i, i);
	assert_true(len < sizeof(sql));
	if (raw_exec(path, sql, msg, sizeof(msg)) != SQLITE_OK)
		fail_msg("copying the log: %s", msg);
	n_audit = raw_int(path, "SELECT count(*) FROM audit_log");
	assert_int_equal(n_audit, (int64_t)(sizeof(audit) /
	    sizeof(audit[0])) + 1);
	assert_int_equal(raw_int(path, "SELECT max(version) FROM "
	    "schema_migrations"), 27);

	assert_int_equal(open_at(path, 0, &st), 0);
	assert_int_equal(store_schema_version(st),
	    (int)store_sqlite_migrations_count);
	memset(&v, 0, sizeof(v));
	for (int64_t id = 1; id <= 5; id++)
		assert_int_equal(store_org_msg_list(st, id, msg_seen, &v), 0);
	assert_int_equal(v.n, (int)(sizeof(want) / sizeof(want[0])));
	/* in the order they were written, over every case */
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		size_t k;

		for (k = 0; k < (size_t)v.n; k++)
			if (strcmp(v.body[k], want[i].body) == 0)
				break;
		if (k == (size_t)v.n)
			fail_msg("no message \"%s\"", want[i].body);
		assert_int_equal(v.id[k], (int64_t)i + 1);
		assert_int_equal(v.case_id[k], want[i].case_id);
		assert_int_equal(v.author[k], want[i].author);
		assert_string_equal(v.kind[k], want[i].kind);
	}
	/* the time of each audited one is its entry's; the row's answer
	 * keeps its time, its request has none */
	assert_int_equal(raw_int(path, "SELECT count(*) FROM "
	    "org_case_messages m JOIN audit_log a ON a.object = "
	    "'org_case:' || m.case_id AND a.at = m.sent_at WHERE m.id <= 8"),
	    raw_int(path, "SELECT count(*) FROM org_case_messages m "
	    "JOIN audit_log a ON a.object = 'org_case:' || m.case_id "
	    "WHERE m.id <= 8"));
	assert_int_equal(raw_int(path, "SELECT count(*) FROM "
	    "org_case_messages WHERE sent_at IS NULL"), 1);
	assert_int_equal(raw_int(path, "SELECT sent_at FROM "
	    "org_case_messages WHERE id = 10"), 2000);
	/* each document with the answer it came with */
	assert_int_equal(raw_int(path, "SELECT group_concat(id || ':' || "
	    "message_id, ' ') = '1:3 2:3 3:8 4:10 5:4' FROM (SELECT id, "
	    "message_id FROM org_case_documents ORDER BY id)"), 1);
	/* the log is as it was, and verifies */
	assert_int_equal(raw_int(path, "SELECT count(*) FROM audit_log"),
	    n_audit);
	assert_int_equal(store_audit_verify(st, &verified, &bad), 0);
	assert_int_equal(verified, n_audit);
	/* the new messages follow */
	{
		struct store_org_msg m = {0, 1, "request", "Anything else?", 2,
		    5000};
		int64_t id = 0;

		assert_int_equal(store_org_msg_add(st, &m, &id), 0);
		assert_int_equal(id, 11);
	}
	store_close(st);
	/* a backup of it passes the check of its schema */
	assert_int_equal(store_schema_check(path, NULL, &d), 0);
	unlink_db(path);
}

static void
test_certs_revocations(void **state)
{
	struct fx *fx = *state;
	struct store *st = fx->st;
	uint8_t der[1024];
	struct store_cert c, g;
	struct revoked_seen seen;
	int64_t iss, iss2, cu, k;

	for (size_t i = 0; i < sizeof(der); i++)
		der[i] = (uint8_t)i;
	iss = make_issuer(st, "issuing-1");
	iss2 = make_issuer(st, "issuing-2");
	assert_int_equal(store_customer_add(st, "Example", &cu), 0);
	assert_int_equal(store_contract_add(st, cu, "K-1", &k), 0);

	fill_cert(&c, "7f3a9c01d2e4b5a6", iss, der, sizeof(der));
	c.contract_id = k;
	assert_int_equal(store_cert_add(st, &c), 0);
	assert_int_equal(store_cert_add(st, &c), RC_EXISTS);
	/* a certificate takes over only its precertificate's row */
	c.replace_precert = 1;
	assert_int_equal(store_cert_add(st, &c), RC_EXISTS);
	fill_cert(&c, "7f3a9c01d2e4b5a7", iss, der, sizeof(der));
	c.profile = "precert";
	assert_int_equal(store_cert_add(st, &c), 0);
	fill_cert(&c, "7f3a9c01d2e4b5a7", iss2, der, sizeof(der));
	c.replace_precert = 1;	/* another issuer's serial */
	assert_int_equal(store_cert_add(st, &c), RC_EXISTS);
	fill_cert(&c, "7f3a9c01d2e4b5a7", iss, der + 1, sizeof(der) - 1);
	c.replace_precert = 1;
	c.contract_id = k;
	assert_int_equal(store_cert_add(st, &c), 0);
	assert_int_equal(store_cert_get(st, "7f3a9c01d2e4b5a7", &g), 0);
	assert_string_equal(g.profile, "dv");
	assert_int_equal(g.contract_id, k);
	assert_int_equal(g.der_len, sizeof(der) - 1);
	store_cert_clear(&g);
	/* and only once: the row is the certificate's now */
	assert_int_equal(store_cert_add(st, &c), RC_EXISTS);
	/* without one, a new row as always */
	fill_cert(&c, "7f3a9c01d2e4b5a8", iss, der, sizeof(der));
	c.replace_precert = 1;
	assert_int_equal(store_cert_add(st, &c), 0);
	fill_cert(&c, "7f3a9c01d2e4b5a6", iss, der, sizeof(der));
	c.contract_id = k;

	assert_int_equal(store_cert_get(st, "7f3a9c01d2e4b5a6", &g), 0);
	assert_string_equal(g.serial, "7f3a9c01d2e4b5a6");
	assert_int_equal(g.issuer_id, iss);
	assert_string_equal(g.profile, "dv");
	assert_string_equal(g.names, "example.com www.example.com");
	assert_int_equal(g.order_id, 0);
	assert_int_equal(g.contract_id, k);
	assert_int_equal(g.not_before, c.not_before);
	assert_int_equal(g.not_after, c.not_after);
	assert_int_equal(g.der_len, sizeof(der));
	assert_memory_equal(g.der, der, sizeof(der));
	assert_int_equal(g.revoked, 0);
	store_cert_clear(&g);
	store_cert_clear(NULL);
	assert_int_equal(store_cert_get(st, "00aa", &g), RC_NOTFOUND);

	/* unknown parents */
	fill_cert(&c, "01", 4242, der, sizeof(der));
	assert_int_equal(store_cert_add(st, &c), RC_NOTFOUND);
	fill_cert(&c, "01", iss, der, sizeof(der));
	c.order_id = 77;
	assert_int_equal(store_cert_add(st, &c), RC_NOTFOUND);
	c.order_id = 0;
	c.contract_id = 78;
	assert_int_equal(store_cert_add(st, &c), RC_NOTFOUND);

	/* the CRL shard, stored with the certificate (none: NULL) */
	{
		int64_t shard = -1;

		assert_int_equal(store_cert_get_shard(st, "7f3a9c01d2e4b5a6",
		    &shard), 0);
		assert_int_equal(shard, -1);
		fill_cert(&c, "5a", iss, der, 10);
		c.has_crl_shard = 1;
		c.crl_shard = -1;
		assert_int_equal(store_cert_add(st, &c), RC_INVAL);
		c.crl_shard = 3;
		assert_int_equal(store_cert_add(st, &c), 0);
		assert_int_equal(store_cert_get_shard(st, "5a", &shard), 0);
		assert_int_equal(shard, 3);
	}

	/* more certificates of both issuers */
	fill_cert(&c, "ff01", iss, der, 10);
	assert_int_equal(store_cert_add(st, &c), 0);
	fill_cert(&c, "0a", iss, der, 10);
	assert_int_equal(store_cert_add(st, &c), 0);
	fill_cert(&c, "1b", iss2, der, 10);
	assert_int_equal(store_cert_add(st, &c), 0);

	assert_int_equal(store_revoke(st, "ff01", 1, 1761000000), 0);
	assert_int_equal(store_revoke(st, "0a", 4, 1761000100), 0);
	assert_int_equal(store_revoke(st, "1b", 0, 1761000200), 0);
	assert_int_equal(store_revoke(st, "0a", 1, 1761000300), RC_EXISTS);
	assert_int_equal(store_revoke(st, "abcdef", 1, 1761000000),
	    RC_NOTFOUND);
	assert_int_equal(store_revoke(st, "7f3a9c01d2e4b5a6", 7, 1), RC_INVAL);
	assert_int_equal(store_revoke(st, "7f3a9c01d2e4b5a6", 11, 1),
	    RC_INVAL);
	assert_int_equal(store_revoke(st, "7f3a9c01d2e4b5a6", -1, 1),
	    RC_INVAL);
	assert_int_equal(store_revoke(st, "7F3A", 1, 1), RC_INVAL);

	assert_int_equal(store_cert_get(st, "0a", &g), 0);
	assert_int_equal(g.revoked, 1);
	assert_int_equal(g.reason, 4);
	assert_int_equal(g.revoked_at, 1761000100);
	store_cert_clear(&g);
	assert_int_equal(store_cert_get(st, "7f3a9c01d2e4b5a6", &g), 0);
	assert_int_equal(g.revoked, 0);
	store_cert_clear(&g);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_revoked_list(st, iss, revoked_cb, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.serial[0], "0a");
	assert_int_equal(seen.reason[0], 4);
	assert_int_equal(seen.when[0], 1761000100);
	assert_string_equal(seen.serial[1], "ff01");
	assert_int_equal(seen.reason[1], 1);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_revoked_list(st, iss2, revoked_cb, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.serial[0], "1b");
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_revoked_list(st, 999, revoked_cb, &seen), 0);
	assert_int_equal(seen.n, 0);

	/* revocation time 0 means now */
	assert_int_equal(store_revoke(st, "7f3a9c01d2e4b5a6", 5, 0), 0);
	assert_int_equal(store_cert_get(st, "7f3a9c01d2e4b5a6", &g), 0);
	assert_true(g.revoked_at >= time(NULL) - 5);
	store_cert_clear(&g);
}

/* The state of slot id (static buffer). */
static const char *
slot_state(struct store *st, int64_t id)
{
	static char buf[16];
	struct store_slot s = {0};

	assert_int_equal(store_slot_get(st, id, &s), 0);
	snprintf(buf, sizeof(buf), "%s", s.state);
	store_slot_clear(&s);
	return buf;
}

/* A valid portal order of slot with certificate serial (issued), as
 * ra_portal_issue leaves it; its id. */
static int64_t
slot_order(struct store *st, int64_t contract, int64_t slot, int64_t iss,
    const char *serial)
{
	static uint8_t der[10] = {0x30};
	struct store_order o = {0};
	struct store_cert c;
	int64_t id = 0;

	o.contract_id = contract;
	o.slot_id = slot;
	o.profile = "dv";
	o.status = "processing";
	o.names = "example.com";
	o.expires_at = 1770000000;
	assert_int_equal(store_order_add(st, &o, &id), 0);
	if (serial == NULL)
		return id;
	fill_cert(&c, serial, iss, der, sizeof(der));
	c.order_id = id;
	c.contract_id = contract;
	assert_int_equal(store_cert_add(st, &c), 0);
	assert_int_equal(store_order_set_status(st, id, "processing", "valid",
	    NULL, serial, NULL, 0, 0), 0);
	return id;
}

/* A renewal of slot (issued, or in any state that takes an order) that
 * failed: the slot pending with a new order, the order invalid without a
 * certificate, the slot moved back by store_slot_order_ended; its id. */
static int64_t
failed_order(struct store *st, int64_t contract, int64_t slot)
{
	struct store_slot sl = {0};
	int64_t id = slot_order(st, contract, slot, 0, NULL);

	assert_int_equal(store_slot_get(st, slot, &sl), 0);
	assert_int_equal(store_slot_set_state(st, slot, sl.state, "pending",
	    0), 0);
	store_slot_clear(&sl);
	assert_int_equal(store_order_set_status(st, id, "processing",
	    "invalid", "{}", NULL, NULL, 0, 0), 0);
	/* while the certificates of fill_cert are valid */
	assert_int_equal(store_slot_order_ended(st, id, 1760000100, NULL), 0);
	return id;
}

/*
 * store_slot_orders: a slot's newest order and its newest with a
 * certificate (what the portfolio shows and links to): none before the
 * first order; the order in progress or that failed after the one whose
 * certificate the slot holds; nothing of another slot's. Bad input is
 * refused.
 */
static void
test_slot_orders(void **state)
{
	struct fx *fx = *state;
	struct store *st = fx->st;
	int64_t cu = 0, k = 0, s = 0, s2 = 0, iss, a, b, n = -1, h = -1;

	iss = make_issuer(st, "issuing-1");
	assert_int_equal(store_customer_add(st, "Example GmbH", &cu), 0);
	assert_int_equal(store_contract_add(st, cu, "K-1", &k), 0);
	assert_int_equal(store_slot_add(st, k, "starter", &s), 0);
	assert_int_equal(store_slot_add(st, k, "starter", &s2), 0);
	assert_int_equal(store_slot_orders(st, s, &n, &h), 0);
	assert_true(n == 0 && h == 0);
	a = slot_order(st, k, s, 0, NULL);
	assert_int_equal(store_slot_orders(st, s, &n, &h), 0);
	assert_true(n == a && h == 0);
	a = slot_order(st, k, s, iss, "3a");
	assert_int_equal(store_slot_orders(st, s, &n, &h), 0);
	assert_true(n == a && h == a);
	b = slot_order(st, k, s, 0, NULL);
	assert_int_equal(store_slot_orders(st, s, &n, &h), 0);
	assert_true(n == b && h == a);
	assert_int_equal(store_slot_orders(st, s2, &n, &h), 0);
	assert_true(n == 0 && h == 0);
	assert_int_equal(store_slot_orders(st, 999999, &n, &h), 0);
	assert_true(n == 0 && h == 0);
	assert_int_equal(store_slot_orders(st, 0, &n, &h), RC_INVAL);
	assert_int_equal(store_slot_orders(st, -1, &n, &h), RC_INVAL);
	assert_int_equal(store_slot_orders(st, s, NULL, &h), RC_INVAL);
	assert_int_equal(store_slot_orders(st, s, &n, NULL), RC_INVAL);
	assert_int_equal(store_slot_orders(NULL, s, &n, &h), RC_INVAL);
}

/*
 * A revocation moves the slot that holds the certificate to revoked in
 * its own transaction, whoever revokes (store_revoke is where every
 * revocation is stored); not a slot a renewal moved on to a newer order,
 * nor one in another state, nor anything for a certificate of no slot.
 */
static void
test_revoke_moves_slot(void **state)
{
	struct fx *fx = *state;
	struct store *st = fx->st;
	static uint8_t der[10] = {0x30};
	struct store_cert c;
	int64_t cu = 0, k = 0, s1 = 0, s2 = 0, s3 = 0, iss;

	iss = make_issuer(st, "issuing-1");
	assert_int_equal(store_customer_add(st, "Example GmbH", &cu), 0);
	assert_int_equal(store_contract_add(st, cu, "K-1", &k), 0);
	assert_int_equal(store_slot_add(st, k, "starter", &s1), 0);
	assert_int_equal(store_slot_add(st, k, "starter", &s2), 0);
	assert_int_equal(store_slot_add(st, k, "starter", &s3), 0);
	for (int i = 0; i < 3; i++) {
		int64_t s = i == 0 ? s1 : i == 1 ? s2 : s3;

		assert_int_equal(store_slot_set_state(st, s, "unused",
		    "pending", 0), 0);
		assert_int_equal(store_slot_set_state(st, s, "pending",
		    "issued", 0), 0);
	}
	/* s1 holds 0a */
	slot_order(st, k, s1, iss, "0a");
	assert_int_equal(store_revoke(st, "0a", 1, 1761000000), 0);
	assert_string_equal(slot_state(st, s1), "revoked");
	{
		struct store_slot g = {0};

		assert_int_equal(store_slot_get(st, s1, &g), 0);
		assert_int_equal(g.updated_at, 1761000000);
		store_slot_clear(&g);
	}
	/* a second revocation changes nothing */
	assert_int_equal(store_revoke(st, "0a", 4, 1761000100),
	    RC_EXISTS);
	assert_string_equal(slot_state(st, s1), "revoked");

	/* s2 was renewed: 0b's order is no longer its newest, 0c holds it */
	slot_order(st, k, s2, iss, "0b");
	slot_order(st, k, s2, iss, "0c");
	assert_int_equal(store_revoke(st, "0b", 4, 0), 0);
	assert_string_equal(slot_state(st, s2), "issued");
	assert_int_equal(store_revoke(st, "0c", 4, 0), 0);
	assert_string_equal(slot_state(st, s2), "revoked");

	/* s3 has a renewal in progress: it stays pending */
	slot_order(st, k, s3, iss, "0d");
	assert_int_equal(store_slot_set_state(st, s3, "issued", "pending",
	    0), 0);
	assert_string_equal(slot_state(st, s3), "pending");
	assert_int_equal(store_revoke(st, "0d", 1, 0), 0);
	assert_string_equal(slot_state(st, s3), "pending");

	/* s1 again, holding 0f: a renewal failed (a newer order, without a
	 * certificate), the slot went back to issued with 0f, and 0f's
	 * revocation still moves it */
	assert_int_equal(store_slot_set_state(st, s1, "revoked", "pending",
	    0), 0);
	assert_int_equal(store_slot_set_state(st, s1, "pending", "issued",
	    0), 0);
	slot_order(st, k, s1, iss, "0f");
	failed_order(st, k, s1);
	assert_string_equal(slot_state(st, s1), "issued");
	assert_int_equal(store_revoke(st, "0f", 4, 0), 0);
	assert_string_equal(slot_state(st, s1), "revoked");

	/* a certificate of no order (ACME without a slot, `ca issue`) */
	fill_cert(&c, "0e", iss, der, sizeof(der));
	assert_int_equal(store_cert_add(st, &c), 0);
	assert_int_equal(store_revoke(st, "0e", 0, 0), 0);
	assert_int_equal(store_cert_get(st, "0e", &c), 0);
	assert_int_equal(c.revoked, 1);
	store_cert_clear(&c);
}

/*
 * A portal order that failed (invalid, no certificate) moves its slot
 * back from pending to what the slot held before it: unused when it never
 * held a certificate (SSL Unlimited: active, as activated); else, by the
 * certificate of its newest order with one, issued, revoked or expired
 * (at the time given). Nothing moves for
 * an order still open, one that is not the slot's newest, a slot an admin
 * cancelled; unknown orders and ACME orders are not found. No one else
 * moves a slot out of pending but to issued.
 */
static void
test_slot_order_ended(void **state)
{
	struct fx *fx = *state;
	struct store *st = fx->st;
	struct store_slot g = {0};
	struct store_order ao = {0};
	char to[STORE_SLOT_STATE_LEN];
	int64_t cu = 0, k = 0, sl[5], iss, o, o2, acme = 0, u = 0;
	const time_t end = 1760000000 + 199 * 86400;	/* fill_cert */

	iss = make_issuer(st, "issuing-1");
	assert_int_equal(store_customer_add(st, "Example GmbH", &cu), 0);
	assert_int_equal(store_contract_add(st, cu, "K-1", &k), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(store_slot_add(st, k, "starter", &sl[i]), 0);

	/* never held one: unused again, as before the order */
	o = slot_order(st, k, sl[0], 0, NULL);
	assert_int_equal(store_slot_set_state(st, sl[0], "unused", "pending",
	    0), 0);
	/* the order is still open: nothing moves */
	assert_int_equal(store_slot_order_ended(st, o, 0, to), RC_STATE);
	assert_string_equal(to, "");
	assert_string_equal(slot_state(st, sl[0]), "pending");
	/* and no one else moves it */
	assert_int_equal(store_slot_set_state(st, sl[0], "pending", "active",
	    0), RC_INVAL);
	assert_int_equal(store_order_set_status(st, o, "processing",
	    "invalid", "{}", NULL, NULL, 0, 0), 0);
	assert_int_equal(store_slot_order_ended(st, o, 1760000100, to), 0);
	assert_string_equal(to, "unused");
	assert_int_equal(store_slot_get(st, sl[0], &g), 0);
	assert_string_equal(g.state, "unused");
	assert_int_equal(g.updated_at, 1760000100);
	store_slot_clear(&g);
	/* a second time: the slot is not pending any more */
	assert_int_equal(store_slot_order_ended(st, o, 0, to), RC_STATE);
	/* SSL Unlimited is set up once activated: active again */
	assert_int_equal(store_slot_add(st, k, "unlimited", &u), 0);
	assert_int_equal(store_slot_set_state(st, u, "unused", "active", 0),
	    0);
	o = slot_order(st, k, u, 0, NULL);
	assert_int_equal(store_slot_set_state(st, u, "active", "pending", 0),
	    0);
	assert_int_equal(store_order_set_status(st, o, "processing",
	    "invalid", "{}", NULL, NULL, 0, 0), 0);
	assert_int_equal(store_slot_order_ended(st, o, 0, to), 0);
	assert_string_equal(to, "active");
	assert_string_equal(slot_state(st, u), "active");

	/* held 1a, a renewal failed: issued again, with 1a */
	assert_int_equal(store_slot_set_state(st, sl[1], "unused", "pending",
	    0), 0);
	assert_int_equal(store_slot_set_state(st, sl[1], "pending", "issued",
	    0), 0);
	slot_order(st, k, sl[1], iss, "1a");
	o = failed_order(st, k, sl[1]);
	assert_string_equal(slot_state(st, sl[1]), "issued");
	/* the renewal after it is the newest: the older one moves nothing */
	o2 = slot_order(st, k, sl[1], 0, NULL);
	assert_int_equal(store_slot_set_state(st, sl[1], "issued", "pending",
	    0), 0);
	assert_int_equal(store_slot_order_ended(st, o, 0, to), RC_STATE);
	assert_string_equal(slot_state(st, sl[1]), "pending");
	/* an admin cancels the slot while o2 waits; o2 fails: cancelled
	 * stays */
	assert_int_equal(store_slot_set_state(st, sl[1], "pending",
	    "cancelled", 0), 0);
	assert_int_equal(store_order_set_status(st, o2, "processing",
	    "invalid", "{}", NULL, NULL, 0, 0), 0);
	assert_int_equal(store_slot_order_ended(st, o2, 0, to), RC_STATE);
	assert_string_equal(slot_state(st, sl[1]), "cancelled");

	/* held 1b, revoked while the renewal waited: revoked */
	assert_int_equal(store_slot_set_state(st, sl[2], "unused", "pending",
	    0), 0);
	assert_int_equal(store_slot_set_state(st, sl[2], "pending", "issued",
	    0), 0);
	slot_order(st, k, sl[2], iss, "1b");
	o = slot_order(st, k, sl[2], 0, NULL);
	assert_int_equal(store_slot_set_state(st, sl[2], "issued", "pending",
	    0), 0);
	assert_int_equal(store_revoke(st, "1b", 1, 0), 0);
	assert_string_equal(slot_state(st, sl[2]), "pending");
	assert_int_equal(store_order_set_status(st, o, "processing",
	    "invalid", "{}", NULL, NULL, 0, 0), 0);
	assert_int_equal(store_slot_order_ended(st, o, 1760000100, to), 0);
	assert_string_equal(to, "revoked");
	assert_string_equal(slot_state(st, sl[2]), "revoked");

	/* held 1c, which expired while the renewal waited: expired; a
	 * second before its end it was still issued */
	for (int i = 3; i < 5; i++) {
		char serial[8];

		snprintf(serial, sizeof(serial), "1c%d", i);
		assert_int_equal(store_slot_set_state(st, sl[i], "unused",
		    "pending", 0), 0);
		assert_int_equal(store_slot_set_state(st, sl[i], "pending",
		    "issued", 0), 0);
		slot_order(st, k, sl[i], iss, serial);
		o = slot_order(st, k, sl[i], 0, NULL);
		assert_int_equal(store_slot_set_state(st, sl[i], "issued",
		    "pending", 0), 0);
		assert_int_equal(store_order_set_status(st, o, "processing",
		    "invalid", "{}", NULL, NULL, 0, 0), 0);
		assert_int_equal(store_slot_order_ended(st, o, i == 3 ? end :
		    end - 1, to), 0);
		assert_string_equal(to, i == 3 ? "expired" : "issued");
	}

	/* no such order, an ACME order (no slot), bad ids */
	assert_int_equal(store_slot_order_ended(st, 99999, 0, to),
	    RC_NOTFOUND);
	ao.account_id = 0;
	ao.contract_id = k;
	ao.profile = "dv";
	ao.status = "invalid";
	ao.names = "example.com";
	ao.expires_at = 1770000000;
	assert_int_equal(store_order_add(st, &ao, &acme), 0);
	assert_int_equal(store_slot_order_ended(st, acme, 0, to),
	    RC_NOTFOUND);
	assert_int_equal(store_slot_order_ended(st, 0, 0, to), RC_INVAL);
	assert_int_equal(store_slot_order_ended(st, -1, 0, NULL), RC_INVAL);
	assert_int_equal(store_slot_order_ended(NULL, o, 0, NULL), RC_INVAL);
}

/* A pending order of slot (0: an ACME order) expiring at exp; its id. */
static int64_t
open_order(struct store *st, int64_t contract, int64_t slot, time_t exp)
{
	struct store_order o = {0};
	int64_t id = 0;

	o.contract_id = contract;
	o.slot_id = slot;
	o.profile = "dv";
	o.status = "pending";
	o.names = "example.com";
	o.expires_at = exp;
	assert_int_equal(store_order_add(st, &o, &id), 0);
	return id;
}

/*
 * The portal orders to end as expired: pending at or past expires_at, of
 * a pending slot (or of the one slot asked for), soonest expired first;
 * not ACME orders, not orders in other statuses, not unexpired ones.
 */
static void
test_order_expired_portal(void **state)
{
	struct fx *fx = *state;
	struct store *st = fx->st;
	int64_t cu = 0, k = 0, s1 = 0, s2 = 0, s3 = 0, a, b, c, ids[8];
	size_t n = 9;

	assert_int_equal(store_customer_add(st, "Example GmbH", &cu), 0);
	assert_int_equal(store_contract_add(st, cu, "K-1", &k), 0);
	assert_int_equal(store_slot_add(st, k, "starter", &s1), 0);
	assert_int_equal(store_slot_add(st, k, "starter", &s2), 0);
	assert_int_equal(store_slot_add(st, k, "starter", &s3), 0);
	a = open_order(st, k, s1, 1770000300);
	b = open_order(st, k, s2, 1770000100);
	c = open_order(st, k, s3, 1770000200);
	(void)open_order(st, k, 0, 1770000000);	/* ACME */
	assert_int_equal(store_slot_set_state(st, s1, "unused", "pending", 0),
	    0);
	assert_int_equal(store_slot_set_state(st, s2, "unused", "pending", 0),
	    0);
	/* (s3 is not pending: an admin cancelled it, say) */
	assert_int_equal(store_slot_set_state(st, s3, "unused", "cancelled",
	    0), 0);
	assert_int_equal(store_order_expired_portal(st, 0, 1770000099, ids, 8,
	    &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_order_expired_portal(st, 0, 1770000300, ids, 8,
	    &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], b);
	assert_int_equal(ids[1], a);
	assert_int_equal(store_order_expired_portal(st, 0, 1770000300, ids, 1,
	    &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], b);
	/* one slot: whatever its state */
	assert_int_equal(store_order_expired_portal(st, s3, 1770000300, ids,
	    8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], c);
	assert_int_equal(store_order_expired_portal(st, s1, 1770000299, ids,
	    8, &n), 0);
	assert_int_equal(n, 0);
	/* ended: no longer pending */
	assert_int_equal(store_order_set_status(st, b, "pending", "invalid",
	    "{}", NULL, NULL, 0, 0), 0);
	assert_int_equal(store_order_expired_portal(st, 0, 1770000300, ids, 8,
	    &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], a);
	/* bad input */
	assert_int_equal(store_order_expired_portal(st, -1, 0, ids, 8, &n),
	    RC_INVAL);
	assert_int_equal(store_order_expired_portal(st, 0, 0, ids, 0, &n),
	    RC_INVAL);
	assert_int_equal(store_order_expired_portal(st, 0, 0, NULL, 8, &n),
	    RC_INVAL);
	assert_int_equal(store_order_expired_portal(st, 0, 0, ids, 8, NULL),
	    RC_INVAL);
	assert_int_equal(store_order_expired_portal(NULL, 0, 0, ids, 8, &n),
	    RC_INVAL);
}

static void
test_cert_bad_input(void **state)
{
	struct fx *fx = *state;
	struct store *st = fx->st;
	uint8_t der[16] = {0x30};
	struct store_cert c, g;
	char *names;
	int64_t iss = make_issuer(st, "issuing-1");

	fill_cert(&c, "", iss, der, sizeof(der));
	assert_int_equal(store_cert_add(st, &c), RC_INVAL);
	fill_cert(&c, "00Zz", iss, der, sizeof(der));
	assert_int_equal(store_cert_add(st, &c), RC_INVAL);
	fill_cert(&c, "0102", iss, NULL, 0);
	assert_int_equal(store_cert_add(st, &c), RC_INVAL);
	fill_cert(&c, "0102", iss, der, 0);
	assert_int_equal(store_cert_add(st, &c), RC_INVAL);
	fill_cert(&c, "0102", iss, der, STORE_MAX_CERT + 1);
	assert_int_equal(store_cert_add(st, &c), RC_INVAL);
	fill_cert(&c, "0102", 0, der, sizeof(der));
	assert_int_equal(store_cert_add(st, &c), RC_INVAL);
	fill_cert(&c, "0102", iss, der, sizeof(der));
	c.profile = NULL;
	assert_int_equal(store_cert_add(st, &c), RC_INVAL);
	c.profile = "DV; DROP TABLE";
	assert_int_equal(store_cert_add(st, &c), RC_INVAL);
	c.profile = "dv";
	c.names = "";
	assert_int_equal(store_cert_add(st, &c), RC_INVAL);
	c.names = "example.com";
	c.not_after = c.not_before - 1;
	assert_int_equal(store_cert_add(st, &c), RC_INVAL);
	c.not_after = c.not_before;
	c.order_id = -5;
	assert_int_equal(store_cert_add(st, &c), RC_INVAL);
	c.order_id = 0;
	/* a serial of 41 digits does not fit; 40 does */
	memset(c.serial, 'a', 40);
	c.serial[40] = '\0';
	assert_int_equal(store_cert_add(st, &c), 0);
	assert_int_equal(store_cert_get(st, c.serial, &g), 0);
	store_cert_clear(&g);
	assert_int_equal(store_cert_get(st,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &g), RC_INVAL);
	assert_int_equal(store_cert_get(st, NULL, &g), RC_INVAL);
	assert_int_equal(store_cert_add(st, NULL), RC_INVAL);

	/* long name lists: up to STORE_MAX_LONG bytes are stored */
	names = malloc(STORE_MAX_LONG + 2);
	assert_non_null(names);
	for (size_t i = 0; i < STORE_MAX_LONG; i++)
		names[i] = (i % 16 == 15) ? ' ' : 'a';
	names[STORE_MAX_LONG - 1] = 'z';
	names[STORE_MAX_LONG] = '\0';
	fill_cert(&c, "0103", iss, der, sizeof(der));
	c.names = names;
	assert_int_equal(store_cert_add(st, &c), 0);
	assert_int_equal(store_cert_get(st, "0103", &g), 0);
	assert_int_equal(strlen(g.names), STORE_MAX_LONG);
	assert_string_equal(g.names, names);
	store_cert_clear(&g);
	names[STORE_MAX_LONG] = 'b';
	names[STORE_MAX_LONG + 1] = '\0';
	fill_cert(&c, "0104", iss, der, sizeof(der));
	c.names = names;
	assert_int_equal(store_cert_add(st, &c), RC_INVAL);
	free(names);
}

static void
test_crls(void **state)
{
	struct fx *fx = *state;
	struct store *st = fx->st;
	uint8_t der1[50], der2[70];
	struct store_crl crl, g;
	int64_t iss = make_issuer(st, "issuing-1");

	memset(der1, 1, sizeof(der1));
	memset(der2, 2, sizeof(der2));
	assert_int_equal(store_crl_latest(st, iss, &g), RC_NOTFOUND);
	memset(&crl, 0, sizeof(crl));
	crl.issuer_id = iss;
	crl.number = 1;
	crl.this_update = 1760000000;
	crl.next_update = 1760000000 + 7 * 86400;
	crl.der = der1;
	crl.der_len = sizeof(der1);
	assert_int_equal(store_crl_put(st, &crl), 0);
	assert_int_equal(store_crl_put(st, &crl), RC_EXISTS);
	crl.number = 2;
	crl.this_update += 3600;
	crl.der = der2;
	crl.der_len = sizeof(der2);
	assert_int_equal(store_crl_put(st, &crl), 0);
	/* a publisher that took number 1 and comes late: the newer stays */
	crl.number = 1;
	assert_int_equal(store_crl_put(st, &crl), RC_EXISTS);
	crl.number = 2;

	assert_int_equal(store_crl_latest(st, iss, &g), 0);
	assert_int_equal(g.issuer_id, iss);
	assert_int_equal(g.number, 2);
	assert_int_equal(g.this_update, 1760003600);
	assert_int_equal(g.next_update, 1760000000 + 7 * 86400);
	assert_int_equal(g.der_len, sizeof(der2));
	assert_memory_equal(g.der, der2, sizeof(der2));
	store_crl_clear(&g);
	store_crl_clear(NULL);

	crl.issuer_id = 999;
	crl.number = 3;
	assert_int_equal(store_crl_put(st, &crl), RC_NOTFOUND);
	crl.issuer_id = iss;
	crl.der = NULL;
	assert_int_equal(store_crl_put(st, &crl), RC_INVAL);
	crl.der = der1;
	crl.number = -1;
	assert_int_equal(store_crl_put(st, &crl), RC_INVAL);
	crl.number = 3;
	crl.next_update = crl.this_update - 1;
	assert_int_equal(store_crl_put(st, &crl), RC_INVAL);

	/* a shard's CRL: only ever replaced by a higher number */
	{
		struct store_crl_shard sc;

		memset(&sc, 0, sizeof(sc));
		sc.issuer_id = iss;
		sc.shard = 3;
		sc.number = 5;
		sc.this_update = 1760000000;
		sc.next_update = 1760000000 + 86400;
		sc.der = der1;
		sc.der_len = sizeof(der1);
		assert_int_equal(store_crl_shard_put(st, &sc), 0);
		sc.number = 4;		/* taken before 5, stored after */
		assert_int_equal(store_crl_shard_put(st, &sc), RC_EXISTS);
		sc.number = 5;
		assert_int_equal(store_crl_shard_put(st, &sc), RC_EXISTS);
		sc.number = 6;
		sc.der = der2;
		sc.der_len = sizeof(der2);
		assert_int_equal(store_crl_shard_put(st, &sc), 0);
	}
}

/* ---- transactions -------------------------------------------------------- */

static int
tx_add_then_fail(struct store *st, void *arg)
{
	assert_int_equal(store_customer_add(st, (const char *)arg, NULL), 0);
	assert_int_equal(store_audit_append(st, "test", "customer.add",
	    "customer:x", NULL), 0);
	return RC_STATE;
}

static void
test_tx_rollback(void **state)
{
	struct fx *fx = *state;
	int64_t n = -1, bad = -1;

	assert_int_equal(store_tx(fx->st, tx_add_then_fail, "Gone"), RC_STATE);
	assert_int_equal(count_rows(fx->st, "customers"), 0);
	assert_int_equal(store_audit_verify(fx->st, &n, &bad), 0);
	assert_int_equal(n, 0);
	assert_int_equal(bad, 0);
	assert_int_equal(raw_int(fx->path, "SELECT seq FROM audit_head"), 0);
	/* the handle is usable after the rollback */
	assert_int_equal(store_customer_add(fx->st, "Kept", NULL), 0);
	assert_int_equal(count_rows(fx->st, "customers"), 1);
	assert_int_equal(store_tx(fx->st, NULL, NULL), RC_INVAL);
	assert_int_equal(store_tx(NULL, tx_add_then_fail, NULL), RC_INVAL);
}

/* ---- request snapshots --------------------------------------------------- */

static int
tx_add_customer(struct store *st, void *arg)
{
	return store_customer_add(st, (const char *)arg, NULL);
}

/*
 * store_rq_begin: reads share one snapshot (a write by another connection
 * stays unseen), which ends at the request's own write, at a write this
 * thread committed through the group committer, and at store_rq_end; a
 * store_tx and a multi-statement read inside it work as without it.
 */
static void
test_rq_snapshot(void **state)
{
	struct fx *fx = *state;
	struct store_conf conf = {"sqlite", fx->path, 0};
	struct store_group *g = NULL;
	int64_t n = -1, bad = -1;

	assert_int_equal(store_group_open(&conf, &g), 0);
	store_rq_begin(NULL);
	store_rq_end(NULL);
	store_rq_begin(fx->st);
	assert_int_equal(count_rows(fx->st, "customers"), 0);
	/* another connection commits: unseen in this request */
	assert_int_equal(raw_exec(fx->path, "INSERT INTO customers (name, "
	    "created_at) VALUES ('Other', 1)", NULL, 0), SQLITE_OK);
	assert_int_equal(count_rows(fx->st, "customers"), 0);
	/* the request's own write ends the snapshot: both seen */
	assert_int_equal(store_customer_add(fx->st, "Own", NULL), 0);
	assert_int_equal(count_rows(fx->st, "customers"), 2);
	assert_int_equal(raw_exec(fx->path, "INSERT INTO customers (name, "
	    "created_at) VALUES ('Other 2', 1)", NULL, 0), SQLITE_OK);
	assert_int_equal(count_rows(fx->st, "customers"), 2);
	/* a write of this thread through the group committer: seen */
	assert_int_equal(store_group_tx(g, tx_add_customer, "Grouped"), 0);
	assert_int_equal(count_rows(fx->st, "customers"), 4);
	/* released before a long wait: the next read is current */
	assert_int_equal(raw_exec(fx->path, "INSERT INTO customers (name, "
	    "created_at) VALUES ('Other 2b', 1)", NULL, 0), SQLITE_OK);
	assert_int_equal(count_rows(fx->st, "customers"), 4);
	store_rq_release(fx->st);
	store_rq_release(NULL);
	assert_int_equal(count_rows(fx->st, "customers"), 5);
	/* store_tx while the snapshot is open, then a snapshot read */
	assert_int_equal(count_rows(fx->st, "customers"), 5);
	assert_int_equal(store_tx(fx->st, tx_add_customer, "In tx"), 0);
	assert_int_equal(store_tx(fx->st, tx_add_then_fail, "Gone"),
	    RC_STATE);
	assert_int_equal(count_rows(fx->st, "customers"), 6);
	assert_int_equal(store_audit_verify(fx->st, &n, &bad), 0);
	assert_int_equal(bad, 0);
	store_rq_end(fx->st);
	/* out of the request: every read is current again */
	assert_int_equal(raw_exec(fx->path, "INSERT INTO customers (name, "
	    "created_at) VALUES ('Other 3', 1)", NULL, 0), SQLITE_OK);
	assert_int_equal(count_rows(fx->st, "customers"), 7);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM customers"),
	    7);
	store_rq_end(fx->st);
	store_group_close(g);
}

struct nested {
	int inner_rc, outer_rc;
};

static int
tx_inner(struct store *st, void *arg)
{
	const struct nested *n = arg;

	assert_int_equal(store_customer_add(st, "inner", NULL), 0);
	assert_int_equal(store_audit_append(st, "test", "inner", "", NULL),
	    0);
	return n->inner_rc;
}

static int
tx_outer(struct store *st, void *arg)
{
	const struct nested *n = arg;

	assert_int_equal(store_customer_add(st, "outer-1", NULL), 0);
	assert_int_equal(store_tx(st, tx_inner, arg), n->inner_rc);
	assert_int_equal(store_customer_add(st, "outer-2", NULL), 0);
	return n->outer_rc;
}

static void
test_tx_nested(void **state)
{
	struct fx *fx = *state;
	struct nested n;
	struct rows rows;
	int64_t cnt = -1, bad = -1;

	/* inner fails, outer goes on: only the inner work is undone */
	n.inner_rc = RC_POLICY;
	n.outer_rc = 0;
	assert_int_equal(store_tx(fx->st, tx_outer, &n), 0);
	assert_int_equal(list(fx->st, "customers", 0, &rows), 0);
	assert_int_equal(rows.n, 2);
	assert_string_equal(rows.name[0], "outer-1");
	assert_string_equal(rows.name[1], "outer-2");

	/* both succeed: all of it commits */
	n.inner_rc = 0;
	assert_int_equal(store_tx(fx->st, tx_outer, &n), 0);
	assert_int_equal(count_rows(fx->st, "customers"), 5);

	/* inner succeeds, outer fails: none of it stays */
	n.outer_rc = RC_LINT;
	assert_int_equal(store_tx(fx->st, tx_outer, &n), RC_LINT);
	assert_int_equal(count_rows(fx->st, "customers"), 5);

	assert_int_equal(store_audit_verify(fx->st, &cnt, &bad), 0);
	assert_int_equal(cnt, 1);
}

static int
tx_conflict(struct store *st, void *arg)
{
	int *calls = arg;

	(*calls)++;
	assert_int_equal(store_customer_add(st, "retry", NULL), 0);
	return *calls < 3 ? RC_CONFLICT : 0;
}

static int
tx_always_conflict(struct store *st, void *arg)
{
	int *calls = arg;

	(*calls)++;
	return RC_CONFLICT;
}

static void
test_tx_retry(void **state)
{
	struct fx *fx = *state;
	int calls = 0;

	assert_int_equal(store_tx(fx->st, tx_conflict, &calls), 0);
	assert_int_equal(calls, 3);
	/* the two failed attempts left nothing behind */
	assert_int_equal(count_rows(fx->st, "customers"), 1);
	calls = 0;
	assert_int_equal(store_tx(fx->st, tx_always_conflict, &calls),
	    RC_CONFLICT);
	assert_true(calls > 1 && calls <= 10);
}

/* Another connection holds the write lock for a moment: the store waits
 * (busy_timeout) instead of failing. */
struct holder {
	sqlite3 *db;
};

static void *
release_later(void *arg)
{
	struct holder *h = arg;

	usleep(200 * 1000);
	assert_int_equal(sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	return NULL;
}

static void
test_tx_waits_for_writer(void **state)
{
	struct fx *fx = *state;
	struct holder h;
	pthread_t t;

	assert_int_equal(sqlite3_open(fx->path, &h.db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h.db, "BEGIN IMMEDIATE; INSERT INTO "
	    "customers (name, created_at) VALUES ('raw', 1)", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(pthread_create(&t, NULL, release_later, &h), 0);
	assert_int_equal(store_audit_append(fx->st, "test", "wait", "x",
	    NULL), 0);
	assert_int_equal(store_customer_add(fx->st, "after", NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	sqlite3_close(h.db);
	assert_int_equal(count_rows(fx->st, "customers"), 2);
}

/* Durable transactions sync the WAL after the writer lock; meanwhile other
 * threads already see what they committed, and store_durable_barrier()
 * waits for the sync. Three durable writers, a reader calling the barrier
 * whenever it sees a new row: every commit lands, no barrier fails. */
#define DURABLE_ROWS 60

struct durable_writer {
	const char *path;
	int id, failures;
};

static void *
durable_writer_main(void *arg)
{
	struct durable_writer *d = arg;
	struct store *st = NULL;
	char name[32];

	if (open_at(d->path, 1, &st) != 0) {
		d->failures = DURABLE_ROWS;
		return NULL;
	}
	for (int i = 0; i < DURABLE_ROWS; i++) {
		snprintf(name, sizeof(name), "d%d-%d", d->id, i);
		if (store_customer_add(st, name, NULL) != 0)
			d->failures++;
	}
	store_close(st);
	return NULL;
}

static void
test_durable_barrier(void **state)
{
	struct fx *fx = *state;
	struct durable_writer d[3];
	pthread_t t[3];
	int64_t seen = 0, n;
	int barriers = 0;

	assert_int_equal(store_durable_barrier(NULL), 0);
	assert_int_equal(store_durable_barrier(fx->st), 0);	/* none */
	for (int i = 0; i < 3; i++) {
		d[i] = (struct durable_writer){fx->path, i, 0};
		assert_int_equal(pthread_create(&t[i], NULL,
		    durable_writer_main, &d[i]), 0);
	}
	while (seen < 3 * DURABLE_ROWS) {
		n = raw_int(fx->path, "SELECT count(*) FROM customers");
		if (n > seen) {
			assert_int_equal(store_durable_barrier(fx->st), 0);
			barriers++;
			seen = n;
		}
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(d[i].failures, 0);
	}
	assert_true(barriers > 0);
	assert_int_equal(store_durable_barrier(fx->st), 0);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM customers"),
	    3 * DURABLE_ROWS);
}

static int
add_customer_tx(struct store *st, void *arg)
{
	return store_customer_add(st, arg, NULL);
}

/* store_tx_deferred returns once committed: other handles see the row at
 * once; the file's syncer puts it on disk with nobody waiting, or the
 * barrier does; the last handle's close syncs what is left. Group callers
 * that all defer are deferred. On a handle that is not durable it is a
 * plain transaction. */
static void
test_deferred_sync(void **state)
{
	struct fx *fx = *state;
	struct store_conf gc = {"sqlite", fx->path, 1};
	struct store_group *g = NULL;
	struct store *d = NULL, *o = NULL;
	const char *ext[] = {"", "-wal", "-shm", "-nonce-ring"};
	char other[400];
	int waited = 0;

	assert_int_equal(open_at(fx->path, 1, &d), 0);
	assert_int_equal(store_tx_deferred(d, add_customer_tx, "def-1"), 0);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM customers "
	    "WHERE name = 'def-1'"), 1);
	while (store_durable_pending(fx->st) && waited++ < 10000)
		usleep(1000);
	assert_false(store_durable_pending(fx->st));	/* the syncer */
	assert_int_equal(store_tx_deferred(d, add_customer_tx, "def-2"), 0);
	assert_int_equal(store_durable_barrier(fx->st), 0);
	assert_false(store_durable_pending(fx->st));
	/* a group */
	assert_int_equal(store_group_open(&gc, &g), 0);
	assert_int_equal(store_group_tx_deferred(g, add_customer_tx, "def-3"),
	    0);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM customers "
	    "WHERE name = 'def-3'"), 1);
	assert_int_equal(store_durable_barrier(d), 0);
	assert_false(store_durable_pending(d));
	assert_int_equal(store_group_tx(g, add_customer_tx, "def-4"), 0);
	assert_false(store_durable_pending(d));	/* synced in the call */
	store_group_close(g);
	/* not durable: a plain transaction, nothing pending */
	assert_int_equal(store_tx_deferred(fx->st, add_customer_tx, "def-5"),
	    0);
	assert_false(store_durable_pending(fx->st));
	store_close(d);
	/* another file's only handle closed right after a deferred commit:
	 * the close waits for its syncer, and the row is there */
	snprintf(other, sizeof(other), "%s/deferred.db", fx->dir);
	assert_int_equal(open_at(other, 1, &o), 0);
	for (int i = 0; i < 20; i++) {
		char name[16];

		snprintf(name, sizeof(name), "o-%d", i);
		assert_int_equal(store_tx_deferred(o, add_customer_tx, name),
		    0);
	}
	store_close(o);
	assert_int_equal(raw_int(other, "SELECT count(*) FROM customers"),
	    20);
	assert_int_equal(open_at(other, 1, &o), 0);
	assert_false(store_durable_pending(o));
	store_close(o);
	for (size_t k = 0; k < sizeof(ext) / sizeof(ext[0]); k++) {
		char p[420];

		snprintf(p, sizeof(p), "%s%s", other, ext[k]);
		unlink(p);
	}
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM customers "
	    "WHERE name LIKE 'def-%'"), 5);
}

/* A child process commits deferred and keeps it unsynced (its syncer held)
 * until told: the parent sees the row, counts it as pending although none
 * of its own commits is, and its barrier puts it on disk. */
static void
test_durable_across_processes(void **state)
{
	struct fx *fx = *state;
	int up[2], down[2], ws = 0;
	char b = 0;
	pid_t pid;

	assert_int_equal(store_durable_barrier(fx->st), 0);
	assert_false(store_durable_pending(fx->st));
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *c = NULL;
		int bad;

		atomic_store(&sq_syncer_hold, 1);
		bad = open_at(fx->path, 1, &c) != 0 ||
		    store_tx_deferred(c, add_customer_tx, "child-1") != 0 ||
		    !store_durable_pending(c);
		bad |= write(up[1], "c", 1) != 1;
		bad |= read(down[0], &b, 1) != 1;
		store_close(c);		/* syncs what is left */
		_exit(bad);
	}
	close(up[1]);
	close(down[0]);
	assert_int_equal(read(up[0], &b, 1), 1);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM customers "
	    "WHERE name = 'child-1'"), 1);
	assert_true(store_durable_pending(fx->st));
	assert_int_equal(store_durable_barrier(fx->st), 0);
	assert_false(store_durable_pending(fx->st));
	assert_int_equal(write(down[1], "p", 1), 1);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	close(up[0]);
	close(down[1]);
}

/* The counters in a file that lost writes (synced ahead of numbered): the
 * next commit is numbered past them, so it is not taken for synced. */
static void
test_durable_counters_lost(void **state)
{
	struct fx *fx = *state;
	struct store *d = NULL;
	_Atomic uint64_t *c;
	void *map = NULL;

	store_close(fx->st);	/* no mapping left in this process */
	fx->st = NULL;
	assert_int_equal(store_ring_map(fx->path, &map), 0);
	c = store_ring_commits(map);
	atomic_store(&c[SQ_NUMBERED], 5);
	atomic_store(&c[SQ_WRITTEN], 5);
	atomic_store(&c[SQ_SYNCED], 1000);
	store_ring_unmap(map);
	atomic_store(&sq_syncer_hold, 1);
	assert_int_equal(open_at(fx->path, 1, &d), 0);
	assert_int_equal(store_tx_deferred(d, add_customer_tx, "lost-1"), 0);
	assert_true(store_durable_pending(d));
	atomic_store(&sq_syncer_hold, 0);
	store_close(d);		/* its syncer syncs */
	assert_int_equal(open_at(fx->path, 0, &fx->st), 0);
	assert_false(store_durable_pending(fx->st));
}

/* ---- audit log ----------------------------------------------------------- */

struct audit_seen {
	int n;
	int64_t seq[8];
	char actor[8][32], action[8][32], object[8][32], details[8][64];
	int details_null[8];
	char hash[8][65];
	time_t at[8];
};

static int
audit_cb(const struct store_audit_entry *e, void *arg)
{
	struct audit_seen *s = arg;

	assert_true(s->n < 8);
	s->seq[s->n] = e->seq;
	s->at[s->n] = e->at;
	snprintf(s->actor[s->n], 32, "%s", e->actor);
	snprintf(s->action[s->n], 32, "%s", e->action);
	snprintf(s->object[s->n], 32, "%s", e->object);
	s->details_null[s->n] = e->details == NULL;
	snprintf(s->details[s->n], 64, "%s", e->details ? e->details : "");
	snprintf(s->hash[s->n], 65, "%s", e->hash_hex);
	s->n++;
	return 0;
}

static void
append5(struct store *st)
{
	char obj[32];

	for (int i = 1; i <= 5; i++) {
		snprintf(obj, sizeof(obj), "cert:%02x", i);
		assert_int_equal(store_audit_append(st, "system",
		    "cert.issue", obj, i == 3 ? NULL : "{\"n\": 1}"), 0);
	}
}

static void
expect_tamper(struct fx *fx, int64_t want_bad, int64_t want_count)
{
	int64_t n = -1, bad = -1;

	assert_int_equal(store_audit_verify(fx->st, &n, &bad), RC_TAMPER);
	assert_int_equal(bad, want_bad);
	assert_int_equal(n, want_count);
}

static void
test_audit_chain(void **state)
{
	struct fx *fx = *state;
	struct audit_seen seen;
	int64_t n = -1, bad = -1;
	time_t t0 = time(NULL);

	assert_int_equal(store_audit_verify(fx->st, &n, &bad), 0);
	assert_int_equal(n, 0);
	append5(fx->st);
	assert_int_equal(store_audit_append(fx->st, "user:1", "empty",
	    "", ""), 0);
	assert_int_equal(store_audit_verify(fx->st, &n, &bad), 0);
	assert_int_equal(n, 6);
	assert_int_equal(bad, 0);
	assert_int_equal(store_audit_verify(fx->st, NULL, NULL), 0);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_audit_list(fx->st, 2, audit_cb, &seen), 0);
	assert_int_equal(seen.n, 5);
	assert_int_equal(seen.seq[0], 2);
	assert_string_equal(seen.actor[0], "system");
	assert_string_equal(seen.action[0], "cert.issue");
	assert_string_equal(seen.object[0], "cert:02");
	assert_string_equal(seen.details[0], "{\"n\": 1}");
	assert_int_equal(seen.details_null[0], 0);
	assert_int_equal(seen.details_null[1], 1);	/* seq 3: NULL */
	assert_int_equal(seen.details_null[4], 0);	/* seq 6: "" */
	assert_string_equal(seen.details[4], "");
	assert_true(seen.at[0] >= t0 && seen.at[0] <= time(NULL));
	assert_int_equal(strlen(seen.hash[0]), 64);
	assert_string_not_equal(seen.hash[0], seen.hash[1]);
	assert_int_equal(raw_int(fx->path, "SELECT seq FROM audit_head"), 6);
	assert_int_equal(raw_int(fx->path, "SELECT details IS NULL FROM "
	    "audit_log WHERE seq = 3"), 1);
	assert_int_equal(raw_int(fx->path, "SELECT details IS NULL FROM "
	    "audit_log WHERE seq = 6"), 0);

	/* NULL details and "" hash differently: turning one into the other
	 * (bypassing the trigger) is caught */
	assert_int_equal(raw_exec(fx->path, "DROP TRIGGER audit_log_no_update;"
	    "UPDATE audit_log SET details = '' WHERE seq = 3", NULL, 0),
	    SQLITE_OK);
	expect_tamper(fx, 3, 2);

	/* bad arguments */
	assert_int_equal(store_audit_append(fx->st, NULL, "a", "o", NULL),
	    RC_INVAL);
	assert_int_equal(store_audit_append(fx->st, "", "a", "o", NULL),
	    RC_INVAL);
	assert_int_equal(store_audit_append(fx->st, "x", NULL, "o", NULL),
	    RC_INVAL);
	assert_int_equal(store_audit_append(fx->st, "x", "a", NULL, NULL),
	    RC_INVAL);
	assert_int_equal(store_audit_append(fx->st, "x\ny", "a", "o", NULL),
	    RC_INVAL);
	assert_int_equal(store_audit_list(fx->st, 1, NULL, NULL), RC_INVAL);
}

/* The encoding of store.h, recomputed here independently: the PostgreSQL
 * backend and outside verifiers must produce the same hashes. */
static void
spec_field(EVP_MD_CTX *md, const char *s)
{
	uint8_t hdr[9] = {0};
	uint64_t n;

	if (s == NULL) {
		assert_int_equal(EVP_DigestUpdate(md, hdr, 1), 1);
		return;
	}
	n = strlen(s);
	hdr[0] = 1;
	for (int i = 0; i < 8; i++)
		hdr[1 + i] = (uint8_t)(n >> (56 - 8 * i));
	assert_int_equal(EVP_DigestUpdate(md, hdr, 9), 1);
	assert_int_equal(EVP_DigestUpdate(md, s, n), 1);
}

static void
spec_hash(const uint8_t prev[32], int64_t seq, int64_t at, const char *actor,
    const char *action, const char *object, const char *details,
    char hex[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t nums[16], out[32];
	unsigned int len = 0;

	for (int i = 0; i < 8; i++) {
		nums[i] = (uint8_t)((uint64_t)seq >> (56 - 8 * i));
		nums[8 + i] = (uint8_t)((uint64_t)at >> (56 - 8 * i));
	}
	assert_non_null(md);
	assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	assert_int_equal(EVP_DigestUpdate(md, prev, 32), 1);
	assert_int_equal(EVP_DigestUpdate(md, nums, 16), 1);
	spec_field(md, actor);
	spec_field(md, action);
	spec_field(md, object);
	spec_field(md, details);
	assert_int_equal(EVP_DigestFinal_ex(md, out, &len), 1);
	EVP_MD_CTX_free(md);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
}

static void
test_audit_hash_format(void **state)
{
	struct fx *fx = *state;
	struct audit_seen seen;
	uint8_t prev[32];
	char want[65];

	assert_int_equal(store_audit_append(fx->st, "user:7", "cert.revoke",
	    "cert:0a", "{\"reason\": 1}"), 0);
	assert_int_equal(store_audit_append(fx->st, "system", "crl.publish",
	    "", NULL), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_audit_list(fx->st, 0, audit_cb, &seen), 0);
	assert_int_equal(seen.n, 2);

	memset(prev, 0, sizeof(prev));
	spec_hash(prev, 1, seen.at[0], "user:7", "cert.revoke", "cert:0a",
	    "{\"reason\": 1}", want);
	assert_string_equal(seen.hash[0], want);
	for (int i = 0; i < 32; i++) {
		unsigned int b;

		assert_int_equal(sscanf(seen.hash[0] + 2 * i, "%2x", &b), 1);
		prev[i] = (uint8_t)b;
	}
	spec_hash(prev, 2, seen.at[1], "system", "crl.publish", "", NULL,
	    want);
	assert_string_equal(seen.hash[1], want);
	/* the same entry with details "" would hash differently */
	spec_hash(prev, 2, seen.at[1], "system", "crl.publish", "", "", want);
	assert_string_not_equal(seen.hash[1], want);
}

static void
test_audit_tamper_edit(void **state)
{
	struct fx *fx = *state;

	append5(fx->st);
	assert_int_equal(raw_exec(fx->path, "DROP TRIGGER audit_log_no_update;"
	    "UPDATE audit_log SET details = '{\"n\": 2}' WHERE seq = 2", NULL,
	    0), SQLITE_OK);
	expect_tamper(fx, 2, 1);
}

static void
test_audit_tamper_delete_middle(void **state)
{
	struct fx *fx = *state;

	append5(fx->st);
	assert_int_equal(raw_exec(fx->path, "DROP TRIGGER audit_log_no_delete;"
	    "DELETE FROM audit_log WHERE seq = 2", NULL, 0), SQLITE_OK);
	expect_tamper(fx, 2, 1);
}

static void
test_audit_tamper_delete_tail(void **state)
{
	struct fx *fx = *state;

	append5(fx->st);
	assert_int_equal(raw_exec(fx->path, "DROP TRIGGER audit_log_no_delete;"
	    "DELETE FROM audit_log WHERE seq = 5", NULL, 0), SQLITE_OK);
	expect_tamper(fx, 5, 4);
	/* appending past the hole does not heal it */
	assert_int_equal(store_audit_append(fx->st, "x", "a", "o", NULL), 0);
	expect_tamper(fx, 5, 4);
}

static void
test_audit_tamper_swap_hashes(void **state)
{
	struct fx *fx = *state;

	append5(fx->st);
	assert_int_equal(raw_exec(fx->path, "DROP TRIGGER audit_log_no_update;"
	    "UPDATE audit_log SET hash = CASE seq "
	    "WHEN 2 THEN (SELECT hash FROM audit_log WHERE seq = 3) "
	    "ELSE (SELECT hash FROM audit_log WHERE seq = 2) END "
	    "WHERE seq IN (2, 3)", NULL, 0), SQLITE_OK);
	expect_tamper(fx, 2, 1);
}

static void
test_audit_tamper_more(void **state)
{
	struct fx *fx = *state;

	append5(fx->st);
	/* an entry added around the store, head left alone */
	assert_int_equal(raw_exec(fx->path, "DROP TRIGGER "
	    "audit_log_extend_only; INSERT INTO audit_log SELECT 6, at, "
	    "actor, action, object, details, hash, hash FROM audit_log "
	    "WHERE seq = 5", NULL, 0), SQLITE_OK);
	expect_tamper(fx, 6, 5);
	/* the head moved to it as well: the hash does not recompute */
	assert_int_equal(raw_exec(fx->path, "DROP TRIGGER "
	    "audit_head_forward_only; UPDATE audit_head SET seq = 6, hash = "
	    "(SELECT hash FROM audit_log WHERE seq = 6)", NULL, 0), SQLITE_OK);
	expect_tamper(fx, 6, 5);
	/* entries renumbered from 0 */
	assert_int_equal(raw_exec(fx->path, "DROP TRIGGER audit_log_no_update;"
	    "UPDATE audit_log SET seq = seq - 1", NULL, 0), SQLITE_OK);
	expect_tamper(fx, 1, 0);
}

static void
test_audit_triggers(void **state)
{
	struct fx *fx = *state;
	char msg[200];

	append5(fx->st);
	assert_int_not_equal(raw_exec(fx->path, "UPDATE audit_log SET "
	    "details = 'x' WHERE seq = 2", msg, sizeof(msg)), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	assert_int_not_equal(raw_exec(fx->path, "DELETE FROM audit_log "
	    "WHERE seq = 5", msg, sizeof(msg)), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	assert_int_not_equal(raw_exec(fx->path, "DELETE FROM audit_log",
	    msg, sizeof(msg)), SQLITE_OK);
	/* an insert that does not extend the head */
	assert_int_not_equal(raw_exec(fx->path, "INSERT INTO audit_log VALUES "
	    "(9, 1, 'a', 'b', 'c', NULL, X'00', X'00')", msg, sizeof(msg)),
	    SQLITE_OK);
	assert_non_null(strstr(msg, "extend"));
	/* the head cannot jump, go back or be deleted */
	assert_int_not_equal(raw_exec(fx->path, "UPDATE audit_head SET "
	    "seq = 4, hash = (SELECT hash FROM audit_log WHERE seq = 4)", msg,
	    sizeof(msg)), SQLITE_OK);
	assert_int_not_equal(raw_exec(fx->path, "DELETE FROM audit_head",
	    msg, sizeof(msg)), SQLITE_OK);
	assert_int_equal(store_audit_verify(fx->st, NULL, NULL), 0);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM audit_log"),
	    5);
}

/* Two threads, each with its own handle, append concurrently. */
#define PER_THREAD 200

struct appender {
	const char *path;
	int id;
	int failures;
};

/* The nonce ring (store_nonce.c) from several processes at once, each
 * with threads on handles of their own, all redeeming the same numbers:
 * every number is taken exactly once over all of them. */
#define NONCE_PROCS 3
#define NONCE_THREADS 3
#define NONCES 3000

struct redeemer {
	const char *path;
	uint64_t first;
	unsigned char won[NONCES];
	int other;
};

static void *
redeemer_main(void *arg)
{
	struct redeemer *r = arg;
	struct store *st = NULL;

	if (open_at(r->path, 0, &st) != 0) {
		r->other = NONCES;
		return NULL;
	}
	for (int i = 0; i < NONCES; i++) {
		int rc = store_nonce_use(st, r->first + (uint64_t)i);

		if (rc == 0)
			r->won[i]++;
		else if (rc != RC_EXISTS)
			r->other++;
	}
	store_close(st);
	return NULL;
}

/* NONCE_THREADS redeemers; won[i] gets how many took number first + i. */
static int
redeem_all(const char *path, uint64_t first, unsigned char *won)
{
	static struct redeemer r[NONCE_THREADS];
	pthread_t t[NONCE_THREADS];
	int other = 0;

	memset(won, 0, NONCES);
	for (int i = 0; i < NONCE_THREADS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].path = path;
		r[i].first = first;
		if (pthread_create(&t[i], NULL, redeemer_main, &r[i]) != 0)
			return -1;
	}
	for (int i = 0; i < NONCE_THREADS; i++) {
		pthread_join(t[i], NULL);
		other += r[i].other;
		for (int j = 0; j < NONCES; j++)
			won[j] += r[i].won[j];
	}
	return other;
}

static void
test_nonce_ring_concurrent(void **state)
{
	struct fx *fx = *state;
	static unsigned char won[NONCE_PROCS + 1][NONCES];
	int fds[NONCE_PROCS][2];
	pid_t pid[NONCE_PROCS];
	uint64_t first, seq;

	assert_int_equal(store_nonce_next(fx->st, &first), 0);
	for (int i = 1; i < NONCES; i++) {
		assert_int_equal(store_nonce_next(fx->st, &seq), 0);
		assert_true(seq == first + (uint64_t)i);
	}
	/* no mapping for the children to inherit: each maps the file */
	store_close(fx->st);
	fx->st = NULL;
	for (int p = 0; p < NONCE_PROCS; p++) {
		assert_int_equal(pipe(fds[p]), 0);
		pid[p] = fork();
		assert_true(pid[p] >= 0);
		if (pid[p] == 0) {
			int bad = redeem_all(fx->path, first, won[p]) != 0;

			bad |= write(fds[p][1], won[p], NONCES) != NONCES;
			_exit(bad);
		}
		close(fds[p][1]);
	}
	assert_int_equal(redeem_all(fx->path, first, won[NONCE_PROCS]), 0);
	assert_int_equal(open_at(fx->path, 0, &fx->st), 0);
	for (int p = 0; p < NONCE_PROCS; p++) {
		int ws = 0;
		size_t got = 0;
		ssize_t n;

		while (got < NONCES && (n = read(fds[p][0], won[p] + got,
		    NONCES - got)) > 0)
			got += (size_t)n;
		close(fds[p][0]);
		assert_int_equal(waitpid(pid[p], &ws, 0), pid[p]);
		assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
		assert_int_equal(got, NONCES);
	}
	for (int i = 0; i < NONCES; i++) {
		int sum = 0;

		for (int p = 0; p <= NONCE_PROCS; p++)
			sum += won[p][i];
		assert_int_equal(sum, 1);
	}
	/* and once more on this handle: all spent */
	assert_int_equal(store_nonce_use(fx->st, first), RC_EXISTS);
	assert_int_equal(store_nonce_use(fx->st, first + NONCES - 1),
	    RC_EXISTS);
}

/* A process that opens one database file after another (40 of them, one
 * at a time) keeps its per-file state for each: nonces work on every one,
 * and so does each file's syncer. */
static void
test_many_files(void **state)
{
	struct fx *fx = *state;
	char path[400], p[420];
	const char *ext[] = {"", "-wal", "-shm", "-nonce-ring"};

	for (int i = 0; i < 40; i++) {
		struct store *st = NULL;
		uint64_t a = 0, b = 0;

		snprintf(path, sizeof(path), "%s/many-%d.db", fx->dir, i);
		assert_int_equal(open_at(path, 1, &st), 0);
		/* each file's syncer, in a reused registry entry too */
		assert_int_equal(store_tx_deferred(st, add_customer_tx, "c"),
		    0);
		assert_int_equal(store_nonce_next(st, &a), 0);
		assert_int_equal(store_nonce_next(st, &b), 0);
		assert_true(b == a + 1);
		assert_int_equal(store_nonce_use(st, a), 0);
		assert_int_equal(store_nonce_use(st, a), RC_EXISTS);
		store_close(st);
		for (size_t k = 0; k < sizeof(ext) / sizeof(ext[0]); k++) {
			snprintf(p, sizeof(p), "%s%s", path, ext[k]);
			unlink(p);
		}
	}
}

/* In a new process (a restart of the server): what store_nonce_next and
 * store_nonce_use say there, written to fd. */
struct ring_probe {
	uint64_t next;
	int use[4];
};

static void
probe(struct fx *fx, const uint64_t use[4], struct ring_probe *out)
{
	const char *path = fx->path;
	int fds[2], ws = 0;
	pid_t pid;

	/* nothing mapped for the child to inherit: it opens the file as a
	 * freshly started server would */
	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ring_probe r = {0};
		struct store *st = NULL;
		int bad = open_at(path, 0, &st) != 0;

		for (int i = 0; i < 4 && !bad; i++)
			r.use[i] = store_nonce_use(st, use[i]);
		bad |= store_nonce_next(st, &r.next) != 0;
		store_close(st);
		bad |= write(fds[1], &r, sizeof(r)) != (ssize_t)sizeof(r);
		_exit(bad);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], out, sizeof(*out)), sizeof(*out));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	assert_int_equal(open_at(path, 0, &fx->st), 0);
}

static void
test_nonce_ring_restart(void **state)
{
	struct fx *fx = *state;
	char ring[320];
	uint64_t a, b, c, top, use[4];
	struct ring_probe r;
	FILE *f;

	snprintf(ring, sizeof(ring), "%s-nonce-ring", fx->path);
	assert_int_equal(store_nonce_next(fx->st, &a), 0);
	assert_int_equal(store_nonce_next(fx->st, &b), 0);
	assert_int_equal(store_nonce_next(fx->st, &c), 0);
	assert_int_equal(store_nonce_use(fx->st, a), 0);
	/* numbers never handed out */
	assert_int_equal(store_nonce_use(fx->st, c + 1), RC_NOTFOUND);
	assert_int_equal(store_nonce_use(fx->st, a - 1), RC_NOTFOUND);
	assert_int_equal(store_nonce_use(fx->st, 0), RC_NOTFOUND);
	assert_int_equal(store_nonce_use(fx->st, UINT64_MAX), RC_NOTFOUND);

	/* another process, as after a restart: a is spent, b good once,
	 * and numbering goes on */
	use[0] = a, use[1] = b, use[2] = b, use[3] = c + 5;
	probe(fx, use, &r);
	assert_int_equal(r.use[0], RC_EXISTS);
	assert_int_equal(r.use[1], 0);
	assert_int_equal(r.use[2], RC_EXISTS);
	assert_int_equal(r.use[3], RC_NOTFOUND);
	assert_true(r.next > c);
	assert_int_equal(store_nonce_use(fx->st, b), RC_EXISTS);

	/* a file that lost its last writes (a power loss): a redeemed
	 * number above `next` moves it on when the file is opened */
	top = r.next + 1000;
	f = fopen(ring, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 4096 + (long)(top % STORE_NONCE_WINDOW) * 8,
	    SEEK_SET), 0);
	assert_int_equal(fwrite(&top, 8, 1, f), 1);
	assert_int_equal(fclose(f), 0);
	use[0] = c, use[1] = c, use[2] = top, use[3] = top + 1;
	probe(fx, use, &r);
	assert_int_equal(r.use[0], 0);
	assert_int_equal(r.use[1], RC_EXISTS);
	assert_int_equal(r.use[2], RC_EXISTS);
	assert_int_equal(r.use[3], RC_NOTFOUND);
	assert_true(r.next > top);

	/* more than the window handed out since makes no number too old
	 * (a client flooding newNonce evicts no one's nonce); a newer one
	 * redeemed in its slot does */
	assert_int_equal(store_nonce_next(fx->st, &a), 0);
	assert_int_equal(store_nonce_next(fx->st, &c), 0);
	for (uint32_t i = 0; i < STORE_NONCE_WINDOW; i++)
		assert_int_equal(store_nonce_next(fx->st, &b), 0);
	assert_true(b == c + STORE_NONCE_WINDOW);
	assert_int_equal(store_nonce_use(fx->st, a), 0);
	assert_int_equal(store_nonce_use(fx->st, a), RC_EXISTS);
	assert_int_equal(store_nonce_use(fx->st, b), 0);
	assert_int_equal(store_nonce_use(fx->st, c), RC_NOTFOUND);
	assert_int_equal(store_nonce_use(fx->st, b), RC_EXISTS);

	/* a damaged header, or a lost file: a new ring starts above every
	 * number the old one handed out, none of which is good again */
	f = fopen(ring, "r+b");
	assert_non_null(f);
	assert_int_equal(fwrite("garbage!", 8, 1, f), 1);
	assert_int_equal(fclose(f), 0);
	use[0] = b - 1, use[1] = a, use[2] = b + 1, use[3] = 1;
	probe(fx, use, &r);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r.use[i], RC_NOTFOUND);
	assert_true(r.next > b + 1);
	assert_int_equal(unlink(ring), 0);
	use[0] = r.next, use[1] = b, use[2] = 0, use[3] = r.next + 1;
	probe(fx, use, &r);
	for (int i = 0; i < 4; i++)
		assert_int_equal(r.use[i], RC_NOTFOUND);
	assert_true(r.next > use[0]);
}

static void *
appender_main(void *arg)
{
	struct appender *a = arg;
	struct store *st = NULL;
	char obj[32];

	if (open_at(a->path, 0, &st) != 0) {
		a->failures = PER_THREAD;
		return NULL;
	}
	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(obj, sizeof(obj), "t%d:%d", a->id, i);
		if (store_audit_append(st, "thread", "append", obj, NULL) != 0)
			a->failures++;
	}
	store_close(st);
	return NULL;
}

static void
test_audit_threads(void **state)
{
	struct fx *fx = *state;
	struct appender a[2];
	pthread_t t[2];
	int64_t n = -1, bad = -1;

	for (int i = 0; i < 2; i++) {
		a[i].path = fx->path;
		a[i].id = i;
		a[i].failures = 0;
		assert_int_equal(pthread_create(&t[i], NULL, appender_main,
		    &a[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(a[i].failures, 0);
	}
	assert_int_equal(store_audit_verify(fx->st, &n, &bad), 0);
	assert_int_equal(n, 2 * PER_THREAD);
	assert_int_equal(bad, 0);
	assert_int_equal(raw_int(fx->path, "SELECT count(DISTINCT object) "
	    "FROM audit_log"), 2 * PER_THREAD);
}

/* ---- bad input ----------------------------------------------------------- */

static void
test_bad_input(void **state)
{
	struct fx *fx = *state;
	struct store *st = fx->st;
	int64_t cu = 0, k = 0, id = 0;
	char *big;

	assert_int_equal(store_customer_add(st, "Example", &cu), 0);
	assert_int_equal(store_contract_add(st, cu, "K-1", &k), 0);

	assert_int_equal(store_customer_add(st, NULL, &id), RC_INVAL);
	assert_int_equal(store_customer_add(st, "", &id), RC_INVAL);
	assert_int_equal(store_customer_add(NULL, "x", &id), RC_INVAL);
	assert_int_equal(store_customer_add(st, "tab\there", &id), RC_INVAL);

	/* users */
	assert_int_equal(store_user_add(st, cu, NULL, "N",
	    STORE_ROLE_CUSTOMER, NULL, &id), RC_INVAL);
	assert_int_equal(store_user_add(st, cu, "", "N",
	    STORE_ROLE_CUSTOMER, NULL, &id), RC_INVAL);
	assert_int_equal(store_user_add(st, cu, "no-at-sign", "N",
	    STORE_ROLE_CUSTOMER, NULL, &id), RC_INVAL);
	assert_int_equal(store_user_add(st, cu, "@example.com", "N",
	    STORE_ROLE_CUSTOMER, NULL, &id), RC_INVAL);
	assert_int_equal(store_user_add(st, cu, "a b@example.com", "N",
	    STORE_ROLE_CUSTOMER, NULL, &id), RC_INVAL);
	assert_int_equal(store_user_add(st, cu, "a@example.com", NULL,
	    STORE_ROLE_CUSTOMER, NULL, &id), RC_INVAL);
	assert_int_equal(store_user_add(st, cu, "a@example.com", "",
	    STORE_ROLE_CUSTOMER, NULL, &id), RC_INVAL);
	assert_int_equal(store_user_add(st, cu, "a@example.com", "N", 3,
	    NULL, &id), RC_INVAL);
	assert_int_equal(store_user_add(st, cu, "a@example.com", "N", -1,
	    NULL, &id), RC_INVAL);
	/* a customer user needs a customer */
	assert_int_equal(store_user_add(st, 0, "a@example.com", "N",
	    STORE_ROLE_CUSTOMER, NULL, &id), RC_INVAL);
	assert_int_equal(store_user_add(st, -3, "a@example.com", "N",
	    STORE_ROLE_AGENT, NULL, &id), RC_INVAL);
	assert_int_equal(store_user_add(st, cu, "a@example.com", "N",
	    STORE_ROLE_CUSTOMER, "", &id), RC_INVAL);
	assert_int_equal(count_rows(st, "users"), 0);

	/* contracts, domains, slots */
	assert_int_equal(store_contract_add(st, cu, NULL, &id), RC_INVAL);
	assert_int_equal(store_contract_add(st, cu, "", &id), RC_INVAL);
	assert_int_equal(store_contract_add(st, 0, "K-2", &id), RC_INVAL);
	assert_int_equal(store_domain_add(st, k, NULL, 0, &id), RC_INVAL);
	assert_int_equal(store_domain_add(st, k, "", 0, &id), RC_INVAL);
	assert_int_equal(store_domain_add(st, k, "Example.com", 0, &id),
	    RC_INVAL);
	assert_int_equal(store_domain_add(st, k, "example.com.", 0, &id),
	    RC_INVAL);
	assert_int_equal(store_domain_add(st, k, ".example.com", 0, &id),
	    RC_INVAL);
	assert_int_equal(store_domain_add(st, k, "a..example.com", 0, &id),
	    RC_INVAL);
	assert_int_equal(store_domain_add(st, k, "*.example.com", 0, &id),
	    RC_INVAL);
	assert_int_equal(store_domain_add(st, k, "exa mple.com", 0, &id),
	    RC_INVAL);
	assert_int_equal(store_domain_add(st, k,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".com", 0, &id), RC_INVAL);	/* 64-byte label */
	assert_int_equal(store_domain_add(st, k, "xn--mnchen-3ya.de", 1,
	    &id), 0);
	assert_int_equal(store_slot_add(st, k, NULL, &id), RC_INVAL);
	assert_int_equal(store_slot_add(st, k, "", &id), RC_INVAL);
	assert_int_equal(store_slot_add(st, k, "gold", &id), RC_INVAL);
	assert_int_equal(store_slot_add(st, k, "Starter", &id), RC_INVAL);
	assert_int_equal(store_slot_add(st, -1, "starter", &id), RC_INVAL);
	assert_int_equal(count_rows(st, "slots"), 0);

	/* 64 KiB strings: over STORE_MAX_TEXT / STORE_MAX_SHORT, refused */
	big = malloc(64 * 1024 + 1);
	assert_non_null(big);
	memset(big, 'n', 64 * 1024);
	big[64 * 1024] = '\0';
	assert_int_equal(store_customer_add(st, big, &id), RC_INVAL);
	assert_int_equal(store_contract_add(st, cu, big, &id), RC_INVAL);
	assert_int_equal(store_domain_add(st, k, big, 0, &id), RC_INVAL);
	assert_int_equal(store_user_add(st, cu, "a@example.com", big,
	    STORE_ROLE_CUSTOMER, NULL, &id), RC_INVAL);
	big[60] = '@';
	assert_int_equal(store_user_add(st, cu, big, "N",
	    STORE_ROLE_CUSTOMER, NULL, &id), RC_INVAL);
	assert_int_equal(store_audit_append(st, big, "a", "o", NULL),
	    RC_INVAL);
	/* ... while 64 KiB of audit details (under STORE_MAX_JSON) is fine */
	assert_int_equal(store_audit_append(st, "x", "a", "o", big), 0);
	/* exactly at the bound is accepted */
	big[STORE_MAX_TEXT] = '\0';
	assert_int_equal(store_customer_add(st, big, &id), 0);
	free(big);
	assert_int_equal(store_audit_verify(st, NULL, NULL), 0);
}

/* The mail outbox (migration 0005): queue, due, failed with backoff, sent;
 * kind + ref + recipient unique; bad input. */
static void
test_mail_outbox(void **state)
{
	struct fx *fx = *state;
	struct store_mail *v = NULL;
	struct store_expiring *x = NULL;
	size_t n = 9;
	int64_t a = 0, b = 0, c = 0;

	assert_int_equal(store_mail_add(fx->st, "a@b.example", "Subject one",
	    "line 1\nline 2\n", "portal.issued", "7", 1000, &a), 0);
	assert_true(a > 0);
	assert_int_equal(store_mail_add(fx->st, "a@b.example", "again", "x",
	    "portal.issued", "7", 1001, &b), RC_EXISTS);
	assert_int_equal(store_mail_add(fx->st, "c@b.example", "other one",
	    "", "portal.issued", "7", 1002, &b), 0);
	/* one-off mail: no kind, never unique */
	assert_int_equal(store_mail_add(fx->st, "a@b.example", "s", "b", NULL,
	    NULL, 1003, &c), 0);
	assert_int_equal(store_mail_add(fx->st, "a@b.example", "s", "b", NULL,
	    NULL, 1003, NULL), 0);
	/* bad input */
	assert_int_equal(store_mail_add(fx->st, NULL, "s", "b", NULL, NULL, 1,
	    NULL), RC_INVAL);
	assert_int_equal(store_mail_add(fx->st, "a@b.example", "s\r\nBcc: x",
	    "b", NULL, NULL, 1, NULL), RC_INVAL);
	assert_int_equal(store_mail_add(fx->st, "a@b.example", "", "b", NULL,
	    NULL, 1, NULL), RC_INVAL);
	assert_int_equal(store_mail_add(NULL, "a@b.example", "s", "b", NULL,
	    NULL, 1, NULL), RC_INVAL);

	assert_int_equal(store_mail_due(fx->st, 999, 10, &v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
	assert_int_equal(store_mail_due(fx->st, 1002, 10, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, a);
	assert_string_equal(v[0].to_addr, "a@b.example");
	assert_string_equal(v[0].body, "line 1\nline 2\n");
	assert_string_equal(v[0].kind, "portal.issued");
	assert_string_equal(v[0].ref, "7");
	assert_null(v[0].last_error);
	assert_int_equal(v[0].attempts, 0);
	assert_string_equal(v[1].body, "");
	store_mail_list_free(v, n);
	assert_int_equal(store_mail_due(fx->st, 5000, 1, &v, &n), 0);
	assert_int_equal(n, 1);
	store_mail_list_free(v, n);

	/* a failure pushes it back */
	assert_int_equal(store_mail_failed(fx->st, a, "SMTP: refused", 2000),
	    0);
	assert_int_equal(store_mail_due(fx->st, 1500, 10, &v, &n), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(v[i].id, a);
	store_mail_list_free(v, n);
	assert_int_equal(store_mail_due(fx->st, 0, 0, &v, &n), 0);
	assert_int_equal(n, 4);	/* max 0: everything waiting */
	assert_int_equal(v[3].id, a);
	assert_int_equal(v[3].attempts, 1);
	assert_string_equal(v[3].last_error, "SMTP: refused");
	assert_int_equal(v[3].next_try_at, 2000);
	store_mail_list_free(v, n);

	assert_int_equal(store_mail_sent(fx->st, a, 2001, NULL), 0);
	assert_int_equal(store_mail_sent(fx->st, a, 2002, NULL), RC_NOTFOUND);
	assert_int_equal(store_mail_failed(fx->st, a, "x", 3000), RC_NOTFOUND);
	assert_int_equal(store_mail_sent(fx->st, 999999, 1, NULL), RC_NOTFOUND);
	assert_int_equal(store_mail_sent(fx->st, -1, 1, NULL), RC_INVAL);
	assert_int_equal(store_mail_due(fx->st, 0, 0, &v, &n), 0);
	assert_int_equal(n, 3);
	store_mail_list_free(v, n);
	/* sent stays unique */
	assert_int_equal(store_mail_add(fx->st, "a@b.example", "again", "x",
	    "portal.issued", "7", 3000, NULL), RC_EXISTS);
	assert_int_equal(store_mail_due(NULL, 0, 0, &v, &n), RC_INVAL);

	/* a bounce (0009): never due again, and final */
	{
		struct store_mail *m = NULL;
		int64_t bid;

		assert_int_equal(store_mail_due(fx->st, 0, 0, &v, &n), 0);
		assert_int_equal(n, 3);
		bid = v[0].id;
		store_mail_list_free(v, n);
		assert_int_equal(store_mail_failed(fx->st, bid, "SMTP: RCPT: "
		    "451 4.7.1 greylisted", 2500), 0);
		assert_int_equal(store_mail_bounced(fx->st, bid, NULL, 2600,
		    NULL), RC_INVAL);
		assert_int_equal(store_mail_bounced(fx->st, bid, "", 2600,
		    NULL), RC_INVAL);
		assert_int_equal(store_mail_bounced(fx->st, -1, "x", 2600,
		    NULL), RC_INVAL);
		assert_int_equal(store_mail_bounced(NULL, bid, "x", 2600, NULL),
		    RC_INVAL);
		assert_int_equal(store_mail_bounced(fx->st, bid, "SMTP: RCPT: "
		    "550 5.1.1 no such mailbox", 2600, NULL), 0);
		assert_int_equal(store_mail_due(fx->st, 0, 0, &v, &n), 0);
		assert_int_equal(n, 2);
		for (size_t i = 0; i < n; i++)
			assert_int_not_equal(v[i].id, bid);
		store_mail_list_free(v, n);
		assert_int_equal(store_mail_due(fx->st, 99999, 10, &v, &n), 0);
		assert_int_equal(n, 2);
		store_mail_list_free(v, n);
		assert_int_equal(store_mail_get(fx->st, bid, &m), 0);
		assert_int_equal(m->bounced_at, 2600);
		assert_int_equal(m->sent_at, 0);
		assert_int_equal(m->attempts, 2);
		assert_string_equal(m->last_error, "SMTP: RCPT: 550 5.1.1 "
		    "no such mailbox");
		store_mail_list_free(m, 1);
		assert_int_equal(store_mail_bounced(fx->st, bid, "again",
		    2700, NULL), RC_NOTFOUND);
		assert_int_equal(store_mail_failed(fx->st, bid, "x", 2700),
		    RC_NOTFOUND);
		assert_int_equal(store_mail_sent(fx->st, bid, 2700, NULL),
		    RC_NOTFOUND);
		assert_int_equal(store_mail_bounced(fx->st, a, "x", 2700, NULL),
		    RC_NOTFOUND);	/* sent */
		assert_int_equal(store_mail_bounced(fx->st, 999999, "x",
		    2700, NULL), RC_NOTFOUND);
		assert_int_equal(store_mail_get(fx->st, a, &m), 0);
		assert_int_equal(m->bounced_at, 0);
		store_mail_list_free(m, 1);
	}

	/* no portal certificates yet */
	assert_int_equal(store_cert_expiring(fx->st, 0, 4000000000, &x, &n),
	    0);
	assert_int_equal(n, 0);
	free(x);
}

/* 1 when the file at path holds the bytes of s (0 when it is missing). */
static int
file_has(const char *path, const char *s)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t n = 0, cap = 0, got;
	int found;

	if (f == NULL)
		return 0;
	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 65536;
			data = realloc(data, cap);
			assert_non_null(data);
		}
		got = fread(data + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	found = memmem(data, n, s, strlen(s)) != NULL;
	free(data);
	return found;
}

/* 1 when the database, its WAL or its shared memory file hold s. */
static int
files_have(const char *path, const char *s)
{
	char p[320];
	int found = file_has(path, s);

	snprintf(p, sizeof(p), "%s-wal", path);
	found |= file_has(p, s);
	snprintf(p, sizeof(p), "%s-shm", path);
	return found | file_has(p, s);
}

/* A delivered (or bounced) mail's text replaced in the statement that
 * marks it, the old text zeroed in the page, and the WAL that still held
 * it checkpointed and truncated: the token is nowhere in the files. */
static void
test_mail_text_replaced(void **state)
{
	struct fx *fx = *state;
	static const char *tok[] = {"Tok0aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "Tok1bbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	    "Tok2cccccccccccccccccccccccccccc"};
	char body[3][200], kept[200], wal[320];
	struct store_mail *m = NULL;
	int64_t id[3];
	sqlite3 *db = NULL;

	for (int i = 0; i < 3; i++) {
		snprintf(body[i], sizeof(body[i]), "Hello,\n\nhttps://"
		    "ca.example/confirm/%s\n\nThe link works once.\n",
		    tok[i]);
		assert_int_equal(store_mail_add(fx->st, "hostmaster@d.example",
		    "Please confirm", body[i], "validation.email",
		    i == 0 ? "1/1" : i == 1 ? "2/1" : "3/1", 1000, &id[i]), 0);
	}
	/* rows after them: theirs are not next to the page's free gap */
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_mail_add(fx->st, "a@d.example", "Hello",
		    "A mail of another kind, about as long as the others, "
		    "to fill the page after them.", NULL, NULL, 1000, NULL),
		    0);
	snprintf(kept, sizeof(kept), "Hello,\n\nhttps://ca.example/confirm/"
	    "[removed after delivery]\n\nThe link works once.\n");
	/* a failed try rewrites the row, token and all: zeroed as well */
	assert_int_equal(store_mail_failed(fx->st, id[0], "SMTP: RCPT: 451 "
	    "4.7.1 greylisted: the server wants to see this mail again in a "
	    "while, so it is tried again later, with a longer row than "
	    "before, which SQLite writes somewhere else in the page", 1100),
	    0);
	assert_int_equal(store_mail_sent(fx->st, id[0], 1200, kept), 0);
	assert_int_equal(store_mail_bounced(fx->st, id[1], "SMTP: RCPT: 550",
	    1200, kept), 0);
	/* without a text: kept as it was */
	assert_int_equal(store_mail_sent(fx->st, id[2], 1200, NULL), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(store_mail_get(fx->st, id[i], &m), 0);
		assert_string_equal(m->body, i < 2 ? kept : body[i]);
		assert_int_equal(i == 1 ? m->bounced_at : m->sent_at, 1200);
		store_mail_list_free(m, 1);
	}
	/* bad text, and once marked no second replacement */
	assert_int_equal(store_mail_sent(fx->st, id[2], 1300, "x\001y"),
	    RC_INVAL);
	assert_int_equal(store_mail_sent(fx->st, id[0], 1300, "x"),
	    RC_NOTFOUND);
	assert_int_equal(store_mail_bounced(fx->st, id[1], "550", 1300, "x"),
	    RC_NOTFOUND);

	/* a reader of an older snapshot: the WAL cannot go yet */
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN; SELECT count(*) FROM "
	    "mail_outbox", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_mail_add(fx->st, "x@d.example", "later", "x",
	    NULL, NULL, 1400, NULL), 0);
	assert_int_equal(store_wal_truncate(fx->st), RC_CONFLICT);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_wal_truncate(fx->st), 0);
	snprintf(wal, sizeof(wal), "%s-wal", fx->path);
	assert_false(file_has(wal, "confirm"));
	assert_false(files_have(fx->path, tok[0]));
	assert_false(files_have(fx->path, tok[1]));
	assert_true(files_have(fx->path, tok[2]));	/* the control */
	assert_int_equal(store_wal_truncate(NULL), RC_INVAL);
}

/* Monitoring: the audit tally reads facts only where they are, and takes
 * details that are not JSON (or JSON of the wrong shape) as no facts. */
struct tally_seen {
	int n, issued_dv, revoked_kc, valid_http, nulls;
};

static int
tally_cb(const struct store_audit_fact *f, void *arg)
{
	struct tally_seen *t = arg;

	t->n++;
	if (strcmp(f->action, "cert.issue") == 0 && f->profile != NULL &&
	    strcmp(f->profile, "dv") == 0)
		t->issued_dv++;
	if (strcmp(f->action, "cert.revoke") == 0 && f->reason != NULL &&
	    strcmp(f->reason, "keyCompromise") == 0)
		t->revoked_kc++;
	if (f->method != NULL && strcmp(f->method, "http-01") == 0)
		t->valid_http++;
	if (f->profile == NULL && f->reason == NULL && f->method == NULL)
		t->nulls++;
	return 0;
}

static void
test_audit_tally_and_gauges(void **state)
{
	struct fx *fx = *state;
	static const char *const rows[][2] = {
		{"cert.issue", "{\"profile\":\"dv\"}"},
		{"cert.issue", "not json {"},
		{"cert.issue", "{\"profile\":[1,2]}"},
		{"cert.revoke", "{\"reason\":\"keyCompromise\","
		    "\"profile\":\"dv\"}"},
		{"validation.success", "{\"method\":\"http-01\"}"},
		{"customer.add", "{\"profile\":\"dv\"}"},	/* not asked */
		{"cert.issue", ""},
	};
	struct tally_seen t = {0};
	struct store_gauges g;
	int64_t last = -1;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(store_audit_append(fx->st, "test", rows[i][0],
		    "x", rows[i][1]), 0);
	/* in batches: 3, then the rest */
	assert_int_equal(store_audit_tally(fx->st, 0, 3, tally_cb, &t, &last),
	    0);
	assert_int_equal(t.n, 3);
	assert_int_equal(last, 3);
	assert_int_equal(store_audit_tally(fx->st, last, 100, tally_cb, &t,
	    &last), 0);
	assert_int_equal(t.n, 7);
	assert_int_equal(last, 7);
	assert_int_equal(t.issued_dv, 1);
	assert_int_equal(t.revoked_kc, 1);
	assert_int_equal(t.valid_http, 1);
	assert_int_equal(t.nulls, 4);	/* not JSON, an array, not asked, "" */
	/* nothing new: last stays */
	assert_int_equal(store_audit_tally(fx->st, last, 100, tally_cb, &t,
	    &last), 0);
	assert_int_equal(last, 7);
	assert_int_equal(store_audit_tally(fx->st, 0, 0, tally_cb, &t, &last),
	    RC_INVAL);
	assert_int_equal(store_gauges(fx->st, &g), 0);
	assert_int_equal(g.audit_seq, 7);
	assert_int_equal(g.mail_waiting, 0);
	assert_int_equal(g.blocked_keys, 0);
	assert_int_equal(store_gauges(NULL, &g), RC_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_migrations_new_and_reopen),
		T(test_migrations_concurrent),
		T(test_migration_0009_old_bounces),
		T(test_open_errors),
		T(test_no_memstatus),
		T(test_customers_users),
		T(test_user_lifecycle),
		T(test_migration_0030_user_disable),
		T(test_contracts_domains_slots),
		T(test_list_reentrant),
		T(test_orgs),
		T(test_issuers),
		T(test_certs_revocations),
		T(test_revoke_moves_slot),
		T(test_slot_orders),
		T(test_slot_order_ended),
		T(test_order_expired_portal),
		T(test_cert_keys),
		T(test_migration_0018_cert_keys),
		T(test_migration_0020_token_expiry),
		T(test_migration_0021_slot_held_certificate),
		T(test_migration_0023_slot_never_set_up),
		T(test_migration_0028_org_messages),
		T(test_cert_bad_input),
		T(test_crls),
		T(test_tx_rollback),
		T(test_rq_snapshot),
		T(test_nonce_ring_concurrent),
		T(test_nonce_ring_restart),
		T(test_many_files),
		T(test_tx_nested),
		T(test_tx_retry),
		T(test_tx_waits_for_writer),
		T(test_durable_barrier),
		T(test_deferred_sync),
		T(test_durable_across_processes),
		T(test_durable_counters_lost),
		T(test_audit_chain),
		T(test_audit_tally_and_gauges),
		T(test_audit_hash_format),
		T(test_audit_tamper_edit),
		T(test_audit_tamper_delete_middle),
		T(test_audit_tamper_delete_tail),
		T(test_audit_tamper_swap_hashes),
		T(test_audit_tamper_more),
		T(test_audit_triggers),
		T(test_audit_threads),
		T(test_bad_input),
		T(test_mail_outbox),
		T(test_mail_text_replaced),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
