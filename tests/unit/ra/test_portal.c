/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/ra/portal.c: portal orders placed, refused field by field
 * (bad and hostile domains, product rules, CSRs that are garbage,
 * truncated or for other names, missing contacts and organisation, terms,
 * purpose), slots of other customers answered as not found, slots that
 * cannot take an order, no issuance before validation, validation by an
 * operator and issuance (DV) or waiting (OV), reading orders with their
 * derived state, and revocation.
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
#include <cmocka.h>

static int64_t
slot(struct rt_env *e, const char *product)
{
	int64_t id = 0;

	assert_int_equal(store_slot_add(e->st, e->contract, product, &id), 0);
	return id;
}

struct req {
	struct ra_portal_order_req q;
	uint8_t *csr;
};

/* A good request for product's slot s with a CSR for names (NULL: none). */
static void
req_init(struct req *r, struct rt_env *e, int64_t s, const char *domain,
    const char *names, EVP_PKEY *k)
{
	memset(r, 0, sizeof(*r));
	r->q.customer_id = e->customer;
	r->q.user_id = 7;
	r->q.slot_id = s;
	r->q.domain = domain;
	r->q.purpose = "hosting";
	r->q.terms_accepted = 1;
	if (names != NULL) {
		r->csr = rt_csr(k, names, &r->q.csr_len);
		r->q.csr = r->csr;
	}
	r->q.admin.name = "Ada Admin";
	r->q.admin.email = "ada@example.com";
	r->q.admin.phone = "+49 721 123456";
	r->q.tech.name = "Tom Tech";
	r->q.tech.email = "tom@example.com";
	r->q.tech.phone = "0721/654321";
	r->q.org.legal_name = "Beispiel GmbH";
	r->q.org.country = "DE";
	r->q.org.locality = "Karlsruhe";
	r->q.org.street = "Hauptstr. 1";
	r->q.org.postal_code = "76131";
	r->q.org.registration_number = "HRB 12345";
	r->q.org.jurisdiction = "DE";
	r->q.org.business_category = "Private Organization";
}

static const char *
msg_of(const struct ra_field_errs *fe, const char *field)
{
	for (size_t i = 0; i < fe->n; i++)
		if (strcmp(fe->e[i].field, field) == 0)
			return fe->e[i].msg;
	return NULL;
}

/* Places r; expects rc; returns the order id. */
static int64_t
place(struct rt_env *e, struct req *r, int want, struct ra_field_errs *fe)
{
	struct ra_field_errs local = {0};
	struct ra_err err = {0};
	int64_t id = 0;
	int rc = ra_portal_order_new(e->ra, &r->q, &id, fe ? fe : &local,
	    &err);

	if (rc != want)
		fail_msg("rc %d: %s %s", rc, err.detail.msg, local.n ?
		    local.e[0].msg : "");
	assert_int_equal(rc, want);
	free(r->csr);
	r->csr = NULL;
	return id;
}

static void
test_starter_order_validate_issue(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key();
	struct req r;
	struct ra_portal_order o = {0};
	struct ra_err err = {0};
	struct store_slot ss = {0};
	struct store_cert c = {0};
	int64_t s = slot(e, "starter"), id;
	int issued = 0;

	req_init(&r, e, s, " Example.COM ", "example.com www.example.com", k);
	id = place(e, &r, 0, NULL);
	assert_true(id > 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM authorizations "
	    "WHERE account_id IS NULL AND status = 'pending'"), 2);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'portal.order.new' AND actor = 'portal:user/7'"), 1);
	assert_int_equal(store_slot_get(e->st, s, &ss), 0);
	assert_string_equal(ss.state, "pending");
	store_slot_clear(&ss);
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, id, &o), 0);
	assert_string_equal(o.state, "validation_pending");
	assert_string_equal(o.names, "example.com www.example.com");
	assert_string_equal(o.profile, "dv");
	assert_int_equal(o.nauthz, 2);
	assert_int_equal(o.nvalid, 0);
	ra_portal_order_clear(&o);
	/* another customer sees nothing */
	assert_int_equal(ra_portal_order_get(e->ra, e->customer + 1, id, &o),
	    RC_NOTFOUND);
	/* no issuance without validation */
	assert_int_equal(ra_portal_issue(e->ra, id, &err), RC_STATE);
	assert_int_equal(err.problem, RA_PROB_UNAUTHORIZED);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM certificates "
	    "WHERE profile = 'dv'"), 0);
	/* a second order on the pending slot */
	req_init(&r, e, s, "example.com", "example.com www.example.com", k);
	place(e, &r, RC_STATE, NULL);
	/* validation by an operator issues */
	assert_int_equal(ra_portal_validate(e->ra, id, "magic", "cli:t",
	    &issued, NULL), RC_INVAL);
	assert_int_equal(ra_portal_validate(e->ra, id + 100, "operator",
	    "cli:t", &issued, NULL), RC_NOTFOUND);
	assert_int_equal(ra_portal_validate(e->ra, id, "operator", "cli:t",
	    &issued, NULL), 0);
	assert_int_equal(issued, 1);
	assert_int_equal(ra_portal_validate(e->ra, id, "operator", "cli:t",
	    &issued, NULL), RC_STATE);
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, id, &o), 0);
	assert_string_equal(o.state, "issued");
	assert_int_equal(o.nvalid, 2);
	assert_true(o.cert_serial[0] != '\0');
	assert_int_equal(ra_portal_cert_get(e->ra, e->customer, o.cert_serial,
	    &c), 0);
	assert_string_equal(c.profile, "dv");
	assert_int_equal(c.contract_id, e->contract);
	assert_int_equal(c.order_id, id);
	store_cert_clear(&c);
	assert_int_equal(ra_portal_cert_get(e->ra, e->customer + 1,
	    o.cert_serial, &c), RC_NOTFOUND);
	assert_int_equal(ra_portal_cert_get(e->ra, 0, "zz", &c), RC_NOTFOUND);
	assert_int_equal(store_slot_get(e->st, s, &ss), 0);
	assert_string_equal(ss.state, "issued");
	store_slot_clear(&ss);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'cert.issue' AND actor = 'portal:user/7'"), 1);

	/* revocation */
	assert_int_equal(ra_portal_revoke(e->ra, e->customer, o.cert_serial,
	    6, "portal:user/7", NULL), RC_INVAL);
	assert_int_equal(ra_portal_revoke(e->ra, e->customer + 1,
	    o.cert_serial, 1, "portal:user/7", NULL), RC_NOTFOUND);
	assert_int_equal(ra_portal_revoke(e->ra, e->customer, o.cert_serial,
	    1, "portal:user/7", NULL), 0);
	assert_int_equal(ra_portal_revoke(e->ra, e->customer, o.cert_serial,
	    1, "portal:user/7", NULL), RC_EXISTS);
	ra_portal_order_clear(&o);
	assert_int_equal(ra_portal_order_get(e->ra, 0, id, &o), 0);
	assert_string_equal(o.state, "revoked");
	ra_portal_order_clear(&o);
	assert_int_equal(store_slot_get(e->st, s, &ss), 0);
	assert_string_equal(ss.state, "revoked");
	store_slot_clear(&ss);
	/* renew: a new order on the revoked slot; revoked for
	 * keyCompromise (1), the old key is refused, a new one is not */
	{
		struct ra_field_errs fe = {0};

		req_init(&r, e, s, "www.example.com",
		    "example.com www.example.com", k);
		place(e, &r, RC_INVAL, &fe);
		assert_non_null(strstr(msg_of(&fe, "csr"),
		    "known to be compromised"));
	}
	EVP_PKEY_free(k);
	k = rt_key();
	req_init(&r, e, s, "www.example.com", "example.com www.example.com",
	    k);
	assert_true(place(e, &r, 0, NULL) > id);
	EVP_PKEY_free(k);
}

