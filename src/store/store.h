/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The store: every persistent record of certdesk behind one interface over an
 * opaque handle. Backends are whole files (store_sqlite.c now, store_pg.c
 * later) chosen by store_open(); nothing above this header knows which one
 * runs, so adding PostgreSQL changes no caller.
 *
 * Transactions: store_tx() runs a callback inside one transaction and retries
 * it when the backend reports a retryable conflict (SQLITE_BUSY, PostgreSQL
 * serialization failures), like Taler's TEH_DB_run_transaction. Functions
 * below may be called inside or outside store_tx(); outside, each is its own
 * transaction.
 *
 * Return values: 0, RC_NOTFOUND (unknown id, or a reference to a parent that
 * does not exist), RC_EXISTS (unique constraint), RC_CONFLICT (retryable;
 * store_tx retries), RC_DB (hard error, logged), RC_TAMPER, RC_INVAL (bad
 * argument: NULL or empty where not allowed, over the bounds below, unknown
 * enumeration value; logged as a warning, nothing written).
 *
 * Ownership: structs filled by *_get functions own their strings and buffers;
 * release them with the matching *_clear function. Input structs are borrowed.
 *
 * Thread safety: one struct store per thread (store_open is cheap); the
 * backend serialises writers itself.
 */
#ifndef CERTDESK_STORE_STORE_H
#define CERTDESK_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;

/*
 * Input bounds, checked before any SQL (RC_INVAL and a log line past them):
 * SHORT for identifiers (email, contract number, password hash; a domain is
 * at most 253 bytes of lowercase LDH labels), TEXT for names, organisation
 * fields and the actor/action/object of audit entries, LONG for space-
 * separated name lists, JSON for audit details and evidence, CERT for
 * certificate DER, CRL for CRL DER. Issuer names are at most 64 bytes of
 * [A-Za-z0-9._-] (they become file names), certificate profiles at most 32
 * of [a-z0-9_-], serials 1..40 lowercase hex digits. Single-line fields
 * refuse control characters; JSON fields allow tab and newlines.
 */
#define STORE_MAX_SHORT 255
#define STORE_MAX_TEXT 1024
#define STORE_MAX_LONG (64 * 1024)
#define STORE_MAX_JSON (1024 * 1024)
#define STORE_MAX_CERT (1024 * 1024)
#define STORE_MAX_CRL (256 * 1024 * 1024)

struct store_conf {
	const char *backend;	/* "sqlite" */
	const char *path;	/* database file (SQLite) or conninfo */
	int durable;		/* 1: fsync every commit (synchronous=FULL) */
};

/* Opens the store and runs pending migrations (numbered, in order, each in
 * its own transaction, recorded in schema_migrations). */
int store_open(const struct store_conf *conf, struct store **out);
void store_close(struct store *st);	/* NULL is fine */
/* Schema version after migrations (the highest applied number). */
int store_schema_version(struct store *st);

/* Runs fn(st, arg) in one transaction; commits when fn returns 0, rolls back
 * otherwise; retries on RC_CONFLICT up to a bound. Returns fn's result. Nested
 * calls join the outer transaction (as a savepoint: a failing inner fn undoes
 * only its own work and its result goes to the outer fn; an inner
 * RC_CONFLICT must be passed up so the outermost call retries). Because of
 * retries fn may run more than once: it must have no effects outside the
 * store (sign, send mail, publish files before or after, not inside). */
int store_tx(struct store *st, int (*fn)(struct store *, void *), void *arg);

/*
 * A durable transaction (store_conf.durable) commits on the process's
 * writer connection without a sync and then syncs the WAL after the
 * writer lock, so other writers need not wait for the disk; it returns
 * once its data is on disk. In between, other threads and processes can
 * already read what it committed. Before handing out something a durable
 * transaction of another thread or process made (a certificate), call
 * store_durable_barrier(): it returns once every durable commit that is
 * visible now is on disk, whichever process on the file made it (at once
 * when none is pending), or RC_DB. The processes count their commits in
 * the header of the file's nonce ring (DB-nonce-ring).
 */
int store_durable_barrier(struct store *st);

/*
 * Like store_tx, but on a durable handle it returns once committed, and
 * a thread of the store syncs the WAL right after: the caller's next step
 * need not wait for the disk. Nothing of what fn wrote may be handed out
 * before store_durable_barrier() (a certificate, for instance, whose order
 * may already say valid). On other handles the same as store_tx.
 */
int store_tx_deferred(struct store *st, int (*fn)(struct store *, void *),
    void *arg);
/* 1 while a durable commit of any process on st's file is not known to be
 * on disk yet (tests). */
int store_durable_pending(struct store *st);

/*
 * Group commit (leader/follower, as in MySQL's binlog group commit): many
 * threads' small transactions share one durable commit, so a durable store
 * costs one fsync per batch rather than per transaction. A caller of
 * store_group_tx() queues its fn; the first caller to find no commit in
 * progress becomes the leader, runs every queued fn in one transaction
 * (each in its own savepoint, so one failure undoes only its own work) on
 * the group's store handle, commits, and wakes the others. A lone caller is
 * always the leader: no hand-off, no extra latency.
 */
struct store_group;

/* Opens the group's own store handle from conf. Free: store_group_close(). */
int store_group_open(const struct store_conf *conf, struct store_group **out);
void store_group_close(struct store_group *g);	/* NULL is fine */
/* Like store_tx(fn, arg), but possibly batched with other callers'. Returns
 * when the transaction is durable (or failed): fn's result, or the commit's
 * error. fn may run more than once (retries); same rules as store_tx. */
int store_group_tx(struct store_group *g, int (*fn)(struct store *, void *),
    void *arg);
/* Like store_group_tx, but returns once committed, as store_tx_deferred;
 * a batch is deferred when all its callers are. */
int store_group_tx_deferred(struct store_group *g,
    int (*fn)(struct store *, void *), void *arg);

/* ---- customers, users, contracts, domains, slots ------------------------ */

enum store_role { STORE_ROLE_CUSTOMER = 0, STORE_ROLE_AGENT = 1,
	STORE_ROLE_ADMIN = 2 };

int store_customer_add(struct store *st, const char *name, int64_t *id);
/* Role names: "customer", "agent", "admin". pw_hash may be NULL.
 * customer_id: required for STORE_ROLE_CUSTOMER; 0 for staff (agents and
 * admins belong to no customer). email must contain '@' and no spaces; it
 * is unique as given (callers normalise case). */
int store_user_add(struct store *st, int64_t customer_id, const char *email,
    const char *display_name, int role, const char *pw_hash, int64_t *id);
int store_contract_add(struct store *st, int64_t customer_id,
    const char *number, int64_t *id);
/* hosted: 1 when the zone is on our nameservers. name is already
 * normalised (lowercase A-labels, no trailing dot) by the caller. */
int store_domain_add(struct store *st, int64_t contract_id, const char *name,
    int hosted, int64_t *id);

/*
 * The domains of a contract, as the operator keeps them
 * (store_sqlite_domains.c). A domain row only lists a name for the
 * contract's domain picker and, marked hosted, vouches that the zone is the
 * contract's customer's on our nameservers (validated automatically,
 * "dns-auto"). Names are normalised (lowercase A-labels); "under" below
 * means the name itself or a name below it at a label boundary
 * ("www.example.com" is under "example.com", "badexample.com" is not).
 */
struct store_domain {
	int64_t id;
	int64_t contract_id;
	int64_t customer_id;	/* the contract's customer */
	char *name;
	int hosted;
	char *contract_number;	/* the contract's number */
	char *customer_name;	/* the customer's name */
	time_t created_at;
};
/* Domain id into out (free with store_domain_clear); RC_NOTFOUND. */
int store_domain_get(struct store *st, int64_t id, struct store_domain *out);
void store_domain_clear(struct store_domain *d);	/* zeroed is fine */
/* Deletes domain id (nothing refers to it); RC_NOTFOUND. */
int store_domain_delete(struct store *st, int64_t id);
/* The first hosted domain (by id) of a contract of a customer other than
 * customer_id that is under name or that name is under (the same name, a
 * child or a parent) into out; RC_NOTFOUND when there is none. */
int store_domain_hosted_other(struct store *st, int64_t customer_id,
    const char *name, struct store_domain *out);
/* The hosted domains of contract_id that name is under, longest first, at
 * most max into out; *n gets how many. 0 also when none. */
#define STORE_DOMAIN_BUF 254	/* a normalised name and its NUL */
int store_domain_hosted_cover(struct store *st, int64_t contract_id,
    const char *name, char out[][STORE_DOMAIN_BUF], size_t max, size_t *n);
/*
 * What a contract gave up with domain `name` (its row deleted first): the
 * DNS identifiers under name that are not under another domain of the
 * contract below name (the contract keeps "shop.example.com" when it gives
 * up "example.com"). store_domain_open_orders(): the ids of the
 * contract's portal orders still pending (validation, or organisation
 * validation) that name such an identifier, with id above after, in id
 * order, at most max; *n gets how many. store_domain_authz_revoke(): the
 * contract's valid, unexpired authorizations of such identifiers become
 * "revoked" (RFC 8555 §7.1.6) at `when`: its portal ones (account_id NULL,
 * of its orders) and those of the ACME accounts bound to it (EAB), so that
 * neither a new portal order (store_dv_reusable) nor an order or finalize
 * of those accounts (store_authz_find) counts them any more; *ids (free())
 * gets the ids revoked, *n how many.
 */
