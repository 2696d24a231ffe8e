/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend's revocation status tables (migration 0008): the
 * pre-signed OCSP response of each certificate, the issuance sequence that
 * puts certificates into CRL shards, and the newest CRL of each shard.
 * Writers are the CA (issuance, revocation) and the OCSP worker of `certdesk
 * serve`; readers the OCSP responder (one primary-key lookup per cache
 * miss) and the CRL publisher. Runs in whichever process holds the handle;
 * every argument is checked here before any SQL.
 */
#include "store/store.h"
#include "store/store_sqlite_int.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A "good" response is never stored for a revoked certificate: the OCSP
 * worker may have signed it from a snapshot taken before the revocation
 * committed (see store_ocsp_put). */
static const char SQL_OCSP_PUT[] = "INSERT INTO ocsp_responses (serial, "
	"issuer_id, status, this_update, next_update, der) SELECT ?1, ?2, ?3, "
	"?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM certificates WHERE serial = "
	"?1) AND (?3 <> 0 OR NOT EXISTS (SELECT 1 FROM revocations WHERE "
	"serial = ?1)) ON CONFLICT (serial) DO UPDATE SET "
	"issuer_id = excluded.issuer_id, "
	"status = excluded.status, this_update = excluded.this_update, "
	"next_update = excluded.next_update, der = excluded.der";
static const char SQL_OCSP_GET[] = "SELECT issuer_id, status, this_update, "
	"next_update, der FROM ocsp_responses WHERE serial = ?1";
static const char SQL_OCSP_DUE[] = "SELECT o.serial, c.issuer_id, "
	"c.not_after, r.serial IS NOT NULL, r.reason, r.revoked_at "
	"FROM ocsp_responses o JOIN certificates c ON c.serial = o.serial "
	"LEFT JOIN revocations r ON r.serial = o.serial "
	"WHERE o.this_update <= ?1 AND c.not_after > ?2 "
	"ORDER BY o.this_update LIMIT ?3";
/* revoked certificates whose response still says good (a re-signing at
 * the revocation failed): ?1 unused, bound like the others */
static const char SQL_OCSP_STALE[] = "SELECT o.serial, c.issuer_id, "
	"c.not_after, 1, r.reason, r.revoked_at "
	"FROM revocations r JOIN ocsp_responses o ON o.serial = r.serial "
	"JOIN certificates c ON c.serial = r.serial "
	"WHERE o.status = 0 AND c.not_after > ?2 AND ?1 = ?1 LIMIT ?3";
static const char SQL_OCSP_MISSING[] = "SELECT c.serial, c.issuer_id, "
	"c.not_after, r.serial IS NOT NULL, r.reason, r.revoked_at "
	"FROM certificates c LEFT JOIN revocations r ON r.serial = c.serial "
	"WHERE c.not_after > ?2 AND c.profile <> 'ca' AND NOT EXISTS "
	"(SELECT 1 FROM ocsp_responses o WHERE o.serial = c.serial) "
	"LIMIT ?3";	/* ?1 unused: bound like the other */
static const char SQL_SEQ_GET[] = "SELECT next_seq FROM crl_shard_seq "
	"WHERE issuer_id = ?1";
static const char SQL_SEQ_PUT[] = "INSERT INTO crl_shard_seq (issuer_id, "
	"next_seq) VALUES (?1, ?2) ON CONFLICT (issuer_id) DO UPDATE SET "
	"next_seq = excluded.next_seq";
static const char SQL_SHARD_NEW[] = "INSERT OR IGNORE INTO crl_shards "
	"(issuer_id, shard) VALUES (?1, ?2)";
static const char SQL_CERT_SHARD_SET[] = "UPDATE certificates SET "
	"crl_shard = ?2 WHERE serial = ?1";
static const char SQL_CERT_SHARD_GET[] = "SELECT crl_shard FROM "
	"certificates WHERE serial = ?1";
static const char SQL_REVOKED_SHARD[] = "SELECT r.serial, r.reason, "
	"r.revoked_at FROM certificates c JOIN revocations r ON r.serial = "
	"c.serial WHERE c.issuer_id = ?1 AND c.crl_shard IS ?2 "
	"ORDER BY r.serial";
static const char SQL_SHARD_PUT[] = "INSERT INTO crl_shards (issuer_id, "
	"shard, number, this_update, next_update, der) VALUES (?1, ?2, ?3, ?4, "
	"?5, ?6) ON CONFLICT (issuer_id, shard) DO UPDATE SET number = "
	"excluded.number, this_update = excluded.this_update, next_update = "
	"excluded.next_update, der = excluded.der "
	"WHERE excluded.number > crl_shards.number";
static const char SQL_SHARD_LIST[] = "SELECT issuer_id, shard, number, "
	"this_update, next_update FROM crl_shards WHERE ?1 = 0 OR "
	"issuer_id = ?1 ORDER BY issuer_id, shard";

