/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/signer/check.c, in-process: real TBSCertificate,
 * TBSCertList and ResponseData bytes built with OpenSSL pass; every rule
 * of the signer refuses what it must; hostile DER (every truncation, every
 * bit flip, hand-made malformations) is refused cleanly, never read past
 * (buffers are allocated to the exact size so ASan sees overreads).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "signer/signer_int.h"
#include "test_helpers.h"
#include "util/der.h"

#include <openssl/ocsp.h>
#include <openssl/x509.h>

/* A root and an issuing CA whose keys the test holds, plus the same keys
 * as the signer sees them (struct signer_key). */
struct fx {
	EVP_PKEY *root_priv, *iss_priv, *ee;
	struct signer_key root, iss;
	uint8_t *root_spki, *iss_spki, *ee_spki;
	size_t root_spki_len, iss_spki_len, ee_spki_len;
	X509 *root_cert, *iss_cert, *ee_cert;
};

static void
key_init(struct signer_key *k, const char *id, int keytype, int is_root,
    const uint8_t *spki, size_t spki_len)
{
	memset(k, 0, sizeof(*k));
	strcpy(k->id, id);
	k->keytype = keytype;
	k->is_root = is_root;
	assert_int_equal(signer_key_set_spki(k, spki, spki_len), 0);
}

static void
key_clear(struct signer_key *k)
{
	free(k->spki);
	free(k->cert);
	memset(k, 0, sizeof(*k));
}

/* Signs tbs locally and assembles the certificate DER (free()). */
static uint8_t *
sign_local(EVP_PKEY *priv, int keytype, const uint8_t *tbs, size_t len,
    size_t *out_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t sig[1024], *der;
	size_t sig_len = sizeof(sig), alg_len;
	const uint8_t *alg = signer_sigalg_der(keytype, &alg_len);

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL,
	    keytype == SIGNER_KEY_EC_P384 ? EVP_sha384() : EVP_sha256(), NULL,
	    priv), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len, tbs, len), 1);
	EVP_MD_CTX_free(ctx);
	der = th_assemble(tbs, len, alg, alg_len, sig, sig_len, out_len);
	return der;
}

