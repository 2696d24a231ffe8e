/* SPDX-License-Identifier: Apache-2.0 */
/*
 * general.user: `serve` started as root becomes an ordinary user once its
 * sockets are bound and its signer started, so that the process that
 * parses requests from the Internet cannot read the CA key files. The
 * signer child takes the key directory's owner (root, or a user of its
 * own), which must not be that user. `init --user` gives that user the
 * data directory except keys/.
 *
 * What the user may reach is checked after the change, by trying: the key
 * directory and the PKCS#11 PIN file must not open (whatever the reason:
 * modes, groups, ACLs), and what serve writes must be writable. A failed
 * check stops serve with the file named and what to do.
 */
#include "daemon/daemon_int.h"
#include "util/log.h"
#include "util/xmalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How deep the data directory's tree is walked (it is a few levels). */
#define WALK_DEPTH 8

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
		daemon_fail(cx, "%s: '%s' is root; name the user serve should "
		    "become, or leave it empty", what, name);
		return DAEMON_EXIT_FAIL;
	}
	u->uid = pw.pw_uid;
	u->gid = pw.pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", name);
	return DAEMON_EXIT_OK;
}

int
daemon_user_resolve(struct daemon_ctx *cx, const char *given)
{
	const char *what = given ? "--user" : "general.user";
	const char *name = given ? given : cx->conf.user;
	struct daemon_user u;
	int rc;

	memset(&cx->user, 0, sizeof(cx->user));
	if (given == NULL && name[0] == '\0')
		return DAEMON_EXIT_OK;
	if ((rc = daemon_user_lookup(cx, what, name, &u)) != DAEMON_EXIT_OK)
		return rc;
	if (geteuid() != 0) {
		/* started as the user already (systemd's User=, runuser):
		 * nothing to change */
		if (geteuid() == u.uid)
			return DAEMON_EXIT_OK;
		daemon_fail(cx, "%s = %s: serve must be started as root to "
		    "become that user (it runs as uid %ld)", what, u.name,
		    (long)geteuid());
		return DAEMON_EXIT_FAIL;
	}
	cx->user = u;
	cx->user.set = 1;
	return DAEMON_EXIT_OK;
}

int
daemon_user_signer_ok(struct daemon_ctx *cx, const struct stat *keys)
{
	if (keys->st_uid != cx->user.uid)
		return DAEMON_EXIT_OK;
	daemon_fail(cx, "%s belongs to %s, the user serve runs as, who could "
	    "then read the CA keys: give it to root (chown -R root: %s) or "
	    "to a user of its own", cx->keys_dir, cx->user.name,
	    cx->keys_dir);
	return DAEMON_EXIT_FAIL;
}

/* The hint every refusal below ends with. */
static void
give_back(struct daemon_ctx *cx, const char *path, const char *why)
{
	daemon_fail(cx, "%s: %s, running as %s: give the user the data "
	    "directory except keys/ (find %s -path %s -prune -o -exec chown "
	    "%s: {} +; certdesk init --user does so)", path, why,
	    cx->user.name, cx->data, cx->keys_dir, cx->user.name);
}

/* Whether what serve writes under dir (a directory of the data directory,
 * depth levels down) is writable, and what it reads readable: 0, or -1
 * after give_back(). The key directory is not entered. */
static int
walk(struct daemon_ctx *cx, const char *dir, int depth)
{
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (access(dir, W_OK | X_OK | R_OK) != 0) {
		give_back(cx, dir, "cannot write in this directory");
		return -1;
	}
	if (depth >= WALK_DEPTH || (d = opendir(dir)) == NULL)
		return 0;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char *p;
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (strcmp(p, cx->keys_dir) == 0 || lstat(p, &st) != 0 ||
		    S_ISLNK(st.st_mode)) {
			free(p);
			continue;
		}
		if (S_ISDIR(st.st_mode))
			rc = walk(cx, p, depth + 1);
		else if (S_ISREG(st.st_mode) && access(p, R_OK) != 0) {
			give_back(cx, p, "cannot read it");
			rc = -1;
		}
		free(p);
	}
	closedir(d);
	return rc;
}

/* The store's files, which serve writes in place. */
static int
store_writable(struct daemon_ctx *cx)
{
	static const char *const suffix[] = {"", "-wal", "-shm",
	    "-nonce-ring"};

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char *p = xasprintf("%s%s", cx->db_path, suffix[i]);
		int bad = access(p, F_OK) == 0 && access(p, R_OK | W_OK) != 0;

		if (bad)
			give_back(cx, p, "cannot write it");
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
daemon_user_drop(struct daemon_ctx *cx, pid_t signer_pid, uid_t signer_uid)
{
	const struct daemon_user *u = &cx->user;

	if (setgroups(1, &u->gid) != 0 || setgid(u->gid) != 0 ||
	    setuid(u->uid) != 0) {
		daemon_fail(cx, "cannot become %s (uid %ld, gid %ld): %s",
		    u->name, (long)u->uid, (long)u->gid, strerror(errno));
		return DAEMON_EXIT_FAIL;
	}
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
	if (walk(cx, cx->data, 0) != 0 || store_writable(cx) != 0)
		return DAEMON_EXIT_FAIL;
	log_info(LOG_MAIN, "running as %s (uid %ld, gid %ld); the signer "
	    "(pid %ld) as uid %ld, the owner of %s", u->name, (long)u->uid,
	    (long)u->gid, (long)signer_pid, (long)signer_uid, cx->keys_dir);
	return DAEMON_EXIT_OK;
}

/* chown of everything under the open directory dfd (depth levels down)
 * but the entry named skip at the top: 0, or -1 with errno. Links are
 * changed themselves, never followed. */
static int
give_tree(int dfd, const char *skip, uid_t uid, gid_t gid, int depth)
{
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (depth >= WALK_DEPTH) {
		close(dfd);
		errno = ELOOP;
		return -1;
	}
	d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		return -1;
	}
	while (rc == 0 && (e = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0 ||
		    (skip != NULL && strcmp(e->d_name, skip) == 0))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0
		    || fchownat(dirfd(d), e->d_name, uid, gid,
		    AT_SYMLINK_NOFOLLOW) != 0) {
			rc = -1;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			rc = sub < 0 ? -1 : give_tree(sub, NULL, uid, gid,
			    depth + 1);
		}
	}
	closedir(d);
	return rc;
}

int
daemon_user_give_data(struct daemon_ctx *cx, const char *name)
{
	struct daemon_user u;
	int dfd, rc;

	if ((rc = daemon_user_lookup(cx, "--user", name, &u)) != DAEMON_EXIT_OK)
		return rc;
	dfd = open(cx->data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd >= 0 && fchown(dfd, u.uid, u.gid) != 0) {
		close(dfd);
		dfd = -1;
	}
	/* give_tree() closes dfd */
	if (dfd < 0 || give_tree(dfd, "keys", u.uid, u.gid, 0) != 0) {
		daemon_fail(cx, "%s: cannot give it to %s: %s", cx->data,
		    u.name, strerror(errno));
		return DAEMON_EXIT_FAIL;
	}
	log_info(LOG_MAIN, "%s: given to %s, but for %s (root's)", cx->data,
	    u.name, cx->keys_dir);
	return DAEMON_EXIT_OK;
}
