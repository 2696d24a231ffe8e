/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin's "Certificate authority" page: every CA in the store (the root,
 * the active issuing CA and the earlier ones) with its subject, key type,
 * lifetime and newest CRL; for the active issuing CA the last day a
 * certificate of today's maximum validity still fits in its lifetime, with
 * a warning from 90 days before that day (then it is time for `certdesk ca
 * roll`); which issuing CA this server issues from, should a rollover not
 * be in effect here yet (it is taken up at serve's next check, within a
 * minute: a notice; or it could not be: a warning with why); the HTTPS
 * certificate this server presents, with a warning once less than a third
 * of its life is left (it should have been re-issued); where the signer
 * makes new keys; and links to the CA certificates and CRLs as relying
 * parties fetch them. Read-only: CAs and keys are made on the CA host with
 * `certdesk init` and `certdesk ca roll`, never from a web page.
 *
 * Only users with role admin and a browser session see it; for everyone
 * else it does not exist (404), as the portal does for anything not
 * theirs. Runs in the main certdesk process on HTTPS worker threads; reads
 * the store and the CA certificates (public), never a key.
 */
#include "portal/portal_int.h"
#include "ca/ca.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_MAX (256 * 1024)
#define MAX_CAS 64

struct ca_row {
	int64_t id;
	char name[64];
	int is_root, active;
	char cn[130];
	char key[32];
	time_t nb, na;
};

struct ca_rows {
	struct ca_row v[MAX_CAS];
	size_t n;
	int64_t active_id;	/* the store's active issuing CA */
};

/* "P-256", "RSA 4096", ... of the certificate's key. */
static void
key_text(X509 *x, char *out, size_t n)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);
	char group[32];

	snprintf(out, n, "unknown");
	if (pk == NULL)
		return;
	if (EVP_PKEY_is_a(pk, "EC") && EVP_PKEY_get_group_name(pk, group,
	    sizeof(group), NULL))
		snprintf(out, n, "%s", strcmp(group, "prime256v1") == 0 ?
		    "P-256" : strcmp(group, "secp384r1") == 0 ? "P-384" :
		    group);
	else if (EVP_PKEY_is_a(pk, "RSA"))
		snprintf(out, n, "RSA %d", EVP_PKEY_get_bits(pk));
}

static int
collect(const struct store_issuer *is, void *arg)
{
	struct ca_rows *l = arg;
	struct ca_row *r;
	const unsigned char *p = is->cert_der;
	X509 *x;

	if (l->n == MAX_CAS)
		return 0;
	r = &l->v[l->n++];
	memset(r, 0, sizeof(*r));
	r->id = is->id;
	snprintf(r->name, sizeof(r->name), "%s", is->name ? is->name : "?");
	r->is_root = is->is_root;
	r->active = is->active;
	/* the store's choice: the newest active issuing CA */
	if (!is->is_root && is->active && is->id > l->active_id)
		l->active_id = is->id;
	x = d2i_X509(NULL, &p, (long)is->cert_len);
	if (x == NULL) {
		snprintf(r->cn, sizeof(r->cn), "(certificate unreadable)");
		return 0;
	}
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x),
	    NID_commonName, r->cn, sizeof(r->cn)) < 0)
		r->cn[0] = '\0';
	key_text(x, r->key, sizeof(r->key));
	r->nb = ca_asn1_time(X509_get0_notBefore(x));
	r->na = ca_asn1_time(X509_get0_notAfter(x));
	X509_free(x);
	return 0;
}


/* The CA's CRLs: its full CRL and the CRL of each shard, each published
 * by itself (ca/crl.c). */
struct crl_seen {
	time_t newest;		/* the latest thisUpdate of them all */
	time_t next;		/* the earliest nextUpdate: renewed first */
	int64_t n;		/* how many were published */
};

static void
crl_saw(struct crl_seen *s, time_t this_update, time_t next_update)
{
	if (this_update > s->newest)
		s->newest = this_update;
	if (s->next == 0 || next_update < s->next)
		s->next = next_update;
	s->n++;
}

static int
shard_seen(const struct store_crl_shard *sh, void *arg)
{
	if (sh->number > 0)
		crl_saw(arg, sh->this_update, sh->next_update);
	return 0;
}

/* The newest CRL of the CA, full or of a shard, whichever was published
 * last: "<this update>, next by <the earliest next update>". */
