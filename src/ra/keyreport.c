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
 * (Boulder's bad-key-revoker likewise mails the subscribers of the
 * certificates it revokes for a blocked key.)
 *
 * Who hears what: the reporter, when the contact given is an email
 * address, the findings (the key, that the proof verified, the serials
 * revoked and when, that the key is blocked) but not whose certificates
 * they were; each subscriber (the contacts of a portal order: the user
 * who placed it, its technical and administrative contacts; the mailto:
 * contacts of an ACME account) its own certificates only, with what to do
 * now. One mail per subscriber and address; an address that is a contact
 * of two subscribers gets two. Who was told about what is audited
 * ("key.report.mail") in the same transaction.
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
#include "util/xmalloc.h"

#include <jansson.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define CONTACT_MAX 254		/* RFC 5321 4.5.3.1.3: a path of 256 */
#define LOCAL_MAX 64		/* RFC 5321 4.5.3.1.1 */
/* Serials one mail or audit entry names; a key with more certificates
 * (a key shared by a hosting provider) gets "and N more". */
#define LIST_MAX 100
/* A subscriber mail lists certificates while it is shorter than this;
 * with one more (at most 100 names of 253 characters) and the rest it
 * stays under the mail component's MAIL_MAX_BODY (256 KiB). */
#define BODY_BUDGET (128 * 1024)

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

/* ---- who is told what ---------------------------------------------------- */

/* A revoked certificate, as the mails describe it. */
struct cert {
	char serial[41];
	char *names;		/* space-separated */
	int64_t order_id;	/* a portal order: its overview; else 0 */
};

/* One subscriber mail: the certificates of subscriber sub for which addr
 * is a contact. */
struct group {
	char sub[32];		/* "contract/<id>", "acme/<id>" */
	char addr[255], name[120];
	size_t *idx;		/* into the certificates */
	size_t n;
};

struct report {
	struct ra *ra;
	const char *reporter;	/* an email address, or NULL */
	const char *actor;	/* "report:<client address>" */
	char hex[65];		/* the key's SPKI SHA-256 */
	/* set by each run of report_tx */
	int reporter_mailed;
	size_t mails, no_contact;
};

static void
group_add(struct group **g, size_t *ng, const char *sub, const char *addr,
    const char *name, size_t i)
{
	struct group *x = NULL;

	for (size_t k = 0; k < *ng && x == NULL; k++)
		if (strcmp((*g)[k].sub, sub) == 0 &&
		    strcasecmp((*g)[k].addr, addr) == 0)
			x = &(*g)[k];
	if (x == NULL) {
		*g = xrealloc(*g, (*ng + 1) * sizeof(**g));
		x = &(*g)[(*ng)++];
		memset(x, 0, sizeof(*x));
		snprintf(x->sub, sizeof(x->sub), "%s", sub);
		snprintf(x->addr, sizeof(x->addr), "%s", addr);
		snprintf(x->name, sizeof(x->name), "%s", name);
	}
	x->idx = xrealloc(x->idx, (x->n + 1) * sizeof(*x->idx));
	x->idx[x->n++] = i;
}

/*
 * The subscriber of certificate c and its addresses: a portal order's
 * contacts, or the mailto: contacts of the ACME account that ordered it.
 * A certificate of no order (`ca issue`) or of a vanished one has none;
 * only a store failure is an error.
 */
