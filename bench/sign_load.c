/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sign_load: "a CSR in, a certificate out, over HTTPS" as a load, for
 * benchmarks only (bench/sign_bench.sh). N client threads, each with one
 * keep-alive HTTPS connection, ask for certificates one after the other,
 * each for a fresh CSR (built and signed per certificate from one of
 * KEYS_PER_CLIENT P-256 keys made before the clock starts), and check that
 * each certificate they get holds their CSR's key. Two servers:
 *
 *   --mode cfssl     `cfssl serve`: POST /api/v1/cfssl/sign with
 *                    {"certificate_request": PEM}; the certificate comes
 *                    back in the answer (result.certificate).
 *   --mode certdesk  `certdesk serve`'s portal API: POST
 *                    /api/v1/slots/<slot>/orders (the "Set up SSL
 *                    certificate" form as JSON: domain, purpose, terms, the
 *                    CSR), authenticated by an API token; for a name whose
 *                    validation the contract can reuse the order is issued
 *                    within that request (state "issued"), and the
 *                    certificate is a second request, GET
 *                    /api/v1/orders/<id>/certificate/cert.pem. An order
 *                    answered in another state is polled (GET
 *                    /api/v1/orders/<id>, from --poll-ms doubling to 1 s)
 *                    until issued, and the polls are counted.
 *
 * Client i uses the name c<i>.<domain> and, with certdesk, the slot
 * --first-slot + i (the script makes one SSL Unlimited slot per client and
 * validates each name once). Before the clock starts every client gets one
 * certificate, untimed: its connection is made and the server has seen
 * each name once.
 *
 * Measures what acme_load does (loadgen.h): certificates per second, the
 * latency per certificate (first request sent -> certificate checked) and
 * its mean per request, the CPU time of the server's whole process tree
 * and of this process over the timed phase, and the server tree's memory.
 * Every run ends by itself: --duration and --count bound the work, and a
 * watchdog exits with status 3 when no certificate completes for --stall
 * seconds.
 *
 * usage: sign_load --mode cfssl|certdesk --url https://HOST:PORT
 *            --cacert FILE [--token-file FILE --first-slot ID]
 *            [--clients N] [--duration S] [--count N] [--stall S]
 *            [--server-pid PID] [--domain D] [--poll-ms MS] [--timeout S]
 *            [--latency-out FILE]
 *        sign_load --mode certdesk --prepare --url URL --cacert FILE
 *            --token-file FILE --first-slot ID [--clients N] [--domain D]
 *        sign_load --free-ports N	(prints N free loopback TCP ports)
 */
#include "loadgen.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KEYS_PER_CLIENT 16
#define MAX_CONSECUTIVE_FAILS 5
#define MAX_POLL_MS 1000
#define MAX_TOKEN 128

enum { CFSSL, CERTDESK };
/* the requests of one certificate, timed apart (polls count with the
 * order) */
enum { ST_ORDER, ST_CERT, NSTEPS };
static const char *const step_name[2][NSTEPS] = {
	{"sign", "-"}, {"order", "download"}};

static struct {
	int mode;
	const char *url;
	const char *cacert;
	char token[MAX_TOKEN + 1];
	long first_slot;
	const char *domain;
	long poll_ms;
} opt = {
	.mode = -1,
	.domain = "bench.test",
	.poll_ms = 10,
};

static struct lg_run run;	/* ready: every client has its first one */

struct client {
	int id;
	pthread_t th;
	struct lg_hconn hc;
	struct lg_resp r;
	struct lg_csr_tpl csr[KEYS_PER_CLIENT];
	char name[256];
	char headers[MAX_TOKEN + 64];	/* sent with every request */
	char order_url[LG_MAX_URL];

	double steps[NSTEPS];	/* seconds in each step, certificates done */
	long polls, sleep_ms;
};

