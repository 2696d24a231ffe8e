/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/ca/issue.c: dv, ov and ev certificates issued through a
 * real signer into a real store, each checked independently with OpenSSL
 * (signature, chain to the root for TLS servers, policy OID, EKU, KU, SAN,
 * subject, validity against the policy calendar on both sides of the
 * SC-081 dates); the policy refusals (organisation not validated or too
 * old, EV wildcard, names not in the CSR); a failed store keeps the
 * certificate; and the audit record of each issuance.
 */
#include "ca/ca.h"
#include "ca_fixture.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#define BASE CA_FIXTURE_BASE
#define T_2026_01_10 CA_FIXTURE_NOW
#define T_2026_03_14_NOON 1773489600
#define T_2026_03_15_NOON 1773576000
#define T_2027_03_14_NOON 1805025600
#define T_2027_03_15_NOON 1805112000

/* ---- environment: temp dir, store, signer, initialised CA ---------------- */

static void
open_ca(struct ca_fixture *e, time_t now)
{
	ca_free(e->ca);
	e->ca = NULL;
	e->conf.now = now;
	assert_int_equal(ca_open(&e->conf, e->st, e->sg, NULL, &e->ca), 0);
}

/* the CA at T_2026_01_10, OCSP on, and a validated organisation (e->org) */
static int
setup(void **state)
{
	*state = ca_fixture_ca(1);
	return 0;
}

static int
teardown(void **state)
{
	ca_fixture_free(*state);
	return 0;
}

/* ---- CSRs made with OpenSSL ---------------------------------------------- */

/* A CSR of k for cn and sans, with a TLS Feature extension (OpenSSL's
 * syntax, e.g. "status_request") unless tlsf is NULL. */
static struct ca_csr *
make_csr_tlsf(EVP_PKEY *k, const char *cn, const char *sans,
    const char *tlsf)
{
	X509_REQ *r = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	unsigned char *der = NULL;
	struct ca_csr *csr = NULL;
	struct rc_detail d = {""};
	int len;

	if (cn)
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
		    (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(r, n);
	X509_REQ_set_pubkey(r, k);
	sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL,
	    NID_subject_alt_name, sans));
	if (tlsf != NULL)
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL,
		    NID_tlsfeature, tlsf));
	X509_REQ_add_extensions(r, exts);
	assert_true(X509_REQ_sign(r, k, EVP_sha256()) > 0);
	len = i2d_X509_REQ(r, &der);
	assert_true(len > 0);
	if (ca_csr_parse(der, (size_t)len, NULL, &csr, &d) != 0)
		fail_msg("csr: %s", d.msg);
	OPENSSL_free(der);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(n);
	X509_REQ_free(r);
	return csr;
}

static struct ca_csr *
make_csr(EVP_PKEY *k, const char *cn, const char *sans)
{
	return make_csr_tlsf(k, cn, sans, NULL);
}

/* ---- independent checks -------------------------------------------------- */

