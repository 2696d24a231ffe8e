/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DNS host names: the one checker and normaliser (see dnsname.h for the
 * rules). libidn2 checks A-labels and converts U-labels; libpsl answers
 * "is this a public suffix" for wildcards.
 *
 * Pure functions on untrusted bytes; any thread.
 */
#include "util/dnsname.h"
#include "util/log.h"
#include "util/rc.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <libpsl.h>
#include <pthread.h>
#include <string.h>

/* ---- the public suffix list, loaded once --------------------------------- */

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static const psl_ctx_t *psl;

static void
psl_load(void)
{
	/* The distribution's list when installed (kept current by the
	 * publicsuffix package), else the copy built into libpsl. Kept for
	 * the life of the process. */
	psl = psl_latest(NULL);
	if (psl == NULL)
		psl = psl_builtin();
	if (psl == NULL)
		log_err(LOG_MAIN, "dnsname: no public suffix list (neither "
		    "the distribution's nor libpsl's built-in one): "
		    "wildcards are refused");
}

/* ---- labels -------------------------------------------------------------- */

/* A-label (RFC 5890 2.3.2.1, RFC 5891 5.4): decodes to a U-label that
 * IDNA2008 accepts and that encodes back to exactly this label. */
static int
alabel_ok(const char *label, size_t n)
{
	char a[DNSNAME_MAX_LABEL + 1], *u = NULL;
	uint8_t *back = NULL;
	int ok;

	memcpy(a, label, n);
	a[n] = '\0';
	ok = idn2_to_unicode_8z8z(a, &u, 0) == IDN2_OK && u != NULL &&
	    idn2_lookup_u8((const uint8_t *)u, &back, IDN2_NO_TR46) ==
	    IDN2_OK && back != NULL && strcmp((char *)back, a) == 0 &&
	    strcmp(u, a) != 0;
	idn2_free(u);
	idn2_free(back);
	return ok;
}

/* Checks the labels of s (NUL-terminated, ASCII, no '*' expected); sets
 * *labels and *numeric_tld. */
static enum dnsname_why
check_labels(const char *s, unsigned flags, size_t *labels, int *numeric_tld)
{
	const char *lab = s, *dot;
	size_t llen;

	*labels = 0;
	for (;; lab = dot + 1) {
		int digits = 1;

		dot = strchr(lab, '.');
		llen = dot != NULL ? (size_t)(dot - lab) : strlen(lab);
		if (llen == 0)
			return DNSNAME_EMPTY_LABEL;
		if (llen > DNSNAME_MAX_LABEL)
			return DNSNAME_LABEL_TOO_LONG;
		for (size_t i = 0; i < llen; i++) {
			char c = lab[i];

			if (c >= 'A' && c <= 'Z')
				return DNSNAME_UPPERCASE;	/* not folded */
			if (c == '*')
				return DNSNAME_WILDCARD_POSITION;
			if (!((c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '-' ||
			    (c == '_' && (flags & DNSNAME_UNDERSCORE))))
				return DNSNAME_BAD_CHAR;
			if (c < '0' || c > '9')
				digits = 0;
		}
		if (lab[0] == '-' || lab[llen - 1] == '-')
			return DNSNAME_HYPHEN_EDGE;
		/* RFC 5891 4.2.3.1: "--" at 3-4 is reserved for IDNA */
		if ((flags & DNSNAME_IDNA) && llen >= 4 && lab[2] == '-' &&
		    lab[3] == '-') {
			if (lab[0] != 'x' || lab[1] != 'n')
				return DNSNAME_RESERVED_LABEL;
			if (!alabel_ok(lab, llen))
				return DNSNAME_BAD_ALABEL;
		}
		(*labels)++;
		if (dot == NULL) {
			*numeric_tld = digits;
			return DNSNAME_OK;
		}
	}
}

/* ---- the checker --------------------------------------------------------- */

static enum dnsname_why
norm(const char *in, size_t n, unsigned flags, char out[DNSNAME_BUF],
    char **ascii)
{
	char tmp[DNSNAME_MAX_INPUT + 1];
	const char *base;
	size_t i, labels = 0;
	int numeric_tld = 0, wild = 0, nonascii = 0;
	enum dnsname_why why;
	uint8_t ip[16];

	if (in == NULL || n == 0)
		return DNSNAME_EMPTY;
	if (n > DNSNAME_MAX_INPUT)
		return DNSNAME_TOO_LONG;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x80)
			nonascii = 1;
		else if (c <= 0x20 || c == 0x7f)
			return DNSNAME_CONTROL;
	}
	if (nonascii) {
		if (!(flags & DNSNAME_ULABELS))
			return DNSNAME_NOT_ASCII;
		memcpy(tmp, in, n);
		tmp[n] = '\0';
		if (idn2_to_ascii_8z(tmp, ascii, IDN2_NONTRANSITIONAL |
		    IDN2_NFC_INPUT) != IDN2_OK || *ascii == NULL)
			return DNSNAME_BAD_ULABEL;
		in = *ascii;
		n = strlen(in);
		if (n == 0)
			return DNSNAME_EMPTY;
		for (i = 0; i < n; i++)
			if ((unsigned char)in[i] >= 0x80)
				return DNSNAME_BAD_ULABEL;
			else if ((unsigned char)in[i] <= 0x20 ||
			    in[i] == 0x7f)
				return DNSNAME_CONTROL;
	}
	if (in[n - 1] == '.') {
		if (!(flags & DNSNAME_ROOT_DOT))
			return DNSNAME_TRAILING_DOT;
		if (--n == 0)
			return DNSNAME_EMPTY;
	}
	if (n > DNSNAME_MAX)
		return DNSNAME_TOO_LONG;
	for (i = 0; i < n; i++)
		out[i] = (char)((flags & DNSNAME_FOLD) && in[i] >= 'A' &&
		    in[i] <= 'Z' ? in[i] - 'A' + 'a' : in[i]);
	out[n] = '\0';
	if (inet_pton(AF_INET, out, ip) == 1 ||
	    inet_pton(AF_INET6, out, ip) == 1)
		return DNSNAME_IP_ADDRESS;
	base = out;
	if (out[0] == '*') {
		if (out[1] != '.')
			return DNSNAME_WILDCARD_POSITION;
		if (!(flags & DNSNAME_WILDCARD))
			return DNSNAME_WILDCARD_NOT_ALLOWED;
		wild = 1;
		base = out + 2;
	}
	why = check_labels(base, flags, &labels, &numeric_tld);
	if (why != DNSNAME_OK)
		return why;
	if (labels < 2 && !wild && !(flags & DNSNAME_SINGLE))
		return DNSNAME_SINGLE_LABEL;
	if (numeric_tld)
		return DNSNAME_NUMERIC_TLD;
	if (wild && (flags & DNSNAME_PSL)) {
		/* BR 3.2.2.6: no wildcard directly left of a public suffix */
		pthread_once(&psl_once, psl_load);
		if (psl == NULL)
			return DNSNAME_NO_PSL;
		if (psl_is_public_suffix2(psl, base, PSL_TYPE_ANY) != 0)
			return DNSNAME_PUBLIC_SUFFIX;
	}
	if (wild && labels < 2)	/* a wildcard on a bare top-level label */
		return DNSNAME_SINGLE_LABEL;
	return DNSNAME_OK;
}

