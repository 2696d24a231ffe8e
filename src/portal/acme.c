/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACME credentials in the portal: a contract's External Account Binding
 * keys (RFC 8555 §7.3.4). An ACME client (certbot --eab-kid/--eab-hmac-key,
 * lego --eab --kid/--hmac, ...) that registers with one is bound to the
 * contract, and the certificates it issues show in this portal marked
 * "ACME (DV)". A customer makes keys for their own contracts, sees which
 * are used by which ACME account, and revokes the unused ones; the same
 * for pages (/portal/acme) and the API (/api/v1/contracts/{id}/acme-keys).
 *
 * The HMAC key is shown once: the store keeps it for the MAC check, but
 * nothing here ever reads it back. The page's form redirects to the page
 * that shows it (POST-redirect-GET: a reload makes no second key), which
 * takes it from where the form left it, sealed with a key only the
 * browser's session cookie gives, for a few minutes and for this one
 * showing (portal_reveal_keep, reveal.c); the API answers with it. Pages
 * and answers are not cached (portal_security_headers).
 *
 * Runs in the main certdesk process on HTTP worker threads; the request
 * is untrusted.
 */
#include "portal/portal_int.h"
#include "ra/ra.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the base64url of the 32-byte HMAC key, and its NUL */
#define KEY_TEXT 48

_Static_assert(PORTAL_EAB_KEY_LEN == (RA_EAB_KEY_LEN * 8 + 5) / 6 &&
    PORTAL_EAB_KEY_LEN < KEY_TEXT,
    "the HMAC key's text as portal_reveal_seal() takes it");

/* ---- shared ------------------------------------------------------------- */

/* For a contract the user sees: its number, a registration authority
 * (portal_ra_put() it) and the audit actor. RC_NOTFOUND otherwise. */
static int
contract_ra(struct portal_req *c, int64_t contract_id, char number[64],
    struct ra **ra, char actor[48])
{
	struct store_contract k;
	int rc;

	*ra = NULL;
	rc = portal_contract_visible(c, contract_id, &k);
	if (rc != 0)
		return rc;
	snprintf(number, 64, "%s", k.number);
	store_contract_clear(&k);
	portal_actor(c, actor);
	return portal_ra_get(c, ra);
}

/* Makes a key for a contract the user sees: kid and the key's text.
 * RC_NOTFOUND when the contract is not visible. */
static int
make_key(struct portal_req *c, int64_t contract_id,
    char kid[RA_EAB_KID_LEN + 1], char key[KEY_TEXT], char number[64])
{
	struct rc_detail d = {{0}};
	struct sec *raw = NULL;
	struct ra *ra = NULL;
	char actor[48];
	int rc;

	if ((rc = contract_ra(c, contract_id, number, &ra, actor)) != 0)
		return rc;
	rc = ra_eab_create(ra, contract_id, actor, kid, &raw, &d);
	portal_ra_put(c, ra);
	if (rc != 0) {
		log_err(LOG_PORTAL, "acme key for contract %lld: %s",
		    (long long)contract_id, d.msg);
		return rc;
	}
	ra_b64u(raw->data, raw->len, key);
	sec_free(raw);
	return 0;
}

/* Revokes an unused key of a contract the user sees: RC_NOTFOUND (no
 * such contract or key), RC_STATE (in use). */
static int
revoke_key(struct portal_req *c, int64_t contract_id, const char *kid)
{
	struct ra *ra = NULL;
	char actor[48], number[64];
	int rc;

	if ((rc = contract_ra(c, contract_id, number, &ra, actor)) != 0)
		return rc;
	rc = ra_eab_revoke(ra, contract_id, kid, actor);
	portal_ra_put(c, ra);
	return rc;
}

#define CONTACT_TEXT 256

/* The status of the ACME account a key bound ("valid", "deactivated",
 * "revoked") into out, and its contact addresses (portal_acme_contacts,
 * cut at CONTACT_TEXT) into contact, so that the customer can tell their
 * clients apart; the contact URLs as a JSON array into *urls when it is
 * not NULL (json_decref() it). */
