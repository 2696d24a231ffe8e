# SPDX-License-Identifier: Apache-2.0
"""The back office end to end over HTTPS against the real binary: customers
(and strangers) never reach /backoffice/ (404, as for an address that does
not exist), agents log in through the portal and land in the back office;
nothing is issued for an OV order before its organisation is approved,
even with its domain validated; approval issues an OV certificate whose
subject comes from the evidence, not from what the customer typed; an EV
order needs two different agents (one agent, with a session or a second
token, cannot give both approvals); information requested from the
customer shows on the portal overview and the order's page, is mailed,
and the customer's answer reaches the case; rejection frees the slot (not
set up again, its page offers to set up again), and the slot of a
rejected renewal keeps its certificate; every decision is in the audit
log, which verifies."""
import datetime
import json
import re
import sqlite3
import urllib.parse

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

from portal_rig import PAGE_TIME_RE, PASSWORD, Rig

# evidence is of yesterday: organisation data counts from when it was
# obtained, and older than the BR allow is refused (BR 4.2.1)
DAY = (datetime.datetime.now(datetime.timezone.utc) -
       datetime.timedelta(days=1)).strftime("%Y-%m-%d")

OV_EVIDENCE = {
    "legal_existence": {"source": "Handelsregister Mannheim",
                        "registration_number": "HRB 700001",
                        "date_checked": DAY,
                        "legal_name": "A Shop Handels GmbH"},
    "address": {"source": "Register extract", "street": "Hauptstr. 1",
                "postal_code": "76131", "locality": "Karlsruhe",
                "state": "Baden-Wuerttemberg", "country": "DE"},
    "domain_registrant": {"source": "RDAP rdap.denic.de",
                          "registrant": "A Shop Handels GmbH",
                          "matches": "yes", "date_checked": DAY},
    "telephone": {"number": "+49 721 555000",
                  "number_source": "Deutsche Telekom directory",
                  "person": "Ada Admin, managing director",
                  "called_at": DAY + " 10:30", "outcome": "confirmed"},
}
EV_EVIDENCE = dict(OV_EVIDENCE, **{
    "ev_jurisdiction": {"source": "Handelsregister",
                        "jurisdiction_country": "DE"},
    "ev_business_category": {"source": "Handelsregister",
                             "business_category": "Private Organization"},
    "ev_registration": {"source": "Handelsregister Mannheim",
                        "registration_number": "HRB 700001",
                        "date_checked": DAY},
})


def make_csr(names):
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                       names[0])]))
           .add_extension(x509.SubjectAlternativeName(
               [x509.DNSName(n) for n in names]), critical=False)
           .sign(key, hashes.SHA256()))
    return csr.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    r = Rig(tmp_path_factory.mktemp("backoffice"))
    a = r.ids["a"]
    for n in range(4):
        a[f"business_x{n}"] = r.cli("admin", "slot", "add", "--contract",
                                    a["contract"], "--product", "business")
    a["premium"] = r.cli("admin", "slot", "add", "--contract",
                         a["contract"], "--product", "premium")
    for who in ("ann", "bob"):
        r.users[who] = r.cli("admin", "user", "add", "--email",
                             f"{who}@ca.example", "--name",
                             f"{who.title()} Agent", "--role", "agent",
                             "--password-stdin", input=PASSWORD + "\n")
        r.emails[who] = f"{who}@ca.example"
    r.server.start()
    yield r
    r.server.stop()


def db(rig, sql, args=()):
    con = sqlite3.connect(rig.data / "certdesk.db")
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def order(rig, slot, domain, premium=False, legal="A Shop GmbH"):
    """An OV/EV order of customer A through the portal API, the legal name
    typed as `legal`; its id. The organisation approved first (registered
    as "A Shop Handels GmbH") is reused for the names it is known by, so
    a test that needs a case of its own types another one."""
    org = {"legal_name": legal, "country": "DE",
           "locality": "Karlsruhe", "street": "Hauptstr. 1",
           "postal_code": "76131"}
    if premium:
        org.update(registration_number="HRB 700001", jurisdiction="DE",
                   business_category="Private Organization")
    body = {"domain": domain, "purpose": "server", "terms_accepted": True,
            "csr": make_csr([domain]),
            "admin": {"name": "Ada Admin", "email": "ada@a-shop.test",
                      "phone": "+49 721 123456"},
            "tech": {"name": "Tom Tech", "email": "tom@a-shop.test",
                     "phone": "+49 721 654321"},
            "org": org}
    st, _, doc = rig.client().api("POST", f"/api/v1/slots/{slot}/orders",
                                  token=rig.token("a"),
                                  body=json.dumps(body))
    assert st == 201, doc
    return doc["id"]


class Agent:
    def __init__(self, rig, who):
        self.rig = rig
        self.token = rig.token(who)
        self.c = rig.client()

    def api(self, method, path, body=None):
        st, _, doc = self.c.api(method, "/backoffice/api/" + path,
                                token=self.token,
                                body=None if body is None else
                                json.dumps(body))
        return st, doc

    def case_of(self, order_id):
        st, doc = self.api("GET", f"orders/{order_id}/case")
        assert st == 200, doc
        return doc

    def do(self, case, action, body=None, want=200):
        st, doc = self.api("POST", f"cases/{case}/{action}", body)
        assert st == want, (action, st, doc)
        return doc

    def evidence(self, case, steps):
        for step, ev in steps.items():
            self.do(case, "evidence", {"step": step, "evidence": ev})


