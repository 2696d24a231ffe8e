/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/ra/account.c through ra.h: the account lifecycle
 * (create, same key again, lookups, contact update, key change with a
 * taken key, deactivation and what it cancels), revocation by the CA (by
 * the operator, and of the account of a key blocked as compromised; a
 * blocked key gets no account), contact validation with
 * hostile values, External Account Binding keys (create, use once, wrong
 * kid, required by config, audit without the key), and nonces (single
 * use, shared by two store handles like two server instances, expiry,
 * purge, malformed values).
 */
#include "ra_test.h"

#include "store/store.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void
test_account_lifecycle(void **state)
{
	struct rt_env *e = *state;
	struct ra_account a = {0}, b = {0};
	struct ra_err err = {0};
	char tp[44], tp2[44];
	int64_t other = -1, id, id2;

	rt_thumbprint("alice", tp);
	assert_int_equal(ra_account_new(e->ra, "{\"k\":1}", tp,
	    "[\"mailto:alice@example.com\"]", NULL, &a, &err), 0);
	assert_true(a.id > 0);
	assert_int_equal(a.status, RA_ST_VALID);
	assert_string_equal(a.thumbprint, tp);
	assert_string_equal(a.jwk, "{\"k\":1}");
	assert_string_equal(a.contact, "[\"mailto:alice@example.com\"]");
	assert_int_equal(a.contract_id, 0);
	assert_null(a.eab_kid);
	assert_int_equal(a.created_at, RT_T0);
	id = a.id;
	ra_account_clear(&a);

	/* RFC 8555 §7.3.1: the same key again gives the existing account */
	assert_int_equal(ra_account_new(e->ra, "{\"k\":1}", tp, NULL, NULL,
	    &a, &err), RC_EXISTS);
	assert_int_equal(a.id, id);
	ra_account_clear(&a);

	assert_int_equal(ra_account_by_thumbprint(e->ra, tp, &a, &err), 0);
	assert_int_equal(a.id, id);
	ra_account_clear(&a);
	assert_int_equal(ra_account_get(e->ra, id, &a, &err), 0);
	assert_string_equal(a.thumbprint, tp);
	ra_account_clear(&a);
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_account_get(e->ra, id + 100, &a, &err),
	    RC_NOTFOUND);
	assert_int_equal(err.problem, RA_PROB_ACCOUNT_DOES_NOT_EXIST);
	assert_int_equal(ra_account_get(e->ra, -1, &a, &err), RC_NOTFOUND);
	assert_int_equal(ra_account_by_thumbprint(e->ra, "no such tp!", &a,
	    &err), RC_NOTFOUND);

	/* contact update */
	assert_int_equal(ra_account_update_contact(e->ra, id,
	    "[\"mailto:a@example.org\",\"mailto:b@example.org\"]", &a, &err),
	    0);
	assert_string_equal(a.contact,
	    "[\"mailto:a@example.org\",\"mailto:b@example.org\"]");
	ra_account_clear(&a);
	assert_int_equal(ra_account_update_contact(e->ra, id, "[]", &a, &err),
	    0);
	assert_string_equal(a.contact, "[]");
	ra_account_clear(&a);

	/* key change: to a key of another account -> RC_EXISTS + its id */
	id2 = rt_account(e, "bob");
	rt_thumbprint("bob", tp2);
	assert_int_equal(ra_account_key_change(e->ra, id, NULL, "{\"k\":2}",
	    tp2, NULL, &other, &a, &err), RC_EXISTS);
	assert_int_equal(other, id2);
	rt_thumbprint("alice-new", tp2);
	assert_int_equal(ra_account_key_change(e->ra, id, NULL, "{\"k\":3}",
	    tp2, NULL, &other, &a, &err), 0);
	assert_string_equal(a.thumbprint, tp2);
	assert_string_equal(a.jwk, "{\"k\":3}");
	ra_account_clear(&a);
	assert_int_equal(ra_account_by_thumbprint(e->ra, tp, &a, &err),
	    RC_NOTFOUND);
	assert_int_equal(ra_account_by_thumbprint(e->ra, tp2, &b, &err), 0);
	assert_int_equal(b.id, id);
	ra_account_clear(&b);
	/* a second key change signed with the old key, verified before the
	 * first committed: refused, the first stands */
	{
		char tp3[64];

		rt_thumbprint("alice-thief", tp3);
		memset(&err, 0, sizeof(err));
		assert_int_equal(ra_account_key_change(e->ra, id, tp, "{}",
		    tp3, NULL, NULL, NULL, &err), RC_STATE);
		assert_int_equal(err.problem, RA_PROB_UNAUTHORIZED);
		assert_non_null(strstr(err.detail.msg, "changed meanwhile"));
		assert_int_equal(ra_account_get(e->ra, id, &a, &err), 0);
		assert_string_equal(a.thumbprint, tp2);
		ra_account_clear(&a);
	}

	/* deactivation: for good */
	assert_int_equal(ra_account_deactivate(e->ra, id, &a, &err), 0);
	assert_int_equal(a.status, RA_ST_DEACTIVATED);
	ra_account_clear(&a);
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_account_deactivate(e->ra, id, &a, &err),
	    RC_STATE);
	assert_int_equal(err.problem, RA_PROB_UNAUTHORIZED);
	assert_int_equal(ra_account_update_contact(e->ra, id, "[]", &a, &err),
	    RC_STATE);
	rt_thumbprint("alice-3", tp2);
	assert_int_equal(ra_account_key_change(e->ra, id, NULL, "{}", tp2, NULL,
	    NULL, NULL, &err), RC_STATE);
	assert_int_equal(ra_account_deactivate(e->ra, 9999, NULL, &err),
	    RC_NOTFOUND);

	/* audited */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action LIKE 'acme.account.%'"), 6);
}