static X509 *
to_x509(const uint8_t *der, size_t len)
{
	const uint8_t *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	assert_non_null(x);
	return x;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct th_cert c = {0};
	struct rc_detail d = {""};
	uint8_t *tbs, *der;
	size_t tl, dl;

	f->root_priv = th_keygen(SIGNER_KEY_EC_P256);
	f->iss_priv = th_keygen(SIGNER_KEY_EC_P256);
	f->ee = th_keygen(SIGNER_KEY_EC_P256);
	f->root_spki = th_spki(f->root_priv, &f->root_spki_len);
	f->iss_spki = th_spki(f->iss_priv, &f->iss_spki_len);
	f->ee_spki = th_spki(f->ee, &f->ee_spki_len);
	key_init(&f->root, "root", SIGNER_KEY_EC_P256, 1, f->root_spki,
	    f->root_spki_len);
	key_init(&f->iss, "issuing-1", SIGNER_KEY_EC_P256, 0, f->iss_spki,
	    f->iss_spki_len);
	f->root.next = &f->iss;	/* the keys the signer holds */

	/* self-signed root */
	c.alg_keytype = SIGNER_KEY_EC_P256;
	c.issuer_cn = c.subject_cn = "Test Root";
	c.spki = f->root_spki;
	c.spki_len = f->root_spki_len;
	c.ca = 1;
	tbs = th_tbs_cert(&c, &tl);
	assert_int_equal(signer_check_tbs(&f->root, &f->root, SIGNER_TBS_CERT,
	    tbs, tl, &d), 0);
	der = sign_local(f->root_priv, SIGNER_KEY_EC_P256, tbs, tl, &dl);
	f->root_cert = to_x509(der, dl);
	assert_int_equal(signer_key_set_cert(&f->root, der, dl, &d), 0);
	free(tbs);
	free(der);

	/* issuing CA, by the root */
	c.issuer_cn = "Test Root";
	c.subject_cn = "Test Issuing";
	c.spki = f->iss_spki;
	c.spki_len = f->iss_spki_len;
	tbs = th_tbs_cert(&c, &tl);
	assert_int_equal(signer_check_tbs(&f->root, &f->root, SIGNER_TBS_CERT,
	    tbs, tl, &d), 0);
	der = sign_local(f->root_priv, SIGNER_KEY_EC_P256, tbs, tl, &dl);
	f->iss_cert = to_x509(der, dl);
	assert_int_equal(signer_key_set_cert(&f->iss, der, dl, &d), 0);
	free(tbs);
	free(der);

	/* an end-entity certificate, by the issuing CA */
	c.issuer_cn = "Test Issuing";
	c.subject_cn = "www.example.com";
	c.spki = f->ee_spki;
	c.spki_len = f->ee_spki_len;
	c.ca = 0;
	tbs = th_tbs_cert(&c, &tl);
	der = sign_local(f->iss_priv, SIGNER_KEY_EC_P256, tbs, tl, &dl);
	f->ee_cert = to_x509(der, dl);
	free(tbs);
	free(der);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	key_clear(&f->root);
	key_clear(&f->iss);
	EVP_PKEY_free(f->root_priv);
	EVP_PKEY_free(f->iss_priv);
	EVP_PKEY_free(f->ee);
	free(f->root_spki);
	free(f->iss_spki);
	free(f->ee_spki);
	X509_free(f->root_cert);
	X509_free(f->iss_cert);
	X509_free(f->ee_cert);
	free(f);
	return 0;
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

/* Checks p[0..n) from an exact-size copy; returns the rc. */
static int
check_copy(const struct signer_key *k, int kind, const uint8_t *p, size_t n,
    struct rc_detail *d)
{
	uint8_t *copy = malloc(n ? n : 1);
	int rc;

	memcpy(copy, p, n);
	rc = signer_check_tbs(k, k, kind, copy, n, d);
	free(copy);
	return rc;
}

#define assert_refused(k, kind, p, n, text)                                   \
	do {                                                                  \
		struct rc_detail d_ = {""};                                   \
		assert_int_equal(check_copy((k), (kind), (p), (n), &d_),      \
		    RC_SIGNER);                                               \
		if (strstr(d_.msg, (text)) == NULL)                           \
			fail_msg("reason \"%s\" lacks \"%s\"", d_.msg,     \
			    (text));                                          \
	} while (0)

static void
test_sigalg_der(void **state)
{
	static const uint8_t es256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
		0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
	static const uint8_t es384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
		0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
	static const uint8_t rs256[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86,
		0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
	const uint8_t *p;
	size_t n;

	p = signer_sigalg_der(SIGNER_KEY_EC_P256, &n);
	assert_int_equal(n, sizeof(es256));
	assert_memory_equal(p, es256, n);
	p = signer_sigalg_der(SIGNER_KEY_EC_P384, &n);
	assert_int_equal(n, sizeof(es384));
	assert_memory_equal(p, es384, n);
	for (int t = SIGNER_KEY_RSA_2048; t <= SIGNER_KEY_RSA_4096; t++) {
		p = signer_sigalg_der(t, &n);
		assert_int_equal(n, sizeof(rs256));
		assert_memory_equal(p, rs256, n);
	}
	assert_null(signer_sigalg_der(0, &n));
	assert_null(signer_sigalg_der(6, &n));
	assert_null(signer_sigalg_der(-1, NULL));
}

static void
test_keyid(void **state)
{
	char long_id[40];

	assert_true(signer_keyid_valid("root"));
	assert_true(signer_keyid_valid("issuing-2026-a"));
	assert_true(signer_keyid_valid("0"));
	memset(long_id, 'a', 32);
	long_id[32] = '\0';
	assert_true(signer_keyid_valid(long_id));
	long_id[32] = 'a';
	long_id[33] = '\0';
	assert_false(signer_keyid_valid(long_id));
	assert_false(signer_keyid_valid(""));
	assert_false(signer_keyid_valid(NULL));
	assert_false(signer_keyid_valid("../x"));
	assert_false(signer_keyid_valid("a/b"));
	assert_false(signer_keyid_valid("A"));
	assert_false(signer_keyid_valid("a b"));
	assert_false(signer_keyid_valid("a.key"));
	assert_false(signer_keyid_valid("a_b"));
	assert_false(signer_keyid_valid("\xc3\xa9"));
}

static void
test_cert_accepted(void **state)
{
	struct fx *f = *state;
	struct rc_detail d = {""};
	struct th_cert c = {0};
	uint8_t *tbs;
	size_t tl;

	tbs = ee_tbs(f, &tl);
	assert_int_equal(check_copy(&f->iss, SIGNER_TBS_CERT, tbs, tl, &d), 0);
	free(tbs);
	/* the root re-certifying itself (issuer = its subject) is fine */
	c.alg_keytype = SIGNER_KEY_EC_P256;
	c.issuer_cn = c.subject_cn = "Test Root";
	c.spki = f->root_spki;
	c.spki_len = f->root_spki_len;
	c.ca = 1;
	tbs = th_tbs_cert(&c, &tl);
	assert_int_equal(check_copy(&f->root, SIGNER_TBS_CERT, tbs, tl, &d),
	    0);
	free(tbs);
}

static void
test_cert_policy_refusals(void **state)
{
	struct fx *f = *state;
	struct th_cert c = {0};
	struct signer_key bare;
	uint8_t *tbs;
	size_t tl;

	c.alg_keytype = SIGNER_KEY_EC_P256;
	c.issuer_cn = "Test Issuing";
	c.subject_cn = "www.example.com";
	c.spki = f->ee_spki;
	c.spki_len = f->ee_spki_len;

	/* signature algorithm not the key's */
	c.alg_keytype = SIGNER_KEY_EC_P384;
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl,
	    "signature algorithm is not the one");
	free(tbs);
	c.alg_keytype = 0;
	c.alg_nid = NID_sha256WithRSAEncryption;
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl,
	    "signature algorithm is not the one");
	free(tbs);
	c.alg_nid = 0;
	c.alg_keytype = SIGNER_KEY_EC_P256;

	/* issuer not the key's certificate subject */
	c.issuer_cn = "Someone Else";
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl, "issuer name");
	free(tbs);
	c.issuer_cn = "Test Root";	/* the root's name, but iss's key */
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl, "issuer name");
	free(tbs);
	c.issuer_cn = "Test Issuing";

	/* CA certificates only by a root key */
	c.ca = 1;
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl, "not a root key");
	free(tbs);
	c.ca = 0;
	c.ku_cert_sign_only = 1;
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl, "not a root key");
	free(tbs);
	c.ku_cert_sign_only = 0;

	/* an issuing key may not certify its own key */
	c.spki = f->iss_spki;
	c.spki_len = f->iss_spki_len;
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl, "own public key");
	free(tbs);

	/* a non-root key without a certificate signs nothing, not even a
	 * self-signed certificate of its own */
	key_init(&bare, "bare", SIGNER_KEY_EC_P256, 0, f->iss_spki,
	    f->iss_spki_len);
	c.issuer_cn = c.subject_cn = "Self";
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&bare, SIGNER_TBS_CERT, tbs, tl, "no certificate");
	free(tbs);
	key_clear(&bare);

	/* a root key without a certificate: only its own self-signed one */
	key_init(&bare, "bare", SIGNER_KEY_EC_P256, 1, f->iss_spki,
	    f->iss_spki_len);
	c.ca = 1;
	tbs = th_tbs_cert(&c, &tl);
	assert_int_equal(check_copy(&bare, SIGNER_TBS_CERT, tbs, tl, NULL), 0);
	free(tbs);
	c.issuer_cn = "Other";	/* not self-issued */
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&bare, SIGNER_TBS_CERT, tbs, tl,
	    "not its self-signed certificate");
	free(tbs);
	c.issuer_cn = "Self";	/* self-issued, someone else's key */
	c.spki = f->ee_spki;
	c.spki_len = f->ee_spki_len;
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&bare, SIGNER_TBS_CERT, tbs, tl,
	    "not its self-signed certificate");
	free(tbs);
	key_clear(&bare);
}

