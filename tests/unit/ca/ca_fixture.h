/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The environment the CA unit tests run in: a temporary directory holding
 * a SQLite store and the keys of a real signer process, and, when asked
 * for, a CA hierarchy made in it and opened. Linked into tests/unit/ca/
 * test_{crl,init,issue,ocsp} (meson.build). Failures end the test through
 * cmocka; nothing here returns an error.
 */
#ifndef CERTDESK_TESTS_CA_FIXTURE_H
#define CERTDESK_TESTS_CA_FIXTURE_H

#include "ca/ca.h"
#include "signer/signer.h"
#include "store/store.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <time.h>

#define CA_FIXTURE_BASE "http://ca.example.test"	/* conf.base_url */
#define CA_FIXTURE_NOW 1768003200			/* 2026-01-10 */

struct ca_fixture {
	char *dir;		/* $TMPDIR/cd-ca-XXXXXX, removed by free */
	char *keydir, *crl_dir, *db;	/* dir/keys, dir/crl, dir/ca.db */
	char *cafile;		/* dir/chain.pem: root then issuing (init) */
	struct store *st;
	struct signer *sg;
	struct ca_conf conf;	/* strings borrowed from literals and above */
	/* set by ca_fixture_init(): */
	struct ca *ca;
	X509 *root, *issuing;
	int64_t root_id, issuing_id;	/* their store_issuer ids */
	EVP_PKEY *key;		/* a subscriber's P-256 key */
	struct store_org org;	/* a validated (OV and EV) organisation */
};

/*
 * Directory, store and signer, and conf for hierarchy ("ecdsa" or "rsa")
 * at now, OCSP on; no CA yet. Free with ca_fixture_free().
 */
struct ca_fixture *ca_fixture_new(const char *hierarchy, time_t now);

/* Makes the hierarchy of f->conf (ca_init_hierarchy), opens the CA and
 * fills the fields below "set by ca_fixture_init()". */
void ca_fixture_init(struct ca_fixture *f);

/* Both of the above: an "ecdsa" CA at CA_FIXTURE_NOW, OCSP as given. */
struct ca_fixture *ca_fixture_ca(int ocsp);

/* Closes all, removes the directory. NULL is fine. */
void ca_fixture_free(struct ca_fixture *f);

/* A parsed CSR of f->key with the one SAN name; ca_csr_free() it. */
struct ca_csr *ca_fixture_dv_csr(struct ca_fixture *f, const char *name);

/* A DV certificate for name (a CSR of f->key with that one SAN), issued
 * by f->ca; free with ca_cert_free(). */
struct ca_cert *ca_fixture_issue_dv(struct ca_fixture *f, const char *name);

#endif
