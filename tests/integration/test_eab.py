# SPDX-License-Identifier: Apache-2.0
"""`certdesk admin eab add`: an External Account Binding key (RFC 8555
7.3.4) for a contract: a random key id and a 32-byte HMAC key printed once
(base64url), stored for MAC verification, audited without the key."""
import base64
import re
import sqlite3


def test_eab_add(datadir):
    cust = datadir.cli("admin", "customer", "add", "--name", "E").strip()
    contract = datadir.cli("admin", "contract", "add", "--customer", cust,
                           "--number", "E-1").strip()
    out = datadir.cli("admin", "eab", "add", "--contract", contract)
    kid, key = out.split()
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", kid)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", key)
    raw = base64.urlsafe_b64decode(key + "=")
    assert len(raw) == 32
    # a second key is another one
    kid2, key2 = datadir.cli("admin", "eab", "add", "--contract",
                             contract).split()
    assert kid2 != kid and key2 != key

    con = sqlite3.connect(datadir.path / "certdesk.db")
    rows = con.execute("SELECT kid, contract_id, hmac_key, account_id "
                       "FROM eab_keys ORDER BY created_at, kid").fetchall()
    con.close()
    assert {r[0] for r in rows} == {kid, kid2}
    stored = {r[0]: r for r in rows}
    assert stored[kid][1] == int(contract)
    assert bytes(stored[kid][2]) == raw
    assert stored[kid][3] is None

    audit = datadir.cli("audit", "list")
    assert kid in audit and "acme.eab.create" in audit
    assert key not in audit

    # refusals
    p = datadir.run("admin", "eab", "add", "--contract", "424242")
    assert p.returncode == 1
    assert "no contract" in p.stderr
    p = datadir.run("admin", "eab", "add", "--contract", "x")
    assert p.returncode == 2
    p = datadir.run("admin", "eab", "add")
    assert p.returncode == 2
