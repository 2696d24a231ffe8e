/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The portal's core: the struct portal (configuration, a pool of store
 * handles, the static assets read at start), the request context with
 * authentication (session cookie or API token) and CSRF checks, the
 * visibility rules (a customer sees only its own customer's contracts and
 * slots; anything else is "not found"), the service functions pages and
 * API share, and the HTML pages: login, logout, the portfolio, the slot
 * actions, and a page for every error.
 *
 * Runs in the main certdesk process on the HTTPS listener's worker
 * threads. Trusts the store and the static directory; everything in a
 * request is untrusted. Passwords are verified with argon2id
 * (crypto_pwhash_str_verify) and never logged or kept.
 */
#include "portal/portal_int.h"
#include "ra/ra.h"
#include "util/ipaddr.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef CERTDESK_WEBDIR
#define CERTDESK_WEBDIR "web/static"
#endif
#ifndef CERTDESK_DISTDIR
#define CERTDESK_DISTDIR "web/dist"
#endif

#define MAX_ASSETS 32
#define MAX_ASSET_SIZE (4 * 1024 * 1024)	/* the bundle's source map */
#define PAGE_MAX (1024 * 1024)
#define EMAIL_MAX 254
#define FAIL_RESET (24 * 3600)	/* a failure run older than this restarts */
#define LOGIN_COOKIE_AGE 3600

#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
	"img-src 'self'; connect-src 'self'; form-action 'self'; "     \
	"frame-ancestors 'none'; base-uri 'none'"

struct asset {
	char *path;		/* "/static/portal.css" */
	const char *ctype;
	uint8_t *data;
	size_t len;
	char etag[24];		/* "\"<16 hex>\"" */
};

struct portal {
	struct store_conf sc;
	char *sc_backend, *sc_path;
	time_t idle, max;
	struct portal_throttle acct, addr;
	time_t (*now)(void);
	pthread_mutex_t lock;	/* the pool */
	struct store **pool;
	size_t npool, cap;
	char dummy_hash[crypto_pwhash_STRBYTES];
	struct asset assets[MAX_ASSETS];
	size_t nassets;
	char css_href[96];
	int upload_files;	/* portal_upload_limits() */
	size_t upload_bytes;
	char js_href[96];
	struct portal_ra_source ra;
	int mail_spool;
	char *acme_directory;	/* NULL: no ACME */
	struct portal_ca_view ca;
};

/* ---- the store pool ------------------------------------------------------ */

static int
pool_get(struct portal *p, struct store **out)
{
	int rc = 0;

	*out = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->npool > 0)
		*out = p->pool[--p->npool];
	pthread_mutex_unlock(&p->lock);
	if (*out == NULL) {
		rc = store_open(&p->sc, out);
		if (rc != 0)
			log_err(LOG_PORTAL, "store: %s", rc_str(rc));
	}
	return rc;
}

static void
pool_put(struct portal *p, struct store *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	if (p->npool == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 8;
		p->pool = xrealloc(p->pool, p->cap * sizeof(*p->pool));
	}
	p->pool[p->npool++] = st;
	pthread_mutex_unlock(&p->lock);
}

/* ---- static assets ------------------------------------------------------- */

static const char *
ctype_for(const char *name)
{
	static const struct {
		const char *ext, *ctype;
	} types[] = {
		{".css", "text/css; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
		{".ico", "image/x-icon"},
		{".txt", "text/plain; charset=utf-8"},
		{".woff2", "font/woff2"},
		{".map", "application/json"},
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].ctype;
	return NULL;
}

static int
name_ok(const char *n)
{
	if (n[0] == '.' || n[0] == '\0')
		return 0;
	for (const char *q = n; *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		    (*q >= '0' && *q <= '9') || *q == '.' || *q == '-' ||
		    *q == '_'))
			return 0;
	return 1;
}

/* Reads the files of dir (not recursive) with a known type. A missing
 * directory leaves the portal without assets (logged). */
static void
load_assets(struct portal *p, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL) {
		log_warn(LOG_PORTAL, "static assets: %s: %s", dir,
		    strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL && p->nassets < MAX_ASSETS) {
		struct asset *a = &p->assets[p->nassets];
		struct buf b;
		uint8_t md[STORE_HASH_LEN];
		char hex[2 * STORE_HASH_LEN + 1];
		char *path;

		if (!name_ok(e->d_name) || ctype_for(e->d_name) == NULL)
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		buf_init(&b, MAX_ASSET_SIZE);
		if (buf_read_file(&b, path) != 0) {
			log_warn(LOG_PORTAL, "static asset %s: cannot read "
			    "(or over 1 MiB)", path);
			buf_free(&b);
			free(path);
			continue;
		}
		free(path);
		a->ctype = ctype_for(e->d_name);
		a->path = xasprintf("/static/%s", e->d_name);
		a->data = buf_steal(&b, &a->len);
		if (a->data == NULL)
			a->data = (uint8_t *)xstrdup("");
		if (EVP_Digest(a->data, a->len, md, NULL, EVP_sha256(), NULL)
		    != 1)
			memset(md, 0, sizeof(md));
		hex_encode(md, 8, hex);
		snprintf(a->etag, sizeof(a->etag), "\"%.16s\"", hex);
		if (strcmp(e->d_name, "portal.css") == 0)
			snprintf(p->css_href, sizeof(p->css_href),
			    "/static/portal.css?v=%.16s", hex);
		if (strcmp(e->d_name, "portal.js") == 0)
			snprintf(p->js_href, sizeof(p->js_href),
			    "/static/portal.js?v=%.16s", hex);
		p->nassets++;
	}
	closedir(d);
}

static int
h_static(struct http_req *r, void *app)
{
	struct portal *p = app;
	const char *path = http_req_path(r);
	const char *inm = http_req_header(r, "If-None-Match");

	for (size_t i = 0; i < p->nassets; i++) {
		struct asset *a = &p->assets[i];

		if (strcmp(path, a->path) != 0)
			continue;
		portal_security_headers(r, 1);
		(void)http_add_header(r, "ETag", a->etag);
		if (inm != NULL && strstr(inm, a->etag) != NULL)
			return http_reply(r, 304, NULL, "", 0);
		return http_reply(r, 200, a->ctype, a->data, a->len);
	}
	return portal_on_http_error(r, 404, "not found", p);
}

/* ---- lifecycle ----------------------------------------------------------- */

static time_t
now_default(void)
{
	return time(NULL);
}

