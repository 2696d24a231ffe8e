/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the signer shared by its files and its unit tests; nothing
 * outside src/signer and tests/unit/signer includes this.
 *
 * Four parts:
 *  - struct signer_key: one loaded key, with the backend-independent facts
 *    the checks need (type, role, SPKI, certificate subject) and a pointer to
 *    the backend's private part (the EVP_PKEY for files, a PKCS#11 handle
 *    later).
 *  - the key store (signer_ks_*, keystore_file.c): the key directory,
 *    which holds each key's role and certificate and either the key itself
 *    (<id>.key) or the CKA_ID of its private key on a PKCS#11 token
 *    (<id>.p11), signed with through keystore_pkcs11.c (signer_p11_*).
 *  - the checks of what is signed (check.c), pure functions over DER bytes
 *    so tests can feed them hostile input in-process.
 *  - the wire protocol (framing in signer_client.c, the serving loop in
 *    signer_proc.c) and test-only hooks (diagnostics op, raw socket access,
 *    an in-process server).
 *
 * Wire protocol. Every frame, in both directions, is
 *	u32 len (big endian, 1..SIGNER_MAX_MSG), then len bytes:
 *	u8 op, then up to SIGNER_WIRE_MAX_FIELDS fields, each u32 len + bytes.
 * Integers inside fields are big endian, u32 unless said otherwise.
 * A reply repeats the request's op (0xff if the request was unreadable);
 * its first field is the rc as a 4-byte big-endian two's complement int.
 * On success the payload fields follow; on failure one field with a human
 * readable reason (no NUL), possibly empty.
 *
 *	op        request fields          reply fields on success
 *	HELLO     (server only, first)    u32 number of keys loaded
 *	GENKEY    id, u32 type, u32 root  spki
 *	KEYINFO   id                      u32 type, spki
 *	SETCERT   id, cert DER            (none)
 *	SIGN      id, u32 kind, tbs       signature
 *	HEALTH    (none)                  (none): the key store can sign
 *	LOADKEY   id                      (none): the key is loaded now
 *	DIAG      (none)                  see signer_diag()
 *
 * A frame with a valid length but bad contents gets an RC_PROTO reply and
 * the stream continues. A frame whose length is out of range, or that stays
 * incomplete for SIGNER_FRAME_TIMEOUT_MS, cannot be delimited: the server
 * replies RC_PROTO, discards whatever is queued on the socket and starts
 * over with the next frame. The client stub only sends whole frames and
 * waits for each reply, so this resynchronises after any garbage.
 */
#ifndef CERTDESK_SIGNER_SIGNER_INT_H
#define CERTDESK_SIGNER_SIGNER_INT_H

#include "signer/signer.h"
#include "util/rc.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define SIGNER_KEYID_MAX 32
#define SIGNER_KEYHASH_LEN 20	/* SHA-1, RFC 6960 KeyHash */
#define SIGNER_SIG_MAX 1024	/* RSA 4096 needs 512 */

/* ---- keys ---------------------------------------------------------- */

/*
 * One key known to the signer. The common fields are filled by the backend
 * through signer_key_set_spki() and signer_key_set_cert() (check.c); be is
 * the backend's own state. Free with signer_key_free() (backend).
 */
struct signer_key {
	char id[SIGNER_KEYID_MAX + 1];
	int keytype;			/* enum signer_keytype */
	int is_root;			/* may sign CA certificates */
	uint8_t *spki;			/* SPKI DER, owned */
	size_t spki_len;
	uint8_t keyhash[SIGNER_KEYHASH_LEN]; /* SHA-1 of the key bits */
	uint8_t *cert;			/* certificate DER or NULL */
	size_t cert_len;
	const uint8_t *subject;		/* its subject Name TLV */
	size_t subject_len;
	void *be;			/* backend state */
	struct signer_key *next;
};

/* 1 when id matches [a-z0-9-]{1,32}. NULL is 0. */
int signer_keyid_valid(const char *id);
/* "P-256", "RSA-2048", ...; "unknown" for anything else. */
const char *signer_keytype_name(int keytype);
/* The modulus size of an RSA key type, 0 for the others; and back (0 for a
 * size the signer does not use). */
int signer_keytype_rsa_bits(int keytype);
int signer_keytype_rsa(int bits);

/* Copies the SPKI into k (replacing any) and computes k->keyhash. RC_INVAL
 * when spki is not a well-formed SubjectPublicKeyInfo. */
int signer_key_set_spki(struct signer_key *k, const uint8_t *spki,
    size_t len);

