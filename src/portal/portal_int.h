/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the portal: the pieces the page and API handlers share, exposed
 * here (not in portal.h) so that unit tests and the fuzz harness reach
 * them: the x-www-form-urlencoded parser, HTML escaping, session ids, API
 * tokens and CSRF tokens, cookie building, the login throttle arithmetic,
 * and the request context every handler works in.
 *
 * Everything here runs in the main certdesk process on HTTP worker
 * threads; every input that comes from the request is untrusted.
 */
#ifndef CERTDESK_PORTAL_PORTAL_INT_H
#define CERTDESK_PORTAL_PORTAL_INT_H

#include "portal/portal.h"
#include "store/store.h"
#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* crypto_pwhash_STRBYTES; portal.c asserts that it is */
#define PORTAL_PW_HASH_BYTES 128

/* ---- application/x-www-form-urlencoded (form.c) -------------------------- */

#define PORTAL_FORM_MAX_BODY (16 * 1024)	/* bytes of a whole body */
#define PORTAL_FORM_MAX_FIELDS 32
#define PORTAL_FORM_MAX_NAME 64		/* decoded bytes of a name */
#define PORTAL_FORM_MAX_VALUE 4096	/* decoded bytes of a value */

struct portal_form;

/*
 * Parses body[0..len) (WHATWG URL "application/x-www-form-urlencoded":
 * '&'-separated name=value pairs, '+' is a space, %XX a byte). Stricter than
 * browsers, because every form here is ours: a bad or truncated %-escape,
 * a decoded NUL or control character (other than TAB, CR and LF in
 * values), text that is not UTF-8, an empty name, a name given twice,
 * more than PORTAL_FORM_MAX_FIELDS fields or a name or value over its
 * maximum is RC_INVAL (RC_TOOBIG for a body over PORTAL_FORM_MAX_BODY or
 * too many fields). Empty pairs ("a=1&&b=2") are skipped; a name without
 * '=' has the value "". Returns a new form in *out (free with
 * portal_form_free()); *out is NULL on error.
 */
int portal_form_parse(const uint8_t *body, size_t len,
    struct portal_form **out);
/* Adds name=value to *f (a new form when *f is NULL), as if it had been
 * posted: a form the server fills in itself (a renewal starts from the
 * certificate's order, or the fields of a multipart form). The strings are
 * copied. 0; RC_INVAL for an empty, too long or repeated name, or a name
 * or value that a posted form could not carry (not UTF-8, control
 * characters but TAB, CR and LF in a value); RC_TOOBIG past
 * PORTAL_FORM_MAX_FIELDS or for a value over PORTAL_FORM_MAX_VALUE bytes. */
int portal_form_add(struct portal_form **f, const char *name,
    const char *value);
/* The value of name, or NULL when absent (borrowed, valid while f lives). */
const char *portal_form_get(const struct portal_form *f, const char *name);
size_t portal_form_count(const struct portal_form *f);
void portal_form_free(struct portal_form *f);	/* NULL is fine; wipes */

/* ---- HTML (html.c) ------------------------------------------------------- */

/*
 * The one escaping function: appends s with & < > " ' escaped as entities
 * to b, so that the text is safe in element content and in quoted
 * attribute values. Bytes that are not valid UTF-8 and control characters
 * (but TAB, LF, CR) become U+FFFD. NULL appends nothing. 0 or RC_TOOBIG.
 */
int portal_html_escape(struct buf *b, const char *s);
/* Formats into b: the format's literal text as it is (it is ours), every
 * %s argument through portal_html_escape(); only %s, %lld and %% are
 * allowed. Returns 0, RC_TOOBIG, or RC_INVAL for another conversion. */
int portal_html_printf(struct buf *b, const char *fmt, ...);

/* One page in the layout: header with the product name, navigation and
 * (when logged in) the user's name and a logout button, then body. */
