/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `certdesk init`: makes a data directory ready to serve, without asking
 * anything: the configuration file with every key and its default, the key
 * directory (0700) where the signer creates the root and issuing CA keys,
 * the CA certificates under ca/, the first CRLs under crl/, an empty list
 * of compromised keys, and the HTTPS service key and certificate under
 * tls/ (for http.listen). Refuses a directory that already holds a CA and
 * never overwrites a key.
 *
 * Runs in the main certdesk process; keys are generated inside the signer.
 */
#include "daemon/daemon_int.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/sec.h"
#include "util/xmalloc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CONF (1024 * 1024)

static const char compromised_header[] =
    "# certdesk: keys reported compromised (BR 4.9.12, 6.1.1.3).\n"
    "# One lowercase hex SHA-256 of a SubjectPublicKeyInfo (DER) per line;\n"
    "# CSRs with such a key are refused. Lines starting with '#' are "
    "comments.\n"
    "# The hash of a public key in PEM:\n"
    "#   openssl pkey -pubin -in key.pub -outform DER | sha256sum\n";

/* 1 when the directory exists and has an entry other than . and .. */
static int
dir_nonempty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int any = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			any = 1;
			break;
		}
	closedir(d);
	return any;
}

/* Is this line "key =" or a commented ";key =" / "# key ="? */
static int
line_is_key(const char *line, size_t len, const char *key)
{
	size_t i = 0, kl = strlen(key);

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < len && (line[i] == ';' || line[i] == '#'))
		i++;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i < kl || strncmp(line + i, key, kl) != 0)
		return 0;
	i += kl;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i < len && line[i] == '=';
}

/* "[section]" (with optional blanks) names which section, or NULL. */
static int
line_section(const char *line, size_t len, const char **name, size_t *nlen)
{
	size_t i = 0, j;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= len || line[i] != '[')
		return 0;
	j = i + 1;
	while (j < len && line[j] != ']')
		j++;
	if (j >= len)
		return 0;
	*name = line + i + 1;
	*nlen = j - i - 1;
	return 1;
}

/*
 * Sets "key = value" in [section] of the INI file at path: replaces the
 * first line for that key (commented out or not) in that section, or adds
 * one after the section header, or appends the section. The file is
 * replaced atomically.
 */
static int
conf_file_set(struct daemon_ctx *cx, const char *path, const char *section,
    const char *key, const char *value)
{
	uint8_t *text = NULL;
	size_t len = 0, pos = 0, insert_at = (size_t)-1, sl = strlen(section);
	char *out = NULL;
	size_t olen = 0;
	FILE *f = NULL;
	int in_sec = 0, done = 0, rc;
	struct stat sb;
	mode_t mode = 0640;

	rc = daemon_read_file(cx, "config file", path, MAX_CONF, &text,
	    &len);
	if (rc != 0)
		return rc;
	if (stat(path, &sb) == 0)
		mode = sb.st_mode & 0777;
	f = open_memstream(&out, &olen);
	if (f == NULL) {
		rc = RC_NOMEM;
		goto out;
	}
	while (pos < len) {
		const char *line = (const char *)text + pos, *nm;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos, nml;

		if (line_section(line, ll, &nm, &nml))
			in_sec = nml == sl && strncmp(nm, section, sl) == 0;
		if (!done && in_sec && line_is_key(line, ll, key)) {
			fprintf(f, "%s = %s\n", key, value);
			done = 1;
		} else {
			fwrite(line, 1, ll, f);
			fputc('\n', f);
			if (!done && in_sec && insert_at == (size_t)-1 &&
			    line_section(line, ll, &nm, &nml)) {
				/* after the header, if no line is found */
				fflush(f);
				insert_at = olen;
			}
		}
		pos += ll + (nl != NULL);
	}
	if (fclose(f) != 0) {
		f = NULL;
		rc = RC_NOMEM;
		goto out;
	}
	f = NULL;
	if (!done) {
		char *line = xasprintf("%s = %s\n", key, value);
		char *tmp;

		if (insert_at != (size_t)-1)
			tmp = xasprintf("%.*s%s%s", (int)insert_at, out, line,
			    out + insert_at);
		else
			tmp = xasprintf("%s\n[%s]\n%s", out, section, line);
		free(out);
		free(line);
		out = tmp;
		olen = strlen(out);
	}
	rc = fs_write_atomic(path, out, olen, mode);
	if (rc != 0)
		daemon_fail(cx, "%s: cannot write: %s", path, rc_str(rc));
out:
	if (f)
		fclose(f);
	free(out);
	free(text);
	return rc;
}

