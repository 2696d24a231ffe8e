/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the store additions the ra needs (migration 0002 and the
 * ACME functions of src/store/store_sqlite.c, owned with the ra): the
 * migration applied to a database made by 0001 with rows in it, and every
 * new function with good and bad input: unique keys, conditional status
 * moves (RC_STATE vs RC_NOTFOUND), EAB binding once, nonce take exactly
 * once, job claims and leases, the reuse lookup, and bounds; the account
 * key hashes of 0019 (kept, filled for old rows, the accounts of a blocked
 * key revoked) and the listing of accounts.
 */
#include "store/store.h"
#include "store/store_int.h"
#include "util/rc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fx {
	char dir[256];
	char path[300];
	struct store *st;
};

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");
	struct store_conf c = {"sqlite", NULL, 0};

	snprintf(fx->dir, sizeof(fx->dir), "%s/cd-store-acme-XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/s.db", fx->dir);
	c.path = fx->path;
	assert_int_equal(store_open(&c, &fx->st), 0);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	store_close(fx->st);
	nftw(fx->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static void
raw(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s", msg);
	sqlite3_close(db);
}

static long long
raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* A database exactly as a build with only 0001 left it, with an order
 * and an authorization in it. */
static void
test_migration_on_old_db(void **state)
{
	struct fx *fx = *state;
	char path[320], *sql;
	struct store_conf c = {"sqlite", NULL, 0};
	struct store *st = NULL;
	struct store_authz a = {0};

	(void)fx;
	snprintf(path, sizeof(path), "%s/old.db", fx->dir);
	assert_true(store_sqlite_migrations_count >= 2);
	assert_int_equal(store_sqlite_migrations[1].version, 2);
	assert_string_equal(store_sqlite_migrations[1].name, "acme");
	sql = sqlite3_mprintf("PRAGMA journal_mode=WAL; BEGIN; "
	    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
	    "name TEXT NOT NULL, applied_at INTEGER NOT NULL); %s "
	    "INSERT INTO schema_migrations VALUES (1, 'init', 1); "
	    "INSERT INTO customers (name, created_at) VALUES ('c', 1); "
	    "INSERT INTO contracts (customer_id, number, created_at) "
	    "VALUES (1, 'K', 1); "
	    "INSERT INTO orders (contract_id, profile, status, names, "
	    "created_at, updated_at, expires_at) VALUES (1, 'dv', 'pending', "
	    "'old.example', 1, 1, 2); "
	    "INSERT INTO authorizations (order_id, identifier, status, "
	    "expires_at, created_at, updated_at) VALUES (1, 'old.example', "
	    "'pending', 2, 1, 1); COMMIT;", store_sqlite_migrations[0].sql);
	raw(path, sql);
	sqlite3_free(sql);
	assert_int_equal(raw_int(path, "SELECT max(version) FROM "
	    "schema_migrations"), 1);

	c.path = path;
	assert_int_equal(store_open(&c, &st), 0);
	assert_int_equal(store_schema_version(st),
	    (int)store_sqlite_migrations_count);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM "
	    "schema_migrations WHERE version = 2 AND name = 'acme'"), 1);
	/* the old rows read through the new columns */
	assert_int_equal(store_authz_get(st, 1, &a), 0);
	assert_int_equal(a.account_id, 0);
	assert_string_equal(a.ident_type, "dns");
	assert_null(a.br_version);
	assert_string_equal(a.identifier, "old.example");
	store_authz_clear(&a);
	for (const char *const *t = (const char *const[]){"acme_accounts",
	    "eab_keys", "nonce_keys", "order_authz", "challenges", NULL}; *t;
	    t++) {
		char q[128];

		snprintf(q, sizeof(q), "SELECT count(*) FROM sqlite_master "
		    "WHERE type = 'table' AND name = '%s'", *t);
		assert_int_equal(raw_int(path, q), 1);
	}
	/* and the foreign keys still hold */
	assert_int_equal(raw_int(path, "SELECT count(*) FROM "
	    "pragma_foreign_key_check"), 0);
	store_close(st);
	/* reopening changes nothing */
	assert_int_equal(store_open(&c, &st), 0);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM "
	    "schema_migrations"), (long long)store_sqlite_migrations_count);
	store_close(st);
}

