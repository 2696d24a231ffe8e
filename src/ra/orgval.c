/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Organisation validation of OV/EV portal orders: the state machine of the
 * back office's cases (see ra.h for the diagram), the checklist and what
 * counts as evidence for each step, the two-person rule for EV, the reuse
 * of a customer's validated organisation within the reuse period, and the
 * organisation record an approval makes from the evidence alone (never
 * from what the customer typed), which ra_portal_issue() then puts in the
 * subject.
 *
 * Why a conditional update per transition: two agents may press buttons on
 * the same case at once, on different instances; the store moves a case
 * only from the state this code read, so one wins and the other gets
 * RC_STATE. Each transition and its audit entry commit together.
 *
 * Runs in the main certdesk process on back office and portal request
 * threads. Trusts the store; agent ids come from an authenticated session
 * but their role is checked here again; every evidence field and text
 * came from a browser and is checked.
 */
#include "ra/ra_int.h"
#include "ca/ca.h"
#include "store/store.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <jansson.h>
#include <openssl/evp.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_TEXT_FIELD 256
#define MAX_INFO_TEXT 2000
#define MAX_REASON 500

static atomic_int two_person_ev = 1;

void
ra_org_set_two_person_ev(int on)
{
	atomic_store(&two_person_ev, on ? 1 : 0);
}

/* ---- names --------------------------------------------------------------- */

static const char *const state_names[] = {"open", "in_review",
	"info_requested", "awaiting_second_approval", "approved", "rejected"};
static const char *const state_labels[] = {"Open", "In review",
	"Information requested", "Awaiting second approval", "Approved",
	"Rejected"};
static const char *const step_names[RA_ORG_STEP_MAX] = {"legal_existence",
	"address", "domain_registrant", "telephone", "ev_jurisdiction",
	"ev_business_category", "ev_registration"};
static const char *const step_labels[RA_ORG_STEP_MAX] = {"Legal existence",
	"Address", "Domain registrant matches the legal name",
	"Telephone verification", "EV: jurisdiction of incorporation",
	"EV: business category", "EV: registration number"};

const char *
ra_org_state_name(enum ra_org_state s)
{
	if ((int)s < 0 || (size_t)s >= sizeof(state_names) /
	    sizeof(state_names[0]))
		return "rejected";
	return state_names[s];
}

const char *
ra_org_state_label(enum ra_org_state s)
{
	if ((int)s < 0 || (size_t)s >= sizeof(state_labels) /
	    sizeof(state_labels[0]))
		return "Unknown";
	return state_labels[s];
}

