/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CA keys on a PKCS#11 token (an HSM, or SoftHSM in tests): the signer
 * loads the operator's module with dlopen(), logs in to one token with a
 * PIN read from a file, and asks the token to sign. The private key never
 * leaves the token: keys made here are CKA_SENSITIVE and never
 * CKA_EXTRACTABLE, and the signer only ever reads their public halves.
 *
 * Only the signature itself is the token's work: the digest is made here
 * (CKM_ECDSA and CKM_RSA_PKCS over a DigestInfo are what every token
 * offers, and a network HSM then receives 32 or 48 bytes instead of the
 * whole TBS), and every signature is verified with the public key before
 * it is returned, so that a faulty token cannot put a broken signature on
 * a certificate (or leak an RSA key through one).
 *
 * One session, used by the signer's one thread. A session that the
 * token lost (a network HSM restarted, a token reinserted) is opened and
 * logged in to again once, and the key handles are looked up again by
 * their CKA_ID.
 */
#include "signer/signer_int.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <p11-kit/pkcs11.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PIN_MAX 256
#define TOKEN_LABEL_LEN 32	/* CK_TOKEN_INFO.label, blank padded */

struct signer_p11 {
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	int initialized;	/* ours to C_Finalize */
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE sess;
	int have_sess;
	unsigned gen;		/* bumped with every new session */
	struct sec *pin;
	char *token;
};

struct signer_p11key {
	struct signer_p11 *p;
	uint8_t id[SIGNER_P11_ID_MAX];
	size_t id_len;
	CK_OBJECT_HANDLE priv, pub;
	unsigned gen;		/* of the session priv was found in */
	int keytype;
	EVP_PKEY *pubkey;	/* to verify what the token signed */
	EVP_MD_CTX *md;
};

/* DER of the curves' OIDs, as CKA_EC_PARAMS holds them */
static const uint8_t oid_p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
	0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00,
	0x22};
/* DigestInfo prefixes (RFC 8017 9.2 note 1) */
static const uint8_t di_sha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09,
	0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
	0x04, 0x20};

static const char *
ckr_name(CK_RV rv)
{
	static const struct {
		CK_RV rv;
		const char *name;
	} names[] = {
		{CKR_OK, "CKR_OK"},
		{CKR_HOST_MEMORY, "CKR_HOST_MEMORY"},
		{CKR_SLOT_ID_INVALID, "CKR_SLOT_ID_INVALID"},
		{CKR_GENERAL_ERROR, "CKR_GENERAL_ERROR"},
		{CKR_FUNCTION_FAILED, "CKR_FUNCTION_FAILED"},
		{CKR_ARGUMENTS_BAD, "CKR_ARGUMENTS_BAD"},
		{CKR_ATTRIBUTE_SENSITIVE, "CKR_ATTRIBUTE_SENSITIVE"},
		{CKR_ATTRIBUTE_TYPE_INVALID, "CKR_ATTRIBUTE_TYPE_INVALID"},
		{CKR_ATTRIBUTE_VALUE_INVALID, "CKR_ATTRIBUTE_VALUE_INVALID"},
		{CKR_DEVICE_ERROR, "CKR_DEVICE_ERROR"},
		{CKR_DEVICE_MEMORY, "CKR_DEVICE_MEMORY"},
		{CKR_DEVICE_REMOVED, "CKR_DEVICE_REMOVED"},
		{CKR_KEY_HANDLE_INVALID, "CKR_KEY_HANDLE_INVALID"},
		{CKR_KEY_TYPE_INCONSISTENT, "CKR_KEY_TYPE_INCONSISTENT"},
		{CKR_KEY_FUNCTION_NOT_PERMITTED,
		    "CKR_KEY_FUNCTION_NOT_PERMITTED"},
		{CKR_MECHANISM_INVALID, "CKR_MECHANISM_INVALID"},
		{CKR_MECHANISM_PARAM_INVALID, "CKR_MECHANISM_PARAM_INVALID"},
		{CKR_OBJECT_HANDLE_INVALID, "CKR_OBJECT_HANDLE_INVALID"},
		{CKR_OPERATION_ACTIVE, "CKR_OPERATION_ACTIVE"},
		{CKR_PIN_INCORRECT, "CKR_PIN_INCORRECT"},
		{CKR_PIN_LEN_RANGE, "CKR_PIN_LEN_RANGE"},
		{CKR_PIN_EXPIRED, "CKR_PIN_EXPIRED"},
		{CKR_PIN_LOCKED, "CKR_PIN_LOCKED"},
		{CKR_SESSION_CLOSED, "CKR_SESSION_CLOSED"},
		{CKR_SESSION_HANDLE_INVALID, "CKR_SESSION_HANDLE_INVALID"},
		{CKR_TEMPLATE_INCOMPLETE, "CKR_TEMPLATE_INCOMPLETE"},
		{CKR_TEMPLATE_INCONSISTENT, "CKR_TEMPLATE_INCONSISTENT"},
		{CKR_TOKEN_NOT_PRESENT, "CKR_TOKEN_NOT_PRESENT"},
		{CKR_TOKEN_NOT_RECOGNIZED, "CKR_TOKEN_NOT_RECOGNIZED"},
		{CKR_TOKEN_WRITE_PROTECTED, "CKR_TOKEN_WRITE_PROTECTED"},
		{CKR_USER_NOT_LOGGED_IN, "CKR_USER_NOT_LOGGED_IN"},
		{CKR_USER_PIN_NOT_INITIALIZED, "CKR_USER_PIN_NOT_INITIALIZED"},
		{CKR_BUFFER_TOO_SMALL, "CKR_BUFFER_TOO_SMALL"},
		{CKR_CRYPTOKI_NOT_INITIALIZED, "CKR_CRYPTOKI_NOT_INITIALIZED"},
		{CKR_CRYPTOKI_ALREADY_INITIALIZED,
		    "CKR_CRYPTOKI_ALREADY_INITIALIZED"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].rv == rv)
			return names[i].name;
	return "an unknown CKR_ code";
}

