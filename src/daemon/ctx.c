/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process start-up shared by every subcommand: messages to the operator,
 * option handling with --help, the data directory and its configuration,
 * and opening the signer, store, key checks and CA in that order. The
 * signer is forked first, before the store or any input file is read, so
 * that it starts from a process image that has touched nothing untrusted.
 *
 * Runs in the main certdesk process. Trusts the data directory and the
 * configuration file (but checks every value), nothing else.
 */
#include "acme/acme.h"
#include "daemon/daemon_int.h"
#include "signer/signer.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/rc.h"
#include "util/xmalloc.h"
#include "validation/val.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* the CRL of a full shard, every certificate revoked (at most 55 bytes an
 * entry: a 20-octet serial, a GeneralizedTime, a reason code), and its
 * header, fit one signer request */
_Static_assert((long long)CONF_CRL_SHARD_MAX * 55 + 4096 <= SIGNER_MAX_MSG,
    "crl.shard_size too large for the signer");

#ifndef CERTDESK_SHAREDIR
#define CERTDESK_SHAREDIR "/usr/share/certdesk"
#endif

/* ---- messages ------------------------------------------------------------ */

static void __attribute__((format(printf, 3, 0)))
vmessage(struct daemon_ctx *cx, const char *hint, const char *fmt,
    va_list ap)
{
	char line[1024];
	int n;

	n = snprintf(line, sizeof(line), "certdesk: %s: ",
	    cx && cx->cmd ? cx->cmd->name : "error");
	if (n < 0 || n >= (int)sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	fflush(stdout);
	if (hint)
		fprintf(stderr, "%s (see 'certdesk %s --help')\n", line, hint);
	else
		fprintf(stderr, "%s\n", line);
}

void
daemon_fmt_time(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "@%lld", (long long)t);
}

void
daemon_fail(struct daemon_ctx *cx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(cx, NULL, fmt, ap);
	va_end(ap);
}

void
daemon_usage(struct daemon_ctx *cx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(cx, cx && cx->cmd ? cx->cmd->name : "", fmt, ap);
	va_end(ap);
}

#define HELP_WIDTH 79

/* Prints text from column col, wrapped at HELP_WIDTH with continuation
 * lines indented to indent, then a newline. */
static void
wrap(const char *text, size_t col, size_t indent)
{
	const char *p = text;

	while (*p) {
		size_t w = strcspn(p, " ");

		if (col > indent && col + 1 + w > HELP_WIDTH) {
			printf("\n%*s", (int)indent, "");
			col = indent;
		} else if (col > indent) {
			putchar(' ');
			col++;
		}
		printf("%.*s", (int)w, p);
		col += w;
		p += w;
		while (*p == ' ')
			p++;
	}
	putchar('\n');
}

static void
print_help(const struct daemon_cmd *cmd, const struct daemon_opt *opts,
    size_t nopts)
{
	char usage[64];

	snprintf(usage, sizeof(usage), "usage: certdesk %s", cmd->name);
	printf("%s", usage);
	wrap(cmd->synopsis, strlen(usage), 8);
	putchar('\n');
	wrap(cmd->summary, 0, 0);
	if (nopts)
		printf("\noptions:\n");
	for (size_t i = 0; i < nopts; i++) {
		char left[64], *help;

		snprintf(left, sizeof(left), "%s%s%s%s", opts[i].name,
		    opts[i].metavar ? " " : "",
		    opts[i].metavar ? opts[i].metavar : "",
		    opts[i].kind == DAEMON_OPT_LIST ? " ..." : "");
		help = xasprintf("%s%s", opts[i].help,
		    opts[i].required ? " (required)" : "");
		if (strlen(left) > 24) {
			printf("  %s\n%*s", left, 28, "");
		} else
			printf("  %-24s  ", left);
		wrap(help, 28, 28);
		free(help);
	}
	printf("  %-24s  %s\n", "--help", "show this help");
}

int
daemon_opts(struct daemon_ctx *cx, const struct daemon_opt *opts,
    size_t nopts, int argc, char **argv, const char **pos, size_t maxpos,
    size_t *npos, int *done)
{
	char err[256];
	int rc;

	*done = 0;
	rc = daemon_opts_parse(opts, nopts, argc, argv, pos, maxpos, npos, err,
	    sizeof(err));
	if (rc == DAEMON_PARSE_HELP) {
		print_help(cx->cmd, opts, nopts);
		*done = 1;
		return DAEMON_EXIT_OK;
	}
	if (rc != 0) {
		daemon_usage(cx, "%s", err);
		*done = 1;
		return DAEMON_EXIT_USAGE;
	}
	return DAEMON_EXIT_OK;
}

