/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reserved IP addresses: every block of the IANA IPv4 and IPv6
 * Special-Purpose Address Registries, IPv4 multicast and 240/4, and IPv6
 * outside 2000::/3 (the only global unicast allocation) -- the Baseline
 * Requirements' "Reserved IP Address" and Boulder's "not globally
 * reachable". See ca_ip_reserved() in src/ca/ca.h for the list.
 */
#ifndef CERTDESK_UTIL_IPADDR_H
#define CERTDESK_UTIL_IPADDR_H

#include <stddef.h>
#include <stdint.h>

/* ip is 4 (IPv4) or 16 (IPv6) bytes in network order: 1 reserved, 0 not,
 * -1 for NULL or another length. */
int ipaddr_reserved(const uint8_t *ip, size_t len);

/*
 * An address as text: IPv4 dotted quad or IPv6 (inet_pton's forms, so no
 * leading zeros in IPv4 octets, no zone), an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) taken as its IPv4 address. Fills ip (16 bytes of room)
 * and returns 4 or 16, or 0 when s is not an address.
 */
size_t ipaddr_parse(const char *s, uint8_t ip[16]);
/* An IPv6 address in ip (16 bytes): 4 with the IPv4 address moved to the
 * front when it is IPv4-mapped (::ffff:a.b.c.d), else 16. */
size_t ipaddr_unmap(uint8_t ip[16]);

/*
 * The address s as a throttling key into out: an IPv4 address (or an
 * IPv4-mapped IPv6 one) as its dotted quad, an IPv6 address as its first
 * v6bits bits, "2001:db8:1::/48" (one site or host holds the whole prefix,
 * so a per-address count must not be escaped by taking another address of
 * it). Returns 4 or 16, or 0 (out "") when s is not an address.
 */
size_t ipaddr_prefix_text(const char *s, unsigned v6bits, char *out,
    size_t len);

/* A network: an address and a prefix length (all of it for an address). */
struct ipnet {
	uint8_t addr[16];
	uint8_t len;		/* 4 or 16 */
	uint8_t bits;		/* 0..32 or 0..128 */
};

/*
 * A list of networks separated by commas and/or blanks: "127.0.0.1,
 * 10.0.0.0/8 fd00::/8". Each is an address (ipaddr_parse) or
 * ADDRESS/BITS with no bits set past BITS. Returns the count (0 for an
 * empty or blank list) with a new array in *out (free()), or -1 with the
 * reason and the offending entry in why.
 */
int ipnet_list_parse(const char *s, struct ipnet **out, char *why,
    size_t whylen);

/* 1 when ip (4 or 16 bytes) is in one of nets[0..n), 0 otherwise. */
int ipnet_list_contains(const struct ipnet *nets, size_t n, const uint8_t *ip,
    size_t len);

#endif
