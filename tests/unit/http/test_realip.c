/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of http_realip (src/http/realip.c), the client address of a
 * request through trusted reverse proxies: a table of peers and
 * X-Forwarded-For headers, honest and forged, with the address each must
 * give. The rule under test: only what a trusted proxy appended is
 * believed, so a client can never choose the address it is counted as;
 * and what it appended that is no address leaves the client unknown
 * ("?"), never the proxy's own address, which every client behind it
 * would share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/http.h"
#include "util/ipaddr.h"

struct row {
	const char *peer;
	const char *xff[4];	/* the headers, NULL-terminated */
	const char *want;
};

static const struct row rows[] = {
	/* not from a proxy: the header is ignored whatever it says */
	{"192.0.2.7", {"198.51.100.1", NULL}, "192.0.2.7"},
	{"127.0.0.2", {"198.51.100.1", NULL}, "127.0.0.2"},
	{"::2", {"198.51.100.1", NULL}, "::2"},
	/* from a proxy without the header: its own request (a health check),
	 * the proxy */
	{"127.0.0.1", {NULL}, "127.0.0.1"},
	/* one proxy (nginx's $proxy_add_x_forwarded_for) */
	{"127.0.0.1", {"203.0.113.9", NULL}, "203.0.113.9"},
	{"127.0.0.1", {" 203.0.113.9 ", NULL}, "203.0.113.9"},
	{"::1", {"2001:db8::5", NULL}, "2001:db8::5"},
	{"::1", {"[2001:db8::5]", NULL}, "2001:db8::5"},
	{"::1", {"2001:DB8:0:0::5", NULL}, "2001:db8::5"},
	{"::1", {"::ffff:203.0.113.9", NULL}, "203.0.113.9"},
	/* a forged entry to the left of the real one is not believed */
	{"127.0.0.1", {"198.51.100.1, 203.0.113.9", NULL}, "203.0.113.9"},
	{"127.0.0.1", {"198.51.100.1", "203.0.113.9", NULL}, "203.0.113.9"},
	{"127.0.0.1", {"10.0.0.1,10.0.0.2,203.0.113.9", NULL},
	    "203.0.113.9"},
	/* a chain of trusted proxies (10.0.0.0/8): the first one from the
	 * right that is not one */
	{"127.0.0.1", {"198.51.100.1, 203.0.113.9, 10.1.1.1", NULL},
	    "203.0.113.9"},
	{"127.0.0.1", {"203.0.113.9, 10.1.1.1", "10.2.2.2", NULL},
	    "203.0.113.9"},
	{"10.9.9.9", {"203.0.113.9", NULL}, "203.0.113.9"},
	/* every entry a trusted proxy: the leftmost */
	{"127.0.0.1", {"10.1.1.1, 10.2.2.2", NULL}, "10.1.1.1"},
	/* garbage where the client's address should be: unknown */
	{"127.0.0.1", {"unknown", NULL}, "?"},
	{"127.0.0.1", {"", NULL}, "?"},
	{"127.0.0.1", {",", NULL}, "?"},
	{"127.0.0.1", {"203.0.113.9,", NULL}, "?"},
	{"127.0.0.1", {"203.0.113.9, unknown, 10.1.1.1", NULL}, "?"},
	{"127.0.0.1", {"203.0.113.9", "unknown", NULL}, "?"},
	{"127.0.0.1", {"203.0.113.9:4711", NULL}, "?"},
	{"127.0.0.1", {"[::1]:443", NULL}, "?"},
	{"127.0.0.1", {"fe80::1%eth0", NULL}, "?"},
	{"127.0.0.1", {"203.0.113.9\r\nX-Evil: 1", NULL}, "?"},
	{"127.0.0.1", {"0203.0.113.9", NULL}, "?"},
	{"127.0.0.1", {"for=203.0.113.9", NULL}, "?"},
	{"127.0.0.1", {"[]", NULL}, "?"},
	{"127.0.0.1", {"[203.0.113.9]", NULL}, "?"},
	{"::1", {"unknown", NULL}, "?"},
	/* garbage left of the client is the client's own: not looked at */
	{"127.0.0.1", {"unknown, 203.0.113.9", NULL}, "203.0.113.9"},
	{"127.0.0.1", {"unknown", "203.0.113.9", NULL}, "203.0.113.9"},
	{"127.0.0.1", {"unknown, 203.0.113.9, 10.1.1.1", NULL},
	    "203.0.113.9"},
	/* a peer that is no address at all */
	{"?", {"203.0.113.9", NULL}, "?"},
	{NULL, {"203.0.113.9", NULL}, "?"},
};

