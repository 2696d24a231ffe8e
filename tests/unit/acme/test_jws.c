/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/acme/jws.c: flattened JWS parsing and verification for
 * ES256, ES384, RS256 and EdDSA (requests signed here with OpenSSL, plus
 * fixed requests signed by python3-cryptography), every hostile variant of
 * body, header, key and signature we could think of, RFC 7638 thumbprints,
 * key authorizations and External Account Binding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "acme/acme_int.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#define URL "https://ca.example/acme/new-account"
#define NONCE "bm9uY2UtMQ"
#define KID "https://ca.example/acme/acct/1"

/* ---- fixed vectors --------------------------------------------------------
 * Computed independently with python3 (hashlib, cryptography). */

/* RFC 7638 §3.1 */
static const char rfc7638_jwk[] =
    "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbW"
    "hM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3o"
    "knjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
    "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOp"
    "bISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqb"
    "w0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw\",\"e\":\"AQAB\",\"alg\":\"RS256"
    "\",\"kid\":\"2011-04-29\"}";
static const char rfc7638_tp[] = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/* RFC 8037 Appendix A.2/A.3 */
static const char rfc8037_jwk[] =
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}";
static const char rfc8037_tp[] = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

/* RFC 7517 Appendix A.1 P-256 key (members reordered, with whitespace and
 * extra public members); thumbprint by python */
static const char rfc7517_p256_jwk[] =
    " { \"use\" : \"sig\",\n"
    "\"y\":\"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM\","
    "\n\"kid\":\"1\", \"x\":\"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4\","
    " \"crv\":\"P-256\", \"kty\":\"EC\"}";
static const char rfc7517_p256_canon[] =
    "{\"crv\":\"P-256\",\"kty\":\"EC\","
    "\"x\":\"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4\","
    "\"y\":\"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM\"}";
static const char rfc7517_p256_tp[] =
    "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s";

/* P-384 key from the scalar 0x1234..ef (python) */
static const char py_p384_jwk[] =
    "{\"kty\":\"EC\",\"crv\":\"P-384\","
    "\"x\":\"qs0gV7RYOmc1Ts2UCB_jA-_sGRihFYsK4HorY8252UE8se_R7de7_"
    "09tbRO-6qGy\","
    "\"y\":\"P2H4UtgxAJqaTWeQWm2QdeNp-mT8eG_7bbhUaO9qXlCakie6jl7w4l"
    "43HR_rdEcv\"}";
static const char py_p384_tp[] = "VerHSJ8bYG4rNyNZllKTfJoKK6LIrum-cLlATqp6j7g";

/* key authorization of this token with the RFC 7638 key, and its dns-01
 * TXT value (python) */
static const char token[] = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
static const char dns01_txt[] = "ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8";
static const char keyauth_sha256_hex[] =
    "653471d42925d7eb4cd39a39cda8b34d3034c94cb90067ab78c8123560ba2e5f";

/*
 * A newAccount request signed by python3-cryptography (ES256, jwk) whose
 * payload carries an EAB (HS256, key bytes 0..31, kid "eab-kid-7"), and a
 * POST-as-GET with kid signed with Ed25519 (seed 32 x 0x07). JSON with
 * spaces after ':' and ',' as python writes it.
 */
static const char py_es256_body[] =
    "{\"protected\": \"eyJhbGciOiAiRVMyNTYiLCAiandrIjogeyJrdHkiOiAiRU"
    "MiLCAiY3J2IjogIlAtMjU2IiwgIngiOiAiOXljQmtVVW1qU3NIUXFRWEViRE9JOVhO"
    "NFBHYUM2V2F6eHBJYWlkbS1kMCIsICJ5IjogIjBPd2h2M1hhc3dzakFJcTBFeGs3eV"
    "M0Nno1Q19MQ0dpQ2xmZFJ1WVBsY3cifSwgIm5vbmNlIjogImJtOXVZMlV0TVEiLCAi"
    "dXJsIjogImh0dHBzOi8vY2EuZXhhbXBsZS9hY21lL25ldy1hY2NvdW50In0\", \"p"
    "ayload\": \"eyJ0ZXJtc09mU2VydmljZUFncmVlZCI6IHRydWUsICJjb250YWN0Ijo"
    "gWyJtYWlsdG86YUBleGFtcGxlLm9yZyJdLCAiZXh0ZXJuYWxBY2NvdW50QmluZGluZ"
    "yI6IHsicHJvdGVjdGVkIjogImV5SmhiR2NpT2lBaVNGTXlOVFlpTENBaWEybGtJam9"
    "nSW1WaFlpMXJhV1F0TnlJc0lDSjFjbXdpT2lBaWFIUjBjSE02THk5allTNWxlR0Z0Y"
    "0d4bEwyRmpiV1V2Ym1WM0xXRmpZMjkxYm5RaWZRIiwgInBheWxvYWQiOiAiZXlKcmR"
    "Ia2lPaUFpUlVNaUxDQWlZM0oySWpvZ0lsQXRNalUySWl3Z0luZ2lPaUFpT1hsalFtd"
    "FZWVzFxVTNOSVVYRlJXRVZpUkU5Sk9WaE9ORkJIWVVNMlYyRjZlSEJKWVdsa2JTMWt"
    "NQ0lzSUNKNUlqb2dJakJQZDJoMk0xaGhjM2R6YWtGSmNUQkZlR3MzZVZNME5ubzFRM"
    "TlNUTBkcFEyeG1aRkoxV1ZCc1kzY2lmUSIsICJzaWduYXR1cmUiOiAiRnMtODhjMEs"
    "tY3BzYUc3ZGR6LUM0MlE0V2JicmFZbC03U3NTV0s3QklCayJ9fQ\", \"signature"
    "\": \"Gvgt_22ioML3rG5nFFJ7izWCXy8gZjSoiy4CF3BzRYCk5-VethcW3apkGres"
    "5ZJHyzvhOyAtN2lMspafXQ_HkA\"}";
static const char py_es256_jwk[] =
    "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"9ycBkUUmjSsHQqQXEbDOI9XN4P"
    "GaC6WazxpIaidm-d0\",\"y\":\"0Owhv3XaswsjAIq0Exk7yS46z5C_LCGiClfdRuYP"
    "lcw\"}";
static const char py_ed_x[] = "6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw";
static const char py_ed_body[] =
    "{\"protected\": \"eyJhbGciOiAiRWREU0EiLCAia2lkIjogImh0dHBzOi8vY2"
    "EuZXhhbXBsZS9hY21lL2FjY3QvMSIsICJub25jZSI6ICJibTl1WTJVdE1nIiwgInVy"
    "bCI6ICJodHRwczovL2NhLmV4YW1wbGUvYWNtZS9vcmRlci85In0\", \"payload\":"
    " \"\", \"signature\": \"1LUoQYs6f2nQS6MptAZOsnAhpTSaYWW97j8qacHHKAFN"
    "b1duPK8pslfQQJehGWdb73MhPhKXjIoYKGdSk-VFCg\"}";

/* ---- keys made here ------------------------------------------------------ */

struct tkey {
	EVP_PKEY *pk;
	const char *alg;
	char *jwk;
};

static struct tkey p256, p256b, p384, rsa, ed, ed448;

static char *
b64s(const char *s)
{
	return acme_b64u_encode((const uint8_t *)s, strlen(s));
}

static char *
jwk_of(EVP_PKEY *pk)
{
	uint8_t buf[1100];
	char grp[64], *x, *y, *j;
	size_t n;

	if (EVP_PKEY_is_a(pk, "EC")) {
		size_t c;

		assert_true(EVP_PKEY_get_utf8_string_param(pk,
		    OSSL_PKEY_PARAM_GROUP_NAME, grp, sizeof(grp), NULL));
		assert_true(EVP_PKEY_get_octet_string_param(pk,
		    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf, sizeof(buf), &n));
		assert_int_equal(buf[0], 4);
		c = (n - 1) / 2;
		x = acme_b64u_encode(buf + 1, c);
		y = acme_b64u_encode(buf + 1 + c, c);
		j = xasprintf("{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\","
		    "\"y\":\"%s\"}", strcmp(grp, "prime256v1") == 0 ? "P-256" :
		    "P-384", x, y);
		free(x);
		free(y);
		return j;
	}
	if (EVP_PKEY_is_a(pk, "RSA")) {
		BIGNUM *bn = NULL, *be = NULL;
		uint8_t eb[8];
		int el;

		assert_true(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N,
		    &bn));
		assert_true(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E,
		    &be));
		n = (size_t)BN_bn2bin(bn, buf);
		el = BN_bn2bin(be, eb);
		x = acme_b64u_encode(buf, n);
		y = acme_b64u_encode(eb, (size_t)el);
		j = xasprintf("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", x,
		    y);
		BN_free(bn);
		BN_free(be);
		free(x);
		free(y);
		return j;
	}
	n = sizeof(buf);
	assert_true(EVP_PKEY_get_raw_public_key(pk, buf, &n));
	x = acme_b64u_encode(buf, n);
	j = xasprintf("{\"kty\":\"OKP\",\"crv\":\"%s\",\"x\":\"%s\"}",
	    EVP_PKEY_is_a(pk, "ED25519") ? "Ed25519" : "Ed448", x);
	free(x);
	return j;
}

/* Signs si as alg (JWS form: raw R||S for ECDSA); returns the length. */
static size_t
sign_raw(EVP_PKEY *pk, const char *alg, const char *si, uint8_t *out)
{
	const char *md = NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t der[1100];
	size_t len = sizeof(der);

	if (strcmp(alg, "ES256") == 0 || strcmp(alg, "RS256") == 0)
		md = "SHA256";
	else if (strcmp(alg, "ES384") == 0)
		md = "SHA384";
	assert_true(EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, pk,
	    NULL) == 1);
	assert_true(EVP_DigestSign(ctx, der, &len, (const uint8_t *)si,
	    strlen(si)) == 1);
	EVP_MD_CTX_free(ctx);
	if (EVP_PKEY_is_a(pk, "EC")) {
		const uint8_t *p = der;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
		int half = EVP_PKEY_get_bits(pk) / 8;

		assert_non_null(es);
		assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_r(es), out, half),
		    half);
		assert_int_equal(BN_bn2binpad(ECDSA_SIG_get0_s(es), out + half,
		    half), half);
		ECDSA_SIG_free(es);
		return (size_t)half * 2;
	}
	memcpy(out, der, len);
	return len;
}

