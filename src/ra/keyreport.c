/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key compromise reports from the public page /report-key (BR 4.9.3), and
 * the preliminary report BR 4.9.5 asks for: "Within 24 hours after
 * receiving a Certificate Problem Report, the CA SHALL investigate the
 * facts and circumstances related to a Certificate Problem Report and
 * provide a preliminary report on its findings to both the Subscriber and
 * the entity who filed the Certificate Problem Report."
 *
 * With a proof of possession the investigation is mechanical (the proof
 * verifies or it does not), so the report goes out at once. It is queued
 * in the mail outbox inside the transaction that blocks the key and
 * revokes its certificates (ca_block_key's hook): no certificate is
 * revoked without its mail, and no mail tells of a revocation that was
 * rolled back. The mail worker of `certdesk serve` delivers and retries.
 *
 * The reporter, when the contact given is an email address, hears the
 * findings (the key, that the proof verified, the serials revoked and
 * when, that the key is blocked) but not whose certificates they were;
 * at most RA_KEY_REPORT_MAILS_PER_DAY times a day per address
 * (ra_limit_report_mail), since anyone can make up keys and proofs and
 * give any address: past that the report is acted on without the mail.
 * The subscribers hear of their own certificates as after every
 * revocation for key compromise (keynotice.c, which also audits who was
 * told about what as "key.report.mail").
 *
 * Runs in the main certdesk process, on portal handler threads. Trusts
 * the store and the ca; the proof and the contact come from anyone and
 * are checked here (and addresses again by the mail component).
 */
#include "ra/ra_int.h"
#include "ca/ca.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "util/xmalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CONTACT_MAX 254		/* RFC 5321 4.5.3.1.3: a path of 256 */
#define LOCAL_MAX 64		/* RFC 5321 4.5.3.1.1 */

/* ---- the reporter's contact ---------------------------------------------- */

static int
bad_contact(struct ra_err *err, const char *why)
{
	return ra_fail(err, RC_INVAL, RA_PROB_MALFORMED, "%s", why);
}

int
ra_key_report_contact(const char *c, struct ra_err *err)
{
	/* an address, not a header: no name, no comment, no list, no
	 * escape (as the ACME contacts of account.c) */
	static const char specials[] = "?%,;:<>()[]\\\"&";
	char domain[256];
	struct rc_detail d = {{0}};
	const char *at;
	size_t n;

	if (c == NULL || c[0] == '\0')
		return RA_KEY_CONTACT_NONE;
	if (strpbrk(c, "\r\n") != NULL)
		return bad_contact(err, "The contact has a line break: give "
		    "one email address on one line, or leave it empty.");
	n = strlen(c);
	if (n > CONTACT_MAX)
		return bad_contact(err, "The contact is too long: an email "
		    "address has at most 254 characters.");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)c[i] <= 0x20 ||
		    (unsigned char)c[i] >= 0x7f)
			return bad_contact(err, "The contact has a space, a "
			    "control character or a character outside ASCII: "
			    "give one email address such as "
			    "name@example.org.");
	if (strncasecmp(c, "https://", 8) == 0) {
		if (c[8] == '\0' || strchr("/?#@", c[8]) != NULL)
			return bad_contact(err, "The web address has no host "
			    "after https://.");
		return RA_KEY_CONTACT_URL;
	}
	if (strstr(c, "://") != NULL)
		return bad_contact(err, "A web address as contact must begin "
		    "with https://; or give an email address.");
	for (size_t i = 0; i < n; i++)
		if (strchr(specials, c[i]) != NULL) {
			char msg[160];

			snprintf(msg, sizeof(msg), "The contact has '%c': give "
			    "one plain email address such as name@example.org,"
			    " without a name or angle brackets.", c[i]);
			return bad_contact(err, msg);
		}
	at = strchr(c, '@');
	if (at == NULL || at == c || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return bad_contact(err, "The contact is not an email address "
		    "(such as name@example.org) nor a web address beginning "
		    "with https://.");
	if (at - c > LOCAL_MAX)
		return bad_contact(err, "The part of the email address before "
		    "'@' is longer than 64 characters.");
	/* RFC 5322 3.4.1 dot-atom */
	if (c[0] == '.' || at[-1] == '.' ||
	    memmem(c, (size_t)(at - c), "..", 2) != NULL)
		return bad_contact(err, "The part of the email address before "
		    "'@' has a dot at its start or end, or two in a row.");
	n = strlen(at + 1);
	for (size_t i = 0; i <= n; i++) {
		char ch = at[1 + i];

		domain[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' :
		    ch);
	}
	if (n == 0 || domain[0] == '*' || ca_name_check(domain, &d) != 0)
		return bad_contact(err, "The part of the email address after "
		    "'@' is not a domain name that takes mail (such as "
		    "example.org).");
	return RA_KEY_CONTACT_EMAIL;
}

