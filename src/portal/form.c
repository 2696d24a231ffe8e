/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The application/x-www-form-urlencoded parser for the portal's forms.
 * Every byte comes from the network: the body is bounded before it gets
 * here (PORTAL_FORM_MAX_BODY), every name and value has a decoded maximum,
 * and anything a browser submitting one of our own forms would not send
 * (bad %-escapes, NUL, control characters, text that is not UTF-8, a name
 * twice) is refused rather than guessed at. Values are wiped when the form
 * is freed, because the login form carries a password.
 *
 * Runs in the main certdesk process on HTTP worker threads.
 */
#include "portal/portal_int.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <openssl/crypto.h>

#include <stdlib.h>
#include <string.h>

struct field {
	char *name;
	char *value;
	size_t vlen;
};

struct portal_form {
	struct field f[PORTAL_FORM_MAX_FIELDS];
	size_t n;
};

static int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static int
utf8_ok(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

/*
 * Decodes p[0..n) into a new NUL-terminated string of at most max bytes.
 * value: TAB, CR, LF allowed. RC_INVAL for anything refused.
 */
static int
decode(const uint8_t *p, size_t n, size_t max, int value, char **out,
    size_t *outlen)
{
	char *d = xmalloc(n + 1);	/* decoding never grows */
	size_t k = 0;
	int rc = RC_INVAL;

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;

			if (n - i < 3)
				goto out;
			hi = hexval(p[i + 1]);
			lo = hexval(p[i + 2]);
			if (hi < 0 || lo < 0)
				goto out;
			c = (uint8_t)(hi << 4 | lo);
			i += 2;
		}
		if (c == 0x7f || (c < 0x20 && !(value && (c == '\t' ||
		    c == '\n' || c == '\r'))))
			goto out;
		if (k >= max)
			goto out;
		d[k++] = (char)c;
	}
	d[k] = '\0';
	if (!utf8_ok((const uint8_t *)d, k))
		goto out;
	*out = d;
	*outlen = k;
	d = NULL;
	rc = 0;
out:
	if (d != NULL) {
		OPENSSL_cleanse(d, n + 1);
		free(d);
	}
	return rc;
}

int
portal_form_parse(const uint8_t *body, size_t len, struct portal_form **out)
{
	struct portal_form *f = NULL;
	size_t i = 0;
	int rc = 0;

	if (out == NULL)
		return RC_INVAL;
	*out = NULL;
	if (body == NULL && len > 0)
		return RC_INVAL;
	if (len > PORTAL_FORM_MAX_BODY)
		return RC_TOOBIG;
	f = xcalloc(1, sizeof(*f));
	while (i < len) {
		const uint8_t *pair = body + i, *amp, *eq;
		size_t plen, nlen;
		char *name = NULL, *value = NULL;
		size_t vlen = 0, dummy;

		amp = memchr(pair, '&', len - i);
		plen = amp ? (size_t)(amp - pair) : len - i;
		i += plen + 1;
		if (plen == 0)
			continue;
		eq = memchr(pair, '=', plen);
		nlen = eq ? (size_t)(eq - pair) : plen;
		if (nlen == 0) {
			rc = RC_INVAL;
			goto out;
		}
		if (f->n >= PORTAL_FORM_MAX_FIELDS) {
			rc = RC_TOOBIG;
			goto out;
		}
		rc = decode(pair, nlen, PORTAL_FORM_MAX_NAME, 0, &name, &dummy);
		if (rc != 0)
			goto out;
		if (name[0] == '\0' || portal_form_get(f, name) != NULL) {
			free(name);
			rc = RC_INVAL;
			goto out;
		}
		if (eq != NULL)
			rc = decode(eq + 1, plen - nlen - 1,
			    PORTAL_FORM_MAX_VALUE, 1, &value, &vlen);
		else
			value = xstrdup("");
		if (rc != 0) {
			free(name);
			goto out;
		}
		f->f[f->n].name = name;
		f->f[f->n].value = value;
		f->f[f->n].vlen = vlen;
		f->n++;
	}
	*out = f;
	f = NULL;
out:
	portal_form_free(f);
	return rc;
}

/* What decode() lets through: UTF-8 without control characters (but TAB,
 * CR and LF in a value). */
static int
text_ok(const char *s, int value)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p == 0x7f || (*p < 0x20 && !(value && (*p == '\t' ||
		    *p == '\n' || *p == '\r'))))
			return 0;
	return utf8_ok((const uint8_t *)s, strlen(s));
}

int
portal_form_add(struct portal_form **f, const char *name, const char *value)
{
	size_t vlen;

	if (f == NULL || name == NULL || name[0] == '\0' || value == NULL ||
	    strlen(name) > PORTAL_FORM_MAX_NAME || !text_ok(name, 0) ||
	    !text_ok(value, 1))
		return RC_INVAL;
	if (*f == NULL)
		*f = xcalloc(1, sizeof(**f));
	if (portal_form_get(*f, name) != NULL)
		return RC_INVAL;
	vlen = strlen(value);
	if ((*f)->n >= PORTAL_FORM_MAX_FIELDS || vlen > PORTAL_FORM_MAX_VALUE)
		return RC_TOOBIG;
	(*f)->f[(*f)->n].name = xstrdup(name);
	(*f)->f[(*f)->n].value = xstrdup(value);
	(*f)->f[(*f)->n].vlen = vlen;
	(*f)->n++;
	return 0;
}

const char *
portal_form_get(const struct portal_form *f, const char *name)
{
	if (f == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->f[i].name, name) == 0)
			return f->f[i].value;
	return NULL;
}

size_t
portal_form_count(const struct portal_form *f)
{
	return f ? f->n : 0;
}

void
portal_form_free(struct portal_form *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->f[i].name);
		OPENSSL_cleanse(f->f[i].value, f->f[i].vlen);
		free(f->f[i].value);
	}
	free(f);
}
