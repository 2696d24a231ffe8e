/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A contract's domains over their life, and what follows from them for
 * validation.
 *
 * A domain marked hosted is the operator's word that its zone on our
 * nameservers is the contract's customer's: the names under it are
 * validated by a TXT record certdesk places there itself ("dns-auto",
 * dv.c), which proves control only because of that word. So a hosted
 * domain is one customer's: not the same name, nor a parent or a child of
 * it, hosted for another customer (the same customer's other contracts
 * may hold it too: their orders are that customer's), and never a public
 * suffix, which is no customer's zone. ra_domain_hosted_ok() is that rule
 * for `admin domain add --hosted`; ra_domain_hosted_alone() applies it
 * again whenever dns-auto is about to be used (hosted_zone and step_auto
 * in dv.c), for stores made before the rule, which may hold such pairs:
 * then neither customer is validated automatically until the operator
 * removes the stale one.
 *
 * A domain that changes hands is removed from the old contract
 * (ra_domain_remove): the row goes, and with it what the contract still
 * had from the name, so that the old owner gets nothing more for it
 * without proving control anew. Its portal orders still pending for a
 * name under it are cancelled (invalid, the slot back to what it held,
 * an OV/EV case closed, the contacts told; the order's page says why),
 * and its valid authorizations of those names become "revoked" (RFC 8555
 * §7.1.6): the portal's, which later orders of the contract would reuse
 * (BR 4.2.1), and those of the ACME accounts bound to the contract by
 * EAB, which their orders and finalize would use. The Baseline
 * Requirements bound that reuse by time alone (398, then 200, 100 and 10
 * days) because a CA seldom learns that a domain changed hands; here the
 * operator says so, and the reuse ends at once. Names the contract keeps
 * through another of its domains below the removed one stay valid.
 * Certificates already issued are not revoked here (`ca revoke`).
 *
 * Runs in the main certdesk process (the admin commands, and dv.c on the
 * portal's threads and the DV worker). Trusts the store; names come
 * normalised from the caller.
 */
#include "ra/ra_int.h"
#include "store/store.h"
#include "util/dnsname.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COVER_MAX 16	/* hosted domains of one contract above a name */

int
ra_domain_hosted_ok(struct store *st, int64_t customer_id, const char *name,
    struct store_domain *other)
{
	int rc;

	if (other != NULL)
		memset(other, 0, sizeof(*other));
	if (st == NULL || other == NULL || name == NULL)
		return RC_INVAL;
	if (dnsname_is_public_suffix(name))
		return RC_BADNAME;
	rc = store_domain_hosted_other(st, customer_id, name, other);
	if (rc == 0)
		return RC_POLICY;
	return rc == RC_NOTFOUND ? 0 : rc;
}

int
ra_domain_hosted_alone(struct store *st, int64_t contract_id,
    const char *name, struct store_domain *other)
{
	char cover[COVER_MAX][STORE_DOMAIN_BUF];
	struct store_contract k = {0};
	size_t n = 0;
	int rc;

	if (other != NULL)
		memset(other, 0, sizeof(*other));
	if (st == NULL || other == NULL)
		return RC_INVAL;
	rc = store_domain_hosted_cover(st, contract_id, name, cover, COVER_MAX,
	    &n);
	if (rc == 0 && n == 0)
		rc = RC_NOTFOUND;
	if (rc == 0)
		rc = store_contract_get(st, contract_id, &k);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = ra_domain_hosted_ok(st, k.customer_id, cover[i], other);
		if (rc == RC_BADNAME)	/* name it, as the other's */
			other->name = xstrdup(cover[i]);
	}
	store_contract_clear(&k);
	return rc;
}

/* ---- removal ------------------------------------------------------------- */

struct removal {
	struct ra *ra;
	int64_t id;
	const char *actor;
	struct store_domain d;
	size_t orders, authz;
};

static int
audit(struct store *st, const char *actor, const char *action,
    const char *object, json_t *details)
{
	char *text = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
	int rc;

	if (text == NULL)
		return RC_NOMEM;
	rc = store_audit_append(st, actor, action, object, text);
	free(text);
	return rc;
}

/* Portal order id of the contract ends: cancelled, as its page and its
 * contacts are told. */
static int
cancel_order(struct removal *r, struct store *st, int64_t id, time_t now)
{
	struct ra_err e = {0};
	char to[STORE_SLOT_STATE_LEN] = "", object[48];
	json_t *d;
	int rc;

	(void)ra_fail(&e, RC_POLICY, RA_PROB_REJECTED_IDENTIFIER, "The order "
	    "was cancelled: %s is no longer a domain of your contract, so "
	    "nothing is issued for it.", r->d.name);
	rc = ra_portal_order_fail(r->ra, st, id, "pending", &e, now, to);
	if (rc == 0)
		rc = ra_org_case_cancel(r->ra, st, id, now);
	if (rc != 0)
		return rc;
	d = json_pack("{s:I, s:s, s:I, s:s}", "order", (json_int_t)id,
	    "domain", r->d.name, "domain_id", (json_int_t)r->d.id,
	    "slot_state", to[0] ? to : "unchanged");
	snprintf(object, sizeof(object), "order:%lld", (long long)id);
	rc = d != NULL ? audit(st, r->actor, "portal.order.cancelled", object,
	    d) : RC_NOMEM;
	json_decref(d);
	if (rc == 0)
		rc = ra_notify_cancelled(r->ra, st, id, r->d.name);
	if (rc == 0)
		r->orders++;
	return rc;
}

static int
removal_tx(struct store *st, void *arg)
{
	struct removal *r = arg;
	time_t now = ra_now(r->ra);
	int64_t ids[32], after = 0, *revoked = NULL;
	size_t n = 0, nrev = 0;
	json_t *d = NULL, *orders = json_array(), *authz = json_array();
	char object[48];
	int rc;

	/* a retried transaction starts again */
	store_domain_clear(&r->d);
	r->orders = r->authz = 0;
	rc = store_domain_get(st, r->id, &r->d);
	if (rc == 0)
		rc = store_domain_delete(st, r->id);
	/* by id, so that each order is looked at once */
	while (rc == 0) {
		rc = store_domain_open_orders(st, r->d.contract_id, r->d.name,
		    after, ids, sizeof(ids) / sizeof(ids[0]), &n);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			rc = cancel_order(r, st, ids[i], now);
			json_array_append_new(orders, json_integer(ids[i]));
			after = ids[i];
		}
		if (n < sizeof(ids) / sizeof(ids[0]))
			break;
	}
	if (rc == 0)
		rc = store_domain_authz_revoke(st, r->d.contract_id, r->d.name,
		    now, &revoked, &nrev);
	if (rc != 0)
		goto out;
	for (size_t i = 0; i < nrev; i++)
		json_array_append_new(authz, json_integer(revoked[i]));
	r->authz = nrev;
	d = json_pack("{s:I, s:I, s:I, s:s, s:b, s:O, s:O}", "id",
	    (json_int_t)r->d.id, "contract", (json_int_t)r->d.contract_id,
	    "customer", (json_int_t)r->d.customer_id, "name", r->d.name,
	    "hosted", r->d.hosted, "orders_cancelled", orders,
	    "authz_revoked", authz);
	snprintf(object, sizeof(object), "domain:%lld", (long long)r->d.id);
	rc = d != NULL ? audit(st, r->actor, "domain.remove", object, d) :
	    RC_NOMEM;
out:
	free(revoked);
	json_decref(d);
	json_decref(orders);
	json_decref(authz);
	return rc;
}

int
ra_domain_remove(struct ra *ra, int64_t id, const char *actor,
    struct ra_domain_removed *out, struct ra_err *err)
{
	struct removal r = {0};
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || actor == NULL || actor[0] == '\0')
		return RC_INVAL;
	if (id <= 0)
		return ra_fail(err, RC_NOTFOUND, RA_PROB_MALFORMED,
		    "no domain with id %lld", (long long)id);
	r.ra = ra;
	r.id = id;
	r.actor = actor;
	rc = store_tx(ra->st, removal_tx, &r);
	if (rc == RC_NOTFOUND && r.d.name == NULL) {
		rc = ra_fail(err, rc, RA_PROB_MALFORMED, "no domain with id "
		    "%lld", (long long)id);
		goto out;
	}
	if (rc != 0) {
		rc = ra_internal(err, rc, "domain remove");
		goto out;
	}
	log_info(LOG_RA, "domain %lld (%s) removed from contract %lld by %s: "
	    "%zu order(s) cancelled, %zu authorization(s) revoked",
	    (long long)id, r.d.name, (long long)r.d.contract_id, actor,
	    r.orders, r.authz);
	if (out != NULL) {
		out->contract_id = r.d.contract_id;
		out->customer_id = r.d.customer_id;
		snprintf(out->name, sizeof(out->name), "%s", r.d.name);
		out->hosted = r.d.hosted;
		out->orders = r.orders;
		out->authz = r.authz;
	}
out:
	store_domain_clear(&r.d);
	return rc;
}
