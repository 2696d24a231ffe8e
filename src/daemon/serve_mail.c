/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mail worker of `certdesk serve`: a thread that delivers the store's
 * outbox (mail_outbox) through the configured SMTP server, or into the
 * spool folder DATA/mail/spool when none is configured, and queues the
 * expiry reminders of portal certificates once an hour. A failed delivery
 * stays in the outbox with its reason and is tried again after
 * [mail] retry_seconds, doubling up to 6 hours, so neither a restart nor an
 * SMTP server that is down loses mail. A mail the server refused for good
 * (a 5xx reply, RFC 5321 §4.2.1: no such mailbox, ...) is marked bounced
 * and never tried again; the ra shows the bounce to the customer. Mail is queued by the ra (in
 * serve and in admin commands), so the worker polls the outbox.
 *
 * Runs in the main certdesk process with its own store handle. Trusts the
 * configuration and the data directory; the SMTP password is read from
 * [mail] password_file and never logged.
 */
#include "daemon/daemon_int.h"
#include "mail/mail.h"
#include "ra/ra.h"
#include "store/store.h"
#include "util/log.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAIL_BATCH 16
#define MAIL_POLL_MS 1000
#define MAIL_MAX_BACKOFF (6 * 3600)
#define REMIND_EVERY 3600

struct daemon_mail {
	struct daemon_ctx *cx;
	struct store *st;
	struct ra *ra;
	struct mail_conf mc;
	char *spool, *portal_url;
	struct sec *password;	/* [mail] password_file, NUL-terminated */
	time_t last_remind;
	int wal_dirty;		/* a mail's text replaced: WAL to truncate */

	pthread_t thr;
	int thr_ok;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stop;
};

int
daemon_mail_conf(struct daemon_ctx *cx, struct mail_conf *mc, char **spool,
    struct sec **password)
{
	char *path;
	int rc = 0;

	memset(mc, 0, sizeof(*mc));
	*spool = xasprintf("%s/mail/spool", cx->data);
	*password = NULL;
	mc->smtp_url = cx->conf.mail_smtp_url;
	mc->from = cx->conf.mail_from;
	mc->starttls = cx->conf.mail_starttls;
	mc->user = cx->conf.mail_user;
	mc->spool_dir = *spool;
	mc->timeout_s = 30;
	if (cx->conf.mail_password_file[0] == '\0')
		return 0;
	path = cx->conf.mail_password_file[0] == '/' ?
	    xstrdup(cx->conf.mail_password_file) :
	    xasprintf("%s/%s", cx->data, cx->conf.mail_password_file);
	if (sec_read_file(path, 4096, 0, password, NULL, NULL) != 0) {
		daemon_fail(cx, "cannot read [mail] password_file %s", path);
		rc = RC_IO;
	} else {
		char *p = (char *)(*password)->data;

		/* the first line; the rest stays in the buffer, wiped with
		 * it */
		p[strcspn(p, "\r\n")] = '\0';
		mc->password = p;
	}
	free(path);
	return rc;
}

/*
 * What the outbox keeps of mail m once it has left for good (delivered or
 * bounced): a new text without the confirmation token of a validation
 * mail, or NULL to keep it as it is. The token is meant to be with the
 * recipient alone; the store has its SHA-256 (dv_email_tokens), and an
 * admin, a copy of the database or a backup must not be able to confirm
 * with it.
 *
 * Mail into the spool folder (no [mail] smtp_url, the demo) keeps its
 * token: the worker spools it within a second of being queued, and the
 * admin's Outgoing mail page is where README sends the demo user to
 * follow the link. The .eml file next to the database in the data
 * directory holds the same link in plain text anyway.
 */
static char *
kept_text(const struct daemon_mail *dm, const struct store_mail *m)
{
	if (dm->mc.smtp_url == NULL || dm->mc.smtp_url[0] == '\0')
		return NULL;
	return ra_dv_email_mask(m->kind, m->body, RA_DV_EMAIL_GONE);
}