/* A flattened JWS body over the protected header text and payload text,
 * signed with pk as sigalg. */
static char *
body_of(const char *prot, const char *payload, EVP_PKEY *pk,
    const char *sigalg)
{
	char *p = b64s(prot), *pl = b64s(payload), *si, *s, *b;
	uint8_t sig[1100];
	size_t n;

	si = xasprintf("%s.%s", p, pl);
	n = sign_raw(pk, sigalg, si, sig);
	s = acme_b64u_encode(sig, n);
	b = xasprintf("{\"protected\":\"%s\",\"payload\":\"%s\","
	    "\"signature\":\"%s\"}", p, pl, s);
	free(p);
	free(pl);
	free(si);
	free(s);
	return b;
}

static char *
hdr_jwk(const char *alg, const char *jwk)
{
	return xasprintf("{\"alg\":\"%s\",\"jwk\":%s,\"nonce\":\"" NONCE "\","
	    "\"url\":\"" URL "\"}", alg, jwk);
}

static char *
hdr_kid(const char *alg)
{
	return xasprintf("{\"alg\":\"%s\",\"kid\":\"" KID "\",\"nonce\":\""
	    NONCE "\",\"url\":\"" URL "\"}", alg);
}

/* A valid newAccount-style request for k. */
static char *
good_jwk_body(const struct tkey *k, const char *payload)
{
	char *h = hdr_jwk(k->alg, k->jwk), *b;

	b = body_of(h, payload, k->pk, k->alg);
	free(h);
	return b;
}

static char *
good_kid_body(const struct tkey *k, const char *payload)
{
	char *h = hdr_kid(k->alg), *b;

	b = body_of(h, payload, k->pk, k->alg);
	free(h);
	return b;
}

static void
tkey_make(struct tkey *k, EVP_PKEY *pk, const char *alg)
{
	assert_non_null(pk);
	k->pk = pk;
	k->alg = alg;
	k->jwk = jwk_of(pk);
}

static int
setup(void **state)
{
	tkey_make(&p256, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), "ES256");
	tkey_make(&p256b, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"),
	    "ES256");
	tkey_make(&p384, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), "ES384");
	tkey_make(&rsa, EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048),
	    "RS256");
	tkey_make(&ed, EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), "EdDSA");
	tkey_make(&ed448, EVP_PKEY_Q_keygen(NULL, NULL, "ED448"), "EdDSA");
	return 0;
}

static int
teardown(void **state)
{
	struct tkey *all[] = {&p256, &p256b, &p384, &rsa, &ed, &ed448};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		EVP_PKEY_free(all[i]->pk);
		free(all[i]->jwk);
	}
	return 0;
}

/* ---- helpers for expectations -------------------------------------------- */

static int
parse(const char *body, enum acme_jws_auth auth, struct acme_jws **out,
    struct acme_err *e)
{
	memset(e, 0, sizeof(*e));
	return acme_jws_parse(body, strlen(body), auth, out, e);
}

/* Parsing body must fail with rc and problem, and say why. */
static void
expect_refused_(const char *body, enum acme_jws_auth auth, int rc,
    enum acme_prob prob, const char *needle, int line)
{
	struct acme_jws *jws = (struct acme_jws *)&jws;
	struct acme_err e;
	int got = parse(body, auth, &jws, &e);

	if (got != rc || e.problem != prob ||
	    (needle != NULL && strstr(e.detail.msg, needle) == NULL))
		fail_msg("line %d: rc %d (want %d), problem %s (want %s), "
		    "detail \"%s\" (want \"%s\")\nbody: %.300s", line, got, rc,
		    acme_prob_urn(e.problem), acme_prob_urn(prob),
		    e.detail.msg, needle ? needle : "", body);
	assert_null(jws);
	assert_true(e.detail.msg[0] != '\0');
}
#define expect_refused(b, a, rc, p, n)                                         \
	expect_refused_(b, a, rc, p, n, __LINE__)

/* Parse (auth), then verify with the embedded key or with key. */
static int
parse_verify(const char *body, enum acme_jws_auth auth,
    const struct acme_key *key, struct acme_err *e)
{
	struct acme_jws *jws = NULL;
	int rc;

	rc = parse(body, auth, &jws, e);
	if (rc == 0)
		rc = acme_jws_verify(jws, key != NULL ? key : jws->key, e);
	acme_jws_free(jws);
	return rc;
}

static struct acme_key *
key_from(const char *jwk)
{
	struct acme_key *k = NULL;
	struct acme_err e = {0};

	if (acme_key_from_jwk_str(jwk, strlen(jwk), &k, &e) != 0)
		fail_msg("key_from: %s: %s", e.detail.msg, jwk);
	return k;
}

/* Key import must fail with rc/problem and the detail containing needle. */
static void
expect_key_refused_(const char *jwk, int rc, enum acme_prob prob,
    const char *needle, int line)
{
	struct acme_key *k = (struct acme_key *)&k;
	struct acme_err e = {0};
	int got = acme_key_from_jwk_str(jwk, strlen(jwk), &k, &e);

	if (got != rc || e.problem != prob ||
	    (needle != NULL && strstr(e.detail.msg, needle) == NULL))
		fail_msg("line %d: rc %d (want %d), problem %s, detail \"%s\" "
		    "(want \"%s\")\njwk: %.300s", line, got, rc,
		    acme_prob_urn(e.problem), e.detail.msg,
		    needle ? needle : "", jwk);
	assert_null(k);
}
#define expect_key_refused(j, rc, p, n)                                        \
	expect_key_refused_(j, rc, p, n, __LINE__)

/* tmpl with every "@P" replaced by p */
static char *
fill(const char *tmpl, const char *p)
{
	size_t n = strlen(tmpl) + 1, pl = strlen(p);
	char *out, *o;

	for (const char *t = strstr(tmpl, "@P"); t; t = strstr(t + 2, "@P"))
		n += pl;
	out = o = xmalloc(n);
	while (*tmpl) {
		if (tmpl[0] == '@' && tmpl[1] == 'P') {
			memcpy(o, p, pl);
			o += pl;
			tmpl += 2;
		} else {
			*o++ = *tmpl++;
		}
	}
	*o = '\0';
	return out;
}

/* Decoded signature of a valid body, re-encoded into a new body with the
 * same protected and payload but sig bytes s[0..n). */
static char *
resign(const char *prot, const char *payload, const uint8_t *s, size_t n)
{
	char *p = b64s(prot), *pl = b64s(payload), *sg, *b;

	sg = acme_b64u_encode(s, n);
	b = xasprintf("{\"protected\":\"%s\",\"payload\":\"%s\","
	    "\"signature\":\"%s\"}", p, pl, sg);
	free(p);
	free(pl);
	free(sg);
	return b;
}

/* ---- valid requests ------------------------------------------------------ */

/* RFC 8555 §6.2: each supported algorithm, with jwk and with kid */
static void
test_valid_each_alg(void **state)
{
	const struct tkey *keys[] = {&p256, &p384, &rsa, &ed};
	static const enum acme_alg algs[] = {ACME_ALG_ES256, ACME_ALG_ES384,
		ACME_ALG_RS256, ACME_ALG_EDDSA};
	static const enum acme_kty ktys[] = {ACME_KTY_EC_P256,
		ACME_KTY_EC_P384, ACME_KTY_RSA, ACME_KTY_ED25519};
	static const char payload[] = "{\"termsOfServiceAgreed\":true}";

	for (size_t i = 0; i < 4; i++) {
		struct acme_jws *jws = NULL;
		struct acme_key *k;
		struct acme_err e;
		json_t *pl = NULL;
		char *b = good_jwk_body(keys[i], payload);

		assert_int_equal(parse(b, ACME_JWS_NEED_JWK, &jws, &e), 0);
		assert_int_equal(jws->alg, algs[i]);
		assert_string_equal(jws->nonce, NONCE);
		assert_string_equal(jws->url, URL);
		assert_null(jws->kid);
		assert_non_null(jws->key);
		assert_int_equal(acme_key_type(jws->key), ktys[i]);
		assert_int_equal(acme_key_alg(jws->key), algs[i]);
		assert_int_equal(jws->payload_len, strlen(payload));
		assert_string_equal((char *)jws->payload, payload);
		assert_int_equal(acme_jws_verify(jws, jws->key, &e), 0);
		assert_int_equal(acme_jws_payload_json(jws, &pl, &e), 0);
		assert_true(json_is_true(json_object_get(pl,
		    "termsOfServiceAgreed")));
		json_decref(pl);
		acme_jws_free(jws);
		/* revokeCert accepts either */
		assert_int_equal(parse_verify(b, ACME_JWS_NEED_EITHER, NULL,
		    &e), 0);
		free(b);

		/* the same key as a stored account, used with kid */
		k = key_from(keys[i]->jwk);
		b = good_kid_body(keys[i], payload);
		assert_int_equal(parse(b, ACME_JWS_NEED_KID, &jws, &e), 0);
		assert_null(jws->key);
		assert_string_equal(jws->kid, KID);
		assert_int_equal(acme_jws_verify(jws, k, &e), 0);
		/* without a key there is nothing to verify with */
		assert_int_equal(acme_jws_verify(jws, NULL, &e), RC_INVAL);
		acme_jws_free(jws);
		assert_int_equal(parse_verify(b, ACME_JWS_NEED_EITHER, k, &e),
		    0);
		free(b);
		acme_key_free(k);
	}
}

