/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Domain validation of portal orders: which method validates each name,
 * the checks, their evidence, and issuance once every name is valid.
 *
 * Each name of a portal order (an authorization of the contract) gets one
 * row in dv_validations when the order is placed (ra_dv_start): a valid
 * validation of the same name by the contract within the reuse period
 * (BR 4.2.1, ca_cal_dv_reuse_days) is reused; a name under a domain of
 * the contract marked hosted on our nameservers is validated automatically
 * ("dns-auto"; never a zone merely delegated to them, which may be another
 * customer's: see hosted_zone); other
 * names start with a mail to hostmaster@ (dv_email.c) while the policy
 * calendar allows it, else with the customer's own TXT record ("dns"). The
 * customer may switch to dns, http (a file on the website) or email.
 *
 * The row is also the job: the DV worker (ra_dv_jobs_run) claims rows whose
 * next_check_at has come, with a lease as for ACME challenges, so a restart
 * loses nothing and two workers never run one job. dns-auto runs as a
 * small state machine, one step per run, never sleeping in a thread:
 *
 *   publish  the zone must still be the contract's customer's alone
 *            (ra_domain_hosted_alone; else failure "not_hosted", tried
 *            again later); a dv_dns_records row is written first (so the
 *            record is removed whatever happens next), then the RFC 2136
 *            update adds _acme-challenge.<name> TXT <value>;   -> wait
 *   wait     every authoritative server is asked directly; all answer
 *            with the record -> check; propagation_timeout passed ->
 *            failure "timeout" (record removed), publish again later;
 *            else poll again in a second;
 *   check    the dns-01 check through the CA's own resolver, then CAA;
 *            the record is removed (its row stays until the removal
 *            worked); valid, or publish again after retry_seconds.
 *
 * dns and http rows are re-checked every retry_seconds (every 15 minutes
 * after the first hour) and on "check now" until the authorization
 * expires. Every check is stored in dv_attempts with its evidence, BR
 * version and section; a success makes the authorization valid (method,
 * validated_at, expires_at = validated_at + the reuse period, evidence)
 * and is audited; failures are audited when the problem changes. CAA is
 * checked with every validation and again before issuance when the last
 * check is older than 8 hours or was none (an operator's validation looks
 * at no CAA): ra_portal_issue() asks ra_dv_caa_ready() for every order,
 * whoever issues it (BR 3.2.2.8). A DV order is issued through
 * ra_portal_issue() when every name is valid; OV/EV orders also wait for
 * the back office (ra_portal_issue refuses them until it approved the
 * organisation; approved first, names last: issued here).
 *
 * Runs in the main certdesk process on portal request threads and the DV
 * worker thread, each with its own ra. Trusts the store, the validation
 * library's verdicts and the DNS provider's answers; every id and token
 * from a request is checked here.
 */
#include "ra/ra_int.h"
#include "ra/dv_int.h"
#include "ca/ca.h"
#include "store/store.h"
#include "util/log.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DV_VALUE_BYTES 24	/* 192 bits: the TXT value and file body */
#define DV_FILE_BYTES 16	/* the file name */
#define DV_POLL_S 1		/* dns-auto: asking our servers again */
#define DV_SLOW_AFTER 3600	/* re-checks slow down after an hour */
#define DV_SLOW_RETRY 900
#define DV_CAA_FRESH (8 * 3600)	/* BR 3.2.2.8 */

/* ---- names --------------------------------------------------------------- */

static const char *const method_names[] = {"none", "dns-auto", "email", "dns",
	"http", "operator", "reused"};

const char *
ra_dv_method_name(enum ra_dv_method m)
{
	if ((unsigned)m >= sizeof(method_names) / sizeof(method_names[0]))
		return "none";
	return method_names[m];
}

enum ra_dv_method
ra_dv_method_parse(const char *s)
{
	if (s == NULL)
		return RA_DV_NONE;
	for (size_t i = 1; i < sizeof(method_names) / sizeof(method_names[0]);
	    i++)
		if (strcmp(s, method_names[i]) == 0)
			return (enum ra_dv_method)i;
	return RA_DV_NONE;
}

const char *
ra_dv_br_section(const char *method)
{
	if (method == NULL)
		return "3.2.2.4";
	if (strcmp(method, "dns-auto") == 0 || strcmp(method, "dns") == 0)
		return "3.2.2.4.7";
	if (strcmp(method, "http") == 0)
		return "3.2.2.4.18";
	if (strcmp(method, "email") == 0)
		return "3.2.2.4.4";
	if (strcmp(method, "reused") == 0)
		return "4.2.1";
	if (strcmp(method, "caa") == 0)
		return "3.2.2.8";
	return "3.2.2.4";
}

/* RFC 8657 validationmethods label of a portal method ("ca-" labels are
 * the CA's own, RFC 8657 §4). */
static const char *
caa_label(const char *method)
{
	if (method != NULL && strcmp(method, "http") == 0)
		return "ca-http-file";
	if (method != NULL && strcmp(method, "email") == 0)
		return "ca-email";
	if (method != NULL && (strcmp(method, "dns") == 0 ||
	    strcmp(method, "dns-auto") == 0))
		return "ca-dns-change";
	/* an operator's word, or a method not known here: a record that
	 * names methods names none of these */
	return "ca-operator";
}

/* The method that proved a's name: a reused validation's is its
 * source's (ra_dv_reuse records it as "reused_method"), so that CAA's
 * validationmethods (RFC 8657) is asked about the method really used. */
static const char *
proving_method(const struct store_authz *a, const struct store_dv *v)
{
	static const char *const known[] = {"dns-auto", "dns", "http",
		"email", "operator"};
	const char *m = a->method != NULL ? a->method : v->method;
	json_t *ev;

	if (m == NULL || strcmp(m, "reused") != 0 || a->evidence == NULL)
		return m;
	ev = json_loads(a->evidence, 0, NULL);
	m = json_string_value(json_object_get(ev, "reused_method"));
	for (size_t i = 0; m != NULL && i < sizeof(known) / sizeof(known[0]);
	    i++)
		if (strcmp(m, known[i]) == 0) {
			json_decref(ev);
			return known[i];
		}
	json_decref(ev);
	return "reused";	/* unknown: no label matches a restriction */
}

/* ---- the DNS provider ---------------------------------------------------- */

void
ra_set_dnsupd(struct ra *ra, const struct val_dnsupd *u)
{
	if (ra != NULL)
		ra->dnsupd = u;
}

void
ra_set_dnsupd_ops(struct ra *ra, const struct ra_dnsupd_ops *ops, void *arg)
{
	if (ra == NULL)
		return;
	ra->dops = ops;
	ra->dops_arg = arg;
}

static int
have_provider(const struct ra *ra)
{
	return ra->dops != NULL || ra->dnsupd != NULL;
}

static int
dp_find_zone(struct ra *ra, const char *name, char *zone, size_t zonesz,
    int *ours, struct rc_detail *d)
{
	struct val_ctx *v;
	int rc;

	*ours = 0;
	if (ra->dops != NULL)
		return ra->dops->find_zone == NULL ? 0 :
		    ra->dops->find_zone(ra->dops_arg, name, zone, zonesz, ours,
		    d);
	if (ra->dnsupd == NULL)
		return 0;
	if ((v = ra_val_get(ra)) == NULL)
		return 0;
	rc = val_dnsupd_find_zone(v, ra->dnsupd, name, zone, zonesz, ours, d);
	ra_val_put(ra, v);
	return rc;
}

static int
dp_add(struct ra *ra, const char *zone, const char *owner, const char *value,
    struct rc_detail *d)
{
	if (ra->dops != NULL)
		return ra->dops->txt_add(ra->dops_arg, zone, owner, value, d);
	if (ra->dnsupd == NULL) {
		rc_detail_set(d, "DNS provider not configured");
		return RC_CONFIG;
	}
	return val_dnsupd_txt_add(ra->dnsupd, zone, owner, value, d);
}

static int
dp_delete(struct ra *ra, const char *zone, const char *owner,
    const char *value, struct rc_detail *d)
{
	if (ra->dops != NULL)
		return ra->dops->txt_delete(ra->dops_arg, zone, owner, value,
		    d);
	if (ra->dnsupd == NULL) {
		rc_detail_set(d, "DNS provider not configured");
		return RC_CONFIG;
	}
	return val_dnsupd_txt_delete(ra->dnsupd, zone, owner, value, d);
}

static int
dp_published(struct ra *ra, const char *owner, const char *value,
    size_t *nok, size_t *nservers)
{
	*nok = *nservers = 0;
	if (ra->dops != NULL)
		return ra->dops->published(ra->dops_arg, owner, value, nok,
		    nservers);
	if (ra->dnsupd == NULL)
		return RC_CONFIG;
	return val_dnsupd_published(ra->dnsupd, owner, value, nok, nservers);
}

static unsigned
dp_propagation(const struct ra *ra)
{
	unsigned t = 0;

	if (ra->dops != NULL)
		t = ra->dops->propagation_timeout;
	else if (ra->dnsupd != NULL)
		t = val_dnsupd_propagation_timeout(ra->dnsupd);
	return t ? t : 120;
}

/* ---- small helpers ------------------------------------------------------- */

static long
retry_s(const struct ra *ra)
{
	return ra->conf.dv_retry_s > 0 ? ra->conf.dv_retry_s : 30;
}

static long
lease_s(const struct ra *ra)
{
	return ra->conf.job_lease > 0 ? ra->conf.job_lease : RA_DEF_JOB_LEASE;
}

/* When a failed name is tried again. */
static time_t
next_retry(const struct ra *ra, const struct store_dv *v, time_t now)
{
	long r = retry_s(ra);

	if (now - v->created_at > DV_SLOW_AFTER && r < DV_SLOW_RETRY)
		r = DV_SLOW_RETRY;
	return now + r;
}

int
ra_dv_random(size_t nbytes, char *out)
{
	uint8_t b[48];

	if (nbytes > sizeof(b) || sec_random(b, nbytes) != 0)
		return RC_CRYPTO;
	ra_b64u(b, nbytes, out);
	sec_wipe(b, sizeof(b));
	return 0;
}

static void
set_str(char **p, const char *v)
{
	free(*p);
	*p = v != NULL ? xstrdup(v) : NULL;
}

/* The evidence text as a JSON value (an object normally, else a string). */
json_t *
ra_dv_json(const char *text)
{
	json_t *v = text != NULL ? json_loads(text, 0, NULL) : NULL;

	if (v == NULL)
		v = text != NULL ? json_string(text) : json_null();
	return v != NULL ? v : json_null();
}

char *
ra_dv_dump(json_t *v)
{
	char *s = v != NULL ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) :
	    NULL;

	return s != NULL ? s : xstrdup("{}");
}