int store_domain_open_orders(struct store *st, int64_t contract_id,
    const char *name, int64_t after, int64_t *ids, size_t max, size_t *n);
int store_domain_authz_revoke(struct store *st, int64_t contract_id,
    const char *name, time_t when, int64_t **ids, size_t *n);

/* Products: "starter" (DV), "business" (OV), "business_wildcard" (OV),
 * "premium" (EV), "unlimited" (DV). */
int store_slot_add(struct store *st, int64_t contract_id, const char *product,
    int64_t *id);

/* A listing callback returns 0 to go on, non-zero to stop (then returned). */
struct store_row {
	int64_t id;
	int64_t parent_id;	/* customer of a contract, contract of a slot */
	const char *name;	/* name, email, number, domain, product */
	const char *extra;	/* role, slot state, "hosted"/"external" */
	const char *state;	/* users: "enabled" or "disabled"; else
				 * NULL */
};
/* what: "customers", "users", "contracts", "domains", "slots", "orders"
 * (portal orders, and with a contract as parent also the ACME orders of
 * that contract's EAB-bound accounts; newest first: name = profile, extra =
 * status), "acme-accounts" (ACME accounts; with a contract as parent those
 * it bound by EAB: name = thumbprint, extra = status). parent 0 =
 * all; else the rows of that customer (users, contracts) or contract
 * (domains, slots); for "customers", the customer with that id. Rows come
 * in id order; the row's strings are borrowed for the callback only. */
int store_list(struct store *st, const char *what, int64_t parent,
    int (*cb)(const struct store_row *, void *), void *arg);

/* ---- figures for monitoring (store_sqlite_metrics.c) --------------------- */

/* What an audit entry says, for counting: its action, and where the
 * action has them (else NULL) the certificate profile (cert.issue,
 * cert.revoke, validation.*), the revocation reason's name (cert.revoke)
 * and the validation method (validation.*). Borrowed for the callback. */
struct store_audit_fact {
	const char *action, *profile, *reason, *method;
};
/* fn for each audit entry after seq `after`, at most max of them, in
 * order; *last: the seq of the last one read (after when none). */
int store_audit_tally(struct store *st, int64_t after, size_t max,
    int (*fn)(const struct store_audit_fact *f, void *arg), void *arg,
    int64_t *last);
/* How things stand, in one read snapshot; times are 0 when none. */
struct store_gauges {
	int64_t audit_seq;		/* the audit log's head */
	int64_t mail_waiting;		/* mail not delivered yet */
	int64_t mail_failing;		/* of which some tries failed */
	time_t mail_oldest;		/* the oldest waiting was queued */
	int64_t validations_running;	/* ACME challenges "processing" */
	time_t validation_oldest;
	int64_t org_cases_open;		/* back office cases not decided */
	time_t org_case_oldest;
	int64_t blocked_keys;
};
int store_gauges(struct store *st, struct store_gauges *g);
/* fn per CA with a CRL: the earliest nextUpdate among its newest CRLs
 * (its own and each shard's), the one to renew first. */
int store_crl_deadlines(struct store *st,
    int (*fn)(int64_t issuer_id, const char *name, time_t next_update,
	void *arg), void *arg);

/* ---- organisations (validated subject data for OV/EV) ------------------- */

struct store_org {
	int64_t id;
	int64_t customer_id;
	char *legal_name;	/* O */
	char *country;		/* C, ISO 3166 alpha-2 */
	char *state;		/* ST, may be NULL */
	char *locality;		/* L */
	char *street;		/* street, may be NULL */
	char *postal_code;	/* may be NULL */
	/* EV (BR/EVG 7.1.4.2) */
	char *business_category;	/* "Private Organization", ... */
	char *jurisdiction_country;
	char *jurisdiction_state;
	char *jurisdiction_locality;
	char *registration_number;	/* serialNumber */
	/* validation record */
	int validated;			/* 1: verified by staff */
	int ev_validated;		/* 1: EV-level verification done */
	time_t validated_at;		/* 0 when not validated */
	char *validated_by;
	char *evidence;			/* JSON text */
};

int store_org_add(struct store *st, const struct store_org *org, int64_t *id);
int store_org_get(struct store *st, int64_t id, struct store_org *out);
void store_org_clear(struct store_org *org);

/* ---- CA issuers ---------------------------------------------------------- */

struct store_issuer {
	int64_t id;
	char *name;		/* "root", "issuing-1"; also the signer key id */
	int64_t parent_id;	/* 0 for a root */
	int is_root;
	int active;		/* issuing CA used for new certificates */
	uint8_t *cert_der;
	size_t cert_len;
	int64_t crl_number;	/* last CRL number used */
};

int store_issuer_add(struct store *st, const struct store_issuer *is,
    int64_t *id);
int store_issuer_get(struct store *st, int64_t id, struct store_issuer *out);
/* The active issuing CA, or the root with root=1. */
int store_issuer_get_active(struct store *st, int root,
    struct store_issuer *out);
void store_issuer_clear(struct store_issuer *is);
/* Every issuer, by id; the struct is borrowed for the callback only. */
int store_issuer_list(struct store *st,
    int (*cb)(const struct store_issuer *, void *), void *arg);
/*
 * Atomically increments and returns the issuer's CRL number: the larger of
 * the last one + 1 and the wall clock in microseconds since 1970. The
 * clock is the floor so that numbers keep increasing (RFC 5280 5.2.3) when
 * the database is restored from a backup that predates CRLs already
 * published, as Boulder's time-based CRL numbers do; + 1 keeps them
 * increasing when the clock steps back. A CRL takes far more than a
 * microsecond to make, so the counter does not run ahead of the clock.
 */
int store_issuer_next_crl_number(struct store *st, int64_t issuer_id,
    int64_t *number);

/* ---- certificates, revocations, CRLs ------------------------------------- */

struct store_cert {
	char serial[41];	/* lowercase hex, no leading zeros beyond DER */
	int64_t issuer_id;
	char *profile;		/* "dv", "ov", "ev", "ca", "server" */
	char *names;		/* space-separated DNS names */
	int64_t order_id;	/* 0 when none */
	int64_t contract_id;	/* 0 when none */
	time_t not_before, not_after;
	uint8_t *der;
	size_t der_len;
	/* store_cert_add: its CRL shard (store_cert_set_shard) when
	 * has_crl_shard, else none (NULL) */
	int has_crl_shard;
	int64_t crl_shard;
	/* store_cert_add: the certificate of the precertificate stored
	 * under its serial (profile "precert", same issuer), whose row it
	 * takes over */
	int replace_precert;
	/* from revocations, filled by store_cert_get */
	int revoked;
	int reason;		/* RFC 5280 CRLReason */
	time_t revoked_at;
};

/* RC_EXISTS when the serial is taken (with replace_precert: by anything
 * but the precertificate). */
int store_cert_add(struct store *st, const struct store_cert *c);
int store_cert_get(struct store *st, const char *serial,
    struct store_cert *out);
void store_cert_clear(struct store_cert *c);
/* RC_EXISTS when already revoked, RC_NOTFOUND when unknown; when 0 means
 * now. Any RFC 5280 reason code (0..10 except 7) is stored; which reasons
 * are allowed is the CA's policy. The portal slot that holds the
 * certificate follows it in the same transaction, whoever revokes it
 * (the portal, ACME, a key block, the operator): issued -> revoked, when
 * no newer order of the slot has a certificate (a renewal that issued
 * moved the slot on; one in progress keeps it pending, one that failed
 * left it holding this certificate). */
int store_revoke(struct store *st, const char *serial, int reason,
    time_t when);
/* Every revoked, unexpired-or-not certificate of one issuer, in serial
 * order (text order of the lowercase hex). */
int store_revoked_list(struct store *st, int64_t issuer_id,
    int (*cb)(const char *serial, int reason, time_t when, void *), void *arg);

struct store_crl {
	int64_t issuer_id;
	int64_t number;
	time_t this_update, next_update;
	uint8_t *der;
	size_t der_len;
};
/* RC_EXISTS when the issuer has a CRL of this number or a higher one
 * (publishers that raced: the newer one stays). */
int store_crl_put(struct store *st, const struct store_crl *crl);
/* The newest CRL of the issuer. */
int store_crl_latest(struct store *st, int64_t issuer_id,
    struct store_crl *out);
void store_crl_clear(struct store_crl *crl);

/* ---- audit log ----------------------------------------------------------- */

/*
 * Append-only and hash-chained: each entry stores
 *   hash = SHA-256(prev_hash || seq || time || actor || action || object ||
 *                  details)
 * with unambiguous length-prefixed encoding, and prev_hash = hash of entry
 * seq-1 (32 zero bytes for the first). Exactly (every backend the same):
 * prev_hash as 32 bytes, seq and time as 8-byte big-endian two's complement,
 * then each text as 0x01 || 8-byte big-endian length || bytes, or the single
 * byte 0x00 for NULL (only details may be NULL; object may be ""). The backend also refuses UPDATE and
 * DELETE on the table (triggers), so an edit needs a deliberate bypass that
 * store_audit_verify() then detects. Must be called inside the transaction
 * that makes the audited change, so the two commit together.
 */
int store_audit_append(struct store *st, const char *actor,
    const char *action, const char *object, const char *details_json);

struct store_audit_entry {
	int64_t seq;
	time_t at;
	const char *actor, *action, *object, *details;
	const char *hash_hex;
};
/* Entries from seq `from` upward, in order. */
int store_audit_list(struct store *st, int64_t from,
    int (*cb)(const struct store_audit_entry *, void *), void *arg);
