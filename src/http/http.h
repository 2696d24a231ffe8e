/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP layer: libmicrohttpd glue shared by every front end (CRL and CA
 * certificate publication over plain HTTP; ACME, and later the portal and
 * back office, over HTTPS). One struct http_server per listening address
 * runs a route table: each route names a path (exact, or a prefix when it
 * ends in '/'), the methods it accepts and a handler. The layer itself
 * answers 404 for unknown paths, 405 (with Allow) for a method a route does
 * not accept, 413 for a body over the server's maximum, and 500 when a
 * handler fails without replying; an application may format those answers
 * itself (struct http_conf.on_error, e.g. as RFC 7807 problems). A body
 * that will not be taken (over the maximum by its Content-Length, or for
 * a route without POST) is refused before it is read, and the connection
 * closed after the answer; a chunked body that grows past the maximum
 * has its connection closed without one (libmicrohttpd 0.9.75 cannot
 * answer while a body is being read). A request whose body length is
 * ambiguous (Content-Length with Transfer-Encoding, two different
 * Content-Lengths, a transfer coding other than chunked alone) is
 * answered 400 in text/plain and closed, unread: a proxy in front may
 * have framed it otherwise (request smuggling, RFC 9112 6.3). So is a
 * request with a header name that is not a token (RFC 9110 5.1; e.g.
 * whitespace before the colon, RFC 9112 5.1), an HTTP/1.1 request
 * without Host, and any with more than one (RFC 9112 3.2).
 *
 * TLS: a server given a PEM certificate chain and key (in memory) speaks
 * only HTTPS, TLS 1.2 and 1.3 (libmicrohttpd over GnuTLS). It keeps them
 * parsed (GnuTLS wipes the key when it frees it), and
 * http_server_set_tls() replaces them while it runs: new handshakes use
 * the new ones, open connections keep theirs.
 *
 * Limits are fixed when the server starts: connections in total and per
 * client address, an idle timeout, a deadline for receiving a request
 * (so that a client sending its request a byte at a time cannot hold a
 * connection: see struct http_conf), the memory of one connection (which
 * bounds the request line and headers) and the request body size. Threads:
 * libmicrohttpd's internal polling (epoll) with a pool of worker threads,
 * or one thread per connection for handlers that may wait long (a
 * validation fetching from a customer's slow server: in a pool, every
 * connection of the waiting thread would wait with it). Either way
 * handlers run concurrently and must be thread-safe.
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
struct ipnet;

enum http_method {
	HTTP_GET = 1,		/* a GET route also answers HEAD */
	HTTP_HEAD = 2,
	HTTP_POST = 4,
	/* with HTTP_POST: a multipart/form-data body (a form with files)
	 * may be up to struct http_conf.max_upload rather than max_body;
	 * read it with http_req_multipart() */
	HTTP_UPLOAD = 8,
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
	int thread_per_connection;	/* instead of the pool (threads is
					 * then ignored) */
	unsigned conn_limit;	/* open connections; 0: 256 */
	unsigned per_ip_limit;	/* per client address, an IPv6 client by
				 * its /64 (it holds all of it); 0: 32 */
	/* Reverse proxies whose X-Forwarded-For is believed (see
	 * http_req_client_addr), as ipnet_list_parse() text; NULL or "":
	 * none. Their connections are not held to per_ip_limit (one proxy
	 * carries many clients). */
	const char *trusted_proxies;
	/* The only client addresses served, as ipnet_list_parse() text;
	 * NULL or "": any. Others are closed at accept. */
	const char *allow_from;
	unsigned timeout_s;	/* idle connection timeout; 0: 15 s */
	/*
	 * The deadline of a request: it must be in, headers and body,
	 * within request_timeout_s of its start (its connection's, or the
	 * end of the reply before it on its connection), plus one second
	 * for every body_min_rate bytes of its body that came; else its
	 * connection is closed, unanswered. 0: 30 s, 1024 bytes/s.
	 */
	unsigned request_timeout_s;
	unsigned body_min_rate;
	size_t max_body;	/* request body bound; 0: no body accepted */
	/* the bound of a multipart/form-data body POSTed to an HTTP_UPLOAD
	 * route (files); 0 or less than max_body: max_body */
	size_t max_upload;
	/* asked, once the headers of such a POST are in and before its body
	 * is read, whether it may have max_upload (1) or only max_body (0):
	 * so that only a logged-in customer's upload makes the server hold
	 * that much. NULL: always. app is the route's. */
	int (*upload_ok)(struct http_req *r, void *app);
	/* > 0: a socket made by http_listen_socket() to serve on instead of
	 * binding addr (which must still be given, for its family); the
	 * server owns it from then on, also when starting fails. */
	int listen_fd;
	/* HTTPS: both PEM texts (NUL-terminated, parsed at start; the
	 * server keeps no copy of the texts), or both NULL for plain HTTP.
	 * cert_pem is the server certificate followed by its chain, leaf
	 * first; the key must be the certificate's. */
	const char *tls_cert_pem;
	const char *tls_key_pem;
	/*
	 * Optional: formats the layer's own error replies (404, 405, 413,
	 * 500). Called with the request, the status and a short reason; it
	 * queues a reply with http_reply*() and returns 0, or returns non-zero
	 * to let the layer answer in text/plain. On a 405 the Allow header is
	 * already added. app is the server's app pointer.
	 */
	int (*on_error)(struct http_req *r, unsigned status, const char *reason,
	    void *app);
	/*
	 * Optional: a second route table on the same listener whose handlers
	 * get extra_app instead of the server's app (front ends with their
	 * own state, ACME and the portal, share one port). Matched after the
	 * main table; borrowed like it.
	 */
	const struct http_route *extra_routes;
	size_t nextra_routes;
	void *extra_app;
	/* Optional: the app pointer on_error gets; NULL: the server's. */
	void *error_app;
};

