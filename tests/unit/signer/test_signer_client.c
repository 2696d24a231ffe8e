/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/signer/signer_client.c through signer.h, against a real
 * signer process in a temporary key directory: keys of every type, a root
 * -> issuing -> end-entity hierarchy whose certificates, CRL and OCSP
 * responses are built with OpenSSL, signed by the signer and verified by
 * OpenSSL; the signer's refusals; a restart; a key made by another signer
 * on the same directory, loaded on request (LOADKEY) when the root vouches
 * for it and refused otherwise; two threads signing at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "signer/signer.h"
#include "signer/signer_int.h"
#include "test_helpers.h"
#include "util/xmalloc.h"

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include <pthread.h>
#include <sys/stat.h>

struct fx {
	char *dir;
	struct signer *s;
	uint8_t *root_spki, *iss_spki, *ee_spki;
	size_t root_spki_len, iss_spki_len, ee_spki_len;
	X509 *root_cert, *iss_cert, *ee_cert;
	EVP_PKEY *ee;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->dir = th_mkdtemp();
	if (signer_spawn(f->dir, &f->s) != 0)
		return -1;
	f->ee = th_keygen(SIGNER_KEY_EC_P256);
	f->ee_spki = th_spki(f->ee, &f->ee_spki_len);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	signer_free(f->s);
	th_rmdir(f->dir);
	free(f->root_spki);
	free(f->iss_spki);
	free(f->ee_spki);
	X509_free(f->root_cert);
	X509_free(f->iss_cert);
	X509_free(f->ee_cert);
	EVP_PKEY_free(f->ee);
	free(f);
	return 0;
}

/* Signs tbs with key_id in the signer, checks the signature with
 * EVP_DigestVerify and returns the assembled object (free()). */
static uint8_t *
sign_assemble(struct fx *f, const char *key_id, int keytype, int kind,
    const uint8_t *tbs, size_t tl, const uint8_t *spki, size_t spki_len,
    size_t *len)
{
	struct rc_detail d = {""};
	uint8_t *sig, *der;
	size_t sl, alg_len;
	const uint8_t *alg = signer_sigalg_der(keytype, &alg_len);
	int rc;

	rc = signer_sign(f->s, key_id, kind, tbs, tl, &sig, &sl, &d);
	if (rc != 0)
		fail_msg("sign with %s: %s", key_id, rc_detail_str(&d, rc));
	assert_true(th_verify(spki, spki_len, keytype, tbs, tl, sig, sl));
	der = th_assemble(tbs, tl, alg, alg_len, sig, sl, len);
	free(sig);
	return der;
}

static X509 *
to_x509(const uint8_t *der, size_t len)
{
	const uint8_t *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	assert_non_null(x);
	assert_ptr_equal(p, der + len);
	return x;
}

/* 1 when x's signature verifies with the key in spki. */
static int
x509_verifies(X509 *x, const uint8_t *spki, size_t spki_len)
{
	EVP_PKEY *pub = th_pkey_from_spki(spki, spki_len);
	int ok = X509_verify(x, pub) == 1;

	EVP_PKEY_free(pub);
	return ok;
}

/* An end-entity TBS by the issuing CA (free()). */
static uint8_t *
ee_tbs(struct fx *f, size_t *len)
{
	struct th_cert c = {0};

	c.alg_keytype = SIGNER_KEY_EC_P256;
	c.issuer_cn = "Test Issuing";
	c.subject_cn = "www.example.com";
	c.spki = f->ee_spki;
	c.spki_len = f->ee_spki_len;
	return th_tbs_cert(&c, len);
}

static void
test_genkey_every_type(void **state)
{
	static const struct {
		const char *id;
		int type;
		int bits;
	} types[] = {
		{"t-p256", SIGNER_KEY_EC_P256, 256},
		{"t-p384", SIGNER_KEY_EC_P384, 384},
		{"t-rsa2048", SIGNER_KEY_RSA_2048, 2048},
		{"t-rsa3072", SIGNER_KEY_RSA_3072, 3072},
		{"t-rsa4096", SIGNER_KEY_RSA_4096, 4096},
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct th_cert c = {0};
		uint8_t *spki, *spki2, *tbs, *der;
		size_t sl, sl2, tl, dl;
		EVP_PKEY *pub;
		struct stat st;
		char *path;
		int kt = 0;
		X509 *x;

		assert_int_equal(signer_genkey(f->s, types[i].id,
		    types[i].type, 1, &spki, &sl), 0);
		pub = th_pkey_from_spki(spki, sl);
		assert_int_equal(EVP_PKEY_get_bits(pub), types[i].bits);
		assert_int_equal(EVP_PKEY_is_a(pub, "RSA"),
		    types[i].type >= SIGNER_KEY_RSA_2048);
		EVP_PKEY_free(pub);
		assert_int_equal(signer_key_info(f->s, types[i].id, &kt,
		    &spki2, &sl2), 0);
		assert_int_equal(kt, types[i].type);
		assert_int_equal(sl2, sl);
		assert_memory_equal(spki2, spki, sl);
		free(spki2);
		/* 0600, and O_EXCL */
		path = xasprintf("%s/%s.key", f->dir, types[i].id);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		free(path);
		assert_int_equal(signer_genkey(f->s, types[i].id,
		    types[i].type, 1, &spki2, &sl2), RC_EXISTS);
		assert_null(spki2);
		/* its self-signed certificate, verified by OpenSSL */
		c.alg_keytype = types[i].type;
		c.issuer_cn = c.subject_cn = types[i].id;
		c.spki = spki;
		c.spki_len = sl;
		c.ca = 1;
		tbs = th_tbs_cert(&c, &tl);
		der = sign_assemble(f, types[i].id, types[i].type,
		    SIGNER_TBS_CERT, tbs, tl, spki, sl, &dl);
		x = to_x509(der, dl);
		assert_true(x509_verifies(x, spki, sl));
		assert_int_equal(signer_set_cert(f->s, types[i].id, der, dl),
		    0);
		path = xasprintf("%s/%s.crt", f->dir, types[i].id);
		assert_int_equal(stat(path, &st), 0);
		free(path);
		X509_free(x);
		free(der);
		free(tbs);
		free(spki);
	}
}

