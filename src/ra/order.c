/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Orders and authorizations (RFC 8555 §7.1.3, §7.1.4, §7.4, §7.5).
 *
 * The state machine. Orders are stored with one of pending, ready,
 * processing, valid, invalid; authorizations with pending, valid,
 * invalid, deactivated, revoked (expired is derived from expires_at and
 * never stored); challenges with pending, processing, valid, invalid.
 *
 *   authorization  pending --(challenge valid)--> valid --(time)--> expired
 *                  pending --(challenge invalid)--> invalid
 *                  pending|valid --(client, or account deactivated)-->
 *                      deactivated
 *   order          pending --(every authorization valid)--> ready
 *                  pending|ready --(an authorization invalid, deactivated,
 *                      expired or revoked; or the order expired)--> invalid
 *                  ready --(finalize)--> processing --> valid | invalid
 *
 * The order's pending -> ready and -> invalid moves are not pushed by the
 * validations (which do not know every order that shares an
 * authorization): they are derived when the order is read, RFC 8555
 * §7.1.6, and written back with a conditional update, so that the stored
 * status only moves forward and two readers agree. Finalize re-checks the
 * authorizations itself (finalize.c): the stored status is a convenience,
 * not the guard against issuance without validation.
 *
 * Authorizations belong to an account and an identifier: a new order
 * reuses the account's valid authorization for the identifier when it was
 * validated within the domain validation reuse period of the policy
 * calendar (ca_cal_dv_reuse_days(now)) and has not expired, or its pending
 * one (as Boulder); otherwise a new pending authorization with fresh
 * challenges is made.
 *
 * Runs in the main certdesk process. Identifiers come from clients and
 * pass ra_name_check(); everything else comes from the store.
 */
#include "ra/ra_int.h"
#include "ca/ca.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- clearing ------------------------------------------------------------ */

void
ra_challenge_clear(struct ra_challenge *c)
{
	if (c == NULL)
		return;
	free(c->error_detail);
	free(c->error_json);
	memset(c, 0, sizeof(*c));
}

void
ra_authz_clear(struct ra_authz *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < RA_MAX_CHALLENGES; i++)
		ra_challenge_clear(&a->chall[i]);
	memset(a, 0, sizeof(*a));
}

void
ra_order_clear(struct ra_order *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->nident; i++) {
		if (o->ident != NULL)
			free(o->ident[i]);
		if (o->ident_type != NULL)
			free(o->ident_type[i]);
	}
	free(o->ident);
	free(o->ident_type);
	free(o->authz_ids);
	free(o->error_detail);
	free(o->error_json);
	free(o->replaces);
	memset(o, 0, sizeof(*o));
}

/* ---- authorizations ------------------------------------------------------ */

enum ra_status
ra_authz_derived(const struct ra *ra, const char *status, time_t expires_at)
{
	int st = ra_status_parse(status);

	if (st < 0)
		return RA_ST_INVALID;
	if ((st == RA_ST_PENDING || st == RA_ST_VALID) &&
	    expires_at <= ra_now(ra))
		return RA_ST_EXPIRED;
	return (enum ra_status)st;
}

static int
chall_type_parse(const char *s)
{
	for (int t = RA_CHALL_HTTP01; t <= RA_CHALL_TLSALPN01; t++)
		if (s != NULL && strcmp(s, ra_chall_type_name(t)) == 0)
			return t;
	return 0;
}

const char *
ra_chall_type_name(enum ra_chall_type t)
{
	switch (t) {
	case RA_CHALL_HTTP01:
		return "http-01";
	case RA_CHALL_DNS01:
		return "dns-01";
	case RA_CHALL_TLSALPN01:
		return "tls-alpn-01";
	}
	return NULL;
}

void
ra_chall_fill(const struct store_challenge *s, struct ra_challenge *c)
{
	int st = ra_status_parse(s->status);

	memset(c, 0, sizeof(*c));
	c->id = s->id;
	c->authz_id = s->authz_id;
	c->type = (enum ra_chall_type)chall_type_parse(s->type);
	c->status = st < 0 ? RA_ST_INVALID : (enum ra_status)st;
	snprintf(c->token, sizeof(c->token), "%s",
	    s->token != NULL ? s->token : "");
	c->validated_at = s->validated_at;
	if (s->error != NULL) {
		ra_err_parse(s->error, &c->error, &c->error_detail);
		c->error_json = xstrdup(s->error);
	}
}

