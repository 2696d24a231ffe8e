/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the files of the acme component (not part of a public
 * contract): ACME problem types, strict base64url, and the JWS layer that
 * authenticates every ACME POST (RFC 8555 §6.2, RFC 7515, RFC 7518,
 * RFC 7638, RFC 8037), with key authorizations (§8.1) and External Account
 * Binding (§7.3.4).
 *
 * Everything here runs in the main certdesk process, on request threads.
 * Nothing here trusts its input: request bodies, protected headers, JWKs and
 * EAB objects come from the network and are checked before use. The only
 * trusted inputs are the caller's choices (which authentication a resource
 * needs, the expected URL, the EAB MAC key looked up by the caller).
 *
 * Errors: every function that can fail returns 0 or a negative RC_* and,
 * when the caller passes a struct acme_err, fills in the ACME problem type
 * to answer with and a human detail (safe to show to the client: it never
 * contains key material).
 */
#ifndef CERTDESK_ACME_ACME_INT_H
#define CERTDESK_ACME_ACME_INT_H

#include "util/rc.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Problems (RFC 8555 §6.7) -------------------------------------------- */

enum acme_prob {
	ACME_PROB_NONE = 0,
	ACME_PROB_ACCOUNT_DOES_NOT_EXIST,
	ACME_PROB_ALREADY_REPLACED,
	ACME_PROB_ALREADY_REVOKED,
	ACME_PROB_BAD_CSR,
	ACME_PROB_BAD_NONCE,
	ACME_PROB_BAD_PUBLIC_KEY,
	ACME_PROB_BAD_REVOCATION_REASON,
	ACME_PROB_BAD_SIGNATURE_ALGORITHM,
	ACME_PROB_CAA,
	ACME_PROB_COMPOUND,
	ACME_PROB_CONNECTION,
	ACME_PROB_DNS,
	ACME_PROB_EXTERNAL_ACCOUNT_REQUIRED,
	ACME_PROB_INCORRECT_RESPONSE,
	ACME_PROB_INVALID_CONTACT,
	ACME_PROB_INVALID_PROFILE,
	ACME_PROB_MALFORMED,
	ACME_PROB_ORDER_NOT_READY,
	ACME_PROB_RATE_LIMITED,
	ACME_PROB_REJECTED_IDENTIFIER,
	ACME_PROB_SERVER_INTERNAL,
	ACME_PROB_TLS,
	ACME_PROB_UNAUTHORIZED,
	ACME_PROB_UNSUPPORTED_CONTACT,
	ACME_PROB_UNSUPPORTED_IDENTIFIER,
	ACME_PROB_USER_ACTION_REQUIRED,
	ACME_PROB_MAX_
};

/*
 * What went wrong, for the problem document: the type and a human detail.
 * Callees fill it on failure only (problem ACME_PROB_SERVER_INTERNAL for
 * RC_CRYPTO and other internal errors); a NULL pointer is allowed
 * everywhere. Initialise with {0} (problem ACME_PROB_NONE, empty detail).
 */
struct acme_err {
	enum acme_prob problem;
	struct rc_detail detail;
};

/* "urn:ietf:params:acme:error:malformed" etc.; never NULL (unknown values
 * give the serverInternal URN). */
const char *acme_prob_urn(enum acme_prob p);
/* The HTTP status to send with p (400, 403, 429, 500, ...). */
int acme_prob_http_status(enum acme_prob p);

/* ---- base64url, no padding (RFC 7515 §2, RFC 4648 §5) -------------------- */

/* Characters needed to encode n bytes (no padding, no NUL). */
size_t acme_b64u_enc_len(size_t n);
/* Upper bound of the bytes decoded from len characters. */
size_t acme_b64u_dec_max(size_t len);

/* Encodes p[0..n) into out, which has room for acme_b64u_enc_len(n) + 1
 * bytes; out is NUL-terminated. Returns the length written (without NUL). */
size_t acme_b64u_encode_to(const uint8_t *p, size_t n, char *out);
/* Returns a new NUL-terminated string, free with free(). Never fails. */
char *acme_b64u_encode(const uint8_t *p, size_t n);

