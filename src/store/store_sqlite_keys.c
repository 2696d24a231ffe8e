/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SQLite backend's compromised keys (migration 0016): the SHA-256 of
 * each SubjectPublicKeyInfo a certificate was revoked for with reason
 * keyCompromise, and (migration 0018) the certificates of each key, by
 * which the CA finds the other certificates of such a key. The ca
 * decides; this file keeps.
 */
#include "store/store.h"
#include "store/store_sqlite_int.h"
#include "util/rc.h"

#include <stdio.h>
#include <string.h>

static const char SQL_KEY_ADD[] = "INSERT OR IGNORE INTO blocked_keys "
	"(spki_sha256, serial, added_at) VALUES (?1, ?2, ?3)";
static const char SQL_KEY_GET[] = "SELECT serial FROM blocked_keys "
	"WHERE spki_sha256 = ?1";
static const char SQL_KEY_COUNT[] = "SELECT count(*), "
	"coalesce(max(added_at), 0) FROM blocked_keys";
static const char SQL_OF_KEY[] = "SELECT k.serial FROM cert_keys k "
	"JOIN certificates c ON c.serial = k.serial "
	"WHERE k.spki_sha256 = ?1 AND c.not_after > ?2 AND c.profile <> 'ca' "
	"AND NOT EXISTS (SELECT 1 FROM revocations r WHERE r.serial = c.serial)";

int
store_blocked_key_add(struct store *st, const uint8_t hash[32],
    const char *serial, time_t at)
{
	static const char what[] = "blocked_key_add";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || hash == NULL ||
	    sq_check_text(what, "serial", serial, 40, 0) != 0)
		return RC_INVAL;
	if ((rc = sq_prep(st, SQL_KEY_ADD, &s)) != 0)
		return rc;
	sq_bind_blob(s, 1, hash, 32);
	sq_bind_text(s, 2, serial);
	sq_bind_time(s, 3, at);
	rc = sq_step_done(st, what, s);
	sq_put(st, s);
	return rc;
}

int
store_blocked_key_get(struct store *st, const uint8_t hash[32],
    char serial[41])
{
	static const char what[] = "blocked_key_get";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || hash == NULL)
		return RC_INVAL;
	if ((rc = sq_prep(st, SQL_KEY_GET, &s)) != 0)
		return rc;
	sq_bind_blob(s, 1, hash, 32);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		if (serial != NULL)
			snprintf(serial, 41, "%s", t ? (const char *)t : "");
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = RC_NOTFOUND;
	} else {
		rc = sq_dberr(st, what, rc);
	}
	sq_put(st, s);
	return rc;
}

int
store_blocked_key_count(struct store *st, int64_t *n, time_t *newest)
{
	static const char what[] = "blocked_key_count";
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || n == NULL || newest == NULL)
		return RC_INVAL;
	if ((rc = sq_prep(st, SQL_KEY_COUNT, &s)) != 0)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*n = sqlite3_column_int64(s, 0);
		*newest = (time_t)sqlite3_column_int64(s, 1);
		rc = 0;
	} else {
		rc = sq_dberr(st, what, rc);
	}
	sq_put(st, s);
	return rc;
}

struct of_key {
	int (*fn)(const char *, void *);
	void *arg;
};

static int
of_key_row(sqlite3_stmt *s, void *arg)
{
	const struct of_key *k = arg;
	const unsigned char *serial = sqlite3_column_text(s, 0);

	return serial != NULL ? k->fn((const char *)serial, k->arg) : 0;
}

int
store_cert_each_of_key(struct store *st, const uint8_t hash[32], time_t now,
    int (*fn)(const char *serial, void *arg), void *arg)
{
	static const char what[] = "cert_each_of_key";
	struct of_key k = {fn, arg};
	sqlite3_stmt *s = NULL;
	int rc;

	if (st == NULL || hash == NULL || fn == NULL)
		return RC_INVAL;
	if ((rc = sq_prep(st, SQL_OF_KEY, &s)) != 0)
		return rc;
	sq_bind_blob(s, 1, hash, 32);
	sq_bind_time(s, 2, now);
	rc = sq_each_row(st, what, s, of_key_row, &k);
	sq_put(st, s);
	return rc;
}