static void
test_bad_key_ids(void **state)
{
	static const char *const bad[] = {"../x", "", "A", "a b", "x/y",
		"abcdefghijabcdefghijabcdefghijabc"};	/* 33 */
	struct fx *f = *state;
	struct rc_detail d = {""};
	uint8_t *p, der[4] = {0x30, 0x02, 0x05, 0x00};
	size_t n;
	int kt;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(signer_genkey(f->s, bad[i],
		    SIGNER_KEY_EC_P256, 0, &p, &n), RC_INVAL);
		assert_int_equal(signer_key_info(f->s, bad[i], &kt, &p, &n),
		    RC_INVAL);
		assert_int_equal(signer_set_cert(f->s, bad[i], der,
		    sizeof(der)), RC_INVAL);
		assert_int_equal(signer_sign(f->s, bad[i], SIGNER_TBS_CERT,
		    der, sizeof(der), &p, &n, &d), RC_INVAL);
	}
	assert_int_equal(signer_genkey(f->s, NULL, SIGNER_KEY_EC_P256, 0, &p,
	    &n), RC_INVAL);
	/* the signer checks the type */
	assert_int_equal(signer_genkey(f->s, "t-bad", 0, 0, &p, &n), RC_INVAL);
	assert_int_equal(signer_genkey(f->s, "t-bad", 42, 0, &p, &n),
	    RC_INVAL);
	assert_int_equal(signer_key_info(f->s, "t-bad", &kt, &p, &n),
	    RC_NOTFOUND);
}

static void
test_hierarchy(void **state)
{
	struct fx *f = *state;
	struct th_cert c = {0};
	X509_STORE *store;
	X509_STORE_CTX *ctx;
	uint8_t *tbs, *der;
	size_t tl, dl;

	assert_int_equal(signer_genkey(f->s, "root", SIGNER_KEY_EC_P384, 1,
	    &f->root_spki, &f->root_spki_len), 0);
	assert_int_equal(signer_genkey(f->s, "issuing", SIGNER_KEY_EC_P256, 0,
	    &f->iss_spki, &f->iss_spki_len), 0);
	/* root, self-signed */
	c.alg_keytype = SIGNER_KEY_EC_P384;
	c.issuer_cn = c.subject_cn = "Test Root";
	c.spki = f->root_spki;
	c.spki_len = f->root_spki_len;
	c.ca = 1;
	tbs = th_tbs_cert(&c, &tl);
	der = sign_assemble(f, "root", SIGNER_KEY_EC_P384, SIGNER_TBS_CERT,
	    tbs, tl, f->root_spki, f->root_spki_len, &dl);
	f->root_cert = to_x509(der, dl);
	assert_int_equal(signer_set_cert(f->s, "root", der, dl), 0);
	free(tbs);
	free(der);
	/* issuing CA, by the root */
	c.issuer_cn = "Test Root";
	c.subject_cn = "Test Issuing";
	c.spki = f->iss_spki;
	c.spki_len = f->iss_spki_len;
	tbs = th_tbs_cert(&c, &tl);
	der = sign_assemble(f, "root", SIGNER_KEY_EC_P384, SIGNER_TBS_CERT,
	    tbs, tl, f->root_spki, f->root_spki_len, &dl);
	f->iss_cert = to_x509(der, dl);
	assert_int_equal(signer_set_cert(f->s, "issuing", der, dl), 0);
	free(tbs);
	free(der);
	/* end entity, by the issuing CA */
	tbs = ee_tbs(f, &tl);
	der = sign_assemble(f, "issuing", SIGNER_KEY_EC_P256, SIGNER_TBS_CERT,
	    tbs, tl, f->iss_spki, f->iss_spki_len, &dl);
	f->ee_cert = to_x509(der, dl);
	free(tbs);
	free(der);
	/* OpenSSL verifies the whole chain */
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	assert_true(X509_STORE_add_cert(store, f->root_cert));
	{
		STACK_OF(X509) *untrusted = sk_X509_new_null();

		sk_X509_push(untrusted, f->iss_cert);
		assert_true(X509_STORE_CTX_init(ctx, store, f->ee_cert,
		    untrusted));
		if (X509_verify_cert(ctx) != 1)
			fail_msg("chain: %s", X509_verify_cert_error_string(
			    X509_STORE_CTX_get_error(ctx)));
		X509_STORE_CTX_free(ctx);
		sk_X509_free(untrusted);
	}
	X509_STORE_free(store);
}

