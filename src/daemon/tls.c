/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The certificate of certdesk's own HTTPS service (ACME, portal): issued by
 * its CA under the service profile (CA_PROFILE_SERVICE) for a key the
 * daemon makes itself, valid for http.service_cert_validity_seconds (90
 * days by default). The key is not a CA key, so it never goes near the
 * signer; it lives in DATA/tls/service.key (mode 0600, directory 0700,
 * created with O_EXCL) and the certificate with its chain in
 * DATA/tls/service.pem. The root printed by `certdesk ca root` anchors it.
 *
 * `init` issues it; `serve` re-issues it (new key, new certificate) when
 * the files are missing or do not match, when it does not cover the names
 * the listener is reached by, when it was not issued by the active issuing
 * CA (after a `ca roll`, once serve issues from the new CA: serve_roll.c),
 * or when more than two thirds of its life are over: at start, and
 * while it runs (daemon_svc_check(), from the schedule thread every
 * http.service_cert_check_seconds and at the two-thirds mark), handing a
 * new certificate to the listener for the handshakes to come.
 *
 * How it stands (the certificate served, the checks that failed, the
 * last that went well) is kept in memory for serve's /metrics and the
 * admin's Certificate authority page (daemon_svc_status()), so that they
 * read no file.
 *
 * Several serve processes may share the data directory. Whoever reads or
 * replaces the two files holds DATA/tls/service.lock (flock, exclusive),
 * and looks at the files again once it has it: when its certificate is
 * due, the first process to get the lock issues, and the others find the
 * new files good and serve them. A process that did not issue notices
 * the files changed (device, inode, size, mtime, as the CRL cache of
 * cmd_serve.c does) at its next check and takes them too. Between checks
 * nothing is read: the check itself looks at the served certificate in
 * memory, one stored row (the active issuing CA) and two stat()s.
 *
 * Runs in the main certdesk process (at start, then on serve's schedule
 * thread, the one user of the context's store and CA from then on).
 * Trusts the data directory; checks the files it reads anyway (a mismatch
 * means re-issuing, not failing).
 */
#include "daemon/daemon_int.h"
#include "store/store.h"
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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_PEM (256 * 1024)
/* how long a process waits for another to finish with the files (it
 * issues in well under a second): tries, 50 ms apart */
#define LOCK_TRIES 200

_Static_assert(CONF_SERVICE_CERT_MAX_S == CA_SERVICE_VALIDITY_DAYS * 86400,
    "http.service_cert_validity_seconds is bounded by the service profile");

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

/* ---- the files ---------------------------------------------------------- */

/* Which file was read or written: a file replaced by rename() (by another
 * process, or by hand) differs in one of them. */
struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* The two files as read or written under the lock. */
struct material {
	char *cert_pem;		/* the certificate and its chain */
	struct sec *key_pem;	/* NUL-terminated */
	X509 *cert;		/* the certificate, parsed */
	struct file_id cert_id, key_id;
};

struct daemon_svc {
	char names[DAEMON_SERVICE_NAMES][DAEMON_SERVICE_NAME];
	size_t n;
	char *dir, *cert_path, *key_path, *lock_path;
	/* what the listener serves */
	X509 *cert;
	struct file_id cert_id, key_id;
	time_t renew_at;	/* two thirds of its life */
	/* how it stands, for other threads (daemon_svc_status()): written
	 * by the one thread that checks, read by /metrics and the portal,
	 * so that they read no file and parse nothing */
	pthread_mutex_t lock;
	struct daemon_svc_status status;
};

static time_t
clock_now(const struct daemon_ctx *cx)
{
	return cx->cac.now ? cx->cac.now : time(NULL);
}

static void
id_of(const struct stat *sb, struct file_id *id)
{
	memset(id, 0, sizeof(*id));
	id->dev = sb->st_dev;
	id->ino = sb->st_ino;
	id->size = sb->st_size;
	id->mtime = sb->st_mtim;
}

static int
id_same(const struct file_id *a, const struct file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* 1 when path is still the file id says. */
static int
still(const char *path, const struct file_id *id)
{
	struct stat sb;
	struct file_id now;

	if (stat(path, &sb) != 0)
		return 0;
	id_of(&sb, &now);
	return id_same(&now, id);
}

static void
material_clear(struct material *m)
{
	free(m->cert_pem);
	sec_free(m->key_pem);
	X509_free(m->cert);
	memset(m, 0, sizeof(*m));
}

/* Reads path (1..MAX_PEM bytes) into a new NUL-terminated secret buffer
 * and which file it was into id: 0, RC_NOTFOUND or RC_IO. Straight into
 * the buffer (sec_read_file), so that no copy of a key is left in memory
 * unwiped. */
static int
read_pem(const char *path, struct sec **out, struct file_id *id)
{
	struct stat sb;
	int rc = sec_read_file(path, MAX_PEM, 0, out, &sb, NULL);

	if (rc == 0 && (*out)->len == 0) {
		sec_free(*out);
		*out = NULL;
		rc = RC_IO;
	}
	if (rc != 0)
		return rc == RC_NOTFOUND ? rc : RC_IO;
	id_of(&sb, id);
	return 0;
}

/* Both files into m: 0, RC_NOTFOUND or RC_IO. */
static int
read_files(const struct daemon_svc *svc, struct material *m)
{
	struct sec *cert = NULL;
	int rc;

	if ((rc = read_pem(svc->key_path, &m->key_pem, &m->key_id)) != 0 ||
	    (rc = read_pem(svc->cert_path, &cert, &m->cert_id)) != 0) {
		material_clear(m);
		return rc;
	}
	m->cert_pem = xstrdup((const char *)cert->data);
	sec_free(cert);
	return 0;
}

/* Takes the lock of the files (blocking other processes' reads and
 * writes of them): 0 with the descriptor to close in *fd, or RC_IO with
 * the reason in d. */
static int
lock_files(const struct daemon_svc *svc, int *fd, struct rc_detail *d)
{
	int tries = 0;

	*fd = -1;
	if (fs_mkdir_p(svc->dir, 0700) != 0) {
		rc_detail_set(d, "%s: cannot create: %s", svc->dir,
		    strerror(errno));
		return RC_IO;
	}
	*fd = open(svc->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (*fd < 0) {
		rc_detail_set(d, "%s: %s", svc->lock_path, strerror(errno));
		return RC_IO;
	}
	while (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || ++tries >= LOCK_TRIES) {
			rc_detail_set(d, "%s: cannot lock: %s", svc->lock_path,
			    errno == EWOULDBLOCK ? "another process holds "
			    "it" : strerror(errno));
			close(*fd);
			*fd = -1;
			return RC_IO;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* ---- may it be served --------------------------------------------------- */

static int
is_ip(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* Two thirds of cert's life: when it is re-issued; 0 when unreadable. */
static time_t
renewal_of(X509 *cert)
{
	time_t nb = ca_asn1_time(X509_get0_notBefore(cert));
	time_t na = ca_asn1_time(X509_get0_notAfter(cert));

	if (nb == 0 || na == 0)
		return 0;
	return nb + (na - nb) / 3 * 2;
}

/* Why cert cannot be served for the names at now (a reason for the log),
 * or NULL when it can. *issuer_only is 1 when the only reason is its
 * issuer: not the active issuing CA, or the store could not say which is.
 * Reads one row of the store. */
static const char *
cert_unusable(struct daemon_ctx *cx, const struct daemon_svc *svc, X509 *cert,
    time_t now, int *issuer_only)
{
	struct store_issuer is;
	const unsigned char *p;
	const char *why = NULL;
	X509 *issuer = NULL;
	time_t nb, renew;

	*issuer_only = 0;
	for (size_t i = 0; i < svc->n; i++) {
		const char *name = svc->names[i];
		int ok = is_ip(name) ? X509_check_ip_asc(cert, name, 0) == 1 :
		    X509_check_host(cert, name, 0,
		    X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1;

		if (!ok)
			return "it does not cover every listening name";
	}
	nb = ca_asn1_time(X509_get0_notBefore(cert));
	renew = renewal_of(cert);
	if (nb == 0 || renew == 0)
		return "its validity cannot be read";
	if (now < nb || now >= renew)
		return "two thirds of its life are over";
	*issuer_only = 1;
	memset(&is, 0, sizeof(is));
	if (store_issuer_get_active(cx->st, 0, &is) != 0)
		return "the active issuing CA cannot be read";
	p = is.cert_der;
	issuer = d2i_X509(NULL, &p, (long)is.cert_len);
	if (issuer == NULL || X509_verify(cert, X509_get0_pubkey(issuer)) != 1)
		why = "it was not issued by the active issuing CA";
	else
		*issuer_only = 0;
	X509_free(issuer);
	store_issuer_clear(&is);
	ERR_clear_error();
	return why;
}

/* Why the files read into m cannot be served (parses m->cert), or NULL;
 * *pair is 1 when they are a certificate and its key all the same. */
static const char *
files_unusable(struct daemon_ctx *cx, const struct daemon_svc *svc,
    struct material *m, int *issuer_only, int *pair)
{
	const char *why;
	EVP_PKEY *key = NULL;
	BIO *bio;

	*issuer_only = 0;
	*pair = 0;
	bio = BIO_new_mem_buf(m->key_pem->data, -1);
	key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	bio = BIO_new_mem_buf(m->cert_pem, -1);
	m->cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (key == NULL || m->cert == NULL)
		why = "the files cannot be parsed";
	else if (X509_check_private_key(m->cert, key) != 1)
		why = "the key does not match the certificate";
	else {
		*pair = 1;
		why = cert_unusable(cx, svc, m->cert, clock_now(cx),
		    issuer_only);
	}
	EVP_PKEY_free(key);	/* OpenSSL clears the private key */
	ERR_clear_error();
	return why;
}

/* ---- a new key and certificate ------------------------------------------ */

/*
 * Whether the CA this server issues from (cx->ca) may issue it: the active
 * issuing CA's, unless `ca roll` made another active since and this server
 * has not taken it up (the schedule thread tries before each check:
 * serve_roll.c). When it has not, the CA in use issues when the
 * certificate must be re-issued anyway (one of the previous issuing CA is
 * better than an expired one), and nothing is issued when its issuer is
 * all that is wrong (RC_* with the reason in d).
 */
static int
pick_ca(struct daemon_ctx *cx, int issuer_only, struct rc_detail *d)
{
	struct daemon_roll_status rs;
	struct store_issuer is;
	const char *running;
	time_t na, last, now;
	int rc;

	memset(&is, 0, sizeof(is));
	if ((rc = store_issuer_get_active(cx->st, 0, &is)) != 0) {
		rc_detail_set(d, "the active issuing CA cannot be read: %s",
		    rc_str(rc));
		return rc;
	}
	ca_issuing_ends(cx->ca, &running, &na, &last, &now);
	if (strcmp(is.name, running) != 0) {
		memset(&rs, 0, sizeof(rs));
		if (cx->roll != NULL)
			daemon_roll_status(cx->roll, &rs);
		if (issuer_only) {
			rc_detail_set(d, "it was not issued by the active "
			    "issuing CA %s, which this server does not issue "
			    "from (it issues from %s): %s", is.name, running,
			    rs.why[0] ? rs.why : "not taken up");
			rc = RC_SIGNER;
		} else {
			log_warn(LOG_MAIN, "HTTPS service certificate: issued "
			    "by %s: the active issuing CA %s is not taken up "
			    "here", running, is.name);
		}
	}
	store_issuer_clear(&is);
	return rc;
}

/*
 * A new key and certificate into m and the files (under the lock). The
 * key goes to a file of its own (O_EXCL) before the CA is asked, so that
 * a directory that cannot be written costs no certificate; the
 * certificate replaces service.pem, then the key is renamed over
 * service.key. Between the two renames the files do not match: a process
 * that reads them holds the lock too, and one that dies in between leaves
 * a mismatch, which is re-issued. 0, or an RC_* with the reason in d.
 */
static int
issue(struct daemon_ctx *cx, struct ca *ca, struct daemon_svc *svc,
    struct material *m, struct rc_detail *d)
{
	struct rc_detail id = {{0}};
	struct ca_csr csr;
	struct ca_issue_req req;
	struct ca_cert *cert = NULL;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	BUF_MEM *mem;
	struct stat sb;
	const unsigned char *p;
	uint8_t *spki = NULL;
	char *leaf = NULL, *chain = NULL;
	char *tmp = xasprintf("%s.new", svc->key_path);
	int rc = RC_CRYPTO, len, tmp_made = 0;

	/* the key: PKCS#8 PEM in wiped memory, then an O_EXCL file */
	pkey = EVP_EC_gen("P-256");
	if (pkey == NULL)
		goto crypto;
	len = i2d_PUBKEY(pkey, &spki);
	if (len <= 0)
		goto crypto;
	bio = BIO_new(BIO_s_secmem());
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0,
	    NULL, NULL) != 1 || BIO_get_mem_ptr(bio, &mem) != 1)
		goto crypto;
	m->key_pem = sec_new(mem->length + 1);
	memcpy(m->key_pem->data, mem->data, mem->length);
	if (fs_mkdir_p(svc->dir, 0700) != 0 || chmod(svc->dir, 0700) != 0) {
		rc_detail_set(d, "%s: cannot create: %s", svc->dir,
		    strerror(errno));
		rc = RC_IO;
		goto out;
	}
	(void)unlink(tmp);	/* left by a process that died here */
	if ((rc = fs_write_excl(tmp, mem->data, mem->length, 0600)) != 0) {
		rc_detail_set(d, "%s: cannot write the service key: %s", tmp,
		    rc_str(rc));
		goto out;
	}
	tmp_made = 1;

	memset(&csr, 0, sizeof(csr));
	csr.spki = spki;
	csr.spki_len = (size_t)len;
	csr.key_bits = 256;
	csr.key_is_ec = 1;
	for (size_t i = 0; i < svc->n; i++)
		csr.names[i] = svc->names[i];
	csr.nnames = svc->n;
	memset(&req, 0, sizeof(req));
	req.profile = CA_PROFILE_SERVICE;
	req.csr = &csr;
	req.actor = "daemon:service-certificate";
	req.validity_s = cx->conf.http_service_cert_validity_s;
	rc = ca_issue(ca, &req, &cert, &id);
	if (rc != 0) {
		rc_detail_set(d, "cannot issue the HTTPS service certificate: "
		    "%s", rc_detail_str(&id, rc));
		goto out;
	}
	leaf = daemon_pem_encode("CERTIFICATE", cert->der, cert->der_len);
	if ((rc = ca_chain_pem(ca, &chain)) != 0) {
		rc_detail_set(d, "cannot read the issuing chain: %s",
		    rc_str(rc));
		goto out;
	}
	m->cert_pem = xasprintf("%s%s", leaf, chain);
	p = cert->der;
	m->cert = d2i_X509(NULL, &p, (long)cert->der_len);
	if (m->cert == NULL)
		goto crypto;
	if ((rc = fs_write_atomic(svc->cert_path, m->cert_pem,
	    strlen(m->cert_pem), 0644)) != 0) {
		rc_detail_set(d, "%s: cannot write the service certificate: "
		    "%s", svc->cert_path, rc_str(rc));
		goto out;
	}
	if (rename(tmp, svc->key_path) != 0) {
		rc_detail_set(d, "%s: cannot rename: %s", tmp,
		    strerror(errno));
		rc = RC_IO;
		goto out;
	}
	tmp_made = 0;
	(void)fs_sync_dir_of(svc->key_path);
	if (stat(svc->cert_path, &sb) != 0) {
		rc_detail_set(d, "%s: %s", svc->cert_path, strerror(errno));
		rc = RC_IO;
		goto out;
	}
	id_of(&sb, &m->cert_id);
	if (stat(svc->key_path, &sb) != 0) {
		rc_detail_set(d, "%s: %s", svc->key_path, strerror(errno));
		rc = RC_IO;
		goto out;
	}
	id_of(&sb, &m->key_id);
	log_info(LOG_MAIN, "HTTPS service certificate %s issued for %s%s "
	    "(%s)", cert->serial, svc->names[0], svc->n > 1 ? " and more" :
	    "", svc->cert_path);
	rc = 0;
	goto out;
crypto:
	log_openssl(LOG_MAIN, "service key");
	rc_detail_set(d, "cannot make the HTTPS service key");
	rc = RC_CRYPTO;
out:
	if (tmp_made)
		(void)unlink(tmp);
	if (rc != 0)
		material_clear(m);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	OPENSSL_free(spki);
	ca_cert_free(cert);
	free(leaf);
	free(chain);
	free(tmp);
	return rc;
}

/* Whether the certificate served must go, and why. */
enum due {
	DUE_NOT,	/* it may stay */
	DUE_ISSUER,	/* only its issuer is not the active issuing CA */
	DUE,		/* it must go (or there is none yet) */
};

/*
 * Under the lock: into m, the files as they are when they can be served,
 * else a new key and certificate, written to them first. A good pair that
 * cannot be served here (another serve's, for the names it listens on)
 * leaves m empty while what is served here may stay. 0, or an RC_* with
 * the reason in d (nothing in m).
 */
static int
settle(struct daemon_ctx *cx, struct daemon_svc *svc, enum due due,
    struct material *m, struct rc_detail *d)
{
	const char *why;
	int fd = -1, issuer_only = 0, pair = 0, rc;

	memset(m, 0, sizeof(*m));
	if ((rc = lock_files(svc, &fd, d)) != 0)
		return rc;
	rc = read_files(svc, m);
	why = rc == RC_NOTFOUND ? "there is none" :
	    rc != 0 ? "the files cannot be read" :
	    files_unusable(cx, svc, m, &issuer_only, &pair);
	if (why == NULL) {
		rc = 0;
		goto out;
	}
	material_clear(m);
	rc = 0;
	if (pair && due == DUE_NOT)
		goto out;	/* no turns at re-issuing with another serve */
	if ((rc = pick_ca(cx, issuer_only && due != DUE, d)) != 0)
		goto out;
	log_info(LOG_MAIN, "%s: issuing a new HTTPS service certificate: %s",
	    svc->cert_path, why);
	rc = issue(cx, cx->ca, svc, m, d);
out:
	close(fd);		/* and the lock with it */
	return rc;
}

/* cert's serial as the issuance's log line and the audit log write it. */
static void
serial_of(X509 *cert, char out[41])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	if (hex == NULL || daemon_serial_norm(hex, out) != 0)
		snprintf(out, 41, "?");
	OPENSSL_free(hex);
	BN_free(bn);
}

/* svc serves what m holds from now on (takes m's certificate). */
static void
take(struct daemon_svc *svc, struct material *m)
{
	X509_free(svc->cert);
	svc->cert = m->cert;
	m->cert = NULL;
	svc->cert_id = m->cert_id;
	svc->key_id = m->key_id;
	svc->renew_at = renewal_of(svc->cert);
	pthread_mutex_lock(&svc->lock);
	svc->status.not_after = ca_asn1_time(X509_get0_notAfter(svc->cert));
	svc->status.renew_at = svc->renew_at;
	pthread_mutex_unlock(&svc->lock);
}

/* A check's outcome into the status: rc 0 means a certificate that may
 * be served is in use (the one before, or a new one). The wall clock,
 * not the CA's pinned one: monitoring compares it with its own. */
static void
note(struct daemon_svc *svc, int rc)
{
	time_t now = time(NULL);

	pthread_mutex_lock(&svc->lock);
	if (rc == 0) {
		svc->status.last_ok = now;
		svc->status.failing_since = 0;
	} else {
		svc->status.failures++;
		if (svc->status.failing_since == 0)
			svc->status.failing_since = now;
	}
	pthread_mutex_unlock(&svc->lock);
}

/* ---- the interface ------------------------------------------------------ */

void
daemon_svc_free(struct daemon_svc *svc)
{
	if (svc == NULL)
		return;
	pthread_mutex_destroy(&svc->lock);
	X509_free(svc->cert);
	free(svc->dir);
	free(svc->cert_path);
	free(svc->key_path);
	free(svc->lock_path);
	free(svc);
}

int
daemon_svc_open(struct daemon_ctx *cx, char names[][DAEMON_SERVICE_NAME],
    size_t n, struct daemon_svc **out, char **cert_pem,
    struct sec **key_pem)
{
	struct daemon_svc *svc = xcalloc(1, sizeof(*svc));
	struct rc_detail d = {{0}};
	struct material m;
	int rc;

	if (out != NULL)
		*out = NULL;
	*cert_pem = NULL;
	*key_pem = NULL;
	if (n > DAEMON_SERVICE_NAMES)
		n = DAEMON_SERVICE_NAMES;
	pthread_mutex_init(&svc->lock, NULL);
	memcpy(svc->names, names, n * sizeof(svc->names[0]));
	svc->n = n;
	svc->dir = xasprintf("%s/tls", cx->data);
	svc->cert_path = xasprintf("%s/service.pem", svc->dir);
	svc->key_path = xasprintf("%s/service.key", svc->dir);
	svc->lock_path = xasprintf("%s/service.lock", svc->dir);
	rc = settle(cx, svc, DUE, &m, &d);
	if (rc != 0) {
		daemon_fail(cx, "%s", d.msg);
		daemon_svc_free(svc);
		return rc;
	}
	log_debug(LOG_MAIN, "%s: HTTPS service certificate in use",
	    svc->cert_path);
	take(svc, &m);
	note(svc, 0);
	*cert_pem = m.cert_pem;
	*key_pem = m.key_pem;
	m.cert_pem = NULL;
	m.key_pem = NULL;
	if (out != NULL)
		*out = svc;
	else
		daemon_svc_free(svc);
	return 0;
}

int
daemon_svc_wait(const struct daemon_ctx *cx, const struct daemon_svc *svc)
{
	time_t now = clock_now(cx);
	long wait = cx->conf.http_service_cert_check_s;

	if (svc->renew_at > now && svc->renew_at - now < wait)
		wait = (long)(svc->renew_at - now);
	return wait < 1 ? 1 : (int)wait;
}

void
daemon_svc_status(struct daemon_svc *svc, struct daemon_svc_status *out)
{
	pthread_mutex_lock(&svc->lock);
	*out = svc->status;
	pthread_mutex_unlock(&svc->lock);
}

/* daemon_svc_check() without noting the outcome in the status. */
static int
check(struct daemon_ctx *cx, struct daemon_svc *svc,
    int (*install)(void *arg, const char *cert_pem, const char *key_pem),
    void *arg)
{
	struct rc_detail d = {{0}};
	struct material m;
	char serial[41], until[32];
	enum due due;
	int issuer_only, rc;

	/* the cheap look: what is served may stay, and the files are still
	 * those it came from */
	due = cert_unusable(cx, svc, svc->cert, clock_now(cx),
	    &issuer_only) == NULL ? DUE_NOT : issuer_only ? DUE_ISSUER : DUE;
	if (due == DUE_NOT && still(svc->cert_path, &svc->cert_id) &&
	    still(svc->key_path, &svc->key_id))
		return 0;
	rc = settle(cx, svc, due, &m, &d);
	if (rc != 0) {
		log_err(LOG_MAIN, "%s: %s; the HTTPS certificate in use stays, "
		    "tried again in %d s", svc->cert_path, d.msg,
		    daemon_svc_wait(cx, svc));
		return rc;
	}
	if (m.cert == NULL || (id_same(&m.cert_id, &svc->cert_id) &&
	    id_same(&m.key_id, &svc->key_id))) {
		material_clear(&m);	/* what is served stays */
		return 0;
	}
	if ((rc = install(arg, m.cert_pem, (const char *)m.key_pem->data)) !=
	    0) {
		material_clear(&m);	/* tried again at the next check */
		return rc;
	}
	serial_of(m.cert, serial);
	daemon_fmt_time(ca_asn1_time(X509_get0_notAfter(m.cert)), until);
	take(svc, &m);
	material_clear(&m);	/* wipes the key text */
	log_info(LOG_MAIN, "HTTPS service certificate %s (valid until %s) "
	    "served to new connections from now on", serial, until);
	return 0;
}

int
daemon_svc_check(struct daemon_ctx *cx, struct daemon_svc *svc,
    int (*install)(void *arg, const char *cert_pem, const char *key_pem),
    void *arg)
{
	int rc = check(cx, svc, install, arg);

	note(svc, rc);
	return rc;
}
