/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of what src/portal/portal.c stands on in the store (migration
 * 0003): sessions found only by the hash of their id and only while
 * neither timeout has passed, API tokens made by portal_token_create()
 * (only the hash stored, revocation, the end a staff member's token
 * always has: 0020), login failure runs, user lookup by
 * email, the slot state machine's allowed transitions, and the customer
 * scope (staff see no customer's contracts or slots here); and the hash
 * logins for unknown emails are verified against.
 */
#include "portal/portal_int.h"
#include "util/rc.h"

#include <limits.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

struct fx {
	char dir[256];
	char path[300];
	struct store *st;
	int64_t cust, other, user, contract, slot_u, slot_s;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");
	struct store_conf conf = {"sqlite", NULL, 0};

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "%s/certdesk-portal-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/store.db", fx->dir);
	conf.path = fx->path;
	assert_int_equal(store_open(&conf, &fx->st), 0);
	assert_int_equal(store_customer_add(fx->st, "A", &fx->cust), 0);
	assert_int_equal(store_customer_add(fx->st, "B", &fx->other), 0);
	assert_int_equal(store_user_add(fx->st, fx->cust, "Ann@a.example",
	    "Ann", STORE_ROLE_CUSTOMER, "$argon2id$x", &fx->user), 0);
	assert_int_equal(store_contract_add(fx->st, fx->cust, "C-1",
	    &fx->contract), 0);
	assert_int_equal(store_slot_add(fx->st, fx->contract, "unlimited",
	    &fx->slot_u), 0);
	assert_int_equal(store_slot_add(fx->st, fx->contract, "starter",
	    &fx->slot_s), 0);
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
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void
test_schema(void **state)
{
	struct fx *fx = *state;

	assert_true(store_schema_version(fx->st) >= 3);
}

/*
 * The hash unknown emails are verified against costs what a real one does:
 * the same algorithm and limits as a hash made the way `certdesk admin
 * user add` makes them, so that no rehash is due; and it is no hash of an
 * empty or trivial password.
 */
static void
test_dummy_hash(void **state)
{
	char real[crypto_pwhash_STRBYTES];
	const char *d = portal_dummy_pw_hash, *end;

	(void)state;
	assert_true(sodium_init() >= 0);
	assert_int_equal(crypto_pwhash_str_needs_rehash(d,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE), 0);
	assert_int_equal(crypto_pwhash_str(real, "a password", 10,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE), 0);
	/* "$argon2id$v=19$m=65536,t=2,p=1$": up to the fourth '$', before
	 * the salt */
	end = d;
	for (int i = 0; i < 4; i++) {
		end = strchr(end, '$');
		assert_non_null(end);
		end++;
	}
	assert_memory_equal(real, d, (size_t)(end - d));
	assert_int_not_equal(crypto_pwhash_str_verify(d, "", 0), 0);
	assert_int_not_equal(crypto_pwhash_str_verify(d, "a password", 10), 0);
}

static void
test_user_lookup(void **state)
{
	struct fx *fx = *state;
	struct store_user u;

	assert_int_equal(store_user_by_email(fx->st, "ann@a.example", &u), 0);
	assert_int_equal(u.id, fx->user);
	assert_int_equal(u.customer_id, fx->cust);
	assert_int_equal(u.role, STORE_ROLE_CUSTOMER);
	assert_string_equal(u.pw_hash, "$argon2id$x");
	store_user_clear(&u);
	assert_null(u.email);
	assert_int_equal(store_user_by_email(fx->st, "nobody@a.example", &u),
	    RC_NOTFOUND);
	assert_int_equal(store_user_get(fx->st, fx->user, &u), 0);
	assert_string_equal(u.display_name, "Ann");
	store_user_clear(&u);
	assert_int_equal(store_user_get(fx->st, 999, &u), RC_NOTFOUND);
	assert_int_equal(store_user_by_email(fx->st, "a\nb", &u), RC_INVAL);
}

static void
test_sessions(void **state)
{
	struct fx *fx = *state;
	struct store_session s, got;
	char id[PORTAL_SESSION_ID_HEX + 1];

	memset(&s, 0, sizeof(s));
	assert_int_equal(portal_random_hex(id), 0);
	assert_int_equal(portal_sha256(id, s.id_hash), 0);
	memset(s.csrf_secret, 7, sizeof(s.csrf_secret));
	s.user_id = fx->user;
	s.created_at = s.last_seen_at = 1000;
	s.idle_expires_at = 1000 + 1800;
	s.expires_at = 1000 + 43200;
	assert_int_equal(store_session_add(fx->st, &s), 0);
	assert_int_equal(store_session_add(fx->st, &s), RC_EXISTS);

	assert_int_equal(store_session_get(fx->st, s.id_hash, 1100, &got), 0);
	assert_int_equal(got.user_id, fx->user);
	assert_memory_equal(got.csrf_secret, s.csrf_secret, STORE_CSRF_LEN);
	/* idle timeout */
	assert_int_equal(store_session_get(fx->st, s.id_hash, 2800, &got),
	    RC_NOTFOUND);
	/* used in time: the idle end moves, never past the absolute end */
	assert_int_equal(store_session_touch(fx->st, s.id_hash, 2700,
	    2700 + 1800), 0);
	assert_int_equal(store_session_get(fx->st, s.id_hash, 2800, &got), 0);
	assert_int_equal(store_session_touch(fx->st, s.id_hash, 44000,
	    99999), 0);
	assert_int_equal(store_session_get(fx->st, s.id_hash, 44200, &got),
	    RC_NOTFOUND);	/* absolute timeout */
	/* the raw id is not a key: only its hash finds the row */
	{
		uint8_t raw[STORE_HASH_LEN];

		memcpy(raw, id, STORE_HASH_LEN);
		assert_int_equal(store_session_get(fx->st, raw, 1100, &got),
		    RC_NOTFOUND);
	}
	assert_int_equal(store_session_delete(fx->st, s.id_hash), 0);
	assert_int_equal(store_session_get(fx->st, s.id_hash, 1100, &got),
	    RC_NOTFOUND);
	assert_int_equal(store_session_touch(fx->st, s.id_hash, 1100, 1200),
	    RC_NOTFOUND);

	/* unknown user; ends before start */
	s.user_id = 999;
	assert_int_equal(store_session_add(fx->st, &s), RC_NOTFOUND);
	s.user_id = fx->user;
	s.expires_at = 10;
	assert_int_equal(store_session_add(fx->st, &s), RC_INVAL);
}

static void
test_session_purge(void **state)
{
	struct fx *fx = *state;
	struct store_session s;
	int64_t n = -1;

	memset(&s, 0, sizeof(s));
	assert_int_equal(portal_sha256("x", s.id_hash), 0);
	s.user_id = fx->user;
	s.created_at = s.last_seen_at = 100;
	s.idle_expires_at = 200;
	s.expires_at = 300;
	assert_int_equal(store_session_add(fx->st, &s), 0);
	assert_int_equal(store_session_purge(fx->st, 150, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_session_purge(fx->st, 200, &n), 0);
	assert_int_equal(n, 1);
}

static void
test_tokens(void **state)
{
	struct fx *fx = *state;
	char tok[PORTAL_TOKEN_TEXT];
	uint8_t h[STORE_HASH_LEN];
	struct store_token t;
	int64_t id = 0;

	assert_int_equal(portal_token_create(fx->st, fx->user, "ci", 0, tok,
	    &id), 0);
	assert_true(portal_token_ok(tok));
	assert_true(id > 0);
	assert_int_equal(portal_sha256(tok, h), 0);
	assert_int_equal(store_token_by_hash(fx->st, h, &t), 0);
	assert_int_equal(t.user_id, fx->user);
	assert_string_equal(t.label, "ci");
	assert_int_equal(t.revoked_at, 0);
	assert_int_equal(t.last_used_at, 0);
	assert_int_equal(t.expires_at, 0);	/* a customer's: no end */
	store_token_clear(&t);
	assert_int_equal(store_token_touch(fx->st, id, 5000), 0);
	assert_int_equal(store_token_by_hash(fx->st, h, &t), 0);
	assert_int_equal(t.last_used_at, 5000);
	store_token_clear(&t);
	/* another user cannot revoke it; its user can, once */
	assert_int_equal(store_token_revoke(fx->st, id, fx->user + 1, 0),
	    RC_NOTFOUND);
	assert_int_equal(store_token_revoke(fx->st, id, fx->user, 6000), 0);
	assert_int_equal(store_token_revoke(fx->st, id, 0, 0), RC_NOTFOUND);
	assert_int_equal(store_token_by_hash(fx->st, h, &t), 0);
	assert_int_equal(t.revoked_at, 6000);
	store_token_clear(&t);
	assert_int_equal(portal_token_create(fx->st, 999, "x", 0, tok, &id),
	    RC_NOTFOUND);
	assert_string_equal(tok, "");
}

/* what a secret shown once is of: a token's id, an EAB key's id */
#define TOKEN(id) (&(struct store_reveal){.token_id = (id)})
#define EAB(kid) (&(struct store_reveal){.eab_kid = (kid)})

/* Two sessions of the user, "one" and "two", from 100 to 3000. */
static void
two_sessions(struct fx *fx, struct store_session *s, struct store_session *s2)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(portal_sha256("one", s->id_hash), 0);
	s->user_id = fx->user;
	s->created_at = s->last_seen_at = 100;
	s->idle_expires_at = 2000;
	s->expires_at = 3000;
	*s2 = *s;
	assert_int_equal(portal_sha256("two", s2->id_hash), 0);
	assert_int_equal(store_session_add(fx->st, s), 0);
	assert_int_equal(store_session_add(fx->st, s2), 0);
}

/* A new token's one showing (0024): kept for its session and token,
 * taken once, not after its end, gone with its session or its purge. */
static void
test_token_reveal(void **state)
{
	struct fx *fx = *state;
	struct store_session s, s2;
	uint8_t sealed[PORTAL_REVEAL_SEALED_MAX];
	uint8_t got[STORE_REVEAL_SEALED_MAX];
	uint8_t unknown[STORE_HASH_LEN] = {0};
	char tok[PORTAL_TOKEN_TEXT];
	int64_t id = 0, id2 = 0, n = 0;
	size_t len = 99;

	two_sessions(fx, &s, &s2);
	assert_int_equal(portal_token_create(fx->st, fx->user, "a", 0, tok,
	    &id), 0);
	assert_int_equal(portal_token_create(fx->st, fx->user, "b", 0, tok,
	    &id2), 0);
	for (size_t i = 0; i < sizeof(sealed); i++)
		sealed[i] = (uint8_t)i;
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, TOKEN(id), sealed,
	    sizeof(sealed), 400), 0);
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, TOKEN(id), sealed,
	    sizeof(sealed), 400), RC_EXISTS);
	/* unknown session or token; bad arguments */
	assert_int_equal(store_reveal_add(fx->st, unknown, TOKEN(id), sealed,
	    sizeof(sealed), 400), RC_NOTFOUND);
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, TOKEN(999),
	    sealed, sizeof(sealed), 400), RC_NOTFOUND);
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, TOKEN(id2),
	    sealed, 0, 400), RC_INVAL);
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, TOKEN(id2),
	    got, STORE_REVEAL_SEALED_MAX + 1, 400), RC_INVAL);
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, TOKEN(id2),
	    sealed, sizeof(sealed), 0), RC_INVAL);
	/* another session's, another token's: none; its own: once */
	assert_int_equal(store_reveal_take(fx->st, s2.id_hash, TOKEN(id), 300,
	    got, &len), RC_NOTFOUND);
	assert_int_equal(len, 0);
	assert_int_equal(store_reveal_take(fx->st, s.id_hash, TOKEN(id2), 300,
	    got, &len), RC_NOTFOUND);
	assert_int_equal(store_reveal_take(fx->st, s.id_hash, TOKEN(id), 300,
	    got, &len), 0);
	assert_int_equal(len, sizeof(sealed));
	assert_memory_equal(got, sealed, sizeof(sealed));
	assert_int_equal(store_reveal_take(fx->st, s.id_hash, TOKEN(id), 300,
	    got, &len), RC_NOTFOUND);
	/* at its end: not given, and deleted */
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, TOKEN(id2),
	    sealed, sizeof(sealed), 400), 0);
	assert_int_equal(store_reveal_take(fx->st, s.id_hash, TOKEN(id2), 400,
	    got, &len), RC_NOTFOUND);
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, TOKEN(id2),
	    sealed, sizeof(sealed), 400), 0);
	/* the purge deletes the ended ones; a session takes its own along */
	assert_int_equal(store_reveal_add(fx->st, s2.id_hash, TOKEN(id),
	    sealed, sizeof(sealed), 900), 0);
	assert_int_equal(store_session_purge(fx->st, 500, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, TOKEN(id2),
	    sealed, sizeof(sealed), 600), 0);
	assert_int_equal(store_session_delete(fx->st, s2.id_hash), 0);
	assert_int_equal(store_session_add(fx->st, &s2), 0);
	assert_int_equal(store_reveal_take(fx->st, s2.id_hash, TOKEN(id), 500,
	    got, &len), RC_NOTFOUND);
	assert_int_equal(store_reveal_take(fx->st, s.id_hash, TOKEN(id2), 500,
	    got, &len), 0);
	assert_int_equal(store_reveal_take(fx->st, NULL, TOKEN(id2), 500,
	    got, &len), RC_INVAL);
}