/* Recomputes the chain. 0 when intact; RC_TAMPER with *bad_seq set to the
 * first entry that does not verify (edited, deleted, inserted, reordered);
 * for deleted entries that is the first missing seq (a deleted tail is seen
 * because the head row still names it). *count receives the number of
 * entries that verified before the first bad one (all when intact). Either
 * pointer may be NULL. */
int store_audit_verify(struct store *st, int64_t *count, int64_t *bad_seq);

/* ---- backup (store_backup.c) -------------------------------------------- */

/* What a backup holds. */
struct store_backup_info {
	int64_t bytes;
	int schema;			/* migrations applied */
	int64_t certificates, revocations;
	int64_t audit_entries;		/* checked in the copy */
	int64_t audit_bad;		/* with RC_TAMPER: the first bad one */
};

struct rc_detail;
/*
 * Copies the database of conf to the new file dest while other processes
 * may be writing to it: one consistent snapshot (SQLite's online backup),
 * made in dest.partial, a single file with a rollback journal (no WAL),
 * mode 0600; checked with SQLite's integrity check and by verifying the
 * audit log's hash chain in the copy; synced and linked into place, never
 * replacing a file. Returns 0; RC_TAMPER when the copy's audit log does not
 * verify (the copy is kept: it is the evidence; info->audit_bad names the
 * entry); RC_EXISTS when dest or dest.partial exists; RC_IO, RC_DB with a
 * message in d otherwise, and then nothing is left at dest or
 * dest.partial.
 */
int store_backup(const struct store_conf *conf, const char *dest,
    struct store_backup_info *info, struct rc_detail *d);

/*
 * Checks that the schema of the SQLite database at path (every table,
 * index, trigger and view: type, name, table and SQL) is exactly the one
 * certdesk's migrations make, up to the migration its schema_migrations
 * records, by comparing it with a store made fresh in memory; only
 * sqlite_sequence and sqlite_stat* may differ. Reads the file with its
 * schema distrusted (no triggers, views or schema functions run). Used on
 * every copy store_backup makes, before a store opens it (which would run
 * its triggers); store_backup returns RC_INVAL then. 0 with *version (may
 * be NULL) set; RC_TAMPER when the schema differs, with d naming the
 * extra, missing and changed objects; RC_DB, with d, when the file cannot
 * be read.
 */
int store_schema_check(const char *path, int *version, struct rc_detail *d);

/* A certificate store_restore_carry() carried over. */
struct store_carried {
	char serial[41];
	int reason;			/* its revocation's, -1: not revoked */
};

/* A CA (an issuers row) store_restore_carry() carried over. */
struct store_carried_ca {
	int64_t id;
	char name[65];			/* "issuing-2", its signer key id */
	int is_root;
	int active;
};

/*
 * A revocation a portal reissue scheduled (superseded_certs) that
 * store_restore_carry() carried over: scheduled after the backup, and so
 * scheduled in the copy now (done 0); or scheduled in the backup and
 * revoked after it (done 1, reason: the revocation's), so no longer
 * scheduled in the copy, whose revocation `certdesk restore` makes again.
 */
struct store_carried_sup {
	char serial[41];		/* the replaced certificate */
	char by_serial[41];		/* the certificate replacing it */
	time_t revoke_at;
	int done;
	int reason;			/* done: its revocation's; else -1 */
};

/* What store_restore_carry() carried over; store_carry_clear() frees it. */
struct store_carry {
	struct store_carried *certs;
	size_t ncerts;
	struct store_carried_ca *cas;
	size_t ncas;
	struct store_carried_sup *sups;	/* in revoke_at order */
	size_t nsups;
};

void store_carry_clear(struct store_carry *c);	/* NULL is fine */

/*
 * For `certdesk restore`, before the restored copy (restored, a file made
 * by store_backup, not yet in place) replaces the store at replaced: in one
 * transaction of the copy, brings over from replaced (read only; at this
 * certdesk's migration) what happened after the backup. First the CAs the
 * copy lacks (a `ca roll` after the backup), in id order, each with its id,
 * name, parent, certificate, active flag and CRL number, once check_ca
 * (may be NULL: no check) accepted it: check_ca(is, arg, d) gets the row
 * (borrowed for the call) and returns 0, or an RC_* with d saying why
 * (then nothing is carried and that is the result). Then every
 * certificate the copy lacks, that is issued after the backup, with what
 * makes its status: DER, issuer, CRL shard, key hash, OCSP response,
 * revocation, issued set; and the compromised keys, CRLs, CRL shards and
 * shard counters the copy lacks, and for the CAs both have, the larger CRL
 * number. Then the revocations a portal reissue scheduled (superseded_certs)
 * that the copy lacks, as they are, and the copy's schedules that replaced
 * has done, their certificate revoked there, removed (the caller makes the
 * revocation again). Audits each CA as "ca.restore.carry", each
 * certificate as "cert.restore.carry" and each schedule as
 * "superseded.restore.carry", by actor. Returns 0 with *out filled (empty
 * when nothing was carried); RC_STATE when replaced is at another
 * migration, or a CA it has is another one in the copy (same id or name,
 * another name or certificate), or certificates or CAs to carry hang from
 * one, or a schedule to carry names a certificate neither has (then
 * nothing is carried); RC_DB otherwise; d says why.
 */
int store_restore_carry(const char *restored, const char *replaced,
    const char *actor,
    int (*check_ca)(const struct store_issuer *, void *, struct rc_detail *),
    void *arg, struct store_carry *out, struct rc_detail *d);

/* ---- ACME: accounts, EAB keys, nonces (migration 0002) ------------------- */

/*
 * Bounds: a JWK is at most STORE_MAX_ACME_JWK bytes of JSON (an RSA 8192
 * key is about 1.4 KiB), contacts at most STORE_MAX_TEXT bytes of JSON;
 * thumbprints, EAB key ids, nonces and challenge tokens are 1..64
 * base64url characters ([A-Za-z0-9_-]). Statuses are the lowercase RFC 8555
 * words each table allows (see 0002-acme.sql).
 */
#define STORE_MAX_ACME_JWK (16 * 1024)
#define STORE_MAX_ACME_TOKEN 64

struct store_acme_account {
	int64_t id;
	char *status;		/* "valid", "deactivated", "revoked" */
	char *jwk;
	char *thumbprint;
	char *contact;		/* JSON array text */
	int64_t contract_id;	/* 0 when not bound */
	char *eab_kid;		/* may be NULL */
	time_t created_at, updated_at;
	uint8_t key_sha256[32];	/* SHA-256 of the key's SubjectPublicKeyInfo
				 * (0019), when has_key_sha256; add and
				 * update write it (NULL when not set) */
	int has_key_sha256;
	char *contract_number;	/* the bound contract's number: set by
				 * store_acme_account_page only, else NULL */
};

/* RC_EXISTS when the thumbprint is taken; RC_NOTFOUND when contract_id is
 * set and unknown. created_at 0 means now. */
int store_acme_account_add(struct store *st,
    const struct store_acme_account *a, int64_t *id);
int store_acme_account_get(struct store *st, int64_t id,
    struct store_acme_account *out);
int store_acme_account_by_thumbprint(struct store *st, const char *thumbprint,
    struct store_acme_account *out);
/* Writes status, jwk, thumbprint and contact of account a->id (the other
 * fields are kept) and sets updated_at to now. RC_NOTFOUND, RC_EXISTS (the
 * thumbprint belongs to another account). */
int store_acme_account_update(struct store *st,
    const struct store_acme_account *a);
void store_acme_account_clear(struct store_acme_account *a);
/* RFC 8555 §7.3.6 side effects of deactivation: the account's pending and
 * ready orders become invalid (with error_json, may be NULL), its pending
 * and valid authorizations authz_status: "deactivated" (the client's
 * deactivation) or "revoked" (the CA's, §7.1.6; else RC_INVAL). */
int store_acme_account_cancel(struct store *st, int64_t account_id,
    const char *error_json, const char *authz_status, time_t when);
/* A page of accounts, newest first: those with id below before (0: the
 * newest), at most limit (1..1000). *out: *n accounts, free with
 * store_acme_account_page_free(). */
int store_acme_account_page(struct store *st, int64_t before, size_t limit,
    struct store_acme_account **out, size_t *n);
void store_acme_account_page_free(struct store_acme_account *v, size_t n);
/* The CA's side of a compromised key: every valid account whose key has
 * SubjectPublicKeyInfo hash `hash` becomes "revoked" (RFC 8555 §7.1.6),
 * with store_acme_account_cancel's side effects (error_json for its
 * orders); fn(id, arg) for each, in the caller's transaction (a non-zero
 * return stops and is returned). Accounts whose hash is not known yet
 * (NULL, see store_acme_account_fill_keys) are not found. */
int store_acme_account_revoke_key(struct store *st, const uint8_t hash[32],
    const char *error_json, time_t when, int (*fn)(int64_t id, void *arg),
    void *arg);
/* Fills the key hash of accounts stored without one (before 0019):
 * hash(jwk, out, arg) computes it from the stored JWK (0, or the account
 * is skipped and counted in *failed). *filled: accounts filled. Each batch
 * of accounts is its own write transaction. */
int store_acme_account_fill_keys(struct store *st,
    int (*hash)(const char *jwk, uint8_t out[32], void *arg), void *arg,
    size_t *filled, size_t *failed);

struct store_eab_key {
	char *kid;
	int64_t contract_id;
	uint8_t *key;		/* wiped by store_eab_clear() */
	size_t key_len;
	int64_t account_id;	/* 0 while unbound */
	time_t created_at, bound_at;
};