static int
contacts_of(struct store *st, const struct store_cert *c, struct cert *out,
    char sub[32], struct ra_rcpt *r)
{
	struct store_order o = {0};
	struct store_acme_account a = {0};
	json_t *j = NULL, *v;
	size_t i;
	int rc;

	memset(r, 0, sizeof(*r));
	sub[0] = '\0';
	if (c->order_id <= 0)
		return 0;
	rc = store_order_get(st, c->order_id, &o);
	if (rc != 0)
		return rc == RC_NOTFOUND ? 0 : rc;
	if (o.account_id > 0) {
		rc = store_acme_account_get(st, o.account_id, &a);
		if (rc == 0) {
			snprintf(sub, 32, "acme/%lld", (long long)a.id);
			j = json_loads(a.contact ? a.contact : "[]", 0, NULL);
			/* checked when stored (account.c): mailto: URLs of
			 * one plain address, no escapes */
			json_array_foreach(j, i, v) {
				const char *u = json_string_value(v);

				if (u != NULL && strncmp(u, "mailto:", 7) == 0)
					ra_rcpt_add(r, u + 7, NULL);
			}
		}
		rc = rc == RC_NOTFOUND ? 0 : rc;
	} else if (o.slot_id > 0 && o.details != NULL) {
		j = json_loads(o.details, 0, NULL);
		ra_order_rcpt(st, j, r);
		snprintf(sub, 32, "contract/%lld", (long long)o.contract_id);
		out->order_id = o.id;
	}
	json_decref(j);
	store_acme_account_clear(&a);
	store_order_clear(&o);
	return rc;
}

static void
time_text(time_t t, char *out, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%d %B %Y at %H:%M:%S UTC", &tm);
}

/* Queues one mail in the transaction. RC_EXISTS, the same notice queued
 * before (one address reporting one key twice within a second), counts
 * as queued. */
static int
mail(struct store *st, const char *to, const char *name, const char *subject,
    const char *text, const char *kind, const char *ref)
{
	char *body = xasprintf("Hello%s%s,\n\n%s\n-- \ncertdesk\n",
	    name[0] ? " " : "", name, text);
	/* due by the wall clock the mail worker delivers by, also when the
	 * ra's clock is pinned (tests) */
	int rc = store_mail_add(st, to, subject, body, kind, ref, time(NULL),
	    NULL);

	free(body);
	return rc == RC_EXISTS ? 0 : rc;
}

