# SPDX-License-Identifier: Apache-2.0
"""`certdesk backup`: a consistent copy of the store while `certdesk serve`
runs and certificates are being issued, one checked file that is never
written over. `certdesk restore`: refused while a server has the store
open (or a process that looks like certdesk and cannot be inspected runs),
when the backup does not check out or its schema is not the migrations'
one; otherwise the backup's certificates come back, those issued after it
are carried over from the replaced store with their revocations, the
replaced store is kept, revocations the backup predates are made again (a
restore never makes a revoked certificate good), and CRL numbers go on
increasing above those published after the backup (RFC 5280 5.2.3). A
`ca roll` after the backup is carried over too: the new issuing CA stays
the active one, its revoked certificate stays revoked on its CRL and over
OCSP, and the next roll works; a CA that cannot be carried (its key is not
in the signer, or the signer refuses its certificate) refuses the restore,
naming it, unless --drop-later-revocations. So is a revocation a portal
reissue for another domain scheduled after the backup: carried over, the
DV worker revokes the replaced certificate on time after the restore (CRL,
OCSP); one that cannot be carried refuses the restore, or is named as
dropped; one done after the backup is made again."""
import ctypes
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time
import json
import types
import urllib.parse
import urllib.request

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from conftest import Server, certdesk_bin, message, openssl, run
from portal_rig import Rig


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
    # the backup's certificates are back; the one issued after it is
    # carried over, revoked; the revocation the backup predates is made
    # again
    assert f"revoked again: {serial(a_pem)} (reason 4)" in text
    assert ("carried over, issued after the backup: "
            f"{serial(c_pem)} (revoked, reason 4)") in text
    # the w<i> certificates issued while the backup was made and after
    later = before + len(issued) + 1 - n
    assert f"{later} certificates issued after the backup carried " \
        "over" in text
    for pem in (a_pem, c_pem):
        assert "status: revoked" in datadir.cli("ca", "show", "--serial",
                                                serial(pem))
    assert count(live, "certificates") == before + len(issued) + 1
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
    (trigger,) = db.execute("SELECT sql FROM sqlite_master WHERE name = "
                            "'audit_log_no_update'").fetchone()
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("UPDATE audit_log SET details = '{\"forged\":1}' "
               "WHERE seq = 3")
    db.execute(trigger)     # the schema as it was: only the log is edited
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
    (trigger,) = db.execute("SELECT sql FROM sqlite_master WHERE name = "
                            "'audit_log_no_update'").fetchone()
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("UPDATE audit_log SET details = '{\"forged\":1}' "
               "WHERE seq = 2")
    db.execute(trigger)
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


def revoked_on_crls(datadir, out):
    """The serials on the CRLs `ca crl` printed it wrote."""
    serials = set()
    for line in out.splitlines():
        path = line.strip()
        if path.endswith(".crl") and os.path.exists(path):
            crl = x509.load_der_x509_crl(open(path, "rb").read())
            serials |= {r.serial_number for r in crl}
    return serials


def names(datadir):
    """The data directory's files, but those SQLite makes and removes."""
    return sorted(f for f in os.listdir(datadir.path)
                  if not f.endswith(("-wal", "-shm")))


def leftovers(datadir):
    return [f for f in os.listdir(datadir.path)
            if "restoring" in f or f.endswith(".partial")]