int
portal_new(const struct portal_conf *conf, struct portal **out)
{
	struct portal *p;
	struct store *st = NULL;
	char pw[PORTAL_SESSION_ID_HEX + 1];
	int rc;

	*out = NULL;
	if (conf == NULL || conf->store == NULL)
		return RC_INVAL;
	if (sodium_init() < 0) {
		log_err(LOG_PORTAL, "libsodium does not initialise");
		return RC_CRYPTO;
	}
	p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->sc_backend = xstrdup(conf->store->backend ? conf->store->backend :
	    "sqlite");
	p->sc_path = xstrdup(conf->store->path ? conf->store->path : "");
	p->sc.backend = p->sc_backend;
	p->sc.path = p->sc_path;
	p->sc.durable = conf->store->durable;
	p->idle = conf->session_idle > 0 ? conf->session_idle : 30 * 60;
	p->max = conf->session_max > 0 ? conf->session_max : 12 * 3600;
	p->acct.limit = conf->max_failures_account > 0 ?
	    conf->max_failures_account : 5;
	p->addr.limit = conf->max_failures_address > 0 ?
	    conf->max_failures_address : 50;
	p->acct.base = p->addr.base = 60;
	p->acct.cap = p->addr.cap = 3600;
	p->now = conf->now ? conf->now : now_default;
	snprintf(p->css_href, sizeof(p->css_href), "/static/portal.css");
	snprintf(p->js_href, sizeof(p->js_href), "/static/portal.js");
	p->ra = conf->ra;
	p->mail_spool = conf->mail_spool;
	p->acme_directory = conf->acme_directory != NULL ?
	    xstrdup(conf->acme_directory) : NULL;
	p->ca.base_url = conf->ca_base_url ? xstrdup(conf->ca_base_url) : NULL;
	p->ca.issuing = conf->ca_issuing;
	p->ca.issuing_arg = conf->ca_issuing_arg;
	p->ca.keys = conf->ca_keys ? xstrdup(conf->ca_keys) : NULL;
	p->ca.ct = conf->ct;
	p->ca.ct_path = conf->ct_list_path ? xstrdup(conf->ct_list_path) :
	    NULL;
	p->ca.problem_contact = conf->problem_contact &&
	    conf->problem_contact[0] ? xstrdup(conf->problem_contact) : NULL;
	p->upload_files = conf->upload_max_files > 0 ?
	    conf->upload_max_files : PORTAL_UPLOAD_FILES_DEFAULT;
	p->upload_bytes = conf->upload_max_bytes > 0 ?
	    conf->upload_max_bytes : PORTAL_UPLOAD_BYTES_DEFAULT;
	p->ca.terms_url = conf->terms_url && conf->terms_url[0] &&
	    strcmp(conf->terms_url, PORTAL_TERMS_PATH) != 0 ?
	    xstrdup(conf->terms_url) : NULL;
	p->ca.now = conf->ca_now;
	p->ca.svc_cert = conf->svc_cert;
	p->ca.svc_cert_arg = conf->svc_cert_arg;

	/* logins for unknown emails verify against a hash with the limits
	 * of real ones (portal_dummy_pw_hash), so that they take as long;
	 * should this libsodium's interactive limits differ from the
	 * constant's, one of a random password is made here */
	if (crypto_pwhash_str_needs_rehash(portal_dummy_pw_hash,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0) {
		snprintf(p->dummy_hash, sizeof(p->dummy_hash), "%s",
		    portal_dummy_pw_hash);
	} else {
		if ((rc = portal_random_hex(pw)) != 0)
			goto fail;
		if (crypto_pwhash_str(p->dummy_hash, pw, strlen(pw),
		    crypto_pwhash_OPSLIMIT_INTERACTIVE,
		    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
			rc = RC_NOMEM;
			goto fail;
		}
		sec_wipe(pw, sizeof(pw));
	}
	if ((rc = store_open(&p->sc, &st)) != 0) {
		log_err(LOG_PORTAL, "store: %s", rc_str(rc));
		goto fail;
	}
	pool_put(p, st);
	load_assets(p, conf->static_dir ? conf->static_dir : CERTDESK_WEBDIR);
	load_assets(p, conf->dist_dir ? conf->dist_dir : CERTDESK_DISTDIR);
	*out = p;
	return 0;
fail:
	portal_free(p);
	return rc;
}

void
portal_free(struct portal *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->npool; i++)
		store_close(p->pool[i]);
	free(p->pool);
	for (size_t i = 0; i < p->nassets; i++) {
		free(p->assets[i].path);
		free(p->assets[i].data);
	}
	pthread_mutex_destroy(&p->lock);
	free(p->sc_backend);
	free(p->sc_path);
	free(p->acme_directory);
	free(p->ca.base_url);
	free(p->ca.keys);
	free(p->ca.ct_path);
	free(p->ca.problem_contact);
	free(p->ca.terms_url);
	sec_wipe(p->dummy_hash, sizeof(p->dummy_hash));
	free(p);
}

/*
 * Argon2id with libsodium's interactive limits (64 MiB, 2 passes), the
 * limits `certdesk admin user add` and the portal hash passwords with, of
 * 32 random bytes nobody kept. A constant rather than one made by
 * portal_new(): making one took 64 MiB and about 0.1 s of CPU at every
 * start of the server, for a hash whose only use is to be as slow to
 * verify as a real one. No account can have it: a login succeeds only for
 * an existing user with a hash of their own.
 */
_Static_assert(PORTAL_PW_HASH_BYTES == crypto_pwhash_STRBYTES,
    "the size libsodium reads a hash string with");
const char portal_dummy_pw_hash[PORTAL_PW_HASH_BYTES] =
    "$argon2id$v=19$m=65536,t=2,p=1$"
    "3hHK6ow5/2/2rMJgjHjyag$47ErQ2EVswwA9jJROYuvkd/iWsjByF1xN6xxAdGDiBI";

/* ---- headers and replies ------------------------------------------------- */

void
portal_security_headers(struct http_req *r, int cacheable)
{
	(void)http_add_header(r, "Content-Security-Policy", CSP);
	(void)http_add_header(r, "X-Frame-Options", "DENY");
	(void)http_add_header(r, "Referrer-Policy", "same-origin");
	(void)http_add_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	(void)http_add_header(r, "Strict-Transport-Security",
	    "max-age=31536000");
	(void)http_add_header(r, "Cache-Control", cacheable ?
	    "public, max-age=86400" : "no-store");
}

void
portal_security_headers_secret(struct http_req *r)
{
	(void)http_add_header(r, "Content-Security-Policy", CSP);
	(void)http_add_header(r, "X-Frame-Options", "DENY");
	(void)http_add_header(r, "Referrer-Policy", "no-referrer");
	(void)http_add_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	(void)http_add_header(r, "Strict-Transport-Security",
	    "max-age=31536000");
	(void)http_add_header(r, "Cache-Control", "no-store");
}

size_t
portal_upload_body_max(int files, size_t bytes)
{
	if (files <= 0)
		files = PORTAL_UPLOAD_FILES_DEFAULT;
	if (bytes == 0)
		bytes = PORTAL_UPLOAD_BYTES_DEFAULT;
	return (size_t)files * bytes + 64 * 1024;
}

void
portal_upload_limits(const struct portal *p, int *files, size_t *bytes)
{
	*files = p->upload_files;
	*bytes = p->upload_bytes;
}

const char *
portal_css_href(const struct portal *p)
{
	return p->css_href;
}

void
portal_actor(const struct portal_req *c, char out[48])
{
	snprintf(out, 48, "portal:user/%lld", (long long)c->user.id);
}

const char *
portal_acme_directory(const struct portal *p)
{
	return p->acme_directory;
}

const struct portal_ca_view *
portal_ca_view(const struct portal *p)
{
	return &p->ca;
}

int
portal_mail_spooled(const struct portal *p)
{
	return p->mail_spool;
}

static int
is_head(struct http_req *r)
{
	return strcmp(http_req_method(r), "HEAD") == 0;
}

static int
is_get(struct http_req *r)
{
	return strcmp(http_req_method(r), "GET") == 0 || is_head(r);
}

static int
redirect(struct http_req *r, const char *to)
{
	portal_security_headers(r, 0);
	(void)http_add_header(r, "Location", to);
	return http_reply(r, 303, "text/plain; charset=utf-8", "", 0);
}

/* Replies with body (HTML, escaped already) in the layout. c may be NULL
 * or not logged in. */
static int
page(struct portal *p, struct http_req *r, struct portal_req *c,
    unsigned status, const char *title, const char *body)
{
	struct portal_page pg;
	struct buf out;
	int rc;

	char *err_title = NULL;

	memset(&pg, 0, sizeof(pg));
	/* WCAG 3.3.1 as GOV.UK does it: a refused form (422) says so at
	 * the start of the title, where a screen reader starts */
	if (status == 422 && strncmp(title, "Error: ", 7) != 0)
		title = err_title = xasprintf("Error: %s", title);
	pg.title = title;
	pg.css_href = p->css_href;
	pg.body = body;
	if (c != NULL && c->authed && !c->via_token) {
		pg.user_name = c->user.display_name;
		pg.csrf = c->csrf;
		pg.js_href = p->js_href;
		pg.refresh = c->refresh;
		pg.admin = c->user.role == STORE_ROLE_ADMIN;
		pg.staff = c->user.role != STORE_ROLE_CUSTOMER;
	}
	buf_init(&out, PAGE_MAX);
	rc = portal_html_page(&out, &pg);
	if (rc == 0) {
		portal_security_headers(r, 0);
		rc = http_reply(r, status, "text/html; charset=utf-8",
		    out.data, out.len);
	}
	buf_free(&out);
	free(err_title);
	return rc;
}

int
portal_redirect(struct http_req *r, const char *to)
{
	return redirect(r, to);
}

int
portal_is_get(struct http_req *r)
{
	return is_get(r);
}

int
portal_page_reply(struct portal_req *c, unsigned status, const char *title,
    const char *body)
{
	return page(c->p, c->r, c, status, title, body);
}

int
portal_ra_get(struct portal_req *c, struct ra **ra)
{
	*ra = NULL;
	if (c->p->ra.get == NULL)
		return RC_STATE;
	return c->p->ra.get(c->p->ra.arg, ra);
}

void
portal_ra_put(struct portal_req *c, struct ra *ra)
{
	if (ra != NULL && c->p->ra.put != NULL)
		c->p->ra.put(c->p->ra.arg, ra);
}

int64_t
portal_customer_scope(const struct portal_req *c)
{
	/* never 0: the ra reads 0 as "every customer", which only the
	 * back office may ask for (staff see nobody's data here) */
	if (c->authed && c->user.role == STORE_ROLE_CUSTOMER &&
	    c->user.customer_id > 0)
		return c->user.customer_id;
	return -1;
}

int
portal_is_staff(const struct portal_req *c)
{
	return c->authed && c->user.role != STORE_ROLE_CUSTOMER;
}

static const struct {
	unsigned status;
	const char *title, *text;
} errors[] = {
	{400, "Bad request", "The request could not be understood. Please "
	    "go back and try again."},
	{403, "Not allowed", "This form has expired or did not come from "
	    "this site. Please reload the page and try again."},
	{404, "Page not found", "There is nothing at this address. It may "
	    "have moved, or the link may be wrong."},
	{405, "Not allowed here", "This page cannot be used that way."},
	{409, "Not possible now", "This cannot be done in the current "
	    "state."},
	{413, "Too large", "What was sent is larger than this site accepts."},
	{429, "Too many attempts", "Please wait a moment and try again."},
	{500, "Something went wrong", "Something went wrong on our side. "
	    "Please try again in a moment; if it keeps happening, contact "
	    "support."},
};

static int
error_page(struct portal *p, struct http_req *r, struct portal_req *c,
    unsigned status, const char *detail)
{
	const char *title = "Error", *text = "Something went wrong.";
	struct buf b;
	int rc;

	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].status == status) {
			title = errors[i].title;
			text = errors[i].text;
		}
	buf_init(&b, PAGE_MAX);
	rc = portal_html_printf(&b, "<section class=\"card narrow\">"
	    "<h1>%s</h1>\n<p>%s</p>\n", title, detail ? detail : text);
	if (rc == 0 && c != NULL && portal_is_staff(c))
		rc = portal_html_printf(&b, "<p><a class=\"button\" "
		    "href=\"/backoffice/\">Back to the back office</a></p>"
		    "</section>\n");
	else if (rc == 0)
		rc = portal_html_printf(&b, "<p><a class=\"button\" "
		    "href=\"/portal/\">Back to your SSL certificates</a></p>"
		    "</section>\n");
	if (rc == 0)
		rc = page(p, r, c, status, title, (const char *)b.data);
	buf_free(&b);
	return rc;
}