struct portal_page {
	const char *title;	/* text: escaped by the layout */
	const char *user_name;	/* text; NULL: not logged in */
	const char *csrf;	/* the session's CSRF token (logout form) */
	const char *css_href;	/* the stylesheet's URL */
	const char *body;	/* HTML, every dynamic part escaped already */
	const char *js_href;	/* the browser bundle's URL, or NULL */
	int refresh;		/* > 0: reload every that many seconds
				 * (something is pending) */
	int admin;		/* the user is an admin: admin links */
	int staff;		/* agent or admin: staff links, no customer
				 * ones */
};
/* Appends the whole HTML document to out. 0 or RC_TOOBIG. */
int portal_html_page(struct buf *out, const struct portal_page *p);

/* ---- secrets: session ids, API tokens, CSRF (auth.c) --------------------- */

#define PORTAL_SESSION_ID_HEX 64	/* 32 random bytes, lowercase hex */
#define PORTAL_TOKEN_PREFIX "cdt_"
#define PORTAL_TOKEN_LEN (4 + 64)	/* "cdt_" + 64 hex */
#define PORTAL_CSRF_LEN 64		/* hex of HMAC-SHA-256 */
#define PORTAL_COOKIE "__Host-certdesk"
#define PORTAL_LOGIN_COOKIE "__Host-certdesk-login"

/* 32 random bytes as hex into out (65 bytes). 0 or RC_CRYPTO. */
int portal_random_hex(char out[PORTAL_SESSION_ID_HEX + 1]);
/* SHA-256 of the text s into out. 0 or RC_CRYPTO. */
int portal_sha256(const char *s, uint8_t out[STORE_HASH_LEN]);
/* 1 when s is exactly PORTAL_SESSION_ID_HEX lowercase hex digits. */
int portal_session_id_ok(const char *s);
/* 1 when s is a well-formed API token ("cdt_" + 64 lowercase hex). */
int portal_token_ok(const char *s);
/* The CSRF token of a session: hex HMAC-SHA-256(secret, "certdesk csrf
 * v1") into out (65 bytes). 0 or RC_CRYPTO. */
int portal_csrf_token(const uint8_t secret[STORE_CSRF_LEN],
    char out[PORTAL_CSRF_LEN + 1]);
/* 1 when given equals the session's token (constant time), 0 otherwise
 * (also for NULL or a wrong length). */
int portal_csrf_check(const uint8_t secret[STORE_CSRF_LEN],
    const char *given);
/*
 * A new secret sealed for its one showing after the redirect of the form
 * that made it (store_reveal_add): an API token (what->token_id) or the
 * HMAC key of new ACME credentials, as base64url (what->eab_kid).
 * XChaCha20-Poly1305 with a key derived from the session id sid (the
 * cookie's text, which the store never keeps), what it belongs to as
 * associated data, so that only a request of that session opens it for
 * that token or key, and a copy of the database opens nothing.
 * portal_reveal_seal: the secret sealed into out (random nonce first), *n
 * its length; 0, RC_INVAL (sid, what or the secret malformed: a token that
 * is none, a key that is not PORTAL_EAB_KEY_LEN base64url characters),
 * RC_CRYPTO. portal_reveal_unseal: the secret into out; RC_INVAL when
 * sealed[0..n) does not open with this sid and what (another session's,
 * another token's or key's, changed) or holds no such secret (out then
 * empty).
 */
#define PORTAL_EAB_KEY_LEN 43	/* base64url of a 32-byte HMAC key */
#define PORTAL_REVEAL_TEXT PORTAL_TOKEN_TEXT	/* the longest, a token, and
						 * its NUL */
#define PORTAL_REVEAL_SEALED_MAX (24 + PORTAL_REVEAL_TEXT - 1 + 16)
int portal_reveal_seal(const char *sid, const struct store_reveal *what,
    const char *secret, uint8_t out[PORTAL_REVEAL_SEALED_MAX], size_t *n);
int portal_reveal_unseal(const char *sid, const struct store_reveal *what,
    const uint8_t *sealed, size_t n, char out[PORTAL_REVEAL_TEXT]);
/* The value of cookie name in a Cookie header (RFC 6265 §5.4) into out
 * (at most len - 1 bytes); 0, RC_NOTFOUND, or RC_TOOBIG. A name given
 * twice is RC_INVAL (someone planted a second one). */
