/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mails a portal order sends to its contacts: "action needed" when
 * the customer (or the domain's hostmaster) must do something for a name
 * to be confirmed: a mail went to the hostmaster, the customer places a
 * DNS record or a file, automatic validation on our nameservers failed,
 * CAA or DNSSEC stand in the way (never for names confirmed by reuse or
 * automatically, nor for an OV/EV order that waits for the back office
 * only); "issued" with the order's link; reminders 30 and 7 days before
 * an issued, unrevoked certificate expires; "superseded" when a reissue
 * for other names schedules the revocation of the certificate it
 * replaces; "rejected" when validation staff reject an OV/EV order,
 * "expired" when an order ends unvalidated, and "cancelled" when the
 * operator removed a domain it names from the contract (these four in
 * that transaction, audited). The ra only queues them in the store's outbox
 * (mail_outbox, kind + ref + recipient unique, so every notice goes out
 * once); the mail worker of `certdesk serve` delivers them. Every mail
 * greets its reader by name when one is known, names the order by its
 * domain (names joined with ", ", an IDN as its U-label with the A-label
 * in parentheses) and links the order's page. Runs wherever the ra runs
 * (serve, admin commands). Trusts the store; the contact addresses were
 * checked by the setup form, and are checked again here and by the mail
 * component before sending.
 * The recipient helpers (ra_int.h) serve the key compromise reports of
 * keyreport.c too.
 */
#include "ra/ra_int.h"
#include "ra/dv_int.h"
#include "ca/ca.h"
#include "store/store.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "util/xmalloc.h"

#include <idn2.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int
ra_mail_addr_ok(const char *a)
{
	const char *at;

	if (a == NULL || a[0] == '\0' || strlen(a) > 254)
		return 0;
	at = strchr(a, '@');
	if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@'))
		return 0;
	for (const char *p = a; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("\"<>(),;:\\[]", *p))
			return 0;
	return 1;
}

void
ra_rcpt_add(struct ra_rcpt *r, const char *addr, const char *name)
{
	if (!ra_mail_addr_ok(addr) || r->n == RA_MAX_RCPT)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (strcasecmp(r->addr[i], addr) == 0)
			return;
	snprintf(r->addr[r->n], sizeof(r->addr[0]), "%s", addr);
	snprintf(r->name[r->n], sizeof(r->name[0]), "%s",
	    name != NULL && name[0] && strpbrk(name, "\r\n") == NULL ?
	    name : "");
	r->n++;
}

void
ra_order_rcpt(struct store *st, json_t *det, struct ra_rcpt *r)
{
	struct store_user u = {0};
	json_int_t uid = json_integer_value(json_object_get(det, "user"));
	static const char *const who[] = {"tech", "admin"};

	memset(r, 0, sizeof(*r));
	if (uid > 0 && store_user_get(st, (int64_t)uid, &u) == 0)
		ra_rcpt_add(r, u.email, u.display_name);
	store_user_clear(&u);
	for (size_t i = 0; i < 2; i++) {
		json_t *c = json_object_get(det, who[i]);

		ra_rcpt_add(r, json_string_value(json_object_get(c, "email")),
		    json_string_value(json_object_get(c, "name")));
	}
}

/* One name as a mail shows it: an IDN as its U-label with the A-label in
 * parentheses ("bücher.example (xn--bcher-kva.example)"), or the U-label
 * alone with unicode_only (subjects); any other name as it is. */
static void
name_shown(const char *name, int unicode_only, char *out, size_t n)
{
	int wild = strncmp(name, "*.", 2) == 0;
	const char *base = name + (wild ? 2 : 0);
	char *u = NULL;

	if ((strncmp(base, "xn--", 4) == 0 || strstr(base, ".xn--") != NULL) &&
	    idn2_to_unicode_8z8z(base, &u, 0) == IDN2_OK && u != NULL &&
	    strcmp(u, base) != 0)
		snprintf(out, n, unicode_only ? "%s%s" : "%s%s (%s)",
		    wild ? "*." : "", u, name);
	else
		snprintf(out, n, "%s", name);
	idn2_free(u);
}

/* The names of names (space-separated) as a mail shows them, "a, b";
 * with cur, only those cur does not cover. New string (free()). */
static char *
names_text(const char *names, const char *cur)
{
	char *v = xstrdup(names != NULL ? names : ""), *tok, *save = NULL;
	char *out = xstrdup(""), *t, name[256], shown[600];

	for (tok = strtok_r(v, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if (cur != NULL &&
		    !ra_names_uncovered(tok, cur, name, sizeof(name)))
			continue;
		name_shown(tok, 0, shown, sizeof(shown));
		t = xasprintf("%s%s%s", out, out[0] ? ", " : "", shown);
		free(out);
		out = t;
	}
	free(v);
	return out;
}

char *
ra_mail_names(const char *names)
{
	return names_text(names, NULL);
}

void
ra_mail_first(const char *names, char *out, size_t n)
{
	char first[256];

	snprintf(first, sizeof(first), "%.*s", (int)strcspn(names != NULL ?
	    names : "", " "), names != NULL ? names : "");
	name_shown(first, 1, out, n);
}

int
ra_mail_add(struct store *st, const char *to, const char *name,
    const char *subject, const char *text, const char *kind, const char *ref)
{
	char *body = xasprintf("Hello%s%s,\n\n%s\n-- \ncertdesk\n",
	    name[0] ? " " : "", name, text);
	/* due by the wall clock the mail worker delivers by, also when the
	 * ra's clock is pinned (tests) */
	int rc = store_mail_add(st, to, subject, body, kind, ref, time(NULL),
	    NULL);

	free(body);
	return rc;
}

/* Queues one notice to every contact; a notice already queued for a
 * contact (same kind and ref) is not queued again. */
static int
queue(struct ra *ra, const struct ra_rcpt *r, const char *kind,
    const char *ref, const char *subject, const char *text, size_t *count)
{
	int rc = 0;

	for (size_t i = 0; i < r->n; i++) {
		int e = ra_mail_add(ra->st, r->addr[i], r->name[i], subject,
		    text, kind, ref);

		if (e == RC_EXISTS)
			continue;
		if (e != 0) {
			log_err(LOG_RA, "mail %s %s to %s: %s", kind, ref,
			    r->addr[i], rc_str(e));
			rc = e;
		} else {
			log_info(LOG_RA, "mail %s %s queued for %s", kind, ref,
			    r->addr[i]);
			if (count != NULL)
				(*count)++;
		}
	}
	return rc;
}

/* Why automatic validation failed, in a few words. */
static const char *
auto_why(const char *problem)
{
	if (strcmp(problem, "timeout") == 0)
		return "our nameservers did not publish the record in time";
	if (strcmp(problem, "dns_error") == 0)
		return "the record could not be placed or looked up";
	if (strcmp(problem, "not_hosted") == 0)
		return "the domain's zone is not set up for automatic "
		    "validation with us right now";
	return "our resolver did not see the record";
}

/* What name a of order o waits for, in the "action" mail's words (new
 * string); *act is 1 when the customer or their hostmaster must do
 * something for it. */
static char *
name_todo(struct ra *ra, const struct store_order *o,
    const struct store_authz *a, int *act)
{
	struct store_dv v = {0};
	int row = store_dv_get(ra->st, a->id, &v) == 0;
	const char *pb = row && v.problem != NULL ? v.problem : "";
	const char *m = row && v.method != NULL ? v.method : "";
	char to[320];
	char *t;

	*act = 1;
	if (strcmp(pb, "caa_forbidden") == 0 ||
	    strcmp(pb, "dnssec_bogus") == 0) {
		/* the customer's DNS stands in the way, whatever the method */
		t = xstrdup(v.message != NULL ? v.message : pb);
	} else if (strcmp(a->status, "valid") == 0) {
		*act = 0;
		t = xstrdup("already confirmed.");
	} else if (!row) {
		t = xstrdup("choose on your order how you want to confirm "
		    "it.");
	} else if (strcmp(m, "dns-auto") == 0 && pb[0] == '\0') {
		*act = 0;
		t = xstrdup("on our nameservers: we confirm it automatically, "
		    "there is nothing to do for you.");
	} else if (strcmp(m, "dns-auto") == 0) {
		t = xasprintf("we could not confirm it automatically with a "
		    "temporary DNS record on our nameservers (%s). We keep "
		    "trying; to finish sooner, confirm it yourself: choose "
		    "\"Use another method\" on your order (an email to an "
		    "administrative address of the domain, a DNS record or a "
		    "file on your website).", auto_why(pb));
	} else if (strcmp(m, "email") == 0) {
		ra_dv_email_to(ra, o, a, &v, to, sizeof(to));
		t = xasprintf("we sent a confirmation email to %s. Whoever "
		    "reads that mailbox confirms the request with the link in "
		    "it. If nobody does, choose \"Use another method\" on "
		    "your order: another administrative address of the "
		    "domain, a DNS record or a file on your website.", to);
	} else if (strcmp(m, "dns") == 0) {
		t = xstrdup("add the DNS TXT record shown on your order at "
		    "your DNS host, then press \"Check now\".");
	} else if (strcmp(m, "http") == 0) {
		t = xstrdup("place the file shown on your order on your "
		    "website, then press \"Check now\".");
	} else {
		*act = 0;
		t = xstrdup("being confirmed.");
	}
	store_dv_clear(&v);
	return t;
}

/* The "action" mail's paragraph per name (names with the same words
 * share one: "a, b: ..."), new string; *act when any name needs the
 * customer. */
static char *
action_text(struct ra *ra, const struct store_order *o, int *act)
{
	int64_t ids[CA_MAX_NAMES];
	char *names[CA_MAX_NAMES], *text[CA_MAX_NAMES], *out = xstrdup("");
	char shown[600], *t;
	size_t n = 0, k = 0;

	*act = 0;
	if (store_order_authz_list(ra->st, o->id, ids, CA_MAX_NAMES, &n) != 0)
		return out;
	for (size_t i = 0; i < n; i++) {
		struct store_authz a = {0};
		char *todo;
		size_t j;
		int act1 = 0;

		if (store_authz_get(ra->st, ids[i], &a) != 0)
			continue;
		todo = name_todo(ra, o, &a, &act1);
		*act |= act1;
		name_shown(a.identifier, 0, shown, sizeof(shown));
		store_authz_clear(&a);
		for (j = 0; j < k && strcmp(text[j], todo) != 0; j++)
			;
		if (j < k) {
			t = xasprintf("%s, %s", names[j], shown);
			free(names[j]);
			names[j] = t;
			free(todo);
		} else {
			names[k] = xstrdup(shown);
			text[k++] = todo;
		}
	}
	for (size_t j = 0; j < k; j++) {
		t = xasprintf("%s%s: %s\n\n", out, names[j], text[j]);
		free(out);
		out = t;
		free(names[j]);
		free(text[j]);
	}
	return out;
}

static const char *
base_url(const struct ra *ra)
{
	return ra->conf.portal_url != NULL ? ra->conf.portal_url : "";
}

int
ra_notify_order(struct ra *ra, int64_t order_id, const char *what)
{
	struct store_order o = {0};
	struct store_cert c = {0};
	struct ra_rcpt r;
	json_t *det = NULL;
	char ref[24], kind[32], subject[400], until[TIMEFMT_MAX], first[256];
	char *text = NULL, *names = NULL;
	int rc;

	if (ra == NULL || what == NULL)
		return RC_INVAL;
	rc = store_order_get(ra->st, order_id, &o);
	if (rc != 0)
		goto out;
	if (o.slot_id == 0 || o.details == NULL) {
		rc = RC_NOTFOUND;	/* not a portal order */
		goto out;
	}
	det = json_loads(o.details, 0, NULL);
	ra_order_rcpt(ra->st, det, &r);
	ra_mail_first(o.names, first, sizeof(first));
	names = ra_mail_names(o.names);
	snprintf(ref, sizeof(ref), "%lld", (long long)o.id);
	snprintf(kind, sizeof(kind), "portal.%s", what);
	if (strcmp(what, "action") == 0) {
		int org = strcmp(o.profile, "dv") != 0, act = 0;
		char *how;

		/* only while it waits, and only when someone must act */
		if (strcmp(o.status, "pending") != 0 ||
		    o.expires_at <= ra_now(ra))
			goto out;
		how = action_text(ra, &o, &act);
		if (!act) {
			free(how);
			goto out;
		}
		snprintf(subject, sizeof(subject), "Action needed: confirm "
		    "the domain for your SSL certificate for %s", first);
		text = xasprintf("Before we can issue your SSL certificate for "
		    "%s, we need to confirm that you control the domain%s.\n\n"
		    "What to do next: open your order, which shows how to "
		    "confirm each name:\n\n%s/portal/orders/%lld\n\n%s%s"
		    "Keep the private key of this certificate in a safe place: "
		    "we do not have a copy and cannot recover it.\n", names,
		    strchr(o.names, ' ') ? "s" : "", base_url(ra),
		    (long long)o.id, how, org ? "For this certificate we also "
		    "verify your organisation's details; our validation team "
		    "may contact the administrative contact by telephone.\n\n"
		    : "");
		free(how);
	} else if (strcmp(what, "issued") == 0) {
		rc = store_cert_get(ra->st, o.cert_serial, &c);
		if (rc != 0)
			goto out;
		timefmt_day(c.not_after, until);
		snprintf(subject, sizeof(subject), "Your SSL certificate for "
		    "%s is ready", first);
		text = xasprintf("Your SSL certificate for %s has been issued; "
		    "it is valid until %s.\n\nDownload the certificate and the "
		    "chain, and see how to install them on nginx or Apache, on "
		    "your order:\n\n%s/portal/orders/%lld\n\nSerial number: "
		    "%s\n", names, until, base_url(ra), (long long)o.id,
		    c.serial);
	} else {
		rc = RC_INVAL;
		goto out;
	}
	rc = queue(ra, &r, kind, ref, subject, text, NULL);
out:
	if (rc != 0 && rc != RC_NOTFOUND)
		log_err(LOG_RA, "notice %s for order %lld: %s", what,
		    (long long)order_id, rc_str(rc));
	free(text);
	free(names);
	json_decref(det);
	store_cert_clear(&c);
	store_order_clear(&o);
	return rc;
}

/* text with every line after the first indented by four spaces (staff's
 * reason, quoted in a mail); new string. */
static char *
indented(const char *text)
{
	char *out = xstrdup(""), *t;

	for (const char *p = text; *p != '\0'; ) {
		size_t n = strcspn(p, "\n");

		t = xasprintf("%s    %.*s\n", out, (int)n, p);
		free(out);
		out = t;
		p += n;
		if (*p == '\n')
			p++;
	}
	return out;
}

/* What order o (in the transaction on st) lacked when it expired, in
 * words ("the domain a.example was not confirmed and your organisation's
 * details were not verified"); new string. */
static char *
expired_why(struct store *st, const struct store_order *o)
{
	struct store_org_case oc = {0};
	int64_t ids[CA_MAX_NAMES];
	size_t n = 0, k = 0;
	char *left = xstrdup(""), *t, shown[600];
	int org = 0;

	if (store_order_authz_list(st, o->id, ids, CA_MAX_NAMES, &n) != 0)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		struct store_authz a = {0};

		if (store_authz_get(st, ids[i], &a) == 0 &&
		    strcmp(a.status, "valid") != 0) {
			name_shown(a.identifier, 0, shown, sizeof(shown));
			t = xasprintf("%s%s%s", left, k++ ? ", " : "", shown);
			free(left);
			left = t;
		}
		store_authz_clear(&a);
	}
	/* the case was closed with the order (ra_org_case_expire): it
	 * counts as verified only when it was approved */
	if (strcmp(o->profile, "dv") != 0)
		org = store_org_case_by_order(st, o->id, &oc) != 0 ||
		    strcmp(oc.state, "approved") != 0;
	store_org_case_clear(&oc);
	/* every name: the order named them just before */
	if (k == n) {
		free(left);
		left = xstrdup("");
	}
	t = xasprintf("%s%s%s%s%s%s", k ? (k > 1 ? "the domains" :
	    "the domain") : "", k && k < n ? " " : "", left, k ? (k > 1 ?
	    " were not confirmed" : " was not confirmed") : "", k && org ?
	    " and " : "", org ? "your organisation's details were not "
	    "verified" : !k ? "it could not be issued" : "");
	free(left);
	return t;
}

/* ra_notify_ended(), and with domain (reason NULL) ra_notify_cancelled(). */
static int
ended(struct ra *ra, struct store *st, int64_t order_id, const char *reason,
    const char *domain)
{
	struct store_order o = {0};
	struct store_cert prev = {0};
	struct ra_rcpt r;
	json_t *det = NULL, *to = json_array(), *d = NULL;
	const char *kind = domain != NULL ? "portal.cancelled" : reason !=
	    NULL ? "portal.rejected" : "portal.expired";
	char first[256], subject[400], object[48], ref[24], held[41] = "";
	char day[TIMEFMT_MAX], *dj = NULL, *names = NULL, *why = NULL;
	char *keep = NULL;
	char *text = NULL;
	time_t now;
	long days;
	int rc;

	if (ra == NULL || st == NULL) {
		json_decref(to);
		return RC_INVAL;
	}
	now = ra_now(ra);
	rc = store_order_get(st, order_id, &o);
	if (rc == RC_NOTFOUND)
		rc = 0;
	if (rc != 0 || o.slot_id == 0 || o.details == NULL)
		goto out;	/* not a portal order: nobody to tell */
	det = json_loads(o.details, 0, NULL);
	ra_order_rcpt(st, det, &r);
	ra_mail_first(o.names, first, sizeof(first));
	names = ra_mail_names(o.names);
	/* a renewal that failed leaves the slot's certificate as it was */
	if (store_slot_prev_cert(st, o.id, held) == 0 &&
	    store_cert_get(st, held, &prev) == 0 && !prev.revoked &&
	    prev.not_after > now) {
		char *pn = ra_mail_names(prev.names);

		timefmt_day(prev.not_after, day);
		keep = xasprintf("Your current certificate for %s is not "
		    "affected: it stays valid until %s.\n\n", pn, day);
		free(pn);
	}
	if (domain != NULL) {
		char shown[600];

		name_shown(domain, 0, shown, sizeof(shown));
		snprintf(subject, sizeof(subject), "Your SSL certificate order "
		    "for %s was cancelled", first);
		text = xasprintf("Your order of an SSL certificate for %s was "
		    "cancelled: %s is no longer a domain of your contract "
		    "with us, so the certificate will not be issued, and what "
		    "was confirmed for it no longer counts for new orders.\n\n"
		    "If you think this is a mistake, contact us and name the "
		    "domain.\n\n%sThe order:\n\n%s/portal/orders/%lld\n",
		    names, shown, keep != NULL ? keep : "", base_url(ra),
		    (long long)o.id);
	} else if (reason != NULL) {
		why = indented(reason);
		snprintf(subject, sizeof(subject), "Your SSL certificate for "
		    "%s was not issued: organisation validation failed",
		    first);
		text = xasprintf("Your order of an SSL certificate for %s was "
		    "rejected: our validation team could not verify your "
		    "organisation, so the certificate will not be issued. The "
		    "reason they gave:\n\n%s\nWhat you can do next: if the "
		    "organisation details you gave were incomplete or out of "
		    "date, set up the certificate again with the details "
		    "exactly as the official register has them (legal name, "
		    "address, registration number), from your SSL "
		    "certificates:\n\n%s/portal/\n\nOur validation team "
		    "checks them anew. If you think the decision is wrong, "
		    "contact us and name the domain of this order.\n\n%sThe "
		    "order:\n\n%s/portal/orders/%lld\n", names, why,
		    base_url(ra), keep != NULL ? keep : "", base_url(ra),
		    (long long)o.id);
	} else {
		why = expired_why(st, &o);
		days = (long)((o.expires_at - o.created_at + 43200) / 86400);
		snprintf(subject, sizeof(subject), "Your SSL certificate order "
		    "for %s has expired", first);
		text = xasprintf("Your order of an SSL certificate for %s has "
		    "ended without a certificate: within the %ld day%s an "
		    "order waits for its validation, %s.\n\nWhat you can do "
		    "next: set up the certificate again, with a new key, from "
		    "your SSL certificates:\n\n%s/portal/\n\nThen confirm the "
		    "domain the way the new order's page shows; what was "
		    "validated counts for it too.\n\n%sThe order:\n\n"
		    "%s/portal/orders/%lld\n", names, days, days == 1 ? "" :
		    "s", why, base_url(ra), keep != NULL ? keep : "",
		    base_url(ra), (long long)o.id);
	}
	snprintf(ref, sizeof(ref), "%lld", (long long)o.id);
	for (size_t i = 0; i < r.n && rc == 0; i++) {
		/* once per order and address: a notice queued before
		 * counts */
		rc = ra_mail_add(st, r.addr[i], r.name[i], subject, text, kind,
		    ref);
		if (rc == RC_EXISTS)
			rc = 0;
		if (rc == 0)
			json_array_append_new(to, json_string(r.addr[i]));
	}
	if (rc != 0) {
		log_err(LOG_RA, "mail %s %lld: %s", kind, (long long)o.id,
		    rc_str(rc));
		goto out;
	}
	/* who was told what, for the auditors */
	d = json_pack("{s:I, s:O}", "order", (json_int_t)o.id, "to", to);
	if (d != NULL && reason != NULL)
		json_object_set_new(d, "reason", json_string(reason));
	if (d != NULL && domain != NULL)
		json_object_set_new(d, "domain", json_string(domain));
	dj = d != NULL ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (dj == NULL) {
		rc = RC_NOMEM;
		goto out;
	}
	snprintf(object, sizeof(object), "order:%lld", (long long)o.id);
	rc = store_audit_append(st, "system", domain != NULL ?
	    "portal.order.cancelled.mail" : reason != NULL ?
	    "portal.order.rejected.mail" : "portal.order.expired.mail", object,
	    dj);
	if (rc == 0)
		log_info(LOG_RA, "mail %s %lld queued for %zu contact(s)",
		    kind, (long long)o.id, json_array_size(to));
out:
	free(dj);
	free(text);
	free(why);
	free(keep);
	free(names);
	json_decref(d);
	json_decref(det);
	json_decref(to);
	store_cert_clear(&prev);
	store_order_clear(&o);
	return rc;
}

int
ra_notify_ended(struct ra *ra, struct store *st, int64_t order_id,
    const char *reason)
{
	return ended(ra, st, order_id, reason, NULL);
}

int
ra_notify_cancelled(struct ra *ra, struct store *st, int64_t order_id,
    const char *domain)
{
	if (domain == NULL)
		return RC_INVAL;
	return ended(ra, st, order_id, NULL, domain);
}

/* The contacts of order id into r (none when it has no details). */
static int
order_rcpt(struct store *st, int64_t id, struct ra_rcpt *r)
{
	struct store_order o = {0};
	json_t *det = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = store_order_get(st, id, &o);
	if (rc == 0 && o.details != NULL) {
		det = json_loads(o.details, 0, NULL);
		ra_order_rcpt(st, det, r);
	}
	json_decref(det);
	store_order_clear(&o);
	return rc == RC_NOTFOUND ? 0 : rc;
}

int
ra_notify_superseded(struct ra *ra, struct store *st,
    const struct store_cert *old, const struct store_cert *cur,
    int64_t new_order, time_t revoke_at)
{
	struct ra_rcpt r[2];
	char when[TIMEFMT_MAX], day[TIMEFMT_MAX], subject[400], first[256];
	char object[56];
	char *text = NULL, *gone = NULL, *dj, *oldn = NULL, *curn = NULL;
	json_t *to = json_array(), *d;
	int rc;

	if (ra == NULL || st == NULL || old == NULL || cur == NULL) {
		json_decref(to);
		return RC_INVAL;
	}
	/* who had the old one installed, then who ordered the new one */
	rc = order_rcpt(st, old->order_id, &r[0]);
	if (rc == 0)
		rc = order_rcpt(st, new_order, &r[1]);
	if (rc != 0)
		goto out;
	timefmt_time(revoke_at, when);
	timefmt_day(revoke_at, day);
	ra_mail_first(old->names, first, sizeof(first));
	snprintf(subject, sizeof(subject), "Your SSL certificate for %s will "
	    "be revoked on %s", first, day);
	gone = names_text(old->names, cur->names);
	oldn = ra_mail_names(old->names);
	curn = ra_mail_names(cur->names);
	text = xasprintf("Your SSL certificate for %s will be revoked on %s "
	    "(reason: superseded).\n\nWhy: it was replaced by the certificate "
	    "for %s, issued from the same certificate slot with \"Renew or "
	    "reissue\", which does not cover %s. A slot holds one "
	    "certificate, so the one it replaces is revoked %d hours after "
	    "the new one is issued.\n\nWhat to do: install the new "
	    "certificate in place of the old one before then. Once the old "
	    "one is revoked, browsers refuse it: visitors of %s then see a "
	    "warning unless another certificate serves them. The new "
	    "certificate, its downloads and how to install it:\n\n"
	    "%s/portal/orders/%lld\n\nThe certificate that will be revoked:"
	    "\nSerial number: %s\nNames: %s\nRevocation: %s, superseded"
	    "\nIts order: %s/portal/orders/%lld\n", oldn, when, curn, gone,
	    RA_REISSUE_GRACE / 3600, gone, base_url(ra), (long long)new_order,
	    old->serial, oldn, when, base_url(ra), (long long)old->order_id);
	for (size_t i = 0; i < 2 && rc == 0; i++)
		for (size_t k = 0; k < r[i].n && rc == 0; k++) {
			int dup = 0;

			for (size_t j = 0; i == 1 && j < r[0].n; j++)
				dup |= strcasecmp(r[0].addr[j],
				    r[1].addr[k]) == 0;
			if (dup)
				continue;
			/* once per certificate and address: a notice
			 * queued before counts */
			rc = ra_mail_add(st, r[i].addr[k], r[i].name[k],
			    subject, text, "portal.superseded", old->serial);
			if (rc == RC_EXISTS)
				rc = 0;
			if (rc == 0)
				json_array_append_new(to,
				    json_string(r[i].addr[k]));
		}
	if (rc != 0) {
		log_err(LOG_RA, "mail portal.superseded %s: %s", old->serial,
		    rc_str(rc));
		goto out;
	}
	/* who was told what, for the auditors */
	d = json_pack("{s:I, s:I, s:s, s:I, s:O}", "order",
	    (json_int_t)old->order_id, "by_order", (json_int_t)new_order,
	    "by", cur->serial, "revoke_at", (json_int_t)revoke_at, "to", to);
	dj = d != NULL ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(d);
	if (dj == NULL) {
		rc = RC_NOMEM;
		goto out;
	}
	snprintf(object, sizeof(object), "cert:%s", old->serial);
	rc = store_audit_append(st, "system", "portal.cert.superseded.mail",
	    object, dj);
	free(dj);
	if (rc == 0)
		log_info(LOG_RA, "mail portal.superseded %s queued for %zu "
		    "contact(s)", old->serial, json_array_size(to));
out:
	free(text);
	free(gone);
	free(oldn);
	free(curn);
	json_decref(to);
	return rc;
}

int
ra_mail_reminders(struct ra *ra, size_t *queued)
{
	static const int days[] = {7, 30};	/* the nearer one first */
	time_t now;
	int rc = 0;

	if (queued != NULL)
		*queued = 0;
	if (ra == NULL)
		return RC_INVAL;
	now = ra_now(ra);
	for (size_t k = 0; k < 2; k++) {
		struct store_expiring *v = NULL;
		size_t n = 0;

		/* expiring within `days` (and later than the nearer
		 * reminder's window, which sends its own) */
		rc = store_cert_expiring(ra->st, k == 0 ? now : now +
		    7 * 86400L, now + days[k] * 86400L, &v, &n);
		if (rc != 0)
			return rc;
		for (size_t i = 0; i < n; i++) {
			struct store_order o = {0};
			json_t *det = NULL;
			struct ra_rcpt r;
			char kind[32], subject[400], until[TIMEFMT_MAX];
			char first[256];
			char *text, *names;
			long left = (long)((v[i].not_after - now) / 86400);

			if (store_order_get(ra->st, v[i].order_id, &o) != 0 ||
			    o.details == NULL ||
			    strcmp(o.cert_serial, v[i].serial) != 0) {
				store_order_clear(&o);
				continue;
			}
			det = json_loads(o.details, 0, NULL);
			ra_order_rcpt(ra->st, det, &r);
			ra_mail_first(o.names, first, sizeof(first));
			names = ra_mail_names(o.names);
			timefmt_day(v[i].not_after, until);
			snprintf(kind, sizeof(kind), "portal.expiry%d",
			    days[k]);
			snprintf(subject, sizeof(subject), "Your SSL "
			    "certificate for %s expires in %ld day%s", first,
			    left, left == 1 ? "" : "s");
			text = xasprintf("Your SSL certificate for %s expires "
			    "on %s. Renew it before then so that your website "
			    "stays reachable without warnings: open your "
			    "order and choose \"Renew or reissue with a new "
			    "key\".\n\n%s/portal/orders/%lld\n\nSerial "
			    "number: %s\n", names, until, base_url(ra),
			    (long long)o.id, v[i].serial);
			if (queue(ra, &r, kind, v[i].serial, subject, text,
			    queued) != 0)
				rc = RC_DB;
			free(text);
			free(names);
			json_decref(det);
			store_order_clear(&o);
		}
		free(v);
		if (rc != 0)
			break;
	}
	return rc;
}
