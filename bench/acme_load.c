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
 * response it reads. Its HTTPS client, CSRs and /proc accounting are
 * loadgen.c's, shared with sign_load.
 *
 * usage: acme_load --directory URL --cacert FILE --http-port PORT
 *            [--clients N] [--duration S] [--count N] [--stall S]
 *            [--server-pid PID] [--domain D] [--poll-ms MS] [--timeout S]
 *            [--latency-out FILE]
 *        acme_load --free-ports N	(prints N free loopback TCP ports)
 */
#include "loadgen.h"

#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_NONCE LG_MAX_NONCE
#define MAX_URL LG_MAX_URL
#define MAX_TOKEN 128
#define MAX_RETRY_AFTER 10	/* seconds; a bounded run waits no longer */
#define MAX_POLL_MS 1000
#define BAD_NONCE_RETRIES 5
#define MAX_CONSECUTIVE_FAILS 5
#define KEYS_PER_CLIENT 16
#define TABLE_SIZE 4096
#define HTTP_IN_MAX 4096
#define HTTP_MAX_CONNS 4096

/* ---- options and shared state ------------------------------------------ */

static struct {
	const char *directory;
	const char *cacert;
	int http_port;
	const char *domain;
	long poll_ms;
} opt = {
	.domain = "bench.test",
	.poll_ms = 10,
};

static char url_new_nonce[MAX_URL], url_new_account[MAX_URL],
    url_new_order[MAX_URL];

static struct lg_run run;	/* ready: every client has an account */
static atomic_long http01_hits, http01_misses;

/* ---- base64url and JSON-safe strings ------------------------------------ */

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
	struct entry *e = lg_xcalloc(1, sizeof(*e));
	unsigned h = token_hash(token, strlen(token));

	snprintf(e->token, sizeof(e->token), "%s", token);
	e->keyauth = lg_xstrdup(keyauth);
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
		lg_die("epoll_create1: %s", strerror(errno));
	e = (struct epoll_event){EPOLLIN, {.ptr = &http_listen_fd}};
	epoll_ctl(ep, EPOLL_CTL_ADD, http_listen_fd, &e);
	e = (struct epoll_event){EPOLLIN, {.ptr = &http_stop_fd}};
	epoll_ctl(ep, EPOLL_CTL_ADD, http_stop_fd, &e);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			lg_die("epoll_wait: %s", strerror(errno));
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
				c = lg_xcalloc(1, sizeof(*c));
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
		lg_die("socket: %s", strerror(errno));
	setsockopt(http_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(http_listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		lg_die("http-01 server: bind 127.0.0.1:%d: %s", port,
		    strerror(errno));
	if (listen(http_listen_fd, 1024) != 0)
		lg_die("listen: %s", strerror(errno));
	http_stop_fd = eventfd(0, EFD_CLOEXEC);
	if (http_stop_fd < 0)
		lg_die("eventfd: %s", strerror(errno));
	if (pthread_create(&http_thread, NULL, http_main, NULL) != 0)
		lg_die("pthread_create failed");
}

static void
http_stop(void)
{
	uint64_t one = 1;

	if (write(http_stop_fd, &one, sizeof(one)) != sizeof(one))
		lg_die("eventfd write: %s", strerror(errno));
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
		lg_die("P-256 key generation failed");
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
		lg_die("cannot read a P-256 public key");
	x = lg_b64u(pub + 1, 32);
	y = lg_b64u(pub + 33, 32);
	if (asprintf(&out, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\","
		"\"y\":\"%s\"}", x, y) < 0)
		lg_die("out of memory");
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

	if (EVP_Digest(msg, len, h, NULL, lg_sha256, NULL) != 1 ||
	    EVP_PKEY_sign(sctx, der, &dlen, h, sizeof(h)) != 1)
		lg_die("ES256 signing failed");
	sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
	if (!sig)
		lg_die("ES256: bad DER signature");
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, rs, 32) != 32 || BN_bn2binpad(s, rs + 32, 32) != 32)
		lg_die("ES256: bad r or s");
	ECDSA_SIG_free(sig);
	return lg_b64u(rs, sizeof(rs));
}

static EVP_PKEY_CTX *
sign_ctx(EVP_PKEY *k)
{
	EVP_PKEY_CTX *sctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);

	if (!sctx || EVP_PKEY_sign_init(sctx) != 1)
		lg_die("cannot set up ES256 signing");
	return sctx;
}

/* A CSR for one DNS name (CN and SAN), DER in base64url. */
static char *
make_csr(struct lg_csr_tpl *t, const char *name)
{
	unsigned char *der = NULL;
	int len = lg_csr_der(t, name, &der);
	char *out = lg_b64u(der, (size_t)len);

	OPENSSL_free(der);
	return out;
}

