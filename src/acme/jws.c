/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JWS layer of the ACME server: parses the flattened JWS JSON body of
 * every ACME POST (RFC 8555 §6.2), imports the client's JWK as an OpenSSL
 * key (RFC 7517, RFC 7518 §6, RFC 8037), verifies the signature (ES256,
 * ES384, RS256, EdDSA), computes JWK thumbprints (RFC 7638), key
 * authorizations (RFC 8555 §8.1) and checks External Account Binding
 * (RFC 8555 §7.3.4). Also the table of ACME problem types.
 *
 * Runs in the main certdesk process, on request threads, with no shared
 * mutable state except the digests fetched once at first use. Everything it
 * reads is untrusted: bodies, headers, keys and EAB objects are checked here
 * and refused with a problem type and a human detail (which never contains
 * key material and is reduced to printable ASCII, because it is echoed to
 * the client and logged). Trusted: the caller's choice of what a resource
 * needs, the key it looks up for a kid, the EAB MAC key.
 *
 * Performance: the benchmark counts several verifications per certificate,
 * so the fast path (ES256 with a JWK) imports the point straight from its
 * uncompressed encoding with EVP_PKEY_fromdata (no DER, no decoder), builds
 * the DER signature by hand, and reuses the fetched EVP_MDs. Accounts can
 * keep their struct acme_key (reference counted) to skip the import.
 */
#include "acme/acme_int.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- problems ------------------------------------------------------------ */

static const struct {
	const char *urn;
	int status;
} probs[ACME_PROB_MAX_] = {
#define P(p, n, s) [p] = {"urn:ietf:params:acme:error:" n, s}
	P(ACME_PROB_NONE, "serverInternal", 500),
	P(ACME_PROB_ACCOUNT_DOES_NOT_EXIST, "accountDoesNotExist", 400),
	P(ACME_PROB_ALREADY_REPLACED, "alreadyReplaced", 409),
	P(ACME_PROB_ALREADY_REVOKED, "alreadyRevoked", 400),
	P(ACME_PROB_BAD_CSR, "badCSR", 400),
	P(ACME_PROB_BAD_NONCE, "badNonce", 400),
	P(ACME_PROB_BAD_PUBLIC_KEY, "badPublicKey", 400),
	P(ACME_PROB_BAD_REVOCATION_REASON, "badRevocationReason", 400),
	P(ACME_PROB_BAD_SIGNATURE_ALGORITHM, "badSignatureAlgorithm", 400),
	P(ACME_PROB_CAA, "caa", 403),
	P(ACME_PROB_COMPOUND, "compound", 400),
	P(ACME_PROB_CONNECTION, "connection", 400),
	P(ACME_PROB_DNS, "dns", 400),
	P(ACME_PROB_EXTERNAL_ACCOUNT_REQUIRED, "externalAccountRequired", 400),
	P(ACME_PROB_INCORRECT_RESPONSE, "incorrectResponse", 400),
	P(ACME_PROB_INVALID_CONTACT, "invalidContact", 400),
	P(ACME_PROB_INVALID_PROFILE, "invalidProfile", 400),
	P(ACME_PROB_MALFORMED, "malformed", 400),
	P(ACME_PROB_ORDER_NOT_READY, "orderNotReady", 403),
	P(ACME_PROB_RATE_LIMITED, "rateLimited", 429),
	P(ACME_PROB_REJECTED_IDENTIFIER, "rejectedIdentifier", 400),
	P(ACME_PROB_SERVER_INTERNAL, "serverInternal", 500),
	P(ACME_PROB_TLS, "tls", 400),
	P(ACME_PROB_UNAUTHORIZED, "unauthorized", 403),
	P(ACME_PROB_UNSUPPORTED_CONTACT, "unsupportedContact", 400),
	P(ACME_PROB_UNSUPPORTED_IDENTIFIER, "unsupportedIdentifier", 400),
	P(ACME_PROB_USER_ACTION_REQUIRED, "userActionRequired", 403),
#undef P
};

const char *
acme_prob_urn(enum acme_prob p)
{
	if ((unsigned)p >= ACME_PROB_MAX_)
		p = ACME_PROB_SERVER_INTERNAL;
	return probs[p].urn;
}

int
acme_prob_http_status(enum acme_prob p)
{
	if ((unsigned)p >= ACME_PROB_MAX_)
		p = ACME_PROB_SERVER_INTERNAL;
	return probs[p].status;
}

/*
 * Records a failure and returns rc. The detail is reduced to printable
 * ASCII: it quotes client-supplied strings and goes back to the client and
 * into the log.
 */
static int fail(struct acme_err *err, int rc, enum acme_prob p,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail(struct acme_err *err, int rc, enum acme_prob p, const char *fmt, ...)
{
	va_list ap;

	ERR_clear_error();	/* a refused input is not a library error */
	if (err == NULL)
		return rc;
	err->problem = p;
	va_start(ap, fmt);
	vsnprintf(err->detail.msg, sizeof(err->detail.msg), fmt, ap);
	va_end(ap);
	for (char *c = err->detail.msg; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
	return rc;
}

#define MALFORMED(err, ...)                                                    \
	fail(err, RC_INVAL, ACME_PROB_MALFORMED, __VA_ARGS__)
#define BADKEY(err, ...)                                                       \
	fail(err, RC_BADKEY, ACME_PROB_BAD_PUBLIC_KEY, __VA_ARGS__)
#define BADALG(err, ...)                                                       \
	fail(err, RC_INVAL, ACME_PROB_BAD_SIGNATURE_ALGORITHM, __VA_ARGS__)

/* A library failure: the OpenSSL error queue goes to the log, the client
 * gets serverInternal. */
static int
internal(struct acme_err *err, const char *what)
{
	log_openssl(LOG_ACME, what);
	return fail(err, RC_CRYPTO, ACME_PROB_SERVER_INTERNAL, "%s failed",
	    what);
}
#define INTERNAL(err, what) internal(err, what)

/* ---- digests and EC templates, made once --------------------------------- */

static CRYPTO_ONCE init_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MD *md_sha256, *md_sha384, *md_sha512;
/*
 * Parameter-only EC keys for P-256 and P-384. Importing a JWK duplicates
 * one and sets the point: building the EC_GROUP from its name each time
 * (what EVP_PKEY_fromdata does) costs about three times as much. Never
 * modified after init, so request threads may dup them concurrently.
 */
static EVP_PKEY *ec_tmpl_p256, *ec_tmpl_p384;

static EVP_PKEY *
ec_template(const char *group)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEY_PARAMETERS,
	    params) <= 0)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

