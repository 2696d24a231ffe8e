/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IP address identifiers in the CA (RFC 8738): the special-purpose address
 * table (ca_ip_reserved), CSR parsing with CA_CSR_ALLOW_IP (iPAddress SANs
 * in canonical text, bad lengths, CN rules, flags 0 still refuses them),
 * and DV issuance of SAN iPAddress entries through a real signer, checked
 * with OpenSSL: 4 and 16 octets, the CN, the chain; the refusals (reserved
 * under public trust, not in the CSR, not canonical, OV).
 */
#include "ca/ca.h"
#include "ca_fixture.h"
#include "util/rc.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
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

/* ---- the special-purpose table ------------------------------------------- */

static void
test_reserved(void **state)
{
	static const struct {
		const char *ip;
		int want;
	} cases[] = {
		{"127.0.0.1", 1}, {"127.255.255.254", 1}, {"0.0.0.0", 1},
		{"10.1.2.3", 1}, {"100.64.0.1", 1}, {"100.127.255.255", 1},
		{"100.128.0.1", 0}, {"169.254.1.1", 1}, {"172.15.255.255", 0},
		{"172.16.0.1", 1}, {"172.31.255.255", 1}, {"172.32.0.0", 0},
		{"192.0.0.8", 1}, {"192.0.2.5", 1}, {"192.88.99.1", 1},
		{"192.168.1.1", 1}, {"198.18.0.1", 1}, {"198.19.255.255", 1},
		{"198.20.0.1", 0}, {"198.51.100.7", 1}, {"203.0.113.9", 1},
		{"224.0.0.1", 1}, {"239.1.1.1", 1}, {"240.0.0.1", 1},
		{"255.255.255.255", 1}, {"8.8.8.8", 0}, {"1.1.1.1", 0},
		{"93.184.216.34", 0}, {"::", 1}, {"::1", 1},
		{"::ffff:1.2.3.4", 1}, {"::ffff:8.8.8.8", 1}, {"fe80::1", 1},
		{"fc00::1", 1}, {"fd12:3456::1", 1}, {"2001:db8::1", 1},
		{"2001::1", 1}, {"2001:4860:4860::8888", 0},
		{"2606:4700:4700::1111", 0}, {"64:ff9b::1.2.3.4", 1},
		{"ff02::1", 1}, {"2002:c000:204::1", 1}, {"3fff::1", 1},
		{"4000::1", 1}, {"100::1", 1}, {"2a00:1450::1", 0},
		{"2620:4f:8000::1", 1}, {"2620:4f:8001::1", 0},
		{"192.31.196.1", 1}, {"192.175.48.1", 1}, {"192.0.3.1", 0},
	};
	static const char *const bad[] = {
		"1.2.3", "01.2.3.4", "1.2.3.4.", "fe80::1%eth0", "",
		"256.1.1.1",
		"1.2.3.4 ", " 1.2.3.4", "::1::", "example.com", "[::1]",
	};
	char huge[5000];
	uint8_t b[16] = {8, 8, 8, 8};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (ca_ip_text_reserved(cases[i].ip) != cases[i].want)
			fail_msg("%s: got %d", cases[i].ip,
			    ca_ip_text_reserved(cases[i].ip));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ca_ip_text_reserved(bad[i]) != -1)
			fail_msg("'%s' taken for an address", bad[i]);
	memset(huge, '1', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(ca_ip_text_reserved(huge), -1);
	assert_int_equal(ca_ip_text_reserved(NULL), -1);
	assert_int_equal(ca_ip_reserved(b, 4), 0);
	assert_int_equal(ca_ip_reserved(b, 5), -1);
	assert_int_equal(ca_ip_reserved(b, 0), -1);
	assert_int_equal(ca_ip_reserved(NULL, 4), -1);
}

/* ---- CSRs ---------------------------------------------------------------- */

/* A DER CSR of key with CN cn (NULL: none) and SAN entries "DNS:x",
 * "IP:x" or "RAWIP:<n>" (an iPAddress of n octets 1, 2, 3...); free(). */