/*
 * Checks that der is one well-formed certificate whose public key is k's
 * (RC_SIGNER with a reason in d otherwise), then copies it into k
 * (replacing any) and points k->subject at its subject Name.
 */
int signer_key_set_cert(struct signer_key *k, const uint8_t *der,
    size_t len, struct rc_detail *d);

/*
 * Checks that der may become k's certificate, before
 * signer_key_set_cert() (SETCERT): a well-formed CA certificate
 * (basicConstraints cA TRUE, keyUsage keyCertSign) for k's public key;
 * for a root key self-issued and signed by k; for an issuing key, issued
 * under the certificate subject of a root key in the list keys (borrowed)
 * and signed by it. 0, or RC_SIGNER with a reason in d. Changes nothing.
 */
int signer_key_verify_cert(const struct signer_key *k,
    const struct signer_key *keys, const uint8_t *der, size_t len,
    struct rc_detail *d);

/*
 * The checks applied before signing tbs[0..len) of the given kind with k
 * (see signer.h and check.c); keys is the list of every key the signer
 * holds (a root certifies only those). 0 when it may be signed; RC_SIGNER
 * with a reason in d when refused; RC_INVAL for an unknown kind. Never
 * reads past tbs + len.
 */
int signer_check_tbs(const struct signer_key *k,
    const struct signer_key *keys, int kind, const uint8_t *tbs, size_t len,
    struct rc_detail *d);

/* ---- key store (keystore_file.c) ------------------------------------ */

struct signer_ks;

/* Opens the key store at dir (files: the directory). Returns a new handle,
 * free with signer_ks_close(). RC_NOTFOUND / RC_CONFIG when unusable. */
int signer_ks_open(const char *dir, struct signer_ks **out);
/* The same with a PKCS#11 token (c->pkcs11_module set): the token is
 * opened and logged in to here, RC_CONFIG / RC_SIGNER when it cannot be. */
int signer_ks_open_conf(const struct signer_conf *c, struct signer_ks **out);
void signer_ks_close(struct signer_ks *ks);	/* NULL is fine */

/*
 * Loads every usable key, each with its role and certificate, into a new
 * list at *out (free each with signer_key_free()). Keys that cannot be used
 * (bad permissions, unreadable, unsupported type) are skipped with a log
 * line, and so is a certificate that signer_key_verify_cert() refuses
 * against the list (the key stays, without it). RC_IO when the store
 * itself cannot be read.
 */
int signer_ks_load(struct signer_ks *ks, struct signer_key **out);

/*
 * Generates a key of keytype (on the token when the store was opened with
 * new_on_token), persists it with its role and returns it as a new key in
 * *out. RC_INVAL for a bad id or type, RC_EXISTS when stored already,
 * RC_CRYPTO / RC_IO / RC_SIGNER on failure.
 */
int signer_ks_genkey(struct signer_ks *ks, const char *id, int keytype,
    int is_root, struct signer_key **out);

/*
 * Loads the one key id from the store as signer_ks_load() does at start
 * (<id>.key, or <id>.p11 on the token; its role and certificate), for a
 * key made after the signer started (`ca roll` in another process).
 * Accepted only as an issuing key whose certificate passes
 * signer_key_verify_cert() against keys (borrowed: the keys held), so
 * that it is a CA certificate signed by a root held here: a root key, a
 * key without a certificate, or one whose certificate does not verify
 * is refused (RC_SIGNER). RC_INVAL for a bad id, RC_NOTFOUND when the
 * key directory has no such key, RC_CONFIG when it has both files; the
 * reason in d every time. A new key in *out (signer_key_free()).
 */
int signer_ks_load_key(struct signer_ks *ks, const char *id,
    const struct signer_key *keys, struct signer_key **out,
    struct rc_detail *d);

/* Persists k's certificate (already checked and set in k). */
int signer_ks_save_cert(struct signer_ks *ks, const struct signer_key *k);

/* Signs tbs with k into sig[0..*sig_len) (*sig_len in: room, out: length).
 * The digest is implied by the key type. RC_CRYPTO on failure. */
int signer_ks_sign(struct signer_key *k, const uint8_t *tbs, size_t len,
    uint8_t *sig, size_t *sig_len);

/* Frees k, its common fields and its backend state. NULL is fine. */
void signer_key_free(struct signer_key *k);

/* 0 when the key store can sign: always for files; for a token, its
 * session answers (logged in to again once if it was lost). RC_SIGNER
 * with the reason in d otherwise. */
