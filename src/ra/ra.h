/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registration authority: the one place that decides "may this be
 * issued". It owns the ACME account, nonce, order, authorization and
 * challenge state machines (RFC 8555 §7.1.6), the naming policy (valid
 * hostnames, IDNA A-labels, blocked names, wildcards not on public
 * suffixes, IP identifiers only when enabled), runs domain validations
 * through the validation library, checks CAA right before issuance and has
 * the CA issue. The ACME resources (src/acme) and the portal call only this
 * header for every decision; they speak HTTP and JSON, the ra speaks ids,
 * structs and problems.
 *
 * This code runs in the main certdesk process, on request threads and on
 * the validation worker thread. It trusts the store, the configuration, the
 * CA and the validation library's verdicts. It does not trust anything the
 * caller passes that came from a client (JWK text is stored as given by the
 * JWS layer, which already checked it; identifiers, contacts, CSRs, EAB key
 * ids, nonces and revocation requests are checked here).
 *
 * Threads: a struct ra is NOT thread-safe; open one per thread (cheap) over
 * that thread's store, CA and validation context (all borrowed). Any number
 * of ra handles, in any number of processes and hosts sharing one database,
 * may work at once: every state change is a conditional update in the
 * store, so two instances never both move the same object.
 *
 * Identity: every object is addressed by (id, account): a function given an
 * id that belongs to another account answers RC_NOTFOUND exactly as for an
 * id that does not exist, and never fills the object.
 *
 * Errors: functions return 0 or a negative RC_*; when the caller passes a
 * struct ra_err, a failure also fills the ACME problem type to answer with,
 * a human detail that is safe to show to the client, and for newOrder and
 * finalize one subproblem per offending identifier (RFC 8555 §6.7.1).
 * Internal failures (RC_DB, RC_ERR, ...) give RA_PROB_SERVER_INTERNAL and
 * are logged here; the caller only answers.
 *
 * Ownership: output structs are filled by the callee and own their
 * strings; release them with the matching ra_*_clear() (which accepts a
 * zeroed or already cleared struct). Input strings are borrowed for the
 * call.
 */
#ifndef CERTDESK_RA_RA_H
#define CERTDESK_RA_RA_H

#include "util/rc.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;
struct store_org_doc;
struct ca;
struct ca_keycheck;
struct val_ctx;
struct sec;

/* The Baseline Requirements version recorded with every validation. */
#define RA_BR_VERSION "2.2.2"

/* ---- problems (RFC 8555 §6.7) -------------------------------------------- */

/*
 * The ACME problem a failure maps to. The values equal src/acme/acme_int.h's
 * enum acme_prob one for one (same order), so the acme layer may convert
 * with a cast; ra does not include acme headers. ra_prob_name() gives the
 * RFC 8555 short name ("badCSR"); the URN is
 * "urn:ietf:params:acme:error:" + name.
 */
enum ra_prob {
	RA_PROB_NONE = 0,
	RA_PROB_ACCOUNT_DOES_NOT_EXIST,
	RA_PROB_ALREADY_REPLACED,	/* RFC 9773 §7.4 */
	RA_PROB_ALREADY_REVOKED,
	RA_PROB_BAD_CSR,
	RA_PROB_BAD_NONCE,
	RA_PROB_BAD_PUBLIC_KEY,
	RA_PROB_BAD_REVOCATION_REASON,
	RA_PROB_BAD_SIGNATURE_ALGORITHM,
	RA_PROB_CAA,
	RA_PROB_COMPOUND,
	RA_PROB_CONNECTION,
	RA_PROB_DNS,
	RA_PROB_EXTERNAL_ACCOUNT_REQUIRED,
	RA_PROB_INCORRECT_RESPONSE,
	RA_PROB_INVALID_CONTACT,
	RA_PROB_INVALID_PROFILE,	/* draft-ietf-acme-profiles */
	RA_PROB_MALFORMED,
	RA_PROB_ORDER_NOT_READY,
	RA_PROB_RATE_LIMITED,
	RA_PROB_REJECTED_IDENTIFIER,
	RA_PROB_SERVER_INTERNAL,
	RA_PROB_TLS,
	RA_PROB_UNAUTHORIZED,
	RA_PROB_UNSUPPORTED_CONTACT,
	RA_PROB_UNSUPPORTED_IDENTIFIER,
	RA_PROB_USER_ACTION_REQUIRED,
	RA_PROB_MAX_
};

/* "badCSR", "orderNotReady", ...; "serverInternal" for unknown values. */
const char *ra_prob_name(enum ra_prob p);
/* The inverse of ra_prob_name(); RA_PROB_NONE when unknown. Accepts the
 * short name or the full URN. */
enum ra_prob ra_prob_parse(const char *name);

#define RA_MAX_SUBPROBLEMS 8

/* RFC 8555 §6.7.1: the problem of one identifier. */
struct ra_subproblem {
	enum ra_prob problem;
	char type[8];			/* identifier type: "dns", "ip" */
	char value[256];		/* identifier value as sent (cut at
					 * 255 bytes, control characters
					 * replaced by '?'; bytes over 0x7e
					 * too unless valid UTF-8) */
	char detail[160];
};

/*
 * What went wrong. Initialise with {0}. Filled only on failure. With
 * subproblems, problem is usually RA_PROB_REJECTED_IDENTIFIER or
 * RA_PROB_COMPOUND and detail summarises; at most RA_MAX_SUBPROBLEMS are
 * kept (nsub_total counts all, so "and 3 more" can be said).
 */
struct ra_err {
	enum ra_prob problem;
	long retry_after;	/* rateLimited: seconds to wait (Retry-After),
				 * else 0 */
	struct rc_detail detail;
	size_t nsub;
	size_t nsub_total;
	struct ra_subproblem sub[RA_MAX_SUBPROBLEMS];
};

/* ---- the handle ---------------------------------------------------------- */

/* A rate limit: at most count per period seconds; count 0: off. */
struct ra_limit {
	int count;
	long period;
};

struct ra_conf {
	/*
	 * The account URL is account_url_prefix followed by the decimal
	 * account id, e.g. "https://acme.example:8443/acme/acct/" -> ".../7".
	 * Used for the CAA accounturi parameter (RFC 8657 §3); must equal the
	 * "kid" URLs the acme layer hands out. Required.
	 */
	const char *account_url_prefix;
	int require_eab;		/* acme.require_eab: newAccount needs
					 * an EAB binding */
	int allow_ip;			/* acme.allow_ip: accept "ip"
					 * identifiers (RFC 8738; otherwise
					 * rejectedIdentifier): canonical
					 * text, http-01 and tls-alpn-01
					 * only, no CAA, reserved addresses
					 * refused unless trust_private;
					 * finalize then takes iPAddress
					 * SANs (exactly the order's) and
					 * the CA certifies them (DV) */
	/* policy.blocked_names: file of names, one a line, '#' comments;
	 * "example.com" blocks that name and every name below it, "*" is not
	 * special. NULL or "": none. Read by ra_open(). */
	const char *blocked_names;
	/* Weak-key and compromised-key lists applied to CSR keys at
	 * finalize (the CA's, borrowed, must outlive the ra); NULL skips
	 * them (tests only). */
	const struct ca_keycheck *keycheck;
	/* Remote perspectives (BR 3.2.2.9), borrowed, must outlive the
	 * ra: every domain validation and CAA check that succeeds is asked
	 * of them too (val_mpic_corroborate). NULL: the primary alone. */
	struct val_mpic *mpic;
	time_t now;			/* 0: real clock; tests pin time */
	/* Lifetimes in seconds; 0 selects the default given. */
	long order_lifetime;		/* pending order: 7 days */
	long authz_lifetime;		/* pending authorization: 7 days */
	long nonce_lifetime;		/* nonce: 1 hour */
	long job_lease;			/* a claimed validation job is
					 * re-run by another worker after
					 * this: 120 s */
	size_t max_identifiers;		/* per order: 100 (CA_MAX_NAMES)
					 * at most */
	size_t max_contacts;		/* per account: 4 */
	/* "https://host[:port]" the portal is reached at, for the links in
	 * notification mail (borrowed; NULL: the links are paths only) */
	const char *portal_url;
	/* Domain validation of portal orders ([dv], [policy] trust); 0
	 * selects the default given. */
	int dv_email_off;		/* 1: dv.email = off */
	int dv_email_token_days;	/* link lifetime: 30 (at most 30) */
	long dv_email_resend_s;		/* between two sends: 600; < 0: no
					 * wait */
	int dv_email_max_sends;		/* per name: 5 */
	long dv_retry_s;		/* dns and http re-checks: 30 */
	int trust_private;		/* policy.trust = private: a method
					 * past its calendar date is kept */
	/* ACME rate limits (acme.limit_*, limits.c); zeroed: all off */
	struct ra_limit lim_accounts_ip;	/* new accounts per IPv4 */
	struct ra_limit lim_accounts_ip6;	/* ... per IPv6 /48 */
	struct ra_limit lim_orders;		/* new orders per account */
	struct ra_limit lim_failed;		/* failed validations per
						 * account and name */
	struct ra_limit lim_domain;		/* certificates per
						 * registered domain */
	struct ra_limit lim_duplicate;		/* certificates per set of
						 * names */
	/* acme.limit_overrides: file of other limits for some subjects,
	 * one a line, "LIMIT SUBJECT COUNT/PERIOD|off" (limits.c); NULL or
	 * "": none. Read by ra_open(). */
	const char *limit_overrides;
	/* Both files read once by ra_policy_load() for every ra of a
	 * server (borrowed; then blocked_names and limit_overrides are not
	 * read), so that all of them apply the same, whenever one is made;
	 * NULL: ra_open() reads them. */
	const struct ra_policy *policy;
};

struct ra_policy;
/* Reads the blocked-names and overrides files (either may be NULL or
 * ""): RC_CONFIG with d saying file, line and why. Free with
 * ra_policy_free() (NULL is fine) after every ra using it. */
int ra_policy_load(const char *blocked_names, const char *limit_overrides,
    struct ra_policy **out, struct rc_detail *d);
void ra_policy_free(struct ra_policy *p);

struct ra;

