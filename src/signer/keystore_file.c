/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The file key store: CA private keys as PEM PKCS#8 files in the key
 * directory, one per key, with the key's role and certificate beside it:
 *
 *	<id>.key	private key, PEM PKCS#8, unencrypted, mode 0600
 *	<id>.role	"root\n" or "issuing\n", mode 0600
 *	<id>.crt	the key's certificate, DER (once set)
 *
 * Runs only in the signer process. Trusts the key directory only as far as
 * its permissions go: a key or role file that others can read or write is
 * refused, files are opened without following symlinks, and key bytes are
 * held in wiped buffers. A PKCS#11 backend replaces this whole file behind
 * the same signer_ks_* interface (signer_int.h).
 *
 * Signing keeps the EVP_PKEY and a DigestSign context initialised once per
 * key (the template); each signature copies the template into a work
 * context, which avoids fetching the algorithms again on every call
 * (expensive in OpenSSL 3).
 */
#include "signer/signer_int.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYFILE_MAX (64 * 1024)
#define ROLEFILE_MAX 64

struct signer_ks {
	char *dir;
};

/* The backend part of a signer_key. */
struct fkey {
	EVP_PKEY *pkey;
	EVP_MD_CTX *tmpl;	/* DigestSign initialised, never finalised */
	EVP_MD_CTX *work;	/* copy of tmpl per signature */
};

int
signer_ks_open(const char *dir, struct signer_ks **out)
{
	struct stat st;

	*out = NULL;
	if (dir == NULL || dir[0] == '\0')
		return RC_CONFIG;
	if (stat(dir, &st) != 0) {
		log_err(LOG_SIGNER, "key directory %s: %s", dir,
		    strerror(errno));
		return RC_NOTFOUND;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_err(LOG_SIGNER, "key directory %s: not a directory", dir);
		return RC_CONFIG;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->dir = xstrdup(dir);
	return 0;
}

void
signer_ks_close(struct signer_ks *ks)
{
	if (ks == NULL)
		return;
	free(ks->dir);
	free(ks);
}

void
signer_key_free(struct signer_key *k)
{
	struct fkey *f;

	if (k == NULL)
		return;
	f = k->be;
	if (f != NULL) {
		EVP_MD_CTX_free(f->tmpl);
		EVP_MD_CTX_free(f->work);
		EVP_PKEY_free(f->pkey);
		free(f);
	}
	free(k->spki);
	free(k->cert);
	free(k);
}

/* log_openssl() with the key id in the text. */
static void
log_ssl(const char *id, const char *what)
{
	char text[96];

	snprintf(text, sizeof(text), "key %s: %s", id, what);
	log_openssl(LOG_SIGNER, text);
}

static char *
key_path(const struct signer_ks *ks, const char *id, const char *ext)
{
	return xasprintf("%s/%s.%s", ks->dir, id, ext);
}

/*
 * Reads a small file into a new secret buffer (wiped on free). RC_NOTFOUND
 * if absent; RC_POLICY if it is not a regular file, not ours, or its mode
 * has any of the bits in forbid; RC_TOOBIG past max; RC_IO otherwise.
 */
static int
read_file(const char *path, size_t max, mode_t forbid, struct sec **out)
{
	struct sec *s = NULL;
	struct stat st;
	size_t got = 0;
	int fd, rc = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? RC_NOTFOUND :
		    errno == ELOOP ? RC_POLICY : RC_IO;
	if (fstat(fd, &st) != 0) {
		rc = RC_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & forbid) != 0) {
		rc = RC_POLICY;
		goto out;
	}
	if (st.st_size < 0 || (size_t)st.st_size > max) {
		rc = RC_TOOBIG;
		goto out;
	}
	s = sec_new((size_t)st.st_size);
	while (got < s->len) {
		ssize_t r = read(fd, s->data + got, s->len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = RC_IO;
			goto out;
		}
		got += (size_t)r;
	}
	*out = s;
	s = NULL;
out:
	sec_free(s);
	close(fd);
	return rc;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;	/* encrypted keys are not supported: never prompt */
}

