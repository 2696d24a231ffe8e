/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/signer/keystore_pkcs11.c and of keys on a token in the key
 * store, in-process (so LeakSanitizer covers them), against a real token:
 * SoftHSM 2 (Debian softhsm2), a fresh token per test in a temporary
 * directory. Keys of every type made on the token sign what verifies with
 * their SPKI and come back after a restart from their <id>.p11 file; a lost
 * session is logged in to again; a wrong module, token label, PIN or PIN
 * file, a .p11 file with garbage or an unknown CKA_ID, a key both in a
 * file and on the token, and a token key without a token are refused with
 * the key store's usual codes.
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

#include <sys/stat.h>
#include <unistd.h>

#define PIN "4711-0815"

struct fx {
	char *dir;		/* the token's files and the PIN file */
	char *keydir;
	char *pin;		/* path of the PIN file */
	char *module;
	struct signer_conf c;
};

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	const char *m = getenv("CERTDESK_TEST_P11_MODULE");
	char *conf, *text, *cmd;

	f->module = xstrdup(m && *m ? m : "/usr/lib/softhsm/libsofthsm2.so");
	f->dir = th_mkdtemp();
	f->keydir = xasprintf("%s/keys", f->dir);
	assert_int_equal(mkdir(f->keydir, 0700), 0);
	conf = xasprintf("%s/softhsm2.conf", f->dir);
	text = xasprintf("directories.tokendir = %s\nobjectstore.backend = "
	    "file\nlog.level = ERROR\n", f->dir);
	write_file(conf, text, 0600);
	assert_int_equal(setenv("SOFTHSM2_CONF", conf, 1), 0);
	cmd = xasprintf("softhsm2-util --init-token --free --label certdesk "
	    "--so-pin 12345678 --pin %s >/dev/null", PIN);
	assert_int_equal(system(cmd), 0);
	f->pin = xasprintf("%s/pin", f->dir);
	write_file(f->pin, PIN "\n", 0600);
	f->c.keydir = f->keydir;
	f->c.pkcs11_module = f->module;
	f->c.pkcs11_token = "certdesk";
	f->c.pkcs11_pin_file = f->pin;
	f->c.new_on_token = 1;
	free(conf);
	free(text);
	free(cmd);
	*state = f;
	return 0;
}

/* th_rmdir removes files only: the token is a directory of its own */
static int
teardown(void **state)
{
	struct fx *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->dir);
	free(f->keydir);
	free(f->pin);
	free(f->module);
	free(f);
	return 0;
}

static void
sign_and_verify(struct signer_key *k)
{
	static const uint8_t msg[] = "a TBSCertificate, say";
	uint8_t sig[SIGNER_SIG_MAX];
	size_t sig_len;

	for (int i = 0; i < 2; i++) {
		sig_len = sizeof(sig);
		assert_int_equal(signer_ks_sign(k, msg, sizeof(msg), sig,
		    &sig_len), 0);
		assert_true(th_verify(k->spki, k->spki_len, k->keytype, msg,
		    sizeof(msg), sig, sig_len));
		sig[sig_len - 3] ^= 1;
		assert_false(th_verify(k->spki, k->spki_len, k->keytype, msg,
		    sizeof(msg), sig, sig_len));
	}
}

/* Every key type: made on the token, signs, comes back after a restart. */
static void
test_genkey_sign_reload(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *id;
		int type, root;
	} keys[] = {
		{"root", SIGNER_KEY_EC_P384, 1},
		{"issuing-1", SIGNER_KEY_EC_P256, 0},
		{"rsa", SIGNER_KEY_RSA_2048, 0},
	};
	enum { N = sizeof(keys) / sizeof(keys[0]) };
	uint8_t *spki[N];
	size_t spki_len[N];
	struct signer_ks *ks = NULL;
	struct signer_key *k, *list = NULL;

	assert_int_equal(signer_ks_open_conf(&f->c, &ks), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(signer_ks_genkey(ks, keys[i].id, keys[i].type,
		    keys[i].root, &k), 0);
		assert_int_equal(k->keytype, keys[i].type);
		assert_int_equal(k->is_root, keys[i].root);
		/* the key directory names it; no key file anywhere */
		assert_true(th_exists(f->keydir, keys[i].id, "p11"));
		assert_true(th_exists(f->keydir, keys[i].id, "role"));
		assert_false(th_exists(f->keydir, keys[i].id, "key"));
		sign_and_verify(k);
		spki[i] = xmalloc(k->spki_len);
		memcpy(spki[i], k->spki, k->spki_len);
		spki_len[i] = k->spki_len;
		signer_key_free(k);
	}
	/* the same id again: refused, the key stays */
	assert_int_equal(signer_ks_genkey(ks, "root", SIGNER_KEY_EC_P256, 1,
	    &k), RC_EXISTS);
	signer_ks_close(ks);

	/* a restart: the keys come back from the token */
	assert_int_equal(signer_ks_open_conf(&f->c, &ks), 0);
	assert_int_equal(signer_ks_load(ks, &list), 0);
	assert_int_equal(th_key_count(list), N);
	for (int i = 0; i < N; i++) {
		k = th_key_find(list, keys[i].id);
		assert_non_null(k);
		assert_int_equal(k->keytype, keys[i].type);
		assert_int_equal(k->is_root, keys[i].root);
		assert_int_equal(k->spki_len, spki_len[i]);
		assert_memory_equal(k->spki, spki[i], spki_len[i]);
		sign_and_verify(k);
		free(spki[i]);
	}
	th_keys_free(list);
	signer_ks_close(ks);
}

