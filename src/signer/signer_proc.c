/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signer process: what runs in the child that signer_spawn() forks.
 * It first shuts itself in (closes every inherited fd but its socket and
 * stderr, dies with its parent, cannot be dumped or ptraced by its peers,
 * no core files, no_new_privs, a seccomp deny list against exec, sockets
 * and process inspection), then loads the keys and answers requests on the
 * socket until the parent closes it.
 *
 * Trusts nothing that arrives on the socket: every frame is bounded and
 * parsed strictly, malformed input gets an RC_PROTO reply and the loop goes
 * on, and what is signed passes the checks in check.c first. The only
 * state is the list of keys, which grows by the keys it makes and by the
 * ones made since its start that it is asked to load, each checked as at
 * start (LOADKEY); every key operation is logged here (the CA core writes
 * the audit entries).
 */
#include "signer/signer_int.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

struct srv {
	struct signer_ks *ks;
	struct signer_key *keys;
	struct signer_reader rd;	/* requests */
	uint8_t *out;			/* 4 + SIGNER_MAX_MSG */
	uint8_t sig[SIGNER_SIGN_MAX][SIGNER_SIG_MAX];
	/* the last LOADKEY refusal logged: the daemon asks again at each
	 * of its checks, the log says each reason once */
	char refused[SIGNER_KEYID_MAX + sizeof(((struct rc_detail *)0)->msg)
	    + 2];
	int sign_only;			/* signer_conf.sign_only */
};

static struct signer_key *
find(struct srv *sv, const char *id)
{
	for (struct signer_key *k = sv->keys; k != NULL; k = k->next)
		if (strcmp(k->id, id) == 0)
			return k;
	return NULL;
}

/* Sends a reply: rc, then the payload fields. RC_IO if the peer is gone. */
static int
reply(struct srv *sv, int fd, uint8_t op, int rc,
    const struct signer_field *pl, int n)
{
	struct signer_field f[SIGNER_WIRE_MAX_FIELDS];
	uint8_t rcb[4];
	size_t len;

	signer_put_u32(rcb, (uint32_t)(int32_t)rc);
	f[0].p = rcb;
	f[0].len = 4;
	for (int i = 0; i < n && i + 1 < SIGNER_WIRE_MAX_FIELDS; i++)
		f[i + 1] = pl[i];
	if (signer_wire_encode(sv->out, &len, op, f, n + 1) != 0)
		return RC_ERR;
	return signer_wire_write(fd, sv->out, len);
}

