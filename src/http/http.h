/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP layer: libmicrohttpd glue shared by every front end (CRL and CA
 * certificate publication now; OCSP, ACME, portal and back office later).
 * One struct http_server per listening address runs a route table: each
 * route names a path (exact, or a prefix when it ends in '/'), the methods
 * it accepts and a handler. The layer itself answers 404 for unknown paths,
 * 405 (with Allow) for a method a route does not accept, 413 for a body
 * over the server's maximum, and 500 when a handler fails without replying.
 *
 * Limits are fixed when the server starts: connections in total and per
 * client address, an idle timeout, the memory of one connection (which
 * bounds the request line and headers) and the request body size. Threads:
 * libmicrohttpd's internal polling (epoll) with a pool of worker threads,
 * so handlers run concurrently and must be thread-safe.
 *
 * Handlers run in the main certdesk process on worker threads and see only
 * untrusted request data through the accessors below.
 */
#ifndef CERTDESK_HTTP_HTTP_H
#define CERTDESK_HTTP_HTTP_H

#include "util/rc.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

struct http_server;
struct http_req;	/* one request; valid during the handler call */

enum http_method {
	HTTP_GET = 1,		/* a GET route also answers HEAD */
	HTTP_HEAD = 2,
	HTTP_POST = 4,
};

/*
 * A handler queues exactly one reply with http_reply*() and returns 0; or
 * returns a negative RC_* without replying, and the layer answers 500. app
 * is the pointer given to http_server_start() (borrowed).
 */
struct http_route {
	const char *path;	/* "/healthz" exact; "/crl/" prefix */
	unsigned methods;	/* HTTP_GET | HTTP_POST ... */
	int (*handler)(struct http_req *req, void *app);
};

struct http_conf {
	const struct sockaddr *addr;	/* where to listen (borrowed) */
	socklen_t addrlen;
	unsigned threads;	/* worker threads; 0: one per core */
	unsigned conn_limit;	/* open connections; 0: 256 */
	unsigned per_ip_limit;	/* per client address; 0: 32 */
	unsigned timeout_s;	/* idle connection timeout; 0: 15 s */
	size_t max_body;	/* request body bound; 0: no body accepted */
};

/*
 * Starts listening and serving routes[0..nroutes) (borrowed: must outlive
 * the server, as must app). Returns a new server in *out (stop with
 * http_server_stop()), or RC_IO with the reason in d (address in use, ...).
 */
int http_server_start(const struct http_conf *conf,
    const struct http_route *routes, size_t nroutes, void *app,
    struct http_server **out, struct rc_detail *d);
/* Stops accepting, finishes the requests in flight, frees. NULL is fine. */
void http_server_stop(struct http_server *srv);
/* The port actually bound (useful when the configured port is 0). */
int http_server_port(const struct http_server *srv);

/* ---- the request (all borrowed, valid during the handler call) ----------- */

const char *http_req_method(const struct http_req *r);
/* The percent-decoded path without the query. */
const char *http_req_path(const struct http_req *r);
/* The path after the matched route's prefix ("issuing-1.crl" for a route
 * "/crl/"); "" for exact routes. */
const char *http_req_tail(const struct http_req *r);
/* A request header by name (case-insensitive), or NULL. */
const char *http_req_header(const struct http_req *r, const char *name);
/* The request body (at most the server's max_body bytes). */
const uint8_t *http_req_body(const struct http_req *r, size_t *len);

/* ---- replies ------------------------------------------------------------- */

#define HTTP_MAX_HEADERS 16

/* Adds a header to the coming reply (copied). RC_TOOBIG past
 * HTTP_MAX_HEADERS, RC_INVAL for CR or LF in name or value. */
int http_add_header(struct http_req *r, const char *name, const char *value);
/*
 * Queues the reply: status, Content-Type (may be NULL), body[0..len)
 * (copied) and the headers added so far. For HEAD the body is not sent but
 * its length is. Returns 0, or RC_STATE when a reply was queued already,
 * or RC_ERR.
 */
int http_reply(struct http_req *r, unsigned status, const char *ctype,
    const void *body, size_t len);
/* A text/plain reply from a format; the text ends with a newline. */
int http_reply_text(struct http_req *r, unsigned status, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* An HTTP date (RFC 9110 5.6.7 IMF-fixdate) into out. */
void http_date(time_t t, char out[32]);

#endif
