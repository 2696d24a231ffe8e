/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ACME server (RFC 8555, RFC 9773 renewal information): the resources
 * under /acme/ as routes of the HTTP layer. Every POST is a flattened JWS
 * that is parsed and verified here (nonce, url, kid or jwk); every decision
 * (accounts, orders, validations, issuance, revocation) is the ra's. The
 * daemon creates one struct acme, registers acme_routes() on its HTTPS
 * server with the struct acme as the app pointer, and gives it a way to get
 * a registration authority handle for the calling thread.
 *
 * Runs in the main certdesk process on the HTTP worker threads. Trusts its
 * configuration and the ra; trusts nothing in a request.
 */
#ifndef CERTDESK_ACME_ACME_H
#define CERTDESK_ACME_ACME_H

#include "http/http.h"
#include "util/rc.h"

#include <stddef.h>
#include <stdint.h>

struct ra;

/*
 * Where request threads get their ra: get() fills *ra with a handle only
 * the calling thread uses until it calls put() with the same handle
 * (e.g. a thread-local handle, or one from a pool). get() returns 0, or an
 * RC_* (the request is then answered serverInternal).
 */
struct acme_ra_source {
	int (*get)(void *arg, struct ra **ra);
	void (*put)(void *arg, struct ra *ra);
	void *arg;
};

struct acme_conf {
	/* https://host[:port] without a trailing '/': every URL this server
	 * hands out starts with it, and the "url" of every JWS must equal it
	 * followed by the request path (RFC 8555 §6.4). Required. */
	const char *base_url;
	/* Directory meta (RFC 8555 §7.1.1); NULL or "" leaves a field out. */
	const char *terms_of_service;
	const char *website;
	const char *const *caa_identities;	/* NULL-terminated, or NULL */
	int require_eab;			/* externalAccountRequired */
	struct acme_ra_source ra;
};

struct acme;

/* Copies conf (strings included). Returns 0 and a new server in *out
 * (acme_free()), or RC_INVAL for a missing or malformed base_url. */
int acme_new(const struct acme_conf *conf, struct acme **out);
void acme_free(struct acme *a);		/* NULL is fine */

/*
 * The routes of the ACME resources (static, borrowed), all under /acme/,
 * the last one a catch-all prefix "/acme/" (so list them after any other
 * route under /acme/). Register them with the struct acme as app.
 */
const struct http_route *acme_routes(size_t *n);

/*
 * For struct http_conf.on_error of a server that carries acme_routes():
 * answers the layer's own errors (404, 405, 413, 500) under /acme/ as
 * problem documents; returns non-zero for other paths (plain text then).
 */
int acme_on_http_error(struct http_req *r, unsigned status,
    const char *reason, void *app);

/*
 * The SHA-256 of the SubjectPublicKeyInfo of a stored account key (its
 * canonical JWK text), as store_acme_account_fill_keys() asks it for
 * accounts made before the store kept it (arg unused). 0, or RC_INVAL
 * when jwk is not a usable key.
 */
int acme_jwk_spki_sha256(const char *jwk, uint8_t out[32], void *arg);

/* The paths of the resources, for logs and docs. */
#define ACME_PATH_DIRECTORY "/acme/directory"

#endif
