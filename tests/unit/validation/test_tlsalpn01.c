/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/validation/tlsalpn01.c (RFC 8737) with names served by Knot
 * DNS and an in-process TLS server thread (OpenSSL) whose certificate and
 * behaviour are chosen per test: the right certificate, a wrong digest, a
 * missing, non-critical, duplicated or malformed acmeIdentifier, SAN
 * mismatch, two SANs, a SAN with an IP, an embedded NUL, no SAN, no ALPN,
 * another ALPN, TLS 1.1 only, plaintext instead of TLS, a server that
 * never handshakes (bounded), an oversized certificate, refused
 * connections and the AAAA-then-A fallback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"
#include "validation/val_int.h"

#define KEYAUTH "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA." \
	"nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ"

enum scen {
	S_GOOD, S_WRONG_DIGEST, S_NONCRIT, S_MISSING, S_TWICE, S_RAW32,
	S_SHORT, S_TRAILING, S_SAN_OTHER, S_TWO_SANS, S_SAN_IP, S_SAN_NUL,
	S_NO_SAN, S_NO_ALPN, S_OTHER_ALPN, S_TLS11, S_PLAINTEXT, S_SILENT,
	S_HUGE, S_TLS12, S_UPPER,
	/* RFC 8738 §6: certificates for an IP identifier */
	S_IP_GOOD, S_IP_OTHER, S_IP_AS_DNS, S_IP_AND_DNS
};

static struct {
	int fd;
	uint16_t port;
	pthread_t thread;
	int stop[2];
	EVP_PKEY *key;
	volatile enum scen scen;
	char sni[256];
	unsigned char offered[64];
	unsigned offered_len;
	int parked[16];
	int nparked;
} srv;

static struct tl_knot knot;
static int have_knot;
static struct val_ctx *ctx;
static const char *cert_name = "web.vtest";

/* ---- certificates ----------------------------------------------------- */

static void
add_dns(GENERAL_NAMES *g, const char *v, size_t n)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	ASN1_STRING_set(s, v, (int)n);
	GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	sk_GENERAL_NAME_push(g, gn);
}

static void
add_ext(X509 *x, const uint8_t *der, size_t n, int crit)
{
	ASN1_OBJECT *o = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;

	ASN1_OCTET_STRING_set(os, der, (int)n);
	e = X509_EXTENSION_create_by_OBJ(NULL, o, crit, os);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
}

static X509 *
make_cert(enum scen s)
{
	X509 *x = X509_new();
	X509_NAME *nm;
	GENERAL_NAMES *g = sk_GENERAL_NAME_new_null();
	uint8_t der[40], md[32];
	unsigned mdl;
	const char *ka = s == S_WRONG_DIGEST ? KEYAUTH "x" : KEYAUTH;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, srv.key);
	nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)"acme", -1, -1, 0);
	X509_set_issuer_name(x, nm);

	switch (s) {
	case S_SAN_OTHER:
		add_dns(g, "web2.vtest", 10);
		break;
	case S_UPPER:
		add_dns(g, "WEB.VTEST", 9);
		break;
	case S_TWO_SANS:
		add_dns(g, cert_name, strlen(cert_name));
		add_dns(g, "web2.vtest", 10);
		break;
	case S_SAN_IP: {
		GENERAL_NAME *gn = a2i_GENERAL_NAME(NULL, NULL, NULL, GEN_IPADD,
		    "127.0.0.1", 0);

		add_dns(g, cert_name, strlen(cert_name));
		sk_GENERAL_NAME_push(g, gn);
		break;
	}
	case S_SAN_NUL: {
		char v[64];
		size_t n = strlen(cert_name);

		memcpy(v, cert_name, n);
		memcpy(v + n, "\0.evil", 6);
		add_dns(g, v, n + 6);
		break;
	}
	case S_NO_SAN:
		break;
	case S_IP_GOOD:
	case S_IP_OTHER:
	case S_IP_AND_DNS:
		sk_GENERAL_NAME_push(g, a2i_GENERAL_NAME(NULL, NULL, NULL,
		    GEN_IPADD, s == S_IP_OTHER ? "127.0.0.2" : "127.0.0.1", 0));
		if (s == S_IP_AND_DNS)
			add_dns(g, "web.vtest", 9);
		break;
	case S_IP_AS_DNS:
		add_dns(g, "127.0.0.1", 9);
		break;
	default:
		add_dns(g, cert_name, strlen(cert_name));
	}
	if (sk_GENERAL_NAME_num(g) > 0)
		X509_add1_ext_i2d(x, NID_subject_alt_name, g, 0, 0);
	GENERAL_NAMES_free(g);

	EVP_Digest(ka, strlen(ka), md, &mdl, EVP_sha256(), NULL);
	der[0] = 0x04;
	der[1] = 0x20;
	memcpy(der + 2, md, 32);
	switch (s) {
	case S_MISSING:
		break;
	case S_NONCRIT:
		add_ext(x, der, 34, 0);
		break;
	case S_TWICE:
		add_ext(x, der, 34, 1);
		add_ext(x, der, 34, 1);
		break;
	case S_RAW32:
		add_ext(x, md, 32, 1);
		break;
	case S_SHORT:
		der[1] = 31;
		add_ext(x, der, 33, 1);
		break;
	case S_TRAILING:
		der[34] = 0x05;
		der[35] = 0x00;
		add_ext(x, der, 36, 1);
		break;
	default:
		add_ext(x, der, 34, 1);
	}
	if (s == S_HUGE) {
		/* 100 KB in a non-critical extension */
		size_t n = 100000;
		uint8_t *big = malloc(n);
		ASN1_OBJECT *o = OBJ_txt2obj("1.2.3.4.5", 1);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		X509_EXTENSION *e;

		memset(big, 'z', n);	/* opaque to OpenSSL: unknown OID */
		ASN1_OCTET_STRING_set(os, big, (int)n);
		e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(os);
		ASN1_OBJECT_free(o);
		free(big);
	}
	X509_sign(x, srv.key, EVP_sha256());
	return x;
}

