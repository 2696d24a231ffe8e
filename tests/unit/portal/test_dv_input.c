/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/portal/dv_input.c: what the domain validation pages and the
 * admin's mail pages take from a request. The confirmation token in the
 * path (empty, short, huge, not base64url, slashes, escapes), the method
 * choice from form fields and from JSON (unknown methods, bad local parts,
 * wrong types, NULs), the action paths, the PRG message cookie (round
 * trip, tampered values), the mail page paths, and the admin-only rule.
 */
#include "portal/portal_int.h"
#include "ra/ra.h"
#include "util/buf.h"
#include "util/rc.h"

#include <jansson.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void
test_token(void **state)
{
	char out[PORTAL_DV_TOKEN_MAX + 1];
	char big[4096];
	const char *good = "AbC-_0123456789xyzXYZ-_abcdefghij";

	(void)state;
	assert_int_equal(portal_dv_token_from_tail(good, out), 0);
	assert_string_equal(out, good);
	assert_true(portal_dv_token_ok(good, strlen(good)));
	/* exactly the bounds */
	memset(big, 'a', sizeof(big));
	big[PORTAL_DV_TOKEN_MIN] = '\0';
	assert_int_equal(portal_dv_token_from_tail(big, out), 0);
	big[PORTAL_DV_TOKEN_MIN - 1] = '\0';
	assert_int_equal(portal_dv_token_from_tail(big, out), RC_NOTFOUND);
	assert_string_equal(out, "");
	memset(big, 'a', sizeof(big));
	big[PORTAL_DV_TOKEN_MAX] = '\0';
	assert_int_equal(portal_dv_token_from_tail(big, out), 0);
	assert_int_equal(strlen(out), PORTAL_DV_TOKEN_MAX);
	big[PORTAL_DV_TOKEN_MAX] = 'a';
	big[PORTAL_DV_TOKEN_MAX + 1] = '\0';
	assert_int_equal(portal_dv_token_from_tail(big, out), RC_NOTFOUND);
	/* huge */
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(portal_dv_token_from_tail(big, out), RC_NOTFOUND);
	assert_false(portal_dv_token_ok(big, strlen(big)));
	/* empty, NULL */
	assert_int_equal(portal_dv_token_from_tail("", out), RC_NOTFOUND);
	assert_int_equal(portal_dv_token_from_tail(NULL, out), RC_NOTFOUND);
	assert_false(portal_dv_token_ok(NULL, 20));
	/* not base64url: standard base64, padding, escapes, dots */
	assert_int_equal(portal_dv_token_from_tail(
	    "abcdefghijklmnop+qrstu", out), RC_NOTFOUND);
	assert_int_equal(portal_dv_token_from_tail(
	    "abcdefghijklmnopqrstu=", out), RC_NOTFOUND);
	assert_int_equal(portal_dv_token_from_tail(
	    "abcdefghijklmnop%2Fqrstu", out), RC_NOTFOUND);
	assert_int_equal(portal_dv_token_from_tail(
	    "abcdefghijklmnop.qrstu", out), RC_NOTFOUND);
	assert_int_equal(portal_dv_token_from_tail(
	    "abcdefghijklmnop qrstu", out), RC_NOTFOUND);
	assert_int_equal(portal_dv_token_from_tail(
	    "abcdefghijklmnop\xc3\xa4qrstu", out), RC_NOTFOUND);
	/* slashes: a second segment, a trailing one, traversal */
	assert_int_equal(portal_dv_token_from_tail(
	    "abcdefghijklmnopqrstu/x", out), RC_NOTFOUND);
	assert_int_equal(portal_dv_token_from_tail(
	    "abcdefghijklmnopqrstu/", out), RC_NOTFOUND);
	assert_int_equal(portal_dv_token_from_tail(
	    "../abcdefghijklmnopqrstu", out), RC_NOTFOUND);
	assert_int_equal(portal_dv_token_from_tail("/abcdefghijklmnopqrstu",
	    out), RC_NOTFOUND);
	/* a NUL in the middle: the length given says more */
	assert_false(portal_dv_token_ok("abcdefghijklmnop\0qrstu", 22));
}

