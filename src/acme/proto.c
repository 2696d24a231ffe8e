/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pure protocol helpers of the ACME resources: the base URL and the Host
 * header, object ids and serials in our URLs, "kid" account URLs, RFC 9773
 * certIDs, the one table from ra problems to ACME problems, RFC 7807
 * problem documents with subproblems (RFC 8555 §6.7), RFC 3339 times and
 * the Content-Type of JWS requests. No state, no I/O.
 *
 * Runs in the main certdesk process on request threads. Every string it
 * parses comes from the network (paths, headers, JWS fields) and is
 * bounded and checked here.
 */
#include "acme/acme_int.h"
#include "util/xmalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the base URL and the Host header ------------------------------------ */

static int
host_char_ok(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/*
 * Splits an authority "host[:port]" or "[v6]:port" at s[0..n) into host
 * and port (0 when absent). The host is checked for its characters only.
 */
static int
split_authority(const char *s, size_t n, const char **host, size_t *hlen,
    unsigned *port)
{
	const char *colon = NULL;

	*port = 0;
	if (n == 0)
		return RC_INVAL;
	if (s[0] == '[') {
		const char *end = memchr(s, ']', n);

		if (end == NULL || end == s + 1)
			return RC_INVAL;
		for (const char *p = s + 1; p < end; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' &&
			    *p != '.')
				return RC_INVAL;
		*host = s;
		*hlen = (size_t)(end - s) + 1;
		if (end + 1 < s + n) {
			if (end[1] != ':')
				return RC_INVAL;
			colon = end + 1;
		}
	} else {
		colon = memchr(s, ':', n);
		*host = s;
		*hlen = colon ? (size_t)(colon - s) : n;
		if (*hlen == 0)
			return RC_INVAL;
		for (size_t i = 0; i < *hlen; i++)
			if (!host_char_ok((unsigned char)s[i]))
				return RC_INVAL;
	}
	if (colon) {
		const char *p = colon + 1, *end = s + n;
		unsigned v = 0;

		if (p == end || end - p > 5 || *p == '0')
			return RC_INVAL;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9')
				return RC_INVAL;
			v = v * 10 + (unsigned)(*p - '0');
		}
		if (v == 0 || v > 65535)
			return RC_INVAL;
		*port = v;
	}
	return 0;
}

int
acme_base_parse(const char *base, char *authority)
{
	const char *auth;
	const char *host;
	size_t n, hlen;
	unsigned port;
	int len;

	if (base == NULL || strncmp(base, "https://", 8) != 0)
		return RC_INVAL;
	auth = base + 8;
	n = strlen(auth);
	if (n == 0 || strlen(base) >= ACME_MAX_BASE)
		return RC_INVAL;
	if (strpbrk(auth, "/?#@ \t\r\n\"'<>\\") != NULL)
		return RC_INVAL;
	if (split_authority(auth, n, &host, &hlen, &port) != 0)
		return RC_INVAL;
	if (port == 443 || port == 0)
		len = snprintf(authority, ACME_MAX_BASE, "%.*s", (int)hlen,
		    host);
	else
		len = snprintf(authority, ACME_MAX_BASE, "%.*s:%u",
		    (int)hlen, host, port);
	if (len < 0 || len >= ACME_MAX_BASE)
		return RC_INVAL;
	for (char *p = authority; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

int
acme_host_matches(const char *authority, const char *host)
{
	const char *h;
	size_t hlen, n;
	unsigned port;
	char norm[ACME_MAX_BASE];
	int len;

	if (authority == NULL || host == NULL)
		return 0;
	n = strlen(host);
	if (n == 0 || n >= ACME_MAX_BASE)
		return 0;
	if (split_authority(host, n, &h, &hlen, &port) != 0)
		return 0;
	if (port == 443 || port == 0)
		len = snprintf(norm, sizeof(norm), "%.*s", (int)hlen, h);
	else
		len = snprintf(norm, sizeof(norm), "%.*s:%u", (int)hlen, h,
		    port);
	if (len < 0 || len >= (int)sizeof(norm))
		return 0;
	return strcasecmp(norm, authority) == 0;
}

/* ---- ids in URLs --------------------------------------------------------- */

int
acme_id_parse(const char *s, size_t len, int64_t *id)
{
	int64_t v = 0;

	if (s == NULL || len == 0 || len > 19 || s[0] == '0')
		return RC_INVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return RC_INVAL;
		if (v > (INT64_MAX - (s[i] - '0')) / 10)
			return RC_INVAL;
		v = v * 10 + (s[i] - '0');
	}
	*id = v;
	return 0;
}

int
acme_kid_parse(const char *prefix, const char *kid, int64_t *id)
{
	size_t pl;

	if (prefix == NULL || kid == NULL)
		return RC_INVAL;
	pl = strlen(prefix);
	if (strncmp(kid, prefix, pl) != 0)
		return RC_INVAL;
	return acme_id_parse(kid + pl, strlen(kid + pl), id);
}

int
acme_serial_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 40 || n % 2 != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	/* minimal DER INTEGER contents: no 00 before a byte < 0x80 */
	if (n >= 4 && s[0] == '0' && s[1] == '0' && s[2] < '8')
		return 0;
	return 1;
}

