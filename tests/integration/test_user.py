# SPDX-License-Identifier: Apache-2.0
"""general.user: run as root, certdesk becomes an ordinary user once its
signer is started (and, for serve, its sockets bound), so that the process
that parses requests from the Internet cannot read the CA key files, as
Boulder and step-ca keep keys away from their front ends; the signer keeps
the key directory's owner (root here, without capabilities, or a user of
its own), and no root-run command writes where the user could have
planted a link.

`certdesk init --user nobody` makes the layout: the data directory and
certdesk.conf root's (group nogroup), keys/ root's, the directories
written while serving (db/, ca/, crl/, tls/, mail/) nobody's. serve then
runs as nobody, issues over ACME, takes up a `ca roll` that root runs
while it serves (the roll's files are nobody's: the roll became nobody
too), and nobody cannot read a key nor change the data directory.

Refused, naming the path and the way out: as root, a data directory, a
directory above it or a configuration that another user could change
(they decide what the root signer loads: a PKCS#11 module of another
user's is refused too); a key directory of the user's own or open to it;
a directory written while serving that the user cannot write, a store in
the data directory itself; root or an unknown user; `--user` from a
process that is not root. Runs only as root (CI is root)."""
import os
import pathlib
import pwd
import shutil
import signal
import stat
import struct
import subprocess
import tempfile
import time
import urllib.request

import pytest
from cryptography import x509

from acme_client import Http01, account, issue
from conftest import (Server, acme_rig, certdesk_bin, conf_set, free_port,
                      ok, openssl, run)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root: certdesk changes its user")

NOBODY = pwd.getpwnam("nobody")
DAEMON = pwd.getpwnam("daemon")
USER_DIRS = ("db", "ca", "crl", "tls", "mail")


@pytest.fixture
def base():
    """A directory of root's that nobody can reach (pytest's is 0700)."""
    d = tempfile.mkdtemp(prefix="certdesk-user-", dir="/var/tmp")
    os.chmod(d, 0o755)
    try:
        yield pathlib.Path(d)
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


def as_user(user, args):
    e = dict(os.environ)
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    return subprocess.run([str(a) for a in args], user=user,
                          group=pwd.getpwnam(user).pw_gid, extra_groups=[],
                          capture_output=True, text=True, env=e, timeout=60)


