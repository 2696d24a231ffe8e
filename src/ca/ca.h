/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CA core: checks CSRs and their keys, builds certificates under the dv,
 * ov and ev profiles, lints every to-be-signed certificate against the
 * profile and the CA/Browser Forum Baseline Requirements (BR 4.3.1.2) before
 * it is signed, has it signed by the signer process, and stores it together
 * with its audit entry in one transaction. Also: the CA hierarchy made at
 * init, revocation, CRLs (sharded) and pre-signed OCSP responses.
 *
 * This code runs in the main certdesk process and never holds a CA private
 * key: every signature comes from the signer (signer.h). Inputs it trusts:
 * the store, the configuration, the signer's answers. Inputs it does not
 * trust: CSR bytes, names, organisation fields (all checked here).
 *
 * The ca does not decide whether a name may be issued (that is the ra's job
 * with the validation records); it enforces what every certificate must be.
 */
#ifndef CERTDESK_CA_CA_H
#define CERTDESK_CA_CA_H

#include "util/rc.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;
struct signer;
struct store_org;
struct store_group;

/* ---- policy calendar (DESIGN.md; CA/B Forum ballot SC-081) -------------- */

/* An ASN.1 UTCTime or GeneralizedTime (OpenSSL's ASN1_TIME) as time_t; 0
 * for NULL or one OpenSSL cannot read. */
struct asn1_string_st;
time_t ca_asn1_time(const struct asn1_string_st *t);

/* How long before the active issuing CA's last issuing day (see
 * ca_issuing_ends()) `serve` and the admin's page warn that it is time
 * for `certdesk ca roll`. */
#define CA_ROLL_WARN_DAYS 90

/* Maximum validity, in days, of a subscriber certificate issued at t. */
int ca_cal_max_validity_days(time_t t);
/* Validity certdesk uses: one day under the maximum. */
int ca_cal_validity_days(time_t t);
/* The last moment a certificate issued with ca_cal_validity_days() (and
 * backdated a minute, as ca_issue() does) still ends by not_after, its
 * issuing CA's end: under the calendar, not just today's validity. */
time_t ca_cal_last_issue(time_t not_after);
/* Domain validation data reuse period, in days, for issuance at t. */
int ca_cal_dv_reuse_days(time_t t);
/* Organisation validation data reuse period, in days, for issuance at t. */
int ca_cal_org_reuse_days(time_t t);
/* Parses "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" as UTC. */
int ca_parse_time(const char *s, time_t *out);

/*
 * Domain validation methods with dates (BR 3.2.2.4): email, fax, SMS or
 * postal mail to a constructed address (3.2.2.4.4) is SHOULD NOT from
 * 2026-03-15 and MUST NOT from 2028-03-15; the phone methods end
 * 2027-03-15. Kept as data, like the rows above.
 */
enum ca_cal_method {
	CA_CAL_EMAIL_CONSTRUCTED = 1,	/* BR 3.2.2.4.4 */
	CA_CAL_PHONE			/* BR 3.2.2.4.15, 3.2.2.4.16 */
};
#define CA_CAL_METHOD_OK 0		/* allowed */
#define CA_CAL_METHOD_DEPRECATED 1	/* allowed, but SHOULD NOT */
#define CA_CAL_METHOD_ENDED 2		/* MUST NOT */
/* The method's standing at t (CA_CAL_METHOD_*); *ends (may be NULL) gets
 * the date it ends (0: no end date). Unknown methods read as ended. */
int ca_cal_method_status(enum ca_cal_method m, time_t t, time_t *ends);

/* ---- key checks ---------------------------------------------------------- */

/*
 * Keys accepted in CSRs (BR 6.1.5, 6.1.6): RSA 2048..8192 bits, modulus a
 * multiple of 8, exponent 65537; ECDSA P-256, P-384 with a valid point.
 * Rejected: Debian weak keys (openssl-blacklist lists), ROCA-vulnerable
 * moduli, moduli Fermat-factorable within 100 rounds, and keys whose SPKI
 * SHA-256 is in the compromised-keys file.
 */
struct ca_keycheck;

/* weak_dir: directory with blacklist.RSA-<bits> files (may be NULL or
 * missing: then no Debian list is used and a warning is logged).
 * compromised: file of hex SHA-256 SPKI hashes, one a line, '#' comments
 * (may be NULL or missing). */
