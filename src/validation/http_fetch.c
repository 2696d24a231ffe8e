/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP check shared by http-01 (http01.c) and the file on the website
 * (httpfile.c), with libcurl: input checks, the fetch and the evidence are
 * here, each method's struct val_http_method gives its path, messages and
 * match() (what body to accept). This file decides where to connect; curl
 * only speaks HTTP:
 *  - names are resolved here through unbound (dns.c) and handed to curl
 *    with CURLOPT_RESOLVE; a resolver-start callback that refuses makes
 *    sure curl itself never resolves anything; an IP identifier (RFC
 *    8738, val_http_check_ip) is the URL's host itself, checked by
 *    val_ip_target() (canonical, private-address policy), so curl only
 *    parses the literal;
 *  - redirects are not followed by curl: each Location is checked here (as
 *    Boulder does: http/https only, a DNS name and never an IP literal,
 *    ports http01_port/https_port only, no user info, no loops, at most
 *    http_max_redirects) and fetched as a new request;
 *  - bodies and headers are read into bounded buffers, every request is
 *    bounded by what is left of http_timeout_ms;
 *  - no proxy (environment variables ignored), no cookies, no compression,
 *    HTTP/1.1, protocols http and https only, https without certificate
 *    verification (the value in the body is what is checked).
 *
 * Runs on the check's worker thread with the curl easy handle of its
 * struct val_ctx, reset before each request (which keeps curl's internal
 * multi handle instead of making one per fetch) and never reusing a
 * connection. Every fetch's CURLOPT_RESOLVE entry is removed by the next
 * one, so curl's name cache holds at most one name it was told.
 * Everything received is untrusted.
 */
#include "validation/val_int.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_URL 2048

/* Where one request goes. */
struct target {
	int https;
	int ip;			/* host is the address literal addr (the
				 * first request of an RFC 8738 check) */
	struct val_addr addr;
	char host[VAL_MAX_NAME + 1];
	uint16_t port;
	char url[MAX_URL];
};

/* The final 200 of get(). */
struct response {
	struct buf body;
	char url[MAX_URL];	/* the URL that answered */
	char where[80];		/* "address:port" that answered */
};

/* What one request brought back. */
struct fetch {
	struct buf body;
	int body_too_big;
	size_t hdr_bytes;
	size_t hdr_max;
	int hdr_too_big;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct fetch *f = arg;
	size_t n = size * nmemb;

	if (buf_append(&f->body, p, n) != 0) {
		f->body_too_big = 1;
		return 0;	/* makes curl stop with CURLE_WRITE_ERROR */
	}
	return n;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct fetch *f = arg;
	size_t n = size * nmemb;

	(void)p;
	f->hdr_bytes += n;
	if (f->hdr_bytes > f->hdr_max) {
		f->hdr_too_big = 1;
		return 0;
	}
	return n;
}

/* curl must never resolve a name on its own: every name it needs is in
 * CURLOPT_RESOLVE, and anything else is refused here. */
static int
no_resolve(void *resolver_state, void *reserved, void *userdata)
{
	(void)resolver_state;
	(void)reserved;
	(void)userdata;
	return 1;
}

static int
valid_token(const char *t)
{
	size_t n = 0;

	for (; t[n] != '\0'; n++)
		if (!((t[n] >= 'A' && t[n] <= 'Z') ||
		    (t[n] >= 'a' && t[n] <= 'z') ||
		    (t[n] >= '0' && t[n] <= '9') || t[n] == '-' || t[n] == '_'))
			return 0;
	return n >= 1 && n <= VAL_HTTP_MAX_TOKEN;
}

static int
valid_value(const char *k)
{
	size_t n = 0;

	for (; k[n] != '\0'; n++)
		if ((unsigned char)k[n] < 0x21 || (unsigned char)k[n] > 0x7e)
			return 0;
	return n >= 1 && n <= VAL_HTTP_MAX_VALUE;
}