def order_doc(rig, order_id):
    st, _, doc = rig.client().api("GET", f"/api/v1/orders/{order_id}",
                                  token=rig.token("a"))
    assert st == 200
    return doc


def cert_of(rig, order_id):
    st, _, data = rig.client().request(
        "GET", f"/api/v1/orders/{order_id}/certificate/cert.pem",
        headers={"Authorization": f"Bearer {rig.token('a')}"})
    assert st == 200, data[:200]
    return x509.load_pem_x509_certificate(data)


def policy_oids(cert):
    ext = cert.extensions.get_extension_for_class(x509.CertificatePolicies)
    return {p.policy_identifier.dotted_string for p in ext.value}


def test_customers_and_strangers_get_404(rig):
    c = rig.login("a")
    for path in ("/backoffice", "/backoffice/", "/backoffice/cases/1",
                 "/backoffice/queue/all", "/backoffice/api/cases"):
        st, _, body = c.get(path)
        assert st == 404, path
        assert b"back office" not in body.lower()
    st, _, _ = c.post_form("/backoffice/cases/1/approve",
                           {"csrf": c.page_csrf()})
    assert st == 404
    # the customer's API token: 404 too
    st, _, doc = rig.client().api("GET", "/backoffice/api/cases",
                                  token=rig.token("a"))
    assert st == 404
    st, _, doc = rig.client().api("POST", "/backoffice/api/cases/1/approve",
                                  token=rig.token("a"), body="{}")
    assert st == 404
    # not logged in: the login page for pages (which leads back to
    # them), 404 for the API
    s = rig.client()
    st, h, _ = s.get("/backoffice/")
    assert st == 303 and h["Location"] == "/portal/login?next=/backoffice/"
    st, _, _ = s.api("GET", "/backoffice/api/cases")
    assert st == 404
    st, _, _ = s.api("GET", "/backoffice/api/cases",
                     token="cdt_" + "0" * 64)
    assert st == 404


def test_agent_login_lands_in_back_office(rig):
    c = rig.client()
    st, h, _ = c.login(rig.emails["ann"], PASSWORD)
    assert st == 303 and h["Location"] == "/backoffice/"
    st, _, body = c.get("/backoffice/")
    assert st == 200
    assert b"Organisation validation queue" in body
    st, h, _ = c.get("/backoffice")
    assert st == 303 and h["Location"] == "/backoffice/"
    st, _, _ = c.get("/backoffice/cases/999999")
    assert st == 404
    st, _, _ = c.get("/backoffice/cases/01")
    assert st == 404
    # the API with the session: reads need nothing, actions the CSRF
    # header
    st, _, doc = c.api("GET", "/backoffice/api/cases")
    assert st == 200 and "cases" in doc
    st, _, doc = c.api("POST", "/backoffice/api/cases/999999/take")
    assert st == 403
    st, _, doc = c.api("POST", "/backoffice/api/cases/999999/take",
                       csrf=c.csrf_from(body))
    assert st == 404
    st, _, doc = c.api("GET", "/backoffice/api/cases/999999/take")
    assert st == 405
    # a customer still logs in to the portal
    st, h, _ = rig.client().login(rig.emails["a"], PASSWORD)
    assert st == 303 and h["Location"] == "/portal/"


def login_via(c, login_path, email):
    """Logs in from the login page at login_path, with its hidden fields
    (the CSRF token, next); the reply."""
    st, _, body = c.get(login_path)
    assert st == 200
    form = dict(re.findall(r'<input type="hidden" name="([a-z]+)" '
                           r'value="([^"]*)">', body.decode()))
    form.update(email=email, password=PASSWORD)
    return c.post_form("/portal/login", form)


