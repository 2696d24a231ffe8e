/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin's "Outgoing mail" pages: the mail outbox newest first (time,
 * recipient, subject, kind, and whether it is queued, sent, in the spool
 * folder, failing with the error (tried again), or bounced with the
 * server's reason (refused for good, not tried again)), and one mail's
 * text with its links clickable, so that a newcomer without an SMTP server
 * can follow the hostmaster's confirmation link from the spool. With an
 * SMTP server that link is the hostmaster's alone: its token is masked
 * while the mail waits and gone from the outbox once it has left
 * (portal_mail_body, serve_mail.c). Only users with role admin and a
 * browser session see them; for everyone else they do not exist (404),
 * as the portal does for anything not theirs.
 *
 * Runs in the main certdesk process on HTTPS worker threads. The mail texts
 * are ours, but they carry what customers typed (names): everything is
 * escaped, and only http(s) URLs become links.
 */
#include "portal/portal_int.h"
#include "util/rc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_MAX (2 * 1024 * 1024)
#define PER_PAGE 100

/* The mail's state: "queued", "sent", "spooled", "failed" (tried again
 * later) or "bounced" (refused for good, never tried again). */
static const char *
mail_state(const struct portal_req *c, const struct store_mail *m)
{
	if (m->sent_at != 0)
		return portal_mail_spooled(c->p) ? "spooled" : "sent";
	if (m->bounced_at != 0)
		return "bounced";
	return m->attempts > 0 ? "failed" : "queued";
}

static int
state_cell(const struct portal_req *c, struct buf *b,
    const struct store_mail *m)
{
	const char *s = mail_state(c, m);
	char t[32];
	int rc;

	if (strcmp(s, "bounced") == 0) {
		portal_fmt_time(m->bounced_at, t);
		return portal_html_printf(b, "<span class=\"state mail-bounced"
		    "\">Bounced: %s</span><p class=\"hint mail-error\">"
		    "Refused for good by the mail server on %s; not tried "
		    "again.</p>", m->last_error ? m->last_error :
		    "unknown error", t);
	}
	rc = portal_html_printf(b, "<span class=\"state mail-%s\">%s</span>",
	    s, strcmp(s, "spooled") == 0 ? "In the spool folder" :
	    strcmp(s, "sent") == 0 ? "Sent" : strcmp(s, "failed") == 0 ?
	    "Failed" : "Queued");
	if (rc == 0 && strcmp(s, "failed") == 0) {
		portal_fmt_time(m->next_try_at, t);
		rc = portal_html_printf(b, "<p class=\"hint mail-error\">%s"
		    "<br>%lld failed attempt(s); next try %s.</p>",
		    m->last_error ? m->last_error : "unknown error",
		    (long long)m->attempts, t);
	}
	return rc;
}

