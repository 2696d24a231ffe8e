/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend's part of the domain validation of portal orders
 * (migration 0006): the validation row of each name with its job schedule,
 * the append-only attempts with their evidence, the confirmation links of
 * email validation (token hashes only), the temporary DNS records still to
 * remove, and two reads across tables (a reusable validation of the
 * contract, the contract's domain that holds a name). Runs in whichever
 * thread holds the handle; the ra decides, this file only reads and writes
 * rows, checking its arguments against the bounds of store.h.
 */
#include "store/store.h"
#include "store/store_sqlite_int.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- argument checks ----------------------------------------------------- */

/* A single-line text of at most max bytes, "" allowed; NULL allowed with
 * null_ok. 1 when it passes. */
static int
text_ok(const char *what, const char *field, const char *v, size_t max,
    int null_ok)
{
	return sq_check_text(what, field, v, max,
	    SQ_EMPTY_OK | (null_ok ? SQ_NULL_OK : 0)) == 0;
}

static int
json_ok(const char *what, const char *v)
{
	if (v == NULL)
		return 1;
	if (strnlen(v, STORE_MAX_JSON + 1) > STORE_MAX_JSON) {
		log_warn(LOG_STORE, "%s: evidence too long", what);
		return 0;
	}
	return 1;
}

static const char *const methods[] = {"dns-auto", "email", "dns", "http",
	"operator", "reused", NULL};
static const char *const attempt_methods[] = {"dns-auto", "email", "dns",
	"http", "operator", "reused", "caa", NULL};
static const char *const stages[] = {"idle", "publish", "wait", "check",
	NULL};

static time_t
col_time(sqlite3_stmt *s, int i)
{
	return (time_t)sqlite3_column_int64(s, i);	/* NULL reads 0 */
}

/* ---- dv_validations ------------------------------------------------------ */

#define DV_COLS "authz_id, order_id, method, value, http_file, hosted, " \
	"zone, email_local, stage, published_at, problem, message, " \
	"checked_at, caa_checked_at, next_check_at, lease_until, " \
	"created_at, updated_at"

static const char SQL_DV_ADD[] = "INSERT INTO dv_validations (authz_id, "
	"order_id, method, value, http_file, hosted, zone, email_local, stage, "
	"published_at, problem, message, checked_at, caa_checked_at, "
	"next_check_at, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, "
	"?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16)";
static const char SQL_DV_GET[] = "SELECT " DV_COLS " FROM dv_validations "
	"WHERE authz_id = ?1";
static const char SQL_DV_UPDATE[] = "UPDATE dv_validations SET method = ?2, "
	"zone = ?3, email_local = ?4, stage = ?5, published_at = ?6, "
	"problem = ?7, message = ?8, checked_at = ?9, caa_checked_at = ?10, "
	"next_check_at = ?11, lease_until = NULL, updated_at = ?12 "
	"WHERE authz_id = ?1";
static const char SQL_DV_CLAIM[] = "UPDATE dv_validations SET lease_until = "
	"?3 WHERE authz_id = ?1 AND (?4 = 1 OR (next_check_at IS NOT NULL "
	"AND next_check_at <= ?2)) AND (lease_until IS NULL OR "
	"lease_until < ?2)";
static const char SQL_DV_JOBS[] = "SELECT authz_id FROM dv_validations "
	"WHERE next_check_at IS NOT NULL AND next_check_at <= ?1 AND "
	"(lease_until IS NULL OR lease_until < ?1) ORDER BY next_check_at "
	"LIMIT ?2";

static int
dv_check(const char *what, const struct store_dv *v)
{
	if (v == NULL || v->authz_id <= 0 || v->order_id <= 0 ||
	    sq_check_enum(what, "method", v->method, methods) != 0 ||
	    sq_check_enum(what, "stage", v->stage ? v->stage : "idle",
	    stages) != 0 ||
	    !text_ok(what, "value", v->value, STORE_MAX_SHORT, 0) ||
	    !text_ok(what, "http_file", v->http_file, STORE_MAX_SHORT, 0) ||
	    !text_ok(what, "zone", v->zone, 253, 1) ||
	    !text_ok(what, "email_local", v->email_local, 32, 1) ||
	    !text_ok(what, "problem", v->problem, 32, 1) ||
	    !text_ok(what, "message", v->message, STORE_MAX_TEXT, 1)) {
		log_warn(LOG_STORE, "%s: bad validation row", what);
		return RC_INVAL;
	}
	return 0;
}

int
store_dv_add(struct store *st, const struct store_dv *v)
{
	static const char what[] = "dv_add";
	sqlite3_stmt *s = NULL;
	time_t now;
	int rc;

	if (st == NULL || (rc = dv_check(what, v)) != 0)
		return RC_INVAL;
	now = v->created_at ? v->created_at : time(NULL);
	rc = sq_prep(st, SQL_DV_ADD, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, v->authz_id);
	sqlite3_bind_int64(s, 2, v->order_id);
	sq_bind_text(s, 3, v->method);
	sq_bind_text(s, 4, v->value);
	sq_bind_text(s, 5, v->http_file);
	sqlite3_bind_int(s, 6, v->hosted ? 1 : 0);
	sq_bind_text(s, 7, v->zone);
	sq_bind_text(s, 8, v->email_local);
	sq_bind_text(s, 9, v->stage ? v->stage : "idle");
	sq_bind_time(s, 10, v->published_at);
	sq_bind_text(s, 11, v->problem);
	sq_bind_text(s, 12, v->message);
	sq_bind_time(s, 13, v->checked_at);
	sq_bind_time(s, 14, v->caa_checked_at);
	sq_bind_time(s, 15, v->next_check_at);
	sqlite3_bind_int64(s, 16, (sqlite3_int64)now);
	rc = sq_step_done(st, what, s);
	sq_put(st, s);
	return rc;
}

static int
dv_row(sqlite3_stmt *s, void *arg)
{
	struct store_dv *v = arg;

	v->authz_id = sqlite3_column_int64(s, 0);
	v->order_id = sqlite3_column_int64(s, 1);
	v->method = sq_col_dup(s, 2);
	v->value = sq_col_dup(s, 3);
	v->http_file = sq_col_dup(s, 4);
	v->hosted = sqlite3_column_int(s, 5);
	v->zone = sq_col_dup(s, 6);
	v->email_local = sq_col_dup(s, 7);
	v->stage = sq_col_dup(s, 8);
	v->published_at = col_time(s, 9);
	v->problem = sq_col_dup(s, 10);
	v->message = sq_col_dup(s, 11);
	v->checked_at = col_time(s, 12);
	v->caa_checked_at = col_time(s, 13);
	v->next_check_at = col_time(s, 14);
	v->lease_until = col_time(s, 15);
	v->created_at = col_time(s, 16);
	v->updated_at = col_time(s, 17);
	return 1;	/* one row */
}

int
store_dv_get(struct store *st, int64_t authz_id, struct store_dv *out)
{
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	if (authz_id <= 0)
		return RC_NOTFOUND;
	rc = sq_each_row_id(st, "dv_get", SQL_DV_GET, authz_id, dv_row, out);
	if (rc == 1)
		return 0;
	store_dv_clear(out);
	return rc == 0 ? RC_NOTFOUND : rc;
}

void
store_dv_clear(struct store_dv *v)
{
	if (v == NULL)
		return;
	free(v->method);
	free(v->value);
	free(v->http_file);
	free(v->zone);
	free(v->email_local);
	free(v->stage);
	free(v->problem);
	free(v->message);
	memset(v, 0, sizeof(*v));
}

int
store_dv_update(struct store *st, const struct store_dv *v, time_t when)
{
	static const char what[] = "dv_update";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || dv_check(what, v) != 0)
		return RC_INVAL;
	rc = sq_prep(st, SQL_DV_UPDATE, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, v->authz_id);
	sq_bind_text(s, 2, v->method);
	sq_bind_text(s, 3, v->zone);
	sq_bind_text(s, 4, v->email_local);
	sq_bind_text(s, 5, v->stage ? v->stage : "idle");
	sq_bind_time(s, 6, v->published_at);
	sq_bind_text(s, 7, v->problem);
	sq_bind_text(s, 8, v->message);
	sq_bind_time(s, 9, v->checked_at);
	sq_bind_time(s, 10, v->caa_checked_at);
	sq_bind_time(s, 11, v->next_check_at);
	sqlite3_bind_int64(s, 12, (sqlite3_int64)when);
	rc = sq_step_changed(st, what, s, RC_NOTFOUND);
	sq_put(st, s);
	return rc;
}

