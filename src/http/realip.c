/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client address of a request that came through trusted reverse
 * proxies (http_realip in http.h): nginx's realip module with
 * real_ip_recursive on. Every proxy appends the address it was connected
 * from to X-Forwarded-For, so the header's right end was written by the
 * proxies we trust and its left end by whoever sent the request; walking
 * from the right, the first address that is not a trusted proxy's is the
 * client. Anything to the left of it could have been written by that
 * client and is not believed.
 *
 * An entry on that walk that is not an address ("unknown", an address
 * with a port, a proxy's obfuscated name) leaves the client unknown: "?".
 * It used to stand for the last address believed, the trusted proxy's
 * own, and then every client behind that proxy shared one address (one
 * login throttle count, one new-account limit). A request from a proxy
 * with no X-Forwarded-For at all is the proxy's own (a health check, an
 * operator's tool on the proxy's host) and has the proxy's address.
 */
#include "http/http.h"
#include "util/ipaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* The entry s[0..len) (blanks around it allowed; an IPv6 address may be
 * in brackets) as an address in ip: 4 or 16, or 0 when it is none. */
static size_t
entry_parse(const char *s, size_t len, uint8_t ip[16])
{
	char t[INET6_ADDRSTRLEN + 2];

	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']' &&
	    memchr(s, ':', len) != NULL)
		s++, len -= 2;
	if (len == 0 || len >= sizeof(t))
		return 0;
	memcpy(t, s, len);
	t[len] = '\0';
	return ipaddr_parse(t, ip);
}

static void
put_ip(const uint8_t *ip, size_t iplen, char *out, size_t len)
{
	if (inet_ntop(iplen == 4 ? AF_INET : AF_INET6, ip, out,
	    (socklen_t)len) == NULL)
		snprintf(out, len, "?");
}

int
http_realip(const struct ipnet *proxies, size_t nproxies, const char *peer,
    const char *const *xff, size_t nxff, char *out, size_t len)
{
	uint8_t ip[16];
	size_t iplen;

	if (len == 0)
		return 0;
	snprintf(out, len, "%s", peer != NULL ? peer : "?");
	iplen = ipaddr_parse(peer, ip);
	if (iplen == 0 || !ipnet_list_contains(proxies, nproxies, ip, iplen))
		return 0;
	/* the peer is a trusted proxy: believe what it appended */
	for (size_t h = nxff; h-- > 0;) {
		const char *v = xff[h] != NULL ? xff[h] : "";
		size_t end = strlen(v);

		for (;;) {
			size_t start = end;

			while (start > 0 && v[start - 1] != ',')
				start--;
			iplen = entry_parse(v + start, end - start, ip);
			if (iplen == 0) {
				/* not an address: the client is unknown */
				snprintf(out, len, "?");
				return 1;
			}
			put_ip(ip, iplen, out, len);
			if (!ipnet_list_contains(proxies, nproxies, ip, iplen))
				return 0;
			if (start == 0)
				break;
			end = start - 1;
		}
	}
	return 0;
}
