/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Domain validation as the customer and the domain's hostmaster see it.
 *
 * The overview shows, for each name of a pending order, how it is being
 * validated in plain words: for "dns-auto" that we add the record on our
 * nameservers and check it; for "dns" the exact TXT record to add and for
 * "http" the exact URL and file content (copy buttons), each with "Check
 * now"; for "email" the address the mail went to and when, with "Resend"
 * (disabled, with the time, while rate-limited); a form to switch method;
 * the policy warning when email validation goes away; and the last
 * failure in the customer's words with what to do next. The order's page
 * shows the same card. Its POSTs (choose, check, resend) redirect back to
 * the page they were sent from, the overview or the order's page, with a
 * message (PRG, the message in a short-lived cookie).
 *
 * The confirmation link of the hostmaster's mail, /confirm/<token>, is not
 * behind the login: GET only shows what is being confirmed (mail scanners
 * follow links), a POST confirms. The token is a secret in the URL: those
 * pages are sent with Referrer-Policy: no-referrer and Cache-Control:
 * no-store, load nothing from elsewhere and are never logged with it.
 *
 * The same operations for the JSON API (api.c's table). Every decision is
 * the ra's (ra_dv_*): this file speaks HTML and JSON.
 *
 * Runs in the main certdesk process on HTTPS worker threads; everything in
 * a request is untrusted.
 */
#include "portal/portal_int.h"
#include "ra/ra.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_MAX (1024 * 1024)
#define UA_MAX 256

/* ---- small helpers ------------------------------------------------------- */

/* "27 Nov 2026, 14:05 UTC" into out; "—" for 0. */
static void
when(time_t t, char out[40])
{
	portal_fmt_time(t, out);
}

static int
pending_state(const char *state)
{
	return strcmp(state, "validation_pending") == 0 ||
	    strcmp(state, "org_validation_pending") == 0;
}

/* The name as the certificate carries it. */
static void
shown_name(const struct ra_dv_state *v, char out[260])
{
	snprintf(out, 260, "%s%s", v->wildcard ? "*." : "", v->name);
}

/* The customer's words for a method. */
static const char *
method_words(enum ra_dv_method m)
{
	switch (m) {
	case RA_DV_DNS_AUTO:
		return "Automatic, through a DNS record on our nameservers";
	case RA_DV_EMAIL:
		return "Email to the domain's administrator";
	case RA_DV_DNS:
		return "A DNS record you add";
	case RA_DV_HTTP:
		return "A file on your website";
	case RA_DV_OPERATOR:
		return "Confirmed by our validation team";
	case RA_DV_REUSED:
		return "An earlier confirmation for this contract";
	default:
		return "Not chosen yet";
	}
}

/* What a name waits for: 1 when the customer (or their hostmaster) must
 * act. */
static int
waits_for_customer(const struct ra_dv_state *v)
{
	return strcmp(v->status, "pending") == 0 &&
	    (v->method == RA_DV_DNS || v->method == RA_DV_HTTP ||
	    v->method == RA_DV_EMAIL || v->method == RA_DV_NONE);
}

/* ---- the overview's card ------------------------------------------------- */

int
portal_copy_row(struct buf *b, const char *label, const char *id,
    const char *value)
{
	return portal_html_printf(b, "<tr><th scope=\"row\">%s</th>"
	    "<td><code class=\"dv-value\" id=\"%s\">%s</code></td>"
	    "<td><button type=\"button\" class=\"button small dv-copy\" "
	    "data-copy=\"%s\" hidden>Copy<span class=\"visually-hidden\"> "
	    "%s</span></button></td></tr>\n", label, id, value, id, label);
}

/* Where the card's forms lead back to: the order's page when it is shown
 * there (on_page), else the overview (no field). A name from a fixed set,
 * never an address: portal_dv_post() maps it to one. */
static int
back_field(struct buf *b, int on_page)
{
	return on_page ? portal_html_printf(b, "<input type=\"hidden\" "
	    "name=\"back\" value=\"order\">") : 0;
}

static int
post_button(struct portal_req *c, struct buf *b, int64_t order_id,
    int on_page, int64_t authz, const char *action, const char *label,
    const char *cls, const char *disabled_note)
{
	int rc = portal_html_printf(b, "<form method=\"post\" "
	    "action=\"/portal/orders/%lld/dv/%lld/%s\" class=\"inline\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">",
	    (long long)order_id, (long long)authz, action, c->csrf);

	if (rc == 0)
		rc = back_field(b, on_page);
	if (rc == 0)
		rc = portal_html_printf(b, "<button type=\"submit\" "
		    "class=\"button %s\" id=\"dv-%s-%lld\"%s>%s</button>",
		    cls, action, (long long)authz,
		    disabled_note ? " disabled" : "", label);

	if (rc == 0 && disabled_note != NULL)
		rc = portal_html_printf(b, " <span class=\"muted\">%s</span>",
		    disabled_note);
	if (rc == 0)
		rc = portal_html_printf(b, "</form>\n");
	return rc;
}

/* The "use another method" form of one pending name. The email choices
 * are the constructed addresses (BR 3.2.2.4.4) at each Authorization
 * Domain Name of the name, the one the first mail used first: for
 * www.example.com, hostmaster@example.com as well as
 * hostmaster@www.example.com. */
static int
switch_form(struct portal_req *c, struct buf *b, int64_t order_id,
    int on_page, const struct ra_dv_state *v)
{
	static const char *const LOCALS[] = {"admin", "administrator",
		"webmaster", "hostmaster", "postmaster"};
	char cur[320] = "";
	long long a = (long long)v->authz_id;
	int rc;

	if (v->method == RA_DV_EMAIL && v->email_to[0] != '\0')
		snprintf(cur, sizeof(cur), "%s", v->email_to);
	else if (v->n_email_adns > 0)
		snprintf(cur, sizeof(cur), "hostmaster@%s", v->email_adns[0]);
	rc = portal_html_printf(b, "<details class=\"dv-switch\">"
	    "<summary>Use another method</summary>\n"
	    "<form method=\"post\" action=\"/portal/orders/%lld/dv/%lld/"
	    "choose\" class=\"stack\">\n"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n",
	    (long long)order_id, a, c->csrf);
	if (rc == 0)
		rc = back_field(b, on_page);
	if (rc == 0)
		rc = portal_html_printf(b, "<fieldset><legend>How should we "
		    "confirm %s%s?</legend>\n", v->wildcard ? "*." : "",
		    v->name);
	if (rc == 0 && v->hosted)
		rc = portal_html_printf(b, "<label class=\"choice\"><input "
		    "type=\"radio\" name=\"method\" value=\"dns-auto\"%s> "
		    "Automatically: we add a temporary DNS record on our "
		    "nameservers (recommended)</label>\n",
		    v->method == RA_DV_DNS_AUTO ? " checked" : "");
	/* wildcards only through DNS (DESIGN.md, BR 3.2.2.4) */
	if (rc == 0 && v->email_allowed && !v->wildcard &&
	    v->n_email_adns > 0) {
		rc = portal_html_printf(b, "<label class=\"choice\"><input "
		    "type=\"radio\" name=\"method\" value=\"email\"%s> By "
		    "email to</label> <label class=\"visually-hidden\" "
		    "for=\"dv-to-%lld\">Address</label><select "
		    "id=\"dv-to-%lld\" name=\"email_to\">",
		    v->method == RA_DV_EMAIL ? " checked" : "", a, a);
		for (size_t d = 0; rc == 0 && d < v->n_email_adns; d++)
			for (size_t i = 0; rc == 0 && i < 5; i++) {
				char to[320];

				snprintf(to, sizeof(to), "%s@%s", LOCALS[i],
				    v->email_adns[d]);
				rc = portal_html_printf(b, "<option "
				    "value=\"%s\"%s>%s</option>", to,
				    strcmp(to, cur) == 0 ? " selected" : "",
				    to);
			}
		if (rc == 0)
			rc = portal_html_printf(b, "</select>\n");
	}
	if (rc == 0)
		rc = portal_html_printf(b, "<label class=\"choice\"><input "
		    "type=\"radio\" name=\"method\" value=\"dns\"%s> I add a "
		    "DNS TXT record at my DNS host</label>\n",
		    v->method == RA_DV_DNS ? " checked" : "");
	if (rc == 0 && !v->wildcard)
		rc = portal_html_printf(b, "<label class=\"choice\"><input "
		    "type=\"radio\" name=\"method\" value=\"http\"%s> I place "
		    "a file on my website</label>\n",
		    v->method == RA_DV_HTTP ? " checked" : "");
	if (rc == 0 && v->wildcard)
		rc = portal_html_printf(b, "<p class=\"hint\">A wildcard "
		    "certificate can only be confirmed through DNS.</p>\n");
	if (rc == 0)
		rc = portal_html_printf(b, "</fieldset>\n<div><button "
		    "type=\"submit\" class=\"button\" id=\"dv-choose-%lld\">"
		    "Use this method</button></div>\n</form>\n</details>\n", a);
	return rc;
}

/* The ra's email_local for a choice: "local" or "local@domain" (out:
 * 272 bytes). */
static const char *
choice_local(const struct portal_dv_choice *ch, char *out, size_t n)
{
	if (ch->method != RA_DV_EMAIL)
		return NULL;
	snprintf(out, n, "%s%s%s", ch->email_local,
	    ch->email_domain[0] ? "@" : "", ch->email_domain);
	return out;
}

static int
name_block(struct portal_req *c, struct buf *b, int64_t order_id,
    int on_page, const struct ra_dv_state *v)
{
	char name[260], t1[40], t2[40], id[48];
	long long a = (long long)v->authz_id;
	int pending = strcmp(v->status, "pending") == 0;
	int rc;

	shown_name(v, name);
	rc = portal_html_printf(b, "<div class=\"dv-name\" id=\"dv-%lld\" "
	    "data-authz=\"%lld\" data-name=\"%s\" data-status=\"%s\" "
	    "data-method=\"%s\">\n<h3>%s <span class=\"state dv-%s\">%s"
	    "</span></h3>\n", a, a, name, v->status,
	    ra_dv_method_name(v->method), name, v->status,
	    strcmp(v->status, "valid") == 0 ? "Confirmed" : pending &&
	    v->method == RA_DV_DNS_AUTO ? "Checking" : pending ?
	    "Waiting for confirmation" : strcmp(v->status, "expired") == 0 ?
	    "Expired" : "Not confirmed");
	if (rc != 0)
		return rc;
	if (strcmp(v->status, "valid") == 0) {
		when(v->validated_at, t1);
		when(v->expires_at, t2);
		return portal_html_printf(b, "<p>%s. Confirmed on %s; the "
		    "confirmation can be used for new certificates of this "
		    "contract until %s.</p>\n</div>\n", method_words(v->method),
		    t1, t2);
	}
	if (!pending) {
		rc = portal_html_printf(b, "<p class=\"alert\" role=\"alert\">"
		    "%s</p>\n</div>\n", v->message[0] ? v->message :
		    "This name could not be confirmed. Please set up the "
		    "certificate again.");
		return rc;
	}
	rc = portal_html_printf(b, "<p class=\"dv-method\"><strong>Method:"
	    "</strong> %s</p>\n", method_words(v->method));
	if (rc == 0 && v->problem[0] != '\0') {
		when(v->checked_at, t1);
		rc = portal_html_printf(b, "<div class=\"alert dv-problem\" "
		    "role=\"alert\" data-problem=\"%s\"><p><strong>Not "
		    "confirmed yet</strong> (checked %s).</p><p>%s</p></div>\n",
		    v->problem, t1, v->message[0] ? v->message :
		    "The last check did not succeed. Please check the "
		    "instructions below and try again.");
	}
	if (rc != 0)
		return rc;
	switch (v->method) {
	case RA_DV_DNS_AUTO:
		when(v->next_check_at, t1);
		rc = portal_html_printf(b, "<p class=\"dv-auto\" "
		    "role=\"status\"><span class=\"spinner\" aria-hidden=\""
		    "true\"></span><span>We are adding the record "
		    "<code>%s</code> on our nameservers and checking it. This "
		    "usually takes a minute or two; there is nothing for you "
		    "to do. This page updates itself.</span></p>\n",
		    v->dns_owner);
		if (rc == 0 && v->next_check_at > c->now)
			rc = portal_html_printf(b, "<p class=\"hint\">Next check:"
			    " %s.</p>\n", t1);
		break;
	case RA_DV_DNS:
		snprintf(id, sizeof(id), "dv-owner-%lld", a);
		rc = portal_html_printf(b, "<p>Add this TXT record "
		    "at the company that hosts the DNS of <strong>%s</strong>"
		    " (often your domain registrar):</p>\n<table "
		    "class=\"dv-record\">\n<tbody>\n", v->name);
		if (rc == 0)
			rc = portal_copy_row(b, "Name (host)", id, v->dns_owner);
		if (rc == 0)
			rc = portal_html_printf(b, "<tr><th scope=\"row\">Type"
			    "</th><td><code class=\"dv-value\">TXT</code></td>"
			    "<td></td></tr>\n");
		snprintf(id, sizeof(id), "dv-value-%lld", a);
		if (rc == 0)
			rc = portal_copy_row(b, "Value", id, v->dns_value);
		if (rc == 0)
			rc = portal_html_printf(b, "</tbody>\n</table>\n<p "
			    "class=\"hint\">If your DNS host adds your domain "
			    "to every name by itself, leave your domain off "
			    "the end of the name. Wait a few minutes after "
			    "adding the record, then press <strong>Check now"
			    "</strong>. We also check by ourselves from time "
			    "to time.</p>\n");
		if (rc == 0)
			rc = post_button(c, b, order_id, on_page,
			    v->authz_id, "check", "Check now", "primary",
			    NULL);
		break;
	case RA_DV_HTTP:
		snprintf(id, sizeof(id), "dv-url-%lld", a);
		rc = portal_html_printf(b, "<p>Place a file on your "
		    "website so that this address shows exactly the content "
		    "below (plain text, over plain HTTP on port 80; a redirect"
		    " to HTTPS is fine):</p>\n<table class=\"dv-record\">\n"
		    "<tbody>\n");
		if (rc == 0)
			rc = portal_copy_row(b, "Address (URL)", id, v->http_url);
		snprintf(id, sizeof(id), "dv-body-%lld", a);
		if (rc == 0)
			rc = portal_copy_row(b, "File content", id, v->http_body);
		if (rc == 0)
			rc = portal_html_printf(b, "</tbody>\n</table>\n<p "
			    "class=\"hint\">Then press <strong>Check now"
			    "</strong>. You can remove the file once the "
			    "certificate is issued.</p>\n");
		if (rc == 0)
			rc = post_button(c, b, order_id, on_page,
			    v->authz_id, "check", "Check now", "primary",
			    NULL);
		break;
	case RA_DV_EMAIL: {
		char note[120];
		const char *dis = NULL;

		when(v->email_sent_at, t1);
		if (v->email_sent_at != 0)
			rc = portal_html_printf(b, "<p class=\""
			    "dv-email\">We sent an email to <strong>%s"
			    "</strong> on %s. Whoever reads that mailbox "
			    "confirms the request with the link in it; the "
			    "certificate is issued right after.</p>\n",
			    v->email_to, t1);
		else
			rc = portal_html_printf(b, "<p class=\""
			    "dv-email\">We are sending an email to <strong>%s"
			    "</strong>. Whoever reads that mailbox confirms "
			    "the request with the link in it.</p>\n",
			    v->email_to);
		if (v->email_sends_left <= 0) {
			dis = "No more emails can be sent for this name: "
			    "please use another method.";
		} else if (v->email_resend_at > c->now) {
			when(v->email_resend_at, t2);
			snprintf(note, sizeof(note), "You can resend it from "
			    "%s.", t2);
			dis = note;
		}
		if (rc == 0)
			rc = post_button(c, b, order_id, on_page,
			    v->authz_id, "resend", "Resend email", "", dis);
		break;
	}
	default:
		rc = portal_html_printf(b, "<p>Please choose how "
		    "you want to confirm that you control this domain.</p>\n");
		break;
	}
	if (rc == 0)
		rc = switch_form(c, b, order_id, on_page, v);
	if (rc == 0)
		rc = portal_html_printf(b, "</div>\n");
	return rc;
}

int
portal_dv_section(struct portal_req *c, struct ra *ra,
    const struct ra_portal_order *o, struct buf *b, int *needs_customer,
    int on_page)
{
	struct ra_dv_state *v = NULL;
	const char *warning = NULL;
	char names[512];
	size_t n = 0;
	int rc;

	if (o->acme || !pending_state(o->state))
		return 0;
	rc = ra_dv_list(ra, portal_customer_scope(c), o->id, &v, &n);
	if (rc == RC_NOTFOUND)
		return 0;
	if (rc != 0) {
		/* the rest of the overview is still worth showing */
		log_err(LOG_PORTAL, "order %lld: validations: %s",
		    (long long)o->id, rc_str(rc));
		return portal_html_printf(b, "<section class=\"card dv\" "
		    "id=\"order-%lld\"><p class=\"alert\" role=\"alert\">"
		    "The validation of this order cannot be shown just now. "
		    "Please reload the page in a moment.</p></section>\n",
		    (long long)o->id);
	}
	/* nothing to confirm: every name is (an OV/EV order whose names an
	 * earlier validation covers waits only for the back office) */
	{
		size_t valid = 0;

		for (size_t i = 0; i < n; i++)
			valid += strcmp(v[i].status, "valid") == 0;
		if (valid == n)
			goto out;
	}
	/* "a b" -> "a, b" */
	names[0] = '\0';
	for (const char *p = o->names; *p != '\0' &&
	    strlen(names) + 3 < sizeof(names); p++) {
		size_t k = strlen(names);

		if (*p == ' ') {
			names[k++] = ',';
			names[k++] = ' ';
		} else {
			names[k++] = *p;
		}
		names[k] = '\0';
	}
	/* the policy warning once per order (the same for each name), when
	 * a name is being validated by email */
	for (size_t i = 0; i < n && warning == NULL; i++)
		if (strcmp(v[i].status, "pending") == 0 &&
		    v[i].email_warning[0] != '\0' &&
		    v[i].method == RA_DV_EMAIL)
			warning = v[i].email_warning;
	rc = portal_html_printf(b, "<section class=\"card dv\" "
	    "id=\"order-%lld\" data-order=\"%lld\" aria-labelledby=\""
	    "dv-h-%lld\">\n<h2 id=\"dv-h-%lld\">Confirm your domain: %s"
	    "</h2>\n<p>Before the certificate authority issues the "
	    "certificate, it must confirm that you control each name in it."
	    "</p>\n", (long long)o->id, (long long)o->id, (long long)o->id,
	    (long long)o->id, names);
	if (rc == 0 && warning != NULL)
		rc = portal_html_printf(b, "<p class=\"warning dv-warning\" "
		    "role=\"note\">%s</p>\n", warning);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (needs_customer != NULL && waits_for_customer(&v[i]))
			*needs_customer = 1;
		rc = name_block(c, b, o->id, on_page, &v[i]);
	}
	if (rc == 0)
		rc = portal_html_printf(b, "</section>\n");
out:
	free(v);
	return rc;
}

