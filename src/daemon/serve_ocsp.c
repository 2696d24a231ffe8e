/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OCSP responder and worker of `certdesk serve` (RFC 6960, RFC 5019).
 *
 * Responder: GET /ocsp/<base64 of the DER request> (RFC 6960 A.1; standard
 * or URL-safe alphabet, padded or not, percent-encoded or not) and POST
 * /ocsp (application/ocsp-request) on the plain-HTTP listener. Answering is
 * a lookup: every response was signed ahead of time (at issuance, by the
 * worker, on revocation: src/ca/ocsp.c) and sits in the store; an in-memory
 * cache in front of the store (striped hash tables, so request threads
 * rarely meet on a lock) holds the DER with its ETag. A cached entry is
 * re-read from the store once it is older than half of
 * ocsp.status_bound_seconds, so a revocation made by any certdesk process
 * sharing the store shows here within the bound; one made by this process
 * (portal, ACME: ca_revoke) at once, through ca_revoked_since(). The one
 * signature made on request is the "unknown" answer for a serial of our
 * issuer that was never issued (see ocsp.c for why); those are bounded by a
 * token bucket (UNKNOWN_RATE per second, then tryLater) and cached like the
 * others. A request for an issuing CA not known here has the issuers read
 * again (at most every few seconds): one made by `ca roll` while serve runs
 * answers too.
 *
 * Caching headers (RFC 5019 6.2): ETag, Last-Modified (thisUpdate),
 * Cache-Control "public, max-age=N, no-transform" and Expires now + N, where
 * N is the time left until nextUpdate, but for a "good" or "unknown" answer
 * at most ocsp.status_bound_seconds: a cache between us and the relying
 * party must not hide a revocation for longer than the bound. A revoked
 * answer never changes back, so it may be cached until nextUpdate.
 *
 * Worker: a thread that re-signs every response reaching
 * ocsp.refresh_hours (oldest first, in batches), and at start-up signs the
 * responses missing for certificates issued before OCSP pre-signing
 * existed.
 *
 * Runs in the main certdesk process on the HTTP worker threads and its own
 * thread; request bytes are untrusted (parsed by ca_ocsp_req_parse, bounded
 * by CA_OCSP_MAX_REQUEST); the store and the signer are trusted.
 */
#include "ca/ca.h"
#include "daemon/daemon_int.h"
#include "http/http.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STRIPES 256
#define BUCKETS 512		/* per stripe */
/* entries per stripe before it is emptied: at most ~256k responses cached,
 * ~100 MiB */
#define STRIPE_MAX 1024
#define POOL_MAX 64		/* store handles kept for cache misses */
/* a CertID of no issuer known here re-reads the store's issuers at most
 * this often (seconds): a `ca roll` adds one while serve runs */
#define ISSUERS_RELIST_S 5
#define UNKNOWN_RATE 20		/* "unknown" signatures per second */
#define UNKNOWN_BURST 50
#define WORKER_BATCH 500
#define WORKER_POLL_S 60

struct entry {
	struct entry *next;
	char serial[41];
	int64_t issuer_id;
	int status;		/* 0 good, 1 revoked, 2 unknown */
	uint8_t *der;
	size_t len;
	time_t this_update, next_update;
	time_t fetched;		/* monotonic seconds */
	uint64_t epoch;		/* ca_revocation_epoch() when fetched */
	char etag[36];
};

struct stripe {
	pthread_mutex_t lock;
	struct entry *b[BUCKETS];
	size_t n;
};

struct issuer_hashes {
	int64_t id;
	uint8_t name_hash[20], key_hash[20];
};

/* the issuing CAs, every one ever made: each answers for its own
 * certificates as long as they may be valid, whatever rolls came since */
struct issuer_list {
	struct issuer_hashes *v;
	size_t n, cap;
};

struct daemon_ocsp {
	struct daemon_ctx *cx;
	time_t ttl;		/* re-read entries older than this */
	time_t bound;		/* ocsp.status_bound_seconds */

	pthread_mutex_t iss_lock;	/* iss, iss_listed */
	struct issuer_list iss;
	time_t iss_listed;		/* monotonic seconds */

	struct stripe *stripes;

	pthread_mutex_t pool_lock;
	struct store *pool[POOL_MAX];
	size_t npool;

