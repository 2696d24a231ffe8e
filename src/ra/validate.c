/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Challenges (RFC 8555 §7.5.1, §8) and the validation jobs.
 *
 * A client's "ready" for a challenge (ra_challenge_respond()) moves it from
 * pending to processing in the store: a challenge in processing is a job,
 * so a restart loses none. Jobs run in the worker (ra_jobs_run(), for jobs
 * left over by a restart) and on request (ra_challenge_validate_now()). A
 * runner first claims the job with a lease (a conditional update), so two
 * runners never both validate, and a job whose runner died is claimed
 * again when its lease ends.
 *
 * Over ACME the answer is validated within the request instead
 * (ra_challenge_respond_now(), so that the answer to the POST already
 * carries the result): checked, validated, and written together with its
 * result in one transaction, which checks again that the challenge is
 * still pending and no other challenge of its authorization is processing
 * or valid. Nothing is stored meanwhile; until the answer to its request,
 * the client has been told nothing and may send it again.
 *
 * The outcome is written in one transaction: the challenge valid or
 * invalid; the authorization valid (method, time, evidence, BR version;
 * expiring at validated_at + the domain validation reuse period) or invalid
 * (RFC 8555: one attempt per authorization); and an audit entry
 * "validation.success" or "validation.failure" with the evidence.
 *
 * Runs in the main certdesk process, on request threads and the worker,
 * each with its own ra and validation context. Trusts the validation
 * library's verdict; the network answers it saw are only kept as evidence.
 */
#include "ra/ra_int.h"
#include "ca/ca.h"
#include "store/store.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A challenge and its authorization, checked to belong to account_id (0:
 * any ACME account). */
static int
chall_read(struct store *st, int64_t account_id, int64_t id,
    struct store_challenge *c, struct store_authz *a)
{
	int rc;

	memset(a, 0, sizeof(*a));
	if (id <= 0) {
		memset(c, 0, sizeof(*c));
		return RC_NOTFOUND;
	}
	rc = store_challenge_get(st, id, c);
	if (rc != 0)
		return rc;
	rc = store_authz_get(st, c->authz_id, a);
	if (rc == 0 && (a->account_id == 0 ||
	    (account_id != 0 && a->account_id != account_id)))
		rc = RC_NOTFOUND;
	if (rc != 0) {
		store_challenge_clear(c);
		store_authz_clear(a);
	}
	return rc;
}

/* Reads the challenge into out (after a change). */
static int
chall_out(struct ra *ra, int64_t account_id, int64_t id,
    struct ra_challenge *out, struct ra_err *err)
{
	struct store_challenge c;
	struct store_authz a;
	int rc;

	rc = chall_read(ra->st, account_id, id, &c, &a);
	if (rc == RC_NOTFOUND)
		return ra_fail(err, rc, RA_PROB_MALFORMED, "no such challenge");
	if (rc != 0)
		return ra_internal(err, rc, "challenge get");
	if (out != NULL)
		ra_chall_fill(&c, out);
	store_challenge_clear(&c);
	store_authz_clear(&a);
	return 0;
}

int
ra_challenge_get(struct ra *ra, int64_t account_id, int64_t chall_id,
    struct ra_challenge *out, struct ra_err *err)
{
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	if (account_id <= 0)
		return ra_fail(err, RC_NOTFOUND, RA_PROB_MALFORMED,
		    "no such challenge");
	return chall_out(ra, account_id, chall_id, out, err);
}

/* ---- respond ------------------------------------------------------------- */

struct respond {
	struct ra *ra;
	int64_t account_id, id;
	const char *why;	/* RC_STATE: the reason */
};

struct busy_ctx {
	int64_t self;
	int busy;
};

static int
busy_cb(const struct store_challenge *c, void *arg)
{
	struct busy_ctx *b = arg;

	if (c->id != b->self && (strcmp(c->status, "processing") == 0 ||
	    strcmp(c->status, "valid") == 0))
		b->busy = 1;
	return 0;
}

/*
 * Whether the client may answer challenge c (of authorization a) now:
 * 0, 1 when it is processing or valid already (answered: nothing to do), or
 * RC_STATE with *why. Reads only.
 */