/* ---- ACME over HTTPS (loadgen.h) ---------------------------------------- */

/* Every URL must be on the directory's origin, as with certdesk and
 * Pebble: each client thread keeps one keep-alive connection there. */

/* The steps of one certificate, timed apart (polls count with the step
 * that needed them). */
enum { ST_ORDER, ST_AUTHZ, ST_CHALL, ST_FINAL, ST_CERT, NSTEPS };
static const char *const step_name[NSTEPS] = {"newOrder", "authorization",
	"challenge", "finalize", "download"};

struct client {
	int id;
	pthread_t th;
	struct lg_hconn hc;
	EVP_PKEY *key;
	EVP_PKEY_CTX *sctx;
	char *jwk;
	char *thumb;
	char kid[MAX_URL];
	char nonce[MAX_NONCE];
	struct lg_resp r;
	struct lg_csr_tpl csr[KEYS_PER_CLIENT];

	double steps[NSTEPS];	/* seconds in each step, certificates done */
	long polls, sleep_ms, bad_nonces, failures;
	double cert_deadline;
};

enum { GET, HEAD, POST };

static const char *const method_names[] = {"GET", "HEAD", "POST"};

/* One HTTP exchange; fills c->r and takes its Replay-Nonce. 0, or -1 on
 * a transport error. */
static int
http_do(struct client *c, int method, const char *url, const char *body)
{
	if (lg_http_do(&c->hc, &c->r, c->id, method_names[method], url,
	    method == POST ? "Content-Type: application/jose+json\r\n" : NULL,
	    method == POST ? body : NULL) != 0)
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
		lg_report(c->id, "newNonce: no usable Replay-Nonce (HTTP %ld)",
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
		lg_report(c->id, "refusing a strange URL from the server");
		return -1;
	}
	pay64 = payload ? lg_b64u((const unsigned char *)payload,
	    strlen(payload)) : lg_xstrdup("");
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
			lg_die("out of memory");
		p64 = lg_b64u((unsigned char *)prot, strlen(prot));
		if (asprintf(&msg, "%s.%s", p64, pay64) < 0)
			lg_die("out of memory");
		sig = es256(c->sctx, msg, strlen(msg));
		if (asprintf(&body, "{\"protected\":\"%s\",\"payload\":\"%s\","
			"\"signature\":\"%s\"}", p64, pay64, sig) < 0)
			lg_die("out of memory");
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

		lg_report(c->id, "POST %s: HTTP %ld: %s", url, c->r.status,
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
		lg_report(c->id, "%s: response is not a JSON object", what);
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
	if (lg_now() + (double)ms / 1000 > c->cert_deadline)
		return -1;
	if (ms > 0)
		lg_sleep_ms(ms);
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
			lg_report(c->id, "%s: not done at the deadline", url);
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

		if (!EVP_Digest(c->jwk, strlen(c->jwk), h, &hl, lg_sha256,
		    NULL))
			lg_die("SHA-256 failed");
		c->thumb = lg_b64u(h, hl);
	}
	if (acme_post(c, url_new_account,
		"{\"termsOfServiceAgreed\":true}") != 0)
		return -1;
	if (c->r.status != 201 && c->r.status != 200) {
		lg_report(c->id, "newAccount: HTTP %ld", c->r.status);
		return -1;
	}
	if (!plain_string(c->r.location, MAX_URL - 1)) {
		lg_report(c->id, "newAccount: no usable Location");
		return -1;
	}
	snprintf(c->kid, sizeof(c->kid), "%s", c->r.location);
	return 0;
}

/* The answer is a PEM chain whose first certificate holds the CSR's key. */
static int
check_chain(struct client *c, const struct lg_csr_tpl *t)
{
	if (lg_pem_has_key(c->r.body, t))
		return 0;
	lg_report(c->id, "certificate: not a PEM chain for our key");
	return -1;
}