static int
mail_reporter(struct store *st, struct report *r, const struct cert *certs,
    size_t n, time_t when)
{
	char at[64], ref[96], subject[160];
	struct buf b;
	int e = 0;

	time_text(when, at, sizeof(at));
	buf_init(&b, STORE_MAX_JSON);
	e |= buf_printf(&b, "thank you for reporting a compromised private "
	    "key. This is our preliminary report on what we found (Baseline "
	    "Requirements 4.9.5).\n\nThe key: SHA-256 fingerprint of its "
	    "public key (SubjectPublicKeyInfo)\n%s\n\nYour proof, a "
	    "certificate signing request signed by this key, verified: "
	    "whoever sent it holds the key. We have blocked the key: we "
	    "will issue no certificate for it again.\n\n", r->hex);
	if (n == 0) {
		e |= buf_printf(&b, "We had issued no certificate of this key "
		    "that was still valid, so there was nothing to revoke "
		    "(checked on %s).\n", at);
	} else {
		e |= buf_printf(&b, "We revoked %zu certificate%s of this key "
		    "for keyCompromise on %s. Relying parties see this in our "
		    "CRLs and OCSP responses from now on. Serial number%s:"
		    "\n\n", n, n == 1 ? "" : "s", at, n == 1 ? "" : "s");
		for (size_t i = 0; i < n && i < LIST_MAX; i++)
			e |= buf_printf(&b, "  %s\n", certs[i].serial);
		if (n > LIST_MAX)
			e |= buf_printf(&b, "  and %zu more\n", n - LIST_MAX);
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
	snprintf(ref, sizeof(ref), "%s@%lld", r->hex, (long long)when);
	/* (a buffer overflow here would be a bug: the text is bounded) */
	e = e != 0 ? RC_TOOBIG : mail(st, r->reporter, "", subject,
	    (const char *)b.data, "key.report", ref);
	buf_free(&b);
	return e;
}

static int
mail_subscriber(struct store *st, struct report *r, const struct group *g,
    const struct cert *certs, time_t when)
{
	const char *base = r->ra->conf.portal_url ? r->ra->conf.portal_url :
	    "";
	const struct cert *c0 = &certs[g->idx[0]];
	char at[64], subject[400], first[256], *sp;
	int acme = strncmp(g->sub, "acme/", 5) == 0, e = 0;
	struct buf b;
	size_t i;

	time_text(when, at, sizeof(at));
	buf_init(&b, STORE_MAX_JSON);
	if (g->n == 1)
		e |= buf_printf(&b, "we have revoked your SSL certificate for "
		    "%s, because its private key is compromised.", c0->names);
	else
		e |= buf_printf(&b, "we have revoked %zu of your SSL "
		    "certificates, because their private key is compromised.",
		    g->n);
	e |= buf_printf(&b, " On %s someone reported the key to us and "
	    "proved that they hold it, by signing a request with it. A "
	    "certificate whose key others hold proves nothing about who runs "
	    "the website, so the Baseline Requirements for publicly-trusted "
	    "certificates (4.9.1.1) oblige us to revoke every certificate of "
	    "the key; this mail is our report to you (4.9.5).\n\n", at);
	/* the listing stays well under what the mail component sends
	 * (MAIL_MAX_BODY): a certificate names at most 100 names */
	for (i = 0; i < g->n && i < LIST_MAX && b.len < BODY_BUDGET; i++) {
		const struct cert *c = &certs[g->idx[i]];

		e |= buf_printf(&b, "Serial number: %s\nNames: %s\nRevoked: "
		    "%s, reason keyCompromise\n", c->serial, c->names, at);
		if (c->order_id > 0)
			e |= buf_printf(&b, "Overview: %s/portal/orders/%lld\n",
			    base, (long long)c->order_id);
		e |= buf_printf(&b, "\n");
	}
	if (i < g->n)
		e |= buf_printf(&b, "and %zu more certificates of the key.\n\n",
		    g->n - i);
	e |= buf_printf(&b, "The key: SHA-256 fingerprint of its public key "
	    "(SubjectPublicKeyInfo)\n%s\n\nBrowsers and other clients refuse "
	    "a revoked certificate: until you install a new one, visitors "
	    "of these names see a warning. What to do now:\n\n1. Make a new "
	    "private key. Do not use the old one again: we refuse it in "
	    "every request from now on.\n2. %s\n3. Install the new "
	    "certificate with its key, and remove the old key from every "
	    "server, backup and repository it was on. Find out how it "
	    "became known, so that the new one does not go the same way.\n",
	    r->hex, acme ? "Have your ACME client order a new certificate "
	    "with a new key (not the old one), for the names above." :
	    "Get a new certificate for the new key: open the overview above "
	    "and choose renew.");
	snprintf(first, sizeof(first), "%s", c0->names);
	if ((sp = strchr(first, ' ')) != NULL)
		*sp = '\0';
	if (g->n == 1)
		snprintf(subject, sizeof(subject), "Revoked: your SSL "
		    "certificate for %s (key compromised)", first);
	else
		snprintf(subject, sizeof(subject), "Revoked: %zu of your SSL "
		    "certificates (key compromised)", g->n);
	/* a serial is revoked once, and belongs to one subscriber: the
	 * first one names this mail */
	e = e != 0 ? RC_TOOBIG : mail(st, g->addr, g->name, subject,
	    (const char *)b.data, "key.revoked", c0->serial);
	buf_free(&b);
	return e;
}

static json_t *
serials_json(const struct cert *certs, const size_t *idx, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n && i < LIST_MAX; i++)
		json_array_append_new(a, json_string(certs[idx ? idx[i] :
		    i].serial));
	return a;
}

/*
 * ca_block_key's hook: in the transaction of the revocations, the
 * preliminary reports queued and audited. May run more than once (a
 * retried transaction): everything is computed anew.
 */
