# SPDX-License-Identifier: Apache-2.0
"""The operator's admin commands over the life of what they made, with a
running `certdesk serve` and its portal: a domain taken off a contract
(`admin domain remove`) cancels the contract's orders still waiting for
it, which the customer sees on the order and in a mail; a user disabled
(`admin user disable`) is out at once, sessions and API tokens included,
until enabled again; a new password (`admin user password`) ends the
user's sessions."""
import json
import sqlite3

import pytest

from conftest import message, run
from portal_rig import PASSWORD, Rig
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


def new_user(rig, who, email):
    uid = rig.cli("admin", "user", "add", "--customer",
                  rig.ids["a"]["customer"], "--email", email, "--name",
                  who.title(), "--role", "customer", "--password-stdin",
                  input=PASSWORD + "\n")
    rig.users[who] = uid
    rig.emails[who] = email.lower()
    return uid


def logged_out(c):
    """The client's session no longer counts: pages send it to the login,
    the API answers 401."""
    st, h, _ = c.get("/portal/")
    assert st == 303 and h["Location"] == "/portal/login", st
    st, _, _ = c.api("GET", "/api/v1/me")
    assert st == 401


def test_disabled_user_is_locked_out(rig):
    """`admin user disable`: the user's sessions end at once, their API
    tokens are revoked, and they cannot log in (with the right password
    they are told why; with a wrong one nothing more than anyone else);
    `admin list users` says so; no new token is made for them. `admin
    user enable` lets them log in again; the revoked tokens stay revoked.
    Both audited; a disabled user's session that outlived the command
    (a login that raced it) counts for nothing either."""
    uid = new_user(rig, "dora", "Dora@a.example")
    c1, c2 = rig.login("dora"), rig.login("dora")
    tok = rig.token("dora")
    assert rig.client().api("GET", "/api/v1/me", token=tok)[0] == 200
    assert c1.get("/portal/")[0] == 200

    out = rig.cli("admin", "user", "disable", "--id", uid)
    assert out == (f"disabled user {uid} (Dora@a.example): 2 sessions "
                   "ended, 1 API token revoked")
    logged_out(c1)
    logged_out(c2)
    assert rig.client().api("GET", "/api/v1/me", token=tok)[0] == 401
    st, _, body = rig.client().login(rig.emails["dora"], PASSWORD)
    assert st == 403
    assert b"This account is disabled. Ask your administrator to enable " \
        b"it again." in body
    st, _, body = rig.client().login(rig.emails["dora"], "wrong password!")
    assert st == 401 and b"Wrong email or password." in body
    assert b"disabled" not in body
    users = [ln.split("\t") for ln in rig.cli("admin", "list",
                                               "users").splitlines()]
    assert [u[4] for u in users if u[0] == uid] == ["disabled"]
    assert {u[4] for u in users if u[0] != uid} == {"enabled"}
    p = run(["admin", "token", "add", "--data", rig.data, "--user", uid])
    assert p.returncode == 1
    assert message(p) == (f"certdesk: admin token add: user {uid} is "
                          "disabled (admin user enable first)")
    p = run(["admin", "user", "disable", "--data", rig.data, "--id", uid])
    assert p.returncode == 1
    assert message(p) == (f"certdesk: admin user disable: user {uid} "
                          "(Dora@a.example) is disabled already")

    out = rig.cli("admin", "user", "enable", "--id", uid)
    assert out == (f"enabled user {uid} (Dora@a.example); API tokens "
                   "revoked before stay revoked")
    c3 = rig.login("dora")
    assert c3.get("/portal/")[0] == 200
    assert rig.client().api("GET", "/api/v1/me", token=tok)[0] == 401
    logged_out(c1)
    p = run(["admin", "user", "enable", "--data", rig.data, "--id", uid])
    assert p.returncode == 1
    assert message(p).endswith("(Dora@a.example) is not disabled")
    acts = rig.db("SELECT action, actor, details FROM audit_log WHERE "
                  "object = ? ORDER BY seq", f"user:{uid}")
    assert [a[0] for a in acts] == ["user.add", "user.disable",
                                    "user.enable"], acts
    assert acts[1][1].startswith("cli:")
    assert json.loads(acts[1][2]) == {
        "id": int(uid), "email": "Dora@a.example", "sessions_ended": 2,
        "tokens_revoked": 1}

    # a session that outlived the command is refused all the same
    rig.db_write("UPDATE users SET disabled_at = 1 WHERE id = ?", int(uid))
    logged_out(c3)
    rig.db_write("UPDATE users SET disabled_at = NULL WHERE id = ?",
                 int(uid))

    for args, code in ((["--id", "999999"], 1), (["--id", "0"], 2),
                       (["--id", "x"], 2), ([], 2)):
        for what in ("disable", "enable"):
            p = run(["admin", "user", what, "--data", rig.data] + args)
            assert p.returncode == code, (what, args, p.stderr)
    p = run(["admin", "user", "disable", "--data", rig.data, "--id",
             "999999"])
    assert message(p) == ("certdesk: admin user disable: no user with id "
                          "999999")