/* requests signed by another implementation (python3-cryptography) */
static void
test_foreign_signatures(void **state)
{
	struct acme_jws *jws = NULL;
	struct acme_key *k;
	struct acme_err e;
	char *jwk;

	assert_int_equal(parse(py_es256_body, ACME_JWS_NEED_JWK, &jws, &e), 0);
	assert_int_equal(acme_jws_verify(jws, jws->key, &e), 0);
	assert_string_equal(acme_key_jwk(jws->key, NULL), py_es256_jwk);
	acme_jws_free(jws);

	jwk = xasprintf("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}",
	    py_ed_x);
	k = key_from(jwk);
	assert_int_equal(parse(py_ed_body, ACME_JWS_NEED_KID, &jws, &e), 0);
	assert_int_equal(jws->payload_len, 0);
	assert_string_equal(jws->url, "https://ca.example/acme/order/9");
	assert_int_equal(acme_jws_verify(jws, k, &e), 0);
	acme_jws_free(jws);
	acme_key_free(k);
	free(jwk);
}

/* RFC 8555 §6.3: POST-as-GET has payload "" */
static void
test_post_as_get(void **state)
{
	struct acme_jws *jws = NULL;
	struct acme_key *k = key_from(p256.jwk);
	struct acme_err e;
	json_t *j = (json_t *)&j;
	char *b = good_kid_body(&p256, "");

	assert_int_equal(parse(b, ACME_JWS_NEED_KID, &jws, &e), 0);
	assert_int_equal(jws->payload_len, 0);
	assert_int_equal(jws->payload[0], 0);
	assert_int_equal(acme_jws_verify(jws, k, &e), 0);
	assert_int_equal(acme_jws_payload_json(jws, &j, &e), RC_INVAL);
	assert_null(j);
	assert_int_equal(e.problem, ACME_PROB_MALFORMED);
	acme_jws_free(jws);
	free(b);
	/* "{}" is not POST-as-GET */
	b = good_kid_body(&p256, "{}");
	assert_int_equal(parse(b, ACME_JWS_NEED_KID, &jws, &e), 0);
	assert_int_equal(jws->payload_len, 2);
	assert_int_equal(acme_jws_payload_json(jws, &j, &e), 0);
	assert_int_equal(json_object_size(j), 0);
	json_decref(j);
	acme_jws_free(jws);
	free(b);
	acme_key_free(k);
}

/* ---- hostile bodies ------------------------------------------------------ */

/* every proper prefix of a valid body is refused, never read past */
static void
test_truncations(void **state)
{
	char *b = good_jwk_body(&p256, "{\"a\":1}");
	size_t len = strlen(b);

	for (size_t n = 0; n < len; n++) {
		char *p = malloc(n ? n : 1);	/* exact size for ASan */
		struct acme_jws *jws = NULL;
		struct acme_err e = {0};

		memcpy(p, b, n);
		assert_int_not_equal(acme_jws_parse(p, n, ACME_JWS_NEED_JWK,
		    &jws, &e), 0);
		assert_null(jws);
		assert_int_equal(e.problem, ACME_PROB_MALFORMED);
		free(p);
	}
	free(b);
}

static void
test_size_limit(void **state)
{
	size_t big = ACME_JWS_MAX_BODY + 1;
	char *payload = xmalloc(40000), *b, *huge;
	struct acme_jws *jws = NULL;
	struct acme_err e;

	/* a large payload under the limit is fine */
	memset(payload, 'a', 39990);
	memcpy(payload, "{\"a\":\"", 6);
	memcpy(payload + 39990 - 2, "\"}", 3);
	b = good_jwk_body(&p256, payload);
	assert_true(strlen(b) < ACME_JWS_MAX_BODY);
	assert_int_equal(parse_verify(b, ACME_JWS_NEED_JWK, NULL, &e), 0);
	free(b);
	free(payload);

	/* one byte over is refused before parsing (even if it were valid) */
	huge = xmalloc(big + 1);
	memset(huge, ' ', big);
	huge[big] = '\0';
	memset(&e, 0, sizeof(e));
	assert_int_equal(acme_jws_parse(huge, big, ACME_JWS_NEED_JWK, &jws,
	    &e), RC_TOOBIG);
	assert_null(jws);
	assert_int_equal(e.problem, ACME_PROB_MALFORMED);
	/* and a body that size made of a valid request plus whitespace */
	b = good_jwk_body(&p256, "{}");
	memcpy(huge, b, strlen(b));
	assert_int_equal(acme_jws_parse(huge, big, ACME_JWS_NEED_JWK, &jws,
	    &e), RC_TOOBIG);
	free(b);
	free(huge);
}

static void
test_not_a_flat_jws(void **state)
{
	static const char *const bad[] = {
		"", " ", "not json", "{", "}", "[]", "[{}]", "\"protected\"",
		"null", "true", "123", "{}",
		"{\"protected\":\"e30\",\"payload\":\"\","
		    "\"signature\":\"AA\"}x",
		"{\"protected\":\"e30\",\"payload\":\"\","
		    "\"signature\":\"AA\"}{}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i], ACME_JWS_NEED_JWK, RC_INVAL,
		    ACME_PROB_MALFORMED, NULL);
	/* a JSON array holding a valid JWS */
	{
		char *b = good_jwk_body(&p256, "{}"), *a;

		a = xasprintf("[%s]", b);
		expect_refused(a, ACME_JWS_NEED_JWK, RC_INVAL,
		    ACME_PROB_MALFORMED, "not a JSON object");
		free(a);
		free(b);
	}
	/* an embedded NUL ends nothing: refused */
	{
		struct acme_jws *jws = NULL;
		struct acme_err e;
		char *b = good_jwk_body(&p256, "{}");
		size_t n = strlen(b);

		b[n - 1] = '\0';	/* replaces the closing brace */
		memset(&e, 0, sizeof(e));
		assert_int_equal(acme_jws_parse(b, n, ACME_JWS_NEED_JWK, &jws,
		    &e), RC_INVAL);
		free(b);
	}
}

