/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signer's client side: signer_spawn() forks the signer process and
 * keeps one end of a socketpair; the signer_* calls of signer.h encode a
 * request, wait for the reply and decode it. Also the wire framing shared
 * with the server (signer_int.h describes the protocol).
 *
 * Runs in the daemon (the parent). Trusts the signer to answer honestly but
 * not to be well: a reply that does not parse, or a dead child, marks the
 * handle broken and every later call returns RC_SIGNER. Requests are
 * serialised by a mutex; the handle keeps one buffer for requests and one
 * for replies, so a call allocates only what it returns.
 */
#include "signer/signer_int.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REAP_WAIT_MS 2000

struct signer {
	pthread_mutex_t mu;
	int fd;
	pid_t pid;		/* -1 when attached in-process */
	int dead;		/* the channel is unusable: RC_SIGNER */
	char ended[80];		/* how the child ended, once reaped */
	uint8_t *out;		/* 4 + SIGNER_MAX_MSG: the request */
	struct signer_reader rd;	/* the replies */
};

/* ---- framing (shared with the server) -------------------------------- */

void
signer_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
signer_put_u64(uint8_t *p, uint64_t v)
{
	signer_put_u32(p, (uint32_t)(v >> 32));
	signer_put_u32(p + 4, (uint32_t)v);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int
signer_field_u32(const struct signer_field *f, uint32_t *v)
{
	if (f->len != 4)
		return RC_PROTO;
	*v = get_u32(f->p);
	return 0;
}

int
signer_field_u64(const struct signer_field *f, uint64_t *v)
{
	if (f->len != 8)
		return RC_PROTO;
	*v = (uint64_t)get_u32(f->p) << 32 | get_u32(f->p + 4);
	return 0;
}

int
signer_wire_encode(uint8_t *out, size_t *out_len, uint8_t op,
    const struct signer_field *f, int nf)
{
	size_t total = 1, pos;

	if (nf < 0 || nf > SIGNER_WIRE_MAX_FIELDS)
		return RC_INVAL;
	for (int i = 0; i < nf; i++) {
		if (f[i].len > SIGNER_MAX_MSG)
			return RC_TOOBIG;
		total += 4 + f[i].len;
		if (total > SIGNER_MAX_MSG)
			return RC_TOOBIG;
	}
	signer_put_u32(out, (uint32_t)total);
	out[4] = op;
	pos = 5;
	for (int i = 0; i < nf; i++) {
		signer_put_u32(out + pos, (uint32_t)f[i].len);
		pos += 4;
		if (f[i].len > 0)
			memcpy(out + pos, f[i].p, f[i].len);
		pos += f[i].len;
	}
	*out_len = pos;
	return 0;
}

int
signer_wire_parse(const uint8_t *msg, size_t len, struct signer_wmsg *m)
{
	size_t pos = 1;

	if (len < 1)
		return RC_PROTO;
	m->op = msg[0];
	m->nf = 0;
	while (pos < len) {
		size_t flen;

		if (len - pos < 4 || m->nf == SIGNER_WIRE_MAX_FIELDS)
			return RC_PROTO;
		flen = get_u32(msg + pos);
		pos += 4;
		if (flen > len - pos)
			return RC_PROTO;
		m->f[m->nf].p = msg + pos;
		m->f[m->nf].len = flen;
		m->nf++;
		pos += flen;
	}
	return 0;
}

void
signer_reader_reset(struct signer_reader *r)
{
	r->have = 0;
	r->used = 0;
}

/* Waits up to timeout_ms for fd to be readable: 0 ready, RC_PROTO on
 * timeout, RC_IO on error. */
static int
wait_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	int pr;

	do
		pr = poll(&pfd, 1, timeout_ms);
	while (pr < 0 && errno == EINTR);
	if (pr == 0)
		return RC_PROTO;
	return pr < 0 ? RC_IO : 0;
}