static void
log_rv(const struct signer_p11 *p, const char *what, CK_RV rv)
{
	log_err(LOG_SIGNER, "PKCS#11 token '%s': %s: %s (0x%lx)", p->token,
	    what, ckr_name(rv), (unsigned long)rv);
}

/* Errors after which a new session may help. */
static int
session_lost(CK_RV rv)
{
	return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
	    rv == CKR_USER_NOT_LOGGED_IN || rv == CKR_DEVICE_REMOVED ||
	    rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_ERROR ||
	    rv == CKR_OBJECT_HANDLE_INVALID || rv == CKR_KEY_HANDLE_INVALID;
}

/* Reads the PIN file: one line, the newline (and a CR) dropped. */
static int
read_pin(const char *path, struct sec **out)
{
	struct sec *s = NULL;
	size_t n;
	int rc;

	*out = NULL;
	rc = sec_read_file(path, PIN_MAX + 2, 077, &s, NULL, NULL);
	if (rc != 0) {
		log_err(LOG_SIGNER, "PKCS#11 PIN file %s: %s", path,
		    rc == RC_POLICY ? "not a private regular file of ours "
		    "(must be mode 0600)" : rc == RC_TOOBIG ? "too long" :
		    rc_str(rc));
		return RC_CONFIG;
	}
	n = s->len;
	if (n > 0 && s->data[n - 1] == '\n')
		n--;
	if (n > 0 && s->data[n - 1] == '\r')
		n--;
	if (n == 0 || n > PIN_MAX || memchr(s->data, '\n', n) != NULL ||
	    memchr(s->data, '\0', n) != NULL) {
		log_err(LOG_SIGNER, "PKCS#11 PIN file %s: not one line of "
		    "1 to %d bytes", path, PIN_MAX);
		sec_free(s);
		return RC_CONFIG;
	}
	s->len = n;
	*out = s;
	return 0;
}

