/* SPDX-License-Identifier: Apache-2.0 */
/*
 * API tokens in the portal: a user makes tokens for their scripts
 * (Authorization: Bearer on /api/v1/ and, for staff, /backoffice/api/),
 * sees when each was last used, and revokes them. A token acts as its
 * user. It is shown once, when made; the store keeps only its SHA-256.
 * The form redirects to the page that shows it (POST-redirect-GET: a
 * reload makes no second token), which takes it from the store, where
 * the form left it sealed with a key only the browser's session cookie
 * gives (portal_reveal_keep, reveal.c), for a few minutes and for this
 * one showing.
 *
 * Tokens are made only from a browser session, never with a token: a
 * leaked token must not be able to mint others that outlive its
 * revocation. Listing and revoking are in the API too. A staff member's
 * token ends on a day chosen when it is made (PORTAL_TOKEN_DAYS by
 * default, at most PORTAL_TOKEN_DAYS_MAX), as personal access tokens do
 * at GitHub and GitLab; a customer's has no end unless asked for. An
 * expired token is refused as a revoked one is.
 *
 * Runs in the main certdesk process on HTTP worker threads; the request
 * is untrusted.
 */
#include "portal/portal_int.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_MAX 200

/* ---- pages -------------------------------------------------------------- */

struct rows {
	struct portal_req *c;
	struct buf *b;
	size_t n;
};

static int
token_row(const struct store_token *t, void *arg)
{
	struct rows *w = arg;
	char made[32], used[32], gone[32], end[32];
	int rc;

	portal_fmt_time(t->created_at, made);
	portal_fmt_time(t->last_used_at, used);
	portal_fmt_time(t->expires_at, end);
	rc = portal_html_printf(w->b, "<tr><td>%s</td><td>%s</td><td>%s</td>"
	    "<td>%s</td><td>", t->label, made, t->last_used_at ? used :
	    "never", t->expires_at ? end : "never");
	if (rc == 0 && t->revoked_at != 0) {
		portal_fmt_time(t->revoked_at, gone);
		rc = portal_html_printf(w->b, "<span class=\"state "
		    "state-revoked\">Revoked</span> %s</td><td><span "
		    "class=\"muted\">\xe2\x80\x94</span>", gone);
	} else if (rc == 0 && t->expires_at != 0 &&
	    t->expires_at <= w->c->now) {
		rc = portal_html_printf(w->b, "<span class=\"state "
		    "state-expired\">Expired</span></td><td><span "
		    "class=\"muted\">\xe2\x80\x94</span>");
	} else if (rc == 0) {
		rc = portal_html_printf(w->b, "<span class=\"state "
		    "state-issued\">Active</span></td><td>"
		    "<form method=\"post\" action=\"/portal/tokens/revoke\" "
		    "class=\"inline\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		    "<input type=\"hidden\" name=\"id\" value=\"%lld\">"
		    "<button type=\"submit\" class=\"button small\">Revoke"
		    "<span class=\"visually-hidden\"> %s</span></button>"
		    "</form>", w->c->csrf, (long long)t->id, t->label);
	}
	if (rc == 0)
		rc = portal_html_printf(w->b, "</td></tr>\n");
	w->n++;
	return rc;
}

/* A staff member's choice of when the token ends (the form's "days"):
 * the usual lifetimes of personal access tokens, PORTAL_TOKEN_DAYS first
 * chosen, none past PORTAL_TOKEN_DAYS_MAX. */
static int
days_field(struct buf *b)
{
	static const int days[] = {7, 30, 60, PORTAL_TOKEN_DAYS, 180,
	    PORTAL_TOKEN_DAYS_MAX};
	int rc;

	rc = portal_html_printf(b, "<label for=\"t-days\">Expires</label>\n"
	    "<p class=\"hint\" id=\"t-days-hint\">A token for the back "
	    "office always expires: make a new one before then.</p>\n"
	    "<select id=\"t-days\" name=\"days\" "
	    "aria-describedby=\"t-days-hint\">\n");
	for (size_t i = 0; rc == 0 && i < sizeof(days) / sizeof(days[0]);
	    i++)
		rc = portal_html_printf(b, "<option value=\"%lld\"%s>in %lld "
		    "days</option>\n", (long long)days[i],
		    days[i] == PORTAL_TOKEN_DAYS ? " selected" : "",
		    (long long)days[i]);
	if (rc == 0)
		rc = portal_html_printf(b, "</select>\n");
	return rc;
}

