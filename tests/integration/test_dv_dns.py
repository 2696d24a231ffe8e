# SPDX-License-Identifier: Apache-2.0
"""Automatic domain validation of portal orders through our own
nameservers, against real DNS servers (dns_rig: Knot DNS, and BIND)
started on loopback with a TSIG key: certdesk adds
_acme-challenge.<name> TXT <random value> with an RFC 2136 update, waits
until every server answers with it, validates through its own resolver
(libunbound forwarding to the same server), checks CAA, removes the record
and issues. Also: a CAA record that forbids issuance fails the validation
and the record is removed all the same; a restart of `certdesk serve`
between the update and the check still removes the record (the
dv_dns_records row survives the restart); nothing is issued before every
name is valid; a hosted domain is one customer's, and once removed from
a contract (it changed hands) that contract's validations of it no longer
count."""
import json
import sqlite3
import time

import pytest

from conftest import LISTENING, message, run
from dns_rig import Bind, Knot, TsigKey, dnsupdate_conf, zone_text
from portal_rig import Rig
from test_portal_orders import make_csr

ZONE = "test."


def db(rig, sql, args=()):
    con = sqlite3.connect(rig.data / "certdesk.db")
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def make_rig(tmp, server_cls, extra_conf="", check_extra=()):
    """A portal rig whose [dnsupdate] points at a real primary for `test.`
    (NS ns1.test) with a TSIG key, whose resolver is that server."""
    key = TsigKey()
    dns = server_cls(tmp / "dns", {ZONE: zone_text(
        ZONE, ns=("ns1",), extra="caa-no 60 CAA 0 issue \"other-ca.example\"")},
        key=key)
    r = Rig(tmp)
    key.write_secret(r.data / "tsig.secret")
    with open(r.data / "certdesk.conf", "a") as f:
        f.write("\n" + dnsupdate_conf(
            dns, key.name, "tsig.secret",
            check=[dns] + list(check_extra), nameservers=["ns1.test"],
            extra={"propagation_timeout": "20"}))
        f.write("\n[dv]\nretry_seconds = 600\n" + extra_conf)
    r.server.extra = ["--resolver", dns.endpoint]
    r.dns = dns
    return r


def order(rig, slot, domain, names):
    _, csr = make_csr(names)
    st, _, doc = rig.client().api(
        "POST", f"/api/v1/slots/{slot}/orders", token=rig.tok,
        body=json.dumps({"domain": domain, "purpose": "hosting",
                         "terms_accepted": True, "csr": csr}))
    assert st == 201, doc
    return doc["id"]


def get(rig, path):
    st, _, doc = rig.client().api("GET", path, token=rig.tok)
    assert st == 200, doc
    return doc


def wait_state(rig, oid, want, timeout=40):
    deadline = time.monotonic() + timeout
    while True:
        doc = get(rig, f"/api/v1/orders/{oid}")
        if doc["state"] == want:
            return doc
        assert time.monotonic() < deadline, (doc, rig.server.stderr()[-3000:])
        time.sleep(0.3)


def txt(rig, name):
    return rig.dns.dig(f"_acme-challenge.{name}", "TXT")


@pytest.fixture(scope="module")
def knot_rig(tmp_path_factory):
    r = make_rig(tmp_path_factory.mktemp("dv-knot"), Knot)
    # a domain of the contract marked hosted, below the zone
    r.cli("admin", "domain", "add", "--contract", r.ids["a"]["contract"],
          "--name", "dv-a.test", "--hosted")
    r.server.start()
    r.tok = r.token("a")
    yield r
    r.server.stop()
    r.dns.stop()


