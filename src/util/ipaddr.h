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

#endif