	pthread_mutex_t rl_lock;	/* the "unknown" token bucket */
	double tokens;
	struct timespec rl_last;

	/* the worker, with its own store and ca handles; sign_lock also
	 * guards the responder's use of wca for "unknown" answers */
	struct store *wst;
	struct ca *wca;
	pthread_mutex_t sign_lock;
	pthread_t thr;
	int thr_ok;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
};

static time_t
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static uint32_t
hash_serial(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

static void
entry_free(struct entry *e)
{
	if (e == NULL)
		return;
	free(e->der);
	free(e);
}

/* ---- the store pool ------------------------------------------------------ */

static struct store *
pool_get(struct daemon_ocsp *o)
{
	struct store *st = NULL;
	struct store_conf sc = {o->cx->conf.store_backend, o->cx->db_path, 0};

	pthread_mutex_lock(&o->pool_lock);
	if (o->npool > 0)
		st = o->pool[--o->npool];
	pthread_mutex_unlock(&o->pool_lock);
	if (st == NULL && store_open(&sc, &st) != 0) {
		log_err(LOG_HTTP, "ocsp: cannot open a store handle");
		return NULL;
	}
	return st;
}

static void
pool_put(struct daemon_ocsp *o, struct store *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&o->pool_lock);
	if (o->npool < POOL_MAX) {
		o->pool[o->npool++] = st;
		st = NULL;
	}
	pthread_mutex_unlock(&o->pool_lock);
	store_close(st);
}

/* ---- request decoding ---------------------------------------------------- */

/* Base64 in either alphabet, padded or not; a space stands for '+' (a
 * layer that decoded a query-style '+'). Returns the length or -1. */
static long
b64_decode(const char *s, uint8_t *out, size_t max)
{
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0, pad = 0;

	for (; *s; s++) {
		int v;
		char c = *s;

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+' || c == '-' || c == ' ')
			v = 62;
		else if (c == '/' || c == '_')
			v = 63;
		else if (c == '=') {
			pad++;
			continue;
		} else if (c == '\r' || c == '\n')
			continue;
		else
			return -1;
		if (pad)
			return -1;	/* data after padding */
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= max)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (pad > 2 || bits >= 6)
		return -1;
	return (long)n;
}

/* ---- replies ------------------------------------------------------------- */

static int
reply_error(struct http_req *r, int status)
{
	size_t len;
	const uint8_t *p = ca_ocsp_error_der(status, &len);

	/* RFC 5019 2.2.3: errors are OCSP responses too, in a 200 */
	(void)http_add_header(r, "Cache-Control", "no-store");
	return http_reply(r, 200, "application/ocsp-response", p, len);
}

static int
etag_matches(struct http_req *r, const char *etag)
{
	const char *inm = http_req_header(r, "If-None-Match");

	return inm && (strcmp(inm, "*") == 0 || strstr(inm, etag) != NULL);
}

/* Replies with a copy of e's response (called without any lock); age:
 * seconds since it was read from the store. A good or unknown answer is
 * cached by others for what is left of the status bound, so that a
 * revocation shows within the bound in all. */
static int
reply_entry(struct daemon_ocsp *o, struct http_req *r, const uint8_t *der,
    size_t len, int status, time_t this_update, time_t next_update,
    const char *etag, time_t age)
{
	char cc[80], lm[32], ex[32];
	time_t now = time(NULL);
	long max_age = (long)(next_update - now);
	long left = (long)o->bound - (long)(age > 0 ? age : 0);

	if (max_age < 0)
		max_age = 0;
	if (status != 1 && max_age > left)
		max_age = left > 0 ? left : 0;
	snprintf(cc, sizeof(cc), "public, max-age=%ld, no-transform", max_age);
	http_date(this_update, lm);
	http_date(now + max_age, ex);
	(void)http_add_header(r, "Cache-Control", cc);
	(void)http_add_header(r, "Expires", ex);
	(void)http_add_header(r, "Last-Modified", lm);
	(void)http_add_header(r, "ETag", etag);
	if (etag_matches(r, etag))
		return http_reply(r, 304, NULL, "", 0);
	return http_reply(r, 200, "application/ocsp-response", der, len);
}

