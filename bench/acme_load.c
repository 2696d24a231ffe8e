/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acme_load: an ACME (RFC 8555) load generator, for benchmarks only. N
 * client threads each create an account with its own P-256 key, then issue
 * certificates one after the other: newOrder for a fresh name, fetch the
 * authorization, answer its http-01 challenge, poll (respecting
 * Retry-After), finalize with a CSR, download the chain. The key
 * authorizations are served by one built-in HTTP/1.1 server thread (epoll)
 * on 127.0.0.1, the port the ACME server is told to validate http-01 on.
 *
 * Measures per-certificate latency (newOrder sent -> chain downloaded)
 * and its mean per step (newOrder, authorization, challenge, finalize,
 * download; polls count with their step), certificates per second, and the
 * CPU time (utime+stime from /proc) of the server's whole process tree and
 * of this process over the timed phase, which starts once every account
 * exists and ends when the last certificate in flight is done; and the
 * server tree's memory (VmRSS at both ends of that phase, and the sum of
 * its processes' peaks, VmHWM, at its end). CSR keys are made before the timed phase: each client
 * keeps KEYS_PER_CLIENT of them and uses them in turn.
 *
 * Polling: a Retry-After from the server is obeyed; without one, the first
 * poll comes after --poll-ms (10 ms) and the wait doubles up to 1 s, far
 * more eager than real clients (certbot 1 s, lego 5 s). A challenge or
 * finalize answered with the final state needs no poll at all.
 *
 * Every run ends by itself: --duration and --count bound the work, and a
 * watchdog exits with status 3 when no certificate completes for --stall
 * seconds (Debian's Pebble 2.4.0 can deadlock under concurrent load).
 *
 * Runs as a plain process on the benchmark machine; trusts the ACME server
 * only as far as its HTTPS certificate chains to --cacert, and bounds every
 * response it reads.
 *
 * usage: acme_load --directory URL --cacert FILE --http-port PORT
 *            [--clients N] [--duration S] [--count N] [--stall S]
 *            [--server-pid PID] [--domain D] [--poll-ms MS] [--timeout S]
 *            [--latency-out FILE]
 *        acme_load --free-ports N	(prints N free loopback TCP ports)
 */
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <signal.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (1024 * 1024)	/* largest ACME response we read */
#define MAX_NONCE 256
#define MAX_URL 1024
#define MAX_TOKEN 128
#define MAX_RETRY_AFTER 10	/* seconds; a bounded run waits no longer */
#define MAX_POLL_MS 1000
#define BAD_NONCE_RETRIES 5
#define MAX_CONSECUTIVE_FAILS 5
#define KEYS_PER_CLIENT 16
#define TABLE_SIZE 4096
#define HTTP_IN_MAX 4096
#define HTTP_MAX_CONNS 4096
#define HTTP_CONN_BUF 16384	/* a response header line fits */

/* ---- options and shared state ------------------------------------------ */

static struct {
	const char *directory;
	const char *cacert;
	int http_port;
	int clients;
	double duration;
	long count;		/* certificates to start; 0: no limit */
	double stall;
	int server_pid;
	const char *domain;
	long poll_ms;
	long timeout_s;
	const char *latency_out;
} opt = {
	.clients = 4,
	.duration = 10,
	.stall = 10,
	.domain = "bench.test",
	.poll_ms = 10,
	.timeout_s = 30,
};

static char url_new_nonce[MAX_URL], url_new_account[MAX_URL],
    url_new_order[MAX_URL];

static EVP_MD *sha256;		/* fetched once: implicit fetches cost */

static atomic_long started;	/* certificates started (count limit) */
static atomic_long completed;
static atomic_long failed;
static atomic_int stop;		/* start no new certificate */
static atomic_int running;	/* client threads still working */
static atomic_int ready;	/* clients with an account (or failed) */
static atomic_int setup_failed;
static atomic_long http01_hits, http01_misses;

static pthread_mutex_t go_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go_cond = PTHREAD_COND_INITIALIZER;
static int go;

static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;
static int err_printed;

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "acme_load: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* The first few errors go to stderr; the rest are only counted. */
static void __attribute__((format(printf, 2, 3)))
report(int client, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&err_mu);
	if (err_printed++ < 20) {
		va_start(ap, fmt);
		fprintf(stderr, "acme_load: client %d: ", client);
		vfprintf(stderr, fmt, ap);
		fprintf(stderr, "\n");
		va_end(ap);
	}
	pthread_mutex_unlock(&err_mu);
}

static void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		die("out of memory");
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die("out of memory");
	return p;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- base64url and JSON-safe strings ------------------------------------ */

static char *
b64u(const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = xcalloc(n / 3 * 4 + 5, 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
		    p[i + 2];
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = tab[v >> 6 & 63];
		*o++ = tab[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = tab[v >> 6 & 63];
	}
	*o = '\0';
	return out;
}

/* A server-given string we put inside JSON or a URL without escaping. */
static int
plain_string(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if ((unsigned char)*s <= 0x20 || *s == '"' || *s == '\\' ||
		    (unsigned char)*s >= 0x7f || n >= max)
			return 0;
	return n > 0;
}

static int
b64u_string(const char *s, size_t max)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
			     "vwxyz0123456789-_");

	return n > 0 && n <= max && s[n] == '\0';
}

/* ---- the http-01 key authorization table -------------------------------- */

struct entry {
	struct entry *next;
	char token[MAX_TOKEN + 1];
	char *keyauth;
};

static struct entry *table[TABLE_SIZE];
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;

static unsigned
token_hash(const char *t, size_t n)
{
	unsigned h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)t[i]) * 16777619u;
	return h % TABLE_SIZE;
}

static void
table_put(const char *token, const char *keyauth)
{
	struct entry *e = xcalloc(1, sizeof(*e));
	unsigned h = token_hash(token, strlen(token));

	snprintf(e->token, sizeof(e->token), "%s", token);
	e->keyauth = xstrdup(keyauth);
	pthread_mutex_lock(&table_mu);
	e->next = table[h];
	table[h] = e;
	pthread_mutex_unlock(&table_mu);
}

static void
table_del(const char *token)
{
	unsigned h = token_hash(token, strlen(token));
	struct entry **pp, *e = NULL;

	pthread_mutex_lock(&table_mu);
	for (pp = &table[h]; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->token, token) == 0) {
			e = *pp;
			*pp = e->next;
			break;
		}
	pthread_mutex_unlock(&table_mu);
	if (e) {
		free(e->keyauth);
		free(e);
	}
}

/* Copies the key authorization for token[0..n) into out; 0 if unknown. */
static size_t
table_get(const char *token, size_t n, char *out, size_t outlen)
{
	unsigned h = token_hash(token, n);
	size_t len = 0;

	pthread_mutex_lock(&table_mu);
	for (struct entry *e = table[h]; e; e = e->next)
		if (strlen(e->token) == n && memcmp(e->token, token, n) == 0) {
			len = strlen(e->keyauth);
			if (len >= outlen)
				len = 0;
			else
				memcpy(out, e->keyauth, len);
			break;
		}
	pthread_mutex_unlock(&table_mu);
	return len;
}

/* ---- the http-01 server: one thread, epoll, HTTP/1.1 keep-alive --------- */

struct conn {
	struct conn *prev, *next;	/* all open connections */
	int fd;
	size_t inlen;
	char in[HTTP_IN_MAX];
	char out[1024];
	size_t outlen, outoff;
	int close_after;
};

static struct conn *conns;	/* the http-01 thread's own */
static int nconns;
static int http_listen_fd = -1;
static int http_stop_fd = -1;
static pthread_t http_thread;

static void
conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	nconns--;
	free(c);
}

