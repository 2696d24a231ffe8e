/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `certdesk serve`'s /metrics (http.metrics_listen, or --metrics-listen):
 * the Prometheus text exposition format (version 0.0.4), on a plain-HTTP
 * listener of its own, which belongs on loopback or an internal network.
 *
 * What happened is counted from the audit log, where every issuance,
 * revocation and validation of every process on the store is written once
 * (so a CLI revocation counts too, and nothing on the request path pays
 * for a counter): each scrape reads the entries after the last one it
 * counted, from the head the log had when serve started. The HTTP replies
 * are this process's, by listener and status class. How things stand is
 * read at each scrape: the signer, the queues (mail, validations, back
 * office cases), the CRL each CA must renew first, the issuing CA serve
 * issues from (its end, and whether taking up a `ca roll` fails),
 * the CT log list; the HTTPS service certificate from what serve keeps
 * of it in memory (tls.c). One scrape at a time, on the listener's one thread,
 * with a store handle of its own.
 */
#include "ca/ca.h"
#include "daemon/daemon_int.h"
#include "http/http.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef CERTDESK_VERSION
#define CERTDESK_VERSION "0"
#endif

#define TALLY_BATCH 10000	/* audit entries read per statement */
#define MAX_KEYS 256		/* distinct label values kept per family */

/* A counter family with one label value per counter (a), or two (a, b);
 * values past MAX_KEYS are counted as "other". */
struct family {
	struct {
		char *a, *b;	/* b: NULL for one label */
		uint64_t n;
	} v[MAX_KEYS];
	size_t n;
	uint64_t other;
};

struct daemon_metrics {
	struct daemon_ctx *cx;
	struct store *st;
	struct http_server *srv;
	struct http_server *watch[2];	/* https, http: borrowed, may be NULL */
	struct daemon_svc *svc;		/* borrowed; NULL without HTTPS */
	pthread_mutex_t lock;
	int64_t cursor;			/* audit seq counted up to */
	size_t batch;			/* entries the last tally read */
	time_t started;
	struct family actions, issued, revoked, validations;
};

static void
fam_add(struct family *f, const char *a, const char *b)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].a, a) == 0 && (b == NULL ||
		    strcmp(f->v[i].b, b) == 0)) {
			f->v[i].n++;
			return;
		}
	if (f->n == MAX_KEYS) {
		f->other++;
		return;
	}
	f->v[f->n].a = xstrdup(a);
	f->v[f->n].b = b != NULL ? xstrdup(b) : NULL;
	f->v[f->n++].n = 1;
}

static void
fam_free(struct family *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].a);
		free(f->v[i].b);
	}
	f->n = 0;
}

static int
tally(const struct store_audit_fact *f, void *arg)
{
	struct daemon_metrics *m = arg;
	const char *method = f->method ? f->method : "unknown";

	m->batch++;
	fam_add(&m->actions, f->action, NULL);
	if (strcmp(f->action, "cert.issue") == 0)
		fam_add(&m->issued, f->profile ? f->profile : "unknown", NULL);
	else if (strcmp(f->action, "cert.revoke") == 0)
		fam_add(&m->revoked, f->reason ? f->reason : "unknown", NULL);
	else if (strcmp(f->action, "validation.success") == 0)
		fam_add(&m->validations, method, "valid");
	else if (strcmp(f->action, "validation.failure") == 0)
		fam_add(&m->validations, method, "invalid");
	return 0;
}

/* A label value in the exposition format: \, " and newline escaped. */
static void
put_label(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			buf_printf(b, "\\%c", *v);
		else if (*v == '\n')
			buf_printf(b, "\\n");
		else
			buf_printf(b, "%c", *v);
	}
}

