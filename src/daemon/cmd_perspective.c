/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `certdesk perspective`: a remote perspective for multi-perspective
 * issuance corroboration (BR 3.2.2.9). Run on other networks than the CA
 * (the BR want them in distinct regions), each answers POST
 * /perspective/v1/check: it runs the validation or CAA check the CA's
 * request names with its own resolver and network, and says what it
 * found (validation/mpic.c has the wire, authenticated both ways with
 * this perspective's key, which `certdesk ca perspective-key` derives from
 * the CA's). It holds no CA key and no database; it keeps nothing between
 * requests.
 *
 * Plain HTTP on --listen: put it on a private network or behind TLS. Stops
 * on SIGINT or SIGTERM.
 */
#include "daemon/daemon_int.h"
#include "http/http.h"
#include "util/ipaddr.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/sec.h"
#include "util/xmalloc.h"
#include "validation/val.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_REQUEST (64 * 1024)

/*
 * The requests of the last two windows, by their MAC (one per body, and
 * every body has a nonce of its own): a request is good for 60 s either
 * way of this clock, and a copy replayed within that time would make the
 * perspective resolve and fetch again for whoever holds it. Two
 * generations, the older dropped every REPLAY_WINDOW s, so that each MAC
 * is kept for 120 to 240 s.
 */
#define REPLAY_SLOTS 16384
#define REPLAY_WINDOW 120
#define REPLAY_KEY 24		/* MAC characters kept: 144 bits */

struct seen {
	pthread_mutex_t lock;
	time_t since;		/* when the current generation began */
	char (*gen[2])[REPLAY_KEY];	/* [0] current, [1] older; an empty
					 * slot starts with NUL */
	size_t n;		/* slots used in the current one */
};

struct persp {
	struct val_conf vc;
	struct sec *key;
	const char *name;
	struct seen seen;
};

static size_t
seen_slot(const char (*t)[REPLAY_KEY], const char *k)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < REPLAY_KEY; i++)
		h = (h ^ (uint8_t)k[i]) * 16777619u;
	for (i = h % REPLAY_SLOTS; t[i][0] != '\0' &&
	    memcmp(t[i], k, REPLAY_KEY) != 0; i = (i + 1) % REPLAY_SLOTS)
		;
	return i;
}

static void
seen_free(struct seen *s)
{
	free(s->gen[0]);
	free(s->gen[1]);
	pthread_mutex_destroy(&s->lock);
}

/* 0 when the MAC mh is new (it is kept), 1 when it was seen, -1 when the
 * current generation is full (more than REPLAY_SLOTS * 3 / 4 requests in
 * REPLAY_WINDOW seconds). */
