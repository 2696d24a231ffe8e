# SPDX-License-Identifier: Apache-2.0
"""`certdesk backup`: a consistent copy of the store while `certdesk serve`
runs and certificates are being issued, one checked file that is never
written over. `certdesk restore`: refused while a server has the store
open or when the backup does not check out; otherwise the backup's
certificates come back, the replaced store is kept, revocations the backup
predates are made again (a restore never makes a revoked certificate
good), and CRL numbers go on increasing above those published after the
backup (RFC 5280 5.2.3)."""
import os
import sqlite3
import stat
import threading

from cryptography import x509

from conftest import Server, message, run


def crl_number(path):
    crl = x509.load_der_x509_crl(path.read_bytes())
    return crl.extensions.get_extension_for_class(
        x509.CRLNumber).value.crl_number


def serial(pem):
    """The serial as certdesk prints it: lowercase hex of the DER INTEGER
    contents octets (a leading zero nibble or 00 byte kept)."""
    n = x509.load_pem_x509_certificate(pem.encode()).serial_number
    return n.to_bytes(n.bit_length() // 8 + 1, "big").hex()


def count(db, table):
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        c.close()


def test_backup_while_issuing_then_restore(datadir, make_csr, tmp_path):
    a_pem, _ = datadir.issue("dv", make_csr("p256", ["a.example.com"]))
    live = datadir.path / "certdesk.db"
    srv = Server(datadir.path, datadir.port, tmp_path / "serve.log").start()
    try:
        before = count(live, "certificates")
        # certificates issued by another process while the backup is made
        stop, issued, errors = threading.Event(), [], []

        def issue_on():
            i = 0
            while not stop.is_set():
                try:
                    pem, _ = datadir.issue("dv", make_csr(
                        "p256", [f"w{i}.example.com"]))
                    issued.append(pem)
                except AssertionError as e:     # ok() failed
                    errors.append(str(e))
                    return
                i += 1

        t = threading.Thread(target=issue_on)
        t.start()
        out = tmp_path / "backups" / "certdesk-1.db"
        out.parent.mkdir()
        try:
            while len(issued) < 2 and not errors:
                stop.wait(0.05)
            p = datadir.run("backup", "--out", out)
            n_issued_during = len(issued)
        finally:
            stop.set()
            t.join()
        assert not errors, errors
        assert p.returncode == 0, message(p)
        text = p.stdout
        assert "audit log intact" in text and "not in it: the CA keys" in text
        # one file, 0600, a rollback journal (no -wal to carry along),
        # whole; nothing else left beside it
        assert os.listdir(out.parent) == [out.name]
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        c = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        c.close()
        # one snapshot: everything issued before it started, and not more
        # than was issued by the time it ended
        n = count(out, "certificates")
        assert before + 2 <= n <= before + n_issued_during + 1, \
            (before, n, n_issued_during)
        assert f"{n} certificates" in text

        # never written over, not even by a second backup
        p = datadir.run("backup", "--out", out)
        assert p.returncode == 1 and "exists" in message(p)
        assert count(out, "certificates") == n

        # after the backup: one more certificate, and two revocations
        # (superseded: keyCompromise would revoke every certificate of
        # a's key, the w<i> ones too)
        c_pem, _ = datadir.issue("dv", make_csr("p384", ["c.example.com"]))
        for pem in (a_pem, c_pem):
            datadir.cli("ca", "revoke", "--serial", serial(pem), "--reason",
                        "superseded")
        shard = datadir.path / "crl" / "issuing-1-0.crl"
        published = crl_number(shard)
        # no restore under a running server
        p = datadir.run("restore", "--from", out)
        assert p.returncode == 1, message(p)
        assert "open: stop every certdesk serve" in message(p)
        assert count(live, "revocations") == 2
    finally:
        srv.stop()

    p = datadir.run("restore", "--from", out)
    assert p.returncode == 0, message(p)
    text = p.stdout
    assert f"{n} certificates" in text and "audit log intact" in text
    # the replaced store is kept, with its -wal and -shm if any
    kept = [f for f in os.listdir(datadir.path)
            if f.startswith("certdesk.db.before-restore-")]
    assert any(not f.endswith(("-wal", "-shm")) for f in kept), kept
    # the backup's certificates are back; the one issued after it is not;
    # the revocation the backup predates is made again, and the one of a
    # certificate it does not know is named
    assert f"revoked again: {serial(a_pem)} (reason 4)" in text
    assert ("revoked, but issued after the backup (unknown to the "
            f"restored store): {serial(c_pem)}") in text
    assert "status: revoked" in datadir.cli("ca", "show", "--serial",
                                            serial(a_pem))
    p = datadir.run("ca", "show", "--serial", serial(c_pem))
    assert p.returncode == 1, message(p)
    assert "audit log intact" in datadir.cli("audit", "verify")
    # the restored counter was behind the CRL published after the backup;
    # the CRL of the revocation made again is numbered above it
    assert crl_number(shard) > published
    srv = Server(datadir.path, datadir.port, tmp_path / "serve2.log").start()
    try:
        st, _, body = srv.get("/crl/issuing-1-0.crl")
        assert st == 200 and crl_number_of(body) > published
    finally:
        srv.stop()


def test_restore_refuses_a_bad_backup(datadir, tmp_path):
    """A file that is no database, or whose audit log was edited, is not
    restored, and the store stays as it was."""
    live = datadir.path / "certdesk.db"
    n = count(live, "certificates")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"SQLite format 3\0" + b"x" * 4000)
    p = datadir.run("restore", "--from", junk)
    assert p.returncode == 1, message(p)
    p = datadir.run("restore", "--from", tmp_path / "missing.db")
    assert p.returncode == 1 and "missing.db" in message(p)
    out = tmp_path / "b.db"
    datadir.cli("backup", "--out", out)
    db = sqlite3.connect(out)
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("UPDATE audit_log SET details = '{\"forged\":1}' "
               "WHERE seq = 3")
    db.commit()
    db.close()
    p = datadir.run("restore", "--from", out)
    assert p.returncode == 1
    assert "audit log is broken at entry 3: not restored" in message(p)
    assert count(live, "certificates") == n
    assert not [f for f in os.listdir(datadir.path)
                if "restor" in f], os.listdir(datadir.path)


