# SPDX-License-Identifier: Apache-2.0
"""Email validation of portal orders (BR 3.2.2.4.4) against a real SMTP
server (aiosmtpd on loopback, started here): the hostmaster of a domain
that is not on our nameservers gets a mail saying who asks for which
domain and product, with a link; GET of the link changes nothing, POST
confirms it and the certificate is issued; the link works once; the next
order of the contract for the same domain reuses the validation; a resend
is rate-limited and replaces the old link; a link expires after
dv.email_token_days; bad tokens are refused; once the mail has left, its
token is nowhere in the store (the outbox keeps the text without it, and
the WAL that held it is gone), and the admin's Outgoing mail page never
shows it. Time moves by restarting
`certdesk serve` with [policy] now pinned later. The CA's resolver is a
Knot DNS server (dns_rig) authoritative for `test.`, so CAA is looked up
for real."""
import email
import email.policy
import http.server
import json
import re
import sqlite3
import threading
import time

import pytest

import smtp_rig
from conftest import free_port
from dns_rig import Knot, zone_text
from portal_rig import Rig, page_time
from test_portal_orders import make_csr

DOMAIN = "mail-dv.test"
# the clock starts now (the confirmation page also compares the link's
# expiry with the real clock) and moves by restarts with [policy] now
T0 = int(time.time())


def utc(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))



class Inbox(smtp_rig.Inbox):
    """The SMTP server's inbox; the hostmaster of a bounce-* domain does
    not exist."""

    def __init__(self):
        super().__init__(timeout=20)

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        if address.startswith("hostmaster@bounce-"):
            return "550 5.1.1 no such mailbox"
        return await super().handle_RCPT(server, session, envelope, address,
                                         rcpt_options)


class WebFiles:
    """A website on 127.0.0.1 (the http-01 port): path -> body."""

    def __init__(self):
        files = self.files = {}

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *a):
                pass

        self.port = free_port()
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.port),
                                                   H)
        self.thr = threading.Thread(target=self.srv.serve_forever,
                                    daemon=True)
        self.thr.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def body_of(m):
    return m.get_body(preferencelist=("plain",)).get_content()


def db(rig, sql, args=()):
    con = sqlite3.connect(rig.data / "certdesk.db")
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def set_now(rig, when):
    """Restarts serve with [policy] now = when."""
    rig.server.stop()
    conf = (rig.data / "certdesk.conf").read_text()
    conf = re.sub(r"(?m)^now = .*$", f"now = {when}", conf)
    (rig.data / "certdesk.conf").write_text(conf)
    rig.server.start()


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dv-email")
    inbox = Inbox()
    port = free_port()
    smtp = smtp_rig.start_smtp(inbox, port)
    knot = Knot(tmp / "knot", {"test.": zone_text(
        "test.", ns=("ns1",), extra="web-dv 60 A 127.0.0.1\n"
        'caa-dv 60 CAA 0 issue "ca.elsewhere.example"')})
    web = WebFiles()
    r = Rig(tmp)
    with open(r.data / "certdesk.conf", "a") as f:
        f.write(f"\n[mail]\nsmtp_url = smtp://127.0.0.1:{port}\n"
                "from = certdesk CA <ca@certdesk.test>\nretry_seconds = 1\n"
                "\n[dv]\nemail_token_days = 2\nemail_max_sends = 3\n")
    # [policy] now: the section exists in the generated file
    conf = (r.data / "certdesk.conf").read_text()
    if re.search(r"(?m)^now = ", conf):
        conf = re.sub(r"(?m)^now = .*$", f"now = {utc(T0)}", conf)
    else:
        conf = conf.replace("[policy]\n", f"[policy]\nnow = {utc(T0)}\n", 1)
    # the debug access log: confirmation tokens must not be in it
    conf = conf.replace(";log_level = info", "log_level = debug", 1)
    assert re.search(r"(?m)^log_level = debug$", conf)
    (r.data / "certdesk.conf").write_text(conf)
    r.server.extra = ["--resolver", knot.endpoint, "--http01-port",
                      str(web.port)]
    r.server.start()
    r.inbox, r.smtp, r.knot, r.web = inbox, smtp, knot, web
    r.tok = r.token("a")
    yield r
    r.server.stop()
    smtp.stop()
    knot.stop()
    web.stop()


def api(rig, method, path, body=None, token=None):
    return rig.client().api(method, path, token=token or rig.tok,
                            body=json.dumps(body) if body is not None
                            else None)


