/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend's figures for monitoring (/metrics): what happened,
 * read from the audit log after a cursor (every issuance, revocation and
 * validation of every process on the store is there, once), and how
 * things stand now, each through an index: the audit log's head, the mail
 * waiting, the validations in progress, the organisation cases open, the
 * keys blocked, and the CRL each CA must renew first.
 */
#include "store/store.h"
#include "store/store_sqlite_int.h"
#include "util/rc.h"

#include <stdio.h>
#include <string.h>

/* The facts a tally needs, extracted only where the action has them, and
 * only strings (a details text that is not JSON, or a member of another
 * type, is no error: that fact reads NULL). */
#define FACT(actions, member)                                                 \
	"CASE WHEN action IN (" actions ") AND json_valid(details) AND "      \
	"json_type(details, '$." member "') = 'text' THEN "                  \
	"json_extract(details, '$." member "') END"
#define VALIDATION "'validation.success', 'validation.failure'"
static const char SQL_TALLY[] = "SELECT seq, action, "
	FACT("'cert.issue', 'cert.revoke', " VALIDATION, "profile") ", "
	FACT("'cert.revoke'", "reason") ", "
	FACT(VALIDATION, "method") " "
	"FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2";
static const char SQL_HEAD[] = "SELECT coalesce(max(seq), 0) FROM audit_log";
static const char SQL_MAIL[] = "SELECT count(*), "
	"coalesce(sum(attempts > 0), 0), coalesce(min(created_at), 0) "
	"FROM mail_outbox WHERE sent_at IS NULL";
static const char SQL_JOBS[] = "SELECT count(*), coalesce(min(updated_at), 0) "
	"FROM challenges WHERE status = 'processing'";
static const char SQL_CASES[] = "SELECT count(*), coalesce(min(created_at), 0) "
	"FROM org_cases WHERE state IN ('open', 'in_review', "
	"'info_requested', 'awaiting_second_approval')";
static const char SQL_BLOCKED[] = "SELECT count(*) FROM blocked_keys";
/* per CA: the earliest nextUpdate among its newest CRLs (its own CRL and
 * each shard's) */
static const char SQL_CRLS[] = "SELECT i.id, i.name, min(n.next_update) "
	"FROM issuers i JOIN ("
	"SELECT issuer_id, next_update FROM crl_shards WHERE der IS NOT NULL "
	"UNION ALL SELECT c.issuer_id, c.next_update FROM crls c "
	"WHERE c.number = (SELECT max(number) FROM crls x "
	"WHERE x.issuer_id = c.issuer_id)) n ON n.issuer_id = i.id "
	"GROUP BY i.id ORDER BY i.id";

static const char *
col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

struct tally {
	int (*fn)(const struct store_audit_fact *, void *);
	void *arg;
	int64_t *last;
};

static int
tally_row(sqlite3_stmt *s, void *arg)
{
	const struct tally *t = arg;
	struct store_audit_fact f;

	*t->last = sqlite3_column_int64(s, 0);
	f.action = col_text(s, 1);
	f.profile = col_text(s, 2);
	f.reason = col_text(s, 3);
	f.method = col_text(s, 4);
	return f.action != NULL ? t->fn(&f, t->arg) : 0;
}

int
store_audit_tally(struct store *st, int64_t after, size_t max,
    int (*fn)(const struct store_audit_fact *f, void *arg), void *arg,
    int64_t *last)
{
	struct tally t = {fn, arg, last};
	sqlite3_stmt *s = NULL;
	int rc;

	*last = after;
	if (st == NULL || fn == NULL || max == 0)
		return RC_INVAL;
	if ((rc = sq_prep(st, SQL_TALLY, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, (int64_t)max);
	rc = sq_each_row(st, "audit_tally", s, tally_row, &t);
	sq_put(st, s);
	return rc;
}

/* One row of sql into up to n int64 columns. */
static int
row_ints(struct store *st, const char *what, const char *sql, int64_t *v,
    int n)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = sq_prep(st, sql, &s)) != 0)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		for (int i = 0; i < n; i++)
			v[i] = sqlite3_column_int64(s, i);
		rc = 0;
	} else {
		rc = sq_dberr(st, what, rc);
	}
	sq_put(st, s);
	return rc;
}

int
store_gauges(struct store *st, struct store_gauges *g)
{
	int64_t v[3] = {0, 0, 0};
	int rc;

	memset(g, 0, sizeof(*g));
	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_read_begin(st)) != 0)
		return rc;
	if ((rc = row_ints(st, "gauges", SQL_HEAD, v, 1)) != 0)
		goto out;
	g->audit_seq = v[0];
	if ((rc = row_ints(st, "gauges", SQL_MAIL, v, 3)) != 0)
		goto out;
	g->mail_waiting = v[0];
	g->mail_failing = v[1];
	g->mail_oldest = (time_t)v[2];
	if ((rc = row_ints(st, "gauges", SQL_JOBS, v, 2)) != 0)
		goto out;
	g->validations_running = v[0];
	g->validation_oldest = (time_t)v[1];
	if ((rc = row_ints(st, "gauges", SQL_CASES, v, 2)) != 0)
		goto out;
	g->org_cases_open = v[0];
	g->org_case_oldest = (time_t)v[1];
	if ((rc = row_ints(st, "gauges", SQL_BLOCKED, v, 1)) != 0)
		goto out;
	g->blocked_keys = v[0];
out:
	sq_read_end(st);
	return rc;
}

struct deadlines {
	int (*fn)(int64_t, const char *, time_t, void *);
	void *arg;
};

static int
deadline_row(sqlite3_stmt *s, void *arg)
{
	const struct deadlines *d = arg;
	const char *name = col_text(s, 1);

	return d->fn(sqlite3_column_int64(s, 0), name ? name : "",
	    (time_t)sqlite3_column_int64(s, 2), d->arg);
}

int
store_crl_deadlines(struct store *st,
    int (*fn)(int64_t issuer_id, const char *name, time_t next_update,
	void *arg), void *arg)
{
	struct deadlines d = {fn, arg};
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || fn == NULL)
		return RC_INVAL;
	if ((rc = sq_prep(st, SQL_CRLS, &s)) != 0)
		return rc;
	rc = sq_each_row(st, "crl_deadlines", s, deadline_row, &d);
	sq_put(st, s);
	return rc;
}