static void
test_cert_shape_refusals(void **state)
{
	struct fx *f = *state;
	static const uint8_t zero[] = {0x02, 0x01, 0x00};
	static const uint8_t neg[] = {0x02, 0x01, 0xff};
	static const uint8_t nonmin[] = {0x02, 0x02, 0x00, 0x01};
	static const uint8_t uid[] = {0x81, 0x02, 0x00, 0x01};
	static const uint8_t junk[] = {0x04, 0x00};
	uint8_t long_serial[23] = {0x02, 0x15, 0x01};
	struct th_cert c = {0};
	uint8_t *tbs, *bad;
	size_t tl, bl;

	tbs = ee_tbs(f, &tl);
	/* serial number: zero, negative, non-minimal, 21 octets */
	bad = th_splice(tbs, tl, 1, 1, zero, sizeof(zero), &bl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, bad, bl, "zero");
	free(bad);
	bad = th_splice(tbs, tl, 1, 1, neg, sizeof(neg), &bl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, bad, bl, "negative");
	free(bad);
	bad = th_splice(tbs, tl, 1, 1, nonmin, sizeof(nonmin), &bl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, bad, bl, "DER INTEGER");
	free(bad);
	bad = th_splice(tbs, tl, 1, 1, long_serial, sizeof(long_serial), &bl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, bad, bl, "20 octets");
	free(bad);
	/* 20 octets is the maximum and fine */
	long_serial[1] = 0x14;
	bad = th_splice(tbs, tl, 1, 1, long_serial, 22, &bl);
	assert_int_equal(check_copy(&f->iss, SIGNER_TBS_CERT, bad, bl, NULL),
	    0);
	free(bad);
	/* unique identifiers, something after the extensions */
	bad = th_splice(tbs, tl, 7, 0, uid, sizeof(uid), &bl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, bad, bl, "unique");
	free(bad);
	bad = th_splice(tbs, tl, 8, 0, junk, sizeof(junk), &bl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, bad, bl,
	    "trailing bytes after the extensions");
	free(bad);
	/* no extensions */
	bad = th_splice(tbs, tl, 7, 1, NULL, 0, &bl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, bad, bl, "extensions missing");
	free(bad);
	/* no version */
	bad = th_splice(tbs, tl, 0, 1, NULL, 0, &bl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, bad, bl, "version");
	free(bad);
	/* trailing bytes after the TBS */
	bad = malloc(tl + 2);
	memcpy(bad, tbs, tl);
	bad[tl] = 0x05;
	bad[tl + 1] = 0x00;
	assert_refused(&f->iss, SIGNER_TBS_CERT, bad, tl + 2, "trailing");
	free(bad);
	free(tbs);

	/* v1 and v2 certificates */
	c.alg_keytype = SIGNER_KEY_EC_P256;
	c.issuer_cn = "Test Issuing";
	c.subject_cn = "v1";
	c.spki = f->ee_spki;
	c.spki_len = f->ee_spki_len;
	c.no_exts = 1;
	c.version = 1;
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl, "version");
	free(tbs);
	c.version = 2;
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl, "version");
	free(tbs);
}

/* The extensions of the EE TBS replaced by [3] { SEQUENCE { exts } }. */
static uint8_t *
with_exts(struct fx *f, const uint8_t *exts, size_t n, size_t *len)
{
	uint8_t *tbs, *seq, *wrap, *out;
	size_t tl, sl, wl;

	tbs = ee_tbs(f, &tl);
	seq = th_tlv(DER_SEQUENCE, exts, n, &sl);
	wrap = th_tlv(DER_CTX(3), seq, sl, &wl);
	out = th_splice(tbs, tl, 7, 1, wrap, wl, len);
	free(tbs);
	free(seq);
	free(wrap);
	return out;
}