def test_login_leads_back_to_the_back_office_page(rig):
    """A logged-out visit to a back office page (the link of a case sent
    to an agent) goes to the login page, and the login back to that page:
    only a path of this site under /backoffice/ (not its API), of plain
    characters, never another site; a customer who logs in that way goes
    to the portal, where the back office does not exist for them."""
    c = rig.client()
    st, h, _ = c.get("/backoffice/cases/7")
    assert st == 303 and h["Location"] == \
        "/portal/login?next=/backoffice/cases/7"
    st, h, _ = c.get("/backoffice/?page=2")
    assert st == 303 and h["Location"] == \
        "/portal/login?next=/backoffice/%3Fpage%3D2"
    st, h, _ = login_via(c, h["Location"], rig.emails["ann"])
    assert st == 303 and h["Location"] == "/backoffice/?page=2"
    st, _, body = c.get(h["Location"])
    assert st == 200 and b"Organisation validation queue" in body
    # logged in already: the login page goes there at once
    st, h, _ = c.get("/portal/login?next=/backoffice/cases/7")
    assert st == 303 and h["Location"] == "/backoffice/cases/7"
    # a customer: the portal, from the login and when logged in
    c = rig.client()
    st, h, _ = login_via(c, "/portal/login?next=/backoffice/cases/7",
                         rig.emails["a"])
    assert st == 303 and h["Location"] == "/portal/"
    st, h, _ = c.get("/portal/login?next=/backoffice/cases/7")
    assert st == 303 and h["Location"] == "/portal/"
    # targets the login cannot lead back to: the plain login page
    for path in ("/backoffice/%2F%2Fevil.example", "/backoffice/x%5Cevil",
                 "/backoffice//evil.example", "/backoffice/%2E%2E/x",
                 "/backoffice/cases/7?next=%2F%2Fevil.example",
                 "/backoffice/" + "a" * 600):
        st, h, _ = rig.client().get(path)
        assert st == 303 and h["Location"] == "/portal/login", path
    # hostile next values, given to the login page and posted: never
    # used, the agent's login goes to the back office's queue
    hostile = ["/backoffice//evil.example", "/backoffice/\\evil.example",
               "/backoffice/../../evil", "/backoffice/./x",
               "/backoffice/%2F%2Fevil.example",
               "/backoffice/%252F%252Fevil.example",
               "/backoffice/x\r\nLocation: https://evil.example",
               "/backoffice/@evil.example", "/backoffice/x:y",
               "/backoffice/api/cases", "/backofficex/", "/backoffice",
               "/backoffice/" + "a" * 600, "https://evil.example/backoffice/",
               "//evil.example/backoffice/"]
    for bad in hostile:
        c = rig.client()
        st, _, body = c.get("/portal/login?next=" +
                            urllib.parse.quote(bad, safe=""))
        assert st == 200 and b'name="next"' not in body, bad
        st, h, _ = c.post_form("/portal/login", {
            "csrf": c.csrf_from(body), "email": rig.emails["ann"],
            "password": PASSWORD, "next": bad})
        assert st == 303 and h["Location"] == "/backoffice/", bad
        st, h, _ = c.get("/portal/login?next=" +
                         urllib.parse.quote(bad, safe=""))
        assert st == 303 and h["Location"] == "/backoffice/", bad


def test_ov_nothing_issued_before_approval(rig):
    ann = Agent(rig, "ann")
    oid = order(rig, rig.ids["a"]["business2"], "shop.a-shop.test")
    case = ann.case_of(oid)
    assert case["state"] == "open" and case["profile"] == "ov"
    assert case["approvals_required"] == 1
    card = f'<section class="card dv" id="order-{oid}"'.encode()
    c = rig.login("a")
    assert card in c.get("/portal/overview")[2]
    # the domain is validated: still nothing issued
    assert rig.cli("admin", "validate", "--order", oid, "--method",
                   "operator") == "validated"
    doc = order_doc(rig, oid)
    assert doc["state"] == "org_validation_pending"
    assert doc["certificate"] is None
    # nothing for the customer to confirm: no "Confirm your domain"
    assert card not in c.get("/portal/overview")[2]
    # nothing can be approved or evidenced before the case is taken
    ann.do(case["id"], "approve", want=409)
    ann.do(case["id"], "evidence", {"step": "address",
                                    "evidence": OV_EVIDENCE["address"]},
           want=409)
    ann.do(case["id"], "take")
    # bad evidence is refused with the field named
    st, doc = ann.api("POST", f"cases/{case['id']}/evidence",
                      {"step": "telephone", "evidence":
                       dict(OV_EVIDENCE["telephone"], called_at="soon")})
    assert st == 400 and "called_at" in doc["detail"]
    st, doc = ann.api("POST", f"cases/{case['id']}/evidence",
                      {"step": "nope", "evidence": {}})
    assert st == 400
    st, doc = ann.api("POST", f"cases/{case['id']}/evidence",
                      {"step": "address", "evidence": {"country": 1}})
    assert st == 400
    st, _, doc = ann.c.api("POST", f"/backoffice/api/cases/{case['id']}"
                           "/evidence", token=ann.token, body="[1,2]")
    assert st == 400
    ev = dict(OV_EVIDENCE)
    del ev["telephone"]
    ann.evidence(case["id"], ev)
    doc = ann.do(case["id"], "approve", want=409)
    # the step named as the checklist shows it, not by its key
    assert doc["detail"] == "Not every step of the checklist is " \
        "fulfilled yet: Telephone verification."
    assert order_doc(rig, oid)["certificate"] is None
    ann.evidence(case["id"], {"telephone": OV_EVIDENCE["telephone"]})
    assert order_doc(rig, oid)["certificate"] is None
    doc = ann.do(case["id"], "approve")
    assert doc["state"] == "approved" and doc["issued"] is True
    doc = order_doc(rig, oid)
    assert doc["state"] == "issued"
    cert = cert_of(rig, oid)
    o = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert [a.value for a in o] == ["A Shop Handels GmbH"]   # verified
    assert "2.23.140.1.2.2" in policy_oids(cert)
    # approved is final
    ann.do(case["id"], "reject", {"reason": "changed my mind"}, want=409)
    rows = db(rig, "SELECT actor, action, details FROM audit_log WHERE "
              "object = ? ORDER BY seq", (f"org_case:{case['id']}",))
    actions = [r[1] for r in rows]
    assert actions[0] == "org.case.open"
    assert "org.case.take" in actions and "org.case.approve" in actions
    approve = [r for r in rows if r[1] == "org.case.approve"][0]
    assert approve[0] == f"backoffice:user/{rig.users['ann']}"
    assert "Deutsche Telekom directory" in approve[2]