def order(rig, slot, domain, names):
    _, csr = make_csr(names)
    st, _, doc = api(rig, "POST", f"/api/v1/slots/{slot}/orders",
                     {"domain": domain, "purpose": "hosting",
                      "terms_accepted": True, "csr": csr})
    assert st == 201, doc
    return doc["id"]


def link_of(m):
    found = re.search(r"(https://127\.0\.0\.1:\d+)/confirm/([A-Za-z0-9_-]+)",
                      body_of(m))
    assert found, body_of(m)
    return found.group(2)


def store_files(rig):
    """The bytes of the database and of its -wal and -shm files."""
    raw = b""
    for suffix in ("", "-wal", "-shm"):
        try:
            raw += (rig.data / ("certdesk.db" + suffix)).read_bytes()
        except FileNotFoundError:
            pass
    return raw


def token_in_store(rig, token):
    """Where token is in the store: its files' bytes, and through SQLite
    every column of every table (mail_outbox.body first of all)."""
    found = []
    if token.encode() in store_files(rig):
        found.append("files")
    con = sqlite3.connect(f"file:{rig.data / 'certdesk.db'}?mode=ro",
                          uri=True)
    try:
        tables = [t for t, in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert "mail_outbox" in tables and "dv_email_tokens" in tables
        for t in tables:
            for row in con.execute(f'SELECT * FROM "{t}"'):
                for v in row:
                    if isinstance(v, bytes):
                        v = v.decode("latin-1")
                    if isinstance(v, str) and token in v:
                        found.append(t)
    finally:
        con.close()
    return found


def wait_token_gone(rig, token, to):
    """Waits until the mail to `to` is marked sent and token has left the
    store (the mail worker truncates the WAL after marking it)."""
    deadline = time.monotonic() + 15
    while True:
        sent = db(rig, "SELECT sent_at FROM mail_outbox WHERE to_addr = ? "
                       "AND kind = 'validation.email' ORDER BY id DESC "
                       "LIMIT 1", (to,))
        where = token_in_store(rig, token)
        if sent and sent[0][0] is not None and not where:
            return
        assert time.monotonic() < deadline, (sent, where)
        time.sleep(0.2)


def test_mail_link_get_post_issue(rig):
    oid = order(rig, rig.ids["a"]["starter0"], DOMAIN,
                [DOMAIN, "www." + DOMAIN])
    m = rig.inbox.wait(lambda r, m: r == ["hostmaster@" + DOMAIN])
    text = body_of(m)
    assert "Customer A" in text and "SSL Starter" in text
    assert "www." + DOMAIN in text
    token = link_of(m)
    assert len(token) == 32
    # the link's end as the pages show a time
    (ends,), = db(rig, "SELECT DISTINCT expires_at FROM dv_email_tokens "
                       "WHERE email_to = ?", ("hostmaster@" + DOMAIN,))
    assert f"The link works once and until {page_time(ends)}. " in \
        " ".join(text.split()), text
    # once delivered, the token is nowhere in the store, only its hash:
    # not in a table, not in the database file, its WAL or shm
    wait_token_gone(rig, token, "hostmaster@" + DOMAIN)
    assert "[removed after delivery]" in db(
        rig, "SELECT body FROM mail_outbox WHERE to_addr = ? AND kind = "
             "'validation.email'", ("hostmaster@" + DOMAIN,))[0][0]
    # one mail for both names
    time.sleep(0.5)
    assert len([1 for r, _ in rig.inbox.msgs
                if r == ["hostmaster@" + DOMAIN]]) == 1
    v = api(rig, "GET", f"/api/v1/orders/{oid}/validations")[2]
    assert [x["method"] for x in v["validations"]] == ["email", "email"]
    # the customer's "action needed" mail says where the mail went
    m = rig.inbox.wait(lambda r, m: r == [rig.emails["a"]] and
                       m["Subject"].startswith("Action needed"))
    assert "confirmation email to hostmaster@" + DOMAIN in " ".join(
        body_of(m).split())
    c = rig.client()
    # GET shows what is confirmed, and changes nothing (mail scanners)
    for _ in range(2):
        st, _, body = c.get(f"/confirm/{token}")
        assert st == 200
        assert DOMAIN.encode() in body and b"Customer A" in body
        assert b'method="post"' in body
        assert b"An SSL certificate was requested" in body
        assert b"TLS" not in body     # the portal's one word, SSL
        # every name the POST confirms is named
        assert f'<dd id="c-names">{DOMAIN}, www.{DOMAIN}</dd>'.encode() \
            in body, body
    assert api(rig, "GET", f"/api/v1/orders/{oid}")[2]["state"] == \
        "validation_pending"
    assert db(rig, "SELECT count(*) FROM authorizations WHERE status = "
                   "'valid'") == [(0,)]
    # POST confirms; the certificate is issued
    st, _, body = c.request("POST", f"/confirm/{token}", body=b"",
                            headers={"Content-Type":
                                     "application/x-www-form-urlencoded",
                                     "User-Agent": "pytest-browser"})
    assert st == 200, body
    doc = api(rig, "GET", f"/api/v1/orders/{oid}")[2]
    assert doc["state"] == "issued"
    ev = json.loads(db(rig, "SELECT evidence FROM authorizations WHERE "
                            "identifier = ? AND status = 'valid'",
                            (DOMAIN,))[0][0])
    assert ev["method"] == "email" and ev["br_section"] == "3.2.2.4.4"
    assert ev["email_to"] == "hostmaster@" + DOMAIN
    assert ev["user_agent"] == "pytest-browser"
    assert ev["caa"]["outcome"] == "valid"
    # single use
    st, _, body = c.request("POST", f"/confirm/{token}", body=b"")
    assert st != 200 or b"already" in body.lower()
    st, _, body = c.get(f"/confirm/{token}")
    assert b"lready confirmed" in body


def test_reuse_for_the_next_order(rig):
    st, _, _ = api(rig, "POST",
                   f"/api/v1/slots/{rig.ids['a']['unlimited1']}/activate")
    assert st in (200, 204)
    n = len(rig.inbox.msgs)
    oid = order(rig, rig.ids["a"]["unlimited1"], DOMAIN, [DOMAIN])
    assert api(rig, "GET", f"/api/v1/orders/{oid}")[2]["state"] == "issued"
    v = api(rig, "GET", f"/api/v1/orders/{oid}/validations")[2]
    assert v["validations"][0]["method"] == "reused"
    time.sleep(0.5)
    assert not [1 for r, _ in rig.inbox.msgs[n:]
                if r == ["hostmaster@" + DOMAIN]]


def test_resend_rate_limit_replace_expiry(rig):
    name = "other-dv.test"
    slot = rig.ids["a"]["unlimited3"]
    assert api(rig, "POST", f"/api/v1/slots/{slot}/activate")[0] in (200,
                                                                      204)
    oid = order(rig, slot, name, [name])
    first = link_of(rig.inbox.wait(lambda r, m: r == ["hostmaster@" + name]))
    v = api(rig, "GET", f"/api/v1/orders/{oid}/validations")[2]
    aid = v["validations"][0]["authz_id"]
    # at once: rate-limited
    st, h, doc = api(rig, "POST", f"/api/v1/orders/{oid}/validations/resend",
                     {"authz_id": aid})
    assert st == 429, doc
    assert "10 minutes" in doc["detail"]
    # another customer's order: not found
    st, _, _ = api(rig, "POST", f"/api/v1/orders/{oid}/validations/resend",
                   {"authz_id": aid}, token=rig.token("b"))
    assert st == 404
    # eleven minutes later a new mail replaces the first link
    set_now(rig, utc(T0 + 11 * 60))
    st, _, doc = api(rig, "POST", f"/api/v1/orders/{oid}/validations/resend",
                     {"authz_id": aid})
    assert st == 200, doc
    rig.inbox.wait(lambda r, m: r == ["hostmaster@" + name] and
                   link_of(m) != first)
    second = [link_of(email.message_from_bytes(
        raw, policy=email.policy.default)) for r, raw in rig.inbox.msgs
        if r == ["hostmaster@" + name]][-1]
    c = rig.client()
    st, _, body = c.get(f"/confirm/{first}")
    assert b"newer" in body.lower() or b"replaced" in body.lower()
    st, _, body = c.request("POST", f"/confirm/{first}", body=b"")
    assert api(rig, "GET", f"/api/v1/orders/{oid}")[2]["state"] == \
        "validation_pending"
    # bad tokens: unknown, malformed, huge
    for bad in ("A" * 32, "not-base64url!!" * 2, "x", "A" * 5000,
                second[:-1], second + "A"):
        st, _, body = c.request("POST", f"/confirm/{bad}", body=b"")
        assert st in (400, 404, 414), (bad[:40], st)
    # three days later the second link has expired (token days: 2)
    set_now(rig, utc(T0 + 3 * 86400))
    c = rig.client()  # the new run listens on another port
    st, _, body = c.get(f"/confirm/{second}")
    assert b"expired" in body.lower()
    st, _, body = c.request("POST", f"/confirm/{second}", body=b"")
    assert api(rig, "GET", f"/api/v1/orders/{oid}")[2]["state"] == \
        "validation_pending"
    assert db(rig, "SELECT count(*) FROM authorizations a JOIN order_authz x "
                   "ON x.authz_id = a.id WHERE x.order_id = ? AND a.status "
                   "= 'valid'", (oid,)) == [(0,)]


def test_bounced_mail_shows_what_to_do(rig):
    name = "bounce-dv.test"
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "unlimited")
    assert api(rig, "POST", f"/api/v1/slots/{slot}/activate")[0] in (200,
                                                                      204)
    oid = order(rig, slot, name, [name])
    deadline = time.monotonic() + 20
    while True:
        v = api(rig, "GET", f"/api/v1/orders/{oid}/validations")[2][
            "validations"][0]
        if v["problem"] == "mail_bounced":
            break
        assert time.monotonic() < deadline, v
        time.sleep(0.3)
    assert "hostmaster@" + name in v["message"]
    assert "DNS record" in v["message"]
    # the customer switches to another address: a new mail goes there
    st, _, doc = api(rig, "POST", f"/api/v1/orders/{oid}/validations/choose",
                     {"authz_id": v["authz_id"], "method": "email",
                      "email_local": "postmaster"})
    assert st == 200, doc
    rig.inbox.wait(lambda r, m: r == ["postmaster@" + name])
    v = api(rig, "GET", f"/api/v1/orders/{oid}/validations")[2][
        "validations"][0]
    assert v["problem"] is None