static void
test_cert_extensions(void **state)
{
	struct fx *f = *state;
	/* subjectAltName DNS:a, critical flag spelled out as FALSE */
	static const uint8_t crit_false[] = {0x30, 0x0e, 0x06, 0x03, 0x55,
		0x1d, 0x11, 0x01, 0x01, 0x00, 0x04, 0x04, 0x30, 0x02, 0x82,
		0x00};
	static const uint8_t san[] = {0x30, 0x0b, 0x06, 0x03, 0x55, 0x1d,
		0x11, 0x04, 0x04, 0x30, 0x02, 0x82, 0x00};
	/* basicConstraints cA TRUE, not critical */
	static const uint8_t bc_ca[] = {0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d,
		0x13, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0xff};
	/* basicConstraints with cA spelled out FALSE (not DER) */
	static const uint8_t bc_false[] = {0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d,
		0x13, 0x04, 0x05, 0x30, 0x03, 0x01, 0x01, 0x00};
	/* basicConstraints whose value is not a SEQUENCE */
	static const uint8_t bc_bad[] = {0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d,
		0x13, 0x04, 0x03, 0x02, 0x01, 0x01};
	uint8_t both[sizeof(san) * 2], *tbs;
	size_t tl;

	tbs = with_exts(f, san, sizeof(san), &tl);
	assert_int_equal(check_copy(&f->iss, SIGNER_TBS_CERT, tbs, tl, NULL),
	    0);
	free(tbs);
	memcpy(both, san, sizeof(san));
	memcpy(both + sizeof(san), san, sizeof(san));
	tbs = with_exts(f, both, sizeof(both), &tl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl, "duplicate");
	free(tbs);
	tbs = with_exts(f, crit_false, sizeof(crit_false), &tl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl, "critical");
	free(tbs);
	tbs = with_exts(f, NULL, 0, &tl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl, "empty extensions");
	free(tbs);
	tbs = with_exts(f, bc_ca, sizeof(bc_ca), &tl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl, "not a root key");
	free(tbs);
	tbs = with_exts(f, bc_false, sizeof(bc_false), &tl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl, "basic constraints");
	free(tbs);
	tbs = with_exts(f, bc_bad, sizeof(bc_bad), &tl);
	assert_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl, "basic constraints");
	free(tbs);
}

static void
test_hostile_input(void **state)
{
	struct fx *f = *state;
	struct rc_detail d = {""};
	uint8_t rnd[300], *tbs;
	size_t tl;

	assert_int_equal(signer_check_tbs(&f->iss, &f->iss, SIGNER_TBS_CERT,
	    NULL, 0, &d), RC_SIGNER);
	assert_non_null(strstr(d.msg, "empty"));
	srand(42);
	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)(rand() % (int)sizeof(rnd)) + 1;

		for (size_t i = 0; i < n; i++)
			rnd[i] = (uint8_t)rand();
		if (round % 2)
			rnd[0] = 0x30;	/* looks like a SEQUENCE */
		for (int kind = 1; kind <= 3; kind++)
			assert_int_equal(check_copy(&f->iss, kind, rnd, n,
			    NULL), RC_SIGNER);
	}
	tbs = ee_tbs(f, &tl);
	assert_int_equal(check_copy(&f->iss, 0, tbs, tl, &d), RC_INVAL);
	assert_int_equal(check_copy(&f->iss, 4, tbs, tl, &d), RC_INVAL);
	/* a TBSCertificate is not a CRL or an OCSP response */
	assert_int_equal(check_copy(&f->iss, SIGNER_TBS_CRL, tbs, tl, NULL),
	    RC_SIGNER);
	assert_int_equal(check_copy(&f->iss, SIGNER_TBS_OCSP, tbs, tl, NULL),
	    RC_SIGNER);
	/* long-form lengths that lie */
	{
		uint8_t lie[] = {0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x00};
		uint8_t indef[] = {0x30, 0x80, 0x00, 0x00};

		assert_int_equal(check_copy(&f->iss, SIGNER_TBS_CERT, lie,
		    sizeof(lie), NULL), RC_SIGNER);
		assert_int_equal(check_copy(&f->iss, SIGNER_TBS_CERT, indef,
		    sizeof(indef), NULL), RC_SIGNER);
	}
	free(tbs);
}

