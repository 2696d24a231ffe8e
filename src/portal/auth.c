/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The portal's secrets and the arithmetic around them: session ids and API
 * tokens (32 random bytes each, kept by the store only as SHA-256), the
 * synchronizer CSRF token derived from a session's secret, the session
 * cookie (RFC 6265bis __Host- prefix: Secure, Path=/, no Domain), the
 * Origin / Sec-Fetch-Site check on unsafe requests, and the login
 * throttle's exponential delay.
 *
 * Runs in the main certdesk process on HTTP worker threads. Cookie and
 * header text is untrusted; every comparison of a secret is constant-time
 * (sec_equal).
 */
#include "portal/portal_int.h"
#include "util/rc.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CSRF_LABEL "certdesk csrf v1"
#define REVEAL_LABEL "certdesk token reveal v1"

int
portal_random_hex(char out[PORTAL_SESSION_ID_HEX + 1])
{
	uint8_t raw[32];

	if (sec_random(raw, sizeof(raw)) != 0)
		return RC_CRYPTO;
	hex_encode(raw, sizeof(raw), out);
	sec_wipe(raw, sizeof(raw));
	return 0;
}

int
portal_sha256(const char *s, uint8_t out[STORE_HASH_LEN])
{
	unsigned int n = 0;

	if (s == NULL || EVP_Digest(s, strlen(s), out, &n, EVP_sha256(),
	    NULL) != 1 || n != STORE_HASH_LEN)
		return RC_CRYPTO;
	return 0;
}

static int
lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int
portal_session_id_ok(const char *s)
{
	return s != NULL && strlen(s) == PORTAL_SESSION_ID_HEX &&
	    lower_hex(s, PORTAL_SESSION_ID_HEX);
}

int
portal_token_ok(const char *s)
{
	size_t pl = strlen(PORTAL_TOKEN_PREFIX);

	return s != NULL && strlen(s) == PORTAL_TOKEN_LEN &&
	    strncmp(s, PORTAL_TOKEN_PREFIX, pl) == 0 &&
	    lower_hex(s + pl, PORTAL_TOKEN_LEN - pl);
}

int
portal_csrf_token(const uint8_t secret[STORE_CSRF_LEN],
    char out[PORTAL_CSRF_LEN + 1])
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (HMAC(EVP_sha256(), secret, STORE_CSRF_LEN,
	    (const uint8_t *)CSRF_LABEL, strlen(CSRF_LABEL), mac, &n) ==
	    NULL || n != 32)
		return RC_CRYPTO;
	hex_encode(mac, n, out);
	return 0;
}

int
portal_csrf_check(const uint8_t secret[STORE_CSRF_LEN], const char *given)
{
	char want[PORTAL_CSRF_LEN + 1];
	int ok;

	if (given == NULL || strlen(given) != PORTAL_CSRF_LEN)
		return 0;
	if (portal_csrf_token(secret, want) != 0)
		return 0;
	ok = sec_equal(want, given, PORTAL_CSRF_LEN);
	sec_wipe(want, sizeof(want));
	return ok;
}

/* The key that seals a secret for the session whose id is sid: BLAKE2b
 * keyed with the id (the cookie's text, which the store never sees), over
 * a label of its own, so that it is none of the id's other uses (its
 * SHA-256 finds the session row). (The label is the one from when only
 * tokens were sealed: what a secret is for is in the associated data.) */
static int
reveal_key(const char *sid,
    uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES])
{
	if (!portal_session_id_ok(sid))
		return RC_INVAL;
	return crypto_generichash(key,
	    crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
	    (const uint8_t *)REVEAL_LABEL, strlen(REVEAL_LABEL),
	    (const uint8_t *)sid, PORTAL_SESSION_ID_HEX) == 0 ? 0 : RC_CRYPTO;
}

#define B64U_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789-_"
/* an EAB key id: base64url, as long as the store takes one (the ra makes
 * them RA_EAB_KID_LEN long) */
#define KID_MAX 64
/* "eab " and a key id, and its NUL */
#define REVEAL_AD (4 + KID_MAX + 1)

_Static_assert(PORTAL_TOKEN_LEN < PORTAL_REVEAL_TEXT &&
    PORTAL_EAB_KEY_LEN < PORTAL_REVEAL_TEXT, "each secret fits out");

/* The associated data that ties a sealed secret to what it is of, into ad:
 * a token's id in decimal, or "eab " and the key's id (no token's id
 * starts so). RC_INVAL when what names neither or both, or a malformed
 * id. */
static int
reveal_ad(const struct store_reveal *what, char ad[REVEAL_AD])
{
	size_t n;

	if (what == NULL)
		return RC_INVAL;
	if (what->eab_kid == NULL) {
		if (what->token_id <= 0)
			return RC_INVAL;
		snprintf(ad, REVEAL_AD, "%lld", (long long)what->token_id);
		return 0;
	}
	n = strlen(what->eab_kid);
	if (what->token_id != 0 || n == 0 || n > KID_MAX ||
	    strspn(what->eab_kid, B64U_CHARS) != n)
		return RC_INVAL;
	snprintf(ad, REVEAL_AD, "eab %s", what->eab_kid);
	return 0;
}

/* How long secret is when it is a secret of what's kind (a token, or an
 * EAB key's HMAC key as PORTAL_EAB_KEY_LEN base64url characters), else
 * 0. */
static size_t
secret_len(const struct store_reveal *what, const char *secret)
{
	if (secret == NULL)
		return 0;
	if (what->eab_kid == NULL)
		return portal_token_ok(secret) ? PORTAL_TOKEN_LEN : 0;
	return strlen(secret) == PORTAL_EAB_KEY_LEN &&
	    strspn(secret, B64U_CHARS) == PORTAL_EAB_KEY_LEN ?
	    PORTAL_EAB_KEY_LEN : 0;
}

