/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ACME accounts (RFC 8555 §7.3), External Account Binding keys (§7.3.4)
 * and nonces (§6.5).
 *
 * Accounts: one per public key (the RFC 7638 thumbprint is unique in the
 * store); statuses valid -> deactivated (by the client) or revoked (by the
 * CA), never back. An EAB binding is made in the same transaction as the
 * account, with a conditional update of the key row, so one key binds one
 * account even when two requests race. Contacts are mailto: URLs only,
 * checked here because they come from the client.
 *
 * Nonces: issue time || sequence number || MAC, checked here and redeemed
 * in the store's nonce ring (store_nonce_use), which every instance on the
 * database shares, so any of them accepts a nonce another handed out, once.
 *
 * Runs in the main certdesk process. Trusts the JWS layer to have verified
 * the JWK and the EAB MAC; trusts nothing else from the client.
 */
#include "ra/ra_int.h"
#include "ca/ca.h"
#include "store/store.h"
#include "util/log.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#define MAX_CONTACT_URL 320	/* "mailto:" + local (64) + "@" + domain */

/* ---- conversions --------------------------------------------------------- */

static void
fill_account(const struct store_acme_account *s, struct ra_account *a)
{
	int st = ra_status_parse(s->status);

	memset(a, 0, sizeof(*a));
	a->id = s->id;
	a->status = st < 0 ? RA_ST_REVOKED : (enum ra_status)st;
	a->jwk = xstrdup(s->jwk != NULL ? s->jwk : "");
	snprintf(a->thumbprint, sizeof(a->thumbprint), "%s",
	    s->thumbprint != NULL ? s->thumbprint : "");
	a->contact = xstrdup(s->contact != NULL ? s->contact : "[]");
	a->contract_id = s->contract_id;
	a->eab_kid = s->eab_kid != NULL ? xstrdup(s->eab_kid) : NULL;
	a->created_at = s->created_at;
}

void
ra_account_clear(struct ra_account *a)
{
	if (a == NULL)
		return;
	free(a->jwk);
	free(a->contact);
	free(a->eab_kid);
	memset(a, 0, sizeof(*a));
}

/* details (taken) audited as done by by (NULL: the account itself). */
static int
audit(struct store *st, int64_t account_id, const char *by,
    const char *action, const char *object, json_t *details)
{
	char actor[48], *text;
	int rc;

	snprintf(actor, sizeof(actor), "acme:account/%lld",
	    (long long)account_id);
	if (by != NULL)
		snprintf(actor, sizeof(actor), "%s", by);
	text = json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(details);
	if (text == NULL)
		return RC_NOMEM;
	rc = store_audit_append(st, actor, action, object, text);
	free(text);
	return rc;
}

/* ---- contacts ------------------------------------------------------------ */

/* A plausible single address after "mailto:": local@domain, local part
 * 1..64 printable characters without the URL and address specials, the
 * domain a fully qualified DNS name. */
