/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Multi-perspective issuance corroboration (BR 3.2.2.9): after the primary
 * check of a domain validation or of CAA succeeds, the same check is asked
 * of every remote perspective (`certdesk perspective`, another network
 * vantage point running this library), all at once; the result stands only
 * when at most the number the BR allows disagree (N <= 5 remote
 * perspectives: 1; N >= 6: 2; a single one: none). Otherwise it turns
 * invalid with the problem of the first disagreeing perspective, so a
 * BGP hijack or a DNS answer poisoned near the CA is not enough to get a
 * certificate.
 *
 * The wire: POST <url>/perspective/v1/check with a JSON request (the check,
 * a random nonce and the time), answered with a JSON result that repeats
 * the nonce. Both are authenticated with HMAC-SHA256 under the key of
 * that perspective (header X-Certdesk-Mac: base64url of
 * HMAC(key, "certdesk-mpic-v1 request\n" || body), and of
 * HMAC(key, "certdesk-mpic-v1 reply\n" || nonce || "\n" || body) for the
 * reply), so nobody on the path can ask a perspective for work or forge
 * its answer; a perspective refuses requests more than 60 s off its clock.
 * Each perspective's key is derived from the CA's key and the
 * perspective's URL (val_mpic_derive, `certdesk ca perspective-key`): a
 * request redirected to another perspective fails its MAC there, so one
 * perspective (say the one a hijacked route reaches) cannot answer for
 * the others, and one perspective's key forges no other's answers.
 * The contents are not secret (key authorizations are public by design),
 * so plain HTTP on a private network will do; https:// works too.
 *
 * Both sides live here: the client (val_mpic_*) runs in certdesk serve,
 * the server's codec (val_mpic_handle) in certdesk perspective.
 */
#include "validation/val_int.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MPIC_MAX_PERSPECTIVES 16
#define MPIC_MAX_REPLY (256 * 1024)
#define MPIC_MAX_SKEW 60
#define MPIC_KEY_MIN 32
#define MPIC_KEY_MAX 1024
#define MPIC_PATH "/perspective/v1/check"

#define MPIC_MAX_IDS 16

struct val_mpic {
	char *url[MPIC_MAX_PERSPECTIVES];
	size_t n;
	struct sec *key[MPIC_MAX_PERSPECTIVES];	/* each perspective's own,
						 * val_mpic_derive() */
	unsigned timeout_ms;
	json_t *caa_ids;	/* the CA's CAA identities, sent along */
};

/* ---- shared: keys and MACs ----------------------------------------------- */

int
val_mpic_key_load(const char *path, struct sec **out, char *why, size_t n)
{
	struct rc_detail d = {{0}};
	struct sec *s = NULL;
	/* a secret: a regular file of this user, for nobody else; the
	 * key and a line end at most */
	int rc = sec_read_file(path, MPIC_KEY_MAX + 2, 077, &s, NULL, &d);

	*out = NULL;
	if (rc == RC_POLICY) {
		snprintf(why, n, "%s: not a regular file of this user that "
		    "only it may read (chmod 600)", path);
		return RC_CONFIG;
	}
	if (rc != 0 && rc != RC_TOOBIG) {
		snprintf(why, n, "%s", d.msg);
		return RC_CONFIG;
	}
	while (s != NULL && s->len > 0 && (s->data[s->len - 1] == '\n' ||
	    s->data[s->len - 1] == '\r'))
		s->data[--s->len] = '\0';
	if (rc == RC_TOOBIG || s->len < MPIC_KEY_MIN ||
	    s->len > MPIC_KEY_MAX) {
		sec_free(s);
		snprintf(why, n, "%s: the shared key must be %d to %d bytes "
		    "(e.g. head -c 32 /dev/urandom | base64)", path,
		    MPIC_KEY_MIN, MPIC_KEY_MAX);
		return RC_CONFIG;
	}
	*out = s;
	return 0;
}

/* base64url(HMAC-SHA256(key, label || a || b)) into out (at least 44);
 * a may be NULL. */
