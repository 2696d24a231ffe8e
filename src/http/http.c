/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libmicrohttpd glue: starts a daemon with bounded connections, memory and
 * timeouts, keeps one struct http_req per request (freed when the request
 * completes), accumulates a bounded body, matches the route table and turns
 * the handler's reply into an MHD response.
 *
 * HTTPS: libmicrohttpd's TLS (GnuTLS). The certificate chain and key are
 * handed to GnuTLS in each handshake by a callback (struct tls_cred), so
 * that http_server_set_tls() can replace them while the server runs.
 *
 * Runs in the main certdesk process on libmicrohttpd's worker threads.
 * Everything from the network (method, path, headers, body) is untrusted;
 * libmicrohttpd has already percent-decoded the path (the target as sent is
 * kept too) and bounded the header size by the connection memory limit.
 */
#include "http/http_int.h"
#include "util/buf.h"
#include "util/ipaddr.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Plain HTTP serves CRLs, CA certificates and OCSP: small requests whose
 * headers fit well in 8 KiB. libmicrohttpd 0.9.75 zeroes a connection's
 * whole pool between keep-alive requests, so a larger pool costs CPU on
 * every response (32 KiB was 6.5% of the OCSP responder's CPU). */
#define CONN_MEMORY (8 * 1024)
#define CONN_MEMORY_TLS (64 * 1024)	/* TLS records of 16 KiB + headers */
/* GnuTLS priorities: TLS 1.2 and 1.3 only, the library's default suites */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
/* X-Forwarded-For headers of one request looked at, the last ones */
#define XFF_MAX 8
#define IPC_BUCKETS 256
/* certificates in a served chain at most (the leaf and its issuers), and
 * the PEM texts of chain and key */
#define TLS_CHAIN_MAX 8
#define TLS_PEM_MAX (1024 * 1024)
/* struct http_conf.request_timeout_s and body_min_rate when 0 */
#define REQUEST_TIMEOUT_S 30U
#define BODY_MIN_RATE 1024U
/* how often the watchdog looks, and says how many it cut at most */
#define WATCH_MS 250
#define WATCH_REPORT_S 60

/* Open connections from one client address, an IPv6 client's /64 (the
 * per-address limit; addr is its http_conn_key()). */
struct ip_count {
	uint8_t addr[16];
	size_t len;
	unsigned n;
	struct ip_count *next;
};

/* One connection from its start to its close: its socket context. */
struct conn {
	struct http_server *srv;
	struct MHD_Connection *mc;
	struct ip_count *ipc;	/* the count it is in; NULL: not counted */
	struct tls_cred *cred;	/* what its handshake took; NULL: none */
	/* the request deadline (see watch()): its socket, which
	 * libmicrohttpd closes only after NOTIFY_CLOSED has taken it out of
	 * srv->conns; when its current request began and how much of its
	 * body is in (touched only by the thread serving the connection);
	 * the deadline itself, in ms of CLOCK_MONOTONIC, 0 while a reply is
	 * made and sent */
	int fd;
	int64_t begin_ms;
	uint64_t body;
	_Atomic int64_t deadline_ms;
	int cut;		/* shut down by the watchdog (conn_lock) */
	struct conn *prev, *next;	/* in srv->conns (conn_lock) */
};

/*
 * The certificate chain and key of an HTTPS server, as GnuTLS uses them.
 * libmicrohttpd asks for them in every handshake
 * (MHD_OPTION_HTTPS_CERT_CALLBACK: on_cert) instead of keeping a copy of
 * its own, so http_server_set_tls() can replace the server's current ones
 * while it runs, without touching the listening socket or any open
 * connection. GnuTLS neither copies nor frees what the callback returns
 * and signs with the key during the handshake, so a connection holds a
 * reference to the credentials it took until it closes; replaced ones go
 * with their last reference. Only the parsed key is kept (the PEM text it
 * came from is the caller's), and GnuTLS wipes it as it frees it.
 */
struct tls_cred {
	gnutls_pcert_st pcert[TLS_CHAIN_MAX];
	unsigned npcert;
	gnutls_privkey_t key;
	unsigned refs;		/* under the server's cred_lock */
};

struct http_server {
	struct MHD_Daemon *mhd;
	const struct http_route *routes;
	size_t nroutes;
	void *app;
	const struct http_route *extra;
	size_t nextra;
	void *extra_app;
	void *error_app;
	size_t max_body;
	size_t max_upload;	/* HTTP_UPLOAD routes' multipart bodies */
	int (*upload_ok)(struct http_req *r, void *app);
	int port;
	int tls;
	pthread_mutex_t cred_lock;
	struct tls_cred *cred;	/* what new handshakes use (one reference) */
	int (*on_error)(struct http_req *, unsigned, const char *, void *);
	struct ipnet *proxies;	/* trusted reverse proxies */
	size_t nproxies;
	struct ipnet *allow;	/* http_conf.allow_from, or none */
	size_t nallow;
	/* the per-address connection limit, kept here rather than by
	 * libmicrohttpd so that trusted proxies are exempt */
	unsigned per_ip;
	pthread_mutex_t ipc_lock;
	struct ip_count *ipc[IPC_BUCKETS];
	_Atomic uint64_t replies[5];	/* by class: 1xx .. 5xx */
	/* the request deadline: watch() */
	int64_t timeout_ms;
	unsigned min_rate;	/* body bytes per second */
	pthread_mutex_t conn_lock;
	pthread_cond_t watch_cond;	/* wakes the watchdog to stop */
	struct conn *conns;	/* every open connection */
	int watching, stopping;	/* the watchdog runs; is to stop */
	pthread_t watcher;
};

struct http_req {
	struct MHD_Connection *conn;
	struct conn *c;		/* its connection's; NULL: none (never) */
	struct http_server *srv;
	const char *method, *path, *tail;
	unsigned mbit;
	const struct http_route *route;
	void *app;		/* what route's handler gets */
	struct buf body;
	size_t max;		/* the bound of this request's body */
	int too_big;
	int xff_logged;		/* a bad X-Forwarded-For logged already */
	char *hname[HTTP_MAX_HEADERS], *hvalue[HTTP_MAX_HEADERS];
	size_t nhdr;
	struct MHD_Response *resp;
	unsigned status;
	char target[];		/* as sent: see on_uri() */
};

/* ---- what the log may say about a request ------------------------------- */

/*
 * Paths whose tail is a secret: the email-validation link
 * "/confirm/<token>" (portal dv.c) is as good as the validation itself
 * until it is used. Every log line this file writes goes through
 * log_safe(), which keeps such a prefix and replaces what follows it, up
 * to the next space or quote, with "[redacted]"; anywhere in the text, any
 * case, so that "//confirm/...", "/x/../confirm/..." and libmicrohttpd's
 * own messages are covered too.
 */
static const char *const secret_prefixes[] = {"/confirm/"};

#define LOG_SAFE_MAX 512

static const char *
log_safe(const char *s, char out[LOG_SAFE_MAX])
{
	size_t o = 0;

	if (s == NULL)
		return "-";
	while (*s && o < LOG_SAFE_MAX - 1) {
		size_t k = 0, plen = 0;

		for (size_t i = 0; i < sizeof(secret_prefixes) /
		    sizeof(secret_prefixes[0]); i++) {
			plen = strlen(secret_prefixes[i]);
			if (strncasecmp(s, secret_prefixes[i], plen) == 0)
				break;
			plen = 0;
		}
		if (plen == 0) {
			out[o++] = *s++;
			continue;
		}
		while (k < plen && o < LOG_SAFE_MAX - 1)
			out[o++] = s[k++];
		s += plen;
		if (*s != '\0' && *s != ' ' && *s != '"' && *s != '\'') {
			o += (size_t)snprintf(out + o, LOG_SAFE_MAX - o,
			    "[redacted]");
			if (o > LOG_SAFE_MAX - 1)
				o = LOG_SAFE_MAX - 1;
		}
		while (*s != '\0' && *s != ' ' && *s != '"' && *s != '\'')
			s++;
	}
	out[o] = '\0';
	return out;
}

/* ---- request accessors --------------------------------------------------- */

const char *
http_req_method(const struct http_req *r)
{
	return r->method;
}

const char *
http_req_path(const struct http_req *r)
{
	return r->path;
}

const char *
http_req_target(const struct http_req *r)
{
	return r->target;
}

const char *
http_req_tail(const struct http_req *r)
{
	return r->tail ? r->tail : "";
}

const char *
http_req_header(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
http_req_query(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

struct MHD_Connection *
http_req_conn(const struct http_req *r)
{
	return r->conn;
}

const uint8_t *
http_req_body(const struct http_req *r, size_t *len)
{
	*len = r->body.len;
	return r->body.data ? r->body.data : (const uint8_t *)"";
}

int
http_req_tls(const struct http_req *r)
{
	return r->srv->tls;
}

int
http_req_port(const struct http_req *r)
{
	return r->srv->port;
}

/* The address of sa (4 or 16 bytes; IPv4-mapped IPv6 as IPv4) in ip, or 0. */
static size_t
sockaddr_ip(const struct sockaddr *sa, uint8_t ip[16])
{
	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		memcpy(ip, &((const struct sockaddr_in *)(const void *)sa)
		    ->sin_addr, 4);
		return 4;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	memcpy(ip, &((const struct sockaddr_in6 *)(const void *)sa)
	    ->sin6_addr, 16);
	return ipaddr_unmap(ip);
}

struct xff {
	const char *v[XFF_MAX];
	size_t n;
};

static enum MHD_Result
xff_collect(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct xff *x = cls;

	(void)kind;
	if (key == NULL || strcasecmp(key, "X-Forwarded-For") != 0)
		return MHD_YES;
	if (x->n == XFF_MAX) {	/* keep the last ones: the proxies' */
		memmove(x->v, x->v + 1, (XFF_MAX - 1) * sizeof(x->v[0]));
		x->n--;
	}
	x->v[x->n++] = value != NULL ? value : "";
	return MHD_YES;
}

void
http_req_client_addr(struct http_req *r, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	char peer[INET6_ADDRSTRLEN];
	uint8_t ip[16];
	size_t iplen;
	struct xff x = {.n = 0};

	if (len == 0)
		return;
	snprintf(out, len, "?");
	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (iplen = sockaddr_ip(ci->client_addr, ip)) == 0 ||
	    inet_ntop(iplen == 4 ? AF_INET : AF_INET6, ip, peer,
	    sizeof(peer)) == NULL)
		return;
	if (r->srv->nproxies > 0 && ipnet_list_contains(r->srv->proxies,
	    r->srv->nproxies, ip, iplen))
		(void)MHD_get_connection_values(r->conn, MHD_HEADER_KIND,
		    xff_collect, &x);
	if (http_realip(r->srv->proxies, r->srv->nproxies, peer, x.v, x.n,
	    out, len) != 0 && !r->xff_logged) {
		char safe[LOG_SAFE_MAX];

		/* the entry itself is not logged: anyone may have written
		 * it */
		r->xff_logged = 1;
		log_info(LOG_HTTP, "%s %s: X-Forwarded-For from trusted proxy "
		    "%s: not an address where the client's should be; client "
		    "unknown (\"?\")", r->method, log_safe(r->path, safe),
		    peer);
	}
}

/* ---- the per-address connection limit ------------------------------------ */

size_t
http_conn_key(const uint8_t *ip, size_t len, uint8_t key[16])
{
	if (len == 4) {
		memcpy(key, ip, 4);
		return 4;
	}
	if (len != 16)
		return 0;
	memcpy(key, ip, 8);	/* the /64 */
	return 8;
}

static unsigned
ipc_hash(const uint8_t *ip, size_t len)
{
	unsigned h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ ip[i]) * 16777619u;
	return h % IPC_BUCKETS;
}

static struct ip_count **
ipc_find(struct http_server *srv, const uint8_t *ip, size_t len)
{
	struct ip_count **e = &srv->ipc[ipc_hash(ip, len)];

	while (*e != NULL && ((*e)->len != len ||
	    memcmp((*e)->addr, ip, len) != 0))
		e = &(*e)->next;
	return e;
}

/* Whether a connection from addr may be accepted (libmicrohttpd's accept
 * policy): trusted proxies always, others below per_ip. */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct http_server *srv = cls;
	struct ip_count **e;
	uint8_t ip[16], key[16];
	size_t len, klen;
	int ok;

	(void)addrlen;
	len = sockaddr_ip(addr, ip);
	if (srv->nallow > 0 && (len == 0 ||
	    !ipnet_list_contains(srv->allow, srv->nallow, ip, len)))
		return MHD_NO;	/* not one of the only clients */
	if (srv->per_ip == 0 || len == 0 ||
	    ipnet_list_contains(srv->proxies, srv->nproxies, ip, len))
		return MHD_YES;
	klen = http_conn_key(ip, len, key);
	pthread_mutex_lock(&srv->ipc_lock);
	e = ipc_find(srv, key, klen);
	ok = *e == NULL || (*e)->n < srv->per_ip;
	pthread_mutex_unlock(&srv->ipc_lock);
	return ok ? MHD_YES : MHD_NO;
}

