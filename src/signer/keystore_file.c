/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key store: the key directory, one entry per key, with the key's role
 * and certificate beside it:
 *
 *	<id>.key	private key, PEM PKCS#8, unencrypted, mode 0600
 *	<id>.p11	or: the CKA_ID of the private key on the PKCS#11
 *			token (keystore_pkcs11.c), hex, one line, mode 0600
 *	<id>.role	"root\n" or "issuing\n", mode 0600
 *	<id>.crt	the key's certificate, DER (once set); verified
 *			again at each load, as SETCERT does
 *
 * Runs only in the signer process. Trusts the key directory only as far as
 * its permissions go: a key or role file that others can read or write is
 * refused, files are opened without following symlinks, and key bytes are
 * held in wiped buffers. A key on a token is used only when the signer
 * was given the token (signer.pkcs11_module); new keys are made there when
 * it was told to (signer.keystore = pkcs11), so an operator can move to an
 * HSM with a new issuing key while the root stays where it is. Keys are
 * loaded at start; an issuing key made since (by `ca roll` in another
 * process) is loaded when asked for (signer_ks_load_key), the same way and
 * with the same check of its certificate, the reasons a key is refused
 * then going to the asker rather than the log.
 *
 * Signing keeps the EVP_PKEY and a DigestSign context initialised once per
 * key (the template); each signature copies the template into a work
 * context, which avoids fetching the algorithms again on every call
 * (expensive in OpenSSL 3).
 */
#include "signer/signer_int.h"
#include "util/buf.h"
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYFILE_MAX (64 * 1024)
#define ROLEFILE_MAX 64

struct signer_ks {
	char *dir;
	struct signer_p11 *p11;	/* NULL without a token */
	int new_on_token;
};

/* The backend part of a signer_key: a key file's or a token's. */
struct fkey {
	EVP_PKEY *pkey;
	EVP_MD_CTX *tmpl;	/* DigestSign initialised, never finalised */
	EVP_MD_CTX *work;	/* copy of tmpl per signature */
	struct signer_p11key *p11k;
};

int
signer_ks_open(const char *dir, struct signer_ks **out)
{
	struct signer_conf c = {.keydir = dir};

	return signer_ks_open_conf(&c, out);
}

