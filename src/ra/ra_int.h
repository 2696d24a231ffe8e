/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the files of the ra component (not part of the
 * contract in ra.h): the handle, error helpers, the problem-document
 * builder, base64url, and two hooks for the unit tests (the clock and the
 * validation function).
 *
 * Everything here runs in the main certdesk process, on the thread that
 * owns the struct ra.
 */
#ifndef CERTDESK_RA_RA_INT_H
#define CERTDESK_RA_RA_INT_H

#include "ra/ra.h"
#include "validation/val.h"

#include <jansson.h>
#include <stdarg.h>

#define RA_DEF_ORDER_LIFETIME (7L * 86400)
#define RA_DEF_AUTHZ_LIFETIME (7L * 86400)
#define RA_DEF_NONCE_LIFETIME 3600L
#define RA_DEF_JOB_LEASE 120L
#define RA_DEF_MAX_IDENTIFIERS 100
#define RA_DEF_MAX_CONTACTS 4
/* an ACME order left in processing this long (seconds since its last
 * change) was interrupted by a crash or a restart; ra_jobs_run() looks
 * for such orders at most every RA_RECOVER_EVERY seconds */
#define RA_PROCESSING_STALE 300
#define RA_RECOVER_EVERY 60

#define RA_PROB_URN_PREFIX "urn:ietf:params:acme:error:"

/* What the policy files say, read-only once read (ra_policy_load). */
struct ra_policy {
	char **blocked;			/* policy.blocked_names, lower case */
	size_t nblocked;
	struct ra_override *overrides;	/* acme.limit_overrides */
	size_t noverrides;
};

struct ra {
	struct ra_conf conf;		/* account_url_prefix copied */
	struct store *st;		/* durable, borrowed */
	struct ca *ca;			/* borrowed, may be NULL */
	struct val_ctx *val;		/* borrowed, may be NULL */
	/* else validation contexts lent for each check (ra_set_val_pool) */
	int (*vget)(void *arg, struct val_ctx **out);
	void (*vput)(void *arg, struct val_ctx *v);
	void *varg;
	/* blocked names and rate limit overrides: conf.policy (shared,
	 * read once) or the ra's own, read by ra_open */
	struct ra_policy own;
	const struct ra_policy *pol;
	/* runs one check: val_check() unless a test set another */
	int (*check)(void *arg, const struct val_request *req,
	    struct val_result *out);
	void *check_arg;
	time_t last_recover;		/* of stale orders, ra_jobs_run() */
	time_t last_expire;		/* of portal orders, ra_dv_jobs_run() */
	time_t last_limits_gc;		/* ra_limits_gc() */
	/* the DNS provider (dv.c): val_dnsupd_* on dnsupd, unless a test
	 * set other operations */
	const struct val_dnsupd *dnsupd;	/* borrowed, may be NULL */
	const struct ra_dnsupd_ops *dops;	/* borrowed, may be NULL */
	void *dops_arg;
	uint8_t nonce_key[32];		/* shared MAC key of nonces */
	int nonce_key_ok;		/* loaded from the store */
};

/* The validation context for one check: the ra's own, else one lent by
 * its pool; NULL when neither (the check then fails with serverInternal).
 * Hand it back with ra_val_put() after the check. */
struct val_ctx *ra_val_get(struct ra *ra);
void ra_val_put(struct ra *ra, struct val_ctx *v);	/* NULL is fine */
/* Fills res (cleared first) as the failed check of a server without
 * validation: serverInternal, "<what> is not configured on this server",
 * checked now, no evidence. Returns RC_CONFIG. */
int ra_val_missing(struct ra *ra, struct val_result *res, const char *what);

/* ---- hooks for the unit tests -------------------------------------------- */

/* Pins the clock (0: back to conf.now or the real clock). */
void ra_set_now(struct ra *ra, time_t now);
/* Replaces the validation function (NULL: back to val_check()). */
void ra_set_check(struct ra *ra, int (*fn)(void *arg,
    const struct val_request *req, struct val_result *out), void *arg);