/* ---- the overview's POSTs ------------------------------------------------ */

/* The state of one name of an order after an action, for the message. */
static int
state_of(struct ra *ra, int64_t scope, int64_t order_id, int64_t authz,
    struct ra_dv_state *out)
{
	struct ra_dv_state *v = NULL;
	size_t n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = ra_dv_list(ra, scope, order_id, &v, &n);
	if (rc != 0)
		return rc;
	rc = RC_NOTFOUND;
	for (size_t i = 0; i < n; i++)
		if (v[i].authz_id == authz) {
			*out = v[i];
			rc = 0;
		}
	free(v);
	return rc;
}

/* Back to the page the form was sent from: the order's page when its
 * "back" field says "order", else the overview. The field names one of
 * these two, never an address: nothing it holds leads anywhere else. The
 * message shows at the top of that page, in view: it names the name it is
 * about. */
static int
from_order_page(const struct portal_form *f)
{
	const char *to = portal_form_get(f, "back");

	return to != NULL && strcmp(to, "order") == 0;
}

static int
back(struct portal_req *c, const struct portal_form *f, int64_t order_id,
    int ok, const char *text)
{
	char path[64];

	if (from_order_page(f))
		snprintf(path, sizeof(path), "/portal/orders/%lld",
		    (long long)order_id);
	else
		snprintf(path, sizeof(path), "/portal/overview");
	portal_flash_set(c->r, ok, text);
	return portal_redirect(c->r, path);
}