static void
test_refusals_per_field(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key();
	struct ra_field_errs fe = {0};
	struct req r;
	char huge[400];
	int64_t s = slot(e, "starter"), b = slot(e, "business");
	int64_t p = slot(e, "premium"), w = slot(e, "business_wildcard");

	/* nothing at all */
	req_init(&r, e, s, NULL, NULL, k);
	r.q.purpose = "elsewhere";
	r.q.terms_accepted = 0;
	place(e, &r, RC_INVAL, &fe);
	assert_non_null(msg_of(&fe, "domain"));
	assert_non_null(msg_of(&fe, "purpose"));
	assert_non_null(msg_of(&fe, "terms"));
	assert_non_null(strstr(msg_of(&fe, "csr"), "No certificate signing"));
	assert_null(msg_of(&fe, "admin_name"));	/* DV: no contacts */
	/* hostile and bad domains */
	memset(huge, 'a', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	{
		const char *bad[] = {"-bad-.test", "exa mple.com",
			"a\x01" "b.com", "com", "example.com..", huge,
			"b\xe2\x98\x83r.com", "*", "*.*.example.com"};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			req_init(&r, e, s, bad[i], "example.com "
			    "www.example.com", k);
			place(e, &r, RC_INVAL, &fe);
			assert_non_null(msg_of(&fe, "domain"));
		}
	}
	/* wildcard only for Business Wildcard */
	req_init(&r, e, s, "*.example.com", "*.example.com example.com", k);
	place(e, &r, RC_INVAL, &fe);
	assert_non_null(strstr(msg_of(&fe, "domain"), "Business Wildcard"));
	req_init(&r, e, w, "*.example.com", "*.example.com example.com", k);
	r.q.purpose = "server";
	assert_true(place(e, &r, 0, NULL) > 0);
	/* CSR: names differ, garbage, truncated */
	req_init(&r, e, s, "example.com", "example.com", k);
	place(e, &r, RC_INVAL, &fe);
	assert_non_null(strstr(msg_of(&fe, "csr"), "The CSR names "
	    "example.com, but this certificate is for example.com and "
	    "www.example.com"));
	req_init(&r, e, s, "example.com", "example.com www.example.com "
	    "evil.example", k);
	place(e, &r, RC_INVAL, &fe);
	assert_non_null(msg_of(&fe, "csr"));
	req_init(&r, e, s, "example.com", "example.com www.example.com", k);
	r.q.csr_len /= 2;
	place(e, &r, RC_INVAL, &fe);
	/* the customer's words on the form, the parser's for the API */
	assert_non_null(strstr(msg_of(&fe, "csr"), "This is not a "
	    "certificate signing request (CSR) we can read."));
	assert_null(strstr(msg_of(&fe, "csr"), "DER"));
	for (size_t i = 0; i < fe.n; i++)
		if (strcmp(fe.e[i].field, "csr") == 0)
			assert_non_null(strstr(fe.e[i].tech, "The CSR cannot "
			    "be used: CSR: "));
	req_init(&r, e, s, "example.com", NULL, k);
	r.q.csr = (const uint8_t *)"-----BEGIN CERTIFICATE REQUEST-----\n"
	    "AAAA\n-----END CERTIFICATE REQUEST-----\n";
	r.q.csr_len = strlen((const char *)r.q.csr);
	place(e, &r, RC_INVAL, &fe);
	assert_non_null(msg_of(&fe, "csr"));
	req_init(&r, e, s, "example.com", NULL, k);
	r.q.csr = (const uint8_t *)huge;
	r.q.csr_len = CA_MAX_CSR + 1;
	place(e, &r, RC_INVAL, &fe);
	assert_non_null(strstr(msg_of(&fe, "csr"), "larger"));
	/* OV: contacts and organisation */
	req_init(&r, e, b, "shop.example.com", "shop.example.com", k);
	r.q.admin.name = NULL;
	r.q.admin.email = "ada@@example";
	r.q.tech.phone = "call me";
	r.q.org.country = "Germany";
	r.q.org.legal_name = "";
	r.q.org.street = "a\nb";
	place(e, &r, RC_INVAL, &fe);
	assert_non_null(msg_of(&fe, "admin_name"));
	assert_non_null(msg_of(&fe, "admin_email"));
	assert_non_null(msg_of(&fe, "tech_phone"));
	assert_non_null(msg_of(&fe, "org_country"));
	assert_non_null(msg_of(&fe, "org_legal_name"));
	assert_non_null(msg_of(&fe, "org_street"));
	assert_null(msg_of(&fe, "org_registration_number"));	/* OV */
	/* EV: registration, jurisdiction, category */
	req_init(&r, e, p, "shop.example.com", "shop.example.com", k);
	r.q.org.registration_number = NULL;
	r.q.org.jurisdiction = "Deutschland";
	r.q.org.business_category = "Pirates";
	place(e, &r, RC_INVAL, &fe);
	assert_non_null(msg_of(&fe, "org_registration_number"));
	assert_non_null(msg_of(&fe, "org_jurisdiction"));
	assert_non_null(msg_of(&fe, "org_business_category"));
	assert_int_equal(rt_count(e, "SELECT count(*) FROM orders"), 1);
	EVP_PKEY_free(k);
}