static void
mac(const struct sec *key, const char *label, const char *a,
    const uint8_t *b, size_t blen, char out[48])
{
	uint8_t md[32];
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t l = 0;

	out[0] = '\0';
	if (c != NULL && EVP_MAC_init(c, key->data, key->len, p) == 1 &&
	    EVP_MAC_update(c, (const uint8_t *)label, strlen(label)) == 1 &&
	    (a == NULL || EVP_MAC_update(c, (const uint8_t *)a, strlen(a)) ==
	    1) && (blen == 0 || EVP_MAC_update(c, b, blen) == 1) &&
	    EVP_MAC_final(c, md, &l, sizeof(md)) == 1 && l == sizeof(md))
		val_b64url(md, sizeof(md), out, 48);
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(m);
}

/* A request's MAC: HMAC(key, REQ_LABEL || body). A reply's: HMAC(key,
 * REPLY_LABEL || nonce || "\n" || body), binding it to the request it
 * answers. */
#define REQ_LABEL "certdesk-mpic-v1 request\n"
#define REPLY_LABEL "certdesk-mpic-v1 reply\n"
#define KEY_LABEL "certdesk-mpic-v1 perspective key\n"
static void
reply_mac(const struct sec *key, const char *nonce, const char *body,
    size_t len, char out[48])
{
	char *pre = xasprintf("%s\n", nonce);

	mac(key, REPLY_LABEL, pre, (const uint8_t *)body, len, out);
	free(pre);
}

static int
mac_ok(const char *want, const char *given)
{
	size_t n = strlen(want);

	return given != NULL && n > 0 && strlen(given) == n &&
	    sec_equal(want, given, n);
}

/* The base URL as the CA lists it, without trailing slashes. */
static char *
base_url(const char *url)
{
	char *b = xstrdup(url);
	size_t l = strlen(b);

	while (l > 0 && b[l - 1] == '/')
		b[--l] = '\0';
	return b;
}

int
val_mpic_url_check(const char *url, char *why, size_t whylen)
{
	if (url == NULL || (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0) || strlen(url) > 200 ||
	    strpbrk(url, "?#@ \t,") != NULL) {
		snprintf(why, whylen, "'%.80s' is not an http:// or https:// "
		    "base URL", url != NULL ? url : "");
		return RC_CONFIG;
	}
	return 0;
}

int
val_mpic_derive(const struct sec *master, const char *url, char out[48])
{
	char *b;

	out[0] = '\0';
	if (master == NULL || url == NULL)
		return RC_INVAL;
	b = base_url(url);
	mac(master, KEY_LABEL, b, NULL, 0, out);
	free(b);
	return out[0] != '\0' ? 0 : RC_CRYPTO;
}


/* ---- the perspective's side ---------------------------------------------- */

int
val_mpic_authentic(const struct sec *key, const uint8_t *body, size_t len,
    const char *mac_hdr)
{
	char want[48];

	mac(key, REQ_LABEL, NULL, body, len, want);
	return mac_ok(want, mac_hdr);
}