/* Hash of a test "JWK": its first byte repeated; "bad" does not parse. */
static int
fake_hash(const char *jwk, uint8_t out[32], void *arg)
{
	(*(int *)arg)++;
	if (strcmp(jwk, "bad") == 0)
		return RC_INVAL;
	memset(out, jwk[0], 32);
	return 0;
}

static int
count_id(int64_t id, void *arg)
{
	(void)id;
	(*(int *)arg)++;
	return 0;
}

static int
list_row(const struct store_row *r, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 256 - n, "%lld/%lld/%s/%s;", (long long)r->id,
	    (long long)r->parent_id, r->name, r->extra);
	return 0;
}

/* 0019: the account key hash, written with the account, filled for old
 * rows, and the accounts of a blocked key revoked. */
static void
test_account_keys(void **state)
{
	struct fx *fx = *state;
	struct store_acme_account a = {0}, g = {0};
	uint8_t h[32];
	char list[256] = "";
	int64_t id[4], cust, contract;
	size_t filled = 9, failed = 9;
	int calls = 0, found = 0;

	assert_int_equal(store_customer_add(fx->st, "c", &cust), 0);
	assert_int_equal(store_contract_add(fx->st, cust, "K1", &contract), 0);
	a.status = "valid";
	a.contact = "[]";
	a.jwk = "A";
	a.thumbprint = "tp-a";
	memset(a.key_sha256, 'A', 32);
	a.has_key_sha256 = 1;
	assert_int_equal(store_acme_account_add(fx->st, &a, &id[0]), 0);
	a.has_key_sha256 = 0;		/* as before 0019 */
	a.jwk = "B";
	a.thumbprint = "tp-b";
	a.contract_id = contract;
	assert_int_equal(store_acme_account_add(fx->st, &a, &id[1]), 0);
	a.jwk = "bad";
	a.thumbprint = "tp-c";
	a.contract_id = 0;
	assert_int_equal(store_acme_account_add(fx->st, &a, &id[2]), 0);
	a.jwk = "D";
	a.thumbprint = "tp-d";
	a.status = "deactivated";
	assert_int_equal(store_acme_account_add(fx->st, &a, &id[3]), 0);
	assert_int_equal(store_acme_account_get(fx->st, id[0], &g), 0);
	assert_true(g.has_key_sha256);
	assert_int_equal(g.key_sha256[31], 'A');
	store_acme_account_clear(&g);
	assert_int_equal(store_acme_account_get(fx->st, id[1], &g), 0);
	assert_false(g.has_key_sha256);
	/* an update keeps the hash it read (here: none) */
	assert_int_equal(store_acme_account_update(fx->st, &g), 0);
	store_acme_account_clear(&g);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM "
	    "acme_accounts WHERE key_spki_sha256 IS NULL"), 3);

	assert_int_equal(store_acme_account_fill_keys(fx->st, fake_hash,
	    &calls, &filled, &failed), 0);
	assert_int_equal(filled, 2);
	assert_int_equal(failed, 1);
	assert_int_equal(calls, 3);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM "
	    "acme_accounts WHERE key_spki_sha256 = x'" "4242424242424242"
	    "424242424242424242424242424242424242424242424242'"), 1);
	/* the next run finds only the one that does not parse */
	calls = 0;
	assert_int_equal(store_acme_account_fill_keys(fx->st, fake_hash,
	    &calls, &filled, &failed), 0);
	assert_int_equal(filled, 0);
	assert_int_equal(failed, 1);
	assert_int_equal(calls, 1);
	assert_int_equal(store_acme_account_fill_keys(fx->st, NULL, NULL,
	    &filled, &failed), RC_INVAL);

	/* blocked: only the valid account of that key is revoked */
	memset(h, 'B', 32);
	assert_int_equal(store_acme_account_revoke_key(fx->st, h, NULL, 0,
	    count_id, &found), 0);
	assert_int_equal(found, 1);
	assert_int_equal(store_acme_account_get(fx->st, id[1], &g), 0);
	assert_string_equal(g.status, "revoked");
	store_acme_account_clear(&g);
	found = 0;
	assert_int_equal(store_acme_account_revoke_key(fx->st, h, NULL, 0,
	    count_id, &found), 0);
	assert_int_equal(found, 0);
	memset(h, 'D', 32);
	assert_int_equal(store_acme_account_revoke_key(fx->st, h, NULL, 0,
	    count_id, &found), 0);
	assert_int_equal(found, 0);	/* deactivated stays deactivated */
	assert_int_equal(store_acme_account_get(fx->st, id[0], &g), 0);
	assert_string_equal(g.status, "valid");
	store_acme_account_clear(&g);
	assert_int_equal(store_acme_account_revoke_key(fx->st, NULL, NULL, 0,
	    NULL, NULL), RC_INVAL);

	/* pages, newest first */
	{
		struct store_acme_account *v = NULL;
		size_t n = 9;

		assert_int_equal(store_acme_account_page(fx->st, 0, 3, &v,
		    &n), 0);
		assert_int_equal(n, 3);
		assert_int_equal(v[0].id, id[3]);
		assert_int_equal(v[2].id, id[1]);
		assert_string_equal(v[1].status, "valid");
		/* the bound account's contract number, from the page's own
		 * query; none for the others */
		assert_string_equal(v[2].contract_number, "K1");
		assert_null(v[0].contract_number);
		assert_null(v[1].contract_number);
		store_acme_account_page_free(v, n);
		assert_int_equal(store_acme_account_page(fx->st, id[1], 3, &v,
		    &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(v[0].id, id[0]);
		assert_true(v[0].has_key_sha256);
		store_acme_account_page_free(v, n);
		assert_int_equal(store_acme_account_page(fx->st, id[0], 3, &v,
		    &n), 0);
		assert_int_equal(n, 0);
		store_acme_account_page_free(v, n);
		assert_int_equal(store_acme_account_page(fx->st, -1, 3, &v, &n),
		    RC_INVAL);
		assert_int_equal(store_acme_account_page(fx->st, 0, 0, &v, &n),
		    RC_INVAL);
		assert_int_equal(store_acme_account_page(fx->st, 0, 1001, &v,
		    &n), RC_INVAL);
	}

	/* the listing, all and by contract */
	assert_int_equal(store_list(fx->st, "acme-accounts", contract,
	    list_row, list), 0);
	{
		char want[64];

		snprintf(want, sizeof(want), "%lld/%lld/tp-b/revoked;",
		    (long long)id[1], (long long)contract);
		assert_string_equal(list, want);
	}
	list[0] = '\0';
	assert_int_equal(store_list(fx->st, "acme-accounts", 0, list_row,
	    list), 0);
	assert_non_null(strstr(list, "/0/tp-a/valid;"));
	assert_non_null(strstr(list, "/0/tp-d/deactivated;"));
}

static void
test_accounts_eab(void **state)
{
	struct fx *fx = *state;
	struct store_acme_account a = {0}, g = {0};
	struct store_eab_key k = {0};
	static const uint8_t key[32] = {1, 2, 3};
	int64_t cust, contract, id, id2;

	assert_int_equal(store_customer_add(fx->st, "c", &cust), 0);
	assert_int_equal(store_contract_add(fx->st, cust, "K1", &contract), 0);
	a.status = "valid";
	a.jwk = "{\"kty\":\"EC\"}";
	a.thumbprint = "tp-1";
	a.contact = "[]";
	assert_int_equal(store_acme_account_add(fx->st, &a, &id), 0);
	assert_int_equal(store_acme_account_add(fx->st, &a, &id2), RC_EXISTS);
	a.thumbprint = "tp-2";
	a.contract_id = contract + 7;
	assert_int_equal(store_acme_account_add(fx->st, &a, &id2),
	    RC_NOTFOUND);
	a.contract_id = 0;
	a.status = "sleepy";
	assert_int_equal(store_acme_account_add(fx->st, &a, &id2), RC_INVAL);
	a.status = "valid";
	a.thumbprint = "tp 2";
	assert_int_equal(store_acme_account_add(fx->st, &a, &id2), RC_INVAL);
	a.thumbprint = "tp-2";
	assert_int_equal(store_acme_account_add(fx->st, &a, &id2), 0);

	assert_int_equal(store_acme_account_get(fx->st, id, &g), 0);
	assert_string_equal(g.thumbprint, "tp-1");
	assert_string_equal(g.status, "valid");
	/* update onto a taken thumbprint */
	free(g.thumbprint);
	g.thumbprint = strdup("tp-2");
	assert_int_equal(store_acme_account_update(fx->st, &g), RC_EXISTS);
	g.id = 999;
	assert_int_equal(store_acme_account_update(fx->st, &g), RC_NOTFOUND);
	store_acme_account_clear(&g);
	assert_int_equal(store_acme_account_by_thumbprint(fx->st, "nope", &g),
	    RC_NOTFOUND);

	/* EAB: short keys refused, bind once, one key per account */
	assert_int_equal(store_eab_add(fx->st, "kid1", contract, key, 8),
	    RC_INVAL);
	assert_int_equal(store_eab_add(fx->st, "kid1", contract + 9, key, 32),
	    RC_NOTFOUND);
	assert_int_equal(store_eab_add(fx->st, "kid1", contract, key, 32), 0);
	assert_int_equal(store_eab_add(fx->st, "kid1", contract, key, 32),
	    RC_EXISTS);
	assert_int_equal(store_eab_add(fx->st, "kid2", contract, key, 32), 0);
	assert_int_equal(store_eab_get(fx->st, "kid1", &k), 0);
	assert_int_equal(k.key_len, 32);
	assert_memory_equal(k.key, key, 32);
	assert_int_equal(k.account_id, 0);
	store_eab_clear(&k);
	assert_null(k.key);
	assert_int_equal(store_eab_bind(fx->st, "kid1", id, 5), 0);
	assert_int_equal(store_eab_bind(fx->st, "kid1", id2, 5), RC_EXISTS);
	assert_int_equal(store_eab_bind(fx->st, "kid2", id, 5), RC_EXISTS);
	assert_int_equal(store_eab_bind(fx->st, "kid3", id, 5), RC_NOTFOUND);
	assert_int_equal(store_eab_bind(fx->st, "kid2", 4242, 5), RC_NOTFOUND);
	assert_int_equal(store_eab_get(fx->st, "kid1", &k), 0);
	assert_int_equal(k.account_id, id);
	assert_int_equal(k.bound_at, 5);
	store_eab_clear(&k);
}

static void
test_nonces(void **state)
{
	struct fx *fx = *state;
	uint64_t n1 = 0, n2 = 0;

	assert_int_equal(store_nonce_next(fx->st, &n1), 0);
	assert_int_equal(store_nonce_next(fx->st, &n2), 0);
	assert_true(n2 == n1 + 1);
	assert_int_equal(store_nonce_use(fx->st, n2), 0);
	assert_int_equal(store_nonce_use(fx->st, n2), RC_EXISTS);
	assert_int_equal(store_nonce_use(fx->st, n2 + 1), RC_NOTFOUND);
	assert_int_equal(store_nonce_use(fx->st, n1), 0);
	assert_int_equal(store_nonce_next(NULL, &n1), RC_INVAL);
	assert_int_equal(store_nonce_next(fx->st, NULL), RC_INVAL);
	assert_int_equal(store_nonce_use(NULL, n1), RC_INVAL);
	/* the redeemed ones are not in the database */
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM "
	    "sqlite_master WHERE name = 'nonces'"), 0);
	/* the shared MAC key is made once and then always the same */
	{
		uint8_t k1[32], k2[32];

		assert_int_equal(store_nonce_key(fx->st, k1), 0);
		assert_int_equal(store_nonce_key(fx->st, k2), 0);
		assert_memory_equal(k1, k2, 32);
	}
}

