/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Issuance and what follows it: finalize (RFC 8555 §7.4), certificate
 * download (§7.4.2), revocation (§7.6) and ACME Renewal Information
 * (RFC 9773).
 *
 * Finalize is where "no issuance without validation" is enforced: the
 * order's status says ready, but the ra does not trust it alone. After the
 * order moves ready -> processing (one conditional update: one finalize
 * wins), the CSR must name exactly the order's identifiers, every name
 * must have a valid, unexpired authorization of this account within the
 * reuse period, and CAA must permit issuance for every name right now
 * (RFC 8659, RFC 8657 with this account's URL and the method that
 * validated the name). Only then does the CA issue; any failure makes the
 * order invalid with the problem stored (the client starts a new order,
 * which reuses the authorizations).
 *
 * Runs in the main certdesk process on request threads. Trusts the store,
 * the CA and the validation library; the CSR, the certificate sent for
 * revocation and the ARI certID come from clients and are parsed strictly.
 */
#include "ra/ra_int.h"
#include "ca/ca.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/der.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CERT_IN (64 * 1024)

/* ---- the CSR key is not the account key (RFC 8555 §11.1) ----------------- */

/* Appends base64url of p[0..n) to b. */
static int
b64u_append(struct buf *b, const uint8_t *p, size_t n)
{
	char *s = xmalloc(n * 4 / 3 + 4);
	int rc;

	ra_b64u(p, n, s);
	rc = buf_append_str(b, s);
	free(s);
	return rc;
}

/* The curve name (as OpenSSL calls it) and the uncompressed point of an EC
 * SubjectPublicKeyInfo on P-256 or P-384; RC_INVAL for anything else. */
static int
ec_point_from_spki(const uint8_t *spki, size_t len, char grp[32],
    uint8_t pt[200], size_t *ptlen)
{
	static const uint8_t ec_oid[] = {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
		0x3d, 0x02, 0x01};
	static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
		0x3d, 0x03, 0x01, 0x07};
	static const uint8_t p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00,
		0x22};
	struct der d = {spki, len}, seq, alg;
	struct der_elem e, a, oid, curve, bits;
	size_t want;

	if (der_expect(&d, DER_SEQUENCE, &e) != 0 || d.len != 0)
		return RC_INVAL;
	seq = e.body;
	if (der_expect(&seq, DER_SEQUENCE, &a) != 0 ||
	    der_expect(&seq, DER_BITSTRING, &bits) != 0 || seq.len != 0)
		return RC_INVAL;
	alg = a.body;
	if (der_expect(&alg, DER_OID, &oid) != 0 ||
	    !der_eq(&oid, ec_oid, sizeof(ec_oid)) ||
	    der_expect(&alg, DER_OID, &curve) != 0 || alg.len != 0)
		return RC_INVAL;
	if (der_eq(&curve, p256, sizeof(p256))) {
		snprintf(grp, 32, "prime256v1");
		want = 65;
	} else if (der_eq(&curve, p384, sizeof(p384))) {
		snprintf(grp, 32, "secp384r1");
		want = 97;
	} else
		return RC_INVAL;
	if (bits.body.len != want + 1 || bits.body.p[0] != 0 ||
	    bits.body.p[1] != 0x04)
		return RC_INVAL;
	memcpy(pt, bits.body.p + 1, want);
	*ptlen = want;
	return 0;
}

/* The RFC 7638 thumbprint of an SPKI (EC P-256/P-384 or RSA) into out;
 * RC_INVAL for other keys. */
static int
spki_thumbprint(const uint8_t *spki, size_t len, char out[44])
{
	const uint8_t *p = spki;
	EVP_PKEY *k = NULL;
	struct buf b;
	uint8_t pt[200], h[SHA256_DIGEST_LENGTH], nb[1024];
	size_t ptlen = 0;
	char grp[32];
	BIGNUM *n = NULL, *e = NULL;
	int rc = RC_INVAL;

	buf_init(&b, 4096);
	/* EC keys, the common case, straight from the DER: OpenSSL 3.0's
	 * d2i_PUBKEY goes through its slow decoder framework */
	if ((rc = ec_point_from_spki(spki, len, grp, pt, &ptlen)) == 0)
		goto have_ec;
	rc = RC_INVAL;
	k = d2i_PUBKEY(NULL, &p, (long)len);
	if (k == NULL)
		goto out;
	if (EVP_PKEY_is_a(k, "EC")) {
		size_t cl;

		if (!EVP_PKEY_get_utf8_string_param(k,
		    OSSL_PKEY_PARAM_GROUP_NAME, grp, sizeof(grp), NULL) ||
		    !EVP_PKEY_get_octet_string_param(k,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &ptlen) ||
		    ptlen < 3 || pt[0] != 0x04 || (ptlen - 1) % 2 != 0)
			goto out;
have_ec:
		cl = (ptlen - 1) / 2;
		if (strcmp(grp, "prime256v1") == 0)
			rc = buf_append_str(&b, "{\"crv\":\"P-256\"");
		else if (strcmp(grp, "secp384r1") == 0)
			rc = buf_append_str(&b, "{\"crv\":\"P-384\"");
		else
			goto out;
		if (rc != 0 ||
		    (rc = buf_append_str(&b,
			 ",\"kty\":\"EC\",\"x\":\"")) != 0 ||
		    (rc = b64u_append(&b, pt + 1, cl)) != 0 ||
		    (rc = buf_append_str(&b, "\",\"y\":\"")) != 0 ||
		    (rc = b64u_append(&b, pt + 1 + cl, cl)) != 0 ||
		    (rc = buf_append_str(&b, "\"}")) != 0)
			goto out;
	} else if (EVP_PKEY_is_a(k, "RSA")) {
		int nlen, elen;
		uint8_t eb[16];

		if (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) ||
		    !EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) ||
		    (nlen = BN_num_bytes(n)) > (int)sizeof(nb) ||
		    (elen = BN_num_bytes(e)) > (int)sizeof(eb))
			goto out;
		BN_bn2bin(n, nb);
		BN_bn2bin(e, eb);
		if ((rc = buf_append_str(&b, "{\"e\":\"")) != 0 ||
		    (rc = b64u_append(&b, eb, (size_t)elen)) != 0 ||
		    (rc = buf_append_str(&b, "\",\"kty\":\"RSA\",\"n\":\"")) !=
			0 ||
		    (rc = b64u_append(&b, nb, (size_t)nlen)) != 0 ||
		    (rc = buf_append_str(&b, "\"}")) != 0)
			goto out;
	} else {
		goto out;
	}
	SHA256(b.data, b.len, h);
	ra_b64u(h, sizeof(h), out);
	rc = 0;