/* ---- the TLS server thread ---------------------------------------------- */

static int
alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char h2[] = "h2";

	(void)s;
	(void)arg;
	srv.offered_len = inlen < sizeof(srv.offered) ? inlen : 0;
	memcpy(srv.offered, in, srv.offered_len);
	if (srv.scen == S_NO_ALPN)
		return SSL_TLSEXT_ERR_NOACK;
	if (srv.scen == S_OTHER_ALPN) {
		*out = h2;
		*outlen = 2;
		return SSL_TLSEXT_ERR_OK;
	}
	if (inlen == 11 && memcmp(in, "\x0a" "acme-tls/1", 11) == 0) {
		*out = in + 1;
		*outlen = 10;
		return SSL_TLSEXT_ERR_OK;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

static void
handle(int fd)
{
	enum scen s = srv.scen;
	SSL_CTX *t;
	SSL *ssl;
	X509 *x;
	const char *sni;

	if (s == S_PLAINTEXT) {
		char buf[512];

		(void)recv(fd, buf, sizeof(buf), 0);
		(void)send(fd, "HTTP/1.1 400 Bad Request\r\n\r\n", 28,
		    MSG_NOSIGNAL);
		return;
	}
	t = SSL_CTX_new(TLS_server_method());
	x = make_cert(s);
	SSL_CTX_use_certificate(t, x);
	SSL_CTX_use_PrivateKey(t, srv.key);
	SSL_CTX_set_alpn_select_cb(t, alpn_cb, NULL);
	if (s == S_TLS11) {
		SSL_CTX_set_security_level(t, 0);
		SSL_CTX_set_min_proto_version(t, TLS1_VERSION);
		SSL_CTX_set_max_proto_version(t, TLS1_1_VERSION);
	}
	if (s == S_TLS12)
		SSL_CTX_set_max_proto_version(t, TLS1_2_VERSION);
	ssl = SSL_new(t);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) == 1) {
		sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
		snprintf(srv.sni, sizeof(srv.sni), "%s", sni ? sni : "");
		SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	SSL_CTX_free(t);
	X509_free(x);
}

static void *
srv_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p[2] = {{.fd = srv.fd, .events = POLLIN},
			{.fd = srv.stop[0], .events = POLLIN}};
		struct timeval tv = {2, 0};
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept(srv.fd, NULL, NULL);
		if (fd < 0)
			continue;
		if (srv.scen == S_SILENT && srv.nparked < 16) {
			srv.parked[srv.nparked++] = fd;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		handle(fd);
		close(fd);
	}
	return NULL;
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
	srv.key = EVP_EC_gen("P-256");
	srv.fd = tl_listen_tcp(0, &srv.port);
	if (srv.key == NULL || srv.fd < 0 || pipe(srv.stop) != 0 ||
	    pthread_create(&srv.thread, NULL, srv_main, NULL) != 0)
		return -1;
	tl_conf(&c, knot.resolver);
	c.tlsalpn01_port = srv.port;
	return val_ctx_open(&c, &ctx, NULL);
}

