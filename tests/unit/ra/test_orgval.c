/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/ra/orgval.c: the organisation validation case of every
 * OV/EV portal order, with every forbidden transition of every state
 * refused (RC_STATE) and nothing changed by it; customers refused as staff
 * (RC_UNAUTH); the checklist's evidence checked field by field with bad
 * and hostile input; approval only with satisfying evidence for every
 * required step; the EV two-person rule (the same agent cannot approve
 * twice; the rule can be switched off); rejection freeing the slot;
 * information requested from the customer (mail queued) and answered;
 * issuance only after approval, with the subject from the evidence and not
 * from what the customer typed; reuse of a validated organisation within
 * the reuse period and a new case after it; the audit trail; and at
 * approval days after the domain was validated, CAA looked at again (BR
 * 3.2.2.8) and a domain validation older than today's reuse period (BR
 * 4.2.1) refused.
 */
#include "ra_test.h"
#include "store/store.h"
#include "util/timefmt.h"
#include "util/xmalloc.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

struct ot {
	struct rt_env *e;
	int64_t agent_a, agent_b, admin, customer_user, other_customer_user;
	EVP_PKEY *k;
};

static int
setup(void **state)
{
	struct ot *t = xcalloc(1, sizeof(*t));
	int64_t other = 0;

	t->e = rt_setup(RT_T0, NULL);
	assert_int_equal(store_user_add(t->e->st, 0, "ann@ca.example",
	    "Ann Agent", STORE_ROLE_AGENT, NULL, &t->agent_a), 0);
	assert_int_equal(store_user_add(t->e->st, 0, "bob@ca.example",
	    "Bob Agent", STORE_ROLE_AGENT, NULL, &t->agent_b), 0);
	assert_int_equal(store_user_add(t->e->st, 0, "root@ca.example",
	    "Ada Admin", STORE_ROLE_ADMIN, NULL, &t->admin), 0);
	assert_int_equal(store_user_add(t->e->st, t->e->customer,
	    "cust@example.com", "Carl Customer", STORE_ROLE_CUSTOMER, NULL,
	    &t->customer_user), 0);
	assert_int_equal(store_customer_add(t->e->st, "Other AG", &other), 0);
	assert_int_equal(store_user_add(t->e->st, other, "eve@other.example",
	    "Eve", STORE_ROLE_CUSTOMER, NULL, &t->other_customer_user), 0);
	t->k = rt_key();
	ra_org_set_two_person_ev(1);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct ot *t = *state;

	EVP_PKEY_free(t->k);
	rt_teardown(t->e);
	ra_org_set_two_person_ev(1);
	free(t);
	return 0;
}

/* Places an order of product for domain with the typed legal name on
 * slot (0: a new one); returns its id. */
static int64_t
order_on(struct ot *t, int64_t slot, const char *product, const char *domain,
    const char *legal_name)
{
	struct ra_portal_order_req q;
	struct ra_field_errs fe = {0};
	struct ra_err err = {0};
	int64_t id = 0;
	uint8_t *csr;

	if (slot == 0)
		assert_int_equal(store_slot_add(t->e->st, t->e->contract,
		    product, &slot), 0);
	memset(&q, 0, sizeof(q));
	q.customer_id = t->e->customer;
	q.user_id = t->customer_user;
	q.slot_id = slot;
	q.domain = domain;
	q.purpose = "server";
	q.terms_accepted = 1;
	csr = rt_csr(t->k, domain, &q.csr_len);
	q.csr = csr;
	q.admin.name = "Ada Admin";
	q.admin.email = "ada@example.com";
	q.admin.phone = "+49 721 123456";
	q.tech.name = "Tom Tech";
	q.tech.email = "tom@example.com";
	q.tech.phone = "0721/654321";
	q.org.legal_name = legal_name;
	q.org.country = "DE";
	q.org.locality = "Karlsruhe";
	q.org.street = "Hauptstr. 1";
	q.org.postal_code = "76131";
	q.org.registration_number = "HRB 12345";
	q.org.jurisdiction = "DE";
	q.org.business_category = "Private Organization";
	assert_int_equal(ra_portal_order_new(t->e->ra, &q, &id, &fe, &err),
	    0);
	free(csr);
	return id;
}

static int64_t
order(struct ot *t, const char *product, const char *domain,
    const char *legal_name)
{
	return order_on(t, 0, product, domain, legal_name);
}

/* Moves the clocks; rt_set_now() reopens the CA, so the ra gets the new
 * handle too. */
static void
set_now(struct rt_env *e, time_t now)
{
	rt_set_now(e, now);
	e->ra->ca = e->ca;
}

static int64_t
case_of(struct ot *t, int64_t order_id)
{
	struct ra_org_case c = {0};
	int64_t id;

	assert_int_equal(ra_org_case_by_order(t->e->ra, 0, order_id, &c), 0);
	id = c.id;
	ra_org_case_clear(&c);
	return id;
}

static enum ra_org_state
state_of(struct ot *t, int64_t case_id)
{
	struct ra_org_case c = {0};
	enum ra_org_state s;

	assert_int_equal(ra_org_case_get(t->e->ra, case_id, &c), 0);
	s = c.state;
	ra_org_case_clear(&c);
	return s;
}

#define KV(n, v) {(n), (v)}

static const struct ra_org_kv ev_legal[] = {
	KV("source", "Handelsregister Mannheim"),
	KV("registration_number", "HRB 12345"),
	KV("date_checked", "2026-01-09"),
	KV("legal_name", "Beispiel Handels GmbH"),
};
static const struct ra_org_kv ev_address[] = {
	KV("source", "Handelsregister extract"),
	KV("street", "Hauptstr. 1"),
	KV("postal_code", "76131"),
	KV("locality", "Karlsruhe"),
	KV("state", "Baden-Wuerttemberg"),
	KV("country", "DE"),
};
static const struct ra_org_kv ev_registrant[] = {
	KV("source", "RDAP rdap.denic.de"),
	KV("registrant", "Beispiel Handels GmbH"),
	KV("matches", "yes"),
	KV("date_checked", "2026-01-09"),
};
static const struct ra_org_kv ev_phone_ok[] = {
	KV("number", "+49 721 999000"),
	KV("number_source", "Deutsche Telekom directory"),
	KV("person", "Ada Admin, managing director"),
	KV("called_at", "2026-01-09 10:30"),
	KV("outcome", "confirmed"),
};
static const struct ra_org_kv ev_phone_noanswer[] = {
	KV("number", "+49 721 999000"),
	KV("number_source", "Deutsche Telekom directory"),
	KV("person", "nobody"),
	KV("called_at", "2026-01-09 09:00"),
	KV("outcome", "no_answer"),
};
static const struct ra_org_kv ev_juris[] = {
	KV("source", "Handelsregister"),
	KV("jurisdiction_country", "DE"),
	KV("jurisdiction_locality", "Mannheim"),
};
static const struct ra_org_kv ev_cat[] = {
	KV("source", "Handelsregister"),
	KV("business_category", "Private Organization"),
};
static const struct ra_org_kv ev_regno[] = {
	KV("source", "Handelsregister Mannheim"),
	KV("registration_number", "HRB 12345"),
	KV("date_checked", "2026-01-09"),
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Gives the evidence kv, its dates moved to the day before the test's
 * clock: evidence is current (BR 4.2.1) whatever the test's time. */
static int
evidence(struct ot *t, int64_t agent, int64_t c, enum ra_org_step s,
    const struct ra_org_kv *kv, size_t n)
{
	struct ra_field_errs fe = {0};
	struct ra_err err = {0};
	struct ra_org_kv cp[16];
	time_t day = t->e->now - 86400;
	char date[16], datetime[24];
	struct tm tm;

	assert_true(n <= 16);
	gmtime_r(&day, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	snprintf(datetime, sizeof(datetime), "%s 10:30", date);
	for (size_t i = 0; i < n; i++) {
		cp[i] = kv[i];
		if (strcmp(kv[i].name, "date_checked") == 0)
			cp[i].value = date;
		else if (strcmp(kv[i].name, "called_at") == 0)
			cp[i].value = datetime;
	}
	return ra_org_evidence(t->e->ra, agent, c, s, cp, n, &fe, &err);
}

static void
ov_evidence(struct ot *t, int64_t agent, int64_t c)
{
	assert_int_equal(evidence(t, agent, c, RA_ORG_LEGAL_EXISTENCE,
	    ev_legal, N(ev_legal)), 0);
	assert_int_equal(evidence(t, agent, c, RA_ORG_ADDRESS, ev_address,
	    N(ev_address)), 0);
	assert_int_equal(evidence(t, agent, c, RA_ORG_DOMAIN_REGISTRANT,
	    ev_registrant, N(ev_registrant)), 0);
	assert_int_equal(evidence(t, agent, c, RA_ORG_TELEPHONE, ev_phone_ok,
	    N(ev_phone_ok)), 0);
}

static void
ev_evidence(struct ot *t, int64_t agent, int64_t c)
{
	ov_evidence(t, agent, c);
	assert_int_equal(evidence(t, agent, c, RA_ORG_EV_JURISDICTION,
	    ev_juris, N(ev_juris)), 0);
	assert_int_equal(evidence(t, agent, c, RA_ORG_EV_CATEGORY, ev_cat,
	    N(ev_cat)), 0);
	assert_int_equal(evidence(t, agent, c, RA_ORG_EV_REGISTRATION,
	    ev_regno, N(ev_regno)), 0);
}

/*
 * Every action but the allowed ones, by agent (and the customer's
 * answer by customer), is refused with RC_STATE in case c's current
 * state, and the state stays. allowed: bit per action below.
 */
enum {
	A_TAKE = 1, A_EVIDENCE = 2, A_INFO = 4, A_RESUME = 8, A_RESPOND = 16,
	A_REJECT = 32, A_APPROVE = 64
};

static void
refused_all_but(struct ot *t, int64_t agent, int64_t order_id, int64_t c,
    unsigned allowed)
{
	struct ra_err err = {0};
	enum ra_org_state before = state_of(t, c);
	long long audits = rt_count(t->e, "SELECT count(*) FROM audit_log");
	int issued = 0;

	if (!(allowed & A_TAKE))
		assert_int_equal(ra_org_take(t->e->ra, agent, c, &err),
		    RC_STATE);
	if (!(allowed & A_EVIDENCE))
		assert_int_equal(evidence(t, agent, c, RA_ORG_ADDRESS,
		    ev_address, N(ev_address)), RC_STATE);
	if (!(allowed & A_INFO))
		assert_int_equal(ra_org_request_info(t->e->ra, agent, c,
		    "Send the register extract.", &err), RC_STATE);
	if (!(allowed & A_RESUME))
		assert_int_equal(ra_org_resume(t->e->ra, agent, c, &err),
		    RC_STATE);
	if (!(allowed & A_RESPOND))
		assert_int_equal(ra_org_customer_respond(t->e->ra,
		    t->e->customer, t->customer_user, order_id, "Here it is.",
		    &err), RC_STATE);
	if (!(allowed & A_REJECT))
		assert_int_equal(ra_org_reject(t->e->ra, agent, c, "no",
		    &err), RC_STATE);
	if (!(allowed & A_APPROVE))
		assert_int_equal(ra_org_approve(t->e->ra, agent, c, &issued,
		    &err), RC_STATE);
	assert_int_equal(issued, 0);
	assert_int_equal(state_of(t, c), before);
	/* a refusal writes nothing, not even an audit entry */
	assert_int_equal(rt_count(t->e, "SELECT count(*) FROM audit_log"),
	    audits);
}

static char *
subject_field(struct rt_env *e, const char *serial, int nid)
{
	struct store_cert c = {0};
	const uint8_t *p;
	X509 *x;
	char buf[256] = "";

	assert_int_equal(store_cert_get(e->st, serial, &c), 0);
	p = c.der;
	x = d2i_X509(NULL, &p, (long)c.der_len);
	assert_non_null(x);
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), nid, buf,
	    sizeof(buf)) < 0)
		buf[0] = '\0';
	X509_free(x);
	store_cert_clear(&c);
	return xstrdup(buf);
}