/* "http://host[:port]" + path: the port only when not the scheme's
 * default, so that Host is "host" on ports 80 and 443. */
static void
make_url(struct target *t, const char *path)
{
	uint16_t def = t->https ? 443 : 80;
	/* RFC 3986 3.2.2: an IPv6 literal in brackets (then Host too) */
	const char *lb = t->ip && t->addr.family == AF_INET6 ? "[" : "";
	const char *rb = *lb ? "]" : "";
	int n;

	if (t->port == def)
		n = snprintf(t->url, sizeof(t->url), "%s://%s%s%s%s",
		    t->https ? "https" : "http", lb, t->host, rb, path);
	else
		n = snprintf(t->url, sizeof(t->url), "%s://%s%s%s:%u%s",
		    t->https ? "https" : "http", lb, t->host, rb, t->port,
		    path);
	if (n < 0 || (size_t)n >= sizeof(t->url))
		t->url[0] = '\0';	/* too long: the fetch fails cleanly */
}

static void
addr_port(const struct val_addr *a, uint16_t port, char *out, size_t n)
{
	if (a->family == AF_INET6)
		snprintf(out, n, "[%s]:%u", a->text, port);
	else
		snprintf(out, n, "%s:%u", a->text, port);
}

/*
 * One request to one address. Returns the curl code; the response is in
 * f, the status in *status.
 */
static CURLcode
perform(struct val_ctx *ctx, const struct target *t, const struct val_addr *a,
    long timeout_ms, long connect_ms, struct fetch *f, long *status,
    char **location, long *os_errno, long *connected)
{
	CURL *h = NULL;
	struct curl_slist *resolve = NULL, *hdrs = NULL;
	char entry[VAL_MAX_NAME + 80], *loc = NULL;
	curl_off_t ct = 0;
	CURLcode cc;

	*status = 0;
	*location = NULL;
	*os_errno = 0;
	*connected = 0;
	if (ctx->curl == NULL)
		ctx->curl = curl_easy_init();
	else
		curl_easy_reset(ctx->curl);
	h = ctx->curl;
	if (h == NULL)
		return CURLE_OUT_OF_MEMORY;
	/* the last fetch's name goes (curl keeps CURLOPT_RESOLVE names for
	 * as long as the handle lives) */
	if (ctx->curl_forget[0] != '\0' &&
	    (resolve = curl_slist_append(NULL, ctx->curl_forget)) == NULL)
		return CURLE_OUT_OF_MEMORY;
	ctx->curl_forget[0] = '\0';
	if (a->family == AF_INET6)
		snprintf(entry, sizeof(entry), "%s:%u:[%s]", t->host, t->port,
		    a->text);
	else
		snprintf(entry, sizeof(entry), "%s:%u:%s", t->host, t->port,
		    a->text);
	/* An address literal needs no resolution: curl takes the URL's
	 * address as it is (no resolver-start callback then, which would
	 * refuse it) */
	if (!t->ip) {
		struct curl_slist *n = curl_slist_append(resolve, entry);

		if (n == NULL) {
			cc = CURLE_OUT_OF_MEMORY;
			goto out;
		}
		resolve = n;
		snprintf(ctx->curl_forget, sizeof(ctx->curl_forget),
		    "-%s:%u", t->host, t->port);
	}
	hdrs = curl_slist_append(NULL, "Connection: close");
	if (hdrs == NULL) {
		cc = CURLE_OUT_OF_MEMORY;
		goto out;
	}
#define SET(opt, val)                                                          \
	do {                                                                   \
		if ((cc = curl_easy_setopt(h, opt, val)) != CURLE_OK)          \
			goto out;                                              \
	} while (0)
	SET(CURLOPT_URL, t->url);
	if (resolve != NULL)
		SET(CURLOPT_RESOLVE, resolve);
	if (!t->ip)
		SET(CURLOPT_RESOLVER_START_FUNCTION, no_resolve);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_FORBID_REUSE, 1L);
	SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_USERAGENT, "certdesk-validation/" CERTDESK_VERSION);
	SET(CURLOPT_TIMEOUT_MS, timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ctx->conf.http_max_body);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, f);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, f);
	SET(CURLOPT_ERRORBUFFER, f->errbuf);
	/* As Boulder: an https redirect target is not authenticated by its
	 * certificate; the key authorization in the body is the proof. */
	SET(CURLOPT_SSL_VERIFYPEER, 0L);
	SET(CURLOPT_SSL_VERIFYHOST, 0L);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
