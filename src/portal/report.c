/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "Report a compromised key" (/report-key): the public page where anyone
 * who holds a private key they believe compromised (a subscriber, a
 * researcher who found it in a repository, another CA) reports it, as BR
 * 4.9.3 has a CA offer, with proof of possession: a PKCS#10 request
 * signed by the key, subject CN "Proof of key compromise". The ra verifies
 * it, blocks the key and revokes every live certificate of it at once
 * (ra_key_report), and queues its preliminary report (BR 4.9.5) by mail
 * to the subscribers and to the reporter, when the contact given is an
 * email address that has not had its reports of the day; no login, no
 * session.
 *
 * Inputs not trusted: the whole form (parsed strictly, at most 4096
 * bytes a value), the request it carries and the contact, which becomes a
 * mail recipient: one plain address, an https:// URL or nothing
 * (ra_key_report_contact), else the form comes back with why. The POST
 * must come from the page itself (Origin / Sec-Fetch-Site, as the
 * confirmation page); the proof, not the sender, is what authorises the
 * action.
 */
#include "portal/portal_int.h"
#include "ra/ra.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/rc.h"

#include <stdio.h>
#include <string.h>

#define PAGE_MAX (64 * 1024)

/* Where the other problems go (BR 4.9.3): ca.problem_report_contact. */
static int
other_problems(struct portal_req *c, struct buf *b)
{
	const char *to = portal_ca_view(c->p)->problem_contact;

	if (to == NULL)
		return portal_html_printf(b, "<p class=\"hint\" "
		    "id=\"report-other\">For other problems with a "
		    "certificate (misuse, fraud, a wrong name), contact the "
		    "operator of this certificate authority.</p>\n");
	if (strncmp(to, "https://", 8) == 0)
		return portal_html_printf(b, "<p class=\"hint\" "
		    "id=\"report-other\">For other problems with a "
		    "certificate (misuse, fraud, a wrong name), use <a "
		    "href=\"%s\">%s</a>.</p>\n", to, to);
	return portal_html_printf(b, "<p class=\"hint\" id=\"report-other\">"
	    "For other problems with a certificate (misuse, fraud, a wrong "
	    "name), write to <a href=\"mailto:%s\">%s</a>.</p>\n", to, to);
}

static int
form_html(struct portal_req *c, struct buf *b, const char *proof,
    const char *contact, const char *error)
{
	int rc = portal_html_printf(b, "<section class=\"card\">\n"
	    "<h1>Report a compromised key</h1>\n<p>If you hold the private "
	    "key of a certificate we issued and believe it is compromised "
	    "(it was published, stolen or generated weakly), report it "
	    "here. We then revoke every certificate of that key at once, "
	    "and issue none for it again.</p>\n<p>Prove that you hold the "
	    "key with a certificate signing request signed by it, whose "
	    "subject is exactly <code>CN=%s</code>:</p>\n<pre><code>openssl "
	    "req -new -key compromised.key -subj \"/CN=%s\" -out proof.csr"
	    "</code></pre>\n", RA_KEY_PROOF_CN, RA_KEY_PROOF_CN);

	/* a refused form: the keyboard focus on why (no script here) */
	if (rc == 0 && error != NULL)
		rc = portal_html_printf(b, "<p class=\"alert\" role=\"alert\" "
		    "id=\"report-error\" tabindex=\"-1\" autofocus>%s</p>\n",
		    error);
	if (rc == 0)
		rc = portal_html_printf(b, "<form method=\"post\" "
		    "action=\"/report-key\" class=\"stack\">\n"
		    "<label for=\"f-proof\">The request (PEM)</label>\n"
		    "<textarea id=\"f-proof\" name=\"proof\" rows=\"10\" "
		    "required spellcheck=\"false\">%s</textarea>\n"
		    "<label for=\"f-contact\">Your email address (optional): "
		    "we send our report on what we found there, and tell the "
		    "certificates' owners ourselves</label>\n<input "
		    "id=\"f-contact\" name=\"contact\" type=\"text\" "
		    "inputmode=\"email\" autocomplete=\"email\" "
		    "maxlength=\"254\" value=\"%s\">\n"
		    "<button type=\"submit\" class=\"button "
		    "primary\">Report the key</button>\n</form>\n",
		    proof ? proof : "", contact ? contact : "");
	if (rc == 0)
		rc = other_problems(c, b);
	if (rc == 0)
		rc = portal_html_printf(b, "</section>\n");
	return rc;
}

static int
reply(struct portal_req *c, unsigned status, const struct buf *b)
{
	return portal_page_reply(c, status, "Report a compromised key",
	    (const char *)b->data);
}

/* What the confirmation page says about the preliminary report (BR
 * 4.9.5) the reporter gets, or does not, and the subscribers get. */
