/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTML output for the portal: the one escaping function every dynamic
 * value goes through, a printf that escapes its arguments, and the page
 * layout (header, navigation, logout form, main content). Pages carry no
 * inline script or style: the Content-Security-Policy forbids both, and
 * the stylesheet is web/static/portal.css.
 *
 * Runs in the main certdesk process on HTTP worker threads. The text
 * escaped here is untrusted (names, emails, contract numbers typed by
 * someone).
 */
#include "portal/portal_int.h"
#include "util/rc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t k;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		k = 1;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		k = 2;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		k = 3;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n <= k)
		return 0;
	for (size_t j = 1; j <= k; j++) {
		if ((p[j] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[j] & 0x3f);
	}
	if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return k + 1;
}

int
portal_html_escape(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;
	int rc = 0;

	if (s == NULL)
		return 0;
	n = strlen(s);
	for (size_t i = 0; i < n && rc == 0;) {
		unsigned char c = p[i];
		size_t k;

		switch (c) {
		case '&':
			rc = buf_append_str(b, "&amp;");
			i++;
			continue;
		case '<':
			rc = buf_append_str(b, "&lt;");
			i++;
			continue;
		case '>':
			rc = buf_append_str(b, "&gt;");
			i++;
			continue;
		case '"':
			rc = buf_append_str(b, "&quot;");
			i++;
			continue;
		case '\'':
			rc = buf_append_str(b, "&#39;");
			i++;
			continue;
		default:
			break;
		}
		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0x7f) {
			rc = buf_append_str(b, "\xef\xbf\xbd");
			i++;
			continue;
		}
		k = utf8_seq(p + i, n - i);
		if (k == 0) {
			rc = buf_append_str(b, "\xef\xbf\xbd");
			i++;
			continue;
		}
		rc = buf_append(b, p + i, k);
		i += k;
	}
	return rc;
}

int
portal_html_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	const char *p = fmt, *q;
	int rc = 0;

	va_start(ap, fmt);
	while (rc == 0 && *p != '\0') {
		q = strchr(p, '%');
		if (q == NULL) {
			rc = buf_append_str(b, p);
			break;
		}
		if (q > p)
			rc = buf_append(b, p, (size_t)(q - p));
		if (rc != 0)
			break;
		if (q[1] == 's') {
			rc = portal_html_escape(b, va_arg(ap, const char *));
			p = q + 2;
		} else if (q[1] == '%') {
			rc = buf_append_str(b, "%");
			p = q + 2;
		} else if (strncmp(q + 1, "lld", 3) == 0) {
			rc = buf_printf(b, "%lld", va_arg(ap, long long));
			p = q + 4;
		} else {
			rc = RC_INVAL;
		}
	}
	va_end(ap);
	return rc;
}

int
portal_html_page(struct buf *out, const struct portal_page *pg)
{
	int rc;

	rc = portal_html_printf(out,
	    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n"
	    "<title>%s \xe2\x80\x93 certdesk</title>\n"
	    "<link rel=\"icon\" href=\"/static/favicon.svg\" "
	    "type=\"image/svg+xml\">\n"
	    "<link rel=\"stylesheet\" href=\"%s\">\n",
	    pg->title, pg->css_href);
	if (rc == 0 && pg->refresh > 0)
		rc = portal_html_printf(out, "<meta http-equiv=\"refresh\" "
		    "content=\"%lld\">\n", (long long)pg->refresh);
	if (rc == 0 && pg->js_href != NULL)
		rc = portal_html_printf(out, "<script src=\"%s\" defer>"
		    "</script>\n", pg->js_href);
	if (rc == 0)
		rc = portal_html_printf(out,
	    "</head>\n<body>\n"
	    "<a class=\"skip\" href=\"#main\">Skip to content</a>\n"
	    "<header class=\"top\">\n<div class=\"bar\">\n"
	    "<a class=\"brand\" href=\"/portal/\">certdesk</a>\n");
	if (rc == 0 && pg->user_name != NULL && pg->staff)
		rc = portal_html_printf(out,
		    "<nav aria-label=\"Main\"><ul>"
		    "<li><a href=\"/backoffice/\">Back office</a></li>"
		    "<li><a href=\"/portal/tokens\">API tokens</a></li>");
	else if (rc == 0 && pg->user_name != NULL)
		rc = portal_html_printf(out,
		    "<nav aria-label=\"Main\"><ul>"
		    "<li><a href=\"/portal/\">SSL certificates</a></li>"
		    "<li><a href=\"/portal/overview\">Overview</a></li>"
		    "<li><a href=\"/portal/acme\">ACME</a></li>"
		    "<li><a href=\"/portal/tokens\">API tokens</a></li>");
	if (rc == 0 && pg->user_name != NULL && pg->admin)
		rc = portal_html_printf(out, "<li><a href=\"/portal/admin/"
		    "mail\">Outgoing mail</a></li><li><a href=\"/portal/"
		    "admin/acme\">ACME accounts</a></li><li><a href=\"/portal/"
		    "admin/ca\">Certificate authority</a></li>");
	if (rc == 0 && pg->user_name != NULL)
		rc = portal_html_printf(out, "</ul></nav>\n"
		    "<div class=\"who\"><span class=\"user\" title=\"%s\">%s"
		    "</span>\n<form method=\"post\" action=\"/portal/logout\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		    "<button type=\"submit\" class=\"link\">Log out</button>"
		    "</form></div>\n", pg->user_name,
		    pg->user_name, pg->csrf ? pg->csrf : "");
	if (rc == 0)
		rc = portal_html_printf(out,
		    "</div>\n</header>\n<main id=\"main\" tabindex=\"-1\">\n");
	if (rc == 0)
		rc = buf_append_str(out, pg->body ? pg->body : "");
	if (rc == 0)
		rc = buf_append_str(out, "</main>\n<footer class=\"foot\">"
		    "certdesk</footer>\n</body>\n</html>\n");
	return rc;
}
