/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The subscriber agreement the customer accepts on the order form. The
 * Baseline Requirements (9.6.3) have every subscriber accept one before a
 * certificate is issued, and what it says is the operator's to write, not
 * certdesk's: the operator publishes it and names it in portal.terms_url,
 * which the form's "I accept" links to. Until then the link leads to
 * PORTAL_TERMS_PATH, a placeholder that says plainly that it is none and
 * lists what BR 9.6.3 has the agreement contain, so that neither a
 * customer nor an operator mistakes it for the real one; with a URL
 * configured, that path redirects there.
 *
 * Runs in the main certdesk process on HTTP worker threads; for anyone,
 * logged in or not. Nothing of the request is read but the session
 * cookie (the header's navigation) and the method.
 */
#include "portal/portal_int.h"
#include "util/buf.h"
#include "util/rc.h"

#include <string.h>

#define PAGE_MAX (32 * 1024)

const char *
portal_terms_href(const struct portal *p)
{
	const char *u = portal_ca_view(p)->terms_url;

	return u != NULL ? u : PORTAL_TERMS_PATH;
}

/* What a subscriber agreement warrants (BR 9.6.3), in a sentence each. */
static const char *const warranties[][2] = {
	{"Accuracy of information", "the information given to the "
	    "certificate authority is and stays accurate and complete"},
	{"Protection of the private key", "the subscriber keeps the "
	    "private key of the certificate under its sole control, "
	    "confidential and protected"},
	{"Acceptance of the certificate", "the subscriber reviews the "
	    "certificate's contents before it uses it"},
	{"Use of the certificate", "only on servers reachable at the names "
	    "the certificate lists, and within the law and this agreement"},
	{"Reporting and revocation", "the subscriber asks for revocation and "
	    "stops using the certificate at once when its key may be "
	    "compromised or its contents are wrong"},
	{"Termination of use", "the subscriber stops using the private key "
	    "when the certificate is revoked because the key was "
	    "compromised"},
	{"Responsiveness", "the subscriber answers the certificate "
	    "authority's instructions about a compromised key or misuse "
	    "within the time it sets"},
	{"Acknowledgment and acceptance", "the certificate authority may "
	    "revoke the certificate at once when the subscriber breaks the "
	    "agreement, or when the Baseline Requirements or its policies "
	    "demand it"},
};

static int
placeholder(struct portal_req *c)
{
	struct buf b;
	int rc;

	buf_init(&b, PAGE_MAX);
	rc = portal_html_printf(&b, "<section class=\"card setup\" "
	    "id=\"terms\">\n<h1>Subscriber agreement and terms of use</h1>\n"
	    "<div class=\"warning\" role=\"note\" id=\"terms-placeholder\">"
	    "<p><strong>Placeholder: this page is not an agreement.</strong> "
	    "The operator of this certificate authority has not published "
	    "its subscriber agreement here yet.</p>\n<p>Operator: write the "
	    "subscriber agreement and terms of use your customers accept "
	    "(the CA/Browser Forum Baseline Requirements, section 9.6.3, "
	    "require one), publish it, and set <code>terms_url</code> in "
	    "the <code>[portal]</code> section of <code>certdesk.conf</code> "
	    "to its address; the order form then links there.</p></div>\n"
	    "<h2>What the agreement must contain</h2>\n<p>Under BR 9.6.3 "
	    "the subscriber warrants, for the certificate authority and "
	    "for everyone who relies on the certificate:</p>\n<dl "
	    "class=\"facts\">\n");
	for (size_t i = 0; rc == 0 && i < sizeof(warranties) /
	    sizeof(warranties[0]); i++)
		rc = portal_html_printf(&b, "<dt>%s</dt><dd>%s.</dd>\n",
		    warranties[i][0], warranties[i][1]);
	if (rc == 0)
		rc = portal_html_printf(&b, "</dl>\n</section>\n");
	if (rc == 0)
		rc = portal_page_reply(c, 200, "Subscriber agreement "
		    "(placeholder)", (const char *)b.data);
	buf_free(&b);
	return rc;
}

int
portal_terms_handle(struct http_req *r, void *app)
{
	struct portal *p = app;
	struct portal_req c;
	int bad, rc;

	rc = portal_req_begin(p, r, &c);
	if (rc != 0)
		return http_reply_text(r, 500, "Something went wrong on our "
		    "side. Please try again in a moment.");
	if (portal_ca_view(p)->terms_url != NULL) {
		rc = portal_redirect(r, portal_ca_view(p)->terms_url);
	} else {
		/* logged in or not: only the header's links differ */
		rc = portal_req_auth(&c, 0, &bad);
		rc = rc == 0 || rc == RC_UNAUTH ? placeholder(&c) : rc;
	}
	portal_req_end(&c);
	return rc;
}
