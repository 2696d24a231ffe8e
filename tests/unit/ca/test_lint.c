/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/ca/lint.c (and the builder in tbs.c it checks): valid
 * dv/ov/ev TBSCertificates pass and, signed with the test issuer's key,
 * are accepted by OpenSSL; each deliberately broken TBS is refused with
 * RC_LINT naming the expected check; every truncation is refused without a
 * crash; the dNSName and SPKI checks and the DER writer on their own.
 *
 * No store and no signer: the issuer is a CA certificate made here with
 * OpenSSL, independently of the code under test.
 */
#include "ca/ca.h"
#include "ca/ca_int.h"
#include "ca/keycheck_int.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/der.h"
#include "util/xmalloc.h"

#include <openssl/evp.h>
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
#include <cmocka.h>

#define BASE "http://ca.example.test"

/* ---- an issuer made with OpenSSL ----------------------------------------- */

struct issuer {
	EVP_PKEY *key;
	uint8_t *der;
	size_t len;
};

static void
make_issuer(struct issuer *is, const char *curve, const char *cn, time_t now)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	unsigned char *p = NULL;
	int len;

	is->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
	assert_non_null(is->key);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
	    (const unsigned char *)"DE", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
	    (const unsigned char *)"Test CA", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &now);
	X509_time_adj_ex(X509_getm_notAfter(x), 3650, 0, &now);
	X509_set_pubkey(x, is->key);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    "critical,CA:TRUE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_key_usage,
	    "critical,keyCertSign,cRLSign");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier,
	    "hash");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	assert_true(X509_sign(x, is->key, strcmp(curve, "P-384") == 0 ?
	    EVP_sha384() : EVP_sha256()) > 0);
	len = i2d_X509(x, &p);
	assert_true(len > 0);
	is->der = xmemdup(p, (size_t)len);
	is->len = (size_t)len;
	OPENSSL_free(p);
	X509_NAME_free(n);
	X509_free(x);
}

static void
free_issuer(struct issuer *is)
{
	EVP_PKEY_free(is->key);
	free(is->der);
}

static uint8_t *
spki_of(EVP_PKEY *k, size_t *len)
{
	unsigned char *p = NULL;
	int n = i2d_PUBKEY(k, &p);
	uint8_t *r;

	assert_true(n > 0);
	r = xmemdup(p, (size_t)n);
	OPENSSL_free(p);
	*len = (size_t)n;
	return r;
}

/* ---- fixture ------------------------------------------------------------- */

struct fx {
	time_t now;
	struct issuer is, other, twin;
	struct ca_iss iss;
	EVP_PKEY *ec, *rsa;
	uint8_t *ec_spki, *rsa_spki;
	size_t ec_spki_len, rsa_spki_len;
	struct store_org org;
	uint8_t serial[16];
	const char *names[3];
	struct ca_dw w;
};

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct ca_issuer_info info;
	const uint8_t *alg;
	size_t alg_len;

	f->now = 1767225600;	/* 2026-01-01 */
	make_issuer(&f->is, "P-256", "Test Issuing CA", f->now);
	make_issuer(&f->other, "P-256", "Another CA", f->now);
	/* same subject, another key: AKI must catch it */
	make_issuer(&f->twin, "P-256", "Test Issuing CA", f->now);
	assert_int_equal(ca_issuer_info_parse(f->is.der, f->is.len, &info), 0);
	assert_int_equal(info.keytype, SIGNER_KEY_EC_P256);
	alg = ca_sigalg_expected(info.keytype, &alg_len);
	assert_int_equal(ca_iss_load(&f->iss, 7, "issuing-1", 0, f->is.der,
	    f->is.len, alg, alg_len, BASE, 1), 0);
	f->ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	f->rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	assert_non_null(f->ec);
	assert_non_null(f->rsa);
	f->ec_spki = spki_of(f->ec, &f->ec_spki_len);
	f->rsa_spki = spki_of(f->rsa, &f->rsa_spki_len);
	f->org.legal_name = "Example GmbH";
	f->org.country = "DE";
	f->org.state = "Bayern";
	f->org.locality = "München";
	f->org.business_category = "Private Organization";
	f->org.jurisdiction_country = "DE";
	f->org.jurisdiction_locality = "München";
	f->org.registration_number = "HRB 12345";
	f->org.validated = 1;
	f->org.ev_validated = 1;
	f->org.validated_at = f->now - 86400;
	for (int i = 0; i < 16; i++)
		f->serial[i] = (uint8_t)(0x11 * (i + 1));
	f->serial[0] = 0x3c;
	f->names[0] = "www.example.com";
	f->names[1] = "example.com";
	f->names[2] = "*.example.com";
	ca_dw_init(&f->w, 1024 * 1024);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	ca_dw_free(&f->w);
	ca_iss_clear(&f->iss);
	free_issuer(&f->is);
	free_issuer(&f->other);
	free_issuer(&f->twin);
	EVP_PKEY_free(f->ec);
	EVP_PKEY_free(f->rsa);
	free(f->ec_spki);
	free(f->rsa_spki);
	free(f);
	return 0;
}

/* A valid request of the profile; tests then break one thing. */
static struct ca_tbs
good(struct fx *f, int profile)
{
	struct ca_tbs t;

	memset(&t, 0, sizeof(t));
	t.profile = profile;
	t.serial = f->serial;
	t.serial_len = sizeof(f->serial);
	t.not_before = f->now - 60;
	t.not_after = t.not_before +
	    (time_t)ca_cal_validity_days(f->now) * 86400 - 1;
	t.names = f->names;
	t.nnames = profile == CA_PROFILE_EV ? 2 : 3;
	t.cn = f->names[0];
	t.org = profile == CA_PROFILE_DV ? NULL : &f->org;
	t.spki = f->ec_spki;
	t.spki_len = f->ec_spki_len;
	t.key_is_ec = 1;
	return t;
}

static int
lint(struct fx *f, const struct ca_tbs *t, int profile, const uint8_t *iss,
    size_t iss_len, struct rc_detail *d)
{
	ca_dw_reset(&f->w);
	ca_tbs_build(&f->w, &f->iss, t);
	assert_int_equal(f->w.rc, 0);
	memset(d, 0, sizeof(*d));
	return ca_lint_tbs(f->w.b.data, f->w.b.len, profile,
	    iss ? iss : f->is.der, iss ? iss_len : f->is.len, f->now, d);
}

