/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `certdesk serve`: the long-running server. Two listeners:
 *  - HTTPS (http.listen, or --listen): ACME under /acme/ (serve_acme.c)
 *    and the customer portal (src/portal: /, /portal/, /static/,
 *    /api/v1/, its own pool of store handles) on the same port, with the
 *    service certificate its own CA issued (tls.c), plus /healthz;
 *  - plain HTTP (http.plain_listen, or --plain-listen): what relying
 *    parties fetch from the URLs written into certificates: the CRLs
 *    (/crl/<issuer>.crl, the shards /crl/<issuer>-<n>.crl and the CCADB
 *    list /crl/<issuer>.json) and the CA certificates (/ca/<issuer>.der
 *    and .pem), the OCSP responder (/ocsp, serve_ocsp.c) while ca.ocsp is
 *    on, plus /healthz;
 *  - and, when http.metrics_listen (or --metrics-listen) is set, /metrics
 *    for Prometheus on a listener of its own (serve_metrics.c).
 * A schedule thread regenerates every CRL older than ca.crl_refresh_hours
 * (checked every minute), so CRLs never run out even without revocations,
 * and checks the HTTPS listener's certificate every
 * http.service_cert_check_seconds and when two thirds of its life are
 * over (tls.c): a new one, issued here or by another serve on the data
 * directory, is handed to the listener, whose new handshakes present it
 * while open connections keep theirs; a failure leaves the certificate in
 * use and is tried again at the next check. Before either, and on SIGHUP,
 * it checks whether a `ca roll` made another issuing CA active, which
 * every CA handle of the process then issues from (serve_roll.c).
 * SIGINT and SIGTERM stop it cleanly: the main thread waits for them with
 * sigwait(), every other thread has them blocked.
 *
 * The published files are read from DATA/crl and DATA/ca (written
 * atomically by the CA) through a small cache keyed by inode, size and
 * mtime, so a new CRL is served as soon as it is renamed into place, by
 * any number of serve processes sharing the directory.
 *
 * Runs in the main certdesk process; the CA keys stay in the signer child.
 * Requests are untrusted: only [a-z0-9-] issuer names reach the file
 * system.
 */
#include "acme/acme.h"
#include "backoffice/backoffice.h"
#include "daemon/daemon_int.h"
#include "http/http.h"
#include "portal/portal.h"
#include "ra/ra.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/ipaddr.h"
#include "util/log.h"
#include "util/sec.h"
#include "util/xmalloc.h"
#include "validation/val.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVED_FILE (64 * 1024 * 1024)
#define CACHE_SLOTS 32
#define CRL_MAX_AGE 3600	/* cache CRLs at most an hour (revocations) */
#define CERT_MAX_AGE 86400
#define SCHEDULE_SECONDS 60
#define ACME_MAX_REQUEST (64 * 1024)	/* bound of every request body */

/* One published file as last read. */
struct served {
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uint8_t *data;
	size_t len;
	char etag[36];		/* "\"" + 32 hex + "\"" */
	time_t last_modified;	/* CRL thisUpdate, else the file's mtime */
	time_t next_update;	/* CRL nextUpdate; 0 otherwise */
};

struct serve_app {
	struct daemon_ctx *cx;
	pthread_mutex_t lock;	/* the cache */
	struct served cache[CACHE_SLOTS];
	size_t next_evict;

	pthread_mutex_t slock;	/* the schedule thread */
	pthread_cond_t scond;
	int stop;
	int hup;		/* SIGHUP: check the active issuing CA now */
	/* the HTTPS listener and its certificate, looked after by the
	 * schedule thread; NULL without HTTPS */
	struct http_server *tls_srv;
	struct daemon_svc *svc;

	struct daemon_ocsp *ocsp;	/* NULL while ca.ocsp is off */
};

/* ---- the file cache ------------------------------------------------------ */

static void
served_clear(struct served *s)
{
	free(s->path);
	free(s->data);
	memset(s, 0, sizeof(*s));
}

static int
read_all(const char *path, uint8_t **out, size_t *len, struct stat *sb)
{
	uint8_t *p;
	size_t n = 0;
	/* what is published is a file certdesk wrote there, never a link
	 * planted to make the server read something else (a key) */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return errno == ENOENT ? RC_NOTFOUND : RC_IO;
	if (fstat(fd, sb) != 0 || !S_ISREG(sb->st_mode) ||
	    sb->st_size > MAX_SERVED_FILE) {
		close(fd);
		return RC_IO;
	}
	p = xmalloc((size_t)sb->st_size + 1);
	while (n < (size_t)sb->st_size) {
		ssize_t r = read(fd, p + n, (size_t)sb->st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n != (size_t)sb->st_size) {
		free(p);
		return RC_IO;
	}
	*out = p;
	*len = n;
	return 0;
}

static void
fill_meta(struct served *s, int is_crl)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[33];

	if (EVP_Digest(s->data, s->len, md, &mdlen, EVP_sha256(), NULL) != 1)
		memset(md, 0, 16);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(s->etag, sizeof(s->etag), "\"%s\"", hex);
	s->last_modified = s->mtime.tv_sec;
	s->next_update = 0;
	if (is_crl) {
		const unsigned char *p = s->data;
		X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)s->len);

		if (crl) {
			time_t tu = ca_asn1_time(X509_CRL_get0_lastUpdate(crl));

			if (tu)
				s->last_modified = tu;
			s->next_update = ca_asn1_time(
			    X509_CRL_get0_nextUpdate(crl));
			X509_CRL_free(crl);
		} else
			log_warn(LOG_HTTP, "%s: not a DER CRL", s->path);
	}
}

/* The cached, current copy of path; called with a->lock held. NULL with
 * *rc set when the file is missing or unreadable. */