static int
check_mailto(const char *url, struct ra_err *err)
{
	static const char specials[] = "?%,;:<>()[]\\\"& ";
	const char *addr = url + 7, *at;
	char domain[256];
	struct rc_detail d = {""};
	size_t n;

	for (const char *p = addr; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f)
			return ra_fail(err, RC_INVAL, RA_PROB_INVALID_CONTACT,
			    "contact has a space, control or non-ASCII "
			    "character");
		if (strchr(specials, c) != NULL)
			return ra_fail(err, RC_INVAL, RA_PROB_INVALID_CONTACT,
			    "contact '%.64s' has '%c': one plain address, no "
			    "header fields or escapes", url, c);
	}
	at = strchr(addr, '@');
	if (at == NULL || at == addr || strchr(at + 1, '@') != NULL)
		return ra_fail(err, RC_INVAL, RA_PROB_INVALID_CONTACT,
		    "contact '%.64s' is not one address local@domain", url);
	if (at - addr > 64)
		return ra_fail(err, RC_INVAL, RA_PROB_INVALID_CONTACT,
		    "contact: local part over 64 characters");
	/* RFC 5322 3.4.1 dot-atom: no leading, trailing or repeated dot */
	if (addr[0] == '.' || at[-1] == '.' ||
	    memmem(addr, (size_t)(at - addr), "..", 2) != NULL)
		return ra_fail(err, RC_INVAL, RA_PROB_INVALID_CONTACT,
		    "contact '%.64s': the part before '@' has a misplaced "
		    "dot", url);
	n = strlen(at + 1);
	if (n == 0 || n >= sizeof(domain))
		return ra_fail(err, RC_INVAL, RA_PROB_INVALID_CONTACT,
		    "contact '%.64s' has no valid domain", url);
	for (size_t i = 0; i <= n; i++) {
		char c = at[1 + i];

		domain[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	if (domain[0] == '*' || ca_name_check(domain, &d) != 0)
		return ra_fail(err, RC_INVAL, RA_PROB_INVALID_CONTACT,
		    "contact domain '%.64s' is not a valid DNS name", domain);
	return 0;
}

/* Checks a contact list (JSON array text, NULL for none) and returns its
 * compact form in *norm (free()). */
static int
check_contacts(struct ra *ra, const char *json, char **norm,
    struct ra_err *err)
{
	json_t *a = NULL, *v;
	json_error_t je;
	size_t i;
	int rc = 0;

	*norm = NULL;
	if (json == NULL || json[0] == '\0') {
		*norm = xstrdup("[]");
		return 0;
	}
	if (strlen(json) > 8192)
		return ra_fail(err, RC_INVAL, RA_PROB_INVALID_CONTACT,
		    "contact list too long");
	a = json_loads(json, JSON_REJECT_DUPLICATES, &je);
	if (a == NULL || !json_is_array(a)) {
		rc = ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
		    "contact must be an array of strings");
		goto out;
	}
	if (json_array_size(a) > ra->conf.max_contacts) {
		rc = ra_fail(err, RC_INVAL, RA_PROB_INVALID_CONTACT,
		    "too many contacts (at most %zu)", ra->conf.max_contacts);
		goto out;
	}
	json_array_foreach(a, i, v) {
		const char *url = json_string_value(v);

		if (url == NULL) {
			rc = ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
			    "contact must be an array of strings");
			goto out;
		}
		if (strlen(url) > MAX_CONTACT_URL) {
			rc = ra_fail(err, RC_INVAL, RA_PROB_INVALID_CONTACT,
			    "contact URL too long");
			goto out;
		}
		if (strncmp(url, "mailto:", 7) != 0) {
			rc = ra_fail(err, RC_INVAL,
			    RA_PROB_UNSUPPORTED_CONTACT,
			    "only mailto: contacts are supported");
			goto out;
		}
		rc = check_mailto(url, err);
		if (rc != 0)
			goto out;
	}
	*norm = json_dumps(a, JSON_COMPACT);
	if (*norm == NULL)
		abort();
out:
	json_decref(a);
	return rc;
}

/* ---- accounts ------------------------------------------------------------ */

struct new_acct {
	struct ra *ra;
	const char *jwk, *thumbprint, *contact, *eab_kid;
	const uint8_t *key_sha256;	/* may be NULL */
	const char *ip;		/* the client's address, or NULL */
	struct ra_err *err;	/* a rate limit's refusal */
	int64_t id;
	int64_t contract_id;
	int exists;		/* a row with the thumbprint was found */
	int eab_used;		/* the EAB key is bound already */
	int eab_unknown;
	int blocked;		/* the key was blocked meanwhile */
};

/* Whether the key (its SPKI hash, may be NULL) is blocked: checked again
 * in the transaction that gives it an account, so that a key blocked
 * after ra_account_key_allowed() but before the commit gets none. 0,
 * RC_WEAKKEY, or the store's error. */
static int
key_blocked_tx(struct store *st, const uint8_t *key_sha256)
{
	int rc;

	if (key_sha256 == NULL)
		return 0;
	rc = store_blocked_key_get(st, key_sha256, NULL);
	if (rc == 0)
		return RC_WEAKKEY;
	return rc == RC_NOTFOUND ? 0 : rc;
}