/*
 * A form sent after the session ended (idle too long, or logged out in
 * another window): it says so and offers the login, rather than "did not
 * come from this site". What was typed into the setup form stays in the
 * browser tab (web/src/setup.js keeps a draft) and is filled in again when
 * the form is opened after the login.
 */
static int
signed_out_page(struct portal *p, struct http_req *r, const char *tail,
    const char *login)
{
	int setup = strncmp(tail, "slots/", 6) == 0 &&
	    strstr(tail, "/setup") != NULL;
	struct buf b;
	int rc;

	buf_init(&b, PAGE_MAX);
	rc = portal_html_printf(&b, "<section class=\"card narrow\" "
	    "id=\"signed-out\">\n<h1>Your session has ended</h1>\n<p>You "
	    "were logged out, after %lld minutes without activity or in "
	    "another window, so the form was not accepted%s.</p>\n",
	    (long long)(p->idle / 60), setup ? " and nothing was ordered" : "");
	if (rc == 0 && setup)
		rc = portal_html_printf(&b, "<p>What you entered is kept in "
		    "this browser tab: log in again, then open the form again "
		    "(Set up SSL certificate, or Renew) and it is filled in as "
		    "you left it. A private key you downloaded for it stays "
		    "usable: no need to download a new one.</p>\n");
	else if (rc == 0)
		rc = portal_html_printf(&b, "<p>Log in again, then send the "
		    "form again.</p>\n");
	if (rc == 0)
		rc = portal_html_printf(&b, "<p><a class=\"button primary\" "
		    "href=\"%s\">Log in again</a></p>\n</section>\n", login);
	if (rc == 0)
		rc = page(p, r, NULL, 403, "Error: Your session has ended",
		    (const char *)b.data);
	buf_free(&b);
	return rc;
}

int
portal_error_reply(struct portal_req *c, unsigned status, const char *detail)
{
	return error_page(c->p, c->r, c, status, detail);
}

int
portal_on_http_error(struct http_req *r, unsigned status, const char *reason,
    void *app)
{
	struct portal *p = app;

	if (strncmp(http_req_path(r), "/api/", 5) == 0) {
		portal_security_headers(r, 0);
		return portal_api_problem(r, status, status == 404 ?
		    "not-found" : status == 405 ? "method-not-allowed" :
		    status == 413 ? "too-large" : "internal",
		    status == 404 ? "Not found" : status == 405 ?
		    "Method not allowed" : status == 413 ?
		    "Request body too large" : "Internal error", NULL);
	}
	(void)reason;
	return error_page(p, r, NULL, status, NULL);
}

/* ---- the request context ------------------------------------------------- */

int
portal_req_begin(struct portal *p, struct http_req *r, struct portal_req *c)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
	c->r = r;
	c->now = p->now();
	return pool_get(p, &c->st);
}

void
portal_req_end(struct portal_req *c)
{
	pool_put(c->p, c->st);
	store_user_clear(&c->user);
	sec_wipe(&c->sess, sizeof(c->sess));
	sec_wipe(c->csrf, sizeof(c->csrf));
	c->st = NULL;
}

static int
load_user(struct portal_req *c, int64_t user_id)
{
	int rc = store_user_get(c->st, user_id, &c->user);

	if (rc == RC_NOTFOUND)
		return RC_UNAUTH;
	if (rc != 0)
		return rc;
	/* `admin user disable` ended their sessions and tokens; one made
	 * by a login that raced it counts for nothing either */
	if (c->user.disabled_at != 0) {
		store_user_clear(&c->user);
		return RC_UNAUTH;
	}
	c->authed = 1;
	return 0;
}

/* A navigation the user did not start (Fetch Metadata: Sec-Fetch-Mode
 * "navigate" without Sec-Fetch-User, as for a meta refresh or a script's
 * reload). Clients that send no Fetch Metadata (API clients, older
 * browsers) count as the user. */
static int
unattended(struct http_req *r)
{
	const char *mode = http_req_header(r, "Sec-Fetch-Mode");

	return mode != NULL && strcmp(mode, "navigate") == 0 &&
	    http_req_header(r, "Sec-Fetch-User") == NULL;
}

int
portal_req_auth(struct portal_req *c, int allow_token, int *bad_token)
{
	const char *authz = http_req_header(c->r, "Authorization");
	char sid[PORTAL_SESSION_ID_HEX + 2];
	uint8_t h[STORE_HASH_LEN];
	int rc;

	*bad_token = 0;
	if (authz != NULL && allow_token) {
		struct store_token t;

		*bad_token = 1;
		if (strncasecmp(authz, "Bearer ", 7) != 0 ||
		    !portal_token_ok(authz + 7))
			return RC_UNAUTH;
		if (portal_sha256(authz + 7, h) != 0)
			return RC_CRYPTO;
		rc = store_token_by_hash(c->st, h, &t);
		if (rc == RC_NOTFOUND)
			return RC_UNAUTH;
		if (rc != 0)
			return rc;
		/* an expired token is refused as a revoked one is */
		if (t.revoked_at != 0 || (t.expires_at != 0 &&
		    t.expires_at <= c->now)) {
			store_token_clear(&t);
			return RC_UNAUTH;
		}
		/* last use to the minute: not a write (and the writer lock)
		 * for every request of a busy API client */
		if (t.last_used_at == 0 || c->now - t.last_used_at >= 60)
			(void)store_token_touch(c->st, t.id, c->now);
		rc = load_user(c, t.user_id);
		store_token_clear(&t);
		if (rc == 0) {
			c->via_token = 1;
			*bad_token = 0;
		}
		return rc;
	}
	if (authz != NULL)
		return RC_UNAUTH;
	rc = portal_cookie_get(http_req_header(c->r, "Cookie"), PORTAL_COOKIE,
	    sid, sizeof(sid));
	if (rc != 0 || !portal_session_id_ok(sid))
		return RC_UNAUTH;
	if (portal_sha256(sid, h) != 0)
		return RC_CRYPTO;
	sec_wipe(sid, sizeof(sid));
	rc = store_session_get(c->st, h, c->now, &c->sess);
	if (rc == RC_NOTFOUND)
		return RC_UNAUTH;
	if (rc != 0)
		return rc;
	/* the idle timeout moves on in steps (a minute of the default half
	 * hour, less for a shorter one): not a write, and the writer lock,
	 * for every page and API call; and only for what the user does: a
	 * page that reloads itself while something is pending (a meta
	 * refresh, the bundle's reload) is a navigation the browser sends
	 * without Sec-Fetch-User, and must not keep an unattended screen
	 * logged in until the session's absolute end */
	if (!unattended(c->r) &&
	    c->sess.idle_expires_at < c->sess.expires_at &&
	    c->now + c->p->idle - c->sess.idle_expires_at >=
	    (c->p->idle >= 1800 ? 60 : c->p->idle / 30))
		(void)store_session_touch(c->st, h, c->now,
		    c->now + c->p->idle);
	if (portal_csrf_token(c->sess.csrf_secret, c->csrf) != 0)
		return RC_CRYPTO;
	return load_user(c, c->sess.user_id);
}