static int
teardown(void **state)
{
	(void)state;
	if (!have_knot)
		return 0;
	val_ctx_free(ctx);
	if (write(srv.stop[1], "x", 1) == 1)
		pthread_join(srv.thread, NULL);
	for (int i = 0; i < srv.nparked; i++)
		close(srv.parked[i]);
	close(srv.fd);
	close(srv.stop[0]);
	close(srv.stop[1]);
	EVP_PKEY_free(srv.key);
	tl_knot_stop(&knot);
	return 0;
}

/* ---- the tests ----------------------------------------------------------- */

struct case_ {
	enum scen scen;
	const char *name;
	enum val_problem prob;
	const char *detail;
};

static void
test_tlsalpn01_cases(void **state)
{
	static const struct case_ cases[] = {
		{S_GOOD, "web.vtest", VAL_PROB_NONE, "Found a valid "
		    "acme-tls/1 certificate for web.vtest at 127.0.0.1:"},
		{S_UPPER, "web.vtest", VAL_PROB_NONE, NULL},
		{S_TLS12, "web.vtest", VAL_PROB_NONE, NULL},
		{S_GOOD, "both.vtest", VAL_PROB_NONE, "127.0.0.1"},
		{S_WRONG_DIGEST, "web.vtest", VAL_PROB_INCORRECT_RESPONSE,
		    "expected acmeIdentifier "},
		{S_NONCRIT, "web.vtest", VAL_PROB_INCORRECT_RESPONSE,
		    "not marked critical"},
		{S_MISSING, "web.vtest", VAL_PROB_INCORRECT_RESPONSE,
		    "has 0 acmeIdentifier extensions"},
		{S_TWICE, "web.vtest", VAL_PROB_INCORRECT_RESPONSE,
		    "has 2 acmeIdentifier extensions"},
		{S_RAW32, "web.vtest", VAL_PROB_INCORRECT_RESPONSE,
		    "not an OCTET STRING of 32 bytes"},
		{S_SHORT, "web.vtest", VAL_PROB_INCORRECT_RESPONSE,
		    "not an OCTET STRING of 32 bytes"},
		{S_TRAILING, "web.vtest", VAL_PROB_INCORRECT_RESPONSE,
		    "not an OCTET STRING of 32 bytes"},
		{S_SAN_OTHER, "web.vtest", VAL_PROB_INCORRECT_RESPONSE,
		    "has dNSName 'web2.vtest', expected 'web.vtest'"},
		{S_TWO_SANS, "web.vtest", VAL_PROB_INCORRECT_RESPONSE,
		    "it has 2 entries"},
		{S_SAN_IP, "web.vtest", VAL_PROB_INCORRECT_RESPONSE,
		    "it has 2 entries"},
		{S_SAN_NUL, "web.vtest", VAL_PROB_INCORRECT_RESPONSE,
		    "web.vtest\\x00.evil"},
		{S_NO_SAN, "web.vtest", VAL_PROB_INCORRECT_RESPONSE,
		    "no subjectAltName extension"},
		{S_NO_ALPN, "web.vtest", VAL_PROB_TLS,
		    "did not negotiate ALPN acme-tls/1"},
		{S_OTHER_ALPN, "web.vtest", VAL_PROB_TLS, NULL},
		{S_TLS11, "web.vtest", VAL_PROB_TLS, "TLS handshake with"},
		{S_PLAINTEXT, "web.vtest", VAL_PROB_TLS, "TLS handshake with"},
		{S_HUGE, "web.vtest", VAL_PROB_TLS, "TLS handshake with"},
		{S_GOOD, "v6.vtest", VAL_PROB_CONNECTION,
		    "Connection refused to [::1]:"},
		{S_GOOD, "noaddr.vtest", VAL_PROB_DNS, "No valid IP"},
	};
	struct val_result res;

	(void)state;
	if (!have_knot)
		skip();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct case_ *c = &cases[i];

		srv.scen = c->scen;
		cert_name = c->name;
		assert_int_equal(val_tlsalpn01(ctx, c->name, KEYAUTH, &res), 0);
		if (res.problem != c->prob ||
		    (res.outcome == VAL_VALID) != (c->prob == VAL_PROB_NONE) ||
		    (c->detail != NULL && strstr(res.detail, c->detail) ==
		    NULL))
			fail_msg("case %zu (%s): %s: %s", i, c->name,
			    val_problem_name(res.problem), res.detail);
		if (getenv("TL_VERBOSE") != NULL)
			printf("%-24s %-18s %s\n", c->name,
			    val_problem_name(res.problem), res.detail);
		assert_true(tl_json_has(res.evidence, "kind", "tls-alpn-01"));
		val_result_clear(&res);
	}
	cert_name = "web.vtest";
}