static void
head(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
gauge(struct buf *b, const char *name, const char *help, double v)
{
	head(b, name, "gauge", help);
	buf_printf(b, "%s %.17g\n", name, v);
}

/* One counter of a family: name{label="a"[,label2="b"]} n. */
static void
put_counter(struct buf *b, const char *name, const char *label,
    const char *a, const char *label2, const char *bv, uint64_t n)
{
	buf_printf(b, "%s{%s=\"", name, label);
	put_label(b, a);
	if (label2 != NULL) {
		buf_printf(b, "\",%s=\"", label2);
		put_label(b, bv);
	}
	buf_printf(b, "\"} %llu\n", (unsigned long long)n);
}

/* A family's counters; label2: the second label's name, or NULL. */
static void
put_family(struct buf *b, const struct family *f, const char *name,
    const char *help, const char *label, const char *label2)
{
	head(b, name, "counter", help);
	for (size_t i = 0; i < f->n; i++)
		put_counter(b, name, label, f->v[i].a, label2, f->v[i].b,
		    f->v[i].n);
	if (f->other > 0)
		put_counter(b, name, label, "other", label2, "other",
		    f->other);
}

static void
put_replies(struct buf *b, struct daemon_metrics *m)
{
	static const char *const names[2] = {"https", "http"};
	uint64_t r[5];

	head(b, "certdesk_http_responses_total", "counter",
	    "HTTP responses of this process, by listener and status class.");
	for (int l = 0; l < 2; l++) {
		if (m->watch[l] == NULL)
			continue;
		http_server_replies(m->watch[l], r);
		for (int c = 0; c < 5; c++)
			buf_printf(b, "certdesk_http_responses_total{listener="
			    "\"%s\",code=\"%dxx\"} %llu\n", names[l], c + 1,
			    (unsigned long long)r[c]);
	}
}

/* The HTTPS service certificate: its end, and whether re-issuing it
 * works, for an alert before it expires. */
static void
put_service_cert(struct buf *b, struct daemon_svc *svc)
{
	struct daemon_svc_status s;

	daemon_svc_status(svc, &s);
	gauge(b, "certdesk_service_cert_not_after_timestamp_seconds",
	    "The notAfter of the HTTPS service certificate new connections "
	    "get; it is re-issued when two thirds of its life are over.",
	    (double)s.not_after);
	head(b, "certdesk_service_cert_renewal_failures_total", "counter",
	    "Checks of the HTTPS service certificate that failed to re-issue "
	    "or load the one due (see the log); the one in use stays.");
	buf_printf(b, "certdesk_service_cert_renewal_failures_total %llu\n",
	    (unsigned long long)s.failures);
	gauge(b, "certdesk_service_cert_last_success_timestamp_seconds",
	    "When serve's start or a check of the HTTPS service certificate "
	    "last ended with one that may be served (the one in use, or a "
	    "new one); checks run every http.service_cert_check_seconds.",
	    (double)s.last_ok);
}

/* Which issuing CA this serve issues from, and whether taking up the
 * store's active one (after a `ca roll`) fails (serve_roll.c). */
static void
put_issuing(struct buf *b, struct daemon_roll *r)
{
	struct daemon_roll_status rs;

	daemon_roll_status(r, &rs);
	gauge(b, "certdesk_issuing_ca_not_after_timestamp_seconds",
	    "The notAfter of the issuing CA this serve issues from.",
	    (double)rs.serving.not_after);
	gauge(b, "certdesk_issuing_ca_last_issuance_timestamp_seconds",
	    "The last moment the issuing CA this serve issues from can issue "
	    "a full-lifetime certificate; roll it over (certdesk ca roll) "
	    "before.", (double)rs.serving.last_issue);
	head(b, "certdesk_issuing_ca_serving", "gauge", "1 for the issuing "
	    "CA this serve issues from; it follows a ca roll within a "
	    "minute.");
	buf_printf(b, "certdesk_issuing_ca_serving{ca=\"");
	put_label(b, rs.serving.name);
	buf_printf(b, "\"} 1\n");
	gauge(b, "certdesk_issuing_ca_switch_failing", "1 while the store's "
	    "active issuing CA cannot be taken up here (see the log), so this "
	    "serve issues from an earlier one; else 0.",
	    rs.why[0] != '\0' ? 1 : 0);
	head(b, "certdesk_issuing_ca_switch_failures_total", "counter",
	    "Checks that failed to take up the store's active issuing CA "
	    "after a ca roll.");
	buf_printf(b, "certdesk_issuing_ca_switch_failures_total %llu\n",
	    (unsigned long long)rs.failures);
}

static int
crl_row(int64_t issuer_id, const char *name, time_t next_update, void *arg)
{
	struct buf *b = arg;

	(void)issuer_id;
	buf_printf(b, "certdesk_crl_next_update_timestamp_seconds{ca=\"");
	put_label(b, name);
	buf_printf(b, "\"} %lld\n", (long long)next_update);
	return 0;
}

/* Counts the audit entries since the last scrape. */
static int
catch_up(struct daemon_metrics *m)
{
	int rc;

	do {
		m->batch = 0;
		rc = store_audit_tally(m->st, m->cursor, TALLY_BATCH, tally, m,
		    &m->cursor);
	} while (rc == 0 && m->batch == TALLY_BATCH);
	return rc;
}

static int
render(struct daemon_metrics *m, struct buf *b)
{
	struct daemon_ctx *cx = m->cx;
	struct store_gauges g;
	struct ca_ct_info ct;
	char why[160];
	int rc;

	if ((rc = catch_up(m)) != 0 || (rc = store_gauges(m->st, &g)) != 0)
		return rc;
	head(b, "certdesk_build_info", "gauge", "The certdesk version.");
	buf_printf(b, "certdesk_build_info{version=\"%s\"} 1\n",
	    CERTDESK_VERSION);
	gauge(b, "certdesk_start_time_seconds", "When this serve started "
	    "(Unix time); the counters count from then.", (double)m->started);
	gauge(b, "certdesk_signer_up", "1 while the signer process runs (see "
	    "/healthz for whether its key store can sign).",
	    signer_running(cx->sg, why, sizeof(why)) ? 1 : 0);
	put_family(b, &m->issued, "certdesk_certificates_issued_total",
	    "Certificates issued, by profile (from the audit log).",
	    "profile", NULL);
	put_family(b, &m->revoked, "certdesk_revocations_total",
	    "Certificates revoked, by RFC 5280 reason (from the audit log).",
	    "reason", NULL);
	put_family(b, &m->validations, "certdesk_validations_total",
	    "Domain validations concluded, by method and outcome (from the "
	    "audit log).", "method", "outcome");
	put_family(b, &m->actions, "certdesk_audit_events_total",
	    "Audit log entries, by action.", "action", NULL);
	put_replies(b, m);
	gauge(b, "certdesk_audit_log_head", "Sequence number of the newest "
	    "audit log entry.", (double)g.audit_seq);
	gauge(b, "certdesk_mail_waiting", "Mail not delivered yet.",
	    (double)g.mail_waiting);
	gauge(b, "certdesk_mail_failing", "Waiting mail whose delivery has "
	    "failed at least once.", (double)g.mail_failing);
	gauge(b, "certdesk_mail_oldest_waiting_timestamp_seconds", "When the "
	    "oldest waiting mail was queued (0: none).",
	    (double)g.mail_oldest);
	gauge(b, "certdesk_validations_in_progress", "ACME challenges being "
	    "validated.", (double)g.validations_running);
	gauge(b, "certdesk_org_cases_open", "Organisation validation cases "
	    "not decided yet (back office).", (double)g.org_cases_open);
	gauge(b, "certdesk_org_case_oldest_timestamp_seconds", "When the "
	    "oldest undecided case was opened (0: none).",
	    (double)g.org_case_oldest);
	gauge(b, "certdesk_blocked_keys", "Keys known to be compromised.",
	    (double)g.blocked_keys);
	head(b, "certdesk_crl_next_update_timestamp_seconds", "gauge",
	    "Per CA, the earliest nextUpdate of its newest CRLs: the CRL to "
	    "renew first.");
	if ((rc = store_crl_deadlines(m->st, crl_row, b)) != 0)
		return rc;
	if (cx->roll != NULL)
		put_issuing(b, cx->roll);
	if (m->svc != NULL)
		put_service_cert(b, m->svc);
	if (cx->ct != NULL) {
		ca_ct_info(cx->ct, &ct);
		gauge(b, "certdesk_ct_logs_usable", "Usable CT logs in the "
		    "list in use.", (double)ct.nlogs);
		gauge(b, "certdesk_ct_log_list_timestamp_seconds",
		    "log_list_timestamp of the CT log list in use.",
		    (double)ct.list_time);
	}
	return 0;
}

static int
on_metrics(struct http_req *r, void *app)
{
	struct daemon_metrics *m = app;
	struct buf b;
	int rc;

	buf_init(&b, 1 << 20);
	pthread_mutex_lock(&m->lock);
	rc = render(m, &b);
	pthread_mutex_unlock(&m->lock);
	if (rc != 0) {
		log_err(LOG_MAIN, "metrics: %s", rc_str(rc));
		buf_free(&b);
		return http_reply_text(r, 500, "metrics unavailable: %s\n",
		    rc_str(rc));
	}
	rc = http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8",
	    b.data, b.len);
	buf_free(&b);
	return rc;
}