static int
find_slot(struct signer_p11 *p)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0;
	CK_RV rv;
	char seen[256] = "";
	size_t tl = strlen(p->token);
	int rc = RC_CONFIG;

	rv = p->f->C_GetSlotList(CK_TRUE, NULL, &n);
	if (rv == CKR_OK && n > 0) {
		slots = xcalloc(n, sizeof(*slots));
		rv = p->f->C_GetSlotList(CK_TRUE, slots, &n);
	}
	if (rv != CKR_OK) {
		log_rv(p, "C_GetSlotList", rv);
		free(slots);
		return RC_SIGNER;
	}
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		size_t l = TOKEN_LABEL_LEN;

		if (p->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		while (l > 0 && ti.label[l - 1] == ' ')
			l--;
		if (l == tl && memcmp(ti.label, p->token, tl) == 0) {
			if (!(ti.flags & CKF_TOKEN_INITIALIZED))
				break;
			p->slot = slots[i];
			rc = 0;
			break;
		}
		if ((ti.flags & CKF_TOKEN_INITIALIZED) &&
		    strlen(seen) + l + 4 < sizeof(seen))
			snprintf(seen + strlen(seen), sizeof(seen) -
			    strlen(seen), "%s'%.*s'", seen[0] ? ", " : "",
			    (int)l, (const char *)ti.label);
	}
	if (rc != 0)
		log_err(LOG_SIGNER, "PKCS#11: no initialised token labelled "
		    "'%s' (tokens present: %s)", p->token,
		    seen[0] ? seen : "none");
	free(slots);
	return rc;
}

/* Opens a new session and logs in. */
static int
login(struct signer_p11 *p)
{
	CK_RV rv;

	if (p->have_sess) {
		(void)p->f->C_CloseSession(p->sess);
		p->have_sess = 0;
	}
	rv = p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	    NULL, NULL, &p->sess);
	if (rv != CKR_OK) {
		log_rv(p, "C_OpenSession", rv);
		return RC_SIGNER;
	}
	p->have_sess = 1;
	p->gen++;
	/* a wrong PIN counts towards the token's lockout: never spend the
	 * last try (the token then needs its security officer) */
	{
		CK_TOKEN_INFO ti;

		if (p->f->C_GetTokenInfo(p->slot, &ti) == CKR_OK &&
		    (ti.flags & (CKF_USER_PIN_LOCKED |
		    CKF_USER_PIN_FINAL_TRY)) != 0) {
			log_err(LOG_SIGNER, "PKCS#11 token '%s': the user PIN "
			    "is %s; not logging in (check the PIN file, and "
			    "the token with its own tools)", p->token,
			    (ti.flags & CKF_USER_PIN_LOCKED) ? "locked" :
			    "one wrong try from being locked");
			return RC_SIGNER;
		}
	}
	rv = p->f->C_Login(p->sess, CKU_USER, p->pin->data,
	    (CK_ULONG)p->pin->len);
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		log_rv(p, "C_Login", rv);
		return RC_SIGNER;
	}
	return 0;
}

/* A signer running as root loads only root's code: the module and every
 * directory above it must be root's and writable by no one else, or
 * whoever could change them would run code with the CA keys. Then only
 * root can change what is at its resolved path, which is loaded (by its
 * name, so that the module finds what it ships beside it: $ORIGIN).
 * real: the resolved path (PATH_MAX bytes), or module's own when not
 * root. 0, or RC_CONFIG with the reason logged. */
static int
module_ok(const char *module, char *real)
{
	char bad[PATH_MAX];
	struct stat st;
	int rc;

	if (geteuid() != 0) {
		snprintf(real, PATH_MAX, "%s", module);
		return 0;
	}
	rc = fs_root_only(module, INT_MAX, bad, &st);
	if (rc == 0 && realpath(module, real) != NULL)
		return 0;
	if (rc == RC_POLICY)
		log_err(LOG_SIGNER, "PKCS#11 module %s: not loaded by a signer "
		    "that runs as root: %s (uid %ld, mode %04o) must be root's "
		    "and writable by no one else", module, bad,
		    (long)st.st_uid, (unsigned)(st.st_mode & 07777));
	else
		log_err(LOG_SIGNER, "PKCS#11 module %s: %s", module,
		    strerror(errno));
	return RC_CONFIG;
}

int
signer_p11_open(const char *module, const char *token, const char *pin_file,
    struct signer_p11 **out)
{
	struct signer_p11 *p;
	CK_C_GetFunctionList get;
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;
	char real[PATH_MAX];
	int rc;