static void
init(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
	md_sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
	ec_tmpl_p256 = ec_template("prime256v1");
	ec_tmpl_p384 = ec_template("secp384r1");
	if (md_sha256 == NULL || md_sha384 == NULL || md_sha512 == NULL ||
	    ec_tmpl_p256 == NULL || ec_tmpl_p384 == NULL)
		log_openssl(LOG_ACME, "jws: init");
}

static int
init_ok(void)
{
	return CRYPTO_THREAD_run_once(&init_once, init);
}

/* 0: SHA-256, 1: SHA-384, 2: SHA-512; NULL if the fetch failed. */
static const EVP_MD *
md_get(int which)
{
	if (!init_ok())
		return NULL;
	return which == 0 ? md_sha256 : which == 1 ? md_sha384 : md_sha512;
}

static int
sha256(const void *p, size_t n, uint8_t out[32])
{
	const EVP_MD *md = md_get(0);
	unsigned int len = 0;

	if (md == NULL || !EVP_Digest(p, n, out, &len, md, NULL) || len != 32) {
		log_openssl(LOG_ACME, "SHA-256");
		return RC_CRYPTO;
	}
	return 0;
}

/* ---- JSON with limits ---------------------------------------------------- */

static int
depth_ok(const json_t *j, int depth)
{
	const char *k;
	json_t *v;
	size_t i;

	if (depth > ACME_JWS_MAX_DEPTH)
		return 0;
	if (json_is_object(j)) {
		json_object_foreach ((json_t *)j, k, v)
			if (!depth_ok(v, depth + 1))
				return 0;
	} else if (json_is_array(j)) {
		json_array_foreach (j, i, v)
			if (!depth_ok(v, depth + 1))
				return 0;
	}
	return 1;
}

/*
 * Parses p[0..n) as a JSON object: duplicate keys refused, nesting bounded.
 * what names the thing in the detail.
 */
static int
load_object(const void *p, size_t n, const char *what, json_t **out,
    struct acme_err *err)
{
	json_error_t jerr;
	json_t *j;

