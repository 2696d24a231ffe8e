/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend's organisation validation cases (migration 0007): the
 * cases of the back office, the evidence of their checklist steps, the
 * lookup of a customer's reusable validated organisation, the link from
 * an order to the organisation its subject comes from, and a case's
 * conversation with its customer: the messages (0028) and the documents
 * sent with the answers (0026). The state machine is
 * src/ra/orgval.c's; here every state change is a conditional update, so
 * two agents (or two instances) never both move one case. Runs in whichever
 * process holds the handle; every argument is checked before any SQL.
 */
#include "store/store.h"
#include "store/store_sqlite_int.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <stdlib.h>
#include <string.h>

#define CASE_COLS "id, order_id, customer_id, profile, product, state, " \
	"approvals_required, assigned_to, first_approver, second_approver, " \
	"org_id, reused, info_request, info_response, reject_reason, "     \
	"created_at, updated_at, decided_at, info_response_at"

static const char SQL_CASE_ADD[] = "INSERT INTO org_cases (order_id, "
	"customer_id, profile, product, state, approvals_required, "
	"assigned_to, first_approver, second_approver, org_id, reused, "
	"info_request, info_response, reject_reason, created_at, updated_at, "
	"decided_at, info_response_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
	"?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?15, ?16, ?17)";
static const char SQL_CASE_GET[] = "SELECT " CASE_COLS " FROM org_cases "
	"WHERE id = ?1";
static const char SQL_CASE_BY_ORDER[] = "SELECT " CASE_COLS
	" FROM org_cases WHERE order_id = ?1";
static const char SQL_CASE_SET[] = "UPDATE org_cases SET state = ?2, "
	"assigned_to = ?3, first_approver = ?4, second_approver = ?5, "
	"org_id = ?6, info_request = ?7, info_response = ?8, "
	"reject_reason = ?9, decided_at = ?10, updated_at = ?11, "
	"info_response_at = ?13 WHERE id = ?1 AND state = ?12";
static const char SQL_CASE_EXISTS[] = "SELECT 1 FROM org_cases WHERE id = ?1";
static const char SQL_CASE_IDS[] = "SELECT id FROM org_cases "
	"WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR profile = ?2) "
	"AND (?3 = 0 OR customer_id = ?3) ORDER BY created_at, id";
static const char SQL_CHECK_ADD[] = "INSERT INTO org_case_checks (case_id, "
	"step, evidence, satisfied, agent_id, recorded_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_CHECK_LIST[] = "SELECT id, case_id, step, evidence, "
	"satisfied, agent_id, recorded_at FROM org_case_checks "
	"WHERE case_id = ?1 ORDER BY id";
/*
 * A validated organisation is found by what the new order's customer
 * typed: the legal name and country the register gave (organisations.*),
 * or those typed into an order the organisation was approved for (a
 * customer types "Demo GmbH" where the register says "Demo Handels GmbH",
 * and types it again when renewing). Names compare folded
 * (certdesk_fold: case and runs of white space), countries upper-cased.
 * A staff rejection has decided_at; one without (its order expired,
 * ra_org_case_expire) is no finding about the organisation. A rejection
 * counts for every name the organisation is known by: the one typed now,
 * the registered one, and those it was approved for.
 */
