/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the files of the ca component (not part of the
 * contract in ca.h): a small DER writer, the cached issuer with its
 * pre-encoded parts, the TBSCertificate builder, the issuer/SPKI walkers of
 * the linter and the DNS name check.
 *
 * Why a DER writer of our own: with OpenSSL 3.0, building a certificate
 * through X509 objects decodes and re-encodes every part (names, keys,
 * extensions) and costs far more than the signature itself. Certificates
 * here are built by appending tag, length and contents to a buffer, with
 * every part that does not change between certificates (issuer Name,
 * signature AlgorithmIdentifier, AKI, CRL DP, AIA, policies, EKU, ...)
 * encoded once when the CA is opened. The linter then re-walks the bytes
 * independently with the strict reader in util/der.h.
 *
 * Everything here runs in the main certdesk process; nothing holds a key.
 */
#ifndef CERTDESK_CA_CA_INT_H
#define CERTDESK_CA_CA_INT_H

#include "ca/ca.h"
#include "util/buf.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---- DER writer ---------------------------------------------------------- */

/*
 * Appends DER to a bounded buffer. Errors are sticky: after the first
 * failure (RC_TOOBIG past max) every call does nothing and w->rc keeps the
 * code, so a builder checks once at the end.
 */
struct ca_dw {
	struct buf b;
	int rc;
};

void ca_dw_init(struct ca_dw *w, size_t max);
void ca_dw_free(struct ca_dw *w);	/* releases the memory */
void ca_dw_reset(struct ca_dw *w);	/* empties, keeps the memory */
/* Appends bytes as they are (pre-encoded TLVs). */
void ca_dw_raw(struct ca_dw *w, const void *p, size_t n);
/* Appends tag, minimal length and contents. */
void ca_dw_tlv(struct ca_dw *w, uint8_t tag, const void *p, size_t n);
/* Starts a constructed element; returns a mark for ca_dw_close(), which
 * writes the length of everything appended since and compacts the header. */
size_t ca_dw_open(struct ca_dw *w, uint8_t tag);
void ca_dw_close(struct ca_dw *w, size_t mark);
/* INTEGER from an unsigned big-endian magnitude (leading zero bytes
 * dropped, one 00 added when the top bit is set). */
void ca_dw_uint(struct ca_dw *w, const uint8_t *be, size_t n);
void ca_dw_int64(struct ca_dw *w, int64_t v);	/* v >= 0 */
/* RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, both
 * in Zulu with seconds. */
void ca_dw_time(struct ca_dw *w, time_t t);

/* ---- object identifiers (contents octets) -------------------------------- */

#define CA_OID(name) name, sizeof(name)
extern const uint8_t ca_oid_cn[3], ca_oid_c[3], ca_oid_l[3], ca_oid_st[3],
    ca_oid_o[3], ca_oid_serial[3], ca_oid_business[3], ca_oid_jur_l[11],
    ca_oid_jur_st[11], ca_oid_jur_c[11];
extern const uint8_t ca_oid_server_auth[8], ca_oid_client_auth[8];
extern const uint8_t ca_oid_policy_dv[6], ca_oid_policy_ov[6],
    ca_oid_policy_ev[5];
/* tlsFeature (RFC 7633) and the one extnValue certdesk issues with it,
 * Features { status_request (5) }: OCSP Must-Staple */
extern const uint8_t ca_oid_tls_feature[8], ca_tls_feature_status_request[5];

/* ---- issuers ------------------------------------------------------------- */

/* What the builder and the linter need to know about an issuer, found by
 * walking its certificate. Pointers are borrowed from that certificate. */
struct ca_issuer_info {
	const uint8_t *subject;		/* the Name TLV */
	size_t subject_len;
	const uint8_t *spki;		/* SubjectPublicKeyInfo TLV */
	size_t spki_len;
	uint8_t ski[64];		/* its subjectKeyIdentifier (or the
					 * RFC 5280 method 1 hash) */
	size_t ski_len;
	int keytype;			/* SIGNER_KEY_* of its key */
	time_t not_before, not_after;
	const char *name;		/* its issuer name ("issuing-1") when
					 * loaded by ca_iss_load, else NULL:
					 * the linter then checks the CRL
					 * shard URI of its certificates
					 * exactly */
};

/* The SubjectPublicKeyInfo TLV of a certificate (DER), borrowed, found
 * with the strict DER reader (any key type). 0 or RC_INVAL. */
int ca_cert_spki(const uint8_t *cert, size_t len, const uint8_t **spki,
    size_t *spki_len);