int portal_cookie_get(const char *header, const char *name, char *out,
    size_t len);
/* A Set-Cookie value: name=value; Path=/; Secure; HttpOnly;
 * SameSite=Strict; Max-Age=max_age (0 deletes the cookie). Returns a new
 * string (free()). */
char *portal_cookie_build(const char *name, const char *value,
    long max_age);
/*
 * Whether an unsafe request may come from where it says (CSRF defence in
 * depth beside the token): Sec-Fetch-Site, when present, must be
 * "same-origin"; Origin, when present, must be "https://" + host. Requests
 * without both (non-browser clients) pass. 1 allowed, 0 refused.
 */
int portal_origin_ok(const char *origin, const char *sec_fetch_site,
    const char *host);

/* ---- login throttle (auth.c) --------------------------------------------- */

struct portal_throttle {
	int64_t limit;		/* failures allowed before delays start */
	time_t base;		/* first delay, seconds */
	time_t cap;		/* longest delay */
};
/*
 * Seconds before another attempt is allowed after `failures` failures in
 * a row, the last at last_at: 0 while failures < limit; then base *
 * 2^(failures - limit) capped at cap, counted from last_at.
 */
time_t portal_throttle_wait(const struct portal_throttle *t, int64_t failures,
    time_t last_at, time_t now);

/* ---- the request context (portal.c) -------------------------------------- */

struct portal_req {
	struct portal *p;
	struct http_req *r;
	struct store *st;	/* from the portal's pool, for this request */
	time_t now;
	int authed;		/* user is filled */
	int via_token;		/* authenticated by an API token */
	struct store_user user;
	struct store_session sess;	/* when by session */
	char csrf[PORTAL_CSRF_LEN + 1];	/* the session's CSRF token */
	int refresh;		/* the page reloads itself (seconds) */
	unsigned form_refusal;	/* why portal_req_form() gave NULL */
};

/* Takes a store handle for the request. 0 or RC_*. */
int portal_req_begin(struct portal *p, struct http_req *r,
    struct portal_req *c);
/* Gives the store handle back, wipes the context. */
void portal_req_end(struct portal_req *c);
/*
 * Finds who is asking: an API token (Authorization: Bearer, only when
 * allow_token) or the session cookie. 0 when authenticated (c->user
 * filled); RC_UNAUTH when not (no or bad credentials: *bad_token is 1
 * when a token was given but is wrong or revoked); other RC_* on errors.
 */
int portal_req_auth(struct portal_req *c, int allow_token, int *bad_token);
/* 1 when an unsafe request passes the CSRF checks: Origin/Sec-Fetch-Site,
 * then (session only) the token `given` (form field or header). */
int portal_req_csrf_ok(struct portal_req *c, const char *given);
/* The request's form (portal_form_parse) when it passes the CSRF checks
 * with its "csrf" field; NULL when it does not pass, or is no form the
 * portal reads (then answer with portal_form_refused()). Free with
 * portal_form_free(). */
struct portal_form *portal_req_form(struct portal_req *c);
/* The answer to a form portal_req_form() refused: 403 when it failed the
 * CSRF checks; 400 with a message saying what is wrong when it came from
 * our own pages but cannot be read (a field over PORTAL_FORM_MAX_VALUE
 * bytes, too many fields, a body over PORTAL_FORM_MAX_BODY). */
int portal_form_refused(struct portal_req *c);
/* The contract / slot when the user may see it; RC_NOTFOUND both when it
 * does not exist and when it belongs to another customer. Clear with
 * store_contract_clear() / store_slot_clear(). */
int portal_contract_visible(struct portal_req *c, int64_t id,
    struct store_contract *out);
int portal_slot_visible(struct portal_req *c, int64_t id,
    struct store_slot *out);
/* Contracts the user may see, by id: *ids is a new array (free()) of *n. */
int portal_contract_ids(struct portal_req *c, int64_t **ids, size_t *n);
/* The slot ids of a contract the user may see, by id: new array of *n;
 * RC_NOTFOUND for a contract the user may not see. */
