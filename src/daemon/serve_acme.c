/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `certdesk serve` runs behind its HTTPS listener for ACME: the struct
 * acme with its configuration, a pool of workers (each one a registration
 * authority over its own store handles and CA handle, because neither may
 * be shared between threads), a pool of validation contexts (resolver and
 * HTTP client) the workers' registration authorities borrow for each
 * check, the group committer every worker's CA issues through (one fsync
 * per batch of certificates), and a background thread that runs
 * validations left over by a restart or by a request thread that gave up
 * (ra_jobs_run).
 *
 * A worker is taken from the pool for one request and given back after it.
 * Workers are made up front (http.threads of them, and one for the job
 * thread); when all are busy another is made (outside the pool's lock),
 * up to WORKERS_MAX_FACTOR times the up-front number. Beyond that a
 * request waits for one to be given back: every HTTPS connection has its
 * own thread, and a burst of slow validations must not take all the
 * memory. Idle workers beyond the up-front number are freed after
 * WORKER_IDLE_S without a request (by the job thread); the rest when the
 * server stops, after the HTTP threads have been joined.
 *
 * A validation context is about 2 MB resident (mostly libunbound's: its
 * tables of source ports, filled at creation), measured as 1.8 MB per
 * worker when each worker had one: the 33 idle workers of http.threads =
 * 32 took 85 MB then and 35 MB with the pool. Fewer requests are in a
 * check than in flight, so the pool makes one when none is idle (never
 * waits: a slow http-01 check holds one for up to its timeout) and frees
 * the idle ones beyond the up-front number after WORKER_IDLE_S.
 *
 * For an ACME request, the worker's main store handle shares one read
 * snapshot among the request's reads (store_rq_begin/store_rq_end): fewer
 * SQLite lock round trips and page-cache checks per request.
 *
 * Runs in the main certdesk process. Trusts the configuration (checked
 * when the validation context opens) and the data directory.
 */
#include "acme/acme.h"
#include "daemon/daemon_int.h"
#include "ra/ra.h"
#include "store/store.h"
#include "util/log.h"
#include "util/xmalloc.h"
#include "validation/val.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define JOBS_BATCH 8
#define JOBS_IDLE_MS 1000
#define MAX_CAA_IDS 16
#define WORKERS_MAX_FACTOR 4
#define WORKER_IDLE_S 30

struct worker {
	struct store *st;
	struct ca *ca;
	struct ra *ra;
	struct worker *next;		/* every worker */
	struct worker *idle_next;	/* the idle list, last used first */
	time_t idle_since;		/* CLOCK_MONOTONIC, when idle */
	int busy;
};

struct daemon_acme {
	struct daemon_ctx *cx;
	struct acme *acme;
	struct store_group *group;
	struct store_conf sc;
	struct val_conf vc;
	struct ra_conf rc;
	char *acct_prefix, *blocked, *overrides, *anchor, *caa_text;
	struct ra_policy *policy;	/* the policy files, read at start */
	const char *caa_ids[MAX_CAA_IDS + 1];

	pthread_mutex_t lock;		/* the pool */
	pthread_cond_t given_back;	/* a worker became idle */
	struct worker *all, *idle;
	unsigned n;			/* made or being made */
	unsigned keep;			/* made up front, never freed */
	unsigned max;			/* made at most */
	time_t full_said;		/* when "all busy" was logged */
	unsigned long waited;		/* requests that waited since */
	pthread_mutex_t make;		/* one worker_new() at a time (the
					 * libraries' set-up is not all
					 * known to be thread-safe) */

	/* validation contexts (resolver, HTTP client), lent to a worker's ra
	 * for each check: fewer than workers are in a check at once, and
	 * each costs about 2 MB */
	pthread_mutex_t vlock;
	struct vslot *vidle;		/* the idle ones, a stack */
	size_t nidle;
	unsigned vn;			/* made */
	unsigned vcap;			/* room in vidle, at least vn */

	pthread_t jobs;
	int jobs_ok;
	pthread_mutex_t jlock;
	pthread_cond_t jcond;
	int stop;
};

/* ---- validation contexts ------------------------------------------------- */

struct vslot {
	struct val_ctx *v;
	time_t idle_since;		/* CLOCK_MONOTONIC */
};

static time_t mono_s(void);

/* ra_set_val_pool's get: the idle context last given back, else a new
 * one. */
static int
vpool_get(void *arg, struct val_ctx **out)
{
	struct daemon_acme *da = arg;
	struct rc_detail d = {{0}};
	unsigned n;
	int rc;

	*out = NULL;
	pthread_mutex_lock(&da->vlock);
	if (da->nidle > 0)
		*out = da->vidle[--da->nidle].v;
	pthread_mutex_unlock(&da->vlock);
	if (*out != NULL)
		return 0;
	pthread_mutex_lock(&da->make);
	rc = val_ctx_open(&da->vc, out, &d);
	pthread_mutex_unlock(&da->make);
	if (rc != 0) {
		log_err(LOG_ACME, "validation context: %s",
		    rc_detail_str(&d, rc));
		return rc;
	}
	pthread_mutex_lock(&da->vlock);
	n = ++da->vn;
	if (da->vcap < n) {	/* room for every one made: put never grows */
		da->vcap = 2 * n;
		da->vidle = xrealloc(da->vidle, da->vcap * sizeof(*da->vidle));
	}
	pthread_mutex_unlock(&da->vlock);
	log_debug(LOG_ACME, "%u validation contexts", n);
	return 0;
}

static void
vpool_put(void *arg, struct val_ctx *v)
{
	struct daemon_acme *da = arg;
	time_t now = mono_s();

	pthread_mutex_lock(&da->vlock);
	da->vidle[da->nidle].v = v;
	da->vidle[da->nidle].idle_since = now;
	da->nidle++;
	pthread_mutex_unlock(&da->vlock);
}

/* Frees the idle contexts beyond keep unused for WORKER_IDLE_S (all of
 * them with keep 0, at stop). The idle stack holds the longest idle at
 * its bottom. */
static void
vpool_reap(struct daemon_acme *da, unsigned keep, time_t old)
{
	struct vslot dead[64];
	size_t k = 0;

	pthread_mutex_lock(&da->vlock);
	while (k < da->nidle && k < sizeof(dead) / sizeof(dead[0]) &&
	    da->vn > keep && da->vidle[k].idle_since <= old) {
		dead[k] = da->vidle[k];
		k++;
		da->vn--;
	}
	if (k > 0) {
		da->nidle -= k;
		memmove(da->vidle, da->vidle + k,
		    da->nidle * sizeof(*da->vidle));
	}
	pthread_mutex_unlock(&da->vlock);
	for (size_t i = 0; i < k; i++)
		val_ctx_free(dead[i].v);
	if (k == sizeof(dead) / sizeof(dead[0]))
		vpool_reap(da, keep, old);	/* more than one batch */
}

/* ---- workers ------------------------------------------------------------- */

static void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	ra_free(w->ra);
	ca_free(w->ca);
	store_close(w->st);
	free(w);
}