static const struct served *
cache_get(struct serve_app *a, const char *path, int is_crl, int *rc)
{
	struct served *slot = NULL, fresh;
	struct stat sb;

	memset(&fresh, 0, sizeof(fresh));
	if (stat(path, &sb) != 0) {
		*rc = errno == ENOENT ? RC_NOTFOUND : RC_IO;
		return NULL;
	}
	for (size_t i = 0; i < CACHE_SLOTS; i++) {
		struct served *s = &a->cache[i];

		if (s->path == NULL || strcmp(s->path, path) != 0)
			continue;
		if (s->dev == sb.st_dev && s->ino == sb.st_ino &&
		    s->size == sb.st_size &&
		    s->mtime.tv_sec == sb.st_mtim.tv_sec &&
		    s->mtime.tv_nsec == sb.st_mtim.tv_nsec)
			return s;
		slot = s;
		break;
	}
	*rc = read_all(path, &fresh.data, &fresh.len, &sb);
	if (*rc != 0)
		return NULL;
	fresh.path = xstrdup(path);
	fresh.dev = sb.st_dev;
	fresh.ino = sb.st_ino;
	fresh.size = sb.st_size;
	fresh.mtime = sb.st_mtim;
	fill_meta(&fresh, is_crl);
	if (slot == NULL) {
		for (size_t i = 0; i < CACHE_SLOTS && slot == NULL; i++)
			if (a->cache[i].path == NULL)
				slot = &a->cache[i];
		if (slot == NULL) {
			slot = &a->cache[a->next_evict];
			a->next_evict = (a->next_evict + 1) % CACHE_SLOTS;
		}
	}
	served_clear(slot);
	*slot = fresh;
	return slot;
}

/* ---- handlers ------------------------------------------------------------ */

/* "name.ext" with name an issuer name: 0 and name copied, or -1. */
static int
split_name(const char *tail, const char *ext, char name[33])
{
	size_t n = strlen(tail), el = strlen(ext);

	if (n <= el || n - el > 32 || strcmp(tail + n - el, ext) != 0)
		return -1;
	memcpy(name, tail, n - el);
	name[n - el] = '\0';
	return daemon_issuer_name_ok(name) ? 0 : -1;
}

static int
etag_matches(struct http_req *r, const char *etag)
{
	const char *inm = http_req_header(r, "If-None-Match");

	return inm && (strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL);
}

static int
reply_file(struct http_req *r, struct serve_app *a, const char *path,
    int is_crl, const char *ctype)
{
	const struct served *s;
	char date[32], cc[64];
	long max_age;
	int rc = 0;

	pthread_mutex_lock(&a->lock);
	s = cache_get(a, path, is_crl, &rc);
	if (s == NULL) {
		pthread_mutex_unlock(&a->lock);
		if (rc == RC_NOTFOUND)
			return http_reply_text(r, 404, "not found");
		log_err(LOG_HTTP, "%s: cannot read: %s", path, rc_str(rc));
		return rc;
	}
	max_age = is_crl ? CRL_MAX_AGE : CERT_MAX_AGE;
	if (is_crl && s->next_update) {
		long left = (long)(s->next_update - time(NULL));

		if (left < max_age)
			max_age = left > 0 ? left : 0;
	}
	snprintf(cc, sizeof(cc), "public, max-age=%ld", max_age);
	http_date(s->last_modified, date);
	(void)http_add_header(r, "ETag", s->etag);
	(void)http_add_header(r, "Last-Modified", date);
	(void)http_add_header(r, "Cache-Control", cc);
	if (etag_matches(r, s->etag))
		rc = http_reply(r, 304, NULL, "", 0);
	else
		rc = http_reply(r, 200, ctype, s->data, s->len);
	pthread_mutex_unlock(&a->lock);
	return rc;
}

static int
on_crl(struct http_req *r, void *app)
{
	struct serve_app *a = app;
	char name[33], *path;
	int rc;

	/* <issuer>.json: the CCADB list of the issuer's CRL partitions */
	if (split_name(http_req_tail(r), ".json", name) == 0) {
		path = xasprintf("%s/%s.json", a->cx->crl_dir, name);
		rc = reply_file(r, a, path, 0, "application/json");
		free(path);
		return rc;
	}
	/* <issuer>.crl and the shards <issuer>-<n>.crl */
	if (split_name(http_req_tail(r), ".crl", name) != 0)
		return http_reply_text(r, 404, "not found");
	path = xasprintf("%s/%s.crl", a->cx->crl_dir, name);
	rc = reply_file(r, a, path, 1, "application/pkix-crl");
	free(path);
	return rc;
}

static int
on_ocsp(struct http_req *r, void *app)
{
	struct serve_app *a = app;

	return daemon_ocsp_reply(r, a->ocsp);
}

static int
on_ca(struct http_req *r, void *app)
{
	struct serve_app *a = app;
	const char *tail = http_req_tail(r);
	char name[33], *path;
	int rc, der;

	if (split_name(tail, ".der", name) == 0)
		der = 1;
	else if (split_name(tail, ".pem", name) == 0)
		der = 0;
	else
		return http_reply_text(r, 404, "not found");
	path = xasprintf("%s/%s.%s", a->cx->ca_dir, name, der ? "der" : "pem");
	rc = reply_file(r, a, path, 0, der ? "application/pkix-cert" :
	    "application/x-pem-file");
	free(path);
	return rc;
}

/* The signer /healthz asks about: one serve per process; both listeners
 * (whose apps differ) answer /healthz. Set before they start. */
static struct signer *healthz_signer;

/* The signer's answer to HEALTH, asked at most every HEALTH_TTL seconds
 * however often load balancers probe (a network HSM is asked each time). */
#define HEALTH_TTL 5
static pthread_mutex_t health_mu = PTHREAD_MUTEX_INITIALIZER;
static time_t health_at;
static int health_rc;
static char health_why[sizeof(((struct rc_detail *)0)->msg)];

/* 200 "ok"; 503 when nothing can be signed any more: the signer process
 * ended (the server is stopping then: see the main loop), or its key
 * store cannot sign (an HSM's token is unreachable). */