/* The signer_keytype of pkey, or 0 when the signer does not use it. */
static int
keytype_of(EVP_PKEY *pkey)
{
	char group[64];

	if (EVP_PKEY_is_a(pkey, "EC")) {
		if (!EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL))
			return 0;
		if (strcmp(group, "prime256v1") == 0 ||
		    strcmp(group, "P-256") == 0)
			return SIGNER_KEY_EC_P256;
		if (strcmp(group, "secp384r1") == 0 ||
		    strcmp(group, "P-384") == 0)
			return SIGNER_KEY_EC_P384;
		return 0;
	}
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		switch (EVP_PKEY_get_bits(pkey)) {
		case 2048:
			return SIGNER_KEY_RSA_2048;
		case 3072:
			return SIGNER_KEY_RSA_3072;
		case 4096:
			return SIGNER_KEY_RSA_4096;
		default:
			return 0;
		}
	}
	return 0;
}

static const EVP_MD *
digest_of(int keytype)
{
	return keytype == SIGNER_KEY_EC_P384 ? EVP_sha384() : EVP_sha256();
}

/* Builds a key around pkey (taken on success). */
static int
make_key(const char *id, EVP_PKEY *pkey, int keytype, int is_root,
    struct signer_key **out)
{
	struct signer_key *k = xcalloc(1, sizeof(*k));
	struct fkey *f = xcalloc(1, sizeof(*f));
	uint8_t *spki = NULL;
	int n, rc = RC_CRYPTO;

	*out = NULL;
	k->be = f;
	snprintf(k->id, sizeof(k->id), "%s", id);
	k->keytype = keytype;
	k->is_root = is_root;
	n = i2d_PUBKEY(pkey, &spki);
	if (n <= 0) {
		log_ssl(id, "encode public key");
		goto out;
	}
	if ((rc = signer_key_set_spki(k, spki, (size_t)n)) != 0)
		goto out;
	f->tmpl = EVP_MD_CTX_new();
	f->work = EVP_MD_CTX_new();
	if (f->tmpl == NULL || f->work == NULL ||
	    EVP_DigestSignInit(f->tmpl, NULL, digest_of(keytype), NULL,
	    pkey) != 1) {
		log_ssl(id, "prepare signing");
		rc = RC_CRYPTO;
		goto out;
	}
	/* RSA: PKCS#1 v1.5 is the default padding; say so anyway */
	if (EVP_PKEY_is_a(pkey, "RSA") &&
	    EVP_PKEY_CTX_set_rsa_padding(EVP_MD_CTX_get_pkey_ctx(f->tmpl),
	    RSA_PKCS1_PADDING) <= 0) {
		log_ssl(id, "set RSA padding");
		rc = RC_CRYPTO;
		goto out;
	}
	f->pkey = pkey;
	*out = k;
	k = NULL;
	rc = 0;
out:
	OPENSSL_free(spki);
	signer_key_free(k);
	return rc;
}

static int
read_role(const struct signer_ks *ks, const char *id, int *is_root)
{
	char *path = key_path(ks, id, "role");
	struct sec *s = NULL;
	int rc;

	rc = read_file(path, ROLEFILE_MAX, 077, &s);
	if (rc == RC_NOTFOUND) {
		log_warn(LOG_SIGNER, "key %s: no role file, treated as an "
		    "issuing key", id);
		*is_root = 0;
		rc = 0;
		goto out;
	}
	if (rc == RC_POLICY) {
		log_err(LOG_SIGNER, "key %s: %s is not a private regular file "
		    "of ours (must be mode 0600)", id, path);
		goto out;
	}
	if (rc != 0) {
		log_err(LOG_SIGNER, "key %s: %s: %s", id, path, rc_str(rc));
		goto out;
	}
	if (s->len == 5 && memcmp(s->data, "root\n", 5) == 0) {
		*is_root = 1;
	} else if (s->len == 8 && memcmp(s->data, "issuing\n", 8) == 0) {
		*is_root = 0;
	} else {
		log_err(LOG_SIGNER, "key %s: %s: unknown role", id, path);
		rc = RC_CONFIG;
	}
out:
	sec_free(s);
	free(path);
	return rc;
}