def test_ev_one_agent_cannot_approve_twice(rig):
    ann, bob = Agent(rig, "ann"), Agent(rig, "bob")
    oid = order(rig, rig.ids["a"]["premium"], "bank.a-shop.test",
                premium=True)
    case = ann.case_of(oid)["id"]
    assert rig.cli("admin", "validate", "--order", oid, "--method",
                   "operator") == "validated"
    ann.do(case, "take")
    ann.evidence(case, EV_EVIDENCE)
    # a correction: the newer record counts, the older one is kept
    ann.evidence(case, {"address": dict(EV_EVIDENCE["address"],
                                        street="Hauptstr. 1a")})
    doc = ann.do(case, "approve")
    assert doc["state"] == "awaiting_second_approval"
    assert doc["issued"] is False
    assert order_doc(rig, oid)["certificate"] is None
    # the same agent again: with the same token, another token, a session
    doc = ann.do(case, "approve", want=409)
    assert "another agent" in doc["detail"]
    ann2 = Agent(rig, "ann")
    ann2.do(case, "approve", want=409)
    s = rig.client()
    s.login(rig.emails["ann"], PASSWORD)
    st, _, page = s.get(f"/backoffice/cases/{case}")
    assert st == 200 and b"another agent" in page
    assert b'id="do-approve"' not in page
    assert page.count(b"replaced by a later record") == 1
    assert b"Hauptstr. 1a" in page
    st, h, _ = s.post_form(f"/backoffice/cases/{case}/approve",
                           {"csrf": s.csrf_from(page)})
    assert st == 303
    assert order_doc(rig, oid)["certificate"] is None
    assert ann.case_of(oid)["state"] == "awaiting_second_approval"
    # evidence is frozen after the first approval
    bob.do(case, "evidence", {"step": "address",
                              "evidence": EV_EVIDENCE["address"]}, want=409)
    # a second, different agent
    doc = bob.do(case, "approve")
    assert doc["state"] == "approved" and doc["issued"] is True
    cert = cert_of(rig, oid)
    assert "2.23.140.1.1" in policy_oids(cert)
    subj = cert.subject
    assert subj.get_attributes_for_oid(
        NameOID.ORGANIZATION_NAME)[0].value == "A Shop Handels GmbH"
    assert subj.get_attributes_for_oid(
        NameOID.SERIAL_NUMBER)[0].value == "HRB 700001"
    assert subj.get_attributes_for_oid(
        NameOID.BUSINESS_CATEGORY)[0].value == "Private Organization"
    assert subj.get_attributes_for_oid(ObjectIdentifier(
        "1.3.6.1.4.1.311.60.2.1.3"))[0].value == "DE"
    rows = db(rig, "SELECT validated_by, ev_validated FROM organizations "
              "WHERE id = (SELECT org_id FROM orders WHERE id = ?)", (oid,))
    assert rows == [(f"user:{rig.users['ann']},user:{rig.users['bob']}",
                     1)]


