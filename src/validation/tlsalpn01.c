/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls-alpn-01 (RFC 8737): a TLS 1.2+ handshake with SNI = the name and ALPN
 * offering only "acme-tls/1", to each resolved address in turn until one
 * accepts the connection; then the server's certificate is checked (not
 * chain-verified): exactly one subjectAltName entry, a dNSName equal to the
 * name, and exactly one critical id-pe-acmeIdentifier extension holding
 * the DER OCTET STRING of SHA-256(key authorization). For an IP identifier
 * (RFC 8738 §6, val_tlsalpn01_ip) there is no lookup: the address itself,
 * SNI its reverse-mapping name, and the one SAN entry an iPAddress equal
 * to it.
 *
 * Runs on the check's worker thread; sockets are non-blocking and every
 * wait is bounded by what is left of tls_timeout_ms. The certificate comes
 * from the network: its size is capped by SSL_CTX_set_max_cert_list(), it
 * is parsed by OpenSSL, and the extension value is walked with the strict
 * DER reader (util/der.h).
 */
#include "validation/val_int.h"
#include "util/buf.h"
#include "util/der.h"
#include "util/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_KEYAUTHZ 1024
#define OID_ACME_IDENTIFIER "1.3.6.1.5.5.7.1.31"	/* RFC 8737 §6.1 */

/*
 * OpenSSL writes to the socket with write(): a peer that has closed the
 * connection raises SIGPIPE in this thread, which would kill a daemon that
 * does not ignore it. SIGPIPE is blocked for the exchange and one raised
 * meanwhile is discarded (as curl's sigpipe.h does).
 */
struct sigpipe {
	sigset_t old;
	int was_pending;
};

static void
sigpipe_block(struct sigpipe *sp)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigemptyset(&pending);
	sigpending(&pending);
	sp->was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &sp->old);
}

static void
sigpipe_restore(const struct sigpipe *sp)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigemptyset(&pending);
	if (!sp->was_pending && sigpending(&pending) == 0 &&
	    sigismember(&pending, SIGPIPE)) {
		struct timespec zero = {0, 0};

		(void)sigtimedwait(&set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &sp->old, NULL);
}

/* Waits for ev on fd until deadline: 1 ready, 0 timeout, -1 error. */
static int
wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - val_now_ms();
		struct pollfd p = {.fd = fd, .events = ev};
		int n;

		if (left <= 0)
			return 0;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/*
 * Non-blocking connect within deadline. Returns the socket, or -1 with
 * *err (errno value, ETIMEDOUT on timeout).
 */
static int
connect_to(const struct val_addr *a, uint16_t port, int64_t deadline,
    int *err)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, e = 0;
	socklen_t el = sizeof(e);

	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->bytes, 16);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->bytes, 4);
		sl = sizeof(*s4);
	}
	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*err = errno;
		close(fd);
		return -1;
	}
	switch (wait_fd(fd, POLLOUT, deadline)) {
	case 1:
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 &&
		    e == 0)
			return fd;
		*err = e != 0 ? e : errno;
		break;
	case 0:
		*err = ETIMEDOUT;
		break;
	default:
		*err = errno;
	}
	close(fd);
	return -1;
}

/*
 * Checks the certificate against RFC 8737 §3. Returns 1 when it passes;
 * 0 after val_run_fail().
 */
