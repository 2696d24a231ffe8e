/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the validation component: the context layout, one check in
 * progress (struct val_run: result, evidence, DNSSEC aggregate), DNS
 * lookups through libunbound, and the CAA parsers (exposed here for the
 * unit tests and the fuzz harness). Nothing outside src/validation and its
 * tests includes this file.
 */
#ifndef CERTDESK_VALIDATION_VAL_INT_H
#define CERTDESK_VALIDATION_VAL_INT_H

#include "validation/val.h"

#include <jansson.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <unbound.h>

#define VAL_ACME_TLS_ALPN "acme-tls/1"
#define VAL_MAX_ADDRS 16	/* addresses kept per name (AAAA + A) */
#define VAL_RR_CAA 257
#define VAL_CAA_CACHE_MAX_S 28800	/* BR 3.2.2.8: 8 hours */

struct val_caa_cache;		/* caa_cache.c */
struct val_dns_ticket;		/* dns_event.c */
struct event_base;

struct val_ctx {
	struct val_conf conf;	/* the strings point at the copies below */
	char *resolver;
	char *trust_anchor;	/* the anchor file actually loaded, or NULL */
	char *perspective;
	char **caa_ids;		/* NULL-terminated, lower case */
	struct ub_ctx *ub;	/* driven on evb (dns_event.c) */
	struct event_base *evb;
	struct val_dns_ticket *tickets;	/* lookups unbound still holds */
	SSL_CTX *tls;		/* tls-alpn-01 client */
	/* http_fetch.c: one curl handle for every fetch of this context
	 * (reset between them; each fetch still on a new connection), and
	 * the CURLOPT_RESOLVE removal of the last fetch's name */
	void *curl;
	char curl_forget[VAL_MAX_NAME + 16];
	struct val_caa_cache *caa_cache;	/* NULL until the first answer,
						 * or conf.caa_cache */
};

/* Monotonic milliseconds. */
int64_t val_now_ms(void);

/* ---- one check in progress (result.c) ----------------------------------- */

/*
 * A check fills a struct val_run: val_run_begin() zeroes the result and
 * starts the evidence object, the check adds to it, records the first
 * failure with val_run_fail() (later failures do not overwrite it) or
 * success with val_run_valid(), and val_run_end() writes outcome, detail
 * and DNSSEC status into the evidence, serialises it into out->evidence
 * and returns rc.
 */
struct val_run {
	struct val_ctx *ctx;
	struct val_result *out;
	struct val_result local;	/* used when the caller passed NULL */
	json_t *ev;			/* the evidence object, owned */
	int64_t t0;
	int failed;
	int valid;
};

void val_run_begin(struct val_run *r, struct val_ctx *ctx,
    struct val_result *out, enum val_kind kind, const char *name);
/* Marks the check invalid with problem p and a detail (first call wins);
 * returns rc so that "return val_run_fail(...)" reads well. */
