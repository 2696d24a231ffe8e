/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ACME server's frame: configuration, the route table, the directory
 * and newNonce resources, the replies every resource shares (Replay-Nonce,
 * Link rel="index", problem documents) and the POST pipeline of RFC 8555
 * §6.2-6.5 that authenticates each request before a resource sees it:
 *
 *   Content-Type application/jose+json (else 415, malformed)
 *   -> flattened JWS parsed (acme_jws_parse: alg, jwk/kid, sizes)
 *   -> "url" equals the URL the request was sent to (our base and the
 *      request target as sent) and the Host header names us (RFC 8555
 *      §6.4: unauthorized otherwise)
 *   -> the key: the embedded jwk, or the kid's account (which must exist
 *      and be valid, §7.3.6) and its stored key
 *   -> signature verified
 *   -> nonce redeemed (single use, in the database: good on every
 *      instance and across restarts; badNonce otherwise, §6.5)
 *   -> payload parsed as a JSON object unless empty (POST-as-GET, §6.3).
 *
 * The signature is checked before the nonce is spent, so a forged request
 * cannot burn a client's nonce, and a replayed one (good signature, spent
 * nonce) is answered badNonce.
 *
 * Runs in the main certdesk process on HTTP worker threads; the only shared
 * mutable state is the cache of parsed account keys (under a mutex).
 * Nothing in a request is trusted; problem details never carry internal
 * errors (those go to the log).
 */
#include "acme/acme_int.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- configuration ------------------------------------------------------- */

char *
acme_url(const struct acme *a, const char *fmt, ...)
{
	va_list ap;
	char *path, *url;

	va_start(ap, fmt);
	if (vasprintf(&path, fmt, ap) < 0)
		abort();
	va_end(ap);
	url = xasprintf("%s%s", a->base, path);
	free(path);
	return url;
}

static void
set_url(json_t *o, const struct acme *a, const char *key, const char *path)
{
	char *u = acme_url(a, "%s", path);

	json_object_set_new(o, key, json_string(u));
	free(u);
}

/* RFC 8555 §7.1.1; RFC 9773 §3 (renewalInfo) */
static char *
directory_text(const struct acme *a, const struct acme_conf *c)
{
	json_t *d = json_object(), *meta = json_object();
	char *text;

	set_url(d, a, "newNonce", "/acme/new-nonce");
	set_url(d, a, "newAccount", "/acme/new-account");
	set_url(d, a, "newOrder", "/acme/new-order");
	set_url(d, a, "revokeCert", "/acme/revoke-cert");
	set_url(d, a, "keyChange", "/acme/key-change");
	set_url(d, a, "renewalInfo", "/acme/renewal-info");
	if (c->terms_of_service && c->terms_of_service[0])
		json_object_set_new(meta, "termsOfService",
		    json_string(c->terms_of_service));
	if (c->website && c->website[0])
		json_object_set_new(meta, "website", json_string(c->website));
	if (c->caa_identities && c->caa_identities[0]) {
		json_t *caa = json_array();

		for (size_t i = 0; c->caa_identities[i]; i++)
			json_array_append_new(caa,
			    json_string(c->caa_identities[i]));
		json_object_set_new(meta, "caaIdentities", caa);
	}
	json_object_set_new(meta, "externalAccountRequired",
	    json_boolean(c->require_eab));
	{
		/* draft-ietf-acme-profiles: name -> description */
		json_t *p = json_object();

		for (size_t i = 0; ra_acme_profiles[i].name != NULL; i++)
			json_object_set_new(p, ra_acme_profiles[i].name,
			    json_string(ra_acme_profiles[i].description));
		json_object_set_new(meta, "profiles", p);
	}
	json_object_set_new(d, "meta", meta);
	text = json_dumps(d, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(d);
	return text;
}

int
acme_new(const struct acme_conf *conf, struct acme **out)
{
	struct acme *a;
	char auth[ACME_MAX_BASE];

	*out = NULL;
	if (conf == NULL || acme_base_parse(conf->base_url, auth) != 0 ||
	    conf->ra.get == NULL || conf->ra.put == NULL)
		return RC_INVAL;
	a = xcalloc(1, sizeof(*a));
	a->base = xstrdup(conf->base_url);
	memcpy(a->authority, auth, sizeof(auth));
	a->acct_prefix = acme_url(a, "/acme/acct/");
	a->index_link = xasprintf("<%s%s>;rel=\"index\"", a->base,
	    ACME_PATH_DIRECTORY);
	a->ra = conf->ra;
	a->tos_required = conf->terms_of_service != NULL &&
	    conf->terms_of_service[0] != '\0';
	a->directory = directory_text(a, conf);
	if (a->directory == NULL) {
		acme_free(a);
		return RC_NOMEM;
	}
	pthread_mutex_init(&a->lock, NULL);
	*out = a;
	return 0;
}

void
acme_free(struct acme *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < ACME_KEY_CACHE; i++) {
		free(a->keys[i].jwk);
		acme_key_free(a->keys[i].key);
	}
	pthread_mutex_destroy(&a->lock);
	free(a->base);
	free(a->acct_prefix);
	free(a->index_link);
	free(a->directory);
	free(a);
}