json_t *
portal_acme_contacts(const char *contact_json, char *text, size_t n)
{
	json_t *list = json_loads(contact_json != NULL ? contact_json : "[]",
	    0, NULL), *v;
	size_t i, used = 0;

	text[0] = '\0';
	if (!json_is_array(list)) {
		json_decref(list);
		return json_array();
	}
	json_array_foreach(list, i, v) {
		const char *t = json_string_value(v);
		int w;

		if (t == NULL)
			continue;
		if (strncmp(t, "mailto:", 7) == 0)
			t += 7;
		w = snprintf(text + used, n - used, "%s%s", used > 0 ? ", " :
		    "", t);
		if (w < 0 || (size_t)w >= n - used)
			break;
		used += (size_t)w;
	}
	return list;
}

static int
account_status(struct portal_req *c, int64_t id, char out[16],
    char contact[CONTACT_TEXT], json_t **urls)
{
	struct store_acme_account a;
	int rc = store_acme_account_get(c->st, id, &a);
	json_t *list;

	contact[0] = '\0';
	if (rc == 0) {
		snprintf(out, 16, "%s", a.status);
		list = portal_acme_contacts(a.contact, contact, CONTACT_TEXT);
		if (urls != NULL)
			*urls = json_incref(list);
		json_decref(list);
	}
	store_acme_account_clear(&a);
	return rc;
}

/* Deactivates an ACME account bound to a contract the user sees:
 * RC_NOTFOUND (not visible, not that contract's), RC_STATE (not valid). */
static int
deactivate_account(struct portal_req *c, int64_t contract_id, int64_t id)
{
	struct ra_err err = {0};
	struct ra *ra = NULL;
	char actor[48], number[64];
	int rc;

	if ((rc = contract_ra(c, contract_id, number, &ra, actor)) != 0)
		return rc;
	rc = ra_account_deactivate_for(ra, id, contract_id, actor, &err);
	portal_ra_put(c, ra);
	if (rc == 0)
		log_info(LOG_PORTAL, "ACME account %lld of contract %lld "
		    "deactivated by %s", (long long)id, (long long)contract_id,
		    actor);
	return rc;
}

/* ---- pages -------------------------------------------------------------- */

struct rows {
	struct portal_req *c;
	struct buf *b;
	int64_t contract_id;
	size_t n;
};

static int
key_row(const struct store_eab_key *k, void *arg)
{
	struct rows *w = arg;
	char made[32], bound[32], acct[24];
	int rc;

	portal_fmt_time(k->created_at, made);
	rc = portal_html_printf(w->b, "<tr><td><code>%s</code></td>"
	    "<td>%s</td><td>", k->kid, made);
	if (rc == 0 && k->account_id > 0) {
		char status[16] = "", contact[CONTACT_TEXT];
		char who[CONTACT_TEXT + 4];

		portal_fmt_time(k->bound_at, bound);
		snprintf(acct, sizeof(acct), "%lld", (long long)k->account_id);
		rc = account_status(w->c, k->account_id, status, contact,
		    NULL);
		snprintf(who, sizeof(who), contact[0] ? " (%s)" : "%s",
		    contact);
		if (rc == 0 && strcmp(status, "valid") == 0)
			rc = portal_html_printf(w->b, "<span class=\"state "
			    "state-issued\">In use</span> by ACME account %s%s "
			    "since %s</td><td>"
			    "<form method=\"post\" "
			    "action=\"/portal/acme/accounts/deactivate\" "
			    "class=\"inline\">"
			    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
			    "<input type=\"hidden\" name=\"contract\" "
			    "value=\"%lld\">"
			    "<input type=\"hidden\" name=\"account\" "
			    "value=\"%s\">"
			    "<button type=\"submit\" class=\"button small\">"
			    "Deactivate account<span "
			    "class=\"visually-hidden\"> "
			    "%s</span></button></form>", acct, who, bound,
			    w->c->csrf, (long long)w->contract_id, acct, acct);
		else if (rc == 0)
			rc = portal_html_printf(w->b, "<span class=\"state "
			    "state-revoked\">%s</span> ACME account %s%s, "
			    "bound "
			    "%s</td><td><span class=\"muted\">"
			    "\xe2\x80\x94</span>",
			    strcmp(status, "revoked") == 0 ?
			    "Revoked by the CA" : "Deactivated", acct, who,
			    bound);
	} else if (rc == 0) {
		rc = portal_html_printf(w->b, "<span class=\"state "
		    "state-unused\">Not used yet</span></td><td>"
		    "<form method=\"post\" action=\"/portal/acme/keys/revoke\" "
		    "class=\"inline\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		    "<input type=\"hidden\" name=\"contract\" value=\"%lld\">"
		    "<input type=\"hidden\" name=\"kid\" value=\"%s\">"
		    "<button type=\"submit\" class=\"button small\">Revoke"
		    "<span class=\"visually-hidden\"> %s</span></button>"
		    "</form>", w->c->csrf, (long long)w->contract_id, k->kid,
		    k->kid);
	}
	if (rc == 0)
		rc = portal_html_printf(w->b, "</td></tr>\n");
	w->n++;
	return rc;
}