static const char *
jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int
val_mpic_handle(const struct val_conf *base, const struct sec *key,
    const char *name, const uint8_t *body, size_t len, const char *mac_hdr,
    time_t now, char **reply, char out_mac[48], char *why, size_t whylen)
{
	const char *ids[MPIC_MAX_IDS + 1];
	struct val_conf vc = *base;
	struct val_ctx *ctx = NULL;
	struct rc_detail d = {""};
	json_t *idl;
	size_t nid = 0;
	json_t *in = NULL, *out = NULL, *ev = NULL;
	struct val_request req;
	struct val_result res;
	const char *nonce, *kind;
	json_t *t;
	int rc, http_file;

	*reply = NULL;
	out_mac[0] = '\0';
	memset(&res, 0, sizeof(res));
	if (!val_mpic_authentic(key, body, len, mac_hdr)) {
		snprintf(why, whylen, "request MAC missing or wrong");
		return RC_UNAUTH;
	}
	in = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, NULL);
	t = json_object_get(in, "time");
	nonce = jstr(in, "nonce");
	kind = jstr(in, "kind");
	if (!json_is_object(in) || !json_is_integer(t) || nonce == NULL ||
	    strlen(nonce) < 16 || strlen(nonce) > 64 || kind == NULL) {
		snprintf(why, whylen, "malformed request");
		rc = RC_INVAL;
		goto out;
	}
	if (json_integer_value(t) < (json_int_t)now - MPIC_MAX_SKEW ||
	    json_integer_value(t) > (json_int_t)now + MPIC_MAX_SKEW) {
		snprintf(why, whylen, "request time more than %d s off",
		    MPIC_MAX_SKEW);
		rc = RC_INVAL;
		goto out;
	}
	memset(&req, 0, sizeof(req));
	http_file = strcmp(kind, "http-file") == 0;
	req.kind = http_file ? VAL_KIND_HTTP01 : val_kind_parse(kind);
	req.name = jstr(in, "name");
	req.token = jstr(in, "token");
	req.key_authz = jstr(in, "key_authz");
	req.expected = jstr(in, "expected");
	req.account_uri = jstr(in, "account_uri");
	req.method = jstr(in, "method");
	req.is_wildcard = json_is_true(json_object_get(in, "wildcard"));
	req.is_ip = json_is_true(json_object_get(in, "ip"));
	if (req.kind == 0 || req.name == NULL) {
		snprintf(why, whylen, "malformed request: kind or name");
		rc = RC_INVAL;
		goto out;
	}
	/* CAA is judged by the CA's identities, which the CA sends */
	idl = json_object_get(in, "caa_identities");
	if (idl != NULL && (!json_is_array(idl) ||
	    json_array_size(idl) > MPIC_MAX_IDS)) {
		snprintf(why, whylen, "malformed request: caa_identities");
		rc = RC_INVAL;
		goto out;
	}
	for (size_t i = 0; idl != NULL && i < json_array_size(idl); i++) {
		json_t *v = json_array_get(idl, i);

		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > 253) {
			snprintf(why, whylen, "malformed request: "
			    "caa_identities");
			rc = RC_INVAL;
			goto out;
		}
		ids[nid++] = json_string_value(v);
	}
	ids[nid] = NULL;
	vc.caa_identities = ids;
	if (val_ctx_open(&vc, &ctx, &d) != 0) {
		snprintf(why, whylen, "no validation context: %s", d.msg);
		rc = RC_ERR;
		goto out;
	}
	if (http_file && req.token != NULL && req.key_authz != NULL)
		(void)val_http_file(ctx, req.name, req.token, req.key_authz,
		    &res);
	else if (http_file)
		snprintf(res.detail, sizeof(res.detail), "malformed request");
	else
		(void)val_check(ctx, &req, &res);
	ev = res.evidence != NULL ? json_loads(res.evidence, 0, NULL) : NULL;
	/* the detail may quote bytes of the network that are not UTF-8 */
	out = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "nonce", nonce,
	    "perspective", name, "outcome", res.outcome == VAL_VALID ?
	    "valid" : "invalid", "problem", val_problem_name(res.problem),
	    "detail", val_json_str(res.detail), "evidence", ev != NULL ? ev :
	    json_object());
	ev = NULL;
	*reply = out != NULL ? json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS) :
	    NULL;
	if (*reply == NULL) {
		snprintf(why, whylen, "cannot make the reply");
		rc = RC_NOMEM;
		goto out;
	}
	reply_mac(key, nonce, *reply, strlen(*reply), out_mac);
	rc = 0;
out:
	val_ctx_free(ctx);
	val_result_clear(&res);
	json_decref(ev);
	json_decref(out);
	json_decref(in);
	return rc;
}

/* ---- the CA's side ------------------------------------------------------- */