static int
chall_cb(const struct store_challenge *s, void *arg)
{
	struct ra_authz *a = arg;

	if (a->nchall == RA_MAX_CHALLENGES)
		return 0;
	ra_chall_fill(s, &a->chall[a->nchall++]);
	return 0;
}

int
ra_authz_load(struct ra *ra, int64_t account_id, int64_t authz_id,
    struct ra_authz *out)
{
	struct store_authz s;
	int rc;

	memset(out, 0, sizeof(*out));
	if (authz_id <= 0)
		return RC_NOTFOUND;
	rc = store_authz_get(ra->st, authz_id, &s);
	if (rc != 0)
		return rc;
	if (s.account_id == 0 ||
	    (account_id != 0 && s.account_id != account_id)) {
		rc = RC_NOTFOUND;
		goto out;
	}
	out->id = s.id;
	out->account_id = s.account_id;
	snprintf(out->type, sizeof(out->type), "%s", s.ident_type);
	snprintf(out->identifier, sizeof(out->identifier), "%s",
	    s.identifier);
	out->wildcard = s.wildcard;
	out->status = ra_authz_derived(ra, s.status, s.expires_at);
	out->expires_at = s.expires_at;
	out->validated_at = s.validated_at;
	if (s.method != NULL)
		snprintf(out->method, sizeof(out->method), "%s", s.method);
	rc = store_challenge_list(ra->st, authz_id, chall_cb, out);
	if (rc != 0)
		ra_authz_clear(out);
out:
	store_authz_clear(&s);
	return rc;
}

int
ra_authz_get(struct ra *ra, int64_t account_id, int64_t authz_id,
    struct ra_authz *out, struct ra_err *err)
{
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	if (account_id <= 0)
		return ra_fail(err, RC_NOTFOUND, RA_PROB_MALFORMED,
		    "no such authorization");
	rc = ra_authz_load(ra, account_id, authz_id, out);
	if (rc == RC_NOTFOUND)
		return ra_fail(err, rc, RA_PROB_MALFORMED,
		    "no such authorization");
	if (rc != 0)
		return ra_internal(err, rc, "authz get");
	return 0;
}

struct deact {
	struct ra *ra;
	int64_t account_id, id;
	int wrong_state;
};

static int
deact_tx(struct store *st, void *arg)
{
	struct deact *d = arg;
	struct store_authz a;
	enum ra_status cur;
	char actor[48], object[48], det[96];
	char *from = NULL;
	int rc;

	d->wrong_state = 0;
	rc = store_authz_get(st, d->id, &a);
	if (rc != 0)
		return rc;
	if (a.account_id == 0 || a.account_id != d->account_id) {
		rc = RC_NOTFOUND;
		goto out;
	}
	cur = ra_authz_derived(d->ra, a.status, a.expires_at);
	if (cur != RA_ST_PENDING && cur != RA_ST_VALID) {
		d->wrong_state = 1;
		rc = RC_STATE;
		goto out;
	}
	from = a.status;
	a.status = xstrdup("deactivated");
	rc = store_authz_set(st, &a, from, ra_now(d->ra));
	if (rc != 0)
		goto out;
	snprintf(actor, sizeof(actor), "acme:account/%lld",
	    (long long)d->account_id);
	snprintf(object, sizeof(object), "authz:%lld", (long long)d->id);
	snprintf(det, sizeof(det), "{\"from\":\"%s\",\"identifier\":\"%s%s\"}",
	    from, a.wildcard ? "*." : "", a.identifier);
	rc = store_audit_append(st, actor, "acme.authz.deactivate", object,
	    det);
out:
	free(from);
	store_authz_clear(&a);
	return rc;
}

int
ra_authz_deactivate(struct ra *ra, int64_t account_id, int64_t authz_id,
    struct ra_authz *out, struct ra_err *err)
{
	struct deact d = {0};
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL)
		return RC_INVAL;
	if (account_id <= 0 || authz_id <= 0)
		return ra_fail(err, RC_NOTFOUND, RA_PROB_MALFORMED,
		    "no such authorization");
	d.ra = ra;
	d.account_id = account_id;
	d.id = authz_id;
	rc = store_tx(ra->st, deact_tx, &d);
	if (rc == RC_NOTFOUND)
		return ra_fail(err, rc, RA_PROB_MALFORMED,
		    "no such authorization");
	if (rc == RC_STATE)
		return ra_fail(err, rc, RA_PROB_MALFORMED,
		    "only pending or valid authorizations can be "
		    "deactivated");
	if (rc != 0)
		return ra_internal(err, rc, "authz deactivate");
	if (out != NULL)
		return ra_authz_get(ra, account_id, authz_id, out, err);
	return 0;
}