/* key: 16..64 bytes. RC_EXISTS (kid taken), RC_NOTFOUND (contract). */
int store_eab_add(struct store *st, const char *kid, int64_t contract_id,
    const uint8_t *key, size_t key_len);
int store_eab_get(struct store *st, const char *kid, struct store_eab_key *out);
/* Binds an unbound key to an account. RC_NOTFOUND (unknown kid or
 * account), RC_EXISTS (the key is bound already, or the account holds
 * another key). */
int store_eab_bind(struct store *st, const char *kid, int64_t account_id,
    time_t when);
void store_eab_clear(struct store_eab_key *k);	/* wipes the key */
/* The keys of a contract, oldest first, without their key material (key
 * NULL): cb for each until it returns non-zero (that result). */
int store_eab_list(struct store *st, int64_t contract_id,
    int (*cb)(const struct store_eab_key *k, void *arg), void *arg);
/* Deletes an unbound key of contract_id. RC_NOTFOUND (no such key of that
 * contract), RC_STATE (it bound an account: kept, as the account's record
 * of how it joined). */
int store_eab_delete(struct store *st, const char *kid, int64_t contract_id);

/*
 * Nonces. store_nonce_key() returns the instances' shared 32-byte MAC key,
 * making it on first use. Which nonces were handed out and redeemed is
 * kept in a file beside the database, shared by every process on it
 * (store_nonce.c): store_nonce_next() hands out the next sequence number,
 * unique across processes and restarts; store_nonce_use() redeems one:
 * 0 the first time, RC_EXISTS after that (a replay), RC_NOTFOUND for a
 * number never handed out or one whose slot holds a later redeemed number
 * (a multiple of STORE_NONCE_WINDOW on: too old to tell). Numbers handed
 * out since, however many, make none too old.
 */
#define STORE_NONCE_WINDOW (1u << 20)
int store_nonce_key(struct store *st, uint8_t key[32]);
int store_nonce_next(struct store *st, uint64_t *seq);
int store_nonce_use(struct store *st, uint64_t seq);

/* ---- orders, authorizations, challenges ----------------------------------- */

struct store_order {
	int64_t id;
	int64_t contract_id;	/* 0 when none */
	int64_t slot_id;	/* 0 when none */
	int64_t account_id;	/* ACME account, 0 when none */
	int64_t org_id;		/* 0 for DV */
	char *profile;		/* "dv", "ov", "ev" */
	char *status;		/* "pending", "ready", "processing", "valid",
				 * "invalid" */
	char *names;		/* space-separated; "*.x" for wildcards */
	uint8_t *csr;		/* DER once finalized, else NULL */
	size_t csr_len;
	char *error;		/* JSON problem, or NULL */
	char cert_serial[41];	/* "" when none */
	time_t created_at, updated_at, expires_at;
	char *details;		/* portal orders: JSON text (purpose,
				 * contacts, organisation as typed), or
				 * NULL */
	char *replaces;		/* ACME: the certID (RFC 9773) of the
				 * certificate it replaces, or NULL */
	char *acme_profile;	/* ACME: the profile asked for in newOrder,
				 * or NULL (the default) */
};

/* Adds an order (id, csr, error and cert_serial are ignored; created_at 0
 * means now). RC_NOTFOUND for an unknown contract, slot or org. */
int store_order_add(struct store *st, const struct store_order *o,
    int64_t *id);
int store_order_get(struct store *st, int64_t id, struct store_order *out);
void store_order_clear(struct store_order *o);
/*
 * A live order that replaces the certificate cert_id (RFC 9773 §5): one
 * processing or valid, or one pending or ready that has not expired at now
 * and none of whose authorizations is final without being valid (invalid,
 * deactivated, expired, revoked, or past its expiry). Its id in *order_id;
 * RC_NOTFOUND when there is none.
 */
int store_order_replacing(struct store *st, const char *cert_id, time_t now,
    int64_t *order_id);
/*
 * Moves order id from status `from` (NULL: any) to `to`, setting error
 * (JSON or NULL), cert_serial (or NULL: kept), csr (or NULL: kept) and
 * updated_at = when. A conditional update: RC_STATE when the order is not
 * in `from` (someone else moved it), RC_NOTFOUND when it does not exist.
 */
int store_order_set_status(struct store *st, int64_t id, const char *from,
    const char *to, const char *error_json, const char *cert_serial,
    const uint8_t *csr, size_t csr_len, time_t when);
/* Ids of an account's orders below `before` (0: all), newest first, at
 * most max into ids; *n gets the count and *more (may be NULL) 1 when more
 * exist. Not the invalid ones, nor those not valid whose expires_at is at
 * or before now (RFC 8555 7.1.2.1). */
int store_order_ids_by_account(struct store *st, int64_t account_id,
    int64_t before, time_t now, int64_t *ids, size_t max, size_t *n,
    int *more);
/* Ids of ACME orders (account_id set) in `status` whose updated_at is
 * before `before`, oldest first, at most max; *n gets the count. For the
 * recovery of issuance interrupted by a crash or a restart. */
int store_order_stale(struct store *st, const char *status, time_t before,
    int64_t *ids, size_t max, size_t *n);
/* Ids of portal orders still pending at or after their expires_at, of
 * slot_id (0: of every pending slot), soonest expired first, at most max;
 * *n gets the count. For ending them (ra_portal_orders_expire). */
int store_order_expired_portal(struct store *st, int64_t slot_id,
    time_t now, int64_t *ids, size_t max, size_t *n);
/* The serial of the newest certificate stored for order_id into serial
 * (41 bytes); RC_NOTFOUND when none. For recovery. */
int store_cert_serial_by_order(struct store *st, int64_t order_id,
    char serial[41]);
/*
 * One request on a handle: between store_rq_begin and store_rq_end, reads
 * outside a transaction share one read snapshot instead of one each (fewer
 * locks, and the page cache is checked once). The snapshot ends before
 * anything writes through the handle and when the calling thread has
 * written through another handle (the group committer), so the request
 * still reads its own writes; a read may otherwise miss what another
 * thread committed after the request's first read. For request threads
 * only: a long-running loop must not hold it. NULL is fine.
 */
void store_rq_begin(struct store *st);
void store_rq_end(struct store *st);
/* Ends the request's snapshot now, before a long wait (network I/O): an
 * open read transaction keeps SQLite from checkpointing its WAL. The next
 * read opens another. NULL is fine. */
void store_rq_release(struct store *st);

struct store_authz {
	int64_t id;
	int64_t order_id;	/* the order that created it */
	int64_t account_id;	/* ACME account, 0 for portal ones */
	char *ident_type;	/* "dns", "ip" */
	char *identifier;	/* without "*." */
	int wildcard;
	char *status;		/* "pending", "valid", "invalid",
				 * "deactivated", "expired", "revoked" */
	char *method;		/* validation method once valid, or NULL */
	time_t validated_at;	/* 0 when not validated */
	time_t expires_at;
	char *evidence;		/* JSON, or NULL */
	char *br_version;	/* or NULL */
	time_t created_at, updated_at;
};

/* Adds an authorization (id ignored; method, evidence, br_version,
 * validated_at as given; created_at 0 means now). */
int store_authz_add(struct store *st, const struct store_authz *a,
    int64_t *id);
int store_authz_get(struct store *st, int64_t id, struct store_authz *out);
void store_authz_clear(struct store_authz *a);
/*
 * Moves authorization a->id from status `from` (NULL: any) to a->status,
 * writing method, validated_at, expires_at, evidence, br_version from a
 * and updated_at = when. RC_STATE when not in `from`, RC_NOTFOUND when it
 * does not exist.
 */
int store_authz_set(struct store *st, const struct store_authz *a,
    const char *from, time_t when);
/*
 * The newest authorization of the account for (ident_type, identifier,
 * wildcard) that is either valid, validated at or after valid_since and
 * unexpired at now, or (with pending_ok) pending and unexpired at now.
 * A valid one wins over a pending one. *id gets it; RC_NOTFOUND when none.
 */
int store_authz_find(struct store *st, int64_t account_id,
    const char *ident_type, const char *identifier, int wildcard,
    time_t now, time_t valid_since, int pending_ok, int64_t *id);

/* Links an order's identifier number `position` to an authorization. */
int store_order_authz_add(struct store *st, int64_t order_id, int position,
    int64_t authz_id);
/* The authorization ids of an order, by position, at most max; *n gets
 * the count. */
int store_order_authz_list(struct store *st, int64_t order_id, int64_t *ids,
    size_t max, size_t *n);

struct store_challenge {
	int64_t id;
	int64_t authz_id;
	char *type;		/* "http-01", "dns-01", "tls-alpn-01" */
	char *status;		/* "pending", "processing", "valid",
				 * "invalid" */
	char *token;
	time_t validated_at;	/* 0 unless valid */
	char *error;		/* JSON problem, or NULL */
	time_t lease_until;	/* 0: job not claimed */
	int attempts;
	time_t created_at, updated_at;
};

/* Adds a challenge (id, lease, attempts ignored; created_at 0: now). */
int store_challenge_add(struct store *st, const struct store_challenge *c,
    int64_t *id);
int store_challenge_get(struct store *st, int64_t id,
    struct store_challenge *out);
void store_challenge_clear(struct store_challenge *c);
/* The challenges of an authorization, by id; the struct is borrowed for
 * the callback only. */
int store_challenge_list(struct store *st, int64_t authz_id,
    int (*cb)(const struct store_challenge *, void *), void *arg);