/* The CSR as PEM inside a JSON string: base64 lines joined by \n. */
static char *
csr_json_pem(struct lg_csr_tpl *t, const char *name)
{
	static const char head[] = "-----BEGIN CERTIFICATE REQUEST-----\\n",
	    tail[] = "-----END CERTIFICATE REQUEST-----\\n";
	unsigned char *der = NULL;
	int len = lg_csr_der(t, name, &der), blen;
	char *b64 = lg_xcalloc((size_t)len / 3 * 4 + 5, 1), *out, *o;

	blen = EVP_EncodeBlock((unsigned char *)b64, der, len);
	OPENSSL_free(der);
	out = lg_xcalloc(sizeof(head) + sizeof(tail) + (size_t)blen +
	    (size_t)blen / 64 * 2 + 4, 1);
	o = out + sprintf(out, "%s", head);
	for (int i = 0; i < blen; i += 64) {
		int n = blen - i < 64 ? blen - i : 64;

		memcpy(o, b64 + i, (size_t)n);
		o += n;
		*o++ = '\\';
		*o++ = 'n';
	}
	strcpy(o, tail);
	free(b64);
	return out;
}

/* c->r as a JSON object, or NULL (reported). */
static json_t *
resp_json(struct client *c, const char *what)
{
	json_t *j = c->r.body ? json_loadb(c->r.body, c->r.len, 0, NULL) :
	    NULL;

	if (!json_is_object(j)) {
		lg_report(c->id, "%s: HTTP %ld, not a JSON object: %.200s",
		    what, c->r.status, c->r.body ? c->r.body : "");
		json_decref(j);
		return NULL;
	}
	return j;
}

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static int
check_key(struct client *c, const char *pem, const struct lg_csr_tpl *t)
{
	if (lg_pem_has_key(pem, t))
		return 0;
	lg_report(c->id, "the answer holds no certificate for our key");
	return -1;
}

/* cfssl: one request, the certificate in its answer. */
static int
sign_cfssl(struct client *c, struct lg_csr_tpl *t, double *st)
{
	char url[LG_MAX_URL], *pem = csr_json_pem(t, c->name), *body;
	double t0 = lg_now();
	json_t *j = NULL;
	int rc = -1;

	if (asprintf(&body, "{\"certificate_request\":\"%s\"}", pem) < 0)
		lg_die("out of memory");
	snprintf(url, sizeof(url), "%s/api/v1/cfssl/sign", opt.url);
	if (lg_http_do(&c->hc, &c->r, c->id, "POST", url, c->headers,
	    body) != 0)
		goto out;
	if (!(j = resp_json(c, "sign")))
		goto out;
	if (c->r.status != 200 || !json_is_true(json_object_get(j,
	    "success"))) {
		char *e = json_dumps(json_object_get(j, "errors"),
		    JSON_COMPACT);

		lg_report(c->id, "sign: HTTP %ld: %s", c->r.status,
		    e ? e : "");
		free(e);
		goto out;
	}
	rc = check_key(c, jstr(json_object_get(j, "result"), "certificate"),
	    t);
	st[ST_ORDER] = lg_now() - t0;
out:
	json_decref(j);
	free(body);
	free(pem);
	return rc;
}

/* certdesk: the order (issued in the request when the name's validation
 * is reused; else polled), then the certificate. */
