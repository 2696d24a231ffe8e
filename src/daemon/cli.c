/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command table and daemon_main(): global options (--log-level,
 * --config, --help, --version), then the command words ("ca issue"), then
 * the command's own options, which the command parses itself. Group words
 * alone ("certdesk ca --help") list the group's commands.
 *
 * Runs in the main certdesk process; argv is untrusted text.
 */
#include "daemon/daemon_int.h"
#include "util/log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#ifndef CERTDESK_VERSION
#define CERTDESK_VERSION "0"
#endif

static const struct daemon_cmd cmds[] = {
	{"init", "--data DIR [--hierarchy ecdsa|rsa] [--base-url URL] "
	    "[--pkcs11-module PATH --pkcs11-token LABEL --pkcs11-pin-file "
	    "FILE]",
	    "Create a data directory. It gets the configuration with every "
	    "default, the CA keys (in the signer's key directory, or on the "
	    "PKCS#11 token of an HSM), the root and issuing CA certificates "
	    "and the first CRLs. Asks no questions; refuses to touch a "
	    "directory that already holds a CA.", daemon_cmd_init, 0},
	{"serve", "--data DIR [--listen ADDR:PORT] [--plain-listen ADDR:PORT] "
	    "[--http01-port N] [--tlsalpn01-port N] [--resolver ADDR:PORT]",
	    "Serve ACME over HTTPS on http.listen (or --listen; the directory "
	    "is at https://ADDR:PORT/acme/directory) and CRLs and CA "
	    "certificates over plain HTTP on http.plain_listen (or "
	    "--plain-listen); regenerate CRLs on schedule; until SIGINT or "
	    "SIGTERM.",
	    daemon_cmd_serve, 0},
	{"ca root", "--data DIR", "Print the root CA certificate (PEM).",
	    daemon_cmd_ca_root, 1},
	{"ca chain", "--data DIR",
	    "Print the chain of the active issuing CA (PEM, without the root).",
	    daemon_cmd_ca_chain, 1},
	{"ca issue",
	    "--data DIR --profile dv|ov|ev --csr FILE [--org ID] "
	    "[--name NAME ...]",
	    "Issue a certificate for a CSR. The CSR is PEM or DER; the "
	    "certificate is printed followed by its issuing chain (PEM). OV and EV take the subject from the "
	    "validated organisation --org. The operator is responsible for "
	    "having validated the names.", daemon_cmd_ca_issue, 1},
	{"ca revoke", "--data DIR --serial HEX --reason NAME",
	    "Revoke a certificate. The reason is an RFC 5280 reason name; a "
	    "new CRL of the issuer is published at once.", daemon_cmd_ca_revoke, 1},
	{"ca block-key", "--data DIR --csr FILE [--evidence TEXT]",
	    "Act on a key compromise reported with proof: the CSR (PEM or "
	    "DER) must be signed by the key. The key is refused from now on "
	    "and every live certificate of it is revoked for keyCompromise "
	    "(BR 4.9.1.1); prints how many.", daemon_cmd_ca_block_key, 1},
	{"ca crl", "--data DIR",
	    "Publish every CRL now: the root's and every shard of each issuing CA.",
	    daemon_cmd_ca_crl, 1},
	{"ca roll", "--data DIR [--cn NAME]",
	    "Make a new issuing CA and make it the active one (an issuing CA "
	    "rollover): a new key where the signer makes keys (files, or the "
	    "HSM with signer.keystore = pkcs11), its certificate signed by the "
	    "root, its first CRL. Earlier issuing CAs keep their CRLs and OCSP. "
	    "Running servers issue from it once restarted.",
	    daemon_cmd_ca_roll, 1},
	{"perspective", "--listen ADDR:PORT --key-file FILE [--name NAME] "
	    "[--resolver ADDR:PORT] [--trust-anchor FILE] [--http01-port N] "
	    "[--tlsalpn01-port N] [--allow-from NETS] [--allow-private]",
	    "Run a remote perspective for multi-perspective issuance "
	    "corroboration (BR 3.2.2.9): it repeats the CA's validation and "
	    "CAA checks from its own network when the CA lists it in "
	    "validation.perspectives. Holds no CA key and no data; stops on "
	    "SIGTERM.", daemon_cmd_perspective, 0},
	{"ca perspective-key", "--data DIR --url URL",
	    "Print the key of the remote perspective the CA lists as URL in "
	    "validation.perspectives, for its --key-file: derived from "
	    "validation.perspective_key_file and the URL, so that each "
	    "perspective has its own and can answer only for itself.",
	    daemon_cmd_perspective_key, 1},
	{"ca show", "--data DIR --serial HEX",
	    "Show a certificate: status, names, validity, revocation.",
	    daemon_cmd_ca_show, 1},
	{"admin customer add", "--data DIR --name NAME",
	    "Create a customer; prints its id.",
	    daemon_cmd_admin_customer, 1},
	{"admin user add",
	    "--data DIR [--customer ID] --email EMAIL --name NAME "
	    "--role customer|agent|admin [--password-stdin]",
	    "Create a user; prints its id. The password (argon2id) is read "
	    "from standard input, never from the command line.",
	    daemon_cmd_admin_user, 1},
	{"admin user disable", "--data DIR --id ID",
	    "Disable a user: they can no longer log in, their sessions end "
	    "and their API tokens are revoked. Audited; prints what ended.",
	    daemon_cmd_admin_user_disable, 1},
	{"admin user enable", "--data DIR --id ID",
	    "Enable a disabled user again: they may log in; tokens revoked "
	    "when they were disabled stay revoked. Audited.",
	    daemon_cmd_admin_user_enable, 1},
	{"admin user password", "--data DIR --id ID --password-stdin",
	    "Set a user's password (argon2id), read from standard input, "
	    "never from the command line; their sessions end, their API "
	    "tokens stay. Audited.", daemon_cmd_admin_user_password, 1},
	{"admin contract add", "--data DIR --customer ID --number NUMBER",
	    "Create a contract for a customer; prints its id.",
	    daemon_cmd_admin_contract, 1},
	{"admin domain add",
	    "--data DIR --contract ID --name DOMAIN [--hosted]",
	    "Add a domain to a contract; prints its id. With --hosted (the "
	    "zone is on our nameservers: validated automatically) it is "
	    "refused when a contract of another customer holds the name, or "
	    "a parent or child of it, as hosted, and for a public suffix.",
	    daemon_cmd_admin_domain, 1},
	{"admin domain remove", "--data DIR --id ID",
	    "Take a domain off its contract (it changed hands). Its pending "
	    "portal orders for names under it are cancelled and its "
	    "validations of them (portal and ACME) revoked, so that no new "
	    "order reuses them; issued certificates stay. Audited.",
	    daemon_cmd_admin_domain_remove, 1},
	{"admin slot add",
	    "--data DIR --contract ID "
	    "--product starter|business|business_wildcard|premium|unlimited",
	    "Add a certificate slot to a contract; prints its id.",
	    daemon_cmd_admin_slot, 1},
	{"admin org add",
	    "--data DIR --customer ID --legal-name NAME --country CC "
	    "--locality CITY [--state S] [--street S] [--postal-code P] "
	    "[--ev --business-category C --jurisdiction-country CC "
	    "--registration-number N] --validated-by NAME --evidence TEXT",
	    "Record verified organisation data; prints its id. The operator "
	    "has verified the data out of band; it becomes the subject of OV "
	    "and, with --ev, EV certificates.", daemon_cmd_admin_org, 1},
	{"admin eab add", "--data DIR --contract ID",
	    "Create an ACME External Account Binding key for a contract; "
	    "prints the key id and the HMAC key (base64url), separated by a "
	    "space. The key is shown only now.", daemon_cmd_admin_eab, 1},
	{"admin eab list", "--data DIR --contract ID",
	    "The contract's ACME External Account Binding keys, one line "
	    "each: key id, when made, and the ACME account that registered "
	    "with it with its state, or \"unused\".",
	    daemon_cmd_admin_eab_list, 1},
	{"admin eab revoke", "--data DIR --contract ID --kid KID",
	    "Revoke an unused ACME External Account Binding key of a "
	    "contract, so that no account can register with it (a key in use "
	    "stays: exit 1).", daemon_cmd_admin_eab_revoke, 1},
	{"admin account revoke", "--data DIR --id ID --reason TEXT",
	    "Revoke an ACME account (RFC 8555 \"revoked\"): its requests are "
	    "refused from now on and its pending orders fail; certificates "
	    "it has stay valid. Audited with the reason.",
	    daemon_cmd_admin_account_revoke, 1},
	{"admin token add", "--data DIR --user ID [--label TEXT] [--days N]",
	    "Create an API token for a user (Authorization: Bearer on "
	    "/api/v1/, for staff /backoffice/api/); prints the token. It is "
	    "shown only now: the store keeps only its SHA-256. A staff "
	    "member's token expires (in 90 days, or N, at most 365); a "
	    "customer's only with --days.", daemon_cmd_admin_token_add, 1},
	{"admin token revoke", "--data DIR --id ID",
	    "Revoke an API token by its id.", daemon_cmd_admin_token_revoke,
	    1},
	{"admin validate", "--data DIR --order ID [--method operator]",
	    "Complete the domain validation of a portal order as staff (the "
	    "evidence records the operator) and issue it when every name is "
	    "validated (DV); OV/EV orders then wait for organisation "
	    "validation.", daemon_cmd_admin_validate, 1},
	{"admin mail reminders", "--data DIR [--now TIME]",
	    "Queue the expiry reminders due now (30 and 7 days before a "
	    "portal certificate expires, each once); prints how many. serve "
	    "does this every hour; --now pins the clock (tests).",
	    daemon_cmd_admin_mail_reminders, 1},
	{"admin mail list", "--data DIR",
	    "List the mail waiting in the outbox. One a line: id, recipient, "
	    "kind, failed attempts, last error.", daemon_cmd_admin_mail_list,
	    1},
	{"admin list",
	    "--data DIR customers|users|contracts|domains|slots|acme-accounts "
	    "[--parent ID]",
	    "List records. One a line: id, parent id, name, extra (role, "
	    "state, hosted; ACME accounts: id, contract, key thumbprint, "
	    "status); users also enabled or disabled.",
	    daemon_cmd_admin_list, 1},
	{"audit verify", "--data DIR",
	    "Verify the audit log. Recomputes the hash chain; exit 1 naming "
	    "the first entry that does not verify.", daemon_cmd_audit_verify, 1},
	{"audit list", "--data DIR [--from N]",
	    "Print audit log entries. From sequence number N, one a line: "
	    "seq, time, actor, action, object, details, hash.",
	    daemon_cmd_audit_list, 1},
	{"backup", "--data DIR --out FILE",
	    "Write a consistent copy of the store to FILE while serve goes "
	    "on: one snapshot, one file, checked (SQLite's integrity check "
	    "and the audit log's chain) and synced before it is put in "
	    "place; FILE is never replaced. Exit 1 when the audit log does "
	    "not verify (the copy is kept). Not in it: the CA keys.",
	    daemon_cmd_backup, 1},
	{"restore", "--data DIR --from FILE",
	    "Replace the store with a backup, with every server on DIR "
	    "stopped (refused while a process has the store open): the "
	    "backup is checked like a new one, the replaced store is kept as "
	    "certdesk.db.before-restore-TIME, the CAs and certificates made "
	    "after the backup are carried over from it, and its other "
	    "revocations that the backup lacks are made again.",
	    daemon_cmd_restore, 1},
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct daemon_cmd *
find_cmd(const char *name)
{
	for (size_t i = 0; i < NCMDS; i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

/* 1 when some command's name starts with "<prefix> ". */
static int
is_group(const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < NCMDS; i++)
		if (strncmp(cmds[i].name, prefix, n) == 0 &&
		    cmds[i].name[n] == ' ')
			return 1;
	return 0;
}

static void
list_cmds(FILE *f, const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < NCMDS; i++) {
		const char *dot;
		int len;

		if (n && (strncmp(cmds[i].name, prefix, n) != 0 ||
		    cmds[i].name[n] != ' '))
			continue;
		/* first sentence of the summary */
		dot = strstr(cmds[i].summary, ". ");
		if (dot == NULL)
			dot = strrchr(cmds[i].summary, '.');
		len = dot ? (int)(dot - cmds[i].summary) :
		    (int)strlen(cmds[i].summary);
		fprintf(f, "  %-20s %.*s\n", cmds[i].name, len,
		    cmds[i].summary);
	}
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: certdesk [--log-level LEVEL] [--config FILE] COMMAND "
	    "[OPTIONS]\n"
	    "\n"
	    "certdesk: certificate authority, registration authority and "
	    "ACME server.\n"
	    "\n"
	    "commands:\n");
	list_cmds(f, "");
	fprintf(f,
	    "\n"
	    "global options:\n"
	    "  --log-level LEVEL    error, warning, info or debug (default: "
	    "general.log_level)\n"
	    "  --config FILE        configuration file instead of "
	    "DIR/certdesk.conf\n"
	    "  --help               show this help\n"
	    "  --version            show the version\n"
	    "\n"
	    "Run 'certdesk COMMAND --help' for the options of a command.\n"
	    "Exit status: 0 success, 1 failure, 2 bad command line.\n");
}