int
portal_reveal_seal(const char *sid, const struct store_reveal *what,
    const char *secret, uint8_t out[PORTAL_REVEAL_SEALED_MAX], size_t *n)
{
	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t *nonce = out, *box = out +
	    crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	char ad[REVEAL_AD];
	size_t len;
	int rc;

	*n = 0;
	if ((rc = reveal_ad(what, ad)) != 0)
		return rc;
	if ((len = secret_len(what, secret)) == 0)
		return RC_INVAL;
	if ((rc = reveal_key(sid, key)) != 0)
		return rc;
	randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	rc = crypto_aead_xchacha20poly1305_ietf_encrypt(box, NULL,
	    (const uint8_t *)secret, len, (const uint8_t *)ad, strlen(ad), NULL,
	    nonce, key) == 0 ? 0 : RC_CRYPTO;
	sec_wipe(key, sizeof(key));
	if (rc == 0)
		*n = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + len +
		    crypto_aead_xchacha20poly1305_ietf_ABYTES;
	return rc;
}

int
portal_reveal_unseal(const char *sid, const struct store_reveal *what,
    const uint8_t *sealed, size_t n, char out[PORTAL_REVEAL_TEXT])
{
	uint8_t key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	const size_t over = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
	    crypto_aead_xchacha20poly1305_ietf_ABYTES;
	unsigned long long len = 0;
	char ad[REVEAL_AD];
	int rc;

	out[0] = '\0';
	/* (at most PORTAL_REVEAL_TEXT - 1 bytes of text come out) */
	if (sealed == NULL || n <= over || n > PORTAL_REVEAL_SEALED_MAX)
		return RC_INVAL;
	if ((rc = reveal_ad(what, ad)) != 0)
		return rc;
	if ((rc = reveal_key(sid, key)) != 0)
		return rc;
	/* another session's key, another token's or key's id, changed
	 * bytes: the tag does not verify and nothing is written to out */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)out, &len,
	    NULL, sealed + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	    n - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	    (const uint8_t *)ad, strlen(ad), sealed, key) != 0)
		rc = RC_INVAL;
	sec_wipe(key, sizeof(key));
	out[rc == 0 ? len : 0] = '\0';
	if (rc == 0 && secret_len(what, out) != len)
		rc = RC_INVAL;
	if (rc != 0)
		sec_wipe(out, PORTAL_REVEAL_TEXT);
	return rc;
}

int
portal_cookie_get(const char *header, const char *name, char *out,
    size_t len)
{
	size_t nl;
	const char *p = header;
	int found = 0;

	if (out == NULL || len == 0 || name == NULL)
		return RC_INVAL;
	out[0] = '\0';
	if (header == NULL)
		return RC_NOTFOUND;
	nl = strlen(name);
	while (*p != '\0') {
		const char *end, *v;
		size_t vl;

		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		if ((size_t)(end - p) > nl && strncmp(p, name, nl) == 0 &&
		    p[nl] == '=') {
			v = p + nl + 1;
			vl = (size_t)(end - v);
			while (vl > 0 && (v[vl - 1] == ' ' ||
			    v[vl - 1] == '\t'))
				vl--;
			if (found)
				return RC_INVAL;
			if (vl >= len)
				return RC_TOOBIG;
			memcpy(out, v, vl);
			out[vl] = '\0';
			found = 1;
		}
		p = end;
	}
	return found ? 0 : RC_NOTFOUND;
}

char *
portal_cookie_build(const char *name, const char *value, long max_age)
{
	return xasprintf("%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict; "
	    "Max-Age=%ld", name, value ? value : "", max_age > 0 ? max_age :
	    0);
}

int
portal_origin_ok(const char *origin, const char *sec_fetch_site,
    const char *host)
{
	if (sec_fetch_site != NULL && strcmp(sec_fetch_site, "same-origin")
	    != 0)
		return 0;
	if (origin != NULL) {
		size_t pl = strlen("https://");

		if (host == NULL || strncasecmp(origin, "https://", pl) != 0 ||
		    strcasecmp(origin + pl, host) != 0)
			return 0;
	}
	return 1;
}

time_t
portal_throttle_wait(const struct portal_throttle *t, int64_t failures,
    time_t last_at, time_t now)
{
	time_t delay, until;
	int64_t over;

	if (t == NULL || failures < t->limit || t->base <= 0)
		return 0;
	over = failures - t->limit;
	delay = t->base;
	while (over-- > 0 && delay < t->cap)
		delay *= 2;
	if (delay > t->cap)
		delay = t->cap;
	until = last_at + delay;
	return until > now ? until - now : 0;
}

const char *
portal_product_name(const char *product)
{
	static const struct {
		const char *key, *name;
	} names[] = {
		{"starter", "SSL Starter (DV)"},
		{"business", "SSL Business (OV)"},
		{"business_wildcard", "SSL Business Wildcard (OV)"},
		{"premium", "SSL Premium (EV)"},
		{"unlimited", "SSL Unlimited (DV)"},
	};

	for (size_t i = 0; product && i < sizeof(names) / sizeof(names[0]);
	    i++)
		if (strcmp(product, names[i].key) == 0)
			return names[i].name;
	return NULL;
}

const char *
portal_state_name(const char *state)
{
	static const struct {
		const char *key, *name;
	} names[] = {
		{"unused", "Not set up"},
		{"active", "Activated, ready to set up"},
		{"pending", "Validation pending"},
		{"issued", "Issued"},
		{"expired", "Expired"},
		{"revoked", "Revoked"},
		{"cancelled", "Cancelled"},
	};

	for (size_t i = 0; state && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(state, names[i].key) == 0)
			return names[i].name;
	return "Unknown";
}