static const char SQL_ORG_FIND[] = "SELECT id FROM organizations "
	"WHERE customer_id = ?1 AND validated = 1 AND validated_at >= ?2 "
	"AND (?3 = 0 OR ev_validated = 1) "
	"AND ((upper(country) = upper(trim(?4)) "
	"AND certdesk_fold(legal_name) = certdesk_fold(?5)) "
	"OR EXISTS (SELECT 1 FROM org_cases a JOIN orders ao ON "
	"ao.id = a.order_id WHERE a.org_id = organizations.id "
	"AND a.state = 'approved' "
	"AND upper(trim(json_extract(ao.details, '$.org.country'))) = "
	"upper(trim(?4)) "
	"AND certdesk_fold(json_extract(ao.details, '$.org.legal_name')) = "
	"certdesk_fold(?5))) "
	"AND NOT EXISTS (SELECT 1 FROM org_cases c "
	"JOIN orders o ON o.id = c.order_id WHERE c.customer_id = ?1 "
	"AND c.state = 'rejected' AND c.decided_at IS NOT NULL "
	"AND c.decided_at >= organizations.validated_at "
	"AND upper(trim(json_extract(o.details, '$.org.country'))) = "
	"upper(trim(?4)) "
	"AND (certdesk_fold(json_extract(o.details, '$.org.legal_name')) IN "
	"(certdesk_fold(?5), certdesk_fold(organizations.legal_name)) "
	"OR EXISTS (SELECT 1 FROM org_cases b JOIN orders bo ON "
	"bo.id = b.order_id WHERE b.org_id = organizations.id "
	"AND b.state = 'approved' "
	"AND certdesk_fold(json_extract(bo.details, '$.org.legal_name')) = "
	"certdesk_fold(json_extract(o.details, '$.org.legal_name'))))) "
	"ORDER BY validated_at DESC, id DESC LIMIT 1";
static const char SQL_ORDER_SET_ORG[] = "UPDATE orders SET org_id = ?2 "
	"WHERE id = ?1";

static const char *const states[] = {"open", "in_review", "info_requested",
	"awaiting_second_approval", "approved", "rejected", NULL};
static const char *const steps[] = {"legal_existence", "address",
	"domain_registrant", "telephone", "ev_jurisdiction",
	"ev_business_category", "ev_registration", NULL};
static const char *const profiles[] = {"ov", "ev", NULL};

/* The fields every write of a case checks. */
static int
case_ok(const char *what, const struct store_org_case *c)
{
	int rc;

	if ((rc = sq_check_enum(what, "state", c->state, states)) != 0 ||
	    (rc = sq_check_id(what, "assigned_to", c->assigned_to, 1)) != 0 ||
	    (rc = sq_check_id(what, "first_approver", c->first_approver, 1)) !=
	    0 ||
	    (rc = sq_check_id(what, "second_approver", c->second_approver,
	    1)) != 0 ||
	    (rc = sq_check_id(what, "org_id", c->org_id, 1)) != 0 ||
	    (rc = sq_check_text(what, "info_request", c->info_request,
	    STORE_MAX_TEXT * 4, SQ_NULL_OK | SQ_MULTI)) != 0 ||
	    (rc = sq_check_text(what, "info_response", c->info_response,
	    STORE_MAX_TEXT * 4, SQ_NULL_OK | SQ_MULTI)) != 0 ||
	    (rc = sq_check_text(what, "reject_reason", c->reject_reason,
	    STORE_MAX_TEXT, SQ_NULL_OK | SQ_MULTI)) != 0)
		return rc;
	if (c->second_approver != 0 && c->second_approver ==
	    c->first_approver) {
		log_warn(LOG_STORE, "%s: the same approver twice", what);
		return RC_INVAL;
	}
	if (strcmp(c->state, "approved") == 0 && c->org_id == 0) {
		log_warn(LOG_STORE, "%s: approved without organisation", what);
		return RC_INVAL;
	}
	if (c->decided_at < 0) {
		log_warn(LOG_STORE, "%s: negative decided_at", what);
		return RC_INVAL;
	}
	/* a time of an answer there is not would be shown as one */
	if (c->info_response_at < 0 || (c->info_response_at != 0 &&
	    c->info_response == NULL)) {
		log_warn(LOG_STORE, "%s: info_response_at without an answer",
		    what);
		return RC_INVAL;
	}
	return 0;
}