static int
sign_certdesk(struct client *c, struct lg_csr_tpl *t, double *st)
{
	char url[LG_MAX_URL + 32], *pem = csr_json_pem(t, c->name), *body;
	double t0 = lg_now();
	long backoff = opt.poll_ms;
	json_int_t id;
	json_t *j = NULL;
	int rc = -1;

	if (asprintf(&body, "{\"domain\":\"%s\",\"purpose\":\"server\","
	    "\"terms_accepted\":true,\"csr\":\"%s\"}", c->name, pem) < 0)
		lg_die("out of memory");
	snprintf(url, sizeof(url), "%s/api/v1/slots/%ld/orders", opt.url,
	    opt.first_slot + c->id);
	if (lg_http_do(&c->hc, &c->r, c->id, "POST", url, c->headers,
	    body) != 0)
		goto out;
	if (!(j = resp_json(c, "order")))
		goto out;
	if (c->r.status != 201) {
		lg_report(c->id, "order: HTTP %ld: %s", c->r.status,
		    jstr(j, "detail"));
		goto out;
	}
	id = json_integer_value(json_object_get(j, "id"));
	snprintf(c->order_url, sizeof(c->order_url), "%s/api/v1/orders/%lld",
	    opt.url, (long long)id);
	while (strcmp(jstr(j, "state"), "issued") != 0) {
		if (strcmp(jstr(j, "state"), "validation_pending") != 0 ||
		    lg_now() - t0 + (double)backoff / 1000 >
		    (double)lg_timeout_s) {
			lg_report(c->id, "order %lld: %s", (long long)id,
			    jstr(j, "state"));
			goto out;
		}
		lg_sleep_ms(backoff);
		c->sleep_ms += backoff;
		c->polls++;
		backoff = backoff * 2 > MAX_POLL_MS ? MAX_POLL_MS : backoff * 2;
		json_decref(j);
		j = NULL;
		if (lg_http_do(&c->hc, &c->r, c->id, "GET", c->order_url,
		    c->headers, NULL) != 0 || !(j = resp_json(c, "order")))
			goto out;
	}
	st[ST_ORDER] = lg_now() - t0;
	t0 = lg_now();
	snprintf(url, sizeof(url), "%s/certificate/cert.pem", c->order_url);
	if (lg_http_do(&c->hc, &c->r, c->id, "GET", url, c->headers,
	    NULL) != 0)
		goto out;
	if (c->r.status != 200) {
		lg_report(c->id, "download: HTTP %ld", c->r.status);
		goto out;
	}
	rc = check_key(c, c->r.body, t);
	st[ST_CERT] = lg_now() - t0;
out:
	json_decref(j);
	free(body);
	free(pem);
	return rc;
}

/* One certificate with key k: 0, with its time in *seconds. */
static int
issue_one(struct client *c, long k, double *seconds)
{
	struct lg_csr_tpl *t = &c->csr[k % KEYS_PER_CLIENT];
	double st[NSTEPS] = {0}, t0 = lg_now();
	int rc;

	rc = opt.mode == CFSSL ? sign_cfssl(c, t, st) :
	    sign_certdesk(c, t, st);
	if (rc != 0)
		return rc;
	*seconds = lg_now() - t0;
	for (int i = 0; i < NSTEPS; i++)
		c->steps[i] += st[i];
	return 0;
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	double seconds;
	int fails = 0, ok;

	for (int i = 0; i < KEYS_PER_CLIENT; i++)
		lg_csr_tpl_init(&c->csr[i]);
	/* untimed: the connection, and the server's first look at the
	 * name; then the figures start from nothing */
	ok = issue_one(c, 0, &seconds) == 0;
	c->polls = c->sleep_ms = 0;
	memset(c->steps, 0, sizeof(c->steps));
	c->hc.requests = 0;
	lg_run_ready(&run, ok);
	for (long k = 1; ok && lg_run_next(&run); k++) {
		if (issue_one(c, k, &seconds) != 0) {
			lg_run_count(&run, 0, 0);
			if (++fails >= MAX_CONSECUTIVE_FAILS) {
				lg_report(c->id, "%d failures in a row: "
				    "stopping", fails);
				break;
			}
			continue;
		}
		fails = 0;
		lg_run_count(&run, 1, seconds);
	}
	lg_run_leave(&run);
	return NULL;
}

/*
 * --prepare (certdesk): activates each client's SSL Unlimited slot and
 * places its first order, which waits for validation; prints "ORDER <id>"
 * per client, for the script to validate (certdesk admin validate).
 */
