/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/ca/init.c: the ecdsa and rsa hierarchies made through a
 * real signer process into a real SQLite store, checked independently with
 * OpenSSL (self-signature, chain, BR 7.1.2.1 / 7.1.2.2 profiles, key types,
 * the first CRLs), RC_EXISTS on a second init, bad configuration, and the
 * audit entries.
 */
#include "ca/ca.h"
#include "ca_fixture.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/xmalloc.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
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

static X509 *
x509_of(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	assert_non_null(x);
	assert_ptr_equal(p, der + len);
	return x;
}

static X509 *
stored_issuer(struct ca_fixture *e, int root, int64_t *id)
{
	struct store_issuer si;
	X509 *x;

	memset(&si, 0, sizeof(si));
	assert_int_equal(store_issuer_get_active(e->st, root, &si), 0);
	x = x509_of(si.cert_der, si.cert_len);
	if (id)
		*id = si.id;
	assert_int_equal(si.is_root, root);
	assert_string_equal(si.name, root ? "root" : "issuing-1");
	store_issuer_clear(&si);
	return x;
}

/* ---- checks -------------------------------------------------------------- */

static void
check_name(X509_NAME *n, const char *cn)
{
	char buf[128];

	assert_int_equal(X509_NAME_entry_count(n), 3);
	assert_true(X509_NAME_get_text_by_NID(n, NID_countryName, buf,
	    sizeof(buf)) > 0);
	assert_string_equal(buf, "DE");
	assert_true(X509_NAME_get_text_by_NID(n, NID_organizationName, buf,
	    sizeof(buf)) > 0);
	assert_string_equal(buf, "certdesk test");
	assert_true(X509_NAME_get_text_by_NID(n, NID_commonName, buf,
	    sizeof(buf)) > 0);
	assert_string_equal(buf, cn);
}

static int
years_between(X509 *x)
{
	int days, secs;

	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	    X509_get0_notAfter(x)), 1);
	return (int)((days + 1) / 365);
}

static void
check_crl_file(struct ca_fixture *e, const char *name, X509 *issuer)
{
	char *path = xasprintf("%s/%s.crl", e->crl_dir, name);
	FILE *f = fopen(path, "rb");
	X509_CRL *crl;
	ASN1_INTEGER *num;

	assert_non_null(f);
	crl = d2i_X509_CRL_fp(f, NULL);
	fclose(f);
	assert_non_null(crl);
	assert_int_equal(X509_CRL_get_version(crl), 1);	/* v2 */
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(issuer)), 1);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(issuer)), 0);
	assert_null(X509_CRL_get_REVOKED(crl));
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	assert_non_null(num);
	/* the clock in microseconds (store_issuer_next_crl_number): after
	 * 2026-01-01 */
	assert_true(ASN1_INTEGER_get(num) > 1767225600LL * 1000000);
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	free(path);
}

struct audit_count {
	int keygen, cacert, crl;
};

static int
count_audit(const struct store_audit_entry *a, void *arg)
{
	struct audit_count *c = arg;

	if (strcmp(a->action, "key.generate") == 0)
		c->keygen++;
	else if (strcmp(a->action, "ca.certificate") == 0)
		c->cacert++;
	else if (strcmp(a->action, "crl.publish") == 0)
		c->crl++;
	return 0;
}

