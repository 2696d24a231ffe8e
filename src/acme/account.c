/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACME account resources: newAccount (RFC 8555 §7.3, with
 * onlyReturnExisting and External Account Binding §7.3.4), the account URL
 * (POST-as-GET, contact update §7.3.2, deactivation §7.3.6), the account's
 * orders list (§7.1.2.1, paged with Link rel="next") and keyChange
 * (§7.3.5).
 *
 * Runs in the main certdesk process on HTTP worker threads. Requests have
 * been authenticated by acme_post(); payload fields are checked here for
 * their JSON types and by the ra for their contents.
 */
#include "acme/acme_int.h"
#include "util/log.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *
acme_account_json(struct acme *a, const struct ra_account *ac)
{
	json_t *o = json_object(), *contact = NULL;
	char *u;

	json_object_set_new(o, "status", json_string(
	    ra_status_name(ac->status)));
	if (ac->contact != NULL)
		contact = json_loads(ac->contact, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(contact)) {
		json_decref(contact);
		contact = json_array();
	}
	json_object_set_new(o, "contact", contact);
	u = acme_url(a, "/acme/acct/%lld/orders", (long long)ac->id);
	json_object_set_new(o, "orders", json_string(u));
	free(u);
	return o;
}

/* eab: the request's externalAccountBinding, for the account just made
 * with it (RFC 8555 7.3.4: the account object returned then carries it,
 * the same value), else NULL */
static int
reply_account(struct acme_rq *rq, unsigned status,
    const struct ra_account *ac, const json_t *eab)
{
	json_t *o = acme_account_json(rq->a, ac);
	char *loc = acme_url(rq->a, "/acme/acct/%lld", (long long)ac->id);
	int rc;

	if (eab != NULL)
		json_object_set_new(o, "externalAccountBinding",
		    json_deep_copy(eab));
	rc = acme_reply_json(rq, status, o, loc);
	free(loc);
	json_decref(o);
	return rc;
}

/* RFC 8555 §7.3.1 and §7.3.6: an existing account is returned as it is,
 * unless it is deactivated or revoked: then its key authorizes nothing. */
static int
reply_existing(struct acme_rq *rq, const struct ra_account *acct)
{
	if (acct->status != RA_ST_VALID)
		return acme_reply_problem(rq, ACME_PROB_UNAUTHORIZED, 0,
		    "an account with the provided public key exists but "
		    "is %s", ra_status_name(acct->status));
	return reply_account(rq, 200, acct, NULL);
}

/* The "contact" member: absent, or an array of strings, as JSON text for
 * the ra (which checks each URL). *out NULL when absent. */
static int
contact_text(struct acme_rq *rq, char **out)
{
	const json_t *c = json_object_get(rq->payload, "contact");
	size_t i;
	json_t *v;

	*out = NULL;
	if (c == NULL)
		return 0;
	if (!json_is_array(c))
		return acme_reply_problem(rq, ACME_PROB_MALFORMED, 0,
		    "\"contact\" must be an array of URLs");
	json_array_foreach(c, i, v)
		if (!json_is_string(v))
			return acme_reply_problem(rq, ACME_PROB_MALFORMED, 0,
			    "\"contact\" must be an array of strings");
	*out = json_dumps(c, JSON_COMPACT);
	if (*out == NULL)
		return RC_NOMEM;
	return 0;
}

static int
optional_bool(struct acme_rq *rq, const char *name, int *out)
{
	const json_t *v = json_object_get(rq->payload, name);

	*out = 0;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return acme_reply_problem(rq, ACME_PROB_MALFORMED, 0,
		    "\"%s\" must be true or false", name);
	*out = json_is_true(v);
	return 0;
}

/*
 * RFC 8555 §7.3.4: verifies the binding with the MAC key the ra keeps for
 * its key id. *kid (borrowed from *e) is the bound key id. An unknown key
 * id gets the answer of a wrong MAC, after a MAC under a random key (as
 * much work), and a key used already is refused by ra_account_new_from()
 * only after its MAC verified: no answer tells which key ids exist, or
 * which are used, to anyone but their holders.
 */