def crl_number_of(der):
    return x509.load_der_x509_crl(der).extensions.get_extension_for_class(
        x509.CRLNumber).value.crl_number


def test_backup_keeps_a_broken_audit_log_as_evidence(datadir, tmp_path):
    """A store whose audit log was edited: the backup is still written (it
    is the evidence) but the command fails, naming the entry."""
    db = sqlite3.connect(datadir.path / "certdesk.db")
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("UPDATE audit_log SET details = '{\"forged\":1}' "
               "WHERE seq = 2")
    db.commit()
    db.close()
    out = tmp_path / "evidence.db"
    p = datadir.run("backup", "--out", out)
    assert p.returncode == 1
    assert "audit log is broken at entry 2" in message(p)
    assert "audit log BROKEN" in p.stdout
    assert out.exists() and not (tmp_path / "evidence.db.partial").exists()


def test_backup_bad_input(datadir, tmp_path):
    # no --out: usage, exit 2
    p = datadir.run("backup")
    assert p.returncode == 2 and "--out" in message(p)
    # a directory that does not exist: exit 1, nothing made
    p = datadir.run("backup", "--out", tmp_path / "missing" / "b.db")
    assert p.returncode == 1 and "cannot create" in message(p)
    # an interrupted backup's leftover is named, and left alone
    (tmp_path / "b.db.partial").write_bytes(b"half")
    p = datadir.run("backup", "--out", tmp_path / "b.db")
    assert p.returncode == 1 and "interrupted" in message(p)
    assert (tmp_path / "b.db.partial").read_bytes() == b"half"
    assert not (tmp_path / "b.db").exists()
    # a data directory that is not one
    p = run(["backup", "--data", tmp_path / "nothing", "--out",
             tmp_path / "c.db"])
    assert p.returncode == 1, message(p)
    assert not (tmp_path / "c.db").exists()