/*
 * Strict decoding of s[0..len): only A-Z a-z 0-9 - _ are allowed; no
 * padding, no whitespace, no length of 1 mod 4, and the unused low bits of
 * the last character must be zero (so every byte string has exactly one
 * accepted encoding). An empty string decodes to zero bytes.
 *
 * acme_b64u_decode_to writes at most max bytes into out and sets *outlen;
 * RC_TOOBIG if the result would not fit. acme_b64u_decode returns a new
 * buffer in *out (free with free(); NUL-terminated, the NUL not counted in
 * *outlen). Both return 0 or RC_INVAL; on error nothing is returned.
 */
int acme_b64u_decode_to(const char *s, size_t len, uint8_t *out, size_t max,
    size_t *outlen);
int acme_b64u_decode(const char *s, size_t len, uint8_t **out, size_t *outlen);
/* 1 if s[0..len) is a valid strict encoding (as above), else 0. */
int acme_b64u_valid(const char *s, size_t len);

/* ---- JWS (RFC 8555 §6.2, RFC 7515, RFC 7518 §3) -------------------------- */

/*
 * Limits on what a client may send. A JWS body over ACME_JWS_MAX_BODY is
 * refused (RC_TOOBIG) before it is parsed; the decoded protected header and
 * payload are JSON with duplicate keys refused and nesting bounded.
 */
#define ACME_JWS_MAX_BODY (64 * 1024)
#define ACME_JWS_MAX_DEPTH 10		/* JSON nesting in header/payload */
#define ACME_JWS_MAX_FIELD 2048		/* nonce, url, kid: characters */

/* Signature algorithms accepted on ACME requests (RFC 8555 §6.2). */
enum acme_alg {
	ACME_ALG_NONE = 0,	/* not an algorithm: "unset" */
	ACME_ALG_ES256,		/* ECDSA P-256 SHA-256, raw R||S of 64 bytes */
	ACME_ALG_ES384,		/* ECDSA P-384 SHA-384, raw R||S of 96 bytes */
	ACME_ALG_RS256,		/* RSASSA-PKCS1-v1_5 SHA-256 */
	ACME_ALG_EDDSA,		/* Ed25519 (RFC 8037) */
	ACME_ALG_MAX_
};

/* Key types accepted for ACME accounts (and revocation by certificate key). */
enum acme_kty {
	ACME_KTY_NONE = 0,
	ACME_KTY_EC_P256,
	ACME_KTY_EC_P384,
	ACME_KTY_RSA,		/* 2048..8192 bits, multiple of 8, e = 65537 */
	ACME_KTY_ED25519,
	ACME_KTY_MAX_
};

/* The JWS "alg" name ("ES256", ...); NULL for values out of range. */
const char *acme_alg_name(enum acme_alg alg);
/*
 * The algorithms this server accepts, as a new JSON array of strings for
 * the "algorithms" member of a badSignatureAlgorithm problem (RFC 8555
 * §6.2). The caller owns the reference (json_decref()).
 */
json_t *acme_jws_algs_json(void);

/*
 * A public key from a JWK, ready to verify. Immutable once made, so one key
 * can be cached per account and used by many request threads at once; it
 * is reference counted so that a cache can drop its reference while a
 * request still uses the key.
 */
struct acme_key;

/*
 * Builds a key from a parsed JWK object (RFC 7517, RFC 7518 §6, RFC 8037):
 *   EC  {"kty":"EC","crv":"P-256"|"P-384","x","y"}: coordinates exactly the
 *       field length, the point on the curve;
 *   RSA {"kty":"RSA","n","e"}: minimal unsigned integers, 2048..8192 bits,
 *       a multiple of 8, odd, e = 65537;
 *   OKP {"kty":"OKP","crv":"Ed25519","x"}: 32 bytes.
 * Private members ("d", "p", "q", "dp", "dq", "qi", "oth", "k") are refused
 * with a detail telling the client not to send its private key. Other
 * members are ignored, except "use" (must be "sig" when present).
 * Returns 0 and a new key in *out (free with acme_key_free()), or RC_INVAL
 * (jwk not an object: malformed) / RC_BADKEY (badPublicKey) / RC_CRYPTO
 * (serverInternal).
 */
int acme_key_from_jwk(const json_t *jwk, struct acme_key **out,
    struct acme_err *err);