/* ---- the reporter's report ---------------------------------------------- */

struct report {
	const char *reporter;	/* an email address, or NULL */
	int reporter_mailed;	/* set by each run of report_tx */
	struct ra_key_notice kn;	/* the subscribers (keynotice.c) */
};

static int
mail_reporter(struct store *st, const struct report *rep,
    const struct ca_key_revoked *r)
{
	char at[TIMEFMT_MAX], ref[96], subject[160];
	struct buf b;
	size_t n = r->n;
	int e = 0;

	timefmt_time(r->when, at);
	buf_init(&b, STORE_MAX_JSON);
	e |= buf_printf(&b, "Thank you for reporting a compromised private "
	    "key. This is our preliminary report on what we found (Baseline "
	    "Requirements 4.9.5).\n\nThe key: SHA-256 fingerprint of its "
	    "public key (SubjectPublicKeyInfo)\n%s\n\nYour proof, a "
	    "certificate signing request signed by this key, verified: "
	    "whoever sent it holds the key. We have blocked the key: we "
	    "will issue no certificate for it again.\n\n", r->spki_sha256);
	if (n == 0) {
		e |= buf_printf(&b, "We had issued no certificate of this key "
		    "that was still valid, so there was nothing to revoke "
		    "(checked on %s).\n", at);
	} else {
		e |= buf_printf(&b, "We revoked %zu certificate%s of this key "
		    "for keyCompromise on %s. Relying parties see this in our "
		    "CRLs and OCSP responses from now on. Serial number%s:"
		    "\n\n", n, n == 1 ? "" : "s", at, n == 1 ? "" : "s");
		for (size_t i = 0; i < n && i < RA_KEY_LIST_MAX; i++)
			e |= buf_printf(&b, "  %s\n", r->v[i].serial);
		if (n > RA_KEY_LIST_MAX)
			e |= buf_printf(&b, "  and %zu more\n",
			    n - RA_KEY_LIST_MAX);
		e |= buf_printf(&b, "\nWe are telling the subscriber%s of %s "
		    "certificate%s as well.\n", n == 1 ? "" : "s",
		    n == 1 ? "this" : "these", n == 1 ? "" : "s");
	}
	if (n == 0)
		snprintf(subject, sizeof(subject), "Your key compromise "
		    "report: key blocked, no certificate to revoke");
	else
		snprintf(subject, sizeof(subject), "Your key compromise "
		    "report: key blocked, %zu certificate%s revoked", n,
		    n == 1 ? "" : "s");
	/* one mail per report: a second report of the key gets its own */
	snprintf(ref, sizeof(ref), "%s@%lld", r->spki_sha256,
	    (long long)r->when);
	/* (a buffer overflow here would be a bug: the text is bounded) */
	e = e != 0 ? RC_TOOBIG : ra_mail_add(st, rep->reporter, "", subject,
	    (const char *)b.data, "key.report", ref);
	buf_free(&b);
	return e == RC_EXISTS ? 0 : e;	/* queued before: counts */
}