static int
reply_err(struct srv *sv, int fd, uint8_t op, int rc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
reply_err(struct srv *sv, int fd, uint8_t op, int rc, const char *fmt, ...)
{
	struct signer_field f;
	char msg[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	f.p = (const uint8_t *)msg;
	f.len = (size_t)n;
	return reply(sv, fd, op, rc, &f, 1);
}

/* A key id field into id; RC_INVAL unless [a-z0-9-]{1,32}. */
static int
field_id(const struct signer_field *f, char id[SIGNER_KEYID_MAX + 1])
{
	if (f->len == 0 || f->len > SIGNER_KEYID_MAX)
		return RC_INVAL;
	memcpy(id, f->p, f->len);
	id[f->len] = '\0';
	return signer_keyid_valid(id) && strlen(id) == f->len ? 0 : RC_INVAL;
}

static int
op_genkey(struct srv *sv, int fd, const struct signer_wmsg *m)
{
	char id[SIGNER_KEYID_MAX + 1];
	struct signer_key *k;
	struct signer_field f;
	uint32_t type, root;
	int rc;

	if (m->nf != 3 || signer_field_u32(&m->f[1], &type) != 0 ||
	    signer_field_u32(&m->f[2], &root) != 0 || root > 1)
		return reply_err(sv, fd, m->op, RC_PROTO, "malformed request");
	if (field_id(&m->f[0], id) != 0)
		return reply_err(sv, fd, m->op, RC_INVAL, "bad key id");
	if (signer_sigalg_der((int)type, NULL) == NULL)
		return reply_err(sv, fd, m->op, RC_INVAL, "unknown key type "
		    "%u", (unsigned)type);
	if (find(sv, id) != NULL)
		return reply_err(sv, fd, m->op, RC_EXISTS, "key %s exists",
		    id);
	rc = signer_ks_genkey(sv->ks, id, (int)type, (int)root, &k);
	if (rc != 0) {
		if (rc == RC_EXISTS)
			log_warn(LOG_SIGNER, "key %s: not generated: a key "
			    "file of that id exists", id);
		else
			log_err(LOG_SIGNER, "key %s: generate %s: %s", id,
			    signer_keytype_name((int)type), rc_str(rc));
		return reply_err(sv, fd, m->op, rc, "key %s: %s", id,
		    rc == RC_EXISTS ? "exists" : "generation failed");
	}
	k->next = sv->keys;
	sv->keys = k;
	log_info(LOG_SIGNER, "key %s: generated (%s, %s)", id,
	    signer_keytype_name(k->keytype), k->is_root ? "root" : "issuing");
	f.p = k->spki;
	f.len = k->spki_len;
	return reply(sv, fd, m->op, 0, &f, 1);
}

static int
op_keyinfo(struct srv *sv, int fd, const struct signer_wmsg *m)
{
	char id[SIGNER_KEYID_MAX + 1];
	struct signer_field f[2];
	struct signer_key *k;
	uint8_t t[4];

	if (m->nf != 1)
		return reply_err(sv, fd, m->op, RC_PROTO, "malformed request");
	if (field_id(&m->f[0], id) != 0)
		return reply_err(sv, fd, m->op, RC_INVAL, "bad key id");
	if ((k = find(sv, id)) == NULL)
		return reply_err(sv, fd, m->op, RC_NOTFOUND, "no key %s", id);
	signer_put_u32(t, (uint32_t)k->keytype);
	f[0].p = t;
	f[0].len = 4;
	f[1].p = k->spki;
	f[1].len = k->spki_len;
	return reply(sv, fd, m->op, 0, f, 2);
}

/* Log line for a new certificate: its subject and SHA-256 fingerprint. */
static void
log_cert(const struct signer_key *k)
{
	const uint8_t *p = k->subject;
	X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)k->subject_len);
	uint8_t md[32];
	char hex[65], subj[256] = "?";

	if (name != NULL)
		X509_NAME_oneline(name, subj, sizeof(subj));
	X509_NAME_free(name);
	if (!EVP_Digest(k->cert, k->cert_len, md, NULL, EVP_sha256(), NULL))
		memset(md, 0, sizeof(md));
	hex_encode(md, sizeof(md), hex);
	log_info(LOG_SIGNER, "key %s: certificate set: subject %s, sha256 %s",
	    k->id, subj, hex);
}

static int
op_setcert(struct srv *sv, int fd, const struct signer_wmsg *m)
{
	char id[SIGNER_KEYID_MAX + 1];
	struct rc_detail d = {""};
	struct signer_key *k, tmp;
	int rc;

	if (m->nf != 2)
		return reply_err(sv, fd, m->op, RC_PROTO, "malformed request");
	if (field_id(&m->f[0], id) != 0)
		return reply_err(sv, fd, m->op, RC_INVAL, "bad key id");
	if ((k = find(sv, id)) == NULL)
		return reply_err(sv, fd, m->op, RC_NOTFOUND, "no key %s", id);
	/* the CA core is not trusted with what the key's certificate says:
	 * verify it, then check and persist on a copy; k changes only when
	 * all worked */
	rc = signer_key_verify_cert(k, sv->keys, m->f[1].p, m->f[1].len, &d);
	tmp = *k;
	tmp.cert = NULL;
	tmp.subject = NULL;
	if (rc == 0)
		rc = signer_key_set_cert(&tmp, m->f[1].p, m->f[1].len, &d);
	if (rc != 0) {
		log_warn(LOG_SIGNER, "key %s: certificate refused: %s", id,
		    d.msg);
		return reply_err(sv, fd, m->op, rc, "%s", d.msg);
	}
	rc = signer_ks_save_cert(sv->ks, &tmp);
	if (rc != 0) {
		free(tmp.cert);
		return reply_err(sv, fd, m->op, rc, "key %s: cannot store the "
		    "certificate", id);
	}
	free(k->cert);
	k->cert = tmp.cert;
	k->cert_len = tmp.cert_len;
	k->subject = tmp.subject;
	k->subject_len = tmp.subject_len;
	log_cert(k);
	return reply(sv, fd, m->op, 0, NULL, 0);
}