/* Walks a certificate (DER). 0, or RC_INVAL when it is not one we can use
 * as an issuer (malformed, unsupported key). */
int ca_issuer_info_parse(const uint8_t *cert, size_t len,
    struct ca_issuer_info *out);

/* Extension numbers for the builder's test knob (struct ca_tbs.omit). */
enum {
	CA_EXT_KU = 1u << 0,
	CA_EXT_EKU = 1u << 1,
	CA_EXT_BC = 1u << 2,
	CA_EXT_SKI = 1u << 3,
	CA_EXT_AKI = 1u << 4,
	CA_EXT_AIA = 1u << 5,
	CA_EXT_CRLDP = 1u << 6,
	CA_EXT_CP = 1u << 7,
	CA_EXT_SAN = 1u << 8,
};

/*
 * A loaded issuer with everything that is the same in each certificate it
 * issues, encoded once (ca_iss_load). Read-only afterwards, so any number of
 * threads may build with it.
 */
struct ca_iss {
	int64_t id;
	char *name;			/* "issuing-1": key id, file name */
	int is_root;
	uint8_t *cert;			/* its certificate (DER), owned */
	size_t cert_len;
	struct ca_issuer_info info;	/* points into cert */
	const uint8_t *sigalg;		/* AlgorithmIdentifier TLV */
	size_t sigalg_len;
	/* pre-encoded Extension TLVs for the certificates it issues */
	struct buf aki, crldp, aia, eku, bc, ku_ec, ku_rsa, cp[4];
	char *base_url;			/* per-certificate CRL DP */
	/* RFC 6960 CertID hashes of this issuer (SHA-1 of its subject Name
	 * and of its key bits): its OCSP responderID byKey and the CertID
	 * of every response it signs */
	uint8_t name_hash[20], key_hash[20];
};

/* Loads cert into iss: walks it, copies it, pre-encodes the extensions for
 * base_url (CRL DP <base>/crl/<name>.crl, AIA caIssuers <base>/ca/<name>.der
 * and, when ocsp, <base>/ocsp). sigalg (borrowed, static) is the
 * AlgorithmIdentifier the signer uses for the issuer's key. 0 or RC_INVAL.
 * Release with ca_iss_clear(). */
int ca_iss_load(struct ca_iss *iss, int64_t id, const char *name, int is_root,
    const uint8_t *cert, size_t len, const uint8_t *sigalg, size_t sigalg_len,
    const char *base_url, int ocsp);
void ca_iss_clear(struct ca_iss *iss);

/* ---- building ------------------------------------------------------------ */

/*
 * Inputs of a subscriber TBSCertificate, all checked by the caller
 * (ca_issue); the builder only encodes. The knobs at the end exist for the
 * linter's negative tests and are always zero in production.
 */
struct ca_tbs {
	int profile;			/* CA_PROFILE_* */
	const uint8_t *serial;		/* INTEGER contents octets */
	size_t serial_len;
	time_t not_before, not_after;
	const char *const *names;	/* SAN dNSNames */
	size_t nnames;
	const char *const *ips;		/* SAN iPAddresses after the
					 * names (ca_ip_parse() text; DV
					 * only) */
	size_t nips;
	const char *cn;			/* subject CN, NULL for none */
	const struct store_org *org;	/* OV/EV subject fields */
	const uint8_t *spki;		/* SubjectPublicKeyInfo TLV */
	size_t spki_len;
	int key_is_ec;
	int64_t crl_shard;		/* >= 0: CRL DP <base>/crl/<issuer>-
					 * <crl_shard>.crl; < 0: the
					 * issuer's full CRL (pre-encoded) */
	int must_staple;		/* TLS Feature status_request
					 * (RFC 7633) */
	/* CT (RFC 6962): the poison of a precertificate or the SCT list,
	 * one Extension TLV after the others, NULL for none */
	const uint8_t *ct_ext;
	size_t ct_ext_len;
	/* test knobs */
	unsigned omit;			/* CA_EXT_* not to emit */
	const uint8_t *extra_ext;	/* Extension TLVs, appended as is */
	size_t extra_ext_len;
	const uint8_t *subject_raw;	/* replaces the built subject */
	size_t subject_raw_len;
};

/* Extension TLVs (tbs.c), shared by subscriber and CA certificates.
 * KU bits are the first octet of the named bit list (0x80 digitalSignature,
 * 0x20 keyEncipherment, 0x04 keyCertSign, 0x02 cRLSign). bc: ca < 0 for
 * cA FALSE, else cA TRUE with pathLenConstraint ca (none when > 100). */
