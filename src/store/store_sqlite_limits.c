/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend's ACME rate limits (migration 0014): GCRA buckets and
 * the issued sets of names. The ra decides what counts; this file keeps the
 * numbers. A bucket of count per period keeps one time, tat: each request
 * that counts moves it on by period / count (from now, if it lies in the
 * past), and a request fits while tat is less than a period ahead of now.
 * So a full bucket takes count requests at once and then one per
 * period / count, as Boulder's limits do.
 */
#include "store/store.h"
#include "store/store_sqlite_int.h"
#include "util/log.h"
#include "util/rc.h"

#include <string.h>

static const char SQL_RL_GET[] = "SELECT tat FROM rate_limits WHERE key = ?1";
static const char SQL_RL_PUT[] = "INSERT INTO rate_limits (key, tat) "
	"VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET tat = excluded.tat";
static const char SQL_RL_GC[] = "DELETE FROM rate_limits WHERE tat < ?1";
static const char SQL_SET_ADD[] = "INSERT OR IGNORE INTO issued_sets "
	"(hash, issued_at, serial) VALUES (?1, ?2, ?3)";
static const char SQL_SET_NEWEST[] = "SELECT issued_at FROM issued_sets "
	"WHERE hash = ?1 ORDER BY issued_at DESC LIMIT ?2";

int
store_rl_take(struct store *st, const char *key, int count,
    int64_t period_ms, int64_t now_ms, int spend, int64_t *retry_ms)
{
	static const char what[] = "rl_take";
	sqlite3_stmt *s = NULL;
	int64_t tat = now_ms, step, ahead, next;
	int rc;

	if (retry_ms != NULL)
		*retry_ms = 0;
	if (st == NULL || count <= 0 || period_ms <= 0 || now_ms < 0 ||
	    sq_check_text(what, "key", key, STORE_MAX_TEXT, 0) != 0)
		return RC_INVAL;
	if ((rc = sq_prep(st, SQL_RL_GET, &s)) != 0)
		return rc;
	sq_bind_text(s, 1, key);
	rc = sq_step_int64(st, what, s, &tat);	/* no row: a full bucket */
	sq_put(st, s);
	if (rc != 0 && rc != RC_NOTFOUND)
		return rc;
	if (tat < now_ms)
		tat = now_ms;
	/* the step rounded up (never more than count in a period), and a
	 * burst of exactly count: fits while tat is at most count - 1 steps
	 * ahead */
	step = (period_ms + count - 1) / count;
	ahead = step * (count - 1);
	if (tat - now_ms > ahead) {
		if (retry_ms != NULL)
			*retry_ms = tat - now_ms - ahead;
		return RC_POLICY;
	}
	next = tat + step;
	if (!spend)
		return 0;
	if ((rc = sq_prep(st, SQL_RL_PUT, &s)) != 0)
		return rc;
	sq_bind_text(s, 1, key);
	sqlite3_bind_int64(s, 2, next);
	rc = sq_step_done(st, what, s);
	sq_put(st, s);
	return rc;
}

int
store_rl_gc(struct store *st, int64_t now_ms, int64_t *n)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (n != NULL)
		*n = 0;
	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_prep(st, SQL_RL_GC, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, now_ms);
	rc = sq_step_done(st, "rl_gc", s);
	sq_put(st, s);
	if (rc == 0 && n != NULL)
		*n = sqlite3_changes(st->db);
	return rc;
}

int
store_issued_set_add(struct store *st, const uint8_t hash[32],
    time_t issued_at, const char *serial)
{
	static const char what[] = "issued_set_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || hash == NULL || issued_at <= 0 ||
	    sq_check_serial(what, serial) != 0)
		return RC_INVAL;
	if ((rc = sq_prep(st, SQL_SET_ADD, &s)) != 0)
		return rc;
	sq_bind_blob(s, 1, hash, 32);
	sq_bind_time(s, 2, issued_at);
	sq_bind_text(s, 3, serial);
	rc = sq_step_done(st, what, s);
	sq_put(st, s);
	return rc;
}

int
store_issued_set_count(struct store *st, const uint8_t hash[32],
    time_t since, int max, int *recent, int *ever, time_t *oldest)
{
	static const char what[] = "issued_set_count";
	sqlite3_stmt *s = NULL;
	int rc;

	if (recent != NULL)
		*recent = 0;
	if (ever != NULL)
		*ever = 0;
	if (oldest != NULL)
		*oldest = 0;
	if (st == NULL || hash == NULL || recent == NULL || ever == NULL ||
	    oldest == NULL || max <= 0)
		return RC_INVAL;
	/* the newest max of the set, one statement: any at all, and those
	 * in the window */
	if ((rc = sq_prep(st, SQL_SET_NEWEST, &s)) != 0)
		return rc;
	sq_bind_blob(s, 1, hash, 32);
	sqlite3_bind_int(s, 2, max);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		time_t at = (time_t)sqlite3_column_int64(s, 0);

		*ever = 1;
		if (at >= since) {
			(*recent)++;
			*oldest = at;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : sq_dberr(st, what, rc);
	sq_put(st, s);
	return rc;
}
