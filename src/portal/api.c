/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The portal's JSON API under /api/v1/: the same operations as the pages,
 * through the same service functions (portal.c), for scripts and for the
 * browser code. Authenticated by an API token (Authorization: Bearer) or
 * by the session cookie, then with the CSRF token in the X-CSRF-Token
 * header on unsafe requests. Errors are RFC 7807 problem documents
 * (application/problem+json) with a type under urn:certdesk:problem: and
 * a title for people. The operation table below is what docs/openapi.yaml
 * describes; a unit test holds the two together. That document itself is
 * built into the binary and served, without credentials, at
 * /api/v1/openapi.yaml, and /api/v1/ points to it.
 *
 * Runs in the main certdesk process on HTTP worker threads; the request
 * is untrusted.
 */
#include "portal/portal_int.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

#define PROBLEM_PREFIX "urn:certdesk:problem:"

int
portal_api_problem(struct http_req *r, unsigned status, const char *type,
    const char *title, const char *detail)
{
	json_t *j = json_object();
	char *t = xasprintf(PROBLEM_PREFIX "%s", type);
	char *text;
	int rc;

	json_object_set_new(j, "type", json_string(t));
	json_object_set_new(j, "title", json_string(title));
	json_object_set_new(j, "status", json_integer(status));
	if (detail != NULL)
		json_object_set_new(j, "detail", json_string(detail));
	free(t);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (text == NULL)
		return RC_NOMEM;
	rc = http_reply(r, status, "application/problem+json", text,
	    strlen(text));
	free(text);
	return rc;
}

static int
reply_json(struct http_req *r, unsigned status, json_t *j);

int
portal_api_json(struct http_req *r, unsigned status, void *json)
{
	return reply_json(r, status, json);
}

static int
reply_json(struct http_req *r, unsigned status, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	int rc;

	json_decref(j);
	if (text == NULL)
		return RC_NOMEM;
	rc = http_reply(r, status, "application/json", text, strlen(text));
	free(text);
	return rc;
}

static json_t *
slot_json(const struct store_slot *s)
{
	const char *action = portal_slot_action(s);
	const char *pname = portal_product_name(s->product);
	json_t *j = json_object(), *actions = json_array();

	json_object_set_new(j, "id", json_integer(s->id));
	json_object_set_new(j, "contract_id", json_integer(s->contract_id));
	json_object_set_new(j, "product", json_string(s->product));
	json_object_set_new(j, "product_name", json_string(pname ? pname :
	    s->product));
	json_object_set_new(j, "state", json_string(s->state));
	json_object_set_new(j, "state_name",
	    json_string(portal_state_name(s->state)));
	if (action != NULL)
		json_array_append_new(actions, json_string(action));
	json_object_set_new(j, "actions", actions);
	return j;
}

/* The contract with its slots; RC_* on store errors. */
static int
contract_json(struct portal_req *c, const struct store_contract *k,
    json_t **out)
{
	int64_t *sids = NULL;
	size_t ns = 0;
	json_t *j, *slots;
	int rc;

	*out = NULL;
	rc = portal_slot_ids(c, k->id, &sids, &ns);
	if (rc != 0)
		return rc;
	j = json_object();
	slots = json_array();
	json_object_set_new(j, "id", json_integer(k->id));
	json_object_set_new(j, "number", json_string(k->number));
	for (size_t i = 0; rc == 0 && i < ns; i++) {
		struct store_slot s;

		rc = store_slot_get(c->st, sids[i], &s);
		if (rc == 0)
			json_array_append_new(slots, slot_json(&s));
		store_slot_clear(&s);
	}
	json_object_set_new(j, "slots", slots);
	free(sids);
	if (rc != 0) {
		json_decref(j);
		return rc;
	}
	*out = j;
	return 0;
}

int
portal_api_not_found(struct portal_req *c)
{
	return portal_api_problem(c->r, 404, "not-found", "Not found",
	    "There is no such resource in this account.");
}

/* ---- operations ---------------------------------------------------------- */

static int
op_me(struct portal_req *c, int64_t id)
{
	static const char *const roles[] = {"customer", "agent", "admin"};
	json_t *j = json_object();

	(void)id;
	json_object_set_new(j, "id", json_integer(c->user.id));
	json_object_set_new(j, "email", json_string(c->user.email));
	json_object_set_new(j, "name", json_string(c->user.display_name));
	json_object_set_new(j, "role", json_string(roles[c->user.role]));
	json_object_set_new(j, "customer_id", c->user.customer_id ?
	    json_integer(c->user.customer_id) : json_null());
	if (!c->via_token)
		json_object_set_new(j, "csrf_token", json_string(c->csrf));
	return reply_json(c->r, 200, j);
}

