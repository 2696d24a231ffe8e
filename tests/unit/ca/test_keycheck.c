/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/ca/keycheck.c: the key policy (types, sizes, exponent,
 * curves, point on the curve), malformed SubjectPublicKeyInfos, and the weak
 * key tests: small factors, ROCA (published masks, a public vulnerable key,
 * a constructed modulus), Fermat (two close primes, a public test CSR key),
 * Debian lists (a generated list, the shipped lists) and the compromised-key
 * list, with their load errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca/ca.h"
#include "ca/keycheck_int.h"
#include "util/rc.h"

static EVP_PKEY *rsa2048;	/* generated once for the whole run */

/* ---- helpers ------------------------------------------------------------- */

static char *
fixture(const char *name)
{
	const char *src = getenv("CERTDESK_SRCDIR");
	static char path[4096];

	snprintf(path, sizeof(path), "%s/tests/unit/ca/fixtures/%s",
	    src ? src : ".", name);
	return path;
}

static char *
share_dir(void)
{
	const char *src = getenv("CERTDESK_SRCDIR");
	static char path[4096];

	snprintf(path, sizeof(path), "%s/src/ca/share/weak-keys",
	    src ? src : ".");
	return path;
}

static EVP_PKEY *
gen(const char *alg, const char *curve)
{
	EVP_PKEY *k = curve ? EVP_PKEY_Q_keygen(NULL, NULL, alg, curve) :
	    EVP_PKEY_Q_keygen(NULL, NULL, alg);

	assert_non_null(k);
	return k;
}

static EVP_PKEY *
gen_rsa(size_t bits)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);

	assert_non_null(k);
	return k;
}

/* SPKI DER of a key; free with OPENSSL_free(). */
static uint8_t *
spki_of(EVP_PKEY *k, size_t *len)
{
	uint8_t *der = NULL;
	int n = i2d_PUBKEY(k, &der);

	assert_true(n > 0);
	*len = (size_t)n;
	return der;
}

static EVP_PKEY *
pubkey_file(const char *name)
{
	FILE *f = fopen(fixture(name), "r");
	EVP_PKEY *k;

	assert_non_null(f);
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	return k;
}

/* An RSA public key from n and e. */
static EVP_PKEY *
rsa_from(const BIGNUM *n, unsigned long e)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *be = BN_new();
	OSSL_PARAM *prm;
	EVP_PKEY *k = NULL;

	assert_non_null(bld);
	assert_true(BN_set_word(be, e));
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n));
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be));
	prm = OSSL_PARAM_BLD_to_param(bld);
	assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
	assert_int_equal(EVP_PKEY_fromdata(pc, &k, EVP_PKEY_PUBLIC_KEY, prm),
	    1);
	OSSL_PARAM_free(prm);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(pc);
	BN_free(be);
	return k;
}

static BIGNUM *
modulus(EVP_PKEY *k)
{
	BIGNUM *n = NULL;

	assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n),
	    1);
	return n;
}

/* Runs ca_keycheck_spki on k and checks rc and a part of the detail. */
static void
expect_key(const struct ca_keycheck *kc, EVP_PKEY *k, int want,
    const char *detail)
{
	struct rc_detail d = {{0}};
	size_t len;
	uint8_t *der = spki_of(k, &len);
	int rc = ca_keycheck_spki(kc, der, len, &d);

	if (rc != want)
		fail_msg("rc %d (%s), want %d", rc, d.msg, want);
	if (detail != NULL && strstr(d.msg, detail) == NULL)
		fail_msg("detail \"%s\" lacks \"%s\"", d.msg, detail);
	OPENSSL_free(der);
}

static void
expect_spki(const uint8_t *der, size_t len, int want, const char *detail)
{
	struct rc_detail d = {{0}};
	int rc = ca_keycheck_spki(NULL, der, len, &d);

	if (rc != want)
		fail_msg("rc %d (%s), want %d", rc, d.msg, want);
	if (detail != NULL && strstr(d.msg, detail) == NULL)
		fail_msg("detail \"%s\" lacks \"%s\"", d.msg, detail);
}

static char *
tmpdir(void)
{
	char *t = strdup("/tmp/certdesk-kc-XXXXXX");

	assert_non_null(mkdtemp(t));
	return t;
}