int
store_org_case_add(struct store *st, const struct store_org_case *c,
    int64_t *id)
{
	static const char what[] = "org_case_add";
	sqlite3_stmt *s = NULL;
	time_t t;
	int rc;

	if (st == NULL || c == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "order", c->order_id, 0)) != 0 ||
	    (rc = sq_check_id(what, "customer", c->customer_id, 0)) != 0 ||
	    (rc = sq_check_enum(what, "profile", c->profile, profiles)) != 0 ||
	    (rc = sq_check_text(what, "product", c->product, 32, 0)) != 0 ||
	    (rc = case_ok(what, c)) != 0)
		return rc;
	if (c->approvals_required != 1 && c->approvals_required != 2) {
		log_warn(LOG_STORE, "%s: approvals_required %d", what,
		    c->approvals_required);
		return RC_INVAL;
	}
	if (c->created_at < 0)
		return RC_INVAL;
	t = c->created_at ? c->created_at : time(NULL);
	rc = sq_prep(st, SQL_CASE_ADD, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, c->order_id);
	sqlite3_bind_int64(s, 2, c->customer_id);
	sq_bind_text(s, 3, c->profile);
	sq_bind_text(s, 4, c->product);
	sq_bind_text(s, 5, c->state);
	sqlite3_bind_int(s, 6, c->approvals_required);
	sq_bind_ref(s, 7, c->assigned_to);
	sq_bind_ref(s, 8, c->first_approver);
	sq_bind_ref(s, 9, c->second_approver);
	sq_bind_ref(s, 10, c->org_id);
	sqlite3_bind_int(s, 11, c->reused ? 1 : 0);
	sq_bind_text(s, 12, c->info_request);
	sq_bind_text(s, 13, c->info_response);
	sq_bind_text(s, 14, c->reject_reason);
	sqlite3_bind_int64(s, 15, (sqlite3_int64)t);
	sq_bind_time(s, 16, c->decided_at);
	sq_bind_time(s, 17, c->info_response_at);
	rc = sq_insert_id(st, what, s, id);
	sq_put(st, s);
	return rc;
}

static int
case_row(sqlite3_stmt *s, void *arg)
{
	struct store_org_case *c = arg;

	c->id = sqlite3_column_int64(s, 0);
	c->order_id = sqlite3_column_int64(s, 1);
	c->customer_id = sqlite3_column_int64(s, 2);
	c->profile = sq_col_dup(s, 3);
	c->product = sq_col_dup(s, 4);
	c->state = sq_col_dup(s, 5);
	c->approvals_required = sqlite3_column_int(s, 6);
	c->assigned_to = sqlite3_column_int64(s, 7);
	c->first_approver = sqlite3_column_int64(s, 8);
	c->second_approver = sqlite3_column_int64(s, 9);
	c->org_id = sqlite3_column_int64(s, 10);
	c->reused = sqlite3_column_int(s, 11);
	c->info_request = sq_col_dup(s, 12);
	c->info_response = sq_col_dup(s, 13);
	c->reject_reason = sq_col_dup(s, 14);
	c->created_at = (time_t)sqlite3_column_int64(s, 15);
	c->updated_at = (time_t)sqlite3_column_int64(s, 16);
	c->decided_at = (time_t)sqlite3_column_int64(s, 17);
	c->info_response_at = (time_t)sqlite3_column_int64(s, 18);
	if (c->profile == NULL)
		c->profile = xstrdup("");
	if (c->product == NULL)
		c->product = xstrdup("");
	if (c->state == NULL)
		c->state = xstrdup("");
	return 1;	/* one row: stop */
}

static int
case_one(struct store *st, const char *sql, int64_t key,
    struct store_org_case *out)
{
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	rc = sq_each_row_id(st, "org_case_get", sql, key, case_row, out);
	if (rc == 1)
		return 0;
	if (rc == 0)
		rc = RC_NOTFOUND;
	store_org_case_clear(out);
	return rc;
}

int
store_org_case_get(struct store *st, int64_t id, struct store_org_case *out)
{
	return case_one(st, SQL_CASE_GET, id, out);
}

int
store_org_case_by_order(struct store *st, int64_t order_id,
    struct store_org_case *out)
{
	return case_one(st, SQL_CASE_BY_ORDER, order_id, out);
}

void
store_org_case_clear(struct store_org_case *c)
{
	if (c == NULL)
		return;
	free(c->profile);
	free(c->product);
	free(c->state);
	free(c->info_request);
	free(c->info_response);
	free(c->reject_reason);
	memset(c, 0, sizeof(*c));
}

static int
exists_row(sqlite3_stmt *s, void *arg)
{
	(void)s;
	*(int *)arg = 1;
	return 0;
}

