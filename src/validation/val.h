/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Domain control validation: the checks an ACME server (RFC 8555 §8) and the
 * portal use to prove that an applicant controls a DNS name, and the CAA
 * check (RFC 8659, with the RFC 8657 accounturi and validationmethods
 * parameters) that must pass for every name before issuance.
 *
 *   http-01      RFC 8555 §8.3   GET http://NAME/.well-known/acme-challenge/T
 *   dns-01       RFC 8555 §8.4   TXT at _acme-challenge.NAME
 *   tls-alpn-01  RFC 8737        TLS with ALPN "acme-tls/1", SNI NAME
 *   caa          RFC 8659/8657   may this CA issue for NAME?
 *
 * This code runs in the main certdesk process, on worker threads of the
 * validation job queue (which is not part of this library). It trusts its
 * configuration and the DNSSEC trust anchor; it trusts nothing it receives
 * from the network: every DNS answer, HTTP response and TLS certificate is
 * untrusted and bounded in size and time.
 *
 * Rules it lives by (DESIGN.md):
 *  - The CA resolves names itself with libunbound, DNSSEC-validating; it
 *    never calls getaddrinfo() and libcurl never resolves a name.
 *  - A DNS answer that is SERVFAIL, bogus, timed out or otherwise failed is
 *    never a permission: every check fails (problem "dns") when a lookup it
 *    depends on fails, including CAA.
 *  - Every check produces an evidence record (JSON text) the caller stores
 *    in the audit trail: what was queried, what was answered, which
 *    addresses were contacted, what they returned.
 *
 * Multi-perspective issuance corroboration (BR 3.2.2.9) is the direction.
 * Each check is one function of (configuration, challenge inputs) -> result:
 * it reads no store, keeps no state between calls that could change its
 * verdict (the resolver cache is disabled, see val_ctx_open()), and its
 * inputs (struct val_request) and outputs (struct val_result) are plain
 * data. A remote perspective is another process or host that runs the same
 * val_check() with its own struct val_ctx (its own resolver) on the same
 * struct val_request and sends back the outcome, problem and evidence; the
 * ra compares the primary's result with the remote ones. The field
 * val_conf.perspective names the perspective in the evidence.
 *
 * Threads: a struct val_ctx is NOT thread-safe. Use one per thread (the job
 * queue creates one per worker thread); contexts are independent, any
 * number may exist at once. val_ctx_open() may be called from any thread
 * (process-wide library initialisation is done once, internally).
 */
#ifndef CERTDESK_VALIDATION_VAL_H
#define CERTDESK_VALIDATION_VAL_H

#include "util/rc.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---- configuration ------------------------------------------------------- */

#define VAL_MAX_NAME 253		/* RFC 1035 §2.3.4, without the dot */
#define VAL_DETAIL_MAX 512

/*
 * Everything a validation context needs. Fill with val_conf_defaults(),
 * then override fields. Strings are borrowed only during val_ctx_open(),
 * which copies them.
 */
