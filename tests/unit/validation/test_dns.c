/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/validation/dns.c against a real Knot DNS server and a
 * hostile in-process responder (testlib.h): address lookups (AAAA before
 * A, special-purpose addresses dropped), DNSSEC status (insecure without an
 * anchor, secure and bogus with one), fresh answers after a zone change
 * (no caching), and every broken answer failing: SERVFAIL, REFUSED,
 * garbage, cut packets, wrong IDs, wrong questions, silence (bounded by
 * the timeout).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "validation/val_int.h"

#include <ldns/ldns.h>

static struct tl_knot knot;
static int have_knot;

static int
setup(void **state)
{
	(void)state;
	have_knot = tl_knot_start(&knot) == 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (have_knot)
		tl_knot_stop(&knot);
	return 0;
}

static struct val_ctx *
open_ctx(const char *resolver, const char *anchor, int allow_private)
{
	struct val_conf c;
	struct val_ctx *ctx = NULL;
	struct rc_detail d = {{0}};

	tl_conf(&c, resolver);
	c.trust_anchor = anchor;
	c.allow_private_addresses = allow_private;
	if (val_ctx_open(&c, &ctx, &d) != 0)
		fail_msg("val_ctx_open: %s", d.msg);
	return ctx;
}

/* Resolves host; returns the number of addresses (>= 0) or -1, with the
 * result in res (clear it). */
static int
resolve(struct val_ctx *ctx, const char *host, struct val_addr *a,
    struct val_result *res)
{
	struct val_run r;
	size_t n = 0;
	int rc;

	val_run_begin(&r, ctx, res, VAL_KIND_HTTP01, host);
	rc = val_resolve_host(&r, host, 0, a, &n);
	if (rc == 0)
		val_run_valid(&r, "resolved");
	val_run_end(&r, 0);
	return rc == 0 ? (int)n : -1;
}

static void
test_addresses(void **state)
{
	struct val_ctx *ctx;
	struct val_addr a[VAL_MAX_ADDRS];
	struct val_result res;

	(void)state;
	if (!have_knot)
		skip();
	ctx = open_ctx(knot.resolver, NULL, 1);
	assert_int_equal(resolve(ctx, "web.vtest", a, &res), 1);
	assert_string_equal(a[0].text, "127.0.0.1");
	assert_int_equal(a[0].family, AF_INET);
	assert_int_equal(res.dnssec, VAL_DNSSEC_INSECURE);
	/* the evidence has both lookups */
	assert_non_null(strstr(res.evidence, "\"qtype\":\"AAAA\""));
	assert_non_null(strstr(res.evidence, "\"qtype\":\"A\""));
	assert_non_null(strstr(res.evidence, "\"status\":\"NODATA\""));
	val_result_clear(&res);

	/* AAAA first, then A */
	assert_int_equal(resolve(ctx, "both.vtest", a, &res), 2);
	assert_string_equal(a[0].text, "::1");
	assert_int_equal(a[0].family, AF_INET6);
	assert_string_equal(a[1].text, "127.0.0.1");
	val_result_clear(&res);
	assert_int_equal(resolve(ctx, "many.vtest", a, &res), 2);
	val_result_clear(&res);
	assert_int_equal(resolve(ctx, "v6.vtest", a, &res), 1);
	assert_string_equal(a[0].text, "::1");
	val_result_clear(&res);

	/* no address: NODATA, NXDOMAIN */
	assert_int_equal(resolve(ctx, "noaddr.vtest", a, &res), -1);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	assert_non_null(strstr(res.detail, "No valid IP addresses found for "
	    "noaddr.vtest"));
	val_result_clear(&res);
	assert_int_equal(resolve(ctx, "missing.vtest", a, &res), -1);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	val_result_clear(&res);

	/* a zone knot does not serve: REFUSED, which unbound turns into
	 * SERVFAIL: never an answer */
	assert_int_equal(resolve(ctx, "www.example.org", a, &res), -1);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	assert_non_null(strstr(res.detail, "SERVFAIL"));
	val_result_clear(&res);
	val_ctx_free(ctx);
}

static void
test_special_addresses(void **state)
{
	struct val_ctx *ctx;
	struct val_addr a[VAL_MAX_ADDRS];
	struct val_result res;
	json_t *j;

	(void)state;
	if (!have_knot)
		skip();
	ctx = open_ctx(knot.resolver, NULL, 0);
	assert_int_equal(resolve(ctx, "web.vtest", a, &res), -1);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	assert_non_null(strstr(res.detail, "No public IP address"));
	j = json_loads(res.evidence, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    j, "addresses_refused"), 0)), "127.0.0.1");
	json_decref(j);
	val_result_clear(&res);
	assert_int_equal(resolve(ctx, "priv.vtest", a, &res), -1);
	assert_non_null(strstr(res.detail, "No public IP address"));
	val_result_clear(&res);
	assert_int_equal(resolve(ctx, "both.vtest", a, &res), -1);
	val_result_clear(&res);
	val_ctx_free(ctx);
}