static int
global_value(int argc, char **argv, int *i, const char *name,
    const char **val)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0) {
		*val = NULL;
		return 1;
	}
	*val = argv[++*i];
	return 1;
}

int
daemon_main(int argc, char **argv)
{
	struct daemon_global g = {NULL, -1};
	struct daemon_ctx cx;
	const struct daemon_cmd *cmd = NULL;
	char prefix[256] = "";
	int i = 1, k, rc;

	/* a dead signer must not kill us through a write on its socket */
	signal(SIGPIPE, SIG_IGN);
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *v;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return DAEMON_EXIT_OK;
		}
		if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			printf("certdesk %s\n", CERTDESK_VERSION);
			return DAEMON_EXIT_OK;
		}
		if (global_value(argc, argv, &i, "--log-level", &v)) {
			int lvl = v ? log_level_parse(v) : -1;

			if (lvl < 0) {
				fprintf(stderr, "certdesk: --log-level needs "
				    "one of error, warning, info, debug\n");
				return DAEMON_EXIT_USAGE;
			}
			g.log_level = lvl;
			log_set_level(lvl);
			continue;
		}
		if (global_value(argc, argv, &i, "--config", &v)) {
			if (v == NULL || v[0] == '\0') {
				fprintf(stderr, "certdesk: --config needs a "
				    "file name\n");
				return DAEMON_EXIT_USAGE;
			}
			g.config = v;
			continue;
		}
		fprintf(stderr, "certdesk: unknown option '%.64s' (see "
		    "'certdesk --help')\n", a);
		return DAEMON_EXIT_USAGE;
	}
	if (i >= argc) {
		fprintf(stderr, "certdesk: no command given\n");
		usage(stderr);
		return DAEMON_EXIT_USAGE;
	}
	for (k = i; k < argc && argv[k][0] != '-'; k++) {
		char next[256];
		int n;

		n = snprintf(next, sizeof(next), "%s%s%s", prefix,
		    prefix[0] ? " " : "", argv[k]);
		if (n < 0 || n >= (int)sizeof(next) ||
		    (!find_cmd(next) && !is_group(next))) {
			if (prefix[0])
				fprintf(stderr, "certdesk: %s: unknown command "
				    "'%.64s' (see 'certdesk %s --help')\n",
				    prefix, argv[k], prefix);
			else
				fprintf(stderr, "certdesk: unknown command "
				    "'%.64s' (see 'certdesk --help')\n",
				    argv[k]);
			return DAEMON_EXIT_USAGE;
		}
		memcpy(prefix, next, (size_t)n + 1);
		cmd = find_cmd(prefix);
		if (cmd) {
			k++;
			break;
		}
	}
	if (cmd == NULL) {
		/* a group without its command word */
		if (k < argc && (strcmp(argv[k], "--help") == 0 ||
		    strcmp(argv[k], "-h") == 0)) {
			printf("usage: certdesk %s COMMAND [OPTIONS]\n\n"
			    "commands:\n", prefix);
			list_cmds(stdout, prefix);
			return DAEMON_EXIT_OK;
		}
		fprintf(stderr, "certdesk: %s: which one? commands:\n", prefix);
		list_cmds(stderr, prefix);
		return DAEMON_EXIT_USAGE;
	}
	memset(&cx, 0, sizeof(cx));
	cx.cmd = cmd;
	cx.g = &g;
	/* the servers log through log.c, which makes its lines safe; the
	 * others print what the store holds to an operator's terminal */
	if (strcmp(cmd->name, "serve") != 0 &&
	    strcmp(cmd->name, "perspective") != 0)
		daemon_safe_stdio();
	rc = cmd->run(&cx, argc - k, argv + k);
	daemon_ctx_free(&cx);
	if (fflush(stdout) != 0 && rc == DAEMON_EXIT_OK) {
		fprintf(stderr, "certdesk: %s: cannot write the output\n",
		    cmd->name);
		rc = DAEMON_EXIT_FAIL;
	}
	return rc;
}