out:
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(k);
	buf_free(&b);
	return rc;
}

/* ---- finalize ------------------------------------------------------------ */

struct final {
	struct ra *ra;
	int64_t id, account_id;
	const char *to;		/* "valid" or "invalid" */
	const char *serial;	/* valid: the certificate */
	const char *error_json;	/* invalid: the problem */
	json_t *details;	/* audit details, borrowed */
	struct buf caa;		/* the CAA evidence: a JSON array's text,
				 * added to details as "caa" */
	int recorded;		/* final_tx committed with the issuance */
	/* processing_tx: */
	const struct ra_order *o;
	const uint8_t *csr;
	size_t csr_len;
	char methods[CA_MAX_NAMES][16];	/* of each identifier's valid
					 * authorization, "" when none */
	int authorized[CA_MAX_NAMES];
};

/*
 * ready -> processing, which makes this request the order's only
 * finalizer, and in the same transaction the valid authorization of this
 * account behind each identifier (no issuance without validation: looked
 * up whatever the order's status said). One write transaction and no
 * read snapshot after it.
 */
static int
processing_tx(struct store *st, void *arg)
{
	struct final *f = arg;
	const struct ra_order *o = f->o;
	time_t now = ra_now(f->ra);
	time_t since = now - (time_t)ca_cal_dv_reuse_days(now) * 86400;
	int rc;

	rc = store_order_set_status(st, f->id, "ready", "processing", NULL,
	    NULL, f->csr, f->csr_len, now);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < o->nident && i < CA_MAX_NAMES; i++) {
		const char *nm = o->ident[i];
		int wild = nm[0] == '*';
		struct store_authz a;
		int64_t aid;

		f->methods[i][0] = '\0';
		f->authorized[i] = 0;
		rc = store_authz_find(st, f->account_id, o->ident_type[i],
		    wild ? nm + 2 : nm, wild, now, since, 0, &aid);
		if (rc == 0)
			rc = store_authz_get(st, aid, &a);
		if (rc == RC_NOTFOUND)
			continue;
		if (rc != 0)
			return rc;
		snprintf(f->methods[i], sizeof(f->methods[i]), "%s",
		    a.method != NULL ? a.method : "");
		f->authorized[i] = 1;
		store_authz_clear(&a);
	}
	return 0;
}

static int
final_tx(struct store *st, void *arg)
{
	struct final *f = arg;
	char actor[48], object[48], *text;
	int rc;

	rc = store_order_set_status(st, f->id, "processing", f->to,
	    f->error_json, f->serial, NULL, 0, ra_now(f->ra));
	if (rc != 0)
		return rc;
	text = ra_json_with(f->details, "caa", f->caa.len > 0 ?
	    (const char *)f->caa.data : "[]");
	if (text == NULL)
		return RC_NOMEM;
	snprintf(actor, sizeof(actor), "acme:account/%lld",
	    (long long)f->account_id);
	snprintf(object, sizeof(object), "order:%lld", (long long)f->id);
	rc = store_audit_append(st, actor,
	    strcmp(f->to, "valid") == 0 ? "acme.order.valid"
					: "acme.order.invalid",
	    object, text);
	free(text);
	return rc;
}

/* ca_issue's then(): the order becomes valid in the transaction that
 * stores its certificate, so the two commit together (one fsync, and no
 * window in which the certificate exists but the order says processing) */
static int
final_then(struct store *st, const char *serial, void *arg)
{
	struct final *f = arg;
	int rc;

	f->serial = serial;
	json_object_set_new(f->details, "serial", json_string(serial));
	rc = final_tx(st, f);
	if (rc == 0)
		rc = ra_limit_issued(f->ra, st, f->o->ident,
		    (const char *const *)f->o->ident_type, f->o->nident,
		    f->o->replaces != NULL, serial);
	if (rc != 0)
		json_object_del(f->details, "serial");
	f->serial = NULL;
	f->recorded = rc == 0;
	return rc;
}

/* 1 when name is among the n strings of v. */
static int
has_name(char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return 1;
	return 0;
}

