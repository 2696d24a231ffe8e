# SPDX-License-Identifier: Apache-2.0
"""Staff in the customer portal, adversarially: a customer's contracts,
slots, orders and certificates are for that customer's own users. A
validation agent and an admin, each with a browser session and with an API
token, try to list, view, download, revoke, place, renew, activate and
validate customers' orders and certificates through the pages
(/portal/...) and the customer API (/api/v1/...): every attempt is answered
as for a customer without access (404; nothing of the customer's in the
answer), and the database is unchanged afterwards. Staff keep what is
theirs: the back office, GET /api/v1/me, and for admins the Outgoing mail
page, which says "In the spool folder" for mail spooled because no SMTP
server is configured, and the Certificate authority page. The customer, in the same run, still sees and can
use everything (so the refusals are not an empty fixture)."""
import json
import re
import signal
import socket
import ssl
import time

import pytest
from cryptography import x509

from portal_rig import PASSWORD, Rig, page_time
from test_portal_orders import db, make_csr

A_DOMAIN = "a-staff.test"
B_DOMAIN = "b-staff.test"


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    r = Rig(tmp_path_factory.mktemp("portal-staff"))
    for who, role in (("agent", "agent"), ("admin", "admin")):
        r.users[who] = r.cli("admin", "user", "add", "--email",
                             f"{who}@staff.test", "--name",
                             f"Staff {who}", "--role", role,
                             "--password-stdin", input=PASSWORD + "\n")
        r.emails[who] = f"{who}@staff.test"
    r.server.start()      # no [mail] smtp_url: mail goes to the spool
    # customer A: an issued certificate (operator-validated)
    ta = r.token("a")
    c = r.client()
    _, csr = make_csr([A_DOMAIN, "www." + A_DOMAIN])
    st, _, doc = c.api("POST", f"/api/v1/slots/{r.ids['a']['starter0']}"
                       "/orders", token=ta, body=json.dumps({
                           "domain": A_DOMAIN, "purpose": "server",
                           "terms_accepted": True, "csr": csr}))
    assert st == 201, doc
    r.issued = doc["id"]
    assert r.cli("admin", "validate", "--order", str(r.issued)) == "issued"
    # customer B: an order waiting for domain validation (its mail spooled)
    tb = r.token("b")
    _, csr = make_csr([B_DOMAIN, "www." + B_DOMAIN])
    st, _, doc = c.api("POST", f"/api/v1/slots/{r.ids['b']['starter0']}"
                       "/orders", token=tb, body=json.dumps({
                           "domain": B_DOMAIN, "purpose": "server",
                           "terms_accepted": True, "csr": csr}))
    assert st == 201 and doc["state"] == "validation_pending", doc
    r.pending = doc["id"]
    st, _, doc = c.api("GET", f"/api/v1/orders/{r.pending}/validations",
                       token=tb)
    assert st == 200, doc
    r.authz = doc["validations"][0]["authz_id"]
    r.customer_tokens = {"a": ta, "b": tb}
    yield r
    r.server.stop()


def snapshot(rig):
    """Everything a customer's data consists of, and the audit log."""
    return {
        "slots": db(rig, "SELECT id, state FROM slots ORDER BY id"),
        "orders": db(rig, "SELECT id, status, cert_serial, slot_id FROM "
                          "orders ORDER BY id"),
        "certs": db(rig, "SELECT serial FROM certificates ORDER BY "
                         "serial"),
        "revoked": db(rig, "SELECT serial, reason FROM revocations "
                           "ORDER BY serial"),
        "authz": db(rig, "SELECT id, status, method FROM authorizations "
                         "ORDER BY id"),
        "audit": db(rig, "SELECT count(*) FROM audit_log")[0][0],
        "mail": db(rig, "SELECT count(*) FROM mail_outbox")[0][0]
        if db(rig, "SELECT count(*) FROM sqlite_master WHERE name = "
                   "'mail_outbox'")[0][0] else None,
    }


def secrets_of_customers(rig):
    """Byte strings that must never appear in an answer to staff."""
    return [A_DOMAIN.encode(), B_DOMAIN.encode(), b"A-0001", b"B-0001",
            b"Customer A", b"Customer B"]