static void
test_ov_lifecycle(void **state)
{
	struct ot *t = *state;
	struct rt_env *e = t->e;
	struct ra_err err = {0};
	struct ra_portal_order po = {0};
	struct ra_org_case oc = {0};
	struct store_slot ss = {0};
	struct store_org org = {0};
	int64_t id = order(t, "business", "shop.example.com", "Beispiel GmbH");
	int64_t c = case_of(t, id);
	int issued = 7;
	char *o, sql[200];

	assert_int_equal(state_of(t, c), RA_ORG_OPEN);
	/* a customer is not staff, whatever the state */
	assert_int_equal(ra_org_take(e->ra, t->customer_user, c, &err),
	    RC_UNAUTH);
	assert_int_equal(ra_org_approve(e->ra, t->customer_user, c, NULL,
	    &err), RC_UNAUTH);
	assert_int_equal(ra_org_take(e->ra, 0, c, &err), RC_UNAUTH);
	assert_int_equal(ra_org_take(e->ra, 99999, c, &err), RC_UNAUTH);
	assert_int_equal(ra_org_take(e->ra, t->agent_a, 99999, &err),
	    RC_NOTFOUND);
	/* open: only take */
	refused_all_but(t, t->agent_a, id, c, A_TAKE);
	assert_int_equal(ra_org_take(e->ra, t->agent_a, c, &err), 0);
	assert_int_equal(state_of(t, c), RA_ORG_IN_REVIEW);
	/* in review: another agent can do nothing at all */
	refused_all_but(t, t->agent_b, id, c, 0);
	/* the assigned agent cannot take, resume, answer for the customer,
	 * or approve without evidence */
	refused_all_but(t, t->agent_a, id, c, A_EVIDENCE | A_INFO |
	    A_REJECT);
	/* an EV step on an OV case */
	assert_int_equal(evidence(t, t->agent_a, c, RA_ORG_EV_CATEGORY,
	    ev_cat, N(ev_cat)), RC_STATE);
	/* evidence with a telephone call nobody answered: not enough */
	assert_int_equal(evidence(t, t->agent_a, c, RA_ORG_LEGAL_EXISTENCE,
	    ev_legal, N(ev_legal)), 0);
	assert_int_equal(evidence(t, t->agent_a, c, RA_ORG_ADDRESS,
	    ev_address, N(ev_address)), 0);
	assert_int_equal(evidence(t, t->agent_a, c, RA_ORG_DOMAIN_REGISTRANT,
	    ev_registrant, N(ev_registrant)), 0);
	assert_int_equal(evidence(t, t->agent_a, c, RA_ORG_TELEPHONE,
	    ev_phone_noanswer, N(ev_phone_noanswer)), 0);
	assert_int_equal(ra_org_approve(e->ra, t->agent_a, c, &issued, &err),
	    RC_STATE);
	/* the refusal names the steps as the checklist shows them */
	assert_string_equal(err.detail.msg, "Not every step of the checklist "
	    "is fulfilled yet: Telephone verification.");
	/* ask the customer; the contacts get a mail */
	assert_int_equal(ra_org_request_info(e->ra, t->agent_a, c, "", &err),
	    RC_INVAL);
	assert_int_equal(ra_org_request_info(e->ra, t->agent_a, c,
	    "Please send a current register extract.", &err), 0);
	assert_int_equal(state_of(t, c), RA_ORG_INFO_REQUESTED);
	assert_true(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'org.info' AND body LIKE '%register extract%'") >= 3);
	/* greeted by name, the order by its domain and its link */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'org.info' AND to_addr = 'tom@example.com' AND subject = "
	    "'Information needed for your SSL certificate for "
	    "shop.example.com' AND body LIKE 'Hello Tom Tech,%To verify your "
	    "organisation for your SSL certificate for shop.example.com, %' "
	    "AND body LIKE '%/portal/orders/%' AND body NOT LIKE '%order 1%'"),
	    1);
	/* each says to answer on the order's page, which it links */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'org.info' AND (body NOT LIKE '%What to do next: open "
	    "your order, where the question is shown with a form for your "
	    "answer:%/portal/orders/%' OR body LIKE '%overview%')"), 0);
	/* waiting for the customer: the agent may only resume or reject */
	refused_all_but(t, t->agent_a, id, c, A_RESUME | A_RESPOND |
	    A_REJECT);
	refused_all_but(t, t->agent_b, id, c, A_RESPOND);
	/* another customer's answer is "not found" */
	assert_int_equal(ra_org_customer_respond(e->ra, e->customer + 1,
	    t->other_customer_user, id, "hi", &err), RC_NOTFOUND);
	assert_int_equal(ra_org_customer_respond(e->ra, e->customer,
	    t->customer_user, id, "Sent by post.", &err), 0);
	assert_int_equal(ra_org_case_by_order(e->ra, e->customer, id, &oc),
	    0);
	assert_int_equal(oc.state, RA_ORG_IN_REVIEW);
	assert_string_equal(oc.info_response, "Sent by post.");
	assert_int_equal(oc.nchecks, 4);
	assert_int_equal(oc.step[RA_ORG_TELEPHONE].satisfied, 0);
	assert_true(oc.step[RA_ORG_LEGAL_EXISTENCE].required);
	assert_false(oc.step[RA_ORG_EV_CATEGORY].required);
	ra_org_case_clear(&oc);
	assert_int_equal(ra_org_case_by_order(e->ra, e->customer + 1, id,
	    &oc), RC_NOTFOUND);
	/* the call succeeds now; approve before the domain is validated:
	 * nothing is issued */
	assert_int_equal(evidence(t, t->agent_a, c, RA_ORG_TELEPHONE,
	    ev_phone_ok, N(ev_phone_ok)), 0);
	assert_int_equal(ra_portal_issue(e->ra, id, &err), RC_STATE);
	assert_int_equal(ra_org_approve(e->ra, t->agent_a, c, &issued, &err),
	    0);
	assert_int_equal(issued, 0);
	assert_int_equal(state_of(t, c), RA_ORG_APPROVED);
	assert_int_equal(ra_portal_order_get(e->ra, 0, id, &po), 0);
	assert_string_equal(po.status, "pending");
	assert_string_equal(po.cert_serial, "");
	ra_portal_order_clear(&po);
	/* approved is final */
	refused_all_but(t, t->agent_a, id, c, 0);
	assert_int_equal(ra_org_approve(e->ra, t->agent_a, c, &issued, &err),
	    RC_STATE);
	assert_string_equal(err.detail.msg, "A case in the state "
	    "\"Approved\" cannot be approved.");
	refused_all_but(t, t->agent_b, id, c, 0);
	/* the organisation comes from the evidence, not from the form */
	assert_int_equal(ra_org_case_get(e->ra, c, &oc), 0);
	assert_true(oc.org_id > 0);
	assert_int_equal(store_org_get(e->st, oc.org_id, &org), 0);
	assert_string_equal(org.legal_name, "Beispiel Handels GmbH");
	assert_string_equal(org.state, "Baden-Wuerttemberg");
	assert_int_equal(org.validated, 1);
	assert_int_equal(org.ev_validated, 0);
	/* validated as of its oldest evidence (the day before), not of the
	 * approval: the BR's 398 days run from when the data was obtained */
	assert_int_equal(org.validated_at, e->now - 86400 -
	    (e->now - 86400) % 86400);
	snprintf(sql, sizeof(sql), "user:%lld", (long long)t->agent_a);
	assert_string_equal(org.validated_by, sql);
	assert_non_null(strstr(org.evidence, "Deutsche Telekom directory"));
	store_org_clear(&org);
	ra_org_case_clear(&oc);
	/* the domain is validated by the operator: issued at once */
	assert_int_equal(ra_portal_validate(e->ra, id, "operator", "cli:t",
	    &issued, &err), 0);
	assert_int_equal(issued, 1);
	assert_int_equal(ra_portal_order_get(e->ra, 0, id, &po), 0);
	assert_string_equal(po.status, "valid");
	assert_string_equal(po.profile, "ov");
	o = subject_field(e, po.cert_serial, NID_organizationName);
	assert_string_equal(o, "Beispiel Handels GmbH");
	free(o);
	o = subject_field(e, po.cert_serial, NID_stateOrProvinceName);
	assert_string_equal(o, "Baden-Wuerttemberg");
	free(o);
	assert_int_equal(store_slot_get(e->st, po.slot_id, &ss), 0);
	assert_string_equal(ss.state, "issued");
	store_slot_clear(&ss);
	ra_portal_order_clear(&po);
	/* every decision is in the (intact) audit log, with who */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'org.case.open'"), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE "
	    "action = 'org.case.evidence' AND actor = 'backoffice:user/%lld'",
	    (long long)t->agent_a);
	assert_int_equal(rt_count(e, sql), 5);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'org.case.approve' AND details LIKE "
	    "'%Handelsregister Mannheim%'"), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action IN ('org.case.take', 'org.case.info_requested', "
	    "'org.case.customer_response')"), 3);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE "
	    "action = 'org.case.customer_response' AND actor = "
	    "'portal:user/%lld' AND details LIKE '%%Sent by post.%%'",
	    (long long)t->customer_user);
	assert_int_equal(rt_count(e, sql), 1);
	assert_int_equal(store_audit_verify(e->st, NULL, NULL), 0);
}

