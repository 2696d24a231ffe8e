/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/validation/http01.c (RFC 8555 §8.3) with names served by
 * Knot DNS and an in-process HTTP server thread (plus an HTTPS one for
 * redirects to https): the right key authorization (with trailing
 * whitespace), a wrong one, 404 and 500, redirect chains (relative, to
 * another name, to https, to a forbidden port, to IP literals, to other
 * schemes, with user info, loops, exactly 10 and more than 10), a 1 MiB
 * body and oversized headers (bounded reads), a server that never answers
 * (bounded time), refused connections and the AAAA-then-A fallback.
 * The same server answers under /.well-known/pki-validation/ for
 * src/validation/httpfile.c (BR 3.2.2.4.18, val_http_file()), which shares
 * the fetch (http_fetch.c): found, 404, wrong content, a redirect to a
 * forbidden port, a body too large, bad input, the evidence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"
#include "validation/val_int.h"

#define KEYAUTH "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA." \
	"nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ"
#define WK "/.well-known/acme-challenge/"
#define PV "/.well-known/pki-validation/"
/* the portal's random value for the file method */
#define RANDVAL "k7Qm2R9xTfVw4LpZ8sNcYb3HdJ6gE1aU"

/* ---- the HTTP(S) server thread ------------------------------------------ */

struct hsrv {
	int fd;
	uint16_t port;
	SSL_CTX *tls;		/* NULL: plain HTTP */
	pthread_t thread;
	int stop[2];
	int parked[32];
	int nparked;
	char last_host[256];
	char last_ua[256];
	unsigned requests;
};

static struct hsrv plain, secure;
static struct tl_knot knot;
static int have_knot;
static struct val_ctx *ctx;

struct conn {
	int fd;
	SSL *ssl;
};