static X509 *
check_cert(struct ca_fixture *e, const struct ca_cert *c, int profile,
    const char *const *names, size_t nnames)
{
	const unsigned char *p = c->der;
	X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
	X509_STORE *xs;
	X509_STORE_CTX *ctx;
	STACK_OF(X509) *chain = sk_X509_new_null();
	STACK_OF(GENERAL_NAME) *san;
	CERTIFICATEPOLICIES *cp;
	BIGNUM *bn;
	char oid[64], *hex;
	int days, secs;

	assert_non_null(x);
	assert_ptr_equal(p, c->der + c->der_len);
	assert_int_equal(X509_get_version(x), 2);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(e->issuing)), 1);
	assert_int_equal(X509_get_extension_flags(x) & EXFLAG_INVALID, 0);

	/* the chain to the root, for a TLS server, at issuance time */
	xs = X509_STORE_new();
	X509_STORE_add_cert(xs, e->root);
	sk_X509_push(chain, e->issuing);
	ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, xs, x, chain);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx),
	    e->conf.now);
	if (X509_verify_cert(ctx) != 1)
		fail_msg("chain: %s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(xs);
	sk_X509_free(chain);

	/* serial: 16 octets, positive, as reported */
	assert_int_equal(X509_get0_serialNumber(x)->length, 16);
	assert_int_equal(X509_get0_serialNumber(x)->type, V_ASN1_INTEGER);
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	hex = BN_bn2hex(bn);
	for (char *q = hex; *q; q++)
		*q = (char)(*q >= 'A' && *q <= 'F' ? *q - 'A' + 'a' : *q);
	assert_string_equal(hex, c->serial);
	OPENSSL_free(hex);
	BN_free(bn);

	/* validity: exactly ca_cal_validity_days, RFC 5280 inclusive */
	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	    X509_get0_notAfter(x)), 1);
	assert_int_equal((int64_t)days * 86400 + secs + 1,
	    (int64_t)ca_cal_validity_days(e->conf.now) * 86400);
	assert_int_equal(c->not_after - c->not_before + 1,
	    (time_t)ca_cal_validity_days(e->conf.now) * 86400);
	assert_int_equal(c->not_before, e->conf.now - 60);

	/* extensions */
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(e->issuing)), 0);
	assert_non_null(X509_get0_subject_key_id(x));
	cp = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
	assert_int_equal(sk_POLICYINFO_num(cp), 1);
	OBJ_obj2txt(oid, sizeof(oid), sk_POLICYINFO_value(cp, 0)->policyid,
	    1);
	assert_string_equal(oid, profile == CA_PROFILE_DV ? "2.23.140.1.2.1" :
	    profile == CA_PROFILE_OV ? "2.23.140.1.2.2" : "2.23.140.1.1");
	CERTIFICATEPOLICIES_free(cp);
	san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	assert_int_equal((size_t)sk_GENERAL_NAME_num(san), nnames);
	for (size_t i = 0; i < nnames; i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(san, (int)i);

		assert_int_equal(gn->type, GEN_DNS);
		assert_string_equal(
		    (const char *)ASN1_STRING_get0_data(gn->d.dNSName),
		    names[i]);
	}
	GENERAL_NAMES_free(san);
	{
		STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(x,
		    NID_crl_distribution_points, NULL, NULL);
		AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x,
		    NID_info_access, NULL, NULL);
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(
		    sk_DIST_POINT_value(dps, 0)->distpoint->name.fullname, 0);

		assert_string_equal(
		    (const char *)ASN1_STRING_get0_data(gn->d.ia5),
		    BASE "/crl/issuing-1-0.crl");	/* its CRL shard */
		assert_int_equal(sk_ACCESS_DESCRIPTION_num(aia), 2);
		for (int i = 0; i < 2; i++) {
			ACCESS_DESCRIPTION *ad =
			    sk_ACCESS_DESCRIPTION_value(aia, i);
			const char *u = (const char *)ASN1_STRING_get0_data(
			    ad->location->d.ia5);

			if (OBJ_obj2nid(ad->method) == NID_ad_OCSP)
				assert_string_equal(u, BASE "/ocsp");
			else
				assert_string_equal(u,
				    BASE "/ca/issuing-1.der");
		}
		sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
		AUTHORITY_INFO_ACCESS_free(aia);
	}

	/* stored as issued */
	{
		struct store_cert sc;

		memset(&sc, 0, sizeof(sc));
		assert_int_equal(store_cert_get(e->st, c->serial, &sc), 0);
		assert_int_equal(sc.der_len, c->der_len);
		assert_memory_equal(sc.der, c->der, c->der_len);
		assert_string_equal(sc.profile, ca_profile_name(profile));
		assert_int_equal(sc.not_after, c->not_after);
		assert_int_equal(sc.revoked, 0);
		store_cert_clear(&sc);
	}
	return x;
}

static char *
subject_text(X509 *x, int nid)
{
	static char buf[256];

	buf[0] = '\0';
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), nid, buf,
	    sizeof(buf)) < 0)
		return NULL;
	return buf;
}

static int
issue(struct ca_fixture *e, int profile, struct ca_csr *csr,
    const char *const *names, size_t n, const struct store_org *org,
    struct ca_cert **out, struct rc_detail *d)
{
	struct ca_issue_req req;

	memset(&req, 0, sizeof(req));
	memset(d, 0, sizeof(*d));
	req.profile = profile;
	req.csr = csr;
	req.names = names;
	req.nnames = n;
	req.org = org;
	req.order_id = 0;
	req.actor = "test";
	*out = NULL;
	return ca_issue(e->ca, &req, out, d);
}

