/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The IANA special-purpose address registries (ipaddr.h): one list for
 * the CA (no reserved address in a publicly-trusted certificate) and for
 * validation (never connect to a name that resolves into them).
 */
#include "util/ipaddr.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
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

size_t
ipaddr_unmap(uint8_t ip[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff};

	if (memcmp(ip, mapped, sizeof(mapped)) != 0)
		return 16;
	memmove(ip, ip + 12, 4);
	return 4;
}

size_t
ipaddr_parse(const char *s, uint8_t ip[16])
{
	if (s == NULL || strlen(s) >= INET6_ADDRSTRLEN)
		return 0;
	if (inet_pton(AF_INET, s, ip) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, ip) != 1)
		return 0;
	return ipaddr_unmap(ip);
}

size_t
ipaddr_prefix_text(const char *s, unsigned v6bits, char *out, size_t len)
{
	uint8_t ip[16];
	char net[INET6_ADDRSTRLEN];
	size_t n = ipaddr_parse(s, ip);

	if (len == 0)
		return 0;
	out[0] = '\0';
	if (n == 4) {
		inet_ntop(AF_INET, ip, out, (socklen_t)len);
		return 4;
	}
	if (n != 16)
		return 0;
	if (v6bits > 128)
		v6bits = 128;
	for (unsigned i = v6bits; i < 128; i++)
		ip[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	inet_ntop(AF_INET6, ip, net, sizeof(net));
	snprintf(out, len, "%s/%u", net, v6bits);
	return 16;
}

/* One entry of a list, NUL-terminated in e. */
static int
ipnet_parse(char *e, struct ipnet *n, char *why, size_t whylen)
{
	char *slash = strchr(e, '/'), *end;
	unsigned long bits;

	memset(n, 0, sizeof(*n));
	if (slash != NULL)
		*slash = '\0';
	n->len = (uint8_t)ipaddr_parse(e, n->addr);
	if (n->len == 0) {
		snprintf(why, whylen, "not an IP address: \"%s\"", e);
		return -1;
	}
	if (slash == NULL) {
		n->bits = (uint8_t)(n->len * 8);
		return 0;
	}
	*slash = '/';
	if (slash[1] < '0' || slash[1] > '9' || (slash[1] == '0' &&
	    slash[2] != '\0') || (bits = strtoul(slash + 1, &end, 10),
	    *end != '\0') || bits > (unsigned long)n->len * 8) {
		snprintf(why, whylen, "not a prefix length: \"%s\"", e);
		return -1;
	}
	n->bits = (uint8_t)bits;
	for (unsigned i = n->bits; i < (unsigned)n->len * 8; i++)
		if (n->addr[i / 8] & (0x80 >> (i % 8))) {
			snprintf(why, whylen, "address bits set past the "
			    "prefix length: \"%s\"", e);
			return -1;
		}
	return 0;
}

int
ipnet_list_parse(const char *s, struct ipnet **out, char *why,
    size_t whylen)
{
	static const char sep[] = ", \t";
	struct ipnet *v = NULL;
	size_t n = 0;

	*out = NULL;
	if (s == NULL)
		return 0;
	while (*s != '\0') {
		size_t l;
		char e[INET6_ADDRSTRLEN + 8];

		s += strspn(s, sep);
		if ((l = strcspn(s, sep)) == 0)
			break;
		if (l >= sizeof(e)) {
			snprintf(why, whylen, "not an IP address: \"%.*s...\"",
			    32, s);
			free(v);
			return -1;
		}
		memcpy(e, s, l);
		e[l] = '\0';
		s += l;
		if (n >= 1024) {
			snprintf(why, whylen, "more than 1024 networks");
			free(v);
			return -1;
		}
		v = xrealloc(v, (n + 1) * sizeof(*v));
		if (ipnet_parse(e, &v[n], why, whylen) != 0) {
			free(v);
			return -1;
		}
		n++;
	}
	*out = v;
	return (int)n;
}

int
ipnet_list_contains(const struct ipnet *nets, size_t n, const uint8_t *ip,
    size_t len)
{
	for (size_t i = 0; i < n; i++) {
		struct ip_prefix p;

		if (nets[i].len != len)
			continue;
		memcpy(p.addr, nets[i].addr, sizeof(p.addr));
		p.bits = nets[i].bits;
		if (in_prefix(ip, &p))
			return 1;
	}
	return 0;
}
