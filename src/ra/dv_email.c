/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Email validation of portal orders (BR 3.2.2.4.4): a mail to a constructed
 * address (admin@, administrator@, webmaster@, hostmaster@ or postmaster@
 * the Authorization Domain Name) carrying a link with a random token of 192
 * bits. The token is in the mail only; the store keeps its SHA-256, and a
 * lookup compares the hash in constant time. A link is single-use, expires
 * after dv.email_token_days (at most 30, DESIGN.md), and a resend replaces
 * it (rate-limited: dv.email_resend_minutes between sends, at most
 * dv.email_max_sends per name). GET of the link's page only shows what is
 * being confirmed (ra_dv_email_lookup); the POST confirms
 * (ra_dv_email_confirm), so mail scanners that follow links confirm
 * nothing. Confirming validates the Authorization Domain Name, so every
 * pending name of the order under it that waits for the same address
 * becomes valid with it (one mail for example.com and www.example.com).
 * The link belongs to one of those names; when that one moves to another
 * address or method, the link is handed to a name still waiting for it
 * (store_dv_token_hand), so it confirms those and no longer the one that
 * moved. A link no name waits for any more is retired.
 *
 * The method's dates come from the policy calendar (ca_cal_method_status):
 * a publicly-trusted CA offers it with a warning until 2028-03-15 and
 * refuses it from then on; a private PKI may keep it.
 *
 * Mail goes through the store's outbox (kind "validation.email"); the mail
 * worker delivers it. A permanent SMTP failure (a 5xx reply: the worker
 * marks the mail bounced) shows as problem "mail_bounced". Once the mail
 * has left through an SMTP server, the outbox keeps its text without the
 * token (ra_dv_email_mask), and the admin's page never shows it.
 *
 * Runs in the main certdesk process on portal request threads and the DV
 * worker. Tokens come from links anyone may hold: they are checked for
 * form and length before any lookup.
 */
#include "ra/dv_int.h"
#include "ca/ca.h"
#include "store/store.h"
#include "util/dnsname.h"
#include "util/log.h"
#include "util/sec.h"
#include "util/timefmt.h"
#include "util/xmalloc.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEF_TOKEN_DAYS 30
#define DEF_RESEND_S 600
#define DEF_MAX_SENDS 5

/* ---- policy -------------------------------------------------------------- */

int
ra_dv_email_allowed(struct ra *ra, char *warning, size_t n)
{
	time_t now = ra_now(ra), ends = 0;
	int st = ca_cal_method_status(CA_CAL_EMAIL_CONSTRUCTED, now, &ends);
	char day[TIMEFMT_MAX] = "";

	if (warning != NULL && n > 0)
		warning[0] = '\0';
	if (ra->conf.dv_email_off)
		return 0;
	if (ends != 0)
		timefmt_day(ends, day);
	if (ra->conf.trust_private)
		return 1;	/* a private PKI may keep the method */
	if (st == CA_CAL_METHOD_ENDED)
		return 0;
	if (warning != NULL && n > 0 && ends != 0)
		snprintf(warning, n, "Email validation ends on %s: "
		    "certificates ordered after that date must be validated "
		    "through DNS or a file on your website. Consider adding "
		    "the DNS record instead.", day);
	return 1;
}

int
ra_dv_email_local_ok(const char *local)
{
	static const char *const ok[] = {"admin", "administrator",
		"webmaster", "hostmaster", "postmaster", NULL};

	for (size_t i = 0; local != NULL && ok[i] != NULL; i++)
		if (strcmp(local, ok[i]) == 0)
			return 1;
	return 0;
}

static int
token_days(const struct ra *ra)
{
	int d = ra->conf.dv_email_token_days;

	return d <= 0 || d > 30 ? DEF_TOKEN_DAYS : d;
}

static long
resend_s(const struct ra *ra)
{
	long s = ra->conf.dv_email_resend_s;

	return s == 0 ? DEF_RESEND_S : s < 0 ? 0 : s;
}

static int
max_sends(const struct ra *ra)
{
	return ra->conf.dv_email_max_sends > 0 ? ra->conf.dv_email_max_sends :
	    DEF_MAX_SENDS;
}

int
ra_dv_adn_ok(const char *name, const char *adn)
{
	const char *reg;
	size_t n, k;

	if (name == NULL || adn == NULL)
		return 0;
	reg = dnsname_registered(name);
	n = strlen(name);
	k = strlen(adn);
	/* a suffix of name at a label boundary, not shorter than the
	 * registered domain (reg points into name: then it ends with it) */
	return k > 0 && k <= n && k >= strlen(reg) &&
	    strcmp(name + n - k, adn) == 0 && (k == n || name[n - k - 1] ==
	    '.');
}

/* The Authorization Domain Name the first mail goes to: the contract's
 * domain that holds name, else name without a leading "www." unless what
 * is left is a public suffix ("www.co.uk" is a registered domain of its
 * own: hostmaster@co.uk is nobody the BR mean). A contract's domain that
 * is no Authorization Domain Name of name (a public suffix an admin
 * added) is not used. */