/*
 * LOADKEY: a key made after the signer started (a `ca roll` by another
 * process) is loaded from the key store as at start, and only as an
 * issuing key with a certificate a root held here signed
 * (signer_ks_load_key). A key held already stays as it is; one held
 * without a certificate (made while the signer started, certified since)
 * gets the one in the key store now, checked the same way, if that is
 * still of its public key.
 */
static int
op_loadkey(struct srv *sv, int fd, const struct signer_wmsg *m)
{
	char id[SIGNER_KEYID_MAX + 1];
	struct rc_detail d = {""};
	struct signer_key *k = NULL, *have;
	int rc;

	if (m->nf != 1)
		return reply_err(sv, fd, m->op, RC_PROTO, "malformed request");
	if (field_id(&m->f[0], id) != 0)
		return reply_err(sv, fd, m->op, RC_INVAL, "bad key id");
	have = find(sv, id);
	if (have != NULL && have->cert != NULL)
		return reply(sv, fd, m->op, 0, NULL, 0);
	rc = signer_ks_load_key(sv->ks, id, sv->keys, &k, &d);
	if (rc == 0 && have != NULL && (have->spki_len != k->spki_len ||
	    memcmp(have->spki, k->spki, k->spki_len) != 0)) {
		rc_detail_set(&d, "key %s is held already, with another "
		    "public key than the key directory's now", id);
		rc = RC_SIGNER;
	} else if (rc == 0 && have != NULL && have->is_root) {
		/* a root held since start never takes an issuing key's
		 * certificate, whatever its role file says now */
		rc_detail_set(&d, "key %s is held already as a root key",
		    id);
		rc = RC_SIGNER;
	}
	if (rc != 0) {
		char said[sizeof(sv->refused)];

		snprintf(said, sizeof(said), "%s: %s", id,
		    rc_detail_str(&d, rc));
		if (strcmp(said, sv->refused) != 0)
			log_warn(LOG_SIGNER, "key %s: not loaded: %s", id,
			    rc_detail_str(&d, rc));
		memcpy(sv->refused, said, sizeof(said));
		signer_key_free(k);
		return reply_err(sv, fd, m->op, rc, "%s",
		    rc_detail_str(&d, rc));
	}
	if (have != NULL) {
		/* the certificate k's checks passed, for have's key */
		free(have->cert);
		have->cert = k->cert;
		have->cert_len = k->cert_len;
		have->subject = k->subject;
		have->subject_len = k->subject_len;
		k->cert = NULL;
		signer_key_free(k);
		k = have;
	} else {
		k->next = sv->keys;
		sv->keys = k;
	}
	sv->refused[0] = '\0';
	log_info(LOG_SIGNER, "key %s: in use from now on (asked for after "
	    "the start)", id);
	log_cert(k);
	return reply(sv, fd, m->op, 0, NULL, 0);
}

/*
 * SIGN: a key id, then 1 to SIGNER_SIGN_MAX (kind, TBS) pairs, all for that
 * key (a certificate and its first OCSP response in one round trip).
 * Every TBS is checked before any is signed: one refusal refuses all.
 * The reply carries the signatures in the order of the request.
 */