static void
test_dnssec(void **state)
{
	struct val_ctx *ctx;
	struct val_addr a[VAL_MAX_ADDRS];
	struct val_result res;

	(void)state;
	if (!have_knot)
		skip();
	ctx = open_ctx(knot.resolver, knot.anchor, 1);
	assert_int_equal(val_ctx_has_trust_anchor(ctx), 1);
	assert_int_equal(resolve(ctx, "www.sec.vtest", a, &res), 1);
	assert_int_equal(res.dnssec, VAL_DNSSEC_SECURE);
	assert_non_null(strstr(res.evidence, "\"dnssec\":\"secure\""));
	val_result_clear(&res);
	/* outside the anchored zones: insecure */
	assert_int_equal(resolve(ctx, "web.vtest", a, &res), 1);
	assert_int_equal(res.dnssec, VAL_DNSSEC_INSECURE);
	val_result_clear(&res);
	/* anchored but unsigned: bogus, never an address */
	assert_int_equal(resolve(ctx, "www.bog.vtest", a, &res), -1);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	assert_int_equal(res.dnssec, VAL_DNSSEC_BOGUS);
	assert_non_null(strstr(res.detail, "bogus"));
	val_result_clear(&res);
	val_ctx_free(ctx);

	/* the same zone without the anchor: insecure, and it resolves */
	ctx = open_ctx(knot.resolver, NULL, 1);
	assert_int_equal(resolve(ctx, "www.bog.vtest", a, &res), 1);
	assert_int_equal(res.dnssec, VAL_DNSSEC_INSECURE);
	val_result_clear(&res);
	assert_int_equal(resolve(ctx, "www.sec.vtest", a, &res), 1);
	assert_int_equal(res.dnssec, VAL_DNSSEC_INSECURE);
	val_result_clear(&res);
	val_ctx_free(ctx);
}

static int
nsupdate(const char *script)
{
	char cmd[256];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "knsupdate >/dev/null 2>&1");
	p = popen(cmd, "w");
	if (p == NULL)
		return -1;
	fprintf(p, "server 127.0.0.1 %u\nzone vtest.\n%ssend\nquit\n",
	    knot.port, script);
	return pclose(p);
}

/* A validation sees the zone as it is now: a record added after a
 * NXDOMAIN, or changed after a first answer, is seen at once (the cache
 * keeps nothing: cache-max-ttl / cache-max-negative-ttl 0). */
static void
test_fresh_answers(void **state)
{
	struct val_ctx *ctx;
	struct val_result res;

	(void)state;
	if (!have_knot)
		skip();
	ctx = open_ctx(knot.resolver, NULL, 1);
	assert_int_equal(val_dns01(ctx, "fresh.vtest", TL_TXT_GOOD, &res), 0);
	assert_int_equal(res.problem, VAL_PROB_UNAUTHORIZED);
	val_result_clear(&res);
	if (nsupdate("update add _acme-challenge.fresh.vtest. 3600 TXT "
	    "\"" TL_TXT_WRONG "\"\n") != 0) {
		val_ctx_free(ctx);
		skip();	/* knsupdate missing or updates refused */
	}
	assert_int_equal(val_dns01(ctx, "fresh.vtest", TL_TXT_GOOD, &res), 0);
	assert_int_equal(res.problem, VAL_PROB_INCORRECT_RESPONSE);
	val_result_clear(&res);
	assert_int_equal(nsupdate("update delete _acme-challenge.fresh.vtest. "
	    "TXT\nupdate add _acme-challenge.fresh.vtest. 3600 TXT \""
	    TL_TXT_GOOD "\"\n"), 0);
	assert_int_equal(val_dns01(ctx, "fresh.vtest", TL_TXT_GOOD, &res), 0);
	assert_int_equal(res.outcome, VAL_VALID);
	val_result_clear(&res);
	val_ctx_free(ctx);
}