static void
adn_of(struct ra *ra, int64_t contract_id, const char *name, char *out,
    size_t n)
{
	const char *rest = name + 4;
	int hosted = 0;

	if (store_dv_domain_of(ra->st, contract_id, name, &hosted, out, n) ==
	    0 && out[0] != '\0' && ra_dv_adn_ok(name, out))
		return;
	if (strncmp(name, "www.", 4) == 0 && strchr(rest, '.') != NULL &&
	    (dnsname_registered(rest) != rest || dnsname_is_registered(rest)))
		snprintf(out, n, "%s", rest);
	else
		snprintf(out, n, "%s", name);
}

size_t
ra_dv_email_adns(struct ra *ra, int64_t contract_id, const char *name,
    char out[][256], size_t max)
{
	const char *reg, *at[DNSNAME_BUF / 2 + 1];
	size_t k = 0, m = 0;

	if (max == 0)
		return 0;
	adn_of(ra, contract_id, name, out[k++], 256);
	reg = dnsname_registered(name);
	/* every suffix from the name down to the registered domain ... */
	for (const char *p = name;; p++) {
		at[m++] = p;
		if (p >= reg || m == sizeof(at) / sizeof(at[0]) ||
		    (p = strchr(p, '.')) == NULL)
			break;
	}
	/* ... shortest first, after the one the first mail used */
	while (m > 0 && k < max) {
		const char *d = at[--m];

		if (strlen(d) < 256 && strcmp(d, out[0]) != 0 &&
		    ra_dv_adn_ok(name, d))
			snprintf(out[k++], 256, "%s", d);
	}
	return k;
}

static int
hash_token(const char *token, uint8_t out[STORE_HASH_LEN])
{
	unsigned int len = 0;

	if (EVP_Digest(token, strlen(token), out, &len, EVP_sha256(), NULL) !=
	    1 || len != STORE_HASH_LEN)
		return RC_CRYPTO;
	return 0;
}

static void
hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static const char *
product_text(const char *product)
{
	if (strcmp(product, "starter") == 0)
		return "SSL Starter";
	if (strcmp(product, "business") == 0)
		return "SSL Business";
	if (strcmp(product, "business_wildcard") == 0)
		return "SSL Business Wildcard";
	if (strcmp(product, "premium") == 0)
		return "SSL Premium";
	if (strcmp(product, "unlimited") == 0)
		return "SSL Unlimited";
	return product;
}

struct first {
	char name[200];
	int found;
};

static int
first_row(const struct store_row *r, void *arg)
{
	struct first *f = arg;

	if (!f->found)
		snprintf(f->name, sizeof(f->name), "%s", r->name ? r->name :
		    "");
	f->found = 1;
	return 0;
}

/* Who asks: the customer's name and the slot's product. */
static void
who_asks(struct ra *ra, const struct store_order *o, char *customer,
    size_t cn, char *product, size_t pn)
{
	struct store_contract k = {0};
	struct store_slot s = {0};
	struct first f = {"", 0};

	snprintf(customer, cn, "a customer");
	snprintf(product, pn, "certificate");
	if (store_contract_get(ra->st, o->contract_id, &k) == 0 &&
	    store_list(ra->st, "customers", k.customer_id, first_row, &f) ==
	    0 && f.found)
		snprintf(customer, cn, "%s", f.name);
	if (store_slot_get(ra->st, o->slot_id, &s) == 0)
		snprintf(product, pn, "%s", s.product);
	store_slot_clear(&s);
	store_contract_clear(&k);
}

/* ---- the token out of the outbox ---------------------------------------- */

