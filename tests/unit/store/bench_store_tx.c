/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Not a test: measures the issuance path of the store, one transaction of
 * store_cert_add (1 KiB DER) + store_audit_append, N times, and prints wall
 * and CPU microseconds per transaction. Built on demand only:
 *   meson compile -C <build> bench_store_tx
 *   <build>/tests/unit/store/bench_store_tx <dir> <durable 0|1> [n]
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct one {
	struct store_cert cert;
	char object[64];
};

static int
issue(struct store *st, void *arg)
{
	struct one *o = arg;
	int rc;

	rc = store_cert_add(st, &o->cert);
	if (rc != 0)
		return rc;
	return store_audit_append(st, "bench", "cert.issue", o->object,
	    "{\"profile\": \"dv\", \"names\": [\"bench.example\"]}");
}

static double
tv_us(struct timeval tv)
{
	return (double)tv.tv_sec * 1e6 + (double)tv.tv_usec;
}

int
main(int argc, char **argv)
{
	struct store_conf conf = {"sqlite", NULL, 0};
	struct store_issuer is;
	struct store *st = NULL;
	struct rusage r0, r1;
	struct timespec t0, t1;
	static uint8_t der[1024];
	char path[512];
	struct one o;
	int64_t iss = 0;
	int n = 2000, rc;
	double wall, cpu;

	if (argc < 3) {
		fprintf(stderr, "usage: %s dir durable [n]\n", argv[0]);
		return 2;
	}
	if (argc > 3)
		n = atoi(argv[3]);
	snprintf(path, sizeof(path), "%s/bench-%d.db", argv[1], (int)getpid());
	conf.path = path;
	conf.durable = atoi(argv[2]);
	if (store_open(&conf, &st) != 0)
		return 1;
	memset(der, 0x5a, sizeof(der));
	memset(&is, 0, sizeof(is));
	is.name = "bench";
	is.is_root = 1;
	is.active = 1;
	is.cert_der = der;
	is.cert_len = 100;
	if (store_issuer_add(st, &is, &iss) != 0)
		return 1;
	memset(&o, 0, sizeof(o));
	o.cert.issuer_id = iss;
	o.cert.profile = "dv";
	o.cert.names = "bench.example www.bench.example";
	o.cert.not_before = time(NULL);
	o.cert.not_after = o.cert.not_before + 199 * 86400;
	o.cert.der = der;
	o.cert.der_len = sizeof(der);

	getrusage(RUSAGE_SELF, &r0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		snprintf(o.cert.serial, sizeof(o.cert.serial), "7%015x", i);
		snprintf(o.object, sizeof(o.object), "cert:%s", o.cert.serial);
		rc = store_tx(st, issue, &o);
		if (rc != 0) {
			fprintf(stderr, "tx %d: %d\n", i, rc);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_SELF, &r1);
	wall = (double)(t1.tv_sec - t0.tv_sec) * 1e6 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
	cpu = tv_us(r1.ru_utime) - tv_us(r0.ru_utime) + tv_us(r1.ru_stime) -
	    tv_us(r0.ru_stime);
	printf("durable=%d n=%d: %.1f us/tx wall, %.1f us/tx CPU "
	       "(%.0f tx/s)\n", conf.durable, n, wall / n, cpu / n,
	    n / (wall / 1e6));
	if (store_audit_verify(st, NULL, NULL) != 0)
		return 1;
	store_close(st);
	unlink(path);
	snprintf(path + strlen(path), 8, "-wal");
	unlink(path);
	path[strlen(path) - 4] = '\0';
	snprintf(path + strlen(path), 8, "-shm");
	unlink(path);
	return 0;
}