int
store_org_case_set(struct store *st, const struct store_org_case *c,
    const char *from, time_t when)
{
	static const char what[] = "org_case_set";
	sqlite3_stmt *s = NULL;
	int rc, found = 0;

	if (st == NULL || c == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "case", c->id, 0)) != 0 ||
	    (rc = sq_check_enum(what, "from", from, states)) != 0 ||
	    (rc = case_ok(what, c)) != 0)
		return rc;
	if (when <= 0)
		when = time(NULL);
	rc = sq_prep(st, SQL_CASE_SET, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, c->id);
	sq_bind_text(s, 2, c->state);
	sq_bind_ref(s, 3, c->assigned_to);
	sq_bind_ref(s, 4, c->first_approver);
	sq_bind_ref(s, 5, c->second_approver);
	sq_bind_ref(s, 6, c->org_id);
	sq_bind_text(s, 7, c->info_request);
	sq_bind_text(s, 8, c->info_response);
	sq_bind_text(s, 9, c->reject_reason);
	sq_bind_time(s, 10, c->decided_at);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)when);
	sq_bind_text(s, 12, from);
	sq_bind_time(s, 13, c->info_response_at);
	rc = sq_step_done(st, what, s);
	sq_put(st, s);
	if (rc != 0 || sqlite3_changes(st->db) > 0)
		return rc;
	rc = sq_each_row_id(st, what, SQL_CASE_EXISTS, c->id, exists_row,
	    &found);
	if (rc != 0)
		return rc;
	return found ? RC_STATE : RC_NOTFOUND;
}

int
store_org_case_ids(struct store *st, const char *state, const char *profile,
    int64_t customer_id, int64_t **ids, size_t *n)
{
	static const char what[] = "org_case_ids";
	struct sq_ids v = {NULL, 0, 0};
	sqlite3_stmt *s = NULL;
	int rc;

	if (ids != NULL)
		*ids = NULL;
	if (n != NULL)
		*n = 0;
	if (st == NULL || ids == NULL || n == NULL || customer_id < 0)
		return RC_INVAL;
	if ((state != NULL &&
	    (rc = sq_check_enum(what, "state", state, states)) != 0) ||
	    (profile != NULL &&
	    (rc = sq_check_enum(what, "profile", profile, profiles)) != 0))
		return rc;
	rc = sq_prep(st, SQL_CASE_IDS, &s);
	if (rc != 0)
		return rc;
	sq_bind_text(s, 1, state);
	sq_bind_text(s, 2, profile);
	sqlite3_bind_int64(s, 3, customer_id);
	rc = sq_each_row(st, what, s, sq_id_row, &v);
	sq_put(st, s);
	if (rc != 0) {
		free(v.v);
		return rc;
	}
	*ids = v.v;
	*n = v.n;
	return 0;
}

int
store_org_check_add(struct store *st, const struct store_org_check *k,
    int64_t *id)
{
	static const char what[] = "org_check_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || k == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "case", k->case_id, 0)) != 0 ||
	    (rc = sq_check_id(what, "agent", k->agent_id, 0)) != 0 ||
	    (rc = sq_check_enum(what, "step", k->step, steps)) != 0 ||
	    (rc = sq_check_text(what, "evidence", k->evidence, STORE_MAX_JSON,
	    SQ_MULTI)) != 0)
		return rc;
	if (k->recorded_at < 0)
		return RC_INVAL;
	rc = sq_prep(st, SQL_CHECK_ADD, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, k->case_id);
	sq_bind_text(s, 2, k->step);
	sq_bind_text(s, 3, k->evidence);
	sqlite3_bind_int(s, 4, k->satisfied ? 1 : 0);
	sqlite3_bind_int64(s, 5, k->agent_id);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)(k->recorded_at ?
	    k->recorded_at : time(NULL)));
	rc = sq_insert_id(st, what, s, id);
	sq_put(st, s);
	return rc;
}

struct check_ctx {
	int (*cb)(const struct store_org_check *, void *);
	void *arg;
};