int
store_dv_claim(struct store *st, int64_t authz_id, time_t now,
    time_t lease_until, int force)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || authz_id <= 0)
		return RC_INVAL;
	rc = sq_prep(st, SQL_DV_CLAIM, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, authz_id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)lease_until);
	sqlite3_bind_int(s, 4, force ? 1 : 0);
	rc = sq_step_changed(st, "dv_claim", s, RC_STATE);
	sq_put(st, s);
	return rc;
}

struct ids {
	int64_t *v;
	size_t n, max;
};

static int
id_row(sqlite3_stmt *s, void *arg)
{
	struct ids *r = arg;

	if (r->n < r->max)
		r->v[r->n++] = sqlite3_column_int64(s, 0);
	return 0;
}

int
store_dv_jobs(struct store *st, time_t now, int64_t *ids, size_t max,
    size_t *n)
{
	struct ids r = {ids, 0, max};
	sqlite3_stmt *s = NULL;
	int rc;

	if (n != NULL)
		*n = 0;
	if (st == NULL || ids == NULL || n == NULL)
		return RC_INVAL;
	if (max == 0)
		return 0;
	rc = sq_prep(st, SQL_DV_JOBS, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	rc = sq_each_row(st, "dv_jobs", s, id_row, &r);
	sq_put(st, s);
	*n = r.n;
	return rc;
}

/* ---- dv_attempts --------------------------------------------------------- */

static const char SQL_ATTEMPT_ADD[] = "INSERT INTO dv_attempts (authz_id, "
	"order_id, method, br_version, br_section, started_at, finished_at, "
	"value, outcome, problem, detail, evidence) VALUES (?1, ?2, ?3, ?4, "
	"?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

int
store_dv_attempt_add(struct store *st, const struct store_dv_attempt *a,
    int64_t *id)
{
	static const char what[] = "dv_attempt_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || a == NULL || a->authz_id <= 0 || a->order_id <= 0 ||
	    sq_check_enum(what, "method", a->method, attempt_methods) != 0 ||
	    !text_ok(what, "br_version", a->br_version, 32, 0) ||
	    !text_ok(what, "br_section", a->br_section, 32, 0) ||
	    !text_ok(what, "value", a->value, STORE_MAX_SHORT, 1) ||
	    !text_ok(what, "problem", a->problem, 32, 1) ||
	    (a->detail != NULL && strnlen(a->detail, STORE_MAX_TEXT + 1) >
	    STORE_MAX_TEXT) || !json_ok(what, a->evidence))
		return RC_INVAL;
	rc = sq_prep(st, SQL_ATTEMPT_ADD, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, a->authz_id);
	sqlite3_bind_int64(s, 2, a->order_id);
	sq_bind_text(s, 3, a->method);
	sq_bind_text(s, 4, a->br_version);
	sq_bind_text(s, 5, a->br_section);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)a->started_at);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)a->finished_at);
	sq_bind_text(s, 8, a->value);
	sq_bind_text(s, 9, a->valid ? "valid" : "invalid");
	sq_bind_text(s, 10, a->problem);
	sq_bind_text(s, 11, a->detail);
	sq_bind_text(s, 12, a->evidence);
	rc = sq_insert_id(st, what, s, id);
	sq_put(st, s);
	return rc;
}