static void
make_etag(const uint8_t *der, size_t len, char out[36])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[33];

	if (EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		memset(md, 0, 16);
	hex_encode(md, 16, hex);
	snprintf(out, 36, "\"%s\"", hex);
}

/* ---- the cache ----------------------------------------------------------- */

/* Copies the fresh entry of serial into the caller's buffers; 1 found. */
static int
cache_find(struct daemon_ocsp *o, const char *serial, int64_t issuer_id,
    uint8_t **der, size_t *len, int *status, time_t *tu, time_t *nu,
    char etag[36], time_t *age)
{
	uint32_t h = hash_serial(serial);
	struct stripe *s = &o->stripes[h % STRIPES];
	struct entry *e;
	time_t now = mono(), wall = time(NULL);
	uint64_t cur = ca_revocation_epoch();
	int found = 0;

	pthread_mutex_lock(&s->lock);
	for (e = s->b[(h / STRIPES) % BUCKETS]; e != NULL; e = e->next) {
		if (strcmp(e->serial, serial) != 0 ||
		    e->issuer_id != issuer_id)
			continue;
		if (now - e->fetched >= o->ttl || e->next_update <= wall)
			break;
		/* revoked by this process since it was read: re-read */
		if (e->status != 1 && e->epoch != cur) {
			if (ca_revoked_since(e->epoch, e->serial))
				break;
			e->epoch = cur;
		}
		*der = xmemdup(e->der, e->len);
		*len = e->len;
		*status = e->status;
		*tu = e->this_update;
		*nu = e->next_update;
		memcpy(etag, e->etag, 36);
		*age = now - e->fetched;
		found = 1;
		break;
	}
	pthread_mutex_unlock(&s->lock);
	return found;
}

/* Takes ownership of e; replaces an entry of the same serial. */
static void
cache_put(struct daemon_ocsp *o, struct entry *e)
{
	uint32_t h = hash_serial(e->serial);
	struct stripe *s = &o->stripes[h % STRIPES];
	struct entry **pp;

	pthread_mutex_lock(&s->lock);
	if (s->n >= STRIPE_MAX) {
		/* bounded memory: empty the stripe; misses refill it */
		for (size_t i = 0; i < BUCKETS; i++) {
			while (s->b[i] != NULL) {
				struct entry *x = s->b[i];

				s->b[i] = x->next;
				entry_free(x);
			}
		}
		s->n = 0;
	}
	pp = &s->b[(h / STRIPES) % BUCKETS];
	for (; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->serial, e->serial) == 0 &&
		    (*pp)->issuer_id == e->issuer_id) {
			struct entry *old = *pp;

			e->next = old->next;
			*pp = e;
			entry_free(old);
			pthread_mutex_unlock(&s->lock);
			return;
		}
	}
	e->next = NULL;
	*pp = e;
	s->n++;
	pthread_mutex_unlock(&s->lock);
}

/* ---- answering ----------------------------------------------------------- */

static int
take_token(struct daemon_ocsp *o)
{
	struct timespec ts;
	double dt;
	int ok;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&o->rl_lock);
	dt = (double)(ts.tv_sec - o->rl_last.tv_sec) +
	    (double)(ts.tv_nsec - o->rl_last.tv_nsec) / 1e9;
	o->rl_last = ts;
	o->tokens += dt * UNKNOWN_RATE;
	if (o->tokens > UNKNOWN_BURST)
		o->tokens = UNKNOWN_BURST;
	ok = o->tokens >= 1.0;
	if (ok)
		o->tokens -= 1.0;
	pthread_mutex_unlock(&o->rl_lock);
	return ok;
}

/* The stored response of serial as a new cache entry: 0, RC_NOTFOUND (no
 * response and no certificate), RC_EXISTS (the certificate exists but has
 * no response yet), or an error. */
static int
load(struct daemon_ocsp *o, const char *serial, int64_t issuer_id,
    struct entry **out)
{
	struct store *st = pool_get(o);
	struct store_ocsp so;
	struct entry *e;
	int64_t shard;
	uint64_t epoch;
	int rc;