	j = json_loadb(p, n, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return MALFORMED(err, "%s is not valid JSON: %s (line %d, "
		    "column %d)", what, jerr.text, jerr.line, jerr.column);
	if (!json_is_object(j)) {
		json_decref(j);
		return MALFORMED(err, "%s is not a JSON object", what);
	}
	if (!depth_ok(j, 1)) {
		json_decref(j);
		return MALFORMED(err, "%s nests deeper than %d levels", what,
		    ACME_JWS_MAX_DEPTH);
	}
	*out = j;
	return 0;
}

/* A string member, or NULL if absent; RC_INVAL if present but no string,
 * empty, or longer than ACME_JWS_MAX_FIELD. */
static int
get_field(const json_t *o, const char *name, const char *what,
    const char **out, struct acme_err *err)
{
	const json_t *v = json_object_get(o, name);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return MALFORMED(err, "%s \"%s\" is not a string", what, name);
	if (json_string_length(v) == 0)
		return MALFORMED(err, "%s \"%s\" is empty", what, name);
	if (json_string_length(v) > ACME_JWS_MAX_FIELD)
		return MALFORMED(err, "%s \"%s\" is longer than %d characters",
		    what, name, ACME_JWS_MAX_FIELD);
	*out = json_string_value(v);
	return 0;
}

/* ---- algorithms ---------------------------------------------------------- */

static const char *const alg_names[ACME_ALG_MAX_] = {
	[ACME_ALG_ES256] = "ES256",
	[ACME_ALG_ES384] = "ES384",
	[ACME_ALG_RS256] = "RS256",
	[ACME_ALG_EDDSA] = "EdDSA",
};

/* The one algorithm for each key type. */
static const enum acme_alg kty_alg[ACME_KTY_MAX_] = {
	[ACME_KTY_EC_P256] = ACME_ALG_ES256,
	[ACME_KTY_EC_P384] = ACME_ALG_ES384,
	[ACME_KTY_RSA] = ACME_ALG_RS256,
	[ACME_KTY_ED25519] = ACME_ALG_EDDSA,
};

static const char *const kty_names[ACME_KTY_MAX_] = {
	[ACME_KTY_EC_P256] = "EC P-256",
	[ACME_KTY_EC_P384] = "EC P-384",
	[ACME_KTY_RSA] = "RSA",
	[ACME_KTY_ED25519] = "OKP Ed25519",
};

const char *
acme_alg_name(enum acme_alg alg)
{
	if ((unsigned)alg >= ACME_ALG_MAX_)
		return NULL;
	return alg_names[alg];
}

json_t *
acme_jws_algs_json(void)
{
	json_t *a = json_array();

	for (int i = 1; i < ACME_ALG_MAX_; i++)
		json_array_append_new(a, json_string(alg_names[i]));
	return a;
}

static enum acme_alg
alg_lookup(const char *s)
{
	for (int i = 1; i < ACME_ALG_MAX_; i++)
		if (strcmp(s, alg_names[i]) == 0)
			return (enum acme_alg)i;
	return ACME_ALG_NONE;
}

/* Checks the header "alg" of an account request (RFC 8555 §6.2). */
static int
check_alg(const json_t *hdr, enum acme_alg *out, struct acme_err *err)
{
	const json_t *v = json_object_get(hdr, "alg");
	const char *s;

	if (v == NULL)
		return MALFORMED(err, "protected header has no \"alg\"");
	if (!json_is_string(v))
		return MALFORMED(err, "protected header \"alg\" is not a "
		    "string");
	s = json_string_value(v);
	if (strcmp(s, "none") == 0)
		return BADALG(err, "alg \"none\" is not allowed");
	if (strncmp(s, "HS", 2) == 0)
		return BADALG(err, "MAC algorithm \"%.16s\" is not allowed on "
		    "account requests (RFC 8555 section 6.2)", s);
	*out = alg_lookup(s);
	if (*out == ACME_ALG_NONE)
		return BADALG(err, "unsupported alg \"%.32s\"; use one of "
		    "ES256, ES384, RS256, EdDSA", s);
	return 0;
}

/* RFC 7515 §4.1.11 and RFC 7797: no extensions are understood here. */
static int
check_crit_b64(const json_t *hdr, const char *what, struct acme_err *err)
{
	const json_t *b64 = json_object_get(hdr, "b64");

	if (json_object_get(hdr, "crit") != NULL)
		return MALFORMED(err, "%s: \"crit\" extensions are not "
		    "supported", what);
	if (b64 != NULL && !json_is_true(b64))
		return MALFORMED(err, "%s: unencoded payload (\"b64\": false, "
		    "RFC 7797) is not supported", what);
	return 0;
}

/* ---- keys ---------------------------------------------------------------- */

struct acme_key {
	atomic_int refs;
	enum acme_kty kty;
	unsigned bits;
	EVP_PKEY *pkey;
	char *jwk;		/* canonical JWK (RFC 7638 §3.2) */
	size_t jwk_len;
};

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192
#define EC_MAX_COORD 48

/* Decodes a base64url JWK member into buf (at most max bytes). */
static int
jwk_bytes(const json_t *jwk, const char *name, uint8_t *buf, size_t max,
    size_t *len, struct acme_err *err)
{
	const json_t *v = json_object_get(jwk, name);
	int rc;

	if (v == NULL)
		return BADKEY(err, "JWK has no \"%s\"", name);
	if (!json_is_string(v))
		return BADKEY(err, "JWK \"%s\" is not a string", name);
	rc = acme_b64u_decode_to(json_string_value(v), json_string_length(v),
	    buf, max, len);
	if (rc == RC_TOOBIG)
		return BADKEY(err, "JWK \"%s\" is longer than %zu bytes", name,
		    max);
	if (rc != 0)
		return BADKEY(err, "JWK \"%s\" is not base64url without "
		    "padding", name);
	return 0;
}

static struct acme_key *
key_new(enum acme_kty kty, unsigned bits, EVP_PKEY *pkey, char *jwk)
{
	struct acme_key *k = xcalloc(1, sizeof(*k));

	atomic_init(&k->refs, 1);
	k->kty = kty;
	k->bits = bits;
	k->pkey = pkey;
	k->jwk = jwk;
	k->jwk_len = strlen(jwk);
	return k;
}

static int
import_ec(const json_t *jwk, struct acme_key **out, struct acme_err *err)
{
	const json_t *crv = json_object_get(jwk, "crv");
	uint8_t pt[1 + 2 * EC_MAX_COORD], x[EC_MAX_COORD], y[EC_MAX_COORD];
	char xs[2 * EC_MAX_COORD], ys[2 * EC_MAX_COORD];
	EVP_PKEY *pkey = NULL, *tmpl;
	const char *crvname;
	enum acme_kty kty;
	size_t clen, xl, yl;
	int rc;

	if (!json_is_string(crv))
		return BADKEY(err, "EC JWK has no string \"crv\"");
	crvname = json_string_value(crv);
	if (strcmp(crvname, "P-256") == 0) {
		kty = ACME_KTY_EC_P256;
		clen = 32;
	} else if (strcmp(crvname, "P-384") == 0) {
		kty = ACME_KTY_EC_P384;
		clen = 48;
	} else {
		return BADKEY(err, "unsupported EC curve \"%.32s\"; use P-256 "
		    "or P-384", crvname);
	}
	if ((rc = jwk_bytes(jwk, "x", x, sizeof(x), &xl, err)) != 0 ||
	    (rc = jwk_bytes(jwk, "y", y, sizeof(y), &yl, err)) != 0)
		return rc;
	/* RFC 7518 §6.2.1.2: the full coordinate size, even with zeros */
	if (xl != clen || yl != clen)
		return BADKEY(err, "%s coordinates must be %zu bytes each",
		    crvname, clen);
	pt[0] = 0x04;	/* uncompressed point (SEC 1 §2.3.3) */
	memcpy(pt + 1, x, clen);
	memcpy(pt + 1 + clen, y, clen);

	tmpl = !init_ok() ? NULL : clen == 32 ? ec_tmpl_p256 : ec_tmpl_p384;
	if (tmpl == NULL || (pkey = EVP_PKEY_dup(tmpl)) == NULL) {
		rc = INTERNAL(err, "EC key import");
		goto out;
	}
	/* decoding the point checks that it lies on the curve (and that
	 * both coordinates are below p) */
	if (EVP_PKEY_set1_encoded_public_key(pkey, pt, 1 + 2 * clen) != 1) {
		rc = BADKEY(err, "%s point is not on the curve", crvname);
		goto out;
	}
	acme_b64u_encode_to(x, clen, xs);
	acme_b64u_encode_to(y, clen, ys);
	*out = key_new(kty, (unsigned)clen * 8, pkey, xasprintf(
	    "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
	    crvname, xs, ys));
	pkey = NULL;
	rc = 0;
out:
	EVP_PKEY_free(pkey);
	return rc;
}

static int
import_rsa(const json_t *jwk, struct acme_key **out, struct acme_err *err)
{
	static const uint8_t f4[] = {0x01, 0x00, 0x01};
	uint8_t n[RSA_MAX_BITS / 8], e[8];
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	char *ns = NULL;
	size_t nl, el;
	unsigned bits;
	int rc;

	if ((rc = jwk_bytes(jwk, "n", n, sizeof(n), &nl, err)) != 0 ||
	    (rc = jwk_bytes(jwk, "e", e, sizeof(e), &el, err)) != 0)
		return rc;
	/* RFC 7518 §6.3.1.1, §2 Base64urlUInt: no leading zero octets */
	if (nl == 0 || n[0] == 0)
		return BADKEY(err, "RSA modulus has leading zero octets");
	if (el == 0 || e[0] == 0)
		return BADKEY(err, "RSA exponent has leading zero octets");
	bits = (unsigned)nl * 8;
	for (uint8_t t = n[0]; !(t & 0x80); t <<= 1)
		bits--;
	if (bits < RSA_MIN_BITS || bits % 8 != 0)
		return BADKEY(err, "RSA modulus of %u bits; need %d to %d "
		    "bits, a multiple of 8", bits, RSA_MIN_BITS, RSA_MAX_BITS);
	if (!(n[nl - 1] & 1))
		return BADKEY(err, "RSA modulus is even");
	if (el != sizeof(f4) || memcmp(e, f4, sizeof(f4)) != 0)
		return BADKEY(err, "RSA public exponent must be 65537");

	bn = BN_bin2bn(n, (int)nl, NULL);
	be = BN_bin2bn(e, (int)el, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn == NULL || be == NULL || bld == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
		rc = INTERNAL(err, "RSA key import");
		goto out;
	}
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		rc = INTERNAL(err, "RSA key import");
		goto out;
	}
	ns = acme_b64u_encode(n, nl);
	*out = key_new(ACME_KTY_RSA, bits, pkey, xasprintf(
	    "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":\"%s\"}", ns));
	pkey = NULL;
	rc = 0;
out:
	free(ns);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return rc;
}