/* One certificate, newOrder to download. 0 on success. */
static int
issue_one(struct client *c, long n)
{
	char name[256], order_url[MAX_URL], authz_url[MAX_URL],
	    fin_url[MAX_URL], chall_url[MAX_URL], token[MAX_TOKEN + 1],
	    payload[600], *keyauth = NULL, *csr = NULL;
	json_t *j = NULL, *a;
	struct lg_csr_tpl *key = &c->csr[n % KEYS_PER_CLIENT];
	int rc = -1, token_set = 0;
	double st[NSTEPS] = {0}, t = lg_now(), t1;

	c->cert_deadline = lg_now() + (double)lg_timeout_s;
	snprintf(name, sizeof(name), "c%d-%ld.%s", c->id, n, opt.domain);
	snprintf(payload, sizeof(payload), "{\"identifiers\":[{\"type\":"
	    "\"dns\",\"value\":\"%s\"}]}", name);
	/* RFC 8555 7.4 */
	if (acme_post(c, url_new_order, payload) != 0)
		goto out;
	if (c->r.status != 201 || !plain_string(c->r.location, MAX_URL - 1)) {
		lg_report(c->id, "newOrder: HTTP %ld without a usable Location",
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
		lg_report(c->id, "newOrder: no authorization or finalize URL");
		goto out;
	}
	snprintf(authz_url, sizeof(authz_url), "%s", json_string_value(a));
	snprintf(fin_url, sizeof(fin_url), "%s", jstr(j, "finalize"));
	json_decref(j);
	st[ST_ORDER] = (t1 = lg_now()) - t;
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
			lg_report(c->id, "authorization: no usable http-01");
			goto out;
		}
		json_decref(j);
		j = NULL;
		st[ST_AUTHZ] = (t1 = lg_now()) - t;
		t = t1;
		/* RFC 8555 8.1 and 8.3 */
		if (asprintf(&keyauth, "%s.%s", token, c->thumb) < 0)
			lg_die("out of memory");
		table_put(token, keyauth);
		token_set = 1;
		/* RFC 8555 7.5.1 */
		if (acme_post(c, chall_url, "{}") != 0 ||
		    !(j = resp_json(c, "challenge")))
			goto out;
		if (strcmp(jstr(j, "status"), "valid") != 0) {
			if (strcmp(jstr(j, "status"), "invalid") == 0) {
				char why[400];

				lg_report(c->id, "challenge invalid: %s",
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

				lg_report(c->id, "authorization %s: %s",
				    jstr(j, "status"),
				    problem(c, why, sizeof(why)));
				goto out;
			}
		}
		table_del(token);
		token_set = 0;
		st[ST_CHALL] = (t1 = lg_now()) - t;
	} else if (strcmp(jstr(j, "status"), "valid") != 0) {
		lg_report(c->id, "authorization is %s", jstr(j, "status"));
		goto out;
	} else {
		st[ST_AUTHZ] = (t1 = lg_now()) - t;
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
			lg_report(c->id, "finalize: order is %s",
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
			lg_report(c->id, "order is %s", jstr(j, "status"));
			goto out;
		}
	}
	if (!plain_string(jstr(j, "certificate"), MAX_URL - 1)) {
		lg_report(c->id, "valid order without a certificate URL");
		goto out;
	}
	snprintf(chall_url, sizeof(chall_url), "%s", jstr(j, "certificate"));
	st[ST_FINAL] = (t1 = lg_now()) - t;
	t = t1;
	/* RFC 8555 7.4.2 */
	if (acme_post(c, chall_url, NULL) != 0 || check_chain(c, key) != 0)
		goto out;
	st[ST_CERT] = lg_now() - t;
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
	lg_hconn_init(&c->hc);
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	int fails = 0;

	client_setup(c);
	for (int i = 0; i < KEYS_PER_CLIENT; i++)
		lg_csr_tpl_init(&c->csr[i]);
	lg_run_ready(&run, new_account(c) == 0);
	if (!c->kid[0])
		goto out;
	for (long k = 0; lg_run_next(&run); k++) {
		double t0 = lg_now();

		if (issue_one(c, k) != 0) {
			c->failures++;
			lg_run_count(&run, 0, 0);
			if (++fails >= MAX_CONSECUTIVE_FAILS) {
				lg_report(c->id, "%d failures in a row: "
				    "stopping", fails);
				break;
			}
			continue;
		}
		fails = 0;
		lg_run_count(&run, 1, lg_now() - t0);
	}
out:
	lg_run_leave(&run);
	return NULL;
}

/* ---- main --------------------------------------------------------------- */