int
store_ocsp_put(struct store *st, const struct store_ocsp *o)
{
	static const char what[] = "ocsp_put";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || o == NULL || sq_check_serial(what, o->serial) != 0)
		return RC_INVAL;
	if (o->issuer_id <= 0 || (o->status != 0 && o->status != 1) ||
	    o->der == NULL || o->der_len == 0 ||
	    o->der_len > STORE_MAX_OCSP || o->next_update < o->this_update) {
		log_warn(LOG_STORE, "%s: bad issuer, status, dates or DER",
		    what);
		return RC_INVAL;
	}
	if ((rc = sq_prep(st, SQL_OCSP_PUT, &s)) != 0)
		return rc;
	sq_bind_text(s, 1, o->serial);
	sqlite3_bind_int64(s, 2, o->issuer_id);
	sqlite3_bind_int(s, 3, o->status);
	sqlite3_bind_int64(s, 4, (int64_t)o->this_update);
	sqlite3_bind_int64(s, 5, (int64_t)o->next_update);
	sq_bind_blob(s, 6, o->der, o->der_len);
	rc = sq_step_changed(st, what, s, RC_NOTFOUND);
	sq_put(st, s);
	return rc;
}

int
store_ocsp_get(struct store *st, const char *serial, struct store_ocsp *out)
{
	static const char what[] = "ocsp_get";
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (st == NULL || out == NULL || sq_check_serial(what, serial) != 0)
		return RC_INVAL;
	if ((rc = sq_prep(st, SQL_OCSP_GET, &s)) != 0)
		return rc;
	sq_bind_text(s, 1, serial);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(out->serial, sizeof(out->serial), "%s", serial);
		out->issuer_id = sqlite3_column_int64(s, 0);
		out->status = sqlite3_column_int(s, 1);
		out->this_update = (time_t)sqlite3_column_int64(s, 2);
		out->next_update = (time_t)sqlite3_column_int64(s, 3);
		out->der = sq_col_blob_dup(s, 4, &out->der_len);
		rc = out->der != NULL ? 0 : RC_DB;
	} else if (rc == SQLITE_DONE) {
		rc = RC_NOTFOUND;
	} else {
		rc = sq_dberr(st, what, rc);
	}
	sq_put(st, s);
	return rc;
}

void
store_ocsp_clear(struct store_ocsp *o)
{
	if (o == NULL)
		return;
	free(o->der);
	memset(o, 0, sizeof(*o));
}

struct due_rows {
	struct store_ocsp_due *v;
	size_t n, cap;
};

static int
due_row(sqlite3_stmt *s, void *arg)
{
	struct due_rows *r = arg;
	struct store_ocsp_due *e;
	const char *serial = (const char *)sqlite3_column_text(s, 0);

	if (serial == NULL || strlen(serial) > 40)
		return 0;
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	e = &r->v[r->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->serial, sizeof(e->serial), "%s", serial);
	e->issuer_id = sqlite3_column_int64(s, 1);
	e->not_after = (time_t)sqlite3_column_int64(s, 2);
	e->revoked = sqlite3_column_int(s, 3);
	e->reason = sqlite3_column_int(s, 4);
	e->revoked_at = (time_t)sqlite3_column_int64(s, 5);
	return 0;
}

