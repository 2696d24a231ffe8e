/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The validation context: configuration defaults, the libunbound context
 * (resolver, trust anchors, cache policy), the TLS client context for
 * tls-alpn-01, and val_check(), the one entry point that dispatches a
 * struct val_request to its check.
 *
 * Runs in the main certdesk process; one context per worker thread. It
 * trusts the configuration and the trust anchor files.
 */
#include "validation/val_int.h"
#include "util/dnsname.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <unbound-event.h>

/* Root trust anchors shipped by Debian, in order of preference: the static
 * DS/DNSKEY file of dns-root-data, then the file unbound-anchor keeps. */
static const char *const root_anchors[] = {
	"/usr/share/dns/root.key",
	"/var/lib/unbound/root.key",
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_rc;

static void
global_init(void)
{
	/* curl_global_init is not thread-safe: once per process. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		global_rc = RC_ERR;
}

int64_t
val_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
val_conf_defaults(struct val_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->http01_port = 80;
	c->https_port = 443;
	c->tlsalpn01_port = 443;
	c->dns_timeout_ms = 5000;
	c->http_timeout_ms = 10000;
	c->tls_timeout_ms = 10000;
	c->http_max_body = 4096;
	c->http_max_header = 16384;
	c->tls_max_cert_list = 65536;
	c->http_max_redirects = 10;
	c->perspective = "primary";
}

/*
 * One forwarder: "A.B.C.D", "A.B.C.D:PORT", "[V6]" or "[V6]:PORT" into
 * unbound's "ADDR@PORT". Returns 0 or RC_CONFIG.
 */
static int
parse_fwd(const char *s, size_t n, char *out, size_t outsz)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL, *end = s + n;
	size_t hl;
	unsigned char tmp[16];
	int v6 = 0;

	if (n > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (rb == NULL)
			return RC_CONFIG;
		hl = (size_t)(rb - s - 1);
		if (hl == 0 || hl >= sizeof(host))
			return RC_CONFIG;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return RC_CONFIG;
			port = rb + 2;
		}
		v6 = 1;
	} else {
		const char *colon = memchr(s, ':', n);

		hl = colon != NULL ? (size_t)(colon - s) : n;
		if (hl == 0 || hl >= sizeof(host))
			return RC_CONFIG;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (colon != NULL)
			port = colon + 1;
	}
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, tmp) != 1)
		return RC_CONFIG;
	if (port != NULL) {
		unsigned long p = 0;
		const char *q;

		if (port == end || end - port > 5)
			return RC_CONFIG;
		for (q = port; q < end; q++) {
			if (*q < '0' || *q > '9')
				return RC_CONFIG;
			p = p * 10 + (unsigned long)(*q - '0');
		}
		if (p == 0 || p > 65535)
			return RC_CONFIG;
		snprintf(out, outsz, "%s@%lu", host, p);
	} else {
		snprintf(out, outsz, "%s", host);
	}
	return 0;
}

static int
setopt(struct ub_ctx *ub, const char *opt, const char *val,
    struct rc_detail *d)
{
	int e = ub_ctx_set_option(ub, opt, val);

	if (e != 0) {
		rc_detail_set(d, "validation: unbound option %s %s: %s", opt,
		    val, ub_strerror(e));
		return RC_CONFIG;
	}
	return 0;
}

/*
 * val_conf.stub_zones, "zone=ADDR:PORT ...": each zone asked of its server
 * (stub-zone, not primed), declared a DNSSEC island without a chain of
 * trust (domain-insecure) and kept out of unbound's built-in local zones
 * (local-zone transparent). A loopback server needs
 * do-not-query-localhost off, which then holds for every query.
 */
static int
setup_stubs(struct val_ctx *ctx, struct rc_detail *d)
{
	const char *p = ctx->conf.stub_zones;
	int rc, e, any = 0;

	while (p != NULL && *p != '\0') {
		char norm[DNSNAME_BUF];
		char zone[VAL_MAX_NAME + 2], opt[VAL_MAX_NAME + 16];
		char fwd[INET6_ADDRSTRLEN + 16];
		const char *eq;
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, " \t");
		eq = memchr(p, '=', n);
		if (eq == NULL || eq == p) {
			rc_detail_set(d, "validation: stub zone '%.*s' is not "
			    "zone=ADDR:PORT", (int)(n > 64 ? 64 : n), p);
			return RC_CONFIG;
		}
		/* a zone as DNS servers name it: '_', a single label
		 * ("test"), a trailing dot (DNSNAME_ZONE) */
		if (dnsname_norm(p, (size_t)(eq - p), DNSNAME_ZONE, norm,
		    NULL) != 0 ||
		    parse_fwd(eq + 1, n - (size_t)(eq - p) - 1, fwd,
		    sizeof(fwd)) != 0) {
			rc_detail_set(d, "validation: stub zone '%.*s': bad "
			    "zone name or address", (int)(n > 64 ? 64 : n), p);
			return RC_CONFIG;
		}
		snprintf(zone, sizeof(zone), "%s.", norm);
		if ((e = ub_ctx_set_stub(ctx->ub, zone, fwd, 0)) != 0) {
			rc_detail_set(d, "validation: stub zone %s at %s: %s",
			    zone, fwd, ub_strerror(e));
			return RC_CONFIG;
		}
		snprintf(opt, sizeof(opt), "%s transparent", zone);
		if ((rc = setopt(ctx->ub, "domain-insecure:", zone, d)) != 0 ||
		    (rc = setopt(ctx->ub, "local-zone:", opt, d)) != 0)
			return rc;
		any = 1;
		p += n;
	}
	if (any && (rc = setopt(ctx->ub, "do-not-query-localhost:", "no",
	    d)) != 0)
		return rc;
	ctx->conf.stub_zones = NULL;	/* borrowed only during open */
	return 0;
}