/* Runs the CAA check for one name; res is filled (clear it). */
static int
caa_check(struct ra *ra, const char *base, int wildcard, const char *url,
    const char *method, struct val_result *res)
{
	struct val_request req = {0};
	struct val_ctx *v;
	int rc;

	req.kind = VAL_KIND_CAA;
	req.name = base;
	req.is_wildcard = wildcard;
	req.account_uri = url;
	req.method = method;
	if (ra->check != NULL)
		return ra->check(ra->check_arg, &req, res);
	if ((v = ra_val_get(ra)) == NULL)
		return ra_val_missing(ra, res, "CAA checking");
	rc = val_caa_check(v, base, wildcard, url, method, res);
	ra_val_put(ra, v);
	/* BR 3.2.2.9: CAA from the remote perspectives too */
	if (ra->conf.mpic != NULL)
		(void)val_mpic_corroborate(ra->conf.mpic, &req, 0, res);
	return rc;
}

/* Adds one name's CAA evidence (val's JSON text, or a note when there is
 * none) to the JSON array text in b. */
static void
caa_append(struct buf *b, const char *name, const struct val_result *res)
{
	char *note = NULL;
	const char *ev = res->evidence;
	size_t old;

	if (ev == NULL || ev[0] != '{') {
		json_t *v = json_pack("{s:s,s:s}", "name", name, "detail",
		    res->detail);

		note = v != NULL ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS)
				 : NULL;
		json_decref(v);
		ev = note != NULL ? note : "null";
	}
	old = b->len;
	if (old > 0)
		b->len--;	/* the closing ']' */
	if (buf_printf(b, "%c%s]", old > 0 ? ',' : '[', ev) != 0)
		b->len = old;	/* over STORE_MAX_LONG: this one is left out */
	free(note);
}

/*
 * The CSR's own checks, before the order moves to processing: a CSR that
 * fails them leaves the order ready for an amended one (RFC 8555 7.4: the
 * server SHOULD leave it ready after badCSR; Boulder checks the CSR before
 * it sets the order processing). Fills e on failure; *out on success
 * (ca_csr_free()).
 */
static int
finalize_csr(struct ra *ra, const struct ra_account *acct,
    const struct ra_order *o, const uint8_t *csr, size_t csr_len,
    struct ca_csr **out, struct ra_err *e)
{
	struct ca_csr *req = NULL;
	struct rc_detail d = {""};
	char tp[44];
	const char *dns[CA_MAX_NAMES], *ips[CA_MAX_NAMES];
	size_t ndns = 0, nips = 0;
	int rc;

	*out = NULL;
	if (csr == NULL || csr_len == 0 || csr_len > CA_MAX_CSR)
		return ra_fail(e, RC_BADCSR, RA_PROB_BAD_CSR,
		    "no CSR or a CSR over %d bytes", CA_MAX_CSR);
	/* RFC 8738: iPAddress SANs only where ip identifiers are accepted;
	 * RFC 8555 7.4: an identifier may be in the CN alone */
	rc = ca_csr_parse_flags(csr, csr_len, ra->conf.keycheck,
	    (ra->conf.allow_ip ? CA_CSR_ALLOW_IP : 0) | CA_CSR_CN_NAME, &req,
	    &d);
	if (rc != 0)
		return ra_fail(e, rc == RC_TOOBIG ? RC_BADCSR : rc,
		    RA_PROB_BAD_CSR, "%s", d.msg[0] ? d.msg : "bad CSR");
	/* RFC 8555 §11.1: not the account key */
	if (spki_thumbprint(req->spki, req->spki_len, tp) == 0 &&
	    strcmp(tp, acct->thumbprint) == 0) {
		rc = ra_fail(e, RC_BADCSR, RA_PROB_BAD_CSR,
		    "the certificate key must not be the account key");
		goto out;
	}
	/* the CSR names exactly the order's identifiers: its dNSNames the
	 * dns ones, its iPAddresses (canonical text) the ip ones */
	for (size_t i = 0; i < o->nident; i++) {
		int ip = strcmp(o->ident_type[i], "ip") == 0;

		if (ip) {
			if (nips < CA_MAX_NAMES)
				ips[nips++] = o->ident[i];
		} else if (ndns < CA_MAX_NAMES) {
			dns[ndns++] = o->ident[i];
		}
	}
	for (size_t i = 0; i < req->nnames; i++)
		if (!has_name((char *const *)dns, ndns, req->names[i]))
			ra_sub(e, RA_PROB_BAD_CSR, "dns", req->names[i],
			    "the CSR names it but the order does not");
	for (size_t i = 0; i < req->nips; i++)
		if (!has_name((char *const *)ips, nips, req->ips[i]))
			ra_sub(e, RA_PROB_BAD_CSR, "ip", req->ips[i],
			    "the CSR names it but the order does not");
	for (size_t i = 0; i < o->nident; i++)
		if (strcmp(o->ident_type[i], "ip") == 0 ?
		    !has_name(req->ips, req->nips, o->ident[i]) :
		    !has_name(req->names, req->nnames, o->ident[i]))
			ra_sub(e, RA_PROB_BAD_CSR, o->ident_type[i],
			    o->ident[i], "the order names it but the CSR "
			    "does not");
	if (e->nsub_total > 0) {
		rc = ra_fail(e, RC_BADCSR, RA_PROB_BAD_CSR,
		    "the CSR's names differ from the order's identifiers");
		goto out;
	}
	*out = req;
	req = NULL;
out:
	ca_csr_free(req);
	return rc;
}

/*
 * The checks and the issuance, after the order moved to processing, for
 * the CSR finalize_csr() passed. Fills e on failure; *serial (41 bytes)
 * on success. The CAA evidence goes to f->caa; the order's record commits
 * with the certificate (final_then).
 */