int
ra_org_state_parse(const char *s)
{
	for (size_t i = 0; s && i < sizeof(state_names) /
	    sizeof(state_names[0]); i++)
		if (strcmp(s, state_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
ra_org_step_name(enum ra_org_step s)
{
	if ((int)s < 0 || s >= RA_ORG_STEP_MAX)
		return NULL;
	return step_names[s];
}

const char *
ra_org_step_label(enum ra_org_step s)
{
	if ((int)s < 0 || s >= RA_ORG_STEP_MAX)
		return NULL;
	return step_labels[s];
}

int
ra_org_step_parse(const char *s)
{
	for (int i = 0; s && i < RA_ORG_STEP_MAX; i++)
		if (strcmp(s, step_names[i]) == 0)
			return i;
	return -1;
}

int
ra_org_step_required(const char *profile, enum ra_org_step s)
{
	if ((int)s < 0 || s >= RA_ORG_STEP_MAX || profile == NULL)
		return 0;
	if (s <= RA_ORG_TELEPHONE)
		return 1;
	return strcmp(profile, "ev") == 0;
}

/* ---- the checklist's fields ---------------------------------------------- */

static const struct ra_org_field f_legal[] = {
	{"source", "Registry or source consulted", "text", NULL, 1},
	{"registration_number", "Registration number", "text", NULL, 1},
	{"date_checked", "Date checked", "date", NULL, 1},
	{"legal_name", "Legal name as registered (becomes O=)", "text", NULL,
	    1},
};
static const struct ra_org_field f_address[] = {
	{"source", "Source of the address", "text", NULL, 1},
	{"street", "Street", "text", NULL, 0},
	{"postal_code", "Postal code", "text", NULL, 0},
	{"locality", "City (L=)", "text", NULL, 0},
	{"state", "State or province (ST=)", "text", NULL, 0},
	{"country", "Country (C=, ISO 3166)", "country", NULL, 1},
};
static const struct ra_org_field f_registrant[] = {
	{"source", "Source (RDAP/WHOIS server, registrar)", "text", NULL, 1},
	{"registrant", "Registrant as found", "text", NULL, 1},
	{"matches", "Registrant matches the legal name", "choice", "yes no",
	    1},
	{"date_checked", "Date checked", "date", NULL, 1},
};
static const struct ra_org_field f_phone[] = {
	{"number", "Number called", "phone", NULL, 1},
	{"number_source", "Independent source of the number", "text", NULL,
	    1},
	{"person", "Person reached (name, role)", "text", NULL, 1},
	{"called_at", "Called at (YYYY-MM-DD HH:MM UTC)", "datetime", NULL,
	    1},
	{"outcome", "Outcome", "choice", "confirmed no_answer denied", 1},
};
static const struct ra_org_field f_jurisdiction[] = {
	{"source", "Source", "text", NULL, 1},
	{"jurisdiction_country", "Jurisdiction country (ISO 3166)",
	    "country", NULL, 1},
	{"jurisdiction_state", "Jurisdiction state or province", "text",
	    NULL, 0},
	{"jurisdiction_locality", "Jurisdiction locality", "text", NULL, 0},
};
static const struct ra_org_field f_category[] = {
	{"source", "Source", "text", NULL, 1},
	{"business_category", "Business category", "choice", NULL, 1},
};
static const struct ra_org_field f_regno[] = {
	{"source", "Registry", "text", NULL, 1},
	{"registration_number", "Registration number (serialNumber)", "text",
	    NULL, 1},
	{"date_checked", "Date checked", "date", NULL, 1},
};

#define NF(a) (sizeof(a) / sizeof((a)[0]))

const struct ra_org_field *
ra_org_step_fields(enum ra_org_step s, size_t *n)
{
	static const struct {
		const struct ra_org_field *f;
		size_t n;
	} t[RA_ORG_STEP_MAX] = {
		{f_legal, NF(f_legal)}, {f_address, NF(f_address)},
		{f_registrant, NF(f_registrant)}, {f_phone, NF(f_phone)},
		{f_jurisdiction, NF(f_jurisdiction)},
		{f_category, NF(f_category)}, {f_regno, NF(f_regno)},
	};

	if ((int)s < 0 || s >= RA_ORG_STEP_MAX) {
		if (n != NULL)
			*n = 0;
		return NULL;
	}
	if (n != NULL)
		*n = t[s].n;
	return t[s].f;
}

static const char *const ev_categories[] = {"Private Organization",
	"Government Entity", "Business Entity", "Non-Commercial Entity", NULL};

static int
text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* A multi-line text a person typed: 1..max bytes, no control characters
 * but newlines and tabs. */
static int
para_ok(const char *s, size_t max)
{
	size_t n;
	int seen = 0;

	if (s == NULL)
		return 0;
	n = strlen(s);
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c != ' ')
			seen = 1;
	}
	return seen;
}

static int
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* "YYYY-MM-DD" (with_time: "YYYY-MM-DD HH:MM") as UTC, a real date not
 * after now (+ a day of slack for time zones). 0 when bad. */
static time_t
date_parse(const char *s, int with_time, time_t now)
{
	struct tm tm;
	time_t t;
	size_t want = with_time ? 16 : 10;

	if (strlen(s) != want || !digits(s, 4) || s[4] != '-' ||
	    !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
		return 0;
	if (with_time && (s[10] != ' ' || !digits(s + 11, 2) || s[13] != ':' ||
	    !digits(s + 14, 2)))
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	if (with_time) {
		tm.tm_hour = atoi(s + 11);
		tm.tm_min = atoi(s + 14);
	}
	if (tm.tm_year < 100 || tm.tm_mon < 0 || tm.tm_mon > 11 ||
	    tm.tm_mday < 1 || tm.tm_hour > 23 || tm.tm_min > 59)
		return 0;
	{
		int m = tm.tm_mon, d = tm.tm_mday;

		t = timegm(&tm);
		if (t == (time_t)-1 || tm.tm_mon != m || tm.tm_mday != d)
			return 0;	/* 2026-02-30 normalised away */
	}
	if (t > now + 86400)
		return 0;
	return t;
}

/* A date of evidence: as date_parse(), and not older than organisation
 * data may be reused today (BR 4.2.1), since the organisation counts as
 * validated from its oldest evidence (make_org). */
static time_t
evidence_date(const char *s, int with_time, time_t now)
{
	time_t t = date_parse(s, with_time, now);

	if (t != 0 && t < now - (time_t)ca_cal_org_reuse_days(now) * 86400)
		return 0;
	return t;
}

static int
country_ok(const char *c)
{
	return strlen(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' &&
	    c[1] <= 'Z';
}

static int
phone_ok(const char *p)
{
	size_t d = 0;

	if (!text_ok(p, 32))
		return 0;
	for (const char *q = p; *q; q++) {
		if (*q >= '0' && *q <= '9')
			d++;
		else if (strchr("+-()/. ", *q) == NULL)
			return 0;
	}
	return d >= 5;
}

static int
choice_ok(const struct ra_org_field *f, const char *v)
{
	if (f->choices == NULL) {
		for (size_t i = 0; ev_categories[i] != NULL; i++)
			if (strcmp(v, ev_categories[i]) == 0)
				return 1;
		return 0;
	}
	for (const char *p = f->choices; *p;) {
		size_t n = strcspn(p, " ");

		if (n == strlen(v) && strncmp(p, v, n) == 0)
			return 1;
		p += n;
		while (*p == ' ')
			p++;
	}
	return 0;
}

static void
ferr(struct ra_field_errs *fe, const char *field, const char *msg)
{
	if (fe == NULL || fe->n >= RA_MAX_FIELD_ERRS)
		return;
	for (size_t i = 0; i < fe->n; i++)
		if (strcmp(fe->e[i].field, field) == 0)
			return;
	snprintf(fe->e[fe->n].field, sizeof(fe->e[0].field), "%s", field);
	snprintf(fe->e[fe->n].msg, sizeof(fe->e[0].msg), "%s", msg);
	fe->e[fe->n].tech[0] = '\0';
	fe->n++;
}

static const char *
kv_get(const struct ra_org_kv *kv, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (kv[i].name != NULL && strcmp(kv[i].name, name) == 0)
			return kv[i].value;
	return NULL;
}

/*
 * Checks a step's evidence and builds its JSON object (*out, new). The
 * number of field errors is fe->n; *satisfied says whether the evidence
 * fulfils the step.
 */
static int
evidence_build(enum ra_org_step step, const struct ra_org_kv *kv, size_t n,
    time_t now, struct ra_field_errs *fe, json_t **out, int *satisfied)
{
	const struct ra_org_field *f;
	size_t nf = 0, bad = 0;
	json_t *o;

	*out = NULL;
	*satisfied = 0;
	f = ra_org_step_fields(step, &nf);
	if (f == NULL)
		return RC_INVAL;
	for (size_t i = 0; i < n; i++) {
		int known = 0;

		for (size_t j = 0; j < nf; j++)
			if (kv[i].name && strcmp(kv[i].name, f[j].name) == 0)
				known = 1;
		if (!known) {
			ferr(fe, kv[i].name && text_ok(kv[i].name, 31) ?
			    kv[i].name : "?", "This field does not belong to "
			    "this step.");
			bad++;
		}
		for (size_t j = 0; j < i; j++)
			if (kv[i].name && kv[j].name &&
			    strcmp(kv[i].name, kv[j].name) == 0) {
				ferr(fe, kv[i].name, "Given twice.");
				bad++;
			}
	}
	o = json_object();
	for (size_t j = 0; j < nf; j++) {
		const char *v = kv_get(kv, n, f[j].name), *k = f[j].kind;
		int ok = 1;

		if (v == NULL || v[0] == '\0') {
			if (f[j].required) {
				ferr(fe, f[j].name, "Required.");
				bad++;
			}
			continue;
		}
		if (!text_ok(v, MAX_TEXT_FIELD))
			ok = 0;
		else if (strcmp(k, "date") == 0 || strcmp(k, "datetime") == 0)
			ok = evidence_date(v, strcmp(k, "datetime") == 0,
			    now) != 0;
		else if (strcmp(k, "country") == 0)
			ok = country_ok(v);
		else if (strcmp(k, "phone") == 0)
			ok = phone_ok(v);
		else if (strcmp(k, "choice") == 0)
			ok = choice_ok(&f[j], v);
		if (ok && strcmp(f[j].name, "legal_name") == 0 &&
		    strlen(v) > 64)
			ok = 0;	/* RFC 5280 ub-organization-name */
		if (!ok) {
			ferr(fe, f[j].name, strcmp(k, "date") == 0 ?
			    "Use YYYY-MM-DD, not in the future, nor older "
			    "than organisation data may be (BR 4.2.1)." :
			    strcmp(k, "datetime") == 0 ? "Use YYYY-MM-DD "
			    "HH:MM (UTC), not in the future, nor older than "
			    "organisation data may be (BR 4.2.1)." :
			    strcmp(k, "country") == 0 ? "Use the two-letter "
			    "ISO 3166 code in capitals, e.g. DE." :
			    strcmp(k, "phone") == 0 ? "Digits, spaces and "
			    "+ - ( ) / . only, at least 5 digits." :
			    strcmp(k, "choice") == 0 ? "Choose one of the "
			    "offered values." : "At most 256 characters "
			    "(legal name: 64), no control characters.");
			bad++;
			continue;
		}
		json_object_set_new(o, f[j].name, json_string(v));
	}
	if (step == RA_ORG_ADDRESS && bad == 0 &&
	    json_object_get(o, "locality") == NULL &&
	    json_object_get(o, "state") == NULL) {
		ferr(fe, "locality", "Give the city or the state.");
		bad++;
	}
	if (bad > 0) {
		json_decref(o);
		return RC_INVAL;
	}
	*satisfied = 1;
	if (step == RA_ORG_DOMAIN_REGISTRANT)
		*satisfied = strcmp(json_string_value(json_object_get(o,
		    "matches")), "yes") == 0;
	if (step == RA_ORG_TELEPHONE)
		*satisfied = strcmp(json_string_value(json_object_get(o,
		    "outcome")), "confirmed") == 0;
	*out = o;
	return 0;
}

/* ---- reading cases ------------------------------------------------------- */

void
ra_org_case_clear(struct ra_org_case *c)
{
	if (c == NULL)
		return;
	free(c->info_request);
	free(c->info_response);
	free(c->reject_reason);
	for (int i = 0; i < RA_ORG_STEP_MAX; i++)
		free(c->step[i].evidence);
	for (size_t i = 0; i < c->nmsgs; i++)
		free(c->msgs[i].body);
	free(c->msgs);
	memset(c, 0, sizeof(*c));
}

static int
msg_cb(const struct store_org_msg *m, void *arg)
{
	struct ra_org_case *c = arg;
	struct ra_org_msg *o;

	c->msgs = xrealloc(c->msgs, (c->nmsgs + 1) * sizeof(*c->msgs));
	o = &c->msgs[c->nmsgs++];
	o->id = m->id;
	o->response = strcmp(m->kind, STORE_ORG_MSG_RESPONSE) == 0;
	o->body = xstrdup(m->body);
	o->author_id = m->author_id;
	o->sent_at = m->sent_at;
	return 0;
}

static int
check_cb(const struct store_org_check *k, void *arg)
{
	struct ra_org_case *c = arg;
	int s = ra_org_step_parse(k->step);

	c->nchecks++;
	if (s < 0)
		return 0;
	free(c->step[s].evidence);	/* the newest counts */
	c->step[s].evidence = xstrdup(k->evidence);
	c->step[s].satisfied = k->satisfied;
	c->step[s].agent_id = k->agent_id;
	c->step[s].recorded_at = k->recorded_at;
	return 0;
}

static char *
dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* Fills out from the store's case (and its evidence) on st. */
static int
case_fill(struct store *st, const struct store_org_case *sc,
    struct ra_org_case *out)
{
	int s = ra_org_state_parse(sc->state), rc;

	memset(out, 0, sizeof(*out));
	out->id = sc->id;
	out->order_id = sc->order_id;
	out->customer_id = sc->customer_id;
	out->state = s < 0 ? RA_ORG_REJECTED : (enum ra_org_state)s;
	snprintf(out->profile, sizeof(out->profile), "%s", sc->profile);
	snprintf(out->product, sizeof(out->product), "%s", sc->product);
	out->approvals_required = sc->approvals_required;
	out->assigned_to = sc->assigned_to;
	out->first_approver = sc->first_approver;
	out->second_approver = sc->second_approver;
	out->org_id = sc->org_id;
	out->reused = sc->reused;
	out->info_request = dup_or_null(sc->info_request);
	out->info_response = dup_or_null(sc->info_response);
	out->reject_reason = dup_or_null(sc->reject_reason);
	out->created_at = sc->created_at;
	out->updated_at = sc->updated_at;
	out->decided_at = sc->decided_at;
	out->info_response_at = sc->info_response_at;
	for (int i = 0; i < RA_ORG_STEP_MAX; i++)
		out->step[i].required = ra_org_step_required(out->profile,
		    (enum ra_org_step)i);
	rc = store_org_check_list(st, sc->id, check_cb, out);
	if (rc == 0)
		rc = store_org_msg_list(st, sc->id, msg_cb, out);
	return rc;
}

int
ra_org_case_get(struct ra *ra, int64_t case_id, struct ra_org_case *out)
{
	struct store_org_case sc = {0};
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	rc = store_org_case_get(ra->st, case_id, &sc);
	if (rc == 0)
		rc = case_fill(ra->st, &sc, out);
	if (rc != 0)
		ra_org_case_clear(out);
	store_org_case_clear(&sc);
	return rc;
}

int
ra_org_case_by_order(struct ra *ra, int64_t customer_id, int64_t order_id,
    struct ra_org_case *out)
{
	struct store_org_case sc = {0};
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	rc = store_org_case_by_order(ra->st, order_id, &sc);
	if (rc == 0 && customer_id != 0 && sc.customer_id != customer_id)
		rc = RC_NOTFOUND;
	if (rc == 0)
		rc = case_fill(ra->st, &sc, out);
	if (rc != 0)
		ra_org_case_clear(out);
	store_org_case_clear(&sc);
	return rc;
}

int
ra_org_case_ids(struct ra *ra, const char *state, const char *profile,
    int64_t **ids, size_t *n)
{
	if (ids != NULL)
		*ids = NULL;
	if (n != NULL)
		*n = 0;
	if (ra == NULL || ids == NULL || n == NULL)
		return RC_INVAL;
	if ((state != NULL && ra_org_state_parse(state) < 0) ||
	    (profile != NULL && strcmp(profile, "ov") != 0 &&
	    strcmp(profile, "ev") != 0))
		return RC_INVAL;
	return store_org_case_ids(ra->st, state, profile, 0, ids, n);
}

/* ---- opening a case ------------------------------------------------------ */

static int
audit(struct store *st, const char *actor, const char *action,
    int64_t case_id, json_t *details)
{
	char object[48];
	char *dj;
	int rc;

	snprintf(object, sizeof(object), "org_case:%lld", (long long)case_id);
	dj = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
	rc = store_audit_append(st, actor, action, object, dj);
	free(dj);
	return rc;
}

struct open_ctx {
	struct ra *ra;
	int64_t order_id;
	int64_t case_id;
	int reused;
};

static int
open_tx(struct store *st, void *arg)
{
	struct open_ctx *x = arg;
	struct store_order o = {0};
	struct store_slot s = {0};
	struct store_org_case sc = {0}, have = {0};
	time_t now = ra_now(x->ra);
	int64_t org_id = 0;
	json_t *det = NULL, *org, *d = NULL;
	int rc, ev;

	rc = store_order_get(st, x->order_id, &o);
	if (rc == RC_INVAL)
		rc = RC_NOTFOUND;
	if (rc == 0 && o.slot_id == 0)
		rc = RC_NOTFOUND;
	if (rc != 0 || strcmp(o.profile, "dv") == 0)
		goto out;
	rc = store_org_case_by_order(st, o.id, &have);
	if (rc == 0)
		goto out;	/* has one already */
	if (rc != RC_NOTFOUND)
		goto out;
	if ((rc = store_slot_get(st, o.slot_id, &s)) != 0)
		goto out;
	ev = strcmp(o.profile, "ev") == 0;
	det = o.details ? json_loads(o.details, 0, NULL) : NULL;
	org = json_object_get(det, "org");
	if (json_string_value(json_object_get(org, "legal_name")) != NULL &&
	    json_string_value(json_object_get(org, "country")) != NULL) {
		time_t since = now - (time_t)ca_cal_org_reuse_days(now) * 86400;

		rc = store_org_find_valid(st, s.customer_id,
		    json_string_value(json_object_get(org, "legal_name")),
		    json_string_value(json_object_get(org, "country")), ev,
		    since, &org_id);
		if (rc == RC_NOTFOUND || rc == RC_INVAL) {
			org_id = 0;
			rc = 0;
		}
		if (rc != 0)
			goto out;
	}
	sc.order_id = o.id;
	sc.customer_id = s.customer_id;
	sc.profile = o.profile;
	sc.product = s.product;
	sc.approvals_required = ev && atomic_load(&two_person_ev) ? 2 : 1;
	sc.created_at = now;
	if (org_id != 0) {
		sc.state = "approved";
		sc.org_id = org_id;
		sc.reused = 1;
		sc.decided_at = now;
	} else {
		sc.state = "open";
	}
	rc = store_org_case_add(st, &sc, &x->case_id);
	if (rc == 0 && org_id != 0)
		rc = store_order_set_org(st, o.id, org_id);
	if (rc != 0)
		goto out;
	x->reused = org_id != 0;
	d = json_pack("{s:I, s:s, s:s, s:I, s:i}", "order", (json_int_t)o.id,
	    "profile", o.profile, "product", s.product, "customer",
	    (json_int_t)s.customer_id, "approvals_required",
	    sc.approvals_required);
	if (org_id != 0)
		json_object_set_new(d, "reused_org", json_integer(org_id));
	rc = audit(st, "system", org_id ? "org.case.reused" : "org.case.open",
	    x->case_id, d);
out:
	json_decref(d);
	json_decref(det);
	store_org_case_clear(&have);
	store_slot_clear(&s);
	store_order_clear(&o);
	return rc;
}

int
ra_org_case_open(struct ra *ra, int64_t order_id, struct ra_err *err)
{
	struct open_ctx x = {ra, order_id, 0, 0};
	int rc;

	if (ra == NULL)
		return RC_INVAL;
	rc = store_tx(ra->st, open_tx, &x);
	if (rc == RC_NOTFOUND)
		return ra_fail(err, rc, RA_PROB_MALFORMED,
		    "no portal order %lld", (long long)order_id);
	if (rc != 0)
		return ra_internal(err, rc, "org case: open");
	if (x.case_id != 0)
		log_info(LOG_RA, "org case %lld for order %lld: %s",
		    (long long)x.case_id, (long long)order_id, x.reused ?
		    "approved by reuse of a validated organisation" : "open");
	return 0;
}

/* ---- the end of a case whose order ended -------------------------------- */

/* The case of order_id, still undecided, is rejected with reason and no
 * decided_at, audited as action (actor "system"). */
static int
case_close(struct ra *ra, struct store *st, int64_t order_id,
    const char *reason, const char *action, time_t now)
{
	struct store_org_case c = {0};
	char *old_state = NULL;
	json_t *d = NULL;
	int rc, st_now;

	if (ra == NULL || st == NULL)
		return RC_INVAL;
	rc = store_org_case_by_order(st, order_id, &c);
	if (rc == RC_NOTFOUND)
		return 0;	/* DV, or no case was opened */
	if (rc != 0)
		goto out;
	st_now = ra_org_state_parse(c.state);
	if (st_now == RA_ORG_APPROVED || st_now == RA_ORG_REJECTED)
		goto out;
	old_state = c.state;
	c.state = xstrdup("rejected");
	free(c.reject_reason);
	c.reject_reason = xstrdup(reason);
	c.decided_at = 0;	/* nobody decided: no finding by staff */
	rc = store_org_case_set(st, &c, old_state, now);
	if (rc != 0)
		goto out;
	d = json_pack("{s:I, s:s, s:s, s:s}", "order", (json_int_t)order_id,
	    "from", old_state, "to", c.state, "reason", reason);
	rc = audit(st, "system", action, c.id, d);
	if (rc == 0)
		log_info(LOG_RA, "org case %lld: closed with its order %lld: "
		    "%s", (long long)c.id, (long long)order_id, reason);
out:
	json_decref(d);
	free(old_state);
	store_org_case_clear(&c);
	return rc;
}

int
ra_org_case_expire(struct ra *ra, struct store *st, int64_t order_id,
    time_t now)
{
	return case_close(ra, st, order_id, RA_ORG_EXPIRED_REASON,
	    "org.case.expired", now);
}

int
ra_org_case_cancel(struct ra *ra, struct store *st, int64_t order_id,
    time_t now)
{
	return case_close(ra, st, order_id, RA_ORG_CANCELLED_REASON,
	    "org.case.cancelled", now);
}

/* ---- the agent actions --------------------------------------------------- */

enum act {
	ACT_TAKE,
	ACT_EVIDENCE,
	ACT_REQUEST_INFO,
	ACT_RESUME,
	ACT_RESPOND,
	ACT_REJECT,
	ACT_APPROVE
};

struct act_ctx {
	struct ra *ra;
	enum act act;
	int64_t agent_id;		/* 0 for the customer's answer */
	int admin;			/* the agent is an admin */
	int64_t case_id;
	int64_t customer_id;		/* ACT_RESPOND: scope */
	int64_t user_id;		/* ACT_RESPOND: who answers */
	int64_t order_id;		/* ACT_RESPOND: by order */
	const char *text;
	const struct ra_org_upload *docs;	/* ACT_RESPOND, borrowed */
	size_t ndocs;
	enum ra_org_step step;
	json_t *evidence;		/* ACT_EVIDENCE, borrowed */
	int satisfied;
	struct ra_err *err;
	/* results */
	char to[32];
	int64_t order, org_id;
	int final;			/* approved or rejected now */
	int info;			/* info was requested now */
};

/* A refusal inside a transaction: the message for the agent, RC_STATE. */
#define REFUSE(x, ...) ra_fail((x)->err, RC_STATE, RA_PROB_UNAUTHORIZED, \
	__VA_ARGS__)

/* The newest evidence of every step (JSON objects, new references). */
struct steps {
	json_t *ev[RA_ORG_STEP_MAX];
	int sat[RA_ORG_STEP_MAX];
};

static int
steps_cb(const struct store_org_check *k, void *arg)
{
	struct steps *s = arg;
	int i = ra_org_step_parse(k->step);

	if (i < 0)
		return 0;
	json_decref(s->ev[i]);
	s->ev[i] = json_loads(k->evidence, 0, NULL);
	s->sat[i] = k->satisfied && s->ev[i] != NULL;
	return 0;
}

static void
steps_free(struct steps *s)
{
	for (int i = 0; i < RA_ORG_STEP_MAX; i++)
		json_decref(s->ev[i]);
}

static const char *
evs(const struct steps *s, enum ra_org_step i, const char *k)
{
	const char *v = json_string_value(json_object_get(s->ev[i], k));

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The oldest date in the evidence of the steps, or now. */
static time_t
oldest_evidence(const struct steps *s, time_t now)
{
	time_t oldest = now;

	for (int i = 0; i < RA_ORG_STEP_MAX; i++) {
		const struct ra_org_field *f;
		size_t nf = 0;

		if (s->ev[i] == NULL)
			continue;
		f = ra_org_step_fields((enum ra_org_step)i, &nf);
		for (size_t j = 0; f != NULL && j < nf; j++) {
			const char *v = json_string_value(json_object_get(
			    s->ev[i], f[j].name));
			int dt = strcmp(f[j].kind, "datetime") == 0;
			time_t t;

			if (v == NULL || (!dt && strcmp(f[j].kind, "date") !=
			    0))
				continue;
			t = date_parse(v, dt, now);
			if (t != 0 && t < oldest)
				oldest = t;
		}
	}
	return oldest;
}

/* The organisation an approval makes, from the evidence alone. */
static int
make_org(struct store *st, const struct store_org_case *c,
    const struct steps *s, int64_t first, int64_t second, time_t now,
    int64_t *org_id)
{
	struct store_org o;
	json_t *e = json_object(), *steps = json_object();
	char by[64];
	int rc;

	memset(&o, 0, sizeof(o));
	o.customer_id = c->customer_id;
	o.legal_name = (char *)evs(s, RA_ORG_LEGAL_EXISTENCE, "legal_name");
	o.country = (char *)evs(s, RA_ORG_ADDRESS, "country");
	o.state = (char *)evs(s, RA_ORG_ADDRESS, "state");
	o.locality = (char *)evs(s, RA_ORG_ADDRESS, "locality");
	o.street = (char *)evs(s, RA_ORG_ADDRESS, "street");
	o.postal_code = (char *)evs(s, RA_ORG_ADDRESS, "postal_code");
	if (strcmp(c->profile, "ev") == 0) {
		o.business_category = (char *)evs(s, RA_ORG_EV_CATEGORY,
		    "business_category");
		o.jurisdiction_country = (char *)evs(s,
		    RA_ORG_EV_JURISDICTION, "jurisdiction_country");
		o.jurisdiction_state = (char *)evs(s, RA_ORG_EV_JURISDICTION,
		    "jurisdiction_state");
		o.jurisdiction_locality = (char *)evs(s,
		    RA_ORG_EV_JURISDICTION, "jurisdiction_locality");
		o.registration_number = (char *)evs(s, RA_ORG_EV_REGISTRATION,
		    "registration_number");
		o.ev_validated = 1;
	}
	o.validated = 1;
	/* reused for the BR's period from the oldest evidence, not from the
	 * approval */
	o.validated_at = oldest_evidence(s, now);
	if (second != 0)
		snprintf(by, sizeof(by), "user:%lld,user:%lld",
		    (long long)first, (long long)second);
	else
		snprintf(by, sizeof(by), "user:%lld", (long long)first);
	o.validated_by = by;
	for (int i = 0; i < RA_ORG_STEP_MAX; i++)
		if (s->ev[i] != NULL)
			json_object_set(steps, step_names[i], s->ev[i]);
	json_object_set_new(e, "case", json_integer(c->id));
	json_object_set_new(e, "order", json_integer(c->order_id));
	json_object_set_new(e, "steps", steps);
	o.evidence = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(e);
	rc = store_org_add(st, &o, org_id);
	free(o.evidence);
	return rc;
}

/* The customer's documents of an answer, each stored and audited with
 * its SHA-256, in the answer's transaction (x->docs checked already). */
static int
docs_add(struct store *st, const struct act_ctx *x,
    const struct store_org_case *c, int64_t msg, const char *actor,
    time_t now)
{
	int rc = 0;

	for (size_t i = 0; i < x->ndocs && rc == 0; i++) {
		const struct ra_org_upload *u = &x->docs[i];
		struct store_org_doc d;
		char label[STORE_ORG_DOC_LABEL_MAX + 1], hex[65];
		unsigned int hl = 0;
		int64_t id = 0;
		json_t *j;

		memset(&d, 0, sizeof(d));
		ra_org_doc_label(u->filename, label, sizeof(label));
		if (EVP_Digest(u->data, u->len, d.sha256, &hl, EVP_sha256(),
		    NULL) != 1 || hl != sizeof(d.sha256))
			return RC_CRYPTO;
		for (size_t k = 0; k < sizeof(d.sha256); k++)
			snprintf(hex + 2 * k, 3, "%02x", d.sha256[k]);
		d.case_id = c->id;
		d.message_id = msg;
		d.content_type = ra_org_doc_sniff(u->data, u->len);
		d.label = label;
		d.data = u->data;
		d.size = u->len;
		d.uploaded_by = x->user_id;
		d.uploaded_at = now;
		if ((rc = store_org_doc_add(st, &d, &id)) != 0)
			return rc;
		j = json_pack("{s:I, s:I, s:s, s:s, s:I, s:s, s:I}", "order",
		    (json_int_t)c->order_id, "document", (json_int_t)id,
		    "sha256", hex, "content_type", d.content_type, "size",
		    (json_int_t)d.size, "label", label, "message",
		    (json_int_t)msg);
		rc = audit(st, actor, "org.case.document", c->id, j);
		json_decref(j);
	}
	return rc;
}

static int
act_tx(struct store *st, void *arg)
{
	struct act_ctx *x = arg;
	struct store_org_case c = {0};
	struct store_order o = {0};
	struct steps s;
	char *old_state = NULL, actor[48], missing[224] = "";
	time_t now = ra_now(x->ra);
	json_t *d = NULL;
	const char *action = NULL;
	int64_t msg = 0;
	int rc, st_now;

	memset(&s, 0, sizeof(s));
	if (x->act == ACT_RESPOND)
		rc = store_org_case_by_order(st, x->order_id, &c);
	else
		rc = store_org_case_get(st, x->case_id, &c);
	if (rc == RC_INVAL)
		rc = RC_NOTFOUND;
	if (rc == 0 && x->act == ACT_RESPOND && x->customer_id != 0 &&
	    c.customer_id != x->customer_id)
		rc = RC_NOTFOUND;
	if (rc != 0) {
		if (rc == RC_NOTFOUND)
			rc = ra_fail(x->err, rc, RA_PROB_MALFORMED,
			    "no such case");
		goto out;
	}
	x->case_id = c.id;
	x->order = c.order_id;
	st_now = ra_org_state_parse(c.state);
	old_state = xstrdup(c.state);
	if (x->agent_id != 0)
		snprintf(actor, sizeof(actor), "backoffice:user/%lld",
		    (long long)x->agent_id);
	else
		snprintf(actor, sizeof(actor), "portal:user/%lld",
		    (long long)x->user_id);

	/* the order must still be waiting for us (not expired, not
	 * cancelled) for anything but the customer's answer and a reject */
	if ((rc = store_order_get(st, c.order_id, &o)) != 0)
		goto out;
	if ((x->act == ACT_TAKE || x->act == ACT_APPROVE ||
	    x->act == ACT_EVIDENCE) && (strcmp(o.status, "pending") != 0 ||
	    o.expires_at <= now) && st_now != RA_ORG_APPROVED &&
	    st_now != RA_ORG_REJECTED) {
		rc = REFUSE(x, "The order is %s; the case cannot go on.",
		    o.expires_at <= now ? "expired" : o.status);
		goto out;
	}

	switch (x->act) {
	case ACT_TAKE:
		if (st_now == RA_ORG_OPEN ||
		    (st_now == RA_ORG_IN_REVIEW && x->admin &&
		    c.assigned_to != x->agent_id)) {
			c.assigned_to = x->agent_id;
			free(c.state);
			c.state = xstrdup("in_review");
			action = "org.case.take";
			break;
		}
		rc = REFUSE(x, st_now == RA_ORG_IN_REVIEW ? "The case is "
		    "already in review (only an admin can take it over)." :
		    "A case that is %s cannot be taken.", c.state);
		goto out;
	case ACT_EVIDENCE:
		if (st_now != RA_ORG_IN_REVIEW) {
			rc = REFUSE(x, "Evidence can be recorded only while "
			    "the case is in review (it is %s).", c.state);
			goto out;
		}
		if (c.assigned_to != x->agent_id) {
			rc = REFUSE(x, "Only the agent the case is assigned "
			    "to can record evidence.");
			goto out;
		}
		if (!ra_org_step_required(c.profile, x->step)) {
			rc = REFUSE(x, "This step belongs to EV cases only.");
			goto out;
		}
		{
			struct store_org_check k;
			char *ej = json_dumps(x->evidence, JSON_COMPACT |
			    JSON_SORT_KEYS);

			memset(&k, 0, sizeof(k));
			k.case_id = c.id;
			k.step = step_names[x->step];
			k.evidence = ej;
			k.satisfied = x->satisfied;
			k.agent_id = x->agent_id;
			k.recorded_at = now;
			rc = store_org_check_add(st, &k, NULL);
			free(ej);
			if (rc != 0)
				goto out;
		}
		d = json_pack("{s:I, s:s, s:O, s:b}", "order",
		    (json_int_t)c.order_id, "step", step_names[x->step],
		    "evidence", x->evidence, "satisfied", x->satisfied);
		rc = audit(st, actor, "org.case.evidence", c.id, d);
		snprintf(x->to, sizeof(x->to), "%s", c.state);
		goto out;
	case ACT_REQUEST_INFO:
		if (st_now != RA_ORG_IN_REVIEW || c.assigned_to !=
		    x->agent_id) {
			rc = REFUSE(x, st_now != RA_ORG_IN_REVIEW ?
			    "Information can be requested only while the "
			    "case is in review (it is %s)." : "Only the "
			    "assigned agent can request information.",
			    c.state);
			goto out;
		}
		/* the answer to the earlier request stays until this one
		 * is answered: the customer and staff still see what was
		 * sent (the documents with it stay too) */
		free(c.info_request);
		c.info_request = xstrdup(x->text);
		free(c.state);
		c.state = xstrdup("info_requested");
		action = "org.case.info_requested";
		x->info = 1;
		break;
	case ACT_RESUME:
		if (st_now != RA_ORG_INFO_REQUESTED || (c.assigned_to !=
		    x->agent_id && !x->admin)) {
			rc = REFUSE(x, st_now != RA_ORG_INFO_REQUESTED ?
			    "Only a case waiting for information can be "
			    "resumed (it is %s)." : "Only the assigned agent "
			    "can resume the case.", c.state);
			goto out;
		}
		free(c.state);
		c.state = xstrdup("in_review");
		action = "org.case.resumed";
		break;
	case ACT_RESPOND:
		if (st_now != RA_ORG_INFO_REQUESTED) {
			rc = REFUSE(x, "No information was requested for "
			    "this order.");
			goto out;
		}
		free(c.info_response);
		c.info_response = xstrdup(x->text);
		c.info_response_at = now;
		free(c.state);
		c.state = xstrdup("in_review");
		action = "org.case.customer_response";
		break;
	case ACT_REJECT:
		if (st_now == RA_ORG_AWAITING_SECOND) {
			if (c.first_approver == x->agent_id) {
				rc = REFUSE(x, "You approved this case; "
				    "another agent decides now.");
				goto out;
			}
		} else if (st_now != RA_ORG_IN_REVIEW &&
		    st_now != RA_ORG_INFO_REQUESTED) {
			rc = REFUSE(x, "A case in the state \"%s\" cannot "
			    "be rejected.", ra_org_state_label(
			    (enum ra_org_state)ra_org_state_parse(c.state)));
			goto out;
		} else if (c.assigned_to != x->agent_id && !x->admin) {
			rc = REFUSE(x, "Only the assigned agent can reject "
			    "the case.");
			goto out;
		}
		free(c.reject_reason);
		c.reject_reason = xstrdup(x->text);
		free(c.state);
		c.state = xstrdup("rejected");
		c.decided_at = now;
		action = "org.case.reject";
		x->final = 1;
		break;
	case ACT_APPROVE:
		if (st_now == RA_ORG_IN_REVIEW) {
			if (c.assigned_to != x->agent_id) {
				rc = REFUSE(x, "Only the assigned agent can "
				    "approve the case first.");
				goto out;
			}
		} else if (st_now == RA_ORG_AWAITING_SECOND) {
			/* EV Guidelines 11.13 / BR: two different people */
			if (c.first_approver == x->agent_id) {
				rc = REFUSE(x, "You gave the first approval; "
				    "the second must come from another "
				    "agent.");
				goto out;
			}
		} else {
			rc = REFUSE(x, "A case in the state \"%s\" cannot "
			    "be approved.", ra_org_state_label(
			    (enum ra_org_state)ra_org_state_parse(c.state)));
			goto out;
		}
		rc = store_org_check_list(st, c.id, steps_cb, &s);
		if (rc != 0)
			goto out;
		/* every step that is missing, by the name the checklist
		 * shows */
		for (int i = 0; i < RA_ORG_STEP_MAX; i++)
			if (ra_org_step_required(c.profile,
			    (enum ra_org_step)i) && !s.sat[i])
				snprintf(missing + strlen(missing),
				    sizeof(missing) - strlen(missing), "%s%s",
				    missing[0] ? ", " : "", step_labels[i]);
		if (missing[0] != '\0') {
			rc = REFUSE(x, "Not every step of the checklist is "
			    "fulfilled yet: %s.", missing);
			goto out;
		}
		if (st_now == RA_ORG_IN_REVIEW) {
			c.first_approver = x->agent_id;
			action = "org.case.approve";
		} else {
			c.second_approver = x->agent_id;
			action = "org.case.approve_second";
		}
		free(c.state);
		if (st_now == RA_ORG_IN_REVIEW && c.approvals_required > 1) {
			c.state = xstrdup("awaiting_second_approval");
			break;
		}
		c.state = xstrdup("approved");
		c.decided_at = now;
		rc = make_org(st, &c, &s, c.first_approver,
		    c.second_approver, now, &c.org_id);
		if (rc == 0)
			rc = store_order_set_org(st, c.order_id, c.org_id);
		if (rc != 0)
			goto out;
		x->org_id = c.org_id;
		x->final = 1;
		break;
	}
	rc = store_org_case_set(st, &c, old_state, now);
	if (rc == RC_STATE) {
		rc = REFUSE(x, "Someone else changed the case; reload it.");
		goto out;
	}
	if (rc != 0)
		goto out;
	/* the conversation keeps every request and answer, in order, with
	 * who wrote it and when; an answer's documents name it */
	if (x->act == ACT_REQUEST_INFO || x->act == ACT_RESPOND) {
		struct store_org_msg m;

		memset(&m, 0, sizeof(m));
		m.case_id = c.id;
		m.kind = x->act == ACT_RESPOND ? STORE_ORG_MSG_RESPONSE :
		    STORE_ORG_MSG_REQUEST;
		m.body = x->text;
		m.author_id = x->act == ACT_RESPOND ? x->user_id :
		    x->agent_id;
		m.sent_at = now;
		if ((rc = store_org_msg_add(st, &m, &msg)) != 0)
			goto out;
	}
	if (x->act == ACT_RESPOND && x->ndocs > 0 &&
	    (rc = docs_add(st, x, &c, msg, actor, now)) != 0)
		goto out;
	if (x->act == ACT_REJECT) {
		/* the order fails; its slot takes a new order, holding what
		 * it held before this one (a renewal's previous certificate
		 * stays) */
		struct ra_err e = {0};

		(void)ra_fail(&e, RC_POLICY, RA_PROB_UNAUTHORIZED,
		    "Organisation validation failed: %s", x->text);
		rc = ra_portal_order_fail(x->ra, st, c.order_id, "pending", &e,
		    now, NULL);
		/* its contacts learn why and what next, with the decision */
		if (rc == 0)
			rc = ra_notify_ended(x->ra, st, c.order_id, x->text);
		else if (rc == RC_STATE || rc == RC_INVAL)
			rc = 0;	/* the order had ended anyway */
		if (rc != 0)
			goto out;
	}
	d = json_pack("{s:I, s:s, s:s}", "order", (json_int_t)c.order_id,
	    "from", old_state, "to", c.state);
	if (x->text != NULL)
		json_object_set_new(d, x->act == ACT_REJECT ? "reason" :
		    x->act == ACT_RESPOND ? "response" : "request",
		    json_string(x->text));
	if (x->act == ACT_RESPOND)
		json_object_set_new(d, "documents",
		    json_integer((json_int_t)x->ndocs));
	if (msg != 0)
		json_object_set_new(d, "message", json_integer(msg));
	if (x->act == ACT_APPROVE) {
		json_t *ev = json_object();

		for (int i = 0; i < RA_ORG_STEP_MAX; i++)
			if (s.ev[i] != NULL)
				json_object_set(ev, step_names[i], s.ev[i]);
		json_object_set_new(d, "evidence", ev);
		if (c.org_id != 0)
			json_object_set_new(d, "org", json_integer(c.org_id));
	}
	rc = audit(st, actor, action, c.id, d);
	snprintf(x->to, sizeof(x->to), "%s", c.state);
out:
	json_decref(d);
	steps_free(&s);
	free(old_state);
	store_order_clear(&o);
	store_org_case_clear(&c);
	return rc;
}

/* The staff user agent_id: 0 and *admin, or RC_UNAUTH. */
static int
staff(struct ra *ra, int64_t agent_id, int *admin, struct ra_err *err)
{
	struct store_user u = {0};
	int rc;

	*admin = 0;
	if (agent_id <= 0)
		return ra_fail(err, RC_UNAUTH, RA_PROB_UNAUTHORIZED,
		    "validation staff only");
	rc = store_user_get(ra->st, agent_id, &u);
	if (rc == RC_NOTFOUND || rc == RC_INVAL || (rc == 0 &&
	    u.role != STORE_ROLE_AGENT && u.role != STORE_ROLE_ADMIN))
		rc = ra_fail(err, RC_UNAUTH, RA_PROB_UNAUTHORIZED,
		    "validation staff only");
	else if (rc != 0)
		rc = ra_internal(err, rc, "org case: user");
	else
		*admin = u.role == STORE_ROLE_ADMIN;
	store_user_clear(&u);
	return rc;
}

/* The staff's question to the order's contacts (ra_order_rcpt), each
 * greeted by name as notify.c's other notices, through ra_mail_add().
 * The order goes by its domain, as the portal shows it. */
static void
info_mail(struct ra *ra, const struct act_ctx *x)
{
	struct store_order o = {0};
	struct ra_rcpt r;
	json_t *det = NULL;
	const char *base = ra->conf.portal_url ? ra->conf.portal_url : "";
	char ref[64], first[256], subject[400], *text, *names;

	if (store_order_get(ra->st, x->order, &o) != 0)
		goto out;
	det = o.details ? json_loads(o.details, 0, NULL) : NULL;
	ra_order_rcpt(ra->st, det, &r);
	snprintf(ref, sizeof(ref), "case:%lld:%lld", (long long)x->case_id,
	    (long long)ra_now(ra));
	names = ra_mail_names(o.names);
	ra_mail_first(o.names, first, sizeof(first));
	snprintf(subject, sizeof(subject), "Information needed for your SSL "
	    "certificate for %s", first);
	/* the order's page shows the question with the answer form (as
	 * the overview does, among every other order) */
	text = xasprintf("To verify your organisation for your SSL "
	    "certificate for %s, our validation team needs more information:"
	    "\n\n%s\n\nWhat to do next: open your order, where the question "
	    "is shown with a form for your answer:\n\n%s/portal/orders/%lld\n",
	    names, x->text, base, (long long)x->order);
	free(names);
	for (size_t i = 0; i < r.n; i++) {
		int e = ra_mail_add(ra->st, r.addr[i], r.name[i], subject,
		    text, "org.info", ref);

		if (e != 0 && e != RC_EXISTS)
			log_err(LOG_RA, "org case %lld: mail to %s: %s",
			    (long long)x->case_id, r.addr[i], rc_str(e));
	}
	free(text);
out:
	json_decref(det);
	store_order_clear(&o);
}

static int
run(struct ra *ra, struct act_ctx *x)
{
	int rc;

	rc = store_tx(ra->st, act_tx, x);
	if (rc == RC_NOTFOUND || rc == RC_STATE || rc == RC_UNAUTH)
		return rc;	/* err says why */
	if (rc != 0)
		return ra_internal(x->err, rc, "org case");
	log_info(LOG_RA, "org case %lld (order %lld): %s by %s%lld%s",
	    (long long)x->case_id, (long long)x->order, x->to,
	    x->agent_id ? "agent " : "portal user ", (long long)(x->agent_id ?
	    x->agent_id : x->user_id), x->ndocs > 0 ? ", with documents" :
	    "");
	if (x->info)
		info_mail(ra, x);
	return 0;
}

static int
agent_act(struct ra *ra, int64_t agent_id, int64_t case_id, enum act a,
    const char *text, struct act_ctx *x, struct ra_err *err)
{
	int rc;

	memset(x, 0, sizeof(*x));
	if (ra == NULL)
		return RC_INVAL;
	x->ra = ra;
	x->act = a;
	x->agent_id = agent_id;
	x->case_id = case_id;
	x->text = text;
	x->err = err;
	rc = staff(ra, agent_id, &x->admin, err);
	if (rc != 0)
		return rc;
	return run(ra, x);
}

int
ra_org_take(struct ra *ra, int64_t agent_id, int64_t case_id,
    struct ra_err *err)
{
	struct act_ctx x;

	return agent_act(ra, agent_id, case_id, ACT_TAKE, NULL, &x, err);
}

int
ra_org_evidence(struct ra *ra, int64_t agent_id, int64_t case_id,
    enum ra_org_step step, const struct ra_org_kv *kv, size_t n,
    struct ra_field_errs *fe, struct ra_err *err)
{
	struct ra_field_errs local = {0};
	struct act_ctx x;
	json_t *ev = NULL;
	int rc, sat = 0, admin = 0;

	if (fe == NULL)
		fe = &local;
	fe->n = 0;
	if (ra == NULL || (kv == NULL && n > 0))
		return RC_INVAL;
	if ((rc = staff(ra, agent_id, &admin, err)) != 0)
		return rc;
	if (ra_org_step_name(step) == NULL)
		return ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
		    "unknown checklist step");
	if (n > 32 || evidence_build(step, kv, n, ra_now(ra), fe, &ev,
	    &sat) != 0) {
		if (fe->n == 0)
			ferr(fe, "step", "Too many fields.");
		return ra_fail(err, RC_INVAL, RA_PROB_MALFORMED, "%s: %s",
		    fe->e[0].field, fe->e[0].msg);
	}
	memset(&x, 0, sizeof(x));
	x.ra = ra;
	x.act = ACT_EVIDENCE;
	x.agent_id = agent_id;
	x.admin = admin;
	x.case_id = case_id;
	x.step = step;
	x.evidence = ev;
	x.satisfied = sat;
	x.err = err;
	rc = run(ra, &x);
	json_decref(ev);
	return rc;
}

int
ra_org_request_info(struct ra *ra, int64_t agent_id, int64_t case_id,
    const char *text, struct ra_err *err)
{
	struct act_ctx x;

	if (!para_ok(text, MAX_INFO_TEXT))
		return ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
		    "Say what the customer should send (1 to %d "
		    "characters).", MAX_INFO_TEXT);
	return agent_act(ra, agent_id, case_id, ACT_REQUEST_INFO, text, &x,
	    err);
}

int
ra_org_resume(struct ra *ra, int64_t agent_id, int64_t case_id,
    struct ra_err *err)
{
	struct act_ctx x;

	return agent_act(ra, agent_id, case_id, ACT_RESUME, NULL, &x, err);
}

int
ra_org_customer_respond(struct ra *ra, int64_t customer_id, int64_t user_id,
    int64_t order_id, const char *text, struct ra_err *err)
{
	return ra_org_customer_respond_docs(ra, customer_id, user_id,
	    order_id, text, NULL, 0, err);
}

int
ra_org_answer_ok(const char *text)
{
	return para_ok(text, MAX_INFO_TEXT);
}

int
ra_org_customer_respond_docs(struct ra *ra, int64_t customer_id,
    int64_t user_id, int64_t order_id, const char *text,
    const struct ra_org_upload *docs, size_t ndocs, struct ra_err *err)
{
	struct act_ctx x;
	char label[STORE_ORG_DOC_LABEL_MAX + 1];

	if (ra == NULL || (docs == NULL && ndocs > 0))
		return RC_INVAL;
	if (!para_ok(text, MAX_INFO_TEXT))
		return ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
		    "Please write your answer (1 to %d characters).",
		    MAX_INFO_TEXT);
	if (ndocs > RA_ORG_DOCS_MAX)
		return ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
		    "Send at most %d documents with one answer.",
		    RA_ORG_DOCS_MAX);
	/* one bad file refuses the whole answer: the message says so, lest
	 * the customer think the good ones went */
	for (size_t i = 0; i < ndocs; i++) {
		ra_org_doc_label(docs[i].filename, label, sizeof(label));
		if (docs[i].data == NULL || docs[i].len == 0)
			return ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
			    "Nothing was sent: the file \"%s\" is empty.",
			    label);
		if (ra_org_doc_sniff(docs[i].data, docs[i].len) == NULL)
			return ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
			    "Nothing was sent: the file \"%s\" is not a "
			    "PDF, PNG or JPEG file. Only those can be sent.",
			    label);
	}
	memset(&x, 0, sizeof(x));
	x.docs = docs;
	x.ndocs = ndocs;
	x.ra = ra;
	x.act = ACT_RESPOND;
	x.customer_id = customer_id;
	x.order_id = order_id;
	x.user_id = user_id;
	x.text = text;
	x.err = err;
	return run(ra, &x);
}