int
ra_dv_order_load(struct ra *ra, int64_t customer_id, int64_t order_id,
    struct store_order *o)
{
	struct store_contract k = {0};
	int rc;

	memset(o, 0, sizeof(*o));
	if (order_id <= 0)
		return RC_NOTFOUND;
	rc = store_order_get(ra->st, order_id, o);
	if (rc == RC_INVAL)
		rc = RC_NOTFOUND;
	if (rc == 0 && (o->slot_id == 0 || o->contract_id == 0))
		rc = RC_NOTFOUND;	/* not a portal order */
	if (rc == 0 && customer_id != 0) {
		rc = store_contract_get(ra->st, o->contract_id, &k);
		if (rc == 0 && k.customer_id != customer_id)
			rc = RC_NOTFOUND;
		if (rc == RC_INVAL)
			rc = RC_NOTFOUND;
		store_contract_clear(&k);
	}
	if (rc != 0)
		store_order_clear(o);
	return rc;
}

/* The order's authorization ids; RC_NOTFOUND unless authz_id is one of
 * them (authz_id 0: no check). */
static int
order_authz(struct ra *ra, int64_t order_id, int64_t authz_id, int64_t *ids,
    size_t *n)
{
	int rc = store_order_authz_list(ra->st, order_id, ids, CA_MAX_NAMES,
	    n);

	if (rc != 0 || authz_id == 0)
		return rc;
	for (size_t i = 0; i < *n; i++)
		if (ids[i] == authz_id)
			return 0;
	return RC_NOTFOUND;
}

static int
order_open(const struct ra *ra, const struct store_order *o)
{
	return strcmp(o->status, "pending") == 0 && o->expires_at > ra_now(ra);
}

static int
audit(struct store *st, const char *actor, const char *action,
    int64_t authz_id, json_t *det)
{
	char object[48], *text = ra_dv_dump(det);
	int rc;

	snprintf(object, sizeof(object), "authz:%lld", (long long)authz_id);
	rc = store_audit_append(st, actor != NULL ? actor : "system", action,
	    object, text);
	free(text);
	return rc;
}

/* ---- checks -------------------------------------------------------------- */

/* Runs a check (the test hook, or the validation library). http file
 * checks go to the hook as kind http-01 with token = file name and
 * key_authz = the expected content. */
static int
run_check(struct ra *ra, const struct val_request *req, int http_file,
    struct val_result *res)
{
	struct val_ctx *v = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	if (ra->check == NULL)
		v = ra_val_get(ra);
	if (ra->check != NULL) {
		rc = ra->check(ra->check_arg, req, res);
	} else if (v == NULL) {
		rc = ra_val_missing(ra, res, "validation");
		res->evidence = xstrdup("{}");
	} else if (http_file) {
		rc = val_http_file(v, req->name, req->token, req->key_authz,
		    res);
	} else {
		rc = val_check(v, req, res);
	}
	ra_val_put(ra, v);
	/* BR 3.2.2.9: the same from the remote perspectives */
	if (v != NULL && ra->conf.mpic != NULL)
		(void)val_mpic_corroborate(ra->conf.mpic, req, http_file, res);
	if (rc != 0 && res->outcome == VAL_VALID) {
		/* a check that failed never passes */
		res->outcome = VAL_INVALID;
		res->problem = VAL_PROB_SERVER_INTERNAL;
	}
	if (res->outcome != VAL_VALID && res->problem == VAL_PROB_NONE)
		res->problem = VAL_PROB_SERVER_INTERNAL;
	if (res->evidence == NULL)
		res->evidence = xstrdup("{}");
	return rc;
}

static int
attempt(struct ra *ra, const struct store_authz *a, const char *method,
    time_t started, const char *value, const struct val_result *res,
    const char *problem)
{
	struct store_dv_attempt t = {0};

	t.authz_id = a->id;
	t.order_id = a->order_id;
	t.method = method;
	t.br_version = RA_BR_VERSION;
	t.br_section = ra_dv_br_section(method);
	t.started_at = started;
	t.finished_at = ra_now(ra);
	t.value = value;
	t.valid = res->outcome == VAL_VALID;
	t.problem = t.valid ? NULL : problem;
	t.detail = res->detail;
	t.evidence = res->evidence;
	return store_dv_attempt_add(ra->st, &t, NULL);
}

int
ra_dv_caa(struct ra *ra, const struct store_authz *a, const char *method,
    struct val_result *res)
{
	struct val_request req = {0};
	time_t t0 = ra_now(ra);
	char name[300];

	snprintf(name, sizeof(name), "%s%s", a->wildcard ? "*." : "",
	    a->identifier);
	req.kind = VAL_KIND_CAA;
	req.name = name;
	req.is_wildcard = a->wildcard;
	req.account_uri = NULL;	/* portal orders have no ACME account */
	req.method = caa_label(method);
	(void)run_check(ra, &req, 0, res);
	if (attempt(ra, a, "caa", t0, NULL, res, res->outcome == VAL_VALID ?
	    NULL : res->problem == VAL_PROB_CAA ? "caa_forbidden" :
	    "dns_error") != 0)
		log_err(LOG_RA, "authz %lld: CAA attempt not stored",
		    (long long)a->id);
	return res->outcome == VAL_VALID;
}

/* The customer's words for a failed check of method on name. */
void
ra_dv_explain(const struct val_result *res, const char *method,
    const char *name, const char *url, char problem[24], char message[400])
{
	int http = method != NULL && strcmp(method, "http") == 0;
	int autodns = method != NULL && strcmp(method, "dns-auto") == 0;
	const char *code;

	if (res->problem == VAL_PROB_CAA) {
		code = "caa_forbidden";
		snprintf(message, 400, "The CAA records of %s do not allow "
		    "this certificate authority to issue for it. Add a CAA "
		    "record that names us (or remove the restricting record) "
		    "at your DNS host; we check again automatically, or press "
		    "Check now. (%.160s)", name, res->detail);
	} else if (res->dnssec == VAL_DNSSEC_BOGUS) {
		code = "dnssec_bogus";
		snprintf(message, 400, "The DNSSEC signatures of %s do not "
		    "validate, so its DNS answers cannot be trusted. Fix "
		    "DNSSEC at your DNS host (or remove the DS record at your "
		    "registrar), then press Check now.", name);
	} else if (res->problem == VAL_PROB_DNS && !http) {
		code = "dns_error";
		snprintf(message, 400, "The nameservers of %s did not answer "
		    "correctly, so we could not look for the record. Make sure "
		    "they are reachable, then press Check now. (%.160s)", name,
		    res->detail);
	} else if (autodns) {
		code = res->problem == VAL_PROB_INCORRECT_RESPONSE ?
		    "wrong_value" : "record_not_found";
		snprintf(message, 400, "Our resolver did not yet see the "
		    "temporary record we placed for %s. Nothing to do for "
		    "you: we try again automatically. (%.160s)", name,
		    res->detail);
	} else if (!http && res->problem == VAL_PROB_INCORRECT_RESPONSE) {
		code = "wrong_value";
		snprintf(message, 400, "The TXT record at _acme-challenge.%s "
		    "has a different value. Change it to exactly the value "
		    "shown, wait a few minutes, then press Check now. "
		    "(%.160s)", name, res->detail);
	} else if (!http) {
		code = "record_not_found";
		snprintf(message, 400, "We found no TXT record at "
		    "_acme-challenge.%s. Add it at your DNS host with the "
		    "value shown, wait a few minutes, then press Check now.",
		    name);
	} else if (res->problem == VAL_PROB_INCORRECT_RESPONSE) {
		code = "wrong_content";
		snprintf(message, 400, "The file at %s does not contain the "
		    "value shown. Put exactly that value into the file, then "
		    "press Check now. (%.120s)", url, res->detail);
	} else {
		code = "file_not_found";
		snprintf(message, 400, "We could not fetch %s. Place the file "
		    "with the exact content shown on your website (reachable "
		    "over plain http), then press Check now. (%.120s)", url,
		    res->detail);
	}
	snprintf(problem, 24, "%s", code);
}

