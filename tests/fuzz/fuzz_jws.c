/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz harness for src/acme/jws.c and b64u.c: the input is an ACME request
 * body. It is parsed as a flattened JWS accepting jwk or kid, verified with
 * the embedded key or (kid) with a fixed Ed25519 account key, its payload
 * parsed, and an externalAccountBinding in it parsed and verified with a
 * fixed MAC key. The input is also tried as a bare JWK and as base64url.
 * The seeds in corpus/jws/ verify, so mutations reach every stage.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the account key of corpus/jws/eddsa-kid-post-as-get.json */
static const char account_jwk[] = "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
    "\"x\":\"6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw\"}";
static struct acme_key *account;	/* made once, kept for the run */

/* the EAB MAC key of corpus/jws/es256-newaccount-eab.json: bytes 0..31 */
static uint8_t eab_key[32];

static void
try_eab(const struct acme_jws *jws, const json_t *payload)
{
	const json_t *o = json_object_get(payload, "externalAccountBinding");
	struct acme_err err = {0};
	struct acme_eab *eab = NULL;

	if (o == NULL || acme_eab_parse(o, &eab, &err) != 0)
		return;
	(void)acme_eab_kid(eab);
	(void)acme_eab_verify(eab, eab_key, sizeof(eab_key), jws->url,
	    jws->key != NULL ? jws->key : account, &err);
	acme_eab_free(eab);
}

static void
use_key(const struct acme_key *k)
{
	char tp[ACME_THUMBPRINT_LEN + 1], txt[ACME_THUMBPRINT_LEN + 1];
	char *ka = NULL;

	if (acme_key_thumbprint(k, tp) != 0)
		abort();
	if (acme_keyauth("dG9rZW4", k, &ka) != 0)
		abort();
	if (acme_keyauth_dns01(ka, txt) != 0)
		abort();
	free(ka);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct acme_err err = {0};
	struct acme_jws *jws = NULL;
	struct acme_key *k = NULL;
	json_t *payload = NULL;
	uint8_t *dec = NULL;
	size_t n;

	if (account == NULL) {
		for (size_t i = 0; i < sizeof(eab_key); i++)
			eab_key[i] = (uint8_t)i;
		if (acme_key_from_jwk_str(account_jwk, strlen(account_jwk),
		    &account, &err) != 0)
			abort();
	}

	if (acme_jws_parse(s, size, ACME_JWS_NEED_EITHER, &jws, &err) == 0) {
		/* what parse promises */
		if ((jws->key == NULL) == (jws->kid == NULL) ||
		    jws->nonce == NULL || jws->url == NULL ||
		    jws->payload[jws->payload_len] != '\0')
			abort();
		if (jws->key != NULL)
			use_key(jws->key);
		(void)acme_jws_verify(jws, jws->key != NULL ? jws->key :
		    account, &err);
		if (acme_jws_payload_json(jws, &payload, &err) == 0) {
			try_eab(jws, payload);
			json_decref(payload);
		}
		acme_jws_free(jws);
	}

	/* the same bytes as a JWK, as the account store would hand them */
	if (acme_key_from_jwk_str(s, size, &k, &err) == 0) {
		size_t len;
		const char *canon = acme_key_jwk(k, &len);
		struct acme_key *k2 = NULL;

		/* the canonical form must import to the same key */
		if (acme_key_from_jwk_str(canon, len, &k2, &err) != 0 ||
		    !acme_key_equal(k, k2))
			abort();
		use_key(k);
		acme_key_free(k2);
		acme_key_free(k);
	}

	/* and as base64url: a decoded string must re-encode to itself */
	if (size <= 4096 && acme_b64u_decode(s, size, &dec, &n) == 0) {
		char *enc = acme_b64u_encode(dec, n);

		if (strlen(enc) != size || memcmp(enc, s, size) != 0)
			abort();
		free(enc);
		free(dec);
	}
	return 0;
}