static int
check_row(sqlite3_stmt *s, void *arg)
{
	struct check_ctx *x = arg;
	struct store_org_check k;

	k.id = sqlite3_column_int64(s, 0);
	k.case_id = sqlite3_column_int64(s, 1);
	k.step = (const char *)sqlite3_column_text(s, 2);
	k.evidence = (const char *)sqlite3_column_text(s, 3);
	k.satisfied = sqlite3_column_int(s, 4);
	k.agent_id = sqlite3_column_int64(s, 5);
	k.recorded_at = (time_t)sqlite3_column_int64(s, 6);
	if (k.step == NULL)
		k.step = "";
	if (k.evidence == NULL)
		k.evidence = "{}";
	return x->cb(&k, x->arg);
}

int
store_org_check_list(struct store *st, int64_t case_id,
    int (*cb)(const struct store_org_check *, void *), void *arg)
{
	struct check_ctx x = {cb, arg};

	if (st == NULL || cb == NULL)
		return RC_INVAL;
	return sq_each_row_id(st, "org_check_list", SQL_CHECK_LIST, case_id,
	    check_row, &x);
}

void
sq_fold(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *in = sqlite3_value_text(argv[0]);
	int n = sqlite3_value_bytes(argv[0]), k = 0, space = 0;
	char *out;

	(void)argc;
	if (in == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	out = sqlite3_malloc(n + 1);
	if (out == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	for (int i = 0; i < n; i++) {
		unsigned char ch = in[i];

		if (ch == ' ' || (ch >= '\t' && ch <= '\r')) {
			space = k > 0;
			continue;
		}
		if (space)
			out[k++] = ' ';
		space = 0;
		out[k++] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	sqlite3_result_text(ctx, out, k, sqlite3_free);
}

static int
first_id(sqlite3_stmt *s, void *arg)
{
	*(int64_t *)arg = sqlite3_column_int64(s, 0);
	return 1;
}

int
store_org_find_valid(struct store *st, int64_t customer_id,
    const char *legal_name, const char *country, int ev, time_t since,
    int64_t *id)
{
	static const char what[] = "org_find_valid";
	sqlite3_stmt *s = NULL;
	int64_t found = 0;
	int rc;

	if (id != NULL)
		*id = 0;
	if (st == NULL || id == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "customer", customer_id, 0)) != 0 ||
	    (rc = sq_check_text(what, "legal_name", legal_name, STORE_MAX_TEXT,
	    0)) != 0 ||
	    (rc = sq_check_text(what, "country", country, 2, 0)) != 0)
		return rc;
	rc = sq_prep(st, SQL_ORG_FIND, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, customer_id);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)since);
	sqlite3_bind_int(s, 3, ev ? 1 : 0);
	sq_bind_text(s, 4, country);
	sq_bind_text(s, 5, legal_name);
	rc = sq_each_row(st, what, s, first_id, &found);
	sq_put(st, s);
	if (rc == 1) {
		*id = found;
		return 0;
	}
	return rc == 0 ? RC_NOTFOUND : rc;
}

int
store_order_set_org(struct store *st, int64_t order_id, int64_t org_id)
{
	static const char what[] = "order_set_org";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "order", order_id, 0)) != 0 ||
	    (rc = sq_check_id(what, "org", org_id, 1)) != 0)
		return rc;
	rc = sq_prep(st, SQL_ORDER_SET_ORG, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, order_id);
	sq_bind_ref(s, 2, org_id);
	rc = sq_step_changed(st, what, s, RC_NOTFOUND);
	sq_put(st, s);
	return rc;
}

/* ---- the conversation of a case (0028) ---------------------------------- */

static const char SQL_MSG_ADD[] = "INSERT INTO org_case_messages (case_id, "
	"kind, body, author_id, sent_at) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_MSG_LIST[] = "SELECT id, case_id, kind, body, "
	"author_id, sent_at FROM org_case_messages WHERE case_id = ?1 "
	"ORDER BY id";

static const char *const msg_kinds[] = {STORE_ORG_MSG_REQUEST,
	STORE_ORG_MSG_RESPONSE, NULL};

