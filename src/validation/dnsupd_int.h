/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the DNS provider (dnsupd.c: configuration, messages, RFC 2136
 * updates; dnsupd_check.c: propagation checks and the hosted-zone lookup).
 * Nothing outside src/validation and its tests includes this file.
 */
#ifndef CERTDESK_VALIDATION_DNSUPD_INT_H
#define CERTDESK_VALIDATION_DNSUPD_INT_H

#include "validation/val_int.h"
#include "util/sec.h"

#include <ldns/ldns.h>
#include <sys/socket.h>

struct val_dnsupd_server {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[96];		/* "127.0.0.1:53", "[::1]:53" */
};

/* Read-only after val_dnsupd_open(): shared by every thread. */
struct val_dnsupd {
	struct val_dnsupd_server primary;
	struct val_dnsupd_server check[VAL_DNSUPD_MAX_SERVERS];
	size_t ncheck;
	char *nameservers[VAL_DNSUPD_MAX_SERVERS];	/* lower case, no dot */
	size_t nns;
	char *tsig_name;	/* "name." or NULL: unsigned updates */
	char *tsig_alg;		/* "hmac-sha256." */
	struct sec *secret;	/* base64 text, NUL-terminated, wiped */
	unsigned ttl, timeout_ms, propagation_s;
};

/*
 * Checks a zone, owner or TSIG key name with util/dnsname's DNSNAME_ZONE
 * rules (letters, digits, '-' and '_' for owner names such as
 * _acme-challenge, labels of 1..63 bytes not starting or ending with '-',
 * a single label allowed, at most VAL_MAX_NAME bytes, not an IP address);
 * writes it lower-cased, without the trailing dot, into out
 * (VAL_MAX_NAME + 1 = DNSNAME_BUF bytes). The root alone is refused. 0 or
 * -1.
 */
int val_dnsupd_name(const char *in, char *out);

/* A TXT value we are willing to publish: 1..255 printable ASCII bytes
 * without quote or backslash (the dns-01 values are base64url). 0 or -1. */
int val_dnsupd_value_ok(const char *v);

/*
 * Gives q a random ID, signs it with u's TSIG key when sign is set and u
 * has one, and returns its wire form in a new *qb (ldns_buffer_free()).
 * 0, or RC_CRYPTO / RC_ERR with d.
 */
int val_dnsupd_wire(const struct val_dnsupd *u, ldns_pkt *q, int sign,
    ldns_buffer **qb, struct rc_detail *d);

/*
 * Sends qb (the wire form of q) to s over TCP (tcp set) or UDP within
 * u's timeout, parses the reply into a new *reply (ldns_pkt_free()) and
 * keeps its wire form in *wire (free(); for TSIG verification). Checks
 * that it is a reply (QR) with our ID, our opcode and our question (which
 * only an error reply may omit). 0, or RC_DNS with d (no answer,
 * malformed, not ours).
 */
int val_dnsupd_exchange(const struct val_dnsupd *u,
    const struct val_dnsupd_server *s, int tcp, ldns_buffer *qb,
    const ldns_pkt *q, ldns_pkt **reply, uint8_t **wire, size_t *wlen,
    struct rc_detail *d);

/*
 * The reply checks of val_dnsupd_exchange() on wlen untrusted bytes
 * (borrowed) from the server named peer (for d): parses them into a new
 * *reply (ldns_pkt_free()) and checks QR, q's ID, opcode and question.
 * 0, or RC_DNS with d (malformed, not ours) and *reply NULL.
 */
int val_dnsupd_reply(const ldns_pkt *q, const uint8_t *wire, size_t wlen,
    const char *peer, ldns_pkt **reply, struct rc_detail *d);

/*
 * The outcome of the update q sent to u's primary, from r (its reply
 * checked by val_dnsupd_reply(), parsed from wire[0..wlen)): 0 for
 * NOERROR with, when u has a key, a TSIG that verifies against q's MAC;
 * RC_DNS with d (rcode, TSIG error) otherwise. owner and zone only name
 * the record in d. r (borrowed) is left as it was, TSIG and ID included,
 * whatever ldns_pkt_tsig_verify() does with it.
 */
int val_dnsupd_update_result(const struct val_dnsupd *u, const ldns_pkt *q,
    ldns_pkt *r, const uint8_t *wire, size_t wlen, const char *owner,
    const char *zone, struct rc_detail *d);

/*
 * 1 when r (a reply to the TXT query q, checked by val_dnsupd_reply()) is
 * an authoritative NOERROR whose answer has a TXT of q's name whose
 * strings, concatenated, are value; 0 otherwise.
 */
int val_dnsupd_txt_found(const ldns_pkt *q, const ldns_pkt *r,
    const char *value);

/*
 * NS RDATA (an uncompressed wire name of len untrusted bytes, as
 * libunbound gives it) as lower-case text without the trailing dot into
 * out (VAL_MAX_NAME + 1 bytes); 0, or -1 for anything that cannot be one
 * of our nameservers' names.
 */
int val_dnsupd_ns_target(const uint8_t *p, size_t len, char *out);

#endif