static void
test_members(void **state)
{
	char *h = hdr_jwk("ES256", p256.jwk), *p = b64s(h), *b, *q;
	struct {
		const char *fmt;	/* @P: protected b64 */
		const char *needle;
	} cases[] = {
		{"{\"protected\":\"@P\",\"payload\":\"\"}", "missing"},
		{"{\"protected\":\"@P\",\"signature\":\"AAAA\"}", "missing"},
		{"{\"payload\":\"\",\"signature\":\"AAAA\"}", "missing"},
		{"{\"protected\":\"@P\",\"payload\":\"\","
		    "\"signature\":\"AAAA\","
		    "\"foo\":\"\"}", "unexpected member"},
		{"{\"protected\":\"@P\",\"payload\":\"\","
		    "\"signature\":\"AAAA\","
		    "\"header\":{}}", "unprotected"},
		{"{\"payload\":\"\",\"signatures\":[{\"protected\":\"@P\","
		    "\"signature\":\"AAAA\"}]}", "general"},
		{"{\"protected\":\"@P\",\"payload\":\"\","
		    "\"signature\":\"AAAA\","
		    "\"signatures\":[]}", "general"},
		{"{\"protected\":7,\"payload\":\"\",\"signature\":\"AAAA\"}",
		    "not a string"},
		{"{\"protected\":\"@P\",\"payload\":null,"
		    "\"signature\":\"AAAA\"}",
		    "not a string"},
		{"{\"protected\":\"@P\",\"payload\":{},\"signature\":\"AAAA\"}",
		    "not a string"},
		{"{\"protected\":\"@P\",\"payload\":\"\","
		    "\"signature\":[\"AAAA\"]}",
		    "not a string"},
		{"{\"protected\":\"@P\",\"payload\":\"\",\"signature\":true}",
		    "not a string"},
		{"{\"protected\":{\"alg\":\"ES256\"},\"payload\":\"\","
		    "\"signature\":\"AAAA\"}", "not a string"},
		{"{\"protected\":\"\",\"payload\":\"\",\"signature\":\"AAAA\"}",
		    "\"protected\" is empty"},
		{"{\"protected\":\"@P\",\"payload\":\"\",\"signature\":\"\"}",
		    "\"signature\" is empty"},
		{"{\"protected\":\"@P\",\"payload\":\"\",\"payload\":\"\","
		    "\"signature\":\"AAAA\"}", "duplicate"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = fill(cases[i].fmt, p);
		expect_refused(b, ACME_JWS_NEED_JWK, RC_INVAL,
		    ACME_PROB_MALFORMED, cases[i].needle);
		free(b);
	}
	/* member order and whitespace in the outer object do not matter */
	b = good_jwk_body(&p256, "{}");
	{
		json_t *o = json_loads(b, 0, NULL);
		struct acme_err e;

		q = json_dumps(o, JSON_INDENT(3) | JSON_SORT_KEYS);
		assert_int_equal(parse_verify(q, ACME_JWS_NEED_JWK, NULL, &e),
		    0);
		free(q);
		json_decref(o);
	}
	free(b);
	free(p);
	free(h);
}

/* strict base64url in each of the three members */
static void
test_bad_base64url(void **state)
{
	char *b = good_jwk_body(&p256, "{\"x\":1}");
	json_t *o = json_loads(b, 0, NULL);
	const char *names[] = {"protected", "payload", "signature"};

	assert_non_null(o);
	for (int m = 0; m < 3; m++) {
		const char *v = json_string_value(json_object_get(o, names[m]));
		size_t n = strlen(v);
		/* a valid length, since 1 mod 4 is refused anyway */
		char *mut[] = {
			xasprintf("%s=", v), xasprintf("%s==", v),
			xasprintf(" %s", v), xasprintf("%s\n", v),
			xasprintf("%.*s %s", (int)(n / 2), v, v + n / 2),
			xasprintf("%.*s+%s", (int)(n / 2), v, v + n / 2 + 1),
			xasprintf("%.*s/%s", (int)(n / 2), v, v + n / 2 + 1),
			xasprintf("%.*s.%s", (int)(n / 2), v, v + n / 2 + 1),
			xasprintf("%.*s\xc3\xa9%s", (int)(n / 2), v,
			    v + n / 2 + 1),
			/* a length of 1 mod 4 */
			xasprintf("%.*s", (int)(n - (n % 4 + 3) % 4), v),
		};

		for (size_t i = 0; i < sizeof(mut) / sizeof(mut[0]); i++) {
			json_t *c = json_deep_copy(o);
			char *s;

			json_object_set_new(c, names[m], json_string(mut[i]));
			s = json_dumps(c, 0);
			expect_refused(s, ACME_JWS_NEED_JWK, RC_INVAL,
			    ACME_PROB_MALFORMED, NULL);
			free(s);
			json_decref(c);
			free(mut[i]);
		}
	}
	json_decref(o);
	free(b);
}

/* a non-canonical last character is refused: "{}" is "e30", "e31" would
 * decode to the same bytes in a lax decoder */
static void
test_noncanonical_last_char(void **state)
{
	char *h = hdr_jwk("ES256", p256.jwk), *p = b64s(h), *b;
	uint8_t sig[64] = {1};
	char *s = acme_b64u_encode(sig, sizeof(sig));
	size_t pl = strlen(p), sl = strlen(s);

	/* the signature: 64 bytes end with 2 spare bits in the last char */
	assert_int_equal(sl % 4, 2);
	s[sl - 1] = (char)(s[sl - 1] + 1);	/* 'A' -> 'B': low bit set */
	b = xasprintf("{\"protected\":\"%s\",\"payload\":\"e31\","
	    "\"signature\":\"%s\"}", p, s);
	expect_refused(b, ACME_JWS_NEED_JWK, RC_INVAL, ACME_PROB_MALFORMED,
	    "payload");
	free(b);
	b = xasprintf("{\"protected\":\"%s\",\"payload\":\"e30\","
	    "\"signature\":\"%s\"}", p, s);
	expect_refused(b, ACME_JWS_NEED_JWK, RC_INVAL, ACME_PROB_MALFORMED,
	    "signature");
	free(b);
	/* protected: make its last group non-canonical if it has spare bits */
	if (pl % 4 != 0) {
		char *p2 = xstrdup(p);

		p2[pl - 1] = (char)(p2[pl - 1] ^ 1);
		b = xasprintf("{\"protected\":\"%s\",\"payload\":\"e30\","
		    "\"signature\":\"AAAA\"}", p2);
		expect_refused(b, ACME_JWS_NEED_JWK, RC_INVAL,
		    ACME_PROB_MALFORMED, NULL);
		free(b);
		free(p2);
	}
	free(s);
	free(p);
	free(h);
}

/* protected header text that is not an acceptable JSON object */
static void
test_protected_not_json(void **state)
{
	static const struct {
		const char *hdr;
		const char *needle;
	} cases[] = {
		{"not json", "not valid JSON"},
		{"[\"alg\",\"ES256\"]", "not a JSON object"},
		{"\"ES256\"", "not valid JSON"},
		{"{\"alg\":\"ES256\",\"alg\":\"none\",\"nonce\":\"" NONCE "\","
		    "\"url\":\"" URL "\",\"kid\":\"" KID "\"}", "duplicate"},
		{"{\"alg\":\"ES256\",\"nonce\":\"" NONCE "\",\"url\":\"" URL
		    "\",\"kid\":\"" KID "\"} x", "not valid JSON"},
		{"{\"alg\":\"ES256\",\"nonce\":\"" NONCE "\",\"url\":\"" URL
		    "\",\"kid\":\"" KID "\",\"x\":[[[[[[[[[[[]]]]]]]]]]]}",
		    "nests deeper"},
		{"{\"alg\":\"ES\\u0000256\"}", "not valid JSON"},
		{"{\"alg\":\"\xff\"}", "not valid JSON"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = b64s(cases[i].hdr), *b;

		b = xasprintf("{\"protected\":\"%s\",\"payload\":\"\","
		    "\"signature\":\"AAAA\"}", p);
		expect_refused(b, ACME_JWS_NEED_KID, RC_INVAL,
		    ACME_PROB_MALFORMED, cases[i].needle);
		free(b);
		free(p);
	}
}

/* ---- the protected header ------------------------------------------------ */

static void
expect_hdr_refused_(const char *hdr, enum acme_jws_auth auth, int rc,
    enum acme_prob prob, const char *needle, int line)
{
	char *b = body_of(hdr, "{}", p256.pk, "ES256");

	expect_refused_(b, auth, rc, prob, needle, line);
	free(b);
}
#define expect_hdr_refused(h, a, rc, p, n)                                     \
	expect_hdr_refused_(h, a, rc, p, n, __LINE__)

static void
test_alg(void **state)
{
	static const char *const mac[] = {"HS256", "HS384", "HS512"};
	static const char *const unsupported[] = {"ES512", "PS256", "RS384",
		"RS512", "Ed25519", "es256", "ES256 ", "", "RSA1_5"};
	json_t *algs = acme_jws_algs_json();
	char *h;

	expect_hdr_refused("{\"alg\":\"none\",\"nonce\":\"" NONCE "\",\"url\":"
	    "\"" URL "\",\"kid\":\"" KID "\"}", ACME_JWS_NEED_KID, RC_INVAL,
	    ACME_PROB_BAD_SIGNATURE_ALGORITHM, "none");
	for (size_t i = 0; i < 3; i++) {
		h = hdr_kid(mac[i]);
		expect_hdr_refused(h, ACME_JWS_NEED_KID, RC_INVAL,
		    ACME_PROB_BAD_SIGNATURE_ALGORITHM, "MAC");
		free(h);
	}
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(*unsupported);
	    i++) {
		h = hdr_kid(unsupported[i]);
		expect_hdr_refused(h, ACME_JWS_NEED_KID, RC_INVAL,
		    ACME_PROB_BAD_SIGNATURE_ALGORITHM, "unsupported alg");
		free(h);
	}
	expect_hdr_refused("{\"alg\":256,\"nonce\":\"" NONCE "\",\"url\":\""
	    URL "\",\"kid\":\"" KID "\"}", ACME_JWS_NEED_KID, RC_INVAL,
	    ACME_PROB_MALFORMED, "not a string");
	expect_hdr_refused("{\"nonce\":\"" NONCE "\",\"url\":\"" URL "\","
	    "\"kid\":\"" KID "\"}", ACME_JWS_NEED_KID, RC_INVAL,
	    ACME_PROB_MALFORMED, "no \"alg\"");

	/* the list to send with badSignatureAlgorithm (RFC 8555 §6.2) */
	assert_int_equal(json_array_size(algs), 4);
	assert_string_equal(json_string_value(json_array_get(algs, 0)),
	    "ES256");
	assert_string_equal(json_string_value(json_array_get(algs, 3)),
	    "EdDSA");
	json_decref(algs);
	assert_string_equal(acme_alg_name(ACME_ALG_RS256), "RS256");
	assert_null(acme_alg_name(ACME_ALG_MAX_));
}

static void
test_alg_key_mismatch(void **state)
{
	static const struct {
		const char *alg;
		const struct tkey *k;
	} cases[] = {
		{"ES256", &p384}, {"ES384", &p256}, {"RS256", &p256},
		{"EdDSA", &p256}, {"ES256", &rsa}, {"ES256", &ed},
		{"RS256", &ed},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct acme_jws *jws = NULL;
		struct acme_key *k = key_from(cases[i].k->jwk);
		struct acme_err e;
		char *h = hdr_jwk(cases[i].alg, cases[i].k->jwk), *b;

		/* signed correctly with the key's own algorithm, labelled
		 * with another */
		b = body_of(h, "{}", cases[i].k->pk, cases[i].k->alg);
		expect_refused(b, ACME_JWS_NEED_JWK, RC_INVAL,
		    ACME_PROB_BAD_SIGNATURE_ALGORITHM, "does not go with");
		free(b);
		free(h);
		/* kid request: the header alg is fine on its own, the account
		 * key does not match it */
		h = hdr_kid(cases[i].alg);
		b = body_of(h, "{}", p256.pk, "ES256");
		if (parse(b, ACME_JWS_NEED_KID, &jws, &e) == 0) {
			assert_int_equal(acme_jws_verify(jws, k, &e), RC_INVAL);
			assert_int_equal(e.problem,
			    ACME_PROB_BAD_SIGNATURE_ALGORITHM);
		}
		acme_jws_free(jws);
		free(b);
		free(h);
		acme_key_free(k);
	}

	/* a JWK "alg" that contradicts the header */
	{
		char *j = xasprintf("{\"alg\":\"ES384\",%s", p256.jwk + 1), *h;

		h = hdr_jwk("ES256", j);
		expect_hdr_refused(h, ACME_JWS_NEED_JWK, RC_INVAL,
		    ACME_PROB_BAD_SIGNATURE_ALGORITHM, "JWK's \"alg\"");
		free(h);
		free(j);
		j = xasprintf("{\"alg\":\"ES256\",%s", p256.jwk + 1);
		h = hdr_jwk("ES256", j);
		free(j);
		j = body_of(h, "{}", p256.pk, "ES256");
		{
			struct acme_err e;

			assert_int_equal(parse_verify(j, ACME_JWS_NEED_JWK,
			    NULL, &e), 0);
		}
		free(j);
		free(h);
	}
}

/* RFC 7518 §3.4: R||S of exactly 64/96 bytes; EdDSA 64; RSA the modulus */
static void
test_signature_lengths(void **state)
{
	static const struct {
		const struct tkey *k;
		size_t len;
	} cases[] = {
		{&p256, 0}, {&p256, 63}, {&p256, 65}, {&p256, 96}, {&p256, 72},
		{&p384, 64}, {&p384, 95}, {&p384, 97},
		{&ed, 63}, {&ed, 65}, {&ed, 114},
		{&rsa, 255}, {&rsa, 257}, {&rsa, 64},
	};
	uint8_t sig[512];

	memset(sig, 0x5a, sizeof(sig));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *h = hdr_jwk(cases[i].k->alg, cases[i].k->jwk), *b;

		b = resign(h, "{}", sig, cases[i].len);
		expect_refused(b, ACME_JWS_NEED_JWK, RC_INVAL,
		    ACME_PROB_MALFORMED, cases[i].len ? "must be" : "empty");
		free(b);
		free(h);
	}

	/* the usual mistake: an ECDSA signature in DER */
	{
		char *h = hdr_jwk("ES256", p256.jwk), *p = b64s(h), *pl = b64s(
		    "{}"), *si = xasprintf("%s.%s", p, pl), *b;
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		uint8_t der[80];
		size_t n = sizeof(der);

		assert_true(EVP_DigestSignInit_ex(ctx, NULL, "SHA256", NULL,
		    NULL, p256.pk, NULL) == 1);
		assert_true(EVP_DigestSign(ctx, der, &n, (uint8_t *)si,
		    strlen(si)) == 1);
		assert_int_not_equal(n, 64);
		b = resign(h, "{}", der, n);
		expect_refused(b, ACME_JWS_NEED_JWK, RC_INVAL,
		    ACME_PROB_MALFORMED, "must be 64 bytes");
		EVP_MD_CTX_free(ctx);
		free(b);
		free(si);
		free(pl);
		free(p);
		free(h);
	}

	/* kid + RS256: the length is checked against the account key */
	{
		struct acme_jws *jws = NULL;
		struct acme_key *k = key_from(rsa.jwk);
		struct acme_err e;
		char *h = hdr_kid("RS256"), *b = resign(h, "{}", sig, 128);

		assert_int_equal(parse(b, ACME_JWS_NEED_KID, &jws, &e), 0);
		assert_int_equal(acme_jws_verify(jws, k, &e), RC_INVAL);
		assert_int_equal(e.problem, ACME_PROB_MALFORMED);
		assert_non_null(strstr(e.detail.msg, "must be 256 bytes"));
		acme_jws_free(jws);
		acme_key_free(k);
		free(b);
		free(h);
	}
}