def test_hosted_name_validates_and_issues(knot_rig):
    r = knot_rig
    oid = order(r, r.ids["a"]["starter0"], "dv-a.test",
                ["dv-a.test", "www.dv-a.test"])
    doc = wait_state(r, oid, "issued")
    assert doc["certificate"]["serial"]
    # the temporary records are gone, and so are their rows
    assert txt(r, "dv-a.test") == [] and txt(r, "www.dv-a.test") == []
    assert db(r, "SELECT count(*) FROM dv_dns_records") == [(0,)]
    rows = db(r, "SELECT a.identifier, a.method, a.br_version, a.evidence "
                 "FROM authorizations a JOIN order_authz x ON x.authz_id = "
                 "a.id WHERE x.order_id = ? ORDER BY a.identifier", (oid,))
    assert [(x[0], x[1], x[2]) for x in rows] == [
        ("dv-a.test", "dns-auto", "2.2.2"),
        ("www.dv-a.test", "dns-auto", "2.2.2")]
    for row in rows:
        ev = json.loads(row[3])
        assert ev["br_section"] == "3.2.2.4.7"
        assert ev["validation"]["kind"] == "dns-01"
        assert ev["validation"]["outcome"] == "valid"
        assert ev["validation"]["dnssec"] in ("insecure", "secure")
        assert ev["validation"]["dns"], "queries are in the evidence"
        assert ev["caa"]["kind"] == "caa"
    # every step is in the audit log
    actions = [a for (a,) in db(r, "SELECT action FROM audit_log WHERE "
                                   "action LIKE 'validation.%'")]
    assert actions.count("validation.dns.added") == 2
    assert actions.count("validation.dns.removed") == 2
    assert actions.count("validation.success") == 2
    # attempts with their evidence
    assert db(r, "SELECT count(*) FROM dv_attempts WHERE method = "
                 "'dns-auto' AND outcome = 'valid' AND evidence LIKE "
                 "'%_acme-challenge%'") == [(2,)]
    # no mail to the hostmaster for a hosted zone, and none asking the
    # customer to act: there was nothing to do; "issued" only
    assert db(r, "SELECT count(*) FROM mail_outbox WHERE kind = "
                 "'validation.email'") == [(0,)]
    assert db(r, "SELECT kind FROM mail_outbox WHERE ref = ?",
              (str(oid),)) == [("portal.issued",)]
    v = get(r, f"/api/v1/orders/{oid}/validations")["validations"]
    assert {x["status"] for x in v} == {"valid"}


def test_other_customers_zone_is_not_validated_for_them(knot_rig):
    """A zone on our nameservers is validated automatically only for the
    contract that holds it as a hosted domain: customer B ordering A's
    hosted domain gets no record placed for it, cannot choose dns-auto,
    and nothing is issued; B proves control as for any other name."""
    r = knot_rig
    tok_b = r.token("b")

    def api_b(method, path, body=None):
        return r.client().api(method, path, token=tok_b, body=None if
                              body is None else json.dumps(body))
    added = db(r, "SELECT count(*) FROM audit_log WHERE action = "
                  "'validation.dns.added'")
    _, csr = make_csr(["dv-a.test", "www.dv-a.test"])
    st, _, doc = api_b("POST", f"/api/v1/slots/{r.ids['b']['starter0']}/"
                       "orders", {"domain": "dv-a.test", "purpose": "hosting",
                                  "terms_accepted": True, "csr": csr})
    assert st == 201, doc
    oid = doc["id"]
    st, _, doc = api_b("GET", f"/api/v1/orders/{oid}/validations")
    assert st == 200, doc
    v = doc["validations"]
    assert len(v) == 2 and all(x["method"] != "dns-auto" for x in v), v
    for x in v:
        st, _, doc = api_b("POST", f"/api/v1/orders/{oid}/validations/"
                           "choose", {"authz_id": x["authz_id"],
                                      "method": "dns-auto"})
        assert st == 422, doc
        assert doc["type"] == "urn:certdesk:problem:method-refused", doc
        assert "hosted on our nameservers" in doc["detail"], doc
    time.sleep(2)   # the worker's rounds: still nothing placed
    assert txt(r, "dv-a.test") == [] and txt(r, "www.dv-a.test") == []
    assert db(r, "SELECT count(*) FROM dv_dns_records") == [(0,)]
    assert db(r, "SELECT count(*) FROM audit_log WHERE action = "
              "'validation.dns.added'") == added
    st, _, doc = api_b("GET", f"/api/v1/orders/{oid}")
    assert doc["state"] == "validation_pending", doc
    assert db(r, "SELECT cert_serial FROM orders WHERE id = ?",
              (oid,)) == [(None,)]