int ca_keycheck_open(const char *weak_dir, const char *compromised,
    struct ca_keycheck **out, struct rc_detail *d);
void ca_keycheck_free(struct ca_keycheck *kc);
/* Reads the compromised-key file given to ca_keycheck_open() again and
 * puts it in place of the list in use, while other threads go on checking
 * keys (each check sees the old list or the new one). A file that does
 * not parse: its error (RC_CONFIG, file and line in d) and the old list
 * stays; a missing file is an empty list, as at start. *n: the hashes
 * now listed. RC_NOTFOUND when no file was configured. */
int ca_keycheck_reload(struct ca_keycheck *kc, size_t *n,
    struct rc_detail *d);
/* Checks a SubjectPublicKeyInfo. 0, or RC_BADKEY / RC_WEAKKEY with d. */
int ca_keycheck_spki(const struct ca_keycheck *kc, const uint8_t *spki,
    size_t len, struct rc_detail *d);

/* ---- CSRs ---------------------------------------------------------------- */

#define CA_MAX_CSR (64 * 1024)
#define CA_MAX_NAMES 100

struct ca_csr {
	uint8_t *spki;		/* SubjectPublicKeyInfo DER */
	size_t spki_len;
	int key_bits;		/* RSA modulus bits, or 256/384 */
	int key_is_ec;
	char *names[CA_MAX_NAMES];	/* DNS names from SAN (then CN), lower
					 * case, deduplicated */
	size_t nnames;
	char *ips[CA_MAX_NAMES];	/* iPAddress SANs (CA_CSR_ALLOW_IP
					 * only) in canonical text: IPv4
					 * dotted quad, IPv6 as RFC 5952
					 * (inet_ntop), deduplicated */
	size_t nips;
	char *cn;		/* subject CN if present, else NULL */
	int must_staple;	/* its TLS Feature extension (RFC 7633)
				 * asks for status_request: OCSP
				 * Must-Staple */
};

/*
 * Parses a CSR (DER, or PEM when the input starts with "-----BEGIN"),
 * verifies its self-signature and checks its key with kc (kc may be NULL to
 * skip the weak-key lists, never in production). Errors: RC_BADCSR
 * (malformed, bad signature, bad names), RC_BADKEY, RC_WEAKKEY, RC_TOOBIG;
 * d says which and why. Returns a new object in *out: ca_csr_free().
 */
int ca_csr_parse(const uint8_t *in, size_t len, const struct ca_keycheck *kc,
    struct ca_csr **out, struct rc_detail *d);
/*
 * ca_csr_parse() with flags. CA_CSR_ALLOW_IP (RFC 8738 orders): iPAddress
 * SANs of 4 or 16 octets are returned in ips[] instead of refused; a
 * subject CN that is an address literal must then be one of them; a CSR
 * may name only addresses. CA_CSR_CN_NAME (ACME finalize: RFC 8555 7.4
 * lets an identifier be in the CN, the SAN or both, and Boulder adds the
 * CN to the names): a subject CN that is a DNS name and not among the
 * SAN's is one more name instead of refused. ca_csr_parse() is flags 0.
 */
#define CA_CSR_ALLOW_IP 0x1
#define CA_CSR_CN_NAME 0x2
int ca_csr_parse_flags(const uint8_t *in, size_t len,
    const struct ca_keycheck *kc, int flags, struct ca_csr **out,
    struct rc_detail *d);
void ca_csr_free(struct ca_csr *csr);
/* The DER of a CSR given as PEM (RFC 7468, strictly: nothing after the
 * END line, no bytes after the base64's) or DER (copied): *der to free(),
 * or RC_BADCSR with why in d. The structure is not looked at. */
int ca_csr_der(const uint8_t *in, size_t len, uint8_t **der,
    size_t *der_len, struct rc_detail *d);

/*
 * Whether name is a dNSName the CA issues for (the check every SAN name of
 * a certificate passes in lint): lower-case LDH labels, valid A-labels
 * (libidn2), at most 253 octets, no trailing dot, fully qualified, no
 * all-numeric top label, a wildcard only as the whole leftmost label and
 * not directly above a public suffix (libpsl). 0, or RC_BADNAME with the
 * reason in d. The ra applies it to every requested identifier.
 */
int ca_name_check(const char *name, struct rc_detail *d);

