/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark of the whole CA core: for each of N pre-made P-256 CSRs, parse
 * and verify the CSR, check its key, build and lint the certificate, have
 * the signer process sign it, and store it durably (fsync on commit) with
 * its audit entry. Reports certificates per second and CPU milliseconds per
 * certificate, counting this process and the signer process (utime+stime
 * from /proc). Not a test: machines are shared and noisy; bench/run.sh runs
 * it beside `openssl speed` in the same run.
 *
 * usage: bench_issue DATA_DIR COUNT THREADS [WEAK_KEYS_DIR]
 *
 * The worker threads share one group committer (store_group_tx), as the
 * server's request threads do.
 */
#include "ca/ca.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"

#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct csr_der {
	uint8_t *p;
	int n;
};

static struct csr_der *csrs;
static int ncsr;
static const char *data_dir;
static struct signer *sg;
static struct ca_keycheck *kc;
static struct ca_conf cconf;
static char *db_path;
static struct store_group *group;
static int failures;
static pthread_mutex_t fail_mu = PTHREAD_MUTEX_INITIALIZER;

static void
make_csrs(int n)
{
	csrs = xcalloc((size_t)n, sizeof(*csrs));
	for (int i = 0; i < n; i++) {
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		X509_REQ *r = X509_REQ_new();
		X509_NAME *nm = X509_NAME_new();
		STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
		char cn[64], san[160];
		X509_EXTENSION *ext;

		snprintf(cn, sizeof(cn), "host%d.bench.example", i);
		snprintf(san, sizeof(san), "DNS:%s,DNS:www.%s", cn, cn);
		X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
		    (unsigned char *)cn, -1, -1, 0);
		X509_REQ_set_subject_name(r, nm);
		X509_REQ_set_pubkey(r, k);
		ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
		sk_X509_EXTENSION_push(exts, ext);
		X509_REQ_add_extensions(r, exts);
		X509_REQ_sign(r, k, EVP_sha256());
		csrs[i].n = i2d_X509_REQ(r, &csrs[i].p);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
		X509_NAME_free(nm);
		X509_REQ_free(r);
		EVP_PKEY_free(k);
	}
	ncsr = n;
}

struct worker {
	pthread_t t;
	int from, to;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct store_conf sc = {"sqlite", db_path, 1};
	struct store *st = NULL;
	struct ca *ca = NULL;
	int bad = 0;

	if (store_open(&sc, &st) != 0 || ca_open(&cconf, st, sg, kc, &ca)) {
		fprintf(stderr, "bench: open failed\n");
		bad = w->to - w->from;
		goto out;
	}
	ca_set_group(ca, group);
	for (int i = w->from; i < w->to; i++) {
		struct rc_detail d = {""};
		struct ca_csr *csr = NULL;
		struct ca_cert *cert = NULL;
		struct ca_issue_req req = {0};
		int rc;

		rc = ca_csr_parse(csrs[i].p, (size_t)csrs[i].n, kc, &csr, &d);
		if (rc == 0) {
			req.profile = CA_PROFILE_DV;
			req.csr = csr;
			req.actor = "bench";
			rc = ca_issue(ca, &req, &cert, &d);
		}
		if (rc != 0 && bad++ == 0)
			fprintf(stderr, "bench: %s\n", rc_detail_str(&d, rc));
		ca_cert_free(cert);
		ca_csr_free(csr);
	}
out:
	ca_free(ca);
	store_close(st);
	pthread_mutex_lock(&fail_mu);
	failures += bad;
	pthread_mutex_unlock(&fail_mu);
	return NULL;
}

/* utime+stime in seconds of every direct child of this process. */
static double
children_cpu(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	double total = 0;
	long hz = sysconf(_SC_CLK_TCK);

	while (d && (de = readdir(d)) != NULL) {
		char path[300], buf[1024], *p;
		unsigned long ut, stm;
		int ppid;
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (p == NULL || (p = strrchr(buf, ')')) == NULL)
			continue;
		if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		    "%lu %lu", &ppid, &ut, &stm) != 3 || ppid != getpid())
			continue;
		total += (double)(ut + stm) / (double)hz;
	}
	if (d)
		closedir(d);
	return total;
}

static double
self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct store_conf sc = {"sqlite", NULL, 1};
	struct store *st = NULL;
	struct rc_detail d = {""};
	struct worker *ws;
	char *keys, *crl;
	int count, threads;
	double t0, t1, c0, c1, s0, s1;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: %s DATA_DIR COUNT THREADS [WEAK_DIR]\n",
		    argv[0]);
		return 2;
	}
	data_dir = argv[1];
	count = atoi(argv[2]);
	threads = atoi(argv[3]);
	if (count < 1 || threads < 1 || threads > 64)
		return 2;
	log_set_level(LOG_LVL_WARN);
	keys = xasprintf("%s/keys", data_dir);
	crl = xasprintf("%s/crl", data_dir);
	db_path = xasprintf("%s/certdesk.db", data_dir);
	fs_mkdir_p(keys, 0700);
	fs_mkdir_p(crl, 0755);
	cconf.base_url = "http://ca.bench.example";
	cconf.ocsp = 1;
	cconf.crl_validity_days = 7;
	cconf.crl_dir = crl;
	cconf.hierarchy = "ecdsa";
	cconf.root_cn = "Bench Root";
	cconf.issuing_cn = "Bench Issuing";
	cconf.organization = "Bench";
	cconf.country = "DE";
	if (signer_spawn(keys, &sg) != 0)
		return 1;
	sc.path = db_path;
	if (store_open(&sc, &st) != 0 ||
	    ca_init_hierarchy(&cconf, st, sg, &d) != 0) {
		fprintf(stderr, "bench: init: %s\n", rc_detail_str(&d, RC_ERR));
		return 1;
	}
	store_close(st);
	if (ca_keycheck_open(argc == 5 ? argv[4] : NULL, NULL, &kc, &d) != 0)
		return 1;
	if (store_group_open(&sc, &group) != 0)
		return 1;
	make_csrs(count);

	ws = xcalloc((size_t)threads, sizeof(*ws));
	t0 = now_s();
	c0 = self_cpu();
	s0 = children_cpu();
	for (int i = 0; i < threads; i++) {
		ws[i].from = count * i / threads;
		ws[i].to = count * (i + 1) / threads;
		pthread_create(&ws[i].t, NULL, work, &ws[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(ws[i].t, NULL);
	t1 = now_s();
	c1 = self_cpu();
	s1 = children_cpu();
	/* key generation for the CSRs happened before c0: not counted */
	printf("certificates=%d threads=%d failures=%d seconds=%.3f "
	    "certs_per_s=%.0f cpu_ms_per_cert=%.4f main_cpu_ms=%.4f "
	    "signer_cpu_ms=%.4f\n", count, threads, failures, t1 - t0,
	    count / (t1 - t0), ((c1 - c0) + (s1 - s0)) * 1000 / count,
	    (c1 - c0) * 1000 / count, (s1 - s0) * 1000 / count);
	for (int i = 0; i < ncsr; i++)
		OPENSSL_free(csrs[i].p);
	free(csrs);
	free(ws);
	ca_keycheck_free(kc);
	store_group_close(group);
	signer_free(sg);
	free(keys);
	free(crl);
	free(db_path);
	return failures ? 1 : 0;
}