/* Every proper prefix of a valid input is refused. */
static void
all_prefixes_refused(const struct signer_key *k, int kind, const uint8_t *p,
    size_t n)
{
	struct rc_detail d = {""};

	assert_int_equal(check_copy(k, kind, p, n, &d), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(check_copy(k, kind, p, i, NULL), RC_SIGNER);
}

/* Every single-bit flip is either accepted or refused, never worse; the
 * flips in the issuer name are all refused. */
static int
bit_flips(const struct signer_key *k, int kind, const uint8_t *p, size_t n)
{
	uint8_t *copy = malloc(n);
	int refused = 0;

	for (size_t i = 0; i < n; i++) {
		for (int b = 0; b < 8; b++) {
			int rc;

			memcpy(copy, p, n);
			copy[i] ^= (uint8_t)(1u << b);
			rc = signer_check_tbs(k, k, kind, copy, n, NULL);
			assert_true(rc == 0 || rc == RC_SIGNER);
			refused += rc != 0;
		}
	}
	free(copy);
	return refused;
}

static void
test_truncations_and_flips(void **state)
{
	struct fx *f = *state;
	const uint8_t *iss_name;
	uint8_t *tbs;
	size_t tl, iss_len;
	int refused;

	tbs = ee_tbs(f, &tl);
	all_prefixes_refused(&f->iss, SIGNER_TBS_CERT, tbs, tl);
	refused = bit_flips(&f->iss, SIGNER_TBS_CERT, tbs, tl);
	print_message("%d of %zu flips refused\n", refused, tl * 8);
	assert_true(refused > (int)tl * 3);	/* many flips break it */
	/* each flip inside the issuer name is refused */
	assert_int_equal(th_elem(tbs, tl, 3, &iss_name, &iss_len), 0);
	for (size_t i = 0; i < iss_len; i++) {
		uint8_t *copy = malloc(tl);

		memcpy(copy, tbs, tl);
		copy[(size_t)(iss_name - tbs) + i] ^= 0x01;
		assert_int_equal(signer_check_tbs(&f->iss, &f->iss,
		    SIGNER_TBS_CERT, copy, tl, NULL), RC_SIGNER);
		free(copy);
	}
	free(tbs);

	tbs = th_tbs_crl(f->ee, "Test Issuing", 3, &tl);
	all_prefixes_refused(&f->iss, SIGNER_TBS_CRL, tbs, tl);
	(void)bit_flips(&f->iss, SIGNER_TBS_CRL, tbs, tl);
	free(tbs);

	tbs = th_tbs_ocsp(f->iss_cert, f->iss_cert, f->ee_cert, 0, &tl);
	all_prefixes_refused(&f->iss, SIGNER_TBS_OCSP, tbs, tl);
	(void)bit_flips(&f->iss, SIGNER_TBS_OCSP, tbs, tl);
	free(tbs);
	tbs = th_tbs_ocsp(f->iss_cert, f->iss_cert, f->ee_cert, 1, &tl);
	all_prefixes_refused(&f->iss, SIGNER_TBS_OCSP, tbs, tl);
	(void)bit_flips(&f->iss, SIGNER_TBS_OCSP, tbs, tl);
	free(tbs);
}

static void
test_crl(void **state)
{
	struct fx *f = *state;
	static const uint8_t empty_seq[] = {0x30, 0x00};
	static const uint8_t v1[] = {0x02, 0x01, 0x00};
	struct signer_key bare;
	EVP_PKEY *p384 = th_keygen(SIGNER_KEY_EC_P384);
	uint8_t *tbs, *bad;
	size_t tl, bl;

	tbs = th_tbs_crl(f->ee, "Test Issuing", 0, &tl);
	assert_int_equal(check_copy(&f->iss, SIGNER_TBS_CRL, tbs, tl, NULL), 0);
	/* the root's key does not speak for the issuing CA */
	assert_refused(&f->root, SIGNER_TBS_CRL, tbs, tl, "issuer name");
	/* an empty revoked list must be absent instead */
	bad = th_splice(tbs, tl, 5, 0, empty_seq, sizeof(empty_seq), &bl);
	assert_refused(&f->iss, SIGNER_TBS_CRL, bad, bl, "revoked");
	free(bad);
	/* version v1 or absent */
	bad = th_splice(tbs, tl, 0, 1, v1, sizeof(v1), &bl);
	assert_refused(&f->iss, SIGNER_TBS_CRL, bad, bl, "version");
	free(bad);
	bad = th_splice(tbs, tl, 0, 1, NULL, 0, &bl);
	assert_refused(&f->iss, SIGNER_TBS_CRL, bad, bl, "version");
	free(bad);
	/* no nextUpdate */
	bad = th_splice(tbs, tl, 4, 1, NULL, 0, &bl);
	assert_refused(&f->iss, SIGNER_TBS_CRL, bad, bl, "nextUpdate");
	free(bad);
	/* no extensions */
	bad = th_splice(tbs, tl, 5, 1, NULL, 0, &bl);
	assert_refused(&f->iss, SIGNER_TBS_CRL, bad, bl, "extensions missing");
	free(bad);
	/* a key without a certificate */
	key_init(&bare, "bare", SIGNER_KEY_EC_P256, 1, f->iss_spki,
	    f->iss_spki_len);
	assert_refused(&bare, SIGNER_TBS_CRL, tbs, tl, "no certificate");
	key_clear(&bare);
	free(tbs);

	tbs = th_tbs_crl(f->ee, "Test Issuing", 3, &tl);
	assert_int_equal(check_copy(&f->iss, SIGNER_TBS_CRL, tbs, tl, NULL), 0);
	free(tbs);
	tbs = th_tbs_crl(f->ee, "Someone Else", 1, &tl);
	assert_refused(&f->iss, SIGNER_TBS_CRL, tbs, tl, "issuer name");
	free(tbs);
	tbs = th_tbs_crl(p384, "Test Issuing", 1, &tl);
	assert_refused(&f->iss, SIGNER_TBS_CRL, tbs, tl,
	    "signature algorithm is not the one");
	free(tbs);
	EVP_PKEY_free(p384);
}

static void
test_ocsp(void **state)
{
	struct fx *f = *state;
	static const uint8_t empty_seq[] = {0x30, 0x00};
	static const uint8_t v1[] = {0xa0, 0x03, 0x02, 0x01, 0x00};
	static const uint8_t v2[] = {0xa0, 0x03, 0x02, 0x01, 0x01};
	uint8_t *tbs, *bad;
	size_t tl, bl;

	/* by name */
	tbs = th_tbs_ocsp(f->iss_cert, f->iss_cert, f->ee_cert, 0, &tl);
	assert_int_equal(check_copy(&f->iss, SIGNER_TBS_OCSP, tbs, tl, NULL),
	    0);
	assert_refused(&f->root, SIGNER_TBS_OCSP, tbs, tl, "root key");
	bad = th_splice(tbs, tl, 0, 0, v1, sizeof(v1), &bl);
	assert_int_equal(check_copy(&f->iss, SIGNER_TBS_OCSP, bad, bl, NULL),
	    0);
	free(bad);
	bad = th_splice(tbs, tl, 0, 0, v2, sizeof(v2), &bl);
	assert_refused(&f->iss, SIGNER_TBS_OCSP, bad, bl, "version");
	free(bad);
	bad = th_splice(tbs, tl, 2, 1, empty_seq, sizeof(empty_seq), &bl);
	assert_refused(&f->iss, SIGNER_TBS_OCSP, bad, bl, "responses");
	free(bad);
	bad = th_splice(tbs, tl, 1, 1, NULL, 0, &bl);	/* no producedAt */
	assert_refused(&f->iss, SIGNER_TBS_OCSP, bad, bl, "producedAt");
	free(bad);
	free(tbs);
	/* by key */
	tbs = th_tbs_ocsp(f->iss_cert, f->iss_cert, f->ee_cert, 1, &tl);
	assert_int_equal(check_copy(&f->iss, SIGNER_TBS_OCSP, tbs, tl, NULL),
	    0);
	assert_refused(&f->root, SIGNER_TBS_OCSP, tbs, tl, "root key");
	free(tbs);
	/* the root's name or key for the issuing key */
	tbs = th_tbs_ocsp(f->root_cert, f->iss_cert, f->ee_cert, 1, &tl);
	assert_refused(&f->iss, SIGNER_TBS_OCSP, tbs, tl, "key hash");
	free(tbs);
	tbs = th_tbs_ocsp(f->root_cert, f->iss_cert, f->ee_cert, 0, &tl);
	assert_refused(&f->iss, SIGNER_TBS_OCSP, tbs, tl, "responder name");
	free(tbs);
}

static void
test_set_cert(void **state)
{
	struct fx *f = *state;
	struct rc_detail d = {""};
	struct signer_key k;
	uint8_t *der = NULL, *bad;
	const uint8_t *old_subject;
	int n;

	key_init(&k, "k", SIGNER_KEY_EC_P256, 0, f->iss_spki, f->iss_spki_len);
	/* the root's certificate is not this key's */
	n = i2d_X509(f->root_cert, &der);
	assert_int_equal(signer_key_set_cert(&k, der, (size_t)n, &d),
	    RC_SIGNER);
	assert_non_null(strstr(d.msg, "public key"));
	assert_null(k.cert);
	OPENSSL_free(der);
	der = NULL;
	n = i2d_X509(f->iss_cert, &der);
	assert_int_equal(signer_key_set_cert(&k, der, (size_t)n, &d), 0);
	assert_non_null(k.subject);
	{
		uint8_t *name = NULL;
		int nl = i2d_X509_NAME(X509_get_subject_name(f->iss_cert),
		    &name);

		assert_int_equal(k.subject_len, (size_t)nl);
		assert_memory_equal(k.subject, name, (size_t)nl);
		OPENSSL_free(name);
	}
	old_subject = k.subject;
	/* truncations and trailing bytes are refused; the key keeps its
	 * certificate */
	for (int i = 0; i < n; i++) {
		bad = malloc((size_t)i + 1);
		memcpy(bad, der, (size_t)i);
		assert_int_equal(signer_key_set_cert(&k, bad, (size_t)i, NULL),
		    RC_SIGNER);
		free(bad);
	}
	bad = malloc((size_t)n + 1);
	memcpy(bad, der, (size_t)n);
	bad[n] = 0;
	assert_int_equal(signer_key_set_cert(&k, bad, (size_t)n + 1, NULL),
	    RC_SIGNER);
	free(bad);
	assert_ptr_equal(k.subject, old_subject);
	OPENSSL_free(der);
	key_clear(&k);
}

/* A root key vouches for CA keys only: a leaf certificate or an OCSP
 * response by it would let the CA core skip the issuing CA. */
static void
test_root_role(void **state)
{
	struct fx *f = *state;
	struct th_cert c = {0};
	EVP_PKEY *p256 = th_keygen(SIGNER_KEY_EC_P256);
	uint8_t *tbs;
	size_t tl;

	/* an end-entity certificate under the root's name: refused */
	c.alg_keytype = SIGNER_KEY_EC_P256;
	c.issuer_cn = "Test Root";
	c.subject_cn = "www.example.com";
	c.spki = f->ee_spki;
	c.spki_len = f->ee_spki_len;
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&f->root, SIGNER_TBS_CERT, tbs, tl, "only CA");
	free(tbs);
	/* keyCertSign without cA: not a CA certificate either */
	c.ku_cert_sign_only = 1;
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&f->root, SIGNER_TBS_CERT, tbs, tl, "only CA");
	free(tbs);
	c.ku_cert_sign_only = 0;
	/* its own key under another name than its own */
	c.spki = f->root_spki;
	c.spki_len = f->root_spki_len;
	c.subject_cn = "Test Root 2";
	c.ca = 1;
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&f->root, SIGNER_TBS_CERT, tbs, tl, "self-signed");
	free(tbs);

	/* a CA certificate for a key the signer does not hold: whoever
	 * holds that key would issue under this root past the signer */
	c.subject_cn = "Test Issuing 2";
	c.spki = f->ee_spki;
	c.spki_len = f->ee_spki_len;
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&f->root, SIGNER_TBS_CERT, tbs, tl,
	    "held by this signer");
	free(tbs);
	/* nor for a key held here that is a root's (its own included) */
	c.spki = f->root_spki;
	c.spki_len = f->root_spki_len;
	tbs = th_tbs_cert(&c, &tl);
	assert_refused(&f->root, SIGNER_TBS_CERT, tbs, tl, "self-signed");
	free(tbs);

	/* what the CA asks of it: an issuing CA certificate for an issuing
	 * key held here (src/ca/init.c, init and `ca roll`), its own
	 * self-signed one, its CRL */
	c.spki = f->iss_spki;
	c.spki_len = f->iss_spki_len;
	tbs = th_tbs_cert(&c, &tl);
	assert_int_equal(check_copy(&f->root, SIGNER_TBS_CERT, tbs, tl, NULL),
	    0);
	free(tbs);
	c.subject_cn = "Test Root";
	c.spki = f->root_spki;
	c.spki_len = f->root_spki_len;
	tbs = th_tbs_cert(&c, &tl);
	assert_int_equal(check_copy(&f->root, SIGNER_TBS_CERT, tbs, tl, NULL),
	    0);
	free(tbs);
	tbs = th_tbs_crl(p256, "Test Root", 2, &tl);
	assert_int_equal(check_copy(&f->root, SIGNER_TBS_CRL, tbs, tl, NULL),
	    0);
	free(tbs);

	/* no OCSP response, even one naming the root as responder and
	 * issuer (of the issuing CA's certificate), by name or by key */
	for (int by_key = 0; by_key <= 1; by_key++) {
		tbs = th_tbs_ocsp(f->root_cert, f->root_cert, f->iss_cert,
		    by_key, &tl);
		assert_refused(&f->root, SIGNER_TBS_OCSP, tbs, tl,
		    "signs no OCSP");
		free(tbs);
	}
	EVP_PKEY_free(p256);
}