/* Parses the complete requests in c->in into c->out; 0, or -1 to close. */
static int
conn_serve(struct conn *c)
{
	static const char prefix[] = "/.well-known/acme-challenge/";
	char *end;

	while (c->outlen == 0 &&
	    (end = memmem(c->in, c->inlen, "\r\n\r\n", 4)) != NULL) {
		size_t reqlen = (size_t)(end - c->in) + 4, tlen, klen;
		char *sp1, *sp2, *eol = memchr(c->in, '\r', reqlen);
		char ka[512];
		int http10;

		sp1 = memchr(c->in, ' ', (size_t)(eol - c->in));
		if (!sp1)
			return -1;
		sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
		if (!sp2)
			return -1;
		http10 = (size_t)(eol - sp2 - 1) == 8 &&
		    memcmp(sp2 + 1, "HTTP/1.0", 8) == 0;
		c->close_after = http10 ||
		    memmem(c->in, reqlen, "\nConnection: close", 18) ||
		    memmem(c->in, reqlen, "\nconnection: close", 18);
		klen = 0;
		if ((size_t)(sp1 - c->in) == 3 &&
		    memcmp(c->in, "GET", 3) == 0 &&
		    (size_t)(sp2 - sp1 - 1) > sizeof(prefix) - 1 &&
		    memcmp(sp1 + 1, prefix, sizeof(prefix) - 1) == 0) {
			const char *tok = sp1 + sizeof(prefix);
			tlen = (size_t)(sp2 - tok);
			klen = table_get(tok, tlen, ka, sizeof(ka));
		}
		if (klen > 0) {
			atomic_fetch_add(&http01_hits, 1);
			c->outlen = (size_t)snprintf(c->out, sizeof(c->out),
			    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			    "Content-Length: %zu\r\n%s\r\n%.*s", klen,
			    c->close_after ? "Connection: close\r\n" : "",
			    (int)klen, ka);
		} else {
			atomic_fetch_add(&http01_misses, 1);
			c->outlen = (size_t)snprintf(c->out, sizeof(c->out),
			    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
			    "%s\r\n",
			    c->close_after ? "Connection: close\r\n" : "");
		}
		c->outoff = 0;
		memmove(c->in, c->in + reqlen, c->inlen - reqlen);
		c->inlen -= reqlen;
	}
	if (c->outlen == 0 && c->inlen == sizeof(c->in))
		return -1;	/* request head too large */
	return 0;
}

/* Writes what is pending; 1 when all is written, 0 to wait, -1 to close. */
static int
conn_flush(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff,
		    c->outlen - c->outoff, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (w <= 0)
			return -1;
		c->outoff += (size_t)w;
	}
	c->outlen = c->outoff = 0;
	return c->close_after ? -1 : 1;
}

static void
conn_event(int ep, struct conn *c, uint32_t ev)
{
	int r;

	if (ev & (EPOLLERR | EPOLLHUP) && !(ev & EPOLLIN))
		goto close;
	if (ev & EPOLLIN) {
		for (;;) {
			ssize_t n = recv(c->fd, c->in + c->inlen,
			    sizeof(c->in) - c->inlen, 0);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (n <= 0)
				goto close;
			c->inlen += (size_t)n;
			if (c->inlen == sizeof(c->in))
				break;
		}
	}
	for (;;) {
		if (c->outlen > 0) {
			r = conn_flush(c);
			if (r < 0)
				goto close;
			if (r == 0) {
				struct epoll_event e = {EPOLLOUT, {.ptr = c}};
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
				return;
			}
		}
		if (conn_serve(c) != 0)
			goto close;
		if (c->outlen == 0)
			break;
	}
	struct epoll_event e = {EPOLLIN, {.ptr = c}};
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
	return;
close:
	conn_close(ep, c);
}

static void *
http_main(void *arg)
{
	struct epoll_event evs[64], e;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)arg;
	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));
	e = (struct epoll_event){EPOLLIN, {.ptr = &http_listen_fd}};
	epoll_ctl(ep, EPOLL_CTL_ADD, http_listen_fd, &e);
	e = (struct epoll_event){EPOLLIN, {.ptr = &http_stop_fd}};
	epoll_ctl(ep, EPOLL_CTL_ADD, http_stop_fd, &e);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &http_stop_fd) {
				while (conns)
					conn_close(ep, conns);
				close(ep);
				return NULL;
			}
			if (evs[i].data.ptr != &http_listen_fd) {
				conn_event(ep, evs[i].data.ptr, evs[i].events);
				continue;
			}
			for (;;) {
				int fd = accept4(http_listen_fd, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
				struct conn *c;

				if (fd < 0)
					break;
				if (nconns >= HTTP_MAX_CONNS) {
					close(fd);
					continue;
				}
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				    sizeof(one));
				c = xcalloc(1, sizeof(*c));
				c->fd = fd;
				c->next = conns;
				if (conns)
					conns->prev = c;
				conns = c;
				nconns++;
				e = (struct epoll_event){EPOLLIN, {.ptr = c}};
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
			}
		}
	}
}

static void
http_start(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port)};
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	http_listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (http_listen_fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(http_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(http_listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		die("http-01 server: bind 127.0.0.1:%d: %s", port,
		    strerror(errno));
	if (listen(http_listen_fd, 1024) != 0)
		die("listen: %s", strerror(errno));
	http_stop_fd = eventfd(0, EFD_CLOEXEC);
	if (http_stop_fd < 0)
		die("eventfd: %s", strerror(errno));
	if (pthread_create(&http_thread, NULL, http_main, NULL) != 0)
		die("pthread_create failed");
}

static void
http_stop(void)
{
	uint64_t one = 1;

	if (write(http_stop_fd, &one, sizeof(one)) != sizeof(one))
		die("eventfd write: %s", strerror(errno));
	pthread_join(http_thread, NULL);
	close(http_stop_fd);
	close(http_listen_fd);
}

/* ---- keys, JWK, JWS, CSR ------------------------------------------------ */

static EVP_PKEY *
p256_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	if (!k)
		die("P-256 key generation failed");
	return k;
}

/* Canonical RFC 7638 JWK of a P-256 key: members in lexicographic order. */
static char *
p256_jwk(EVP_PKEY *k)
{
	unsigned char pub[65];
	size_t len = 0;
	char *x, *y, *out;

	if (!EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub,
		sizeof(pub), &len) || len != 65 || pub[0] != 4)
		die("cannot read a P-256 public key");
	x = b64u(pub + 1, 32);
	y = b64u(pub + 33, 32);
	if (asprintf(&out, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\","
		"\"y\":\"%s\"}", x, y) < 0)
		die("out of memory");
	free(x);
	free(y);
	return out;
}

/*
 * ES256 signature (RFC 7518 3.4: r || s, 32 bytes each) in base64url.
 * sctx is an EVP_PKEY_sign_init()ed context of the key, reused for every
 * signature: setting one up per call costs more than the signature.
 */
static char *
es256(EVP_PKEY_CTX *sctx, const char *msg, size_t len)
{
	unsigned char der[80], rs[64], h[32];
	const unsigned char *p = der;
	size_t dlen = sizeof(der);
	ECDSA_SIG *sig;
	const BIGNUM *r, *s;

	if (EVP_Digest(msg, len, h, NULL, sha256, NULL) != 1 ||
	    EVP_PKEY_sign(sctx, der, &dlen, h, sizeof(h)) != 1)
		die("ES256 signing failed");
	sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
	if (!sig)
		die("ES256: bad DER signature");
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, rs, 32) != 32 || BN_bn2binpad(s, rs + 32, 32) != 32)
		die("ES256: bad r or s");
	ECDSA_SIG_free(sig);
	return b64u(rs, sizeof(rs));
}

static EVP_PKEY_CTX *
sign_ctx(EVP_PKEY *k)
{
	EVP_PKEY_CTX *sctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);

	if (!sctx || EVP_PKEY_sign_init(sctx) != 1)
		die("cannot set up ES256 signing");
	return sctx;
}