def test_file_on_the_website(rig):
    """The customer's http method: the exact URL and content from the
    API, a wrong file first ("wrong_content"), then the right one and
    "check now": valid and issued (BR 3.2.2.4.18, through the CA's own
    resolver and the configured http-01 port)."""
    name = "web-dv.test"
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "unlimited")
    assert api(rig, "POST", f"/api/v1/slots/{slot}/activate")[0] in (200,
                                                                      204)
    oid = order(rig, slot, name, [name])
    v = api(rig, "GET", f"/api/v1/orders/{oid}/validations")[2][
        "validations"][0]
    st, _, doc = api(rig, "POST", f"/api/v1/orders/{oid}/validations/choose",
                     {"authz_id": v["authz_id"], "method": "http"})
    assert st == 200, doc
    url, content = doc["http"]["url"], doc["http"]["content"]
    assert url.startswith(f"http://{name}/.well-known/pki-validation/")
    path = url[len(f"http://{name}"):]
    rig.web.files[path] = "something else\n"
    st, _, doc = api(rig, "POST", f"/api/v1/orders/{oid}/validations/check",
                     {"authz_id": v["authz_id"]})
    assert st == 200, doc
    assert doc["valid"] is False and doc["problem"] == "wrong_content"
    assert url in doc["message"]
    rig.web.files[path] = content + "\n"
    st, _, doc = api(rig, "POST", f"/api/v1/orders/{oid}/validations/check",
                     {"authz_id": v["authz_id"]})
    assert st == 200 and doc["valid"] is True, doc
    assert api(rig, "GET", f"/api/v1/orders/{oid}")[2]["state"] == "issued"
    ev = json.loads(db(rig, "SELECT evidence FROM authorizations WHERE "
                            "identifier = ? AND status = 'valid'",
                            (name,))[0][0])
    assert ev["br_section"] == "3.2.2.4.18"
    assert ev["validation"]["kind"] == "http-file"
    assert ev["validation"]["http"][0]["status"] == 200