static int
report_tx(struct store *st, const struct ca_revoked *v, size_t n,
    time_t when, void *arg)
{
	struct report *r = arg;
	struct cert *certs = xcalloc(n ? n : 1, sizeof(*certs));
	struct group *g = NULL;
	size_t ng = 0, *none = xcalloc(n ? n : 1, sizeof(*none));
	json_t *det = NULL, *subs;
	char object[80], *text = NULL;
	int rc = 0;

	r->reporter_mailed = 0;
	r->mails = 0;
	r->no_contact = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct store_cert c = {0};
		struct ra_rcpt to;
		char sub[32];

		snprintf(certs[i].serial, sizeof(certs[i].serial), "%s",
		    v[i].serial);
		if ((rc = store_cert_get(st, v[i].serial, &c)) == 0) {
			certs[i].names = xstrdup(c.names ? c.names : "");
			rc = contacts_of(st, &c, &certs[i], sub, &to);
		}
		store_cert_clear(&c);
		if (rc != 0)
			break;
		for (size_t k = 0; k < to.n; k++)
			group_add(&g, &ng, sub, to.addr[k], to.name[k], i);
		if (to.n == 0)
			none[r->no_contact++] = i;
	}
	if (rc == 0 && r->reporter != NULL &&
	    (rc = mail_reporter(st, r, certs, n, when)) == 0)
		r->reporter_mailed = 1;
	for (size_t k = 0; k < ng && rc == 0; k++)
		if ((rc = mail_subscriber(st, r, &g[k], certs, when)) == 0)
			r->mails++;
	if (rc != 0)
		goto out;
	/* who was told about what, for the auditors of BR 4.9.5 */
	subs = json_array();
	for (size_t k = 0; k < ng && k < LIST_MAX; k++)
		json_array_append_new(subs, json_pack("{s:s,s:o}", "to",
		    g[k].addr, "serials", serials_json(certs, g[k].idx,
		    g[k].n)));
	det = json_pack("{s:s,s:s?,s:I,s:o,s:I,s:o,s:I}", "spki_sha256",
	    r->hex, "reporter", r->reporter, "revoked", (json_int_t)n,
	    "subscribers", subs, "subscriber_mails", (json_int_t)r->mails,
	    "no_contact", serials_json(certs, none, r->no_contact),
	    "no_contact_count", (json_int_t)r->no_contact);
	text = det ? json_dumps(det, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (text == NULL) {
		rc = RC_NOMEM;
		goto out;
	}
	snprintf(object, sizeof(object), "key:%s", r->hex);
	rc = store_audit_append(st, r->actor, "key.report.mail", object, text);
out:
	free(text);
	json_decref(det);
	for (size_t k = 0; k < ng; k++)
		free(g[k].idx);
	free(g);
	for (size_t i = 0; i < n; i++)
		free(certs[i].names);
	free(certs);
	free(none);
	return rc;
}

/* ---- the report ---------------------------------------------------------- */

int
ra_key_report(struct ra *ra, const uint8_t *csr, size_t len,
    const char *contact, const char *client_ip,
    struct ra_key_report_res *out, struct ra_err *err)
{
	struct rc_detail d = {{0}};
	struct report rep;
	struct ca_block_hook hook = {report_tx, &rep};
	uint8_t *spki = NULL, hash[SHA256_DIGEST_LENGTH];
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
	rep.ra = ra;
	rep.reporter = kind == RA_KEY_CONTACT_EMAIL ? contact : NULL;
	rep.actor = actor;
	SHA256(spki, spki_len, hash);
	hex_encode(hash, sizeof(hash), rep.hex);
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
	out->subscriber_mails = rep.mails;
	out->no_contact = rep.no_contact;
	log_warn(LOG_RA, "key compromise reported from %s: key blocked, %zu "
	    "certificate%s revoked; preliminary report queued for %s and %zu "
	    "subscriber address%s (%zu certificate%s without one)",
	    client_ip ? client_ip : "?", revoked, revoked == 1 ? "" : "s",
	    rep.reporter_mailed ? "the reporter" : "no reporter", rep.mails,
	    rep.mails == 1 ? "" : "es", rep.no_contact,
	    rep.no_contact == 1 ? "" : "s");
	return 0;
}
