/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin's "ACME accounts" page: every ACME account, newest first, 100
 * a page (?before=<id>), with its contract, contact addresses, key
 * thumbprint and status; a valid one can be revoked by the CA with a
 * reason (RFC 8555 "revoked": its requests are refused from then on, its
 * pending orders fail, its authorizations are revoked; audited as
 * acme.account.revoke by portal:user/<id>), as `certdesk admin account
 * revoke` does. Only users with role admin and a browser session see it;
 * for everyone else it does not exist (404).
 *
 * Runs in the main certdesk process on HTTPS worker threads. Contacts
 * come from ACME clients: everything is escaped.
 */
#include "portal/portal_int.h"
#include "ra/ra.h"
#include "util/log.h"
#include "util/rc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_MAX (2 * 1024 * 1024)
#define PER_PAGE 100

static int
row(struct portal_req *c, struct buf *b, const struct store_acme_account *a)
{
	char made[32], who[256], key[16];
	int rc;

	/* the thumbprint's head tells keys apart; the whole is in the
	 * store and in `certdesk admin list acme-accounts` */
	snprintf(key, sizeof(key), "%.12s", a->thumbprint);
	portal_fmt_time(a->created_at, made);
	json_decref(portal_acme_contacts(a->contact, who, sizeof(who)));
	rc = portal_html_printf(b, "<tr data-account=\"%lld\" data-status="
	    "\"%s\"><td>%lld</td><td>%s</td><td>%s</td><td><code>%s"
	    "\xe2\x80\xa6</code></td><td>%s</td><td>", (long long)a->id,
	    a->status, (long long)a->id, a->contract_number != NULL ?
	    a->contract_number : "\xe2\x80\x94", who[0] ? who :
	    "\xe2\x80\x94", key, made);
	if (rc == 0 && strcmp(a->status, "valid") == 0)
		rc = portal_html_printf(b, "<span class=\"state "
		    "state-issued\">Valid</span></td><td><form method=\"post\" "
		    "action=\"/portal/admin/acme/revoke\" class=\"inline\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		    "<input type=\"hidden\" name=\"account\" value=\"%lld\">"
		    "<label>Reason <input type=\"text\" name=\"reason\" "
		    "required maxlength=\"%lld\" size=\"18\"></label> "
		    "<button type=\"submit\" class=\"button small\">Revoke"
		    "<span class=\"visually-hidden\"> ACME account %lld</span>"
		    "</button></form></td></tr>\n", c->csrf, (long long)a->id,
		    (long long)RA_REVOKE_REASON_MAX, (long long)a->id);
	else if (rc == 0)
		rc = portal_html_printf(b, "<span class=\"state state-revoked"
		    "\">%s</span></td><td><span class=\"muted\">\xe2\x80\x94"
		    "</span></td></tr>\n", strcmp(a->status, "revoked") == 0 ?
		    "Revoked by the CA" : "Deactivated");
	return rc;
}