static uint8_t *
csr_der(EVP_PKEY *key, const char *cn, const char *const *san, size_t n,
    size_t *len)
{
	X509_REQ *r = X509_REQ_new();
	X509_NAME *nm = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	GENERAL_NAMES *gns = sk_GENERAL_NAME_new_null();
	unsigned char *der = NULL;
	uint8_t *out;
	int l;

	if (cn)
		X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
		    (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(r, nm);
	X509_REQ_set_pubkey(r, key);
	for (size_t i = 0; i < n; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();

		if (strncmp(san[i], "DNS:", 4) == 0) {
			ASN1_IA5STRING *s = ASN1_IA5STRING_new();

			ASN1_STRING_set(s, san[i] + 4, -1);
			GENERAL_NAME_set0_value(g, GEN_DNS, s);
		} else if (strncmp(san[i], "IP:", 3) == 0) {
			ASN1_OCTET_STRING *ip = a2i_IPADDRESS(san[i] + 3);

			assert_non_null(ip);
			GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
		} else {
			ASN1_OCTET_STRING *ip = ASN1_OCTET_STRING_new();
			unsigned char raw[64];
			int k = atoi(san[i] + 6);

			for (int j = 0; j < k; j++)
				raw[j] = (unsigned char)(j + 1);
			ASN1_OCTET_STRING_set(ip, raw, k);
			GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
		}
		sk_GENERAL_NAME_push(gns, g);
	}
	if (n > 0) {
		assert_int_equal(X509V3_add1_i2d(&exts, NID_subject_alt_name,
		    gns, 0, X509V3_ADD_APPEND), 1);
		X509_REQ_add_extensions(r, exts);
	}
	assert_true(X509_REQ_sign(r, key, EVP_sha256()) > 0);
	l = i2d_X509_REQ(r, &der);
	assert_true(l > 0);
	out = malloc((size_t)l);
	memcpy(out, der, (size_t)l);
	*len = (size_t)l;
	OPENSSL_free(der);
	GENERAL_NAMES_free(gns);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(nm);
	X509_REQ_free(r);
	return out;
}

static int
parse(EVP_PKEY *key, const char *cn, const char *const *san, size_t n,
    int flags, struct ca_csr **out, struct rc_detail *d)
{
	size_t len;
	uint8_t *der = csr_der(key, cn, san, n, &len);
	int rc;

	memset(d, 0, sizeof(*d));
	rc = ca_csr_parse_flags(der, len, NULL, flags, out, d);
	free(der);
	return rc;
}

static void
parse_bad(EVP_PKEY *key, const char *cn, const char *const *san, size_t n,
    int flags, const char *want)
{
	struct ca_csr *csr = NULL;
	struct rc_detail d;
	int rc = parse(key, cn, san, n, flags, &csr, &d);

	if (rc != RC_BADCSR || strstr(d.msg, want) == NULL)
		fail_msg("expected RC_BADCSR '%s', got %d: %s", want, rc,
		    d.msg);
	assert_null(csr);
}

static void
test_csr(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	static const char *const mixed[] = {"DNS:a.example.com",
	    "IP:127.0.0.1", "IP:2001:DB8:0:0:0:0:0:1", "IP:127.0.0.1",
	    "IP:::ffff:1.2.3.4"};
	static const char *const only[] = {"IP:192.0.2.1"};
	static const char *const bad5[] = {"IP:192.0.2.1", "RAWIP:5"};
	static const char *const bad0[] = {"RAWIP:0"};
	static const char *const bad17[] = {"RAWIP:17"};
	const char *many[CA_MAX_NAMES + 1];
	char bufs[CA_MAX_NAMES + 1][24];
	struct ca_csr *csr = NULL;
	struct rc_detail d;

	(void)state;
	assert_non_null(key);
	/* flags 0: addresses are refused as before */
	parse_bad(key, NULL, only, 1, 0, "IP address 192.0.2.1: only DNS");

	assert_int_equal(parse(key, NULL, mixed, 5, CA_CSR_ALLOW_IP, &csr,
	    &d), 0);
	assert_int_equal(csr->nnames, 1);
	assert_string_equal(csr->names[0], "a.example.com");
	assert_int_equal(csr->nips, 3);
	assert_string_equal(csr->ips[0], "127.0.0.1");
	assert_string_equal(csr->ips[1], "2001:db8::1");	/* RFC 5952 */
	assert_string_equal(csr->ips[2], "::ffff:1.2.3.4");
	assert_null(csr->cn);
	ca_csr_free(csr);
	csr = NULL;

	/* addresses only, a CN that is one of them */
	assert_int_equal(parse(key, "192.0.2.1", only, 1, CA_CSR_ALLOW_IP,
	    &csr, &d), 0);
	assert_int_equal(csr->nnames, 0);
	assert_int_equal(csr->nips, 1);
	assert_string_equal(csr->cn, "192.0.2.1");
	ca_csr_free(csr);
	csr = NULL;

	/* a CN address that is not in the SAN, or not canonical */
	parse_bad(key, "192.0.2.2", only, 1, CA_CSR_ALLOW_IP,
	    "not one of the subjectAltName IP addresses");
	parse_bad(key, "192.000.2.1", only, 1, CA_CSR_ALLOW_IP, "CN");
	parse_bad(key, "a.example.com", only, 1, CA_CSR_ALLOW_IP,
	    "not one of the subjectAltName DNS names");
	/* a CN address without any SAN */
	parse_bad(key, "192.0.2.1", NULL, 0, CA_CSR_ALLOW_IP,
	    "not one of the subjectAltName IP addresses");
	/* octet counts other than 4 and 16 */
	parse_bad(key, NULL, bad5, 2, CA_CSR_ALLOW_IP,
	    "malformed IP address (5 octets");
	parse_bad(key, NULL, bad0, 1, CA_CSR_ALLOW_IP, "(0 octets");
	parse_bad(key, NULL, bad17, 1, CA_CSR_ALLOW_IP, "(17 octets");
	/* too many distinct addresses */
	for (int i = 0; i <= CA_MAX_NAMES; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "IP:10.0.%d.%d", i / 200,
		    i % 200 + 1);
		many[i] = bufs[i];
	}
	parse_bad(key, NULL, many, CA_MAX_NAMES + 1, CA_CSR_ALLOW_IP,
	    "more than 100 distinct IP addresses");
	assert_int_equal(parse(key, NULL, many, CA_MAX_NAMES,
	    CA_CSR_ALLOW_IP, &csr, &d), 0);
	assert_int_equal(csr->nips, CA_MAX_NAMES);
	ca_csr_free(csr);
	EVP_PKEY_free(key);
}