	*out = NULL;
	if (st == NULL)
		return RC_DB;
	epoch = ca_revocation_epoch();	/* before the read: never newer */
	rc = store_ocsp_get(st, serial, &so);
	if (rc == RC_NOTFOUND) {
		rc = store_cert_get_shard(st, serial, &shard);
		rc = rc == 0 ? RC_EXISTS : rc;
	}
	pool_put(o, st);
	if (rc != 0)
		return rc;
	if (so.issuer_id != issuer_id) {
		store_ocsp_clear(&so);
		return RC_NOTFOUND;
	}
	e = xcalloc(1, sizeof(*e));
	snprintf(e->serial, sizeof(e->serial), "%s", serial);
	e->issuer_id = issuer_id;
	e->status = so.status;
	e->der = so.der;
	e->len = so.der_len;
	e->this_update = so.this_update;
	e->next_update = so.next_update;
	e->fetched = mono();
	e->epoch = epoch;
	make_etag(e->der, e->len, e->etag);
	*out = e;
	return 0;
}

static int
sign_unknown(struct daemon_ocsp *o, const struct ca_ocsp_req *req,
    int64_t issuer_id, struct entry **out)
{
	struct rc_detail d = {{0}};
	struct entry *e;
	uint8_t *der = NULL;
	size_t len = 0;
	time_t tu = 0, nu = 0;
	int rc;

	*out = NULL;
	pthread_mutex_lock(&o->sign_lock);
	rc = ca_ocsp_sign_unknown(o->wca, issuer_id, req, &der, &len, &tu,
	    &nu, &d);
	pthread_mutex_unlock(&o->sign_lock);
	if (rc != 0) {
		log_err(LOG_HTTP, "ocsp: unknown %s: %s", req->serial_hex,
		    rc_detail_str(&d, rc));
		return rc;
	}
	e = xcalloc(1, sizeof(*e));
	snprintf(e->serial, sizeof(e->serial), "%s", req->serial_hex);
	e->issuer_id = issuer_id;
	e->status = 2;
	e->der = der;
	e->len = len;
	e->this_update = tu;
	e->next_update = nu;
	e->fetched = mono();
	make_etag(der, len, e->etag);
	*out = e;
	return 0;
}

static int
add_issuer(const struct store_issuer *is, void *arg)
{
	struct issuer_list *l = arg;

	/* CA certificates name no OCSP responder: only issuing CAs answer */
	if (is->is_root)
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	if (ca_ocsp_issuer_hashes(is->cert_der, is->cert_len,
	    l->v[l->n].name_hash, l->v[l->n].key_hash) != 0) {
		log_warn(LOG_CA, "ocsp: issuer %s: certificate unusable",
		    is->name);
		return 0;
	}
	l->v[l->n++].id = is->id;
	return 0;
}

static int64_t
find_issuer(const struct issuer_list *l, const struct ca_ocsp_req *req)
{
	for (size_t i = 0; i < l->n; i++)
		if (memcmp(req->name_hash, l->v[i].name_hash, 20) == 0 &&
		    memcmp(req->key_hash, l->v[i].key_hash, 20) == 0)
			return l->v[i].id;
	return 0;
}

/*
 * The issuing CA whose CertID hashes the request has, or 0. One not
 * known here has the store's issuers read again (at most every
 * ISSUERS_RELIST_S, however many requests ask): an issuing CA made by a
 * `ca roll` since the start answers from then on, for the certificates
 * this serve (which takes it up: serve_roll.c) or another one issues.
 */
static int64_t
issuer_of(struct daemon_ocsp *o, const struct ca_ocsp_req *req)
{
	struct issuer_list fresh;
	struct store *st;
	time_t now = mono();
	int64_t id;

	if (!req->sha1 || req->name_hash_len != 20 || req->key_hash_len != 20)
		return 0;
	pthread_mutex_lock(&o->iss_lock);
	id = find_issuer(&o->iss, req);
	if (id == 0 && now - o->iss_listed >= ISSUERS_RELIST_S &&
	    (st = pool_get(o)) != NULL) {
		o->iss_listed = now;
		memset(&fresh, 0, sizeof(fresh));
		if (store_issuer_list(st, add_issuer, &fresh) == 0) {
			if (fresh.n != o->iss.n)
				log_info(LOG_CA, "OCSP responder for %zu "
				    "issuer(s) from now on", fresh.n);
			free(o->iss.v);
			o->iss = fresh;
			id = find_issuer(&o->iss, req);
		} else {
			free(fresh.v);
		}
		pool_put(o, st);
	}
	pthread_mutex_unlock(&o->iss_lock);
	return id;
}