static void
test_slots_and_ov(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key();
	struct req r;
	struct ra_portal_order o = {0};
	struct ra_err err = {0};
	int64_t u = slot(e, "unlimited"), b = slot(e, "business"), id;
	int64_t *ids = NULL;
	size_t n = 0;
	int issued = 1;

	/* another customer's slot, an unknown one */
	req_init(&r, e, b, "shop.example.com", "shop.example.com", k);
	r.q.customer_id = e->customer + 1;
	place(e, &r, RC_NOTFOUND, NULL);
	req_init(&r, e, 99999, "shop.example.com", "shop.example.com", k);
	place(e, &r, RC_NOTFOUND, NULL);
	/* Unlimited must be activated first */
	req_init(&r, e, u, "shop.example.com", "shop.example.com", k);
	memset(&err, 0, sizeof(err));
	assert_int_equal(ra_portal_order_new(e->ra, &r.q, &id,
	    &(struct ra_field_errs){0}, &err), RC_STATE);
	assert_non_null(strstr(err.detail.msg, "activated"));
	free(r.csr);
	/* OV: validated domains, then it waits for the organisation */
	req_init(&r, e, b, "shop.example.com", "shop.example.com", k);
	id = place(e, &r, 0, NULL);
	assert_int_equal(ra_portal_order_get(e->ra, 0, id, &o), 0);
	assert_string_equal(o.state, "org_validation_pending");
	assert_string_equal(o.profile, "ov");
	assert_non_null(strstr(o.details, "\"legal_name\":\"Beispiel GmbH\""));
	ra_portal_order_clear(&o);
	assert_int_equal(ra_portal_validate(e->ra, id, "operator", "cli:t",
	    &issued, NULL), 0);
	assert_int_equal(issued, 0);
	assert_int_equal(ra_portal_issue(e->ra, id, &err), RC_STATE);
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, id, &o), 0);
	assert_string_equal(o.state, "org_validation_pending");
	assert_int_equal(o.nvalid, 1);
	ra_portal_order_clear(&o);
	/* listing, by customer */
	assert_int_equal(ra_portal_order_ids(e->ra, e->customer, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], id);
	free(ids);
	assert_int_equal(ra_portal_order_ids(e->ra, e->customer + 1, &ids,
	    &n), 0);
	assert_int_equal(n, 0);
	free(ids);
	/* an expired pending order reads rejected */
	rt_set_now(e, RT_T0 + 30 * 86400);
	assert_int_equal(ra_portal_order_get(e->ra, 0, id, &o), 0);
	assert_string_equal(o.state, "rejected");
	ra_portal_order_clear(&o);
	EVP_PKEY_free(k);
}

/* The state of slot s (static buffer). */
static const char *
slot_state(struct rt_env *e, int64_t s)
{
	static char buf[16];
	struct store_slot ss = {0};

	assert_int_equal(store_slot_get(e->st, s, &ss), 0);
	snprintf(buf, sizeof(buf), "%s", ss.state);
	store_slot_clear(&ss);
	return buf;
}

/* The derived state of order id as the customer reads it (static
 * buffer); its error (when rejected) into why, unless why is NULL. */
static const char *
order_state(struct rt_env *e, int64_t id, char why[200])
{
	static char buf[32];
	struct ra_portal_order o = {0};

	assert_int_equal(ra_portal_order_get(e->ra, e->customer, id, &o), 0);
	snprintf(buf, sizeof(buf), "%s", o.state);
	if (why != NULL)
		snprintf(why, 200, "%s", o.error ? o.error : "");
	ra_portal_order_clear(&o);
	return buf;
}

/* A certificate for domain (and its www form) on starter slot s with key
 * k, placed by portal user uid and validated by an operator; its order
 * id, its serial into serial. */
static int64_t
issue_as(struct rt_env *e, int64_t s, const char *domain, EVP_PKEY *k,
    int64_t uid, char serial[41])
{
	struct ra_portal_order o = {0};
	struct req r;
	char names[300];
	int64_t id;
	int issued = 0;

	snprintf(names, sizeof(names), "%s www.%s", domain, domain);
	req_init(&r, e, s, domain, names, k);
	r.q.user_id = uid;
	id = place(e, &r, 0, NULL);
	if (strcmp(order_state(e, id, NULL), "issued") != 0) {
		assert_int_equal(ra_portal_validate(e->ra, id, "operator",
		    "cli:t", &issued, NULL), 0);
		assert_int_equal(issued, 1);
	}
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, id, &o), 0);
	assert_string_equal(o.state, "issued");
	memcpy(serial, o.cert_serial, 41);
	ra_portal_order_clear(&o);
	assert_string_equal(slot_state(e, s), "issued");
	return id;
}

/* The same, placed by user 7 (who is not in the store). */
static int64_t
issue_on(struct rt_env *e, int64_t s, const char *domain, EVP_PKEY *k,
    char serial[41])
{
	return issue_as(e, s, domain, k, 7, serial);
}

/* A renewal of starter slot s for domain, still waiting for validation
 * (a domain not validated before); its order id. */
static int64_t
pending_renewal(struct rt_env *e, int64_t s, const char *domain)
{
	EVP_PKEY *k = rt_key();
	struct req r;
	char names[300];
	int64_t id;

	snprintf(names, sizeof(names), "%s www.%s", domain, domain);
	req_init(&r, e, s, domain, names, k);
	id = place(e, &r, 0, NULL);
	EVP_PKEY_free(k);
	assert_string_equal(order_state(e, id, NULL), "validation_pending");
	assert_string_equal(slot_state(e, s), "pending");
	return id;
}

/*
 * A renewal that fails leaves the slot as it was before the renewal
 * started: issued with the previous certificate, which is still valid
 * and installed; not active (empty, as if it never held one). Here the
 * renewal is refused at issuance (no CA), right at placement (the names'
 * validation is reused) and after an operator's validation.
 */