/* ---- issuance ------------------------------------------------------------ */

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

static struct ca_csr *
make(struct ca_fixture *e, const char *cn, const char *const *san, size_t n)
{
	struct ca_csr *csr = NULL;
	struct rc_detail d;

	if (parse(e->key, cn, san, n, CA_CSR_ALLOW_IP, &csr, &d) != 0)
		fail_msg("csr: %s", d.msg);
	return csr;
}

static int
issue(struct ca_fixture *e, int profile, const struct ca_csr *csr,
    const char *const *names, size_t nnames, const char *const *ips,
    size_t nips, int trust_private, struct ca_cert **c, struct rc_detail *d)
{
	struct ca_issue_req req;

	memset(&req, 0, sizeof(req));
	memset(d, 0, sizeof(*d));
	req.profile = profile;
	req.csr = csr;
	req.names = names;
	req.nnames = nnames;
	req.ips = ips;
	req.nips = nips;
	req.trust_private = trust_private;
	req.org = profile == CA_PROFILE_DV ? NULL : &e->org;
	req.actor = "test";
	*c = NULL;
	return ca_issue(e->ca, &req, c, d);
}

/* The certificate's SAN as text ("DNS:a IP:127.0.0.1 ..."), its CN into
 * cn, after checking the chain with OpenSSL; X509 freed. */
static void
inspect(struct ca_fixture *e, const struct ca_cert *c, char *san, size_t n,
    char *cn, size_t cnn)
{
	const unsigned char *p = c->der;
	X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
	STACK_OF(GENERAL_NAME) *gns;
	X509_STORE *xs = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *chain = sk_X509_new_null();

	assert_non_null(x);
	X509_STORE_add_cert(xs, e->root);
	sk_X509_push(chain, e->issuing);
	X509_STORE_CTX_init(ctx, xs, x, chain);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx),
	    CA_FIXTURE_NOW + 3600);
	if (X509_verify_cert(ctx) != 1)
		fail_msg("chain: %s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
	gns = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	assert_non_null(gns);
	san[0] = '\0';
	for (int i = 0; i < sk_GENERAL_NAME_num(gns); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gns, i);
		char t[INET6_ADDRSTRLEN + 8];

		if (g->type == GEN_DNS) {
			snprintf(t, sizeof(t), "DNS:%.*s",
			    g->d.dNSName->length, g->d.dNSName->data);
		} else {
			char ip[INET6_ADDRSTRLEN];

			assert_int_equal(g->type, GEN_IPADD);
			assert_true(g->d.iPAddress->length == 4 ||
			    g->d.iPAddress->length == 16);
			inet_ntop(g->d.iPAddress->length == 4 ? AF_INET :
			    AF_INET6, g->d.iPAddress->data, ip, sizeof(ip));
			snprintf(t, sizeof(t), "IP:%s", ip);
		}
		if (san[0])
			strncat(san, " ", n - strlen(san) - 1);
		strncat(san, t, n - strlen(san) - 1);
	}
	cn[0] = '\0';
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
	    cn, (int)cnn);
	GENERAL_NAMES_free(gns);
	sk_X509_free(chain);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(xs);
	X509_free(x);
}