static int
on_healthz(struct http_req *r, void *app)
{
	char why[sizeof(health_why)];
	time_t now = time(NULL);
	int rc;

	(void)app;
	(void)http_add_header(r, "Cache-Control", "no-store");
	if (healthz_signer == NULL)
		return http_reply_text(r, 200, "ok");
	if (!signer_running(healthz_signer, why, sizeof(why)))
		return http_reply_text(r, 503, "the signer process %s", why);
	pthread_mutex_lock(&health_mu);
	if (health_at == 0 || now - health_at >= HEALTH_TTL || now <
	    health_at) {
		struct rc_detail d = {""};

		health_rc = signer_health(healthz_signer, &d);
		snprintf(health_why, sizeof(health_why), "%s",
		    rc_detail_str(&d, health_rc));
		health_at = now;
		if (health_rc != 0)
			log_err(LOG_MAIN, "healthz: the signer cannot sign: %s",
			    health_why);
	}
	rc = health_rc;
	snprintf(why, sizeof(why), "%s", health_why);
	pthread_mutex_unlock(&health_mu);
	if (rc != 0)
		return http_reply_text(r, 503, "the signer cannot sign: %s",
		    why);
	return http_reply_text(r, 200, "ok");
}

static const struct http_route routes[] = {
	{"/crl/", HTTP_GET, on_crl},
	{"/ca/", HTTP_GET, on_ca},
	{"/healthz", HTTP_GET, on_healthz},
	{"/ocsp", HTTP_GET | HTTP_POST, on_ocsp},
	{"/ocsp/", HTTP_GET | HTTP_POST, on_ocsp},
};

/* ---- the HTTPS listener: ACME and the portal ----------------------------- */

/* What the layer's own errors on the HTTPS listener are formatted by:
 * ACME problems under /acme/, the portal's pages (or API problems)
 * elsewhere. */
struct https_apps {
	struct acme *acme;
	struct portal *portal;
};

static int
https_on_error(struct http_req *r, unsigned status, const char *reason,
    void *app)
{
	struct https_apps *h = app;

	if (strncmp(http_req_path(r), "/acme/", 6) == 0 || h->portal == NULL)
		return acme_on_http_error(r, status, reason, h->acme);
	return portal_on_http_error(r, status, reason, h->portal);
}

/* ---- CRL schedule -------------------------------------------------------- */

/* Warns at start about trusted proxies wider than a /8 (IPv4) or a /32
 * (IPv6): hardly a set of proxies, and any client in it picks the address
 * it is counted as. (The list itself was checked when it was loaded.) */
static void
warn_wide_proxies(const struct daemon_ctx *cx)
{
	struct ipnet *nets = NULL;
	char why[160];
	int n = ipnet_list_parse(cx->conf.http_trusted_proxies, &nets, why,
	    sizeof(why));

	for (int i = 0; i < n; i++)
		if (nets[i].bits < (nets[i].len == 4 ? 8 : 32))
			log_warn(LOG_HTTP, "http.trusted_proxies: a network of "
			    "/%u is trusted: any client in it can choose the "
			    "address it is counted as",
			    (unsigned)nets[i].bits);
	free(nets);
}

/* Warns at start when the active issuing CA is within 90 days of the last
 * day a certificate of the maximum validity fits in its lifetime, and
 * says so louder past it: then every issuance fails until `ca roll`. */
static void
warn_issuing_expiry(const struct daemon_ctx *cx)
{
	const char *name;
	time_t na, last, now;
	char na_s[32], last_s[32];

	ca_issuing_ends(cx->ca, &name, &na, &last, &now);
	if (now < last - CA_ROLL_WARN_DAYS * 86400)
		return;
	daemon_fmt_time(na, na_s);
	daemon_fmt_time(last, last_s);
	if (now >= last)
		log_err(LOG_CA, "the issuing CA %s expires on %s: a certificate "
		    "issued now would outlive it, so none is issued; make its "
		    "successor with 'certdesk ca roll' (serve takes it up "
		    "within a minute)", name, na_s);
	else
		log_warn(LOG_CA, "the issuing CA %s expires on %s and issues "
		    "until %s; make its successor with 'certdesk ca roll' "
		    "before then", name, na_s, last_s);
}

/* ca.problem_report_contact: an email address or an https:// URL, as it
 * is linked from /report-key. 1 when acceptable (or empty). */
static int
problem_contact_ok(const char *s)
{
	const char *at = strchr(s, '@');

	if (s[0] == '\0')
		return 1;
	if (!daemon_text_ok(s, 254) || strpbrk(s, " \"'<>") != NULL)
		return 0;
	if (strncmp(s, "https://", 8) == 0)
		return s[8] != '\0';
	return at != NULL && at != s && at[1] != '\0' &&
	    strchr(at + 1, '@') == NULL && strchr(s, ':') == NULL;
}

/* portal.terms_url: an https:// URL, or an absolute path on this server
 * (not "//host", which a browser reads as another host), as it is the
 * link of the order form's terms. 1 when acceptable. */
static int
terms_url_ok(const char *s)
{
	if (!daemon_text_ok(s, 2000) || strpbrk(s, " \"'<>\\") != NULL)
		return 0;
	if (strncmp(s, "https://", 8) == 0)
		return s[8] != '\0' && s[8] != '/';
	return s[0] == '/' && s[1] != '/';
}

/* validation.perspectives: the remote perspectives every domain
 * validation and CAA check is corroborated by (BR 3.2.2.9). */
static int
open_perspectives(struct daemon_ctx *cx)
{
	char why[200], *key;
	int rc;

	if (cx->conf.ct_log_list[0] == '\0' &&
	    strcmp(cx->conf.policy_trust, "public") == 0)
		log_warn(LOG_MAIN, "ct.log_list is empty: certificates are not "
		    "logged to Certificate Transparency, and browsers trust "
		    "no certificate of a public CA without SCTs");
	if (cx->conf.val_perspectives[0] == '\0') {
		if (strcmp(cx->conf.policy_trust, "public") == 0)
			log_warn(LOG_MAIN, "validation.perspectives is empty: "
			    "a publicly-trusted CA corroborates every domain "
			    "validation and CAA check from remote perspectives "
			    "(BR 3.2.2.9); see 'certdesk perspective'");
		return 0;
	}
	key = daemon_in_data(cx, cx->conf.val_perspective_key_file);
	if (key == NULL) {
		daemon_fail(cx, "validation.perspectives needs "
		    "validation.perspective_key_file");
		return -1;
	}
	{
		struct val_conf vc;
		char *anchor = NULL, *caa_text = NULL;
		const char *ids[17];

		daemon_val_conf(cx, &vc, &anchor, &caa_text, ids, 16);
		rc = val_mpic_open(cx->conf.val_perspectives, key, ids, 0,
		    &cx->mpic, why, sizeof(why));
		free(anchor);
		free(caa_text);
	}
	free(key);
	if (rc != 0) {
		daemon_fail(cx, "validation.perspectives: %s", why);
		return -1;
	}
	log_info(LOG_MAIN, "multi-perspective corroboration: %zu remote "
	    "perspective(s), of which %d may disagree",
	    val_mpic_count(cx->mpic), val_mpic_quorum(val_mpic_count(
	    cx->mpic)));
	return 0;
}