static int
crl_cell(struct portal_req *c, struct buf *b, const struct ca_row *r)
{
	struct store_crl crl;
	struct crl_seen seen = {0};
	char t1[32], t2[32];
	int rc;

	memset(&crl, 0, sizeof(crl));
	rc = store_crl_latest(c->st, r->id, &crl);
	if (rc == 0)
		crl_saw(&seen, crl.this_update, crl.next_update);
	store_crl_clear(&crl);
	if (rc != 0 && rc != RC_NOTFOUND)
		return rc;
	rc = store_crl_shard_list(c->st, r->id, shard_seen, &seen);
	if (rc != 0)
		return rc;
	if (seen.n == 0)
		return portal_html_printf(b, "<td>none yet</td>");
	portal_fmt_time(seen.newest, t1);
	portal_fmt_time(seen.next, t2);
	return portal_html_printf(b, "<td>%s<br><span class=\"hint\">next by "
	    "%s</span></td>", t1, t2);
}

static int
row_html(struct portal_req *c, struct buf *b, const struct ca_rows *l,
    const struct ca_row *r, time_t now)
{
	const struct portal_ca_view *v = portal_ca_view(c->p);
	int active = r->id == l->active_id;
	char nb[32], na[32], until[32];
	long long left = r->na > now ? (long long)((r->na - now) / 86400) : -1;
	int rc;

	portal_fmt_date(r->nb, nb);
	portal_fmt_date(r->na, na);
	if (active)
		portal_fmt_date(ca_cal_last_issue(r->na), until);
	else
		snprintf(until, sizeof(until), "\xe2\x80\x94");
	rc = portal_html_printf(b, "<tr id=\"ca-%s\" class=\"%s\"><th "
	    "scope=\"row\"><code>%s</code></th><td>%s</td><td>%s</td><td>%s"
	    "</td><td>%s \xe2\x80\x93 %s<br><span class=\"hint\">", r->name,
	    active ? "active" : r->is_root ? "root" : "earlier", r->name,
	    r->cn,
	    r->is_root ? "Root" : active ? "Issuing, active" :
	    "Issuing, earlier", r->key, nb, na);
	if (rc == 0 && left >= 0)
		rc = portal_html_printf(b, "%lld days left", left);
	else if (rc == 0)
		rc = portal_html_printf(b, "expired");
	if (rc == 0)
		rc = portal_html_printf(b, "</span></td><td>%s</td>", until);
	if (rc == 0)
		rc = crl_cell(c, b, r);
	if (rc == 0 && v->base_url != NULL)
		rc = portal_html_printf(b, "<td><a href=\"%s/ca/%s.pem\">"
		    "Certificate</a><br><a href=\"%s/crl/%s.%s\">%s</a></td>",
		    v->base_url, r->name, v->base_url, r->name, r->is_root ?
		    "crl" : "json", r->is_root ? "CRL" : "CRL partitions");
	else if (rc == 0)
		rc = portal_html_printf(b, "<td></td>");
	if (rc == 0)
		rc = portal_html_printf(b, "</tr>\n");
	return rc;
}

/* The warning of the active issuing CA's end, and of a rollover that this
 * server does not issue from yet: one it takes up at its next check, or
 * one it could not take up, and why. */
static int
notices(struct portal_req *c, struct buf *b, const struct ca_rows *l,
    time_t now)
{
	const struct portal_ca_view *v = portal_ca_view(c->p);
	const struct ca_row *a = NULL;
	struct portal_ca_issuing is;
	char until[32], since[32];
	time_t last;
	int rc = 0;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].id == l->active_id)
			a = &l->v[i];
	if (a == NULL)
		return portal_html_printf(b, "<p class=\"warning\" id=\"ca-"
		    "none\">There is no issuing CA: run <code>certdesk init"
		    "</code>.</p>\n");
	last = ca_cal_last_issue(a->na);
	portal_fmt_date(last, until);
	if (now >= last)
		rc = portal_html_printf(b, "<p class=\"warning\" id=\"ca-"
		    "expiry\">The issuing CA %s can no longer issue: a "
		    "certificate issued now would outlive it. Make its "
		    "successor on the CA host with <code>certdesk ca roll"
		    "</code>; <code>certdesk serve</code> issues from it "
		    "within a minute, without a restart.</p>\n", a->name);
	else if (now >= last - CA_ROLL_WARN_DAYS * 86400)
		rc = portal_html_printf(b, "<p class=\"warning\" id=\"ca-"
		    "expiry\">The issuing CA %s issues until %s. Make its "
		    "successor before then on the CA host with <code>certdesk "
		    "ca roll</code>; <code>certdesk serve</code> issues from "
		    "it within a minute, without a restart.</p>\n", a->name,
		    until);
	if (rc != 0 || v->issuing == NULL)
		return rc;
	memset(&is, 0, sizeof(is));
	v->issuing(v->issuing_arg, &is);
	if (is.serving[0] == '\0' || strcmp(is.serving, a->name) == 0)
		return 0;
	if (is.why[0] == '\0')
		return portal_html_printf(b, "<p class=\"notice\" id=\"ca-"
		    "switch\">%s is the active issuing CA; this server still "
		    "issues from %s and switches to %s at its next check, "
		    "within a minute, without a restart.</p>\n", a->name,
		    is.serving, a->name);
	portal_fmt_time(is.failing_since, since);
	return portal_html_printf(b, "<p class=\"warning\" id=\"ca-switch-"
	    "failed\">%s is the active issuing CA, but this server cannot "
	    "take it up and still issues from %s: %s (since %s). It tries "
	    "again every minute and on SIGHUP, so it switches by itself once "
	    "that is fixed (a key on a PKCS#11 token needs the token in this "
	    "server's configuration, and a restart).</p>\n", a->name,
	    is.serving, is.why, since);
}