/* The same from JWK JSON text, e.g. the canonical form kept by the account
 * store (see acme_key_jwk()). */
int acme_key_from_jwk_str(const char *s, size_t len, struct acme_key **out,
    struct acme_err *err);
/* Takes one more reference to k and returns k. */
struct acme_key *acme_key_ref(struct acme_key *k);
/* Drops one reference; frees on the last. NULL is fine. */
void acme_key_free(struct acme_key *k);

enum acme_kty acme_key_type(const struct acme_key *k);
/* Size in bits: the RSA modulus, 256, 384, or 256 for Ed25519. */
unsigned acme_key_bits(const struct acme_key *k);
/* The algorithm that goes with the key (one per key type). */
enum acme_alg acme_key_alg(const struct acme_key *k);
/* Borrowed, valid while k lives; for comparing with a CSR key (RFC 8555
 * §11.1) or for the CA's weak-key checks. Do not modify. */
EVP_PKEY *acme_key_pkey(const struct acme_key *k);
/*
 * The canonical JWK of k: only the required public members, in
 * lexicographic order, no whitespace (RFC 7638 §3.2), e.g.
 * {"crv":"P-256","kty":"EC","x":"...","y":"..."}. This is what the account
 * store should keep. Borrowed, NUL-terminated, valid while k lives; *len
 * (if not NULL) gets its length.
 */
const char *acme_key_jwk(const struct acme_key *k, size_t *len);
/* 1 if a and b are the same public key (compares canonical JWKs). */
int acme_key_equal(const struct acme_key *a, const struct acme_key *b);

/* base64url(SHA-256) is 43 characters. */
#define ACME_THUMBPRINT_LEN 43
/*
 * RFC 7638 JWK thumbprint of k (SHA-256), base64url, into out (NUL-
 * terminated). Returns 0 or RC_CRYPTO.
 */
int acme_key_thumbprint(const struct acme_key *k,
    char out[ACME_THUMBPRINT_LEN + 1]);

/*
 * Key authorization (RFC 8555 §8.1): token || '.' || thumbprint(k). The
 * token must be non-empty base64url (tokens are ours, this is a sanity
 * check). Returns 0 and a new string in *out (free with free()), or
 * RC_INVAL / RC_CRYPTO.
 */
int acme_keyauth(const char *token, const struct acme_key *k, char **out);
/* SHA-256 of the key authorization (tls-alpn-01 acmeIdentifier, RFC 8737
 * §3). Returns 0 or RC_CRYPTO. */
int acme_keyauth_digest(const char *keyauth, uint8_t out[32]);
/* The dns-01 TXT record value: base64url(SHA-256(keyauth)) (RFC 8555
 * §8.4). Returns 0 or RC_CRYPTO. */
int acme_keyauth_dns01(const char *keyauth, char out[ACME_THUMBPRINT_LEN + 1]);

/* Which key identification a resource needs (RFC 8555 §6.2). */
enum acme_jws_auth {
	ACME_JWS_NEED_KID = 0,	/* every resource but the two below */
	ACME_JWS_NEED_JWK,	/* newAccount; revokeCert by certificate key */
	ACME_JWS_NEED_EITHER	/* revokeCert: account (kid) or cert key */
};

/*
 * A parsed, not yet verified, flattened JWS request body. Read-only for the
 * caller; every pointer is owned by the struct and valid while it lives.
 */
struct acme_jws {
	enum acme_alg alg;
	const char *nonce;	/* base64url as sent; the caller checks it
				 * (badNonce) */
	const char *url;	/* the caller compares it with the request URL
				 * (RFC 8555 §6.4: unauthorized) */
	const char *kid;	/* account URL, or NULL when jwk was used */
	struct acme_key *key;	/* the embedded jwk, or NULL with kid */
	uint8_t *payload;	/* decoded, NUL-terminated (not counted) */
	size_t payload_len;	/* 0: POST-as-GET (payload "") */
	/* internal: what is signed and the signature */
	char *signing_input;	/* protected_b64 '.' payload_b64 */
	size_t signing_input_len;
	uint8_t *sig;
	size_t sig_len;
	json_t *header;		/* the decoded protected header */
};