/*
 * Opens a registration authority over borrowed handles, all of which must
 * outlive it:
 *   st        the thread's store (durable);
 *   ca        the thread's CA handle (finalize issues through it, revoke
 *             revokes through it); may be NULL for a handle that only
 *             serves accounts, nonces and validations (then finalize and
 *             revocation fail with RC_STATE, serverInternal);
 *   val       the thread's validation context, or NULL (then every
 *             validation and CAA check fails with serverInternal).
 * conf is copied. Reads the blocked-names file: RC_CONFIG with d when it
 * cannot be read. Returns a new handle in *out: ra_free().
 */
int ra_open(const struct ra_conf *conf, struct store *st, struct ca *ca,
    struct val_ctx *val, struct ra **out, struct rc_detail *d);
void ra_free(struct ra *ra);	/* NULL is fine */

/*
 * For an ra opened without a validation context: get lends one for each
 * validation, CAA check or DNS provider lookup, which put takes back
 * (called on the same thread, around the check). A validation context
 * costs about 2 MB (its resolver's port tables and caches), so request
 * contexts share a pool of them instead of holding one each.
 */
void ra_set_val_pool(struct ra *ra, int (*get)(void *arg,
    struct val_ctx **out), void (*put)(void *arg, struct val_ctx *v),
    void *arg);

/* The time the ra works with (conf.now, or the real clock). */
time_t ra_now(const struct ra *ra);

/* ---- statuses (RFC 8555 §7.1.6) ------------------------------------------ */

enum ra_status {
	RA_ST_PENDING = 0,
	RA_ST_READY,		/* orders */
	RA_ST_PROCESSING,	/* orders, challenges */
	RA_ST_VALID,
	RA_ST_INVALID,
	RA_ST_DEACTIVATED,	/* accounts, authorizations */
	RA_ST_EXPIRED,		/* authorizations */
	RA_ST_REVOKED		/* accounts, authorizations */
};

/* "pending", "ready", ...; "invalid" for unknown values. */
const char *ra_status_name(enum ra_status s);

/* ---- names policy (shared with the portal) ------------------------------- */

/*
 * Applies the issuance naming policy to one DNS identifier as a client
 * sent it (util/dnsname for the form, then ca_name_check() for the CA's
 * rules): lowercases ASCII; refuses a trailing dot, U-labels (send IDNs
 * as A-labels), invalid A-labels (libidn2), labels and names over the DNS
 * limits, characters other than LDH, names that are not fully qualified or
 * end in an all-numeric label, "*" anywhere but as the whole leftmost
 * label, wildcards without allow_wildcard or directly on a public suffix
 * (libpsl, BR 3.2.2.6), and names blocked by configuration. Writes the
 * normalised name ("*.example.com" stays so) to out (254 bytes).
 * Returns 0, or RC_BADNAME with err (rejectedIdentifier; the detail says
 * why).
 */
int ra_name_check(struct ra *ra, const char *name, int allow_wildcard,
    char out[254], struct ra_err *err);

/* ---- accounts (RFC 8555 §7.3) -------------------------------------------- */

#define RA_THUMBPRINT_MAX 64	/* RFC 7638 SHA-256 base64url is 43 */

struct ra_account {
	int64_t id;
	enum ra_status status;	/* valid, deactivated or revoked */
	char *jwk;		/* canonical public JWK, JSON text */
	char thumbprint[RA_THUMBPRINT_MAX + 1];
	char *contact;		/* JSON array of "mailto:" URLs, "[]" when
				 * none */
	int64_t contract_id;	/* EAB-bound contract, 0 when none */
	char *eab_kid;		/* the EAB key id used, or NULL */
	time_t created_at;
};

void ra_account_clear(struct ra_account *a);

/*
 * Creates an account (RFC 8555 §7.3). jwk: the canonical JWK JSON text of
 * the verified JWS key (acme_key_jwk()); thumbprint: its RFC 7638
 * thumbprint (base64url, the lookup key). contact_json: a JSON array text
 * of contact URLs, or NULL for none: each must be "mailto:" with exactly
 * one plausible address (local@domain.tld, domain passes the names policy,
 * no hfields "?...", no "%" escapes, no spaces or commas), at most
 * max_contacts (RA_PROB_INVALID_CONTACT; a scheme other than mailto is
 * RA_PROB_UNSUPPORTED_CONTACT).
 * eab_kid: the key id of an External Account Binding whose MAC the caller
 * already verified with the key from ra_eab_lookup(), or NULL. The binding
 * is made in the same transaction as the account: the key must still be
 * unbound (else RC_UNAUTH, unauthorized: "EAB key already used"), and the
 * account gets the key's contract. With conf.require_eab and no eab_kid:
 * RC_UNAUTH, RA_PROB_EXTERNAL_ACCOUNT_REQUIRED.
 * When an account with this thumbprint exists: RC_EXISTS, *out is filled
 * with that account (RFC 8555 §7.3.1: answer 200 with it) and nothing is
 * bound. Audited ("acme.account.new"). On success *out is the new account.
 */
int ra_account_new(struct ra *ra, const char *jwk, const char *thumbprint,
    const char *contact_json, const char *eab_kid, struct ra_account *out,
    struct ra_err *err);
/*
 * Whether an account key (its SubjectPublicKeyInfo, DER) may be used for
 * a new account or a key change: not known compromised, neither by a
 * keyCompromise revocation (blocked_keys) nor by the key lists of
 * conf.keycheck (Debian weak keys, policy.compromised_keys). 0, or
 * RC_WEAKKEY with RA_PROB_BAD_PUBLIC_KEY.
 */
int ra_account_key_allowed(struct ra *ra, const uint8_t *spki, size_t len,
    struct ra_err *err);

/*
 * A key compromise reported by anyone (BR 4.9.3), with proof: a PKCS#10
 * request signed by the key whose subject CN is exactly RA_KEY_PROOF_CN,
 * so that no request made for a certificate can serve. The key is
 * blocked and every live certificate of it revoked for keyCompromise
 * (ca_block_key; audited as "report:<client_ip>" with contact, which may
 * be NULL). RC_BADCSR (badCSR) with why when the proof does not hold;
 * RC_INVAL with why when contact is not one ra_key_report_contact()
 * accepts (nothing is done then).
 *
 * In the same transaction as the revocations it queues the preliminary
 * report BR 4.9.5 asks for (within 24 hours, to the subscriber and to the
 * reporter) in the mail outbox: to contact when it is an email address
 * (the key's SPKI SHA-256, that the proof verified, the serials revoked
 * and when, that the key is blocked; not who the subscribers are), and
 * to the contacts of each subscriber whose certificates were revoked
 * (the portal order's contacts, the ACME account's mailto: addresses),
 * each told about their own certificates only; audited
 * "key.report.mail" with who was told about what. *out says what was
 * done.
 *
 * The reporter's address gets at most RA_KEY_REPORT_MAILS_PER_DAY of
 * these mails a day (its case and a "+tag" not counting): past that the
 * report is acted on all the same (a valid compromise report is never
 * refused) but not mailed to the reporter, which out->reporter_limited
 * and the audit entry say; so nobody can make certdesk flood a mailbox
 * by reporting keys made up for it.
 */
#define RA_KEY_PROOF_CN "Proof of key compromise"
/* Reports whose proof verified, per client address (an IPv6 /48) and
 * hour: more are rateLimited (RC_POLICY) before anything is done. */
#define RA_KEY_REPORTS_PER_HOUR 20
int ra_limit_key_report(struct ra *ra, const char *ip, struct ra_err *err);
/* Preliminary reports mailed to one reporter address per day. */
#define RA_KEY_REPORT_MAILS_PER_DAY 5
struct ra_key_report_res {
	size_t revoked;			/* certificates revoked */
	int reporter_mailed;		/* a report to contact is queued */
	int reporter_limited;		/* none is: contact had its
					 * RA_KEY_REPORT_MAILS_PER_DAY */
	size_t subscriber_mails;	/* mails queued to subscribers */
	size_t no_contact;		/* revoked certificates whose
					 * subscriber has no address to
					 * tell */
};
int ra_key_report(struct ra *ra, const uint8_t *csr, size_t len,
    const char *contact, const char *client_ip,
    struct ra_key_report_res *out, struct ra_err *err);

/*
 * The subscribers of certificates revoked for key compromise, told by
 * mail (keynotice.c). A key known compromised loses every certificate
 * (BR 4.9.1.1 (3)), other subscribers' too; as Boulder's bad-key-revoker,
 * each subscriber is told, in the transaction of the revocations:
 * ra_key_notice_init() fills *hook for ca_block_key(),
 * ca_block_key_hash(), ca_revoke() and ca_revoke_many() (keyCompromise)
 * with kn as its state (kn must outlive the call). Each subscriber of a
 * revoked certificate (a portal order's contacts, an ACME account's
 * mailto: contacts) gets one mail per address about its own certificates
 * (kind "key.revoked"): why, the serials, names and overview links, the
 * key and what to do. With cause RA_KEY_SUBSCRIBER the subscriber that
 * revoked the requested certificate itself is not told about that one,
 * only about its other certificates of the key; with any other cause
 * (whoever asked speaks for no subscriber) every revoked certificate is
 * told of. Audited "key.revoke.mail" ("key.report.mail" for
 * RA_KEY_REPORT) as actor, object "key:<spki sha256>", with who was told
 * about which serials.
 */
enum ra_key_cause {
	RA_KEY_REPORT,		/* a proof on /report-key (ra_key_report) */
	RA_KEY_HOLDER,		/* an ACME revocation signed by the
				 * certificate's key: its holder, who may or
				 * may not be the subscriber */
	RA_KEY_SUBSCRIBER,	/* the subscriber revoked one of its own
				 * certificates for keyCompromise (the ACME
				 * account that ordered it, the portal
				 * customer) */
	RA_KEY_OPERATOR		/* certdesk ca block-key, ca revoke */
};
struct ca_block_hook;
struct ra_key_notice {
	/* set by ra_key_notice_init() */
	struct ra *ra;
	enum ra_key_cause cause;
	char actor[96];			/* of the audit entry */
	const char *reporter;		/* RA_KEY_REPORT: the reporter's
					 * address, or NULL (audited) */
	int reporter_limited;		/* RA_KEY_REPORT: reporter is not
					 * mailed, its address had its
					 * mails today (audited; set by
					 * keyreport.c's hook) */
	/* set by each run of the hook: of its last transaction */
	size_t mails;			/* subscriber mails queued */
	size_t no_contact;		/* revoked certificates told of
					 * whose subscriber has no address */
};
void ra_key_notice_init(struct ra_key_notice *kn, struct ra *ra,
    enum ra_key_cause cause, const char *actor, struct ca_block_hook *hook);