#undef SET
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, os_errno);
	if (curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &ct) == CURLE_OK &&
	    ct > 0)
		*connected = 1;
	if (cc == CURLE_OK) {
		*connected = 1;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
		if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) ==
		    CURLE_OK && loc != NULL)
			*location = xstrndup(loc, MAX_URL);
	}
out:
	/* the handle must not keep pointers to the lists freed here */
	curl_easy_setopt(h, CURLOPT_RESOLVE, NULL);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(resolve);
	curl_slist_free_all(hdrs);
	return cc;
}

void
val_http_ctx_free(struct val_ctx *ctx)
{
	if (ctx->curl != NULL)
		curl_easy_cleanup(ctx->curl);
	ctx->curl = NULL;
}

/*
 * Checks a redirect target as Boulder does and fills next. Returns 0, or
 * -1 after val_run_fail().
 */
static int
redirect_target(struct val_run *r, const char *from, const char *loc,
    struct target *next)
{
	struct val_conf *c = &r->ctx->conf;
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	char *pw = NULL, *path = NULL, *query = NULL, q[160];
	char pathq[MAX_URL];
	struct rc_detail d = {{0}};
	unsigned char tmp[16];
	int ret = -1;

	val_quote(q, sizeof(q), loc, strlen(loc), 120);
	if (u == NULL || curl_url_set(u, CURLUPART_URL, loc, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		val_run_fail(r, 0, VAL_PROB_CONNECTION, "Invalid redirect "
		    "from %s to '%s'", from, q);
		goto out;
	}
	if (strcasecmp(scheme, "http") != 0 &&
	    strcasecmp(scheme, "https") != 0) {
		val_run_fail(r, 0, VAL_PROB_CONNECTION, "Invalid protocol "
		    "scheme in redirect target '%s'; only http and https are "
		    "supported", q);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK) {
		val_run_fail(r, 0, VAL_PROB_CONNECTION, "Redirect target '%s' "
		    "carries user information", q);
		goto out;
	}
	if (host[0] == '[' || inet_pton(AF_INET, host, tmp) == 1) {
		val_run_fail(r, 0, VAL_PROB_CONNECTION, "Invalid host in "
		    "redirect target '%s': only domain names are supported, "
		    "not IP addresses", q);
		goto out;
	}
	if (val_name_normalize(host, 0, next->host, NULL, &d) != 0) {
		val_run_fail(r, 0, VAL_PROB_CONNECTION, "Invalid host in "
		    "redirect target '%s': %s", q, d.msg);
		goto out;
	}
	next->https = strcasecmp(scheme, "https") == 0;
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
		long p = strtol(port, NULL, 10);

		if (p != c->http01_port && p != c->https_port) {
			val_run_fail(r, 0, VAL_PROB_CONNECTION, "Invalid port "
			    "in redirect target '%s': only ports %u and %u "
			    "are supported", q, c->http01_port, c->https_port);
			goto out;
		}
		next->port = (uint16_t)p;
	} else {
		next->port = next->https ? c->https_port : c->http01_port;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK)
		query = NULL;
	if (snprintf(pathq, sizeof(pathq), "%s%s%s", path, query ? "?" : "",
	    query ? query : "") >= (int)sizeof(pathq)) {
		val_run_fail(r, 0, VAL_PROB_CONNECTION, "Redirect target "
		    "'%s' is too long", q);
		goto out;
	}
	make_url(next, pathq);
	ret = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_free(pw);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return ret;
}