/* any change to signature, payload or protected header fails */
static void
test_bit_flips(void **state)
{
	const struct tkey *keys[] = {&p256, &p384, &rsa, &ed};

	for (size_t i = 0; i < 4; i++) {
		const struct tkey *k = keys[i];
		char *h = hdr_jwk(k->alg, k->jwk), *b;
		char payload[] = "{\"identifiers\":[{\"type\":\"dns\","
		    "\"value\":\"example.org\"}]}";
		struct acme_jws *jws = NULL;
		struct acme_err e;
		size_t n;

		b = body_of(h, payload, k->pk, k->alg);
		assert_int_equal(parse(b, ACME_JWS_NEED_JWK, &jws, &e), 0);
		assert_int_equal(acme_jws_verify(jws, jws->key, &e), 0);
		/* every bit of the signature (RSA: the first 64 bytes and
		 * the last 16, to keep the test quick) */
		n = jws->sig_len;
		for (size_t byte = 0; byte < n; byte++) {
			if (n > 96 && byte >= 64 && byte < n - 16)
				continue;
			for (int bit = 0; bit < 8; bit++) {
				jws->sig[byte] ^= (uint8_t)(1u << bit);
				assert_int_equal(acme_jws_verify(jws, jws->key,
				    &e), RC_UNAUTH);
				assert_int_equal(e.problem,
				    ACME_PROB_MALFORMED);
				jws->sig[byte] ^= (uint8_t)(1u << bit);
			}
		}
		assert_int_equal(acme_jws_verify(jws, jws->key, &e), 0);
		/* all zeros, all ones */
		memset(jws->sig, 0, n);
		assert_int_equal(acme_jws_verify(jws, jws->key, &e),
		    RC_UNAUTH);
		memset(jws->sig, 0xff, n);
		assert_int_equal(acme_jws_verify(jws, jws->key, &e),
		    RC_UNAUTH);
		/* the payload signed, a different one sent (same lengths) */
		{
			char *p = b64s(h), *b2, *sg;
			json_t *o = json_loads(b, 0, NULL);

			acme_jws_free(jws);
			jws = NULL;
			sg = xstrdup(json_string_value(json_object_get(o,
			    "signature")));
			for (size_t c = 0; c < strlen(payload); c += 3) {
				char *pl;

				payload[c] ^= 0x01;
				pl = b64s(payload);
				b2 = xasprintf("{\"protected\":\"%s\","
				    "\"payload\":\"%s\",\"signature\":\"%s\"}",
				    p, pl, sg);
				assert_int_equal(parse_verify(b2,
				    ACME_JWS_NEED_JWK, NULL, &e), RC_UNAUTH);
				payload[c] ^= 0x01;
				free(pl);
				free(b2);
			}
			/* the protected header changed: refused one way or
			 * another (not JSON, bad key, or bad signature) */
			for (size_t c = 0; c < strlen(h); c += 5) {
				char *p2, *pl = b64s(payload);

				h[c] ^= 0x01;
				p2 = b64s(h);
				b2 = xasprintf("{\"protected\":\"%s\","
				    "\"payload\":\"%s\",\"signature\":\"%s\"}",
				    p2, pl, sg);
				assert_int_not_equal(parse_verify(b2,
				    ACME_JWS_NEED_JWK, NULL, &e), 0);
				h[c] ^= 0x01;
				free(p2);
				free(pl);
				free(b2);
			}
			free(sg);
			free(p);
			json_decref(o);
		}
		free(b);
		free(h);
	}
}

static void
test_wrong_key(void **state)
{
	struct acme_key *other = key_from(p256b.jwk);
	struct acme_jws *jws = NULL;
	struct acme_err e;
	char *b = good_kid_body(&p256, "{}");

	assert_int_equal(parse(b, ACME_JWS_NEED_KID, &jws, &e), 0);
	assert_int_equal(acme_jws_verify(jws, other, &e), RC_UNAUTH);
	assert_int_equal(e.problem, ACME_PROB_MALFORMED);
	assert_string_equal(e.detail.msg, "JWS verification error");
	acme_jws_free(jws);
	free(b);
	/* a jwk request whose jwk is not the signer's key */
	{
		char *h = hdr_jwk("ES256", p256b.jwk);

		b = body_of(h, "{}", p256.pk, "ES256");
		assert_int_equal(parse_verify(b, ACME_JWS_NEED_JWK, NULL, &e),
		    RC_UNAUTH);
		free(b);
		free(h);
	}
	acme_key_free(other);
}

/* RFC 8555 §6.2: exactly one of jwk and kid, as the resource needs */
static void
test_jwk_kid(void **state)
{
	char *h;

	h = xasprintf("{\"alg\":\"ES256\",\"jwk\":%s,\"kid\":\"" KID "\","
	    "\"nonce\":\"" NONCE "\",\"url\":\"" URL "\"}", p256.jwk);
	expect_hdr_refused(h, ACME_JWS_NEED_JWK, RC_INVAL, ACME_PROB_MALFORMED,
	    "both");
	expect_hdr_refused(h, ACME_JWS_NEED_EITHER, RC_INVAL,
	    ACME_PROB_MALFORMED, "both");
	free(h);
	h = xasprintf("{\"alg\":\"ES256\",\"nonce\":\"" NONCE "\",\"url\":\""
	    URL "\"}");
	expect_hdr_refused(h, ACME_JWS_NEED_KID, RC_INVAL, ACME_PROB_MALFORMED,
	    "neither");
	expect_hdr_refused(h, ACME_JWS_NEED_EITHER, RC_INVAL,
	    ACME_PROB_MALFORMED, "neither");
	free(h);
	h = hdr_kid("ES256");
	expect_hdr_refused(h, ACME_JWS_NEED_JWK, RC_INVAL, ACME_PROB_MALFORMED,
	    "\"jwk\"");
	free(h);
	h = hdr_jwk("ES256", p256.jwk);
	expect_hdr_refused(h, ACME_JWS_NEED_KID, RC_INVAL, ACME_PROB_MALFORMED,
	    "\"kid\"");
	free(h);
	static const char *const kids[] = {"42", "null", "\"\"", "[\"a\"]",
		"{}", "true"};
	for (size_t i = 0; i < sizeof(kids) / sizeof(kids[0]); i++) {
		h = xasprintf("{\"alg\":\"ES256\",\"kid\":%s,\"nonce\":\""
		    NONCE "\",\"url\":\"" URL "\"}", kids[i]);
		expect_hdr_refused(h, ACME_JWS_NEED_KID, RC_INVAL,
		    ACME_PROB_MALFORMED, "kid");
		free(h);
	}
	static const char *const jwks[] = {"\"jwk\"", "42", "[]", "null"};
	for (size_t i = 0; i < sizeof(jwks) / sizeof(jwks[0]); i++) {
		h = hdr_jwk("ES256", jwks[i]);
		expect_hdr_refused(h, ACME_JWS_NEED_JWK, RC_INVAL,
		    ACME_PROB_MALFORMED, "jwk is not a JSON object");
		free(h);
	}
}