char *
ra_dv_email_mask(const char *kind, const char *body, const char *marker)
{
	static const char link[] = "/confirm/";
	const char *p, *at;
	FILE *f;
	char *out = NULL;
	size_t n = 0, found = 0;

	if (kind == NULL || strcmp(kind, "validation.email") != 0 ||
	    body == NULL || marker == NULL)
		return NULL;
	f = open_memstream(&out, &n);
	if (f == NULL)
		return NULL;
	for (p = body; (at = strstr(p, link)) != NULL; ) {
		size_t k;

		/* the token: base64url (ra_dv_random) */
		at += strlen(link);
		k = strspn(at, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_");
		fwrite(p, 1, (size_t)(at - p), f);
		if (k > 0) {
			fputs(marker, f);
			found++;
		}
		p = at + k;
	}
	fputs(p, f);
	if (fclose(f) != 0 || found == 0) {
		if (out != NULL)
			sec_wipe(out, n);
		free(out);
		return NULL;
	}
	return out;
}

/* ---- sending ------------------------------------------------------------- */

/* 1 when the mail failed for good: the mail worker marks a mail bounced
 * on a 5xx reply of the SMTP server (permanent, RFC 5321 §4.2.1). */
static int
mail_bounced(struct ra *ra, int64_t mail_id)
{
	struct store_mail *m = NULL;
	int bounced;

	if (mail_id <= 0 || store_mail_get(ra->st, mail_id, &m) != 0)
		return 0;
	bounced = m->sent_at == 0 && m->bounced_at != 0;
	store_mail_list_free(m, 1);
	return bounced;
}

/* 1 when another name of the order has a pending link to address to. */
static int
sibling_pending(struct ra *ra, const struct store_order *o,
    const struct store_authz *a, const char *to)
{
	int64_t ids[CA_MAX_NAMES];
	size_t n = 0;
	int found = 0;

	if (store_order_authz_list(ra->st, o->id, ids, CA_MAX_NAMES, &n) != 0)
		return 0;
	for (size_t i = 0; !found && i < n; i++) {
		struct store_dv_token t = {0};

		if (ids[i] != a->id &&
		    store_dv_token_latest(ra->st, ids[i], &t, NULL) == 0 &&
		    strcmp(t.state, "pending") == 0 &&
		    t.expires_at > ra_now(ra) && strcmp(t.email_to, to) == 0)
			found = 1;
		store_dv_token_clear(&t);
	}
	return found;
}

/* The row's method becomes email to local@ (no mail of its own). */
static int
set_email(struct ra *ra, const struct store_authz *a, const char *local)
{
	struct store_dv v = {0};
	int rc = store_dv_get(ra->st, a->id, &v);

	if (rc == 0) {
		free(v.method);
		v.method = xstrdup("email");
		free(v.email_local);
		v.email_local = xstrdup(local);
		v.next_check_at = a->expires_at;
		rc = store_dv_update(ra->st, &v, ra_now(ra));
	}
	store_dv_clear(&v);
	return rc;
}

/* The address name a's confirmation mail goes to now: that of its own
 * newest link (the customer may have chosen another Authorization Domain
 * Name), else local@ the one the first mail used (a name that shares the
 * link of another name of the order has none of its own). */
static void
current_to(struct ra *ra, int64_t contract_id, const struct store_authz *a,
    const char *local, char *to, size_t n)
{
	struct store_dv_token t = {0};
	char adn[256];

	if (store_dv_token_latest(ra->st, a->id, &t, NULL) == 0 &&
	    t.email_to[0] != '\0') {
		snprintf(to, n, "%s", t.email_to);
	} else {
		adn_of(ra, contract_id, a->identifier, adn, sizeof(adn));
		snprintf(to, n, "%s@%s", local != NULL ? local : "hostmaster",
		    adn);
	}
	store_dv_token_clear(&t);
}

int64_t
ra_dv_email_waiter(struct ra *ra, const struct store_order *o,
    const struct store_authz *a, int64_t *token_id)
{
	struct store_dv_token t = {0};
	int64_t ids[CA_MAX_NAMES], waiter = 0;
	size_t n = 0;

	if (token_id != NULL)
		*token_id = 0;
	if (store_dv_token_latest(ra->st, a->id, &t, NULL) != 0 ||
	    strcmp(t.state, "pending") != 0 ||
	    store_order_authz_list(ra->st, o->id, ids, CA_MAX_NAMES, &n) != 0)
		n = 0;
	for (size_t i = 0; i < n && waiter == 0; i++) {
		struct store_authz b = {0};
		struct store_dv v = {0};
		struct store_dv_token own = {0};
		char to[320];

		/* a pending name by email with no link of its own, waiting
		 * for the same address */
		if (ids[i] != a->id && store_authz_get(ra->st, ids[i], &b) ==
		    0 && strcmp(b.status, "pending") == 0 &&
		    store_dv_get(ra->st, b.id, &v) == 0 &&
		    strcmp(v.method, "email") == 0 &&
		    store_dv_token_latest(ra->st, b.id, &own, NULL) ==
		    RC_NOTFOUND) {
			current_to(ra, o->contract_id, &b, v.email_local, to,
			    sizeof(to));
			if (strcmp(to, t.email_to) == 0)
				waiter = b.id;
		}
		store_dv_token_clear(&own);
		store_dv_clear(&v);
		store_authz_clear(&b);
	}
	if (waiter != 0 && token_id != NULL)
		*token_id = t.id;
	store_dv_token_clear(&t);
	return waiter;
}

void
ra_dv_email_to(struct ra *ra, const struct store_order *o,
    const struct store_authz *a, const struct store_dv *v, char *to,
    size_t n)
{
	current_to(ra, o->contract_id, a, v->email_local, to, n);
}

struct send {
	struct ra *ra;
	const struct store_authz *a;
	const char *to, *subject, *body, *local, *actor;
	char ref[48];
	struct store_dv_token t;
	int64_t keep, waiter;	/* the old link, and the name it goes to */
	json_t *audit;
};

static int
send_tx(struct store *st, void *arg)
{
	struct send *s = arg;
	struct store_dv v = {0};
	time_t now = ra_now(s->ra);
	int64_t mail_id = 0;
	int rc;

	/* before the new link retires the name's pending ones */
	if (s->keep > 0) {
		rc = store_dv_token_hand(st, s->keep, s->waiter);
		if (rc != 0 && rc != RC_STATE)	/* RC_STATE: used meanwhile */
			return rc;
	}
	/* due by the wall clock the mail worker delivers by */
	rc = store_mail_add(st, s->to, s->subject, s->body,
	    "validation.email", s->ref, time(NULL), &mail_id);
	if (rc != 0)
		return rc;
	s->t.mail_id = mail_id;
	rc = store_dv_token_add(st, &s->t, NULL);
	if (rc == 0)
		rc = store_dv_get(st, s->a->id, &v);
	if (rc == 0) {
		free(v.method);
		v.method = xstrdup("email");
		free(v.email_local);
		v.email_local = xstrdup(s->local);
		free(v.problem);
		free(v.message);
		v.problem = v.message = NULL;
		free(v.stage);
		v.stage = xstrdup("idle");
		v.next_check_at = s->a->expires_at;	/* expiry only */
		rc = store_dv_update(st, &v, now);
	}
	store_dv_clear(&v);
	if (rc == 0) {
		char object[48], *text = ra_dv_dump(s->audit);

		snprintf(object, sizeof(object), "authz:%lld",
		    (long long)s->a->id);
		rc = store_audit_append(st, s->actor, "validation.email.sent",
		    object, text);
		free(text);
	}
	return rc;
}

int
ra_dv_email_send(struct ra *ra, const struct store_order *o,
    const struct store_authz *a, const char *local, const char *adn_in,
    const char *actor, int initial, struct ra_err *err)
{
	struct store_dv_token last = {0};
	struct send s;
	char token[64], adn[256], to[320], subject[400], customer[200];
	char product[24], until[TIMEFMT_MAX], hh[2 * STORE_HASH_LEN + 1];
	char shown[256];
	char *body = NULL, *url = NULL, *names, *names_adn;
	int64_t count = 0;
	time_t now = ra_now(ra);
	int rc;

	memset(&s, 0, sizeof(s));
	if (!ra_dv_email_local_ok(local))
		return ra_fail(err, RC_INVAL, RA_PROB_MALFORMED, "unknown "
		    "address");
	rc = store_dv_token_latest(ra->st, a->id, &last, &count);
	if (rc != 0 && rc != RC_NOTFOUND)
		return ra_internal(err, rc, "dv mail: tokens");
	if (count >= max_sends(ra)) {
		rc = ra_fail(err, RC_POLICY, RA_PROB_RATE_LIMITED, "No more "
		    "confirmation mails can be sent for %s (%d were sent). "
		    "Validate through a DNS record or a file instead.",
		    a->identifier, (int)count);
		goto out;
	}
	/* after a bounce another address may be tried at once */
	if (!initial && count > 0 && last.sent_at + resend_s(ra) > now &&
	    !mail_bounced(ra, last.mail_id)) {
		long left = (long)(last.sent_at + resend_s(ra) - now);

		rc = ra_fail(err, RC_POLICY, RA_PROB_RATE_LIMITED, "You can "
		    "resend in %ld minute%s.", (left + 59) / 60,
		    (left + 59) / 60 == 1 ? "" : "s");
		goto out;
	}
	if (adn_in != NULL && ra_dv_adn_ok(a->identifier, adn_in))
		snprintf(adn, sizeof(adn), "%s", adn_in);
	else
		adn_of(ra, o->contract_id, a->identifier, adn, sizeof(adn));
	snprintf(to, sizeof(to), "%s@%s", local, adn);
	if (initial && count == 0 && sibling_pending(ra, o, a, to)) {
		/* one mail per address: its link confirms this name too */
		rc = set_email(ra, a, local);
		if (rc != 0)
			rc = ra_internal(err, rc, "dv mail: row");
		goto out;
	}
	/* the pending link to another address stays when another name
	 * waits for it (one mail for example.com and www.example.com): it
	 * confirms that name from now on, and this one waits for the new
	 * mail; a resend to the same address replaces it for both */
	if (count > 0 && strcmp(last.state, "pending") == 0 &&
	    strcmp(last.email_to, to) != 0)
		s.waiter = ra_dv_email_waiter(ra, o, a, &s.keep);
	if ((rc = ra_dv_random(24, token)) != 0 ||
	    (rc = hash_token(token, s.t.token_hash)) != 0) {
		rc = ra_internal(err, rc, "dv mail: token");
		goto out;
	}
	hex(s.t.token_hash, STORE_HASH_LEN, hh);
	who_asks(ra, o, customer, sizeof(customer), product, sizeof(product));
	s.t.authz_id = a->id;
	s.t.email_to = to;
	s.t.sent_at = now;
	s.t.expires_at = now + (time_t)token_days(ra) * 86400;
	timefmt_time(s.t.expires_at, until);
	url = xasprintf("%s/confirm/%s", ra->conf.portal_url != NULL ?
	    ra->conf.portal_url : "", token);
	ra_mail_first(adn, shown, sizeof(shown));
	snprintf(subject, sizeof(subject), "Please confirm: SSL certificate "
	    "for %s", shown);
	names = ra_mail_names(o->names);
	names_adn = ra_mail_names(adn);
	body = xasprintf("Hello,\n\n%s has ordered an SSL certificate (%s) "
	    "for:\n\n    %s\n\nThe certificate authority must confirm that "
	    "the administrator of the domain %s agrees before it issues the "
	    "certificate. You receive this mail because %s is one of the "
	    "domain's administrative addresses.\n\nTo confirm, open this "
	    "link and press \"Confirm\" on the page it shows:\n\n%s\n\nThe "
	    "link works once and until %s. If you did not expect this "
	    "request, do nothing: without confirmation no certificate is "
	    "issued.\n\n-- \ncertdesk domain validation (Baseline "
	    "Requirements %s, section 3.2.2.4.4)\n", customer,
	    product_text(product), names, names_adn, to, url, until,
	    RA_BR_VERSION);
	free(names);
	free(names_adn);
	s.ra = ra;
	s.a = a;
	s.to = to;
	s.subject = subject;
	s.body = body;
	s.local = local;
	s.actor = actor != NULL ? actor : "system";
	snprintf(s.ref, sizeof(s.ref), "%lld/%lld", (long long)a->id,
	    (long long)count + 1);
	s.audit = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:I}",
	    "order", (json_int_t)o->id, "authz", (json_int_t)a->id,
	    "identifier", a->identifier, "to", to, "token_sha256", hh,
	    "br_section", "3.2.2.4.4", "sent_at", (json_int_t)now,
	    "expires_at", (json_int_t)s.t.expires_at, "send",
	    (json_int_t)count + 1);
	if (s.waiter != 0)
		json_object_set_new(s.audit, "old_link_to_authz",
		    json_integer(s.waiter));
	rc = store_tx(ra->st, send_tx, &s);
	json_decref(s.audit);
	if (rc != 0) {
		rc = ra_internal(err, rc, "dv mail: queue");
		goto out;
	}
	log_info(LOG_RA, "portal order %lld: confirmation mail for %s queued "
	    "for %s", (long long)o->id, a->identifier, to);