static int
check_eab(struct acme_rq *rq, const json_t *eab, struct acme_eab **e)
{
	struct acme_err aerr = {0};
	struct ra_err rerr = {0};
	struct sec *key = NULL;
	int64_t contract = 0;
	char *url = NULL;
	int rc;

	if (!json_is_object(eab))
		return acme_reply_problem(rq, ACME_PROB_MALFORMED, 0,
		    "\"externalAccountBinding\" must be a JWS object");
	rc = acme_eab_parse(eab, e, &aerr);
	if (rc != 0)
		return acme_reply_problem(rq, aerr.problem ? aerr.problem :
		    ACME_PROB_MALFORMED, 0, "%s", aerr.detail.msg);
	rc = ra_eab_lookup(rq->ra, acme_eab_kid(*e), &key, &contract, &rerr);
	if (rc == RC_UNAUTH) {
		/* no one has this key: the MAC fails (and were it to pass,
		 * ra_account_new_from() refuses the unknown key id) */
		key = sec_new(32);
		if (sec_random(key->data, key->len) != 0) {
			sec_free(key);
			return acme_reply_problem(rq,
			    ACME_PROB_SERVER_INTERNAL, 0,
			    "internal error; try again later");
		}
	} else if (rc != 0)
		return acme_reply_ra(rq, rc, &rerr, NULL);
	url = acme_url(rq->a, "/acme/new-account");
	rc = acme_eab_verify(*e, key->data, key->len, url, rq->key, &aerr);
	sec_free(key);
	free(url);
	if (rc == RC_CRYPTO)
		return acme_reply_problem(rq, ACME_PROB_SERVER_INTERNAL, 0,
		    "internal error; try again later");
	if (rc != 0)	/* the detail names externalAccountBinding */
		return acme_reply_problem(rq, aerr.problem ? aerr.problem :
		    ACME_PROB_UNAUTHORIZED, 0, "%s", aerr.detail.msg);
	return 0;
}

/* A new account's key, or the new key of a key change: not known
 * compromised (RFC 8555 badPublicKey); hash gets the SHA-256 of its
 * SubjectPublicKeyInfo, which the store keeps with the account. 0, or
 * ACME_REPLIED. */
static int
key_allowed(struct acme_rq *rq, const struct acme_key *k, uint8_t hash[32])
{
	unsigned char *spki = NULL;
	struct ra_err rerr = {0};
	int n = i2d_PUBKEY(acme_key_pkey(k), &spki), rc;

	if (n <= 0) {
		(void)acme_reply_problem(rq, ACME_PROB_SERVER_INTERNAL, 0,
		    "internal error; try again later");
		return ACME_REPLIED;
	}
	SHA256(spki, (size_t)n, hash);
	rc = ra_account_key_allowed(rq->ra, spki, (size_t)n, &rerr);
	OPENSSL_free(spki);
	if (rc == 0)
		return 0;
	(void)acme_reply_ra(rq, rc, &rerr, NULL);
	return ACME_REPLIED;
}

