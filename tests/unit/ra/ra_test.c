/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The environment of the ra tests (see ra_test.h): temp directory, store,
 * signer, CA, ra, the fake validation, CSRs, a tiny HTTP server and
 * knsupdate. Runs in the test processes only.
 */
#include "ra_test.h"

#include "ca/ca.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

/* ---- fake validation ----------------------------------------------------- */

static int
fake_check(void *arg, const struct val_request *req, struct val_result *out)
{
	struct rt_fake *f = arg;
	int ok = 0;

	if (f->during != NULL) {
		void (*during)(void *) = f->during;

		f->during = NULL;
		during(f->during_arg);
	}
	memset(out, 0, sizeof(*out));
	out->checked_at = time(NULL);
	switch (req->kind) {
	case VAL_KIND_HTTP01:
		f->last_is_ip = req->is_ip;
		ok = f->http01_ok;
		break;
	case VAL_KIND_DNS01:
		ok = f->dns01_ok;
		break;
	case VAL_KIND_TLSALPN01:
		f->last_is_ip = req->is_ip;
		ok = f->tlsalpn01_ok;
		break;
	case VAL_KIND_CAA:
		f->caa_calls++;
		ok = f->caa_ok && (f->caa_forbid == NULL ||
		    strcmp(f->caa_forbid, req->name) != 0);
		snprintf(f->last_method, sizeof(f->last_method), "%s",
		    req->method ? req->method : "");
		snprintf(f->last_account_uri, sizeof(f->last_account_uri),
		    "%s", req->account_uri ? req->account_uri : "");
		break;
	}
	f->calls++;
	if (req->key_authz != NULL)
		snprintf(f->last_key_authz, sizeof(f->last_key_authz), "%s",
		    req->key_authz);
	out->outcome = ok ? VAL_VALID : VAL_INVALID;
	out->problem = ok ? VAL_PROB_NONE
	    : req->kind == VAL_KIND_CAA ? VAL_PROB_CAA
					: VAL_PROB_INCORRECT_RESPONSE;
	snprintf(out->detail, sizeof(out->detail), "fake %s for %s",
	    ok ? "success" : "failure", req->name);
	out->evidence = xasprintf("{\"kind\":\"%s\",\"name\":\"%s\","
	    "\"fake\":true}", val_kind_label(req->kind), req->name);
	return 0;
}

/* ---- environment --------------------------------------------------------- */

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
open_ca(struct rt_env *e)
{
	ca_free(e->ca);
	e->ca = NULL;
	e->cconf.now = e->now;
	assert_int_equal(ca_open(&e->cconf, e->st, e->sg, NULL, &e->ca), 0);
}