/* A certificate of the fixture's shape for spki, signed by priv (DER,
 * free()). */
static uint8_t *
make_cert(EVP_PKEY *priv, const char *issuer_cn, const char *subject_cn,
    const uint8_t *spki, size_t spki_len, int ca, size_t *len)
{
	struct th_cert c = {0};
	uint8_t *tbs, *der;
	size_t tl;

	c.alg_keytype = SIGNER_KEY_EC_P256;
	c.issuer_cn = issuer_cn;
	c.subject_cn = subject_cn;
	c.spki = spki;
	c.spki_len = spki_len;
	c.ca = ca;
	tbs = th_tbs_cert(&c, &tl);
	der = sign_local(priv, SIGNER_KEY_EC_P256, tbs, tl, len);
	free(tbs);
	return der;
}

#define assert_cert_refused(k, keys, p, n, text)                              \
	do {                                                                  \
		struct rc_detail d_ = {""};                                   \
		assert_int_equal(signer_key_verify_cert((k), (keys), (p),     \
		    (n), &d_), RC_SIGNER);                                    \
		if (strstr(d_.msg, (text)) == NULL)                           \
			fail_msg("reason \"%s\" lacks \"%s\"", d_.msg,     \
			    (text));                                          \
	} while (0)

/* SETCERT: every issuer name check trusts the key's certificate, so the
 * signer verifies it rather than take the CA core's word. */