/*
 * A CSR key with its request template, made before the timed phase: with
 * OpenSSL 3.0 putting a public key into a request (the provider encoder)
 * costs more than the whole rest of the CSR, so each template keeps its
 * key and only the name changes per certificate.
 */
struct csr_tpl {
	EVP_PKEY *key;
	X509_REQ *req;
	unsigned char *spki;	/* SubjectPublicKeyInfo DER, to check */
	int spki_len;
};

static void
csr_tpl_init(struct csr_tpl *t)
{
	t->key = p256_key();
	t->req = X509_REQ_new();
	if (!t->req || !X509_REQ_set_pubkey(t->req, t->key))
		die("CSR: building failed");
	t->spki = NULL;
	t->spki_len = i2d_PUBKEY(t->key, &t->spki);
	if (t->spki_len <= 0)
		die("CSR: cannot encode the public key");
}

static void
csr_tpl_free(struct csr_tpl *t)
{
	EVP_PKEY_free(t->key);
	X509_REQ_free(t->req);
	OPENSSL_free(t->spki);
}

/* A CSR for one DNS name (CN and SAN), DER in base64url. */
static char *
make_csr(struct csr_tpl *t, const char *name)
{
	X509_NAME *nm = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *ext;
	char san[300];
	unsigned char *der = NULL;
	int len;
	char *out;

	while (X509_REQ_get_attr_count(t->req) > 0)
		X509_ATTRIBUTE_free(X509_REQ_delete_attr(t->req, 0));
	snprintf(san, sizeof(san), "DNS:%s", name);
	if (!nm || !exts ||
	    !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
		(const unsigned char *)name, -1, -1, 0) ||
	    !X509_REQ_set_subject_name(t->req, nm))
		die("CSR: building failed");
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
	if (!ext || !sk_X509_EXTENSION_push(exts, ext) ||
	    !X509_REQ_add_extensions(t->req, exts) ||
	    X509_REQ_sign(t->req, t->key, sha256) <= 0)
		die("CSR: signing failed");
	len = i2d_X509_REQ(t->req, &der);
	if (len <= 0)
		die("CSR: encoding failed");
	out = b64u(der, (size_t)len);
	OPENSSL_free(der);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(nm);
	return out;
}

/* ---- HTTPS: a small HTTP/1.1 client over OpenSSL ------------------------ */

/*
 * Each client thread keeps one keep-alive TLS connection to the ACME
 * server: every URL must be on the directory's origin (https://host:port),
 * as with certdesk and Pebble. Blocking sockets with --timeout as their
 * send and receive timeouts; the server's certificate must chain to
 * --cacert and name the host. libcurl did this before, and its per-request
 * machinery was a third of this generator's CPU: CPU that a small benchmark
 * machine then takes from the server under test.
 */

struct resp {
	long status;
	char *body;
	size_t len, cap;
	int too_big;
	char nonce[MAX_NONCE];
	char location[MAX_URL];
	long retry_after;	/* seconds; -1 when absent */
};

struct hconn {
	int fd;			/* -1: not connected */
	SSL *ssl;
	char in[HTTP_CONN_BUF];
	size_t off, len;	/* unread bytes: in[off, len) */
};

/* The steps of one certificate, timed apart (polls count with the step
 * that needed them). */
enum { ST_ORDER, ST_AUTHZ, ST_CHALL, ST_FINAL, ST_CERT, NSTEPS };
static const char *const step_name[NSTEPS] = {"newOrder", "authorization",
	"challenge", "finalize", "download"};

struct client {
	int id;
	pthread_t th;
	struct hconn hc;
	EVP_PKEY *key;
	EVP_PKEY_CTX *sctx;
	char *jwk;
	char *thumb;
	char kid[MAX_URL];
	char nonce[MAX_NONCE];
	struct resp r;
	struct csr_tpl csr[KEYS_PER_CLIENT];

	double *lat;		/* seconds, one per certificate */
	size_t nlat, caplat;
	double steps[NSTEPS];	/* seconds in each step, certificates done */
	long requests, polls, sleep_ms, bad_nonces, failures;
	double cert_deadline;
};

enum { GET, HEAD, POST };

static SSL_CTX *tls;
static char origin[MAX_URL];	/* "https://host:port", no slash */
static char origin_host[256], origin_port[8];

/* Takes the origin from the directory URL. */
static void
origin_set(const char *url)
{
	const char *h = url + 8, *slash, *colon;
	size_t hl;

	if (strncmp(url, "https://", 8) != 0)
		die("--directory must be an https:// URL");
	slash = strchr(h, '/');
	if (slash == NULL)
		slash = h + strlen(h);
	if (*h == '[')
		die("--directory: IPv6 literals are not supported");
	colon = memchr(h, ':', (size_t)(slash - h));
	hl = (size_t)((colon ? colon : slash) - h);
	if (hl == 0 || hl >= sizeof(origin_host))
		die("--directory: bad host");
	memcpy(origin_host, h, hl);
	origin_host[hl] = '\0';
	if (colon) {
		size_t pl = (size_t)(slash - colon - 1);

		if (pl == 0 || pl >= sizeof(origin_port) ||
		    strspn(colon + 1, "0123456789") < pl)
			die("--directory: bad port");
		memcpy(origin_port, colon + 1, pl);
		origin_port[pl] = '\0';
	} else {
		snprintf(origin_port, sizeof(origin_port), "443");
	}
	if ((size_t)(slash - url) >= sizeof(origin))
		die("--directory: too long");
	memcpy(origin, url, (size_t)(slash - url));
	origin[slash - url] = '\0';
}

static void
tls_init(void)
{
	tls = SSL_CTX_new(TLS_client_method());
	if (!tls || SSL_CTX_set_min_proto_version(tls, TLS1_2_VERSION) != 1)
		die("TLS context");
	if (SSL_CTX_load_verify_locations(tls, opt.cacert, NULL) != 1)
		die("%s: cannot load the CA certificate", opt.cacert);
	SSL_CTX_set_verify(tls, SSL_VERIFY_PEER, NULL);
}

static void
hc_close(struct hconn *h)
{
	if (h->ssl) {
		SSL_shutdown(h->ssl);
		SSL_free(h->ssl);
	}
	if (h->fd >= 0)
		close(h->fd);
	h->ssl = NULL;
	h->fd = -1;
	h->off = h->len = 0;
}

static int
hc_connect(struct client *c)
{
	struct hconn *h = &c->hc;
	struct addrinfo hints = {0}, *ai = NULL;
	struct timeval tv = {.tv_sec = opt.timeout_s};
	struct in6_addr a6;
	struct in_addr a4;
	int one = 1, ip, e;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((e = getaddrinfo(origin_host, origin_port, &hints, &ai)) != 0) {
		report(c->id, "%s: %s", origin_host, gai_strerror(e));
		return -1;
	}
	h->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) != 0 || setsockopt(h->fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)) != 0 || setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY,
	    &one, sizeof(one)) != 0 ||
	    connect(h->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		report(c->id, "connect %s: %s", origin, strerror(errno));
		freeaddrinfo(ai);
		hc_close(h);
		return -1;
	}
	freeaddrinfo(ai);
	ip = inet_pton(AF_INET, origin_host, &a4) == 1 ||
	    inet_pton(AF_INET6, origin_host, &a6) == 1;
	if (!(h->ssl = SSL_new(tls)) || SSL_set_fd(h->ssl, h->fd) != 1 ||
	    (ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(h->ssl),
		origin_host) != 1 :
		(SSL_set_tlsext_host_name(h->ssl, origin_host) != 1 ||
		    SSL_set1_host(h->ssl, origin_host) != 1)) ||
	    SSL_connect(h->ssl) != 1) {
		report(c->id, "TLS to %s failed: %s", origin,
		    ERR_reason_error_string(ERR_get_error()));
		ERR_clear_error();
		hc_close(h);
		return -1;
	}
	return 0;
}