/*
 * Whether an IP address (4 or 16 octets, network order) is in the IANA
 * IPv4/IPv6 Special-Purpose Address Registries or otherwise not a public
 * unicast address (BR 4.2.2, 7.1.2.7.12: reserved addresses are never
 * certified under public trust): 0.0.0.0/8, 10/8, 100.64/10, 127/8,
 * 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24, 192.31.196/24,
 * 192.52.193/24, 192.88.99/24, 192.168/16, 192.175.48/24, 198.18/15,
 * 198.51.100/24, 203.0.113/24, 224/4 and above; ::/128, ::1,
 * ::ffff:0:0/96, 64:ff9b::/96, 64:ff9b:1::/48, 100::/64, 2001::/23,
 * 2001:db8::/32, 2002::/16, 2620:4f:8000::/48, 3fff::/20, 5f00::/16,
 * fc00::/7, fe80::/10, ff00::/8, and everything outside 2000::/3.
 * 1 reserved, 0 not, -1 for a bad length.
 */
int ca_ip_reserved(const uint8_t *ip, size_t len);
/* The IP literal s (canonical text or not) as ca_ip_reserved(); -1 when
 * s is not an address. */
int ca_ip_text_reserved(const char *s);

/* ---- the CA -------------------------------------------------------------- */

/*
 * CA_PROFILE_SERVICE is the certificate of certdesk's own HTTPS service
 * (ACME, portal), issued by `init` and `serve` for the key the daemon made:
 * its names may be DNS names, "localhost" and IP addresses (iPAddress in
 * the SAN), EKU serverAuth, CA_SERVICE_VALIDITY_DAYS at most, no CA/B Forum
 * policy OID (it is not a subscriber certificate of the public hierarchy's
 * rules) and its own lint path. ca_profile_parse() does not accept it.
 */
enum ca_profile { CA_PROFILE_DV = 1, CA_PROFILE_OV = 2, CA_PROFILE_EV = 3,
	CA_PROFILE_SERVICE = 4 };
#define CA_SERVICE_VALIDITY_DAYS 90

/* "dv" -> CA_PROFILE_DV ... (dv, ov, ev only); -1 when unknown. */
int ca_profile_parse(const char *name);
/* "dv", "ov", "ev", "service"; NULL when unknown. */
const char *ca_profile_name(int profile);

/* ---- Certificate Transparency (ct.c; RFC 6962) -------------------------- */

/*
 * The CT logs certificates are logged to, from a log list in the format of
 * Chrome's log_list.json v3 (operators[] with logs[] and tiled_logs[]:
 * description, log_id, key, url or submission_url, state,
 * temporal_interval). Logs in state usable or qualified are kept; every
 * one is checked (log_id the SHA-256 of its key, key P-256 or RSA >= 2048,
 * http(s) URL). RC_CONFIG with the reason in d, also when fewer than 2
 * operators have a usable log (browsers want SCTs of 2 operators).
 * timeout_s bounds each submission (<= 0: 10 s).
 */
struct ca_ct;
int ca_ct_load(const char *path, int timeout_s, struct ca_ct **out,
    struct rc_detail *d);
int ca_ct_parse(const char *json, size_t len, int timeout_s,
    struct ca_ct **out, struct rc_detail *d);
void ca_ct_free(struct ca_ct *ct);
/* Reads the log list at path again (as ca_ct_load, with ct's timeout) and
 * puts it in place of ct's: issuances under way finish with the list they
 * started with, the next ones use the new one. On failure (RC_CONFIG with
 * why in d) ct keeps its list. Safe while other threads issue with ct. */
int ca_ct_reload(struct ca_ct *ct, const char *path, struct rc_detail *d);
struct ca_ct_info {
	size_t nlogs, noperators;
	/* the list's log_list_timestamp, 0 when it has none. Logs are
	 * retired and new ones open every year: a list should be fetched
	 * anew regularly. */
	time_t list_time;
};
/* The current list's figures, read together (all 0 for NULL). */
void ca_ct_info(const struct ca_ct *ct, struct ca_ct_info *out);
size_t ca_ct_nlogs(const struct ca_ct *ct);
size_t ca_ct_noperators(const struct ca_ct *ct);
time_t ca_ct_list_time(const struct ca_ct *ct);
#define CA_CT_LIST_STALE_DAYS 30
/* How many SCTs a certificate (DER) carries in its SCT list extension,
 * as OpenSSL reads them; 0 for none or an unreadable certificate. */