static void
test_parallel_lookups(void **state)
{
	struct val_ctx *ctx;
	struct val_dns_q q[4];
	static const char *const names[] = {"_acme-challenge.good.vtest",
		"_acme-challenge.nodata.vtest", "nothere.vtest",
		"_acme-challenge.several.vtest"};

	(void)state;
	if (!have_knot)
		skip();
	ctx = open_ctx(knot.resolver, NULL, 1);
	memset(q, 0, sizeof(q));
	for (int i = 0; i < 4; i++) {
		snprintf(q[i].qname, sizeof(q[i].qname), "%s", names[i]);
		q[i].qtype = 16;
	}
	assert_int_equal(val_dns_resolve(ctx, q, 4), 0);
	assert_int_equal(q[0].status, VAL_DNS_DATA);
	assert_int_equal(q[1].status, VAL_DNS_NODATA);
	assert_int_equal(q[2].status, VAL_DNS_NXDOMAIN);
	assert_int_equal(q[3].status, VAL_DNS_DATA);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(q[i].dnssec, VAL_DNSSEC_INSECURE);
		assert_false(val_dns_failed(&q[i]));
	}
	val_dns_q_release(q, 4);
	val_ctx_free(ctx);
}

/* ---- the hostile responder ----------------------------------------------- */

static void
test_stub_ok(void **state)
{
	struct tl_stub s;
	struct val_ctx *ctx;
	struct val_addr a[VAL_MAX_ADDRS];
	struct val_result res;

	(void)state;
	assert_int_equal(tl_stub_start(&s), 0);
	ctx = open_ctx(s.resolver, NULL, 1);
	assert_int_equal(resolve(ctx, "ok.stub.vtest", a, &res), 1);
	assert_string_equal(a[0].text, "127.0.0.1");
	val_result_clear(&res);
	/* "test." goes to the forwarder, not unbound's local NXDOMAIN */
	assert_int_equal(resolve(ctx, "ok.test", a, &res), 1);
	val_result_clear(&res);
	assert_int_equal(resolve(ctx, "servfail.stub.vtest", a, &res), -1);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	assert_non_null(strstr(res.detail, "DNS SERVFAIL for "));
	assert_non_null(strstr(res.detail, "servfail.stub.vtest"));
	val_result_clear(&res);
	val_ctx_free(ctx);
	tl_stub_stop(&s);
}

/* Every broken answer fails, within the timeout; none is an answer. */
static void
test_stub_hostile(void **state)
{
	static const char *const names[] = {"servfail", "refused", "garbage",
		"short", "badid", "mismatch", "silent"};
	enum { N = sizeof(names) / sizeof(names[0]) };
	struct tl_stub s;
	struct val_ctx *ctx;
	struct val_dns_q q[2 * N];
	int64_t t0, dt;

	(void)state;
	assert_int_equal(tl_stub_start(&s), 0);
	ctx = open_ctx(s.resolver, NULL, 1);
	memset(q, 0, sizeof(q));
	for (size_t i = 0; i < N; i++) {
		snprintf(q[i].qname, sizeof(q[i].qname), "%s.stub.vtest",
		    names[i]);
		q[i].qtype = 1;
		snprintf(q[N + i].qname, sizeof(q[N + i].qname),
		    "_acme-challenge.%s.stub.vtest", names[i]);
		q[N + i].qtype = 16;
	}
	t0 = val_now_ms();
	assert_int_equal(val_dns_resolve(ctx, q, 2 * N), 0);
	dt = val_now_ms() - t0;
	assert_true(dt < 1500 + 1000);	/* dns_timeout_ms + slack */
	for (size_t i = 0; i < 2 * N; i++) {
		if (!val_dns_failed(&q[i]))
			fail_msg("%s: status %s", q[i].qname,
			    val_dns_status_str(q[i].status));
		assert_null(q[i].res != NULL && q[i].res->havedata ?
		    q[i].res : NULL);
	}
	assert_int_equal(q[N - 1].status, VAL_DNS_TIMEOUT);	/* silent */
	assert_int_equal(q[0].status, VAL_DNS_SERVFAIL);
	assert_true(s.queries > 0);
	val_dns_q_release(q, 2 * N);
	val_ctx_free(ctx);
	tl_stub_stop(&s);
}

/* A resolver that is not there at all. */
static void
test_no_resolver(void **state)
{
	struct val_ctx *ctx;
	struct val_addr a[VAL_MAX_ADDRS];
	struct val_result res;
	uint16_t port;
	int fd = tl_listen_tcp(0, &port);	/* nobody answers on UDP */
	int64_t t0;

	(void)state;
	assert_true(fd >= 0);
	{
		char r[32];

		snprintf(r, sizeof(r), "127.0.0.1:%u", port);
		ctx = open_ctx(r, NULL, 1);
	}
	t0 = val_now_ms();
	assert_int_equal(resolve(ctx, "web.vtest", a, &res), -1);
	assert_true(val_now_ms() - t0 < 2500);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	assert_int_equal(res.outcome, VAL_INVALID);
	val_result_clear(&res);
	val_ctx_free(ctx);
	close(fd);
}

/* A reply to (qname, qtype) with rcode and the answer RRs given in
 * presentation form, in wire form (free()). */