/* [http] connections, connections_per_ip, request_timeout, body_min_rate
 * and trusted_proxies for a listener; raises the
 * soft limit of open files (to the hard one at most) so that every
 * listener can hold its connections, besides the store's and the
 * validations' descriptors. */
static void
conn_limits(struct daemon_ctx *cx, struct http_conf *hc)
{
	unsigned total = (unsigned)cx->conf.http_connections;
	unsigned per_ip = (unsigned)cx->conf.http_connections_per_ip;
	rlim_t want = 2 * (rlim_t)total + 256;
	static rlim_t warned;	/* start-up only: one thread */
	struct rlimit rl;

	hc->conn_limit = total;
	hc->per_ip_limit = per_ip == 0 || per_ip > total ? total : per_ip;
	hc->request_timeout_s = (unsigned)cx->conf.http_request_timeout_s;
	hc->body_min_rate = (unsigned)cx->conf.http_body_min_rate;
	hc->trusted_proxies = cx->conf.http_trusted_proxies;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
		rlim_t had = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY &&
		    rl.rlim_max < want ? rl.rlim_max : want;
		if (rl.rlim_cur > had && setrlimit(RLIMIT_NOFILE, &rl) != 0)
			rl.rlim_cur = had;
		if (rl.rlim_cur < want && rl.rlim_cur != warned) {
			warned = rl.rlim_cur;	/* once per limit */
			log_warn(LOG_MAIN, "open files limited to %llu: fewer "
			    "than [http] connections (%u) on two listeners "
			    "need", (unsigned long long)rl.rlim_cur, total);
		}
	}
}

static void
refresh_crls(struct serve_app *a)
{
	struct rc_detail d = {{0}};
	time_t max_age = (time_t)a->cx->conf.ca_crl_refresh_hours * 3600;
	int rc = ca_crl_refresh(a->cx->ca, max_age, &d);

	if (rc != 0)
		log_err(LOG_CA, "CRL refresh: %s", rc_detail_str(&d, rc));
}

/* daemon_svc_check()'s install: the listener's new handshakes use them. */
static int
install_tls(void *arg, const char *cert_pem, const char *key_pem)
{
	struct rc_detail d = {{0}};
	int rc = http_server_set_tls(arg, cert_pem, key_pem, &d);

	if (rc != 0)
		log_err(LOG_HTTP, "HTTPS: the new service certificate is not "
		    "used, the one in use stays: %s", rc_detail_str(&d, rc));
	return rc;
}

/* The portal's view of the HTTPS service certificate (arg: the struct
 * daemon_svc), for the admin's Certificate authority page. */
static void
svc_cert_view(void *arg, struct portal_svc_cert *out)
{
	struct daemon_svc_status st;

	daemon_svc_status(arg, &st);
	out->not_after = st.not_after;
	out->renew_at = st.renew_at;
	out->failing_since = st.failing_since;
}

/* The portal's view of which issuing CA this server issues from (arg:
 * the struct daemon_roll), for the admin's Certificate authority page. */
static void
ca_issuing_view(void *arg, struct portal_ca_issuing *out)
{
	struct daemon_roll_status rs;

	daemon_roll_status(arg, &rs);
	snprintf(out->serving, sizeof(out->serving), "%s", rs.serving.name);
	snprintf(out->why, sizeof(out->why), "%s", rs.why);
	out->failing_since = rs.failing_since;
}

static time_t
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* The schedule thread: the CRLs every SCHEDULE_SECONDS, the HTTPS
 * certificate when daemon_svc_wait() says, and before either (and on
 * SIGHUP) whether a `ca roll` made another issuing CA active, to issue
 * from it (serve_roll.c): a new one is taken up within a minute, and the
 * HTTPS certificate re-issued by it at once. The context's store and CA
 * are this thread's alone while serve runs. */
static void *
schedule(void *arg)
{
	struct serve_app *a = arg;
	time_t crl_at = mono_now() + SCHEDULE_SECONDS;
	time_t svc_at = a->svc ? mono_now() + daemon_svc_wait(a->cx, a->svc) :
	    0;

	pthread_mutex_lock(&a->slock);
	while (!a->stop) {
		struct timespec ts = {crl_at, 0};
		time_t now;
		int hup;

		if (a->svc && svc_at < crl_at)
			ts.tv_sec = svc_at;
		while (!a->stop && !a->hup && pthread_cond_timedwait(&a->scond,
		    &a->slock, &ts) != ETIMEDOUT)
			;
		if (a->stop)
			break;
		hup = a->hup;
		a->hup = 0;
		pthread_mutex_unlock(&a->slock);
		now = mono_now();
		if ((hup || now >= crl_at || (a->svc && now >= svc_at)) &&
		    daemon_roll_check(a->cx) == 1)
			svc_at = now;	/* its certificate from the new CA */
		if (now >= crl_at) {
			refresh_crls(a);
			crl_at = mono_now() + SCHEDULE_SECONDS;
		}
		if (a->svc && now >= svc_at) {
			(void)daemon_svc_check(a->cx, a->svc, install_tls,
			    a->tls_srv);
			svc_at = mono_now() + daemon_svc_wait(a->cx, a->svc);
		}
		pthread_mutex_lock(&a->slock);
	}
	pthread_mutex_unlock(&a->slock);
	return NULL;
}