static int
op_sign(struct srv *sv, int fd, const struct signer_wmsg *m)
{
	char id[SIGNER_KEYID_MAX + 1];
	struct rc_detail d = {""};
	struct signer_field f[SIGNER_SIGN_MAX];
	struct signer_key *k;
	uint32_t kind[SIGNER_SIGN_MAX];
	int n, rc;

	if (m->nf < 3 || (m->nf - 1) % 2 != 0 ||
	    (n = (m->nf - 1) / 2) > SIGNER_SIGN_MAX)
		return reply_err(sv, fd, m->op, RC_PROTO, "malformed request");
	for (int i = 0; i < n; i++)
		if (signer_field_u32(&m->f[1 + 2 * i], &kind[i]) != 0)
			return reply_err(sv, fd, m->op, RC_PROTO,
			    "malformed request");
	if (field_id(&m->f[0], id) != 0)
		return reply_err(sv, fd, m->op, RC_INVAL, "bad key id");
	if ((k = find(sv, id)) == NULL)
		return reply_err(sv, fd, m->op, RC_NOTFOUND, "no key %s", id);
	for (int i = 0; i < n; i++) {
		const struct signer_field *t = &m->f[2 + 2 * i];

		rc = signer_check_tbs(k, sv->keys, (int)kind[i], t->p,
		    t->len, &d);
		if (rc != 0) {
			log_warn(LOG_SIGNER, "key %s: refused to sign: %s", id,
			    rc_detail_str(&d, rc));
			return reply_err(sv, fd, m->op, rc, "%s",
			    rc_detail_str(&d, rc));
		}
	}
	for (int i = 0; i < n; i++) {
		const struct signer_field *t = &m->f[2 + 2 * i];
		size_t sig_len = sizeof(sv->sig[i]);

		rc = signer_ks_sign(k, t->p, t->len, sv->sig[i], &sig_len);
		if (rc != 0)
			return reply_err(sv, fd, m->op, rc, "key %s: signing "
			    "failed", id);
		log_debug(LOG_SIGNER, "key %s: signed %zu bytes (kind %u)",
		    id, t->len, (unsigned)kind[i]);
		f[i].p = sv->sig[i];
		f[i].len = sig_len;
	}
	return reply(sv, fd, m->op, 0, f, n);
}

