/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `certdesk admin ...`: what billing and domain registration would
 * otherwise feed in: customers, users (disabled, enabled, a new
 * password), contracts, domains (and their removal), certificate slots,
 * and organisation data the operator verified out of band. Every change
 * is written together with its audit entry in one store transaction
 * (actor "cli:<unix user>"); the new object's id is printed alone on
 * stdout so that scripts can use it.
 *
 * Runs in the main certdesk process. Trusts the data directory; option
 * values are checked here. Passwords come from stdin only, are hashed with
 * argon2id (libsodium) and wiped; neither they nor their hashes are logged
 * or audited.
 */
#include "daemon/daemon_int.h"
#include "portal/portal.h"
#include "ra/ra.h"
#include "store/store.h"
#include "util/log.h"
#include "util/sec.h"
#include "util/xmalloc.h"
#include "validation/val.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define NOPTS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_PASSWORD 1024

/* One admin change: the store call and its audit entry in one transaction. */
struct op {
	struct daemon_ctx *cx;
	const char *kind;	/* "customer", ... : audit "<kind>.add" */
	int64_t parent;
	const char *name;
	const char *email;
	const char *product;
	int role;
	int hosted;
	const char *pw_hash;
	const struct store_org *org;
	json_t *details;	/* audit details; owned */
	int64_t id;
	struct store_domain other;	/* domain: the hosted one in the way */
};

/* A domain to mark hosted: not one another customer holds as hosted
 * (ra_domain_hosted_ok), checked in the transaction that adds it. */
static int
hosted_tx(struct store *st, struct op *o)
{
	struct store_contract k = {0};
	int rc;

	store_domain_clear(&o->other);	/* a retried transaction */
	rc = store_contract_get(st, o->parent, &k);
	if (rc == RC_INVAL)
		rc = RC_NOTFOUND;
	if (rc == 0)
		rc = ra_domain_hosted_ok(st, k.customer_id, o->name,
		    &o->other);
	store_contract_clear(&k);
	return rc;
}

static int
op_tx(struct store *st, void *arg)
{
	struct op *o = arg;
	char action[48], object[64];
	char *details = NULL;
	int rc;

	if (!strcmp(o->kind, "customer"))
		rc = store_customer_add(st, o->name, &o->id);
	else if (!strcmp(o->kind, "user"))
		rc = store_user_add(st, o->parent, o->email, o->name, o->role,
		    o->pw_hash, &o->id);
	else if (!strcmp(o->kind, "contract"))
		rc = store_contract_add(st, o->parent, o->name, &o->id);
	else if (!strcmp(o->kind, "domain")) {
		rc = o->hosted ? hosted_tx(st, o) : 0;
		if (rc == 0)
			rc = store_domain_add(st, o->parent, o->name,
			    o->hosted, &o->id);
	}
	else if (!strcmp(o->kind, "slot"))
		rc = store_slot_add(st, o->parent, o->product, &o->id);
	else if (!strcmp(o->kind, "org"))
		rc = store_org_add(st, o->org, &o->id);
	else
		rc = RC_INVAL;
	if (rc != 0)
		return rc;
	snprintf(action, sizeof(action), "%s.add", o->kind);
	snprintf(object, sizeof(object), "%s:%lld", o->kind, (long long)o->id);
	json_object_set_new(o->details, "id", json_integer(o->id));
	details = json_dumps(o->details, JSON_COMPACT | JSON_SORT_KEYS);
	if (details == NULL)
		return RC_NOMEM;
	rc = store_audit_append(st, o->cx->actor, action, object, details);
	free(details);
	return rc;
}

/* Runs the change; prints the id or a message. An exit status. */
static int
run_op(struct daemon_ctx *cx, const char *data, struct op *o,
    const char *parent_kind)
{
	int rc;

	o->cx = cx;
	rc = cx->data ? DAEMON_EXIT_OK : daemon_load(cx, data, 0);
	if (rc == DAEMON_EXIT_OK)
		rc = daemon_open(cx, DAEMON_NEED_STORE);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	rc = store_tx(cx->st, op_tx, o);
	if (rc == RC_POLICY && !strcmp(o->kind, "domain")) {
		daemon_fail(cx, "%s: %s is a hosted domain of contract %s (id "
		    "%lld) of customer %s (id %lld): a zone on our nameservers "
		    "is validated automatically for one customer only; remove "
		    "it there first (admin domain remove --id %lld) or add "
		    "this one without --hosted", o->name, o->other.name,
		    o->other.contract_number, (long long)o->other.contract_id,
		    o->other.customer_name, (long long)o->other.customer_id,
		    (long long)o->other.id);
		store_domain_clear(&o->other);
		return DAEMON_EXIT_FAIL;
	}
	if (rc == RC_BADNAME && !strcmp(o->kind, "domain")) {
		daemon_fail(cx, "%s is a public suffix: no customer's zone, so "
		    "it cannot be hosted (add it without --hosted)", o->name);
		return DAEMON_EXIT_FAIL;
	}
	store_domain_clear(&o->other);
	switch (rc) {
	case 0:
		printf("%lld\n", (long long)o->id);
		log_info(LOG_MAIN, "%s %lld added", o->kind, (long long)o->id);
		return DAEMON_EXIT_OK;
	case RC_EXISTS:
		daemon_fail(cx, "such a %s exists already", o->kind);
		break;
	case RC_NOTFOUND:
		if (parent_kind)
			daemon_fail(cx, "no %s with id %lld", parent_kind,
			    (long long)o->parent);
		else
			daemon_fail(cx, "not found");
		break;
	default:
		daemon_fail(cx, "cannot add the %s: %s%s", o->kind, rc_str(rc),
		    parent_kind ? " (does the parent exist?)" : "");
	}
	return DAEMON_EXIT_FAIL;
}

static int
need_id(struct daemon_ctx *cx, const char *opt, const char *s, int64_t *id)
{
	if (daemon_parse_id(s, id) != 0) {
		daemon_usage(cx, "%s: '%.32s' is not an id (a positive number)",
		    opt, s);
		return -1;
	}
	return 0;
}

static int
need_text(struct daemon_ctx *cx, const char *opt, const char *s, size_t max)
{
	if (s && !daemon_text_ok(s, max)) {
		daemon_usage(cx, "%s: must be 1 to %zu bytes of UTF-8 text "
		    "without control characters", opt, max);
		return -1;
	}
	return 0;
}