out:
	sec_wipe(token, sizeof(token));
	if (url != NULL)
		sec_wipe(url, strlen(url));
	if (body != NULL)
		sec_wipe(body, strlen(body));
	free(url);
	free(body);
	store_dv_token_clear(&last);
	return rc;
}

/* The newest link that covers name a (its own, or one of a name of the
 * same order that went to the same address); *count its sends. */
static int
token_for(struct ra *ra, const struct store_authz *a,
    const struct store_dv *v, struct store_dv_token *t, int64_t *count)
{
	struct store_order o = {0};
	int64_t ids[CA_MAX_NAMES];
	size_t n = 0;
	char adn[256], to[320];
	int rc;

	rc = store_dv_token_latest(ra->st, a->id, t, count);
	if (rc != RC_NOTFOUND)
		return rc;
	if (v->email_local == NULL ||
	    ra_dv_order_load(ra, 0, a->order_id, &o) != 0)
		return RC_NOTFOUND;
	adn_of(ra, o.contract_id, a->identifier, adn, sizeof(adn));
	snprintf(to, sizeof(to), "%s@%s", v->email_local, adn);
	rc = store_order_authz_list(ra->st, o.id, ids, CA_MAX_NAMES, &n);
	store_order_clear(&o);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		int64_t c = 0;

		if (ids[i] == a->id ||
		    store_dv_token_latest(ra->st, ids[i], t, &c) != 0)
			continue;
		if (strcmp(t->email_to, to) == 0)
			return 0;	/* *count stays 0: its own sends */
		store_dv_token_clear(t);
	}
	return RC_NOTFOUND;
}

