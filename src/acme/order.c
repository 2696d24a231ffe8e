/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACME order resources: newOrder (RFC 8555 §7.4, with RFC 9773 "replaces"),
 * the order (POST-as-GET), finalize (issuance within the request when it
 * can), authorizations (§7.5, with deactivation §7.5.2), challenges
 * (§7.5.1: validated within the request when it can, else Retry-After),
 * certificate download (§7.4.2), revocation (§7.6, by the account or by the
 * certificate's key) and renewal information (RFC 9773).
 *
 * Every object is looked up through the ra by (id, account): an object of
 * another account is "not found" exactly like one that does not exist.
 *
 * Runs in the main certdesk process on HTTP worker threads. Requests have
 * been authenticated by acme_post() (except renewal information, a plain
 * GET); payload fields are checked here for their JSON types and by the ra
 * for their contents.
 */
#include "acme/acme_int.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IDENTIFIERS 1000	/* the ra's own limit is lower */
#define RETRY_AFTER "1"
#define ARI_RETRY_AFTER "21600"	/* RFC 9773 §4.3: check again in 6 h */

/* ---- objects ------------------------------------------------------------- */

static void
set_time(json_t *o, const char *key, time_t t)
{
	char ts[32];

	acme_time(t, ts);
	json_object_set_new(o, key, json_string(ts));
}

/* "<base>/acme/<kind>/<id>" */
static void
set_url(json_t *o, struct acme *a, const char *key, const char *kind,
    long long id)
{
	char *u = acme_url(a, "/acme/%s/%lld", kind, id);

	json_object_set_new(o, key, json_string(u));
	free(u);
}

static json_t *
error_json(enum ra_prob p, const char *detail)
{
	return acme_problem_json(acme_prob_from_ra(p), 0, detail, NULL);
}

json_t *
acme_order_json(struct acme *a, const struct ra_order *o)
{
	json_t *j = json_object(), *ids = json_array(), *az = json_array();

	json_object_set_new(j, "status", json_string(
	    ra_status_name(o->status)));
	set_time(j, "expires", o->expires_at);
	for (size_t i = 0; i < o->nident; i++) {
		json_t *id = json_object();

		json_object_set_new(id, "type", json_string(o->ident_type[i]));
		json_object_set_new(id, "value", json_string(o->ident[i]));
		json_array_append_new(ids, id);
	}
	json_object_set_new(j, "identifiers", ids);
	for (size_t i = 0; i < o->nauthz; i++) {
		char *u = acme_url(a, "/acme/authz/%lld",
		    (long long)o->authz_ids[i]);

		json_array_append_new(az, json_string(u));
		free(u);
	}
	json_object_set_new(j, "authorizations", az);
	{
		char *u = acme_url(a, "/acme/order/%lld/finalize",
		    (long long)o->id);

		json_object_set_new(j, "finalize", json_string(u));
		free(u);
	}
	if (o->cert_serial[0] != '\0' && o->status == RA_ST_VALID) {
		char *u = acme_url(a, "/acme/cert/%s", o->cert_serial);

		json_object_set_new(j, "certificate", json_string(u));
		free(u);
	}
	if (o->status == RA_ST_INVALID && o->error != RA_PROB_NONE) {
		json_t *e = error_json(o->error, o->error_detail);
		json_t *st = o->error_json != NULL ? json_loads(o->error_json,
		    0, NULL) : NULL;
		json_t *subs = json_object_get(st, "subproblems");

		/* the subproblems that ra_err_json() recorded with it
		 * (RFC 8555 6.7.1: which identifiers failed, and why) */
		if (json_is_array(subs))
			json_object_set(e, "subproblems", subs);
		json_decref(st);
		json_object_set_new(j, "error", e);
	}
	if (o->replaces != NULL)	/* RFC 9773 §5 */
		json_object_set_new(j, "replaces", json_string(o->replaces));
	if (o->acme_profile != NULL)	/* draft-ietf-acme-profiles */
		json_object_set_new(j, "profile",
		    json_string(o->acme_profile));
	return j;
}

json_t *
acme_chall_json(struct acme *a, const struct ra_challenge *c)
{
	json_t *j = json_object();
	const char *type = ra_chall_type_name(c->type);

	json_object_set_new(j, "type", json_string(type ? type : "unknown"));
	set_url(j, a, "url", "chall", (long long)c->id);
	json_object_set_new(j, "status", json_string(
	    ra_status_name(c->status)));
	json_object_set_new(j, "token", json_string(c->token));
	if (c->status == RA_ST_VALID && c->validated_at)
		set_time(j, "validated", c->validated_at);
	if (c->status == RA_ST_INVALID && c->error != RA_PROB_NONE)
		json_object_set_new(j, "error", error_json(c->error,
		    c->error_detail));
	return j;
}

json_t *
acme_authz_json(struct acme *a, const struct ra_authz *z)
{
	json_t *j = json_object(), *id = json_object(), *ch = json_array();

	json_object_set_new(id, "type", json_string(z->type[0] ? z->type :
	    "dns"));
	json_object_set_new(id, "value", json_string(z->identifier));
	json_object_set_new(j, "identifier", id);
	json_object_set_new(j, "status", json_string(
	    ra_status_name(z->status)));
	set_time(j, "expires", z->expires_at);
	/* §7.1.4: a valid authorization lists the challenge that made it;
	 * as Boulder, an invalid one shows its untried challenges invalid
	 * too (none of them can be answered any more) */
	for (size_t i = 0; i < z->nchall && i < RA_MAX_CHALLENGES; i++) {
		struct ra_challenge c = z->chall[i];

		if (z->status == RA_ST_VALID && c.status != RA_ST_VALID)
			continue;
		if (z->status == RA_ST_INVALID && c.status == RA_ST_PENDING)
			c.status = RA_ST_INVALID;
		json_array_append_new(ch, acme_chall_json(a, &c));
	}
	json_object_set_new(j, "challenges", ch);
	if (z->wildcard)
		json_object_set_new(j, "wildcard", json_true());
	return j;
}

static int
reply_order(struct acme_rq *rq, unsigned status, const struct ra_order *o,
    int location)
{
	json_t *j = acme_order_json(rq->a, o);
	char *loc = location ? acme_url(rq->a, "/acme/order/%lld",
	    (long long)o->id) : NULL;
	int rc;

	if (o->status == RA_ST_PROCESSING)
		acme_header(rq, "Retry-After", RETRY_AFTER);
	rc = acme_reply_json(rq, status, j, loc);
	free(loc);
	json_decref(j);
	return rc;
}

/* ---- newOrder ------------------------------------------------------------ */

int
acme_h_new_order(struct http_req *r, void *app)
{
	struct acme_rq rq;
	struct ra_order o;
	struct ra_err rerr = {0};
	struct ra_ident *ids = NULL;
	const json_t *list, *v, *repv, *prof;
	uint8_t aki[64], serial[20];
	struct ra_certid rep = {aki, 0, serial, 0};
	size_t n, i;
	int rc;

	memset(&o, 0, sizeof(o));
	if (acme_rq_begin(&rq, app, r) != 0)
		return 0;
	if (acme_post(&rq, ACME_JWS_NEED_KID) != 0 ||
	    acme_need_payload(&rq) != 0)
		goto out;
	if (json_object_get(rq.payload, "notBefore") != NULL ||
	    json_object_get(rq.payload, "notAfter") != NULL) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 0,
		    "notBefore and notAfter are not supported");
		goto out;
	}
	/* RFC 9773 §5: "replaces" names a certificate of ours by its
	 * certID; the ra checks the rest */
	repv = json_object_get(rq.payload, "replaces");
	if (repv != NULL && (!json_is_string(repv) ||
	    acme_certid_parse(json_string_value(repv), aki, &rep.aki_len,
	    serial, &rep.serial_len) != 0)) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 0,
		    "\"replaces\" is not a certificate identifier");
		goto out;
	}
	/* draft-ietf-acme-profiles: one of the directory's meta.profiles */
	prof = json_object_get(rq.payload, "profile");
	if (prof != NULL && !json_is_string(prof)) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 0,
		    "\"profile\" is not a string");
		goto out;
	}
	list = json_object_get(rq.payload, "identifiers");
	n = json_array_size(list);
	if (!json_is_array(list) || n == 0 || n > MAX_IDENTIFIERS) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 0,
		    "\"identifiers\" must be a non-empty array");
		goto out;
	}
	ids = xcalloc(n, sizeof(*ids));
	json_array_foreach(list, i, v) {
		const json_t *t = json_object_get(v, "type");
		const json_t *val = json_object_get(v, "value");

		if (!json_is_string(t) || !json_is_string(val)) {
			(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 0,
			    "identifier %zu is not {\"type\", \"value\"}", i);
			goto out;
		}
		ids[i].type = json_string_value(t);
		ids[i].value = json_string_value(val);
	}
	rc = ra_order_new_profile(rq.ra, rq.account_id, ids, n,
	    repv != NULL ? &rep : NULL, prof ? json_string_value(prof) : NULL,
	    &o, &rerr);
	if (rc != 0) {
		(void)acme_reply_ra(&rq, rc, &rerr, NULL);
		goto out;
	}
	(void)reply_order(&rq, 201, &o, 1);