/* ---- the command --------------------------------------------------------- */

static void
addr_text(const struct sockaddr_storage *ss, int port, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const void *)ss;

		inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%d", host, port);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    host, sizeof(host));
		snprintf(out, len, "%s:%d", host, port);
	}
}

/* "https://ADDR:PORT" for the bound address; a wildcard address is not
 * reachable as such: localhost then (set http.public_url instead). */
static char *
base_url_for(const struct sockaddr_storage *ss, int port)
{
	char where[80];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a6 = (const void *)ss;

		if (IN6_IS_ADDR_UNSPECIFIED(&a6->sin6_addr))
			return xasprintf("https://localhost:%d", port);
	} else if (((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
	    htonl(INADDR_ANY)) {
		return xasprintf("https://localhost:%d", port);
	}
	addr_text(ss, port, where, sizeof(where));
	return xasprintf("https://%s", where);
}

/* An ADDR:PORT option or configuration value; "" means off. */
static int
listen_arg(struct daemon_ctx *cx, const char *opt, const char *given,
    const char *conf_value, const char *conf_key, const char **value,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	*value = given ? given : conf_value;
	if ((*value)[0] == '\0')
		return 0;
	if (daemon_parse_listen(*value, ss, sslen) == 0)
		return 0;
	if (given)
		daemon_usage(cx, "%s: '%.64s' is not ADDR:PORT (numeric IPv4, "
		    "[IPv6] or localhost)", opt, given);
	else
		daemon_fail(cx, "%s: %s: '%.64s' is not ADDR:PORT",
		    cx->conf_path, conf_key, conf_value);
	return given ? DAEMON_EXIT_USAGE : DAEMON_EXIT_FAIL;
}

/* Binds the listener at value (ADDR:PORT in ss; "" is off: *fd stays -1)
 * into *fd, and its port into *port when port is not NULL. */
static int
bind_early(struct daemon_ctx *cx, const char *value,
    const struct sockaddr_storage *ss, socklen_t sslen, int *fd, int *port)
{
	struct rc_detail d = {{0}};
	int p;

	if (value[0] == '\0')
		return 0;
	if (http_listen_socket((const struct sockaddr *)ss, sslen, fd, &p,
	    &d) != 0) {
		daemon_fail(cx, "cannot listen on %s: %s", value,
		    rc_detail_str(&d, RC_IO));
		return DAEMON_EXIT_FAIL;
	}
	if (port != NULL)
		*port = p;
	return 0;
}

/* --http01-port and friends: set over the configuration. */
static int
override(struct daemon_ctx *cx, const char *opt, const char *value,
    const char *key)
{
	struct rc_detail d = {{0}};

	if (value == NULL)
		return 0;
	if (value[0] == '\0' || conf_set(&cx->conf, "validation", key, value,
	    &d) != 0) {
		daemon_usage(cx, "%s: '%.64s' is not valid (%s)", opt, value,
		    d.msg[0] ? d.msg : "empty");
		return DAEMON_EXIT_USAGE;
	}
	return 0;
}

/*
 * The main thread, once everything runs: waits for SIGINT or SIGTERM
 * (DAEMON_EXIT_OK), or for the signer's end (DAEMON_EXIT_FAIL: without it
 * no certificate, OCSP response or CRL can be signed, so the server stops
 * and a service manager restarts it with a new signer). set holds the
 * stop signals, SIGCHLD and SIGHUP (reloads the CT log list and the
 * compromised keys: daemon_ct_reload, daemon_keys_reload; and has the
 * schedule thread check the active issuing CA), blocked in every
 * thread.
 */
static int
wait_for_stop(struct serve_app *a, const sigset_t *set,
    const sigset_t *stops)
{
	struct daemon_ctx *cx = a->cx;
	const struct timespec grace = {0, 200 * 1000 * 1000};
	char why[96];
	int sig = 0;

	for (;;) {
		while (sigwait(set, &sig) != 0)
			;
		if (sig == SIGHUP) {
			/* what daemons get from a closed terminal or a
			 * log rotation: not a reason to die mid-request;
			 * re-read are the lists that change while a CA
			 * runs: the CT log list (browsers change it every
			 * few weeks) and the operator's compromised keys */
			(void)daemon_ct_reload(cx);
			(void)daemon_keys_reload(cx);
			/* and whether a `ca roll` is to be taken up: by the
			 * schedule thread, whose are the store and CA */
			pthread_mutex_lock(&a->slock);
			a->hup = 1;
			pthread_cond_signal(&a->scond);
			pthread_mutex_unlock(&a->slock);
			continue;
		}
		if (sig != SIGCHLD)
			break;
		if (signer_running(cx->sg, why, sizeof(why)))
			continue;	/* stopped or continued, not ended */
		/* a service manager stopping the service signals every
		 * process of it: the signer may have gone first */
		sig = sigtimedwait(stops, NULL, &grace);
		if (sig > 0)
			break;
		log_err(LOG_MAIN, "the signer process %s: nothing can be "
		    "signed any more; stopping", why);
		return DAEMON_EXIT_FAIL;
	}
	log_info(LOG_MAIN, "stopping (%s)", sig == SIGINT ? "SIGINT" :
	    "SIGTERM");
	return DAEMON_EXIT_OK;
}

int
daemon_cmd_serve(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *listen_s = NULL, *plain_s = NULL;
	const char *http01 = NULL, *tlsalpn01 = NULL, *resolver = NULL;
	const char *metrics_s = NULL;
	const char *https_at = "", *plain_at = "", *metrics_at = "";
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--listen", DAEMON_OPT_STR, &listen_s, "ADDR:PORT", 0,
		    "HTTPS address of ACME (default: http.listen); "
		    "[v6addr]:port for IPv6, port 0 for any free port"},
		{"--plain-listen", DAEMON_OPT_STR, &plain_s, "ADDR:PORT", 0,
		    "plain-HTTP address of CRLs and CA certificates "
		    "(default: http.plain_listen); port 0 for any free port"},
		{"--metrics-listen", DAEMON_OPT_STR, &metrics_s, "ADDR:PORT", 0,
		    "plain-HTTP address of /metrics for Prometheus (default: "
		    "http.metrics_listen, off when empty); port 0 for any "
		    "free port"},
		{"--http01-port", DAEMON_OPT_STR, &http01, "N", 0,
		    "port http-01 challenges are fetched from "
		    "(validation.http01_port)"},
		{"--tlsalpn01-port", DAEMON_OPT_STR, &tlsalpn01, "N", 0,
		    "port tls-alpn-01 challenges connect to "
		    "(validation.tlsalpn01_port)"},
		{"--resolver", DAEMON_OPT_STR, &resolver, "ADDR:PORT", 0,
		    "DNS server to forward validation and CAA lookups to "
		    "(validation.resolver); DNSSEC then uses only "
		    "validation.trust_anchor, and names may resolve to "
		    "loopback and private addresses"},
	};
	struct serve_app a;
	struct sockaddr_storage ss, pss, mss;
	socklen_t sslen = 0, psslen = 0, msslen = 0;
	struct daemon_metrics *dmx = NULL;
	struct http_conf hc;
	struct http_server *srv = NULL, *tls_srv = NULL;
	struct http_route *tls_routes = NULL;
	struct http_route *web_routes = NULL;	/* back office + portal */
	struct daemon_acme *da = NULL;
	struct daemon_mail *dm = NULL;
	struct daemon_dv *dv = NULL;
	struct val_dnsupd *dnsupd = NULL;
	struct portal *portal = NULL;
	struct https_apps apps = {NULL, NULL};
	struct rc_detail d = {{0}};
	struct store_issuer root;
	struct sec *key_pem = NULL;
	pthread_condattr_t ca_attr;
	pthread_t thr;
	sigset_t set, stops;
	char https_where[80] = "off", plain_where[80] = "off";
	char metrics_where[80] = "off";
	char *cert_pem = NULL, *base = NULL, *acme_dir = NULL, *ca_keys = NULL;
	int done, rc, thr_ok = 0, fd = -1, pfd = -1, mfd = -1, https_port = 0;

	memset(&root, 0, sizeof(root));
	memset(&a, 0, sizeof(a));
	rc = daemon_opts(cx, opts, sizeof(opts) / sizeof(opts[0]), argc, argv,
	    NULL, 0, NULL, &done);
	if (done)
		return rc;
	if (listen_s && daemon_parse_listen(listen_s, &ss, &sslen) != 0) {
		daemon_usage(cx, "--listen: '%.64s' is not ADDR:PORT (numeric "
		    "IPv4, [IPv6] or localhost)", listen_s);
		return DAEMON_EXIT_USAGE;
	}
	if (plain_s && daemon_parse_listen(plain_s, &pss, &psslen) != 0) {
		daemon_usage(cx, "--plain-listen: '%.64s' is not ADDR:PORT "
		    "(numeric IPv4, [IPv6] or localhost)", plain_s);
		return DAEMON_EXIT_USAGE;
	}
	rc = daemon_load(cx, data, 0);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	ra_org_set_two_person_ev(cx->conf.bo_two_person_ev);
	if ((rc = override(cx, "--http01-port", http01, "http01_port")) ||
	    (rc = override(cx, "--tlsalpn01-port", tlsalpn01,
	    "tlsalpn01_port")) ||
	    (rc = override(cx, "--resolver", resolver, "resolver")))
		return rc;
	/* a resolver given on the command line is a lab: its names may
	 * point at loopback and private addresses */
	if (resolver != NULL)
		cx->conf.val_allow_private = 1;
	if ((rc = listen_arg(cx, "--listen", listen_s, cx->conf.http_listen,
	    "http.listen", &https_at, &ss, &sslen)) != 0 ||
	    (rc = listen_arg(cx, "--plain-listen", plain_s,
	    cx->conf.http_plain_listen, "http.plain_listen", &plain_at, &pss,
	    &psslen)) != 0 ||
	    (rc = listen_arg(cx, "--metrics-listen", metrics_s,
	    cx->conf.http_metrics_listen, "http.metrics_listen", &metrics_at,
	    &mss, &msslen)) != 0)
		return rc;
	if (https_at[0] == '\0' && plain_at[0] == '\0') {
		daemon_fail(cx, "nothing to listen on: http.listen and "
		    "http.plain_listen are empty in %s and neither --listen "
		    "nor --plain-listen is given", cx->conf_path);
		return DAEMON_EXIT_FAIL;
	}
	if (https_at[0] != '\0' && !http_tls_supported()) {
		daemon_fail(cx, "libmicrohttpd has no TLS support; cannot "
		    "serve HTTPS on %s", https_at);
		return DAEMON_EXIT_FAIL;
	}
	/* every socket first, while serve may still be root (ports below
	 * 1024); the HTTPS port also goes into ACME URLs */
	if ((rc = bind_early(cx, https_at, &ss, sslen, &fd,
	    &https_port)) != 0 ||
	    (rc = bind_early(cx, plain_at, &pss, psslen, &pfd, NULL)) != 0 ||
	    (rc = bind_early(cx, metrics_at, &mss, msslen, &mfd,
	    NULL)) != 0)
		goto out;
	/* every CA handle of serve issues from one issuing CA, which
	 * follows `ca roll` (serve_roll.c) */
	(void)daemon_roll_new(cx);
	/* with general.user, the signer is started as the key directory's
	 * owner and this process becomes the user right after it */
	rc = daemon_open(cx, DAEMON_NEED_SIGNER | DAEMON_NEED_STORE |
	    DAEMON_NEED_CA | DAEMON_NEED_CT);
	if (rc != DAEMON_EXIT_OK)
		goto out;
	rc = DAEMON_EXIT_FAIL;
	if (geteuid() == 0)
		log_warn(LOG_MAIN, "serve runs as root, so this process "
		    "could read the CA key files the signer holds: set "
		    "general.user to a user of its own (docs/cli.md)");
	warn_wide_proxies(cx);
	warn_issuing_expiry(cx);
	if (!problem_contact_ok(cx->conf.ca_problem_contact)) {
		daemon_fail(cx, "ca.problem_report_contact: '%.80s' is neither "
		    "an email address nor an https:// URL",
		    cx->conf.ca_problem_contact);
		goto out;
	}
	if (!terms_url_ok(cx->conf.portal_terms_url)) {
		daemon_fail(cx, "portal.terms_url: '%.80s' is neither an "
		    "https:// URL nor a path on this server (/...)",
		    cx->conf.portal_terms_url);
		goto out;
	}
	if (open_perspectives(cx) != 0)
		goto out;
	if (daemon_publish_ca_files(cx) != 0) {
		daemon_fail(cx, "cannot write the CA certificates to %s",
		    cx->ca_dir);
		goto out;
	}
	if (store_issuer_get_active(cx->st, 1, &root) != 0) {
		daemon_fail(cx, "no root CA in %s", cx->data);
		goto out;
	}

	a.cx = cx;
	pthread_mutex_init(&a.lock, NULL);
	pthread_mutex_init(&a.slock, NULL);
	pthread_condattr_init(&ca_attr);
	pthread_condattr_setclock(&ca_attr, CLOCK_MONOTONIC);
	pthread_cond_init(&a.scond, &ca_attr);
	pthread_condattr_destroy(&ca_attr);
	refresh_crls(&a);
	/* our nameservers ([dnsupdate]) for automatic domain validation,
	 * shared by every thread's ra */
	if (val_dnsupd_open(&cx->conf, cx->data, &dnsupd, &d) != 0) {
		daemon_fail(cx, "%s: [dnsupdate]: %s", cx->conf_path,
		    rc_detail_str(&d, RC_CONFIG));
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	cx->dnsupd = dnsupd;

	/* every thread started from here on has the stop signals, SIGCHLD
	 * (the signer's end) and SIGHUP blocked: the main thread waits for
	 * them */
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	set = stops;
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	healthz_signer = cx->sg;

	/* the OCSP worker re-signs responses even when another server
	 * (a CDN, a static web server) serves them. Plain HTTP before
	 * HTTPS: once the ACME directory answers, everything does (a
	 * client or a test that saw it may go on to a CRL at once) */
	if (cx->conf.ca_ocsp && daemon_ocsp_start(cx, &a.ocsp) != 0) {
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	if (plain_at[0] != '\0') {
		memset(&hc, 0, sizeof(hc));
		hc.addr = (const struct sockaddr *)&pss;
		hc.addrlen = psslen;
		hc.threads = (unsigned)cx->conf.http_threads;
		conn_limits(cx, &hc);
		hc.max_body = CA_OCSP_MAX_REQUEST;	/* POST /ocsp */
		hc.listen_fd = pfd;
		pfd = -1;	/* the server owns it now */
		rc = http_server_start(&hc, routes,
		    sizeof(routes) / sizeof(routes[0]), &a, &srv, &d);
		if (rc != 0) {
			daemon_fail(cx, "cannot listen on %s: %s", plain_at,
			    rc_detail_str(&d, rc));
			rc = DAEMON_EXIT_FAIL;
			goto out;
		}
		addr_text(&pss, http_server_port(srv), plain_where,
		    sizeof(plain_where));
	}
	if (https_at[0] != '\0') {
		char names[DAEMON_SERVICE_NAMES][DAEMON_SERVICE_NAME];
		const struct http_route *ar;
		size_t nar, nn;

		base = cx->conf.http_public_url[0] ?
		    xstrdup(cx->conf.http_public_url) :
		    base_url_for(&ss, https_port);
		nn = daemon_service_names(https_at, cx->conf.http_public_url,
		    names);
		if (daemon_svc_open(cx, names, nn, &a.svc, &cert_pem,
		    &key_pem) != 0) {
			rc = DAEMON_EXIT_FAIL;
			goto out;
		}
		memset(&hc, 0, sizeof(hc));
		/* requests wait on validations (a customer's server may take
		 * the whole http-01 timeout) and on commits: each connection
		 * has its own thread, so a wait holds up only its own
		 * connection. http.threads request contexts (store handles,
		 * resolver, CA) are kept ready; more are made while more
		 * requests are in flight and let go afterwards. */
		hc.thread_per_connection = 1;
		hc.threads = cx->conf.http_threads ?
		    (unsigned)cx->conf.http_threads : 0;
		if (hc.threads == 0) {
			long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

			hc.threads = ncpu > 0 ? 4 * (unsigned)ncpu : 4;
		}
		if (hc.threads > 64)
			hc.threads = 64;
		if (daemon_acme_start(cx, base, hc.threads, &da) != 0) {
			rc = DAEMON_EXIT_FAIL;
			goto out;
		}
		{
			struct store_conf psc = {cx->conf.store_backend,
				cx->db_path, 1};
			struct portal_conf pc;

			memset(&pc, 0, sizeof(pc));
			pc.store = &psc;
			pc.ra.get = daemon_acme_ra_get;
			pc.ra.put = daemon_acme_ra_put;
			pc.ra.arg = da;
			pc.mail_spool = cx->conf.mail_smtp_url == NULL ||
			    cx->conf.mail_smtp_url[0] == '\0';
			acme_dir = xasprintf("%s%s", base,
			    ACME_PATH_DIRECTORY);
			pc.acme_directory = acme_dir;
			pc.ca_base_url = cx->conf.ca_base_url;
			pc.ca_now = cx->cac.now;
			pc.svc_cert = svc_cert_view;
			pc.svc_cert_arg = a.svc;
			pc.ca_issuing = ca_issuing_view;
			pc.ca_issuing_arg = cx->roll;
			ca_keys = cx->conf.signer_pkcs11_module[0] != '\0' &&
			    strcmp(cx->conf.signer_keystore, "pkcs11") == 0 ?
			    xasprintf("on the PKCS#11 token '%s' (module %s)",
			    cx->conf.signer_pkcs11_token,
			    cx->conf.signer_pkcs11_module) :
			    xstrdup("as key files in the signer's key "
			    "directory");
			pc.ca_keys = ca_keys;
			pc.problem_contact = cx->conf.ca_problem_contact;
			pc.terms_url = cx->conf.portal_terms_url;
			pc.upload_max_files = cx->conf.portal_upload_max_files;
			pc.upload_max_bytes =
			    (size_t)cx->conf.portal_upload_max_bytes;
			pc.ct = cx->ct;
			pc.ct_list_path = cx->conf.ct_log_list;
			if (portal_new(&pc, &portal) != 0) {
				daemon_fail(cx, "cannot start the portal (see "
				    "the log)");
				rc = DAEMON_EXIT_FAIL;
				goto out;
			}
		}
		ar = acme_routes(&nar);
		tls_routes = xcalloc(nar + 1, sizeof(*tls_routes));
		tls_routes[0] = routes[2];	/* /healthz */
		memcpy(tls_routes + 1, ar, nar * sizeof(*ar));
		hc.addr = (const struct sockaddr *)&ss;
		hc.addrlen = sslen;
		hc.listen_fd = fd;
		fd = -1;	/* the server owns it now */
		hc.max_body = ACME_MAX_REQUEST;
		hc.upload_ok = portal_upload_ok;
		hc.max_upload = portal_upload_body_max(
		    cx->conf.portal_upload_max_files,
		    (size_t)cx->conf.portal_upload_max_bytes);
		conn_limits(cx, &hc);
		hc.tls_cert_pem = cert_pem;
		hc.tls_key_pem = (const char *)key_pem->data;
		apps.acme = daemon_acme_app(da);
		apps.portal = portal;
		hc.on_error = https_on_error;
		hc.error_app = &apps;
		{
			/* the back office first: the portal's "/" matches
			 * everything; both run on the portal's context */
			const struct http_route *br, *pr;
			size_t nb, np;

			br = bo_routes(&nb);
			pr = portal_routes(&np);
			web_routes = xcalloc(nb + np, sizeof(*web_routes));
			memcpy(web_routes, br, nb * sizeof(*br));
			memcpy(web_routes + nb, pr, np * sizeof(*pr));
			hc.extra_routes = web_routes;
			hc.nextra_routes = nb + np;
		}
		hc.extra_app = portal;
		rc = http_server_start(&hc, tls_routes, nar + 1,
		    daemon_acme_app(da), &tls_srv, &d);
		if (rc != 0) {
			daemon_fail(cx, "cannot serve HTTPS on %s: %s",
			    https_at, rc_detail_str(&d, rc));
			rc = DAEMON_EXIT_FAIL;
			goto out;
		}
		/* the listener holds the key, parsed: this copy goes */
		free(cert_pem);
		cert_pem = NULL;
		sec_free(key_pem);
		key_pem = NULL;
		a.tls_srv = tls_srv;
		addr_text(&ss, http_server_port(tls_srv), https_where,
		    sizeof(https_where));
	}
	if (metrics_at[0] != '\0') {
		int mport = 0, lfd = mfd;

		mfd = -1;	/* the listener owns it, or has closed it */
		if (daemon_metrics_start(cx, (const struct sockaddr *)&mss,
		    msslen, lfd, tls_srv, srv, a.svc, &dmx, &mport) !=
		    DAEMON_EXIT_OK) {
			rc = DAEMON_EXIT_FAIL;
			goto out;
		}
		addr_text(&mss, mport, metrics_where, sizeof(metrics_where));
		log_info(LOG_MAIN, "metrics on http://%s/metrics",
		    metrics_where);
	}
	if (daemon_mail_start(cx, base, &dm) != 0) {
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	if (daemon_dv_start(cx, base, &dv) != 0) {
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	if (pthread_create(&thr, NULL, schedule, &a) != 0) {
		daemon_fail(cx, "cannot start the CRL schedule thread");
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	thr_ok = 1;
	if (tls_srv)
		log_info(LOG_MAIN, "listening on https://%s (ACME directory "
		    "%s%s)", https_where, base, ACME_PATH_DIRECTORY);
	if (tls_srv)
		log_info(LOG_MAIN, "customer portal: %s/portal/", base);
	if (srv)
		log_info(LOG_MAIN, "listening on http://%s (CRLs, CA "
		    "certificates)", plain_where);
	/* one line for scripts and tests that let the kernel pick ports */
	log_info(LOG_MAIN, "listening https=%s http=%s", https_where,
	    plain_where);
	log_info(LOG_MAIN, "root certificate: %s/%s.pem", cx->ca_dir,
	    root.name);
	log_info(LOG_MAIN, "CRLs: %s, regenerated when older than %d h",
	    cx->crl_dir, cx->conf.ca_crl_refresh_hours);

	rc = wait_for_stop(&a, &set, &stops);
out:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	if (mfd >= 0)
		close(mfd);
	/* the schedule thread first: it hands certificates to the HTTPS
	 * listener and publishes CRLs through the CA the ACME pool set up */
	if (thr_ok) {
		pthread_mutex_lock(&a.slock);
		a.stop = 1;
		pthread_cond_signal(&a.scond);
		pthread_mutex_unlock(&a.slock);
		pthread_join(thr, NULL);
	}
	daemon_metrics_stop(dmx);	/* it watches the listeners */
	http_server_stop(tls_srv);
	portal_free(portal);
	daemon_mail_stop(dm);
	daemon_dv_stop(dv);
	daemon_acme_stop(da);
	cx->dnsupd = NULL;
	val_dnsupd_free(dnsupd);
	daemon_svc_free(a.svc);
	http_server_stop(srv);
	daemon_ocsp_stop(a.ocsp);
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		served_clear(&a.cache[i]);
	if (a.cx) {
		pthread_cond_destroy(&a.scond);
		pthread_mutex_destroy(&a.slock);
		pthread_mutex_destroy(&a.lock);
	}
	free(tls_routes);
	free(web_routes);
	free(cert_pem);
	sec_free(key_pem);
	free(base);
	free(acme_dir);
	free(ca_keys);
	store_issuer_clear(&root);
	if (rc == DAEMON_EXIT_OK)
		log_info(LOG_MAIN, "stopped");
	return rc;
}
