# SPDX-License-Identifier: Apache-2.0
"""API tokens in the portal: a user makes a token on /portal/tokens (shown
once; the store keeps its SHA-256), uses it on /api/v1/, sees when it was
last used, and revokes it on the page or through the API, after which it is
refused. A token cannot make tokens, nor open the page; another user's
token cannot be revoked; labels are checked; staff make tokens for the back
office API the same way."""
import hashlib
import re

import pytest

from portal_rig import PASSWORD, Rig


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    r = Rig(tmp_path_factory.mktemp("portal-tokens"))
    r.server.start()
    yield r
    r.server.stop()


def make(c, label):
    st, _, page = c.get("/portal/tokens")
    assert st == 200
    st, h, body = c.post_form("/portal/tokens", {"csrf": c.csrf_from(page),
                                                 "label": label})
    return st, h, body.decode()


def token_of(text):
    m = re.search(r'id="api-token">(cdt_[0-9a-f]{64})</code>', text)
    assert m, "no token on the page"
    return m.group(1)


def test_make_use_revoke(rig):
    c = rig.login("a")
    st, _, body = c.get("/portal/tokens")
    assert st == 200 and 'href="/portal/tokens"' in body.decode()
    st, h, text = make(c, "deploy <script>")
    assert st == 200 and h["Cache-Control"] == "no-store"
    tok = token_of(text)
    assert "deploy &lt;script&gt;" in text and "<script>" not in text
    assert f'Authorization: Bearer {tok}' in text
    # the store keeps the hash only
    rows = rig.db("SELECT id, label, token_hash FROM api_tokens WHERE "
              "user_id = ?", int(rig.users["a"]))
    mine = [r for r in rows if r[1] == "deploy <script>"]
    assert len(mine) == 1
    tid = mine[0][0]
    assert bytes(mine[0][2]) == hashlib.sha256(tok.encode()).digest()
    assert rig.db("SELECT actor FROM audit_log WHERE action = 'token.add' "
              "AND object = ?", f"token:{tid}") == \
        [(f"portal:user/{rig.users['a']}",)]
    # shown once: the list has its label, never the text
    st, _, body = c.get("/portal/tokens")
    listed = body.decode()
    assert tok not in listed and "deploy &lt;script&gt;" in listed
    assert "never" in listed
    # it works, and its use is recorded
    api = rig.client()
    st, _, doc = api.api("GET", "/api/v1/me", token=tok)
    assert st == 200 and doc["email"] == rig.emails["a"]
    st, _, doc = api.api("GET", "/api/v1/tokens", token=tok)
    assert st == 200
    t = [x for x in doc["tokens"] if x["id"] == tid][0]
    assert t["label"] == "deploy <script>" and t["revoked"] is None
    assert t["last_used"] is not None and "cdt_" not in str(doc)
    # revoked on the page: refused from then on
    st, h, _ = c.post_form("/portal/tokens/revoke", {
        "csrf": c.page_csrf(), "id": str(tid)})
    assert st == 303 and h["Location"] == "/portal/tokens"
    st, _, body = c.get("/portal/tokens")
    assert "The token is revoked" in body.decode()
    st, _, _ = api.api("GET", "/api/v1/me", token=tok)
    assert st == 401
    st, _, _ = c.post_form("/portal/tokens/revoke", {
        "csrf": c.page_csrf(), "id": str(tid)})
    st, _, body = c.get("/portal/tokens")
    assert "There is no such token to revoke." in body.decode()


def test_api_revoke_and_limits(rig):
    c = rig.login("a")
    tok = token_of(make(c, "ci")[2])
    other = token_of(make(c, "other")[2])
    b = rig.login("b")
    b_tok = token_of(make(b, "b's")[2])
    api = rig.client()
    # a token cannot make tokens (no such operation), nor open the page
    st, h, _ = api.api("POST", "/api/v1/tokens", token=tok)
    assert st == 405 and h["Allow"] == "GET"
    st, _, _ = api.request("GET", "/portal/tokens",
                           headers={"Authorization": f"Bearer {tok}"})
    assert st == 303	# to the login page: pages need a session
    # B cannot revoke A's token
    st, _, doc = api.api("GET", "/api/v1/tokens", token=tok)
    ids = {x["label"]: x["id"] for x in doc["tokens"]}
    st, _, _ = api.api("POST", f"/api/v1/tokens/{ids['other']}/revoke",
                       token=b_tok)
    assert st == 404
    st, _, _ = api.api("GET", "/api/v1/me", token=other)
    assert st == 200
    # A revokes it through the API; then a token revokes itself
    st, _, doc = api.api("POST", f"/api/v1/tokens/{ids['other']}/revoke",
                         token=tok)
    assert st == 200 and doc == {"id": ids["other"], "status": "revoked"}
    st, _, _ = api.api("GET", "/api/v1/me", token=other)
    assert st == 401
    st, _, _ = api.api("POST", f"/api/v1/tokens/{ids['ci']}/revoke",
                       token=tok)
    assert st == 200
    st, _, _ = api.api("GET", "/api/v1/me", token=tok)
    assert st == 401
    # a session without its CSRF token
    st, _, doc = c.api("POST", f"/api/v1/tokens/{ids['ci']}/revoke")
    assert st == 403
    st, _, _ = c.post_form("/portal/tokens", {"label": "x"})
    assert st == 403


def test_labels(rig):
    c = rig.login("a2")
    before = rig.db("SELECT count(*) FROM api_tokens")
    for label, why in (("", "Please say what the token is for."),
                       ("   ", "Please say what the token is for."),
                       ("x" * 201, "Please keep it to 200 characters."),
                       ("two\nlines", "Please write it on one line."),
                       ("tab\there", "Please write it on one line.")):
        st, _, text = make(c, label)
        assert st == 422 and why in text, (label, st)
        assert 'aria-invalid="true"' in text
    assert rig.db("SELECT count(*) FROM api_tokens") == before
    st, _, text = make(c, "x" * 200)
    assert st == 200
    st, _, text = make(c, "b\u00fccher \u2013 n\u00e4chtlich")
    assert st == 200 and "b\u00fccher \u2013 n\u00e4chtlich" in text


def test_staff_token_for_the_back_office(rig):
    rig.cli("admin", "user", "add", "--email", "agent@tokens.test",
            "--name", "Agent", "--role", "agent", "--password-stdin",
            input=PASSWORD + "\n")
    s = rig.client()
    st, _, _ = s.login("agent@tokens.test", PASSWORD)
    assert st == 303
    st, _, body = s.get("/portal/tokens")
    assert st == 200 and 'href="/portal/tokens"' in body.decode()
    tok = token_of(make(s, "queue script")[2])
    api = rig.client()
    st, _, doc = api.api("GET", "/backoffice/api/cases", token=tok)
    assert st == 200, doc
    # the customer API has nothing of a staff member's
    st, _, _ = api.api("GET", "/api/v1/tokens", token=tok)
    assert st == 404