static int
new_acct_tx(struct store *st, void *arg)
{
	struct new_acct *n = arg;
	struct store_acme_account a = {0}, old;
	struct store_eab_key k;
	json_t *det;
	char object[48];
	int rc;

	n->exists = n->eab_used = n->eab_unknown = n->blocked = 0;
	n->contract_id = 0;
	rc = store_acme_account_by_thumbprint(st, n->thumbprint, &old);
	if (rc == 0) {
		n->id = old.id;
		n->exists = 1;
		store_acme_account_clear(&old);
		return RC_EXISTS;
	}
	if (rc != RC_NOTFOUND)
		return rc;
	if ((rc = key_blocked_tx(st, n->key_sha256)) != 0) {
		n->blocked = rc == RC_WEAKKEY;
		return rc;
	}
	if (n->eab_kid != NULL) {
		rc = store_eab_get(st, n->eab_kid, &k);
		if (rc == RC_NOTFOUND) {
			n->eab_unknown = 1;
			return RC_UNAUTH;
		}
		if (rc != 0)
			return rc;
		n->contract_id = k.contract_id;
		n->eab_used = k.account_id != 0;
		store_eab_clear(&k);
		if (n->eab_used)
			return RC_UNAUTH;
	} else {
		/* an EAB key binds one account: it is its own limit */
		rc = ra_limit_account(n->ra, st, n->ip, n->err);
		if (rc != 0)
			return rc;
	}
	a.status = "valid";
	a.jwk = (char *)n->jwk;
	a.thumbprint = (char *)n->thumbprint;
	a.contact = (char *)n->contact;
	a.contract_id = n->contract_id;
	a.eab_kid = (char *)n->eab_kid;
	a.created_at = ra_now(n->ra);
	if (n->key_sha256 != NULL) {
		memcpy(a.key_sha256, n->key_sha256, 32);
		a.has_key_sha256 = 1;
	}
	rc = store_acme_account_add(st, &a, &n->id);
	if (rc != 0)
		return rc;
	if (n->eab_kid != NULL) {
		rc = store_eab_bind(st, n->eab_kid, n->id, ra_now(n->ra));
		if (rc == RC_EXISTS) {
			n->eab_used = 1;
			return RC_UNAUTH;
		}
		if (rc != 0)
			return rc;
	}
	snprintf(object, sizeof(object), "acme_account:%lld",
	    (long long)n->id);
	det = json_pack("{s:I,s:s}", "id", (json_int_t)n->id, "thumbprint",
	    n->thumbprint);
	if (n->eab_kid != NULL) {
		json_object_set_new(det, "eab_kid", json_string(n->eab_kid));
		json_object_set_new(det, "contract",
		    json_integer(n->contract_id));
	}
	return audit(st, n->id, NULL, "acme.account.new", object, det);
}

int
ra_account_new(struct ra *ra, const char *jwk, const char *thumbprint,
    const char *contact_json, const char *eab_kid, struct ra_account *out,
    struct ra_err *err)
{
	return ra_account_new_from(ra, NULL, jwk, thumbprint, NULL,
	    contact_json, eab_kid, out, err);
}

int
ra_account_key_allowed(struct ra *ra, const uint8_t *spki, size_t len,
    struct ra_err *err)
{
	char why[CA_KEY_WHY_MAX];
	struct rc_detail d = {{0}};
	const uint8_t *p = spki;
	EVP_PKEY *k;
	int rc, lists;

	if (ra == NULL || spki == NULL || len == 0)
		return RC_INVAL;
	/* the key lists (and their size rules) are of RSA and ECDSA keys;
	 * the JWS layer has checked the key's type and size already */
	k = d2i_PUBKEY(NULL, &p, (long)len);
	lists = k != NULL && !EVP_PKEY_is_a(k, "ED25519");
	EVP_PKEY_free(k);
	if (lists && ra->conf.keycheck != NULL &&
	    (rc = ca_keycheck_spki(ra->conf.keycheck, spki, len, &d)) != 0)
		return ra_fail(err, RC_WEAKKEY, RA_PROB_BAD_PUBLIC_KEY,
		    "the account key is not allowed: %s", d.msg);
	rc = ca_key_blocked(ra->st, spki, len, why);
	if (rc == 1)
		return ra_fail(err, RC_WEAKKEY, RA_PROB_BAD_PUBLIC_KEY,
		    "the account key is known to be compromised (%s); make "
		    "a new key", why);
	if (rc != 0)
		return ra_internal(err, rc, "account key check");
	return 0;
}