def test_confirmation_tokens_not_logged(rig):
    """Every confirmation link this module mailed was opened (GET, POST)
    with the access log at debug level: no token is in the log, the lines
    say "/confirm/[redacted]" instead. Also for the variants that only
    reach the log (404 on the plain listener, other case, doubled slash,
    a method not allowed)."""
    tokens = set()
    for _, raw in rig.inbox.msgs:
        m = email.message_from_bytes(raw, policy=email.policy.default)
        found = re.search(r"/confirm/([A-Za-z0-9_-]+)", body_of(m))
        if found:
            tokens.add(found.group(1))
    assert len(tokens) >= 3, tokens
    tok = sorted(tokens)[0]
    c = rig.client()
    assert c.get(f"/CONFIRM/{tok}")[0] == 404
    assert c.get(f"//confirm/{tok}")[0] == 404
    assert c.request("PUT", f"/confirm/{tok}", body=b"x")[0] == 405
    st, _, _ = rig.server.get(f"/confirm/{tok}")
    assert st == 404
    deadline = time.monotonic() + 5
    while "PUT /confirm/[redacted] -> 405" not in rig.server.stderr():
        assert time.monotonic() < deadline, rig.server.stderr()[-3000:]
        time.sleep(0.1)
    log = rig.server.stderr()
    # the access log was on: every request is in it, the links redacted
    assert re.search(r"debug \[http\] GET /api/v1/orders/\d+ -> 200", log)
    assert "GET /confirm/[redacted] -> 200" in log
    assert "POST /confirm/[redacted] -> 200" in log
    assert "GET /CONFIRM/[redacted] -> 404" in log
    assert "GET //confirm/[redacted] -> 404" in log
    for t in tokens:
        assert t not in log, t