static int
setup_resolver(struct val_ctx *ctx, struct rc_detail *d)
{
	const char *r = ctx->conf.resolver;
	const char *anchor = ctx->conf.trust_anchor;
	int rc, e;

	/* unbound runs on this context's own event base, on the thread
	 * that checks (dns_event.c): no resolver thread, no fork */
	ctx->evb = event_base_new();
	ctx->ub = ctx->evb != NULL ? ub_ctx_create_event(ctx->evb) : NULL;
	if (ctx->ub == NULL) {
		rc_detail_set(d, "validation: cannot create unbound context");
		return RC_ERR;
	}
	/*
	 * Fresh answers for every check: every cached entry expires at once
	 * (see val_ctx_open() in val.h for why); no NSEC synthesis from the
	 * cache either.
	 */
	if ((rc = setopt(ctx->ub, "cache-max-ttl:", "0", d)) != 0 ||
	    (rc = setopt(ctx->ub, "cache-max-negative-ttl:", "0", d)) != 0 ||
	    (rc = setopt(ctx->ub, "aggressive-nsec:", "no", d)) != 0 ||
	    (rc = setopt(ctx->ub, "prefetch:", "no", d)) != 0 ||
	    (rc = setopt(ctx->ub, "serve-expired:", "no", d)) != 0)
		return rc;

	if (r != NULL && strcmp(r, "resolv.conf") == 0) {
		if ((e = ub_ctx_resolvconf(ctx->ub, NULL)) != 0) {
			rc_detail_set(d, "validation: resolv.conf: %s",
			    ub_strerror(e));
			return RC_CONFIG;
		}
	} else if (r != NULL) {
		const char *p = r;

		if (*p == '\0') {
			rc_detail_set(d, "validation: empty resolver address");
			return RC_CONFIG;
		}
		while (*p != '\0') {
			size_t n = strcspn(p, ",");
			char fwd[INET6_ADDRSTRLEN + 16];

			if (parse_fwd(p, n, fwd, sizeof(fwd)) != 0) {
				rc_detail_set(d, "validation: resolver '%.*s' "
				    "is not ADDR, ADDR:PORT or [V6]:PORT",
				    (int)(n > 64 ? 64 : n), p);
				return RC_CONFIG;
			}
			if ((e = ub_ctx_set_fwd(ctx->ub, fwd)) != 0) {
				rc_detail_set(d, "validation: forwarder %s: %s",
				    fwd, ub_strerror(e));
				return RC_CONFIG;
			}
			p += n;
			if (*p == ',' && *++p == '\0') {
				rc_detail_set(d, "validation: resolver list "
				    "ends with a comma");
				return RC_CONFIG;
			}
		}
	}
	/*
	 * A configured forwarder may live on loopback (tests, a local
	 * unbound); with full recursion keep unbound's refusal to query
	 * localhost, so that a delegation cannot point the CA at itself.
	 * Likewise unbound answers the RFC 6761 name "test." itself
	 * (NXDOMAIN); with a forwarder, test rigs (Knot serving test.) need
	 * it asked. The ra refuses such names for real certificates anyway.
	 */
	if (r != NULL &&
	    ((rc = setopt(ctx->ub, "do-not-query-localhost:", "no", d)) != 0 ||
	    (rc = setopt(ctx->ub, "local-zone:", "test. transparent", d)) != 0))
		return rc;
	if ((rc = setup_stubs(ctx, d)) != 0)
		return rc;

	if (anchor == NULL && r == NULL) {
		for (size_t i = 0; i < sizeof(root_anchors) /
		    sizeof(root_anchors[0]); i++)
			if (access(root_anchors[i], R_OK) == 0) {
				anchor = root_anchors[i];
				break;
			}
	}
	if (anchor != NULL) {
		/* asked once: a second access() could answer otherwise and
		 * leave e unset */
		int readable = access(anchor, R_OK) == 0;

		if (!readable ||
		    (e = ub_ctx_add_ta_file(ctx->ub, anchor)) != 0) {
			rc_detail_set(d, "validation: trust anchor %s: %s",
			    anchor, !readable ? "not readable" :
			    ub_strerror(e));
			return RC_CONFIG;
		}
		ctx->trust_anchor = xstrdup(anchor);
	} else if (ctx->conf.require_trust_anchor) {
		rc_detail_set(d, "validation: no DNSSEC trust anchor (install "
		    "dns-root-data or set a trust anchor file)");
		return RC_CONFIG;
	} else {
		static atomic_int warned;	/* once per process, not per
						 * context */

		if (!atomic_exchange(&warned, 1))
			log_warn(LOG_VAL, "validation: no DNSSEC trust "
			    "anchor: every answer is insecure");
	}
	/*
	 * libunbound reads its configuration (trust anchors included) only
	 * at the first lookup. Make that happen now, with a name answered
	 * from unbound's built-in local zones (no packet leaves), so that a
	 * bad anchor file is a configuration error here, not a failed check
	 * later.
	 */
	{
		struct val_dns_q q;

		memset(&q, 0, sizeof(q));
		snprintf(q.qname, sizeof(q.qname), "localhost");
		q.qtype = 1;
		rc = val_dns_resolve(ctx, &q, 1);
		val_dns_q_release(&q, 1);
		if (rc != 0) {
			rc_detail_set(d, "validation: resolver setup failed "
			    "(trust anchor %s): %s", anchor ? anchor : "none",
			    ub_strerror(q.ub_err));
			return RC_CONFIG;
		}
	}
	return 0;
}