static void
test_deactivate_cancels(void **state)
{
	struct rt_env *e = *state;
	struct ra_order o = {0};
	struct ra_authz a = {0};
	struct ra_err err = {0};
	int64_t acct = rt_account(e, "carol"), ord, ord2;

	ord = rt_order(e, acct, "www.example.com");
	ord2 = rt_order(e, acct, "mail.example.com");
	rt_validate_order(e, acct, ord2, RA_CHALL_HTTP01);
	assert_int_equal(ra_account_deactivate(e->ra, acct, NULL, &err), 0);
	assert_int_equal(ra_order_get(e->ra, acct, ord, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_INVALID);
	assert_int_equal(o.error, RA_PROB_UNAUTHORIZED);
	assert_int_equal(ra_authz_get(e->ra, acct, o.authz_ids[0], &a, &err),
	    0);
	assert_int_equal(a.status, RA_ST_DEACTIVATED);
	ra_authz_clear(&a);
	ra_order_clear(&o);
	/* the valid one too */
	assert_int_equal(ra_order_get(e->ra, acct, ord2, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_INVALID);
	assert_int_equal(ra_authz_get(e->ra, acct, o.authz_ids[0], &a, &err),
	    0);
	assert_int_equal(a.status, RA_ST_DEACTIVATED);
	ra_authz_clear(&a);
	ra_order_clear(&o);
	/* and no new orders */
	{
		struct ra_ident id = {"dns", "x.example.com"};

		assert_int_equal(ra_order_new(e->ra, acct, &id, 1, &o, &err),
		    RC_STATE);
		assert_int_equal(err.problem, RA_PROB_UNAUTHORIZED);
	}
}

/* The CA's side: an account revoked by the operator, and the account of
 * a key blocked as compromised, revoked in the block's transaction; a
 * blocked key gets no account, by creation or key change. */
static void
test_revoke_and_blocked_keys(void **state)
{
	struct rt_env *e = *state;
	struct ra_account a = {0};
	struct ra_order o = {0};
	struct ra_err err = {0};
	struct rc_detail d = {{0}};
	uint8_t h1[32], h2[32], h3[32];
	char tp1[44], tp2[44], tp3[44], sql[160];
	int64_t id1, id2, id3, ord, other = 0;
	size_t revoked = 9;

	memset(h1, 1, 32);
	memset(h2, 2, 32);
	memset(h3, 3, 32);
	rt_thumbprint("k1", tp1);
	rt_thumbprint("k2", tp2);
	rt_thumbprint("k3", tp3);
	assert_int_equal(ra_account_new_from(e->ra, NULL, "{\"k\":1}", tp1,
	    h1, NULL, NULL, &a, &err), 0);
	id1 = a.id;
	ra_account_clear(&a);
	assert_int_equal(ra_account_new_from(e->ra, NULL, "{\"k\":2}", tp2,
	    h2, NULL, NULL, &a, &err), 0);
	id2 = a.id;
	ra_account_clear(&a);
	assert_int_equal(ra_account_new_from(e->ra, NULL, "{\"k\":3}", tp3,
	    NULL, NULL, NULL, &a, &err), 0);
	id3 = a.id;
	ra_account_clear(&a);
	ord = rt_order(e, id1, "www.example.com");

	/* the key of account 1 is reported compromised */
	assert_int_equal(ca_block_key_hash(e->ca, h1, "test", "evidence", NULL,
	    &revoked, &d), 0);
	assert_int_equal(revoked, 0);
	assert_int_equal(ra_account_get(e->ra, id1, &a, &err), 0);
	assert_int_equal(a.status, RA_ST_REVOKED);
	ra_account_clear(&a);
	assert_int_equal(ra_order_get(e->ra, id1, ord, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_INVALID);
	assert_int_equal(o.error, RA_PROB_UNAUTHORIZED);
	ra_order_clear(&o);
	/* its authorization: revoked by the CA (RFC 8555 7.1.6), not
	 * deactivated as by its client */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM authorizations WHERE "
	    "account_id = %lld AND status = 'revoked'", (long long)id1);
	assert_int_equal(rt_count(e, sql), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.account.revoke' AND actor = 'test' AND details "
	    "LIKE '%compromised%'"), 1);
	/* after the key's own entry, in the same transaction */
	assert_int_equal(rt_count(e, "SELECT (SELECT max(seq) FROM audit_log "
	    "WHERE action = 'acme.account.revoke') - (SELECT max(seq) FROM "
	    "audit_log WHERE action = 'key.compromised')"), 1);
	/* the others stay */
	assert_int_equal(ra_account_get(e->ra, id2, &a, &err), 0);
	assert_int_equal(a.status, RA_ST_VALID);
	ra_account_clear(&a);
	assert_int_equal(ra_account_get(e->ra, id3, &a, &err), 0);
	assert_int_equal(a.status, RA_ST_VALID);
	ra_account_clear(&a);

	/* a blocked key gets no new account, nor is it changed to */
	rt_thumbprint("k1b", tp1);
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_account_new_from(e->ra, NULL, "{\"k\":4}", tp1,
	    h1, NULL, NULL, &a, &err), RC_WEAKKEY);
	assert_int_equal(err.problem, RA_PROB_BAD_PUBLIC_KEY);
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_account_key_change(e->ra, id2, NULL, "{\"k\":5}",
	    tp1, h1, &other, NULL, &err), RC_WEAKKEY);
	assert_int_equal(err.problem, RA_PROB_BAD_PUBLIC_KEY);
	assert_int_equal(ra_account_get(e->ra, id2, &a, &err), 0);
	assert_string_equal(a.jwk, "{\"k\":2}");
	ra_account_clear(&a);
	/* a key change moves the hash: blocking the old key spares it */
	assert_int_equal(ra_account_key_change(e->ra, id2, NULL, "{\"k\":6}",
	    tp1, h3, &other, NULL, &err), 0);
	assert_int_equal(ca_block_key_hash(e->ca, h2, "test", "old key", NULL,
	    &revoked, &d), 0);
	assert_int_equal(ra_account_get(e->ra, id2, &a, &err), 0);
	assert_int_equal(a.status, RA_ST_VALID);
	ra_account_clear(&a);

	/* revoked by the operator */
	assert_int_equal(ra_account_revoke(e->ra, id3, "admin:cli", "",
	    &err), RC_INVAL);
	assert_int_equal(ra_account_revoke(e->ra, id3, "admin:cli",
	    "abuse report 42", &err), 0);
	assert_int_equal(ra_account_get(e->ra, id3, &a, &err), 0);
	assert_int_equal(a.status, RA_ST_REVOKED);
	ra_account_clear(&a);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.account.revoke' AND actor = 'admin:cli' AND "
	    "details LIKE '%abuse report 42%'"), 1);
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_account_revoke(e->ra, id3, "admin:cli", "again",
	    &err), RC_STATE);
	assert_int_equal(ra_account_revoke(e->ra, id1, "admin:cli", "again",
	    &err), RC_STATE);
	assert_int_equal(ra_account_revoke(e->ra, 99999, "admin:cli", "x",
	    &err), RC_NOTFOUND);
	/* and a revoked account changes nothing more */
	assert_int_equal(ra_account_deactivate(e->ra, id3, NULL, &err),
	    RC_STATE);
}