static void
test_verify_cert(void **state)
{
	struct fx *f = *state;
	struct signer_key iss2;
	EVP_PKEY *other = th_keygen(SIGNER_KEY_EC_P256);
	uint8_t *root_der = NULL, *iss_der = NULL, *der;
	size_t dl;
	int rn, in;

	/* the list the signer holds: the root, then the issuing key */
	f->root.next = &f->iss;
	rn = i2d_X509(f->root_cert, &root_der);
	in = i2d_X509(f->iss_cert, &iss_der);
	assert_true(rn > 0 && in > 0);

	/* the real chain, in the order init sets it: root, then issuing */
	assert_int_equal(signer_key_verify_cert(&f->root, &f->root, root_der,
	    (size_t)rn, NULL), 0);
	assert_int_equal(signer_key_verify_cert(&f->iss, &f->root, iss_der,
	    (size_t)in, NULL), 0);
	/* not each other's; the issuing CA's not without its root */
	assert_cert_refused(&f->iss, &f->root, root_der, (size_t)rn,
	    "public key");
	assert_cert_refused(&f->root, &f->root, iss_der, (size_t)in,
	    "public key");
	assert_cert_refused(&f->iss, &f->iss, iss_der, (size_t)in,
	    "not signed by a root key");
	assert_cert_refused(&f->iss, NULL, iss_der, (size_t)in,
	    "not signed by a root key");
	/* malformed: truncated, a bit flipped in the signature */
	assert_cert_refused(&f->iss, &f->root, iss_der, (size_t)in - 1, "");
	iss_der[in - 1] ^= 0x01;
	assert_cert_refused(&f->iss, &f->root, iss_der, (size_t)in,
	    "not signed by a root key");
	iss_der[in - 1] ^= 0x01;

	/* signed by an unrelated key, under the root's name */
	der = make_cert(other, "Test Root", "Test Issuing", f->iss_spki,
	    f->iss_spki_len, 1, &dl);
	assert_cert_refused(&f->iss, &f->root, der, dl,
	    "not signed by a root key");
	free(der);
	/* the root's self-signed certificate, but by another key */
	der = make_cert(other, "Test Root", "Test Root", f->root_spki,
	    f->root_spki_len, 1, &dl);
	assert_cert_refused(&f->root, &f->root, der, dl, "not self-signed");
	free(der);
	/* signed by the root key, but not self-issued */
	der = make_cert(f->root_priv, "Elsewhere", "Test Root", f->root_spki,
	    f->root_spki_len, 1, &dl);
	assert_cert_refused(&f->root, &f->root, der, dl, "not self-signed");
	free(der);
	/* signed by the root key under another name than its certificate's */
	der = make_cert(f->root_priv, "Other Root", "Test Issuing",
	    f->iss_spki, f->iss_spki_len, 1, &dl);
	assert_cert_refused(&f->iss, &f->root, der, dl,
	    "not signed by a root key");
	free(der);
	/* not a CA certificate, though the root key signed it */
	der = make_cert(f->root_priv, "Test Root", "Test Issuing",
	    f->iss_spki, f->iss_spki_len, 0, &dl);
	assert_cert_refused(&f->iss, &f->root, der, dl,
	    "not a CA certificate");
	free(der);
	der = make_cert(f->root_priv, "Test Root", "Test Root", f->root_spki,
	    f->root_spki_len, 0, &dl);
	assert_cert_refused(&f->root, &f->root, der, dl,
	    "not a CA certificate");
	free(der);
	/* an issuing key certified by another issuing key */
	key_init(&iss2, "issuing-2", SIGNER_KEY_EC_P256, 0, f->ee_spki,
	    f->ee_spki_len);
	der = make_cert(f->iss_priv, "Test Issuing", "Test Issuing 2",
	    f->ee_spki, f->ee_spki_len, 1, &dl);
	assert_cert_refused(&iss2, &f->root, der, dl,
	    "not signed by a root key");
	free(der);
	/* and properly, by the root */
	der = make_cert(f->root_priv, "Test Root", "Test Issuing 2",
	    f->ee_spki, f->ee_spki_len, 1, &dl);
	assert_int_equal(signer_key_verify_cert(&iss2, &f->root, der, dl,
	    NULL), 0);
	free(der);
	key_clear(&iss2);

	f->root.next = NULL;
	OPENSSL_free(root_der);
	OPENSSL_free(iss_der);
	EVP_PKEY_free(other);
}