	*out = NULL;
	if (module == NULL || module[0] == '\0' || token == NULL ||
	    token[0] == '\0' || strlen(token) > TOKEN_LABEL_LEN ||
	    pin_file == NULL || pin_file[0] == '\0') {
		log_err(LOG_SIGNER, "PKCS#11: the module, the token label (at "
		    "most %d bytes) and the PIN file must all be set",
		    TOKEN_LABEL_LEN);
		return RC_CONFIG;
	}
	p = xcalloc(1, sizeof(*p));
	p->token = xstrdup(token);
	if ((rc = module_ok(module, real)) != 0 ||
	    (rc = read_pin(pin_file, &p->pin)) != 0)
		goto fail;
	p->dl = dlopen(real, RTLD_NOW | RTLD_LOCAL);
	if (p->dl == NULL) {
		log_err(LOG_SIGNER, "PKCS#11 module %s: %s", module,
		    dlerror());
		rc = RC_CONFIG;
		goto fail;
	}
	*(void **)&get = dlsym(p->dl, "C_GetFunctionList");
	if (get == NULL || get(&p->f) != CKR_OK || p->f == NULL) {
		log_err(LOG_SIGNER, "PKCS#11 module %s: no C_GetFunctionList; "
		    "not a PKCS#11 module", module);
		rc = RC_CONFIG;
		goto fail;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = p->f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		log_rv(p, "C_Initialize", rv);
		rc = RC_SIGNER;
		goto fail;
	}
	p->initialized = rv == CKR_OK;
	if ((rc = find_slot(p)) != 0 || (rc = login(p)) != 0)
		goto fail;
	log_info(LOG_SIGNER, "PKCS#11 token '%s' of %s: logged in", token,
	    module);
	*out = p;
	return 0;
fail:
	signer_p11_close(p);
	return rc;
}

void
signer_p11_close(struct signer_p11 *p)
{
	if (p == NULL)
		return;
	if (p->have_sess) {
		(void)p->f->C_Logout(p->sess);
		(void)p->f->C_CloseSession(p->sess);
	}
	if (p->initialized)
		(void)p->f->C_Finalize(NULL);
	if (p->dl != NULL)
		dlclose(p->dl);
	sec_free(p->pin);
	free(p->token);
	free(p);
}

int
signer_p11_health(struct signer_p11 *p, struct rc_detail *d)
{
	CK_SESSION_INFO si;
	CK_RV rv;

	for (int attempt = 0;; attempt++) {
		CK_TOKEN_INFO ti;

		rv = p->f->C_GetTokenInfo(p->slot, &ti);
		if (rv == CKR_OK && !(ti.flags & CKF_TOKEN_INITIALIZED))
			rv = CKR_TOKEN_NOT_RECOGNIZED;
		if (rv == CKR_OK)
			rv = p->have_sess ? p->f->C_GetSessionInfo(p->sess,
			    &si) : CKR_SESSION_HANDLE_INVALID;
		if (rv == CKR_OK && si.state != CKS_RW_USER_FUNCTIONS &&
		    si.state != CKS_RO_USER_FUNCTIONS)
			rv = CKR_USER_NOT_LOGGED_IN;
		if (rv == CKR_OK || attempt > 0 || !session_lost(rv))
			break;
		log_warn(LOG_SIGNER, "PKCS#11 token '%s': session: %s; logging "
		    "in again", p->token, ckr_name(rv));
		if (login(p) != 0)
			break;
	}
	if (rv != CKR_OK) {
		rc_detail_set(d, "PKCS#11 token '%s': %s", p->token,
		    ckr_name(rv));
		return RC_SIGNER;
	}
	return 0;
}

void
signer_p11_drop_session(struct signer_p11 *p)
{
	if (p != NULL && p->have_sess)
		(void)p->f->C_CloseSession(p->sess);
}

/* One object of class cls with CKA_ID id, in *h. */
static CK_RV
find_one(struct signer_p11 *p, CK_OBJECT_CLASS cls, const uint8_t *id,
    size_t id_len, CK_OBJECT_HANDLE *h, CK_ULONG *count)
{
	CK_ATTRIBUTE t[] = {
		{CKA_CLASS, &cls, sizeof(cls)},
		{CKA_ID, (void *)id, (CK_ULONG)id_len},
	};
	CK_OBJECT_HANDLE found[2];
	CK_RV rv, rv2;

	*count = 0;
	rv = p->f->C_FindObjectsInit(p->sess, t, 2);
	if (rv != CKR_OK)
		return rv;
	rv = p->f->C_FindObjects(p->sess, found, 2, count);
	rv2 = p->f->C_FindObjectsFinal(p->sess);
	if (rv == CKR_OK)
		rv = rv2;
	if (rv == CKR_OK && *count > 0)
		*h = found[0];
	return rv;
}