static int
check_cert(struct val_run *r, X509 *cert, const char *name,
    const struct val_addr *ip, const uint8_t want[32], json_t *tev)
{
	GENERAL_NAMES *gens = NULL;
	ASN1_OBJECT *oid = NULL;
	int crit = -1, idx = -1, count = 0, ok = 0;
	X509_EXTENSION *ext = NULL;
	json_t *sans = json_array();

	json_object_set_new(tev, "san", sans);
	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL) {
		val_run_fail(r, 0, VAL_PROB_INCORRECT_RESPONSE,
		    "tls-alpn-01 certificate for %s has %s", name,
		    crit == -2 ? "more than one subjectAltName extension" :
		    "no subjectAltName extension");
		goto out;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char q[300];

		if (g->type == GEN_DNS) {
			const unsigned char *s = ASN1_STRING_get0_data(
			    g->d.dNSName);

			val_quote(q, sizeof(q), s, (size_t)ASN1_STRING_length(
			    g->d.dNSName), 255);
			json_array_append_new(sans, json_pack("{s:s}", "dns",
			    q));
		} else if (g->type == GEN_IPADD) {
			const ASN1_OCTET_STRING *o = g->d.iPAddress;
			int l = ASN1_STRING_length(o);
			char t[INET6_ADDRSTRLEN] = "";

			if (l == 4 || l == 16)
				inet_ntop(l == 4 ? AF_INET : AF_INET6,
				    ASN1_STRING_get0_data(o), t, sizeof(t));
			json_array_append_new(sans, json_pack("{s:s}", "ip",
			    t[0] ? t : "malformed"));
		} else {
			json_array_append_new(sans, json_pack("{s:i}", "type",
			    g->type));
		}
	}
	if (ip != NULL) {
		/* RFC 8738 §6: exactly one iPAddress, the address */
		const GENERAL_NAME *g = sk_GENERAL_NAME_num(gens) == 1 ?
		    sk_GENERAL_NAME_value(gens, 0) : NULL;
		size_t al = ip->family == AF_INET ? 4 : 16;

		if (g == NULL || g->type != GEN_IPADD) {
			val_run_fail(r, 0, VAL_PROB_INCORRECT_RESPONSE,
			    "tls-alpn-01 certificate for %s must have exactly "
			    "one subjectAltName entry, an iPAddress; it has "
			    "%d entries", name, sk_GENERAL_NAME_num(gens));
			goto out;
		}
		if ((size_t)ASN1_STRING_length(g->d.iPAddress) != al ||
		    memcmp(ASN1_STRING_get0_data(g->d.iPAddress), ip->bytes,
		    al) != 0) {
			val_run_fail(r, 0, VAL_PROB_INCORRECT_RESPONSE,
			    "tls-alpn-01 certificate has an iPAddress other "
			    "than %s", name);
			goto out;
		}
	} else if (sk_GENERAL_NAME_num(gens) != 1 ||
	    sk_GENERAL_NAME_value(gens, 0)->type != GEN_DNS) {
		val_run_fail(r, 0, VAL_PROB_INCORRECT_RESPONSE,
		    "tls-alpn-01 certificate for %s must have exactly one "
		    "subjectAltName entry, a dNSName; it has %d entries", name,
		    sk_GENERAL_NAME_num(gens));
		goto out;
	}
	if (ip == NULL) {
		ASN1_IA5STRING *dn = sk_GENERAL_NAME_value(gens, 0)->d.dNSName;
		const unsigned char *s = ASN1_STRING_get0_data(dn);
		size_t l = (size_t)ASN1_STRING_length(dn);
		char q[300];

		/* Counted comparison: an embedded NUL never matches. */
		if (l != strlen(name) || strncasecmp((const char *)s, name,
		    l) != 0 || memchr(s, '\0', l) != NULL) {
			val_quote(q, sizeof(q), s, l, 120);
			val_run_fail(r, 0, VAL_PROB_INCORRECT_RESPONSE,
			    "tls-alpn-01 certificate has dNSName '%s', "
			    "expected '%s'", q, name);
			goto out;
		}
	}
	oid = OBJ_txt2obj(OID_ACME_IDENTIFIER, 1);
	if (oid == NULL) {
		val_run_fail(r, RC_CRYPTO, VAL_PROB_SERVER_INTERNAL,
		    "tls-alpn-01: OID setup failed");
		goto out;
	}
	while ((idx = X509_get_ext_by_OBJ(cert, oid, idx)) >= 0) {
		count++;
		ext = X509_get_ext(cert, idx);
	}
	if (count != 1) {
		val_run_fail(r, 0, VAL_PROB_INCORRECT_RESPONSE,
		    "tls-alpn-01 certificate for %s has %d acmeIdentifier "
		    "extensions, expected exactly one", name, count);
		goto out;
	}
	{
		const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(ext);
		struct der d = {ASN1_STRING_get0_data(os),
			(size_t)ASN1_STRING_length(os)};
		struct der_elem e;
		char hw[65], hf[65];
		int critical = X509_EXTENSION_get_critical(ext);

		json_object_set_new(tev, "acme_identifier_critical",
		    json_boolean(critical));
		/* extnValue holds Authorization ::= OCTET STRING (SIZE
		 * (32)), nothing else. */
		if (der_expect(&d, DER_OCTETSTRING, &e) != 0 ||
		    d.len != 0 || e.body.len != 32) {
			val_run_fail(r, 0, VAL_PROB_INCORRECT_RESPONSE,
			    "tls-alpn-01 certificate for %s: acmeIdentifier "
			    "is not an OCTET STRING of 32 bytes", name);
			goto out;
		}
		hex_encode(want, 32, hw);
		hex_encode(e.body.p, 32, hf);
		json_object_set_new(tev, "acme_identifier", json_string(hf));
		if (!critical) {
			val_run_fail(r, 0, VAL_PROB_INCORRECT_RESPONSE,
			    "tls-alpn-01 certificate for %s: acmeIdentifier "
			    "extension is not marked critical", name);
			goto out;
		}
		if (CRYPTO_memcmp(e.body.p, want, 32) != 0) {
			val_run_fail(r, 0, VAL_PROB_INCORRECT_RESPONSE,
			    "tls-alpn-01 certificate for %s: expected "
			    "acmeIdentifier %s, found %s", name, hw, hf);
			goto out;
		}
	}
	ok = 1;