void
ra_dv_email_state(struct ra *ra, const struct store_authz *a,
    const struct store_dv *v, struct ra_dv_state *s)
{
	struct store_dv_token t = {0};
	struct store_order o = {0};
	int64_t count = 0;
	time_t now = ra_now(ra);

	if (ra_dv_order_load(ra, 0, a->order_id, &o) == 0)
		current_to(ra, o.contract_id, a, v->email_local, s->email_to,
		    sizeof(s->email_to));
	store_order_clear(&o);
	s->email_sends_left = max_sends(ra);
	if (token_for(ra, a, v, &t, &count) != 0)
		return;
	s->email_sent_at = t.sent_at;
	s->email_sends_left = count >= max_sends(ra) ? 0 :
	    max_sends(ra) - (int)count;
	if (count > 0 && t.sent_at + resend_s(ra) > now)
		s->email_resend_at = t.sent_at + resend_s(ra);
	if (strcmp(s->status, "pending") == 0 && mail_bounced(ra,
	    t.mail_id)) {
		snprintf(s->problem, sizeof(s->problem), "mail_bounced");
		snprintf(s->message, sizeof(s->message), "The mail to %s could "
		    "not be delivered: the address does not accept mail. "
		    "Choose another address (admin@, webmaster@, postmaster@ "
		    "...) or validate through a DNS record or a file instead.",
		    t.email_to);
	}
	store_dv_token_clear(&t);
}

