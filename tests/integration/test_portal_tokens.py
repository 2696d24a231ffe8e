# SPDX-License-Identifier: Apache-2.0
"""API tokens in the portal: a user makes a token on /portal/tokens (shown
once; the store keeps its SHA-256), uses it on /api/v1/, sees when it was
last used, and revokes it on the page or through the API, after which it is
refused. A token cannot make tokens, nor open the page; another user's
token cannot be revoked; labels are checked; staff make tokens for the back
office API the same way, and theirs always expire (90 days by default, at
most 365): an expired token is refused as a revoked one is."""
import hashlib
import re
import sqlite3
import time

import pytest

from conftest import message, run
from portal_rig import PASSWORD, Rig, page_time


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    r = Rig(tmp_path_factory.mktemp("portal-tokens"))
    r.server.start()
    yield r
    r.server.stop()


def make(c, label, **more):
    """The form sent: (status, headers, text) of the page it leads to, the
    new token's after the redirect (POST-redirect-GET), or the form again
    (422)."""
    st, _, page = c.get("/portal/tokens")
    assert st == 200
    st, h, body = c.post_form("/portal/tokens", {"csrf": c.csrf_from(page),
                                                 "label": label, **more})
    if st != 303:
        return st, h, body.decode()
    assert re.fullmatch(r"/portal/tokens/new/\d+", h["Location"]), h
    st, h, body = c.get(h["Location"])
    return st, h, body.decode()


def token_of(text):
    m = re.search(r'id="api-token">(cdt_[0-9a-f]{64})</code>', text)
    assert m, "no token on the page"
    return m.group(1)


def test_make_use_revoke(rig):
    c = rig.login("a")
    st, _, body = c.get("/portal/tokens")
    assert st == 200 and 'href="/portal/tokens"' in body.decode()
    # the API's description, served without credentials
    assert 'href="/api/v1/openapi.yaml"' in body.decode()
    st, h, text = make(c, "deploy <script>")
    assert 'href="/api/v1/openapi.yaml"' in text
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
    # the last use is kept to the minute: a use within a minute of the
    # one recorded writes nothing, a later one records itself
    for ago, moved in ((30, False), (120, True)):
        rig.db_write("UPDATE api_tokens SET last_used_at = ? WHERE id = ?",
                     int(time.time()) - ago, tid)
        (before,), = rig.db("SELECT last_used_at FROM api_tokens WHERE "
                            "id = ?", tid)
        assert api.api("GET", "/api/v1/me", token=tok)[0] == 200
        (after,), = rig.db("SELECT last_used_at FROM api_tokens WHERE "
                           "id = ?", tid)
        assert (after != before) == moved, (ago, before, after)
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


SHOWN_ONCE = "A new token is shown only once, right after it is made"