/* 1 when libmicrohttpd was built with TLS support. */
int http_tls_supported(void);

/*
 * Binds and listens on addr (port 0: any free port) before the server is
 * started, so that the caller knows the port first (e.g. to build the URLs
 * the server hands out). Returns 0 with the socket in *fd (give it to
 * struct http_conf.listen_fd, or close it) and the bound port in *port, or
 * RC_IO with the reason in d.
 */
int http_listen_socket(const struct sockaddr *addr, socklen_t addrlen,
    int *fd, int *port, struct rc_detail *d);

/*
 * Starts listening and serving routes[0..nroutes) (borrowed: must outlive
 * the server, as must app). Returns a new server in *out (stop with
 * http_server_stop()), or RC_IO with the reason in d (address in use, ...),
 * RC_CRYPTO when the TLS certificate or key cannot be used.
 */
int http_server_start(const struct http_conf *conf,
    const struct http_route *routes, size_t nroutes, void *app,
    struct http_server **out, struct rc_detail *d);
/*
 * HTTPS: makes every handshake from now on present cert_pem (the server
 * certificate followed by its chain, leaf first) and use key_pem (its
 * key), as struct http_conf has them; both are parsed, not kept, so the
 * caller wipes its key text as it likes. The listening socket stays, and
 * connections already open keep the certificate they were set up with.
 * Safe while requests are served. Returns 0; RC_CRYPTO when the texts
 * cannot be used (not PEM, chain out of order, a key that is not the
 * certificate's), the previous certificate staying in use; RC_INVAL for a
 * plain-HTTP server. The reason is in d.
 */
int http_server_set_tls(struct http_server *srv, const char *cert_pem,
    const char *key_pem, struct rc_detail *d);
/* Stops accepting, finishes the requests in flight, frees. NULL is fine. */
void http_server_stop(struct http_server *srv);
/* The port actually bound (useful when the configured port is 0). */
int http_server_port(const struct http_server *srv);
/* The replies queued so far, by status class (out[0]: 1xx .. out[4]:
 * 5xx); zeros for NULL. */
void http_server_replies(struct http_server *srv, uint64_t out[5]);

/* ---- the request (all borrowed, valid during the handler call) ----------- */

const char *http_req_method(const struct http_req *r);
/* The percent-decoded path without the query. */
const char *http_req_path(const struct http_req *r);
/* The request target exactly as the client sent it (RFC 9112 3.2): the
 * path, still percent-encoded, and the query if any; e.g. for comparing
 * with a URL the client signed. */