out:
	free(ids);
	ra_order_clear(&o);
	acme_rq_end(&rq);
	return 0;
}

/* ---- order and finalize -------------------------------------------------- */

static void
finalize(struct acme_rq *rq, int64_t id)
{
	struct ra_order o;
	struct ra_err rerr = {0};
	const json_t *csr;
	uint8_t *der = NULL;
	size_t len = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	if (acme_need_payload(rq) != 0)
		return;
	csr = json_object_get(rq->payload, "csr");
	if (!json_is_string(csr) || json_string_length(csr) == 0 ||
	    acme_b64u_decode(json_string_value(csr), json_string_length(csr),
	    &der, &len) != 0) {
		(void)acme_reply_problem(rq, ACME_PROB_MALFORMED, 0,
		    "\"csr\" must be a base64url DER CSR without padding");
		return;
	}
	rc = ra_order_finalize(rq->ra, rq->account_id, id, der, len, &o,
	    &rerr);
	free(der);
	if (rc != 0)
		(void)acme_reply_ra(rq, rc, &rerr, "order");
	else
		(void)reply_order(rq, 200, &o, 1);
	ra_order_clear(&o);
}

int
acme_h_order(struct http_req *r, void *app)
{
	struct acme_rq rq;
	struct ra_order o;
	struct ra_err rerr = {0};
	const char *tail = http_req_tail(r), *slash = strchr(tail, '/');
	int64_t id;
	int fin = 0, rc;

	memset(&o, 0, sizeof(o));
	if (acme_rq_begin(&rq, app, r) != 0)
		return 0;
	if (slash != NULL && strcmp(slash, "/finalize") == 0)
		fin = 1;
	if ((slash != NULL && !fin) || acme_id_parse(tail, slash ?
	    (size_t)(slash - tail) : strlen(tail), &id) != 0) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 404,
		    "no such order");
		goto out;
	}
	if (acme_post(&rq, ACME_JWS_NEED_KID) != 0)
		goto out;
	if (fin) {
		finalize(&rq, id);
		goto out;
	}
	if (acme_need_get(&rq) != 0)
		goto out;
	rc = ra_order_get(rq.ra, rq.account_id, id, &o, &rerr);
	if (rc != 0)
		(void)acme_reply_ra(&rq, rc, &rerr, "order");
	else
		(void)reply_order(&rq, 200, &o, 0);
