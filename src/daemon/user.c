/* SPDX-License-Identifier: Apache-2.0 */
/*
 * general.user: run as root, certdesk becomes an ordinary user once its
 * signer is started (and, for serve, its sockets bound), so that the
 * process that parses requests from the Internet cannot read the CA key
 * files, and a root-run command never writes where that user could have
 * planted a link. The signer child keeps the key directory's owner (root,
 * or a user of its own).
 *
 * Run as root, certdesk also trusts only what root alone can change: the
 * data directory, every directory above it and the configuration file
 * must be root's and writable by no one else (as sshd's StrictModes),
 * since they decide what the root signer loads and where it reads keys.
 * With general.user the layout is: the data directory root's (group: the
 * user's, mode 0750), certdesk.conf root's (0640), keys/ root's (0700),
 * and the directories written while serving the user's: the store's
 * (db/), ca/, crl/, tls/ and mail/. `init --user` makes it so.
 *
 * What the user may reach is checked after the change, by trying: the key
 * directory and the PKCS#11 PIN file must not open (whatever the reason:
 * modes, groups, ACLs), the data directory must not be writable, and the
 * directories written while serving must be. A failed check stops the
 * command with the path named and what to do.
 */
#include "daemon/daemon_int.h"
#include "signer/signer.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
daemon_user_lookup(struct daemon_ctx *cx, const char *what,
    const char *name, struct daemon_user *u)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int e;

	memset(u, 0, sizeof(*u));
	if (name[0] == '\0' || strlen(name) >= sizeof(u->name)) {
		daemon_fail(cx, "%s: '%.64s' is not a user name", what, name);
		return DAEMON_EXIT_FAIL;
	}
	e = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (res == NULL) {
		daemon_fail(cx, "%s: no user '%s' on this system%s%s", what,
		    name, e ? ": " : " (add it, e.g. adduser --system "
		    "--group certdesk)", e ? strerror(e) : "");
		return DAEMON_EXIT_FAIL;
	}
	if (pw.pw_uid == 0) {
		daemon_fail(cx, "%s: '%s' is root; name the user certdesk "
		    "should become, or leave it empty", what, name);
		return DAEMON_EXIT_FAIL;
	}
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", name);
	return DAEMON_EXIT_OK;
}

/* The directories written while serving, in *n (at most 5; free each). */
static void
user_dirs(struct daemon_ctx *cx, char *out[5], size_t *n)
{
	char *store = xstrdup(cx->db_path);

	out[0] = xstrdup(dirname(store));
	free(store);
	out[1] = xstrdup(cx->ca_dir);
	out[2] = xstrdup(cx->crl_dir);
	out[3] = xasprintf("%s/tls", cx->data);
	out[4] = xasprintf("%s/mail", cx->data);
	*n = 5;
}

/* Run as root without general.user: a directory written while serving that
 * belongs to another user means general.user is missing, and a root-run
 * command would write where that user could have planted a link. */
