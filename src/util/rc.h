/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Return codes shared by every component. A function that can fail returns
 * 0 or one of the negative RC_* values below; rc_str() gives a short text.
 * Text meant for humans about a particular failure goes into a caller-owned
 * detail buffer (see struct rc_detail), never into the code itself.
 *
 * One table maps each code to a category (client error, conflict, internal)
 * so that front ends (CLI exit codes, HTTP statuses, ACME problem types) can
 * be derived from it in one place.
 */
#ifndef CERTDESK_UTIL_RC_H
#define CERTDESK_UTIL_RC_H

#include <stddef.h>

enum {
	RC_OK = 0,
	RC_ERR = -1,		/* internal error, see the log */
	RC_NOMEM = -2,
	RC_INVAL = -3,		/* bad argument or bad input */
	RC_NOTFOUND = -4,
	RC_EXISTS = -5,
	RC_IO = -6,		/* file or socket I/O failed */
	RC_CONFLICT = -7,	/* retryable store conflict (busy, serialization) */
	RC_DB = -8,		/* hard store error */
	RC_CRYPTO = -9,		/* OpenSSL failure */
	RC_BADCSR = -10,	/* CSR malformed or its signature is bad */
	RC_BADKEY = -11,	/* key type or size not allowed */
	RC_WEAKKEY = -12,	/* key weak or known compromised */
	RC_LINT = -13,		/* to-be-signed certificate failed lint */
	RC_POLICY = -14,	/* refused by policy */
	RC_SIGNER = -15,	/* signer process failed or refused */
	RC_PROTO = -16,		/* malformed message on an internal channel */
	RC_CONFIG = -17,	/* bad configuration */
	RC_TOOBIG = -18,	/* input over its fixed maximum */
	RC_STATE = -19,		/* operation not allowed in the current state */
	RC_TAMPER = -20,	/* audit chain or stored data does not verify */
	RC_UNAUTH = -21,	/* not authenticated / not permitted */
	RC_BADNAME = -22,	/* not an acceptable DNS name */
	RC_DNS = -23,		/* a DNS query or update failed (d says how) */
	RC_REFUSED = -24,	/* the peer refused for good (an SMTP 5xx
				 * reply): do not try again */
	RC_UNAVAIL = -25,	/* a service the operation needs did not
				 * answer well enough (e.g. CT logs) */
	RC_LAST_ = -26
};

/* Short fixed text for a code; never NULL. */
const char *rc_str(int rc);

/*
 * A caller-owned buffer for a human-readable reason ("CSR: RSA modulus of
 * 1024 bits is below the minimum of 2048"). Callees fill it with
 * rc_detail_set(); a NULL detail pointer is allowed everywhere and ignored.
 */
struct rc_detail {
	char msg[256];
};

void rc_detail_set(struct rc_detail *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The text in d, or rc_str(rc) when d is NULL or empty. */
const char *rc_detail_str(const struct rc_detail *d, int rc);

#endif