def test_restore_keeps_revocations_made_after_the_backup(datadir, make_csr,
                                                         tmp_path):
    """A certificate issued and revoked after the backup stays revoked
    after a restore: carried over with its revocation (ca show, CRL), its
    key still blocked, and the carrying audited."""
    datadir.issue("dv", make_csr("p256", ["a.example.com"]))
    out = tmp_path / "b.db"
    datadir.cli("backup", "--out", out)
    c_pem, _ = datadir.issue("dv", make_csr("rsa2048", ["c.example.com"]))
    g_pem, _ = datadir.issue("dv", make_csr("p384", ["g.example.com"]))
    datadir.cli("ca", "revoke", "--serial", serial(c_pem), "--reason",
                "keyCompromise")
    p = datadir.run("restore", "--from", out)
    assert p.returncode == 0, message(p)
    assert ("carried over, issued after the backup: "
            f"{serial(c_pem)} (revoked, reason 1)") in p.stdout
    assert ("carried over, issued after the backup: "
            f"{serial(g_pem)}\n") in p.stdout
    assert "2 certificates issued after the backup carried over" in p.stdout
    assert "status: revoked" in datadir.cli("ca", "show", "--serial",
                                            serial(c_pem))
    assert "status: revoked" not in datadir.cli("ca", "show", "--serial",
                                                serial(g_pem))
    n = x509.load_pem_x509_certificate(c_pem.encode()).serial_number
    assert n in revoked_on_crls(datadir, datadir.cli("ca", "crl"))
    # the compromised key is still refused
    p = datadir.run("ca", "issue", "--profile", "dv", "--csr",
                    make_csr("rsa2048", ["d.example.com"]))
    assert p.returncode != 0
    assert "audit log intact" in datadir.cli("audit", "verify")
    db = sqlite3.connect(f"file:{datadir.path / 'certdesk.db'}?mode=ro",
                         uri=True)
    acts = {r[0] for r in db.execute(
        "SELECT object FROM audit_log WHERE action = 'cert.restore.carry'")}
    keys = db.execute("SELECT count(*) FROM cert_keys WHERE serial IN "
                      "(?, ?)", (serial(c_pem), serial(g_pem))).fetchone()
    ocsp = db.execute("SELECT status FROM ocsp_responses WHERE serial = ?",
                      (serial(c_pem),)).fetchone()
    db.close()
    assert acts == {serial(c_pem), serial(g_pem)}
    assert keys == (2,) and ocsp == (1,)
    assert not leftovers(datadir), os.listdir(datadir.path)


def test_restore_refuses_what_cannot_be_carried(datadir, make_csr,
                                                tmp_path):
    """When the later certificates cannot be carried over (here: the
    replaced store records an older migration), the restore is refused,
    naming the revoked serials the backup lacks, unless
    --drop-later-revocations; then they are named as dropped."""
    out = tmp_path / "b.db"
    datadir.cli("backup", "--out", out)
    c_pem, _ = datadir.issue("dv", make_csr("p256", ["c.example.com"]))
    datadir.cli("ca", "revoke", "--serial", serial(c_pem), "--reason",
                "superseded")
    live = datadir.path / "certdesk.db"
    db = sqlite3.connect(live)
    db.execute("DELETE FROM schema_migrations WHERE version = "
               "(SELECT max(version) FROM schema_migrations)")
    db.commit()
    db.close()
    before = names(datadir)
    p = datadir.run("restore", "--from", out)
    assert p.returncode == 1
    assert "not restored" in message(p) and serial(c_pem) in message(p)
    assert "--drop-later-revocations" in message(p)
    assert names(datadir) == before
    assert count(live, "revocations") == 1
    p = datadir.run("restore", "--from", out, "--drop-later-revocations")
    assert p.returncode == 0, p.stderr
    assert f"DROPPED: revoked in the replaced store, unknown to the " \
        f"restored one: {serial(c_pem)}" in p.stdout
    assert datadir.run("ca", "show", "--serial",
                       serial(c_pem)).returncode == 1


@pytest.mark.parametrize("table", ["revocations", "superseded_certs"])
def test_restore_refuses_unreadable_revocations(datadir, tmp_path, table):
    """The replaced store's revocations, or those it scheduled, cannot be
    read: refused; with --drop-later-revocations restored, and still exit
    1."""
    out = tmp_path / "b.db"
    datadir.cli("backup", "--out", out)
    live = datadir.path / "certdesk.db"
    db = sqlite3.connect(live)
    db.execute(f"ALTER TABLE {table} RENAME TO gone")
    db.commit()
    db.close()
    p = datadir.run("restore", "--from", out)
    assert p.returncode == 1
    assert "cannot be read" in message(p) and "not restored" in message(p)
    assert not leftovers(datadir)
    p = datadir.run("restore", "--from", out, "--drop-later-revocations")
    assert p.returncode == 1
    assert "could not be read" in p.stderr and "check those in" in p.stderr
    assert "restored " in p.stdout
    assert count(live, "revocations") == 0