def test_token_leaves_the_outbox(rig):
    """The review's finding: the outbox kept the mail's text, link and
    token, after delivery too, and the admin's Outgoing mail page showed
    it, clickable. With an SMTP server the admin sees it neither while the
    mail waits (greylisted here) nor after; once delivered it is gone from
    every table and from the database's files; the hostmaster's link from
    the mail still confirms."""
    name = "gone-dv.test"
    to = "hostmaster@" + name
    rig.inbox.refuse[to] = ["451 4.7.1 greylisted"] * 2 + ["250 OK"]
    admin = rig.login_admin()
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "starter")
    oid = order(rig, slot, name, [name, "www." + name])
    pages = []

    def admin_pages(mid):
        for path in ("/portal/admin/mail", f"/portal/admin/mail/{mid}"):
            st, _, body = admin.get(path)
            assert st == 200, path
            pages.append(body.decode())
        return pages[-1]

    # waiting (a try failed, the next is to come): no token, no link
    deadline = time.monotonic() + 15
    while True:
        row = db(rig, "SELECT id, attempts, sent_at FROM mail_outbox WHERE "
                      "to_addr = ?", (to,))
        if row and row[0][1] >= 1:
            break
        assert time.monotonic() < deadline, row
        time.sleep(0.1)
    mid, _, sent = row[0]
    view = admin_pages(mid)
    if sent is None:
        assert "/confirm/[hidden until delivered]" in view, view
    assert not re.search(r"/confirm/[A-Za-z0-9_-]", view), view
    assert not re.search(r'href="[^"]*/confirm/', view), view

    m = rig.inbox.wait(lambda r, m: r == [to], timeout=30)
    token = link_of(m)
    wait_token_gone(rig, token, to)
    view = admin_pages(mid)
    assert "/confirm/[removed after delivery]" in view, view
    assert not re.search(r'href="[^"]*/confirm/', view), view
    for page in pages:
        assert token not in page
    # the hostmaster's link still works
    c = rig.client()
    st, _, body = c.request("POST", f"/confirm/{token}", body=b"",
                            headers={"Content-Type":
                                     "application/x-www-form-urlencoded"})
    assert st == 200, body
    assert api(rig, "GET", f"/api/v1/orders/{oid}")[2]["state"] == "issued"
    assert not token_in_store(rig, token)