static void
test_ev_two_person(void **state)
{
	struct ot *t = *state;
	struct rt_env *e = t->e;
	struct ra_err err = {0};
	struct ra_portal_order po = {0};
	int64_t id = order(t, "premium", "bank.example.com", "Beispiel GmbH");
	int64_t c = case_of(t, id);
	int issued = 0;
	char *v, sql[200];

	assert_int_equal(ra_org_take(e->ra, t->agent_a, c, &err), 0);
	ov_evidence(t, t->agent_a, c);
	/* the EV steps are required */
	assert_int_equal(ra_org_approve(e->ra, t->agent_a, c, &issued, &err),
	    RC_STATE);
	assert_string_equal(err.detail.msg, "Not every step of the checklist "
	    "is fulfilled yet: EV: jurisdiction of incorporation, EV: "
	    "business category, EV: registration number.");
	assert_int_equal(evidence(t, t->agent_a, c, RA_ORG_EV_JURISDICTION,
	    ev_juris, N(ev_juris)), 0);
	assert_int_equal(evidence(t, t->agent_a, c, RA_ORG_EV_CATEGORY,
	    ev_cat, N(ev_cat)), 0);
	assert_int_equal(ra_org_approve(e->ra, t->agent_a, c, &issued, &err),
	    RC_STATE);
	assert_string_equal(err.detail.msg, "Not every step of the checklist "
	    "is fulfilled yet: EV: registration number.");
	assert_int_equal(evidence(t, t->agent_a, c, RA_ORG_EV_REGISTRATION,
	    ev_regno, N(ev_regno)), 0);
	/* the domain first this time: still nothing issued */
	assert_int_equal(ra_portal_validate(e->ra, id, "operator", "cli:t",
	    &issued, &err), 0);
	assert_int_equal(issued, 0);
	assert_int_equal(ra_org_approve(e->ra, t->agent_a, c, &issued, &err),
	    0);
	assert_int_equal(issued, 0);
	assert_int_equal(state_of(t, c), RA_ORG_AWAITING_SECOND);
	assert_int_equal(ra_portal_issue(e->ra, id, &err), RC_STATE);
	/* the first approver cannot approve again, nor do anything else */
	refused_all_but(t, t->agent_a, id, c, 0);
	assert_int_equal(ra_org_approve(e->ra, t->agent_a, c, &issued, &err),
	    RC_STATE);
	assert_non_null(strstr(err.detail.msg, "another agent"));
	/* the second agent may only approve or reject */
	refused_all_but(t, t->agent_b, id, c, A_APPROVE | A_REJECT);
	assert_int_equal(ra_org_approve(e->ra, t->agent_b, c, &issued, &err),
	    0);
	assert_int_equal(issued, 1);
	assert_int_equal(state_of(t, c), RA_ORG_APPROVED);
	refused_all_but(t, t->agent_b, id, c, 0);
	assert_int_equal(ra_portal_order_get(e->ra, 0, id, &po), 0);
	assert_string_equal(po.status, "valid");
	assert_string_equal(po.profile, "ev");
	v = subject_field(e, po.cert_serial, NID_organizationName);
	assert_string_equal(v, "Beispiel Handels GmbH");
	free(v);
	v = subject_field(e, po.cert_serial, NID_serialNumber);
	assert_string_equal(v, "HRB 12345");
	free(v);
	v = subject_field(e, po.cert_serial, NID_businessCategory);
	assert_string_equal(v, "Private Organization");
	free(v);
	ra_portal_order_clear(&po);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE "
	    "action = 'org.case.approve_second' AND actor = "
	    "'backoffice:user/%lld'", (long long)t->agent_b);
	assert_int_equal(rt_count(e, sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM organizations WHERE "
	    "ev_validated = 1 AND validated_by = 'user:%lld,user:%lld'",
	    (long long)t->agent_a, (long long)t->agent_b);
	assert_int_equal(rt_count(e, sql), 1);
}

static void
test_ev_one_person_when_off(void **state)
{
	struct ot *t = *state;
	struct ra_err err = {0};
	int64_t id, c;
	int issued = 0;

	ra_org_set_two_person_ev(0);
	id = order(t, "premium", "bank.example.com", "Beispiel GmbH");
	c = case_of(t, id);
	assert_int_equal(ra_org_take(t->e->ra, t->agent_a, c, &err), 0);
	ev_evidence(t, t->agent_a, c);
	assert_int_equal(ra_org_approve(t->e->ra, t->agent_a, c, &issued,
	    &err), 0);
	assert_int_equal(state_of(t, c), RA_ORG_APPROVED);
}

static void
test_reject_and_admin(void **state)
{
	struct ot *t = *state;
	struct rt_env *e = t->e;
	struct ra_err err = {0};
	struct ra_portal_order po = {0};
	struct store_slot ss = {0};
	int64_t id = order(t, "business", "shop.example.com", "Beispiel GmbH");
	int64_t c = case_of(t, id);
	int issued = 0;

	assert_int_equal(ra_org_take(e->ra, t->agent_a, c, &err), 0);
	/* an admin takes over a case in review; the former agent is out */
	assert_int_equal(ra_org_take(e->ra, t->admin, c, &err), 0);
	refused_all_but(t, t->agent_a, id, c, 0);
	assert_int_equal(ra_org_reject(e->ra, t->admin, c, "", &err),
	    RC_INVAL);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.rejected'"), 0);
	assert_int_equal(ra_org_reject(e->ra, t->admin, c,
	    "The company is not in the register.", &err), 0);
	assert_int_equal(state_of(t, c), RA_ORG_REJECTED);
	/* its three contacts are told why and what next, with its link,
	 * in that transaction, audited */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.rejected' AND subject = 'Your SSL certificate for "
	    "shop.example.com was not issued: organisation validation failed'"
	    " AND body LIKE '%rejected: our validation team could not verify "
	    "your organisation%' AND body LIKE '%    The company is not in the "
	    "register.%' AND body LIKE '%What you can do next: %set up the "
	    "certificate again%' AND body LIKE '%/portal/orders/%'"), 3);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.rejected' AND to_addr = 'cust@example.com' AND "
	    "body LIKE 'Hello Carl Customer,%'"), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'portal.order.rejected.mail' AND details LIKE "
	    "'%not in the register%' AND details LIKE '%ada@example.com%'"),
	    1);
	refused_all_but(t, t->admin, id, c, 0);
	refused_all_but(t, t->agent_b, id, c, 0);
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, id, &po), 0);
	assert_string_equal(po.state, "rejected");
	assert_non_null(strstr(po.error, "not in the register"));
	assert_int_equal(store_slot_get(e->st, po.slot_id, &ss), 0);
	assert_string_equal(ss.state, "unused");
	store_slot_clear(&ss);
	ra_portal_order_clear(&po);
	/* the domain validated later issues nothing */
	assert_int_equal(ra_portal_validate(e->ra, id, "operator", "cli:t",
	    &issued, &err), RC_STATE);
	assert_int_equal(issued, 0);
	/* an expired order's case cannot be taken */
	id = order(t, "business", "www.example.com", "Beispiel GmbH");
	c = case_of(t, id);
	set_now(e, RT_T0 + 8 * 86400);
	assert_int_equal(ra_org_take(e->ra, t->agent_a, c, &err), RC_STATE);
	assert_non_null(strstr(err.detail.msg, "expired"));
}

/* Staff reject the case of a renewal (the certificate before it is
 * valid and installed): the slot holds that certificate again, issued,
 * and takes another renewal; rejected after that certificate was
 * revoked: revoked. */
static void
test_reject_renewal_keeps_certificate(void **state)
{
	struct ot *t = *state;
	struct rt_env *e = t->e;
	struct ra_err err = {0};
	struct ra_portal_order po = {0};
	struct store_slot ss = {0};
	int64_t id = order(t, "business", "shop.example.com", "Beispiel GmbH");
	int64_t c = case_of(t, id), slot, first = id;
	char serial[41];
	int issued = 0;

	assert_int_equal(ra_org_take(e->ra, t->agent_a, c, &err), 0);
	ov_evidence(t, t->agent_a, c);
	assert_int_equal(ra_org_approve(e->ra, t->agent_a, c, &issued, &err),
	    0);
	assert_int_equal(ra_portal_validate(e->ra, id, "operator", "cli:t",
	    &issued, &err), 0);
	assert_int_equal(issued, 1);
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, id, &po), 0);
	slot = po.slot_id;
	memcpy(serial, po.cert_serial, sizeof(serial));
	ra_portal_order_clear(&po);
	/* the renewal, for another organisation name: a new case */
	id = order_on(t, slot, "business", "shop.example.com", "Andere GmbH");
	c = case_of(t, id);
	assert_int_equal(state_of(t, c), RA_ORG_OPEN);
	assert_int_equal(ra_org_take(e->ra, t->agent_a, c, &err), 0);
	assert_int_equal(ra_org_reject(e->ra, t->agent_a, c,
	    "Not in the register.", &err), 0);
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, id, &po), 0);
	assert_string_equal(po.state, "rejected");
	ra_portal_order_clear(&po);
	assert_int_equal(store_slot_get(e->st, slot, &ss), 0);
	assert_string_equal(ss.state, "issued");
	store_slot_clear(&ss);
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, first, &po),
	    0);
	assert_string_equal(po.state, "issued");
	ra_portal_order_clear(&po);
	/* the mail says the certificate the slot holds is not affected,
	 * and until when, as the pages show a day */
	{
		struct store_cert sc = {0};
		char sql[400], day[TIMEFMT_MAX];

		assert_int_equal(store_cert_get(e->st, serial, &sc), 0);
		assert_int_equal(timefmt_day(sc.not_after, day), 0);
		store_cert_clear(&sc);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM mail_outbox "
		    "WHERE kind = 'portal.rejected' AND ref = '%lld' AND body "
		    "LIKE '%%Your current certificate for shop.example.com is "
		    "not affected: it stays valid until %s.%%'", (long long)id,
		    day);
		assert_int_equal(rt_count(e, sql), 3);
	}
	/* another renewal; the certificate is revoked while it waits and
	 * the case is rejected: revoked, as its certificate is */
	id = order_on(t, slot, "business", "shop.example.com", "Dritte GmbH");
	c = case_of(t, id);
	assert_int_equal(ra_portal_revoke(e->ra, e->customer, serial, 4,
	    "portal:user/7", &err), 0);
	assert_int_equal(ra_org_take(e->ra, t->agent_a, c, &err), 0);
	assert_int_equal(ra_org_reject(e->ra, t->agent_a, c,
	    "Not in the register either.", &err), 0);
	assert_int_equal(store_slot_get(e->st, slot, &ss), 0);
	assert_string_equal(ss.state, "revoked");
	store_slot_clear(&ss);
	/* revoked: nothing to say about it */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.rejected' AND body LIKE '%either.%' AND body NOT "
	    "LIKE '%Your current certificate%'"), 3);
}