int portal_slot_ids(struct portal_req *c, int64_t contract_id, int64_t **ids,
    size_t *n);
/*
 * "Activate now" (SSL Unlimited): unused -> active, audited, for pages and
 * API alike. 0; RC_NOTFOUND (not visible); RC_STATE with the reason for a
 * customer in *why (static text) when the slot is not an unused Unlimited
 * one; RC_* otherwise.
 */
int portal_slot_activate(struct portal_req *c, int64_t slot_id,
    const char **why);
/* What may be done with a slot now: "activate", "setup" or NULL. */
const char *portal_slot_action(const struct store_slot *s);
/* A positive decimal id without sign or leading zeros (at most 15
 * digits) from s[0..n); 0 when s is not one. */
int64_t portal_parse_id(const char *s, size_t n);
/* The query argument name as a positive id (portal_parse_id): dflt when
 * it is absent, -1 when it is there but not one (paging: "before",
 * "limit", "page"). */
int64_t portal_query_id(const struct portal_req *c, const char *name,
    int64_t dflt);
/* Adds the headers every portal answer carries (CSP, frame, referrer,
 * caching). */
void portal_security_headers(struct http_req *r, int cacheable);

/* ---- replies shared by the page files (portal.c) ------------------------- */

/* body (HTML, escaped already) in the layout with status. */
int portal_page_reply(struct portal_req *c, unsigned status,
    const char *title, const char *body);
/* The error page for status (detail: text, or NULL for the standard
 * one). */
int portal_error_reply(struct portal_req *c, unsigned status,
    const char *detail);
/* 303 to a path of ours. */
int portal_redirect(struct http_req *r, const char *to);
/* The login page's address that leads back to target (the request target
 * of a logged-out visit, a path under /portal/ or /backoffice/) after the
 * login, or the plain login page when target is not a place to go back to
 * (plain characters only, no "//", "..", backslash or percent-encoding;
 * at most PORTAL_NEXT_MAX characters). Into out, of len; len
 * PORTAL_LOGIN_URL_MAX holds every one. */
#define PORTAL_NEXT_MAX 512
#define PORTAL_LOGIN_URL_MAX (PORTAL_NEXT_MAX * 3 + 64)
void portal_login_url(const char *target, char *out, size_t len);
/* 1 for GET and HEAD. */
int portal_is_get(struct http_req *r);
struct ra;
/* Borrows the registration authority for this request; RC_STATE when the
 * portal has none. Give it back with portal_ra_put(). */
int portal_ra_get(struct portal_req *c, struct ra **ra);
void portal_ra_put(struct portal_req *c, struct ra *ra);
/* The customer whose objects the user may see: its customer id (> 0),
 * or -1 (nobody's) for staff and for anyone else. Never 0, which the ra
 * reads as "every customer": staff see customers' orders only in the back
 * office, never through the portal's pages or API. */
int64_t portal_customer_scope(const struct portal_req *c);
/* 1 when the authenticated user is an agent or an admin: the customer
 * pages and the customer API answer them as a customer without access
 * (404), but for the admin's Outgoing mail and GET /api/v1/me. */
int portal_is_staff(const struct portal_req *c);

/* ---- setup, overview, certificates (orders.c) ---------------------------- */

/* GET / POST /portal/slots/<id>/setup; a POST that places the order
 * redirects to its confirmation, /portal/orders/<id>/placed. */
int portal_setup(struct portal_req *c, int64_t slot_id);
/* /portal/overview, /portal/orders/<id>[/download/<file>|/revoke|/placed
 * |/dv/...|/org-info]. */
int portal_orders(struct portal_req *c, const char *tail);
/* API operations on orders (api.c's table). */
int portal_api_orders(struct portal_req *c, int64_t id);
int portal_api_order(struct portal_req *c, int64_t id);
int portal_api_order_new(struct portal_req *c, int64_t slot_id);
int portal_api_download(struct portal_req *c, int64_t id);
int portal_api_revoke(struct portal_req *c, int64_t id);
/* The JSON reply helper of api.c. */
int portal_api_json(struct http_req *r, unsigned status, void *json);
/* The API's 404 problem, the same for a missing resource and for one of
 * another customer (api.c). */