int
dnsname_norm(const char *in, size_t n, unsigned flags,
    char out[DNSNAME_BUF], enum dnsname_why *why)
{
	char *ascii = NULL;
	enum dnsname_why w;

	if (flags & DNSNAME_ULABELS)
		flags |= DNSNAME_IDNA;
	w = norm(in, n, flags, out, &ascii);
	idn2_free(ascii);
	if (why != NULL)
		*why = w;
	if (w != DNSNAME_OK) {
		out[0] = '\0';
		return RC_BADNAME;
	}
	return 0;
}

int
dnsname_check(const char *name, unsigned flags, enum dnsname_why *why)
{
	char buf[DNSNAME_BUF];

	return dnsname_norm(name, name != NULL ? strnlen(name,
	    DNSNAME_MAX_INPUT + 1) : 0, flags, buf, why);
}

const char *
dnsname_why_str(enum dnsname_why why)
{
	static const char *const text[DNSNAME_WHY_MAX_] = {
		[DNSNAME_OK] = "is a valid DNS name",
		[DNSNAME_EMPTY] = "is empty",
		[DNSNAME_NOT_ASCII] = "is not ASCII: internationalised names "
		    "must be A-labels (xn--)",
		[DNSNAME_BAD_ULABEL] = "is not a valid internationalised "
		    "name (IDNA2008)",
		[DNSNAME_CONTROL] = "contains a space or control character",
		[DNSNAME_TRAILING_DOT] = "ends with a dot",
		[DNSNAME_TOO_LONG] = "is longer than 253 characters",
		[DNSNAME_IP_ADDRESS] = "is an IP address: only DNS names are "
		    "allowed",
		[DNSNAME_WILDCARD_NOT_ALLOWED] = "is a wildcard name, not "
		    "allowed here",
		[DNSNAME_WILDCARD_POSITION] = "has a wildcard that is not the "
		    "whole leftmost label",
		[DNSNAME_EMPTY_LABEL] = "has an empty label",
		[DNSNAME_LABEL_TOO_LONG] = "has a label longer than 63 "
		    "characters",
		[DNSNAME_UPPERCASE] = "has upper-case letters",
		[DNSNAME_BAD_CHAR] = "has a character other than letters, "
		    "digits, hyphen and dot",
		[DNSNAME_HYPHEN_EDGE] = "has a label that starts or ends with "
		    "a hyphen",
		[DNSNAME_RESERVED_LABEL] = "has \"--\" in the third and fourth "
		    "positions of a label that is not an xn-- A-label",
		[DNSNAME_BAD_ALABEL] = "has an invalid A-label (xn--)",
		[DNSNAME_SINGLE_LABEL] = "is not a fully-qualified domain name",
		[DNSNAME_NUMERIC_TLD] = "has a numeric top-level label",
		[DNSNAME_PUBLIC_SUFFIX] = "is a wildcard on a public suffix",
		[DNSNAME_NO_PSL] = "is a wildcard and the public suffix list "
		    "is not available",
	};

	if ((unsigned)why >= DNSNAME_WHY_MAX_ || text[why] == NULL)
		return "is not a valid DNS name";
	return text[why];
}

const char *
dnsname_registered(const char *name)
{
	const char *r;

	if (name[0] == '*' && name[1] == '.')
		name += 2;
	pthread_once(&psl_once, psl_load);
	r = psl != NULL ? psl_registrable_domain(psl, name) : NULL;
	return r != NULL ? r : name;
}

int
dnsname_is_registered(const char *name)
{
	const char *r;

	pthread_once(&psl_once, psl_load);
	r = psl != NULL ? psl_registrable_domain(psl, name) : NULL;
	return r != NULL && strcmp(r, name) == 0;
}

int
dnsname_is_public_suffix(const char *name)
{
	pthread_once(&psl_once, psl_load);
	return psl != NULL && name != NULL && name[0] != '\0' &&
	    psl_registrable_domain(psl, name) == NULL;
}