/* The count a new connection from conn's address goes into (created when
 * it is the address's first), or NULL when it is not counted. */
static struct ip_count *
ipc_add(struct http_server *srv, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	struct ip_count **e;
	uint8_t ip[16], key[16];
	size_t len, klen;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (srv->per_ip == 0 || ci == NULL ||
	    (len = sockaddr_ip(ci->client_addr, ip)) == 0 ||
	    ipnet_list_contains(srv->proxies, srv->nproxies, ip, len))
		return NULL;
	klen = http_conn_key(ip, len, key);
	pthread_mutex_lock(&srv->ipc_lock);
	e = ipc_find(srv, key, klen);
	if (*e == NULL) {
		*e = xcalloc(1, sizeof(**e));
		memcpy((*e)->addr, key, klen);
		(*e)->len = klen;
	}
	(*e)->n++;
	pthread_mutex_unlock(&srv->ipc_lock);
	return *e;
}

static void
ipc_del(struct http_server *srv, struct ip_count *c)
{
	struct ip_count **e;

	pthread_mutex_lock(&srv->ipc_lock);
	if (--c->n == 0) {
		e = ipc_find(srv, c->addr, c->len);
		*e = c->next;
		free(c);
	}
	pthread_mutex_unlock(&srv->ipc_lock);
}

