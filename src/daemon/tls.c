/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The certificate of certdesk's own HTTPS service (ACME, portal): issued by
 * its CA under the service profile (CA_PROFILE_SERVICE) for a key the
 * daemon makes itself. The key is not a CA key, so it never goes near the
 * signer; it lives in DATA/tls/service.key (mode 0600, directory 0700,
 * created with O_EXCL) and the certificate with its chain in
 * DATA/tls/service.pem. The root printed by `certdesk ca root` anchors it.
 *
 * `init` issues it; `serve` re-issues it (new key, new certificate) when
 * the files are missing or do not match, when it does not cover the names
 * the listener is reached by, when it was not issued by the active issuing
 * CA, or when more than two thirds of its life are over.
 *
 * Runs in the main certdesk process. Trusts the data directory; checks the
 * files it reads anyway (a mismatch means re-issuing, not failing).
 */
#include "daemon/daemon_int.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PEM (256 * 1024)

static void
add_name(char names[][DAEMON_SERVICE_NAME], size_t *n, const char *name)
{
	if (*n >= DAEMON_SERVICE_NAMES || name[0] == '\0' ||
	    strlen(name) >= DAEMON_SERVICE_NAME)
		return;
	for (size_t i = 0; i < *n; i++)
		if (strcasecmp(names[i], name) == 0)
			return;
	snprintf(names[*n], DAEMON_SERVICE_NAME, "%s", name);
	for (char *p = names[*n]; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	(*n)++;
}

/* The host part of "ADDR:PORT", "[v6]:PORT" or an https:// URL's
 * authority, without brackets, into out. */
static void
host_of(const char *s, char *out, size_t len)
{
	const char *end;

	out[0] = '\0';
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end)
			snprintf(out, len, "%.*s", (int)(end - s - 1), s + 1);
		return;
	}
	end = strchr(s, ':');
	snprintf(out, len, "%.*s", end ? (int)(end - s) : (int)strlen(s), s);
}

size_t
daemon_service_names(const char *listen, const char *public_url,
    char names[][DAEMON_SERVICE_NAME])
{
	char host[DAEMON_SERVICE_NAME];
	size_t n = 0;

	if (listen && listen[0]) {
		host_of(listen, host, sizeof(host));
		if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
		    host[0] == '\0') {
			add_name(names, &n, "127.0.0.1");
			add_name(names, &n, "::1");
		} else if (strcmp(host, "localhost") == 0) {
			add_name(names, &n, "127.0.0.1");
		} else {
			add_name(names, &n, host);
		}
	}
	add_name(names, &n, "localhost");
	if (public_url && strncmp(public_url, "https://", 8) == 0) {
		char hp[DAEMON_SERVICE_NAME];
		const char *a = public_url + 8;

		snprintf(hp, sizeof(hp), "%.*s", (int)strcspn(a, "/?#"), a);
		host_of(hp, host, sizeof(host));
		add_name(names, &n, host);
	}
	return n;
}

/* ---- the existing files -------------------------------------------------- */