def issuer_cn(pem):
    cert = x509.load_pem_x509_certificate(pem.encode())
    return cert.issuer.get_attributes_for_oid(
        x509.NameOID.COMMON_NAME)[0].value


def rolled_after_backup(datadir, make_csr, tmp_path):
    """A backup, then a `ca roll` and two certificates of issuing-2, one
    revoked: (backup, revoked pem, good pem)."""
    datadir.issue("dv", make_csr("p256", ["a.example.com"]))
    out = tmp_path / "b.db"
    datadir.cli("backup", "--out", out)
    assert datadir.cli("ca", "roll").strip().endswith("/issuing-2.pem")
    b_pem, _ = datadir.issue("dv", make_csr("p256", ["b.example.com"]))
    c_pem, _ = datadir.issue("dv", make_csr("p384", ["c.example.com"]))
    assert issuer_cn(b_pem) == "certdesk Issuing CA 2"
    datadir.cli("ca", "revoke", "--serial", serial(b_pem), "--reason",
                "superseded")
    return out, b_pem, c_pem


def on_crl_of(srv, datadir, issuer, pem):
    """Whether a CRL of issuer that serve publishes (verified with the
    issuer's key) lists the certificate."""
    n = x509.load_pem_x509_certificate(pem.encode()).serial_number
    ca = x509.load_pem_x509_certificate(
        (datadir.path / "ca" / f"{issuer}.pem").read_bytes())
    with urllib.request.urlopen(srv.url(f"/crl/{issuer}.json"),
                                timeout=10) as r:
        urls = json.loads(r.read())
    assert urls, issuer
    for url in urls:
        st, _, der = srv.get(urllib.parse.urlparse(url).path)
        assert st == 200, url
        crl = x509.load_der_x509_crl(der)
        assert crl.is_signature_valid(ca.public_key())
        if crl.get_revoked_certificate_by_serial_number(n) is not None:
            return True
    return False


def ocsp_status(srv, datadir, issuer, path):
    p = openssl("ocsp", "-issuer", datadir.path / "ca" / f"{issuer}.pem",
                "-CAfile", datadir.root_pem, "-url", srv.url("/ocsp"),
                "-cert", path)
    out = (p.stdout + p.stderr).decode()
    assert "Response verify OK" in out, out
    return out


def test_restore_carries_a_later_issuing_ca(datadir, make_csr, tmp_path):
    """A backup from before a `ca roll`: the restore carries issuing-2 over
    (its issuers row, audited), with its certificates and revocation; it
    is still the active issuing CA, its revoked certificate is on its CRL
    and OCSP answers revoked, and the next roll makes issuing-3 (the
    leftover key issuing-2 would be refused)."""
    out, b_pem, c_pem = rolled_after_backup(datadir, make_csr, tmp_path)
    p = datadir.run("restore", "--from", out)
    assert p.returncode == 0, p.stderr
    assert ("carried over, made after the backup: issuing CA issuing-2 "
            "(issuer 3, the active one)") in p.stdout
    assert ("carried over, issued after the backup: "
            f"{serial(b_pem)} (revoked, reason 4)") in p.stdout
    assert f"carried over, issued after the backup: {serial(c_pem)}\n" \
        in p.stdout
    assert "1 CAs made after the backup carried over" in p.stdout
    # issuing-2's CA certificate, b and c
    assert "3 certificates issued after the backup carried over" \
        in p.stdout
    # still the active issuing CA: the chain, and what is issued now
    assert datadir.cli("ca", "chain") == \
        (datadir.path / "ca/issuing-2.pem").read_text()
    d_pem, _ = datadir.issue("dv", make_csr("p256", ["d.example.com"]))
    assert issuer_cn(d_pem) == "certdesk Issuing CA 2"
    assert "status: revoked" in datadir.cli("ca", "show", "--serial",
                                            serial(b_pem))
    audit = datadir.cli("audit", "list")
    assert "\tca.restore.carry\tissuing-2\t" in audit, audit
    assert "audit log intact" in datadir.cli("audit", "verify")
    (tmp_path / "b.pem").write_text(b_pem)
    (tmp_path / "c.pem").write_text(c_pem)
    srv = Server(datadir.path, datadir.port, tmp_path / "serve.log").start()
    try:
        assert on_crl_of(srv, datadir, "issuing-2", b_pem)
        assert not on_crl_of(srv, datadir, "issuing-2", c_pem)
        assert f"{tmp_path}/b.pem: revoked" in ocsp_status(
            srv, datadir, "issuing-2", tmp_path / "b.pem")
        assert f"{tmp_path}/c.pem: good" in ocsp_status(
            srv, datadir, "issuing-2", tmp_path / "c.pem")
    finally:
        srv.stop()
    assert datadir.cli("ca", "roll").strip().endswith("/issuing-3.pem")


