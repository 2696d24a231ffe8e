# SPDX-License-Identifier: Apache-2.0
"""The portal's pages over HTTPS as a browser uses them: login (good, bad,
throttled, CSRF-protected, back to the page asked for but never to
another site), the session cookie's flags, rotation at login, logout that
ends the session on the server, the portfolio with the products' names and
the gear menu, "Activate now" guarded by the CSRF token and the Origin
check, another customer's ids answered 404, the security headers, error
pages without internals, static assets with caching."""
import hashlib
import html
import re
import sqlite3
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest

from portal_rig import PASSWORD, Client, Rig

SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options",
                    "Referrer-Policy", "X-Content-Type-Options")


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    r = Rig(tmp_path_factory.mktemp("portal-web"))
    r.server.start()
    yield r
    r.server.stop()


def slot_state(rig, slot):
    db = sqlite3.connect(rig.data / "certdesk.db")
    try:
        return db.execute("SELECT state FROM slots WHERE id = ?",
                          (int(slot),)).fetchone()[0]
    finally:
        db.close()


def test_root_and_portal_redirect_to_login(rig):
    c = rig.client()
    st, h, _ = c.get("/")
    assert st == 303 and h["Location"] == "/portal/"
    st, h, _ = c.get("/portal/")
    assert st == 303 and h["Location"] == "/portal/login"


def test_login_page(rig):
    c = rig.client()
    st, h, body = c.get("/portal/login")
    assert st == 200
    assert h["Content-Type"].startswith("text/html")
    assert b'type="password"' in body and b"Log in" in body
    assert b"<script" not in body and b"style=" not in body


def test_login_good_sets_session_cookie(rig):
    c = rig.client()
    st, h, _ = c.login(rig.emails["a"], PASSWORD)
    assert st == 303 and h["Location"] == "/portal/"
    sc = [s for s in c.set_cookies if s.startswith("__Host-certdesk=")]
    assert len(sc) == 1
    flags = [f.strip() for f in sc[0].split(";")]
    assert "HttpOnly" in flags and "Secure" in flags
    assert "SameSite=Strict" in flags and "Path=/" in flags
    assert not any(f.lower().startswith("domain") for f in flags)
    sid = c.cookies["__Host-certdesk"]
    assert len(sid) == 64
    # the store keeps only the SHA-256 of the id
    raw = (rig.data / "certdesk.db").read_bytes()
    assert sid.encode() not in raw
    db = sqlite3.connect(rig.data / "certdesk.db")
    hashes = [bytes(r[0]) for r in db.execute("SELECT id_hash FROM sessions")]
    db.close()
    assert hashlib.sha256(sid.encode()).digest() in hashes


def login_via(c, login_path, email, fields=None):
    """Logs in from the login page at login_path (its hidden fields, or
    fields instead); the reply."""
    st, _, body = c.get(login_path)
    assert st == 200
    form = dict(re.findall(rb'<input type="hidden" name="([a-z]+)" '
                           rb'value="([^"]*)">', body))
    form = {k.decode(): html.unescape(v.decode()) for k, v in form.items()}
    form.update(email=email, password=PASSWORD)
    form.update(fields or {})
    return c.post_form("/portal/login", form)