static int
c_write(struct conn *c, const void *p, size_t n)
{
	if (c->ssl != NULL)
		return SSL_write(c->ssl, p, (int)n) == (int)n ? 0 : -1;
	return send(c->fd, p, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

static int
c_read(struct conn *c, void *p, size_t n)
{
	if (c->ssl != NULL)
		return SSL_read(c->ssl, p, (int)n);
	return (int)recv(c->fd, p, n, 0);
}

static void
reply(struct conn *c, int status, const char *extra, const char *body)
{
	char h[1024];

	snprintf(h, sizeof(h), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n%s\r\n", status, strlen(body),
	    extra ? extra : "");
	if (c_write(c, h, strlen(h)) == 0)
		c_write(c, body, strlen(body));
}

static void __attribute__((format(printf, 3, 4)))
redirect(struct conn *c, int status, const char *fmt, ...)
{
	char loc[600], extra[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(loc, sizeof(loc), fmt, ap);
	va_end(ap);
	snprintf(extra, sizeof(extra), "Location: %s\r\n", loc);
	reply(c, status, extra, "moved");
}

/* Serves one request; returns 1 when the connection is to be parked. */
static int
serve(struct hsrv *s, struct conn *c)
{
	char req[8192], path[512] = "", *h;
	size_t got = 0;
	int m, n;

	while (got < sizeof(req) - 1) {
		int r = c_read(c, req + got, sizeof(req) - 1 - got);

		if (r <= 0)
			return 0;
		got += (size_t)r;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	s->requests++;
	sscanf(req, "GET %511s", path);
	path[strcspn(path, "?")] = '\0';	/* the query is not matched */
	if ((h = strcasestr(req, "\r\nHost: ")) != NULL)
		sscanf(h + 8, "%255[^\r]", s->last_host);
	if ((h = strcasestr(req, "\r\nUser-Agent: ")) != NULL)
		sscanf(h + 14, "%255[^\r]", s->last_ua);

	if (strcmp(path, WK "good") == 0)
		reply(c, 200, NULL, KEYAUTH);
	else if (strcmp(path, WK "goodnl") == 0)
		reply(c, 200, NULL, KEYAUTH "\r\n \t\n");
	else if (strcmp(path, WK "lead") == 0)
		reply(c, 200, NULL, " " KEYAUTH);
	else if (strcmp(path, WK "wrong") == 0)
		reply(c, 200, NULL, "not-the-key-authorization\x01");
	else if (strcmp(path, WK "err500") == 0)
		reply(c, 500, NULL, KEYAUTH);
	else if (strcmp(path, WK "silent") == 0)
		return 1;
	else if (strcmp(path, PV "found.txt") == 0)
		reply(c, 200, NULL, "certdesk validation\r\n" RANDVAL "\r\n");
	else if (strcmp(path, PV "exact.txt") == 0)
		reply(c, 200, NULL, RANDVAL);
	else if (strcmp(path, PV "wrong.txt") == 0)
		reply(c, 200, NULL, "some other value\x01");
	else if (strcmp(path, PV "partial.txt") == 0)
		reply(c, 200, NULL, "k7Qm2R9xTfVw4LpZ8sNcYb3HdJ6gE1a");
	else if (strcmp(path, PV "empty.txt") == 0)
		reply(c, 200, NULL, "");
	else if (strcmp(path, PV "err500.txt") == 0)
		reply(c, 500, NULL, RANDVAL);
	else if (strcmp(path, PV "redir.txt") == 0)
		redirect(c, 302, "http://web2.vtest:%u" PV "found.txt",
		    plain.port);
	else if (strcmp(path, PV "redir-https.txt") == 0)
		redirect(c, 302, "https://web2.vtest:%u" PV "exact.txt",
		    secure.port);
	else if (strcmp(path, PV "redir-badport.txt") == 0)
		redirect(c, 302, "http://web2.vtest:1" PV "found.txt");
	else if (strcmp(path, PV "redir-ip.txt") == 0)
		redirect(c, 302, "http://127.0.0.1:%u" PV "found.txt",
		    plain.port);
	else if (strcmp(path, PV "redir-loop.txt") == 0)
		redirect(c, 302, PV "redir-loop.txt");
	else if (strcmp(path, WK "big") == 0 ||
	    strcmp(path, WK "bigcl") == 0 || strcmp(path, PV "big.txt") == 0) {
		static char chunk[16384];
		const char *hd = strcmp(path, WK "bigcl") != 0 ?
		    "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" :
		    "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n";

		memset(chunk, 'A', sizeof(chunk));
		if (c_write(c, hd, strlen(hd)) != 0)
			return 0;
		for (int i = 0; i < 64; i++)	/* 1 MiB */
			if (c_write(c, chunk, sizeof(chunk)) != 0)
				break;
	} else if (strcmp(path, WK "hdrbig") == 0) {
		char line[1100];

		c_write(c, "HTTP/1.1 200 OK\r\n", 17);
		memset(line, 'h', sizeof(line));
		memcpy(line, "X-Pad: ", 7);
		memcpy(line + sizeof(line) - 2, "\r\n", 2);
		for (int i = 0; i < 20; i++)
			if (c_write(c, line, sizeof(line)) != 0)
				return 0;
		c_write(c, "\r\n" KEYAUTH, 2 + strlen(KEYAUTH));
	} else if (strcmp(path, WK "redir") == 0)
		redirect(c, 302, "http://web2.vtest:%u" WK "good", plain.port);
	else if (strcmp(path, WK "redir-rel") == 0)
		redirect(c, 301, WK "goodnl");
	else if (strcmp(path, WK "redir-303") == 0)
		redirect(c, 303, "http://web2.vtest:%u" WK "good", plain.port);
	else if (strcmp(path, WK "redir-307") == 0)
		redirect(c, 307, "//web2.vtest:%u" WK "good?x=1", plain.port);
	else if (strcmp(path, WK "redir-https") == 0)
		redirect(c, 302, "https://web2.vtest:%u" WK "good",
		    secure.port);
	else if (strcmp(path, WK "redir-https-noport") == 0)
		redirect(c, 308, "https://web2.vtest" WK "good");
	else if (strcmp(path, WK "redir-badport") == 0)
		redirect(c, 302, "http://web2.vtest:1" WK "good");
	else if (strcmp(path, WK "redir-port80") == 0)
		redirect(c, 302, "http://web2.vtest:80" WK "good");
	else if (strcmp(path, WK "redir-ip") == 0)
		redirect(c, 302, "http://127.0.0.1:%u" WK "good", plain.port);
	else if (strcmp(path, WK "redir-ip6") == 0)
		redirect(c, 302, "http://[::1]:%u" WK "good", plain.port);
	else if (strcmp(path, WK "redir-ipnum") == 0)
		redirect(c, 302, "http://2130706433:%u" WK "good", plain.port);
	else if (strcmp(path, WK "redir-ftp") == 0)
		redirect(c, 302, "ftp://web2.vtest" WK "good");
	else if (strcmp(path, WK "redir-file") == 0)
		redirect(c, 302, "file:///etc/passwd");
	else if (strcmp(path, WK "redir-user") == 0)
		redirect(c, 302, "http://u:p@web2.vtest:%u" WK "good",
		    plain.port);
	else if (strcmp(path, WK "redir-loop") == 0)
		redirect(c, 302, WK "redir-loop");
	else if (strcmp(path, WK "redir-nx") == 0)
		redirect(c, 302, "http://nxhost.vtest:%u" WK "good",
		    plain.port);
	else if (strcmp(path, WK "redir-none") == 0)
		reply(c, 302, NULL, "no location");
	else if (sscanf(path, WK "chain%d-%d", &m, &n) == 2) {
		if (n < m)
			redirect(c, 302, WK "chain%d-%d", m, n + 1);
		else
			reply(c, 200, NULL, KEYAUTH);
	} else
		reply(c, 404, NULL, "not found");
	return 0;
}

static void *
srv_main(void *arg)
{
	struct hsrv *s = arg;

	for (;;) {
		struct pollfd p[2] = {{.fd = s->fd, .events = POLLIN},
			{.fd = s->stop[0], .events = POLLIN}};
		struct conn c = {-1, NULL};
		struct timeval tv = {2, 0};

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		c.fd = accept(s->fd, NULL, NULL);
		if (c.fd < 0)
			continue;
		setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (s->tls != NULL) {
			c.ssl = SSL_new(s->tls);
			SSL_set_fd(c.ssl, c.fd);
			if (SSL_accept(c.ssl) != 1) {
				SSL_free(c.ssl);
				close(c.fd);
				continue;
			}
		}
		if (serve(s, &c) && s->nparked < 32 && c.ssl == NULL) {
			s->parked[s->nparked++] = c.fd;
			continue;
		}
		if (c.ssl != NULL) {
			SSL_shutdown(c.ssl);
			SSL_free(c.ssl);
		}
		close(c.fd);
	}
	return NULL;
}

static SSL_CTX *
server_tls(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	SSL_CTX *t = SSL_CTX_new(TLS_server_method());

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"self-signed", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_sign(x, key, EVP_sha256());
	SSL_CTX_use_certificate(t, x);
	SSL_CTX_use_PrivateKey(t, key);
	X509_free(x);
	EVP_PKEY_free(key);
	return t;
}

static int
srv_start(struct hsrv *s, int tls)
{
	memset(s, 0, sizeof(*s));
	s->fd = tl_listen_tcp(0, &s->port);
	if (s->fd < 0 || pipe(s->stop) != 0)
		return -1;
	s->tls = tls ? server_tls() : NULL;
	return pthread_create(&s->thread, NULL, srv_main, s);
}

static void
srv_stop(struct hsrv *s)
{
	if (write(s->stop[1], "x", 1) == 1)
		pthread_join(s->thread, NULL);
	for (int i = 0; i < s->nparked; i++)
		close(s->parked[i]);
	close(s->fd);
	close(s->stop[0]);
	close(s->stop[1]);
	SSL_CTX_free(s->tls);
}

static int
setup(void **state)
{
	struct val_conf c;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	have_knot = tl_knot_start(&knot) == 0;
	if (!have_knot)
		return 0;
	if (srv_start(&plain, 0) != 0 || srv_start(&secure, 1) != 0)
		return -1;
	tl_conf(&c, knot.resolver);
	c.http01_port = plain.port;
	c.https_port = secure.port;
	return val_ctx_open(&c, &ctx, NULL);
}

static int
teardown(void **state)
{
	(void)state;
	if (!have_knot)
		return 0;
	val_ctx_free(ctx);
	srv_stop(&plain);
	srv_stop(&secure);
	tl_knot_stop(&knot);
	return 0;
}

/* ---- the tests ----------------------------------------------------------- */

struct case_ {
	const char *name;
	const char *token;
	enum val_problem prob;
	const char *detail;
};

/* val_http01() and val_http_file() take the same arguments. */
typedef int (*check_fn)(struct val_ctx *, const char *, const char *,
    const char *, struct val_result *);

/* Runs each case with value as the key authorization / random value and
 * checks problem, outcome, detail and the evidence "kind". */
static void
run_cases(check_fn check, const char *value, const char *kind,
    const struct case_ *cases, size_t n)
{
	struct val_result res;

	for (size_t i = 0; i < n; i++) {
		const struct case_ *c = &cases[i];

		assert_int_equal(check(ctx, c->name, c->token, value, &res),
		    0);
		if (res.problem != c->prob ||
		    (res.outcome == VAL_VALID) != (c->prob == VAL_PROB_NONE) ||
		    (c->detail != NULL && strstr(res.detail, c->detail) ==
		    NULL))
			fail_msg("%s %s: %s: %s", c->name, c->token,
			    val_problem_name(res.problem), res.detail);
		if (getenv("TL_VERBOSE") != NULL)
			printf("%-24s %-18s %s\n", c->name,
			    val_problem_name(res.problem), res.detail);
		assert_true(tl_json_has(res.evidence, "kind", kind));
		val_result_clear(&res);
	}
}

static void
test_http01_cases(void **state)
{
	static const struct case_ cases[] = {
		{"web.vtest", "good", VAL_PROB_NONE, "Found the key "
		    "authorization at http://web.vtest:"},
		{"WEB.vtest", "goodnl", VAL_PROB_NONE, NULL},
		{"web.vtest", "lead", VAL_PROB_INCORRECT_RESPONSE, NULL},
		{"web.vtest", "wrong", VAL_PROB_INCORRECT_RESPONSE,
		    "Expected '" KEYAUTH "' at http://web.vtest:"},
		{"web.vtest", "missing", VAL_PROB_UNAUTHORIZED, "HTTP 404"},
		{"web.vtest", "err500", VAL_PROB_UNAUTHORIZED, "HTTP 500"},
		{"web.vtest", "big", VAL_PROB_UNAUTHORIZED,
		    "is larger than 4096 bytes"},
		{"web.vtest", "bigcl", VAL_PROB_UNAUTHORIZED,
		    "is larger than 4096 bytes"},
		{"web.vtest", "hdrbig", VAL_PROB_UNAUTHORIZED,
		    "headers from"},
		{"web.vtest", "redir", VAL_PROB_NONE, "web2.vtest"},
		{"web.vtest", "redir-rel", VAL_PROB_NONE, NULL},
		{"web.vtest", "redir-307", VAL_PROB_NONE, NULL},
		/* BR 3.2.2.4.19: not a redirect the BR allow */
		{"web.vtest", "redir-303", VAL_PROB_UNAUTHORIZED, "HTTP 303"},
		{"web.vtest", "redir-https", VAL_PROB_NONE, "https://web2"},
		{"web.vtest", "redir-https-noport", VAL_PROB_NONE, NULL},
		{"web.vtest", "chain10-0", VAL_PROB_NONE, NULL},
		{"web.vtest", "chain11-0", VAL_PROB_CONNECTION,
		    "Too many redirects (more than 10)"},
		{"web.vtest", "redir-badport", VAL_PROB_CONNECTION,
		    "Invalid port in redirect target"},
		{"web.vtest", "redir-port80", VAL_PROB_CONNECTION,
		    "Invalid port in redirect target"},
		{"web.vtest", "redir-ip", VAL_PROB_CONNECTION,
		    "not IP addresses"},
		{"web.vtest", "redir-ip6", VAL_PROB_CONNECTION,
		    "not IP addresses"},
		{"web.vtest", "redir-ipnum", VAL_PROB_CONNECTION,
		    "redirect target"},
		{"web.vtest", "redir-ftp", VAL_PROB_CONNECTION,
		    "only http and https"},
		{"web.vtest", "redir-file", VAL_PROB_CONNECTION, NULL},
		{"web.vtest", "redir-user", VAL_PROB_CONNECTION,
		    "user information"},
		{"web.vtest", "redir-loop", VAL_PROB_CONNECTION,
		    "Redirect loop"},
		{"web.vtest", "redir-nx", VAL_PROB_DNS, "nxhost.vtest"},
		{"web.vtest", "redir-none", VAL_PROB_CONNECTION,
		    "without a Location"},
		/* AAAA ::1 refused (the server is on 127.0.0.1 only), then
		 * A 127.0.0.1 */
		{"both.vtest", "good", VAL_PROB_NONE, "127.0.0.1"},
		{"many.vtest", "good", VAL_PROB_NONE, NULL},
		{"v6.vtest", "good", VAL_PROB_CONNECTION,
		    "Connection refused to [::1]:"},
		{"noaddr.vtest", "good", VAL_PROB_DNS,
		    "No valid IP addresses found for noaddr.vtest"},
		{"www.example.org", "good", VAL_PROB_DNS, "SERVFAIL"},
	};

	(void)state;
	if (!have_knot)
		skip();
	run_cases(val_http01, KEYAUTH, "http-01", cases,
	    sizeof(cases) / sizeof(cases[0]));
}

static void
test_http01_request(void **state)
{
	struct val_result res;
	char want[64];
	json_t *j, *hop;

	(void)state;
	if (!have_knot)
		skip();
	assert_int_equal(val_http01(ctx, "web.vtest", "good", KEYAUTH, &res),
	    0);
	assert_int_equal(res.outcome, VAL_VALID);
	/* Host carries the port because it is not 80 (HTTP/1.1) */
	snprintf(want, sizeof(want), "web.vtest:%u", plain.port);
	assert_string_equal(plain.last_host, want);
	assert_non_null(strstr(plain.last_ua, "certdesk-validation/"));
	j = json_loads(res.evidence, 0, NULL);
	assert_non_null(j);
	hop = json_array_get(json_object_get(j, "http"), 0);
	assert_int_equal(json_integer_value(json_object_get(hop, "status")),
	    200);
	snprintf(want, sizeof(want), "127.0.0.1:%u", plain.port);
	assert_string_equal(json_string_value(json_object_get(hop,
	    "address_used")), want);
	assert_string_equal(json_string_value(json_object_get(j, "expected")),
	    KEYAUTH);
	json_decref(j);
	val_result_clear(&res);

	/* a redirect chain is in the evidence hop by hop */
	assert_int_equal(val_http01(ctx, "web.vtest", "redir-https", KEYAUTH,
	    &res), 0);
	assert_int_equal(res.outcome, VAL_VALID);
	j = json_loads(res.evidence, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "http")), 2);
	hop = json_array_get(json_object_get(j, "http"), 0);
	assert_int_equal(json_integer_value(json_object_get(hop, "status")),
	    302);
	assert_non_null(strstr(json_string_value(json_object_get(hop,
	    "location")), "https://web2.vtest:"));
	hop = json_array_get(json_object_get(j, "http"), 1);
	assert_string_equal(json_string_value(json_object_get(hop, "host")),
	    "web2.vtest");
	json_decref(j);
	val_result_clear(&res);

	/* the fallback from ::1 to 127.0.0.1 shows two attempts */
	assert_int_equal(val_http01(ctx, "both.vtest", "good", KEYAUTH, &res),
	    0);
	j = json_loads(res.evidence, 0, NULL);
	hop = json_array_get(json_object_get(j, "http"), 0);
	assert_int_equal(json_array_size(json_object_get(hop, "attempts")), 2);
	json_decref(j);
	val_result_clear(&res);
}

static void
test_http01_silent(void **state)
{
	struct val_result res;
	int64_t t0 = val_now_ms();

	(void)state;
	if (!have_knot)
		skip();
	assert_int_equal(val_http01(ctx, "web.vtest", "silent", KEYAUTH, &res),
	    0);
	assert_true(val_now_ms() - t0 < 1500 + 1000);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_int_equal(res.problem, VAL_PROB_CONNECTION);
	assert_non_null(strstr(res.detail, "Timeout after 1500 ms"));
	val_result_clear(&res);
}

static void
test_http01_refused(void **state)
{
	struct val_conf c;
	struct val_ctx *x;
	struct val_result res;
	uint16_t port;
	int fd = tl_listen_tcp(0, &port);
	char want[64];

	(void)state;
	if (!have_knot)
		skip();
	close(fd);	/* nobody listens on port now */
	tl_conf(&c, knot.resolver);
	c.http01_port = port;
	assert_int_equal(val_ctx_open(&c, &x, NULL), 0);
	assert_int_equal(val_http01(x, "web.vtest", "good", KEYAUTH, &res), 0);
	assert_int_equal(res.problem, VAL_PROB_CONNECTION);
	snprintf(want, sizeof(want), "Connection refused to 127.0.0.1:%u",
	    port);
	assert_string_equal(res.detail, want);
	val_result_clear(&res);
	val_ctx_free(x);
}

static void
test_http01_bad_input(void **state)
{
	struct val_result res;

	(void)state;
	if (!have_knot)
		skip();
	assert_int_equal(val_http01(ctx, "*.web.vtest", "good", KEYAUTH,
	    &res), RC_BADNAME);
	assert_int_equal(res.problem, VAL_PROB_REJECTED_IDENTIFIER);
	val_result_clear(&res);
	assert_int_equal(val_http01(ctx, "127.0.0.1", "good", KEYAUTH, &res),
	    RC_BADNAME);
	val_result_clear(&res);
	assert_int_equal(val_http01(ctx, "web.vtest", "../etc", KEYAUTH,
	    &res), RC_INVAL);
	assert_int_equal(res.problem, VAL_PROB_SERVER_INTERNAL);
	val_result_clear(&res);
	assert_int_equal(val_http01(ctx, "web.vtest", "good", "with space",
	    &res), RC_INVAL);
	val_result_clear(&res);
	assert_int_equal(val_http01(ctx, "web.vtest", "", KEYAUTH, &res),
	    RC_INVAL);
	val_result_clear(&res);
	assert_int_equal(val_http01(ctx, "web.vtest", NULL, KEYAUTH, &res),
	    RC_INVAL);
	val_result_clear(&res);
	{
		struct val_request req = {.kind = VAL_KIND_HTTP01,
			.name = "web.vtest", .token = "good",
			.key_authz = KEYAUTH};

		assert_int_equal(val_check(ctx, &req, &res), 0);
		assert_int_equal(res.outcome, VAL_VALID);
		val_result_clear(&res);
	}
}

/* Without allow_private_addresses, 127.0.0.1 is never contacted. */
static void
test_http01_private(void **state)
{
	struct val_conf c;
	struct val_ctx *x;
	struct val_result res;
	unsigned before = plain.requests;

	(void)state;
	if (!have_knot)
		skip();
	tl_conf(&c, knot.resolver);
	c.http01_port = plain.port;
	c.allow_private_addresses = 0;
	assert_int_equal(val_ctx_open(&c, &x, NULL), 0);
	assert_int_equal(val_http01(x, "web.vtest", "good", KEYAUTH, &res), 0);
	assert_int_equal(res.problem, VAL_PROB_DNS);
	assert_int_equal(plain.requests, before);
	val_result_clear(&res);
	val_ctx_free(x);
}

/* ---- IP identifiers (RFC 8738, val_http01_ip) ---------------------------- */

static void
test_http01_ip(void **state)
{
	static const char *const bad[] = {
		"1.2.3", "01.2.3.4", "1.2.3.4.", "fe80::1%eth0",
		"0:0:0:0:0:0:0:1", "::FFFF:1.2.3.4", "[::1]", "web.vtest", "",
		"127.0.0.1:80", " 127.0.0.1",
	};
	struct val_result res;
	char want[64], huge[4096];
	unsigned before;
	json_t *j, *hop;

	(void)state;
	if (!have_knot)
		skip();
	before = plain.requests;
	assert_int_equal(val_http01_ip(ctx, "127.0.0.1", "good", KEYAUTH,
	    &res), 0);
	if (res.outcome != VAL_VALID)
		fail_msg("127.0.0.1: %s", res.detail);
	/* Host is the address (with the port, not 80) */
	snprintf(want, sizeof(want), "127.0.0.1:%u", plain.port);
	assert_string_equal(plain.last_host, want);
	assert_int_equal(plain.requests, before + 1);
	j = json_loads(res.evidence, 0, NULL);
	assert_non_null(j);
	/* no DNS lookup at all */
	assert_null(json_object_get(j, "dns"));
	hop = json_array_get(json_object_get(j, "http"), 0);
	assert_string_equal(json_string_value(json_object_get(hop,
	    "address_used")), want);
	snprintf(want, sizeof(want), "http://127.0.0.1:%u" WK "good",
	    plain.port);
	assert_string_equal(json_string_value(json_object_get(hop, "url")),
	    want);
	json_decref(j);
	val_result_clear(&res);

	/* wrong answer, 404 */
	assert_int_equal(val_http01_ip(ctx, "127.0.0.1", "wrong", KEYAUTH,
	    &res), 0);
	assert_int_equal(res.problem, VAL_PROB_INCORRECT_RESPONSE);
	val_result_clear(&res);
	assert_int_equal(val_http01_ip(ctx, "127.0.0.1", "missing", KEYAUTH,
	    &res), 0);
	assert_int_equal(res.problem, VAL_PROB_UNAUTHORIZED);
	val_result_clear(&res);
	/* redirects: to a DNS name as usual, never to an IP literal */
	assert_int_equal(val_http01_ip(ctx, "127.0.0.1", "redir", KEYAUTH,
	    &res), 0);
	if (res.outcome != VAL_VALID)
		fail_msg("redir: %s", res.detail);
	val_result_clear(&res);
	assert_int_equal(val_http01_ip(ctx, "127.0.0.1", "redir-ip", KEYAUTH,
	    &res), 0);
	assert_int_equal(res.problem, VAL_PROB_CONNECTION);
	assert_non_null(strstr(res.detail, "not IP addresses"));
	val_result_clear(&res);
	/* a relative redirect from an address is to an IP literal too */
	assert_int_equal(val_http01_ip(ctx, "127.0.0.1", "chain11-0",
	    KEYAUTH, &res), 0);
	assert_int_equal(res.problem, VAL_PROB_CONNECTION);
	assert_non_null(strstr(res.detail, "not IP addresses"));
	val_result_clear(&res);

	/* through val_check() */
	{
		struct val_request req = {.kind = VAL_KIND_HTTP01,
			.name = "127.0.0.1", .token = "good",
			.key_authz = KEYAUTH, .is_ip = 1};

		assert_int_equal(val_check(ctx, &req, &res), 0);
		assert_int_equal(res.outcome, VAL_VALID);
		val_result_clear(&res);
		req.kind = VAL_KIND_DNS01;
		req.expected = "x";
		assert_int_equal(val_check(ctx, &req, &res), RC_INVAL);
		assert_non_null(strstr(res.detail, "not defined for IP"));
		val_result_clear(&res);
	}

	/* bad addresses: refused before any connection */
	before = plain.requests;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (val_http01_ip(ctx, bad[i], "good", KEYAUTH, &res) !=
		    RC_BADNAME || res.problem != VAL_PROB_REJECTED_IDENTIFIER)
			fail_msg("'%s' not refused: %s", bad[i], res.detail);
		val_result_clear(&res);
	}
	memset(huge, '1', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(val_http01_ip(ctx, huge, "good", KEYAUTH, &res),
	    RC_BADNAME);
	val_result_clear(&res);
	assert_int_equal(val_http01_ip(ctx, NULL, "good", KEYAUTH, &res),
	    RC_INVAL);
	val_result_clear(&res);
	assert_int_equal(plain.requests, before);
}

/* Without allow_private_addresses an address identifier that is
 * special-purpose is refused, never contacted. */
static void
test_http01_ip_private(void **state)
{
	struct val_conf c;
	struct val_ctx *x;
	struct val_result res;
	unsigned before = plain.requests;

	(void)state;
	if (!have_knot)
		skip();
	tl_conf(&c, knot.resolver);
	c.http01_port = plain.port;
	c.allow_private_addresses = 0;
	assert_int_equal(val_ctx_open(&c, &x, NULL), 0);
	assert_int_equal(val_http01_ip(x, "127.0.0.1", "good", KEYAUTH,
	    &res), RC_BADNAME);
	assert_int_equal(res.problem, VAL_PROB_REJECTED_IDENTIFIER);
	assert_non_null(strstr(res.detail, "special-purpose"));
	val_result_clear(&res);
	assert_int_equal(val_http01_ip(x, "::1", "good", KEYAUTH, &res),
	    RC_BADNAME);
	val_result_clear(&res);
	assert_int_equal(plain.requests, before);
	val_ctx_free(x);
}

/* ::1 over IPv6: the URL and Host carry the address in brackets. */
static void
test_http01_ip6(void **state)
{
	struct hsrv v6;
	struct val_conf c;
	struct val_ctx *x;
	struct val_result res;
	char want[64];

	(void)state;
	if (!have_knot)
		skip();
	memset(&v6, 0, sizeof(v6));
	v6.fd = tl_listen_tcp(1, &v6.port);
	if (v6.fd < 0)
		skip();		/* no IPv6 loopback on this machine */
	assert_int_equal(pipe(v6.stop), 0);
	assert_int_equal(pthread_create(&v6.thread, NULL, srv_main, &v6), 0);
	tl_conf(&c, knot.resolver);
	c.http01_port = v6.port;
	assert_int_equal(val_ctx_open(&c, &x, NULL), 0);
	assert_int_equal(val_http01_ip(x, "::1", "good", KEYAUTH, &res), 0);
	if (res.outcome != VAL_VALID)
		fail_msg("::1: %s", res.detail);
	snprintf(want, sizeof(want), "[::1]:%u", v6.port);
	assert_string_equal(v6.last_host, want);
	val_result_clear(&res);
	/* nobody on 127.0.0.1 at that port */
	assert_int_equal(val_http01_ip(x, "127.0.0.1", "good", KEYAUTH, &res),
	    0);
	assert_int_equal(res.problem, VAL_PROB_CONNECTION);
	val_result_clear(&res);
	val_ctx_free(x);
	srv_stop(&v6);
}

/* ---- the file on the website (httpfile.c) ------------------------------- */

static void
test_http_file_cases(void **state)
{
	static const struct case_ cases[] = {
		{"web.vtest", "found", VAL_PROB_NONE, "Found the random value "
		    "in http://web.vtest:"},
		{"WEB.vtest", "exact", VAL_PROB_NONE, PV "exact.txt"},
		{"web.vtest", "missing", VAL_PROB_UNAUTHORIZED, "HTTP 404"},
		{"web.vtest", "err500", VAL_PROB_UNAUTHORIZED, "HTTP 500"},
		{"web.vtest", "wrong", VAL_PROB_INCORRECT_RESPONSE,
		    "Expected '" RANDVAL "' in http://web.vtest:"},
		{"web.vtest", "partial", VAL_PROB_INCORRECT_RESPONSE, NULL},
		{"web.vtest", "empty", VAL_PROB_INCORRECT_RESPONSE,
		    "found ''"},
		{"web.vtest", "big", VAL_PROB_UNAUTHORIZED,
		    "is larger than 4096 bytes"},
		{"web.vtest", "redir", VAL_PROB_NONE, "web2.vtest"},
		{"web.vtest", "redir-https", VAL_PROB_NONE, "https://web2"},
		{"web.vtest", "redir-badport", VAL_PROB_CONNECTION,
		    "Invalid port in redirect target"},
		{"web.vtest", "redir-ip", VAL_PROB_CONNECTION,
		    "not IP addresses"},
		{"web.vtest", "redir-loop", VAL_PROB_CONNECTION,
		    "Redirect loop"},
		{"both.vtest", "found", VAL_PROB_NONE, "127.0.0.1"},
		{"noaddr.vtest", "found", VAL_PROB_DNS,
		    "No valid IP addresses found for noaddr.vtest"},
	};

	(void)state;
	if (!have_knot)
		skip();
	run_cases(val_http_file, RANDVAL, "http-file", cases,
	    sizeof(cases) / sizeof(cases[0]));
}

static void
test_http_file_request(void **state)
{
	struct val_result res;
	char want[128];
	json_t *j, *hop;
	unsigned before;

	(void)state;
	if (!have_knot)
		skip();
	assert_int_equal(val_http_file(ctx, "web.vtest", "found", RANDVAL,
	    &res), 0);
	assert_int_equal(res.outcome, VAL_VALID);
	snprintf(want, sizeof(want), "web.vtest:%u", plain.port);
	assert_string_equal(plain.last_host, want);
	j = json_loads(res.evidence, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "expected")),
	    RANDVAL);
	hop = json_array_get(json_object_get(j, "http"), 0);
	snprintf(want, sizeof(want), "http://web.vtest:%u" PV "found.txt",
	    plain.port);
	assert_string_equal(json_string_value(json_object_get(hop, "url")),
	    want);
	assert_int_equal(json_integer_value(json_object_get(hop, "status")),
	    200);
	json_decref(j);
	val_result_clear(&res);

	/* the forbidden port is never contacted: one request only */
	before = plain.requests;
	assert_int_equal(val_http_file(ctx, "web.vtest", "redir-badport",
	    RANDVAL, &res), 0);
	assert_int_equal(res.outcome, VAL_INVALID);
	assert_int_equal(plain.requests, before + 1);
	j = json_loads(res.evidence, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "http")), 1);
	json_decref(j);
	val_result_clear(&res);
}

