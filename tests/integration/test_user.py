# SPDX-License-Identifier: Apache-2.0
"""general.user: `certdesk serve` started as root becomes an ordinary user
once its sockets are bound and its signer started, so that the process
that parses requests from the Internet cannot read the CA key files, as
Boulder and step-ca keep keys away from their front ends. The signer stays
with the key directory's owner (root here, or a user of its own).

`certdesk init --user nobody` gives the data directory to the user except
keys/; serve then runs as nobody with a signer as root, issues over ACME,
takes up a `ca roll` made by root while it runs (the root-run command's
files go to the directory's owner, as SQLite does with its -wal), and
nobody cannot read a key. serve refuses, naming the file and the way out:
a key directory of the user's own, a data directory the user cannot
write, a file it cannot read, root or an unknown user, and `--user` from
a process that is not root. Runs only as root (CI is root)."""
import os
import pwd
import shutil
import stat
import struct
import subprocess
import tempfile

import pytest
from cryptography import x509

from acme_client import Http01, account, issue
from conftest import acme_rig, certdesk_bin, free_port, ok, openssl, run

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root: serve changes its user")

NOBODY = pwd.getpwnam("nobody")
DAEMON = pwd.getpwnam("daemon")


@pytest.fixture
def base():
    """A directory nobody can reach (pytest's own is root's, 0700)."""
    d = tempfile.mkdtemp(prefix="certdesk-user-", dir="/var/tmp")
    os.chmod(d, 0o755)
    try:
        yield __import__("pathlib").Path(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return line.split()[1:]
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def signer_pid(pid):
    kids = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            kids += f.read().split()
    assert len(kids) == 1, kids
    return int(kids[0])


def as_user(user, args, **kw):
    e = dict(os.environ)
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    return subprocess.run([str(a) for a in args], user=user,
                          group=pwd.getpwnam(user).pw_gid, extra_groups=[],
                          capture_output=True, text=True, env=e, timeout=60,
                          **kw)


def owners(data):
    """(path, uid) of everything in data, keys/ not entered."""
    out = []
    for root, dirs, files in os.walk(data):
        if root == str(data / "keys"):
            dirs[:] = []
            continue
        for n in dirs + files:
            p = os.path.join(root, n)
            if p != str(data / "keys"):
                out.append((p, os.lstat(p).st_uid))
    return out


def test_serve_as_user(base):
    with acme_rig(base, Http01(), init_args=("--user", "nobody")) as env:
        data = env.data
        assert os.stat(data).st_uid == NOBODY.pw_uid
        k = os.stat(data / "keys")
        assert (k.st_uid, stat.S_IMODE(k.st_mode)) == (0, 0o700)
        assert "user = nobody" in (data / "certdesk.conf").read_text()

        pid = env.server.proc.pid
        sp = signer_pid(pid)
        # the main process is nobody for good (real, effective, saved,
        # file system), with no other group; the signer stays root
        assert status(pid, "Uid") == [str(NOBODY.pw_uid)] * 4
        assert status(pid, "Gid") == [str(NOBODY.pw_gid)] * 4
        assert status(pid, "Groups") == [str(NOBODY.pw_gid)]
        assert status(sp, "Uid") == ["0"] * 4
        log = env.server.stderr()
        assert f"running as nobody (uid {NOBODY.pw_uid}, gid " \
               f"{NOBODY.pw_gid}); the signer (pid {sp}) as uid 0" in log
        assert "serve runs as root" not in log

        # nobody cannot read a key, nor list the directory
        for p in [data / "keys/issuing-1.key", data / "keys"]:
            r = as_user("nobody", ["ls" if p.is_dir() else "cat", p])
            assert r.returncode != 0 and "Permission denied" in r.stderr

        c = account(env)
        _, _, pem, _ = issue(env, c, ["user.test"])
        (base / "leaf.pem").write_text(pem)
        openssl("verify", "-CAfile", data / "ca/root.pem", "-untrusted",
                data / "ca/issuing-1.pem", base / "leaf.pem")

        # root rolls the issuing CA while nobody serves: the signer
        # (root) loads the new key, and the files root wrote in the
        # data directory are nobody's, so that serve can replace them
        ok(["ca", "roll", "--data", data])
        ok(["ca", "crl", "--data", data])
        os.kill(pid, __import__("signal").SIGHUP)
        import time
        deadline = time.monotonic() + 30
        while "issuing CA issuing-2: new certificates come from it" \
                not in env.server.stderr():
            assert time.monotonic() < deadline, env.server.stderr()
            time.sleep(0.2)
        _, _, pem2, _ = issue(env, account(env), ["after-roll.test"])
        leaf = x509.load_pem_x509_certificate(pem2.encode())
        assert "Issuing CA 2" in leaf.issuer.rfc4514_string()
        assert status(sp, "Uid") == ["0"] * 4   # the same signer
        root_owned = [p for p, uid in owners(data) if uid != NOBODY.pw_uid]
        assert root_owned == [], root_owned
        assert os.stat(data / "keys/issuing-2.key").st_uid == 0
    # the server stopped cleanly (acme_rig checks its exit)


def start_fails(data, *extra, user=None):
    args = [certdesk_bin(), "serve", "--data", data, "--listen",
            f"127.0.0.1:{free_port()}", "--plain-listen",
            f"127.0.0.1:{free_port()}", *extra]
    p = as_user(user, args) if user else run(args[1:])
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "listening" not in p.stderr
    return p.stderr


def test_refusals(base):
    data = base / "data"
    ok(["init", "--data", data])        # root's, as before
    assert "user = " not in (data / "certdesk.conf").read_text().replace(
        ";user = ", "")
    # a data directory nobody cannot write: said, with the chown to do
    err = start_fails(data, "--user", "nobody")
    assert f"{data}: cannot write in this directory, running as nobody" \
        in err, err
    assert f"find {data} -path {data}/keys -prune -o -exec chown nobody: " \
        "{} +" in err, err
    # which the operator does
    subprocess.run(f"find {data} -path {data}/keys -prune -o -exec chown "
                   "nobody: {} +", shell=True, check=True)
    # a file it cannot read
    os.chown(data / "tls/service.key", 0, 0)
    err = start_fails(data, "--user", "nobody")
    assert f"{data}/tls/service.key: cannot read it, running as nobody" \
        in err, err
    os.chown(data / "tls/service.key", NOBODY.pw_uid, NOBODY.pw_gid)
    # a store file it cannot write (a -wal left by root)
    wal = data / "certdesk.db-wal"
    wal.write_bytes(b"")
    os.chmod(wal, 0o644)     # readable, not writable
    err = start_fails(data, "--user", "nobody")
    assert f"{wal}: cannot write it, running as nobody" in err, err
    wal.unlink()
    # an ACL that lets the user into keys/ (mode 0700 otherwise): the
    # mask shows in the group bits, and the signer refuses the mode
    acl = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in [
        (0x01, 7, 0xffffffff),            # user::rwx
        (0x02, 5, NOBODY.pw_uid),         # user:nobody:r-x
        (0x04, 0, 0xffffffff),            # group::---
        (0x10, 5, 0xffffffff),            # mask::r-x
        (0x20, 0, 0xffffffff)])           # other::---
    os.setxattr(data / "keys", "system.posix_acl_access", acl)
    assert as_user("nobody", ["ls", data / "keys"]).returncode == 0
    err = start_fails(data, "--user", "nobody")
    assert f"key directory {data}/keys: accessible by group or others " \
        "(mode 0750, must be 0700)" in err, err
    os.removexattr(data / "keys", "system.posix_acl_access")
    os.chmod(data / "keys", 0o700)
    assert as_user("nobody", ["ls", data / "keys"]).returncode != 0
    # a key directory of the user's own: it could read the keys
    subprocess.run(["chown", "-R", "nobody:", data / "keys"], check=True)
    err = start_fails(data, "--user", "nobody")
    assert f"{data}/keys belongs to nobody, the user serve runs as" in err
    # one of its own: every signer runs as that user (daemon here)
    subprocess.run(["chown", "-R", "daemon:daemon", data / "keys"],
                   check=True)
    # root and unknown users; general.user as well as --user
    assert "'root' is root" in start_fails(data, "--user", "root")
    assert "no user 'no-such-user-here'" in start_fails(
        data, "--user", "no-such-user-here")
    conf = data / "certdesk.conf"
    conf.write_text(conf.read_text().replace(";user = \n",
                                             "user = no-such-user-here\n"))
    assert "general.user: no user 'no-such-user-here'" in start_fails(data)
    conf.write_text(conf.read_text().replace("user = no-such-user-here\n",
                                             "user = nobody\n"))
    # --user from a process that is not root, and not that user
    err = start_fails(data, "--user", "daemon", user="nobody")
    assert "--user = daemon: serve must be started as root" in err, err
    # init --user is root's
    p = as_user("nobody", [certdesk_bin(), "init", "--data",
                           base / "other", "--user", "nobody"])
    assert p.returncode == 2 and "init must run as root" in p.stderr, \
        p.stderr

    # general.user with keys of daemon's: serve runs, its signer as daemon
    port = free_port()
    log = open(base / "serve.log", "wb")
    proc = subprocess.Popen([certdesk_bin(), "serve", "--data", data,
                             "--listen", "127.0.0.1:0", "--plain-listen",
                             f"127.0.0.1:{port}"], stdout=log, stderr=log)
    try:
        import time
        import urllib.request
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, (base / "serve.log").read_text()
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, \
                (base / "serve.log").read_text()
            time.sleep(0.1)
        sp = signer_pid(proc.pid)
        assert status(proc.pid, "Uid") == [str(NOBODY.pw_uid)] * 4
        assert status(sp, "Uid") == [str(DAEMON.pw_uid)] * 4
        assert status(sp, "Groups") == [str(DAEMON.pw_gid)]
        # a command root runs starts its signer as daemon too, which
        # reads daemon's keys (root would not: not its files) and signs
        before = (data / "crl/root.crl").read_bytes()
        ok(["ca", "crl", "--data", data])
        assert (data / "crl/root.crl").read_bytes() != before
        assert os.stat(data / "crl/root.crl").st_uid == NOBODY.pw_uid
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0
        log.close()


def test_restore_by_root_keeps_the_store_the_users(base):
    """restore, run by root with serve stopped, puts back a store that
    the user serve runs as can write: serve starts on it."""
    from conftest import Server
    port = free_port()
    data = base / "data"
    ok(["init", "--data", data, "--user", "nobody", "--base-url",
        f"http://127.0.0.1:{port}"])
    ok(["backup", "--data", data, "--out", base / "backup.db"])
    ok(["restore", "--data", data, "--from", base / "backup.db"])
    assert os.stat(data / "certdesk.db").st_uid == NOBODY.pw_uid
    s = Server(data, port, base / "serve.log").start()
    try:
        assert status(s.proc.pid, "Uid") == [str(NOBODY.pw_uid)] * 4
    finally:
        s.stop()
