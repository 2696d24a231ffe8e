/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/ra/domain.c over a real store, signer and CA: who may hold
 * a domain as hosted (not a public suffix; not the same name, a parent or
 * a child of another customer's hosted domain; the customer's own other
 * contracts may), and what removing a domain takes from its contract: the
 * pending portal orders for names under it are cancelled (invalid with a
 * problem naming the domain, the slot back, an OV/EV case closed, the
 * contacts mailed, audited), its valid validations of those names are
 * revoked (portal ones no new order reuses; those of its EAB-bound ACME
 * accounts no order or finalize uses), while an issued certificate, the
 * names of another of its domains below it, other contracts' validations
 * and other accounts' are left as they are; an unknown id is refused.
 */
#include "ra_test.h"
#include "store/store.h"
#include "util/xmalloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <cmocka.h>

#define DAY 86400

struct t {
	struct rt_env *e;
	EVP_PKEY *k;
	int64_t user;
};

static int
setup(void **state)
{
	struct t *t = xcalloc(1, sizeof(*t));

	t->e = rt_setup(RT_T0, NULL);
	t->k = rt_key();
	assert_int_equal(store_user_add(t->e->st, t->e->customer,
	    "uma@example.net", "Uma User", STORE_ROLE_CUSTOMER, NULL,
	    &t->user), 0);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	EVP_PKEY_free(t->k);
	rt_teardown(t->e);
	free(t);
	return 0;
}