/* More bytes into h->in. 1, 0 at the end of the stream, -1 on an error. */
static int
hc_fill(struct hconn *h)
{
	int n, e;

	if (h->off > 0) {
		memmove(h->in, h->in + h->off, h->len - h->off);
		h->len -= h->off;
		h->off = 0;
	}
	if (h->len == sizeof(h->in))
		return -1;	/* a header line longer than the buffer */
	n = SSL_read(h->ssl, h->in + h->len, (int)(sizeof(h->in) - h->len));
	if (n > 0) {
		h->len += (size_t)n;
		return 1;
	}
	e = SSL_get_error(h->ssl, n);
	ERR_clear_error();
	return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

/* The next line (CRLF cut off) of at most the buffer's size: a pointer
 * into h->in valid until the next read, or NULL. *eof: the stream ended
 * (or broke) before any byte of it. */
static char *
hc_line(struct hconn *h, size_t *len, int *eof)
{
	for (;;) {
		char *nl = memchr(h->in + h->off, '\n', h->len - h->off);
		int r;

		if (nl) {
			char *line = h->in + h->off;

			*len = (size_t)(nl - line);
			if (*len > 0 && line[*len - 1] == '\r')
				(*len)--;
			line[*len] = '\0';
			h->off = (size_t)(nl - h->in) + 1;
			return line;
		}
		if ((r = hc_fill(h)) <= 0) {
			*eof = r <= 0 && h->len == h->off;
			return NULL;
		}
	}
}

static void
body_add(struct resp *r, const char *p, size_t len)
{
	if (r->len + len + 1 > MAX_BODY) {
		r->too_big = 1;
		return;
	}
	if (r->len + len + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *b;

		while (cap < r->len + len + 1)
			cap *= 2;
		b = realloc(r->body, cap);
		if (!b)
			die("out of memory");
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
}

/* n body bytes (n < 0: until the end of the stream). */
static int
hc_body(struct hconn *h, struct resp *r, long long n)
{
	while (n != 0) {
		size_t have = h->len - h->off;
		int f;

		if (have == 0) {
			if ((f = hc_fill(h)) < 0)
				return -1;
			if (f == 0)
				return n < 0 ? 0 : -1;
			continue;
		}
		if (n > 0 && (long long)have > n)
			have = (size_t)n;
		body_add(r, h->in + h->off, have);
		h->off += have;
		if (n > 0)
			n -= (long long)have;
	}
	return r->too_big ? -1 : 0;
}

static int
hc_chunked(struct hconn *h, struct resp *r)
{
	for (;;) {
		size_t len;
		int eof;
		char *line = hc_line(h, &len, &eof), *end;
		unsigned long long n;

		if (!line)
			return -1;
		n = strtoull(line, &end, 16);
		if (end == line || n > MAX_BODY)
			return -1;
		if (n == 0)
			break;
		if (hc_body(h, r, (long long)n) != 0 ||
		    !(line = hc_line(h, &len, &eof)) || len != 0)
			return -1;
	}
	for (;;) {	/* trailer */
		size_t len;
		int eof;

		if (!hc_line(h, &len, &eof))
			return -1;
		if (len == 0)
			return 0;
	}
}

/* Copies header value (trimmed) if line is "name: value". */
static int
header_value(const char *line, size_t len, const char *name, char *out,
    size_t outlen)
{
	size_t nl = strlen(name);

	if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 ||
	    line[nl] != ':')
		return 0;
	line += nl + 1;
	len -= nl + 1;
	while (len > 0 && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len > 0 && line[len - 1] == ' ')
		len--;
	if (len >= outlen)
		return 0;
	memcpy(out, line, len);
	out[len] = '\0';
	return 1;
}

/*
 * Reads one response into c->r. 0; -1 on an error (the connection is then
 * closed); 1 when the stream ended or broke before its first byte (a
 * keep-alive connection the server had closed).
 */
static int
hc_response(struct client *c, int method)
{
	struct hconn *h = &c->hc;
	struct resp *r = &c->r;
	long long clen = -1;
	int chunked = 0, close_after = 0, eof = 0, rc;
	size_t len;
	char *line, v[64];

	do {	/* 1xx answers come first, with their own headers */
		if (!(line = hc_line(h, &len, &eof)))
			return eof ? 1 : -1;
		if (len < 12 || strncmp(line, "HTTP/1.", 7) != 0)
			return -1;
		r->status = strtol(line + 9, NULL, 10);
		while ((line = hc_line(h, &len, &eof)) && len > 0) {
			if (header_value(line, len, "Replay-Nonce", r->nonce,
			    sizeof(r->nonce)) ||
			    header_value(line, len, "Location", r->location,
			    sizeof(r->location)))
				continue;
			if (header_value(line, len, "Retry-After", v,
			    sizeof(v))) {
				char *end;
				long s = strtol(v, &end, 10);

				/* RFC 9110 10.2.3; an HTTP-date counts as
				 * one second */
				r->retry_after = (end != v && *end == '\0' &&
				    s >= 0) ? s : 1;
			} else if (header_value(line, len, "Content-Length", v,
			    sizeof(v))) {
				clen = strtoll(v, NULL, 10);
			} else if (header_value(line, len, "Transfer-Encoding",
			    v, sizeof(v))) {
				chunked = strcasecmp(v, "chunked") == 0;
			} else if (header_value(line, len, "Connection", v,
			    sizeof(v))) {
				close_after = strcasecmp(v, "close") == 0;
			}
		}
		if (!line)
			return -1;
	} while (r->status >= 100 && r->status < 200);
	if (method == HEAD || r->status == 204 || r->status == 304)
		rc = 0;
	else if (chunked)
		rc = hc_chunked(h, r);
	else if (clen >= 0)
		rc = clen > MAX_BODY ? -1 : hc_body(h, r, clen);
	else
		rc = hc_body(h, r, -1), close_after = 1;
	if (rc != 0 || close_after)
		hc_close(h);
	return rc;
}

static const char *const method_names[] = {"GET", "HEAD", "POST"};

/* Writes all of p. */
static int
hc_write(struct hconn *h, const char *p, size_t len)
{
	while (len > 0) {
		int n = SSL_write(h->ssl, p, (int)len);

		if (n <= 0) {
			ERR_clear_error();
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One HTTP exchange; fills c->r. 0, or -1 on a transport error. */
static int
http_do(struct client *c, int method, const char *url, const char *body)
{
	size_t ol = strlen(origin);
	char post_hdrs[96] = "", *req;
	int n, rc = -1;

	c->r.len = 0;
	c->r.too_big = 0;
	c->r.status = 0;
	c->r.nonce[0] = c->r.location[0] = '\0';
	c->r.retry_after = -1;
	if (c->r.body)
		c->r.body[0] = '\0';
	if (strncmp(url, origin, ol) != 0 || url[ol] != '/') {
		report(c->id, "%s: not on the directory's origin %s", url,
		    origin);
		return -1;
	}
	if (method == POST)
		snprintf(post_hdrs, sizeof(post_hdrs), "Content-Type: "
		    "application/jose+json\r\nContent-Length: %zu\r\n",
		    strlen(body));
	/* head and body in one write, one TLS record: no segment with the
	 * head alone */
	n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: %s:%s\r\n"
	    "User-Agent: certdesk-acme_load/1\r\n%s\r\n%s",
	    method_names[method], url + ol, origin_host, origin_port,
	    post_hdrs, method == POST ? body : "");
	if (n < 0)
		die("out of memory");
	c->requests++;
	/* a kept connection the server closed meanwhile is made again once */
	for (int attempt = 0; attempt < 2 && rc != 0; attempt++) {
		int reused = c->hc.fd >= 0;

		if (!reused && hc_connect(c) != 0)
			break;
		if (hc_write(&c->hc, req, (size_t)n) != 0) {
			hc_close(&c->hc);
			if (reused)
				continue;
			report(c->id, "%s: sending failed", url);
			break;
		}
		rc = hc_response(c, method);
		if (rc == 1 && reused) {
			hc_close(&c->hc);
			continue;
		}
		if (rc != 0) {
			hc_close(&c->hc);
			report(c->id, "%s: bad or no response%s", url,
			    c->r.too_big ? " (too large)" : "");
			rc = -1;
			break;
		}
	}
	free(req);
	if (rc != 0)
		return -1;
	if (c->r.nonce[0] && b64u_string(c->r.nonce, MAX_NONCE - 1))
		memcpy(c->nonce, c->r.nonce, sizeof(c->nonce));
	else
		c->nonce[0] = '\0';
	return 0;
}

static int
fresh_nonce(struct client *c)
{
	if (http_do(c, HEAD, url_new_nonce, NULL) != 0)
		return -1;
	if (!c->nonce[0]) {
		report(c->id, "newNonce: no usable Replay-Nonce (HTTP %ld)",
		    c->r.status);
		return -1;
	}
	return 0;
}

static int
is_bad_nonce(struct client *c)
{
	return c->r.status == 400 && c->r.body &&
	    strstr(c->r.body, "urn:ietf:params:acme:error:badNonce");
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/*
 * The problem (RFC 7807) in the last response, for a human: its own type
 * and detail, or those of the error of a challenge in it (RFC 8555 7.1.4,
 * 8), else the start of the body.
 */
static const char *
problem(struct client *c, char *out, size_t len)
{
	json_t *j = c->r.body ? json_loadb(c->r.body, c->r.len, 0, NULL) : NULL;
	json_t *e = j, *ch;
	size_t i;

	if (json_is_object(json_object_get(j, "error")))
		e = json_object_get(j, "error");
	json_array_foreach(json_object_get(j, "challenges"), i, ch)
		if (json_is_object(json_object_get(ch, "error")))
			e = json_object_get(ch, "error");
	if (json_is_object(e) && json_is_string(json_object_get(e, "type")))
		snprintf(out, len, "%s: %s", jstr(e, "type"),
		    jstr(e, "detail"));
	else
		snprintf(out, len, "%.200s", c->r.body ? c->r.body : "");
	json_decref(j);
	return out;
}

/*
 * A JWS-signed POST (RFC 8555 6.2); payload NULL is POST-as-GET. Signs
 * with the account's kid, or with its jwk while it has none. Retries a
 * badNonce with the nonce the error carried. 0 on a 2xx answer.
 */
static int
acme_post(struct client *c, const char *url, const char *payload)
{
	char *prot = NULL, *p64 = NULL, *pay64 = NULL, *msg = NULL,
	     *sig = NULL, *body = NULL;
	int rc = -1;

	if (!plain_string(url, MAX_URL - 1)) {
		report(c->id, "refusing a strange URL from the server");
		return -1;
	}
	pay64 = payload ? b64u((const unsigned char *)payload,
	    strlen(payload)) : xstrdup("");
	for (int attempt = 0; attempt <= BAD_NONCE_RETRIES; attempt++) {
		if (!c->nonce[0] && fresh_nonce(c) != 0)
			goto out;
		free(prot);
		free(p64);
		free(msg);
		free(sig);
		free(body);
		if (c->kid[0])
			rc = asprintf(&prot, "{\"alg\":\"ES256\","
			    "\"kid\":\"%s\",\"nonce\":\"%s\",\"url\":\"%s\"}",
			    c->kid, c->nonce, url);
		else
			rc = asprintf(&prot, "{\"alg\":\"ES256\",\"jwk\":%s,"
			    "\"nonce\":\"%s\",\"url\":\"%s\"}", c->jwk,
			    c->nonce, url);
		if (rc < 0)
			die("out of memory");
		p64 = b64u((unsigned char *)prot, strlen(prot));
		if (asprintf(&msg, "%s.%s", p64, pay64) < 0)
			die("out of memory");
		sig = es256(c->sctx, msg, strlen(msg));
		if (asprintf(&body, "{\"protected\":\"%s\",\"payload\":\"%s\","
			"\"signature\":\"%s\"}", p64, pay64, sig) < 0)
			die("out of memory");
		c->nonce[0] = '\0';	/* spent */
		rc = -1;
		if (http_do(c, POST, url, body) != 0)
			goto out;
		if (!is_bad_nonce(c))
			break;
		c->bad_nonces++;
	}
	if (c->r.status >= 200 && c->r.status < 300) {
		rc = 0;
	} else {
		char why[400];

		report(c->id, "POST %s: HTTP %ld: %s", url, c->r.status,
		    problem(c, why, sizeof(why)));
	}
out:
	free(prot);
	free(p64);
	free(pay64);
	free(msg);
	free(sig);
	free(body);
	return rc;
}

/* Parses c->r as a JSON object; NULL (reported) if it is not one. */
static json_t *
resp_json(struct client *c, const char *what)
{
	json_error_t err;
	json_t *j;

	j = c->r.body ? json_loadb(c->r.body, c->r.len, 0, &err) : NULL;
	if (!json_is_object(j)) {
		report(c->id, "%s: response is not a JSON object", what);
		json_decref(j);
		return NULL;
	}
	return j;
}

/*
 * Waits before polling: the server's Retry-After if it gave one, else a
 * backoff from --poll-ms doubling to MAX_POLL_MS. -1 past the deadline.
 */
static int
poll_wait(struct client *c, long *backoff)
{
	long ms;

	if (c->r.retry_after >= 0) {
		ms = (c->r.retry_after > MAX_RETRY_AFTER ? MAX_RETRY_AFTER :
		    c->r.retry_after) * 1000;
	} else {
		ms = *backoff;
		*backoff = *backoff * 2 > MAX_POLL_MS ? MAX_POLL_MS :
		    *backoff * 2;
	}
	if (now_s() + (double)ms / 1000 > c->cert_deadline)
		return -1;
	if (ms > 0)
		sleep_ms(ms);
	c->sleep_ms += ms;
	c->polls++;
	return 0;
}

/* Polls url (POST-as-GET) until its status is not one of the waiting ones. */
static json_t *
poll_until(struct client *c, const char *url, json_t *cur,
    const char *wait1, const char *wait2)
{
	long backoff = opt.poll_ms;

	while (strcmp(jstr(cur, "status"), wait1) == 0 ||
	    strcmp(jstr(cur, "status"), wait2) == 0) {
		json_decref(cur);
		if (poll_wait(c, &backoff) != 0) {
			report(c->id, "%s: not done at the deadline", url);
			return NULL;
		}
		if (acme_post(c, url, NULL) != 0)
			return NULL;
		cur = resp_json(c, url);
		if (!cur)
			return NULL;
	}
	return cur;
}

static int
new_account(struct client *c)
{
	c->key = p256_key();
	c->sctx = sign_ctx(c->key);
	c->jwk = p256_jwk(c->key);
	{
		unsigned char h[32];
		unsigned int hl = sizeof(h);

		if (!EVP_Digest(c->jwk, strlen(c->jwk), h, &hl, sha256, NULL))
			die("SHA-256 failed");
		c->thumb = b64u(h, hl);
	}
	if (acme_post(c, url_new_account,
		"{\"termsOfServiceAgreed\":true}") != 0)
		return -1;
	if (c->r.status != 201 && c->r.status != 200) {
		report(c->id, "newAccount: HTTP %ld", c->r.status);
		return -1;
	}
	if (!plain_string(c->r.location, MAX_URL - 1)) {
		report(c->id, "newAccount: no usable Location");
		return -1;
	}
	snprintf(c->kid, sizeof(c->kid), "%s", c->r.location);
	return 0;
}

/*
 * Checks that the answer is a PEM chain whose first certificate holds the
 * CSR's public key. Looks for the key's DER in the certificate's DER
 * rather than parsing it: OpenSSL 3.0 decodes the public key of every
 * certificate it parses through its slow provider decoders.
 */
static int
check_chain(struct client *c, const struct csr_tpl *t)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	const char *p = c->r.body ? strstr(c->r.body, begin) : NULL, *e;
	char *b64 = NULL;
	unsigned char *der = NULL;
	size_t n = 0;
	int len, ok = 0;

	if (!p || !(e = strstr(p, "-----END CERTIFICATE-----")))
		goto out;
	p += sizeof(begin) - 1;
	b64 = xcalloc((size_t)(e - p) + 1, 1);
	for (; p < e; p++)
		if (*p != '\r' && *p != '\n')
			b64[n++] = *p;
	der = xcalloc(n / 4 * 3 + 3, 1);
	len = n % 4 == 0 ? EVP_DecodeBlock(der, (unsigned char *)b64,
	    (int)n) : -1;
	ok = len > 2 && der[0] == 0x30 &&
	    memmem(der, (size_t)len, t->spki, (size_t)t->spki_len) != NULL;
out:
	if (!ok)
		report(c->id, "certificate: not a PEM chain for our key");
	free(b64);
	free(der);
	return ok ? 0 : -1;
}

/* One certificate, newOrder to download. 0 on success. */
static int
issue_one(struct client *c, long n)
{
	char name[256], order_url[MAX_URL], authz_url[MAX_URL],
	    fin_url[MAX_URL], chall_url[MAX_URL], token[MAX_TOKEN + 1],
	    payload[600], *keyauth = NULL, *csr = NULL;
	json_t *j = NULL, *a;
	struct csr_tpl *key = &c->csr[n % KEYS_PER_CLIENT];
	int rc = -1, token_set = 0;
	double st[NSTEPS] = {0}, t = now_s(), t1;

	c->cert_deadline = now_s() + (double)opt.timeout_s;
	snprintf(name, sizeof(name), "c%d-%ld.%s", c->id, n, opt.domain);
	snprintf(payload, sizeof(payload), "{\"identifiers\":[{\"type\":"
	    "\"dns\",\"value\":\"%s\"}]}", name);
	/* RFC 8555 7.4 */
	if (acme_post(c, url_new_order, payload) != 0)
		goto out;
	if (c->r.status != 201 || !plain_string(c->r.location, MAX_URL - 1)) {
		report(c->id, "newOrder: HTTP %ld without a usable Location",
		    c->r.status);
		goto out;
	}
	snprintf(order_url, sizeof(order_url), "%s", c->r.location);
	if (!(j = resp_json(c, "newOrder")))
		goto out;
	a = json_array_get(json_object_get(j, "authorizations"), 0);
	if (!plain_string(json_string_value(a) ? json_string_value(a) : "",
		MAX_URL - 1) ||
	    !plain_string(jstr(j, "finalize"), MAX_URL - 1)) {
		report(c->id, "newOrder: no authorization or finalize URL");
		goto out;
	}
	snprintf(authz_url, sizeof(authz_url), "%s", json_string_value(a));
	snprintf(fin_url, sizeof(fin_url), "%s", jstr(j, "finalize"));
	json_decref(j);
	st[ST_ORDER] = (t1 = now_s()) - t;
	t = t1;

	/* RFC 8555 7.5 */
	if (acme_post(c, authz_url, NULL) != 0 ||
	    !(j = resp_json(c, "authorization")))
		goto out;
	if (strcmp(jstr(j, "status"), "pending") == 0) {
		json_t *ch, *chs = json_object_get(j, "challenges");
		size_t i;

		chall_url[0] = '\0';
		json_array_foreach(chs, i, ch)
			if (strcmp(jstr(ch, "type"), "http-01") == 0 &&
			    plain_string(jstr(ch, "url"), MAX_URL - 1) &&
			    b64u_string(jstr(ch, "token"), MAX_TOKEN)) {
				snprintf(chall_url, sizeof(chall_url), "%s",
				    jstr(ch, "url"));
				snprintf(token, sizeof(token), "%s",
				    jstr(ch, "token"));
				break;
			}
		if (!chall_url[0]) {
			report(c->id, "authorization: no usable http-01");
			goto out;
		}
		json_decref(j);
		j = NULL;
		st[ST_AUTHZ] = (t1 = now_s()) - t;
		t = t1;
		/* RFC 8555 8.1 and 8.3 */
		if (asprintf(&keyauth, "%s.%s", token, c->thumb) < 0)
			die("out of memory");
		table_put(token, keyauth);
		token_set = 1;
		/* RFC 8555 7.5.1 */
		if (acme_post(c, chall_url, "{}") != 0 ||
		    !(j = resp_json(c, "challenge")))
			goto out;
		if (strcmp(jstr(j, "status"), "valid") != 0) {
			if (strcmp(jstr(j, "status"), "invalid") == 0) {
				char why[400];

				report(c->id, "challenge invalid: %s",
				    problem(c, why, sizeof(why)));
				goto out;
			}
			/* poll the authorization, honouring Retry-After */
			long backoff = opt.poll_ms;
			json_decref(j);
			j = NULL;
			if (poll_wait(c, &backoff) != 0 ||
			    acme_post(c, authz_url, NULL) != 0 ||
			    !(j = resp_json(c, "authorization")) ||
			    !(j = poll_until(c, authz_url, j, "pending",
				  "processing")))
				goto out;
			if (strcmp(jstr(j, "status"), "valid") != 0) {
				char why[400];

				report(c->id, "authorization %s: %s",
				    jstr(j, "status"),
				    problem(c, why, sizeof(why)));
				goto out;
			}
		}
		table_del(token);
		token_set = 0;
		st[ST_CHALL] = (t1 = now_s()) - t;
	} else if (strcmp(jstr(j, "status"), "valid") != 0) {
		report(c->id, "authorization is %s", jstr(j, "status"));
		goto out;
	} else {
		st[ST_AUTHZ] = (t1 = now_s()) - t;
	}
	t = t1;
	json_decref(j);

	/* RFC 8555 7.4: finalize, then the order may still be processing */
	csr = make_csr(key, name);
	snprintf(payload, sizeof(payload), "{\"csr\":\"%s\"}", csr);
	if (acme_post(c, fin_url, payload) != 0 ||
	    !(j = resp_json(c, "finalize")))
		goto out;
	if (strcmp(jstr(j, "status"), "valid") != 0) {
		long backoff = opt.poll_ms;

		if (strcmp(jstr(j, "status"), "processing") != 0) {
			report(c->id, "finalize: order is %s",
			    jstr(j, "status"));
			goto out;
		}
		json_decref(j);
		j = NULL;
		if (poll_wait(c, &backoff) != 0 ||
		    acme_post(c, order_url, NULL) != 0 ||
		    !(j = resp_json(c, "order")) ||
		    !(j = poll_until(c, order_url, j, "processing",
			  "processing")))
			goto out;
		if (strcmp(jstr(j, "status"), "valid") != 0) {
			report(c->id, "order is %s", jstr(j, "status"));
			goto out;
		}
	}
	if (!plain_string(jstr(j, "certificate"), MAX_URL - 1)) {
		report(c->id, "valid order without a certificate URL");
		goto out;
	}
	snprintf(chall_url, sizeof(chall_url), "%s", jstr(j, "certificate"));
	st[ST_FINAL] = (t1 = now_s()) - t;
	t = t1;
	/* RFC 8555 7.4.2 */
	if (acme_post(c, chall_url, NULL) != 0 || check_chain(c, key) != 0)
		goto out;
	st[ST_CERT] = now_s() - t;
	for (int i = 0; i < NSTEPS; i++)
		c->steps[i] += st[i];
	rc = 0;
out:
	if (token_set)
		table_del(token);
	json_decref(j);
	free(keyauth);
	free(csr);
	return rc;
}

static void
client_setup(struct client *c)
{
	c->hc.fd = -1;
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	int fails = 0;

	client_setup(c);
	for (int i = 0; i < KEYS_PER_CLIENT; i++)
		csr_tpl_init(&c->csr[i]);
	if (new_account(c) != 0)
		atomic_fetch_add(&setup_failed, 1);
	atomic_fetch_add(&ready, 1);
	pthread_mutex_lock(&go_mu);
	while (!go)
		pthread_cond_wait(&go_cond, &go_mu);
	pthread_mutex_unlock(&go_mu);
	if (!c->kid[0])
		goto out;
	for (long k = 0; !atomic_load(&stop); k++) {
		long n = atomic_fetch_add(&started, 1);
		double t0;

		if (opt.count > 0 && n >= opt.count)
			break;
		t0 = now_s();
		if (issue_one(c, k) != 0) {
			c->failures++;
			atomic_fetch_add(&failed, 1);
			if (++fails >= MAX_CONSECUTIVE_FAILS) {
				report(c->id, "%d failures in a row: stopping",
				    fails);
				break;
			}
			continue;
		}
		fails = 0;
		if (c->nlat == c->caplat) {
			c->caplat = c->caplat ? c->caplat * 2 : 256;
			c->lat = realloc(c->lat, c->caplat * sizeof(*c->lat));
			if (!c->lat)
				die("out of memory");
		}
		c->lat[c->nlat++] = now_s() - t0;
		atomic_fetch_add(&completed, 1);
	}
out:
	atomic_fetch_sub(&running, 1);
	return NULL;
}

/* ---- CPU and memory accounting ----------------------------------------- */

struct proc {
	int pid, ppid, in;
	long long ticks;
};

/* what a server's process tree uses at one moment */
struct usage {
	long long ticks;	/* CPU: utime+stime+cutime+cstime, clock ticks */
	long long rss_kb;	/* resident now (VmRSS), kB */
	long long hwm_kb;	/* the processes' peaks (VmHWM) added up, kB */
};

/* VmRSS and VmHWM of pid from /proc/<pid>/status (0 when gone) */
static void
proc_mem(int pid, long long *rss_kb, long long *hwm_kb)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), f)) {
		long long v;

		if (sscanf(line, "VmRSS: %lld kB", &v) == 1)
			*rss_kb += v;
		else if (sscanf(line, "VmHWM: %lld kB", &v) == 1)
			*hwm_kb += v;
	}
	fclose(f);
}