static void
test_http_file_bad_input(void **state)
{
	struct val_result res;

	(void)state;
	if (!have_knot)
		skip();
	assert_int_equal(val_http_file(ctx, "*.web.vtest", "found", RANDVAL,
	    &res), RC_BADNAME);
	assert_int_equal(res.problem, VAL_PROB_REJECTED_IDENTIFIER);
	assert_true(tl_json_has(res.evidence, "kind", "http-file"));
	val_result_clear(&res);
	assert_int_equal(val_http_file(ctx, "web.vtest", "../etc", RANDVAL,
	    &res), RC_INVAL);
	assert_int_equal(res.problem, VAL_PROB_SERVER_INTERNAL);
	val_result_clear(&res);
	assert_int_equal(val_http_file(ctx, "web.vtest", "found.txt", RANDVAL,
	    &res), RC_INVAL);
	val_result_clear(&res);
	assert_int_equal(val_http_file(ctx, "web.vtest", "found", "a b",
	    &res), RC_INVAL);
	val_result_clear(&res);
	assert_int_equal(val_http_file(ctx, "web.vtest", "found", "",
	    &res), RC_INVAL);
	val_result_clear(&res);
	assert_int_equal(val_http_file(ctx, "web.vtest", NULL, RANDVAL, &res),
	    RC_INVAL);
	val_result_clear(&res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http01_cases),
		cmocka_unit_test(test_http01_request),
		cmocka_unit_test(test_http01_silent),
		cmocka_unit_test(test_http01_refused),
		cmocka_unit_test(test_http01_bad_input),
		cmocka_unit_test(test_http01_private),
		cmocka_unit_test(test_http01_ip),
		cmocka_unit_test(test_http01_ip_private),
		cmocka_unit_test(test_http01_ip6),
		cmocka_unit_test(test_http_file_cases),
		cmocka_unit_test(test_http_file_request),
		cmocka_unit_test(test_http_file_bad_input),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