static int
respond_check(struct ra *ra, struct store *st, const struct store_challenge *c,
    const struct store_authz *a, const char **why)
{
	struct busy_ctx b = {c->id, 0};
	enum ra_status as;
	int rc;

	*why = NULL;
	if (strcmp(c->status, "processing") == 0 ||
	    strcmp(c->status, "valid") == 0)
		return 1;	/* idempotent */
	if (strcmp(c->status, "pending") != 0) {
		*why = "the challenge is invalid (one attempt per "
		       "authorization)";
		return RC_STATE;
	}
	as = ra_authz_derived(ra, a->status, a->expires_at);
	if (as != RA_ST_PENDING) {
		*why = as == RA_ST_EXPIRED ? "the authorization expired"
		    : as == RA_ST_DEACTIVATED
		    ? "the authorization is deactivated"
		    : "the authorization is not pending";
		return RC_STATE;
	}
	rc = store_challenge_list(st, a->id, busy_cb, &b);
	if (rc != 0)
		return rc;
	if (b.busy) {
		*why = "another challenge of this authorization is already "
		       "being validated";
		return RC_STATE;
	}
	return 0;
}

static int
respond_tx(struct store *st, void *arg)
{
	struct respond *r = arg;
	struct store_challenge c;
	struct store_authz a;
	int rc;

	rc = chall_read(st, r->account_id, r->id, &c, &a);
	if (rc != 0)
		return rc;
	rc = respond_check(r->ra, st, &c, &a, &r->why);
	if (rc == 0)
		rc = store_challenge_set_status(st, r->id, "pending",
		    "processing", NULL, 0, ra_now(r->ra));
	else if (rc == 1)
		rc = 0;
	store_challenge_clear(&c);
	store_authz_clear(&a);
	return rc;
}

int
ra_challenge_respond(struct ra *ra, int64_t account_id, int64_t chall_id,
    struct ra_challenge *out, struct ra_err *err)
{
	struct respond r = {0};
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	if (account_id <= 0 || chall_id <= 0)
		return ra_fail(err, RC_NOTFOUND, RA_PROB_MALFORMED,
		    "no such challenge");
	r.ra = ra;
	r.account_id = account_id;
	r.id = chall_id;
	rc = store_tx(ra->st, respond_tx, &r);
	if (rc == RC_NOTFOUND)
		return ra_fail(err, rc, RA_PROB_MALFORMED, "no such challenge");
	if (rc == RC_STATE)
		return ra_fail(err, rc, RA_PROB_MALFORMED, "%s",
		    r.why != NULL ? r.why : "the challenge cannot be "
					    "answered now");
	if (rc != 0)
		return ra_internal(err, rc, "challenge respond");
	return chall_out(ra, account_id, chall_id, out, err);
}

/* ---- running a job ------------------------------------------------------- */

/* Runs the check (the test hook, or the validation library). */
static int
run_check(struct ra *ra, const struct val_request *req,
    struct val_result *res)
{
	struct val_ctx *v;
	int rc;

	if (ra->check != NULL)
		return ra->check(ra->check_arg, req, res);
	if ((v = ra_val_get(ra)) == NULL) {
		rc = ra_val_missing(ra, res, "validation");
		res->evidence = xstrdup("{}");
		return rc;
	}
	rc = val_check(v, req, res);
	ra_val_put(ra, v);
	/* BR 3.2.2.9: the same from the remote perspectives */
	if (ra->conf.mpic != NULL)
		(void)val_mpic_corroborate(ra->conf.mpic, req, 0, res);
	return rc;
}

/* The evidence as JSON text: val's own when it is an object, else (not
 * expected) the text as a JSON string; *tmp gets what to free. */
static const char *
evidence_raw(const char *text, char **tmp)
{
	json_t *v;

	*tmp = NULL;
	if (text != NULL && text[0] == '{')
		return text;
	v = text != NULL ? json_string(text) : json_null();
	*tmp = v != NULL ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)
			 : NULL;
	json_decref(v);
	return *tmp != NULL ? *tmp : "null";
}