/*
 * The usage of root and all its live descendants: CPU ticks from
 * /proc/<pid>/stat (which counts every thread of a process; children it
 * has reaped are in its cutime/cstime) and memory from /proc/<pid>/status.
 */
static struct usage
tree_usage(int root)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	struct proc *ps = NULL;
	struct usage u = { 0, 0, 0 };
	size_t n = 0, cap = 0;
	int changed = 1;

	if (!d)
		return u;
	while ((de = readdir(d)) != NULL) {
		char path[64], buf[1024], *p;
		unsigned long long ut, st;
		long long cut, cst;
		int ppid;
		FILE *f;
		size_t len;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", atoi(de->d_name));
		if (!(f = fopen(path, "r")))
			continue;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = '\0';
		/* the command name may hold spaces and parentheses */
		if (!(p = strrchr(buf, ')')))
			continue;
		if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u "
			"%*u %llu %llu %lld %lld", &ppid, &ut, &st, &cut,
			&cst) != 5)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 512;
			ps = realloc(ps, cap * sizeof(*ps));
			if (!ps)
				die("out of memory");
		}
		ps[n].pid = atoi(de->d_name);
		ps[n].ppid = ppid;
		ps[n].in = ps[n].pid == root;
		ps[n].ticks = (long long)(ut + st) + cut + cst;
		n++;
	}
	closedir(d);
	while (changed) {
		changed = 0;
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; !ps[i].in && k < n; k++)
				if (ps[k].in && ps[k].pid == ps[i].ppid)
					ps[i].in = changed = 1;
	}
	for (size_t i = 0; i < n; i++)
		if (ps[i].in) {
			u.ticks += ps[i].ticks;
			proc_mem(ps[i].pid, &u.rss_kb, &u.hwm_kb);
		}
	free(ps);
	return u;
}