/* ---- the key cache ------------------------------------------------------- */

int
acme_account_key(struct acme *a, const struct ra_account *acct,
    struct acme_key **out, struct acme_err *err)
{
	struct acme_key_slot *s = &a->keys[(uint64_t)acct->id %
	    ACME_KEY_CACHE];
	struct acme_key *k = NULL, *old = NULL;
	char *oldjwk = NULL;
	int rc;

	*out = NULL;
	if (acct->jwk == NULL)
		return RC_INVAL;
	pthread_mutex_lock(&a->lock);
	if (s->account_id == acct->id && s->jwk != NULL &&
	    strcmp(s->jwk, acct->jwk) == 0)
		k = acme_key_ref(s->key);
	pthread_mutex_unlock(&a->lock);
	if (k != NULL) {
		*out = k;
		return 0;
	}
	rc = acme_key_from_jwk_str(acct->jwk, strlen(acct->jwk), &k, err);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&a->lock);
	old = s->key;
	oldjwk = s->jwk;
	s->account_id = acct->id;
	s->jwk = xstrdup(acct->jwk);
	s->key = acme_key_ref(k);
	pthread_mutex_unlock(&a->lock);
	acme_key_free(old);
	free(oldjwk);
	*out = k;
	return 0;
}

void
acme_key_forget(struct acme *a, int64_t account_id)
{
	struct acme_key_slot *s = &a->keys[(uint64_t)account_id %
	    ACME_KEY_CACHE];
	struct acme_key *old = NULL;
	char *oldjwk = NULL;

	pthread_mutex_lock(&a->lock);
	if (s->account_id == account_id) {
		old = s->key;
		oldjwk = s->jwk;
		memset(s, 0, sizeof(*s));
	}
	pthread_mutex_unlock(&a->lock);
	acme_key_free(old);
	free(oldjwk);
}

/* ---- replies ------------------------------------------------------------- */

void
acme_header(struct acme_rq *rq, const char *name, const char *value)
{
	if (http_add_header(rq->r, name, value) != 0)
		log_warn(LOG_ACME, "%s: header %s dropped",
		    http_req_path(rq->r), name);
}

/* Link rel="index" and, for POSTs and newNonce, a fresh Replay-Nonce. */
static void
common_headers(struct acme_rq *rq)
{
	char nonce[RA_NONCE_LEN + 1];

	acme_header(rq, "Link", rq->a->index_link);
	if (rq->nonce && rq->ra != NULL) {
		if (ra_nonce_new(rq->ra, nonce) == 0)
			acme_header(rq, "Replay-Nonce", nonce);
		else
			log_err(LOG_ACME, "no nonce for the reply");
	}
}

int
acme_reply(struct acme_rq *rq, unsigned status, const char *ctype,
    const void *body, size_t len)
{
	common_headers(rq);
	return http_reply(rq->r, status, ctype, body, len);
}