out:
	ra_order_clear(&o);
	acme_rq_end(&rq);
	return 0;
}

/* ---- authorizations and challenges --------------------------------------- */

int
acme_h_authz(struct http_req *r, void *app)
{
	struct acme_rq rq;
	struct ra_authz z;
	struct ra_err rerr = {0};
	const json_t *st;
	int64_t id;
	int rc;
	json_t *j;

	memset(&z, 0, sizeof(z));
	if (acme_rq_begin(&rq, app, r) != 0)
		return 0;
	if (acme_id_parse(http_req_tail(r), strlen(http_req_tail(r)), &id) !=
	    0) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 404,
		    "no such authorization");
		goto out;
	}
	if (acme_post(&rq, ACME_JWS_NEED_KID) != 0)
		goto out;
	if (rq.payload == NULL) {
		rc = ra_authz_get(rq.ra, rq.account_id, id, &z, &rerr);
	} else {
		/* §7.5.2: the only update is deactivation */
		st = json_object_get(rq.payload, "status");
		if (!json_is_string(st) ||
		    strcmp(json_string_value(st), "deactivated") != 0) {
			(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 0,
			    "an authorization's status can only be set to "
			    "\"deactivated\"");
			goto out;
		}
		rc = ra_authz_deactivate(rq.ra, rq.account_id, id, &z, &rerr);
	}
	if (rc != 0) {
		(void)acme_reply_ra(&rq, rc, &rerr, "authorization");
		goto out;
	}
	for (size_t i = 0; i < z.nchall && i < RA_MAX_CHALLENGES; i++)
		if (z.chall[i].status == RA_ST_PROCESSING) {
			acme_header(&rq, "Retry-After", RETRY_AFTER);
			break;
		}
	j = acme_authz_json(rq.a, &z);
	(void)acme_reply_json(&rq, 200, j, NULL);
	json_decref(j);