int ca_cert_scts(const uint8_t *der, size_t len);
/* The same, and the logs of its SCTs appended to out (unless NULL),
 * comma-separated: each log's description in ct's list (ct may be NULL),
 * else "log " and the head of its id in hex (a log retired from the list
 * since). */
struct buf;
int ca_cert_sct_logs(const uint8_t *der, size_t len, const struct ca_ct *ct,
    struct buf *out);
/* SCTs a certificate of this validity needs under Chrome's and Apple's
 * CT policies: 2 for a lifetime of at most 180 days, else 3. */
int ca_ct_scts_needed(time_t not_before, time_t not_after);

/*
 * Which issuing CA the ca handles of one process issue from, shared by
 * them through ca_conf.current. Without one, a handle issues for its whole
 * life from the issuing CA that was active in the store when ca_open()
 * ran. With one, ca_open() opens the issuing CA it names (the store's
 * active one, for the first handle opened with it), and ca_follow() moves
 * it, and with it every handle sharing it, to the store's active issuing
 * CA after a `ca roll` by another process: `serve` issues from the new CA
 * without a restart.
 */
struct ca_current;
/* A new one naming no CA yet: free with ca_current_free(). */
int ca_current_new(struct ca_current **out);
void ca_current_free(struct ca_current *cur);	/* NULL is fine */
/* What the handles sharing cur issue from now, read together (any
 * thread): the issuer's id (0 before the first ca_open()), its name, its
 * certificate's notAfter and the last moment it can issue a certificate
 * that ends before it does (ca_cal_last_issue()). */
struct ca_current_info {
	int64_t id;
	char name[64];
	time_t not_after, last_issue;
};
void ca_current_get(struct ca_current *cur, struct ca_current_info *out);

struct ca_conf {
	const char *base_url;	/* CRL DP / AIA base, e.g. http://ca.example */
	int ocsp;		/* 1: AIA names the OCSP responder */
	int crl_validity_days;
	const char *crl_dir;	/* where CRL files are published (DER) */
	const char *hierarchy;	/* "ecdsa" or "rsa" (init only) */
	const char *root_cn, *issuing_cn, *organization, *country;
	time_t now;		/* 0: real clock; tests may pin it */
	/* NULL: no CT. Else subscriber certificates (not the service's)
	 * are issued as a precertificate, logged, and issued with the SCTs
	 * embedded (borrowed; outlives every ca opened with it) */
	const struct ca_ct *ct;
	/* NULL: the issuing CA active at ca_open(), for the handle's life.
	 * Else the one shared with the process's other handles (above;
	 * borrowed, outlives every ca opened with it) */
	struct ca_current *current;
};

struct ca;

/* Opens the CA over an open store and signer (both borrowed, must outlive
 * the ca). Loads the active issuer (or the one conf->current names).
 * RC_NOTFOUND when init has not run. */
int ca_open(const struct ca_conf *conf, struct store *st, struct signer *sg,
    struct ca_keycheck *kc, struct ca **out);
void ca_free(struct ca *ca);
/* Records issuances, revocations and CRL numbers through a group committer
 * (shared by many ca handles in many threads, on a durable connection)
 * instead of one transaction each on the ca's own store, which then need
 * not be durable itself; borrowed, must outlive the ca. NULL: back to
 * store_tx on the ca's own store. */
void ca_set_group(struct ca *ca, struct store_group *g);

/*
 * Creates the hierarchy: root key (P-384, or RSA 4096) and root certificate
 * (15 years), issuing CA key (P-256, or RSA 2048) and certificate (5 years,
 * pathlen 0, EKU serverAuth), stores both issuers and audits each key
 * generation and certificate. RC_EXISTS when a root exists already.
 */
int ca_init_hierarchy(const struct ca_conf *conf, struct store *st,
    struct signer *sg, struct rc_detail *d);

/*
 * An issuing CA rollover: a new issuing key ("issuing-<N>", N one more than
 * any issuing CA so far; where the signer makes new keys, so on the HSM
 * with signer.keystore = pkcs11), a certificate for it signed by the root
 * as init makes one (5 years, pathlen 0, EKU serverAuth), subject CN cn
 * (NULL: conf->issuing_cn with its trailing number, or " <N>", for the new
 * one), stored as the active issuing CA and audited. Certificates issued
 * by handles opened from then on come from it; the earlier issuing CAs
 * keep their CRLs and OCSP responses. Audited as actor. Its name in *name
 * (free()), its issuer id in *id. RC_EXISTS when an issuer with that
 * subject exists; RC_EXISTS with the key's name in *name (free()) when
 * the signer has a key "issuing-<N>" already: one the store does not
 * know (a roll that stopped, or a store restored from before it) is
 * never reused, nothing is made. RC_CONFIG for a bad cn.
 */