#define assert_sign_refused(f, id, kind, p, n, want_rc, text)                 \
	do {                                                                  \
		struct rc_detail d_ = {""};                                   \
		uint8_t *sig_ = (uint8_t *)"x";                               \
		size_t sl_ = 1;                                               \
		assert_int_equal(signer_sign((f)->s, (id), (kind), (p), (n),  \
		    &sig_, &sl_, &d_), (want_rc));                            \
		assert_null(sig_);                                            \
		assert_int_equal(sl_, 0);                                     \
		if (strstr(d_.msg, (text)) == NULL)                           \
			fail_msg("reason \"%s\" lacks \"%s\"", d_.msg,     \
			    (text));                                          \
	} while (0)

static void
test_refusals(void **state)
{
	struct fx *f = *state;
	struct th_cert c = {0};
	uint8_t *tbs, *bad, *spki, *sig, rnd[512];
	size_t tl, sl;
	struct rc_detail d = {""};

	c.alg_keytype = SIGNER_KEY_EC_P256;
	c.issuer_cn = "Test Issuing";
	c.subject_cn = "www.example.com";
	c.spki = f->ee_spki;
	c.spki_len = f->ee_spki_len;
	/* wrong signature algorithm */
	c.alg_keytype = SIGNER_KEY_EC_P384;
	tbs = th_tbs_cert(&c, &tl);
	assert_sign_refused(f, "issuing", SIGNER_TBS_CERT, tbs, tl, RC_SIGNER,
	    "signature algorithm");
	free(tbs);
	c.alg_keytype = SIGNER_KEY_EC_P256;
	/* wrong issuer name */
	c.issuer_cn = "Test Root";
	tbs = th_tbs_cert(&c, &tl);
	assert_sign_refused(f, "issuing", SIGNER_TBS_CERT, tbs, tl, RC_SIGNER,
	    "issuer name");
	free(tbs);
	c.issuer_cn = "Test Issuing";
	/* a CA certificate by an issuing key */
	c.ca = 1;
	tbs = th_tbs_cert(&c, &tl);
	assert_sign_refused(f, "issuing", SIGNER_TBS_CERT, tbs, tl, RC_SIGNER,
	    "not a root key");
	free(tbs);
	c.ca = 0;
	/* self-signed by a non-root key */
	assert_int_equal(signer_genkey(f->s, "no-cert", SIGNER_KEY_EC_P256, 0,
	    &spki, &sl), 0);
	c.issuer_cn = c.subject_cn = "Self";
	c.spki = spki;
	c.spki_len = sl;
	tbs = th_tbs_cert(&c, &tl);
	assert_sign_refused(f, "no-cert", SIGNER_TBS_CERT, tbs, tl, RC_SIGNER,
	    "no certificate");
	free(tbs);
	free(spki);

	/* truncated, trailing garbage, random, empty, too big */
	tbs = ee_tbs(f, &tl);
	assert_sign_refused(f, "issuing", SIGNER_TBS_CERT, tbs, tl - 1,
	    RC_SIGNER, "TBSCertificate");
	assert_sign_refused(f, "issuing", SIGNER_TBS_CERT, tbs, tl / 2,
	    RC_SIGNER, "TBSCertificate");
	bad = malloc(tl + 3);
	memcpy(bad, tbs, tl);
	memcpy(bad + tl, "\x00\x01\x02", 3);
	assert_sign_refused(f, "issuing", SIGNER_TBS_CERT, bad, tl + 3,
	    RC_SIGNER, "trailing");
	free(bad);
	srand(7);
	for (size_t i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)rand();
	assert_sign_refused(f, "issuing", SIGNER_TBS_CERT, rnd, sizeof(rnd),
	    RC_SIGNER, "");
	assert_sign_refused(f, "issuing", SIGNER_TBS_CRL, rnd, sizeof(rnd),
	    RC_SIGNER, "");
	assert_sign_refused(f, "issuing", SIGNER_TBS_OCSP, rnd, sizeof(rnd),
	    RC_SIGNER, "");
	assert_sign_refused(f, "issuing", SIGNER_TBS_CERT, NULL, 0, RC_SIGNER,
	    "empty");
	bad = calloc(1, SIGNER_MAX_MSG + 1);
	assert_sign_refused(f, "issuing", SIGNER_TBS_CERT, bad,
	    SIGNER_MAX_MSG + 1, RC_TOOBIG, "");
	/* just under the limit of a message: sent, parsed, refused */
	bad[0] = 0x30;
	assert_sign_refused(f, "issuing", SIGNER_TBS_CERT, bad,
	    SIGNER_MAX_MSG - 64, RC_SIGNER, "TBSCertificate");
	free(bad);
	/* unknown key, unknown kind */
	assert_sign_refused(f, "nosuchkey", SIGNER_TBS_CERT, tbs, tl,
	    RC_NOTFOUND, "no key");
	assert_sign_refused(f, "issuing", 9, tbs, tl, RC_INVAL, "kind");
	/* a certificate TBS is neither a CRL nor an OCSP response */
	assert_sign_refused(f, "issuing", SIGNER_TBS_CRL, tbs, tl, RC_SIGNER,
	    "TBSCertList");
	assert_sign_refused(f, "issuing", SIGNER_TBS_OCSP, tbs, tl, RC_SIGNER,
	    "ResponseData");
	/* and after all that, the signer still signs */
	assert_int_equal(signer_sign(f->s, "issuing", SIGNER_TBS_CERT, tbs,
	    tl, &sig, &sl, &d), 0);
	assert_true(th_verify(f->iss_spki, f->iss_spki_len,
	    SIGNER_KEY_EC_P256, tbs, tl, sig, sl));
	free(sig);
	free(tbs);
}