static int
contract_card(struct portal_req *c, struct buf *b, int64_t id)
{
	struct store_contract k;
	struct rows w = {c, NULL, id, 0};
	struct buf t;
	int rc;

	rc = store_contract_get(c->st, id, &k);
	if (rc != 0)
		return rc;
	buf_init(&t, 256 * 1024);
	w.b = &t;
	rc = store_eab_list(c->st, id, key_row, &w);
	if (rc == 0)
		rc = portal_html_printf(b, "<section class=\"card\" "
		    "aria-labelledby=\"acme-%lld\">\n<h2 id=\"acme-%lld\">"
		    "Contract %s</h2>\n", (long long)id, (long long)id,
		    k.number);
	if (rc == 0 && w.n == 0)
		rc = portal_html_printf(b, "<p>No ACME credentials yet.</p>\n");
	if (rc == 0 && w.n > 0)
		rc = portal_html_printf(b, "<table class=\"acme-keys\">\n"
		    "<thead><tr><th scope=\"col\">Key ID</th>"
		    "<th scope=\"col\">Made</th><th scope=\"col\">State</th>"
		    "<th scope=\"col\"><span class=\"visually-hidden\">"
		    "Actions</span></th></tr></thead>\n<tbody>\n");
	if (rc == 0 && w.n > 0)
		rc = buf_append(b, t.data, t.len);
	if (rc == 0 && w.n > 0)
		rc = portal_html_printf(b, "</tbody>\n</table>\n");
	if (rc == 0)
		rc = portal_html_printf(b, "<form method=\"post\" "
		    "action=\"/portal/acme/keys\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		    "<input type=\"hidden\" name=\"contract\" value=\"%lld\">"
		    "<button type=\"submit\" class=\"button primary\">"
		    "Create ACME credentials<span class=\"visually-hidden\"> "
		    "for contract %s</span></button></form>\n</section>\n",
		    c->csrf, (long long)id, k.number);
	buf_free(&t);
	store_contract_clear(&k);
	return rc;
}

/* GET /portal/acme */
static int
acme_page(struct portal_req *c)
{
	const char *dir = portal_acme_directory(c->p);
	int64_t *ids = NULL;
	size_t n = 0;
	struct buf b;
	int rc;

	buf_init(&b, 1024 * 1024);
	rc = portal_html_printf(&b, "<h1>ACME</h1>\n");
	if (rc == 0)
		rc = portal_flash_html(c, &b);
	if (rc == 0 && dir == NULL) {
		rc = portal_html_printf(&b, "<p class=\"card\">This server "
		    "does not offer ACME.</p>\n");
		goto done;
	}
	if (rc == 0)
		rc = portal_html_printf(&b, "<section class=\"card\" "
		    "id=\"acme-intro\">\n<h2>Automatic certificates</h2>\n"
		    "<p>ACME clients such as certbot, lego "
		    "or Caddy can request DV certificates for your domains by "
		    "themselves. Give a client a set of credentials below when "
		    "it registers: its ACME account is then bound to the "
		    "contract, and the certificates it issues appear in your "
		    "overview, marked <strong>ACME (DV)</strong>. Each set "
		    "binds one ACME account.</p>\n<table class=\"dv-values\">"
		    "\n");
	if (rc == 0)
		rc = portal_copy_row(&b, "ACME directory", "acme-directory",
		    dir);
	if (rc == 0)
		rc = portal_html_printf(&b, "</table>\n</section>\n");
	if (rc == 0)
		rc = portal_contract_ids(c, &ids, &n);
	if (rc == 0 && n == 0)
		rc = portal_html_printf(&b, "<p class=\"card\">There are no "
		    "contracts in this account yet.</p>\n");
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = contract_card(c, &b, ids[i]);
done:
	if (rc == 0)
		rc = portal_page_reply(c, 200, "ACME", (const char *)b.data);
	free(ids);
	buf_free(&b);
	return rc;
}