int
portal_req_csrf_ok(struct portal_req *c, const char *given)
{
	if (!portal_origin_ok(http_req_header(c->r, "Origin"),
	    http_req_header(c->r, "Sec-Fetch-Site"),
	    http_req_header(c->r, "Host")))
		return 0;
	if (c->via_token)
		return 1;	/* no ambient authority: nothing to forge */
	return c->authed && portal_csrf_check(c->sess.csrf_secret, given);
}

struct portal_form *
portal_req_form(struct portal_req *c)
{
	struct portal_form *f = NULL;
	const uint8_t *body;
	size_t len;

	c->form_refusal = 403;
	body = http_req_body(c->r, &len);
	if (portal_form_parse(body, len, &f) != 0) {
		/* not readable: say so to a request from our own pages (the
		 * origin checks pass; its CSRF token cannot be read), and
		 * to nothing else */
		if (portal_origin_ok(http_req_header(c->r, "Origin"),
		    http_req_header(c->r, "Sec-Fetch-Site"),
		    http_req_header(c->r, "Host")))
			c->form_refusal = 400;
		return NULL;
	}
	if (!portal_req_csrf_ok(c, portal_form_get(f, "csrf"))) {
		portal_form_free(f);
		return NULL;
	}
	return f;
}

int
portal_form_refused(struct portal_req *c)
{
	char msg[200];

	if (c->form_refusal != 400)
		return portal_error_reply(c, 403, NULL);
	snprintf(msg, sizeof(msg), "The form could not be read: a field is "
	    "longer than %d characters, or the form is too large. Go back, "
	    "shorten what you entered and send it again.",
	    PORTAL_FORM_MAX_VALUE);
	return portal_error_reply(c, 400, msg);
}

/* ---- visibility and the service functions -------------------------------- */

static int
may_see_customer(const struct portal_req *c, int64_t customer_id)
{
	if (!c->authed)
		return 0;
	/* agents and admins see no customer's objects here: they work in
	 * the back office */
	return c->user.role == STORE_ROLE_CUSTOMER &&
	    c->user.customer_id > 0 && c->user.customer_id == customer_id;
}

int
portal_contract_visible(struct portal_req *c, int64_t id,
    struct store_contract *out)
{
	int rc = store_contract_get(c->st, id, out);

	if (rc == RC_INVAL)
		rc = RC_NOTFOUND;
	if (rc == 0 && !may_see_customer(c, out->customer_id)) {
		store_contract_clear(out);
		rc = RC_NOTFOUND;
	}
	return rc;
}

int
portal_slot_visible(struct portal_req *c, int64_t id, struct store_slot *out)
{
	int rc = store_slot_get(c->st, id, out);

	if (rc == RC_INVAL)
		rc = RC_NOTFOUND;
	if (rc == 0 && !may_see_customer(c, out->customer_id)) {
		store_slot_clear(out);
		rc = RC_NOTFOUND;
	}
	return rc;
}

struct ids {
	int64_t *v;
	size_t n, cap;
};

static int
collect_id(const struct store_row *row, void *arg)
{
	struct ids *ids = arg;

	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? 2 * ids->cap : 16;
		ids->v = xrealloc(ids->v, ids->cap * sizeof(*ids->v));
	}
	ids->v[ids->n++] = row->id;
	return 0;
}

int
portal_contract_ids(struct portal_req *c, int64_t **out, size_t *n)
{
	struct ids ids = {NULL, 0, 0};
	int rc = 0;

	*out = NULL;
	*n = 0;
	/* staff: none (store_list's 0 would be everybody's) */
	if (portal_customer_scope(c) > 0)
		rc = store_list(c->st, "contracts", portal_customer_scope(c),
		    collect_id, &ids);
	if (rc != 0) {
		free(ids.v);
		return rc;
	}
	*out = ids.v;
	*n = ids.n;
	return 0;
}

int
portal_slot_ids(struct portal_req *c, int64_t contract_id, int64_t **out,
    size_t *n)
{
	struct ids ids = {NULL, 0, 0};
	struct store_contract k;
	int rc;

	*out = NULL;
	*n = 0;
	/* callers pass a contract they checked; checked again here, so
	 * that no caller can list another customer's slots */
	if ((rc = portal_contract_visible(c, contract_id, &k)) != 0)
		return rc;
	store_contract_clear(&k);
	rc = store_list(c->st, "slots", contract_id, collect_id, &ids);
	if (rc != 0) {
		free(ids.v);
		return rc;
	}
	*out = ids.v;
	*n = ids.n;
	return 0;
}

const char *
portal_slot_action(const struct store_slot *s)
{
	/* issued, expired, revoked: renew or reissue with a new key */
	if (strcmp(s->state, "issued") == 0 ||
	    strcmp(s->state, "expired") == 0 ||
	    strcmp(s->state, "revoked") == 0)
		return "setup";
	if (strcmp(s->product, "unlimited") == 0)
		return strcmp(s->state, "unused") == 0 ? "activate" :
		    strcmp(s->state, "active") == 0 ? "setup" : NULL;
	return strcmp(s->state, "unused") == 0 ||
	    strcmp(s->state, "active") == 0 ? "setup" : NULL;
}

struct activate {
	struct portal_req *c;
	int64_t slot_id;
};

static int
activate_tx(struct store *st, void *arg)
{
	struct activate *a = arg;
	char actor[64], object[64];
	int rc;

	rc = store_slot_set_state(st, a->slot_id, "unused", "active",
	    a->c->now);
	if (rc != 0)
		return rc;
	snprintf(actor, sizeof(actor), "portal:user:%lld",
	    (long long)a->c->user.id);
	snprintf(object, sizeof(object), "slot:%lld", (long long)a->slot_id);
	return store_audit_append(st, actor, "slot.activate", object,
	    a->c->via_token ? "{\"via\":\"api-token\"}" :
	    "{\"via\":\"session\"}");
}

int
portal_slot_activate(struct portal_req *c, int64_t slot_id, const char **why)
{
	struct store_slot s;
	struct activate a = {c, slot_id};
	int rc;

	*why = NULL;
	rc = portal_slot_visible(c, slot_id, &s);
	if (rc != 0)
		return rc;
	if (strcmp(s.product, "unlimited") != 0) {
		*why = "Only SSL Unlimited certificates are activated; this "
		    "one can be set up directly.";
		rc = RC_STATE;
	} else if (strcmp(s.state, "unused") != 0) {
		*why = "This SSL Unlimited certificate is already activated.";
		rc = RC_STATE;
	}
	store_slot_clear(&s);
	if (rc != 0)
		return rc;
	rc = store_tx(c->st, activate_tx, &a);
	if (rc == RC_STATE)
		*why = "This SSL Unlimited certificate is already activated.";
	else if (rc == 0)
		log_info(LOG_PORTAL, "slot %lld activated by user %lld",
		    (long long)slot_id, (long long)c->user.id);
	return rc;
}

int64_t
portal_parse_id(const char *s, size_t n)
{
	int64_t v = 0;

	if (s == NULL || n == 0 || n > 15 || s[0] == '0')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int64_t
portal_query_id(const struct portal_req *c, const char *name, int64_t dflt)
{
	const char *v = http_req_query(c->r, name);
	int64_t n;

	if (v == NULL)
		return dflt;
	n = portal_parse_id(v, strlen(v));
	return n > 0 ? n : -1;
}

/* ---- login and logout ---------------------------------------------------- */

/*
 * Where a login may lead back to: the portal or back office page a
 * logged-out visit asked for (the link of a mail, a bookmark, a case an
 * agent was sent), carried as "next" through the login form. Only a path
 * of this site under /portal/ (not the login or logout itself) or under
 * /backoffice/ (not its API, which no login leads to) made of plain
 * characters: no scheme, host or "//" (an open redirect to another site),
 * no backslash (which browsers read as "/"), no percent-encoding (decoded
 * once more, anything could hide in it), no dot segments. 1 when next may
 * be used.
 */
static int
next_ok(const char *next)
{
	size_t n;

	if (next == NULL)
		return 0;
	if (strncmp(next, "/portal/", 8) == 0) {
		if (strncmp(next, "/portal/login", 13) == 0 ||
		    strncmp(next, "/portal/logout", 14) == 0)
			return 0;
	} else if (strncmp(next, "/backoffice/", 12) == 0) {
		if (strncmp(next, "/backoffice/api/", 16) == 0)
			return 0;
	} else {
		return 0;
	}
	/* no segment of ours starts with a dot: "/./" and "/../" are
	 * refused with the rest */
	if (strstr(next, "//") != NULL || strstr(next, "..") != NULL ||
	    strstr(next, "/.") != NULL)
		return 0;
	n = strlen(next);
	if (n > PORTAL_NEXT_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = next[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("/-_.?=&", ch) != NULL))
			return 0;
	}
	return 1;
}