static void
test_spki_and_keyhash(void **state)
{
	struct fx *f = *state;
	static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	struct signer_key k;
	uint8_t md[20];
	unsigned mdlen = 0;

	memset(&k, 0, sizeof(k));
	assert_int_equal(signer_key_set_spki(&k, junk, sizeof(junk)),
	    RC_INVAL);
	assert_int_equal(signer_key_set_spki(&k, f->iss_spki,
	    f->iss_spki_len - 1), RC_INVAL);
	assert_null(k.spki);
	/* RFC 6960 KeyHash as OpenSSL computes it */
	assert_true(X509_pubkey_digest(f->iss_cert, EVP_sha1(), md, &mdlen));
	assert_int_equal(mdlen, 20);
	assert_memory_equal(f->iss.keyhash, md, 20);
	assert_string_equal(signer_keytype_name(SIGNER_KEY_RSA_3072),
	    "RSA-3072");
	assert_string_equal(signer_keytype_name(99), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigalg_der),
		cmocka_unit_test(test_keyid),
		cmocka_unit_test(test_cert_accepted),
		cmocka_unit_test(test_cert_policy_refusals),
		cmocka_unit_test(test_cert_shape_refusals),
		cmocka_unit_test(test_cert_extensions),
		cmocka_unit_test(test_hostile_input),
		cmocka_unit_test(test_truncations_and_flips),
		cmocka_unit_test(test_crl),
		cmocka_unit_test(test_ocsp),
		cmocka_unit_test(test_root_role),
		cmocka_unit_test(test_set_cert),
		cmocka_unit_test(test_verify_cert),
		cmocka_unit_test(test_spki_and_keyhash),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