/* ---- tests --------------------------------------------------------------- */

static void
test_dv(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_csr *csr = make_csr(e->key, "www.example.com",
	    "DNS:www.example.com,DNS:example.com,DNS:*.example.com");
	static const char *const want[] = {"www.example.com", "example.com",
	    "*.example.com"};
	struct ca_cert *c = NULL;
	struct rc_detail d;
	X509 *x;

	if (issue(e, CA_PROFILE_DV, csr, NULL, 0, NULL, &c, &d) != 0)
		fail_msg("issue: %s", d.msg);
	x = check_cert(e, c, CA_PROFILE_DV, want, 3);
	/* BR 7.1.2.7.2: a DV subject is the CN only */
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 1);
	assert_string_equal(subject_text(x, NID_commonName),
	    "www.example.com");
	assert_null(subject_text(x, NID_organizationName));
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	X509_free(x);
	ca_cert_free(c);
	ca_csr_free(csr);
}

/* The TLS Feature of the certificate x: -1 none, else whether it is
 * exactly { status_request } (1) or something else (0); *crit its
 * criticality. */
static int
tls_feature(X509 *x, int *crit)
{
	int i = X509_get_ext_by_NID(x, NID_tlsfeature, -1), ok;
	STACK_OF(ASN1_INTEGER) *f;

	if (i < 0)
		return -1;
	*crit = X509_EXTENSION_get_critical(X509_get_ext(x, i));
	f = X509_get_ext_d2i(x, NID_tlsfeature, NULL, NULL);
	ok = f != NULL && sk_ASN1_INTEGER_num(f) == 1 &&
	    ASN1_INTEGER_get(sk_ASN1_INTEGER_value(f, 0)) == 5;
	sk_ASN1_INTEGER_pop_free(f, ASN1_INTEGER_free);
	return ok;
}

/* OCSP Must-Staple (RFC 7633): asked for in the CSR, carried as a
 * non-critical { status_request }, which the linter accepts; only
 * status_request_v2, or nothing, gives no extension; without OCSP the
 * CSR is refused, and nothing is issued. */
static void
test_must_staple(void **state)
{
	struct ca_fixture *e = *state, *off;
	static const char *const want[] = {"www.example.com"};
	struct ca_csr *csr = make_csr_tlsf(e->key, NULL,
	    "DNS:www.example.com", "status_request");
	struct ca_csr *v2 = make_csr_tlsf(e->key, NULL, "DNS:www.example.com",
	    "status_request_v2");
	struct ca_cert *c = NULL;
	struct rc_detail d;
	int crit = -1;
	X509 *x;

	assert_int_equal(csr->must_staple, 1);
	assert_int_equal(v2->must_staple, 0);
	if (issue(e, CA_PROFILE_DV, csr, NULL, 0, NULL, &c, &d) != 0)
		fail_msg("issue: %s", d.msg);
	x = check_cert(e, c, CA_PROFILE_DV, want, 1);
	assert_int_equal(tls_feature(x, &crit), 1);
	assert_int_equal(crit, 0);
	X509_free(x);
	ca_cert_free(c);
	if (issue(e, CA_PROFILE_DV, v2, NULL, 0, NULL, &c, &d) != 0)
		fail_msg("issue: %s", d.msg);
	x = check_cert(e, c, CA_PROFILE_DV, want, 1);
	assert_int_equal(tls_feature(x, &crit), -1);
	X509_free(x);
	ca_cert_free(c);

	off = ca_fixture_ca(0);
	assert_int_equal(issue(off, CA_PROFILE_DV, csr, NULL, 0, NULL, &c,
	    &d), RC_BADCSR);
	assert_null(c);
	assert_non_null(strstr(d.msg, "Must-Staple"));
	ca_fixture_free(off);
	ca_csr_free(csr);
	ca_csr_free(v2);
}