int
daemon_cmd_init(struct daemon_ctx *cx, int argc, char **argv)
{
	const char *data = NULL, *hier = NULL, *base = NULL;
	const char *p11_module = NULL, *p11_token = NULL, *p11_pin = NULL;
	const char *user = NULL, *signer_user = NULL;
	const struct daemon_opt opts[] = {
		{"--data", DAEMON_OPT_STR, &data, "DIR", 1,
		    "data directory to set up (created if missing)"},
		{"--hierarchy", DAEMON_OPT_STR, &hier, "ecdsa|rsa", 0,
		    "CA keys: ecdsa (P-384 root, P-256 issuing; the default) "
		    "or rsa (4096 root, 2048 issuing)"},
		{"--base-url", DAEMON_OPT_STR, &base, "URL", 0,
		    "http:// base of CRL and CA certificate URLs in "
		    "certificates (written to certdesk.conf as ca.base_url)"},
		{"--pkcs11-module", DAEMON_OPT_STR, &p11_module, "PATH", 0,
		    "make the CA keys on a PKCS#11 token (an HSM) through this "
		    "module; with --pkcs11-token and --pkcs11-pin-file"},
		{"--pkcs11-token", DAEMON_OPT_STR, &p11_token, "LABEL", 0,
		    "label of the token"},
		{"--pkcs11-pin-file", DAEMON_OPT_STR, &p11_pin, "FILE", 0,
		    "file holding the token's user PIN (mode 0600)"},
		{"--user", DAEMON_OPT_STR, &user, "NAME", 0,
		    "run as root: the user certdesk runs as (general.user), "
		    "who gets the directories written while serving, the "
		    "store's (db/), ca/, crl/, tls/, mail/"},
		{"--signer-user", DAEMON_OPT_STR, &signer_user, "NAME", 0,
		    "run as root: the owner of keys/, whom every signer root "
		    "starts runs as (root otherwise)"},
	};
	char *pin_abs = NULL;
	struct daemon_user u, su;
	struct rc_detail d = {{0}};
	struct store_issuer root;
	char *conf_path = NULL, *p = NULL;
	const char *found;
	struct stat sb;
	int done, rc;

	memset(&root, 0, sizeof(root));
	rc = daemon_opts(cx, opts, sizeof(opts) / sizeof(opts[0]), argc, argv,
	    NULL, 0, NULL, &done);
	if (done)
		return rc;
	if (hier && strcmp(hier, "ecdsa") && strcmp(hier, "rsa")) {
		daemon_usage(cx, "--hierarchy: '%.32s' is not ecdsa or rsa",
		    hier);
		return DAEMON_EXIT_USAGE;
	}
	if (base && !daemon_base_url_ok(base)) {
		daemon_usage(cx, "--base-url: '%.200s' is not a plain http:// "
		    "URL without a trailing '/'", base);
		return DAEMON_EXIT_USAGE;
	}
	if ((p11_module || p11_token || p11_pin) &&
	    !(p11_module && p11_token && p11_pin)) {
		daemon_usage(cx, "--pkcs11-module, --pkcs11-token and "
		    "--pkcs11-pin-file go together");
		return DAEMON_EXIT_USAGE;
	}
	if (user && geteuid() != 0) {
		daemon_usage(cx, "--user: init must run as root to give the "
		    "data directory to another user");
		return DAEMON_EXIT_USAGE;
	}
	if (user && daemon_user_lookup(cx, "--user", user, &u) !=
	    DAEMON_EXIT_OK)
		return DAEMON_EXIT_FAIL;
	if (signer_user && geteuid() != 0) {
		daemon_usage(cx, "--signer-user: init must run as root to give "
		    "the key directory to another user");
		return DAEMON_EXIT_USAGE;
	}
	if (signer_user && (daemon_user_lookup(cx, "--signer-user",
	    signer_user, &su) != DAEMON_EXIT_OK))
		return DAEMON_EXIT_FAIL;
	if (user && signer_user && u.uid == su.uid) {
		daemon_usage(cx, "--signer-user: not the user certdesk runs as "
		    "(--user), who must not be able to read the keys");
		return DAEMON_EXIT_USAGE;
	}
	if (p11_pin && (pin_abs = realpath(p11_pin, NULL)) == NULL) {
		daemon_fail(cx, "--pkcs11-pin-file %s: %s", p11_pin,
		    strerror(errno));
		return DAEMON_EXIT_FAIL;
	}
	if (fs_mkdir_p(data, 0750) != 0) {
		daemon_fail(cx, "--data %s: cannot create: %s", data,
		    strerror(errno));
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	if (stat(data, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		daemon_fail(cx, "--data %s: not a directory", data);
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	/* whoever may write in it may plant links where certdesk writes
	 * and serves files, or swap the store: only its owner */
	if ((sb.st_mode & 022) != 0 || sb.st_uid != geteuid()) {
		daemon_fail(cx, "--data %s: another user, or the group, may "
		    "write in it (chmod go-w, and own it)", data);
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}

	/* as root, in directories only root can change: no one can then
	 * redirect what is written below */
	if (daemon_root_only(cx, "--data", data, 1) != 0) {
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	/* the configuration: the documented defaults, then the options */
	conf_path = cx->g->config ? xstrdup(cx->g->config) :
	    xasprintf("%s/certdesk.conf", data);
	if (cx->g->config == NULL && !fs_exists(conf_path)) {
		rc = conf_write_default(conf_path);
		if (rc != 0) {
			daemon_fail(cx, "%s: cannot write: %s", conf_path,
			    rc_str(rc));
			rc = DAEMON_EXIT_FAIL;
			goto out;
		}
	}
	if ((hier && conf_file_set(cx, conf_path, "ca", "hierarchy", hier)) ||
	    (base && conf_file_set(cx, conf_path, "ca", "base_url", base)) ||
	    (p11_module && (conf_file_set(cx, conf_path, "signer", "keystore",
	    "pkcs11") || conf_file_set(cx, conf_path, "signer",
	    "pkcs11_module", p11_module) || conf_file_set(cx, conf_path,
	    "signer", "pkcs11_token", p11_token) || conf_file_set(cx,
	    conf_path, "signer", "pkcs11_pin_file", pin_abs))) ||
	    (user && (conf_file_set(cx, conf_path, "general", "user", user) ||
	    conf_file_set(cx, conf_path, "store", "path",
	    "db/certdesk.db")))) {
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	rc = daemon_load(cx, data, 0);
	if (rc != DAEMON_EXIT_OK)
		goto out;

	/* never touch an existing CA */
	p = xasprintf("%s/root.pem", cx->ca_dir);
	found = dir_nonempty(cx->keys_dir) ? cx->keys_dir :
	    fs_exists(cx->db_path) ? cx->db_path : fs_exists(p) ? p : NULL;
	if (found) {
		daemon_fail(cx, "%s already holds a CA (%s exists); refusing "
		    "to overwrite it", cx->data, found);
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	if (fs_mkdir_p(cx->keys_dir, 0700) != 0 || chmod(cx->keys_dir, 0700)
	    != 0 || fs_mkdir_p(cx->ca_dir, 0755) != 0 ||
	    chmod(cx->ca_dir, 0755) != 0 || fs_mkdir_p(cx->crl_dir, 0755) !=
	    0 || chmod(cx->crl_dir, 0755) != 0) {
		daemon_fail(cx, "%s: cannot create its directories: %s",
		    cx->data, strerror(errno));
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	/* keys of a user of their own: the signer, started by root, runs as
	 * the directory's owner and makes them as that user */
	if (signer_user && chown(cx->keys_dir, su.uid, su.gid) != 0) {
		daemon_fail(cx, "%s: cannot give it to %s: %s", cx->keys_dir,
		    su.name, strerror(errno));
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	if (!fs_exists(cx->compromised_path) &&
	    fs_write_excl(cx->compromised_path, compromised_header,
	    sizeof(compromised_header) - 1, 0644) != 0) {
		daemon_fail(cx, "%s: cannot write", cx->compromised_path);
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}

	/* general.user: its directories, then the signer (root's), then
	 * everything else made as the user */
	if (cx->user.set && daemon_user_layout(cx) != DAEMON_EXIT_OK) {
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	rc = daemon_open(cx, DAEMON_NEED_SIGNER | DAEMON_NEED_STORE |
	    DAEMON_CREATE | DAEMON_MANAGE_KEYS);
	if (rc != DAEMON_EXIT_OK)
		goto out;
	log_info(LOG_MAIN, "%s: creating the %s CA hierarchy", cx->data,
	    cx->conf.ca_hierarchy);
	rc = ca_init_hierarchy(&cx->cac, cx->st, cx->sg, &d);
	if (rc == RC_EXISTS) {
		daemon_fail(cx, "%s already holds a CA; refusing to overwrite "
		    "it", cx->data);
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	if (rc != 0) {
		daemon_fail(cx, "cannot create the CA hierarchy: %s",
		    rc_detail_str(&d, rc));
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	rc = daemon_open(cx, DAEMON_NEED_CA);
	if (rc != DAEMON_EXIT_OK)
		goto out;
	if (daemon_publish_ca_files(cx) != 0) {
		daemon_fail(cx, "cannot write the CA certificates to %s",
		    cx->ca_dir);
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	/* the CA publishes its first CRLs at init; make sure of it */
	rc = ca_crl_refresh(cx->ca, (time_t)cx->conf.ca_crl_refresh_hours *
	    3600, &d);
	if (rc != 0) {
		daemon_fail(cx, "cannot publish the first CRLs: %s",
		    rc_detail_str(&d, rc));
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	/* the HTTPS listener's own certificate, anchored by the root */
	if (cx->conf.http_listen[0] != '\0') {
		char names[DAEMON_SERVICE_NAMES][DAEMON_SERVICE_NAME];
		size_t n = daemon_service_names(cx->conf.http_listen,
		    cx->conf.http_public_url, names);
		char *cert_pem = NULL;
		struct sec *key_pem = NULL;

		if (daemon_svc_open(cx, names, n, NULL, &cert_pem, &key_pem)
		    != 0) {
			rc = DAEMON_EXIT_FAIL;
			goto out;
		}
		free(cert_pem);
		sec_free(key_pem);
	}
	if (store_issuer_get_active(cx->st, 1, &root) != 0) {
		daemon_fail(cx, "the root CA is missing after init");
		rc = DAEMON_EXIT_FAIL;
		goto out;
	}
	printf("root certificate: %s/%s.pem\n", cx->ca_dir, root.name);
	log_info(LOG_MAIN, "%s: ready; start it with 'certdesk serve --data "
	    "%s'", cx->data, cx->data);
	rc = DAEMON_EXIT_OK;
out:
	store_issuer_clear(&root);
	free(pin_abs);
	free(conf_path);
	free(p);
	return rc;
}