static int
setup_tls(struct val_ctx *ctx, struct rc_detail *d)
{
	static const unsigned char alpn[] = "\x0a" VAL_ACME_TLS_ALPN;

	ctx->tls = SSL_CTX_new(TLS_client_method());
	if (ctx->tls == NULL) {
		log_openssl(LOG_VAL, "validation: SSL_CTX_new");
		rc_detail_set(d, "validation: cannot create TLS context");
		return RC_CRYPTO;
	}
	/* RFC 8737 §4: TLS 1.2 or later. The certificate is checked by
	 * tlsalpn01.c itself, never chain-verified. */
	if (SSL_CTX_set_min_proto_version(ctx->tls, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_alpn_protos(ctx->tls, alpn, sizeof(alpn) - 1) != 0) {
		log_openssl(LOG_VAL, "validation: TLS context setup");
		rc_detail_set(d, "validation: cannot set up TLS context");
		return RC_CRYPTO;
	}
	SSL_CTX_set_verify(ctx->tls, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_max_cert_list(ctx->tls, (long)ctx->conf.tls_max_cert_list);
	SSL_CTX_set_session_cache_mode(ctx->tls, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx->tls, SSL_OP_NO_TICKET |
	    SSL_OP_NO_RENEGOTIATION);
	return 0;
}

int
val_ctx_open(const struct val_conf *conf, struct val_ctx **out,
    struct rc_detail *d)
{
	struct val_ctx *ctx = NULL;
	size_t n = 0;
	int rc;

	if (out == NULL)
		return RC_INVAL;
	*out = NULL;
	if (conf == NULL) {
		rc_detail_set(d, "validation: no configuration");
		return RC_INVAL;
	}
	pthread_once(&global_once, global_init);
	if (global_rc != 0) {
		rc_detail_set(d, "validation: libcurl initialisation failed");
		return RC_ERR;
	}
	if (conf->http01_port == 0 || conf->https_port == 0 ||
	    conf->tlsalpn01_port == 0 || conf->dns_timeout_ms == 0 ||
	    conf->http_timeout_ms == 0 || conf->tls_timeout_ms == 0 ||
	    conf->http_max_body == 0 || conf->http_max_header < 1024 ||
	    conf->tls_max_cert_list < 1024 ||
	    conf->dns_timeout_ms > 120000 || conf->http_timeout_ms > 120000 ||
	    conf->tls_timeout_ms > 120000 ||
	    conf->http_max_body > 1024 * 1024 ||
	    conf->tls_max_cert_list > 1024 * 1024 ||
	    conf->http_max_redirects > 20 ||
	    conf->caa_cache_s > VAL_CAA_CACHE_MAX_S) {
		rc_detail_set(d, "validation: a port, timeout or size in the "
		    "configuration is zero or out of range");
		return RC_CONFIG;
	}
	ctx = xcalloc(1, sizeof(*ctx));
	ctx->conf = *conf;
	ctx->caa_cache = conf->caa_cache;	/* shared, or NULL: its own */
	ctx->resolver = conf->resolver ? xstrdup(conf->resolver) : NULL;
	ctx->perspective = xstrdup(conf->perspective ? conf->perspective :
	    "primary");
	ctx->conf.resolver = ctx->resolver;
	ctx->conf.perspective = ctx->perspective;
	if (conf->caa_identities != NULL)
		while (conf->caa_identities[n] != NULL)
			n++;
	ctx->caa_ids = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		char norm[VAL_MAX_NAME + 1];

		if (val_name_normalize(conf->caa_identities[i], 0, norm, NULL,
		    NULL) != 0) {
			rc_detail_set(d, "validation: CAA identity '%.64s' is "
			    "not a DNS name", conf->caa_identities[i]);
			rc = RC_CONFIG;
			goto out;
		}
		ctx->caa_ids[i] = xstrdup(norm);
	}
	if (n == 0)
		log_warn(LOG_VAL, "validation: no CAA identity configured: "
		    "any CAA issue record forbids issuance");
	ctx->conf.caa_identities = (const char *const *)ctx->caa_ids;

	if ((rc = setup_resolver(ctx, d)) != 0)
		goto out;
	ctx->conf.trust_anchor = ctx->trust_anchor;
	if ((rc = setup_tls(ctx, d)) != 0)
		goto out;
	*out = ctx;
	ctx = NULL;
out:
	val_ctx_free(ctx);
	return rc;
}

void
val_ctx_free(struct val_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->ub != NULL)
		ub_ctx_delete(ctx->ub);
	val_dns_event_free(ctx);
	val_http_ctx_free(ctx);
	val_caa_cache_free(ctx);
	SSL_CTX_free(ctx->tls);
	if (ctx->caa_ids != NULL)
		for (size_t i = 0; ctx->caa_ids[i] != NULL; i++)
			free(ctx->caa_ids[i]);
	free(ctx->caa_ids);
	free(ctx->resolver);
	free(ctx->trust_anchor);
	free(ctx->perspective);
	free(ctx);
}