struct rt_env *
rt_setup(time_t now, const char *blocked)
{
	struct rt_env *e = xcalloc(1, sizeof(*e));
	const char *tmp = getenv("TMPDIR");
	struct store_conf sc = {"sqlite", NULL, 0};
	struct rc_detail d = {""};
	char *bl = NULL;

	log_set_level(getenv("RT_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERR);
	e->now = now;
	e->dir = xasprintf("%s/cd-ra-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(e->dir));
	e->keydir = xasprintf("%s/keys", e->dir);
	e->crl_dir = xasprintf("%s/crl", e->dir);
	e->db = xasprintf("%s/ra.db", e->dir);
	assert_int_equal(mkdir(e->keydir, 0700), 0);
	assert_int_equal(mkdir(e->crl_dir, 0700), 0);
	sc.path = e->db;
	sc.durable = 0;
	assert_int_equal(store_open(&sc, &e->st), 0);
	assert_int_equal(signer_spawn(e->keydir, &e->sg), 0);
	e->cconf.base_url = "http://ca.example.test";
	e->cconf.ocsp = 1;
	e->cconf.crl_validity_days = 7;
	e->cconf.crl_dir = e->crl_dir;
	e->cconf.hierarchy = "ecdsa";
	e->cconf.root_cn = "certdesk RA Test Root";
	e->cconf.issuing_cn = "certdesk RA Test Issuing";
	e->cconf.organization = "certdesk test";
	e->cconf.country = "DE";
	e->cconf.now = now;
	if (ca_init_hierarchy(&e->cconf, e->st, e->sg, &d) != 0)
		fail_msg("init: %s", d.msg);
	open_ca(e);
	assert_int_equal(store_customer_add(e->st, "Beispiel GmbH",
	    &e->customer), 0);
	assert_int_equal(store_contract_add(e->st, e->customer, "K-1",
	    &e->contract), 0);
	if (blocked != NULL) {
		FILE *f;

		bl = xasprintf("%s/blocked.txt", e->dir);
		f = fopen(bl, "w");
		assert_non_null(f);
		fputs(blocked, f);
		fclose(f);
	}
	e->rconf.account_url_prefix = RT_URL_PREFIX;
	e->rconf.blocked_names = bl;
	e->rconf.now = now;
	if (ra_open(&e->rconf, e->st, e->ca, NULL, &e->ra, &d) != 0)
		fail_msg("ra_open: %s", d.msg);
	free(bl);
	e->rconf.blocked_names = NULL;
	e->fake.http01_ok = e->fake.dns01_ok = e->fake.tlsalpn01_ok = 1;
	e->fake.caa_ok = 1;
	ra_set_check(e->ra, fake_check, &e->fake);
	return e;
}

void
rt_teardown(struct rt_env *e)
{
	if (e == NULL)
		return;
	ra_free(e->ra);
	ca_free(e->ca);
	signer_free(e->sg);
	store_close(e->st);
	nftw(e->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(e->dir);
	free(e->keydir);
	free(e->crl_dir);
	free(e->db);
	free(e);
}

void
rt_set_now(struct rt_env *e, time_t now)
{
	e->now = now;
	ra_set_now(e->ra, now);
	open_ca(e);
	e->ra->ca = e->ca;	/* open_ca() freed the handle the ra had */
}

void
rt_fake_install(struct rt_env *e)
{
	ra_set_check(e->ra, fake_check, &e->fake);
}

void
rt_use_val(struct rt_env *e, struct val_ctx *val)
{
	e->ra->val = val;
	ra_set_check(e->ra, NULL, NULL);
}

void
rt_thumbprint(const char *seed, char out[44])
{
	uint8_t h[SHA256_DIGEST_LENGTH];

	SHA256((const uint8_t *)seed, strlen(seed), h);
	ra_b64u(h, sizeof(h), out);
}

int64_t
rt_account(struct rt_env *e, const char *seed)
{
	struct ra_account a = {0};
	struct ra_err err = {0};
	char tp[44], *jwk;
	int64_t id;

	rt_thumbprint(seed, tp);
	jwk = xasprintf("{\"kty\":\"EC\",\"seed\":\"%s\"}", seed);
	if (ra_account_new(e->ra, jwk, tp, NULL, NULL, &a, &err) != 0)
		fail_msg("account: %s", err.detail.msg);
	id = a.id;
	ra_account_clear(&a);
	free(jwk);
	return id;
}

int
rt_try_order(struct rt_env *e, int64_t account, const char *names,
    int64_t *id, struct ra_err *err)
{
	return rt_try_order_replacing(e, account, names, NULL, id, err);
}

int
rt_try_order_replacing(struct rt_env *e, int64_t account, const char *names,
    const struct ra_certid *replaces, int64_t *id, struct ra_err *err)
{
	struct ra_ident ids[16];
	struct ra_order o = {0};
	char *copy = xstrdup(names), *save = NULL, *t;
	size_t n = 0;
	int rc;

	for (t = strtok_r(copy, " ", &save); t != NULL && n < 16;
	    t = strtok_r(NULL, " ", &save)) {
		ids[n].type = "dns";
		ids[n].value = t;
		n++;
	}
	memset(err, 0, sizeof(*err));
	rc = ra_order_new_replacing(e->ra, account, ids, n, replaces, &o, err);
	if (id != NULL)
		*id = o.id;
	ra_order_clear(&o);
	free(copy);
	return rc;
}

int
rt_cm_setup(void **state)
{
	*state = rt_setup(RT_T0, NULL);
	return 0;
}

int
rt_cm_teardown(void **state)
{
	rt_teardown(*state);
	return 0;
}

int64_t
rt_order(struct rt_env *e, int64_t account, const char *names)
{
	struct ra_err err;
	int64_t id = 0;

	if (rt_try_order(e, account, names, &id, &err) != 0)
		fail_msg("order %s: %s", names, err.detail.msg);
	return id;
}

void
rt_validate_order(struct rt_env *e, int64_t account, int64_t order,
    enum ra_chall_type t)
{
	struct ra_order o = {0};
	struct ra_err err = {0};

	assert_int_equal(ra_order_get(e->ra, account, order, &o, &err), 0);
	for (size_t i = 0; i < o.nauthz; i++) {
		struct ra_authz a = {0};

		assert_int_equal(ra_authz_get(e->ra, account, o.authz_ids[i],
		    &a, &err), 0);
		if (a.status == RA_ST_PENDING) {
			for (size_t k = 0; k < a.nchall; k++) {
				struct ra_challenge c = {0};

				if (a.chall[k].type != t)
					continue;
				assert_int_equal(ra_challenge_respond(e->ra,
				    account, a.chall[k].id, &c, &err), 0);
				ra_challenge_clear(&c);
				assert_int_equal(ra_challenge_validate_now(
				    e->ra, account, a.chall[k].id, &c, &err),
				    0);
				ra_challenge_clear(&c);
			}
		}
		ra_authz_clear(&a);
	}
	ra_order_clear(&o);
}

EVP_PKEY *
rt_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	assert_non_null(k);
	return k;
}

uint8_t *
rt_csr(EVP_PKEY *k, const char *names, size_t *len)
{
	return rt_csr_tlsf(k, names, NULL, len);
}

uint8_t *
rt_csr_tlsf(EVP_PKEY *k, const char *names, const char *tlsf, size_t *len)
{
	X509_REQ *r = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	char *copy = xstrdup(names), *save = NULL, *t, *first = NULL;
	char san[4096] = "";
	unsigned char *der = NULL;
	uint8_t *out;
	int l;

	for (t = strtok_r(copy, " ", &save); t != NULL;
	    t = strtok_r(NULL, " ", &save)) {
		/* "IP:a.b.c.d": an iPAddress (the CN only when first) */
		int ip = strncmp(t, "IP:", 3) == 0;

		if (first == NULL)
			first = ip ? t + 3 : t;
		snprintf(san + strlen(san), sizeof(san) - strlen(san),
		    "%s%s%s", san[0] ? "," : "", ip ? "" : "DNS:", t);
	}
	assert_non_null(first);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)first, -1, -1, 0);
	X509_REQ_set_subject_name(r, n);
	X509_REQ_set_pubkey(r, k);
	sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL,
	    NID_subject_alt_name, san));
	if (tlsf != NULL)
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL,
		    NID_tlsfeature, tlsf));
	X509_REQ_add_extensions(r, exts);
	assert_true(X509_REQ_sign(r, k, EVP_sha256()) > 0);
	l = i2d_X509_REQ(r, &der);
	assert_true(l > 0);
	out = xmemdup(der, (size_t)l);
	*len = (size_t)l;
	OPENSSL_free(der);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(n);
	X509_REQ_free(r);
	free(copy);
	return out;
}