static void
test_orders_authz_challenges(void **state)
{
	struct fx *fx = *state;
	struct store_acme_account acct = {.status = "valid", .jwk = "{}",
		.thumbprint = "tp", .contact = "[]"};
	struct store_order o = {0}, g = {0};
	struct store_authz a = {0}, ga = {0};
	struct store_challenge c = {0}, gc = {0};
	int64_t acc, oid, aid, aid2, cid, ids[4], found;
	size_t n;
	int more;

	assert_int_equal(store_acme_account_add(fx->st, &acct, &acc), 0);
	o.account_id = acc;
	o.profile = "dv";
	o.status = "pending";
	o.names = "a.example *.b.example";
	o.expires_at = 1000;
	o.created_at = 10;
	assert_int_equal(store_order_add(fx->st, &o, &oid), 0);
	o.profile = "xx";
	assert_int_equal(store_order_add(fx->st, &o, NULL), RC_INVAL);
	o.profile = "dv";
	o.expires_at = 0;
	assert_int_equal(store_order_add(fx->st, &o, NULL), RC_INVAL);

	/* conditional moves */
	assert_int_equal(store_order_set_status(fx->st, oid, "ready",
	    "processing", NULL, NULL, NULL, 0, 20), RC_STATE);
	assert_int_equal(store_order_set_status(fx->st, oid + 5, "pending",
	    "ready", NULL, NULL, NULL, 0, 20), RC_NOTFOUND);
	assert_int_equal(store_order_set_status(fx->st, oid, "pending",
	    "ready", NULL, NULL, NULL, 0, 20), 0);
	assert_int_equal(store_order_set_status(fx->st, oid, "ready",
	    "bogus", NULL, NULL, NULL, 0, 20), RC_INVAL);
	assert_int_equal(store_order_set_status(fx->st, oid, "ready",
	    "processing", NULL, NULL, (const uint8_t *)"csr", 3, 21), 0);
	assert_int_equal(store_order_get(fx->st, oid, &g), 0);
	assert_string_equal(g.status, "processing");
	assert_int_equal(g.csr_len, 3);
	assert_int_equal(g.updated_at, 21);
	assert_string_equal(g.cert_serial, "");
	store_order_clear(&g);

	a.order_id = oid;
	a.account_id = acc;
	a.ident_type = "dns";
	a.identifier = "a.example";
	a.status = "pending";
	a.expires_at = 500;
	assert_int_equal(store_authz_add(fx->st, &a, &aid), 0);
	a.identifier = "B.example";	/* not normalised */
	assert_int_equal(store_authz_add(fx->st, &a, NULL), RC_INVAL);
	a.identifier = "b.example";
	a.wildcard = 1;
	assert_int_equal(store_authz_add(fx->st, &a, &aid2), 0);
	assert_int_equal(store_order_authz_add(fx->st, oid, 0, aid), 0);
	assert_int_equal(store_order_authz_add(fx->st, oid, 1, aid2), 0);
	assert_int_equal(store_order_authz_add(fx->st, oid, 1, aid2),
	    RC_EXISTS);
	assert_int_equal(store_order_authz_add(fx->st, oid, 2, 9999),
	    RC_NOTFOUND);
	assert_int_equal(store_order_authz_list(fx->st, oid, ids, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], aid);
	assert_int_equal(ids[1], aid2);
	assert_int_equal(store_order_authz_list(fx->st, oid, ids, 1, &n),
	    RC_TOOBIG);

	/* the reuse lookup: pending only when asked; valid preferred */
	assert_int_equal(store_authz_find(fx->st, acc, "dns", "a.example", 0,
	    100, 0, 0, &found), RC_NOTFOUND);
	assert_int_equal(store_authz_find(fx->st, acc, "dns", "a.example", 0,
	    100, 0, 1, &found), 0);
	assert_int_equal(found, aid);
	assert_int_equal(store_authz_find(fx->st, acc, "dns", "b.example", 0,
	    100, 0, 1, &found), RC_NOTFOUND);	/* that one is wildcard */
	assert_int_equal(store_authz_get(fx->st, aid, &ga), 0);
	free(ga.status);
	ga.status = strdup("valid");
	ga.method = strdup("http-01");
	ga.validated_at = 100;
	ga.expires_at = 900;
	assert_int_equal(store_authz_set(fx->st, &ga, "valid", 100),
	    RC_STATE);
	assert_int_equal(store_authz_set(fx->st, &ga, "pending", 100), 0);
	assert_int_equal(store_authz_find(fx->st, acc, "dns", "a.example", 0,
	    200, 100, 0, &found), 0);
	assert_int_equal(store_authz_find(fx->st, acc, "dns", "a.example", 0,
	    200, 101, 0, &found), RC_NOTFOUND);	/* validated too early */
	assert_int_equal(store_authz_find(fx->st, acc, "dns", "a.example", 0,
	    900, 0, 1, &found), RC_NOTFOUND);	/* expired */
	assert_int_equal(store_authz_find(fx->st, acc + 1, "dns", "a.example",
	    0, 200, 0, 1, &found), RC_NOTFOUND);
	store_authz_clear(&ga);

	/* challenges and jobs */
	c.authz_id = aid2;
	c.type = "dns-01";
	c.status = "pending";
	c.token = "tok";
	assert_int_equal(store_challenge_add(fx->st, &c, &cid), 0);
	c.type = "email";
	assert_int_equal(store_challenge_add(fx->st, &c, NULL), RC_INVAL);
	c.type = "dns-01";
	c.token = "t/k";
	assert_int_equal(store_challenge_add(fx->st, &c, NULL), RC_INVAL);
	assert_int_equal(store_challenge_claim(fx->st, cid, 100, 200),
	    RC_STATE);
	assert_int_equal(store_challenge_jobs(fx->st, 100, ids, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_challenge_set_status(fx->st, cid, "pending",
	    "processing", NULL, 0, 100), 0);
	assert_int_equal(store_challenge_jobs(fx->st, 100, ids, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_challenge_claim(fx->st, cid, 100, 200), 0);
	assert_int_equal(store_challenge_claim(fx->st, cid, 150, 250),
	    RC_STATE);
	assert_int_equal(store_challenge_jobs(fx->st, 150, ids, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_challenge_claim(fx->st, cid, 200, 300), 0);
	assert_int_equal(store_challenge_claim(fx->st, cid, 200, 200),
	    RC_INVAL);
	assert_int_equal(store_challenge_claim(fx->st, 9999, 200, 300),
	    RC_NOTFOUND);
	assert_int_equal(store_challenge_set_status(fx->st, cid, "processing",
	    "invalid", "{\"type\":\"x\"}", 0, 210), 0);
	assert_int_equal(store_challenge_get(fx->st, cid, &gc), 0);
	assert_string_equal(gc.status, "invalid");
	assert_int_equal(gc.attempts, 2);
	assert_int_equal(gc.lease_until, 0);
	assert_string_equal(gc.error, "{\"type\":\"x\"}");
	store_challenge_clear(&gc);

	/* the account's orders, newest first; an invalid one, and one
	 * past its expires_at before it became valid, are not listed */
	assert_int_equal(store_order_ids_by_account(fx->st, acc, 0, 300, ids,
	    4, &n, &more), 0);
	assert_int_equal(n, 1);
	assert_int_equal(more, 0);
	assert_int_equal(ids[0], oid);
	o.status = "invalid";
	o.expires_at = 1000;
	assert_int_equal(store_order_add(fx->st, &o, NULL), 0);
	o.status = "pending";
	o.expires_at = 299;
	assert_int_equal(store_order_add(fx->st, &o, NULL), 0);
	assert_int_equal(store_order_ids_by_account(fx->st, acc, 0, 300, ids,
	    4, &n, &more), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], oid);
	assert_int_equal(store_order_ids_by_account(fx->st, acc, 0, 200, ids,
	    4, &n, &more), 0);
	assert_int_equal(n, 2);		/* not expired yet at 200 */
	assert_int_equal(store_order_ids_by_account(fx->st, acc, 0, 300, ids,
	    0, &n, &more), RC_INVAL);

	/* deactivation side effects */
	assert_int_equal(store_acme_account_cancel(fx->st, acc, NULL, "valid",
	    300), RC_INVAL);
	assert_int_equal(store_acme_account_cancel(fx->st, acc, NULL,
	    "deactivated", 300), 0);
	assert_int_equal(raw_int(fx->path, "SELECT count(*) FROM "
	    "authorizations WHERE status = 'deactivated'"), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migration_on_old_db,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_account_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_accounts_eab, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nonces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orders_authz_challenges,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