def test_login_leads_back_to_the_page_asked_for(rig):
    """A logged-out visit to a portal page (the link of a mail) goes to
    the login page, and the login back to that page: only a path of this
    site under /portal/, never another site (no open redirect)."""
    c = rig.client()
    st, h, _ = c.get("/portal/orders/5")
    assert st == 303 and h["Location"] == "/portal/login?next=/portal/orders/5"
    st, h, _ = c.get("/portal/overview?before=7&x=1")
    assert st == 303 and h["Location"] == \
        "/portal/login?next=/portal/overview%3Fbefore%3D7%26x%3D1"
    st, h, _ = login_via(c, h["Location"], rig.emails["a"])
    assert st == 303 and h["Location"] == "/portal/overview?before=7&x=1"
    # logged in already: the login page goes there at once
    st, h, _ = c.get("/portal/login?next=/portal/orders/5")
    assert st == 303 and h["Location"] == "/portal/orders/5"
    # a wrong password keeps where to go
    c = rig.client()
    st, _, body = login_via(c, "/portal/login?next=/portal/orders/5",
                            rig.emails["a"], {"password": "wrong"})
    assert b'name="next" value="/portal/orders/5"' in body
    # targets the login cannot lead back to: the plain login page
    for path in ("/portal/%2F%2Fevil.example", "/portal/x%5Cevil",
                 "/portal//evil.example"):
        st, h, _ = c.get(path)
        assert st == 303 and h["Location"] == "/portal/login", path
    # hostile next values, given to the login page and posted: never
    # used, the login goes to the portfolio
    hostile = ["https://evil.example/", "//evil.example/",
               "///evil.example", "/\\evil.example", "\\\\evil.example",
               "/portal/\\evil.example", "/portal//evil.example",
               "/portal/../../evil", "/portal/./overview",
               "/portal/%2F%2Fevil.example",
               "/portal/%252F%252Fevil.example", "%2F%2Fevil.example",
               "/%2Fevil.example", "https:evil.example",
               "/portal/x\r\nLocation: https://evil.example",
               "javascript:alert(1)", "/api/v1/me", "/backoffice",
               "/backoffice//evil.example", "/backoffice/../portal/",
               "/backoffice/%2F%2Fevil.example", "/backoffice/api/cases",
               "/portal/login", "/portal/logout", "/portal/@evil.example",
               "/portal/x:y", "/portal/" + "a" * 600, ""]
    for bad in hostile:
        c = rig.client()
        st, _, body = c.get("/portal/login?next=" +
                            urllib.parse.quote(bad, safe=""))
        assert st == 200 and b'name="next"' not in body, bad
        st, h, _ = login_via(c, "/portal/login", rig.emails["a"],
                             {"next": bad})
        assert st == 303 and h["Location"] == "/portal/", bad
        st, h, _ = c.get("/portal/login?next=" +
                         urllib.parse.quote(bad, safe=""))
        assert st == 303 and h["Location"] == "/portal/", bad
    # a back office page is a place to go back to, but not for a
    # customer, for whom it does not exist
    c = rig.client()
    st, _, body = c.get("/portal/login?next=/backoffice/cases/1")
    assert b'name="next" value="/backoffice/cases/1"' in body
    st, h, _ = login_via(c, "/portal/login?next=/backoffice/cases/1",
                         rig.emails["a"])
    assert st == 303 and h["Location"] == "/portal/"


def test_portfolio_shows_products_and_actions(rig):
    c = rig.login("a")
    st, h, body = c.get("/portal/")
    assert st == 200
    text = body.decode()
    for name in ("SSL Starter (DV)", "SSL Unlimited (DV)",
                 "SSL Business (OV)", "Contract A-0001",
                 "Set up SSL certificate", "Activate now", "User a"):
        assert name in text
    assert "B-0001" not in text
    # a keyboard-usable gear menu linking to the setup page
    assert "<details class=\"gear\">" in text and "<summary>" in text
    starter = rig.ids["a"]["starter0"]
    assert f'href="/portal/slots/{starter}/setup"' in text
    st, _, body = c.get(f"/portal/slots/{starter}/setup")
    assert st == 200 and b"Set up SSL certificate" in body
    assert b'id="setup-form"' in body and b"Download Private Key" in body


def test_wrong_password_and_unknown_email_look_the_same(rig):
    c = rig.client()
    st1, _, b1 = c.login(rig.emails["a2"], "wrong password!")
    st2, _, b2 = c.login("nobody@nowhere.example", "wrong password!")
    assert st1 == st2 == 401
    for b in (b1, b2):
        assert b"Wrong email or password." in b
        assert b"wrong password!" not in b      # the password is not kept
    assert f'value="{rig.emails["a2"]}"'.encode() in b1  # the email is
    assert "__Host-certdesk" not in c.cookies