/* Where a login of a user of role leads: next when it may be used
 * (next_ok), but a customer never into the back office, which does not
 * exist for them (it would answer 404); else the user's home: the back
 * office for validation agents, the portal for the others. */
static const char *
after_login(const char *next, int role)
{
	if (next_ok(next) && (role != STORE_ROLE_CUSTOMER ||
	    strncmp(next, "/backoffice/", 12) != 0))
		return next;
	return role == STORE_ROLE_AGENT ? "/backoffice/" : "/portal/";
}

void
portal_login_url(const char *target, char *out, size_t len)
{
	size_t k;

	snprintf(out, len, "/portal/login");
	if (!next_ok(target) || strcmp(target, "/portal/") == 0)
		return;
	k = strlen(out);
	k += (size_t)snprintf(out + k, len - k, "?next=");
	/* a query value: '?', '=' and '&' encoded, the rest is plain */
	for (const char *t = target; *t != '\0' && k + 4 < len; t++) {
		if (*t == '?' || *t == '=' || *t == '&')
			k += (size_t)snprintf(out + k, len - k, "%%%02X",
			    (unsigned)(unsigned char)*t);
		else
			out[k++] = *t;
	}
	out[k] = '\0';
}

/* The login form; email keeps what was typed, message (text) on top, next
 * (may be NULL) where a good login leads (kept only when next_ok). */
static int
login_page(struct portal *p, struct http_req *r, unsigned status,
    const char *email, const char *message, const char *next)
{
	char token[PORTAL_SESSION_ID_HEX + 1];
	char *cookie;
	struct buf b;
	int rc;

	/* login CSRF: a fresh random value in a cookie and in the form */
	if (portal_random_hex(token) != 0)
		return RC_CRYPTO;
	cookie = portal_cookie_build(PORTAL_LOGIN_COOKIE, token,
	    LOGIN_COOKIE_AGE);
	(void)http_add_header(r, "Set-Cookie", cookie);
	free(cookie);
	buf_init(&b, PAGE_MAX);
	rc = portal_html_printf(&b, "<section class=\"card narrow\">\n"
	    "<h1>Log in</h1>\n");
	if (rc == 0 && message != NULL)
		rc = portal_html_printf(&b, "<p class=\"alert\" role=\"alert\">"
		    "%s</p>\n", message);
	if (rc == 0)
		rc = portal_html_printf(&b,
		    "<form method=\"post\" action=\"/portal/login\" "
		    "class=\"stack\">\n"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">\n",
		    token);
	if (rc == 0 && next_ok(next))
		rc = portal_html_printf(&b, "<input type=\"hidden\" "
		    "name=\"next\" value=\"%s\">\n", next);
	if (rc == 0)
		rc = portal_html_printf(&b,
		    "<label for=\"email\">Email address</label>\n"
		    "<input id=\"email\" name=\"email\" type=\"email\" "
		    "autocomplete=\"username\" required maxlength=\"254\" "
		    "value=\"%s\"%s>\n"
		    "<label for=\"password\">Password</label>\n"
		    "<input id=\"password\" name=\"password\" "
		    "type=\"password\" autocomplete=\"current-password\" "
		    "required maxlength=\"1024\"%s>\n"
		    "<button type=\"submit\" class=\"button primary\">Log in"
		    "</button>\n</form>\n<p class=\"hint\"><a "
		    "href=\"/report-key\">Report a compromised key</a></p>\n"
		    "</section>\n",
		    email ? email : "",
		    email && email[0] ? "" : " autofocus",
		    email && email[0] ? " autofocus" : "");
	sec_wipe(token, sizeof(token));
	if (rc == 0)
		rc = page(p, r, NULL, status, "Log in", (const char *)b.data);
	buf_free(&b);
	return rc;
}

/* Lowercases ASCII, trims blanks; "" when unusable (empty, too long, or
 * with control characters). Into out. */
static void
normalise_email(const char *in, char *out, size_t len)
{
	size_t n, k = 0;

	out[0] = '\0';
	if (in == NULL)
		return;
	while (*in == ' ' || *in == '\t')
		in++;
	n = strlen(in);
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= len)
		return;
	for (size_t i = 0; i < n; i++) {
		char ch = in[i];

		if ((unsigned char)ch < 0x20 || ch == 0x7f) {
			out[0] = '\0';	/* no control characters (logs) */
			return;
		}
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		out[k++] = ch;
	}
	out[k] = '\0';
}