const char *http_req_target(const struct http_req *r);
/* The path after the matched route's prefix ("issuing-1.crl" for a route
 * "/crl/"); "" for exact routes. */
const char *http_req_tail(const struct http_req *r);
/* A request header by name (case-insensitive), or NULL. */
const char *http_req_header(const struct http_req *r, const char *name);
/* A query (URL) argument by name, percent-decoded, or NULL; "" for a
 * name without a value. */
const char *http_req_query(const struct http_req *r, const char *name);
/* The request body (at most the server's max_body bytes). */
const uint8_t *http_req_body(const struct http_req *r, size_t *len);
/*
 * A multipart/form-data body (RFC 7578: a form with files), as
 * libmicrohttpd's post processor reads it: one struct http_part per part,
 * in the body's order. Everything in it is the client's: a name or a
 * filename may hold any byte but NUL (a path, CR LF, markup, text that is
 * not UTF-8), and ctype is only what the client says the bytes are.
 */
struct http_part {
	char *name;		/* the field's name */
	char *filename;		/* a file's name as sent ("" when a file
				 * input was left empty), NULL for a
				 * plain field */
	char *ctype;		/* the declared Content-Type, or NULL */
	uint8_t *data;		/* len bytes (NUL after them) */
	size_t len;
};
struct http_multipart_limits {
	size_t max_parts;	/* parts in all */
	size_t max_files;	/* parts with a filename that are not empty */
	size_t max_file;	/* bytes of one file */
	size_t max_field;	/* bytes of a plain field */
	/* 1: the plain fields alone; file parts are passed over, neither
	 * kept nor counted (a form refused for its files shows its text
	 * again) */
	int fields_only;
};
/* Why http_req_multipart() refused a body. */
enum http_multipart_why {
	HTTP_MP_OK = 0,
	HTTP_MP_NOT_MULTIPART,	/* another Content-Type, or no boundary */
	HTTP_MP_MALFORMED,	/* not readable, or cut short */
	HTTP_MP_TOO_MANY_PARTS,
	HTTP_MP_TOO_MANY_FILES,
	HTTP_MP_FILE_TOO_BIG,
	HTTP_MP_FIELD_TOO_BIG,
};
/*
 * Reads the request's multipart/form-data body within lim into *parts, a
 * new array of *n (free with http_parts_free()). 0; RC_INVAL (*why
 * HTTP_MP_NOT_MULTIPART or _MALFORMED: a body whose final boundary is
 * missing is cut short) or RC_TOOBIG (*why says which limit), with
 * *parts NULL and *n 0. Call only from a handler of a POST.
 */
int http_req_multipart(struct http_req *r,
    const struct http_multipart_limits *lim, struct http_part **parts,
    size_t *n, enum http_multipart_why *why);
void http_parts_free(struct http_part *parts, size_t n);	/* NULL ok */

/* 1 when the request came over TLS. */
int http_req_tls(const struct http_req *r);
/* The port of the server the request came to. */
int http_req_port(const struct http_req *r);
/* The client's IP address as text ("127.0.0.1", "::1") into out; "?"
 * when unknown. For a request from a trusted proxy (struct
 * http_conf.trusted_proxies), the client's address as the proxies
 * forwarded it in X-Forwarded-For (http_realip below); "?" when what
 * they forwarded is not an address (logged at info level, once per
 * request). Callers that count per address count every "?" under that
 * one key rather than let it escape the count. */
void http_req_client_addr(struct http_req *r, char *out, size_t len);

/*
 * What http_req_client_addr() does with a request from peer (text) that
 * carries the X-Forwarded-For values xff[0..nxff) in their order: peer
 * itself unless it is in proxies[0..nproxies) (so also a trusted proxy's
 * request without the header: its own); otherwise, walking the header's
 * comma-separated entries from the right, the first address that is not
 * a trusted proxy, or the leftmost when every one is. Writes the address
 * (inet_ntop form; IPv4-mapped IPv6 as IPv4) into out and returns 0; or,
 * when the walk meets an entry that is not an address before the client,
 * writes "?" and returns 1.
 */
int http_realip(const struct ipnet *proxies, size_t nproxies,
    const char *peer, const char *const *xff, size_t nxff, char *out,
    size_t len);

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