/* ---- dv_email_tokens ----------------------------------------------------- */

#define TOK_COLS "id, authz_id, token_hash, email_to, state, mail_id, " \
	"sent_at, expires_at, confirmed_at, client_addr, user_agent"

static const char SQL_TOK_RETIRE[] = "UPDATE dv_email_tokens SET state = "
	"'replaced' WHERE authz_id = ?1 AND state = 'pending'";
static const char SQL_TOK_ADD[] = "INSERT INTO dv_email_tokens (authz_id, "
	"token_hash, email_to, state, mail_id, sent_at, expires_at) VALUES "
	"(?1, ?2, ?3, 'pending', ?4, ?5, ?6)";
static const char SQL_TOK_BY_HASH[] = "SELECT " TOK_COLS " FROM "
	"dv_email_tokens WHERE token_hash = ?1";
static const char SQL_TOK_LATEST[] = "SELECT " TOK_COLS " FROM "
	"dv_email_tokens WHERE authz_id = ?1 ORDER BY id DESC LIMIT 1";
static const char SQL_TOK_COUNT[] = "SELECT count(*) FROM dv_email_tokens "
	"WHERE authz_id = ?1";
static const char SQL_TOK_CONFIRM[] = "UPDATE dv_email_tokens SET state = "
	"'confirmed', confirmed_at = ?2, client_addr = ?3, user_agent = ?4 "
	"WHERE id = ?1 AND state = 'pending'";