/* ---- customer, contract -------------------------------------------------- */

/* ---- the ra of the admin commands --------------------------------------- */

/* What every admin command's ra is given: the portal's URL (kept in a,
 * for mail links), the key checks, and no ACME accounts. */
static void
admin_rconf(struct daemon_ctx *cx, struct daemon_admin_ra *a,
    struct ra_conf *rconf)
{
	a->portal_url = cx->conf.http_public_url[0] ?
	    xstrdup(cx->conf.http_public_url) :
	    xasprintf("https://%s", cx->conf.http_listen);
	rconf->account_url_prefix = "-";	/* no accounts are touched */
	rconf->keycheck = cx->kc;
	rconf->blocked_names = NULL;
	rconf->portal_url = a->portal_url;
}

int
daemon_admin_ra_open(struct daemon_ctx *cx, time_t now,
    struct daemon_admin_ra *a)
{
	struct ra_conf rconf = {0};
	struct rc_detail d = {""};

	a->ra = NULL;
	a->val = NULL;
	admin_rconf(cx, a, &rconf);
	rconf.now = now;
	if (ra_open(&rconf, cx->st, cx->ca, NULL, &a->ra, &d) != 0) {
		free(a->portal_url);
		a->portal_url = NULL;
		daemon_fail(cx, "%s", d.msg);
		return DAEMON_EXIT_FAIL;
	}
	return DAEMON_EXIT_OK;
}

/*
 * The same with a validation context made as serve makes them
 * ([validation], policy.trust) and the DV settings, for a command that may
 * issue a portal order: issuance looks at CAA (BR 3.2.2.8).
 */
static int
admin_ra_open_val(struct daemon_ctx *cx, struct daemon_admin_ra *a)
{
	struct ra_conf rconf = {0};
	struct val_conf vc;
	struct rc_detail d = {""};
	char *anchor = NULL, *caa_text = NULL;
	const char *ids[17];
	int rc;

	a->ra = NULL;
	a->val = NULL;
	a->portal_url = NULL;
	daemon_val_conf(cx, &vc, &anchor, &caa_text, ids, 16);
	rc = val_ctx_open(&vc, &a->val, &d);
	free(anchor);
	free(caa_text);
	if (rc != 0) {
		daemon_fail(cx, "[validation]: %s", rc_detail_str(&d, rc));
		return DAEMON_EXIT_FAIL;
	}
	admin_rconf(cx, a, &rconf);
	daemon_dv_ra_conf(cx, &rconf);
	if (ra_open(&rconf, cx->st, cx->ca, a->val, &a->ra, &d) != 0) {
		daemon_fail(cx, "%s", d.msg);
		val_ctx_free(a->val);
		free(a->portal_url);
		a->val = NULL;
		a->portal_url = NULL;
		return DAEMON_EXIT_FAIL;
	}
	return DAEMON_EXIT_OK;
}

void
daemon_admin_ra_close(struct daemon_admin_ra *a)
{
	ra_free(a->ra);
	val_ctx_free(a->val);
	free(a->portal_url);
	a->ra = NULL;
	a->val = NULL;
	a->portal_url = NULL;
}

int
daemon_cmd_admin_customer(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *name = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--name", DAEMON_OPT_STR, &name, "NAME", 1, "customer name"},
	};
	struct op o = {0};
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	if (need_text(cx, "--name", name, 200))
		return DAEMON_EXIT_USAGE;
	o.kind = "customer";
	o.name = name;
	o.details = json_pack("{s:s}", "name", name);
	rc = run_op(cx, data, &o, NULL);
	json_decref(o.details);
	return rc;
}

int
daemon_cmd_admin_contract(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *cust = NULL, *number = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--customer", DAEMON_OPT_STR, &cust, "ID", 1, "customer id"},
		{"--number", DAEMON_OPT_STR, &number, "NUMBER", 1,
		    "contract number (unique)"},
	};
	struct op o = {0};
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	if (need_id(cx, "--customer", cust, &o.parent) ||
	    need_text(cx, "--number", number, 64))
		return DAEMON_EXIT_USAGE;
	o.kind = "contract";
	o.name = number;
	o.details = json_pack("{s:I,s:s}", "customer", (json_int_t)o.parent,
	    "number", number);
	rc = run_op(cx, data, &o, "customer");
	json_decref(o.details);
	return rc;
}

/* ---- ACME External Account Binding keys ---------------------------------- */

/*
 * The arguments of the `admin eab` commands: --data, --contract (its help
 * text contract_help) and, with kid_help, --kid; then the store opened.
 * DAEMON_EXIT_OK to go on; -1 when --help was answered (exit
 * DAEMON_EXIT_OK); otherwise the exit status.
 */
static int
eab_args(struct daemon_ctx *cx, int argc, char **argv,
    const char *contract_help, const char *kid_help, int64_t *contract,
    const char **kid)
{
	const char *data = NULL, *contract_s = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--contract", DAEMON_OPT_STR, &contract_s, "ID", 1,
		    contract_help},
		{"--kid", DAEMON_OPT_STR, kid, "KID", 1, kid_help},
	};
	int done, rc;

	rc = daemon_opts(cx, opts, kid_help != NULL ? 3 : 2, argc, argv, NULL,
	    0, NULL, &done);
	if (done)
		return rc == DAEMON_EXIT_OK ? -1 : rc;
	if (need_id(cx, "--contract", contract_s, contract))
		return DAEMON_EXIT_USAGE;
	return daemon_load_open(cx, data, DAEMON_NEED_STORE);
}

/*
 * `admin eab add --contract ID`: a new EAB key (RFC 8555 §7.3.4) for an
 * ACME account of the contract. Prints "KID HMAC_KEY" (the key base64url,
 * shown this once; the server keeps it only to verify the binding).
 */
