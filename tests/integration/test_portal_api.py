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
    """(METHOD, path) of every operation in docs/openapi.yaml, read as the
    unit test reads it (paths at two spaces, methods at four)."""
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


def served_operations():
    """What the server dispatches, from its sources: the portal's API
    route table (src/portal/api.c, api_routes[]) and the back office's API
    routes (the BO_API_* paths of src/backoffice/bo_int.h, each action of
    BO_ACTIONS for the action route)."""
    api_c = (SRC / "src" / "portal" / "api.c").read_text()
    table = api_c[api_c.index("api_routes[] = {"):]
    table = table[:table.index("};")]
    ops = set(re.findall(r'\{"(GET|POST)",\s*"(/api/v1/[^"]*)"', table))
    bo_h = (SRC / "src" / "backoffice" / "bo_int.h").read_text()
    actions = re.search(r'#define BO_ACTIONS "([^"]*)"', bo_h).group(1)
    enum = bo_h[bo_h.index("enum bo_route {"):]
    enum = enum[:enum.index("};")]
    bo = re.findall(r'BO_API_\w+,?\s*/\* "(api/[^"]*)"( \(POST\))?', enum)
    assert len(bo) == enum.count("BO_API_"), "a BO_API_* route without " \
        "its path comment"
    for tail, post in bo:
        path = "/backoffice/" + tail.replace("<id>", "{id}") \
            .replace("<doc>", "{doc}")
        if "<action>" in path:
            for a in actions.split():
                ops.add(("POST" if post else "GET",
                         path.replace("<action>", a)))
        else:
            ops.add(("POST" if post else "GET", path))
    return ops


def test_openapi_is_valid():
    """The document is OpenAPI 3.0: checked by openapi-spec-validator
    where it is installed; in any case every $ref resolves and every
    {param} of a path is declared."""
    import yaml
    doc = yaml.safe_load((SRC / "docs" / "openapi.yaml").read_text())
    assert doc["openapi"].startswith("3.0.")
    try:
        from openapi_spec_validator import validate
    except ImportError:
        validate = None
    if validate is not None:
        validate(doc)

    def resolve(ref):
        node = doc
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                assert resolve(node["$ref"]) is not None, node["$ref"]
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(doc)
    for path, item in doc["paths"].items():
        for method, op in item.items():
            declared = {resolve(p["$ref"])["name"] if "$ref" in p else
                        p["name"] for p in op.get("parameters", [])}
            for name in re.findall(r"\{(\w+)\}", path):
                assert name in declared, (method, path, name)
            assert op.get("operationId") and op.get("responses")


def test_openapi_describes_what_is_served(rig):
    """docs/openapi.yaml and the routes the server dispatches are the same
    set (portal and back office), and each operation is served: called
    with a customer's token (portal) or an agent's (back office), it is
    never answered as an unknown route or a wrong method."""
    ops = openapi_operations()
    assert len(ops) == len(set(ops)), "an operation described twice"
    assert set(ops) == served_operations()
    assert ("GET", "/api/v1/me") in ops
    c = rig.client()
    # an OV order of customer A: its organisation case for the back office
    oid, case = ov_case(rig)
    agent = rig.cli("admin", "user", "add", "--email", "agent@api.test",
                    "--name", "API Agent", "--role", "agent",
                    "--password-stdin", input="agent password 1\n")
    agent_token = rig.cli("admin", "token", "add", "--user", agent,
                          "--label", "test")
    for method, path in ops:
        if path.startswith("/backoffice/api/"):
            concrete = path.replace("{id}", str(oid if "/orders/" in path
                                                 else case)) \
                .replace("{doc}", "1")
            st, h, doc = c.api(method, concrete, token=agent_token,
                               body="{}" if method == "POST" else None)
            # POST {}: 200 (take), 400 (a field is missing), 409 (not
            # possible in this state); never 404 or 405
            ok = (200,) if method == "GET" else (200, 400, 409)
            if "{doc}" in path:
                # the case has no document yet: the route's own 404
                ok = (404,)
                assert doc["detail"] == "There is no such document.", doc
        else:
            concrete = path.replace("{id}", rig.ids["a"]["starter0"]) \
                .replace("{file}", "cert.pem")
            if "/contracts/" in path:
                concrete = path.replace("{id}", rig.ids["a"]["contract"])
            if path == "/api/v1/tokens/{id}/revoke":
                # not a token of this user's (the token in use is one)
                concrete = path.replace("{id}", "424242")
            st, h, doc = c.api(method, concrete, token=rig.tokens["a"])
            # orders need a body or an existing order: a 404 here is "no
            # such order in this account", not an unknown route
            ok = (200, 400, 404, 409) if "/orders" in path else (200, 409)
            if "/acme-" in path:	# made (201); no kid or account (400)
                ok = (200, 201, 400)
            if method == "POST" and path.endswith("/acme-keys"):
                ok = (403,)	# from a browser session only
                assert doc["type"].endswith(":session-only"), doc
            if path == "/api/v1/tokens/{id}/revoke":
                ok = (404,)
            if st == 404:
                assert doc["detail"] != "There is no such API resource."
        assert st in ok, (method, path, st, doc)
        assert h["Content-Type"] in ("application/json",
                                     "application/problem+json") or \
            (path, h["Content-Type"]) == ("/api/v1/openapi.yaml",
                                          "application/yaml")