struct val_conf {
	/*
	 * DNS resolver to use:
	 *   NULL          full recursion from libunbound's built-in root hints
	 *                 (what a publicly-trusted CA runs);
	 *   "resolv.conf" forward to the nameservers of /etc/resolv.conf;
	 *   "ADDR:PORT"   forward to this server ("127.0.0.1:5353",
	 *                 "[::1]:53", "192.0.2.1" for port 53); several may be
	 *                 given separated by commas.
	 * unbound answers some special-use names itself (localhost, onion,
	 * invalid, home.arpa, ...: NXDOMAIN); with a forwarder, "test." is
	 * asked of the forwarder so that test rigs can serve it.
	 */
	const char *resolver;
	/*
	 * DNSSEC trust anchor file (DS or DNSKEY records in zone file format,
	 * e.g. /usr/share/dns/root.key). NULL: with resolver NULL, the root
	 * anchor of Debian's dns-root-data (/usr/share/dns/root.key) or of
	 * unbound-anchor (/var/lib/unbound/root.key) is used if present; with a
	 * forwarder, no anchor is used and every answer is "insecure" (never
	 * "bogus").
	 */
	const char *trust_anchor;
	/* 1: val_ctx_open() fails (RC_CONFIG) when no trust anchor ends up
	 * configured. Set this when running as a publicly-trusted CA. */
	int require_trust_anchor;
	/* Ports the checks connect to (Pebble-like test ports are allowed). */
	uint16_t http01_port;		/* 80 */
	uint16_t https_port;		/* 443: http-01 redirects to https */
	uint16_t tlsalpn01_port;	/* 443 */
	/* Time bounds, in milliseconds. */
	unsigned dns_timeout_ms;	/* 5000: one round of lookups */
	unsigned http_timeout_ms;	/* 10000: a whole http-01 check,
					 * redirects included (DNS not) */
	unsigned tls_timeout_ms;	/* 10000: connect + handshake */
	/* Size bounds, in bytes. */
	size_t http_max_body;		/* 4096: larger bodies fail */
	size_t http_max_header;		/* 16384: all response headers */
	size_t tls_max_cert_list;	/* 65536: the server's certificates */
	unsigned http_max_redirects;	/* 10 (as Boulder) */
	/*
	 * 0 (default): addresses that are not globally routable (loopback,
	 * RFC 1918, CGNAT, link-local, ULA, multicast, documentation and
	 * other IANA special-purpose ranges) are dropped from A/AAAA answers
	 * before connecting, so that a hostile zone cannot point the CA at
	 * its own network (as Boulder does). 1: keep them (tests, private
	 * PKI on an internal network).
	 */
	int allow_private_addresses;
	/*
	 * The CA's own CAA identities (issuer domain names, RFC 8659 §4.2),
	 * e.g. "certdesk.example"; a NULL-terminated array. Matched
	 * case-insensitively. With none, any issue/issuewild record forbids.
	 */
	const char *const *caa_identities;
	/* Name of this vantage point, recorded in the evidence ("primary"). */
	const char *perspective;
	/*
	 * Stub zones, "zone=ADDR:PORT ..." (space-separated; ADDR as in
	 * resolver): names at or below zone are asked of that server
	 * directly (unbound stub-zone), everything else as configured
	 * above. Each such zone is a DNSSEC island declared insecure
	 * (domain-insecure): answers from it are "insecure", never "bogus".
	 * Loopback servers are allowed (do-not-query-localhost is turned
	 * off). For labs and the `make run` demo zone; a publicly-trusted
	 * CA leaves it NULL. Used only during val_ctx_open().
	 */
	const char *stub_zones;
	/*
	 * Seconds a CAA answer is reused by this context (0 default: never),
	 * at most 28800. BR 3.2.2.8 lets a CA issue within the TTL of the
	 * CAA record or 8 hours, whichever is greater, and every name climbs
	 * to the same parents (its registered domain, its TLD). Only data,
	 * NODATA and NXDOMAIN answers that are DNSSEC secure or insecure are
	 * kept; the evidence says when a reused answer was asked. Every
	 * other lookup (TXT, addresses) is always asked afresh.
	 */
	unsigned caa_cache_s;
	/*
	 * Borrowed, or NULL: the CAA cache the contexts given it share (one
	 * per process, val_caa_cache_new), so that the answers a
	 * validation asked ahead (below) serve the finalize of the same
	 * order on another thread. NULL: each context has its own.
	 */
	struct val_caa_cache *caa_cache;
};

/* Fills c with the defaults above (all pointers NULL, perspective
 * "primary"). */
void val_conf_defaults(struct val_conf *c);

/*
 * A CAA answer cache for several contexts (val_conf.caa_cache), each used
 * on its own thread; it locks. Free with val_caa_cache_release() after the
 * last context using it. With caa_cache_s set, an http-01, tls-alpn-01 or
 * dns-01 check also asks the CAA RRsets of its name and parents that are
 * not cached, in the same round of DNS lookups as its own, and keeps them:
 * the CAA check before issuance (val_caa_check) then finds them cached,
 * with the time they were asked in its evidence, instead of waiting for
 * one more round trip.
 */