int
portal_dv_post(struct portal_req *c, int64_t order_id, const char *rest)
{
	struct portal_form *f = NULL;
	struct ra *ra = NULL;
	struct ra_portal_order o = {0};
	struct ra_dv_state st;
	struct ra_err err = {0};
	struct portal_dv_choice ch;
	const uint8_t *body;
	const char *action, *why = NULL;
	char actor[48], msg[PORTAL_FLASH_MAX + 1], name[260], local[280];
	int64_t authz, scope = portal_customer_scope(c);
	size_t blen;
	int rc, valid = 0;

	if (portal_dv_action_parse(rest, &authz, &action) != 0)
		return portal_error_reply(c, 404, NULL);
	if (portal_is_get(c->r))
		return portal_error_reply(c, 405, NULL);
	body = http_req_body(c->r, &blen);
	if (portal_form_parse(body, blen, &f) != 0) {
		rc = portal_error_reply(c, 400, NULL);
		goto out;
	}
	if (!portal_req_csrf_ok(c, portal_form_get(f, "csrf"))) {
		rc = portal_error_reply(c, 403, NULL);
		goto out;
	}
	rc = portal_ra_get(c, &ra);
	if (rc != 0)
		goto out;
	/* another customer's order is "not found", like a missing one */
	rc = scope <= 0 ? RC_NOTFOUND : ra_portal_order_get(ra, scope,
	    order_id, &o);
	if (rc == 0 && o.acme)
		rc = RC_NOTFOUND;
	if (rc == RC_NOTFOUND) {
		rc = portal_error_reply(c, 404, NULL);
		goto out;
	}
	if (rc != 0)
		goto out;
	portal_actor(c, actor);
	if (strcmp(action, "choose") == 0) {
		const char *to = portal_form_get(f, "email_to");

		rc = portal_dv_choice_parse(portal_form_get(f, "method"),
		    portal_form_get(f, "email_local"), &ch, &why);
		/* the overview's list of addresses */
		if (rc == 0 && ch.method == RA_DV_EMAIL && to != NULL &&
		    to[0] != '\0')
			rc = portal_dv_email_to_parse(to, &ch, &why);
		if (rc == RC_INVAL) {
			rc = back(c, f, order_id, 0, why);
			goto out;
		}
		rc = ra_dv_choose(ra, scope, order_id, authz,
		    (enum ra_dv_method)ch.method, choice_local(&ch, local,
		    sizeof(local)), actor, &err);
	} else if (strcmp(action, "check") == 0) {
		rc = ra_dv_check_now(ra, scope, order_id, authz, actor, &valid,
		    &err);
	} else {
		rc = ra_dv_email_resend(ra, scope, order_id, authz, actor,
		    &err);
	}
	if (rc == RC_NOTFOUND) {
		rc = portal_error_reply(c, 404, NULL);
		goto out;
	}
	if (rc == RC_STATE || rc == RC_POLICY || rc == RC_INVAL) {
		rc = back(c, f, order_id, 0, err.detail.msg[0] ?
		    err.detail.msg : rc == RC_STATE ? "This name is no longer "
		    "waiting for confirmation." : "That is not possible for "
		    "this name.");
		goto out;
	}
	if (rc != 0)
		goto out;
	log_info(LOG_PORTAL, "order %lld: validation %lld: %s by user %lld",
	    (long long)order_id, (long long)authz, action,
	    (long long)c->user.id);
	if (state_of(ra, scope, order_id, authz, &st) != 0) {
		rc = back(c, f, order_id, 1, "Done.");
		goto out;
	}
	shown_name(&st, name);
	if (strcmp(action, "check") == 0 && (valid ||
	    strcmp(st.status, "valid") == 0)) {
		/* the last name: the certificate was issued at once */
		ra_portal_order_clear(&o);
		snprintf(msg, sizeof(msg), "%s is confirmed.%s", name,
		    ra_portal_order_get(ra, scope, order_id, &o) == 0 &&
		    strcmp(o.state, "issued") == 0 ? from_order_page(f) ?
		    " Your certificate is issued: download it below." :
		    " Your certificate is issued: open Details to download "
		    "it." : "");
	}
	else if (strcmp(action, "check") == 0)
		snprintf(msg, sizeof(msg), "We checked %s: not confirmed yet. "
		    "See below for what to do next.", name);
	else if (strcmp(action, "resend") == 0 || st.method == RA_DV_EMAIL)
		snprintf(msg, sizeof(msg), "We sent an email to %s.",
		    st.email_to);
	else if (st.method == RA_DV_DNS)
		snprintf(msg, sizeof(msg), "Add the DNS record shown for %s, "
		    "then press Check now.", name);
	else if (st.method == RA_DV_HTTP)
		snprintf(msg, sizeof(msg), "Place the file shown for %s on "
		    "your website, then press Check now.", name);
	else
		snprintf(msg, sizeof(msg), "We are adding the DNS record for "
		    "%s on our nameservers.", name);
	rc = back(c, f, order_id, strcmp(action, "check") != 0 || valid ||
	    strcmp(st.status, "valid") == 0, msg);
out:
	ra_portal_order_clear(&o);
	portal_ra_put(c, ra);
	portal_form_free(f);
	return rc;
}

