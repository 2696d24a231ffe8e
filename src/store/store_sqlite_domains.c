/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend's part of a contract's domains over their life: a
 * domain row with its contract and customer, the hosted domains of other
 * customers that overlap a name (a hosted domain is vouched for as one
 * customer's zone, so two customers cannot both hold it), the hosted
 * domains of a contract that hold a name, and what a contract gives up
 * with a domain removed: its pending portal orders for names under it, and
 * its reusable validations of them (portal authorizations and those of
 * its ACME accounts). Runs in whichever thread holds the handle; the ra
 * decides (src/ra/domain.c), this file only reads and writes rows,
 * checking its arguments against the bounds of store.h.
 *
 * Names are compared as stored: normalised lowercase A-labels without a
 * trailing dot. "Under" is a label-boundary suffix, written once below
 * (UNDER) for every statement; no index serves a suffix, so these scan the
 * domains of all contracts (the admin's commands and the start of a
 * validation, not a request path).
 */
#include "store/store.h"
#include "store/store_sqlite_int.h"
#include "util/dnsname.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a is b, or a name below b ("www.example.com" under "example.com") */
#define UNDER(a, b)							\
	"(" a " = " b " OR (length(" a ") > length(" b ") AND substr(" a \
	", length(" a ") - length(" b ")) = '.' || " b "))"

/* What contract ?1 gives up with domain ?2: identifier x under it and not
 * under another of its domains below it. */
#define GIVEN_UP(x)							\
	UNDER(x, "?2") " AND NOT EXISTS (SELECT 1 FROM domains r "	\
	"WHERE r.contract_id = ?1 AND length(r.name) > length(?2) AND "	\
	UNDER("r.name", "?2") " AND " UNDER(x, "r.name") ")"

#define DOMAIN_COLS							\
	"d.id, d.contract_id, k.customer_id, d.name, d.hosted, k.number, " \
	"c.name, d.created_at FROM domains d JOIN contracts k ON k.id = " \
	"d.contract_id JOIN customers c ON c.id = k.customer_id "

static const char SQL_GET[] = "SELECT " DOMAIN_COLS "WHERE d.id = ?1";
static const char SQL_DELETE[] = "DELETE FROM domains WHERE id = ?1";
static const char SQL_HOSTED_OTHER[] = "SELECT " DOMAIN_COLS
	"WHERE d.hosted = 1 AND k.customer_id <> ?1 AND (" UNDER("?2",
	"d.name") " OR " UNDER("d.name", "?2") ") ORDER BY d.id LIMIT 1";
static const char SQL_HOSTED_COVER[] = "SELECT name FROM domains "
	"WHERE contract_id = ?1 AND hosted = 1 AND " UNDER("?2", "name")
	" ORDER BY length(name) DESC, id LIMIT ?3";
static const char SQL_OPEN_ORDERS[] = "SELECT DISTINCT o.id FROM orders o "
	"JOIN order_authz x ON x.order_id = o.id JOIN authorizations a ON "
	"a.id = x.authz_id WHERE o.contract_id = ?1 AND o.slot_id IS NOT "
	"NULL AND o.status = 'pending' AND o.id > ?3 AND a.ident_type = "
	"'dns' AND " GIVEN_UP("a.identifier") " ORDER BY o.id LIMIT ?4";
/* two statements, so that each finds its rows through an index: the
 * contract's orders (portal authorizations belong to the order that made
 * them), and its accounts' authorizations */
static const char SQL_REVOKE_PORTAL[] = "UPDATE authorizations SET "
	"status = 'revoked', updated_at = ?3 WHERE account_id IS NULL AND "
	"order_id IN (SELECT id FROM orders WHERE contract_id = ?1) AND "
	"status = 'valid' AND expires_at > ?3 AND ident_type = 'dns' AND "
	GIVEN_UP("authorizations.identifier") " RETURNING id";
static const char SQL_REVOKE_ACME[] = "UPDATE authorizations SET "
	"status = 'revoked', updated_at = ?3 WHERE account_id IN (SELECT id "
	"FROM acme_accounts WHERE contract_id = ?1) AND status = 'valid' AND "
	"expires_at > ?3 AND ident_type = 'dns' AND "
	GIVEN_UP("authorizations.identifier") " RETURNING id";

static int
domain_row(sqlite3_stmt *s, void *arg)
{
	struct store_domain *d = arg;

	d->id = sqlite3_column_int64(s, 0);
	d->contract_id = sqlite3_column_int64(s, 1);
	d->customer_id = sqlite3_column_int64(s, 2);
	d->name = sq_col_dup(s, 3);
	d->hosted = sqlite3_column_int(s, 4) != 0;
	d->contract_number = sq_col_dup(s, 5);
	d->customer_name = sq_col_dup(s, 6);
	d->created_at = (time_t)sqlite3_column_int64(s, 7);
	return 1;	/* one row */
}

/* Runs s (bound) for at most one domain row into out. */
static int
one_domain(struct store *st, const char *what, sqlite3_stmt *s,
    struct store_domain *out)
{
	int rc = sq_each_row(st, what, s, domain_row, out);

	if (rc == 1)
		return 0;
	store_domain_clear(out);
	return rc == 0 ? RC_NOTFOUND : rc;
}

int
store_domain_get(struct store *st, int64_t id, struct store_domain *out)
{
	static const char what[] = "domain_get";
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "id", id, 0)) != 0)
		return rc;
	if ((rc = sq_prep(st, SQL_GET, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = one_domain(st, what, s, out);
	sq_put(st, s);
	return rc;
}

void
store_domain_clear(struct store_domain *d)
{
	if (d == NULL)
		return;
	free(d->name);
	free(d->contract_number);
	free(d->customer_name);
	memset(d, 0, sizeof(*d));
}

int
store_domain_delete(struct store *st, int64_t id)
{
	static const char what[] = "domain_delete";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "id", id, 0)) != 0)
		return rc;
	if ((rc = sq_prep(st, SQL_DELETE, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sq_step_changed(st, what, s, RC_NOTFOUND);
	sq_put(st, s);
	return rc;
}

int
store_domain_hosted_other(struct store *st, int64_t customer_id,
    const char *name, struct store_domain *out)
{
	static const char what[] = "domain_hosted_other";
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "customer", customer_id, 0)) != 0 ||
	    (rc = sq_check_domain(what, name)) != 0)
		return rc;
	if ((rc = sq_prep(st, SQL_HOSTED_OTHER, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, customer_id);
	sq_bind_text(s, 2, name);
	rc = one_domain(st, what, s, out);
	sq_put(st, s);
	return rc;
}

struct cover {
	char (*out)[STORE_DOMAIN_BUF];
	size_t n;
};

static int
cover_row(sqlite3_stmt *s, void *arg)
{
	struct cover *c = arg;
	const unsigned char *t = sqlite3_column_text(s, 0);

	/* LIMIT: no more rows than out holds */
	snprintf(c->out[c->n++], STORE_DOMAIN_BUF, "%s",
	    t != NULL ? (const char *)t : "");
	return 0;
}

int
store_domain_hosted_cover(struct store *st, int64_t contract_id,
    const char *name, char out[][STORE_DOMAIN_BUF], size_t max, size_t *n)
{
	static const char what[] = "domain_hosted_cover";
	struct cover c = {out, 0};
	sqlite3_stmt *s = NULL;
	int rc;

	if (n != NULL)
		*n = 0;
	if (st == NULL || n == NULL || (out == NULL && max > 0))
		return RC_INVAL;
	if ((rc = sq_check_id(what, "contract", contract_id, 0)) != 0 ||
	    (rc = sq_check_domain(what, name)) != 0)
		return rc;
	if (max == 0)
		return 0;
	if ((rc = sq_prep(st, SQL_HOSTED_COVER, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, contract_id);
	sq_bind_text(s, 2, name);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)max);
	rc = sq_each_row(st, what, s, cover_row, &c);
	sq_put(st, s);
	if (rc == 0)
		*n = c.n;
	return rc;
}

struct idbuf {
	int64_t *ids;
	size_t n;
};

static int
id_into(sqlite3_stmt *s, void *arg)
{
	struct idbuf *b = arg;

	b->ids[b->n++] = sqlite3_column_int64(s, 0);	/* LIMIT: fits */
	return 0;
}

int
store_domain_open_orders(struct store *st, int64_t contract_id,
    const char *name, int64_t after, int64_t *ids, size_t max, size_t *n)
{
	static const char what[] = "domain_open_orders";
	struct idbuf b = {ids, 0};
	sqlite3_stmt *s = NULL;
	int rc;

	if (n != NULL)
		*n = 0;
	if (st == NULL || n == NULL || ids == NULL || max == 0 || after < 0)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "contract", contract_id, 0)) != 0 ||
	    (rc = sq_check_domain(what, name)) != 0)
		return rc;
	if ((rc = sq_prep(st, SQL_OPEN_ORDERS, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, contract_id);
	sq_bind_text(s, 2, name);
	sqlite3_bind_int64(s, 3, after);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)max);
	rc = sq_each_row(st, what, s, id_into, &b);
	sq_put(st, s);
	if (rc == 0)
		*n = b.n;
	return rc;
}