struct val_caa_cache;
struct val_caa_cache *val_caa_cache_new(void);
void val_caa_cache_release(struct val_caa_cache *c);	/* NULL is fine */

/* ---- context ------------------------------------------------------------ */

struct val_ctx;			/* opaque; defined in ctx.c */

/*
 * Creates a validation context: a libunbound context (validator +
 * iterator, run on the caller's thread on an event base of the context's
 * own: dns_event.c), a TLS client context and a copy of conf. The unbound
 * cache is kept but every entry expires at once (cache-max-ttl: 0,
 * cache-max-negative-ttl: 0, aggressive-nsec: no): a validation must see
 * the zone as it is now, not an answer cached before the applicant placed
 * (or removed) the record; a cached NXDOMAIN would fail a correct retry and
 * a cached TXT could pass a check whose record is already gone. Only CAA
 * answers may be reused, by the context itself (caa_cache_s above).
 *
 * Returns 0 and *out (free with val_ctx_free()), or RC_CONFIG with d set
 * (bad resolver address, unreadable trust anchor, require_trust_anchor
 * without an anchor, out-of-range values), or RC_ERR.
 */
int val_ctx_open(const struct val_conf *conf, struct val_ctx **out,
    struct rc_detail *d);
/* Releases everything (lookups still out are dropped). NULL is fine. */
void val_ctx_free(struct val_ctx *ctx);
/* 1 when a DNSSEC trust anchor is loaded (answers can be "secure"). */
int val_ctx_has_trust_anchor(const struct val_ctx *ctx);

/* ---- results ------------------------------------------------------------ */

enum val_outcome {
	VAL_INVALID = 0,	/* zero is the fail-safe default */
	VAL_VALID = 1		/* for CAA: issuance permitted */
};

/* ACME problem types (RFC 8555 §6.7), urn:ietf:params:acme:error:<x>. */
enum val_problem {
	VAL_PROB_NONE = 0,
	VAL_PROB_DNS,			/* lookup failed: SERVFAIL, bogus,
					 * timeout, no address */
	VAL_PROB_CONNECTION,		/* could not connect / fetch */
	VAL_PROB_UNAUTHORIZED,		/* nothing there: NXDOMAIN, NODATA,
					 * HTTP status not 200 */
	VAL_PROB_INCORRECT_RESPONSE,	/* something there, but wrong */
	VAL_PROB_TLS,			/* handshake failed, no ALPN */
	VAL_PROB_CAA,			/* CAA forbids issuance */
	VAL_PROB_REJECTED_IDENTIFIER,	/* not an acceptable DNS name */
	VAL_PROB_SERVER_INTERNAL	/* our fault; see the log */
};

/* DNSSEC status of the DNS answers a check used: the weakest of them. */
enum val_dnssec {
	VAL_DNSSEC_NONE = 0,	/* no DNS answer was used */
	VAL_DNSSEC_SECURE,	/* every answer validated */
	VAL_DNSSEC_INSECURE,	/* at least one answer unsigned / no anchor */
	VAL_DNSSEC_BOGUS	/* at least one answer failed validation */
};

struct val_result {
	enum val_outcome outcome;
	enum val_problem problem;	/* VAL_PROB_NONE iff valid */
	enum val_dnssec dnssec;
	time_t checked_at;		/* when the check started */
	/* For humans: what was expected and what was found, e.g.
	 * "Expected TXT 'abc' at _acme-challenge.example.com, found 'xyz'". */
	char detail[VAL_DETAIL_MAX];
	/*
	 * Evidence for the audit trail, owned: a JSON object (compact, keys
	 * sorted) with at least "kind", "name", "time", "perspective",
	 * "outcome", "problem", "detail", "dnssec", "duration_ms" and, as
	 * applicable, "dns" (every lookup: qname, qtype, status, rcode,
	 * dnssec, canonname, answers), "http" (every request: url, addresses,
	 * attempts, address used, status, location, body length and prefix),
	 * "tls" (address, version, ALPN, certificate SHA-256 fingerprint,
	 * SANs, acmeIdentifier), "caa" (relevant name, records, decision).
	 * Contains no secrets. NULL only after val_result_clear().
	 */
	char *evidence;
};

