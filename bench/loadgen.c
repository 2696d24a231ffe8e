/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shared part of bench/'s load generators (see loadgen.h): runs in the
 * generator's process, on its client threads (the HTTP client, CSRs) and
 * its main thread (set-up, accounting).
 */
#include "loadgen.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *lg_prog = "loadgen";
EVP_MD *lg_sha256;
long lg_timeout_s = 30;
char lg_origin[LG_MAX_URL];

static char origin_host[256], origin_port[8];
static SSL_CTX *tls;
static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;
static int err_printed;

void
lg_init(const char *prog)
{
	lg_prog = prog;
	lg_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!lg_sha256)
		lg_die("no SHA-256");
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
}

void
lg_done(void)
{
	EVP_MD_free(lg_sha256);
	SSL_CTX_free(tls);
	lg_sha256 = NULL;
	tls = NULL;
}

void
lg_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", lg_prog);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

void
lg_report(int client, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&err_mu);
	if (err_printed++ < 20) {
		va_start(ap, fmt);
		fprintf(stderr, "%s: client %d: ", lg_prog, client);
		vfprintf(stderr, fmt, ap);
		fprintf(stderr, "\n");
		va_end(ap);
	}
	pthread_mutex_unlock(&err_mu);
}

void *
lg_xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		lg_die("out of memory");
	return p;
}

char *
lg_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		lg_die("out of memory");
	return p;
}

double
lg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
lg_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

double
lg_num(const char *s, double lo, double hi, const char *what)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || v < lo || v > hi)
		lg_die("%s: '%s' is not a number in [%g, %g]", what, s, lo, hi);
	return v;
}

char *
lg_b64u(const unsigned char *p, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = lg_xcalloc(n / 3 * 4 + 5, 1), *o = out;
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

/* ---- CSRs --------------------------------------------------------------- */

void
lg_csr_tpl_init(struct lg_csr_tpl *t)
{
	t->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!t->key)
		lg_die("P-256 key generation failed");
	t->req = X509_REQ_new();
	if (!t->req || !X509_REQ_set_pubkey(t->req, t->key))
		lg_die("CSR: building failed");
	t->spki = NULL;
	t->spki_len = i2d_PUBKEY(t->key, &t->spki);
	if (t->spki_len <= 0)
		lg_die("CSR: cannot encode the public key");
}

void
lg_csr_tpl_free(struct lg_csr_tpl *t)
{
	EVP_PKEY_free(t->key);
	X509_REQ_free(t->req);
	OPENSSL_free(t->spki);
}

int
lg_csr_der(struct lg_csr_tpl *t, const char *name, unsigned char **der)
{
	X509_NAME *nm = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *ext;
	char san[300];
	int len;

	while (X509_REQ_get_attr_count(t->req) > 0)
		X509_ATTRIBUTE_free(X509_REQ_delete_attr(t->req, 0));
	snprintf(san, sizeof(san), "DNS:%s", name);
	if (!nm || !exts ||
	    !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
		(const unsigned char *)name, -1, -1, 0) ||
	    !X509_REQ_set_subject_name(t->req, nm))
		lg_die("CSR: building failed");
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
	if (!ext || !sk_X509_EXTENSION_push(exts, ext) ||
	    !X509_REQ_add_extensions(t->req, exts) ||
	    X509_REQ_sign(t->req, t->key, lg_sha256) <= 0)
		lg_die("CSR: signing failed");
	*der = NULL;
	len = i2d_X509_REQ(t->req, der);
	if (len <= 0)
		lg_die("CSR: encoding failed");
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(nm);
	return len;
}

int
lg_pem_has_key(const char *text, const struct lg_csr_tpl *t)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	const char *p = text ? strstr(text, begin) : NULL, *e;
	char *b64 = NULL;
	unsigned char *der = NULL;
	size_t n = 0;
	int len, ok = 0;

	if (!p || !(e = strstr(p, "-----END CERTIFICATE-----")))
		return 0;
	p += sizeof(begin) - 1;
	b64 = lg_xcalloc((size_t)(e - p) + 1, 1);
	for (; p < e; p++)
		if (*p != '\r' && *p != '\n')
			b64[n++] = *p;
	der = lg_xcalloc(n / 4 * 3 + 3, 1);
	len = n % 4 == 0 ? EVP_DecodeBlock(der, (unsigned char *)b64,
	    (int)n) : -1;
	ok = len > 2 && der[0] == 0x30 &&
	    memmem(der, (size_t)len, t->spki, (size_t)t->spki_len) != NULL;
	free(b64);
	free(der);
	return ok;
}