def test_other_addresses_and_a_switched_link(rig):
    """IMPLEMENTATION-OF BR 3.2.2.4.4: for www.<domain> the first mail
    goes to hostmaster@<domain>, and "Use another method" offers the five
    constructed addresses at <domain> (that one chosen) and at
    www.<domain>, nothing at the public suffix. Once the customer chooses
    another way, the old link says so instead of pointing to a newer mail
    that was never sent; a new mail goes to the address chosen."""
    base = "switch-dv.test"
    name = "www." + base
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "unlimited")
    assert api(rig, "POST", f"/api/v1/slots/{slot}/activate")[0] in (200,
                                                                      204)
    oid = order(rig, slot, name, [name])
    first = link_of(rig.inbox.wait(lambda r, m: r == ["hostmaster@" + base]))
    v = api(rig, "GET", f"/api/v1/orders/{oid}/validations")[2][
        "validations"][0]
    assert v["email"]["domains"] == [base, name]
    c = rig.login("a")
    st, _, page = c.get("/portal/overview")
    assert st == 200
    html = page.decode()
    select = re.search(rf'<select id="dv-to-{v["authz_id"]}" '
                       r'name="email_to">(.*?)</select>', html, re.S)
    assert select, html
    offered = re.findall(r'<option value="([^"]+)"( selected)?>',
                         select.group(1))
    assert [a for a, _ in offered] == [
        f"{x}@{d}" for d in (base, name) for x in
        ("admin", "administrator", "webmaster", "hostmaster", "postmaster")]
    assert [a for a, sel in offered if sel] == ["hostmaster@" + base]
    # another method: the old link says why it no longer works
    st, h, _ = c.post_form(f"/portal/orders/{oid}/dv/{v['authz_id']}/choose",
                           {"csrf": c.csrf_from(page), "method": "dns",
                            "email_to": "admin@" + name})
    assert st == 303
    st, _, body = rig.client().get(f"/confirm/{first}")
    assert st == 410
    assert b"Another way to confirm was chosen" in body
    assert b"you chose another way to confirm the domain" in body
    assert b"newer" not in body.lower()
    # a mail to an address at www.<domain>, once the resend interval
    # (10 minutes) since the first one has passed
    now = re.search(r"(?m)^now = (\S+)$",
                    (rig.data / "certdesk.conf").read_text()).group(1)
    later = time.mktime(time.strptime(now, "%Y-%m-%dT%H:%M:%SZ")) - \
        time.timezone + 11 * 60
    set_now(rig, utc(later))
    c = rig.login("a")
    st, _, page = c.get("/portal/overview")
    st, h, _ = c.post_form(f"/portal/orders/{oid}/dv/{v['authz_id']}/choose",
                           {"csrf": c.csrf_from(page), "method": "email",
                            "email_to": "admin@" + name})
    assert st == 303
    rig.inbox.wait(lambda r, m: r == ["admin@" + name])
    v = api(rig, "GET", f"/api/v1/orders/{oid}/validations")[2][
        "validations"][0]
    assert v["method"] == "email" and v["email"]["to"] == "admin@" + name
    # an address at no domain of the name is refused
    st, _, doc = api(rig, "POST", f"/api/v1/orders/{oid}/validations/choose",
                     {"authz_id": v["authz_id"], "method": "email",
                      "email_local": "admin", "email_domain": "test"})
    assert st == 400, doc
    st, _, doc = api(rig, "POST", f"/api/v1/orders/{oid}/validations/choose",
                     {"authz_id": v["authz_id"], "method": "email",
                      "email_local": "admin", "email_domain": "dv.test"})
    assert st == 422 and name in doc["detail"], doc


