/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The back office's JSON API under /backoffice/api/, for scripts and tests
 * of validation staff (API token or browser session with the CSRF token in
 * X-CSRF-Token): the cases (oldest first), one case with its checklist and
 * its conversation with the customer, the case of an order, and the
 * actions of the case page (take, evidence, request-info, resume, reject,
 * approve) with JSON bodies. The ra decides; refusals are RFC 7807
 * problems: 409 "case-state" (not allowed in this state, or by this
 * agent), 400 "invalid" (bad evidence or text), 404.
 *
 * Runs on the HTTPS listener's worker threads; every body is untrusted.
 */
#include "backoffice/bo_int.h"
#include "portal/portal_int.h"
#include "ra/ra.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JSON_BODY (64 * 1024)

static int
doc_json(const struct store_org_doc *d, void *arg)
{
	json_t *a = arg;
	char hex[65], url[96];

	for (size_t k = 0; k < sizeof(d->sha256); k++)
		snprintf(hex + 2 * k, 3, "%02x", d->sha256[k]);
	snprintf(url, sizeof(url), "/backoffice/api/cases/%lld/documents/%lld",
	    (long long)d->case_id, (long long)d->id);
	json_array_append_new(a, json_pack("{s:I, s:s, s:s, s:I, s:s, s:I, "
	    "s:I, s:s, s:o}", "id", (json_int_t)d->id, "label", d->label,
	    "content_type", d->content_type, "size", (json_int_t)d->size,
	    "sha256", hex, "uploaded_by", (json_int_t)d->uploaded_by,
	    "uploaded_at", (json_int_t)d->uploaded_at, "download", url,
	    "message", d->message_id ? json_integer(d->message_id) :
	    json_null()));
	return 0;
}

/* The conversation, oldest first: each request and answer with its
 * author and time (null: not known), an answer with its documents (the
 * objects of docs that name it). */
static json_t *
messages_json(const struct ra_org_case *oc, json_t *docs)
{
	json_t *a = json_array();

	for (size_t i = 0; i < oc->nmsgs; i++) {
		const struct ra_org_msg *m = &oc->msgs[i];
		json_t *o, *mine = json_array(), *d;
		size_t k;

		json_array_foreach(docs, k, d)
			if (m->response && json_integer_value(
			    json_object_get(d, "message")) == m->id)
				json_array_append(mine, d);
		o = json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)m->id,
		    "kind", m->response ? "response" : "request", "text",
		    m->body, "documents", mine);
		json_object_set_new(o, "author", m->author_id ?
		    json_integer(m->author_id) : json_null());
		json_object_set_new(o, "sent_at", m->sent_at ?
		    json_integer(m->sent_at) : json_null());
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
case_json(const struct ra_org_case *oc)
{
	json_t *j = json_object(), *steps = json_object();

	json_object_set_new(j, "id", json_integer(oc->id));
	json_object_set_new(j, "order", json_integer(oc->order_id));
	json_object_set_new(j, "customer", json_integer(oc->customer_id));
	json_object_set_new(j, "state", json_string(
	    ra_org_state_name(oc->state)));
	json_object_set_new(j, "profile", json_string(oc->profile));
	json_object_set_new(j, "product", json_string(oc->product));
	json_object_set_new(j, "approvals_required",
	    json_integer(oc->approvals_required));
	json_object_set_new(j, "assigned_to", oc->assigned_to ?
	    json_integer(oc->assigned_to) : json_null());
	json_object_set_new(j, "first_approver", oc->first_approver ?
	    json_integer(oc->first_approver) : json_null());
	json_object_set_new(j, "second_approver", oc->second_approver ?
	    json_integer(oc->second_approver) : json_null());
	json_object_set_new(j, "org", oc->org_id ? json_integer(oc->org_id) :
	    json_null());
	json_object_set_new(j, "reused", json_boolean(oc->reused));
	json_object_set_new(j, "info_request", oc->info_request ?
	    json_string(oc->info_request) : json_null());
	json_object_set_new(j, "info_response", oc->info_response ?
	    json_string(oc->info_response) : json_null());
	json_object_set_new(j, "info_response_at", oc->info_response_at ?
	    json_integer(oc->info_response_at) : json_null());
	json_object_set_new(j, "reject_reason", oc->reject_reason ?
	    json_string(oc->reject_reason) : json_null());
	json_object_set_new(j, "created_at", json_integer(oc->created_at));
	json_object_set_new(j, "decided_at", oc->decided_at ?
	    json_integer(oc->decided_at) : json_null());
	for (int s = 0; s < RA_ORG_STEP_MAX; s++) {
		json_t *st = json_object();
		json_t *ev = oc->step[s].evidence ?
		    json_loads(oc->step[s].evidence, 0, NULL) : NULL;

		json_object_set_new(st, "required",
		    json_boolean(oc->step[s].required));
		json_object_set_new(st, "satisfied", json_boolean(ev != NULL &&
		    oc->step[s].satisfied));
		json_object_set_new(st, "evidence", ev ? ev : json_null());
		json_object_set_new(st, "agent", oc->step[s].agent_id ?
		    json_integer(oc->step[s].agent_id) : json_null());
		json_object_set_new(st, "recorded_at", oc->step[s].recorded_at ?
		    json_integer(oc->step[s].recorded_at) : json_null());
		json_object_set_new(steps, ra_org_step_name(
		    (enum ra_org_step)s), st);
	}
	json_object_set_new(j, "steps", steps);
	return j;
}