/* A new worker; on failure why (may be NULL) says what failed. */
static int
worker_new(struct daemon_acme *da, struct worker **out,
    struct rc_detail *why)
{
	struct daemon_ctx *cx = da->cx;
	struct store_conf wsc;
	struct rc_detail d = {{0}};
	struct worker *w = xcalloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	/* The worker's own handle commits without fsync (WAL, synchronous
	 * NORMAL): accounts, orders, challenge states and validation records
	 * survive a crash of the process, and a power loss can take only the
	 * last ones back. What must be durable before anything is handed out
	 * goes through the group committer's fsyncing connection: issuance,
	 * revocation and CRL numbers (ca_set_group). Its fsync also makes
	 * every earlier commit in the WAL durable, so the validation records
	 * behind a certificate are on disk before the certificate is. */
	wsc = da->sc;
	wsc.durable = 0;
	if ((rc = store_open(&wsc, &w->st)) != 0) {
		log_err(LOG_ACME, "worker: store: %s", rc_str(rc));
		goto fail;
	}
	if ((rc = ca_open(&cx->cac, w->st, cx->sg, cx->kc, &w->ca)) != 0) {
		log_err(LOG_ACME, "worker: CA: %s", rc_str(rc));
		goto fail;
	}
	ca_set_group(w->ca, da->group);
	if ((rc = ra_open(&da->rc, w->st, w->ca, NULL, &w->ra,
	    &d)) != 0) {
		log_err(LOG_ACME, "worker: ra: %s", rc_detail_str(&d, rc));
		if (why != NULL)
			*why = d;
		goto fail;
	}
	ra_set_dnsupd(w->ra, cx->dnsupd);	/* dns-auto for portal orders */
	ra_set_val_pool(w->ra, vpool_get, vpool_put, da);
	*out = w;
	return 0;
fail:
	worker_free(w);
	return rc;
}