int portal_api_not_found(struct portal_req *c);
/* t in UTC as every page of the portal, the back office and the admin
 * pages shows it, one style for all: "5 Nov 2026, 14:05 UTC" (a relative
 * "3 days ago" only ever added to it), and for a day alone "5 Nov 2026";
 * an em dash for 0 and for a time gmtime_r() cannot take. The style is
 * util/timefmt.h's, which the mails to customers use as well. */
void portal_fmt_time(time_t t, char out[32]);
void portal_fmt_date(time_t t, char out[32]);
/* t as RFC 3339, "2026-11-27T14:05:00Z" (0 is 1970's); "" for a time
 * gmtime_r() cannot take. */
void portal_fmt_rfc3339(time_t t, char out[32]);
/* n bytes for people, in out[0..len): "10 MiB", "1.5 MiB", "512 KiB"
 * (rounded up: never "0 KiB"), "300 bytes"; the customer's and the
 * agents' lists of documents say it the same way. */
void portal_size_text(size_t n, char *out, size_t len);

/* ---- the JSON API (api.c) ------------------------------------------------ */

struct portal_api_route {
	const char *method;	/* "GET", "POST" */
	const char *path;	/* "/api/v1/slots/{id}"; {id}: an id */
	int (*handler)(struct portal_req *c, int64_t id);
};
/* docs/openapi.yaml as built into the binary (embed_text.py): its bytes,
 * without the final NUL; served at /api/v1/openapi.yaml. */
extern const char portal_openapi_yaml[];
extern const size_t portal_openapi_yaml_len;
/* The API's operations (static, borrowed): what /api/v1/ dispatches to,
 * and what docs/openapi.yaml must describe. */
const struct portal_api_route *portal_api_routes(size_t *n);
/* The handler of "/api/v1/" (route prefix). */
int portal_api_handle(struct http_req *r, void *portal);
/* An RFC 7807 problem reply (application/problem+json). */
int portal_api_problem(struct http_req *r, unsigned status, const char *type,
    const char *title, const char *detail);

/* ---- domain validation and outgoing mail (dv.c, dv_input.c, mailq.c) ---- */

/*
 * What the validation pages take from a request, checked before anything
 * else sees it (dv_input.c, no ra calls: the unit tests reach it alone).
 *
 * A confirmation token as the mail's link carries it: the random value
 * (>= 112 bits) in base64url, PORTAL_DV_TOKEN_MIN..MAX characters of
 * [A-Za-z0-9_-] and nothing else (no padding, slash, dot or escape).
 */
#define PORTAL_DV_TOKEN_MIN 16
#define PORTAL_DV_TOKEN_MAX 128
/* 1 when s[0..n) is such a token. */
int portal_dv_token_ok(const char *s, size_t n);
/* The token of the path tail after "/confirm/" into out: 0, or
 * RC_NOTFOUND when tail is not exactly one well-formed token. */
int portal_dv_token_from_tail(const char *tail,
    char out[PORTAL_DV_TOKEN_MAX + 1]);

/* A customer's choice of method for one name. */
struct portal_dv_choice {
	int method;		/* enum ra_dv_method: DNS_AUTO, EMAIL, DNS,
				 * HTTP; never NONE, OPERATOR or REUSED */
	char email_local[16];	/* with EMAIL: one of RA_DV_EMAIL_LOCALS */
	char email_domain[256];	/* with EMAIL: the Authorization Domain Name
				 * chosen (a DNS name; the ra checks that it
				 * is one of the name's), "" for the default */
};
/*
 * The choice from a form's fields "method" ("dns-auto", "email", "dns",
 * "http") and "email_local" (email only; absent or "": hostmaster). 0, or
 * RC_INVAL with *why (static text for the customer) for a missing or
 * unknown method or a local part that is not one of the five.
 */