/* A session the token lost (a network HSM restarted): logged in again;
 * keys found by CKA_ID and destroyed. */
static void
test_relogin(void **state)
{
	struct fx *f = *state;
	struct signer_p11 *p = NULL;
	struct signer_p11key *k = NULL, *again = NULL;
	uint8_t id[SIGNER_P11_ID_LEN], *spki = NULL, *spki2 = NULL;
	size_t spki_len = 0, spki2_len = 0;
	static const uint8_t msg[] = "signed after a new login";
	struct rc_detail d = {""};
	uint8_t sig[SIGNER_SIG_MAX];
	size_t sig_len;
	int type = 0;

	assert_int_equal(signer_p11_open(f->module, "certdesk", f->pin, &p),
	    0);
	assert_int_equal(signer_p11_key_generate(p, "certdesk t",
	    SIGNER_KEY_EC_P256, id, &spki, &spki_len, &k), 0);
	assert_int_equal(signer_p11_health(p, &d), 0);
	signer_p11_drop_session(p);
	/* the health check finds the lost session and logs in again */
	assert_int_equal(signer_p11_health(p, &d), 0);
	signer_p11_drop_session(p);
	sig_len = sizeof(sig);
	assert_int_equal(signer_p11_sign(k, msg, sizeof(msg), sig, &sig_len),
	    0);
	assert_true(th_verify(spki, spki_len, SIGNER_KEY_EC_P256, msg,
	    sizeof(msg), sig, sig_len));
	/* and the key is found by its CKA_ID; a made-up one is not */
	assert_int_equal(signer_p11_key_find(p, id, sizeof(id), &type, &spki2,
	    &spki2_len, &again), 0);
	assert_int_equal(type, SIGNER_KEY_EC_P256);
	assert_int_equal(spki2_len, spki_len);
	assert_memory_equal(spki2, spki, spki_len);
	signer_p11_key_free(again);
	free(spki2);
	id[0] ^= 0xff;
	assert_int_equal(signer_p11_key_find(p, id, sizeof(id), &type, &spki2,
	    &spki2_len, &again), RC_NOTFOUND);
	assert_null(again);
	assert_int_equal(signer_p11_key_find(p, id, 0, &type, &spki2,
	    &spki2_len, &again), RC_INVAL);
	id[0] ^= 0xff;
	/* destroyed: gone from the token */
	signer_p11_key_destroy(k);
	assert_int_equal(signer_p11_key_find(p, id, sizeof(id), &type, &spki2,
	    &spki2_len, &again), RC_NOTFOUND);
	free(spki);
	signer_p11_close(p);
}

