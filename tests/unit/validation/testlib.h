/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Peers for the validation tests, all on loopback and started by the tests
 * themselves: a real Knot DNS server (knotd, generated config and zones in
 * a temporary directory, port picked free, stopped by PID), a hostile
 * in-process DNS responder (UDP and TCP, a thread) and small DNS wire
 * helpers. The zone data every test relies on is documented here.
 */
#ifndef CERTDESK_TESTS_VALIDATION_TESTLIB_H
#define CERTDESK_TESTS_VALIDATION_TESTLIB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "validation/val.h"

/*
 * The dns-01 value published for "good" names (a real base64url SHA-256
 * shape, 43 characters), and another one published as the wrong answer.
 */
#define TL_TXT_GOOD "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define TL_TXT_WRONG "xxxXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define TL_CA_ID "certdesk.example"
#define TL_ACCOUNT "https://acme.test/acme/acct/1"

/*
 * Knot serves three zones:
 *   vtest.      unsigned; everything below unless said otherwise
 *   sec.vtest.   signed by knotd (ECDSA P-256); tl_knot.anchor holds its KSK
 *   bog.vtest.   unsigned, but the anchor file claims a key for it: bogus
 *
 * vtest.:
 *   web, web2, good A 127.0.0.1; v6 AAAA ::1; both AAAA ::1 + A 127.0.0.1;
 *   many A 127.0.0.1 + A 127.0.0.2; noaddr TXT only; priv A 10.1.2.3
 *   _acme-challenge.good      TXT TL_TXT_GOOD
 *   _acme-challenge.wrong     TXT TL_TXT_WRONG
 *   _acme-challenge.several   TXT "one", TL_TXT_GOOD, "three"
 *   _acme-challenge.split     TXT first half + second half of TL_TXT_GOOD
 *   _acme-challenge.cname     CNAME _acme-challenge.good
 *   _acme-challenge.chain     CNAME c1.chain -> c2.chain -> TXT TL_TXT_GOOD
 *   _acme-challenge.dangling  CNAME nowhere.vtest. (NXDOMAIN)
 *   _acme-challenge.nodata    A 127.0.0.1 (no TXT)
 *   caa.vtest. subtree, CAA records (see test_caa.c for the expectations):
 *     ours, other, none (issue ";"), wildonly, wildother, wildsemi, crit,
 *     noncrit, critalias (flag 1), iodefonly, acct, meth, both, case,
 *     multi, malformed, trailing (issue "x; a=b;"), empty (issue ""),
 *     cname -> ours, cnameother -> other, deep.sub.ours (climbs)
 * sec.vtest.:  www A 127.0.0.1, _acme-challenge.www TXT TL_TXT_GOOD,
 *             CAA 0 issue TL_CA_ID at the apex
 * bog.vtest.:  www A 127.0.0.1, _acme-challenge.www TXT TL_TXT_GOOD
 */
struct tl_knot {
	pid_t pid;
	uint16_t port;
	char dir[128];
	char resolver[32];	/* "127.0.0.1:PORT" for val_conf.resolver */
	char anchor[192];	/* anchor file for sec.vtest / bog.vtest */
};

/* Starts knotd; returns 0, or -1 when knotd is missing or did not come up
 * (the caller skips). */
int tl_knot_start(struct tl_knot *k);
void tl_knot_stop(struct tl_knot *k);

/* Starts knotd and opens a validation context (tl_conf) that asks it and
 * anchors sec.vtest and bog.vtest: 0 with *ctx set; 1 when knotd is
 * missing or did not come up (*ctx NULL: the caller skips); -1 when the
 * context did not open. tl_knot_ctx_close() takes both down. */
int tl_knot_ctx(struct tl_knot *k, struct val_ctx **ctx);
void tl_knot_ctx_close(struct tl_knot *k, struct val_ctx *ctx);

/*
 * The hostile responder. The behaviour is chosen by the first label of
 * the query name that is not "_acme-challenge":
 *   ok        A 127.0.0.1, TXT TL_TXT_GOOD, CAA NODATA
 *   caaok     CAA 0 issue TL_CA_ID
 *   servfail  SERVFAIL          refused   REFUSED
 *   silent    no answer         badid     answer with another ID
 *   garbage   random bytes      short     answer cut after the header
 *   mismatch  answer for another question
 *   hugetxt   over UDP TC=1; over TCP 250 TXT records of 200 bytes, none
 *             of them TL_TXT_GOOD
 *   badcaa    CAA RDATA with tag length 0
 *   anything else: NXDOMAIN
 */
struct tl_stub {
	pthread_t thread;
	int udp, tcp, stop[2];
	uint16_t port;
	char resolver[32];
	unsigned queries;	/* answered or ignored, for the tests */
};

int tl_stub_start(struct tl_stub *s);
void tl_stub_stop(struct tl_stub *s);

/* A conf for the tests: resolver, short timeouts, test identities,
 * private addresses allowed. */
void tl_conf(struct val_conf *c, const char *resolver);

/* Binds a TCP listener on 127.0.0.1 (or ::1 when v6) port 0; returns
 * the fd and the port. */
int tl_listen_tcp(int v6, uint16_t *port);

/* 1 when s (JSON text) parses and the value at the dotted path (object
 * keys only) is the string want; a tiny check for evidence. */
int tl_json_has(const char *json, const char *key, const char *want);

#endif