static time_t
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int
take(struct daemon_acme *da, struct worker **out)
{
	struct worker *w = NULL;
	int rc;

	*out = NULL;
	pthread_mutex_lock(&da->lock);
	if (da->idle == NULL && da->n >= da->max) {
		time_t now = mono_s();

		da->waited++;
		if (da->full_said == 0 || now - da->full_said >= 60) {
			log_warn(LOG_ACME, "all %u request contexts busy: %lu "
			    "request(s) waited for one %s", da->max,
			    da->waited, da->full_said == 0 ? "so far" :
			    "in the last minute");
			da->full_said = now;
			da->waited = 0;
		}
	}
	while (da->idle == NULL && da->n >= da->max)
		pthread_cond_wait(&da->given_back, &da->lock);
	if (da->idle != NULL) {
		w = da->idle;
		da->idle = w->idle_next;
		w->busy = 1;
	} else
		da->n++;	/* this thread makes one */
	pthread_mutex_unlock(&da->lock);
	if (w == NULL) {
		pthread_mutex_lock(&da->make);
		rc = worker_new(da, &w, NULL);
		pthread_mutex_unlock(&da->make);
		pthread_mutex_lock(&da->lock);
		if (rc != 0) {
			da->n--;
			pthread_cond_signal(&da->given_back);
		} else {
			w->busy = 1;
			w->next = da->all;
			da->all = w;
		}
		pthread_mutex_unlock(&da->lock);
		if (rc != 0)
			return rc;
	}
	*out = w;
	return 0;
}

/* Gives w back (its request snapshot ended). */
static void
give_back(struct daemon_acme *da, struct worker *w)
{
	pthread_mutex_lock(&da->lock);
	w->busy = 0;
	w->idle_since = mono_s();
	w->idle_next = da->idle;
	da->idle = w;
	pthread_cond_signal(&da->given_back);
	pthread_mutex_unlock(&da->lock);
}

/* Frees the workers beyond the up-front number that have been idle for
 * WORKER_IDLE_S. The idle list is last used first: those are at its end. */
static void
reap(struct daemon_acme *da)
{
	struct worker *dead = NULL, **pp, **ap, *w;
	time_t old = mono_s() - WORKER_IDLE_S;

	pthread_mutex_lock(&da->lock);
	for (pp = &da->idle; *pp != NULL;) {
		w = *pp;
		if (da->n <= da->keep || w->idle_since > old) {
			pp = &w->idle_next;
			continue;
		}
		*pp = w->idle_next;
		da->n--;
		for (ap = &da->all; *ap != NULL; ap = &(*ap)->next)
			if (*ap == w) {
				*ap = w->next;
				break;
			}
		w->next = dead;
		dead = w;
	}
	pthread_mutex_unlock(&da->lock);
	for (; dead != NULL; dead = w) {
		w = dead->next;
		worker_free(dead);
	}
	vpool_reap(da, da->keep, old);
}

/* A worker for one ACME request: its reads share one snapshot until it
 * writes (store_rq_begin), which pool_put ends. */
static int
pool_get(void *arg, struct ra **ra)
{
	struct worker *w;
	int rc;

	*ra = NULL;
	if ((rc = take(arg, &w)) != 0)
		return rc;
	store_rq_begin(w->st);
	*ra = w->ra;
	return 0;
}

static void
pool_put(void *arg, struct ra *ra)
{
	struct daemon_acme *da = arg;
	struct worker *w;

	pthread_mutex_lock(&da->lock);
	for (w = da->all; w != NULL; w = w->next)
		if (w->ra == ra && w->busy)
			break;
	pthread_mutex_unlock(&da->lock);
	if (w == NULL)
		return;
	store_rq_end(w->st);	/* busy: only this thread touches it */
	give_back(da, w);
}

/* ---- the validation worker thread ---------------------------------------- */

