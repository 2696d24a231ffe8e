# SPDX-License-Identifier: Apache-2.0
"""The audit log: an entry for every issuance, revocation, key operation and
admin change, hash-chained; `certdesk audit verify` passes on an honest log
and names the entry after an edit or a deletion made around the database's
own guards (the triggers dropped with sqlite3)."""
import sqlite3

import pytest


def entries(datadir):
    out = datadir.cli("audit", "list")
    return [ln.split("\t") for ln in out.splitlines() if ln.strip()]


@pytest.fixture
def busy(datadir, make_csr):
    """A data directory after issuance, revocation and admin changes."""
    org = datadir.customer_org()
    c1, _ = datadir.issue("dv", make_csr("p256", ["a1.example.com"]))
    datadir.issue("ov", make_csr("p384", ["a2.example.com"]), "--org", org)
    from cryptography import x509
    serial = format(x509.load_pem_x509_certificate(c1.encode())
                    .serial_number, "x")
    datadir.cli("ca", "revoke", "--serial", serial, "--reason",
                "affiliationChanged")
    return datadir


def test_every_operation_is_audited(busy):
    rows = entries(busy)
    seqs = [int(r[0]) for r in rows]
    assert seqs == list(range(1, len(rows) + 1))
    actions = " ".join(r[3] for r in rows)
    objects = " ".join(r[4] for r in rows)
    for word in ("customer", "org"):
        assert word in actions, actions
    assert "issue" in actions and "revoke" in actions, actions
    assert "key" in actions or "key" in objects, actions
    for r in rows:
        assert len(r) == 7, r
        assert len(r[6]) == 64  # SHA-256 hex
    admin_rows = [r for r in rows if r[3] in ("customer.add", "org.add")]
    assert admin_rows and all(r[2].startswith("cli:") for r in admin_rows)
    # --from
    tail = busy.cli("audit", "list", "--from", str(len(rows)))
    assert len(tail.splitlines()) == 1
    out = busy.cli("audit", "verify")
    assert out.strip() == f"audit log intact: {len(rows)} entries"


def db(datadir):
    return sqlite3.connect(datadir.path / "certdesk.db")


def test_edit_is_detected(busy):
    n = len(entries(busy))
    victim = 3
    con = db(busy)
    # the guard works: an UPDATE is refused by the database
    with pytest.raises(sqlite3.DatabaseError):
        with con:
            con.execute("UPDATE audit_log SET details = '{}' WHERE seq = ?",
                        (victim,))
    with con:
        con.execute("DROP TRIGGER audit_log_no_update")
        con.execute("UPDATE audit_log SET details = '{\"forged\":1}' "
                    "WHERE seq = ?", (victim,))
    con.close()
    p = busy.run("audit", "verify")
    assert p.returncode == 1
    assert f"audit log broken at entry {victim}" in p.stdout + p.stderr
    assert n > victim


def test_delete_last_is_detected(busy):
    n = len(entries(busy))
    con = db(busy)
    with con:
        con.execute("DROP TRIGGER audit_log_no_delete")
        con.execute("DELETE FROM audit_log WHERE seq = ?", (n,))
    con.close()
    p = busy.run("audit", "verify")
    assert p.returncode == 1
    assert "audit log broken at entry" in p.stdout + p.stderr


def test_delete_middle_is_detected(busy):
    con = db(busy)
    with con:
        con.execute("DROP TRIGGER audit_log_no_delete")
        con.execute("DELETE FROM audit_log WHERE seq = 2")
    con.close()
    p = busy.run("audit", "verify")
    assert p.returncode == 1
    assert "audit log broken at entry 2" in p.stdout + p.stderr
