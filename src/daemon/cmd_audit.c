/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `certdesk audit ...`: verify the hash chain of the audit log and list its
 * entries. The chain itself is the store's (store_audit_verify); this file
 * only reports, so that an operator or a cron job can tell an intact log
 * (exit 0) from a broken one (exit 1, naming the first bad entry).
 *
 * Runs in the main certdesk process; reads the store only.
 */
#include "daemon/daemon_int.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define NOPTS(a) (sizeof(a) / sizeof((a)[0]))

int
daemon_cmd_audit_verify(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL;
	const struct daemon_opt opts[] = {DATA_OPT(data)};
	int64_t count = 0, bad = 0;
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	rc = daemon_load_open(cx, data, DAEMON_NEED_STORE);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	rc = store_audit_verify(cx->st, &count, &bad);
	if (rc == 0) {
		printf("audit log intact: %lld entries\n", (long long)count);
		return DAEMON_EXIT_OK;
	}
	if (rc == RC_TAMPER) {
		printf("audit log broken at entry %lld\n", (long long)bad);
		daemon_fail(cx, "audit log broken at entry %lld (edited, "
		    "deleted, inserted or reordered); %lld entries checked",
		    (long long)bad, (long long)count);
		return DAEMON_EXIT_FAIL;
	}
	daemon_fail(cx, "cannot verify the audit log: %s", rc_str(rc));
	return DAEMON_EXIT_FAIL;
}

static void
put_field(const char *s)
{
	daemon_put_safe(stdout, s);
	putchar('\t');
}

static int
list_cb(const struct store_audit_entry *e, void *arg)
{
	char t[32];

	(void)arg;
	daemon_fmt_time(e->at, t);
	printf("%lld\t%s\t", (long long)e->seq, t);
	put_field(e->actor);
	put_field(e->action);
	put_field(e->object);
	put_field(e->details);
	printf("%s\n", e->hash_hex ? e->hash_hex : "");
	return 0;
}

int
daemon_cmd_audit_list(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *from_s = NULL;
	const struct daemon_opt opts[] = {
		DATA_OPT(data),
		{"--from", DAEMON_OPT_STR, &from_s, "N", 0,
		    "first sequence number (default 1)"},
	};
	int64_t from = 1;
	int done, rc;

	rc = daemon_opts(cx, opts, NOPTS(opts), argc, argv, NULL, 0, NULL,
	    &done);
	if (done)
		return rc;
	if (from_s && strcmp(from_s, "0") != 0 &&
	    daemon_parse_id(from_s, &from) != 0) {
		daemon_usage(cx, "--from: '%.32s' is not a sequence number",
		    from_s);
		return DAEMON_EXIT_USAGE;
	}
	if (from_s && strcmp(from_s, "0") == 0)
		from = 0;
	rc = daemon_load_open(cx, data, DAEMON_NEED_STORE);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	rc = store_audit_list(cx->st, from, list_cb, NULL);
	if (rc != 0) {
		daemon_fail(cx, "cannot list the audit log: %s", rc_str(rc));
		return DAEMON_EXIT_FAIL;
	}
	return DAEMON_EXIT_OK;
}