static int
list_page(struct portal_req *c, int64_t before)
{
	struct store_mail *v = NULL;
	size_t n = 0;
	struct buf b;
	int rc;

	rc = store_mail_page(c->st, before, PER_PAGE, &v, &n);
	if (rc != 0)
		return rc;
	buf_init(&b, PAGE_MAX);
	rc = portal_html_printf(&b, "<h1>Outgoing mail</h1>\n<section "
	    "class=\"card mailq\">\n<p>Every mail certdesk sends, newest "
	    "first. %s</p>\n", portal_mail_spooled(c->p) ? "No SMTP server "
	    "is configured ([mail] smtp_url): delivered mail is written to "
	    "the spool folder of the data directory, and can be read here." :
	    "Mail is delivered through the configured SMTP server; failed "
	    "deliveries are retried, mail the server refuses for good "
	    "(bounced) is not.");
	if (rc == 0 && n == 0)
		rc = portal_html_printf(&b, "<p>No mail %s.</p>\n", before ?
		    "older than this" : "has been sent yet");
	if (rc == 0 && n > 0)
		rc = portal_html_printf(&b, "<table class=\"mailq\">\n"
		    "<thead><tr><th scope=\"col\">Time</th><th scope=\"col\">"
		    "To</th><th scope=\"col\">Subject</th><th scope=\"col\">"
		    "Kind</th><th scope=\"col\">State</th></tr></thead>\n"
		    "<tbody>\n");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char t[32];

		portal_fmt_time(v[i].created_at, t);
		rc = portal_html_printf(&b, "<tr data-mail=\"%lld\" "
		    "data-state=\"%s\"><td>%s</td><td>%s</td><td><a "
		    "href=\"/portal/admin/mail/%lld\">%s</a></td><td>"
		    "<code>%s</code></td><td>", (long long)v[i].id,
		    mail_state(c, &v[i]), t, v[i].to_addr, (long long)v[i].id,
		    v[i].subject[0] ? v[i].subject : "(no subject)",
		    v[i].kind ? v[i].kind : "\xe2\x80\x94");
		if (rc == 0)
			rc = state_cell(c, &b, &v[i]);
		if (rc == 0)
			rc = portal_html_printf(&b, "</td></tr>\n");
	}
	if (rc == 0 && n > 0)
		rc = portal_html_printf(&b, "</tbody>\n</table>\n");
	if (rc == 0 && n == PER_PAGE)
		rc = portal_html_printf(&b, "<p><a class=\"button\" "
		    "href=\"/portal/admin/mail/before/%lld\">Older mail</a>"
		    "</p>\n", (long long)v[n - 1].id);
	if (rc == 0 && before > 0)
		rc = portal_html_printf(&b, "<p><a href=\"/portal/admin/mail\">"
		    "Newest mail</a></p>\n");
	if (rc == 0)
		rc = portal_html_printf(&b, "</section>\n");
	if (rc == 0)
		rc = portal_page_reply(c, 200, "Outgoing mail",
		    (const char *)b.data);
	buf_free(&b);
	store_mail_list_free(v, n);
	return rc;
}

static int
view_page(struct portal_req *c, int64_t id)
{
	struct store_mail *m = NULL;
	struct buf b;
	char t1[32], t2[32];
	int rc;

	rc = store_mail_get(c->st, id, &m);
	if (rc == RC_NOTFOUND)
		return portal_error_reply(c, 404, NULL);
	if (rc != 0)
		return rc;
	portal_fmt_time(m->created_at, t1);
	portal_fmt_time(m->sent_at, t2);
	buf_init(&b, PAGE_MAX);
	rc = portal_html_printf(&b, "<p><a href=\"/portal/admin/mail\">"
	    "\xe2\x86\x90 Outgoing mail</a></p>\n<section class=\"card "
	    "mailq\" data-mail=\"%lld\">\n<h1>%s</h1>\n<dl class=\"facts\">\n"
	    "<dt>To</dt><dd id=\"m-to\">%s</dd>\n<dt>Queued</dt><dd>%s</dd>\n"
	    "<dt>Delivered</dt><dd>%s</dd>\n<dt>Kind</dt><dd><code>%s</code>"
	    "</dd>\n<dt>Refers to</dt><dd>%s</dd>\n<dt>State</dt><dd>",
	    (long long)m->id, m->subject[0] ? m->subject : "(no subject)",
	    m->to_addr, t1, t2, m->kind ? m->kind : "\xe2\x80\x94",
	    m->ref ? m->ref : "\xe2\x80\x94");
	if (rc == 0)
		rc = state_cell(c, &b, m);
	if (rc == 0)
		rc = portal_html_printf(&b, "</dd>\n</dl>\n<pre class=\"mail-"
		    "body\" id=\"m-body\">");
	if (rc == 0)
		rc = portal_mail_body(&b, m, portal_mail_spooled(c->p));
	if (rc == 0)
		rc = portal_html_printf(&b, "</pre>\n</section>\n");
	if (rc == 0)
		rc = portal_page_reply(c, 200, "Outgoing mail",
		    (const char *)b.data);
	buf_free(&b);
	store_mail_list_free(m, 1);
	return rc;
}

int
portal_mailq(struct portal_req *c, const char *rest)
{
	int64_t before = 0, id = 0;

	/* not an admin: as if the page did not exist */
	if (!portal_admin_allowed(c) ||
	    portal_mailq_path_parse(rest, &before, &id) != 0)
		return portal_error_reply(c, 404, NULL);
	if (!portal_is_get(c->r))
		return portal_error_reply(c, 405, NULL);
	return id > 0 ? view_page(c, id) : list_page(c, before);
}