/* ---- RFC 9773 certID ----------------------------------------------------- */

int
acme_certid_parse(const char *s, uint8_t aki[64], size_t *aki_len,
    uint8_t serial[20], size_t *serial_len)
{
	const char *dot;
	size_t al, sl;

	if (s == NULL || strlen(s) > 256)
		return RC_INVAL;
	dot = strchr(s, '.');
	if (dot == NULL || strchr(dot + 1, '.') != NULL)
		return RC_INVAL;
	al = (size_t)(dot - s);
	sl = strlen(dot + 1);
	if (al == 0 || sl == 0)
		return RC_INVAL;
	if (acme_b64u_decode_to(s, al, aki, 64, aki_len) != 0 ||
	    *aki_len == 0)
		return RC_INVAL;
	if (acme_b64u_decode_to(dot + 1, sl, serial, 20, serial_len) != 0 ||
	    *serial_len == 0)
		return RC_INVAL;
	/* a positive, minimally encoded INTEGER */
	if (serial[0] & 0x80)
		return RC_INVAL;
	if (*serial_len > 1 && serial[0] == 0 && !(serial[1] & 0x80))
		return RC_INVAL;
	if (*serial_len == 1 && serial[0] == 0)
		return RC_INVAL;
	return 0;
}

/* ---- problems ------------------------------------------------------------ */

/* ra problems to ACME problems: the one table. */
static const enum acme_prob from_ra[RA_PROB_MAX_] = {
	[RA_PROB_NONE] = ACME_PROB_SERVER_INTERNAL,
	[RA_PROB_ACCOUNT_DOES_NOT_EXIST] = ACME_PROB_ACCOUNT_DOES_NOT_EXIST,
	[RA_PROB_ALREADY_REPLACED] = ACME_PROB_ALREADY_REPLACED,
	[RA_PROB_ALREADY_REVOKED] = ACME_PROB_ALREADY_REVOKED,
	[RA_PROB_BAD_CSR] = ACME_PROB_BAD_CSR,
	[RA_PROB_BAD_NONCE] = ACME_PROB_BAD_NONCE,
	[RA_PROB_BAD_PUBLIC_KEY] = ACME_PROB_BAD_PUBLIC_KEY,
	[RA_PROB_BAD_REVOCATION_REASON] = ACME_PROB_BAD_REVOCATION_REASON,
	[RA_PROB_BAD_SIGNATURE_ALGORITHM] = ACME_PROB_BAD_SIGNATURE_ALGORITHM,
	[RA_PROB_CAA] = ACME_PROB_CAA,
	[RA_PROB_COMPOUND] = ACME_PROB_COMPOUND,
	[RA_PROB_CONNECTION] = ACME_PROB_CONNECTION,
	[RA_PROB_DNS] = ACME_PROB_DNS,
	[RA_PROB_EXTERNAL_ACCOUNT_REQUIRED] =
	    ACME_PROB_EXTERNAL_ACCOUNT_REQUIRED,
	[RA_PROB_INCORRECT_RESPONSE] = ACME_PROB_INCORRECT_RESPONSE,
	[RA_PROB_INVALID_CONTACT] = ACME_PROB_INVALID_CONTACT,
	[RA_PROB_INVALID_PROFILE] = ACME_PROB_INVALID_PROFILE,
	[RA_PROB_MALFORMED] = ACME_PROB_MALFORMED,
	[RA_PROB_ORDER_NOT_READY] = ACME_PROB_ORDER_NOT_READY,
	[RA_PROB_RATE_LIMITED] = ACME_PROB_RATE_LIMITED,
	[RA_PROB_REJECTED_IDENTIFIER] = ACME_PROB_REJECTED_IDENTIFIER,
	[RA_PROB_SERVER_INTERNAL] = ACME_PROB_SERVER_INTERNAL,
	[RA_PROB_TLS] = ACME_PROB_TLS,
	[RA_PROB_UNAUTHORIZED] = ACME_PROB_UNAUTHORIZED,
	[RA_PROB_UNSUPPORTED_CONTACT] = ACME_PROB_UNSUPPORTED_CONTACT,
	[RA_PROB_UNSUPPORTED_IDENTIFIER] = ACME_PROB_UNSUPPORTED_IDENTIFIER,
	[RA_PROB_USER_ACTION_REQUIRED] = ACME_PROB_USER_ACTION_REQUIRED,
};