/* Frees r->evidence and zeroes r (so r reads as invalid). NULL is fine. */
void val_result_clear(struct val_result *r);
/* "urn:ietf:params:acme:error:dns" etc.; NULL for VAL_PROB_NONE. */
const char *val_problem_urn(enum val_problem p);
/* "dns", "connection", ..., "serverInternal"; "none" for VAL_PROB_NONE. */
const char *val_problem_name(enum val_problem p);
/* "none", "secure", "insecure", "bogus". */
const char *val_dnssec_str(enum val_dnssec s);

/* ---- the checks ---------------------------------------------------------- */

/*
 * Common contract of every check below:
 *  - out is overwritten without being freed (clear a previous result with
 *    val_result_clear() first) and is always filled when out is not NULL,
 *    evidence included; the caller owns it and frees it with
 *    val_result_clear().
 *  - Returns 0 when the check ran: out->outcome says valid or invalid (a
 *    failed DNS lookup, refused connection or wrong answer is an invalid
 *    outcome with rc 0).
 *  - Returns RC_BADNAME when name is not an acceptable DNS name (out:
 *    invalid, rejectedIdentifier); RC_INVAL when a required argument is NULL
 *    or malformed (out, if not NULL: invalid, serverInternal); RC_ERR or
 *    RC_CRYPTO on an internal failure (out: invalid, serverInternal).
 *  - Names: ASCII (A-labels for IDNs), case-insensitive, letters, digits
 *    and hyphens, at least two labels, the last not all digits (so no IP
 *    literals), no trailing dot, at most 253 characters.
 *  - Addresses are resolved through unbound: AAAA first, then A, and tried
 *    in that order until one connects (a refused or unreachable address
 *    moves on to the next; any HTTP or TLS answer is final). Both lookups
 *    must succeed (NOERROR with data or NODATA); a SERVFAIL, bogus or
 *    timed-out answer for either fails the check.
 *  - A check never consults the CAA records; the caller runs
 *    val_caa_check() for every name before issuance. With caa_cache_s set
 *    an http-01, tls-alpn-01 or dns-01 check asks its name's uncached CAA
 *    RRsets along and caches them for that check (val_caa_cache_new).
 */

/*
 * http-01 (RFC 8555 §8.3): GET http://NAME:http01_port/.well-known/
 * acme-challenge/TOKEN, Host NAME (with ":port" when not 80, as HTTP
 * requires). Valid when the status is 200 and the body, with trailing
 * whitespace (SP, HTAB, CR, LF) removed, equals key_authz exactly.
 * Redirects (301, 302, 303, 307, 308) are followed by this code, at most
 * http_max_redirects, each target checked as Boulder does: scheme http or
 * https; host a DNS name (never an IP literal), re-resolved through
 * unbound; port absent (then http01_port for http, https_port for https)
 * or equal to http01_port or https_port; no user info; no loops. https is
 * spoken without certificate verification (as Boulder does). No proxy, no
 * cookies, no compression, HTTP/1.1, protocols http and https only. A body
 * over http_max_body or headers over http_max_header fail the check; the
 * whole check (all hops) is bounded by http_timeout_ms.
 * token: base64url characters only. key_authz: printable ASCII.
 */
int val_http01(struct val_ctx *ctx, const char *name, const char *token,
    const char *key_authz, struct val_result *out);

