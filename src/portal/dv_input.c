/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the domain validation pages and the admin's mail pages take from a
 * request, checked here before anything else sees it: the confirmation
 * token in a /confirm/ path, the customer's choice of method (form fields
 * or a JSON body), the action paths under /portal/orders/<id>/dv/, the
 * mail page paths, the PRG message cookie, and the admin-only rule. No
 * registration authority calls: the unit tests link this file alone.
 *
 * Runs in the main certdesk process on HTTPS worker threads; every input
 * is untrusted.
 */
#include "portal/portal_int.h"
#include "ra/ra.h"
#include "util/buf.h"
#include "util/dnsname.h"
#include "util/rc.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLASH_AGE 120		/* seconds the message cookie lives */

/* ---- the confirmation token ---------------------------------------------- */

static int
b64u_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
}

int
portal_dv_token_ok(const char *s, size_t n)
{
	if (s == NULL || n < PORTAL_DV_TOKEN_MIN || n > PORTAL_DV_TOKEN_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!b64u_char(s[i]))
			return 0;
	return 1;
}

int
portal_dv_token_from_tail(const char *tail, char out[PORTAL_DV_TOKEN_MAX + 1])
{
	size_t n;

	out[0] = '\0';
	if (tail == NULL)
		return RC_NOTFOUND;
	/* strnlen: a huge path is refused without reading all of it */
	n = strnlen(tail, PORTAL_DV_TOKEN_MAX + 1);
	if (!portal_dv_token_ok(tail, n) || tail[n] != '\0')
		return RC_NOTFOUND;
	memcpy(out, tail, n);
	out[n] = '\0';
	return 0;
}

/* ---- the method choice --------------------------------------------------- */

static const struct {
	const char *name;
	enum ra_dv_method m;
} METHODS[] = {
	{"dns-auto", RA_DV_DNS_AUTO},
	{"email", RA_DV_EMAIL},
	{"dns", RA_DV_DNS},
	{"http", RA_DV_HTTP},
};

/* 1 when s is one word of RA_DV_EMAIL_LOCALS. */
static int
local_ok(const char *s)
{
	const char *p = RA_DV_EMAIL_LOCALS;
	size_t n = strlen(s);

	if (n == 0)
		return 0;
	while (*p != '\0') {
		size_t w = strcspn(p, " ");

		if (w == n && strncmp(p, s, n) == 0)
			return 1;
		p += w;
		while (*p == ' ')
			p++;
	}
	return 0;
}

int
portal_dv_choice_parse(const char *method, const char *email_local,
    struct portal_dv_choice *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	*why = NULL;
	for (size_t i = 0; method != NULL &&
	    i < sizeof(METHODS) / sizeof(METHODS[0]); i++)
		if (strcmp(method, METHODS[i].name) == 0)
			out->method = (int)METHODS[i].m;
	if (out->method == 0) {
		*why = "Please choose how to confirm the domain: by email, "
		    "a DNS record or a file on your website.";
		return RC_INVAL;
	}
	if (out->method != RA_DV_EMAIL)
		return 0;
	if (email_local == NULL || email_local[0] == '\0')
		email_local = "hostmaster";
	if (strlen(email_local) >= sizeof(out->email_local) ||
	    !local_ok(email_local)) {
		memset(out, 0, sizeof(*out));
		*why = "Please choose one of the listed addresses: admin, "
		    "administrator, webmaster, hostmaster or postmaster at "
		    "the domain.";
		return RC_INVAL;
	}
	snprintf(out->email_local, sizeof(out->email_local), "%s",
	    email_local);
	return 0;
}

/* A domain of an address the customer chose: one DNS name as the ra
 * keeps it (lower case, A-labels); the ra decides whether it is one of
 * the name's Authorization Domain Names. */
static int
domain_set(const char *d, struct portal_dv_choice *out, const char **why)
{
	if (strlen(d) >= sizeof(out->email_domain) ||
	    dnsname_check(d, DNSNAME_IDNA, NULL) != 0) {
		memset(out, 0, sizeof(*out));
		*why = "Please choose one of the listed addresses.";
		return RC_INVAL;
	}
	snprintf(out->email_domain, sizeof(out->email_domain), "%s", d);
	return 0;
}

int
portal_dv_email_to_parse(const char *to, struct portal_dv_choice *out,
    const char **why)
{
	char local[16];
	const char *at = to != NULL ? strchr(to, '@') : NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (at == NULL || at == to || (size_t)(at - to) >= sizeof(local)) {
		*why = "Please choose one of the listed addresses.";
		return RC_INVAL;
	}
	snprintf(local, sizeof(local), "%.*s", (int)(at - to), to);
	rc = portal_dv_choice_parse("email", local, out, why);
	if (rc == 0)
		rc = domain_set(at + 1, out, why);
	return rc;
}

int
portal_dv_json_parse(const void *json, int want_method, int64_t *authz_id,
    struct portal_dv_choice *out, const char **why)
{
	const json_t *in = json, *a, *m, *l, *d;
	int rc;