int
store_domain_authz_revoke(struct store *st, int64_t contract_id,
    const char *name, time_t when, int64_t **ids, size_t *n)
{
	static const char what[] = "domain_authz_revoke";
	static const char *const sql[] = {SQL_REVOKE_PORTAL, SQL_REVOKE_ACME};
	struct sq_ids got = {0};
	sqlite3_stmt *s = NULL;
	int rc = 0;

	if (ids != NULL)
		*ids = NULL;
	if (n != NULL)
		*n = 0;
	if (st == NULL || ids == NULL || n == NULL || when <= 0)
		return RC_INVAL;
	if ((rc = sq_check_id(what, "contract", contract_id, 0)) != 0 ||
	    (rc = sq_check_domain(what, name)) != 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < sizeof(sql) / sizeof(sql[0]); i++) {
		if ((rc = sq_prep(st, sql[i], &s)) != 0)
			break;
		sqlite3_bind_int64(s, 1, contract_id);
		sq_bind_text(s, 2, name);
		sqlite3_bind_int64(s, 3, (sqlite3_int64)when);
		rc = sq_each_row(st, what, s, sq_id_row, &got);
		sq_put(st, s);
	}
	if (rc != 0) {
		free(got.v);
		return rc;
	}
	*ids = got.v;
	*n = got.n;
	return 0;
}