int signer_ks_health(struct signer_ks *ks, struct rc_detail *d);

/* ---- PKCS#11 tokens (keystore_pkcs11.c) ----------------------------- */

#define SIGNER_P11_ID_LEN 16	/* CKA_ID of the keys certdesk makes */
#define SIGNER_P11_ID_MAX 64	/* of keys it accepts */

struct signer_p11;	/* a module, a logged-in session on one token */
struct signer_p11key;	/* a private key on it, with its public key */

/*
 * Loads module (dlopen), initialises it, finds the token labelled token,
 * opens a session and logs in with the PIN read from pin_file (mode 0600,
 * ours; one line). Every failure is logged with the module's CKR_ name.
 * RC_CONFIG when the module, the token or the PIN file is wrong, RC_SIGNER
 * when the module fails (a wrong PIN included).
 */
int signer_p11_open(const char *module, const char *token,
    const char *pin_file, struct signer_p11 **out);
void signer_p11_close(struct signer_p11 *p);	/* NULL is fine */

/*
 * The key pair whose objects have CKA_ID id: its type and SPKI (DER, a new
 * buffer). RC_NOTFOUND when no private key has it, RC_CONFIG when several
 * do or its public key is missing, RC_BADKEY for a type the signer does
 * not use.
 */
int signer_p11_key_find(struct signer_p11 *p, const uint8_t *id,
    size_t id_len, int *keytype, uint8_t **spki, size_t *spki_len,
    struct signer_p11key **out);

/*
 * Generates a key pair of keytype on the token, labelled label, with a new
 * random CKA_ID (SIGNER_P11_ID_LEN bytes into id): the private key
 * sensitive and never extractable. Returns it as signer_p11_key_find()
 * does.
 */
int signer_p11_key_generate(struct signer_p11 *p, const char *label,
    int keytype, uint8_t id[SIGNER_P11_ID_LEN], uint8_t **spki,
    size_t *spki_len, struct signer_p11key **out);

/* Removes a key pair made by signer_p11_key_generate() from the token
 * (when what follows it fails) and frees k. */
void signer_p11_key_destroy(struct signer_p11key *k);

/*
 * Signs tbs as signer_ks_sign() does (the digest made here, the signature
 * by the token, DER for ECDSA), then verifies the signature with the
 * public key, so that a faulty token cannot hand out a bad one. Logs in
 * again once when the session was lost. RC_CRYPTO on failure.
 */
int signer_p11_sign(struct signer_p11key *k, const uint8_t *tbs,
    size_t len, uint8_t *sig, size_t *sig_len);
void signer_p11_key_free(struct signer_p11key *k);	/* NULL is fine */

/* Whether the token's session answers (C_GetSessionInfo), logging in
 * again once when it was lost. 0, or RC_SIGNER with the reason in d. */
int signer_p11_health(struct signer_p11 *p, struct rc_detail *d);

/* Tests: closes the session, as a network HSM that restarted would. */
void signer_p11_drop_session(struct signer_p11 *p);

/* ---- wire protocol ------------------------------------------------- */

enum {
	SIGNER_OP_HELLO = 0x00,
	SIGNER_OP_GENKEY = 0x01,
	SIGNER_OP_KEYINFO = 0x02,
	SIGNER_OP_SETCERT = 0x03,
	SIGNER_OP_SIGN = 0x04,
	SIGNER_OP_HEALTH = 0x05,
	SIGNER_OP_LOADKEY = 0x06,
	SIGNER_OP_DIAG = 0x7e,
	SIGNER_OP_BAD = 0xff,	/* reply to an unreadable request */
};

#define SIGNER_WIRE_MAX_FIELDS 16
#define SIGNER_SIGN_MAX 4	/* (kind, TBS) pairs in one SIGN */
#define SIGNER_FRAME_TIMEOUT_MS 1000

struct signer_field {
	const uint8_t *p;
	size_t len;
};

/* A parsed frame: borrowed pointers into the frame buffer. */
struct signer_wmsg {
	uint8_t op;
	int nf;
	struct signer_field f[SIGNER_WIRE_MAX_FIELDS];
};

/*
 * Encodes a frame (length prefix included) into out[0..*out_len); out has
 * room for 4 + SIGNER_MAX_MSG bytes. RC_TOOBIG when the message would
 * exceed SIGNER_MAX_MSG, RC_INVAL for more than SIGNER_WIRE_MAX_FIELDS.
 */