def test_request_info_answer_and_reject(rig):
    ann = Agent(rig, "ann")
    oid = order(rig, rig.ids["a"]["business_x0"], "www.a-shop.test",
                legal="A Shop Online GmbH")
    case = ann.case_of(oid)["id"]
    # the agent works through the pages: take, ask
    s = rig.client()
    s.login(rig.emails["ann"], PASSWORD)
    st, _, page = s.get(f"/backoffice/cases/{case}")
    csrf = s.csrf_from(page)
    st, _, _ = s.post_form(f"/backoffice/cases/{case}/take", {})
    assert st == 403                              # no CSRF token
    st, h, _ = s.post_form(f"/backoffice/cases/{case}/take",
                           {"csrf": csrf})
    assert st == 303 and h["Location"] == f"/backoffice/cases/{case}"
    st, h, _ = s.post_form(f"/backoffice/cases/{case}/request-info",
                           {"csrf": csrf, "text": "Please send a current "
                            "<register> extract & the VAT id."})
    assert st == 303
    st, _, page = s.get(f"/backoffice/cases/{case}")
    assert b"&lt;register&gt; extract &amp; the VAT id" in page
    # the customer sees it on the overview and got mail
    c = rig.login("a")
    st, _, page = c.get("/portal/overview")
    assert st == 200
    assert b"&lt;register&gt; extract &amp; the VAT id" in page
    mails = db(rig, "SELECT to_addr, body FROM mail_outbox WHERE kind = "
               "'org.info' AND body LIKE '%VAT id%'")
    assert {m[0] for m in mails} >= {"ada@a-shop.test", "tom@a-shop.test"}
    # which says to answer on the order's page, and links it
    for _, body in mails:
        assert re.search(r"What to do next: open your order, where the "
                         r"question is shown with a form for your "
                         rf"answer:\n\nhttps://[^/\s]+/portal/orders/{oid}\n",
                         body), body
        assert "overview" not in body, body
    # the order's row says information is needed, not that we call
    row = re.search(rf'<tr data-order="{oid}" [^>]*>(.*?)</tr>',
                    page.decode(), re.S).group(1)
    assert ">Information needed</span>" in row
    assert "will call your" not in row
    # the API says so too (its state stays the order's), alone and in
    # the list
    doc = order_doc(rig, oid)
    assert doc["state"] == "org_validation_pending"
    assert doc["state_help"].startswith("Our validation team needs "
                                        "information from you")
    assert "will call your" not in doc["state_help"]
    st, _, lst = rig.client().api("GET", "/api/v1/orders",
                                  token=rig.token("a"))
    assert st == 200
    assert [o["state_help"] for o in lst["orders"] if o["id"] == oid] == \
        [doc["state_help"]]
    # and its page asks too, with the form to answer (back to the page)
    st, _, opage = c.get(f"/portal/orders/{oid}")
    assert st == 200
    text = opage.decode()
    assert "&lt;register&gt; extract &amp; the VAT id" in text
    assert f'action="/portal/orders/{oid}/org-info"' in text
    assert '<input type="hidden" name="back" value="order">' in text
    assert ">Information needed</span>" in text
    assert "will call your" not in text
    # no reload under the customer's hands while they answer
    assert b'http-equiv="refresh"' not in opage
    assert 'data-reload="15"' in text
    # another customer cannot answer it
    b = rig.login("b")
    st, _, _ = b.post_form(f"/portal/orders/{oid}/org-info",
                           {"csrf": b.page_csrf(), "answer": "hi"})
    assert st == 404
    st, h, _ = c.post_form(f"/portal/orders/{oid}/org-info",
                           {"csrf": c.csrf_from(page), "back": "order",
                            "answer": "Sent by post today."})
    assert st == 303 and h["Location"] == f"/portal/orders/{oid}"
    doc = ann.case_of(oid)
    assert doc["state"] == "in_review"
    assert doc["info_response"] == "Sent by post today."
    # both kept in the case's conversation, with who wrote them
    assert [(m["kind"], m["text"], m["author"]) for m in doc["messages"]] \
        == [("request", "Please send a current <register> extract & the "
             "VAT id.", int(rig.users["ann"])),
            ("response", "Sent by post today.", int(rig.users["a"]))]
    # reject with a reason: the order fails, the slot is free again
    st, h, _ = s.post_form(f"/backoffice/cases/{case}/reject",
                           {"csrf": csrf, "reason": "Not in the register."})
    assert st == 303
    doc = order_doc(rig, oid)
    assert doc["state"] == "rejected"
    assert "Not in the register." in doc["state_help"]
    st, _, slot = rig.client().api(
        "GET", f"/api/v1/slots/{rig.ids['a']['business_x0']}",
        token=rig.token("a"))
    assert slot["state"] == "unused"
    # its page does not offer to renew a certificate that never was, but
    # to set up again
    st, _, opage = c.get(f"/portal/orders/{oid}")
    text = opage.decode()
    assert "Not in the register." in text
    assert "Renew" not in text
    assert (f'id="setup-again" href="/portal/slots/'
            f'{rig.ids["a"]["business_x0"]}/setup">') in text
    # the portfolio: not set up, and which domain did not work out
    st, _, body = c.get("/portal/")
    row = re.search(rf'<tr data-slot="{rig.ids["a"]["business_x0"]}">'
                    r"(.*?)</tr>", body.decode(), re.S).group(1)
    assert "Not set up" in row and "Activated" not in row
    assert f'<a href="/portal/orders/{oid}">www.a-shop.test</a>' in row
    assert "The last order ended without a certificate." in row


def test_queue_filters_and_reuse(rig):
    ann = Agent(rig, "ann")
    # the organisation validated above ("A Shop Handels GmbH") is reused
    # for an order typed with that legal name
    body = {"domain": "api.a-shop.test", "purpose": "server",
            "terms_accepted": True, "csr": make_csr(["api.a-shop.test"]),
            "admin": {"name": "Ada Admin", "email": "ada@a-shop.test",
                      "phone": "+49 721 123456"},
            "tech": {"name": "Tom Tech", "email": "tom@a-shop.test",
                     "phone": "+49 721 654321"},
            "org": {"legal_name": "a shop handels gmbh", "country": "DE",
                    "locality": "Karlsruhe", "street": "Hauptstr. 1",
                    "postal_code": "76131"}}
    st, _, doc = rig.client().api(
        "POST", f"/api/v1/slots/{rig.ids['a']['business_x1']}/orders",
        token=rig.token("a"), body=json.dumps(body))
    assert st == 201, doc
    case = ann.case_of(doc["id"])
    assert case["state"] == "approved" and case["reused"] is True
    assert rig.cli("admin", "validate", "--order", doc["id"], "--method",
                   "operator") == "issued"
    assert order_doc(rig, doc["id"])["state"] == "issued"
    # renewed as the first order was typed ("A Shop GmbH", other case and
    # spacing): reused as well, an hour or a year later
    renewal = order(rig, rig.ids["a"]["business_x1"], "api.a-shop.test",
                    legal="  a shop   GMBH ")
    case = ann.case_of(renewal)
    assert case["state"] == "approved" and case["reused"] is True
    assert order_doc(rig, renewal)["state"] == "issued"
    # the queue: oldest first, filters by state and product
    s = rig.client()
    s.login(rig.emails["bob"], PASSWORD)
    open_oid = order(rig, rig.ids["a"]["business_x2"], "q.a-shop.test",
                     legal="Q Shop GmbH")
    st, _, page = s.get("/backoffice/")
    assert st == 200
    assert f'data-case="{ann.case_of(open_oid)["id"]}"'.encode() in page
    st, _, page = s.get("/backoffice/queue/approved/premium")
    assert st == 200 and page.count(b"<tr data-case=") == 1
    st, _, page = s.get("/backoffice/queue/rejected/any")
    assert page.count(b"<tr data-case=") == 1
    st, _, page = s.get("/backoffice/queue/bogus")
    assert st == 404
    st, doc = ann.api("GET", "cases")
    ids = [c["id"] for c in doc["cases"]]
    assert ids == sorted(ids)
    # the audit chain verifies
    assert "audit log intact" in rig.cli("audit", "verify")