static void
test_set_cert_refused(void **state)
{
	struct fx *f = *state;
	uint8_t *der = NULL;
	int n = i2d_X509(f->root_cert, &der);

	/* the root's certificate is not the issuing key's */
	assert_int_equal(signer_set_cert(f->s, "issuing", der, (size_t)n),
	    RC_SIGNER);
	assert_int_equal(signer_set_cert(f->s, "issuing", der, (size_t)n - 1),
	    RC_SIGNER);
	assert_int_equal(signer_set_cert(f->s, "issuing", der, 0), RC_SIGNER);
	assert_int_equal(signer_set_cert(f->s, "nosuchkey", der, (size_t)n),
	    RC_NOTFOUND);
	assert_int_equal(signer_set_cert(f->s, "issuing", der,
	    SIGNER_MAX_MSG + 1), RC_TOOBIG);
	OPENSSL_free(der);
	/* a CA certificate under the root's name, signed by another key
	 * than the root's: the signer verifies what the CA core sends */
	{
		EVP_PKEY *other = th_keygen(SIGNER_KEY_EC_P384);
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		struct th_cert c = {0};
		uint8_t *tbs, sig[256];
		size_t tl, sl = sizeof(sig), dl, al;
		const uint8_t *alg = signer_sigalg_der(SIGNER_KEY_EC_P384,
		    &al);

		c.alg_keytype = SIGNER_KEY_EC_P384;
		c.issuer_cn = "Test Root";
		c.subject_cn = "Test Issuing";
		c.spki = f->iss_spki;
		c.spki_len = f->iss_spki_len;
		c.ca = 1;
		tbs = th_tbs_cert(&c, &tl);
		assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha384(),
		    NULL, other), 1);
		assert_int_equal(EVP_DigestSign(ctx, sig, &sl, tbs, tl), 1);
		der = th_assemble(tbs, tl, alg, al, sig, sl, &dl);
		assert_int_equal(signer_set_cert(f->s, "issuing", der, dl),
		    RC_SIGNER);
		free(der);
		free(tbs);
		EVP_MD_CTX_free(ctx);
		EVP_PKEY_free(other);
	}
	/* the issuing key still has its own: it signs under that name */
	{
		uint8_t *tbs, *sig;
		size_t tl, sl;
		struct rc_detail d = {""};

		tbs = ee_tbs(f, &tl);
		assert_int_equal(signer_sign(f->s, "issuing", SIGNER_TBS_CERT,
		    tbs, tl, &sig, &sl, &d), 0);
		free(sig);
		free(tbs);
	}
}

static void
test_crl(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *pub = th_pkey_from_spki(f->iss_spki, f->iss_spki_len);

	for (int nrev = 0; nrev <= 2; nrev += 2) {
		uint8_t *tbs, *der;
		const uint8_t *p;
		size_t tl, dl;
		X509_CRL *crl;

		tbs = th_tbs_crl(f->ee, "Test Issuing", nrev, &tl);
		der = sign_assemble(f, "issuing", SIGNER_KEY_EC_P256,
		    SIGNER_TBS_CRL, tbs, tl, f->iss_spki, f->iss_spki_len, &dl);
		p = der;
		crl = d2i_X509_CRL(NULL, &p, (long)dl);
		assert_non_null(crl);
		assert_int_equal(X509_CRL_verify(crl, pub), 1);
		assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl),
		    X509_get_subject_name(f->iss_cert)), 0);
		X509_CRL_free(crl);
		/* the root may not sign the issuing CA's CRL */
		assert_sign_refused(f, "root", SIGNER_TBS_CRL, tbs, tl,
		    RC_SIGNER, "");
		free(tbs);
		free(der);
	}
	EVP_PKEY_free(pub);
}

static void
test_ocsp(void **state)
{
	struct fx *f = *state;

	for (int by_key = 0; by_key <= 1; by_key++) {
		STACK_OF(X509) *certs = sk_X509_new_null();
		X509_STORE *store = X509_STORE_new();
		OCSP_BASICRESP *bs;
		uint8_t *tbs, *der;
		const uint8_t *p;
		size_t tl, dl;

		tbs = th_tbs_ocsp(f->iss_cert, f->iss_cert, f->ee_cert, by_key,
		    &tl);
		der = sign_assemble(f, "issuing", SIGNER_KEY_EC_P256,
		    SIGNER_TBS_OCSP, tbs, tl, f->iss_spki, f->iss_spki_len,
		    &dl);
		p = der;
		bs = d2i_OCSP_BASICRESP(NULL, &p, (long)dl);
		assert_non_null(bs);
		/* OpenSSL finds the responder by the responder id and
		 * checks the signature with its key */
		sk_X509_push(certs, f->iss_cert);
		assert_int_equal(OCSP_basic_verify(bs, certs, store,
		    OCSP_NOVERIFY), 1);
		OCSP_BASICRESP_free(bs);
		sk_X509_free(certs);
		X509_STORE_free(store);
		assert_sign_refused(f, "root", SIGNER_TBS_OCSP, tbs, tl,
		    RC_SIGNER, "ResponseData");
		free(tbs);
		free(der);
	}
}

/* A certificate and its OCSP response in one request: both signatures
 * verify; a refused document refuses the whole request; 0 or more than
 * SIGNER_SIGN_MAX documents are a caller error. */
