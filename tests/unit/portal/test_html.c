/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/portal/html.c: the escaping function (markup, quotes,
 * control characters, broken UTF-8), the escaping printf and the layout;
 * and the one time format every page uses (orders.c).
 */
#include "portal/portal_int.h"
#include "util/rc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void
esc(const char *in, const char *want)
{
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(portal_html_escape(&b, in), 0);
	assert_string_equal(b.data ? (const char *)b.data : "", want);
	buf_free(&b);
}

static void
test_escape(void **state)
{
	(void)state;
	esc("plain", "plain");
	esc("<script>alert(1)</script>",
	    "&lt;script&gt;alert(1)&lt;/script&gt;");
	esc("\" onmouseover='x' &amp;",
	    "&quot; onmouseover=&#39;x&#39; &amp;amp;");
	esc("M\xc3\xbcnchen \xe2\x9a\x99", "M\xc3\xbcnchen \xe2\x9a\x99");
	esc("a\x01" "b\x7f", "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	esc("line\nnext\ttab", "line\nnext\ttab");
	/* broken UTF-8: lone continuation, truncated, overlong, surrogate */
	esc("\x80", "\xef\xbf\xbd");
	esc("x\xc3", "x\xef\xbf\xbd");
	esc("\xc0\xbc", "\xef\xbf\xbd\xef\xbf\xbd");
	esc("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	esc("", "");
}

static void
test_escape_null_and_bound(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(portal_html_escape(&b, NULL), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(portal_html_escape(&b, "<<<<<<"), RC_TOOBIG);
	buf_free(&b);
}

static void
test_printf(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 4096);
	assert_int_equal(portal_html_printf(&b, "<p class=\"x\">%s %lld%%</p>",
	    "<b>", 42LL), 0);
	assert_string_equal((const char *)b.data,
	    "<p class=\"x\">&lt;b&gt; 42%</p>");
	buf_reset(&b);
	assert_int_equal(portal_html_printf(&b, "%d", 1), RC_INVAL);
	buf_free(&b);
}

static void
test_page(void **state)
{
	struct portal_page pg = {"A <title>", "Eve \"<x>\"", "tok", "/s.css",
		"<p>body</p>", NULL, 0, 0, 0};
	struct buf b;
	const char *t;

	(void)state;
	buf_init(&b, 65536);
	assert_int_equal(portal_html_page(&b, &pg), 0);
	t = (const char *)b.data;
	assert_non_null(strstr(t, "<!DOCTYPE html>"));
	assert_non_null(strstr(t, "<title>A &lt;title&gt;"));
	assert_non_null(strstr(t, "Eve &quot;&lt;x&gt;&quot;"));
	assert_non_null(strstr(t, "action=\"/portal/logout\""));
	assert_non_null(strstr(t, "value=\"tok\""));
	assert_non_null(strstr(t, "<p>body</p>"));
	assert_null(strstr(t, "<script"));
	assert_null(strstr(t, "style="));
	/* the admin's link only for admins */
	assert_null(strstr(t, "/portal/admin/mail"));
	buf_reset(&b);
	pg.admin = 1;
	assert_int_equal(portal_html_page(&b, &pg), 0);
	assert_non_null(strstr((const char *)b.data,
	    "<li><a href=\"/portal/admin/mail\">Outgoing mail</a></li>"));
	assert_non_null(strstr((const char *)b.data, "/portal/overview"));
	/* staff: the back office, no customer links */
	buf_reset(&b);
	pg.staff = 1;
	assert_int_equal(portal_html_page(&b, &pg), 0);
	assert_non_null(strstr((const char *)b.data,
	    "<li><a href=\"/backoffice/\">Back office</a></li>"));
	assert_non_null(strstr((const char *)b.data, "/portal/admin/mail"));
	assert_null(strstr((const char *)b.data, "/portal/overview"));
	buf_reset(&b);
	pg.user_name = NULL;
	assert_int_equal(portal_html_page(&b, &pg), 0);
	assert_null(strstr((const char *)b.data, "logout"));
	assert_null(strstr((const char *)b.data, "/portal/admin/mail"));
	buf_free(&b);
}

/* One style on every page: "5 Nov 2026, 14:05 UTC", the day alone
 * "5 Nov 2026"; no leading zero, no ISO dates, an em dash for none. */
static void
test_times(void **state)
{
	char out[32];

	(void)state;
	portal_fmt_time(1794920700, out);	/* 2026-11-17 13:05 */
	assert_string_equal(out, "17 Nov 2026, 13:05 UTC");
	portal_fmt_time(1772672820, out);	/* 2026-03-05 01:07 */
	assert_string_equal(out, "5 Mar 2026, 01:07 UTC");
	portal_fmt_date(1772672820, out);
	assert_string_equal(out, "5 Mar 2026");
	portal_fmt_time(0, out);
	assert_string_equal(out, "\xe2\x80\x94");
	portal_fmt_date(0, out);
	assert_string_equal(out, "\xe2\x80\x94");
	/* a time gmtime_r() cannot take: none, not timefmt's "@<t>" */
	if (sizeof(time_t) >= 8) {
		portal_fmt_time((time_t)INT64_MAX, out);
		assert_string_equal(out, "\xe2\x80\x94");
		portal_fmt_date((time_t)INT64_MAX, out);
		assert_string_equal(out, "\xe2\x80\x94");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_null_and_bound),
		cmocka_unit_test(test_printf),
		cmocka_unit_test(test_page),
		cmocka_unit_test(test_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
