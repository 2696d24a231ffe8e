/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Command-line parsing and the validators for values typed by the operator:
 * options, database ids, certificate serials, domain names, listen
 * addresses, free text, country codes, URLs. Pure functions without side
 * effects, so they can be tested with hostile input on their own.
 *
 * Runs in the main certdesk process; trusts nothing it is given.
 */
#include "daemon/daemon_int.h"
#include "util/dnsname.h"
#include "util/fs.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- options ------------------------------------------------------------- */

#define MAX_OPTS 64

static const struct daemon_opt *
find_opt(const struct daemon_opt *opts, size_t nopts, const char *name,
    size_t nlen, size_t *idx)
{
	for (size_t k = 0; k < nopts; k++)
		if (strlen(opts[k].name) == nlen &&
		    strncmp(opts[k].name, name, nlen) == 0) {
			*idx = k;
			return &opts[k];
		}
	return NULL;
}

static int
is_long_opt(const char *a)
{
	return a[0] == '-' && a[1] == '-';
}

int
daemon_opts_parse(const struct daemon_opt *opts, size_t nopts, int argc,
    char **args, const char **pos, size_t maxpos, size_t *npos, char *err,
    size_t errlen)
{
	unsigned char seen[MAX_OPTS] = {0};
	size_t np = 0;
	int only_pos = 0;

	if (npos)
		*npos = 0;
	if (errlen)
		err[0] = '\0';
	if (nopts > MAX_OPTS) {
		snprintf(err, errlen, "too many options in the table");
		return RC_INVAL;
	}
	/* --help wins wherever it is, so "cmd --bogus --help" shows help */
	for (int i = 0; i < argc; i++) {
		if (strcmp(args[i], "--") == 0)
			break;
		if (strcmp(args[i], "--help") == 0 ||
		    strcmp(args[i], "-h") == 0)
			return DAEMON_PARSE_HELP;
	}
	for (int i = 0; i < argc; i++) {
		const char *a = args[i], *eq, *val;
		const struct daemon_opt *o;
		size_t nlen, k = 0;

		if (!only_pos && strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (np >= maxpos) {
				snprintf(err, errlen,
				    "unexpected argument '%.64s'", a);
				return RC_INVAL;
			}
			pos[np++] = a;
			continue;
		}
		if (!is_long_opt(a)) {
			snprintf(err, errlen, "unknown option '%.64s'", a);
			return RC_INVAL;
		}
		eq = strchr(a, '=');
		nlen = eq ? (size_t)(eq - a) : strlen(a);
		o = find_opt(opts, nopts, a, nlen, &k);
		if (o == NULL) {
			snprintf(err, errlen, "unknown option '%.*s'",
			    (int)(nlen > 64 ? 64 : nlen), a);
			return RC_INVAL;
		}
		if (o->kind == DAEMON_OPT_FLAG) {
			if (eq) {
				snprintf(err, errlen, "%s takes no value",
				    o->name);
				return RC_INVAL;
			}
			*(int *)o->dst = 1;
			seen[k] = 1;
			continue;
		}
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc && !is_long_opt(args[i + 1]))
			val = args[++i];
		else {
			snprintf(err, errlen, "%s needs a value (%s)", o->name,
			    o->metavar ? o->metavar : "VALUE");
			return RC_INVAL;
		}
		if (val[0] == '\0') {
			snprintf(err, errlen, "%s: empty value", o->name);
			return RC_INVAL;
		}
		if (o->kind == DAEMON_OPT_STR) {
			if (seen[k]) {
				snprintf(err, errlen, "%s given twice",
				    o->name);
				return RC_INVAL;
			}
			*(const char **)o->dst = val;
		} else {
			struct daemon_list *l = o->dst;

			if (l->n >= DAEMON_MAX_LIST) {
				snprintf(err, errlen, "%s given more than %d "
				    "times", o->name, DAEMON_MAX_LIST);
				return RC_INVAL;
			}
			l->v[l->n++] = val;
		}
		seen[k] = 1;
	}
	for (size_t k = 0; k < nopts; k++)
		if (opts[k].required && !seen[k]) {
			snprintf(err, errlen, "%s%s%s is required",
			    opts[k].name, opts[k].metavar ? " " : "",
			    opts[k].metavar ? opts[k].metavar : "");
			return RC_INVAL;
		}
	if (npos)
		*npos = np;
	return 0;
}

/* ---- ids and serials ----------------------------------------------------- */