static void
test_choice_form(void **state)
{
	struct portal_dv_choice ch;
	const char *why;
	static const char *const locals[] = {"admin", "administrator",
		"webmaster", "hostmaster", "postmaster"};

	(void)state;
	assert_int_equal(portal_dv_choice_parse("dns", NULL, &ch, &why), 0);
	assert_int_equal(ch.method, RA_DV_DNS);
	assert_string_equal(ch.email_local, "");
	assert_int_equal(portal_dv_choice_parse("http", "admin", &ch, &why),
	    0);
	assert_int_equal(ch.method, RA_DV_HTTP);
	assert_string_equal(ch.email_local, "");	/* ignored */
	assert_int_equal(portal_dv_choice_parse("dns-auto", NULL, &ch, &why),
	    0);
	assert_int_equal(ch.method, RA_DV_DNS_AUTO);
	/* email: hostmaster by default, each of the five */
	assert_int_equal(portal_dv_choice_parse("email", NULL, &ch, &why), 0);
	assert_int_equal(ch.method, RA_DV_EMAIL);
	assert_string_equal(ch.email_local, "hostmaster");
	assert_int_equal(portal_dv_choice_parse("email", "", &ch, &why), 0);
	assert_string_equal(ch.email_local, "hostmaster");
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(portal_dv_choice_parse("email", locals[i],
		    &ch, &why), 0);
		assert_string_equal(ch.email_local, locals[i]);
	}
	/* unknown methods, including the ones staff use */
	static const char *const bad_methods[] = {"", "DNS", "dns ", "email\n",
		"operator", "reused", "none", "tls-alpn-01", "dns-01",
		"http-01", "dns-auto;", "emai"};
	for (size_t i = 0; i < sizeof(bad_methods) / sizeof(*bad_methods);
	    i++) {
		why = NULL;
		assert_int_equal(portal_dv_choice_parse(bad_methods[i], NULL,
		    &ch, &why), RC_INVAL);
		assert_non_null(why);
		assert_int_equal(ch.method, 0);
	}
	assert_int_equal(portal_dv_choice_parse(NULL, NULL, &ch, &why),
	    RC_INVAL);
	/* bad local parts */
	static const char *const bad_locals[] = {"root", "Hostmaster",
		"hostmaster@example.com", "host master", "hostmaster\r\nBcc: x",
		"admin ", " admin", "webmaster,admin", "postmaster\xff",
		"administratoradministrator", "admi", "a"};
	for (size_t i = 0; i < sizeof(bad_locals) / sizeof(*bad_locals);
	    i++) {
		why = NULL;
		assert_int_equal(portal_dv_choice_parse("email", bad_locals[i],
		    &ch, &why), RC_INVAL);
		assert_non_null(why);
		assert_int_equal(ch.method, 0);
		assert_string_equal(ch.email_local, "");
	}
}

/* The overview's list of addresses: local part and domain, both checked
 * (the ra decides whether the domain is one of the name's). */
static void
test_email_to(void **state)
{
	struct portal_dv_choice ch;
	const char *why;
	static const char *const bad[] = {NULL, "", "admin", "@example.com",
		"root@example.com", "admin@", "admin@Example.com",
		"admin@example..com", "admin@*.example.com",
		"admin@exa mple.com", "admin@example.com\r\nBcc: x",
		"admin@example.com.", "admin@@example.com",
		"administratoradministrator@example.com", "admin@1.2.3.4",
		"admin@b\xc3\xbc" "cher.example"};

	(void)state;
	assert_int_equal(portal_dv_email_to_parse("hostmaster@example.com",
	    &ch, &why), 0);
	assert_int_equal(ch.method, RA_DV_EMAIL);
	assert_string_equal(ch.email_local, "hostmaster");
	assert_string_equal(ch.email_domain, "example.com");
	assert_int_equal(portal_dv_email_to_parse("admin@www.xn--bcher-kva."
	    "example", &ch, &why), 0);
	assert_string_equal(ch.email_domain, "www.xn--bcher-kva.example");
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		why = NULL;
		assert_int_equal(portal_dv_email_to_parse(bad[i], &ch, &why),
		    RC_INVAL);
		assert_non_null(why);
		assert_int_equal(ch.method, 0);
		assert_string_equal(ch.email_domain, "");
	}
}