static void
test_nonce_url(void **state)
{
	static const struct {
		const char *nonce;	/* JSON text, NULL: absent */
		const char *url;
		enum acme_prob prob;
		const char *needle;
	} cases[] = {
		/* RFC 8555 §6.5: missing or empty: badNonce, which
		 * clients retry (as Boulder answers); not base64url:
		 * malformed, as §6.5.2 says it MUST be */
		{NULL, "\"" URL "\"", ACME_PROB_BAD_NONCE, "no anti-replay"},
		{"\"\"", "\"" URL "\"", ACME_PROB_BAD_NONCE,
		    "no anti-replay"},
		{"\"bm9uY2U+MQ\"", "\"" URL "\"", ACME_PROB_MALFORMED,
		    "base64url"},
		{"\"bm9uY2UtMQ==\"", "\"" URL "\"", ACME_PROB_MALFORMED,
		    "base64url"},
		{"\"bm9uY2UtMR\"", "\"" URL "\"", ACME_PROB_MALFORMED,
		    "base64url"},
		{"\" bm9uY2U\"", "\"" URL "\"", ACME_PROB_MALFORMED,
		    "base64url"},
		/* no string at all: a malformed header */
		{"42", "\"" URL "\"", ACME_PROB_MALFORMED, "not a string"},
		{"null", "\"" URL "\"", ACME_PROB_MALFORMED, "not a string"},
		{"\"" NONCE "\"", NULL, ACME_PROB_MALFORMED, "url"},
		{"\"" NONCE "\"", "42", ACME_PROB_MALFORMED, "url"},
		{"\"" NONCE "\"", "\"\"", ACME_PROB_MALFORMED, "url"},
		{"\"" NONCE "\"", "[\"" URL "\"]", ACME_PROB_MALFORMED, "url"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *n = cases[i].nonce ? xasprintf(",\"nonce\":%s",
		    cases[i].nonce) : xstrdup("");
		char *u = cases[i].url ? xasprintf(",\"url\":%s",
		    cases[i].url) : xstrdup("");
		char *h = xasprintf("{\"alg\":\"ES256\",\"kid\":\"" KID
		    "\"%s%s}", n, u);

		expect_hdr_refused(h, ACME_JWS_NEED_KID, RC_INVAL,
		    cases[i].prob, cases[i].needle);
		free(h);
		free(n);
		free(u);
	}
	/* over the field limit */
	{
		char *big = xmalloc(ACME_JWS_MAX_FIELD + 2), *h;

		memset(big, 'A', ACME_JWS_MAX_FIELD + 1);
		big[ACME_JWS_MAX_FIELD + 1] = '\0';
		h = xasprintf("{\"alg\":\"ES256\",\"kid\":\"%s\",\"nonce\":\""
		    NONCE "\",\"url\":\"" URL "\"}", big);
		expect_hdr_refused(h, ACME_JWS_NEED_KID, RC_INVAL,
		    ACME_PROB_MALFORMED, "longer than");
		free(h);
		/* a nonce that long is none of ours */
		h = xasprintf("{\"alg\":\"ES256\",\"kid\":\"" KID "\","
		    "\"nonce\":\"%s\",\"url\":\"" URL "\"}", big);
		expect_hdr_refused(h, ACME_JWS_NEED_KID, RC_INVAL,
		    ACME_PROB_BAD_NONCE, "anti-replay nonce");
		free(h);
		free(big);
	}
}

/* RFC 7515 §4.1.11, RFC 7797 */
static void
test_crit_b64(void **state)
{
	char *h;
	struct acme_err e;

	h = xasprintf("{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"nonce\":\""
	    NONCE "\",\"url\":\"" URL "\",\"crit\":[\"b64\"],\"b64\":false}");
	expect_hdr_refused(h, ACME_JWS_NEED_KID, RC_INVAL, ACME_PROB_MALFORMED,
	    "crit");
	free(h);
	h = xasprintf("{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"nonce\":\""
	    NONCE "\",\"url\":\"" URL "\",\"crit\":[\"exp\"],\"exp\":1}");
	expect_hdr_refused(h, ACME_JWS_NEED_KID, RC_INVAL, ACME_PROB_MALFORMED,
	    "crit");
	free(h);
	h = xasprintf("{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"nonce\":\""
	    NONCE "\",\"url\":\"" URL "\",\"b64\":false}");
	expect_hdr_refused(h, ACME_JWS_NEED_KID, RC_INVAL, ACME_PROB_MALFORMED,
	    "b64");
	free(h);
	h = xasprintf("{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"nonce\":\""
	    NONCE "\",\"url\":\"" URL "\",\"b64\":\"false\"}");
	expect_hdr_refused(h, ACME_JWS_NEED_KID, RC_INVAL, ACME_PROB_MALFORMED,
	    "b64");
	free(h);
	/* b64 true is the default meaning; unknown members are ignored */
	{
		struct acme_key *k = key_from(p256.jwk);
		char *b;

		h = xasprintf("{\"alg\":\"ES256\",\"kid\":\"" KID "\","
		    "\"nonce\":\"" NONCE "\",\"url\":\"" URL "\",\"b64\":true,"
		    "\"typ\":\"JWT\",\"x5u\":\"https://evil.example/\"}");
		b = body_of(h, "{}", p256.pk, "ES256");
		assert_int_equal(parse_verify(b, ACME_JWS_NEED_KID, k, &e), 0);
		free(b);
		free(h);
		acme_key_free(k);
	}
}

/* ---- JWKs ---------------------------------------------------------------- */

static char *
ec_jwk(const char *crv, const uint8_t *x, size_t xl, const uint8_t *y,
    size_t yl, const char *extra)
{
	char *xs = acme_b64u_encode(x, xl), *ys = acme_b64u_encode(y, yl), *j;

	j = xasprintf("{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\""
	    "%s}", crv, xs, ys, extra);
	free(xs);
	free(ys);
	return j;
}

/* the raw coordinates of a key made here */
static void
ec_coords(const struct tkey *k, uint8_t *x, uint8_t *y, size_t *c)
{
	uint8_t buf[100];
	size_t n;

	assert_true(EVP_PKEY_get_octet_string_param(k->pk,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf, sizeof(buf), &n));
	*c = (n - 1) / 2;
	memcpy(x, buf + 1, *c);
	memcpy(y, buf + 1 + *c, *c);
}

static void
test_jwk_private_members(void **state)
{
	static const char *const ec_priv[] = {"d"};
	static const char *const rsa_priv[] = {"d", "p", "q", "dp", "dq", "qi",
		"oth"};
	char *j, *h;

	for (size_t i = 0; i < 1; i++) {
		j = xasprintf("{\"%s\":\"AAAA\",%s", ec_priv[i], p256.jwk + 1);
		expect_key_refused(j, RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY,
		    "private");
		/* and inside a request: badPublicKey, not a verify error */
		h = hdr_jwk("ES256", j);
		expect_hdr_refused(h, ACME_JWS_NEED_JWK, RC_BADKEY,
		    ACME_PROB_BAD_PUBLIC_KEY, "never send a private key");
		free(h);
		free(j);
	}
	for (size_t i = 0; i < sizeof(rsa_priv) / sizeof(*rsa_priv); i++) {
		j = xasprintf("{\"%s\":\"AQAB\",%s", rsa_priv[i], rsa.jwk + 1);
		expect_key_refused(j, RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY,
		    rsa_priv[i]);
		free(j);
	}
	j = xasprintf("{\"d\":\"AAAA\",%s", ed.jwk + 1);
	expect_key_refused(j, RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, "private");
	free(j);
	/* a symmetric key ("oct") is a secret too */
	expect_key_refused("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}", RC_BADKEY,
	    ACME_PROB_BAD_PUBLIC_KEY, "\"k\"");
}

/* a 1024-bit RSA modulus: refused (Boulder and the BRs: at least 2048) */
static void
test_rsa_sizes(void **state)
{
	uint8_t n[1100];
	char *ns, *j;
	static const struct {
		size_t len;
		uint8_t first, last;
		const char *e;
		const char *needle;
	} cases[] = {
		{128, 0xc5, 0x01, "AQAB", "1024 bits"},
		{255, 0xc5, 0x01, "AQAB", "2040 bits"},
		{256, 0x45, 0x01, "AQAB", "2047 bits"},		/* not x8 */
		{257, 0x00, 0x01, "AQAB", "leading zero"},
		{1025, 0xc5, 0x01, "AQAB", "longer than"},
		{256, 0xc5, 0x02, "AQAB", "even"},
		{256, 0xc5, 0x01, "Aw", "65537"},		/* e = 3 */
		{256, 0xc5, 0x01, "AAEAAQ", "leading zero"},	/* 00010001 */
		{256, 0xc5, 0x01, "AQAA", "65537"},
		{256, 0xc5, 0x01, "AQAB=", "base64url"},
		{256, 0xc5, 0x01, "", "leading zero"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(n, 0xa7, sizeof(n));
		n[0] = cases[i].first;
		n[cases[i].len - 1] = cases[i].last;
		ns = acme_b64u_encode(n, cases[i].len);
		j = xasprintf("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", ns,
		    cases[i].e);
		expect_key_refused(j, RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY,
		    cases[i].needle);
		free(j);
		free(ns);
	}
	/* a real 1024-bit key in a signed request */
	{
		struct tkey small;
		char *h, *b;

		tkey_make(&small, EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)1024), "RS256");
		h = hdr_jwk("RS256", small.jwk);
		b = body_of(h, "{}", small.pk, "RS256");
		expect_refused(b, ACME_JWS_NEED_JWK, RC_BADKEY,
		    ACME_PROB_BAD_PUBLIC_KEY, "1024 bits");
		free(b);
		free(h);
		EVP_PKEY_free(small.pk);
		free(small.jwk);
	}
	/* 8192 bits is the maximum and fine; n and e missing or mistyped */
	memset(n, 0xc5, 1024);
	ns = acme_b64u_encode(n, 1024);
	j = xasprintf("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}", ns);
	{
		struct acme_key *k = key_from(j);

		assert_int_equal(acme_key_bits(k), 8192);
		acme_key_free(k);
	}
	free(j);
	free(ns);
	expect_key_refused("{\"kty\":\"RSA\",\"e\":\"AQAB\"}", RC_BADKEY,
	    ACME_PROB_BAD_PUBLIC_KEY, "no \"n\"");
	expect_key_refused("{\"kty\":\"RSA\",\"n\":12345,\"e\":\"AQAB\"}",
	    RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, "not a string");
}

static void
test_ec_points(void **state)
{
	uint8_t x[48], y[48], big[49];
	size_t c;
	char *j;
	struct acme_key *k;

	ec_coords(&p256, x, y, &c);
	assert_int_equal(c, 32);
	/* the genuine point is fine */
	j = ec_jwk("P-256", x, 32, y, 32, "");
	k = key_from(j);
	assert_int_equal(acme_key_bits(k), 256);
	acme_key_free(k);
	free(j);
	/* y with one bit flipped: not on the curve */
	for (int bit = 0; bit < 8; bit += 3) {
		y[31] ^= (uint8_t)(1u << bit);
		j = ec_jwk("P-256", x, 32, y, 32, "");
		expect_key_refused(j, RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY,
		    "not on the curve");
		free(j);
		y[31] ^= (uint8_t)(1u << bit);
	}
	/* (0, 0), and coordinates >= p */
	memset(big, 0, sizeof(big));
	j = ec_jwk("P-256", big, 32, big, 32, "");
	expect_key_refused(j, RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, "curve");
	free(j);
	memset(big, 0xff, sizeof(big));
	j = ec_jwk("P-256", big, 32, y, 32, "");
	expect_key_refused(j, RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, "curve");
	free(j);
	/* the field length exactly: 31, 33 bytes, leading zero stripped */
	j = ec_jwk("P-256", x + 1, 31, y, 32, "");
	expect_key_refused(j, RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, "32 bytes");
	free(j);
	big[0] = 0;
	memcpy(big + 1, x, 32);
	j = ec_jwk("P-256", big, 33, y, 32, "");
	expect_key_refused(j, RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, "32 bytes");
	free(j);
	/* a P-256 point labelled P-384 and the other way round */
	j = ec_jwk("P-384", x, 32, y, 32, "");
	expect_key_refused(j, RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, "48 bytes");
	free(j);
	{
		uint8_t x4[48], y4[48];

		ec_coords(&p384, x4, y4, &c);
		j = ec_jwk("P-256", x4, 48, y4, 48, "");
		expect_key_refused(j, RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY,
		    "32 bytes");
		free(j);
	}
	/* curves that are not allowed */
	static const char *const crvs[] = {"P-521", "secp256k1", "P256",
		"p-256", "Ed25519", ""};
	for (size_t i = 0; i < sizeof(crvs) / sizeof(crvs[0]); i++) {
		j = ec_jwk(crvs[i], x, 32, y, 32, "");
		expect_key_refused(j, RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY,
		    "unsupported EC curve");
		free(j);
	}
	expect_key_refused("{\"kty\":\"EC\",\"crv\":256}", RC_BADKEY,
	    ACME_PROB_BAD_PUBLIC_KEY, "crv");
	expect_key_refused("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\"}",
	    RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, NULL);
	/* "use" other than "sig" */
	j = ec_jwk("P-256", x, 32, y, 32, ",\"use\":\"enc\"");
	expect_key_refused(j, RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, "use");
	free(j);
}