/* The form of a POST under /portal/acme/, CSRF checked: the contract id
 * and (field not NULL) that field's value in *val; NULL form on a failed
 * check. */
static struct portal_form *
post_form(struct portal_req *c, const char *field, int64_t *contract,
    const char **val)
{
	struct portal_form *f = portal_req_form(c);
	const char *v;

	if (f == NULL)
		return NULL;
	v = portal_form_get(f, "contract");
	*contract = v != NULL ? portal_parse_id(v, strlen(v)) : 0;
	*val = field != NULL ? portal_form_get(f, field) : NULL;
	return f;
}

/* POST /portal/acme/keys: makes the credentials and redirects to the page
 * that shows them once (new_page). */
static int
create_post(struct portal_req *c)
{
	char kid[RA_EAB_KID_LEN + 1], key[KEY_TEXT], number[64], to[128];
	struct portal_form *f;
	const char *unused;
	int64_t contract = 0;
	int rc;

	if ((f = post_form(c, NULL, &contract, &unused)) == NULL)
		return portal_form_refused(c);
	portal_form_free(f);
	if (portal_acme_directory(c->p) == NULL || contract <= 0)
		return portal_error_reply(c, 404, NULL);
	rc = make_key(c, contract, kid, key, number);
	if (rc == RC_NOTFOUND)
		return portal_error_reply(c, 404, NULL);
	if (rc != 0)
		return rc;
	rc = portal_reveal_keep(c, &(struct store_reveal){.eab_kid = kid},
	    key);
	sec_wipe(key, sizeof(key));
	if (rc != 0) {
		/* credentials nobody can be shown are of no use to anyone */
		log_err(LOG_PORTAL, "acme key %s of contract %lld: cannot keep "
		    "it for its page: %s", kid, (long long)contract,
		    rc_str(rc));
		(void)revoke_key(c, contract, kid);
		return rc;
	}
	snprintf(to, sizeof(to), "/portal/acme/keys/new/%lld/%s",
	    (long long)contract, kid);
	return portal_redirect(c->r, to);
}

/* Whether the contract has the key kid (an unknown one has no page). */
static int
has_key(const struct store_eab_key *k, void *arg)
{
	return strcmp(k->kid, arg) == 0;
}

/* The contract's first domain into arg (char[254]), for the examples. */
static int
first_domain(const struct store_row *row, void *arg)
{
	snprintf(arg, 254, "%s", row->name);
	return 1;	/* one is enough */
}

/* GET /portal/acme/keys/new/<contract>/<kid>: the new credentials, shown
 * this once; the examples name one of the contract's domains and the
 * user's address (example.com only when the contract has none yet). */
