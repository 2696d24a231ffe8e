/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `certdesk backup --data DIR --out FILE`: a consistent, checked copy of
 * the store while `certdesk serve` goes on (store_backup). Prints what the
 * copy holds; exit 0 when it is written and its audit log verifies, 1 when
 * nothing could be written or its audit log is broken (the copy is then
 * kept, as evidence). The CA keys are not in it: they are backed up
 * offline, by their own procedure.
 *
 * Runs in the main certdesk process; reads the store only (after the
 * migrations any command applies when it opens the store).
 */
#include "daemon/daemon_int.h"
#include "store/store.h"
#include "util/rc.h"

#include <stdio.h>

int
daemon_cmd_backup(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *out = NULL;
	const struct daemon_opt opts[] = {
		{"--data", DAEMON_OPT_STR, &data, "DIR", 1,
		    "data directory made by 'certdesk init'"},
		{"--out", DAEMON_OPT_STR, &out, "FILE", 1,
		    "the backup file to write (never replaced)"},
	};
	struct rc_detail d = {""};
	struct store_backup_info info;
	int done, rc;

	rc = daemon_opts(cx, opts, sizeof(opts) / sizeof(opts[0]), argc, argv,
	    NULL, 0, NULL, &done);
	if (done)
		return rc;
	/* opening the store applies pending migrations, so that the copy has
	 * this certdesk's schema */
	rc = daemon_load_open(cx, data, DAEMON_NEED_STORE);
	if (rc != DAEMON_EXIT_OK)
		return rc;
	{
		struct store_conf sc = {cx->conf.store_backend, cx->db_path, 1};

		rc = store_backup(&sc, out, &info, &d);
	}
	if (rc != 0 && rc != RC_TAMPER) {
		daemon_fail(cx, "%s", rc_detail_str(&d, rc));
		return DAEMON_EXIT_FAIL;
	}
	printf("backup of %s written to %s: %lld bytes, schema %d, %lld "
	    "certificates, %lld revocations, audit log %s (%lld entries)\n",
	    cx->db_path, out, (long long)info.bytes, info.schema,
	    (long long)info.certificates, (long long)info.revocations,
	    rc == 0 ? "intact" : "BROKEN", (long long)info.audit_entries);
	printf("not in it: the CA keys (%s), to be backed up offline\n",
	    cx->keys_dir);
	if (rc == RC_TAMPER) {
		daemon_fail(cx, "the audit log is broken at entry %lld (in the "
		    "store and so in the copy, which is kept as evidence)",
		    (long long)info.audit_bad);
		return DAEMON_EXIT_FAIL;
	}
	return DAEMON_EXIT_OK;
}