/* Raw SQL on the store (what the tests set up behind the ra's back). */
static void
raw(struct t *t, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(t->e->db, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

/* Places a portal order of product for domain (CSR for names), in a new
 * slot of the contract. */
static int64_t
order(struct t *t, const char *product, const char *domain, const char *names)
{
	return rt_portal_order(t->e, t->user, t->k, product, domain, names);
}

static int64_t
domain(struct t *t, int64_t contract, const char *name, int hosted)
{
	int64_t id = 0;

	assert_int_equal(store_domain_add(t->e->st, contract, name, hosted,
	    &id), 0);
	return id;
}

static long long
count(struct t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* rt_count of the query fmt makes. */
static long long
count(struct t *t, const char *fmt, ...)
{
	char sql[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	return rt_count(t->e, sql);
}

static void
test_hosted_ok(void **state)
{
	struct t *t = *state;
	struct store_domain d = {0};
	int64_t cust = 0, theirs = 0, mine2 = 0, id;

	assert_int_equal(store_customer_add(t->e->st, "Other", &cust), 0);
	assert_int_equal(store_contract_add(t->e->st, cust, "OTHER-1",
	    &theirs), 0);
	assert_int_equal(store_contract_add(t->e->st, t->e->customer, "K-2",
	    &mine2), 0);
	id = domain(t, theirs, "b.example", 1);
	(void)domain(t, theirs, "ext.example", 0);
	(void)domain(t, mine2, "own.example", 1);

	/* the same name, a child, a parent: another customer's */
	for (size_t i = 0; i < 3; i++) {
		static const char *const names[] = {"b.example",
			"www.b.example", "x.y.b.example"};

		assert_int_equal(ra_domain_hosted_ok(t->e->st, t->e->customer,
		    names[i], &d), RC_POLICY);
		assert_int_equal(d.id, id);
		assert_int_equal(d.contract_id, theirs);
		assert_int_equal(d.customer_id, cust);
		assert_string_equal(d.customer_name, "Other");
		assert_string_equal(d.contract_number, "OTHER-1");
		store_domain_clear(&d);
	}
	/* a parent of theirs is theirs too: a zone holds its children */
	assert_int_equal(store_domain_delete(t->e->st, id), 0);
	id = domain(t, theirs, "shop.c.example", 1);
	assert_int_equal(ra_domain_hosted_ok(t->e->st, t->e->customer,
	    "c.example", &d), RC_POLICY);
	assert_int_equal(d.id, id);
	store_domain_clear(&d);
	/* siblings, external domains, the customer's own, theirs for them */
	assert_int_equal(ra_domain_hosted_ok(t->e->st, t->e->customer,
	    "www.c.example", &d), 0);
	assert_int_equal(ra_domain_hosted_ok(t->e->st, t->e->customer,
	    "ext.example", &d), 0);
	assert_int_equal(ra_domain_hosted_ok(t->e->st, t->e->customer,
	    "www.own.example", &d), 0);
	assert_int_equal(ra_domain_hosted_ok(t->e->st, cust,
	    "shop.c.example", &d), 0);
	assert_null(d.name);
	/* a public suffix is no customer's zone */
	assert_int_equal(ra_domain_hosted_ok(t->e->st, t->e->customer,
	    "co.uk", &d), RC_BADNAME);
	assert_int_equal(ra_domain_hosted_ok(t->e->st, t->e->customer,
	    "github.io", &d), RC_BADNAME);
	assert_int_equal(ra_domain_hosted_ok(t->e->st, t->e->customer,
	    "example.co.uk", &d), 0);
	assert_int_equal(ra_domain_hosted_ok(NULL, t->e->customer,
	    "b.example", &d), RC_INVAL);
	assert_int_equal(ra_domain_hosted_ok(t->e->st, t->e->customer,
	    "b.example", NULL), RC_INVAL);
	assert_int_equal(ra_domain_hosted_ok(t->e->st, t->e->customer,
	    "B.example", &d), RC_INVAL);

	/* a contract's view: alone, shared, public suffix, none */
	(void)domain(t, t->e->contract, "mine.example", 1);
	assert_int_equal(ra_domain_hosted_alone(t->e->st, t->e->contract,
	    "www.mine.example", &d), 0);
	(void)domain(t, theirs, "deep.www.mine.example", 1);
	assert_int_equal(ra_domain_hosted_alone(t->e->st, t->e->contract,
	    "www.mine.example", &d), RC_POLICY);
	assert_string_equal(d.name, "deep.www.mine.example");
	store_domain_clear(&d);
	(void)domain(t, t->e->contract, "co.uk", 1);
	assert_int_equal(ra_domain_hosted_alone(t->e->st, t->e->contract,
	    "shop.co.uk", &d), RC_BADNAME);
	assert_string_equal(d.name, "co.uk");
	store_domain_clear(&d);
	assert_int_equal(ra_domain_hosted_alone(t->e->st, t->e->contract,
	    "elsewhere.example", &d), RC_NOTFOUND);
	(void)domain(t, t->e->contract, "ext2.example", 0);
	assert_int_equal(ra_domain_hosted_alone(t->e->st, t->e->contract,
	    "ext2.example", &d), RC_NOTFOUND);
}

/* The validations the removal takes back, and those it leaves. */
static void
test_remove_revokes(void **state)
{
	struct t *t = *state;
	struct ra_domain_removed out;
	struct ra_err err = {0};
	struct ra_order o = {0};
	struct ra_dv_state *v = NULL;
	int64_t did, kept, issued, acct, aorder, x, otheracct, oorder;
	size_t n = 0;
	char sql[200], st[16];

	did = domain(t, t->e->contract, "gone.example", 0);
	kept = domain(t, t->e->contract, "kept.gone.example", 0);
	/* validated by staff and issued: one reusable validation each */
	issued = order(t, "starter", "gone.example",
	    "gone.example www.gone.example");
	assert_int_equal(ra_portal_validate(t->e->ra, issued, "operator",
	    "cli:root", NULL, &err), 0);
	assert_string_equal(rt_order_status(t->e, issued, st, sizeof(st)),
	    "valid");
	x = order(t, "unlimited", "kept.gone.example", "kept.gone.example");
	assert_int_equal(ra_portal_validate(t->e->ra, x, "operator",
	    "cli:root", NULL, &err), 0);
	/* an ACME account bound to the contract, one of another's */
	acct = rt_account(t->e, "bound");
	snprintf(sql, sizeof(sql), "UPDATE acme_accounts SET contract_id = "
	    "%lld WHERE id = %lld", (long long)t->e->contract,
	    (long long)acct);
	raw(t, sql);
	aorder = rt_order(t->e, acct, "mail.gone.example");
	rt_validate_order(t->e, acct, aorder, RA_CHALL_HTTP01);
	otheracct = rt_account(t->e, "unbound");
	oorder = rt_order(t->e, otheracct, "gone.example");
	rt_validate_order(t->e, otheracct, oorder, RA_CHALL_HTTP01);
	assert_int_equal(ra_order_get(t->e->ra, acct, aorder, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_READY);
	ra_order_clear(&o);

	rt_set_now(t->e, RT_T0 + DAY);
	t->e->ra->ca = t->e->ca;
	memset(&out, 0xff, sizeof(out));
	assert_int_equal(ra_domain_remove(t->e->ra, did, "cli:root", &out,
	    &err), 0);
	assert_int_equal(out.contract_id, t->e->contract);
	assert_int_equal(out.customer_id, t->e->customer);
	assert_string_equal(out.name, "gone.example");
	assert_false(out.hosted);
	assert_int_equal(out.orders, 0);
	assert_int_equal(out.authz, 3);	/* two portal, one ACME */
	assert_int_equal(count(t, "SELECT count(*) FROM domains WHERE id = "
	    "%lld", (long long)did), 0);
	assert_int_equal(count(t, "SELECT count(*) FROM authorizations WHERE "
	    "status = 'revoked' AND order_id = %lld", (long long)issued), 2);
	/* the issued order keeps its certificate */
	assert_string_equal(rt_order_status(t->e, issued, st, sizeof(st)),
	    "valid");
	assert_int_equal(count(t, "SELECT count(*) FROM orders o WHERE o.id = "
	    "%lld AND o.cert_serial IS NOT NULL AND o.cert_serial NOT IN "
	    "(SELECT serial FROM revocations)", (long long)issued), 1);
	/* audited with what it did */
	assert_int_equal(count(t, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'domain.remove' AND actor = 'cli:root' AND object = "
	    "'domain:%lld' AND json_extract(details, '$.name') = "
	    "'gone.example' AND json_array_length(details, "
	    "'$.authz_revoked') = 3", (long long)did), 1);

	/* a new order of the contract: not reused, validated anew */
	x = order(t, "unlimited", "gone.example", "gone.example");
	assert_int_equal(ra_dv_list(t->e->ra, t->e->customer, x, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_not_equal(v[0].method, RA_DV_REUSED);
	assert_string_equal(v[0].status, "pending");
	free(v);
	/* the kept domain's names still are */
	x = order(t, "unlimited", "kept.gone.example", "kept.gone.example");
	assert_int_equal(ra_dv_list(t->e->ra, t->e->customer, x, &v, &n), 0);
	assert_int_equal(v[0].method, RA_DV_REUSED);
	free(v);
	/* the bound account's order is invalid, its name validated anew;
	 * the unbound account keeps its own */
	assert_int_equal(ra_order_get(t->e->ra, acct, aorder, &o, &err), 0);
	assert_int_equal(o.status, RA_ST_INVALID);
	ra_order_clear(&o);
	assert_int_equal(store_authz_find(t->e->st, acct, "dns",
	    "mail.gone.example", 0, RT_T0 + DAY, RT_T0 - DAY, 0, &x),
	    RC_NOTFOUND);
	assert_int_equal(store_authz_find(t->e->st, otheracct, "dns",
	    "gone.example", 0, RT_T0 + DAY, RT_T0 - DAY, 0, &x), 0);
	assert_int_equal(ra_order_get(t->e->ra, otheracct, oorder, &o, &err),
	    0);
	assert_int_equal(o.status, RA_ST_READY);
	ra_order_clear(&o);

	/* gone: a second removal is refused, and so are bad ids */
	assert_int_equal(ra_domain_remove(t->e->ra, did, "cli:root", &out,
	    &err), RC_NOTFOUND);
	assert_non_null(strstr(err.detail.msg, "no domain with id"));
	assert_int_equal(ra_domain_remove(t->e->ra, 0, "cli:root", NULL,
	    &err), RC_NOTFOUND);
	assert_int_equal(ra_domain_remove(t->e->ra, kept, NULL, NULL, &err),
	    RC_INVAL);
	assert_int_equal(count(t, "SELECT count(*) FROM domains WHERE id = "
	    "%lld", (long long)kept), 1);
}

/* The orders still waiting: cancelled, and the customer is told. */
static void
test_remove_cancels_orders(void **state)
{
	struct t *t = *state;
	struct ra_domain_removed out;
	struct ra_portal_order po;
	struct ra_err err = {0};
	int64_t did, dv, ov, elsewhere;
	char st[16];

	did = domain(t, t->e->contract, "moved.example", 1);
	dv = order(t, "starter", "moved.example",
	    "moved.example www.moved.example");
	ov = order(t, "business", "shop.moved.example", "shop.moved.example");
	elsewhere = order(t, "unlimited", "stays.example", "stays.example");
	assert_int_equal(count(t, "SELECT count(*) FROM org_cases WHERE "
	    "order_id = %lld AND state = 'open'", (long long)ov), 1);

	assert_int_equal(ra_domain_remove(t->e->ra, did, "cli:alice", &out,
	    &err), 0);
	assert_int_equal(out.orders, 2);
	assert_true(out.hosted);
	assert_string_equal(rt_order_status(t->e, dv, st, sizeof(st)),
	    "invalid");
	assert_string_equal(rt_order_status(t->e, ov, st, sizeof(st)),
	    "invalid");
	assert_string_equal(rt_order_status(t->e, elsewhere, st, sizeof(st)),
	    "pending");
	/* the slot is free again */
	assert_string_equal(rt_slot_state(t->e, dv, st, sizeof(st)),
	    "unused");
	/* the order's page: rejected, and why */
	memset(&po, 0, sizeof(po));
	assert_int_equal(ra_portal_order_get(t->e->ra, t->e->customer, dv,
	    &po), 0);
	assert_string_equal(po.state, "rejected");
	assert_string_equal(po.error, "The order was cancelled: "
	    "moved.example is no longer a domain of your contract, so nothing "
	    "is issued for it.");
	ra_portal_order_clear(&po);
	/* the back office's case is closed, nobody decided */
	assert_int_equal(count(t, "SELECT count(*) FROM org_cases WHERE "
	    "order_id = %lld AND state = 'rejected' AND decided_at IS NULL "
	    "AND reject_reason LIKE '%%no longer on the contract%%'",
	    (long long)ov), 1);
	assert_int_equal(count(t, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'org.case.cancelled' AND details LIKE '%%\"order\":%lld"
	    "%%'", (long long)ov), 1);
	/* audited, and each contact mailed once */
	assert_int_equal(count(t, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'portal.order.cancelled' AND actor = 'cli:alice' AND "
	    "object = 'order:%lld'", (long long)dv), 1);
	assert_int_equal(count(t, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.cancelled' AND ref = '%lld' AND to_addr = "
	    "'uma@example.net' AND subject = 'Your SSL certificate order for "
	    "moved.example was cancelled' AND body LIKE '%%was cancelled: "
	    "moved.example is no longer a domain of your contract with us%%'",
	    (long long)dv), 1);
	assert_int_equal(count(t, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.cancelled' AND ref = '%lld'",
	    (long long)elsewhere), 0);
	assert_int_equal(count(t, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'portal.order.cancelled.mail' AND json_extract(details, "
	    "'$.order') = %lld", (long long)ov), 1);
	assert_int_equal(count(t, "SELECT json_array_length(details, "
	    "'$.orders_cancelled') FROM audit_log WHERE action = "
	    "'domain.remove' AND object = 'domain:%lld'",
	    (long long)did), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hosted_ok, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_remove_revokes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_remove_cancels_orders,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