/*
 * The reporter's contact of a key report: NULL or "" (none), an https://
 * URL (kept with the report; no mail goes there), or one plain email
 * address (local@domain, at most 254 characters, printable ASCII without
 * spaces, quotes or the characters that end an address in a header, one
 * '@', a local part of at most 64 characters with no misplaced dot, a
 * fully qualified DNS name as domain). RA_KEY_CONTACT_NONE, _URL or
 * _EMAIL; else RC_INVAL with a sentence for the reporter in err.
 */
enum {
	RA_KEY_CONTACT_NONE = 0,
	RA_KEY_CONTACT_URL = 1,
	RA_KEY_CONTACT_EMAIL = 2
};
int ra_key_report_contact(const char *contact, struct ra_err *err);
/* The same for a request from client_ip (text; NULL: not from the
 * network, as from the CLI), which counts against the new-accounts limit
 * of its address unless eab_kid binds it: rateLimited (RC_POLICY) when
 * full. An unknown client ("?", http_req_client_addr) counts in one
 * bucket with every other unknown one. */
/* key_sha256: the SHA-256 of the key's SubjectPublicKeyInfo (found by it
 * when the key is blocked later; checked against blocked_keys in the
 * account's transaction: RC_WEAKKEY, badPublicKey), or NULL. */
int ra_account_new_from(struct ra *ra, const char *client_ip,
    const char *jwk, const char *thumbprint, const uint8_t *key_sha256,
    const char *contact_json, const char *eab_kid, struct ra_account *out,
    struct ra_err *err);

/* Lookups. RC_NOTFOUND (accountDoesNotExist) when unknown. Accounts of
 * every status are returned: the caller refuses requests signed by a
 * deactivated or revoked account (RFC 8555 §7.3.6: unauthorized). */
int ra_account_get(struct ra *ra, int64_t id, struct ra_account *out,
    struct ra_err *err);
int ra_account_by_thumbprint(struct ra *ra, const char *thumbprint,
    struct ra_account *out, struct ra_err *err);

/* Replaces the contact list (same checks as ra_account_new; NULL or "[]"
 * empties it). RC_STATE (unauthorized) unless the account is valid.
 * Audited. *out (may be NULL) gets the updated account. */
int ra_account_update_contact(struct ra *ra, int64_t id,
    const char *contact_json, struct ra_account *out, struct ra_err *err);

/* RFC 8555 §7.3.6: valid -> deactivated, for good. Pending and ready
 * orders of the account become invalid, its pending and valid
 * authorizations deactivated. RC_STATE (unauthorized) when not valid.
 * Audited. *out (may be NULL) gets the updated account. */
int ra_account_deactivate(struct ra *ra, int64_t id, struct ra_account *out,
    struct ra_err *err);
/* The same done for the contract the account is bound to (the customer
 * cutting off an ACME client whose key leaked), audited as done by actor
 * ("portal:user/12"): RC_NOTFOUND also for another contract's account. */
int ra_account_deactivate_for(struct ra *ra, int64_t id, int64_t contract_id,
    const char *actor, struct ra_err *err);
/* The CA's side (RFC 8555 §7.1.6 "revoked"): valid -> revoked, for good,
 * by the operator (actor, reason for the audit log: RC_INVAL unless
 * ra_revoke_reason_ok()), with the side effects of deactivation, its
 * authorizations "revoked"; its orders' error says so. RC_NOTFOUND,
 * RC_STATE (unauthorized) when not valid. A key blocked as compromised
 * revokes its account the same way (store_acme_account_revoke_key). */
int ra_account_revoke(struct ra *ra, int64_t id, const char *actor,
    const char *reason, struct ra_err *err);
/* 1 when reason may be an account revocation's: 1 to
 * RA_REVOKE_REASON_MAX bytes, not only white space. */
#define RA_REVOKE_REASON_MAX 1000
int ra_revoke_reason_ok(const char *reason);

/*
 * RFC 8555 §7.3.5 key change: the caller verified the outer JWS with the
 * old key and the inner one with the new key. Replaces the account's JWK
 * and thumbprint (and new_key_sha256, the SHA-256 of its
 * SubjectPublicKeyInfo, may be NULL: RC_WEAKKEY, badPublicKey, when it is
 * blocked) atomically. RC_EXISTS when another account (or this one)
 * already has the new key: *other_id (may be NULL) gets its id (answer 409
 * with its URL as Location). RC_STATE (unauthorized) unless valid, and
 * when old_thumbprint (the key that signed the request; NULL: not
 * checked) is no longer the account's key: of two key changes signed with
 * one key at once, only the first commits. Audited. *out (may be NULL)
 * gets the updated account.
 */
int ra_account_key_change(struct ra *ra, int64_t id,
    const char *old_thumbprint, const char *new_jwk,
    const char *new_thumbprint, const uint8_t *new_key_sha256,
    int64_t *other_id, struct ra_account *out, struct ra_err *err);

/* ---- External Account Binding keys (RFC 8555 §7.3.4) --------------------- */

#define RA_EAB_KID_LEN 22	/* base64url of 16 random bytes */
#define RA_EAB_KEY_LEN 32	/* HMAC key bytes */

/*
 * Creates an EAB key for a contract: a random key id and a random 32-byte
 * HMAC key, stored server-side (the MAC must be verified later). The key is
 * returned once, in *key (a new sec buffer: sec_free()); show it to the
 * admin/customer base64url-encoded. RC_NOTFOUND when the contract does not
 * exist. Audited ("acme.eab.create" by actor, e.g. "cli:root" or
 * "user:12"; NULL: "system"), without the key.
 */
int ra_eab_create(struct ra *ra, int64_t contract_id, const char *actor,
    char kid[RA_EAB_KID_LEN + 1], struct sec **key, struct rc_detail *d);
/*
 * Revokes an unused EAB key of a contract: deleted, so that it can bind no
 * account. Audited ("acme.eab.revoke" by actor). RC_NOTFOUND when the
 * contract has no such key (or kid is malformed), RC_STATE when it already
 * bound an account (the account stays; deactivate it with its own key).
 */
int ra_eab_revoke(struct ra *ra, int64_t contract_id, const char *kid,
    const char *actor);

/*
 * Looks up an EAB key by its id for MAC verification: *key gets a new sec
 * buffer (sec_free()), *contract_id its contract. A key that bound an
 * account already is returned too: a key may bind one account only (as
 * Boulder and step-ca), but ra_account_new_from() says so, after the
 * caller verified the MAC, so that only the key's holder learns it. An
 * unknown or malformed kid gives RC_UNAUTH (unauthorized); the caller
 * answers it as it answers a wrong MAC, lest it tell anyone which key ids
 * exist.
 */
int ra_eab_lookup(struct ra *ra, const char *kid, struct sec **key,
    int64_t *contract_id, struct ra_err *err);

/* ---- nonces (RFC 8555 §6.5) ---------------------------------------------- */

#define RA_NONCE_LEN 32		/* base64url of 24 bytes, see ra_nonce_new() */

/*
 * A fresh nonce: base64url(issued (4 bytes, big endian Unix time) || the
 * store's next nonce number (8 bytes, big endian, store_nonce_next) || the
 * first 12 bytes of HMAC-SHA-256 over those 12 under the key shared
 * through the database). Any instance on the same database can check it,
 * also after a restart. Valid for conf.nonce_lifetime. Returns 0 or
 * RC_DB / RC_CRYPTO.
 */
int ra_nonce_new(struct ra *ra, char out[RA_NONCE_LEN + 1]);
/*
 * Redeems a nonce: checks its MAC and age, then takes its number in the
 * store's nonce ring (store_nonce_use, shared by every instance, so a
 * replay fails on all of them). 0 when good, RC_NOTFOUND (badNonce) when
 * forged, used, expired, too old for the ring or malformed; RC_DB.
 */
int ra_nonce_redeem(struct ra *ra, const char *nonce);

/* ---- orders, authorizations, challenges (RFC 8555 §7.1, §7.4, §7.5) ------ */

enum ra_chall_type {
	RA_CHALL_HTTP01 = 1,
	RA_CHALL_DNS01,
	RA_CHALL_TLSALPN01
};
/* "http-01", "dns-01", "tls-alpn-01"; NULL when unknown. */
const char *ra_chall_type_name(enum ra_chall_type t);

#define RA_TOKEN_LEN 43		/* base64url of 32 random bytes (RFC 8555
				 * §8.3: at least 128 bits) */

struct ra_challenge {
	int64_t id;
	int64_t authz_id;
	enum ra_chall_type type;
	enum ra_status status;	/* pending, processing, valid, invalid */
	char token[RA_TOKEN_LEN + 1];
	time_t validated_at;	/* when it turned valid, 0 otherwise */
	enum ra_prob error;	/* why invalid; RA_PROB_NONE otherwise */
	char *error_detail;	/* NULL unless invalid */
	char *error_json;	/* the whole problem document (RFC 7807:
				 * "type" URN, "detail"), ready to embed as
				 * the challenge's "error"; NULL unless
				 * invalid */
};

void ra_challenge_clear(struct ra_challenge *c);

#define RA_MAX_CHALLENGES 3

/*
 * An authorization: one identifier of one account, shared by every order
 * of that account that names the identifier while it can be reused.
 */
struct ra_authz {
	int64_t id;
	int64_t account_id;
	char type[8];		/* "dns" or "ip" */
	char identifier[254];	/* without "*." */
	int wildcard;		/* 1: for "*.identifier" */
	enum ra_status status;	/* pending, valid, invalid, deactivated,
				 * expired (derived from expires_at),
				 * revoked */
	time_t expires_at;	/* pending: deadline; valid: end of reuse */
	time_t validated_at;	/* 0 unless valid */
	char method[16];	/* "http-01"... once valid, else "" */
	size_t nchall;
	struct ra_challenge chall[RA_MAX_CHALLENGES];
};

void ra_authz_clear(struct ra_authz *a);