/* New ACME credentials' one showing (0025): as a token's, for its
 * session and key; gone with its key (revoked) too. */
static void
test_eab_reveal(void **state)
{
	struct fx *fx = *state;
	struct store_session s, s2;
	uint8_t sealed[PORTAL_REVEAL_SEALED_MAX], key[32] = {1};
	uint8_t got[STORE_REVEAL_SEALED_MAX];
	char tok[PORTAL_TOKEN_TEXT];
	int64_t id = 0, n = 0;
	size_t len = 99;

	two_sessions(fx, &s, &s2);
	assert_int_equal(store_eab_add(fx->st, "kid-1", fx->contract, key,
	    sizeof(key)), 0);
	assert_int_equal(store_eab_add(fx->st, "kid-2", fx->contract, key,
	    sizeof(key)), 0);
	assert_int_equal(portal_token_create(fx->st, fx->user, "a", 0, tok,
	    &id), 0);
	for (size_t i = 0; i < sizeof(sealed); i++)
		sealed[i] = (uint8_t)(i * 7);
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, EAB("kid-1"),
	    sealed, sizeof(sealed), 400), 0);
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, EAB("kid-1"),
	    sealed, sizeof(sealed), 400), RC_EXISTS);
	/* a token with the same session is a row of its own */
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, TOKEN(id),
	    sealed, 10, 400), 0);
	/* unknown key; malformed key id; neither or both */
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, EAB("kid-9"),
	    sealed, sizeof(sealed), 400), RC_NOTFOUND);
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, EAB("kid 1"),
	    sealed, sizeof(sealed), 400), RC_INVAL);
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, EAB(""),
	    sealed, sizeof(sealed), 400), RC_INVAL);
	assert_int_equal(store_reveal_add(fx->st, s.id_hash,
	    &(struct store_reveal){0}, sealed, sizeof(sealed), 400),
	    RC_INVAL);
	assert_int_equal(store_reveal_add(fx->st, s.id_hash,
	    &(struct store_reveal){id, "kid-2"}, sealed, sizeof(sealed), 400),
	    RC_INVAL);
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, NULL, sealed,
	    sizeof(sealed), 400), RC_INVAL);
	assert_int_equal(store_reveal_take(fx->st, s.id_hash,
	    &(struct store_reveal){id, "kid-1"}, 300, got, &len), RC_INVAL);
	/* another session's, another key's: none; its own: once */
	assert_int_equal(store_reveal_take(fx->st, s2.id_hash, EAB("kid-1"),
	    300, got, &len), RC_NOTFOUND);
	assert_int_equal(len, 0);
	assert_int_equal(store_reveal_take(fx->st, s.id_hash, EAB("kid-2"),
	    300, got, &len), RC_NOTFOUND);
	assert_int_equal(store_reveal_take(fx->st, s.id_hash, EAB("kid-1"),
	    300, got, &len), 0);
	assert_int_equal(len, sizeof(sealed));
	assert_memory_equal(got, sealed, sizeof(sealed));
	assert_int_equal(store_reveal_take(fx->st, s.id_hash, EAB("kid-1"),
	    300, got, &len), RC_NOTFOUND);
	/* the token's is still there, and its own */
	assert_int_equal(store_reveal_take(fx->st, s.id_hash, TOKEN(id), 300,
	    got, &len), 0);
	assert_int_equal(len, 10);
	/* at its end: not given, and deleted */
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, EAB("kid-2"),
	    sealed, sizeof(sealed), 400), 0);
	assert_int_equal(store_reveal_take(fx->st, s.id_hash, EAB("kid-2"),
	    400, got, &len), RC_NOTFOUND);
	/* the purge deletes the ended ones */
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, EAB("kid-2"),
	    sealed, sizeof(sealed), 400), 0);
	assert_int_equal(store_session_purge(fx->st, 500, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_reveal_add(fx->st, s.id_hash, EAB("kid-2"),
	    sealed, sizeof(sealed), 600), 0);
	/* revoked (deleted), the key takes its showing along, and so does a
	 * session that ends */
	assert_int_equal(store_reveal_add(fx->st, s2.id_hash, EAB("kid-1"),
	    sealed, sizeof(sealed), 900), 0);
	assert_int_equal(store_eab_delete(fx->st, "kid-2", fx->contract), 0);
	assert_int_equal(store_eab_add(fx->st, "kid-2", fx->contract, key,
	    sizeof(key)), 0);
	assert_int_equal(store_reveal_take(fx->st, s.id_hash, EAB("kid-2"),
	    500, got, &len), RC_NOTFOUND);
	assert_int_equal(store_session_delete(fx->st, s2.id_hash), 0);
	assert_int_equal(store_session_add(fx->st, &s2), 0);
	assert_int_equal(store_reveal_take(fx->st, s2.id_hash, EAB("kid-1"),
	    500, got, &len), RC_NOTFOUND);
}