def slot_row(page, slot):
    """The portfolio's table row of the slot (HTML text)."""
    rows = [r for r in re.findall(r"<tr[ >].*?</tr>", page.decode(),
                                  re.S)
            if f"/portal/slots/{slot}/" in r]
    assert len(rows) == 1, rows
    return rows[0]


def test_rejected_renewal_keeps_the_certificate(rig):
    """Staff reject the case of a renewal: the slot is as it was before
    the renewal started, issued with its certificate (valid, installed
    on the customer's server), not an empty slot; the API and the
    portfolio say so, and the customer can renew again."""
    ann = Agent(rig, "ann")
    slot = rig.ids["a"]["business_x3"]
    oid = order(rig, slot, "keep.a-shop.test", legal="Keep Shop GmbH")
    case = ann.case_of(oid)["id"]
    assert rig.cli("admin", "validate", "--order", oid, "--method",
                   "operator") == "validated"
    ann.do(case, "take")
    ann.evidence(case, OV_EVIDENCE)
    assert ann.do(case, "approve")["issued"] is True
    serial = order_doc(rig, oid)["certificate"]["serial"]
    # typed otherwise than before: a case of its own
    renewal = order(rig, slot, "keep.a-shop.test", legal="Keep Shop Ltd")
    case = ann.case_of(renewal)["id"]
    ann.do(case, "take")
    ann.do(case, "reject", {"reason": "The register extract is too old."})
    doc = order_doc(rig, renewal)
    assert doc["state"] == "rejected"
    assert "too old" in doc["state_help"]
    doc = order_doc(rig, oid)
    assert doc["state"] == "issued"
    assert doc["certificate"]["serial"] == serial
    st, _, doc = rig.client().api("GET", f"/api/v1/slots/{slot}",
                                  token=rig.token("a"))
    assert st == 200
    assert (doc["state"], doc["state_name"], doc["actions"]) == \
        ("issued", "Issued", ["setup"])
    c = rig.login("a")
    st, _, page = c.get("/portal/")
    assert st == 200
    row = slot_row(page, slot)
    assert 'class="state state-issued">Issued<' in row, row
    assert "Renew or reissue with a new key" in row, row
    # the certificate it holds, not the renewal that failed
    assert f'<a href="/portal/orders/{oid}">keep.a-shop.test</a>' in row
    assert f'<a href="/portal/orders/{oid}">View certificate</a>' in row
    # the failed renewal's page offers to try again, not to renew a
    # certificate it never had; the certificate's page to renew
    st, _, page = c.get(f"/portal/orders/{renewal}")
    assert b"Renew or reissue" not in page
    assert f'id="setup-again" href="/portal/slots/{slot}/setup">'.encode() \
        in page
    st, _, page = c.get(f"/portal/orders/{oid}")
    assert b"Renew or reissue with a new key" in page
    st, _, page = c.get(f"/portal/slots/{slot}/setup")
    assert st == 200 and b"Renew or reissue with a new key" in page
    # renewed again: a new order is taken
    again = order(rig, slot, "keep.a-shop.test", legal="Keep Shop Ltd")
    assert order_doc(rig, again)["state"] == "org_validation_pending"
    st, _, doc = rig.client().api("GET", f"/api/v1/slots/{slot}",
                                  token=rig.token("a"))
    assert doc["state"] == "pending"