static double
self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- main --------------------------------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
pct(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static void
free_ports(int n)
{
	int fds[64];

	if (n < 1 || n > 64)
		die("--free-ports: 1 to 64");
	for (int i = 0; i < n; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		socklen_t sl = sizeof(sa);

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa,
			sizeof(sa)) != 0 ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &sl) != 0)
			die("free port: %s", strerror(errno));
		printf("%s%d", i ? " " : "", ntohs(sa.sin_port));
	}
	printf("\n");
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* GET the directory (RFC 8555 7.1.1) with a throw-away client. */
static void
load_directory(void)
{
	struct client c = {.id = -1};
	json_t *j;

	client_setup(&c);
	if (http_do(&c, GET, opt.directory, NULL) != 0 || c.r.status != 200)
		die("directory %s: HTTP %ld", opt.directory, c.r.status);
	if (!(j = resp_json(&c, "directory")))
		die("directory: not JSON");
	if (!plain_string(jstr(j, "newNonce"), MAX_URL - 1) ||
	    !plain_string(jstr(j, "newAccount"), MAX_URL - 1) ||
	    !plain_string(jstr(j, "newOrder"), MAX_URL - 1))
		die("directory: newNonce, newAccount or newOrder missing");
	snprintf(url_new_nonce, MAX_URL, "%s", jstr(j, "newNonce"));
	snprintf(url_new_account, MAX_URL, "%s", jstr(j, "newAccount"));
	snprintf(url_new_order, MAX_URL, "%s", jstr(j, "newOrder"));
	json_decref(j);
	hc_close(&c.hc);
	free(c.r.body);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: acme_load --directory URL --cacert FILE --http-port PORT\n"
	    "         [--clients N] [--duration S] [--count N] [--stall S]\n"
	    "         [--server-pid PID] [--domain D] [--poll-ms MS]"
	    " [--timeout S]\n"
	    "         [--latency-out FILE]\n"
	    "       acme_load --free-ports N\n");
	exit(1);
}