/* The end of a new token, days days from the time around the call. */
static void
assert_token_ends(struct store *st, int64_t user, int days, time_t want)
{
	char tok[PORTAL_TOKEN_TEXT];
	uint8_t h[STORE_HASH_LEN];
	struct store_token t;
	time_t before = time(NULL), after;
	int64_t id = 0;

	assert_int_equal(portal_token_create(st, user, "x", days, tok, &id),
	    0);
	after = time(NULL);
	assert_int_equal(portal_sha256(tok, h), 0);
	assert_int_equal(store_token_by_hash(st, h, &t), 0);
	if (want == 0) {
		assert_int_equal(t.expires_at, 0);
	} else {
		assert_in_range(t.expires_at, before + want, after + want);
	}
	store_token_clear(&t);
}

/*
 * A staff member's token (the back office API) always ends: by default
 * PORTAL_TOKEN_DAYS from now, at most PORTAL_TOKEN_DAYS_MAX; a customer's
 * only when asked for. The user's role decides, not the caller.
 */
static void
test_token_expiry(void **state)
{
	struct fx *fx = *state;
	char tok[PORTAL_TOKEN_TEXT];
	int64_t agent = 0, admin = 0, id = 0;

	assert_int_equal(store_user_add(fx->st, 0, "agent@staff.example",
	    "Agent", STORE_ROLE_AGENT, NULL, &agent), 0);
	assert_int_equal(store_user_add(fx->st, 0, "admin@staff.example",
	    "Admin", STORE_ROLE_ADMIN, NULL, &admin), 0);
	assert_token_ends(fx->st, agent, 0, 90 * 86400);
	assert_token_ends(fx->st, admin, 0, 90 * 86400);
	assert_token_ends(fx->st, admin, 1, 86400);
	assert_token_ends(fx->st, agent, 365, 365 * 86400);
	assert_token_ends(fx->st, fx->user, 0, 0);
	assert_token_ends(fx->st, fx->user, 30, 30 * 86400);
	/* no longer than a year, for anyone; nothing made */
	assert_int_equal(portal_token_create(fx->st, admin, "x", 366, tok,
	    &id), RC_INVAL);
	assert_string_equal(tok, "");
	assert_int_equal(portal_token_create(fx->st, fx->user, "x", 366, tok,
	    &id), RC_INVAL);
	assert_int_equal(portal_token_create(fx->st, agent, "x", -1, tok,
	    &id), RC_INVAL);
	assert_int_equal(portal_token_create(fx->st, agent, "x", INT_MAX,
	    tok, &id), RC_INVAL);
}