static int
finalize_checks(struct ra *ra, const struct ra_account *acct,
    const struct ra_order *o, struct ca_csr *req, char *serial,
    struct final *f, struct ra_err *e)
{
	struct ca_cert *cert = NULL;
	struct ca_issue_req ir = {0};
	struct rc_detail d = {""};
	char *url = NULL, actor[48];
	const char *ips[CA_MAX_NAMES];
	size_t nips = 0;
	int rc = 0;

	for (size_t i = 0; i < o->nident; i++)
		if (strcmp(o->ident_type[i], "ip") == 0 &&
		    nips < CA_MAX_NAMES)
			ips[nips++] = o->ident[i];
	/* no issuance without validation: a valid authorization of this
	 * account for every name (looked up by processing_tx) */
	for (size_t i = 0; i < o->nident; i++)
		if (i >= CA_MAX_NAMES || !f->authorized[i])
			ra_sub(e, RA_PROB_UNAUTHORIZED, o->ident_type[i],
			    o->ident[i], "no valid authorization of this "
			    "account");
	if (e->nsub_total > 0) {
		rc = ra_fail(e, RC_UNAUTH, RA_PROB_UNAUTHORIZED,
		    "not every identifier has a valid authorization of this "
		    "account");
		goto out;
	}
	/* CAA right before issuance (BR 3.2.2.8); no read snapshot held
	 * over the DNS lookups (it would keep SQLite from checkpointing) */
	store_rq_release(ra->st);
	url = ra_account_url(ra, acct->id);
	for (size_t i = 0; i < o->nident; i++) {
		const char *nm = o->ident[i];
		int wild = nm[0] == '*';
		struct val_result res = {0};

		if (strcmp(o->ident_type[i], "dns") != 0)
			continue;
		(void)caa_check(ra, wild ? nm + 2 : nm, wild, url,
		    f->methods[i], &res);
		caa_append(&f->caa, nm, &res);
		if (res.outcome != VAL_VALID) {
			enum ra_prob p = ra_prob_from_val(res.problem);

			ra_sub(e, p == RA_PROB_NONE ? RA_PROB_CAA : p, "dns",
			    nm, "%s", res.detail[0] ? res.detail
						    : "CAA forbids issuance");
		}
		val_result_clear(&res);
	}
	if (e->nsub_total > 0) {
		rc = ra_fail(e, RC_POLICY, e->nsub == 1 ? e->sub[0].problem
							: RA_PROB_CAA,
		    "CAA does not permit issuance%s%s",
		    e->nsub == 1 ? ": " : " for every name",
		    e->nsub == 1 ? e->sub[0].detail : "");
		goto out;
	}
	if (ra->ca == NULL) {
		rc = ra_internal(e, RC_STATE, "finalize: no CA");
		goto out;
	}
	snprintf(actor, sizeof(actor), "acme:account/%lld",
	    (long long)acct->id);
	ir.profile = CA_PROFILE_DV;
	ir.csr = req;
	/* the CSR's names (equal to the order's dns identifiers, above)
	 * and the order's addresses (equal to the CSR's) */
	ir.ips = ips;
	ir.nips = nips;
	ir.trust_private = ra->conf.trust_private;
	ir.order_id = o->id;
	ir.contract_id = acct->contract_id;
	ir.actor = actor;
	ir.then = final_then;
	ir.then_arg = f;
	/* the order's ACME profile: its validity (0: the calendar's) */
	{
		const struct ra_acme_profile *ap =
		    ra_acme_profile_find(o->acme_profile);

		ir.validity_s = ap != NULL ? ap->validity_s : 0;
	}
	/* the answer to finalize need not wait for the disk: the
	 * certificate goes out only through ra_cert_chain_pem() and the
	 * portal, after store_durable_barrier() */
	ir.defer_sync = 1;
	rc = ca_issue(ra->ca, &ir, &cert, &d);
	if (rc != 0) {
		if (rc == RC_POLICY || rc == RC_LINT || rc == RC_BADNAME ||
		    rc == RC_BADCSR || rc == RC_WEAKKEY || rc == RC_BADKEY)
			rc = ra_fail(e, rc, RA_PROB_BAD_CSR, "%s",
			    d.msg[0] ? d.msg : "the certificate cannot be "
					       "issued");
		else if (rc == RC_UNAVAIL)
			rc = ra_fail(e, rc, RA_PROB_SERVER_INTERNAL, "%s",
			    d.msg);
		else
			rc = ra_internal(e, rc, "finalize: issue");
		goto out;
	}
	memcpy(serial, cert->serial, sizeof(cert->serial));
out:
	free(url);
	ca_cert_free(cert);
	return rc;
}