int
ra_dv_email_resend(struct ra *ra, int64_t customer_id, int64_t order_id,
    int64_t authz_id, const char *actor, struct ra_err *err)
{
	struct store_order o = {0};
	struct store_authz a = {0};
	struct store_dv v = {0};
	int64_t ids[CA_MAX_NAMES];
	size_t n = 0;
	int rc;

	if (ra == NULL)
		return RC_INVAL;
	rc = ra_dv_order_load(ra, customer_id, order_id, &o);
	if (rc == 0)
		rc = store_order_authz_list(ra->st, o.id, ids, CA_MAX_NAMES,
		    &n);
	if (rc == 0) {
		rc = RC_NOTFOUND;
		for (size_t i = 0; i < n; i++)
			if (ids[i] == authz_id)
				rc = 0;
	}
	if (rc == 0)
		rc = store_authz_get(ra->st, authz_id, &a);
	if (rc == 0)
		rc = store_dv_get(ra->st, authz_id, &v);
	if (rc == RC_NOTFOUND || rc == RC_INVAL) {
		rc = ra_fail(err, RC_NOTFOUND, RA_PROB_MALFORMED,
		    "no such order or name");
		goto out;
	}
	if (rc != 0) {
		rc = ra_internal(err, rc, "dv resend");
		goto out;
	}
	if (strcmp(v.method, "email") != 0 || strcmp(a.status, "pending") !=
	    0 || a.expires_at <= ra_now(ra) || strcmp(o.status, "pending") !=
	    0 || o.expires_at <= ra_now(ra)) {
		rc = ra_fail(err, RC_STATE, RA_PROB_MALFORMED, "There is no "
		    "confirmation mail to send for %s.", a.identifier);
		goto out;
	}
	{
		char to[320];
		const char *at;

		/* to the address the customer chose last */
		ra_dv_email_to(ra, &o, &a, &v, to, sizeof(to));
		at = strchr(to, '@');
		rc = ra_dv_email_send(ra, &o, &a, v.email_local ?
		    v.email_local : "hostmaster", at != NULL ? at + 1 : NULL,
		    actor, 0, err);
	}
out:
	store_dv_clear(&v);
	store_authz_clear(&a);
	store_order_clear(&o);
	return rc;
}

/* ---- the link ------------------------------------------------------------ */

/* Finds the token's row; RC_NOTFOUND for anything that is not one. */
static int
find_token(struct ra *ra, const char *token, struct store_dv_token *t)
{
	uint8_t h[STORE_HASH_LEN];
	int rc;

	memset(t, 0, sizeof(*t));
	if (token == NULL || strnlen(token, RA_DV_TOKEN_LEN + 1) !=
	    RA_DV_TOKEN_LEN || !ra_b64u_ok(token, RA_DV_TOKEN_LEN))
		return RC_NOTFOUND;
	if (hash_token(token, h) != 0)
		return RC_NOTFOUND;
	rc = store_dv_token_by_hash(ra->st, h, t);
	if (rc == RC_INVAL)
		rc = RC_NOTFOUND;
	/* the index found it; compare once more without timing leaks */
	if (rc == 0 && CRYPTO_memcmp(h, t->token_hash, STORE_HASH_LEN) != 0)
		rc = RC_NOTFOUND;
	if (rc != 0)
		store_dv_token_clear(t);
	return rc;
}

/* A link no longer pending is "replaced" when a newer mail went to the
 * same address (a resend) and "switched" when none did: the customer
 * chose another method, or another address. */
static const char *
replaced_how(struct ra *ra, const struct store_dv_token *t)
{
	struct store_dv_token last = {0};
	int resent = store_dv_token_latest(ra->st, t->authz_id, &last,
	    NULL) == 0 && last.id != t->id &&
	    strcmp(last.email_to, t->email_to) == 0;

	store_dv_token_clear(&last);
	return resent ? "replaced" : "switched";
}

/* The link's state now (see struct ra_dv_email_link). */
static const char *
link_state(struct ra *ra, const struct store_dv_token *t,
    const struct store_authz *a, const struct store_order *o)
{
	time_t now = ra_now(ra);

	if (strcmp(t->state, "confirmed") == 0)
		return "confirmed";
	if (strcmp(t->state, "replaced") == 0)
		return replaced_how(ra, t);
	if (t->expires_at <= now)
		return "expired";
	if (strcmp(a->status, "pending") != 0 || a->expires_at <= now ||
	    strcmp(o->status, "pending") != 0 || o->expires_at <= now)
		return "closed";
	return "pending";
}

