/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/portal/auth.c: session ids and tokens, CSRF tokens, the
 * sealing of a new token or EAB key for its one showing, cookie parsing
 * (including planted duplicates) and building, the Origin and
 * Sec-Fetch-Site check, and the throttle's delays.
 */
#include "portal/portal_int.h"
#include "util/rc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void
test_random_and_formats(void **state)
{
	char a[PORTAL_SESSION_ID_HEX + 1], b[PORTAL_SESSION_ID_HEX + 1];
	char tok[PORTAL_TOKEN_LEN + 2];

	(void)state;
	assert_int_equal(portal_random_hex(a), 0);
	assert_int_equal(portal_random_hex(b), 0);
	assert_int_equal(strlen(a), PORTAL_SESSION_ID_HEX);
	assert_true(portal_session_id_ok(a));
	assert_string_not_equal(a, b);
	assert_false(portal_session_id_ok(NULL));
	assert_false(portal_session_id_ok("abc"));
	a[3] = 'G';
	assert_false(portal_session_id_ok(a));
	a[3] = 'A';	/* uppercase is not what we hand out */
	assert_false(portal_session_id_ok(a));
	snprintf(tok, sizeof(tok), "cdt_%s", b);
	assert_true(portal_token_ok(tok));
	tok[0] = 'x';
	assert_false(portal_token_ok(tok));
	assert_false(portal_token_ok("cdt_"));
	snprintf(tok, sizeof(tok), "cdt_%s0", b);
	assert_false(portal_token_ok(tok));
}