int
daemon_parse_id(const char *s, int64_t *out)
{
	size_t n = strlen(s);
	char *end;
	long long v;

	if (n == 0 || n > 19 || s[0] == '0')
		return RC_INVAL;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return RC_INVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return RC_INVAL;
	*out = (int64_t)v;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
daemon_serial_norm(const char *in, char out[41])
{
	char digits[44];
	size_t nd = 0, o = 0;
	const char *p = in;
	int any = 0, prev_colon = 1;

	if (strlen(in) > 128)
		return RC_INVAL;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; *p; p++) {
		int v;

		if (*p == ':') {
			if (prev_colon)	/* leading or doubled colon */
				return RC_INVAL;
			prev_colon = 1;
			continue;
		}
		prev_colon = 0;
		v = hexval(*p);
		if (v < 0)
			return RC_INVAL;
		any = 1;
		if (v == 0 && nd == 0)
			continue;	/* leading zero */
		if (nd >= 41)
			return RC_INVAL;
		digits[nd++] = "0123456789abcdef"[v];
	}
	/* empty, a trailing ':', or zero */
	if (!any || prev_colon || nd == 0)
		return RC_INVAL;
	if (nd % 2)
		out[o++] = '0';
	else if (hexval(digits[0]) >= 8) {
		out[o++] = '0';
		out[o++] = '0';
	}
	if (o + nd > 40)	/* more than 20 octets */
		return RC_INVAL;
	memcpy(out + o, digits, nd);
	out[o + nd] = '\0';
	return 0;
}

/* ---- domain names -------------------------------------------------------- */

int
daemon_domain_norm(const char *in, char *out, size_t outlen, char *err,
    size_t errlen)
{
	char name[DNSNAME_BUF];
	enum dnsname_why why;

	if (errlen)
		err[0] = '\0';
	/* U-labels to A-labels, lower case, one trailing dot dropped, and
	 * "--" at 3-4 only in valid A-labels, as issuance requires: no domain
	 * is added that no certificate could ever name */
	if (dnsname_norm(in, strnlen(in, DNSNAME_MAX_INPUT + 1),
	    DNSNAME_FOLD | DNSNAME_ULABELS | DNSNAME_IDNA | DNSNAME_ROOT_DOT,
	    name, &why) != 0) {
		snprintf(err, errlen, "name %s", dnsname_why_str(why));
		return RC_BADNAME;
	}
	if (strlen(name) + 1 > outlen) {
		snprintf(err, errlen, "name does not fit");
		return RC_BADNAME;
	}
	memcpy(out, name, strlen(name) + 1);
	return 0;
}

/* ---- listen addresses ---------------------------------------------------- */

static int
parse_port(const char *p, in_port_t *port)
{
	size_t n = strlen(p);
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return RC_INVAL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return RC_INVAL;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v > 65535)
		return RC_INVAL;
	*port = htons((in_port_t)v);
	return 0;
}

int
daemon_parse_listen(const char *s, struct sockaddr_storage *ss,
    socklen_t *len)
{
	char host[64];
	const char *colon;
	size_t hl;
	in_port_t port;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (close == NULL || close[1] != ':')
			return RC_INVAL;
		hl = (size_t)(close - s - 1);
		if (hl == 0 || hl >= sizeof(host))
			return RC_INVAL;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (parse_port(close + 2, &port) != 0 ||
		    inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return RC_INVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = port;
		*len = sizeof(*a6);
		return 0;
	}
	colon = strrchr(s, ':');
	if (colon == NULL)
		return RC_INVAL;
	hl = (size_t)(colon - s);
	if (hl == 0 || hl >= sizeof(host) || memchr(s, ':', hl) != NULL)
		return RC_INVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	{
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (parse_port(colon + 1, &port) != 0 ||
		    inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return RC_INVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = port;
		*len = sizeof(*a4);
	}
	return 0;
}

/* ---- text ---------------------------------------------------------------- */

int
daemon_text_ok(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	while (*p) {
		unsigned c = *p, cp;
		int more;

		if (c < 0x20 || c == 0x7f)
			return 0;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			cp = c & 0x07;
		} else
			return 0;
		p++;
		for (int i = 0; i < more; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (*p & 0x3f);
		}
		if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return 0;
	}
	return 1;
}

int
daemon_country_ok(const char *s)
{
	return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
	    s[2] == '\0';
}

int
daemon_base_url_ok(const char *s)
{
	size_t n = strlen(s);
	const char *host;

	if (n > 200 || strncmp(s, "http://", 7) != 0)
		return 0;
	host = s + 7;
	if (*host == '\0' || *host == '/' || *host == ':' || s[n - 1] == '/')
		return 0;
	for (const char *p = host; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || strchr("\"<>\\^`{|}?#", c))
			return 0;
	}
	return 1;
}

int
daemon_issuer_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/* ---- PEM ----------------------------------------------------------------- */