int portal_dv_choice_parse(const char *method, const char *email_local,
    struct portal_dv_choice *out, const char **why);
/*
 * The address of the form's "email_to" field ("hostmaster@example.com",
 * the overview's list of addresses) into an email choice: a local part
 * that is one of the five and a DNS name (lower-case A-labels). 0 or
 * RC_INVAL with *why, out cleared.
 */
int portal_dv_email_to_parse(const char *to, struct portal_dv_choice *out,
    const char **why);
/*
 * The same from a JSON request body {"authz_id": N, "method": "...",
 * "email_local": "...", "email_domain": "..."} (json: a json_t *):
 * authz_id a positive integer, method a string, email_local and
 * email_domain strings or null/absent. want_method 0 (check now, resend)
 * needs only authz_id. 0 or RC_INVAL with *why.
 */
int portal_dv_json_parse(const void *json, int want_method, int64_t *authz_id,
    struct portal_dv_choice *out, const char **why);
/* The page action after "/portal/orders/<id>/": "dv/<authz>/choose",
 * "dv/<authz>/check" or "dv/<authz>/resend" -> *authz_id and *action
 * (static "choose", "check", "resend"); RC_NOTFOUND otherwise. */
int portal_dv_action_parse(const char *rest, int64_t *authz_id,
    const char **action);

/*
 * The message a POST leaves for the page it redirects to (PRG), in a
 * short-lived cookie: "o." (done) or "e." (refused) and the text in hex.
 * portal_flash_encode: a new string (free()), text cut at
 * PORTAL_FLASH_MAX bytes. portal_flash_decode: 0 with *ok and the text
 * into out (PORTAL_FLASH_MAX + 1), or RC_INVAL for anything malformed.
 */
#define PORTAL_FLASH_COOKIE "__Host-certdesk-msg"
#define PORTAL_FLASH_MAX 400
char *portal_flash_encode(int ok, const char *text);
int portal_flash_decode(const char *v, int *ok,
    char out[PORTAL_FLASH_MAX + 1]);
/* Sets the flash cookie on the coming reply (a redirect). */
void portal_flash_set(struct http_req *r, int ok, const char *text);
/* Reads and clears the request's flash: 1 with *ok and text, or 0. */
int portal_flash_take(struct portal_req *c, int *ok,
    char out[PORTAL_FLASH_MAX + 1]);
/* Takes the request's flash and appends it to b as the page's message
 * (#flash: a notice, or an alert for a refusal); nothing when there is
 * none. 0 or RC_TOOBIG. */
int portal_flash_html(struct portal_req *c, struct buf *b);

/* The admin-only rule: 1 when the user is an admin with a browser
 * session (customers, agents, API tokens: 0; their pages are 404). */
int portal_admin_allowed(const struct portal_req *c);
/* The mail page path after "admin/mail": "" the newest page,
 * "/before/<id>" an older page, "/<id>" one mail. 0 with *before or *id
 * set (the other 0), RC_NOTFOUND otherwise. */
int portal_mailq_path_parse(const char *rest, int64_t *before, int64_t *id);
/* Appends a mail's text to b, escaped, with each http:// or https:// URL
 * (up to a blank, a control character or one of < > " ' `, without a
 * final . , ; : ) or ]) as a link (rel="noreferrer"). 0 or RC_*. */
int portal_mail_linkify(struct buf *b, const char *text);
/* Appends mail m's text as the admin's page shows it (portal_mail_linkify):
 * unless spooled (no SMTP server: the demo follows the link from there),
 * the token of a validation mail's confirmation link is masked, before
 * delivery too, so that no admin can confirm in the recipient's place.
 * 0 or RC_*. */
int portal_mail_body(struct buf *b, const struct store_mail *m,
    int spooled);

struct ra;
struct ra_portal_order;
/*
 * The validation of a pending order's names for the overview or the
 * order's page (on_page) (dv.c): appends one card to b (nothing for an
 * order that is not pending or has no name to validate), whose forms lead
 * back to that page. *needs_customer (may be NULL) is set to 1 when a name
 * waits for the customer (dns, http, email), so that the page does not
 * reload under their hands. 0 or RC_*.
 */