static void
test_failed_renewal_keeps_certificate(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key(), *k2 = rt_key();
	struct req r;
	char serial[41], why[200];
	int64_t s = slot(e, "starter"), first, renewal;
	int issued = 1;
	struct ra_portal_order cur = {0};

	/* a slot that never held a certificate has no current order */
	assert_int_equal(ra_portal_slot_current(e->ra, e->customer, s, &cur),
	    RC_NOTFOUND);
	first = issue_on(e, s, "keep.example.com", k, serial);
	/* refused at placement: the validation is reused, issuance fails */
	e->ra->ca = NULL;
	req_init(&r, e, s, "keep.example.com", "keep.example.com "
	    "www.keep.example.com", k2);
	renewal = place(e, &r, 0, NULL);
	e->ra->ca = e->ca;
	assert_string_equal(order_state(e, renewal, why), "rejected");
	assert_non_null(strstr(why, "no CA"));
	assert_string_equal(slot_state(e, s), "issued");
	assert_string_equal(order_state(e, first, NULL), "issued");
	/* refused after the operator validated a new domain */
	renewal = pending_renewal(e, s, "other.example.com");
	e->ra->ca = NULL;
	assert_int_equal(ra_portal_validate(e->ra, renewal, "operator",
	    "cli:t", &issued, NULL), RC_STATE);
	e->ra->ca = e->ca;
	assert_int_equal(issued, 0);
	assert_string_equal(order_state(e, renewal, NULL), "rejected");
	assert_string_equal(slot_state(e, s), "issued");
	/* what "Renew or reissue" starts from: the certificate's order, not
	 * the newer ones that failed; nobody else's */
	assert_int_equal(ra_portal_slot_current(e->ra, e->customer, s, &cur),
	    0);
	assert_int_equal(cur.id, first);
	assert_string_equal(cur.names, "keep.example.com "
	    "www.keep.example.com");
	assert_non_null(cur.details);
	ra_portal_order_clear(&cur);
	assert_int_equal(ra_portal_slot_current(e->ra, e->customer + 1, s,
	    &cur), RC_NOTFOUND);
	assert_int_equal(ra_portal_slot_current(e->ra, e->customer, 99999,
	    &cur), RC_NOTFOUND);
	/* the certificate the slot still holds is revoked: the slot follows
	 * it (the failed renewals are newer orders, but hold nothing) */
	assert_int_equal(ra_portal_revoke(e->ra, e->customer, serial, 4,
	    "portal:user/7", NULL), 0);
	assert_string_equal(slot_state(e, s), "revoked");
	/* and the customer renews */
	issue_on(e, s, "keep.example.com", k2, serial);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k);
}

/* The previous certificate is revoked while the renewal waits (the slot
 * stays pending); the renewal fails: the slot is revoked, as its
 * certificate is. */
static void
test_failed_renewal_after_revocation(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key();
	char serial[41];
	int64_t s = slot(e, "starter"), renewal;
	int issued = 1;

	issue_on(e, s, "gone.example.com", k, serial);
	renewal = pending_renewal(e, s, "next.example.com");
	assert_int_equal(ra_portal_revoke(e->ra, e->customer, serial, 4,
	    "portal:user/7", NULL), 0);
	assert_string_equal(slot_state(e, s), "pending");
	e->ra->ca = NULL;
	assert_int_equal(ra_portal_validate(e->ra, renewal, "operator",
	    "cli:t", &issued, NULL), RC_STATE);
	e->ra->ca = e->ca;
	assert_string_equal(order_state(e, renewal, NULL), "rejected");
	assert_string_equal(slot_state(e, s), "revoked");
	EVP_PKEY_free(k);
}

/*
 * An order nobody validated in time is ended by the DV worker
 * (ra_dv_jobs_run): invalid, read as rejected because it expired, and its
 * slot takes a new order again: issued when it held a certificate before,
 * expired when that certificate expired meanwhile, active when it never
 * held one. A new order on the slot does not wait for the worker.
 */
static void
test_expired_renewal(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key();
	struct store_cert c = {0};
	struct store_order so = {0};
	char serial[41], why[200];
	int64_t s = slot(e, "starter"), fresh = slot(e, "starter");
	int64_t old = slot(e, "starter"), renewal, first, late;
	size_t ran = 0;

	issue_on(e, s, "slow.example.com", k, serial);
	issue_on(e, old, "old.example.com", k, serial);
	renewal = pending_renewal(e, s, "slower.example.com");
	first = pending_renewal(e, fresh, "new.example.com");
	/* not yet */
	rt_set_now(e, e->now + 86400);
	assert_int_equal(ra_dv_jobs_run(e->ra, 0, &ran), 0);
	assert_string_equal(slot_state(e, s), "pending");
	rt_set_now(e, e->now + 7 * 86400);
	assert_int_equal(ra_dv_jobs_run(e->ra, 0, &ran), 0);
	assert_int_equal(store_order_get(e->st, renewal, &so), 0);
	assert_string_equal(so.status, "invalid");
	store_order_clear(&so);
	assert_string_equal(order_state(e, renewal, why), "rejected");
	assert_non_null(strstr(why, "expired"));
	assert_string_equal(slot_state(e, s), "issued");
	assert_string_equal(order_state(e, first, NULL), "rejected");
	assert_string_equal(slot_state(e, fresh), "unused");
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'portal.order.expired' AND actor = 'system'"), 2);
	/* both take a new order */
	pending_renewal(e, s, "slow2.example.com");
	pending_renewal(e, fresh, "new.example.com");

	/* the certificate of the other slot expires while its renewal
	 * waits */
	assert_int_equal(store_cert_get(e->st, serial, &c), 0);
	rt_set_now(e, c.not_after - 3 * 86400);
	store_cert_clear(&c);
	late = pending_renewal(e, old, "older.example.com");
	rt_set_now(e, e->now + 8 * 86400);
	assert_int_equal(ra_dv_jobs_run(e->ra, 0, &ran), 0);
	assert_string_equal(order_state(e, late, NULL), "rejected");
	assert_string_equal(slot_state(e, old), "expired");
	/* (the renewals of s and fresh expired too) */
	assert_string_equal(slot_state(e, s), "expired");
	assert_string_equal(slot_state(e, fresh), "unused");
	renewal = pending_renewal(e, old, "old2.example.com");

	/* expired, the worker has not looked yet: the customer's new order
	 * ends it first */
	rt_set_now(e, e->now + 8 * 86400);
	assert_string_equal(slot_state(e, old), "pending");
	late = pending_renewal(e, old, "old3.example.com");
	assert_int_equal(store_order_get(e->st, renewal, &so), 0);
	assert_string_equal(so.status, "invalid");
	store_order_clear(&so);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM orders WHERE "
	    "status = 'pending'"), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'portal.order.expired'"), 6);
	assert_string_equal(order_state(e, late, NULL), "validation_pending");
	EVP_PKEY_free(k);
}

/*
 * A slot whose certificate runs out reads expired, not issued, once the
 * DV worker has looked (every minute), audited once; a slot renewed
 * since holds the newer certificate and stays issued, one whose renewal
 * waits stays pending. The expired slot takes a renewal.
 */