/*
 * ca_block_key's hook: in the transaction of the revocations, the
 * preliminary report to the reporter, then the subscribers' mails and the
 * audit entry (keynotice.c). May run more than once (a retried
 * transaction): everything is computed anew.
 */
static int
report_tx(struct store *st, const struct ca_key_revoked *r, void *arg)
{
	struct report *rep = arg;
	int rc;

	rep->reporter_mailed = 0;
	rep->kn.reporter_limited = 0;
	if (rep->reporter != NULL) {
		/* counted in this transaction: a retry counts anew */
		rc = ra_limit_report_mail(rep->kn.ra, st, rep->reporter);
		if (rc == RC_POLICY)
			rep->kn.reporter_limited = 1;
		else if (rc != 0 || (rc = mail_reporter(st, rep, r)) != 0)
			return rc;
		else
			rep->reporter_mailed = 1;
	}
	return ra_key_notice_tx(st, r, &rep->kn);
}

/* ---- the report ---------------------------------------------------------- */

int
ra_key_report(struct ra *ra, const uint8_t *csr, size_t len,
    const char *contact, const char *client_ip,
    struct ra_key_report_res *out, struct ra_err *err)
{
	struct rc_detail d = {{0}};
	struct report rep;
	struct ca_block_hook hook;
	uint8_t *spki = NULL;
	size_t spki_len = 0, revoked = 0;
	char actor[80], *evidence;
	int rc, kind;

	if (ra == NULL || out == NULL)
		return RC_INVAL;
	memset(out, 0, sizeof(*out));
	if (ra->ca == NULL)
		return ra_internal(err, RC_STATE, "key report: no CA");
	/* before anything is done: the reporter corrects it and sends the
	 * report again */
	if ((kind = ra_key_report_contact(contact, err)) < 0)
		return kind;
	if (ca_key_proof(csr, len, RA_KEY_PROOF_CN, &spki, &spki_len,
	    &d) != 0)
		return ra_fail(err, RC_BADCSR, RA_PROB_BAD_CSR, "%s", d.msg);
	if ((rc = ra_limit_key_report(ra, client_ip, err)) != 0) {
		free(spki);
		return rc;
	}
	snprintf(actor, sizeof(actor), "report:%s",
	    client_ip ? client_ip : "?");
	memset(&rep, 0, sizeof(rep));
	rep.reporter = kind == RA_KEY_CONTACT_EMAIL ? contact : NULL;
	ra_key_notice_init(&rep.kn, ra, RA_KEY_REPORT, actor, &hook);
	rep.kn.reporter = rep.reporter;
	hook.fn = report_tx;
	hook.arg = &rep;
	evidence = xasprintf("reported through the web form from %s; "
	    "contact: %s", client_ip ? client_ip : "?",
	    kind != RA_KEY_CONTACT_NONE ? contact : "none given");
	rc = ca_block_key(ra->ca, spki, spki_len, actor, evidence, &hook,
	    &revoked, &d);
	free(evidence);
	free(spki);
	if (rc != 0)
		return ra_internal(err, rc, "key report");
	out->revoked = revoked;
	out->reporter_mailed = rep.reporter_mailed;
	out->reporter_limited = rep.kn.reporter_limited;
	out->subscriber_mails = rep.kn.mails;
	out->no_contact = rep.kn.no_contact;
	log_warn(LOG_RA, "key compromise reported from %s: key blocked, %zu "
	    "certificate%s revoked; preliminary report queued for %s and %zu "
	    "subscriber address%s (%zu certificate%s without one)",
	    client_ip ? client_ip : "?", revoked, revoked == 1 ? "" : "s",
	    rep.reporter_mailed ? "the reporter" :
	    rep.kn.reporter_limited ? "no reporter (its address had its "
	    "reports of the day)" : "no reporter",
	    rep.kn.mails, rep.kn.mails == 1 ? "" : "es", rep.kn.no_contact,
	    rep.kn.no_contact == 1 ? "" : "s");
	return 0;
}