/*
 * Moves challenge id from `from` (NULL: any) to `to`, with error (JSON or
 * NULL) and validated_at (0: NULL); clears the lease; updated_at = when.
 * RC_STATE when not in `from`, RC_NOTFOUND when it does not exist.
 */
int store_challenge_set_status(struct store *st, int64_t id,
    const char *from, const char *to, const char *error_json,
    time_t validated_at, time_t when);
/*
 * Claims the validation job of a processing challenge: sets lease_until
 * and counts an attempt, if the challenge is processing and its lease is
 * free or ran out before now. 0 when claimed; RC_STATE when not
 * processing or leased by someone else; RC_NOTFOUND.
 */
int store_challenge_claim(struct store *st, int64_t id, time_t now,
    time_t lease_until);
/* Ids of processing challenges whose lease is free or ran out before now,
 * oldest first, at most max; *n gets the count. */
int store_challenge_jobs(struct store *st, time_t now, int64_t *ids,
    size_t max, size_t *n);

/* ---- portal: users, sessions, API tokens, login throttling (0003) -------- */

/*
 * What the portal reads about the people and things a request may touch.
 * Every struct filled by a *_get function owns its strings: release with
 * the matching *_clear (which accepts a zeroed struct). RC_NOTFOUND when
 * the row does not exist.
 */
#define STORE_HASH_LEN 32	/* SHA-256 of a session id or API token */
#define STORE_CSRF_LEN 32	/* a session's CSRF secret */

struct store_user {
	int64_t id;
	int64_t customer_id;	/* 0 for staff */
	char *email;
	char *display_name;
	int role;		/* enum store_role */
	char *pw_hash;		/* argon2id encoded, or NULL: no password */
	time_t disabled_at;	/* disabled by an admin then (0030); 0:
				 * enabled. A disabled user has no login,
				 * session or token that counts */
};

/* By email (ASCII case-insensitive; RC_NOTFOUND as well when several
 * users' emails differ only in case), or by id. */
int store_user_by_email(struct store *st, const char *email,
    struct store_user *out);
int store_user_get(struct store *st, int64_t id, struct store_user *out);
void store_user_clear(struct store_user *u);	/* wipes pw_hash */
/* Disables user id at `when` (> 0), or enables it again (when 0).
 * RC_STATE when it is so already, RC_NOTFOUND for an unknown user. Its
 * sessions and tokens are the caller's (below), in the same
 * transaction. */
int store_user_set_disabled(struct store *st, int64_t id, time_t when);
/* A new password hash (argon2id encoded, not NULL) for user id;
 * RC_NOTFOUND. */
int store_user_set_password(struct store *st, int64_t id,
    const char *pw_hash);

struct store_contract {
	int64_t id;
	int64_t customer_id;
	char *number;
	time_t created_at;
};
int store_contract_get(struct store *st, int64_t id,
    struct store_contract *out);
void store_contract_clear(struct store_contract *c);

struct store_slot {
	int64_t id;
	int64_t contract_id;
	int64_t customer_id;	/* the contract's customer */
	char *product;		/* "starter", ... (see store_slot_add) */
	char *state;		/* "unused", "active", "pending", ... */
	time_t created_at, updated_at;
};
int store_slot_get(struct store *st, int64_t id, struct store_slot *out);
void store_slot_clear(struct store_slot *s);
/*
 * Moves slot id from state `from` to `to` at `when` (0: now). The allowed
 * transitions are fixed here, whoever asks:
 *   unused -> active (Unlimited: "Activate now"; others: set up)
 *   unused|active -> pending (an order was placed)
 *   pending -> issued (issued)
 *   issued -> expired | revoked | pending (renewal)
 *   expired|revoked -> pending (a new order)
 *   any but cancelled -> cancelled (admin)
 * When the order fails, pending goes back to what the slot held before it
 * only through store_slot_order_ended(), which decides where.
 * Returns 0; RC_INVAL for a transition not in the list or unknown state
 * names; RC_NOTFOUND for an unknown slot; RC_STATE when the slot is not in
 * state `from` (someone else moved it first).
 */
int store_slot_set_state(struct store *st, int64_t id, const char *from,
    const char *to, time_t when);
#define STORE_SLOT_STATE_LEN 16
/*
 * Portal order order_id has ended without a certificate (invalid: refused
 * at issuance, its case rejected by staff, expired, its issuance
 * interrupted): its slot leaves pending for what it held before the order.
 * This is the one rule for every such end. The slot holds the certificate
 * of its newest order that has one (as store_revoke reads it): the slot
 * becomes revoked when that certificate is revoked, expired when its
 * not_after is at or before `when`, else issued; when no order of the
 * slot ever had a certificate, where it was set up from: active for SSL
 * Unlimited (activated first), unused for the others. At `when` (0:
 * now), in one transaction (a savepoint inside the caller's). *to (may be
 * NULL) gets the new state.
 * Returns 0; RC_STATE when the slot is not pending, the order is not
 * invalid or not the slot's newest (an admin cancelled the slot, another
 * order moved it on): nothing changes; RC_NOTFOUND for an unknown order or
 * one without a slot (ACME).
 */
int store_slot_order_ended(struct store *st, int64_t order_id, time_t when,
    char to[STORE_SLOT_STATE_LEN]);
/*
 * Issued slots whose held certificate (as store_slot_order_ended reads it)
 * ran out: its not_after at or before `now`, at most max into ids and
 * (when not NULL) serials, by slot id; *n gets the count. Found through
 * the issued slots, so it needs no memory of an earlier sweep, also after
 * a restart. Moving them (issued -> expired) is the caller's, with
 * store_slot_set_state.
 */
int store_slot_ran_out(struct store *st, time_t now,
    int64_t *ids, char (*serials)[41], size_t max, size_t *n);
/*
 * The certificate portal order order_id's slot held before it: that of
 * the slot's newest older order with one (as SLOT_HELD_CERT read it before
 * order_id issued), into serial. RC_NOTFOUND when there is none (the
 * slot's first certificate) or order_id has no slot.
 */
int store_slot_prev_cert(struct store *st, int64_t order_id,
    char serial[41]);
/*
 * The orders of slot slot_id the portfolio shows: its newest (*newest:
 * the one in progress, or the last one placed) and its newest with a
 * certificate (*held: the one whose certificate the slot holds, as
 * store_slot_order_ended and store_revoke read it); 0 for none. An
 * unknown slot has neither. 0, or a store error.
 */
int store_slot_orders(struct store *st, int64_t slot_id, int64_t *newest,
    int64_t *held);
/*
 * The newest order of portal order order_id's slot, when it is newer than
 * order_id, into *next (a reissue or renewal placed after it). RC_NOTFOUND
 * when order_id is the slot's newest or has no slot.
 */
int store_slot_next_order(struct store *st, int64_t order_id,
    int64_t *next);

/*
 * A certificate a portal reissue replaced, to be revoked (superseded) at
 * revoke_at: migration 0022's superseded_certs.
 */
struct store_superseded {
	char serial[41];	/* the replaced certificate */
	char by_serial[41];	/* the slot's certificate replacing it */
	time_t revoke_at;
};
/* Schedules it; a certificate already scheduled keeps its first date
 * (0). RC_NOTFOUND when either certificate is unknown. */
int store_superseded_add(struct store *st, const struct store_superseded *s);
/* Those due (revoke_at <= now), soonest first, at most max into out; *n
 * gets the count. One range of the revoke_at index. */
int store_superseded_due(struct store *st, time_t now,
    struct store_superseded *out, size_t max, size_t *n);
/* serial's schedule into out; RC_NOTFOUND when it has none. */
int store_superseded_get(struct store *st, const char *serial,
    struct store_superseded *out);
/* The one by_serial replaced and that is still to be revoked, into out;
 * RC_NOTFOUND when none. */
int store_superseded_by(struct store *st, const char *by_serial,
    struct store_superseded *out);
/* Forgets serial's schedule (revoked, or nothing left to revoke); 0 also
 * when there was none. */
int store_superseded_done(struct store *st, const char *serial);

struct store_session {
	uint8_t id_hash[STORE_HASH_LEN];
	int64_t user_id;
	uint8_t csrf_secret[STORE_CSRF_LEN];
	time_t created_at, last_seen_at, idle_expires_at, expires_at;
};
/* Adds a session row (the caller made the id and hashed it). RC_EXISTS
 * when the hash is taken; RC_NOTFOUND for an unknown user. */
int store_session_add(struct store *st, const struct store_session *s);
/* The session with this id hash if it has not ended at `now` (neither
 * timeout passed); RC_NOTFOUND otherwise. out holds no pointers. */
int store_session_get(struct store *st, const uint8_t *id_hash, time_t now,
    struct store_session *out);
/* Records use at `now` and moves idle_expires_at (never past expires_at,
 * which the caller keeps). RC_NOTFOUND when gone. */
int store_session_touch(struct store *st, const uint8_t *id_hash, time_t now,
    time_t idle_expires_at);
/* Ends one session (logout); 0 also when it was gone already. */
int store_session_delete(struct store *st, const uint8_t *id_hash);
/* Ends every session of user_id; *n (may be NULL) gets how many. */
int store_session_delete_user(struct store *st, int64_t user_id,
    int64_t *n);
/* Deletes sessions ended at now, and the showings of new tokens and EAB
 * keys (store_reveal_add) that ended; *n (may be NULL) gets how many
 * sessions. */
int store_session_purge(struct store *st, time_t now, int64_t *n);