static int
op_diag(struct srv *sv, int fd, const struct signer_wmsg *m)
{
	struct signer_field f[10];
	uint8_t b[9][8], fds[32 * 4];
	int probe;
	struct __user_cap_header_struct ch = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct cd[_LINUX_CAPABILITY_U32S_3];
	struct rlimit rl = {0, 0};
	struct rusage ru;
	struct dirent *de;
	uint64_t us = 0;
	DIR *dir;
	int n = 0;

	if (m->nf != 0)
		return reply_err(sv, fd, m->op, RC_PROTO, "malformed request");
	(void)getrlimit(RLIMIT_CORE, &rl);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		us = (uint64_t)ru.ru_utime.tv_sec * 1000000 +
		    (uint64_t)ru.ru_utime.tv_usec +
		    (uint64_t)ru.ru_stime.tv_sec * 1000000 +
		    (uint64_t)ru.ru_stime.tv_usec;
	signer_put_u32(b[0], (uint32_t)prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	signer_put_u64(b[1], (uint64_t)rl.rlim_cur);
	signer_put_u64(b[2], (uint64_t)rl.rlim_max);
	signer_put_u32(b[3], (uint32_t)prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0,
	    0));
	signer_put_u32(b[4], (uint32_t)prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
	signer_put_u64(b[5], us);
	dir = opendir("/proc/self/fd");
	while (dir != NULL && (de = readdir(dir)) != NULL && n < 32) {
		int v;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		v = atoi(de->d_name);
		if (v == dirfd(dir))
			continue;
		signer_put_u32(fds + 4 * n++, (uint32_t)v);
	}
	if (dir != NULL)
		closedir(dir);
	f[0] = (struct signer_field){b[0], 4};
	f[1] = (struct signer_field){b[1], 8};
	f[2] = (struct signer_field){b[2], 8};
	f[3] = (struct signer_field){b[3], 4};
	f[4] = (struct signer_field){b[4], 4};
	f[5] = (struct signer_field){b[5], 8};
	f[6] = (struct signer_field){fds, (size_t)n * 4};
	/* what the filter and the dropped capabilities leave: a chmod (of
	 * a name that is nowhere: ENOENT if allowed, EPERM if filtered;
	 * in tests this runs in a thread of the test too) and the
	 * effective set */
	signer_put_u32(b[6], fchmodat(AT_FDCWD, "/nonexistent/certdesk-probe",
	    0700, 0) == 0 ? 0 : (uint32_t)errno);
	memset(cd, 0, sizeof(cd));
	(void)syscall(SYS_capget, &ch, cd);
	signer_put_u64(b[7], (uint64_t)cd[1].effective << 32 |
	    cd[0].effective);
	f[7] = (struct signer_field){b[6], 4};
	f[8] = (struct signer_field){b[7], 8};
	/* and a write outside the key directory (Landlock) */
	probe = open("/dev/null", O_WRONLY | O_CLOEXEC);
	signer_put_u32(b[8], probe >= 0 ? 0 : (uint32_t)errno);
	if (probe >= 0)
		close(probe);
	f[9] = (struct signer_field){b[8], 4};
	return reply(sv, fd, m->op, 0, f, 10);
}

/* Throws away whatever is queued on fd (after a frame that cannot be
 * delimited). */
static void
drain(struct srv *sv, int fd)
{
	signer_reader_reset(&sv->rd);
	for (;;) {
		ssize_t r = recv(fd, sv->rd.buf, 4 + (size_t)SIGNER_MAX_MSG,
		    MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
	}
}

static int
op_health(struct srv *sv, int fd, const struct signer_wmsg *m)
{
	struct rc_detail d = {""};
	int rc;

	if (m->nf != 0)
		return reply_err(sv, fd, m->op, RC_PROTO, "HEALTH takes no "
		    "fields");
	rc = signer_ks_health(sv->ks, &d);
	if (rc != 0)
		return reply_err(sv, fd, m->op, rc, "%s", d.msg);
	return reply(sv, fd, m->op, 0, NULL, 0);
}

static int
serve(struct srv *sv, int fd)
{
	for (;;) {
		struct signer_wmsg m;
		const uint8_t *msg;
		size_t len;
		int rc;

		rc = signer_wire_read(fd, &sv->rd, &msg, &len,
		    SIGNER_FRAME_TIMEOUT_MS);
		if (rc == RC_NOTFOUND)
			return 0;	/* the parent closed the channel */
		if (rc == RC_PROTO) {
			log_warn(LOG_SIGNER, "request: unreadable frame; "
			    "discarding queued input");
			drain(sv, fd);
			rc = reply_err(sv, fd, SIGNER_OP_BAD, RC_PROTO,
			    "unreadable frame");
		} else if (rc != 0) {
			return rc;
		} else if (signer_wire_parse(msg, len, &m) != 0) {
			log_warn(LOG_SIGNER, "request: malformed message");
			rc = reply_err(sv, fd, msg[0], RC_PROTO,
			    "malformed message");
		} else if (sv->sign_only && (m.op == SIGNER_OP_GENKEY ||
		    m.op == SIGNER_OP_SETCERT)) {
			log_warn(LOG_SIGNER, "request: refused a %s from a "
			    "process that may only sign", m.op ==
			    SIGNER_OP_GENKEY ? "new key" : "key's certificate");
			rc = reply_err(sv, fd, m.op, RC_POLICY, "this signer "
			    "only signs: keys and their certificates are made "
			    "by init, ca roll and restore");
		} else {
			switch (m.op) {
			case SIGNER_OP_GENKEY:
				rc = op_genkey(sv, fd, &m);
				break;
			case SIGNER_OP_KEYINFO:
				rc = op_keyinfo(sv, fd, &m);
				break;
			case SIGNER_OP_SETCERT:
				rc = op_setcert(sv, fd, &m);
				break;
			case SIGNER_OP_SIGN:
				rc = op_sign(sv, fd, &m);
				break;
			case SIGNER_OP_DIAG:
				rc = op_diag(sv, fd, &m);
				break;
			case SIGNER_OP_HEALTH:
				rc = op_health(sv, fd, &m);
				break;
			case SIGNER_OP_LOADKEY:
				rc = op_loadkey(sv, fd, &m);
				break;
			default:
				log_warn(LOG_SIGNER, "request: unknown op %u",
				    (unsigned)m.op);
				rc = reply_err(sv, fd, m.op, RC_PROTO,
				    "unknown op %u", (unsigned)m.op);
				break;
			}
		}
		if (rc != 0)
			return rc;	/* cannot reply: the peer is gone */
	}
}

int
signer_srv_run(int fd, const struct signer_conf *c)
{
	struct srv sv;
	struct signer_field f;
	uint8_t nb[4];
	int rc, n = 0;

	memset(&sv, 0, sizeof(sv));
	sv.sign_only = c->sign_only;
	sv.rd.buf = xmalloc(4 + SIGNER_MAX_MSG);
	sv.out = xmalloc(4 + SIGNER_MAX_MSG);
	rc = signer_ks_open_conf(c, &sv.ks);
	if (rc == 0)
		rc = signer_ks_load(sv.ks, &sv.keys);
	for (struct signer_key *k = sv.keys; k != NULL; k = k->next)
		n++;
	if (rc != 0) {
		(void)reply_err(&sv, fd, SIGNER_OP_HELLO, rc, "cannot load "
		    "keys");
		goto out;
	}
	log_info(LOG_SIGNER, "signer ready with %d keys", n);
	signer_put_u32(nb, (uint32_t)n);
	f.p = nb;
	f.len = 4;
	rc = reply(&sv, fd, SIGNER_OP_HELLO, 0, &f, 1);
	if (rc == 0)
		rc = serve(&sv, fd);
out:
	while (sv.keys != NULL) {
		struct signer_key *k = sv.keys;

		sv.keys = k->next;
		signer_key_free(k);
	}
	signer_ks_close(sv.ks);
	free(sv.rd.buf);
	free(sv.out);
	return rc;
}

/* ---- hardening ---------------------------------------------------------- */

/*
 * A deny list rather than an allow list: the signer writes key files, runs a
 * PKCS#11 module and runs under sanitizers in tests, so the set of syscalls it
 * needs is not small and stable; what it must never do is run programs, open
 * network connections, inspect other processes, or, run as root (which it is
 * when root owns the keys), change who owns or may run a file (a setuid copy of
 * a shell), link files, or change its own identity. It makes its own files with
 * the mode they need (umask 077), so it needs no chmod. Denied calls fail with
 * EPERM. The first NET_CALLS are the network: a signer with a PKCS#11 module
 * may need them, since a network HSM's module talks to the HSM from inside the
 * signer.
 */
#define NET_CALLS 7
static const int denied[] = {
	SYS_socket, SYS_socketpair, SYS_connect, SYS_bind, SYS_listen,
	SYS_accept, SYS_accept4,
	SYS_execve, SYS_execveat, SYS_ptrace, SYS_process_vm_readv,
	SYS_process_vm_writev, SYS_mount,
	SYS_umount2, SYS_pivot_root, SYS_chroot, SYS_setns, SYS_unshare,
	SYS_keyctl, SYS_add_key, SYS_request_key, SYS_bpf,
	SYS_perf_event_open, SYS_userfaultfd, SYS_open_by_handle_at,
	SYS_name_to_handle_at, SYS_init_module, SYS_finit_module,
	SYS_delete_module, SYS_kexec_load, SYS_reboot, SYS_swapon,
	SYS_swapoff, SYS_personality,
	SYS_fchmod, SYS_fchmodat, SYS_fchown, SYS_fchownat, SYS_linkat,
	SYS_symlinkat, SYS_mknodat, SYS_setuid, SYS_setgid,
	SYS_setreuid, SYS_setregid, SYS_setresuid, SYS_setresgid,
	SYS_setgroups, SYS_setfsuid, SYS_setfsgid, SYS_capset,
#ifdef SYS_fchmodat2
	SYS_fchmodat2,
#endif
#ifdef SYS_chmod	/* the calls without "at" (not on aarch64) */
	SYS_chmod, SYS_chown, SYS_lchown, SYS_link, SYS_symlink, SYS_mknod,
#endif
#ifdef SYS_pidfd_getfd
	SYS_pidfd_getfd,
#endif
#ifdef SYS_pidfd_open
	SYS_pidfd_open,
#endif
#ifdef SYS_fork
	SYS_fork,
#endif
#ifdef SYS_vfork
	SYS_vfork,
#endif
	/* io_uring would open sockets and files past this filter */
#ifdef SYS_io_uring_setup
	SYS_io_uring_setup,
#endif
#ifdef SYS_io_uring_enter
	SYS_io_uring_enter,
#endif
#ifdef SYS_io_uring_register
	SYS_io_uring_register,
#endif
	/* clone stays: threads need it (a PKCS#11 module may start some),
	 * and a child made with it can do no more than the signer, since
	 * execve is denied */
};

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

static int
install_seccomp(int allow_net)
{
#ifdef SECCOMP_ARCH
	enum { NALL = sizeof(denied) / sizeof(denied[0]) };
	const int *list = allow_net ? denied + NET_CALLS : denied;
	unsigned ndeny = allow_net ? NALL - NET_CALLS : NALL;
	struct sock_filter f[NALL + 8];
	struct sock_fprog prog;
	unsigned n = 0, deny_at;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
	    SECCOMP_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr));
	/* instructions: the checks, then ALLOW, then DENY */
	deny_at = n + ndeny + 1;
#if defined(__x86_64__)
	deny_at++;
	/* x32 syscall numbers would slip past the list */
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
	    0x40000000, (uint8_t)(deny_at - n - 1), 0);
	n++;