static void
expect_lint(struct fx *f, const struct ca_tbs *t, int profile,
    const char *check)
{
	struct rc_detail d;
	int rc = lint(f, t, profile, NULL, 0, &d);

	if (rc != RC_LINT || strstr(d.msg, check) == NULL)
		fail_msg("expected %s, got rc %d: %s", check, rc, d.msg);
	assert_true(strncmp(d.msg, "lint: ", 6) == 0);
}

/* expect_lint() for t built with a variant of f's issuer: signing with the
 * algorithm of keytype (0: the issuer's own), CRL and AIA URIs under base,
 * an OCSP URI in the AIA when ocsp; linted against f's issuer. */
static void
expect_lint_iss(struct fx *f, int keytype, const char *base, int ocsp,
    const struct ca_tbs *t, const char *check)
{
	struct ca_issuer_info info;
	struct ca_iss iss;
	struct rc_detail d;
	const uint8_t *alg;
	size_t alg_len;
	int rc;

	assert_int_equal(ca_issuer_info_parse(f->is.der, f->is.len, &info), 0);
	alg = ca_sigalg_expected(keytype ? keytype : info.keytype, &alg_len);
	assert_int_equal(ca_iss_load(&iss, 7, "issuing-1", 0, f->is.der,
	    f->is.len, alg, alg_len, base, ocsp), 0);
	ca_dw_reset(&f->w);
	ca_tbs_build(&f->w, &iss, t);
	memset(&d, 0, sizeof(d));
	rc = ca_lint_tbs(f->w.b.data, f->w.b.len, t->profile, f->is.der,
	    f->is.len, f->now, &d);
	if (rc != RC_LINT || strstr(d.msg, check) == NULL)
		fail_msg("expected %s, got rc %d: %s", check, rc, d.msg);
	ca_iss_clear(&iss);
}

/* Signs the TBS in f->w with the issuer's key into a certificate. */
static X509 *
sign_tbs(struct fx *f)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[256];
	size_t sig_len = sizeof(sig);
	struct ca_dw c;
	const unsigned char *p;
	X509 *x;

	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
	    f->is.key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &sig_len, f->w.b.data,
	    f->w.b.len), 1);
	EVP_MD_CTX_free(md);
	ca_dw_init(&c, 1024 * 1024);
	ca_signed_build(&c, f->w.b.data, f->w.b.len, f->iss.sigalg,
	    f->iss.sigalg_len, sig, sig_len);
	assert_int_equal(c.rc, 0);
	p = c.b.data;
	x = d2i_X509(NULL, &p, (long)c.b.len);
	assert_non_null(x);
	assert_ptr_equal(p, c.b.data + c.b.len);
	ca_dw_free(&c);
	return x;
}

/* ---- valid certificates -------------------------------------------------- */

static void
check_openssl(struct fx *f, X509 *x, int profile)
{
	const unsigned char *ip = f->is.der;
	X509 *issuer = d2i_X509(NULL, &ip, (long)f->is.len);
	STACK_OF(GENERAL_NAME) *san;
	CERTIFICATEPOLICIES *cp;
	char oid[64];

	assert_non_null(issuer);
	assert_int_equal(X509_verify(x, f->is.key), 1);
	assert_int_equal(X509_check_issued(issuer, x), X509_V_OK);
	assert_int_equal(X509_get_extension_flags(x) & EXFLAG_INVALID, 0);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
	san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	assert_non_null(san);
	assert_int_equal(sk_GENERAL_NAME_num(san),
	    profile == CA_PROFILE_EV ? 2 : 3);
	GENERAL_NAMES_free(san);
	cp = X509_get_ext_d2i(x, NID_certificate_policies, NULL, NULL);
	assert_non_null(cp);
	assert_int_equal(sk_POLICYINFO_num(cp), 1);
	OBJ_obj2txt(oid, sizeof(oid), sk_POLICYINFO_value(cp, 0)->policyid,
	    1);
	assert_string_equal(oid, profile == CA_PROFILE_DV ? "2.23.140.1.2.1" :
	    profile == CA_PROFILE_OV ? "2.23.140.1.2.2" : "2.23.140.1.1");
	CERTIFICATEPOLICIES_free(cp);
	/* SKI is RFC 5280 method 1, AKI the issuer's SKI */
	{
		const unsigned char *kb;
		int kl;
		unsigned char h[20];
		const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);

		assert_int_equal(X509_PUBKEY_get0_param(NULL, &kb, &kl, NULL,
		    X509_get_X509_PUBKEY(x)), 1);
		SHA1(kb, (size_t)kl, h);
		assert_non_null(ski);
		assert_int_equal(ASN1_STRING_length(ski), 20);
		assert_memory_equal(ASN1_STRING_get0_data(ski), h, 20);
	}
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(issuer)), 0);
	X509_free(issuer);
}

static void
test_valid_profiles(void **state)
{
	struct fx *f = *state;
	struct rc_detail d;
	int profiles[] = {CA_PROFILE_DV, CA_PROFILE_OV, CA_PROFILE_EV};

	for (int i = 0; i < 3; i++) {
		struct ca_tbs t = good(f, profiles[i]);
		X509 *x;
		X509_NAME *n;

		assert_int_equal(lint(f, &t, profiles[i], NULL, 0, &d), 0);
		x = sign_tbs(f);
		check_openssl(f, x, profiles[i]);
		n = X509_get_subject_name(x);
		if (profiles[i] == CA_PROFILE_DV) {
			assert_int_equal(X509_NAME_entry_count(n), 1);
		} else {
			char o[64];

			assert_true(X509_NAME_get_text_by_NID(n,
			    NID_organizationName, o, sizeof(o)) > 0);
			assert_string_equal(o, "Example GmbH");
			assert_int_equal(X509_NAME_entry_count(n),
			    profiles[i] == CA_PROFILE_OV ? 5 : 9);
		}
		X509_free(x);
	}
}