static void
test_contacts(void **state)
{
	struct rt_env *e = *state;
	static const struct {
		const char *json;
		enum ra_prob p;
	} bad[] = {
		{"[\"tel:+4912345\"]", RA_PROB_UNSUPPORTED_CONTACT},
		{"[\"https://example.com\"]", RA_PROB_UNSUPPORTED_CONTACT},
		{"[\"MAILTO:a@example.com\"]", RA_PROB_UNSUPPORTED_CONTACT},
		{"[\"mailto:a@example.com?subject=hi\"]",
		    RA_PROB_INVALID_CONTACT},
		{"[\"mailto:a@example.com,b@example.com\"]",
		    RA_PROB_INVALID_CONTACT},
		{"[\"mailto:a%40b@example.com\"]", RA_PROB_INVALID_CONTACT},
		{"[\"mailto:a b@example.com\"]", RA_PROB_INVALID_CONTACT},
		{"[\"mailto:ab\"]", RA_PROB_INVALID_CONTACT},
		{"[\"mailto:@example.com\"]", RA_PROB_INVALID_CONTACT},
		{"[\"mailto:a@@example.com\"]", RA_PROB_INVALID_CONTACT},
		{"[\"mailto:a@localhost\"]", RA_PROB_INVALID_CONTACT},
		{"[\"mailto:a@exa_mple.com\"]", RA_PROB_INVALID_CONTACT},
		{"[\"mailto:a@1.2.3.4\"]", RA_PROB_INVALID_CONTACT},
		{"[\"mailto:a@example.com.\"]", RA_PROB_INVALID_CONTACT},
		{"[\"mailto:\\u00e4@example.com\"]", RA_PROB_INVALID_CONTACT},
		{"[\"mailto:a\\u0000b@example.com\"]", RA_PROB_MALFORMED},
		{"[\"mailto:a@b.com\",\"mailto:a@b.com\",\"mailto:a@b.com\","
		    "\"mailto:a@b.com\",\"mailto:a@b.com\"]",
		    RA_PROB_INVALID_CONTACT},
		{"[1]", RA_PROB_MALFORMED},
		{"\"mailto:a@example.com\"", RA_PROB_MALFORMED},
		{"{}", RA_PROB_MALFORMED},
		{"[\"mailto:a@example.com\"", RA_PROB_MALFORMED},
		{"[[\"mailto:a@example.com\"]]", RA_PROB_MALFORMED},
	};
	struct ra_account a = {0};
	char tp[44], local[80], json[200];

	rt_thumbprint("dave", tp);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ra_err err = {0};

		if (ra_account_new(e->ra, "{}", tp, bad[i].json, NULL, &a,
		    &err) == 0)
			fail_msg("accepted contact %s", bad[i].json);
		if (err.problem != bad[i].p)
			fail_msg("contact %s: problem %s, want %s",
			    bad[i].json, ra_prob_name(err.problem),
			    ra_prob_name(bad[i].p));
		assert_true(err.detail.msg[0] != '\0');
	}
	/* a local part over 64 */
	memset(local, 'a', 65);
	local[65] = '\0';
	snprintf(json, sizeof(json), "[\"mailto:%s@example.com\"]", local);
	assert_int_equal(ra_account_new(e->ra, "{}", tp, json, NULL, &a,
	    NULL), RC_INVAL);
	/* huge */
	{
		size_t n = 20000;
		char *big = xmalloc(n);

		memset(big, ' ', n - 1);
		big[0] = '[';
		big[n - 2] = ']';
		big[n - 1] = '\0';
		assert_int_equal(ra_account_new(e->ra, "{}", tp, big, NULL,
		    &a, NULL), RC_INVAL);
		free(big);
	}
	/* nothing was created */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM acme_accounts"),
	    0);
	/* good ones, including the maximum count and an A-label domain */
	assert_int_equal(ra_account_new(e->ra, "{}", tp,
	    "[\"mailto:a@b.example\",\"mailto:x.y+z@xn--bcher-kva.example\","
	    "\"mailto:c@d.example\",\"mailto:e@F.Example\"]", NULL, &a, NULL),
	    0);
	ra_account_clear(&a);
}