int ca_new_issuing(const struct ca_conf *conf, struct store *st,
    struct signer *sg, const char *cn, const char *actor, char **name,
    int64_t *id, struct rc_detail *d);

/*
 * After a `ca roll` by another process: when the store's active issuing CA
 * is not the one ca issues from, asks the signer to load its key
 * (signer_load_key(): from the key directory or the token as at the
 * signer's start, and only with a certificate signed by the root it
 * holds), checks that it is the key of the stored certificate, and makes
 * that CA the one ca issues from, and with ca every handle sharing its
 * conf->current: each takes it up at the start of its next ca_issue(), so
 * an issuance under way ends with the CA it began with (its certificate,
 * the OCSP response signed with it, the chain stored for it). The earlier
 * issuing CAs stay in the signer for their CRLs and OCSP responses.
 * Returns 1 when it switched, 0 when there was nothing to do, or an RC_*
 * with why in d: then nothing changed (RC_SIGNER: the signer refused the
 * key, or its key is not the certificate's; RC_DB: the store).
 */
int ca_follow(struct ca *ca, struct rc_detail *d);

struct ca_issue_req {
	int profile;			/* CA_PROFILE_* */
	const struct ca_csr *csr;	/* key and, by default, the names */
	const char *const *names;	/* NULL: the CSR's names; else exactly
					 * these (each must be in the CSR) */
	size_t nnames;
	/* DV only (RFC 8738 orders): IP addresses in canonical text, each
	 * among the CSR's ips[], certified as SAN iPAddress after the
	 * names; refused for other profiles */
	const char *const *ips;
	size_t nips;
	int trust_private;		/* policy.trust = private: reserved
					 * addresses may be certified */
	const struct store_org *org;	/* OV/EV: validated organisation */
	int64_t order_id, contract_id;	/* 0 when none */
	const char *actor;		/* for the audit log */
	/* NULL, or run in the transaction that stores the certificate,
	 * after it (serial: its hex): the caller's own record of the
	 * issuance commits with it, in the same fsync. Nonzero undoes the
	 * issuance (the signed certificate is then never handed out). */
	int (*then)(struct store *st, const char *serial, void *arg);
	void *then_arg;
	/* 1: ca_issue returns once the certificate is committed, before it
	 * is on disk (store_tx_deferred); the caller hands it out only
	 * after store_durable_barrier() */
	int defer_sync;
	/* > 0: the certificate is valid for at most this many seconds
	 * (a short-lived ACME profile); never longer than the calendar
	 * allows */
	long validity_s;
};

struct ca_cert {
	char serial[41];
	uint8_t *der;
	size_t der_len;
	time_t not_before, not_after;
};

/*
 * Issues one certificate: serial from 16 CSPRNG bytes (positive, 127 bits),
 * validity ca_cal_validity_days() from now (backdated one minute), subject
 * per profile (DV: CN only; OV/EV: organisation fields only from org, which
 * must be validated and within the reuse period), extensions per profile,
 * lint, sign through the signer, store certificate and audit entry in one
 * transaction. Errors: RC_POLICY / RC_LINT / RC_SIGNER / RC_DB with d.
 * Returns a new certificate in *out: ca_cert_free().
 */
int ca_issue(struct ca *ca, const struct ca_issue_req *req,
    struct ca_cert **out, struct rc_detail *d);
void ca_cert_free(struct ca_cert *c);

/*
 * Lints a to-be-signed certificate (DER TBSCertificate) as issued by the
 * issuer whose certificate is issuer_der, against the profile and the
 * Baseline Requirements at time now. 0, or RC_LINT with the first failing
 * check in d. Used by ca_issue() on every certificate; exported for tests.
 */
int ca_lint_tbs(const uint8_t *tbs, size_t len, int profile,
    const uint8_t *issuer_der, size_t issuer_len, time_t now,
    struct rc_detail *d);