def test_case_page_in_plain_words(rig):
    """The case page: "Approve" disabled, saying which steps are missing,
    until every one is fulfilled (a POST all the same is refused, the steps
    named by their labels); choices, the purpose and the validated
    organisation in words, not as stored; the header links to the pages
    the role reaches."""
    a = rig.ids["a"]
    slot = rig.cli("admin", "slot", "add", "--contract", a["contract"],
                   "--product", "business")
    oid = order(rig, slot, "words.a-shop.test", legal="Words Shop GmbH")
    ann = Agent(rig, "ann")
    case = ann.case_of(oid)["id"]
    s = rig.client()
    s.login(rig.emails["ann"], PASSWORD)
    st, _, page = s.get(f"/backoffice/cases/{case}")
    text = page.decode()
    assert "<dt>Purpose</dt><dd>On the customer&#39;s own server</dd>" in text
    # the header: the pages an agent reaches, not an admin's
    assert '<a href="/portal/tokens">API tokens</a>' in text
    assert "/portal/admin/" not in text
    st, _, page = s.post_form(f"/backoffice/cases/{case}/take",
                              {"csrf": s.csrf_from(page)})
    assert st == 303
    st, _, page = s.get(f"/backoffice/cases/{case}")
    text = page.decode()
    missing = "Legal existence, Address, Domain registrant matches the " \
        "legal name, Telephone verification"
    assert '<button type="submit" class="button primary" id="do-approve" ' \
        'disabled aria-describedby="approve-why">Approve</button>' in text
    assert '<p class="hint bo-why" id="approve-why">The case can be ' \
        'approved once every step of the checklist is fulfilled. Not ' \
        f'fulfilled yet: {missing}.</p>' in text
    # the choices read as words; the form still sends the stored value
    assert '<option value="no_answer">No answer</option>' in text
    assert '<option value="yes">Yes</option>' in text
    # posted anyway (an old page): refused, the steps by their labels
    st, h, _ = s.post_form(f"/backoffice/cases/{case}/approve",
                           {"csrf": s.csrf_from(page)})
    assert st == 303
    st, _, page = s.get(h["Location"])
    assert "Not every step of the checklist is fulfilled yet: " \
        f"{missing}." in page.decode()
    ev = dict(OV_EVIDENCE)
    ev["telephone"] = dict(ev["telephone"], outcome="no_answer")
    ann.evidence(case, ev)
    st, _, page = s.get(f"/backoffice/cases/{case}")
    text = page.decode()
    assert "<dt>Outcome</dt><dd>No answer</dd>" in text
    assert "<dt>Registrant matches the legal name</dt><dd>Yes</dd>" in text
    assert ">no_answer<" not in text
    assert "Not fulfilled yet: Telephone verification.</p>" in text
    ann.evidence(case, {"telephone": OV_EVIDENCE["telephone"]})
    st, _, page = s.get(f"/backoffice/cases/{case}")
    text = page.decode()
    assert "<dt>Outcome</dt><dd>Confirmed</dd>" in text
    assert '<button type="submit" class="button primary" ' \
        'id="do-approve">Approve</button>' in text
    assert 'id="approve-why"' not in text
    st, h, _ = s.post_form(f"/backoffice/cases/{case}/approve",
                           {"csrf": s.csrf_from(page)})
    st, _, page = s.get(h["Location"])
    text = page.decode()
    org = db(rig, "SELECT org_id FROM org_cases WHERE id = ?", (case,))
    org = org[0][0]
    assert re.search(r"Validated organisation: <strong id=\"org-name\">"
                     r"A Shop Handels GmbH</strong>, Karlsruhe, DE "
                     rf"\(organisation record {org}, validated "
                     rf"{PAGE_TIME_RE}\)\.</p>", text), text
    # a reused organisation is named as well
    slot2 = rig.cli("admin", "slot", "add", "--contract", a["contract"],
                    "--product", "business")
    body = {"domain": "reuse.a-shop.test", "purpose": "hosting",
            "terms_accepted": True, "csr": make_csr(["reuse.a-shop.test"]),
            "admin": {"name": "Ada Admin", "email": "ada@a-shop.test",
                      "phone": "+49 721 123456"},
            "tech": {"name": "Tom Tech", "email": "tom@a-shop.test",
                     "phone": "+49 721 654321"},
            "org": {"legal_name": "A Shop Handels GmbH", "country": "DE",
                    "locality": "Karlsruhe", "street": "Hauptstr. 1",
                    "postal_code": "76131"}}
    st, _, doc = rig.client().api("POST", f"/api/v1/slots/{slot2}/orders",
                                  token=rig.token("a"),
                                  body=json.dumps(body))
    assert st == 201, doc
    reused = ann.case_of(doc["id"])
    assert reused["reused"] is True
    st, _, page = s.get(f"/backoffice/cases/{reused['id']}")
    text = page.decode()
    assert "by reusing an organisation validated within the reuse period: " \
        '<strong id="org-name">A Shop Handels GmbH</strong>' in text
    assert "<dt>Purpose</dt><dd>A website hosted with us</dd>" in text
    # an admin's header: the admin's pages too
    adm = rig.login_admin()
    st, _, page = adm.get("/backoffice/")
    text = page.decode()
    for href, name in (("/portal/tokens", "API tokens"),
                       ("/portal/admin/mail", "Outgoing mail"),
                       ("/portal/admin/acme", "ACME accounts"),
                       ("/portal/admin/ca", "Certificate authority")):
        assert f'<a href="{href}">{name}</a>' in text, name