	*authz_id = 0;
	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (!json_is_object(in)) {
		*why = "The body must be a JSON object.";
		return RC_INVAL;
	}
	a = json_object_get(in, "authz_id");
	if (!json_is_integer(a) || json_integer_value(a) <= 0 ||
	    json_integer_value(a) > 999999999999999LL) {
		*why = "authz_id must be the positive integer id of one of "
		    "the order's validations (GET .../validations).";
		return RC_INVAL;
	}
	*authz_id = (int64_t)json_integer_value(a);
	if (!want_method)
		return 0;
	m = json_object_get(in, "method");
	l = json_object_get(in, "email_local");
	d = json_object_get(in, "email_domain");
	if (!json_is_string(m)) {
		*why = "method must be one of \"email\", \"dns\", \"http\", "
		    "\"dns-auto\".";
		return RC_INVAL;
	}
	if (l != NULL && !json_is_null(l) && !json_is_string(l)) {
		*why = "email_local must be a string (admin, administrator, "
		    "webmaster, hostmaster, postmaster) or null.";
		return RC_INVAL;
	}
	if (d != NULL && !json_is_null(d) && !json_is_string(d)) {
		*why = "email_domain must be a string (the name or a domain "
		    "it belongs to) or null.";
		return RC_INVAL;
	}
	/* a NUL inside a JSON string would cut the C string short */
	if (json_string_length(m) != strlen(json_string_value(m)) ||
	    (json_is_string(l) &&
	    json_string_length(l) != strlen(json_string_value(l))) ||
	    (json_is_string(d) &&
	    json_string_length(d) != strlen(json_string_value(d)))) {
		*why = "Strings must not contain NUL characters.";
		return RC_INVAL;
	}
	rc = portal_dv_choice_parse(json_string_value(m),
	    json_is_string(l) ? json_string_value(l) : NULL, out, why);
	if (rc == 0 && out->method == RA_DV_EMAIL && json_is_string(d) &&
	    json_string_value(d)[0] != '\0')
		rc = domain_set(json_string_value(d), out, why);
	return rc;
}

int
portal_dv_action_parse(const char *rest, int64_t *authz_id,
    const char **action)
{
	static const char *const ACTIONS[] = {"choose", "check", "resend"};
	const char *slash;

	*authz_id = 0;
	*action = NULL;
	if (rest == NULL || strncmp(rest, "dv/", 3) != 0)
		return RC_NOTFOUND;
	rest += 3;
	slash = strchr(rest, '/');
	if (slash == NULL)
		return RC_NOTFOUND;
	*authz_id = portal_parse_id(rest, (size_t)(slash - rest));
	if (*authz_id <= 0)
		return RC_NOTFOUND;
	for (size_t i = 0; i < sizeof(ACTIONS) / sizeof(ACTIONS[0]); i++)
		if (strcmp(slash + 1, ACTIONS[i]) == 0)
			*action = ACTIONS[i];
	if (*action == NULL) {
		*authz_id = 0;
		return RC_NOTFOUND;
	}
	return 0;
}

/* ---- the admin's mail pages ---------------------------------------------- */

int
portal_admin_allowed(const struct portal_req *c)
{
	return c != NULL && c->authed && !c->via_token &&
	    c->user.role == STORE_ROLE_ADMIN;
}

/* Length of the URL at s ("http://" or "https://" and what may follow
 * in a URL, up to a "[" other than an IPv6 host's), 0 when there is
 * none. */
static size_t
url_len(const char *s)
{
	size_t n, pre;

	if (strncmp(s, "https://", 8) == 0)
		pre = 8;
	else if (strncmp(s, "http://", 7) == 0)
		pre = 7;
	else
		return 0;
	n = pre;
	while (s[n] != '\0' && (unsigned char)s[n] > ' ' &&
	    (unsigned char)s[n] < 0x7f && strchr("<>\"'`", s[n]) == NULL &&
	    (s[n] != '[' || n == pre))
		n++;
	/* a sentence's full stop or a closing bracket is not part of it */
	while (n > pre && strchr(".,;:)]", s[n - 1]) != NULL)
		n--;
	return n > pre ? n : 0;
}

int
portal_mail_linkify(struct buf *b, const char *text)
{
	const char *p = text;
	int rc = 0;

	while (rc == 0 && p != NULL && *p != '\0') {
		const char *h = p;
		size_t n = 0;
		char *seg;

		/* up to the next URL */
		while (*h != '\0' && (n = url_len(h)) == 0)
			h++;
		seg = strndup(p, (size_t)(h - p));
		if (seg == NULL)
			return RC_NOMEM;
		rc = portal_html_escape(b, seg);
		free(seg);
		if (rc != 0 || *h == '\0')
			break;
		seg = strndup(h, n);
		if (seg == NULL)
			return RC_NOMEM;
		/* cut short by a marker ("/confirm/[removed after delivery]"):
		 * no link to what is left of it */
		if (h[n] == '[')
			rc = portal_html_escape(b, seg);
		else
			rc = portal_html_printf(b, "<a href=\"%s\" "
			    "rel=\"noreferrer\">%s</a>", seg, seg);
		free(seg);
		p = h + n;
	}
	return rc;
}