static void
test_reuse_period(void **state)
{
	struct ot *t = *state;
	struct rt_env *e = t->e;
	struct ra_err err = {0};
	struct ra_org_case oc = {0};
	static const struct ra_org_kv legal_same[] = {
		KV("source", "Handelsregister Mannheim"),
		KV("registration_number", "HRB 12345"),
		KV("date_checked", "2026-01-09"),
		KV("legal_name", "Beispiel GmbH"),
	};
	int64_t id = order(t, "business", "shop.example.com", "Beispiel GmbH");
	int64_t c = case_of(t, id), org_id;
	int issued = 0;

	assert_int_equal(ra_org_take(e->ra, t->agent_a, c, &err), 0);
	ov_evidence(t, t->agent_a, c);
	assert_int_equal(evidence(t, t->agent_a, c, RA_ORG_LEGAL_EXISTENCE,
	    legal_same, N(legal_same)), 0);
	assert_int_equal(ra_org_approve(e->ra, t->agent_a, c, &issued, &err),
	    0);
	assert_int_equal(ra_org_case_get(e->ra, c, &oc), 0);
	org_id = oc.org_id;
	ra_org_case_clear(&oc);
	/* a month later: the same organisation is reused at once (case
	 * insensitive name), issued when the domain is validated */
	set_now(e, RT_T0 + 30 * 86400);
	id = order(t, "business", "www.example.com", "BEISPIEL GMBH");
	assert_int_equal(ra_org_case_by_order(e->ra, e->customer, id, &oc), 0);
	assert_int_equal(oc.state, RA_ORG_APPROVED);
	assert_int_equal(oc.reused, 1);
	assert_int_equal(oc.org_id, org_id);
	ra_org_case_clear(&oc);
	refused_all_but(t, t->agent_a, id, case_of(t, id), 0);
	assert_int_equal(ra_portal_validate(e->ra, id, "operator", "cli:t",
	    &issued, &err), 0);
	assert_int_equal(issued, 1);
	/* another legal name, or EV (only OV-validated): a new case */
	id = order(t, "business", "a.example.com", "Andere GmbH");
	assert_int_equal(state_of(t, case_of(t, id)), RA_ORG_OPEN);
	id = order(t, "premium", "b.example.com", "Beispiel GmbH");
	c = case_of(t, id);
	assert_int_equal(state_of(t, c), RA_ORG_OPEN);
	/* staff reject that EV case (the company was struck off, say): the
	 * OV validation from before is not reused past it */
	assert_int_equal(ra_org_take(e->ra, t->agent_a, c, &err), 0);
	assert_int_equal(ra_org_reject(e->ra, t->agent_a, c,
	    "Struck off the register.", &err), 0);
	id = order(t, "business", "d.example.com", "beispiel gmbh");
	assert_int_equal(state_of(t, case_of(t, id)), RA_ORG_OPEN);
	/* after the reuse period (398 days for orders from 2026-03-15;
	 * 825 before): validated again */
	set_now(e, RT_T0 + 830 * 86400);
	id = order(t, "business", "c.example.com", "Beispiel GmbH");
	assert_int_equal(state_of(t, case_of(t, id)), RA_ORG_OPEN);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'org.case.reused'"), 1);
	/* no such order */
	assert_int_equal(ra_org_case_open(e->ra, 99999, &err), RC_NOTFOUND);
}

/*
 * A renewal is typed as the first order was, not as the register words
 * it: "Beispiel GmbH" approved as "Beispiel Handels GmbH" is reused for
 * "Beispiel GmbH" again, also with other case and spacing, and for the
 * registered name; not for another name or country. A staff rejection of
 * an order typed with one of its names stops it for all of them.
 */
static void
test_reuse_as_typed(void **state)
{
	struct ot *t = *state;
	struct rt_env *e = t->e;
	struct ra_err err = {0};
	struct ra_org_case oc = {0};
	int64_t id = order(t, "business", "shop.example.com",
	    "Beispiel GmbH");
	int64_t c = case_of(t, id), org_id, x = 0;
	int issued = 0;

	assert_int_equal(ra_org_take(e->ra, t->agent_a, c, &err), 0);
	ov_evidence(t, t->agent_a, c);	/* "Beispiel Handels GmbH" */
	assert_int_equal(ra_org_approve(e->ra, t->agent_a, c, &issued, &err),
	    0);
	assert_int_equal(ra_org_case_get(e->ra, c, &oc), 0);
	org_id = oc.org_id;
	ra_org_case_clear(&oc);
	set_now(e, RT_T0 + 3600);
	id = order(t, "business", "www.example.com", "  beispiel   GMBH ");
	assert_int_equal(ra_org_case_by_order(e->ra, e->customer, id, &oc), 0);
	assert_int_equal(oc.state, RA_ORG_APPROVED);
	assert_int_equal(oc.reused, 1);
	assert_int_equal(oc.org_id, org_id);
	ra_org_case_clear(&oc);
	assert_int_equal(state_of(t, case_of(t, order(t, "business",
	    "a.example.com", "Beispiel  Handels GmbH"))), RA_ORG_APPROVED);
	assert_int_equal(store_org_find_valid(e->st, e->customer,
	    "Beispiel GmbH", "de", 0, 0, &x), 0);
	assert_int_equal(x, org_id);
	assert_int_equal(store_org_find_valid(e->st, e->customer,
	    "Beispiel", "DE", 0, 0, &x), RC_NOTFOUND);
	assert_int_equal(store_org_find_valid(e->st, e->customer,
	    "Beispiel GmbH", "AT", 0, 0, &x), RC_NOTFOUND);
	assert_int_equal(state_of(t, case_of(t, order(t, "business",
	    "b.example.com", "Beispiel AG"))), RA_ORG_OPEN);
	/* staff reject an order typed as the first one was: no name of the
	 * organisation is reused past it */
	c = case_of(t, order(t, "premium", "c.example.com",
	    "BEISPIEL  gmbh"));
	assert_int_equal(ra_org_take(e->ra, t->agent_a, c, &err), 0);
	assert_int_equal(ra_org_reject(e->ra, t->agent_a, c,
	    "Struck off the register.", &err), 0);
	assert_int_equal(state_of(t, case_of(t, order(t, "business",
	    "d.example.com", "Beispiel GmbH"))), RA_ORG_OPEN);
	assert_int_equal(store_org_find_valid(e->st, e->customer,
	    "Beispiel Handels GmbH", "DE", 0, 0, &x), RC_NOTFOUND);
}

/*
 * The case of an order that expired undecided leaves the queue with it:
 * rejected with the reason, but nobody decided it (no decided_at), so it
 * is no finding against the organisation: a validated one is still
 * reused. A decided case stays as it was.
 */
static void
test_expired_order_closes_case(void **state)
{
	struct ot *t = *state;
	struct rt_env *e = t->e;
	struct ra_err err = {0};
	struct ra_org_case oc = {0};
	int64_t id = order(t, "business", "shop.example.com", "Beispiel GmbH");
	int64_t done = case_of(t, id), taken, open;
	int issued = 0;
	size_t ran = 0;
	static const struct ra_org_kv legal[] = {
		KV("source", "Handelsregister Mannheim"),
		KV("registration_number", "HRB 12345"),
		KV("date_checked", "2026-01-09"),
		KV("legal_name", "Beispiel GmbH"),
	};

	assert_int_equal(ra_org_take(e->ra, t->agent_a, done, &err), 0);
	ov_evidence(t, t->agent_a, done);
	assert_int_equal(evidence(t, t->agent_a, done, RA_ORG_LEGAL_EXISTENCE,
	    legal, N(legal)), 0);
	assert_int_equal(ra_org_approve(e->ra, t->agent_a, done, &issued,
	    &err), 0);
	/* EV for the same organisation: a case an agent works */
	taken = case_of(t, order(t, "premium", "b.example.com",
	    "Beispiel GmbH"));
	assert_int_equal(ra_org_take(e->ra, t->agent_a, taken, &err), 0);
	open = case_of(t, order(t, "business", "a.example.com",
	    "Andere GmbH"));
	set_now(e, RT_T0 + 6 * 86400);
	assert_int_equal(ra_dv_jobs_run(e->ra, 0, &ran), 0);
	assert_int_equal(state_of(t, open), RA_ORG_OPEN);
	set_now(e, RT_T0 + 8 * 86400);
	assert_int_equal(ra_dv_jobs_run(e->ra, 0, &ran), 0);
	assert_int_equal(ra_org_case_get(e->ra, taken, &oc), 0);
	assert_int_equal(oc.state, RA_ORG_REJECTED);
	assert_string_equal(oc.reject_reason, RA_ORG_EXPIRED_REASON);
	assert_int_equal(oc.decided_at, 0);
	assert_int_equal(oc.updated_at, RT_T0 + 8 * 86400);
	ra_org_case_clear(&oc);
	assert_int_equal(state_of(t, open), RA_ORG_REJECTED);
	assert_int_equal(state_of(t, done), RA_ORG_APPROVED);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'org.case.expired' AND actor = 'system'"), 2);
	/* each expired order's contacts are told, with what was missing,
	 * what next and its link; not a rejection */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.expired' AND subject = 'Your SSL certificate "
	    "order for a.example.com has expired' AND body LIKE '%within the "
	    "7 days an order waits for its validation, the domain was not "
	    "confirmed and your organisation''s details were not verified.%' "
	    "AND body LIKE '%set up the certificate "
	    "again%' AND body LIKE '%/portal/orders/%'"), 3);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.expired' AND body LIKE '%validation, the domain "
	    "was not confirmed.%'"), 3);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.expired'"), 9);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM mail_outbox WHERE "
	    "kind = 'portal.rejected'"), 0);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'portal.order.expired.mail'"), 3);
	/* staff cannot act on it any more */
	assert_int_equal(ra_org_reject(e->ra, t->agent_a, taken, "Late.",
	    &err), RC_STATE);
	/* not a finding: the validated organisation is reused */
	id = order(t, "business", "d.example.com", "beispiel gmbh");
	assert_int_equal(ra_org_case_by_order(e->ra, e->customer, id, &oc), 0);
	assert_int_equal(oc.state, RA_ORG_APPROVED);
	assert_int_equal(oc.reused, 1);
	ra_org_case_clear(&oc);
}

/* Validates every name of the order by the customer's DNS record (the
 * fake finds it), CAA looked at with each. */
static void
dns_validate(struct ot *t, int64_t id)
{
	struct ra_dv_state *v = NULL;
	struct ra_err err = {0};
	size_t n = 0;

	assert_int_equal(ra_dv_list(t->e->ra, t->e->customer, id, &v, &n), 0);
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		int valid = 0;

		assert_int_equal(ra_dv_choose(t->e->ra, t->e->customer, id,
		    v[i].authz_id, RA_DV_DNS, NULL, "portal:user/1", &err), 0);
		assert_int_equal(ra_dv_check_now(t->e->ra, t->e->customer, id,
		    v[i].authz_id, NULL, &valid, &err), 0);
		assert_true(valid);
	}
	free(v);
}

/* The OV case of the order taken, evidenced and approved by agent A;
 * returns *issued of the approval (err: its err). */