static int
link_load(struct ra *ra, const char *token, struct store_dv_token *t,
    struct store_authz *a, struct store_order *o)
{
	int rc;

	memset(a, 0, sizeof(*a));
	memset(o, 0, sizeof(*o));
	rc = find_token(ra, token, t);
	if (rc == 0)
		rc = store_authz_get(ra->st, t->authz_id, a);
	if (rc == 0)
		rc = ra_dv_order_load(ra, 0, a->order_id, o);
	if (rc == RC_INVAL)
		rc = RC_NOTFOUND;
	if (rc != 0) {
		store_dv_token_clear(t);
		store_authz_clear(a);
	}
	return rc;
}

/* Whether authorization b of order o waits for a confirmation by a mail
 * to `to` (what ra_dv_email_confirm() validates with a link to it). */
static int
waits_for(struct ra *ra, const struct store_order *o,
    const struct store_authz *b, const char *to)
{
	struct store_dv v = {0};
	char bto[320];
	int yes = 0;

	if (strcmp(b->status, "pending") == 0 && !b->wildcard &&
	    store_dv_get(ra->st, b->id, &v) == 0 &&
	    strcmp(v.method, "email") == 0) {
		ra_dv_email_to(ra, o, b, &v, bto, sizeof(bto));
		yes = strcmp(bto, to) == 0;
	}
	store_dv_clear(&v);
	return yes;
}

/* The names a confirmation of link t (of authorization a) validates, as
 * ra_dv_email_confirm() picks them, into out (size n). */
static void
link_names(struct ra *ra, const struct store_order *o,
    const struct store_authz *a, const struct store_dv_token *t, char *out,
    size_t n)
{
	int64_t ids[CA_MAX_NAMES];
	size_t k = 0, len;

	len = (size_t)snprintf(out, n, "%s", a->identifier);
	if (store_order_authz_list(ra->st, o->id, ids, CA_MAX_NAMES, &k) != 0)
		return;
	for (size_t i = 0; i < k && len < n; i++) {
		struct store_authz b = {0};

		if (ids[i] != a->id && store_authz_get(ra->st, ids[i], &b) == 0
		    && waits_for(ra, o, &b, t->email_to)) {
			int w = snprintf(out + len, n - len, ", %s",
			    b.identifier);

			if (w < 0 || (size_t)w >= n - len) {
				/* cut: say so */
				if (n > 4)
					memcpy(out + n - 4, "...", 4);
				len = n;
			} else {
				len += (size_t)w;
			}
		}
		store_authz_clear(&b);
	}
}

int
ra_dv_email_lookup(struct ra *ra, const char *token,
    struct ra_dv_email_link *out)
{
	struct store_dv_token t;
	struct store_authz a;
	struct store_order o;
	char product[24];
	const char *at;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	rc = link_load(ra, token, &t, &a, &o);
	if (rc != 0)
		return rc;
	at = strchr(t.email_to, '@');
	snprintf(out->name, sizeof(out->name), "%s", at ? at + 1 :
	    a.identifier);
	snprintf(out->email_to, sizeof(out->email_to), "%s", t.email_to);
	if (a.wildcard)		/* confirms nothing (ra_dv_email_confirm) */
		snprintf(out->names, sizeof(out->names), "*.%s",
		    a.identifier);
	else
		link_names(ra, &o, &a, &t, out->names, sizeof(out->names));
	who_asks(ra, &o, out->customer, sizeof(out->customer), product,
	    sizeof(product));
	snprintf(out->product, sizeof(out->product), "%s", product);
	snprintf(out->state, sizeof(out->state), "%s",
	    link_state(ra, &t, &a, &o));
	out->sent_at = t.sent_at;
	out->expires_at = t.expires_at;
	store_order_clear(&o);
	store_authz_clear(&a);
	store_dv_token_clear(&t);
	return 0;
}