static void
test_sha256(void **state)
{
	uint8_t h[STORE_HASH_LEN];
	char hex[2 * STORE_HASH_LEN + 1];

	(void)state;
	assert_int_equal(portal_sha256("abc", h), 0);
	hex_encode(h, sizeof(h), hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}

/* what a sealed secret is of: a token's id, an EAB key's id */
#define TOKEN(id) (&(struct store_reveal){.token_id = (id)})
#define EAB(kid) (&(struct store_reveal){.eab_kid = (kid)})
#define SEALED_TOKEN (24 + PORTAL_TOKEN_LEN + 16)

/* A token sealed for its one showing opens only with its session's id and
 * its token id, unchanged. */
static void
test_token_seal(void **state)
{
	char a[PORTAL_SESSION_ID_HEX + 1], b[PORTAL_SESSION_ID_HEX + 1];
	char tok[PORTAL_TOKEN_TEXT], out[PORTAL_REVEAL_TEXT];
	uint8_t s1[PORTAL_REVEAL_SEALED_MAX], s2[PORTAL_REVEAL_SEALED_MAX];
	size_t n1 = 0, n2 = 0;

	(void)state;
	assert_int_equal(portal_random_hex(a), 0);
	assert_int_equal(portal_random_hex(b), 0);
	snprintf(tok, sizeof(tok), "cdt_%s", b);
	assert_int_equal(portal_reveal_seal(a, TOKEN(7), tok, s1, &n1), 0);
	assert_int_equal(portal_reveal_seal(a, TOKEN(7), tok, s2, &n2), 0);
	assert_int_equal(n1, SEALED_TOKEN);
	assert_int_equal(n2, SEALED_TOKEN);
	assert_memory_not_equal(s1, s2, n1);	/* own nonces */
	assert_null(memmem(s1, n1, tok, strlen(tok)));
	assert_int_equal(portal_reveal_unseal(a, TOKEN(7), s1, n1, out), 0);
	assert_string_equal(out, tok);
	assert_int_equal(portal_reveal_unseal(a, TOKEN(7), s2, n2, out), 0);
	assert_string_equal(out, tok);
	/* another session, another token, changed, cut short */
	assert_int_equal(portal_reveal_unseal(b, TOKEN(7), s1, n1, out),
	    RC_INVAL);
	assert_string_equal(out, "");
	assert_int_equal(portal_reveal_unseal(a, TOKEN(8), s1, n1, out),
	    RC_INVAL);
	for (size_t i = 0; i < n1; i += 13) {
		s1[i] ^= 1;
		assert_int_equal(portal_reveal_unseal(a, TOKEN(7), s1, n1,
		    out), RC_INVAL);
		assert_string_equal(out, "");
		s1[i] ^= 1;
	}
	assert_int_equal(portal_reveal_unseal(a, TOKEN(7), s1, n1 - 1, out),
	    RC_INVAL);
	assert_int_equal(portal_reveal_unseal(a, TOKEN(7), NULL, 0, out),
	    RC_INVAL);
	assert_int_equal(portal_reveal_unseal("x", TOKEN(7), s1, n1, out),
	    RC_INVAL);
	/* only a session id and a token */
	assert_int_equal(portal_reveal_seal("abc", TOKEN(7), tok, s1, &n1),
	    RC_INVAL);
	assert_int_equal(portal_reveal_seal(a, TOKEN(7), "cdt_x", s1, &n1),
	    RC_INVAL);
	assert_int_equal(n1, 0);
	assert_int_equal(portal_reveal_seal(a, TOKEN(0), tok, s1, &n1),
	    RC_INVAL);
}

/* The HMAC key of new ACME credentials, sealed for its one showing, opens
 * only with its session's id and its key id, unchanged, and never as a
 * token, nor a token as a key. */
static void
test_eab_seal(void **state)
{
	static const char kid[] = "AbCdEfGhIjKlMnOpQrSt_-", key[] =
	    "0123456789abcdefghijklmnopqrstuvwxyz-_ABCDE";
	char a[PORTAL_SESSION_ID_HEX + 1], b[PORTAL_SESSION_ID_HEX + 1];
	char tok[PORTAL_TOKEN_TEXT], out[PORTAL_REVEAL_TEXT];
	uint8_t s1[PORTAL_REVEAL_SEALED_MAX], st[PORTAL_REVEAL_SEALED_MAX];
	size_t n1 = 0, nt = 0;

	(void)state;
	assert_int_equal(strlen(key), PORTAL_EAB_KEY_LEN);
	assert_int_equal(portal_random_hex(a), 0);
	assert_int_equal(portal_random_hex(b), 0);
	assert_int_equal(portal_reveal_seal(a, EAB(kid), key, s1, &n1), 0);
	assert_int_equal(n1, 24 + PORTAL_EAB_KEY_LEN + 16);
	assert_null(memmem(s1, n1, key, strlen(key)));
	assert_int_equal(portal_reveal_unseal(a, EAB(kid), s1, n1, out), 0);
	assert_string_equal(out, key);
	/* another session, another key, changed */
	assert_int_equal(portal_reveal_unseal(b, EAB(kid), s1, n1, out),
	    RC_INVAL);
	assert_string_equal(out, "");
	assert_int_equal(portal_reveal_unseal(a, EAB("AbCdEfGhIjKlMnOpQrSt_A"),
	    s1, n1, out), RC_INVAL);
	s1[30] ^= 0x80;
	assert_int_equal(portal_reveal_unseal(a, EAB(kid), s1, n1, out),
	    RC_INVAL);
	s1[30] ^= 0x80;
	/* a key is no token, a token no key, whatever the ids */
	snprintf(tok, sizeof(tok), "cdt_%s", b);
	assert_int_equal(portal_reveal_seal(a, TOKEN(7), tok, st, &nt), 0);
	assert_int_equal(portal_reveal_unseal(a, EAB(kid), st, nt, out),
	    RC_INVAL);
	assert_int_equal(portal_reveal_unseal(a, TOKEN(7), s1, n1, out),
	    RC_INVAL);
	assert_string_equal(out, "");
	assert_int_equal(portal_reveal_seal(a, EAB(kid), tok, st, &nt),
	    RC_INVAL);
	assert_int_equal(portal_reveal_seal(a, TOKEN(7), key, st, &nt),
	    RC_INVAL);
	/* a key id and a key of their forms only; one of what, not two */
	assert_int_equal(portal_reveal_seal(a, EAB(""), key, st, &nt),
	    RC_INVAL);
	assert_int_equal(portal_reveal_seal(a, EAB("a/b"), key, st, &nt),
	    RC_INVAL);
	memset(tok, 'k', 65);
	tok[65] = '\0';
	assert_int_equal(portal_reveal_seal(a, EAB(tok), key, st, &nt),
	    RC_INVAL);
	tok[64] = '\0';
	assert_int_equal(portal_reveal_seal(a, EAB(tok), key, st, &nt), 0);
	assert_int_equal(portal_reveal_seal(a, EAB(kid), "short", st, &nt),
	    RC_INVAL);
	memcpy(tok, key, sizeof(key));
	tok[3] = '=';
	assert_int_equal(portal_reveal_seal(a, EAB(kid), tok, st, &nt),
	    RC_INVAL);
	assert_int_equal(portal_reveal_seal(a, &(struct store_reveal){7, kid},
	    key, st, &nt), RC_INVAL);
	assert_int_equal(portal_reveal_unseal(a, &(struct store_reveal){7,
	    kid}, s1, n1, out), RC_INVAL);
	assert_int_equal(portal_reveal_seal(a, NULL, key, st, &nt), RC_INVAL);
	assert_int_equal(portal_reveal_seal(a, EAB(kid), NULL, st, &nt),
	    RC_INVAL);
}

static void
test_csrf(void **state)
{
	uint8_t s1[STORE_CSRF_LEN], s2[STORE_CSRF_LEN];
	char t1[PORTAL_CSRF_LEN + 1], t2[PORTAL_CSRF_LEN + 1];

	(void)state;
	memset(s1, 1, sizeof(s1));
	memset(s2, 2, sizeof(s2));
	assert_int_equal(portal_csrf_token(s1, t1), 0);
	assert_int_equal(portal_csrf_token(s2, t2), 0);
	assert_string_not_equal(t1, t2);
	assert_true(portal_csrf_check(s1, t1));
	assert_false(portal_csrf_check(s1, t2));	/* another session's */
	assert_false(portal_csrf_check(s1, NULL));
	assert_false(portal_csrf_check(s1, ""));
	t1[PORTAL_CSRF_LEN - 1] = '\0';			/* truncated */
	assert_false(portal_csrf_check(s1, t1));
}

static void
test_cookie_get(void **state)
{
	char v[80];

	(void)state;
	assert_int_equal(portal_cookie_get("a=1; __Host-certdesk=abc; b=2",
	    PORTAL_COOKIE, v, sizeof(v)), 0);
	assert_string_equal(v, "abc");
	/* a prefix of another cookie's name is not the cookie */
	assert_int_equal(portal_cookie_get("__Host-certdesk-login=x",
	    PORTAL_COOKIE, v, sizeof(v)), RC_NOTFOUND);
	assert_int_equal(portal_cookie_get("__Host-certdesk-login=x; "
	    "__Host-certdesk=y", PORTAL_COOKIE, v, sizeof(v)), 0);
	assert_string_equal(v, "y");
	assert_int_equal(portal_cookie_get("x__Host-certdesk=y",
	    PORTAL_COOKIE, v, sizeof(v)), RC_NOTFOUND);
	assert_int_equal(portal_cookie_get(NULL, PORTAL_COOKIE, v,
	    sizeof(v)), RC_NOTFOUND);
	assert_int_equal(portal_cookie_get("", PORTAL_COOKIE, v, sizeof(v)),
	    RC_NOTFOUND);
	/* a second one planted by a sibling domain or script: refused */
	assert_int_equal(portal_cookie_get("__Host-certdesk=a; "
	    "__Host-certdesk=b", PORTAL_COOKIE, v, sizeof(v)), RC_INVAL);
	assert_int_equal(portal_cookie_get("__Host-certdesk=0123456789",
	    PORTAL_COOKIE, v, 4), RC_TOOBIG);
	/* present but empty (a deleted cookie): "" */
	assert_int_equal(portal_cookie_get("__Host-certdesk=", PORTAL_COOKIE,
	    v, sizeof(v)), 0);
	assert_string_equal(v, "");
}

static void
test_cookie_build(void **state)
{
	char *c;

	(void)state;
	c = portal_cookie_build(PORTAL_COOKIE, "abc", 3600);
	assert_string_equal(c, "__Host-certdesk=abc; Path=/; Secure; "
	    "HttpOnly; SameSite=Strict; Max-Age=3600");
	free(c);
	c = portal_cookie_build(PORTAL_COOKIE, "", 0);
	assert_non_null(strstr(c, "Max-Age=0"));
	assert_null(strstr(c, "Domain"));
	free(c);
}

static void
test_origin(void **state)
{
	(void)state;
	assert_true(portal_origin_ok(NULL, NULL, "h:1"));
	assert_true(portal_origin_ok("https://h:1", "same-origin", "h:1"));
	assert_true(portal_origin_ok("https://H:1", NULL, "h:1"));
	assert_false(portal_origin_ok("https://evil:1", NULL, "h:1"));
	assert_false(portal_origin_ok("http://h:1", NULL, "h:1"));
	assert_false(portal_origin_ok("null", NULL, "h:1"));
	assert_false(portal_origin_ok("https://h:1", NULL, NULL));
	assert_false(portal_origin_ok(NULL, "cross-site", "h:1"));
	assert_false(portal_origin_ok(NULL, "same-site", "h:1"));
	assert_false(portal_origin_ok(NULL, "none", "h:1"));
}

static void
test_throttle(void **state)
{
	struct portal_throttle t = {5, 60, 3600};

	(void)state;
	assert_int_equal(portal_throttle_wait(&t, 0, 0, 1000), 0);
	assert_int_equal(portal_throttle_wait(&t, 4, 1000, 1000), 0);
	assert_int_equal(portal_throttle_wait(&t, 5, 1000, 1000), 60);
	assert_int_equal(portal_throttle_wait(&t, 5, 1000, 1030), 30);
	assert_int_equal(portal_throttle_wait(&t, 5, 1000, 1060), 0);
	assert_int_equal(portal_throttle_wait(&t, 6, 1000, 1000), 120);
	assert_int_equal(portal_throttle_wait(&t, 7, 1000, 1000), 240);
	assert_int_equal(portal_throttle_wait(&t, 12, 1000, 1000), 3600);
	/* huge counts do not overflow */
	assert_int_equal(portal_throttle_wait(&t, INT64_MAX, 1000, 1000),
	    3600);
	assert_int_equal(portal_throttle_wait(NULL, 100, 1000, 1000), 0);
}

static void
test_products(void **state)
{
	(void)state;
	assert_string_equal(portal_product_name("starter"),
	    "SSL Starter (DV)");
	assert_string_equal(portal_product_name("business_wildcard"),
	    "SSL Business Wildcard (OV)");
	assert_string_equal(portal_product_name("unlimited"),
	    "SSL Unlimited (DV)");
	assert_null(portal_product_name("gold"));
	assert_null(portal_product_name(NULL));
	assert_string_equal(portal_state_name("unused"), "Not set up");
	assert_string_equal(portal_state_name("bogus"), "Unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_and_formats),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_csrf),
		cmocka_unit_test(test_token_seal),
		cmocka_unit_test(test_eab_seal),
		cmocka_unit_test(test_cookie_get),
		cmocka_unit_test(test_cookie_build),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_throttle),
		cmocka_unit_test(test_products),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