char *
daemon_pem_encode(const char *label, const uint8_t *der, size_t len)
{
	size_t b64len = 4 * ((len + 2) / 3);
	unsigned char *b64 = xmalloc(b64len + 1);
	size_t lines = (b64len + 63) / 64;
	size_t cap = b64len + lines + 2 * strlen(label) + 64;
	char *pem = xmalloc(cap);
	size_t o = 0;

	EVP_EncodeBlock(b64, der, (int)len);
	o += (size_t)snprintf(pem + o, cap - o, "-----BEGIN %s-----\n", label);
	for (size_t i = 0; i < b64len; i += 64) {
		size_t k = b64len - i < 64 ? b64len - i : 64;

		memcpy(pem + o, b64 + i, k);
		o += k;
		pem[o++] = '\n';
	}
	snprintf(pem + o, cap - o, "-----END %s-----\n", label);
	free(b64);
	return pem;
}

/*
 * The character at p[0..n): its length (1 to 4) with its code point in
 * *cp, 0 when p cannot start one (a byte that is no UTF-8 lead, an
 * overlong form, a surrogate, past U+10FFFF, or cut short by a byte that
 * does not continue it), or -1 when n ends before the character does.
 */
static int
utf8_char(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t k = p[0] < 0x80 ? 0 : p[0] >= 0xc2 && p[0] <= 0xdf ? 1 :
	    p[0] >= 0xe0 && p[0] <= 0xef ? 2 : p[0] >= 0xf0 && p[0] <= 0xf4 ?
	    3 : 4;

	if (k == 4)
		return 0;
	*cp = k == 0 ? p[0] : p[0] & (0x3fu >> k);
	for (size_t i = 1; i <= k; i++) {
		if (i >= n)
			return -1;
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (p[i] & 0x3f);
	}
	if ((k == 2 && *cp < 0x800) || (k == 3 && (*cp < 0x10000 ||
	    *cp > 0x10ffff)) || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return (int)k + 1;
}

/* A control character of C0, DEL or C1 (a terminal acts on them). */
static int
is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

void
daemon_put_safe(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = s != NULL ? strlen(s) : 0;

	while (n > 0) {
		uint32_t cp = 0;
		int k = utf8_char(p, n, &cp);

		if (k <= 0) {		/* not UTF-8, or cut short */
			fputc('?', f);
			p++;
			n--;
			continue;
		}
		if (cp == '\t')
			fputc(' ', f);
		else if (is_control(cp))
			fputc('?', f);
		else
			fwrite(p, 1, (size_t)k, f);
		p += k;
		n -= (size_t)k;
	}
}

/* ---- the commands' own stdout and stderr ------------------------------- */

struct safe_out {
	int fd;
	unsigned char carry[4];	/* the start of a character cut by a write */
	size_t ncarry;
};

/* Out to the fd as daemon_put_safe() prints, but newlines and tabs as
 * they are: the text's own layout. A character cut by the end of a write
 * waits in the carry for the next. */
static ssize_t
safe_out_write(void *cookie, const char *buf, size_t len)
{
	struct safe_out *o = cookie;
	size_t n = o->ncarry + len, i = 0, nout = 0;
	unsigned char *w = xmalloc(n + 1), *out = xmalloc(n + 1);
	int rc;

	memcpy(w, o->carry, o->ncarry);
	memcpy(w + o->ncarry, buf, len);
	o->ncarry = 0;
	while (i < n) {
		uint32_t cp = 0;
		int k = utf8_char(w + i, n - i, &cp);

		if (k < 0) {		/* n - i < 4: the rest comes later */
			memcpy(o->carry, w + i, n - i);
			o->ncarry = n - i;
			break;
		}
		if (k == 0 || (is_control(cp) && cp != '\n' && cp != '\t')) {
			out[nout++] = '?';
			i += k == 0 ? 1 : (size_t)k;
			continue;
		}
		memcpy(out + nout, w + i, (size_t)k);
		nout += (size_t)k;
		i += (size_t)k;
	}
	rc = fs_write_all(o->fd, out, nout);
	free(w);
	free(out);
	return rc == 0 ? (ssize_t)len : -1;
}

static int
safe_out_close(void *cookie)
{
	struct safe_out *o = cookie;

	if (o->ncarry > 0) {
		o->ncarry = 0;	/* never completed */
		return fs_write_all(o->fd, "?", 1) == 0 ? 0 : -1;
	}
	return 0;
}

static struct safe_out safe_stdout = {1, {0}, 0};
static struct safe_out safe_stderr = {2, {0}, 0};

void
daemon_safe_stdio(void)
{
	cookie_io_functions_t io = {NULL, safe_out_write, NULL,
	    safe_out_close};
	FILE *o = fopencookie(&safe_stdout, "w", io);
	FILE *e = fopencookie(&safe_stderr, "w", io);

	fflush(stdout);
	fflush(stderr);
	if (o != NULL) {
		setvbuf(o, NULL, _IOFBF, 8192);
		stdout = o;
	}
	if (e != NULL) {
		setvbuf(e, NULL, _IOLBF, 4096);
		stderr = e;
	}
}