const char *
rt_order_status(struct rt_env *e, int64_t id, char *buf, size_t n)
{
	struct store_order o = {0};

	assert_int_equal(store_order_get(e->st, id, &o), 0);
	snprintf(buf, n, "%s", o.status);
	store_order_clear(&o);
	return buf;
}

long long
rt_count(struct rt_env *e, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	assert_int_equal(sqlite3_open_v2(e->db, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("sql: %s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* ---- certificates and mail of the key compromise tests ---------------- */

void
rt_spki_hex(EVP_PKEY *k, char hex[65])
{
	unsigned char *der = NULL;
	uint8_t h[SHA256_DIGEST_LENGTH];
	int n = i2d_PUBKEY(k, &der);

	assert_true(n > 0);
	SHA256(der, (size_t)n, h);
	hex_encode(h, sizeof(h), hex);
	OPENSSL_free(der);
}

int64_t
rt_account_with(struct rt_env *e, const char *seed, const char *contact)
{
	struct ra_account a = {0};
	struct ra_err err = {0};
	char tp[44], jwk[64];
	int64_t id;

	rt_thumbprint(seed, tp);
	snprintf(jwk, sizeof(jwk), "{\"k\":\"%s\"}", seed);
	if (ra_account_new_from(e->ra, NULL, jwk, tp, NULL, contact, NULL, &a,
	    &err) != 0)
		fail_msg("account: %s", err.detail.msg);
	id = a.id;
	ra_account_clear(&a);
	return id;
}

void
rt_acme_cert(struct rt_env *e, int64_t acct, const char *names, EVP_PKEY *k,
    char serial[41])
{
	struct ra_order o = {0};
	struct ra_err err = {0};
	int64_t ord = rt_order(e, acct, names);
	size_t len;
	uint8_t *csr;

	rt_validate_order(e, acct, ord, RA_CHALL_HTTP01);
	csr = rt_csr(k, names, &len);
	if (ra_order_finalize(e->ra, acct, ord, csr, len, &o, &err) != 0)
		fail_msg("finalize: %s", err.detail.msg);
	memcpy(serial, o.cert_serial, 41);
	free(csr);
	ra_order_clear(&o);
}

int64_t
rt_portal_order(struct rt_env *e, int64_t uid, EVP_PKEY *k,
    const char *product, const char *domain, const char *names)
{
	struct ra_portal_order_req q;
	struct ra_field_errs fe = {0};
	struct ra_err err = {0};
	int64_t id = 0;
	uint8_t *csr;
	int rc;

	memset(&q, 0, sizeof(q));
	q.customer_id = e->customer;
	q.user_id = uid;
	assert_int_equal(store_slot_add(e->st, e->contract, product,
	    &q.slot_id), 0);
	if (strcmp(product, "unlimited") == 0)	/* "Activate now" */
		assert_int_equal(store_slot_set_state(e->st, q.slot_id,
		    "unused", "active", 0), 0);
	q.domain = domain;
	q.purpose = "hosting";
	q.terms_accepted = 1;
	csr = rt_csr(k, names, &q.csr_len);
	q.csr = csr;
	q.admin.name = "Ada Admin";
	q.admin.email = "ada@example.com";
	q.admin.phone = "+49 721 123456";
	q.tech.name = "Tom Tech";
	q.tech.email = "tom@example.com";
	q.tech.phone = "0721/654321";
	q.org.legal_name = "Beispiel GmbH";
	q.org.country = "DE";
	q.org.locality = "Karlsruhe";
	q.org.street = "Hauptstr. 1";
	q.org.postal_code = "76131";
	rc = ra_portal_order_new(e->ra, &q, &id, &fe, &err);
	free(csr);
	if (rc != 0)
		fail_msg("order: %s (%s)", err.detail.msg, fe.n ?
		    fe.e[0].msg : "");
	return id;
}

void
rt_portal_cert(struct rt_env *e, int64_t uid, const char *domain,
    const char *names, EVP_PKEY *k, char serial[41], int64_t *order)
{
	struct ra_portal_order_req q;
	struct ra_field_errs fe = {0};
	struct ra_portal_order o = {0};
	struct ra_err err = {0};
	int64_t slot = 0, id = 0;
	int issued = 0;
	uint8_t *csr;

	assert_int_equal(store_slot_add(e->st, e->contract, "starter", &slot),
	    0);
	memset(&q, 0, sizeof(q));
	q.customer_id = e->customer;
	q.user_id = uid;
	q.slot_id = slot;
	q.domain = domain;
	q.purpose = "hosting";
	q.terms_accepted = 1;
	csr = rt_csr(k, names, &q.csr_len);
	q.csr = csr;
	if (ra_portal_order_new(e->ra, &q, &id, &fe, &err) != 0)
		fail_msg("portal order: %s %s", err.detail.msg,
		    fe.n ? fe.e[0].msg : "");
	free(csr);
	assert_int_equal(ra_portal_validate(e->ra, id, "operator", "cli:t",
	    &issued, NULL), 0);
	assert_int_equal(issued, 1);
	assert_int_equal(ra_portal_order_get(e->ra, e->customer, id, &o), 0);
	memcpy(serial, o.cert_serial, 41);
	ra_portal_order_clear(&o);
	*order = id;
}

const char *
rt_slot_state(struct rt_env *e, int64_t order, char *buf, size_t n)
{
	struct store_order o = {0};
	struct store_slot s = {0};

	assert_int_equal(store_order_get(e->st, order, &o), 0);
	assert_int_equal(store_slot_get(e->st, o.slot_id, &s), 0);
	snprintf(buf, n, "%s", s.state);
	store_slot_clear(&s);
	store_order_clear(&o);
	return buf;
}

char *
rt_mail_to(struct rt_env *e, const char *kind, const char *to, char **subject)
{
	struct store_mail *m = NULL;
	size_t n = 0;
	char *body = NULL;

	assert_int_equal(store_mail_page(e->st, 0, STORE_MAIL_PAGE_MAX, &m,
	    &n), 0);
	for (size_t i = 0; i < n; i++)
		if (m[i].kind != NULL && strcmp(m[i].kind, kind) == 0 &&
		    strcmp(m[i].to_addr, to) == 0) {
			if (body != NULL)
				fail_msg("two %s mails to %s", kind, to);
			body = xstrdup(m[i].body);
			if (subject != NULL)
				*subject = xstrdup(m[i].subject);
		}
	store_mail_list_free(m, n);
	return body;
}

void
rt_has(const char *text, const char *what)
{
	if (strstr(text, what) == NULL)
		fail_msg("'%s' not in:\n%s", what, text);
}

void
rt_has_not(const char *text, const char *what)
{
	if (strstr(text, what) != NULL)
		fail_msg("'%s' in:\n%s", what, text);
}

/* ---- HTTP server --------------------------------------------------------- */

static void
serve_one(struct rt_http *h, int c)
{
	char req[2048], line[1024], resp[1024];
	size_t n = 0;
	ssize_t r;
	int ok;

	while (n < sizeof(req) - 1) {
		struct pollfd p = {c, POLLIN, 0};

		if (poll(&p, 1, 2000) <= 0)
			break;
		r = read(c, req + n, sizeof(req) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[n] = '\0';
	line[0] = '\0';
	sscanf(req, "GET %1023s ", line);
	pthread_mutex_lock(&h->lock);
	h->hits++;
	ok = h->path[0] != '\0' && strcmp(line, h->path) == 0;
	if (ok)
		snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\n"
		    "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n%s", strlen(h->body), h->body);
	else
		snprintf(resp, sizeof(resp), "HTTP/1.1 404 Not Found\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n");
	pthread_mutex_unlock(&h->lock);
	if (write(c, resp, strlen(resp)) < 0)
		(void)0;
}

static void *
http_main(void *arg)
{
	struct rt_http *h = arg;

	for (;;) {
		struct pollfd p[2] = {{h->fd, POLLIN, 0},
			{h->stop[0], POLLIN, 0}};
		int c;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		c = accept(h->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(h, c);
		close(c);
	}
	return NULL;
}

int
rt_http_start(struct rt_http *h)
{
	struct sockaddr_in a = {0};
	socklen_t al = sizeof(a);
	int one = 1;

	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h->fd < 0)
		return -1;
	setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(h->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(h->fd, 16) != 0 ||
	    getsockname(h->fd, (struct sockaddr *)&a, &al) != 0 ||
	    pipe(h->stop) != 0)
		return -1;
	h->port = ntohs(a.sin_port);
	return pthread_create(&h->thread, NULL, http_main, h) == 0 ? 0 : -1;
}

void
rt_http_stop(struct rt_http *h)
{
	if (write(h->stop[1], "x", 1) < 0)
		(void)0;
	pthread_join(h->thread, NULL);
	close(h->fd);
	close(h->stop[0]);
	close(h->stop[1]);
	pthread_mutex_destroy(&h->lock);
}

void
rt_http_set(struct rt_http *h, const char *token, const char *body)
{
	pthread_mutex_lock(&h->lock);
	snprintf(h->path, sizeof(h->path), "/.well-known/acme-challenge/%s",
	    token);
	snprintf(h->body, sizeof(h->body), "%s", body);
	pthread_mutex_unlock(&h->lock);
}

/* ---- knsupdate ----------------------------------------------------------- */

int
rt_nsupdate(const char *resolver, const char *lines)
{
	char cmd[256], host[64];
	const char *colon = strrchr(resolver, ':');
	FILE *p;
	int st;

	snprintf(host, sizeof(host), "%.*s", (int)(colon - resolver),
	    resolver);
	snprintf(cmd, sizeof(cmd), "knsupdate -t 3 >/dev/null 2>&1");
	p = popen(cmd, "w");
	if (p == NULL)
		return -1;
	fprintf(p, "server %s %s\nzone vtest.\n%s\nsend\nquit\n", host,
	    colon + 1, lines);
	st = pclose(p);
	return st == 0 ? 0 : -1;
}

/* ---- real validations ---------------------------------------------------- */

int
rt_real_setup(void **state)
{
	struct rt_real *r = xcalloc(1, sizeof(*r));
	struct val_conf c;
	struct rc_detail d = {""};

	if (tl_knot_start(&r->knot) != 0) {
		free(r);
		*state = NULL;
		return 0;
	}
	assert_int_equal(rt_http_start(&r->http), 0);
	tl_conf(&c, r->knot.resolver);
	c.http01_port = r->http.port;
	if (val_ctx_open(&c, &r->val, &d) != 0)
		fail_msg("val_ctx_open: %s", d.msg);
	r->e = rt_setup(RT_T0, NULL);
	rt_use_val(r->e, r->val);
	*state = r;
	return 0;
}

int
rt_real_teardown(void **state)
{
	struct rt_real *r = *state;

	if (r == NULL)
		return 0;
	rt_teardown(r->e);
	val_ctx_free(r->val);
	rt_http_stop(&r->http);
	tl_knot_stop(&r->knot);
	free(r);
	return 0;
}