int
ra_order_finalize(struct ra *ra, int64_t account_id, int64_t order_id,
    const uint8_t *csr, size_t csr_len, struct ra_order *out,
    struct ra_err *err)
{
	struct ra_account acct = {0};
	struct ra_order o = {0};
	struct ra_err e = {0};
	struct final f = {0};
	struct ca_csr *req = NULL;
	json_t *details = NULL;
	char serial[41] = "", *ej = NULL;
	int rc, rc2;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	rc = ra_account_get(ra, account_id, &acct, err);
	if (rc != 0)
		return rc;
	if (acct.status != RA_ST_VALID) {
		rc = ra_fail(err, RC_STATE, RA_PROB_UNAUTHORIZED,
		    "the account is not valid");
		goto out;
	}
	rc = ra_order_get(ra, account_id, order_id, &o, err);
	if (rc != 0)
		goto out;
	if (o.status != RA_ST_READY) {
		rc = ra_fail(err, RC_STATE, RA_PROB_ORDER_NOT_READY,
		    "the order is %s, not ready", ra_status_name(o.status));
		goto out;
	}
	rc = finalize_csr(ra, &acct, &o, csr, csr_len, &req, &e);
	if (rc != 0) {
		/* nothing written: the order stays ready */
		if (err != NULL)
			*err = e;
		log_info(LOG_RA, "order %lld: CSR refused, the order stays "
		    "ready: %s", (long long)order_id, e.detail.msg);
		*out = o;	/* as read, ready */
		memset(&o, 0, sizeof(o));
		goto out;
	}
	f.ra = ra;
	f.id = order_id;
	f.account_id = account_id;
	f.o = &o;
	f.csr = csr != NULL && csr_len > 0 && csr_len <= CA_MAX_CSR ? csr
								     : NULL;
	f.csr_len = csr_len;
	rc = store_tx(ra->st, processing_tx, &f);
	if (rc == RC_STATE) {
		rc = ra_fail(err, rc, RA_PROB_ORDER_NOT_READY,
		    "the order is being finalized already");
		goto out;
	}
	if (rc != 0) {
		rc = ra_internal(err, rc, "finalize: processing");
		goto out;
	}
	details = json_pack("{s:I,s:I}", "order", (json_int_t)order_id,
	    "account", (json_int_t)account_id);
	f.details = details;
	buf_init(&f.caa, STORE_MAX_LONG);
	f.to = "valid";
	rc = finalize_checks(ra, &acct, &o, req, serial, &f, &e);
	if (rc == 0 && !f.recorded) {
		/* ca_issue succeeded only if its then() did */
		rc = ra_internal(&e, RC_STATE, "finalize: not recorded");
	}
	if (rc != 0) {
		if (e.problem == RA_PROB_NONE)
			e.problem = RA_PROB_SERVER_INTERNAL;
		ej = ra_err_json(&e);
		/* a then() that ran in a transaction whose commit failed
		 * named a certificate that was never stored */
		json_object_del(details, "serial");
		f.to = "invalid";
		f.error_json = ej;
		json_object_set_new(details, "error", json_string(ej));
		if (err != NULL)
			*err = e;
		log_info(LOG_RA, "order %lld: finalize refused: %s",
		    (long long)order_id, e.detail.msg);
		rc2 = store_tx(ra->st, final_tx, &f);
		if (rc2 != 0) {
			/* the order stays processing until the recovery
			 * settles it */
			log_err(LOG_RA, "order %lld: cannot record the "
			    "outcome: %s", (long long)order_id, rc_str(rc2));
			goto out;
		}
	}
	if (rc == 0) {
		log_info(LOG_RA, "order %lld: valid, certificate %s",
		    (long long)order_id, serial);
		/* processing -> valid was this request's own conditional
		 * update, committed with the certificate: the order is what
		 * was read with that status and serial, no read needed */
		*out = o;
		memset(&o, 0, sizeof(o));
		out->status = RA_ST_VALID;
		snprintf(out->cert_serial, sizeof(out->cert_serial), "%s",
		    serial);
		goto out;
	}
	(void)ra_order_get(ra, account_id, order_id, out, NULL);
out:
	ca_csr_free(req);
	json_decref(details);
	buf_free(&f.caa);
	free(ej);
	ra_order_clear(&o);
	ra_account_clear(&acct);
	return rc;
}

/* ---- issuance interrupted by a crash or a restart ------------------------ */

/*
 * RFC 8555 leaves an order in processing until the server is done; a
 * server that died in between must still finish. Boulder leaves such an
 * order processing until it expires, and its client waits that long; here
 * it is settled once it has been processing for RA_PROCESSING_STALE
 * seconds, far longer than any finalize takes (several instances may share
 * the database, so a young processing order may be another instance's
 * work in progress). The certificate is stored before the order records
 * it, so a stored one means the issuance happened: the order becomes
 * valid with it. Otherwise nothing was issued and the order becomes
 * invalid with a serverInternal problem; the client's next order reuses
 * its valid authorizations. A portal order's slot moves with it: issued,
 * or back to what it held before the order (ra_portal_order_fail: a
 * renewal's previous certificate, or nothing) for a new setup whose names
 * reuse the contract's valid validations, so no customer is left with a
 * slot stuck "in progress".
 */
struct recover {
	struct ra *ra;
	int64_t id;
	time_t before;
	int settled;
};