int
ra_account_new_from(struct ra *ra, const char *client_ip, const char *jwk,
    const char *thumbprint, const uint8_t *key_sha256,
    const char *contact_json, const char *eab_kid, struct ra_account *out,
    struct ra_err *err)
{
	struct new_acct n = {0};
	char *contact = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	if (jwk == NULL || jwk[0] == '\0' ||
	    strlen(jwk) > STORE_MAX_ACME_JWK)
		return ra_fail(err, RC_INVAL, RA_PROB_BAD_PUBLIC_KEY,
		    "no usable account key");
	if (!ra_b64u_ok(thumbprint, RA_THUMBPRINT_MAX))
		return ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
		    "malformed key thumbprint");
	if (eab_kid != NULL && !ra_b64u_ok(eab_kid, STORE_MAX_ACME_TOKEN))
		return ra_fail(err, RC_UNAUTH, RA_PROB_UNAUTHORIZED,
		    "malformed External Account Binding key id");
	if (ra->conf.require_eab && eab_kid == NULL)
		return ra_fail(err, RC_UNAUTH,
		    RA_PROB_EXTERNAL_ACCOUNT_REQUIRED,
		    "this server requires an External Account Binding");
	rc = check_contacts(ra, contact_json, &contact, err);
	if (rc != 0)
		return rc;
	n.ra = ra;
	n.jwk = jwk;
	n.thumbprint = thumbprint;
	n.key_sha256 = key_sha256;
	n.contact = contact;
	n.eab_kid = eab_kid;
	n.ip = client_ip;
	n.err = err;
	rc = store_tx(ra->st, new_acct_tx, &n);
	if (rc == RC_EXISTS && !n.exists) {
		/* lost a race with another request for the same key */
		rc = ra_account_by_thumbprint(ra, thumbprint, out, err);
		if (rc == 0)
			rc = RC_EXISTS;
		goto out;
	}
	switch (rc) {
	case 0:
	case RC_EXISTS:
		rc = ra_account_get(ra, n.id, out, err) == 0 ? rc : RC_DB;
		if (rc == 0)
			log_info(LOG_RA, "acme account %lld created%s",
			    (long long)n.id, eab_kid ? " (EAB)" : "");
		break;
	case RC_UNAUTH:
		rc = ra_fail(err, RC_UNAUTH, RA_PROB_UNAUTHORIZED, "%s",
		    n.eab_unknown ? "unknown External Account Binding key id"
				  : "External Account Binding key already "
				    "used by another account");
		break;
	case RC_WEAKKEY:
		rc = ra_fail(err, RC_WEAKKEY, RA_PROB_BAD_PUBLIC_KEY,
		    "the account key is known to be compromised; make a new "
		    "key");
		break;
	case RC_POLICY:		/* a rate limit: err says which */
		log_info(LOG_RA, "new account from %s refused: %s",
		    client_ip != NULL ? client_ip : "?",
		    err != NULL ? err->detail.msg : "");
		break;
	default:
		rc = ra_internal(err, rc, "account new");
	}
out:
	free(contact);
	return rc;
}

int
ra_account_get(struct ra *ra, int64_t id, struct ra_account *out,
    struct ra_err *err)
{
	struct store_acme_account s;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	if (id <= 0)
		return ra_fail(err, RC_NOTFOUND,
		    RA_PROB_ACCOUNT_DOES_NOT_EXIST, "no such account");
	rc = store_acme_account_get(ra->st, id, &s);
	if (rc == RC_NOTFOUND)
		return ra_fail(err, rc, RA_PROB_ACCOUNT_DOES_NOT_EXIST,
		    "no such account");
	if (rc != 0)
		return ra_internal(err, rc, "account get");
	fill_account(&s, out);
	store_acme_account_clear(&s);
	return 0;
}

int
ra_account_by_thumbprint(struct ra *ra, const char *thumbprint,
    struct ra_account *out, struct ra_err *err)
{
	struct store_acme_account s;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL || out == NULL)
		return RC_INVAL;
	if (!ra_b64u_ok(thumbprint, RA_THUMBPRINT_MAX))
		return ra_fail(err, RC_NOTFOUND,
		    RA_PROB_ACCOUNT_DOES_NOT_EXIST, "no such account");
	rc = store_acme_account_by_thumbprint(ra->st, thumbprint, &s);
	if (rc == RC_NOTFOUND)
		return ra_fail(err, rc, RA_PROB_ACCOUNT_DOES_NOT_EXIST,
		    "no account with this key");
	if (rc != 0)
		return ra_internal(err, rc, "account by thumbprint");
	fill_account(&s, out);
	store_acme_account_clear(&s);
	return 0;
}