def test_api_description(rig):
    """/api/v1/ answers where the API is described, /api/v1/openapi.yaml
    is docs/openapi.yaml as built in: both without credentials, to tools
    as application/yaml, to a browser as text/plain, which it shows."""
    c = rig.client()
    st, h, doc = c.api("GET", "/api/v1/")
    assert st == 200 and h["Content-Type"] == "application/json"
    assert doc["openapi"] == "/api/v1/openapi.yaml"
    assert doc["tokens"] == "/portal/tokens"
    assert "Bearer" in doc["authentication"]
    want = (SRC / "docs" / "openapi.yaml").read_bytes()
    st, h, body = c.request("GET", "/api/v1/openapi.yaml")
    assert st == 200 and body == want
    assert h["Content-Type"] == "application/yaml"
    assert h["Vary"] == "Accept"
    st, h, body = c.request("GET", "/api/v1/openapi.yaml", headers={
        "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert st == 200 and body == want
    assert h["Content-Type"] == "text/plain; charset=utf-8"
    # also with a token, even a wrong one: nothing is read for it
    st, _, body = c.request("GET", "/api/v1/openapi.yaml", headers={
        "Authorization": "Bearer cdt_" + "0" * 64})
    assert st == 200 and body == want
    st, h, _ = c.request("POST", "/api/v1/openapi.yaml")
    assert st == 405 and h["Allow"] == "GET"
    st, h, _ = c.request("POST", "/api/v1/")
    assert st == 405
    # the rest still needs credentials
    st, _, _ = c.api("GET", "/api/v1/me")
    assert st == 401
    st, _, _ = c.api("GET", "/api/v1/openapi.json")
    assert st == 404


def ov_case(rig):
    """An OV order of customer A on its business slot, through the API;
    (order id, its case id)."""
    import json
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(
               NameOID.COMMON_NAME, "ov-api.test")]))
           .add_extension(x509.SubjectAlternativeName(
               [x509.DNSName("ov-api.test")]), critical=False)
           .sign(key, hashes.SHA256()))
    body = {"domain": "ov-api.test", "purpose": "server",
            "terms_accepted": True,
            "csr": csr.public_bytes(serialization.Encoding.PEM).decode(),
            "admin": {"name": "Ada Admin", "email": "ada@ov-api.test",
                      "phone": "+49 721 123456"},
            "tech": {"name": "Tom Tech", "email": "tom@ov-api.test",
                     "phone": "+49 721 654321"},
            "org": {"legal_name": "OV API GmbH", "country": "DE",
                    "locality": "Karlsruhe", "street": "Hauptstr. 1",
                    "postal_code": "76131"}}
    st, _, doc = rig.client().api(
        "POST", f"/api/v1/slots/{rig.ids['a']['business2']}/orders",
        token=rig.tokens["a"], body=json.dumps(body))
    assert st == 201, doc
    case = sqlite3.connect(rig.data / "certdesk.db").execute(
        "SELECT id FROM org_cases WHERE order_id = ?",
        (doc["id"],)).fetchone()
    assert case, "no organisation case for the OV order"
    return doc["id"], case[0]