static void
check_hierarchy(struct ca_fixture *e, int ecdsa)
{
	X509 *root, *iss;
	X509_STORE *xs;
	X509_STORE_CTX *ctx;
	STACK_OF(ASN1_OBJECT) *eku;
	CERTIFICATEPOLICIES *cp;
	DIST_POINT *dp;
	STACK_OF(DIST_POINT) *dps;
	AUTHORITY_INFO_ACCESS *aia;
	ASN1_IA5STRING *uri;
	EVP_PKEY *rk, *ik;
	struct audit_count ac = {0, 0, 0};
	int64_t root_id, iss_id, count = 0, bad = -1;

	root = stored_issuer(e, 1, &root_id);
	iss = stored_issuer(e, 0, &iss_id);
	assert_true(root_id != iss_id);
	rk = X509_get0_pubkey(root);
	ik = X509_get0_pubkey(iss);
	if (ecdsa) {
		char g[32];
		size_t gl;

		assert_int_equal(EVP_PKEY_get_base_id(rk), EVP_PKEY_EC);
		assert_int_equal(EVP_PKEY_get_bits(rk), 384);
		assert_int_equal(EVP_PKEY_get_utf8_string_param(ik,
		    "group", g, sizeof(g), &gl), 1);
		assert_string_equal(g, "prime256v1");
		assert_int_equal(X509_get_signature_nid(root),
		    NID_ecdsa_with_SHA384);
		assert_int_equal(X509_get_signature_nid(iss),
		    NID_ecdsa_with_SHA384);
	} else {
		assert_int_equal(EVP_PKEY_get_base_id(rk), EVP_PKEY_RSA);
		assert_int_equal(EVP_PKEY_get_bits(rk), 4096);
		assert_int_equal(EVP_PKEY_get_bits(ik), 2048);
		assert_int_equal(X509_get_signature_nid(iss),
		    NID_sha256WithRSAEncryption);
	}

	/* root: BR 7.1.2.1 */
	assert_int_equal(X509_get_version(root), 2);
	assert_int_equal(X509_verify(root, rk), 1);
	check_name(X509_get_subject_name(root), "certdesk Test Root CA");
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(root),
	    X509_get_issuer_name(root)), 0);
	assert_true(X509_get_extension_flags(root) & EXFLAG_SS);
	assert_int_equal(X509_get_extension_flags(root) & EXFLAG_INVALID, 0);
	assert_int_equal(X509_check_ca(root), 1);
	assert_int_equal(X509_get_pathlen(root), -1);
	assert_int_equal(X509_get_key_usage(root), KU_KEY_CERT_SIGN |
	    KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(root));
	assert_int_equal(X509_get_ext_by_NID(root, NID_ext_key_usage, -1), -1);
	assert_int_equal(X509_get_ext_by_NID(root, NID_certificate_policies,
	    -1), -1);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(root,
	    X509_get_ext_by_NID(root, NID_basic_constraints, -1))), 1);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(root,
	    X509_get_ext_by_NID(root, NID_key_usage, -1))), 1);
	assert_int_equal(years_between(root), 15);
	/* 16 random octets, positive */
	assert_int_equal(X509_get0_serialNumber(root)->length, 16);
	assert_int_equal(X509_get0_serialNumber(root)->type, V_ASN1_INTEGER);

	/* issuing CA: BR 7.1.2.2 */
	assert_int_equal(X509_verify(iss, rk), 1);
	check_name(X509_get_subject_name(iss), "certdesk Test Issuing CA");
	assert_int_equal(X509_check_issued(root, iss), X509_V_OK);
	assert_int_equal(X509_check_ca(iss), 1);
	assert_int_equal(X509_get_pathlen(iss), 0);
	assert_int_equal(X509_get_key_usage(iss), KU_DIGITAL_SIGNATURE |
	    KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_int_equal(X509_get_extended_key_usage(iss), XKU_SSL_SERVER);
	eku = X509_get_ext_d2i(iss, NID_ext_key_usage, NULL, NULL);
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 1);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(iss),
	    X509_get0_subject_key_id(root)), 0);
	cp = X509_get_ext_d2i(iss, NID_certificate_policies, NULL, NULL);
	assert_int_equal(sk_POLICYINFO_num(cp), 3);
	CERTIFICATEPOLICIES_free(cp);
	dps = X509_get_ext_d2i(iss, NID_crl_distribution_points, NULL, NULL);
	assert_int_equal(sk_DIST_POINT_num(dps), 1);
	dp = sk_DIST_POINT_value(dps, 0);
	uri = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0)->d.ia5;
	assert_string_equal((const char *)ASN1_STRING_get0_data(uri),
	    BASE "/crl/root.crl");
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	aia = X509_get_ext_d2i(iss, NID_info_access, NULL, NULL);
	assert_int_equal(sk_ACCESS_DESCRIPTION_num(aia), 1);
	assert_int_equal(OBJ_obj2nid(sk_ACCESS_DESCRIPTION_value(aia,
	    0)->method), NID_ad_ca_issuers);
	uri = sk_ACCESS_DESCRIPTION_value(aia, 0)->location->d.ia5;
	assert_string_equal((const char *)ASN1_STRING_get0_data(uri),
	    BASE "/ca/root.der");
	AUTHORITY_INFO_ACCESS_free(aia);
	assert_int_equal(years_between(iss), 5);

	/* the chain, as a TLS client checks it */
	xs = X509_STORE_new();
	X509_STORE_add_cert(xs, root);
	ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, xs, iss, NULL);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx),
	    e->conf.now + 3600);
	if (X509_verify_cert(ctx) != 1)
		fail_msg("chain: %s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(xs);

	check_crl_file(e, "root", root);
	check_crl_file(e, "issuing-1", iss);

	assert_int_equal(store_audit_list(e->st, 1, count_audit, &ac), 0);
	assert_int_equal(ac.keygen, 2);
	assert_int_equal(ac.cacert, 2);
	assert_int_equal(ac.crl, 2);
	assert_int_equal(store_audit_verify(e->st, &count, &bad), 0);
	assert_true(count >= 6);
	X509_free(root);
	X509_free(iss);
}