/* ---- orders: reading and deriving ---------------------------------------- */

/* Splits the stored names into the order's identifier arrays. */
static void
fill_idents(const char *names, struct ra_order *o)
{
	char *copy = xstrdup(names != NULL ? names : ""), *save = NULL, *t;
	size_t cap = 0;

	for (t = strtok_r(copy, " ", &save); t != NULL;
	    t = strtok_r(NULL, " ", &save)) {
		if (o->nident == cap) {
			cap = cap ? cap * 2 : 4;
			o->ident = xrealloc(o->ident, cap * sizeof(char *));
			o->ident_type = xrealloc(o->ident_type,
			    cap * sizeof(char *));
		}
		o->ident[o->nident] = xstrdup(t);
		o->ident_type[o->nident] = xstrdup(ra_ident_type(
		    t[0] == '*' ? t + 2 : t));
		o->nident++;
	}
	free(copy);
}

static void
fill_order(const struct store_order *s, const int64_t *ids, size_t n,
    struct ra_order *o)
{
	int st = ra_status_parse(s->status);

	memset(o, 0, sizeof(*o));
	o->id = s->id;
	o->account_id = s->account_id;
	o->status = st < 0 ? RA_ST_INVALID : (enum ra_status)st;
	o->created_at = s->created_at;
	o->expires_at = s->expires_at;
	fill_idents(s->names, o);
	o->nauthz = n;
	o->authz_ids = xcalloc(n ? n : 1, sizeof(int64_t));
	memcpy(o->authz_ids, ids, n * sizeof(int64_t));
	snprintf(o->cert_serial, sizeof(o->cert_serial), "%s",
	    s->cert_serial);
	if (s->error != NULL) {
		ra_err_parse(s->error, &o->error, &o->error_detail);
		o->error_json = xstrdup(s->error);
	}
	if (s->replaces != NULL)
		o->replaces = xstrdup(s->replaces);
	/* a stored name this server no longer offers: the default */
	{
		const struct ra_acme_profile *ap =
		    ra_acme_profile_find(s->acme_profile);

		o->acme_profile = (ap ? ap : &ra_acme_profiles[0])->name;
	}
}

/*
 * RFC 8555 §7.1.6 for a pending or ready order at now: invalid when it
 * expired or any authorization is not pending or valid (error_json then
 * says why, new string), ready when all are valid, else pending.
 */
static int
derive(struct ra *ra, const struct store_order *o, const int64_t *ids,
    size_t n, enum ra_status *out, char **error_json)
{
	struct ra_err e = {0};
	int pending = 0, rc;

	*error_json = NULL;
	if (n == 0) {
		/* cannot happen through ra_order_new(): fail safe */
		ra_fail(&e, 0, RA_PROB_SERVER_INTERNAL,
		    "the order has no authorizations");
		*out = RA_ST_INVALID;
		*error_json = ra_err_json(&e);
		return 0;
	}
	if (o->expires_at <= ra_now(ra)) {
		ra_fail(&e, 0, RA_PROB_MALFORMED, "the order expired");
		*out = RA_ST_INVALID;
		*error_json = ra_err_json(&e);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct ra_authz a;
		const char *cause = NULL;
		enum ra_prob p = RA_PROB_UNAUTHORIZED;

		rc = ra_authz_load(ra, o->account_id, ids[i], &a);
		if (rc == RC_NOTFOUND) {
			/* never another account's (or a portal one) */
			ra_fail(&e, 0, RA_PROB_UNAUTHORIZED, "authorization "
			    "%lld does not belong to this account",
			    (long long)ids[i]);
			*out = RA_ST_INVALID;
			*error_json = ra_err_json(&e);
			return 0;
		}
		if (rc != 0)
			return rc;
		if (a.status == RA_ST_PENDING) {
			pending = 1;
		} else if (a.status != RA_ST_VALID) {
			for (size_t k = 0; k < a.nchall; k++)
				if (a.chall[k].status == RA_ST_INVALID &&
				    a.chall[k].error != RA_PROB_NONE) {
					p = a.chall[k].error;
					cause = a.chall[k].error_detail;
				}
			ra_fail(&e, 0, p, "authorization for %s%s is %s%s%s",
			    a.wildcard ? "*." : "", a.identifier,
			    ra_status_name(a.status), cause ? ": " : "",
			    cause ? cause : "");
			ra_sub(&e, p, a.type, a.identifier, "%s",
			    cause ? cause : ra_status_name(a.status));
			*out = RA_ST_INVALID;
			*error_json = ra_err_json(&e);
			ra_authz_clear(&a);
			return 0;
		}
		ra_authz_clear(&a);
	}
	*out = pending ? RA_ST_PENDING : RA_ST_READY;
	return 0;
}