static double
num(const char *s, double lo, double hi, const char *what)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || v < lo || v > hi)
		die("%s: '%s' is not a number in [%g, %g]", what, s, lo, hi);
	return v;
}

static void
parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (strcmp(a, "--free-ports") == 0) {
			free_ports((int)num(v, 1, 64, a));
			exit(0);
		} else if (strcmp(a, "--directory") == 0)
			opt.directory = v;
		else if (strcmp(a, "--cacert") == 0)
			opt.cacert = v;
		else if (strcmp(a, "--http-port") == 0)
			opt.http_port = (int)num(v, 1, 65535, a);
		else if (strcmp(a, "--clients") == 0)
			opt.clients = (int)num(v, 1, 1024, a);
		else if (strcmp(a, "--duration") == 0)
			opt.duration = num(v, 0.1, 3600, a);
		else if (strcmp(a, "--count") == 0)
			opt.count = (long)num(v, 0, 1e7, a);
		else if (strcmp(a, "--stall") == 0)
			opt.stall = num(v, 0.5, 600, a);
		else if (strcmp(a, "--server-pid") == 0)
			opt.server_pid = (int)num(v, 1, 1 << 22, a);
		else if (strcmp(a, "--domain") == 0)
			opt.domain = v;
		else if (strcmp(a, "--poll-ms") == 0)
			opt.poll_ms = (long)num(v, 0, MAX_POLL_MS, a);
		else if (strcmp(a, "--timeout") == 0)
			opt.timeout_s = (long)num(v, 1, 600, a);
		else if (strcmp(a, "--latency-out") == 0)
			opt.latency_out = v;
		else
			usage();
	}
	if (!opt.directory || !opt.cacert || !opt.http_port)
		usage();
	if (!plain_string(opt.domain, 200))
		die("--domain: not a plain name");
}