static void
prepare(void)
{
	struct client c = {0};
	char url[LG_MAX_URL + 32];

	lg_hconn_init(&c.hc);
	lg_csr_tpl_init(&c.csr[0]);
	snprintf(c.headers, sizeof(c.headers), "Authorization: Bearer %s\r\n"
	    "Content-Type: application/json\r\n", opt.token);
	for (int i = 0; i < run.clients; i++) {
		char *pem, *body;
		json_t *j;

		c.id = i;
		snprintf(c.name, sizeof(c.name), "c%d.%s", i, opt.domain);
		snprintf(url, sizeof(url), "%s/api/v1/slots/%ld/activate",
		    opt.url, opt.first_slot + i);
		if (lg_http_do(&c.hc, &c.r, i, "POST", url, c.headers, "") !=
		    0 || c.r.status != 200)
			lg_die("%s: HTTP %ld: %.200s", url, c.r.status,
			    c.r.body ? c.r.body : "");
		pem = csr_json_pem(&c.csr[0], c.name);
		if (asprintf(&body, "{\"domain\":\"%s\",\"purpose\":"
		    "\"server\",\"terms_accepted\":true,\"csr\":\"%s\"}",
		    c.name, pem) < 0)
			lg_die("out of memory");
		snprintf(url, sizeof(url), "%s/api/v1/slots/%ld/orders",
		    opt.url, opt.first_slot + i);
		if (lg_http_do(&c.hc, &c.r, i, "POST", url, c.headers, body) !=
		    0 || c.r.status != 201 || !(j = resp_json(&c, "order")))
			lg_die("%s: HTTP %ld: %.200s", url, c.r.status,
			    c.r.body ? c.r.body : "");
		printf("ORDER %lld\n", (long long)json_integer_value(
		    json_object_get(j, "id")));
		json_decref(j);
		free(body);
		free(pem);
	}
	lg_hconn_close(&c.hc);
	lg_csr_tpl_free(&c.csr[0]);
	lg_resp_free(&c.r);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: sign_load --mode cfssl|certdesk --url https://HOST:PORT\n"
	    "         --cacert FILE [--token-file FILE --first-slot ID]\n"
	    "         [--clients N] [--duration S] [--count N] [--stall S]\n"
	    "         [--server-pid PID] [--domain D] [--poll-ms MS]"
	    " [--timeout S]\n"
	    "         [--latency-out FILE]\n"
	    "       sign_load --mode certdesk --prepare --url URL --cacert FILE"
	    "\n         --token-file FILE --first-slot ID [--clients N]"
	    " [--domain D]\n"
	    "       sign_load --free-ports N\n");
	exit(1);
}

/* The API token: the file's first line, cdt_ and hex digits. */
static void
read_token(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		lg_die("%s: cannot open", path);
	if (!fgets(opt.token, sizeof(opt.token), f))
		opt.token[0] = '\0';
	fclose(f);
	n = strcspn(opt.token, "\r\n");
	opt.token[n] = '\0';
	if (n < 5 || strncmp(opt.token, "cdt_", 4) != 0 ||
	    strspn(opt.token + 4, "0123456789abcdef") != n - 4)
		lg_die("%s: not an API token (cdt_ and hex digits)", path);
}

static int prepare_only;