static void
test_dv_rsa_and_cn_choice(void **state)
{
	struct ca_fixture *e = *state;
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	struct ca_csr *csr = make_csr(rsa, NULL,
	    "DNS:*.example.org,DNS:example.org");
	static const char *const want[] = {"*.example.org", "example.org"};
	struct ca_cert *c = NULL;
	struct rc_detail d;
	X509 *x;

	if (issue(e, CA_PROFILE_DV, csr, NULL, 0, NULL, &c, &d) != 0)
		fail_msg("issue: %s", d.msg);
	x = check_cert(e, c, CA_PROFILE_DV, want, 2);
	/* the CN is the first name that is not a wildcard */
	assert_string_equal(subject_text(x, NID_commonName), "example.org");
	assert_int_equal(X509_get_key_usage(x),
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	X509_free(x);
	ca_cert_free(c);
	ca_csr_free(csr);
	EVP_PKEY_free(rsa);
}

static void
test_ov(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_csr *csr = make_csr(e->key, "shop.example.com",
	    "DNS:shop.example.com,DNS:example.com");
	static const char *const want[] = {"shop.example.com", "example.com"};
	struct ca_cert *c = NULL;
	struct rc_detail d;
	struct store_org org = e->org;
	X509 *x;

	if (issue(e, CA_PROFILE_OV, csr, NULL, 0, &e->org, &c, &d) != 0)
		fail_msg("issue: %s", d.msg);
	x = check_cert(e, c, CA_PROFILE_OV, want, 2);
	/* the subject is the organisation's validated data, nothing else */
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 5);
	assert_string_equal(subject_text(x, NID_organizationName),
	    "Beispiel Handels GmbH");
	assert_string_equal(subject_text(x, NID_countryName), "DE");
	assert_string_equal(subject_text(x, NID_stateOrProvinceName),
	    "Bayern");
	assert_string_equal(subject_text(x, NID_localityName), "München");
	assert_string_equal(subject_text(x, NID_commonName),
	    "shop.example.com");
	assert_null(subject_text(x, NID_businessCategory));
	X509_free(x);
	ca_cert_free(c);

	/* not validated, validated too long ago, no organisation */
	org.validated = 0;
	assert_int_equal(issue(e, CA_PROFILE_OV, csr, NULL, 0, &org, &c, &d),
	    RC_POLICY);
	assert_non_null(strstr(d.msg, "not validated"));
	assert_null(c);
	org = e->org;
	org.validated_at = e->conf.now -
	    (time_t)(ca_cal_org_reuse_days(e->conf.now) + 1) * 86400;
	assert_int_equal(issue(e, CA_PROFILE_OV, csr, NULL, 0, &org, &c, &d),
	    RC_POLICY);
	assert_non_null(strstr(d.msg, "reuse"));
	org.validated_at = e->conf.now -
	    (time_t)(ca_cal_org_reuse_days(e->conf.now) - 1) * 86400;
	assert_int_equal(issue(e, CA_PROFILE_OV, csr, NULL, 0, &org, &c, &d),
	    0);
	ca_cert_free(c);
	assert_int_equal(issue(e, CA_PROFILE_OV, csr, NULL, 0, NULL, &c, &d),
	    RC_POLICY);
	org = e->org;
	org.country = "Germany";
	assert_int_equal(issue(e, CA_PROFILE_OV, csr, NULL, 0, &org, &c, &d),
	    RC_POLICY);
	ca_csr_free(csr);
}