static void *
jobs_main(void *arg)
{
	struct daemon_acme *da = arg;
	struct ra *ra = NULL;

	pthread_mutex_lock(&da->jlock);
	while (!da->stop) {
		size_t ran = 0;
		int rc = 0;

		pthread_mutex_unlock(&da->jlock);
		/* a worker of its own, without a request snapshot: it
		 * loops for as long as the server runs */
		if (ra == NULL) {
			struct worker *w;

			ra = take(da, &w) == 0 ? w->ra : NULL;
		}
		if (ra != NULL) {
			rc = ra_jobs_run(ra, JOBS_BATCH, &ran);
			if (rc != 0)
				log_err(LOG_ACME, "validation jobs: %s",
				    rc_str(rc));
		}
		reap(da);
		pthread_mutex_lock(&da->jlock);
		if (ran == 0 && !da->stop)
			daemon_idle_wait(&da->jcond, &da->jlock, &da->stop,
			    JOBS_IDLE_MS);
	}
	pthread_mutex_unlock(&da->jlock);
	if (ra != NULL)
		pool_put(da, ra);
	return NULL;
}

/* ---- start and stop ------------------------------------------------------ */

int
daemon_acme_start(struct daemon_ctx *cx, const char *base_url,
    unsigned workers, struct daemon_acme **out)
{
	struct daemon_acme *da = xcalloc(1, sizeof(*da));
	struct acme_conf ac;
	struct rc_detail d = {{0}};
	struct val_ctx *probe = NULL;
	int rc;

	*out = NULL;
	da->cx = cx;
	pthread_mutex_init(&da->lock, NULL);
	daemon_cond_init(&da->given_back);
	pthread_mutex_init(&da->make, NULL);
	pthread_mutex_init(&da->vlock, NULL);
	pthread_mutex_init(&da->jlock, NULL);
	daemon_cond_init(&da->jcond);

	da->sc.backend = cx->conf.store_backend;
	da->sc.path = cx->db_path;
	da->sc.durable = 1;

	/* validation: ports, resolver, trust anchor, CAA identities */
	daemon_val_conf(cx, &da->vc, &da->anchor, &da->caa_text, da->caa_ids,
	    MAX_CAA_IDS);
	/* one CAA cache for every worker: the finalize of an order finds
	 * what its challenge's validation asked ahead, on whichever thread */
	da->vc.caa_cache = val_caa_cache_new();
	rc = val_ctx_open(&da->vc, &probe, &d);
	if (rc != 0) {
		daemon_fail(cx, "%s: [validation]: %s", cx->conf_path,
		    rc_detail_str(&d, rc));
		goto fail;
	}
	if (!val_ctx_has_trust_anchor(probe) &&
	    strcmp(cx->conf.policy_trust, "public") == 0)
		log_warn(LOG_VAL, "a publicly-trusted CA must validate DNSSEC: "
		    "set validation.trust_anchor or install dns-root-data");
	/* the first of the pool */
	da->vn = 1;
	da->vcap = 8;
	da->vidle = xcalloc(da->vcap, sizeof(*da->vidle));
	vpool_put(da, probe);
	probe = NULL;

	/* the registration authority */
	da->acct_prefix = xasprintf("%s/acme/acct/", base_url);
	da->blocked = daemon_in_data(cx, cx->conf.policy_blocked_names);
	da->overrides = daemon_in_data(cx, cx->conf.acme_lim_overrides);
	da->rc.account_url_prefix = da->acct_prefix;
	da->rc.require_eab = cx->conf.acme_require_eab;
	da->rc.allow_ip = cx->conf.acme_allow_ip;
#define LIM(to, from) da->rc.to = (struct ra_limit){cx->conf.from.count, \
	    cx->conf.from.period}
	LIM(lim_accounts_ip, acme_lim_accounts_ip);
	LIM(lim_accounts_ip6, acme_lim_accounts_ip6);
	LIM(lim_orders, acme_lim_orders);
	LIM(lim_failed, acme_lim_failed);
	LIM(lim_domain, acme_lim_domain);
	LIM(lim_duplicate, acme_lim_duplicate);