int
acme_h_new_account(struct http_req *r, void *app)
{
	struct acme_rq rq;
	struct ra_account acct;
	struct ra_err rerr = {0};
	struct acme_eab *eab = NULL;
	const json_t *eabj;
	char tp[ACME_THUMBPRINT_LEN + 1], *contact = NULL;
	uint8_t key_hash[32];
	char ip[INET6_ADDRSTRLEN];
	int only = 0, tos = 0, rc;

	memset(&acct, 0, sizeof(acct));
	if (acme_rq_begin(&rq, app, r) != 0)
		return 0;
	if (acme_post(&rq, ACME_JWS_NEED_JWK) != 0 ||
	    acme_need_payload(&rq) != 0)
		goto out;
	if (optional_bool(&rq, "onlyReturnExisting", &only) != 0 ||
	    optional_bool(&rq, "termsOfServiceAgreed", &tos) != 0)
		goto out;
	if (acme_key_thumbprint(rq.key, tp) != 0) {
		(void)acme_reply_problem(&rq, ACME_PROB_SERVER_INTERNAL, 0,
		    "internal error; try again later");
		goto out;
	}
	/* §7.3.1: an existing account for this key is returned as is */
	rc = ra_account_by_thumbprint(rq.ra, tp, &acct, &rerr);
	if (rc == 0) {
		(void)reply_existing(&rq, &acct);
		goto out;
	}
	if (rc != RC_NOTFOUND) {
		(void)acme_reply_ra(&rq, rc, &rerr, NULL);
		goto out;
	}
	if (only) {
		(void)acme_reply_problem(&rq, ACME_PROB_ACCOUNT_DOES_NOT_EXIST,
		    0, "no account exists with this key");
		goto out;
	}
	if (rq.a->tos_required && !tos) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 0,
		    "the terms of service must be agreed to "
		    "(termsOfServiceAgreed)");
		goto out;
	}
	if ((rc = contact_text(&rq, &contact)) != 0) {
		if (rc != ACME_REPLIED)
			(void)acme_reply_problem(&rq,
			    ACME_PROB_SERVER_INTERNAL, 0, "internal error");
		goto out;
	}
	if (key_allowed(&rq, rq.key, key_hash) != 0)
		goto out;
	eabj = json_object_get(rq.payload, "externalAccountBinding");
	if (eabj != NULL && check_eab(&rq, eabj, &eab) != 0)
		goto out;
	memset(&rerr, 0, sizeof(rerr));
	http_req_client_addr(rq.r, ip, sizeof(ip));
	/* an unknown client ("?") counts with every other unknown one */
	rc = ra_account_new_from(rq.ra, ip, acme_key_jwk(rq.key, NULL), tp,
	    key_hash, contact, eab ? acme_eab_kid(eab) : NULL, &acct, &rerr);
	if (rc == RC_EXISTS) {
		/* created by a concurrent request with the same key */
		(void)reply_existing(&rq, &acct);
		goto out;
	}
	if (rc != 0) {
		(void)acme_reply_ra(&rq, rc, &rerr, NULL);
		goto out;
	}
	log_info(LOG_ACME, "account %lld created%s", (long long)acct.id,
	    eab ? " (external account binding)" : "");
	(void)reply_account(&rq, 201, &acct, eab != NULL ? eabj : NULL);
out:
	acme_eab_free(eab);
	free(contact);
	ra_account_clear(&acct);
	acme_rq_end(&rq);
	return 0;
}

/* ---- the account URL and its orders -------------------------------------- */

static void
orders_list(struct acme_rq *rq, int64_t before)
{
	int64_t ids[ACME_ORDERS_PAGE];
	size_t n = 0;
	int more = 0, rc;
	json_t *o, *arr;

	if (acme_need_get(rq) != 0)
		return;
	rc = ra_account_orders(rq->ra, rq->account_id, before, ids,
	    ACME_ORDERS_PAGE, &n, &more);
	if (rc != 0) {
		(void)acme_reply_ra(rq, rc, NULL, NULL);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		char *u = acme_url(rq->a, "/acme/order/%lld",
		    (long long)ids[i]);

		json_array_append_new(arr, json_string(u));
		free(u);
	}
	if (more && n > 0) {
		char *u = acme_url(rq->a, "/acme/acct/%lld/orders/%lld",
		    (long long)rq->account_id, (long long)ids[n - 1]);
		char *link = xasprintf("<%s>;rel=\"next\"", u);

		acme_header(rq, "Link", link);
		free(link);
		free(u);
	}
	o = json_object();
	json_object_set_new(o, "orders", arr);
	(void)acme_reply_json(rq, 200, o, NULL);
	json_decref(o);
}