static int
import_okp(const json_t *jwk, struct acme_key **out, struct acme_err *err)
{
	const json_t *crv = json_object_get(jwk, "crv");
	uint8_t x[33];
	char xs[48];
	EVP_PKEY *pkey;
	size_t xl;
	int rc;

	if (!json_is_string(crv))
		return BADKEY(err, "OKP JWK has no string \"crv\"");
	if (strcmp(json_string_value(crv), "Ed25519") != 0)
		return BADKEY(err, "unsupported OKP curve \"%.32s\"; use "
		    "Ed25519", json_string_value(crv));
	if ((rc = jwk_bytes(jwk, "x", x, sizeof(x), &xl, err)) != 0)
		return rc;
	if (xl != 32)
		return BADKEY(err, "Ed25519 key must be 32 bytes");
	/* a point of small order (or not canonical, or off the curve): a
	 * signature of such a key is made by anyone (R the identity, S 0),
	 * OpenSSL verifies it all the same */
	if (crypto_core_ed25519_is_valid_point(x) != 1)
		return BADKEY(err, "Ed25519 key is not a valid point of the "
		    "prime-order subgroup");
	pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, x, 32);
	if (pkey == NULL)
		return INTERNAL(err, "Ed25519 key import");
	acme_b64u_encode_to(x, 32, xs);
	*out = key_new(ACME_KTY_ED25519, 256, pkey, xasprintf(
	    "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", xs));
	return 0;
}

int
acme_key_from_jwk(const json_t *jwk, struct acme_key **out,
    struct acme_err *err)
{
	/* RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2 */
	static const char *const priv[] = {"d", "p", "q", "dp", "dq", "qi",
		"oth", "k"};
	const json_t *kty, *use;
	const char *s;

	*out = NULL;
	if (!json_is_object(jwk))
		return MALFORMED(err, "jwk is not a JSON object");
	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
		if (json_object_get(jwk, priv[i]) != NULL)
			return BADKEY(err, "JWK contains the private key "
			    "member \"%s\": never send a private key; "
			    "generate a new one, this one is compromised",
			    priv[i]);
	use = json_object_get(jwk, "use");
	if (use != NULL && !(json_is_string(use) &&
	    strcmp(json_string_value(use), "sig") == 0))
		return BADKEY(err, "JWK \"use\" is not \"sig\"");
	kty = json_object_get(jwk, "kty");
	if (!json_is_string(kty))
		return BADKEY(err, "JWK has no string \"kty\"");
	s = json_string_value(kty);
	if (strcmp(s, "EC") == 0)
		return import_ec(jwk, out, err);
	if (strcmp(s, "RSA") == 0)
		return import_rsa(jwk, out, err);
	if (strcmp(s, "OKP") == 0)
		return import_okp(jwk, out, err);
	return BADKEY(err, "unsupported key type \"%.32s\"; use EC, RSA or "
	    "OKP", s);
}

int
acme_key_from_jwk_str(const char *s, size_t len, struct acme_key **out,
    struct acme_err *err)
{
	json_t *j = NULL;
	int rc;

	*out = NULL;
	if (len > ACME_JWS_MAX_BODY)
		return fail(err, RC_TOOBIG, ACME_PROB_MALFORMED,
		    "JWK over %d bytes", ACME_JWS_MAX_BODY);
	rc = load_object(s, len, "JWK", &j, err);
	if (rc == 0)
		rc = acme_key_from_jwk(j, out, err);
	json_decref(j);
	return rc;
}