/* ---- making a name valid ------------------------------------------------- */

struct mark {
	struct ra *ra;
	int64_t authz_id;
	const char *method;	/* authorizations.method */
	const char *actor;
	json_t *evidence;	/* borrowed */
	time_t validated_at, expires_at;
	json_t *audit;		/* borrowed: audit details */
};

static int
mark_tx(struct store *st, void *arg)
{
	struct mark *m = arg;
	struct store_authz a = {0};
	struct store_dv v = {0};
	time_t now = ra_now(m->ra);
	char *ev = ra_dv_dump(m->evidence), *from = NULL;
	int rc;

	rc = store_authz_get(st, m->authz_id, &a);
	if (rc != 0)
		goto out;
	if (strcmp(a.status, "pending") != 0 || a.expires_at <= now) {
		rc = RC_STATE;
		goto out;
	}
	from = a.status;
	a.status = xstrdup("valid");
	set_str(&a.method, m->method);
	set_str(&a.evidence, ev);
	set_str(&a.br_version, RA_BR_VERSION);
	a.validated_at = m->validated_at;
	a.expires_at = m->expires_at;
	rc = store_authz_set(st, &a, from, now);
	if (rc != 0)
		goto out;
	if (store_dv_get(st, m->authz_id, &v) == 0) {
		set_str(&v.problem, NULL);
		set_str(&v.message, NULL);
		set_str(&v.stage, "idle");
		v.checked_at = now;
		v.caa_checked_at = now;
		v.next_check_at = 0;
		if (strcmp(m->method, "operator") != 0)
			set_str(&v.method, m->method);
		rc = store_dv_update(st, &v, now);
		if (rc != 0)
			goto out;
	}
	rc = audit(st, m->actor, "validation.success", m->authz_id, m->audit);
out:
	free(from);
	free(ev);
	store_dv_clear(&v);
	store_authz_clear(&a);
	return rc;
}

/* Makes a pending name valid by method, validated now. */
int
ra_dv_mark_valid(struct ra *ra, const struct store_authz *a,
    const char *method, const char *actor, json_t *evidence)
{
	struct mark m = {0};
	json_t *det;
	time_t now = ra_now(ra);
	int rc;

	m.ra = ra;
	m.authz_id = a->id;
	m.method = method;
	m.actor = actor;
	m.evidence = evidence;
	m.validated_at = now;
	m.expires_at = now + (time_t)ca_cal_dv_reuse_days(now) * 86400;
	det = json_pack("{s:I, s:I, s:s, s:b, s:s, s:s, s:s, s:O}", "order",
	    (json_int_t)a->order_id, "authz", (json_int_t)a->id, "identifier",
	    a->identifier, "wildcard", a->wildcard, "method", method,
	    "br_version", RA_BR_VERSION, "br_section",
	    ra_dv_br_section(method), "evidence", evidence);
	m.audit = det;
	rc = store_tx(ra->st, mark_tx, &m);
	json_decref(det);
	if (rc == 0)
		log_info(LOG_RA, "portal order %lld: %s%s validated by %s",
		    (long long)a->order_id, a->wildcard ? "*." : "",
		    a->identifier, method);
	return rc;
}

/* Stores a failure on the row (and audits it when the problem changed or
 * the customer asked). */
static int
note_failure(struct ra *ra, struct store_dv *v, const struct store_authz *a,
    const char *problem, const char *message, const struct val_result *res,
    time_t next, const char *actor, int force_audit)
{
	time_t now = ra_now(ra);
	int changed = v->problem == NULL || strcmp(v->problem, problem) != 0;
	int rc;

	set_str(&v->problem, problem);
	set_str(&v->message, message);
	v->checked_at = now;
	v->next_check_at = next;
	rc = store_dv_update(ra->st, v, now);
	if (rc == 0 && (changed || force_audit)) {
		json_t *det = json_pack("{s:I, s:I, s:s, s:b, s:s, s:s, s:s, "
		    "s:s, s:s, s:o}", "order", (json_int_t)a->order_id,
		    "authz", (json_int_t)a->id, "identifier", a->identifier,
		    "wildcard", a->wildcard, "method", v->method,
		    "br_version", RA_BR_VERSION, "problem", problem,
		    "detail", res != NULL ? res->detail : message, "message",
		    message, "evidence", ra_dv_json(res != NULL ?
		    res->evidence : NULL));

		rc = audit(ra->st, actor, "validation.failure", a->id, det);
		json_decref(det);
	}
	return rc;
}

/* A failure the customer must hear of: automatic validation on our
 * nameservers did not work (they were told nothing yet), or CAA or
 * DNSSEC stand in the way, whatever the method. Told once the worker's
 * batch is done (ra_dv_jobs_run), so that the names of an order that
 * failed together are in one mail; ra_notify_order decides whether the
 * customer must act, once per order and contact. */
static int
tell_customer(const char *method, const char *problem)
{
	return problem != NULL && (strcmp(method, "dns-auto") == 0 ||
	    strcmp(problem, "caa_forbidden") == 0 ||
	    strcmp(problem, "dnssec_bogus") == 0);
}

/* ---- issuance ------------------------------------------------------------ */

/*
 * Did CAA permit us for the name within the last 8 hours? The row's
 * caa_checked_at is the last look that did (set with every validation and
 * reuse, and by ra_dv_caa_ready). An operator's validation looks at no
 * CAA: only a look after it counts. No row, no look.
 */
static int
caa_fresh(const struct store_authz *a, const struct store_dv *v, int row,
    time_t now)
{
	if (!row || v->caa_checked_at == 0 || v->caa_checked_at > now ||
	    now - v->caa_checked_at > DV_CAA_FRESH)
		return 0;
	return a->method == NULL || strcmp(a->method, "operator") != 0 ||
	    v->caa_checked_at >= a->validated_at;
}

int
ra_dv_caa_ready(struct ra *ra, const int64_t *ids, size_t n,
    struct ra_err *err)
{
	time_t now = ra_now(ra);
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct store_authz a = {0};
		struct store_dv v = {0};
		struct val_result res = {0};
		const char *m;
		char pb[24], msg[400];
		int row = 0;

		rc = store_authz_get(ra->st, ids[i], &a);
		if (rc == 0) {
			rc = store_dv_get(ra->st, a.id, &v);
			row = rc == 0;
			if (rc == RC_NOTFOUND)
				rc = 0;	/* looked up every time */
		}
		if (rc != 0) {
			rc = ra_internal(err, rc, "issue: CAA");
			goto next;
		}
		if (caa_fresh(&a, &v, row, now))
			goto next;
		/* BR 3.2.2.8: CAA again, the last look is old (or none),
		 * with the RFC 8657 method that proved the name */
		m = proving_method(&a, &v);
		if (ra_dv_caa(ra, &a, m, &res)) {
			if (row) {
				v.caa_checked_at = now;
				set_str(&v.problem, NULL);
				set_str(&v.message, NULL);
				v.next_check_at = 0;
				rc = store_dv_update(ra->st, &v, now);
				if (rc != 0)
					rc = ra_internal(err, rc,
					    "issue: CAA");
			}
			goto next;
		}
		/* the customer sees why on the name, and the DV worker looks
		 * again (run_job) */
		ra_dv_explain(&res, m, a.identifier, "", pb, msg);
		if (row && note_failure(ra, &v, &a, pb, msg, &res,
		    next_retry(ra, &v, now), "system", 0) == 0 &&
		    strcmp(pb, "dns_error") != 0)
			(void)ra_notify_order(ra, a.order_id, "action");
		log_info(LOG_RA, "portal order %lld: not issued: CAA of "
		    "%s%s: %s", (long long)a.order_id, a.wildcard ? "*." : "",
		    a.identifier, res.detail);
		if (res.problem == VAL_PROB_CAA)
			rc = ra_fail(err, RC_STATE, RA_PROB_CAA, "not issued: "
			    "the CAA records of %s%s do not allow this "
			    "certificate authority to issue for it",
			    a.wildcard ? "*." : "", a.identifier);
		else
			rc = ra_fail(err, RC_STATE, RA_PROB_CAA, "not issued: "
			    "the CAA records of %s%s could not be checked "
			    "(%.120s)", a.wildcard ? "*." : "", a.identifier,
			    res.detail);
next:
		val_result_clear(&res);
		store_dv_clear(&v);
		store_authz_clear(&a);
	}
	return rc;
}

