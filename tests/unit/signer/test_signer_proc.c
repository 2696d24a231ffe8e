/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/signer/signer_proc.c: the child is hardened (not dumpable,
 * no core files, no_new_privs, seccomp, no inherited fds), dies with its
 * parent, survives garbage on its socket and still answers the next good
 * request, and the client copes with a dead or stopped child. The server
 * loop also runs in a thread of this process so LeakSanitizer checks it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "signer/signer.h"
#include "signer/signer_int.h"
#include "test_helpers.h"
#include "util/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A key "k" exists and the signer answers for it. */
static void
assert_alive(struct signer *s)
{
	uint8_t *spki;
	size_t n;
	int kt;

	assert_int_equal(signer_key_info(s, "k", &kt, &spki, &n), 0);
	assert_int_equal(kt, SIGNER_KEY_EC_P256);
	free(spki);
}

static void
test_hardening(void **state)
{
	char *dir = th_mkdtemp();
	struct signer *s;
	struct signer_diag dg;
	int extra = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC */
	int has3 = 0;

	assert_true(extra >= 3);
	assert_int_equal(signer_spawn(dir, &s), 0);
	assert_int_equal(signer_diag(s, &dg), 0);
	assert_int_equal(dg.dumpable, 0);
	assert_int_equal(dg.core_cur, 0);
	assert_int_equal(dg.core_max, 0);
	assert_int_equal(dg.no_new_privs, 1);
	assert_int_equal(dg.seccomp, 2);	/* SECCOMP_MODE_FILTER */
	/* only stdin/stdout (/dev/null), stderr and the socket (3) */
	assert_true(dg.nfds >= 1 && dg.nfds <= 4);
	for (int i = 0; i < dg.nfds; i++) {
		assert_true(dg.fds[i] >= 0 && dg.fds[i] <= 3);
		has3 |= dg.fds[i] == 3;
	}
	assert_true(has3);
	/* it may not change a file's mode (a setuid copy of a shell, were
	 * it root), and as root it has no capability left */
	assert_int_equal(dg.chmod_errno, EPERM);
	if (geteuid() == 0)
		assert_int_equal(dg.cap_eff, 0);
	/* and it may write nowhere but in its key directory, where the
	 * kernel has Landlock */
	if (syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION) >= 1)
		assert_int_equal(dg.write_out_errno, EACCES);
	/* the parent keeps its own fd and its own settings */
	assert_int_equal(fcntl(extra, F_GETFD), 0);
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
	close(extra);
	signer_free(s);
	th_rmdir(dir);
}

/* A signer for a process that only signs (serve): it makes no key and
 * gives none a certificate, whatever the process asks; it signs. */
static void
test_sign_only(void **state)
{
	char *dir = th_mkdtemp();
	struct signer_conf c = {.keydir = dir};
	struct signer *s;
	uint8_t *spki = NULL;
	size_t n = 0;

	(void)state;
	/* a key made by a signer that may */
	assert_int_equal(signer_spawn_conf(&c, &s), 0);
	assert_int_equal(signer_genkey(s, "k", SIGNER_KEY_EC_P256, 0, &spki,
	    &n), 0);
	free(spki);
	signer_free(s);
	c.sign_only = 1;
	assert_int_equal(signer_spawn_conf(&c, &s), 0);
	spki = NULL;
	assert_int_equal(signer_genkey(s, "k2", SIGNER_KEY_EC_P256, 0, &spki,
	    &n), RC_POLICY);
	assert_null(spki);
	assert_int_equal(signer_set_cert(s, "k", (const uint8_t *)"\x30\x00",
	    2), RC_POLICY);
	/* still up, and its key is there */
	{
		int kt;

		assert_int_equal(signer_key_info(s, "k", &kt, &spki, &n), 0);
	}
	free(spki);
	signer_free(s);
	th_rmdir(dir);
}