static void
test_valid_rsa(void **state)
{
	struct fx *f = *state;
	struct ca_tbs t = good(f, CA_PROFILE_DV);
	struct rc_detail d;
	X509 *x;

	t.spki = f->rsa_spki;
	t.spki_len = f->rsa_spki_len;
	t.key_is_ec = 0;
	assert_int_equal(lint(f, &t, CA_PROFILE_DV, NULL, 0, &d), 0);
	x = sign_tbs(f);
	assert_int_equal(X509_get_key_usage(x),
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	X509_free(x);
	/* an EC key with keyEncipherment is wrong */
	t.spki = f->ec_spki;
	t.spki_len = f->ec_spki_len;
	expect_lint(f, &t, CA_PROFILE_DV, "e_key_usage_incorrect_for_key_type");
}

static void
test_validity(void **state)
{
	struct fx *f = *state;
	struct ca_tbs t = good(f, CA_PROFILE_DV);
	struct rc_detail d;
	int max = ca_cal_max_validity_days(t.not_before);

	/* exactly the maximum passes, one day (or one second) more fails */
	t.not_after = t.not_before + (time_t)max * 86400 - 1;
	assert_int_equal(lint(f, &t, CA_PROFILE_DV, NULL, 0, &d), 0);
	t.not_after = t.not_before + (time_t)(max + 1) * 86400 - 1;
	expect_lint(f, &t, CA_PROFILE_DV, "e_sub_cert_valid_time_too_long");
	t.not_after = t.not_before + (time_t)max * 86400;
	expect_lint(f, &t, CA_PROFILE_DV, "e_sub_cert_valid_time_too_long");
	t = good(f, CA_PROFILE_DV);
	t.not_before = f->now + 3600;
	expect_lint(f, &t, CA_PROFILE_DV, "e_not_before_out_of_range");
	t.not_before = f->now - 49 * 3600;
	expect_lint(f, &t, CA_PROFILE_DV, "e_not_before_out_of_range");
	t = good(f, CA_PROFILE_DV);
	t.not_after = t.not_before - 1;
	expect_lint(f, &t, CA_PROFILE_DV, "e_validity_time_negative");
}

static void
test_eku(void **state)
{
	struct fx *f = *state;
	struct ca_tbs t = good(f, CA_PROFILE_DV);
	struct ca_dw x;
	size_t m, inner, seq;
	static const uint8_t eku_oid[] = {0x55, 0x1d, 0x25};

	t.omit = CA_EXT_EKU;
	expect_lint(f, &t, CA_PROFILE_DV, "e_sub_cert_eku_missing");

	/* serverAuth + clientAuth */
	ca_dw_init(&x, 4096);
	m = ca_dw_open(&x, DER_SEQUENCE);
	ca_dw_tlv(&x, DER_OID, eku_oid, sizeof(eku_oid));
	inner = ca_dw_open(&x, DER_OCTETSTRING);
	seq = ca_dw_open(&x, DER_SEQUENCE);
	ca_dw_tlv(&x, DER_OID, CA_OID(ca_oid_server_auth));
	ca_dw_tlv(&x, DER_OID, CA_OID(ca_oid_client_auth));
	ca_dw_close(&x, seq);
	ca_dw_close(&x, inner);
	ca_dw_close(&x, m);
	t.extra_ext = x.b.data;
	t.extra_ext_len = x.b.len;
	expect_lint(f, &t, CA_PROFILE_DV, "e_sub_cert_eku_extra_values");

	/* clientAuth only */
	ca_dw_reset(&x);
	m = ca_dw_open(&x, DER_SEQUENCE);
	ca_dw_tlv(&x, DER_OID, eku_oid, sizeof(eku_oid));
	inner = ca_dw_open(&x, DER_OCTETSTRING);
	seq = ca_dw_open(&x, DER_SEQUENCE);
	ca_dw_tlv(&x, DER_OID, CA_OID(ca_oid_client_auth));
	ca_dw_close(&x, seq);
	ca_dw_close(&x, inner);
	ca_dw_close(&x, m);
	t.extra_ext = x.b.data;
	t.extra_ext_len = x.b.len;
	expect_lint(f, &t, CA_PROFILE_DV, "e_sub_cert_eku_server_auth_missing");
	ca_dw_free(&x);
}

static void
test_detail_text(void **state)
{
	struct fx *f = *state;
	struct ca_tbs t = good(f, CA_PROFILE_DV);
	struct ca_dw x;
	struct rc_detail d;
	size_t m, inner, seq;
	static const uint8_t eku_oid[] = {0x55, 0x1d, 0x25};

	ca_dw_init(&x, 4096);
	m = ca_dw_open(&x, DER_SEQUENCE);
	ca_dw_tlv(&x, DER_OID, eku_oid, sizeof(eku_oid));
	inner = ca_dw_open(&x, DER_OCTETSTRING);
	seq = ca_dw_open(&x, DER_SEQUENCE);
	ca_dw_tlv(&x, DER_OID, CA_OID(ca_oid_server_auth));
	ca_dw_tlv(&x, DER_OID, CA_OID(ca_oid_client_auth));
	ca_dw_close(&x, seq);
	ca_dw_close(&x, inner);
	ca_dw_close(&x, m);
	t.omit = CA_EXT_EKU;
	t.extra_ext = x.b.data;
	t.extra_ext_len = x.b.len;
	assert_int_equal(lint(f, &t, CA_PROFILE_DV, NULL, 0, &d), RC_LINT);
	assert_string_equal(d.msg, "lint: e_sub_cert_eku_extra_values: "
	    "extKeyUsage has values other than serverAuth");
	ca_dw_free(&x);
}

static void
test_basic_constraints(void **state)
{
	struct fx *f = *state;
	struct ca_tbs t = good(f, CA_PROFILE_DV);
	struct ca_dw x;

	ca_dw_init(&x, 4096);
	ca_ext_bc(&x, 1000);	/* cA TRUE */
	t.omit = CA_EXT_BC;
	t.extra_ext = x.b.data;
	t.extra_ext_len = x.b.len;
	expect_lint(f, &t, CA_PROFILE_DV, "e_sub_cert_not_is_ca");
	ca_dw_reset(&x);
	ca_ext_bc(&x, 0);	/* cA TRUE, pathLen 0 */
	t.extra_ext = x.b.data;
	t.extra_ext_len = x.b.len;
	expect_lint(f, &t, CA_PROFILE_DV, "e_sub_cert_not_is_ca");
	t.extra_ext = NULL;
	expect_lint(f, &t, CA_PROFILE_DV,
	    "e_sub_cert_basic_constraints_missing");
	/* keyCertSign in a subscriber certificate */
	ca_dw_reset(&x);
	ca_ext_ku(&x, 0x86);
	t.omit = CA_EXT_KU;
	t.extra_ext = x.b.data;
	t.extra_ext_len = x.b.len;
	expect_lint(f, &t, CA_PROFILE_DV,
	    "e_sub_cert_key_usage_cert_sign_bit_set");
	t.extra_ext = NULL;
	expect_lint(f, &t, CA_PROFILE_DV, "e_sub_cert_key_usage_missing");
	ca_dw_free(&x);
}

static void
test_subject(void **state)
{
	struct fx *f = *state;
	struct ca_tbs t = good(f, CA_PROFILE_DV);
	struct ca_dw s;
	struct store_org bad;

	/* DV subject with O */
	ca_dw_init(&s, 4096);
	ca_subject_build(&s, CA_PROFILE_OV, f->names[0], &f->org);
	t.subject_raw = s.b.data;
	t.subject_raw_len = s.b.len;
	expect_lint(f, &t, CA_PROFILE_DV, "e_cab_dv_conflicts_with_org");

	/* OV without organisation */
	t = good(f, CA_PROFILE_OV);
	ca_dw_reset(&s);
	ca_subject_build(&s, CA_PROFILE_DV, f->names[0], NULL);
	t.subject_raw = s.b.data;
	t.subject_raw_len = s.b.len;
	expect_lint(f, &t, CA_PROFILE_OV, "e_cab_ov_requires_org");
	/* OV subject linted as EV lacks the EV fields */
	t = good(f, CA_PROFILE_OV);
	t.nnames = 2;
	expect_lint(f, &t, CA_PROFILE_EV, "e_ev_business_category_missing");
	/* EV fields in an OV certificate */
	t = good(f, CA_PROFILE_EV);
	expect_lint(f, &t, CA_PROFILE_OV, "e_cab_ov_subject_invalid_values");

	/* bad values */
	bad = f->org;
	bad.country = "de";
	t = good(f, CA_PROFILE_OV);
	t.org = &bad;
	expect_lint(f, &t, CA_PROFILE_OV, "e_subject_country_not_iso");
	bad = f->org;
	bad.legal_name = " Example";
	t.org = &bad;
	expect_lint(f, &t, CA_PROFILE_OV, "e_subject_value_whitespace");
	bad = f->org;
	bad.locality = "Bad\x01Town";
	expect_lint(f, &t, CA_PROFILE_OV, "e_subject_utf8_invalid");
	bad = f->org;
	bad.legal_name = "An Organisation Name That Is Far Too Long For The "
	    "Sixty-Four Character Limit";
	expect_lint(f, &t, CA_PROFILE_OV, "e_subject_value_too_long");
	bad = f->org;
	bad.registration_number = "HRB_12345";	/* '_' not printable */
	t = good(f, CA_PROFILE_EV);
	t.org = &bad;
	expect_lint(f, &t, CA_PROFILE_EV,
	    "e_subject_printable_string_badalpha");

	/* duplicate attribute: CN twice */
	ca_dw_reset(&s);
	{
		size_t name = ca_dw_open(&s, DER_SEQUENCE);

		for (int i = 0; i < 2; i++) {
			size_t set = ca_dw_open(&s, DER_SET);
			size_t seq = ca_dw_open(&s, DER_SEQUENCE);

			ca_dw_tlv(&s, DER_OID, CA_OID(ca_oid_cn));
			ca_dw_tlv(&s, DER_UTF8, f->names[i],
			    strlen(f->names[i]));
			ca_dw_close(&s, seq);
			ca_dw_close(&s, set);
		}
		ca_dw_close(&s, name);
	}
	t = good(f, CA_PROFILE_DV);
	t.subject_raw = s.b.data;
	t.subject_raw_len = s.b.len;
	expect_lint(f, &t, CA_PROFILE_DV, "e_subject_dn_duplicate_attribute");
	ca_dw_free(&s);
}

static void
test_san(void **state)
{
	struct fx *f = *state;
	struct ca_tbs t = good(f, CA_PROFILE_DV);
	const char *names[2];

	t.omit = CA_EXT_SAN;
	expect_lint(f, &t, CA_PROFILE_DV, "e_ext_san_missing");

	t = good(f, CA_PROFILE_DV);
	t.cn = "other.example.com";
	expect_lint(f, &t, CA_PROFILE_DV,
	    "e_subject_common_name_not_exactly_from_san");

	names[0] = "WWW.example.com";
	t.names = names;
	t.nnames = 1;
	t.cn = names[0];
	expect_lint(f, &t, CA_PROFILE_DV, "e_dnsname_not_lowercase");
	names[0] = "www.example.com.";
	t.cn = names[0];
	expect_lint(f, &t, CA_PROFILE_DV, "e_dnsname_trailing_dot");
	names[0] = "www.example.com";
	names[1] = "*.co.uk";
	t.nnames = 2;
	expect_lint(f, &t, CA_PROFILE_DV,
	    "e_dnsname_wildcard_left_of_public_suffix");
	names[1] = "www.example.com";
	expect_lint(f, &t, CA_PROFILE_DV, "e_ext_san_duplicate_name");

	/* EV never carries a wildcard */
	t = good(f, CA_PROFILE_EV);
	t.nnames = 3;
	expect_lint(f, &t, CA_PROFILE_EV, "e_ev_san_wildcard_present");

	/* no CN although one fits */
	t = good(f, CA_PROFILE_DV);
	t.cn = NULL;
	expect_lint(f, &t, CA_PROFILE_DV, "e_subject_common_name_missing");
}

static void
test_serial(void **state)
{
	struct fx *f = *state;
	struct ca_tbs t = good(f, CA_PROFILE_DV);
	uint8_t s[21];

	memset(s, 0x42, sizeof(s));
	t.serial = s;
	t.serial_len = 8;
	expect_lint(f, &t, CA_PROFILE_DV, "e_serial_number_low_entropy");
	t.serial_len = 21;
	expect_lint(f, &t, CA_PROFILE_DV,
	    "e_serial_number_longer_than_20_octets");
	s[0] = 0x80;
	t.serial_len = 16;
	expect_lint(f, &t, CA_PROFILE_DV, "e_serial_number_not_positive");
	s[0] = 0x00;
	expect_lint(f, &t, CA_PROFILE_DV, "e_serial_number_not_minimal");
	/* 9 octets with a leading zero for a 64-bit value is fine */
	s[1] = 0x80;
	t.serial_len = 9;
	{
		struct rc_detail d;

		assert_int_equal(lint(f, &t, CA_PROFILE_DV, NULL, 0, &d), 0);
	}
}

static void
test_issuer(void **state)
{
	struct fx *f = *state;
	struct ca_tbs t = good(f, CA_PROFILE_DV);
	struct rc_detail d;

	assert_int_equal(lint(f, &t, CA_PROFILE_DV, f->other.der,
	    f->other.len, &d), RC_LINT);
	assert_non_null(strstr(d.msg, "e_issuer_dn_mismatch"));
	/* same name, another key */
	assert_int_equal(lint(f, &t, CA_PROFILE_DV, f->twin.der, f->twin.len,
	    &d), RC_LINT);
	assert_non_null(strstr(d.msg,
	    "e_ext_authority_key_identifier_mismatch"));
	/* garbage issuer */
	assert_int_equal(ca_lint_tbs(f->w.b.data, f->w.b.len, CA_PROFILE_DV,
	    (const uint8_t *)"\x30\x00", 2, f->now, &d), RC_LINT);
	assert_int_equal(ca_lint_tbs(NULL, 0, CA_PROFILE_DV, f->is.der,
	    f->is.len, f->now, &d), RC_LINT);
	assert_int_equal(ca_lint_tbs(f->w.b.data, f->w.b.len, 99, f->is.der,
	    f->is.len, f->now, &d), RC_LINT);
}

static void
test_sigalg(void **state)
{
	struct fx *f = *state;
	struct ca_tbs t = good(f, CA_PROFILE_DV);

	expect_lint_iss(f, SIGNER_KEY_EC_P384, BASE, 0, &t,
	    "e_signature_algorithm_mismatch");
}

static void
test_extensions(void **state)
{
	struct fx *f = *state;
	struct ca_tbs t = good(f, CA_PROFILE_DV);
	static const uint8_t unknown[] = {0x30, 0x0b, 0x06, 0x03, 0x2a, 0x03,
	    0x04, 0x04, 0x04, 0x30, 0x02, 0x05, 0x00};
	static const uint8_t false_crit[] = {0x30, 0x0e, 0x06, 0x03, 0x2a,
	    0x03, 0x04, 0x01, 0x01, 0x00, 0x04, 0x04, 0x30, 0x02, 0x05, 0x00};
	static const uint8_t *const ov[] = {ca_oid_policy_ov};
	static const size_t ovl[] = {sizeof(ca_oid_policy_ov)};
	struct ca_dw x;

	t.extra_ext = f->iss.ku_ec.data;	/* keyUsage again */
	t.extra_ext_len = f->iss.ku_ec.len;
	expect_lint(f, &t, CA_PROFILE_DV, "e_ext_duplicate_extension");
	t.extra_ext = unknown;
	t.extra_ext_len = sizeof(unknown);
	expect_lint(f, &t, CA_PROFILE_DV, "e_ext_unknown_extension");
	t.extra_ext = false_crit;
	t.extra_ext_len = sizeof(false_crit);
	expect_lint(f, &t, CA_PROFILE_DV, "e_ext_critical_false_encoded");

	/* the wrong policy for the profile */
	ca_dw_init(&x, 4096);
	ca_ext_policies(&x, ov, ovl, 1);
	t.omit = CA_EXT_CP;
	t.extra_ext = x.b.data;
	t.extra_ext_len = x.b.len;
	expect_lint(f, &t, CA_PROFILE_DV, "e_sub_cert_policy_not_profile");
	t.extra_ext = NULL;
	expect_lint(f, &t, CA_PROFILE_DV,
	    "e_sub_cert_certificate_policies_missing");
	ca_dw_free(&x);

	t = good(f, CA_PROFILE_DV);
	t.omit = CA_EXT_AKI;
	expect_lint(f, &t, CA_PROFILE_DV,
	    "e_ext_authority_key_identifier_missing");
	t.omit = CA_EXT_SKI;
	expect_lint(f, &t, CA_PROFILE_DV,
	    "e_ext_subject_key_identifier_missing");
	t.omit = CA_EXT_CRLDP;
	expect_lint(f, &t, CA_PROFILE_DV,
	    "e_sub_cert_crl_distribution_points_missing");
	t.omit = CA_EXT_AIA;
	expect_lint(f, &t, CA_PROFILE_DV, "e_sub_cert_aia_missing");

	/* a CRL DP that is not http */
	t = good(f, CA_PROFILE_DV);
	expect_lint_iss(f, 0, "https://ca.example", 1, &t,
	    "e_sub_cert_crl_distribution_points_invalid");
}

/* tlsFeature (OCSP Must-Staple, RFC 7633): a non-critical { status_request }
 * passes, and OpenSSL reads it; critical, another feature, or an issuer
 * without an OCSP URI in the certificate's AIA are refused. */
static void
test_tls_feature(void **state)
{
	struct fx *f = *state;
	struct ca_tbs t = good(f, CA_PROFILE_DV);
	static const uint8_t crit[] = {0x30, 0x14, 0x06, 0x08, 0x2b, 0x06,
	    0x01, 0x05, 0x05, 0x07, 0x01, 0x18, 0x01, 0x01, 0xff, 0x04, 0x05,
	    0x30, 0x03, 0x02, 0x01, 0x05};
	static const uint8_t v2[] = {0x30, 0x11, 0x06, 0x08, 0x2b, 0x06, 0x01,
	    0x05, 0x05, 0x07, 0x01, 0x18, 0x04, 0x05, 0x30, 0x03, 0x02, 0x01,
	    0x11};
	struct rc_detail d;
	X509 *x;
	int i;

	t.must_staple = 1;
	assert_int_equal(lint(f, &t, CA_PROFILE_DV, NULL, 0, &d), 0);
	x = sign_tbs(f);
	check_openssl(f, x, CA_PROFILE_DV);
	i = X509_get_ext_by_NID(x, NID_tlsfeature, -1);
	assert_true(i >= 0);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(x, i)), 0);
	X509_free(x);
	t.extra_ext = v2;			/* a second one */
	t.extra_ext_len = sizeof(v2);
	expect_lint(f, &t, CA_PROFILE_DV, "e_ext_duplicate_extension");
	t.must_staple = 0;
	expect_lint(f, &t, CA_PROFILE_DV, "e_ext_tls_feature_invalid");
	t.extra_ext = crit;
	t.extra_ext_len = sizeof(crit);
	expect_lint(f, &t, CA_PROFILE_DV, "e_ext_tls_feature_invalid");

	t = good(f, CA_PROFILE_DV);
	t.must_staple = 1;
	expect_lint_iss(f, 0, BASE, 0, &t, "e_ext_tls_feature_without_ocsp");
}