int
store_org_msg_add(struct store *st, const struct store_org_msg *m,
    int64_t *id)
{
	static const char what[] = "org_msg_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || m == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "case", m->case_id, 0)) != 0 ||
	    (rc = sq_check_id(what, "author", m->author_id, 0)) != 0 ||
	    (rc = sq_check_enum(what, "kind", m->kind, msg_kinds)) != 0 ||
	    (rc = sq_check_text(what, "body", m->body, STORE_MAX_TEXT * 4,
	    SQ_MULTI)) != 0)
		return rc;
	if (m->sent_at < 0) {
		log_warn(LOG_STORE, "%s: negative sent_at", what);
		return RC_INVAL;
	}
	rc = sq_prep(st, SQL_MSG_ADD, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, m->case_id);
	sq_bind_text(s, 2, m->kind);
	sq_bind_text(s, 3, m->body);
	sqlite3_bind_int64(s, 4, m->author_id);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)(m->sent_at ? m->sent_at :
	    time(NULL)));
	rc = sq_insert_id(st, what, s, id);
	sq_put(st, s);
	if (rc == RC_INVAL)
		rc = RC_NOTFOUND;	/* a reference: no such case or user */
	return rc;
}

struct msg_ctx {
	int (*cb)(const struct store_org_msg *, void *);
	void *arg;
	int rc;
};

static int
msg_row(sqlite3_stmt *s, void *arg)
{
	struct msg_ctx *x = arg;
	struct store_org_msg m;

	memset(&m, 0, sizeof(m));
	m.id = sqlite3_column_int64(s, 0);
	m.case_id = sqlite3_column_int64(s, 1);
	m.kind = (const char *)sqlite3_column_text(s, 2);
	m.body = (const char *)sqlite3_column_text(s, 3);
	m.author_id = sqlite3_column_int64(s, 4);
	m.sent_at = (time_t)sqlite3_column_int64(s, 5);
	if (m.kind == NULL)
		m.kind = "";
	if (m.body == NULL)
		m.body = "";
	x->rc = x->cb(&m, x->arg);
	return x->rc;
}

int
store_org_msg_list(struct store *st, int64_t case_id,
    int (*cb)(const struct store_org_msg *, void *), void *arg)
{
	struct msg_ctx x = {cb, arg, 0};
	int rc;

	if (st == NULL || cb == NULL)
		return RC_INVAL;
	rc = sq_each_row_id(st, "org_msg_list", SQL_MSG_LIST, case_id,
	    msg_row, &x);
	return rc != 0 ? rc : x.rc;
}

/* ---- documents of a case (0026) ---------------------------------------- */

static const char SQL_DOC_ADD[] = "INSERT INTO org_case_documents (case_id, "
	"content_type, size, sha256, label, content, uploaded_by, "
	"uploaded_at, message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
/* the answer a document goes with: one of its case */
static const char SQL_DOC_ANSWER[] = "SELECT 1 FROM org_case_messages "
	"WHERE id = ?1 AND case_id = ?2 AND kind = 'response'";
static const char SQL_DOC_LIST[] = "SELECT id, case_id, content_type, "
	"size, sha256, label, uploaded_by, uploaded_at, NULL, message_id "
	"FROM org_case_documents WHERE case_id = ?1 ORDER BY id";
static const char SQL_DOC_GET[] = "SELECT id, case_id, content_type, "
	"size, sha256, label, uploaded_by, uploaded_at, content, message_id "
	"FROM org_case_documents WHERE id = ?1 AND case_id = ?2";

static const char *const doc_types[] = {"application/pdf", "image/png",
	"image/jpeg", NULL};