int
daemon_cmd_admin_eab(struct daemon_ctx *cx, int argc, char **argv)
{
	struct daemon_admin_ra a;
	struct rc_detail d = {""};
	struct sec *key = NULL;
	char kid[RA_EAB_KID_LEN + 1], text[RA_EAB_KEY_LEN * 2];
	int64_t contract = 0;
	int rc;

	rc = eab_args(cx, argc, argv, "contract the ACME account will "
	    "belong to", NULL, &contract, NULL);
	if (rc != DAEMON_EXIT_OK)
		return rc < 0 ? DAEMON_EXIT_OK : rc;
	if (daemon_admin_ra_open(cx, 0, &a) != DAEMON_EXIT_OK)
		return DAEMON_EXIT_FAIL;
	rc = ra_eab_create(a.ra, contract, cx->actor, kid, &key, &d);
	daemon_admin_ra_close(&a);
	if (rc == RC_NOTFOUND) {
		daemon_fail(cx, "no contract with id %lld", (long long)contract);
		return DAEMON_EXIT_FAIL;
	}
	if (rc != 0) {
		daemon_fail(cx, "cannot create the key: %s", d.msg);
		return DAEMON_EXIT_FAIL;
	}
	ra_b64u(key->data, key->len, text);
	printf("%s %s\n", kid, text);
	fflush(stdout);
	sec_wipe(text, sizeof(text));
	sec_free(key);
	log_info(LOG_MAIN, "EAB key %s added for contract %lld", kid,
	    (long long)contract);
	return DAEMON_EXIT_OK;
}

static int
eab_line(const struct store_eab_key *k, void *arg)
{
	struct store *st = arg;
	struct store_acme_account a;
	char made[32], bound[32];
	int rc;

	daemon_fmt_time(k->created_at, made);
	if (k->account_id <= 0) {
		printf("%s %s unused\n", k->kid, made);
		return 0;
	}
	rc = store_acme_account_get(st, k->account_id, &a);
	if (rc == 0) {
		daemon_fmt_time(k->bound_at, bound);
		printf("%s %s account %lld ", k->kid, made,
		    (long long)k->account_id);
		daemon_put_safe(stdout, a.status);
		printf(" since %s\n", bound);
	}
	store_acme_account_clear(&a);
	return rc;
}

int
daemon_cmd_admin_eab_list(struct daemon_ctx *cx, int argc, char **argv)
{
	struct store_contract k;
	int64_t contract = 0;
	int rc;

	rc = eab_args(cx, argc, argv, "the contract whose keys to list", NULL,
	    &contract, NULL);
	if (rc != DAEMON_EXIT_OK)
		return rc < 0 ? DAEMON_EXIT_OK : rc;
	rc = store_contract_get(cx->st, contract, &k);
	store_contract_clear(&k);
	if (rc == RC_NOTFOUND) {
		daemon_fail(cx, "no contract with id %lld",
		    (long long)contract);
		return DAEMON_EXIT_FAIL;
	}
	if (rc == 0)
		rc = store_eab_list(cx->st, contract, eab_line, cx->st);
	fflush(stdout);
	if (rc != 0) {
		daemon_fail(cx, "cannot list the keys: %s", rc_str(rc));
		return DAEMON_EXIT_FAIL;
	}
	return DAEMON_EXIT_OK;
}

int
daemon_cmd_admin_eab_revoke(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *kid = NULL;
	struct daemon_admin_ra a;
	int64_t contract = 0;
	int rc;

	rc = eab_args(cx, argc, argv, "the contract the key belongs to",
	    "the key id", &contract, &kid);
	if (rc != DAEMON_EXIT_OK)
		return rc < 0 ? DAEMON_EXIT_OK : rc;
	if (daemon_admin_ra_open(cx, 0, &a) != DAEMON_EXIT_OK)
		return DAEMON_EXIT_FAIL;
	rc = ra_eab_revoke(a.ra, contract, kid, cx->actor);
	daemon_admin_ra_close(&a);
	if (rc == RC_NOTFOUND)
		daemon_fail(cx, "contract %lld has no key %s",
		    (long long)contract, kid);
	else if (rc == RC_STATE)
		daemon_fail(cx, "key %s is in use by an ACME account and stays",
		    kid);
	else if (rc != 0)
		daemon_fail(cx, "cannot revoke the key: %s", rc_str(rc));
	return rc == 0 ? DAEMON_EXIT_OK : DAEMON_EXIT_FAIL;
}

/* ---- ACME accounts ------------------------------------------------------- */

/*
 * `admin account revoke --id ID --reason TEXT`: the CA stops an ACME
 * account (RFC 8555 §7.1.6 "revoked"): an abusive client, or a key known
 * to be in the wrong hands. Its requests are refused from now on, its
 * pending orders become invalid. Certificates already issued stay valid
 * (they have keys of their own; `ca revoke` them if they must go).
 */
int
daemon_cmd_admin_account_revoke(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *id_s = NULL, *reason = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--id", DAEMON_OPT_STR, &id_s, "ID", 1,
		    "the ACME account (the number its URL ends in)"},
		{"--reason", DAEMON_OPT_STR, &reason, "TEXT", 1,
		    "why, for the audit log"},
	};
	struct ra_err err = {0};
	struct daemon_admin_ra a;
	int64_t id = 0;
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	if (need_id(cx, "--id", id_s, &id))
		return DAEMON_EXIT_USAGE;
	if (!ra_revoke_reason_ok(reason)) {
		daemon_usage(cx, "--reason: say why, in 1 to %d characters",
		    RA_REVOKE_REASON_MAX);
		return DAEMON_EXIT_USAGE;
	}
	rc = daemon_load_open(cx, data, DAEMON_NEED_STORE);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	if (daemon_admin_ra_open(cx, 0, &a) != DAEMON_EXIT_OK)
		return DAEMON_EXIT_FAIL;
	rc = ra_account_revoke(a.ra, id, cx->actor, reason, &err);
	daemon_admin_ra_close(&a);
	if (rc == RC_NOTFOUND)
		daemon_fail(cx, "no ACME account %lld", (long long)id);
	else if (rc == RC_STATE)
		daemon_fail(cx, "ACME account %lld is not valid "
		    "(deactivated or revoked already)", (long long)id);
	else if (rc != 0)
		daemon_fail(cx, "cannot revoke the account: %s",
		    err.detail.msg[0] ? err.detail.msg : rc_str(rc));
	else
		log_warn(LOG_MAIN, "ACME account %lld revoked by %s: %s",
		    (long long)id, cx->actor, reason);
	return rc == 0 ? DAEMON_EXIT_OK : DAEMON_EXIT_FAIL;
}

/* ---- API tokens ---------------------------------------------------------- */

struct token_op {
	int64_t user, id;
	const char *label;
	char token[PORTAL_TOKEN_TEXT];
	int revoke, days;
	time_t expires_at;
};