static void
test_certificate_runs_out(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key();
	struct store_cert c = {0};
	char serial[41], other[41];
	int64_t s = slot(e, "starter"), renewed = slot(e, "starter");
	int64_t waits = slot(e, "starter");
	time_t end;
	size_t ran = 0;

	issue_on(e, s, "out.example.com", k, serial);
	issue_on(e, renewed, "renewed.example.com", k, other);
	issue_on(e, waits, "waits.example.com", k, other);
	assert_int_equal(store_cert_get(e->st, serial, &c), 0);
	end = c.not_after;
	store_cert_clear(&c);
	assert_int_equal(ra_dv_jobs_run(e->ra, 0, &ran), 0);
	assert_string_equal(slot_state(e, s), "issued");
	rt_set_now(e, e->now + 10 * 86400);
	issue_on(e, renewed, "renewed.example.com", k, other);
	rt_set_now(e, end - 3 * 86400);
	pending_renewal(e, waits, "waits2.example.com");
	rt_set_now(e, end);
	assert_int_equal(ra_dv_jobs_run(e->ra, 0, &ran), 0);
	assert_string_equal(slot_state(e, s), "expired");
	assert_string_equal(slot_state(e, renewed), "issued");
	assert_string_equal(slot_state(e, waits), "pending");
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'portal.slot.expired' AND actor = 'system'"), 1);
	rt_set_now(e, e->now + 120);
	assert_int_equal(ra_dv_jobs_run(e->ra, 0, &ran), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'portal.slot.expired'"), 1);
	/* renewed: issued again */
	issue_on(e, s, "out2.example.com", k, serial);
	EVP_PKEY_free(k);
}

/* A portal order whose issuance was interrupted by a crash (processing,
 * nothing stored) is settled like an ACME one, and its slot is free for a
 * new setup instead of "in progress" for good. */
static void
test_interrupted_issuance_frees_slot(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key();
	struct req r;
	struct store_slot ss = {0};
	struct store_order so = {0};
	int64_t s = slot(e, "starter"), id;
	size_t n = 0;

	req_init(&r, e, s, "crash.example.com", "crash.example.com "
	    "www.crash.example.com", k);
	id = place(e, &r, 0, NULL);
	assert_int_equal(store_order_set_status(e->st, id, "pending",
	    "processing", NULL, NULL, NULL, 0, e->now), 0);
	/* young: left alone */
	assert_int_equal(ra_orders_recover(e->ra, e->now, &n), 0);
	assert_int_equal(n, 0);
	rt_set_now(e, e->now + RA_PROCESSING_STALE + 1);
	assert_int_equal(ra_orders_recover(e->ra, e->now -
	    RA_PROCESSING_STALE, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_order_get(e->st, id, &so), 0);
	assert_string_equal(so.status, "invalid");
	assert_non_null(so.error);
	store_order_clear(&so);
	assert_int_equal(store_slot_get(e->st, s, &ss), 0);
	assert_string_equal(ss.state, "unused");
	store_slot_clear(&ss);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'portal.order.recovered' AND actor = 'system'"), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM certificates "
	    "WHERE order_id IS NOT NULL"), 0);
	/* a renewal interrupted so: the slot keeps its certificate */
	{
		char serial[41];

		issue_on(e, s, "crash.example.com", k, serial);
		id = pending_renewal(e, s, "crash2.example.com");
		assert_int_equal(store_order_set_status(e->st, id, "pending",
		    "processing", NULL, NULL, NULL, 0, e->now), 0);
		rt_set_now(e, e->now + RA_PROCESSING_STALE + 1);
		assert_int_equal(ra_orders_recover(e->ra, e->now -
		    RA_PROCESSING_STALE, &n), 0);
		assert_int_equal(n, 1);
		assert_string_equal(slot_state(e, s), "issued");
	}
	EVP_PKEY_free(k);
}

/* How many rows sql (one %s: serial) counts (a macro: the format stays a
 * literal). */
#define count_of(e, sql, serial)					\
	(snprintf(qbuf, sizeof(qbuf), sql, serial), rt_count(e, qbuf))
static char qbuf[512];

/*
 * A reissue for another domain does not leave the old certificate valid
 * beside the new one (one slot, two domains): it is revoked as superseded
 * (4) by the DV worker's sweep, 72 hours after the new one was issued, not
 * before; audited, on the CRL; the slot keeps the new one. The customer
 * reads when, before and after the new one issues.
 */
static void
test_reissue_other_domain_revokes_old(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key();
	struct ra_portal_order o = {0};
	struct req r;
	char old[41], cur[41];
	int64_t s = slot(e, "starter"), id, first;
	time_t issued;
	size_t ran = 0;
	int done = 0;

	first = issue_on(e, s, "first.example.com", k, old);
	/* waiting: the customer is told what goes, not yet when */
	req_init(&r, e, s, "second.example.com", "second.example.com "
	    "www.second.example.com", k);
	id = place(e, &r, 0, NULL);
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, id, &o), 0);
	assert_string_equal(o.replaced_names, "first.example.com "
	    "www.first.example.com");
	assert_int_equal(o.replaced_revoke_at, 0);
	ra_portal_order_clear(&o);
	assert_int_equal(ra_portal_validate(e->ra, id, "operator", "cli:t",
	    &done, NULL), 0);
	assert_int_equal(done, 1);
	issued = e->now;
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, id, &o), 0);
	memcpy(cur, o.cert_serial, sizeof(cur));
	assert_non_null(o.replaced_names);
	assert_int_equal(o.replaced_revoke_at, issued + 72 * 3600);
	ra_portal_order_clear(&o);
	assert_int_equal(count_of(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'portal.cert.superseded' AND object = 'cert:%s'", old),
	    1);
	/* the grace period: still valid */
	assert_int_equal(ra_dv_jobs_run(e->ra, 0, &ran), 0);
	rt_set_now(e, issued + 72 * 3600 - 61);
	assert_int_equal(ra_dv_jobs_run(e->ra, 0, &ran), 0);
	assert_int_equal(count_of(e, "SELECT count(*) FROM revocations WHERE "
	    "serial = '%s'", old), 0);
	assert_string_equal(order_state(e, first, NULL), "issued");
	/* due, but no CA to revoke with: the next sweep retries */
	rt_set_now(e, issued + 72 * 3600);
	e->ra->ca = NULL;
	assert_int_equal(ra_dv_jobs_run(e->ra, 0, &ran), 0);
	e->ra->ca = e->ca;
	assert_int_equal(count_of(e, "SELECT count(*) FROM revocations WHERE "
	    "serial = '%s'", old), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM superseded_certs"),
	    1);
	/* then revoked, superseded, by the sweep */
	rt_set_now(e, e->now + 60);
	assert_int_equal(ra_dv_jobs_run(e->ra, 0, &ran), 0);
	assert_int_equal(count_of(e, "SELECT count(*) FROM revocations WHERE "
	    "serial = '%s' AND reason = 4", old), 1);
	assert_int_equal(count_of(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'cert.revoke' AND actor = 'system' AND object = '%s'",
	    old), 1);
	assert_true(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'crl.publish'") >= 1);
	assert_string_equal(order_state(e, first, NULL), "revoked");
	assert_string_equal(order_state(e, id, NULL), "issued");
	assert_string_equal(slot_state(e, s), "issued");
	assert_int_equal(count_of(e, "SELECT count(*) FROM revocations WHERE "
	    "serial = '%s'", cur), 0);
	/* nothing left to say or do */
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, id, &o), 0);
	assert_null(o.replaced_names);
	ra_portal_order_clear(&o);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM superseded_certs"),
	    0);
	rt_set_now(e, e->now + 120);
	assert_int_equal(ra_dv_jobs_run(e->ra, 0, &ran), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'cert.revoke'"), 1);
	EVP_PKEY_free(k);
}