/*
 * dns-01 (RFC 8555 §8.4): valid when any TXT record at
 * _acme-challenge.NAME (CNAMEs followed by the resolver; a record's
 * character-strings are concatenated) equals expected exactly. name may be
 * "*.base": the record is looked up at _acme-challenge.base. expected is
 * base64url(SHA-256(key authorization)) for ACME (see val_dns01_value()),
 * or any random value the portal handed out (BR 3.2.2.4.7).
 * NXDOMAIN or NODATA: invalid, unauthorized. Records present but none
 * matching: invalid, incorrectResponse. SERVFAIL, bogus, timeout: dns.
 */
int val_dns01(struct val_ctx *ctx, const char *name, const char *expected,
    struct val_result *out);

/*
 * tls-alpn-01 (RFC 8737): TLS 1.2 or later to ADDR:tlsalpn01_port with SNI
 * NAME and ALPN offering only "acme-tls/1". Valid when the server selected
 * "acme-tls/1" and its certificate (not chain-verified) has a
 * subjectAltName with exactly one entry, a dNSName equal to NAME
 * (case-insensitive), and exactly one id-pe-acmeIdentifier extension
 * (1.3.6.1.5.5.7.1.31), marked critical, whose value is the DER OCTET
 * STRING of SHA-256(key_authz). Handshake failure or no ALPN: tls;
 * certificate wrong: incorrectResponse. Bounded by tls_timeout_ms and
 * tls_max_cert_list.
 */
int val_tlsalpn01(struct val_ctx *ctx, const char *name,
    const char *key_authz, struct val_result *out);

/*
 * IP address identifiers (RFC 8738), ip in canonical text (IPv4 dotted
 * quad, IPv6 RFC 5952: what inet_ntop writes; anything else, zone ids
 * included, is RC_BADNAME / rejectedIdentifier). No DNS lookup is made:
 * the check connects to that address only, and refuses it (RC_BADNAME,
 * rejectedIdentifier) when it is special-purpose and
 * allow_private_addresses is off.
 *  - val_http01_ip(): http-01 as val_http01() to http://IP:http01_port
 *    (Host is the address, IPv6 in brackets, RFC 8738 §3.1); redirects
 *    as val_http01() (DNS names only, resolved as usual).
 *  - val_tlsalpn01_ip(): tls-alpn-01 as val_tlsalpn01() to IP, with SNI
 *    the reverse-mapping name of the address (RFC 8738 §6: "d.c.b.a.in-
 *    addr.arpa", nibbles ".ip6.arpa"); the certificate's one
 *    subjectAltName entry must be an iPAddress equal to the address.
 */
int val_http01_ip(struct val_ctx *ctx, const char *ip, const char *token,
    const char *key_authz, struct val_result *out);
int val_tlsalpn01_ip(struct val_ctx *ctx, const char *ip,
    const char *key_authz, struct val_result *out);

/*
 * The RFC 8738 §6 reverse-mapping name of an IP address literal (canonical
 * text as above) into out (at least VAL_MAX_NAME + 1 bytes). 0, or
 * RC_BADNAME.
 */
int val_ip_reverse_name(const char *ip, char *out, size_t outsz);

/*
 * CAA (RFC 8659 §3, §4; RFC 8657): may this CA issue for name?
 * name: the DNS name; "*.base" is accepted and means base with is_wildcard
 * set. is_wildcard: the certificate will carry "*.name".
 * account_uri: the ACME account URL, or NULL (portal orders have none: a
 * record with accounturi then does not authorize). method: the validation
 * method label used for this name ("dns-01", "http-01", "tls-alpn-01", or a
 * "ca-..." label for non-ACME methods), or NULL (a record with
 * validationmethods then does not authorize).
 *
 * The relevant RRset is found by looking up CAA at name and each parent up
 * to, not including, the root, the nearest non-empty one winning (all
 * lookups run in parallel, CNAMEs followed by the resolver). Any failed
 * lookup at or below the relevant name refuses (problem dns). Then:
 *  - an empty relevant RRset permits;
 *  - a record with the critical flag and a tag other than issue, issuewild
 *    or iodef forbids (flag 1 counts as critical too, as Boulder does);
 *  - a record whose RDATA does not parse forbids;
 *  - for a wildcard, issuewild records if any, else issue records; for
 *    other names, issue records; none: permitted;
 *  - a record authorizes when its value parses (RFC 8659 §4.2 grammar),
 *    its issuer-domain-name equals one of caa_identities, its accounturi
 *    (if present) equals account_uri byte for byte, and its
 *    validationmethods (if present) lists method; a record with a
 *    duplicate accounturi or validationmethods parameter, or a malformed
 *    value, authorizes nobody ("issue ;" forbids every CA);
 *  - permitted when at least one record authorizes, else forbidden (caa).
 * outcome VAL_VALID means permitted.
 */