/* Delivers what is due; *sent gets how many went out. */
static int
deliver_due(struct daemon_mail *dm, size_t *sent)
{
	struct store_mail *v = NULL;
	size_t n = 0;
	time_t now = time(NULL);
	int rc;

	*sent = 0;
	rc = store_mail_due(dm->st, now, MAIL_BATCH, &v, &n);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct rc_detail d = {""};
		int e = mail_send(&dm->mc, v[i].to_addr, v[i].subject,
		    v[i].body, &d);
		char *kept = e == 0 || e == RC_REFUSED ?
		    kept_text(dm, &v[i]) : NULL;

		if (kept != NULL)
			dm->wal_dirty = 1;
		if (e == 0) {
			if (store_mail_sent(dm->st, v[i].id, time(NULL),
			    kept) != 0)
				log_err(LOG_MAIL, "mail %lld: delivered, but "
				    "not marked so", (long long)v[i].id);
			log_info(LOG_MAIL, "mail %lld (%s) delivered to %s",
			    (long long)v[i].id, v[i].kind ? v[i].kind : "-",
			    v[i].to_addr);
			(*sent)++;
		} else if (e == RC_REFUSED) {
			/* RFC 5321 §4.2.1: a 5xx is permanent */
			store_mail_bounced(dm->st, v[i].id,
			    rc_detail_str(&d, e), time(NULL), kept);
			log_warn(LOG_MAIL, "mail %lld (%s) to %s bounced, "
			    "not tried again: %s", (long long)v[i].id,
			    v[i].kind ? v[i].kind : "-", v[i].to_addr,
			    rc_detail_str(&d, e));
		} else {
			long delay = dm->cx->conf.mail_retry_seconds;

			for (int k = 0; k < v[i].attempts && delay <
			    MAIL_MAX_BACKOFF; k++)
				delay *= 2;
			if (delay > MAIL_MAX_BACKOFF)
				delay = MAIL_MAX_BACKOFF;
			store_mail_failed(dm->st, v[i].id,
			    rc_detail_str(&d, e), time(NULL) + delay);
			log_warn(LOG_MAIL, "mail %lld to %s not delivered "
			    "(attempt %d, next in %ld s): %s",
			    (long long)v[i].id, v[i].to_addr,
			    v[i].attempts + 1, delay, rc_detail_str(&d, e));
		}
		if (kept != NULL) {
			sec_wipe(kept, strlen(kept));
			free(kept);
		}
		sec_wipe(v[i].body, strlen(v[i].body));
	}
	store_mail_list_free(v, n);
	/* the text before it was replaced is still in the WAL's frames:
	 * into the database (where secure_delete zeroed it) and gone */
	if (dm->wal_dirty) {
		rc = store_wal_truncate(dm->st);
		if (rc == 0)
			dm->wal_dirty = 0;
		else if (rc != RC_CONFLICT)
			log_err(LOG_MAIL, "outbox: WAL checkpoint: %s",
			    rc_str(rc));
	}
	return 0;
}

static void *
mail_main(void *arg)
{
	struct daemon_mail *dm = arg;

	pthread_mutex_lock(&dm->lock);
	while (!dm->stop) {
		size_t sent = 0, queued = 0;
		time_t now = time(NULL);

		pthread_mutex_unlock(&dm->lock);
		if (now - dm->last_remind >= REMIND_EVERY) {
			dm->last_remind = now;
			if (ra_mail_reminders(dm->ra, &queued) != 0)
				log_err(LOG_MAIL, "expiry reminders failed");
			else if (queued > 0)
				log_info(LOG_MAIL, "%zu expiry reminder(s) "
				    "queued", queued);
		}
		if (deliver_due(dm, &sent) != 0)
			log_err(LOG_MAIL, "outbox: store error");
		pthread_mutex_lock(&dm->lock);
		if (sent < MAIL_BATCH && !dm->stop) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += MAIL_POLL_MS / 1000;
			while (!dm->stop && pthread_cond_timedwait(&dm->cond,
			    &dm->lock, &ts) != ETIMEDOUT)
				;
		}
	}
	pthread_mutex_unlock(&dm->lock);
	return NULL;
}

int
daemon_mail_start(struct daemon_ctx *cx, const char *portal_url,
    struct daemon_mail **out)
{
	struct daemon_mail *dm = xcalloc(1, sizeof(*dm));
	struct store_conf sc = {cx->conf.store_backend, cx->db_path, 1};
	struct ra_conf rconf;
	struct rc_detail d = {""};
	pthread_condattr_t attr;
	int rc;

	*out = NULL;
	dm->cx = cx;
	pthread_mutex_init(&dm->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&dm->cond, &attr);
	pthread_condattr_destroy(&attr);
	dm->portal_url = xstrdup(portal_url ? portal_url : "");
	rc = daemon_mail_conf(cx, &dm->mc, &dm->spool, &dm->password);
	if (rc != 0)
		goto fail;
	if ((rc = store_open(&sc, &dm->st)) != 0) {
		daemon_fail(cx, "mail worker: store: %s", rc_str(rc));
		goto fail;
	}
	memset(&rconf, 0, sizeof(rconf));
	rconf.account_url_prefix = "-";	/* no accounts are touched */
	rconf.now = cx->cac.now;
	rconf.portal_url = dm->portal_url;
	if ((rc = ra_open(&rconf, dm->st, NULL, NULL, &dm->ra,
	    &d)) != 0) {
		daemon_fail(cx, "mail worker: %s", rc_detail_str(&d, rc));
		goto fail;
	}
	if (pthread_create(&dm->thr, NULL, mail_main, dm) != 0) {
		daemon_fail(cx, "cannot start the mail thread");
		rc = RC_ERR;
		goto fail;
	}
	dm->thr_ok = 1;
	if (dm->mc.smtp_url[0])
		log_info(LOG_MAIL, "outgoing mail through %s",
		    dm->mc.smtp_url);
	else
		log_info(LOG_MAIL, "outgoing mail to the spool folder %s "
		    "(no [mail] smtp_url)", dm->spool);
	*out = dm;
	return 0;
fail:
	daemon_mail_stop(dm);
	return rc ? rc : RC_ERR;
}

void
daemon_mail_stop(struct daemon_mail *dm)
{
	if (dm == NULL)
		return;
	if (dm->thr_ok) {
		pthread_mutex_lock(&dm->lock);
		dm->stop = 1;
		pthread_cond_signal(&dm->cond);
		pthread_mutex_unlock(&dm->lock);
		pthread_join(dm->thr, NULL);
	}
	ra_free(dm->ra);
	store_close(dm->st);
	pthread_cond_destroy(&dm->cond);
	pthread_mutex_destroy(&dm->lock);
	sec_free(dm->password);
	free(dm->spool);
	free(dm->portal_url);
	free(dm);
}