/*
 * Nothing is revoked by a renewal for the same names, nor when the
 * certificate replaced is revoked or expired already, or is revoked by
 * the customer during the grace period.
 */
static void
test_reissue_revokes_nothing_else(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key();
	struct store_cert c = {0};
	char a[41], b[41];
	int64_t same = slot(e, "starter"), gone = slot(e, "starter");
	int64_t late = slot(e, "starter"), own = slot(e, "starter");
	size_t ran = 0;

	/* renewal: the same names */
	issue_on(e, same, "same.example.com", k, a);
	issue_on(e, same, "same.example.com", k, b);
	/* revoked already */
	issue_on(e, gone, "gone.example.com", k, a);
	assert_int_equal(ra_portal_revoke(e->ra, e->customer, a, 0,
	    "portal:user/7", NULL), 0);
	issue_on(e, gone, "gone2.example.com", k, b);
	/* revoked by the customer while the new one is installed */
	issue_on(e, own, "own.example.com", k, a);
	issue_on(e, own, "own2.example.com", k, b);
	assert_int_equal(ra_portal_revoke(e->ra, e->customer, a, 5,
	    "portal:user/7", NULL), 0);
	/* expired already */
	issue_on(e, late, "late.example.com", k, a);
	assert_int_equal(store_cert_get(e->st, a, &c), 0);
	rt_set_now(e, c.not_after);
	store_cert_clear(&c);
	issue_on(e, late, "late2.example.com", k, b);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM superseded_certs"),
	    1);
	rt_set_now(e, e->now + 73 * 3600);
	assert_int_equal(ra_dv_jobs_run(e->ra, 0, &ran), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM revocations"), 2);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM revocations "
	    "WHERE reason = 4"), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM superseded_certs"),
	    0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'portal.cert.superseded'"), 1);
	EVP_PKEY_free(k);
}

/* A portal user of the test customer; its id. */
static int64_t
user(struct rt_env *e, const char *email, const char *name)
{
	int64_t uid = 0;

	assert_int_equal(store_user_add(e->st, e->customer, email, name,
	    STORE_ROLE_CUSTOMER, NULL, &uid), 0);
	return uid;
}

/*
 * The certificate a reissue for another domain replaces: its own order
 * says what replaces it, and when it goes (while the reissue waits: that
 * it will), until it is revoked; its customer is mailed once, when the
 * schedule is made and in its transaction (the contacts of both orders,
 * each once), and that is audited. A renewal for the same names says and
 * mails nothing.
 */
static void
test_reissue_tells_the_old_order(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key();
	struct ra_portal_order o = {0};
	struct req r;
	char old[41], cur[41], same[41];
	int64_t s = slot(e, "starter"), t = slot(e, "starter"), first, id;
	int64_t ann = user(e, "ann@shop.example", "Ann Owner");
	int64_t bob = user(e, "bob@shop.example", "Bob Admin");
	time_t issued;
	size_t ran = 0;
	int done = 0;

	first = issue_as(e, s, "old.example.com", k, ann, old);
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, first, &o),
	    0);
	assert_int_equal(o.superseded_by, 0);
	assert_null(o.superseded_by_names);
	ra_portal_order_clear(&o);
	/* the reissue waits: it will be revoked, not yet when */
	req_init(&r, e, s, "new.example.com", "new.example.com "
	    "www.new.example.com", k);
	r.q.user_id = bob;
	id = place(e, &r, 0, NULL);
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, first, &o),
	    0);
	assert_int_equal(o.superseded_by, id);
	assert_string_equal(o.superseded_by_names, "new.example.com "
	    "www.new.example.com");
	assert_int_equal(o.superseded_revoke_at, 0);
	assert_string_equal(o.state, "issued");
	ra_portal_order_clear(&o);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.superseded'"), 0);
	/* issued: when, and the mail to both, once each */
	assert_int_equal(ra_portal_validate(e->ra, id, "operator", "cli:t",
	    &done, NULL), 0);
	assert_int_equal(done, 1);
	issued = e->now;
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, first, &o),
	    0);
	assert_int_equal(o.superseded_by, id);
	assert_string_equal(o.superseded_by_names, "new.example.com "
	    "www.new.example.com");
	assert_int_equal(o.superseded_revoke_at, issued + 72 * 3600);
	ra_portal_order_clear(&o);
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, id, &o), 0);
	memcpy(cur, o.cert_serial, sizeof(cur));
	assert_int_equal(o.superseded_by, 0);
	ra_portal_order_clear(&o);
	assert_int_equal(count_of(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.superseded' AND ref = '%s'", old), 2);
	assert_int_equal(count_of(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.superseded' AND to_addr = 'ann@shop.example' AND "
	    "body LIKE 'Hello Ann Owner,%%' AND body LIKE '%%Serial number: "
	    "%s%%'", old), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.superseded' AND to_addr = 'bob@shop.example' AND "
	    "subject LIKE 'Your SSL certificate for old.example.com will be "
	    "revoked on %' AND body LIKE '%the certificate for "
	    "new.example.com, www.new.example.com%' AND body LIKE '%does not "
	    "cover old.example.com, www.old.example.com.%' AND body LIKE "
	    "'%install the new certificate%before then%'"), 1);
	assert_int_equal(count_of(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'portal.cert.superseded.mail' AND object = 'cert:%s' "
	    "AND details LIKE '%%\"to\":[\"ann@shop.example\","
	    "\"bob@shop.example\"]%%'", old), 1);
	/* scheduled once: the recovery of an issuance does not do it again */
	assert_int_equal(ra_portal_supersede(e->ra, e->st, id, cur,
	    issued + 10), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.superseded'"), 2);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action LIKE 'portal.cert.superseded%'"), 2);
	/* revoked: nothing more to say */
	rt_set_now(e, issued + 72 * 3600);
	assert_int_equal(ra_dv_jobs_run(e->ra, 0, &ran), 0);
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, first, &o),
	    0);
	assert_string_equal(o.state, "revoked");
	assert_int_equal(o.superseded_by, 0);
	assert_null(o.superseded_by_names);
	ra_portal_order_clear(&o);
	/* a renewal: the same names */
	first = issue_as(e, t, "keep.example.com", k, ann, old);
	issue_as(e, t, "keep.example.com", k, bob, same);
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, first, &o),
	    0);
	assert_int_equal(o.superseded_by, 0);
	ra_portal_order_clear(&o);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.superseded'"), 2);
	EVP_PKEY_free(k);
}