static void
test_okp_and_kty(void **state)
{
	char *h, *b;

	/* Ed448 is not accepted (RFC 8555 servers need not), even signed */
	h = hdr_jwk("EdDSA", ed448.jwk);
	b = body_of(h, "{}", ed448.pk, "EdDSA");
	expect_refused(b, ACME_JWS_NEED_JWK, RC_BADKEY,
	    ACME_PROB_BAD_PUBLIC_KEY, "Ed448");
	free(b);
	free(h);
	expect_key_refused("{\"kty\":\"OKP\",\"crv\":\"X25519\","
	    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
	    RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, "X25519");
	expect_key_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR\"}",
	    RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, "base64url");
	expect_key_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcH\"}",
	    RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, "32 bytes");
	/* small-order points: any signature "verifies" (R the identity,
	 * S 0), so anyone could sign for such a key; and one not in
	 * canonical form */
	expect_key_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
	    RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, "prime-order");
	expect_key_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"7P_______________________________________38\"}",
	    RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, "prime-order");
	expect_key_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
	    RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, "prime-order");
	expect_key_refused("{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}", RC_BADKEY,
	    ACME_PROB_BAD_PUBLIC_KEY, "no \"x\"");
	expect_key_refused("{\"kty\":\"XYZ\"}", RC_BADKEY,
	    ACME_PROB_BAD_PUBLIC_KEY, "unsupported key type");
	expect_key_refused("{\"kty\":7}", RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY,
	    "kty");
	expect_key_refused("{}", RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, "kty");
	expect_key_refused("[]", RC_INVAL, ACME_PROB_MALFORMED, NULL);
	expect_key_refused("{\"kty\":\"EC\",\"kty\":\"RSA\"}", RC_INVAL,
	    ACME_PROB_MALFORMED, "duplicate");
	/* the detail is printable ASCII even with hostile strings */
	{
		struct acme_key *k = NULL;
		struct acme_err e = {0};
		const char j[] = "{\"kty\":\"\\u001b[31m\\u00e9\\n\"}";

		assert_int_equal(acme_key_from_jwk_str(j, strlen(j), &k, &e),
		    RC_BADKEY);
		for (const char *c = e.detail.msg; *c; c++)
			assert_true(*c >= 0x20 && *c <= 0x7e);
	}
}

/* ---- thumbprints and key authorizations ---------------------------------- */

static void
test_thumbprints(void **state)
{
	static const struct {
		const char *jwk, *tp;
	} v[] = {
		{rfc7638_jwk, rfc7638_tp},
		{rfc8037_jwk, rfc8037_tp},
		{rfc7517_p256_jwk, rfc7517_p256_tp},
		{py_p384_jwk, py_p384_tp},
	};
	char tp[ACME_THUMBPRINT_LEN + 1];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct acme_key *k = key_from(v[i].jwk), *k2;
		size_t len;

		assert_int_equal(acme_key_thumbprint(k, tp), 0);
		assert_string_equal(tp, v[i].tp);
		/* the canonical JWK imports to the same key and thumbprint */
		k2 = key_from(acme_key_jwk(k, &len));
		assert_int_equal(len, strlen(acme_key_jwk(k, NULL)));
		assert_true(acme_key_equal(k, k2));
		assert_string_equal(acme_key_jwk(k, NULL),
		    acme_key_jwk(k2, NULL));
		acme_key_free(k2);
		acme_key_free(k);
	}
	{
		struct acme_key *k = key_from(rfc7517_p256_jwk);

		assert_string_equal(acme_key_jwk(k, NULL), rfc7517_p256_canon);
		acme_key_free(k);
	}
	{
		struct acme_key *a = key_from(rfc7638_jwk);
		struct acme_key *b = key_from(rfc8037_jwk);

		assert_false(acme_key_equal(a, b));
		assert_int_equal(acme_key_bits(a), 2048);
		assert_int_equal(acme_key_type(b), ACME_KTY_ED25519);
		assert_non_null(acme_key_pkey(b));
		assert_true(EVP_PKEY_is_a(acme_key_pkey(b), "ED25519"));
		acme_key_free(a);
		acme_key_free(b);
	}
}

/* RFC 8555 §8.1, §8.4 */
static void
test_keyauth(void **state)
{
	struct acme_key *k = key_from(rfc7638_jwk);
	char *ka = NULL, txt[ACME_THUMBPRINT_LEN + 1], hex[65];
	uint8_t d[32];
	static const char *const bad[] = {"", "a.b", "tok=", "a b", "x"};

	assert_int_equal(acme_keyauth(token, k, &ka), 0);
	assert_non_null(ka);
	assert_int_equal(strncmp(ka, token, strlen(token)), 0);
	assert_int_equal(ka[strlen(token)], '.');
	assert_string_equal(ka + strlen(token) + 1, rfc7638_tp);
	assert_int_equal(acme_keyauth_dns01(ka, txt), 0);
	assert_string_equal(txt, dns01_txt);
	assert_int_equal(acme_keyauth_digest(ka, d), 0);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	assert_string_equal(hex, keyauth_sha256_hex);
	free(ka);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ka = (char *)bad;
		assert_int_equal(acme_keyauth(bad[i], k, &ka), RC_INVAL);
		assert_null(ka);
	}
	acme_key_free(k);
}

static void
test_key_refcount(void **state)
{
	struct acme_key *k = key_from(p256.jwk), *r;
	struct acme_jws *jws = NULL;
	struct acme_err e;
	char *b = good_kid_body(&p256, "{}");

	/* a cache holds one reference, a request another */
	r = acme_key_ref(k);
	assert_ptr_equal(r, k);
	acme_key_free(k);	/* the cache drops it */
	assert_int_equal(parse(b, ACME_JWS_NEED_KID, &jws, &e), 0);
	assert_int_equal(acme_jws_verify(jws, r, &e), 0);
	assert_int_equal(acme_jws_verify(jws, r, &e), 0);	/* reusable */
	acme_jws_free(jws);
	acme_key_free(r);	/* the last one: freed (ASan checks) */
	acme_key_free(NULL);
	acme_jws_free(NULL);
	acme_eab_free(NULL);
	free(b);
}