/* tail: "<id>", "<id>/orders" or "<id>/orders/<before>" */
static int
account_tail(const char *tail, int64_t *id, int *orders, int64_t *before)
{
	const char *slash = strchr(tail, '/');

	*orders = 0;
	*before = 0;
	if (acme_id_parse(tail, slash ? (size_t)(slash - tail) :
	    strlen(tail), id) != 0)
		return RC_INVAL;
	if (slash == NULL)
		return 0;
	if (strncmp(slash, "/orders", 7) != 0)
		return RC_INVAL;
	*orders = 1;
	if (slash[7] == '\0')
		return 0;
	if (slash[7] != '/')
		return RC_INVAL;
	return acme_id_parse(slash + 8, strlen(slash + 8), before);
}

int
acme_h_account(struct http_req *r, void *app)
{
	struct acme_rq rq;
	struct ra_account acct;
	struct ra_err rerr = {0};
	const json_t *status;
	char *contact = NULL;
	int64_t id, before;
	int orders, rc;

	memset(&acct, 0, sizeof(acct));
	if (acme_rq_begin(&rq, app, r) != 0)
		return 0;
	if (account_tail(http_req_tail(r), &id, &orders, &before) != 0) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 404,
		    "no such account");
		goto out;
	}
	if (acme_post(&rq, ACME_JWS_NEED_KID) != 0)
		goto out;
	if (rq.account_id != id) {
		(void)acme_reply_problem(&rq, ACME_PROB_UNAUTHORIZED, 0,
		    "the request is signed for another account");
		goto out;
	}
	if (orders) {
		orders_list(&rq, before);
		goto out;
	}
	if (rq.payload == NULL) {
		(void)reply_account(&rq, 200, &rq.acct, NULL);
		goto out;
	}
	/* §7.3.6 deactivation; §7.3.2 contact update. §7.3.2: other changes
	 * of "status" are ignored; as Boulder, the status the account has
	 * ("valid": acme_post() let only a valid account through) is, since
	 * clients post their whole account object back; any other value is
	 * refused rather than silently dropped */
	status = json_object_get(rq.payload, "status");
	if (json_is_string(status) &&
	    strcmp(json_string_value(status), "valid") == 0)
		status = NULL;
	if (status != NULL) {
		if (!json_is_string(status) ||
		    strcmp(json_string_value(status), "deactivated") != 0) {
			(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 0,
			    "an account's status can only be set to "
			    "\"deactivated\"");
			goto out;
		}
		rc = ra_account_deactivate(rq.ra, id, &acct, &rerr);
		if (rc != 0) {
			(void)acme_reply_ra(&rq, rc, &rerr, NULL);
			goto out;
		}
		acme_key_forget(rq.a, id);
		log_info(LOG_ACME, "account %lld deactivated", (long long)id);
		(void)reply_account(&rq, 200, &acct, NULL);
		goto out;
	}
	if ((rc = contact_text(&rq, &contact)) != 0) {
		if (rc != ACME_REPLIED)
			(void)acme_reply_problem(&rq,
			    ACME_PROB_SERVER_INTERNAL, 0, "internal error");
		goto out;
	}
	if (contact == NULL) {
		(void)reply_account(&rq, 200, &rq.acct, NULL);
		goto out;
	}
	rc = ra_account_update_contact(rq.ra, id, contact, &acct, &rerr);
	if (rc != 0) {
		(void)acme_reply_ra(&rq, rc, &rerr, NULL);
		goto out;
	}
	(void)reply_account(&rq, 200, &acct, NULL);
out:
	free(contact);
	ra_account_clear(&acct);
	acme_rq_end(&rq);
	return 0;
}

/* ---- keyChange (RFC 8555 §7.3.5) ----------------------------------------- */

/*
 * The inner JWS of a key change: a flattened JWS signed by the new key,
 * with "jwk", the same "url" as the outer JWS and no "nonce" (which is why
 * acme_jws_parse(), made for outer requests, is not used for it). Parsed
 * here into a struct acme_jws so that acme_jws_verify() checks it.
 * Returns 0 and *out (acme_jws_free()), or ACME_REPLIED.
 */