static void
test_sign_many(void **state)
{
	struct fx *f = *state;
	struct rc_detail d = {""};
	struct signer_tbs t[SIGNER_SIGN_MAX + 1];
	struct th_cert c = {0};
	uint8_t *cert_tbs, *ocsp_tbs, *bad_tbs;
	size_t cl, ol, bl;

	cert_tbs = ee_tbs(f, &cl);
	ocsp_tbs = th_tbs_ocsp(f->iss_cert, f->iss_cert, f->ee_cert, 0, &ol);
	memset(t, 0, sizeof(t));
	t[0] = (struct signer_tbs){SIGNER_TBS_CERT, cert_tbs, cl, NULL, 0};
	t[1] = (struct signer_tbs){SIGNER_TBS_OCSP, ocsp_tbs, ol, NULL, 0};
	assert_int_equal(signer_sign_many(f->s, "issuing", 2, t, &d), 0);
	assert_true(th_verify(f->iss_spki, f->iss_spki_len,
	    SIGNER_KEY_EC_P256, cert_tbs, cl, t[0].sig, t[0].sig_len));
	assert_true(th_verify(f->iss_spki, f->iss_spki_len,
	    SIGNER_KEY_EC_P256, ocsp_tbs, ol, t[1].sig, t[1].sig_len));
	free(t[0].sig);
	free(t[1].sig);

	/* the second document is for another issuer: nothing is signed */
	c.alg_keytype = SIGNER_KEY_EC_P256;
	c.issuer_cn = "Test Root";
	c.subject_cn = "www.example.com";
	c.spki = f->ee_spki;
	c.spki_len = f->ee_spki_len;
	bad_tbs = th_tbs_cert(&c, &bl);
	t[0] = (struct signer_tbs){SIGNER_TBS_CERT, cert_tbs, cl, NULL, 0};
	t[1] = (struct signer_tbs){SIGNER_TBS_CERT, bad_tbs, bl, NULL, 0};
	assert_int_equal(signer_sign_many(f->s, "issuing", 2, t, &d),
	    RC_SIGNER);
	assert_non_null(strstr(d.msg, "issuer name"));
	assert_null(t[0].sig);
	assert_null(t[1].sig);

	/* four at once; five and none are refused before the signer */
	for (int i = 0; i < SIGNER_SIGN_MAX + 1; i++)
		t[i] = (struct signer_tbs){SIGNER_TBS_CERT, cert_tbs, cl,
		    NULL, 0};
	assert_int_equal(signer_sign_many(f->s, "issuing", SIGNER_SIGN_MAX,
	    t, &d), 0);
	for (int i = 0; i < SIGNER_SIGN_MAX; i++) {
		assert_true(th_verify(f->iss_spki, f->iss_spki_len,
		    SIGNER_KEY_EC_P256, cert_tbs, cl, t[i].sig,
		    t[i].sig_len));
		free(t[i].sig);
	}
	assert_int_equal(signer_sign_many(f->s, "issuing",
	    SIGNER_SIGN_MAX + 1, t, &d), RC_INVAL);
	assert_int_equal(signer_sign_many(f->s, "issuing", 0, t, &d),
	    RC_INVAL);
	/* the channel still works */
	assert_int_equal(signer_sign_many(f->s, "issuing", 1, t, &d), 0);
	free(t[0].sig);
	free(cert_tbs);
	free(ocsp_tbs);
	free(bad_tbs);
}

static void
test_restart(void **state)
{
	struct fx *f = *state;
	struct rc_detail d = {""};
	uint8_t *spki, *tbs, *sig;
	size_t sl, tl, sigl;
	int kt;

	signer_free(f->s);
	f->s = NULL;
	assert_int_equal(signer_spawn(f->dir, &f->s), 0);
	assert_int_equal(signer_key_info(f->s, "root", &kt, &spki, &sl), 0);
	assert_int_equal(kt, SIGNER_KEY_EC_P384);
	assert_int_equal(sl, f->root_spki_len);
	assert_memory_equal(spki, f->root_spki, sl);
	free(spki);
	assert_int_equal(signer_genkey(f->s, "root", SIGNER_KEY_EC_P256, 1,
	    &spki, &sl), RC_EXISTS);
	/* the issuing key came back with its certificate and its role */
	tbs = ee_tbs(f, &tl);
	assert_int_equal(signer_sign(f->s, "issuing", SIGNER_TBS_CERT, tbs,
	    tl, &sig, &sigl, &d), 0);
	assert_true(th_verify(f->iss_spki, f->iss_spki_len,
	    SIGNER_KEY_EC_P256, tbs, tl, sig, sigl));
	free(sig);
	free(tbs);
	{
		struct th_cert c = {0};

		c.alg_keytype = SIGNER_KEY_EC_P256;
		c.issuer_cn = "Test Issuing";
		c.subject_cn = "sub-ca";
		c.spki = f->ee_spki;
		c.spki_len = f->ee_spki_len;
		c.ca = 1;
		tbs = th_tbs_cert(&c, &tl);
		assert_sign_refused(f, "issuing", SIGNER_TBS_CERT, tbs, tl,
		    RC_SIGNER, "not a root key");
		free(tbs);
	}
}

/* A CA certificate for the key in spki, subject cn, under "Test Root":
 * signed by the root key through the signer s, or by the key other when
 * it is not NULL (a root of another CA under the same name). New DER
 * (free()). */