def test_restore_refuses_to_lose_an_issuing_ca(datadir, make_csr,
                                               tmp_path):
    """issuing-2, made after the backup, cannot be carried over when the
    signer lacks its key or refuses its certificate: the restore is
    refused, naming it; --drop-later-revocations restores anyway and names
    it as dropped."""
    out, b_pem, _ = rolled_after_backup(datadir, make_csr, tmp_path)
    live = datadir.path / "certdesk.db"
    before = names(datadir)
    # the replaced store's issuing-2 with issuing-1's certificate
    db = sqlite3.connect(live)
    (der,) = db.execute("SELECT cert_der FROM issuers WHERE name = "
                        "'issuing-2'").fetchone()
    db.execute("UPDATE issuers SET cert_der = (SELECT cert_der FROM "
               "issuers WHERE name = 'issuing-1') WHERE name = 'issuing-2'")
    db.commit()
    db.close()
    p = datadir.run("restore", "--from", out)
    assert p.returncode == 1, p.stdout
    assert "CA issuing-2: the signer refuses its certificate" \
        in message(p)
    assert "not restored" in message(p)
    db = sqlite3.connect(live)
    db.execute("UPDATE issuers SET cert_der = ? WHERE name = 'issuing-2'",
               (der,))
    db.commit()
    db.close()
    assert names(datadir) == before
    # the key elsewhere: the signer does not have it
    keys = datadir.path / "keys"
    aside = tmp_path / "aside"
    aside.mkdir()
    shutil.move(keys / "issuing-2.key", aside / "issuing-2.key")
    p = datadir.run("restore", "--from", out)
    assert p.returncode == 1, p.stdout
    m = message(p)
    assert "CA issuing-2: the signer has no key issuing-2" in m
    assert f"1 revoked certificates ({serial(b_pem)}) would be good " \
        "again" in m
    assert "1 CAs made after the backup (issuing-2) would be lost" in m
    assert "--drop-later-revocations" in m and "not restored" in m
    assert "  issuing-2 (issuer 3: 2 certificates, 1 revoked)" in p.stderr
    assert names(datadir) == before and not leftovers(datadir)
    assert count(live, "issuers") == 3
    p = datadir.run("restore", "--from", out, "--drop-later-revocations")
    assert p.returncode == 0, p.stderr
    assert ("DROPPED: CA issuing-2 of the replaced store (issuer 3: 2 "
            "certificates, 1 revoked), unknown to the restored one") \
        in p.stdout
    assert count(live, "issuers") == 2


def altered(src, dst, *sql):
    shutil.copy(src, dst)
    db = sqlite3.connect(dst)
    for s in sql:
        db.execute(s)
    db.commit()
    db.close()