out:
	ra_authz_clear(&z);
	acme_rq_end(&rq);
	return 0;
}

int
acme_h_chall(struct http_req *r, void *app)
{
	struct acme_rq rq;
	struct ra_challenge c;
	struct ra_err rerr = {0};
	int64_t id;
	char *up;
	int rc;
	json_t *j;

	memset(&c, 0, sizeof(c));
	if (acme_rq_begin(&rq, app, r) != 0)
		return 0;
	if (acme_id_parse(http_req_tail(r), strlen(http_req_tail(r)), &id) !=
	    0) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 404,
		    "no such challenge");
		goto out;
	}
	if (acme_post(&rq, ACME_JWS_NEED_KID) != 0)
		goto out;
	if (rq.payload == NULL) {
		rc = ra_challenge_get(rq.ra, rq.account_id, id, &c, &rerr);
	} else {
		/* §7.5.1: the client is ready; validated now, so the
		 * answer already says valid or invalid (the answer and
		 * its result are written in one transaction) */
		rc = ra_challenge_respond_now(rq.ra, rq.account_id, id, &c,
		    &rerr);
	}
	if (rc != 0) {
		(void)acme_reply_ra(&rq, rc, &rerr, "challenge");
		goto out;
	}
	up = acme_url(rq.a, "/acme/authz/%lld", (long long)c.authz_id);
	{
		char *link = xasprintf("<%s>;rel=\"up\"", up);

		acme_header(&rq, "Link", link);
		free(link);
	}
	free(up);
	if (c.status == RA_ST_PROCESSING)
		acme_header(&rq, "Retry-After", RETRY_AFTER);
	j = acme_chall_json(rq.a, &c);
	(void)acme_reply_json(&rq, 200, j, NULL);
	json_decref(j);
out:
	ra_challenge_clear(&c);
	acme_rq_end(&rq);
	return 0;
}

/* ---- certificates -------------------------------------------------------- */

int
acme_h_cert(struct http_req *r, void *app)
{
	struct acme_rq rq;
	struct ra_err rerr = {0};
	const char *serial = http_req_tail(r);
	char *pem = NULL;
	int rc;

	if (acme_rq_begin(&rq, app, r) != 0)
		return 0;
	if (!acme_serial_ok(serial)) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 404,
		    "no such certificate");
		goto out;
	}
	if (acme_post(&rq, ACME_JWS_NEED_KID) != 0 || acme_need_get(&rq) != 0)
		goto out;
	rc = ra_cert_chain_pem(rq.ra, rq.account_id, serial, &pem, &rerr);
	if (rc != 0) {
		(void)acme_reply_ra(&rq, rc, &rerr, "certificate");
		goto out;
	}
	/* the chain is whole, so no Link rel="up": RFC 8555 §7.4.2 wants one
	 * only for formats that hold a single certificate, and clients such
	 * as Caddy's (acmez) fetch it with POST-as-GET as one more chain to
	 * append */
	(void)acme_reply(&rq, 200, "application/pem-certificate-chain", pem,
	    strlen(pem));