static int
inner_jws(struct acme_rq *rq, struct acme_jws **out)
{
	const json_t *p = rq->payload, *prot, *pl, *sig, *alg, *jwk, *url;
	struct acme_err aerr = {0};
	struct acme_jws *j = NULL;
	uint8_t *hdr = NULL;
	size_t hlen, plen, slen, n;
	const char *ps, *pls;
	int rc = ACME_REPLIED;

	*out = NULL;
	prot = json_object_get(p, "protected");
	pl = json_object_get(p, "payload");
	sig = json_object_get(p, "signature");
	if (json_object_size(p) != 3 || !json_is_string(prot) ||
	    !json_is_string(pl) || !json_is_string(sig)) {
		(void)acme_reply_problem(rq, ACME_PROB_MALFORMED, 0,
		    "keyChange: the payload must be a flattened JWS with "
		    "\"protected\", \"payload\" and \"signature\"");
		goto out;
	}
	ps = json_string_value(prot);
	pls = json_string_value(pl);
	plen = json_string_length(pl);
	j = xcalloc(1, sizeof(*j));
	if (acme_b64u_decode(ps, json_string_length(prot), &hdr, &hlen) != 0 ||
	    hlen == 0 ||
	    acme_b64u_decode(pls, plen, &j->payload, &j->payload_len) != 0 ||
	    acme_b64u_decode(json_string_value(sig), json_string_length(sig),
	    &j->sig, &slen) != 0 || slen == 0) {
		(void)acme_reply_problem(rq, ACME_PROB_MALFORMED, 0,
		    "keyChange: inner JWS is not base64url without padding");
		goto out;
	}
	j->sig_len = slen;
	j->header = json_loadb((const char *)hdr, hlen,
	    JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j->header)) {
		(void)acme_reply_problem(rq, ACME_PROB_MALFORMED, 0,
		    "keyChange: inner protected header is not a JSON object");
		goto out;
	}
	alg = json_object_get(j->header, "alg");
	jwk = json_object_get(j->header, "jwk");
	url = json_object_get(j->header, "url");
	for (int i = ACME_ALG_NONE + 1; i < ACME_ALG_MAX_; i++)
		if (json_is_string(alg) &&
		    strcmp(json_string_value(alg), acme_alg_name(i)) == 0)
			j->alg = i;
	if (j->alg == ACME_ALG_NONE) {
		(void)acme_reply_problem(rq, ACME_PROB_BAD_SIGNATURE_ALGORITHM,
		    0, "keyChange: inner JWS alg is not supported");
		goto out;
	}
	if (json_object_get(j->header, "nonce") != NULL ||
	    json_object_get(j->header, "kid") != NULL ||
	    json_object_get(j->header, "crit") != NULL ||
	    json_object_get(j->header, "b64") != NULL || jwk == NULL) {
		(void)acme_reply_problem(rq, ACME_PROB_MALFORMED, 0,
		    "keyChange: the inner JWS must carry \"jwk\" and no "
		    "\"nonce\", \"kid\", \"crit\" or \"b64\"");
		goto out;
	}
	if (!json_is_string(url) ||
	    strcmp(json_string_value(url), rq->jws->url) != 0) {
		(void)acme_reply_problem(rq, ACME_PROB_MALFORMED, 0,
		    "keyChange: the inner JWS url is not the outer one");
		goto out;
	}
	if (acme_key_from_jwk(jwk, &j->key, &aerr) != 0) {
		(void)acme_reply_problem(rq, aerr.problem ? aerr.problem :
		    ACME_PROB_BAD_PUBLIC_KEY, 0, "keyChange: new key: %s",
		    aerr.detail.msg);
		goto out;
	}
	n = json_string_length(prot) + 1 + plen;
	j->signing_input = xmalloc(n + 1);
	memcpy(j->signing_input, ps, json_string_length(prot));
	j->signing_input[json_string_length(prot)] = '.';
	memcpy(j->signing_input + json_string_length(prot) + 1, pls, plen);
	j->signing_input[n] = '\0';
	j->signing_input_len = n;
	if (acme_jws_verify(j, j->key, &aerr) != 0) {
		(void)acme_reply_problem(rq, aerr.problem ? aerr.problem :
		    ACME_PROB_MALFORMED, 0, "keyChange: inner JWS: %s",
		    aerr.detail.msg[0] ? aerr.detail.msg :
		    "verification error");
		goto out;
	}
	*out = j;
	j = NULL;
	rc = 0;
