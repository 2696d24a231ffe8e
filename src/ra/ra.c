/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ra handle, problems and the naming policy: opening over the thread's
 * store, CA and validation context, reading the blocked-names file, the
 * ACME problem names and problem documents, statuses, and ra_name_check(),
 * the one check every requested DNS name passes (portal and ACME alike).
 *
 * Runs in the main certdesk process on the thread that owns the handle.
 * Trusts its configuration and the blocked-names file; names come from
 * clients and are checked byte by byte before anything else sees them.
 */
#include "ra/ra_int.h"
#include "ca/ca.h"
#include "util/buf.h"
#include "util/dnsname.h"
#include "util/log.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- problems ------------------------------------------------------------ */

static const char *const prob_names[RA_PROB_MAX_] = {
	[RA_PROB_NONE] = "none",
	[RA_PROB_ACCOUNT_DOES_NOT_EXIST] = "accountDoesNotExist",
	[RA_PROB_ALREADY_REPLACED] = "alreadyReplaced",
	[RA_PROB_ALREADY_REVOKED] = "alreadyRevoked",
	[RA_PROB_BAD_CSR] = "badCSR",
	[RA_PROB_BAD_NONCE] = "badNonce",
	[RA_PROB_BAD_PUBLIC_KEY] = "badPublicKey",
	[RA_PROB_BAD_REVOCATION_REASON] = "badRevocationReason",
	[RA_PROB_BAD_SIGNATURE_ALGORITHM] = "badSignatureAlgorithm",
	[RA_PROB_CAA] = "caa",
	[RA_PROB_COMPOUND] = "compound",
	[RA_PROB_CONNECTION] = "connection",
	[RA_PROB_DNS] = "dns",
	[RA_PROB_EXTERNAL_ACCOUNT_REQUIRED] = "externalAccountRequired",
	[RA_PROB_INCORRECT_RESPONSE] = "incorrectResponse",
	[RA_PROB_INVALID_CONTACT] = "invalidContact",
	[RA_PROB_INVALID_PROFILE] = "invalidProfile",
	[RA_PROB_MALFORMED] = "malformed",
	[RA_PROB_ORDER_NOT_READY] = "orderNotReady",
	[RA_PROB_RATE_LIMITED] = "rateLimited",
	[RA_PROB_REJECTED_IDENTIFIER] = "rejectedIdentifier",
	[RA_PROB_SERVER_INTERNAL] = "serverInternal",
	[RA_PROB_TLS] = "tls",
	[RA_PROB_UNAUTHORIZED] = "unauthorized",
	[RA_PROB_UNSUPPORTED_CONTACT] = "unsupportedContact",
	[RA_PROB_UNSUPPORTED_IDENTIFIER] = "unsupportedIdentifier",
	[RA_PROB_USER_ACTION_REQUIRED] = "userActionRequired",
};

const char *
ra_prob_name(enum ra_prob p)
{
	if ((int)p < 0 || p >= RA_PROB_MAX_)
		return prob_names[RA_PROB_SERVER_INTERNAL];
	return prob_names[p];
}

enum ra_prob
ra_prob_parse(const char *name)
{
	size_t n = strlen(RA_PROB_URN_PREFIX);

	if (name == NULL)
		return RA_PROB_NONE;
	if (strncmp(name, RA_PROB_URN_PREFIX, n) == 0)
		name += n;
	for (int i = 1; i < RA_PROB_MAX_; i++)
		if (strcmp(name, prob_names[i]) == 0)
			return (enum ra_prob)i;
	return RA_PROB_NONE;
}

enum ra_prob
ra_prob_from_val(enum val_problem p)
{
	switch (p) {
	case VAL_PROB_NONE:
		return RA_PROB_NONE;
	case VAL_PROB_DNS:
		return RA_PROB_DNS;
	case VAL_PROB_CONNECTION:
		return RA_PROB_CONNECTION;
	case VAL_PROB_UNAUTHORIZED:
		return RA_PROB_UNAUTHORIZED;
	case VAL_PROB_INCORRECT_RESPONSE:
		return RA_PROB_INCORRECT_RESPONSE;
	case VAL_PROB_TLS:
		return RA_PROB_TLS;
	case VAL_PROB_CAA:
		return RA_PROB_CAA;
	case VAL_PROB_REJECTED_IDENTIFIER:
		return RA_PROB_REJECTED_IDENTIFIER;
	case VAL_PROB_SERVER_INTERNAL:
	default:
		return RA_PROB_SERVER_INTERNAL;
	}
}