static int
answer(struct daemon_ocsp *o, struct http_req *r, const uint8_t *der,
    size_t len)
{
	struct ca_ocsp_req req;
	struct entry *e = NULL;
	uint8_t *resp = NULL;
	size_t rlen = 0;
	time_t tu = 0, nu = 0, age = 0;
	char etag[36];
	int64_t issuer_id = 0;
	int rc, status = 0;

	if (ca_ocsp_req_parse(der, len, &req) != 0)
		return reply_error(r, CA_OCSP_MALFORMED);
	if ((issuer_id = issuer_of(o, &req)) == 0)
		return reply_error(r, CA_OCSP_UNAUTHORIZED);
	if (req.serial_hex[0] == '\0') {
		/* negative, zero or over 20 octets: never one of ours; not
		 * cached (no canonical key), so rate-bounded like the rest */
		if (!take_token(o) || sign_unknown(o, &req, issuer_id,
		    &e) != 0)
			return reply_error(r, CA_OCSP_TRYLATER);
		rc = reply_entry(o, r, e->der, e->len, 2, e->this_update,
		    e->next_update, e->etag, 0);
		entry_free(e);
		return rc;
	}
	if (cache_find(o, req.serial_hex, issuer_id, &resp, &rlen, &status,
	    &tu, &nu, etag, &age)) {
		rc = reply_entry(o, r, resp, rlen, status, tu, nu, etag, age);
		free(resp);
		return rc;
	}
	rc = load(o, req.serial_hex, issuer_id, &e);
	if (rc == RC_NOTFOUND) {
		if (!take_token(o) || sign_unknown(o, &req, issuer_id,
		    &e) != 0)
			return reply_error(r, CA_OCSP_TRYLATER);
	} else if (rc == RC_EXISTS) {
		/* issued, response not signed yet (the worker is on it) */
		return reply_error(r, CA_OCSP_TRYLATER);
	} else if (rc != 0) {
		return reply_error(r, CA_OCSP_INTERNAL);
	}
	resp = xmemdup(e->der, e->len);
	rlen = e->len;
	status = e->status;
	tu = e->this_update;
	nu = e->next_update;
	memcpy(etag, e->etag, sizeof(etag));
	cache_put(o, e);
	rc = reply_entry(o, r, resp, rlen, status, tu, nu, etag, 0);
	free(resp);
	return rc;
}

int
daemon_ocsp_reply(struct http_req *r, struct daemon_ocsp *o)
{
	const char *m = http_req_method(r);
	uint8_t buf[CA_OCSP_MAX_REQUEST];
	const uint8_t *body;
	size_t len = 0;
	long n;

	if (o == NULL)
		return http_reply_text(r, 404, "not found");
	if (strcmp(m, "POST") == 0) {
		body = http_req_body(r, &len);
		return answer(o, r, body, len);
	}
	/* GET /ocsp/<base64>: the tail is percent-decoded already */
	n = b64_decode(http_req_tail(r), buf, sizeof(buf));
	if (n <= 0)
		return reply_error(r, CA_OCSP_MALFORMED);
	return answer(o, r, buf, (size_t)n);
}

/* ---- the worker ---------------------------------------------------------- */

static void
refresh(struct daemon_ocsp *o, int backfill)
{
	time_t refresh_s = (time_t)o->cx->conf.ocsp_refresh_hours * 3600;
	size_t done = 0, total = 0;

	do {
		struct rc_detail d = {{0}};
		int rc;

		pthread_mutex_lock(&o->sign_lock);
		rc = ca_ocsp_refresh(o->wca, refresh_s, backfill,
		    WORKER_BATCH, &done, &d);
		pthread_mutex_unlock(&o->sign_lock);
		if (rc != 0) {
			log_err(LOG_CA, "ocsp worker: %s",
			    rc_detail_str(&d, rc));
			break;
		}
		total += done;
		pthread_mutex_lock(&o->lock);
		if (o->stop)
			done = 0;
		pthread_mutex_unlock(&o->lock);
	} while (done >= WORKER_BATCH);
	if (total > 0)
		log_info(LOG_CA, "ocsp worker: %zu response(s) signed", total);
}