/* An attribute's value in a new buffer (*len its size). */
static CK_RV
get_attr(struct signer_p11 *p, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type,
    uint8_t **val, size_t *len)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	CK_RV rv;

	*val = NULL;
	*len = 0;
	rv = p->f->C_GetAttributeValue(p->sess, h, &a, 1);
	if (rv != CKR_OK)
		return rv;
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION ||
	    a.ulValueLen > 64 * 1024)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	a.pValue = xmalloc(a.ulValueLen ? a.ulValueLen : 1);
	rv = p->f->C_GetAttributeValue(p->sess, h, &a, 1);
	if (rv != CKR_OK) {
		free(a.pValue);
		return rv;
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return CKR_OK;
}

/*
 * CKA_EC_POINT is the DER OCTET STRING of the uncompressed point (PKCS#11
 * 2.40); some tokens give the bare point. Either way, the point (want
 * bytes: 65 for P-256, 97 for P-384) at *pt.
 */
static int
ec_point(const uint8_t *v, size_t len, size_t want, const uint8_t **pt)
{
	if (len == want + 2 && v[0] == 0x04 && v[1] == want && v[2] == 0x04) {
		*pt = v + 2;
		return 0;
	}
	if (len == want && v[0] == 0x04) {
		*pt = v;
		return 0;
	}
	return -1;
}