int
val_ctx_has_trust_anchor(const struct val_ctx *ctx)
{
	return ctx != NULL && ctx->trust_anchor != NULL;
}

/* ---- dispatch ---------------------------------------------------------- */

static const char *const kind_labels[] = {
	[VAL_KIND_HTTP01] = "http-01",
	[VAL_KIND_DNS01] = "dns-01",
	[VAL_KIND_TLSALPN01] = "tls-alpn-01",
	[VAL_KIND_CAA] = "caa",
};

const char *
val_kind_label(enum val_kind k)
{
	if ((int)k < VAL_KIND_HTTP01 || k > VAL_KIND_CAA)
		return NULL;
	return kind_labels[k];
}

enum val_kind
val_kind_parse(const char *label)
{
	if (label == NULL)
		return 0;
	for (int k = VAL_KIND_HTTP01; k <= VAL_KIND_CAA; k++)
		if (strcmp(label, kind_labels[k]) == 0)
			return (enum val_kind)k;
	return 0;
}

int
val_check(struct val_ctx *ctx, const struct val_request *req,
    struct val_result *out)
{
	struct val_run r;

	if (req != NULL && req->is_ip) {
		/* RFC 8738 §7: no dns-01 and no CAA for addresses */
		if (req->kind == VAL_KIND_HTTP01)
			return val_http01_ip(ctx, req->name, req->token,
			    req->key_authz, out);
		if (req->kind == VAL_KIND_TLSALPN01)
			return val_tlsalpn01_ip(ctx, req->name,
			    req->key_authz, out);
		val_run_begin(&r, ctx, out, req->kind, req->name);
		val_run_fail(&r, RC_INVAL, VAL_PROB_SERVER_INTERNAL,
		    "validation: %s is not defined for IP addresses",
		    val_kind_label(req->kind) ? val_kind_label(req->kind) :
		    "this check");
		return val_run_end(&r, RC_INVAL);
	}
	if (req != NULL) {
		switch (req->kind) {
		case VAL_KIND_HTTP01:
			return val_http01(ctx, req->name, req->token,
			    req->key_authz, out);
		case VAL_KIND_DNS01:
			return val_dns01(ctx, req->name, req->expected, out);
		case VAL_KIND_TLSALPN01:
			return val_tlsalpn01(ctx, req->name, req->key_authz,
			    out);
		case VAL_KIND_CAA:
			return val_caa_check(ctx, req->name, req->is_wildcard,
			    req->account_uri, req->method, out);
		}
	}
	val_run_begin(&r, ctx, out, 0, req != NULL ? req->name : NULL);
	val_run_fail(&r, RC_INVAL, VAL_PROB_SERVER_INTERNAL,
	    "validation: unknown check kind");
	return val_run_end(&r, RC_INVAL);
}