static void
test_truncations(void **state)
{
	struct fx *f = *state;
	struct ca_tbs t = good(f, CA_PROFILE_OV);
	struct rc_detail d;
	uint8_t *copy;
	size_t n;

	assert_int_equal(lint(f, &t, CA_PROFILE_OV, NULL, 0, &d), 0);
	n = f->w.b.len;
	for (size_t i = 0; i < n; i++) {
		/* a heap copy of exactly i bytes, so ASan sees any
		 * over-read */
		copy = xmemdup(f->w.b.data, i ? i : 1);
		assert_int_equal(ca_lint_tbs(copy, i, CA_PROFILE_OV, f->is.der,
		    f->is.len, f->now, &d), RC_LINT);
		free(copy);
	}
	/* every byte flipped: never a crash; a flip in the structure is
	 * refused */
	copy = xmemdup(f->w.b.data, n);
	for (size_t i = 0; i < n; i++) {
		copy[i] ^= 0xff;
		(void)ca_lint_tbs(copy, n, CA_PROFILE_OV, f->is.der, f->is.len,
		    f->now, &d);
		copy[i] ^= 0xff;
	}
	copy[0] = 0x31;		/* SET instead of SEQUENCE */
	assert_int_equal(ca_lint_tbs(copy, n, CA_PROFILE_OV, f->is.der,
	    f->is.len, f->now, &d), RC_LINT);
	free(copy);
	/* trailing garbage */
	copy = xmalloc(n + 1);
	memcpy(copy, f->w.b.data, n);
	copy[n] = 0;
	assert_int_equal(ca_lint_tbs(copy, n + 1, CA_PROFILE_OV, f->is.der,
	    f->is.len, f->now, &d), RC_LINT);
	free(copy);
}