static uint8_t *
ca_cert(struct fx *f, struct signer *s, EVP_PKEY *other, const char *cn,
    const uint8_t *spki, size_t spki_len, int self, size_t *len)
{
	struct th_cert c = {0};
	struct rc_detail d = {""};
	uint8_t *tbs, *sig = NULL, *der, osig[256];
	size_t tl, sl = sizeof(osig), al;
	const uint8_t *alg = signer_sigalg_der(SIGNER_KEY_EC_P384, &al);
	int rc;

	c.alg_keytype = SIGNER_KEY_EC_P384;
	c.issuer_cn = self ? cn : "Test Root";
	c.subject_cn = cn;
	c.spki = spki;
	c.spki_len = spki_len;
	c.ca = 1;
	tbs = th_tbs_cert(&c, &tl);
	if (other != NULL) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha384(),
		    NULL, other), 1);
		assert_int_equal(EVP_DigestSign(ctx, osig, &sl, tbs, tl), 1);
		EVP_MD_CTX_free(ctx);
		der = th_assemble(tbs, tl, alg, al, osig, sl, len);
	} else {
		rc = signer_sign(s, self ? cn : "root", SIGNER_TBS_CERT, tbs,
		    tl, &sig, &sl, &d);
		if (rc != 0)
			fail_msg("sign %s: %s", cn, rc_detail_str(&d, rc));
		der = th_assemble(tbs, tl, alg, al, sig, sl, len);
	}
	(void)f;
	free(sig);
	free(tbs);
	return der;
}

/* Writes der as dir/<id>.crt, as a CA core running as the signer's
 * user could. */
static void
write_crt(struct fx *f, const char *id, const uint8_t *der, size_t len)
{
	char *path = xasprintf("%s/%s.crt", f->dir, id);
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(der, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0600), 0);
	free(path);
}

/* LOADKEY refused with want_rc and a reason that has text. */
static void
assert_load_refused(struct signer *s, const char *id, int want_rc,
    const char *text)
{
	struct rc_detail d = {""};

	assert_int_equal(signer_load_key(s, id, &d), want_rc);
	if (strstr(d.msg, text) == NULL)
		fail_msg("LOADKEY %s: reason \"%s\" lacks \"%s\"",
		    id ? id : "(null)", d.msg, text);
}

/* 1 when s signs an end-entity TBS with key id (whose key is spki) and
 * the signature verifies; 0 when it has no such key. */
static int
signs_with(struct fx *f, struct signer *s, const char *id,
    const uint8_t *spki, size_t spki_len, const char *issuer_cn)
{
	struct th_cert c = {0};
	struct rc_detail d = {""};
	uint8_t *tbs, *sig;
	size_t tl, sl;
	int rc, ok;

	c.alg_keytype = SIGNER_KEY_EC_P256;
	c.issuer_cn = issuer_cn;
	c.subject_cn = "www.example.com";
	c.spki = f->ee_spki;
	c.spki_len = f->ee_spki_len;
	tbs = th_tbs_cert(&c, &tl);
	rc = signer_sign(s, id, SIGNER_TBS_CERT, tbs, tl, &sig, &sl, &d);
	if (rc == RC_NOTFOUND) {
		free(tbs);
		return 0;
	}
	if (rc != 0)
		fail_msg("sign with %s: %s", id, rc_detail_str(&d, rc));
	ok = th_verify(spki, spki_len, SIGNER_KEY_EC_P256, tbs, tl, sig, sl);
	free(sig);
	free(tbs);
	assert_true(ok);
	return 1;
}

/*
 * A `ca roll` by another process while this signer runs: the other
 * signer (s2, on the same key directory) makes issuing-2 and its
 * certificate; this one signs with it only once asked to load it
 * (LOADKEY), and refuses to load what the root does not vouch for: a
 * certificate under the root's name signed by another key, a key
 * without a certificate, a root key, ids with path characters and
 * unknown ids. A key held without a certificate gets its certificate
 * once one is there.
 */
