/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/http/http.c that need no server: the key a connection
 * counts under for the per-address connection limit. An IPv6 client holds
 * its whole /64 and may connect from any of its addresses, so they all
 * must count as one; IPv4 clients count by their address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/http_int.h"
#include "util/ipaddr.h"

/* The key of the address text a, as ipaddr_parse() reads it. */
static size_t
key_of(const char *a, uint8_t key[16])
{
	uint8_t ip[16];
	size_t len = ipaddr_parse(a, ip);

	assert_true(len != 0);
	memset(key, 0xee, 16);
	return http_conn_key(ip, len, key);
}

static int
same_key(const char *a, const char *b)
{
	uint8_t ka[16], kb[16];
	size_t la = key_of(a, ka), lb = key_of(b, kb);

	return la == lb && memcmp(ka, kb, la) == 0;
}

static void
test_ipv6_by_64(void **state)
{
	uint8_t key[16];

	(void)state;
	assert_int_equal(key_of("2001:db8:1:2::1", key), 8);
	assert_memory_equal(key, "\x20\x01\x0d\xb8\x00\x01\x00\x02", 8);
	/* any address of the /64 is the same client */
	assert_true(same_key("2001:db8:1:2::1", "2001:db8:1:2::2"));
	assert_true(same_key("2001:db8:1:2::1",
	    "2001:db8:1:2:ffff:ffff:ffff:ffff"));
	assert_true(same_key("::1", "::2"));
	/* the next /64 is another */
	assert_false(same_key("2001:db8:1:2::1", "2001:db8:1:3::1"));
	assert_false(same_key("2001:db8:1:2::1", "2001:db9:1:2::1"));
}

static void
test_ipv4_by_address(void **state)
{
	uint8_t key[16];

	(void)state;
	assert_int_equal(key_of("192.0.2.7", key), 4);
	assert_memory_equal(key, "\xc0\x00\x02\x07", 4);
	assert_false(same_key("192.0.2.7", "192.0.2.8"));
	/* an IPv4-mapped client (a dual-stack listener) is its IPv4
	 * address, not the /64 ::ffff:0:0/96 lies in */
	assert_true(same_key("::ffff:192.0.2.7", "192.0.2.7"));
	assert_false(same_key("::ffff:192.0.2.7", "::ffff:192.0.2.8"));
	/* an IPv4 key is never an IPv6 one, whatever its bytes */
	assert_false(same_key("32.1.13.184", "2001:db8::1"));
}

static void
test_bad_length(void **state)
{
	uint8_t ip[16] = {0}, key[16];

	(void)state;
	assert_int_equal(http_conn_key(ip, 0, key), 0);
	assert_int_equal(http_conn_key(ip, 8, key), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv6_by_64),
		cmocka_unit_test(test_ipv4_by_address),
		cmocka_unit_test(test_bad_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