static void
test_bad_account_input(void **state)
{
	struct rt_env *e = *state;
	struct ra_account a = {0};
	struct ra_err err = {0};
	char tp[44], *huge;

	rt_thumbprint("erin", tp);
	assert_int_equal(ra_account_new(e->ra, "", tp, NULL, NULL, &a, &err),
	    RC_INVAL);
	assert_int_equal(err.problem, RA_PROB_BAD_PUBLIC_KEY);
	assert_int_equal(ra_account_new(e->ra, NULL, tp, NULL, NULL, &a,
	    &err), RC_INVAL);
	assert_int_equal(ra_account_new(e->ra, "{}", "", NULL, NULL, &a,
	    &err), RC_INVAL);
	assert_int_equal(ra_account_new(e->ra, "{}", "a.b", NULL, NULL, &a,
	    &err), RC_INVAL);
	assert_int_equal(ra_account_new(e->ra, "{}", NULL, NULL, NULL, &a,
	    &err), RC_INVAL);
	huge = xmalloc(40000);
	memset(huge, 'x', 39999);
	huge[39999] = '\0';
	assert_int_equal(ra_account_new(e->ra, huge, tp, NULL, NULL, &a,
	    &err), RC_INVAL);
	assert_int_equal(ra_account_new(e->ra, "{}", huge, NULL, NULL, &a,
	    &err), RC_INVAL);
	free(huge);
	assert_int_equal(ra_account_new(e->ra, "{}", tp, NULL, "bad kid!",
	    &a, &err), RC_UNAUTH);
	assert_int_equal(ra_account_new(NULL, "{}", tp, NULL, NULL, &a,
	    &err), RC_INVAL);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM acme_accounts"),
	    0);
}