/* GET /portal/tokens, with an error about the label typed (NULL: none). */
static int
tokens_page(struct portal_req *c, unsigned status, const char *why,
    const char *label)
{
	struct rows w = {c, NULL, 0};
	struct buf b, t;
	int rc;

	buf_init(&b, 1024 * 1024);
	buf_init(&t, 512 * 1024);
	w.b = &t;
	rc = portal_html_printf(&b, "<h1>API tokens</h1>\n");
	if (rc == 0)
		rc = portal_flash_html(c, &b);
	if (rc == 0)
		rc = portal_html_printf(&b, "<section class=\"card\" "
		    "id=\"tokens-new\">\n<h2>New API token</h2>\n<p>A token "
		    "lets a script use the JSON API under "
		    "<code>/api/v1/</code> as you: send it as "
		    "<code>Authorization: Bearer</code>. "
		    "It is shown once. Revoke a token you no longer need.</p>\n"
		    "<p>What the API does: <a href=\"/api/v1/openapi.yaml\" "
		    "id=\"api-docs\">the API description (OpenAPI)</a>.</p>\n"
		    "<form method=\"post\" "
		    "action=\"/portal/tokens\">\n"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n"
		    "<label for=\"t-label\">What it is for</label>\n",
		    c->csrf);
	if (rc == 0 && why != NULL)
		rc = portal_html_printf(&b, "<p class=\"field-error\" "
		    "id=\"t-label-error\" role=\"alert\" tabindex=\"-1\" "
		    "autofocus>%s</p>\n", why);
	if (rc == 0)
		rc = portal_html_printf(&b, "<input type=\"text\" "
		    "id=\"t-label\" name=\"label\" required "
		    "maxlength=\"200\" value=\"%s\"", label != NULL ? label :
		    "");
	if (rc == 0 && why != NULL)
		rc = portal_html_printf(&b, " aria-invalid=\"true\" "
		    "aria-describedby=\"t-label-error\"");
	if (rc == 0)
		rc = portal_html_printf(&b, ">\n");
	if (rc == 0 && portal_is_staff(c))
		rc = days_field(&b);
	if (rc == 0)
		rc = portal_html_printf(&b, "<button type=\"submit\" "
		    "class=\"button primary\">Create API token</button>\n"
		    "</form>\n</section>\n");
	if (rc == 0)
		rc = store_token_list(c->st, c->user.id, token_row, &w);
	if (rc == 0 && w.n == 0)
		rc = portal_html_printf(&b, "<section class=\"card\" "
		    "id=\"tokens\">\n<h2>Your tokens</h2>\n<p>No API tokens "
		    "yet.</p>\n</section>\n");
	if (rc == 0 && w.n > 0)
		rc = portal_html_printf(&b, "<section class=\"card\" "
		    "id=\"tokens\">\n<h2>Your tokens</h2>\n<table "
		    "class=\"acme-keys\">\n<thead><tr><th scope=\"col\">For"
		    "</th><th scope=\"col\">Made</th><th scope=\"col\">Last "
		    "used</th><th scope=\"col\">Expires</th><th "
		    "scope=\"col\">State</th><th scope=\"col\">"
		    "<span class=\"visually-hidden\">Actions</span></th></tr>"
		    "</thead>\n<tbody>\n");
	if (rc == 0 && w.n > 0)
		rc = buf_append(&b, t.data, t.len);
	if (rc == 0 && w.n > 0)
		rc = portal_html_printf(&b, "</tbody>\n</table>\n</section>\n");
	if (rc == 0)
		rc = portal_page_reply(c, status, "API tokens",
		    (const char *)b.data);
	buf_free(&t);
	buf_free(&b);
	return rc;
}

/* Why a label cannot be one (static text), or NULL when it can: 1 to 200
 * bytes, no line breaks or tabs, not only blanks. */
static const char *
label_problem(const char *label)
{
	if (label == NULL || label[strspn(label, " ")] == '\0')
		return "Please say what the token is for.";
	if (strlen(label) > LABEL_MAX)
		return "Please keep it to 200 characters.";
	if (strpbrk(label, "\t\r\n") != NULL)
		return "Please write it on one line.";
	return NULL;
}

/* The form's "days" (1 to PORTAL_TOKEN_DAYS_MAX), 0 when not given (the
 * user's default, portal_token_create()), -1 for anything else. */