static const char SQL_TOK_HAND[] = "UPDATE dv_email_tokens SET authz_id = "
	"?2 WHERE id = ?1 AND state = 'pending'";

static int
tok_retire(struct store *st, int64_t authz_id)
{
	return sq_exec_id(st, "dv_token_retire", SQL_TOK_RETIRE, authz_id);
}

struct tok_add {
	const struct store_dv_token *t;
	int64_t id;
};

static int
tok_add_tx(struct store *st, void *arg)
{
	struct tok_add *a = arg;
	sqlite3_stmt *s = NULL;
	int rc = tok_retire(st, a->t->authz_id);

	if (rc != 0)
		return rc;
	rc = sq_prep(st, SQL_TOK_ADD, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, a->t->authz_id);
	sq_bind_blob(s, 2, a->t->token_hash, STORE_HASH_LEN);
	sq_bind_text(s, 3, a->t->email_to);
	sq_bind_ref(s, 4, a->t->mail_id);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)a->t->sent_at);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)a->t->expires_at);
	rc = sq_insert_id(st, "dv_token_add", s, &a->id);
	sq_put(st, s);
	return rc;
}

int
store_dv_token_add(struct store *st, const struct store_dv_token *t,
    int64_t *id)
{
	struct tok_add a = {t, 0};
	int rc;

	if (st == NULL || t == NULL || t->authz_id <= 0 ||
	    !text_ok("dv_token_add", "email_to", t->email_to,
	    STORE_MAX_SHORT, 0) || t->expires_at <= t->sent_at)
		return RC_INVAL;
	rc = store_tx(st, tok_add_tx, &a);
	if (rc == 0 && id != NULL)
		*id = a.id;
	return rc;
}

static int
tok_row(sqlite3_stmt *s, void *arg)
{
	struct store_dv_token *t = arg;
	const void *h = sqlite3_column_blob(s, 2);

	t->id = sqlite3_column_int64(s, 0);
	t->authz_id = sqlite3_column_int64(s, 1);
	if (h != NULL && sqlite3_column_bytes(s, 2) == STORE_HASH_LEN)
		memcpy(t->token_hash, h, STORE_HASH_LEN);
	t->email_to = sq_col_dup(s, 3);
	t->state = sq_col_dup(s, 4);
	t->mail_id = sqlite3_column_int64(s, 5);
	t->sent_at = col_time(s, 6);
	t->expires_at = col_time(s, 7);
	t->confirmed_at = col_time(s, 8);
	t->client_addr = sq_col_dup(s, 9);
	t->user_agent = sq_col_dup(s, 10);
	if (t->email_to == NULL)
		t->email_to = xstrdup("");
	if (t->state == NULL)
		t->state = xstrdup("replaced");
	return 1;
}

int
store_dv_token_by_hash(struct store *st, const uint8_t hash[STORE_HASH_LEN],
    struct store_dv_token *out)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || hash == NULL || out == NULL)
		return RC_INVAL;
	rc = sq_prep(st, SQL_TOK_BY_HASH, &s);
	if (rc != 0)
		return rc;
	sq_bind_blob(s, 1, hash, STORE_HASH_LEN);
	rc = sq_each_row(st, "dv_token_by_hash", s, tok_row, out);
	sq_put(st, s);
	if (rc == 1)
		return 0;
	store_dv_token_clear(out);
	return rc == 0 ? RC_NOTFOUND : rc;
}