/* ---- HTTPS -------------------------------------------------------------- */

void
lg_origin_set(const char *url)
{
	const char *h = url + 8, *slash, *colon;
	size_t hl;

	if (strncmp(url, "https://", 8) != 0)
		lg_die("%s: not an https:// URL", url);
	slash = strchr(h, '/');
	if (slash == NULL)
		slash = h + strlen(h);
	if (*h == '[')
		lg_die("%s: IPv6 literals are not supported", url);
	colon = memchr(h, ':', (size_t)(slash - h));
	hl = (size_t)((colon ? colon : slash) - h);
	if (hl == 0 || hl >= sizeof(origin_host))
		lg_die("%s: bad host", url);
	memcpy(origin_host, h, hl);
	origin_host[hl] = '\0';
	if (colon) {
		size_t pl = (size_t)(slash - colon - 1);

		if (pl == 0 || pl >= sizeof(origin_port) ||
		    strspn(colon + 1, "0123456789") < pl)
			lg_die("%s: bad port", url);
		memcpy(origin_port, colon + 1, pl);
		origin_port[pl] = '\0';
	} else {
		snprintf(origin_port, sizeof(origin_port), "443");
	}
	if ((size_t)(slash - url) >= sizeof(lg_origin))
		lg_die("%s: too long", url);
	memcpy(lg_origin, url, (size_t)(slash - url));
	lg_origin[slash - url] = '\0';
}

void
lg_tls_init(const char *cafile)
{
	tls = SSL_CTX_new(TLS_client_method());
	if (!tls || SSL_CTX_set_min_proto_version(tls, TLS1_2_VERSION) != 1)
		lg_die("TLS context");
	if (SSL_CTX_load_verify_locations(tls, cafile, NULL) != 1)
		lg_die("%s: cannot load the CA certificate", cafile);
	SSL_CTX_set_verify(tls, SSL_VERIFY_PEER, NULL);
}

void
lg_hconn_init(struct lg_hconn *h)
{
	h->fd = -1;
	h->ssl = NULL;
	h->off = h->len = 0;
}

void
lg_hconn_close(struct lg_hconn *h)
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

void
lg_resp_free(struct lg_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = r->cap = 0;
}

static int
hc_connect(struct lg_hconn *h, int id)
{
	struct addrinfo hints = {0}, *ai = NULL;
	struct timeval tv = {.tv_sec = lg_timeout_s};
	struct in6_addr a6;
	struct in_addr a4;
	int one = 1, ip, e;

	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((e = getaddrinfo(origin_host, origin_port, &hints, &ai)) != 0) {
		lg_report(id, "%s: %s", origin_host, gai_strerror(e));
		return -1;
	}
	h->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0 || setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) != 0 || setsockopt(h->fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
	    sizeof(tv)) != 0 || setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY,
	    &one, sizeof(one)) != 0 ||
	    connect(h->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		lg_report(id, "connect %s: %s", lg_origin, strerror(errno));
		freeaddrinfo(ai);
		lg_hconn_close(h);
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
		lg_report(id, "TLS to %s failed: %s", lg_origin,
		    ERR_reason_error_string(ERR_get_error()));
		ERR_clear_error();
		lg_hconn_close(h);
		return -1;
	}
	return 0;
}

/* More bytes into h->in. 1, 0 at the end of the stream, -1 on an error. */
static int
hc_fill(struct lg_hconn *h)
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
hc_line(struct lg_hconn *h, size_t *len, int *eof)
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
body_add(struct lg_resp *r, const char *p, size_t len)
{
	if (r->len + len + 1 > LG_MAX_BODY) {
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
			lg_die("out of memory");
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, p, len);
	r->len += len;
	r->body[r->len] = '\0';
}