static void
test_login_failures(void **state)
{
	struct fx *fx = *state;
	struct store_login_failures f;

	assert_int_equal(store_login_failures_get(fx->st, "acct:a", &f), 0);
	assert_int_equal(f.failures, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_login_failure_add(fx->st, "acct:a",
		    1000 + i, 86400), 0);
	assert_int_equal(store_login_failures_get(fx->st, "acct:a", &f), 0);
	assert_int_equal(f.failures, 3);
	assert_int_equal(f.first_at, 1000);
	assert_int_equal(f.last_at, 1002);
	/* a day later the run starts again */
	assert_int_equal(store_login_failure_add(fx->st, "acct:a",
	    1002 + 86401, 86400), 0);
	assert_int_equal(store_login_failures_get(fx->st, "acct:a", &f), 0);
	assert_int_equal(f.failures, 1);
	assert_int_equal(store_login_failures_clear(fx->st, "acct:a"), 0);
	assert_int_equal(store_login_failures_get(fx->st, "acct:a", &f), 0);
	assert_int_equal(f.failures, 0);
	assert_int_equal(store_login_failure_add(fx->st, "", 1, 1), RC_INVAL);

	/* a reservation holds only from the state it was judged on */
	{
		struct store_login_failures seen;

		assert_int_equal(store_login_failures_get(fx->st, "acct:r",
		    &seen), 0);
		assert_int_equal(store_login_failure_reserve(fx->st, "acct:r",
		    2000, 86400, &seen), 0);	/* no row yet */
		assert_int_equal(store_login_failure_reserve(fx->st, "acct:r",
		    2000, 86400, &seen), RC_CONFLICT);	/* came second */
		assert_int_equal(store_login_failures_get(fx->st, "acct:r",
		    &seen), 0);
		assert_int_equal(seen.failures, 1);
		assert_int_equal(store_login_failure_reserve(fx->st, "acct:r",
		    2001, 86400, &seen), 0);
		assert_int_equal(store_login_failure_reserve(fx->st, "acct:r",
		    2001, 86400, &seen), RC_CONFLICT);
		assert_int_equal(store_login_failures_get(fx->st, "acct:r",
		    &seen), 0);
		assert_int_equal(seen.failures, 2);
		assert_int_equal(seen.last_at, 2001);
		/* a good one gives its place back, never below zero */
		for (int i = 0; i < 3; i++)
			assert_int_equal(store_login_failure_release(fx->st,
			    "acct:r"), 0);
		assert_int_equal(store_login_failures_get(fx->st, "acct:r",
		    &seen), 0);
		assert_int_equal(seen.failures, 0);
		/* the run starts again after reset_after, as add does */
		assert_int_equal(store_login_failure_reserve(fx->st, "acct:r",
		    2001 + 86401, 86400, &seen), 0);
		assert_int_equal(store_login_failures_get(fx->st, "acct:r",
		    &seen), 0);
		assert_int_equal(seen.failures, 1);
		assert_int_equal(seen.first_at, 2001 + 86401);
		assert_int_equal(store_login_failure_reserve(fx->st, "",
		    1, 1, &seen), RC_INVAL);
		assert_int_equal(store_login_failure_reserve(fx->st, "acct:r",
		    1, 1, NULL), RC_INVAL);
		assert_int_equal(store_login_failure_release(fx->st, NULL),
		    RC_INVAL);
	}
}