int
signer_wire_read(int fd, struct signer_reader *r, const uint8_t **msg,
    size_t *len, int frame_timeout_ms)
{
	const size_t cap = 4 + (size_t)SIGNER_MAX_MSG;

	if (r->used > 0) {
		memmove(r->buf, r->buf + r->used, r->have - r->used);
		r->have -= r->used;
		r->used = 0;
	}
	for (;;) {
		ssize_t got;
		int flags = 0, rc;

		if (r->have >= 4) {
			uint32_t n = get_u32(r->buf);

			if (n == 0 || n > SIGNER_MAX_MSG)
				return RC_PROTO;
			if (r->have >= 4 + (size_t)n) {
				*msg = r->buf + 4;
				*len = n;
				r->used = 4 + (size_t)n;
				return 0;
			}
		}
		/* between frames we may wait forever; inside one, not */
		if (frame_timeout_ms >= 0 && r->have > 0)
			flags = MSG_DONTWAIT;
		got = recv(fd, r->buf + r->have, cap - r->have, flags);
		if (got > 0) {
			r->have += (size_t)got;
			continue;
		}
		if (got == 0)
			return r->have == 0 ? RC_NOTFOUND : RC_IO;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return RC_IO;
		if ((rc = wait_readable(fd, frame_timeout_ms)) != 0)
			return rc;
	}
}

int
signer_wire_write(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return RC_IO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- the handle ------------------------------------------------------- */

static void
msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Waits up to ms for pid to exit; 1 when reaped. */
static int
wait_for(pid_t pid, int ms)
{
	for (int waited = 0;; waited += 5) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD))
			return 1;
		if (r < 0 && errno != EINTR)
			return 1;
		if (waited >= ms)
			return 0;
		msleep(5);
	}
}