def test_restore_refuses_an_altered_schema(datadir, make_csr, tmp_path):
    """A backup with a trigger of its own, or without one of the
    migrations', is refused before anything runs it; the store stays as it
    was. A live store with an extra trigger is not backed up."""
    datadir.issue("dv", make_csr("p256", ["a.example.com"]))
    out = tmp_path / "b.db"
    datadir.cli("backup", "--out", out)
    live = datadir.path / "certdesk.db"
    listing = names(datadir)
    n = count(live, "certificates")
    evil = ("CREATE TRIGGER revocations_vanish AFTER INSERT ON revocations "
            "BEGIN DELETE FROM revocations WHERE serial = NEW.serial; END")
    cases = {
        "extra trigger revocations_vanish": [evil],
        "missing trigger audit_log_no_update": [
            "DROP TRIGGER audit_log_no_update",
            "DROP TRIGGER audit_log_no_delete", evil],
        "extra view v": ["CREATE VIEW v AS SELECT 1"],
        "changed table issued_sets": [
            "DROP TABLE issued_sets",
            "CREATE TABLE issued_sets (hash BLOB, issued_at INTEGER, "
            "serial TEXT)"],
    }
    for i, (what, sql) in enumerate(cases.items()):
        bad = tmp_path / f"bad{i}.db"
        altered(out, bad, *sql)
        p = datadir.run("restore", "--from", bad)
        assert p.returncode == 1, p.stdout
        assert what in message(p) and "not restored" in message(p)
        assert "schema" in message(p)
        assert names(datadir) == listing
        assert count(live, "certificates") == n
    # the unaltered backup still restores
    p = datadir.run("restore", "--from", out)
    assert p.returncode == 0, message(p)
    # a live store that was altered: no backup of it
    db = sqlite3.connect(live)
    db.execute(evil)
    db.commit()
    db.close()
    out2 = tmp_path / "b2.db"
    p = datadir.run("backup", "--out", out2)
    assert p.returncode == 1
    assert "extra trigger revocations_vanish" in message(p)
    assert not out2.exists() and not (tmp_path / "b2.db.partial").exists()


def test_restore_fails_closed_on_uninspectable_certdesk(tmp_path, make_csr):
    """restore run by a user who cannot read the open files of a process
    that looks like certdesk (here: a root process named certdesk) is
    refused, naming the process."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run restore as another user")
    base = tempfile.mkdtemp(prefix="certdesk-holder-")
    try:
        os.chmod(base, 0o755)
        data = os.path.join(base, "data")
        p = run(["init", "--data", data, "--base-url",
                 "http://127.0.0.1:9"])
        assert p.returncode == 0, p.stderr
        out = os.path.join(base, "b.db")
        assert run(["backup", "--data", data, "--out", out]).returncode == 0
        for root, dirs, files in os.walk(base):
            for f in dirs + files:
                os.chown(os.path.join(root, f), 65534, 65534)
        os.chown(base, 65534, 65534)
        # a root process named certdesk that sleeps
        sleeper = subprocess.Popen([sys.executable, "-c",
            "import ctypes, time\n"
            "ctypes.CDLL(None).prctl(15, b'certdesk', 0, 0, 0)\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n"], stdout=subprocess.PIPE, text=True)
        try:
            assert sleeper.stdout.readline().strip() == "ready"
            env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
            p = subprocess.run([certdesk_bin(), "restore", "--data", data,
                                "--from", out], user=65534, group=65534,
                               capture_output=True, text=True, env=env,
                               timeout=60)
            if p.returncode == 0:
                pytest.skip("this user can read root's open files")
            assert p.returncode == 1, p.stderr
            assert "looks like certdesk" in message(p), p.stderr
            assert "not restored" not in message(p)
            assert not [f for f in os.listdir(data) if "restor" in f]
        finally:
            sleeper.send_signal(signal.SIGKILL)
            sleeper.wait()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def reissued_after_backup(tmp_path, make_csr):
    """A portal rig: a starter slot issued for one domain (old), a backup,
    then a reissue on the slot for another domain (new), which schedules
    old's revocation: (rig, backup, old, new, revoke_at)."""
    rig = Rig(tmp_path)
    contract = rig.ids["a"]["contract"]
    for d in ("old-shop.test", "new-shop.test"):
        rig.cli("admin", "domain", "add", "--contract", contract, "--name",
                d, "--hosted")
    slot = rig.cli("admin", "slot", "add", "--contract", contract,
                   "--product", "starter")
    rig.server.start()

    def order(domain, key):
        path = f"/portal/slots/{slot}/setup"
        st, _, body = c.get(path)
        assert st == 200, body[:300]
        st, _, body = c.post_form(path, {
            "csrf": c.csrf_from(body), "domain": domain,
            "purpose": "hosting", "terms": "1", "key_source": "browser",
            "csr": make_csr(key, [domain, "www." + domain]).read_text()})
        # redirected to the order's confirmation
        assert st == 303, body[:2000]
        (oid,), = rig.db("SELECT max(id) FROM orders WHERE slot_id = ?",
                         int(slot))
        if rig.db("SELECT status FROM orders WHERE id = ?", oid) != \
                [("valid",)]:
            assert rig.cli("admin", "validate", "--order", str(oid)) == \
                "issued"
        (cert,), = rig.db("SELECT cert_serial FROM orders WHERE id = ?",
                          oid)
        return cert

    try:
        c = rig.login("a")
        old = order("old-shop.test", "p256")
        out = tmp_path / "b.db"
        rig.cli("backup", "--out", out)
        new = order("new-shop.test", "p384")
    finally:
        rig.server.stop()
    (revoke_at,), = rig.db("SELECT revoke_at FROM superseded_certs WHERE "
                           "serial = ? AND by_serial = ?", old, new)
    return rig, out, old, new, revoke_at