int signer_wire_encode(uint8_t *out, size_t *out_len, uint8_t op,
    const struct signer_field *f, int nf);
/* Parses a message (without its length prefix). RC_PROTO if malformed. */
int signer_wire_parse(const uint8_t *msg, size_t len, struct signer_wmsg *m);
/*
 * Buffered frame reader: one recv() usually brings a whole frame. buf has
 * room for 4 + SIGNER_MAX_MSG bytes; start with have = used = 0.
 */
struct signer_reader {
	uint8_t *buf;
	size_t have;	/* bytes in buf */
	size_t used;	/* last frame returned, dropped on the next read */
};

/*
 * Reads the next frame; *msg (borrowed, valid until the next read) and
 * *len are the message without its length prefix. Returns 0; RC_NOTFOUND
 * at a clean end of stream (EOF between frames); RC_IO on a read error or
 * EOF inside a frame; RC_PROTO when the length prefix is out of range or,
 * with frame_timeout_ms >= 0, a started frame makes no progress for that
 * long (then call signer_reader_reset() to resynchronise). Retries EINTR
 * and short reads.
 */
int signer_wire_read(int fd, struct signer_reader *r, const uint8_t **msg,
    size_t *len, int frame_timeout_ms);
/* Forgets everything buffered in r. */
void signer_reader_reset(struct signer_reader *r);
/* Writes p[0..n) fully (MSG_NOSIGNAL, EINTR, short writes). RC_IO. */
int signer_wire_write(int fd, const uint8_t *p, size_t n);
/* Field helpers: a u32 / u64 field's value (RC_PROTO if not 4 / 8 bytes). */
int signer_field_u32(const struct signer_field *f, uint32_t *v);
int signer_field_u64(const struct signer_field *f, uint64_t *v);
void signer_put_u32(uint8_t *p, uint32_t v);
void signer_put_u64(uint8_t *p, uint64_t v);

/* ---- server (signer_proc.c) ---------------------------------------- */

/*
 * The body of the child after fork: hardens the process (closes every fd
 * but fd and stderr, PR_SET_PDEATHSIG, not dumpable, RLIMIT_CORE 0,
 * no_new_privs, a seccomp deny list), then signer_srv_run(), then _exit().
 * parent is the pid of the parent (to catch its death before PDEATHSIG).
 * With c->as_owner it first becomes uid and gid (the key directory's
 * owner and group), without supplementary groups; then it goes into the
 * key directory keyfd (O_PATH, opened and checked by the parent) and
 * reads keys by relative names.
 */
void signer_proc_main(int fd, int keyfd, const struct signer_conf *c,
    uid_t uid, gid_t gid, pid_t parent) __attribute__((noreturn));

/*
 * Loads the keys c names, sends the HELLO frame on fd (with the rc of the
 * load) and serves requests on fd until EOF or an I/O error. Returns 0 at
 * EOF, or the error. Does not harden the process: tests run it in a thread
 * to check the server for leaks.
 */
int signer_srv_run(int fd, const struct signer_conf *c);

/* ---- client hooks for tests (signer_client.c) ---------------------- */

/* Wraps an fd connected to a server (e.g. a signer_srv_run() thread); pid
 * -1 means no child to reap. Reads the HELLO frame. Takes fd. */
int signer_attach(int fd, pid_t pid, struct signer **out);

/* The child's pid (-1 when attached in-process). */
pid_t signer_child_pid(const struct signer *s);

/* What the DIAG op reports about the signer process. */
struct signer_diag {
	int dumpable;			/* prctl(PR_GET_DUMPABLE) */
	uint64_t core_cur, core_max;	/* RLIMIT_CORE */
	int no_new_privs;		/* prctl(PR_GET_NO_NEW_PRIVS) */
	int seccomp;			/* PR_GET_SECCOMP: 2 = filter */
	uint64_t cpu_us;		/* user + system CPU time used */
	int nfds;			/* open fds, listed in fds[] */
	int fds[32];
	int chmod_errno;		/* of a chmod of a missing file */
	int write_out_errno;		/* of opening /dev/null to write */
	uint64_t cap_eff;		/* capget(): effective set */
};
int signer_diag(struct signer *s, struct signer_diag *out);

/* Sends raw bytes on the socket (no framing). RC_SIGNER if the socket is
 * gone. */
int signer_raw_send(struct signer *s, const void *p, size_t n);
/* Reads one reply frame: its op, rc and (on failure) reason in d. */
int signer_raw_recv(struct signer *s, int *op, int *rc, struct rc_detail *d);

#endif