int
ra_dv_maybe_issue(struct ra *ra, int64_t order_id, int *issued)
{
	struct store_order o = {0};
	int64_t ids[CA_MAX_NAMES];
	size_t n = 0;
	time_t now = ra_now(ra);
	time_t since = now - (time_t)ca_cal_dv_reuse_days(now) * 86400;
	struct ra_err e = {0};
	int rc, ready = 1;

	if (issued != NULL)
		*issued = 0;
	rc = ra_dv_order_load(ra, 0, order_id, &o);
	if (rc != 0)
		return rc;
	/* OV/EV too: ra_portal_issue() refuses (RC_STATE) until the back
	 * office approved the organisation; approved first, the names
	 * last: issued here */
	if (!order_open(ra, &o))
		goto out;
	rc = order_authz(ra, o.id, 0, ids, &n);
	for (size_t i = 0; rc == 0 && ready && i < n; i++) {
		struct store_authz a = {0};

		/* valid, and within today's reuse period (BR 4.2.1) */
		rc = store_authz_get(ra->st, ids[i], &a);
		if (rc == 0 && (strcmp(a.status, "valid") != 0 ||
		    a.expires_at <= now || a.validated_at < since))
			ready = 0;
		store_authz_clear(&a);
	}
	if (rc != 0 || !ready || n == 0)
		goto out;
	/* CAA is looked at again there when the last look is older than 8
	 * hours (ra_dv_caa_ready) */
	rc = ra_portal_issue(ra, o.id, &e);
	if (rc == 0 && issued != NULL)
		*issued = 1;
	if (rc == RC_STATE) {
		/* organisation validation pending, CAA forbids (the name
		 * says so), or issued by another */
		log_info(LOG_RA, "portal order %lld: names validated; %s",
		    (long long)o.id, e.detail.msg);
		rc = 0;
	} else if (rc != 0) {
		log_warn(LOG_RA, "portal order %lld: not issued: %s",
		    (long long)o.id, e.detail.msg);
	}
out:
	store_order_clear(&o);
	return rc;
}

/* ---- start --------------------------------------------------------------- */

/* Says in the log why name, under a hosted domain of order_id's
 * contract, is not validated automatically (ra_domain_hosted_alone's rc
 * and other): for the operator, who must settle it. */
static void
not_alone(int64_t order_id, const char *name, int rc,
    const struct store_domain *other)
{
	if (rc == RC_POLICY)
		log_warn(LOG_RA, "portal order %lld: %s: not validated "
		    "automatically: %s is a hosted domain of contract %lld of "
		    "customer %lld too (remove the one that is not theirs: "
		    "admin domain remove --id ID)", (long long)order_id, name,
		    other->name ? other->name : "?",
		    (long long)other->contract_id,
		    (long long)other->customer_id);
	else if (rc == RC_BADNAME)
		log_warn(LOG_RA, "portal order %lld: %s: not validated "
		    "automatically: the contract's hosted domain %s is a "
		    "public suffix", (long long)order_id, name,
		    other->name ? other->name : "?");
	else if (rc != RC_NOTFOUND)
		log_warn(LOG_RA, "portal order %lld: %s: not validated "
		    "automatically: %s", (long long)order_id, name,
		    rc_str(rc));
}

/*
 * Does certdesk place the record itself? Only for a name under a domain of
 * the order's own contract that is marked hosted on our nameservers, and
 * that no other customer holds as hosted too, nor a parent or child of it
 * (ra_domain_hosted_alone: a store made before `admin domain add` refused
 * such pairs may have them; then neither is validated automatically):
 * *zone gets the zone's apex. A zone that is merely delegated to our
 * nameservers may be another customer's (or nobody's here): a record
 * certdesk writes there proves nothing about the applicant, so such a
 * name is validated by the customer (email, a DNS record or a file), as
 * any other.
 */
static int
hosted_zone(struct ra *ra, const struct store_order *o, const char *name,
    char *zone, size_t zonesz)
{
	struct rc_detail d = {""};
	struct store_domain other = {0};
	char apex[VAL_MAX_NAME + 1] = "";
	int hosted = 0, ours = 0, rc;

	if (store_dv_domain_of(ra->st, o->contract_id, name, &hosted, zone,
	    zonesz) != 0 || !hosted) {
		zone[0] = '\0';
		return 0;
	}
	rc = ra_domain_hosted_alone(ra->st, o->contract_id, name, &other);
	if (rc != 0) {
		not_alone(o->id, name, rc, &other);
		store_domain_clear(&other);
		zone[0] = '\0';
		return 0;
	}
	/* the zone's real apex when the resolver knows it (the contract's
	 * domain may lie below it) */
	if (dp_find_zone(ra, name, apex, sizeof(apex), &ours, &d) == 0 &&
	    apex[0] != '\0')
		snprintf(zone, zonesz, "%s", apex);
	return 1;
}

struct reuse {
	struct ra *ra;
	const struct store_authz *a;
	const struct store_authz *src;
	struct store_dv *v;
	json_t *evidence, *audit;
};

static int
reuse_tx(struct store *st, void *arg)
{
	struct reuse *r = arg;
	struct store_authz a = {0};
	time_t now = ra_now(r->ra);
	char *ev = ra_dv_dump(r->evidence), *from = NULL;
	int rc;

	rc = store_dv_add(st, r->v);
	if (rc == 0)
		rc = store_authz_get(st, r->a->id, &a);
	if (rc != 0)
		goto out;
	if (strcmp(a.status, "pending") != 0) {
		rc = RC_STATE;
		goto out;
	}
	from = a.status;
	a.status = xstrdup("valid");
	set_str(&a.method, "reused");
	set_str(&a.evidence, ev);
	set_str(&a.br_version, RA_BR_VERSION);
	/* the reuse period runs from the original validation */
	a.validated_at = r->src->validated_at;
	a.expires_at = r->src->expires_at;
	rc = store_authz_set(st, &a, from, now);
	if (rc == 0) {
		struct store_dv_attempt t = {0};

		t.authz_id = a.id;
		t.order_id = a.order_id;
		t.method = "reused";
		t.br_version = RA_BR_VERSION;
		t.br_section = ra_dv_br_section("reused");
		t.started_at = t.finished_at = now;
		t.valid = 1;
		t.detail = "an earlier validation of the contract was reused";
		t.evidence = ev;
		rc = store_dv_attempt_add(st, &t, NULL);
	}
	if (rc == 0)
		rc = audit(st, "system", "validation.success", a.id, r->audit);
out:
	free(from);
	free(ev);
	store_authz_clear(&a);
	return rc;
}

/* Reuses a valid validation of the contract; 1 when done. */
static int
try_reuse(struct ra *ra, const struct store_order *o,
    const struct store_authz *a, struct store_dv *v)
{
	struct store_authz src = {0};
	struct val_result caa = {0};
	struct reuse r = {0};
	time_t now = ra_now(ra);
	int64_t sid = 0;
	int done = 0;

	if (store_dv_reusable(ra->st, o->contract_id, a->identifier,
	    a->wildcard, now - (time_t)ca_cal_dv_reuse_days(now) * 86400, now,
	    a->id, &sid) != 0 || store_authz_get(ra->st, sid, &src) != 0)
		goto out;
	/* CAA is checked now, as for a new validation */
	if (!ra_dv_caa(ra, a, src.method, &caa))
		goto out;
	set_str(&v->method, "reused");
	v->caa_checked_at = now;
	v->checked_at = now;
	r.ra = ra;
	r.a = a;
	r.src = &src;
	r.v = v;
	r.evidence = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:I, "
	    "s:o, s:o}", "method", "reused", "br_version", RA_BR_VERSION,
	    "br_section", ra_dv_br_section("reused"), "reused_authz",
	    (json_int_t)src.id, "reused_order", (json_int_t)src.order_id,
	    "reused_method", src.method ? src.method : "", "validated_at",
	    (json_int_t)src.validated_at, "expires_at",
	    (json_int_t)src.expires_at, "original_evidence",
	    ra_dv_json(src.evidence), "caa", ra_dv_json(caa.evidence));
	r.audit = json_pack("{s:I, s:I, s:s, s:b, s:s, s:s, s:O}", "order",
	    (json_int_t)o->id, "authz", (json_int_t)a->id, "identifier",
	    a->identifier, "wildcard", a->wildcard, "method", "reused",
	    "br_version", RA_BR_VERSION, "evidence", r.evidence);
	if (store_tx(ra->st, reuse_tx, &r) == 0) {
		done = 1;
		log_info(LOG_RA, "portal order %lld: %s reuses the validation "
		    "of authz %lld", (long long)o->id, a->identifier,
		    (long long)src.id);
	}
	json_decref(r.evidence);
	json_decref(r.audit);
