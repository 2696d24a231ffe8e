/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dnsupd_probe: the DNS provider API (val_dnsupd_*, src/validation/val.h)
 * from the command line, so that the integration tests drive the real code
 * against real Knot DNS and BIND servers. A test tool, not installed.
 *
 *   dnsupd_probe --conf FILE [--data DIR] [--resolver ADDR:PORT] COMMAND
 *     open                         open the provider, print ttl/timeouts
 *     add ZONE OWNER VALUE         RFC 2136 add of OWNER TXT VALUE
 *     delete ZONE OWNER [VALUE]    delete that TXT (all TXT without VALUE)
 *     published OWNER VALUE        ask every server once
 *     wait OWNER VALUE             ask until every server answers with it
 *                                  (dnsupdate.propagation_timeout)
 *     find-zone NAME               apex of NAME and whether it is ours,
 *                                  through the validation resolver
 *                                  (--resolver, else validation.resolver)
 *
 * Prints one JSON object on stdout: {"ok": true, ...} or {"ok": false,
 * "rc": "...", "detail": "..."}. Exit status 0 when ok, 1 when not, 2 for
 * a bad command line.
 */
#include "util/conf.h"
#include "util/log.h"
#include "validation/val.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int
usage(void)
{
	fprintf(stderr, "usage: dnsupd_probe --conf FILE [--data DIR] "
	    "[--resolver ADDR:PORT] open | add ZONE OWNER VALUE | "
	    "delete ZONE OWNER [VALUE] | published OWNER VALUE | "
	    "wait OWNER VALUE | find-zone NAME\n");
	return 2;
}

static int
finish(json_t *o, int rc, const struct rc_detail *d)
{
	json_object_set_new(o, "ok", json_boolean(rc == 0));
	if (rc != 0) {
		json_object_set_new(o, "rc", json_string(rc_str(rc)));
		json_object_set_new(o, "detail", json_string(
		    rc_detail_str(d, rc)));
	}
	json_dumpf(o, stdout, JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	putchar('\n');
	json_decref(o);
	return rc == 0 ? 0 : 1;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	const char *conf_path = NULL, *data = NULL, *resolver = NULL;
	struct conf c;
	struct rc_detail d = {{0}};
	struct val_dnsupd *u = NULL;
	struct val_ctx *ctx = NULL;
	json_t *o = json_object();
	int i, rc, status;

	for (i = 1; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--conf") == 0)
			conf_path = argv[i + 1];
		else if (strcmp(argv[i], "--data") == 0)
			data = argv[i + 1];
		else if (strcmp(argv[i], "--resolver") == 0)
			resolver = argv[i + 1];
		else
			break;
	}
	if (conf_path == NULL || i >= argc) {
		json_decref(o);
		return usage();
	}
	argc -= i;
	argv += i;
	log_set_level(LOG_LVL_WARN);
	conf_defaults(&c);
	rc = conf_load(&c, conf_path, 1, &d);
	if (rc != 0)
		goto out;
	rc = val_dnsupd_open(&c, data, &u, &d);
	if (rc != 0)
		goto out;
	if (u == NULL) {
		rc = RC_CONFIG;
		rc_detail_set(&d, "dnsupdate.server is not set");
		goto out;
	}
	if (strcmp(argv[0], "open") == 0 && argc == 1) {
		json_object_set_new(o, "ttl", json_integer(val_dnsupd_ttl(u)));
		json_object_set_new(o, "propagation_timeout", json_integer(
		    val_dnsupd_propagation_timeout(u)));
	} else if (strcmp(argv[0], "add") == 0 && argc == 4) {
		rc = val_dnsupd_txt_add(u, argv[1], argv[2], argv[3], &d);
	} else if (strcmp(argv[0], "delete") == 0 && (argc == 3 ||
	    argc == 4)) {
		rc = val_dnsupd_txt_delete(u, argv[1], argv[2],
		    argc == 4 ? argv[3] : NULL, &d);
	} else if ((strcmp(argv[0], "published") == 0 ||
	    strcmp(argv[0], "wait") == 0) && argc == 3) {
		int wait = argv[0][0] == 'w';
		double t0 = now_s(), limit = val_dnsupd_propagation_timeout(u);
		size_t nok = 0, n = 0;

		for (;;) {
			rc = val_dnsupd_published(u, argv[1], argv[2], &nok,
			    &n);
			if (rc != 0 || !wait || nok == n ||
			    now_s() - t0 > limit)
				break;
			usleep(100000);
		}
		json_object_set_new(o, "nok", json_integer((json_int_t)nok));
		json_object_set_new(o, "nservers", json_integer(
		    (json_int_t)n));
		json_object_set_new(o, "seconds", json_real(now_s() - t0));
		if (rc == 0 && wait && nok != n) {
			rc = RC_DNS;
			rc_detail_set(&d, "published on %zu of %zu servers "
			    "after %.0f s", nok, n, limit);
		}
	} else if (strcmp(argv[0], "find-zone") == 0 && argc == 2) {
		struct val_conf vc;
		char zone[VAL_MAX_NAME + 1];
		int ours = 0;

		val_conf_defaults(&vc);
		vc.resolver = resolver != NULL ? resolver :
		    c.val_resolver[0] ? c.val_resolver : NULL;
		vc.allow_private_addresses = 1;
		vc.stub_zones = c.val_stub_zones;
		rc = val_ctx_open(&vc, &ctx, &d);
		if (rc == 0)
			rc = val_dnsupd_find_zone(ctx, u, argv[1], zone,
			    sizeof(zone), &ours, &d);
		if (rc == 0) {
			json_object_set_new(o, "zone", json_string(zone));
			json_object_set_new(o, "ours", json_integer(ours));
		}
	} else {
		json_decref(o);
		val_dnsupd_free(u);
		conf_free(&c);
		return usage();
	}
out:
	status = finish(o, rc, &d);
	val_ctx_free(ctx);
	val_dnsupd_free(u);
	conf_free(&c);
	return status;
}