static int
days_of(const char *v)
{
	int64_t n;

	if (v == NULL || v[0] == '\0')
		return 0;
	n = portal_parse_id(v, strlen(v));
	return n > 0 && n <= PORTAL_TOKEN_DAYS_MAX ? (int)n : -1;
}

/* Revokes one of the user's tokens: 0, RC_NOTFOUND (no such usable
 * token of theirs). */
static int
revoke(struct portal_req *c, int64_t id)
{
	char actor[48], unused[PORTAL_TOKEN_TEXT];
	int64_t done;
	time_t none;

	portal_actor(c, actor);
	return portal_token_change(c->st, c->user.id, NULL, 0, id, actor,
	    unused, &done, &none);
}

/* POST /portal/tokens: makes the token and redirects to the page that
 * shows it once (new_page). */
static int
create_post(struct portal_req *c)
{
	struct portal_form *f;
	const char *label, *why;
	char token[PORTAL_TOKEN_TEXT], actor[48], *label_copy, to[64];
	int64_t id = 0;
	time_t expires_at;
	int days, rc;

	if ((f = portal_req_form(c)) == NULL)
		return portal_form_refused(c);
	label = portal_form_get(f, "label");
	days = days_of(portal_form_get(f, "days"));
	why = label_problem(label);
	if (why == NULL && days < 0)
		why = "Please choose when the token expires: in 1 to 365 days.";
	if (why != NULL) {
		rc = tokens_page(c, 422, why, label);
		portal_form_free(f);
		return rc;
	}
	label_copy = xstrdup(label);
	portal_form_free(f);
	portal_actor(c, actor);
	rc = portal_token_change(c->st, c->user.id, label_copy, days, 0,
	    actor, token, &id, &expires_at);
	free(label_copy);
	if (rc != 0)
		return rc;
	log_info(LOG_PORTAL, "API token %lld made by user %lld", (long long)id,
	    (long long)c->user.id);
	rc = portal_reveal_keep(c, &(struct store_reveal){.token_id = id},
	    token);
	sec_wipe(token, sizeof(token));
	if (rc != 0) {
		/* a token nobody can be shown is of no use to anyone */
		log_err(LOG_PORTAL, "API token %lld: cannot keep it for its "
		    "page: %s", (long long)id, rc_str(rc));
		(void)revoke(c, id);
		return rc;
	}
	snprintf(to, sizeof(to), "/portal/tokens/new/%lld", (long long)id);
	return portal_redirect(c->r, to);
}

struct find {
	int64_t id;
	char *label;
	time_t expires_at;
};

static int
find_row(const struct store_token *t, void *arg)
{
	struct find *w = arg;

	if (t->id != w->id)
		return 0;
	w->label = xstrdup(t->label);
	w->expires_at = t->expires_at;
	return 1;
}

/* GET /portal/tokens/new/<id>: the new token, shown this once. */
static int
new_page(struct portal_req *c, int64_t id)
{
	struct find w = {id, NULL, 0};
	char token[PORTAL_REVEAL_TEXT] = "", end[32];
	const char *host = http_req_header(c->r, "Host");
	struct buf b;
	int rc;

	/* the user's own tokens only */
	rc = store_token_list(c->st, c->user.id, find_row, &w);
	if (rc < 0)
		return rc;
	if (w.label == NULL)
		return portal_error_reply(c, 404, NULL);
	rc = portal_reveal_take(c, &(struct store_reveal){.token_id = id},
	    token);
	if (rc == RC_NOTFOUND) {
		/* shown already (a reload, the back button), or never to
		 * this session: the text is gone for good */
		free(w.label);
		portal_flash_set(c->r, 0, "A new token is shown only once, "
		    "right after it is made, and not again. If it was not "
		    "copied, revoke it and create a new one.");
		return portal_redirect(c->r, "/portal/tokens");
	}
	if (rc != 0) {
		free(w.label);
		return rc;
	}
	buf_init(&b, 64 * 1024);
	rc = portal_html_printf(&b, "<h1>API token</h1>\n<section "
	    "class=\"card\" id=\"token-new\">\n<h2>For %s</h2>\n<p "
	    "class=\"alert\" role=\"alert\">Copy the token now: it is shown "
	    "only this once. If it is lost, revoke it and create a new one."
	    "</p>\n<table class=\"dv-values\">\n", w.label);
	if (rc == 0)
		rc = portal_copy_row(&b, "Token", "api-token", token);
	portal_fmt_time(w.expires_at, end);
	if (rc == 0)
		rc = portal_html_printf(&b, "<tr><th scope=\"row\">Expires"
		    "</th><td id=\"api-token-expires\">%s</td><td></td></tr>\n",
		    w.expires_at ? end : "never");
	if (rc == 0)
		rc = portal_html_printf(&b, "</table>\n<pre><code>curl -H "
		    "\"Authorization: Bearer %s\" \\\n    https://%s/api/v1/me"
		    "</code></pre>\n<p>What the API does: <a href=\"/api/v1/"
		    "openapi.yaml\">the API description (OpenAPI)</a>.</p>\n"
		    "<p><a href=\"/portal/tokens\">Back to API tokens</a></p>\n"
		    "</section>\n", token,
		    host != NULL ? host : "<this server>");
	if (rc == 0)
		rc = portal_page_reply(c, 200, "API token",
		    (const char *)b.data);
	sec_wipe(token, sizeof(token));
	free(w.label);
	buf_free(&b);
	return rc;
}