int val_run_fail(struct val_run *r, int rc, enum val_problem p,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void val_run_valid(struct val_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Folds one DNS answer's status into the result (weakest wins). */
void val_run_dnssec(struct val_run *r, enum val_dnssec s);
/* The array under key in the evidence, created on first use (borrowed). */
json_t *val_run_array(struct val_run *r, const char *key);
/* Sets key in the evidence (takes the reference of v). */
void val_run_set(struct val_run *r, const char *key, json_t *v);
/* Finalises the result (see above); returns rc. */
int val_run_end(struct val_run *r, int rc);

/*
 * Text for humans from untrusted bytes: printable ASCII kept, anything
 * else as \xNN, cut after max input bytes with "..." appended; always
 * NUL-terminated within outsz.
 */
void val_quote(char *out, size_t outsz, const void *p, size_t n, size_t max);
/* A JSON string for s; s quoted with val_quote() when it is not UTF-8;
 * JSON null for NULL. New reference. */
json_t *val_json_str(const char *s);

/* ---- DNS through libunbound (dns.c) -------------------------------------- */

enum val_dns_status {
	VAL_DNS_DATA = 0,	/* NOERROR with records */
	VAL_DNS_NODATA,		/* NOERROR, no records of that type */
	VAL_DNS_NXDOMAIN,
	VAL_DNS_SERVFAIL,
	VAL_DNS_BOGUS,		/* DNSSEC validation failed */
	VAL_DNS_TIMEOUT,	/* no answer within dns_timeout_ms */
	VAL_DNS_RCODE,		/* another rcode (REFUSED, FORMERR, ...) */
	VAL_DNS_ERROR		/* libunbound reported an error */
};

struct val_dns_q {
	/* in */
	char qname[VAL_MAX_NAME + 2];
	int qtype;
	/* out */
	enum val_dns_status status;
	int rcode;
	enum val_dnssec dnssec;
	struct ub_result *res;	/* owned; NULL on timeout or error */
	int ub_err;
	time_t cached_at;	/* nonzero: a reused CAA answer, asked then
				 * (val_caa_cache_get); not resolved again */
	/* internal */
	int done;
};

/*
 * Resolves q[0..n) in parallel within dns_timeout_ms; every q gets a
 * status. Returns 0, or RC_ERR when the queries could not be started (all
 * then carry VAL_DNS_ERROR).
 */
int val_dns_resolve(struct val_ctx *ctx, struct val_dns_q *q, size_t n);

/*
 * dns_event.c: libunbound on the calling thread's event base. start: one
 * lookup of q (unbound's error code, 0 when started; local data may answer
 * before it returns). wait: runs the base until q[0..n) are done or
 * deadline (val_now_ms()) passes; what is left is abandoned. free: after
 * ub_ctx_delete(), the tickets left and the base. result_from_msg: the
 * struct ub_result of a DNS message as unbound's threads would give it
 * (exposed for the tests and the fuzz harness).
 */
int val_dns_event_start(struct val_ctx *ctx, struct val_dns_q *q);
void val_dns_event_wait(struct val_ctx *ctx, struct val_dns_q *q, size_t n,
    int64_t deadline);
void val_dns_event_free(struct val_ctx *ctx);
struct ub_result *val_dns_result_from_msg(const char *qname, int qtype,
    int rcode, const uint8_t *msg, size_t len, int sec,
    const char *why_bogus);
void val_dns_q_release(struct val_dns_q *q, size_t n);
/*
 * CAA answers reused for val_conf.caa_cache_s seconds (caa_cache.c). get:
 * 1 and q answered (status, dnssec, rcode, res, cached_at) from the
 * context's cache, else 0. put: keeps q's answer when it may be kept.
 */
int val_caa_cache_get(struct val_ctx *ctx, struct val_dns_q *q);
void val_caa_cache_put(struct val_ctx *ctx, const struct val_dns_q *q);
void val_caa_cache_free(struct val_ctx *ctx);
/*
 * The CAA lookups to ask ahead for name (normalised, no trailing dot):
 * its own and its parents' (not the root) not cached now, at most max,
 * into q. Returns how many (0 when caching is off). After val_dns_resolve,
 * val_caa_ahead_keep() caches the answers and releases the n queries.
 */
size_t val_caa_ahead(struct val_ctx *ctx, const char *name,
    struct val_dns_q *q, size_t max);
void val_caa_ahead_keep(struct val_ctx *ctx, struct val_dns_q *q, size_t n);
#define VAL_CAA_AHEAD_MAX 4	/* the name and its first parents */
/* 1 for statuses that must never count as an answer. */
int val_dns_failed(const struct val_dns_q *q);
const char *val_dns_status_str(enum val_dns_status s);
const char *val_dns_type_str(int qtype);
/* Appends q to the evidence "dns" array and folds its DNSSEC status. */
void val_run_dns(struct val_run *r, const struct val_dns_q *q);
/* val_run_fail() with problem dns and a detail naming the failure. */
int val_run_dns_fail(struct val_run *r, const struct val_dns_q *q);

struct val_addr {
	int family;			/* AF_INET6 or AF_INET */
	uint8_t bytes[16];
	char text[48];			/* "::1" or "127.0.0.1" */
};

/*
 * Looks up AAAA and A for host (a normalised name), records both in the
 * evidence and returns the addresses, AAAA first, at most VAL_MAX_ADDRS.
 * caa_ahead: host is the name being validated; ask its uncached CAA RRsets
 * in the same round (val_caa_ahead). Returns 0 with *naddrs >= 1, or -1
 * after val_run_fail() (dns: lookup failed or no address).
 */
int val_resolve_host(struct val_run *r, const char *host, int caa_ahead,
    struct val_addr *addrs, size_t *naddrs);

/* 1 for an address that is not globally reachable (the list
 * val_resolve_host() filters with). */
int val_addr_special(int family, const uint8_t *a);

/*
 * The address of an IP identifier (RFC 8738): ip must be canonical text
 * (what inet_ntop writes) and, unless allow_private_addresses, not
 * special-purpose; recorded in the evidence ("addresses"). Returns 0 with
 * *a filled, or -1 after val_run_fail() (RC_BADNAME, rejectedIdentifier).
 */
int val_ip_target(struct val_run *r, const char *label, const char *ip,
    struct val_addr *a);

/* ---- HTTP checks: http-01 and the file method (http_fetch.c) ------------ */

#define VAL_HTTP_MAX_TOKEN 256	/* token / file name, bytes */
#define VAL_HTTP_MAX_VALUE 1024	/* key authorization / random value, bytes */

/* What differs between http-01 (http01.c) and the file on the website
 * (httpfile.c); the strings are static. */
struct val_http_method {
	enum val_kind kind;
	const char *kind_name;	/* evidence "kind" over the kind's own, or NULL */
	const char *label;	/* "http-01": prefix of the not-a-name detail */
	const char *bad_input;	/* detail for a malformed token or value */
	const char *path_pre;	/* "/.well-known/acme-challenge/" */
	const char *path_post;	/* after the token: "" or ".txt" */
	const char *what;	/* "Found WHAT PREP URL (ADDRESS)" */
	const char *prep;	/* "at" / "in"; also "Expected 'V' PREP URL" */
	/* 1 when body[0..*n) proves value; may shorten *n to the part to
	 * quote back when it does not. */
	int (*match)(const uint8_t *body, size_t *n, const char *value);
};

/*
 * GET http://NAME:http01_port + path_pre TOKEN path_post with the rules in
 * http_fetch.c (resolution through unbound, redirects checked and bounded,
 * sizes and time bounded, every request in the evidence "http" array) and
 * m->match on the body of the final 200. token: 1..VAL_HTTP_MAX_TOKEN of
 * [A-Za-z0-9_-]; value: 1..VAL_HTTP_MAX_VALUE printable ASCII, no space;
 * the value is recorded as evidence "expected". Same return contract as
 * val_http01() (RC_INVAL, RC_BADNAME, else 0 with the outcome in out).
 */
int val_http_check(struct val_ctx *ctx, const char *name, const char *token,
    const char *value, const struct val_http_method *m,
    struct val_result *out);
/* base64url (RFC 4648 §5, no padding) of in[0..n) into out, NUL ended;
 * cut short when outsz (4 * ceil(n / 3) + 1 is enough) is too small. */
void val_b64url(const uint8_t *in, size_t n, char *out, size_t outsz);

/* Frees the curl handle of ctx (val_ctx_free). */
void val_http_ctx_free(struct val_ctx *ctx);
/* val_http_check() for an IP identifier (val_http01_ip's contract): the
 * first request goes to that address, no lookup. */
int val_http_check_ip(struct val_ctx *ctx, const char *ip, const char *token,
    const char *value, const struct val_http_method *m,
    struct val_result *out);

/* ---- CAA parsing (caa.c) ------------------------------------------------- */

#define VAL_CAA_MAX_TAG 15	/* RFC 8659 §4.1 */
#define VAL_CAA_MAX_PARAMS 32	/* more: the value authorizes nobody */

/* One CAA RR (RFC 8659 §4.1). Borrowed from the RDATA it was parsed from. */
struct val_caa_rr {
	uint8_t flags;
	char tag[VAL_CAA_MAX_TAG + 1];	/* as in the record, NUL-terminated */
	size_t tag_len;
	const uint8_t *value;
	size_t value_len;
};

/* Parses CAA RDATA: flags, tag length 1..15, tag of ASCII letters and
 * digits, value the rest (any bytes). 0 or RC_INVAL. */
int val_caa_rr_parse(const uint8_t *rdata, size_t len, struct val_caa_rr *out);

struct val_caa_param {
	const char *tag;
	size_t tag_len;
	const char *value;	/* may be empty */
	size_t value_len;
};

/* An issue / issuewild value (RFC 8659 §4.2). Borrowed from the value. */
struct val_caa_issue {
	const char *domain;	/* NULL when absent ("issue ;") */
	size_t domain_len;
	struct val_caa_param params[VAL_CAA_MAX_PARAMS];
	size_t nparams;
};

/*
 *   issue-value = *WSP [issuer-domain-name *WSP]
 *                 [";" *WSP [parameters *WSP]]
 *   issuer-domain-name = label *("." label)
 *   label = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT))
 *   parameters = (parameter *WSP ";" *WSP parameters) / parameter
 *   parameter = tag *WSP "=" *WSP value
 *   tag = (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT))
 *   value = *(%x21-3A / %x3C-7E)
 * Returns 0, RC_INVAL when v does not match, RC_TOOBIG over
 * VAL_CAA_MAX_PARAMS parameters.
 */
int val_caa_issue_parse(const uint8_t *v, size_t len,
    struct val_caa_issue *out);

/*
 * RFC 8657 §4 validationmethods value: label *("," label), labels as in
 * the issuer-domain-name grammar. 1 when method is one of them (exact
 * match), 0 when not, RC_INVAL when malformed.
 */
int val_caa_methods_contain(const char *v, size_t len, const char *method);

/*
 * The decision on one relevant RRset given as raw RDATA (pure; used by
 * val_caa_check()). ids: NULL-terminated CA identities. Returns 1
 * permitted, 0 forbidden, with a reason in why.
 */
int val_caa_decide(const uint8_t *const *rdata, const size_t *len, size_t n,
    const char *const *ids, int is_wildcard, const char *account_uri,
    const char *method, char *why, size_t whysz);

#endif