/* ---- the confirmation page ----------------------------------------------- */

static int
confirm_reply(struct portal_req *c, unsigned status, const char *title,
    const char *body)
{
	struct portal_page pg;
	struct buf out;
	int rc;

	memset(&pg, 0, sizeof(pg));
	pg.title = title;
	pg.css_href = portal_css_href(c->p);
	pg.body = body;
	buf_init(&out, PAGE_MAX);
	rc = portal_html_page(&out, &pg);
	if (rc == 0) {
		portal_security_headers_secret(c->r);
		rc = http_reply(c->r, status, "text/html; charset=utf-8",
		    out.data, out.len);
	}
	buf_free(&out);
	return rc;
}

/* A page that says why the link does nothing (any state but pending). */
static int
link_gone(struct portal_req *c, const struct ra_dv_email_link *l)
{
	const char *title, *text;
	struct buf b;
	unsigned status = 410;
	int rc;

	if (l == NULL) {
		status = 404;
		title = "Unknown confirmation link";
		text = "This confirmation link is not known. Please check "
		    "that you opened the whole link from the email; if it "
		    "was split over two lines, copy both parts.";
	} else if (strcmp(l->state, "confirmed") == 0) {
		title = "Already confirmed";
		text = "This request was confirmed already; the link works "
		    "only once. Nothing else needs to be done.";
	} else if (strcmp(l->state, "replaced") == 0) {
		title = "A newer email was sent";
		text = "This link was replaced by a newer one: please use the "
		    "link in the most recent email about this request.";
	} else if (strcmp(l->state, "switched") == 0) {
		/* no newer mail went here: saying "use the newest one"
		 * would send its reader looking for one */
		title = "Another way to confirm was chosen";
		text = "This link was replaced because you chose another way "
		    "to confirm the domain (or whoever ordered the "
		    "certificate did). Nothing needs to be done with this "
		    "link; the order's page shows how the domain is being "
		    "confirmed now.";
	} else if (strcmp(l->state, "closed") == 0) {
		title = "No longer needed";
		text = "The certificate order this link belongs to is no "
		    "longer waiting for confirmation (it was completed, "
		    "confirmed another way, or cancelled).";
	} else {
		title = "This link has expired";
		text = "This confirmation link has expired. The customer "
		    "can send a new email from their certificate overview.";
	}
	buf_init(&b, PAGE_MAX);
	rc = portal_html_printf(&b, "<section class=\"card narrow confirm\" "
	    "data-link-state=\"%s\">\n<h1>%s</h1>\n<p>%s</p>\n",
	    l ? l->state : "unknown", title, text);
	if (rc == 0 && l != NULL)
		rc = portal_html_printf(&b, "<dl class=\"facts\"><dt>Domain"
		    "</dt><dd>%s</dd></dl>\n", l->name);
	if (rc == 0)
		rc = portal_html_printf(&b, "</section>\n");
	if (rc == 0)
		rc = confirm_reply(c, status, title, (const char *)b.data);
	buf_free(&b);
	return rc;
}