/* ---- the request deadline ---------------------------------------------- */

/*
 * libmicrohttpd 0.9.75 times out only an idle connection (no byte for
 * struct http_conf.timeout_s): a client that sends its request a byte
 * every few seconds keeps its connection, and on a server with a thread
 * per connection that thread, for as long as it likes, and a few
 * addresses doing so take every connection there is (slowloris). So a
 * request also has a deadline: it must be in, headers and body, within
 * request_timeout of its start, plus one second for every min_rate bytes
 * of body come so far. An upload of many megabytes on a slow link goes
 * on for as long as it keeps to min_rate on average; a trickle is cut
 * off after request_timeout and little more. A request starts with its
 * connection (the TLS handshake counts) or when the reply before it on
 * the connection has gone out (then the idle timeout, when shorter, ends
 * a connection that sends nothing first); the clock stops while the
 * reply is made (a handler may wait long on a validation) and sent.
 *
 * libmicrohttpd has nothing of the kind, so a watchdog thread per server
 * (watch()) looks at every open connection a few times a second and
 * shuts down the socket of one past its deadline: libmicrohttpd then
 * reads the end of the connection and closes it as it would after a
 * client's close, in the connection's own thread, unanswered (it cannot
 * answer while a request is being read). The socket is never closed
 * here: libmicrohttpd owns it, and closes it only after NOTIFY_CLOSED
 * (on_connection) has taken the connection out of srv->conns under
 * conn_lock, which the watchdog holds while it looks.
 */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The socket context of a libmicrohttpd connection, or NULL. */
static struct conn *
conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci;

	ci = mc == NULL ? NULL : MHD_get_connection_info(mc,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci == NULL ? NULL : ci->socket_context;
}

/* A request starts on c now. NULL is fine. */
static void
deadline_start(struct conn *c)
{
	if (c == NULL)
		return;
	c->begin_ms = mono_ms();
	c->body = 0;
	atomic_store(&c->deadline_ms, c->begin_ms + c->srv->timeout_ms);
}

/* n more bytes of the body of c's request came. NULL is fine. */
static void
deadline_body(struct conn *c, size_t n)
{
	uint64_t rate, more;

	if (c == NULL || atomic_load(&c->deadline_ms) == 0)
		return;
	c->body += n;
	rate = c->srv->min_rate;
	more = c->body / rate * 1000 + c->body % rate * 1000 / rate;
	if (more > INT64_MAX / 4)
		more = INT64_MAX / 4;
	atomic_store(&c->deadline_ms, c->begin_ms + c->srv->timeout_ms +
	    (int64_t)more);
}

/* c's request is in, or answered before it was: no deadline until the
 * next one starts. NULL is fine. */
static void
deadline_stop(struct conn *c)
{
	if (c != NULL)
		atomic_store(&c->deadline_ms, 0);
}

static void
report_cut(const struct http_server *srv, unsigned long long n)
{
	log_info(LOG_HTTP, "port %d: %llu connection(s) closed whose request "
	    "was not in by its deadline (%lld s, and a second more for every "
	    "%u body bytes)", srv->port, n, (long long)(srv->timeout_ms /
	    1000), srv->min_rate);
}

/* The watchdog: see above. Says how many connections it cut at info
 * level, at most once every WATCH_REPORT_S (anyone can make it cut,
 * any number), and each one at debug. */