static int
approve_ov(struct ot *t, int64_t id, struct ra_err *err)
{
	int64_t c = case_of(t, id);
	int issued = 7;

	assert_int_equal(ra_org_take(t->e->ra, t->agent_a, c, err), 0);
	ov_evidence(t, t->agent_a, c);
	assert_int_equal(ra_org_approve(t->e->ra, t->agent_a, c, &issued,
	    err), 0);
	assert_int_equal(state_of(t, c), RA_ORG_APPROVED);
	return issued;
}

#define order_status(t, id, buf, n) rt_order_status((t)->e, id, buf, n)

/* IMPLEMENTATION-OF BR 3.2.2.8: the domain was validated (CAA permitted),
 * then its owner forbade us in CAA; the agents approve 9 hours later: CAA
 * is looked at again and nothing is issued, the customer and the agent
 * told why; once CAA permits, the DV worker issues. */
static void
test_caa_old_at_approval(void **state)
{
	struct ot *t = *state;
	struct rt_env *e = t->e;
	struct ra_err err = {0};
	struct ra_dv_state *v = NULL;
	size_t n = 0, ran = 0;
	int64_t id = order(t, "business", "shop.example.com", "Beispiel GmbH");
	unsigned looks;
	char st[16];

	dns_validate(t, id);
	looks = e->fake.caa_calls;
	assert_int_equal(looks, 1);
	set_now(e, RT_T0 + 9 * 3600);
	e->fake.caa_forbid = "shop.example.com";
	assert_int_equal(approve_ov(t, id, &err), 0);
	assert_int_equal(e->fake.caa_calls, looks + 1);
	assert_int_equal(err.problem, RA_PROB_CAA);
	assert_non_null(strstr(err.detail.msg, "CAA records of "
	    "shop.example.com"));
	assert_string_equal(order_status(t, id, st, sizeof(st)), "pending");
	assert_int_equal(rt_count(e, "SELECT count(*) FROM certificates WHERE "
	    "profile = 'ov'"), 0);
	/* the reason on the name, in the attempts and the audit log */
	assert_int_equal(ra_dv_list(e->ra, e->customer, id, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].status, "valid");
	assert_string_equal(v[0].problem, "caa_forbidden");
	assert_non_null(strstr(v[0].message, "CAA records"));
	free(v);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM dv_attempts WHERE "
	    "method = 'caa' AND outcome = 'invalid' AND problem = "
	    "'caa_forbidden'"), 1);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'validation.failure' AND details LIKE "
	    "'%caa_forbidden%'"), 1);
	/* nor by a direct call */
	assert_int_equal(ra_portal_issue(e->ra, id, &err), RC_STATE);
	assert_int_equal(err.problem, RA_PROB_CAA);
	assert_int_equal(e->fake.caa_calls, looks + 2);
	/* CAA permits us again: the worker looks and issues */
	e->fake.caa_forbid = NULL;
	set_now(e, RT_T0 + 10 * 3600);
	assert_int_equal(ra_dv_jobs_run(e->ra, 16, &ran), 0);
	assert_int_equal(ran, 1);
	assert_int_equal(e->fake.caa_calls, looks + 3);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "valid");
	assert_int_equal(ra_dv_list(e->ra, e->customer, id, &v, &n), 0);
	assert_string_equal(v[0].problem, "");
	free(v);
}

/* IMPLEMENTATION-OF BR 3.2.2.8: approved 7 hours after the validation's
 * CAA look: issued on that look, none again. */
static void
test_caa_fresh_at_approval(void **state)
{
	struct ot *t = *state;
	struct rt_env *e = t->e;
	struct ra_err err = {0};
	int64_t id = order(t, "business", "shop.example.com", "Beispiel GmbH");
	unsigned looks;
	char st[16];

	dns_validate(t, id);
	looks = e->fake.caa_calls;
	set_now(e, RT_T0 + 7 * 3600);
	assert_int_equal(approve_ov(t, id, &err), 1);
	assert_int_equal(e->fake.caa_calls, looks);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "valid");
}

/* IMPLEMENTATION-OF BR 4.2.1: a domain validation reused for an OV order
 * the day before the reuse period falls from 200 to 100 days
 * (2027-03-15), 149 days old then; approved the day after, when it is 151
 * days old: not issued, and no CAA looked at for it. */
static void
test_validation_older_than_reuse_period(void **state)
{
	struct ot *t = *state;
	struct rt_env *e = t->e;
	struct ra_err err = {0};
	struct ra_dv_state *v = NULL;
	const time_t step = 1805068800;	/* 2027-03-15 */
	size_t n = 0;
	int64_t id;
	unsigned looks;
	char st[16];

	set_now(e, step - 150 * 86400);
	id = order(t, "business", "shop.example.com", "Beispiel GmbH");
	dns_validate(t, id);
	assert_int_equal(approve_ov(t, id, &err), 1);
	/* another organisation (a new case), the same domain: reused */
	set_now(e, step - 86400);
	id = order(t, "business", "shop.example.com", "Andere GmbH");
	assert_int_equal(ra_dv_list(e->ra, e->customer, id, &v, &n), 0);
	assert_int_equal(v[0].method, RA_DV_REUSED);
	assert_string_equal(v[0].status, "valid");
	assert_int_equal(v[0].validated_at, step - 150 * 86400);
	assert_true(v[0].expires_at > step + 86400);
	free(v);
	set_now(e, step + 86400);
	assert_int_equal(ca_cal_dv_reuse_days(step + 86400), 100);
	looks = e->fake.caa_calls;
	assert_int_equal(approve_ov(t, id, &err), 0);
	assert_string_equal(order_status(t, id, st, sizeof(st)), "pending");
	assert_int_equal(ra_portal_issue(e->ra, id, &err), RC_STATE);
	assert_non_null(strstr(err.detail.msg, "shop.example.com"));
	assert_int_equal(e->fake.caa_calls, looks);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM certificates WHERE "
	    "profile = 'ov'"), 1);
}

