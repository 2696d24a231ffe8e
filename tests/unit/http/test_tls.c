/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of an HTTPS server of src/http/http.c on loopback, with an
 * OpenSSL client: http_server_set_tls() makes new handshakes present the
 * new certificate while a keep-alive connection set up before goes on
 * answering with the old one, and what cannot be used (a key that is not
 * the certificate's, text that is no PEM) is refused with the current
 * certificate staying in use. The certificates are self-signed P-256 ones
 * made here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

/* A self-signed certificate and its key, as PEM texts and parsed. */
struct pair {
	char *cert_pem, *key_pem;
	X509 *cert;
};

static char *
bio_text(BIO *b)
{
	BUF_MEM *m;
	char *s;

	assert_int_equal(BIO_get_mem_ptr(b, &m), 1);
	s = malloc(m->length + 1);
	assert_non_null(s);
	memcpy(s, m->data, m->length);
	s[m->length] = '\0';
	return s;
}

static void
make_pair(struct pair *p, const char *cn)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	BIO *b;

	assert_non_null(k);
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, n), 1);
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, k), 1);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	X509_NAME_free(n);
	b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	p->cert_pem = bio_text(b);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
	    NULL), 1);
	p->key_pem = bio_text(b);
	BIO_free(b);
	p->cert = x;
	EVP_PKEY_free(k);
}

static void
free_pair(struct pair *p)
{
	free(p->cert_pem);
	free(p->key_pem);
	X509_free(p->cert);
}

static int
on_x(struct http_req *r, void *app)
{
	(void)app;
	return http_reply_text(r, 200, "ok");
}

static const struct http_route routes[] = {
	{"/x", HTTP_GET, on_x},
};

struct server {
	struct http_server *srv;
	int port;
};

static void
start(struct server *s, const struct pair *p, int per_connection)
{
	struct sockaddr_in sin;
	struct http_conf hc;
	struct rc_detail d = {{0}};

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(&hc, 0, sizeof(hc));
	hc.addr = (const struct sockaddr *)&sin;
	hc.addrlen = sizeof(sin);
	hc.threads = 1;
	hc.thread_per_connection = per_connection;
	if (p != NULL) {
		hc.tls_cert_pem = p->cert_pem;
		hc.tls_key_pem = p->key_pem;
	}
	assert_int_equal(http_server_start(&hc, routes, 1, NULL, &s->srv, &d),
	    0);
	s->port = http_server_port(s->srv);
	assert_true(s->port > 0);
}

/* A client connection: its socket and TLS session. */
struct client {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
};

static void
dial(struct client *c, int port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(c->fd >= 0);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	c->ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(c->ctx);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	c->ssl = SSL_new(c->ctx);
	assert_non_null(c->ssl);
	assert_int_equal(SSL_set_fd(c->ssl, c->fd), 1);
	assert_int_equal(SSL_connect(c->ssl), 1);
}

static void
hang_up(struct client *c)
{
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	close(c->fd);
}

/* 1 when the connection's server presented want. */
static int
presented(const struct client *c, const struct pair *want)
{
	X509 *x = SSL_get1_peer_certificate(c->ssl);
	int same = x != NULL && X509_cmp(x, want->cert) == 0;

	X509_free(x);
	return same;
}

/* One keep-alive GET /x on the connection: 1 when answered "ok". */
static int
ask(struct client *c)
{
	static const char req[] = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";
	char buf[4096];
	size_t n = 0;

	if (SSL_write(c->ssl, req, (int)strlen(req)) != (int)strlen(req))
		return 0;
	while (n < sizeof(buf) - 1) {
		int r = SSL_read(c->ssl, buf + n, (int)(sizeof(buf) - 1 - n));
		char *end;

		if (r <= 0)
			return 0;
		n += (size_t)r;
		buf[n] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end != NULL && strcmp(end + 4, "ok\n") == 0)
			return strncmp(buf, "HTTP/1.1 200", 12) == 0;
	}
	return 0;
}

static void
swap(int per_connection)
{
	struct pair a, b;
	struct server s;
	struct client old, fresh;
	struct rc_detail d = {{0}};

	make_pair(&a, "a.test");
	make_pair(&b, "b.test");
	start(&s, &a, per_connection);
	dial(&old, s.port);
	assert_true(presented(&old, &a));
	assert_true(ask(&old));

	assert_int_equal(http_server_set_tls(s.srv, b.cert_pem, b.key_pem, &d),
	    0);
	dial(&fresh, s.port);
	assert_true(presented(&fresh, &b));
	assert_true(ask(&fresh));
	hang_up(&fresh);
	/* the connection from before: still open, still the old one's */
	assert_true(ask(&old));
	assert_true(presented(&old, &a));
	hang_up(&old);

	/* refused: the previous certificate stays */
	assert_int_equal(http_server_set_tls(s.srv, a.cert_pem, b.key_pem, &d),
	    RC_CRYPTO);
	assert_non_null(strstr(d.msg, "not the certificate's"));
	assert_int_equal(http_server_set_tls(s.srv, "no PEM", b.key_pem, &d),
	    RC_CRYPTO);
	assert_non_null(strstr(d.msg, "certificate chain"));
	assert_int_equal(http_server_set_tls(s.srv, b.cert_pem, a.cert_pem,
	    &d), RC_CRYPTO);
	assert_non_null(strstr(d.msg, "TLS key"));
	dial(&fresh, s.port);
	assert_true(presented(&fresh, &b));
	assert_true(ask(&fresh));
	hang_up(&fresh);

	http_server_stop(s.srv);
	free_pair(&a);
	free_pair(&b);
}

static void
test_swap_pool(void **state)
{
	(void)state;
	swap(0);
}

static void
test_swap_thread_per_connection(void **state)
{
	(void)state;
	swap(1);
}

static void
test_bad_start_and_plain(void **state)
{
	struct sockaddr_in sin;
	struct http_conf hc;
	struct http_server *srv = NULL;
	struct rc_detail d = {{0}};
	struct pair a, b;
	struct server s;

	(void)state;
	make_pair(&a, "a.test");
	make_pair(&b, "b.test");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(&hc, 0, sizeof(hc));
	hc.addr = (const struct sockaddr *)&sin;
	hc.addrlen = sizeof(sin);
	hc.tls_cert_pem = a.cert_pem;
	hc.tls_key_pem = b.key_pem;
	assert_int_equal(http_server_start(&hc, routes, 1, NULL, &srv, &d),
	    RC_CRYPTO);
	assert_null(srv);
	/* a plain-HTTP server has no certificate to replace */
	start(&s, NULL, 0);
	assert_int_equal(http_server_set_tls(s.srv, a.cert_pem, a.key_pem,
	    &d), RC_INVAL);
	http_server_stop(s.srv);
	free_pair(&a);
	free_pair(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_pool),
		cmocka_unit_test(test_swap_thread_per_connection),
		cmocka_unit_test(test_bad_start_and_plain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