void ca_ext_ku(struct ca_dw *w, uint8_t bits);
void ca_ext_bc(struct ca_dw *w, int ca);
void ca_ext_keyid(struct ca_dw *w, int authority, const uint8_t *id,
    size_t n);
void ca_ext_eku_server(struct ca_dw *w);
void ca_ext_policies(struct ca_dw *w, const uint8_t *const *oids,
    const size_t *lens, size_t n);
/* cRLDistributionPoints <base>/crl/<name>.crl */
void ca_ext_crldp(struct ca_dw *w, const char *base, const char *name);
/* cRLDistributionPoints <base>/crl/<name>-<shard>.crl (a CRL shard) */
void ca_ext_crldp_shard(struct ca_dw *w, const char *base, const char *name,
    int64_t shard);
/* The URI of a CRL shard, newly allocated. */
char *ca_crl_shard_url(const char *base, const char *name, int64_t shard);
/* authorityInfoAccess: OCSP <base>/ocsp (when ocsp), caIssuers
 * <base>/ca/<name>.der */
void ca_ext_aia(struct ca_dw *w, const char *base, const char *name,
    int ocsp);

/* Appends the subject Name for profile: CN only (DV), or C, ST, L, O
 * (+ businessCategory, jurisdiction*, serialNumber for EV) and CN. */
void ca_subject_build(struct ca_dw *w, int profile, const char *cn,
    const struct store_org *org);
/* Appends the TBSCertificate. Check w->rc afterwards. */
void ca_tbs_build(struct ca_dw *w, const struct ca_iss *iss,
    const struct ca_tbs *t);
/* Appends a Certificate (or CertificateList): SEQUENCE { tbs, sigalg,
 * BIT STRING sig }. */
void ca_signed_build(struct ca_dw *w, const uint8_t *tbs, size_t tbs_len,
    const uint8_t *sigalg, size_t sigalg_len, const uint8_t *sig,
    size_t sig_len);
/* SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 4.2.1.2
 * method 1) into out[20]. RC_INVAL for a malformed SPKI. */
int ca_spki_keyid(const uint8_t *spki, size_t len, uint8_t out[20]);

/* ---- linting ------------------------------------------------------------- */

/* ca_lint_tbs() with a walked issuer (what ca_issue uses). */
int ca_lint_tbs_iss(const uint8_t *tbs, size_t len, int profile,
    const struct ca_issuer_info *iss, time_t now, struct rc_detail *d);
/*
 * ca_lint_tbs_iss() that also accepts SAN iPAddress entries in a DV
 * certificate: each must be one of ips[] (address text, the order's) and,
 * unless trust_private, not reserved (ca_ip_reserved). A commonName may
 * then also be the canonical text of one of the SAN addresses.
 */
int ca_lint_tbs_ips(const uint8_t *tbs, size_t len, int profile,
    const struct ca_issuer_info *iss, time_t now, const char *const *ips,
    size_t nips, int trust_private, struct rc_detail *d);

/* The lint for CA certificates made at init (BR 7.1.2.1 root, 7.1.2.2
 * subordinate): is_root selects the profile; iss is the root (for the root
 * itself: its own info). 0 or RC_LINT. */
int ca_lint_ca_tbs(const uint8_t *tbs, size_t len, int is_root,
    const struct ca_issuer_info *iss, time_t now, struct rc_detail *d);

/*
 * Walks a SubjectPublicKeyInfo: RSA 2048..8192 bits (multiple of 8,
 * e = 65537, NULL parameters) or EC P-256/P-384 (uncompressed point). Sets
 * *is_ec, *bits. 0, or RC_BADKEY with the lint check name in d.
 */
int ca_spki_walk(const uint8_t *spki, size_t len, int *is_ec, int *bits,
    struct rc_detail *d);
/* SIGNER_KEY_* for a walked key, 0 when the signer has no such type. */
int ca_keytype_of(int is_ec, int bits);
/* The AlgorithmIdentifier TLV the linter expects for a key type
 * (independent of the signer's table); NULL when unknown. */
const uint8_t *ca_sigalg_expected(int keytype, size_t *len);

/*
 * A dNSName as certdesk issues it (BR 7.1.4.2, RFC 5280 4.2.1.6 preferred
 * name syntax): LDH labels of 1..63 octets, total <= 253, lower case, no
 * trailing dot, at least two labels, no all-numeric top label, no reserved
 * labels with "--" in positions 3-4 except valid A-labels (round trip
 * through libidn2, IDNA2008), a wildcard only as the entire leftmost label
 * and never directly above a public suffix (libpsl). 0, or RC_BADNAME with
 * a zlint-style check name and the reason in d.
 */