static void
test_tlsalpn01_handshake(void **state)
{
	struct val_result res;
	json_t *j, *tls;
	uint8_t md[32];
	unsigned mdl;
	char hx[65];

	(void)state;
	if (!have_knot)
		skip();
	srv.scen = S_GOOD;
	assert_int_equal(val_tlsalpn01(ctx, "WEB.vtest", KEYAUTH, &res), 0);
	assert_int_equal(res.outcome, VAL_VALID);
	/* SNI is the name, ALPN offers acme-tls/1 and nothing else */
	assert_string_equal(srv.sni, "web.vtest");
	assert_int_equal(srv.offered_len, 11);
	assert_memory_equal(srv.offered, "\x0a" "acme-tls/1", 11);
	j = json_loads(res.evidence, 0, NULL);
	assert_non_null(j);
	tls = json_object_get(j, "tls");
	assert_string_equal(json_string_value(json_object_get(tls, "alpn")),
	    "acme-tls/1");
	assert_int_equal(strlen(json_string_value(json_object_get(tls,
	    "certificate_sha256"))), 64);
	EVP_Digest(KEYAUTH, strlen(KEYAUTH), md, &mdl, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hx + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(json_string_value(json_object_get(tls,
	    "acme_identifier")), hx);
	assert_true(json_is_true(json_object_get(tls,
	    "acme_identifier_critical")));
	assert_non_null(strstr(json_string_value(json_object_get(tls,
	    "version")), "TLS"));
	json_decref(j);
	val_result_clear(&res);
}

static void
test_tlsalpn01_silent(void **state)
{
	struct val_result res;
	int64_t t0 = val_now_ms();

	(void)state;
	if (!have_knot)
		skip();
	srv.scen = S_SILENT;
	assert_int_equal(val_tlsalpn01(ctx, "web.vtest", KEYAUTH, &res), 0);
	assert_true(val_now_ms() - t0 < 1500 + 1000);
	assert_int_equal(res.problem, VAL_PROB_CONNECTION);
	assert_non_null(strstr(res.detail, "Timeout during TLS handshake"));
	val_result_clear(&res);
	srv.scen = S_GOOD;
}

static void
test_tlsalpn01_bad_input(void **state)
{
	struct val_result res;

	(void)state;
	if (!have_knot)
		skip();
	assert_int_equal(val_tlsalpn01(ctx, "*.web.vtest", KEYAUTH, &res),
	    RC_BADNAME);
	assert_int_equal(res.problem, VAL_PROB_REJECTED_IDENTIFIER);
	val_result_clear(&res);
	assert_int_equal(val_tlsalpn01(ctx, "web.vtest", NULL, &res),
	    RC_INVAL);
	val_result_clear(&res);
	assert_int_equal(val_tlsalpn01(ctx, "web.vtest", "", &res), RC_INVAL);
	val_result_clear(&res);
	srv.scen = S_GOOD;
	{
		struct val_request req = {.kind = VAL_KIND_TLSALPN01,
			.name = "web.vtest", .key_authz = KEYAUTH};

		assert_int_equal(val_check(ctx, &req, &res), 0);
		assert_int_equal(res.outcome, VAL_VALID);
		val_result_clear(&res);
	}
}

/* RFC 8738 §6: an IP identifier, SNI its reverse name, the certificate's
 * one SAN entry the address */
static void
test_tlsalpn01_ip(void **state)
{
	static const struct {
		enum scen scen;
		enum val_problem prob;
		const char *detail;
	} cases[] = {
		{S_IP_GOOD, VAL_PROB_NONE, "Found a valid acme-tls/1 "
		    "certificate for 127.0.0.1 at 127.0.0.1:"},
		{S_IP_OTHER, VAL_PROB_INCORRECT_RESPONSE,
		    "an iPAddress other than 127.0.0.1"},
		{S_IP_AS_DNS, VAL_PROB_INCORRECT_RESPONSE,
		    "exactly one subjectAltName entry, an iPAddress"},
		{S_IP_AND_DNS, VAL_PROB_INCORRECT_RESPONSE, "it has 2 entries"},
		{S_GOOD, VAL_PROB_INCORRECT_RESPONSE, "an iPAddress"},
		{S_WRONG_DIGEST, VAL_PROB_INCORRECT_RESPONSE, NULL},
		{S_NO_ALPN, VAL_PROB_TLS, NULL},
	};
	static const char *const bad[] = {"1.2.3", "01.2.3.4", "1.2.3.4.",
	    "fe80::1%eth0", "::FFFF:1.2.3.4", "web.vtest", ""};
	struct val_result res;
	struct val_conf c;
	struct val_ctx *x;
	json_t *j;
	char rev[VAL_MAX_NAME + 1];

	(void)state;
	if (!have_knot)
		skip();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		srv.scen = cases[i].scen;
		srv.sni[0] = '\0';
		assert_int_equal(val_tlsalpn01_ip(ctx, "127.0.0.1", KEYAUTH,
		    &res), 0);
		if (res.problem != cases[i].prob || (res.outcome ==
		    VAL_VALID) != (cases[i].prob == VAL_PROB_NONE) ||
		    (cases[i].detail != NULL && strstr(res.detail,
		    cases[i].detail) == NULL))
			fail_msg("case %zu: %s: %s", i,
			    val_problem_name(res.problem), res.detail);
		if (cases[i].scen == S_IP_GOOD) {
			/* the server thread records it after its handshake */
			for (int w = 0; w < 100 && strcmp(srv.sni,
			    "1.0.0.127.in-addr.arpa") != 0; w++)
				usleep(10000);
			assert_string_equal(srv.sni, "1.0.0.127.in-addr.arpa");
			j = json_loads(res.evidence, 0, NULL);
			assert_null(json_object_get(j, "dns"));
			assert_string_equal(json_string_value(json_object_get(
			    json_object_get(j, "tls"), "sni")),
			    "1.0.0.127.in-addr.arpa");
			json_decref(j);
		}
		val_result_clear(&res);
	}
	srv.scen = S_IP_GOOD;
	{
		struct val_request req = {.kind = VAL_KIND_TLSALPN01,
			.name = "127.0.0.1", .key_authz = KEYAUTH, .is_ip = 1};

		assert_int_equal(val_check(ctx, &req, &res), 0);
		assert_int_equal(res.outcome, VAL_VALID);
		val_result_clear(&res);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(val_tlsalpn01_ip(ctx, bad[i], KEYAUTH, &res),
		    RC_BADNAME);
		assert_int_equal(res.problem, VAL_PROB_REJECTED_IDENTIFIER);
		val_result_clear(&res);
	}
	/* the private-address policy applies */
	tl_conf(&c, knot.resolver);
	c.tlsalpn01_port = srv.port;
	c.allow_private_addresses = 0;
	assert_int_equal(val_ctx_open(&c, &x, NULL), 0);
	assert_int_equal(val_tlsalpn01_ip(x, "127.0.0.1", KEYAUTH, &res),
	    RC_BADNAME);
	assert_non_null(strstr(res.detail, "special-purpose"));
	/* refused before any connection: no TLS attempt in the evidence */
	j = json_loads(res.evidence, 0, NULL);
	assert_non_null(j);
	assert_null(json_object_get(j, "tls"));
	json_decref(j);
	val_result_clear(&res);
	val_ctx_free(x);
	srv.scen = S_GOOD;

	/* reverse names */
	assert_int_equal(val_ip_reverse_name("192.0.2.1", rev, sizeof(rev)),
	    0);
	assert_string_equal(rev, "1.2.0.192.in-addr.arpa");
	assert_int_equal(val_ip_reverse_name("2001:db8::567:89ab", rev,
	    sizeof(rev)), 0);
	assert_string_equal(rev, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	assert_int_equal(val_ip_reverse_name("1.2.3", rev, sizeof(rev)),
	    RC_BADNAME);
	assert_int_equal(val_ip_reverse_name("::1", rev, 10), RC_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlsalpn01_cases),
		cmocka_unit_test(test_tlsalpn01_handshake),
		cmocka_unit_test(test_tlsalpn01_silent),
		cmocka_unit_test(test_tlsalpn01_bad_input),
		cmocka_unit_test(test_tlsalpn01_ip),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
