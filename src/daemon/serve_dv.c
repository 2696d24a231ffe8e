/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DV worker of `certdesk serve`: a thread that runs the domain
 * validation jobs of portal orders (ra_dv_jobs_run) about once a second:
 * the steps of automatic validation through our nameservers (add the
 * temporary record, wait until every server has it, check, remove it),
 * the periodic re-checks of the customers' own DNS records and files, the
 * expiry of names left pending and (every minute) the end of portal orders
 * nobody validated in time and the move of slots whose certificate ran
 * out to "expired", the removal of temporary records left
 * behind by a crash or restart, and the issuance of DV orders whose names
 * became valid. The jobs live in the database, so a restart loses none.
 *
 * Runs in the main certdesk process with its own store, CA, validation
 * context and ra (none of them may be shared between threads); the DNS
 * provider (val_dnsupd) is shared, it is thread-safe. Trusts the
 * configuration and the data directory.
 */
#include "daemon/daemon_int.h"
#include "ra/ra.h"
#include "store/store.h"
#include "util/log.h"
#include "util/xmalloc.h"
#include "validation/val.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DV_BATCH 16
#define DV_POLL_MS 1000
#define DV_MAX_CAA_IDS 16

struct daemon_dv {
	struct daemon_ctx *cx;
	struct store *st;
	struct ca *ca;
	struct val_ctx *val;
	struct ra *ra;
	char *portal_url, *anchor, *caa_text, *blocked;
	const char *caa_ids[DV_MAX_CAA_IDS + 1];

	pthread_t thr;
	int thr_ok;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
};

void
daemon_dv_ra_conf(const struct daemon_ctx *cx, struct ra_conf *rc)
{
	rc->dv_email_off = !cx->conf.dv_email;
	rc->dv_email_token_days = cx->conf.dv_email_token_days;
	/* 0 minutes in the configuration: no wait (0 in ra_conf selects the
	 * default) */
	rc->dv_email_resend_s = cx->conf.dv_email_resend_minutes > 0 ?
	    60L * cx->conf.dv_email_resend_minutes : -1;
	rc->dv_email_max_sends = cx->conf.dv_email_max_sends;
	rc->dv_retry_s = cx->conf.dv_retry_seconds;
	rc->trust_private = strcmp(cx->conf.policy_trust, "private") == 0;
	rc->mpic = cx->mpic;
}

/* ---- what the worker threads of serve share (daemon_int.h) --------------- */

char *
daemon_in_data(const struct daemon_ctx *cx, const char *p)
{
	if (p == NULL || p[0] == '\0')
		return NULL;
	if (p[0] == '/')
		return xstrdup(p);
	return xasprintf("%s/%s", cx->data, p);
}

void
daemon_val_conf(const struct daemon_ctx *cx, struct val_conf *vc,
    char **anchor, char **caa_text, const char **ids, size_t max)
{
	char *tok, *save = NULL;
	size_t n = 0;

	val_conf_defaults(vc);
	vc->http01_port = (uint16_t)cx->conf.val_http01_port;
	vc->tlsalpn01_port = (uint16_t)cx->conf.val_tlsalpn01_port;
	vc->resolver = cx->conf.val_resolver[0] ? cx->conf.val_resolver : NULL;
	*anchor = daemon_in_data(cx, cx->conf.val_trust_anchor);
	vc->trust_anchor = *anchor;
	vc->stub_zones = cx->conf.val_stub_zones;
	vc->caa_cache_s = (unsigned)cx->conf.val_caa_cache_s;
	vc->allow_private_addresses = cx->conf.val_allow_private ||
	    strcmp(cx->conf.policy_trust, "private") == 0;
	*caa_text = xstrdup(cx->conf.val_caa_identities);
	for (tok = strtok_r(*caa_text, " \t,", &save);
	    tok != NULL && n < max;
	    tok = strtok_r(NULL, " \t,", &save))
		ids[n++] = tok;
	ids[n] = NULL;
	vc->caa_identities = ids;
}

void
daemon_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

void
daemon_idle_wait(pthread_cond_t *cond, pthread_mutex_t *lock,
    const int *stop, unsigned ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	while (!*stop && pthread_cond_timedwait(cond, lock, &ts) != ETIMEDOUT)
		;
}