static int
json_choice(const char *text, int want, int64_t *authz,
    struct portal_dv_choice *ch, const char **why)
{
	json_t *j = json_loads(text, JSON_ALLOW_NUL, NULL);
	int rc = portal_dv_json_parse(j, want, authz, ch, why);

	json_decref(j);
	return rc;
}

static void
test_choice_json(void **state)
{
	struct portal_dv_choice ch;
	const char *why;
	int64_t a;

	(void)state;
	assert_int_equal(json_choice("{\"authz_id\": 7, \"method\": "
	    "\"email\", \"email_local\": \"admin\"}", 1, &a, &ch, &why), 0);
	assert_int_equal(a, 7);
	assert_int_equal(ch.method, RA_DV_EMAIL);
	assert_string_equal(ch.email_local, "admin");
	assert_int_equal(json_choice("{\"authz_id\": 7, \"method\": "
	    "\"email\", \"email_local\": null}", 1, &a, &ch, &why), 0);
	assert_string_equal(ch.email_local, "hostmaster");
	assert_int_equal(json_choice("{\"authz_id\": 9, \"method\": \"dns\"}",
	    1, &a, &ch, &why), 0);
	assert_int_equal(ch.method, RA_DV_DNS);
	/* the domain of the address */
	assert_int_equal(json_choice("{\"authz_id\": 7, \"method\": "
	    "\"email\", \"email_local\": \"admin\", \"email_domain\": "
	    "\"example.com\"}", 1, &a, &ch, &why), 0);
	assert_string_equal(ch.email_local, "admin");
	assert_string_equal(ch.email_domain, "example.com");
	assert_int_equal(json_choice("{\"authz_id\": 7, \"method\": "
	    "\"email\", \"email_domain\": null}", 1, &a, &ch, &why), 0);
	assert_string_equal(ch.email_domain, "");
	assert_int_equal(json_choice("{\"authz_id\": 7, \"method\": "
	    "\"dns\", \"email_domain\": \"example.com\"}", 1, &a, &ch,
	    &why), 0);
	assert_string_equal(ch.email_domain, "");	/* ignored */
	/* check and resend need only the id */
	assert_int_equal(json_choice("{\"authz_id\": 3}", 0, &a, &ch, &why),
	    0);
	assert_int_equal(a, 3);
	/* wrong types and values */
	static const char *const bad[] = {
		"[]", "1", "\"x\"", "null", "{}",
		"{\"authz_id\": \"7\", \"method\": \"dns\"}",
		"{\"authz_id\": 7.0, \"method\": \"dns\"}",
		"{\"authz_id\": 0, \"method\": \"dns\"}",
		"{\"authz_id\": -1, \"method\": \"dns\"}",
		"{\"authz_id\": 1e300, \"method\": \"dns\"}",
		"{\"authz_id\": 9223372036854775807, \"method\": \"dns\"}",
		"{\"authz_id\": true, \"method\": \"dns\"}",
		"{\"authz_id\": 7}",
		"{\"authz_id\": 7, \"method\": 2}",
		"{\"authz_id\": 7, \"method\": null}",
		"{\"authz_id\": 7, \"method\": [\"dns\"]}",
		"{\"authz_id\": 7, \"method\": \"smtp\"}",
		"{\"authz_id\": 7, \"method\": \"email\", \"email_local\": 1}",
		"{\"authz_id\": 7, \"method\": \"email\", \"email_local\": "
		    "[\"admin\"]}",
		"{\"authz_id\": 7, \"method\": \"email\", \"email_local\": "
		    "\"root\"}",
		"{\"authz_id\": 7, \"method\": \"email\", \"email_local\": "
		    "\"admin\\u0000x\"}",
		"{\"authz_id\": 7, \"method\": \"dns\\u0000x\"}",
		"{\"authz_id\": 7, \"method\": \"email\", \"email_domain\": "
		    "1}",
		"{\"authz_id\": 7, \"method\": \"email\", \"email_domain\": "
		    "\"Example.COM\"}",
		"{\"authz_id\": 7, \"method\": \"email\", \"email_domain\": "
		    "\"example.com\\u0000x\"}",
		"{\"authz_id\": 7, \"method\": \"email\", \"email_domain\": "
		    "\"a@b.example\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		why = NULL;
		assert_int_equal(json_choice(bad[i], 1, &a, &ch, &why),
		    RC_INVAL);
		assert_non_null(why);
	}
	assert_int_equal(portal_dv_json_parse(NULL, 0, &a, &ch, &why),
	    RC_INVAL);
	assert_int_equal(json_choice("{\"authz_id\": \"3\"}", 0, &a, &ch,
	    &why), RC_INVAL);
	assert_int_equal(a, 0);
}