struct eab_seen {
	size_t n, bound;
	int64_t account;
};

static int
eab_seen(const struct store_eab_key *k, void *arg)
{
	struct eab_seen *s = arg;

	assert_null(k->key);	/* a listing never reads the key */
	s->n++;
	if (k->account_id > 0) {
		s->bound++;
		s->account = k->account_id;
		assert_true(k->bound_at > 0);
	}
	return 0;
}

/* Key ids never start with '-', which command lines read as an option
 * (certbot --eab-kid -x): without the redraw, 400 ids miss one with
 * probability (63/64)^400, 0.2 %. */
static void
test_eab_kid_no_dash(void **state)
{
	struct rt_env *e = *state;
	struct rc_detail d = {""};
	struct sec *key = NULL;
	char kid[RA_EAB_KID_LEN + 1];

	for (int i = 0; i < 400; i++) {
		assert_int_equal(ra_eab_create(e->ra, e->contract, "cli:test",
		    kid, &key, &d), 0);
		sec_free(key);
		assert_int_not_equal(kid[0], '-');
	}
}

/* The portal's listing and revocation: an unused key goes (audited), a
 * used one stays, another contract's or a malformed kid is not found; the
 * account of a used one can be deactivated for its contract. */
static void
test_eab_list_revoke(void **state)
{
	struct rt_env *e = *state;
	struct ra_account a = {0};
	struct ra_err err = {0};
	struct rc_detail d = {""};
	struct sec *key = NULL;
	struct eab_seen seen = {0};
	char used[RA_EAB_KID_LEN + 1], unused[RA_EAB_KID_LEN + 1], tp[44];

	assert_int_equal(ra_eab_create(e->ra, e->contract, "portal:user/7",
	    used, &key, &d), 0);
	sec_free(key);
	assert_int_equal(ra_eab_create(e->ra, e->contract, "portal:user/7",
	    unused, &key, &d), 0);
	sec_free(key);
	rt_thumbprint("grace", tp);
	assert_int_equal(ra_account_new(e->ra, "{}", tp, NULL, used, &a, &err),
	    0);
	assert_int_equal(store_eab_list(e->st, e->contract, eab_seen, &seen),
	    0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.bound, 1);
	assert_int_equal(seen.account, a.id);
	/* the one in use stays; not found elsewhere; malformed */
	assert_int_equal(ra_eab_revoke(e->ra, e->contract, used,
	    "portal:user/7"), RC_STATE);
	assert_int_equal(ra_eab_revoke(e->ra, e->contract + 50, unused,
	    "portal:user/7"), RC_NOTFOUND);
	assert_int_equal(ra_eab_revoke(e->ra, e->contract, "not a kid!",
	    "portal:user/7"), RC_NOTFOUND);
	assert_int_equal(ra_eab_revoke(e->ra, e->contract, "",
	    "portal:user/7"), RC_NOTFOUND);
	assert_int_equal(ra_eab_revoke(e->ra, e->contract, NULL,
	    "portal:user/7"), RC_NOTFOUND);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.eab.revoke'"), 0);
	/* the unused one goes, once */
	assert_int_equal(ra_eab_revoke(e->ra, e->contract, unused,
	    "portal:user/7"), 0);
	assert_int_equal(ra_eab_revoke(e->ra, e->contract, unused,
	    "portal:user/7"), RC_NOTFOUND);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.eab.revoke' AND actor = 'portal:user/7'"), 1);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_eab_list(e->st, e->contract, eab_seen, &seen),
	    0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.bound, 1);
	/* a revoked key binds nothing */
	assert_int_equal(ra_eab_lookup(e->ra, unused, &key, &a.contract_id,
	    &err), RC_UNAUTH);
	/* the customer cuts the bound account off: only through its own
	 * contract, once, audited as the portal user */
	assert_int_equal(ra_account_deactivate_for(e->ra, a.id,
	    e->contract + 50, "portal:user/7", &err), RC_NOTFOUND);
	assert_int_equal(ra_account_deactivate_for(e->ra, a.id, e->contract,
	    "portal:user/7", &err), 0);
	assert_int_equal(ra_account_deactivate_for(e->ra, a.id, e->contract,
	    "portal:user/7", &err), RC_STATE);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.account.deactivate' AND actor = "
	    "'portal:user/7'"), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM acme_accounts "
	    "WHERE status = 'deactivated'"), 1);
	assert_int_equal(ra_account_deactivate_for(e->ra, a.id, e->contract,
	    NULL, &err), RC_INVAL);
	ra_account_clear(&a);
}

