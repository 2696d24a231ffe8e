/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How `certdesk serve` follows an issuing CA rollover (`certdesk ca roll`,
 * run by another process on the same store) without a restart, as EJBCA
 * and step-ca (on its reload) switch to a new CA while they run.
 *
 * Every CA handle of serve (the request workers', the validation
 * worker's, the OCSP worker's and the context's own) shares one struct
 * ca_current, the issuing CA they issue from. The schedule thread checks
 * the store's active issuing CA every minute, before each check of the
 * HTTPS certificate and at once on SIGHUP (daemon_roll_check): one stored
 * row, compared with the one in use. When they differ, ca_follow() has
 * this process's signer load the new key (LOADKEY: from the key directory
 * or the token as at its start, and only with a certificate signed by the
 * root it holds), checks that it is the key of the stored certificate and
 * switches the handles; each takes the new CA up at the start of its next
 * issuance, so an issuance under way ends under the CA it began with. The
 * earlier CAs' keys stay in the signer for their CRLs and OCSP responses.
 *
 * When the new CA cannot be taken up (its key is in another key
 * directory, on a token this server was not given, or its certificate
 * does not verify under the root), serve issues from the CA it has, logs
 * why once per distinct reason, tries again at each check, and says so in
 * /metrics and on the admin's Certificate authority page
 * (daemon_roll_status()).
 *
 * Runs in the main certdesk process: the check on the schedule thread
 * (the one user of the context's store and CA once serve runs), the
 * status for any thread.
 */
#include "daemon/daemon_int.h"
#include "store/store.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct daemon_roll {
	struct ca_current *cur;
	pthread_mutex_t lock;	/* the fields below */
	char active[64];	/* the store's active issuing CA, last seen */
	char why[256];		/* why it is not taken up; "" when it is */
	time_t failing_since;
	uint64_t failures;
};

int
daemon_roll_new(struct daemon_ctx *cx)
{
	struct daemon_roll *r = xcalloc(1, sizeof(*r));

	(void)ca_current_new(&r->cur);
	pthread_mutex_init(&r->lock, NULL);
	cx->roll = r;
	cx->cac.current = r->cur;
	return 0;
}

void
daemon_roll_free(struct daemon_roll *r)
{
	if (r == NULL)
		return;
	ca_current_free(r->cur);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int
daemon_roll_check(struct daemon_ctx *cx)
{
	struct daemon_roll *r = cx->roll;
	struct ca_current_info was, now;
	struct store_issuer is;
	struct rc_detail d = {{0}};
	const char *why;
	int rc, said;

	if (r == NULL || cx->ca == NULL)
		return 0;
	ca_current_get(r->cur, &was);
	rc = ca_follow(cx->ca, &d);
	ca_current_get(r->cur, &now);
	if (rc >= 0) {
		pthread_mutex_lock(&r->lock);
		snprintf(r->active, sizeof(r->active), "%s", now.name);
		r->why[0] = '\0';
		r->failing_since = 0;
		pthread_mutex_unlock(&r->lock);
		if (rc == 1)
			log_info(LOG_CA, "issuing CA %s: new certificates come "
			    "from it from now on (a ca roll made it the active "
			    "one); %s, which issued them until now, keeps "
			    "signing CRLs and OCSP responses for its own",
			    now.name, was.name);
		return rc;
	}
	/* which CA it is, for the status, when the store says it */
	memset(&is, 0, sizeof(is));
	(void)store_issuer_get_active(cx->st, 0, &is);
	why = rc_detail_str(&d, rc);
	pthread_mutex_lock(&r->lock);
	if (is.name != NULL)
		snprintf(r->active, sizeof(r->active), "%s", is.name);
	said = strcmp(r->why, why) == 0;
	snprintf(r->why, sizeof(r->why), "%s", why);
	r->failures++;
	if (r->failing_since == 0)
		r->failing_since = time(NULL);
	pthread_mutex_unlock(&r->lock);
	if (!said)
		log_err(LOG_CA, "the active issuing CA%s%s is not taken up: "
		    "%s; this server issues from %s until it is (tried again "
		    "at each check and on SIGHUP)", is.name ? " " : "",
		    is.name ? is.name : "", why, now.name);
	store_issuer_clear(&is);
	return rc;
}

void
daemon_roll_status(struct daemon_roll *r, struct daemon_roll_status *out)
{
	memset(out, 0, sizeof(*out));
	ca_current_get(r->cur, &out->serving);
	pthread_mutex_lock(&r->lock);
	snprintf(out->active, sizeof(out->active), "%s", r->active[0] ?
	    r->active : out->serving.name);
	snprintf(out->why, sizeof(out->why), "%s", r->why);
	out->failing_since = r->failing_since;
	out->failures = r->failures;
	pthread_mutex_unlock(&r->lock);
}