int val_caa_check(struct val_ctx *ctx, const char *name, int is_wildcard,
    const char *account_uri, const char *method, struct val_result *out);

/* ---- one entry point for queues and remote perspectives ----------------- */

enum val_kind {
	VAL_KIND_HTTP01 = 1,
	VAL_KIND_DNS01,
	VAL_KIND_TLSALPN01,
	VAL_KIND_CAA
};

/* "http-01", "dns-01", "tls-alpn-01", "caa"; NULL if unknown. */
const char *val_kind_label(enum val_kind k);
/* The inverse; 0 if unknown. */
enum val_kind val_kind_parse(const char *label);

/* The inputs of one check; all strings borrowed for the call. */
struct val_request {
	enum val_kind kind;
	const char *name;
	const char *token;		/* http-01 */
	const char *key_authz;		/* http-01, tls-alpn-01 */
	const char *expected;		/* dns-01 */
	int is_wildcard;		/* caa */
	int is_ip;			/* name is an IP address (RFC 8738):
					 * http-01 and tls-alpn-01 only
					 * (val_http01_ip, val_tlsalpn01_ip);
					 * other kinds RC_INVAL */
	const char *account_uri;	/* caa, may be NULL */
	const char *method;		/* caa, may be NULL */
};

/* Runs the check req->kind names, with the contract above. RC_INVAL (out:
 * serverInternal) for an unknown kind. */
int val_check(struct val_ctx *ctx, const struct val_request *req,
    struct val_result *out);

/* ---- multi-perspective corroboration (mpic.c, BR 3.2.2.9) --------------- */

struct val_mpic;		/* the CA's remote perspectives */
struct sec;

/*
 * The remote perspectives at urls (base URLs of `certdesk perspective`,
 * separated by commas or blanks, at most 16, none twice) with the CA's
 * key in key_file (32 to 1024 bytes, a trailing newline dropped), from
 * which each perspective's own is derived (val_mpic_derive); each asked
 * with a timeout of timeout_ms (0: 30 s). caa_ids: the CA's CAA
 * identities (NULL-terminated, at most 16), sent with every request so
 * that the perspectives judge CAA as the CA does. RC_CONFIG with the reason in
 * why. Thread-safe once open. Free with val_mpic_free().
 */
int val_mpic_open(const char *urls, const char *key_file,
    const char *const *caa_ids, unsigned timeout_ms, struct val_mpic **out,
    char *why, size_t whylen);
void val_mpic_free(struct val_mpic *m);	/* NULL is fine */
size_t val_mpic_count(const struct val_mpic *m);	/* NULL: 0 */
/* How many of n remote perspectives may disagree (BR 3.2.2.9): 0 for one,
 * 1 for two to five, 2 for six or more. */
int val_mpic_quorum(size_t n);

/*
 * When res is valid (the primary's result of req, or with http_file of
 * val_http_file(name, token = file, key_authz = content)) and m has
 * perspectives: asks each of them to run the same, at once, and keeps res valid only when no
 * more than val_mpic_quorum() disagree (an invalid result, an error, no
 * answer, a bad MAC all disagree); otherwise res turns invalid with the
 * first disagreement's problem and a detail saying so. Either way the
 * evidence gains "remote_perspectives" (each URL, whether it
 * corroborated, its detail and evidence). 0, or RC_* (res then invalid,
 * serverInternal) when the requests could not be made.
 */