static void
test_ev(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_csr *csr = make_csr(e->key, "www.example.net",
	    "DNS:www.example.net,DNS:example.net");
	struct ca_csr *wild = make_csr(e->key, NULL,
	    "DNS:*.example.net,DNS:example.net");
	static const char *const want[] = {"www.example.net", "example.net"};
	struct ca_cert *c = NULL;
	struct rc_detail d;
	struct store_org org = e->org;
	X509 *x;

	if (issue(e, CA_PROFILE_EV, csr, NULL, 0, &e->org, &c, &d) != 0)
		fail_msg("issue: %s", d.msg);
	x = check_cert(e, c, CA_PROFILE_EV, want, 2);
	assert_string_equal(subject_text(x, NID_businessCategory),
	    "Private Organization");
	assert_string_equal(subject_text(x,
	    NID_jurisdictionCountryName), "DE");
	assert_string_equal(subject_text(x,
	    NID_jurisdictionStateOrProvinceName), "Bayern");
	assert_string_equal(subject_text(x, NID_jurisdictionLocalityName),
	    "München");
	assert_string_equal(subject_text(x, NID_serialNumber), "HRB 123456");
	assert_string_equal(subject_text(x, NID_organizationName),
	    "Beispiel Handels GmbH");
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 10);
	X509_free(x);
	ca_cert_free(c);

	/* EV: no wildcards, EV-level validation required */
	assert_int_equal(issue(e, CA_PROFILE_EV, wild, NULL, 0, &e->org, &c,
	    &d), RC_POLICY);
	assert_non_null(strstr(d.msg, "wildcard"));
	org.ev_validated = 0;
	assert_int_equal(issue(e, CA_PROFILE_EV, csr, NULL, 0, &org, &c, &d),
	    RC_POLICY);
	org = e->org;
	org.registration_number = NULL;
	assert_int_equal(issue(e, CA_PROFILE_EV, csr, NULL, 0, &org, &c, &d),
	    RC_POLICY);
	org.registration_number = "HRB_1";
	assert_int_equal(issue(e, CA_PROFILE_EV, csr, NULL, 0, &org, &c, &d),
	    RC_POLICY);
	assert_non_null(strstr(d.msg, "PrintableString"));
	/* the same organisation is fine for OV with the wildcard */
	assert_int_equal(issue(e, CA_PROFILE_OV, wild, NULL, 0, &e->org, &c,
	    &d), 0);
	ca_cert_free(c);
	ca_csr_free(csr);
	ca_csr_free(wild);
}

static void
test_names(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_csr *csr = make_csr(e->key, "a.example.com",
	    "DNS:a.example.com,DNS:b.example.com,DNS:c.example.com");
	static const char *const pick[] = {"c.example.com", "a.example.com",
	    "c.example.com"};
	static const char *const want[] = {"c.example.com", "a.example.com"};
	static const char *const other[] = {"a.example.com", "d.example.com"};
	static const char *const upper[] = {"A.example.com"};
	const char **many = xcalloc(CA_MAX_NAMES + 1, sizeof(*many));
	struct ca_cert *c = NULL;
	struct rc_detail d;
	X509 *x;

	/* exactly the requested names, deduplicated, in order */
	if (issue(e, CA_PROFILE_DV, csr, pick, 3, NULL, &c, &d) != 0)
		fail_msg("issue: %s", d.msg);
	x = check_cert(e, c, CA_PROFILE_DV, want, 2);
	assert_string_equal(subject_text(x, NID_commonName), "c.example.com");
	X509_free(x);
	ca_cert_free(c);

	assert_int_equal(issue(e, CA_PROFILE_DV, csr, other, 2, NULL, &c, &d),
	    RC_POLICY);
	assert_non_null(strstr(d.msg, "d.example.com"));
	assert_null(c);
	assert_int_equal(issue(e, CA_PROFILE_DV, csr, upper, 1, NULL, &c, &d),
	    RC_POLICY);
	assert_int_equal(issue(e, CA_PROFILE_DV, csr, pick, 0, NULL, &c, &d),
	    RC_POLICY);
	for (int i = 0; i <= CA_MAX_NAMES; i++)
		many[i] = "a.example.com";
	assert_int_equal(issue(e, CA_PROFILE_DV, csr, many, CA_MAX_NAMES + 1,
	    NULL, &c, &d), RC_POLICY);
	assert_int_equal(issue(e, 7, csr, NULL, 0, NULL, &c, &d), RC_POLICY);
	free(many);
	ca_csr_free(csr);
}

static void
test_long_names(void **state)
{
	struct ca_fixture *e = *state;
	/* a name over the 64 characters of a CN: an empty subject and a
	 * critical SAN (RFC 5280 4.2.1.6) */
	const char *n = "a-very-long-label-that-goes-on-and-on-and-on."
	    "and-on-again.example.com";
	char *sans = xasprintf("DNS:%s", n);
	struct ca_csr *csr = make_csr(e->key, NULL, sans);
	struct ca_cert *c = NULL;
	struct rc_detail d;
	X509 *x;

	assert_true(strlen(n) > 64);
	if (issue(e, CA_PROFILE_DV, csr, NULL, 0, NULL, &c, &d) != 0)
		fail_msg("issue: %s", d.msg);
	x = check_cert(e, c, CA_PROFILE_DV, &n, 1);
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(x,
	    X509_get_ext_by_NID(x, NID_subject_alt_name, -1))), 1);
	X509_free(x);
	ca_cert_free(c);
	ca_csr_free(csr);
	free(sans);
}