/* The public key object h as an EVP_PKEY, and its signer_keytype. */
static int
public_key(struct signer_p11 *p, CK_OBJECT_HANDLE h, EVP_PKEY **out,
    int *keytype)
{
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *v1 = NULL, *v2 = NULL;
	size_t l1 = 0, l2 = 0;
	BIGNUM *n = NULL, *e = NULL;
	const char *alg = NULL;
	CK_RV rv;
	int rc = RC_BADKEY;

	*out = NULL;
	*keytype = 0;
	rv = p->f->C_GetAttributeValue(p->sess, h, &a, 1);
	if (rv != CKR_OK) {
		log_rv(p, "read the public key's type", rv);
		rc = RC_SIGNER;
		goto out;
	}
	if (bld == NULL) {
		rc = RC_NOMEM;
		goto out;
	}
	if (kt == CKK_EC) {
		const uint8_t *pt;
		size_t pt_len;

		alg = "EC";
		rv = get_attr(p, h, CKA_EC_PARAMS, &v1, &l1);
		if (rv == CKR_OK)
			rv = get_attr(p, h, CKA_EC_POINT, &v2, &l2);
		if (rv != CKR_OK) {
			log_rv(p, "read the public EC key", rv);
			rc = RC_SIGNER;
			goto out;
		}
		if (l1 == sizeof(oid_p256) && !memcmp(v1, oid_p256, l1))
			*keytype = SIGNER_KEY_EC_P256;
		else if (l1 == sizeof(oid_p384) && !memcmp(v1, oid_p384, l1))
			*keytype = SIGNER_KEY_EC_P384;
		else
			goto out;
		pt_len = *keytype == SIGNER_KEY_EC_P256 ? 65 : 97;
		if (ec_point(v2, l2, pt_len, &pt) != 0)
			goto out;
		if (!OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, *keytype == SIGNER_KEY_EC_P256
		    ? "P-256" : "P-384", 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld,
		    OSSL_PKEY_PARAM_PUB_KEY, pt, pt_len))
			goto out;
	} else if (kt == CKK_RSA) {
		alg = "RSA";
		rv = get_attr(p, h, CKA_MODULUS, &v1, &l1);
		if (rv == CKR_OK)
			rv = get_attr(p, h, CKA_PUBLIC_EXPONENT, &v2, &l2);
		if (rv != CKR_OK) {
			log_rv(p, "read the public RSA key", rv);
			rc = RC_SIGNER;
			goto out;
		}
		n = BN_bin2bn(v1, (int)l1, NULL);
		e = BN_bin2bn(v2, (int)l2, NULL);
		if (n == NULL || e == NULL)
			goto out;
		*keytype = signer_keytype_rsa(BN_num_bits(n));
		if (*keytype == 0 ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
			goto out;
	} else {
		goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		ERR_clear_error();
		*out = NULL;
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		*keytype = 0;
	BN_free(n);
	BN_free(e);
	free(v1);
	free(v2);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* (Re)finds k's objects in the current session. */
static CK_RV
key_handles(struct signer_p11key *k)
{
	CK_ULONG n;
	CK_RV rv;

	rv = find_one(k->p, CKO_PRIVATE_KEY, k->id, k->id_len, &k->priv, &n);
	if (rv == CKR_OK && n != 1)
		rv = CKR_KEY_HANDLE_INVALID;
	if (rv == CKR_OK) {
		rv = find_one(k->p, CKO_PUBLIC_KEY, k->id, k->id_len, &k->pub,
		    &n);
		if (rv == CKR_OK && n != 1)
			k->pub = CK_INVALID_HANDLE;
	}
	if (rv == CKR_OK)
		k->gen = k->p->gen;
	return rv;
}

int
signer_p11_key_find(struct signer_p11 *p, const uint8_t *id, size_t id_len,
    int *keytype, uint8_t **spki, size_t *spki_len,
    struct signer_p11key **out)
{
	struct signer_p11key *k;
	char hex[2 * SIGNER_P11_ID_MAX + 1];
	CK_ULONG n;
	CK_RV rv;
	uint8_t *der = NULL;
	int len, rc;

	*out = NULL;
	*spki = NULL;
	if (id_len == 0 || id_len > SIGNER_P11_ID_MAX)
		return RC_INVAL;
	hex_encode(id, id_len, hex);
	k = xcalloc(1, sizeof(*k));
	k->p = p;
	memcpy(k->id, id, id_len);
	k->id_len = id_len;
	rv = find_one(p, CKO_PRIVATE_KEY, id, id_len, &k->priv, &n);
	if (rv != CKR_OK) {
		log_rv(p, "C_FindObjects", rv);
		rc = RC_SIGNER;
		goto fail;
	}
	if (n != 1) {
		log_err(LOG_SIGNER, "PKCS#11 token '%s': %s private key with "
		    "CKA_ID %s", p->token, n == 0 ? "no" : "more than one",
		    hex);
		rc = n == 0 ? RC_NOTFOUND : RC_CONFIG;
		goto fail;
	}
	rv = key_handles(k);
	if (rv != CKR_OK || k->pub == CK_INVALID_HANDLE) {
		log_err(LOG_SIGNER, "PKCS#11 token '%s': no single public key "
		    "with CKA_ID %s", p->token, hex);
		rc = RC_CONFIG;
		goto fail;
	}
	rc = public_key(p, k->pub, &k->pubkey, &k->keytype);
	if (rc != 0) {
		if (rc == RC_BADKEY)
			log_err(LOG_SIGNER, "PKCS#11 token '%s': key %s is not "
			    "P-256, P-384 or RSA 2048, 3072 or 4096", p->token,
			    hex);
		goto fail;
	}
	len = i2d_PUBKEY(k->pubkey, &der);
	k->md = EVP_MD_CTX_new();
	if (len <= 0 || k->md == NULL) {
		rc = RC_CRYPTO;
		goto fail;
	}
	*spki = xmalloc((size_t)len);
	memcpy(*spki, der, (size_t)len);
	*spki_len = (size_t)len;
	OPENSSL_free(der);
	*keytype = k->keytype;
	*out = k;
	return 0;
fail:
	OPENSSL_free(der);
	signer_p11_key_free(k);
	return rc;
}

int
signer_p11_key_generate(struct signer_p11 *p, const char *label,
    int keytype, uint8_t id[SIGNER_P11_ID_LEN], uint8_t **spki,
    size_t *spki_len, struct signer_p11key **out)
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG bits = (CK_ULONG)signer_keytype_rsa_bits(keytype);
	CK_BYTE e65537[] = {0x01, 0x00, 0x01};
	CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
	const uint8_t *oid = oid_p256;
	size_t oid_len = sizeof(oid_p256);
	CK_OBJECT_HANDLE pub, priv;
	CK_ATTRIBUTE pt[10], kt[12];
	CK_ULONG npt = 0, nkt = 0;
	CK_ULONG ll = (CK_ULONG)strlen(label);
	CK_RV rv;
	int rc, got;

	*out = NULL;
	*spki = NULL;
	if (keytype == SIGNER_KEY_EC_P384) {
		oid = oid_p384;
		oid_len = sizeof(oid_p384);
	} else if (keytype != SIGNER_KEY_EC_P256 && bits == 0) {
		return RC_INVAL;
	}
	if (sec_random(id, SIGNER_P11_ID_LEN) != 0)
		return RC_CRYPTO;
#define ATTR(arr, n, t, v, l) \
	((arr)[(n)++] = (CK_ATTRIBUTE){(t), (void *)(v), (CK_ULONG)(l)})
	ATTR(pt, npt, CKA_TOKEN, &yes, sizeof(yes));
	ATTR(pt, npt, CKA_PRIVATE, &no, sizeof(no));
	ATTR(pt, npt, CKA_VERIFY, &yes, sizeof(yes));
	ATTR(pt, npt, CKA_ENCRYPT, &no, sizeof(no));
	ATTR(pt, npt, CKA_WRAP, &no, sizeof(no));
	ATTR(pt, npt, CKA_LABEL, label, ll);
	ATTR(pt, npt, CKA_ID, id, SIGNER_P11_ID_LEN);
	ATTR(kt, nkt, CKA_TOKEN, &yes, sizeof(yes));
	ATTR(kt, nkt, CKA_PRIVATE, &yes, sizeof(yes));
	ATTR(kt, nkt, CKA_SENSITIVE, &yes, sizeof(yes));
	ATTR(kt, nkt, CKA_EXTRACTABLE, &no, sizeof(no));
	ATTR(kt, nkt, CKA_SIGN, &yes, sizeof(yes));
	ATTR(kt, nkt, CKA_DECRYPT, &no, sizeof(no));
	ATTR(kt, nkt, CKA_UNWRAP, &no, sizeof(no));
	ATTR(kt, nkt, CKA_DERIVE, &no, sizeof(no));
	ATTR(kt, nkt, CKA_LABEL, label, ll);
	ATTR(kt, nkt, CKA_ID, id, SIGNER_P11_ID_LEN);
	if (bits == 0) {
		ATTR(pt, npt, CKA_EC_PARAMS, oid, oid_len);
	} else {
		mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		ATTR(pt, npt, CKA_MODULUS_BITS, &bits, sizeof(bits));
		ATTR(pt, npt, CKA_PUBLIC_EXPONENT, e65537, sizeof(e65537));
	}
#undef ATTR
	for (int attempt = 0;; attempt++) {
		rv = p->f->C_GenerateKeyPair(p->sess, &mech, pt, npt, kt, nkt,
		    &pub, &priv);
		if (rv == CKR_OK || attempt > 0 || !session_lost(rv) ||
		    login(p) != 0)
			break;
	}
	if (rv != CKR_OK) {
		log_rv(p, "C_GenerateKeyPair", rv);
		return RC_SIGNER;
	}
	rc = signer_p11_key_find(p, id, SIGNER_P11_ID_LEN, &got, spki,
	    spki_len, out);
	if (rc == 0 && got != keytype) {
		rc = RC_CRYPTO;
		free(*spki);
		*spki = NULL;
		signer_p11_key_free(*out);
		*out = NULL;
	}
	if (rc != 0) {
		(void)p->f->C_DestroyObject(p->sess, priv);
		(void)p->f->C_DestroyObject(p->sess, pub);
	}
	return rc;
}

void
signer_p11_key_destroy(struct signer_p11key *k)
{
	if (k == NULL)
		return;
	if (k->gen == k->p->gen || key_handles(k) == CKR_OK) {
		(void)k->p->f->C_DestroyObject(k->p->sess, k->priv);
		if (k->pub != CK_INVALID_HANDLE)
			(void)k->p->f->C_DestroyObject(k->p->sess, k->pub);
	}
	signer_p11_key_free(k);
}

void
signer_p11_key_free(struct signer_p11key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pubkey);
	EVP_MD_CTX_free(k->md);
	free(k);
}