struct store_token {
	int64_t id;
	int64_t user_id;
	char *label;
	time_t created_at, last_used_at;	/* 0: never used */
	time_t revoked_at;			/* 0 while usable */
	time_t expires_at;			/* refused from then on;
						 * 0: no end (0020) */
};
/* Adds an API token by its hash, refused from expires_at on (0: no end;
 * the caller decides who may have that); *id gets the token's id.
 * RC_EXISTS, RC_NOTFOUND (unknown user). */
int store_token_add(struct store *st, int64_t user_id,
    const uint8_t *token_hash, const char *label, time_t expires_at,
    int64_t *id);
/* The token with this hash, revoked, expired or not (the caller checks
 * revoked_at and expires_at); RC_NOTFOUND. Free with
 * store_token_clear(). */
int store_token_by_hash(struct store *st, const uint8_t *token_hash,
    struct store_token *out);
void store_token_clear(struct store_token *t);
/* Records a use at `now`. */
int store_token_touch(struct store *st, int64_t id, time_t now);
/* The tokens of user_id, revoked and expired ones too, oldest first: cb
 * for each (borrowed: valid during the call) until it returns non-zero
 * (that result). */
int store_token_list(struct store *st, int64_t user_id,
    int (*cb)(const struct store_token *t, void *arg), void *arg);
/* Revokes token id of user_id (0: of any user) at `when`. RC_NOTFOUND when
 * no such usable token. */
int store_token_revoke(struct store *st, int64_t id, int64_t user_id,
    time_t when);
/* Revokes every usable token of user_id at `when` (0: now); *n (may be
 * NULL) gets how many. */
int store_token_revoke_user(struct store *st, int64_t user_id, time_t when,
    int64_t *n);
/*
 * A new secret's one showing: the portal's forms that make an API token
 * (0024) or ACME credentials (an EAB key, 0025) redirect to the page that
 * shows the secret (POST-redirect-GET) and leave it here for that page,
 * sealed with a key only the browser session has. What it belongs to is
 * a token (token_id, eab_kid NULL) or an EAB key (eab_kid, token_id 0).
 * store_reveal_add() keeps sealed[0..n) (1 to STORE_REVEAL_SEALED_MAX
 * bytes) for the session with id hash session_hash and what until
 * expires_at: RC_NOTFOUND for an unknown session, token or key, RC_EXISTS
 * when its showing waits already, RC_INVAL when what names neither or
 * both (or a malformed key id). store_reveal_take() copies them into out
 * (STORE_REVEAL_SEALED_MAX bytes), *n their length, and deletes them in
 * one transaction, so that only one request gets them: RC_NOTFOUND when
 * there are none, or they ended at now (deleted all the same). A showing
 * ends with its session and with its token or key; store_session_purge()
 * deletes the ended ones.
 */
struct store_reveal {
	int64_t token_id;	/* an API token's (0024), or 0 */
	const char *eab_kid;	/* an EAB key's (0025), or NULL; borrowed */
};
#define STORE_REVEAL_SEALED_MAX 256
int store_reveal_add(struct store *st, const uint8_t *session_hash,
    const struct store_reveal *what, const uint8_t *sealed, size_t n,
    time_t expires_at);
int store_reveal_take(struct store *st, const uint8_t *session_hash,
    const struct store_reveal *what, time_t now, uint8_t *out, size_t *n);

/* Login failures of one key ("acct:<email>", "addr:<address>"). A missing
 * row reads as zero failures (return 0). */
struct store_login_failures {
	int64_t failures;
	time_t first_at, last_at;
};
int store_login_failures_get(struct store *st, const char *key,
    struct store_login_failures *out);
/* One more failure at `now`; a run whose last failure is older than
 * `reset_after` seconds starts again from one. */
int store_login_failure_add(struct store *st, const char *key, time_t now,
    time_t reset_after);
/* One more failure at `now`, as store_login_failure_add(), but only while
 * the key's row is as `seen` read it (store_login_failures_get; a missing
 * row as zero): RC_CONFLICT when another attempt came first, to read and
 * decide again. Concurrent attempts so each take a place of their own
 * before the password is checked. */
int store_login_failure_reserve(struct store *st, const char *key,
    time_t now, time_t reset_after, const struct store_login_failures *seen);
/* Takes one failure back (a reserved attempt that turned out good). */
int store_login_failure_release(struct store *st, const char *key);
/* Forgets a key's failures (successful login). */
int store_login_failures_clear(struct store *st, const char *key);

/* ---- outgoing mail (migration 0005) -------------------------------------- */

/* One queued mail; strings owned (store_mail_list_free). */
struct store_mail {
	int64_t id;
	char *to_addr, *subject, *body;
	char *kind, *ref;	/* NULL for one-off mail */
	char *last_error;	/* NULL when none */
	time_t created_at, next_try_at, sent_at;	/* sent_at 0: waiting */
	time_t bounced_at;	/* refused for good (0009); 0: not */
	int attempts;
};
/* Queues a mail to one plain address (no checks of its syntax here: the
 * mail component refuses bad ones), due at `now`. With kind and ref
 * non-NULL, at most one mail per (kind, ref, to_addr) ever: RC_EXISTS for
 * another. *id (may be NULL) gets its id. body may be multi-line. */
int store_mail_add(struct store *st, const char *to_addr,
    const char *subject, const char *body, const char *kind, const char *ref,
    time_t now, int64_t *id);
/* Up to max unsent mails with next_try_at <= now (max 0: all waiting
 * mail, due or not), oldest first, bounced mail never: *out a new array
 * of *n (free with store_mail_list_free). */
int store_mail_due(struct store *st, time_t now, size_t max,
    struct store_mail **out, size_t *n);
void store_mail_list_free(struct store_mail *m, size_t n);
/* Marks mail id sent at `when`; body, when not NULL, replaces its text
 * in the same statement (a delivered mail kept without its secrets), and
 * the old text is zeroed in the page. RC_NOTFOUND when unknown or already
 * sent. */
int store_mail_sent(struct store *st, int64_t id, time_t when,
    const char *body);
/* Records a failed try: attempts + 1, last_error, next try at next_try.
 * RC_NOTFOUND when unknown, sent or bounced. */
int store_mail_failed(struct store *st, int64_t id, const char *error,
    time_t next_try);
/* Records a try the server refused for good (SMTP 5xx, migration 0009):
 * attempts + 1, last_error = error (required), bounced_at = when, and
 * body, when not NULL, as its text (as store_mail_sent); the mail is
 * never due again. RC_NOTFOUND when unknown, sent or bounced. */
int store_mail_bounced(struct store *st, int64_t id, const char *error,
    time_t when, const char *body);
/*
 * Checkpoints the whole WAL into the database file and truncates the WAL
 * to nothing, so that no older version of a page (a mail's text before
 * store_mail_sent replaced it) stays in the -wal file. RC_CONFLICT when a
 * reader of an older snapshot kept it from finishing within a moment: try
 * again later.
 */
int store_wal_truncate(struct store *st);

/* A certificate of a portal order (orders.details set), not revoked,
 * whose not_after lies in (from, to]. */
struct store_expiring {
	char serial[41];
	int64_t order_id;
	time_t not_after;
};
/* Every such certificate: *out a new array of *n (free()). */
int store_cert_expiring(struct store *st, time_t from, time_t to,
    struct store_expiring **out, size_t *n);

/* ---- the outbox as the admin sees it (store_sqlite_mailq.c) -------------- */

#define STORE_MAIL_PAGE_MAX 500
/*
 * Up to max (1..STORE_MAIL_PAGE_MAX) mails of the outbox, sent or not,
 * newest first, with ids below before_id (0: from the newest one): *out a
 * new array of *n (free with store_mail_list_free). sent_at is filled.
 * RC_INVAL for a bad max or a negative before_id.
 */
int store_mail_page(struct store *st, int64_t before_id, size_t max,
    struct store_mail **out, size_t *n);
/* One mail by id: *out a new array of one (free with
 * store_mail_list_free(*out, 1)); RC_NOTFOUND when there is none. */
int store_mail_get(struct store *st, int64_t id, struct store_mail **out);

/* ---- domain validation of portal orders (store_sqlite_dv.c, 0006) -------- */

/*
 * The validation of one name of a portal order (dv_validations): the
 * method in use, its random value, the customer-facing problem and the
 * DV worker's schedule. Strings owned; store_dv_clear().
 */
struct store_dv {
	int64_t authz_id, order_id;
	char *method;		/* "dns-auto", "email", "dns", "http",
				 * "operator", "reused" */
	char *value;		/* random value (TXT record, file body) */
	char *http_file;	/* random file name, without ".txt" */
	int hosted;
	char *zone;		/* dns-auto: the zone apex, or NULL */
	char *email_local;	/* email: "hostmaster", ..., or NULL */
	char *stage;		/* "idle", "publish", "wait", "check" */
	time_t published_at;	/* 0: none */
	char *problem, *message;	/* NULL: none */
	time_t checked_at, caa_checked_at, next_check_at;	/* 0: none */
	time_t lease_until;
	time_t created_at, updated_at;
};
/* Adds the row (lease ignored). RC_EXISTS when the name has one. */
int store_dv_add(struct store *st, const struct store_dv *v);
int store_dv_get(struct store *st, int64_t authz_id, struct store_dv *out);
void store_dv_clear(struct store_dv *v);
/* Writes method, zone, email_local, stage, published_at, problem,
 * message, checked_at, caa_checked_at and next_check_at from v, frees the
 * lease, updated_at = when. RC_NOTFOUND. */
