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

    # listed (no key material), revoked once, audited
    lines = datadir.cli("admin", "eab", "list", "--contract",
                        contract).splitlines()
    assert len(lines) == 2
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22} \d{4}-\d\d-\d\dT"
                            r"\d\d:\d\d:\d\dZ unused", x) for x in lines)
    assert {x.split()[0] for x in lines} == {kid, kid2}
    assert key not in "\n".join(lines)
    datadir.cli("admin", "eab", "revoke", "--contract", contract, "--kid",
                kid2)
    p = datadir.run("admin", "eab", "revoke", "--contract", contract,
                    "--kid", kid2)
    assert p.returncode == 1 and f"has no key {kid2}" in p.stderr
    p = datadir.run("admin", "eab", "revoke", "--contract", "424242",
                    "--kid", kid)
    assert p.returncode == 1
    p = datadir.run("admin", "eab", "revoke", "--contract", contract)
    assert p.returncode == 2
    assert [x.split()[0] for x in datadir.cli(
        "admin", "eab", "list", "--contract", contract).splitlines()] == \
        [kid]
    assert "acme.eab.revoke" in datadir.cli("audit", "list")
    p = datadir.run("admin", "eab", "list", "--contract", "424242")
    assert p.returncode == 1 and "no contract" in p.stderr

    # refusals
    p = datadir.run("admin", "eab", "add", "--contract", "424242")
    assert p.returncode == 1
    assert "no contract" in p.stderr
    p = datadir.run("admin", "eab", "add", "--contract", "x")
    assert p.returncode == 2
    p = datadir.run("admin", "eab", "add")
    assert p.returncode == 2


def test_eab_acme_order_in_portal(tmp_path):
    """A certificate issued over ACME to an account bound by EAB to a
    customer's contract shows in that customer's portal (overview, details,
    downloads, API) read-only, and not in another customer's."""
    from acme_client import Client, Http01, Knot, b64u, eab_binding, \
        make_csr
    from conftest import Server, free_port, run
    from cryptography import x509
    from portal_rig import Rig

    knot = Knot(tmp_path / "knot")
    http01 = Http01()
    rig = None
    try:
        rig = Rig(tmp_path)
        rig.server = Server(rig.data, rig.port, tmp_path / "serve.log",
                            extra=["--resolver", knot.resolver,
                                   "--http01-port", http01.port,
                                   "--tlsalpn01-port", free_port()])
        kid, mac64 = rig.cli("admin", "eab", "add", "--contract",
                             rig.ids["a"]["contract"]).split()
        rig.server.start()
        c = Client(rig.server.https_url("/acme/directory"),
                   rig.data / "ca" / "root.pem", None)
        mac = base64.urlsafe_b64decode(mac64 + "=")
        r = c.new_account(eab=eab_binding(kid, mac, c.dir["newAccount"],
                                          c.key))
        assert r.status == 201, r
        acct = r.headers["Location"].rsplit("/", 1)[1]
        listed = rig.cli("admin", "eab", "list", "--contract",
                         rig.ids["a"]["contract"])
        assert f"{kid} " in listed and f" account {acct} valid since " \
            in listed
        p = run(["admin", "eab", "revoke", "--data", rig.data,
                 "--contract", rig.ids["a"]["contract"], "--kid", kid])
        assert p.returncode == 1 and "in use" in p.stderr
        names = ["eab-shop.test"]
        r = c.new_order(names)
        assert r.status == 201, r
        url = r.headers["Location"]
        for az_url in r.json()["authorizations"]:
            az = c.post(az_url, None).json()
            ch = c.challenge(az, "http-01")
            http01.tokens[ch["token"]] = c.key_authz(ch["token"])
            assert c.post(ch["url"], {}).json()["status"] == "valid"
        r = c.post(url, None)
        assert r.json()["status"] == "ready", r
        csr, _ = make_csr(names)
        r = c.post(r.json()["finalize"], {"csr": b64u(csr)})
        assert r.json()["status"] == "valid", r
        chain = c.post(r.json()["certificate"], None).body.decode()
        leaf_pem = chain[:chain.index("-----END CERTIFICATE-----") +
                         len("-----END CERTIFICATE-----")]
        leaf = x509.load_pem_x509_certificate(leaf_pem.encode())
        con = sqlite3.connect(rig.data / "certdesk.db")
        rows = con.execute("SELECT id, cert_serial, contract_id FROM "
                           "orders WHERE cert_serial IS NOT NULL AND "
                           "cert_serial != ''").fetchall()
        con.close()
        mine = [r for r in rows if int(r[1], 16) == leaf.serial_number]
        assert len(mine) == 1, rows
        oid, serial = mine[0][0], mine[0][1]
        assert mine[0][2] == int(rig.ids["a"]["contract"])

        # customer A: details, downloads, API. (Listing it in the overview
        # and in GET /api/v1/orders needs the store's order listing by
        # contract to include ACME orders: see the report.)
        a = rig.login("a")
        st, _, body = a.get("/portal/overview")
        assert st == 200
        assert f'data-order="{oid}"' in body.decode()
        assert "ACME (DV)" in body.decode()
        st, _, doc = a.api("GET", "/api/v1/orders", token=rig.token("a"))
        mine = [x for x in doc["orders"] if x["id"] == oid]
        assert len(mine) == 1 and mine[0]["acme"] is True
        assert mine[0]["certificate"]["serial"] == serial
        st, _, body = a.get(f"/portal/orders/{oid}")
        assert st == 200
        text = body.decode()
        assert "ACME (DV)" in text and "eab-shop.test" in text
        assert "/setup" not in text          # no renew: the client renews
        assert 'data-state="issued"' in text
        st, _, pem = a.get(f"/portal/orders/{oid}/download/cert.pem")
        assert st == 200
        assert x509.load_pem_x509_certificate(pem) == leaf
        assert pem.decode().strip() == leaf_pem.strip()
        st, _, der = a.get(f"/portal/orders/{oid}/download/cert.der")
        assert st == 200 and x509.load_der_x509_certificate(der) == leaf
        st, _, p7 = a.get(f"/portal/orders/{oid}/download/cert.p7b")
        assert st == 200 and len(p7) > 0
        st, _, doc = a.api("GET", f"/api/v1/orders/{oid}",
                           token=rig.token("a"))
        assert st == 200, doc
        assert doc["product"] == "acme" and doc["acme"] is True
        assert doc["product_name"] == "ACME (DV)"
        assert doc["state"] == "issued"
        assert doc["certificate"]["serial"] == serial

        # customer B sees nothing of it
        b = rig.login("b")
        st, _, body = b.get("/portal/overview")
        assert st == 200 and f'data-order="{oid}"' not in body.decode()
        st, _, _ = b.get(f"/portal/orders/{oid}")
        assert st == 404
        st, _, _ = b.get(f"/portal/orders/{oid}/download/cert.pem")
        assert st == 404
        st, _, doc = b.api("GET", "/api/v1/orders", token=rig.token("b"))
        assert st == 200 and all(x["id"] != oid for x in doc["orders"])
        st, _, _ = b.api("GET", f"/api/v1/orders/{oid}",
                         token=rig.token("b"))
        assert st == 404
    finally:
        if rig is not None and rig.server.proc is not None:
            rig.server.stop()
        http01.stop()
        knot.stop()