static void
test_eab(void **state)
{
	struct rt_env *e = *state;
	struct ra_account a = {0}, b = {0};
	struct ra_err err = {0};
	struct rc_detail d = {""};
	struct sec *key = NULL, *key2 = NULL;
	char kid[RA_EAB_KID_LEN + 1], tp[44];
	int64_t contract = 0;

	assert_int_equal(ra_eab_create(e->ra, e->contract, "cli:test", kid,
	    &key, &d), 0);
	assert_int_equal(strlen(kid), RA_EAB_KID_LEN);
	assert_non_null(key);
	assert_int_equal(key->len, RA_EAB_KEY_LEN);
	/* the kid is audited, the key is not (nor anything of its length) */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.eab.create' AND actor = 'cli:test' AND details "
	    "LIKE '%\"kid\"%'"), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'acme.eab.create' AND length(details) > 80"), 0);
	{
		char kid2[RA_EAB_KID_LEN + 1];

		assert_int_equal(ra_eab_create(e->ra, e->contract + 50,
		    "cli:test", kid2, &key2, &d), RC_NOTFOUND);
		assert_null(key2);
		assert_string_equal(kid2, "");
	}
	/* lookup gives the same key and the contract */
	assert_int_equal(ra_eab_lookup(e->ra, kid, &key2, &contract, &err), 0);
	assert_int_equal(contract, e->contract);
	assert_int_equal(key2->len, RA_EAB_KEY_LEN);
	assert_true(sec_equal(key->data, key2->data, RA_EAB_KEY_LEN));
	sec_free(key2);
	key2 = NULL;
	/* wrong kids */
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_eab_lookup(e->ra, "AAAAAAAAAAAAAAAAAAAAAA", &key2,
	    &contract, &err), RC_UNAUTH);
	assert_int_equal(err.problem, RA_PROB_UNAUTHORIZED);
	assert_int_equal(ra_eab_lookup(e->ra, "bad kid", &key2, &contract,
	    &err), RC_UNAUTH);
	assert_int_equal(ra_eab_lookup(e->ra, "", &key2, &contract, &err),
	    RC_UNAUTH);
	assert_int_equal(ra_eab_lookup(e->ra, NULL, &key2, &contract, &err),
	    RC_UNAUTH);

	/* bind: the account joins the contract */
	rt_thumbprint("frank", tp);
	assert_int_equal(ra_account_new(e->ra, "{}", tp, NULL, kid, &a, &err),
	    0);
	assert_int_equal(a.contract_id, e->contract);
	assert_string_equal(a.eab_kid, kid);
	/* used once: the lookup still gives the key, for the MAC to be
	 * checked before anyone is told; a second account is refused */
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_eab_lookup(e->ra, kid, &key2, &contract, &err),
	    0);
	assert_int_equal(contract, e->contract);
	assert_true(sec_equal(key->data, key2->data, RA_EAB_KEY_LEN));
	sec_free(key2);
	key2 = NULL;
	rt_thumbprint("grace", tp);
	assert_int_equal(ra_account_new(e->ra, "{}", tp, NULL, kid, &b, &err),
	    RC_UNAUTH);
	assert_int_equal(err.problem, RA_PROB_UNAUTHORIZED);
	assert_non_null(strstr(err.detail.msg, "already used"));
	assert_int_equal(ra_account_by_thumbprint(e->ra, tp, &b, NULL),
	    RC_NOTFOUND);
	/* unknown kid at account creation */
	assert_int_equal(ra_account_new(e->ra, "{}", tp, NULL,
	    "AAAAAAAAAAAAAAAAAAAAAA", &b, &err), RC_UNAUTH);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM eab_keys WHERE "
	    "account_id IS NOT NULL"), 1);
	ra_account_clear(&a);
	sec_free(key);
	sec_free(key2);
}