/* Fails the run for a curl error on an established exchange. */
static void
fail_curl(struct val_run *r, CURLcode cc, const struct fetch *f,
    const struct target *t, const char *where)
{
	char eb[CURL_ERROR_SIZE + 8];

	val_quote(eb, sizeof(eb), f->errbuf[0] ? f->errbuf :
	    curl_easy_strerror(cc), strlen(f->errbuf[0] ? f->errbuf :
	    curl_easy_strerror(cc)), 160);
	if (f->body_too_big || cc == CURLE_FILESIZE_EXCEEDED)
		val_run_fail(r, 0, VAL_PROB_UNAUTHORIZED, "Response from %s "
		    "(%s) is larger than %zu bytes", t->url, where,
		    r->ctx->conf.http_max_body);
	else if (f->hdr_too_big)
		val_run_fail(r, 0, VAL_PROB_UNAUTHORIZED, "Response headers "
		    "from %s (%s) are larger than %zu bytes", t->url, where,
		    r->ctx->conf.http_max_header);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		val_run_fail(r, 0, VAL_PROB_CONNECTION, "Timeout after %u ms "
		    "fetching %s from %s", r->ctx->conf.http_timeout_ms,
		    t->url, where);
	else if (cc == CURLE_SSL_CONNECT_ERROR ||
	    cc == CURLE_PEER_FAILED_VERIFICATION ||
	    cc == CURLE_SSL_CERTPROBLEM ||
	    cc == CURLE_SSL_CIPHER || cc == CURLE_USE_SSL_FAILED)
		val_run_fail(r, 0, VAL_PROB_TLS, "TLS error fetching %s from "
		    "%s: %s", t->url, where, eb);
	else
		val_run_fail(r, 0, VAL_PROB_CONNECTION, "Error fetching %s "
		    "from %s: %s", t->url, where, eb);
}

/*
 * GET http://host:http01_port + path, following checked redirects, each
 * request in the evidence. Returns 0 with the final 200 in *resp, or -1
 * after val_run_fail(); resp->body is for buf_free() either way.
 */