class Staff:
    """One staff member: a logged-in browser and an API token."""

    def __init__(self, rig, who):
        self.rig, self.who = rig, who
        self.browser = rig.client()
        st, h, _ = self.browser.login(rig.emails[who], PASSWORD)
        assert st == 303
        self.landing = h["Location"]
        st, _, me = self.browser.api("GET", "/api/v1/me")
        assert st == 200 and me["role"] == who, me
        self.csrf = me["csrf_token"]
        self.token = rig.token(who)
        self.api_client = rig.client()

    def page(self, method, path, fields=None):
        if method == "GET":
            return self.browser.get(path)
        f = dict(fields or {})
        f["csrf"] = self.csrf
        return self.browser.post_form(path, f)

    def api_session(self, method, path, body=None):
        return self.browser.api(method, path, csrf=self.csrf if method ==
                                "POST" else None, body=body)

    def api_token(self, method, path, body=None):
        return self.api_client.api(method, path, token=self.token, body=body)


def order_body(domain):
    _, csr = make_csr([domain, "www." + domain])
    return {"domain": domain, "purpose": "server", "terms_accepted": True,
            "csr": csr}


def page_attempts(rig):
    a, b = rig.ids["a"], rig.ids["b"]
    oid, pid, authz = rig.issued, rig.pending, rig.authz
    _, csr = make_csr(["x." + A_DOMAIN])
    setup = {"domain": "x." + A_DOMAIN, "purpose": "server", "terms": "1",
             "key_source": "browser", "csr": csr}
    return [
        ("GET", "/portal/overview", None),
        ("GET", f"/portal/orders/{oid}", None),
        ("GET", f"/portal/orders/{pid}", None),
        ("GET", f"/portal/orders/{oid}/download/cert.pem", None),
        ("GET", f"/portal/orders/{oid}/download/fullchain.p7b", None),
        ("POST", f"/portal/orders/{oid}/revoke", {"reason": "1"}),
        # place an order on an unused slot, renew the issued one
        ("GET", f"/portal/slots/{b['starter0']}/setup", None),
        ("GET", f"/portal/slots/{a['unlimited1']}/setup", None),
        ("POST", f"/portal/slots/{a['business2']}/setup", setup),
        ("POST", f"/portal/slots/{a['starter0']}/setup", setup),
        ("POST", f"/portal/slots/{a['unlimited1']}/activate", {}),
        ("POST", f"/portal/slots/{b['unlimited1']}/activate", {}),
        # domain validation of B's pending order
        ("POST", f"/portal/orders/{pid}/dv/{authz}/choose",
         {"method": "http"}),
        ("POST", f"/portal/orders/{pid}/dv/{authz}/check", {}),
        ("POST", f"/portal/orders/{pid}/dv/{authz}/resend", {}),
        # paths that do not exist for anyone
        ("GET", "/portal/orders/999999", None),
        ("GET", "/portal/slots/999999/setup", None),
    ]


def api_attempts(rig):
    a, b = rig.ids["a"], rig.ids["b"]
    oid, pid, authz = rig.issued, rig.pending, rig.authz
    return [
        ("GET", "/api/v1/contracts", None),
        ("GET", f"/api/v1/contracts/{a['contract']}", None),
        ("GET", f"/api/v1/contracts/{b['contract']}", None),
        ("GET", f"/api/v1/slots/{a['starter0']}", None),
        ("GET", "/api/v1/orders", None),
        ("GET", f"/api/v1/orders/{oid}", None),
        ("GET", f"/api/v1/orders/{pid}", None),
        ("GET", f"/api/v1/orders/{oid}/certificate/cert.pem", None),
        ("GET", f"/api/v1/orders/{oid}/certificate/fullchain.pem", None),
        ("POST", f"/api/v1/orders/{oid}/revoke", '{"reason": 1}'),
        ("POST", f"/api/v1/slots/{b['starter0']}/orders",
         json.dumps(order_body(B_DOMAIN))),
        ("POST", f"/api/v1/slots/{a['starter0']}/orders",      # renew
         json.dumps(order_body(A_DOMAIN))),
        ("POST", f"/api/v1/slots/{a['unlimited1']}/activate", None),
        ("GET", f"/api/v1/orders/{pid}/validations", None),
        ("POST", f"/api/v1/orders/{pid}/validations/choose",
         json.dumps({"authz_id": authz, "method": "http"})),
        ("POST", f"/api/v1/orders/{pid}/validations/check",
         json.dumps({"authz_id": authz})),
        ("POST", f"/api/v1/orders/{pid}/validations/resend",
         json.dumps({"authz_id": authz})),
    ]


