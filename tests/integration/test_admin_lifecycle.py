# SPDX-License-Identifier: Apache-2.0
"""The operator's admin commands over the life of what they made, with a
running `certdesk serve` and its portal: a domain taken off a contract
(`admin domain remove`) cancels the contract's orders still waiting for
it, which the customer sees on the order and in a mail."""
import json
import sqlite3

import pytest

from portal_rig import Rig
from test_portal_orders import make_csr


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    r = Rig(tmp_path_factory.mktemp("admin-lifecycle"))
    r.server.start()
    r.tok = r.token("a")
    yield r
    r.server.stop()


def db(rig, sql, args=()):
    con = sqlite3.connect(rig.data / "certdesk.db")
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def order(rig, tok, slot, domain, names):
    _, csr = make_csr(names)
    st, _, doc = rig.client().api(
        "POST", f"/api/v1/slots/{slot}/orders", token=tok,
        body=json.dumps({"domain": domain, "purpose": "hosting",
                         "terms_accepted": True, "csr": csr}))
    assert st == 201, doc
    return doc["id"]


def test_removed_domain_cancels_waiting_orders(rig):
    """Customer A's order for moved.example waits for its validation when
    the domain leaves A's contract: the order ends as rejected with the
    reason on its page and in the API, its slot is free again, A is
    mailed. Customer B's order for the same name is B's and stays."""
    a, b = rig.ids["a"], rig.ids["b"]
    did = rig.cli("admin", "domain", "add", "--contract", a["contract"],
                  "--name", "moved.example")
    oid = order(rig, rig.tok, a["starter0"], "moved.example",
                ["moved.example", "www.moved.example"])
    tok_b = rig.token("b")
    boid = order(rig, tok_b, b["starter0"], "moved.example",
                 ["moved.example", "www.moved.example"])

    out = rig.cli("admin", "domain", "remove", "--id", did)
    assert out == (f"removed moved.example from contract {a['contract']}: "
                   "1 pending order cancelled, 0 validations revoked")
    st, _, doc = rig.client().api("GET", f"/api/v1/orders/{oid}",
                                  token=rig.tok)
    assert st == 200, doc
    assert doc["state"] == "rejected", doc
    assert doc["state_help"] == (
        "The order was cancelled: moved.example is no longer a domain of "
        "your contract, so nothing is issued for it."), doc
    st, _, slot = rig.client().api("GET", f"/api/v1/slots/{a['starter0']}",
                                   token=rig.tok)
    assert slot["state"] == "unused", slot
    # the order's page says the same
    c = rig.login("a")
    st, _, page = c.get(f"/portal/orders/{oid}")
    assert st == 200
    assert b"moved.example is no longer a domain of your contract" in page
    # one mail to A, naming the domain
    rows = db(rig, "SELECT to_addr, subject, body FROM mail_outbox WHERE "
                   "kind = 'portal.cancelled' AND ref = ?", (str(oid),))
    assert [r[0] for r in rows] == [rig.emails["a"]], rows
    assert rows[0][1] == ("Your SSL certificate order for moved.example "
                          "was cancelled")
    assert ("was cancelled: moved.example is no longer a domain of your "
            "contract with us") in rows[0][2]
    assert f"/portal/orders/{oid}\n" in rows[0][2]
    # audited with the actor
    acts = db(rig, "SELECT action, actor FROM audit_log WHERE object = ? "
                   "ORDER BY seq", (f"order:{oid}",))
    assert ("portal.order.cancelled", acts[-2][1]) in acts, acts
    assert acts[-2][1].startswith("cli:")
    # B's order is B's
    st, _, doc = rig.client().api("GET", f"/api/v1/orders/{boid}",
                                  token=tok_b)
    assert doc["state"] == "validation_pending", doc