/* Sends a frame built from fields and returns the reply's op and rc. */
static void
raw_call(struct signer *s, uint8_t op, const struct signer_field *f, int nf,
    int want_op, int want_rc)
{
	uint8_t *buf = malloc(4 + SIGNER_MAX_MSG);
	struct rc_detail d = {""};
	size_t n;
	int rop, rrc;

	assert_int_equal(signer_wire_encode(buf, &n, op, f, nf), 0);
	assert_int_equal(signer_raw_send(s, buf, n), 0);
	assert_int_equal(signer_raw_recv(s, &rop, &rrc, &d), 0);
	assert_int_equal(rop, want_op);
	assert_int_equal(rrc, want_rc);
	free(buf);
}

static void
raw_bytes(struct signer *s, const void *p, size_t n, int want_op,
    int want_rc)
{
	struct rc_detail d = {""};
	int rop, rrc;

	assert_int_equal(signer_raw_send(s, p, n), 0);
	assert_int_equal(signer_raw_recv(s, &rop, &rrc, &d), 0);
	assert_int_equal(rop, want_op);
	assert_int_equal(rrc, want_rc);
}

static void
test_garbage_on_socket(void **state)
{
	char *dir = th_mkdtemp();
	struct signer *s;
	struct signer_field f[4];
	uint8_t *spki, u32[4] = {0, 0, 0, 1}, short3[3] = {0, 0, 1};
	uint8_t rnd[4096];
	size_t n;
	double t0;

	assert_int_equal(signer_spawn(dir, &s), 0);
	assert_int_equal(signer_genkey(s, "k", SIGNER_KEY_EC_P256, 0, &spki,
	    &n), 0);
	free(spki);

	/* well delimited but wrong: the frame is answered, the stream goes
	 * on */
	raw_bytes(s, "\x00\x00\x00\x01\x55", 5, 0x55, RC_PROTO);
	assert_alive(s);
	raw_bytes(s, "\x00\x00\x00\x06\x02\x00\x00\x00\x09x", 10, 0x02,
	    RC_PROTO);	/* a field longer than the message */
	assert_alive(s);
	raw_bytes(s, "\x00\x00\x00\x03\x02\x00\x00", 7, 0x02, RC_PROTO);
	assert_alive(s);
	f[0] = (struct signer_field){(const uint8_t *)"../x", 4};
	f[1] = (struct signer_field){u32, 4};
	f[2] = (struct signer_field){u32, 4};
	raw_call(s, SIGNER_OP_GENKEY, f, 3, SIGNER_OP_GENKEY, RC_INVAL);
	f[0] = (struct signer_field){(const uint8_t *)"k\0x", 3};
	raw_call(s, SIGNER_OP_KEYINFO, f, 1, SIGNER_OP_KEYINFO, RC_INVAL);
	f[0] = (struct signer_field){(const uint8_t *)"", 0};
	raw_call(s, SIGNER_OP_KEYINFO, f, 1, SIGNER_OP_KEYINFO, RC_INVAL);
	f[0] = (struct signer_field){(const uint8_t *)"k", 1};
	raw_call(s, SIGNER_OP_KEYINFO, f, 0, SIGNER_OP_KEYINFO, RC_PROTO);
	raw_call(s, SIGNER_OP_KEYINFO, f, 2, SIGNER_OP_KEYINFO, RC_PROTO);
	f[1] = (struct signer_field){short3, 3};	/* kind not a u32 */
	f[2] = (struct signer_field){(const uint8_t *)"\x30\x00", 2};
	raw_call(s, SIGNER_OP_SIGN, f, 3, SIGNER_OP_SIGN, RC_PROTO);
	f[1] = (struct signer_field){u32, 4};
	f[3] = f[2];
	raw_call(s, SIGNER_OP_SIGN, f, 4, SIGNER_OP_SIGN, RC_PROTO);
	raw_call(s, SIGNER_OP_SIGN, f, 3, SIGNER_OP_SIGN, RC_SIGNER);
	u32[3] = 2;	/* GENKEY with is_root 2 */
	raw_call(s, SIGNER_OP_GENKEY, f, 3, SIGNER_OP_GENKEY, RC_PROTO);
	raw_call(s, SIGNER_OP_DIAG, f, 1, SIGNER_OP_DIAG, RC_PROTO);
	raw_call(s, SIGNER_OP_HEALTH, f, 1, SIGNER_OP_HEALTH, RC_PROTO);
	raw_call(s, SIGNER_OP_HEALTH, NULL, 0, SIGNER_OP_HEALTH, 0);
	raw_call(s, SIGNER_OP_HELLO, NULL, 0, SIGNER_OP_HELLO, RC_PROTO);
	assert_alive(s);

	/* frames that cannot be delimited: answered, then skipped */
	raw_bytes(s, "\x00\x00\x00\x00", 4, SIGNER_OP_BAD, RC_PROTO);
	assert_alive(s);
	memset(rnd, 'A', 100);
	memcpy(rnd, "\xff\xff\xff\xff", 4);
	raw_bytes(s, rnd, 100, SIGNER_OP_BAD, RC_PROTO);
	assert_alive(s);
	srand(3);
	for (size_t i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)rand();
	rnd[0] = 0xff;	/* a length far over the maximum */
	raw_bytes(s, rnd, sizeof(rnd), SIGNER_OP_BAD, RC_PROTO);
	assert_alive(s);
	/* a frame that never completes is given up after a second */
	t0 = now_s();
	raw_bytes(s, "\x00\x00\x00\x64\x02\x00\x00", 7, SIGNER_OP_BAD,
	    RC_PROTO);
	assert_true(now_s() - t0 >= 0.9);
	assert_alive(s);
	/* a header alone, cut short */
	raw_bytes(s, "\x00\x00", 2, SIGNER_OP_BAD, RC_PROTO);
	assert_alive(s);

	signer_free(s);
	th_rmdir(dir);
}