int
val_mpic_open(const char *urls, const char *key_file,
    const char *const *caa_ids, unsigned timeout_ms, struct val_mpic **out,
    char *why, size_t whylen)
{
	struct val_mpic *m = xcalloc(1, sizeof(*m));
	char *copy = xstrdup(urls != NULL ? urls : ""), *save = NULL, *tok;
	struct sec *master = NULL;
	int rc = 0;

	*out = NULL;
	for (tok = strtok_r(copy, " \t,", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t,", &save)) {
		size_t l = strlen(tok);

		if (m->n == MPIC_MAX_PERSPECTIVES) {
			snprintf(why, whylen, "more than %d perspectives",
			    MPIC_MAX_PERSPECTIVES);
			rc = RC_CONFIG;
			goto out;
		}
		if ((rc = val_mpic_url_check(tok, why, whylen)) != 0)
			goto out;
		while (l > 0 && tok[l - 1] == '/')
			tok[--l] = '\0';
		m->url[m->n] = xasprintf("%s%s", tok, MPIC_PATH);
		/* the same perspective twice would count twice */
		for (size_t i = 0; i < m->n; i++)
			if (strcasecmp(m->url[i], m->url[m->n]) == 0) {
				snprintf(why, whylen, "'%.80s' is listed "
				    "twice", tok);
				m->n++;
				rc = RC_CONFIG;
				goto out;
			}
		m->n++;
	}
	if (m->n == 0) {
		snprintf(why, whylen, "no perspective URL");
		rc = RC_CONFIG;
		goto out;
	}
	if ((rc = val_mpic_key_load(key_file, &master, why, whylen)) != 0)
		goto out;
	/* each perspective has a key of its own, derived from its URL: a
	 * request sent to another perspective fails its MAC there, and one
	 * perspective's answer cannot stand for another's */
	for (size_t i = 0; i < m->n; i++) {
		char k[48], *b = xstrdup(m->url[i]);

		b[strlen(b) - strlen(MPIC_PATH)] = '\0';
		rc = val_mpic_derive(master, b, k);
		free(b);
		if (rc != 0) {
			snprintf(why, whylen, "cannot derive the keys");
			goto out;
		}
		m->key[i] = sec_dup(k, strlen(k));
		sec_wipe(k, sizeof(k));
	}
	m->timeout_ms = timeout_ms ? timeout_ms : 30000;
	m->caa_ids = json_array();
	for (size_t i = 0; caa_ids != NULL && caa_ids[i] != NULL &&
	    i < MPIC_MAX_IDS; i++)
		json_array_append_new(m->caa_ids, json_string(caa_ids[i]));
	*out = m;
	m = NULL;
out:
	free(copy);
	sec_free(master);
	val_mpic_free(m);
	return rc;
}

void
val_mpic_free(struct val_mpic *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->url[i]);
		sec_free(m->key[i]);
	}
	json_decref(m->caa_ids);
	free(m);
}

size_t
val_mpic_count(const struct val_mpic *m)
{
	return m != NULL ? m->n : 0;
}

int
val_mpic_quorum(size_t n)
{
	/* BR 3.2.2.9: how many may disagree, of n remote perspectives */
	return n <= 1 ? 0 : n <= 5 ? 1 : 2;
}

struct call {
	CURL *h;
	struct curl_slist *hdrs;
	char *body;			/* request */
	char nonce[48];
	char *reply;
	size_t len;
	char mac[64];			/* the reply's X-Certdesk-Mac */
	int too_big;
};

static size_t
on_body(char *p, size_t sz, size_t nm, void *arg)
{
	struct call *c = arg;
	size_t n = sz * nm;

	if (c->len + n > MPIC_MAX_REPLY) {
		c->too_big = 1;
		return 0;
	}
	c->reply = xrealloc(c->reply, c->len + n + 1);
	memcpy(c->reply + c->len, p, n);
	c->len += n;
	c->reply[c->len] = '\0';
	return n;
}

static size_t
on_header(char *p, size_t sz, size_t nm, void *arg)
{
	struct call *c = arg;
	size_t n = sz * nm, k = strlen("X-Certdesk-Mac:");

	if (n > k && strncasecmp(p, "X-Certdesk-Mac:", k) == 0) {
		size_t i = k, j;

		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		j = n;
		while (j > i && (p[j - 1] == '\r' || p[j - 1] == '\n' ||
		    p[j - 1] == ' '))
			j--;
		if (j - i < sizeof(c->mac))
			snprintf(c->mac, sizeof(c->mac), "%.*s", (int)(j - i),
			    p + i);
	}
	return n;
}