/*
 * Parses a flattened JWS JSON request body (RFC 8555 §6.2, RFC 7515 §7.2.2):
 * exactly the members "protected", "payload", "signature", all strings,
 * protected and signature non-empty, payload possibly "" (POST-as-GET); all
 * strict base64url. The protected header must be a JSON object with "alg",
 * "nonce" (strict base64url), "url" and, as `auth` says, "jwk" or "kid"
 * (never both). Refused: alg "none", MAC algorithms, algorithms other than
 * ES256/ES384/RS256/EdDSA (badSignatureAlgorithm: answer with
 * acme_jws_algs_json()), "crit", "b64" other than true, a jwk whose key
 * type or "alg" does not go with the header's "alg", an ECDSA or EdDSA
 * signature of the wrong length.
 *
 * Returns 0 and a new struct in *out (free with acme_jws_free()), or:
 * RC_TOOBIG (body over ACME_JWS_MAX_BODY), RC_INVAL (malformed,
 * badSignatureAlgorithm, badNonce when the nonce is missing, empty, over
 * ACME_JWS_MAX_FIELD or not strict base64url), RC_BADKEY
 * (badPublicKey), RC_CRYPTO; err says which problem.
 * Nothing is verified yet: call acme_jws_verify() before trusting anything.
 */
int acme_jws_parse(const char *body, size_t len, enum acme_jws_auth auth,
    struct acme_jws **out, struct acme_err *err);
void acme_jws_free(struct acme_jws *jws);	/* NULL is fine */

/*
 * Verifies the signature of jws with key: jws->key for a jwk request, or
 * the account's key (looked up by jws->kid) for a kid request. The key
 * type must go with jws->alg (else RC_INVAL, badSignatureAlgorithm).
 * Returns 0 when the signature is good, RC_UNAUTH when it is not
 * (malformed, "JWS verification error", as Boulder and Pebble answer),
 * RC_INVAL for a NULL key, RC_CRYPTO on library failure.
 */
int acme_jws_verify(const struct acme_jws *jws, const struct acme_key *key,
    struct acme_err *err);

/*
 * Parses the payload as a JSON object (duplicate keys refused, nesting at
 * most ACME_JWS_MAX_DEPTH). An empty payload (POST-as-GET) is refused.
 * Returns 0 and a new reference in *out (json_decref()), or RC_INVAL
 * (malformed).
 */
int acme_jws_payload_json(const struct acme_jws *jws, json_t **out,
    struct acme_err *err);

/* ---- External Account Binding (RFC 8555 §7.3.4) -------------------------- */

/*
 * Two steps, because the MAC key depends on the key id the client sends:
 *   acme_eab_parse(eab, &e, &err);      the "externalAccountBinding" value
 *   key = lookup(acme_eab_kid(e));      the caller's business
 *   acme_eab_verify(e, key, key_len, new_account_url, outer_key, &err);
 */
struct acme_eab;

/*
 * Checks the shape of an EAB object from a newAccount payload: a flattened
 * JWS with exactly "protected", "payload", "signature"; protected header
 * with "alg" HS256/HS384/HS512, a non-empty string "kid", a string "url",
 * and no "nonce", "jwk" or "crit"; payload a JWK. Returns 0 and a new
 * struct in *out (free with acme_eab_free()), or RC_INVAL (malformed, for
 * another "alg" too: badSignatureAlgorithm's "algorithms" would list the
 * JWS algorithms, not the MACs) / RC_BADKEY (payload not an acceptable
 * JWK: badPublicKey).
 */
int acme_eab_parse(const json_t *eab, struct acme_eab **out,
    struct acme_err *err);
/* The EAB key id from the protected header; borrowed, valid while e lives. */
const char *acme_eab_kid(const struct acme_eab *e);
/*
 * Verifies the MAC with the caller's key (raw bytes, non-empty), that the
 * header "url" equals url (the newAccount URL), and that the payload JWK is
 * the same key as outer_key (the newAccount JWS key). MAC compared in
 * constant time. Returns 0, or RC_UNAUTH (unauthorized) / RC_INVAL /
 * RC_CRYPTO.
 */
int acme_eab_verify(const struct acme_eab *e, const uint8_t *mac_key,
    size_t mac_key_len, const char *url, const struct acme_key *outer_key,
    struct acme_err *err);
void acme_eab_free(struct acme_eab *e);	/* NULL is fine */