out:
	val_result_clear(&caa);
	store_authz_clear(&src);
	return done;
}

/* Sets up the validation of one pending name without a row. */
static int
start_one(struct ra *ra, const struct store_order *o,
    const struct store_authz *a)
{
	struct store_dv v = {0};
	char value[64], file[40], zone[VAL_MAX_NAME + 1] = "";
	char warn[240];
	time_t now = ra_now(ra);
	int rc;

	if ((rc = ra_dv_random(DV_VALUE_BYTES, value)) != 0 ||
	    (rc = ra_dv_random(DV_FILE_BYTES, file)) != 0)
		return rc;
	v.authz_id = a->id;
	v.order_id = o->id;
	v.value = xstrdup(value);
	v.http_file = xstrdup(file);
	v.stage = xstrdup("idle");
	v.created_at = now;
	if (try_reuse(ra, o, a, &v)) {
		store_dv_clear(&v);
		return 0;
	}
	v.hosted = hosted_zone(ra, o, a->identifier, zone, sizeof(zone));
	if (v.hosted) {
		set_str(&v.method, "dns-auto");
		set_str(&v.zone, zone);
		set_str(&v.stage, "publish");
		v.next_check_at = now;
	} else if (!a->wildcard && ra_dv_email_allowed(ra, warn,
	    sizeof(warn))) {
		/* a wildcard only through DNS (DESIGN.md): the customer
		 * places the record; no mail goes to the hostmaster */
		set_str(&v.method, "email");
		set_str(&v.email_local, "hostmaster");
		v.next_check_at = a->expires_at;	/* expiry only */
	} else {
		set_str(&v.method, "dns");
		v.next_check_at = now + retry_s(ra);
	}
	rc = store_dv_add(ra->st, &v);
	if (rc == RC_EXISTS)
		rc = 0;		/* someone else started it */
	else if (rc == 0 && strcmp(v.method, "email") == 0) {
		struct ra_err e = {0};

		if (ra_dv_email_send(ra, o, a, "hostmaster", NULL, "system",
		    1, &e) != 0)
			log_warn(LOG_RA, "authz %lld: validation mail: %s",
			    (long long)a->id, e.detail.msg);
	}
	if (rc == 0)
		log_info(LOG_RA, "portal order %lld: %s%s by %s",
		    (long long)o->id, a->wildcard ? "*." : "", a->identifier,
		    v.method ? v.method : "?");
	store_dv_clear(&v);
	return rc;
}

int
ra_dv_start(struct ra *ra, int64_t order_id, struct ra_err *err)
{
	struct store_order o = {0};
	int64_t ids[CA_MAX_NAMES];
	size_t n = 0;
	time_t now;
	int rc, any = 0;

	if (ra == NULL)
		return RC_INVAL;
	now = ra_now(ra);
	rc = ra_dv_order_load(ra, 0, order_id, &o);
	if (rc == RC_NOTFOUND)
		return ra_fail(err, rc, RA_PROB_MALFORMED,
		    "no portal order with id %lld", (long long)order_id);
	if (rc != 0)
		return ra_internal(err, rc, "dv start");
	if (!order_open(ra, &o))
		goto out;
	rc = order_authz(ra, o.id, 0, ids, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct store_authz a = {0};
		struct store_dv v = {0};

		rc = store_authz_get(ra->st, ids[i], &a);
		if (rc == 0 && strcmp(a.status, "pending") == 0 &&
		    a.expires_at > now &&
		    store_dv_get(ra->st, a.id, &v) == RC_NOTFOUND) {
			rc = start_one(ra, &o, &a);
			any = 1;
		}
		store_dv_clear(&v);
		store_authz_clear(&a);
	}
	if (rc != 0) {
		rc = ra_internal(err, rc, "dv start");
		goto out;
	}
	if (any)
		(void)ra_dv_maybe_issue(ra, o.id, NULL);
out:
	store_order_clear(&o);
	return rc;
}

/* ---- the customer's view ------------------------------------------------- */

static void
fill_state(struct ra *ra, const struct store_order *o,
    const struct store_authz *a, const struct store_dv *v,
    struct ra_dv_state *s)
{
	enum ra_status st = ra_authz_derived(ra, a->status, a->expires_at);

	memset(s, 0, sizeof(*s));
	s->authz_id = a->id;
	snprintf(s->name, sizeof(s->name), "%s", a->identifier);
	s->wildcard = a->wildcard;
	snprintf(s->status, sizeof(s->status), "%s",
	    st == RA_ST_PENDING ? "pending" : st == RA_ST_VALID ? "valid" :
	    st == RA_ST_EXPIRED ? "expired" : "invalid");
	if (st == RA_ST_VALID || st == RA_ST_EXPIRED) {
		s->validated_at = a->validated_at;
		s->expires_at = a->expires_at;
	}
	if (a->method != NULL && st != RA_ST_PENDING)
		s->method = ra_dv_method_parse(a->method);
	else if (v != NULL)
		s->method = ra_dv_method_parse(v->method);
	s->email_allowed = ra_dv_email_allowed(ra, s->email_warning,
	    sizeof(s->email_warning));
	/* the addresses "use another method" offers (BR 3.2.2.4.4) */
	if (s->email_allowed && !a->wildcard && st == RA_ST_PENDING)
		s->n_email_adns = ra_dv_email_adns(ra, o->contract_id,
		    a->identifier, s->email_adns, RA_DV_MAX_ADNS);
	if (v == NULL)
		return;
	s->hosted = v->hosted;
	snprintf(s->dns_owner, sizeof(s->dns_owner), "_acme-challenge.%s",
	    a->identifier);
	snprintf(s->dns_value, sizeof(s->dns_value), "%s", v->value);
	if (!a->wildcard)
		snprintf(s->http_url, sizeof(s->http_url), "http://%s/"
		    ".well-known/pki-validation/%s.txt", a->identifier,
		    v->http_file);
	snprintf(s->http_body, sizeof(s->http_body), "%s", v->value);
	if (v->problem != NULL)
		snprintf(s->problem, sizeof(s->problem), "%s", v->problem);
	if (v->message != NULL)
		snprintf(s->message, sizeof(s->message), "%s", v->message);
	s->checked_at = v->checked_at;
	if (st == RA_ST_PENDING && order_open(ra, o) &&
	    strcmp(v->method, "email") != 0)
		s->next_check_at = v->next_check_at;	/* email: none */
	if (strcmp(v->method, "email") == 0)
		ra_dv_email_state(ra, a, v, s);
	if (st == RA_ST_EXPIRED && s->problem[0] == '\0' &&
	    strcmp(a->status, "pending") == 0) {
		snprintf(s->problem, sizeof(s->problem), "expired");
		snprintf(s->message, sizeof(s->message), "The time to "
		    "validate %s ran out. Set up the certificate again to "
		    "start a new validation.", a->identifier);
	}
}

int
ra_dv_list(struct ra *ra, int64_t customer_id, int64_t order_id,
    struct ra_dv_state **out, size_t *n)
{
	struct store_order o = {0};
	struct ra_dv_state *v = NULL;
	int64_t ids[CA_MAX_NAMES];
	size_t cnt = 0;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (ra == NULL || out == NULL || n == NULL)
		return RC_INVAL;
	rc = ra_dv_order_load(ra, customer_id, order_id, &o);
	if (rc != 0)
		return rc;
	if (order_open(ra, &o))
		(void)ra_dv_start(ra, o.id, NULL);	/* rows made lazily */
	rc = order_authz(ra, o.id, 0, ids, &cnt);
	if (rc == 0)
		v = xcalloc(cnt ? cnt : 1, sizeof(*v));
	for (size_t i = 0; rc == 0 && i < cnt; i++) {
		struct store_authz a = {0};
		struct store_dv d = {0};
		int have;

		rc = store_authz_get(ra->st, ids[i], &a);
		if (rc != 0)
			break;
		have = store_dv_get(ra->st, a.id, &d) == 0;
		fill_state(ra, &o, &a, have ? &d : NULL, &v[i]);
		store_dv_clear(&d);
		store_authz_clear(&a);
	}
	store_order_clear(&o);
	if (rc != 0) {
		free(v);
		return rc;
	}
	*out = v;
	*n = cnt;
	return 0;
}