/* GET the directory (RFC 8555 7.1.1) with a throw-away client. */
static void
load_directory(void)
{
	struct client c = {.id = -1};
	json_t *j;

	client_setup(&c);
	if (http_do(&c, GET, opt.directory, NULL) != 0 || c.r.status != 200)
		lg_die("directory %s: HTTP %ld", opt.directory, c.r.status);
	if (!(j = resp_json(&c, "directory")))
		lg_die("directory: not JSON");
	if (!plain_string(jstr(j, "newNonce"), MAX_URL - 1) ||
	    !plain_string(jstr(j, "newAccount"), MAX_URL - 1) ||
	    !plain_string(jstr(j, "newOrder"), MAX_URL - 1))
		lg_die("directory: newNonce, newAccount or newOrder missing");
	snprintf(url_new_nonce, MAX_URL, "%s", jstr(j, "newNonce"));
	snprintf(url_new_account, MAX_URL, "%s", jstr(j, "newAccount"));
	snprintf(url_new_order, MAX_URL, "%s", jstr(j, "newOrder"));
	json_decref(j);
	lg_hconn_close(&c.hc);
	lg_resp_free(&c.r);
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

static void
parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (lg_run_option(&run, a, v))
			continue;
		if (strcmp(a, "--directory") == 0)
			opt.directory = v;
		else if (strcmp(a, "--cacert") == 0)
			opt.cacert = v;
		else if (strcmp(a, "--http-port") == 0)
			opt.http_port = (int)lg_num(v, 1, 65535, a);
		else if (strcmp(a, "--domain") == 0)
			opt.domain = v;
		else if (strcmp(a, "--poll-ms") == 0)
			opt.poll_ms = (long)lg_num(v, 0, MAX_POLL_MS, a);
		else
			usage();
	}
	if (!opt.directory || !opt.cacert || !opt.http_port)
		usage();
	if (!plain_string(opt.domain, 200))
		lg_die("--domain: not a plain name");
}

/* The per-certificate figures of acme_load's own, for lg_run_print. */
struct totals {
	long req, polls, sleep, bad;
	double steps[NSTEPS];
	long done;
};

static void
print_totals(void *arg)
{
	const struct totals *t = arg;
	double per = t->done ? 1.0 / (double)t->done : 0;

	printf("per certificate: %.2f requests, %.2f polls, %.1f ms slept, "
	    "%.2f badNonce; http-01 served %ld (404: %ld)\n",
	    (double)t->req * per, (double)t->polls * per,
	    (double)t->sleep * per, (double)t->bad * per,
	    atomic_load(&http01_hits), atomic_load(&http01_misses));
	printf("steps, mean ms:");
	for (int m = 0; m < NSTEPS; m++)
		printf(" %s %.2f", step_name[m], t->steps[m] * 1e3 * per);
	printf("\n");
}

int
main(int argc, char **argv)
{
	struct client *cs;
	struct totals tot = {0};
	double per;
	char extra[128];

	lg_init("acme_load");
	lg_run_defaults(&run);
	parse_args(argc, argv);
	lg_origin_set(opt.directory);
	lg_tls_init(opt.cacert);
	http_start(opt.http_port);
	load_directory();

	lg_run_init(&run);
	cs = lg_xcalloc((size_t)run.clients, sizeof(*cs));
	for (int i = 0; i < run.clients; i++) {
		cs[i].id = i;
		if (pthread_create(&cs[i].th, NULL, client_main, &cs[i]) != 0)
			lg_die("pthread_create failed");
	}
	/* accounts: the watchdog already runs (a server may hang here) */
	lg_run_wait_ready(&run, "accounts");
	if (atomic_load(&run.setup_failed) == run.clients)
		lg_die("no account could be created");
	lg_run_timed(&run);
	for (int i = 0; i < run.clients; i++)
		pthread_join(cs[i].th, NULL);
	http_stop();

	for (int i = 0; i < run.clients; i++) {
		tot.req += cs[i].hc.requests;
		tot.polls += cs[i].polls;
		tot.sleep += cs[i].sleep_ms;
		tot.bad += cs[i].bad_nonces;
		for (int m = 0; m < NSTEPS; m++)
			tot.steps[m] += cs[i].steps[m];
	}
	tot.done = atomic_load(&run.completed);
	per = tot.done ? 1.0 / (double)tot.done : 0;
	snprintf(extra, sizeof(extra), " polls=%.2f slept_ms=%.1f "
	    "requests=%.2f", (double)tot.polls * per, (double)tot.sleep * per,
	    (double)tot.req * per);
	lg_run_print(&run, print_totals, &tot, extra);
	for (int i = 0; i < run.clients; i++) {
		lg_hconn_close(&cs[i].hc);
		EVP_PKEY_free(cs[i].key);
		EVP_PKEY_CTX_free(cs[i].sctx);
		for (int m = 0; m < KEYS_PER_CLIENT; m++)
			lg_csr_tpl_free(&cs[i].csr[m]);
		free(cs[i].jwk);
		free(cs[i].thumb);
		lg_resp_free(&cs[i].r);
	}
	free(cs);
	lg_run_free(&run);
	lg_done();
	return atomic_load(&run.failed) > 0 && tot.done == 0 ? 2 : 0;
}
