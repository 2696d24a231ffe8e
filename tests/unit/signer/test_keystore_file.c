/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/signer/keystore_file.c, in-process (so LeakSanitizer covers
 * the backend): key files are 0600 whatever the umask, created with
 * O_EXCL, reloaded with their role and certificate; files others can read,
 * symlinks, garbage and unsupported keys are refused; signatures verify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "signer/signer_int.h"
#include "test_helpers.h"
#include "util/xmalloc.h"

#include <openssl/pem.h>

#include <sys/stat.h>
#include <unistd.h>

static char *
path_of(const char *dir, const char *id, const char *ext)
{
	return xasprintf("%s/%s.%s", dir, id, ext);
}

static void
write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static struct signer_key *
load(struct signer_ks *ks)
{
	struct signer_key *list = NULL;

	assert_int_equal(signer_ks_load(ks, &list), 0);
	return list;
}

/* Writes der as dir/issuing.crt and loads the store again: 1 when the
 * issuing key came back with that certificate. */
static int
loads_issuing_cert(struct signer_ks *ks, const char *dir,
    const uint8_t *der, size_t len)
{
	char *cp = path_of(dir, "issuing", "crt");
	struct signer_key *list;
	int ok;

	unlink(cp);
	write_file(cp, der, len, 0600);
	free(cp);
	list = load(ks);
	ok = th_key_find(list, "issuing")->cert != NULL;
	th_keys_free(list);
	return ok;
}

/* Signs a message with k and checks it against k's SPKI. */
static void
sign_and_verify(struct signer_key *k)
{
	static const uint8_t msg[] = "to be signed";
	uint8_t sig[SIGNER_SIG_MAX];
	size_t sig_len;

	for (int i = 0; i < 3; i++) {	/* the contexts are reused */
		sig_len = sizeof(sig);
		assert_int_equal(signer_ks_sign(k, msg, sizeof(msg), sig,
		    &sig_len), 0);
		assert_true(th_verify(k->spki, k->spki_len, k->keytype, msg,
		    sizeof(msg), sig, sig_len));
		sig[sig_len / 2] ^= 1;
		assert_false(th_verify(k->spki, k->spki_len, k->keytype, msg,
		    sizeof(msg), sig, sig_len));
	}
}

static void
test_open(void **state)
{
	struct signer_ks *ks = NULL;

	assert_int_equal(signer_ks_open("/nonexistent/certdesk", &ks),
	    RC_NOTFOUND);
	assert_null(ks);
	assert_int_equal(signer_ks_open("/etc/passwd", &ks), RC_CONFIG);
	assert_int_equal(signer_ks_open("", &ks), RC_CONFIG);
	assert_int_equal(signer_ks_open(NULL, &ks), RC_CONFIG);
	signer_ks_close(NULL);
	signer_key_free(NULL);
}