static int
recover_tx(struct store *st, void *arg)
{
	struct recover *r = arg;
	struct store_order o = {0};
	struct ra_err e = {0};
	char serial[41] = "", object[48], *ej = NULL, *text = NULL;
	json_t *details = NULL;
	int rc;

	r->settled = 0;
	if ((rc = store_order_get(st, r->id, &o)) != 0)
		goto out;
	/* another worker settled it, or it moved on meanwhile */
	if (o.status == NULL || strcmp(o.status, "processing") != 0 ||
	    o.updated_at >= r->before)
		goto out;
	rc = store_cert_serial_by_order(st, r->id, serial);
	if (rc != 0 && rc != RC_NOTFOUND)
		goto out;
	details = o.slot_id != 0 ?
	    json_pack("{s:I,s:I}", "order", (json_int_t)r->id, "slot",
	    (json_int_t)o.slot_id) :
	    json_pack("{s:I,s:I}", "order", (json_int_t)r->id, "account",
	    (json_int_t)o.account_id);
	if (rc == 0) {
		rc = store_order_set_status(st, r->id, "processing", "valid",
		    NULL, serial, NULL, 0, ra_now(r->ra));
		/* a portal order's slot holds the certificate now */
		if (rc == 0 && o.slot_id != 0)
			rc = store_slot_set_state(st, o.slot_id, "pending",
			    "issued", ra_now(r->ra));
		/* and what it replaces goes after the grace period */
		if (rc == 0 && o.slot_id != 0)
			rc = ra_portal_supersede(r->ra, st, r->id, serial,
			    ra_now(r->ra));
		json_object_set_new(details, "outcome", json_string("valid"));
		json_object_set_new(details, "certificate",
		    json_string(serial));
	} else {
		ra_fail(&e, RC_STATE, RA_PROB_SERVER_INTERNAL,
		    "the issuance was interrupted; please start a new order");
		if (o.slot_id != 0) {
			/* as ra_portal_issue's refusals: the slot takes a
			 * new order (whose names reuse the valid
			 * validations), holding what it held before */
			rc = ra_portal_order_fail(r->ra, st, r->id,
			    "processing", &e, ra_now(r->ra), NULL);
		} else {
			ej = ra_err_json(&e);
			rc = store_order_set_status(st, r->id, "processing",
			    "invalid", ej, NULL, NULL, 0, ra_now(r->ra));
		}
		json_object_set_new(details, "outcome",
		    json_string("invalid"));
	}
	if (rc == RC_STATE)
		rc = 0;		/* the slot moved on already (cancelled) */
	if (rc != 0)
		goto out;
	text = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
	if (text == NULL) {
		rc = RC_NOMEM;
		goto out;
	}
	snprintf(object, sizeof(object), "order:%lld", (long long)r->id);
	rc = store_audit_append(st, "system", o.slot_id != 0 ?
	    "portal.order.recovered" : "acme.order.recovered", object, text);
	if (rc == 0)
		r->settled = serial[0] ? 1 : 2;
out:
	free(text);
	free(ej);
	json_decref(details);
	store_order_clear(&o);
	return rc;
}

int
ra_orders_recover(struct ra *ra, time_t before, size_t *n)
{
	int64_t ids[32];
	size_t k = 0, done = 0, settled;
	int rc;

	if (n != NULL)
		*n = 0;
	if (ra == NULL)
		return RC_INVAL;
	/* batches of 32 while whole batches settle (a batch that settles
	 * nothing, say on a database error, ends it until the next call) */
	do {
		rc = store_order_stale(ra->st, "processing", before, ids,
		    sizeof(ids) / sizeof(ids[0]), &k);
		if (rc != 0)
			return rc;
		settled = 0;
		for (size_t i = 0; i < k; i++) {
			struct recover r = {ra, ids[i], before, 0};

			rc = store_tx(ra->st, recover_tx, &r);
			if (rc != 0) {
				log_err(LOG_RA, "order %lld: cannot settle its "
				    "interrupted issuance: %s",
				    (long long)ids[i], rc_str(rc));
				continue;
			}
			if (r.settled == 0)
				continue;
			settled++;
			log_warn(LOG_RA, "order %lld: issuance was "
			    "interrupted; now %s", (long long)ids[i],
			    r.settled == 1 ? "valid (its certificate was "
			    "stored)" : "invalid (nothing was issued)");
		}
		done += settled;
	} while (k == sizeof(ids) / sizeof(ids[0]) && settled == k);
	if (n != NULL)
		*n = done;
	return 0;
}

/* ---- certificates -------------------------------------------------------- */

/* Lowercase hex serial of 1..40 digits (uppercase accepted) into out. */
static int
serial_ok(const char *s, char out[41])
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strnlen(s, 41);
	if (n == 0 || n > 40)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
		out[i] = c;
	}
	out[n] = '\0';
	return 1;
}

static int
pem_append(struct buf *b, const uint8_t *der, size_t len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int rc = RC_CRYPTO;

	if (bio == NULL)
		return RC_CRYPTO;
	if (PEM_write_bio(bio, "CERTIFICATE", "", der, (long)len) > 0 &&
	    (n = BIO_get_mem_data(bio, &p)) > 0)
		rc = buf_append(b, p, (size_t)n);
	BIO_free(bio);
	return rc;
}

/* 1 when the certificate came from an order of account_id. */
static int
owned_by(struct ra *ra, const struct store_cert *c, int64_t account_id)
{
	struct store_order o;
	int own;

	if (c->order_id == 0 || store_order_get(ra->st, c->order_id, &o) != 0)
		return 0;
	own = o.account_id != 0 && o.account_id == account_id;
	store_order_clear(&o);
	return own;
}

int
ra_cert_chain_pem(struct ra *ra, int64_t account_id, const char *serial,
    char **pem, struct ra_err *err)
{
	struct store_cert c = {0};
	struct store_issuer is = {0};
	struct buf b;
	char s[41];
	int rc;

	if (pem != NULL)
		*pem = NULL;
	if (ra == NULL || pem == NULL || account_id < 0)
		return RC_INVAL;
	buf_init(&b, 4 * STORE_MAX_CERT);
	if (!serial_ok(serial, s)) {
		rc = ra_fail(err, RC_NOTFOUND, RA_PROB_MALFORMED,
		    "no such certificate");
		goto out;
	}
	rc = store_cert_get(ra->st, s, &c);
	if (rc == 0 && account_id != 0 && !owned_by(ra, &c, account_id))
		rc = RC_NOTFOUND;
	if (rc == RC_NOTFOUND) {
		rc = ra_fail(err, rc, RA_PROB_MALFORMED,
		    "no such certificate");
		goto out;
	}
	/* issued moments ago by another request: on disk before it goes
	 * out (its durable commit syncs after the writer lock) */
	if (rc == 0)
		rc = store_durable_barrier(ra->st);
	if (rc == 0)
		rc = store_issuer_get(ra->st, c.issuer_id, &is);
	if (rc == 0)
		rc = pem_append(&b, c.der, c.der_len);
	/* RFC 8555 §9.1: end entity first, then the issuing CAs (not the
	 * root, which clients have) */
	if (rc == 0 && !is.is_root)
		rc = pem_append(&b, is.cert_der, is.cert_len);
	if (rc != 0) {
		rc = ra_internal(err, rc, "certificate chain");
		goto out;
	}
	*pem = (char *)buf_steal(&b, NULL);
out:
	buf_free(&b);
	store_cert_clear(&c);
	store_issuer_clear(&is);
	return rc;
}