@pytest.mark.parametrize("who", ["agent", "admin"])
def test_staff_refused_everything_of_customers(rig, who):
    s = Staff(rig, who)
    before = snapshot(rig)      # after the login and the token (audited)
    leaks = secrets_of_customers(rig)
    for method, path, fields in page_attempts(rig):
        st, _, body = s.page(method, path, fields)
        assert st == 404, (who, method, path, st, body[:300])
        for leak in leaks:
            assert leak not in body, (who, method, path, leak)
    for method, path, body in api_attempts(rig):
        for how, call in (("session", s.api_session),
                          ("token", s.api_token)):
            st, h, doc = call(method, path, body)
            assert st == 404, (who, how, method, path, st, doc)
            assert doc["type"] == "urn:certdesk:problem:not-found", doc
            assert h["Content-Type"] == "application/problem+json"
            assert not any(leak.decode() in json.dumps(doc)
                           for leak in leaks), (who, how, path, doc)
    # a token never opens pages (tokens are for the API)
    st, h, _ = s.api_client.request(
        "GET", "/portal/overview",
        headers={"Authorization": f"Bearer {s.token}"})
    assert st == 303 and h["Location"] == \
        "/portal/login?next=/portal/overview"
    assert snapshot(rig) == before


@pytest.mark.parametrize("who", ["agent", "admin"])
def test_staff_home_and_me(rig, who):
    s = Staff(rig, who)
    st, h, body = s.browser.get("/portal/")
    if who == "agent":
        # agents land in the back office, and /portal/ sends them there
        assert s.landing == "/backoffice/"
        assert st == 303 and h["Location"] == "/backoffice/"
    else:
        assert s.landing == "/portal/"
        assert st == 200 and b'id="staff-home"' in body
        assert b'href="/backoffice/"' in body
        assert b'href="/portal/admin/mail"' in body
        # staff navigation: no customer links
        assert b'href="/portal/overview"' not in body
    for leak in secrets_of_customers(rig):
        assert leak not in body
    # "me" answers by session and token: the role, no customer
    for call in (s.api_session, s.api_token):
        st, _, me = call("GET", "/api/v1/me")
        assert st == 200 and me["role"] == who
        assert me["customer_id"] is None
    # the back office is theirs; the admin's nav leads to Outgoing mail
    st, _, body = s.browser.get("/backoffice/")
    assert st == 200
    assert (b'href="/portal/admin/mail"' in body) == (who == "admin")
    # a POST to the home page is not a way in either
    st, _, _ = s.page("POST", "/portal/", {})
    assert st == 405


def test_outgoing_mail_admin_only_and_spooled(rig):
    """Item: without smtp_url the Outgoing mail page says the mail went to
    the spool folder (certdesk serve passes [mail] smtp_url to the
    portal)."""
    spool = rig.data / "mail" / "spool"
    # the mail worker spools it on its own schedule: wait for it
    deadline = time.monotonic() + 15
    while not (spool.is_dir() and list(spool.glob("*.eml"))):
        assert time.monotonic() < deadline, \
            "the pending order's mail is not in the spool"
        time.sleep(0.1)
    agent = Staff(rig, "agent")
    st, _, _ = agent.browser.get("/portal/admin/mail")
    assert st == 404
    admin = Staff(rig, "admin")
    st, _, body = admin.browser.get("/portal/admin/mail")
    assert st == 200, body[:300]
    text = body.decode()
    rows = re.findall(r'<tr data-mail="(\d+)"', text)
    assert rows, text[:2000]
    assert "In the spool folder" in text
    assert "mail-spooled" in text and "mail-sent" not in text
    assert "hostmaster@" + B_DOMAIN in text
    # one mail's text, with the confirmation link clickable
    hm = re.search(r'<tr data-mail="(\d+)"[^>]*>(?:(?!</tr>).)*hostmaster@'
                   + re.escape(B_DOMAIN), text, re.S)
    assert hm, text[:2000]
    st, _, body = admin.browser.get(f"/portal/admin/mail/{hm.group(1)}")
    assert st == 200 and b"/confirm/" in body
    # the admin's API token does not open the page (sessions only)
    st, h, _ = admin.api_client.request(
        "GET", "/portal/admin/mail",
        headers={"Authorization": f"Bearer {admin.token}"})
    assert st == 303 and h["Location"] == \
        "/portal/login?next=/portal/admin/mail"


def test_customers_still_see_their_own(rig):
    """The control: the same requests by the customer succeed."""
    c = rig.login("a")
    st, _, body = c.get(f"/portal/orders/{rig.issued}")
    assert st == 200 and A_DOMAIN.encode() in body
    st, _, body = c.get(f"/portal/orders/{rig.issued}/download/cert.pem")
    assert st == 200
    st, _, doc = c.api("GET", "/api/v1/orders",
                       token=rig.customer_tokens["a"])
    assert st == 200 and [o["id"] for o in doc["orders"]] == [rig.issued]
    st, _, doc = c.api("GET", f"/api/v1/orders/{rig.pending}",
                       token=rig.customer_tokens["b"])
    assert st == 200 and doc["state"] == "validation_pending"
    # and another customer's stays 404 for them too
    st, _, _ = c.get(f"/portal/orders/{rig.pending}")
    assert st == 404


