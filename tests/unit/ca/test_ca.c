/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/ca/ca.c: opening the CA (before and after init, with a
 * signer that lacks the keys), profile and reason names, the canonical
 * serial form, and the PEM output of the chain and the root.
 */
#include "ca/ca.h"
#include "ca/ca_int.h"
#include "ca_fixture.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/xmalloc.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
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

static void
test_names(void **state)
{
	static const char *const reasons[] = {"unspecified", "keyCompromise",
	    "cACompromise", "affiliationChanged", "superseded",
	    "cessationOfOperation", "certificateHold", NULL, "removeFromCRL",
	    "privilegeWithdrawn", "aACompromise"};

	(void)state;
	assert_int_equal(ca_profile_parse("dv"), CA_PROFILE_DV);
	assert_int_equal(ca_profile_parse("ov"), CA_PROFILE_OV);
	assert_int_equal(ca_profile_parse("EV"), CA_PROFILE_EV);
	assert_int_equal(ca_profile_parse("xv"), -1);
	assert_int_equal(ca_profile_parse(""), -1);
	assert_int_equal(ca_profile_parse(NULL), -1);
	assert_string_equal(ca_profile_name(CA_PROFILE_OV), "ov");
	assert_null(ca_profile_name(0));
	assert_string_equal(ca_profile_name(CA_PROFILE_SERVICE), "service");
	assert_int_equal(ca_profile_parse("service"), -1);
	assert_null(ca_profile_name(5));
	for (int i = 0; i <= 10; i++) {
		if (reasons[i] == NULL) {
			assert_null(ca_reason_name(i));
			continue;
		}
		assert_int_equal(ca_reason_parse(reasons[i]), i);
		assert_string_equal(ca_reason_name(i), reasons[i]);
	}
	assert_int_equal(ca_reason_parse("keycompromise"), 1);
	assert_int_equal(ca_reason_parse("compromised"), -1);
	assert_int_equal(ca_reason_parse(NULL), -1);
	assert_null(ca_reason_name(-1));
	assert_null(ca_reason_name(11));
}

static void
test_serial(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{"0A1B", "0a1b"},
		{"a1b", "0a1b"},
		{"00:0a:1b", "0a1b"},
		{"000A1B", "0a1b"},
		{"80", "0080"},
		{"0080", "0080"},
		{"ff:01", "00ff01"},
		{"7F", "7f"},
		{"0", "00"},
		{"5edf0e0b16e2afea762d5a740da13a53",
		    "5edf0e0b16e2afea762d5a740da13a53"},
		{"7fffffffffffffffffffffffffffffffffffffff",
		    "7fffffffffffffffffffffffffffffffffffffff"},
		{NULL, NULL},
	};
	static const char *const bad[] = {"xyz", "0x12", "12 34", "12-34",
	    "ffffffffffffffffffffffffffffffffffffffff",	/* 21 octets */
	    "1234567890123456789012345678901234567890a", NULL};
	char out[41];

	(void)state;
	for (int i = 0; ok[i].in; i++) {
		assert_int_equal(ca_serial_normalize(ok[i].in, out), 0);
		assert_string_equal(out, ok[i].out);
	}
	for (int i = 0; bad[i]; i++)
		assert_int_equal(ca_serial_normalize(bad[i], out), RC_INVAL);
	assert_int_equal(ca_serial_normalize(NULL, out), RC_INVAL);
}

static void
test_pem(void **state)
{
	uint8_t der[100];
	char *pem;
	size_t lines = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(der); i++)
		der[i] = (uint8_t)i;
	pem = ca_pem_cert(der, sizeof(der));
	assert_true(strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
	for (char *p = pem + 28, *nl; (nl = strchr(p, '\n')) != NULL;
	    p = nl + 1) {
		if (strncmp(p, "-----END", 8) == 0)
			break;
		assert_true(nl - p <= 64);
		lines++;
	}
	assert_int_equal(lines, 3);	/* 100 octets: 64 + 64 + 8 chars */
	assert_non_null(strstr(pem, "-----END CERTIFICATE-----\n"));
	free(pem);
}

static void
test_open(void **state)
{
	struct ca_fixture *f = ca_fixture_new("ecdsa", CA_FIXTURE_NOW);
	char *other = xasprintf("%s/other-keys", f->dir), *pem;
	struct signer *empty = NULL;
	struct ca *ca = NULL;
	struct rc_detail d = {""};
	struct store_issuer si;
	X509 *x;
	BIO *b;

	(void)state;
	assert_int_equal(mkdir(other, 0700), 0);
	f->conf.crl_dir = NULL;	/* no files: only the store */

	assert_int_equal(ca_open(&f->conf, f->st, f->sg, NULL, &ca),
	    RC_NOTFOUND);
	assert_null(ca);
	assert_int_equal(ca_open(NULL, f->st, f->sg, NULL, &ca), RC_INVAL);
	if (ca_init_hierarchy(&f->conf, f->st, f->sg, &d) != 0)
		fail_msg("init: %s", d.msg);
	assert_int_equal(ca_open(&f->conf, f->st, f->sg, NULL, &ca), 0);

	/* the chain PEM is the stored issuing certificate */
	assert_int_equal(ca_chain_pem(ca, &pem), 0);
	b = BIO_new_mem_buf(pem, -1);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	assert_non_null(x);
	BIO_free(b);
	free(pem);
	memset(&si, 0, sizeof(si));
	assert_int_equal(store_issuer_get_active(f->st, 0, &si), 0);
	{
		unsigned char *der = NULL;
		int n = i2d_X509(x, &der);

		assert_int_equal((size_t)n, si.cert_len);
		assert_memory_equal(der, si.cert_der, si.cert_len);
		OPENSSL_free(der);
	}
	store_issuer_clear(&si);
	X509_free(x);
	assert_int_equal(ca_root_pem(ca, &pem), 0);
	assert_non_null(strstr(pem, "BEGIN CERTIFICATE"));
	free(pem);
	assert_int_equal(ca_chain_pem(NULL, &pem), RC_INVAL);
	ca_free(ca);
	ca = NULL;

	/* a signer without the CA's keys: the CA does not open */
	assert_int_equal(signer_spawn(other, &empty), 0);
	assert_int_equal(ca_open(&f->conf, f->st, empty, NULL, &ca),
	    RC_SIGNER);
	assert_null(ca);
	signer_free(empty);
	ca_free(NULL);

	free(other);
	ca_fixture_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_serial),
		cmocka_unit_test(test_pem),
		cmocka_unit_test(test_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