#undef LIM
	/* read once: every worker, made now or in a later burst, applies
	 * the same blocked names and overrides */
	if ((rc = ra_policy_load(da->blocked, da->overrides, &da->policy,
	    &d)) != 0) {
		daemon_fail(cx, "%s", d.msg);
		goto fail;
	}
	da->rc.policy = da->policy;
	/* CSR keys at finalize and for portal orders: the CA's weak-key and
	 * compromised-key lists (read-only, shared by every worker) */
	da->rc.keycheck = cx->kc;
	da->rc.now = cx->cac.now;
	/* links in notification mail (base_url outlives the workers) */
	da->rc.portal_url = base_url;
	/* domain validation of portal orders ([dv], policy.trust) */
	daemon_dv_ra_conf(cx, &da->rc);

	rc = store_group_open(&da->sc, &da->group);
	if (rc != 0) {
		daemon_fail(cx, "cannot open the store's group committer: %s",
		    rc_str(rc));
		goto fail;
	}
	ca_set_group(cx->ca, da->group);

	memset(&ac, 0, sizeof(ac));
	ac.base_url = base_url;
	ac.terms_of_service = cx->conf.acme_terms_of_service;
	ac.website = cx->conf.acme_website;
	ac.caa_identities = da->caa_ids;
	ac.require_eab = cx->conf.acme_require_eab;
	ac.ra.get = pool_get;
	ac.ra.put = pool_put;
	ac.ra.arg = da;
	rc = acme_new(&ac, &da->acme);
	if (rc != 0) {
		daemon_fail(cx, "'%.200s' is not a usable https:// base URL "
		    "for ACME (http.public_url)", base_url);
		goto fail;
	}

	/* the up-front workers now: a broken setup fails at start, and the
	 * usual load never waits for a new one */
	da->keep = workers + 1;
	da->max = da->keep * WORKERS_MAX_FACTOR;
	memset(&d, 0, sizeof(d));
	for (unsigned i = 0; i < da->keep; i++) {
		struct worker *w;

		if ((rc = worker_new(da, &w, &d)) != 0) {
			if (d.msg[0] != '\0')
				daemon_fail(cx, "%s", d.msg);
			else
				daemon_fail(cx, "cannot open the registration "
				    "authority: %s (see the log)", rc_str(rc));
			goto fail;
		}
		w->next = da->all;
		da->all = w;
		w->idle_next = da->idle;
		da->idle = w;
			da->n++;
	}
	if (pthread_create(&da->jobs, NULL, jobs_main, da) != 0) {
		daemon_fail(cx, "cannot start the validation thread");
		rc = RC_ERR;
		goto fail;
	}
	da->jobs_ok = 1;
	*out = da;
	return 0;
fail:
	daemon_acme_stop(da);
	return rc ? rc : RC_ERR;
}

struct acme *
daemon_acme_app(struct daemon_acme *da)
{
	return da->acme;
}

/* For the portal and the back office: no request snapshot (their
 * handlers may wait on other threads' writes within one request). */
int
daemon_acme_ra_get(void *da, struct ra **ra)
{
	struct worker *w;
	int rc;

	*ra = NULL;
	if ((rc = take(da, &w)) != 0)
		return rc;
	*ra = w->ra;
	return 0;
}

void
daemon_acme_ra_put(void *da, struct ra *ra)
{
	pool_put(da, ra);
}

void
daemon_acme_stop(struct daemon_acme *da)
{
	struct worker *w, *next;

	if (da == NULL)
		return;
	if (da->jobs_ok) {
		pthread_mutex_lock(&da->jlock);
		da->stop = 1;
		pthread_cond_signal(&da->jcond);
		pthread_mutex_unlock(&da->jlock);
		pthread_join(da->jobs, NULL);
	}
	for (w = da->all; w != NULL; w = next) {
		next = w->next;
		worker_free(w);
	}
	vpool_reap(da, 0, mono_s() + 1);	/* every one, all given back */
	free(da->vidle);
	if (da->cx && da->cx->ca)
		ca_set_group(da->cx->ca, NULL);
	store_group_close(da->group);
	ra_policy_free(da->policy);	/* after the workers' */
	val_caa_cache_release(da->vc.caa_cache);	/* after the workers' */
	acme_free(da->acme);
	pthread_cond_destroy(&da->jcond);
	pthread_mutex_destroy(&da->jlock);
	pthread_mutex_destroy(&da->lock);
	pthread_cond_destroy(&da->given_back);
	pthread_mutex_destroy(&da->make);
	pthread_mutex_destroy(&da->vlock);
	free(da->acct_prefix);
	free(da->blocked);
	free(da->overrides);
	free(da->anchor);
	free(da->caa_text);
	free(da);
}