static void *
watch(void *arg)
{
	struct http_server *srv = arg;
	unsigned long long cut = 0;	/* not reported yet */
	int64_t report_at = 0;
	struct timespec ts;

	pthread_mutex_lock(&srv->conn_lock);
	while (!srv->stopping) {
		int64_t now = mono_ms();

		for (struct conn *c = srv->conns; c != NULL; c = c->next) {
			int64_t dl = atomic_load(&c->deadline_ms);
			const union MHD_ConnectionInfo *ci;
			char ip[INET6_ADDRSTRLEN] = "?";
			uint8_t a[16];
			size_t alen;

			if (c->cut || c->fd < 0 || dl == 0 || dl > now)
				continue;
			c->cut = 1;
			(void)shutdown(c->fd, SHUT_RDWR);
			cut++;
			ci = MHD_get_connection_info(c->mc,
			    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
			if (ci != NULL &&
			    (alen = sockaddr_ip(ci->client_addr, a)) != 0)
				(void)inet_ntop(alen == 4 ? AF_INET : AF_INET6,
				    a, ip, sizeof(ip));
			log_debug(LOG_HTTP, "port %d: client %s: request not "
			    "in by its deadline: connection closed",
			    srv->port, ip);
		}
		if (cut > 0 && now >= report_at) {
			report_cut(srv, cut);
			cut = 0;
			report_at = now + WATCH_REPORT_S * 1000;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += WATCH_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!srv->stopping && pthread_cond_timedwait(
		    &srv->watch_cond, &srv->conn_lock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&srv->conn_lock);
	if (cut > 0)
		report_cut(srv, cut);
	return NULL;
}

/* ---- what a connection holds -------------------------------------------- */

static void cred_put(struct http_server *srv, struct tls_cred *c);

/* Keeps what a connection holds from its start to its close (its socket
 * context, struct conn): its place in the per-address count, its request
 * deadline and, on an HTTPS server, the credentials its handshake takes
 * (on_cert). */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
    enum MHD_ConnectionNotificationCode what)
{
	struct http_server *srv = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *c;

	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		c = xcalloc(1, sizeof(*c));
		c->srv = srv;
		c->mc = conn;
		c->ipc = ipc_add(srv, conn);
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		c->fd = ci != NULL ? ci->connect_fd : -1;
		deadline_start(c);
		*socket_ctx = c;
		pthread_mutex_lock(&srv->conn_lock);
		c->next = srv->conns;
		if (c->next != NULL)
			c->next->prev = c;
		srv->conns = c;
		pthread_mutex_unlock(&srv->conn_lock);
		return;
	}
	if (what != MHD_CONNECTION_NOTIFY_CLOSED || *socket_ctx == NULL)
		return;
	c = *socket_ctx;
	*socket_ctx = NULL;
	pthread_mutex_lock(&srv->conn_lock);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&srv->conn_lock);
	if (c->ipc != NULL)
		ipc_del(srv, c->ipc);
	cred_put(srv, c->cred);
	free(c);
}

/* ---- TLS credentials ---------------------------------------------------- */

static void
cred_free(struct tls_cred *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->npcert; i++)
		gnutls_pcert_deinit(&c->pcert[i]);
	gnutls_privkey_deinit(c->key);	/* wipes it; NULL is fine */
	free(c);
}

/* Drops a reference; the last one frees. NULL is fine. */
static void
cred_put(struct http_server *srv, struct tls_cred *c)
{
	unsigned left;

	if (c == NULL)
		return;
	pthread_mutex_lock(&srv->cred_lock);
	left = --c->refs;
	pthread_mutex_unlock(&srv->cred_lock);
	if (left == 0)
		cred_free(c);
}

/* 1 when key is the private key of the public key pub. */
static int
key_matches(gnutls_privkey_t key, gnutls_pubkey_t pub)
{
	gnutls_pubkey_t mine = NULL;
	gnutls_datum_t a = {NULL, 0}, b = {NULL, 0};
	int same = 0;

	if (gnutls_pubkey_init(&mine) == 0 &&
	    gnutls_pubkey_import_privkey(mine, key, 0, 0) == 0 &&
	    gnutls_pubkey_export2(mine, GNUTLS_X509_FMT_DER, &a) == 0 &&
	    gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &b) == 0)
		same = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
	gnutls_free(a.data);
	gnutls_free(b.data);
	gnutls_pubkey_deinit(mine);
	return same;
}

/* New credentials (one reference) from PEM texts: the server certificate
 * followed by its chain, and its key. RC_CRYPTO with the reason in d. */
static int
cred_new(const char *cert_pem, const char *key_pem, struct tls_cred **out,
    struct rc_detail *d)
{
	struct tls_cred *c = xcalloc(1, sizeof(*c));
	gnutls_datum_t cd, kd;
	unsigned n = TLS_CHAIN_MAX;
	int r;