def test_card_on_the_order_page_leads_back_to_it(rig):
    """The "Confirm your domain" card is on the order's page too: its
    forms ("Check now", "Resend", "Use another method") lead back to that
    page, and the overview's to the overview. Where to is a name from a
    fixed set, never an address taken from the form."""
    name = "back-dv.test"
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "unlimited")
    assert api(rig, "POST", f"/api/v1/slots/{slot}/activate")[0] in (200,
                                                                      204)
    oid = order(rig, slot, name, [name])
    rig.inbox.wait(lambda r, m: r == ["hostmaster@" + name])
    aid = api(rig, "GET", f"/api/v1/orders/{oid}/validations")[2][
        "validations"][0]["authz_id"]
    page_path = f"/portal/orders/{oid}"
    c = rig.login("a")
    st, _, page = c.get(page_path)
    assert st == 200
    html = page.decode()
    card = re.search(rf'<section class="card dv" id="order-{oid}".*?'
                     r"</section>", html, re.S).group(0)
    forms = re.findall(r"<form .*?</form>", card, re.S)
    assert len(forms) == 2       # resend (email), use another method
    for f in forms:
        assert '<input type="hidden" name="back" value="order">' in f, f
    csrf = c.csrf_from(page)
    dv = f"/portal/orders/{oid}/dv/{aid}"
    # resend at once: refused (rate limit), back to the page with why
    st, h, _ = c.post_form(f"{dv}/resend", {"csrf": csrf, "back": "order"})
    assert st == 303 and h["Location"] == page_path
    st, _, page = c.get(page_path)
    assert b"10 minutes" in page
    # another method, then "Check now": back to the page each time
    st, h, _ = c.post_form(f"{dv}/choose", {"csrf": csrf, "back": "order",
                                            "method": "dns"})
    assert st == 303 and h["Location"] == page_path
    st, _, page = c.get(page_path)
    assert b"Add the DNS record shown for " + name.encode() in page
    card = re.search(rf'<section class="card dv" id="order-{oid}".*?'
                     r"</section>", page.decode(), re.S).group(0)
    assert f'id="dv-check-{aid}"' in card
    for f in re.findall(r"<form .*?</form>", card, re.S):
        assert '<input type="hidden" name="back" value="order">' in f, f
    st, h, _ = c.post_form(f"{dv}/check", {"csrf": csrf, "back": "order"})
    assert st == 303 and h["Location"] == page_path
    st, _, page = c.get(page_path)
    assert b"We checked " + name.encode() + b": not confirmed yet" in page
    # the overview's card has no such field and leads back there
    st, _, page = c.get("/portal/overview")
    card = re.search(rf'<section class="card dv" id="order-{oid}".*?'
                     r"</section>", page.decode(), re.S).group(0)
    assert 'name="back"' not in card
    st, h, _ = c.post_form(f"{dv}/check", {"csrf": csrf})
    assert st == 303 and h["Location"] == "/portal/overview"
    # anything else in the field is the overview: no open redirect
    for bad in ("https://evil.example/", "//evil.example", "/portal/",
                f"/portal/orders/{oid}", "Order", "order ", "order\r\nX: y",
                "overview", ""):
        st, h, _ = c.post_form(f"{dv}/check", {"csrf": csrf, "back": bad})
        assert st == 303 and h["Location"] == "/portal/overview", bad
    # another customer's order: not found, wherever it would lead
    b = rig.login("b")
    st, _, _ = b.post_form(f"{dv}/check", {"csrf": b.page_csrf(),
                                           "back": "order"})
    assert st == 404


def test_switch_to_another_address_keeps_the_shared_link(rig):
    """One mail to hostmaster@<domain> confirms <domain> and www.<domain>;
    its link belongs to one of them. When the customer sends that name's
    mail to another address instead ("Use another method"), the first
    mail's link still confirms the other name, which waits for it, and no
    longer the one that moved: that one waits for its new mail."""
    base = "share-dv.test"
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "starter")
    oid = order(rig, slot, base, [base, "www." + base])
    first = link_of(rig.inbox.wait(lambda r, m: r == ["hostmaster@" + base]))
    # the name the link belongs to moves: the bug was its link going
    owner = db(rig, "SELECT a.identifier FROM dv_email_tokens t JOIN "
                    "authorizations a ON a.id = t.authz_id WHERE t.email_to "
                    "= ?", ("hostmaster@" + base,))
    assert len(owner) == 1
    moved = owner[0][0]
    other = ({base, "www." + base} - {moved}).pop()
    vs = api(rig, "GET", f"/api/v1/orders/{oid}/validations")[2][
        "validations"]
    aid = [v["authz_id"] for v in vs if v["name"] == moved][0]
    # another address once the resend interval (10 minutes) has passed
    now = re.search(r"(?m)^now = (\S+)$",
                    (rig.data / "certdesk.conf").read_text()).group(1)
    later = time.mktime(time.strptime(now, "%Y-%m-%dT%H:%M:%SZ")) - \
        time.timezone + 11 * 60
    set_now(rig, utc(later))
    c = rig.login("a")
    st, _, page = c.get("/portal/overview")
    assert st == 200
    st, _, _ = c.post_form(f"/portal/orders/{oid}/dv/{aid}/choose",
                           {"csrf": c.csrf_from(page), "method": "email",
                            "email_to": "admin@" + base})
    assert st == 303
    second = link_of(rig.inbox.wait(lambda r, m: r == ["admin@" + base]))
    by = {v["name"]: v for v in api(
        rig, "GET", f"/api/v1/orders/{oid}/validations")[2]["validations"]}
    assert by[moved]["email"]["to"] == "admin@" + base
    assert by[other]["email"]["to"] == "hostmaster@" + base
    # the first mail's link still works, for the name that waits for it
    w = rig.client()
    st, _, body = w.get(f"/confirm/{first}")
    assert st == 200 and b'method="post"' in body, body
    st, _, body = w.request("POST", f"/confirm/{first}", body=b"",
                            headers={"Content-Type":
                                     "application/x-www-form-urlencoded"})
    assert st == 200, body
    by = {v["name"]: v for v in api(
        rig, "GET", f"/api/v1/orders/{oid}/validations")[2]["validations"]}
    assert by[other]["status"] == "valid"
    assert by[moved]["status"] == "pending"
    assert by[moved]["method"] == "email"
    assert by[moved]["email"]["to"] == "admin@" + base
    assert db(rig, "SELECT status FROM authorizations a JOIN order_authz x "
                   "ON x.authz_id = a.id WHERE x.order_id = ? AND "
                   "a.identifier = ?", (oid, moved)) == [("pending",)]
    assert api(rig, "GET", f"/api/v1/orders/{oid}")[2]["state"] == \
        "validation_pending"
    # the new mail confirms the name that moved; the order is issued
    st, _, body = w.request("POST", f"/confirm/{second}", body=b"",
                            headers={"Content-Type":
                                     "application/x-www-form-urlencoded"})
    assert st == 200, body
    ev = json.loads(db(rig, "SELECT evidence FROM authorizations a JOIN "
                            "order_authz x ON x.authz_id = a.id WHERE "
                            "x.order_id = ? AND a.identifier = ?",
                            (oid, moved))[0][0])
    assert ev["email_to"] == "admin@" + base
    assert api(rig, "GET", f"/api/v1/orders/{oid}")[2]["state"] == "issued"