struct finish {
	struct ra *ra;
	int64_t id, authz_id, account_id;
	const char *method;
	const struct val_result *res;
	time_t now;
	int answer;		/* the client's answer, validated at once: the
				 * challenge is still pending, and the checks of
				 * respond_check() are made again */
	const char *why;	/* answer, RC_STATE: the reason */
	int gone;		/* the challenge left processing meanwhile (or,
				 * answer: was answered meanwhile) */
	struct ra_challenge *out;	/* may be NULL: its state as committed */
	int filled;		/* out was filled */
};

static int
finish_tx(struct store *st, void *arg)
{
	struct finish *f = arg;
	const struct val_result *res = f->res;
	int ok = res->outcome == VAL_VALID;
	struct store_authz a;
	struct ra_err e = {0};
	json_t *ev = NULL, *det = NULL;
	char object[48], *err_json = NULL, *ev_text = NULL, *det_text = NULL;
	char *from = NULL, *tmp = NULL;
	const char *raw = evidence_raw(res->evidence, &tmp);
	int rc;

	f->gone = 0;
	if (f->filled) {	/* by an attempt that was rolled back */
		ra_challenge_clear(f->out);
		f->filled = 0;
	}
	if (!ok) {
		ra_fail(&e, 0, ra_prob_from_val(res->problem), "%s",
		    res->detail[0] != '\0' ? res->detail
					   : "validation failed");
		err_json = ra_err_json(&e);
	}
	rc = store_authz_get(st, f->authz_id, &a);
	if (rc != 0)
		goto out;
	if (f->answer) {
		struct store_challenge c;

		rc = store_challenge_get(st, f->id, &c);
		if (rc != 0)
			goto out_a;
		rc = respond_check(f->ra, st, &c, &a, &f->why);
		store_challenge_clear(&c);
		if (rc == 1) {
			f->gone = 1;
			rc = 0;
		}
		if (rc != 0 || f->gone)
			goto out_a;
	}
	rc = store_challenge_set_status(st, f->id, f->answer ? "pending"
	    : "processing", ok ? "valid" : "invalid", err_json,
	    ok ? f->now : 0, f->now);
	if (rc == RC_STATE) {
		f->gone = 1;
		goto out_a;
	}
	if (rc != 0)
		goto out_a;
	/* "validation" sorts last: the same text as printing it all sorted.
	 * The evidence is JSON val made (compact, keys sorted): parsing and
	 * printing it again here was 2 % of the ACME server's CPU. */
	ev = json_pack("{s:s,s:s,s:I}", "method", f->method, "br_version",
	    RA_BR_VERSION, "challenge", (json_int_t)f->id);
	ev_text = ra_json_with(ev, "validation", raw);
	if (ev_text == NULL) {
		rc = RC_NOMEM;
		goto out_a;
	}
	if (strcmp(a.status, "pending") == 0 && a.expires_at > f->now) {
		from = a.status;
		a.status = xstrdup(ok ? "valid" : "invalid");
		free(a.evidence);
		a.evidence = xstrdup(ev_text);
		free(a.br_version);
		a.br_version = xstrdup(RA_BR_VERSION);
		if (ok) {
			free(a.method);
			a.method = xstrdup(f->method);
			a.validated_at = f->now;
			a.expires_at = f->now +
			    (time_t)ca_cal_dv_reuse_days(f->now) * 86400;
		}
		rc = store_authz_set(st, &a, from, f->now);
		if (rc == 0 && !ok) {
			char nm[260];

			snprintf(nm, sizeof(nm), "%s%s", a.wildcard ? "*." :
			    "", a.identifier);
			rc = ra_limit_failed(f->ra, st, a.account_id,
			    a.ident_type != NULL ? a.ident_type : "dns", nm);
		}
		if (rc != 0)
			goto out_a;
		/* the order that made it: ready (or invalid) now, not at
		 * its next read; other orders sharing it are derived when
		 * read. A failure here only leaves that to the read. */
		rc = ra_order_settle(f->ra, a.order_id);
		if (rc == RC_CONFLICT)
			goto out_a;
		if (rc != 0)
			log_warn(LOG_RA, "order %lld: status not settled: %s",
			    (long long)a.order_id, rc_str(rc));
		rc = 0;
	}
	snprintf(object, sizeof(object), "authz:%lld", (long long)a.id);
	det = json_pack("{s:I,s:I,s:I,s:s,s:b,s:s,s:s,s:s,s:s,s:s}",
	    "account", (json_int_t)f->account_id, "authz", (json_int_t)a.id,
	    "challenge", (json_int_t)f->id, "identifier", a.identifier,
	    "wildcard", a.wildcard, "method", f->method, "br_version",
	    RA_BR_VERSION, "outcome", ok ? "valid" : "invalid", "problem",
	    val_problem_name(res->problem), "detail", res->detail);
	det_text = ra_json_with(det, "evidence", raw);
	if (det_text == NULL) {
		rc = RC_NOMEM;
		goto out_a;
	}
	rc = store_audit_append(st, "system",
	    ok ? "validation.success" : "validation.failure", object,
	    det_text);
	if (rc == 0 && f->out != NULL) {
		/* the answer read in this transaction, not another
		 * snapshot after it */
		struct store_challenge c;

		if (store_challenge_get(st, f->id, &c) == 0) {
			ra_challenge_clear(f->out);
			ra_chall_fill(&c, f->out);
			f->filled = 1;
			store_challenge_clear(&c);
		}
	}
out_a:
	store_authz_clear(&a);
out:
	free(from);
	json_decref(ev);
	json_decref(det);
	free(ev_text);
	free(det_text);
	free(err_json);
	free(tmp);
	return rc;
}