def owned(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def test_serve_as_user(base):
    nob = (NOBODY.pw_uid, NOBODY.pw_gid)
    with acme_rig(base, Http01(), init_args=("--user", "nobody")) as env:
        data = env.data
        assert owned(data) == (0, NOBODY.pw_gid, 0o750)
        assert owned(data / "certdesk.conf") == (0, NOBODY.pw_gid, 0o640)
        assert owned(data / "keys") == (0, 0, 0o700)
        for d in USER_DIRS:
            assert owned(data / d)[:2] == nob, d
        conf = (data / "certdesk.conf").read_text()
        assert "\nuser = nobody\n" in conf
        assert "\npath = db/certdesk.db\n" in conf
        assert owned(data / "db/certdesk.db")[:2] == nob

        pid = env.server.proc.pid
        sp = signer_pid(pid)
        # the main process is nobody for good (real, effective, saved,
        # file system), with no other group; the signer stays root,
        # without a capability
        assert status(pid, "Uid") == [str(NOBODY.pw_uid)] * 4
        assert status(pid, "Gid") == [str(NOBODY.pw_gid)] * 4
        assert status(pid, "Groups") == [str(NOBODY.pw_gid)]
        assert status(sp, "Uid") == ["0"] * 4
        for caps in ("CapEff", "CapPrm", "CapBnd", "CapAmb"):
            assert status(sp, caps) == ["0000000000000000"], caps
        log = env.server.stderr()
        assert f"running as nobody (uid {NOBODY.pw_uid}, gid " \
               f"{NOBODY.pw_gid}); the signer (pid {sp}) as the owner of " \
               f"{data}/keys" in log, log
        assert "runs as root" not in log

        # nobody cannot read a key, list the keys, or change the data
        # directory (rename keys/, replace certdesk.conf)
        for args in (["cat", data / "keys/issuing-1.key"],
                     ["ls", data / "keys"],
                     ["mv", data / "keys", data / "k"],
                     ["touch", data / "certdesk.conf"]):
            r = as_user("nobody", args)
            assert r.returncode != 0 and "denied" in r.stderr, args

        c = account(env)
        _, _, pem, _ = issue(env, c, ["user.test"])
        (base / "leaf.pem").write_text(pem)
        openssl("verify", "-CAfile", data / "ca/root.pem", "-untrusted",
                data / "ca/issuing-1.pem", base / "leaf.pem")

        # root rolls the issuing CA while nobody serves: the roll's own
        # signer (root) makes the key, the rest is made as nobody
        ok(["ca", "roll", "--data", data])
        ok(["ca", "crl", "--data", data])
        os.kill(pid, signal.SIGHUP)
        deadline = time.monotonic() + 30
        while "issuing CA issuing-2: new certificates come from it" \
                not in env.server.stderr():
            assert time.monotonic() < deadline, env.server.stderr()
            time.sleep(0.2)
        _, _, pem2, _ = issue(env, account(env), ["after-roll.test"])
        leaf = x509.load_pem_x509_certificate(pem2.encode())
        assert "Issuing CA 2" in leaf.issuer.rfc4514_string()
        assert status(sp, "Uid") == ["0"] * 4   # the same signer
        assert owned(data / "keys/issuing-2.key")[:2] == (0, 0)
        for d in USER_DIRS:
            for p in (data / d).iterdir():
                assert os.lstat(p).st_uid == NOBODY.pw_uid, p
    # the server stopped cleanly (acme_rig checks its exit)


def start_fails(data, *extra, user=None):
    args = [certdesk_bin(), "serve", "--data", data, "--listen",
            f"127.0.0.1:{free_port()}", "--plain-listen",
            f"127.0.0.1:{free_port()}", *extra]
    p = as_user(user, args) if user else run(args[1:])
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "listening" not in p.stderr
    return p.stderr


def set_key(data, key, value):
    path = data / "certdesk.conf"
    text = path.read_text()
    for line in text.splitlines():
        if line.lstrip(";").startswith(f"{key} = "):
            text = text.replace(line + "\n", f"{key} = {value}\n", 1)
            break
    else:
        raise AssertionError(key)
    path.write_text(text)
    assert os.stat(path).st_uid == 0


def test_refusals(base):
    # a data directory made without --user, given a user afterwards:
    # its store is in the data directory itself
    plain = base / "plain"
    ok(["init", "--data", plain])
    set_key(plain, "user", "nobody")
    err = start_fails(plain)
    assert f"store.path {plain}/certdesk.db: the store must be in a " \
        "directory of nobody's" in err, err

    data = base / "data"
    ok(["init", "--data", data, "--user", "nobody"])
    # without general.user, root would write in nobody's directories
    set_key(data, "user", "")
    err = start_fails(data)
    assert f"{data}/db belongs to uid {NOBODY.pw_uid}, and {data}/" \
        "certdesk.conf sets no general.user" in err, err
    assert run(["ca", "crl", "--data", data]).returncode == 1
    set_key(data, "user", "nobody")

    # as root, only what root alone can change is trusted
    os.chmod(data, 0o770)
    err = start_fails(data)
    assert f"data directory {data}: {data} may be changed by its group " \
        "or by others" in err, err
    os.chmod(data, 0o750)
    os.chown(data / "certdesk.conf", NOBODY.pw_uid, NOBODY.pw_gid)
    err = start_fails(data)
    assert f"configuration {data}/certdesk.conf: {data}/certdesk.conf " \
        f"belongs to uid {NOBODY.pw_uid}" in err, err
    os.chown(data / "certdesk.conf", 0, NOBODY.pw_gid)
    os.chown(base, NOBODY.pw_uid, NOBODY.pw_gid)
    err = start_fails(data)
    assert f"data directory {data}: {base} belongs to uid " \
        f"{NOBODY.pw_uid}" in err, err
    assert run(["ca", "root", "--data", data]).returncode == 1
    os.chown(base, 0, 0)

    # a PKCS#11 module another user could change is never loaded by a
    # root signer (one that would copy keys/root.key, were it run)
    evil = base / "evil"
    evil.mkdir()
    (evil / "evil.so").write_bytes(b"\x7fELF not really")
    os.chown(evil, NOBODY.pw_uid, NOBODY.pw_gid)
    os.chown(evil / "evil.so", NOBODY.pw_uid, NOBODY.pw_gid)
    saved = (data / "certdesk.conf").read_text()
    set_key(data, "pkcs11_module", evil / "evil.so")
    set_key(data, "pkcs11_token", "x")
    set_key(data, "pkcs11_pin_file", "keys/root.role")
    err = start_fails(data)
    assert f"PKCS#11 module {evil}/evil.so: not loaded by a signer that " \
        "runs as root" in err, err
    assert "invalid ELF header" not in err
    (data / "certdesk.conf").write_text(saved)

    # a directory written while serving that the user cannot write
    os.chown(data / "db", 0, 0)
    err = start_fails(data)
    assert f"{data}/db: nobody cannot write in it" in err, err
    os.chown(data / "db", NOBODY.pw_uid, NOBODY.pw_gid)
    # a store file it cannot write (a -wal left by root)
    wal = data / "db/certdesk.db-wal"
    wal.write_bytes(b"")
    os.chmod(wal, 0o644)
    err = start_fails(data)
    assert f"{wal}: nobody cannot write it" in err, err
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
    err = start_fails(data)
    assert f"key directory {data}/keys: accessible by group or others " \
        "(mode 0750, must be 0700)" in err, err
    os.removexattr(data / "keys", "system.posix_acl_access")
    os.chmod(data / "keys", 0o700)
    # a key directory of the user's own: it could read the keys
    subprocess.run(["chown", "-R", "nobody:", data / "keys"], check=True)
    err = start_fails(data)
    assert f"{data}/keys belongs to nobody, the user certdesk runs as" \
        in err, err

    # root and unknown users
    set_key(data, "user", "root")
    assert "general.user: 'root' is root" in start_fails(data)
    set_key(data, "user", "no-such-user-here")
    assert "general.user: no user 'no-such-user-here'" in start_fails(data)
    # a process that is neither root nor that user
    set_key(data, "user", "daemon")
    err = start_fails(data, user="nobody")
    assert "general.user = daemon: certdesk must be started as root" \
        in err, err
    set_key(data, "user", "nobody")
    # init --user is root's
    p = as_user("nobody", [certdesk_bin(), "init", "--data",
                           base / "other", "--user", "nobody"])
    assert p.returncode == 2 and "init must run as root" in p.stderr, \
        p.stderr

    # keys of a user of their own (daemon): every signer root starts
    # runs as daemon, serve's and a command's alike
    subprocess.run(["chown", "-R", "daemon:daemon", data / "keys"],
                   check=True)
    before = (data / "crl/root.crl").read_bytes()
    ok(["ca", "crl", "--data", data])
    assert (data / "crl/root.crl").read_bytes() != before
    assert os.stat(data / "crl/root.crl").st_uid == NOBODY.pw_uid
    port = free_port()
    s = Server(data, port, base / "serve.log").start()
    try:
        sp = signer_pid(s.proc.pid)
        assert status(s.proc.pid, "Uid") == [str(NOBODY.pw_uid)] * 4
        assert status(sp, "Uid") == [str(DAEMON.pw_uid)] * 4
        assert status(sp, "Groups") == [str(DAEMON.pw_gid)]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz",
                                    timeout=5) as r:
            assert r.status == 200
    finally:
        s.stop()