static int
confirm_show(struct portal_req *c, const char *token,
    const struct ra_dv_email_link *l)
{
	const char *pname = portal_product_name(l->product);
	char sent[40], exp[40], title[300];
	struct buf b;
	int rc;

	when(l->sent_at, sent);
	when(l->expires_at, exp);
	snprintf(title, sizeof(title), "Confirm the certificate request for "
	    "%s", l->name);
	buf_init(&b, PAGE_MAX);
	rc = portal_html_printf(&b, "<section class=\"card narrow confirm\" "
	    "data-link-state=\"pending\">\n<h1>Confirm a certificate "
	    "request</h1>\n<p class=\"lead\">An SSL certificate was requested "
	    "for <strong>%s</strong>. This email address is one of the "
	    "domain's administrative addresses, so the certificate "
	    "authority asks you to confirm that the request may go ahead."
	    "</p>\n<dl class=\"facts\">\n<dt>Domain</dt><dd id=\"c-domain\">"
	    "%s</dd>\n<dt>Names you confirm</dt><dd id=\"c-names\">%s</dd>\n"
	    "<dt>Requested by</dt><dd id=\"c-customer\">%s</dd>\n"
	    "<dt>Certificate</dt><dd>%s</dd>\n<dt>Email sent to</dt>"
	    "<dd id=\"c-to\">%s</dd>\n<dt>Sent</dt><dd>%s</dd>\n"
	    "<dt>This link expires</dt><dd>%s</dd>\n</dl>\n"
	    "<p>Confirm only if you know who asked for this certificate and "
	    "agree. If you do not, ignore the email: nothing is issued "
	    "without your confirmation.</p>\n"
	    "<form method=\"post\" action=\"/confirm/%s\">\n"
	    "<button type=\"submit\" class=\"button primary\" "
	    "id=\"confirm\">Confirm</button>\n</form>\n</section>\n",
	    l->name, l->name, l->names, l->customer, pname ? pname :
	    l->product, l->email_to, sent, exp, token);
	if (rc == 0)
		rc = confirm_reply(c, 200, title, (const char *)b.data);
	buf_free(&b);
	return rc;
}

