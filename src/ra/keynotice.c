/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The subscribers of certificates revoked for key compromise, told by
 * mail. Once a key is known compromised every certificate of it is
 * revoked (BR 4.9.1.1 (3)), also other subscribers' certificates of the
 * same key: a report on /report-key (keyreport.c), an ACME revocation
 * signed by the key or for keyCompromise (finalize.c), a portal or API
 * revocation for keyCompromise (portal.c) and the operator's `certdesk ca
 * block-key` and `ca revoke --reason keyCompromise` all go through
 * ca_block_key() or ca_revoke(), and each hands them this file's hook
 * (ra_key_notice_init). Boulder's bad-key-revoker likewise mails the
 * subscribers of the certificates it revokes for a blocked key.
 *
 * The hook runs in the transaction that blocks the key and revokes its
 * certificates: no certificate is revoked without its mail, and no mail
 * tells of a revocation that was rolled back. The mail worker of
 * `certdesk serve` delivers and retries.
 *
 * Who hears what: each subscriber (the contacts of a portal order: the
 * user who placed it, its technical and administrative contacts; the
 * mailto: contacts of an ACME account) about its own certificates only,
 * why they were revoked and what to do now; one mail per subscriber and
 * address (an address that is a contact of two subscribers gets two).
 * The subscriber who revoked a certificate for keyCompromise itself
 * (RA_KEY_SUBSCRIBER) is not told about that one, which it knows, but is
 * about its other certificates of the key, which went with it. Whoever
 * else asked (a key holder through ACME, who may or may not be the
 * subscriber; the operator; a reporter) speaks for nobody's certificate,
 * so every subscriber hears of every certificate. Who was told about
 * what is audited ("key.report.mail" for a report, "key.revoke.mail"
 * otherwise) in the same transaction.
 *
 * Runs wherever the ra runs (serve's handler threads, the admin
 * commands). Trusts the store; addresses come from it, checked when they
 * were stored and again here (ra_rcpt_add) and by the mail component.
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

/* A subscriber mail lists certificates while it is shorter than this;
 * with one more (at most 100 names of 253 characters) and the rest it
 * stays under the mail component's MAIL_MAX_BODY (256 KiB). */
#define BODY_BUDGET (128 * 1024)

/* A revoked certificate, as the mails describe it. */
struct cert {
	char serial[41];
	char *names;		/* space-separated */
	int64_t order_id;	/* a portal order: its overview; else 0 */
	char sub[32];		/* its subscriber (see struct group), or "" */
};

/* One subscriber mail: the certificates of subscriber sub for which addr
 * is a contact. */
struct group {
	char sub[32];		/* "contract/<id>", "acme/<id>" */
	char addr[255], name[120];
	size_t *idx;		/* into the certificates */
	size_t n;
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
    struct ra_rcpt *r)
{
	struct store_order o = {0};
	struct store_acme_account a = {0};
	json_t *j = NULL, *v;
	size_t i;
	int rc;

	memset(r, 0, sizeof(*r));
	out->sub[0] = '\0';
	if (c->order_id <= 0)
		return 0;
	rc = store_order_get(st, c->order_id, &o);
	if (rc != 0)
		return rc == RC_NOTFOUND ? 0 : rc;
	if (o.account_id > 0) {
		rc = store_acme_account_get(st, o.account_id, &a);
		if (rc == 0) {
			snprintf(out->sub, sizeof(out->sub), "acme/%lld",
			    (long long)a.id);
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
		snprintf(out->sub, sizeof(out->sub), "contract/%lld",
		    (long long)o.contract_id);
		out->order_id = o.id;
	}
	json_decref(j);
	store_acme_account_clear(&a);
	store_order_clear(&o);
	return rc;
}

/* Why the certificates of g were revoked, after "we have revoked ...
 * because ... compromised.": who found the key compromised, when. own: g
 * is the subscriber that revoked the requested certificate itself. */
static int
why_text(struct buf *b, const struct ra_key_notice *kn,
    const struct ca_key_revoked *r, int own, const char *at)
{
	int e = 0;

	switch (kn->cause) {
	case RA_KEY_REPORT:
		e |= buf_printf(b, " On %s someone reported the key to us and "
		    "proved that they hold it, by signing a request with it.",
		    at);
		break;
	case RA_KEY_HOLDER:
		e |= buf_printf(b, " On %s someone asked us to revoke a "
		    "certificate of the key and proved that they hold the "
		    "key, by signing the request with it.", at);
		break;
	case RA_KEY_SUBSCRIBER:
		if (own)
			e |= buf_printf(b, " On %s you revoked your "
			    "certificate %s of the same key, telling us that "
			    "the key is compromised.", at, r->requested);
		else
			e |= buf_printf(b, " On %s the holder of another "
			    "certificate of the same key revoked it, telling "
			    "us that the key is compromised.", at);
		break;
	case RA_KEY_OPERATOR:
	default:
		e |= buf_printf(b, " On %s we found that the key is "
		    "compromised.", at);
		break;
	}
	/* a subscriber's own revocation is no problem report (BR 4.9.5) */
	e |= buf_printf(b, " A certificate whose key others hold proves "
	    "nothing about who runs the website, so the Baseline Requirements "
	    "for publicly-trusted certificates (4.9.1.1) oblige us to revoke "
	    "every certificate of the key%s.\n\n",
	    kn->cause == RA_KEY_SUBSCRIBER ? "" :
	    "; this mail is our report to you (4.9.5)");
	return e;
}

static int
mail_subscriber(struct store *st, const struct ra_key_notice *kn,
    const struct ca_key_revoked *r, const struct group *g,
    const struct cert *certs, int own)
{
	const char *base = kn->ra->conf.portal_url ?
	    kn->ra->conf.portal_url : "";
	const struct cert *c0 = &certs[g->idx[0]];
	char at[TIMEFMT_MAX], subject[400], first[256], *names;
	int acme = strncmp(g->sub, "acme/", 5) == 0, e = 0;
	struct buf b;
	size_t i;

	timefmt_time(r->when, at);
	buf_init(&b, STORE_MAX_JSON);
	/* names as the other notices show them (notify.c) */
	names = ra_mail_names(c0->names);
	if (g->n == 1)
		e |= buf_printf(&b, "We have revoked your SSL certificate for "
		    "%s, because its private key is compromised.", names);
	else
		e |= buf_printf(&b, "We have revoked %zu of your SSL "
		    "certificates, because their private key is compromised.",
		    g->n);
	e |= why_text(&b, kn, r, own, at);
	/* the listing stays well under what the mail component sends
	 * (MAIL_MAX_BODY): a certificate names at most 100 names */
	for (i = 0; i < g->n && i < RA_KEY_LIST_MAX && b.len < BODY_BUDGET;
	    i++) {
		const struct cert *c = &certs[g->idx[i]];

		free(names);
		names = ra_mail_names(c->names);
		e |= buf_printf(&b, "Serial number: %s\nNames: %s\nRevoked: "
		    "%s, reason keyCompromise\n", c->serial, names, at);
		if (c->order_id > 0)
			e |= buf_printf(&b, "Its order: %s/portal/orders/"
			    "%lld\n", base, (long long)c->order_id);
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
	    r->spki_sha256, acme ? "Have your ACME client order a new "
	    "certificate with a new key (not the old one), for the names "
	    "above." : "Get a new certificate for the new key: open its "
	    "order above and choose \"Renew or reissue with a new key\".");
	free(names);
	ra_mail_first(c0->names, first, sizeof(first));
	if (g->n == 1)
		snprintf(subject, sizeof(subject), "Revoked: your SSL "
		    "certificate for %s (key compromised)", first);
	else
		snprintf(subject, sizeof(subject), "Revoked: %zu of your SSL "
		    "certificates (key compromised)", g->n);
	/* a serial is revoked once, and belongs to one subscriber: the
	 * first one names this mail */
	e = e != 0 ? RC_TOOBIG : ra_mail_add(st, g->addr, g->name, subject,
	    (const char *)b.data, "key.revoked", c0->serial);
	buf_free(&b);
	return e == RC_EXISTS ? 0 : e;	/* queued before: counts */
}

static json_t *
serials_json(const struct cert *certs, const size_t *idx, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n && i < RA_KEY_LIST_MAX; i++)
		json_array_append_new(a, json_string(certs[idx ? idx[i] :
		    i].serial));
	return a;
}

static const char *
cause_name(enum ra_key_cause c)
{
	switch (c) {
	case RA_KEY_REPORT:
		return "report";
	case RA_KEY_HOLDER:
		return "key_holder";
	case RA_KEY_SUBSCRIBER:
		return "subscriber";
	case RA_KEY_OPERATOR:
	default:
		return "operator";
	}
}

/* Who was told about what, for the auditors (BR 4.9.5, 5.4.1). */
static int
audit(struct store *st, const struct ra_key_notice *kn,
    const struct ca_key_revoked *r, const struct cert *certs,
    const struct group *g, size_t ng, const size_t *none)
{
	json_t *det = json_object(), *subs = json_array();
	char object[80], *text;
	int rc;

	for (size_t k = 0; k < ng && k < RA_KEY_LIST_MAX; k++)
		json_array_append_new(subs, json_pack("{s:s,s:o}", "to",
		    g[k].addr, "serials", serials_json(certs, g[k].idx,
		    g[k].n)));
	json_object_set_new(det, "cause", json_string(cause_name(kn->cause)));
	json_object_set_new(det, "spki_sha256", json_string(r->spki_sha256));
	if (kn->cause == RA_KEY_REPORT)
		json_object_set_new(det, "reporter", kn->reporter ?
		    json_string(kn->reporter) : json_null());
	if (kn->cause == RA_KEY_REPORT && kn->reporter != NULL) {
		char why[96];

		snprintf(why, sizeof(why), "not sent: the address had its %d "
		    "reports of the day", RA_KEY_REPORT_MAILS_PER_DAY);
		json_object_set_new(det, "reporter_mail", json_string(
		    kn->reporter_limited ? why : "queued"));
	}
	if (r->requested != NULL)
		json_object_set_new(det, "requested",
		    json_string(r->requested));
	json_object_set_new(det, "revoked", json_integer((json_int_t)r->n));
	json_object_set_new(det, "subscribers", subs);
	json_object_set_new(det, "subscriber_mails",
	    json_integer((json_int_t)kn->mails));
	json_object_set_new(det, "no_contact", serials_json(certs, none,
	    kn->no_contact));
	json_object_set_new(det, "no_contact_count",
	    json_integer((json_int_t)kn->no_contact));
	text = json_dumps(det, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(det);
	if (text == NULL)
		return RC_NOMEM;
	snprintf(object, sizeof(object), "key:%s", r->spki_sha256);
	rc = store_audit_append(st, kn->actor, kn->cause == RA_KEY_REPORT ?
	    "key.report.mail" : "key.revoke.mail", object, text);
	free(text);
	return rc;
}

int
ra_key_notice_tx(struct store *st, const struct ca_key_revoked *r,
    void *arg)
{
	struct ra_key_notice *kn = arg;
	size_t n = r->n;
	struct cert *certs = xcalloc(n ? n : 1, sizeof(*certs));
	struct group *g = NULL;
	size_t ng = 0, *none = xcalloc(n ? n : 1, sizeof(*none));
	/* the requested certificate of a subscriber's own revocation: its
	 * subscriber knows of it */
	int skip = kn->cause == RA_KEY_SUBSCRIBER && r->requested != NULL &&
	    n > 0 && strcmp(r->v[0].serial, r->requested) == 0;
	int rc = 0;

	kn->mails = 0;			/* a retried run starts over */
	kn->no_contact = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct store_cert c = {0};
		struct ra_rcpt to;

		snprintf(certs[i].serial, sizeof(certs[i].serial), "%s",
		    r->v[i].serial);
		if ((rc = store_cert_get(st, r->v[i].serial, &c)) == 0) {
			certs[i].names = xstrdup(c.names ? c.names : "");
			rc = contacts_of(st, &c, &certs[i], &to);
		}
		store_cert_clear(&c);
		if (rc != 0 || (skip && i == 0))
			continue;
		for (size_t k = 0; k < to.n; k++)
			group_add(&g, &ng, certs[i].sub, to.addr[k],
			    to.name[k], i);
		if (to.n == 0)
			none[kn->no_contact++] = i;
	}
	for (size_t k = 0; k < ng && rc == 0; k++) {
		int own = skip && certs[0].sub[0] != '\0' &&
		    strcmp(g[k].sub, certs[0].sub) == 0;

		if ((rc = mail_subscriber(st, kn, r, &g[k], certs, own)) == 0)
			kn->mails++;
	}
	if (rc == 0)
		rc = audit(st, kn, r, certs, g, ng, none);
	for (size_t k = 0; k < ng; k++)
		free(g[k].idx);
	free(g);
	for (size_t i = 0; i < n; i++)
		free(certs[i].names);
	free(certs);
	free(none);
	return rc;
}

void
ra_key_notice_init(struct ra_key_notice *kn, struct ra *ra,
    enum ra_key_cause cause, const char *actor, struct ca_block_hook *hook)
{
	memset(kn, 0, sizeof(*kn));
	kn->ra = ra;
	kn->cause = cause;
	snprintf(kn->actor, sizeof(kn->actor), "%s", actor ? actor : "ra");
	hook->fn = ra_key_notice_tx;
	hook->arg = kn;
}
