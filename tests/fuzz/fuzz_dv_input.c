/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz harness for src/portal/dv_input.c, the parsers of what the domain
 * validation pages and API take from a request. The same input is tried
 * as each of:
 *
 *  - the path tail after "/confirm/" (cut at its first NUL, as a request
 *    path is): an accepted token is the whole tail, 16..128 characters of
 *    base64url and nothing else; a refusal leaves the output empty;
 *  - the path after "/portal/orders/<id>/" (dv/<authz>/<action>), the
 *    mail page path after "admin/mail" and the PRG message cookie;
 *  - an application/x-www-form-urlencoded body whose "method" and
 *    "email_local" fields go to portal_dv_choice_parse(), and whose
 *    "email_to" field to portal_dv_email_to_parse(), as the overview's
 *    handler does;
 *  - the input itself as an address for portal_dv_email_to_parse();
 *  - a JSON request body (parsed as the API does, duplicates refused) for
 *    portal_dv_json_parse() with and without a method.
 *
 * What the handlers rely on is checked after each: a refusal fills nothing
 * and says why; an accepted choice is one of the four methods a customer
 * may pick, with one of the five BR 3.2.2.4.4 local parts for email and
 * none otherwise, and a domain only for email that is a DNS name (lower
 * case, no '@', no space or control character); ids are positive.
 */
#include "portal/portal_int.h"
#include "ra/ra.h"
#include "util/dnsname.h"
#include "util/rc.h"

#include <jansson.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
b64u(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
}

/* 1 when s is one word of RA_DV_EMAIL_LOCALS (checked independently of
 * the parser's own loop). */
static int
is_local(const char *s)
{
	static const char *const locals[] = {"admin", "administrator",
		"webmaster", "hostmaster", "postmaster"};

	for (size_t i = 0; i < sizeof(locals) / sizeof(locals[0]); i++)
		if (strcmp(s, locals[i]) == 0)
			return 1;
	return 0;
}

static void
check_choice(int rc, const struct portal_dv_choice *ch, const char *why)
{
	if (memchr(ch->email_local, '\0', sizeof(ch->email_local)) == NULL ||
	    memchr(ch->email_domain, '\0', sizeof(ch->email_domain)) == NULL)
		abort();
	if (rc != 0) {
		if (rc != RC_INVAL || why == NULL || why[0] == '\0' ||
		    ch->method != 0 || ch->email_local[0] != '\0' ||
		    ch->email_domain[0] != '\0')
			abort();
		return;
	}
	/* a domain only for email, and one a mail can go to */
	if (ch->email_domain[0] != '\0' && (ch->method != RA_DV_EMAIL ||
	    dnsname_check(ch->email_domain, DNSNAME_IDNA, NULL) != 0 ||
	    strpbrk(ch->email_domain, "@ \r\n") != NULL))
		abort();
	if (why != NULL)
		abort();
	switch (ch->method) {
	case RA_DV_EMAIL:
		if (!is_local(ch->email_local))
			abort();
		break;
	case RA_DV_DNS_AUTO:
	case RA_DV_DNS:
	case RA_DV_HTTP:
		if (ch->email_local[0] != '\0')
			abort();
		break;
	default:	/* never NONE, OPERATOR or REUSED from a request */
		abort();
	}
}

static void
paths(const char *s)
{
	char tok[PORTAL_DV_TOKEN_MAX + 1];
	char flash[PORTAL_FLASH_MAX + 1];
	const char *action = NULL;
	int64_t authz = -1, before = -1, id = -1;
	size_t n;
	int ok = -1;

	memset(tok, 'x', sizeof(tok));
	if (portal_dv_token_from_tail(s, tok) == 0) {
		n = strlen(tok);
		if (n < PORTAL_DV_TOKEN_MIN || n > PORTAL_DV_TOKEN_MAX ||
		    strcmp(tok, s) != 0 || !portal_dv_token_ok(tok, n))
			abort();
		for (size_t i = 0; i < n; i++)
			if (!b64u(tok[i]))
				abort();
	} else if (tok[0] != '\0') {
		abort();
	}
	if (portal_dv_action_parse(s, &authz, &action) == 0) {
		if (authz <= 0 || action == NULL ||
		    (strcmp(action, "choose") != 0 &&
		    strcmp(action, "check") != 0 &&
		    strcmp(action, "resend") != 0) ||
		    strncmp(s, "dv/", 3) != 0)
			abort();
	} else if (authz != 0 || action != NULL) {
		abort();
	}
	if (portal_mailq_path_parse(s, &before, &id) == 0) {
		if (before < 0 || id < 0 || (before > 0 && id > 0))
			abort();
	} else if (before != 0 || id != 0) {
		abort();
	}
	if (portal_flash_decode(s, &ok, flash) == 0) {
		if (ok != (s[0] == 'o') ||
		    strlen(flash) * 2 != strlen(s) - 2)
			abort();
	} else if (ok != 0 || flash[0] != '\0') {
		abort();
	}
}

static void
form(const uint8_t *data, size_t size)
{
	struct portal_form *f = NULL;
	struct portal_dv_choice ch;
	const char *why = "unset";
	int rc;

	if (portal_form_parse(data, size, &f) != 0)
		return;
	rc = portal_dv_choice_parse(portal_form_get(f, "method"),
	    portal_form_get(f, "email_local"), &ch, &why);
	check_choice(rc, &ch, why);
	if (rc == 0 && ch.method == RA_DV_EMAIL &&
	    portal_form_get(f, "email_to") != NULL) {
		why = "unset";
		rc = portal_dv_email_to_parse(portal_form_get(f, "email_to"),
		    &ch, &why);
		check_choice(rc, &ch, why);
	}
	portal_form_free(f);
}

static void
address(const char *s)
{
	struct portal_dv_choice ch;
	const char *why = "unset";
	int rc = portal_dv_email_to_parse(s, &ch, &why);

	check_choice(rc, &ch, why);
	if (rc == 0 && (ch.method != RA_DV_EMAIL || ch.email_domain[0] ==
	    '\0' || strlen(ch.email_local) + 1 + strlen(ch.email_domain) !=
	    strlen(s)))
		abort();
}

static void
body(const uint8_t *data, size_t size)
{
	struct portal_dv_choice ch;
	const char *why = "unset";
	json_error_t je;
	json_t *in;
	int64_t authz = -1;
	int rc;

	in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	for (int want = 0; want <= 1; want++) {
		rc = portal_dv_json_parse(in, want, &authz, &ch, &why);
		if (rc != 0 && authz != 0 && !(want && authz > 0))
			abort();
		if (rc == 0 && (authz <= 0 || authz > 999999999999999LL))
			abort();
		if (want) {
			if (rc != 0 && (why == NULL || ch.method != 0))
				abort();
			if (rc == 0)
				check_choice(rc, &ch, why);
		} else if (rc == 0 && ch.method != 0) {
			abort();	/* no method asked for, none given */
		}
	}
	json_decref(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';		/* a path ends at its first NUL */
	paths(s);
	address(s);
	free(s);
	form(data, size);
	body(data, size);
	return 0;
}