/* The request body for req with a fresh nonce into c. */
static int
request_body(const struct val_mpic *m, const struct val_request *req,
    int http_file, struct call *c)
{
	uint8_t rnd[18];
	json_t *o;

	if (sec_random(rnd, sizeof(rnd)) != 0)
		return RC_CRYPTO;
	val_b64url(rnd, sizeof(rnd), c->nonce, sizeof(c->nonce));
	o = json_pack("{s:s, s:s, s:I, s:s, s:b, s:b}", "nonce", c->nonce,
	    "kind", http_file ? "http-file" : val_kind_label(req->kind),
	    "time", (json_int_t)time(NULL),
	    "name", req->name, "wildcard", req->is_wildcard, "ip",
	    req->is_ip);
	if (o == NULL)
		return RC_NOMEM;
	if (req->token)
		json_object_set_new(o, "token", json_string(req->token));
	if (req->key_authz)
		json_object_set_new(o, "key_authz",
		    json_string(req->key_authz));
	if (req->expected)
		json_object_set_new(o, "expected", json_string(req->expected));
	if (req->account_uri)
		json_object_set_new(o, "account_uri",
		    json_string(req->account_uri));
	if (req->method)
		json_object_set_new(o, "method", json_string(req->method));
	json_object_set(o, "caa_identities", m->caa_ids);
	c->body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return c->body != NULL ? 0 : RC_NOMEM;
}

/* One perspective's verdict: 1 agrees, 0 does not (why, problem). */
static int
verdict(const struct val_mpic *m, const struct call *c0, struct call *c,
    long status,
    CURLcode cc, json_t **ev, enum val_problem *prob, char *why,
    size_t whylen)
{
	char want[48];
	json_t *r;
	const char *outcome, *detail;
	int ok;

	*ev = NULL;
	*prob = VAL_PROB_CONNECTION;
	if (cc != CURLE_OK) {
		snprintf(why, whylen, "%s", c->too_big ? "reply too large" :
		    curl_easy_strerror(cc));
		return 0;
	}
	if (status != 200) {
		snprintf(why, whylen, "HTTP status %ld", status);
		return 0;
	}
	reply_mac(m->key[c - c0], c->nonce, c->reply, c->len, want);
	if (!mac_ok(want, c->mac)) {
		snprintf(why, whylen, "reply MAC missing or wrong");
		*prob = VAL_PROB_SERVER_INTERNAL;
		return 0;
	}
	r = json_loadb(c->reply, c->len, JSON_REJECT_DUPLICATES, NULL);
	outcome = jstr(r, "outcome");
	detail = jstr(r, "detail");
	if (!json_is_object(r) || outcome == NULL || jstr(r, "nonce") == NULL ||
	    strcmp(jstr(r, "nonce"), c->nonce) != 0) {
		snprintf(why, whylen, "malformed reply");
		*prob = VAL_PROB_SERVER_INTERNAL;
		json_decref(r);
		return 0;
	}
	ok = strcmp(outcome, "valid") == 0;
	if (!ok) {
		const char *p = jstr(r, "problem");

		*prob = VAL_PROB_UNAUTHORIZED;
		for (int i = VAL_PROB_DNS; p != NULL &&
		    i <= VAL_PROB_SERVER_INTERNAL; i++)
			if (strcmp(p, val_problem_name((enum val_problem)i)) ==
			    0)
				*prob = (enum val_problem)i;
		snprintf(why, whylen, "%s", detail ? detail : "invalid");
	}
	*ev = json_incref(json_object_get(r, "evidence"));
	json_decref(r);
	return ok;
}