static int
get(struct val_run *r, const char *host, const struct val_addr *ip,
    const char *path, struct response *resp)
{
	struct val_ctx *ctx = r->ctx;
	struct target t;
	struct fetch f;
	char *visited[21] = {NULL};
	size_t nvisited = 0;
	int64_t deadline;
	int ret = -1;

	memset(&f, 0, sizeof(f));
	memset(&t, 0, sizeof(t));
	memset(resp, 0, sizeof(*resp));
	buf_init(&resp->body, ctx->conf.http_max_body);
	snprintf(t.host, sizeof(t.host), "%s", host);
	if (ip != NULL) {
		t.ip = 1;
		t.addr = *ip;
	}
	t.https = 0;
	t.port = ctx->conf.http01_port;
	make_url(&t, path);
	deadline = val_now_ms() + ctx->conf.http_timeout_ms;

	for (unsigned hop = 0;; hop++) {
		struct val_addr addrs[VAL_MAX_ADDRS];
		size_t naddrs = 0, i;
		json_t *ev = json_object(), *attempts = json_array();
		char where[80] = "", *location = NULL;
		long status = 0, oserr = 0, connected = 0;
		CURLcode cc = CURLE_COULDNT_CONNECT;
		int64_t t_dns;

		json_object_set_new(ev, "url", val_json_str(t.url));
		json_object_set_new(ev, "host", json_string(t.host));
		json_object_set_new(ev, "port", json_integer(t.port));
		json_object_set_new(ev, "attempts", attempts);
		json_array_append_new(val_run_array(r, "http"), ev);
		visited[nvisited++] = xstrdup(t.url);

		/* DNS has its own bound: its time is not taken from the
		 * HTTP budget. */
		t_dns = val_now_ms();
		if (t.ip) {
			/* RFC 8738 §3.1: the address itself, no lookup */
			addrs[0] = t.addr;
			naddrs = 1;
		} else if (val_resolve_host(r, t.host, nvisited == 1, addrs,
		    &naddrs) != 0) {
			goto out;
		}
		deadline += val_now_ms() - t_dns;
		{
			json_t *as = json_array();

			for (i = 0; i < naddrs; i++)
				json_array_append_new(as,
				    json_string(addrs[i].text));
			json_object_set_new(ev, "addresses", as);
		}

		for (i = 0; i < naddrs; i++) {
			int64_t left = deadline - val_now_ms();
			long conn_ms;
			json_t *at;

			addr_port(&addrs[i], t.port, where, sizeof(where));
			if (left <= 0) {
				cc = CURLE_OPERATION_TIMEDOUT;
				break;
			}
			/* Leave time for the addresses after this one. */
			conn_ms = (long)(left / (int64_t)(naddrs - i));
			if (conn_ms < 1)
				conn_ms = 1;
			buf_free(&f.body);
			memset(&f, 0, sizeof(f));
			buf_init(&f.body, ctx->conf.http_max_body);
			f.hdr_max = ctx->conf.http_max_header;
			free(location);
			cc = perform(ctx, &t, &addrs[i], (long)left, conn_ms,
			    &f, &status, &location, &oserr, &connected);
			at = json_pack("{s:s, s:s}", "address", where,
			    "result", cc == CURLE_OK ? "response" :
			    curl_easy_strerror(cc));
			json_array_append_new(attempts, at);
			/* Only a failure to connect moves on to the next
			 * address; anything the server said is final. */
			if (cc == CURLE_COULDNT_CONNECT ||
			    (cc == CURLE_OPERATION_TIMEDOUT && !connected))
				continue;
			break;
		}
		if (cc == CURLE_COULDNT_CONNECT ||
		    (cc == CURLE_OPERATION_TIMEDOUT && !connected)) {
			if (cc == CURLE_OPERATION_TIMEDOUT)
				val_run_fail(r, 0, VAL_PROB_CONNECTION,
				    "Timeout during connect to %s (likely "
				    "firewall problem)", where);
			else if (oserr == ECONNREFUSED)
				val_run_fail(r, 0, VAL_PROB_CONNECTION,
				    "Connection refused to %s", where);
			else
				val_run_fail(r, 0, VAL_PROB_CONNECTION,
				    "Could not connect to %s: %s", where,
				    oserr ? strerror((int)oserr) :
				    "connection failed");
			free(location);
			goto out;
		}
		json_object_set_new(ev, "address_used", json_string(where));
		if (cc != CURLE_OK) {
			json_object_set_new(ev, "error", json_string(
			    curl_easy_strerror(cc)));
			fail_curl(r, cc, &f, &t, where);
			free(location);
			goto out;
		}
		json_object_set_new(ev, "status", json_integer(status));
		json_object_set_new(ev, "body_length", json_integer(
		    (json_int_t)f.body.len));
		{
			char pre[300];

			val_quote(pre, sizeof(pre), f.body.data, f.body.len,
			    128);
			json_object_set_new(ev, "body_prefix",
			    json_string(pre));
		}
		/* BR 3.2.2.4.18 and .19: redirects by 301, 302, 307 and
		 * 308 only (a 303 is an HTTP error like any other here) */
		if (status == 301 || status == 302 || status == 307 ||
		    status == 308) {
			struct target next;

			memset(&next, 0, sizeof(next));
			json_object_set_new(ev, "location",
			    val_json_str(location));
			if (location == NULL) {
				val_run_fail(r, 0, VAL_PROB_CONNECTION,
				    "Redirect (HTTP %ld) from %s without a "
				    "Location", status, t.url);
				goto out;
			}
			if (hop >= ctx->conf.http_max_redirects) {
				val_run_fail(r, 0, VAL_PROB_CONNECTION,
				    "Too many redirects (more than %u) "
				    "fetching %s", ctx->conf.http_max_redirects,
				    visited[0]);
				free(location);
				goto out;
			}
			if (redirect_target(r, t.url, location, &next) != 0) {
				free(location);
				goto out;
			}
			free(location);
			for (i = 0; i < nvisited; i++)
				if (strcmp(visited[i], next.url) == 0) {
					val_run_fail(r, 0,
					    VAL_PROB_CONNECTION,
					    "Redirect loop detected at %s",
					    next.url);
					goto out;
				}
			t = next;
			continue;
		}
		free(location);
		if (status != 200) {
			val_run_fail(r, 0, VAL_PROB_UNAUTHORIZED,
			    "Invalid response from %s (%s): HTTP %ld", t.url,
			    where, status);
			goto out;
		}
		/* A 200: what it says is for the caller to judge. */
		resp->body = f.body;
		memset(&f.body, 0, sizeof(f.body));
		snprintf(resp->url, sizeof(resp->url), "%s", t.url);
		snprintf(resp->where, sizeof(resp->where), "%s", where);
		ret = 0;
		break;
	}
out:
	for (size_t i = 0; i < nvisited; i++)
		free(visited[i]);
	buf_free(&f.body);
	return ret;
}