/* POST /portal/tokens/revoke */
static int
revoke_post(struct portal_req *c)
{
	struct portal_form *f;
	const char *v;
	int64_t id;
	int rc;

	if ((f = portal_req_form(c)) == NULL)
		return portal_form_refused(c);
	v = portal_form_get(f, "id");
	id = v != NULL ? portal_parse_id(v, strlen(v)) : 0;
	portal_form_free(f);
	rc = id > 0 ? revoke(c, id) : RC_NOTFOUND;
	if (rc != 0 && rc != RC_NOTFOUND)
		return rc;
	portal_flash_set(c->r, rc == 0, rc == 0 ? "The token is revoked: "
	    "requests with it are refused from now on." : "There is no such "
	    "token to revoke.");
	return portal_redirect(c->r, "/portal/tokens");
}

/* Pages take no token (portal_req_auth without tokens), so whoever is
 * here came with a browser session. */
int
portal_tokens(struct portal_req *c, const char *rest)
{
	int64_t id;

	if (rest[0] == '\0')
		return portal_is_get(c->r) ? tokens_page(c, 200, NULL, NULL) :
		    create_post(c);
	if (strcmp(rest, "/revoke") == 0)
		return portal_is_get(c->r) ? portal_error_reply(c, 405, NULL) :
		    revoke_post(c);
	if (strncmp(rest, "/new/", 5) == 0 &&
	    (id = portal_parse_id(rest + 5, strlen(rest + 5))) > 0)
		return portal_is_get(c->r) ? new_page(c, id) :
		    portal_error_reply(c, 405, NULL);
	return portal_error_reply(c, 404, NULL);
}

/* ---- API ---------------------------------------------------------------- */

static int
token_json(const struct store_token *t, void *arg)
{
	json_t *list = arg, *j;
	char when[32];

	portal_fmt_rfc3339(t->created_at, when);
	j = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)t->id, "label",
	    t->label, "created", when);
	if (j == NULL)
		return RC_NOMEM;
	if (t->last_used_at != 0) {
		portal_fmt_rfc3339(t->last_used_at, when);
		json_object_set_new(j, "last_used", json_string(when));
	} else {
		json_object_set_new(j, "last_used", json_null());
	}
	if (t->revoked_at != 0) {
		portal_fmt_rfc3339(t->revoked_at, when);
		json_object_set_new(j, "revoked", json_string(when));
	} else {
		json_object_set_new(j, "revoked", json_null());
	}
	if (t->expires_at != 0) {
		portal_fmt_rfc3339(t->expires_at, when);
		json_object_set_new(j, "expires", json_string(when));
	} else {
		json_object_set_new(j, "expires", json_null());
	}
	json_array_append_new(list, j);
	return 0;
}

/* GET /api/v1/tokens */
int
portal_api_tokens(struct portal_req *c, int64_t unused)
{
	json_t *list = json_array();
	int rc;

	(void)unused;
	rc = store_token_list(c->st, c->user.id, token_json, list);
	if (rc != 0) {
		json_decref(list);
		return rc;
	}
	return portal_api_json(c->r, 200, json_pack("{s:o}", "tokens", list));
}

/* POST /api/v1/tokens/{id}/revoke */
int
portal_api_token_revoke(struct portal_req *c, int64_t id)
{
	int rc = revoke(c, id);

	if (rc == RC_NOTFOUND)
		return portal_api_not_found(c);
	if (rc != 0)
		return rc;
	return portal_api_json(c->r, 200, json_pack("{s:I,s:s}", "id",
	    (json_int_t)id, "status", "revoked"));
}