static void
test_load_key(void **state)
{
	static const char *const bad[] = {"../keys/issuing-2", "a/b", "",
		"Issuing-2", "issuing-2.key",
		"abcdefghijabcdefghijabcdefghijabc"};	/* 33 */
	struct fx *f = *state;
	struct signer *s2, *s3, *s4;
	EVP_PKEY *other = th_keygen(SIGNER_KEY_EC_P384);
	uint8_t *spki2, *spki3, *spki4, *spkir, *spkir3, *der, *buf;
	struct signer_field fl;
	size_t sl2, sl3, sl4, slr, slr3, dl, n;
	char *role;
	FILE *rf;
	int rop, rrc;

	assert_int_equal(signer_spawn(f->dir, &s2), 0);
	assert_int_equal(signer_genkey(s2, "issuing-2", SIGNER_KEY_EC_P256, 0,
	    &spki2, &sl2), 0);
	der = ca_cert(f, s2, NULL, "Test Issuing 2", spki2, sl2, 0, &dl);
	assert_int_equal(signer_set_cert(s2, "issuing-2", der, dl), 0);
	free(der);
	/* not held here until asked for; then as at start, once */
	assert_false(signs_with(f, f->s, "issuing-2", spki2, sl2,
	    "Test Issuing 2"));
	assert_int_equal(signer_load_key(f->s, "issuing-2", NULL), 0);
	assert_true(signs_with(f, f->s, "issuing-2", spki2, sl2,
	    "Test Issuing 2"));
	assert_int_equal(signer_load_key(f->s, "issuing-2", NULL), 0);
	assert_int_equal(signer_load_key(f->s, "issuing", NULL), 0);
	assert_true(signs_with(f, f->s, "issuing", f->iss_spki,
	    f->iss_spki_len, "Test Issuing"));

	/* ids that are no key id: refused by the stub, and by the signer
	 * when they reach it anyway */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_load_refused(f->s, bad[i], RC_INVAL, "bad key id");
	assert_load_refused(f->s, NULL, RC_INVAL, "bad key id");
	buf = malloc(4 + SIGNER_MAX_MSG);
	for (size_t i = 0; i < 2; i++) {
		struct rc_detail d = {""};

		fl.p = (const uint8_t *)bad[i];
		fl.len = strlen(bad[i]);
		assert_int_equal(signer_wire_encode(buf, &n,
		    SIGNER_OP_LOADKEY, &fl, 1), 0);
		assert_int_equal(signer_raw_send(f->s, buf, n), 0);
		assert_int_equal(signer_raw_recv(f->s, &rop, &rrc, &d), 0);
		assert_int_equal(rop, SIGNER_OP_LOADKEY);
		assert_int_equal(rrc, RC_INVAL);
	}
	free(buf);
	assert_load_refused(f->s, "issuing-9", RC_NOTFOUND,
	    "no key issuing-9");

	/* issuing-3's certificate names the root but another key signed
	 * it (written by hand: s2 would not take it) */
	assert_int_equal(signer_genkey(s2, "issuing-3", SIGNER_KEY_EC_P256, 0,
	    &spki3, &sl3), 0);
	der = ca_cert(f, NULL, other, "Test Issuing 3", spki3, sl3, 0, &dl);
	assert_int_equal(signer_set_cert(s2, "issuing-3", der, dl),
	    RC_SIGNER);
	write_crt(f, "issuing-3", der, dl);
	free(der);
	assert_load_refused(f->s, "issuing-3", RC_SIGNER,
	    "not signed by a root key of this signer");
	assert_false(signs_with(f, f->s, "issuing-3", spki3, sl3,
	    "Test Issuing 3"));
	/* issuing-4 has no certificate yet; issuing-2's is not its own */
	assert_int_equal(signer_genkey(s2, "issuing-4", SIGNER_KEY_EC_P256, 0,
	    &spki4, &sl4), 0);
	assert_load_refused(f->s, "issuing-4", RC_SIGNER,
	    "key issuing-4 has no certificate");
	assert_int_equal(signer_set_cert(f->s, "issuing-4", (const uint8_t *)
	    "x", 1), RC_NOTFOUND);
	/* issuing-5's certificate file holds issuing-2's certificate */
	{
		uint8_t *spki5;
		size_t sl5;
		char *crt2 = xasprintf("%s/issuing-2.crt", f->dir);
		FILE *fp = fopen(crt2, "rb");
		uint8_t b[4096];
		size_t bl;

		assert_non_null(fp);
		bl = fread(b, 1, sizeof(b), fp);
		fclose(fp);
		free(crt2);
		assert_int_equal(signer_genkey(s2, "issuing-5",
		    SIGNER_KEY_EC_P256, 0, &spki5, &sl5), 0);
		write_crt(f, "issuing-5", b, bl);
		assert_load_refused(f->s, "issuing-5", RC_SIGNER,
		    "public key is not the one of key issuing-5");
		free(spki5);
	}
	/* a root made since: never loaded after the start, for it would
	 * vouch for itself */
	assert_int_equal(signer_genkey(s2, "root-2", SIGNER_KEY_EC_P384, 1,
	    &spkir, &slr), 0);
	der = ca_cert(f, s2, NULL, "root-2", spkir, slr, 1, &dl);
	assert_int_equal(signer_set_cert(s2, "root-2", der, dl), 0);
	free(der);
	assert_load_refused(f->s, "root-2", RC_SIGNER, "is a root key");

	/* s3 starts while issuing-4 has no certificate: it holds the key
	 * without one, and takes the certificate made since when asked;
	 * and while root-3 is a root key without one */
	assert_int_equal(signer_genkey(s2, "root-3", SIGNER_KEY_EC_P384, 1,
	    &spkir3, &slr3), 0);
	assert_int_equal(signer_spawn(f->dir, &s3), 0);
	/* root-3's role file turned into an issuing key's since, with an
	 * issuing certificate for its key: s3 holds it as a root all the
	 * same, and a root never takes an issuing key's certificate */
	role = xasprintf("%s/root-3.role", f->dir);
	rf = fopen(role, "w");
	assert_non_null(rf);
	assert_int_equal(fputs("issuing\n", rf) >= 0, 1);
	assert_int_equal(fclose(rf), 0);
	free(role);
	assert_int_equal(signer_spawn(f->dir, &s4), 0);  /* an issuing key */
	der = ca_cert(f, s4, NULL, "Test Issuing R3", spkir3, slr3, 0, &dl);
	signer_free(s4);
	write_crt(f, "root-3", der, dl);
	free(der);
	assert_load_refused(s3, "root-3", RC_SIGNER,
	    "held already as a root key");
	assert_load_refused(s3, "issuing-4", RC_SIGNER,
	    "key issuing-4 has no certificate");
	der = ca_cert(f, s2, NULL, "Test Issuing 4", spki4, sl4, 0, &dl);
	assert_int_equal(signer_set_cert(s2, "issuing-4", der, dl), 0);
	free(der);
	assert_int_equal(signer_load_key(s3, "issuing-4", NULL), 0);
	assert_true(signs_with(f, s3, "issuing-4", spki4, sl4,
	    "Test Issuing 4"));
	assert_int_equal(signer_load_key(f->s, "issuing-4", NULL), 0);
	assert_true(signs_with(f, f->s, "issuing-4", spki4, sl4,
	    "Test Issuing 4"));
	/* the refusals changed nothing that was held */
	assert_true(signs_with(f, f->s, "issuing-2", spki2, sl2,
	    "Test Issuing 2"));

	signer_free(s3);
	signer_free(s2);
	EVP_PKEY_free(other);
	free(spki2);
	free(spki3);
	free(spki4);
	free(spkir);
	free(spkir3);
}