/* Reads order id of account (0: any) with its authorization ids. */
static int
order_read(struct ra *ra, int64_t account_id, int64_t id,
    struct store_order *so, int64_t *ids, size_t *n)
{
	int rc;

	*n = 0;
	rc = store_order_get(ra->st, id, so);
	if (rc != 0)
		return rc;
	if (so->account_id == 0 ||
	    (account_id != 0 && so->account_id != account_id)) {
		store_order_clear(so);
		return RC_NOTFOUND;
	}
	rc = store_order_authz_list(ra->st, id, ids, CA_MAX_NAMES, n);
	if (rc != 0)
		store_order_clear(so);
	return rc;
}

int
ra_order_settle(struct ra *ra, int64_t order_id)
{
	int64_t ids[CA_MAX_NAMES];
	struct store_order so;
	enum ra_status st, derived;
	char *ej = NULL;
	size_t n;
	int rc;

	rc = order_read(ra, 0, order_id, &so, ids, &n);
	if (rc != 0)
		return rc == RC_NOTFOUND ? 0 : rc;	/* not an ACME one */
	st = (enum ra_status)ra_status_parse(so.status);
	if (st == RA_ST_PENDING || st == RA_ST_READY) {
		rc = derive(ra, &so, ids, n, &derived, &ej);
		if (rc == 0 && derived != st) {
			rc = store_order_set_status(ra->st, order_id,
			    so.status, ra_status_name(derived), ej, NULL,
			    NULL, 0, ra_now(ra));
			if (rc == 0 && derived == RA_ST_INVALID)
				log_info(LOG_RA, "order %lld: invalid: %s",
				    (long long)order_id, ej);
		}
		if (rc == RC_STATE)
			rc = 0;
	}
	free(ej);
	store_order_clear(&so);
	return rc;
}

/* Internal form of ra_order_get (account_id 0: any). */
static int
order_get(struct ra *ra, int64_t account_id, int64_t id, struct ra_order *out)
{
	int64_t ids[CA_MAX_NAMES];
	struct store_order so;
	size_t n;
	int rc;

	for (int attempt = 0; attempt < 3; attempt++) {
		enum ra_status st, derived;
		char *ej = NULL;

		rc = order_read(ra, account_id, id, &so, ids, &n);
		if (rc != 0)
			return rc;
		st = (enum ra_status)ra_status_parse(so.status);
		if (st != RA_ST_PENDING && st != RA_ST_READY) {
			fill_order(&so, ids, n, out);
			store_order_clear(&so);
			return 0;
		}
		rc = derive(ra, &so, ids, n, &derived, &ej);
		if (rc == 0 && derived == st) {
			fill_order(&so, ids, n, out);
			store_order_clear(&so);
			return 0;
		}
		if (rc == 0)
			rc = store_order_set_status(ra->st, id, so.status,
			    ra_status_name(derived), ej, NULL, NULL, 0,
			    ra_now(ra));
		if (rc == 0 && derived == RA_ST_INVALID)
			log_info(LOG_RA, "order %lld: invalid: %s",
			    (long long)id, ej);
		free(ej);
		store_order_clear(&so);
		if (rc != 0 && rc != RC_STATE)
			return rc;
		/* written, or moved by someone else: read again */
	}
	rc = order_read(ra, account_id, id, &so, ids, &n);
	if (rc != 0)
		return rc;
	fill_order(&so, ids, n, out);
	store_order_clear(&so);
	return 0;
}

int
ra_order_get(struct ra *ra, int64_t account_id, int64_t order_id,
    struct ra_order *out, struct ra_err *err)
{
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	if (account_id <= 0 || order_id <= 0)
		return ra_fail(err, RC_NOTFOUND, RA_PROB_MALFORMED,
		    "no such order");
	rc = order_get(ra, account_id, order_id, out);
	if (rc == RC_NOTFOUND)
		return ra_fail(err, rc, RA_PROB_MALFORMED, "no such order");
	if (rc != 0)
		return ra_internal(err, rc, "order get");
	return 0;
}