static int
new_page(struct portal_req *c, int64_t contract, const char *kid)
{
	const char *dir = portal_acme_directory(c->p);
	char key[PORTAL_REVEAL_TEXT] = "", domain[254] = "";
	struct store_contract k;
	struct buf b;
	int rc;

	/* the keys of the user's own contracts only */
	if (dir == NULL)
		return portal_error_reply(c, 404, NULL);
	rc = portal_contract_visible(c, contract, &k);
	if (rc == RC_NOTFOUND)
		return portal_error_reply(c, 404, NULL);
	if (rc != 0)
		return rc;
	rc = store_eab_list(c->st, contract, has_key, (void *)kid);
	if (rc != 1) {
		store_contract_clear(&k);
		return rc == 0 ? portal_error_reply(c, 404, NULL) : rc;
	}
	rc = portal_reveal_take(c, &(struct store_reveal){.eab_kid = kid},
	    key);
	if (rc == RC_NOTFOUND) {
		/* shown already (a reload, the back button), or never to
		 * this session: the key's text is gone for good */
		store_contract_clear(&k);
		portal_flash_set(c->r, 0, "New ACME credentials are shown "
		    "only once, right after they are made, and not again. If "
		    "the HMAC key was not copied, revoke them and create new "
		    "ones.");
		return portal_redirect(c->r, "/portal/acme");
	}
	if (rc != 0) {
		store_contract_clear(&k);
		return rc;
	}
	buf_init(&b, 64 * 1024);
	rc = portal_html_printf(&b, "<h1>ACME credentials</h1>\n"
	    "<section class=\"card\" id=\"acme-new\">\n"
	    "<h2>For contract %s</h2>\n<p class=\"alert\" role=\"alert\">"
	    "Copy the HMAC key now: it is shown only this once. If it is "
	    "lost, revoke these credentials and create new ones.</p>\n"
	    "<table class=\"dv-values\">\n", k.number);
	if (rc == 0)
		rc = portal_copy_row(&b, "ACME directory", "acme-directory",
		    dir);
	if (rc == 0)
		rc = portal_copy_row(&b, "Key ID", "acme-kid", kid);
	if (rc == 0)
		rc = portal_copy_row(&b, "HMAC key", "acme-hmac", key);
	if (rc == 0) {
		int r = store_list(c->st, "domains", contract, first_domain,
		    domain);

		rc = r < 0 ? r : 0;
	}
	if (rc == 0)
		rc = portal_html_printf(&b, "</table>\n<h3>certbot</h3>\n"
		    "<pre><code>certbot certonly --server %s \\\n"
		    "    --eab-kid=%s \\\n    --eab-hmac-key=%s \\\n"
		    "    -d %s</code></pre>\n<h3>lego</h3>\n"
		    "<pre><code>lego --server %s \\\n    --eab --kid %s \\\n"
		    "    --hmac %s \\\n    --email %s "
		    "--domains %s --http run</code></pre>\n"
		    "<p>Trust the CA's root certificate for the directory's "
		    "HTTPS%s.</p>\n<p><a href=\"/portal/acme\">"
		    "Back to ACME</a></p>\n</section>\n", dir, kid, key,
		    domain[0] ? domain : "example.com", dir, kid, key,
		    c->user.email ? c->user.email : "you@example.com",
		    domain[0] ? domain : "example.com", domain[0] ? "" :
		    ", and put your own domain for example.com");
	if (rc == 0)
		rc = portal_page_reply(c, 200, "ACME credentials",
		    (const char *)b.data);
	sec_wipe(key, sizeof(key));
	buf_free(&b);
	store_contract_clear(&k);
	return rc;
}

/* POST /portal/acme/keys/revoke: back to the page with what happened. */
static int
revoke_post(struct portal_req *c)
{
	struct portal_form *f;
	const char *kid;
	char msg[200];
	int64_t contract = 0;
	int rc;

	if ((f = post_form(c, "kid", &contract, &kid)) == NULL)
		return portal_form_refused(c);
	rc = contract > 0 && kid != NULL ? revoke_key(c, contract, kid) :
	    RC_NOTFOUND;
	if (rc == 0)
		snprintf(msg, sizeof(msg), "The ACME credentials %.64s are "
		    "revoked: no ACME account can register with them.", kid);
	else if (rc == RC_STATE)
		snprintf(msg, sizeof(msg), "The ACME credentials %.64s are in "
		    "use by an ACME account and stay.", kid);
	else if (rc == RC_NOTFOUND)
		snprintf(msg, sizeof(msg), "There are no such ACME "
		    "credentials.");
	portal_form_free(f);
	if (rc != 0 && rc != RC_STATE && rc != RC_NOTFOUND)
		return rc;
	portal_flash_set(c->r, rc == 0, msg);
	return portal_redirect(c->r, "/portal/acme");
}