int portal_dv_section(struct portal_req *c, struct ra *ra,
    const struct ra_portal_order *o, struct buf *b, int *needs_customer,
    int on_page);
/* POST /portal/orders/<id>/dv/<authz>/{choose,check,resend} (rest: after
 * "orders/<id>/"): does it and redirects with a message to the page the
 * form was sent from: the order's page when its field "back" is "order",
 * else the overview. */
int portal_dv_post(struct portal_req *c, int64_t order_id, const char *rest);
/* The confirmation link's page, "/confirm/<token>": GET shows, POST
 * confirms; not behind the login (route handler, app: the portal). */
int portal_dv_confirm_handle(struct http_req *r, void *portal);
/* API: GET /api/v1/orders/{id}/validations and the three POSTs. */
int portal_api_dv_list(struct portal_req *c, int64_t order_id);
int portal_api_dv_choose(struct portal_req *c, int64_t order_id);
int portal_api_dv_check(struct portal_req *c, int64_t order_id);
int portal_api_dv_resend(struct portal_req *c, int64_t order_id);
/* /portal/admin/mail[...] (rest: after "admin/mail"); 404 unless
 * portal_admin_allowed(). */
int portal_mailq(struct portal_req *c, const char *rest);
/* /portal/admin/acme[...] (rest: after "admin/acme"): the ACME accounts
 * and their revocation by the CA (admin_acme.c); 404 unless
 * portal_admin_allowed(). */
int portal_admin_acme(struct portal_req *c, const char *rest);
/* An ACME account's contact list (JSON array text, may be NULL) as text
 * for people: the addresses without "mailto:", separated by ", ", cut at
 * n bytes ("" for none). Returns the list as JSON (an empty array when the
 * text is not one; json_decref() it). In acme.c. */
struct json_t *portal_acme_contacts(const char *contact_json, char *text,
    size_t n);

/* Security headers for pages whose URL holds a secret (the confirmation
 * link): as portal_security_headers(r, 0) but Referrer-Policy no-referrer. */
void portal_security_headers_secret(struct http_req *r);
/* Replies with a document of an organisation validation case as a
 * download (orders.c): its sniffed type, attachment with a safe file name,
 * nosniff, a sandboxing CSP, no caching. For the portal and the back
 * office, each after its own access check. */
int portal_doc_reply(struct http_req *r, const struct store_org_doc *d);
/* How many documents of how many bytes each a customer may send with an
 * answer to validation staff (struct portal_conf). */
void portal_upload_limits(const struct portal *p, int *files,
    size_t *bytes);
/* The stylesheet's URL (with its version) for pages built outside the
 * layout helpers. */
const char *portal_css_href(const struct portal *p);
/* What a login for an unknown email is verified against: an Argon2id hash
 * (crypto_pwhash_str format) of a password nobody kept, NUL-padded to
 * crypto_pwhash_STRBYTES as libsodium reads it. */
extern const char portal_dummy_pw_hash[PORTAL_PW_HASH_BYTES];
/* 1 when delivered mail goes to the spool folder (no SMTP server). */
int portal_mail_spooled(const struct portal *p);
/* The audit actor of the request's user: "portal:user/<id>". */
void portal_actor(const struct portal_req *c, char out[48]);
/* One "label / value / copy" row of an instruction table (the bundle
 * shows its Copy button); id: the value's element id. 0 or RC_TOOBIG. */
int portal_copy_row(struct buf *b, const char *label, const char *id,
    const char *value);
/* The ACME directory URL, or NULL when this server has no ACME. */
const char *portal_acme_directory(const struct portal *p);

/* What the "Certificate authority" page says of this server (strings
 * copied from struct portal_conf; NULL: not known). */