static int
count_row(sqlite3_stmt *s, void *arg)
{
	*(int64_t *)arg = sqlite3_column_int64(s, 0);
	return 0;
}

int
store_dv_token_latest(struct store *st, int64_t authz_id,
    struct store_dv_token *out, int64_t *count)
{
	int64_t n = 0;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (count != NULL)
		*count = 0;
	if (st == NULL || out == NULL)
		return RC_INVAL;
	if (authz_id <= 0)
		return RC_NOTFOUND;
	rc = sq_read_begin(st);
	if (rc != 0)
		return rc;
	rc = sq_each_row_id(st, "dv_token_latest", SQL_TOK_LATEST, authz_id,
	    tok_row, out);
	if (rc == 1)
		rc = sq_each_row_id(st, "dv_token_count", SQL_TOK_COUNT,
		    authz_id, count_row, &n);
	else if (rc == 0)
		rc = RC_NOTFOUND;
	sq_read_end(st);
	if (rc != 0) {
		store_dv_token_clear(out);
		return rc;
	}
	if (count != NULL)
		*count = n;
	return 0;
}

int
store_dv_token_confirm(struct store *st, int64_t id, time_t when,
    const char *client_addr, const char *user_agent)
{
	static const char what[] = "dv_token_confirm";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || id <= 0 ||
	    !text_ok(what, "client_addr", client_addr, 64, 1) ||
	    !text_ok(what, "user_agent", user_agent, STORE_MAX_TEXT, 1))
		return RC_INVAL;
	rc = sq_prep(st, SQL_TOK_CONFIRM, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)when);
	sq_bind_text(s, 3, client_addr);
	sq_bind_text(s, 4, user_agent);
	rc = sq_step_changed(st, what, s, RC_STATE);
	sq_put(st, s);
	return rc;
}

int
store_dv_token_hand(struct store *st, int64_t id, int64_t authz_id)
{
	static const char what[] = "dv_token_hand";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || id <= 0 || authz_id <= 0)
		return RC_INVAL;
	rc = sq_prep(st, SQL_TOK_HAND, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, authz_id);
	rc = sq_step_changed(st, what, s, RC_STATE);
	sq_put(st, s);
	return rc;
}

int
store_dv_token_retire(struct store *st, int64_t authz_id)
{
	if (st == NULL || authz_id <= 0)
		return RC_INVAL;
	return tok_retire(st, authz_id);
}

void
store_dv_token_clear(struct store_dv_token *t)
{
	if (t == NULL)
		return;
	free(t->email_to);
	free(t->state);
	free(t->client_addr);
	free(t->user_agent);
	memset(t, 0, sizeof(*t));
}

/* ---- dv_dns_records ------------------------------------------------------ */

#define REC_COLS "id, authz_id, zone, owner, value, created_at, remove_at, " \
	"attempts, last_error"

static const char SQL_REC_ADD[] = "INSERT INTO dv_dns_records (authz_id, "
	"zone, owner, value, created_at, remove_at) VALUES (?1, ?2, ?3, ?4, "
	"?5, ?6)";
static const char SQL_REC_OF[] = "SELECT " REC_COLS " FROM dv_dns_records "
	"WHERE authz_id = ?1 ORDER BY id DESC LIMIT 1";
static const char SQL_REC_DUE[] = "SELECT " REC_COLS " FROM dv_dns_records "
	"WHERE remove_at <= ?1 AND (lease_until IS NULL OR lease_until < ?1) "
	"ORDER BY remove_at LIMIT ?2";
static const char SQL_REC_CLAIM[] = "UPDATE dv_dns_records SET lease_until "
	"= ?3 WHERE id = ?1 AND (lease_until IS NULL OR lease_until < ?2)";
static const char SQL_REC_DONE[] = "DELETE FROM dv_dns_records WHERE id = ?1";
static const char SQL_REC_FAILED[] = "UPDATE dv_dns_records SET attempts = "
	"attempts + 1, last_error = ?2, remove_at = ?3, lease_until = NULL "
	"WHERE id = ?1";