/* The token's signature over dgst, as it gives it. */
static CK_RV
token_sign(struct signer_p11key *k, CK_MECHANISM_TYPE m, const uint8_t *in,
    size_t in_len, uint8_t *out, CK_ULONG *out_len)
{
	CK_MECHANISM mech = {m, NULL, 0};
	CK_RV rv;

	if (k->gen != k->p->gen && (rv = key_handles(k)) != CKR_OK)
		return rv;
	rv = k->p->f->C_SignInit(k->p->sess, &mech, k->priv);
	if (rv != CKR_OK)
		return rv;
	return k->p->f->C_Sign(k->p->sess, (CK_BYTE_PTR)in, (CK_ULONG)in_len,
	    out, out_len);
}

int
signer_p11_sign(struct signer_p11key *k, const uint8_t *tbs, size_t len,
    uint8_t *sig, size_t *sig_len)
{
	const EVP_MD *md = k->keytype == SIGNER_KEY_EC_P384 ? EVP_sha384() :
	    EVP_sha256();
	uint8_t in[sizeof(di_sha256) + EVP_MAX_MD_SIZE];
	uint8_t raw[SIGNER_SIG_MAX];
	unsigned dlen = 0;
	size_t in_len, off = 0;
	int ec = k->keytype == SIGNER_KEY_EC_P256 ||
	    k->keytype == SIGNER_KEY_EC_P384;
	CK_ULONG raw_len = 0;
	CK_RV rv = CKR_OK;

	if (!ec) {
		memcpy(in, di_sha256, sizeof(di_sha256));
		off = sizeof(di_sha256);
	}
	if (EVP_Digest(tbs, len, in + off, &dlen, md, NULL) != 1)
		return RC_CRYPTO;
	in_len = off + dlen;
	for (int attempt = 0; attempt < 2; attempt++) {
		raw_len = sizeof(raw);
		rv = token_sign(k, ec ? CKM_ECDSA : CKM_RSA_PKCS, in, in_len,
		    raw, &raw_len);
		if (rv == CKR_OK || !session_lost(rv))
			break;
		log_warn(LOG_SIGNER, "PKCS#11 token '%s': C_Sign: %s; logging "
		    "in again", k->p->token, ckr_name(rv));
		if (login(k->p) != 0)
			break;
	}
	if (rv != CKR_OK) {
		log_rv(k->p, "C_Sign", rv);
		return RC_CRYPTO;
	}
	if (ec) {
		ECDSA_SIG *es = ECDSA_SIG_new();
		BIGNUM *r, *s;
		unsigned char *p = sig;
		int n;

		if (es == NULL || raw_len == 0 || raw_len % 2 != 0) {
			ECDSA_SIG_free(es);
			return RC_CRYPTO;
		}
		r = BN_bin2bn(raw, (int)raw_len / 2, NULL);
		s = BN_bin2bn(raw + raw_len / 2, (int)raw_len / 2, NULL);
		if (r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s)) {
			BN_free(r);
			BN_free(s);
			ECDSA_SIG_free(es);
			return RC_CRYPTO;
		}
		n = i2d_ECDSA_SIG(es, NULL);
		if (n <= 0 || (size_t)n > *sig_len) {
			ECDSA_SIG_free(es);
			return RC_CRYPTO;
		}
		n = i2d_ECDSA_SIG(es, &p);
		ECDSA_SIG_free(es);
		*sig_len = (size_t)n;
	} else {
		if (raw_len > *sig_len)
			return RC_CRYPTO;
		memcpy(sig, raw, raw_len);
		*sig_len = raw_len;
	}
	/* never hand out what the public key does not verify */
	ERR_clear_error();
	if (EVP_DigestVerifyInit(k->md, NULL, md, NULL, k->pubkey) != 1 ||
	    EVP_DigestVerify(k->md, sig, *sig_len, tbs, len) != 1) {
		ERR_clear_error();
		log_err(LOG_SIGNER, "PKCS#11 token '%s': a signature did not "
		    "verify with the key's public key; not used", k->p->token);
		return RC_CRYPTO;
	}
	return 0;
}