static int
report_note(struct buf *b, const char *contact,
    const struct ra_key_report_res *res)
{
	const char *owners = res->revoked > 0 ? " We tell the owners of the "
	    "revoked certificates ourselves." : "";

	if (res->reporter_mailed)
		return portal_html_printf(b, "<p id=\"report-mail\">Our "
		    "report on what we found is on its way to <strong>%s"
		    "</strong>.%s</p>\n", contact, owners);
	if (res->reporter_limited)
		return portal_html_printf(b, "<p id=\"report-mail\">We do "
		    "not mail our report on what we found to <strong>%s"
		    "</strong>: that address has received several of our "
		    "reports today, and we send only %lld a day to one "
		    "address, so that nobody can use this form to flood a "
		    "mailbox. Your report itself is done as said above.%s"
		    "</p>\n", contact, (long long)RA_KEY_REPORT_MAILS_PER_DAY,
		    owners);
	if (contact != NULL && contact[0] != '\0')
		return portal_html_printf(b, "<p id=\"report-mail\">You gave "
		    "a web address: we keep it with your report, but send our "
		    "report on what we found by email only.%s</p>\n", owners);
	return portal_html_printf(b, "<p id=\"report-mail\">You gave no "
	    "email address, so we cannot send you our report on what we "
	    "found.%s</p>\n", owners);
}

static int
report_post(struct portal_req *c, struct buf *b)
{
	struct portal_form *f = NULL;
	const uint8_t *body;
	const char *proof, *contact;
	struct ra *ra = NULL;
	struct ra_err err = {0};
	struct ra_key_report_res res;
	char addr[64];
	size_t blen = 0;
	int rc;

	body = http_req_body(c->r, &blen);
	if (portal_form_parse(body, blen, &f) != 0) {
		rc = form_html(c, b, NULL, NULL, "The form could not be read: "
		    "the request may be longer than 4096 characters.");
		return rc ? rc : reply(c, 400, b);
	}
	proof = portal_form_get(f, "proof");
	contact = portal_form_get(f, "contact");
	/* the contact first: a report with a contact that is refused does
	 * nothing, and the reporter sends it again, corrected */
	if (ra_key_report_contact(contact, &err) < 0) {
		rc = form_html(c, b, proof, contact, err.detail.msg);
		rc = rc ? rc : reply(c, 422, b);
		goto out;
	}
	if (proof == NULL || proof[0] == '\0') {
		rc = form_html(c, b, NULL, contact, "Please paste the request "
		    "signed by the key.");
		rc = rc ? rc : reply(c, 422, b);
		goto out;
	}
	if ((rc = portal_ra_get(c, &ra)) != 0)
		goto out;
	http_req_client_addr(c->r, addr, sizeof(addr));
	rc = ra_key_report(ra, (const uint8_t *)proof, strlen(proof), contact,
	    addr, &res, &err);
	portal_ra_put(c, ra);
	if (rc == RC_BADCSR) {
		char msg[sizeof(err.detail.msg) + 40];

		snprintf(msg, sizeof(msg), "The request is no proof: %s.",
		    err.detail.msg);
		rc = form_html(c, b, proof, contact, msg);
		rc = rc ? rc : reply(c, 422, b);
		goto out;
	}
	if (rc == RC_POLICY) {
		rc = form_html(c, b, proof, contact, err.detail.msg);
		rc = rc ? rc : reply(c, 429, b);
		goto out;
	}
	if (rc != 0) {
		rc = portal_error_reply(c, 500, NULL);
		goto out;
	}
	rc = portal_html_printf(b, "<section class=\"card\">\n<h1>Thank you"
	    "</h1>\n<p id=\"report-done\">The key is blocked: we will issue "
	    "no certificate for it again. %lld certificate%s of it %s been "
	    "revoked for key compromise; relying parties see this in our "
	    "CRLs and OCSP responses now.</p>\n",
	    (long long)res.revoked, res.revoked == 1 ? "" : "s",
	    res.revoked == 1 ? "has" : "have");
	rc = rc ? rc : report_note(b, contact, &res);
	rc = rc ? rc : portal_html_printf(b, "</section>\n");
	rc = rc ? rc : reply(c, 200, b);
out:
	portal_form_free(f);
	return rc;
}

int
portal_report_handle(struct http_req *r, void *app)
{
	struct portal *p = app;
	struct portal_req c;
	struct buf b;
	int rc;

	rc = portal_req_begin(p, r, &c);
	if (rc != 0)
		return http_reply_text(r, 500, "Something went wrong on our "
		    "side. Please try again in a moment.");
	buf_init(&b, PAGE_MAX);
	if (strcmp(http_req_path(r), "/report-key") != 0) {
		rc = portal_error_reply(&c, 404, NULL);
	} else if (portal_is_get(r)) {
		rc = form_html(&c, &b, NULL, NULL, NULL);
		rc = rc ? rc : reply(&c, 200, &b);
	} else if (!portal_origin_ok(http_req_header(r, "Origin"),
	    http_req_header(r, "Sec-Fetch-Site"),
	    http_req_header(r, "Host"))) {
		rc = portal_error_reply(&c, 403, "Please send the report from "
		    "the form on this page.");
	} else {
		rc = report_post(&c, &b);
	}
	buf_free(&b);
	portal_req_end(&c);
	return rc;
}