/*
 * The HTTPS certificate this server presents, which `certdesk serve`
 * re-issues when two thirds of its life are over: a warning once that
 * moment has passed, since re-issuing has then not worked (with when it
 * began failing, if it does), which says so once it has expired.
 */
static int
service_cert(struct buf *b, const struct portal_ca_view *v, time_t now)
{
	struct portal_svc_cert s;
	char until[32], renew[32], since[32];
	long long days;
	int rc;

	if (v->svc_cert == NULL)
		return 0;
	memset(&s, 0, sizeof(s));
	v->svc_cert(v->svc_cert_arg, &s);
	if (s.not_after == 0 || s.renew_at == 0)
		return 0;
	portal_fmt_time(s.not_after, until);
	portal_fmt_time(s.renew_at, renew);
	rc = portal_html_printf(b, "<h2>HTTPS service certificate</h2>\n");
	if (rc == 0 && now < s.renew_at) {
		days = (long long)((s.not_after - now) / 86400);
		return portal_html_printf(b, "<p id=\"ca-service\">The "
		    "certificate this server presents on HTTPS (portal, ACME) "
		    "is valid until %s (%lld day%s left). <code>certdesk serve"
		    "</code> issues the next one on %s, when two thirds of its "
		    "life are over, without a restart.</p>\n", until, days,
		    days == 1 ? "" : "s", renew);
	}
	if (rc == 0)
		rc = portal_html_printf(b, "<p class=\"warning\" id=\"ca-"
		    "service\">The certificate this server presents on HTTPS "
		    "(portal, ACME) %s %s: it should have been re-issued on %s, "
		    "when two thirds of its life were over.", now >=
		    s.not_after ? "expired on" : "expires on", until, renew);
	if (rc == 0 && s.failing_since != 0) {
		portal_fmt_time(s.failing_since, since);
		rc = portal_html_printf(b, " Re-issuing it has failed since "
		    "%s.", since);
	}
	if (rc == 0)
		rc = portal_html_printf(b, " The log of <code>certdesk serve"
		    "</code> says why.</p>\n");
	return rc;
}