def test_reload_makes_no_second_token(rig):
    """The form redirects to the page that shows the new token (PRG): a
    reload of that page makes no second token and does not show it again,
    but says why. Until shown, the store holds it sealed with a key only
    the session's cookie gives, for that session alone; showing it deletes
    it, and so do logging out and its end."""
    c = rig.login("a")
    count = rig.db("SELECT count(*) FROM api_tokens")[0][0]
    st, _, page = c.get("/portal/tokens")
    st, h, _ = c.post_form("/portal/tokens", {"csrf": c.csrf_from(page),
                                              "label": "reload me"})
    assert st == 303
    where = h["Location"]
    tid = rig.db("SELECT id FROM api_tokens WHERE label = 'reload me'")[0][0]
    assert where == f"/portal/tokens/new/{tid}"
    [(sealed,)] = rig.db("SELECT sealed FROM token_reveals WHERE "
                         "token_id = ?", tid)
    # another session of the same user does not get it (nor spoil it)
    other = rig.login("a")
    st, h, _ = other.get(where)
    assert st == 303 and h["Location"] == "/portal/tokens"
    assert SHOWN_ONCE in other.get("/portal/tokens")[2].decode()
    # the session that made it does, once
    st, h, body = c.get(where)
    text = body.decode()
    assert st == 200 and h["Cache-Control"] == "no-store"
    tok = token_of(text)
    assert "reload me" in text
    assert tok.encode() not in bytes(sealed) and \
        bytes.fromhex(tok[4:]) not in bytes(sealed)
    assert rig.db("SELECT count(*) FROM token_reveals WHERE token_id = ?",
                  tid) == [(0,)]
    for _ in range(2):		# reloads
        st, h, body = c.get(where)
        assert st == 303 and h["Location"] == "/portal/tokens"
        assert tok not in body.decode()
        st, _, body = c.get("/portal/tokens")
        listed = body.decode()
        assert SHOWN_ONCE in listed and tok not in listed
        assert "reload me" in listed
    assert rig.db("SELECT count(*) FROM api_tokens")[0][0] == count + 1
    st, _, doc = rig.client().api("GET", "/api/v1/me", token=tok)
    assert st == 200
    # not a page of anyone else's token, nor for a POST
    b_id = rig.db("SELECT id FROM api_tokens WHERE token_hash = ?",
                  hashlib.sha256(rig.token("b").encode()).digest())[0][0]
    assert c.get(f"/portal/tokens/new/{b_id}")[0] == 404
    assert c.get("/portal/tokens/new/999999")[0] == 404
    assert c.get("/portal/tokens/new/x")[0] == 404
    st, _, _ = c.post_form(where, {"csrf": c.page_csrf()})
    assert st == 405
    # past its few minutes: not shown, and deleted
    st, _, page = c.get("/portal/tokens")
    st, h, _ = c.post_form("/portal/tokens", {"csrf": c.csrf_from(page),
                                              "label": "too late"})
    assert st == 303
    rig.db_write("UPDATE token_reveals SET expires_at = ?",
                 int(time.time()) - 1)
    st, h2, _ = c.get(h["Location"])
    assert st == 303 and h2["Location"] == "/portal/tokens"
    assert rig.db("SELECT count(*) FROM token_reveals") == [(0,)]
    # logging out ends what the session has not been shown
    st, _, page = c.get("/portal/tokens")
    st, h, _ = c.post_form("/portal/tokens", {"csrf": c.csrf_from(page),
                                              "label": "logged out"})
    assert st == 303
    assert rig.db("SELECT count(*) FROM token_reveals") == [(1,)]
    st, _, _ = c.post_form("/portal/logout", {"csrf": c.csrf_from(page)})
    assert st == 303
    assert rig.db("SELECT count(*) FROM token_reveals") == [(0,)]


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
        # the title says so first, the focus is on why (WCAG 3.3.1)
        assert "<title>Error: " in text
        assert ('id="t-label-error" role="alert" tabindex="-1" '
                'autofocus>') in text
    assert rig.db("SELECT count(*) FROM api_tokens") == before
    st, _, text = make(c, "x" * 200)
    assert st == 200 and "<title>Error: " not in text
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


def expires_at(rig, tok):
    return rig.db("SELECT expires_at FROM api_tokens WHERE token_hash = ?",
                  hashlib.sha256(tok.encode()).digest())[0][0]


def assert_ends_in(rig, tok, days, t0):
    end = expires_at(rig, tok)
    assert t0 + days * 86400 <= end <= time.time() + days * 86400, end


