/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Issuance (ca_issue): decides the contents of a subscriber certificate
 * from the request (names, profile, validated organisation), builds the
 * TBSCertificate with the pre-encoded parts of the issuing CA (tbs.c), lints
 * it (lint.c; a failure stops issuance, BR 4.3.1.2), has the signer sign it,
 * and stores the certificate and its audit entry in one transaction. A
 * certificate that could not be stored is never returned.
 *
 * The pipeline avoids OpenSSL object encoding and decoding altogether: the
 * only OpenSSL calls per certificate are the CSPRNG, SHA-1 (subject key
 * identifier) and SHA-256 (audit record); the signature is the signer's.
 *
 * Revocation status is set up in the same step (ocsp.c, crl.c): the
 * certificate gets its CRL shard (named in its CRL DP, stored with it) and,
 * while OCSP is on, its "good" OCSP response is signed right after the
 * certificate and stored in the same transaction. Signing here rather than
 * queueing it for the worker costs one more signature per certificate, but
 * a certificate is never handed out before the responder can vouch for it
 * (a server that staples, e.g. nginx, fetches a response at once).
 *
 * Runs in the main certdesk process. Trusts the ca_csr (parsed and checked
 * by ca_csr_parse) and the organisation record (from the store) only as far
 * as the checks below and the linter confirm.
 */
#include "ca/ca_int.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TBS (64 * 1024)

static int
policy(struct rc_detail *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
policy(struct rc_detail *d, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rc_detail_set(d, "%s", msg);
	return RC_POLICY;
}

static int
nonempty(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static int
two_upper(const char *s)
{
	return s != NULL && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
	    s[1] <= 'Z' && s[2] == '\0';
}

/* X.680 PrintableString: the subject serialNumber is one (RFC 5280 A.1). */
static int
printable(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || strchr(" '()+,-./:=?", *s)))
			return 0;
	return 1;
}

/*
 * OV and EV subject data comes only from a validated organisation record
 * within its reuse period (BR 3.2.2.1, 4.2.1; EV Guidelines 11.14).
 */
static int
check_org(const struct store_org *org, int profile, time_t now,
    struct rc_detail *d)
{
	int days = ca_cal_org_reuse_days(now);

	if (org == NULL)
		return policy(d, "%s certificates need a validated "
		    "organisation", ca_profile_name(profile));
	if (org->validated != 1 || org->validated_at == 0)
		return policy(d, "organisation %lld is not validated",
		    (long long)org->id);
	if (org->validated_at > now + 300)
		return policy(d, "organisation %lld: validation date is in "
		    "the future", (long long)org->id);
	if (now - org->validated_at > (time_t)days * 86400)
		return policy(d, "organisation %lld: its validation is older "
		    "than the %d days organisation data may be reused; "
		    "re-validate it", (long long)org->id, days);
	if (!nonempty(org->legal_name))
		return policy(d, "organisation %lld has no legal name",
		    (long long)org->id);
	if (!two_upper(org->country))
		return policy(d, "organisation %lld: country is not an ISO "
		    "3166 code", (long long)org->id);
	if (!nonempty(org->locality) && !nonempty(org->state))
		return policy(d, "organisation %lld has neither locality nor "
		    "state", (long long)org->id);
	if (profile != CA_PROFILE_EV)
		return 0;
	if (org->ev_validated != 1)
		return policy(d, "organisation %lld is not validated for EV",
		    (long long)org->id);
	if (!nonempty(org->business_category) ||
	    !two_upper(org->jurisdiction_country) ||
	    !nonempty(org->registration_number))
		return policy(d, "organisation %lld lacks EV data (business "
		    "category, jurisdiction country, registration number)",
		    (long long)org->id);
	if (!printable(org->registration_number))
		return policy(d, "organisation %lld: the registration number "
		    "has characters a PrintableString cannot hold",
		    (long long)org->id);
	return 0;
}

static int
in_csr(const struct ca_csr *csr, const char *name)
{
	for (size_t i = 0; i < csr->nnames; i++)
		if (strcmp(csr->names[i], name) == 0)
			return 1;
	return 0;
}

/* The names of the certificate: checked, deduplicated, in request order.
 * names[] borrows the request's or the CSR's strings. */