struct ra_order {
	int64_t id;
	int64_t account_id;
	enum ra_status status;	/* pending, ready, processing, valid,
				 * invalid (derived on read, §7.1.6) */
	time_t created_at;
	time_t expires_at;
	size_t nident;
	char **ident_type;	/* "dns" / "ip", nident entries */
	char **ident;		/* as normalised: "*.example.com" keeps its
				 * star; nident entries */
	size_t nauthz;
	int64_t *authz_ids;	/* one per identifier, same order */
	char cert_serial[41];	/* lowercase hex once valid, else "" */
	enum ra_prob error;	/* why invalid, RA_PROB_NONE otherwise */
	char *error_detail;	/* NULL unless invalid */
	char *error_json;	/* the whole problem document ("type" URN,
				 * "detail", "subproblems" with
				 * "identifier" objects), ready to embed as
				 * the order's "error"; NULL unless invalid */
	char *replaces;		/* the certID (RFC 9773) of the certificate
				 * it replaces, or NULL */
	const char *acme_profile;	/* its ACME profile's name (static:
					 * ra_acme_profiles) */
};

void ra_order_clear(struct ra_order *o);

/*
 * ACME profiles (draft-ietf-acme-profiles, as Let's Encrypt offers them):
 * what newOrder's "profile" may name, listed in the directory's meta.
 * "classic", the default, is the validity the calendar allows on the day
 * of issuance; "shortlived" is 160 hours, for clients that renew every
 * few days (BR 7.1.2.11: a short-lived certificate needs no revocation
 * checking by relying parties; certdesk still gives it CRL and OCSP).
 */
struct ra_acme_profile {
	const char *name, *description;
	long validity_s;		/* 0: the calendar's */
};
extern const struct ra_acme_profile ra_acme_profiles[];	/* name NULL ends */
/* The profile named name (NULL: the default), or NULL when unknown. */
const struct ra_acme_profile *ra_acme_profile_find(const char *name);

/* An identifier of a newOrder request, borrowed. */
struct ra_ident {
	const char *type;	/* "dns" or "ip"; others are refused with
				 * unsupportedIdentifier */
	const char *value;
};

/*
 * newOrder (RFC 8555 §7.4) for a valid account. Every identifier is
 * checked by ra_name_check() (wildcards allowed), an "ip" one (allow_ip,
 * RFC 8738) parsed with inet_pton and kept in inet_ntop form (IPv4 dotted
 * quad, IPv6 RFC 5952; zone ids, trailing dots, leading zeros malformed;
 * IPv4-mapped IPv6 and, unless trust_private, IANA special-purpose
 * addresses rejectedIdentifier, BR 4.2.2), duplicates (after
 * normalisation) are merged, at least one and at most max_identifiers.
 * Bad identifiers give RC_BADNAME with one subproblem each
 * (rejectedIdentifier, unsupportedIdentifier, malformed) and the top-level
 * problem of the only one, or rejectedIdentifier for several; an empty or
 * oversized list gives RC_INVAL (malformed). Either way nothing is made. Per identifier an authorization is reused when the
 * account holds a valid one for the same identifier and wildcard flag,
 * validated within ca_cal_dv_reuse_days(now) days and unexpired, or a
 * pending one that has not expired (as Boulder); else a new pending one
 * is made with an http-01, a dns-01 and a tls-alpn-01 challenge (dns-01
 * only for a wildcard; no dns-01 for "ip"), each with a fresh random
 * token. The order expires after order_lifetime, but not after any of its
 * authorizations. An order whose authorizations are all reused valid ones
 * is ready at once. RC_STATE (unauthorized) for an account that is not
 * valid. Audited ("acme.order.new"). *out gets the order.
 */
int ra_order_new(struct ra *ra, int64_t account_id,
    const struct ra_ident *idents, size_t n, struct ra_order *out,
    struct ra_err *err);

/* A certificate named by its certID (RFC 9773 §4.1) parts: aki, the
 * keyIdentifier of its AuthorityKeyIdentifier, and serial, the DER INTEGER
 * contents octets of its serial (both decoded from base64url). */
/* base64url without padding of p[0..n) into out (4n/3 + 2 bytes): key
 * ids, keys and tokens as clients are given them. */
void ra_b64u(const uint8_t *p, size_t n, char *out);

/* A certID's text: base64url of at most 64 and 20 octets, a dot, a NUL */
#define RA_CERTID_MAX 120
struct ra_certid {
	const uint8_t *aki;
	size_t aki_len;
	const uint8_t *serial;
	size_t serial_len;
};

/*
 * ra_order_new for an order that replaces a certificate (RFC 9773 §5,
 * newOrder's "replaces"; NULL: none), as Boulder checks it: a certificate
 * of ours (else RC_NOTFOUND, malformed), issued to this account (else
 * RC_UNAUTH, unauthorized), sharing at least one identifier with the order
 * (else RC_INVAL, malformed), and with no other live replacement order
 * (store_order_replacing(); else RC_EXISTS, alreadyReplaced, which ACME
 * answers with 409). The check and the new order are one transaction. The
 * order keeps the canonical certID (struct ra_order.replaces) and counts
 * as a renewal for the rate limits: not refused, nor counted, by the
 * certificates per domain.
 */
int ra_order_new_replacing(struct ra *ra, int64_t account_id,
    const struct ra_ident *idents, size_t n, const struct ra_certid *replaces,
    struct ra_order *out, struct ra_err *err);
/* ra_order_new_replacing() with an ACME profile (NULL: the default); an
 * unknown one is RC_INVAL, invalidProfile. */
int ra_order_new_profile(struct ra *ra, int64_t account_id,
    const struct ra_ident *idents, size_t n, const struct ra_certid *replaces,
    const char *profile, struct ra_order *out, struct ra_err *err);

/* The order, its status derived and stored if it moved (pending -> ready
 * when every authorization is valid; -> invalid when one is invalid,
 * deactivated, expired or revoked, or the order expired). RC_NOTFOUND when
 * unknown or another account's. */
int ra_order_get(struct ra *ra, int64_t account_id, int64_t order_id,
    struct ra_order *out, struct ra_err *err);

/*
 * The account's orders (RFC 8555 §7.1.2.1: not the invalid ones, nor
 * those expired before they became valid), newest first, with id below
 * `before` (0: from the newest): at most max ids into ids, *n set; *more
 * = 1 when older ones remain (answer a Link rel="next" with
 * before = ids[*n - 1]).
 */
int ra_account_orders(struct ra *ra, int64_t account_id, int64_t before,
    int64_t *ids, size_t max, size_t *n, int *more);

/* An authorization with its challenges (status derived: a pending or
 * valid one past expires_at reads expired). RC_NOTFOUND when unknown or
 * another account's. */
int ra_authz_get(struct ra *ra, int64_t account_id, int64_t authz_id,
    struct ra_authz *out, struct ra_err *err);

/* RFC 8555 §7.5.2: pending or valid -> deactivated. RC_STATE (malformed)
 * otherwise. Audited. *out (may be NULL) gets the authorization. */
int ra_authz_deactivate(struct ra *ra, int64_t account_id, int64_t authz_id,
    struct ra_authz *out, struct ra_err *err);

/* One challenge. RC_NOTFOUND when unknown or another account's. */
int ra_challenge_get(struct ra *ra, int64_t account_id, int64_t chall_id,
    struct ra_challenge *out, struct ra_err *err);

/*
 * RFC 8555 §7.5.1: the client says a challenge is ready. A pending
 * challenge of a pending authorization becomes processing, and a job is
 * stored with it in the same transaction (so a restart loses none); the
 * validation itself runs in ra_challenge_validate_now() or ra_jobs_run().
 * Idempotent: a challenge already processing or valid is returned as it
 * is. RC_STATE (malformed) when the challenge or its authorization is
 * invalid, deactivated or expired, or another challenge of the
 * authorization is already processing or done. RC_NOTFOUND when unknown
 * or another account's. *out gets the challenge.
 */
int ra_challenge_respond(struct ra *ra, int64_t account_id, int64_t chall_id,
    struct ra_challenge *out, struct ra_err *err);

/*
 * Runs the validation of a processing challenge now, in the caller's
 * thread, so that the ACME answer already carries the result (clients such
 * as lego otherwise wait 5 s). The job is claimed with a lease first: if
 * another worker holds it, nothing runs and *out shows "processing" (answer
 * with Retry-After). The outcome, in one transaction: the challenge valid
 * or invalid; the authorization valid (method, time, evidence, BR version;
 * expires at validated_at + ca_cal_dv_reuse_days) or invalid (RFC 8555:
 * one attempt); an audit entry "validation.success" / "validation.failure"
 * with the evidence. RC_NOTFOUND when unknown or another account's. A
 * failed validation is not an error: rc 0, out->status invalid, out->error.
 */
int ra_challenge_validate_now(struct ra *ra, int64_t account_id,
    int64_t chall_id, struct ra_challenge *out, struct ra_err *err);

/*
 * ra_challenge_respond() then ra_challenge_validate_now(), with one
 * transaction fewer: a pending challenge becomes processing and its job is
 * claimed in the same transaction (same refusals and results as the two
 * calls). What the ACME server does for a challenge POST.
 */
int ra_challenge_respond_now(struct ra *ra, int64_t account_id,
    int64_t chall_id, struct ra_challenge *out, struct ra_err *err);

/*
 * The validation worker: claims and runs up to max processing challenges
 * whose lease is free or expired (left over by a restart, or lost to a
 * slow request thread), oldest first. *ran (may be NULL) gets how many
 * ran. Also purges expired nonces when it runs, and settles ACME orders
 * left in processing by a crash or a restart (valid when their
 * certificate was stored, else invalid with serverInternal; audited as
 * acme.order.recovered): at its first call and every minute, those
 * processing for five minutes. Call it in a loop from a worker thread
 * with its own ra (and val_ctx).
 */
int ra_jobs_run(struct ra *ra, size_t max, size_t *ran);

/*
 * Finalize (RFC 8555 §7.4): the order must be ready (else RC_STATE,
 * orderNotReady; nothing changes). It moves to processing atomically (one
 * finalize wins), then: the CSR is parsed with ca_csr_parse (weak keys and
 * bad signatures: badCSR / badPublicKey); its set of names must equal the
 * order's identifiers exactly (badCSR with a subproblem per extra or
 * missing name); for every name a valid, unexpired authorization of THIS
 * account must exist (no issuance without validation: unauthorized
 * otherwise); CAA is checked for every name (RFC 8659, RFC 8657 with the
 * account URL and the method that validated it; caa, with subproblems);
 * the certificate is issued by ca_issue (profile dv, actor
 * "acme:account/<id>", the order and the account's contract). Success: the
 * order is valid with the serial, committed but maybe not yet on disk (the
 * certificate goes out through ra_cert_chain_pem() or the portal, which
 * wait for that). Any failure after the ready check: the order is invalid
 * with the problem stored, and rc/err say the same. *out gets the order.
 */