int
portal_mail_body(struct buf *b, const struct store_mail *m, int spooled)
{
	char *masked = NULL;
	int rc;

	/* through an SMTP server the link is the recipient's alone; in the
	 * spool folder (the demo) the admin follows it from here */
	if (!spooled)
		masked = ra_dv_email_mask(m->kind, m->body, m->sent_at != 0 ||
		    m->bounced_at != 0 ? RA_DV_EMAIL_GONE :
		    RA_DV_EMAIL_HIDDEN);
	rc = portal_mail_linkify(b, masked != NULL ? masked : m->body);
	if (masked != NULL) {
		sec_wipe(masked, strlen(masked));
		free(masked);
	}
	return rc;
}

int
portal_mailq_path_parse(const char *rest, int64_t *before, int64_t *id)
{
	*before = *id = 0;
	if (rest == NULL)
		return RC_NOTFOUND;
	if (rest[0] == '\0')
		return 0;
	if (rest[0] != '/')
		return RC_NOTFOUND;
	rest++;
	if (strncmp(rest, "before/", 7) == 0) {
		*before = portal_parse_id(rest + 7, strlen(rest + 7));
		return *before > 0 ? 0 : RC_NOTFOUND;
	}
	*id = portal_parse_id(rest, strlen(rest));
	return *id > 0 ? 0 : RC_NOTFOUND;
}

/* ---- the PRG message ----------------------------------------------------- */

char *
portal_flash_encode(int ok, const char *text)
{
	size_t n = text ? strnlen(text, PORTAL_FLASH_MAX) : 0;
	char *out = xmalloc(2 + 2 * n + 1);

	out[0] = ok ? 'o' : 'e';
	out[1] = '.';
	hex_encode((const uint8_t *)text, n, out + 2);
	out[2 + 2 * n] = '\0';
	return out;
}

int
portal_flash_decode(const char *v, int *ok, char out[PORTAL_FLASH_MAX + 1])
{
	size_t n;
	int len;

	*ok = 0;
	out[0] = '\0';
	if (v == NULL || (v[0] != 'o' && v[0] != 'e') || v[1] != '.')
		return RC_INVAL;
	n = strnlen(v + 2, 2 * PORTAL_FLASH_MAX + 1);
	if (n == 0 || n % 2 != 0 || n > 2 * PORTAL_FLASH_MAX)
		return RC_INVAL;
	for (size_t i = 0; i < n; i++) {
		char ch = v[2 + i];

		/* lowercase only, as hex_encode writes it */
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return RC_INVAL;
	}
	len = hex_decode(v + 2, (uint8_t *)out, PORTAL_FLASH_MAX);
	if (len < 0 || (size_t)len != n / 2 ||
	    memchr(out, '\0', (size_t)len) != NULL) {
		out[0] = '\0';
		return RC_INVAL;
	}
	out[len] = '\0';
	*ok = v[0] == 'o';
	return 0;
}

void
portal_flash_set(struct http_req *r, int ok, const char *text)
{
	char *v = portal_flash_encode(ok, text);
	char *cookie = portal_cookie_build(PORTAL_FLASH_COOKIE, v, FLASH_AGE);

	(void)http_add_header(r, "Set-Cookie", cookie);
	free(cookie);
	free(v);
}

int
portal_flash_take(struct portal_req *c, int *ok,
    char out[PORTAL_FLASH_MAX + 1])
{
	char v[2 * PORTAL_FLASH_MAX + 8];
	char *cookie;
	int rc;

	*ok = 0;
	out[0] = '\0';
	rc = portal_cookie_get(http_req_header(c->r, "Cookie"),
	    PORTAL_FLASH_COOKIE, v, sizeof(v));
	if (rc == RC_NOTFOUND)
		return 0;
	/* shown once: cleared whatever it held */
	cookie = portal_cookie_build(PORTAL_FLASH_COOKIE, "", 0);
	(void)http_add_header(c->r, "Set-Cookie", cookie);
	free(cookie);
	if (rc != 0 || portal_flash_decode(v, ok, out) != 0) {
		out[0] = '\0';
		return 0;
	}
	return 1;
}

int
portal_flash_html(struct portal_req *c, struct buf *b)
{
	char text[PORTAL_FLASH_MAX + 1];
	int ok;

	if (!portal_flash_take(c, &ok, text))
		return 0;
	return portal_html_printf(b, "<p class=\"%s\" role=\"%s\" "
	    "id=\"flash\">%s</p>\n", ok ? "notice" : "alert",
	    ok ? "status" : "alert", text);
}
