/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the address and network parsers in src/util/ipaddr.c that the
 * configuration's trusted proxies and X-Forwarded-For go through: every
 * form inet_pton takes, and the hostile ones it must not (leading zeros,
 * zones, ports, prefixes out of range, bits set past the prefix, huge
 * lists).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/ipaddr.h"

static void
test_parse(void **state)
{
	static const struct {
		const char *in;
		size_t len;
	} rows[] = {
		{"127.0.0.1", 4}, {"0.0.0.0", 4}, {"255.255.255.255", 4},
		{"::1", 16}, {"2001:db8::1", 16}, {"FE80::1", 16},
		{"::ffff:192.0.2.1", 4},	/* mapped: the IPv4 address */
		{"::192.0.2.1", 16},		/* compatible: not mapped */
		{"", 0}, {" 127.0.0.1", 0}, {"127.0.0.1 ", 0},
		{"127.0.0.01", 0}, {"127.0.0", 0}, {"127.0.0.256", 0},
		{"127.0.0.1:80", 0}, {"[::1]", 0}, {"fe80::1%eth0", 0},
		{"1.2.3.4/32", 0}, {"localhost", 0}, {"0x7f.0.0.1", 0},
		{"::1::", 0},
		{"1111:2222:3333:4444:5555:6666:7777:8888:9999", 0},
	};
	uint8_t ip[16];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t got = ipaddr_parse(rows[i].in, ip);

		if (got != rows[i].len)
			fail_msg("ipaddr_parse(\"%s\") = %zu, want %zu",
			    rows[i].in, got, rows[i].len);
	}
	assert_int_equal(ipaddr_parse("::ffff:192.0.2.1", ip), 4);
	assert_memory_equal(ip, "\xc0\x00\x02\x01", 4);
	assert_int_equal(ipaddr_parse(NULL, ip), 0);
	{
		char big[4096];

		memset(big, '1', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(ipaddr_parse(big, ip), 0);
	}
}

static void
test_list(void **state)
{
	struct ipnet *v;
	char why[160];
	uint8_t ip[16];

	(void)state;
	assert_int_equal(ipnet_list_parse("", &v, why, sizeof(why)), 0);
	assert_null(v);
	assert_int_equal(ipnet_list_parse(" ,\t, ", &v, why, sizeof(why)), 0);
	assert_null(v);
	assert_int_equal(ipnet_list_parse(NULL, &v, why, sizeof(why)), 0);
	assert_int_equal(ipnet_list_parse("127.0.0.1, 10.0.0.0/8\t"
	    "fd00::/8,::1 0.0.0.0/0", &v, why, sizeof(why)), 5);
	assert_int_equal(v[0].len, 4);
	assert_int_equal(v[0].bits, 32);
	assert_int_equal(v[1].bits, 8);
	assert_int_equal(v[2].len, 16);
	assert_int_equal(v[2].bits, 8);
	assert_int_equal(v[3].bits, 128);
	assert_int_equal(v[4].bits, 0);

	/* membership in the first n networks, one family never matching
	 * the other */
	{
		static const struct {
			const char *ip;
			size_t n;
			int in;
		} m[] = {
			{"127.0.0.1", 1, 1}, {"127.0.0.2", 1, 0},
			{"10.255.1.2", 2, 1}, {"11.0.0.1", 2, 0},
			{"11.0.0.1", 5, 1},		/* 0.0.0.0/0 */
			{"fdff::7", 3, 1}, {"fe00::7", 5, 0}, {"::1", 4, 1},
			{"::ffff:10.1.2.3", 2, 1},	/* as IPv4 */
			{"::ffff:10.1.2.3", 1, 0},
		};

		for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
			size_t len = ipaddr_parse(m[i].ip, ip);

			assert_true(len == 4 || len == 16);
			if (ipnet_list_contains(v, m[i].n, ip, len) != m[i].in)
				fail_msg("%s in the first %zu: want %d", m[i].ip,
				    m[i].n, m[i].in);
		}
	}
	assert_false(ipnet_list_contains(NULL, 0, ip, 4));
	free(v);

	/* a prefix that is not on a byte boundary */
	assert_int_equal(ipnet_list_parse("172.16.0.0/12", &v, why,
	    sizeof(why)), 1);
	assert_int_equal(ipaddr_parse("172.31.255.255", ip), 4);
	assert_true(ipnet_list_contains(v, 1, ip, 4));
	assert_int_equal(ipaddr_parse("172.32.0.0", ip), 4);
	assert_false(ipnet_list_contains(v, 1, ip, 4));
	free(v);
}