def test_hosted_name_and_caa_failure_removes_record(knot_rig):
    """A hosted domain of the contract that is a zone of its own on our
    nameservers is automatic; CAA forbids, so nothing is issued and the
    record is removed anyway."""
    r = knot_rig
    r.cli("admin", "domain", "add", "--contract", r.ids["a"]["contract"],
          "--name", "caa-no.test", "--hosted")
    st, _, _ = r.client().api("POST", f"/api/v1/slots/"
                              f"{r.ids['a']['unlimited1']}/activate",
                              token=r.tok)
    assert st in (200, 204, 409)
    oid = order(r, r.ids["a"]["unlimited1"], "caa-no.test", ["caa-no.test"])
    deadline = time.monotonic() + 40
    while True:
        v = get(r, f"/api/v1/orders/{oid}/validations")["validations"][0]
        if v.get("problem"):
            break
        assert time.monotonic() < deadline, v
        time.sleep(0.3)
    assert v["method"] == "dns-auto" and v["status"] == "pending"
    assert v["problem"] == "caa_forbidden"
    assert "CAA" in v["message"]
    # the record is gone although the validation failed
    deadline = time.monotonic() + 10
    while txt(r, "caa-no.test") != []:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert db(r, "SELECT count(*) FROM dv_dns_records") == [(0,)]
    assert get(r, f"/api/v1/orders/{oid}")["state"] == "validation_pending"
    assert db(r, "SELECT cert_serial FROM orders WHERE id = ?",
              (oid,)) == [(None,)]
    assert db(r, "SELECT count(*) FROM audit_log WHERE action = "
                 "'validation.failure'")[0][0] >= 1
    # automatic validation failed, for a reason the customer must fix:
    # now they are told, once
    body, = db(r, "SELECT body FROM mail_outbox WHERE kind = "
                  "'portal.action' AND ref = ?", (str(oid),))[0]
    assert "caa-no.test: The CAA records of caa-no.test do not allow " \
        "this certificate authority to issue for it." in body, body
    assert f"/portal/orders/{oid}\n" in body


def test_hosted_domain_changes_hands(knot_rig):
    """A hosted zone is validated automatically for one customer: B
    cannot host A's dv-a.test as well (exit 1, naming A's contract). When
    it changes hands the operator removes it from A's contract: A's
    validations of it are revoked, so a new order of A is neither
    validated automatically nor by reuse and waits for A to prove
    control; B may host it now, and B's order is validated automatically
    and issued."""
    r = knot_rig
    a, b = r.ids["a"], r.ids["b"]
    p = run(["admin", "domain", "add", "--data", r.data, "--contract",
             b["contract"], "--name", "dv-a.test", "--hosted"])
    assert p.returncode == 1, p.stderr
    assert (f"dv-a.test is a hosted domain of contract A-0001 (id "
            f"{a['contract']}) of customer Customer A <&>") in message(p)
    (did,), = db(r, "SELECT id FROM domains WHERE contract_id = ? AND "
                    "name = 'dv-a.test'", (int(a["contract"]),))
    valid = db(r, "SELECT count(*) FROM authorizations a JOIN orders o ON "
                  "o.id = a.order_id WHERE o.contract_id = ? AND "
                  "a.status = 'valid' AND a.identifier LIKE '%dv-a.test'",
               (int(a["contract"]),))[0][0]
    assert valid == 2   # test_hosted_name_validates_and_issues
    out = r.cli("admin", "domain", "remove", "--id", str(did))
    assert out == (f"removed dv-a.test from contract {a['contract']}: 0 "
                   "pending orders cancelled, 2 validations revoked")
    # A again: no record placed, nothing reused; A proves control anew
    added = db(r, "SELECT count(*) FROM audit_log WHERE action = "
                  "'validation.dns.added'")
    slot = a["unlimited3"]
    st, _, _ = r.client().api("POST", f"/api/v1/slots/{slot}/activate",
                              token=r.tok)
    assert st in (200, 204)
    oid = order(r, slot, "dv-a.test", ["dv-a.test"])
    v = get(r, f"/api/v1/orders/{oid}/validations")["validations"]
    assert len(v) == 1 and v[0]["method"] not in ("dns-auto", "reused"), v
    assert v[0]["status"] == "pending" and not v[0]["hosted"], v
    time.sleep(1)
    assert get(r, f"/api/v1/orders/{oid}")["state"] == "validation_pending"
    assert db(r, "SELECT count(*) FROM audit_log WHERE action = "
                 "'validation.dns.added'") == added
    # B hosts it now, and is validated automatically
    r.cli("admin", "domain", "add", "--contract", b["contract"], "--name",
          "dv-a.test", "--hosted")
    tok_b = r.token("b")
    st, _, _ = r.client().api("POST", f"/api/v1/slots/{b['unlimited1']}/"
                              "activate", token=tok_b)
    assert st in (200, 204)
    _, csr = make_csr(["dv-a.test"])
    st, _, doc = r.client().api(
        "POST", f"/api/v1/slots/{b['unlimited1']}/orders", token=tok_b,
        body=json.dumps({"domain": "dv-a.test", "purpose": "hosting",
                         "terms_accepted": True, "csr": csr}))
    assert st == 201, doc
    boid = doc["id"]
    deadline = time.monotonic() + 40
    while True:
        st, _, doc = r.client().api("GET", f"/api/v1/orders/{boid}",
                                    token=tok_b)
        if doc["state"] == "issued":
            break
        assert time.monotonic() < deadline, (doc, r.server.stderr()[-3000:])
        time.sleep(0.3)
    assert db(r, "SELECT method FROM authorizations a JOIN order_authz x ON "
                 "x.authz_id = a.id WHERE x.order_id = ?",
              (boid,)) == [("dns-auto",)]
    assert txt(r, "dv-a.test") == []