def test_staff_tokens_expire(rig):
    """A staff member picks when the token expires (90 days preselected,
    at most a year); the list shows it; past it the token is refused as a
    revoked one is, and listed as expired. A customer's token does not
    expire unless asked for."""
    rig.cli("admin", "user", "add", "--email", "agent2@tokens.test",
            "--name", "Agent 2", "--role", "agent", "--password-stdin",
            input=PASSWORD + "\n")
    s = rig.client()
    assert s.login("agent2@tokens.test", PASSWORD)[0] == 303
    st, _, body = s.get("/portal/tokens")
    page = body.decode()
    assert '<select id="t-days" name="days"' in page
    assert '<option value="90" selected>in 90 days</option>' in page
    assert '<option value="365">' in page and 'value="366"' not in page
    t0 = int(time.time())
    st, _, text = make(s, "a week", days="7")
    assert st == 200
    week = token_of(text)
    assert_ends_in(rig, week, 7, t0)
    end = page_time(expires_at(rig, week))
    assert re.search(r'id="api-token-expires">' + end, text), text
    # no choice sent: the default, never "never"
    st, _, text = make(s, "default")
    default = token_of(text)
    assert_ends_in(rig, default, 90, t0)
    tid = rig.db("SELECT id FROM api_tokens WHERE token_hash = ?",
                 hashlib.sha256(default.encode()).digest())[0][0]
    details = rig.db("SELECT details FROM audit_log WHERE action = "
                     "'token.add' AND object = ?", f"token:{tid}")[0][0]
    assert '"expires":"' + time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at(rig, default))) \
        in details, details
    for bad in ("366", "0", "-1", "abc", "1e3", "9" * 20):
        st, _, text = make(s, "too long", days=bad)
        assert st == 422 and "Please choose when the token expires: in 1 " \
            "to 365 days." in text, (bad, st)
    assert rig.db("SELECT count(*) FROM api_tokens WHERE label = "
                  "'too long'") == [(0,)]
    st, _, body = s.get("/portal/tokens")
    listed = body.decode()
    assert '<th scope="col">Expires</th>' in listed
    assert f"<td>{end}" in listed

    # refused once expired, as a revoked token is
    api = rig.client()
    assert api.api("GET", "/backoffice/api/cases", token=week)[0] == 200
    revoked = token_of(make(s, "revoked")[2])
    rid = rig.db("SELECT id FROM api_tokens WHERE label = 'revoked'")[0][0]
    page = s.get("/portal/tokens")[2]
    st, _, _ = s.post_form("/portal/tokens/revoke", {
        "csrf": s.csrf_from(page), "id": str(rid)})
    assert st == 303
    gone = api.api("GET", "/backoffice/api/cases", token=revoked)
    db = sqlite3.connect(rig.data / "certdesk.db")
    with db:
        db.execute("UPDATE api_tokens SET expires_at = ? WHERE "
                   "token_hash = ?", (int(time.time()) - 1,
                                      hashlib.sha256(week.encode()).digest()))
    db.close()
    expired = api.api("GET", "/backoffice/api/cases", token=week)
    assert expired[0] == gone[0] == 404 and expired[2] == gone[2]
    st, _, body = s.get("/portal/tokens")
    row = re.search(r"<tr><td>a week</td>.*?</tr>", body.decode(), re.S)
    assert row and "state-expired\">Expired</span>" in row.group(0)
    assert "Revoke" not in row.group(0)

    # a customer's: no end unless asked for, none shown as "never"
    c = rig.login("a2")
    st, _, body = c.get("/portal/tokens")
    assert 'name="days"' not in body.decode()
    st, _, text = make(c, "no end")
    assert st == 200 and 'id="api-token-expires">never<' in text
    forever = token_of(text)
    assert expires_at(rig, forever) is None
    st, _, doc = api.api("GET", "/api/v1/tokens", token=forever)
    mine = [t for t in doc["tokens"] if t["label"] == "no end"]
    assert mine[0]["expires"] is None
    t0 = int(time.time())
    month = token_of(make(c, "a month", days="30")[2])
    assert_ends_in(rig, month, 30, t0)
    st, _, doc = api.api("GET", "/api/v1/tokens", token=forever)
    mine = [t for t in doc["tokens"] if t["label"] == "a month"]
    assert mine[0]["expires"] == time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires_at(rig, month)))
    # expired: 401 on the customer API, as a revoked token gets
    assert api.api("GET", "/api/v1/me", token=month)[0] == 200
    db = sqlite3.connect(rig.data / "certdesk.db")
    with db:
        db.execute("UPDATE api_tokens SET expires_at = ? WHERE "
                   "token_hash = ?", (int(time.time()),
                                      hashlib.sha256(month.encode()).digest()))
    db.close()
    st, h, _ = api.api("GET", "/api/v1/me", token=month)
    assert st == 401 and "invalid_token" in h["WWW-Authenticate"]


def test_cli_token_expiry(rig):
    """`admin token add`: a staff member's token expires in 90 days, or
    after --days (1 to 365); a customer's only with --days."""
    agent = rig.cli("admin", "user", "add", "--email", "agent3@tokens.test",
                    "--name", "Agent 3", "--role", "agent",
                    "--password-stdin", input=PASSWORD + "\n")
    t0 = int(time.time())
    tok = rig.cli("admin", "token", "add", "--user", agent)
    assert_ends_in(rig, tok, 90, t0)
    tok = rig.cli("admin", "token", "add", "--user", agent, "--days", "365")
    assert_ends_in(rig, tok, 365, t0)
    tok = rig.cli("admin", "token", "add", "--user", rig.users["a"])
    assert expires_at(rig, tok) is None
    tok = rig.cli("admin", "token", "add", "--user", rig.users["a"],
                  "--days", "1")
    assert_ends_in(rig, tok, 1, t0)
    before = rig.db("SELECT count(*) FROM api_tokens")
    for bad in ("0", "366", "x", "-5"):
        p = run(["admin", "token", "add", "--data", rig.data, "--user",
                 agent, "--days", bad])
        assert p.returncode == 2, (bad, p.stderr)
        assert "--days: " in message(p) and "is not 1 to 365" in \
            message(p)
    assert rig.db("SELECT count(*) FROM api_tokens") == before