static void *
worker(void *arg)
{
	struct daemon_ocsp *o = arg;
	int first = 1;

	pthread_mutex_lock(&o->lock);
	while (!o->stop) {
		struct timespec ts;

		pthread_mutex_unlock(&o->lock);
		refresh(o, first);
		first = 0;
		pthread_mutex_lock(&o->lock);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += WORKER_POLL_S;
		while (!o->stop && pthread_cond_timedwait(&o->cond, &o->lock,
		    &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&o->lock);
	return NULL;
}

int
daemon_ocsp_start(struct daemon_ctx *cx, struct daemon_ocsp **out)
{
	struct daemon_ocsp *o = xcalloc(1, sizeof(*o));
	struct store_conf sc = {cx->conf.store_backend, cx->db_path, 1};
	pthread_condattr_t attr;
	int rc;

	*out = NULL;
	o->cx = cx;
	o->bound = cx->conf.ocsp_status_bound_s > 0 ?
	    (time_t)cx->conf.ocsp_status_bound_s : 60;
	o->ttl = o->bound / 2 > 0 ? o->bound / 2 : 1;
	o->stripes = xcalloc(STRIPES, sizeof(*o->stripes));
	for (size_t i = 0; i < STRIPES; i++)
		pthread_mutex_init(&o->stripes[i].lock, NULL);
	pthread_mutex_init(&o->pool_lock, NULL);
	pthread_mutex_init(&o->rl_lock, NULL);
	pthread_mutex_init(&o->sign_lock, NULL);
	pthread_mutex_init(&o->iss_lock, NULL);
	pthread_mutex_init(&o->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&o->cond, &attr);
	pthread_condattr_destroy(&attr);
	o->tokens = UNKNOWN_BURST;
	clock_gettime(CLOCK_MONOTONIC, &o->rl_last);
	if ((rc = store_open(&sc, &o->wst)) != 0) {
		daemon_fail(cx, "ocsp worker: store: %s", rc_str(rc));
		goto fail;
	}
	if ((rc = ca_open(&cx->cac, o->wst, cx->sg, cx->kc, &o->wca)) != 0) {
		daemon_fail(cx, "ocsp worker: CA: %s", rc_str(rc));
		goto fail;
	}
	if ((rc = store_issuer_list(o->wst, add_issuer, &o->iss)) != 0) {
		daemon_fail(cx, "ocsp: listing issuers: %s", rc_str(rc));
		goto fail;
	}
	if (pthread_create(&o->thr, NULL, worker, o) != 0) {
		daemon_fail(cx, "cannot start the OCSP worker thread");
		rc = RC_ERR;
		goto fail;
	}
	o->thr_ok = 1;
	log_info(LOG_CA, "OCSP responder for %zu issuer(s); responses valid "
	    "%d h, re-signed after %d h; status bound %lld s", o->iss.n,
	    cx->conf.ocsp_validity_hours, cx->conf.ocsp_refresh_hours,
	    (long long)o->bound);
	*out = o;
	return 0;
fail:
	daemon_ocsp_stop(o);
	return rc ? rc : RC_ERR;
}

void
daemon_ocsp_stop(struct daemon_ocsp *o)
{
	if (o == NULL)
		return;
	if (o->thr_ok) {
		pthread_mutex_lock(&o->lock);
		o->stop = 1;
		pthread_cond_signal(&o->cond);
		pthread_mutex_unlock(&o->lock);
		pthread_join(o->thr, NULL);
	}
	for (size_t i = 0; i < STRIPES; i++) {
		for (size_t j = 0; j < BUCKETS; j++) {
			while (o->stripes[i].b[j] != NULL) {
				struct entry *e = o->stripes[i].b[j];

				o->stripes[i].b[j] = e->next;
				entry_free(e);
			}
		}
		pthread_mutex_destroy(&o->stripes[i].lock);
	}
	free(o->stripes);
	free(o->iss.v);
	for (size_t i = 0; i < o->npool; i++)
		store_close(o->pool[i]);
	ca_free(o->wca);
	store_close(o->wst);
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->lock);
	pthread_mutex_destroy(&o->sign_lock);
	pthread_mutex_destroy(&o->iss_lock);
	pthread_mutex_destroy(&o->rl_lock);
	pthread_mutex_destroy(&o->pool_lock);
	free(o);
}