/* ---- data directory and configuration ------------------------------------ */

static char *
in_data(const struct daemon_ctx *cx, const char *p)
{
	if (p[0] == '/')
		return xstrdup(p);
	return xasprintf("%s/%s", cx->data, p);
}

static void
set_actor(struct daemon_ctx *cx)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	uid_t uid = geteuid();

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res &&
	    daemon_text_ok(res->pw_name, 64))
		snprintf(cx->actor, sizeof(cx->actor), "cli:%s", res->pw_name);
	else
		snprintf(cx->actor, sizeof(cx->actor), "cli:uid%ld", (long)uid);
}

int
daemon_load(struct daemon_ctx *cx, const char *data, int create)
{
	struct rc_detail d = {{0}};
	struct stat sb;
	char real[PATH_MAX];
	int rc, def_level, level;

	if (create && fs_mkdir_p(data, 0750) != 0) {
		daemon_fail(cx, "--data %s: cannot create: %s", data,
		    strerror(errno));
		return DAEMON_EXIT_FAIL;
	}
	if (stat(data, &sb) != 0) {
		daemon_fail(cx, "--data %s: %s", data, strerror(errno));
		return DAEMON_EXIT_FAIL;
	}
	if (!S_ISDIR(sb.st_mode)) {
		daemon_fail(cx, "--data %s: not a directory", data);
		return DAEMON_EXIT_FAIL;
	}
	if (realpath(data, real) == NULL) {
		daemon_fail(cx, "--data %s: %s", data, strerror(errno));
		return DAEMON_EXIT_FAIL;
	}
	cx->data = xstrdup(real);
	cx->conf_path = cx->g->config ? xstrdup(cx->g->config) :
	    xasprintf("%s/certdesk.conf", cx->data);
	/* as root, only what root alone can change decides what runs */
	if (daemon_root_trusts(cx) != DAEMON_EXIT_OK)
		return DAEMON_EXIT_FAIL;
	conf_defaults(&cx->conf);
	cx->conf_ok = 1;
	def_level = cx->conf.log_level;
	cx->conf.log_level = -1;	/* to see whether the file sets it */
	rc = conf_load(&cx->conf, cx->conf_path, cx->g->config != NULL, &d);
	if (rc != 0) {
		daemon_fail(cx, "%s", rc_detail_str(&d, rc));
		return DAEMON_EXIT_FAIL;
	}
	level = cx->conf.log_level;
	if (level < 0) {
		/* not in the file: the default for serve and init; one-shot
		 * commands keep stderr for warnings and their message */
		cx->conf.log_level = def_level;
		level = cx->cmd->quiet ? LOG_LVL_WARN : def_level;
	}
	log_set_level(cx->g->log_level >= 0 ? cx->g->log_level : level);
	log_debug(LOG_MAIN, "data directory %s, configuration %s%s", cx->data,
	    cx->conf_path, fs_exists(cx->conf_path) ? "" : " (missing: "
	    "defaults)");
	if (!daemon_base_url_ok(cx->conf.ca_base_url)) {
		daemon_fail(cx, "%s: ca.base_url: '%.200s' is not a plain "
		    "http:// URL without a trailing '/' (CRL and AIA URLs are "
		    "http, BR 7.1.2)", cx->conf_path, cx->conf.ca_base_url);
		return DAEMON_EXIT_FAIL;
	}
	cx->keys_dir = xasprintf("%s/keys", cx->data);
	cx->ca_dir = xasprintf("%s/ca", cx->data);
	cx->crl_dir = xasprintf("%s/crl", cx->data);
	cx->db_path = in_data(cx, cx->conf.store_path);
	cx->compromised_path = in_data(cx, cx->conf.policy_compromised_keys);
	cx->pin_path = cx->conf.signer_pkcs11_pin_file[0] ?
	    in_data(cx, cx->conf.signer_pkcs11_pin_file) : xstrdup("");
	if (strcmp(cx->conf.signer_keystore, "pkcs11") == 0 &&
	    (!cx->conf.signer_pkcs11_module[0] ||
	    !cx->conf.signer_pkcs11_token[0] || !cx->pin_path[0])) {
		daemon_fail(cx, "%s: signer.keystore = pkcs11 needs "
		    "signer.pkcs11_module, signer.pkcs11_token and "
		    "signer.pkcs11_pin_file", cx->conf_path);
		return DAEMON_EXIT_FAIL;
	}
	cx->weak_dir = cx->conf.policy_weak_keys_dir[0] ?
	    in_data(cx, cx->conf.policy_weak_keys_dir) :
	    xstrdup(CERTDESK_SHAREDIR "/weak-keys");

	cx->cac.base_url = cx->conf.ca_base_url;
	cx->cac.ocsp = cx->conf.ca_ocsp;
	cx->cac.crl_validity_days = cx->conf.ca_crl_validity_days;
	cx->cac.crl_dir = cx->crl_dir;
	cx->cac.hierarchy = cx->conf.ca_hierarchy;
	cx->cac.root_cn = cx->conf.ca_root_cn;
	cx->cac.issuing_cn = cx->conf.ca_issuing_cn;
	cx->cac.organization = cx->conf.ca_organization;
	cx->cac.country = cx->conf.ca_country;
	cx->cac.now = 0;
	if (cx->conf.policy_now[0] != '\0') {
		time_t t;

		if (ca_parse_time(cx->conf.policy_now, &t) != 0) {
			daemon_fail(cx, "%s: policy.now: '%.64s' is not a time "
			    "(YYYY-MM-DDTHH:MM:SSZ)", cx->conf_path,
			    cx->conf.policy_now);
			return DAEMON_EXIT_FAIL;
		}
		cx->cac.now = t;
		log_warn(LOG_MAIN, "policy.now is set: the clock is pinned to "
		    "%s (tests only)", cx->conf.policy_now);
	}
	set_actor(cx);
	return daemon_user_resolve(cx);
}