#endif
	for (unsigned i = 0; i < ndeny; i++, n++)
		f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    (uint32_t)list[i], (uint8_t)(deny_at - n - 1), 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
	    SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	if (n != deny_at + 1)
		return RC_ERR;
	prog.len = (unsigned short)n;
	prog.filter = f;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0)
		return RC_ERR;
	return 0;
#else
	(void)allow_net;
	return RC_ERR;
#endif
}

/* Makes fd 3 the socket and 0 and 1 /dev/null (2 too if it was not
 * open, or was the socket itself), and closes everything else: the
 * parent's database, log files and listening sockets. Returns 3. */
static int
close_fds(int fd)
{
	int null;

	if (fd != 3 && dup2(fd, 3) != 3)
		return -1;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return -1;
	for (int i = 0; i <= 2; i++) {
		if (i == 2 && fd != 2 && fcntl(2, F_GETFD) != -1)
			continue;	/* keep stderr: the log */
		if (null != i && dup2(null, i) != i)
			return -1;
	}
	if (syscall(SYS_close_range, 4U, ~0U, 0U) != 0) {
		long max = sysconf(_SC_OPEN_MAX);

		for (long i = 4; i < (max > 0 ? max : 1024); i++)
			close((int)i);
	}
	return 3;
}

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)	/* Landlock ABI 3 */
#endif