static void
test_require_eab(void **state)
{
	struct rt_env *e = *state;
	struct ra_conf c = e->rconf;
	struct ra *ra = NULL;
	struct ra_account a = {0};
	struct ra_err err = {0};
	struct sec *key = NULL;
	char kid[RA_EAB_KID_LEN + 1], tp[44];

	c.require_eab = 1;
	assert_int_equal(ra_open(&c, e->st, e->ca, NULL, &ra, NULL), 0);
	rt_thumbprint("heidi", tp);
	assert_int_equal(ra_account_new(ra, "{}", tp, NULL, NULL, &a, &err),
	    RC_UNAUTH);
	assert_int_equal(err.problem, RA_PROB_EXTERNAL_ACCOUNT_REQUIRED);
	assert_int_equal(ra_eab_create(ra, e->contract, NULL, kid, &key,
	    NULL), 0);
	assert_int_equal(ra_account_new(ra, "{}", tp, NULL, kid, &a, &err), 0);
	assert_int_equal(a.contract_id, e->contract);
	ra_account_clear(&a);
	sec_free(key);
	ra_free(ra);
}

static void
test_nonces(void **state)
{
	struct rt_env *e = *state;
	struct store_conf sc = {"sqlite", e->db, 0};
	struct store *st2 = NULL;
	struct ra *ra2 = NULL;
	char n1[RA_NONCE_LEN + 1], n2[RA_NONCE_LEN + 1];

	assert_int_equal(ra_nonce_new(e->ra, n1), 0);
	assert_int_equal(strlen(n1), RA_NONCE_LEN);
	assert_int_equal(ra_nonce_new(e->ra, n2), 0);
	assert_string_not_equal(n1, n2);
	/* single use */
	assert_int_equal(ra_nonce_redeem(e->ra, n1), 0);
	assert_int_equal(ra_nonce_redeem(e->ra, n1), RC_NOTFOUND);

	/* a second instance on the same database redeems the first's */
	assert_int_equal(store_open(&sc, &st2), 0);
	assert_int_equal(ra_open(&e->rconf, st2, NULL, NULL, &ra2,
	    NULL), 0);
	assert_int_equal(ra_nonce_redeem(ra2, n2), 0);
	assert_int_equal(ra_nonce_redeem(e->ra, n2), RC_NOTFOUND);
	assert_int_equal(ra_nonce_new(ra2, n2), 0);
	assert_int_equal(ra_nonce_redeem(e->ra, n2), 0);

	/* malformed */
	assert_int_equal(ra_nonce_redeem(e->ra, NULL), RC_NOTFOUND);
	assert_int_equal(ra_nonce_redeem(e->ra, ""), RC_NOTFOUND);
	assert_int_equal(ra_nonce_redeem(e->ra, "short"), RC_NOTFOUND);
	assert_int_equal(ra_nonce_redeem(e->ra, "aaaaaaaaaaaaaaaaaaaaa="),
	    RC_NOTFOUND);
	assert_int_equal(ra_nonce_redeem(e->ra,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	    RC_NOTFOUND);

	/* forged: a valid-looking nonce with one character changed */
	assert_int_equal(ra_nonce_new(e->ra, n1), 0);
	n1[5] = n1[5] == 'A' ? 'B' : 'A';
	assert_int_equal(ra_nonce_redeem(e->ra, n1), RC_NOTFOUND);
	assert_int_equal(ra_nonce_redeem(e->ra,
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), RC_NOTFOUND);

	/* expiry: one hour */
	assert_int_equal(ra_nonce_new(e->ra, n1), 0);
	assert_int_equal(ra_nonce_new(e->ra, n2), 0);
	ra_set_now(e->ra, RT_T0 + 3599);
	assert_int_equal(ra_nonce_redeem(e->ra, n1), 0);
	ra_set_now(e->ra, RT_T0 + 3600);
	assert_int_equal(ra_nonce_redeem(e->ra, n2), RC_NOTFOUND);
	/* redeeming writes nothing to the database */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM sqlite_master "
	    "WHERE name = 'nonces'"), 0);

	ra_free(ra2);
	store_close(st2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_account_lifecycle, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_deactivate_cancels, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_and_blocked_keys,
		    rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_contacts, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_bad_account_input, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_eab, rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_eab_kid_no_dash,
		    rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_eab_list_revoke, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_require_eab, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_nonces, rt_cm_setup, rt_cm_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