/* Reaps the child; it exits by itself once its socket is closed. */
static void
reap(pid_t pid)
{
	if (pid <= 0)
		return;
	if (wait_for(pid, REAP_WAIT_MS))
		return;
	log_warn(LOG_SIGNER, "signer %ld did not exit; sending SIGTERM",
	    (long)pid);
	kill(pid, SIGTERM);
	kill(pid, SIGCONT);	/* a stopped child would never see it */
	if (wait_for(pid, REAP_WAIT_MS))
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static void
broken(struct signer *s, const char *why)
{
	if (!s->dead)
		log_err(LOG_SIGNER, "signer channel: %s", why);
	s->dead = 1;
}

/* The reply's rc (field 0) and, on failure, its reason into d. */
static int
reply_rc(struct signer *s, const struct signer_wmsg *m, int *rc,
    struct rc_detail *d)
{
	uint32_t v;
	int32_t r;

	if (m->nf < 1 || signer_field_u32(&m->f[0], &v) != 0) {
		broken(s, "reply without a status");
		return RC_SIGNER;
	}
	r = (int32_t)v;
	if (r > 0 || r <= RC_LAST_) {
		broken(s, "reply with an unknown status");
		return RC_SIGNER;
	}
	*rc = r;
	if (r != 0 && d != NULL) {
		if (m->nf >= 2 && m->f[1].len > 0)
			rc_detail_set(d, "%.*s",
			    (int)(m->f[1].len > 250 ? 250 : m->f[1].len),
			    (const char *)m->f[1].p);
		else
			rc_detail_set(d, "%s", rc_str(r));
	}
	return 0;
}

/*
 * One round trip; s->mu is held. On 0, *m points into s->rd until the
 * next call. Returns the reply's rc, RC_TOOBIG for a request too large to
 * send, or RC_SIGNER when the channel failed.
 */
static int
call(struct signer *s, uint8_t op, const struct signer_field *f, int nf,
    struct signer_wmsg *m, struct rc_detail *d)
{
	const uint8_t *msg;
	size_t n;
	int rc;

	if (s->dead) {
		rc_detail_set(d, "signer is not running");
		return RC_SIGNER;
	}
	rc = signer_wire_encode(s->out, &n, op, f, nf);
	if (rc != 0) {
		rc_detail_set(d, "request over %d bytes", SIGNER_MAX_MSG);
		return rc;
	}
	if (signer_wire_write(s->fd, s->out, n) != 0) {
		broken(s, "write failed (signer gone?)");
		rc_detail_set(d, "signer is not running");
		return RC_SIGNER;
	}
	rc = signer_wire_read(s->fd, &s->rd, &msg, &n, -1);
	if (rc != 0) {
		broken(s, rc == RC_NOTFOUND || rc == RC_IO ?
		    "signer closed the channel" : "unreadable reply");
		rc_detail_set(d, "signer is not running");
		return RC_SIGNER;
	}
	if (signer_wire_parse(msg, n, m) != 0 || m->op != op) {
		broken(s, "malformed reply");
		rc_detail_set(d, "signer is not running");
		return RC_SIGNER;
	}
	if (reply_rc(s, m, &rc, d) != 0) {
		rc_detail_set(d, "signer is not running");
		return RC_SIGNER;
	}
	return rc;
}

int
signer_attach(int fd, pid_t pid, struct signer **out)
{
	struct signer *s = xcalloc(1, sizeof(*s));
	struct signer_wmsg m;
	const uint8_t *msg;
	uint32_t nkeys = 0;
	size_t n;
	int rc, status;

	*out = NULL;
	pthread_mutex_init(&s->mu, NULL);
	s->fd = fd;
	s->pid = pid;
	s->out = xmalloc(4 + SIGNER_MAX_MSG);
	s->rd.buf = xmalloc(4 + SIGNER_MAX_MSG);
	rc = signer_wire_read(fd, &s->rd, &msg, &n, -1);
	if (rc != 0 || signer_wire_parse(msg, n, &m) != 0 ||
	    m.op != SIGNER_OP_HELLO) {
		log_err(LOG_SIGNER, "signer did not start");
		rc = RC_SIGNER;
		goto out;
	}
	if (reply_rc(s, &m, &status, NULL) != 0) {
		rc = RC_SIGNER;
		goto out;
	}
	if (status != 0) {
		log_err(LOG_SIGNER, "signer failed to start: %s",
		    rc_str(status));
		rc = status;
		goto out;
	}
	if (m.nf >= 2)
		(void)signer_field_u32(&m.f[1], &nkeys);
	log_debug(LOG_SIGNER, "signer %ld up with %u keys", (long)pid,
	    (unsigned)nkeys);
	*out = s;
	s = NULL;
	rc = 0;
out:
	signer_free(s);
	return rc;
}

int
signer_spawn(const char *keydir, struct signer **out)
{
	struct signer_conf c = {.keydir = keydir};

	return signer_spawn_conf(&c, out);
}

int
signer_spawn_conf(const struct signer_conf *c, struct signer **out)
{
	const char *keydir = c->keydir;
	struct stat st;
	pid_t parent = getpid(), pid;
	int sv[2], kfd;

	*out = NULL;
	/* the directory is opened once: the one whose owner and mode are
	 * checked here is the one the signer reads from (it goes into it),
	 * whatever is renamed meanwhile. O_PATH: root, without the
	 * capabilities to read a directory of another user's, may open
	 * keys of a user of their own; the signer goes into it as them */
	kfd = keydir == NULL ? -1 :
	    open(keydir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (kfd < 0 || fstat(kfd, &st) != 0) {
		log_err(LOG_SIGNER, "key directory %s: %s",
		    keydir ? keydir : "(none)", strerror(errno));
		if (kfd >= 0)
			close(kfd);
		return RC_CONFIG;
	}
	if ((st.st_mode & 077) != 0) {
		log_err(LOG_SIGNER, "key directory %s: accessible by group or "
		    "others (mode %04o, must be 0700)", keydir,
		    (unsigned)(st.st_mode & 07777));
		close(kfd);
		return RC_CONFIG;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		log_err(LOG_SIGNER, "socketpair: %s", strerror(errno));
		close(kfd);
		return RC_IO;
	}
	pid = fork();
	if (pid < 0) {
		log_err(LOG_SIGNER, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		close(kfd);
		return RC_SIGNER;
	}
	if (pid == 0) {
		close(sv[0]);
		signer_proc_main(sv[1], kfd, c, c->as_owner ? st.st_uid :
		    getuid(), c->as_owner ? st.st_gid : getgid(), parent);
	}
	close(kfd);
	close(sv[1]);
	return signer_attach(sv[0], pid, out);
}

pid_t
signer_pid(const struct signer *s)
{
	return s->pid > 0 ? s->pid : 0;
}

void
signer_free(struct signer *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);	/* the child sees EOF and exits */
	reap(s->pid);
	pthread_mutex_destroy(&s->mu);
	free(s->out);
	free(s->rd.buf);
	free(s);
}

int
signer_running(struct signer *s, char *why, size_t n)
{
	int status = 0, running;
	pid_t r;

	pthread_mutex_lock(&s->mu);
	if (s->pid > 0 && (r = waitpid(s->pid, &status, WNOHANG)) != 0 &&
	    (r == s->pid || errno == ECHILD)) {
		if (r != s->pid)	/* SIGCHLD ignored: reaped already */
			snprintf(s->ended, sizeof(s->ended), "ended");
		else if (WIFSIGNALED(status))
			snprintf(s->ended, sizeof(s->ended), "was killed by "
			    "signal %d (%s)", WTERMSIG(status),
			    strsignal(WTERMSIG(status)));
		else
			snprintf(s->ended, sizeof(s->ended), "exited with "
			    "status %d", WEXITSTATUS(status));
		s->pid = 0;	/* reaped: nothing for signer_free() */
		broken(s, "the signer process ended");
	}
	running = !s->dead;
	if (!running && why != NULL && n > 0)
		snprintf(why, n, "%s", s->ended[0] ? s->ended :
		    "its channel broke");
	pthread_mutex_unlock(&s->mu);
	return running;
}

pid_t
signer_child_pid(const struct signer *s)
{
	return s->pid;
}

static void
set_u32_field(struct signer_field *f, uint8_t *store, uint32_t v)
{
	signer_put_u32(store, v);
	f->p = store;
	f->len = 4;
}

int
signer_genkey(struct signer *s, const char *key_id, int keytype,
    int is_root, uint8_t **spki, size_t *spki_len)
{
	struct signer_field f[3];
	struct signer_wmsg m;
	uint8_t t[4], r[4];
	int rc;

	*spki = NULL;
	*spki_len = 0;
	if (s == NULL || !signer_keyid_valid(key_id))
		return RC_INVAL;
	f[0].p = (const uint8_t *)key_id;
	f[0].len = strlen(key_id);
	set_u32_field(&f[1], t, (uint32_t)keytype);
	set_u32_field(&f[2], r, is_root ? 1 : 0);
	pthread_mutex_lock(&s->mu);
	rc = call(s, SIGNER_OP_GENKEY, f, 3, &m, NULL);
	if (rc == 0) {
		if (m.nf != 2 || m.f[1].len == 0) {
			broken(s, "malformed genkey reply");
			rc = RC_SIGNER;
		} else {
			*spki = xmemdup(m.f[1].p, m.f[1].len);
			*spki_len = m.f[1].len;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
signer_health(struct signer *s, struct rc_detail *d)
{
	struct signer_wmsg m;
	int rc;

	if (s == NULL)
		return RC_INVAL;
	pthread_mutex_lock(&s->mu);
	rc = call(s, SIGNER_OP_HEALTH, NULL, 0, &m, d);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
signer_key_info(struct signer *s, const char *key_id, int *keytype,
    uint8_t **spki, size_t *spki_len)
{
	struct signer_field f;
	struct signer_wmsg m;
	uint32_t t;
	int rc;

	*spki = NULL;
	*spki_len = 0;
	if (s == NULL || !signer_keyid_valid(key_id))
		return RC_INVAL;
	f.p = (const uint8_t *)key_id;
	f.len = strlen(key_id);
	pthread_mutex_lock(&s->mu);
	rc = call(s, SIGNER_OP_KEYINFO, &f, 1, &m, NULL);
	if (rc == 0) {
		if (m.nf != 3 || signer_field_u32(&m.f[1], &t) != 0 ||
		    m.f[2].len == 0) {
			broken(s, "malformed key info reply");
			rc = RC_SIGNER;
		} else {
			*keytype = (int)t;
			*spki = xmemdup(m.f[2].p, m.f[2].len);
			*spki_len = m.f[2].len;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
signer_load_key(struct signer *s, const char *key_id, struct rc_detail *d)
{
	struct signer_field f;
	struct signer_wmsg m;
	int rc;

	if (s == NULL || !signer_keyid_valid(key_id)) {
		rc_detail_set(d, "bad key id");
		return RC_INVAL;
	}
	f.p = (const uint8_t *)key_id;
	f.len = strlen(key_id);
	pthread_mutex_lock(&s->mu);
	rc = call(s, SIGNER_OP_LOADKEY, &f, 1, &m, d);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
signer_set_cert(struct signer *s, const char *key_id, const uint8_t *der,
    size_t len)
{
	struct signer_field f[2];
	struct signer_wmsg m;
	struct rc_detail d = {""};
	int rc;

	if (s == NULL || !signer_keyid_valid(key_id) || der == NULL)
		return RC_INVAL;
	f[0].p = (const uint8_t *)key_id;
	f[0].len = strlen(key_id);
	f[1].p = der;
	f[1].len = len;
	pthread_mutex_lock(&s->mu);
	rc = call(s, SIGNER_OP_SETCERT, f, 2, &m, &d);
	pthread_mutex_unlock(&s->mu);
	if (rc != 0)
		log_err(LOG_SIGNER, "key %s: set certificate: %s", key_id,
		    rc_detail_str(&d, rc));
	return rc;
}

int
signer_sign_many(struct signer *s, const char *key_id, size_t n,
    struct signer_tbs *tbs, struct rc_detail *d)
{
	struct signer_field f[1 + 2 * SIGNER_SIGN_MAX];
	struct signer_wmsg m;
	uint8_t k[SIGNER_SIGN_MAX][4];
	int rc;

	for (size_t i = 0; i < n && tbs != NULL; i++) {
		tbs[i].sig = NULL;
		tbs[i].sig_len = 0;
	}
	if (s == NULL || !signer_keyid_valid(key_id)) {
		rc_detail_set(d, "bad key id");
		return RC_INVAL;
	}
	if (tbs == NULL || n == 0 || n > SIGNER_SIGN_MAX) {
		rc_detail_set(d, "1 to %d documents per request",
		    SIGNER_SIGN_MAX);
		return RC_INVAL;
	}
	f[0].p = (const uint8_t *)key_id;
	f[0].len = strlen(key_id);
	for (size_t i = 0; i < n; i++) {
		if (tbs[i].tbs == NULL && tbs[i].len != 0)
			return RC_INVAL;
		set_u32_field(&f[1 + 2 * i], k[i], (uint32_t)tbs[i].kind);
		f[2 + 2 * i].p = tbs[i].tbs;
		f[2 + 2 * i].len = tbs[i].len;
	}
	pthread_mutex_lock(&s->mu);
	rc = call(s, SIGNER_OP_SIGN, f, 1 + 2 * (int)n, &m, d);
	if (rc == 0) {
		int ok = m.nf == 1 + (int)n;

		for (size_t i = 0; ok && i < n; i++)
			ok = m.f[1 + i].len > 0;
		if (!ok) {
			broken(s, "malformed sign reply");
			rc_detail_set(d, "signer is not running");
			rc = RC_SIGNER;
		} else {
			for (size_t i = 0; i < n; i++) {
				tbs[i].sig = xmemdup(m.f[1 + i].p,
				    m.f[1 + i].len);
				tbs[i].sig_len = m.f[1 + i].len;
			}
		}
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
signer_sign(struct signer *s, const char *key_id, int kind,
    const uint8_t *tbs, size_t len, uint8_t **sig, size_t *sig_len,
    struct rc_detail *d)
{
	struct signer_tbs t = {kind, tbs, len, NULL, 0};
	int rc;

	rc = signer_sign_many(s, key_id, 1, &t, d);
	*sig = t.sig;
	*sig_len = t.sig_len;
	return rc;
}

int
signer_diag(struct signer *s, struct signer_diag *out)
{
	struct signer_wmsg m;
	uint32_t dumpable, nnp, secc, cherr, werr;
	int rc;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->mu);
	rc = call(s, SIGNER_OP_DIAG, NULL, 0, &m, NULL);
	if (rc == 0) {
		if (m.nf != 11 || signer_field_u32(&m.f[1], &dumpable) != 0 ||
		    signer_field_u64(&m.f[2], &out->core_cur) != 0 ||
		    signer_field_u64(&m.f[3], &out->core_max) != 0 ||
		    signer_field_u32(&m.f[4], &nnp) != 0 ||
		    signer_field_u32(&m.f[5], &secc) != 0 ||
		    signer_field_u64(&m.f[6], &out->cpu_us) != 0 ||
		    m.f[7].len % 4 != 0 || m.f[7].len / 4 > 32 ||
		    signer_field_u32(&m.f[8], &cherr) != 0 ||
		    signer_field_u64(&m.f[9], &out->cap_eff) != 0 ||
		    signer_field_u32(&m.f[10], &werr) != 0) {
			rc = RC_PROTO;
		} else {
			out->dumpable = (int)dumpable;
			out->no_new_privs = (int)nnp;
			out->seccomp = (int)secc;
			out->chmod_errno = (int)cherr;
			out->write_out_errno = (int)werr;
			out->nfds = (int)(m.f[7].len / 4);
			for (int i = 0; i < out->nfds; i++)
				out->fds[i] = (int)get_u32(m.f[7].p + 4 * i);
		}
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
signer_raw_send(struct signer *s, const void *p, size_t n)
{
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	if (s->dead || signer_wire_write(s->fd, p, n) != 0)
		rc = RC_SIGNER;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int
signer_raw_recv(struct signer *s, int *op, int *rc, struct rc_detail *d)
{
	struct signer_wmsg m;
	const uint8_t *msg;
	size_t n;
	int r;

	pthread_mutex_lock(&s->mu);
	r = s->dead ? RC_SIGNER : signer_wire_read(s->fd, &s->rd, &msg, &n,
	    -1);
	if (r == 0 && signer_wire_parse(msg, n, &m) != 0)
		r = RC_PROTO;
	if (r == 0) {
		*op = m.op;
		r = reply_rc(s, &m, rc, d);
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}
