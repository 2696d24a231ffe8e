/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/store/store_sqlite_domains.c: a domain row with its
 * contract and customer, and deleting it; the hosted domains of other
 * customers that overlap a name (the same name, a parent, a child; a
 * suffix that only looks alike does not; the customer's own other
 * contracts do not; external domains do not); the hosted domains of a
 * contract that hold a name; and what a contract gives up with a domain:
 * its pending portal orders for names under it (paged by id) and its
 * valid authorizations of them, portal and ACME (EAB-bound accounts), not
 * another contract's, not an unbound account's, not those under another
 * of its domains below the one removed, not pending, expired or IP ones.
 * Bad arguments are RC_INVAL before any SQL.
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
#define DAY 86400

struct env {
	char dir[64];
	char *db;
	struct store *st;
	int64_t cust, cust2, contract, contract2, other;
};

static int
setup(void **state)
{
	struct env *e = xcalloc(1, sizeof(*e));
	struct store_conf sc = {"sqlite", NULL, 0};

	log_set_level(LOG_LVL_ERR);
	snprintf(e->dir, sizeof(e->dir), "/tmp/certdesk-test-dom-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	e->db = xasprintf("%s/dom.db", e->dir);
	sc.path = e->db;
	assert_int_equal(store_open(&sc, &e->st), 0);
	assert_int_equal(store_customer_add(e->st, "Ada Ltd", &e->cust), 0);
	assert_int_equal(store_customer_add(e->st, "Bob plc", &e->cust2), 0);
	assert_int_equal(store_contract_add(e->st, e->cust, "K-1",
	    &e->contract), 0);
	assert_int_equal(store_contract_add(e->st, e->cust, "K-2",
	    &e->contract2), 0);
	assert_int_equal(store_contract_add(e->st, e->cust2, "B-1",
	    &e->other), 0);
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

static int64_t
domain(struct env *e, int64_t contract, const char *name, int hosted)
{
	int64_t id = 0;

	assert_int_equal(store_domain_add(e->st, contract, name, hosted, &id),
	    0);
	return id;
}

/* A portal order of contract (in a slot of its own) or, with account, an
 * ACME order of that account; status as given. */
static int64_t
order(struct env *e, int64_t contract, int64_t account, const char *status)
{
	struct store_order o = {0};
	int64_t id = 0, slot = 0;

	if (account == 0)
		assert_int_equal(store_slot_add(e->st, contract, "starter",
		    &slot), 0);
	o.contract_id = contract;
	o.slot_id = slot;
	o.account_id = account;
	o.profile = "dv";
	o.status = (char *)status;
	o.names = "x.example";
	o.expires_at = T0 + 7 * DAY;
	assert_int_equal(store_order_add(e->st, &o, &id), 0);
	return id;
}

/* An authorization of order (position pos) for name ("*.x": a wildcard),
 * valid for 30 days from T0 unless status says otherwise. */
static int64_t
authz(struct env *e, int64_t order, int64_t account, int pos,
    const char *type, const char *name, const char *status)
{
	struct store_authz a = {0};
	int64_t id = 0;

	a.order_id = order;
	a.account_id = account;
	a.ident_type = (char *)type;
	a.wildcard = strncmp(name, "*.", 2) == 0;
	a.identifier = (char *)name + (a.wildcard ? 2 : 0);
	a.status = (char *)status;
	if (strcmp(status, "valid") == 0) {
		a.method = "dns-01";
		a.validated_at = T0;
	}
	a.expires_at = T0 + 30 * DAY;
	assert_int_equal(store_authz_add(e->st, &a, &id), 0);
	assert_int_equal(store_order_authz_add(e->st, order, pos, id), 0);
	return id;
}

static int64_t
account(struct env *e, const char *seed, int64_t contract)
{
	struct store_acme_account a = {0};
	int64_t id = 0;

	a.status = "valid";
	a.jwk = "{}";
	a.thumbprint = (char *)seed;
	a.contact = "[]";
	a.contract_id = contract;
	assert_int_equal(store_acme_account_add(e->st, &a, &id), 0);
	return id;
}

static const char *
status_of(struct env *e, int64_t id, char buf[16])
{
	struct store_authz a = {0};

	assert_int_equal(store_authz_get(e->st, id, &a), 0);
	snprintf(buf, 16, "%s", a.status);
	store_authz_clear(&a);
	return buf;
}

static void
test_get_delete(void **state)
{
	struct env *e = *state;
	struct store_domain d = {0};
	int64_t id = domain(e, e->contract, "example.com", 1);

	assert_int_equal(store_domain_get(e->st, id, &d), 0);
	assert_int_equal(d.id, id);
	assert_int_equal(d.contract_id, e->contract);
	assert_int_equal(d.customer_id, e->cust);
	assert_string_equal(d.name, "example.com");
	assert_true(d.hosted);
	assert_string_equal(d.contract_number, "K-1");
	assert_string_equal(d.customer_name, "Ada Ltd");
	assert_true(d.created_at > 0);
	store_domain_clear(&d);
	assert_null(d.name);
	store_domain_clear(NULL);

	assert_int_equal(store_domain_delete(e->st, id), 0);
	assert_int_equal(store_domain_get(e->st, id, &d), RC_NOTFOUND);
	assert_null(d.name);
	assert_int_equal(store_domain_delete(e->st, id), RC_NOTFOUND);
	/* the same name may be added again */
	assert_true(domain(e, e->contract, "example.com", 0) > id);

	assert_int_equal(store_domain_get(e->st, 0, &d), RC_INVAL);
	assert_int_equal(store_domain_get(e->st, id, NULL), RC_INVAL);
	assert_int_equal(store_domain_get(NULL, id, &d), RC_INVAL);
	assert_int_equal(store_domain_delete(e->st, -1), RC_INVAL);
}

static void
test_hosted_other(void **state)
{
	struct env *e = *state;
	struct store_domain d = {0};
	int64_t theirs;

	theirs = domain(e, e->other, "shop.example.com", 1);
	(void)domain(e, e->other, "external.example.com", 0);
	(void)domain(e, e->contract2, "own.example.com", 1);

	/* the same name, a parent of it, a child of it */
	assert_int_equal(store_domain_hosted_other(e->st, e->cust,
	    "shop.example.com", &d), 0);
	assert_int_equal(d.id, theirs);
	assert_int_equal(d.contract_id, e->other);
	assert_int_equal(d.customer_id, e->cust2);
	assert_string_equal(d.contract_number, "B-1");
	assert_string_equal(d.customer_name, "Bob plc");
	store_domain_clear(&d);
	assert_int_equal(store_domain_hosted_other(e->st, e->cust,
	    "example.com", &d), 0);
	assert_int_equal(d.id, theirs);
	store_domain_clear(&d);
	assert_int_equal(store_domain_hosted_other(e->st, e->cust,
	    "www.shop.example.com", &d), 0);
	assert_int_equal(d.id, theirs);
	store_domain_clear(&d);

	/* siblings, look-alike suffixes, external domains, the customer's
	 * own other contract, and the customer itself: none */
	assert_int_equal(store_domain_hosted_other(e->st, e->cust,
	    "www.example.com", &d), RC_NOTFOUND);
	assert_int_equal(store_domain_hosted_other(e->st, e->cust,
	    "myshop.example.com", &d), RC_NOTFOUND);
	assert_int_equal(store_domain_hosted_other(e->st, e->cust,
	    "hop.example.com", &d), RC_NOTFOUND);
	assert_int_equal(store_domain_hosted_other(e->st, e->cust,
	    "external.example.com", &d), RC_NOTFOUND);
	assert_int_equal(store_domain_hosted_other(e->st, e->cust,
	    "own.example.com", &d), RC_NOTFOUND);
	assert_int_equal(store_domain_hosted_other(e->st, e->cust2,
	    "shop.example.com", &d), RC_NOTFOUND);
	assert_null(d.name);
	/* B looking at A's */
	assert_int_equal(store_domain_hosted_other(e->st, e->cust2,
	    "x.own.example.com", &d), 0);
	assert_int_equal(d.contract_id, e->contract2);
	store_domain_clear(&d);

	assert_int_equal(store_domain_hosted_other(e->st, e->cust, "%.com",
	    &d), RC_INVAL);
	assert_int_equal(store_domain_hosted_other(e->st, e->cust,
	    "Example.com", &d), RC_INVAL);
	assert_int_equal(store_domain_hosted_other(e->st, e->cust, NULL, &d),
	    RC_INVAL);
	assert_int_equal(store_domain_hosted_other(e->st, 0, "example.com",
	    &d), RC_INVAL);
	assert_int_equal(store_domain_hosted_other(e->st, e->cust,
	    "example.com", NULL), RC_INVAL);
}

static void
test_hosted_cover(void **state)
{
	struct env *e = *state;
	char out[4][STORE_DOMAIN_BUF];
	size_t n = 9;

	(void)domain(e, e->contract, "example.com", 1);
	(void)domain(e, e->contract, "shop.example.com", 1);
	(void)domain(e, e->contract, "ext.shop.example.com", 0);
	(void)domain(e, e->contract2, "www.shop.example.com", 1);

	assert_int_equal(store_domain_hosted_cover(e->st, e->contract,
	    "www.ext.shop.example.com", out, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(out[0], "shop.example.com");
	assert_string_equal(out[1], "example.com");
	assert_int_equal(store_domain_hosted_cover(e->st, e->contract,
	    "www.shop.example.com", out, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0], "shop.example.com");
	assert_int_equal(store_domain_hosted_cover(e->st, e->contract,
	    "notexample.com", out, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_domain_hosted_cover(e->st, e->contract2,
	    "shop.example.com", out, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_domain_hosted_cover(e->st, e->contract,
	    "example.com", out, 0, &n), 0);
	assert_int_equal(n, 0);

	assert_int_equal(store_domain_hosted_cover(e->st, e->contract,
	    "_x.example.com", out, 4, &n), RC_INVAL);
	assert_int_equal(store_domain_hosted_cover(e->st, e->contract,
	    "example.com", NULL, 4, &n), RC_INVAL);
	assert_int_equal(store_domain_hosted_cover(e->st, e->contract,
	    "example.com", out, 4, NULL), RC_INVAL);
	assert_int_equal(store_domain_hosted_cover(e->st, -3,
	    "example.com", out, 4, &n), RC_INVAL);
}

static void
test_given_up(void **state)
{
	struct env *e = *state;
	int64_t ids[8], *rev = NULL, mine, bound, unbound, theirs;
	int64_t o1, o2, o3, o4, o5, a_apex, a_www, a_kept, a_ip, a_pend;
	int64_t a_other, a_old, a_acme, a_unbound, a_wild, a_look, a_k2;
	size_t n = 9;
	char b[16];

	/* the contract keeps shop.example.com when it gives up example.com */
	mine = domain(e, e->contract, "example.com", 1);
	(void)domain(e, e->contract, "shop.example.com", 1);
	bound = account(e, "bound", e->contract);
	unbound = account(e, "unbound", 0);
	theirs = account(e, "theirs", e->other);

	o1 = order(e, e->contract, 0, "pending");
	a_apex = authz(e, o1, 0, 0, "dns", "example.com", "valid");
	a_pend = authz(e, o1, 0, 1, "dns", "www.example.com", "pending");
	o2 = order(e, e->contract, 0, "pending");	/* kept names only */
	a_kept = authz(e, o2, 0, 0, "dns", "www.shop.example.com", "valid");
	o3 = order(e, e->contract, 0, "valid");		/* issued */
	a_www = authz(e, o3, 0, 0, "dns", "www.example.com", "valid");
	a_wild = authz(e, o3, 0, 1, "dns", "*.example.com", "valid");
	a_look = authz(e, o3, 0, 2, "dns", "notexample.com", "valid");
	a_ip = authz(e, o3, 0, 3, "ip", "192.0.2.1", "valid");
	o4 = order(e, e->contract2, 0, "pending");	/* another contract */
	a_k2 = authz(e, o4, 0, 0, "dns", "example.com", "valid");
	o5 = order(e, e->contract, 0, "pending");
	a_old = authz(e, o5, 0, 0, "dns", "a.b.example.com", "valid");
	/* ACME: the contract's account, an unbound one, another's */
	a_acme = authz(e, order(e, e->contract, bound, "ready"), bound, 0,
	    "dns", "mail.example.com", "valid");
	a_unbound = authz(e, order(e, 0, unbound, "ready"), unbound, 0,
	    "dns", "example.com", "valid");
	a_other = authz(e, order(e, e->other, theirs, "ready"), theirs, 0,
	    "dns", "example.com", "valid");

	assert_int_equal(store_domain_delete(e->st, mine), 0);
	/* the pending portal orders naming a name given up, paged */
	assert_int_equal(store_domain_open_orders(e->st, e->contract,
	    "example.com", 0, ids, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], o1);
	assert_int_equal(ids[1], o5);
	assert_int_equal(store_domain_open_orders(e->st, e->contract,
	    "example.com", 0, ids, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], o1);
	assert_int_equal(store_domain_open_orders(e->st, e->contract,
	    "example.com", o1, ids, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], o5);
	assert_int_equal(store_domain_open_orders(e->st, e->contract,
	    "example.com", o5, ids, 8, &n), 0);
	assert_int_equal(n, 0);
	/* the kept domain itself given up later: o2 */
	assert_int_equal(store_domain_open_orders(e->st, e->contract,
	    "shop.example.com", 0, ids, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], o2);

	/* the authorizations: at T0 + 1 day, all are unexpired */
	assert_int_equal(store_domain_authz_revoke(e->st, e->contract,
	    "example.com", T0 + DAY, &rev, &n), 0);
	assert_int_equal(n, 5);
	free(rev);
	assert_string_equal(status_of(e, a_apex, b), "revoked");
	assert_string_equal(status_of(e, a_www, b), "revoked");
	assert_string_equal(status_of(e, a_wild, b), "revoked");
	assert_string_equal(status_of(e, a_old, b), "revoked");
	assert_string_equal(status_of(e, a_acme, b), "revoked");
	assert_string_equal(status_of(e, a_pend, b), "pending");
	assert_string_equal(status_of(e, a_kept, b), "valid");
	assert_string_equal(status_of(e, a_look, b), "valid");
	assert_string_equal(status_of(e, a_ip, b), "valid");
	assert_string_equal(status_of(e, a_k2, b), "valid");
	assert_string_equal(status_of(e, a_unbound, b), "valid");
	assert_string_equal(status_of(e, a_other, b), "valid");
	{
		struct store_authz a = {0};

		assert_int_equal(store_authz_get(e->st, a_apex, &a), 0);
		assert_int_equal(a.updated_at, T0 + DAY);
		store_authz_clear(&a);
	}
	/* nothing is reused any more */
	assert_int_equal(store_dv_reusable(e->st, e->contract, "example.com",
	    0, T0 - DAY, T0 + DAY, 0, &ids[0]), RC_NOTFOUND);
	assert_int_equal(store_authz_find(e->st, bound, "dns",
	    "mail.example.com", 0, T0 + DAY, T0 - DAY, 0, &ids[0]),
	    RC_NOTFOUND);
	/* again: nothing left */
	assert_int_equal(store_domain_authz_revoke(e->st, e->contract,
	    "example.com", T0 + DAY, &rev, &n), 0);
	assert_int_equal(n, 0);
	assert_null(rev);
	/* expired ones are history: left as they are */
	assert_int_equal(store_domain_authz_revoke(e->st, e->contract,
	    "shop.example.com", T0 + 31 * DAY, &rev, &n), 0);
	assert_int_equal(n, 0);
	assert_string_equal(status_of(e, a_kept, b), "valid");

	assert_int_equal(store_domain_open_orders(e->st, e->contract,
	    "example.com", -1, ids, 8, &n), RC_INVAL);
	assert_int_equal(store_domain_open_orders(e->st, e->contract,
	    "example.com", 0, ids, 0, &n), RC_INVAL);
	assert_int_equal(store_domain_open_orders(e->st, 0, "example.com", 0,
	    ids, 8, &n), RC_INVAL);
	assert_int_equal(store_domain_open_orders(e->st, e->contract, "a b",
	    0, ids, 8, &n), RC_INVAL);
	assert_int_equal(store_domain_authz_revoke(e->st, e->contract,
	    "example.com", 0, &rev, &n), RC_INVAL);
	assert_int_equal(store_domain_authz_revoke(e->st, e->contract,
	    "example.com.", T0, &rev, &n), RC_INVAL);
	assert_int_equal(store_domain_authz_revoke(e->st, e->contract,
	    "example.com", T0, NULL, &n), RC_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_delete, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hosted_other, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hosted_cover, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_given_up, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