/* The order, the name and its row for a customer action; err filled. */
static int
action_load(struct ra *ra, int64_t customer_id, int64_t order_id,
    int64_t authz_id, struct store_order *o, struct store_authz *a,
    struct store_dv *v, struct ra_err *err)
{
	int64_t ids[CA_MAX_NAMES];
	size_t n = 0;
	int rc;

	memset(a, 0, sizeof(*a));
	memset(v, 0, sizeof(*v));
	rc = ra_dv_order_load(ra, customer_id, order_id, o);
	if (rc == 0)
		rc = order_authz(ra, o->id, authz_id, ids, &n);
	if (rc == 0)
		rc = store_authz_get(ra->st, authz_id, a);
	if (rc == RC_NOTFOUND || rc == RC_INVAL)
		return ra_fail(err, RC_NOTFOUND, RA_PROB_MALFORMED,
		    "no such order or name");
	if (rc != 0)
		return ra_internal(err, rc, "dv: load");
	if (!order_open(ra, o) || strcmp(a->status, "pending") != 0 ||
	    a->expires_at <= ra_now(ra))
		return ra_fail(err, RC_STATE, RA_PROB_MALFORMED, "%s is %s: "
		    "nothing to validate", a->identifier,
		    strcmp(a->status, "valid") == 0 ? "already validated" :
		    !order_open(ra, o) ? "in an order that is closed" :
		    "no longer pending");
	rc = store_dv_get(ra->st, a->id, v);
	if (rc == RC_NOTFOUND) {
		(void)ra_dv_start(ra, o->id, NULL);
		rc = store_dv_get(ra->st, a->id, v);
	}
	if (rc != 0)
		return ra_internal(err, rc, "dv: row");
	return 0;
}

int
ra_dv_choose(struct ra *ra, int64_t customer_id, int64_t order_id,
    int64_t authz_id, enum ra_dv_method m, const char *email_local,
    const char *actor, struct ra_err *err)
{
	struct store_order o = {0};
	struct store_authz a = {0};
	struct store_dv v = {0};
	char old[16], warn[240], local[16];
	int64_t handed = 0;	/* the name the link went to */
	const char *at = NULL;
	time_t now;
	int rc;

	if (ra == NULL)
		return RC_INVAL;
	now = ra_now(ra);
	rc = action_load(ra, customer_id, order_id, authz_id, &o, &a, &v,
	    err);
	if (rc != 0)
		goto out;
	snprintf(old, sizeof(old), "%s", v.method);
	/* DESIGN.md: a wildcard only through DNS */
	if (a.wildcard && (m == RA_DV_EMAIL || m == RA_DV_HTTP)) {
		rc = ra_fail(err, RC_POLICY, RA_PROB_REJECTED_IDENTIFIER,
		    "A wildcard name can only be validated through DNS.");
		goto out;
	}
	switch (m) {
	case RA_DV_EMAIL:
		if (email_local == NULL || email_local[0] == '\0')
			email_local = "hostmaster";
		/* "local" or "local@adn" */
		at = strchr(email_local, '@');
		snprintf(local, sizeof(local), "%.*s", at != NULL ?
		    (int)(at - email_local) : (int)strlen(email_local),
		    email_local);
		if (!ra_dv_email_local_ok(local) || (at != NULL &&
		    !ra_dv_adn_ok(a.identifier, at + 1))) {
			rc = ra_fail(err, RC_INVAL, RA_PROB_MALFORMED, "Choose "
			    "one of admin, administrator, webmaster, "
			    "hostmaster or postmaster at %s or a domain it "
			    "belongs to.", a.identifier);
			goto out;
		}
		if (!ra_dv_email_allowed(ra, warn, sizeof(warn))) {
			rc = ra_fail(err, RC_POLICY,
			    RA_PROB_REJECTED_IDENTIFIER,
			    "Validation by email is no longer allowed; add "
			    "the DNS record instead.");
			goto out;
		}
		if (strcmp(v.method, "email") == 0) {
			char to[320];
			const char *cur;

			ra_dv_email_to(ra, &o, &a, &v, to, sizeof(to));
			cur = strchr(to, '@');
			if (v.email_local != NULL &&
			    strcmp(v.email_local, local) == 0 &&
			    (at == NULL || (cur != NULL &&
			    strcmp(cur + 1, at + 1) == 0))) {
				rc = 0;		/* already so: no new mail */
				goto out;
			}
		}
		rc = ra_dv_email_send(ra, &o, &a, local, at != NULL ? at + 1 :
		    NULL, actor, 0, err);
		if (rc != 0)
			goto out;
		goto audit_change;
	case RA_DV_DNS:
		break;
	case RA_DV_HTTP:
		break;
	case RA_DV_DNS_AUTO:
		if (!v.hosted) {
			rc = ra_fail(err, RC_POLICY,
			    RA_PROB_REJECTED_IDENTIFIER,
			    "%s is not under a domain of this contract that "
			    "is hosted on our nameservers, so we cannot place "
			    "the record for you.", a.identifier);
			goto out;
		}
		break;
	default:
		rc = ra_fail(err, RC_INVAL, RA_PROB_MALFORMED, "This "
		    "validation method cannot be chosen.");
		goto out;
	}
	if (strcmp(v.method, ra_dv_method_name(m)) == 0)
		goto out;	/* nothing changes */
	/* the link goes to a name still waiting for it (that one's state,
	 * not this one's, says whether it still works), else it is retired */
	if (strcmp(v.method, "email") == 0) {
		int64_t tok = 0, w = ra_dv_email_waiter(ra, &o, &a, &tok);

		if (w == 0)
			(void)store_dv_token_retire(ra->st, a.id);
		else if (store_dv_token_hand(ra->st, tok, w) == 0)
			handed = w;
	}
	set_str(&v.method, ra_dv_method_name(m));
	set_str(&v.email_local, NULL);
	set_str(&v.problem, NULL);
	set_str(&v.message, NULL);
	set_str(&v.stage, m == RA_DV_DNS_AUTO ? "publish" : "idle");
	v.published_at = 0;
	/* the customer places the record or file first: a first look soon */
	v.next_check_at = m == RA_DV_DNS_AUTO ? now : now + retry_s(ra);
	rc = store_dv_update(ra->st, &v, now);
	if (rc != 0) {
		rc = ra_internal(err, rc, "dv choose");
		goto out;
	}
audit_change:
	{
		json_t *det = json_pack("{s:I, s:I, s:s, s:s, s:s}", "order",
		    (json_int_t)o.id, "authz", (json_int_t)a.id, "identifier",
		    a.identifier, "from", old, "to", ra_dv_method_name(m));

		if (email_local != NULL && m == RA_DV_EMAIL)
			json_object_set_new(det, "email_local",
			    json_string(local));
		if (at != NULL && m == RA_DV_EMAIL)
			json_object_set_new(det, "email_domain",
			    json_string(at + 1));
		if (handed != 0)
			json_object_set_new(det, "old_link_to_authz",
			    json_integer(handed));
		rc = audit(ra->st, actor, "validation.method", a.id, det);
		json_decref(det);
		if (rc != 0)
			rc = ra_internal(err, rc, "dv choose: audit");
	}
	log_info(LOG_RA, "portal order %lld: %s now by %s (was %s)",
	    (long long)o.id, a.identifier, ra_dv_method_name(m), old);
out:
	store_dv_clear(&v);
	store_authz_clear(&a);
	store_order_clear(&o);
	return rc;
}

/* ---- running a job ------------------------------------------------------- */

/* Removes the record of row r; 0 when gone. */
static int
remove_record(struct ra *ra, struct store_dv_record *r, const char *actor)
{
	struct rc_detail d = {""};
	time_t now = ra_now(ra);
	int rc = dp_delete(ra, r->zone, r->owner, r->value, &d);

	if (rc == 0) {
		json_t *det = json_pack("{s:s, s:s, s:s}", "zone", r->zone,
		    "owner", r->owner, "value", r->value);

		(void)store_dv_record_done(ra->st, r->id);
		(void)audit(ra->st, actor, "validation.dns.removed",
		    r->authz_id, det);
		json_decref(det);
		log_info(LOG_RA, "temporary record %s TXT removed", r->owner);
	} else {
		long back = retry_s(ra);

		for (int k = 0; k < r->attempts && back < 3600; k++)
			back *= 2;
		if (back > 3600)
			back = 3600;
		(void)store_dv_record_failed(ra->st, r->id,
		    rc_detail_str(&d, rc), now + back);
		log_warn(LOG_RA, "temporary record %s TXT: removal failed "
		    "(again in %ld s): %s", r->owner, back,
		    rc_detail_str(&d, rc));
	}
	return rc;
}