static int
do_login(struct portal *p, struct http_req *r, struct portal_req *c)
{
	const uint8_t *body;
	size_t blen;
	struct portal_form *f = NULL;
	struct store_login_failures fa, fb;
	struct store_user u;
	struct store_session s;
	char email[EMAIL_MAX + 1], akey[EMAIL_MAX + 8], dkey[64 + 8], net[64];
	char addr[64], pre[PORTAL_SESSION_ID_HEX + 2];
	char sid[PORTAL_SESSION_ID_HEX + 1];
	const char *pw, *csrf, *next;
	char *cookie;
	time_t wait;
	int rc, good;

	memset(&u, 0, sizeof(u));
	memset(&s, 0, sizeof(s));
	body = http_req_body(r, &blen);
	rc = portal_form_parse(body, blen, &f);
	if (rc != 0) {
		rc = error_page(p, r, NULL, 400, NULL);
		goto out;
	}
	normalise_email(portal_form_get(f, "email"), email, sizeof(email));
	pw = portal_form_get(f, "password");
	csrf = portal_form_get(f, "csrf");
	next = portal_form_get(f, "next");
	if (!portal_origin_ok(http_req_header(r, "Origin"),
	    http_req_header(r, "Sec-Fetch-Site"), http_req_header(r, "Host")) ||
	    portal_cookie_get(http_req_header(r, "Cookie"),
	    PORTAL_LOGIN_COOKIE, pre, sizeof(pre)) != 0 ||
	    !portal_session_id_ok(pre) || csrf == NULL ||
	    strlen(csrf) != PORTAL_SESSION_ID_HEX ||
	    !sec_equal(pre, csrf, PORTAL_SESSION_ID_HEX)) {
		rc = login_page(p, r, 403, email, "This form has expired. "
		    "Please log in again.", next);
		goto out;
	}
	if (email[0] == '\0' || pw == NULL || pw[0] == '\0') {
		rc = login_page(p, r, 400, email,
		    "Please enter your email address and password.", next);
		goto out;
	}
	/* throttle: per account (whether it exists or not) and per
	 * address */
	http_req_client_addr(r, addr, sizeof(addr));
	snprintf(akey, sizeof(akey), "acct:%s", email);
	/* an IPv6 client holds its whole /64: counted as one address; an
	 * unknown one ("?": a trusted proxy forwarded garbage) counts with
	 * every other unknown one, not unthrottled */
	if (ipaddr_prefix_text(addr, 64, net, sizeof(net)) == 0)
		snprintf(net, sizeof(net), "%s", addr);
	snprintf(dkey, sizeof(dkey), "addr:%s", net);
	/* Each attempt takes its place as a failure before the password is
	 * checked, and only from the state the throttle was judged on: of
	 * concurrent attempts, no more are checked than the limits allow.
	 * A good one gives its places back. */
	for (int tries = 0;; tries++) {
		if ((rc = store_login_failures_get(c->st, akey, &fa)) != 0 ||
		    (rc = store_login_failures_get(c->st, dkey, &fb)) != 0)
			goto out;
		wait = portal_throttle_wait(&p->acct, fa.failures, fa.last_at,
		    c->now);
		if (portal_throttle_wait(&p->addr, fb.failures, fb.last_at,
		    c->now) > wait)
			wait = portal_throttle_wait(&p->addr, fb.failures,
			    fb.last_at, c->now);
		if (wait > 0)
			break;
		rc = store_login_failure_reserve(c->st, akey, c->now,
		    FAIL_RESET, &fa);
		if (rc == 0) {
			rc = store_login_failure_reserve(c->st, dkey, c->now,
			    FAIL_RESET, &fb);
			if (rc == RC_CONFLICT)
				(void)store_login_failure_release(c->st,
				    akey);
		}
		if (rc == 0)
			break;
		if (rc != RC_CONFLICT || tries == 32)
			goto out;
	}
	if (wait > 0) {
		char ra[24], msg[160];

		snprintf(ra, sizeof(ra), "%lld", (long long)wait);
		(void)http_add_header(r, "Retry-After", ra);
		snprintf(msg, sizeof(msg), "Too many failed attempts. Please "
		    "wait %lld minute%s and try again.",
		    (long long)((wait + 59) / 60), wait > 60 ? "s" : "");
		log_info(LOG_PORTAL, "login throttled for %s from %s", email,
		    addr);
		rc = login_page(p, r, 429, email, msg, next);
		goto out;
	}
	rc = store_user_by_email(c->st, email, &u);
	if (rc != 0 && rc != RC_NOTFOUND && rc != RC_INVAL)
		goto out;
	good = crypto_pwhash_str_verify(u.pw_hash ? u.pw_hash :
	    p->dummy_hash, pw, strlen(pw)) == 0 && u.pw_hash != NULL &&
	    u.id > 0;
	if (!good) {
		log_info(LOG_PORTAL, "login failed for %s from %s", email,
		    addr);
		rc = login_page(p, r, 401, email,
		    "Wrong email or password.", next);
		goto out;
	}
	/* told only with the right password, so that it tells nobody else
	 * whether the account exists; the attempt counts as a failure */
	if (u.disabled_at != 0) {
		log_info(LOG_PORTAL, "login refused for %s from %s: user %lld "
		    "is disabled", email, addr, (long long)u.id);
		rc = login_page(p, r, 403, email, "This account is disabled. "
		    "Ask your administrator to enable it again.", next);
		goto out;
	}
	(void)store_login_failures_clear(c->st, akey);
	(void)store_login_failure_release(c->st, dkey);
	(void)store_session_purge(c->st, c->now, NULL);
	/* rotation: the session of this browser, if any, ends; a new id */
	{
		char old[PORTAL_SESSION_ID_HEX + 2];
		uint8_t oh[STORE_HASH_LEN];

		if (portal_cookie_get(http_req_header(r, "Cookie"),
		    PORTAL_COOKIE, old, sizeof(old)) == 0 &&
		    portal_session_id_ok(old) && portal_sha256(old, oh) == 0)
			(void)store_session_delete(c->st, oh);
		sec_wipe(old, sizeof(old));
	}
	if ((rc = portal_random_hex(sid)) != 0 ||
	    (rc = portal_sha256(sid, s.id_hash)) != 0)
		goto out;
	if (sec_random(s.csrf_secret, sizeof(s.csrf_secret)) != 0) {
		rc = RC_CRYPTO;
		goto out;
	}
	s.user_id = u.id;
	s.created_at = s.last_seen_at = c->now;
	s.idle_expires_at = c->now + p->idle;
	s.expires_at = c->now + p->max;
	if (s.idle_expires_at > s.expires_at)
		s.idle_expires_at = s.expires_at;
	rc = store_session_add(c->st, &s);
	if (rc != 0)
		goto out;
	log_info(LOG_PORTAL, "login: user %lld from %s", (long long)u.id,
	    addr);
	cookie = portal_cookie_build(PORTAL_COOKIE, sid, (long)p->max);
	(void)http_add_header(r, "Set-Cookie", cookie);
	free(cookie);
	cookie = portal_cookie_build(PORTAL_LOGIN_COOKIE, "", 0);
	(void)http_add_header(r, "Set-Cookie", cookie);
	free(cookie);
	/* back to the page asked for; else validation agents work in the
	 * back office */
	rc = redirect(r, after_login(next, u.role));
out:
	sec_wipe(sid, sizeof(sid));
	sec_wipe(&s, sizeof(s));
	store_user_clear(&u);
	portal_form_free(f);
	return rc;
}

static int
h_login(struct http_req *r, void *app)
{
	struct portal *p = app;
	struct portal_req c;
	int bad, rc;

	rc = portal_req_begin(p, r, &c);
	if (rc != 0)
		return rc;
	if (is_get(r)) {
		const char *next = http_req_query(r, "next");

		if (portal_req_auth(&c, 0, &bad) == 0)
			rc = redirect(r, after_login(next, c.user.role));
		else
			rc = login_page(p, r, 200, NULL, NULL, next);
	} else {
		rc = do_login(p, r, &c);
	}
	portal_req_end(&c);
	return rc;
}

static int
h_logout(struct http_req *r, void *app)
{
	struct portal *p = app;
	struct portal_req c;
	struct portal_form *f = NULL;
	const uint8_t *body;
	size_t blen;
	char *cookie;
	int bad, rc;

	rc = portal_req_begin(p, r, &c);
	if (rc != 0)
		return rc;
	rc = portal_req_auth(&c, 0, &bad);
	if (rc == RC_UNAUTH) {
		rc = redirect(r, "/portal/login");
		goto out;
	}
	if (rc != 0)
		goto out;
	body = http_req_body(r, &blen);
	if (portal_form_parse(body, blen, &f) != 0 ||
	    !portal_req_csrf_ok(&c, portal_form_get(f, "csrf"))) {
		rc = error_page(p, r, &c, 403, NULL);
		goto out;
	}
	rc = store_session_delete(c.st, c.sess.id_hash);
	if (rc != 0)
		goto out;
	log_info(LOG_PORTAL, "logout: user %lld", (long long)c.user.id);
	cookie = portal_cookie_build(PORTAL_COOKIE, "", 0);
	(void)http_add_header(r, "Set-Cookie", cookie);
	free(cookie);
	rc = redirect(r, "/portal/login");
out:
	portal_form_free(f);
	portal_req_end(&c);
	return rc;
}

/* ---- the portfolio and slot pages ---------------------------------------- */

/* The names of order id as "a, b" (new string), or NULL when it has
 * none to show; *org set to whether it is OV or EV, so that while it is
 * pending it waits for the organisation's validation (as ra/portal.c
 * tells the states of an order apart). */
static char *
order_names(struct portal_req *c, int64_t id, int *org)
{
	struct store_order o = {0};
	struct buf b;
	char *out = NULL;

	*org = 0;
	if (id <= 0 || store_order_get(c->st, id, &o) != 0 || !o.names) {
		store_order_clear(&o);
		return NULL;
	}
	*org = o.profile != NULL && strcmp(o.profile, "dv") != 0;
	buf_init(&b, 64 * 1024);
	for (const char *p = o.names; *p; p++)
		(void)(*p == ' ' ? buf_append_str(&b, ", ") :
		    buf_append(&b, p, 1));
	if (buf_append(&b, "", 1) == 0)
		out = (char *)buf_steal(&b, NULL);
	buf_free(&b);
	store_order_clear(&o);
	return out;
}

/*
 * One slot of the portfolio: its product, the domain it is for, its state
 * and what can be done. The domain is that of the order in progress, else
 * of the certificate the slot holds (a link to its page), else of the last
 * order when it ended without a certificate (so that a slot set up again
 * says which domain did not work out). The gear menu opens the
 * certificate the slot holds, or the order in progress.
 */