int
ra_account_orders(struct ra *ra, int64_t account_id, int64_t before,
    int64_t *ids, size_t max, size_t *n, int *more)
{
	if (n != NULL)
		*n = 0;
	if (more != NULL)
		*more = 0;
	if (ra == NULL || ids == NULL || n == NULL || max == 0 ||
	    account_id <= 0 || before < 0)
		return RC_INVAL;
	return store_order_ids_by_account(ra->st, account_id, before,
	    ra_now(ra), ids, max > 1000 ? 1000 : max, n, more);
}

/* ---- new orders ---------------------------------------------------------- */

struct new_order {
	struct ra *ra;
	int64_t account_id, contract_id;
	char **names;		/* normalised; "*.x" for wildcards */
	const char **types;	/* "dns" / "ip" */
	size_t n;
	time_t now, valid_since;
	int64_t id;
	int64_t *authz;		/* per name */
	struct ra_order *out;	/* the order as committed */
	int filled;
	struct ra_err *err;	/* a rate limit's refusal */
	const char *replaces;	/* canonical certID, or NULL */
	const char *profile;	/* ACME profile asked for, or NULL */
	int conflict;		/* another order replaces it */
};

static int
add_challenges(struct store *st, int64_t authz_id, const char *type,
    int wildcard, time_t now)
{
	static const char *const all[] = {"http-01", "dns-01", "tls-alpn-01"};
	struct store_challenge c = {0};
	uint8_t raw[32];
	char token[RA_TOKEN_LEN + 1];
	int rc;

	for (size_t i = 0; i < 3; i++) {
		/* RFC 8555 §7.1.3, §8.4: a wildcard only through dns-01;
		 * RFC 8738 §7: no dns-01 for IP addresses */
		if (wildcard && strcmp(all[i], "dns-01") != 0)
			continue;
		if (strcmp(type, "ip") == 0 && strcmp(all[i], "dns-01") == 0)
			continue;
		rc = sec_random(raw, sizeof(raw));
		if (rc != 0)
			return rc;
		ra_b64u(raw, sizeof(raw), token);
		c.authz_id = authz_id;
		c.type = (char *)all[i];
		c.status = "pending";
		c.token = token;
		c.created_at = now;
		rc = store_challenge_add(st, &c, NULL);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int
new_order_tx(struct store *st, void *arg)
{
	struct new_order *no = arg;
	struct ra *ra = no->ra;
	struct store_order o = {0};
	struct store_authz a = {0};
	struct buf names;
	time_t exp = no->now + (time_t)ra->conf.order_lifetime;
	time_t new_exp = no->now + (time_t)ra->conf.authz_lifetime;
	json_t *det = NULL, *ja;
	char actor[48], object[48], *text;
	int all_valid = 1, rc;

	/* RFC 9773 §5: one live replacement order per certificate, checked
	 * in the transaction that adds this one */
	if (no->replaces != NULL) {
		int64_t other;

		rc = store_order_replacing(st, no->replaces, no->now, &other);
		no->conflict = rc == 0;
		if (rc == 0)
			return ra_fail(no->err, RC_EXISTS,
			    RA_PROB_ALREADY_REPLACED, "the certificate %s is "
			    "already being replaced by order %lld",
			    no->replaces, (long long)other);
		if (rc != RC_NOTFOUND)
			return rc;
	}
	/* the limits first: a refused order writes nothing */
	rc = ra_limit_order(ra, st, no->account_id, no->contract_id,
	    no->names, no->types, no->n, no->replaces != NULL, no->err);
	if (rc != 0)
		return rc;
	buf_init(&names, STORE_MAX_LONG);
	/* reuse first, so that the order's expiry is known when it is
	 * inserted */
	for (size_t i = 0; i < no->n; i++) {
		const char *nm = no->names[i];
		int wild = nm[0] == '*';
		struct store_authz old;

		rc = store_authz_find(st, no->account_id, no->types[i],
		    wild ? nm + 2 : nm, wild, no->now, no->valid_since, 1,
		    &no->authz[i]);
		if (rc == RC_NOTFOUND) {
			no->authz[i] = 0;
			all_valid = 0;
			if (new_exp < exp)
				exp = new_exp;
			continue;
		}
		if (rc != 0)
			goto out;
		rc = store_authz_get(st, no->authz[i], &old);
		if (rc != 0)
			goto out;
		if (old.expires_at < exp)
			exp = old.expires_at;
		if (strcmp(old.status, "valid") != 0)
			all_valid = 0;
		store_authz_clear(&old);
	}
	for (size_t i = 0; i < no->n; i++)
		if ((rc = buf_printf(&names, "%s%s", i ? " " : "",
		    no->names[i])) != 0)
			goto out;
	o.contract_id = no->contract_id;
	o.account_id = no->account_id;
	o.profile = "dv";
	o.status = all_valid ? "ready" : "pending";
	o.names = (char *)names.data;
	o.created_at = no->now;
	o.expires_at = exp;
	o.replaces = (char *)no->replaces;
	o.acme_profile = (char *)no->profile;
	rc = store_order_add(st, &o, &no->id);
	if (rc != 0)
		goto out;
	det = json_pack("{s:I,s:I,s:[],s:[]}", "order", (json_int_t)no->id,
	    "account", (json_int_t)no->account_id, "names", "authz");
	if (det != NULL && no->replaces != NULL)
		json_object_set_new(det, "replaces",
		    json_string(no->replaces));
	for (size_t i = 0; i < no->n; i++) {
		const char *nm = no->names[i];
		int wild = nm[0] == '*';

		if (no->authz[i] == 0) {
			a.order_id = no->id;
			a.account_id = no->account_id;
			a.ident_type = (char *)no->types[i];
			a.identifier = (char *)(wild ? nm + 2 : nm);
			a.wildcard = wild;
			a.status = "pending";
			a.expires_at = new_exp;
			a.created_at = no->now;
			rc = store_authz_add(st, &a, &no->authz[i]);
			if (rc == 0)
				rc = add_challenges(st, no->authz[i],
				    no->types[i], wild, no->now);
			if (rc != 0)
				goto out;
		}
		rc = store_order_authz_add(st, no->id, (int)i, no->authz[i]);
		if (rc != 0)
			goto out;
		json_array_append_new(json_object_get(det, "names"),
		    json_string(nm));
		json_array_append_new(json_object_get(det, "authz"),
		    json_integer(no->authz[i]));
	}
	ja = det;
	det = NULL;
	text = json_dumps(ja, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(ja);
	if (text == NULL) {
		rc = RC_NOMEM;
		goto out;
	}
	snprintf(actor, sizeof(actor), "acme:account/%lld",
	    (long long)no->account_id);
	snprintf(object, sizeof(object), "order:%lld", (long long)no->id);
	rc = store_audit_append(st, actor, "acme.order.new", object, text);
	free(text);
	if (rc == 0) {
		/* the answer from what this transaction wrote: no read
		 * snapshot after it (an earlier attempt's is replaced) */
		o.id = no->id;
		ra_order_clear(no->out);
		fill_order(&o, no->authz, no->n, no->out);
		no->filled = 1;
	}
out:
	json_decref(det);
	buf_free(&names);
	return rc;
}

/* Checks one identifier of a newOrder request; normalised into out. */
static int
check_ident(struct ra *ra, const struct ra_ident *id, char out[254],
    const char **type, struct ra_err *err)
{
	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0xff, 0xff};
	struct ra_err e = {0};
	unsigned char bin[16];
	size_t len;
	int rc;

	if (id->type == NULL || id->value == NULL) {
		ra_sub(err, RA_PROB_MALFORMED, id->type ? id->type : "",
		    id->value ? id->value : "", "identifier needs a type and "
		    "a value");
		return RC_INVAL;
	}
	if (strcmp(id->type, "dns") == 0) {
		*type = "dns";
		rc = ra_name_check(ra, id->value, 1, out, &e);
		if (rc != 0)
			ra_sub(err, e.problem, "dns", id->value, "%s",
			    e.detail.msg);
		return rc;
	}
	if (strcmp(id->type, "ip") == 0) {
		*type = "ip";
		if (!ra->conf.allow_ip) {
			/* RFC 8555 6.7: a type this server does not take */
			ra_sub(err, RA_PROB_UNSUPPORTED_IDENTIFIER, "ip",
			    id->value, "IP address identifiers are not "
			    "accepted by this server");
			return RC_BADNAME;
		}
		/* RFC 8738 §3: the textual form (RFC 4291 / dotted quad,
		 * no zone id, no trailing dot, no leading zeros); stored
		 * canonical: IPv4 dotted quad, IPv6 as RFC 5952 */
		if (strnlen(id->value, INET6_ADDRSTRLEN) < INET6_ADDRSTRLEN &&
		    inet_pton(AF_INET, id->value, bin) == 1) {
			len = 4;
		} else if (strnlen(id->value, INET6_ADDRSTRLEN) <
		    INET6_ADDRSTRLEN && inet_pton(AF_INET6, id->value,
		    bin) == 1) {
			len = 16;
		} else {
			ra_sub(err, RA_PROB_MALFORMED, "ip", id->value,
			    "not an IPv4 or IPv6 address");
			return RC_BADNAME;
		}
		inet_ntop(len == 4 ? AF_INET : AF_INET6, bin, out, 254);
		/* an IPv4-mapped IPv6 address names an IPv4 host: it is
		 * validated and certified in its IPv4 form only */
		if (len == 16 && memcmp(bin, v4mapped, sizeof(v4mapped)) == 0) {
			ra_sub(err, RA_PROB_REJECTED_IDENTIFIER, "ip",
			    id->value, "IPv4-mapped IPv6 address: request "
			    "%u.%u.%u.%u instead", bin[12], bin[13], bin[14],
			    bin[15]);
			return RC_BADNAME;
		}
		/* BR 4.2.2, 7.1.2.7.12: never a reserved address under
		 * public trust */
		if (!ra->conf.trust_private &&
		    ca_ip_reserved(bin, len) != 0) {
			ra_sub(err, RA_PROB_REJECTED_IDENTIFIER, "ip", out,
			    "%s is a reserved IP address (IANA "
			    "special-purpose); it cannot be certified under "
			    "public trust", out);
			return RC_BADNAME;
		}
		return 0;
	}
	ra_sub(err, RA_PROB_UNSUPPORTED_IDENTIFIER, id->type, id->value,
	    "identifier type not supported (only dns and ip)");
	return RC_BADNAME;
}

/*
 * The RFC 9773 §5 checks of a replaced certificate that do not change
 * (whether another order replaces it is checked in the order's
 * transaction): ours, this account's, sharing an identifier with the
 * order's names. The canonical certID into cid.
 */
static int
check_replaced(struct ra *ra, int64_t account_id,
    const struct ra_certid *id, char *const *names, size_t n,
    char cid[RA_CERTID_MAX], struct ra_err *err)
{
	struct store_cert c;
	struct store_order so = {0};
	int rc, shared = 0;

	rc = ra_certid_cert(ra, id, &c);
	if (rc == RC_NOTFOUND)
		return ra_fail(err, rc, RA_PROB_MALFORMED, "\"replaces\" "
		    "names no certificate of this CA");
	if (rc != 0)
		return ra_internal(err, rc, "order new");
	if (c.order_id > 0 && (rc = store_order_get(ra->st, c.order_id,
	    &so)) != 0 && rc != RC_NOTFOUND) {
		store_cert_clear(&c);
		return ra_internal(err, rc, "order new");
	}
	if (c.order_id <= 0 || rc != 0 || so.account_id != account_id) {
		rc = ra_fail(err, RC_UNAUTH, RA_PROB_UNAUTHORIZED,
		    "the certificate %s named by \"replaces\" was not "
		    "issued to this account", c.serial);
		goto out;
	}
	for (size_t i = 0; i < n && !shared; i++) {
		const char *p = c.names != NULL ? c.names : "";
		size_t l = strlen(names[i]);

		while (*p != '\0' && !shared) {
			size_t w = strcspn(p, " ");

			shared = w == l && strncasecmp(p, names[i], l) == 0;
			p += w + (p[w] == ' ');
		}
	}
	if (!shared) {
		rc = ra_fail(err, RC_INVAL, RA_PROB_MALFORMED, "the order "
		    "shares no identifier with the certificate %s it "
		    "replaces", c.serial);
		goto out;
	}
	ra_b64u(id->aki, id->aki_len, cid);
	strcat(cid, ".");
	ra_b64u(id->serial, id->serial_len, cid + strlen(cid));
out:
	store_order_clear(&so);
	store_cert_clear(&c);
	return rc;
}

int
ra_order_new(struct ra *ra, int64_t account_id, const struct ra_ident *idents,
    size_t n, struct ra_order *out, struct ra_err *err)
{
	return ra_order_new_replacing(ra, account_id, idents, n, NULL, out,
	    err);
}

const struct ra_acme_profile ra_acme_profiles[] = {
	{"classic", "The default: valid for as long as the Baseline "
	    "Requirements allow on the day of issuance (one day under the "
	    "maximum), with CRL and OCSP", 0},
	{"shortlived", "Valid for 160 hours (6 days and 16 hours), for "
	    "clients that renew every two to three days", 160 * 3600L},
	{NULL, NULL, 0},
};

const struct ra_acme_profile *
ra_acme_profile_find(const char *name)
{
	if (name == NULL)
		return &ra_acme_profiles[0];
	for (size_t i = 0; ra_acme_profiles[i].name != NULL; i++)
		if (strcmp(ra_acme_profiles[i].name, name) == 0)
			return &ra_acme_profiles[i];
	return NULL;
}

int
ra_order_new_replacing(struct ra *ra, int64_t account_id,
    const struct ra_ident *idents, size_t n, const struct ra_certid *replaces,
    struct ra_order *out, struct ra_err *err)
{
	return ra_order_new_profile(ra, account_id, idents, n, replaces, NULL,
	    out, err);
}

int
ra_order_new_profile(struct ra *ra, int64_t account_id,
    const struct ra_ident *idents, size_t n, const struct ra_certid *replaces,
    const char *profile, struct ra_order *out, struct ra_err *err)
{
	struct new_order no = {0};
	struct ra_account acct = {0};
	struct ra_err e = {0};
	char name[254], cid[RA_CERTID_MAX];
	const char *type;
	size_t bad = 0;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL || (idents == NULL && n > 0))
		return RC_INVAL;
	if (ra_acme_profile_find(profile) == NULL)
		return ra_fail(err, RC_INVAL, RA_PROB_INVALID_PROFILE,
		    "no profile \"%.64s\"; this server offers classic and "
		    "shortlived", profile);
	rc = ra_account_get(ra, account_id, &acct, err);
	if (rc != 0)
		return rc;
	if (acct.status != RA_ST_VALID) {
		ra_account_clear(&acct);
		return ra_fail(err, RC_STATE, RA_PROB_UNAUTHORIZED,
		    "the account is not valid");
	}
	if (n == 0) {
		rc = ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
		    "an order needs at least one identifier");
		goto out;
	}
	if (n > ra->conf.max_identifiers) {
		rc = ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
		    "an order may have at most %zu identifiers",
		    ra->conf.max_identifiers);
		goto out;
	}
	no.names = xcalloc(n, sizeof(char *));
	no.types = xcalloc(n, sizeof(char *));
	no.authz = xcalloc(n, sizeof(int64_t));
	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (check_ident(ra, &idents[i], name, &type, &e) != 0) {
			bad++;
			continue;
		}
		for (k = 0; k < no.n; k++)
			if (strcmp(no.names[k], name) == 0 &&
			    strcmp(no.types[k], type) == 0)
				break;
		if (k < no.n)
			continue;	/* duplicate: merged */
		no.names[no.n] = xstrdup(name);
		no.types[no.n] = type;
		no.n++;
	}
	if (bad > 0) {
		/* RFC 8555 §6.7.1: one subproblem per identifier */
		if (err != NULL) {
			*err = e;
			if (bad == 1)
				ra_fail(err, 0, e.sub[0].problem, "%s: %s",
				    e.sub[0].value, e.sub[0].detail);
			else
				ra_fail(err, 0, RA_PROB_REJECTED_IDENTIFIER,
				    "%zu of the identifiers cannot be "
				    "issued for (see subproblems)", bad);
		}
		rc = RC_BADNAME;
		goto out;
	}
	if (replaces != NULL) {
		rc = check_replaced(ra, account_id, replaces, no.names, no.n,
		    cid, err);
		if (rc != 0)
			goto out;
		no.replaces = cid;
	}
	no.ra = ra;
	no.profile = profile;
	no.account_id = account_id;
	no.contract_id = acct.contract_id;
	no.now = ra_now(ra);
	no.valid_since = no.now - (time_t)ca_cal_dv_reuse_days(no.now) * 86400;
	no.out = out;
	no.err = err;
	rc = store_tx(ra->st, new_order_tx, &no);
	if (rc == RC_POLICY || (rc == RC_EXISTS && no.conflict)) {
		log_info(LOG_RA, "account %lld: order refused: %s",
		    (long long)account_id, err != NULL ? err->detail.msg : "");
		goto out;
	}
	if (rc != 0) {
		rc = ra_internal(err, rc, "order new");
		goto out;
	}
	log_info(LOG_RA, "order %lld: new for account %lld, %zu names",
	    (long long)no.id, (long long)account_id, no.n);
out:
	for (size_t i = 0; i < no.n; i++)
		free(no.names[i]);
	free(no.names);
	free(no.types);
	free(no.authz);
	ra_account_clear(&acct);
	return rc;
}