def test_login_throttled_after_failures(rig):
    c = rig.client()
    for _ in range(5):
        st, _, _ = c.login(rig.emails["throttled"], "not the password")
        assert st == 401
    # now even the right password is refused for a while, generically
    st, h, body = c.login(rig.emails["throttled"], PASSWORD)
    assert st == 429
    assert int(h["Retry-After"]) > 0
    assert b"Too many failed attempts" in body
    assert "__Host-certdesk" not in c.cookies
    # other accounts from the same address are not locked out yet
    assert rig.login("a2")


def test_login_throttle_holds_under_concurrency(rig):
    """24 wrong passwords for one account at once, from four addresses:
    each attempt takes its place before its password is checked, so no
    more are checked (401) than the account's limit of 5; the others are
    refused unchecked (429), and so is the next attempt. (An address
    without an account is throttled the same, which keeps this test's
    lock-out away from the other tests' accounts.)"""
    email = "race@nowhere.example"

    def one(i):
        c = Client(rig.server.https_port, rig.data / "ca" / "root.pem",
                   source=(f"127.0.0.{30 + i % 4}", 0))
        st, _, body = c.get("/portal/login")
        assert st == 200
        return c, c.csrf_from(body)
    clients = [one(i) for i in range(24)]

    def attempt(cc):
        c, csrf = cc
        return c.post_form("/portal/login", {
            "email": email, "password": "not the password",
            "csrf": csrf})[0]
    with ThreadPoolExecutor(24) as ex:
        sts = list(ex.map(attempt, clients))
    assert set(sts) <= {401, 429}, sts
    assert 1 <= sts.count(401) <= 5, sts
    c = Client(rig.server.https_port, rig.data / "ca" / "root.pem",
               source=("127.0.0.34", 0))
    assert c.login(email, PASSWORD)[0] == 429
    n, = rig.db("SELECT failures FROM login_failures WHERE key = ?",
                "acct:" + email)[0]
    assert n == sts.count(401), (n, sts)


def test_login_form_needs_its_csrf_cookie(rig):
    c = rig.client()
    st, _, body = c.post_form("/portal/login", {
        "email": rig.emails["a"], "password": PASSWORD, "csrf": "0" * 64})
    assert st == 403
    assert "__Host-certdesk" not in c.cookies
    st, _, body = c.get("/portal/login")
    st, _, _ = c.post_form("/portal/login", {
        "email": rig.emails["a"], "password": PASSWORD,
        "csrf": c.csrf_from(body)},
        headers={"Origin": "https://evil.example"})
    assert st == 403


def login_with_cookie(rig, who, sid):
    """Logs in from a browser that already holds session cookie sid."""
    c = rig.client()
    st, _, body = c.get("/portal/login")
    assert st == 200
    c.cookies["__Host-certdesk"] = sid
    st, _, _ = c.post_form("/portal/login", {
        "email": rig.emails[who], "password": PASSWORD,
        "csrf": c.csrf_from(body)})
    assert st == 303
    return c


def test_session_rotated_at_login(rig):
    first = rig.login("rotate").cookies["__Host-certdesk"]
    c = login_with_cookie(rig, "rotate", first)
    second = c.cookies["__Host-certdesk"]
    assert first != second
    assert c.get("/portal/")[0] == 200
    old = rig.client()
    old.cookies["__Host-certdesk"] = first
    st, h, _ = old.get("/portal/")
    assert st == 303 and h["Location"] == "/portal/login"
    # a planted id (session fixation) is never adopted
    planted = "ab" * 32
    c = login_with_cookie(rig, "rotate", planted)
    assert c.cookies["__Host-certdesk"] != planted
    old.cookies["__Host-certdesk"] = planted
    assert old.get("/portal/")[0] == 303


