/* SPDX-License-Identifier: Apache-2.0 */
/* The CA unit tests' environment (ca_fixture.h). */
#include "ca_fixture.h"
#include "util/xmalloc.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static X509 *
pem_x509(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

	assert_non_null(x);
	BIO_free(b);
	return x;
}

struct ca_fixture *
ca_fixture_new(const char *hierarchy, time_t now)
{
	struct ca_fixture *f = xcalloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");
	struct store_conf sc;

	f->dir = xasprintf("%s/cd-ca-XXXXXX", tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	f->keydir = xasprintf("%s/keys", f->dir);
	f->crl_dir = xasprintf("%s/crl", f->dir);
	f->db = xasprintf("%s/ca.db", f->dir);
	f->cafile = xasprintf("%s/chain.pem", f->dir);
	assert_int_equal(mkdir(f->keydir, 0700), 0);
	memset(&sc, 0, sizeof(sc));
	sc.backend = "sqlite";
	sc.path = f->db;
	sc.durable = 0;
	assert_int_equal(store_open(&sc, &f->st), 0);
	assert_int_equal(signer_spawn(f->keydir, &f->sg), 0);
	f->conf.base_url = CA_FIXTURE_BASE;
	f->conf.ocsp = 1;
	f->conf.crl_validity_days = 7;
	f->conf.crl_dir = f->crl_dir;
	f->conf.hierarchy = hierarchy;
	f->conf.root_cn = "certdesk Test Root CA";
	f->conf.issuing_cn = "certdesk Test Issuing CA";
	f->conf.organization = "certdesk test";
	f->conf.country = "DE";
	f->conf.now = now;
	return f;
}

void
ca_fixture_init(struct ca_fixture *f)
{
	struct store_issuer si;
	struct rc_detail d = {""};
	char *root_pem, *chain_pem;
	FILE *fp;

	if (ca_init_hierarchy(&f->conf, f->st, f->sg, &d) != 0)
		fail_msg("init: %s", d.msg);
	assert_int_equal(ca_open(&f->conf, f->st, f->sg, NULL, &f->ca), 0);
	assert_int_equal(ca_root_pem(f->ca, &root_pem), 0);
	assert_int_equal(ca_chain_pem(f->ca, &chain_pem), 0);
	f->root = pem_x509(root_pem);
	f->issuing = pem_x509(chain_pem);
	fp = fopen(f->cafile, "w");
	assert_non_null(fp);
	fputs(root_pem, fp);
	fputs(chain_pem, fp);
	assert_int_equal(fclose(fp), 0);
	free(root_pem);
	free(chain_pem);
	memset(&si, 0, sizeof(si));
	assert_int_equal(store_issuer_get_active(f->st, 1, &si), 0);
	f->root_id = si.id;
	store_issuer_clear(&si);
	assert_int_equal(store_issuer_get_active(f->st, 0, &si), 0);
	f->issuing_id = si.id;
	store_issuer_clear(&si);
	f->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(f->key);

	f->org.id = 1;
	f->org.legal_name = "Beispiel Handels GmbH";
	f->org.country = "DE";
	f->org.state = "Bayern";
	f->org.locality = "München";
	f->org.business_category = "Private Organization";
	f->org.jurisdiction_country = "DE";
	f->org.jurisdiction_state = "Bayern";
	f->org.jurisdiction_locality = "München";
	f->org.registration_number = "HRB 123456";
	f->org.validated = 1;
	f->org.ev_validated = 1;
	f->org.validated_at = f->conf.now - 30 * 86400;
}

struct ca_fixture *
ca_fixture_ca(int ocsp)
{
	struct ca_fixture *f = ca_fixture_new("ecdsa", CA_FIXTURE_NOW);

	f->conf.ocsp = ocsp;
	ca_fixture_init(f);
	return f;
}

void
ca_fixture_free(struct ca_fixture *f)
{
	if (f == NULL)
		return;
	ca_free(f->ca);
	X509_free(f->root);
	X509_free(f->issuing);
	EVP_PKEY_free(f->key);
	signer_free(f->sg);
	store_close(f->st);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f->dir);
	free(f->keydir);
	free(f->crl_dir);
	free(f->db);
	free(f->cafile);
	free(f);
}

struct ca_csr *
ca_fixture_dv_csr(struct ca_fixture *f, const char *name)
{
	X509_REQ *r = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	char *san = xasprintf("DNS:%s", name);
	unsigned char *der = NULL;
	struct ca_csr *csr = NULL;
	struct rc_detail d = {""};
	int len;

	X509_REQ_set_pubkey(r, f->key);
	sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL,
	    NID_subject_alt_name, san));
	X509_REQ_add_extensions(r, exts);
	assert_true(X509_REQ_sign(r, f->key, EVP_sha256()) > 0);
	len = i2d_X509_REQ(r, &der);
	assert_true(len > 0);
	if (ca_csr_parse(der, (size_t)len, NULL, &csr, &d) != 0)
		fail_msg("csr: %s", d.msg);
	OPENSSL_free(der);
	free(san);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(r);
	return csr;
}

struct ca_cert *
ca_fixture_issue_dv(struct ca_fixture *f, const char *name)
{
	struct ca_csr *csr = ca_fixture_dv_csr(f, name);
	struct ca_cert *c = NULL;
	struct ca_issue_req req;
	struct rc_detail d = {""};

	memset(&req, 0, sizeof(req));
	req.profile = CA_PROFILE_DV;
	req.csr = csr;
	req.actor = "test";
	if (ca_issue(f->ca, &req, &c, &d) != 0)
		fail_msg("issue: %s", d.msg);
	ca_csr_free(csr);
	return c;
}
