/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared by dv.c (methods, checks, jobs) and dv_email.c (confirmation
 * mail and links): the pieces of the domain validation of portal orders
 * that both need, and the CAA check before issuance for portal.c. Not part
 * of ra.h. Runs wherever the ra runs.
 */
#ifndef CERTDESK_RA_DV_INT_H
#define CERTDESK_RA_DV_INT_H

#include "ra/ra_int.h"

#include <jansson.h>

struct store_order;
struct store_authz;
struct store_dv;

/* The BR section of a method name ("3.2.2.4.7"; "3.2.2.8" for "caa"). */
const char *ra_dv_br_section(const char *method);
/* base64url of nbytes (<= 48) random bytes into out (4n/3 + 2 bytes). */
int ra_dv_random(size_t nbytes, char *out);
/* Evidence text as JSON (new reference; never NULL). */
json_t *ra_dv_json(const char *text);
/* Compact, sorted JSON text of v (new string; "{}" for NULL). */
char *ra_dv_dump(json_t *v);
/* A portal order the customer may see (customer_id 0: any); RC_NOTFOUND.
 * Clear o with store_order_clear(). */
int ra_dv_order_load(struct ra *ra, int64_t customer_id, int64_t order_id,
    struct store_order *o);
/* Runs CAA for the name (method: the portal method that validated it),
 * stores the attempt; 1 when issuance is permitted. res: cleared by the
 * caller. */
int ra_dv_caa(struct ra *ra, const struct store_authz *a, const char *method,
    struct val_result *res);
/* Makes a pending name valid (authorization, row, audit), validated now.
 * RC_STATE when it is no longer pending. evidence borrowed. */
int ra_dv_mark_valid(struct ra *ra, const struct store_authz *a,
    const char *method, const char *actor, json_t *evidence);
/*
 * BR 3.2.2.8, for ra_portal_issue(): CAA permitted this CA for every
 * authorization of ids (n) within the last 8 hours, else it is looked up
 * now (an operator's validation counts as no look; a name without a
 * validation row is looked up every time). 0 when every name may be
 * issued for; RC_STATE with RA_PROB_CAA in err at the first name CAA
 * forbids or that cannot be checked, the reason stored on the name's row
 * for the customer and the DV worker to look again; other codes for
 * store errors.
 */
int ra_dv_caa_ready(struct ra *ra, const int64_t *ids, size_t n,
    struct ra_err *err);
/* Issues the order when every name is valid within today's reuse period
 * (CAA re-checked by ra_portal_issue when older than 8 hours; OV/EV only
 * once the back office approved, else nothing happens). *issued (may be
 * NULL) 1 when issued. */
int ra_dv_maybe_issue(struct ra *ra, int64_t order_id, int *issued);
/* The customer's words for a failed check. */
void ra_dv_explain(const struct val_result *res, const char *method,
    const char *name, const char *url, char problem[24],
    char message[400]);

/* ---- dv_email.c ---------------------------------------------------------- */

/* 1 when the configuration and the policy calendar allow email now;
 * warning (n bytes) gets "" or what the customer should know. */
int ra_dv_email_allowed(struct ra *ra, char *warning, size_t n);
/* 1 for one of RA_DV_EMAIL_LOCALS. */
int ra_dv_email_local_ok(const char *local);
/* Sends (queues) a confirmation mail to local@adn (adn NULL or not an
 * Authorization Domain Name of the name: the one the first mail uses)
 * with a new link (the old one is replaced), rate-limited unless
 * initial; the row's method becomes email. RC_POLICY (err) when
 * rate-limited. */
int ra_dv_email_send(struct ra *ra, const struct store_order *o,
    const struct store_authz *a, const char *local, const char *adn,
    const char *actor, int initial, struct ra_err *err);
/* 1 when adn is an Authorization Domain Name of name (BR 1.6.1, 3.2.2.4.4):
 * name itself, or a domain made by pruning labels from its left, down to
 * its registered domain (libpsl: never a public suffix). */
int ra_dv_adn_ok(const char *name, const char *adn);
/* The Authorization Domain Names the customer may choose for name, at
 * most max into out: the one the first mail uses first (the contract's
 * domain holding name, else name without "www."), then the others from
 * the registered domain up to name. Returns how many. */
size_t ra_dv_email_adns(struct ra *ra, int64_t contract_id, const char *name,
    char out[][256], size_t max);
/* The pending name of order o, other than a, that waits for a's pending
 * link with none of its own (one mail for example.com and
 * www.example.com); 0 when none. a's moving to another method or address
 * must not end that link: it is handed to that name (*token_id, may be
 * NULL, gets the link's id), which it confirms from then on. */
int64_t ra_dv_email_waiter(struct ra *ra, const struct store_order *o,
    const struct store_authz *a, int64_t *token_id);
/* The address name a (row v, of order o) waits for confirmation from:
 * where its newest link went, else where the first mail goes. */
void ra_dv_email_to(struct ra *ra, const struct store_order *o,
    const struct store_authz *a, const struct store_dv *v, char *to,
    size_t n);
/* Fills the email fields of s (and "mail_bounced"). */
void ra_dv_email_state(struct ra *ra, const struct store_authz *a,
    const struct store_dv *v, struct ra_dv_state *s);

#endif