	*out = NULL;
	if (strlen(cert_pem) > TLS_PEM_MAX || strlen(key_pem) > TLS_PEM_MAX) {
		rc_detail_set(d, "TLS certificate or key over %d bytes",
		    TLS_PEM_MAX);
		goto fail;
	}
	cd.data = (unsigned char *)(uintptr_t)cert_pem;
	cd.size = (unsigned)strlen(cert_pem);
	kd.data = (unsigned char *)(uintptr_t)key_pem;
	kd.size = (unsigned)strlen(key_pem);
	r = gnutls_pcert_list_import_x509_raw(c->pcert, &n, &cd,
	    GNUTLS_X509_FMT_PEM, GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
	if (r < 0 || n == 0) {
		rc_detail_set(d, "TLS certificate chain: %s", r < 0 ?
		    gnutls_strerror(r) : "no certificate");
		goto fail;
	}
	c->npcert = n;
	if ((r = gnutls_privkey_init(&c->key)) < 0 ||
	    (r = gnutls_privkey_import_x509_raw(c->key, &kd,
	    GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		rc_detail_set(d, "TLS key: %s", gnutls_strerror(r));
		goto fail;
	}
	if (!key_matches(c->key, c->pcert[0].pubkey)) {
		rc_detail_set(d, "the TLS key is not the certificate's");
		goto fail;
	}
	c->refs = 1;
	*out = c;
	return 0;
fail:
	cred_free(c);
	return RC_CRYPTO;
}

/*
 * GnuTLS's question in every handshake (gnutls_certificate_retrieve_
 * function2): the connection's credentials, taken from the server's
 * current ones at its first handshake. libmicrohttpd sets the session's
 * pointer to its connection (gnutls_session_set_ptr, for its own PSK
 * callback), whose socket context is our struct conn. -1 fails the
 * handshake.
 */
static int
on_cert(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn,
    int nreqs, const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
    gnutls_pcert_st **pcert, unsigned int *pcert_length,
    gnutls_privkey_t *privkey)
{
	struct MHD_Connection *mc = gnutls_session_get_ptr(session);
	const union MHD_ConnectionInfo *ci;
	struct conn *c;

	ci = mc == NULL ? NULL : MHD_get_connection_info(mc,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	c = ci == NULL ? NULL : ci->socket_context;
	if (c == NULL) {
		log_err(LOG_HTTP, "TLS handshake: no connection context");
		return -1;
	}
	if (c->cred == NULL) {
		pthread_mutex_lock(&c->srv->cred_lock);
		c->cred = c->srv->cred;
		c->cred->refs++;
		pthread_mutex_unlock(&c->srv->cred_lock);
	}
	*pcert = c->cred->pcert;
	*pcert_length = c->cred->npcert;
	*privkey = c->cred->key;
	return 0;
}

int
http_server_set_tls(struct http_server *srv, const char *cert_pem,
    const char *key_pem, struct rc_detail *d)
{
	struct tls_cred *c, *old;
	int rc;

	if (srv == NULL || !srv->tls) {
		rc_detail_set(d, "not an HTTPS server");
		return RC_INVAL;
	}
	if ((rc = cred_new(cert_pem, key_pem, &c, d)) != 0)
		return rc;
	pthread_mutex_lock(&srv->cred_lock);
	old = srv->cred;
	srv->cred = c;
	pthread_mutex_unlock(&srv->cred_lock);
	cred_put(srv, old);
	return 0;
}

/* ---- replies ------------------------------------------------------------- */

static int
header_ok(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

int
http_add_header(struct http_req *r, const char *name, const char *value)
{
	if (r->nhdr >= HTTP_MAX_HEADERS)
		return RC_TOOBIG;
	if (!header_ok(name) || !header_ok(value) || name[0] == '\0')
		return RC_INVAL;
	r->hname[r->nhdr] = xstrdup(name);
	r->hvalue[r->nhdr] = xstrdup(value);
	r->nhdr++;
	return 0;
}

int
http_reply(struct http_req *r, unsigned status, const char *ctype,
    const void *body, size_t len)
{
	struct MHD_Response *resp;

	if (r->resp != NULL)
		return RC_STATE;
	resp = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return RC_ERR;
	if (ctype && MHD_add_response_header(resp,
	    MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES)
		goto fail;
	if (MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff")
	    != MHD_YES)
		goto fail;
	for (size_t i = 0; i < r->nhdr; i++)
		if (MHD_add_response_header(resp, r->hname[i], r->hvalue[i])
		    != MHD_YES)
			goto fail;
	r->resp = resp;
	r->status = status;
	return 0;
fail:
	MHD_destroy_response(resp);
	return RC_ERR;
}

int
http_reply_text(struct http_req *r, unsigned status, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(text) - 2)
		n = (int)sizeof(text) - 2;
	text[n++] = '\n';
	text[n] = '\0';
	return http_reply(r, status, "text/plain; charset=utf-8", text,
	    (size_t)n);
}

void
http_date(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		out[0] = '\0';
}

/* ---- dispatch ------------------------------------------------------------ */

static unsigned
method_bit(const char *m)
{
	if (strcmp(m, MHD_HTTP_METHOD_GET) == 0)
		return HTTP_GET;
	if (strcmp(m, MHD_HTTP_METHOD_HEAD) == 0)
		return HTTP_HEAD;
	if (strcmp(m, MHD_HTTP_METHOD_POST) == 0)
		return HTTP_POST;
	return 0;
}

static const struct http_route *
match_in(const struct http_route *routes, size_t n, const char *path,
    const char **tail)
{
	for (size_t i = 0; i < n; i++) {
		const char *rp = routes[i].path;
		size_t len = strlen(rp);

		if (len > 0 && rp[len - 1] == '/') {
			if (strncmp(path, rp, len) == 0) {
				*tail = path + len;
				return &routes[i];
			}
		} else if (strcmp(path, rp) == 0) {
			*tail = "";
			return &routes[i];
		}
	}
	return NULL;
}

/* The route for path in the main table, else in the extra one; *app gets
 * the pointer its handler is called with. */
static const struct http_route *
match(const struct http_server *srv, const char *path, const char **tail,
    void **app)
{
	const struct http_route *rt;

	*app = srv->app;
	rt = match_in(srv->routes, srv->nroutes, path, tail);
	if (rt == NULL && srv->extra != NULL) {
		rt = match_in(srv->extra, srv->nextra, path, tail);
		*app = srv->extra_app;
	}
	return rt;
}

static int
allows(const struct http_route *rt, unsigned mbit)
{
	unsigned m = rt->methods;

	if (m & HTTP_GET)
		m |= HTTP_HEAD;
	return mbit != 0 && (m & mbit) != 0;
}

static void
allow_header(struct http_req *r)
{
	char allow[32] = "";
	unsigned m = r->route->methods;

	if (m & HTTP_GET)
		strcat(allow, "GET, HEAD");
	else if (m & HTTP_HEAD)
		strcat(allow, "HEAD");
	if (m & HTTP_POST)
		strcat(allow, allow[0] ? ", POST" : "POST");
	(void)http_add_header(r, "Allow", allow);
}

static void
drop_headers(struct http_req *r)
{
	for (size_t i = 0; i < r->nhdr; i++) {
		free(r->hname[i]);
		free(r->hvalue[i]);
	}
	r->nhdr = 0;
}

/* The layer's own error reply: the application's format when it has one,
 * else text/plain. */
static void
error_reply(struct http_req *r, unsigned status, const char *reason)
{
	if (r->srv->on_error && r->srv->on_error(r, status, reason,
	    r->srv->error_app) == 0 && r->resp != NULL)
		return;
	(void)http_reply_text(r, status, "%s", reason);
}

static void
dispatch(struct http_req *r)
{
	char safe[LOG_SAFE_MAX];
	int rc;

	if (r->route == NULL) {
		error_reply(r, MHD_HTTP_NOT_FOUND, "not found");
		return;
	}
	if (!allows(r->route, r->mbit)) {
		allow_header(r);
		error_reply(r, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed");
		return;
	}
	if (r->too_big) {
		error_reply(r, MHD_HTTP_CONTENT_TOO_LARGE,
		    "request body too large");
		return;
	}
	rc = r->route->handler(r, r->app);
	if (rc != 0 && r->resp == NULL) {
		log_err(LOG_HTTP, "%s %s: %s", r->method, log_safe(r->path,
		    safe), rc_str(rc));
		drop_headers(r);
		error_reply(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
	}
	if (r->resp == NULL) {
		log_err(LOG_HTTP, "%s %s: handler queued no reply", r->method,
		    log_safe(r->path, safe));
		drop_headers(r);
		(void)http_reply_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
	}
}

/* ---- the header fields and the body's framing ---------------------------- */

/*
 * A request's body is read only when its length is plain (RFC 9112 6.3):
 * one Content-Length (or several saying the same), or Transfer-Encoding
 * "chunked" alone. libmicrohttpd 0.9.75 takes Transfer-Encoding over
 * Content-Length, the first of two Content-Lengths, and reads a body of
 * any other coding to the end of the connection; a proxy in front may
 * frame the same bytes otherwise and pass the rest on as a request of
 * its own (request smuggling). Such a request is answered 400 before its
 * body is read, and libmicrohttpd closes the connection after the answer.
 *
 * A body that will not be taken is refused the same way, unread: for a
 * route without POST (or a server taking no bodies), or over max_body
 * by its Content-Length. Read, it would hold a connection for as long as
 * its sender cared to send. A chunked body shows its length only as it
 * comes: the first byte past max_body closes the connection, unanswered,
 * as libmicrohttpd 0.9.75 takes no reply while a body is being read.
 */
struct framing {
	unsigned ncl, nte;	/* Content-Length, Transfer-Encoding seen */
	uint64_t cl;		/* the first Content-Length */
	int bad;		/* a Content-Length not a number, or two
				 * different ones */
	int chunked;		/* the last Transfer-Encoding is "chunked" */
	int badname;		/* a header name that is no token */
	unsigned nhost;		/* Host headers seen */
};

/*
 * RFC 9110 5.1: a field name is a token. libmicrohttpd 0.9.75 keeps
 * "Content-Length : 5" as a header named "Content-Length " (its check of
 * whitespace before the colon runs only in its lenient mode), so the
 * body would go unseen and be read as the next request, while a proxy in
 * front may have trimmed the name and sent that body on as a body
 * (request smuggling); RFC 9112 5.1 has such a request answered 400.
 * The same goes for any other byte outside a token (a header line that
 * starts with whitespace, an empty name).
 */
static int
token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr(extra, *s) != NULL))
			return 0;
	return 1;
}

/* A Content-Length value: digits only; UINT64_MAX when longer than any
 * body could be. -1 when it is no number. */
static int
cl_parse(const char *s, uint64_t *out)
{
	uint64_t n = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n > (UINT64_MAX - 9) / 10 ? UINT64_MAX :
		    n * 10 + (uint64_t)(*s - '0');
	}
	*out = n;
	return 0;
}

static enum MHD_Result
framing_collect(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct framing *f = cls;
	uint64_t n = 0;

	(void)kind;
	if (key == NULL || !token(key)) {
		f->badname = 1;
		return MHD_YES;
	}
	if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
		f->nhost++;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (cl_parse(value, &n) != 0 || (f->ncl > 0 && n != f->cl))
			f->bad = 1;
		if (f->ncl++ == 0)
			f->cl = n;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->nte++;
		f->chunked = value != NULL && strcasecmp(value, "chunked") == 0;
	}
	return MHD_YES;
}

/* Why the headers of a request of HTTP version `version` are refused,
 * or NULL when they are not: RFC 9112 3.2 has an HTTP/1.1 request
 * without Host, or any with more than one, answered 400 (libmicrohttpd
 * 0.9.75 checks neither unless in its strict mode). */
static const char *
head_bad(const struct framing *f, const char *version)
{
	if (f->badname)
		return "a header name that is not a token (whitespace before "
		    "the colon?)";
	if (f->nhost > 1)
		return "more than one Host header";
	if (f->nhost == 0 && (version == NULL ||
	    strcmp(version, MHD_HTTP_VERSION_1_0) != 0))
		return "no Host header";
	return NULL;
}

/* Why the length of r's body is ambiguous, or NULL when it is not. */
static const char *
framing_bad(const struct framing *f)
{
	if (f->bad)
		return "conflicting Content-Length headers";
	if (f->ncl > 0 && f->nte > 0)
		return "both Content-Length and Transfer-Encoding";
	if (f->nte > 1 || (f->nte == 1 && !f->chunked))
		return "a transfer coding other than chunked alone";
	return NULL;
}

/* The bound of r's body: max_upload for a form with files POSTed to an
 * HTTP_UPLOAD route (only there, so that no other handler holds that
 * much) when upload_ok lets it, else max_body. */
static size_t
body_max(struct http_req *r)
{
	const char *ct;
	static const char mp[] = "multipart/form-data";

	if (r->route == NULL || !(r->route->methods & HTTP_UPLOAD) ||
	    r->mbit != HTTP_POST || r->srv->max_upload <= r->srv->max_body)
		return r->srv->max_body;
	ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ct == NULL || strncasecmp(ct, mp, sizeof(mp) - 1) != 0)
		return r->srv->max_body;
	if (r->srv->upload_ok != NULL &&
	    !r->srv->upload_ok(r, r->app))
		return r->srv->max_body;
	return r->srv->max_upload;
}

/* 1 when the body f announces is refused before it is read. */
static int
body_refused(const struct http_req *r, const struct framing *f)
{
	if (!f->chunked && (f->ncl == 0 || f->cl == 0))
		return 0;	/* no body */
	if (r->route == NULL || !(r->route->methods & HTTP_POST) ||
	    r->max == 0)
		return 1;
	return f->ncl > 0 && f->cl > r->max;
}

/* ---- the callbacks ------------------------------------------------------- */

/* Queues r's reply; MHD_NO (libmicrohttpd closes the connection) when
 * there is none. Queued before the body was read, it is followed by
 * libmicrohttpd's "Connection: close" and the close: the unread body is
 * never taken for a request of its own. */
static enum MHD_Result
queue(struct http_req *r)
{
	char safe[LOG_SAFE_MAX];
	enum MHD_Result ret;

	deadline_stop(r->c);	/* (before the body, also: it is not read) */
	if (r->resp == NULL) {
		log_err(LOG_HTTP, "%s %s: no reply: connection closed",
		    r->method, log_safe(r->path, safe));
		return MHD_NO;
	}
	ret = MHD_queue_response(r->conn, r->status, r->resp);
	if (ret != MHD_YES)
		log_err(LOG_HTTP, "%s %s: reply %u not queued: connection "
		    "closed", r->method, log_safe(r->path, safe), r->status);
	else if (r->status >= 100 && r->status < 600)
		atomic_fetch_add_explicit(&r->srv->replies[r->status / 100 - 1],
		    1, memory_order_relaxed);
	log_debug(LOG_HTTP, "%s %s -> %u", r->method, log_safe(r->path, safe),
	    r->status);
	MHD_destroy_response(r->resp);
	r->resp = NULL;
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_req *r = *con_cls;
	struct framing f = {0};
	char safe[LOG_SAFE_MAX];	/* the log's copy of url */
	const char *why;

	if (r == NULL)		/* on_uri() made it: never */
		return MHD_NO;
	if (r->conn == NULL) {
		/* the headers are in: the body, if any, is not yet read */
		r->conn = conn;
		r->srv = srv;
		r->method = method;
		r->path = url;
		r->mbit = method_bit(method);
		r->route = match(srv, url, &r->tail, &r->app);
		r->max = body_max(r);
		buf_init(&r->body, r->max);
		*con_cls = r;	/* freed by on_completed, answered or not */
		(void)MHD_get_connection_values(conn, MHD_HEADER_KIND,
		    framing_collect, &f);
		if ((why = head_bad(&f, version)) != NULL) {
			log_debug(LOG_HTTP, "%s %s: %s", method,
			    log_safe(url, safe), why);
			(void)http_reply_text(r, MHD_HTTP_BAD_REQUEST,
			    "bad request: %s", why);
			return queue(r);
		}
		if ((why = framing_bad(&f)) != NULL) {
			log_debug(LOG_HTTP, "%s %s: %s", method,
			    log_safe(url, safe), why);
			(void)http_reply_text(r, MHD_HTTP_BAD_REQUEST,
			    "ambiguous body length: %s", why);
			return queue(r);
		}
		if (!body_refused(r, &f))
			return MHD_YES;
		r->too_big = 1;	/* 404, 405 or 413, the body unread */
		dispatch(r);
		return queue(r);
	}
	if (*upload_size > 0) {
		/* left after the checks above: a body within the bound by
		 * its Content-Length, or a chunked one, bounded as it
		 * comes */
		deadline_body(r->c, *upload_size);
		if (r->too_big || buf_append(&r->body, upload, *upload_size)
		    != 0) {
			log_debug(LOG_HTTP, "%s %s: chunked body over %zu "
			    "bytes: connection closed", method,
			    log_safe(url, safe), r->max);
			r->too_big = 1;
			return MHD_NO;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	deadline_stop(r->c);	/* the handler may wait long */
	dispatch(r);
	return queue(r);
}

/*
 * libmicrohttpd's URI log callback, called with the request target as the
 * client sent it, before libmicrohttpd splits off the query and
 * percent-decodes the path: the request starts here, so that a handler can
 * compare the target with a URL the client signed (http_req_target()).
 * libmicrohttpd calls on_completed() for every request this made, also
 * one it refuses before on_request(). The target is bounded by the
 * connection's memory.
 */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	size_t len;
	struct http_req *r;

	(void)cls;
	if (uri == NULL)	/* libmicrohttpd answers 400 before: never */
		uri = "";
	len = strlen(uri);
	r = xcalloc(1, sizeof(*r) + len + 1);
	memcpy(r->target, uri, len + 1);
	r->c = conn_of(conn);
	return r;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *con_cls;

	(void)cls;
	(void)toe;
	deadline_start(conn_of(conn));	/* the next request's, if any */
	if (r == NULL)
		return;
	drop_headers(r);
	if (r->resp)
		MHD_destroy_response(r->resp);
	buf_free(&r->body);
	free(r);
	*con_cls = NULL;
}

static void __attribute__((format(printf, 2, 0)))
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512], safe[LOG_SAFE_MAX];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	/* a client's malformed request or failed handshake is its problem,
	 * not ours; nor is a connection closed for its chunked body's size
	 * (on_request: our own failures to reply are logged there), nor a
	 * client gone before its request was in */
	if (strncmp(line, "Error processing request", 24) == 0 ||
	    strncmp(line, "Application reported internal error", 35) == 0 ||
	    strncmp(line, "Socket has been disconnected when reading",
	    41) == 0 ||
	    strncmp(line, "Connection socket is closed when reading", 40)
	    == 0 ||
	    strncmp(line, "Connection was closed by remote side", 36) == 0 ||
	    strstr(line, "TLS") != NULL || strstr(line, "handshake") != NULL)
		log_debug(LOG_HTTP, "libmicrohttpd: %s", log_safe(line, safe));
	else
		log_warn(LOG_HTTP, "libmicrohttpd: %s", log_safe(line, safe));
}