/*
 * The active issuing CA: its name (borrowed), when it expires, and the
 * last moment a certificate issued then still fits in its lifetime
 * (ca_cal_last_issue(): issuance fails after it, time to `ca roll`); and
 * the CA's now.
 */
void ca_issuing_ends(struct ca *ca, const char **name, time_t *not_after,
    time_t *last_issue, time_t *now);

/* PEM of the issuing chain for the active issuer (issuing CA cert, without
 * the root), newly allocated (free()). */
int ca_chain_pem(struct ca *ca, char **pem);
/* PEM of the root certificate, newly allocated (free()). */
int ca_root_pem(struct ca *ca, char **pem);

/* ---- revocation and CRLs -------------------------------------------------- */

/* RFC 5280 5.3.1 reason names: unspecified, keyCompromise, cACompromise,
 * affiliationChanged, superseded, cessationOfOperation, certificateHold
 * (refused: BR 7.2.2), removeFromCRL (refused), privilegeWithdrawn,
 * aACompromise. Returns the code or -1. */
int ca_reason_parse(const char *name);
const char *ca_reason_name(int code);

struct ca_block_hook;		/* below */
/* Revokes the certificate with this serial (hex, any case, optional
 * leading zeros and colons; stored in the canonical form: lowercase hex of
 * the DER INTEGER contents octets), audits it, re-signs its OCSP response
 * (while OCSP is on) and regenerates the CRL partition that lists it (its
 * shard, or its issuer's CRL). RC_NOTFOUND, RC_EXISTS (already revoked),
 * RC_INVAL (reason not allowed).
 *
 * keyCompromise (a subscriber certificate): in the same durable
 * transaction the key is recorded as compromised (blocked_keys, with this
 * serial as its reporting serial), the ACME account that has the key is
 * revoked and every other live certificate of the key is revoked for
 * keyCompromise (BR 4.9.1.1 (3); audited "cert.revoke" by
 * "ca:key-compromise" with the key's spki_sha256 and same_key_as, this
 * serial), and hook, when not NULL, runs last in it (struct
 * ca_block_hook; requested is this serial, v[0]); their OCSP responses
 * and CRLs follow the commit. Other reasons ignore hook. */
int ca_revoke(struct ca *ca, const char *serial_hex, int reason,
    const char *actor, const struct ca_block_hook *hook,
    struct rc_detail *d);
/* Mass revocation (an incident: BR 4.9.1.1 gives 24 hours or 5 days):
 * each serial revoked as by ca_revoke() (its own durable transaction,
 * audit entry and OCSP response; for keyCompromise its key blocked, its
 * other certificates revoked and hook run), but each CRL partition
 * touched is published once, at the end. results[i]: what ca_revoke()
 * would return for serials[i] (0, RC_EXISTS, RC_NOTFOUND, RC_INVAL, ...).
 * Returns how many were revoked; *crls_published: CRLs made; a CRL that
 * could not be published is logged, with the first one's reason in d (the
 * CRL schedule retries). */
size_t ca_revoke_many(struct ca *ca, const char *const *serials, size_t n,
    int reason, const char *actor, const struct ca_block_hook *hook,
    int *results, size_t *crls_published, struct rc_detail *d);

/*
 * Key compromise reported with proof of possession (BR 4.9.1.1 (3), 4.9.12):
 * ca_key_proof() reads a PKCS#10 request (PEM or DER) signed by the key,
 * whose subject CN is exactly want_cn (NULL: any), and returns the key's
 * SubjectPublicKeyInfo in *spki (free()); RC_BADCSR with why in d.
 * ca_block_key() records the key as compromised (blocked_keys, with
 * CA_KEY_REPORTED as its reporting serial; audited "key.compromised" as
 * actor with evidence) and revokes every live certificate of it for
 * keyCompromise (*revoked: how many), all in one durable transaction
 * (audited "cert.revoke" by "ca:key-compromise", each with the key's
 * spki_sha256), so that a key is never blocked with some of its
 * certificates left live; then it re-signs their OCSP responses and
 * publishes the CRLs that list them (failures there are logged and
 * caught up by the OCSP worker and the CRL schedule). hook, when not
 * NULL, runs in that transaction after the revocations (see struct
 * ca_block_hook).
 */
#define CA_KEY_REPORTED "report"
/* A certificate revoked for key compromise (canonical serial). */
struct ca_revoked {
	char serial[41];
	int64_t issuer_id;
};
/* The certificates of a key revoked in one transaction, as the hook sees
 * them (all borrowed for the call). */