out:
	free(hdr);
	acme_jws_free(j);
	return rc;
}

int
acme_h_key_change(struct http_req *r, void *app)
{
	struct acme_rq rq;
	struct acme_jws *in = NULL;
	struct acme_key *oldkey = NULL;
	struct acme_err aerr = {0};
	struct ra_err rerr = {0};
	struct ra_account acct;
	json_t *ip = NULL;
	const json_t *acc, *old;
	char tp[ACME_THUMBPRINT_LEN + 1], old_tp[ACME_THUMBPRINT_LEN + 1];
	uint8_t key_hash[32];
	int64_t other = 0;
	int rc;

	memset(&acct, 0, sizeof(acct));
	if (acme_rq_begin(&rq, app, r) != 0)
		return 0;
	if (acme_post(&rq, ACME_JWS_NEED_KID) != 0 ||
	    acme_need_payload(&rq) != 0 || inner_jws(&rq, &in) != 0)
		goto out;
	if (acme_jws_payload_json(in, &ip, &aerr) != 0) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 0,
		    "keyChange: inner payload: %s", aerr.detail.msg);
		goto out;
	}
	acc = json_object_get(ip, "account");
	old = json_object_get(ip, "oldKey");
	if (!json_is_string(acc) ||
	    strcmp(json_string_value(acc), rq.jws->kid) != 0) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 0,
		    "keyChange: inner \"account\" is not the signing "
		    "account");
		goto out;
	}
	if (!json_is_object(old) ||
	    acme_key_from_jwk(old, &oldkey, &aerr) != 0 ||
	    !acme_key_equal(oldkey, rq.key)) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 0,
		    "keyChange: \"oldKey\" is not the account's key");
		goto out;
	}
	if (acme_key_equal(in->key, rq.key)) {
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 0,
		    "keyChange: the new key is the old key");
		goto out;
	}
	if (acme_key_thumbprint(in->key, tp) != 0 ||
	    acme_key_thumbprint(rq.key, old_tp) != 0) {
		(void)acme_reply_problem(&rq, ACME_PROB_SERVER_INTERNAL, 0,
		    "internal error; try again later");
		goto out;
	}
	if (key_allowed(&rq, in->key, key_hash) != 0)
		goto out;
	rc = ra_account_key_change(rq.ra, rq.account_id, old_tp,
	    acme_key_jwk(in->key, NULL), tp, key_hash, &other, &acct, &rerr);
	if (rc == RC_EXISTS) {
		char *loc = acme_url(rq.a, "/acme/acct/%lld",
		    (long long)other);

		acme_header(&rq, "Location", loc);
		free(loc);
		(void)acme_reply_problem(&rq, ACME_PROB_MALFORMED, 409,
		    "the new key is already in use by an account");
		goto out;
	}
	if (rc != 0) {
		(void)acme_reply_ra(&rq, rc, &rerr, NULL);
		goto out;
	}
	acme_key_forget(rq.a, rq.account_id);
	log_info(LOG_ACME, "account %lld: key changed",
	    (long long)rq.account_id);
	(void)reply_account(&rq, 200, &acct, NULL);
out:
	json_decref(ip);
	acme_key_free(oldkey);
	acme_jws_free(in);
	ra_account_clear(&acct);
	acme_rq_end(&rq);
	return 0;
}
