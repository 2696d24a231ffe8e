/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IANA special-purpose address registries (ipaddr.h): one list for
 * the CA (no reserved address in a publicly-trusted certificate) and for
 * validation (never connect to a name that resolves into them).
 */
#include "util/ipaddr.h"

#include <string.h>

/* One prefix of the special-purpose registries: len octets of addr, then
 * bits more of the next octet. */
struct ip_prefix {
	uint8_t addr[16];
	unsigned bits;
};

static int
in_prefix(const uint8_t *ip, const struct ip_prefix *p)
{
	unsigned full = p->bits / 8, rest = p->bits % 8;

	if (memcmp(ip, p->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((ip[full] ^ p->addr[full]) & (uint8_t)(0xff << (8 - rest)))
	    == 0;
}

int
ipaddr_reserved(const uint8_t *ip, size_t len)
{
	/* IANA IPv4 Special-Purpose Address Registry, plus multicast and
	 * the old class E */
	static const struct ip_prefix v4[] = {
		{{0}, 8}, {{10}, 8}, {{100, 64}, 10}, {{127}, 8},
		{{169, 254}, 16}, {{172, 16}, 12}, {{192, 0, 0}, 24},
		{{192, 0, 2}, 24}, {{192, 31, 196}, 24}, {{192, 52, 193}, 24},
		{{192, 88, 99}, 24}, {{192, 168}, 16}, {{192, 175, 48}, 24},
		{{198, 18}, 15}, {{198, 51, 100}, 24}, {{203, 0, 113}, 24},
		{{224}, 3},	/* 224/4 multicast, 240/4 reserved */
	};
	/* IANA IPv6 Special-Purpose Address Registry */
	static const struct ip_prefix v6[] = {
		{{0}, 128},				/* :: */
		{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128},
		{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96},
		{{0, 0x64, 0xff, 0x9b}, 96},
		{{0, 0x64, 0xff, 0x9b, 0, 1}, 48},
		{{1, 0}, 64},
		{{0x20, 0x01}, 23},
		{{0x20, 0x01, 0x0d, 0xb8}, 32},
		{{0x20, 0x02}, 16},
		{{0x26, 0x20, 0, 0x4f, 0x80, 0}, 48},	/* AS112 */
		{{0x3f, 0xff}, 20},
		{{0x5f, 0x00}, 16},
		{{0xfc}, 7}, {{0xfe, 0x80}, 10}, {{0xff}, 8},
	};
	static const struct ip_prefix global = {{0x20}, 3};

	if (ip == NULL)
		return -1;
	if (len == 4) {
		for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++)
			if (in_prefix(ip, &v4[i]))
				return 1;
		return 0;
	}
	if (len != 16)
		return -1;
	/* only 2000::/3 is allocated as global unicast */
	if (!in_prefix(ip, &global))
		return 1;
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++)
		if (in_prefix(ip, &v6[i]))
			return 1;
	return 0;
}