struct portal_ca_view {
	char *base_url, *keys;
	/* which issuing CA this server issues from (struct portal_conf);
	 * NULL: not shown */
	void (*issuing)(void *arg, struct portal_ca_issuing *out);
	void *issuing_arg;
	const struct ca_ct *ct;	/* the CT log list; NULL: CT is off */
	char *ct_path;		/* the file it is read from */
	char *problem_contact;	/* ca.problem_report_contact, or NULL */
	char *terms_url;	/* portal.terms_url; NULL: the placeholder */
	time_t now;	/* the CA's pinned clock (policy.now); 0: real */
	/* the HTTPS service certificate (struct portal_conf); NULL: not
	 * shown */
	void (*svc_cert)(void *arg, struct portal_svc_cert *out);
	void *svc_cert_arg;
};
const struct portal_ca_view *portal_ca_view(const struct portal *p);
/* The subscriber agreement (terms.c): the URL the order form links to
 * (portal.terms_url, or PORTAL_TERMS_PATH; borrowed, lives as long as
 * p), and PORTAL_TERMS_PATH's page, for anyone: the placeholder that says
 * it must be replaced, or a redirect to the configured URL. */
const char *portal_terms_href(const struct portal *p);
int portal_terms_handle(struct http_req *r, void *app);
/* "Report a compromised key" (report.c): /report-key, for anyone. */
int portal_report_handle(struct http_req *r, void *app);

/* The admin's "Certificate authority" page (ca.c): rest after
 * "/portal/admin/ca"; 404 for everyone but admins in a browser. */
int portal_ca(struct portal_req *c, const char *rest);

/* ---- ACME credentials (acme.c) ------------------------------------------- */

/* /portal/acme[/keys[/revoke|/new/<contract>/<kid>]|/accounts/deactivate]
 * (rest: after "acme"): the contracts' EAB keys, a new one (shown once,
 * after the form's redirect), revoking an unused one, deactivating the
 * ACME account of a used one. */
int portal_acme(struct portal_req *c, const char *rest);
/* API: GET and POST /api/v1/contracts/{id}/acme-keys, POST .../revoke. */
int portal_api_eab_list(struct portal_req *c, int64_t contract_id);
int portal_api_eab_create(struct portal_req *c, int64_t contract_id);
int portal_api_eab_revoke(struct portal_req *c, int64_t contract_id);
/* API: POST /api/v1/contracts/{id}/acme-accounts/deactivate. */
int portal_api_acme_account_deactivate(struct portal_req *c,
    int64_t contract_id);

/* ---- API tokens (tokens.c) ----------------------------------------------- */

/* /portal/tokens[/revoke|/new/<id>] (rest: after "tokens"): the user's
 * API tokens, a new one (shown once, after the form's redirect; browser
 * sessions only), revoking one. */
int portal_tokens(struct portal_req *c, const char *rest);
/* API: GET /api/v1/tokens, POST /api/v1/tokens/{id}/revoke. */
int portal_api_tokens(struct portal_req *c, int64_t unused);
int portal_api_token_revoke(struct portal_req *c, int64_t id);

/* ---- a new secret's one showing (reveal.c) ------------------------------- */

/*
 * The form that makes a token or ACME credentials redirects to the page
 * that shows the secret (POST-redirect-GET: a reload makes no second
 * one). portal_reveal_keep() leaves secret, of what (struct
 * store_reveal), for that page: sealed (portal_reveal_seal) for the
 * request's browser session, in the store for a few minutes; 0, or RC_*
 * (then nobody will see it: revoke what was made). portal_reveal_take()
 * gives it to that page once, into out: 0; RC_NOTFOUND when it was shown
 * already (a reload, the back button), was never this session's, or its
 * minutes are over; other RC_* on errors.
 */
int portal_reveal_keep(struct portal_req *c, const struct store_reveal *what,
    const char *secret);
int portal_reveal_take(struct portal_req *c, const struct store_reveal *what,
    char out[PORTAL_REVEAL_TEXT]);

/* ---- products ------------------------------------------------------------ */

/* "SSL Starter (DV)" for "starter", ...; NULL for an unknown product. */
const char *portal_product_name(const char *product);
/* A customer's words for a slot state ("Not set up", ...). */
const char *portal_state_name(const char *state);

#endif