static void
test_dead_child(void **state)
{
	char *dir = th_mkdtemp();
	struct signer *s;
	struct rc_detail d = {""};
	char why[96];
	siginfo_t si;
	uint8_t *p;
	size_t n;
	int kt;
	pid_t pid;

	assert_int_equal(signer_spawn(dir, &s), 0);
	pid = signer_child_pid(s);
	assert_true(pid > 0);
	assert_int_equal(signer_running(s, why, sizeof(why)), 1);
	assert_int_equal(kill(pid, SIGKILL), 0);
	/* wait for it to die, but leave reaping to signer_running() */
	memset(&si, 0, sizeof(si));
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	assert_int_equal(signer_running(s, why, sizeof(why)), 0);
	assert_string_equal(why, "was killed by signal 9 (Killed)");
	assert_int_equal(signer_running(s, NULL, 0), 0);	/* stays so */
	assert_int_equal(signer_key_info(s, "k", &kt, &p, &n), RC_SIGNER);
	assert_null(p);
	assert_int_equal(signer_sign(s, "k", SIGNER_TBS_CERT,
	    (const uint8_t *)"\x30\x00", 2, &p, &n, &d), RC_SIGNER);
	assert_non_null(strstr(d.msg, "not running"));
	assert_int_equal(signer_genkey(s, "k", SIGNER_KEY_EC_P256, 0, &p, &n),
	    RC_SIGNER);
	signer_free(s);
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	th_rmdir(dir);
}

static void
test_stopped_child(void **state)
{
	char *dir = th_mkdtemp();
	struct signer *s;
	double t0, dt;
	pid_t pid;

	assert_int_equal(signer_spawn(dir, &s), 0);
	pid = signer_child_pid(s);
	assert_int_equal(kill(pid, SIGSTOP), 0);
	t0 = now_s();
	signer_free(s);	/* waits ~2 s, then SIGTERM (and SIGCONT) */
	dt = now_s() - t0;
	assert_true(dt >= 1.9 && dt < 4.5);
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	th_rmdir(dir);
}

/*
 * The signer dies with its parent even when its socket stays open
 * elsewhere: a middle process spawns it, forks a holder that keeps a copy
 * of the socket, and exits. As a subreaper we inherit the orphans.
 */