static void
read_cert(const struct signer_ks *ks, struct signer_key *k)
{
	char *path = key_path(ks, k->id, "crt");
	struct sec *s = NULL;
	struct rc_detail d = {""};
	int rc;

	rc = read_file(path, SIGNER_MAX_MSG, 022, &s);
	if (rc == RC_NOTFOUND)
		goto out;
	if (rc == 0)
		rc = signer_key_set_cert(k, s->data, s->len, &d);
	if (rc != 0)
		log_err(LOG_SIGNER, "key %s: %s not used: %s", k->id, path,
		    rc_detail_str(&d, rc));
out:
	sec_free(s);
	free(path);
}

static int
load_one(const struct signer_ks *ks, const char *id, struct signer_key **out)
{
	char *path = key_path(ks, id, "key");
	struct sec *s = NULL;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	int rc, keytype, is_root = 0;

	*out = NULL;
	rc = read_file(path, KEYFILE_MAX, 077, &s);
	if (rc == RC_POLICY) {
		log_err(LOG_SIGNER, "key %s: %s is readable or writable by "
		    "group or others, a symlink, or not ours; not loaded "
		    "(must be a regular file of mode 0600)", id, path);
		goto out;
	}
	if (rc != 0) {
		log_err(LOG_SIGNER, "key %s: %s: %s; not loaded", id, path,
		    rc_str(rc));
		goto out;
	}
	ERR_clear_error();
	bio = BIO_new_mem_buf(s->data, (int)s->len);
	if (bio == NULL ||
	    (pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
	    NULL)) == NULL) {
		ERR_clear_error();	/* the decoders' guesses */
		log_err(LOG_SIGNER, "key %s: %s is not an unencrypted PEM "
		    "private key; not loaded", id, path);
		rc = RC_CRYPTO;
		goto out;
	}
	keytype = keytype_of(pkey);
	if (keytype == 0) {
		log_err(LOG_SIGNER, "key %s: unsupported key type or size; "
		    "not loaded", id);
		rc = RC_BADKEY;
		goto out;
	}
	if ((rc = read_role(ks, id, &is_root)) != 0) {
		log_err(LOG_SIGNER, "key %s: not loaded", id);
		goto out;
	}
	if ((rc = make_key(id, pkey, keytype, is_root, out)) != 0)
		goto out;
	pkey = NULL;
	read_cert(ks, *out);
	log_info(LOG_SIGNER, "key %s: loaded (%s, %s%s)", id,
	    signer_keytype_name(keytype), is_root ? "root" : "issuing",
	    (*out)->cert != NULL ? ", with certificate" : "");
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	sec_free(s);
	free(path);
	return rc;
}

int
signer_ks_load(struct signer_ks *ks, struct signer_key **out)
{
	struct signer_key *list = NULL;
	struct dirent *de;
	DIR *dir;

	*out = NULL;
	dir = opendir(ks->dir);
	if (dir == NULL) {
		log_err(LOG_SIGNER, "key directory %s: %s", ks->dir,
		    strerror(errno));
		return RC_IO;
	}
	while ((de = readdir(dir)) != NULL) {
		size_t n = strlen(de->d_name);
		struct signer_key *k;
		char id[SIGNER_KEYID_MAX + 1];

		if (n < 5 || strcmp(de->d_name + n - 4, ".key") != 0)
			continue;
		if (n - 4 > SIGNER_KEYID_MAX) {
			log_warn(LOG_SIGNER, "key directory: %s: bad key id; "
			    "ignored", de->d_name);
			continue;
		}
		memcpy(id, de->d_name, n - 4);
		id[n - 4] = '\0';
		if (!signer_keyid_valid(id)) {
			log_warn(LOG_SIGNER, "key directory: %s: bad key id; "
			    "ignored", de->d_name);
			continue;
		}
		if (load_one(ks, id, &k) != 0)
			continue;
		k->next = list;
		list = k;
	}
	closedir(dir);
	*out = list;
	return 0;
}