int
store_dv_record_add(struct store *st, const struct store_dv_record *r,
    int64_t *id)
{
	static const char what[] = "dv_record_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || r == NULL ||
	    !text_ok(what, "zone", r->zone, 253, 0) ||
	    !text_ok(what, "owner", r->owner, 253, 0) ||
	    !text_ok(what, "value", r->value, STORE_MAX_SHORT, 0))
		return RC_INVAL;
	rc = sq_prep(st, SQL_REC_ADD, &s);
	if (rc != 0)
		return rc;
	sq_bind_ref(s, 1, r->authz_id);
	sq_bind_text(s, 2, r->zone);
	sq_bind_text(s, 3, r->owner);
	sq_bind_text(s, 4, r->value);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)(r->created_at ?
	    r->created_at : time(NULL)));
	sqlite3_bind_int64(s, 6, (sqlite3_int64)r->remove_at);
	rc = sq_insert_id(st, what, s, id);
	sq_put(st, s);
	return rc;
}

struct recs {
	struct store_dv_record *v;
	size_t n, cap;
};

static int
rec_row(sqlite3_stmt *s, void *arg)
{
	struct recs *r = arg;
	struct store_dv_record *x;

	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 8;
		r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	x = &r->v[r->n++];
	memset(x, 0, sizeof(*x));
	x->id = sqlite3_column_int64(s, 0);
	x->authz_id = sqlite3_column_int64(s, 1);
	x->zone = sq_col_dup(s, 2);
	x->owner = sq_col_dup(s, 3);
	x->value = sq_col_dup(s, 4);
	x->created_at = col_time(s, 5);
	x->remove_at = col_time(s, 6);
	x->attempts = sqlite3_column_int(s, 7);
	x->last_error = sq_col_dup(s, 8);
	if (x->zone == NULL)
		x->zone = xstrdup("");
	if (x->owner == NULL)
		x->owner = xstrdup("");
	if (x->value == NULL)
		x->value = xstrdup("");
	return 0;
}

int
store_dv_record_of(struct store *st, int64_t authz_id,
    struct store_dv_record *out)
{
	struct recs r = {NULL, 0, 0};
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	if (authz_id <= 0)
		return RC_NOTFOUND;
	rc = sq_each_row_id(st, "dv_record_of", SQL_REC_OF, authz_id, rec_row,
	    &r);
	if (rc == 0 && r.n == 0)
		rc = RC_NOTFOUND;
	if (rc == 0) {
		*out = r.v[0];
		free(r.v);
		return 0;
	}
	store_dv_record_list_free(r.v, r.n);
	return rc;
}

int
store_dv_record_due(struct store *st, time_t now, size_t max,
    struct store_dv_record **out, size_t *n)
{
	struct recs r = {NULL, 0, 0};
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (st == NULL || out == NULL || n == NULL || max == 0)
		return RC_INVAL;
	rc = sq_prep(st, SQL_REC_DUE, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)now);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	rc = sq_each_row(st, "dv_record_due", s, rec_row, &r);
	sq_put(st, s);
	if (rc != 0) {
		store_dv_record_list_free(r.v, r.n);
		return rc;
	}
	*out = r.v;
	*n = r.n;
	return 0;
}

int
store_dv_record_claim(struct store *st, int64_t id, time_t now,
    time_t lease_until)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || id <= 0)
		return RC_INVAL;
	rc = sq_prep(st, SQL_REC_CLAIM, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)lease_until);
	rc = sq_step_changed(st, "dv_record_claim", s, RC_STATE);
	sq_put(st, s);
	return rc;
}

int
store_dv_record_done(struct store *st, int64_t id)
{
	if (st == NULL || id <= 0)
		return RC_INVAL;
	return sq_exec_id(st, "dv_record_done", SQL_REC_DONE, id);
}

int
store_dv_record_failed(struct store *st, int64_t id, const char *error,
    time_t remove_at)
{
	static const char what[] = "dv_record_failed";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || id <= 0 ||
	    !text_ok(what, "error", error, STORE_MAX_TEXT, 1))
		return RC_INVAL;
	rc = sq_prep(st, SQL_REC_FAILED, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sq_bind_text(s, 2, error);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)remove_at);
	rc = sq_step_changed(st, what, s, RC_NOTFOUND);
	sq_put(st, s);
	return rc;
}