int
val_mpic_corroborate(struct val_mpic *m, const struct val_request *req,
    int http_file, struct val_result *res)
{
	struct call c[MPIC_MAX_PERSPECTIVES];
	CURLM *multi;
	json_t *list = json_array(), *evid = NULL;
	size_t n = m != NULL ? m->n : 0, agree = 0, disagree = 0;
	enum val_problem first_prob = VAL_PROB_NONE;
	char first_why[VAL_DETAIL_MAX] = "";
	int running = 0, rc = 0;

	if (n == 0 || res->outcome != VAL_VALID) {
		json_decref(list);
		return 0;
	}
	memset(c, 0, sizeof(c));
	multi = curl_multi_init();
	for (size_t i = 0; i < n; i++) {
		char hdr[96], mh[48];

		if (request_body(m, req, http_file, &c[i]) != 0 ||
		    (c[i].h = curl_easy_init()) == NULL) {
			rc = RC_NOMEM;
			continue;
		}
		mac(m->key[i], REQ_LABEL, NULL, (const uint8_t *)c[i].body,
		    strlen(c[i].body), mh);
		snprintf(hdr, sizeof(hdr), "X-Certdesk-Mac: %s", mh);
		c[i].hdrs = curl_slist_append(NULL, "Content-Type: "
		    "application/json");
		c[i].hdrs = curl_slist_append(c[i].hdrs, hdr);
		curl_easy_setopt(c[i].h, CURLOPT_URL, m->url[i]);
		curl_easy_setopt(c[i].h, CURLOPT_POSTFIELDS, c[i].body);
		curl_easy_setopt(c[i].h, CURLOPT_HTTPHEADER, c[i].hdrs);
		curl_easy_setopt(c[i].h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c[i].h, CURLOPT_WRITEDATA, &c[i]);
		curl_easy_setopt(c[i].h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c[i].h, CURLOPT_HEADERDATA, &c[i]);
		curl_easy_setopt(c[i].h, CURLOPT_TIMEOUT_MS,
		    (long)m->timeout_ms);
		curl_easy_setopt(c[i].h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c[i].h, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(c[i].h, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(c[i].h, CURLOPT_PRIVATE, &c[i]);
		curl_multi_add_handle(multi, c[i].h);
	}
	do {
		curl_multi_perform(multi, &running);
		if (running)
			curl_multi_poll(multi, NULL, 0, 200, NULL);
	} while (running);
	for (;;) {
		int left;
		CURLMsg *msg = curl_multi_info_read(multi, &left);
		struct call *ci;
		long status = 0;
		json_t *ev = NULL, *item;
		enum val_problem prob;
		char why[VAL_DETAIL_MAX] = "";
		size_t i;
		int ok;

		if (msg == NULL)
			break;
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &ci);
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE,
		    &status);
		i = (size_t)(ci - c);
		ok = verdict(m, c, ci, status, msg->data.result, &ev, &prob,
		    why, sizeof(why));
		item = json_pack("{s:s, s:b, s:s}", "url", m->url[i],
		    "corroborates", ok, "detail", ok ? "" : why);
		if (ev != NULL)
			json_object_set_new(item, "evidence", ev);
		json_array_append_new(list, item);
		if (ok) {
			agree++;
		} else if (first_prob == VAL_PROB_NONE) {
			first_prob = prob;
			snprintf(first_why, sizeof(first_why), "%s", why);
		}
	}
	/* every perspective that did not agree disagrees, also one whose
	 * request could not be made */
	disagree = n - agree;
	for (size_t i = 0; i < n; i++) {
		if (c[i].h != NULL) {
			curl_multi_remove_handle(multi, c[i].h);
			curl_easy_cleanup(c[i].h);
		}
		curl_slist_free_all(c[i].hdrs);
		free(c[i].body);
		free(c[i].reply);
	}
	curl_multi_cleanup(multi);

	/* the evidence: the primary's, with the perspectives' added */
	evid = res->evidence != NULL ? json_loads(res->evidence, 0, NULL) :
	    NULL;
	if (!json_is_object(evid)) {
		json_decref(evid);
		evid = json_object();
	}
	json_object_set_new(evid, "remote_perspectives", json_pack(
	    "{s:I, s:I, s:I, s:o}", "asked", (json_int_t)n, "corroborated",
	    (json_int_t)agree, "may_disagree",
	    (json_int_t)val_mpic_quorum(n), "results", list));
	list = NULL;
	free(res->evidence);
	res->evidence = json_dumps(evid, JSON_COMPACT | JSON_SORT_KEYS);
	if (res->evidence == NULL)
		res->evidence = xstrdup("{}");
	json_decref(evid);
	if (rc == 0 && disagree > (size_t)val_mpic_quorum(n)) {
		res->outcome = VAL_INVALID;
		res->problem = first_prob != VAL_PROB_NONE ? first_prob :
		    VAL_PROB_SERVER_INTERNAL;
		snprintf(res->detail, sizeof(res->detail), "Multi-perspective "
		    "corroboration failed: %zu of %zu remote perspectives "
		    "did not find the same (%zu may not): %.300s", disagree,
		    n, (size_t)val_mpic_quorum(n), first_why);
	} else if (rc != 0) {
		res->outcome = VAL_INVALID;
		res->problem = VAL_PROB_SERVER_INTERNAL;
		snprintf(res->detail, sizeof(res->detail), "Multi-perspective "
		    "corroboration could not be asked");
	}
	json_decref(list);
	return rc;
}