static int
root_alone(struct daemon_ctx *cx)
{
	char *dirs[5];
	size_t n;
	int rc = DAEMON_EXIT_OK;

	if (geteuid() != 0)
		return rc;
	user_dirs(cx, dirs, &n);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (rc == DAEMON_EXIT_OK && lstat(dirs[i], &st) == 0 &&
		    st.st_uid != 0) {
			daemon_fail(cx, "%s belongs to uid %ld, and %s sets no "
			    "general.user: run as root, certdesk would write "
			    "there as root; set general.user to that user, or "
			    "run certdesk as it", dirs[i], (long)st.st_uid,
			    cx->conf_path);
			rc = DAEMON_EXIT_FAIL;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	return rc;
}

int
daemon_user_resolve(struct daemon_ctx *cx)
{
	const char *what = "general.user", *name = cx->conf.user;
	struct daemon_user u;
	struct stat st;
	int rc;

	memset(&cx->user, 0, sizeof(cx->user));
	if (name[0] == '\0')
		return root_alone(cx);
	if ((rc = daemon_user_lookup(cx, what, name, &u)) != DAEMON_EXIT_OK)
		return rc;
	if (geteuid() == 0) {
		cx->user = u;
		cx->user.set = 1;
		return DAEMON_EXIT_OK;
	}
	if (geteuid() != u.uid) {
		daemon_fail(cx, "%s = %s: certdesk must be started as root to "
		    "become that user (it runs as uid %ld)", what, u.name,
		    (long)geteuid());
		return DAEMON_EXIT_FAIL;
	}
	/* started as the user already (systemd's User=, runuser): then the
	 * signer is that user too, and holds the keys only if they are its */
	if (stat(cx->keys_dir, &st) == 0 && st.st_uid == u.uid)
		log_warn(LOG_MAIN, "started as %s, who owns %s: the process "
		    "that answers the network could read the CA keys; start "
		    "certdesk as root, with the keys root's", u.name,
		    cx->keys_dir);
	return DAEMON_EXIT_OK;
}

int
daemon_root_only(struct daemon_ctx *cx, const char *what, const char *path,
    int strict)
{
	char bad[PATH_MAX];
	struct stat st;
	int rc;

	if (geteuid() != 0)
		return 0;
	rc = fs_root_only(path, strict, bad, &st);
	if (rc == 0 || rc == RC_NOTFOUND)
		return 0;	/* not there: whoever reads it says so */
	if (rc == RC_IO)
		daemon_fail(cx, "%s: %s", bad, strerror(errno));
	else if (st.st_uid != 0)
		daemon_fail(cx, "%s %s: %s belongs to uid %ld, so it decides "
		    "what runs as root here: run certdesk as that user, or "
		    "give it to root (and keep the server's writable files in "
		    "directories of the user's, general.user)", what, path,
		    bad, (long)st.st_uid);
	else
		daemon_fail(cx, "%s %s: %s may be changed by its group or by "
		    "others (chmod go-w %s)", what, path, bad, bad);
	return -1;
}

int
daemon_root_trusts(struct daemon_ctx *cx)
{
	if (geteuid() != 0)
		return DAEMON_EXIT_OK;
	/* the data directory and the configuration's: no sticky one
	 * either, where others could make the names certdesk opens */
	if (daemon_root_only(cx, "data directory", cx->data, 1) != 0 ||
	    daemon_root_only(cx, "configuration", cx->conf_path, 2) != 0)
		return DAEMON_EXIT_FAIL;
	return DAEMON_EXIT_OK;
}

int
daemon_user_signer_ok(struct daemon_ctx *cx, const struct stat *keys)
{
	if (keys->st_uid != cx->user.uid)
		return DAEMON_EXIT_OK;
	daemon_fail(cx, "%s belongs to %s, the user certdesk runs as, who "
	    "could then read the CA keys: give it to root (chown -R root: "
	    "%s) or to a user of its own", cx->keys_dir, cx->user.name,
	    cx->keys_dir);
	return DAEMON_EXIT_FAIL;
}

/* Each must be there and the user's to write. */
static int
dirs_writable(struct daemon_ctx *cx)
{
	char *dirs[5];
	size_t n;
	int rc = 0;

	user_dirs(cx, dirs, &n);
	for (size_t i = 0; i < n; i++) {
		if (rc != 0 || access(dirs[i], W_OK | X_OK | R_OK) == 0)
			continue;
		if (strcmp(dirs[i], cx->data) == 0)
			daemon_fail(cx, "store.path %s: the store must be in "
			    "a directory of %s's, not in %s itself (e.g. "
			    "db/certdesk.db; certdesk init --user does so)",
			    cx->db_path, cx->user.name, cx->data);
		else
			daemon_fail(cx, "%s: %s cannot write in it: make it "
			    "and give it to the user (mkdir -p %s && chown "
			    "%s: %s; certdesk init --user makes them)",
			    dirs[i], cx->user.name, dirs[i], cx->user.name,
			    dirs[i]);
		rc = -1;
	}
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	return rc;
}

/* The store's files, which are written in place. */
static int
store_writable(struct daemon_ctx *cx)
{
	static const char *const suffix[] = {"", "-wal", "-shm",
	    "-nonce-ring"};

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char *p = xasprintf("%s%s", cx->db_path, suffix[i]);
		int bad = access(p, F_OK) == 0 && access(p, R_OK | W_OK) != 0;

		if (bad)
			daemon_fail(cx, "%s: %s cannot write it (chown %s: %s)",
			    p, cx->user.name, cx->user.name, p);
		free(p);
		if (bad)
			return -1;
	}
	return 0;
}