int store_dv_update(struct store *st, const struct store_dv *v, time_t when);
/* Claims the job of a row whose next_check_at is set and due at now (or,
 * with force, any row) and whose lease is free or ran out: lease_until
 * set. RC_STATE otherwise. */
int store_dv_claim(struct store *st, int64_t authz_id, time_t now,
    time_t lease_until, int force);
/* Ids (authz) of due, unleased jobs, most overdue first, at most max. */
int store_dv_jobs(struct store *st, time_t now, int64_t *ids, size_t max,
    size_t *n);

/* One attempt with its evidence (dv_attempts, append-only). Borrowed. */
struct store_dv_attempt {
	int64_t authz_id, order_id;
	const char *method;	/* as store_dv, or "caa" */
	const char *br_version, *br_section;
	time_t started_at, finished_at;
	const char *value;	/* value checked, or hash of a mail token */
	int valid;
	const char *problem, *detail, *evidence;	/* may be NULL */
};
int store_dv_attempt_add(struct store *st, const struct store_dv_attempt *a,
    int64_t *id);

/* A confirmation link of email validation (dv_email_tokens). */
struct store_dv_token {
	int64_t id, authz_id;
	uint8_t token_hash[STORE_HASH_LEN];
	char *email_to;
	char *state;		/* "pending", "confirmed", "replaced" */
	int64_t mail_id;	/* 0: none */
	time_t sent_at, expires_at, confirmed_at;
	char *client_addr, *user_agent;	/* NULL until confirmed */
};
/* Adds a pending token; the name's other pending tokens become
 * "replaced" in the same statement group. RC_EXISTS (hash taken). */
int store_dv_token_add(struct store *st, const struct store_dv_token *t,
    int64_t *id);
int store_dv_token_by_hash(struct store *st,
    const uint8_t hash[STORE_HASH_LEN], struct store_dv_token *out);
/* The name's newest token; RC_NOTFOUND when none was sent. *count (may
 * be NULL) gets how many were sent for it. */
int store_dv_token_latest(struct store *st, int64_t authz_id,
    struct store_dv_token *out, int64_t *count);
/* pending -> confirmed with who confirmed; RC_STATE when not pending. */
int store_dv_token_confirm(struct store *st, int64_t id, time_t when,
    const char *client_addr, const char *user_agent);
/* The pending token id now confirms name authz_id instead (another name
 * of the same order that waits for its mail): the name it was sent for
 * chose another address or method. RC_STATE when not pending. */
int store_dv_token_hand(struct store *st, int64_t id, int64_t authz_id);
/* Every pending token of the name becomes "replaced" (method changed). */
int store_dv_token_retire(struct store *st, int64_t authz_id);
void store_dv_token_clear(struct store_dv_token *t);

/* A temporary TXT record to remove (dv_dns_records). */
struct store_dv_record {
	int64_t id, authz_id;	/* authz 0: none */
	char *zone, *owner, *value;
	time_t created_at, remove_at;
	int attempts;
	char *last_error;
};
int store_dv_record_add(struct store *st, const struct store_dv_record *r,
    int64_t *id);
/* The newest record row of a name; RC_NOTFOUND. */
int store_dv_record_of(struct store *st, int64_t authz_id,
    struct store_dv_record *out);
/* Rows due for removal at now and not leased, at most max: *out a new
 * array of *n (store_dv_record_list_free). */
int store_dv_record_due(struct store *st, time_t now, size_t max,
    struct store_dv_record **out, size_t *n);
/* Claims a row for removal until lease_until; RC_STATE when leased. */
int store_dv_record_claim(struct store *st, int64_t id, time_t now,
    time_t lease_until);
/* The record is gone: deletes the row. */
int store_dv_record_done(struct store *st, int64_t id);
/* A removal failed: attempts + 1, the error, retried at remove_at. */
int store_dv_record_failed(struct store *st, int64_t id, const char *error,
    time_t remove_at);
void store_dv_record_clear(struct store_dv_record *r);
void store_dv_record_list_free(struct store_dv_record *v, size_t n);

/*
 * Reuse (BR 4.2.1): the newest valid portal authorization (account_id
 * NULL) of an order of contract_id for identifier, validated at or after
 * valid_since and unexpired at now, other than exclude_id. For wildcard 1
 * only validations by a DNS method (or staff) count (DESIGN.md: wildcards
 * only through DNS); for 0 any.
 * *authz_id gets it; RC_NOTFOUND when none.
 */
int store_dv_reusable(struct store *st, int64_t contract_id,
    const char *identifier, int wildcard, time_t valid_since, time_t now,
    int64_t exclude_id, int64_t *authz_id);

/* Is name (or a parent of it) a domain of the contract? *hosted gets its
 * hosted flag (1 if any matching row is hosted), zone (zonesz bytes) the
 * longest matching domain. RC_NOTFOUND when none matches. */
int store_dv_domain_of(struct store *st, int64_t contract_id,
    const char *name, int *hosted, char *zone, size_t zonesz);

/* ---- organisation validation cases (store_sqlite_org.c, 0007) ----------- */

/*
 * The back office's cases (see 0007-org-validation.sql): one per OV/EV
 * portal order, with the checklist evidence staff record. The state
 * machine and every rule about who may do what live in src/ra/orgval.c;
 * the store only checks the enumerations, bounds and references and makes
 * each state change conditional. States: "open", "in_review",
 * "info_requested", "awaiting_second_approval", "approved", "rejected".
 * Steps: "legal_existence", "address", "domain_registrant", "telephone",
 * "ev_jurisdiction", "ev_business_category", "ev_registration".
 */
struct store_org_case {
	int64_t id;
	int64_t order_id;
	int64_t customer_id;
	char *profile;			/* "ov", "ev" */
	char *product;			/* the slot's product */
	char *state;
	int approvals_required;		/* 1, or 2 (EV two-person rule) */
	int64_t assigned_to;		/* user ids, 0 when none */
	int64_t first_approver, second_approver;
	int64_t org_id;			/* 0 until approved */
	int reused;			/* 1: approved by reuse */
	char *info_request;		/* NULL when none */
	char *info_response;		/* NULL when none */
	char *reject_reason;		/* NULL when none */
	time_t created_at, updated_at, decided_at;	/* decided_at 0: not */
	time_t info_response_at;	/* when info_response was sent (0027);
					 * 0: no answer, or one from before
					 * 0027 the audit log had no time of */
	/* (a case rejected with decided_at 0 was closed by the system when
	 * its order expired: no finding by staff, store_org_find_valid) */
};

/* Adds a case (id ignored; the rest as given, created_at 0: now).
 * RC_EXISTS when the order has one; RC_NOTFOUND for an unknown order,
 * customer, user or organisation. */
int store_org_case_add(struct store *st, const struct store_org_case *c,
    int64_t *id);
int store_org_case_get(struct store *st, int64_t id,
    struct store_org_case *out);
int store_org_case_by_order(struct store *st, int64_t order_id,
    struct store_org_case *out);
void store_org_case_clear(struct store_org_case *c);	/* zeroed is fine */
/*
 * Writes case c->id from state `from` (never NULL) to c->state with
 * assigned_to, first_approver, second_approver, org_id, info_request,
 * info_response, info_response_at, reject_reason and decided_at from c,
 * updated_at = when (RC_INVAL for an info_response_at without an
 * info_response).
 * A conditional update: RC_STATE when the case is not in `from` (someone
 * else moved it), RC_NOTFOUND when it does not exist.
 */
int store_org_case_set(struct store *st, const struct store_org_case *c,
    const char *from, time_t when);
/* Case ids oldest first (created_at, then id) with state and profile
 * (each NULL: any) and customer (0: any): *ids a new array (free()) of
 * *n. */
int store_org_case_ids(struct store *st, const char *state,
    const char *profile, int64_t customer_id, int64_t **ids, size_t *n);

struct store_org_check {
	int64_t id;
	int64_t case_id;
	const char *step;
	const char *evidence;		/* JSON text */
	int satisfied;
	int64_t agent_id;
	time_t recorded_at;
};
/* Adds evidence for a step (strings borrowed). RC_NOTFOUND for an unknown
 * case or agent. */
int store_org_check_add(struct store *st, const struct store_org_check *k,
    int64_t *id);
/* The evidence rows of a case, oldest first; the struct and its strings
 * are borrowed for the callback only. */
int store_org_check_list(struct store *st, int64_t case_id,
    int (*cb)(const struct store_org_check *, void *), void *arg);

/*
 * The conversation of a case with its customer
 * (0028-org-case-messages.sql), oldest first: kind "request" (staff ask
 * for information) or "response" (the customer answers); body the text as
 * written (at most STORE_MAX_TEXT * 4 bytes, line breaks and tabs
 * allowed, not empty); author_id the user who wrote it and sent_at when,
 * each 0 when not known (carried over by 0028 from a case's row without
 * an audit entry). Messages are only ever added; the ra writes each with
 * the case's info_request or info_response in one transaction.
 */
#define STORE_ORG_MSG_REQUEST "request"
#define STORE_ORG_MSG_RESPONSE "response"
struct store_org_msg {
	int64_t id;
	int64_t case_id;
	const char *kind;
	const char *body;
	int64_t author_id;		/* 0: not known */
	time_t sent_at;			/* 0: not known */
};
/* Adds a message (strings borrowed; id ignored; author_id required,
 * sent_at 0: now). RC_INVAL for a bad field, RC_NOTFOUND for an unknown
 * case or user. */