int ra_order_finalize(struct ra *ra, int64_t account_id, int64_t order_id,
    const uint8_t *csr, size_t csr_len, struct ra_order *out,
    struct ra_err *err);

/* ---- certificates -------------------------------------------------------- */

/*
 * RFC 8555 §7.4.2: the PEM chain (end entity, then the issuing CA) of a
 * certificate the account ordered. RC_NOTFOUND when unknown or not the
 * account's (account_id 0: any certificate, for the portal's own checks).
 * *pem is a new string: free().
 */
int ra_cert_chain_pem(struct ra *ra, int64_t account_id, const char *serial,
    char **pem, struct ra_err *err);

/*
 * RFC 8555 §7.6 revocation. cert_der: the certificate as the client sent
 * it; it must be one of ours, byte for byte (else RC_NOTFOUND, malformed).
 * Who may: exactly one of
 *   account_id != 0   the account that ordered it, or an account holding
 *                     valid authorizations for every name in it (as
 *                     Boulder); otherwise RC_UNAUTH (unauthorized);
 *   key_spki != NULL  the DER SubjectPublicKeyInfo of the key the caller
 *                     verified the JWS with (revocation by certificate
 *                     key): must equal the certificate's key.
 * reason: an RFC 5280 code a subscriber may ask for: 0 unspecified,
 * 1 keyCompromise, 3 affiliationChanged, 4 superseded, 5
 * cessationOfOperation (else RC_INVAL, badRevocationReason). As Boulder:
 * by the certificate key it is always keyCompromise (the key is blocked,
 * also when the certificate is revoked already); by an account holding
 * authorizations that did not order it, always cessationOfOperation (it
 * cannot have the subscriber's key blocked). Already revoked: RC_EXISTS
 * (alreadyRevoked). Revokes through ca_revoke(), which audits and
 * republishes the CRL. keyCompromise revokes the key's other
 * certificates too, and their subscribers are told (ra_key_notice_init):
 * by the certificate key as RA_KEY_HOLDER (this certificate's subscriber
 * too), by the account that ordered it as RA_KEY_SUBSCRIBER.
 */
struct ra_revoke_req {
	const uint8_t *cert_der;
	size_t cert_len;
	int reason;
	int64_t account_id;
	const uint8_t *key_spki;
	size_t key_spki_len;
};
int ra_cert_revoke(struct ra *ra, const struct ra_revoke_req *req,
    struct ra_err *err);

/*
 * ACME Renewal Information (RFC 9773 §4.1): the suggested renewal window of
 * the certificate named by its certID parts: aki, the keyIdentifier of its
 * AuthorityKeyIdentifier, and serial, the DER INTEGER contents octets of
 * its serial (both decoded from base64url by the caller). Window: [notBefore
 * + 2/3 of the lifetime, notBefore + 5/6 of it]; for a revoked certificate
 * [now - 1 h, now - 30 min] (renew now, as Boulder). RC_NOTFOUND when no
 * certificate of ours has that serial and AKI.
 */
int ra_ari_window(struct ra *ra, const uint8_t *aki, size_t aki_len,
    const uint8_t *serial, size_t serial_len, time_t *start, time_t *end,
    struct ra_err *err);

/* ---- portal orders (the customer portal's setup form) -------------------- */

/*
 * A portal order fills a certificate slot of a contract. Its
 * authorizations belong to the contract (account_id NULL), one per name,
 * and nothing is issued before every one of them is valid. Products map
 * to profiles: starter and unlimited dv, business and business_wildcard
 * ov, premium ev; names: starter the domain and its www form, business
 * wildcard "*.domain" and the domain, the others the domain alone.
 *
 * An order that ends without a certificate (refused at issuance, its
 * organisation case rejected, expired, its issuance interrupted) leaves
 * the slot as it was before the order: issued with the certificate it
 * held (a failed renewal takes nothing away from the certificate still
 * installed), revoked or expired when that certificate is by then, unused
 * when the slot never held one (SSL Unlimited: active, as activated;
 * store_slot_order_ended decides, for all).
 */
struct ra_portal_contact {
	const char *name, *email, *phone;	/* borrowed, may be NULL */
};

struct ra_portal_org {
	const char *legal_name, *country, *state, *locality, *street,
	    *postal_code;
	const char *registration_number, *jurisdiction, *business_category;
					/* premium (EV) only */
};

struct ra_portal_order_req {
	int64_t customer_id;	/* the asking user's customer; 0: staff */
	int64_t user_id;	/* audit actor "portal:user/<id>" */
	int64_t slot_id;
	const char *domain;	/* as typed */
	const char *purpose;	/* "hosting" or "server" */
	int terms_accepted;
	const uint8_t *csr;	/* PEM or DER, as the browser sent it */
	size_t csr_len;
	struct ra_portal_contact admin, tech;	/* OV/EV products */
	struct ra_portal_org org;		/* OV/EV products */
};

#define RA_MAX_FIELD_ERRS 24

/* What is wrong with the setup form, one message per field (field: the
 * form field's name, e.g. "domain", "csr", "admin_email"; a message may
 * repeat a domain as typed, a long one shortened). csr_ok: the CSR sent
 * parsed, its self-signature verified and its key is accepted, whatever
 * its names or the other fields: a form refused for something else may
 * offer the same CSR again, so that the key the customer saved stays
 * usable. */
struct ra_field_errs {
	size_t n;
	struct {
		char field[32];
		char msg[320];		/* in the customer's words */
		char tech[320];		/* "" or the technical reason, for
					 * the API's JSON (the form shows
					 * msg) */
	} e[RA_MAX_FIELD_ERRS];
	int csr_ok;
};

/*
 * Places a portal order: checks that the slot exists and belongs to the
 * customer (RC_NOTFOUND otherwise, as for a slot that does not exist), that
 * it can take an order (RC_STATE with err's detail: an order is already in
 * progress, Unlimited not activated, cancelled; an order of the slot that
 * expired is ended first, ra_portal_orders_expire), every field (RC_INVAL
 * with one message per bad field in *fe: domain by ra_name_check() and the
 * product's rules, purpose, terms, contacts and organisation for OV/EV, the
 * CSR parsed by ca_csr_parse() with the CA's key checks and naming exactly
 * the order's names). Text fields are read without the blanks around them,
 * the country codes folded to upper case, and the domain as the browser
 * reads it: letters folded, one trailing dot dropped, U-labels converted to
 * A-labels (util/dnsname, libidn2 UTS #46 nontransitional); the order and
 * its details keep them so. Then, in one transaction: the order (pending, with
 * the CSR as DER and the details as JSON), a pending authorization per
 * name, the slot moved to pending, an audit entry "portal.order.new".
 * *order_id gets the order's id.
 */
int ra_portal_order_new(struct ra *ra, const struct ra_portal_order_req *req,
    int64_t *order_id, struct ra_field_errs *fe, struct ra_err *err);

/* A portal order as the customer sees it; also an ACME order of an
 * EAB-bound account of a portal contract (acme 1, slot_id 0, product
 * "acme"): read-only in the portal, its ACME client renews it. */
struct ra_portal_order {
	int64_t id, contract_id, slot_id;
	int acme;		/* 1: placed over ACME (no slot) */
	char product[24];	/* the slot's product, or "acme" */
	char profile[4];	/* "dv", "ov", "ev" */
	char status[12];	/* the store's order status */
	/* "validation_pending", "org_validation_pending", "issued",
	 * "expiring" (< 30 days left), "expired", "revoked", "rejected" */
	char state[24];
	char *names;		/* space-separated */
	char *details;		/* JSON text (purpose, contacts, org) */
	char *error;		/* why rejected (text), or NULL */
	char cert_serial[41];	/* "" until issued */
	time_t created_at, not_before, not_after, revoked_at;
	size_t nauthz, nvalid;	/* authorizations, valid ones */
	/* a reissue for other names: the names of the slot's previous
	 * certificate, which is revoked (superseded) at replaced_revoke_at,
	 * or RA_REISSUE_GRACE after this order issues while replaced_revoke_at
	 * is 0; NULL when the order replaces nothing that way */
	char *replaced_names;
	time_t replaced_revoke_at;
	/* the other side: this order's certificate is replaced by the slot's
	 * reissue for other names, order superseded_by (for
	 * superseded_by_names), and revoked (superseded) at
	 * superseded_revoke_at, or RA_REISSUE_GRACE after that order issues
	 * while superseded_revoke_at is 0 (it waits); superseded_by is 0 when
	 * nothing replaces it that way, and once it is revoked or expired */
	int64_t superseded_by;
	char *superseded_by_names;
	time_t superseded_revoke_at;
	/* a renewal: this order's certificate (not revoked) was followed on
	 * its slot by order renewed_by's, which covers all of its names and
	 * is not revoked either, so that one is to be installed (this one
	 * stays valid until it expires); 0 when none, and when a reissue
	 * for other names replaces it (superseded_by) */
	int64_t renewed_by;
};
void ra_portal_order_clear(struct ra_portal_order *o);

/* The order when the customer may see it (customer_id 0: any): a portal
 * order, or an ACME order of an account bound to the customer's contract
 * (acme set); else RC_NOTFOUND. */
int ra_portal_order_get(struct ra *ra, int64_t customer_id, int64_t order_id,
    struct ra_portal_order *out);
/* The order whose certificate slot slot_id holds (the slot's newest order
 * with one, valid or not: what "Renew or reissue" starts from and would
 * replace), as ra_portal_order_get() reads it; RC_NOTFOUND when the slot
 * is not the customer's (customer_id 0: any) or never held a
 * certificate. */
int ra_portal_slot_current(struct ra *ra, int64_t customer_id,
    int64_t slot_id, struct ra_portal_order *out);
/* The customer's portal orders (0: everybody's), newest first: *ids is a
 * new array (free()) of *n. */
int ra_portal_order_ids(struct ra *ra, int64_t customer_id, int64_t **ids,
    size_t *n);