static int
http_check(struct val_ctx *ctx, const char *name, int is_ip,
    const char *token, const char *value, const struct val_http_method *m,
    struct val_result *out)
{
	struct val_run r;
	struct response resp;
	struct rc_detail d = {{0}};
	struct val_addr ip;
	char host[VAL_MAX_NAME + 1];
	char path[VAL_HTTP_MAX_TOKEN + 64];
	int rc = 0;

	memset(&resp, 0, sizeof(resp));
	val_run_begin(&r, ctx, out, m->kind, name);
	if (m->kind_name != NULL)
		val_run_set(&r, "kind", json_string(m->kind_name));
	if (ctx == NULL || name == NULL || token == NULL || value == NULL ||
	    !valid_token(token) || !valid_value(value)) {
		rc = val_run_fail(&r, RC_INVAL, VAL_PROB_SERVER_INTERNAL, "%s",
		    m->bad_input);
		goto out;
	}
	if (is_ip) {
		if (val_ip_target(&r, m->label, name, &ip) != 0) {
			rc = RC_BADNAME;
			goto out;
		}
		snprintf(host, sizeof(host), "%s", ip.text);
	} else if (val_name_normalize(name, 0, host, NULL, &d) != 0) {
		/* neither method is for wildcard names */
		rc = val_run_fail(&r, RC_BADNAME,
		    VAL_PROB_REJECTED_IDENTIFIER,
		    "%s: not a DNS name: %s", m->label, d.msg);
		goto out;
	}
	snprintf(path, sizeof(path), "%s%s%s", m->path_pre, token,
	    m->path_post);
	val_run_set(&r, "expected", json_string(value));
	if (get(&r, host, is_ip ? &ip : NULL, path, &resp) != 0)
		goto out;
	{
		size_t n = resp.body.len, vl = strlen(value);
		char got[200], want[200];

		if (m->match(resp.body.data, &n, value)) {
			val_run_valid(&r, "Found %s %s %s (%s)", m->what,
			    m->prep, resp.url, resp.where);
			goto out;
		}
		val_quote(got, sizeof(got), resp.body.data, n, 100);
		val_quote(want, sizeof(want), value, vl, 100);
		val_run_fail(&r, 0, VAL_PROB_INCORRECT_RESPONSE,
		    "Expected '%s' %s %s, found '%s'", want, m->prep, resp.url,
		    got);
	}
out:
	buf_free(&resp.body);
	return val_run_end(&r, rc);
}

int
val_http_check(struct val_ctx *ctx, const char *name, const char *token,
    const char *value, const struct val_http_method *m,
    struct val_result *out)
{
	return http_check(ctx, name, 0, token, value, m, out);
}

int
val_http_check_ip(struct val_ctx *ctx, const char *ip, const char *token,
    const char *value, const struct val_http_method *m,
    struct val_result *out)
{
	return http_check(ctx, ip, 1, token, value, m, out);
}