static int
op_contracts(struct portal_req *c, int64_t id)
{
	int64_t *cids = NULL;
	size_t nc = 0;
	json_t *list;
	int rc;

	(void)id;
	rc = portal_contract_ids(c, &cids, &nc);
	if (rc != 0)
		return rc;
	list = json_array();
	for (size_t i = 0; rc == 0 && i < nc; i++) {
		struct store_contract k;
		json_t *cj = NULL;

		rc = store_contract_get(c->st, cids[i], &k);
		if (rc == 0)
			rc = contract_json(c, &k, &cj);
		store_contract_clear(&k);
		if (rc == 0)
			json_array_append_new(list, cj);
	}
	free(cids);
	if (rc != 0) {
		json_decref(list);
		return rc;
	}
	return reply_json(c->r, 200, json_pack("{s:o}", "contracts", list));
}

static int
op_contract(struct portal_req *c, int64_t id)
{
	struct store_contract k;
	json_t *cj = NULL;
	int rc;

	rc = portal_contract_visible(c, id, &k);
	if (rc == RC_NOTFOUND)
		return portal_api_not_found(c);
	if (rc == 0)
		rc = contract_json(c, &k, &cj);
	store_contract_clear(&k);
	if (rc != 0)
		return rc;
	return reply_json(c->r, 200, cj);
}

static int
op_slot(struct portal_req *c, int64_t id)
{
	struct store_slot s;
	json_t *j;
	int rc;

	rc = portal_slot_visible(c, id, &s);
	if (rc == RC_NOTFOUND)
		return portal_api_not_found(c);
	if (rc != 0)
		return rc;
	j = slot_json(&s);
	store_slot_clear(&s);
	return reply_json(c->r, 200, j);
}

static int
op_activate(struct portal_req *c, int64_t id)
{
	struct store_slot s;
	const char *why = NULL;
	json_t *j;
	int rc;

	rc = portal_slot_activate(c, id, &why);
	if (rc == RC_NOTFOUND)
		return portal_api_not_found(c);
	if (rc == RC_STATE)
		return portal_api_problem(c->r, 409, "slot-state",
		    "The slot cannot be activated", why);
	if (rc != 0)
		return rc;
	rc = portal_slot_visible(c, id, &s);
	if (rc != 0)
		return rc;
	j = slot_json(&s);
	store_slot_clear(&s);
	return reply_json(c->r, 200, j);
}

/* GET /api/v1/: where the API is described (no credentials needed), so
 * that the base URL the tokens page names answers something useful. */
static int
op_index(struct portal_req *c, int64_t id)
{
	(void)id;
	return reply_json(c->r, 200, json_pack("{s:s,s:s,s:s,s:s,s:s}",
	    "name", "certdesk portal API", "version", "1",
	    "openapi", "/api/v1/openapi.yaml",
	    "tokens", "/portal/tokens",
	    "authentication", "Authorization: Bearer <API token>, or the "
	    "portal's session cookie with its CSRF token in X-CSRF-Token "
	    "on POST (see GET /api/v1/me)"));
}

/* GET /api/v1/openapi.yaml: docs/openapi.yaml as built in. RFC 9512's
 * application/yaml for tools; a browser opening the link of the tokens
 * page (it asks for HTML) gets it as text/plain, which it shows instead
 * of saving. */
static int
op_openapi(struct portal_req *c, int64_t id)
{
	const char *accept = http_req_header(c->r, "Accept");
	int browser = accept != NULL && strstr(accept, "text/html") != NULL;

	(void)id;
	(void)http_add_header(c->r, "Vary", "Accept");
	return http_reply(c->r, 200, browser ? "text/plain; charset=utf-8" :
	    "application/yaml", portal_openapi_yaml, portal_openapi_yaml_len);
}

static const struct portal_api_route api_routes[] = {
	/* the API's description: answered without credentials */
	{"GET", "/api/v1/", op_index},
	{"GET", "/api/v1/openapi.yaml", op_openapi},
	{"GET", "/api/v1/me", op_me},
	{"GET", "/api/v1/contracts", op_contracts},
	{"GET", "/api/v1/contracts/{id}", op_contract},
	{"GET", "/api/v1/slots/{id}", op_slot},
	{"GET", "/api/v1/contracts/{id}/acme-keys", portal_api_eab_list},
	{"POST", "/api/v1/contracts/{id}/acme-keys", portal_api_eab_create},
	{"POST", "/api/v1/contracts/{id}/acme-keys/revoke",
	    portal_api_eab_revoke},
	{"POST", "/api/v1/contracts/{id}/acme-accounts/deactivate",
	    portal_api_acme_account_deactivate},
	{"GET", "/api/v1/tokens", portal_api_tokens},
	{"POST", "/api/v1/tokens/{id}/revoke", portal_api_token_revoke},
	{"POST", "/api/v1/slots/{id}/activate", op_activate},
	{"POST", "/api/v1/slots/{id}/orders", portal_api_order_new},
	{"GET", "/api/v1/orders", portal_api_orders},
	{"GET", "/api/v1/orders/{id}", portal_api_order},
	{"GET", "/api/v1/orders/{id}/certificate/{file}", portal_api_download},
	{"POST", "/api/v1/orders/{id}/revoke", portal_api_revoke},
	/* domain validation of an order's names (dv.c) */
	{"GET", "/api/v1/orders/{id}/validations", portal_api_dv_list},
	{"POST", "/api/v1/orders/{id}/validations/choose",
	    portal_api_dv_choose},
	{"POST", "/api/v1/orders/{id}/validations/check", portal_api_dv_check},
	{"POST", "/api/v1/orders/{id}/validations/resend",
	    portal_api_dv_resend},
};