/*
 * Landlock: from here on the process may create, write, truncate, remove,
 * rename or link files only beneath its working directory (the key
 * directory); reading stays as it was. Even run as root, code that
 * subverted the signer cannot write root's files elsewhere (/etc/passwd,
 * certdesk.conf). 0, also on a kernel without Landlock (nothing to do
 * then; the log says so); -1 with errno.
 */
static int
confine_writes(void)
{
	struct landlock_ruleset_attr ra;
	struct landlock_path_beneath_attr pb;
	uint64_t w = LANDLOCK_ACCESS_FS_WRITE_FILE |
	    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
	    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
	    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
	    LANDLOCK_ACCESS_FS_MAKE_SYM;
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	int rs, here, rc;

	if (abi < 1) {
		log_info(LOG_SIGNER, "start: no Landlock in this kernel: its "
		    "writes are not confined to the key directory");
		return 0;
	}
	if (abi >= 2)
		w |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		w |= LANDLOCK_ACCESS_FS_TRUNCATE;
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = w;
	rs = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0);
	if (rs < 0)
		return -1;
	here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = w;
	pb.parent_fd = here;
	rc = here >= 0 && syscall(SYS_landlock_add_rule, rs,
	    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == 0 &&
	    syscall(SYS_landlock_restrict_self, rs, 0) == 0 ? 0 : -1;
	if (here >= 0)
		close(here);
	close(rs);
	return rc;
}