static int
confirm_done(struct portal_req *c, const struct ra_dv_email_link *l)
{
	struct buf b;
	int rc;

	buf_init(&b, PAGE_MAX);
	rc = portal_html_printf(&b, "<section class=\"card narrow confirm "
	    "done\" data-link-state=\"confirmed\">\n<h1>Thank you: "
	    "confirmed</h1>\n<p role=\"status\">You confirmed the "
	    "certificate request for <strong>%s</strong>%s%s. The "
	    "certificate is issued once every name in it is confirmed; "
	    "nothing else needs to be done here. You can close this page."
	    "</p>\n</section>\n",
	    l->name, l->customer[0] ? " by " : "", l->customer);
	if (rc == 0)
		rc = confirm_reply(c, 200, "Confirmed", (const char *)b.data);
	buf_free(&b);
	return rc;
}

/* The POST must come from the confirmation page itself. The token in the
 * URL is the only credential (no session), so this is defence in depth:
 * Sec-Fetch-Site, when sent, is "same-origin"; Origin is ours or "null",
 * which browsers send for a form posted from a no-referrer page. */
static int
confirm_origin_ok(struct http_req *r)
{
	const char *o = http_req_header(r, "Origin");

	if (o != NULL && strcmp(o, "null") == 0)
		o = NULL;
	return portal_origin_ok(o, http_req_header(r, "Sec-Fetch-Site"),
	    http_req_header(r, "Host"));
}