static int
token_run(struct daemon_ctx *cx, const char *data, struct token_op *t)
{
	int rc;

	rc = daemon_load_open(cx, data, DAEMON_NEED_STORE);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	rc = portal_token_change(cx->st, t->user, t->label, t->days,
	    t->revoke ? t->id : 0, cx->actor, t->token, &t->id,
	    &t->expires_at);
	if (rc == RC_NOTFOUND) {
		daemon_fail(cx, t->revoke ? "no usable token with id %lld" :
		    "no user with id %lld", (long long)(t->revoke ? t->id :
		    t->user));
		return DAEMON_EXIT_FAIL;
	}
	if (rc == RC_STATE && !t->revoke) {
		daemon_fail(cx, "user %lld is disabled (admin user enable "
		    "first)", (long long)t->user);
		return DAEMON_EXIT_FAIL;
	}
	if (rc != 0) {
		daemon_fail(cx, "cannot %s the token: %s", t->revoke ?
		    "revoke" : "create", rc_str(rc));
		return DAEMON_EXIT_FAIL;
	}
	return DAEMON_EXIT_OK;
}

int
daemon_cmd_admin_token_add(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *user_s = NULL, *label = "cli";
	const char *days_s = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--user", DAEMON_OPT_STR, &user_s, "ID", 1,
		    "the user the token acts as"},
		{"--label", DAEMON_OPT_STR, &label, "TEXT", 0,
		    "what the token is for (default: cli)"},
		{"--days", DAEMON_OPT_STR, &days_s, "N", 0,
		    "the token expires N days from now, 1 to 365 (default: "
		    "90 for a staff member's, never for a customer's)"},
	};
	struct token_op t;
	int64_t days = 0;
	char end[32];
	int done, rc;

	memset(&t, 0, sizeof(t));
	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	if (need_id(cx, "--user", user_s, &t.user) ||
	    need_text(cx, "--label", label, 200))
		return DAEMON_EXIT_USAGE;
	if (days_s != NULL && (daemon_parse_id(days_s, &days) != 0 ||
	    days > PORTAL_TOKEN_DAYS_MAX)) {
		daemon_usage(cx, "--days: '%.32s' is not 1 to %d", days_s,
		    PORTAL_TOKEN_DAYS_MAX);
		return DAEMON_EXIT_USAGE;
	}
	t.label = label;
	t.days = (int)days;
	rc = token_run(cx, data, &t);
	if (rc == DAEMON_EXIT_OK) {
		printf("%s\n", t.token);
		fflush(stdout);
		daemon_fmt_time(t.expires_at, end);
		log_info(LOG_MAIN, "API token %lld added for user %lld, "
		    "expires %s", (long long)t.id, (long long)t.user,
		    t.expires_at ? end : "never");
	}
	sec_wipe(t.token, sizeof(t.token));
	return rc;
}

int
daemon_cmd_admin_token_revoke(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *id_s = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--id", DAEMON_OPT_STR, &id_s, "ID", 1, "the token's id"},
	};
	struct token_op t;
	int done, rc;

	memset(&t, 0, sizeof(t));
	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	if (need_id(cx, "--id", id_s, &t.id))
		return DAEMON_EXIT_USAGE;
	t.revoke = 1;
	rc = token_run(cx, data, &t);
	if (rc == DAEMON_EXIT_OK)
		log_info(LOG_MAIN, "API token %lld revoked", (long long)t.id);
	return rc;
}

/* ---- user ---------------------------------------------------------------- */

static int
email_ok(const char *e)
{
	const char *at = strchr(e, '@');

	if (!daemon_text_ok(e, 254) || at == NULL || at == e ||
	    at[1] == '\0' || strchr(at + 1, '@') || strchr(at + 1, '.') == NULL)
		return 0;
	for (const char *p = e; *p; p++)
		if (*p == ' ' || *p == '<' || *p == '>' || *p == '"' ||
		    *p == ',' || *p == ';')
			return 0;
	return 1;
}

/* One line from stdin into pw (at most max - 1 bytes, NUL-terminated). */
static int
read_line(struct daemon_ctx *cx, char *pw, size_t max, size_t *len)
{
	size_t n = 0;

	for (;;) {
		ssize_t r;
		char c;

		r = read(STDIN_FILENO, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			daemon_fail(cx, "--password-stdin: cannot read: %s",
			    strerror(errno));
			return -1;
		}
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= max) {
			daemon_fail(cx, "--password-stdin: password longer "
			    "than %zu bytes", max - 1);
			return -1;
		}
		pw[n++] = c;
	}
	if (n > 0 && pw[n - 1] == '\r')
		n--;
	pw[n] = '\0';
	*len = n;
	return 0;
}

/* Reads one line (the password) from stdin, without echo on a terminal;
 * 0 or -1 with a message. */
static int
read_password(struct daemon_ctx *cx, char *pw, size_t max, size_t *len)
{
	struct termios old, noecho;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	size_t n = 0;
	int rc;

	if (tty) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
		fprintf(stderr, "password: ");
		fflush(stderr);
	}
	rc = read_line(cx, pw, max, &n);
	if (tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (rc != 0)
		return rc;
	if (n < 8) {
		daemon_fail(cx, "--password-stdin: the password needs at least "
		    "8 characters");
		return -1;
	}
	*len = n;
	return 0;
}