/* One change of an account, with its audit entry. */
struct acct_change {
	struct ra *ra;
	int64_t id;
	const char *what;	/* "contact", "deactivate", "revoke", "key" */
	const uint8_t *key_sha256;	/* key: the new key's, may be NULL */
	const char *reason;	/* revoke: why, for the audit log */
	const char *contact;
	const char *jwk, *thumbprint;
	const char *old_thumbprint;	/* key change: the signing key's */
	int stale;		/* key change: the key changed meanwhile */
	int64_t other;		/* key change: who holds the new key */
	int not_valid;
	int64_t contract_id;	/* > 0: only an account of this contract */
	const char *actor;	/* NULL: the account itself */
};

static int
acct_change_tx(struct store *st, void *arg)
{
	struct acct_change *c = arg;
	struct store_acme_account a, other;
	char object[48], action[48];
	json_t *det;
	int rc;

	c->not_valid = 0;
	c->other = 0;
	rc = store_acme_account_get(st, c->id, &a);
	if (rc != 0)
		return rc;
	if (c->contract_id > 0 && a.contract_id != c->contract_id) {
		rc = RC_NOTFOUND;
		goto out;
	}
	if (strcmp(a.status, "valid") != 0) {
		c->not_valid = 1;
		rc = RC_STATE;
		goto out;
	}
	det = json_pack("{s:I}", "id", (json_int_t)c->id);
	if (strcmp(c->what, "contact") == 0) {
		free(a.contact);
		a.contact = xstrdup(c->contact);
	} else if (strcmp(c->what, "deactivate") == 0) {
		free(a.status);
		a.status = xstrdup("deactivated");
		rc = store_acme_account_cancel(st, c->id,
		    "{\"type\":\"" RA_PROB_URN_PREFIX "unauthorized\","
		    "\"detail\":\"the account was deactivated\"}",
		    "deactivated", ra_now(c->ra));
	} else if (strcmp(c->what, "revoke") == 0) {
		static const char revoked[] = "{\"type\":\""
		    RA_PROB_URN_PREFIX "unauthorized\",\"detail\":\"the "
		    "account was revoked by the CA\"}";

		free(a.status);
		a.status = xstrdup("revoked");
		json_object_set_new(det, "reason", json_string(c->reason));
		rc = store_acme_account_cancel(st, c->id, revoked, "revoked",
		    ra_now(c->ra));
	} else if (c->old_thumbprint != NULL &&
	    strcmp(a.thumbprint, c->old_thumbprint) != 0) {
		/* verified with a key the account had when the request
		 * came, no more */
		c->stale = 1;
		json_decref(det);
		rc = RC_STATE;
		goto out;
	} else if ((rc = key_blocked_tx(st, c->key_sha256)) != 0) {
		json_decref(det);
		goto out;
	} else {
		rc = store_acme_account_by_thumbprint(st, c->thumbprint,
		    &other);
		if (rc == 0) {
			c->other = other.id;
			store_acme_account_clear(&other);
			json_decref(det);
			rc = RC_EXISTS;
			goto out;
		}
		if (rc != RC_NOTFOUND) {
			json_decref(det);
			goto out;
		}
		json_object_set_new(det, "old_thumbprint",
		    json_string(a.thumbprint));
		json_object_set_new(det, "new_thumbprint",
		    json_string(c->thumbprint));
		free(a.jwk);
		free(a.thumbprint);
		a.jwk = xstrdup(c->jwk);
		a.thumbprint = xstrdup(c->thumbprint);
		a.has_key_sha256 = c->key_sha256 != NULL;
		if (a.has_key_sha256)
			memcpy(a.key_sha256, c->key_sha256, 32);
		rc = 0;
	}
	if (rc == 0)
		rc = store_acme_account_update(st, &a);
	if (rc != 0) {
		json_decref(det);
		goto out;
	}
	snprintf(object, sizeof(object), "acme_account:%lld",
	    (long long)c->id);
	snprintf(action, sizeof(action), "acme.account.%s", c->what);
	rc = audit(st, c->id, c->actor, action, object, det);
out:
	store_acme_account_clear(&a);
	return rc;
}