def test_logout_ends_session_on_server(rig):
    c = rig.login("a2")
    sid = c.cookies["__Host-certdesk"]
    # without the CSRF token: refused, still logged in
    st, _, _ = c.post_form("/portal/logout", {})
    assert st == 403
    assert c.get("/portal/")[0] == 200
    st, h, _ = c.post_form("/portal/logout", {"csrf": c.page_csrf()})
    assert st == 303 and h["Location"] == "/portal/login"
    assert "__Host-certdesk" not in c.cookies
    # the old cookie replayed: no longer a session
    replay = rig.client()
    replay.cookies["__Host-certdesk"] = sid
    st, h, _ = replay.get("/portal/")
    assert st == 303 and h["Location"] == "/portal/login"
    st, _, doc = replay.api("GET", "/api/v1/me")
    assert st == 401


def test_self_reload_keeps_no_session_alive(rig):
    """A page that reloads itself while something is pending (a meta
    refresh, the bundle's reload) must not keep an unattended screen
    logged in: a navigation the browser sends without Sec-Fetch-User does
    not move the idle end; one the user makes, or a client without Fetch
    Metadata, does."""
    c = rig.login("a2")
    h = hashlib.sha256(c.cookies["__Host-certdesk"].encode()).digest()

    def idle_end():
        (v,), = rig.db("SELECT idle_expires_at FROM sessions WHERE "
                       "id_hash = ?", h)
        return v

    for headers, moved in (
            ({"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"},
             False),
            ({"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document",
              "Sec-Fetch-User": "?1"}, True),
            ({}, True)):
        soon = int(time.time()) + 300
        rig.db_write("UPDATE sessions SET idle_expires_at = ? WHERE "
                     "id_hash = ?", soon, h)
        assert c.get("/portal/", headers=headers)[0] == 200
        assert (idle_end() > soon + 600) == moved, (headers, idle_end())


def test_activate_needs_csrf_then_works(rig):
    c = rig.login("a")
    slot = rig.ids["a"]["unlimited1"]
    path = f"/portal/slots/{slot}/activate"
    assert slot_state(rig, slot) == "unused"
    st, _, body = c.post_form(path, {})
    assert st == 403 and slot_state(rig, slot) == "unused"
    st, _, _ = c.post_form(path, {"csrf": "f" * 64})
    assert st == 403 and slot_state(rig, slot) == "unused"
    csrf = c.page_csrf()
    st, _, _ = c.post_form(path, {"csrf": csrf},
                           headers={"Origin": "https://evil.example"})
    assert st == 403 and slot_state(rig, slot) == "unused"
    st, _, _ = c.post_form(path, {"csrf": csrf},
                           headers={"Sec-Fetch-Site": "cross-site"})
    assert st == 403 and slot_state(rig, slot) == "unused"
    # another session's token does not fit this session
    other = rig.login("a2")
    st, _, _ = c.post_form(path, {"csrf": other.page_csrf()})
    assert st == 403 and slot_state(rig, slot) == "unused"
    st, h, _ = c.post_form(path, {"csrf": csrf}, headers={
        "Origin": f"https://127.0.0.1:{rig.server.https_port}",
        "Sec-Fetch-Site": "same-origin"})
    # activated to be set up: its form is the next step
    assert st == 303 and h["Location"] == f"/portal/slots/{slot}/setup"
    assert slot_state(rig, slot) == "active"
    st, _, body = c.get(h["Location"])
    assert st == 200 and b"<h1>Set up SSL certificate" in body
    st, _, body = c.post_form(path, {"csrf": csrf})
    assert st == 409 and b"already activated" in body
    # now it can be set up from the gear menu
    st, _, body = c.get("/portal/")
    assert f'href="/portal/slots/{slot}/setup"'.encode() in body