int
ra_fail(struct ra_err *err, int rc, enum ra_prob p, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return rc;
	err->problem = p;
	va_start(ap, fmt);
	vsnprintf(err->detail.msg, sizeof(err->detail.msg), fmt, ap);
	va_end(ap);
	return rc;
}

/* Copies s into out (size n), control characters and bytes over 0x7e
 * shown as '?', so that a client's bytes can go into a problem safely. */
static void
copy_shown(char *out, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < n; i++)
		out[i] = ((unsigned char)s[i] < 0x20 ||
			     (unsigned char)s[i] > 0x7e)
		    ? '?'
		    : s[i];
	out[i] = '\0';
}

/* An identifier's value for its subproblem (RFC 8555 6.7.1: the client
 * matches it to what it sent): as sent when it is valid UTF-8 (a U-label
 * too), control characters shown as '?'; when cutting it to n made it
 * invalid, or it was not valid, copy_shown()'s ASCII. */
static void
copy_value(char *out, size_t n, const char *s)
{
	json_t *t;
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
	if ((t = json_string(out)) == NULL)	/* not valid UTF-8 */
		copy_shown(out, n, s);
	json_decref(t);
}

void
ra_sub(struct ra_err *err, enum ra_prob p, const char *type,
    const char *value, const char *fmt, ...)
{
	struct ra_subproblem *sp;
	va_list ap;

	if (err == NULL)
		return;
	err->nsub_total++;
	if (err->nsub == RA_MAX_SUBPROBLEMS)
		return;
	sp = &err->sub[err->nsub++];
	sp->problem = p;
	copy_shown(sp->type, sizeof(sp->type), type);
	copy_value(sp->value, sizeof(sp->value), value);
	va_start(ap, fmt);
	vsnprintf(sp->detail, sizeof(sp->detail), fmt, ap);
	va_end(ap);
}

int
ra_internal(struct ra_err *err, int rc, const char *what)
{
	log_err(LOG_RA, "%s: %s", what, rc_str(rc));
	return ra_fail(err, rc, RA_PROB_SERVER_INTERNAL,
	    "internal error (%s); please retry later", what);
}

static json_t *
urn(enum ra_prob p)
{
	char s[64];

	snprintf(s, sizeof(s), RA_PROB_URN_PREFIX "%s", ra_prob_name(p));
	return json_string(s);
}

char *
ra_err_json(const struct ra_err *err)
{
	json_t *o = json_object(), *subs;
	char *s;

	json_object_set_new(o, "type",
	    urn(err != NULL ? err->problem : RA_PROB_SERVER_INTERNAL));
	json_object_set_new(o, "detail", json_string(err != NULL &&
		err->detail.msg[0] != '\0' ? err->detail.msg : "error"));
	if (err != NULL && err->nsub > 0) {
		subs = json_array();
		for (size_t i = 0; i < err->nsub; i++) {
			const struct ra_subproblem *sp = &err->sub[i];
			json_t *so = json_object();

			json_object_set_new(so, "type", urn(sp->problem));
			json_object_set_new(so, "detail",
			    json_string(sp->detail));
			json_object_set_new(so, "identifier",
			    json_pack("{s:s,s:s}", "type", sp->type, "value",
				sp->value));
			json_array_append_new(subs, so);
		}
		json_object_set_new(o, "subproblems", subs);
	}
	s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (s == NULL)
		abort();	/* jansson only fails on allocation */
	return s;
}

void
ra_err_parse(const char *json, enum ra_prob *p, char **detail)
{
	json_t *o;
	const char *t;

	*p = RA_PROB_NONE;
	*detail = NULL;
	if (json == NULL)
		return;
	o = json_loads(json, 0, NULL);
	if (o == NULL) {
		*p = RA_PROB_SERVER_INTERNAL;
		return;
	}
	*p = ra_prob_parse(json_string_value(json_object_get(o, "type")));
	if (*p == RA_PROB_NONE)
		*p = RA_PROB_SERVER_INTERNAL;
	t = json_string_value(json_object_get(o, "detail"));
	if (t != NULL)
		*detail = xstrdup(t);
	json_decref(o);
}

