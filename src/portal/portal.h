/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The customer portal: server-rendered HTML pages under /portal/, the JSON
 * API under /api/v1/ that does what the pages do, and the static assets
 * under /static/ (web/static/). Pages and API share one service layer, so
 * nothing is decided twice.
 *
 * Who is asking: a browser session (cookie __Host-certdesk, a random
 * 256-bit id of which the store keeps only the SHA-256; CSRF synchronizer
 * token on every unsafe request) or a per-user API token (Authorization:
 * Bearer). Logins are throttled per account and per client address. A
 * customer user sees only its own customer's contracts and slots; any
 * other id is answered 404, exactly as an id that does not exist. Staff
 * (agents, admins) see no customer's data here at all (404 likewise):
 * they work in the back office; admins keep the Outgoing mail page.
 *
 * Runs in the main certdesk process on the HTTPS listener's worker
 * threads; every request is untrusted. Holds a pool of store handles (one
 * per request in flight).
 */
#ifndef CERTDESK_PORTAL_PORTAL_H
#define CERTDESK_PORTAL_PORTAL_H

#include "http/http.h"
#include "store/store.h"

#include <stddef.h>
#include <time.h>

struct ca_ct;
struct portal;
struct ra;

/* Where request threads borrow a registration authority (the daemon's
 * pool): get gives one for the calling thread (0 or RC_*), put gives it
 * back. Orders, validation, issuance and revocation go through it. */
struct portal_ra_source {
	int (*get)(void *arg, struct ra **ra);
	void (*put)(void *arg, struct ra *ra);
	void *arg;
};

/* The HTTPS service certificate the listener serves, as the admin's
 * "Certificate authority" page shows it (Unix times). */
struct portal_svc_cert {
	time_t not_after;	/* 0: unknown, not shown */
	time_t renew_at;	/* when it is re-issued: two thirds of life */
	time_t failing_since;	/* re-issuing it fails since; 0: it does
				 * not */
};

/* Which issuing CA this server issues from, as the admin's "Certificate
 * authority" page shows it. */
struct portal_ca_issuing {
	char serving[64];	/* the issuing CA new certificates come from */
	char why[256];		/* why it does not issue from the store's
				 * active one: taking that one up failed;
				 * "" when it did not */
	time_t failing_since;	/* since when; 0 when it does not fail */
};

/* The built-in placeholder of the subscriber agreement (terms.c). */
#define PORTAL_TERMS_PATH "/portal/terms"

struct portal_conf {
	const struct store_conf *store;	/* borrowed during portal_new */
	/* directory of the static assets; NULL: the one compiled in
	 * (CERTDESK_WEBDIR, the source tree's web/static) */
	const char *static_dir;
	time_t session_idle;		/* 0: 30 minutes */
	time_t session_max;		/* 0: 12 hours */
	/* login throttle: failures allowed per account / per client
	 * address before the delay (60 s, doubling, at most 1 h) starts;
	 * 0: 5 / 50 */
	int max_failures_account;
	int max_failures_address;
	time_t (*now)(void);		/* NULL: time() */
	/* the registration authority; get NULL: no orders (the pages
	 * say so) */
	struct portal_ra_source ra;
	/* directory of the browser bundle (portal.js and its map, served
	 * under /static/); NULL: the one compiled in (CERTDESK_DISTDIR,
	 * the source tree's web/dist) */
	const char *dist_dir;
	/* 1: no SMTP server is configured ([mail] smtp_url empty), so mail
	 * marked sent went into the spool folder (the admin's "Outgoing
	 * mail" page says "spooled") */
	int mail_spool;
	/* the ACME directory's URL, shown with a contract's ACME
	 * credentials (External Account Binding keys); NULL: no ACME */
	const char *acme_directory;
	/* for the admin's "Certificate authority" page: the plain-HTTP
	 * base of CA certificates and CRLs (ca.base_url), and where the
	 * signer makes new CA keys, in words; NULL: not shown */
	const char *ca_base_url;
	const char *ca_keys;
	/* which issuing CA this server issues from: ca_issuing(
	 * ca_issuing_arg, out) fills *out as it stands now (any thread,
	 * cheap); NULL: not shown */
	void (*ca_issuing)(void *arg, struct portal_ca_issuing *out);
	void *ca_issuing_arg;
	/* Certificate Transparency: the log list (borrowed; it may be
	 * reloaded while the portal runs) and the file it is read from;
	 * NULL: off */
	const struct ca_ct *ct;
	const char *ct_list_path;
	/* where certificate problems are reported (ca.problem_report_
	 * contact): an email address or https:// URL; NULL or "": none */
	const char *problem_contact;
	/* the subscriber agreement and terms of use the order form links
	 * to (portal.terms_url): an https:// URL or a path of this server;
	 * NULL, "" or PORTAL_TERMS_PATH: the built-in placeholder page */
	const char *terms_url;
	/* documents a customer may send with an answer to validation
	 * staff (portal.upload_max_files, _bytes); 0: 5 of 10 MiB */
	int upload_max_files;
	size_t upload_max_bytes;
	time_t ca_now;			/* the CA's pinned clock; 0: real */
	/* the HTTPS service certificate: svc_cert(svc_cert_arg, out) fills
	 * *out with how it stands now (any thread; cheap, it is asked for
	 * every view of the page); NULL: not shown */
	void (*svc_cert)(void *arg, struct portal_svc_cert *out);
	void *svc_cert_arg;
};