static void
test_action(void **state)
{
	int64_t a;
	const char *act;

	(void)state;
	assert_int_equal(portal_dv_action_parse("dv/12/choose", &a, &act), 0);
	assert_int_equal(a, 12);
	assert_string_equal(act, "choose");
	assert_int_equal(portal_dv_action_parse("dv/1/check", &a, &act), 0);
	assert_string_equal(act, "check");
	assert_int_equal(portal_dv_action_parse("dv/99/resend", &a, &act), 0);
	assert_string_equal(act, "resend");
	static const char *const bad[] = {"", "dv", "dv/", "dv/12",
		"dv/12/", "dv/0/check", "dv/012/check", "dv/-1/check",
		"dv/x/check", "dv/12/confirm", "dv/12/check/", "dv//check",
		"dv/12/check?x", "DV/12/check", "dv/1234567890123456/check",
		"revoke", "dv/12/Check"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(portal_dv_action_parse(bad[i], &a, &act),
		    RC_NOTFOUND);
		assert_int_equal(a, 0);
		assert_null(act);
	}
	assert_int_equal(portal_dv_action_parse(NULL, &a, &act), RC_NOTFOUND);
}

static void
test_flash(void **state)
{
	char out[PORTAL_FLASH_MAX + 1], big[PORTAL_FLASH_MAX * 3];
	char *v;
	int ok;

	(void)state;
	v = portal_flash_encode(1, "We sent an email to <hostmaster@x>.");
	assert_int_equal(portal_flash_decode(v, &ok, out), 0);
	assert_int_equal(ok, 1);
	assert_string_equal(out, "We sent an email to <hostmaster@x>.");
	free(v);
	v = portal_flash_encode(0, "caf\xc3\xa9");
	assert_int_equal(portal_flash_decode(v, &ok, out), 0);
	assert_int_equal(ok, 0);
	assert_string_equal(out, "caf\xc3\xa9");
	free(v);
	/* cut at the maximum */
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	v = portal_flash_encode(1, big);
	assert_int_equal(strlen(v), 2 + 2 * PORTAL_FLASH_MAX);
	assert_int_equal(portal_flash_decode(v, &ok, out), 0);
	assert_int_equal(strlen(out), PORTAL_FLASH_MAX);
	free(v);
	/* tampered or malformed */
	static const char *const bad[] = {"", "o", "o.", "x.41", "o.4",
		"o.4G", "o.41 ", "O.41", "o:41", "o.0041", "e.4100",
		"o.4A"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(portal_flash_decode(bad[i], &ok, out),
		    RC_INVAL);
		assert_string_equal(out, "");
		assert_int_equal(ok, 0);
	}
	assert_int_equal(portal_flash_decode(NULL, &ok, out), RC_INVAL);
	/* too long to have come from us */
	big[0] = 'o';
	big[1] = '.';
	memset(big + 2, '4', sizeof(big) - 3);
	assert_int_equal(portal_flash_decode(big, &ok, out), RC_INVAL);
}