/* ---- the server ---------------------------------------------------------- */

int
http_tls_supported(void)
{
	return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

int
http_listen_socket(const struct sockaddr *addr, socklen_t addrlen, int *fd,
    int *port, struct rc_detail *d)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int s, on = 1;

	*fd = -1;
	*port = 0;
	if (addr == NULL || (addr->sa_family != AF_INET &&
	    addr->sa_family != AF_INET6)) {
		rc_detail_set(d, "unsupported address family");
		return RC_INVAL;
	}
	s = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		rc_detail_set(d, "socket: %s", strerror(errno));
		return RC_IO;
	}
	(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (addr->sa_family == AF_INET6)
		(void)setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on));
	if (bind(s, addr, addrlen) != 0 || listen(s, 128) != 0 ||
	    getsockname(s, (struct sockaddr *)&ss, &sl) != 0) {
		rc_detail_set(d, "%s", strerror(errno));
		close(s);
		return RC_IO;
	}
	*port = ss.ss_family == AF_INET6 ?
	    ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port) :
	    ntohs(((const struct sockaddr_in *)&ss)->sin_port);
	*fd = s;
	return 0;
}

static void
server_free(struct http_server *srv)
{
	if (srv == NULL)
		return;
	cred_put(srv, srv->cred);	/* the last reference by now */
	pthread_mutex_destroy(&srv->cred_lock);
	free(srv->proxies);
	free(srv->allow);
	for (size_t i = 0; i < IPC_BUCKETS; i++)
		while (srv->ipc[i] != NULL) {
			struct ip_count *c = srv->ipc[i];

			srv->ipc[i] = c->next;
			free(c);
		}
	pthread_mutex_destroy(&srv->ipc_lock);
	pthread_cond_destroy(&srv->watch_cond);
	pthread_mutex_destroy(&srv->conn_lock);
	free(srv);
}