/* 1 when the user can open path (a directory or file) for reading. */
static int
can_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int
daemon_user_drop(struct daemon_ctx *cx)
{
	const struct daemon_user *u = &cx->user;
	pid_t sp = cx->sg != NULL ? signer_pid(cx->sg) : 0;

	if (!u->set || cx->user_dropped)
		return DAEMON_EXIT_OK;
	/* the command's input files, root's to read (a CSR in /root); a
	 * FIFO without a writer must not hold root here: opened without
	 * waiting, read blocking later */
	for (size_t i = 0; i < cx->ninputs; i++) {
		int fd = open(cx->inputs[i].path, O_RDONLY | O_CLOEXEC |
		    O_NOCTTY | O_NONBLOCK);

		if (fd >= 0)
			(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) &
			    ~O_NONBLOCK);
		cx->inputs[i].fd = fd;
	}
	if (setgroups(1, &u->gid) != 0 || setgid(u->gid) != 0 ||
	    setuid(u->uid) != 0) {
		daemon_fail(cx, "cannot become %s (uid %ld, gid %ld): %s",
		    u->name, (long)u->uid, (long)u->gid, strerror(errno));
		return DAEMON_EXIT_FAIL;
	}
	cx->user_dropped = 1;
	/* no way back */
	if (setuid(0) == 0 || seteuid(0) == 0) {
		daemon_fail(cx, "became %s but could become root again",
		    u->name);
		return DAEMON_EXIT_FAIL;
	}
	if (can_open(cx->keys_dir)) {
		daemon_fail(cx, "%s: %s can open the key directory (its mode, "
		    "group or ACL lets it): only its owner may (chmod 0700, "
		    "and give it to root or a user of its own)", cx->keys_dir,
		    u->name);
		return DAEMON_EXIT_FAIL;
	}
	if (cx->pin_path[0] != '\0' && can_open(cx->pin_path)) {
		daemon_fail(cx, "%s: %s can read the PKCS#11 PIN, and with it "
		    "use the CA keys on the token: only the key directory's "
		    "owner may (chown it to that user, chmod 0600)",
		    cx->pin_path, u->name);
		return DAEMON_EXIT_FAIL;
	}
	if (access(cx->data, W_OK) == 0) {
		daemon_fail(cx, "%s: %s can write in the data directory, and "
		    "so replace keys/ or certdesk.conf: give it to root "
		    "(chown root:%s %s; chmod 0750 %s)", cx->data, u->name,
		    u->name, cx->data, cx->data);
		return DAEMON_EXIT_FAIL;
	}
	if (dirs_writable(cx) != 0 || store_writable(cx) != 0)
		return DAEMON_EXIT_FAIL;
	if (sp > 0)
		log_info(LOG_MAIN, "running as %s (uid %ld, gid %ld); the "
		    "signer (pid %ld) as the owner of %s", u->name,
		    (long)u->uid, (long)u->gid, (long)sp, cx->keys_dir);
	else
		log_info(LOG_MAIN, "running as %s (uid %ld, gid %ld)",
		    u->name, (long)u->uid, (long)u->gid);
	return DAEMON_EXIT_OK;
}

int
daemon_user_layout(struct daemon_ctx *cx)
{
	const struct daemon_user *u = &cx->user;
	char *dirs[5];
	size_t n;
	int rc = DAEMON_EXIT_OK;

	/* the data directory (new, root's, in directories only root can
	 * change: nobody else can have put anything in it) */
	if (chown(cx->data, 0, u->gid) != 0 || chmod(cx->data, 0750) != 0 ||
	    chown(cx->conf_path, 0, u->gid) != 0 ||
	    chmod(cx->conf_path, 0640) != 0) {
		daemon_fail(cx, "%s: cannot give it to root and group %ld: %s",
		    cx->data, (long)u->gid, strerror(errno));
		return DAEMON_EXIT_FAIL;
	}
	user_dirs(cx, dirs, &n);
	for (size_t i = 0; i < n; i++) {
		/* ca/ and crl/ are published; the others are the user's */
		mode_t mode = i == 1 || i == 2 ? 0755 : 0700;

		if (rc != DAEMON_EXIT_OK)
			continue;
		if ((mkdir(dirs[i], mode) != 0 && errno != EEXIST) ||
		    chown(dirs[i], u->uid, u->gid) != 0 ||
		    chmod(dirs[i], mode) != 0) {
			daemon_fail(cx, "%s: cannot make it %s's: %s", dirs[i],
			    u->name, strerror(errno));
			rc = DAEMON_EXIT_FAIL;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	return rc;
}