static void
test_table(void **state)
{
	struct ipnet *proxies;
	char why[160], out[64];
	int n, rc;

	(void)state;
	n = ipnet_list_parse("127.0.0.1 ::1 10.0.0.0/8", &proxies, why,
	    sizeof(why));
	assert_int_equal(n, 3);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t nx = 0;

		while (nx < 4 && rows[i].xff[nx] != NULL)
			nx++;
		rc = http_realip(proxies, (size_t)n, rows[i].peer,
		    rows[i].xff, nx, out, sizeof(out));
		/* 1 (logged once by the caller) only for garbage from a
		 * trusted proxy; a peer that is no address is 0 */
		if (rc != (strcmp(rows[i].want, "?") == 0 &&
		    rows[i].peer != NULL && strcmp(rows[i].peer, "?") != 0))
			fail_msg("row %zu: returned %d", i, rc);
		if (strcmp(out, rows[i].want) != 0)
			fail_msg("row %zu (peer %s, \"%s\"): got %s, want %s",
			    i, rows[i].peer ? rows[i].peer : "NULL",
			    rows[i].xff[0] ? rows[i].xff[0] : "", out,
			    rows[i].want);
	}
	free(proxies);
}

/* No trusted proxy: every header is ignored. */
static void
test_none_trusted(void **state)
{
	const char *xff[] = {"203.0.113.9"};
	char out[64];

	(void)state;
	http_realip(NULL, 0, "127.0.0.1", xff, 1, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1");
}

/* Huge and many entries: walked without allocating, bounded output. */
static void
test_huge(void **state)
{
	struct ipnet *proxies;
	char why[160], out[64], small[8];
	size_t n = 200000;
	char *big = malloc(n + 32);
	const char *xff[1];
	int np;

	(void)state;
	np = ipnet_list_parse("127.0.0.0/8", &proxies, why, sizeof(why));
	assert_int_equal(np, 1);
	assert_non_null(big);
	/* 100,000 forged entries, then the real client */
	for (size_t i = 0; i < n; i += 2)
		memcpy(big + i, "1,", 2);
	strcpy(big + n, "203.0.113.9");
	xff[0] = big;
	http_realip(proxies, 1, "127.0.0.1", xff, 1, out, sizeof(out));
	assert_string_equal(out, "203.0.113.9");
	/* 100,000 trusted hops: the leftmost */
	for (size_t i = 0; i < n; i += 10)
		memcpy(big + i, "127.0.0.1,", 10);
	strcpy(big + n, "127.0.0.9");
	http_realip(proxies, 1, "127.0.0.1", xff, 1, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1");
	/* one entry longer than any address */
	memset(big, '1', n);
	big[n] = '\0';
	assert_int_equal(http_realip(proxies, 1, "127.0.0.1", xff, 1, out,
	    sizeof(out)), 1);
	assert_string_equal(out, "?");
	/* an output buffer too small is cut, never overrun */
	xff[0] = "2001:db8:1234:5678:9abc:def0:1234:5678";
	http_realip(proxies, 1, "127.0.0.1", xff, 1, small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
	free(big);
	free(proxies);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_none_trusted),
		cmocka_unit_test(test_huge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