def utc(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def test_restore_carries_a_scheduled_revocation(tmp_path, make_csr):
    """A reissue for another domain after the backup scheduled the old
    certificate's revocation: the restore carries the schedule over with
    the new certificate (named, audited), and once its time has come the
    DV worker revokes the old one (superseded), on the CRL and over OCSP.
    A second restore from a backup that still has the schedule, once the
    revocation is done, makes it again and leaves nothing scheduled."""
    rig, out, old, new, revoke_at = reissued_after_backup(tmp_path,
                                                          make_csr)
    p = run(["backup", "--data", rig.data, "--out", tmp_path / "b2.db"])
    assert p.returncode == 0, p.stderr
    p = run(["restore", "--data", rig.data, "--from", out])
    assert p.returncode == 0, p.stderr
    assert f"carried over, issued after the backup: {new}\n" in p.stdout
    assert (f"carried over, superseded after the backup: {old} (by {new}),"
            f" to be revoked at {utc(revoke_at)}\n") in p.stdout
    assert "1 scheduled revocations of superseded certificates carried " \
        "over" in p.stdout
    assert rig.db("SELECT serial, by_serial, revoke_at FROM "
                  "superseded_certs") == [(old, new, revoke_at)]
    (details,), = rig.db("SELECT details FROM audit_log WHERE action = "
                         "'superseded.restore.carry' AND object = ?", old)
    assert json.loads(details) == {"restore": "superseded after the backup",
                                   "by": new, "revoke_at": revoke_at}
    assert "audit log intact" in rig.cli("audit", "verify")
    # not before its time
    rig.server.start()
    try:
        time.sleep(2)
    finally:
        rig.server.stop()
    assert rig.db("SELECT count(*) FROM revocations") == [(0,)]
    # 72 hours on: the DV worker's minute sweep revokes it
    conf = rig.data / "certdesk.conf"
    conf.write_text(conf.read_text().replace(
        "[policy]\n", f"[policy]\nnow = {utc(revoke_at + 60)}\n", 1))
    rig.server.start()
    try:
        # (revoked, then its row goes: one after the other)
        for _ in range(300):
            if rig.db("SELECT count(*) FROM superseded_certs") == [(0,)]:
                break
            time.sleep(0.1)
        assert rig.db("SELECT reason, revoked_at FROM revocations WHERE "
                      "serial = ?", old) == [(4, revoke_at + 60)]
        assert rig.db("SELECT count(*) FROM superseded_certs") == [(0,)]
        # the CRL and OCSP say so; the new certificate stays good
        (old_der,), = rig.db("SELECT der FROM certificates WHERE "
                             "serial = ?", old)
        (new_der,), = rig.db("SELECT der FROM certificates WHERE "
                             "serial = ?", new)
        for serial_hex, der, name in ((old, old_der, "old"),
                                      (new, new_der, "new")):
            pem = x509.load_der_x509_certificate(der).public_bytes(
                serialization.Encoding.PEM).decode()
            (tmp_path / f"{name}.pem").write_text(pem)
        data = types.SimpleNamespace(path=rig.data)
        assert on_crl_of(rig.server, data, "issuing-1",
                         (tmp_path / "old.pem").read_text())
        assert not on_crl_of(rig.server, data, "issuing-1",
                             (tmp_path / "new.pem").read_text())
        for name, status in (("old", "revoked"), ("new", "good")):
            p = openssl("ocsp", "-issuer",
                        rig.data / "ca" / "issuing-1.pem", "-CAfile",
                        rig.data / "ca" / "root.pem", "-url",
                        rig.server.url("/ocsp"), "-cert",
                        tmp_path / f"{name}.pem",
                        # its clock is 72 hours ahead
                        "-validity_period", str(80 * 3600))
            text = (p.stdout + p.stderr).decode()
            assert "Response verify OK" in text, text
            assert f"{tmp_path}/{name}.pem: {status}" in text, text
            assert ("Reason: superseded" in text) == (name == "old"), text
    finally:
        rig.server.stop()
    # a backup that still has the schedule, now done: it goes, and the
    # revocation is made again
    p = run(["restore", "--data", rig.data, "--from", tmp_path / "b2.db"])
    assert p.returncode == 0, p.stderr
    assert (f"carried over, revoked after the backup: {old} (superseded by "
            f"{new}, reason 4), no longer scheduled\n") in p.stdout
    assert f"revoked again: {old} (reason 4)\n" in p.stdout
    assert rig.db("SELECT count(*) FROM superseded_certs") == [(0,)]
    assert rig.db("SELECT reason FROM revocations WHERE serial = ?",
                  old) == [(4,)]
    (details,), = rig.db("SELECT details FROM audit_log WHERE action = "
                         "'superseded.restore.carry' AND object = ? "
                         "ORDER BY seq DESC LIMIT 1", old)
    assert json.loads(details) == {"restore": "revoked after the backup",
                                   "by": new, "revoke_at": revoke_at,
                                   "revoked": 4}


def test_restore_refuses_to_lose_a_scheduled_revocation(tmp_path,
                                                        make_csr):
    """When nothing can be carried over (the replaced store records an
    older migration), a revocation scheduled after the backup would be
    lost and the old certificate would stay valid: the restore is refused,
    naming it; --drop-later-revocations restores anyway and names it as
    dropped."""
    rig, out, old, new, revoke_at = reissued_after_backup(tmp_path,
                                                          make_csr)
    live = rig.data / "certdesk.db"
    db = sqlite3.connect(live)
    db.execute("DELETE FROM schema_migrations WHERE version = "
               "(SELECT max(version) FROM schema_migrations)")
    db.commit()
    db.close()
    before = names(types.SimpleNamespace(path=rig.data))
    p = run(["restore", "--data", rig.data, "--from", out])
    assert p.returncode == 1, p.stdout
    m = message(p)
    assert f"1 certificates superseded after the backup ({old}) would " \
        "not be revoked as scheduled" in m
    assert "--drop-later-revocations" in m and "not restored" in m
    assert f"  {old} (superseded by {new}) at {utc(revoke_at)}\n" \
        in p.stderr
    assert names(types.SimpleNamespace(path=rig.data)) == before
    assert count(live, "superseded_certs") == 1
    p = run(["restore", "--data", rig.data, "--from", out,
             "--drop-later-revocations"])
    assert p.returncode == 0, p.stderr
    assert ("DROPPED: scheduled in the replaced store, unknown to the "
            f"restored one: the revocation of {old} (superseded by {new}) "
            f"at {utc(revoke_at)}\n") in p.stdout
    assert count(live, "superseded_certs") == 0