int
http_server_start(const struct http_conf *conf,
    const struct http_route *routes, size_t nroutes, void *app,
    struct http_server **out, struct rc_detail *d)
{
	struct http_server *srv;
	const union MHD_DaemonInfo *info;
	unsigned threads = conf->threads;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem pool[] = {
		{MHD_OPTION_THREAD_POOL_SIZE, 0, NULL},
		{MHD_OPTION_END, 0, NULL},
	};
	pthread_condattr_t cattr;
	uint16_t port = 0;
	long ncpu;
	int e;

	*out = NULL;
	if (conf->addr == NULL) {
		rc_detail_set(d, "no address to listen on");
		return RC_INVAL;
	}
	if (conf->addr->sa_family == AF_INET6) {
		flags |= MHD_USE_IPv6;
		port = ntohs(((const struct sockaddr_in6 *)conf->addr)
		    ->sin6_port);
	} else if (conf->addr->sa_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)conf->addr)
		    ->sin_port);
	else {
		rc_detail_set(d, "unsupported address family");
		return RC_INVAL;
	}
	if ((conf->tls_cert_pem == NULL) != (conf->tls_key_pem == NULL)) {
		rc_detail_set(d, "TLS needs both a certificate and a key");
		if (conf->listen_fd > 0)
			close(conf->listen_fd);
		return RC_INVAL;
	}
	if (conf->tls_cert_pem && !http_tls_supported()) {
		rc_detail_set(d, "libmicrohttpd was built without TLS");
		if (conf->listen_fd > 0)
			close(conf->listen_fd);
		return RC_CONFIG;
	}
	if (threads == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		threads = ncpu > 0 ? (unsigned)ncpu : 1;
	}
	if (threads > 64)
		threads = 64;
	srv = xcalloc(1, sizeof(*srv));
	pthread_mutex_init(&srv->ipc_lock, NULL);
	pthread_mutex_init(&srv->cred_lock, NULL);
	pthread_mutex_init(&srv->conn_lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&srv->watch_cond, &cattr);
	pthread_condattr_destroy(&cattr);
	srv->timeout_ms = 1000 * (int64_t)(conf->request_timeout_s ?
	    conf->request_timeout_s : REQUEST_TIMEOUT_S);
	srv->min_rate = conf->body_min_rate ? conf->body_min_rate :
	    BODY_MIN_RATE;
	if (conf->trusted_proxies != NULL) {
		char why[160];
		int n = ipnet_list_parse(conf->trusted_proxies, &srv->proxies,
		    why, sizeof(why));

		if (n < 0) {
			rc_detail_set(d, "trusted proxies: %s", why);
			if (conf->listen_fd > 0)
				close(conf->listen_fd);
			server_free(srv);
			return RC_CONFIG;
		}
		srv->nproxies = (size_t)n;
	}
	if (conf->allow_from != NULL) {
		char why[160];
		int n = ipnet_list_parse(conf->allow_from, &srv->allow, why,
		    sizeof(why));

		if (n < 0) {
			rc_detail_set(d, "allowed clients: %s", why);
			if (conf->listen_fd > 0)
				close(conf->listen_fd);
			server_free(srv);
			return RC_CONFIG;
		}
		srv->nallow = (size_t)n;
	}
	srv->per_ip = conf->per_ip_limit ? conf->per_ip_limit : 32U;
	srv->routes = routes;
	srv->nroutes = nroutes;
	srv->app = app;
	srv->extra = conf->extra_routes;
	srv->nextra = conf->nextra_routes;
	srv->extra_app = conf->extra_app;
	srv->error_app = conf->error_app ? conf->error_app : app;
	srv->max_body = conf->max_body;
	srv->max_upload = conf->max_upload;
	srv->upload_ok = conf->upload_ok;
	srv->on_error = conf->on_error;
	if (conf->tls_cert_pem) {
		int rc = cred_new(conf->tls_cert_pem, conf->tls_key_pem,
		    &srv->cred, d);

		if (rc != 0) {
			if (conf->listen_fd > 0)
				close(conf->listen_fd);
			server_free(srv);
			return rc;
		}
		flags |= MHD_USE_TLS;
		srv->tls = 1;
	}
	if (conf->thread_per_connection) {
		/* a listening thread and a poll()ing thread per connection:
		 * the connection limits are global, not split among pool
		 * workers (a burst of connections accepted by one worker
		 * filled its share while the others had room) */
		flags |= MHD_USE_THREAD_PER_CONNECTION;
		pool[0].option = MHD_OPTION_END;	/* no pool option */
	} else
		pool[0].value = (intptr_t)threads;
	errno = 0;
	srv->mhd = MHD_start_daemon(flags, port, on_accept, srv, on_request,
	    srv,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, conf->addr,
	    MHD_OPTION_ARRAY, pool,
	    MHD_OPTION_CONNECTION_LIMIT,
	    conf->conn_limit ? conf->conn_limit : 256U,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    conf->timeout_s ? conf->timeout_s : 15U,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)(srv->tls ? CONN_MEMORY_TLS : CONN_MEMORY),
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)(conf->listen_fd > 0 ?
	    conf->listen_fd : MHD_INVALID_SOCKET),
	    /* options past this point only for TLS (an MHD_OPTION_END
	     * otherwise) */
	    srv->tls ? MHD_OPTION_HTTPS_CERT_CALLBACK : MHD_OPTION_END,
	    on_cert,
	    MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
	    MHD_OPTION_END);
	if (srv->mhd == NULL) {
		if (conf->listen_fd > 0)
			close(conf->listen_fd);
		rc_detail_set(d, "%s", errno ? strerror(errno) :
		    "libmicrohttpd refused to start (see the log)");
		server_free(srv);
		return RC_IO;
	}
	info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info && info->port ? info->port : port;
	if (conf->listen_fd > 0) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		if (getsockname(conf->listen_fd, (struct sockaddr *)&ss, &sl)
		    == 0)
			srv->port = ss.ss_family == AF_INET6 ?
			    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) :
			    ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	if ((e = pthread_create(&srv->watcher, NULL, watch, srv)) != 0) {
		rc_detail_set(d, "request watchdog thread: %s", strerror(e));
		MHD_stop_daemon(srv->mhd);
		server_free(srv);
		return RC_ERR;
	}
	srv->watching = 1;
	*out = srv;
	return 0;
}

void
http_server_stop(struct http_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->watching) {
		pthread_mutex_lock(&srv->conn_lock);
		srv->stopping = 1;
		pthread_cond_signal(&srv->watch_cond);
		pthread_mutex_unlock(&srv->conn_lock);
		pthread_join(srv->watcher, NULL);
	}
	MHD_stop_daemon(srv->mhd);
	server_free(srv);
}

void
http_server_replies(struct http_server *srv, uint64_t out[5])
{
	for (int i = 0; i < 5; i++)
		out[i] = srv != NULL ? atomic_load_explicit(&srv->replies[i],
		    memory_order_relaxed) : 0;
}

int
http_server_port(const struct http_server *srv)
{
	return srv->port;
}