static int
ca_page(struct portal_req *c)
{
	const struct portal_ca_view *v = portal_ca_view(c->p);
	struct ca_rows *l = xcalloc(1, sizeof(*l));
	time_t now = v->now != 0 ? v->now : c->now;
	struct buf b;
	int rc;

	rc = store_issuer_list(c->st, collect, l);
	if (rc != 0) {
		free(l);
		return rc;
	}
	buf_init(&b, PAGE_MAX);
	rc = portal_html_printf(&b, "<h1>Certificate authority</h1>\n"
	    "<section class=\"card ca\">\n");
	if (rc == 0)
		rc = notices(c, &b, l, now);
	if (rc == 0)
		rc = portal_html_printf(&b, "<table class=\"ca\">\n<thead><tr>"
		    "<th scope=\"col\">CA</th><th scope=\"col\">Subject</th>"
		    "<th scope=\"col\">Role</th><th scope=\"col\">Key</th>"
		    "<th scope=\"col\">Valid</th><th scope=\"col\">Issues "
		    "until</th><th scope=\"col\">Newest CRL</th>"
		    "<th scope=\"col\">Published</th></tr></thead>\n<tbody>\n");
	/* the root first, then the issuing CAs newest first */
	for (size_t i = 0; rc == 0 && i < l->n; i++)
		if (l->v[i].is_root)
			rc = row_html(c, &b, l, &l->v[i], now);
	for (size_t i = l->n; rc == 0 && i > 0; i--)
		if (!l->v[i - 1].is_root)
			rc = row_html(c, &b, l, &l->v[i - 1], now);
	if (rc == 0)
		rc = portal_html_printf(&b, "</tbody>\n</table>\n<p class=\""
		    "hint\">\"Issues until\": the last day a certificate issued "
		    "then (with the validity the calendar allows that day) ends "
		    "before its issuing CA does. "
		    "Earlier issuing CAs issue nothing more, but keep signing "
		    "CRLs and OCSP responses for their certificates.</p>\n");
	if (rc == 0)
		rc = service_cert(&b, v, now);
	if (rc == 0)
		rc = portal_html_printf(&b, "<h2>Keys</h2>\n<p id=\"ca-keys\">"
		    "The CA keys are held by the signer process alone; new ones "
		    "are made %s. CAs are made on the CA host: <code>certdesk "
		    "init</code>, and each new issuing CA with <code>certdesk "
		    "ca roll</code>.</p>\n",
		    v->keys != NULL ? v->keys : "as the configuration says");
	if (rc == 0) {
		int64_t nkeys = 0;
		time_t newest = 0;
		char when[32] = "";

		if (store_blocked_key_count(c->st, &nkeys, &newest) != 0)
			nkeys = -1;
		if (newest != 0)
			portal_fmt_time(newest, when);
		if (nkeys == 0)
			rc = portal_html_printf(&b, "<h2>Compromised keys</h2>\n"
			    "<p id=\"ca-blocked\">No key is known to be "
			    "compromised yet. Keys are added by a revocation "
			    "for key compromise, by <a href=\"/report-key\">"
			    "reports with proof</a> and by <code>certdesk ca "
			    "block-key</code>, and then refused in CSRs and as "
			    "ACME account keys.</p>\n");
		else if (nkeys > 0)
			rc = portal_html_printf(&b, "<h2>Compromised keys</h2>\n<p "
		    "id=\"ca-blocked\">%lld key%s known to be compromised "
		    "%s refused in CSRs and as ACME account keys%s%s. Keys are "
		    "added by a revocation for key compromise, by <a "
		    "href=\"/report-key\">reports with proof</a> and by "
		    "<code>certdesk ca block-key</code>.</p>\n",
		    (long long)nkeys, nkeys == 1 ? "" : "s",
		    nkeys == 1 ? "is" : "are",
		    newest ? "; the newest was added " : "", when);
	}
	if (rc == 0 && v->ct != NULL) {
		struct ca_ct_info ci;
		char day[40] = "", d[32];

		/* the list in use now (SIGHUP reloads it) */
		ca_ct_info(v->ct, &ci);
		if (ci.list_time != 0) {
			portal_fmt_date(ci.list_time, d);
			snprintf(day, sizeof(day), " of %s", d);
		}
		rc = portal_html_printf(&b, "<h2>Certificate Transparency</h2>"
		    "\n<p id=\"ca-ct\">Every subscriber certificate is logged "
		    "as a precertificate first and issued with the SCTs of "
		    "the logs embedded: %lld usable logs of %lld operators, "
		    "from the log list %s%s. A new list is read when "
		    "<code>certdesk serve</code> gets SIGHUP.</p>\n",
		    (long long)ci.nlogs, (long long)ci.noperators,
		    v->ct_path ? v->ct_path : "", day);
	} else if (rc == 0)
		rc = portal_html_printf(&b, "<h2>Certificate Transparency</h2>"
		    "\n<p id=\"ca-ct\" class=\"warning\">Off: no <code>"
		    "ct.log_list</code> is configured, so certificates are not "
		    "logged. Browsers trust no certificate of a public CA "
		    "without SCTs; a private PKI needs none.</p>\n");
	if (rc == 0)
		rc = portal_html_printf(&b, "</section>\n");
	if (rc == 0)
		rc = portal_page_reply(c, 200, "Certificate authority",
		    (const char *)b.data);
	buf_free(&b);
	free(l);
	return rc;
}

int
portal_ca(struct portal_req *c, const char *rest)
{
	/* not an admin: as if the page did not exist */
	if (!portal_admin_allowed(c) || rest[0] != '\0')
		return portal_error_reply(c, 404, NULL);
	if (!portal_is_get(c->r))
		return portal_error_reply(c, 405, NULL);
	return ca_page(c);
}