/* The name's temporary record goes now (or is left to the cleanup). */
static void
drop_record(struct ra *ra, int64_t authz_id)
{
	struct store_dv_record r = {0};

	if (store_dv_record_of(ra->st, authz_id, &r) == 0 &&
	    store_dv_record_claim(ra->st, r.id, ra_now(ra), ra_now(ra) +
	    lease_s(ra)) == 0)
		(void)remove_record(ra, &r, "system");
	store_dv_record_clear(&r);
}

/* A check succeeded: CAA, then valid. */
static int
succeed(struct ra *ra, struct store_dv *v, const struct store_authz *a,
    const struct val_result *res, const char *actor, int *valid)
{
	struct val_result caa = {0};
	json_t *ev;
	int rc;

	if (!ra_dv_caa(ra, a, v->method, &caa)) {
		char pb[24], msg[400];

		ra_dv_explain(&caa, v->method, a->identifier, "", pb, msg);
		rc = note_failure(ra, v, a, pb, msg, &caa,
		    next_retry(ra, v, ra_now(ra)), actor, 1);
		val_result_clear(&caa);
		return rc;
	}
	ev = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "method", v->method,
	    "br_version", RA_BR_VERSION, "br_section",
	    ra_dv_br_section(v->method), "value", v->value, "validation",
	    ra_dv_json(res->evidence), "caa", ra_dv_json(caa.evidence));
	rc = ra_dv_mark_valid(ra, a, v->method, actor, ev);
	json_decref(ev);
	val_result_clear(&caa);
	if (rc == RC_STATE)
		return 0;	/* no longer pending: someone else was first */
	if (rc == 0 && valid != NULL)
		*valid = 1;
	return rc;
}

/* dns and http: one check. */
static int
check_customer(struct ra *ra, struct store_dv *v, const struct store_authz *a,
    const char *actor, int asked, int *valid)
{
	struct val_request req = {0};
	struct val_result res = {0};
	int http = strcmp(v->method, "http") == 0;
	char url[400], pb[24], msg[400];
	time_t t0 = ra_now(ra);
	int rc;

	snprintf(url, sizeof(url), "http://%s/.well-known/pki-validation/"
	    "%s.txt", a->identifier, v->http_file);
	req.name = a->identifier;
	if (http) {
		req.kind = VAL_KIND_HTTP01;
		req.token = v->http_file;
		req.key_authz = v->value;
	} else {
		req.kind = VAL_KIND_DNS01;
		req.expected = v->value;
	}
	(void)run_check(ra, &req, http, &res);
	ra_dv_explain(&res, v->method, a->identifier, url, pb, msg);
	(void)attempt(ra, a, v->method, t0, v->value, &res, pb);
	if (res.outcome == VAL_VALID)
		rc = succeed(ra, v, a, &res, actor, valid);
	else
		rc = note_failure(ra, v, a, pb, msg, &res,
		    next_retry(ra, v, ra_now(ra)), actor, asked);
	val_result_clear(&res);
	return rc;
}

/* dns-auto: one step of the state machine (see the top of the file), for
 * name a of portal order o. */
static int
step_auto(struct ra *ra, const struct store_order *o, struct store_dv *v,
    const struct store_authz *a, const char *actor, int *valid)
{
	struct rc_detail d = {""};
	struct store_dv_record rec = {0};
	char owner[300];
	time_t now = ra_now(ra);
	int rc = 0;

	snprintf(owner, sizeof(owner), "_acme-challenge.%s", a->identifier);
	if (!have_provider(ra) || v->zone == NULL || v->zone[0] == '\0') {
		struct val_result res = {0};

		snprintf(res.detail, sizeof(res.detail), "DNS provider not "
		    "configured");
		res.problem = VAL_PROB_SERVER_INTERNAL;
		res.checked_at = now;
		(void)attempt(ra, a, "dns-auto", now, v->value, &res,
		    "dns_error");
		return note_failure(ra, v, a, "dns_error", "Automatic "
		    "validation is not available right now (DNS provider not "
		    "configured). We try again later; or add the TXT record "
		    "yourself (choose DNS record).", &res,
		    next_retry(ra, v, now), actor, 0);
	}
	if (strcmp(v->stage, "wait") == 0 || strcmp(v->stage, "check") == 0) {
		if (store_dv_record_of(ra->st, a->id, &rec) != 0 ||
		    strcmp(rec.value, v->value) != 0) {
			/* the record was removed meanwhile: again */
			set_str(&v->stage, "publish");
		}
		store_dv_record_clear(&rec);
	}
	if (strcmp(v->stage, "publish") == 0 || strcmp(v->stage, "idle") ==
	    0) {
		struct store_dv_record r = {0};
		struct store_domain other = {0};
		int64_t rid = 0;

		/* still the contract's customer's zone alone? The domain may
		 * have been removed, or another customer's hosted domain may
		 * overlap it (hosted_zone) since the validation started */
		rc = ra_domain_hosted_alone(ra->st, o->contract_id,
		    a->identifier, &other);
		if (rc != 0) {
			struct val_result res = {0};
			char msg[400];

			not_alone(o->id, a->identifier, rc, &other);
			store_domain_clear(&other);
			res.problem = VAL_PROB_REJECTED_IDENTIFIER;
			res.checked_at = now;
			snprintf(res.detail, sizeof(res.detail), "%s is not "
			    "under a hosted domain of contract %lld alone: no "
			    "record placed", a->identifier,
			    (long long)o->contract_id);
			(void)attempt(ra, a, "dns-auto", now, v->value, &res,
			    "not_hosted");
			snprintf(msg, sizeof(msg), "We cannot confirm %.200s "
			    "automatically right now: its zone is not set up "
			    "for automatic validation with us. We try again "
			    "later; to finish sooner, choose another method.",
			    a->identifier);
			return note_failure(ra, v, a, "not_hosted", msg, &res,
			    next_retry(ra, v, now), actor, 0);
		}
		r.authz_id = a->id;
		r.zone = v->zone;
		r.owner = owner;
		r.value = v->value;
		r.created_at = now;
		/* the worker removes it from then on, whatever happens */
		r.remove_at = now + (time_t)dp_propagation(ra) +
		    2 * lease_s(ra) + 60;
		rc = store_dv_record_add(ra->st, &r, &rid);
		if (rc != 0)
			return rc;
		rc = dp_add(ra, v->zone, owner, v->value, &d);
		if (rc != 0) {
			struct val_result res = {0};
			char msg[400];

			/* an update that failed may still have been applied:
			 * the removal is due at once */
			(void)store_dv_record_failed(ra->st, rid,
			    rc_detail_str(&d, rc), now);
			res.problem = VAL_PROB_DNS;
			res.checked_at = now;
			snprintf(res.detail, sizeof(res.detail), "RFC 2136 "
			    "update of %s: %s", v->zone, rc_detail_str(&d, rc));
			(void)attempt(ra, a, "dns-auto", now, v->value, &res,
			    "dns_error");
			snprintf(msg, sizeof(msg), "We could not place the "
			    "temporary record on our nameservers (%.120s). We "
			    "try again automatically; nothing to do for you.",
			    rc_detail_str(&d, rc));
			return note_failure(ra, v, a, "dns_error", msg, &res,
			    next_retry(ra, v, now), actor, 0);
		}
		{
			json_t *det = json_pack("{s:s, s:s, s:s, s:I}", "zone",
			    v->zone, "owner", owner, "value", v->value,
			    "order", (json_int_t)a->order_id);

			(void)audit(ra->st, actor, "validation.dns.added",
			    a->id, det);
			json_decref(det);
		}
		log_info(LOG_RA, "temporary record %s TXT added in %s", owner,
		    v->zone);
		set_str(&v->stage, "wait");
		v->published_at = now;
	}
	if (strcmp(v->stage, "wait") == 0) {
		size_t nok = 0, ns = 0;

		rc = dp_published(ra, owner, v->value, &nok, &ns);
		if (rc == 0 && ns > 0 && nok == ns) {
			set_str(&v->stage, "check");
		} else if (now - v->published_at >=
		    (time_t)dp_propagation(ra)) {
			struct val_result res = {0};
			char msg[400];

			res.problem = VAL_PROB_DNS;
			res.checked_at = now;
			snprintf(res.detail, sizeof(res.detail), "%zu of %zu "
			    "of our nameservers answered with the record "
			    "within %u s", nok, ns, dp_propagation(ra));
			(void)attempt(ra, a, "dns-auto", v->published_at,
			    v->value, &res, "timeout");
			drop_record(ra, a->id);
			snprintf(msg, sizeof(msg), "Our nameservers did not "
			    "all publish the temporary record in time "
			    "(%.200s). We try again automatically; nothing to "
			    "do for you.", res.detail);
			set_str(&v->stage, "publish");
			v->published_at = 0;
			return note_failure(ra, v, a, "timeout", msg, &res,
			    next_retry(ra, v, now), actor, 0);
		} else {
			v->next_check_at = now + DV_POLL_S;
			v->checked_at = now;
			return store_dv_update(ra->st, v, now);
		}
	}
	/* check: through the CA's own resolver, then CAA; the record goes
	 * either way */
	{
		struct val_request req = {0};
		struct val_result res = {0};
		char pb[24], msg[400];
		time_t t0 = ra_now(ra);

		req.kind = VAL_KIND_DNS01;
		req.name = a->identifier;
		req.expected = v->value;
		(void)run_check(ra, &req, 0, &res);
		ra_dv_explain(&res, "dns-auto", a->identifier, "", pb, msg);
		(void)attempt(ra, a, "dns-auto", t0, v->value, &res, pb);
		set_str(&v->stage, "publish");
		v->published_at = 0;
		if (res.outcome == VAL_VALID) {
			rc = succeed(ra, v, a, &res, actor, valid);
			drop_record(ra, a->id);
		} else {
			drop_record(ra, a->id);
			rc = note_failure(ra, v, a, pb, msg, &res,
			    next_retry(ra, v, ra_now(ra)), actor, 0);
		}
		val_result_clear(&res);
	}
	return rc;
}