/* ---- the domain validation worker ---------------------------------------- */

static void *
dv_main(void *arg)
{
	struct daemon_dv *dv = arg;

	pthread_mutex_lock(&dv->lock);
	while (!dv->stop) {
		size_t ran = 0;

		pthread_mutex_unlock(&dv->lock);
		if (ra_dv_jobs_run(dv->ra, DV_BATCH, &ran) != 0)
			log_err(LOG_RA, "domain validation jobs: store error");
		pthread_mutex_lock(&dv->lock);
		if (ran < DV_BATCH && !dv->stop)
			daemon_idle_wait(&dv->cond, &dv->lock, &dv->stop,
			    DV_POLL_MS);
	}
	pthread_mutex_unlock(&dv->lock);
	return NULL;
}

int
daemon_dv_start(struct daemon_ctx *cx, const char *portal_url,
    struct daemon_dv **out)
{
	struct daemon_dv *dv = xcalloc(1, sizeof(*dv));
	struct store_conf sc = {cx->conf.store_backend, cx->db_path, 1};
	struct val_conf vc;
	struct ra_conf rconf;
	struct rc_detail d = {""};
	int rc;

	*out = NULL;
	dv->cx = cx;
	pthread_mutex_init(&dv->lock, NULL);
	daemon_cond_init(&dv->cond);
	dv->portal_url = xstrdup(portal_url ? portal_url : "");
	if ((rc = store_open(&sc, &dv->st)) != 0) {
		daemon_fail(cx, "DV worker: store: %s", rc_str(rc));
		goto fail;
	}
	if ((rc = ca_open(&cx->cac, dv->st, cx->sg, cx->kc, &dv->ca)) != 0) {
		daemon_fail(cx, "DV worker: CA: %s", rc_str(rc));
		goto fail;
	}
	/* the same validation settings as the ACME workers */
	daemon_val_conf(cx, &vc, &dv->anchor, &dv->caa_text, dv->caa_ids,
	    DV_MAX_CAA_IDS);
	if ((rc = val_ctx_open(&vc, &dv->val, &d)) != 0) {
		daemon_fail(cx, "DV worker: [validation]: %s",
		    rc_detail_str(&d, rc));
		goto fail;
	}
	memset(&rconf, 0, sizeof(rconf));
	rconf.account_url_prefix = "-";	/* no accounts are touched */
	rconf.keycheck = cx->kc;
	dv->blocked = daemon_in_data(cx, cx->conf.policy_blocked_names);
	rconf.blocked_names = dv->blocked;
	rconf.now = cx->cac.now;
	rconf.portal_url = dv->portal_url;
	daemon_dv_ra_conf(cx, &rconf);
	if ((rc = ra_open(&rconf, dv->st, dv->ca, dv->val, &dv->ra,
	    &d)) != 0) {
		daemon_fail(cx, "DV worker: %s", rc_detail_str(&d, rc));
		goto fail;
	}
	ra_set_dnsupd(dv->ra, cx->dnsupd);
	if (pthread_create(&dv->thr, NULL, dv_main, dv) != 0) {
		daemon_fail(cx, "cannot start the domain validation thread");
		rc = RC_ERR;
		goto fail;
	}
	dv->thr_ok = 1;
	log_info(LOG_RA, "domain validation worker started (%s)",
	    cx->dnsupd != NULL ? "automatic DNS through our nameservers" :
	    "no DNS provider: [dnsupdate] server is empty");
	*out = dv;
	return 0;
fail:
	daemon_dv_stop(dv);
	return rc ? rc : RC_ERR;
}

void
daemon_dv_stop(struct daemon_dv *dv)
{
	if (dv == NULL)
		return;
	if (dv->thr_ok) {
		pthread_mutex_lock(&dv->lock);
		dv->stop = 1;
		pthread_cond_signal(&dv->cond);
		pthread_mutex_unlock(&dv->lock);
		pthread_join(dv->thr, NULL);
	}
	ra_free(dv->ra);
	val_ctx_free(dv->val);
	ca_free(dv->ca);
	store_close(dv->st);
	pthread_cond_destroy(&dv->cond);
	pthread_mutex_destroy(&dv->lock);
	free(dv->portal_url);
	free(dv->anchor);
	free(dv->caa_text);
	free(dv->blocked);
	free(dv);
}