/* ---- start-up ------------------------------------------------------------ */

/* The CT log list just loaded, in the log: its figures (read together)
 * after prefix, and a warning when it is older than
 * CA_CT_LIST_STALE_DAYS (it may name logs retired since, whose SCTs no
 * longer count, and miss the new ones). */
static void
ct_report(struct daemon_ctx *cx, const char *prefix)
{
	struct ca_ct_info ci;
	time_t now = cx->cac.now ? cx->cac.now : time(NULL);
	char day[16];
	struct tm tm;

	ca_ct_info(cx->ct, &ci);
	log_info(LOG_MAIN, "%sCertificate Transparency: %zu usable logs of "
	    "%zu operators", prefix, ci.nlogs, ci.noperators);
	if (ci.list_time == 0 ||
	    now - ci.list_time <= CA_CT_LIST_STALE_DAYS * 86400L)
		return;
	gmtime_r(&ci.list_time, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	log_warn(LOG_MAIN, "ct.log_list %s is from %s, over %d days old: "
	    "fetch it anew (logs are retired and new ones open)",
	    cx->conf.ct_log_list, day, CA_CT_LIST_STALE_DAYS);
}

int
daemon_ct_reload(struct daemon_ctx *cx)
{
	struct rc_detail d = {{0}};
	char *path;
	int rc;

	if (cx->ct == NULL) {
		log_info(LOG_MAIN, "SIGHUP: no ct.log_list configured");
		return 0;
	}
	path = in_data(cx, cx->conf.ct_log_list);
	rc = ca_ct_reload(cx->ct, path, &d);
	free(path);
	if (rc != 0) {
		log_err(LOG_MAIN, "SIGHUP: ct.log_list not reloaded, the "
		    "previous list stays in use: %s", rc_detail_str(&d, rc));
		return rc;
	}
	ct_report(cx, "SIGHUP: ct.log_list reloaded: ");
	return 0;
}

int
daemon_keys_reload(struct daemon_ctx *cx)
{
	struct rc_detail d = {{0}};
	size_t n = 0;
	int rc = ca_keycheck_reload(cx->kc, &n, &d);

	if (rc == RC_NOTFOUND) {
		log_info(LOG_MAIN, "SIGHUP: no policy.compromised_keys "
		    "configured");
		return 0;
	}
	if (rc != 0) {
		log_err(LOG_MAIN, "SIGHUP: policy.compromised_keys not "
		    "reloaded, the previous list stays in use: %s",
		    rc_detail_str(&d, rc));
		return rc;
	}
	log_info(LOG_MAIN, "SIGHUP: policy.compromised_keys reloaded: %zu "
	    "key%s listed", n, n == 1 ? "" : "s");
	return 0;
}

/* The key hashes of ACME accounts made before the store kept them (0019),
 * so that blocking a key finds its account: parsed from each stored JWK,
 * once (later opens find none). 0, or non-zero after daemon_fail(). */
static int
fill_account_keys(struct daemon_ctx *cx)
{
	size_t filled, failed;
	int rc = store_acme_account_fill_keys(cx->st, acme_jwk_spki_sha256,
	    NULL, &filled, &failed);

	if (rc != 0) {
		daemon_fail(cx, "ACME account keys: %s", rc_str(rc));
		return rc;
	}
	if (filled > 0)
		log_info(LOG_MAIN, "the key hashes of %zu ACME account%s "
		    "recorded", filled, filled == 1 ? "" : "s");
	if (failed > 0)
		log_warn(LOG_MAIN, "%zu ACME account%s with a stored key "
		    "that does not parse: not found when a key is blocked",
		    failed, failed == 1 ? "" : "s");
	return 0;
}

int
daemon_open(struct daemon_ctx *cx, unsigned need)
{
	struct rc_detail d = {{0}};
	struct ca_status_conf scf = {cx->conf.crl_shard_size,
		cx->conf.ocsp_validity_hours};
	int rc;

	/* CRL shard size and OCSP validity for whatever this command issues
	 * or signs (process-wide in the ca; set before any CA handle) */
	ca_status_configure(&scf);
	/* general.user: the signer, which reads the keys as their owner,
	 * can only be started before this process becomes the user, so it
	 * is started now for whatever the command does later */
	if (cx->user.set && !cx->user_dropped)
		need |= DAEMON_NEED_SIGNER;
	if ((need & DAEMON_NEED_SIGNER) && cx->sg == NULL) {
		struct signer_conf sc = {
			.keydir = cx->keys_dir,
			.pkcs11_module = cx->conf.signer_pkcs11_module,
			.pkcs11_token = cx->conf.signer_pkcs11_token,
			.pkcs11_pin_file = cx->pin_path,
			.new_on_token = strcmp(cx->conf.signer_keystore,
			    "pkcs11") == 0,
		};
		struct stat sb;

		if (stat(cx->keys_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			daemon_fail(cx, "%s: no key directory; is %s a "
			    "certdesk data directory? (run 'certdesk init "
			    "--data %s')", cx->keys_dir, cx->data, cx->data);
			return DAEMON_EXIT_FAIL;
		}
		/* started by root, the signer runs as the owner of the
		 * keys: root, or a user of their own */
		sc.as_owner = geteuid() == 0;
		sc.sign_only = !(need & DAEMON_MANAGE_KEYS);
		if (cx->user.set && !cx->user_dropped &&
		    daemon_user_signer_ok(cx, &sb) != DAEMON_EXIT_OK)
			return DAEMON_EXIT_FAIL;
		rc = signer_spawn_conf(&sc, &cx->sg);
		if (rc != 0) {
			daemon_fail(cx, "cannot start the signer over %s: %s",
			    cx->keys_dir, rc_str(rc));
			return DAEMON_EXIT_FAIL;
		}
	}
	/* general.user: before anything else is opened, once the signer
	 * runs (if this command has one); what the command makes from here
	 * on is the user's, and nothing root does lands where the user
	 * could have planted a link */
	if (daemon_user_drop(cx) != DAEMON_EXIT_OK)
		return DAEMON_EXIT_FAIL;
	if ((need & DAEMON_NEED_STORE) && cx->st == NULL) {
		struct store_conf sc = {
			.backend = cx->conf.store_backend,
			.path = cx->db_path,
			.durable = 1,
		};
		struct stat sb;

		if (!(need & DAEMON_CREATE) &&
		    strcmp(cx->conf.store_backend, "sqlite") == 0 &&
		    (stat(cx->db_path, &sb) != 0 || sb.st_size == 0)) {
			daemon_fail(cx, "%s is not a certdesk data directory "
			    "(no or empty %s); run 'certdesk init --data %s' "
			    "first", cx->data, cx->db_path, cx->data);
			return DAEMON_EXIT_FAIL;
		}
		rc = store_open(&sc, &cx->st);
		if (rc != 0) {
			daemon_fail(cx, "cannot open the store %s: %s",
			    cx->db_path, rc_str(rc));
			return DAEMON_EXIT_FAIL;
		}
		if (fill_account_keys(cx) != 0)
			return DAEMON_EXIT_FAIL;
	}
	if ((need & DAEMON_NEED_CA) && cx->ca == NULL) {
		if (cx->kc == NULL) {
			rc = ca_keycheck_open(cx->weak_dir,
			    cx->compromised_path, &cx->kc, &d);
			if (rc != 0) {
				daemon_fail(cx, "key checks: %s",
				    rc_detail_str(&d, rc));
				return DAEMON_EXIT_FAIL;
			}
		}
		if ((need & DAEMON_NEED_CT) && cx->ct == NULL &&
		    cx->conf.ct_log_list[0] != '\0') {
			char *path = in_data(cx, cx->conf.ct_log_list);

			rc = ca_ct_load(path, cx->conf.ct_timeout_s, &cx->ct,
			    &d);
			free(path);
			if (rc != 0) {
				daemon_fail(cx, "ct.log_list: %s",
				    rc_detail_str(&d, rc));
				return DAEMON_EXIT_FAIL;
			}
			ct_report(cx, "");
		}
		cx->cac.ct = cx->ct;
		rc = ca_open(&cx->cac, cx->st, cx->sg, cx->kc, &cx->ca);
		if (rc == RC_NOTFOUND) {
			daemon_fail(cx, "no CA in %s; run 'certdesk init "
			    "--data %s' first", cx->data, cx->data);
			return DAEMON_EXIT_FAIL;
		}
		if (rc != 0) {
			daemon_fail(cx, "cannot open the CA: %s", rc_str(rc));
			return DAEMON_EXIT_FAIL;
		}
	}
	return DAEMON_EXIT_OK;
}

void
daemon_ctx_free(struct daemon_ctx *cx)
{
	ca_free(cx->ca);
	cx->ca = NULL;
	daemon_roll_free(cx->roll);	/* after the last CA handle */
	cx->roll = NULL;
	cx->cac.current = NULL;
	ca_keycheck_free(cx->kc);
	cx->kc = NULL;
	store_close(cx->st);
	cx->st = NULL;
	signer_free(cx->sg);
	cx->sg = NULL;
	val_mpic_free(cx->mpic);
	cx->mpic = NULL;
	ca_ct_free(cx->ct);
	cx->ct = NULL;
	cx->cac.ct = NULL;
	free(cx->data);
	free(cx->conf_path);
	free(cx->keys_dir);
	free(cx->ca_dir);
	free(cx->crl_dir);
	free(cx->db_path);
	free(cx->compromised_path);
	free(cx->weak_dir);
	free(cx->pin_path);
	cx->data = cx->conf_path = cx->keys_dir = cx->ca_dir = NULL;
	cx->crl_dir = cx->db_path = cx->compromised_path = NULL;
	cx->weak_dir = cx->pin_path = NULL;
	if (cx->conf_ok)
		conf_free(&cx->conf);
	cx->conf_ok = 0;
	for (size_t i = 0; i < cx->ninputs; i++)
		if (cx->inputs[i].fd >= 0)
			close(cx->inputs[i].fd);
	cx->ninputs = 0;
}

/* ---- files --------------------------------------------------------------- */

int
daemon_publish_ca_files(struct daemon_ctx *cx)
{
	int rc = 0;

	if (fs_mkdir_p(cx->ca_dir, 0755) != 0) {
		log_err(LOG_MAIN, "%s: cannot create: %s", cx->ca_dir,
		    strerror(errno));
		return RC_IO;
	}
	for (int root = 1; root >= 0 && rc == 0; root--) {
		struct store_issuer is;
		char *path = NULL, *pem = NULL;

		memset(&is, 0, sizeof(is));
		rc = store_issuer_get_active(cx->st, root, &is);
		if (rc != 0) {
			log_err(LOG_MAIN, "%s CA: cannot load: %s",
			    root ? "root" : "issuing", rc_str(rc));
			goto next;
		}
		if (is.name == NULL || !daemon_issuer_name_ok(is.name)) {
			log_err(LOG_MAIN, "issuer %lld: unusable name",
			    (long long)is.id);
			rc = RC_INVAL;
			goto next;
		}
		path = xasprintf("%s/%s.der", cx->ca_dir, is.name);
		rc = fs_write_atomic(path, is.cert_der, is.cert_len, 0644);
		if (rc != 0)
			goto next;
		free(path);
		path = xasprintf("%s/%s.pem", cx->ca_dir, is.name);
		pem = daemon_pem_encode("CERTIFICATE", is.cert_der,
		    is.cert_len);
		rc = fs_write_atomic(path, pem, strlen(pem), 0644);
next:
		if (rc != 0 && path)
			log_err(LOG_MAIN, "%s: cannot write: %s", path,
			    rc_str(rc));
		free(path);
		free(pem);
		store_issuer_clear(&is);
	}
	return rc;
}

struct issuer_ids {
	int64_t id[64];
	char *name[64];
	size_t n;
};

static int
collect_issuer(const struct store_issuer *is, void *arg)
{
	struct issuer_ids *ids = arg;

	if (ids->n >= 64)
		return RC_TOOBIG;
	ids->id[ids->n] = is->id;
	ids->name[ids->n] = xstrdup(is->name ? is->name : "?");
	ids->n++;
	return 0;
}

int
daemon_publish_crls(struct daemon_ctx *cx, int print)
{
	struct issuer_ids ids;
	int rc;

	memset(&ids, 0, sizeof(ids));
	rc = store_issuer_list(cx->st, collect_issuer, &ids);
	if (rc != 0)
		daemon_fail(cx, "cannot list the CAs: %s", rc_str(rc));
	for (size_t i = 0; i < ids.n && rc == 0; i++) {
		struct rc_detail d = {{0}};

		rc = ca_crl_publish(cx->ca, ids.id[i], &d);
		if (rc != 0)
			daemon_fail(cx, "cannot publish the CRL of %s: %s",
			    ids.name[i], rc_detail_str(&d, rc));
		else if (print)
			printf("%s/%s.crl\n", cx->crl_dir, ids.name[i]);
	}
	for (size_t i = 0; i < ids.n; i++)
		free(ids.name[i]);
	return rc;
}

int
daemon_read_file(struct daemon_ctx *cx, const char *opt, const char *path,
    size_t max, uint8_t **out, size_t *len)
{
	uint8_t *p = NULL;
	size_t n = 0, cap = 0;
	struct stat sb;
	int fd, rc = 0;

	*out = NULL;
	*len = 0;
	fd = -1;
	for (size_t i = 0; i < cx->ninputs; i++)
		if (cx->inputs[i].fd >= 0 && strcmp(cx->inputs[i].path,
		    path) == 0) {
			fd = cx->inputs[i].fd;	/* opened while root */
			cx->inputs[i].fd = -1;
			break;
		}
	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		daemon_fail(cx, "%s %s: cannot read: %s%s%s", opt, path,
		    strerror(errno), cx->user_dropped ? ", running as " : "",
		    cx->user_dropped ? cx->user.name : "");
		return RC_IO;
	}
	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		daemon_fail(cx, "%s %s: cannot read: %s", opt, path,
		    strerror(EISDIR));
		close(fd);
		return RC_IO;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap > max) {
				daemon_fail(cx, "%s %s: larger than %zu bytes",
				    opt, path, max);
				rc = RC_TOOBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			if (cap > max + 1)
				cap = max + 1;
			p = xrealloc(p, cap + 1);
		}
		r = read(fd, p + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			daemon_fail(cx, "%s %s: cannot read: %s", opt, path,
			    strerror(errno));
			rc = RC_IO;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		daemon_fail(cx, "%s %s: larger than %zu bytes", opt, path, max);
		rc = RC_TOOBIG;
		goto out;
	}
	if (p == NULL)
		p = xmalloc(1);
	p[n] = '\0';
	*out = p;
	*len = n;
	p = NULL;
out:
	free(p);
	close(fd);
	return rc;
}

void
daemon_input(struct daemon_ctx *cx, const char *path)
{
	if (path == NULL || cx->ninputs >= DAEMON_INPUTS)
		return;
	cx->inputs[cx->ninputs].path = path;
	cx->inputs[cx->ninputs].fd = -1;
	cx->ninputs++;
}

int
daemon_load_open(struct daemon_ctx *cx, const char *data, unsigned need)
{
	int rc = daemon_load(cx, data, 0);

	if (rc != DAEMON_EXIT_OK)
		return rc;
	return daemon_open(cx, need);
}