int
portal_dv_confirm_handle(struct http_req *r, void *app)
{
	struct portal *p = app;
	struct portal_req c;
	struct ra *ra = NULL;
	struct ra_dv_email_link l;
	struct ra_err err = {0};
	char token[PORTAL_DV_TOKEN_MAX + 1], addr[64], ua[UA_MAX + 1];
	const char *h;
	int rc;

	memset(&l, 0, sizeof(l));
	rc = portal_req_begin(p, r, &c);
	if (rc != 0) {
		/* answered here, with the secret page's headers (the HTTP
		 * layer logs this path with the token redacted) */
		log_err(LOG_PORTAL, "confirmation link: %s", rc_str(rc));
		portal_security_headers_secret(r);
		return http_reply_text(r, 500, "Something went wrong on our "
		    "side. Please try again in a moment.");
	}
	if (portal_dv_token_from_tail(http_req_tail(r), token) != 0) {
		rc = link_gone(&c, NULL);
		goto out;
	}
	if (!portal_is_get(r) && !confirm_origin_ok(r)) {
		struct buf b;

		buf_init(&b, 4096);
		rc = portal_html_printf(&b, "<section class=\"card narrow\">"
		    "<h1>Not allowed</h1><p>Please open the link from the "
		    "email and press Confirm on that page.</p></section>\n");
		if (rc == 0)
			rc = confirm_reply(&c, 403, "Not allowed",
			    (const char *)b.data);
		buf_free(&b);
		goto out;
	}
	rc = portal_ra_get(&c, &ra);
	if (rc != 0)
		goto fail;
	rc = ra_dv_email_lookup(ra, token, &l);
	if (rc == RC_NOTFOUND) {
		rc = link_gone(&c, NULL);
		goto out;
	}
	if (rc != 0)
		goto fail;
	if (strcmp(l.state, "pending") != 0 || (l.expires_at != 0 &&
	    l.expires_at <= c.now)) {
		if (strcmp(l.state, "pending") == 0)
			snprintf(l.state, sizeof(l.state), "expired");
		rc = link_gone(&c, &l);
		goto out;
	}
	if (portal_is_get(r)) {
		rc = confirm_show(&c, token, &l);
		goto out;
	}
	http_req_client_addr(r, addr, sizeof(addr));
	h = http_req_header(r, "User-Agent");
	snprintf(ua, sizeof(ua), "%s", h ? h : "");
	rc = ra_dv_email_confirm(ra, token, addr, ua, &err);
	if (rc == 0) {
		log_info(LOG_PORTAL, "email validation of %s confirmed from %s",
		    l.name, addr);
		rc = confirm_done(&c, &l);
	} else if (rc == RC_NOTFOUND) {
		rc = link_gone(&c, NULL);
	} else if (rc == RC_POLICY) {
		/* CAA forbids it (fixable: the link stays usable), or a
		 * wildcard name, which only DNS validates: said as the ra
		 * put it */
		struct buf b;

		log_info(LOG_PORTAL, "email validation of %s refused: %s",
		    l.name, err.detail.msg);
		buf_init(&b, 4096);
		rc = portal_html_printf(&b, "<section class=\"card narrow "
		    "confirm\" data-link-state=\"refused\">\n<h1>Not "
		    "confirmed</h1>\n<p role=\"alert\">%s</p>\n</section>\n",
		    err.detail.msg);
		if (rc == 0)
			rc = confirm_reply(&c, 409, "Not confirmed",
			    (const char *)b.data);
		buf_free(&b);
	} else if (rc == RC_STATE) {
		/* it changed in between: say what it is now */
		struct ra_dv_email_link now;

		memset(&now, 0, sizeof(now));
		if (ra_dv_email_lookup(ra, token, &now) != 0)
			now = l;
		if (strcmp(now.state, "pending") == 0)
			snprintf(now.state, sizeof(now.state), "expired");
		rc = link_gone(&c, &now);
	} else {
		goto fail;
	}
	goto out;
fail:
	/* answered here, without the token: the HTTP layer would log the
	 * path of a failed handler */
	log_err(LOG_PORTAL, "confirmation link: %s", rc_str(rc));
	{
		struct buf b;

		buf_init(&b, 4096);
		rc = portal_html_printf(&b, "<section class=\"card narrow\">"
		    "<h1>Something went wrong</h1><p>Something went wrong on "
		    "our side; nothing was confirmed. Please try the link again "
		    "in a moment.</p></section>\n");
		if (rc == 0)
			rc = confirm_reply(&c, 500, "Something went wrong",
			    (const char *)b.data);
		buf_free(&b);
	}
out:
	sec_wipe(token, sizeof(token));
	portal_ra_put(&c, ra);
	portal_req_end(&c);
	return rc;
}

/* ---- the API ------------------------------------------------------------- */

static void
set_time(json_t *o, const char *key, time_t t)
{
	char buf[32];

	buf[0] = '\0';
	if (t != 0)
		portal_fmt_rfc3339(t, buf);
	json_object_set_new(o, key, buf[0] ? json_string(buf) : json_null());
}

static json_t *
state_json(const struct ra_dv_state *v)
{
	json_t *j = json_object(), *m = json_array(), *e = json_object();

	json_object_set_new(j, "authz_id", json_integer(v->authz_id));
	json_object_set_new(j, "name", json_string(v->name));
	json_object_set_new(j, "wildcard", json_boolean(v->wildcard));
	json_object_set_new(j, "status", json_string(v->status));
	json_object_set_new(j, "method",
	    json_string(ra_dv_method_name(v->method)));
	json_object_set_new(j, "method_name",
	    json_string(method_words(v->method)));
	json_object_set_new(j, "hosted", json_boolean(v->hosted));
	if (v->hosted)
		json_array_append_new(m, json_string("dns-auto"));
	if (v->email_allowed && !v->wildcard)	/* wildcards: DNS only */
		json_array_append_new(m, json_string("email"));
	json_array_append_new(m, json_string("dns"));
	if (!v->wildcard)
		json_array_append_new(m, json_string("http"));
	json_object_set_new(j, "methods", m);
	if (strcmp(v->status, "pending") == 0) {
		json_object_set_new(j, "dns", json_pack("{s:s,s:s,s:s}",
		    "owner", v->dns_owner, "type", "TXT", "value",
		    v->dns_value));
		json_object_set_new(j, "http", v->wildcard ? json_null() :
		    json_pack("{s:s,s:s}", "url", v->http_url, "content",
		    v->http_body));
	}
	json_object_set_new(e, "allowed", json_boolean(v->email_allowed));
	json_object_set_new(e, "to", v->email_to[0] ?
	    json_string(v->email_to) : json_null());
	{
		json_t *d = json_array();

		for (size_t i = 0; i < v->n_email_adns; i++)
			json_array_append_new(d,
			    json_string(v->email_adns[i]));
		json_object_set_new(e, "domains", d);
	}
	set_time(e, "sent_at", v->email_sent_at);
	set_time(e, "resend_at", v->email_resend_at);
	json_object_set_new(e, "sends_left",
	    json_integer(v->email_sends_left));
	json_object_set_new(e, "warning", v->email_warning[0] ?
	    json_string(v->email_warning) : json_null());
	json_object_set_new(j, "email", e);
	json_object_set_new(j, "problem", v->problem[0] ?
	    json_string(v->problem) : json_null());
	json_object_set_new(j, "message", v->message[0] ?
	    json_string(v->message) : json_null());
	set_time(j, "checked_at", v->checked_at);
	set_time(j, "next_check_at", v->next_check_at);
	set_time(j, "validated_at", v->validated_at);
	set_time(j, "expires_at", v->expires_at);
	return j;
}