/*
 * Claims and runs the job of challenge id (of account_id, 0: any), or,
 * with respond, validates the client's answer to it when it is pending
 * (no job: checked, validated, written once). rc 0 when the challenge was
 * read (whether or not this call ran it); out gets its state afterwards.
 */
static int
run_job(struct ra *ra, int64_t account_id, int64_t id, int respond,
    struct ra_challenge *out, struct ra_err *err)
{
	struct store_challenge c;
	struct store_authz a;
	struct store_acme_account acct = {0};
	struct val_request req = {0};
	struct val_result res = {0};
	struct finish f = {0};
	char *keyauth = NULL, expected[64];
	time_t now = ra_now(ra);
	int rc, crc;

	rc = chall_read(ra->st, account_id, id, &c, &a);
	if (rc == RC_NOTFOUND)
		return ra_fail(err, rc, RA_PROB_MALFORMED, "no such challenge");
	if (rc != 0)
		return ra_internal(err, rc, "challenge read");
	if ((respond && strcmp(c.status, "pending") == 0) ||
	    strcmp(c.status, "processing") == 0) {
		/* the key authorization's thumbprint, in the same read
		 * snapshot as the challenge rather than after the claim */
		rc = store_acme_account_get(ra->st, a.account_id, &acct);
		if (rc != 0) {
			rc = ra_internal(err, rc, "challenge account");
			goto out;
		}
	}
	if (respond && strcmp(c.status, "pending") == 0) {
		const char *why = NULL;

		/* the client's answer: checked in this read snapshot,
		 * validated right away, and written with its result in one
		 * transaction (finish_tx checks again). No job is stored
		 * meanwhile: until the answer to this request, the client
		 * has been told nothing, and it may send it again. */
		rc = respond_check(ra, ra->st, &c, &a, &why);
		if (rc == RC_STATE) {
			rc = ra_fail(err, rc, RA_PROB_MALFORMED, "%s",
			    why != NULL ? why : "the challenge cannot be "
						"answered now");
			goto out;
		}
		if (rc != 0) {
			rc = ra_internal(err, rc, "challenge respond");
			goto out;
		}
		f.answer = 1;
	} else if (strcmp(c.status, "processing") != 0) {
		goto done;
	} else {
		rc = store_challenge_claim(ra->st, id, now,
		    now + (time_t)ra->conf.job_lease);
		if (rc == RC_STATE) {
			rc = 0;		/* someone else runs it */
			goto done;
		}
		if (rc != 0) {
			rc = ra_internal(err, rc, "challenge claim");
			goto out;
		}
	}
	/* RFC 8555 §8.1 */
	keyauth = xasprintf("%s.%s", c.token, acct.thumbprint);
	req.kind = val_kind_parse(c.type);
	req.name = a.identifier;
	req.is_ip = a.ident_type != NULL && strcmp(a.ident_type, "ip") == 0;
	req.token = c.token;
	req.key_authz = keyauth;
	if (req.kind == VAL_KIND_DNS01) {
		if (val_dns01_value(keyauth, expected, sizeof(expected)) != 0) {
			rc = ra_internal(err, RC_CRYPTO, "dns-01 value");
			goto out;
		}
		req.expected = expected;
	}
	/* no read snapshot held over the network check */
	store_rq_release(ra->st);
	crc = run_check(ra, &req, &res);
	if (crc != 0 && res.outcome == VAL_VALID) {
		/* a check that failed cannot have passed */
		res.outcome = VAL_INVALID;
		res.problem = VAL_PROB_SERVER_INTERNAL;
	}
	if (res.outcome != VAL_VALID && res.problem == VAL_PROB_NONE)
		res.problem = VAL_PROB_SERVER_INTERNAL;
	log_info(LOG_RA, "challenge %lld (%s %s%s, account %lld): %s%s%s",
	    (long long)id, c.type, a.wildcard ? "*." : "", a.identifier,
	    (long long)a.account_id,
	    res.outcome == VAL_VALID ? "valid" : "invalid",
	    res.outcome == VAL_VALID ? "" : ": ",
	    res.outcome == VAL_VALID ? "" : res.detail);
	f.ra = ra;
	f.id = id;
	f.authz_id = a.id;
	f.account_id = a.account_id;
	f.method = c.type;
	f.res = &res;
	f.now = ra_now(ra);
	f.out = out;
	rc = store_tx(ra->st, finish_tx, &f);
	if (rc == RC_STATE && f.answer && f.why != NULL) {
		rc = ra_fail(err, rc, RA_PROB_MALFORMED, "%s", f.why);
		goto out;
	}
	if (rc != 0) {
		rc = ra_internal(err, rc, "challenge result");
		goto out;
	}
done:
	if (out != NULL && !f.filled)
		rc = chall_out(ra, account_id, id, out, err);
out:
	store_challenge_clear(&c);
	store_authz_clear(&a);
	store_acme_account_clear(&acct);
	val_result_clear(&res);
	free(keyauth);
	return rc;
}