static int
acct_change(struct acct_change *c, struct ra_account *out, struct ra_err *err)
{
	int rc = store_tx(c->ra->st, acct_change_tx, c);

	switch (rc) {
	case 0:
		break;
	case RC_NOTFOUND:
		return ra_fail(err, rc, RA_PROB_ACCOUNT_DOES_NOT_EXIST,
		    "no such account");
	case RC_STATE:
		return ra_fail(err, rc, RA_PROB_UNAUTHORIZED, c->stale ?
		    "the account's key was changed meanwhile" :
		    "the account is not valid");
	case RC_EXISTS:
		return ra_fail(err, rc, RA_PROB_MALFORMED,
		    "the new key is already used by an account");
	case RC_WEAKKEY:
		return ra_fail(err, rc, RA_PROB_BAD_PUBLIC_KEY,
		    "the new key is known to be compromised; make another");
	default:
		return ra_internal(err, rc, "account update");
	}
	if (out != NULL)
		return ra_account_get(c->ra, c->id, out, err);
	return 0;
}

int
ra_account_update_contact(struct ra *ra, int64_t id, const char *contact_json,
    struct ra_account *out, struct ra_err *err)
{
	struct acct_change c = {0};
	char *contact = NULL;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL)
		return RC_INVAL;
	rc = check_contacts(ra, contact_json, &contact, err);
	if (rc != 0)
		return rc;
	c.ra = ra;
	c.id = id;
	c.what = "contact";
	c.contact = contact;
	rc = acct_change(&c, out, err);
	free(contact);
	return rc;
}

int
ra_account_deactivate(struct ra *ra, int64_t id, struct ra_account *out,
    struct ra_err *err)
{
	struct acct_change c = {0};

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (ra == NULL)
		return RC_INVAL;
	c.ra = ra;
	c.id = id;
	c.what = "deactivate";
	return acct_change(&c, out, err);
}

int
ra_account_deactivate_for(struct ra *ra, int64_t id, int64_t contract_id,
    const char *actor, struct ra_err *err)
{
	struct acct_change c = {0};

	if (ra == NULL || contract_id <= 0 || actor == NULL)
		return RC_INVAL;
	c.ra = ra;
	c.id = id;
	c.what = "deactivate";
	c.contract_id = contract_id;
	c.actor = actor;
	return acct_change(&c, NULL, err);
}

int
ra_revoke_reason_ok(const char *reason)
{
	return reason != NULL && reason[strspn(reason, " \t\r\n")] != '\0' &&
	    strlen(reason) <= RA_REVOKE_REASON_MAX;
}

int
ra_account_revoke(struct ra *ra, int64_t id, const char *actor,
    const char *reason, struct ra_err *err)
{
	struct acct_change c = {0};

	if (ra == NULL || actor == NULL || !ra_revoke_reason_ok(reason))
		return RC_INVAL;
	c.ra = ra;
	c.id = id;
	c.what = "revoke";
	c.actor = actor;
	c.reason = reason;
	return acct_change(&c, NULL, err);
}

int
ra_account_key_change(struct ra *ra, int64_t id, const char *old_thumbprint,
    const char *new_jwk, const char *new_thumbprint,
    const uint8_t *new_key_sha256, int64_t *other_id, struct ra_account *out,
    struct ra_err *err)
{
	struct acct_change c = {0};
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (other_id != NULL)
		*other_id = 0;
	if (ra == NULL)
		return RC_INVAL;
	if (new_jwk == NULL || new_jwk[0] == '\0' ||
	    strlen(new_jwk) > STORE_MAX_ACME_JWK)
		return ra_fail(err, RC_INVAL, RA_PROB_BAD_PUBLIC_KEY,
		    "no usable new key");
	if (!ra_b64u_ok(new_thumbprint, RA_THUMBPRINT_MAX))
		return ra_fail(err, RC_INVAL, RA_PROB_MALFORMED,
		    "malformed key thumbprint");
	c.ra = ra;
	c.id = id;
	c.what = "key";
	c.old_thumbprint = old_thumbprint;
	c.jwk = new_jwk;
	c.thumbprint = new_thumbprint;
	c.key_sha256 = new_key_sha256;
	rc = acct_change(&c, out, err);
	if (rc == RC_EXISTS && other_id != NULL)
		*other_id = c.other;
	return rc;
}

/* ---- EAB keys ------------------------------------------------------------ */

struct eab_add {
	int64_t contract_id;
	const char *actor;
	const char *kid;
	const uint8_t *key;
};