static void
test_genkey_files(void **state)
{
	char *dir = th_mkdtemp(), *kp, *rp;
	struct signer_ks *ks;
	struct signer_key *k, *again = NULL;
	struct stat st;
	mode_t old = umask(0);	/* the mode must not depend on it */
	char line[32] = "";
	FILE *f;

	assert_int_equal(signer_ks_open(dir, &ks), 0);
	assert_int_equal(signer_ks_genkey(ks, "root-a", SIGNER_KEY_EC_P256, 1,
	    &k), 0);
	umask(old);
	kp = path_of(dir, "root-a", "key");
	rp = path_of(dir, "root-a", "role");
	assert_int_equal(stat(kp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(rp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	f = fopen(rp, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "root\n");
	/* PEM PKCS#8, unencrypted */
	f = fopen(kp, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "-----BEGIN PRIVATE" " KEY-----\n");

	assert_string_equal(k->id, "root-a");
	assert_int_equal(k->keytype, SIGNER_KEY_EC_P256);
	assert_int_equal(k->is_root, 1);
	assert_null(k->cert);
	sign_and_verify(k);
	/* O_EXCL: a second key of that id is refused */
	assert_int_equal(signer_ks_genkey(ks, "root-a", SIGNER_KEY_EC_P384, 0,
	    &again), RC_EXISTS);
	assert_null(again);
	/* ids and types */
	assert_int_equal(signer_ks_genkey(ks, "../x", SIGNER_KEY_EC_P256, 0,
	    &again), RC_INVAL);
	assert_int_equal(signer_ks_genkey(ks, "ok", 0, 0, &again), RC_INVAL);
	assert_int_equal(signer_ks_genkey(ks, "ok", 6, 0, &again), RC_INVAL);
	assert_false(th_exists(dir, "ok", "key"));
	signer_key_free(k);
	signer_ks_close(ks);
	free(kp);
	free(rp);
	th_rmdir(dir);
}

static void
test_reload(void **state)
{
	char *dir = th_mkdtemp();
	struct signer_ks *ks;
	struct signer_key *a, *b, *c, *list, *k;
	struct rc_detail d = {""};
	struct th_cert tc = {0};
	EVP_PKEY *priv;
	uint8_t *tbs, *cert, sig[SIGNER_SIG_MAX];
	size_t tl, cl, sl = sizeof(sig), alg_len;
	const uint8_t *alg = signer_sigalg_der(SIGNER_KEY_EC_P384, &alg_len);

	assert_int_equal(signer_ks_open(dir, &ks), 0);
	assert_int_equal(signer_ks_genkey(ks, "root", SIGNER_KEY_EC_P384, 1,
	    &a), 0);
	assert_int_equal(signer_ks_genkey(ks, "issuing", SIGNER_KEY_EC_P256,
	    0, &b), 0);
	assert_int_equal(signer_ks_genkey(ks, "rsa", SIGNER_KEY_RSA_2048, 0,
	    &c), 0);
	sign_and_verify(c);
	/* a self-signed certificate for the root, stored beside it */
	tc.alg_keytype = SIGNER_KEY_EC_P384;
	tc.issuer_cn = tc.subject_cn = "Reload Root";
	tc.spki = a->spki;
	tc.spki_len = a->spki_len;
	tc.ca = 1;
	tbs = th_tbs_cert(&tc, &tl);
	assert_int_equal(signer_check_tbs(a, a, SIGNER_TBS_CERT, tbs, tl, &d),
	    0);
	assert_int_equal(signer_ks_sign(a, tbs, tl, sig, &sl), 0);
	cert = th_assemble(tbs, tl, alg, alg_len, sig, sl, &cl);
	assert_int_equal(signer_key_set_cert(a, cert, cl, &d), 0);
	assert_int_equal(signer_ks_save_cert(ks, a), 0);
	assert_true(th_exists(dir, "root", "crt"));

	list = load(ks);
	assert_int_equal(th_key_count(list), 3);
	k = th_key_find(list, "root");
	assert_non_null(k);
	assert_int_equal(k->keytype, SIGNER_KEY_EC_P384);
	assert_int_equal(k->is_root, 1);
	assert_int_equal(k->spki_len, a->spki_len);
	assert_memory_equal(k->spki, a->spki, a->spki_len);
	assert_int_equal(k->cert_len, cl);
	assert_memory_equal(k->cert, cert, cl);
	assert_int_equal(k->subject_len, a->subject_len);
	assert_memory_equal(k->subject, a->subject, a->subject_len);
	sign_and_verify(k);
	k = th_key_find(list, "issuing");
	assert_non_null(k);
	assert_int_equal(k->is_root, 0);
	assert_int_equal(k->keytype, SIGNER_KEY_EC_P256);
	assert_memory_equal(k->spki, b->spki, b->spki_len);
	assert_null(k->cert);
	sign_and_verify(k);
	k = th_key_find(list, "rsa");
	assert_non_null(k);
	assert_int_equal(k->keytype, SIGNER_KEY_RSA_2048);
	sign_and_verify(k);
	th_keys_free(list);

	/* a certificate that is not the key's is not loaded with it */
	{
		char *cp = path_of(dir, "issuing", "crt");

		write_file(cp, cert, cl, 0600);
		free(cp);
	}
	list = load(ks);
	assert_null(th_key_find(list, "issuing")->cert);
	th_keys_free(list);

	/* the checks of SETCERT again: the issuing key's CA certificate by
	 * the root is loaded; one by another key, or not for a CA, is not */
	{
		EVP_PKEY *other = th_keygen(SIGNER_KEY_EC_P384);
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		uint8_t *itbs, *icert;
		size_t itl, icl;

		tc.issuer_cn = "Reload Root";
		tc.subject_cn = "Reload Issuing";
		tc.spki = b->spki;
		tc.spki_len = b->spki_len;
		itbs = th_tbs_cert(&tc, &itl);
		sl = sizeof(sig);
		assert_int_equal(signer_ks_sign(a, itbs, itl, sig, &sl), 0);
		icert = th_assemble(itbs, itl, alg, alg_len, sig, sl, &icl);
		assert_true(loads_issuing_cert(ks, dir, icert, icl));
		free(icert);
		sl = sizeof(sig);
		assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha384(),
		    NULL, other), 1);
		assert_int_equal(EVP_DigestSign(ctx, sig, &sl, itbs, itl), 1);
		icert = th_assemble(itbs, itl, alg, alg_len, sig, sl, &icl);
		assert_false(loads_issuing_cert(ks, dir, icert, icl));
		free(icert);
		free(itbs);
		tc.ca = 0;
		itbs = th_tbs_cert(&tc, &itl);
		sl = sizeof(sig);
		assert_int_equal(signer_ks_sign(a, itbs, itl, sig, &sl), 0);
		icert = th_assemble(itbs, itl, alg, alg_len, sig, sl, &icl);
		assert_false(loads_issuing_cert(ks, dir, icert, icl));
		free(icert);
		free(itbs);
		EVP_MD_CTX_free(ctx);
		EVP_PKEY_free(other);
	}

	/* a new key of an old id drops the old certificate */
	{
		char *kp = path_of(dir, "root", "key");

		assert_int_equal(unlink(kp), 0);
		free(kp);
	}
	signer_key_free(a);
	assert_int_equal(signer_ks_genkey(ks, "root", SIGNER_KEY_EC_P256, 1,
	    &a), 0);
	assert_false(th_exists(dir, "root", "crt"));
	priv = NULL;

	signer_key_free(a);
	signer_key_free(b);
	signer_key_free(c);
	EVP_PKEY_free(priv);
	free(tbs);
	free(cert);
	signer_ks_close(ks);
	th_rmdir(dir);
}

static void
test_refused_files(void **state)
{
	char *dir = th_mkdtemp(), *kp, *rp, *lp;
	struct signer_ks *ks;
	struct signer_key *k, *list;
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *rsa1k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	BIO *bio;
	char *pem;
	long n;

	assert_int_equal(signer_ks_open(dir, &ks), 0);
	assert_int_equal(signer_ks_genkey(ks, "good", SIGNER_KEY_EC_P256, 0,
	    &k), 0);
	signer_key_free(k);
	list = load(ks);
	assert_int_equal(th_key_count(list), 1);
	th_keys_free(list);

	/* readable by group or others: refused */
	kp = path_of(dir, "good", "key");
	rp = path_of(dir, "good", "role");
	for (mode_t m = 0604; m <= 0660; m += 0054) {
		assert_int_equal(chmod(kp, m), 0);
		list = load(ks);
		assert_int_equal(th_key_count(list), 0);
		th_keys_free(list);
	}
	assert_int_equal(chmod(kp, 0400), 0);	/* read-only: fine */
	list = load(ks);
	assert_int_equal(th_key_count(list), 1);
	th_keys_free(list);
	assert_int_equal(chmod(kp, 0600), 0);
	/* a role file others may write, an unknown role: refused */
	assert_int_equal(chmod(rp, 0622), 0);
	list = load(ks);
	assert_int_equal(th_key_count(list), 0);
	th_keys_free(list);
	write_file(rp, "god\n", 4, 0600);
	list = load(ks);
	assert_int_equal(th_key_count(list), 0);
	th_keys_free(list);
	/* no role file: an issuing key */
	assert_int_equal(unlink(rp), 0);
	list = load(ks);
	assert_int_equal(th_key_count(list), 1);
	assert_int_equal(list->is_root, 0);
	th_keys_free(list);

	/* a symlink to a key is not followed */
	lp = path_of(dir, "link", "key");
	assert_int_equal(symlink(kp, lp), 0);
	list = load(ks);
	assert_int_equal(th_key_count(list), 1);
	assert_null(th_key_find(list, "link"));
	th_keys_free(list);
	free(lp);

	/* garbage, an encrypted-looking file, Ed25519, RSA-1024, bad ids */
	lp = path_of(dir, "garbage", "key");
	write_file(lp, "not a key\n", 10, 0600);
	free(lp);
	lp = path_of(dir, "enc", "key");
	write_file(lp, "-----BEGIN ENCRYPTED PRIVATE" " KEY-----\nAAAA\n"
	    "-----END ENCRYPTED PRIVATE KEY-----\n", 80, 0600);
	free(lp);
	bio = BIO_new(BIO_s_mem());
	assert_true(PEM_write_bio_PrivateKey(bio, ed, NULL, NULL, 0, NULL,
	    NULL));
	n = BIO_get_mem_data(bio, &pem);
	lp = path_of(dir, "ed", "key");
	write_file(lp, pem, (size_t)n, 0600);
	free(lp);
	BIO_free(bio);
	bio = BIO_new(BIO_s_mem());
	assert_true(PEM_write_bio_PrivateKey(bio, rsa1k, NULL, NULL, 0, NULL,
	    NULL));
	n = BIO_get_mem_data(bio, &pem);
	lp = path_of(dir, "small", "key");
	write_file(lp, pem, (size_t)n, 0600);
	free(lp);
	lp = path_of(dir, "Upper", "key");
	write_file(lp, pem, (size_t)n, 0600);
	free(lp);
	lp = xasprintf("%s/.key", dir);
	write_file(lp, pem, (size_t)n, 0600);
	free(lp);
	BIO_free(bio);
	list = load(ks);
	assert_int_equal(th_key_count(list), 1);
	assert_non_null(th_key_find(list, "good"));
	th_keys_free(list);
	/* genkey over a file that is there but was not loaded */
	assert_int_equal(signer_ks_genkey(ks, "garbage", SIGNER_KEY_EC_P256, 0,
	    &k), RC_EXISTS);

	EVP_PKEY_free(ed);
	EVP_PKEY_free(rsa1k);
	free(kp);
	free(rp);
	signer_ks_close(ks);
	th_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_genkey_files),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_refused_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