/* ---- the parts on their own ---------------------------------------------- */

static void
test_dnsname(void **state)
{
	static const char *const ok[] = {"example.com", "www.example.com",
	    "*.example.com", "a-b.example.com", "123.example.com",
	    "xn--bcher-kva.example", "*.example.test", "x.y.z.example.org",
	    NULL};
	static const struct {
		const char *name, *check;
	} bad[] = {
		{"", "e_dnsname_empty"},
		{"com", "e_dnsname_internal_name"},
		{"localhost", "e_dnsname_internal_name"},
		{"Example.com", "e_dnsname_not_lowercase"},
		{"example.com.", "e_dnsname_trailing_dot"},
		{"*.com", "e_dnsname_wildcard_left_of_public_suffix"},
		{"*.co.uk", "e_dnsname_wildcard_left_of_public_suffix"},
		{"*.test", "e_dnsname_wildcard_left_of_public_suffix"},
		{"foo.*.example.com", "e_dnsname_wildcard_only_in_left_label"},
		{"*example.com", "e_dnsname_wildcard_only_in_left_label"},
		{"w*.example.com", "e_dnsname_wildcard_only_in_left_label"},
		{"ex_ample.com", "e_dnsname_bad_character_in_label"},
		{"exa mple.com", "e_dnsname_bad_character_in_label"},
		{"-a.example.com", "e_dnsname_hyphen_in_label_edge"},
		{"a-.example.com", "e_dnsname_hyphen_in_label_edge"},
		{"ab--c.example.com", "e_dnsname_reserved_label"},
		{"xn--abc.example.com",
		    "e_international_dns_name_not_valid_idna"},
		{"xn--ls8h.example.com",
		    "e_international_dns_name_not_valid_idna"},
		/* U+2260: valid in UTS 46, not in IDNA2008 (the lint's own
		 * A-label check, with UTS 46 mapping, used to accept it) */
		{"xn--1ch.example.com",
		    "e_international_dns_name_not_valid_idna"},
		{"a..b.com", "e_dnsname_empty_label"},
		{".example.com", "e_dnsname_empty_label"},
		{"1.2.3.4", "e_dnsname_numeric_tld"},
		{NULL, NULL},
	};
	struct rc_detail d;
	char label[80], longname[300];

	for (int i = 0; ok[i]; i++) {
		d.msg[0] = '\0';
		if (ca_dnsname_check(ok[i], &d) != 0)
			fail_msg("%s refused: %s", ok[i], d.msg);
	}
	for (int i = 0; bad[i].name; i++) {
		d.msg[0] = '\0';
		if (ca_dnsname_check(bad[i].name, &d) != RC_BADNAME ||
		    strncmp(d.msg, bad[i].check, strlen(bad[i].check)) != 0)
			fail_msg("'%s': expected %s, got '%s'", bad[i].name,
			    bad[i].check, d.msg);
	}
	assert_int_equal(ca_dnsname_check(NULL, NULL), RC_BADNAME);
	memset(label, 'a', 64);
	memcpy(label + 64, ".example.com", 13);
	assert_int_equal(ca_dnsname_check(label, &d), RC_BADNAME);
	assert_non_null(strstr(d.msg, "e_dnsname_label_too_long"));
	label[63] = '\0';
	strcat(label, ".com");
	assert_int_equal(ca_dnsname_check(label, &d), 0);
	/* 254 octets in 63-octet labels */
	longname[0] = '\0';
	for (int i = 0; i < 4; i++) {
		memset(label, 'a' + i, 62);
		label[62] = '\0';
		strcat(longname, label);
		strcat(longname, ".");
	}
	strcat(longname, "example");
	assert_true(strlen(longname) > 253);
	assert_int_equal(ca_dnsname_check(longname, &d), RC_BADNAME);
	assert_non_null(strstr(d.msg, "e_dnsname_too_long"));
}