/* Order id's renewed_by (ra_portal_order_get). */
static int64_t
renewed_by(struct rt_env *e, int64_t id)
{
	struct ra_portal_order o = {0};
	int64_t by;

	assert_int_equal(ra_portal_order_get(e->ra, e->customer, id, &o), 0);
	by = o.renewed_by;
	ra_portal_order_clear(&o);
	return by;
}

/*
 * The certificate a renewal replaces says which order renews it: the
 * next certificate of its slot, when that covers all of its names (the
 * same names, or more: ra_names_uncovered), also after later renewals
 * and while an order waits; not a reissue for other names (superseded_by
 * says that), nor once the renewal's certificate or its own is revoked.
 * The newest says nothing.
 */
static void
test_renewal_tells_the_old_order(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key();
	char a[41], b[41], c[41];
	int64_t s = slot(e, "starter"), t = slot(e, "starter"), oa, ob, oc;

	oa = issue_on(e, s, "renew.example.com", k, a);
	assert_int_equal(renewed_by(e, oa), 0);
	/* the same names */
	ob = issue_on(e, s, "renew.example.com", k, b);
	assert_int_equal(renewed_by(e, oa), ob);
	assert_int_equal(renewed_by(e, ob), 0);
	/* renewed again: each is renewed by the next */
	oc = issue_on(e, s, "renew.example.com", k, c);
	assert_int_equal(renewed_by(e, oa), ob);
	assert_int_equal(renewed_by(e, ob), oc);
	assert_int_equal(renewed_by(e, oc), 0);
	/* an order waiting after them: nothing for the newest yet (this
	 * one, for other names, is superseded_by's), the others as before */
	pending_renewal(e, s, "later.example.com");
	assert_int_equal(renewed_by(e, oa), ob);
	assert_int_equal(renewed_by(e, ob), oc);
	assert_int_equal(renewed_by(e, oc), 0);
	/* the renewal's certificate revoked: the old one is not renewed */
	assert_int_equal(ra_portal_revoke(e->ra, e->customer, c, 5,
	    "portal:user/7", NULL), 0);
	assert_int_equal(renewed_by(e, ob), 0);
	/* its own revoked: nothing either */
	assert_int_equal(ra_portal_revoke(e->ra, e->customer, a, 5,
	    "portal:user/7", NULL), 0);
	assert_int_equal(renewed_by(e, oa), 0);

	/* a reissue for another domain is not a renewal */
	oa = issue_on(e, t, "first.example.com", k, a);
	ob = issue_on(e, t, "second.example.com", k, b);
	assert_int_equal(renewed_by(e, oa), 0);
	assert_int_equal(renewed_by(e, ob), 0);
	EVP_PKEY_free(k);
}

/* Which old names a new certificate covers: exact (any case), under a
 * wildcard of one label; a subset or superset of names. */
static void
test_names_covered(void **state)
{
	char n[256];

	(void)state;
	assert_int_equal(ra_names_uncovered("a.example.com www.a.example.com",
	    "www.a.example.com a.example.com", n, sizeof(n)), 0);
	assert_int_equal(ra_names_uncovered("A.Example.com",
	    "a.example.COM", n, sizeof(n)), 0);
	/* a superset covers, a subset does not */
	assert_int_equal(ra_names_uncovered("a.example.com",
	    "a.example.com www.a.example.com", n, sizeof(n)), 0);
	assert_int_equal(ra_names_uncovered("a.example.com www.a.example.com",
	    "a.example.com", n, sizeof(n)), 1);
	assert_string_equal(n, "www.a.example.com");
	/* wildcards: one label, and only the same wildcard covers one */
	assert_int_equal(ra_names_uncovered("shop.example.com example.com",
	    "*.example.com example.com", n, sizeof(n)), 0);
	assert_int_equal(ra_names_uncovered("a.shop.example.com",
	    "*.example.com", n, sizeof(n)), 1);
	assert_int_equal(ra_names_uncovered("example.com", "*.example.com",
	    n, sizeof(n)), 1);
	assert_int_equal(ra_names_uncovered("*.shop.example.com",
	    "*.example.com shop.example.com", n, sizeof(n)), 1);
	assert_string_equal(n, "*.shop.example.com");
	assert_int_equal(ra_names_uncovered("*.Example.com", "*.example.com",
	    n, sizeof(n)), 0);
	assert_int_equal(ra_names_uncovered("b.example.com",
	    "a.example.com www.a.example.com", n, sizeof(n)), 1);
	assert_string_equal(n, "b.example.com");
}

/* The typed domain is read as the browser's setup form reads it before it
 * builds the CSR (checks.js domainCheck): blanks, case, one trailing dot,
 * U-labels; a CSR for those names is taken, the order keeps them; the
 * country codes are trimmed and folded. */
static void
test_names_read_as_the_browser_does(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key();
	struct ra_field_errs fe = {0};
	struct ra_portal_order o = {0};
	struct req r;
	int64_t s1 = slot(e, "starter"), s2 = slot(e, "starter");
	int64_t w = slot(e, "business_wildcard"), p = slot(e, "premium");
	int64_t id;

	req_init(&r, e, s1, " \tWWW.Example.COM. ", "example.com "
	    "www.example.com", k);
	id = place(e, &r, 0, NULL);
	assert_int_equal(ra_portal_order_get(e->ra, 0, id, &o), 0);
	assert_string_equal(o.names, "example.com www.example.com");
	ra_portal_order_clear(&o);
	/* IDN: the A-labels libidn2 makes (UTS #46 nontransitional: the
	 * sharp s stays) */
	req_init(&r, e, s2, "B\xc3\xbc" "cher.Stra\xc3\x9f" "e.example.",
	    "xn--bcher-kva.xn--strae-oqa.example "
	    "www.xn--bcher-kva.xn--strae-oqa.example", k);
	id = place(e, &r, 0, NULL);
	assert_int_equal(ra_portal_order_get(e->ra, 0, id, &o), 0);
	assert_string_equal(o.names, "xn--bcher-kva.xn--strae-oqa.example "
	    "www.xn--bcher-kva.xn--strae-oqa.example");
	ra_portal_order_clear(&o);
	/* a CSR with the U-label itself is not what the order is for */
	req_init(&r, e, w, "*.b\xc3\xbc" "cher.example", "*.example.org "
	    "example.org", k);
	r.q.purpose = "server";
	place(e, &r, RC_INVAL, &fe);
	assert_null(msg_of(&fe, "domain"));
	assert_non_null(strstr(msg_of(&fe, "csr"), "but this certificate "
	    "is for *.xn--bcher-kva.example and xn--bcher-kva.example"));
	assert_int_equal(fe.csr_ok, 1);	/* the CSR itself is fine */
	/* EV: country codes as typed, trimmed and folded */
	req_init(&r, e, p, "Shop.Example.com", "shop.example.com", k);
	r.q.org.country = " de ";
	r.q.org.jurisdiction = "dE";
	r.q.org.legal_name = "  Beispiel GmbH\t";
	id = place(e, &r, 0, NULL);
	assert_int_equal(ra_portal_order_get(e->ra, 0, id, &o), 0);
	assert_non_null(strstr(o.details, "\"country\":\"DE\""));
	assert_non_null(strstr(o.details, "\"jurisdiction\":\"DE\""));
	assert_non_null(strstr(o.details, "\"legal_name\":\"Beispiel "
	    "GmbH\""));
	ra_portal_order_clear(&o);
	EVP_PKEY_free(k);
}

