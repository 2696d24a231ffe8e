/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/store/store_sqlite_dv.c: validation rows and their job
 * claims (due, forced, leased), attempts, confirmation tokens (a new one
 * replaces the pending one, single confirmation), temporary DNS records
 * (due, claim, failure, removal), reuse across a contract's orders, the
 * contract's domain that holds a name (suffixes that only look alike, SQL
 * LIKE characters), and bad arguments (RC_INVAL before any SQL), also
 * those of the other area files (OCSP, organisation cases, outbox) that
 * share store_sqlite.c's checks and statement helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store/store.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#define T0 1800000000

struct env {
	char dir[64];
	char *db;
	struct store *st;
	int64_t contract, contract2, order, authz;
};

static int64_t
add_order(struct store *st, int64_t contract)
{
	struct store_order o = {0};
	int64_t id = 0;

	o.contract_id = contract;
	o.profile = "dv";
	o.status = "pending";
	o.names = "a.example";
	o.expires_at = T0 + 7 * 86400;
	assert_int_equal(store_order_add(st, &o, &id), 0);
	return id;
}

static int64_t
add_authz(struct store *st, int64_t order, const char *name, const char *status,
    const char *method, time_t validated_at, time_t expires_at)
{
	struct store_authz a = {0};
	int64_t id = 0;

	a.order_id = order;
	a.ident_type = "dns";
	a.identifier = (char *)name;
	a.status = (char *)status;
	a.method = (char *)method;
	a.validated_at = validated_at;
	a.expires_at = expires_at;
	assert_int_equal(store_authz_add(st, &a, &id), 0);
	return id;
}