out:
	free(pem);
	acme_rq_end(&rq);
	return 0;
}

/* RFC 8555 §7.6 */
int
acme_h_revoke(struct http_req *r, void *app)
{
	struct acme_rq rq;
	struct ra_err rerr = {0};
	struct ra_revoke_req req;
	const json_t *cert, *reason;
	uint8_t *der = NULL, *spki = NULL;
	size_t len = 0;
	int rc, n;

	memset(&req, 0, sizeof(req));
	if (acme_rq_begin(&rq, app, r) != 0)
		return 0;
	if (acme_post(&rq, ACME_JWS_NEED_EITHER) != 0 ||
	    acme_need_payload(&rq) != 0)
		goto out;
	cert = json_object_get(rq.payload, "certificate");
	if (!json_is_string(cert) || json_string_length(cert) == 0 ||
	    acme_b64u_decode(json_string_value(cert),
	    json_string_length(cert), &der, &len) != 0) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 0,
		    "\"certificate\" must be base64url DER without padding");
		goto out;
	}
	reason = json_object_get(rq.payload, "reason");
	if (reason != NULL && (!json_is_integer(reason) ||
	    json_integer_value(reason) < 0 ||
	    json_integer_value(reason) > 10)) {
		(void)acme_reply_problem(&rq, ACME_PROB_BAD_REVOCATION_REASON,
		    0, "\"reason\" is not an RFC 5280 reason code");
		goto out;
	}
	req.cert_der = der;
	req.cert_len = len;
	req.reason = reason ? (int)json_integer_value(reason) : 0;
	if (rq.account_id != 0) {
		req.account_id = rq.account_id;
	} else {
		/* by the certificate's key: its SubjectPublicKeyInfo */
		n = i2d_PUBKEY(acme_key_pkey(rq.key), &spki);
		if (n <= 0) {
			(void)acme_reply_problem(&rq,
			    ACME_PROB_SERVER_INTERNAL, 0,
			    "internal error; try again later");
			goto out;
		}
		req.key_spki = spki;
		req.key_spki_len = (size_t)n;
	}
	rc = ra_cert_revoke(rq.ra, &req, &rerr);
	if (rc != 0) {
		(void)acme_reply_ra(&rq, rc, &rerr, NULL);
		goto out;
	}
	log_info(LOG_ACME, "certificate revoked (reason %d) by %s",
	    req.reason, rq.account_id ? "its account" : "its key");
	(void)acme_reply(&rq, 200, NULL, "", 0);
out:
	free(der);
	OPENSSL_free(spki);
	acme_rq_end(&rq);
	return 0;
}

/* RFC 9773 §4: GET <renewalInfo>/<certID> */
int
acme_h_renewal_info(struct http_req *r, void *app)
{
	struct acme_rq rq;
	struct ra_err rerr = {0};
	uint8_t aki[64], serial[20];
	size_t al, sl;
	time_t start, end;
	json_t *o, *w;
	int rc;

	if (acme_rq_begin(&rq, app, r) != 0)
		return 0;
	if (acme_certid_parse(http_req_tail(r), aki, &al, serial, &sl) != 0) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 0,
		    "not a certificate identifier (RFC 9773 4.1)");
		goto out;
	}
	rc = ra_ari_window(rq.ra, aki, al, serial, sl, &start, &end, &rerr);
	if (rc != 0) {
		(void)acme_reply_ra(&rq, rc, &rerr, "certificate");
		goto out;
	}
	o = json_object();
	w = json_object();
	set_time(w, "start", start);
	set_time(w, "end", end);
	json_object_set_new(o, "suggestedWindow", w);
	acme_header(&rq, "Retry-After", ARI_RETRY_AFTER);
	(void)acme_reply_json(&rq, 200, o, NULL);
	json_decref(o);
out:
	acme_rq_end(&rq);
	return 0;
}