def test_password_reset(rig):
    """`admin user password --password-stdin`: the new password works and
    the old one no longer does; the user's sessions end (whoever knew the
    old password is out), their API tokens stay; the login throttle's
    count for the account starts again. Audited without the password or
    its hash; a short password changes nothing; the password never comes
    from the command line."""
    uid = new_user(rig, "emil", "emil@a.example")
    c = rig.login("emil")
    tok = rig.token("emil")
    for _ in range(2):
        st, _, _ = rig.client().login(rig.emails["emil"], "not it at all")
        assert st == 401
    assert rig.db("SELECT failures FROM login_failures WHERE key = ?",
                  "acct:emil@a.example") == [(2,)]
    new = "a new secret phrase"
    out = rig.cli("admin", "user", "password", "--id", uid,
                  "--password-stdin", input=new + "\n")
    assert out == f"new password for user {uid} (emil@a.example): 1 " \
        "session ended"
    logged_out(c)
    assert rig.db("SELECT count(*) FROM login_failures WHERE key = ?",
                  "acct:emil@a.example") == [(0,)]
    assert rig.client().api("GET", "/api/v1/me", token=tok)[0] == 200
    st, _, _ = rig.client().login(rig.emails["emil"], PASSWORD)
    assert st == 401
    c = rig.login("emil", new)
    assert c.get("/portal/")[0] == 200
    (h,), = rig.db("SELECT pw_hash FROM users WHERE id = ?", int(uid))
    assert h.startswith("$argon2id$")
    acts = rig.db("SELECT action, details FROM audit_log WHERE object = ? "
                  "AND action = 'user.password'", f"user:{uid}")
    assert len(acts) == 1
    assert json.loads(acts[0][1]) == {"id": int(uid),
                                      "email": "emil@a.example",
                                      "sessions_ended": 1}
    audit = rig.cli("audit", "list")
    assert new not in audit and "argon2" not in audit

    # a short one: refused, nothing changes
    p = run(["admin", "user", "password", "--data", rig.data, "--id", uid,
             "--password-stdin"], input="short\n")
    assert p.returncode == 1
    assert "at least 8 characters" in message(p)
    assert c.get("/portal/")[0] == 200
    assert rig.db("SELECT pw_hash FROM users WHERE id = ?",
                  int(uid)) == [(h,)]
    # only from stdin; an unknown user
    p = run(["admin", "user", "password", "--data", rig.data, "--id", uid])
    assert p.returncode == 2
    assert "--password-stdin is required" in message(p)
    p = run(["admin", "user", "password", "--data", rig.data, "--id", uid,
             "--password", new])
    assert p.returncode == 2
    p = run(["admin", "user", "password", "--data", rig.data, "--id",
             "999999", "--password-stdin"], input=new + "\n")
    assert p.returncode == 1
    assert message(p) == ("certdesk: admin user password: no user with id "
                          "999999")