static void
test_evidence_bad_input(void **state)
{
	struct ot *t = *state;
	struct rt_env *e = t->e;
	struct ra_field_errs fe = {0};
	struct ra_err err = {0};
	int64_t id = order(t, "business", "shop.example.com", "Beispiel GmbH");
	int64_t c = case_of(t, id);
	char huge[600], ctl[] = "Handels\x01register";
	/* the clock: RT_T0, 2026-01-10, when organisation data may be used
	 * for 825 days (ca_cal_org_reuse_days): 2023-06-01 is older */
	static const char *const bad_dates[] = {"2026-02-30", "2026-13-01",
		"26-01-01", "2026-01-01x", "", "2027-06-01", "0000-01-01",
		"2026-1-01", "2026-01-0a", "2023-06-01", "2001-01-01"};
	long long before;

	memset(huge, 'A', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(ra_org_take(e->ra, t->agent_a, c, &err), 0);
	before = rt_count(e, "SELECT count(*) FROM org_case_checks");
	/* missing fields, one message each */
	assert_int_equal(ra_org_evidence(e->ra, t->agent_a, c,
	    RA_ORG_LEGAL_EXISTENCE, NULL, 0, &fe, &err), RC_INVAL);
	assert_int_equal(fe.n, 4);
	/* bad dates */
	for (size_t i = 0; i < N(bad_dates); i++) {
		struct ra_org_kv kv[] = {KV("source", "HR"),
			KV("registration_number", "HRB 1"),
			KV("date_checked", bad_dates[i]),
			KV("legal_name", "X GmbH")};

		assert_int_equal(ra_org_evidence(e->ra, t->agent_a, c,
		    RA_ORG_LEGAL_EXISTENCE, kv, N(kv), &fe, &err), RC_INVAL);
		assert_string_equal(fe.e[0].field, "date_checked");
	}
	{
		/* hostile and oversized text, unknown and repeated fields,
		 * a legal name over 64, a lowercase country, a bad choice */
		struct ra_org_kv k1[] = {KV("source", huge),
			KV("registration_number", "1"),
			KV("date_checked", "2026-01-01"),
			KV("legal_name", "X")};
		struct ra_org_kv k2[] = {KV("source", ctl),
			KV("registration_number", "1"),
			KV("date_checked", "2026-01-01"),
			KV("legal_name", "X")};
		struct ra_org_kv k3[] = {KV("source", "HR"),
			KV("registration_number", "1"),
			KV("date_checked", "2026-01-01"),
			KV("legal_name", "X"), KV("admin", "1")};
		struct ra_org_kv k4[] = {KV("source", "HR"),
			KV("source", "HR2"), KV("registration_number", "1"),
			KV("date_checked", "2026-01-01"),
			KV("legal_name", "X")};
		struct ra_org_kv k5[] = {KV("source", "HR"),
			KV("registration_number", "1"),
			KV("date_checked", "2026-01-01"),
			KV("legal_name", huge + 535)};	/* 64 bytes: fine */
		struct ra_org_kv k6[] = {KV("source", "HR"),
			KV("registration_number", "1"),
			KV("date_checked", "2026-01-01"),
			KV("legal_name", huge + 534)};	/* 65 */
		struct ra_org_kv k7[] = {KV("source", "x"),
			KV("country", "de"), KV("locality", "K")};
		struct ra_org_kv k8[] = {KV("source", "x"),
			KV("country", "DE")};	/* neither city nor state */
		struct ra_org_kv k9[] = {KV("source", "r"),
			KV("registrant", "X"), KV("matches", "maybe"),
			KV("date_checked", "2026-01-01")};
		struct ra_org_kv k10[] = {KV("number", "call me"),
			KV("number_source", "s"), KV("person", "p"),
			KV("called_at", "2026-01-01 25:00"),
			KV("outcome", "confirmed")};
		struct ra_org_kv k11[] = {KV(NULL, "x")};

		assert_int_equal(ra_org_evidence(e->ra, t->agent_a, c,
		    RA_ORG_LEGAL_EXISTENCE, k1, N(k1), &fe, &err), RC_INVAL);
		assert_string_equal(fe.e[0].field, "source");
		assert_int_equal(ra_org_evidence(e->ra, t->agent_a, c,
		    RA_ORG_LEGAL_EXISTENCE, k2, N(k2), &fe, &err), RC_INVAL);
		assert_int_equal(ra_org_evidence(e->ra, t->agent_a, c,
		    RA_ORG_LEGAL_EXISTENCE, k3, N(k3), &fe, &err), RC_INVAL);
		assert_string_equal(fe.e[0].field, "admin");
		assert_int_equal(ra_org_evidence(e->ra, t->agent_a, c,
		    RA_ORG_LEGAL_EXISTENCE, k4, N(k4), &fe, &err), RC_INVAL);
		assert_int_equal(ra_org_evidence(e->ra, t->agent_a, c,
		    RA_ORG_LEGAL_EXISTENCE, k6, N(k6), &fe, &err), RC_INVAL);
		assert_int_equal(ra_org_evidence(e->ra, t->agent_a, c,
		    RA_ORG_ADDRESS, k7, N(k7), &fe, &err), RC_INVAL);
		assert_int_equal(ra_org_evidence(e->ra, t->agent_a, c,
		    RA_ORG_ADDRESS, k8, N(k8), &fe, &err), RC_INVAL);
		assert_string_equal(fe.e[0].field, "locality");
		assert_int_equal(ra_org_evidence(e->ra, t->agent_a, c,
		    RA_ORG_DOMAIN_REGISTRANT, k9, N(k9), &fe, &err), RC_INVAL);
		assert_int_equal(ra_org_evidence(e->ra, t->agent_a, c,
		    RA_ORG_TELEPHONE, k10, N(k10), &fe, &err), RC_INVAL);
		assert_int_equal(fe.n, 2);
		assert_int_equal(ra_org_evidence(e->ra, t->agent_a, c,
		    RA_ORG_TELEPHONE, k11, N(k11), &fe, &err), RC_INVAL);
		assert_int_equal(ra_org_evidence(e->ra, t->agent_a, c,
		    (enum ra_org_step)RA_ORG_STEP_MAX, k5, N(k5), &fe, &err),
		    RC_INVAL);
		assert_int_equal(rt_count(e, "SELECT count(*) FROM "
		    "org_case_checks"), before);
		assert_int_equal(ra_org_evidence(e->ra, t->agent_a, c,
		    RA_ORG_LEGAL_EXISTENCE, k5, N(k5), &fe, &err), 0);
	}
	assert_int_equal(rt_count(e, "SELECT count(*) FROM org_case_checks"),
	    before + 1);
	/* names and parsers */
	assert_int_equal(ra_org_step_parse("telephone"), RA_ORG_TELEPHONE);
	assert_int_equal(ra_org_step_parse("Telephone"), -1);
	assert_int_equal(ra_org_step_parse(NULL), -1);
	assert_int_equal(ra_org_state_parse("awaiting_second_approval"),
	    RA_ORG_AWAITING_SECOND);
	assert_int_equal(ra_org_state_parse("approve"), -1);
	assert_null(ra_org_step_name((enum ra_org_step)99));
	assert_string_equal(ra_org_state_name((enum ra_org_state)99),
	    "rejected");
	{
		int64_t *ids = NULL;
		size_t n = 0;

		assert_int_equal(ra_org_case_ids(e->ra, "bogus", NULL, &ids,
		    &n), RC_INVAL);
		assert_int_equal(ra_org_case_ids(e->ra, NULL, "dv", &ids, &n),
		    RC_INVAL);
		assert_int_equal(ra_org_case_ids(e->ra, "in_review", "ov",
		    &ids, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(ids[0], c);
		free(ids);
		assert_int_equal(ra_org_case_ids(e->ra, "open", NULL, &ids,
		    &n), 0);
		assert_int_equal(n, 0);
		free(ids);
	}
	/* the customer's answer: bounds */
	assert_int_equal(ra_org_customer_respond(e->ra, e->customer, 1, id,
	    "", &err), RC_INVAL);
	assert_int_equal(ra_org_customer_respond(e->ra, e->customer, 1, id,
	    "\x1b[2J", &err), RC_INVAL);
}

/* The store side (store_sqlite_org.c) refuses bad arguments before any
 * SQL, and its conditional update tells "moved by someone else" from "no
 * such case". */
static void
test_store_bad_input(void **state)
{
	struct ot *t = *state;
	struct rt_env *e = t->e;
	int64_t id = order(t, "business", "shop.example.com", "Beispiel GmbH");
	int64_t c = case_of(t, id), x = 0, *ids = NULL;
	struct store_org_case sc = {0}, good;
	struct store_org_check k;
	size_t n = 0;
	char huge[5000];

	memset(huge, 'x', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memset(&good, 0, sizeof(good));
	good.order_id = id;
	good.customer_id = e->customer;
	good.profile = "ov";
	good.product = "business";
	good.state = "open";
	good.approvals_required = 1;
	/* one case per order */
	assert_int_equal(store_org_case_add(e->st, &good, &x), RC_EXISTS);
	sc = good;
	sc.state = "approve";
	assert_int_equal(store_org_case_add(e->st, &sc, &x), RC_INVAL);
	sc = good;
	sc.profile = "dv";
	assert_int_equal(store_org_case_add(e->st, &sc, &x), RC_INVAL);
	sc = good;
	sc.approvals_required = 3;
	assert_int_equal(store_org_case_add(e->st, &sc, &x), RC_INVAL);
	sc = good;
	sc.first_approver = sc.second_approver = t->agent_a;
	assert_int_equal(store_org_case_add(e->st, &sc, &x), RC_INVAL);
	sc = good;
	sc.state = "approved";
	assert_int_equal(store_org_case_add(e->st, &sc, &x), RC_INVAL);
	sc = good;
	sc.info_request = "a\x01b";
	assert_int_equal(store_org_case_add(e->st, &sc, &x), RC_INVAL);
	sc = good;
	sc.reject_reason = huge;
	assert_int_equal(store_org_case_add(e->st, &sc, &x), RC_INVAL);
	sc = good;
	sc.product = NULL;
	assert_int_equal(store_org_case_add(e->st, &sc, &x), RC_INVAL);
	sc = good;
	sc.order_id = 99999;
	assert_int_equal(store_org_case_add(e->st, &sc, &x), RC_NOTFOUND);
	sc = good;
	sc.order_id = -1;
	assert_int_equal(store_org_case_add(e->st, &sc, &x), RC_INVAL);
	assert_int_equal(store_org_case_add(e->st, NULL, &x), RC_INVAL);
	/* conditional moves */
	assert_int_equal(store_org_case_get(e->st, c, &sc), 0);
	free(sc.state);
	sc.state = xstrdup("in_review");
	sc.assigned_to = t->agent_a;
	assert_int_equal(store_org_case_set(e->st, &sc, "in_review", 0),
	    RC_STATE);
	assert_int_equal(store_org_case_set(e->st, &sc, "bogus", 0), RC_INVAL);
	assert_int_equal(store_org_case_set(e->st, &sc, NULL, 0), RC_INVAL);
	sc.assigned_to = 424242;	/* no such user */
	assert_int_equal(store_org_case_set(e->st, &sc, "open", 0),
	    RC_NOTFOUND);
	sc.assigned_to = t->agent_a;
	sc.id = 99999;
	assert_int_equal(store_org_case_set(e->st, &sc, "open", 0),
	    RC_NOTFOUND);
	store_org_case_clear(&sc);
	assert_int_equal(store_org_case_get(e->st, 99999, &sc), RC_NOTFOUND);
	assert_int_equal(store_org_case_by_order(e->st, 99999, &sc),
	    RC_NOTFOUND);
	/* evidence rows */
	memset(&k, 0, sizeof(k));
	k.case_id = c;
	k.step = "telephone";
	k.evidence = "{}";
	k.agent_id = t->agent_a;
	assert_int_equal(store_org_check_add(e->st, &k, &x), 0);
	k.step = "phone";
	assert_int_equal(store_org_check_add(e->st, &k, &x), RC_INVAL);
	k.step = "telephone";
	k.evidence = "";
	assert_int_equal(store_org_check_add(e->st, &k, &x), RC_INVAL);
	k.evidence = "{}";
	k.case_id = 99999;
	assert_int_equal(store_org_check_add(e->st, &k, &x), RC_NOTFOUND);
	k.case_id = c;
	k.agent_id = 0;
	assert_int_equal(store_org_check_add(e->st, &k, &x), RC_INVAL);
	/* lists and lookups */
	assert_int_equal(store_org_case_ids(e->st, "nope", NULL, 0, &ids, &n),
	    RC_INVAL);
	assert_int_equal(store_org_case_ids(e->st, NULL, "xx", 0, &ids, &n),
	    RC_INVAL);
	assert_int_equal(store_org_case_ids(e->st, NULL, NULL, -1, &ids, &n),
	    RC_INVAL);
	assert_int_equal(store_org_case_ids(e->st, NULL, NULL,
	    e->customer + 1, &ids, &n), 0);
	assert_int_equal(n, 0);
	free(ids);
	assert_int_equal(store_org_find_valid(e->st, e->customer,
	    "Beispiel GmbH", "DE", 0, 0, &x), RC_NOTFOUND);
	assert_int_equal(store_org_find_valid(e->st, e->customer, "", "DE", 0,
	    0, &x), RC_INVAL);
	assert_int_equal(store_org_find_valid(e->st, e->customer, "B",
	    "DEU", 0, 0, &x), RC_INVAL);
	assert_int_equal(store_order_set_org(e->st, 99999, 0), RC_NOTFOUND);
	assert_int_equal(store_order_set_org(e->st, id, 99999), RC_NOTFOUND);
	assert_int_equal(store_order_set_org(e->st, id, -2), RC_INVAL);
}

/* ---- documents with the answer (orgdoc.c, 0026) ------------------------ */

static const uint8_t pdf[] = "%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n";
static const uint8_t png[] = "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\1\0\0\0\1"
	"\x08\x06\0\0\0\x1f\x15\xc4\x89";
static const uint8_t jpg[] = "\xff\xd8\xff\xe0\0\x10JFIF\0\1\1\0\0\1\0\1\0\0"
	"\xff\xd9";
static const uint8_t html[] = "<!DOCTYPE html><script>alert(1)</script>";

static void
test_doc_sniff(void **state)
{
	(void)state;
	assert_string_equal(ra_org_doc_sniff(pdf, sizeof(pdf) - 1),
	    "application/pdf");
	assert_string_equal(ra_org_doc_sniff(png, sizeof(png) - 1),
	    "image/png");
	assert_string_equal(ra_org_doc_sniff(jpg, sizeof(jpg) - 1),
	    "image/jpeg");
	assert_null(ra_org_doc_sniff(html, sizeof(html) - 1));
	assert_null(ra_org_doc_sniff(NULL, 0));
	assert_null(ra_org_doc_sniff((const uint8_t *)"", 0));
	/* a signature cut short, or not at the start */
	assert_null(ra_org_doc_sniff(pdf, 5));
	assert_null(ra_org_doc_sniff(png, 8));
	assert_null(ra_org_doc_sniff(jpg, 3));
	assert_null(ra_org_doc_sniff((const uint8_t *)" %PDF-1.7 x", 11));
	assert_null(ra_org_doc_sniff((const uint8_t *)"%PDF-x.y....", 12));
	/* the PNG signature without its IHDR chunk */
	assert_null(ra_org_doc_sniff((const uint8_t *)"\x89PNG\r\n\x1a\n"
	    "\0\0\0\x0dtEXt\0\0\0\1\0\0\0\1\x08\x06\0\0\0\x1f\x15\xc4\x89",
	    33));
	/* FF D8 FF FF is no marker */
	assert_null(ra_org_doc_sniff((const uint8_t *)"\xff\xd8\xff\xff", 4));
}

static void
test_doc_label(void **state)
{
	char out[STORE_ORG_DOC_LABEL_MAX + 1], small[12], name[600];

	(void)state;
	ra_org_doc_label("Handelsregister.pdf", out, sizeof(out));
	assert_string_equal(out, "Handelsregister.pdf");
	/* no path, neither / nor \ */
	ra_org_doc_label("../../etc/passwd", out, sizeof(out));
	assert_string_equal(out, "passwd");
	ra_org_doc_label("C:\\Users\\me\\Auszug 2026.pdf", out, sizeof(out));
	assert_string_equal(out, "Auszug 2026.pdf");
	ra_org_doc_label("..", out, sizeof(out));
	assert_string_equal(out, "document");
	ra_org_doc_label("dir/", out, sizeof(out));
	assert_string_equal(out, "document");
	ra_org_doc_label(NULL, out, sizeof(out));
	assert_string_equal(out, "document");
	ra_org_doc_label(".hidden", out, sizeof(out));
	assert_string_equal(out, "hidden");
	/* CR LF, TAB, DEL and C1 controls go; white space runs are one */
	ra_org_doc_label("a\r\nSet-Cookie: x\t\x7f  b\xc2\x85.pdf", out,
	    sizeof(out));
	assert_string_equal(out, "aSet-Cookie: x b.pdf");
	/* markup stays text (escaped where shown) */
	ra_org_doc_label("<img src=x onerror=alert(1)>.png", out,
	    sizeof(out));
	assert_string_equal(out, "<img src=x onerror=alert(1)>.png");
	/* not UTF-8: U+FFFD per byte; overlongs and surrogates too */
	ra_org_doc_label("a\xff\xc0\xaf" "b", out, sizeof(out));
	assert_string_equal(out, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b");
	ra_org_doc_label("\xed\xa0\x80", out, sizeof(out));
	assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	/* a right-to-left override would show "fdp.exe" as "exe.pdf" */
	ra_org_doc_label("inv\xe2\x80\xaeoice.pdf", out, sizeof(out));
	assert_string_equal(out, "invoice.pdf");
	ra_org_doc_label("\xc3\xa4rger \xe2\x82\xac.pdf", out, sizeof(out));
	assert_string_equal(out, "\xc3\xa4rger \xe2\x82\xac.pdf");
	/* bounded, cut on a character boundary */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ra_org_doc_label(name, out, sizeof(out));
	assert_int_equal(strlen(out), STORE_ORG_DOC_LABEL_MAX);
	ra_org_doc_label("abcdefghij\xc3\xa4", small, sizeof(small));
	assert_string_equal(small, "abcdefghij");
}

static void
test_doc_filename(void **state)
{
	char out[96];

	(void)state;
	ra_org_doc_filename("Auszug 2026.pdf", "application/pdf", out,
	    sizeof(out));
	assert_string_equal(out, "Auszug_2026.pdf");
	/* the type decides the extension, not the label */
	ra_org_doc_filename("bill.png", "application/pdf", out, sizeof(out));
	assert_string_equal(out, "bill.pdf");
	ra_org_doc_filename("photo", "image/jpeg", out, sizeof(out));
	assert_string_equal(out, "photo.jpg");
	ra_org_doc_filename("\"; x=\"y\r\n.png", "image/png", out,
	    sizeof(out));
	assert_string_equal(out, "___x__y__.png");
	ra_org_doc_filename("\xc3\xa4.pdf", "application/pdf", out,
	    sizeof(out));
	assert_string_equal(out, "_.pdf");
	ra_org_doc_filename("", "image/png", out, sizeof(out));
	assert_string_equal(out, "document.png");
}

struct docs_seen {
	int n;
	char type[4][24];
	size_t size[4];
	uint8_t sha[4][32];
};

static int
doc_cb(const struct store_org_doc *d, void *arg)
{
	struct docs_seen *s = arg;

	if (s->n < 4) {
		snprintf(s->type[s->n], sizeof(s->type[0]), "%s",
		    d->content_type);
		s->size[s->n] = d->size;
		memcpy(s->sha[s->n], d->sha256, 32);
		assert_null(d->data);	/* lists carry no bytes */
	}
	s->n++;
	return 0;
}

static int
doc_bytes_cb(const struct store_org_doc *d, void *arg)
{
	assert_non_null(d->data);
	assert_int_equal(d->size, sizeof(png) - 1);
	assert_memory_equal(d->data, png, d->size);
	*(int *)arg = 1;
	return 0;
}

static void
test_answer_with_documents(void **state)
{
	struct ot *t = *state;
	struct rt_env *e = t->e;
	struct ra_err err = {0};
	struct ra_org_case oc = {0};
	struct docs_seen seen;
	int64_t id = order(t, "business", "docs.example.com", "Doc GmbH");
	int64_t c = case_of(t, id), first = 0;
	struct ra_org_upload good[3] = {
		{"../Auszug.pdf", pdf, sizeof(pdf) - 1},
		{"logo.png", png, sizeof(png) - 1},
		{NULL, jpg, sizeof(jpg) - 1},
	};
	struct ra_org_upload bad[2] = {
		{"ok.pdf", pdf, sizeof(pdf) - 1},
		{"fake.png", html, sizeof(html) - 1},
	};
	struct ra_org_upload empty = {"e.pdf", pdf, 0};
	int got = 0;

	assert_int_equal(ra_org_take(e->ra, t->agent_a, c, &err), 0);
	/* not asked yet: nothing can be sent */
	assert_int_equal(ra_org_customer_respond_docs(e->ra, e->customer,
	    t->customer_user, id, "here", good, 3, &err), RC_STATE);
	assert_int_equal(ra_org_request_info(e->ra, t->agent_a, c,
	    "Please send a register extract.", &err), 0);
	/* an HTML page among them: refused whole, nothing stored */
	assert_int_equal(ra_org_customer_respond_docs(e->ra, e->customer,
	    t->customer_user, id, "here", bad, 2, &err), RC_INVAL);
	assert_string_equal(err.detail.msg, "Nothing was sent: the file "
	    "\"fake.png\" is not a PDF, PNG or JPEG file. Only those can be "
	    "sent.");
	assert_int_equal(ra_org_customer_respond_docs(e->ra, e->customer,
	    t->customer_user, id, "here", &empty, 1, &err), RC_INVAL);
	assert_string_equal(err.detail.msg, "Nothing was sent: the file "
	    "\"e.pdf\" is empty.");
	assert_int_equal(ra_org_customer_respond_docs(e->ra, e->customer,
	    t->customer_user, id, "", good, 3, &err), RC_INVAL);
	/* another customer's: not found, nothing stored */
	assert_int_equal(ra_org_customer_respond_docs(e->ra, e->customer + 1,
	    t->other_customer_user, id, "mine", good, 3, &err), RC_NOTFOUND);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM "
	    "org_case_documents"), 0);
	assert_int_equal(state_of(t, c), RA_ORG_INFO_REQUESTED);
	/* the answer and its documents, in one go */
	assert_int_equal(ra_org_customer_respond_docs(e->ra, e->customer,
	    t->customer_user, id, "Extract and logo attached.", good, 3,
	    &err), 0);
	assert_int_equal(state_of(t, c), RA_ORG_IN_REVIEW);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_org_doc_list(e->st, c, doc_cb, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.type[0], "application/pdf");
	assert_string_equal(seen.type[1], "image/png");
	assert_string_equal(seen.type[2], "image/jpeg");
	assert_int_equal(seen.size[1], sizeof(png) - 1);
	{
		uint8_t h[32];
		unsigned int hl = 0;

		assert_int_equal(EVP_Digest(pdf, sizeof(pdf) - 1, h, &hl,
		    EVP_sha256(), NULL), 1);
		assert_memory_equal(seen.sha[0], h, 32);
	}
	assert_int_equal(rt_count(e, "SELECT count(*) FROM "
	    "org_case_documents WHERE label = 'Auszug.pdf' OR label = "
	    "'document'"), 2);
	/* each in the audit log with its SHA-256; the answer counts them */
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'org.case.document' AND details LIKE "
	    "'%\"sha256\":\"%'"), 3);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'org.case.customer_response' AND details LIKE "
	    "'%\"documents\":3%'"), 1);
	/* one with its bytes, of its own case only */
	first = rt_count(e, "SELECT min(id) FROM org_case_documents");
	assert_int_equal(store_org_doc_get(e->st, c, first + 1, doc_bytes_cb,
	    &got), 0);
	assert_int_equal(got, 1);
	assert_int_equal(store_org_doc_get(e->st, c + 1, first + 1,
	    doc_bytes_cb, &got), RC_NOTFOUND);
	assert_int_equal(store_org_doc_get(e->st, c, first + 99,
	    doc_bytes_cb, &got), RC_NOTFOUND);
	/* answered: no second answer until asked again */
	assert_int_equal(ra_org_customer_respond_docs(e->ra, e->customer,
	    t->customer_user, id, "more", good, 1, &err), RC_STATE);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM "
	    "org_case_documents"), 3);
	ra_org_case_clear(&oc);
}