/* POST /portal/acme/accounts/deactivate: back to the page. */
static int
deactivate_post(struct portal_req *c)
{
	struct portal_form *f;
	const char *v;
	char msg[200];
	int64_t contract = 0, id;
	int rc;

	if ((f = post_form(c, "account", &contract, &v)) == NULL)
		return portal_form_refused(c);
	id = v != NULL ? portal_parse_id(v, strlen(v)) : 0;
	portal_form_free(f);
	rc = contract > 0 && id > 0 ? deactivate_account(c, contract, id) :
	    RC_NOTFOUND;
	if (rc == 0)
		snprintf(msg, sizeof(msg), "ACME account %lld is deactivated: "
		    "it can order nothing more, and its pending orders are "
		    "cancelled. Its certificates stay valid; revoke them on "
		    "their pages if its key leaked.", (long long)id);
	else if (rc == RC_STATE)
		snprintf(msg, sizeof(msg), "ACME account %lld is not active.",
		    (long long)id);
	else if (rc == RC_NOTFOUND)
		snprintf(msg, sizeof(msg), "There is no such ACME account.");
	else
		return rc;
	portal_flash_set(c->r, rc == 0, msg);
	return portal_redirect(c->r, "/portal/acme");
}

/* /portal/acme/keys/new/<contract>/<kid> (rest: after "new/"): GET only;
 * 404 for anything but a contract id and a key id (new_page looks the key
 * up among the contract's). */
static int
new_route(struct portal_req *c, const char *rest)
{
	const char *kid = strchr(rest, '/');
	int64_t contract;

	if (kid == NULL ||
	    (contract = portal_parse_id(rest, (size_t)(kid - rest))) <= 0 ||
	    strlen(++kid) != RA_EAB_KID_LEN)
		return portal_error_reply(c, 404, NULL);
	return portal_is_get(c->r) ? new_page(c, contract, kid) :
	    portal_error_reply(c, 405, NULL);
}

int
portal_acme(struct portal_req *c, const char *rest)
{
	if (rest[0] == '\0')
		return portal_is_get(c->r) ? acme_page(c) :
		    portal_error_reply(c, 405, NULL);
	if (strcmp(rest, "/keys") == 0)
		return portal_is_get(c->r) ? portal_error_reply(c, 405, NULL) :
		    create_post(c);
	if (strncmp(rest, "/keys/new/", 10) == 0)
		return new_route(c, rest + 10);
	if (strcmp(rest, "/keys/revoke") == 0)
		return portal_is_get(c->r) ? portal_error_reply(c, 405, NULL) :
		    revoke_post(c);
	if (strcmp(rest, "/accounts/deactivate") == 0)
		return portal_is_get(c->r) ? portal_error_reply(c, 405, NULL) :
		    deactivate_post(c);
	return portal_error_reply(c, 404, NULL);
}

/* ---- API ---------------------------------------------------------------- */

struct key_list {
	struct portal_req *c;
	json_t *list;
};

static int
key_json(const struct store_eab_key *k, void *arg)
{
	struct key_list *l = arg;
	json_t *j;
	char t[32], status[16], contact[CONTACT_TEXT];
	int rc;

	portal_fmt_rfc3339(k->created_at, t);
	j = json_pack("{s:s,s:s,s:s}", "kid", k->kid, "created", t,
	    "status", k->account_id > 0 ? "in-use" : "unused");
	if (j == NULL)
		return RC_NOMEM;
	if (k->account_id > 0) {
		json_t *urls = NULL;

		if ((rc = account_status(l->c, k->account_id, status,
		    contact, &urls)) != 0) {
			json_decref(j);
			return rc;
		}
		json_object_set_new(j, "account_contact", urls);
		portal_fmt_rfc3339(k->bound_at, t);
		json_object_set_new(j, "account", json_integer(k->account_id));
		json_object_set_new(j, "account_status", json_string(status));
		json_object_set_new(j, "bound", json_string(t));
	}
	json_array_append_new(l->list, j);
	return 0;
}

/* GET /api/v1/contracts/{id}/acme-keys */
int
portal_api_eab_list(struct portal_req *c, int64_t contract_id)
{
	const char *dir = portal_acme_directory(c->p);
	struct store_contract k;
	json_t *list;
	int rc;

	rc = portal_contract_visible(c, contract_id, &k);
	if (rc == RC_NOTFOUND)
		return portal_api_not_found(c);
	if (rc != 0)
		return rc;
	store_contract_clear(&k);
	list = json_array();
	{
		struct key_list l = {c, list};

		rc = store_eab_list(c->st, contract_id, key_json, &l);
	}
	if (rc != 0) {
		json_decref(list);
		return rc;
	}
	return portal_api_json(c->r, 200, json_pack("{s:o,s:o}", "directory",
	    dir != NULL ? json_string(dir) : json_null(), "keys", list));
}