/* Opens the portal: the first store handle (migrations run), the static
 * assets. Returns 0 with a new portal in *out (free with portal_free()),
 * or RC_* with the reason logged. */
int portal_new(const struct portal_conf *conf, struct portal **out);
/* Frees; call after the HTTP server using it has stopped. NULL is fine. */
void portal_free(struct portal *p);
/* The bound of a body that carries files (struct http_conf.max_upload)
 * for files documents of bytes each (0: the defaults): all of them and
 * 64 KiB for the form's fields and part headers. */
#define PORTAL_UPLOAD_FILES_DEFAULT 5
#define PORTAL_UPLOAD_BYTES_DEFAULT (10 * 1024 * 1024)
size_t portal_upload_body_max(int files, size_t bytes);
/* struct http_conf.upload_ok for the portal's routes (app: the portal):
 * 1 only for POST /portal/orders/<id>/org-info from a logged-in
 * customer whose order's organisation case waits for an answer, which
 * may carry documents. */
struct http_req;
int portal_upload_ok(struct http_req *r, void *app);

/* The route table (static, borrowed) to serve with the portal as the
 * handlers' app pointer: "/", "/portal", "/portal/...", "/static/...",
 * "/api/v1/...". */
const struct http_route *portal_routes(size_t *n);

/* Formats the HTTP layer's own errors for portal paths: an HTML page (or
 * an RFC 7807 problem under /api/) without internal details. Suits
 * struct http_conf.on_error with the portal as app. */
int portal_on_http_error(struct http_req *r, unsigned status,
    const char *reason, void *portal);

/*
 * Makes an API token for user_id (a `certdesk admin token add`): the token
 * text (shown once, never stored) into out, the store keeps its SHA-256.
 * *id gets the token's id. It ends days days from now (1 to
 * PORTAL_TOKEN_DAYS_MAX), or with days 0: a staff member's (agent,
 * admin) after PORTAL_TOKEN_DAYS, a customer's never. A staff token
 * always ends, as personal access tokens do at GitHub and GitLab: it
 * acts in the back office, and a leaked one must not work for ever.
 * RC_NOTFOUND for an unknown user, RC_STATE for a disabled one (its
 * token would count for nothing), RC_INVAL for days out of range.
 */
#define PORTAL_TOKEN_TEXT (4 + 64 + 1)	/* "cdt_" + 64 hex + NUL */
#define PORTAL_TOKEN_DAYS 90		/* a staff token's default life */
#define PORTAL_TOKEN_DAYS_MAX 365	/* the longest any token gets */
int portal_token_create(struct store *st, int64_t user_id, const char *label,
    int days, char out[PORTAL_TOKEN_TEXT], int64_t *id);
/*
 * In one transaction, audited as done by actor: with revoke_id 0, a new
 * token for user_id as portal_token_create() makes it ("token.add"; the
 * text into out, *id its id, its end into *expires_at, 0: none); else
 * revokes token revoke_id of user_id (0: of any user; "token.revoke"),
 * RC_NOTFOUND when there is no such usable token (days unused).
 */
int portal_token_change(struct store *st, int64_t user_id, const char *label,
    int days, int64_t revoke_id, const char *actor,
    char out[PORTAL_TOKEN_TEXT], int64_t *id, time_t *expires_at);

#endif