/* ==== The resources (proto.c, server.c, account.c, order.c) =============== */

/*
 * Everything below serves the ACME resources: pure protocol helpers (URLs,
 * ids in paths, certIDs, problem documents, times; proto.c, unit-tested)
 * and the state shared by the resource handlers of one server.
 */
#include "acme/acme.h"
#include "ra/ra.h"

#include <pthread.h>
#include <time.h>

/* ---- protocol helpers (proto.c) ------------------------------------------ */

#define ACME_MAX_BASE 200		/* characters of the base URL */

/*
 * Checks a base URL "https://host[:port]" (host a DNS name, an IPv4
 * address or a bracketed IPv6 address; no user info, path, query or
 * fragment, no trailing '/') and writes its authority in normal form
 * (lower case, ":443" dropped) to authority (ACME_MAX_BASE bytes).
 * 0 or RC_INVAL.
 */
int acme_base_parse(const char *base, char *authority);
/*
 * 1 when a Host header value names the same authority as the normalised
 * one from acme_base_parse() (case-insensitive; ":443" optional), else 0.
 */
int acme_host_matches(const char *authority, const char *host);
/*
 * A decimal object id as used in our URLs: 1..INT64_MAX, digits only, no
 * leading zero. s[0..len); 0 and *id, or RC_INVAL.
 */
int acme_id_parse(const char *s, size_t len, int64_t *id);
/*
 * The account id of a "kid": exactly prefix (".../acme/acct/") followed by
 * an id. 0 and *id, or RC_INVAL.
 */
int acme_kid_parse(const char *prefix, const char *kid, int64_t *id);
/* A certificate serial as in our URLs: 1..40 lowercase hex digits, an even
 * number, no leading "00" unless needed (the store's canonical form). 1 or
 * 0. */
int acme_serial_ok(const char *s);

/*
 * RFC 9773 §4.1 certID: base64url(AKI keyIdentifier) "." base64url(serial
 * DER INTEGER contents), both strict base64url without padding and
 * non-empty; the serial a positive, minimally encoded INTEGER of at most
 * 20 octets (RFC 5280 4.1.2.2), the AKI at most 64 octets. Writes the bytes
 * to aki[64] and serial[20]. 0, or RC_INVAL.
 */
int acme_certid_parse(const char *s, uint8_t aki[64], size_t *aki_len,
    uint8_t serial[20], size_t *serial_len);

/* The ACME problem for an ra problem (one table). */
enum acme_prob acme_prob_from_ra(enum ra_prob p);
/*
 * The problem for an ra failure: err->problem when set, else derived from
 * rc (RC_NOTFOUND malformed, RC_UNAUTH unauthorized, RC_STATE malformed,
 * RC_INVAL malformed, RC_BADNAME rejectedIdentifier, RC_BADCSR badCSR,
 * RC_BADKEY/RC_WEAKKEY badPublicKey, RC_EXISTS malformed, everything else
 * serverInternal).
 */
enum acme_prob acme_prob_for(int rc, const struct ra_err *err);

/*
 * An RFC 7807 problem document: {"type", "detail", "status"} and, when
 * err has any, "subproblems" with "type", "detail" and "identifier" each.
 * detail may be NULL. A new reference (json_decref()).
 */
json_t *acme_problem_json(enum acme_prob p, int status, const char *detail,
    const struct ra_err *err);

/* RFC 3339 "2026-03-01T12:00:00Z" into out. */
void acme_time(time_t t, char out[32]);
/* 1 when a Content-Type header names application/jose+json (case-
 * insensitive, parameters ignored). */
int acme_is_jose(const char *content_type);

/* ---- one server (server.c) ----------------------------------------------- */

#define ACME_KEY_CACHE 256		/* accounts whose key is kept parsed */
#define ACME_ORDERS_PAGE 50		/* orders per page of the list */

struct acme_key_slot {
	int64_t account_id;		/* 0: empty */
	char *jwk;			/* the canonical JWK it was made from */
	struct acme_key *key;
};