int
acme_jwk_spki_sha256(const char *jwk, uint8_t out[32], void *arg)
{
	struct acme_err err = {0};
	struct acme_key *k = NULL;
	unsigned char *spki = NULL;
	int n;

	(void)arg;
	if (jwk == NULL ||
	    acme_key_from_jwk_str(jwk, strlen(jwk), &k, &err) != 0)
		return RC_INVAL;
	n = i2d_PUBKEY(acme_key_pkey(k), &spki);
	acme_key_free(k);
	if (n <= 0)
		return RC_INVAL;
	SHA256(spki, (size_t)n, out);
	OPENSSL_free(spki);
	return 0;
}

struct acme_key *
acme_key_ref(struct acme_key *k)
{
	atomic_fetch_add_explicit(&k->refs, 1, memory_order_relaxed);
	return k;
}

void
acme_key_free(struct acme_key *k)
{
	if (k == NULL)
		return;
	if (atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) != 1)
		return;
	EVP_PKEY_free(k->pkey);
	free(k->jwk);
	free(k);
}

enum acme_kty
acme_key_type(const struct acme_key *k)
{
	return k->kty;
}

unsigned
acme_key_bits(const struct acme_key *k)
{
	return k->bits;
}

enum acme_alg
acme_key_alg(const struct acme_key *k)
{
	return kty_alg[k->kty];
}

EVP_PKEY *
acme_key_pkey(const struct acme_key *k)
{
	return k->pkey;
}

const char *
acme_key_jwk(const struct acme_key *k, size_t *len)
{
	if (len != NULL)
		*len = k->jwk_len;
	return k->jwk;
}

int
acme_key_equal(const struct acme_key *a, const struct acme_key *b)
{
	return a->kty == b->kty && a->jwk_len == b->jwk_len &&
	    memcmp(a->jwk, b->jwk, a->jwk_len) == 0;
}

int
acme_key_thumbprint(const struct acme_key *k,
    char out[ACME_THUMBPRINT_LEN + 1])
{
	/* RFC 7638 §3: SHA-256 over the canonical JWK kept in the key */
	uint8_t h[32];
	int rc;

	rc = sha256(k->jwk, k->jwk_len, h);
	if (rc == 0)
		acme_b64u_encode_to(h, sizeof(h), out);
	return rc;
}

/* ---- key authorizations (RFC 8555 §8.1) ---------------------------------- */

int
acme_keyauth(const char *token, const struct acme_key *k, char **out)
{
	char tp[ACME_THUMBPRINT_LEN + 1];
	size_t n = strlen(token);
	int rc;

	*out = NULL;
	if (n == 0 || !acme_b64u_valid(token, n))
		return RC_INVAL;
	rc = acme_key_thumbprint(k, tp);
	if (rc != 0)
		return rc;
	*out = xasprintf("%s.%s", token, tp);
	return 0;
}

int
acme_keyauth_digest(const char *keyauth, uint8_t out[32])
{
	return sha256(keyauth, strlen(keyauth), out);
}

int
acme_keyauth_dns01(const char *keyauth, char out[ACME_THUMBPRINT_LEN + 1])
{
	uint8_t h[32];
	int rc;

	rc = sha256(keyauth, strlen(keyauth), h);
	if (rc == 0)
		acme_b64u_encode_to(h, sizeof(h), out);
	return rc;
}

/* ---- flattened JWS ------------------------------------------------------- */

/* The three members of a flattened JWS (RFC 7515 §7.2.2), checked for
 * shape: exactly these, all strings. */
struct flat {
	const char *prot, *payload, *sig;
	size_t prot_len, payload_len, sig_len;
};

static int
split_flat(const json_t *o, const char *what, struct flat *f,
    struct acme_err *err)
{
	const json_t *p, *pl, *s;
	const char *k;
	json_t *v;

	json_object_foreach ((json_t *)o, k, v) {
		if (strcmp(k, "protected") == 0 || strcmp(k, "payload") == 0 ||
		    strcmp(k, "signature") == 0)
			continue;
		if (strcmp(k, "signatures") == 0)
			return MALFORMED(err, "%s: general JWS serialization "
			    "is not allowed, use the flattened one", what);
		if (strcmp(k, "header") == 0)
			return MALFORMED(err, "%s: unprotected \"header\" is "
			    "not allowed", what);
		return MALFORMED(err, "%s: unexpected member \"%.32s\"; only "
		    "\"protected\", \"payload\" and \"signature\" are allowed",
		    what, k);
	}
	p = json_object_get(o, "protected");
	pl = json_object_get(o, "payload");
	s = json_object_get(o, "signature");
	if (p == NULL || pl == NULL || s == NULL)
		return MALFORMED(err, "%s: missing \"%s\"", what,
		    p == NULL ? "protected" : pl == NULL ? "payload" :
		    "signature");
	if (!json_is_string(p) || !json_is_string(pl) || !json_is_string(s))
		return MALFORMED(err, "%s: \"%s\" is not a string", what,
		    !json_is_string(p) ? "protected" : !json_is_string(pl) ?
		    "payload" : "signature");
	f->prot = json_string_value(p);
	f->prot_len = json_string_length(p);
	f->payload = json_string_value(pl);
	f->payload_len = json_string_length(pl);
	f->sig = json_string_value(s);
	f->sig_len = json_string_length(s);
	if (f->prot_len == 0)
		return MALFORMED(err, "%s: \"protected\" is empty", what);
	if (f->sig_len == 0)
		return MALFORMED(err, "%s: \"signature\" is empty", what);
	return 0;
}

/*
 * Decodes the parts of f: the protected header as a JSON object into *hdr,
 * the payload and signature bytes, and the signing input
 * ASCII(protected '.' payload) (RFC 7515 §5.2 step 8).
 */