static void
test_dies_with_parent(void **state)
{
	char *dir = th_mkdtemp();
	pid_t mid, pids[2] = {0, 0};
	int pfd[2], status = 0;
	double t0;

	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	assert_int_equal(pipe(pfd), 0);
	mid = fork();
	assert_true(mid >= 0);
	if (mid == 0) {
		struct signer *s;
		pid_t out[2];

		close(pfd[0]);
		if (signer_spawn(dir, &s) != 0)
			_exit(2);
		out[0] = signer_child_pid(s);
		out[1] = fork();
		if (out[1] == 0) {
			for (;;)
				pause();	/* holds the socket */
		}
		if (write(pfd[1], out, sizeof(out)) != sizeof(out))
			_exit(3);
		_exit(0);	/* without signer_free() */
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], pids, sizeof(pids)), sizeof(pids));
	close(pfd[0]);
	assert_int_equal(waitpid(mid, &status, 0), mid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	t0 = now_s();
	for (;;) {
		pid_t r = waitpid(pids[0], &status, WNOHANG);

		if (r == pids[0])
			break;
		if (now_s() - t0 > 5) {
			kill(pids[0], SIGKILL);
			kill(pids[1], SIGKILL);
			fail_msg("the signer outlived its parent");
		}
		usleep(10000);
	}
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	kill(pids[1], SIGKILL);
	assert_int_equal(waitpid(pids[1], NULL, 0), pids[1]);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0), 0);
	th_rmdir(dir);
}

static void
test_keydir_checks(void **state)
{
	char *dir = th_mkdtemp(), *src, *dst;
	struct signer *s = NULL;
	uint8_t *spki;
	size_t n;
	int kt;

	assert_int_equal(signer_spawn("/nonexistent/certdesk-keys", &s),
	    RC_CONFIG);
	assert_null(s);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(signer_spawn(dir, &s), RC_CONFIG);
	assert_int_equal(chmod(dir, 0700), 0);
	/* a key file others can read is not loaded */
	assert_int_equal(signer_spawn(dir, &s), 0);
	assert_int_equal(signer_genkey(s, "k", SIGNER_KEY_EC_P256, 0, &spki,
	    &n), 0);
	free(spki);
	signer_free(s);
	src = xasprintf("%s/k.key", dir);
	assert_int_equal(chmod(src, 0644), 0);
	assert_int_equal(signer_spawn(dir, &s), 0);
	assert_int_equal(signer_key_info(s, "k", &kt, &spki, &n), RC_NOTFOUND);
	/* ... nor overwritten */
	assert_int_equal(signer_genkey(s, "k", SIGNER_KEY_EC_P256, 0, &spki,
	    &n), RC_EXISTS);
	signer_free(s);
	assert_int_equal(chmod(src, 0600), 0);
	dst = xasprintf("%s/k2.key", dir);
	assert_int_equal(rename(src, dst), 0);	/* no role: issuing */
	assert_int_equal(signer_spawn(dir, &s), 0);
	assert_int_equal(signer_key_info(s, "k2", &kt, &spki, &n), 0);
	free(spki);
	signer_free(s);
	free(src);
	free(dst);
	th_rmdir(dir);
}

struct srv_arg {
	int fd;
	const char *dir;
	int rc;
};

static void *
srv_thread(void *p)
{
	struct srv_arg *a = p;
	struct signer_conf c = {.keydir = a->dir};

	a->rc = signer_srv_run(a->fd, &c);
	close(a->fd);
	return NULL;
}