/* Lowercase hex of the serial's DER INTEGER contents octets (the store's
 * form). */
static int
cert_serial_hex(X509 *x, char out[41])
{
	const ASN1_INTEGER *ai = X509_get0_serialNumber(x);
	uint8_t *der = NULL, *p;
	size_t hl;
	int n, rc = RC_INVAL;

	n = i2d_ASN1_INTEGER((ASN1_INTEGER *)ai, &der);
	if (n < 3 || der[1] >= 0x80)
		goto out;
	hl = 2;
	p = der + hl;
	if ((size_t)n - hl != der[1] || der[1] > 20)
		goto out;
	hex_encode(p, der[1], out);
	rc = 0;
out:
	OPENSSL_free(der);
	return rc;
}

/* The account holds valid authorizations for every name (names space-
 * separated, "*.x" for wildcards). */
static int
holds_authz(struct ra *ra, int64_t account_id, const char *names)
{
	char *copy = xstrdup(names), *save = NULL, *t;
	time_t now = ra_now(ra);
	time_t since = now - (time_t)ca_cal_dv_reuse_days(now) * 86400;
	int ok = 1, any = 0;

	for (t = strtok_r(copy, " ", &save); t != NULL && ok;
	    t = strtok_r(NULL, " ", &save)) {
		int wild = t[0] == '*';
		int64_t id;

		any = 1;
		if (store_authz_find(ra->st, account_id, ra_ident_type(t),
		    wild ? t + 2 : t, wild, now, since, 0, &id) != 0)
			ok = 0;
	}
	free(copy);
	return ok && any;
}

int
ra_cert_revoke(struct ra *ra, const struct ra_revoke_req *rq,
    struct ra_err *err)
{
	static const int allowed[] = {0, 1, 3, 4, 5};
	struct store_cert c = {0};
	struct ra_account acct = {0};
	struct rc_detail d = {""};
	struct ra_key_notice kn;
	struct ca_block_hook hook;
	const uint8_t *p;
	uint8_t *spki = NULL;
	X509 *x = NULL;
	char serial[41], actor[48], why[CA_KEY_WHY_MAX];
	int rc, n, ok = 0, owner, reason;