/* Empties the bounding, ambient, effective, permitted and inheritable
 * sets: 0, or -1 with errno. */
static int
drop_caps(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];

	/* the bounding set only with CAP_SETPCAP (a service manager may
	 * have left it out): without it, what matters is that the sets
	 * below are empty, and execve, which the bounding set limits, is
	 * denied anyway */
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
		    errno != EPERM)
			return -1;
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(none, 0, sizeof(none));
	return (int)syscall(SYS_capset, &h, none);
}

void
signer_proc_main(int fd, int keyfd, const struct signer_conf *c, uid_t uid,
    gid_t gid, pid_t parent)
{
	static const int to_default[] = {SIGTERM, SIGCHLD, SIGALRM, SIGUSR1,
	    SIGUSR2, SIGQUIT};
	struct rlimit no_core = {0, 0};
	struct signer_conf here;
	sigset_t all;
	int rc;

	/* the key directory's owner, before anything is read; first, since
	 * a change of user clears PR_SET_PDEATHSIG and dumpable */
	if (c->as_owner && (setgroups(1, &gid) != 0 || setgid(gid) != 0 ||
	    setuid(uid) != 0 || (uid != 0 && setuid(0) == 0))) {
		log_err(LOG_SIGNER, "start: cannot become uid %ld gid %ld, the "
		    "owner of %s: %s", (long)uid, (long)gid, c->keydir,
		    strerror(errno));
		_exit(1);
	}
	/* into the directory the parent opened and checked, as its owner */
	if (fchdir(keyfd) != 0) {
		log_err(LOG_SIGNER, "start: cannot go into %s: %s", c->keydir,
		    strerror(errno));
		_exit(1);
	}
	close(keyfd);
	fd = close_fds(fd);
	if (fd < 0) {
		log_err(LOG_SIGNER, "start: cannot set up file descriptors");
		_exit(1);
	}
	/* its files are its own alone, without a chmod (denied below) */
	umask(077);
	/* root's keys need no privilege to be read (root owns them): none
	 * is kept, so a signer that is subverted cannot use one */
	if (geteuid() == 0 && drop_caps() != 0) {
		log_err(LOG_SIGNER, "start: cannot drop capabilities: %s",
		    strerror(errno));
		_exit(1);
	}
	/* in the key directory, opened once by the parent where it checked
	 * it: keys are read from here, by relative names, whatever the
	 * directories above it are (a data directory closed to the keys'
	 * owner) or become */
	here = *c;
	here.keydir = ".";
	c = &here;
	/* die with the parent; if it is already gone, so are we */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0 ||
	    getppid() != parent)
		_exit(1);
	/* no core file, no ptrace or /proc/pid/mem by same-uid processes */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    setrlimit(RLIMIT_CORE, &no_core) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		log_err(LOG_SIGNER, "start: cannot harden the process: %s",
		    strerror(errno));
		_exit(1);
	}
	/* the parent's handlers mean nothing here; a terminal ^C or hangup
	 * is for the daemon, which closes our socket when it is done */
	for (size_t i = 0; i < sizeof(to_default) / sizeof(to_default[0]); i++)
		signal(to_default[i], SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* with keys as files, it writes nowhere but in its key directory
	 * (a PKCS#11 module writes where its vendor decided: not then) */
	if ((c->pkcs11_module == NULL || c->pkcs11_module[0] == '\0') &&
	    confine_writes() != 0) {
		log_err(LOG_SIGNER, "start: cannot confine its writes to the "
		    "key directory: %s", strerror(errno));
		_exit(1);
	}
	if (install_seccomp(c->pkcs11_module != NULL &&
	    c->pkcs11_module[0] != '\0') != 0)
		log_warn(LOG_SIGNER, "start: no seccomp filter: %s",
		    strerror(errno));
	rc = signer_srv_run(fd, c);
	_exit(rc == 0 ? 0 : 1);
}