/*
 * The customer's answer keeps when it was sent (0027), written with it;
 * asked again, the case keeps the earlier answer and its time (the
 * portal and the back office show it) until the customer answers again,
 * which replaces both, the earlier text staying in the audit log. A time
 * without an answer is refused by the store.
 */
static void
test_answer_time(void **state)
{
	struct ot *t = *state;
	struct rt_env *e = t->e;
	struct ra_err err = {0};
	struct ra_org_case oc = {0};
	struct store_org_case sc = {0};
	int64_t id = order(t, "business", "when.example.com", "When GmbH");
	int64_t c = case_of(t, id);
	time_t t0 = e->now;

	assert_int_equal(ra_org_take(e->ra, t->agent_a, c, &err), 0);
	assert_int_equal(ra_org_request_info(e->ra, t->agent_a, c,
	    "Please send a register extract.", &err), 0);
	assert_int_equal(ra_org_case_get(e->ra, c, &oc), 0);
	assert_null(oc.info_response);
	assert_int_equal(oc.info_response_at, 0);
	ra_org_case_clear(&oc);
	rt_set_now(e, t0 + 600);
	assert_int_equal(ra_org_customer_respond(e->ra, e->customer,
	    t->customer_user, id, "Line one\nline two", &err), 0);
	assert_int_equal(ra_org_case_by_order(e->ra, e->customer, id, &oc),
	    0);
	assert_string_equal(oc.info_response, "Line one\nline two");
	assert_int_equal(oc.info_response_at, t0 + 600);
	ra_org_case_clear(&oc);
	/* asked again: the first answer and its time stay */
	rt_set_now(e, t0 + 1200);
	assert_int_equal(ra_org_request_info(e->ra, t->agent_a, c,
	    "And the VAT id, please.", &err), 0);
	assert_int_equal(ra_org_case_get(e->ra, c, &oc), 0);
	assert_int_equal(oc.state, RA_ORG_INFO_REQUESTED);
	assert_string_equal(oc.info_request, "And the VAT id, please.");
	assert_string_equal(oc.info_response, "Line one\nline two");
	assert_int_equal(oc.info_response_at, t0 + 600);
	ra_org_case_clear(&oc);
	/* the second answer replaces them; the first is in the audit log */
	rt_set_now(e, t0 + 1800);
	assert_int_equal(ra_org_customer_respond(e->ra, e->customer,
	    t->customer_user, id, "DE123456789", &err), 0);
	assert_int_equal(ra_org_case_get(e->ra, c, &oc), 0);
	assert_string_equal(oc.info_response, "DE123456789");
	assert_int_equal(oc.info_response_at, t0 + 1800);
	ra_org_case_clear(&oc);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'org.case.customer_response' AND details LIKE "
	    "'%Line one%'"), 1);
	/* the store: no time of an answer there is not, none negative */
	assert_int_equal(store_org_case_get(e->st, c, &sc), 0);
	assert_int_equal(sc.info_response_at, t0 + 1800);
	sc.info_response_at = -1;
	assert_int_equal(store_org_case_set(e->st, &sc, "in_review", 0),
	    RC_INVAL);
	free(sc.info_response);
	sc.info_response = NULL;
	sc.info_response_at = t0;
	assert_int_equal(store_org_case_set(e->st, &sc, "in_review", 0),
	    RC_INVAL);
	store_org_case_clear(&sc);
	assert_int_equal(store_org_case_get(e->st, c, &sc), 0);
	assert_int_equal(sc.info_response_at, t0 + 1800);
	store_org_case_clear(&sc);
}