struct acme {
	char *base;			/* "https://host:port" */
	char authority[ACME_MAX_BASE];
	char *acct_prefix;		/* base + "/acme/acct/" */
	char *directory;		/* the directory document */
	char *index_link;		/* <.../acme/directory>;rel="index" */
	int tos_required;		/* newAccount needs
					 * termsOfServiceAgreed */
	struct acme_ra_source ra;
	pthread_mutex_t lock;		/* the key cache */
	struct acme_key_slot keys[ACME_KEY_CACHE];
};

/* A request being answered: what the POST pipeline established. */
struct acme_rq {
	struct acme *a;
	struct http_req *r;
	struct ra *ra;			/* from a->ra, for this request */
	int nonce;			/* 1: replies carry a Replay-Nonce */
	struct acme_jws *jws;		/* POSTs */
	struct acme_key *key;		/* the verified key (a reference) */
	int64_t account_id;		/* kid requests: the account */
	struct ra_account acct;
	json_t *payload;		/* NULL for POST-as-GET */
};

/* Handlers return this when they queued a problem reply already. */
#define ACME_REPLIED 1

/* Fills rq and gets an ra. 0, or ACME_REPLIED (serverInternal). */
int acme_rq_begin(struct acme_rq *rq, struct acme *a, struct http_req *r);
/* Releases everything rq holds. */
void acme_rq_end(struct acme_rq *rq);

/*
 * The POST pipeline (RFC 8555 §6.2-6.5): Content-Type, JWS parse, url ==
 * the URL the request was sent to (the target as sent, query and all),
 * the key (jwk; or kid -> a valid account and its key), signature, nonce,
 * and the payload as a JSON object unless it is empty (POST-as-GET). 0
 * with rq filled, or ACME_REPLIED.
 */
int acme_post(struct acme_rq *rq, enum acme_jws_auth auth);
/* POST-as-GET only: an empty payload, else a malformed reply. 0 or
 * ACME_REPLIED. */
int acme_need_get(struct acme_rq *rq);
/* A payload object is required. 0 or ACME_REPLIED. */
int acme_need_payload(struct acme_rq *rq);

/* "base" + path formatted; new string (free()). */
char *acme_url(const struct acme *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Replies. Every reply carries Link rel="index" and, when rq->nonce, a
 * fresh Replay-Nonce. location may be NULL; obj is borrowed. Return 0 (the
 * handler's result) or an RC_*.
 */
int acme_reply_json(struct acme_rq *rq, unsigned status, const json_t *obj,
    const char *location);
int acme_reply(struct acme_rq *rq, unsigned status, const char *ctype,
    const void *body, size_t len);
/* A problem reply (status 0: the type's own); returns ACME_REPLIED. */
int acme_reply_problem(struct acme_rq *rq, enum acme_prob p, unsigned status,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A problem reply for an ra failure (see acme_prob_for); RC_NOTFOUND
 * answers 404 "no such <what>". Returns ACME_REPLIED. */
int acme_reply_ra(struct acme_rq *rq, int rc, const struct ra_err *err,
    const char *what);
/* Adds a header to the coming reply (ignored when it does not fit). */
void acme_header(struct acme_rq *rq, const char *name, const char *value);

/* The account's key, parsed once and cached (a new reference). */
int acme_account_key(struct acme *a, const struct ra_account *acct,
    struct acme_key **out, struct acme_err *err);
/* Drops a cached key (after a key change or deactivation). */
void acme_key_forget(struct acme *a, int64_t account_id);

/* Objects (order.c) */
json_t *acme_order_json(struct acme *a, const struct ra_order *o);
json_t *acme_authz_json(struct acme *a, const struct ra_authz *z);
json_t *acme_chall_json(struct acme *a, const struct ra_challenge *c);
json_t *acme_account_json(struct acme *a, const struct ra_account *ac);

/* The handlers (account.c, order.c) */
int acme_h_new_account(struct http_req *r, void *app);
int acme_h_account(struct http_req *r, void *app);
int acme_h_key_change(struct http_req *r, void *app);
int acme_h_new_order(struct http_req *r, void *app);
int acme_h_order(struct http_req *r, void *app);
int acme_h_authz(struct http_req *r, void *app);
int acme_h_chall(struct http_req *r, void *app);
int acme_h_cert(struct http_req *r, void *app);
int acme_h_revoke(struct http_req *r, void *app);
int acme_h_renewal_info(struct http_req *r, void *app);

#endif