/* ---- staff reading a document ------------------------------------------ */

struct doc_read {
	int64_t agent_id, case_id, doc_id;
	int api;
	struct store_org_doc d;		/* a copy, owned */
	int found;
};

static void
doc_read_clear(struct doc_read *r)
{
	free((char *)r->d.label);
	free((char *)r->d.content_type);
	free((uint8_t *)r->d.data);
	memset(&r->d, 0, sizeof(r->d));
	r->found = 0;
}

/* The store's row lives only for the call, the transaction's audit entry
 * must commit before anything is given: the document is copied. */
static int
doc_copy(const struct store_org_doc *d, void *arg)
{
	struct doc_read *r = arg;
	uint8_t *data = xmalloc(d->size > 0 ? d->size : 1);

	memcpy(data, d->data, d->size);
	r->d = *d;
	r->d.label = xstrdup(d->label);
	r->d.content_type = xstrdup(d->content_type);
	r->d.data = data;
	r->found = 1;
	return 0;
}

static int
doc_read_tx(struct store *st, void *arg)
{
	struct doc_read *r = arg;
	struct store_org_case c = {0};
	char actor[48], hex[65];
	json_t *j;
	int rc;

	doc_read_clear(r);	/* a retry starts again */
	rc = store_org_doc_get(st, r->case_id, r->doc_id, doc_copy, r);
	if (rc == 0)
		rc = store_org_case_get(st, r->case_id, &c);
	if (rc != 0)
		goto out;
	for (size_t k = 0; k < sizeof(r->d.sha256); k++)
		snprintf(hex + 2 * k, 3, "%02x", r->d.sha256[k]);
	snprintf(actor, sizeof(actor), "backoffice:user/%lld",
	    (long long)r->agent_id);
	j = json_pack("{s:I, s:I, s:s, s:b}", "order", (json_int_t)c.order_id,
	    "document", (json_int_t)r->d.id, "sha256", hex, "api", r->api);
	rc = audit(st, actor, "org.case.document.read", c.id, j);
	json_decref(j);
out:
	store_org_case_clear(&c);
	return rc;
}