int val_mpic_corroborate(struct val_mpic *m, const struct val_request *req,
    int http_file, struct val_result *res);

/* 1 when mac_hdr is the request MAC of body under key (the check
 * val_mpic_handle() starts with, to make before any other work). */
int val_mpic_authentic(const struct sec *key, const uint8_t *body,
    size_t len, const char *mac_hdr);

/* A key from path, for both sides (see val_mpic_open): a regular file of
 * this user that nobody else may read or write (not a link). */
int val_mpic_key_load(const char *path, struct sec **out, char *why,
    size_t n);

/* 0 when url is one perspective's base URL as validation.perspectives
 * may list it (http:// or https://, no query, fragment or user, at most
 * 200 characters); RC_CONFIG with the reason in why. */
int val_mpic_url_check(const char *url, char *why, size_t whylen);

/* The key of the perspective at base URL url (trailing slashes dropped),
 * derived from the CA's key master: base64url(HMAC-SHA256(master, label ||
 * url)), 43 characters into out. The perspective's --key-file holds it;
 * the CA keeps only master. 0, RC_INVAL, RC_CRYPTO. */
int val_mpic_derive(const struct sec *master, const char *url,
    char out[48]);

/*
 * The perspective's side: checks the request (body, its X-Certdesk-Mac
 * header mac_hdr, its time within 60 s of now), runs it with a context
 * opened from base (with the CA's CAA identities from the request) and
 * makes
 * the reply (*reply, free()) and its MAC header value (out_mac). name is
 * this perspective's, recorded in the reply. RC_UNAUTH for a missing or
 * wrong MAC, RC_INVAL for a malformed or stale request (reason in why),
 * else 0 whatever the check found.
 */
int val_mpic_handle(const struct val_conf *base, const struct sec *key,
    const char *name, const uint8_t *body, size_t len, const char *mac_hdr,
    time_t now, char **reply, char out_mac[48], char *why, size_t whylen);

/* ---- helpers ------------------------------------------------------------ */

/*
 * The dns-01 TXT value for a key authorization: base64url(SHA-256(
 * key_authz)) without padding, 43 characters, into out (at least 44 bytes).
 * Returns 0, or RC_INVAL / RC_CRYPTO.
 */
int val_dns01_value(const char *key_authz, char *out, size_t outsz);

/*
 * Checks and normalises a DNS name as described above, with the program's
 * one name checker (util/dnsname.h, flags DNSNAME_FOLD and, with
 * allow_wildcard, DNSNAME_WILDCARD): lower-cased into out (VAL_MAX_NAME + 1
 * bytes). With allow_wildcard, a leading "*." is accepted (the whole name,
 * "*." included, at most 253 characters), stripped, and *is_wildcard set
 * (is_wildcard may be NULL otherwise). Returns 0 or RC_BADNAME (d says why;
 * out is then empty).
 */
int val_name_normalize(const char *in, int allow_wildcard, char *out,
    int *is_wildcard, struct rc_detail *d);

/* ---- DNS provider: our nameservers (RFC 2136 dynamic update, TSIG) ------ */

/*
 * For a name whose zone is hosted on our nameservers, validation is
 * automatic: the ra adds "_acme-challenge.<name>" TXT <random value> with
 * an RFC 2136 update (TSIG-signed, built and sent with ldns) to the
 * configured primary, waits until every authoritative server answers with
 * it (asked directly, without recursion), validates through the CA's own
 * resolver like any dns-01 check, and deletes the record afterwards.
 * Built from the [dnsupdate] section of the config. Thread-safe: one
 * handle may be shared by every thread (each call opens its own socket).
 */
struct val_dnsupd;		/* opaque; defined in dnsupd.c */
struct conf;