/* The whole server loop in this process: LeakSanitizer checks it. */
static void
test_in_process_server(void **state)
{
	char *dir = th_mkdtemp();
	struct srv_arg a = {-1, NULL, -99};
	struct th_cert c = {0};
	struct rc_detail d = {""};
	struct signer *s;
	pthread_t t;
	uint8_t *spki, *tbs, *sig, *der;
	size_t sl, tl, gl, dl, alg_len;
	const uint8_t *alg = signer_sigalg_der(SIGNER_KEY_EC_P256, &alg_len);
	int sv[2];

	/* a store that cannot be opened: the HELLO carries the error */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	a.fd = sv[1];
	a.dir = "/nonexistent/certdesk-keys";
	assert_int_equal(pthread_create(&t, NULL, srv_thread, &a), 0);
	assert_int_equal(signer_attach(sv[0], -1, &s), RC_NOTFOUND);
	pthread_join(t, NULL);
	assert_int_equal(a.rc, RC_NOTFOUND);

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	a.fd = sv[1];
	a.dir = dir;
	assert_int_equal(pthread_create(&t, NULL, srv_thread, &a), 0);
	assert_int_equal(signer_attach(sv[0], -1, &s), 0);
	assert_int_equal(signer_child_pid(s), -1);
	assert_int_equal(signer_running(s, NULL, 0), 1);	/* in-process */
	assert_int_equal(signer_genkey(s, "root", SIGNER_KEY_EC_P256, 1,
	    &spki, &sl), 0);
	c.alg_keytype = SIGNER_KEY_EC_P256;
	c.issuer_cn = c.subject_cn = "In Process Root";
	c.spki = spki;
	c.spki_len = sl;
	c.ca = 1;
	tbs = th_tbs_cert(&c, &tl);
	assert_int_equal(signer_sign(s, "root", SIGNER_TBS_CERT, tbs, tl, &sig,
	    &gl, &d), 0);
	assert_true(th_verify(spki, sl, SIGNER_KEY_EC_P256, tbs, tl, sig, gl));
	der = th_assemble(tbs, tl, alg, alg_len, sig, gl, &dl);
	assert_int_equal(signer_set_cert(s, "root", der, dl), 0);
	free(sig);
	assert_int_equal(signer_sign(s, "root", SIGNER_TBS_CERT, tbs, tl - 1,
	    &sig, &gl, &d), RC_SIGNER);
	raw_bytes(s, "\x00\x00\x00\x01\x55", 5, 0x55, RC_PROTO);
	raw_bytes(s, "\xff\xff\xff\xff", 4, SIGNER_OP_BAD, RC_PROTO);
	assert_int_equal(signer_sign(s, "root", SIGNER_TBS_CERT, tbs, tl, &sig,
	    &gl, &d), 0);
	free(sig);
	/* every other op once, for LeakSanitizer */
	{
		struct signer_diag dg;
		uint8_t *p;
		size_t n;
		int kt;

		assert_int_equal(signer_diag(s, &dg), 0);
		assert_int_equal(signer_key_info(s, "root", &kt, &p, &n), 0);
		free(p);
		assert_int_equal(signer_key_info(s, "none", &kt, &p, &n),
		    RC_NOTFOUND);
		assert_int_equal(signer_genkey(s, "root", SIGNER_KEY_EC_P256,
		    1, &p, &n), RC_EXISTS);
		assert_int_equal(signer_set_cert(s, "root", der, dl - 1),
		    RC_SIGNER);
		assert_int_equal(signer_set_cert(s, "root", der, dl), 0);
		assert_int_equal(signer_sign(s, "none", SIGNER_TBS_CERT, tbs,
		    tl, &sig, &gl, &d), RC_NOTFOUND);
		assert_int_equal(signer_sign(s, "root", SIGNER_TBS_CRL, tbs,
		    tl, &sig, &gl, &d), RC_SIGNER);
	}
	signer_free(s);	/* EOF: the server returns 0 */
	pthread_join(t, NULL);
	assert_int_equal(a.rc, 0);
	free(spki);
	free(tbs);
	free(der);
	th_rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hardening),
		cmocka_unit_test(test_sign_only),
		cmocka_unit_test(test_garbage_on_socket),
		cmocka_unit_test(test_dead_child),
		cmocka_unit_test(test_stopped_child),
		cmocka_unit_test(test_dies_with_parent),
		cmocka_unit_test(test_keydir_checks),
		cmocka_unit_test(test_in_process_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