def test_restart_between_add_and_check_still_removes(tmp_path):
    """The second server never gets the record (it is not a secondary):
    certdesk waits; serve is stopped with the record on the primary and
    started again; the record is removed when the wait times out."""
    key = TsigKey()
    other = Knot(tmp_path / "other", {ZONE: zone_text(ZONE, ns=("ns1",))})
    try:
        r = make_rig(tmp_path, Knot, check_extra=[other])
        try:
            r.cli("admin", "domain", "add", "--contract",
                  r.ids["a"]["contract"], "--name", "dv-r.test", "--hosted")
            r.server.start()
            r.tok = r.token("a")
            oid = order(r, r.ids["a"]["starter0"], "dv-r.test",
                        ["dv-r.test", "www.dv-r.test"])
            deadline = time.monotonic() + 20
            while not (txt(r, "dv-r.test") and txt(r, "www.dv-r.test")):
                assert time.monotonic() < deadline, r.server.stderr()[-2000:]
                time.sleep(0.2)
            r.server.stop()
            # down: the records are still there, and so are their rows
            assert txt(r, "dv-r.test") and txt(r, "www.dv-r.test")
            assert db(r, "SELECT count(*) FROM dv_dns_records") == [(2,)]
            r.server.start()
            # the log holds both runs: wait for the new one's port
            deadline = time.monotonic() + 20
            while len(LISTENING.findall(r.server.stderr())) < 2:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            r.server.https_port = int(
                LISTENING.findall(r.server.stderr())[-1][0])
            deadline = time.monotonic() + 60
            while txt(r, "dv-r.test") or txt(r, "www.dv-r.test"):
                assert time.monotonic() < deadline, r.server.stderr()[-2000:]
                time.sleep(0.3)
            assert db(r, "SELECT count(*) FROM dv_dns_records") == [(0,)]
            v = get(r, f"/api/v1/orders/{oid}/validations")["validations"]
            assert all(x["status"] == "pending" for x in v)
            assert get(r, f"/api/v1/orders/{oid}")["state"] == \
                "validation_pending"
            assert db(r, "SELECT count(*) FROM dv_attempts WHERE problem = "
                         "'timeout'")[0][0] == 2
            # the customer hears of it once it timed out (not before),
            # with what they can do
            body, = db(r, "SELECT body FROM mail_outbox WHERE kind = "
                          "'portal.action' AND ref = ?", (str(oid),))[0]
            assert "dv-r.test: we could not confirm it automatically with " \
                "a temporary DNS record on our nameservers (our " \
                "nameservers did not publish the record in time)." in \
                body, body
            assert "Use another method" in body
        finally:
            r.server.stop()
            r.dns.stop()
    finally:
        other.stop()
    del key


def test_bind_hosted_name_validates_and_issues(tmp_path):
    r = make_rig(tmp_path, Bind)
    try:
        r.cli("admin", "domain", "add", "--contract", r.ids["a"]["contract"],
              "--name", "dv-b.test", "--hosted")
        r.server.start()
        r.tok = r.token("a")
        oid = order(r, r.ids["a"]["starter0"], "dv-b.test",
                    ["dv-b.test", "www.dv-b.test"])
        wait_state(r, oid, "issued")
        assert txt(r, "dv-b.test") == [] and txt(r, "www.dv-b.test") == []
        assert db(r, "SELECT count(*) FROM dv_dns_records") == [(0,)]
        assert db(r, "SELECT count(*) FROM authorizations WHERE method = "
                     "'dns-auto' AND status = 'valid'") == [(2,)]
    finally:
        r.server.stop()
        r.dns.stop()