int
store_org_doc_add(struct store *st, const struct store_org_doc *d,
    int64_t *id)
{
	static const char what[] = "org_doc_add";
	sqlite3_stmt *s = NULL;
	int64_t answer = 0;
	int rc;

	if (st == NULL || d == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "case", d->case_id, 0)) != 0 ||
	    (rc = sq_check_id(what, "uploaded_by", d->uploaded_by, 0)) != 0 ||
	    (rc = sq_check_id(what, "message", d->message_id, 0)) != 0 ||
	    (rc = sq_check_enum(what, "content_type", d->content_type,
	    doc_types)) != 0 ||
	    (rc = sq_check_text(what, "label", d->label,
	    STORE_ORG_DOC_LABEL_MAX, 0)) != 0)
		return rc;
	if (d->data == NULL || d->size == 0 || d->size > INT32_MAX ||
	    d->uploaded_at < 0) {
		log_warn(LOG_STORE, "%s: no data, too much, or a bad time",
		    what);
		return RC_INVAL;
	}
	/* a document of one case under another's answer would be shown to
	 * whoever sees that one */
	rc = sq_prep(st, SQL_DOC_ANSWER, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, d->message_id);
	sqlite3_bind_int64(s, 2, d->case_id);
	rc = sq_each_row(st, what, s, first_id, &answer);
	sq_put(st, s);
	s = NULL;
	if (rc < 0)
		return rc;
	if (answer == 0) {
		log_warn(LOG_STORE, "%s: message %lld is no answer of case "
		    "%lld", what, (long long)d->message_id,
		    (long long)d->case_id);
		return RC_NOTFOUND;
	}
	rc = sq_prep(st, SQL_DOC_ADD, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, d->case_id);
	sq_bind_text(s, 2, d->content_type);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)d->size);
	sq_bind_blob(s, 4, d->sha256, sizeof(d->sha256));
	sq_bind_text(s, 5, d->label);
	sq_bind_blob(s, 6, d->data, d->size);
	sqlite3_bind_int64(s, 7, d->uploaded_by);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)(d->uploaded_at ?
	    d->uploaded_at : time(NULL)));
	sqlite3_bind_int64(s, 9, d->message_id);
	rc = sq_insert_id(st, what, s, id);
	sq_put(st, s);
	if (rc == RC_INVAL)
		rc = RC_NOTFOUND;	/* a reference: no such case or user */
	return rc;
}

struct doc_ctx {
	int (*cb)(const struct store_org_doc *, void *);
	void *arg;
	int rc;
	int found;
};

static int
doc_row(sqlite3_stmt *s, void *arg)
{
	struct doc_ctx *x = arg;
	struct store_org_doc d;
	const void *h = sqlite3_column_blob(s, 4);

	memset(&d, 0, sizeof(d));
	d.id = sqlite3_column_int64(s, 0);
	d.case_id = sqlite3_column_int64(s, 1);
	d.content_type = (const char *)sqlite3_column_text(s, 2);
	d.size = (size_t)sqlite3_column_int64(s, 3);
	if (h != NULL && sqlite3_column_bytes(s, 4) == 32)
		memcpy(d.sha256, h, 32);
	d.label = (const char *)sqlite3_column_text(s, 5);
	d.uploaded_by = sqlite3_column_int64(s, 6);
	d.uploaded_at = (time_t)sqlite3_column_int64(s, 7);
	d.message_id = sqlite3_column_int64(s, 9);
	if (sqlite3_column_type(s, 8) == SQLITE_BLOB) {
		d.data = sqlite3_column_blob(s, 8);
		d.size = (size_t)sqlite3_column_bytes(s, 8);
	}
	if (d.content_type == NULL)
		d.content_type = "";
	if (d.label == NULL)
		d.label = "";
	x->found = 1;
	x->rc = x->cb(&d, x->arg);
	return x->rc;
}

int
store_org_doc_list(struct store *st, int64_t case_id,
    int (*cb)(const struct store_org_doc *, void *), void *arg)
{
	struct doc_ctx x = {cb, arg, 0, 0};
	int rc;

	if (st == NULL || cb == NULL)
		return RC_INVAL;
	rc = sq_each_row_id(st, "org_doc_list", SQL_DOC_LIST, case_id,
	    doc_row, &x);
	return rc != 0 ? rc : x.rc;
}

int
store_org_doc_get(struct store *st, int64_t case_id, int64_t id,
    int (*cb)(const struct store_org_doc *, void *), void *arg)
{
	static const char what[] = "org_doc_get";
	struct doc_ctx x = {cb, arg, 0, 0};
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || cb == NULL)
		return RC_INVAL;
	if (id <= 0 || case_id <= 0)
		return RC_NOTFOUND;
	rc = sq_prep(st, SQL_DOC_GET, &s);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, case_id);
	rc = sq_each_row(st, what, s, doc_row, &x);
	sq_put(st, s);
	if (rc == 0 && !x.found)
		return RC_NOTFOUND;
	return rc != 0 ? rc : x.rc;
}