int
signer_ks_open_conf(const struct signer_conf *c, struct signer_ks **out)
{
	const char *dir = c->keydir;
	struct stat st;
	int rc;

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
	if (c->new_on_token && (c->pkcs11_module == NULL ||
	    c->pkcs11_module[0] == '\0')) {
		log_err(LOG_SIGNER, "keys are to be made on a PKCS#11 token, "
		    "but no module is set");
		return RC_CONFIG;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->dir = xstrdup(dir);
	(*out)->new_on_token = c->new_on_token;
	if (c->pkcs11_module != NULL && c->pkcs11_module[0] != '\0' &&
	    (rc = signer_p11_open(c->pkcs11_module, c->pkcs11_token,
	    c->pkcs11_pin_file, &(*out)->p11)) != 0) {
		signer_ks_close(*out);
		*out = NULL;
		return rc;
	}
	return 0;
}

void
signer_ks_close(struct signer_ks *ks)
{
	if (ks == NULL)
		return;
	signer_p11_close(ks->p11);
	free(ks->dir);
	free(ks);
}

int
signer_ks_health(struct signer_ks *ks, struct rc_detail *d)
{
	return ks->p11 != NULL ? signer_p11_health(ks->p11, d) : 0;
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
		signer_p11_key_free(f->p11k);
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
	if (EVP_PKEY_is_a(pkey, "RSA"))
		return signer_keytype_rsa(EVP_PKEY_get_bits(pkey));
	return 0;
}

static const EVP_MD *
digest_of(int keytype)
{
	return keytype == SIGNER_KEY_EC_P384 ? EVP_sha384() : EVP_sha256();
}

/* A new key with its common fields; its fkey empty. */
static int
new_key(const char *id, int keytype, int is_root, const uint8_t *spki,
    size_t spki_len, struct signer_key **out)
{
	struct signer_key *k = xcalloc(1, sizeof(*k));
	int rc;

	k->be = xcalloc(1, sizeof(struct fkey));
	snprintf(k->id, sizeof(k->id), "%s", id);
	k->keytype = keytype;
	k->is_root = is_root;
	if ((rc = signer_key_set_spki(k, spki, spki_len)) != 0) {
		signer_key_free(k);
		k = NULL;
	}
	*out = k;
	return rc;
}

/* Builds a key around pkey (taken on success). */
static int
make_key(const char *id, EVP_PKEY *pkey, int keytype, int is_root,
    struct signer_key **out)
{
	struct signer_key *k = NULL;
	struct fkey *f;
	uint8_t *spki = NULL;
	int n, rc = RC_CRYPTO;

	*out = NULL;
	n = i2d_PUBKEY(pkey, &spki);
	if (n <= 0) {
		log_ssl(id, "encode public key");
		goto out;
	}
	if ((rc = new_key(id, keytype, is_root, spki, (size_t)n, &k)) != 0)
		goto out;
	f = k->be;
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

/*
 * The key: around the token's key *p11k (with its SPKI) when there is one,
 * else around *pkey; whichever is used is taken (set to NULL).
 */
static int
wrap_key(const char *id, int keytype, int is_root, EVP_PKEY **pkey,
    struct signer_p11key **p11k, const uint8_t *spki, size_t spki_len,
    struct signer_key **out)
{
	int rc;

	if (*p11k == NULL) {
		rc = make_key(id, *pkey, keytype, is_root, out);
		if (rc == 0)
			*pkey = NULL;
		return rc;
	}
	rc = new_key(id, keytype, is_root, spki, spki_len, out);
	if (rc == 0) {
		((struct fkey *)(*out)->be)->p11k = *p11k;
		*p11k = NULL;
	}
	return rc;
}

/*
 * Why a key is not loaded (or its certificate not used): in the log at
 * start (d NULL); for a key asked for later (LOADKEY, d set) the first
 * reason goes to d instead, and the asker logs it once per distinct
 * reason, however often it asks again.
 */
static void
why(struct rc_detail *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
why(struct rc_detail *d, const char *fmt, ...)
{
	char msg[sizeof(d->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d == NULL)
		log_err(LOG_SIGNER, "%s", msg);
	else if (d->msg[0] == '\0')
		snprintf(d->msg, sizeof(d->msg), "%s", msg);
}

static int
read_role(const struct signer_ks *ks, const char *id, int *is_root,
    struct rc_detail *d)
{
	char *path = key_path(ks, id, "role");
	struct sec *s = NULL;
	int rc;

	rc = sec_read_file(path, ROLEFILE_MAX, 077, &s, NULL, NULL);
	if (rc == RC_NOTFOUND) {
		log_warn(LOG_SIGNER, "key %s: no role file, treated as an "
		    "issuing key", id);
		*is_root = 0;
		rc = 0;
		goto out;
	}
	if (rc == RC_POLICY) {
		why(d, "key %s: %s is not a private regular file of ours "
		    "(must be mode 0600)", id, path);
		goto out;
	}
	if (rc != 0) {
		why(d, "key %s: %s: %s", id, path, rc_str(rc));
		goto out;
	}
	if (s->len == 5 && memcmp(s->data, "root\n", 5) == 0) {
		*is_root = 1;
	} else if (s->len == 8 && memcmp(s->data, "issuing\n", 8) == 0) {
		*is_root = 0;
	} else {
		why(d, "key %s: %s: unknown role", id, path);
		rc = RC_CONFIG;
	}
out:
	sec_free(s);
	free(path);
	return rc;
}

static void
read_cert(const struct signer_ks *ks, struct signer_key *k,
    struct rc_detail *d)
{
	char *path = key_path(ks, k->id, "crt");
	struct sec *s = NULL;
	struct rc_detail cd = {""};
	int rc;

	rc = sec_read_file(path, SIGNER_MAX_MSG, 022, &s, NULL, NULL);
	if (rc == RC_NOTFOUND)
		goto out;
	if (rc == 0)
		rc = signer_key_set_cert(k, s->data, s->len, &cd);
	if (rc != 0)
		why(d, "key %s: %s not used: %s", k->id, path,
		    rc_detail_str(&cd, rc));
out:
	sec_free(s);
	free(path);
}

/* Reads <id>.key: the key and its type. */
static int
load_file_key(const struct signer_ks *ks, const char *id, EVP_PKEY **pkey,
    int *keytype, struct rc_detail *d)
{
	char *path = key_path(ks, id, "key");
	struct sec *s = NULL;
	BIO *bio = NULL;
	int rc;

	*pkey = NULL;
	rc = sec_read_file(path, KEYFILE_MAX, 077, &s, NULL, NULL);
	if (rc == RC_POLICY) {
		why(d, "key %s: %s is readable or writable by group or "
		    "others, a symlink, or not ours; not loaded (must be a "
		    "regular file of mode 0600)", id, path);
		goto out;
	}
	if (rc != 0) {
		why(d, "key %s: %s: %s; not loaded", id, path, rc_str(rc));
		goto out;
	}
	ERR_clear_error();
	bio = BIO_new_mem_buf(s->data, (int)s->len);
	if (bio == NULL ||
	    (*pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
	    NULL)) == NULL) {
		ERR_clear_error();	/* the decoders' guesses */
		why(d, "key %s: %s is not an unencrypted PEM private key; "
		    "not loaded", id, path);
		rc = RC_CRYPTO;
		goto out;
	}
	*keytype = keytype_of(*pkey);
	if (*keytype == 0) {
		why(d, "key %s: unsupported key type or size; not loaded",
		    id);
		EVP_PKEY_free(*pkey);
		*pkey = NULL;
		rc = RC_BADKEY;
	}
out:
	BIO_free(bio);
	sec_free(s);
	free(path);
	return rc;
}

/* Parses the CKA_ID in a .p11 file: hex, one line. */
static int
parse_p11_id(const struct sec *s, uint8_t *id, size_t *id_len)
{
	char hex[2 * SIGNER_P11_ID_MAX + 1];
	size_t n = s->len;
	int got;

	if (n > 0 && s->data[n - 1] == '\n')
		n--;
	if (n == 0 || n % 2 != 0 || n / 2 > SIGNER_P11_ID_MAX)
		return RC_INVAL;
	memcpy(hex, s->data, n);
	hex[n] = '\0';
	/* lowercase only, as certdesk writes it */
	if (strspn(hex, "0123456789abcdef") != n ||
	    (got = hex_decode(hex, id, SIGNER_P11_ID_MAX)) < 0 ||
	    (size_t)got != n / 2)
		return RC_INVAL;
	*id_len = n / 2;
	return 0;
}

/* Reads <id>.p11 and finds its key on the token. */
static int
load_token_key(const struct signer_ks *ks, const char *id,
    struct signer_p11key **p11k, int *keytype, uint8_t **spki,
    size_t *spki_len, struct rc_detail *d)
{
	char *path = key_path(ks, id, "p11");
	uint8_t ckid[SIGNER_P11_ID_MAX];
	size_t ckid_len = 0;
	struct sec *s = NULL;
	int rc;

	if (ks->p11 == NULL) {
		why(d, "key %s is on a PKCS#11 token, but the signer was "
		    "given none (signer.pkcs11_module); not loaded", id);
		rc = RC_CONFIG;
		goto out;
	}
	rc = sec_read_file(path, 2 * SIGNER_P11_ID_MAX + 2, 077, &s, NULL,
	    NULL);
	if (rc == 0 && (rc = parse_p11_id(s, ckid, &ckid_len)) != 0)
		why(d, "key %s: %s does not hold a CKA_ID in lowercase hex; "
		    "not loaded", id, path);
	else if (rc != 0)
		why(d, "key %s: %s: %s; not loaded", id, path,
		    rc == RC_POLICY ? "not a private regular file of ours "
		    "(must be mode 0600)" : rc_str(rc));
	if (rc == 0 && (rc = signer_p11_key_find(ks->p11, ckid, ckid_len,
	    keytype, spki, spki_len, p11k)) != 0)
		why(d, "key %s: not on the token; not loaded", id);
out:
	sec_free(s);
	free(path);
	return rc;
}

/* One key with its role and certificate; d as for why(). */
static int
load_one(const struct signer_ks *ks, const char *id, int on_token,
    struct signer_key **out, struct rc_detail *d)
{
	struct signer_p11key *p11k = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t *spki = NULL;
	size_t spki_len = 0;
	int rc, keytype = 0, is_root = 0;

	*out = NULL;
	rc = on_token ? load_token_key(ks, id, &p11k, &keytype, &spki,
	    &spki_len, d) : load_file_key(ks, id, &pkey, &keytype, d);
	if (rc != 0)
		goto out;
	if ((rc = read_role(ks, id, &is_root, d)) != 0) {
		why(d, "key %s: not loaded", id);
		goto out;
	}
	if ((rc = wrap_key(id, keytype, is_root, &pkey, &p11k, spki,
	    spki_len, out)) != 0)
		goto out;
	read_cert(ks, *out, d);
	if (d == NULL)
		log_info(LOG_SIGNER, "key %s: loaded (%s, %s%s%s)", id,
		    signer_keytype_name(keytype), is_root ? "root" :
		    "issuing", on_token ? ", on the PKCS#11 token" : "",
		    (*out)->cert != NULL ? ", with certificate" : "");
out:
	EVP_PKEY_free(pkey);
	signer_p11_key_free(p11k);
	free(spki);
	return rc;
}

/* The key id of a directory entry "<id>.key" or "<id>.p11" (*on_token),
 * or 0 for any other entry. */
static int
entry_id(const struct signer_ks *ks, const char *name, char *id,
    int *on_token)
{
	size_t n = strlen(name);
	char *other;
	int both;

	if (n < 5 || (strcmp(name + n - 4, ".key") != 0 &&
	    strcmp(name + n - 4, ".p11") != 0))
		return 0;
	*on_token = strcmp(name + n - 4, ".p11") == 0;
	if (n - 4 > SIGNER_KEYID_MAX) {
		log_warn(LOG_SIGNER, "key directory: %s: bad key id; ignored",
		    name);
		return 0;
	}
	memcpy(id, name, n - 4);
	id[n - 4] = '\0';
	if (!signer_keyid_valid(id)) {
		log_warn(LOG_SIGNER, "key directory: %s: bad key id; ignored",
		    name);
		return 0;
	}
	/* a key both in a file and on the token: which is meant? */
	other = key_path(ks, id, *on_token ? "key" : "p11");
	both = fs_exists(other);
	free(other);
	if (both) {
		log_err(LOG_SIGNER, "key %s: both %s.key and %s.p11 exist; "
		    "neither is loaded", id, id, id);
		return 0;
	}
	return 1;
}

/*
 * The certificates read back pass the checks of SETCERT again: the CA core
 * runs as the same user and could write <id>.crt here itself. Roots first
 * (roots), then the issuing keys, against the roots whose certificate
 * stayed. A certificate that fails is dropped: its key signs nothing until
 * it gets a good one.
 */
static void
verify_certs(const struct signer_ks *ks, struct signer_key *list, int roots)
{
	for (struct signer_key *k = list; k != NULL; k = k->next) {
		struct rc_detail d = {""};
		char *path;
		int rc;

		if (k->cert == NULL || k->is_root != roots)
			continue;
		rc = signer_key_verify_cert(k, list, k->cert, k->cert_len, &d);
		if (rc == 0)
			continue;
		path = key_path(ks, k->id, "crt");
		log_err(LOG_SIGNER, "key %s: %s not used: %s", k->id, path,
		    rc_detail_str(&d, rc));
		free(path);
		free(k->cert);
		k->cert = NULL;
		k->cert_len = 0;
		k->subject = NULL;
		k->subject_len = 0;
	}
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
		struct signer_key *k;
		char id[SIGNER_KEYID_MAX + 1];
		int on_token;

		if (!entry_id(ks, de->d_name, id, &on_token) ||
		    load_one(ks, id, on_token, &k, NULL) != 0)
			continue;
		k->next = list;
		list = k;
	}
	closedir(dir);
	verify_certs(ks, list, 1);
	verify_certs(ks, list, 0);
	*out = list;
	return 0;
}

int
signer_ks_load_key(struct signer_ks *ks, const char *id,
    const struct signer_key *keys, struct signer_key **out,
    struct rc_detail *d)
{
	struct rc_detail ld = {""};
	struct signer_key *k = NULL;
	char *kpath, *ppath;
	int rc, in_file, on_token;

	*out = NULL;
	if (!signer_keyid_valid(id)) {
		rc_detail_set(d, "bad key id");
		return RC_INVAL;
	}
	kpath = key_path(ks, id, "key");
	ppath = key_path(ks, id, "p11");
	in_file = fs_exists(kpath);
	on_token = fs_exists(ppath);
	if (!in_file && !on_token) {
		rc_detail_set(d, "no key %s in the key directory", id);
		rc = RC_NOTFOUND;
		goto out;
	}
	/* as at start (entry_id): which of the two would be meant? */
	if (in_file && on_token) {
		rc_detail_set(d, "key %s: both %s.key and %s.p11 exist", id,
		    id, id);
		rc = RC_CONFIG;
		goto out;
	}
	if ((rc = load_one(ks, id, on_token, &k, &ld)) != 0) {
		rc_detail_set(d, "%s", rc_detail_str(&ld, rc));
		goto out;
	}
	/* a root loaded now would vouch for itself: roots come only with
	 * the signer's start, by the operator who started it */
	if (k->is_root) {
		rc_detail_set(d, "key %s is a root key; a root is loaded only "
		    "when the signer starts", id);
		rc = RC_SIGNER;
		goto out;
	}
	if (k->cert == NULL) {
		if (ld.msg[0] != '\0')	/* why its file was not used */
			rc_detail_set(d, "%s", ld.msg);
		else
			rc_detail_set(d, "key %s has no certificate (%s.crt)",
			    id, id);
		rc = RC_SIGNER;
		goto out;
	}
	/* the check its certificate gets at start (verify_certs) */
	if ((rc = signer_key_verify_cert(k, keys, k->cert, k->cert_len, d)) !=
	    0)
		goto out;
	*out = k;
	k = NULL;
out:
	signer_key_free(k);
	free(kpath);
	free(ppath);
	return rc;
}

static EVP_PKEY *
generate(int keytype)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *e = NULL;
	int bits = signer_keytype_rsa_bits(keytype);

	if (keytype == SIGNER_KEY_EC_P256)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (keytype == SIGNER_KEY_EC_P384)
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	if (bits == 0)
		return NULL;
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

/* Writes pkey to path as PEM PKCS#8 (0600, O_EXCL). */
static int
write_key_file(const char *id, const char *path, EVP_PKEY *pkey)
{
	BIO *bio = BIO_new(BIO_s_secmem());	/* wiped when freed */
	char *pem;
	long pem_len;
	int rc;

	if (bio == NULL ||
	    !PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) ||
	    (pem_len = BIO_get_mem_data(bio, &pem)) <= 0) {
		log_ssl(id, "encode");
		BIO_free(bio);
		return RC_CRYPTO;
	}
	rc = fs_write_excl(path, pem, (size_t)pem_len, 0600);
	if (rc != 0 && rc != RC_EXISTS)
		log_err(LOG_SIGNER, "key %s: write %s: %s", id, path,
		    rc_str(rc));
	BIO_free(bio);
	return rc;
}

/* Makes the key on the token and writes its CKA_ID to path. */
static int
token_genkey(struct signer_ks *ks, const char *id, int keytype,
    const char *path, struct signer_p11key **p11k, uint8_t **spki,
    size_t *spki_len)
{
	uint8_t ckid[SIGNER_P11_ID_LEN];
	char hex[2 * SIGNER_P11_ID_LEN + 2];
	char *label = xasprintf("certdesk %s", id);
	int rc;

	rc = signer_p11_key_generate(ks->p11, label, keytype, ckid, spki,
	    spki_len, p11k);
	free(label);
	if (rc != 0)
		return rc;
	hex_encode(ckid, sizeof(ckid), hex);
	hex[2 * SIGNER_P11_ID_LEN] = '\n';
	rc = fs_write_excl(path, hex, sizeof(hex) - 1, 0600);
	if (rc != 0) {
		if (rc != RC_EXISTS)
			log_err(LOG_SIGNER, "key %s: write %s: %s", id, path,
			    rc_str(rc));
		signer_p11_key_destroy(*p11k);
		*p11k = NULL;
		free(*spki);
		*spki = NULL;
	}
	return rc;
}

int
signer_ks_genkey(struct signer_ks *ks, const char *id, int keytype,
    int is_root, struct signer_key **out)
{
	char *kpath = NULL, *ppath = NULL, *rpath = NULL, *cpath = NULL;
	const char *role = is_root ? "root\n" : "issuing\n";
	const char *made;
	struct signer_p11key *p11k = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t *spki = NULL;
	size_t spki_len = 0;
	int rc;

	*out = NULL;
	if (!signer_keyid_valid(id) || signer_sigalg_der(keytype, NULL) ==
	    NULL)
		return RC_INVAL;
	kpath = key_path(ks, id, "key");
	ppath = key_path(ks, id, "p11");
	rpath = key_path(ks, id, "role");
	cpath = key_path(ks, id, "crt");
	made = ks->new_on_token ? ppath : kpath;
	if (fs_exists(kpath) || fs_exists(ppath)) {
		rc = RC_EXISTS;
		goto out;
	}
	if (ks->new_on_token) {
		rc = token_genkey(ks, id, keytype, ppath, &p11k, &spki,
		    &spki_len);
		if (rc != 0)
			goto out;
	} else {
		pkey = generate(keytype);
		if (pkey == NULL) {
			log_ssl(id, "generate");
			rc = RC_CRYPTO;
			goto out;
		}
		if ((rc = write_key_file(id, kpath, pkey)) != 0)
			goto out;
	}
	rc = fs_write_atomic(rpath, role, strlen(role), 0600);
	if (rc != 0) {
		log_err(LOG_SIGNER, "key %s: write %s: %s", id, rpath,
		    rc_str(rc));
		goto undo;
	}
	/* a certificate left from an earlier key of this id is not ours */
	if (unlink(cpath) != 0 && errno != ENOENT)
		log_warn(LOG_SIGNER, "key %s: remove stale %s: %s", id, cpath,
		    strerror(errno));
	rc = wrap_key(id, keytype, is_root, &pkey, &p11k, spki, spki_len,
	    out);
	if (rc == 0)
		goto out;
	unlink(rpath);
undo:
	unlink(made);
	signer_p11_key_destroy(p11k);
	p11k = NULL;
out:
	EVP_PKEY_free(pkey);
	signer_p11_key_free(p11k);
	free(spki);
	free(kpath);
	free(ppath);
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

	if (f->p11k != NULL)
		return signer_p11_sign(f->p11k, tbs, len, sig, sig_len);
	ERR_clear_error();
	if (EVP_MD_CTX_copy_ex(f->work, f->tmpl) != 1 ||
	    EVP_DigestSign(f->work, sig, sig_len, tbs, len) != 1) {
		log_ssl(k->id, "sign");
		return RC_CRYPTO;
	}
	return 0;
}
