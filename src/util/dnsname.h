/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one DNS host name checker of certdesk, with its normaliser: every
 * component that takes a name from outside (CSRs, the pre-issuance lint,
 * validation, the ra, the command line) asks this module, each with the
 * flags that fit where the name comes from, and maps the reason it gets
 * back to its own message (the lint to its zlint-style check names).
 *
 * The rules (RFC 1035 2.3.1 and 1123 2.1, RFC 5890/5891, BR 7.1.4.2.1 and
 * 3.2.2.6), always applied, in this order:
 *  - not empty; ASCII (unless DNSNAME_ULABELS); no space or control
 *    character; no trailing dot (unless DNSNAME_ROOT_DOT); at most 253
 *    characters in all, a leading "*." included;
 *  - not an IPv4 or IPv6 address literal;
 *  - a wildcard only as the whole leftmost label "*." and only with
 *    DNSNAME_WILDCARD;
 *  - labels not empty, at most 63 characters, letters, digits and hyphens
 *    (and '_' with DNSNAME_UNDERSCORE; upper case folded with
 *    DNSNAME_FOLD, refused without), no hyphen first or last; with
 *    DNSNAME_IDNA, "--" in positions 3-4 only in an "xn--" label that is a
 *    valid A-label (IDNA2008: decodes to a U-label that encodes back to
 *    exactly the same label);
 *  - at least two labels (one with DNSNAME_SINGLE), and always two below
 *    a wildcard, the last not all digits; with
 *    DNSNAME_PSL, a wildcard not directly left of a public suffix (libpsl,
 *    the distribution's list when installed, else libpsl's built-in copy;
 *    ICANN and private sections, and any unlisted top-level label).
 *
 * Pure functions, any thread (the public suffix list is loaded once).
 */
#ifndef CERTDESK_UTIL_DNSNAME_H
#define CERTDESK_UTIL_DNSNAME_H

#include <stddef.h>

#define DNSNAME_MAX 253			/* characters, no trailing dot */
#define DNSNAME_BUF (DNSNAME_MAX + 1)
#define DNSNAME_MAX_LABEL 63
#define DNSNAME_MAX_INPUT 1024		/* longer input is refused unread */

/* flags */
#define DNSNAME_FOLD 0x01	/* lower-case A-Z; else upper case refused */
#define DNSNAME_WILDCARD 0x02	/* a leading "*." is allowed */
#define DNSNAME_IDNA 0x04	/* "--" at 3-4: valid xn-- A-labels only */
#define DNSNAME_PSL 0x08	/* no wildcard directly on a public suffix */
#define DNSNAME_ULABELS 0x10	/* UTF-8 input converted to A-labels (UTS 46
				 * nontransitional, NFC); implies IDNA */
#define DNSNAME_ROOT_DOT 0x20	/* one trailing dot is dropped */
#define DNSNAME_UNDERSCORE 0x40	/* '_' allowed in labels (RFC 2181 §11):
				 * zone, owner and key names, not hosts */
#define DNSNAME_SINGLE 0x80	/* a single label is allowed ("example") */
/* A zone, record owner or TSIG key name as a DNS server knows it
 * ("_acme-challenge.Example.COM.", a stub zone "test"): folded, one
 * trailing dot dropped, '_' and single labels allowed. */
#define DNSNAME_ZONE (DNSNAME_FOLD | DNSNAME_ROOT_DOT | DNSNAME_UNDERSCORE | \
	DNSNAME_SINGLE)

/* Why a name was refused. DNSNAME_OK is 0. */
enum dnsname_why {
	DNSNAME_OK = 0,
	DNSNAME_EMPTY,			/* empty or NULL */
	DNSNAME_NOT_ASCII,		/* a byte >= 0x80 (U-label) */
	DNSNAME_BAD_ULABEL,		/* UTF-8 that IDNA refuses */
	DNSNAME_CONTROL,		/* space, control character or NUL */
	DNSNAME_TRAILING_DOT,
	DNSNAME_TOO_LONG,		/* over 253 characters */
	DNSNAME_IP_ADDRESS,		/* an IPv4 or IPv6 literal */
	DNSNAME_WILDCARD_NOT_ALLOWED,	/* "*." without DNSNAME_WILDCARD */
	DNSNAME_WILDCARD_POSITION,	/* '*' other than a leading "*." */
	DNSNAME_EMPTY_LABEL,
	DNSNAME_LABEL_TOO_LONG,		/* over 63 characters */
	DNSNAME_UPPERCASE,		/* A-Z without DNSNAME_FOLD */
	DNSNAME_BAD_CHAR,		/* other than letters, digits, '-' */
	DNSNAME_HYPHEN_EDGE,		/* label starts or ends with '-' */
	DNSNAME_RESERVED_LABEL,		/* "--" at 3-4, not "xn--" */
	DNSNAME_BAD_ALABEL,		/* "xn--" that is not an A-label */
	DNSNAME_SINGLE_LABEL,		/* not fully qualified */
	DNSNAME_NUMERIC_TLD,		/* last label all digits */
	DNSNAME_PUBLIC_SUFFIX,		/* wildcard on a public suffix */
	DNSNAME_NO_PSL,			/* wildcard, and no list to check */
	DNSNAME_WHY_MAX_
};

/*
 * Checks the n bytes at in (untrusted, need not be NUL-terminated, may hold
 * NUL) and writes the normalised name to out (DNSNAME_BUF bytes): folded
 * with DNSNAME_FOLD, A-labels for U-labels with DNSNAME_ULABELS, without
 * the trailing dot with DNSNAME_ROOT_DOT, a leading "*." kept. Returns 0,
 * or RC_BADNAME with *why (why may be NULL) saying which rule failed and
 * out an empty string.
 */
int dnsname_norm(const char *in, size_t n, unsigned flags,
    char out[DNSNAME_BUF], enum dnsname_why *why);

/* The same check of a NUL-terminated name (NULL is DNSNAME_EMPTY), without
 * output. Returns 0 or RC_BADNAME with *why. */
int dnsname_check(const char *name, unsigned flags, enum dnsname_why *why);

/*
 * A short English phrase for why, written to follow the name it is about:
 * "ends with a dot", "has an empty label". Static string; never NULL.
 */
const char *dnsname_why_str(enum dnsname_why why);

/*
 * The registered domain of a normalised name (the public suffix list's
 * registrable domain: "www.example.co.uk" -> "example.co.uk"), a pointer
 * into name; name itself (without "*.") when it has none (a public suffix,
 * an IP address) or no list was loaded.
 */
const char *dnsname_registered(const char *name);
/* Whether name is a registered domain itself ("example.co.uk"; not
 * "www.example.co.uk", not "co.uk"). */
int dnsname_is_registered(const char *name);
/* Whether name is a public suffix ("co.uk", "github.io", an unlisted
 * top-level label): no registered domain of anyone. 0 when no list was
 * loaded (nothing is known to be one). */
int dnsname_is_public_suffix(const char *name);

#endif