int store_org_msg_add(struct store *st, const struct store_org_msg *m,
    int64_t *id);
/* The messages of a case, oldest first; the struct and its strings are
 * borrowed for the callback only (non-zero from it stops the list and is
 * returned). */
int store_org_msg_list(struct store *st, int64_t case_id,
    int (*cb)(const struct store_org_msg *, void *), void *arg);

/*
 * The documents a customer sent with an answer to a request for
 * information (0026-org-case-documents.sql): content_type is one of
 * "application/pdf", "image/png", "image/jpeg" (sniffed by the ra), label
 * the filename made safe to show (STORE_ORG_DOC_LABEL_MAX bytes at most,
 * no control characters), sha256 that of data[0..size); message_id the
 * answer (a "response" message of the same case, 0028) it came with.
 */
#define STORE_ORG_DOC_LABEL_MAX 255
struct store_org_doc {
	int64_t id;
	int64_t case_id;
	int64_t message_id;		/* 0: not known (none carried, 0028) */
	const char *content_type;
	const char *label;
	const uint8_t *data;		/* NULL in lists */
	size_t size;
	uint8_t sha256[32];
	int64_t uploaded_by;		/* the user */
	time_t uploaded_at;
};
/* Adds a document (strings and data borrowed; id ignored; uploaded_at 0:
 * now) to answer message_id. RC_INVAL for a bad field, RC_NOTFOUND for an
 * unknown case or user, or a message_id that is no answer of the case. */
int store_org_doc_add(struct store *st, const struct store_org_doc *d,
    int64_t *id);
/* The documents of a case, oldest first, without their data; the struct
 * is borrowed for the callback only (non-zero from it stops the list and
 * is returned). */
int store_org_doc_list(struct store *st, int64_t case_id,
    int (*cb)(const struct store_org_doc *, void *), void *arg);
/* Document id of case case_id with its data, to the callback (borrowed
 * for the call); RC_NOTFOUND when there is none or it belongs to another
 * case. Returns the callback's result otherwise. */
int store_org_doc_get(struct store *st, int64_t case_id, int64_t id,
    int (*cb)(const struct store_org_doc *, void *), void *arg);

/*
 * The customer's newest organisation that is validated (with ev: also
 * EV-validated) at or after `since`, whose legal name and country equal
 * the given ones, or those typed into an order it was approved for (the
 * customer types what they typed before, not the register's wording);
 * names compare ASCII case-insensitively with white space trimmed and
 * each run of it as one space, countries case-insensitively. Not one for
 * which a case of the customer with that country and one of its legal
 * names (that one, the registered one, or one it was approved for) was
 * rejected at or after its validation: a newer negative finding by staff
 * is looked at again, not reused past. A case closed because its order
 * expired (rejected with decided_at 0) is no finding and does not count.
 * *id gets it; RC_NOTFOUND when none.
 */
int store_org_find_valid(struct store *st, int64_t customer_id,
    const char *legal_name, const char *country, int ev, time_t since,
    int64_t *id);
/* Sets the organisation (0: none) an order's subject comes from.
 * RC_NOTFOUND for an unknown order or organisation. */
int store_order_set_org(struct store *st, int64_t order_id, int64_t org_id);

/* ---- revocation status: OCSP responses, CRL shards (migration 0008) ----- */

/*
 * One pre-signed OCSP response (RFC 6960) per certificate, replaced when it
 * is re-signed; status 0 good, 1 revoked. Bounds: der at most
 * STORE_MAX_OCSP bytes.
 */
#define STORE_MAX_OCSP (64 * 1024)

struct store_ocsp {
	char serial[41];
	int64_t issuer_id;
	int status;		/* 0 good, 1 revoked */
	time_t this_update, next_update;
	uint8_t *der;		/* the OCSPResponse */
	size_t der_len;
};

/* Inserts or replaces the response of o->serial (which must be a stored
 * certificate: RC_NOTFOUND otherwise). A "good" response (status 0) for a
 * revoked certificate is not stored either (RC_NOTFOUND): one signed
 * before the revocation committed never replaces the revoked one. */
int store_ocsp_put(struct store *st, const struct store_ocsp *o);
/* The stored response of serial; RC_NOTFOUND when none. */
int store_ocsp_get(struct store *st, const char *serial,
    struct store_ocsp *out);
void store_ocsp_clear(struct store_ocsp *o);

/* A certificate whose response is to be (re)signed, with what the response
 * says about it. */
struct store_ocsp_due {
	char serial[41];
	int64_t issuer_id;
	time_t not_after;
	int revoked, reason;
	time_t revoked_at;
};
/*
 * Up to max certificates, unexpired at now: with STORE_OCSP_DUE those
 * whose response has this_update <= before (oldest first); with
 * STORE_OCSP_MISSING the subscriber certificates (profile other than "ca")
 * that have no response at all (made before migration 0008); with
 * STORE_OCSP_STALE the revoked ones whose response still says good (the
 * re-signing at their revocation failed). *out a new array of *n (free()).
 */
enum {
	STORE_OCSP_DUE = 0,
	STORE_OCSP_MISSING = 1,
	STORE_OCSP_STALE = 2,
};
int store_ocsp_due(struct store *st, time_t before, time_t now, int which,
    size_t max, struct store_ocsp_due **out, size_t *n);

/*
 * Reserves count consecutive issuance sequence numbers of an issuer and
 * returns the first in *first; creates the crl_shards rows (no CRL yet) of
 * the shards those numbers fall in (number / shard_size). Call in store_tx.
 */
int store_crl_seq_reserve(struct store *st, int64_t issuer_id, int64_t count,
    int64_t shard_size, int64_t *first);
/* Records the CRL shard of a stored certificate (RC_NOTFOUND: unknown). */
int store_cert_set_shard(struct store *st, const char *serial, int64_t shard);
/* The CRL shard of a certificate into *shard, -1 when it has none;
 * RC_NOTFOUND for an unknown serial. */
int store_cert_get_shard(struct store *st, const char *serial,
    int64_t *shard);
/* Like store_revoked_list, only the certificates of one shard (shard < 0:
 * those without a shard). */
int store_revoked_list_shard(struct store *st, int64_t issuer_id,
    int64_t shard, int (*cb)(const char *serial, int reason, time_t when,
    void *), void *arg);

struct store_crl_shard {
	int64_t issuer_id;
	int64_t shard;
	int64_t number;		/* 0: no CRL yet */
	time_t this_update, next_update;
	uint8_t *der;		/* NULL in listings and before the first */
	size_t der_len;
};
/* Stores the newest CRL of a shard (inserting the row when missing);
 * RC_EXISTS when the shard has a CRL of this number or a higher one. */
int store_crl_shard_put(struct store *st, const struct store_crl_shard *c);
/* Every shard of an issuer (issuer_id 0: of every issuer) in shard order,
 * without the DER; the struct is borrowed for the callback only. */
int store_crl_shard_list(struct store *st, int64_t issuer_id,
    int (*cb)(const struct store_crl_shard *, void *), void *arg);

/* ---- ACME rate limits (store_sqlite_limits.c, migration 0014) ------------ */

/*
 * One GCRA bucket (the generic cell rate algorithm of Boulder's limits):
 * at most count requests per period_ms under key ("<limit>:<subject>", at
 * most STORE_MAX_TEXT). Returns 0 when one more request fits, and with
 * spend counts it; RC_POLICY when it does not, with *retry_ms the wait
 * until one fits (retry_ms may be NULL). Spend only inside store_tx, whose
 * write lock makes the check and the count one step for every instance
 * sharing the database.
 */
int store_rl_take(struct store *st, const char *key, int count,
    int64_t period_ms, int64_t now_ms, int spend, int64_t *retry_ms);
/* Deletes the buckets that are full again (tat before now_ms); *n gets
 * how many (may be NULL). */
int store_rl_gc(struct store *st, int64_t now_ms, int64_t *n);
/* Records an issued certificate by the hash of its set of names. */
int store_issued_set_add(struct store *st, const uint8_t hash[32],
    time_t issued_at, const char *serial);
/* How many certificates of the set were issued at or after since (*recent,
 * counting at most max), whether any ever was (*ever), and when the
 * oldest of the last max in the window was (*oldest, 0 when none). */
int store_issued_set_count(struct store *st, const uint8_t hash[32],
    time_t since, int max, int *recent, int *ever, time_t *oldest);

/* ---- compromised keys (store_sqlite_keys.c, migration 0016) -------------- */

/* Records the SHA-256 of a SubjectPublicKeyInfo as compromised, reported
 * by the revocation of serial at at; a key recorded already keeps its
 * first report (0). */
int store_blocked_key_add(struct store *st, const uint8_t hash[32],
    const char *serial, time_t at);
/* 0 when the key with this SPKI hash is recorded as compromised, with the
 * reporting serial in serial (41 bytes; may be NULL); RC_NOTFOUND when
 * not. */
int store_blocked_key_get(struct store *st, const uint8_t hash[32],
    char serial[41]);
/* How many keys are recorded as compromised, and when the newest was
 * (0 when none). */
int store_blocked_key_count(struct store *st, int64_t *n, time_t *newest);
/* Calls fn with the serial of each certificate of the key whose
 * SubjectPublicKeyInfo has SHA-256 hash (migration 0018) that is not a
 * CA's, not revoked and not expired at now, in one read; stops at fn's
 * first nonzero result, which it returns. fn must not write to st. */
int store_cert_each_of_key(struct store *st, const uint8_t hash[32],
    time_t now, int (*fn)(const char *serial, void *arg), void *arg);

#endif