/* Adds (key set) or revokes (key NULL) e's key, audited in the same
 * transaction. */
static int
eab_add_tx(struct store *st, void *arg)
{
	struct eab_add *e = arg;
	char object[48], *det;
	int rc;

	rc = e->key != NULL ? store_eab_add(st, e->kid, e->contract_id,
	    e->key, RA_EAB_KEY_LEN) : store_eab_delete(st, e->kid,
	    e->contract_id);
	if (rc != 0)
		return rc;
	snprintf(object, sizeof(object), "contract:%lld",
	    (long long)e->contract_id);
	det = xasprintf("{\"contract\":%lld,\"kid\":\"%s\"}",
	    (long long)e->contract_id, e->kid);
	rc = store_audit_append(st, e->actor, e->key != NULL ?
	    "acme.eab.create" : "acme.eab.revoke", object, det);
	free(det);
	return rc;
}

int
ra_eab_create(struct ra *ra, int64_t contract_id, const char *actor,
    char kid[RA_EAB_KID_LEN + 1], struct sec **key, struct rc_detail *d)
{
	struct eab_add e = {0};
	uint8_t raw[16];
	struct sec *k = NULL;
	int rc;

	if (key != NULL)
		*key = NULL;
	if (ra == NULL || kid == NULL || key == NULL || contract_id <= 0)
		return RC_INVAL;
	kid[0] = '\0';
	k = sec_new(RA_EAB_KEY_LEN);
	/* a key id that starts with '-' reads as an option to the clients'
	 * and our own command lines (certbot --eab-kid -x: "expected one
	 * argument"): drawn again (a 6-bit leading character: 1 in 64) */
	do {
		rc = sec_random(raw, sizeof(raw));
		if (rc == 0)
			ra_b64u(raw, sizeof(raw), kid);
	} while (rc == 0 && kid[0] == '-');
	if (rc != 0 || (rc = sec_random(k->data, k->len)) != 0) {
		rc_detail_set(d, "no randomness");
		goto out;
	}
	e.contract_id = contract_id;
	e.actor = actor != NULL && actor[0] != '\0' ? actor : "system";
	e.kid = kid;
	e.key = k->data;
	rc = store_tx(ra->st, eab_add_tx, &e);
	if (rc == RC_NOTFOUND) {
		rc_detail_set(d, "no contract with id %lld",
		    (long long)contract_id);
		goto out;
	}
	if (rc != 0) {
		rc_detail_set(d, "cannot store the key: %s", rc_str(rc));
		goto out;
	}
	log_info(LOG_RA, "EAB key %s created for contract %lld", kid,
	    (long long)contract_id);
	*key = k;
	k = NULL;
out:
	if (rc != 0)
		kid[0] = '\0';
	sec_free(k);
	return rc;
}

int
ra_eab_revoke(struct ra *ra, int64_t contract_id, const char *kid,
    const char *actor)
{
	struct eab_add e = {0};
	int rc;

	if (ra == NULL || contract_id <= 0)
		return RC_INVAL;
	if (!ra_b64u_ok(kid, STORE_MAX_ACME_TOKEN))
		return RC_NOTFOUND;
	e.contract_id = contract_id;
	e.actor = actor != NULL && actor[0] != '\0' ? actor : "system";
	e.kid = kid;
	rc = store_tx(ra->st, eab_add_tx, &e);	/* no key: revoke */
	if (rc == 0)
		log_info(LOG_RA, "EAB key %s of contract %lld revoked by %s",
		    kid, (long long)contract_id, e.actor);
	return rc;
}

int
ra_eab_lookup(struct ra *ra, const char *kid, struct sec **key,
    int64_t *contract_id, struct ra_err *err)
{
	struct store_eab_key k;
	int rc;

	if (key != NULL)
		*key = NULL;
	if (contract_id != NULL)
		*contract_id = 0;
	if (ra == NULL || key == NULL || contract_id == NULL)
		return RC_INVAL;
	if (!ra_b64u_ok(kid, STORE_MAX_ACME_TOKEN))
		return ra_fail(err, RC_UNAUTH, RA_PROB_UNAUTHORIZED,
		    "malformed External Account Binding key id");
	rc = store_eab_get(ra->st, kid, &k);
	if (rc == RC_NOTFOUND)
		return ra_fail(err, RC_UNAUTH, RA_PROB_UNAUTHORIZED,
		    "unknown External Account Binding key id");
	if (rc != 0)
		return ra_internal(err, rc, "eab lookup");
	/* a bound key too: whether it is used is told after its MAC */
	*key = sec_dup(k.key, k.key_len);
	*contract_id = k.contract_id;
	store_eab_clear(&k);
	return 0;
}