/* Wrong modules, labels, PINs and PIN files. */
static void
test_open_refused(void **state)
{
	struct fx *f = *state;
	struct signer_p11 *p = NULL;
	struct signer_ks *ks = NULL;
	struct signer_conf c = f->c;
	char *bad = xasprintf("%s/badpin", f->dir);

	assert_int_equal(signer_p11_open("/nonexistent/libp11.so", "certdesk",
	    f->pin, &p), RC_CONFIG);
	assert_null(p);
	/* a shared library that is no PKCS#11 module */
	assert_int_equal(signer_p11_open("libz.so.1", "certdesk", f->pin, &p),
	    RC_CONFIG);
	assert_int_equal(signer_p11_open(f->module, "no such token", f->pin,
	    &p), RC_CONFIG);
	assert_int_equal(signer_p11_open(f->module, "", f->pin, &p),
	    RC_CONFIG);
	assert_int_equal(signer_p11_open(f->module,
	    "a label longer than thirty-two bytes", f->pin, &p), RC_CONFIG);
	assert_int_equal(signer_p11_open(f->module, "certdesk", NULL, &p),
	    RC_CONFIG);
	assert_int_equal(signer_p11_open(NULL, "certdesk", f->pin, &p),
	    RC_CONFIG);
	/* PIN files: missing, readable by others, empty, two lines, long */
	assert_int_equal(signer_p11_open(f->module, "certdesk", bad, &p),
	    RC_CONFIG);
	write_file(bad, PIN "\n", 0644);
	assert_int_equal(signer_p11_open(f->module, "certdesk", bad, &p),
	    RC_CONFIG);
	write_file(bad, "", 0600);
	assert_int_equal(signer_p11_open(f->module, "certdesk", bad, &p),
	    RC_CONFIG);
	write_file(bad, "\n", 0600);
	assert_int_equal(signer_p11_open(f->module, "certdesk", bad, &p),
	    RC_CONFIG);
	write_file(bad, PIN "\n" PIN "\n", 0600);
	assert_int_equal(signer_p11_open(f->module, "certdesk", bad, &p),
	    RC_CONFIG);
	{
		char big[400];

		memset(big, '1', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		write_file(bad, big, 0600);
		assert_int_equal(signer_p11_open(f->module, "certdesk", bad,
		    &p), RC_CONFIG);
	}
	/* a wrong PIN: the module says no */
	write_file(bad, "1234-5678\r\n", 0600);
	assert_int_equal(signer_p11_open(f->module, "certdesk", bad, &p),
	    RC_SIGNER);
	assert_null(p);
	/* the key store fails to open with the token */
	c.pkcs11_pin_file = bad;
	assert_int_equal(signer_ks_open_conf(&c, &ks), RC_SIGNER);
	assert_null(ks);
	/* keys on a token, but no module */
	c.pkcs11_module = "";
	assert_int_equal(signer_ks_open_conf(&c, &ks), RC_CONFIG);
	assert_null(ks);
	free(bad);
}

/* .p11 files that name nothing usable are skipped, like bad key files. */
static void
test_bad_entries(void **state)
{
	struct fx *f = *state;
	struct signer_ks *ks = NULL;
	struct signer_key *k = NULL, *list = NULL;
	struct signer_conf files = {.keydir = f->keydir};
	static const struct {
		const char *name, *text;
		mode_t mode;
	} bad[] = {
		{"garbage.p11", "not hex at all\n", 0600},
		{"upper.p11", "0A0B\n", 0600},
		{"odd.p11", "abc\n", 0600},
		{"long.p11", "00000000000000000000000000000000000000000000"
		    "000000000000000000000000000000000000000000000000000000"
		    "00000000000000000000000000000000000000000000\n", 0600},
		{"unknown.p11", "00112233445566778899aabbccddeeff\n", 0600},
		{"open.p11", "00112233445566778899aabbccddeeff\n", 0644},
		/* also a key file of that id; which one is meant? */
		{"twice.key", "a key file (never read: twice)\n", 0600},
	};

	assert_int_equal(signer_ks_open_conf(&f->c, &ks), 0);
	assert_int_equal(signer_ks_genkey(ks, "good", SIGNER_KEY_EC_P256, 0,
	    &k), 0);
	signer_key_free(k);
	assert_int_equal(signer_ks_genkey(ks, "twice", SIGNER_KEY_EC_P256, 0,
	    &k), 0);
	signer_key_free(k);
	signer_ks_close(ks);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *p = xasprintf("%s/%s", f->keydir, bad[i].name);

		write_file(p, bad[i].text, bad[i].mode);
		free(p);
	}

	assert_int_equal(signer_ks_open_conf(&f->c, &ks), 0);
	assert_int_equal(signer_ks_load(ks, &list), 0);
	assert_int_equal(th_key_count(list), 1);
	assert_non_null(th_key_find(list, "good"));
	th_keys_free(list);
	list = NULL;
	signer_ks_close(ks);

	/* without the token, its keys are not loaded (and nothing else
	 * breaks); a new key is then a file */
	assert_int_equal(signer_ks_open_conf(&files, &ks), 0);
	assert_int_equal(signer_ks_load(ks, &list), 0);
	assert_int_equal(th_key_count(list), 0);
	assert_int_equal(signer_ks_genkey(ks, "good", SIGNER_KEY_EC_P256, 0,
	    &k), RC_EXISTS);
	assert_int_equal(signer_ks_genkey(ks, "filed", SIGNER_KEY_EC_P256, 0,
	    &k), 0);
	assert_true(th_exists(f->keydir, "filed", "key"));
	signer_key_free(k);
	signer_ks_close(ks);

	/* with the token, both kinds load side by side */
	assert_int_equal(signer_ks_open_conf(&f->c, &ks), 0);
	assert_int_equal(signer_ks_load(ks, &list), 0);
	assert_int_equal(th_key_count(list), 2);
	sign_and_verify(th_key_find(list, "good"));
	sign_and_verify(th_key_find(list, "filed"));
	th_keys_free(list);
	signer_ks_close(ks);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_genkey_sign_reload, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_relogin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_entries, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