static int
setup(void **state)
{
	struct env *e = xcalloc(1, sizeof(*e));
	struct store_conf sc = {"sqlite", NULL, 0};
	int64_t cust = 0;

	log_set_level(LOG_LVL_ERR);
	snprintf(e->dir, sizeof(e->dir), "/tmp/certdesk-test-dv-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	e->db = xasprintf("%s/dv.db", e->dir);
	sc.path = e->db;
	assert_int_equal(store_open(&sc, &e->st), 0);
	assert_int_equal(store_customer_add(e->st, "C", &cust), 0);
	assert_int_equal(store_contract_add(e->st, cust, "K-1", &e->contract),
	    0);
	assert_int_equal(store_contract_add(e->st, cust, "K-2",
	    &e->contract2), 0);
	e->order = add_order(e->st, e->contract);
	e->authz = add_authz(e->st, e->order, "a.example", "pending", NULL, 0,
	    T0 + 7 * 86400);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;
	char *p;

	store_close(e->st);
	unlink(e->db);
	p = xasprintf("%s-wal", e->db);
	unlink(p);
	free(p);
	p = xasprintf("%s-shm", e->db);
	unlink(p);
	free(p);
	rmdir(e->dir);
	free(e->db);
	free(e);
	return 0;
}

static void
test_rows_and_jobs(void **state)
{
	struct env *e = *state;
	struct store_dv v = {0}, g = {0};
	int64_t ids[4];
	size_t n = 0;

	v.authz_id = e->authz;
	v.order_id = e->order;
	v.method = "dns";
	v.value = "VALUE";
	v.http_file = "FILE";
	v.next_check_at = T0 + 30;
	v.created_at = T0;
	assert_int_equal(store_dv_add(e->st, &v), 0);
	assert_int_equal(store_dv_add(e->st, &v), RC_EXISTS);
	/* bad arguments */
	v.method = "telepathy";
	assert_int_equal(store_dv_add(e->st, &v), RC_INVAL);
	v.method = "dns";
	v.stage = "nowhere";
	assert_int_equal(store_dv_update(e->st, &v, T0), RC_INVAL);
	v.stage = NULL;
	v.message = "line\nbreak";
	assert_int_equal(store_dv_update(e->st, &v, T0), RC_INVAL);
	v.message = NULL;
	v.authz_id = 999;
	assert_int_equal(store_dv_add(e->st, &v), RC_NOTFOUND);
	v.authz_id = e->authz;
	assert_int_equal(store_dv_get(e->st, 12345, &g), RC_NOTFOUND);
	assert_int_equal(store_dv_get(e->st, e->authz, &g), 0);
	assert_string_equal(g.method, "dns");
	assert_string_equal(g.stage, "idle");
	assert_null(g.problem);
	assert_int_equal(g.next_check_at, T0 + 30);
	store_dv_clear(&g);
	/* not due yet; forced it is */
	assert_int_equal(store_dv_jobs(e->st, T0, ids, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_dv_claim(e->st, e->authz, T0, T0 + 120, 0),
	    RC_STATE);
	assert_int_equal(store_dv_jobs(e->st, T0 + 30, ids, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_dv_claim(e->st, e->authz, T0 + 30, T0 + 150,
	    0), 0);
	/* leased: nobody else, not even forced, until the lease ran out */
	assert_int_equal(store_dv_claim(e->st, e->authz, T0 + 31, T0 + 151,
	    1), RC_STATE);
	assert_int_equal(store_dv_jobs(e->st, T0 + 31, ids, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_dv_claim(e->st, e->authz, T0 + 151, T0 + 271,
	    0), 0);
	/* an update frees the lease */
	v.problem = "wrong_value";
	v.message = "Change it.";
	v.next_check_at = 0;
	assert_int_equal(store_dv_update(e->st, &v, T0 + 160), 0);
	assert_int_equal(store_dv_get(e->st, e->authz, &g), 0);
	assert_int_equal(g.lease_until, 0);
	assert_string_equal(g.problem, "wrong_value");
	store_dv_clear(&g);
	assert_int_equal(store_dv_claim(e->st, e->authz, T0 + 160, T0 + 280,
	    0), RC_STATE);	/* no job */
	assert_int_equal(store_dv_claim(e->st, e->authz, T0 + 160, T0 + 280,
	    1), 0);
}

static void
test_attempts_and_tokens(void **state)
{
	struct env *e = *state;
	struct store_dv_attempt a = {0};
	struct store_dv_token t = {0}, g = {0};
	int64_t id1 = 0, id2 = 0, count = 0;

	a.authz_id = e->authz;
	a.order_id = e->order;
	a.method = "caa";
	a.br_version = "2.2.2";
	a.br_section = "3.2.2.8";
	a.started_at = a.finished_at = T0;
	a.evidence = "{\"kind\":\"caa\"}";
	assert_int_equal(store_dv_attempt_add(e->st, &a, &id1), 0);
	assert_true(id1 > 0);
	a.method = "guess";
	assert_int_equal(store_dv_attempt_add(e->st, &a, NULL), RC_INVAL);
	a.method = "dns";
	a.br_version = NULL;
	assert_int_equal(store_dv_attempt_add(e->st, &a, NULL), RC_INVAL);

	assert_int_equal(store_dv_token_latest(e->st, e->authz, &g, &count),
	    RC_NOTFOUND);
	t.authz_id = e->authz;
	memset(t.token_hash, 1, sizeof(t.token_hash));
	t.email_to = "hostmaster@a.example";
	t.sent_at = T0;
	t.expires_at = T0 + 86400;
	assert_int_equal(store_dv_token_add(e->st, &t, &id1), 0);
	assert_int_equal(store_dv_token_add(e->st, &t, NULL), RC_EXISTS);
	memset(t.token_hash, 2, sizeof(t.token_hash));
	t.sent_at = T0 + 600;
	assert_int_equal(store_dv_token_add(e->st, &t, &id2), 0);
	/* the first is replaced by the second */
	memset(t.token_hash, 1, sizeof(t.token_hash));
	assert_int_equal(store_dv_token_by_hash(e->st, t.token_hash, &g), 0);
	assert_string_equal(g.state, "replaced");
	assert_int_equal(g.id, id1);
	store_dv_token_clear(&g);
	assert_int_equal(store_dv_token_latest(e->st, e->authz, &g, &count),
	    0);
	assert_int_equal(g.id, id2);
	assert_int_equal(count, 2);
	assert_string_equal(g.state, "pending");
	store_dv_token_clear(&g);
	assert_int_equal(store_dv_token_confirm(e->st, id1, T0, NULL, NULL),
	    RC_STATE);
	assert_int_equal(store_dv_token_confirm(e->st, id2, T0 + 700,
	    "192.0.2.1", "UA"), 0);
	assert_int_equal(store_dv_token_confirm(e->st, id2, T0 + 701, NULL,
	    NULL), RC_STATE);	/* once */
	memset(t.token_hash, 9, sizeof(t.token_hash));
	assert_int_equal(store_dv_token_by_hash(e->st, t.token_hash, &g),
	    RC_NOTFOUND);
	/* expiry before sending, control characters: refused */
	t.expires_at = t.sent_at;
	assert_int_equal(store_dv_token_add(e->st, &t, NULL), RC_INVAL);
	t.expires_at = T0 + 86400;
	t.email_to = "a\r\nb@x";
	assert_int_equal(store_dv_token_add(e->st, &t, NULL), RC_INVAL);
}

/* A pending link handed to another name of the order: the name it was
 * sent for no longer retires it when it gets a new one. */
static void
test_token_hand(void **state)
{
	struct env *e = *state;
	struct store_dv_token t = {0}, g = {0};
	int64_t www = add_authz(e->st, e->order, "www.a.example", "pending",
	    NULL, 0, T0 + 7 * 86400);
	int64_t id1 = 0, id2 = 0, count = 0;

	t.authz_id = e->authz;
	memset(t.token_hash, 1, sizeof(t.token_hash));
	t.email_to = "hostmaster@a.example";
	t.sent_at = T0;
	t.expires_at = T0 + 86400;
	assert_int_equal(store_dv_token_add(e->st, &t, &id1), 0);
	assert_int_equal(store_dv_token_hand(e->st, id1, www), 0);
	/* the name's new link to another address leaves it pending */
	memset(t.token_hash, 2, sizeof(t.token_hash));
	t.email_to = "admin@a.example";
	assert_int_equal(store_dv_token_add(e->st, &t, &id2), 0);
	memset(t.token_hash, 1, sizeof(t.token_hash));
	assert_int_equal(store_dv_token_by_hash(e->st, t.token_hash, &g), 0);
	assert_string_equal(g.state, "pending");
	assert_int_equal(g.authz_id, www);
	store_dv_token_clear(&g);
	assert_int_equal(store_dv_token_latest(e->st, www, &g, &count), 0);
	assert_int_equal(g.id, id1);
	assert_int_equal(count, 1);
	store_dv_token_clear(&g);
	assert_int_equal(store_dv_token_latest(e->st, e->authz, &g, &count),
	    0);
	assert_int_equal(g.id, id2);
	assert_int_equal(count, 1);
	store_dv_token_clear(&g);
	/* only a pending link moves; bad ids are refused */
	assert_int_equal(store_dv_token_confirm(e->st, id1, T0 + 1, NULL,
	    NULL), 0);
	assert_int_equal(store_dv_token_hand(e->st, id1, e->authz), RC_STATE);
	assert_int_equal(store_dv_token_hand(e->st, 4242, www), RC_STATE);
	assert_int_equal(store_dv_token_hand(e->st, 0, www), RC_INVAL);
	assert_int_equal(store_dv_token_hand(e->st, id2, 0), RC_INVAL);
	assert_int_equal(store_dv_token_hand(NULL, id2, www), RC_INVAL);
}

static void
test_records(void **state)
{
	struct env *e = *state;
	struct store_dv_record r = {0}, *v = NULL, g = {0};
	size_t n = 0;
	int64_t id = 0;

	r.authz_id = e->authz;
	r.zone = "a.example";
	r.owner = "_acme-challenge.a.example";
	r.value = "V";
	r.created_at = T0;
	r.remove_at = T0 + 300;
	assert_int_equal(store_dv_record_add(e->st, &r, &id), 0);
	assert_int_equal(store_dv_record_of(e->st, e->authz, &g), 0);
	assert_int_equal(g.id, id);
	assert_string_equal(g.owner, "_acme-challenge.a.example");
	store_dv_record_clear(&g);
	assert_int_equal(store_dv_record_due(e->st, T0, 8, &v, &n), 0);
	assert_int_equal(n, 0);
	store_dv_record_list_free(v, n);
	assert_int_equal(store_dv_record_due(e->st, T0 + 300, 8, &v, &n), 0);
	assert_int_equal(n, 1);
	store_dv_record_list_free(v, n);
	assert_int_equal(store_dv_record_claim(e->st, id, T0 + 300, T0 + 420),
	    0);
	assert_int_equal(store_dv_record_claim(e->st, id, T0 + 301, T0 + 421),
	    RC_STATE);
	assert_int_equal(store_dv_record_due(e->st, T0 + 301, 8, &v, &n), 0);
	assert_int_equal(n, 0);
	store_dv_record_list_free(v, n);
	assert_int_equal(store_dv_record_failed(e->st, id, "timeout",
	    T0 + 400), 0);
	assert_int_equal(store_dv_record_due(e->st, T0 + 400, 8, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].attempts, 1);
	assert_string_equal(v[0].last_error, "timeout");
	store_dv_record_list_free(v, n);
	assert_int_equal(store_dv_record_done(e->st, id), 0);
	assert_int_equal(store_dv_record_of(e->st, e->authz, &g),
	    RC_NOTFOUND);
	assert_int_equal(store_dv_record_failed(e->st, id, NULL, T0),
	    RC_NOTFOUND);
	r.owner = NULL;
	assert_int_equal(store_dv_record_add(e->st, &r, NULL), RC_INVAL);
	assert_int_equal(store_dv_record_due(e->st, T0, 0, &v, &n), RC_INVAL);
}

static void
test_reuse_and_domains(void **state)
{
	struct env *e = *state;
	int64_t o2 = add_order(e->st, e->contract);
	int64_t o3 = add_order(e->st, e->contract2);
	int64_t v1, v2, got = 0;
	int hosted = 0;
	char zone[254];

	v1 = add_authz(e->st, o2, "b.example", "valid", "http", T0,
	    T0 + 200 * 86400);
	(void)add_authz(e->st, o3, "c.example", "valid", "dns", T0,
	    T0 + 200 * 86400);
	assert_int_equal(store_dv_reusable(e->st, e->contract, "b.example", 0,
	    T0 - 10, T0 + 5, 0, &got), 0);
	assert_int_equal(got, v1);
	/* not itself, not for a wildcard (http), not too old, not expired,
	 * not another contract's */
	assert_int_equal(store_dv_reusable(e->st, e->contract, "b.example", 0,
	    T0 - 10, T0 + 5, v1, &got), RC_NOTFOUND);
	assert_int_equal(store_dv_reusable(e->st, e->contract, "b.example", 1,
	    T0 - 10, T0 + 5, 0, &got), RC_NOTFOUND);
	assert_int_equal(store_dv_reusable(e->st, e->contract, "b.example", 0,
	    T0 + 1, T0 + 5, 0, &got), RC_NOTFOUND);
	assert_int_equal(store_dv_reusable(e->st, e->contract, "b.example", 0,
	    T0 - 10, T0 + 200 * 86400, 0, &got), RC_NOTFOUND);
	assert_int_equal(store_dv_reusable(e->st, e->contract, "c.example", 0,
	    T0 - 10, T0 + 5, 0, &got), RC_NOTFOUND);
	v2 = add_authz(e->st, o2, "b.example", "valid", "dns", T0 + 2,
	    T0 + 200 * 86400);
	assert_int_equal(store_dv_reusable(e->st, e->contract, "b.example", 1,
	    T0 - 10, T0 + 5, 0, &got), 0);
	assert_int_equal(got, v2);

	assert_int_equal(store_domain_add(e->st, e->contract, "example.com", 1,
	    NULL), 0);
	assert_int_equal(store_domain_add(e->st, e->contract,
	    "shop.example.com", 0, NULL), 0);
	assert_int_equal(store_dv_domain_of(e->st, e->contract, "example.com",
	    &hosted, zone, sizeof(zone)), 0);
	assert_true(hosted);
	assert_string_equal(zone, "example.com");
	assert_int_equal(store_dv_domain_of(e->st, e->contract,
	    "www.shop.example.com", &hosted, zone, sizeof(zone)), 0);
	assert_string_equal(zone, "shop.example.com");	/* the longest */
	assert_true(hosted);				/* any is hosted */
	/* look-alikes and LIKE characters match nothing */
	assert_int_equal(store_dv_domain_of(e->st, e->contract,
	    "badexample.com", &hosted, zone, sizeof(zone)), RC_NOTFOUND);
	assert_int_equal(store_dv_domain_of(e->st, e->contract, "%.com",
	    &hosted, zone, sizeof(zone)), RC_NOTFOUND);
	assert_int_equal(store_dv_domain_of(e->st, e->contract, "_xample.com",
	    &hosted, zone, sizeof(zone)), RC_NOTFOUND);
	assert_int_equal(store_dv_domain_of(e->st, e->contract2,
	    "example.com", &hosted, zone, sizeof(zone)), RC_NOTFOUND);
	assert_int_equal(store_dv_domain_of(e->st, e->contract, NULL, &hosted,
	    zone, sizeof(zone)), RC_INVAL);
}

static int
count_cb(const void *row, void *arg)
{
	(void)row;
	(*(int *)arg)++;
	return 0;
}

static int
check_cb(const struct store_org_check *k, void *arg)
{
	return count_cb(k, arg);
}

static int
shard_cb(const struct store_crl_shard *c, void *arg)
{
	return count_cb(c, arg);
}

/* The argument checks and statement helpers that the area files share
 * with store_sqlite.c (store_sqlite_int.h), at their bounds. */
static void
test_shared_checks(void **state)
{
	struct env *e = *state;
	struct store_dv_record r = {0};
	struct store_dv_attempt a = {0};
	struct store_dv v = {0};
	struct store_ocsp o = {0};
	struct store_mail *m = NULL;
	char name[300], serial[42];
	int64_t id = 0, shard = 0, *ids = NULL;
	size_t n = 0;
	int seen = 0;

	/* dv text: "" passes, control characters and one byte too many do
	 * not, NULL only where allowed */
	r.authz_id = e->authz;
	r.zone = "a.example";
	r.owner = "_acme-challenge.a.example";
	r.value = "";
	r.remove_at = T0 + 300;
	assert_int_equal(store_dv_record_add(e->st, &r, &id), 0);
	assert_true(id > 0);
	r.value = "tab\there";
	assert_int_equal(store_dv_record_add(e->st, &r, NULL), RC_INVAL);
	r.value = "V";
	memset(name, 'a', 254);
	name[254] = '\0';
	r.zone = name;
	assert_int_equal(store_dv_record_add(e->st, &r, NULL), RC_INVAL);
	name[253] = '\0';
	assert_int_equal(store_dv_record_add(e->st, &r, NULL), 0);
	assert_int_equal(store_dv_record_failed(e->st, id, "x\x7f", T0),
	    RC_INVAL);
	assert_int_equal(store_dv_record_failed(e->st, id, NULL, T0), 0);
	assert_int_equal(store_dv_record_done(e->st, id), 0);
	assert_int_equal(store_dv_record_done(e->st, id), 0);	/* gone */
	assert_int_equal(store_dv_record_done(e->st, 0), RC_INVAL);
	assert_int_equal(store_dv_record_claim(e->st, id, T0, T0 + 1),
	    RC_STATE);
	assert_int_equal(store_dv_record_failed(e->st, id, "gone", T0),
	    RC_NOTFOUND);

	/* dv enums */
	a.authz_id = e->authz;
	a.order_id = e->order;
	a.method = "caa";
	a.br_version = "2.0.1";
	a.br_section = "3.2.2.8";
	assert_int_equal(store_dv_attempt_add(e->st, &a, &id), 0);
	a.method = "CAA";
	assert_int_equal(store_dv_attempt_add(e->st, &a, &id), RC_INVAL);
	a.method = NULL;
	assert_int_equal(store_dv_attempt_add(e->st, &a, &id), RC_INVAL);
	a.method = "caa";
	a.br_section = NULL;
	assert_int_equal(store_dv_attempt_add(e->st, &a, &id), RC_INVAL);

	/* conditional writes that change no row */
	v.authz_id = e->authz;
	v.order_id = e->order;
	v.method = "dns";
	v.value = "V";
	v.http_file = "F";
	assert_int_equal(store_dv_update(e->st, &v, T0), RC_NOTFOUND);
	assert_int_equal(store_dv_claim(e->st, e->authz, T0, T0 + 1, 1),
	    RC_STATE);
	assert_int_equal(store_dv_token_confirm(e->st, 4242, T0, "192.0.2.1",
	    "UA"), RC_STATE);
	assert_int_equal(store_dv_token_confirm(e->st, 4242, T0, "192.0.2.1",
	    "UA\n"), RC_INVAL);
	assert_int_equal(store_dv_token_retire(e->st, e->authz), 0);

	/* serials: 1..40 lowercase hex digits */
	assert_int_equal(store_ocsp_get(e->st, "0a1b", &o), RC_NOTFOUND);
	assert_int_equal(store_ocsp_get(e->st, "0A1B", &o), RC_INVAL);
	assert_int_equal(store_ocsp_get(e->st, "", &o), RC_INVAL);
	assert_int_equal(store_ocsp_get(e->st, NULL, &o), RC_INVAL);
	assert_int_equal(store_ocsp_get(e->st, "0x1", &o), RC_INVAL);
	memset(serial, 'f', 41);
	serial[41] = '\0';
	assert_int_equal(store_cert_get_shard(e->st, serial, &shard),
	    RC_INVAL);
	serial[40] = '\0';
	assert_int_equal(store_cert_get_shard(e->st, serial, &shard),
	    RC_NOTFOUND);
	assert_int_equal(store_cert_set_shard(e->st, serial, 1), RC_NOTFOUND);
	assert_int_equal(store_cert_set_shard(e->st, "g", 1), RC_INVAL);
	assert_int_equal(store_crl_shard_list(e->st, 0, shard_cb, &seen), 0);
	assert_int_equal(seen, 0);

	/* organisation validation: ids, enums, texts */
	assert_int_equal(store_order_set_org(e->st, e->order, 0), 0);
	assert_int_equal(store_order_set_org(e->st, 987654, 0), RC_NOTFOUND);
	assert_int_equal(store_order_set_org(e->st, 0, 0), RC_INVAL);
	assert_int_equal(store_order_set_org(e->st, e->order, -1), RC_INVAL);
	assert_int_equal(store_org_find_valid(e->st, 1, "Acme", "DE", 0, 0,
	    &id), RC_NOTFOUND);
	assert_int_equal(store_org_find_valid(e->st, 1, "", "DE", 0, 0, &id),
	    RC_INVAL);
	assert_int_equal(store_org_find_valid(e->st, 1, "A\nB", "DE", 0, 0,
	    &id), RC_INVAL);
	assert_int_equal(store_org_find_valid(e->st, 1, "Acme", "DEU", 0, 0,
	    &id), RC_INVAL);
	assert_int_equal(store_org_find_valid(e->st, 0, "Acme", "DE", 0, 0,
	    &id), RC_INVAL);
	assert_int_equal(store_org_case_ids(e->st, "open", "ev", 0, &ids, &n),
	    0);
	assert_int_equal(n, 0);
	free(ids);
	assert_int_equal(store_org_case_ids(e->st, "Open", NULL, 0, &ids, &n),
	    RC_INVAL);
	assert_int_equal(store_org_case_ids(e->st, NULL, "dv", 0, &ids, &n),
	    RC_INVAL);
	assert_int_equal(store_org_check_list(e->st, 31337, check_cb, &seen),
	    0);
	assert_int_equal(seen, 0);

	/* the outbox by id */
	assert_int_equal(store_mail_get(e->st, 31337, &m), RC_NOTFOUND);
	assert_null(m);
	assert_int_equal(store_mail_get(e->st, 0, &m), RC_NOTFOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rows_and_jobs, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_attempts_and_tokens,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_hand, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reuse_and_domains, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_shared_checks, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