static int
list_page(struct portal_req *c)
{
	struct store_acme_account *v = NULL;
	int64_t before = portal_query_id(c, "before", 0);
	size_t n = 0;
	struct buf b;
	int rc;

	if (before < 0)
		return portal_error_reply(c, 400, "before: not an account id");
	rc = store_acme_account_page(c->st, before, PER_PAGE, &v, &n);
	if (rc != 0)
		return rc;
	buf_init(&b, PAGE_MAX);
	rc = portal_html_printf(&b, "<h1>ACME accounts</h1>\n");
	if (rc == 0)
		rc = portal_flash_html(c, &b);
	if (rc == 0)
		rc = portal_html_printf(&b, "<section class=\"card acme-"
		    "accounts\">\n<p>Every ACME account, newest first. "
		    "Revoking one stops it for good: its requests are refused, "
		    "its pending orders fail and its authorizations are "
		    "revoked. Its certificates stay valid (they have keys of "
		    "their own). A key that becomes known to be compromised "
		    "revokes its account by itself.</p>\n");
	if (rc == 0 && n == 0)
		rc = portal_html_printf(&b, "<p>No ACME account %s.</p>\n",
		    before ? "older than this" : "has registered yet");
	if (rc == 0 && n > 0)
		rc = portal_html_printf(&b, "<table class=\"acme-accounts\">\n"
		    "<thead><tr><th scope=\"col\">Account</th><th scope="
		    "\"col\">Contract</th><th scope=\"col\">Contact</th><th "
		    "scope=\"col\">Key</th><th scope=\"col\">Registered</th>"
		    "<th scope=\"col\">Status</th><th scope=\"col\">Action"
		    "</th></tr></thead>\n<tbody>\n");
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = row(c, &b, &v[i]);
	if (rc == 0 && n > 0)
		rc = portal_html_printf(&b, "</tbody>\n</table>\n");
	if (rc == 0 && n == PER_PAGE)
		rc = portal_html_printf(&b, "<p><a class=\"button\" href=\""
		    "/portal/admin/acme?before=%lld\">Older accounts</a></p>\n",
		    (long long)v[n - 1].id);
	if (rc == 0 && before > 0)
		rc = portal_html_printf(&b, "<p><a href=\"/portal/admin/acme\">"
		    "Newest accounts</a></p>\n");
	if (rc == 0)
		rc = portal_html_printf(&b, "</section>\n");
	if (rc == 0)
		rc = portal_page_reply(c, 200, "ACME accounts",
		    (const char *)b.data);
	buf_free(&b);
	store_acme_account_page_free(v, n);
	return rc;
}

/* POST /portal/admin/acme/revoke: back to the page with a message. */
static int
revoke_post(struct portal_req *c)
{
	struct portal_form *f = portal_req_form(c);
	struct ra_err err = {0};
	struct ra *ra = NULL;
	const char *v, *reason;
	char actor[48] = "", msg[200], *why = NULL;
	int64_t id;
	int rc;

	if (f == NULL)
		return portal_form_refused(c);
	v = portal_form_get(f, "account");
	reason = portal_form_get(f, "reason");
	id = v != NULL ? portal_parse_id(v, strlen(v)) : 0;
	why = reason != NULL ? strdup(reason) : NULL;
	portal_form_free(f);
	if (id <= 0) {
		rc = RC_NOTFOUND;
	} else if (!ra_revoke_reason_ok(why)) {
		rc = RC_INVAL;
	} else if ((rc = portal_ra_get(c, &ra)) == 0) {
		portal_actor(c, actor);
		rc = ra_account_revoke(ra, id, actor, why, &err);
		portal_ra_put(c, ra);
	}
	if (rc == 0) {
		log_warn(LOG_PORTAL, "ACME account %lld revoked by %s: %s",
		    (long long)id, actor, why);
		snprintf(msg, sizeof(msg), "ACME account %lld is revoked: its "
		    "requests are refused from now on.", (long long)id);
	} else if (rc == RC_INVAL) {
		snprintf(msg, sizeof(msg), "Say why the account is revoked "
		    "(1 to %d characters): the reason goes into the audit "
		    "log.", RA_REVOKE_REASON_MAX);
	} else if (rc == RC_STATE) {
		snprintf(msg, sizeof(msg), "ACME account %lld is not valid "
		    "(deactivated or revoked already).", (long long)id);
	} else if (rc == RC_NOTFOUND) {
		snprintf(msg, sizeof(msg), "There is no such ACME account.");
	} else {
		free(why);
		return rc;
	}
	free(why);
	portal_flash_set(c->r, rc == 0, msg);
	return portal_redirect(c->r, "/portal/admin/acme");
}

int
portal_admin_acme(struct portal_req *c, const char *rest)
{
	if (!portal_admin_allowed(c))
		return portal_error_reply(c, 404, NULL);
	if (rest[0] == '\0')
		return portal_is_get(c->r) ? list_page(c) :
		    portal_error_reply(c, 405, NULL);
	if (strcmp(rest, "/revoke") == 0)
		return portal_is_get(c->r) ? portal_error_reply(c, 405, NULL) :
		    revoke_post(c);
	return portal_error_reply(c, 404, NULL);
}