struct ca_key_revoked {
	char spki_sha256[65];		/* the key: SHA-256 of its
					 * SubjectPublicKeyInfo, hex */
	const char *requested;		/* ca_revoke(): the serial the
					 * revocation was asked for, v[0];
					 * ca_block_key(): NULL */
	const struct ca_revoked *v;	/* every certificate revoked */
	size_t n;			/* may be 0 */
	time_t when;			/* of the revocations */
};
/*
 * What the caller of a key's revocation (ca_block_key(),
 * ca_block_key_hash(), ca_revoke() and ca_revoke_many() for
 * keyCompromise) adds to its transaction (the mail the revocations call
 * for: BR 4.9.5, and the subscribers of the key's other certificates):
 * fn(st, r, arg) with st the transaction's handle and r what was revoked.
 * What fn writes through st commits with the block and the revocations;
 * an error from fn rolls all of them back and is the caller's result. The
 * transaction may be retried after a conflict, so fn may run more than
 * once: it must have no effect outside the store, and set (not add to)
 * whatever it reports through arg.
 */
struct ca_block_hook {
	int (*fn)(struct store *st, const struct ca_key_revoked *r,
	    void *arg);
	void *arg;
};
int ca_key_proof(const uint8_t *in, size_t len, const char *want_cn,
    uint8_t **spki, size_t *spki_len, struct rc_detail *d);
int ca_block_key(struct ca *ca, const uint8_t *spki, size_t spki_len,
    const char *actor, const char *evidence,
    const struct ca_block_hook *hook, size_t *revoked, struct rc_detail *d);
/* The same for a key known by the SHA-256 of its SubjectPublicKeyInfo
 * alone: one on a list of compromised keys (BR 4.9.1.1 (3), (4)), which
 * the operator judged. */
int ca_block_key_hash(struct ca *ca, const uint8_t hash[32],
    const char *actor, const char *evidence,
    const struct ca_block_hook *hook, size_t *revoked, struct rc_detail *d);
/* Whether the key with this SubjectPublicKeyInfo is known compromised
 * (blocked_keys): 1 with why, for people, in why ("certificate X was
 * revoked for keyCompromise", or that it was reported compromised), 0
 * when not, or a negative RC_* when the store could not tell. */
#define CA_KEY_WHY_MAX 128
int ca_key_blocked(struct store *st, const uint8_t *spki, size_t len,
    char why[CA_KEY_WHY_MAX]);

/* Builds, signs (through the signer), stores and publishes
 * (crl_dir/<issuer>.crl, atomically) the issuer's own CRL, with the next
 * CRL number, thisUpdate now, nextUpdate now + crl_validity_days. Audited.
 * For a root it is complete (the CA certificates it issued); for an issuing
 * CA it is the partition of its certificates that have no CRL shard (issued
 * before sharding), with an IDP naming it (see crl.c). */
int ca_crl_publish(struct ca *ca, int64_t issuer_id, struct rc_detail *d);
/* Publishes every issuer's CRL, and every CRL shard, whose newest one is
 * older than max_age seconds (or missing). For the serve loop's schedule. */
int ca_crl_refresh(struct ca *ca, time_t max_age, struct rc_detail *d);

/* ---- revocation status at scale: CRL shards and OCSP (ocsp.c) ------------ */

/*
 * Settings of the status services, process-wide (every ca handle of the
 * process uses them; set once at start-up, before issuing). Zero fields
 * keep the defaults: crl_shard_size 100000 certificates per CRL shard,
 * ocsp_validity_hours 96 (nextUpdate - thisUpdate of every OCSP response).
 */
struct ca_status_conf {
	int crl_shard_size;
	int ocsp_validity_hours;
};
void ca_status_configure(const struct ca_status_conf *c);

/* RFC 6960 4.2.1 OCSPResponseStatus */
enum ca_ocsp_status {
	CA_OCSP_SUCCESSFUL = 0,
	CA_OCSP_MALFORMED = 1,
	CA_OCSP_INTERNAL = 2,
	CA_OCSP_TRYLATER = 3,
	CA_OCSP_UNAUTHORIZED = 6,
};

#define CA_OCSP_MAX_REQUEST (16 * 1024)

/* The one CertID of an OCSP request (RFC 6960 4.1.1), pointers into the
 * request bytes (borrowed). */