int
daemon_cmd_admin_user(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *cust = NULL, *email = NULL, *name = NULL,
	    *role = NULL;
	int pw_stdin = 0;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--customer", DAEMON_OPT_STR, &cust, "ID", 0,
		    "customer id (required for role customer; staff may have "
		    "none)"},
		{"--email", DAEMON_OPT_STR, &email, "EMAIL", 1,
		    "login e-mail address (unique)"},
		{"--name", DAEMON_OPT_STR, &name, "NAME", 1, "display name"},
		{"--role", DAEMON_OPT_STR, &role, "customer|agent|admin", 1,
		    "customer user, validation agent or administrator"},
		{"--password-stdin", DAEMON_OPT_FLAG, &pw_stdin, NULL, 0,
		    "read the password (one line) from standard input"},
	};
	char hash[crypto_pwhash_STRBYTES];
	char pw[MAX_PASSWORD];
	size_t pwlen = 0;
	struct op o = {0};
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	if ((cust && need_id(cx, "--customer", cust, &o.parent)) ||
	    need_text(cx, "--name", name, 200))
		return DAEMON_EXIT_USAGE;
	if (!email_ok(email)) {
		daemon_usage(cx, "--email: '%.64s' is not an e-mail address",
		    email);
		return DAEMON_EXIT_USAGE;
	}
	if (!strcmp(role, "customer"))
		o.role = STORE_ROLE_CUSTOMER;
	else if (!strcmp(role, "agent"))
		o.role = STORE_ROLE_AGENT;
	else if (!strcmp(role, "admin"))
		o.role = STORE_ROLE_ADMIN;
	else {
		daemon_usage(cx, "--role: '%.32s' is not customer, agent or "
		    "admin", role);
		return DAEMON_EXIT_USAGE;
	}
	if (o.role == STORE_ROLE_CUSTOMER && cust == NULL) {
		daemon_usage(cx, "--customer ID is required for role customer");
		return DAEMON_EXIT_USAGE;
	}
	if (pw_stdin) {
		if (sodium_init() < 0) {
			daemon_fail(cx, "libsodium does not initialise");
			return DAEMON_EXIT_FAIL;
		}
		rc = read_password(cx, pw, sizeof(pw), &pwlen);
		if (rc == 0 && crypto_pwhash_str(hash, pw, pwlen,
		    crypto_pwhash_OPSLIMIT_INTERACTIVE,
		    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
			daemon_fail(cx, "cannot hash the password (out of "
			    "memory)");
			rc = -1;
		}
		sec_wipe(pw, sizeof(pw));
		if (rc != 0)
			return DAEMON_EXIT_FAIL;
		o.pw_hash = hash;
	}
	o.kind = "user";
	o.email = email;
	o.name = name;
	o.details = json_pack("{s:s,s:s,s:s,s:b}", "email", email, "name",
	    name, "role", role, "password", pw_stdin);
	if (cust)
		json_object_set_new(o.details, "customer",
		    json_integer(o.parent));
	rc = run_op(cx, data, &o, "customer");
	json_decref(o.details);
	sec_wipe(hash, sizeof(hash));
	return rc;
}

/*
 * A user's life after `admin user add`: disabled (someone who left, or a
 * login that must stop now) and enabled again, or given a new password.
 * Each in one transaction with its audit entry ("user.disable",
 * "user.enable", "user.password"; never the password or its hash).
 */
struct user_op {
	const char *what;	/* "disable", "enable", "password" */
	const char *actor;
	int64_t id;
	const char *pw_hash;	/* password */
	time_t now;
	struct store_user u;	/* the user, as read in the transaction */
	int64_t sessions, tokens;
};

static int
user_tx(struct store *st, void *arg)
{
	struct user_op *o = arg;
	char action[32], object[48], key[300], *text;
	json_t *d;
	int rc;

	store_user_clear(&o->u);	/* a retried transaction */
	o->sessions = o->tokens = 0;
	rc = store_user_get(st, o->id, &o->u);
	if (rc != 0)
		return rc;
	if (!strcmp(o->what, "disable")) {
		/* the login goes, and with it every way in they still have */
		rc = store_user_set_disabled(st, o->id, o->now);
		if (rc == 0)
			rc = store_session_delete_user(st, o->id,
			    &o->sessions);
		if (rc == 0)
			rc = store_token_revoke_user(st, o->id, o->now,
			    &o->tokens);
	} else if (!strcmp(o->what, "enable")) {
		rc = store_user_set_disabled(st, o->id, 0);
	} else {
		rc = store_user_set_password(st, o->id, o->pw_hash);
		/* whoever knew the old one is logged out */
		if (rc == 0)
			rc = store_session_delete_user(st, o->id,
			    &o->sessions);
		/* and the login throttle counts afresh (the portal's key:
		 * the address as typed, lower case) */
		if (rc == 0) {
			size_t i;

			snprintf(key, sizeof(key), "acct:%s", o->u.email);
			for (i = 5; key[i] != '\0'; i++)
				if (key[i] >= 'A' && key[i] <= 'Z')
					key[i] = (char)(key[i] - 'A' + 'a');
			rc = store_login_failures_clear(st, key);
		}
	}
	if (rc != 0)
		return rc;
	d = json_pack("{s:I, s:s}", "id", (json_int_t)o->id, "email",
	    o->u.email);
	if (d != NULL && strcmp(o->what, "enable") != 0)
		json_object_set_new(d, "sessions_ended",
		    json_integer(o->sessions));
	if (d != NULL && !strcmp(o->what, "disable"))
		json_object_set_new(d, "tokens_revoked",
		    json_integer(o->tokens));
	text = d != NULL ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(d);
	if (text == NULL)
		return RC_NOMEM;
	snprintf(action, sizeof(action), "user.%s", o->what);
	snprintf(object, sizeof(object), "user:%lld", (long long)o->id);
	rc = store_audit_append(st, o->actor, action, object, text);
	free(text);
	return rc;
}

/* Runs o for the user of --id (id_s) on the store of data; prints what
 * was done. An exit status. */
static int
user_run(struct daemon_ctx *cx, const char *data, const char *id_s,
    struct user_op *o)
{
	int rc;

	if (need_id(cx, "--id", id_s, &o->id))
		return DAEMON_EXIT_USAGE;
	rc = daemon_load_open(cx, data, DAEMON_NEED_STORE);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	o->actor = cx->actor;
	o->now = cx->cac.now ? cx->cac.now : time(NULL);
	rc = store_tx(cx->st, user_tx, o);
	if (rc == RC_NOTFOUND)
		daemon_fail(cx, "no user with id %lld", (long long)o->id);
	else if (rc == RC_STATE)
		daemon_fail(cx, "user %lld (%s) is %s", (long long)o->id,
		    o->u.email, !strcmp(o->what, "disable") ?
		    "disabled already" : "not disabled");
	else if (rc != 0)
		daemon_fail(cx, "cannot %s user %lld: %s", !strcmp(o->what,
		    "password") ? "set the password of" : o->what,
		    (long long)o->id, rc_str(rc));
	else if (!strcmp(o->what, "disable"))
		printf("disabled user %lld (%s): %lld session%s ended, %lld "
		    "API token%s revoked\n", (long long)o->id, o->u.email,
		    (long long)o->sessions, o->sessions == 1 ? "" : "s",
		    (long long)o->tokens, o->tokens == 1 ? "" : "s");
	else if (!strcmp(o->what, "enable"))
		printf("enabled user %lld (%s); API tokens revoked before stay "
		    "revoked\n", (long long)o->id, o->u.email);
	else
		printf("new password for user %lld (%s): %lld session%s "
		    "ended\n", (long long)o->id, o->u.email,
		    (long long)o->sessions, o->sessions == 1 ? "" : "s");
	fflush(stdout);
	if (rc == 0)
		log_info(LOG_MAIN, "user %lld: %s by %s", (long long)o->id,
		    o->what, cx->actor);
	store_user_clear(&o->u);
	return rc == 0 ? DAEMON_EXIT_OK : DAEMON_EXIT_FAIL;
}