int
ra_org_doc_read(struct ra *ra, int64_t agent_id, int64_t case_id,
    int64_t doc_id, int api, int (*cb)(const struct store_org_doc *, void *),
    void *arg)
{
	struct doc_read r;
	int rc;

	if (ra == NULL || cb == NULL || agent_id <= 0)
		return RC_INVAL;
	if (case_id <= 0 || doc_id <= 0)
		return RC_NOTFOUND;
	memset(&r, 0, sizeof(r));
	r.agent_id = agent_id;
	r.api = api != 0;
	r.case_id = case_id;
	r.doc_id = doc_id;
	rc = store_tx(ra->st, doc_read_tx, &r);
	if (rc == 0 && r.found) {
		log_info(LOG_RA, "org case %lld: document %lld read by agent "
		    "%lld%s", (long long)case_id, (long long)doc_id,
		    (long long)agent_id, r.api ? " (API)" : "");
		rc = cb(&r.d, arg);
	} else if (rc == 0) {
		rc = RC_NOTFOUND;
	}
	doc_read_clear(&r);
	return rc;
}

int
ra_org_reject(struct ra *ra, int64_t agent_id, int64_t case_id,
    const char *reason, struct ra_err *err)
{
	struct act_ctx x;

	if (!para_ok(reason, MAX_REASON))
		return ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
		    "Give the reason (1 to %d characters); the customer "
		    "sees it.", MAX_REASON);
	return agent_act(ra, agent_id, case_id, ACT_REJECT, reason, &x, err);
}