static void
test_issue_private(void **state)
{
	struct ca_fixture *e = *state;
	static const char *const san[] = {"IP:127.0.0.1", "IP:::1"};
	static const char *const ips[] = {"127.0.0.1", "::1"};
	struct ca_csr *csr = make(e, NULL, san, 2);
	struct ca_cert *c;
	struct rc_detail d;
	char got[512], cn[128];

	/* addresses only, private trust: loopback allowed */
	if (issue(e, CA_PROFILE_DV, csr, NULL, 0, ips, 2, 1, &c, &d) != 0)
		fail_msg("issue: %s", d.msg);
	inspect(e, c, got, sizeof(got), cn, sizeof(cn));
	assert_string_equal(got, "IP:127.0.0.1 IP:::1");
	assert_string_equal(cn, "127.0.0.1");
	ca_cert_free(c);

	/* public trust refuses them before anything is built */
	assert_int_equal(issue(e, CA_PROFILE_DV, csr, NULL, 0, ips, 2, 0, &c,
	    &d), RC_POLICY);
	assert_non_null(strstr(d.msg, "reserved"));
	assert_null(c);
	/* not among the CSR's */
	{
		static const char *const other[] = {"127.0.0.2"};

		assert_int_equal(issue(e, CA_PROFILE_DV, csr, NULL, 0, other,
		    1, 1, &c, &d), RC_POLICY);
		assert_non_null(strstr(d.msg, "not among the CSR's IP"));
	}
	/* not canonical, not an address */
	{
		static const char *const up[] = {"0:0:0:0:0:0:0:1"};
		static const char *const junk[] = {"fe80::1%eth0"};

		assert_int_equal(issue(e, CA_PROFILE_DV, csr, NULL, 0, up, 1,
		    1, &c, &d), RC_POLICY);
		assert_non_null(strstr(d.msg, "canonical"));
		assert_int_equal(issue(e, CA_PROFILE_DV, csr, NULL, 0, junk,
		    1, 1, &c, &d), RC_POLICY);
		assert_non_null(strstr(d.msg, "not an IP address"));
	}
	/* OV: DNS names only */
	assert_int_equal(issue(e, CA_PROFILE_OV, csr, NULL, 0, ips, 2, 1, &c,
	    &d), RC_POLICY);
	assert_non_null(strstr(d.msg, "only in DV"));
	ca_csr_free(csr);
}

static void
test_issue_public_mixed(void **state)
{
	struct ca_fixture *e = *state;
	static const char *const san[] = {"DNS:www.example.com",
	    "IP:2001:4860:4860:0:0:0:0:8888", "IP:8.8.8.8"};
	static const char *const names[] = {"www.example.com"};
	static const char *const ips[] = {"8.8.8.8", "2001:4860:4860::8888",
	    "8.8.8.8"};
	struct ca_csr *csr = make(e, "www.example.com", san, 3);
	struct ca_cert *c;
	struct rc_detail d;
	char got[512], cn[128];

	if (issue(e, CA_PROFILE_DV, csr, names, 1, ips, 3, 0, &c, &d) != 0)
		fail_msg("issue: %s", d.msg);
	inspect(e, c, got, sizeof(got), cn, sizeof(cn));
	assert_string_equal(got, "DNS:www.example.com IP:8.8.8.8 "
	    "IP:2001:4860:4860::8888");
	assert_string_equal(cn, "www.example.com");
	ca_cert_free(c);
	/* without ips[] the CSR's addresses are not certified */
	if (issue(e, CA_PROFILE_DV, csr, names, 1, NULL, 0, 0, &c, &d) != 0)
		fail_msg("issue: %s", d.msg);
	inspect(e, c, got, sizeof(got), cn, sizeof(cn));
	assert_string_equal(got, "DNS:www.example.com");
	ca_cert_free(c);
	ca_csr_free(csr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_csr),
		cmocka_unit_test_setup_teardown(test_issue_private, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_issue_public_mixed,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