def test_queue_by_pages(rig):
    """Years of closed cases: the queue shows 100 a page (oldest first,
    with links both ways), and the default view of the active cases does
    not read the closed ones. Runs last: it adds 230 approved cases."""
    con = sqlite3.connect(rig.data / "certdesk.db")
    case_id, order_id = con.execute(
        "SELECT id, order_id FROM org_cases WHERE state = 'approved' "
        "ORDER BY id LIMIT 1").fetchone()
    ocols = [r[1] for r in con.execute("PRAGMA table_info(orders)")
             if r[1] != "id"]
    ccols = [r[1] for r in con.execute("PRAGMA table_info(org_cases)")
             if r[1] not in ("id", "order_id")]
    for _ in range(230):
        cur = con.execute(f"INSERT INTO orders ({','.join(ocols)}) SELECT "
                          f"{','.join(ocols)} FROM orders WHERE id = ?",
                          (order_id,))
        con.execute(f"INSERT INTO org_cases (order_id, {','.join(ccols)}) "
                    f"SELECT ?, {','.join(ccols)} FROM org_cases "
                    "WHERE id = ?", (cur.lastrowid, case_id))
    con.commit()
    approved = [r[0] for r in con.execute(
        "SELECT id FROM org_cases WHERE state = 'approved' "
        "ORDER BY created_at, id")]
    active = [r[0] for r in con.execute(
        "SELECT id FROM org_cases WHERE state NOT IN ('approved', "
        "'rejected')")]
    con.close()
    assert len(approved) > 230 and active
    s = rig.client()
    s.login(rig.emails["bob"], PASSWORD)
    seen, path, pages = [], "/backoffice/queue/approved/any", 0
    while path:
        st, _, body = s.get(path)
        assert st == 200, body[:300]
        text = body.decode()
        rows = [int(x) for x in re.findall(r'<tr data-case="(\d+)"', text)]
        pages += 1
        assert len(rows) == (100 if pages * 100 <= len(approved) else
                             len(approved) % 100), (pages, len(rows))
        assert ('id="bo-prev"' in text) == (pages > 1)
        seen += rows
        m = re.search(r'<a href="([^"]+\?page=\d+)" id="bo-next"', text)
        path = m.group(1) if m else None
    assert seen == approved and pages == (len(approved) + 99) // 100
    st, _, body = s.get("/backoffice/")
    rows = [int(x) for x in re.findall(rb'<tr data-case="(\d+)"', body)]
    assert sorted(rows) == sorted(active) and b'id="bo-next"' not in body
    for bad in ("0", "-1", "x", "", "99999999"):
        st, _, _ = s.get("/backoffice/queue/approved/any?page=" + bad)
        assert st == 400, (bad, st)
    # the JSON list the same way: pages of "limit", "next" until the end
    con = sqlite3.connect(rig.data / "certdesk.db")
    every = [r[0] for r in con.execute(
        "SELECT id FROM org_cases ORDER BY created_at, id")]
    con.close()
    ann = Agent(rig, "ann")
    got, path = [], "cases?limit=100"
    while path:
        st, doc = ann.api("GET", path)
        assert st == 200 and len(doc["cases"]) <= 100, doc
        got += [c["id"] for c in doc["cases"]]
        path = doc.get("next", "").removeprefix("/backoffice/api/")
    assert got == every
    st, doc = ann.api("GET", "cases")
    assert len(doc["cases"]) == 100 and doc["next"] == \
        f"/backoffice/api/cases?after={every[99]}&limit=100"
    for q in ("limit=0", "limit=501", "after=x", "after=-3"):
        st, doc = ann.api("GET", "cases?" + q)
        assert st == 400 and doc["type"].endswith("malformed"), (q, doc)


def test_refused_evidence_form_says_error(rig):
    """A refused evidence form (422) says "Error: " at the start of the
    title, and its errors stand on top of the form, each naming its
    field, with the keyboard focus there (WCAG 3.3.1, GOV.UK's
    pattern)."""
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "business")
    # an organisation of its own: nothing reused, every step to record
    oid = order(rig, slot, "focus.a-shop.test", legal="Fokus Test GmbH")
    case = Agent(rig, "ann").case_of(oid)["id"]
    s = rig.client()
    s.login(rig.emails["ann"], PASSWORD)
    st, _, page = s.get(f"/backoffice/cases/{case}")
    csrf = s.csrf_from(page)
    st, _, _ = s.post_form(f"/backoffice/cases/{case}/take", {"csrf": csrf})
    assert st == 303
    st, _, page = s.get(f"/backoffice/cases/{case}")
    assert b"<title>Case" in page and b"Error: " not in page
    form = dict(OV_EVIDENCE["telephone"], called_at="soon", csrf=csrf)
    st, _, page = s.post_form(f"/backoffice/cases/{case}/evidence/"
                              "telephone", form)
    text = page.decode()
    assert st == 422, text
    assert f"<title>Error: Case {case} \u2013 " in text, text[:400]
    m = re.search(r'<div class="alert" role="alert" id="error-summary" '
                  r'tabindex="-1" autofocus>(.*?)</div>', text, re.S)
    assert m, text
    # the field named as its label says
    assert re.search(r'<li><a href="#s\d+-called_at">Called at '
                     r'\(YYYY-MM-DD HH:MM UTC\): Use [^<]+</a>',
                     m.group(1)), m.group(1)
    # the summary's link leads to the field
    link = re.search(r'href="#(s\d+-called_at)"', m.group(1)).group(1)
    assert f'id="{link}"' in text