/*
 * The whole conversation is kept (0028): two rounds of request and answer,
 * the second request by an admin who took the case over and answered by
 * the customer's user again, each message with its author and time in
 * order; each answer's documents tied to it; every message audited with
 * its id in the transaction that wrote it; a refused answer and a refused
 * request add nothing; another customer's scope sees no case at all. The
 * store refuses a bad message, and a document under a message that is no
 * answer of its case.
 */
struct docs_of {
	int64_t msg[8];
	int n;
};

static int
docs_of_cb(const struct store_org_doc *d, void *arg)
{
	struct docs_of *x = arg;

	assert_true(x->n < 8);
	x->msg[x->n++] = d->message_id;
	return 0;
}

static void
test_conversation(void **state)
{
	struct ot *t = *state;
	struct rt_env *e = t->e;
	struct ra_err err = {0};
	struct ra_org_case oc = {0};
	struct docs_of docs;
	int64_t id = order(t, "business", "talk.example.com", "Talk GmbH");
	int64_t c = case_of(t, id), other = order(t, "business",
	    "other.example.com", "Other Talk GmbH"), x = 0;
	time_t t0 = e->now;
	struct ra_org_upload two[2] = {
		{"extract.pdf", pdf, sizeof(pdf) - 1},
		{"bill.png", png, sizeof(png) - 1},
	};
	struct ra_org_upload one = {"letter.jpg", jpg, sizeof(jpg) - 1};
	struct store_org_msg m;
	struct store_org_doc d;
	long long before;

	assert_int_equal(ra_org_take(e->ra, t->agent_a, c, &err), 0);
	assert_int_equal(ra_org_case_get(e->ra, c, &oc), 0);
	assert_int_equal(oc.nmsgs, 0);
	ra_org_case_clear(&oc);
	assert_int_equal(ra_org_request_info(e->ra, t->agent_a, c,
	    "Please send a register extract.", &err), 0);
	rt_set_now(e, t0 + 600);
	/* refused: nothing is written, no message either */
	before = rt_count(e, "SELECT count(*) FROM org_case_messages");
	assert_int_equal(ra_org_customer_respond_docs(e->ra, e->customer,
	    t->customer_user, id, " ", two, 2, &err), RC_INVAL);
	assert_int_equal(ra_org_customer_respond_docs(e->ra,
	    e->customer + 1, t->other_customer_user, id, "mine", two, 2,
	    &err), RC_NOTFOUND);
	assert_int_equal(ra_org_request_info(e->ra, t->agent_b, c,
	    "Not mine to ask.", &err), RC_STATE);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM "
	    "org_case_messages"), before);
	assert_int_equal(ra_org_customer_respond_docs(e->ra, e->customer,
	    t->customer_user, id, "Extract\nand bill.", two, 2, &err), 0);
	/* an admin takes the case over and asks again */
	rt_set_now(e, t0 + 1200);
	assert_int_equal(ra_org_take(e->ra, t->admin, c, &err), 0);
	assert_int_equal(ra_org_request_info(e->ra, t->admin, c,
	    "Which court keeps the register?", &err), 0);
	rt_set_now(e, t0 + 1800);
	assert_int_equal(ra_org_customer_respond_docs(e->ra, e->customer,
	    t->customer_user, id, "Amtsgericht Mannheim.", &one, 1, &err),
	    0);

	assert_int_equal(ra_org_case_by_order(e->ra, e->customer, id, &oc),
	    0);
	assert_int_equal(oc.nmsgs, 4);
	assert_false(oc.msgs[0].response);
	assert_string_equal(oc.msgs[0].body,
	    "Please send a register extract.");
	assert_int_equal(oc.msgs[0].author_id, t->agent_a);
	assert_int_equal(oc.msgs[0].sent_at, t0);
	assert_true(oc.msgs[1].response);
	assert_string_equal(oc.msgs[1].body, "Extract\nand bill.");
	assert_int_equal(oc.msgs[1].author_id, t->customer_user);
	assert_int_equal(oc.msgs[1].sent_at, t0 + 600);
	assert_false(oc.msgs[2].response);
	assert_string_equal(oc.msgs[2].body,
	    "Which court keeps the register?");
	assert_int_equal(oc.msgs[2].author_id, t->admin);
	assert_int_equal(oc.msgs[2].sent_at, t0 + 1200);
	assert_true(oc.msgs[3].response);
	assert_int_equal(oc.msgs[3].author_id, t->customer_user);
	assert_int_equal(oc.msgs[3].sent_at, t0 + 1800);
	for (size_t i = 1; i < oc.nmsgs; i++)
		assert_true(oc.msgs[i].id > oc.msgs[i - 1].id);
	/* the case's newest request and answer, as before */
	assert_string_equal(oc.info_request,
	    "Which court keeps the register?");
	assert_string_equal(oc.info_response, "Amtsgericht Mannheim.");
	/* each document under the answer it came with */
	memset(&docs, 0, sizeof(docs));
	assert_int_equal(store_org_doc_list(e->st, c, docs_of_cb, &docs), 0);
	assert_int_equal(docs.n, 3);
	assert_int_equal(docs.msg[0], oc.msgs[1].id);
	assert_int_equal(docs.msg[1], oc.msgs[1].id);
	assert_int_equal(docs.msg[2], oc.msgs[3].id);
	/* audited with the message, in its transaction */
	for (size_t i = 0; i < oc.nmsgs; i++) {
		char q[240];

		snprintf(q, sizeof(q), "SELECT count(*) FROM audit_log WHERE "
		    "action = '%s' AND json_extract(details, '$.message') = "
		    "%lld", oc.msgs[i].response ? "org.case.customer_response" :
		    "org.case.info_requested", (long long)oc.msgs[i].id);
		assert_int_equal(rt_count(e, q), 1);
	}
	assert_int_equal(rt_count(e, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'org.case.document' AND json_extract(details, "
	    "'$.message') IS NOT NULL"), 3);
	ra_org_case_clear(&oc);
	/* another customer's scope: no case, so no conversation */
	assert_int_equal(ra_org_case_by_order(e->ra, e->customer + 1, id,
	    &oc), RC_NOTFOUND);
	assert_int_equal(oc.nmsgs, 0);
	assert_null(oc.msgs);
	/* another order's case has none of it */
	assert_int_equal(ra_org_case_by_order(e->ra, e->customer, other,
	    &oc), 0);
	assert_int_equal(oc.nmsgs, 0);
	ra_org_case_clear(&oc);

	/* the store's refusals */
	memset(&m, 0, sizeof(m));
	m.case_id = c;
	m.body = "Fine.";
	m.author_id = t->agent_a;
	m.kind = "note";
	assert_int_equal(store_org_msg_add(e->st, &m, &x), RC_INVAL);
	m.kind = "request";
	m.body = "";
	assert_int_equal(store_org_msg_add(e->st, &m, &x), RC_INVAL);
	m.body = "a\x01b";
	assert_int_equal(store_org_msg_add(e->st, &m, &x), RC_INVAL);
	m.body = "Fine.";
	m.author_id = 0;
	assert_int_equal(store_org_msg_add(e->st, &m, &x), RC_INVAL);
	m.author_id = t->agent_a;
	m.sent_at = -1;
	assert_int_equal(store_org_msg_add(e->st, &m, &x), RC_INVAL);
	m.sent_at = 0;
	m.case_id = 99999;
	assert_int_equal(store_org_msg_add(e->st, &m, &x), RC_NOTFOUND);
	m.case_id = c;
	m.author_id = 99999;
	assert_int_equal(store_org_msg_add(e->st, &m, &x), RC_NOTFOUND);
	assert_int_equal(store_org_msg_add(NULL, &m, &x), RC_INVAL);
	assert_int_equal(store_org_msg_list(e->st, c, NULL, NULL), RC_INVAL);
	memset(&d, 0, sizeof(d));
	d.case_id = case_of(t, other);
	d.content_type = "application/pdf";
	d.label = "x.pdf";
	d.data = pdf;
	d.size = sizeof(pdf) - 1;
	d.uploaded_by = t->customer_user;
	/* none, a request, another case's answer: refused */
	assert_int_equal(store_org_doc_add(e->st, &d, &x), RC_INVAL);
	assert_int_equal(ra_org_case_get(e->ra, c, &oc), 0);
	d.message_id = oc.msgs[2].id;
	assert_int_equal(store_org_doc_add(e->st, &d, &x), RC_NOTFOUND);
	d.message_id = oc.msgs[3].id;
	assert_int_equal(store_org_doc_add(e->st, &d, &x), RC_NOTFOUND);
	d.case_id = c;
	d.message_id = oc.msgs[0].id;
	assert_int_equal(store_org_doc_add(e->st, &d, &x), RC_NOTFOUND);
	ra_org_case_clear(&oc);
	assert_int_equal(rt_count(e, "SELECT count(*) FROM "
	    "org_case_documents"), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ov_lifecycle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ev_two_person, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ev_one_person_when_off,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reject_and_admin, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_reject_renewal_keeps_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reuse_period, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reuse_as_typed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_expired_order_closes_case,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_caa_old_at_approval,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_caa_fresh_at_approval,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_validation_older_than_reuse_period, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_bad_input, setup,
		    teardown),
		cmocka_unit_test(test_doc_sniff),
		cmocka_unit_test(test_doc_label),
		cmocka_unit_test(test_doc_filename),
		cmocka_unit_test_setup_teardown(test_answer_with_documents,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_time, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_conversation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_store_bad_input, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