static void
test_slot_states(void **state)
{
	struct fx *fx = *state;
	struct store_slot s;
	struct store_contract k;

	assert_int_equal(store_slot_get(fx->st, fx->slot_u, &s), 0);
	assert_string_equal(s.product, "unlimited");
	assert_string_equal(s.state, "unused");
	assert_int_equal(s.customer_id, fx->cust);
	assert_int_equal(s.contract_id, fx->contract);
	store_slot_clear(&s);
	assert_int_equal(store_slot_get(fx->st, 999, &s), RC_NOTFOUND);
	assert_int_equal(store_contract_get(fx->st, fx->contract, &k), 0);
	assert_string_equal(k.number, "C-1");
	assert_int_equal(k.customer_id, fx->cust);
	store_contract_clear(&k);

	/* not in the list */
	assert_int_equal(store_slot_set_state(fx->st, fx->slot_u, "unused",
	    "issued", 0), RC_INVAL);
	assert_int_equal(store_slot_set_state(fx->st, fx->slot_u, "unused",
	    "bogus", 0), RC_INVAL);
	assert_int_equal(store_slot_set_state(fx->st, fx->slot_u,
	    "cancelled", "active", 0), RC_INVAL);
	/* allowed, then the same move again finds another state */
	assert_int_equal(store_slot_set_state(fx->st, fx->slot_u, "unused",
	    "active", 2000), 0);
	assert_int_equal(store_slot_set_state(fx->st, fx->slot_u, "unused",
	    "active", 0), RC_STATE);
	assert_int_equal(store_slot_set_state(fx->st, 999, "unused",
	    "active", 0), RC_NOTFOUND);
	assert_int_equal(store_slot_get(fx->st, fx->slot_u, &s), 0);
	assert_string_equal(s.state, "active");
	assert_int_equal(s.updated_at, 2000);
	store_slot_clear(&s);
	assert_int_equal(store_slot_set_state(fx->st, fx->slot_u, "active",
	    "pending", 0), 0);
	assert_int_equal(store_slot_set_state(fx->st, fx->slot_u, "pending",
	    "issued", 0), 0);
	assert_int_equal(store_slot_set_state(fx->st, fx->slot_u, "issued",
	    "revoked", 0), 0);
}