struct worker {
	struct fx *f;
	int ok;
};

static void *
sign_loop(void *arg)
{
	struct worker *w = arg;
	uint8_t *tbs, *sig;
	size_t tl, sl;

	tbs = ee_tbs(w->f, &tl);
	for (int i = 0; i < 100; i++) {
		struct rc_detail d = {""};

		if (signer_sign(w->f->s, "issuing", SIGNER_TBS_CERT, tbs, tl,
		    &sig, &sl, &d) != 0)
			break;
		if (th_verify(w->f->iss_spki, w->f->iss_spki_len,
		    SIGNER_KEY_EC_P256, tbs, tl, sig, sl))
			w->ok++;
		free(sig);
	}
	free(tbs);
	return NULL;
}

static void
test_two_threads(void **state)
{
	struct worker w[2] = {{*state, 0}, {*state, 0}};
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, sign_loop, &w[i]),
		    0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(w[0].ok, 100);
	assert_int_equal(w[1].ok, 100);
}

/* The framing itself, in-process (signer_int.h). */
static void
test_wire_format(void **state)
{
	uint8_t *buf = malloc(4 + SIGNER_MAX_MSG), *big, u[8];
	struct signer_field f[SIGNER_WIRE_MAX_FIELDS + 1];
	struct signer_wmsg m;
	uint32_t v;
	uint64_t w;
	size_t n;

	signer_put_u32(u, 0xdeadbeef);
	f[0] = (struct signer_field){(const uint8_t *)"key", 3};
	f[1] = (struct signer_field){u, 4};
	f[2] = (struct signer_field){NULL, 0};
	assert_int_equal(signer_wire_encode(buf, &n, 0x04, f, 3), 0);
	assert_int_equal(n, 4 + 1 + 7 + 8 + 4);
	assert_memory_equal(buf, "\x00\x00\x00\x14\x04\x00\x00\x00\x03key",
	    12);
	assert_int_equal(signer_wire_parse(buf + 4, n - 4, &m), 0);
	assert_int_equal(m.op, 0x04);
	assert_int_equal(m.nf, 3);
	assert_int_equal(m.f[0].len, 3);
	assert_memory_equal(m.f[0].p, "key", 3);
	assert_int_equal(signer_field_u32(&m.f[1], &v), 0);
	assert_int_equal(v, 0xdeadbeef);
	assert_int_equal(signer_field_u32(&m.f[0], &v), RC_PROTO);
	assert_int_equal(signer_field_u64(&m.f[1], &w), RC_PROTO);
	assert_int_equal(m.f[2].len, 0);
	/* cut inside a field header or a field body: refused */
	for (size_t cut = 0; cut < n - 4; cut++) {
		int rc = signer_wire_parse(buf + 4, cut, &m);

		if (cut == 0 || (cut != 1 && cut != 8 && cut != 16))
			assert_int_equal(rc, RC_PROTO);
		else
			assert_int_equal(rc, 0);	/* whole fields */
	}
	/* a field claiming more than there is */
	memcpy(buf, "\x07\xff\xff\xff\xff" "ab", 7);
	assert_int_equal(signer_wire_parse(buf, 7, &m), RC_PROTO);
	/* too many fields, too big */
	for (int i = 0; i <= SIGNER_WIRE_MAX_FIELDS; i++)
		f[i] = (struct signer_field){u, 0};
	assert_int_equal(signer_wire_encode(buf, &n, 1, f,
	    SIGNER_WIRE_MAX_FIELDS + 1), RC_INVAL);
	assert_int_equal(signer_wire_encode(buf, &n, 1, f,
	    SIGNER_WIRE_MAX_FIELDS), 0);
	assert_int_equal(signer_wire_parse(buf + 4, n - 4, &m), 0);
	assert_int_equal(m.nf, SIGNER_WIRE_MAX_FIELDS);
	memcpy(buf + n, "\x00\x00\x00\x00", 4);	/* one more */
	assert_int_equal(signer_wire_parse(buf + 4, n, &m), RC_PROTO);
	big = calloc(1, SIGNER_MAX_MSG);
	f[0] = (struct signer_field){big, SIGNER_MAX_MSG - 5};
	assert_int_equal(signer_wire_encode(buf, &n, 1, f, 1), 0);
	assert_int_equal(n, 4 + SIGNER_MAX_MSG);
	f[0].len++;
	assert_int_equal(signer_wire_encode(buf, &n, 1, f, 1), RC_TOOBIG);
	signer_put_u64(u, 0);
	free(big);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_format),
		cmocka_unit_test(test_genkey_every_type),
		cmocka_unit_test(test_bad_key_ids),
		cmocka_unit_test(test_hierarchy),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_set_cert_refused),
		cmocka_unit_test(test_crl),
		cmocka_unit_test(test_ocsp),
		cmocka_unit_test(test_sign_many),
		cmocka_unit_test(test_restart),
		cmocka_unit_test(test_load_key),
		cmocka_unit_test(test_two_threads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