/*
 * Completes the domain validation of every pending authorization of a
 * portal order by `method` (only "operator" for now: staff confirmed
 * control of the domain; evidence records it and the actor), audited as
 * "validation.success". No CAA is looked at here: the names count as never
 * checked. Then, for a DV order whose every name has a valid, unexpired
 * authorization of the order's contract, issues (see ra_portal_issue).
 * *issued (may be NULL) is 1 when a certificate was issued. RC_NOTFOUND
 * for an unknown or non-portal order, RC_STATE when the order is not
 * pending, RC_INVAL for an unknown method; RC_STATE with RA_PROB_CAA when
 * the names are validated but CAA forbids issuance.
 */
int ra_portal_validate(struct ra *ra, int64_t order_id, const char *method,
    const char *actor, int *issued, struct ra_err *err);

/*
 * Issues a pending, unexpired portal order when every name has a valid,
 * unexpired authorization of the order's contract, validated within
 * today's reuse period (ca_cal_dv_reuse_days; RC_STATE otherwise; OV/EV
 * wait for organisation validation: RC_STATE), and CAA permitted this CA
 * for every name within the last 8 hours, looked up now when not (BR
 * 3.2.2.8; ra_dv_caa_ready): refused, RC_STATE with RA_PROB_CAA, the order
 * stays pending and the name shows why. ca_issue with the profile, the order
 * and contract, actor "portal:user/<id>" of who placed it; the order becomes
 * valid and the slot issued. A CA refusal makes the order invalid (the
 * slot goes back to what it held before the order) and is returned.
 */
int ra_portal_issue(struct ra *ra, int64_t order_id, struct ra_err *err);

/*
 * A portal slot holds one certificate: when its new one is issued and the
 * certificate it held before has a name the new one does not cover (a
 * reissue for another domain), the old one is revoked as superseded (RFC
 * 5280 reasonCode 4) this long after, by the DV worker's minute sweep, so
 * that the customer can install the new one first (DigiCert's 72 hours).
 * A renewal for the same names, or more, revokes nothing.
 */
#define RA_REISSUE_GRACE (72 * 3600)

/* A certificate of a portal contract when the customer may see it
 * (customer_id 0: any); RC_NOTFOUND otherwise. Clear with
 * store_cert_clear(). */
struct store_cert;
int ra_portal_cert_get(struct ra *ra, int64_t customer_id, const char *serial,
    struct store_cert *out);

/*
 * Revokes a certificate of the customer (ra_portal_cert_get rules) with a
 * subscriber reason (0, 1, 3, 4, 5; else RC_INVAL) through ca_revoke()
 * (audited, CRL republished); the slot becomes revoked (store_revoke, as
 * with every revocation). keyCompromise revokes the key's other
 * certificates too, and their subscribers are told (RA_KEY_SUBSCRIBER:
 * this customer about its others, not this one). RC_EXISTS when already
 * revoked.
 */
int ra_portal_revoke(struct ra *ra, int64_t customer_id, const char *serial,
    int reason, const char *actor, struct ra_err *err);

/* ---- notification mail (portal orders) ---------------------------------- */

/*
 * Queues a notice about portal order order_id in the store's outbox for
 * its contacts (the user who placed it; the technical and administrative
 * contacts of OV/EV orders): what "action" (per name, what the customer
 * or the hostmaster must do; queued only while the order waits and a name
 * needs them: a mail to an administrative address, the customer's DNS
 * record or file, automatic validation that failed, CAA or DNSSEC in the
 * way; else 0 and nothing) or "issued", each with the order's link. Each
 * notice is queued once per contact (again: nothing happens). RC_NOTFOUND
 * for an unknown or non-portal order, RC_INVAL for another `what`. Order
 * placing, the domain validation's failures and issuance call it; a
 * failure is logged, never undoes the state change.
 */
int ra_notify_order(struct ra *ra, int64_t order_id, const char *what);

/*
 * The expiry reminders: for each issued, unrevoked portal certificate
 * that expires within 30 days (at ra_now), queues "expires in N days"
 * once ("portal.expiry30", ref the serial), and again once within 7 days
 * ("portal.expiry7"). *queued (may be NULL) gets how many mails were
 * queued now. The mail worker runs it periodically; safe to run often.
 */
int ra_mail_reminders(struct ra *ra, size_t *queued);

/* ---- organisation validation of OV/EV portal orders (orgval.c) ---------- */

/*
 * Every OV/EV portal order gets a case when it is placed: validation staff
 * (users with role agent or admin) verify the organisation in the back
 * office and only their verified data ever reaches a certificate subject.
 * A customer whose organisation was validated within the organisation data
 * reuse period (ca_cal_org_reuse_days, 398 days today) with the same legal
 * name and country gets the case approved at once by reuse; after it, the
 * organisation is validated again.
 *
 *   open --take--> in_review --request_info--> info_requested
 *   info_requested --customer answers / agent resumes--> in_review
 *   in_review --approve--> approved (OV, or EV without two-person rule)
 *   in_review --approve--> awaiting_second_approval (EV)
 *   awaiting_second_approval --approve by ANOTHER agent--> approved
 *   in_review | info_requested | awaiting_second_approval --reject-->
 *       rejected (the order becomes invalid, its slot back to what it
 *       held before the order: a renewal's certificate stays)
 *
 * Only the assigned agent records evidence, asks, approves first or
 * rejects a case in review; an admin may take over a case in review.
 * Approval needs satisfying evidence for every required step (EV adds
 * three). approved and rejected are final. Anything else is refused with
 * RC_STATE and a detail for the agent; a user who is not staff gets
 * RC_UNAUTH; a case or order that does not exist RC_NOTFOUND. Every change
 * is audited ("org.case.*", actor "backoffice:user/<id>", details with the
 * evidence) in the transaction that makes it.
 *
 * On approval the organisation is made (validated, EV-validated for EV)
 * from the evidence alone and linked to the order; ra_portal_issue() then
 * issues as soon as every domain of the order is validated too (and is
 * called again when the domain validation completes later).
 */
enum ra_org_state {
	RA_ORG_OPEN = 0,
	RA_ORG_IN_REVIEW,
	RA_ORG_INFO_REQUESTED,
	RA_ORG_AWAITING_SECOND,		/* "awaiting_second_approval" */
	RA_ORG_APPROVED,
	RA_ORG_REJECTED
};
/* The reason of a case closed because its order expired undecided
 * (rejected with decided_at 0: nobody decided; ra_portal_orders_expire),
 * or was cancelled because a domain left the contract (ra_domain_remove) */
#define RA_ORG_EXPIRED_REASON "The order expired before it was validated."
#define RA_ORG_CANCELLED_REASON "The order was cancelled: a domain it " \
	"names is no longer on the contract."
/* "open", "in_review", ...; "rejected" for unknown values. */
const char *ra_org_state_name(enum ra_org_state s);
/* The inverse; -1 when unknown. */
int ra_org_state_parse(const char *s);
/* The state for people: "Open", "In review", "Information requested",
 * "Awaiting second approval", "Approved", "Rejected"; "Unknown" for
 * other values. */
const char *ra_org_state_label(enum ra_org_state s);

/* The checklist. The EV steps are required for EV cases only. */
enum ra_org_step {
	RA_ORG_LEGAL_EXISTENCE = 0,	/* source, registration_number,
					 * date_checked, legal_name */
	RA_ORG_ADDRESS,			/* source, street, locality, state,
					 * postal_code, country */
	RA_ORG_DOMAIN_REGISTRANT,	/* source, registrant, matches (yes /
					 * no), date_checked */
	RA_ORG_TELEPHONE,		/* number, number_source, person,
					 * called_at, outcome (confirmed /
					 * no_answer / denied) */
	RA_ORG_EV_JURISDICTION,		/* source, jurisdiction_country,
					 * jurisdiction_state,
					 * jurisdiction_locality */
	RA_ORG_EV_CATEGORY,		/* source, business_category */
	RA_ORG_EV_REGISTRATION,		/* source, registration_number,
					 * date_checked */
	RA_ORG_STEP_MAX
};
/* "legal_existence", ...; NULL for unknown values. */
const char *ra_org_step_name(enum ra_org_step s);
/* The step for people ("Legal existence", "Telephone verification", ...),
 * as the back office and the ra's refusals name it; NULL for unknown
 * values. */
const char *ra_org_step_label(enum ra_org_step s);
/* The inverse; -1 when unknown. */
int ra_org_step_parse(const char *s);
/* Whether a case of profile ("ov", "ev") needs step s. */
int ra_org_step_required(const char *profile, enum ra_org_step s);

/* One field of a step's evidence form (static, borrowed). kind: "text",
 * "date" (YYYY-MM-DD, not in the future), "datetime" (YYYY-MM-DD HH:MM,
 * not in the future), "country" (ISO 3166 alpha-2), "phone", "choice"
 * (one of the space-separated words in choices, or for business_category
 * one of the four EV categories). */
struct ra_org_field {
	const char *name, *label, *kind, *choices;
	int required;
};
const struct ra_org_field *ra_org_step_fields(enum ra_org_step s,
    size_t *n);

/* An evidence field as the agent typed it (borrowed). */
struct ra_org_kv {
	const char *name, *value;
};

/* The process-wide two-person rule for EV (backoffice.two_person_ev, on
 * by default): fixed into each case when it is made. */
void ra_org_set_two_person_ev(int on);

/* One message of a case's conversation with its customer (0028). */
struct ra_org_msg {
	int64_t id;
	int response;		/* 0: staff's request, 1: the customer's
				 * answer */
	char *body;		/* as written */
	int64_t author_id;	/* the agent, or the customer's user; 0: not
				 * known (carried over by 0028) */
	time_t sent_at;		/* 0: not known */
};