/* n body bytes (n < 0: until the end of the stream). */
static int
hc_body(struct lg_hconn *h, struct lg_resp *r, long long n)
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
hc_chunked(struct lg_hconn *h, struct lg_resp *r)
{
	for (;;) {
		size_t len;
		int eof;
		char *line = hc_line(h, &len, &eof), *end;
		unsigned long long n;

		if (!line)
			return -1;
		n = strtoull(line, &end, 16);
		if (end == line || n > LG_MAX_BODY)
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
 * Reads one response into r. 0; -1 on an error (the connection is then
 * closed); 1 when the stream ended or broke before its first byte (a
 * keep-alive connection the server had closed).
 */
static int
hc_response(struct lg_hconn *h, struct lg_resp *r, int head)
{
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
	if (head || r->status == 204 || r->status == 304)
		rc = 0;
	else if (chunked)
		rc = hc_chunked(h, r);
	else if (clen >= 0)
		rc = clen > LG_MAX_BODY ? -1 : hc_body(h, r, clen);
	else
		rc = hc_body(h, r, -1), close_after = 1;
	if (rc != 0 || close_after)
		lg_hconn_close(h);
	return rc;
}

/* Writes all of p. */
static int
hc_write(struct lg_hconn *h, const char *p, size_t len)
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

int
lg_http_do(struct lg_hconn *h, struct lg_resp *r, int id,
    const char *method, const char *url, const char *headers,
    const char *body)
{
	size_t ol = strlen(lg_origin);
	char clen[48] = "", *req;
	int n, rc = -1;

	r->len = 0;
	r->too_big = 0;
	r->status = 0;
	r->nonce[0] = r->location[0] = '\0';
	r->retry_after = -1;
	if (r->body)
		r->body[0] = '\0';
	if (strncmp(url, lg_origin, ol) != 0 || url[ol] != '/') {
		lg_report(id, "%s: not on the origin %s", url, lg_origin);
		return -1;
	}
	if (body)
		snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n",
		    strlen(body));
	/* head and body in one write, one TLS record: no segment with the
	 * head alone */
	n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: %s:%s\r\n"
	    "User-Agent: certdesk-%s/1\r\n%s%s\r\n%s", method, url + ol,
	    origin_host, origin_port, lg_prog, headers ? headers : "", clen,
	    body ? body : "");
	if (n < 0)
		lg_die("out of memory");
	h->requests++;
	/* a kept connection the server closed meanwhile is made again once */
	for (int attempt = 0; attempt < 2 && rc != 0; attempt++) {
		int reused = h->fd >= 0;

		if (!reused && hc_connect(h, id) != 0)
			break;
		if (hc_write(h, req, (size_t)n) != 0) {
			lg_hconn_close(h);
			if (reused)
				continue;
			lg_report(id, "%s: sending failed", url);
			break;
		}
		rc = hc_response(h, r, strcmp(method, "HEAD") == 0);
		if (rc == 1 && reused) {
			lg_hconn_close(h);
			continue;
		}
		if (rc != 0) {
			lg_hconn_close(h);
			lg_report(id, "%s: bad or no response%s", url,
			    r->too_big ? " (too large)" : "");
			rc = -1;
			break;
		}
	}
	free(req);
	return rc;
}

/* ---- the server's CPU and memory ---------------------------------------- */