def test_certificate_authority_page(rig):
    """The admin's Certificate authority page: every CA with its role, key,
    lifetime, newest CRL and published files; 404 for everyone else. After
    a `ca roll` on the running store it shows the new active issuing CA
    and, until this server's next check (SIGHUP here), that it still
    issues from the one it started with; no restart is asked for."""
    agent = Staff(rig, "agent")
    assert agent.browser.get("/portal/admin/ca")[0] == 404
    assert rig.login("a").get("/portal/admin/ca")[0] == 404
    admin = Staff(rig, "admin")
    st, h, _ = admin.api_client.request(
        "GET", "/portal/admin/ca",
        headers={"Authorization": f"Bearer {admin.token}"})
    assert st == 303 and h["Location"] == \
        "/portal/login?next=/portal/admin/ca"
    assert admin.page("POST", "/portal/admin/ca", {})[0] == 405
    assert admin.browser.get("/portal/admin/ca/x")[0] == 404
    st, _, body = admin.browser.get("/portal/")
    assert b'href="/portal/admin/ca"' in body

    def rows():
        st, _, body = admin.browser.get("/portal/admin/ca")
        assert st == 200, body[:300]
        text = body.decode()
        return text, {m.group(1): m.group(0) for m in re.finditer(
            r'<tr id="ca-([a-z0-9-]+)".*?</tr>', text, re.S)}

    base = f"http://127.0.0.1:{rig.port}"
    text, r = rows()
    assert sorted(r) == ["issuing-1", "root"]
    assert "Root" in r["root"] and "P-384" in r["root"]
    assert "certdesk Root CA" in r["root"]
    assert 'class="active"' in r["issuing-1"]
    assert "Issuing, active" in r["issuing-1"] and "P-256" in r["issuing-1"]
    assert f'href="{base}/ca/issuing-1.pem"' in r["issuing-1"]
    assert f'href="{base}/crl/issuing-1.json"' in r["issuing-1"]
    assert f'href="{base}/crl/root.crl"' in r["root"]
    assert "days left" in r["issuing-1"] and "next by" in r["issuing-1"]
    # "Newest CRL" is the one published last, full or of a shard: a
    # shard's CRL published 8 minutes after the full CRL shows
    iid, = rig.db("SELECT id FROM issuers WHERE name = 'issuing-1'")[0]
    full, nxt = rig.db("SELECT this_update, next_update FROM crls WHERE "
                       "issuer_id = ? ORDER BY number DESC LIMIT 1", iid)[0]
    assert f"<td>{page_time(full)}<br>" in r["issuing-1"], r["issuing-1"]
    rig.db_write("INSERT INTO crl_shards (issuer_id, shard, number, "
                 "this_update, next_update) VALUES (?, 999, 1, ?, ?)", iid,
                 full + 480, nxt + 480)
    # "next by": the earliest nextUpdate of them, the one renewed first
    first = min([nxt] + [n for n, in rig.db(
        "SELECT next_update FROM crl_shards WHERE issuer_id = ? AND "
        "number > 0", iid)])
    try:
        _, r = rows()
        assert f"<td>{page_time(full + 480)}<br><span class=\"hint\">" \
            f"next by {page_time(first)}<" in r["issuing-1"], r["issuing-1"]
    finally:
        rig.db_write("DELETE FROM crl_shards WHERE issuer_id = ? AND "
                     "shard = 999", iid)
    assert "as key files in the signer&#39;s key directory" in text or \
        "as key files in the signer's key directory" in text
    assert 'id="ca-restart"' not in text and 'id="ca-expiry"' not in text
    # the HTTPS certificate this server presents, far from re-issuing
    ctx = ssl.create_default_context(cafile=str(rig.data / "ca" /
                                                "root.pem"))
    with socket.create_connection(("127.0.0.1", rig.server.https_port),
                                  timeout=10) as sock:
        with ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            svc = x509.load_der_x509_certificate(
                tls.getpeercert(binary_form=True))
    until = page_time(svc.not_valid_after)
    assert 'class="warning" id="ca-service"' not in text
    para = re.search(r'<p id="ca-service">(.*?)</p>', text, re.S)
    assert para and f"is valid until {until} (89 days left)" in \
        para.group(1), text
    # after the CA table, before the keys
    assert text.index("</table>") < text.index('id="ca-service"') < \
        text.index('id="ca-keys"')

    rig.cli("ca", "roll")
    text, r = rows()
    assert sorted(r) == ["issuing-1", "issuing-2", "root"]
    assert "Issuing, active" in r["issuing-2"]
    assert "Issuing, earlier" in r["issuing-1"]
    assert 'class="earlier"' in r["issuing-1"]
    # the rows: root, then issuing CAs newest first
    assert text.index('id="ca-root"') < text.index('id="ca-issuing-2"') < \
        text.index('id="ca-issuing-1"')
    # this server takes it up at its next check, without a restart
    # (SIGHUP: at once); the page says so until then
    notice = re.search(r'<p class="notice" id="ca-switch">(.*?)</p>', text,
                       re.S)
    assert notice is None or "still issues from issuing-1 and switches " \
        "to issuing-2 at its next check, within a minute, without a " \
        "restart" in notice.group(1), text
    assert 'id="ca-restart"' not in text
    rig.server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while 'id="ca-switch"' in text and time.monotonic() < deadline:
        time.sleep(0.2)
        text, r = rows()
    assert 'id="ca-switch' not in text, text
    assert "issuing CA issuing-2: new certificates come from it" in \
        rig.server.stderr()