static int
not_found(struct portal_req *c)
{
	return portal_api_problem(c->r, 404, "not-found", "Not found",
	    "There is no such case.");
}

static int
reply_case(struct portal_req *c, struct ra *ra, int64_t id, int by_order,
    int issued, int with_issued)
{
	struct ra_org_case oc = {0};
	json_t *j;
	int rc;

	rc = by_order ? ra_org_case_by_order(ra, 0, id, &oc) :
	    ra_org_case_get(ra, id, &oc);
	if (rc == RC_NOTFOUND)
		return not_found(c);
	if (rc != 0)
		return rc;
	j = case_json(&oc);
	{
		json_t *docs = json_array();

		rc = store_org_doc_list(c->st, oc.id, doc_json, docs);
		json_object_set_new(j, "messages", messages_json(&oc, docs));
		json_object_set_new(j, "documents", docs);
		if (rc != 0) {
			json_decref(j);
			ra_org_case_clear(&oc);
			return rc;
		}
	}
	if (with_issued)
		json_object_set_new(j, "issued", json_boolean(issued));
	ra_org_case_clear(&oc);
	return portal_api_json(c->r, 200, j);
}

/* GET cases[?after=ID][&limit=N]: oldest first, a page at a time (years
 * of cases do not fit one answer); "next" names the following page */
#define CASES_PAGE_DEFAULT 100
#define CASES_PAGE_MAX 500

static int
list(struct portal_req *c, struct ra *ra)
{
	int64_t *ids = NULL;
	int64_t after = portal_query_id(c, "after", 0);
	int64_t limit = portal_query_id(c, "limit", CASES_PAGE_DEFAULT);
	int64_t last = 0;
	size_t n = 0, i = 0;
	json_t *a, *out;
	int rc, more = 0;

	if (after < 0 || limit < 0 || limit > CASES_PAGE_MAX)
		return portal_api_problem(c->r, 400, "malformed",
		    "The request is not valid", "\"after\" must be a case id "
		    "and \"limit\" 1 to 500.");
	rc = ra_org_case_ids(ra, NULL, NULL, &ids, &n);
	if (rc != 0)
		return rc;
	/* the page starts after the case named (in the list's order) */
	if (after > 0) {
		while (i < n && ids[i] != after)
			i++;
		if (i < n)
			i++;
		else
			for (i = 0; i < n && ids[i] <= after; i++)
				;
	}
	a = json_array();
	for (; i < n; i++) {
		struct ra_org_case oc = {0};
		json_t *o;

		if ((int64_t)json_array_size(a) == limit) {
			more = 1;
			break;
		}
		if (ra_org_case_get(ra, ids[i], &oc) != 0)
			continue;
		last = oc.id;
		o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:I}", "id",
		    (json_int_t)oc.id, "order", (json_int_t)oc.order_id,
		    "state", ra_org_state_name(oc.state), "profile",
		    oc.profile, "product", oc.product, "created_at",
		    (json_int_t)oc.created_at);
		json_object_set_new(o, "assigned_to", oc.assigned_to ?
		    json_integer(oc.assigned_to) : json_null());
		json_array_append_new(a, o);
		ra_org_case_clear(&oc);
	}
	free(ids);
	out = json_pack("{s:o}", "cases", a);
	if (more) {
		char url[96];

		snprintf(url, sizeof(url), "/backoffice/api/cases?after=%lld&"
		    "limit=%lld", (long long)last, (long long)limit);
		json_object_set_new(out, "next", json_string(url));
	}
	return portal_api_json(c->r, 200, out);
}