/*
 * The CSR parser and the lint ask the same checker (util/dnsname.h): every
 * lower-case name one accepts the other accepts. The CSR check used
 * libpsl's built-in list for wildcards while the lint used the
 * distribution's (newer) one, so a CSR could pass and its certificate then
 * fail the lint; now both use the latter.
 */
static void
test_dnsname_csr_agrees(void **state)
{
	static const char *const names[] = {"example.com", "*.example.com",
	    "*.com", "*.co.uk", "*.github.io", "*.test", "*.example.test",
	    "*.example.co.uk", "*.s3.amazonaws.com", "*.blogspot.com",
	    "*.appspot.com", "*.pages.dev", "*.netlify.app", "*.vercel.app",
	    "*.ck", "*.www.ck", "*.kawasaki.jp", "*.city.kawasaki.jp",
	    "xn--bcher-kva.example", "xn--zz.de", "xn--ls8h.example.com",
	    "xn--1ch.example.com", "xn--gdh.example.com",
	    "ab--cd.example.com", "a-b--c.example.com", "1.2.3.4", "::1",
	    "a.123", "*.123", "localhost", "a..b.com", "a_b.com",
	    "-a.example.com", "foo.*.example.com", "*", "example.com.",
	    NULL};
	char out[CA_NAME_BUF];
	struct rc_detail d;

	(void)state;
	for (int i = 0; names[i] != NULL; i++) {
		int csr = ca_csr_check_name((const uint8_t *)names[i],
		    strlen(names[i]), out, &d) == 0;
		int lint = ca_dnsname_check(names[i], &d) == 0;

		if (csr != lint)
			fail_msg("'%s': CSR %s, lint %s", names[i],
			    csr ? "accepts" : "refuses",
			    lint ? "accepts" : "refuses");
	}
}