/* `admin user disable --id ID` and `admin user enable --id ID`. */
static int
user_flip(struct daemon_ctx *cx, int argc, char **argv, const char *what)
{
	const char *data = NULL, *id_s = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--id", DAEMON_OPT_STR, &id_s, "ID", 1,
		    "the user (admin list users)"},
	};
	struct user_op o;
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	memset(&o, 0, sizeof(o));
	o.what = what;
	return user_run(cx, data, id_s, &o);
}

int
daemon_cmd_admin_user_disable(struct daemon_ctx *cx, int argc, char **argv)
{
	return user_flip(cx, argc, argv, "disable");
}

int
daemon_cmd_admin_user_enable(struct daemon_ctx *cx, int argc, char **argv)
{
	return user_flip(cx, argc, argv, "enable");
}

/* `admin user password --id ID --password-stdin`. */
int
daemon_cmd_admin_user_password(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *id_s = NULL;
	int pw_stdin = 0;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--id", DAEMON_OPT_STR, &id_s, "ID", 1,
		    "the user (admin list users)"},
		{"--password-stdin", DAEMON_OPT_FLAG, &pw_stdin, NULL, 1,
		    "read the new password (one line) from standard input"},
	};
	char hash[crypto_pwhash_STRBYTES];
	char pw[MAX_PASSWORD];
	size_t pwlen = 0;
	struct user_op o;
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	memset(&o, 0, sizeof(o));
	if (need_id(cx, "--id", id_s, &o.id))
		return DAEMON_EXIT_USAGE;
	if (sodium_init() < 0) {
		daemon_fail(cx, "libsodium does not initialise");
		return DAEMON_EXIT_FAIL;
	}
	rc = read_password(cx, pw, sizeof(pw), &pwlen);
	if (rc == 0 && crypto_pwhash_str(hash, pw, pwlen,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		daemon_fail(cx, "cannot hash the password (out of memory)");
		rc = -1;
	}
	sec_wipe(pw, sizeof(pw));
	if (rc != 0)
		return DAEMON_EXIT_FAIL;
	o.what = "password";
	o.pw_hash = hash;
	rc = user_run(cx, data, id_s, &o);
	sec_wipe(hash, sizeof(hash));
	return rc;
}

/* ---- domain, slot -------------------------------------------------------- */

int
daemon_cmd_admin_domain(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *contract = NULL, *name = NULL;
	int hosted = 0;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--contract", DAEMON_OPT_STR, &contract, "ID", 1,
		    "contract id"},
		{"--name", DAEMON_OPT_STR, &name, "DOMAIN", 1,
		    "domain name (IDNs are converted to A-labels)"},
		{"--hosted", DAEMON_OPT_FLAG, &hosted, NULL, 0,
		    "the zone is on our nameservers (automatic DNS "
		    "validation)"},
	};
	char norm[256], err[128];
	struct op o = {0};
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	if (need_id(cx, "--contract", contract, &o.parent))
		return DAEMON_EXIT_USAGE;
	if (daemon_domain_norm(name, norm, sizeof(norm), err, sizeof(err))) {
		daemon_usage(cx, "--name: '%.64s': %s", name, err);
		return DAEMON_EXIT_USAGE;
	}
	o.kind = "domain";
	o.name = norm;
	o.hosted = hosted;
	o.details = json_pack("{s:I,s:s,s:b}", "contract",
	    (json_int_t)o.parent, "name", norm, "hosted", hosted);
	rc = run_op(cx, data, &o, "contract");
	json_decref(o.details);
	return rc;
}

/*
 * `admin domain remove --id ID`: the domain leaves its contract (it changed
 * hands, or was added by mistake); ra_domain_remove() says what goes with
 * it. Prints what was done.
 */
int
daemon_cmd_admin_domain_remove(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *id_s = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--id", DAEMON_OPT_STR, &id_s, "ID", 1,
		    "the domain (admin list domains)"},
	};
	struct ra_domain_removed out;
	struct ra_err err = {0};
	struct daemon_admin_ra a;
	int64_t id = 0;
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	if (need_id(cx, "--id", id_s, &id))
		return DAEMON_EXIT_USAGE;
	rc = daemon_load_open(cx, data, DAEMON_NEED_STORE);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	if (daemon_admin_ra_open(cx, 0, &a) != DAEMON_EXIT_OK)
		return DAEMON_EXIT_FAIL;
	rc = ra_domain_remove(a.ra, id, cx->actor, &out, &err);
	daemon_admin_ra_close(&a);
	if (rc == RC_NOTFOUND) {
		daemon_fail(cx, "no domain with id %lld", (long long)id);
		return DAEMON_EXIT_FAIL;
	}
	if (rc != 0) {
		daemon_fail(cx, "cannot remove the domain: %s",
		    err.detail.msg[0] ? err.detail.msg : rc_str(rc));
		return DAEMON_EXIT_FAIL;
	}
	printf("removed %s from contract %lld: %zu pending order%s "
	    "cancelled, %zu validation%s revoked\n", out.name,
	    (long long)out.contract_id, out.orders, out.orders == 1 ? "" :
	    "s", out.authz, out.authz == 1 ? "" : "s");
	fflush(stdout);
	return DAEMON_EXIT_OK;
}

int
daemon_cmd_admin_slot(struct daemon_ctx *cx, int argc, char **argv)
{
	static const char *const products[] = {"starter", "business",
		"business_wildcard", "premium", "unlimited"};
	const char *data = NULL, *contract = NULL, *product = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--contract", DAEMON_OPT_STR, &contract, "ID", 1,
		    "contract id"},
		{"--product", DAEMON_OPT_STR, &product,
		    "starter|business|business_wildcard|premium|unlimited", 1,
		    "starter (DV), business (OV), business_wildcard (OV, "
		    "*.name), premium (EV), unlimited (DV, any number)"},
	};
	struct op o = {0};
	int done, rc, ok = 0;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	if (need_id(cx, "--contract", contract, &o.parent))
		return DAEMON_EXIT_USAGE;
	for (size_t i = 0; i < sizeof(products) / sizeof(products[0]); i++)
		if (!strcmp(product, products[i]))
			ok = 1;
	if (!ok) {
		daemon_usage(cx, "--product: '%.32s' is not starter, business, "
		    "business_wildcard, premium or unlimited", product);
		return DAEMON_EXIT_USAGE;
	}
	o.kind = "slot";
	o.product = product;
	o.details = json_pack("{s:I,s:s}", "contract", (json_int_t)o.parent,
	    "product", product);
	rc = run_op(cx, data, &o, "contract");
	json_decref(o.details);
	return rc;
}