/* ---- tests --------------------------------------------------------------- */

static void
test_init_ecdsa(void **state)
{
	struct ca_fixture *e = ca_fixture_new("ecdsa", T_2026_01_10);
	struct rc_detail d = {""};
	struct ca *ca = NULL;

	(void)state;
	assert_int_equal(ca_open(&e->conf, e->st, e->sg, NULL, &ca),
	    RC_NOTFOUND);
	assert_null(ca);
	if (ca_init_hierarchy(&e->conf, e->st, e->sg, &d) != 0)
		fail_msg("init: %s", d.msg);
	check_hierarchy(e, 1);

	/* a second init refuses and changes nothing */
	assert_int_equal(ca_init_hierarchy(&e->conf, e->st, e->sg, &d),
	    RC_EXISTS);
	assert_non_null(strstr(d.msg, "exists"));
	check_hierarchy(e, 1);
	assert_int_equal(ca_open(&e->conf, e->st, e->sg, NULL, &ca), 0);
	ca_free(ca);
	ca_fixture_free(e);
}

static void
test_init_rsa(void **state)
{
	struct ca_fixture *e = ca_fixture_new("rsa", T_2026_01_10);
	struct rc_detail d = {""};

	(void)state;
	if (ca_init_hierarchy(&e->conf, e->st, e->sg, &d) != 0)
		fail_msg("init: %s", d.msg);
	check_hierarchy(e, 0);
	assert_int_equal(ca_init_hierarchy(&e->conf, e->st, e->sg, &d),
	    RC_EXISTS);
	ca_fixture_free(e);
}

static void
test_init_bad_conf(void **state)
{
	struct ca_fixture *e = ca_fixture_new("dsa", T_2026_01_10);
	struct rc_detail d = {""};
	struct ca *ca = NULL;

	(void)state;
	assert_int_equal(ca_init_hierarchy(&e->conf, e->st, e->sg, &d),
	    RC_CONFIG);
	e->conf.hierarchy = "ecdsa";
	e->conf.country = "de";
	assert_int_equal(ca_init_hierarchy(&e->conf, e->st, e->sg, &d),
	    RC_CONFIG);
	e->conf.country = "DE";
	e->conf.root_cn = "";
	assert_int_equal(ca_init_hierarchy(&e->conf, e->st, e->sg, &d),
	    RC_CONFIG);
	e->conf.root_cn = "Root\nCA";
	assert_int_equal(ca_init_hierarchy(&e->conf, e->st, e->sg, &d),
	    RC_CONFIG);
	e->conf.root_cn = "Root";
	e->conf.base_url = "ftp://x";
	assert_int_equal(ca_init_hierarchy(&e->conf, e->st, e->sg, &d),
	    RC_CONFIG);
	assert_int_equal(ca_init_hierarchy(NULL, e->st, e->sg, &d), RC_INVAL);
	/* nothing was made */
	e->conf.base_url = BASE;
	assert_int_equal(ca_open(&e->conf, e->st, e->sg, NULL, &ca),
	    RC_NOTFOUND);
	ca_fixture_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_ecdsa),
		cmocka_unit_test(test_init_rsa),
		cmocka_unit_test(test_init_bad_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