def test_root_commands_as_the_user(base):
    """Run by root, backup, restore and ca issue become the user too;
    backup writes where the user may (a directory of root's is refused,
    saying why); restore and ca issue still read root's files, opened
    before the change (--from, --csr); the store restore puts back is the
    user's, and serve starts on it."""
    port = free_port()
    data = base / "data"
    ok(["init", "--data", data, "--user", "nobody", "--base-url",
        f"http://127.0.0.1:{port}"])
    p = run(["backup", "--data", data, "--out", base / "backup.db"])
    assert p.returncode == 1 and "running as nobody" in p.stderr, p.stderr
    drop = base / "drop"
    drop.mkdir()
    os.chown(drop, NOBODY.pw_uid, NOBODY.pw_gid)
    ok(["backup", "--data", data, "--out", drop / "backup.db"])
    out = base / "backup.db"
    shutil.copy(drop / "backup.db", out)
    os.chmod(out, 0o600)                # root's alone
    ok(["restore", "--data", data, "--from", out])
    for p in (data / "db").iterdir():
        assert os.stat(p).st_uid == NOBODY.pw_uid, p
    s = Server(data, port, base / "serve.log").start()
    try:
        assert status(s.proc.pid, "Uid") == [str(NOBODY.pw_uid)] * 4
    finally:
        s.stop()
    # a CSR of root's alone
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", base / "k.pem",
            "-subj", "/CN=root-csr.test", "-addext",
            "subjectAltName=DNS:root-csr.test", "-out", base / "r.csr")
    os.chmod(base / "r.csr", 0o600)
    cert = ok(["ca", "issue", "--data", data, "--profile", "dv", "--csr",
               base / "r.csr"])
    assert "BEGIN CERTIFICATE" in cert
    # a FIFO no one writes: opened without waiting, read as empty
    os.mkfifo(base / "fifo")
    p = run(["ca", "issue", "--data", data, "--profile", "dv", "--csr",
             base / "fifo"], timeout=30)
    assert p.returncode == 1 and "empty file" in p.stderr, p.stderr