struct ra_org_case {
	int64_t id, order_id, customer_id;
	enum ra_org_state state;
	char profile[4];		/* "ov", "ev" */
	char product[24];
	int approvals_required;		/* 1 or 2 */
	int64_t assigned_to, first_approver, second_approver;	/* 0: none */
	int64_t org_id;			/* 0 until approved */
	int reused;			/* approved by reuse */
	char *info_request, *info_response, *reject_reason;	/* or NULL */
	time_t created_at, updated_at, decided_at;
	/* when the customer sent info_response (0: not known). A new
	 * request keeps the answer before it until the customer answers
	 * again: in RA_ORG_INFO_REQUESTED an info_response is the answer
	 * to an earlier request. */
	time_t info_response_at;
	/* the newest evidence of each step */
	struct {
		int required;
		char *evidence;		/* JSON object text, NULL: none */
		int satisfied;
		int64_t agent_id;
		time_t recorded_at;
	} step[RA_ORG_STEP_MAX];
	size_t nchecks;			/* evidence rows, older ones too */
	/* every request for information and every answer, oldest first
	 * (info_request and info_response are the newest of each); the
	 * documents of an answer name its id (store_org_doc.message_id) */
	struct ra_org_msg *msgs;
	size_t nmsgs;
};
void ra_org_case_clear(struct ra_org_case *c);	/* zeroed is fine */

/*
 * Opens the case of OV/EV portal order order_id (ra_portal_order_new calls
 * it inside its transaction): approved at once when the customer has a
 * reusable validated organisation of the typed legal name and country (the
 * order is linked to it; "org.case.reused"), else open ("org.case.open").
 * 0 also when the order is DV (nothing to do) or has a case already.
 */
int ra_org_case_open(struct ra *ra, int64_t order_id, struct ra_err *err);

/* A case by id (staff), or by order for a customer (customer_id 0: any;
 * RC_NOTFOUND when not the customer's, as when it does not exist). */
int ra_org_case_get(struct ra *ra, int64_t case_id, struct ra_org_case *out);
int ra_org_case_by_order(struct ra *ra, int64_t customer_id,
    int64_t order_id, struct ra_org_case *out);
/* The queue: case ids oldest first, state / profile NULL for any: *ids a
 * new array (free()) of *n. RC_INVAL for an unknown filter. */
int ra_org_case_ids(struct ra *ra, const char *state, const char *profile,
    int64_t **ids, size_t *n);

/* The agent actions. agent_id: the staff user acting; *err gets why not. */
int ra_org_take(struct ra *ra, int64_t agent_id, int64_t case_id,
    struct ra_err *err);
/* Records evidence for a step (in_review, the assigned agent): each field
 * checked by its kind (RC_INVAL with one message per field in *fe, which
 * may be NULL; unknown fields are refused). Audited with the evidence. */
int ra_org_evidence(struct ra *ra, int64_t agent_id, int64_t case_id,
    enum ra_org_step step, const struct ra_org_kv *kv, size_t n,
    struct ra_field_errs *fe, struct ra_err *err);
/* Asks the customer (the order overview shows the text; the order's
 * contacts get a mail). text: 1..2000 characters. The request is added to
 * the case's conversation (msgs) with its author and time; an earlier
 * answer and its time stay on the case (as the documents do) until the
 * customer answers this request. */
int ra_org_request_info(struct ra *ra, int64_t agent_id, int64_t case_id,
    const char *text, struct ra_err *err);
/* The agent goes on without an answer in the portal (e.g. it came by
 * phone): info_requested -> in_review. */
int ra_org_resume(struct ra *ra, int64_t agent_id, int64_t case_id,
    struct ra_err *err);
/* The customer answers in the portal (customer_id 0: any): info_requested
 * -> in_review, the answer added to the conversation with its author and
 * time and kept as the case's info_response (info_response_at), in the
 * same transaction. RC_NOTFOUND when not the customer's. */
int ra_org_customer_respond(struct ra *ra, int64_t customer_id,
    int64_t user_id, int64_t order_id, const char *text, struct ra_err *err);
/*
 * Documents sent with the answer (a register extract, an accountant's
 * letter, a utility bill): PDF, PNG or JPEG, decided by their bytes
 * (ra_org_doc_sniff), never by the name or type the client gave.
 */
struct ra_org_upload {
	const char *filename;	/* as the client sent it (any bytes), or
				 * NULL: the label is made of it */
	const uint8_t *data;	/* borrowed */
	size_t len;
};
#define RA_ORG_DOCS_MAX 20	/* per answer, whatever the portal allows */
/*
 * ra_org_customer_respond() with docs[0..ndocs) stored with the answer in
 * one transaction, tied to its message, each in the audit log
 * (org.case.document, with its SHA-256 and the message); all or nothing.
 * RC_INVAL with the reason for the customer in err for an empty document,
 * one that is no PDF, PNG or JPEG, or more than RA_ORG_DOCS_MAX.
 */
int ra_org_customer_respond_docs(struct ra *ra, int64_t customer_id,
    int64_t user_id, int64_t order_id, const char *text,
    const struct ra_org_upload *docs, size_t ndocs, struct ra_err *err);
/* 1 when text is an answer ra_org_customer_respond*() takes (1 to 2000
 * bytes, not only spaces, no control characters but line breaks and
 * tabs): a refusal of the text told from one of the documents. */
int ra_org_answer_ok(const char *text);
/*
 * Document doc_id of case case_id for staff member agent_id (checked to
 * be staff by the caller), from the back office's page (api 0) or its API
 * (api 1): an audit entry "org.case.document.read" (the case; the order,
 * the document, its SHA-256 and api in the details) is committed first,
 * then cb gets the document (borrowed for the call) and its result is
 * returned. Access to validation evidence is audited as a CA audits its
 * other records; a document whose reading cannot be recorded is not
 * given. RC_NOTFOUND when the case has no such document.
 */
int ra_org_doc_read(struct ra *ra, int64_t agent_id, int64_t case_id,
    int64_t doc_id, int api, int (*cb)(const struct store_org_doc *, void *),
    void *arg);
/* The type of a document by its magic bytes: "application/pdf" ("%PDF-"
 * first), "image/png" (the PNG signature and an IHDR chunk), "image/jpeg"
 * (FF D8 FF); NULL for anything else (static strings). */
const char *ra_org_doc_sniff(const uint8_t *p, size_t n);
/*
 * A filename as a label to show (out of n >= 2 bytes, NUL-terminated): the
 * part after the last '/' or '\\', text that is not UTF-8 as U+FFFD,
 * control characters (C0, DEL, C1) and the Unicode bidi controls dropped,
 * white space runs as one space, trimmed, leading dots removed, cut on a
 * character boundary to fit n - 1 bytes (at most
 * STORE_ORG_DOC_LABEL_MAX); "document" when nothing is left or filename
 * is NULL. Still to be HTML-escaped where it is shown.
 */
void ra_org_doc_label(const char *filename, char *out, size_t n);
/* A file name for Content-Disposition (out of n >= 32 bytes): the label's
 * letters, digits, '-', '_' and '.' (others as '_', at most 64), without
 * its extension, then the extension of ctype (.pdf, .png, .jpg); ASCII
 * only, never starting with a dot. */
void ra_org_doc_filename(const char *label, const char *ctype, char *out,
    size_t n);
/* Rejects with a reason (1..500 characters, shown to the customer). */
int ra_org_reject(struct ra *ra, int64_t agent_id, int64_t case_id,
    const char *reason, struct ra_err *err);
/* Approves (first or second approval, by state). *issued (may be NULL) is
 * 1 when the certificate was issued at once. Approved but not issued
 * because CAA forbids it (see ra_portal_issue): 0, with err saying so
 * (problem RA_PROB_CAA). */
int ra_org_approve(struct ra *ra, int64_t agent_id, int64_t case_id,
    int *issued, struct ra_err *err);

/*
 * For ra_portal_issue(): the validated organisation of an OV/EV order
 * (its case approved, the organisation the customer's) into *out
 * (store_org_clear()); RC_STATE with err when there is none yet.
 */
struct store_org;
int ra_org_for_order(struct ra *ra, int64_t order_id, struct store_org *out,
    struct ra_err *err);

/* ---- a contract's domains (domain.c) ------------------------------------- */

/*
 * A domain marked hosted vouches that its zone on our nameservers is the
 * contract's customer's (its names are validated automatically,
 * "dns-auto"), so it is one customer's. ra_domain_hosted_ok(): may name
 * (normalised) be marked hosted for customer_id? 0 when it may;
 * RC_BADNAME when it is a public suffix (no customer's zone); RC_POLICY
 * when a contract of another customer holds it, or a parent or child of
 * it, as a hosted domain: *other (free with store_domain_clear) gets the
 * first such domain, with its contract and customer; store errors. The
 * same customer's other contracts may hold it too. In the caller's
 * transaction on st (the check and the insert in one).
 */
struct store_domain;
int ra_domain_hosted_ok(struct store *st, int64_t customer_id,
    const char *name, struct store_domain *other);

/* What ra_domain_remove() did. */
struct ra_domain_removed {
	int64_t contract_id, customer_id;
	char name[256];
	int hosted;
	size_t orders;		/* portal orders cancelled */
	size_t authz;		/* authorizations revoked */
};
/*
 * The operator takes domain id off its contract (it changed hands, or
 * was added by mistake), in one transaction audited as domain.remove by
 * actor ("cli:root") with what follows: the contract's portal orders
 * still pending for a name under it (and not under another of the
 * contract's domains below it) are cancelled: invalid with a problem that
 * names the domain (the order's page shows "rejected" with it), the slot
 * back to what it held before the order, an OV/EV case closed
 * (org.case.cancelled), each audited as portal.order.cancelled and its
 * contacts mailed ("portal.cancelled"); the contract's valid authorizations
 * of those names, portal and of its EAB-bound ACME accounts, become
 * "revoked", so that no later order of the contract reuses them (each id
 * in the audit entry). Certificates already issued stay. *out (may be
 * NULL) says what was done. 0; RC_NOTFOUND (err says so) for an unknown
 * domain; store errors.
 */
int ra_domain_remove(struct ra *ra, int64_t id, const char *actor,
    struct ra_domain_removed *out, struct ra_err *err);

/* ---- domain validation of portal orders (dv.c) --------------------------- */

/*
 * Each name of a portal order is validated by one method at a time, as the
 * seed describes: automatically through a temporary DNS record when its zone
 * is hosted on our nameservers (in the contract's domains with hosted = 1,
 * or delegated to dnsupdate.nameservers), otherwise by an email to one of
 * the domain's administrative addresses (BR 3.2.2.4.4; hostmaster@ by
 * default, while the policy calendar allows the method), or by the customer
 * placing a DNS TXT record (BR 3.2.2.4.7) or a file on their website (BR
 * 3.2.2.4.18) and pressing "check now". Every attempt is stored with its
 * evidence (method, BR version and section, time, random value, what was
 * queried and answered, DNSSEC status) and audited ("validation.success",
 * "validation.failure", "validation.email.sent", ...). A successful
 * validation is reused by later orders of the same contract for the same
 * name within ca_cal_dv_reuse_days() of the issuance date. Checks run as
 * jobs stored in the database (ra_dv_jobs_run), so a restart loses none,
 * and a temporary DNS record is always removed afterwards, also after a
 * failure or a restart in between.
 */