static int
slot_row(struct portal_req *c, struct buf *b, const struct store_slot *s)
{
	const char *pname = portal_product_name(s->product);
	const char *action = portal_slot_action(s);
	int fresh = strcmp(s->state, "unused") == 0 ||
	    strcmp(s->state, "active") == 0;
	int pending = strcmp(s->state, "pending") == 0;
	int64_t newest = 0, held = 0, shown;
	char *names = NULL;
	int rc, org;

	rc = store_slot_orders(c->st, s->id, &newest, &held);
	if (rc != 0)
		return rc;
	shown = pending || held == 0 ? newest : held;
	names = order_names(c, shown, &org);
	rc = portal_html_printf(b, "<tr data-slot=\"%lld\">\n"
	    "<th scope=\"row\">%s</th>\n<td class=\"slot-domain\">",
	    (long long)s->id, pname ? pname : s->product);
	if (rc == 0 && names != NULL)
		rc = portal_html_printf(b, "<a href=\"/portal/orders/%lld\">"
		    "%s</a>", (long long)shown, names);
	else if (rc == 0)
		rc = portal_html_printf(b, "<span class=\"muted\">"
		    "\xe2\x80\x94<span class=\"visually-hidden\"> no domain "
		    "yet</span></span>");
	if (rc == 0 && names != NULL && fresh)
		rc = portal_html_printf(b, "<p class=\"hint\">The last order "
		    "ended without a certificate.</p>");
	if (rc == 0)
		rc = portal_html_printf(b, "</td>\n<td><span class=\"state "
		    "state-%s\">%s</span></td>\n<td>", s->state,
		    pending && org ? "Organisation validation pending" :
		    portal_state_name(s->state));
	if (rc == 0 && action != NULL && strcmp(action, "activate") == 0)
		rc = portal_html_printf(b,
		    "<form method=\"post\" action=\"/portal/slots/%lld/"
		    "activate\" class=\"inline\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
		    "<button type=\"submit\" class=\"button primary\">"
		    "Activate now</button></form>",
		    (long long)s->id, c->csrf);
	else if (rc == 0 && action != NULL)
		rc = portal_html_printf(b,
		    "<details class=\"gear\">"
		    "<summary><span class=\"gear-icon\" aria-hidden=\"true\">"
		    "\xe2\x9a\x99</span><span class=\"visually-hidden\">"
		    "Actions for %s%s%s</span></summary><ul class=\"menu\">",
		    pname ? pname : s->product, names ? " " : "",
		    names ? names : "");
	/* the certificate the slot holds */
	if (rc == 0 && action != NULL && !fresh && held > 0)
		rc = portal_html_printf(b, "<li><a "
		    "href=\"/portal/orders/%lld\">View certificate</a></li>",
		    (long long)held);
	if (rc == 0 && action != NULL && strcmp(action, "setup") == 0)
		rc = portal_html_printf(b, "<li><a href=\"/portal/slots/%lld/"
		    "setup\">%s</a></li></ul></details>", (long long)s->id,
		    fresh ? "Set up SSL certificate" :
		    "Renew or reissue with a new key");
	if (rc == 0 && action == NULL && pending)
		rc = portal_html_printf(b, "<a href=\"/portal/overview\">"
		    "Go to overview</a>");
	else if (rc == 0 && action == NULL)
		rc = portal_html_printf(b, "<span class=\"muted\">"
		    "\xe2\x80\x94</span>");
	if (rc == 0)
		rc = portal_html_printf(b, "</td>\n</tr>\n");
	free(names);
	return rc;
}

static int
portfolio(struct portal *p, struct http_req *r, struct portal_req *c)
{
	int64_t *cids = NULL, *sids = NULL;
	size_t nc = 0, ns = 0;
	struct buf b;
	int rc;

	buf_init(&b, PAGE_MAX);
	rc = portal_contract_ids(c, &cids, &nc);
	if (rc != 0)
		goto out;
	rc = portal_html_printf(&b, "<h1>Your SSL certificates</h1>\n");
	if (rc == 0 && nc == 0)
		rc = portal_html_printf(&b, "<p class=\"card\">There are no "
		    "contracts with SSL certificates in this account yet.</p>"
		    "\n");
	for (size_t i = 0; rc == 0 && i < nc; i++) {
		struct store_contract k;

		rc = store_contract_get(c->st, cids[i], &k);
		if (rc != 0)
			break;
		rc = portal_html_printf(&b, "<section class=\"card\" "
		    "aria-labelledby=\"contract-%lld\">\n"
		    "<h2 id=\"contract-%lld\">Contract %s</h2>\n",
		    (long long)k.id, (long long)k.id, k.number);
		store_contract_clear(&k);
		free(sids);
		sids = NULL;
		if (rc == 0)
			rc = portal_slot_ids(c, cids[i], &sids, &ns);
		if (rc == 0 && ns == 0)
			rc = portal_html_printf(&b, "<p>This contract has no "
			    "SSL certificates.</p>\n</section>\n");
		if (rc != 0 || ns == 0)
			continue;
		rc = portal_html_printf(&b, "<table class=\"slots\">\n"
		    "<thead><tr><th scope=\"col\">SSL certificate</th>"
		    "<th scope=\"col\">Domain</th>"
		    "<th scope=\"col\">State</th>"
		    "<th scope=\"col\"><span class=\"visually-hidden\">"
		    "Actions</span></th></tr></thead>\n<tbody>\n");
		for (size_t j = 0; rc == 0 && j < ns; j++) {
			struct store_slot s;

			rc = store_slot_get(c->st, sids[j], &s);
			if (rc == 0)
				rc = slot_row(c, &b, &s);
			store_slot_clear(&s);
		}
		if (rc == 0)
			rc = portal_html_printf(&b, "</tbody>\n</table>\n"
			    "</section>\n");
	}
	if (rc == 0)
		rc = page(p, r, c, 200, "Your SSL certificates",
		    (const char *)b.data);
out:
	free(cids);
	free(sids);
	buf_free(&b);
	return rc;
}

static int
activate_page(struct portal *p, struct http_req *r, struct portal_req *c,
    int64_t id)
{
	struct portal_form *f = portal_req_form(c);
	const char *why = NULL;
	char to[64];
	int rc;

	if (f == NULL)
		return portal_form_refused(c);
	portal_form_free(f);
	rc = portal_slot_activate(c, id, &why);
	if (rc == RC_NOTFOUND)
		return error_page(p, r, c, 404, NULL);
	if (rc == RC_STATE)
		return error_page(p, r, c, 409, why);
	if (rc != 0)
		return rc;
	/* activated to be set up: straight to its form, the next step */
	snprintf(to, sizeof(to), "/portal/slots/%lld/setup", (long long)id);
	return redirect(r, to);
}

/*
 * Staff (agents, admins) in the customer portal. Customers' contracts,
 * slots, orders and certificates are for their own users only; staff see
 * and act on orders in the back office, where every decision is a case
 * and audited. So here they get what a customer without access gets: 404
 * for every customer page (whatever the method: nothing is read or
 * changed). The home page sends an agent to the back office and shows an
 * admin the places they work (back office, Outgoing mail, Certificate
 * authority); those pages stay (admins only, portal_mailq(),
 * portal_ca()).
 */
static int
staff_portal(struct portal *p, struct http_req *r, struct portal_req *c,
    const char *tail)
{
	struct buf b;
	int rc;

	if (strncmp(tail, "admin/mail", 10) == 0)
		return portal_mailq(c, tail + 10);
	if (strncmp(tail, "admin/acme", 10) == 0)
		return portal_admin_acme(c, tail + 10);
	if (strncmp(tail, "admin/ca", 8) == 0)
		return portal_ca(c, tail + 8);
	/* their own API tokens (the back office API's) */
	if (strncmp(tail, "tokens", 6) == 0 && (tail[6] == '\0' ||
	    tail[6] == '/'))
		return portal_tokens(c, tail + 6);
	if (tail[0] != '\0')
		return error_page(p, r, c, 404, NULL);
	if (!is_get(r))
		return error_page(p, r, c, 405, NULL);
	if (c->user.role != STORE_ROLE_ADMIN || c->via_token)
		return redirect(r, "/backoffice/");
	buf_init(&b, PAGE_MAX);
	rc = portal_html_printf(&b, "<section class=\"card narrow\" "
	    "id=\"staff-home\">\n<h1>Staff</h1>\n"
	    "<p>Customers' certificates are shown only to their own users. "
	    "Orders that wait for staff are in the back office.</p>\n"
	    "<ul>\n<li><a href=\"/backoffice/\">Back office</a> "
	    "\xe2\x80\x94 organisation validation cases</li>\n"
	    "<li><a href=\"/portal/admin/mail\">Outgoing mail</a> "
	    "\xe2\x80\x94 the mail certdesk sends, and the spool folder"
	    "</li>\n<li><a href=\"/portal/admin/acme\">ACME accounts</a> "
	    "\xe2\x80\x94 every ACME client's account, and revoking one"
	    "</li>\n<li><a href=\"/portal/admin/ca\">Certificate authority"
	    "</a> \xe2\x80\x94 the root and issuing CAs, their keys, "
	    "lifetimes and CRLs</li>\n</ul>\n</section>\n");
	if (rc == 0)
		rc = page(p, r, c, 200, "Staff", (const char *)b.data);
	buf_free(&b);
	return rc;
}

/* "/portal/" + tail: "" the portfolio; "slots/<id>/setup" (GET);
 * "slots/<id>/activate" (POST); "overview", "orders/..."; "acme..."; the
 * admin's "admin/mail...". */