/* ---- nonces -------------------------------------------------------------- */

#define NONCE_RAW 24	/* issued (4) || sequence (8) || MAC (12) */

static int
b64u_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decodes exactly RA_NONCE_LEN base64url characters (no padding; 32 is a
 * multiple of 4, so there are no partial groups) into NONCE_RAW bytes. */
static int
nonce_decode(const char *s, uint8_t out[NONCE_RAW])
{
	for (int i = 0, o = 0; i < RA_NONCE_LEN; i += 4, o += 3) {
		int a = b64u_val(s[i]), b = b64u_val(s[i + 1]);
		int c = b64u_val(s[i + 2]), d = b64u_val(s[i + 3]);

		if (a < 0 || b < 0 || c < 0 || d < 0)
			return RC_INVAL;
		out[o] = (uint8_t)(a << 2 | b >> 4);
		out[o + 1] = (uint8_t)((b & 15) << 4 | c >> 2);
		out[o + 2] = (uint8_t)((c & 3) << 6 | d);
	}
	return 0;
}

static int
nonce_key(struct ra *ra)
{
	int rc;

	if (ra->nonce_key_ok)
		return 0;
	rc = store_nonce_key(ra->st, ra->nonce_key);
	if (rc != 0) {
		log_err(LOG_RA, "nonce: no key: %s", rc_str(rc));
		return rc;
	}
	ra->nonce_key_ok = 1;
	return 0;
}

static void
nonce_mac(const struct ra *ra, const uint8_t body[12], uint8_t mac[12])
{
	uint8_t full[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256(full, body, 12, ra->nonce_key);
	memcpy(mac, full, 12);
}

int
ra_nonce_new(struct ra *ra, char out[RA_NONCE_LEN + 1])
{
	uint8_t raw[NONCE_RAW];
	uint64_t seq;
	uint32_t t;
	int rc;

	if (ra == NULL || out == NULL)
		return RC_INVAL;
	out[0] = '\0';
	if ((rc = nonce_key(ra)) != 0)
		return rc;
	if ((rc = store_nonce_next(ra->st, &seq)) != 0) {
		log_err(LOG_RA, "nonce: %s", rc_str(rc));
		return rc;
	}
	t = (uint32_t)ra_now(ra);
	for (int i = 0; i < 4; i++)
		raw[i] = (uint8_t)(t >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		raw[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
	/* the MAC makes it unpredictable (RFC 8555 §6.5) and ours */
	nonce_mac(ra, raw, raw + 12);
	ra_b64u(raw, sizeof(raw), out);
	return 0;
}

int
ra_nonce_redeem(struct ra *ra, const char *nonce)
{
	uint8_t raw[NONCE_RAW], mac[12];
	time_t issued, now;
	uint64_t seq = 0;
	int rc;

	if (ra == NULL)
		return RC_INVAL;
	if (nonce == NULL || strnlen(nonce, RA_NONCE_LEN + 1) != RA_NONCE_LEN ||
	    nonce_decode(nonce, raw) != 0)
		return RC_NOTFOUND;
	if ((rc = nonce_key(ra)) != 0)
		return rc;
	nonce_mac(ra, raw, mac);
	if (!sec_equal(mac, raw + 12, sizeof(mac)))
		return RC_NOTFOUND;	/* not one of ours */
	issued = (time_t)((uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
	    (uint32_t)raw[2] << 8 | raw[3]);
	now = ra_now(ra);
	if (issued > now + 60 ||
	    now >= issued + (time_t)ra->conf.nonce_lifetime)
		return RC_NOTFOUND;	/* from the future, or expired */
	for (int i = 0; i < 8; i++)
		seq = seq << 8 | raw[4 + i];
	rc = store_nonce_use(ra->st, seq);
	if (rc == RC_EXISTS || rc == RC_NOTFOUND)
		return RC_NOTFOUND;	/* a replay, or too old to tell */
	if (rc != 0)
		log_err(LOG_RA, "nonce: cannot redeem: %s", rc_str(rc));
	return rc;
}

