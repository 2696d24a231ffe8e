/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend's listing of the mail outbox (migrations 0005, 0009)
 * for the admin's "Outgoing mail" page: pages of mail newest first, and
 * one mail by id. Reads only; the outbox is written by store_sqlite.c
 * (queue, sent, failed, bounced). Runs in whichever process holds the
 * handle; the ids come from requests and are checked here.
 */
#include "store/store.h"
#include "store/store_sqlite_int.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <stdlib.h>
#include <string.h>

#define MAILQ_COLS "id, to_addr, subject, body, kind, ref, last_error, " \
	"created_at, next_try_at, attempts, sent_at, bounced_at"

static const char SQL_PAGE[] = "SELECT " MAILQ_COLS " FROM mail_outbox "
	"WHERE ?1 = 0 OR id < ?1 ORDER BY id DESC LIMIT ?2";
static const char SQL_GET[] = "SELECT " MAILQ_COLS " FROM mail_outbox "
	"WHERE id = ?1";

struct rows {
	struct store_mail *v;
	size_t n, cap;
};

void
sq_mail_cols(sqlite3_stmt *s, struct store_mail *m)
{
	m->id = sqlite3_column_int64(s, 0);
	m->to_addr = sq_col_dup(s, 1);
	m->subject = sq_col_dup(s, 2);
	m->body = sq_col_dup(s, 3);
	m->kind = sq_col_dup(s, 4);
	m->ref = sq_col_dup(s, 5);
	m->last_error = sq_col_dup(s, 6);
	m->created_at = (time_t)sqlite3_column_int64(s, 7);
	m->next_try_at = (time_t)sqlite3_column_int64(s, 8);
	m->attempts = sqlite3_column_int(s, 9);
}

static int
row(sqlite3_stmt *s, void *arg)
{
	struct rows *r = arg;
	struct store_mail *m;

	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	m = &r->v[r->n++];
	memset(m, 0, sizeof(*m));
	sq_mail_cols(s, m);
	m->sent_at = (time_t)sqlite3_column_int64(s, 10);	/* NULL: 0 */
	m->bounced_at = (time_t)sqlite3_column_int64(s, 11);	/* NULL: 0 */
	if (m->to_addr == NULL)
		m->to_addr = xstrdup("");
	if (m->subject == NULL)
		m->subject = xstrdup("");
	if (m->body == NULL)
		m->body = xstrdup("");
	return 0;
}

int
store_mail_page(struct store *st, int64_t before_id, size_t max,
    struct store_mail **out, size_t *n)
{
	struct rows r = {NULL, 0, 0};
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (st == NULL || out == NULL || n == NULL || before_id < 0 ||
	    max == 0 || max > STORE_MAIL_PAGE_MAX)
		return RC_INVAL;
	rc = sq_prep(st, SQL_PAGE, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)before_id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	rc = sq_each_row(st, "mail_page", s, row, &r);
	sq_put(st, s);
	if (rc != 0) {
		store_mail_list_free(r.v, r.n);
		return rc;
	}
	*out = r.v;
	*n = r.n;
	return 0;
}

int
store_mail_get(struct store *st, int64_t id, struct store_mail **out)
{
	struct rows r = {NULL, 0, 0};
	int rc;

	if (out != NULL)
		*out = NULL;
	if (st == NULL || out == NULL)
		return RC_INVAL;
	if (id <= 0)
		return RC_NOTFOUND;
	rc = sq_each_row_id(st, "mail_get", SQL_GET, id, row, &r);
	if (rc == 0 && r.n == 0)
		rc = RC_NOTFOUND;
	if (rc != 0) {
		store_mail_list_free(r.v, r.n);
		return rc;
	}
	*out = r.v;
	return 0;
}