/* Whether the user may see the contract (another customer's is not
 * there: 404 before anything else is said). */
static int
contract_mine(struct portal_req *c, int64_t contract_id)
{
	struct store_contract k;

	if (portal_contract_visible(c, contract_id, &k) != 0)
		return 0;
	store_contract_clear(&k);
	return 1;
}

/* POST /api/v1/contracts/{id}/acme-keys */
int
portal_api_eab_create(struct portal_req *c, int64_t contract_id)
{
	char kid[RA_EAB_KID_LEN + 1], key[KEY_TEXT], number[64];
	const char *dir = portal_acme_directory(c->p);
	json_t *j;
	int rc;

	if (dir == NULL)
		return portal_api_problem(c->r, 409, "no-acme",
		    "This server does not offer ACME", NULL);
	/* as API tokens (tokens.c): credentials that would outlive the
	 * revocation of a leaked token are made from a browser session
	 * only */
	if (c->via_token && !contract_mine(c, contract_id))
		return portal_api_not_found(c);
	if (c->via_token)
		return portal_api_problem(c->r, 403, "session-only",
		    "ACME credentials are made from a browser session (the "
		    "ACME page, or this API with its CSRF token), not with an "
		    "API token", NULL);
	rc = make_key(c, contract_id, kid, key, number);
	if (rc == RC_NOTFOUND)
		return portal_api_not_found(c);
	if (rc != 0)
		return rc;
	j = json_pack("{s:s,s:s,s:s,s:I}", "kid", kid, "hmac_key", key,
	    "directory", dir, "contract", (json_int_t)contract_id);
	sec_wipe(key, sizeof(key));
	return portal_api_json(c->r, 201, j);
}

/* The request body's JSON object (*in: json_decref() it) and its member
 * name; NULL when the body is no object or has no such member. */
static const json_t *
body_member(struct portal_req *c, const char *name, json_t **in)
{
	const uint8_t *body;
	size_t len;

	body = http_req_body(c->r, &len);
	*in = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES,
	    NULL);
	return json_is_object(*in) ? json_object_get(*in, name) : NULL;
}

/* POST /api/v1/contracts/{id}/acme-keys/revoke {"kid": "..."} */
int
portal_api_eab_revoke(struct portal_req *c, int64_t contract_id)
{
	json_t *in;
	const json_t *v = body_member(c, "kid", &in);
	int rc;

	if (!json_is_string(v)) {
		json_decref(in);
		return portal_api_problem(c->r, 400, "malformed",
		    "The request is not valid",
		    "Send {\"kid\": \"<key id>\"}.");
	}
	rc = revoke_key(c, contract_id, json_string_value(v));
	if (rc == RC_NOTFOUND)
		rc = portal_api_not_found(c);
	else if (rc == RC_STATE)
		rc = portal_api_problem(c->r, 409, "eab-in-use",
		    "The credentials are in use",
		    "An ACME account registered with them; they stay.");
	else if (rc == 0)
		rc = portal_api_json(c->r, 200, json_pack("{s:s,s:s}", "kid",
		    json_string_value(v), "status", "revoked"));
	json_decref(in);
	return rc;
}

/* POST /api/v1/contracts/{id}/acme-accounts/deactivate {"account": N} */
int
portal_api_acme_account_deactivate(struct portal_req *c, int64_t contract_id)
{
	json_t *in;
	const json_t *v = body_member(c, "account", &in);
	json_int_t id = json_is_integer(v) ? json_integer_value(v) : 0;
	int rc;

	json_decref(in);
	if (id <= 0)
		return portal_api_problem(c->r, 400, "malformed",
		    "The request is not valid",
		    "Send {\"account\": <ACME account id>}.");
	rc = deactivate_account(c, contract_id, (int64_t)id);
	if (rc == RC_NOTFOUND)
		return portal_api_not_found(c);
	if (rc == RC_STATE)
		return portal_api_problem(c->r, 409, "acme-account-state",
		    "The ACME account is not active", NULL);
	if (rc != 0)
		return rc;
	return portal_api_json(c->r, 200, json_pack("{s:I,s:s}", "account",
	    id, "status", "deactivated"));
}