static int
decode_flat(const struct flat *f, const char *what, json_t **hdr,
    uint8_t **payload, size_t *payload_len, uint8_t **sig, size_t *sig_len,
    char **si, size_t *si_len, struct acme_err *err)
{
	uint8_t *ph = NULL;
	size_t phl, n;
	int rc;

	if (acme_b64u_decode(f->prot, f->prot_len, &ph, &phl) != 0)
		return MALFORMED(err, "%s: \"protected\" is not base64url "
		    "without padding", what);
	rc = load_object(ph, phl, "protected header", hdr, err);
	free(ph);
	if (rc != 0)
		return rc;
	if (acme_b64u_decode(f->payload, f->payload_len, payload,
	    payload_len) != 0)
		return MALFORMED(err, "%s: \"payload\" is not base64url "
		    "without padding", what);
	if (acme_b64u_decode(f->sig, f->sig_len, sig, sig_len) != 0)
		return MALFORMED(err, "%s: \"signature\" is not base64url "
		    "without padding", what);
	n = f->prot_len + 1 + f->payload_len;
	*si = xmalloc(n + 1);
	memcpy(*si, f->prot, f->prot_len);
	(*si)[f->prot_len] = '.';
	memcpy(*si + f->prot_len + 1, f->payload, f->payload_len);
	(*si)[n] = '\0';
	*si_len = n;
	return 0;
}

void
acme_jws_free(struct acme_jws *jws)
{
	if (jws == NULL)
		return;
	acme_key_free(jws->key);
	free(jws->payload);
	free(jws->signing_input);
	free(jws->sig);
	json_decref(jws->header);
	free(jws);
}

/* Fixed signature lengths (RFC 7518 §3.4, RFC 8037 §3.1); 0: by key. */
static size_t
sig_len_for(enum acme_alg alg)
{
	switch (alg) {
	case ACME_ALG_ES256:
		return 64;
	case ACME_ALG_ES384:
		return 96;
	case ACME_ALG_EDDSA:
		return 64;
	default:
		return 0;
	}
}

/* The key goes with alg (and with the JWK's own "alg", if any). */
static int
check_key_alg(enum acme_alg alg, const struct acme_key *k,
    struct acme_err *err)
{
	if (kty_alg[k->kty] != alg)
		return BADALG(err, "alg %s does not go with a %s key (use %s)",
		    alg_names[alg], kty_names[k->kty],
		    alg_names[kty_alg[k->kty]]);
	return 0;
}

static int
header_fields(struct acme_jws *jws, enum acme_jws_auth auth,
    struct acme_err *err)
{
	const json_t *h = jws->header, *jwk, *kid, *jalg, *v;
	int rc;

	/* algorithm first: an unsupported one is badSignatureAlgorithm
	 * whatever else is wrong */
	if ((rc = check_alg(h, &jws->alg, err)) != 0)
		return rc;
	if ((rc = check_crit_b64(h, "protected header", err)) != 0)
		return rc;
	/* RFC 8555 §6.5: a missing or empty nonce, or one too long to be
	 * ours, is badNonce, as Boulder and Pebble answer, so that the
	 * client tries again with the fresh one of the reply; one that is
	 * not base64url is malformed, as §6.5.2 says it MUST be; a nonce
	 * that is no string is a malformed header */
	v = json_object_get(h, "nonce");
	if (v != NULL && !json_is_string(v))
		return MALFORMED(err, "protected header \"nonce\" is not a "
		    "string");
	if (v == NULL || json_string_length(v) == 0)
		return fail(err, RC_INVAL, ACME_PROB_BAD_NONCE,
		    "JWS has no anti-replay nonce");
	if (json_string_length(v) > ACME_JWS_MAX_FIELD)
		return fail(err, RC_INVAL, ACME_PROB_BAD_NONCE,
		    "JWS has an invalid anti-replay nonce: too long");
	if (!acme_b64u_valid(json_string_value(v), json_string_length(v)))
		return MALFORMED(err, "nonce is not base64url without "
		    "padding");
	jws->nonce = json_string_value(v);
	/* RFC 8555 §6.4 */
	if ((rc = get_field(h, "url", "protected header", &jws->url, err)) !=
	    0)
		return rc;
	if (jws->url == NULL)
		return MALFORMED(err, "protected header has no \"url\"");
	/* RFC 8555 §6.2: exactly one of jwk and kid */
	jwk = json_object_get(h, "jwk");
	kid = json_object_get(h, "kid");
	if (jwk != NULL && kid != NULL)
		return MALFORMED(err, "protected header has both \"jwk\" and "
		    "\"kid\"");
	if (jwk == NULL && kid == NULL)
		return MALFORMED(err, "protected header has neither \"jwk\" "
		    "nor \"kid\"");
	if (auth == ACME_JWS_NEED_JWK && jwk == NULL)
		return MALFORMED(err, "this request must carry the key in "
		    "\"jwk\", not \"kid\"");
	if (auth == ACME_JWS_NEED_KID && kid == NULL)
		return MALFORMED(err, "this request must name the account in "
		    "\"kid\", not carry a \"jwk\"");
	if (kid != NULL)
		return get_field(h, "kid", "protected header", &jws->kid, err);
	if ((rc = acme_key_from_jwk(jwk, &jws->key, err)) != 0)
		return rc;
	jalg = json_object_get(jwk, "alg");
	if (jalg != NULL && !(json_is_string(jalg) &&
	    strcmp(json_string_value(jalg), alg_names[jws->alg]) == 0))
		return BADALG(err, "the JWK's \"alg\" is not the JWS alg %s",
		    alg_names[jws->alg]);
	return check_key_alg(jws->alg, jws->key, err);
}

int
acme_jws_parse(const char *body, size_t len, enum acme_jws_auth auth,
    struct acme_jws **out, struct acme_err *err)
{
	struct acme_jws *jws = NULL;
	json_t *root = NULL;
	struct flat f;
	size_t want;
	int rc;