enum acme_prob
acme_prob_from_ra(enum ra_prob p)
{
	if ((unsigned)p >= RA_PROB_MAX_)
		return ACME_PROB_SERVER_INTERNAL;
	return from_ra[p];
}

enum acme_prob
acme_prob_for(int rc, const struct ra_err *err)
{
	if (err != NULL && err->problem != RA_PROB_NONE)
		return acme_prob_from_ra(err->problem);
	switch (rc) {
	case RC_NOTFOUND:
	case RC_STATE:
	case RC_INVAL:
	case RC_EXISTS:
	case RC_TOOBIG:
		return ACME_PROB_MALFORMED;
	case RC_UNAUTH:
		return ACME_PROB_UNAUTHORIZED;
	case RC_BADNAME:
		return ACME_PROB_REJECTED_IDENTIFIER;
	case RC_BADCSR:
		return ACME_PROB_BAD_CSR;
	case RC_BADKEY:
	case RC_WEAKKEY:
		return ACME_PROB_BAD_PUBLIC_KEY;
	default:
		return ACME_PROB_SERVER_INTERNAL;
	}
}

/* Text that goes back to the client: printable ASCII only. */
static json_t *
safe_string(const char *s, size_t max)
{
	char buf[512];
	size_t i;

	if (max >= sizeof(buf))
		max = sizeof(buf) - 1;
	for (i = 0; s[i] != '\0' && i < max; i++)
		buf[i] = (unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] > 0x7e ? '?' : s[i];
	buf[i] = '\0';
	return json_string(buf);
}

/* An identifier's value as the client sent it (RFC 8555 6.7.1: so that
 * it can match the subproblem to its request): valid UTF-8 without
 * control characters goes out as it is (JSON escapes what it must), else
 * it is made safe as text is. */
static json_t *
value_string(const char *s, size_t max)
{
	json_t *v;

	if (strlen(s) > max)
		return safe_string(s, max);
	for (size_t i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return safe_string(s, max);
	v = json_string(s);	/* NULL unless valid UTF-8 */
	return v != NULL ? v : safe_string(s, max);
}

json_t *
acme_problem_json(enum acme_prob p, int status, const char *detail,
    const struct ra_err *err)
{
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string(acme_prob_urn(p)));
	if (detail != NULL && detail[0] != '\0')
		json_object_set_new(o, "detail", safe_string(detail, 400));
	json_object_set_new(o, "status", json_integer(status > 0 ? status :
	    acme_prob_http_status(p)));
	if (err != NULL && err->nsub > 0) {
		json_t *subs = json_array();
		size_t n = err->nsub < RA_MAX_SUBPROBLEMS ? err->nsub :
		    RA_MAX_SUBPROBLEMS;

		for (size_t i = 0; i < n; i++) {
			const struct ra_subproblem *sp = &err->sub[i];
			json_t *s = json_object(), *id = json_object();

			json_object_set_new(s, "type", json_string(
			    acme_prob_urn(acme_prob_from_ra(sp->problem))));
			if (sp->detail[0] != '\0')
				json_object_set_new(s, "detail",
				    safe_string(sp->detail, 160));
			json_object_set_new(id, "type",
			    safe_string(sp->type[0] ? sp->type : "dns", 8));
			json_object_set_new(id, "value",
			    value_string(sp->value, 255));
			json_object_set_new(s, "identifier", id);
			json_array_append_new(subs, s);
		}
		json_object_set_new(o, "subproblems", subs);
	}
	return o;
}

/* ---- small things -------------------------------------------------------- */

void
acme_time(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "1970-01-01T00:00:00Z");
}

int
acme_is_jose(const char *ct)
{
	static const char want[] = "application/jose+json";
	size_t n = sizeof(want) - 1;

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}