static int
pick_names(const struct ca_issue_req *req, const char **names, size_t *n,
    struct rc_detail *d)
{
	const char *const *src;
	size_t count;
	struct rc_detail sub;

	if (req->names) {
		src = req->names;
		count = req->nnames;
	} else {
		src = (const char *const *)req->csr->names;
		count = req->csr->nnames;
	}
	if (count == 0)
		return policy(d, "no names to certify");
	if (count > CA_MAX_NAMES)
		return policy(d, "%zu names (at most %d)", count,
		    CA_MAX_NAMES);
	*n = 0;
	for (size_t i = 0; i < count; i++) {
		size_t j;

		if (src[i] == NULL)
			return policy(d, "empty name");
		sub.msg[0] = '\0';
		if ((req->profile == CA_PROFILE_SERVICE ?
		    ca_service_name_check(src[i], NULL, NULL, &sub) :
		    ca_dnsname_check(src[i], &sub)) != 0)
			return policy(d, "name not allowed: %s", sub.msg);
		if (req->names && !in_csr(req->csr, src[i]))
			return policy(d, "'%s' is not among the CSR's names",
			    src[i]);
		if (req->profile == CA_PROFILE_EV && src[i][0] == '*')
			return policy(d, "'%s': EV certificates cannot hold "
			    "wildcard names (EV Guidelines 9.8.1)", src[i]);
		for (j = 0; j < *n; j++)
			if (strcmp(names[j], src[i]) == 0)
				break;
		if (j == *n)
			names[(*n)++] = src[i];
	}
	return 0;
}

/* The addresses of the certificate (RFC 8738 orders): DV only, each among
 * the CSR's, canonical text, not reserved unless trust_private,
 * deduplicated; ips[] borrows the request's strings. */
static int
pick_ips(const struct ca_issue_req *req, size_t nnames, const char **ips,
    size_t *n, struct rc_detail *d)
{
	uint8_t bin[16];
	size_t len;
	char canon[INET6_ADDRSTRLEN];

	*n = 0;
	if (req->nips == 0)
		return 0;
	if (req->profile != CA_PROFILE_DV || req->ips == NULL)
		return policy(d, "IP addresses are certified only in DV "
		    "certificates");
	if (nnames + req->nips > CA_MAX_NAMES)
		return policy(d, "%zu names (at most %d)",
		    nnames + req->nips, CA_MAX_NAMES);
	for (size_t i = 0; i < req->nips; i++) {
		const char *ip = req->ips[i];
		size_t j, k;

		if (ip == NULL || ca_ip_parse(ip, bin, &len) != 0)
			return policy(d, "'%s' is not an IP address",
			    ip ? ip : "");
		inet_ntop(len == 4 ? AF_INET : AF_INET6, bin, canon,
		    sizeof(canon));
		if (strcmp(canon, ip) != 0)
			return policy(d, "'%s' is not in canonical form "
			    "('%s')", ip, canon);
		if (!req->trust_private && ca_ip_reserved(bin, len) != 0)
			return policy(d, "'%s' is a reserved IP address (BR "
			    "4.2.2)", ip);
		for (k = 0; k < req->csr->nips; k++)
			if (strcmp(req->csr->ips[k], ip) == 0)
				break;
		if (k == req->csr->nips)
			return policy(d, "'%s' is not among the CSR's IP "
			    "addresses", ip);
		for (j = 0; j < *n; j++)
			if (strcmp(ips[j], ip) == 0)
				break;
		if (j == *n)
			ips[(*n)++] = ip;
	}
	return 0;
}

/* BR 7.1.2.7.2: the CN, when present, is one of the SAN names; prefer the
 * first non-wildcard name that fits the 64 characters of ub-common-name. */
static const char *
pick_cn(const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i][0] != '*' && strlen(names[i]) <= 64)
			return names[i];
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) <= 64)
			return names[i];
	return NULL;		/* empty subject, critical SAN */
}

/* The service profile: the CN is the first name that is not an IP address
 * (an address goes only into the SAN as iPAddress). */
static const char *
service_cn(const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ca_ip_parse(names[i], NULL, NULL) != 0 &&
		    strlen(names[i]) <= 64)
			return names[i];
	return NULL;
}