static const struct http_route metrics_routes[] = {
	{"/metrics", HTTP_GET, on_metrics},
};

int
daemon_metrics_start(struct daemon_ctx *cx, const struct sockaddr *addr,
    socklen_t addrlen, int listen_fd, struct http_server *https,
    struct http_server *http, struct daemon_svc *svc,
    struct daemon_metrics **out, int *port)
{
	struct store_conf sc = {cx->conf.store_backend, cx->db_path, 1};
	struct daemon_metrics *m = xcalloc(1, sizeof(*m));
	struct store_gauges g;
	struct rc_detail d = {{0}};
	struct http_conf hc;

	*out = NULL;
	m->cx = cx;
	m->watch[0] = https;
	m->watch[1] = http;
	m->svc = svc;
	m->started = time(NULL);
	pthread_mutex_init(&m->lock, NULL);
	if (store_open(&sc, &m->st) != 0 || store_gauges(m->st, &g) != 0) {
		if (listen_fd >= 0)
			close(listen_fd);
		daemon_fail(cx, "metrics: cannot open the store");
		daemon_metrics_stop(m);
		return DAEMON_EXIT_FAIL;
	}
	m->cursor = g.audit_seq;
	memset(&hc, 0, sizeof(hc));
	hc.addr = addr;
	hc.addrlen = addrlen;
	hc.listen_fd = listen_fd;
	hc.threads = 1;
	hc.conn_limit = 16;
	hc.per_ip_limit = 8;
	if (http_server_start(&hc, metrics_routes, 1, m, &m->srv, &d) != 0) {
		daemon_fail(cx, "metrics: cannot listen: %s",
		    rc_detail_str(&d, RC_IO));
		daemon_metrics_stop(m);
		return DAEMON_EXIT_FAIL;
	}
	*port = http_server_port(m->srv);
	*out = m;
	return DAEMON_EXIT_OK;
}

void
daemon_metrics_stop(struct daemon_metrics *m)
{
	if (m == NULL)
		return;
	http_server_stop(m->srv);
	store_close(m->st);
	fam_free(&m->actions);
	fam_free(&m->issued);
	fam_free(&m->revoked);
	fam_free(&m->validations);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