/* ---- statuses ------------------------------------------------------------ */

static const char *const status_names[] = {
	[RA_ST_PENDING] = "pending",
	[RA_ST_READY] = "ready",
	[RA_ST_PROCESSING] = "processing",
	[RA_ST_VALID] = "valid",
	[RA_ST_INVALID] = "invalid",
	[RA_ST_DEACTIVATED] = "deactivated",
	[RA_ST_EXPIRED] = "expired",
	[RA_ST_REVOKED] = "revoked",
};

#define NSTATUS (sizeof(status_names) / sizeof(status_names[0]))

const char *
ra_status_name(enum ra_status s)
{
	if ((int)s < 0 || (size_t)s >= NSTATUS)
		return "invalid";
	return status_names[s];
}

int
ra_status_parse(const char *s)
{
	if (s == NULL)
		return -1;
	for (size_t i = 0; i < NSTATUS; i++)
		if (strcmp(s, status_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- base64url ----------------------------------------------------------- */

void
ra_b64u(const uint8_t *p, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				  "qrstuvwxyz0123456789-_";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
		    p[i + 2];

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (n - i == 1) {
		out[o++] = tab[p[i] >> 2];
		out[o++] = tab[(p[i] & 3) << 4];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 8 | p[i + 1];

		out[o++] = tab[v >> 10];
		out[o++] = tab[(v >> 4) & 63];
		out[o++] = tab[(v & 15) << 2];
	}
	out[o] = '\0';
}

int
ra_b64u_ok(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strnlen(s, max + 1);
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

char *
ra_json_with(json_t *obj, const char *key, const char *raw)
{
	char *head, *out;
	size_t n;

	if (obj == NULL || key == NULL || raw == NULL)
		return NULL;
	head = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	if (head == NULL)
		return NULL;
	n = strlen(head);
	if (n < 2 || head[n - 1] != '}') {
		free(head);
		return NULL;
	}
	head[n - 1] = '\0';
	out = xasprintf("%s%s\"%s\":%s}", head, n > 2 ? "," : "", key, raw);
	free(head);
	return out;
}

char *
ra_account_url(const struct ra *ra, int64_t id)
{
	return xasprintf("%s%lld", ra->conf.account_url_prefix,
	    (long long)id);
}

const char *
ra_ident_type(const char *ident)
{
	/* DNS names end in a label that is not all digits; IPv4 literals
	 * do, IPv6 literals have colons */
	const char *last;

	if (strchr(ident, ':') != NULL)
		return "ip";
	last = strrchr(ident, '.');
	last = last != NULL ? last + 1 : ident;
	if (*last != '\0' && strspn(last, "0123456789") == strlen(last))
		return "ip";
	return "dns";
}

/* ---- the handle ---------------------------------------------------------- */

/* Reads the blocked-names file: one name a line, '#' comments, blank lines
 * ignored, names lower-cased, a trailing dot dropped. */
static int
load_blocked(struct ra_policy *pol, const char *path, struct rc_detail *d)
{
	struct buf b;
	char *line, *save = NULL;
	size_t cap = 0;
	int rc, lineno = 0;

	buf_init(&b, 16 * 1024 * 1024);
	rc = buf_read_file(&b, path);
	if (rc != 0) {
		rc_detail_set(d, "%s: cannot read the blocked names file (%s)",
		    path, rc_str(rc));
		buf_free(&b);
		return RC_CONFIG;
	}
	if (b.data == NULL)
		goto out;
	for (line = strtok_r((char *)b.data, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *h = strchr(line, '#'), *p, *e;

		lineno++;
		if (h != NULL)
			*h = '\0';
		for (p = line; *p == ' ' || *p == '\t' || *p == '\r'; p++)
			;
		for (e = p + strlen(p); e > p && (e[-1] == ' ' ||
		    e[-1] == '\t' || e[-1] == '\r'); e--)
			;
		*e = '\0';
		if (e > p && e[-1] == '.')
			*--e = '\0';
		if (*p == '\0')
			continue;
		if (e - p > 253 || strpbrk(p, " \t") != NULL) {
			rc_detail_set(d, "%s:%d: not a DNS name", path, lineno);
			rc = RC_CONFIG;
			goto out;
		}
		for (char *q = p; *q != '\0'; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q - 'A' + 'a');
		if (pol->nblocked == cap) {
			cap = cap ? cap * 2 : 16;
			pol->blocked = xrealloc(pol->blocked,
			    cap * sizeof(*pol->blocked));
		}
		pol->blocked[pol->nblocked++] = xstrdup(p);
	}
out:
	buf_free(&b);
	return rc;
}

static void
policy_clear(struct ra_policy *p)
{
	for (size_t i = 0; i < p->nblocked; i++)
		free(p->blocked[i]);
	free(p->blocked);
	p->blocked = NULL;
	p->nblocked = 0;
	ra_limits_free(p);
}

/* Both files into p (cleared on failure). */
static int
policy_read(struct ra_policy *p, const char *blocked, const char *overrides,
    struct rc_detail *d)
{
	int rc = 0;

	if (blocked != NULL && blocked[0] != '\0')
		rc = load_blocked(p, blocked, d);
	if (rc == 0 && overrides != NULL && overrides[0] != '\0')
		rc = ra_limits_load(p, overrides, d);
	if (rc != 0)
		policy_clear(p);
	return rc;
}

int
ra_policy_load(const char *blocked_names, const char *limit_overrides,
    struct ra_policy **out, struct rc_detail *d)
{
	struct ra_policy *p = xcalloc(1, sizeof(*p));
	int rc;

	*out = NULL;
	rc = policy_read(p, blocked_names, limit_overrides, d);
	if (rc != 0) {
		free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void
ra_policy_free(struct ra_policy *p)
{
	if (p == NULL)
		return;
	policy_clear(p);
	free(p);
}

int
ra_open(const struct ra_conf *conf, struct store *st, struct ca *ca,
    struct val_ctx *val, struct ra **out, struct rc_detail *d)
{
	struct ra *ra = NULL;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (conf == NULL || st == NULL || out == NULL)
		return RC_INVAL;
	if (conf->account_url_prefix == NULL ||
	    conf->account_url_prefix[0] == '\0') {
		rc_detail_set(d, "ra: no account URL prefix");
		return RC_CONFIG;
	}
	ra = xcalloc(1, sizeof(*ra));
	ra->conf = *conf;
	ra->conf.account_url_prefix = xstrdup(conf->account_url_prefix);
	ra->conf.blocked_names = NULL;
	ra->conf.limit_overrides = NULL;
	ra->conf.policy = NULL;
	if (ra->conf.order_lifetime <= 0)
		ra->conf.order_lifetime = RA_DEF_ORDER_LIFETIME;
	if (ra->conf.authz_lifetime <= 0)
		ra->conf.authz_lifetime = RA_DEF_AUTHZ_LIFETIME;
	if (ra->conf.nonce_lifetime <= 0)
		ra->conf.nonce_lifetime = RA_DEF_NONCE_LIFETIME;
	if (ra->conf.job_lease <= 0)
		ra->conf.job_lease = RA_DEF_JOB_LEASE;
	if (ra->conf.max_identifiers == 0 ||
	    ra->conf.max_identifiers > CA_MAX_NAMES)
		ra->conf.max_identifiers = RA_DEF_MAX_IDENTIFIERS;
	if (ra->conf.max_contacts == 0)
		ra->conf.max_contacts = RA_DEF_MAX_CONTACTS;
	ra->st = st;
	ra->ca = ca;
	ra->val = val;
	ra->pol = &ra->own;
	if (conf->policy != NULL)
		ra->pol = conf->policy;
	else if ((rc = policy_read(&ra->own, conf->blocked_names,
	    conf->limit_overrides, d)) != 0)
		goto out;
	*out = ra;
	ra = NULL;
	rc = 0;
out:
	ra_free(ra);
	return rc;
}

void
ra_free(struct ra *ra)
{
	if (ra == NULL)
		return;
	sec_wipe(ra->nonce_key, sizeof(ra->nonce_key));
	policy_clear(&ra->own);
	free((char *)ra->conf.account_url_prefix);
	free(ra);
}

time_t
ra_now(const struct ra *ra)
{
	if (ra != NULL && ra->conf.now != 0)
		return ra->conf.now;
	return time(NULL);
}

void
ra_set_val_pool(struct ra *ra, int (*get)(void *arg, struct val_ctx **out),
    void (*put)(void *arg, struct val_ctx *v), void *arg)
{
	ra->vget = get;
	ra->vput = put;
	ra->varg = arg;
}

struct val_ctx *
ra_val_get(struct ra *ra)
{
	struct val_ctx *v = NULL;

	if (ra->val != NULL)
		return ra->val;
	if (ra->vget == NULL || ra->vget(ra->varg, &v) != 0)
		return NULL;
	return v;
}

void
ra_val_put(struct ra *ra, struct val_ctx *v)
{
	if (v != NULL && v != ra->val && ra->vput != NULL)
		ra->vput(ra->varg, v);
}

int
ra_val_missing(struct ra *ra, struct val_result *res, const char *what)
{
	memset(res, 0, sizeof(*res));
	res->outcome = VAL_INVALID;
	res->problem = VAL_PROB_SERVER_INTERNAL;
	res->checked_at = ra_now(ra);
	snprintf(res->detail, sizeof(res->detail), "%s is not configured on "
	    "this server", what);
	return RC_CONFIG;
}

void
ra_set_now(struct ra *ra, time_t now)
{
	ra->conf.now = now;
}

void
ra_set_check(struct ra *ra, int (*fn)(void *arg,
    const struct val_request *req, struct val_result *out), void *arg)
{
	ra->check = fn;
	ra->check_arg = arg;
}

/* ---- names policy -------------------------------------------------------- */

/* 1 when name equals blocked or lies below it. */
static int
under(const char *name, const char *blocked)
{
	size_t n = strlen(name), b = strlen(blocked);

	if (n == b)
		return strcmp(name, blocked) == 0;
	return n > b && name[n - b - 1] == '.' &&
	    strcmp(name + n - b, blocked) == 0;
}

/* The blocked entry that forbids name ("*.base" for wildcards: base
 * itself, or any name one label below base, which the wildcard would
 * cover), or NULL. */
static const char *
blocked_by(const struct ra *ra, const char *name)
{
	int wild = name[0] == '*';
	const char *base = wild ? name + 2 : name;

	for (size_t i = 0; i < ra->pol->nblocked; i++) {
		const char *bl = ra->pol->blocked[i], *dot;

		if (under(base, bl))
			return bl;
		if (wild && (dot = strchr(bl, '.')) != NULL &&
		    strcmp(dot + 1, base) == 0)
			return bl;
	}
	return NULL;
}

int
ra_name_check(struct ra *ra, const char *name, int allow_wildcard,
    char out[254], struct ra_err *err)
{
	struct rc_detail d = {""};
	enum dnsname_why why;
	const char *bl;

	out[0] = '\0';
	/* the form (ASCII, no control characters, length, no trailing dot,
	 * lower case, wildcard only where allowed and not on a public
	 * suffix), then the CA's rules (A-labels) */
	if (dnsname_norm(name, name != NULL ? strnlen(name,
	    DNSNAME_MAX_INPUT + 1) : 0, DNSNAME_FOLD | (allow_wildcard ?
	    DNSNAME_WILDCARD | DNSNAME_PSL : 0), out, &why) != 0) {
		/* bytes that are not printable ASCII are not echoed */
		if (why == DNSNAME_EMPTY || why == DNSNAME_NOT_ASCII ||
		    why == DNSNAME_CONTROL || why == DNSNAME_TOO_LONG)
			return ra_fail(err, RC_BADNAME,
			    RA_PROB_REJECTED_IDENTIFIER, "DNS name %s",
			    dnsname_why_str(why));
		return ra_fail(err, RC_BADNAME, RA_PROB_REJECTED_IDENTIFIER,
		    "DNS name \"%s\" %s", name, dnsname_why_str(why));
	}
	if (ca_name_check(out, &d) != 0) {
		out[0] = '\0';
		return ra_fail(err, RC_BADNAME, RA_PROB_REJECTED_IDENTIFIER,
		    "%s", d.msg[0] != '\0' ? d.msg : "not a valid DNS name");
	}
	if ((bl = blocked_by(ra, out)) != NULL) {
		log_info(LOG_RA, "name %s: refused, blocked by \"%s\"", out,
		    bl);
		out[0] = '\0';
		return ra_fail(err, RC_BADNAME, RA_PROB_REJECTED_IDENTIFIER,
		    "the CA's policy forbids issuing for this name");
	}
	return 0;
}