/* 16 CSPRNG octets, positive (top bit clear) and never starting with a zero
 * octet, so the DER INTEGER is always exactly 16 octets (BR 7.1). */
static int
new_serial(uint8_t s[16])
{
	do {
		if (sec_random(s, 16) != 0)
			return RC_CRYPTO;
		s[0] &= 0x7f;
	} while (s[0] == 0);
	return 0;
}

void
ca_json_str(struct buf *b, const char *s)
{
	buf_append(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20)
			buf_printf(b, "\\u%04x", c);
		else
			buf_append(b, s, 1);
	}
	buf_append(b, "\"", 1);
}

static void
iso_time(time_t t, char out[21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct issue_tx {
	const struct store_cert *cert;
	const char *actor;
	const char *details;
	const struct store_ocsp *ocsp;	/* NULL while OCSP is off */
	const struct ca_issue_req *req;	/* its then() */
};

static int
issue_tx(struct store *st, void *arg)
{
	const struct issue_tx *t = arg;
	int rc;

	if ((rc = store_cert_add(st, t->cert)) != 0)
		return rc;
	if (t->ocsp != NULL && (rc = store_ocsp_put(st, t->ocsp)) != 0)
		return rc;
	if ((rc = store_audit_append(st, t->actor, "cert.issue",
	    t->cert->serial, t->details)) != 0)
		return rc;
	return t->req->then != NULL ? t->req->then(st, t->cert->serial,
	    t->req->then_arg) : 0;
}

void
ca_set_group(struct ca *ca, struct store_group *g)
{
	ca->group = g;
}

int
ca_durable_tx(struct ca *ca, int (*fn)(struct store *, void *), void *arg)
{
	return ca->group ? store_group_tx(ca->group, fn, arg) :
	    store_tx(ca->st, fn, arg);
}

/* ca_durable_tx, returning once committed (store_tx_deferred) */
static int
durable_tx_deferred(struct ca *ca, int (*fn)(struct store *, void *),
    void *arg)
{
	return ca->group ? store_group_tx_deferred(ca->group, fn, arg) :
	    store_tx_deferred(ca->st, fn, arg);
}

struct precert_tx {
	const char *actor, *serial, *details;
	const char *action;
	const struct store_cert *cert;	/* signed: its row, */
	const struct store_ocsp *ocsp;	/* unlogged: its OCSP response */
};

static int
precert_tx(struct store *st, void *arg)
{
	const struct precert_tx *t = arg;
	int rc;

	if (t->cert != NULL && (rc = store_cert_add(st, t->cert)) != 0)
		return rc;
	if (t->ocsp != NULL && (rc = store_ocsp_put(st, t->ocsp)) != 0)
		return rc;
	return store_audit_append(st, t->actor, t->action, t->serial,
	    t->details);
}

/*
 * A precertificate that was signed but not logged enough: relying parties
 * may still see it in a log, and a precertificate stands for its
 * certificate. Its row (stored before it left the CA) stays, so the CA
 * answers OCSP for it and can revoke it; here it gets its first signed
 * "good" OCSP response, and the failure is audited.
 */
static void
keep_unlogged(struct ca *ca, const struct ca_tbs *t, const char *serial_hex,
    struct precert_tx *tx)
{
	struct ca_dw ocsp;
	struct store_ocsp so;
	struct rc_detail d = {{0}};
	time_t now = ca_now(ca);
	int rc;

	ca_dw_init(&ocsp, 16 * 1024);
	tx->cert = NULL;
	tx->ocsp = NULL;
	if (ca->ocsp && ca_ocsp_make(ca, &ca->issuing, t->serial,
	    t->serial_len, 0, 0, 0, now, &ocsp, &d) == 0) {
		memset(&so, 0, sizeof(so));
		snprintf(so.serial, sizeof(so.serial), "%s", serial_hex);
		so.issuer_id = ca->issuing.id;
		so.this_update = now;
		so.next_update = now + ca_ocsp_validity();
		so.der = ocsp.b.data;
		so.der_len = ocsp.b.len;
		tx->ocsp = &so;
	}
	if (ca->ocsp && tx->ocsp == NULL)
		log_err(LOG_CA, "issue: OCSP response of precertificate %s: "
		    "%s (the OCSP worker signs it later)", serial_hex, d.msg);
	if ((rc = ca_durable_tx(ca, precert_tx, tx)) != 0)
		log_err(LOG_CA, "issue: precertificate %s: its failure to be "
		    "logged could not be recorded: %s", serial_hex,
		    rc_str(rc));
	tx->ocsp = NULL;
	ca_dw_free(&ocsp);
}

/*
 * Certificate Transparency (ct.c): signs the precertificate of t (its TBS
 * with the poison; tbs is the same without it), records it before it
 * leaves the CA (a precertificate is a promise to issue, BR 7.1.2.9: it
 * is audited like a certificate and stored as one, profile "precert" with
 * no order or contract, in its CRL shard, so that OCSP answers for its
 * serial and it can be revoked even when the CA stops right after; its
 * certificate takes the row over), has it logged, and puts the SCT list
 * extension into ct_ext. evidence: the logs' outcomes.
 */
static int
precertify(struct ca *ca, const struct ca_issue_req *req,
    const struct ca_tbs *t, const struct ca_dw *tbs, const char *serial_hex,
    const char *names, struct ca_dw *ct_ext, struct buf *evidence,
    int *stored, struct rc_detail *d)
{
	struct ca_tbs pt = *t;
	struct ca_dw pre, cert;
	struct signer_tbs st = {0};
	struct ca_ct_chain ch;
	struct precert_tx tx;
	struct store_cert sc;
	struct buf details;
	uint8_t hash[SHA256_DIGEST_LENGTH];
	char hash_hex[2 * SHA256_DIGEST_LENGTH + 1];
	int rc;

	ca_dw_init(&pre, MAX_TBS);
	ca_dw_init(&cert, MAX_TBS + 1024);
	buf_init(&details, 64 * 1024);
	/* no precertificate that could not be logged anyway */
	if ((rc = ca_ct_ready(ca->ct, t->not_before, t->not_after, d)) != 0)
		goto out;
	pt.ct_ext = ca_ct_poison_ext;
	pt.ct_ext_len = sizeof(ca_ct_poison_ext);
	ca_tbs_build(&pre, &ca->issuing, &pt);
	if ((rc = pre.rc) != 0) {
		rc_detail_set(d, "issue: building the precertificate: %s",
		    rc_str(rc));
		goto out;
	}
	if ((rc = ca_lint_tbs_ips(pre.b.data, pre.b.len, req->profile,
	    &ca->issuing.info, ca_now(ca), t->ips, t->nips,
	    req->trust_private, d)) != 0) {
		log_warn(LOG_CA, "issue: precertificate refused by lint: %s",
		    rc_detail_str(d, rc));
		goto out;
	}
	st = (struct signer_tbs){SIGNER_TBS_CERT, pre.b.data, pre.b.len,
	    NULL, 0};
	if ((rc = signer_sign_many(ca->sg, ca->issuing.name, 1, &st,
	    d)) != 0) {
		log_err(LOG_CA, "issue: signer: %s", rc_detail_str(d, rc));
		rc = RC_SIGNER;
		goto out;
	}
	ca_signed_build(&cert, pre.b.data, pre.b.len, ca->issuing.sigalg,
	    ca->issuing.sigalg_len, st.sig, st.sig_len);
	if ((rc = cert.rc) != 0) {
		rc_detail_set(d, "issue: assembling the precertificate: %s",
		    rc_str(rc));
		goto out;
	}
	SHA256(cert.b.data, cert.b.len, hash);
	hex_encode(hash, sizeof(hash), hash_hex);
	buf_printf(&details, "{\"profile\":\"%s\",\"names\":",
	    ca_profile_name(req->profile));
	ca_json_str(&details, names);
	buf_printf(&details, ",\"issuer\":\"%s\",\"order_id\":%lld,"
	    "\"sha256\":\"%s\"}", ca->issuing.name,
	    (long long)req->order_id, hash_hex);
	memset(&sc, 0, sizeof(sc));
	snprintf(sc.serial, sizeof(sc.serial), "%s", serial_hex);
	sc.issuer_id = ca->issuing.id;
	sc.profile = "precert";
	sc.names = (char *)names;
	sc.not_before = t->not_before;
	sc.not_after = t->not_after;
	sc.der = cert.b.data;
	sc.der_len = cert.b.len;
	sc.has_crl_shard = 1;
	sc.crl_shard = t->crl_shard;
	tx = (struct precert_tx){req->actor ? req->actor : "ca", serial_hex,
	    (const char *)details.data, "cert.precert", &sc, NULL};
	if ((rc = ca_durable_tx(ca, precert_tx, &tx)) != 0) {
		rc_detail_set(d, "issue: recording the precertificate "
		    "failed: %s", rc_str(rc));
		rc = RC_DB;
		goto out;
	}
	*stored = 1;
	memset(&ch, 0, sizeof(ch));
	ch.chain[0] = cert.b.data;
	ch.chain_len[0] = cert.b.len;
	ch.chain[1] = ca->issuing.cert;
	ch.chain_len[1] = ca->issuing.cert_len;
	ch.chain[2] = ca->root.cert;
	ch.chain_len[2] = ca->root.cert_len;
	ch.nchain = ca->root.cert != NULL ? 3 : 2;
	ch.tbs = tbs->b.data;
	ch.tbs_len = tbs->b.len;
	SHA256(ca->issuing.info.spki, ca->issuing.info.spki_len,
	    ch.issuer_key_hash);
	ch.not_before = t->not_before;
	ch.not_after = t->not_after;
	ch.now = time(NULL);	/* the logs' clocks are real */
	rc = ca_ct_collect(ca->ct, &ch, ct_ext, evidence, d);
	if (rc != 0) {
		/* audited: the precertificate exists, its certificate not */
		buf_reset(&details);
		buf_printf(&details, "{\"sha256\":\"%s\",\"logs\":%s}",
		    hash_hex, (const char *)evidence->data);
		tx.details = (const char *)details.data;
		tx.action = "cert.precert.unlogged";
		keep_unlogged(ca, t, serial_hex, &tx);
		log_err(LOG_CA, "issue: %s: %s", serial_hex, d->msg);
	}
out:
	free(st.sig);
	ca_dw_free(&pre);
	ca_dw_free(&cert);
	buf_free(&details);
	return rc;
}

/* A new shard's first CRL at once, so that the URL in its CRL DP answers;
 * a failure is only logged (the CRL schedule retries). */
static void
first_crl(struct ca *ca, int64_t shard)
{
	struct rc_detail sd = {{0}};
	int rc = ca_crl_publish_shard(ca, ca->issuing.id, shard, &sd);

	if (rc != 0)
		log_err(LOG_CA, "issue: first CRL of shard %lld: %s",
		    (long long)shard, rc_detail_str(&sd, rc));
}

int
ca_issue(struct ca *ca, const struct ca_issue_req *req, struct ca_cert **out,
    struct rc_detail *d)
{
	const char *names[CA_MAX_NAMES], *ips[CA_MAX_NAMES];
	uint8_t serial[16], hash[SHA256_DIGEST_LENGTH], *sig = NULL;
	char hash_hex[2 * SHA256_DIGEST_LENGTH + 1], na_text[21];
	size_t nnames = 0, nips = 0, sig_len = 0;
	struct ca_dw tbs, cert, ocsp, ct_ext;
	struct buf details, namelist, ct_ev;
	struct ca_tbs t;
	struct store_cert sc;
	struct store_ocsp so;
	struct issue_tx tx;
	struct signer_tbs st[2] = {{0}, {0}};
	struct ca_dw ocsp_tbs;
	int have_ocsp_tbs = 0;
	struct ca_cert *c = NULL;
	time_t now;
	int64_t shard = 0;
	int rc, days, new_shard = 0;

	*out = NULL;
	ca_dw_init(&tbs, MAX_TBS);
	ca_dw_init(&cert, MAX_TBS + 1024);
	ca_dw_init(&ocsp, 16 * 1024);
	ca_dw_init(&ct_ext, 16 * 1024);
	buf_init(&ct_ev, 16 * 1024);
	buf_init(&details, 64 * 1024);
	buf_init(&namelist, 64 * 1024);
	if (ca == NULL || req == NULL || req->csr == NULL ||
	    req->csr->spki == NULL) {
		rc_detail_set(d, "issue: no CA or no CSR");
		rc = RC_INVAL;
		goto out;
	}
	/* a CA switched to by ca_follow() since the last issuance: taken
	 * up now, so that everything below is the one CA's */
	ca_catch_up(ca);
	now = ca_now(ca);
	if (ca_profile_name(req->profile) == NULL) {
		rc = policy(d, "unknown profile %d", req->profile);
		goto out;
	}
	if (req->nips > 0 && (req->names != NULL ? req->nnames :
	    req->csr->nnames) == 0) {
		/* an order of addresses only: no DNS names */
		nnames = 0;
	} else if ((rc = pick_names(req, names, &nnames, d)) != 0) {
		goto out;
	}
	if ((rc = pick_ips(req, nnames, ips, &nips, d)) != 0)
		goto out;
	if (nnames + nips == 0) {
		rc = policy(d, "no names to certify");
		goto out;
	}
	/* the names as stored with the certificate (and its precertificate
	 * row): space-separated, the DNS names then the addresses */
	for (size_t i = 0; i < nnames + nips; i++)
		buf_printf(&namelist, "%s%s", i ? " " : "",
		    i < nnames ? names[i] : ips[i - nnames]);
	if (req->profile != CA_PROFILE_DV &&
	    req->profile != CA_PROFILE_SERVICE &&
	    (rc = check_org(req->org, req->profile, now, d)) != 0)
		goto out;
	/* OCSP Must-Staple (RFC 7633), when the CSR asks for it: promised
	 * only by a CA that answers OCSP for it */
	if (req->csr->must_staple && req->profile != CA_PROFILE_SERVICE &&
	    !ca->ocsp) {
		rc_detail_set(d, "CSR: asks for OCSP Must-Staple (RFC 7633), "
		    "but this CA runs no OCSP responder");
		rc = RC_BADCSR;
		goto out;
	}
	/* BR 6.1.1.3 (4): never a key known compromised (a certificate of
	 * it was revoked for keyCompromise) */
	{
		char why[CA_KEY_WHY_MAX];

		rc = ca_key_blocked(ca->st, req->csr->spki,
		    req->csr->spki_len, why);
		if (rc == 1) {
			rc_detail_set(d, "CSR: its key is known to be "
			    "compromised (%s); make a new key", why);
			rc = RC_WEAKKEY;
			goto out;
		}
		if (rc != 0) {
			rc_detail_set(d, "issue: the compromised keys could "
			    "not be read: %s", rc_str(rc));
			rc = RC_DB;
			goto out;
		}
	}
	/* The key was checked by ca_csr_parse() (with ca->kc) when the CSR
	 * was parsed; the linter re-checks its type and size. Running the
	 * weak-key checks again here would double their cost per
	 * certificate. */

	/* RFC 5280 4.1.2.5: the period includes both ends, so it is exactly
	 * `days` days; backdated one minute for clock skew */
	days = ca_cal_validity_days(now);
	if (req->profile == CA_PROFILE_SERVICE &&
	    days > CA_SERVICE_VALIDITY_DAYS)
		days = CA_SERVICE_VALIDITY_DAYS;
	memset(&t, 0, sizeof(t));
	t.not_before = now - 60;
	t.not_after = t.not_before + (time_t)days * 86400 - 1;
	if (req->validity_s > 0 && req->validity_s < (long)days * 86400)
		t.not_after = t.not_before + (time_t)req->validity_s - 1;
	/* the server's own HTTPS certificate may end with its issuer: serve
	 * must keep answering OCSP and CRLs (and `ca roll` be the fix) while
	 * subscriber certificates no longer fit */
	if (req->profile == CA_PROFILE_SERVICE &&
	    t.not_after > ca->issuing.info.not_after &&
	    ca->issuing.info.not_after - now > 86400)
		t.not_after = ca->issuing.info.not_after;
	if (t.not_after > ca->issuing.info.not_after) {
		rc = policy(d, "the issuing CA %s expires before the "
		    "certificate would", ca->issuing.name);
		goto out;
	}
	if ((rc = new_serial(serial)) != 0) {
		rc_detail_set(d, "issue: no random serial");
		goto out;
	}
	if ((rc = ca_shard_next(ca, &ca->issuing, &shard, &new_shard)) != 0) {
		rc_detail_set(d, "issue: no CRL shard: %s", rc_str(rc));
		rc = RC_DB;
		goto out;
	}
	t.crl_shard = shard;
	t.must_staple = req->csr->must_staple &&
	    req->profile != CA_PROFILE_SERVICE;
	t.profile = req->profile;
	t.serial = serial;
	t.serial_len = sizeof(serial);
	t.names = names;
	t.nnames = nnames;
	t.ips = ips;
	t.nips = nips;
	t.cn = req->profile == CA_PROFILE_SERVICE ? service_cn(names, nnames) :
	    nnames > 0 ? pick_cn(names, nnames) : ips[0];
	t.org = req->profile == CA_PROFILE_DV ||
	    req->profile == CA_PROFILE_SERVICE ? NULL : req->org;
	t.spki = req->csr->spki;
	t.spki_len = req->csr->spki_len;
	t.key_is_ec = req->csr->key_is_ec;
	ca_tbs_build(&tbs, &ca->issuing, &t);
	if (tbs.rc != 0) {
		rc = tbs.rc == RC_TOOBIG ? RC_POLICY : tbs.rc;
		rc_detail_set(d, "issue: building the certificate: %s",
		    rc_str(tbs.rc));
		goto out;
	}
	/* Certificate Transparency for subscriber certificates: the
	 * precertificate is logged, then the certificate is built again with
	 * the SCTs where the poison was */
	if (ca->ct != NULL && req->profile != CA_PROFILE_SERVICE) {
		char serial_hex[41];
		int stored = 0;

		hex_encode(serial, sizeof(serial), serial_hex);
		rc = precertify(ca, req, &t, &tbs, serial_hex,
		    (const char *)namelist.data, &ct_ext, &ct_ev, &stored, d);
		if (rc != 0) {
			/* a kept precertificate's CRL shard answers too */
			if (stored && new_shard)
				first_crl(ca, shard);
			goto out;
		}
		t.ct_ext = ct_ext.b.data;
		t.ct_ext_len = ct_ext.b.len;
		ca_dw_reset(&tbs);
		ca_tbs_build(&tbs, &ca->issuing, &t);
		if (tbs.rc != 0) {
			rc = tbs.rc == RC_TOOBIG ? RC_POLICY : tbs.rc;
			rc_detail_set(d, "issue: building the certificate: "
			    "%s", rc_str(tbs.rc));
			goto out;
		}
	}
	if ((rc = ca_lint_tbs_ips(tbs.b.data, tbs.b.len, req->profile,
	    &ca->issuing.info, now, ips, nips, req->trust_private,
	    d)) != 0) {
		log_warn(LOG_CA, "issue: refused by lint: %s",
		    rc_detail_str(d, rc));
		goto out;
	}
	/* the certificate and its first OCSP response, signed in one round
	 * trip to the signer, before anything is stored */
	if (ca->ocsp && (rc = ca_ocsp_tbs(&ca->issuing, serial,
	    sizeof(serial), 0, 0, 0, now, &ocsp_tbs, d)) != 0) {
		log_err(LOG_CA, "issue: OCSP response: %s",
		    rc_detail_str(d, rc));
		goto out;
	}
	have_ocsp_tbs = ca->ocsp;
	st[0] = (struct signer_tbs){SIGNER_TBS_CERT, tbs.b.data, tbs.b.len,
	    NULL, 0};
	if (have_ocsp_tbs)
		st[1] = (struct signer_tbs){SIGNER_TBS_OCSP,
		    ocsp_tbs.b.data, ocsp_tbs.b.len, NULL, 0};
	rc = signer_sign_many(ca->sg, ca->issuing.name,
	    have_ocsp_tbs ? 2 : 1, st, d);
	if (rc != 0) {
		log_err(LOG_CA, "issue: signer: %s", rc_detail_str(d, rc));
		rc = RC_SIGNER;
		goto out;
	}
	sig = st[0].sig;
	sig_len = st[0].sig_len;
	ca_signed_build(&cert, tbs.b.data, tbs.b.len, ca->issuing.sigalg,
	    ca->issuing.sigalg_len, sig, sig_len);
	if ((rc = cert.rc) != 0) {
		rc_detail_set(d, "issue: assembling the certificate: %s",
		    rc_str(rc));
		goto out;
	}
	if (have_ocsp_tbs && (rc = ca_ocsp_assemble(&ca->issuing, &ocsp_tbs,
	    st[1].sig, st[1].sig_len, &ocsp, d)) != 0) {
		log_err(LOG_CA, "issue: OCSP response: %s",
		    rc_detail_str(d, rc));
		goto out;
	}

	c = xcalloc(1, sizeof(*c));
	hex_encode(serial, sizeof(serial), c->serial);
	c->not_before = t.not_before;
	c->not_after = t.not_after;

	/* the audit record: what was issued, for whom, and its hash */
	SHA256(cert.b.data, cert.b.len, hash);
	hex_encode(hash, sizeof(hash), hash_hex);
	iso_time(t.not_after, na_text);
	buf_printf(&details, "{\"profile\":\"%s\",\"names\":[",
	    ca_profile_name(req->profile));
	for (size_t i = 0; i < nnames + nips; i++) {
		if (i)
			buf_append(&details, ",", 1);
		ca_json_str(&details, i < nnames ? names[i] : ips[i - nnames]);
	}
	buf_printf(&details, "],\"issuer\":");
	ca_json_str(&details, ca->issuing.name);
	buf_printf(&details, ",\"not_after\":\"%s\",\"order_id\":%lld,"
	    "\"contract_id\":%lld,\"sha256\":\"%s\"", na_text,
	    (long long)req->order_id, (long long)req->contract_id, hash_hex);
	if (ct_ev.len > 0)
		buf_printf(&details, ",\"ct\":%s", (const char *)ct_ev.data);
	buf_printf(&details, "}");

	memset(&sc, 0, sizeof(sc));
	memcpy(sc.serial, c->serial, sizeof(sc.serial));
	sc.issuer_id = ca->issuing.id;
	sc.profile = (char *)ca_profile_name(req->profile);
	sc.names = (char *)namelist.data;
	sc.order_id = req->order_id;
	sc.contract_id = req->contract_id;
	sc.not_before = t.not_before;
	sc.not_after = t.not_after;
	sc.der = cert.b.data;
	sc.der_len = cert.b.len;
	tx.cert = &sc;
	tx.actor = req->actor ? req->actor : "ca";
	tx.details = (const char *)details.data;
	sc.has_crl_shard = 1;
	sc.crl_shard = shard;
	sc.replace_precert = t.ct_ext != NULL;
	tx.req = req;
	tx.ocsp = NULL;
	if (ca->ocsp) {
		memset(&so, 0, sizeof(so));
		memcpy(so.serial, c->serial, sizeof(so.serial));
		so.issuer_id = ca->issuing.id;
		so.status = 0;
		so.this_update = now;
		so.next_update = now + ca_ocsp_validity();
		so.der = ocsp.b.data;
		so.der_len = ocsp.b.len;
		tx.ocsp = &so;
	}
	rc = req->defer_sync ? durable_tx_deferred(ca, issue_tx, &tx) :
	    ca_durable_tx(ca, issue_tx, &tx);
	if (rc != 0) {
		/* signed but not recorded: never handed out */
		log_err(LOG_CA, "issue: certificate %s (sha256 %s) signed but "
		    "not stored, discarded: %s", c->serial, hash_hex,
		    rc_str(rc));
		rc_detail_set(d, "issue: storing the certificate failed: %s",
		    rc_str(rc));
		rc = RC_DB;
		goto out;
	}
	log_debug(LOG_CA, "issued %s %s for %s", ca_profile_name(req->profile),
	    c->serial, nnames > 0 ? names[0] : ips[0]);
	if (new_shard)
		first_crl(ca, shard);
	c->der = buf_steal(&cert.b, &c->der_len);
	*out = c;
	c = NULL;
out:
	ca_cert_free(c);
	free(sig);
	free(st[1].sig);
	if (have_ocsp_tbs)
		ca_dw_free(&ocsp_tbs);
	ca_dw_free(&tbs);
	ca_dw_free(&cert);
	ca_dw_free(&ocsp);
	ca_dw_free(&ct_ext);
	buf_free(&ct_ev);
	buf_free(&details);
	buf_free(&namelist);
	return rc;
}