static void
parse_args(int argc, char **argv)
{
	const char *token_file = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--prepare") == 0) {
			prepare_only = 1;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (lg_run_option(&run, a, v))
			continue;
		if (strcmp(a, "--mode") == 0) {
			if (strcmp(v, "cfssl") == 0)
				opt.mode = CFSSL;
			else if (strcmp(v, "certdesk") == 0)
				opt.mode = CERTDESK;
			else
				usage();
		} else if (strcmp(a, "--url") == 0)
			opt.url = v;
		else if (strcmp(a, "--cacert") == 0)
			opt.cacert = v;
		else if (strcmp(a, "--token-file") == 0)
			token_file = v;
		else if (strcmp(a, "--first-slot") == 0)
			opt.first_slot = (long)lg_num(v, 1, 1e15, a);
		else if (strcmp(a, "--domain") == 0)
			opt.domain = v;
		else if (strcmp(a, "--poll-ms") == 0)
			opt.poll_ms = (long)lg_num(v, 1, MAX_POLL_MS, a);
		else
			usage();
	}
	if (opt.mode < 0 || !opt.url || !opt.cacert)
		usage();
	if (opt.mode == CERTDESK && (!token_file || !opt.first_slot))
		lg_die("--mode certdesk needs --token-file and --first-slot");
	if (prepare_only && opt.mode != CERTDESK)
		lg_die("--prepare is for --mode certdesk");
	if (token_file)
		read_token(token_file);
	if (strlen(opt.domain) > 200 || strspn(opt.domain,
	    "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(opt.domain))
		lg_die("--domain: not a plain lower-case name");
	lg_origin_set(opt.url);
	if (strcmp(lg_origin, opt.url) != 0)
		lg_die("--url: https://HOST:PORT, without a path");
}

/* The per-certificate figures of sign_load's own, for lg_run_print. */
struct totals {
	long req, polls, sleep;
	double steps[NSTEPS];
	long done;
};

static void
print_totals(void *arg)
{
	const struct totals *t = arg;
	double per = t->done ? 1.0 / (double)t->done : 0;

	printf("per certificate: %.2f requests, %.2f polls, %.1f ms slept\n",
	    (double)t->req * per, (double)t->polls * per,
	    (double)t->sleep * per);
	printf("steps, mean ms:");
	for (int m = 0; m < NSTEPS; m++)
		if (strcmp(step_name[opt.mode][m], "-") != 0)
			printf(" %s %.2f", step_name[opt.mode][m],
			    t->steps[m] * 1e3 * per);
	printf("\n");
}

int
main(int argc, char **argv)
{
	struct client *cs;
	struct totals tot = {0};
	double per;
	char extra[128];

	lg_init("sign_load");
	lg_run_defaults(&run);
	parse_args(argc, argv);
	lg_tls_init(opt.cacert);
	if (prepare_only) {
		prepare();
		lg_done();
		return 0;
	}

	lg_run_init(&run);
	cs = lg_xcalloc((size_t)run.clients, sizeof(*cs));
	for (int i = 0; i < run.clients; i++) {
		struct client *c = &cs[i];

		c->id = i;
		lg_hconn_init(&c->hc);
		snprintf(c->name, sizeof(c->name), "c%d.%s", i, opt.domain);
		snprintf(c->headers, sizeof(c->headers), "%s%s%s"
		    "Content-Type: application/json\r\n", opt.token[0] ?
		    "Authorization: Bearer " : "", opt.token, opt.token[0] ?
		    "\r\n" : "");
		if (pthread_create(&c->th, NULL, client_main, c) != 0)
			lg_die("pthread_create failed");
	}
	/* the warm-up: the watchdog already runs (a server may hang) */
	lg_run_wait_ready(&run, "warm-up");
	if (atomic_load(&run.setup_failed) > 0)
		lg_die("%d of %d clients got no first certificate",
		    atomic_load(&run.setup_failed), run.clients);
	lg_run_timed(&run);
	for (int i = 0; i < run.clients; i++) {
		pthread_join(cs[i].th, NULL);
		tot.req += cs[i].hc.requests;
		tot.polls += cs[i].polls;
		tot.sleep += cs[i].sleep_ms;
		for (int m = 0; m < NSTEPS; m++)
			tot.steps[m] += cs[i].steps[m];
	}
	tot.done = atomic_load(&run.completed);
	per = tot.done ? 1.0 / (double)tot.done : 0;
	snprintf(extra, sizeof(extra), " polls=%.2f slept_ms=%.1f "
	    "requests=%.2f", (double)tot.polls * per, (double)tot.sleep * per,
	    (double)tot.req * per);
	lg_run_print(&run, print_totals, &tot, extra);
	for (int i = 0; i < run.clients; i++) {
		lg_hconn_close(&cs[i].hc);
		for (int m = 0; m < KEYS_PER_CLIENT; m++)
			lg_csr_tpl_free(&cs[i].csr[m]);
		lg_resp_free(&cs[i].r);
	}
	free(cs);
	lg_run_free(&run);
	lg_done();
	return atomic_load(&run.failed) > 0 && tot.done == 0 ? 2 : 0;
}