int
portal_api_dv_list(struct portal_req *c, int64_t order_id)
{
	struct ra *ra = NULL;
	struct ra_dv_state *v = NULL;
	int64_t scope = portal_customer_scope(c);
	size_t n = 0;
	json_t *list;
	int rc;

	rc = portal_ra_get(c, &ra);
	if (rc == 0)
		rc = scope <= 0 ? RC_NOTFOUND : ra_dv_list(ra, scope, order_id,
		    &v, &n);
	portal_ra_put(c, ra);
	if (rc == RC_NOTFOUND)
		return portal_api_not_found(c);
	if (rc != 0)
		return rc;
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, state_json(&v[i]));
	free(v);
	return portal_api_json(c->r, 200, json_pack("{s:I,s:o}", "order_id",
	    (json_int_t)order_id, "validations", list));
}

enum api_op { OP_CHOOSE, OP_CHECK, OP_RESEND };

static int
api_action(struct portal_req *c, int64_t order_id, enum api_op op)
{
	struct ra *ra = NULL;
	struct ra_err err = {0};
	struct ra_dv_state st;
	struct portal_dv_choice ch;
	int64_t authz = 0, scope = portal_customer_scope(c);
	const uint8_t *body;
	const char *why = NULL;
	char actor[48], local[280];
	size_t blen;
	json_t *in, *out;
	int rc, valid = 0;

	body = http_req_body(c->r, &blen);
	in = json_loadb((const char *)body, blen, JSON_REJECT_DUPLICATES,
	    NULL);
	rc = portal_dv_json_parse(in, op == OP_CHOOSE, &authz, &ch, &why);
	json_decref(in);
	if (rc != 0)
		return portal_api_problem(c->r, 400, "malformed",
		    "The request is not valid", why);
	if (scope <= 0)
		return portal_api_not_found(c);
	rc = portal_ra_get(c, &ra);
	if (rc != 0)
		goto out;
	portal_actor(c, actor);
	if (op == OP_CHOOSE)
		rc = ra_dv_choose(ra, scope, order_id, authz,
		    (enum ra_dv_method)ch.method, choice_local(&ch, local,
		    sizeof(local)), actor, &err);
	else if (op == OP_CHECK)
		rc = ra_dv_check_now(ra, scope, order_id, authz, actor, &valid,
		    &err);
	else
		rc = ra_dv_email_resend(ra, scope, order_id, authz, actor,
		    &err);
	if (rc == RC_NOTFOUND) {
		rc = portal_api_not_found(c);
		goto out;
	}
	if (rc == RC_STATE) {
		rc = portal_api_problem(c->r, 409, "validation-state",
		    "Not possible in the validation's state",
		    err.detail.msg[0] ? err.detail.msg : NULL);
		goto out;
	}
	if (rc == RC_POLICY && op == OP_RESEND) {
		struct ra_dv_state now;

		if (state_of(ra, scope, order_id, authz, &now) == 0 &&
		    now.email_resend_at > c->now) {
			char ra_s[24];

			snprintf(ra_s, sizeof(ra_s), "%lld",
			    (long long)(now.email_resend_at - c->now));
			(void)http_add_header(c->r, "Retry-After", ra_s);
		}
		rc = portal_api_problem(c->r, 429, "rate-limited",
		    "Resent too recently", err.detail.msg[0] ?
		    err.detail.msg : NULL);
		goto out;
	}
	if (rc == RC_POLICY || rc == RC_INVAL) {
		rc = portal_api_problem(c->r, 422, "method-refused",
		    "This method cannot be used for this name",
		    err.detail.msg[0] ? err.detail.msg : NULL);
		goto out;
	}
	if (rc != 0)
		goto out;
	rc = state_of(ra, scope, order_id, authz, &st);
	if (rc != 0)
		goto out;
	out = state_json(&st);
	if (op == OP_CHECK)
		json_object_set_new(out, "valid", json_boolean(valid ||
		    strcmp(st.status, "valid") == 0));
	rc = portal_api_json(c->r, 200, out);
out:
	portal_ra_put(c, ra);
	return rc;
}

int
portal_api_dv_choose(struct portal_req *c, int64_t order_id)
{
	return api_action(c, order_id, OP_CHOOSE);
}

int
portal_api_dv_check(struct portal_req *c, int64_t order_id)
{
	return api_action(c, order_id, OP_CHECK);
}

int
portal_api_dv_resend(struct portal_req *c, int64_t order_id)
{
	return api_action(c, order_id, OP_RESEND);
}