/* The JSON object body of a POST (an empty body reads as {}); NULL when
 * it is not one. */
static json_t *
body_json(struct portal_req *c)
{
	size_t len = 0;
	const uint8_t *b = http_req_body(c->r, &len);
	json_t *j;

	if (len == 0)
		return json_object();
	if (len > MAX_JSON_BODY)
		return NULL;
	j = json_loadb((const char *)b, len, JSON_REJECT_DUPLICATES, NULL);
	if (j != NULL && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static int
action(struct portal_req *c, struct ra *ra, const struct bo_path *bp)
{
	struct ra_err err = {0};
	struct ra_field_errs fe = {0};
	json_t *body;
	const char *a = bp->action;
	int rc, issued = 0;

	if (!portal_req_csrf_ok(c, http_req_header(c->r, "X-CSRF-Token")))
		return portal_api_problem(c->r, 403, "csrf", "Forbidden",
		    "missing or wrong X-CSRF-Token");
	body = body_json(c);
	if (body == NULL)
		return portal_api_problem(c->r, 400, "invalid", "Bad request",
		    "the body must be a JSON object");
	if (strcmp(a, "take") == 0) {
		rc = ra_org_take(ra, c->user.id, bp->id, &err);
	} else if (strcmp(a, "evidence") == 0) {
		json_t *ev = json_object_get(body, "evidence");
		const char *k;
		json_t *v;
		struct ra_org_kv kv[32];
		size_t n = 0;
		int step = ra_org_step_parse(json_string_value(
		    json_object_get(body, "step")));

		if (step < 0 || !json_is_object(ev) || json_object_size(ev) >
		    32) {
			json_decref(body);
			return portal_api_problem(c->r, 400, "invalid",
			    "Bad request", "give \"step\" (a checklist step) "
			    "and \"evidence\" (an object of strings)");
		}
		json_object_foreach(ev, k, v) {
			if (!json_is_string(v)) {
				json_decref(body);
				return portal_api_problem(c->r, 400,
				    "invalid", "Bad request", "evidence "
				    "values must be strings");
			}
			kv[n].name = k;
			kv[n].value = json_string_value(v);
			n++;
		}
		rc = ra_org_evidence(ra, c->user.id, bp->id,
		    (enum ra_org_step)step, kv, n, &fe, &err);
	} else if (strcmp(a, "request-info") == 0) {
		rc = ra_org_request_info(ra, c->user.id, bp->id,
		    json_string_value(json_object_get(body, "text")), &err);
	} else if (strcmp(a, "resume") == 0) {
		rc = ra_org_resume(ra, c->user.id, bp->id, &err);
	} else if (strcmp(a, "reject") == 0) {
		rc = ra_org_reject(ra, c->user.id, bp->id,
		    json_string_value(json_object_get(body, "reason")), &err);
	} else {
		rc = ra_org_approve(ra, c->user.id, bp->id, &issued, &err);
	}
	json_decref(body);
	if (rc == RC_NOTFOUND || rc == RC_UNAUTH)
		return not_found(c);
	if (rc == RC_STATE)
		return portal_api_problem(c->r, 409, "case-state",
		    "Not possible now", err.detail.msg);
	if (rc == RC_INVAL)
		return portal_api_problem(c->r, 400, "invalid",
		    "Bad request", err.detail.msg);
	if (rc != 0)
		return rc;
	return reply_case(c, ra, bp->id, 0, issued, strcmp(a, "approve") ==
	    0);
}

int
bo_api(struct portal_req *c, const struct bo_path *bp)
{
	struct ra *ra = NULL;
	int get = portal_is_get(c->r), rc;

	portal_security_headers(c->r, 0);
	if ((bp->route == BO_API_CASE_ACTION) == get)
		return portal_api_problem(c->r, 405, "method-not-allowed",
		    "Method not allowed", NULL);
	rc = portal_ra_get(c, &ra);
	if (rc != 0)
		return rc;
	switch (bp->route) {
	case BO_API_CASES:
		rc = list(c, ra);
		break;
	case BO_API_CASE:
		rc = reply_case(c, ra, bp->id, 0, 0, 0);
		break;
	case BO_API_ORDER_CASE:
		rc = reply_case(c, ra, bp->id, 1, 0, 0);
		break;
	case BO_API_CASE_ACTION:
		rc = action(c, ra, bp);
		break;
	default:
		rc = not_found(c);
		break;
	}
	portal_ra_put(c, ra);
	return rc;
}