const struct portal_api_route *
portal_api_routes(size_t *n)
{
	*n = sizeof(api_routes) / sizeof(api_routes[0]);
	return api_routes;
}

/* 1 when path matches the template; *id gets the {id} part. */
static int
path_match(const char *tpl, const char *path, int64_t *id)
{
	const char *t = tpl, *p = path;

	*id = 0;
	while (*t != '\0') {
		if (strncmp(t, "{file}", 6) == 0) {
			size_t n = strcspn(p, "/");

			if (n == 0 || n > 32)
				return 0;
			for (size_t i = 0; i < n; i++)
				if (!((p[i] >= 'a' && p[i] <= 'z') ||
				    (p[i] >= '0' && p[i] <= '9') ||
				    p[i] == '.'))
					return 0;
			p += n;
			t += 6;
			continue;
		}
		if (strncmp(t, "{id}", 4) == 0) {
			size_t n = strcspn(p, "/");

			*id = portal_parse_id(p, n);
			if (*id == 0)
				return 0;
			p += n;
			t += 4;
			continue;
		}
		if (*t != *p)
			return 0;
		t++;
		p++;
	}
	return *p == '\0';
}

int
portal_api_handle(struct http_req *r, void *app)
{
	struct portal *p = app;
	struct portal_req c;
	const char *path = http_req_path(r), *m = http_req_method(r);
	const struct portal_api_route *op = NULL;
	char allow[32] = "";
	int64_t id = 0;
	int bad = 0, rc, safe;

	if (strcmp(m, "HEAD") == 0)
		m = "GET";
	for (size_t i = 0; i < sizeof(api_routes) / sizeof(api_routes[0]);
	    i++) {
		int64_t pid;

		if (!path_match(api_routes[i].path, path, &pid))
			continue;
		if (allow[0] != '\0')
			strcat(allow, ", ");
		strcat(allow, api_routes[i].method);
		if (strcmp(api_routes[i].method, m) == 0) {
			op = &api_routes[i];
			id = pid;
		}
	}
	portal_security_headers(r, 0);
	if (op == NULL && allow[0] == '\0')
		return portal_api_problem(r, 404, "not-found", "Not found",
		    "There is no such API resource.");
	if (op == NULL) {
		(void)http_add_header(r, "Allow", allow);
		return portal_api_problem(r, 405, "method-not-allowed",
		    "Method not allowed", NULL);
	}
	rc = portal_req_begin(p, r, &c);
	if (rc != 0)
		return rc;
	if (op->handler == op_index || op->handler == op_openapi) {
		rc = op->handler(&c, id);
		goto out;
	}
	rc = portal_req_auth(&c, 1, &bad);
	if (rc == RC_UNAUTH) {
		(void)http_add_header(r, "WWW-Authenticate", bad ?
		    "Bearer error=\"invalid_token\"" : "Bearer");
		rc = portal_api_problem(r, 401, "unauthorized",
		    "Authentication required", bad ? "The API token is not "
		    "valid (wrong, or revoked)." : "Log in, or send an API "
		    "token as Authorization: Bearer.");
		goto out;
	}
	if (rc != 0)
		goto out;
	/* staff: the customer API has nothing of theirs (the back office
	 * API is theirs), so every operation but "me" is answered as for
	 * an id in another customer's account, before anything is read */
	if (portal_is_staff(&c) && op->handler != op_me) {
		rc = portal_api_problem(r, 404, "not-found", "Not found",
		    "There is no such resource in this account. Staff work "
		    "in the back office (/backoffice/api/).");
		goto out;
	}
	safe = strcmp(op->method, "GET") == 0;
	if (!safe && !portal_req_csrf_ok(&c, http_req_header(r,
	    "X-CSRF-Token"))) {
		rc = portal_api_problem(r, 403, "csrf",
		    "CSRF check failed", "Send the session's CSRF token (see "
		    "GET /api/v1/me) in the X-CSRF-Token header, from this "
		    "site.");
		goto out;
	}
	rc = op->handler(&c, id);
out:
	portal_req_end(&c);
	return rc;
}