int ca_dnsname_check(const char *name, struct rc_detail *d);

/* An IPv4 ("192.0.2.1") or IPv6 ("::1") address literal: 0 and the address
 * bytes in ip[16] (when not NULL) with *len 4 or 16, or RC_INVAL. */
int ca_ip_parse(const char *s, uint8_t ip[16], size_t *len);
/* A name of the service profile (CA_PROFILE_SERVICE): "localhost", an IP
 * address literal (then ip/len as ca_ip_parse) or a name ca_dnsname_check()
 * accepts without a wildcard. 0, or RC_BADNAME with the reason in d. */
int ca_service_name_check(const char *name, uint8_t ip[16], size_t *len,
    struct rc_detail *d);

/* Appends s as a JSON string (quoted; " \\ and control characters
 * escaped), for the audit details the ca writes. */
void ca_json_str(struct buf *b, const char *s);

/* SHA-256 of the SubjectPublicKeyInfo of a certificate (DER): the key's
 * name in blocked_keys. 0 or RC_INVAL. */
int ca_cert_spki_hash(const uint8_t *der, size_t len, uint8_t out[32]);

/* ---- Certificate Transparency (ct.c) ------------------------------------- */

struct evp_pkey_st;
struct ca_ct_log {
	char *desc, *op;		/* description, operator name */
	char *url;			/* its add-pre-chain URL */
	uint8_t id[32];			/* SHA-256 of its key */
	struct evp_pkey_st *key;
	int ecdsa;			/* P-256, else RSA */
	time_t start, end;		/* temporal interval of notAfter;
					 * end 0: none */
};
const struct ca_ct_log *ca_ct_log_at(const struct ca_ct *ct, size_t i);

/* The Extension TLV of the precertificate poison (RFC 6962 3.1): critical,
 * extnValue NULL. */
extern const uint8_t ca_ct_poison_ext[21];
/* extnID of the poison (sct_list 0) or of the SCT list (1). */
const uint8_t *ca_ct_oid(int sct_list, size_t *len);

/* An add-pre-chain answer (JSON) as a serialized SCT (RFC 6962 3.2,
 * v1) into sct. 0, or RC_PROTO with why in d. */
int ca_ct_sct_from_json(const char *body, size_t len, struct buf *sct,
    struct rc_detail *d);
/* Verifies a serialized SCT from log for the precertificate whose
 * TBSCertificate without the poison is tbs, issued by the key whose
 * SubjectPublicKeyInfo hashes (SHA-256) to ikh; its timestamp at most 5
 * minutes after now and at most a day before. 0, RC_PROTO or RC_CRYPTO. */
int ca_ct_sct_verify(const struct ca_ct_log *log, const uint8_t *sct,
    size_t len, const uint8_t ikh[32], const uint8_t *tbs, size_t tbs_len,
    time_t now, struct rc_detail *d);
/* Appends the Extension TLV of the SCT list (non-critical, extnValue an
 * OCTET STRING holding the TLS SignedCertificateTimestampList). */
void ca_ct_sct_list_ext(struct ca_dw *w, const struct buf *scts, size_t n);

/* What is logged: the chain (precertificate, issuing CA, root), the
 * precertificate's TBSCertificate without the poison, the issuer's key
 * hash, the validity (which logs and how many SCTs) and the real now. */
struct ca_ct_chain {
	const uint8_t *chain[3];
	size_t chain_len[3];
	size_t nchain;
	const uint8_t *tbs;
	size_t tbs_len;
	uint8_t issuer_key_hash[32];
	time_t not_before, not_after, now;
};
/* 0 when the log list has enough logs for a certificate of this validity
 * (before a precertificate is signed), else RC_UNAVAIL with why in d. */
int ca_ct_ready(const struct ca_ct *ct, time_t not_before, time_t not_after,
    struct rc_detail *d);
/*
 * Submits c to the eligible logs (temporal interval holding notAfter),
 * one per operator in turn, ca_ct_scts_needed() + 1 of them at once, and
 * verifies their SCTs. When enough verify (the count, from 2 operators),
 * appends the SCT list extension to ext and returns 0; else RC_UNAVAIL
 * with why in d. evidence gets a JSON array of each log's outcome.
 */
int ca_ct_collect(const struct ca_ct *ct, const struct ca_ct_chain *c,
    struct ca_dw *ext, struct buf *evidence, struct rc_detail *d);

/* ---- the CA handle ------------------------------------------------------- */