static void
test_calendar(void **state)
{
	struct ca_fixture *e = *state;
	static const struct {
		time_t now;
		int days;
	} when[] = {
		{T_2026_03_14_NOON, 397},
		{T_2026_03_15_NOON, 199},
		{T_2027_03_14_NOON, 199},
		{T_2027_03_15_NOON, 99},
	};
	struct ca_csr *csr = make_csr(e->key, "cal.example.com",
	    "DNS:cal.example.com");
	static const char *const want[] = {"cal.example.com"};

	for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
		struct ca_cert *c = NULL;
		struct rc_detail d;
		X509 *x;

		open_ca(e, when[i].now);
		assert_int_equal(ca_cal_validity_days(when[i].now),
		    when[i].days);
		if (issue(e, CA_PROFILE_DV, csr, NULL, 0, NULL, &c, &d) != 0)
			fail_msg("issue at %lld: %s",
			    (long long)when[i].now, d.msg);
		assert_int_equal(c->not_after - c->not_before + 1,
		    (time_t)when[i].days * 86400);
		x = check_cert(e, c, CA_PROFILE_DV, want, 1);
		X509_free(x);
		ca_cert_free(c);
	}
	ca_csr_free(csr);
}

/* validity_s (a short-lived ACME profile): shorter than the calendar's
 * validity is honoured to the second; longer is cut to the calendar's */
static void
test_validity_s(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_csr *csr = make_csr(e->key, "short.example.com",
	    "DNS:short.example.com");
	static const char *const want[] = {"short.example.com"};
	static const struct {
		long ask;
		time_t got;
	} v[] = {
		{160 * 3600L, 160 * 3600},
		{1, 1},
		{400 * 86400L, 397 * 86400},	/* 2026-01-10: 397 days */
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ca_issue_req req;
		struct ca_cert *c = NULL;
		struct rc_detail d = {""};
		X509 *x;

		memset(&req, 0, sizeof(req));
		req.profile = CA_PROFILE_DV;
		req.csr = csr;
		req.actor = "test";
		req.validity_s = v[i].ask;
		if (ca_issue(e->ca, &req, &c, &d) != 0)
			fail_msg("issue for %ld s: %s", v[i].ask, d.msg);
		assert_int_equal(c->not_after - c->not_before + 1, v[i].got);
		{
			const unsigned char *p = c->der;
			int days, secs;

			x = d2i_X509(NULL, &p, (long)c->der_len);
			assert_non_null(x);
			assert_int_equal(ASN1_TIME_diff(&days, &secs,
			    X509_get0_notBefore(x), X509_get0_notAfter(x)), 1);
			assert_int_equal((int64_t)days * 86400 + secs + 1,
			    (int64_t)v[i].got);
			X509_free(x);
		}
		if (v[i].got == 397 * 86400) {
			x = check_cert(e, c, CA_PROFILE_DV, want, 1);
			X509_free(x);
		}
		ca_cert_free(c);
	}
	ca_csr_free(csr);
}

static void
test_store_failure(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_csr *csr = make_csr(e->key, "x.example.com",
	    "DNS:x.example.com");
	struct ca_issue_req req;
	/* must become NULL */
	struct ca_cert *c = (struct ca_cert *)&req;
	struct rc_detail d = {""};
	int rc;

	memset(&req, 0, sizeof(req));
	req.profile = CA_PROFILE_DV;
	req.csr = csr;
	req.contract_id = 987654;	/* no such contract */
	req.actor = "test";
	rc = ca_issue(e->ca, &req, &c, &d);
	assert_int_equal(rc, RC_DB);
	assert_null(c);
	assert_non_null(strstr(d.msg, "storing"));
	ca_csr_free(csr);
}

struct issued {
	int n;
	char sha[65];
	char serial[41];
	int found;
};

struct then_seen {
	int calls, rc;
	char serial[41];
};

/* A then() that records its call and answers rc after writing nothing. */
static int
then_cb(struct store *st, const char *serial, void *arg)
{
	struct then_seen *t = arg;

	assert_non_null(st);
	t->calls++;
	snprintf(t->serial, sizeof(t->serial), "%s", serial);
	return t->rc;
}