def test_store_link_not_followed(base):
    """A link the user put at the store's name (to a database of root's
    elsewhere, which opening would migrate) is not followed: nothing
    opens it, as the user or as root."""
    data = base / "data"
    ok(["init", "--data", data, "--user", "nobody"])
    victim = base / "root-only.db"
    shutil.copy(data / "db/certdesk.db", victim)
    os.chmod(victim, 0o600)
    before = victim.read_bytes()
    store = data / "db/certdesk.db"
    store.unlink()
    store.symlink_to(victim)
    p = run(["backup", "--data", data, "--out", base / "b.db"])
    assert p.returncode == 1, p.stderr
    # as root without general.user (a link of root's, say)
    set_key(data, "user", "")
    for d in USER_DIRS:
        os.chown(data / d, 0, 0)
    os.lchown(store, 0, 0)
    p = run(["backup", "--data", data, "--out", base / "b.db"])
    assert p.returncode == 1, p.stderr
    assert "cannot open the store" in p.stderr, p.stderr
    assert victim.read_bytes() == before
    assert not (base / "b.db").exists()


def test_signer_user(base):
    """init --signer-user daemon: the keys are made by a signer that runs
    as daemon, and every signer root starts later (serve's, a roll's)
    runs as daemon too: root no longer holds the keys' process. It must
    not be --user, who may not read the keys."""
    data = base / "data"
    p = run(["init", "--data", base / "same", "--user", "nobody",
             "--signer-user", "nobody"])
    assert p.returncode == 2 and "not the user certdesk runs as" in \
        p.stderr, p.stderr
    port = free_port()
    ok(["init", "--data", data, "--user", "nobody", "--signer-user",
        "daemon", "--base-url", f"http://127.0.0.1:{port}"])
    keys = data / "keys"
    assert owned(keys) == (DAEMON.pw_uid, DAEMON.pw_gid, 0o700)
    for k in keys.iterdir():
        assert owned(k) == (DAEMON.pw_uid, DAEMON.pw_gid, 0o600), k
    ok(["ca", "roll", "--data", data])
    assert owned(keys / "issuing-2.key")[0] == DAEMON.pw_uid
    s = Server(data, port, base / "serve.log").start()
    try:
        assert status(signer_pid(s.proc.pid), "Uid") == \
            [str(DAEMON.pw_uid)] * 4
    finally:
        s.stop()