int
ra_challenge_validate_now(struct ra *ra, int64_t account_id, int64_t chall_id,
    struct ra_challenge *out, struct ra_err *err)
{
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	if (account_id <= 0 || chall_id <= 0)
		return ra_fail(err, RC_NOTFOUND, RA_PROB_MALFORMED,
		    "no such challenge");
	return run_job(ra, account_id, chall_id, 0, out, err);
}

int
ra_challenge_respond_now(struct ra *ra, int64_t account_id, int64_t chall_id,
    struct ra_challenge *out, struct ra_err *err)
{
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	if (account_id <= 0 || chall_id <= 0)
		return ra_fail(err, RC_NOTFOUND, RA_PROB_MALFORMED,
		    "no such challenge");
	return run_job(ra, account_id, chall_id, 1, out, err);
}

int
ra_jobs_run(struct ra *ra, size_t max, size_t *ran)
{
	int64_t ids[64];
	size_t n = 0, done = 0;
	time_t now;
	int rc;

	if (ran != NULL)
		*ran = 0;
	if (ra == NULL)
		return RC_INVAL;
	now = ra_now(ra);
	if (ra->last_recover == 0 || now - ra->last_recover >=
	    RA_RECOVER_EVERY) {
		size_t settled = 0;

		ra->last_recover = now;
		if (ra_orders_recover(ra, now - RA_PROCESSING_STALE,
		    &settled) == 0 && settled > 0)
			log_info(LOG_RA, "%zu interrupted order(s) settled",
			    settled);
	}
	ra_limits_gc(ra);
	if (max == 0)
		return 0;
	if (max > sizeof(ids) / sizeof(ids[0]))
		max = sizeof(ids) / sizeof(ids[0]);
	rc = store_challenge_jobs(ra->st, now, ids, max, &n);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct ra_err e = {0};

		rc = run_job(ra, 0, ids[i], 0, NULL, &e);
		if (rc != 0)
			log_warn(LOG_RA, "job challenge %lld: %s",
			    (long long)ids[i], e.detail.msg);
		else
			done++;
	}
	if (ran != NULL)
		*ran = done;
	return 0;
}