int
portal_upload_ok(struct http_req *r, void *app)
{
	struct portal_req c;
	const char *tail = http_req_tail(r), *slash;
	struct ra_org_case oc = {0};
	struct ra *ra = NULL;
	int64_t id;
	int bad, ok;

	if (strncmp(tail, "orders/", 7) != 0 ||
	    (slash = strchr(tail + 7, '/')) == NULL ||
	    (id = portal_parse_id(tail + 7, (size_t)(slash - tail - 7))) <= 0
	    || strcmp(slash, "/org-info") != 0)
		return 0;
	if (portal_req_begin(app, r, &c) != 0)
		return 0;
	/* and only for an order of the customer's whose case waits for an
	 * answer: no one else's POST there is read to its end */
	ok = portal_req_auth(&c, 0, &bad) == 0 && !portal_is_staff(&c) &&
	    portal_ra_get(&c, &ra) == 0 &&
	    ra_org_case_by_order(ra, portal_customer_scope(&c), id, &oc) == 0
	    && oc.state == RA_ORG_INFO_REQUESTED;
	ra_org_case_clear(&oc);
	if (ra != NULL)
		portal_ra_put(&c, ra);
	portal_req_end(&c);
	return ok;
}

static int
h_portal(struct http_req *r, void *app)
{
	struct portal *p = app;
	struct portal_req c;
	const char *tail = http_req_tail(r), *slash;
	int64_t id = 0;
	int bad, rc;

	rc = portal_req_begin(p, r, &c);
	if (rc != 0)
		return rc;
	rc = portal_req_auth(&c, 0, &bad);
	if (rc == RC_UNAUTH) {
		/* not logged in: the login page for anything here, which
		 * leads back to the page asked for */
		char to[PORTAL_LOGIN_URL_MAX];

		portal_login_url(http_req_target(r), to, sizeof(to));
		rc = is_get(r) ? redirect(r, to) :
		    signed_out_page(p, r, tail, to);
		goto out;
	}
	if (rc != 0)
		goto out;
	if (portal_is_staff(&c)) {
		rc = staff_portal(p, r, &c, tail);
		goto out;
	}
	if (tail[0] == '\0') {
		rc = is_get(r) ? portfolio(p, r, &c) :
		    error_page(p, r, &c, 405, NULL);
		goto out;
	}
	if (strncmp(tail, "slots/", 6) == 0 &&
	    (slash = strchr(tail + 6, '/')) != NULL)
		id = portal_parse_id(tail + 6, (size_t)(slash - tail - 6));
	if (strcmp(tail, "overview") == 0 || strncmp(tail, "orders/", 7) == 0) {
		rc = portal_orders(&c, tail);
	} else if (id > 0 && strcmp(slash, "/setup") == 0) {
		rc = portal_setup(&c, id);
	} else if (id > 0 && strcmp(slash, "/activate") == 0) {
		rc = is_get(r) ? error_page(p, r, &c, 405, NULL) :
		    activate_page(p, r, &c, id);
	} else if (strncmp(tail, "admin/mail", 10) == 0) {
		rc = portal_mailq(&c, tail + 10);
	} else if (strncmp(tail, "admin/acme", 10) == 0) {
		rc = portal_admin_acme(&c, tail + 10);
	} else if (strncmp(tail, "admin/ca", 8) == 0) {
		rc = portal_ca(&c, tail + 8);
	} else if (strncmp(tail, "acme", 4) == 0 &&
	    (tail[4] == '\0' || tail[4] == '/')) {
		rc = portal_acme(&c, tail + 4);
	} else if (strncmp(tail, "tokens", 6) == 0 &&
	    (tail[6] == '\0' || tail[6] == '/')) {
		rc = portal_tokens(&c, tail + 6);
	} else {
		rc = error_page(p, r, &c, 404, NULL);
	}
out:
	portal_req_end(&c);
	return rc;
}

/* "/" is a prefix route (the layer's convention): only "/" itself and
 * "/portal" redirect; anything else nobody serves is a 404 page. */
static int
h_root(struct http_req *r, void *app)
{
	const char *path = http_req_path(r);

	if (is_get(r) && (strcmp(path, "/") == 0 ||
	    strcmp(path, "/portal") == 0))
		return redirect(r, "/portal/");
	return portal_on_http_error(r, 404, "not found", app);
}

static const struct http_route routes[] = {
	{"/portal/login", HTTP_GET | HTTP_POST, h_login},
	{"/portal/logout", HTTP_POST, h_logout},
	{PORTAL_TERMS_PATH, HTTP_GET, portal_terms_handle},
	/* the answer to validation staff takes documents (orders.c) */
	{"/portal/", HTTP_GET | HTTP_POST | HTTP_UPLOAD, h_portal},
	{"/static/", HTTP_GET, h_static},
	{"/api/v1/", HTTP_GET | HTTP_POST, portal_api_handle},
	{"/confirm/", HTTP_GET | HTTP_POST, portal_dv_confirm_handle},
	{"/report-key", HTTP_GET | HTTP_POST, portal_report_handle},
	{"/", HTTP_GET | HTTP_POST, h_root},	/* last: prefix of all */
};

const struct http_route *
portal_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

/* ---- API tokens ---------------------------------------------------------- */

/* portal_token_create(), and the token's end into *expires_at (0: none). */
static int
token_create(struct store *st, int64_t user_id, const char *label, int days,
    char out[PORTAL_TOKEN_TEXT], int64_t *id, time_t *expires_at)
{
	char hex[PORTAL_SESSION_ID_HEX + 1];
	uint8_t h[STORE_HASH_LEN];
	struct store_user u;
	int rc;

	out[0] = '\0';
	*expires_at = 0;
	if (days < 0 || days > PORTAL_TOKEN_DAYS_MAX)
		return RC_INVAL;
	/* the user's role, not the caller, says whether it must end */
	if ((rc = store_user_get(st, user_id, &u)) != 0)
		return rc;
	if (days == 0 && u.role != STORE_ROLE_CUSTOMER)
		days = PORTAL_TOKEN_DAYS;
	rc = u.disabled_at != 0 ? RC_STATE : 0;	/* it would count for
						 * nothing */
	store_user_clear(&u);
	if (rc != 0)
		return rc;
	if (days > 0)
		*expires_at = time(NULL) + (time_t)days * 86400;
	if ((rc = portal_random_hex(hex)) != 0)
		return rc;
	snprintf(out, PORTAL_TOKEN_LEN + 1, "%s%s", PORTAL_TOKEN_PREFIX, hex);
	sec_wipe(hex, sizeof(hex));
	if ((rc = portal_sha256(out, h)) != 0 ||
	    (rc = store_token_add(st, user_id, h, label, *expires_at, id)) !=
	    0)
		sec_wipe(out, PORTAL_TOKEN_LEN + 1);
	return rc;
}

int
portal_token_create(struct store *st, int64_t user_id, const char *label,
    int days, char out[PORTAL_TOKEN_TEXT], int64_t *id)
{
	time_t unused;

	return token_create(st, user_id, label, days, out, id, &unused);
}

struct token_change {
	int64_t user, revoke, *id;
	int days;
	const char *label, *actor;
	char *out;
	time_t *expires_at;
};

static int
token_change_tx(struct store *st, void *arg)
{
	struct token_change *t = arg;
	char object[64], end[32], *details;
	time_t expires_at = 0;
	int rc;

	if (t->revoke > 0) {
		rc = store_token_revoke(st, t->revoke, t->user, 0);
		*t->id = t->revoke;
	} else {
		rc = token_create(st, t->user, t->label, t->days, t->out,
		    t->id, &expires_at);
	}
	if (rc != 0)
		return rc;
	*t->expires_at = expires_at;
	snprintf(object, sizeof(object), "token:%lld", (long long)*t->id);
	portal_fmt_rfc3339(expires_at, end);
	details = t->revoke > 0 ? xstrdup("{}") : expires_at == 0 ?
	    xasprintf("{\"user\":%lld,\"expires\":null}",
	    (long long)t->user) : xasprintf("{\"user\":%lld,\"expires\":"
	    "\"%s\"}", (long long)t->user, end);
	rc = store_audit_append(st, t->actor, t->revoke > 0 ? "token.revoke" :
	    "token.add", object, details);
	free(details);
	return rc;
}

int
portal_token_change(struct store *st, int64_t user_id, const char *label,
    int days, int64_t revoke_id, const char *actor,
    char out[PORTAL_TOKEN_TEXT], int64_t *id, time_t *expires_at)
{
	struct token_change t = {user_id, revoke_id, id, days, label, actor,
	    out, expires_at};
	int rc;

	out[0] = '\0';
	*id = 0;
	*expires_at = 0;
	rc = store_tx(st, token_change_tx, &t);
	if (rc != 0) {
		sec_wipe(out, PORTAL_TOKEN_TEXT);
		*expires_at = 0;
	}
	return rc;
}