static void
test_mailq_path(void **state)
{
	int64_t before, id;

	(void)state;
	assert_int_equal(portal_mailq_path_parse("", &before, &id), 0);
	assert_int_equal(before, 0);
	assert_int_equal(id, 0);
	assert_int_equal(portal_mailq_path_parse("/42", &before, &id), 0);
	assert_int_equal(id, 42);
	assert_int_equal(before, 0);
	assert_int_equal(portal_mailq_path_parse("/before/17", &before, &id),
	    0);
	assert_int_equal(before, 17);
	assert_int_equal(id, 0);
	static const char *const bad[] = {"/", "x", "/0", "/x", "/42/",
		"/before/", "/before/0", "/before/x", "/42/raw", "s", "/-1",
		"/1234567890123456"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(portal_mailq_path_parse(bad[i], &before, &id),
		    RC_NOTFOUND);
}

static void
linkify(const char *in, const char *want)
{
	struct buf b;

	buf_init(&b, 65536);
	assert_int_equal(portal_mail_linkify(&b, in), 0);
	assert_int_equal(buf_append(&b, "", 1), 0);
	assert_string_equal((const char *)b.data, want);
	buf_free(&b);
}

static void
test_linkify(void **state)
{
	(void)state;
	linkify("", "");
	linkify(NULL, "");
	linkify("To confirm, open:\n\nhttps://h:8443/confirm/Ab-_9\n\nThanks.",
	    "To confirm, open:\n\n<a href=\"https://h:8443/confirm/Ab-_9\" "
	    "rel=\"noreferrer\">https://h:8443/confirm/Ab-_9</a>\n\nThanks.");
	/* a full stop or bracket after it is text */
	linkify("(see http://a.example/x).", "(see <a href=\"http://a.example/x"
	    "\" rel=\"noreferrer\">http://a.example/x</a>).");
	/* hostile text around and in it: escaped, the URL ends at a quote
	 * or angle bracket */
	linkify("<b>Evil & Co</b> https://x.example/\"onmouseover=\"alert(1)",
	    "&lt;b&gt;Evil &amp; Co&lt;/b&gt; <a href=\"https://x.example/\" "
	    "rel=\"noreferrer\">https://x.example/</a>&quot;onmouseover=&quot;"
	    "alert(1)");
	linkify("https://x/<script>", "<a href=\"https://x/\" rel=\"noreferrer"
	    "\">https://x/</a>&lt;script&gt;");
	/* other schemes and bare prefixes are not links */
	linkify("javascript:alert(1) data:text/html,x ftp://x https:// "
	    "http://.", "javascript:alert(1) data:text/html,x ftp://x https:// "
	    "http://.");
	linkify("HTTPS://X.EXAMPLE/", "HTTPS://X.EXAMPLE/");
	/* not UTF-8 next to a URL: replaced, the URL kept */
	linkify("\xff https://a/b \xc3", "\xef\xbf\xbd <a href=\"https://a/b\" "
	    "rel=\"noreferrer\">https://a/b</a> \xef\xbf\xbd");
	/* a URL with non-ASCII stops before it */
	linkify("https://a/\xc3\xa4", "<a href=\"https://a/\" rel=\"noreferrer"
	    "\">https://a/</a>\xc3\xa4");
}

static void
test_admin_only(void **state)
{
	struct portal_req c;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.authed = 1;
	c.user.role = STORE_ROLE_ADMIN;
	assert_true(portal_admin_allowed(&c));
	c.user.role = STORE_ROLE_AGENT;
	assert_false(portal_admin_allowed(&c));
	c.user.role = STORE_ROLE_CUSTOMER;
	c.user.customer_id = 1;
	assert_false(portal_admin_allowed(&c));
	/* an admin's API token does not open the HTML page */
	c.user.role = STORE_ROLE_ADMIN;
	c.user.customer_id = 0;
	c.via_token = 1;
	assert_false(portal_admin_allowed(&c));
	/* nobody logged in */
	c.via_token = 0;
	c.authed = 0;
	assert_false(portal_admin_allowed(&c));
	assert_false(portal_admin_allowed(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_choice_form),
		cmocka_unit_test(test_email_to),
		cmocka_unit_test(test_choice_json),
		cmocka_unit_test(test_action),
		cmocka_unit_test(test_flash),
		cmocka_unit_test(test_mailq_path),
		cmocka_unit_test(test_linkify),
		cmocka_unit_test(test_admin_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