def low_port():
    """A free loopback port below 1024 (binding it takes a capability)."""
    import socket
    for port in range(900, 1000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    pytest.skip("no free port below 1024")


def test_systemd_unit(base):
    """contrib/certdesk.service is a unit systemd reads without a
    warning, and the capabilities it leaves serve are enough: started as
    root with only that bounding set (and no_new_privs), serve binds a
    port below 1024, starts its signer, becomes the user and serves."""
    from conftest import SRCDIR
    import re
    if shutil.which("systemd-analyze") is None:
        pytest.skip("no systemd-analyze")
    data = base / "data"
    unit = (SRCDIR / "contrib/certdesk.service").read_text()
    (base / "certdesk.service").write_text(
        unit.replace("/usr/local/bin/certdesk", str(certdesk_bin()))
        .replace("/srv/certdesk", str(data)))
    p = subprocess.run(["systemd-analyze", "verify",
                        base / "certdesk.service"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0 and p.stderr == "", p.stderr

    caps = re.search(r"(?m)^CapabilityBoundingSet=(.*)$", unit).group(1)
    bset = "-all," + ",".join("+" + c[4:].lower() for c in caps.split())
    plain = free_port()
    ok(["init", "--data", data, "--user", "nobody", "--base-url",
        f"http://127.0.0.1:{plain}"])
    https = low_port()
    log = open(base / "serve.log", "wb")
    proc = subprocess.Popen(
        ["setpriv", "--bounding-set", bset, "--inh-caps=-all",
         "--no-new-privs", certdesk_bin(), "serve", "--data", data,
         "--listen", f"127.0.0.1:{https}", "--plain-listen",
         f"127.0.0.1:{plain}"], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while "listening https=" not in (base / "serve.log").read_text():
            assert proc.poll() is None, (base / "serve.log").read_text()
            assert time.monotonic() < deadline, \
                (base / "serve.log").read_text()
            time.sleep(0.1)
        assert f"listening https=127.0.0.1:{https} " in \
            (base / "serve.log").read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{plain}/healthz",
                                    timeout=5) as r:
            assert r.status == 200
        assert status(proc.pid, "Uid") == [str(NOBODY.pw_uid)] * 4
        sp = signer_pid(proc.pid)
        assert status(sp, "CapEff") == ["0000000000000000"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0
        log.close()
    # without CAP_SETPCAP the signer cannot empty its bounding set; it
    # still empties the others and runs
    p = subprocess.run(["setpriv", "--bounding-set",
                        "-all,+setuid,+setgid", "--inh-caps=-all",
                        certdesk_bin(), "ca", "crl", "--data", data],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    # keys of a user of their own, under the unit's bounding set: root
    # cannot read daemon's 0700 keys/ without CAP_DAC_*, and need not
    data2 = base / "data2"
    ok(["init", "--data", data2, "--user", "nobody", "--signer-user",
        "daemon"])
    p = subprocess.run(["setpriv", "--bounding-set", bset, "--inh-caps=-all",
                        "--no-new-privs", certdesk_bin(), "ca", "crl",
                        "--data", data2],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