void
store_dv_record_clear(struct store_dv_record *r)
{
	if (r == NULL)
		return;
	free(r->zone);
	free(r->owner);
	free(r->value);
	free(r->last_error);
	memset(r, 0, sizeof(*r));
}

void
store_dv_record_list_free(struct store_dv_record *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		store_dv_record_clear(&v[i]);
	free(v);
}

/* ---- reads across tables ------------------------------------------------- */

static const char SQL_REUSABLE[] = "SELECT a.id FROM authorizations a "
	"JOIN orders o ON o.id = a.order_id WHERE a.account_id IS NULL AND "
	"o.contract_id = ?1 AND a.identifier = ?2 AND a.ident_type = 'dns' "
	"AND a.status = 'valid' AND a.validated_at >= ?3 AND a.expires_at > "
	"?4 AND a.id <> ?5 AND a.method <> 'reused' AND (?6 = 0 OR "
	"a.method IN ('dns-auto', 'dns', 'operator')) "
	"ORDER BY a.validated_at DESC, a.id DESC LIMIT 1";
static const char SQL_DOMAIN_OF[] = "SELECT name, hosted FROM domains "
	"WHERE contract_id = ?1 AND (name = ?2 OR (length(?2) > length(name) "
	"AND substr(?2, length(?2) - length(name)) = '.' || name)) "
	"ORDER BY length(name) DESC";

static int
first_id(sqlite3_stmt *s, void *arg)
{
	*(int64_t *)arg = sqlite3_column_int64(s, 0);
	return 1;
}

int
store_dv_reusable(struct store *st, int64_t contract_id,
    const char *identifier, int wildcard, time_t valid_since, time_t now,
    int64_t exclude_id, int64_t *authz_id)
{
	sqlite3_stmt *s = NULL;
	int64_t id = 0;
	int rc;

	if (authz_id != NULL)
		*authz_id = 0;
	if (st == NULL || authz_id == NULL || contract_id <= 0 ||
	    !text_ok("dv_reusable", "identifier", identifier, 253, 0))
		return RC_INVAL;
	rc = sq_prep(st, SQL_REUSABLE, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, contract_id);
	sq_bind_text(s, 2, identifier);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)valid_since);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)now);
	sqlite3_bind_int64(s, 5, exclude_id);
	sqlite3_bind_int(s, 6, wildcard ? 1 : 0);
	rc = sq_each_row(st, "dv_reusable", s, first_id, &id);
	sq_put(st, s);
	if (rc == 1) {
		*authz_id = id;
		return 0;
	}
	return rc == 0 ? RC_NOTFOUND : rc;
}

struct dom {
	int hosted, found;
	char *zone;
	size_t zonesz;
};

static int
dom_row(sqlite3_stmt *s, void *arg)
{
	struct dom *d = arg;
	const unsigned char *n = sqlite3_column_text(s, 0);

	if (!d->found && d->zone != NULL && d->zonesz > 0)
		snprintf(d->zone, d->zonesz, "%s", n ? (const char *)n : "");
	d->found = 1;
	if (sqlite3_column_int(s, 1))
		d->hosted = 1;
	return 0;
}

int
store_dv_domain_of(struct store *st, int64_t contract_id, const char *name,
    int *hosted, char *zone, size_t zonesz)
{
	struct dom d = {0, 0, zone, zonesz};
	sqlite3_stmt *s = NULL;
	int rc;

	if (hosted != NULL)
		*hosted = 0;
	if (zone != NULL && zonesz > 0)
		zone[0] = '\0';
	if (st == NULL || hosted == NULL || contract_id <= 0 ||
	    !text_ok("dv_domain_of", "name", name, 253, 0))
		return RC_INVAL;
	rc = sq_prep(st, SQL_DOMAIN_OF, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, contract_id);
	sq_bind_text(s, 2, name);
	rc = sq_each_row(st, "dv_domain_of", s, dom_row, &d);
	sq_put(st, s);
	if (rc != 0)
		return rc;
	if (!d.found)
		return RC_NOTFOUND;
	*hosted = d.hosted;
	return 0;
}