static void
test_slot_action(void **state)
{
	struct store_slot s = {0};

	(void)state;
	s.product = "unlimited";
	s.state = "unused";
	assert_string_equal(portal_slot_action(&s), "activate");
	s.state = "active";
	assert_string_equal(portal_slot_action(&s), "setup");
	s.state = "pending";
	assert_null(portal_slot_action(&s));
	s.product = "starter";
	s.state = "unused";
	assert_string_equal(portal_slot_action(&s), "setup");
	/* a certificate slot that holds (or held) one: renew or reissue */
	s.state = "issued";
	assert_string_equal(portal_slot_action(&s), "setup");
	s.state = "revoked";
	assert_string_equal(portal_slot_action(&s), "setup");
	s.state = "pending";
	assert_null(portal_slot_action(&s));
	s.state = "cancelled";
	assert_null(portal_slot_action(&s));
}

/* Staff see no customer's objects through the portal: the scope is never
 * 0 (the ra's "every customer"), contracts and slots are not visible, the
 * list is empty; the customer sees its own and only its own. */
static void
test_customer_scope(void **state)
{
	struct fx *fx = *state;
	static const enum store_role roles[] = {STORE_ROLE_CUSTOMER,
		STORE_ROLE_AGENT, STORE_ROLE_ADMIN};
	struct portal_req c;
	struct store_contract k;
	struct store_slot sl;
	int64_t *ids = NULL;
	size_t n = 99;

	for (size_t r = 0; r < 3; r++)
		for (int64_t cid = -1; cid <= 2; cid++)
			for (int authed = 0; authed <= 1; authed++) {
				memset(&c, 0, sizeof(c));
				c.authed = authed;
				c.user.role = roles[r];
				c.user.customer_id = cid;
				assert_int_not_equal(portal_customer_scope(&c),
				    0);
				assert_int_equal(portal_is_staff(&c),
				    authed && roles[r] != STORE_ROLE_CUSTOMER);
			}
	memset(&c, 0, sizeof(c));
	c.st = fx->st;
	c.authed = 1;
	c.user.role = STORE_ROLE_CUSTOMER;
	c.user.customer_id = fx->cust;
	assert_int_equal(portal_customer_scope(&c), fx->cust);
	assert_int_equal(portal_contract_visible(&c, fx->contract, &k), 0);
	store_contract_clear(&k);
	assert_int_equal(portal_slot_visible(&c, fx->slot_s, &sl), 0);
	store_slot_clear(&sl);
	assert_int_equal(portal_contract_ids(&c, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], fx->contract);
	free(ids);
	c.user.customer_id = fx->other;
	assert_int_equal(portal_contract_visible(&c, fx->contract, &k),
	    RC_NOTFOUND);
	for (size_t r = 1; r < 3; r++) {
		c.user.role = roles[r];
		c.user.customer_id = 0;
		assert_int_equal(portal_customer_scope(&c), -1);
		assert_int_equal(portal_contract_visible(&c, fx->contract, &k),
		    RC_NOTFOUND);
		assert_int_equal(portal_slot_visible(&c, fx->slot_s, &sl),
		    RC_NOTFOUND);
		assert_int_equal(portal_slot_visible(&c, fx->slot_u, &sl),
		    RC_NOTFOUND);
		ids = NULL;
		n = 99;
		assert_int_equal(portal_contract_ids(&c, &ids, &n), 0);
		assert_int_equal(n, 0);
		free(ids);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
		cmocka_unit_test(test_dummy_hash),
		cmocka_unit_test_setup_teardown(test_user_lookup, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_purge, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_reveal, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_eab_reveal, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_token_expiry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_login_failures, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_slot_states, setup,
		    teardown),
		cmocka_unit_test(test_slot_action),
		cmocka_unit_test_setup_teardown(test_customer_scope, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
