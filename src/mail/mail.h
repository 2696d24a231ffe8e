/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Outgoing mail: composes an RFC 5322 message (text/plain, UTF-8) and
 * delivers it through an SMTP server (libcurl) or, when none is configured,
 * into the spool folder DATA/mail/spool as one .eml file per message. Runs
 * in `certdesk serve` (the mail worker) and in admin commands. Trusts
 * nothing it is given: header values with CR or LF and addresses that are
 * not a plain addr-spec are refused, so no caller can inject a header.
 */
#ifndef CERTDESK_MAIL_MAIL_H
#define CERTDESK_MAIL_MAIL_H

#include "util/rc.h"

#include <stddef.h>
#include <time.h>

#define MAIL_MAX_ADDR 254
#define MAIL_MAX_SUBJECT 400
#define MAIL_MAX_BODY (256 * 1024)

/* Where and how mail goes; every string borrowed. */
struct mail_conf {
	const char *smtp_url;	/* "" or NULL: spool */
	const char *from;	/* "addr" or "Name <addr>" */
	const char *starttls;	/* "try" (default), "require", "off" */
	const char *user;	/* "" or NULL: no SMTP AUTH */
	const char *password;	/* with user */
	const char *spool_dir;	/* DATA/mail/spool */
	long timeout_s;		/* whole transfer; 0: 30 */
};

/* 1 when a is a plain addr-spec (local@domain, printable ASCII, no
 * spaces, quotes, angle brackets, CR/LF), at most MAIL_MAX_ADDR bytes. */
int mail_addr_ok(const char *a);

/*
 * Composes a message from `from` ("addr" or "Name <addr>") to the
 * addr-spec `to` with subject and UTF-8 body (may be empty). Subject is
 * RFC 2047 encoded when not ASCII; the body goes quoted-printable (lines
 * well under 998 octets). date is the Date header (0: now). RC_INVAL
 * (detail in d, may be NULL) for CR/LF in any header value, a bad address,
 * a subject or body too long or not UTF-8. *out is a new NUL-terminated
 * string (free()) with CRLF line ends, *len its length.
 */
int mail_compose(const char *from, const char *to, const char *subject,
    const char *body, time_t date, char **out, size_t *len,
    struct rc_detail *d);

/*
 * Delivers one composed message to `to`: through c->smtp_url when set,
 * else into c->spool_dir (created 0750) as <time>-<random>.eml, mode
 * 0640, written atomically. An SMTP failure is RC_REFUSED when the server
 * refused this mail for good (a 5xx reply to MAIL, RCPT or DATA, RFC 5321
 * §4.2.1: do not try again), else RC_IO (a 4xx reply, a 5xx to EHLO,
 * STARTTLS or AUTH, no connection, a timeout: try again later); d gets the
 * server's reply line ("SMTP: RCPT: 550 5.1.1 no such mailbox") or curl's
 * reason.
 */
int mail_deliver(const struct mail_conf *c, const char *to,
    const char *msg, size_t len, struct rc_detail *d);

/* Both of the above (RC_REFUSED and RC_IO as mail_deliver). */
int mail_send(const struct mail_conf *c, const char *to, const char *subject,
    const char *body, struct rc_detail *d);

#endif