static EVP_PKEY *
generate(int keytype)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *e = NULL;
	int bits;

	switch (keytype) {
	case SIGNER_KEY_EC_P256:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	case SIGNER_KEY_EC_P384:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	case SIGNER_KEY_RSA_2048:
		bits = 2048;
		break;
	case SIGNER_KEY_RSA_3072:
		bits = 3072;
		break;
	case SIGNER_KEY_RSA_4096:
		bits = 4096;
		break;
	default:
		return NULL;
	}
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	e = BN_new();
	if (ctx == NULL || e == NULL || !BN_set_word(e, 65537) ||
	    EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) <= 0 ||
	    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) <= 0 ||
	    EVP_PKEY_keygen(ctx, &pkey) <= 0) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	BN_free(e);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

int
signer_ks_genkey(struct signer_ks *ks, const char *id, int keytype,
    int is_root, struct signer_key **out)
{
	char *kpath = NULL, *rpath = NULL, *cpath = NULL;
	const char *role = is_root ? "root\n" : "issuing\n";
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	char *pem;
	long pem_len;
	int rc;

	*out = NULL;
	if (!signer_keyid_valid(id) || signer_sigalg_der(keytype, NULL) ==
	    NULL)
		return RC_INVAL;
	kpath = key_path(ks, id, "key");
	rpath = key_path(ks, id, "role");
	cpath = key_path(ks, id, "crt");
	if (fs_exists(kpath)) {
		rc = RC_EXISTS;
		goto out;
	}
	pkey = generate(keytype);
	if (pkey == NULL) {
		log_ssl(id, "generate");
		rc = RC_CRYPTO;
		goto out;
	}
	/* PKCS#8, unencrypted; the PEM text lives in a wiped BIO */
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL ||
	    !PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) ||
	    (pem_len = BIO_get_mem_data(bio, &pem)) <= 0) {
		log_ssl(id, "encode");
		rc = RC_CRYPTO;
		goto out;
	}
	rc = fs_write_excl(kpath, pem, (size_t)pem_len, 0600);
	if (rc != 0) {
		if (rc != RC_EXISTS)
			log_err(LOG_SIGNER, "key %s: write %s: %s", id, kpath,
			    rc_str(rc));
		goto out;
	}
	rc = fs_write_atomic(rpath, role, strlen(role), 0600);
	if (rc != 0) {
		log_err(LOG_SIGNER, "key %s: write %s: %s", id, rpath,
		    rc_str(rc));
		unlink(kpath);
		goto out;
	}
	/* a certificate left from an earlier key of this id is not ours */
	if (unlink(cpath) != 0 && errno != ENOENT)
		log_warn(LOG_SIGNER, "key %s: remove stale %s: %s", id, cpath,
		    strerror(errno));
	rc = make_key(id, pkey, keytype, is_root, out);
	if (rc != 0) {
		unlink(kpath);
		unlink(rpath);
		goto out;
	}
	pkey = NULL;
out:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	free(kpath);
	free(rpath);
	free(cpath);
	return rc;
}

int
signer_ks_save_cert(struct signer_ks *ks, const struct signer_key *k)
{
	char *path = key_path(ks, k->id, "crt");
	int rc;

	rc = fs_write_atomic(path, k->cert, k->cert_len, 0600);
	if (rc != 0)
		log_err(LOG_SIGNER, "key %s: write %s: %s", k->id, path,
		    rc_str(rc));
	free(path);
	return rc;
}

int
signer_ks_sign(struct signer_key *k, const uint8_t *tbs, size_t len,
    uint8_t *sig, size_t *sig_len)
{
	struct fkey *f = k->be;

	ERR_clear_error();
	if (EVP_MD_CTX_copy_ex(f->work, f->tmpl) != 1 ||
	    EVP_DigestSign(f->work, sig, sig_len, tbs, len) != 1) {
		log_ssl(k->id, "sign");
		return RC_CRYPTO;
	}
	return 0;
}