static void
test_prefix_text(void **state)
{
	static const struct {
		const char *in;
		unsigned bits;
		size_t len;
		const char *out;
	} rows[] = {
		{"192.0.2.7", 64, 4, "192.0.2.7"},
		{"::ffff:192.0.2.7", 48, 4, "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", 64, 16, "2001:db8:1:2::/64"},
		{"2001:db8:1:2:3:4:5:6", 48, 16, "2001:db8:1::/48"},
		{"2001:DB8:1:2::", 64, 16, "2001:db8:1:2::/64"},
		{"2001:db8:1:2:3:4:5:6", 128, 16, "2001:db8:1:2:3:4:5:6/128"},
		{"2001:db8:1:2:3:4:5:6", 500, 16, "2001:db8:1:2:3:4:5:6/128"},
		{"2001:db8:1:2:3:4:5:6", 0, 16, "::/0"},
		{"::1", 64, 16, "::/64"},
		{"2001:db8:8000::1", 33, 16, "2001:db8:8000::/33"},
		{"not an address", 64, 0, ""},
		{"", 64, 0, ""},
		{"[::1]", 64, 0, ""},
	};
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = ipaddr_prefix_text(rows[i].in, rows[i].bits, out,
		    sizeof(out));

		if (n != rows[i].len || strcmp(out, rows[i].out) != 0)
			fail_msg("%s/%u: %zu \"%s\", want %zu \"%s\"",
			    rows[i].in, rows[i].bits, n, out, rows[i].len,
			    rows[i].out);
	}
	assert_int_equal(ipaddr_prefix_text(NULL, 64, out, sizeof(out)), 0);
	assert_int_equal(ipaddr_prefix_text("::1", 64, out, 0), 0);
}

static void
test_list_hostile(void **state)
{
	static const struct {
		const char *in, *why;
	} rows[] = {
		{"localhost", "not an IP address: \"localhost\""},
		{"127.0.0.1, nginx", "not an IP address: \"nginx\""},
		{"127.0.0.1;::1", "not an IP address"},
		{"10.0.0.0/33", "not a prefix length: \"10.0.0.0/33\""},
		{"::/129", "not a prefix length"},
		{"10.0.0.0/", "not a prefix length"},
		{"10.0.0.0/08", "not a prefix length"},
		{"10.0.0.0/-1", "not a prefix length"},
		{"10.0.0.0/+8", "not a prefix length"},
		{"10.0.0.0/8/8", "not a prefix length"},
		{"10.0.0.0/99999999999999999999", "not a prefix length"},
		{"10.0.0.1/8", "address bits set past the prefix length: "
		    "\"10.0.0.1/8\""},
		{"fd00::1/8", "address bits set past the prefix length"},
		{"/8", "not an IP address"},
		{"127.0.0.1:8080", "not an IP address"},
		{"[::1]", "not an IP address"},
	};
	struct ipnet *v;
	char why[160];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		why[0] = '\0';
		if (ipnet_list_parse(rows[i].in, &v, why, sizeof(why)) != -1 ||
		    v != NULL || strstr(why, rows[i].why) == NULL)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", rows[i].in,
			    why, rows[i].why);
	}
	/* an entry too long for an address, and a list too long */
	{
		size_t n = 1025 * 10 + 1;
		char *s = malloc(n);

		assert_non_null(s);
		memset(s, 'a', 200);
		s[200] = '\0';
		assert_int_equal(ipnet_list_parse(s, &v, why, sizeof(why)), -1);
		assert_non_null(strstr(why, "not an IP address"));
		s[0] = '\0';
		for (int i = 0; i < 1025; i++)
			strcat(s, "10.0.0.1 ");
		assert_int_equal(ipnet_list_parse(s, &v, why, sizeof(why)), -1);
		assert_string_equal(why, "more than 1024 networks");
		assert_null(v);
		free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_prefix_text),
		cmocka_unit_test(test_list_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
