/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mails a portal order sends to its contacts: "action needed" when it
 * waits for validation (saying how its names are being validated: on our
 * nameservers, by the mail sent to the hostmaster, or by the customer),
 * "issued" with the overview link, reminders 30 and 7 days before an
 * issued, unrevoked certificate expires, and "superseded" when a reissue
 * for other names schedules the revocation of the certificate it replaces
 * (in that transaction, audited). The ra only queues them in the store's
 * outbox (mail_outbox, kind + ref + recipient unique, so every notice goes
 * out once); the mail worker of `certdesk serve` delivers them. Runs
 * wherever the ra runs (serve, admin commands). Trusts the store; the
 * contact addresses were checked by the setup form, and are checked again
 * here and by the mail component before sending.
 * The recipient helpers (ra_int.h) serve the key compromise reports of
 * keyreport.c too.
 */
#include "ra/ra_int.h"
#include "ca/ca.h"
#include "store/store.h"
#include "util/log.h"
#include "util/xmalloc.h"

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

static void
day_text(time_t t, char *out, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%d %B %Y", &tm);
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

/* How the order's names are being validated (dv.c), for the "action"
 * mail: a paragraph per kind of method in use; new string (free()). */
static char *
dv_how(struct ra *ra, int64_t order_id)
{
	int64_t ids[CA_MAX_NAMES];
	size_t n = 0;
	int autodns = 0, own = 0;
	char to[320] = "";

	if (store_order_authz_list(ra->st, order_id, ids, CA_MAX_NAMES, &n) !=
	    0)
		return xstrdup("");
	for (size_t i = 0; i < n; i++) {
		struct store_dv v = {0};
		struct store_dv_token t = {0};

		if (store_dv_get(ra->st, ids[i], &v) == 0) {
			if (strcmp(v.method, "dns-auto") == 0)
				autodns = 1;
			else if (strcmp(v.method, "dns") == 0 ||
			    strcmp(v.method, "http") == 0)
				own = 1;
			else if (strcmp(v.method, "email") == 0 && !to[0] &&
			    store_dv_token_latest(ra->st, ids[i], &t, NULL) ==
			    0)
				snprintf(to, sizeof(to), "%s", t.email_to);
		}
		store_dv_token_clear(&t);
		store_dv_clear(&v);
	}
	return xasprintf("%s%s%s%s%s",
	    autodns ? "Your domain is on our nameservers: we confirm it "
	    "automatically with a temporary DNS record, which we remove "
	    "afterwards. Nothing to do for you.\n\n" : "",
	    to[0] ? "We sent a confirmation mail to " : "", to,
	    to[0] ? ": whoever reads that mailbox confirms the request with "
	    "the link in it. You can also add a DNS record or a file on your "
	    "website instead (see the overview).\n\n" : "",
	    own ? "Add the DNS record or the file shown on the overview, "
	    "then press Check now.\n\n" : "");
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
	char ref[24], kind[32], subject[400], until[40], first[256];
	char *text = NULL, *sp;
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
	snprintf(first, sizeof(first), "%s", o.names);
	if ((sp = strchr(first, ' ')) != NULL)
		*sp = '\0';
	snprintf(ref, sizeof(ref), "%lld", (long long)o.id);
	snprintf(kind, sizeof(kind), "portal.%s", what);
	if (strcmp(what, "action") == 0) {
		int org = strcmp(o.profile, "dv") != 0;
		char *how = dv_how(ra, o.id);

		snprintf(subject, sizeof(subject), "Action needed: confirm "
		    "the domain for your SSL certificate for %s", first);
		text = xasprintf("your SSL certificate for %s has been set "
		    "up. Before we can issue it, we need to confirm that you "
		    "control the domain%s.\n\nWhat to do next: open the "
		    "overview, which shows how to complete the validation and "
		    "refreshes itself until the certificate is ready:\n\n"
		    "%s/portal/orders/%lld\n\n%s%s"
		    "Keep the private key you downloaded in a safe place: we "
		    "do not have a copy and cannot recover it.\n", o.names,
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
		day_text(c.not_after, until, sizeof(until));
		snprintf(subject, sizeof(subject), "Your SSL certificate for "
		    "%s is ready", first);
		text = xasprintf("your SSL certificate for %s has been issued; "
		    "it is valid until %s.\n\nDownload the certificate and the "
		    "chain, and see how to install them on nginx or Apache, on "
		    "the overview:\n\n%s/portal/orders/%lld\n\nSerial number: "
		    "%s\n", o.names, until, base_url(ra), (long long)o.id,
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
	json_decref(det);
	store_cert_clear(&c);
	store_order_clear(&o);
	return rc;
}

/* The names of old (space-separated) that cur does not cover, as
 * "a, b"; new string (free()). */
static char *
uncovered_text(const char *old, const char *cur)
{
	char *v = xstrdup(old), *tok, *save = NULL, *out = xstrdup(""), *t;
	char name[256];

	for (tok = strtok_r(v, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if (!ra_names_uncovered(tok, cur, name, sizeof(name)))
			continue;
		t = xasprintf("%s%s%s", out, out[0] ? ", " : "", tok);
		free(out);
		out = t;
	}
	free(v);
	return out;
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
	char when[64], day[40], subject[400], first[256], object[56], *sp;
	char *text = NULL, *gone = NULL, *dj;
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
	ra_key_time_text(revoke_at, when, sizeof(when));
	day_text(revoke_at, day, sizeof(day));
	snprintf(first, sizeof(first), "%s", old->names);
	if ((sp = strchr(first, ' ')) != NULL)
		*sp = '\0';
	snprintf(subject, sizeof(subject), "Your SSL certificate for %s will "
	    "be revoked on %s", first, day);
	gone = uncovered_text(old->names, cur->names);
	text = xasprintf("your SSL certificate for %s will be revoked on %s "
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
	    "\nOverview: %s/portal/orders/%lld\n", old->names, when,
	    cur->names, gone, RA_REISSUE_GRACE / 3600, gone, base_url(ra),
	    (long long)new_order, old->serial, old->names, when, base_url(ra),
	    (long long)old->order_id);
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
			char kind[32], subject[400], until[40], first[256];
			char *text, *sp;
			long left = (long)((v[i].not_after - now) / 86400);

			if (store_order_get(ra->st, v[i].order_id, &o) != 0 ||
			    o.details == NULL ||
			    strcmp(o.cert_serial, v[i].serial) != 0) {
				store_order_clear(&o);
				continue;
			}
			det = json_loads(o.details, 0, NULL);
			ra_order_rcpt(ra->st, det, &r);
			snprintf(first, sizeof(first), "%s", o.names);
			if ((sp = strchr(first, ' ')) != NULL)
				*sp = '\0';
			day_text(v[i].not_after, until, sizeof(until));
			snprintf(kind, sizeof(kind), "portal.expiry%d",
			    days[k]);
			snprintf(subject, sizeof(subject), "Your SSL "
			    "certificate for %s expires in %ld day%s", first,
			    left, left == 1 ? "" : "s");
			text = xasprintf("your SSL certificate for %s expires "
			    "on %s. Renew it before then so that your website "
			    "stays reachable without warnings: open the "
			    "overview and choose renew.\n\n%s/portal/orders/"
			    "%lld\n\nSerial number: %s\n", o.names, until,
			    base_url(ra), (long long)o.id, v[i].serial);
			if (queue(ra, &r, kind, v[i].serial, subject, text,
			    queued) != 0)
				rc = RC_DB;
			free(text);
			json_decref(det);
			store_order_clear(&o);
		}
		free(v);
		if (rc != 0)
			break;
	}
	return rc;
}