	*out = NULL;
	if (len > ACME_JWS_MAX_BODY) {
		rc = fail(err, RC_TOOBIG, ACME_PROB_MALFORMED, "request body "
		    "of %zu bytes is over the limit of %d", len,
		    ACME_JWS_MAX_BODY);
		goto out;
	}
	if ((rc = load_object(body, len, "request body", &root, err)) != 0)
		goto out;
	if ((rc = split_flat(root, "JWS", &f, err)) != 0)
		goto out;
	jws = xcalloc(1, sizeof(*jws));
	rc = decode_flat(&f, "JWS", &jws->header, &jws->payload,
	    &jws->payload_len, &jws->sig, &jws->sig_len, &jws->signing_input,
	    &jws->signing_input_len, err);
	if (rc != 0)
		goto out;
	if ((rc = header_fields(jws, auth, err)) != 0)
		goto out;
	want = sig_len_for(jws->alg);
	if (want == 0 && jws->key != NULL)
		want = (jws->key->bits + 7) / 8;
	if (want != 0 && jws->sig_len != want) {
		rc = MALFORMED(err, "%s signature must be %zu bytes, not %zu",
		    alg_names[jws->alg], want, jws->sig_len);
		goto out;
	}
	*out = jws;
	jws = NULL;
	rc = 0;
out:
	acme_jws_free(jws);
	json_decref(root);
	return rc;
}

/*
 * JWS ECDSA signatures are R || S, each the size of the group order
 * (RFC 7518 §3.4); OpenSSL wants DER Ecdsa-Sig-Value. Writes an INTEGER
 * for one half: minimal, with a 0x00 in front if the high bit is set.
 */
static size_t
der_uint(const uint8_t *p, size_t n, uint8_t *out)
{
	size_t i = 0, len;

	while (i < n - 1 && p[i] == 0)
		i++;
	len = n - i + (p[i] & 0x80 ? 1 : 0);
	out[0] = 0x02;
	out[1] = (uint8_t)len;
	if (p[i] & 0x80) {
		out[2] = 0;
		memcpy(out + 3, p + i, n - i);
	} else {
		memcpy(out + 2, p + i, n - i);
	}
	return 2 + len;
}

/* raw is 2 * half bytes, half <= 48: the DER fits in 2 + 2 * 51 < 128 + 2,
 * so all lengths are short form. */
static size_t
ecdsa_raw_to_der(const uint8_t *raw, size_t half, uint8_t *der)
{
	size_t n = 2;

	n += der_uint(raw, half, der + n);
	n += der_uint(raw + half, half, der + n);
	der[0] = 0x30;
	der[1] = (uint8_t)(n - 2);
	return n;
}

/*
 * ECDSA over the hash: EVP_DigestVerifyInit would have the provider fetch
 * the digest again by name on every call, which costs about a fifth of the
 * verification itself; hashing with the digest fetched once and verifying
 * the hash does the same work without that.
 */
static int
verify_ecdsa(EVP_PKEY *pkey, const EVP_MD *md, const uint8_t *tbs,
    size_t tbs_len, const uint8_t *der, size_t der_len)
{
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	EVP_PKEY_CTX *ctx;
	int r;

	if (!EVP_Digest(tbs, tbs_len, h, &hl, md, NULL))
		return -1;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (ctx == NULL || EVP_PKEY_verify_init(ctx) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		return -1;
	}
	r = EVP_PKEY_verify(ctx, der, der_len, h, hl);
	EVP_PKEY_CTX_free(ctx);
	return r == 1 ? 1 : 0;
}

/* RSASSA-PKCS1-v1_5 and PureEdDSA (md NULL) in one pass. */
static int
verify_digest(EVP_PKEY *pkey, const EVP_MD *md, const uint8_t *tbs,
    size_t tbs_len, const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r;

	if (ctx == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, pkey) <= 0) {
		EVP_MD_CTX_free(ctx);
		return -1;
	}
	r = EVP_DigestVerify(ctx, sig, sig_len, tbs, tbs_len);
	EVP_MD_CTX_free(ctx);
	return r == 1 ? 1 : 0;
}

int
acme_jws_verify(const struct acme_jws *jws, const struct acme_key *key,
    struct acme_err *err)
{
	const uint8_t *tbs = (const uint8_t *)jws->signing_input;
	uint8_t der[2 + 2 * (3 + 48)];
	size_t want, der_len;
	int rc, r;

	if (key == NULL)
		return fail(err, RC_INVAL, ACME_PROB_SERVER_INTERNAL,
		    "no key to verify the JWS with");
	if ((rc = check_key_alg(jws->alg, key, err)) != 0)
		return rc;
	want = sig_len_for(jws->alg);
	if (want == 0)
		want = (key->bits + 7) / 8;
	if (jws->sig_len != want)
		return MALFORMED(err, "%s signature must be %zu bytes, not %zu",
		    alg_names[jws->alg], want, jws->sig_len);
	if (!init_ok() || md_sha256 == NULL || md_sha384 == NULL)
		return INTERNAL(err, "digest fetch");
	switch (jws->alg) {
	case ACME_ALG_ES256:
	case ACME_ALG_ES384:
		der_len = ecdsa_raw_to_der(jws->sig, want / 2, der);
		r = verify_ecdsa(key->pkey, jws->alg == ACME_ALG_ES256 ?
		    md_sha256 : md_sha384, tbs, jws->signing_input_len, der,
		    der_len);
		break;
	case ACME_ALG_RS256:
		r = verify_digest(key->pkey, md_sha256, tbs,
		    jws->signing_input_len, jws->sig, jws->sig_len);
		break;
	case ACME_ALG_EDDSA:
		r = verify_digest(key->pkey, NULL, tbs, jws->signing_input_len,
		    jws->sig, jws->sig_len);
		break;
	default:
		return BADALG(err, "unsupported alg");
	}
	if (r < 0)
		return INTERNAL(err, "signature verification setup");
	if (r != 1)
		return fail(err, RC_UNAUTH, ACME_PROB_MALFORMED,
		    "JWS verification error");
	return 0;
}