static uint8_t *
spki_for(const char *alg, const char *param, size_t bits, size_t *len)
{
	EVP_PKEY *k = bits ? EVP_PKEY_Q_keygen(NULL, NULL, alg, bits) :
	    EVP_PKEY_Q_keygen(NULL, NULL, alg, param);
	uint8_t *r;

	assert_non_null(k);
	r = spki_of(k, len);
	EVP_PKEY_free(k);
	return r;
}

static void
test_spki(void **state)
{
	struct fx *f = *state;
	struct rc_detail d;
	uint8_t *s, bad[1024];
	size_t n;
	int ec, bits;

	assert_int_equal(ca_spki_walk(f->ec_spki, f->ec_spki_len, &ec, &bits,
	    &d), 0);
	assert_true(ec && bits == 256);
	assert_int_equal(ca_spki_walk(f->rsa_spki, f->rsa_spki_len, &ec,
	    &bits, &d), 0);
	assert_true(!ec && bits == 2048);
	s = spki_for("EC", "P-384", 0, &n);
	assert_int_equal(ca_spki_walk(s, n, &ec, &bits, &d), 0);
	assert_int_equal(bits, 384);
	free(s);
	s = spki_for("EC", "P-521", 0, &n);
	assert_int_equal(ca_spki_walk(s, n, &ec, &bits, &d), RC_BADKEY);
	assert_non_null(strstr(d.msg, "e_ec_improper_curves"));
	free(s);
	s = spki_for("RSA", NULL, 1024, &n);
	assert_int_equal(ca_spki_walk(s, n, &ec, &bits, &d), RC_BADKEY);
	assert_non_null(strstr(d.msg, "e_rsa_mod_less_than_2048_bits"));
	free(s);
	s = spki_for("ED25519", NULL, 0, &n);
	assert_int_equal(ca_spki_walk(s, n, &ec, &bits, &d), RC_BADKEY);
	assert_non_null(strstr(d.msg, "e_public_key_type_not_allowed"));
	free(s);
	/* every truncation of a key, and RSA with exponent 3 */
	for (size_t i = 0; i < f->rsa_spki_len; i++) {
		s = xmemdup(f->rsa_spki, i ? i : 1);
		assert_int_equal(ca_spki_walk(s, i, &ec, &bits, &d),
		    RC_BADKEY);
		free(s);
	}
	assert_true(f->rsa_spki_len < sizeof(bad));
	memcpy(bad, f->rsa_spki, f->rsa_spki_len);
	assert_int_equal(memcmp(bad + f->rsa_spki_len - 3, "\x01\x00\x01", 3),
	    0);
	bad[f->rsa_spki_len - 1] = 0x03;
	assert_int_equal(ca_spki_walk(bad, f->rsa_spki_len, &ec, &bits, &d),
	    RC_BADKEY);
	assert_non_null(strstr(d.msg, "e_rsa_exp_not_65537"));
	/* the whole TBS with that key is refused by the linter */
	{
		struct ca_tbs t = good(f, CA_PROFILE_DV);

		t.spki = bad;
		t.spki_len = f->rsa_spki_len;
		t.key_is_ec = 0;
		expect_lint(f, &t, CA_PROFILE_DV, "e_rsa_exp_not_65537");
	}
}

static void
check_len(size_t n)
{
	struct ca_dw w;
	struct der d;
	struct der_elem e;
	uint8_t *v = xcalloc(1, n ? n : 1);
	size_t m;

	ca_dw_init(&w, 1024 * 1024);
	m = ca_dw_open(&w, DER_SEQUENCE);
	ca_dw_raw(&w, v, n);
	ca_dw_close(&w, m);
	ca_dw_tlv(&w, DER_OCTETSTRING, v, n);
	assert_int_equal(w.rc, 0);
	d.p = w.b.data;
	d.len = w.b.len;
	assert_int_equal(der_next(&d, &e), 0);
	assert_int_equal(e.tag, DER_SEQUENCE);
	assert_int_equal(e.body.len, n);
	assert_int_equal(der_next(&d, &e), 0);
	assert_int_equal(e.tag, DER_OCTETSTRING);
	assert_int_equal(e.body.len, n);
	assert_int_equal(d.len, 0);
	ca_dw_free(&w);
	free(v);
}