static int
count_issue(const struct store_audit_entry *a, void *arg)
{
	if (strcmp(a->action, "cert.issue") == 0)
		(*(int *)arg)++;
	return 0;
}

/* ca_issue_req.then runs in the issuance's transaction with the new
 * serial; its failure undoes the issuance: no certificate, no audit entry,
 * the caller's error. */
static void
test_then(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_csr *csr = make_csr(e->key, "then.example.com",
	    "DNS:then.example.com");
	struct then_seen t = {0, 0, ""};
	struct ca_issue_req req;
	struct ca_cert *c = NULL;
	struct store_cert sc;
	struct rc_detail d = {""};
	int before = 0, after = 0;

	memset(&req, 0, sizeof(req));
	req.profile = CA_PROFILE_DV;
	req.csr = csr;
	req.actor = "test";
	req.then = then_cb;
	req.then_arg = &t;
	assert_int_equal(ca_issue(e->ca, &req, &c, &d), 0);
	assert_int_equal(t.calls, 1);
	assert_string_equal(t.serial, c->serial);
	assert_int_equal(store_cert_get(e->st, c->serial, &sc), 0);
	store_cert_clear(&sc);
	ca_cert_free(c);
	c = NULL;

	assert_int_equal(store_audit_list(e->st, 1, count_issue, &before), 0);
	t.rc = RC_STATE;
	assert_int_equal(ca_issue(e->ca, &req, &c, &d), RC_DB);
	assert_null(c);
	assert_int_equal(t.calls, 2);
	assert_int_equal(store_cert_get(e->st, t.serial, &sc), RC_NOTFOUND);
	assert_int_equal(store_audit_list(e->st, 1, count_issue, &after), 0);
	assert_int_equal(after, before);
	ca_csr_free(csr);
}

static int
find_issue(const struct store_audit_entry *a, void *arg)
{
	struct issued *is = arg;

	if (strcmp(a->action, "cert.issue") != 0)
		return 0;
	is->n++;
	if (strcmp(a->object, is->serial) == 0) {
		assert_string_equal(a->actor, "test");
		assert_non_null(strstr(a->details, is->sha));
		assert_non_null(strstr(a->details, "\"profile\":\"dv\""));
		assert_non_null(strstr(a->details,
		    "\"names\":[\"audit.example.com\"]"));
		assert_non_null(strstr(a->details, "\"issuer\":\"issuing-1\""));
		assert_non_null(strstr(a->details, "\"order_id\":0"));
		is->found = 1;
	}
	return 0;
}

static void
test_audit(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_csr *csr = make_csr(e->key, NULL, "DNS:audit.example.com");
	struct ca_cert *c = NULL;
	struct rc_detail d;
	struct issued is;
	uint8_t h[32];
	int64_t count = 0, bad = -1;

	memset(&is, 0, sizeof(is));
	assert_int_equal(issue(e, CA_PROFILE_DV, csr, NULL, 0, NULL, &c, &d),
	    0);
	SHA256(c->der, c->der_len, h);
	hex_encode(h, sizeof(h), is.sha);
	memcpy(is.serial, c->serial, sizeof(is.serial));
	assert_int_equal(store_audit_list(e->st, 1, find_issue, &is), 0);
	assert_int_equal(is.n, 1);
	assert_int_equal(is.found, 1);
	assert_int_equal(store_audit_verify(e->st, &count, &bad), 0);
	ca_cert_free(c);
	ca_csr_free(csr);
}

static void
test_bad_args(void **state)
{
	struct ca_fixture *e = *state;
	struct ca_issue_req req;
	struct ca_cert *c = NULL;
	struct rc_detail d;

	memset(&req, 0, sizeof(req));
	req.profile = CA_PROFILE_DV;
	assert_int_equal(ca_issue(e->ca, &req, &c, &d), RC_INVAL);
	assert_int_equal(ca_issue(NULL, &req, &c, &d), RC_INVAL);
	assert_int_equal(ca_issue(e->ca, NULL, &c, NULL), RC_INVAL);
	assert_null(c);
	ca_cert_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dv_rsa_and_cn_choice,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_must_staple, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ov, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ev, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_calendar, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_validity_s, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_store_failure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_then, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