int
main(int argc, char **argv)
{
	struct client *cs;
	double t0, t1, c0 = 0, last_change;
	struct usage s0 = { 0, 0, 0 }, s1 = { 0, 0, 0 };
	long last_done = 0, tot_req = 0, tot_polls = 0, tot_sleep = 0,
	     tot_bad = 0;
	double *lat, steps[NSTEPS] = {0};
	size_t nlat = 0, k = 0;
	long done, errs;
	int stalled = 0;
	long hz = sysconf(_SC_CLK_TCK);

	parse_args(argc, argv);
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!sha256)
		die("no SHA-256");
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* a server closing a connection: an error, not a signal */
	signal(SIGPIPE, SIG_IGN);
	origin_set(opt.directory);
	tls_init();
	http_start(opt.http_port);
	load_directory();

	cs = xcalloc((size_t)opt.clients, sizeof(*cs));
	atomic_store(&running, opt.clients);
	for (int i = 0; i < opt.clients; i++) {
		cs[i].id = i;
		if (pthread_create(&cs[i].th, NULL, client_main, &cs[i]) != 0)
			die("pthread_create failed");
	}
	/* accounts: the watchdog already runs (a server may hang here) */
	last_change = now_s();
	last_done = 0;
	while (atomic_load(&ready) < opt.clients) {
		if (atomic_load(&ready) != last_done) {
			last_done = atomic_load(&ready);
			last_change = now_s();
		} else if (now_s() - last_change > opt.stall) {
			printf("RESULT stalled=1 phase=accounts clients=%d "
			    "ready=%d\n", opt.clients, atomic_load(&ready));
			fflush(stdout);
			_exit(3);
		}
		sleep_ms(5);
	}
	if (atomic_load(&setup_failed) == opt.clients)
		die("no account could be created");
	last_done = 0;

	/* the timed phase */
	if (opt.server_pid)
		s0 = tree_usage(opt.server_pid);
	c0 = self_cpu_s();
	t0 = now_s();
	pthread_mutex_lock(&go_mu);
	go = 1;
	pthread_cond_broadcast(&go_cond);
	pthread_mutex_unlock(&go_mu);
	last_change = t0;
	while (atomic_load(&running) > 0) {
		double t = now_s();

		sleep_ms(20);
		if (t - t0 >= opt.duration)
			atomic_store(&stop, 1);
		done = atomic_load(&completed) + atomic_load(&failed);
		if (done != last_done) {
			last_done = done;
			last_change = t;
		} else if (t - last_change > opt.stall) {
			stalled = 1;
			break;
		}
	}
	t1 = now_s();
	if (opt.server_pid)
		s1 = tree_usage(opt.server_pid);
	c0 = self_cpu_s() - c0;
	done = atomic_load(&completed);
	errs = atomic_load(&failed);
	if (stalled) {
		/* clients are stuck in the server: report and leave */
		printf("RESULT stalled=1 phase=issuance clients=%d certs=%ld "
		    "errors=%ld elapsed=%.2f\n", opt.clients, done, errs,
		    t1 - t0);
		fflush(stdout);
		_exit(3);
	}
	for (int i = 0; i < opt.clients; i++)
		pthread_join(cs[i].th, NULL);
	http_stop();

	for (int i = 0; i < opt.clients; i++)
		nlat += cs[i].nlat;
	lat = xcalloc(nlat, sizeof(*lat));
	for (int i = 0; i < opt.clients; i++) {
		memcpy(lat + k, cs[i].lat, cs[i].nlat * sizeof(*lat));
		k += cs[i].nlat;
		tot_req += cs[i].requests;
		tot_polls += cs[i].polls;
		tot_sleep += cs[i].sleep_ms;
		tot_bad += cs[i].bad_nonces;
		for (int m = 0; m < NSTEPS; m++)
			steps[m] += cs[i].steps[m];
	}
	qsort(lat, nlat, sizeof(*lat), cmp_double);
	if (opt.latency_out) {
		FILE *f = fopen(opt.latency_out, "w");

		if (!f)
			die("%s: %s", opt.latency_out, strerror(errno));
		for (size_t i = 0; i < nlat; i++)
			fprintf(f, "%.3f\n", lat[i] * 1e3);
		if (fclose(f) != 0)
			die("%s: write failed", opt.latency_out);
	}
	{
		double el = t1 - t0, per = done ? 1.0 / (double)done : 0;
		double srv = (double)(s1.ticks - s0.ticks) * 1000.0 /
		    (double)hz;

		printf("clients %d: %ld certificates, %ld errors in %.2f s = "
		    "%.1f certs/s\n", opt.clients, done, errs, el,
		    (double)done / el);
		printf("latency ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n",
		    pct(lat, nlat, .5) * 1e3, pct(lat, nlat, .9) * 1e3,
		    pct(lat, nlat, .99) * 1e3, pct(lat, nlat, 1) * 1e3);
		printf("per certificate: %.2f requests, %.2f polls, %.1f ms "
		    "slept, %.2f badNonce; http-01 served %ld (404: %ld)\n",
		    (double)tot_req * per, (double)tot_polls * per,
		    (double)tot_sleep * per, (double)tot_bad * per,
		    atomic_load(&http01_hits), atomic_load(&http01_misses));
		if (opt.server_pid) {
			printf("server memory: resident %.1f MB at the start, "
			    "%.1f MB at the end (%+.2f kB/cert), peak %.1f MB\n",
			    (double)s0.rss_kb / 1024, (double)s1.rss_kb / 1024,
			    (double)(s1.rss_kb - s0.rss_kb) * per,
			    (double)s1.hwm_kb / 1024);
			printf("server CPU: %.0f ms = %.2f ms/cert;  ", srv,
			    srv * per);
		}
		printf("generator CPU: %.2f ms/cert\n", c0 * 1e3 * per);
		printf("steps, mean ms:");
		for (int m = 0; m < NSTEPS; m++)
			printf(" %s %.2f", step_name[m], steps[m] * 1e3 * per);
		printf("\n");
		printf("RESULT stalled=0 clients=%d certs=%ld errors=%ld "
		    "elapsed=%.3f rate=%.2f p50=%.1f p99=%.1f srv_ms=%.0f "
		    "srv_cpu_per_cert=%.3f gen_cpu_per_cert=%.3f "
		    "polls=%.2f slept_ms=%.1f requests=%.2f rss0_kb=%lld "
		    "rss_kb=%lld hwm_kb=%lld\n", opt.clients,
		    done, errs, el, (double)done / el, pct(lat, nlat, .5) * 1e3,
		    pct(lat, nlat, .99) * 1e3, opt.server_pid ? srv : -1.0,
		    opt.server_pid ? srv * per : -1.0, c0 * 1e3 * per,
		    (double)tot_polls * per, (double)tot_sleep * per,
		    (double)tot_req * per,
		    opt.server_pid ? s0.rss_kb : -1LL,
		    opt.server_pid ? s1.rss_kb : -1LL,
		    opt.server_pid ? s1.hwm_kb : -1LL);
	}
	for (int i = 0; i < opt.clients; i++) {
		hc_close(&cs[i].hc);
		EVP_PKEY_free(cs[i].key);
		EVP_PKEY_CTX_free(cs[i].sctx);
		for (int m = 0; m < KEYS_PER_CLIENT; m++)
			csr_tpl_free(&cs[i].csr[m]);
		free(cs[i].jwk);
		free(cs[i].thumb);
		free(cs[i].lat);
		free(cs[i].r.body);
	}
	EVP_MD_free(sha256);
	free(cs);
	free(lat);
	SSL_CTX_free(tls);
	return errs > 0 && done == 0 ? 2 : 0;
}
