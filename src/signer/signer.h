/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signer: the only process that holds CA private keys. signer_spawn()
 * forks it (before the caller has touched any secret) and returns a client
 * handle talking to it over a socketpair. The child loads keys from the key
 * directory (files now; a PKCS#11 backend later, as a whole separate file),
 * disables core dumps and ptrace (PR_SET_DUMPABLE 0, RLIMIT_CORE 0), sets
 * no_new_privs, and then only answers requests.
 *
 * The signer checks what it signs (like OpenBSD acme-client's acctproc and
 * Taler's secmod helpers): a to-be-signed certificate must be well-formed DER
 * whose signature algorithm matches the key, whose issuer is the key's own
 * certificate subject (or, for a self-signed root, whose subject and public
 * key are the key's), and only a key marked as root may sign a CA
 * certificate. CRL and OCSP bodies are checked the same way for their issuer.
 *
 * Wire format (both directions): u32 length (big endian) then a message of
 * u8 op, and fields each as u32 length + bytes. Messages are bounded
 * (SIGNER_MAX_MSG); anything malformed is RC_PROTO and the signer keeps
 * running.
 *
 * The client handle is thread-safe (requests are serialised by a mutex).
 *
 * Return codes common to the calls below: RC_INVAL for a bad key id, key
 * type or kind; RC_NOTFOUND for a key the signer does not have; RC_TOOBIG
 * for a request over SIGNER_MAX_MSG (not sent); RC_SIGNER when the signer
 * refuses, or when it is gone (then every later call is RC_SIGNER too).
 */
#ifndef CERTDESK_SIGNER_SIGNER_H
#define CERTDESK_SIGNER_SIGNER_H

#include "util/rc.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The largest message either way. The largest thing signed is a CRL
 * shard's TBSCertList with every certificate of the shard revoked: about
 * 50 bytes an entry, so crl.shard_size (at most CONF_CRL_SHARD_MAX,
 * 300,000) fits with room to spare. The buffers are allocated at this
 * size but only touched as far as messages go. */
#define SIGNER_MAX_MSG (16 * 1024 * 1024)

enum signer_keytype {
	SIGNER_KEY_EC_P256 = 1,
	SIGNER_KEY_EC_P384 = 2,
	SIGNER_KEY_RSA_2048 = 3,
	SIGNER_KEY_RSA_3072 = 4,
	SIGNER_KEY_RSA_4096 = 5,
};

/* What is being signed; decides which checks the signer applies and which
 * role a key needs. */
enum signer_kind {
	SIGNER_TBS_CERT = 1,	/* TBSCertificate (RFC 5280 4.1) */
	SIGNER_TBS_CRL = 2,	/* TBSCertList (RFC 5280 5.1) */
	SIGNER_TBS_OCSP = 3,	/* ResponseData (RFC 6960 4.2.1) */
};

struct signer;

/*
 * Forks the signer for the keys in keydir (which must exist, mode 0700:
 * RC_CONFIG otherwise) and waits until it has loaded them (key files it
 * cannot use are skipped with a log line). Call it early, before other
 * threads exist: the child keeps running OpenSSL after fork(), and it is
 * sent SIGTERM when the thread that called signer_spawn() exits. Returns a
 * handle; free with signer_free(), which closes the channel and reaps the
 * child (SIGTERM after ~2 s if it does not exit).
 */
int signer_spawn(const char *keydir, struct signer **out);

/*
 * Where the signer finds its keys: the key directory always (each key's
 * role and certificate, and <id>.key or <id>.p11), and a PKCS#11 token
 * when pkcs11_module is set (keys whose <id>.p11 names their CKA_ID there).
 * new_on_token makes signer_genkey() create keys on the token instead of
 * as files. The signer reads the PIN from pkcs11_pin_file (mode 0600,
 * ours) and keeps it for logging in again after a lost session.
 *
 * as_owner (the parent runs as root): the signer child takes the key
 * directory's owner and group (no supplementary groups) before it reads
 * anything, so it keeps root only when root owns the keys, and a command
 * run by root reads keys kept by a user of their own. The key directory
 * must not belong to the user a `serve` becomes (checked by the caller).
 */
struct signer_conf {
	const char *keydir;
	const char *pkcs11_module;	/* path of the module; NULL or "" */
	const char *pkcs11_token;	/* token label */
	const char *pkcs11_pin_file;
	int new_on_token;
	int as_owner;
	/* GENKEY and SETCERT refused (RC_POLICY): a signer for a process
	 * that only signs (serve, ca revoke, ...), so that a subverted one
	 * cannot make keys or give one a CA certificate */
	int sign_only;
};

/* signer_spawn() with a PKCS#11 token besides the key directory. */
int signer_spawn_conf(const struct signer_conf *c, struct signer **out);
/* The signer child's process id; 0 for a signer attached in-process. */
pid_t signer_pid(const struct signer *s);
void signer_free(struct signer *s);	/* NULL is fine */

/*
 * Whether the signer still runs: 1, also for a signer attached in-process.
 * Once its child has ended (a waitpid() that does not wait; the child is
 * reaped) or its channel broke: 0, every call fails with RC_SIGNER from
 * then on, and why (n bytes, may be NULL) says what happened, e.g. "was
 * killed by signal 9 (Killed)". Thread-safe.
 */
int signer_running(struct signer *s, char *why, size_t n);

/*
 * Asks the signer whether it can sign: 0 with key files; with a PKCS#11
 * token, when its session answers (logged in to again once if the token
 * lost it). RC_SIGNER with the reason in d otherwise, or when the signer
 * does not run. Cheap: no signature is made.
 */
int signer_health(struct signer *s, struct rc_detail *d);

/*
 * Generates a key in the signer and stores it as keydir/<key_id>.key (0600,
 * O_EXCL; RC_EXISTS if present), or on the PKCS#11 token with its CKA_ID in
 * keydir/<key_id>.p11 when the signer was spawned with new_on_token.
 * is_root marks a key allowed to sign CA certificates. Returns the SubjectPublicKeyInfo DER in *spki (free()).
 * Key ids are [a-z0-9-]{1,32}.
 */
int signer_genkey(struct signer *s, const char *key_id, int keytype,
    int is_root, uint8_t **spki, size_t *spki_len);

/* The key's type and SubjectPublicKeyInfo DER (*spki: free()). */
int signer_key_info(struct signer *s, const char *key_id, int *keytype,
    uint8_t **spki, size_t *spki_len);

/*
 * Has the signer load the key key_id, made after it started (by `certdesk
 * ca roll` in another process), from its key directory as at its start
 * (a key file, or the CKA_ID of a key on the PKCS#11 token). It takes
 * only an issuing key whose certificate (<key_id>.crt) is a CA
 * certificate signed by a root key it holds, the check every certificate
 * passes at start; a root key, a key without such a certificate, an
 * unknown id or a bad one is refused, with the reason in d (RC_SIGNER,
 * RC_NOTFOUND, RC_INVAL), and nothing changes. A key held already is
 * left as it is (0), unless it has no certificate: then its certificate
 * is read and checked the same way. Keys are never unloaded, so the
 * earlier issuing CAs go on signing CRLs and OCSP responses.
 */
int signer_load_key(struct signer *s, const char *key_id,
    struct rc_detail *d);

/* Tells the signer the certificate of a key (DER), so it can check issuer
 * names; the signer also writes it to keydir/<key_id>.crt. The certificate's
 * public key must be the key's (RC_SIGNER otherwise, the old one stays). */
int signer_set_cert(struct signer *s, const char *key_id,
    const uint8_t *der, size_t len);

/*
 * Signs tbs[0..len) of the given kind with key_id after checking it (see
 * above). The signature algorithm is implied by the key: ecdsa-with-SHA256
 * for P-256, ecdsa-with-SHA384 for P-384, sha256WithRSAEncryption for RSA.
 * Returns the raw signature value (the BIT STRING contents) in *sig (free()).
 * RC_SIGNER with a reason in d when the signer refuses. A key without a
 * certificate signs only its own self-signed certificate, and only if it
 * is a root key; CRLs and OCSP responses need the key's certificate.
 */
int signer_sign(struct signer *s, const char *key_id, int kind,
    const uint8_t *tbs, size_t len, uint8_t **sig, size_t *sig_len,
    struct rc_detail *d);

/*
 * signer_sign() for several documents and one key in one round trip (at
 * most 4): tbs[i].sig (free()) and sig_len are filled for every i, or for
 * none when rc is nonzero (the signer checks every document before it
 * signs any).
 */
struct signer_tbs {
	int kind;			/* SIGNER_TBS_* */
	const uint8_t *tbs;
	size_t len;
	uint8_t *sig;			/* out */
	size_t sig_len;			/* out */
};
int signer_sign_many(struct signer *s, const char *key_id, size_t n,
    struct signer_tbs *tbs, struct rc_detail *d);

/* DER of the AlgorithmIdentifier the signer uses for a key type (static,
 * borrowed); NULL for an unknown type. Used to build the TBS. */
const uint8_t *signer_sigalg_der(int keytype, size_t *len);

#endif