/* ---- organisation -------------------------------------------------------- */

/* EVG 7.1.4.2.3 */
static const char *const business_categories[] = {"Private Organization",
	"Government Entity", "Business Entity", "Non-Commercial Entity"};

static void
set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

int
daemon_cmd_admin_org(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *cust = NULL, *legal = NULL, *country = NULL,
	    *locality = NULL, *state = NULL, *street = NULL, *postal = NULL,
	    *bcat = NULL, *jc = NULL, *js = NULL, *jl = NULL, *regno = NULL,
	    *by = NULL, *evidence = NULL;
	int ev = 0;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--customer", DAEMON_OPT_STR, &cust, "ID", 1, "customer id"},
		{"--legal-name", DAEMON_OPT_STR, &legal, "NAME", 1,
		    "registered legal name (subject O)"},
		{"--country", DAEMON_OPT_STR, &country, "CC", 1,
		    "ISO 3166 alpha-2 country (subject C)"},
		{"--locality", DAEMON_OPT_STR, &locality, "CITY", 1,
		    "locality (subject L)"},
		{"--state", DAEMON_OPT_STR, &state, "STATE", 0,
		    "state or province (subject ST)"},
		{"--street", DAEMON_OPT_STR, &street, "STREET", 0,
		    "street address"},
		{"--postal-code", DAEMON_OPT_STR, &postal, "CODE", 0,
		    "postal code"},
		{"--business-category", DAEMON_OPT_STR, &bcat, "CATEGORY", 0,
		    "EV: Private Organization, Government Entity, Business "
		    "Entity or Non-Commercial Entity"},
		{"--jurisdiction-country", DAEMON_OPT_STR, &jc, "CC", 0,
		    "EV: country of incorporation"},
		{"--jurisdiction-state", DAEMON_OPT_STR, &js, "STATE", 0,
		    "EV: state of incorporation"},
		{"--jurisdiction-locality", DAEMON_OPT_STR, &jl, "CITY", 0,
		    "EV: locality of incorporation"},
		{"--registration-number", DAEMON_OPT_STR, &regno, "NUMBER", 0,
		    "EV: registration number (subject serialNumber)"},
		{"--validated-by", DAEMON_OPT_STR, &by, "NAME", 1,
		    "who verified the data"},
		{"--evidence", DAEMON_OPT_STR, &evidence, "TEXT", 1,
		    "how it was verified (sources, documents, call)"},
		{"--ev", DAEMON_OPT_FLAG, &ev, NULL, 0,
		    "the verification meets the EV Guidelines"},
	};
	struct store_org org;
	struct op o = {0};
	json_t *evj = NULL;
	char *evs = NULL;
	int done, rc, okcat = 0;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	/* X.520 upper bounds (RFC 5280 appendix A) */
	if (need_id(cx, "--customer", cust, &o.parent) ||
	    need_text(cx, "--legal-name", legal, 64) ||
	    need_text(cx, "--locality", locality, 128) ||
	    need_text(cx, "--state", state, 128) ||
	    need_text(cx, "--street", street, 128) ||
	    need_text(cx, "--postal-code", postal, 40) ||
	    need_text(cx, "--jurisdiction-state", js, 128) ||
	    need_text(cx, "--jurisdiction-locality", jl, 128) ||
	    need_text(cx, "--registration-number", regno, 64) ||
	    need_text(cx, "--validated-by", by, 128) ||
	    need_text(cx, "--evidence", evidence, 4096))
		return DAEMON_EXIT_USAGE;
	if (!daemon_country_ok(country) || (jc && !daemon_country_ok(jc))) {
		daemon_usage(cx, "%s: '%.16s' is not a two-letter country code "
		    "in capitals (ISO 3166)", daemon_country_ok(country) ?
		    "--jurisdiction-country" : "--country",
		    daemon_country_ok(country) ? jc : country);
		return DAEMON_EXIT_USAGE;
	}
	if (bcat) {
		for (size_t i = 0; i < 4; i++)
			if (!strcmp(bcat, business_categories[i]))
				okcat = 1;
		if (!okcat) {
			daemon_usage(cx, "--business-category: '%.64s' is not "
			    "Private Organization, Government Entity, Business "
			    "Entity or Non-Commercial Entity", bcat);
			return DAEMON_EXIT_USAGE;
		}
	}
	if (ev && (!bcat || !jc || !regno)) {
		daemon_usage(cx, "--ev needs --business-category, "
		    "--jurisdiction-country and --registration-number");
		return DAEMON_EXIT_USAGE;
	}

	evj = json_pack("{s:s}", "note", evidence);
	evs = json_dumps(evj, JSON_COMPACT);
	memset(&org, 0, sizeof(org));
	org.customer_id = o.parent;
	org.legal_name = (char *)legal;
	org.country = (char *)country;
	org.state = (char *)state;
	org.locality = (char *)locality;
	org.street = (char *)street;
	org.postal_code = (char *)postal;
	org.business_category = (char *)bcat;
	org.jurisdiction_country = (char *)jc;
	org.jurisdiction_state = (char *)js;
	org.jurisdiction_locality = (char *)jl;
	org.registration_number = (char *)regno;
	org.validated = 1;
	org.ev_validated = ev;
	org.validated_by = (char *)by;
	org.evidence = evs;
	o.kind = "org";
	o.org = &org;
	o.details = json_pack("{s:I,s:s,s:s,s:s,s:b,s:s,s:o}", "customer",
	    (json_int_t)o.parent, "legal_name", legal, "country", country,
	    "locality", locality, "ev", ev, "validated_by", by, "evidence",
	    json_incref(evj));
	set_str(o.details, "state", state);
	set_str(o.details, "street", street);
	set_str(o.details, "postal_code", postal);
	set_str(o.details, "business_category", bcat);
	set_str(o.details, "jurisdiction_country", jc);
	set_str(o.details, "jurisdiction_state", js);
	set_str(o.details, "jurisdiction_locality", jl);
	set_str(o.details, "registration_number", regno);
	rc = daemon_load(cx, data, 0);
	if (rc == DAEMON_EXIT_OK) {
		org.validated_at = cx->cac.now ? cx->cac.now : time(NULL);
		rc = run_op(cx, data, &o, "customer");
	}
	json_decref(o.details);
	json_decref(evj);
	free(evs);
	return rc;
}