struct ca_ocsp_req {
	int sha1;			/* hashAlgorithm is SHA-1 */
	const uint8_t *name_hash, *key_hash;
	size_t name_hash_len, key_hash_len;
	const uint8_t *serial;		/* INTEGER contents octets */
	size_t serial_len;
	char serial_hex[41];		/* canonical form (ca_revoke's), ""
					 * when negative or over 20 octets */
};

/*
 * Parses an OCSPRequest (DER, at most CA_OCSP_MAX_REQUEST bytes): exactly
 * one Request (RFC 5019 2.1.1; a list of several is refused, see ocsp.c),
 * any requestExtensions (the nonce among them) ignored, an optional
 * signature ignored. 0, or RC_INVAL for anything malformed (then answer
 * CA_OCSP_MALFORMED). Never reads past der + len.
 */
int ca_ocsp_req_parse(const uint8_t *der, size_t len, struct ca_ocsp_req *out);

/* The unsigned OCSPResponse of an error status (static, borrowed). */
const uint8_t *ca_ocsp_error_der(int status, size_t *len);

/* RFC 6960 4.1.1 CertID hashes of an issuer certificate (DER): SHA-1 of
 * its subject Name and of its public key bits. 0 or RC_INVAL. */
int ca_ocsp_issuer_hashes(const uint8_t *cert, size_t len,
    uint8_t name_hash[20], uint8_t key_hash[20]);

/*
 * (Re-)signs and stores the OCSP response of one stored certificate with
 * its current status (good, or revoked with time and reason), thisUpdate
 * now, nextUpdate now + ocsp_validity_hours; signed by its issuer's key
 * through the signer (responderID byKey). RC_NOTFOUND for an unknown serial.
 */
int ca_ocsp_resign(struct ca *ca, const char *serial_hex, struct rc_detail *d);

/*
 * The OCSP worker's step: re-signs up to max responses whose thisUpdate is
 * older than refresh_s seconds (and, with backfill, first up to max
 * unexpired certificates that have none). *done: how many were signed.
 */
int ca_ocsp_refresh(struct ca *ca, time_t refresh_s, int backfill, size_t max,
    size_t *done, struct rc_detail *d);

/*
 * A signed "unknown" response (RFC 6960 2.2) for a serial of an issuing CA
 * (the active one or an earlier one) that the store does not know, made
 * now by that CA (the one answer that is signed on request; callers bound
 * how often). issuer_id: that CA, as the caller found it by the request's
 * CertID hashes, which must be its (0: found here, ca_ocsp_issuer_of()).
 * *der new (free()), valid until *next_update.
 */
int ca_ocsp_sign_unknown(struct ca *ca, int64_t issuer_id,
    const struct ca_ocsp_req *req, uint8_t **der, size_t *len,
    time_t *this_update, time_t *next_update, struct rc_detail *d);

/*
 * Revocations made by this process, for the responder's cache: every
 * ca_revoke() (any ca handle) records the serial and bumps an epoch.
 * ca_revoked_since(epoch, serial): 0 when serial was not revoked by this
 * process since epoch, 1 when it was or when that cannot be told any more
 * (more revocations since than are remembered): then re-read it.
 */
uint64_t ca_revocation_epoch(void);
int ca_revoked_since(uint64_t epoch, const char *serial);

/* The id of the issuer whose CertID hashes these are and that answers
 * OCSP (issuing CAs, the active one and earlier ones; not the root), or
 * 0. */
int64_t ca_ocsp_issuer_of(struct ca *ca, const uint8_t *name_hash,
    const uint8_t *key_hash);

/*
 * CRL shards (BR 7.2; RFC 5280 5.2.5): every subscriber certificate gets a
 * shard at issuance, crl_shard_size per shard by issuance order, named in
 * its CRL DP as <base>/crl/<issuer>-<shard>.crl. ca_crl_publish_shard()
 * builds, signs and writes one shard (complete for its certificates, with
 * its own CRL number and a critical Issuing Distribution Point naming its
 * URL, onlyContainsUserCerts), stores it, and rewrites the CCADB JSON list
 * crl_dir/<issuer>.json of every shard URL. ca_crl_refresh() publishes
 * every shard older than max_age too.
 */
int ca_crl_publish_shard(struct ca *ca, int64_t issuer_id, int64_t shard,
    struct rc_detail *d);

#endif