def test_other_customers_ids_are_not_found(rig):
    c = rig.login("a")
    csrf = c.page_csrf()
    for slot in (rig.ids["b"]["starter0"], rig.ids["b"]["unlimited1"]):
        st, _, body = c.get(f"/portal/slots/{slot}/setup")
        assert st == 404 and b"Page not found" in body
    slot = rig.ids["b"]["unlimited1"]
    st, _, _ = c.post_form(f"/portal/slots/{slot}/activate", {"csrf": csrf})
    assert st == 404
    assert slot_state(rig, slot) == "unused"
    # ids that do not exist look the same
    st, _, _ = c.get("/portal/slots/999999/setup")
    assert st == 404


def test_security_headers_everywhere(rig):
    c = rig.login("a")
    for path in ("/portal/login", "/portal/", "/portal/nope", "/nothing",
                 "/static/portal.css", "/api/v1/me", "/api/v1/nope"):
        st, h, _ = c.get(path)
        for name in SECURITY_HEADERS:
            assert h.get(name), f"{path}: no {name}"
        csp = h["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert "script-src 'self'" in csp
        assert h["X-Frame-Options"] == "DENY"
        assert h["X-Content-Type-Options"] == "nosniff"


def test_error_pages_leak_nothing(rig):
    c = rig.login("a")
    for path, status in (("/portal/nope", 404), ("/nothing/here", 404),
                         ("/portal/slots/abc/setup", 404),
                         ("/portal/slots/0/setup", 404)):
        st, h, body = c.get(path)
        assert st == status, path
        assert h["Content-Type"].startswith("text/html")
        low = body.lower()
        for bad in (b"traceback", b"sqlite", b"rc_", b".c:", b"stack",
                    b"/work/", b"errno"):
            assert bad not in low, (path, bad)
    st, _, body = c.request("POST", "/portal/login",
                            body=b"email=%zz",
                            headers={"Content-Type":
                                     "application/x-www-form-urlencoded"})
    assert st == 400 and b"<h1>" in body
    st, h, body = c.request("POST", "/static/portal.css")
    assert st == 405
    assert b"<h1>" in body


def test_static_assets_cached(rig):
    c = rig.client()
    st, h, body = c.get("/static/portal.css")
    assert st == 200 and h["Content-Type"].startswith("text/css")
    assert "max-age" in h["Cache-Control"]
    etag = h["ETag"]
    st, h, body = c.get("/static/portal.css",
                        headers={"If-None-Match": etag})
    assert st == 304 and body == b""
    assert c.get("/static/../certdesk.db")[0] == 404
    assert c.get("/static/nothing.css")[0] == 404
    # the layout links the stylesheet with its version
    st, _, body = c.get("/portal/login")
    assert b'href="/static/portal.css?v=' in body


def test_escaping_of_stored_text(rig):
    # the customer's name and contract numbers are typed by people
    c = rig.login("a")
    st, _, body = c.get("/portal/")
    assert b"<&>" not in body


def test_staff_see_no_customer(rig):
    # customers' data is their own users'; staff work in the back office
    # (test_portal_staff.py tries every way in)
    uid = rig.cli("admin", "user", "add", "--email", "agent@staff.example",
                  "--name", "Agent", "--role", "agent", "--password-stdin",
                  input=PASSWORD + "\n")
    assert uid
    c = rig.client()
    st, h, _ = c.login("agent@staff.example", PASSWORD)
    assert st == 303 and h["Location"] == "/backoffice/"
    st, h, body = c.get("/portal/")
    assert st == 303 and h["Location"] == "/backoffice/"
    assert b"A-0001" not in body and b"B-0001" not in body


def test_passwords_never_logged_or_stored(rig):
    rig.login("a")
    rig.client().login(rig.emails["a2"], "another secret typed wrong")
    log = rig.server.stderr()
    assert PASSWORD not in log
    assert "another secret typed wrong" not in log
    raw = (rig.data / "certdesk.db").read_bytes()
    assert PASSWORD.encode() not in raw
    assert b"another secret typed wrong" not in raw