int
store_ocsp_due(struct store *st, time_t before, time_t now, int which,
    size_t max, struct store_ocsp_due **out, size_t *n)
{
	static const char *const sql[] = {
		[STORE_OCSP_DUE] = SQL_OCSP_DUE,
		[STORE_OCSP_MISSING] = SQL_OCSP_MISSING,
		[STORE_OCSP_STALE] = SQL_OCSP_STALE,
	};
	struct due_rows r = {NULL, 0, 0};
	sqlite3_stmt *s = NULL;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (st == NULL || out == NULL || n == NULL || max == 0 ||
	    max > 100000 || which < STORE_OCSP_DUE || which > STORE_OCSP_STALE)
		return RC_INVAL;
	if ((rc = sq_prep(st, sql[which], &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, (int64_t)before);
	sqlite3_bind_int64(s, 2, (int64_t)now);
	sqlite3_bind_int64(s, 3, (int64_t)max);
	rc = sq_each_row(st, "ocsp_due", s, due_row, &r);
	sq_put(st, s);
	if (rc != 0) {
		free(r.v);
		return rc;
	}
	*out = r.v;
	*n = r.n;
	return 0;
}

int
store_crl_seq_reserve(struct store *st, int64_t issuer_id, int64_t count,
    int64_t shard_size, int64_t *first)
{
	static const char what[] = "crl_seq_reserve";
	sqlite3_stmt *s = NULL;
	int64_t next = 0;
	int rc;

	if (st == NULL || first == NULL || issuer_id <= 0 || count <= 0 ||
	    count > 1000000 || shard_size <= 0)
		return RC_INVAL;
	if ((rc = sq_prep(st, SQL_SEQ_GET, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, issuer_id);
	rc = sq_step_int64(st, what, s, &next);	/* none yet: 0 */
	if (rc == RC_NOTFOUND)
		rc = 0;
	sq_put(st, s);
	if (rc != 0)
		return rc;
	if ((rc = sq_prep(st, SQL_SEQ_PUT, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, issuer_id);
	sqlite3_bind_int64(s, 2, next + count);
	rc = sq_step_done(st, what, s);
	sq_put(st, s);
	for (int64_t sh = next / shard_size;
	    rc == 0 && sh <= (next + count - 1) / shard_size; sh++) {
		if ((rc = sq_prep(st, SQL_SHARD_NEW, &s)) != 0)
			return rc;
		sqlite3_bind_int64(s, 1, issuer_id);
		sqlite3_bind_int64(s, 2, sh);
		rc = sq_step_done(st, what, s);
		sq_put(st, s);
	}
	if (rc == 0)
		*first = next;
	return rc;
}

int
store_cert_set_shard(struct store *st, const char *serial, int64_t shard)
{
	static const char what[] = "cert_set_shard";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || sq_check_serial(what, serial) != 0 || shard < 0)
		return RC_INVAL;
	if ((rc = sq_prep(st, SQL_CERT_SHARD_SET, &s)) != 0)
		return rc;
	sq_bind_text(s, 1, serial);
	sqlite3_bind_int64(s, 2, shard);
	rc = sq_step_changed(st, what, s, RC_NOTFOUND);
	sq_put(st, s);
	return rc;
}

int
store_cert_get_shard(struct store *st, const char *serial, int64_t *shard)
{
	static const char what[] = "cert_get_shard";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || shard == NULL || sq_check_serial(what, serial) != 0)
		return RC_INVAL;
	if ((rc = sq_prep(st, SQL_CERT_SHARD_GET, &s)) != 0)
		return rc;
	sq_bind_text(s, 1, serial);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*shard = sqlite3_column_type(s, 0) == SQLITE_NULL ? -1 :
		    sqlite3_column_int64(s, 0);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = RC_NOTFOUND;
	} else {
		rc = sq_dberr(st, what, rc);
	}
	sq_put(st, s);
	return rc;
}

struct revoked_ctx {
	int (*cb)(const char *, int, time_t, void *);
	void *arg;
};

static int
revoked_row(sqlite3_stmt *s, void *arg)
{
	struct revoked_ctx *c = arg;
	const char *serial = (const char *)sqlite3_column_text(s, 0);

	return c->cb(serial ? serial : "", sqlite3_column_int(s, 1),
	    (time_t)sqlite3_column_int64(s, 2), c->arg);
}

int
store_revoked_list_shard(struct store *st, int64_t issuer_id, int64_t shard,
    int (*cb)(const char *, int, time_t, void *), void *arg)
{
	struct revoked_ctx c = {cb, arg};
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || cb == NULL || issuer_id <= 0)
		return RC_INVAL;
	if ((rc = sq_prep(st, SQL_REVOKED_SHARD, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, issuer_id);
	if (shard >= 0)
		sqlite3_bind_int64(s, 2, shard);
	else
		sqlite3_bind_null(s, 2);
	rc = sq_each_row(st, "revoked_list_shard", s, revoked_row, &c);
	sq_put(st, s);
	return rc;
}

int
store_crl_shard_put(struct store *st, const struct store_crl_shard *c)
{
	static const char what[] = "crl_shard_put";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || c == NULL || c->issuer_id <= 0 || c->shard < 0 ||
	    c->number <= 0 || c->next_update < c->this_update ||
	    c->der == NULL || c->der_len == 0 || c->der_len > STORE_MAX_CRL) {
		log_warn(LOG_STORE, "%s: bad issuer, shard, number, dates or "
		    "DER", what);
		return RC_INVAL;
	}
	if ((rc = sq_prep(st, SQL_SHARD_PUT, &s)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, c->issuer_id);
	sqlite3_bind_int64(s, 2, c->shard);
	sqlite3_bind_int64(s, 3, c->number);
	sqlite3_bind_int64(s, 4, (int64_t)c->this_update);
	sqlite3_bind_int64(s, 5, (int64_t)c->next_update);
	sq_bind_blob(s, 6, c->der, c->der_len);
	rc = sq_step_changed(st, what, s, RC_EXISTS);
	sq_put(st, s);
	return rc;
}

struct shard_ctx {
	int (*cb)(const struct store_crl_shard *, void *);
	void *arg;
};

static int
shard_row(sqlite3_stmt *s, void *arg)
{
	struct shard_ctx *c = arg;
	struct store_crl_shard sh;

	memset(&sh, 0, sizeof(sh));
	sh.issuer_id = sqlite3_column_int64(s, 0);
	sh.shard = sqlite3_column_int64(s, 1);
	sh.number = sqlite3_column_int64(s, 2);
	sh.this_update = (time_t)sqlite3_column_int64(s, 3);
	sh.next_update = (time_t)sqlite3_column_int64(s, 4);
	return c->cb(&sh, c->arg);
}

int
store_crl_shard_list(struct store *st, int64_t issuer_id,
    int (*cb)(const struct store_crl_shard *, void *), void *arg)
{
	struct shard_ctx c = {cb, arg};

	if (st == NULL || cb == NULL || issuer_id < 0)
		return RC_INVAL;
	return sq_each_row_id(st, "crl_shard_list", SQL_SHARD_LIST, issuer_id,
	    shard_row, &c);
}