/* ---- list ---------------------------------------------------------------- */

static void
put_field(const char *s)
{
	daemon_put_safe(stdout, s);
}

static int
list_cb(const struct store_row *r, void *arg)
{
	(void)arg;
	printf("%lld\t%lld\t", (long long)r->id, (long long)r->parent_id);
	put_field(r->name);
	putchar('\t');
	put_field(r->extra);
	if (r->state != NULL) {		/* users: enabled, disabled */
		putchar('\t');
		put_field(r->state);
	}
	putchar('\n');
	return 0;
}

int
daemon_cmd_admin_list(struct daemon_ctx *cx, int argc, char **argv)
{
	static const char *const whats[] = {"customers", "users", "contracts",
		"domains", "slots", "acme-accounts"};
	const char *data = NULL, *parent_s = NULL, *pos[1];
	size_t npos = 0;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--parent", DAEMON_OPT_STR, &parent_s, "ID", 0,
		    "only those of this customer (users, contracts) or "
		    "contract (domains, slots, acme-accounts)"},
	};
	int64_t parent = 0;
	int done, rc, ok = 0;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, pos, 1, &npos,
	    &done);
	if (done)
		return rc;
	if (npos != 1) {
		daemon_usage(cx, "what to list? customers, users, contracts, "
		    "domains, slots or acme-accounts");
		return DAEMON_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(whats) / sizeof(whats[0]); i++)
		if (!strcmp(pos[0], whats[i]))
			ok = 1;
	if (!ok) {
		daemon_usage(cx, "cannot list '%.32s'; customers, users, "
		    "contracts, domains, slots or acme-accounts", pos[0]);
		return DAEMON_EXIT_USAGE;
	}
	if (parent_s && need_id(cx, "--parent", parent_s, &parent))
		return DAEMON_EXIT_USAGE;
	rc = daemon_load_open(cx, data, DAEMON_NEED_STORE);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	rc = store_list(cx->st, pos[0], parent, list_cb, NULL);
	if (rc != 0) {
		daemon_fail(cx, "cannot list %s: %s", pos[0], rc_str(rc));
		return DAEMON_EXIT_FAIL;
	}
	return DAEMON_EXIT_OK;
}

/* ---- validation of portal orders by staff -------------------------------- */

int
daemon_cmd_admin_validate(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *order_s = NULL, *method = "operator";
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--order", DAEMON_OPT_STR, &order_s, "ID", 1,
		    "the portal order whose domains were verified"},
		{"--method", DAEMON_OPT_STR, &method, "METHOD", 0,
		    "how: operator (staff confirmed control of the domains)"},
	};
	struct daemon_admin_ra a;
	struct ra_err err = {0};
	int64_t order = 0;
	int done, rc, issued = 0;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	if (need_id(cx, "--order", order_s, &order))
		return DAEMON_EXIT_USAGE;
	if (strcmp(method, "operator") != 0) {
		daemon_usage(cx, "--method: only \"operator\" is supported");
		return DAEMON_EXIT_USAGE;
	}
	rc = daemon_load_open(cx, data, DAEMON_NEED_SIGNER |
	    DAEMON_NEED_STORE | DAEMON_NEED_CA | DAEMON_NEED_CT);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	if (admin_ra_open_val(cx, &a) != DAEMON_EXIT_OK)
		return DAEMON_EXIT_FAIL;
	rc = ra_portal_validate(a.ra, order, method, cx->actor, &issued, &err);
	daemon_admin_ra_close(&a);
	if (rc != 0) {
		daemon_fail(cx, "order %lld: %s", (long long)order,
		    err.detail.msg[0] ? err.detail.msg : rc_str(rc));
		return DAEMON_EXIT_FAIL;
	}
	printf("%s\n", issued ? "issued" : "validated");
	fflush(stdout);
	return DAEMON_EXIT_OK;
}

/* ---- outgoing mail ------------------------------------------------------- */

int
daemon_cmd_admin_mail_reminders(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *now_s = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--now", DAEMON_OPT_STR, &now_s, "TIME", 0,
		    "pretend it is TIME (YYYY-MM-DD[THH:MM:SSZ]; tests)"},
	};
	struct daemon_admin_ra a;
	time_t now;
	size_t queued = 0;
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	rc = daemon_load_open(cx, data, DAEMON_NEED_STORE);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	now = cx->cac.now;	/* as loaded */
	if (now_s != NULL && ca_parse_time(now_s, &now) != 0) {
		daemon_usage(cx, "--now: '%.64s' is not a time "
		    "(YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)", now_s);
		return DAEMON_EXIT_USAGE;
	}
	if (daemon_admin_ra_open(cx, now, &a) != DAEMON_EXIT_OK)
		return DAEMON_EXIT_FAIL;
	rc = ra_mail_reminders(a.ra, &queued);
	daemon_admin_ra_close(&a);
	if (rc != 0) {
		daemon_fail(cx, "expiry reminders: %s", rc_str(rc));
		return DAEMON_EXIT_FAIL;
	}
	printf("%zu\n", queued);
	fflush(stdout);
	return DAEMON_EXIT_OK;
}

int
daemon_cmd_admin_mail_list(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
	};
	struct store_mail *v = NULL;
	size_t n = 0;
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	rc = daemon_load_open(cx, data, DAEMON_NEED_STORE);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	rc = store_mail_due(cx->st, 0, 0, &v, &n);
	if (rc != 0) {
		daemon_fail(cx, "outbox: %s", rc_str(rc));
		return DAEMON_EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%lld\t", (long long)v[i].id);
		daemon_put_safe(stdout, v[i].to_addr);
		putchar('\t');
		daemon_put_safe(stdout, v[i].kind ? v[i].kind : "-");
		printf("\t%d\t", v[i].attempts);
		daemon_put_safe(stdout, v[i].last_error ? v[i].last_error :
		    "-");
		putchar('\n');
	}
	fflush(stdout);
	store_mail_list_free(v, n);
	return DAEMON_EXIT_OK;
}
