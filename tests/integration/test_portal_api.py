# SPDX-License-Identifier: Apache-2.0
"""The portal's JSON API (/api/v1/) over HTTPS: API tokens (good, malformed,
unknown, revoked), the session cookie with the CSRF header, every route
with good input and with another customer's ids (404, like ids that do not
exist), RFC 7807 problems, and docs/openapi.yaml against what the server
answers."""
import os
import pathlib
import re
import sqlite3

import pytest

from portal_rig import Rig

SRC = pathlib.Path(os.environ.get("CERTDESK_SRCDIR",
                                  pathlib.Path(__file__).parents[2]))


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    r = Rig(tmp_path_factory.mktemp("portal-api"))
    r.tokens = {"a": r.token("a"), "b": r.token("b")}
    r.server.start()
    yield r
    r.server.stop()


def problem(st, h, doc, status):
    assert st == status
    assert h["Content-Type"] == "application/problem+json"
    assert doc["status"] == status
    assert doc["type"].startswith("urn:certdesk:problem:")
    assert doc["title"]
    text = repr(doc).lower()
    for bad in ("sqlite", "rc_", ".c:", "traceback"):
        assert bad not in text


def test_token_is_printed_once_and_stored_hashed(rig):
    tok = rig.tokens["a"]
    assert re.fullmatch(r"cdt_[0-9a-f]{64}", tok)
    assert tok.encode() not in (rig.data / "certdesk.db").read_bytes()


def test_me_with_token(rig):
    c = rig.client()
    st, h, doc = c.api("GET", "/api/v1/me", token=rig.tokens["a"])
    assert st == 200 and h["Content-Type"] == "application/json"
    assert doc["email"] == rig.emails["a"]
    assert doc["role"] == "customer"
    assert str(doc["customer_id"]) == rig.ids["a"]["customer"]
    assert "csrf_token" not in doc


def test_bad_tokens(rig):
    c = rig.client()
    for tok in ("x", "cdt_" + "g" * 64, "cdt_" + "0" * 64,
                rig.tokens["a"].upper(), rig.tokens["a"] + "0"):
        st, h, doc = c.api("GET", "/api/v1/me", token=tok)
        problem(st, h, doc, 401)
        assert "invalid_token" in h["WWW-Authenticate"]
    st, h, doc = c.api("GET", "/api/v1/me")
    problem(st, h, doc, 401)
    assert h["WWW-Authenticate"].startswith("Bearer")
    st, h, doc = c.request("GET", "/api/v1/me",
                           headers={"Authorization": "Basic YTpi"})[:3]
    assert st == 401


def test_revoked_token(rig):
    tok = rig.token("a2")
    c = rig.client()
    assert c.api("GET", "/api/v1/me", token=tok)[0] == 200
    db = sqlite3.connect(rig.data / "certdesk.db")
    tid = db.execute("SELECT max(id) FROM api_tokens").fetchone()[0]
    db.close()
    rig.cli("admin", "token", "revoke", "--id", str(tid))
    st, h, doc = c.api("GET", "/api/v1/me", token=tok)
    problem(st, h, doc, 401)


def test_contracts_only_own(rig):
    c = rig.client()
    st, _, doc = c.api("GET", "/api/v1/contracts", token=rig.tokens["a"])
    assert st == 200
    numbers = [k["number"] for k in doc["contracts"]]
    assert numbers == ["A-0001"]
    slots = doc["contracts"][0]["slots"]
    names = {s["product_name"] for s in slots}
    assert {"SSL Starter (DV)", "SSL Unlimited (DV)",
            "SSL Business (OV)"} <= names
    for s in slots:
        want = ["activate"] if s["product"] == "unlimited" and \
            s["state"] == "unused" else ["setup"] \
            if s["state"] in ("unused", "active") else []
        assert s["actions"] == want
    kid = rig.ids["a"]["contract"]
    st, _, doc = c.api("GET", f"/api/v1/contracts/{kid}",
                       token=rig.tokens["a"])
    assert st == 200 and doc["number"] == "A-0001"
    sid = rig.ids["a"]["starter0"]
    st, _, doc = c.api("GET", f"/api/v1/slots/{sid}", token=rig.tokens["a"])
    assert st == 200
    assert doc["product"] == "starter" and doc["state"] == "unused"