static uint8_t *
reply(const char *qname, int qtype, int rcode, const char *const *rrs,
    size_t *len)
{
	ldns_pkt *p = NULL;
	uint8_t *w = NULL;

	assert_int_equal(ldns_pkt_query_new_frm_str(&p, qname,
	    (ldns_rr_type)qtype, LDNS_RR_CLASS_IN, LDNS_RD), LDNS_STATUS_OK);
	ldns_pkt_set_qr(p, 1);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	for (size_t i = 0; rrs != NULL && rrs[i] != NULL; i++) {
		ldns_rr *rr = NULL;

		assert_int_equal(ldns_rr_new_frm_str(&rr, rrs[i], 300, NULL,
		    NULL), LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	assert_int_equal(ldns_pkt2wire(&w, p, len), LDNS_STATUS_OK);
	ldns_pkt_free(p);
	return w;
}

/*
 * dns_event.c turns unbound's answer message into the struct ub_result
 * its threads used to give: the RRset at the end of the CNAME chain (case
 * folded), nothing for records of another type or owner, NXDOMAIN, a CNAME
 * loop, unbound's own SERVFAIL without a message, a message that does not
 * parse, and the DNSSEC verdicts.
 */
static void
test_result_from_msg(void **state)
{
	static const char *const chain[] = {
		"www.example.com. 300 IN CNAME Web.Example.NET.",
		"web.example.net. 300 IN CNAME cdn.example.org.",
		"cdn.example.org. 60 IN A 192.0.2.7",
		"cdn.example.org. 90 IN A 192.0.2.8",
		"cdn.example.org. 90 IN AAAA 2001:db8::1",
		"other.example.org. 90 IN A 192.0.2.9", NULL};
	static const char *const loop[] = {
		"a.example. 300 IN CNAME b.example.",
		"b.example. 300 IN CNAME a.example.", NULL};
	static const uint8_t a7[] = {192, 0, 2, 7}, a8[] = {192, 0, 2, 8};
	struct ub_result *r;
	uint8_t *w;
	size_t len;

	(void)state;
	w = reply("www.example.com.", 1, 0, chain, &len);
	r = val_dns_result_from_msg("www.example.com", 1, 0, w, len, 2, NULL);
	assert_int_equal(r->rcode, 0);
	assert_true(r->havedata);
	assert_false(r->nxdomain);
	assert_true(r->secure);
	assert_false(r->bogus);
	assert_string_equal(r->canonname, "cdn.example.org.");
	assert_int_equal(r->len[0], 4);
	assert_memory_equal(r->data[0], a7, 4);
	assert_int_equal(r->len[1], 4);
	assert_memory_equal(r->data[1], a8, 4);
	assert_null(r->data[2]);
	assert_int_equal(r->ttl, 60);
	assert_int_equal(r->answer_len, (int)len);
	ub_resolve_free(r);
	/* TXT asked: the chain ends without one (NODATA) */
	r = val_dns_result_from_msg("www.example.com", 16, 0, w, len, 0, NULL);
	assert_false(r->havedata);
	assert_null(r->data[0]);
	assert_false(r->secure);
	ub_resolve_free(r);
	free(w);

	w = reply("a.example.", 1, 0, loop, &len);
	r = val_dns_result_from_msg("a.example", 1, 0, w, len, 1, "loop");
	assert_false(r->havedata);
	assert_true(r->bogus);
	assert_string_equal(r->why_bogus, "loop");
	ub_resolve_free(r);
	/* cut short: not a message */
	r = val_dns_result_from_msg("a.example", 1, 0, w, len / 2, 0, NULL);
	assert_int_equal(r->rcode, 2);
	assert_false(r->havedata);
	assert_null(r->answer_packet);
	ub_resolve_free(r);
	free(w);

	w = reply("gone.example.", 28, 3, NULL, &len);
	r = val_dns_result_from_msg("gone.example", 28, 0, w, len, 0, NULL);
	assert_int_equal(r->rcode, 3);
	assert_true(r->nxdomain);
	assert_false(r->havedata);
	ub_resolve_free(r);
	free(w);

	r = val_dns_result_from_msg("x.example", 257, 2, NULL, 0, 0, NULL);
	assert_int_equal(r->rcode, 2);
	assert_false(r->havedata);
	assert_null(r->data[0]);
	ub_resolve_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_special_addresses),
		cmocka_unit_test(test_dnssec),
		cmocka_unit_test(test_fresh_answers),
		cmocka_unit_test(test_parallel_lookups),
		cmocka_unit_test(test_stub_ok),
		cmocka_unit_test(test_stub_hostile),
		cmocka_unit_test(test_no_resolver),
		cmocka_unit_test(test_result_from_msg),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