out:
	GENERAL_NAMES_free(gens);
	ASN1_OBJECT_free(oid);
	return ok;
}

static int
alpn_check(struct val_ctx *ctx, const char *name, int is_ip,
    const char *key_authz, struct val_result *out)
{
	struct val_run r;
	struct rc_detail d = {{0}};
	struct val_addr addrs[VAL_MAX_ADDRS];
	char norm[VAL_MAX_NAME + 1], sni[VAL_MAX_NAME + 1], where[80] = "";
	uint8_t want[32];
	unsigned int mdlen = 0;
	size_t naddrs = 0, i, kl;
	int64_t deadline;
	int fd = -1, rc = 0, err = 0;
	SSL *ssl = NULL;
	json_t *tev, *attempts;
	struct sigpipe sp;
	int blocked = 0;

	val_run_begin(&r, ctx, out, VAL_KIND_TLSALPN01, name);
	if (ctx == NULL || name == NULL || key_authz == NULL ||
	    (kl = strlen(key_authz)) == 0 || kl > MAX_KEYAUTHZ) {
		rc = val_run_fail(&r, RC_INVAL, VAL_PROB_SERVER_INTERNAL,
		    "tls-alpn-01: missing argument or bad key authorization");
		goto out;
	}
	if (is_ip) {
		/* RFC 8738 §6: SNI is the reverse-mapping name */
		if (val_ip_target(&r, "tls-alpn-01", name, &addrs[0]) != 0) {
			rc = RC_BADNAME;
			goto out;
		}
		snprintf(norm, sizeof(norm), "%s", addrs[0].text);
		if (val_ip_reverse_name(norm, sni, sizeof(sni)) != 0) {
			rc = val_run_fail(&r, RC_BADNAME,
			    VAL_PROB_REJECTED_IDENTIFIER,
			    "tls-alpn-01: no reverse name for %s", norm);
			goto out;
		}
		naddrs = 1;
	} else if (val_name_normalize(name, 0, norm, NULL, &d) != 0) {
		/* RFC 8737 §3 with RFC 8555 §7.1.3: no wildcards. */
		rc = val_run_fail(&r, RC_BADNAME,
		    VAL_PROB_REJECTED_IDENTIFIER,
		    "tls-alpn-01: not a DNS name: %s", d.msg);
		goto out;
	} else {
		snprintf(sni, sizeof(sni), "%s", norm);
	}
	if (EVP_Digest(key_authz, kl, want, &mdlen, EVP_sha256(), NULL) != 1) {
		rc = val_run_fail(&r, RC_CRYPTO, VAL_PROB_SERVER_INTERNAL,
		    "tls-alpn-01: SHA-256 failed");
		goto out;
	}
	tev = json_object();
	attempts = json_array();
	json_object_set_new(tev, "port", json_integer(
	    ctx->conf.tlsalpn01_port));
	json_object_set_new(tev, "attempts", attempts);
	json_object_set_new(tev, "sni", json_string(sni));
	val_run_set(&r, "tls", tev);
	if (!is_ip && val_resolve_host(&r, norm, 1, addrs, &naddrs) != 0)
		goto out;

	deadline = val_now_ms() + ctx->conf.tls_timeout_ms;
	for (i = 0; i < naddrs; i++) {
		int64_t left = deadline - val_now_ms();
		int64_t my = val_now_ms() + left / (int64_t)(naddrs - i);

		if (addrs[i].family == AF_INET6)
			snprintf(where, sizeof(where), "[%s]:%u",
			    addrs[i].text, ctx->conf.tlsalpn01_port);
		else
			snprintf(where, sizeof(where), "%s:%u", addrs[i].text,
			    ctx->conf.tlsalpn01_port);
		if (left <= 0) {
			err = ETIMEDOUT;
			break;
		}
		fd = connect_to(&addrs[i], ctx->conf.tlsalpn01_port, my, &err);
		json_array_append_new(attempts, json_pack("{s:s, s:s}",
		    "address", where, "result", fd >= 0 ? "connected" :
		    strerror(err)));
		if (fd >= 0)
			break;
	}
	if (fd < 0) {
		if (err == ECONNREFUSED)
			val_run_fail(&r, 0, VAL_PROB_CONNECTION,
			    "Connection refused to %s", where);
		else if (err == ETIMEDOUT)
			val_run_fail(&r, 0, VAL_PROB_CONNECTION,
			    "Timeout during connect to %s (likely firewall "
			    "problem)", where);
		else
			val_run_fail(&r, 0, VAL_PROB_CONNECTION,
			    "Could not connect to %s: %s", where,
			    strerror(err));
		goto out;
	}
	json_object_set_new(tev, "address_used", json_string(where));

	ssl = SSL_new(ctx->tls);
	if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
	    SSL_set_tlsext_host_name(ssl, sni) != 1) {
		log_openssl(LOG_VAL, "tls-alpn-01: SSL setup");
		rc = val_run_fail(&r, RC_CRYPTO, VAL_PROB_SERVER_INTERNAL,
		    "tls-alpn-01: TLS setup failed");
		goto out;
	}
	ERR_clear_error();
	sigpipe_block(&sp);
	blocked = 1;
	for (;;) {
		int n = SSL_connect(ssl), e, w;

		if (n == 1)
			break;
		e = SSL_get_error(ssl, n);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			w = wait_fd(fd, e == SSL_ERROR_WANT_READ ? POLLIN :
			    POLLOUT, deadline);
			if (w == 1)
				continue;
			val_run_fail(&r, 0, VAL_PROB_CONNECTION,
			    "Timeout during TLS handshake with %s after "
			    "%u ms", where, ctx->conf.tls_timeout_ms);
			goto out;
		}
		{
			char eb[256] = "", q[200];
			unsigned long oe = ERR_peek_last_error();

			if (oe != 0)
				ERR_error_string_n(oe, eb, sizeof(eb));
			else if (e == SSL_ERROR_SYSCALL ||
			    e == SSL_ERROR_ZERO_RETURN)
				snprintf(eb, sizeof(eb), "connection closed");
			val_quote(q, sizeof(q), eb, strlen(eb), 180);
			ERR_clear_error();
			val_run_fail(&r, 0, VAL_PROB_TLS, "TLS handshake with "
			    "%s (SNI %s, ALPN acme-tls/1) failed: %s", where,
			    sni, q);
			goto out;
		}
	}
	json_object_set_new(tev, "version", json_string(SSL_get_version(ssl)));
	json_object_set_new(tev, "cipher", json_string(SSL_get_cipher_name(
	    ssl)));
	{
		const unsigned char *alpn = NULL;
		unsigned int alen = 0;
		char q[120];

		SSL_get0_alpn_selected(ssl, &alpn, &alen);
		val_quote(q, sizeof(q), alpn, alen, 64);
		json_object_set_new(tev, "alpn", alen ? json_string(q) :
		    json_null());
		if (alen != strlen(VAL_ACME_TLS_ALPN) ||
		    memcmp(alpn, VAL_ACME_TLS_ALPN, alen) != 0) {
			val_run_fail(&r, 0, VAL_PROB_TLS, "Server at %s did "
			    "not negotiate ALPN acme-tls/1 for %s (%s%s%s)",
			    where, norm, alen ? "selected '" : "none selected",
			    alen ? q : "", alen ? "'" : "");
			goto out;
		}
	}
	{
		X509 *cert = SSL_get0_peer_certificate(ssl);
		unsigned char fp[32];
		unsigned int fl = 0;
		char hx[65];

		if (cert == NULL) {
			val_run_fail(&r, 0, VAL_PROB_TLS, "Server at %s sent "
			    "no certificate", where);
			goto out;
		}
		if (X509_digest(cert, EVP_sha256(), fp, &fl) == 1 && fl == 32) {
			hex_encode(fp, 32, hx);
			json_object_set_new(tev, "certificate_sha256",
			    json_string(hx));
		}
		if (check_cert(&r, cert, norm, is_ip ? &addrs[0] : NULL, want,
		    tev))
			val_run_valid(&r, "Found a valid acme-tls/1 "
			    "certificate for %s at %s", norm, where);
	}
out:
	if (ssl != NULL)
		SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	if (blocked)
		sigpipe_restore(&sp);
	ERR_clear_error();
	return val_run_end(&r, rc);
}

int
val_tlsalpn01(struct val_ctx *ctx, const char *name, const char *key_authz,
    struct val_result *out)
{
	return alpn_check(ctx, name, 0, key_authz, out);
}

int
val_tlsalpn01_ip(struct val_ctx *ctx, const char *ip, const char *key_authz,
    struct val_result *out)
{
	return alpn_check(ctx, ip, 1, key_authz, out);
}