/* Hostile names are still refused, each with a message that says why and
 * repeats what was typed (shortened when long, control characters never
 * repeated). */
static void
test_hostile_names_messages(void **state)
{
	struct rt_env *e = *state;
	EVP_PKEY *k = rt_key();
	struct ra_field_errs fe = {0};
	struct req r;
	char long_name[320], long_label[80], www_long[260];
	int64_t s = slot(e, "starter"), w = slot(e, "business_wildcard");
	int64_t b = slot(e, "business");
	static const struct {
		int product;	/* 0 starter, 1 wildcard, 2 business */
		const char *typed, *want;
	} cases[] = {
		{0, "   ", "Please enter the domain"},
		{0, "exa..mple.com", "\"exa..mple.com\" has an empty label"},
		{0, ".example.com", "has an empty label"},
		{0, "example.com..", "has an empty label"},
		{0, "www.*.example.com", "\"www.*.example.com\" has a \"*\": "
		    "wildcard names need an SSL Business Wildcard"},
		{0, "*.example.com", "need an SSL Business Wildcard"},
		{1, "*.*.example.com", "\"*.*.example.com\" has a \"*\" in "
		    "the wrong place"},
		{1, "foo*.example.com", "has a \"*\" in the wrong place"},
		{1, "*.co.uk", "No wildcard certificate can be issued for "
		    "\"*.co.uk\""},
		{0, "xn--zz.example", "\"xn--zz.example\" has an invalid "
		    "A-label"},
		{0, "sn\xe2\x98\x83w.example", "\"sn\xe2\x98\x83w.example\" "
		    "is not a valid internationalised domain name (IDNA2008)"},
		{0, "exa mple.com", "\"exa mple.com\" contains a space"},
		{0, "1.2.3.4", "\"1.2.3.4\" is an IP address"},
		{0, "com", "\"com\" is not a fully-qualified domain name"},
		{0, "-shop.example", "starts or ends with a hyphen"},
		{0, "sh_op.example", "has a character other than letters"},
		{2, "example.123", "has a numeric top-level label"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		req_init(&r, e, cases[i].product == 0 ? s :
		    cases[i].product == 1 ? w : b, cases[i].typed,
		    "example.com www.example.com", k);
		place(e, &r, RC_INVAL, &fe);
		if (msg_of(&fe, "domain") == NULL ||
		    strstr(msg_of(&fe, "domain"), cases[i].want) == NULL)
			fail_msg("\"%s\": %s", cases[i].typed,
			    msg_of(&fe, "domain"));
	}
	/* a control character is refused and not repeated */
	req_init(&r, e, s, "a\x01" "b.example", "example.com", k);
	place(e, &r, RC_INVAL, &fe);
	assert_non_null(strstr(msg_of(&fe, "domain"), "control character"));
	assert_null(strchr(msg_of(&fe, "domain"), '\x01'));
	/* 300 characters: too long, says how long, shows its start and end
	 * (no silent cut to 253) */
	memset(long_name, 'd', 296);
	memcpy(long_name + 296, ".com", 5);
	req_init(&r, e, s, long_name, "example.com", k);
	place(e, &r, RC_INVAL, &fe);
	assert_non_null(strstr(msg_of(&fe, "domain"), "This domain is too "
	    "long: \"dddddddd"));
	assert_non_null(strstr(msg_of(&fe, "domain"), "d\xe2\x80\xa6"
	    "dddddddddddddddddddddddddd.com\" has 300 characters, at most "
	    "253 are allowed."));
	assert_null(strstr(msg_of(&fe, "domain"), "www."));
	/* a label of 64 */
	memset(long_label, 'l', 64);
	memcpy(long_label + 64, ".example", 9);
	req_init(&r, e, s, long_label, "example.com", k);
	place(e, &r, RC_INVAL, &fe);
	assert_non_null(strstr(msg_of(&fe, "domain"), "longer than 63"));
	/* Starter: 250 characters fit a name, not its www form */
	for (size_t i = 0; i < 250; i += 50) {
		memset(www_long + i, 'w', 49);
		www_long[i + 49] = '.';
	}
	memcpy(www_long + 249, "com", 4);
	req_init(&r, e, s, www_long, "example.com", k);
	place(e, &r, RC_INVAL, &fe);
	assert_non_null(strstr(msg_of(&fe, "domain"), "also covers its www "
	    "form"));
	assert_non_null(strstr(msg_of(&fe, "domain"), "has 252 characters "
	    "without \"www.\", at most 249 are allowed"));
	assert_int_equal(rt_count(e, "SELECT count(*) FROM orders"), 0);
	EVP_PKEY_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_starter_order_validate_issue, rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_refusals_per_field, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_slots_and_ov, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(
		    test_interrupted_issuance_frees_slot, rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_renewal_keeps_certificate, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_renewal_after_revocation, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_expired_renewal,
		    rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_certificate_runs_out,
		    rt_cm_setup, rt_cm_teardown),
		cmocka_unit_test_setup_teardown(
		    test_reissue_other_domain_revokes_old, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(
		    test_reissue_revokes_nothing_else, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(
		    test_reissue_tells_the_old_order, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(
		    test_renewal_tells_the_old_order, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test(test_names_covered),
		cmocka_unit_test_setup_teardown(
		    test_names_read_as_the_browser_does, rt_cm_setup,
		    rt_cm_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_names_messages,
		    rt_cm_setup, rt_cm_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