CONTACT = {"name": "Ada Admin", "email": "ada@caa-dv.test",
           "phone": "+49 721 123456"}
ORG = {"legal_name": "CAA DV GmbH", "country": "DE", "locality": "Karlsruhe",
       "street": "Hauptstr. 1", "postal_code": "76131"}


def test_wildcard_only_by_dns_and_caa_on_the_page(rig):
    """DESIGN.md: a wildcard only through DNS. A Business Wildcard order
    for a domain not on our nameservers mails the hostmaster for the
    domain alone; the wildcard waits for the record the customer places,
    and email cannot be chosen for it. The confirmation page names what
    it confirms; a CAA record that forbids this CA gets the page's own
    answer (409, the reason, the link still usable), not an error of
    ours."""
    name = "caa-dv.test"
    to = "hostmaster@" + name
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product",
                   "business_wildcard")
    _, csr = make_csr(["*." + name, name])
    st, _, doc = api(rig, "POST", f"/api/v1/slots/{slot}/orders", {
        "domain": name, "purpose": "hosting", "terms_accepted": True,
        "csr": csr, "admin": CONTACT, "tech": CONTACT, "org": ORG})
    assert st == 201, doc
    oid = doc["id"]
    v = api(rig, "GET", f"/api/v1/orders/{oid}/validations")[2]
    by = {("*." if x["wildcard"] else "") + x["name"]: x
          for x in v["validations"]}
    assert by["*." + name]["method"] == "dns", by
    assert "email" not in by["*." + name]["methods"], by
    assert by[name]["method"] == "email", by
    st, _, doc = api(rig, "POST", f"/api/v1/orders/{oid}/validations/"
                     "choose", {"authz_id": by["*." + name]["authz_id"],
                                "method": "email",
                                "email_local": "hostmaster"})
    assert st == 422 and "only be validated through DNS" in \
        json.dumps(doc), doc
    # one mail, which names the certificate's names; its link confirms
    # the domain alone (the page says which)
    m = rig.inbox.wait(lambda r, m: r == [to])
    assert "*." + name in body_of(m)
    token = link_of(m)
    c = rig.client()
    st, _, body = c.get(f"/confirm/{token}")
    assert st == 200
    assert f'<dd id="c-names">{name}</dd>'.encode() in body, body
    # CAA forbids this CA: said on the page, nothing confirmed
    st, _, body = c.request("POST", f"/confirm/{token}", body=b"",
                            headers={"Content-Type":
                                     "application/x-www-form-urlencoded"})
    assert st == 409, body
    assert b"CAA" in body and b"confirm again" in body, body
    assert b"Something went wrong" not in body
    assert db(rig, "SELECT count(*) FROM authorizations a JOIN orders o "
                   "ON o.id = a.order_id WHERE o.id = ? AND a.status = "
                   "'valid'", (oid,)) == [(0,)]
    st, _, body = c.get(f"/confirm/{token}")
    assert st == 200 and b'method="post"' in body    # still usable