int
ra_dv_email_confirm(struct ra *ra, const char *token,
    const char *client_addr, const char *user_agent, struct ra_err *err)
{
	struct store_dv_token t;
	struct store_authz a;
	struct store_order o;
	struct val_result caa = {0};
	int64_t ids[CA_MAX_NAMES];
	size_t n = 0;
	char hh[2 * STORE_HASH_LEN + 1], ua[256], addr[64];
	const char *state;
	time_t now;
	int rc;

	if (ra == NULL)
		return RC_INVAL;
	rc = link_load(ra, token, &t, &a, &o);
	if (rc == RC_NOTFOUND)
		return ra_fail(err, rc, RA_PROB_MALFORMED, "This confirmation "
		    "link is not valid.");
	if (rc != 0)
		return ra_internal(err, rc, "dv confirm");
	now = ra_now(ra);
	state = link_state(ra, &t, &a, &o);
	if (strcmp(state, "pending") != 0) {
		rc = ra_fail(err, RC_STATE, RA_PROB_MALFORMED, "%s",
		    strcmp(state, "confirmed") == 0 ? "This request was "
		    "already confirmed." : strcmp(state, "expired") == 0 ?
		    "This link has expired; ask for a new mail on the order's "
		    "overview." : strcmp(state, "replaced") == 0 ? "A newer "
		    "mail was sent for this request: use the link in that "
		    "one." : strcmp(state, "switched") == 0 ? "This link was "
		    "replaced because another way to confirm the domain was "
		    "chosen." : "This order is no longer waiting for "
		    "confirmation.");
		goto out;
	}
	/* a wildcard only through DNS (DESIGN.md): a link of a wildcard
	 * name (mailed before that was enforced) confirms nothing */
	if (a.wildcard) {
		rc = ra_fail(err, RC_POLICY, RA_PROB_REJECTED_IDENTIFIER,
		    "*.%s can only be validated through DNS: the order's "
		    "page shows the record to add.", a.identifier);
		goto out;
	}
	/* CAA before the link is used up: a forbidding record can be fixed
	 * and the same link confirmed again */
	if (!ra_dv_caa(ra, &a, "email", &caa)) {
		rc = ra_fail(err, RC_POLICY, RA_PROB_CAA, "The CAA records of "
		    "%s do not allow this certificate authority to issue for "
		    "it; change them, then confirm again. (%.160s)",
		    a.identifier, caa.detail);
		goto out;
	}
	snprintf(addr, sizeof(addr), "%s", client_addr ? client_addr : "");
	snprintf(ua, sizeof(ua), "%s", user_agent ? user_agent : "");
	for (char *p = ua; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	for (char *p = addr; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	rc = store_dv_token_confirm(ra->st, t.id, now, addr[0] ? addr : NULL,
	    ua[0] ? ua : NULL);
	if (rc == RC_STATE) {
		rc = ra_fail(err, rc, RA_PROB_MALFORMED, "This request was "
		    "already confirmed.");
		goto out;
	}
	if (rc != 0) {
		rc = ra_internal(err, rc, "dv confirm: token");
		goto out;
	}
	hex(t.token_hash, STORE_HASH_LEN, hh);
	/* the name, and the order's other names waiting for this address */
	rc = store_order_authz_list(ra->st, o.id, ids, CA_MAX_NAMES, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct store_authz b = {0};
		struct store_dv_attempt at = {0};
		struct val_result bcaa = {0};
		char adn[256];
		int mine = ids[i] == a.id, caa_ok;
		json_t *ev;

		/* as link_names() lists them on the page; the link's own
		 * name waits for it (link_state() said pending) */
		if (store_authz_get(ra->st, ids[i], &b) != 0 || !(mine ?
		    strcmp(b.status, "pending") == 0 :
		    waits_for(ra, &o, &b, t.email_to))) {
			store_authz_clear(&b);
			continue;
		}
		snprintf(adn, sizeof(adn), "%s", strchr(t.email_to, '@') ?
		    strchr(t.email_to, '@') + 1 : b.identifier);
		caa_ok = mine ? 1 : ra_dv_caa(ra, &b, "email", &bcaa);
		ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, "
		    "s:s, s:s, s:I, s:o}", "method", "email",
		    "br_version", RA_BR_VERSION, "br_section",
		    "3.2.2.4.4", "email_to", t.email_to,
		    "authorization_domain_name", adn, "sent_at",
		    (json_int_t)t.sent_at, "confirmed_at",
		    (json_int_t)now, "client_addr", addr,
		    "user_agent", ua, "token_authz",
		    (json_int_t)a.id, "caa", ra_dv_json(mine ?
		    caa.evidence : bcaa.evidence));
		json_object_set_new(ev, "token_sha256",
		    json_string(hh));
		if (caa_ok) {
			char *evt = ra_dv_dump(ev);

			at.authz_id = b.id;
			at.order_id = b.order_id;
			at.method = "email";
			at.br_version = RA_BR_VERSION;
			at.br_section = "3.2.2.4.4";
			at.started_at = t.sent_at;
			at.finished_at = now;
			at.value = hh;
			at.valid = 1;
			at.detail = "the confirmation link was "
			    "confirmed";
			at.evidence = evt;
			(void)store_dv_attempt_add(ra->st, &at, NULL);
			free(evt);
			char who[340];

			snprintf(who, sizeof(who), "email:%s",
			    t.email_to);
			rc = ra_dv_mark_valid(ra, &b, "email", who, ev);
			if (rc == RC_STATE)
				rc = 0;
		}
		json_decref(ev);
		val_result_clear(&bcaa);
		store_authz_clear(&b);
	}
	if (rc != 0) {
		rc = ra_internal(err, rc, "dv confirm: validation");
		goto out;
	}
	log_info(LOG_RA, "portal order %lld: %s confirmed by mail (%s)",
	    (long long)o.id, a.identifier, t.email_to);
	(void)ra_dv_maybe_issue(ra, o.id, NULL);
out:
	val_result_clear(&caa);
	store_order_clear(&o);
	store_authz_clear(&a);
	store_dv_token_clear(&t);
	return rc;
}