def test_admin_revokes_acme_account(rig):
    """The admin's ACME accounts page lists every account and revokes one
    with a reason (audited by the admin's session); customers and agents
    do not see it; a revoked account's requests are refused."""
    from acme_client import Client
    root = rig.data / "ca" / "root.pem"
    url = rig.server.https_url("/acme/directory")
    clients = []
    for mail in ("ops@one.example", "ops@two.example"):
        c = Client(url, root)
        r = c.new_account(contact=["mailto:" + mail])
        assert r.status == 201, r
        c.id = int(c.kid.rsplit("/", 1)[1])
        clients.append(c)
    one, two = clients
    for who in ("agent",):
        st, _, _ = Staff(rig, who).page("GET", "/portal/admin/acme")
        assert st == 404
    st, _, _ = rig.login("a").get("/portal/admin/acme")
    assert st == 404
    admin = Staff(rig, "admin")
    st, _, body = admin.page("GET", "/portal/admin/acme")
    text = body.decode()
    assert st == 200 and 'href="/portal/admin/acme"' in text
    for c in clients:
        assert f'<tr data-account="{c.id}" data-status="valid">' in text
    assert "ops@two.example" in text and "ops@one.example" in text
    # newest first
    assert text.index(f'data-account="{two.id}"') < \
        text.index(f'data-account="{one.id}"')
    # a reason is required; a forged form is refused
    st, h, _ = admin.page("POST", "/portal/admin/acme/revoke",
                          {"account": str(one.id), "reason": "  "})
    assert st == 303
    st, _, body = admin.page("GET", "/portal/admin/acme")
    assert "Say why the account is revoked" in body.decode()
    st, _, _ = admin.browser.post_form("/portal/admin/acme/revoke", {
        "csrf": "forged", "account": str(one.id), "reason": "x"})
    assert st == 403
    st, _, _ = admin.page("GET", "/portal/admin/acme/revoke")
    assert st == 405
    st, _, _ = admin.page("GET", "/portal/admin/acme?before=x")
    assert st == 400
    # revoked
    st, _, _ = admin.page("POST", "/portal/admin/acme/revoke",
                          {"account": str(one.id), "reason": "abuse #9"})
    assert st == 303
    st, _, body = admin.page("GET", "/portal/admin/acme")
    text = body.decode()
    assert f"ACME account {one.id} is revoked" in text
    assert f'<tr data-account="{one.id}" data-status="revoked">' in text
    assert f'name="account" value="{one.id}"' not in text
    assert f'name="account" value="{two.id}"' in text
    r = one.new_order(["x.example.com"])
    assert r.status == 403 and "is revoked" in r.problem["detail"]
    assert two.new_order(["y.example.com"]).status == 201
    assert db(rig, "SELECT actor, details FROM audit_log WHERE action = "
              "'acme.account.revoke' AND object = ?",
              (f"acme_account:{one.id}",)) == [
        (f"portal:user/{rig.users['admin']}",
         f'{{"id":{one.id},"reason":"abuse #9"}}')]
    # again: not valid any more; unknown: no such account
    for acct, want in ((one.id, "is not valid"), (424242, "no such")):
        admin.page("POST", "/portal/admin/acme/revoke",
                   {"account": str(acct), "reason": "again"})
        st, _, body = admin.page("GET", "/portal/admin/acme")
        assert want in body.decode()