static char *
write_file(const char *dir, const char *name, const char *text)
{
	char *path = NULL;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void
rm_dir(char *dir, const char *const *names, size_t n)
{
	char path[4096];

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	free(dir);
}

/* The Debian fingerprint computed independently of keycheck.c, the way
 * openssl-vulnkey does: SHA-1 of "Modulus=<BN_bn2hex>\n", last 20 hex. */
static void
debian_fp_hex(EVP_PKEY *k, char out[21])
{
	BIGNUM *n = modulus(k);
	char *hex = BN_bn2hex(n), *line = NULL;
	uint8_t md[20];
	int len = asprintf(&line, "Modulus=%s\n", hex);

	assert_true(len > 0);
	assert_int_equal(EVP_Digest(line, (size_t)len, md, NULL, EVP_sha1(),
	    NULL), 1);
	for (int i = 0; i < 10; i++)
		sprintf(out + 2 * i, "%02x", md[10 + i]);
	free(line);
	OPENSSL_free(hex);
	BN_free(n);
}

/* ---- the key policy ------------------------------------------------------ */

static void
test_allowed(void **state)
{
	struct ca_keycheck *kc = NULL;
	struct rc_detail d = {{0}};
	EVP_PKEY *p256 = gen("EC", "P-256"), *p384 = gen("EC", "P-384");
	struct kc_key k;
	size_t len;
	uint8_t *der;

	assert_int_equal(ca_keycheck_open(share_dir(), NULL, &kc, &d), 0);
	expect_key(NULL, p256, 0, NULL);
	expect_key(kc, p256, 0, NULL);
	expect_key(kc, p384, 0, NULL);
	expect_key(kc, rsa2048, 0, NULL);
	expect_key(NULL, rsa2048, 0, NULL);
	/* the parsed facts */
	der = spki_of(p384, &len);
	assert_int_equal(ca_kc_parse_spki(der, len, &k, &d), 0);
	assert_int_equal(k.type, KC_EC);
	assert_int_equal(k.bits, 384);
	assert_int_equal(k.point_len, 97);
	OPENSSL_free(der);
	der = spki_of(rsa2048, &len);
	assert_int_equal(ca_kc_parse_spki(der, len, &k, &d), 0);
	assert_int_equal(k.type, KC_RSA);
	assert_int_equal(k.bits, 2048);
	assert_int_equal(k.n_len, 256);
	OPENSSL_free(der);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	ca_keycheck_free(kc);
	ca_keycheck_free(NULL);
}

static void
test_refused_types(void **state)
{
	EVP_PKEY *k;

	k = gen("EC", "P-521");
	expect_key(NULL, k, RC_BADKEY, "secp521r1 (P-521) is not allowed");
	EVP_PKEY_free(k);
	k = gen("EC", "secp256k1");
	expect_key(NULL, k, RC_BADKEY, "secp256k1 is not allowed");
	EVP_PKEY_free(k);
	k = gen("EC", "brainpoolP256r1");
	expect_key(NULL, k, RC_BADKEY, "brainpoolP256r1 is not allowed");
	EVP_PKEY_free(k);
	k = gen("EC", "P-224");
	expect_key(NULL, k, RC_BADKEY, "P-224");
	EVP_PKEY_free(k);
	k = gen("ED25519", NULL);
	expect_key(NULL, k, RC_BADKEY, "Ed25519 keys are not allowed");
	EVP_PKEY_free(k);
	k = gen("ED448", NULL);
	expect_key(NULL, k, RC_BADKEY, "Ed448 keys are not allowed");
	EVP_PKEY_free(k);
	k = gen("X25519", NULL);
	expect_key(NULL, k, RC_BADKEY, "X25519 keys are not allowed");
	EVP_PKEY_free(k);
	k = gen_rsa(1024);
	expect_key(NULL, k, RC_BADKEY, "RSA modulus of 1024 bits is not "
	    "allowed");
	EVP_PKEY_free(k);
}

/* Keys whose generation is slow come from fixture CSRs (public keys). */
static void
test_refused_fixtures(void **state)
{
	static const struct {
		const char *file, *detail;
	} cases[] = {
		{"dsa2048.csr.pem", "DSA keys are not allowed"},
		{"rsa2047.csr.pem", "RSA modulus of 2047 bits is not allowed"},
		{"rsa2060.csr.pem", "2060 bits is not a multiple of 8"},
		{"rsa2048-e3.csr.pem", "RSA public exponent 3 is not allowed"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fopen(fixture(cases[i].file), "r");
		X509_REQ *req;

		assert_non_null(f);
		req = PEM_read_X509_REQ(f, NULL, NULL, NULL);
		fclose(f);
		assert_non_null(req);
		expect_key(NULL, X509_REQ_get0_pubkey(req), RC_BADKEY,
		    cases[i].detail);
		X509_REQ_free(req);
	}
}

static void
test_rsa_pss_key(void **state)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
	EVP_PKEY *k = NULL;

	assert_non_null(pc);
	assert_int_equal(EVP_PKEY_keygen_init(pc), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(pc, 2048), 1);
	assert_int_equal(EVP_PKEY_keygen(pc, &k), 1);
	EVP_PKEY_CTX_free(pc);
	expect_key(NULL, k, RC_BADKEY, "RSASSA-PSS keys are not allowed");
	EVP_PKEY_free(k);
}

static void
test_rsa_exponents(void **state)
{
	BIGNUM *n = modulus(rsa2048);
	EVP_PKEY *k;

	k = rsa_from(n, 3);
	expect_key(NULL, k, RC_BADKEY, "exponent 3 is not allowed");
	EVP_PKEY_free(k);
	k = rsa_from(n, 65539);
	expect_key(NULL, k, RC_BADKEY, "exponent 65539");
	EVP_PKEY_free(k);
	k = rsa_from(n, 0x100000001ul);
	expect_key(NULL, k, RC_BADKEY, "exponent 4294967297");
	EVP_PKEY_free(k);
	/* even modulus */
	assert_true(BN_clear_bit(n, 0));
	k = rsa_from(n, 65537);
	expect_key(NULL, k, RC_BADKEY, "RSA modulus is even");
	EVP_PKEY_free(k);
	/* 8200 bits: too big */
	assert_true(BN_set_bit(n, 8199));
	assert_true(BN_set_bit(n, 0));
	k = rsa_from(n, 65537);
	expect_key(NULL, k, RC_BADKEY, "8200 bits is not allowed");
	EVP_PKEY_free(k);
	BN_free(n);
}

static void
test_ec_encodings(void **state)
{
	EVP_PKEY *k = gen("EC", "P-256");

	/* explicit curve parameters */
	assert_int_equal(EVP_PKEY_set_utf8_string_param(k,
	    OSSL_PKEY_PARAM_EC_ENCODING, OSSL_PKEY_EC_ENCODING_EXPLICIT), 1);
	expect_key(NULL, k, RC_BADKEY, "explicit curve parameters");
	assert_int_equal(EVP_PKEY_set_utf8_string_param(k,
	    OSSL_PKEY_PARAM_EC_ENCODING, OSSL_PKEY_EC_ENCODING_GROUP), 1);
	expect_key(NULL, k, RC_OK, NULL);
	/* compressed point */
	assert_int_equal(EVP_PKEY_set_utf8_string_param(k,
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed"), 1);
	expect_key(NULL, k, RC_BADKEY, "compressed EC points");
	EVP_PKEY_free(k);
}

/* OpenSSL's import really refuses a point that is not on the curve. */
static void
test_point_off_curve(void **state)
{
	static const char *const curves[] = {"P-256", "P-384"};

	for (size_t c = 0; c < 2; c++) {
		EVP_PKEY *k = gen("EC", curves[c]);
		size_t len;
		uint8_t *der = spki_of(k, &len);

		der[len - 1] ^= 0x01;	/* last byte of Y */
		expect_spki(der, len, RC_BADKEY, "EC point is not on the "
		    "curve");
		der[len - 1] ^= 0x01;
		der[len - 40] ^= 0x80;	/* in X (P-256) or Y (P-384) */
		expect_spki(der, len, RC_BADKEY, "not on the curve");
		der[len - 40] ^= 0x80;
		expect_spki(der, len, RC_OK, NULL);
		OPENSSL_free(der);
		EVP_PKEY_free(k);
	}
}

static void
test_malformed_spki(void **state)
{
	EVP_PKEY *k = gen("EC", "P-256");
	size_t len, rlen;
	uint8_t *der = spki_of(k, &len), *rder = spki_of(rsa2048, &rlen);
	uint8_t *buf = malloc(rlen + 16);
	static const uint8_t unknown_alg[] = {0x30, 0x0e, 0x30, 0x07, 0x06,
	    0x03, 0x2a, 0x03, 0x04, 0x05, 0x00, 0x03, 0x03, 0x00, 0x01, 0x02};

	/* every truncation */
	for (size_t i = 0; i < len; i++)
		expect_spki(der, i, RC_BADKEY, NULL);
	for (size_t i = 0; i < rlen; i++)
		expect_spki(rder, i, RC_BADKEY, NULL);
	/* trailing data */
	memcpy(buf, rder, rlen);
	buf[rlen] = 0;
	expect_spki(buf, rlen + 1, RC_BADKEY, "malformed SubjectPublicKeyInfo");
	expect_spki(NULL, 0, RC_BADKEY, NULL);
	/* an unknown algorithm is named by its OID */
	expect_spki(unknown_alg, sizeof(unknown_alg), RC_BADKEY,
	    "key algorithm 1.2.3.4 is not allowed");
	/* RSA parameters other than NULL: 05 00 -> 04 00 */
	memcpy(buf, rder, rlen);
	assert_int_equal(buf[17], 0x05);
	buf[17] = 0x04;
	expect_spki(buf, rlen, RC_BADKEY, "parameters are not NULL");
	/* RSA without the NULL: drop 05 00, fix both lengths */
	memcpy(buf, rder, 17);
	memcpy(buf + 17, rder + 19, rlen - 19);
	assert_int_equal(buf[3], 0x22);
	buf[3] = 0x20;
	buf[5] = 0x0b;
	expect_spki(buf, rlen - 2, RC_BADKEY, "parameters are not NULL");
	/* non-zero unused-bits count in the BIT STRING */
	memcpy(buf, rder, rlen);
	assert_int_equal(buf[19], 0x03);
	buf[23] = 0x01;
	expect_spki(buf, rlen, RC_BADKEY, "malformed RSA public key");
	/* the modulus INTEGER (tag at 28) starts with a sign byte at 32:
	 * 0xff makes it negative */
	memcpy(buf, rder, rlen);
	assert_int_equal(buf[28], 0x02);
	assert_int_equal(buf[32], 0x00);
	buf[32] = 0xff;
	expect_spki(buf, rlen, RC_BADKEY, "malformed RSAPublicKey");
	/* a superfluous leading zero: 00 8x -> 00 00 */
	memcpy(buf, rder, rlen);
	buf[33] = 0x00;
	expect_spki(buf, rlen, RC_BADKEY, "malformed RSAPublicKey");
	free(buf);
	OPENSSL_free(rder);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

/* ---- weak keys ----------------------------------------------------------- */

static void
test_small_factor(void **state)
{
	BIGNUM *p = BN_new(), *n = BN_new();
	BN_CTX *ctx = BN_CTX_new();
	EVP_PKEY *k;

	/* n = 743 * p with 2048 bits in all, p free of smaller factors */
	assert_true(BN_rand(p, 2038, BN_RAND_TOP_TWO, BN_RAND_BOTTOM_ODD));
	for (unsigned q = 3; q < 743; q += 2) {
		if (BN_mod_word(p, q) == 0) {
			assert_true(BN_add_word(p, 2));
			q = 1;	/* start over */
		}
	}
	assert_true(BN_mul_word(p, 743));
	assert_true(BN_copy(n, p));
	assert_int_equal(BN_num_bits(n), 2048);
	k = rsa_from(n, 65537);
	expect_key(NULL, k, RC_WEAKKEY, "small prime factor 743");
	EVP_PKEY_free(k);
	BN_free(p);
	BN_free(n);
	BN_CTX_free(ctx);
}

/*
 * roca-detect's published masks (crocs-muni/roca, detect.py, self.prints):
 * bit r of prints[i] is set when r is in the subgroup generated by 65537
 * modulo primes[i]. keycheck.c computes its own; they must agree.
 */
static const char *const roca_prints[] = {"6", "30", "126", "1026", "5658",
    "107286", "199410", "8388606", "536870910", "2147483646", "67109890",
    "2199023255550", "8796093022206", "140737488355326",
    "5310023542746834", "576460752303423486", "1455791217086302986",
    "147573952589676412926", "20052041432995567486",
    "6041388139249378920330", "207530445072488465666",
    "9671406556917033397649406", "618970019642690137449562110",
    "79228162521181866724264247298", "2535301200456458802993406410750",
    "1760368345969468176824550810518",
    "50079290986288516948354744811034",
    "473022961816146413042658758988474",
    "10384593717069655257060992658440190",
    "144390480366845522447407333004847678774",
    "2722258935367507707706996859454145691646",
    "174224571863520493293247799005065324265470",
    "696898287454081973172991196020261297061886",
    "713623846352979940529142984724747568191373310",
    "1800793591454480341970779146165214289059119882",
    "126304807362733370595828809000324029340048915994",
    "11692013098647223345629478661730264157247460343806",
    "187072209578355573530071658587684226515959365500926"};

static void
test_roca_tables(void **state)
{
	static const unsigned primes[] = {3, 5, 7, 11, 13, 17, 19, 23, 29, 31,
	    37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103,
	    107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167};

	assert_int_equal(ca_kc_roca_nprimes(), 38);
	assert_int_equal(sizeof(roca_prints) / sizeof(roca_prints[0]), 38);
	for (size_t i = 0; i < 38; i++) {
		BIGNUM *m = NULL;

		assert_int_equal(ca_kc_roca_prime(i), primes[i]);
		assert_true(BN_dec2bn(&m, roca_prints[i]) > 0);
		assert_true(BN_num_bits(m) <= (int)primes[i]);
		for (unsigned r = 0; r < primes[i]; r++)
			if (ca_kc_roca_member(i, r) != BN_is_bit_set(m, (int)r))
				fail_msg("prime %u residue %u", primes[i], r);
		BN_free(m);
	}
	assert_int_equal(ca_kc_roca_member(38, 1), 0);
	assert_int_equal(ca_kc_roca_member(0, 3), 0);
}

/* A public ROCA key from the badkeys test data (tests/data/rsa-roca.key). */
static void
test_roca_public_key(void **state)
{
	EVP_PKEY *k = pubkey_file("roca-badkeys.pub.pem");

	expect_key(NULL, k, RC_WEAKKEY, "RSA modulus is ROCA-vulnerable "
	    "(CVE-2017-15361)");
	EVP_PKEY_free(k);
}

/* A prime of 1024 bits (top two bits set) of the Infineon form
 * k * M + (65537^a mod M), M the product of the fingerprint primes. */
static BIGNUM *
roca_prime(const BIGNUM *M, BN_CTX *ctx)
{
	BIGNUM *g = BN_new(), *a = BN_new(), *r = BN_new(), *p = BN_new();
	BIGNUM *x = BN_new();
	int tries = 0;

	assert_true(BN_set_word(g, 65537));
	assert_true(BN_rand(a, 64, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY));
	assert_true(BN_mod_exp(r, g, a, M, ctx));
	/* p = x - (x mod M) + r for a random 1024-bit x, stepping by M */
	assert_true(BN_rand(x, 1024, BN_RAND_TOP_TWO, BN_RAND_BOTTOM_ANY));
	assert_true(BN_mod(p, x, M, ctx));
	assert_true(BN_sub(x, x, p));
	assert_true(BN_add(p, x, r));
	if (!BN_is_odd(p))
		assert_true(BN_add(p, p, M));	/* M is odd */
	while (BN_check_prime(p, ctx, NULL) != 1) {
		/* keep p odd: step by 2M */
		assert_true(BN_add(p, p, M));
		assert_true(BN_add(p, p, M));
		assert_true(++tries < 100000);
	}
	assert_int_equal(BN_num_bits(p), 1024);
	BN_free(g);
	BN_free(a);
	BN_free(r);
	BN_free(x);
	return p;
}

static void
test_roca_constructed(void **state)
{
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *M = BN_new(), *p, *q, *n = BN_new();
	EVP_PKEY *k;

	assert_true(BN_one(M));
	for (size_t i = 0; i < ca_kc_roca_nprimes(); i++)
		assert_true(BN_mul_word(M, ca_kc_roca_prime(i)));
	p = roca_prime(M, ctx);
	q = roca_prime(M, ctx);
	assert_true(BN_mul(n, p, q, ctx));
	assert_int_equal(BN_num_bits(n), 2048);
	k = rsa_from(n, 65537);
	expect_key(NULL, k, RC_WEAKKEY, "ROCA-vulnerable");
	EVP_PKEY_free(k);
	/* one ordinary prime factor breaks the fingerprint */
	BN_free(q);
	q = BN_new();
	assert_true(BN_generate_prime_ex(q, 1024, 0, NULL, NULL, NULL));
	assert_true(BN_mul(n, p, q, ctx));
	k = rsa_from(n, 65537);
	expect_key(NULL, k, RC_OK, NULL);
	EVP_PKEY_free(k);
	BN_free(M);
	BN_free(p);
	BN_free(q);
	BN_free(n);
	BN_CTX_free(ctx);
}

/*
 * A modulus that passes the per-prime masks (each N mod p in <65537 mod p>)
 * with independent exponents per prime, so that N mod M is not in the
 * cyclic subgroup <65537 mod M>: roca-detect's old mask test would flag
 * it (as it does about 1 in 2^28 honest keys); the exact test must not.
 */
static void
test_roca_mask_false_positive(void **state)
{
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *m = BN_new(), *r = BN_new(), *t = BN_new(), *n = BN_new();
	BIGNUM *pi = BN_new(), *mi = BN_new(), *g = BN_new(), *a = BN_new();
	size_t np = ca_kc_roca_nprimes();
	EVP_PKEY *k;

	assert_true(BN_one(m));
	for (size_t i = 0; i < np; i++)
		assert_true(BN_mul_word(m, ca_kc_roca_prime(i)));
	/* CRT: r = sum r_i * (m/p_i) * ((m/p_i)^-1 mod p_i) mod m */
	BN_zero(r);
	assert_true(BN_set_word(g, 65537));
	for (size_t i = 0; i < np; i++) {
		assert_true(BN_set_word(pi, ca_kc_roca_prime(i)));
		assert_true(BN_rand(a, 32, BN_RAND_TOP_ANY,
		    BN_RAND_BOTTOM_ANY));
		assert_true(BN_mod_exp(t, g, a, pi, ctx));	/* r_i */
		assert_true(BN_div(mi, NULL, m, pi, ctx));
		assert_true(BN_mul(t, t, mi, ctx));
		assert_true(BN_mod_inverse(a, mi, pi, ctx) != NULL);
		assert_true(BN_mul(t, t, a, ctx));
		assert_true(BN_mod_add(r, r, t, m, ctx));
	}
	if (!BN_is_odd(r))
		assert_true(BN_add(r, r, m));	/* m is odd */
	assert_true(BN_lshift1(m, m));	/* now 2m: steps keep N odd */
	/* N = r + j * 2m of 2048 bits, free of prime factors up to 751 */
	assert_true(BN_rand(n, 2048, BN_RAND_TOP_TWO, BN_RAND_BOTTOM_ANY));
	assert_true(BN_div(a, NULL, n, m, ctx));
	assert_true(BN_mul(n, a, m, ctx));
	assert_true(BN_add(n, n, r));
	for (unsigned q = 173; q < 752; q += 2) {
		if (BN_mod_word(n, q) == 0) {
			assert_true(BN_add(n, n, m));
			q = 171;	/* start over */
		}
	}
	assert_int_equal(BN_num_bits(n), 2048);
	for (size_t i = 0; i < np; i++)
		assert_int_equal(ca_kc_roca_member(i, (unsigned)BN_mod_word(n,
		    ca_kc_roca_prime(i))), 1);
	k = rsa_from(n, 65537);
	expect_key(NULL, k, RC_OK, NULL);
	EVP_PKEY_free(k);
	BN_free(m);
	BN_free(r);
	BN_free(t);
	BN_free(n);
	BN_free(pi);
	BN_free(mi);
	BN_free(g);
	BN_free(a);
	BN_CTX_free(ctx);
}

static void
test_fermat(void **state)
{
	BN_CTX *ctx = BN_CTX_new();
	BIGNUM *p = BN_new(), *q = BN_new(), *n = BN_new();
	EVP_PKEY *k;
	int steps = 0;

	assert_true(BN_generate_prime_ex(p, 1024, 0, NULL, NULL, NULL));
	assert_true(BN_copy(q, p));
	do {
		assert_true(BN_add_word(q, 2));
		assert_true(++steps < 100000);
	} while (BN_check_prime(q, ctx, NULL) != 1);
	assert_true(BN_mul(n, p, q, ctx));
	assert_int_equal(BN_num_bits(n), 2048);
	k = rsa_from(n, 65537);
	expect_key(NULL, k, RC_WEAKKEY, "RSA modulus factors by Fermat's "
	    "method (primes too close)");
	EVP_PKEY_free(k);
	/* q = p + 2^600 (odd): Fermat's method would need about 2^173
	 * steps. q is not prime and may have a small factor; it must not be
	 * reported as Fermat-factorable. */
	BN_zero(n);
	assert_true(BN_set_bit(n, 600));
	assert_true(BN_add(q, p, n));
	assert_true(BN_set_bit(q, 0));
	assert_true(BN_mul(n, p, q, ctx));
	k = rsa_from(n, 65537);
	{
		struct rc_detail d = {{0}};
		size_t len;
		uint8_t *der = spki_of(k, &len);
		int rc = ca_keycheck_spki(NULL, der, len, &d);

		assert_true(rc == 0 || strstr(d.msg, "small prime") != NULL);
		assert_null(strstr(d.msg, "Fermat"));
		OPENSSL_free(der);
	}
	EVP_PKEY_free(k);
	BN_free(p);
	BN_free(q);
	BN_free(n);
	BN_CTX_free(ctx);
}

/* badkeys test data tests/data/rsa-fermat.csr */
static void
test_fermat_public_key(void **state)
{
	FILE *f = fopen(fixture("fermat-badkeys.csr.pem"), "r");
	X509_REQ *req;

	assert_non_null(f);
	req = PEM_read_X509_REQ(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(req);
	expect_key(NULL, X509_REQ_get0_pubkey(req), RC_WEAKKEY, "Fermat");
	X509_REQ_free(req);
}

static void
test_debian_generated_list(void **state)
{
	static const char *const files[] = {"blacklist.RSA-2048",
	    "blacklist.RSA-4096", "other-file"};
	struct ca_keycheck *kc = NULL;
	struct rc_detail d = {{0}};
	char fp[21], *dir = tmpdir(), *text = NULL;
	uint8_t raw[10];
	size_t len;
	uint8_t *der;
	BIGNUM *n;
	EVP_PKEY *p256 = gen("EC", "P-256");

	debian_fp_hex(rsa2048, fp);
	/* keycheck.c agrees with the openssl-vulnkey computation */
	n = modulus(rsa2048);
	len = (size_t)BN_num_bytes(n);
	der = malloc(len);
	assert_int_equal(BN_bn2bin(n, der), (int)len);
	assert_int_equal(ca_kc_debian_fp(der, len, raw), 0);
	for (int i = 0; i < 10; i++) {
		char two[3];

		sprintf(two, "%02x", raw[i]);
		assert_memory_equal(two, fp + 2 * i, 2);
	}
	free(der);
	BN_free(n);
	/* comments, blank lines, CRLF, upper case, surrounding blanks */
	assert_true(asprintf(&text, "# a test list\n\n"
	    "00000000000000000000\r\n  ffffffffffffffffffff  \n%s\n"
	    "# end\n", fp) > 0);
	for (char *c = strstr(text, fp); *c != '\n'; c++)
		if (*c >= 'a' && *c <= 'f')
			*c -= 32;	/* either case is accepted */
	free(write_file(dir, files[0], text));
	free(text);
	free(write_file(dir, files[1], "# empty\n"));
	free(write_file(dir, files[2], "not a list\n"));
	assert_int_equal(ca_keycheck_open(dir, NULL, &kc, &d), 0);
	expect_key(kc, rsa2048, RC_WEAKKEY, "key is a Debian weak key "
	    "(CVE-2008-0166)");
	/* without the list (kc NULL) the same key passes */
	expect_key(NULL, rsa2048, RC_OK, NULL);
	expect_key(kc, p256, RC_OK, NULL);
	ca_keycheck_free(kc);
	EVP_PKEY_free(p256);
	rm_dir(dir, files, 3);
}

/* The shipped lists reject the public weak keys they were made from. */
static void
test_debian_shipped_lists(void **state)
{
	struct ca_keycheck *kc = NULL;
	struct rc_detail d = {{0}};
	EVP_PKEY *k = pubkey_file("debian-weak-badkeys.pub.pem");

	assert_int_equal(ca_keycheck_open(share_dir(), NULL, &kc, &d), 0);
	expect_key(kc, k, RC_WEAKKEY, "Debian weak key");
	expect_key(NULL, k, RC_OK, NULL);
	expect_key(kc, rsa2048, RC_OK, NULL);
	ca_keycheck_free(kc);
	EVP_PKEY_free(k);
}

static void
test_compromised(void **state)
{
	static const char *const files[] = {"compromised"};
	struct ca_keycheck *kc = NULL;
	struct rc_detail d = {{0}};
	EVP_PKEY *p256 = gen("EC", "P-256"), *other = gen("EC", "P-256");
	char *dir = tmpdir(), *text = NULL, *path, hex[65];
	uint8_t h[32], *der;
	size_t len;

	der = spki_of(p256, &len);
	assert_int_equal(EVP_Digest(der, len, h, NULL, EVP_sha256(), NULL), 1);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02X", h[i]);	/* upper case */
	OPENSSL_free(der);
	assert_true(asprintf(&text, "# reported by a customer\n%s\n"
	    "00000000000000000000000000000000"
	    "00000000000000000000000000000000\n", hex) > 0);
	path = write_file(dir, files[0], text);
	free(text);
	assert_int_equal(ca_keycheck_open(NULL, path, &kc, &d), 0);
	expect_key(kc, p256, RC_WEAKKEY, "key is reported compromised");
	expect_key(kc, other, RC_OK, NULL);
	expect_key(kc, rsa2048, RC_OK, NULL);
	ca_keycheck_free(kc);
	free(path);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(other);
	rm_dir(dir, files, 1);
}

static void
hash_hex(EVP_PKEY *k, char hex[65])
{
	uint8_t h[32], *der;
	size_t len;

	der = spki_of(k, &len);
	assert_int_equal(EVP_Digest(der, len, h, NULL, EVP_sha256(), NULL), 1);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", h[i]);
	OPENSSL_free(der);
}

struct checker {
	const struct ca_keycheck *kc;
	uint8_t *der;
	size_t len;
	int odd;	/* a result other than listed or not */
};

static void *
check_loop(void *arg)
{
	struct checker *c = arg;

	for (int i = 0; i < 2000; i++) {
		struct rc_detail d = {{0}};
		int rc = ca_keycheck_spki(c->kc, c->der, c->len, &d);

		if (rc != 0 && rc != RC_WEAKKEY)
			c->odd++;
	}
	return NULL;
}

/* The operator's list read again (SIGHUP) while other threads check keys:
 * each check sees the old list or the new; a file that does not parse
 * leaves the old list in use; a missing file is an empty list. */
static void
test_compromised_reload(void **state)
{
	static const char *const files[] = {"compromised"};
	struct ca_keycheck *kc = NULL;
	struct rc_detail d = {{0}};
	EVP_PKEY *a = gen("EC", "P-256"), *b = gen("EC", "P-256");
	char *dir = tmpdir(), *path, ha[65], hb[65], text[200];
	struct checker c = {0};
	pthread_t thr;
	size_t n = 9;

	hash_hex(a, ha);
	hash_hex(b, hb);
	snprintf(text, sizeof(text), "%s\n", ha);
	path = write_file(dir, files[0], text);
	assert_int_equal(ca_keycheck_open(NULL, path, &kc, &d), 0);
	expect_key(kc, a, RC_WEAKKEY, "reported compromised");
	expect_key(kc, b, RC_OK, NULL);

	c.kc = kc;
	c.der = spki_of(a, &c.len);
	assert_int_equal(pthread_create(&thr, NULL, check_loop, &c), 0);
	for (int i = 0; i < 50; i++) {
		snprintf(text, sizeof(text), "%s\n", i % 2 ? ha : hb);
		free(write_file(dir, files[0], text));
		assert_int_equal(ca_keycheck_reload(kc, &n, &d), 0);
		assert_int_equal(n, 1);
	}
	assert_int_equal(pthread_join(thr, NULL), 0);
	assert_int_equal(c.odd, 0);
	OPENSSL_free(c.der);

	/* b only now (i = 49 wrote a, so write b) */
	snprintf(text, sizeof(text), "# rotated\n%s\n", hb);
	free(write_file(dir, files[0], text));
	assert_int_equal(ca_keycheck_reload(kc, &n, &d), 0);
	assert_int_equal(n, 1);
	expect_key(kc, a, RC_OK, NULL);
	expect_key(kc, b, RC_WEAKKEY, "reported compromised");
	/* a broken file: refused with its line, b stays listed */
	snprintf(text, sizeof(text), "%s\nnot a hash\n", ha);
	free(write_file(dir, files[0], text));
	assert_int_equal(ca_keycheck_reload(kc, &n, &d), RC_CONFIG);
	assert_non_null(strstr(d.msg, "compromised:2:"));
	expect_key(kc, a, RC_OK, NULL);
	expect_key(kc, b, RC_WEAKKEY, "reported compromised");
	/* gone: an empty list, as at start */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(ca_keycheck_reload(kc, &n, &d), 0);
	assert_int_equal(n, 0);
	expect_key(kc, b, RC_OK, NULL);
	ca_keycheck_free(kc);
	kc = NULL;
	/* no list configured: nothing to reload */
	assert_int_equal(ca_keycheck_open(NULL, NULL, &kc, &d), 0);
	assert_int_equal(ca_keycheck_reload(kc, &n, &d), RC_NOTFOUND);
	assert_int_equal(ca_keycheck_reload(NULL, &n, &d), RC_NOTFOUND);
	ca_keycheck_free(kc);
	free(path);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	rm_dir(dir, files, 0);
}

static void
test_list_errors(void **state)
{
	static const char *const files[] = {"blacklist.RSA-2048", "comp"};
	struct ca_keycheck *kc = NULL;
	struct rc_detail d = {{0}};
	char *dir = tmpdir(), *path;

	/* missing directory and file: allowed (warnings only) */
	assert_int_equal(ca_keycheck_open("/nonexistent/weak", "/nonexistent/c",
	    &kc, &d), 0);
	assert_non_null(kc);
	ca_keycheck_free(kc);
	kc = NULL;
	assert_int_equal(ca_keycheck_open(NULL, NULL, &kc, &d), 0);
	ca_keycheck_free(kc);
	kc = NULL;
	/* a short line on line 3 */
	free(write_file(dir, files[0], "# x\nb7ead9492dfd921fc4f9\n1234\n"));
	assert_int_equal(ca_keycheck_open(dir, NULL, &kc, &d), RC_CONFIG);
	assert_null(kc);
	assert_non_null(strstr(d.msg, "blacklist.RSA-2048:3:"));
	/* a non-hex line */
	free(write_file(dir, files[0], "b7ead9492dfd921fc4fg\n"));
	assert_int_equal(ca_keycheck_open(dir, NULL, &kc, &d), RC_CONFIG);
	assert_non_null(strstr(d.msg, "blacklist.RSA-2048:1:"));
	free(write_file(dir, files[0], "b7ead9492dfd921fc4f9 trailing\n"));
	assert_int_equal(ca_keycheck_open(dir, NULL, &kc, &d), RC_CONFIG);
	/* compromised list: a SHA-1 is not a SHA-256 */
	path = write_file(dir, files[1], "\n# c\n\n"
	    "da39a3ee5e6b4b0d3255bfef95601890afd80709\n");
	assert_int_equal(ca_keycheck_open(NULL, path, &kc, &d), RC_CONFIG);
	assert_null(kc);
	assert_non_null(strstr(d.msg, "/comp:4:"));
	assert_non_null(strstr(d.msg, "64 hex digits"));
	free(path);
	rm_dir(dir, files, 2);
}

static void
test_oid_text(void **state)
{
	static const uint8_t p256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03,
	    0x01, 0x07};
	static const uint8_t trunc[] = {0x2a, 0x86};
	static const uint8_t joint[] = {0x88, 0x37, 0x01};
	char buf[64];

	ca_kc_oid_text(p256, sizeof(p256), buf, sizeof(buf));
	assert_string_equal(buf, "1.2.840.10045.3.1.7");
	ca_kc_oid_text(trunc, sizeof(trunc), buf, sizeof(buf));
	assert_string_equal(buf, "(bad OID)");
	ca_kc_oid_text(joint, sizeof(joint), buf, sizeof(buf));
	assert_string_equal(buf, "2.999.1");
	ca_kc_oid_text(p256, 0, buf, sizeof(buf));
	assert_string_equal(buf, "(bad OID)");
}

static int
setup(void **state)
{
	rsa2048 = gen_rsa(2048);
	return 0;
}

static int
teardown(void **state)
{
	EVP_PKEY_free(rsa2048);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_refused_types),
		cmocka_unit_test(test_refused_fixtures),
		cmocka_unit_test(test_rsa_pss_key),
		cmocka_unit_test(test_rsa_exponents),
		cmocka_unit_test(test_ec_encodings),
		cmocka_unit_test(test_point_off_curve),
		cmocka_unit_test(test_malformed_spki),
		cmocka_unit_test(test_small_factor),
		cmocka_unit_test(test_roca_tables),
		cmocka_unit_test(test_roca_public_key),
		cmocka_unit_test(test_roca_constructed),
		cmocka_unit_test(test_roca_mask_false_positive),
		cmocka_unit_test(test_fermat),
		cmocka_unit_test(test_fermat_public_key),
		cmocka_unit_test(test_debian_generated_list),
		cmocka_unit_test(test_debian_shipped_lists),
		cmocka_unit_test(test_compromised),
		cmocka_unit_test(test_compromised_reload),
		cmocka_unit_test(test_list_errors),
		cmocka_unit_test(test_oid_text),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