static void
test_der_writer(void **state)
{
	static const size_t lens[] = {0, 1, 127, 128, 255, 256, 65535, 65536,
	    70000};
	struct ca_dw w;
	static const uint8_t big[] = {0x00, 0x00, 0x80, 0x01};
	static const uint8_t want_big[] = {0x02, 0x03, 0x00, 0x80, 0x01};
	static const uint8_t want_zero[] = {0x02, 0x01, 0x00};
	static const uint8_t want_300[] = {0x02, 0x02, 0x01, 0x2c};

	(void)state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
		check_len(lens[i]);
	ca_dw_init(&w, 100);
	ca_dw_uint(&w, big, sizeof(big));
	assert_int_equal(w.b.len, sizeof(want_big));
	assert_memory_equal(w.b.data, want_big, sizeof(want_big));
	ca_dw_reset(&w);
	ca_dw_uint(&w, big, 2);
	assert_memory_equal(w.b.data, want_zero, sizeof(want_zero));
	ca_dw_reset(&w);
	ca_dw_int64(&w, 300);
	assert_memory_equal(w.b.data, want_300, sizeof(want_300));
	/* RFC 5280 4.1.2.5: UTCTime through 2049, then GeneralizedTime */
	ca_dw_reset(&w);
	ca_dw_time(&w, 2524607999);	/* 2049-12-31T23:59:59Z */
	ca_dw_time(&w, 2524608000);	/* 2050-01-01T00:00:00Z */
	assert_int_equal(w.b.len, 2 + 13 + 2 + 15);
	assert_memory_equal(w.b.data, "\x17\x0d" "491231235959Z", 15);
	assert_memory_equal(w.b.data + 15, "\x18\x0f" "20500101000000Z", 17);
	/* the maximum is enforced and sticky */
	ca_dw_reset(&w);
	{
		uint8_t v[200] = {0};
		size_t m = ca_dw_open(&w, DER_SEQUENCE);

		ca_dw_raw(&w, v, sizeof(v));
		ca_dw_close(&w, m);
		assert_int_equal(w.rc, RC_TOOBIG);
		ca_dw_tlv(&w, DER_NULL, NULL, 0);
		assert_int_equal(w.rc, RC_TOOBIG);
	}
	ca_dw_free(&w);
}

static void
test_issuer_info(void **state)
{
	struct fx *f = *state;
	struct ca_issuer_info info;
	uint8_t *copy;

	assert_int_equal(ca_issuer_info_parse(f->is.der, f->is.len, &info), 0);
	assert_int_equal(info.ski_len, 20);
	assert_true(info.not_after > info.not_before);
	for (size_t i = 0; i < f->is.len; i++) {
		copy = xmemdup(f->is.der, i ? i : 1);
		assert_int_equal(ca_issuer_info_parse(copy, i, &info),
		    RC_INVAL);
		free(copy);
	}
}

/* RFC 8738: SAN iPAddress entries in DV certificates, only the order's,
 * not reserved under public trust; nowhere else */
static int
lint_ips(struct fx *f, const struct ca_tbs *t, int profile,
    const char *const *ips, size_t nips, int trust_private,
    struct rc_detail *d)
{
	ca_dw_reset(&f->w);
	ca_tbs_build(&f->w, &f->iss, t);
	assert_int_equal(f->w.rc, 0);
	memset(d, 0, sizeof(*d));
	return ca_lint_tbs_ips(f->w.b.data, f->w.b.len, profile, &f->iss.info,
	    f->now, ips, nips, trust_private, d);
}

static void
expect_ips(struct fx *f, const struct ca_tbs *t, int profile,
    const char *const *ips, size_t nips, int trust_private,
    const char *check)
{
	struct rc_detail d;
	int rc = lint_ips(f, t, profile, ips, nips, trust_private, &d);

	if (check == NULL && rc != 0)
		fail_msg("expected a pass, got rc %d: %s", rc, d.msg);
	if (check != NULL && (rc != RC_LINT || strstr(d.msg, check) == NULL))
		fail_msg("expected %s, got rc %d: %s", check, rc, d.msg);
}

static void
test_ip_san(void **state)
{
	struct fx *f = *state;
	static const char *const pub[] = {"8.8.8.8", "2001:4860:4860::8888"};
	static const char *const loop[] = {"127.0.0.1"};
	static const char *const other[] = {"8.8.4.4"};
	struct ca_tbs t = good(f, CA_PROFILE_DV);
	struct rc_detail d;

	t.ips = pub;
	t.nips = 2;
	expect_ips(f, &t, CA_PROFILE_DV, pub, 2, 0, NULL);
	/* the plain linter knows no addresses */
	assert_int_equal(lint(f, &t, CA_PROFILE_DV, NULL, 0, &d), RC_LINT);
	assert_non_null(strstr(d.msg, "e_ext_san_not_dns_name"));
	/* an address that is not the order's */
	expect_ips(f, &t, CA_PROFILE_DV, other, 1, 0,
	    "e_ext_san_ip_not_validated");
	/* OV/EV: DNS names only */
	t.profile = CA_PROFILE_OV;
	t.org = &f->org;
	expect_ips(f, &t, CA_PROFILE_OV, pub, 2, 0, "e_ext_san_not_dns_name");
	/* reserved: refused under public trust, allowed under private */
	t = good(f, CA_PROFILE_DV);
	t.ips = loop;
	t.nips = 1;
	expect_ips(f, &t, CA_PROFILE_DV, loop, 1, 0, "e_sub_cert_ip_reserved");
	expect_ips(f, &t, CA_PROFILE_DV, loop, 1, 1, NULL);
	/* addresses only: the CN is the address's canonical text */
	t.nnames = 0;
	t.cn = "127.0.0.1";
	expect_ips(f, &t, CA_PROFILE_DV, loop, 1, 1, NULL);
	t.cn = "127.000.000.001";
	expect_ips(f, &t, CA_PROFILE_DV, loop, 1, 1,
	    "e_subject_common_name_not_exactly_from_san");
	t.cn = "www.example.com";
	expect_ips(f, &t, CA_PROFILE_DV, loop, 1, 1,
	    "e_subject_common_name_not_exactly_from_san");
	/* the same address twice */
	{
		static const char *const twice[] = {"127.0.0.1", "127.0.0.1"};

		t.cn = "127.0.0.1";
		t.ips = twice;
		t.nips = 2;
		expect_ips(f, &t, CA_PROFILE_DV, loop, 1, 1,
		    "e_ext_san_duplicate_name");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid_profiles, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_valid_rsa, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_validity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eku, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detail_text, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_basic_constraints, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_subject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_san, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_issuer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigalg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extensions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tls_feature, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_truncations, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dnsname, setup, teardown),
		cmocka_unit_test(test_dnsname_csr_agrees),
		cmocka_unit_test_setup_teardown(test_spki, setup, teardown),
		cmocka_unit_test(test_der_writer),
		cmocka_unit_test_setup_teardown(test_ip_san, setup, teardown),
		cmocka_unit_test_setup_teardown(test_issuer_info, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