struct ca {
	char *base_url;
	char *crl_dir;
	int ocsp;
	int crl_validity_days;
	time_t now;			/* 0: real clock */
	struct store *st;		/* borrowed */
	struct signer *sg;		/* borrowed */
	struct store_group *group;	/* borrowed, may be NULL */
	const struct ca_ct *ct;		/* borrowed, NULL: no CT */
	struct ca_keycheck *kc;		/* borrowed, may be NULL */
	struct ca_iss issuing;		/* the active issuing CA */
	struct ca_iss root;
	/* shared with the process's other handles, may be NULL
	 * (conf->current), and its generation issuing was loaded at:
	 * another one means issuing is to be loaded again (ca_issue) */
	struct ca_current *cur;
	uint64_t cur_gen;
	pthread_mutex_t crl_lock;	/* one CRL publication at a time */
};

/* Takes up, between two issuances, the issuing CA the handles sharing
 * ca->cur issue from when another handle switched it (ca_follow); when
 * it cannot be loaded the handle goes on with the one it has, logs why and
 * tries again at its next issuance. */
void ca_catch_up(struct ca *ca);

/* Runs fn in a durable transaction: through the group committer when one
 * is set (its connection fsyncs every commit), else on the ca's store. For
 * everything the CA records: issuance, revocation, CRL numbers. */
int ca_durable_tx(struct ca *ca, int (*fn)(struct store *, void *),
    void *arg);

/* The CA's idea of now (conf->now when pinned). */
time_t ca_now(const struct ca *ca);

/* Canonical serial: lowercase hex of the DER INTEGER contents octets (no
 * leading zero octet unless the next octet has its top bit set), from hex
 * in any case with optional colons. 0, or RC_INVAL. out: 41 bytes. */
int ca_serial_normalize(const char *in, char out[41]);

/* PEM "CERTIFICATE" text of der, newly allocated. */
char *ca_pem_cert(const uint8_t *der, size_t len);

/* ---- revocation status (ocsp.c, crl.c) ----------------------------------- */

/* Records a revocation for ca_revoked_since() (crl.c, after it is
 * stored). */
void ca_revocation_note(const char *serial);

/* The process-wide settings of ca_status_configure(), defaults filled. */
int64_t ca_shard_size(void);
time_t ca_ocsp_validity(void);

/* The CRL shard of the next certificate of iss: issuance sequence numbers
 * are reserved from the store in blocks shared by every ca handle of the
 * process (one durable transaction per block, not per certificate).
 * *new_shard is set to 1 when this certificate opens a shard (its first
 * CRL should be published). */
int ca_shard_next(struct ca *ca, const struct ca_iss *iss, int64_t *shard,
    int *new_shard);

/* The loaded issuer with this id: the ca's cached ones, or one read from
 * the store into *tmp (an older CA; ca_iss_clear() it afterwards). */
int ca_iss_get(struct ca *ca, int64_t id, struct ca_iss *tmp,
    const struct ca_iss **out, struct rc_detail *d);

/*
 * Builds and signs (through the signer, with iss's key) a complete
 * OCSPResponse for one certificate of iss: status 0 good, 1 revoked (with
 * revoked_at and reason; reason 0 unspecified is left out), 2 unknown;
 * producedAt = thisUpdate = now, nextUpdate = now + ca_ocsp_validity().
 * serial: the INTEGER contents octets as the CertID carries them. The DER
 * is appended to out. 0, RC_SIGNER or RC_INVAL with d.
 */
int ca_ocsp_make(struct ca *ca, const struct ca_iss *iss,
    const uint8_t *serial, size_t serial_len, int status, int reason,
    time_t revoked_at, time_t now, struct ca_dw *out, struct rc_detail *d);

/*
 * ca_ocsp_make() in two halves, for a caller that has the response signed
 * together with something else (ca_issue: with its certificate, in one
 * signer round trip). ca_ocsp_tbs: the ResponseData into tbs (initialised
 * here; ca_dw_free() it after 0, nothing to free otherwise).
 * ca_ocsp_assemble: the OCSPResponse from tbs and its signature, appended
 * to out.
 */
int ca_ocsp_tbs(const struct ca_iss *iss, const uint8_t *serial,
    size_t serial_len, int status, int reason, time_t revoked_at, time_t now,
    struct ca_dw *tbs, struct rc_detail *d);
int ca_ocsp_assemble(const struct ca_iss *iss, const struct ca_dw *tbs,
    const uint8_t *sig, size_t sig_len, struct ca_dw *out,
    struct rc_detail *d);

#endif