int
acme_jws_payload_json(const struct acme_jws *jws, json_t **out,
    struct acme_err *err)
{
	*out = NULL;
	if (jws->payload_len == 0)
		return MALFORMED(err, "empty payload (POST-as-GET) where a "
		    "JSON object is expected");
	return load_object(jws->payload, jws->payload_len, "payload", out,
	    err);
}

/* ---- External Account Binding (RFC 8555 §7.3.4) -------------------------- */

struct acme_eab {
	json_t *header;
	const char *kid;	/* in header */
	const char *url;	/* in header */
	int md;			/* md_get() index: HS256, HS384, HS512 */
	size_t mac_len;
	struct acme_key *key;	/* the payload JWK */
	char *signing_input;
	size_t signing_input_len;
	uint8_t *sig;
	size_t sig_len;
};

void
acme_eab_free(struct acme_eab *e)
{
	if (e == NULL)
		return;
	json_decref(e->header);
	acme_key_free(e->key);
	free(e->signing_input);
	free(e->sig);
	free(e);
}

const char *
acme_eab_kid(const struct acme_eab *e)
{
	return e->kid;
}

int
acme_eab_parse(const json_t *eab, struct acme_eab **out,
    struct acme_err *err)
{
	static const char what[] = "externalAccountBinding";
	struct acme_eab *e = NULL;
	uint8_t *payload = NULL;
	const json_t *alg;
	size_t payload_len;
	const char *s;
	struct flat f;
	int rc;

	*out = NULL;
	if (!json_is_object(eab))
		return MALFORMED(err, "%s is not a JSON object", what);
	if ((rc = split_flat(eab, what, &f, err)) != 0)
		return rc;
	e = xcalloc(1, sizeof(*e));
	rc = decode_flat(&f, what, &e->header, &payload, &payload_len, &e->sig,
	    &e->sig_len, &e->signing_input, &e->signing_input_len, err);
	if (rc != 0)
		goto out;
	alg = json_object_get(e->header, "alg");
	s = json_is_string(alg) ? json_string_value(alg) : "";
	if (strcmp(s, "HS256") == 0) {
		e->md = 0;
		e->mac_len = 32;
	} else if (strcmp(s, "HS384") == 0) {
		e->md = 1;
		e->mac_len = 48;
	} else if (strcmp(s, "HS512") == 0) {
		e->md = 2;
		e->mac_len = 64;
	} else {
		rc = MALFORMED(err, "%s: \"alg\" must be HS256, HS384 or HS512",
		    what);
		goto out;
	}
	if ((rc = check_crit_b64(e->header, what, err)) != 0)
		goto out;
	if (json_object_get(e->header, "nonce") != NULL) {
		rc = MALFORMED(err, "%s: the protected header must not have a "
		    "\"nonce\"", what);
		goto out;
	}
	if (json_object_get(e->header, "jwk") != NULL) {
		rc = MALFORMED(err, "%s: the protected header must not have a "
		    "\"jwk\"", what);
		goto out;
	}
	if ((rc = get_field(e->header, "kid", what, &e->kid, err)) != 0 ||
	    (rc = get_field(e->header, "url", what, &e->url, err)) != 0)
		goto out;
	if (e->kid == NULL || e->url == NULL) {
		rc = MALFORMED(err, "%s: the protected header needs \"%s\"",
		    what, e->kid == NULL ? "kid" : "url");
		goto out;
	}
	if (payload_len == 0) {
		rc = MALFORMED(err, "%s: the payload must be the account JWK",
		    what);
		goto out;
	}
	if ((rc = acme_key_from_jwk_str((const char *)payload, payload_len,
	    &e->key, err)) != 0)
		goto out;
	*out = e;
	e = NULL;
out:
	free(payload);
	acme_eab_free(e);
	return rc;
}

int
acme_eab_verify(const struct acme_eab *e, const uint8_t *mac_key,
    size_t mac_key_len, const char *url, const struct acme_key *outer_key,
    struct acme_err *err)
{
	static const char *const mdnames[] = {"SHA256", "SHA384", "SHA512"};
	uint8_t mac[64];
	size_t mac_len = 0;
	int ok;

	if (mac_key == NULL || mac_key_len == 0 || url == NULL ||
	    outer_key == NULL)
		return fail(err, RC_INVAL, ACME_PROB_SERVER_INTERNAL,
		    "EAB verification without a key, URL or account key");
	if (EVP_Q_mac(NULL, "HMAC", NULL, mdnames[e->md], NULL, mac_key,
	    mac_key_len, (const uint8_t *)e->signing_input,
	    e->signing_input_len, mac, sizeof(mac), &mac_len) == NULL ||
	    mac_len != e->mac_len)
		return INTERNAL(err, "EAB HMAC");
	ok = e->sig_len == mac_len &&
	    CRYPTO_memcmp(e->sig, mac, mac_len) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	if (!ok)
		return fail(err, RC_UNAUTH, ACME_PROB_UNAUTHORIZED,
		    "externalAccountBinding: MAC does not verify");
	if (strcmp(e->url, url) != 0)
		return fail(err, RC_UNAUTH, ACME_PROB_UNAUTHORIZED,
		    "externalAccountBinding: \"url\" is not the newAccount "
		    "URL");
	if (!acme_key_equal(e->key, outer_key))
		return fail(err, RC_UNAUTH, ACME_PROB_UNAUTHORIZED,
		    "externalAccountBinding: the payload is not the account "
		    "key");
	return 0;
}