int
ra_org_approve(struct ra *ra, int64_t agent_id, int64_t case_id,
    int *issued, struct ra_err *err)
{
	struct act_ctx x;
	struct ra_err e = {0};
	int rc;

	if (issued != NULL)
		*issued = 0;
	rc = agent_act(ra, agent_id, case_id, ACT_APPROVE, NULL, &x, err);
	if (rc != 0 || x.org_id == 0)
		return rc;
	/* the organisation is validated: issue now if the domains are too
	 * (ra_portal_issue looks at CAA again when the last look is older
	 * than 8 hours: the validation may be days old); otherwise the
	 * domain validation's completion issues */
	rc = ra_portal_issue(ra, x.order, &e);
	if (rc == 0 && issued != NULL)
		*issued = 1;
	else if (rc != 0)
		log_info(LOG_RA, "org case %lld approved; order %lld not "
		    "issued yet: %s", (long long)x.case_id, (long long)x.order,
		    e.detail.msg);
	/* approved all the same; the agent learns why nothing was issued */
	if (rc == RC_STATE && e.problem == RA_PROB_CAA && err != NULL)
		*err = e;
	return 0;
}

/* ---- for issuance --------------------------------------------------------- */

int
ra_org_for_order(struct ra *ra, int64_t order_id, struct store_org *out,
    struct ra_err *err)
{
	struct store_org_case c = {0};
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	rc = store_org_case_by_order(ra->st, order_id, &c);
	if (rc == RC_NOTFOUND || (rc == 0 && (strcmp(c.state, "approved") !=
	    0 || c.org_id == 0))) {
		rc = ra_fail(err, RC_STATE, RA_PROB_ORDER_NOT_READY,
		    "organisation validation pending");
		goto out;
	}
	if (rc != 0) {
		rc = ra_internal(err, rc, "issue: org case");
		goto out;
	}
	rc = store_org_get(ra->st, c.org_id, out);
	if (rc == 0 && (out->customer_id != c.customer_id ||
	    !out->validated)) {
		store_org_clear(out);
		rc = ra_fail(err, RC_STATE, RA_PROB_ORDER_NOT_READY,
		    "the organisation is not validated");
		goto out;
	}
	if (rc != 0)
		rc = ra_internal(err, rc, "issue: org");
out:
	store_org_case_clear(&c);
	return rc;
}