	if (ra == NULL || rq == NULL)
		return RC_INVAL;
	reason = rq->reason;
	if ((rq->account_id != 0) == (rq->key_spki != NULL))
		return ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
		    "revocation needs an account or the certificate key");
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (rq->reason == allowed[i])
			ok = 1;
	if (!ok)
		return ra_fail(err, RC_INVAL, RA_PROB_BAD_REVOCATION_REASON,
		    "reason %d is not allowed (0, 1, 3, 4 or 5)", rq->reason);
	if (rq->cert_der == NULL || rq->cert_len == 0 ||
	    rq->cert_len > MAX_CERT_IN)
		return ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
		    "no certificate");
	p = rq->cert_der;
	x = d2i_X509(NULL, &p, (long)rq->cert_len);
	if (x == NULL || p != rq->cert_der + rq->cert_len ||
	    cert_serial_hex(x, serial) != 0) {
		rc = ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
		    "not a DER certificate");
		goto out;
	}
	rc = store_cert_get(ra->st, serial, &c);
	if (rc == 0 && (c.der_len != rq->cert_len ||
	    memcmp(c.der, rq->cert_der, c.der_len) != 0))
		rc = RC_NOTFOUND;
	if (rc == RC_NOTFOUND) {
		rc = ra_fail(err, rc, RA_PROB_MALFORMED,
		    "this certificate was not issued by this CA");
		goto out;
	}
	if (rc != 0) {
		rc = ra_internal(err, rc, "revoke: certificate");
		goto out;
	}
	if (ra->ca == NULL) {
		rc = ra_internal(err, RC_STATE, "revoke: no CA");
		goto out;
	}
	if (rq->key_spki != NULL) {
		n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
		if (n <= 0 || (size_t)n != rq->key_spki_len ||
		    memcmp(spki, rq->key_spki, (size_t)n) != 0) {
			rc = ra_fail(err, RC_UNAUTH, RA_PROB_UNAUTHORIZED,
			    "the request is not signed with the "
			    "certificate's key");
			goto out;
		}
		snprintf(actor, sizeof(actor), "acme:certkey");
		/* whoever can sign with the key holds it: keyCompromise,
		 * whatever was asked (as Boulder's RevokeCertByKey), and the
		 * key is blocked even when the certificate was revoked
		 * already, for another reason. The holder may or may not be
		 * the subscriber: every subscriber of the key's
		 * certificates is told, this one's too (keynotice.c). */
		reason = 1;
		ra_key_notice_init(&kn, ra, RA_KEY_HOLDER, actor, &hook);
		if (c.revoked && ca_key_blocked(ra->st, spki, (size_t)n,
		    why) == 0) {
			size_t others = 0;

			rc = ca_block_key(ra->ca, spki, (size_t)n, actor,
			    "a revocation request signed by the key, for a "
			    "certificate revoked already", &hook, &others, &d);
			if (rc != 0) {
				rc = ra_internal(err, rc, "revoke: block key");
				goto out;
			}
			log_info(LOG_RA, "key of %s blocked by a revocation "
			    "request signed by it: %zu more certificate%s "
			    "revoked, %zu subscriber mail%s queued", serial,
			    others, others == 1 ? "" : "s", kn.mails,
			    kn.mails == 1 ? "" : "s");
		}
	} else {
		rc = ra_account_get(ra, rq->account_id, &acct, err);
		if (rc != 0)
			goto out;
		owner = owned_by(ra, &c, acct.id);
		if (acct.status != RA_ST_VALID ||
		    (!owner && !holds_authz(ra, acct.id, c.names))) {
			rc = ra_fail(err, RC_UNAUTH, RA_PROB_UNAUTHORIZED,
			    "the account may not revoke this certificate");
			goto out;
		}
		snprintf(actor, sizeof(actor), "acme:account/%lld",
		    (long long)acct.id);
		/* an account that holds the names now but did not order the
		 * certificate speaks for the names, not for the subscriber's
		 * key: cessationOfOperation, whatever was asked (BR 7.2.2,
		 * "no longer owns the domain names"; as Boulder), so that it
		 * cannot have a key blocked, and the subscriber's other
		 * certificates of it revoked, by claiming keyCompromise */
		if (!owner)
			reason = 5;
		/* the subscriber's own revocation: told about its other
		 * certificates of the key, not this one */
		ra_key_notice_init(&kn, ra, RA_KEY_SUBSCRIBER, actor, &hook);
	}
	if (c.revoked) {
		rc = ra_fail(err, RC_EXISTS, RA_PROB_ALREADY_REVOKED,
		    "the certificate is already revoked");
		goto out;
	}
	/* keyCompromise: the key's other certificates go too, and their
	 * subscribers are told, in the revocation's transaction */
	rc = ca_revoke(ra->ca, serial, reason, actor, &hook, &d);
	if (rc == RC_EXISTS)
		rc = ra_fail(err, rc, RA_PROB_ALREADY_REVOKED,
		    "the certificate is already revoked");
	else if (rc == RC_INVAL)
		rc = ra_fail(err, rc, RA_PROB_BAD_REVOCATION_REASON, "%s",
		    d.msg);
	else if (rc != 0)
		rc = ra_internal(err, rc, "revoke");
	else
		log_info(LOG_RA, "certificate %s revoked by %s, reason %d "
		    "(asked: %d); %zu subscriber mail%s queued", serial,
		    actor, reason, rq->reason, kn.mails,
		    kn.mails == 1 ? "" : "s");
out:
	OPENSSL_free(spki);
	X509_free(x);
	store_cert_clear(&c);
	ra_account_clear(&acct);
	return rc;
}

/* ---- ARI (RFC 9773) ------------------------------------------------------ */

int
ra_certid_cert(struct ra *ra, const struct ra_certid *id,
    struct store_cert *c)
{
	const ASN1_OCTET_STRING *kid;
	const uint8_t *p;
	X509 *x;
	char hex[41];
	int rc;

	memset(c, 0, sizeof(*c));
	/* a DER INTEGER's contents: minimal and, for our serials, positive */
	if (id == NULL || id->aki == NULL || id->aki_len == 0 ||
	    id->aki_len > 64 || id->serial == NULL || id->serial_len == 0 ||
	    id->serial_len > 20 || (id->serial[0] & 0x80) ||
	    (id->serial_len > 1 && id->serial[0] == 0 &&
	    !(id->serial[1] & 0x80)))
		return RC_NOTFOUND;
	hex_encode(id->serial, id->serial_len, hex);
	rc = store_cert_get(ra->st, hex, c);
	if (rc != 0)
		return rc;
	p = c->der;
	x = d2i_X509(NULL, &p, (long)c->der_len);
	kid = x != NULL ? X509_get0_authority_key_id(x) : NULL;
	if (kid == NULL || (size_t)ASN1_STRING_length(kid) != id->aki_len ||
	    memcmp(ASN1_STRING_get0_data(kid), id->aki, id->aki_len) != 0)
		rc = RC_NOTFOUND;
	X509_free(x);
	if (rc != 0)
		store_cert_clear(c);
	return rc;
}

int
ra_ari_window(struct ra *ra, const uint8_t *aki, size_t aki_len,
    const uint8_t *serial, size_t serial_len, time_t *start, time_t *end,
    struct ra_err *err)
{
	struct ra_certid id = {aki, aki_len, serial, serial_len};
	struct store_cert c = {0};
	time_t now, life;
	int rc;

	if (ra == NULL || start == NULL || end == NULL)
		return RC_INVAL;
	*start = *end = 0;
	rc = ra_certid_cert(ra, &id, &c);
	if (rc == RC_NOTFOUND)
		return ra_fail(err, rc, RA_PROB_MALFORMED,
		    "no such certificate");
	if (rc != 0)
		return ra_internal(err, rc, "renewal info");
	now = ra_now(ra);
	if (c.revoked) {
		/* renew now, as Boulder answers */
		*start = now - 3600;
		*end = now - 1800;
	} else {
		life = c.not_after - c.not_before;
		*start = c.not_before + life / 3 * 2;
		*end = c.not_before + life / 6 * 5;
	}
	store_cert_clear(&c);
	return 0;
}