static void
test_payload_json(void **state)
{
	static const struct {
		const char *payload;
		int ok;
	} cases[] = {
		{"{\"a\":1}", 1},
		{"[]", 0},
		{"\"str\"", 0},
		{"not json", 0},
		{"{\"a\":1,\"a\":2}", 0},
		{"{\"a\":1} {}", 0},
		/* depth 10 is the limit, 11 is refused */
		{"{\"a\":[[[[[[[[{}]]]]]]]]}", 1},
		{"{\"a\":[[[[[[[[[{}]]]]]]]]]}", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct acme_jws *jws = NULL;
		struct acme_err e;
		json_t *j = NULL;
		char *b = good_kid_body(&p256, cases[i].payload);

		assert_int_equal(parse(b, ACME_JWS_NEED_KID, &jws, &e), 0);
		if (cases[i].ok) {
			assert_int_equal(acme_jws_payload_json(jws, &j, &e),
			    0);
			assert_true(json_is_object(j));
		} else {
			assert_int_equal(acme_jws_payload_json(jws, &j, &e),
			    RC_INVAL);
			assert_null(j);
			assert_int_equal(e.problem, ACME_PROB_MALFORMED);
		}
		json_decref(j);
		acme_jws_free(jws);
		free(b);
	}
}

static void
test_problems(void **state)
{
	assert_string_equal(acme_prob_urn(ACME_PROB_MALFORMED),
	    "urn:ietf:params:acme:error:malformed");
	assert_string_equal(acme_prob_urn(ACME_PROB_BAD_SIGNATURE_ALGORITHM),
	    "urn:ietf:params:acme:error:badSignatureAlgorithm");
	assert_string_equal(acme_prob_urn(ACME_PROB_BAD_PUBLIC_KEY),
	    "urn:ietf:params:acme:error:badPublicKey");
	assert_string_equal(acme_prob_urn(ACME_PROB_EXTERNAL_ACCOUNT_REQUIRED),
	    "urn:ietf:params:acme:error:externalAccountRequired");
	assert_string_equal(acme_prob_urn((enum acme_prob)999),
	    "urn:ietf:params:acme:error:serverInternal");
	assert_int_equal(acme_prob_http_status(ACME_PROB_MALFORMED), 400);
	assert_int_equal(acme_prob_http_status(ACME_PROB_UNAUTHORIZED), 403);
	assert_int_equal(acme_prob_http_status(ACME_PROB_RATE_LIMITED), 429);
	assert_int_equal(acme_prob_http_status(ACME_PROB_SERVER_INTERNAL), 500);
	for (int p = 0; p < ACME_PROB_MAX_; p++)
		assert_non_null(strstr(acme_prob_urn((enum acme_prob)p),
		    "urn:ietf:params:acme:error:"));
}

/* ---- External Account Binding (RFC 8555 §7.3.4) -------------------------- */

static const uint8_t eab_key[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

/* An EAB object over header text and payload text, MAC'd with mdname. */
static json_t *
eab_make(const char *hdr, const char *payload, const char *mdname,
    const uint8_t *key, size_t keylen)
{
	char *p = b64s(hdr), *pl = b64s(payload), *si, *s;
	uint8_t mac[64];
	unsigned int n = 0;
	json_t *o;

	si = xasprintf("%s.%s", p, pl);
	assert_non_null(HMAC(EVP_get_digestbyname(mdname), key, (int)keylen,
	    (uint8_t *)si, strlen(si), mac, &n));
	s = acme_b64u_encode(mac, n);
	o = json_pack("{s:s, s:s, s:s}", "protected", p, "payload", pl,
	    "signature", s);
	free(p);
	free(pl);
	free(si);
	free(s);
	return o;
}

static int
eab_check(json_t *eab, const uint8_t *key, size_t keylen, const char *url,
    const struct acme_key *outer, struct acme_err *e)
{
	struct acme_eab *x = NULL;
	int rc;

	memset(e, 0, sizeof(*e));
	rc = acme_eab_parse(eab, &x, e);
	if (rc == 0) {
		assert_string_equal(acme_eab_kid(x), "kid-1");
		rc = acme_eab_verify(x, key, keylen, url, outer, e);
	}
	acme_eab_free(x);
	return rc;
}

static void
test_eab(void **state)
{
	struct acme_key *outer = key_from(p256.jwk);
	struct acme_err e;
	json_t *o;
	char *h;
	static const char *const mds[][2] = {{"HS256", "SHA256"},
		{"HS384", "SHA384"}, {"HS512", "SHA512"}};

	h = xasprintf("{\"alg\":\"HS256\",\"kid\":\"kid-1\",\"url\":\"" URL
	    "\"}");
	/* good, for each MAC algorithm */
	for (int i = 0; i < 3; i++) {
		char *hh = xasprintf("{\"alg\":\"%s\",\"kid\":\"kid-1\","
		    "\"url\":\"" URL "\"}", mds[i][0]);

		o = eab_make(hh, p256.jwk, mds[i][1], eab_key, 32);
		assert_int_equal(eab_check(o, eab_key, 32, URL, outer, &e), 0);
		json_decref(o);
		free(hh);
	}
	/* the payload JWK in another spelling of the same key */
	{
		char *j = xasprintf("{ \"kid\":\"x\", %s", p256.jwk + 1);

		o = eab_make(h, j, "SHA256", eab_key, 32);
		assert_int_equal(eab_check(o, eab_key, 32, URL, outer, &e), 0);
		json_decref(o);
		free(j);
	}
	/* bad MAC: another key, a truncated MAC, a flipped bit */
	{
		uint8_t other[32];

		memcpy(other, eab_key, 32);
		other[31] ^= 1;
		o = eab_make(h, p256.jwk, "SHA256", other, 32);
		assert_int_equal(eab_check(o, eab_key, 32, URL, outer, &e),
		    RC_UNAUTH);
		assert_int_equal(e.problem, ACME_PROB_UNAUTHORIZED);
		assert_non_null(strstr(e.detail.msg, "MAC"));
		json_decref(o);
		/* MAC with the right key but HS256 declared, SHA-384 used */
		o = eab_make(h, p256.jwk, "SHA384", eab_key, 32);
		assert_int_equal(eab_check(o, eab_key, 32, URL, outer, &e),
		    RC_UNAUTH);
		json_decref(o);
		o = eab_make(h, p256.jwk, "SHA256", eab_key, 32);
		{
			char *s = xstrdup(json_string_value(json_object_get(o,
			    "signature")));

			s[strlen(s) - 3] = '\0';	/* 2 bytes short */
			json_object_set_new(o, "signature", json_string(s));
			assert_int_equal(eab_check(o, eab_key, 32, URL, outer,
			    &e), RC_UNAUTH);
			free(s);
		}
		json_decref(o);
	}
	/* wrong url */
	o = eab_make(h, p256.jwk, "SHA256", eab_key, 32);
	assert_int_equal(eab_check(o, eab_key, 32,
	    "https://ca.example/acme/new-acct", outer, &e), RC_UNAUTH);
	assert_non_null(strstr(e.detail.msg, "url"));
	/* the caller's key must be given */
	assert_int_equal(eab_check(o, eab_key, 0, URL, outer, &e), RC_INVAL);
	json_decref(o);
	/* payload a different key than the account's */
	o = eab_make(h, p256b.jwk, "SHA256", eab_key, 32);
	assert_int_equal(eab_check(o, eab_key, 32, URL, outer, &e), RC_UNAUTH);
	assert_non_null(strstr(e.detail.msg, "account key"));
	json_decref(o);
	free(h);

	/* malformed bindings */
	static const struct {
		const char *hdr;
		const char *payload;
		const char *needle;
	} bad[] = {
		{"{\"alg\":\"HS256\",\"kid\":\"kid-1\",\"url\":\"" URL "\","
		    "\"nonce\":\"" NONCE "\"}", NULL, "nonce"},
		{"{\"alg\":\"ES256\",\"kid\":\"kid-1\",\"url\":\"" URL "\"}",
		    NULL, "HS256"},
		{"{\"alg\":\"none\",\"kid\":\"kid-1\",\"url\":\"" URL "\"}",
		    NULL, "HS256"},
		{"{\"kid\":\"kid-1\",\"url\":\"" URL "\"}", NULL, "alg"},
		{"{\"alg\":\"HS256\",\"url\":\"" URL "\"}", NULL, "kid"},
		{"{\"alg\":\"HS256\",\"kid\":7,\"url\":\"" URL "\"}", NULL,
		    "kid"},
		{"{\"alg\":\"HS256\",\"kid\":\"kid-1\"}", NULL, "url"},
		{"{\"alg\":\"HS256\",\"kid\":\"kid-1\",\"url\":\"" URL "\","
		    "\"crit\":[\"b64\"],\"b64\":false}", NULL, "crit"},
		{"{\"alg\":\"HS256\",\"kid\":\"kid-1\",\"url\":\"" URL "\"}",
		    "", "payload"},
		{"{\"alg\":\"HS256\",\"kid\":\"kid-1\",\"url\":\"" URL "\"}",
		    "{\"kty\":\"EC\"}", NULL},
		{"{\"alg\":\"HS256\",\"kid\":\"kid-1\",\"url\":\"" URL "\"}",
		    "[1]", "not a JSON object"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct acme_eab *x = (struct acme_eab *)&x;

		o = eab_make(bad[i].hdr, bad[i].payload ? bad[i].payload :
		    p256.jwk, "SHA256", eab_key, 32);
		memset(&e, 0, sizeof(e));
		assert_int_not_equal(acme_eab_parse(o, &x, &e), 0);
		assert_null(x);
		if (bad[i].needle != NULL &&
		    strstr(e.detail.msg, bad[i].needle) == NULL)
			fail_msg("eab case %zu: detail \"%s\"", i,
			    e.detail.msg);
		json_decref(o);
	}
	/* the jwk in the EAB header, extra members, not an object */
	h = xasprintf("{\"alg\":\"HS256\",\"kid\":\"kid-1\",\"url\":\"" URL
	    "\",\"jwk\":%s}", p256.jwk);
	o = eab_make(h, p256.jwk, "SHA256", eab_key, 32);
	assert_int_equal(eab_check(o, eab_key, 32, URL, outer, &e), RC_INVAL);
	json_object_set_new(o, "header", json_object());
	assert_int_equal(eab_check(o, eab_key, 32, URL, outer, &e), RC_INVAL);
	json_decref(o);
	free(h);
	o = json_string("eab");
	assert_int_equal(eab_check(o, eab_key, 32, URL, outer, &e), RC_INVAL);
	json_decref(o);
	acme_key_free(outer);
}

/* the whole newAccount flow on the request signed by python */
static void
test_eab_foreign(void **state)
{
	struct acme_jws *jws = NULL;
	struct acme_eab *x = NULL;
	struct acme_err e = {0};
	json_t *pl = NULL;

	assert_int_equal(parse(py_es256_body, ACME_JWS_NEED_JWK, &jws, &e), 0);
	assert_int_equal(acme_jws_verify(jws, jws->key, &e), 0);
	assert_int_equal(acme_jws_payload_json(jws, &pl, &e), 0);
	assert_int_equal(acme_eab_parse(json_object_get(pl,
	    "externalAccountBinding"), &x, &e), 0);
	assert_string_equal(acme_eab_kid(x), "eab-kid-7");
	assert_int_equal(acme_eab_verify(x, eab_key, 32, jws->url, jws->key,
	    &e), 0);
	assert_int_equal(acme_eab_verify(x, eab_key, 31, jws->url, jws->key,
	    &e), RC_UNAUTH);
	acme_eab_free(x);
	json_decref(pl);
	acme_jws_free(jws);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_each_alg),
		cmocka_unit_test(test_foreign_signatures),
		cmocka_unit_test(test_post_as_get),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_not_a_flat_jws),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_bad_base64url),
		cmocka_unit_test(test_noncanonical_last_char),
		cmocka_unit_test(test_protected_not_json),
		cmocka_unit_test(test_alg),
		cmocka_unit_test(test_alg_key_mismatch),
		cmocka_unit_test(test_signature_lengths),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_jwk_kid),
		cmocka_unit_test(test_nonce_url),
		cmocka_unit_test(test_crit_b64),
		cmocka_unit_test(test_jwk_private_members),
		cmocka_unit_test(test_rsa_sizes),
		cmocka_unit_test(test_ec_points),
		cmocka_unit_test(test_okp_and_kty),
		cmocka_unit_test(test_thumbprints),
		cmocka_unit_test(test_keyauth),
		cmocka_unit_test(test_key_refcount),
		cmocka_unit_test(test_payload_json),
		cmocka_unit_test(test_problems),
		cmocka_unit_test(test_eab),
		cmocka_unit_test(test_eab_foreign),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