static int
is_ip(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* Why the files cannot be used as they are (a reason for the log), or
 * NULL when they can. */
static const char *
unusable(struct daemon_ctx *cx, X509 *cert, EVP_PKEY *key,
    char names[][DAEMON_SERVICE_NAME], size_t n, time_t now)
{
	struct store_issuer is;
	const unsigned char *p;
	const char *why = NULL;
	X509 *issuer = NULL;
	time_t nb, na;
	struct tm tm;

	if (X509_check_private_key(cert, key) != 1)
		return "the key does not match the certificate";
	for (size_t i = 0; i < n; i++) {
		int ok = is_ip(names[i]) ?
		    X509_check_ip_asc(cert, names[i], 0) == 1 :
		    X509_check_host(cert, names[i], 0,
		    X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1;

		if (!ok)
			return "it does not cover every listening name";
	}
	if (ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm) != 1)
		return "unreadable notBefore";
	nb = timegm(&tm);
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
		return "unreadable notAfter";
	na = timegm(&tm);
	if (now < nb || now >= nb + (na - nb) / 3 * 2)
		return "two thirds of its life are over";
	memset(&is, 0, sizeof(is));
	if (store_issuer_get_active(cx->st, 0, &is) != 0)
		return "no active issuing CA";
	p = is.cert_der;
	issuer = d2i_X509(NULL, &p, (long)is.cert_len);
	if (issuer == NULL || X509_verify(cert, X509_get0_pubkey(issuer)) != 1)
		why = "it was not issued by the active issuing CA";
	X509_free(issuer);
	store_issuer_clear(&is);
	return why;
}

/* Reads both files; 0 with the texts, or RC_NOTFOUND / RC_IO. */
static int
load_files(const char *cert_path, const char *key_path, char **cert_pem,
    struct sec **key_pem)
{
	struct buf b;
	int rc;

	*cert_pem = NULL;
	*key_pem = NULL;
	if (!fs_exists(cert_path) || !fs_exists(key_path))
		return RC_NOTFOUND;
	buf_init(&b, MAX_PEM);
	rc = buf_read_file(&b, key_path);
	if (rc == 0 && b.len > 0) {
		*key_pem = sec_dup(b.data, b.len + 1);	/* with the NUL */
		sec_wipe(b.data, b.len);
	}
	buf_free(&b);
	if (rc != 0 || *key_pem == NULL)
		return RC_IO;
	buf_init(&b, MAX_PEM);
	rc = buf_read_file(&b, cert_path);
	if (rc == 0 && b.len > 0)
		*cert_pem = (char *)buf_steal(&b, NULL);
	buf_free(&b);
	if (*cert_pem == NULL) {
		sec_free(*key_pem);
		*key_pem = NULL;
		return RC_IO;
	}
	return 0;
}

/* ---- a new key and certificate ------------------------------------------- */

static int
issue(struct daemon_ctx *cx, const char *dir, const char *cert_path,
    const char *key_path, char names[][DAEMON_SERVICE_NAME], size_t n,
    char **cert_pem, struct sec **key_pem)
{
	struct rc_detail d = {{0}};
	struct ca_csr csr;
	struct ca_issue_req req;
	struct ca_cert *cert = NULL;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	BUF_MEM *mem;
	uint8_t *spki = NULL;
	char *leaf = NULL, *chain = NULL, *tmp = NULL, *pem = NULL;
	int rc = RC_CRYPTO, len;

	pkey = EVP_EC_gen("P-256");
	if (pkey == NULL)
		goto crypto;
	len = i2d_PUBKEY(pkey, &spki);
	if (len <= 0)
		goto crypto;
	memset(&csr, 0, sizeof(csr));
	csr.spki = spki;
	csr.spki_len = (size_t)len;
	csr.key_bits = 256;
	csr.key_is_ec = 1;
	for (size_t i = 0; i < n; i++)
		csr.names[i] = names[i];
	csr.nnames = n;
	memset(&req, 0, sizeof(req));
	req.profile = CA_PROFILE_SERVICE;
	req.csr = &csr;
	req.actor = "daemon:service-certificate";
	rc = ca_issue(cx->ca, &req, &cert, &d);
	if (rc != 0) {
		daemon_fail(cx, "cannot issue the HTTPS service certificate: "
		    "%s", rc_detail_str(&d, rc));
		goto out;
	}
	leaf = daemon_pem_encode("CERTIFICATE", cert->der, cert->der_len);
	if ((rc = ca_chain_pem(cx->ca, &chain)) != 0) {
		daemon_fail(cx, "cannot read the issuing chain: %s",
		    rc_str(rc));
		goto out;
	}
	pem = xasprintf("%s%s", leaf, chain);

	/* the key: PKCS#8 PEM in wiped memory, then an O_EXCL file */
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0,
	    NULL, NULL) != 1 || BIO_get_mem_ptr(bio, &mem) != 1)
		goto crypto;
	*key_pem = sec_new(mem->length + 1);
	memcpy((*key_pem)->data, mem->data, mem->length);
	if (fs_mkdir_p(dir, 0700) != 0 || chmod(dir, 0700) != 0) {
		daemon_fail(cx, "%s: cannot create: %s", dir,
		    strerror(errno));
		rc = RC_IO;
		goto out;
	}
	tmp = xasprintf("%s.new", key_path);
	(void)unlink(tmp);
	if ((rc = fs_write_excl(tmp, mem->data, mem->length, 0600)) != 0 ||
	    (rc = fs_write_atomic(cert_path, pem, strlen(pem), 0644)) != 0) {
		daemon_fail(cx, "%s: cannot write the service key and "
		    "certificate: %s", dir, rc_str(rc));
		(void)unlink(tmp);
		goto out;
	}
	if (rename(tmp, key_path) != 0) {
		daemon_fail(cx, "%s: cannot rename: %s", tmp, strerror(errno));
		(void)unlink(tmp);
		rc = RC_IO;
		goto out;
	}
	{
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	log_info(LOG_MAIN, "HTTPS service certificate %s issued for %s%s "
	    "(%s)", cert->serial, names[0], n > 1 ? " and more" : "",
	    cert_path);
	*cert_pem = pem;
	pem = NULL;
	rc = 0;
	goto out;
crypto:
	log_openssl(LOG_MAIN, "service key");
	daemon_fail(cx, "cannot make the HTTPS service key");
	rc = RC_CRYPTO;
out:
	if (rc != 0) {
		sec_free(*key_pem);
		*key_pem = NULL;
	}
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	OPENSSL_free(spki);
	ca_cert_free(cert);
	free(leaf);
	free(chain);
	free(tmp);
	free(pem);
	return rc;
}

int
daemon_service_cert(struct daemon_ctx *cx,
    char names[][DAEMON_SERVICE_NAME], size_t n, char **cert_pem,
    struct sec **key_pem)
{
	char *dir = xasprintf("%s/tls", cx->data);
	char *cert_path = xasprintf("%s/service.pem", dir);
	char *key_path = xasprintf("%s/service.key", dir);
	const char *why = "there is none";
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	time_t now = cx->cac.now ? cx->cac.now : time(NULL);
	int rc;

	*cert_pem = NULL;
	*key_pem = NULL;
	rc = load_files(cert_path, key_path, cert_pem, key_pem);
	if (rc == RC_IO)
		why = "the files cannot be read";
	if (rc == 0) {
		bio = BIO_new_mem_buf((*key_pem)->data, -1);
		key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) :
		    NULL;
		BIO_free(bio);
		bio = BIO_new_mem_buf(*cert_pem, -1);
		cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		if (key == NULL || cert == NULL)
			why = "the files cannot be parsed";
		else
			why = unusable(cx, cert, key, names, n, now);
		ERR_clear_error();
	}
	if (why == NULL) {
		log_debug(LOG_MAIN, "%s: HTTPS service certificate is good",
		    cert_path);
		rc = 0;
		goto out;
	}
	log_info(LOG_MAIN, "%s: issuing a new HTTPS service certificate: %s",
	    cert_path, why);
	free(*cert_pem);
	sec_free(*key_pem);
	*cert_pem = NULL;
	*key_pem = NULL;
	rc = issue(cx, dir, cert_path, key_path, names, n, cert_pem, key_pem);
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	free(dir);
	free(cert_path);
	free(key_path);
	return rc;
}