int
acme_reply_json(struct acme_rq *rq, unsigned status, const json_t *obj,
    const char *location)
{
	char *text = json_dumps(obj, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc;

	if (text == NULL)
		return RC_NOMEM;
	if (location)
		acme_header(rq, "Location", location);
	rc = acme_reply(rq, status, "application/json", text, strlen(text));
	free(text);
	return rc;
}

static int
problem_reply(struct acme_rq *rq, enum acme_prob p, unsigned status,
    const char *detail, const struct ra_err *err)
{
	json_t *o;
	char *text;

	if (status == 0)
		status = (unsigned)acme_prob_http_status(p);
	o = acme_problem_json(p, (int)status, detail, err);
	if (p == ACME_PROB_BAD_SIGNATURE_ALGORITHM)
		json_object_set_new(o, "algorithms", acme_jws_algs_json());
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	if (text == NULL)
		return RC_NOMEM;
	log_debug(LOG_ACME, "%s %s: %u %s: %s", http_req_method(rq->r),
	    http_req_path(rq->r), status, acme_prob_urn(p),
	    detail ? detail : "");
	(void)acme_reply(rq, status, "application/problem+json", text,
	    strlen(text));
	free(text);
	return ACME_REPLIED;
}

int
acme_reply_problem(struct acme_rq *rq, enum acme_prob p, unsigned status,
    const char *fmt, ...)
{
	char detail[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return problem_reply(rq, p, status, detail, NULL);
}

int
acme_reply_ra(struct acme_rq *rq, int rc, const struct ra_err *err,
    const char *what)
{
	enum acme_prob p = acme_prob_for(rc, err);
	const char *detail = err && err->detail.msg[0] ? err->detail.msg :
	    NULL;

	if (rc == RC_NOTFOUND && what != NULL)
		return acme_reply_problem(rq, ACME_PROB_MALFORMED, 404,
		    "no such %s", what);
	/* internal details stay in the log; a service the CA depends on
	 * being unavailable (CT logs) is said, with what to do */
	if (p == ACME_PROB_SERVER_INTERNAL && !(rc == RC_UNAVAIL && detail))
		return problem_reply(rq, p, 0, "internal error; try again "
		    "later", NULL);
	if (p == ACME_PROB_RATE_LIMITED && err->retry_after > 0) {
		/* RFC 8555 §6.6: when the client may try again */
		char secs[24];

		snprintf(secs, sizeof(secs), "%ld", err->retry_after);
		acme_header(rq, "Retry-After", secs);
	}
	return problem_reply(rq, p, 0, detail ? detail : rc_str(rc), err);
}

static int
reply_acme_err(struct acme_rq *rq, int rc, const struct acme_err *e)
{
	enum acme_prob p = e->problem;

	if (p == ACME_PROB_NONE)
		p = rc == RC_UNAUTH ? ACME_PROB_UNAUTHORIZED :
		    rc == RC_INVAL ? ACME_PROB_MALFORMED :
		    ACME_PROB_SERVER_INTERNAL;
	if (p == ACME_PROB_SERVER_INTERNAL)
		return problem_reply(rq, p, 0, "internal error; try again "
		    "later", NULL);
	return problem_reply(rq, p, 0, e->detail.msg[0] ? e->detail.msg :
	    rc_str(rc), NULL);
}

/* ---- a request ----------------------------------------------------------- */

int
acme_rq_begin(struct acme_rq *rq, struct acme *a, struct http_req *r)
{
	int rc;

	memset(rq, 0, sizeof(*rq));
	rq->a = a;
	rq->r = r;
	rc = a->ra.get(a->ra.arg, &rq->ra);
	if (rc != 0 || rq->ra == NULL) {
		log_err(LOG_ACME, "%s: no registration authority handle: %s",
		    http_req_path(r), rc_str(rc));
		rq->ra = NULL;
		(void)acme_reply_problem(rq, ACME_PROB_SERVER_INTERNAL, 0,
		    "internal error; try again later");
		return ACME_REPLIED;
	}
	/* every answer to a POST carries a nonce to try again with (RFC
	 * 8555 §6.5), also one refused before its JWS is read (404) */
	if (strcmp(http_req_method(r), "POST") == 0)
		rq->nonce = 1;
	return 0;
}

void
acme_rq_end(struct acme_rq *rq)
{
	if (rq->ra != NULL)
		rq->a->ra.put(rq->a->ra.arg, rq->ra);
	rq->ra = NULL;
	acme_jws_free(rq->jws);
	rq->jws = NULL;
	acme_key_free(rq->key);
	rq->key = NULL;
	ra_account_clear(&rq->acct);
	json_decref(rq->payload);
	rq->payload = NULL;
}

/*
 * RFC 8555 §6.4: the JWS url must be the URL of this very request: our
 * base and the request target exactly as sent, not the decoded path the
 * route was found by ("/acme/new%2Dorder" and "/acme/new-order?x=1" reach
 * newOrder, but a JWS signed for newOrder's URL was not sent to them).
 */
static int
check_url(struct acme_rq *rq)
{
	const char *host = http_req_header(rq->r, "Host");
	const char *target = http_req_target(rq->r);
	size_t bl = strlen(rq->a->base);
	const char *u = rq->jws->url;

	if (host != NULL && !acme_host_matches(rq->a->authority, host))
		return acme_reply_problem(rq, ACME_PROB_UNAUTHORIZED, 0,
		    "request sent to host '%.100s', but this server is %s",
		    host, rq->a->base);
	if (strncmp(u, rq->a->base, bl) != 0 || strcmp(u + bl, target) != 0)
		return acme_reply_problem(rq, ACME_PROB_UNAUTHORIZED, 0,
		    "JWS url '%.200s' is not the URL of this request "
		    "(%s%.200s)", u, rq->a->base, target);
	return 0;
}

static int
kid_account(struct acme_rq *rq)
{
	struct ra_err rerr = {0};
	struct acme_err aerr = {0};
	int64_t id;
	int rc;

	if (acme_kid_parse(rq->a->acct_prefix, rq->jws->kid, &id) != 0)
		return acme_reply_problem(rq, ACME_PROB_MALFORMED, 0,
		    "kid '%.200s' is not an account URL of this server",
		    rq->jws->kid);
	rc = ra_account_get(rq->ra, id, &rq->acct, &rerr);
	if (rc == RC_NOTFOUND)
		return acme_reply_problem(rq,
		    ACME_PROB_ACCOUNT_DOES_NOT_EXIST, 0,
		    "account %lld does not exist", (long long)id);
	if (rc != 0)
		return acme_reply_ra(rq, rc, &rerr, NULL);
	if (rq->acct.status != RA_ST_VALID)
		return acme_reply_problem(rq, ACME_PROB_UNAUTHORIZED, 0,
		    "account %lld is %s", (long long)id,
		    ra_status_name(rq->acct.status));
	rq->account_id = id;
	rc = acme_account_key(rq->a, &rq->acct, &rq->key, &aerr);
	if (rc != 0) {
		log_err(LOG_ACME, "account %lld: stored key unusable: %s",
		    (long long)id, rc_str(rc));
		return acme_reply_problem(rq, ACME_PROB_SERVER_INTERNAL, 0,
		    "internal error; try again later");
	}
	return 0;
}

int
acme_post(struct acme_rq *rq, enum acme_jws_auth auth)
{
	struct acme_err aerr = {0};
	const uint8_t *body;
	size_t len;
	int rc;

	rq->nonce = 1;
	if (!acme_is_jose(http_req_header(rq->r, "Content-Type")))
		return acme_reply_problem(rq, ACME_PROB_MALFORMED, 415,
		    "Content-Type must be application/jose+json");
	body = http_req_body(rq->r, &len);
	rc = acme_jws_parse((const char *)body, len, auth, &rq->jws, &aerr);
	if (rc != 0)
		return reply_acme_err(rq, rc, &aerr);
	if ((rc = check_url(rq)) != 0)
		return rc;
	if (rq->jws->kid != NULL) {
		if ((rc = kid_account(rq)) != 0)
			return rc;
	} else {
		rq->key = acme_key_ref(rq->jws->key);
	}
	rc = acme_jws_verify(rq->jws, rq->key, &aerr);
	if (rc != 0)
		return reply_acme_err(rq, rc, &aerr);
	rc = ra_nonce_redeem(rq->ra, rq->jws->nonce);
	if (rc == RC_NOTFOUND)
		return acme_reply_problem(rq, ACME_PROB_BAD_NONCE, 0,
		    "JWS has an invalid anti-replay nonce: '%.64s'",
		    rq->jws->nonce);
	if (rc != 0) {
		log_err(LOG_ACME, "nonce: %s", rc_str(rc));
		return acme_reply_problem(rq, ACME_PROB_SERVER_INTERNAL, 0,
		    "internal error; try again later");
	}
	if (rq->jws->payload_len > 0) {
		rc = acme_jws_payload_json(rq->jws, &rq->payload, &aerr);
		if (rc != 0)
			return reply_acme_err(rq, rc, &aerr);
	}
	return 0;
}

int
acme_need_get(struct acme_rq *rq)
{
	if (rq->payload != NULL)
		return acme_reply_problem(rq, ACME_PROB_MALFORMED, 0,
		    "this resource takes POST-as-GET (an empty payload)");
	return 0;
}

int
acme_need_payload(struct acme_rq *rq)
{
	if (rq->payload == NULL)
		return acme_reply_problem(rq, ACME_PROB_MALFORMED, 0,
		    "this request needs a JSON object as payload");
	return 0;
}

/* ---- directory and nonces ------------------------------------------------ */

static int
h_directory(struct http_req *r, void *app)
{
	struct acme *a = app;
	struct acme_rq rq;

	memset(&rq, 0, sizeof(rq));
	rq.a = a;
	rq.r = r;
	acme_header(&rq, "Cache-Control", "public, max-age=3600");
	return acme_reply(&rq, 200, "application/json", a->directory,
	    strlen(a->directory));
}

/* RFC 8555 §7.2: HEAD 200, GET 204, never cached. */
static int
h_new_nonce(struct http_req *r, void *app)
{
	struct acme_rq rq;
	int rc;

	if (acme_rq_begin(&rq, app, r) != 0)
		return 0;
	rq.nonce = 1;
	acme_header(&rq, "Cache-Control", "no-store");
	rc = acme_reply(&rq, strcmp(http_req_method(r), "HEAD") == 0 ? 200 :
	    204, NULL, "", 0);
	acme_rq_end(&rq);
	return rc;
}

/* Anything else under /acme/. */
static int
h_unknown(struct http_req *r, void *app)
{
	struct acme_rq rq;

	if (acme_rq_begin(&rq, app, r) != 0)
		return 0;
	(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 404,
	    "no such resource");
	acme_rq_end(&rq);
	return 0;
}

int
acme_on_http_error(struct http_req *r, unsigned status, const char *reason,
    void *app)
{
	struct acme_rq rq;

	if (strncmp(http_req_path(r), "/acme/", 6) != 0)
		return -1;
	memset(&rq, 0, sizeof(rq));
	rq.a = app;
	rq.r = r;
	/* a refused POST still gets a nonce to try again with */
	if (strcmp(http_req_method(r), "POST") == 0 &&
	    rq.a->ra.get(rq.a->ra.arg, &rq.ra) == 0 && rq.ra != NULL)
		rq.nonce = 1;
	else
		rq.ra = NULL;
	(void)acme_reply_problem(&rq, status >= 500 ?
	    ACME_PROB_SERVER_INTERNAL : ACME_PROB_MALFORMED, status, "%s",
	    reason);
	if (rq.ra != NULL)
		rq.a->ra.put(rq.a->ra.arg, rq.ra);
	return 0;
}

static const struct http_route routes[] = {
	{ACME_PATH_DIRECTORY, HTTP_GET, h_directory},
	{"/acme/new-nonce", HTTP_GET | HTTP_HEAD, h_new_nonce},
	{"/acme/new-account", HTTP_POST, acme_h_new_account},
	{"/acme/new-order", HTTP_POST, acme_h_new_order},
	{"/acme/revoke-cert", HTTP_POST, acme_h_revoke},
	{"/acme/key-change", HTTP_POST, acme_h_key_change},
	{"/acme/renewal-info/", HTTP_GET, acme_h_renewal_info},
	{"/acme/acct/", HTTP_POST, acme_h_account},
	{"/acme/order/", HTTP_POST, acme_h_order},
	{"/acme/authz/", HTTP_POST, acme_h_authz},
	{"/acme/chall/", HTTP_POST, acme_h_chall},
	{"/acme/cert/", HTTP_POST, acme_h_cert},
	{"/acme/", HTTP_GET | HTTP_POST, h_unknown},
};

const struct http_route *
acme_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}