/*
 * The DNS provider operations dv.c uses, with the contracts of
 * val_dnsupd_find_zone/txt_add/txt_delete/published (val.h); the unit
 * tests replace them to steer the dns-auto state machine. A NULL
 * find_zone means "no zone is ours" (the contract's domains still are).
 */
struct ra_dnsupd_ops {
	int (*find_zone)(void *arg, const char *name, char *zone,
	    size_t zonesz, int *ours, struct rc_detail *d);
	int (*txt_add)(void *arg, const char *zone, const char *owner,
	    const char *value, struct rc_detail *d);
	int (*txt_delete)(void *arg, const char *zone, const char *owner,
	    const char *value, struct rc_detail *d);
	int (*published)(void *arg, const char *owner, const char *value,
	    size_t *nok, size_t *nservers);
	unsigned propagation_timeout;	/* seconds */
};
/* Replaces the DNS provider (NULL: back to the one of ra_set_dnsupd). */
void ra_set_dnsupd_ops(struct ra *ra, const struct ra_dnsupd_ops *ops,
    void *arg);

/* ---- errors -------------------------------------------------------------- */

/* Sets err's problem and detail (err may be NULL) and returns rc. */
int ra_fail(struct ra_err *err, int rc, enum ra_prob p, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds a subproblem for identifier (type, value) to err (counted in
 * nsub_total even when the array is full). */
void ra_sub(struct ra_err *err, enum ra_prob p, const char *type,
    const char *value, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* An internal failure: logged with what, err set to serverInternal. */
int ra_internal(struct ra_err *err, int rc, const char *what);

/*
 * The problem document of err as compact JSON text (new string, free()):
 * {"type": URN, "detail": ..., "subproblems": [{"type", "detail",
 * "identifier": {"type", "value"}}]}. Never NULL.
 */
char *ra_err_json(const struct ra_err *err);
/* The text of obj (compact, keys sorted) with "key": raw added at the end;
 * raw is JSON text that certdesk made itself (validation evidence), copied
 * as it is rather than parsed and printed again. New string, or NULL. */
char *ra_json_with(json_t *obj, const char *key, const char *raw);
/* Reads back "type" and "detail" of a stored problem document. */
void ra_err_parse(const char *json, enum ra_prob *p, char **detail);
/* The ra problem for a validation library problem. */
enum ra_prob ra_prob_from_val(enum val_problem p);

/* ---- small helpers ------------------------------------------------------- */

/* 1 when s is 1..max characters of [A-Za-z0-9_-]. */
int ra_b64u_ok(const char *s, size_t max);
/* Parses a store status word; -1 when unknown. */
int ra_status_parse(const char *s);
/* The account URL: conf.account_url_prefix + id (new string, free()). */
char *ra_account_url(const struct ra *ra, int64_t id);

/* The "dns" or "ip" type of a normalised identifier as kept in orders. */
const char *ra_ident_type(const char *ident);

/* ---- objects (order.c) --------------------------------------------------- */

/* ra_authz_get() without the account check (account_id 0 = any). */
int ra_authz_load(struct ra *ra, int64_t account_id, int64_t authz_id,
    struct ra_authz *out);
/* Fills c from a store row (strings copied; clear with
 * ra_challenge_clear()). */
struct store_challenge;
void ra_chall_fill(const struct store_challenge *s, struct ra_challenge *c);
/* The authz's derived status at now. */
enum ra_status ra_authz_derived(const struct ra *ra, const char *status,
    time_t expires_at);
/*
 * Stores the status RFC 8555 §7.1.6 derives for ACME order order_id when
 * it is pending or ready (ready once every authorization is valid, invalid
 * when one is not pending or valid, or it expired), so that later reads
 * need not write it. For use inside the transaction that changed an
 * authorization; portal orders and other states are left alone. 0, or
 * RC_* (RC_CONFLICT must be passed up).
 */
int ra_order_settle(struct ra *ra, int64_t order_id);

/* ---- interrupted issuance (finalize.c) ----------------------------------- */

/*
 * Settles orders (ACME and portal) in processing whose last change is
 * before `before` (issuance interrupted by a crash or a restart): valid
 * with the certificate when the CA stored one for the order, else invalid
 * with a serverInternal problem (the client starts a new order, which
 * reuses the valid authorizations; a portal order's slot becomes issued,
 * or goes back as ra_portal_order_fail() says). Each one audited as
 * acme.order.recovered or portal.order.recovered.
 * *n (may be NULL) gets the number settled.
 */
int ra_orders_recover(struct ra *ra, time_t before, size_t *n);

/* ---- hosted domains (domain.c) ------------------------------------------ */

/*
 * Does certdesk still vouch for name as contract_id's customer's zone?
 * Every hosted domain of the contract that name is under must pass
 * ra_domain_hosted_ok() for the contract's customer. 0 when so;
 * RC_NOTFOUND when no hosted domain of the contract holds name;
 * RC_POLICY with *other the other customer's overlapping hosted domain,
 * or RC_BADNAME with other->name the contract's domain that is a public
 * suffix (store_domain_clear(other) in any case); store errors. Outside
 * or inside a transaction on st.
 */
int ra_domain_hosted_alone(struct store *st, int64_t contract_id,
    const char *name, struct store_domain *other);

/* ---- portal orders that end without a certificate (portal.c) ------------ */

/*
 * Portal order order_id fails: from `from` to invalid with e's problem
 * (what the customer reads), and its slot back to what it held before the
 * order (store_slot_order_ended: issued with the previous certificate,
 * revoked or expired as that certificate is, unused (SSL Unlimited:
 * active) when the slot never held one), in the caller's transaction on
 * st. The one way every end of a portal order without a certificate
 * goes: refused at issuance, its organisation case rejected, expired, its
 * issuance interrupted.
 * *slot_state (may be NULL; STORE_SLOT_STATE_LEN bytes) gets the slot's
 * new state, "" when the slot had moved on (an admin cancelled it), which
 * is not an error. 0; RC_STATE when the order was not in `from` (nothing
 * changed); RC_NOTFOUND for an order without a slot; store errors.
 */
int ra_portal_order_fail(struct ra *ra, struct store *st, int64_t order_id,
    const char *from, const struct ra_err *e, time_t now, char *slot_state);

/*
 * Ends the portal orders still pending past their expiry (nobody
 * completed the validation in time), of slot_id (0: of every pending
 * slot), in batches of 32 while whole batches end: each through
 * ra_portal_order_fail() with the problem "the order expired", audited as
 * portal.order.expired (actor "system"). The DV worker calls it every
 * RA_RECOVER_EVERY seconds (ra_dv_jobs_run); a new order on a pending
 * slot calls it for that slot first, so the customer need not wait for
 * the worker. *n (may be NULL) gets how many ended.
 */
int ra_portal_orders_expire(struct ra *ra, int64_t slot_id, size_t *n);

/*
 * In the caller's transaction on st: the organisation case of order_id,
 * whose order expired, leaves the back office's queue when still
 * undecided: rejected with the reason "The order expired before it was
 * validated." and no decided_at (nobody decided: the reuse of a validated
 * organisation, store_org_find_valid, is not blocked by it), audited as
 * org.case.expired (actor "system"). 0 also when the order has no case or
 * its case was decided.
 */
int ra_org_case_expire(struct ra *ra, struct store *st, int64_t order_id,
    time_t now);
/* The same for an order cancelled because a domain it names left the
 * contract (ra_domain_remove): reason RA_ORG_CANCELLED_REASON, audited as
 * org.case.cancelled. */
int ra_org_case_cancel(struct ra *ra, struct store *st, int64_t order_id,
    time_t now);

/*
 * Moves the issued portal slots whose held certificate ran out (not_after
 * passed) to expired, each audited as portal.slot.expired (actor
 * "system"), in batches of 32, one transaction each. Looks through the
 * issued slots, not the certificates (ACME's have no slot), and keeps no
 * state, so a restart costs nothing more. The DV worker calls it with
 * ra_portal_orders_expire(). *n (may be NULL) gets how many moved.
 */
int ra_portal_slots_expire(struct ra *ra, size_t *n);

/*
 * The first DNS name of old_names (space-separated) that new_names does
 * not cover, into out (size len), and 1; 0 when each is covered: among
 * new_names case-insensitively, or under one of its wildcards (one label;
 * an old wildcard only by the same wildcard).
 */
int ra_names_uncovered(const char *old_names, const char *new_names,
    char *out, size_t len);

/*
 * Portal order order_id just issued serial (issued_at) in the caller's
 * transaction on st: when the certificate its slot held before is still
 * valid and unrevoked and names something serial does not cover, that
 * certificate is scheduled for revocation (superseded) RA_REISSUE_GRACE
 * later (store_superseded_add), audited as portal.cert.superseded, and
 * its customer told (ra_notify_superseded). 0 also when nothing is to be
 * revoked, or when it was scheduled before (nothing more is done).
 */
int ra_portal_supersede(struct ra *ra, struct store *st, int64_t order_id,
    const char *serial, time_t issued_at);

/*
 * In the caller's transaction on st, which just ended portal order
 * order_id without a certificate: queues the notice to its contacts
 * (ra_order_rcpt) and audits who was told. reason non-NULL: validation
 * staff rejected it (OV/EV) for that reason, meant for the customer (the
 * back office says so); kind "portal.rejected", audited as
 * portal.order.rejected.mail. reason NULL: it expired before it was
 * validated; kind "portal.expired", audited as portal.order.expired.mail.
 * Both say which names (and, OV/EV, whether the organisation) were not
 * validated, what the customer can do next, whether the certificate the
 * slot held stays, and link the order. Once per order and address (a
 * notice queued before counts). 0, or the store's error.
 */
int ra_notify_ended(struct ra *ra, struct store *st, int64_t order_id,
    const char *reason);
/* The same for an order cancelled because domain (borrowed; one the order
 * names, or a parent of them) is no longer the contract's
 * (ra_domain_remove): kind "portal.cancelled", audited as
 * portal.order.cancelled.mail; it names the domain and says that what was
 * confirmed for it no longer counts. */
int ra_notify_cancelled(struct ra *ra, struct store *st, int64_t order_id,
    const char *domain);

/*
 * In the caller's transaction on st, which just scheduled certificate
 * old's revocation (superseded) at revoke_at because portal order
 * new_order issued cur for other names: queues the notice
 * "portal.superseded" (ref old's serial: once per address) to the
 * contacts of old's order, then those of new_order (ra_order_rcpt), and
 * audits who was told as portal.cert.superseded.mail. A contact may be
 * none (audited so). 0, or the store's error.
 */
int ra_notify_superseded(struct ra *ra, struct store *st,
    const struct store_cert *old, const struct store_cert *cur,
    int64_t new_order, time_t revoke_at);

/*
 * Revokes the superseded certificates that are due (superseded_certs'
 * revoke_at passed) through ra_portal_revoke (reason 4, actor "system":
 * audited, CRL and OCSP, the slot untouched as it holds the newer one);
 * those revoked or expired meanwhile are just forgotten. The DV worker
 * calls it with ra_portal_orders_expire(). *n (may be NULL) gets how many
 * were revoked.
 */
int ra_portal_superseded_revoke(struct ra *ra, size_t *n);

/* ---- rate limits (limits.c) --------------------------------------------- */

/* All in the caller's store transaction on st. 0, RC_POLICY with a
 * rateLimited problem and err->retry_after, or a store error. */
/* newAccount from ip (NULL: not from the network, not counted; not an
 * address, as "?": every such one counted together) */
int ra_limit_account(struct ra *ra, struct store *st, const char *ip,
    struct ra_err *err);
/* newOrder of n normalised names ("*." kept) of types ("dns", "ip") by
 * an account (bound to contract_id by EAB, 0: none):
 * the failed-validation, duplicate and domain limits checked (not the
 * domain one for an ARI renewal, ari_renewal), then the order counted */
int ra_limit_order(struct ra *ra, struct store *st, int64_t account_id,
    int64_t contract_id, char *const *names, const char *const *types,
    size_t n, int ari_renewal, struct ra_err *err);
/* an authorization of the account for name became invalid */
int ra_limit_failed(struct ra *ra, struct store *st, int64_t account_id,
    const char *type, const char *name);
/* a certificate for the names was issued: its set recorded, its domains
 * counted unless the set was issued before or it is an ARI renewal (the
 * order named the certificate it replaces, RFC 9773 §5) */
int ra_limit_issued(struct ra *ra, struct store *st, char *const *names,
    const char *const *types, size_t n, int ari_renewal, const char *serial);
/* The certificate named by a certID (RFC 9773 §4.1): 0 with it in *c
 * (store_cert_clear()), RC_NOTFOUND when no certificate of ours has that
 * serial and AKI (or the parts cannot be one), or a store error. */
int ra_certid_cert(struct ra *ra, const struct ra_certid *id,
    struct store_cert *c);
/* SHA-256 of the sorted names, each with its NUL */
void ra_names_hash(char *const *names, size_t n, uint8_t out[32]);
/* the preliminary report of a key report to the reporter's address addr
 * (ra_key_report_contact() accepted it): 0 (counted) when it may go,
 * RC_POLICY (without a problem: the report goes on without the mail)
 * when the address had RA_KEY_REPORT_MAILS_PER_DAY today */
int ra_limit_report_mail(struct ra *ra, struct store *st, const char *addr);
/* drops full buckets, at most every ten minutes (the job thread) */
void ra_limits_gc(struct ra *ra);
/* reads the overrides file into p (RC_CONFIG with "file:line: why");
 * the whole file or nothing */
int ra_limits_load(struct ra_policy *p, const char *path,
    struct rc_detail *d);
void ra_limits_free(struct ra_policy *p);

/* ---- notification mail (notify.c) --------------------------------------- */

/* 1 when a is a plain address we may queue: at most 254 characters, one
 * '@' with text on both sides, no spaces or control characters, none of
 * the characters that could end an address in a header. */
int ra_mail_addr_ok(const char *a);

/* The recipients of one notice, each once (ASCII case-insensitively). */
#define RA_MAX_RCPT 4		/* a portal order has 3, an ACME account
				 * RA_DEF_MAX_CONTACTS */
struct ra_rcpt {
	char addr[RA_MAX_RCPT][255];
	char name[RA_MAX_RCPT][120];	/* "" when none */
	size_t n;
};
/* Adds addr (with a display name, may be NULL) to r unless it is not
 * ra_mail_addr_ok, is there already, or r is full. */
void ra_rcpt_add(struct ra_rcpt *r, const char *addr, const char *name);
/* The contacts of a portal order whose details (JSON, borrowed; NULL
 * gives none) are det, read through st: the portal user who placed it,
 * then the technical and administrative contacts (OV/EV). r is cleared
 * first. */
void ra_order_rcpt(struct store *st, json_t *det, struct ra_rcpt *r);
/* An order's names (space-separated) as mails show them: joined with
 * ", ", an IDN as its U-label with the A-label in parentheses
 * ("bücher.example (xn--bcher-kva.example)"). New string (free()). */
char *ra_mail_names(const char *names);
/* The first of names for a subject: an IDN as its U-label only. */
void ra_mail_first(const char *names, char *out, size_t n);

/* ---- mail for a key's revoked certificates (keynotice.c) ---------------- */

/* Serials one key compromise mail or audit entry names; a key with more
 * certificates (a key shared by a hosting provider) gets "and N more". */
#define RA_KEY_LIST_MAX 100
/* Queues one mail ("Hello <name>,", text, signature) in st's transaction,
 * due now by the wall clock (notify.c). RC_EXISTS: the same notice (kind,
 * ref) was queued for `to` before. */
int ra_mail_add(struct store *st, const char *to, const char *name,
    const char *subject, const char *text, const char *kind,
    const char *ref);
/* The hook function ra_key_notice_init() installs, for a caller that
 * wraps it (keyreport.c): arg is the struct ra_key_notice. */
struct ca_key_revoked;
int ra_key_notice_tx(struct store *st, const struct ca_key_revoked *r,
    void *arg);

#endif