#define VAL_DNSUPD_MAX_SERVERS 8

/*
 * Opens the DNS provider described by c's [dnsupdate] keys; relative
 * files (the TSIG secret) are under data_dir. *out is NULL (and 0
 * returned) when dnsupdate.server is empty: no provider, no automatic
 * validation. RC_CONFIG with d for a bad address, an unreadable or
 * malformed secret (base64; a BIND key file "secret \"...\";" is
 * accepted too), an unknown algorithm or too many servers.
 */
int val_dnsupd_open(const struct conf *c, const char *data_dir,
    struct val_dnsupd **out, struct rc_detail *d);
void val_dnsupd_free(struct val_dnsupd *u);	/* NULL is fine */

/*
 * Finds the zone that holds name (its apex: the closest enclosing name
 * with an SOA record, through ctx's resolver) into zone (VAL_MAX_NAME + 1
 * bytes) and sets *ours to 1 when the zone's NS set names one of our
 * nameservers (dnsupdate.nameservers, case-insensitively, trailing dots
 * ignored). A zone whose lookups fail (SERVFAIL, bogus, timeout) is
 * RC_DNS with d; NXDOMAIN for name itself is fine (the record's owner
 * need not exist). 0 otherwise.
 */
int val_dnsupd_find_zone(struct val_ctx *ctx, const struct val_dnsupd *u,
    const char *name, char *zone, size_t zonesz, int *ours,
    struct rc_detail *d);

/*
 * One RFC 2136 update to the primary, in zone (its apex), TSIG-signed
 * when a key is configured, the reply's TSIG verified: add owner TXT value
 * with the configured TTL (add), or delete owner TXT value (value NULL:
 * every TXT at owner). owner must be "_acme-challenge." and a name at
 * or below zone (compared case-insensitively, as DNS does): RC_INVAL
 * with d, nothing sent, for any other owner, so that no caller can
 * change another record of a customer's zone; and TXT is the only type
 * these build. Returns 0 when the server answered NOERROR; RC_DNS with
 * d naming the rcode (REFUSED, NOTAUTH, NOTZONE, ...) or the failure
 * (timeout, bad TSIG on the reply, malformed reply) otherwise. Deleting
 * what is not there is 0.
 */
int val_dnsupd_txt_add(const struct val_dnsupd *u, const char *zone,
    const char *owner, const char *value, struct rc_detail *d);
int val_dnsupd_txt_delete(const struct val_dnsupd *u, const char *zone,
    const char *owner, const char *value, struct rc_detail *d);

/*
 * Asks every authoritative server (dnsupdate.check, or the primary) once,
 * directly and without recursion, for owner TXT: *nok gets how many
 * answered authoritatively with value among the TXT strings, *nservers
 * how many were asked. A server that does not answer counts as not ok.
 * 0, or RC_INVAL for bad arguments.
 */
int val_dnsupd_published(const struct val_dnsupd *u, const char *owner,
    const char *value, size_t *nok, size_t *nservers);

/* The configured record TTL and propagation timeout (seconds). */
unsigned val_dnsupd_ttl(const struct val_dnsupd *u);
unsigned val_dnsupd_propagation_timeout(const struct val_dnsupd *u);

/* ---- a file on the website (BR 3.2.2.4.18): httpfile.c ---------------- */

/*
 * The portal's http validation: GET http://NAME:http01_port/.well-known/
 * pki-validation/FILE.txt with the rules of val_http01() (resolution
 * through unbound, redirects checked and bounded by http_max_redirects,
 * ports http01_port/https_port only, sizes and time bounded). Valid when
 * the status is 200 and the body contains `expected` (the random value).
 * file: base64url characters only; expected: printable ASCII. Evidence
 * "kind" is "http-file". Same return contract as the checks above.
 */
int val_http_file(struct val_ctx *ctx, const char *name, const char *file,
    const char *expected, struct val_result *out);

#endif