static int
seen_add(struct seen *s, const char *mh, time_t now)
{
	char k[REPLAY_KEY];
	size_t i = 0;
	int rc = 0;

	memset(k, 0, sizeof(k));
	memcpy(k, mh, strnlen(mh, sizeof(k)));
	pthread_mutex_lock(&s->lock);
	if (now - s->since >= REPLAY_WINDOW || now < s->since) {
		char (*old)[REPLAY_KEY] = s->gen[1];

		memset(old, 0, REPLAY_SLOTS * sizeof(*old));
		if (now - s->since >= 2 * REPLAY_WINDOW || now < s->since)
			memset(s->gen[0], 0, REPLAY_SLOTS * sizeof(*old));
		s->gen[1] = s->gen[0];
		s->gen[0] = old;
		s->since = now;
		s->n = 0;
	}
	if (s->gen[1][seen_slot(s->gen[1], k)][0] != '\0' ||
	    s->gen[0][(i = seen_slot(s->gen[0], k))][0] != '\0')
		rc = 1;
	else if (s->n >= REPLAY_SLOTS * 3 / 4)
		rc = -1;
	else {
		memcpy(s->gen[0][i], k, REPLAY_KEY);
		s->n++;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int
on_check(struct http_req *r, void *app)
{
	struct persp *p = app;
	const char *mh = http_req_header(r, "X-Certdesk-Mac");
	const uint8_t *body;
	char *reply = NULL, mac[48], why[160];
	size_t len;
	int rc;

	body = http_req_body(r, &len);
	/* nothing is resolved or fetched for a request that is not ours */
	if (!val_mpic_authentic(p->key, body, len, mh)) {
		log_warn(LOG_MAIN, "perspective: a request without a valid "
		    "MAC");
		return http_reply_text(r, 401, "request MAC missing or wrong");
	}
	rc = seen_add(&p->seen, mh, time(NULL));
	if (rc != 0) {
		log_warn(LOG_MAIN, "perspective: %s", rc > 0 ? "a request "
		    "seen before (replayed)" : "too many requests");
		return rc > 0 ? http_reply_text(r, 409, "request seen "
		    "before") : http_reply_text(r, 503, "too many requests");
	}
	rc = val_mpic_handle(&p->vc, p->key, p->name, body, len, mh,
	    time(NULL), &reply, mac, why, sizeof(why));
	if (rc == RC_ERR) {
		log_err(LOG_MAIN, "perspective: %s", why);
		return http_reply_text(r, 500, "%s", why);
	}
	if (rc != 0) {
		log_warn(LOG_MAIN, "perspective: refused: %s", why);
		return http_reply_text(r, rc == RC_UNAUTH ? 401 : 400, "%s",
		    why);
	}
	(void)http_add_header(r, "X-Certdesk-Mac", mac);
	(void)http_add_header(r, "Cache-Control", "no-store");
	rc = http_reply(r, 200, "application/json", reply, strlen(reply));
	free(reply);
	return rc;
}

static const struct http_route routes[] = {
	{"/perspective/v1/check", HTTP_POST, on_check},
};

int
daemon_cmd_perspective(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *listen = NULL, *key_file = NULL, *name = "remote";
	const char *resolver = NULL, *h01 = NULL, *alpn = NULL, *anchor = NULL;
	const char *allow_from = NULL;
	int allow_private = 0;
	const struct daemon_opt opts[] = {
		{"--listen", DAEMON_OPT_STR, &listen, "ADDR:PORT", 1,
		    "where to answer the CA (plain HTTP)"},
		{"--key-file", DAEMON_OPT_STR, &key_file, "FILE", 1,
		    "this perspective's key, from 'certdesk ca "
		    "perspective-key --url URL' on the CA (mode 600)"},
		{"--name", DAEMON_OPT_STR, &name, "NAME", 0,
		    "this perspective's name in the evidence (default remote)"},
		{"--resolver", DAEMON_OPT_STR, &resolver, "ADDR:PORT", 0,
		    "DNS server to forward to (default: full recursion)"},
		{"--trust-anchor", DAEMON_OPT_STR, &anchor, "FILE", 0,
		    "DNSSEC trust anchor (default: the root's)"},
		{"--http01-port", DAEMON_OPT_STR, &h01, "N", 0,
		    "port http-01 is validated on (default 80)"},
		{"--tlsalpn01-port", DAEMON_OPT_STR, &alpn, "N", 0,
		    "port tls-alpn-01 is validated on (default 443)"},
		{"--allow-from", DAEMON_OPT_STR, &allow_from, "NETS", 0,
		    "the CA's addresses, e.g. \"192.0.2.10 2001:db8::/64\": "
		    "connections from others are closed at once (default: "
		    "any; they get 401)"},
		{"--allow-private", DAEMON_OPT_FLAG, &allow_private, NULL, 0,
		    "keep loopback and private addresses (tests, private PKI)"},
	};
	struct persp p;
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct http_conf hc;
	struct http_server *srv = NULL;
	struct rc_detail d = {""};
	char why[200];
	sigset_t set;
	int done, rc, sig;

	rc = daemon_opts(cx, opts, sizeof(opts) / sizeof(opts[0]), argc, argv,
	    NULL, 0, NULL, &done);
	if (done)
		return rc;
	memset(&p, 0, sizeof(p));
	val_conf_defaults(&p.vc);
	if (daemon_parse_listen(listen, &ss, &sslen) != 0) {
		daemon_usage(cx, "--listen: '%.64s' is not ADDR:PORT", listen);
		return DAEMON_EXIT_USAGE;
	}
	for (int i = 0; i < 2; i++) {
		const char *v = i == 0 ? h01 : alpn;
		char *end;
		long port;

		if (v == NULL)
			continue;
		port = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || port < 1 || port > 65535) {
			daemon_usage(cx, "%s: '%.16s' is not a port",
			    i == 0 ? "--http01-port" : "--tlsalpn01-port", v);
			return DAEMON_EXIT_USAGE;
		}
		if (i == 0)
			p.vc.http01_port = (uint16_t)port;
		else
			p.vc.tlsalpn01_port = (uint16_t)port;
	}
	if (allow_from != NULL) {
		struct ipnet *nets = NULL;
		int n = ipnet_list_parse(allow_from, &nets, why, sizeof(why));

		free(nets);
		if (n <= 0) {
			daemon_usage(cx, "--allow-from: %s", n < 0 ? why :
			    "no address");
			return DAEMON_EXIT_USAGE;
		}
	}
	if (!daemon_text_ok(name, 64)) {
		daemon_usage(cx, "--name: 1 to 64 characters of text");
		return DAEMON_EXIT_USAGE;
	}
	if (val_mpic_key_load(key_file, &p.key, why, sizeof(why)) != 0) {
		daemon_fail(cx, "--key-file: %s", why);
		return DAEMON_EXIT_FAIL;
	}
	p.name = name;
	p.vc.resolver = resolver;
	p.vc.trust_anchor = anchor;
	p.vc.perspective = name;
	p.vc.allow_private_addresses = allow_private;
	pthread_mutex_init(&p.seen.lock, NULL);
	p.seen.gen[0] = xcalloc(REPLAY_SLOTS, REPLAY_KEY);
	p.seen.gen[1] = xcalloc(REPLAY_SLOTS, REPLAY_KEY);
	p.seen.since = time(NULL);

	/* the signals are waited for here, not delivered to workers */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	memset(&hc, 0, sizeof(hc));
	hc.addr = (const struct sockaddr *)&ss;
	hc.addrlen = sslen;
	hc.thread_per_connection = 1;
	hc.max_body = MAX_REQUEST;
	hc.timeout_s = 60;
	hc.allow_from = allow_from;
	if (http_server_start(&hc, routes, sizeof(routes) / sizeof(routes[0]),
	    &p, &srv, &d) != 0) {
		daemon_fail(cx, "--listen %s: %s", listen, d.msg);
		seen_free(&p.seen);
		sec_free(p.key);
		return DAEMON_EXIT_FAIL;
	}
	log_info(LOG_MAIN, "perspective '%s' listening on port %d", name,
	    http_server_port(srv));
	while (sigwait(&set, &sig) != 0)
		;
	log_info(LOG_MAIN, "stopping (%s)", sig == SIGINT ? "SIGINT" :
	    "SIGTERM");
	http_server_stop(srv);
	seen_free(&p.seen);
	sec_free(p.key);
	log_info(LOG_MAIN, "stopped");
	return DAEMON_EXIT_OK;
}

/* `certdesk ca perspective-key`: the key of the perspective at --url. */
int
daemon_cmd_perspective_key(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *url = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--url", DAEMON_OPT_STR, &url, "URL", 1,
		    "the perspective's base URL, as validation.perspectives "
		    "lists it"},
	};
	struct sec *master = NULL;
	char why[200], k[48], *path;
	int done, rc;

	rc = daemon_opts(cx, opts, sizeof(opts) / sizeof(opts[0]), argc, argv,
	    NULL, 0, NULL, &done);
	if (done)
		return rc;
	/* with general.user, as serve: the key file is the user's */
	if ((rc = daemon_load(cx, data, 0)) != DAEMON_EXIT_OK ||
	    (rc = daemon_open(cx, 0)) != DAEMON_EXIT_OK)
		return rc;
	path = daemon_in_data(cx, cx->conf.val_perspective_key_file);
	if (path == NULL) {
		daemon_fail(cx, "validation.perspective_key_file is not set "
		    "(e.g. head -c 32 /dev/urandom | base64 > "
		    "DIR/perspective.key; chmod 600)");
		return DAEMON_EXIT_FAIL;
	}
	/* the URL and the key as serve would take them */
	if (strpbrk(url, ", \t") != NULL || (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0)) {
		free(path);
		daemon_usage(cx, "--url: one http:// or https:// base URL");
		return DAEMON_EXIT_USAGE;
	}
	rc = val_mpic_url_check(url, why, sizeof(why));
	if (rc == 0)
		rc = val_mpic_key_load(path, &master, why, sizeof(why));
	free(path);
	if (rc == 0 && (rc = val_mpic_derive(master, url, k)) != 0)
		snprintf(why, sizeof(why), "cannot derive the key");
	sec_free(master);
	if (rc != 0) {
		daemon_fail(cx, "%s", why);
		return DAEMON_EXIT_FAIL;
	}
	printf("%s\n", k);
	sec_wipe(k, sizeof(k));
	return DAEMON_EXIT_OK;
}