/*
 * Claims and runs the job of a name (force: also when not due, for "check
 * now"). *ran is 1 when this call ran it; *valid when the name became
 * valid.
 */
static int
run_job(struct ra *ra, int64_t authz_id, int force, const char *actor,
    int asked, int *ran, int *valid, int64_t *tell)
{
	struct store_dv v = {0};
	struct store_authz a = {0};
	struct store_order o = {0};
	time_t now = ra_now(ra);
	char before[24] = "";
	int rc;

	*ran = 0;
	*tell = 0;
	rc = store_dv_claim(ra->st, authz_id, now, now + lease_s(ra), force);
	if (rc == RC_STATE)
		return 0;	/* someone else runs it, or not due */
	if (rc != 0)
		return rc;
	*ran = 1;
	if ((rc = store_dv_get(ra->st, authz_id, &v)) != 0 ||
	    (rc = store_authz_get(ra->st, authz_id, &a)) != 0 ||
	    (rc = ra_dv_order_load(ra, 0, v.order_id, &o)) != 0)
		goto out;
	if (strcmp(a.status, "valid") == 0 && order_open(ra, &o)) {
		/* valid, but CAA forbade issuance: look again */
		v.next_check_at = 0;
		rc = store_dv_update(ra->st, &v, now);
		if (rc == 0)
			rc = ra_dv_maybe_issue(ra, o.id, NULL);
		goto out;
	}
	if (strcmp(a.status, "pending") != 0 || a.expires_at <= now ||
	    !order_open(ra, &o)) {
		/* nothing more to validate: no job, no record */
		drop_record(ra, a.id);
		if (strcmp(a.status, "pending") == 0 && (a.expires_at <= now ||
		    o.expires_at <= now)) {
			set_str(&v.problem, "expired");
			set_str(&v.message, "The time to validate this name "
			    "ran out. Set up the certificate again to start a "
			    "new validation.");
		}
		set_str(&v.stage, "idle");
		v.next_check_at = 0;
		rc = store_dv_update(ra->st, &v, now);
		goto out;
	}
	snprintf(before, sizeof(before), "%s", v.problem ? v.problem : "");
	if (strcmp(v.method, "dns-auto") == 0) {
		rc = step_auto(ra, &o, &v, &a, actor, valid);
	} else if (strcmp(v.method, "dns") == 0 ||
	    strcmp(v.method, "http") == 0) {
		rc = check_customer(ra, &v, &a, actor, asked, valid);
	} else {
		/* email (and others): only the expiry is watched */
		v.next_check_at = a.expires_at;
		rc = store_dv_update(ra->st, &v, now);
	}
	if (rc == 0 && valid != NULL && *valid)
		rc = ra_dv_maybe_issue(ra, o.id, NULL);
	/* a new failure (note_failure changed the row's problem) */
	if (rc == 0 && tell_customer(v.method, v.problem) &&
	    strcmp(before, v.problem) != 0)
		*tell = o.id;
out:
	if (rc != 0)
		log_warn(LOG_RA, "dv job authz %lld: %s", (long long)authz_id,
		    rc_str(rc));
	store_order_clear(&o);
	store_authz_clear(&a);
	store_dv_clear(&v);
	return rc;
}

int
ra_dv_check_now(struct ra *ra, int64_t customer_id, int64_t order_id,
    int64_t authz_id, const char *actor, int *valid, struct ra_err *err)
{
	struct store_order o = {0};
	struct store_authz a = {0};
	struct store_dv v = {0};
	int64_t tell = 0;
	int rc, ran = 0, ok = 0;

	if (valid != NULL)
		*valid = 0;
	if (ra == NULL)
		return RC_INVAL;
	rc = action_load(ra, customer_id, order_id, authz_id, &o, &a, &v,
	    err);
	if (rc != 0)
		goto out;
	if (strcmp(v.method, "email") == 0) {
		rc = ra_fail(err, RC_STATE, RA_PROB_MALFORMED, "Validation by "
		    "email completes when the link in the mail is confirmed.");
		goto out;
	}
	if (strcmp(v.method, "dns") != 0 && strcmp(v.method, "http") != 0 &&
	    strcmp(v.method, "dns-auto") != 0) {
		rc = ra_fail(err, RC_STATE, RA_PROB_MALFORMED, "Nothing to "
		    "check for this name.");
		goto out;
	}
	rc = run_job(ra, a.id, 1, actor ? actor : "system", 1, &ran, &ok,
	    &tell);
	if (rc != 0) {
		rc = ra_internal(err, rc, "dv check");
		goto out;
	}
	if (tell != 0)
		(void)ra_notify_order(ra, tell, "action");
	if (valid != NULL)
		*valid = ok;
out:
	store_dv_clear(&v);
	store_authz_clear(&a);
	store_order_clear(&o);
	return rc;
}

int
ra_dv_jobs_run(struct ra *ra, size_t max, size_t *ran)
{
	struct store_dv_record *recs = NULL;
	int64_t ids[64], tell[64];
	size_t n = 0, nrec = 0, done = 0;
	time_t now;
	int rc;

	if (ran != NULL)
		*ran = 0;
	if (ra == NULL)
		return RC_INVAL;
	now = ra_now(ra);
	/* orders nobody validated in time end, their slots back to what
	 * they held (every minute: the overview reads them as expired
	 * meanwhile, and a new order on the slot ends its order first) */
	if (ra->last_expire == 0 || now - ra->last_expire >=
	    RA_RECOVER_EVERY) {
		size_t ended = 0;

		ra->last_expire = now;
		if (ra_portal_orders_expire(ra, 0, &ended) == 0 && ended > 0)
			log_info(LOG_RA, "%zu expired portal order(s) ended",
			    ended);
		/* and slots whose certificate ran out say so */
		if (ra_portal_slots_expire(ra, &ended) == 0 && ended > 0)
			log_info(LOG_RA, "%zu portal slot(s) expired", ended);
		/* and what a reissue for other names replaced goes, once
		 * its grace period ends */
		if (ra_portal_superseded_revoke(ra, &ended) == 0 &&
		    ended > 0)
			log_info(LOG_RA, "%zu superseded certificate(s) "
			    "revoked", ended);
	}
	if (max == 0)
		return 0;
	if (max > sizeof(ids) / sizeof(ids[0]))
		max = sizeof(ids) / sizeof(ids[0]);
	/* temporary records due for removal first */
	rc = store_dv_record_due(ra->st, now, max, &recs, &nrec);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < nrec; i++) {
		if (store_dv_record_claim(ra->st, recs[i].id, now, now +
		    lease_s(ra)) != 0)
			continue;
		(void)remove_record(ra, &recs[i], "system");
		done++;
	}
	store_dv_record_list_free(recs, nrec);
	rc = store_dv_jobs(ra->st, now, ids, max, &n);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		int r = 0, ok = 0;

		if (run_job(ra, ids[i], 0, "system", 0, &r, &ok, &tell[i]) ==
		    0 && r)
			done++;
	}
	/* the customers whose names failed in this batch, each order once */
	for (size_t i = 0; i < n; i++) {
		int seen = tell[i] == 0;

		for (size_t j = 0; j < i && !seen; j++)
			seen = tell[j] == tell[i];
		if (!seen)
			(void)ra_notify_order(ra, tell[i], "action");
	}
	if (ran != NULL)
		*ran = done;
	return 0;
}
