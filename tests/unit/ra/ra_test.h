/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The environment of the ra tests: a temporary directory with a real
 * store (plus a second, non-durable handle for nonces), a real signer
 * process and an initialised CA, and an ra over them; a fake validation
 * function the tests steer; CSRs made with OpenSSL; a tiny HTTP server on
 * 127.0.0.1 for real http-01 checks; and raw SQL counts.
 */
#ifndef CERTDESK_TESTS_RA_RA_TEST_H
#define CERTDESK_TESTS_RA_RA_TEST_H

#include "ca/ca.h"
#include "ra/ra_int.h"
#include "../validation/testlib.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define RT_URL_PREFIX "https://acme.test/acme/acct/"
#define RT_T0 1768003200	/* 2026-01-10T00:00:00Z */

/* What the fake validation answers. */
struct rt_fake {
	int http01_ok, dns01_ok, tlsalpn01_ok;	/* outcome per method */
	int caa_ok;				/* CAA permits */
	const char *caa_forbid;		/* CAA forbids this name */
	unsigned calls, caa_calls;
	char last_key_authz[256];		/* of the last check */
	char last_method[16];			/* CAA: method passed */
	int last_is_ip;				/* http-01/tls-alpn-01:
						 * req->is_ip passed */
	char last_account_uri[128];		/* CAA: account URI passed */
	/* called once, by the next check, before it answers (then
	 * cleared): what happens meanwhile */
	void (*during)(void *arg);
	void *during_arg;
};

struct rt_env {
	char *dir, *keydir, *crl_dir, *db;
	struct store *st;
	struct signer *sg;
	struct ca_conf cconf;
	struct ca *ca;
	struct ra_conf rconf;
	struct ra *ra;
	struct rt_fake fake;
	int64_t customer, contract;
	time_t now;
};

/* Makes everything (CA time and ra time pinned at now; fake validation
 * installed, every check passing). blocked: contents of a blocked-names
 * file, or NULL. */
struct rt_env *rt_setup(time_t now, const char *blocked);
void rt_teardown(struct rt_env *e);
/* cmocka fixtures: *state = rt_setup(RT_T0, NULL), and its teardown. */
int rt_cm_setup(void **state);
int rt_cm_teardown(void **state);
/* Moves both clocks. */
void rt_set_now(struct rt_env *e, time_t now);
/* (Re)installs the fake validation on e->ra. */
void rt_fake_install(struct rt_env *e);
/* Back to the real validation library through val (borrowed). */
void rt_use_val(struct rt_env *e, struct val_ctx *val);

/* An account with a made-up JWK and thumbprint derived from seed. */
int64_t rt_account(struct rt_env *e, const char *seed);
/* The thumbprint rt_account() gives for seed (43 characters). */
void rt_thumbprint(const char *seed, char out[44]);

/* A new order for the space-separated DNS names; asserts success. */
int64_t rt_order(struct rt_env *e, int64_t account, const char *names);
/* The same, returning ra_order_new's rc with err filled (*id, which may
 * be NULL, gets the order on success). */
int rt_try_order(struct rt_env *e, int64_t account, const char *names,
    int64_t *id, struct ra_err *err);
/* The same for an order that replaces a certificate (RFC 9773). */
int rt_try_order_replacing(struct rt_env *e, int64_t account,
    const char *names, const struct ra_certid *replaces, int64_t *id,
    struct ra_err *err);
/* Answers and validates every pending authorization of the order with the
 * challenge of type t (the fake decides the outcome). */
void rt_validate_order(struct rt_env *e, int64_t account, int64_t order,
    enum ra_chall_type t);

/* A DER CSR for the space-separated names (SAN, CN = first; "IP:x" is an
 * iPAddress SAN) with key k; free(). */
uint8_t *rt_csr(EVP_PKEY *k, const char *names, size_t *len);
/* The same with a TLS Feature extension (OpenSSL's syntax, e.g.
 * "status_request") unless tlsf is NULL. */
uint8_t *rt_csr_tlsf(EVP_PKEY *k, const char *names, const char *tlsf,
    size_t *len);
EVP_PKEY *rt_key(void);

/* SELECT count(*) ... through a raw sqlite3 connection. */
long long rt_count(struct rt_env *e, const char *sql);
/* The status of order id in the store, into buf (returned). */
const char *rt_order_status(struct rt_env *e, int64_t id, char *buf,
    size_t n);

/* ---- key compromise: certificates of two kinds of subscriber, mail ---- */

/* Lowercase hex SHA-256 of k's SubjectPublicKeyInfo. */
void rt_spki_hex(EVP_PKEY *k, char hex[65]);
/* An ACME account with the contact list (JSON text, or NULL). */
int64_t rt_account_with(struct rt_env *e, const char *seed,
    const char *contact);
/* A certificate for names to ACME account acct with key k; its serial. */
void rt_acme_cert(struct rt_env *e, int64_t acct, const char *names,
    EVP_PKEY *k, char serial[41]);
/* Places a portal order of product (a new slot of e's contract; an
 * unlimited one activated) for domain, by user uid, with a CSR of key k
 * for names and contacts and organisation details for OV/EV; its id. */
int64_t rt_portal_order(struct rt_env *e, int64_t uid, EVP_PKEY *k,
    const char *product, const char *domain, const char *names);
/* A certificate of a DV portal order (in a new starter slot of e's
 * contract) placed by user uid with key k; its serial, and the order's id
 * in *order. */
void rt_portal_cert(struct rt_env *e, int64_t uid, const char *domain,
    const char *names, EVP_PKEY *k, char serial[41], int64_t *order);
/* The state of the slot of portal order id, into buf (returned). */
const char *rt_slot_state(struct rt_env *e, int64_t order, char *buf,
    size_t n);
/* The body of the one queued mail of kind to addr (new string), or NULL
 * when there is none; fails on two. *subject (unless subject is NULL)
 * gets the subject (new string) when there is one. */
char *rt_mail_to(struct rt_env *e, const char *kind, const char *to,
    char **subject);
/* Fail unless text has what; fail if it has. */
void rt_has(const char *text, const char *what);
void rt_has_not(const char *text, const char *what);

/* ---- a tiny HTTP server for http-01 -------------------------------------- */

struct rt_http {
	pthread_t thread;
	int fd;
	int stop[2];
	uint16_t port;
	pthread_mutex_t lock;
	char path[256];		/* answers 200 with body on this path */
	char body[512];
	unsigned hits;
};

int rt_http_start(struct rt_http *h);
void rt_http_stop(struct rt_http *h);
void rt_http_set(struct rt_http *h, const char *token, const char *body);

/* Runs knsupdate against the knot at resolver "127.0.0.1:PORT" with the
 * update lines (e.g. "update add x.vtest. 60 TXT \"v\""); 0 on success. */
int rt_nsupdate(const char *resolver, const char *lines);

/* ---- real validations ---------------------------------------------------- */

/* A knotd of the validation tests (answering the test zones), the HTTP
 * server above and a val_ctx resolving through that knotd with http-01 on
 * the server's port, under an ra environment at RT_T0. */
struct rt_real {
	struct tl_knot knot;
	struct rt_http http;
	struct val_ctx *val;
	struct rt_env *e;
};
/* cmocka group/test fixtures: *state gets a new rt_real, or NULL when
 * knotd cannot start (tests then skip). */
int rt_real_setup(void **state);
int rt_real_teardown(void **state);

#endif