def test_other_customers_ids_not_found(rig):
    c = rig.client()
    b = rig.ids["b"]
    for method, path in (
            ("GET", f"/api/v1/contracts/{b['contract']}"),
            ("GET", f"/api/v1/slots/{b['starter0']}"),
            ("POST", f"/api/v1/slots/{b['unlimited1']}/activate"),
            ("GET", "/api/v1/contracts/999999"),
            ("GET", "/api/v1/slots/999999"),
            ("POST", "/api/v1/slots/999999/activate")):
        st, h, doc = c.api(method, path, token=rig.tokens["a"])
        problem(st, h, doc, 404)
    # what B sees of its own: unchanged
    st, _, doc = c.api("GET", f"/api/v1/slots/{b['unlimited1']}",
                       token=rig.tokens["b"])
    assert st == 200 and doc["state"] == "unused"


def test_activate_with_token(rig):
    c = rig.client()
    slot = rig.ids["a"]["unlimited3"]
    st, _, doc = c.api("POST", f"/api/v1/slots/{slot}/activate",
                       token=rig.tokens["a"])
    assert st == 200 and doc["state"] == "active"
    assert doc["actions"] == ["setup"]
    st, h, doc = c.api("POST", f"/api/v1/slots/{slot}/activate",
                       token=rig.tokens["a"])
    problem(st, h, doc, 409)
    assert "already" in doc["detail"]
    starter = rig.ids["a"]["starter0"]
    st, h, doc = c.api("POST", f"/api/v1/slots/{starter}/activate",
                       token=rig.tokens["a"])
    problem(st, h, doc, 409)


def test_session_needs_csrf_header(rig):
    c = rig.login("b")
    st, _, me = c.api("GET", "/api/v1/me")
    assert st == 200 and len(me["csrf_token"]) == 64
    slot = rig.ids["b"]["unlimited1"]
    path = f"/api/v1/slots/{slot}/activate"
    st, h, doc = c.api("POST", path)
    problem(st, h, doc, 403)
    st, h, doc = c.api("POST", path, csrf="0" * 64)
    problem(st, h, doc, 403)
    st, _, doc = c.api("GET", f"/api/v1/slots/{slot}")
    assert doc["state"] == "unused"
    st, _, doc = c.api("POST", path, csrf=me["csrf_token"])
    assert st == 200 and doc["state"] == "active"


def test_unknown_routes_and_methods(rig):
    c = rig.client()
    st, h, doc = c.api("GET", "/api/v1/nothing", token=rig.tokens["a"])
    problem(st, h, doc, 404)
    st, h, doc = c.api("GET", "/api/v1/slots/abc", token=rig.tokens["a"])
    problem(st, h, doc, 404)
    sid = rig.ids["a"]["starter0"]
    st, h, doc = c.api("POST", f"/api/v1/slots/{sid}", token=rig.tokens["a"])
    problem(st, h, doc, 405)
    assert h["Allow"] == "GET"
    st, h, doc = c.api("GET", f"/api/v1/slots/{sid}/activate",
                       token=rig.tokens["a"])
    problem(st, h, doc, 405)
    assert h["Allow"] == "POST"


def openapi_operations():
    ops, path, in_paths = [], None, False
    for line in (SRC / "docs" / "openapi.yaml").read_text().splitlines():
        if line == "paths:":
            in_paths = True
            continue
        if not in_paths:
            continue
        if line and not line.startswith((" ", "#")):
            break
        m = re.match(r"^  (/\S+):$", line)
        if m:
            path = m.group(1)
        m = re.match(r"^    (get|post|put|patch|delete):$", line)
        if m:
            ops.append((m.group(1).upper(), path))
    return ops


def test_openapi_describes_what_is_served(rig):
    """Each operation of docs/openapi.yaml is served (the unit test
    tests/unit/portal/test_api.c compares the route table both ways)."""
    ops = openapi_operations()
    assert ("GET", "/api/v1/me") in ops
    assert len(ops) == 10
    c = rig.client()
    ids = {"{id}": rig.ids["a"]["starter0"]}
    for method, path in ops:
        concrete = path.replace("{id}", ids["{id}"]).replace("{file}",
                                                             "cert.pem")
        if "/contracts/" in path:
            concrete = path.replace("{id}", rig.ids["a"]["contract"])
        st, h, doc = c.api(method, concrete, token=rig.tokens["a"])
        # served (not 405): orders need a body or an existing order
        ok = (200, 400, 404, 409) if "/orders" in path else (200, 409)
        assert st in ok, (method, path, st, doc)
        assert h["Content-Type"] in ("application/json",
                                     "application/problem+json")