enum ra_dv_method {
	RA_DV_NONE = 0,
	RA_DV_DNS_AUTO,		/* "dns-auto": our nameservers, RFC 2136 */
	RA_DV_EMAIL,		/* "email": constructed address, BR 3.2.2.4.4 */
	RA_DV_DNS,		/* "dns": customer adds the TXT, BR 3.2.2.4.7 */
	RA_DV_HTTP,		/* "http": customer places a file, 3.2.2.4.18 */
	RA_DV_OPERATOR,		/* "operator": staff (certdesk admin validate) */
	RA_DV_REUSED		/* "reused": an earlier validation of the
				 * contract within the reuse period */
};
/* "dns-auto", "email", ...; "none" for RA_DV_NONE. */
const char *ra_dv_method_name(enum ra_dv_method m);
/* The inverse; RA_DV_NONE when unknown. */
enum ra_dv_method ra_dv_method_parse(const char *s);

/* A confirmation link's token: base64url of 24 random bytes (192 bits). */
#define RA_DV_TOKEN_LEN 32

/* The local parts BR 3.2.2.4.4 allows; hostmaster is the default. */
#define RA_DV_EMAIL_LOCALS "admin administrator webmaster hostmaster postmaster"
/* At most this many Authorization Domain Names are offered per name. */
#define RA_DV_MAX_ADNS 8

/* The validation of one name of a portal order, as the overview shows it. */
struct ra_dv_state {
	int64_t authz_id;
	char name[256];		/* the DNS name validated (no "*.") */
	int wildcard;		/* the order names "*.name": DNS methods only */
	char status[12];	/* "pending", "valid", "invalid", "expired" */
	enum ra_dv_method method;	/* current method */
	int hosted;		/* zone on our nameservers: dns-auto offered */
	/* The customer's instructions (filled for every pending name, so
	 * the overview can offer each method): */
	char dns_owner[300];	/* "_acme-challenge.<name>" */
	char dns_value[64];	/* the TXT value (random, >= 128 bits) */
	char http_url[400];	/* "http://<name>/.well-known/pki-validation/
				 * <file>.txt" */
	char http_body[64];	/* the file's exact content */
	char email_to[320];	/* "hostmaster@<adn>" when email is chosen */
	/* The Authorization Domain Names whose constructed addresses may be
	 * chosen (pending names, email allowed, no wildcard): the one the
	 * first mail uses first (the contract's domain holding the name,
	 * else the name without "www."), then the name's others (BR
	 * 3.2.2.4.4: it or a parent domain, not a public suffix), the
	 * registered domain first. */
	char email_adns[RA_DV_MAX_ADNS][256];
	size_t n_email_adns;
	time_t email_sent_at;	/* last send, 0 if none */
	time_t email_resend_at;	/* a resend is possible from then; 0: now */
	int email_sends_left;
	int email_allowed;	/* the calendar (and config) allow email */
	char email_warning[240];	/* "" or e.g. "Email validation ends on
				 * 15 Mar 2028: ..." (public trust) */
	/* The last failure in words a customer understands, with what to do
	 * next ("" when none): problem is one of "record_not_found",
	 * "wrong_value", "file_not_found", "wrong_content", "mail_bounced",
	 * "dns_error", "dnssec_bogus", "caa_forbidden", "timeout",
	 * "not_hosted" (dns-auto: the zone is no longer this contract's
	 * customer's alone), "expired"; message e.g. "We found no TXT
	 * record at ... Add it at your DNS host, wait a few minutes, then
	 * press Check now." */
	char problem[24];
	char message[400];
	time_t checked_at;	/* last check, 0 if none */
	time_t next_check_at;	/* next automatic check, 0 if none */
	time_t validated_at, expires_at;	/* valid: reuse period */
};

/*
 * The validations of a portal order the customer may see (customer_id 0:
 * any; RC_NOTFOUND otherwise, as for an order that does not exist): a new
 * array in *out (free()) of *n, in the order's name order.
 */
int ra_dv_list(struct ra *ra, int64_t customer_id, int64_t order_id,
    struct ra_dv_state **out, size_t *n);

/*
 * The customer switches the method of one pending name: RA_DV_EMAIL (with
 * email_local one of RA_DV_EMAIL_LOCALS, NULL: hostmaster, optionally
 * followed by "@" and one of the state's email_adns, else the first of
 * them; sends the mail at once, unless it already waits for that
 * address), RA_DV_DNS, RA_DV_HTTP (not for wildcards), RA_DV_DNS_AUTO
 * (hosted zones only). RC_NOTFOUND (not the customer's), RC_STATE (the name
 * is not pending), RC_POLICY (email not allowed by the calendar or config,
 * http for a wildcard, dns-auto for a zone not hosted), RC_INVAL (bad
 * local part or method), each with err's detail in customer words.
 * Audited.
 */
int ra_dv_choose(struct ra *ra, int64_t customer_id, int64_t order_id,
    int64_t authz_id, enum ra_dv_method m, const char *email_local,
    const char *actor, struct ra_err *err);

/*
 * "Check now": checks one pending name by its current method at once
 * (dns, http, dns-auto; email: RC_STATE, the mail must be confirmed) and
 * stores the outcome; when every name of the order is valid, a DV order
 * is issued (ra_portal_issue). *valid (may be NULL) is 1 when the name is
 * valid now. A failure is 0 with the state's problem and message set
 * (the check ran); RC_NOTFOUND / RC_STATE as for ra_dv_choose.
 */
int ra_dv_check_now(struct ra *ra, int64_t customer_id, int64_t order_id,
    int64_t authz_id, const char *actor, int *valid, struct ra_err *err);

/*
 * Sends the confirmation mail again (a new link; the old one stops
 * working). RC_STATE when the method is not email or the name not
 * pending; RC_POLICY with err "You can resend in N minutes" before
 * email_resend_at or when no sends are left.
 */
int ra_dv_email_resend(struct ra *ra, int64_t customer_id, int64_t order_id,
    int64_t authz_id, const char *actor, struct ra_err *err);

/* What a confirmation link confirms (GET shows it, nothing changes). */
struct ra_dv_email_link {
	char name[256];		/* the domain */
	char names[1024];	/* the names a confirmation validates, ", "
				 * between them: the link's own, and the
				 * order's other names that wait for a mail
				 * to the same address (cut with "..." when
				 * longer) */
	char email_to[320];	/* where the mail went */
	char customer[200];	/* who asked: the customer's name */
	char product[24];
	char state[12];		/* "pending", "confirmed", "expired",
				 * "replaced" (a newer mail to the same address
				 * was sent), "switched" (another method or
				 * address was chosen), "closed" (the order is
				 * no longer pending) */
	time_t sent_at, expires_at;
};

/*
 * Looks up a confirmation link's token (the random value of >= 112 bits
 * from the mail; compared in constant time against its stored hash).
 * RC_NOTFOUND for an unknown or malformed token.
 */
int ra_dv_email_lookup(struct ra *ra, const char *token,
    struct ra_dv_email_link *out);

/*
 * Confirms (the POST of the confirmation page): the token must be pending
 * and unexpired; it is used up, the name's authorization becomes valid
 * with the evidence (method email, BR 3.2.2.4.4, address, sent and
 * confirmed times, client address, user agent), and a DV order whose every
 * name is valid is issued. RC_NOTFOUND / RC_STATE (used, expired,
 * replaced, switched, closed) with err's detail.
 */
int ra_dv_email_confirm(struct ra *ra, const char *token,
    const char *client_addr, const char *user_agent, struct ra_err *err);

/* What stands for a confirmation token in the outbox once its mail was
 * delivered or bounced, and on the admin's page while it waits. */
#define RA_DV_EMAIL_GONE "[removed after delivery]"
#define RA_DV_EMAIL_HIDDEN "[hidden until delivered]"

/*
 * The text of an outbox mail of kind `kind` with the token of every
 * confirmation link ("/confirm/<token>") replaced by `marker`: for kind
 * "validation.email" only (the token must leave the outbox, BR 3.2.2.4.4
 * keeps it with the recipient; the store has its SHA-256). A new string
 * (free()), or NULL when there is nothing to replace (another kind, no
 * link, or only tokens replaced before).
 */
char *ra_dv_email_mask(const char *kind, const char *body,
    const char *marker);

/*
 * Starts the validation of a new portal order's names (ra_portal_order_new
 * calls it after its transaction): names with a reusable validation of the
 * contract become valid ("reused"); hosted names get a dns-auto job;
 * others start with email to hostmaster@ when allowed (the mail is
 * queued), else with dns (the customer's instructions). Safe to call
 * again (nothing is done twice).
 */
int ra_dv_start(struct ra *ra, int64_t order_id, struct ra_err *err);

/*
 * The DV worker: claims due jobs (dns-auto publish/wait/check/cleanup,
 * periodic re-checks of dns and http methods, expiry of pending names) with
 * a lease, runs up to max of them, stores the outcomes and issues DV orders
 * whose names are all valid. *ran (may be NULL) gets how many ran. A
 * temporary record whose job crashed is removed when its lease runs out.
 * At its first call and every minute, it also ends the portal orders
 * (DV, OV, EV) still pending past their expiry: invalid, their slots back
 * to what they held before the order (a renewal's previous certificate),
 * audited as portal.order.expired, moves the issued slots whose
 * certificate ran out to expired, audited as portal.slot.expired, and
 * revokes the certificates a reissue for other names replaced once
 * RA_REISSUE_GRACE has passed (superseded, actor "system"). Needs the DNS
 * provider (ra_set_dnsupd) for dns-auto jobs.
 */
int ra_dv_jobs_run(struct ra *ra, size_t max, size_t *ran);

/* The DNS provider for dns-auto (borrowed, must outlive ra; NULL: none,
 * so no zone counts as hosted except through the contract's domains, whose
 * jobs then fail with "DNS provider not configured"). */
struct val_dnsupd;
void ra_set_dnsupd(struct ra *ra, const struct val_dnsupd *u);

#endif