struct proc {
	int pid, ppid, in;
	long long ticks;
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

struct lg_usage
lg_tree_usage(int root)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	struct proc *ps = NULL;
	struct lg_usage u = { 0, 0, 0 };
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
				lg_die("out of memory");
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

double
lg_self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- a run ------------------------------------------------------------- */

void
lg_run_defaults(struct lg_run *r)
{
	r->clients = 4;
	r->duration = 10;
	r->stall = 10;
}

int
lg_run_option(struct lg_run *r, const char *a, const char *v)
{
	if (strcmp(a, "--free-ports") == 0) {
		lg_free_ports((int)lg_num(v, 1, 64, a));
		exit(0);
	} else if (strcmp(a, "--clients") == 0)
		r->clients = (int)lg_num(v, 1, 1024, a);
	else if (strcmp(a, "--duration") == 0)
		r->duration = lg_num(v, 0.1, 3600, a);
	else if (strcmp(a, "--count") == 0)
		r->count = (long)lg_num(v, 0, 1e7, a);
	else if (strcmp(a, "--stall") == 0)
		r->stall = lg_num(v, 0.5, 600, a);
	else if (strcmp(a, "--server-pid") == 0)
		r->server_pid = (int)lg_num(v, 1, 1 << 22, a);
	else if (strcmp(a, "--latency-out") == 0)
		r->latency_out = v;
	else if (strcmp(a, "--timeout") == 0)
		lg_timeout_s = (long)lg_num(v, 1, 600, a);
	else
		return 0;
	return 1;
}

void
lg_run_init(struct lg_run *r)
{
	atomic_store(&r->running, r->clients);
	pthread_mutex_init(&r->go_mu, NULL);
	pthread_cond_init(&r->go_cond, NULL);
	pthread_mutex_init(&r->lat_mu, NULL);
}

void
lg_run_free(struct lg_run *r)
{
	free(r->lat);
	r->lat = NULL;
	r->nlat = r->caplat = 0;
	pthread_mutex_destroy(&r->go_mu);
	pthread_cond_destroy(&r->go_cond);
	pthread_mutex_destroy(&r->lat_mu);
}

void
lg_run_ready(struct lg_run *r, int ok)
{
	if (!ok)
		atomic_fetch_add(&r->setup_failed, 1);
	atomic_fetch_add(&r->ready, 1);
	pthread_mutex_lock(&r->go_mu);
	while (!r->go)
		pthread_cond_wait(&r->go_cond, &r->go_mu);
	pthread_mutex_unlock(&r->go_mu);
}

int
lg_run_next(struct lg_run *r)
{
	if (atomic_load(&r->stop))
		return 0;
	return r->count <= 0 || atomic_fetch_add(&r->started, 1) < r->count;
}

void
lg_run_count(struct lg_run *r, int ok, double seconds)
{
	if (!ok) {
		atomic_fetch_add(&r->failed, 1);
		return;
	}
	pthread_mutex_lock(&r->lat_mu);
	if (r->nlat == r->caplat) {
		r->caplat = r->caplat ? r->caplat * 2 : 1024;
		r->lat = realloc(r->lat, r->caplat * sizeof(*r->lat));
		if (!r->lat)
			lg_die("out of memory");
	}
	r->lat[r->nlat++] = seconds;
	pthread_mutex_unlock(&r->lat_mu);
	atomic_fetch_add(&r->completed, 1);
}

void
lg_run_leave(struct lg_run *r)
{
	atomic_fetch_sub(&r->running, 1);
}

void
lg_run_wait_ready(struct lg_run *r, const char *phase)
{
	double last_change = lg_now();
	int last = 0;

	while (atomic_load(&r->ready) < r->clients) {
		if (atomic_load(&r->ready) != last) {
			last = atomic_load(&r->ready);
			last_change = lg_now();
		} else if (lg_now() - last_change > r->stall) {
			printf("RESULT stalled=1 phase=%s clients=%d "
			    "ready=%d\n", phase, r->clients,
			    atomic_load(&r->ready));
			fflush(stdout);
			_exit(3);
		}
		lg_sleep_ms(5);
	}
}

void
lg_run_timed(struct lg_run *r)
{
	double last_change, c0;
	long last = 0;

	if (r->server_pid)
		r->s0 = lg_tree_usage(r->server_pid);
	c0 = lg_self_cpu_s();
	r->t0 = last_change = lg_now();
	pthread_mutex_lock(&r->go_mu);
	r->go = 1;
	pthread_cond_broadcast(&r->go_cond);
	pthread_mutex_unlock(&r->go_mu);
	while (atomic_load(&r->running) > 0) {
		double t = lg_now();
		long done;

		lg_sleep_ms(20);
		if (t - r->t0 >= r->duration)
			atomic_store(&r->stop, 1);
		done = atomic_load(&r->completed) + atomic_load(&r->failed);
		if (done != last) {
			last = done;
			last_change = t;
		} else if (t - last_change > r->stall) {
			/* clients are stuck in the server: report, leave */
			printf("RESULT stalled=1 phase=issuance clients=%d "
			    "certs=%ld errors=%ld elapsed=%.2f\n", r->clients,
			    atomic_load(&r->completed),
			    atomic_load(&r->failed), lg_now() - r->t0);
			fflush(stdout);
			_exit(3);
		}
	}
	r->t1 = lg_now();
	if (r->server_pid)
		r->s1 = lg_tree_usage(r->server_pid);
	r->gen_cpu_s = lg_self_cpu_s() - c0;
}

void
lg_run_print(struct lg_run *r, void (*more)(void *), void *arg,
    const char *extra)
{
	double *lat = r->lat;
	size_t nlat = r->nlat;
	long done = atomic_load(&r->completed), errs = atomic_load(&r->failed);
	double el = r->t1 - r->t0, per = done ? 1.0 / (double)done : 0;
	double srv = (double)(r->s1.ticks - r->s0.ticks) * 1000.0 /
	    (double)sysconf(_SC_CLK_TCK);
	double gen = r->gen_cpu_s * 1e3 * per;

	qsort(lat, nlat, sizeof(*lat), lg_cmp_double);
	if (r->latency_out)
		lg_write_ms(r->latency_out, lat, nlat);
	printf("clients %d: %ld certificates, %ld errors in %.2f s = "
	    "%.1f certs/s\n", r->clients, done, errs, el, (double)done / el);
	printf("latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
	    lg_pct(lat, nlat, .5) * 1e3, lg_pct(lat, nlat, .9) * 1e3,
	    lg_pct(lat, nlat, .99) * 1e3, lg_pct(lat, nlat, 1) * 1e3);
	if (r->server_pid) {
		printf("server memory: resident %.1f MB at the start, %.1f MB "
		    "at the end (%+.2f kB/cert), peak %.1f MB\n",
		    (double)r->s0.rss_kb / 1024, (double)r->s1.rss_kb / 1024,
		    (double)(r->s1.rss_kb - r->s0.rss_kb) * per,
		    (double)r->s1.hwm_kb / 1024);
		printf("server CPU: %.0f ms = %.3f ms/cert;  ", srv, srv * per);
	}
	printf("generator CPU: %.3f ms/cert\n", gen);
	if (more)
		more(arg);
	printf("RESULT stalled=0 clients=%d certs=%ld errors=%ld "
	    "elapsed=%.3f rate=%.2f p50=%.2f p99=%.2f srv_ms=%.0f "
	    "srv_cpu_per_cert=%.3f gen_cpu_per_cert=%.3f rss0_kb=%lld "
	    "rss_kb=%lld hwm_kb=%lld%s\n", r->clients, done, errs, el,
	    (double)done / el, lg_pct(lat, nlat, .5) * 1e3,
	    lg_pct(lat, nlat, .99) * 1e3, r->server_pid ? srv : -1.0,
	    r->server_pid ? srv * per : -1.0, gen,
	    r->server_pid ? r->s0.rss_kb : -1LL,
	    r->server_pid ? r->s1.rss_kb : -1LL,
	    r->server_pid ? r->s1.hwm_kb : -1LL, extra ? extra : "");
}

/* ---- figures ------------------------------------------------------------ */

int
lg_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
lg_pct(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

void
lg_write_ms(const char *path, const double *v, size_t n)
{
	FILE *f = fopen(path, "w");

	if (!f)
		lg_die("%s: %s", path, strerror(errno));
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%.3f\n", v[i] * 1e3);
	if (fclose(f) != 0)
		lg_die("%s: write failed", path);
}

void
lg_free_ports(int n)
{
	int fds[64];

	if (n < 1 || n > 64)
		lg_die("--free-ports: 1 to 64");
	for (int i = 0; i < n; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		socklen_t sl = sizeof(sa);

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa,
			sizeof(sa)) != 0 ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &sl) != 0)
			lg_die("free port: %s", strerror(errno));
		printf("%s%d", i ? " " : "", ntohs(sa.sin_port));
	}
	printf("\n");
	for (int i = 0; i < n; i++)
		close(fds[i]);
}
