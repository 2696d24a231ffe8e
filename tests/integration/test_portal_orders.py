# SPDX-License-Identifier: Apache-2.0
"""Portal orders end to end over HTTPS: the setup form ("Set up SSL
certificate") with good and bad input (bad names, product rules, CSR names
that differ from the form's, missing terms, contacts for OV, CSRF,
another customer's slot answered 404), nothing issued before validation,
`certdesk admin validate`, the overview and certificate pages, downloads
(checked with openssl as PEM, DER and PKCS#7), revocation that shows in the
CRL, and the JSON API twins (create, list, get, download, revoke)."""
import datetime
import hashlib
import json
import re
import sqlite3
import subprocess
import urllib.parse

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import run
from portal_rig import Rig, fp_html, page_time

DOMAIN = "a-shop.test"


def make_csr(names, key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                       names[0])]))
           .add_extension(x509.SubjectAlternativeName(
               [x509.DNSName(n) for n in names]), critical=False)
           .sign(key, hashes.SHA256()))
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


def openssl(*args, input=None):
    p = subprocess.run(["openssl"] + [str(a) for a in args], input=input,
                       capture_output=True)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    return p.stdout


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    r = Rig(tmp_path_factory.mktemp("portal-orders"))
    r.cli("admin", "domain", "add", "--contract", r.ids["a"]["contract"],
          "--name", DOMAIN, "--hosted")
    r.server.start()
    yield r
    r.server.stop()


@pytest.fixture(scope="module")
def state():
    return {}


def db(rig, sql, args=()):
    con = sqlite3.connect(rig.data / "certdesk.db")
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def crl_entry(rig, serial):
    """The entry of serial in the CRL shard its certificate is in (the one
    its CRL distribution point names), or None."""
    shard = db(rig, "SELECT crl_shard FROM certificates WHERE serial = ?",
               (serial,))[0][0]
    crl = x509.load_der_x509_crl(
        (rig.data / "crl" / f"issuing-1-{shard}.crl").read_bytes())
    return crl.get_revoked_certificate_by_serial_number(int(serial, 16))


def setup_path(slot):
    return f"/portal/slots/{slot}/setup"


def form_csrf(c, slot):
    st, _, body = c.get(setup_path(slot))
    assert st == 200, body[:300]
    return c.csrf_from(body)


def post_setup(c, slot, fields, csrf=True):
    f = dict(fields)
    if csrf:
        f["csrf"] = form_csrf(c, slot)
    return c.post_form(setup_path(slot), f)


def placed(c, reply):
    """The confirmation of an order the setup form placed: the POST
    redirects to it (POST-redirect-GET); its GET."""
    st, h, body = reply
    assert st == 303, body[:2000]
    assert re.fullmatch(r"/portal/orders/[1-9][0-9]*/placed(\?key=own)?",
                        h["Location"]), h["Location"]
    st, h, body = c.get(h["Location"])
    assert st == 200, body[:2000]
    return st, h, body


def test_setup_page(rig):
    c = rig.login("a")
    st, h, body = c.get(setup_path(rig.ids["a"]["starter0"]))
    assert st == 200
    text = body.decode()
    assert "Set up SSL certificate" in text
    assert "Download Private Key" in text
    assert re.search(r'<script src="/static/portal\.js\?v=[0-9a-f]{16}" '
                     r'defer></script>', text)
    assert "<script>" not in text and "onclick" not in text
    assert f'<option value="{DOMAIN}">' in text      # the datalist
    assert 'name="terms"' in text and 'name="purpose"' in text
    assert "Administrative contact" not in text      # DV: no contacts
    st, _, js = c.get("/static/portal.js")
    assert st == 200 and b"setup-form" in js
    # OV product: contacts and organisation
    st, _, body = c.get(setup_path(rig.ids["a"]["business2"]))
    assert st == 200
    for s in (b"Administrative contact", b"Technical contact",
              b"Organisation details", b'name="org_legal_name"'):
        assert s in body
    # British English, one word for the product's kind (SSL)
    for s in (b"Organization Details", b"Contact</legend>", b"TLS"):
        assert s not in body
    # an Unlimited slot that is not activated yet
    st, _, body = c.get(setup_path(rig.ids["a"]["unlimited1"]))
    assert st == 409 and b"Activate now" in body


def test_other_customers_slot_is_404(rig):
    c = rig.login("b")
    slot = rig.ids["a"]["starter0"]
    st, _, _ = c.get(setup_path(slot))
    assert st == 404
    st, _, _ = c.post_form(setup_path(slot), {"csrf": c.page_csrf(),
                                              "domain": DOMAIN})
    assert st == 404
    st, _, _ = c.get(setup_path(999999))
    assert st == 404


def test_csrf_required(rig):
    c = rig.login("a")
    _, csr = make_csr([DOMAIN, "www." + DOMAIN])
    st, _, _ = post_setup(c, rig.ids["a"]["starter0"], {
        "domain": DOMAIN, "purpose": "hosting", "terms": "1",
        "csr": csr}, csrf=False)
    assert st == 403
    st, _, _ = c.post_form(setup_path(rig.ids["a"]["starter0"]), {
        "csrf": "0" * 64, "domain": DOMAIN, "terms": "1", "csr": csr})
    assert st == 403
    assert db(rig, "SELECT count(*) FROM orders")[0][0] == 0


def test_bad_input_messages_and_form_kept(rig):
    c = rig.login("a")
    slot = rig.ids["a"]["starter0"]
    st, _, body = post_setup(c, slot, {"domain": "-bad-.test",
                                       "purpose": "elsewhere",
                                       "key_source": "own",
                                       "csr_pem": "not a csr"})
    assert st == 422
    text = body.decode()
    assert "This domain cannot be used" in text
    assert "Please choose what the certificate is for" in text
    assert "Please accept the terms of use" in text
    # the CSR's fault in the customer's words, not the parser's
    assert ("This is not a certificate signing request (CSR) we can "
            "read.") in text
    assert "CertificationRequest" not in text and "DER" not in text
    assert 'value="-bad-.test"' in text             # kept
    assert ">not a csr</textarea>" in text            # kept
    assert 'aria-invalid="true"' in text
    # no CSR at all
    st, _, body = post_setup(c, slot, {"domain": DOMAIN,
                                       "purpose": "hosting", "terms": "1"})
    assert st == 422 and b"No certificate signing request" in body
    assert db(rig, "SELECT count(*) FROM orders")[0][0] == 0


def test_product_rules(rig):
    c = rig.login("a")
    slot = rig.ids["a"]["starter0"]
    _, csr = make_csr(["*." + DOMAIN, DOMAIN])
    st, _, body = post_setup(c, slot, {"domain": "*." + DOMAIN,
                                       "purpose": "hosting", "terms": "1",
                                       "csr": csr})
    assert st == 422 and b"Business Wildcard" in body
    # Starter covers name + www.name: a CSR for the name alone differs
    _, csr = make_csr([DOMAIN])
    st, _, body = post_setup(c, slot, {"domain": DOMAIN,
                                       "purpose": "hosting", "terms": "1",
                                       "csr": csr})
    assert st == 422
    assert b"The CSR names a-shop.test, but this certificate is for " \
        b"a-shop.test and www.a-shop.test" in body
    # CSR names of another domain
    _, csr = make_csr(["other.test", "www.other.test"])
    st, _, body = post_setup(c, slot, {"domain": DOMAIN,
                                       "purpose": "hosting", "terms": "1",
                                       "csr": csr})
    assert st == 422 and b"The CSR names other.test" in body
    # OV: contacts and organisation are required and checked
    _, csr = make_csr([DOMAIN])
    st, _, body = post_setup(c, rig.ids["a"]["business2"], {
        "domain": DOMAIN, "purpose": "server", "terms": "1", "csr": csr,
        "admin_email": "not-an-email", "org_country": "Germany"})
    assert st == 422
    for msg in (b"Please enter the name of the administrative contact",
                b"The email address of the administrative contact is "
                b"not valid",
                b"Please enter the phone number of the technical contact",
                b"Please enter the organisation&#39;s legal name",
                b"Use the two-letter country code"):
        assert msg in body, msg
    assert db(rig, "SELECT count(*) FROM orders")[0][0] == 0


def test_order_is_pending_until_validated(rig, state):
    c = rig.login("a")
    slot = rig.ids["a"]["starter0"]
    key, csr = make_csr([DOMAIN, "www." + DOMAIN])
    st, _, body = placed(c, post_setup(c, slot, {
        "domain": DOMAIN.upper(), "purpose": "hosting", "terms": "1",
        "key_source": "browser", "csr": csr}))
    assert b"Go to overview" in body and b"Validation pending" in body
    rows = db(rig, "SELECT id, status, profile, names, slot_id, details, "
                   "csr IS NOT NULL FROM orders")
    assert len(rows) == 1
    oid, status, profile, names, sid, details, has_csr = rows[0]
    assert (status, profile, names, sid, has_csr) == (
        "pending", "dv", f"{DOMAIN} www.{DOMAIN}", int(slot), 1)
    assert json.loads(details)["purpose"] == "hosting"
    authz = db(rig, "SELECT identifier, status, account_id FROM "
                    "authorizations WHERE order_id = ? ORDER BY id", (oid,))
    assert authz == [(DOMAIN, "pending", None),
                     ("www." + DOMAIN, "pending", None)]
    assert db(rig, "SELECT state FROM slots WHERE id = ?",
              (int(slot),))[0][0] == "pending"
    assert db(rig, "SELECT count(*) FROM certificates WHERE order_id = ?",
              (oid,))[0][0] == 0
    assert db(rig, "SELECT count(*) FROM audit_log WHERE action = "
                   "'portal.order.new'")[0][0] == 1
    state.update(order=oid, key=key)
    # a second order on the same slot: refused while pending
    st, _, _ = c.get(setup_path(slot))
    assert st == 409
    # the overview says so and refreshes itself
    st, _, body = c.get("/portal/overview")
    assert st == 200
    assert b"Validation pending" in body
    assert b'<meta http-equiv="refresh" content="5">' in body
    assert f'href="/portal/orders/{oid}"'.encode() in body
    # its page: how the domain is being confirmed (the overview's card),
    # reloading itself as the overview does
    st, _, body = c.get(f"/portal/orders/{oid}")
    assert st == 200
    text = body.decode()
    assert (f'<h2 id="dv-h-{oid}">Confirm your domain: {DOMAIN}, '
            f'www.{DOMAIN}</h2>') in text
    assert 'see "Confirm your domain" below' in text
    assert "This page updates itself while the certificate is pending." \
        in text
    assert ('<meta http-equiv="refresh" content="5">' in text) != \
        ('data-reload="15"' in text)
    assert (f"<title>SSL certificate for {DOMAIN}, www.{DOMAIN} "
            "(Validation pending) "
            "\u2013 certdesk</title>") in text
    # nothing to download yet
    st, _, _ = c.get(f"/portal/orders/{oid}/download/cert.pem")
    assert st == 404
    # another customer sees nothing of it
    b = rig.login("b")
    for path in (f"/portal/orders/{oid}",
                 f"/portal/orders/{oid}/download/cert.pem"):
        st, _, _ = b.get(path)
        assert st == 404
    st, _, body = b.get("/portal/overview")
    assert st == 200 and DOMAIN.encode() not in body


def test_admin_validate(rig, state):
    oid = state["order"]
    p = run(["admin", "validate", "--data", rig.data, "--order", "999999"])
    assert p.returncode != 0 and "no portal order" in p.stderr
    p = run(["admin", "validate", "--data", rig.data, "--order", oid,
             "--method", "magic"])
    assert p.returncode != 0
    out = rig.cli("admin", "validate", "--order", oid)
    assert out == "issued"
    authz = db(rig, "SELECT status, method, evidence FROM authorizations "
                    "WHERE order_id = ?", (oid,))
    assert all(a[0] == "valid" and a[1] == "operator" for a in authz)
    assert all(json.loads(a[2])["evidence"] == "operator" for a in authz)
    status, serial = db(rig, "SELECT status, cert_serial FROM orders "
                             "WHERE id = ?", (oid,))[0]
    assert status == "valid" and serial
    state["serial"] = serial
    prof, contract = db(rig, "SELECT profile, contract_id FROM certificates "
                             "WHERE serial = ?", (serial,))[0]
    assert prof == "dv" and contract == int(rig.ids["a"]["contract"])
    assert db(rig, "SELECT actor FROM audit_log WHERE action = "
                   "'cert.issue' ORDER BY seq DESC LIMIT 1")[0][0] == \
        f"portal:user/{rig.users['a']}"
    # validating again: the order is no longer pending
    p = run(["admin", "validate", "--data", rig.data, "--order", oid])
    assert p.returncode != 0 and "not pending" in p.stderr


def test_overview_and_details(rig, state, tmp_path):
    c = rig.login("a")
    oid = state["order"]
    st, _, body = c.get("/portal/overview")
    assert st == 200 and b"Issued" in body
    assert b'http-equiv="refresh"' not in body
    st, _, body = c.get(f"/portal/orders/{oid}")
    assert st == 200
    text = body.decode()
    der = db(rig, "SELECT der FROM certificates WHERE serial = ?",
             (state["serial"],))[0][0]
    cert = x509.load_der_x509_certificate(der)
    fp = cert.fingerprint(hashes.SHA256()).hex().upper()
    # a phone breaks the line between bytes only
    assert ('<dt>SHA-256 fingerprint</dt><dd><code class="fp">' +
            fp_html(":".join(fp[i:i + 2] for i in range(0, 64, 2))) +
            "</code>") in text
    assert state["serial"] in text
    assert "SHA-256 fingerprint" in text and "Issuer" in text
    # the public key's, as openssl prints it for the customer's key file:
    # which of their key files goes with this certificate
    spki = state["key"].public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    assert f'<code class="fp" id="key-fp">' \
        f'{fp_html(hashlib.sha256(spki).hexdigest())}</code>' in text
    key_file = tmp_path / f"{DOMAIN}.key"
    key_file.write_bytes(state["key"].private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    printed = subprocess.run(
        f"openssl pkey -in {DOMAIN}.key -pubout -outform DER | openssl "
        "dgst -sha256", shell=True, cwd=tmp_path, capture_output=True,
        check=True).stdout.decode()
    assert printed.split("= ")[1].strip() == \
        hashlib.sha256(spki).hexdigest()
    assert f"<code>openssl pkey -in {DOMAIN}.key -pubout -outform DER | " \
        "openssl dgst -sha256</code>" in text
    # no ct.log_list here: the page says the certificate is not logged
    assert '<dd id="ct">Not logged: the certificate carries no signed ' \
        'certificate timestamps (SCTs)</dd>' in text
    assert f"/etc/ssl/certs/{DOMAIN}.fullchain.pem" in text   # nginx
    assert "SSLCertificateKeyFile" in text                     # Apache
    assert f"/portal/orders/{oid}/download/fullchain.p7b" in text
    assert "Revoke certificate" in text
    # the title names the certificate (tabs, bookmarks, history)
    assert (f"<title>SSL certificate for {DOMAIN}, www.{DOMAIN} (Issued) "
            "\u2013 certdesk</title>") in text
    # the CA backdates notBefore a minute: the page says why it is
    # before "Ordered"
    nb = db(rig, "SELECT c.not_before FROM certificates c JOIN orders o "
            "ON o.cert_serial = c.serial WHERE o.id = ?", (oid,))[0][0]
    assert (f"<dt>Valid from</dt><dd>{page_time(nb)}<p class=\"hint\" "
            'id="valid-from-note">A minute before it was issued') in text
    assert "This page updates itself" not in text


def slot_row(body, slot):
    """The portfolio's row of slot (HTML text)."""
    m = re.search(rf'<tr data-slot="{slot}">(.*?)</tr>', body.decode(),
                  re.S)
    assert m, body[:3000]
    return m.group(1)


def test_portfolio_shows_domain_and_certificate(rig, state):
    """Each slot of the portfolio says which domain it is for, and the
    gear menu of one holding a certificate opens that certificate."""
    c = rig.login("a")
    oid = state["order"]
    st, _, body = c.get("/portal/")
    assert st == 200 and b'<th scope="col">Domain</th>' in body
    row = slot_row(body, rig.ids["a"]["starter0"])
    assert (f'<a href="/portal/orders/{oid}">{DOMAIN}, www.{DOMAIN}</a>'
            in row)
    assert (f'<li><a href="/portal/orders/{oid}">View certificate</a>'
            f'</li>' in row)
    assert "Renew or reissue with a new key" in row
    assert "Go to overview" not in row
    # a slot never set up: no domain, "Set up SSL certificate"
    row = slot_row(body, rig.ids["a"]["unlimited3"])
    assert "no domain yet" in row and "View certificate" not in row


def test_downloads(rig, state, tmp_path):
    c = rig.login("a")
    oid = state["order"]
    key = state["key"]
    files = {}
    for what in ("cert", "chain", "fullchain"):
        for ext in ("pem", "der", "p7b"):
            st, h, body = c.get(f"/portal/orders/{oid}/download/"
                                f"{what}.{ext}")
            assert st == 200, (what, ext)
            assert h["Content-Disposition"] == \
                f'attachment; filename="{DOMAIN}.{what}.{ext}"'
            assert h.get_all("X-Content-Type-Options") == ["nosniff"]
            files[f"{what}.{ext}"] = body
            (tmp_path / f"{what}.{ext}").write_bytes(body)
    root = rig.data / "ca" / "root.pem"
    # PEM: the certificate verifies against the chain and the root
    openssl("verify", "-CAfile", root, "-untrusted", tmp_path / "chain.pem",
            tmp_path / "cert.pem")
    assert files["fullchain.pem"].count(b"BEGIN CERTIFICATE") == 2
    assert files["fullchain.pem"].startswith(files["cert.pem"])
    # DER is the same certificate
    assert x509.load_der_x509_certificate(files["cert.der"]) == \
        x509.load_pem_x509_certificate(files["cert.pem"])
    openssl("x509", "-inform", "DER", "-in", tmp_path / "chain.der",
            "-noout")
    # PKCS#7 certs-only
    out = openssl("pkcs7", "-inform", "DER", "-in",
                  tmp_path / "fullchain.p7b", "-print_certs")
    assert out.count(b"BEGIN CERTIFICATE") == 2
    out = openssl("pkcs7", "-inform", "DER", "-in", tmp_path / "cert.p7b",
                  "-print_certs")
    assert out.count(b"BEGIN CERTIFICATE") == 1
    # the certificate is for the customer's key
    cert = x509.load_pem_x509_certificate(files["cert.pem"])
    assert cert.public_key().public_numbers() == \
        key.public_key().public_numbers()
    # unknown file names
    for bad in ("cert.exe", "..%2f..%2fetc", "key.pem"):
        st, _, _ = c.get(f"/portal/orders/{oid}/download/{bad}")
        assert st == 404


def test_api_orders(rig, state):
    c = rig.client()
    ta, tb = rig.token("a"), rig.token("b")
    oid = state["order"]
    st, _, doc = c.api("GET", "/api/v1/orders", token=ta)
    assert st == 200
    o = [x for x in doc["orders"] if x["id"] == oid][0]
    assert o["state"] == "issued" and o["names"] == [DOMAIN, "www." + DOMAIN]
    assert o["certificate"]["serial"] == state["serial"]
    st, _, doc = c.api("GET", f"/api/v1/orders/{oid}", token=ta)
    assert st == 200 and doc["product"] == "starter"
    st, _, doc = c.api("GET", f"/api/v1/orders/{oid}", token=tb)
    assert st == 404
    st, _, doc = c.api("GET", "/api/v1/orders", token=tb)
    assert st == 200 and doc["orders"] == []
    st, h, _ = c.request("GET", f"/api/v1/orders/{oid}/certificate/"
                         "fullchain.pem",
                         headers={"Authorization": f"Bearer {ta}"})
    assert st == 200 and h["Content-Type"] == "application/x-pem-file"
    st, _, _ = c.request("GET", f"/api/v1/orders/{oid}/certificate/"
                         "fullchain.pem",
                         headers={"Authorization": f"Bearer {tb}"})
    assert st == 404


def test_api_create_order_ov(rig):
    c = rig.client()
    ta, tb = rig.token("a"), rig.token("b")
    slot = rig.ids["a"]["business2"]
    _, csr = make_csr(["shop.a-shop.test"])
    good = {"domain": "shop.a-shop.test", "purpose": "server",
            "terms_accepted": True, "csr": csr,
            "admin": {"name": "Ada Admin", "email": "ada@a-shop.test",
                      "phone": "+49 721 123456"},
            "tech": {"name": "Tom Tech", "email": "tom@a-shop.test",
                     "phone": "+49 721 654321"},
            "org": {"legal_name": "A Shop GmbH", "country": "DE",
                    "locality": "Karlsruhe", "street": "Hauptstr. 1",
                    "postal_code": "76131"}}
    body = json.dumps(good)
    st, _, doc = c.api("POST", f"/api/v1/slots/{slot}/orders", token=tb,
                       body=body)
    assert st == 404
    bad = dict(good, terms_accepted=False, domain="*.a-shop.test")
    st, _, doc = c.api("POST", f"/api/v1/slots/{slot}/orders", token=ta,
                       body=json.dumps(bad))
    assert st == 422
    assert set(doc["errors"]) >= {"terms", "domain"}
    # the API keeps the parser's technical reason
    st, _, doc = c.api("POST", f"/api/v1/slots/{slot}/orders", token=ta,
                       body=json.dumps(dict(good, csr="not a csr")))
    assert st == 422
    assert doc["errors"]["csr"].startswith("The CSR cannot be used: CSR: "
                                           "not a CertificationRequest"), doc
    st, _, doc = c.api("POST", f"/api/v1/slots/{slot}/orders", token=ta,
                       body="{not json")
    assert st == 400
    # with the session cookie, the CSRF header is required
    s = rig.login("a")
    st, _, doc = s.api("POST", f"/api/v1/slots/{slot}/orders", body=body)
    assert st == 403
    st, h, doc = c.api("POST", f"/api/v1/slots/{slot}/orders", token=ta,
                       body=body)
    assert st == 201, doc
    assert doc["state"] == "org_validation_pending" and doc["profile"] == "ov"
    assert h["Location"] == f"/api/v1/orders/{doc['id']}"
    assert doc["details"]["org"]["legal_name"] == "A Shop GmbH"
    # domain validation done: it still waits for the organisation
    assert rig.cli("admin", "validate", "--order", doc["id"]) == "validated"
    st, _, doc = c.api("GET", f"/api/v1/orders/{doc['id']}", token=ta)
    assert doc["state"] == "org_validation_pending"
    assert doc["certificate"] is None
    # the portfolio says what the overview says
    for path in ("/portal/", "/portal/overview"):
        st, _, body = s.get(path)
        assert b"Organisation validation pending" in body, path
    assert "Organisation validation pending" in slot_row(
        s.get("/portal/")[2], slot)


def test_revoke_shows_in_crl(rig, state):
    """"Revoke certificate" asks first: a confirmation page that names the
    certificate, the reason and what revoking does; only its form, with
    confirm, revokes. Then the page says so, when and why, and no longer
    offers to install or revoke it."""
    c = rig.login("a")
    oid = state["order"]
    path = f"/portal/orders/{oid}/revoke"
    st, _, body = c.get(f"/portal/orders/{oid}")
    assert f'<form method="get" action="{path}"'.encode() in body
    st, _, page = c.get(path + "?reason=1")
    assert st == 200
    text = page.decode()
    assert "Revoke this certificate?" in text
    assert "Revoking cannot be undone." in text
    assert state["serial"] in text and f"{DOMAIN}, www.{DOMAIN}" in text
    assert '<option value="1" selected>' in text
    assert '<input type="hidden" name="confirm" value="1">' in text
    assert (f"<title>Revoke the certificate for {DOMAIN}, www.{DOMAIN} "
            "\u2013 certdesk</title>") in text
    assert f'<a class="button" href="/portal/orders/{oid}" ' \
        'id="cancel-revoke">Cancel</a>' in text
    csrf = c.csrf_from(page)
    st, _, _ = c.post_form(path, {"reason": "1", "confirm": "1"})
    assert st == 403
    for bad in ("6", "2", "abc", "", "99999999999"):
        st, _, _ = c.post_form(path, {"csrf": csrf, "reason": bad,
                                      "confirm": "1"})
        assert st == 400, bad
        st, _, _ = c.get(path + "?reason=" + urllib.parse.quote(bad))
        assert st == 400, bad
    b = rig.login("b")
    assert b.get(path + "?reason=1")[0] == 404
    st, _, _ = b.post_form(path, {"csrf": b.page_csrf(), "reason": "1",
                                  "confirm": "1"})
    assert st == 404
    # posted without confirm: the confirmation again, nothing revoked
    st, _, body = c.post_form(path, {"csrf": csrf, "reason": "1"})
    assert st == 200 and b"Revoke this certificate?" in body
    assert db(rig, "SELECT count(*) FROM revocations WHERE serial = ?",
              (state["serial"],))[0][0] == 0
    st, h, _ = c.post_form(path, {"csrf": csrf, "reason": "1",
                                  "confirm": "1"})
    assert st == 303 and h["Location"] == f"/portal/orders/{oid}"
    st, _, body = c.get(f"/portal/orders/{oid}")
    text = body.decode()
    assert (f'id="flash">The certificate for {DOMAIN} was revoked '
            f'(serial {state["serial"]}). It is no longer trusted.</p>'
            in text)
    when = db(rig, "SELECT revoked_at FROM revocations WHERE serial = ?",
              (state["serial"],))[0][0]
    stamp = page_time(when)
    assert f'<dd id="revoked-at">{stamp}</dd>' in text
    assert ('<dd id="revoked-reason">The private key was lost or '
            'compromised</dd>') in text
    assert "Revoked" in text and "Revoke certificate" not in text
    assert f'action="{path}"' not in text
    assert "Installing the certificate" not in text
    assert "SSLCertificateKeyFile" not in text
    # the files stay, for the records
    assert f"/portal/orders/{oid}/download/fullchain.pem" in text
    assert "This certificate is revoked" in text
    # the notice once
    st, _, body = c.get(f"/portal/orders/{oid}")
    assert b'id="flash"' not in body
    st, _, body = c.get(path + "?reason=1")
    assert st == 409 and b"already revoked" in body
    entry = crl_entry(rig, state["serial"])
    assert entry is not None
    assert db(rig, "SELECT state FROM slots WHERE id = ?",
              (int(rig.ids["a"]["starter0"]),))[0][0] == "revoked"
    # again: already revoked (API)
    st, _, doc = c.api("POST", f"/api/v1/orders/{oid}/revoke",
                       token=rig.token("a"), body='{"reason": 1}')
    assert st == 409
    # renew or reissue with a new key: the setup page again
    st, _, body = c.get(setup_path(rig.ids["a"]["starter0"]))
    assert st == 200 and b"Renew or reissue with a new key" in body
    # revoked for key compromise (reason 1): the old key is refused
    _, csr = make_csr([DOMAIN, "www." + DOMAIN], key=state["key"])
    st, _, body = post_setup(c, rig.ids["a"]["starter0"], {
        "domain": DOMAIN, "purpose": "hosting", "terms": "1",
        "key_source": "browser", "csr": csr})
    assert st == 422, body[:500]
    assert b"The CSR&#39;s key is known to be compromised" in body or \
        b"The CSR's key is known to be compromised" in body, body


def test_no_private_key_anywhere(rig, state):
    key = state["key"]
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    der = key.private_bytes(serialization.Encoding.DER,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    # PEM lines after the first (which is the same for every P-256 key)
    lines = [ln for ln in pem.split(b"\n")[2:] if ln and b"-----" not in ln]
    assert lines
    needles = [der, scalar] + lines
    files = [f for f in rig.data.rglob("*") if f.is_file()]
    assert any(f.name == "certdesk.db" for f in files)
    for f in files + [rig.server.log]:
        data = f.read_bytes()
        for needle in needles:
            assert needle not in data, f
    assert b"PRIVATE KEY" not in rig.server.log.read_bytes()


def test_renew_through_the_api_and_revoke(rig):
    """Renew or reissue with a new key on the revoked slot, by API: a new
    order, validated, issued, then revoked with a reason name."""
    c = rig.client()
    ta = rig.token("a")
    slot = rig.ids["a"]["starter0"]
    key, csr = make_csr(["www." + DOMAIN, DOMAIN])
    st, _, doc = c.api("POST", f"/api/v1/slots/{slot}/orders", token=ta,
                       body=json.dumps({"domain": "www." + DOMAIN,
                                        "purpose": "server",
                                        "terms_accepted": True,
                                        "csr": csr}))
    assert st == 201, doc
    oid = doc["id"]
    # staff validated these names for the contract within the reuse
    # period (BR 4.2.1): the new order reuses that and is issued at once
    assert doc["state"] == "issued"
    assert doc["names"] == [DOMAIN, "www." + DOMAIN]
    assert db(rig, "SELECT count(*) FROM authorizations a JOIN order_authz "
              "x ON x.authz_id = a.id WHERE x.order_id = ? AND a.method = "
              "'reused'", (oid,))[0][0] == 2
    st, _, doc = c.api("GET", f"/api/v1/orders/{oid}", token=ta)
    assert doc["state"] == "issued"
    serial = doc["certificate"]["serial"]
    st, _, pem = c.request("GET", f"/api/v1/orders/{oid}/certificate/"
                           "cert.pem",
                           headers={"Authorization": f"Bearer {ta}"})
    cert = x509.load_pem_x509_certificate(pem)
    assert cert.public_key().public_numbers() == \
        key.public_key().public_numbers()
    st, _, doc = c.api("POST", f"/api/v1/orders/{oid}/revoke", token=ta,
                       body='{"reason": "certificateHold"}')
    assert st == 400
    # what a proxy or a log would read of the body is what is done: no
    # second "reason", no other member
    for body in ('{"reason": 4, "reason": "keyCompromise"}',
                 '{"reason": 4, "comment": "x"}', '[4]', '{"reason"'):
        st, _, doc = c.api("POST", f"/api/v1/orders/{oid}/revoke",
                           token=ta, body=body)
        assert st == 400 and doc["type"].endswith(":malformed"), body
    assert rig.db("SELECT count(*) FROM revocations WHERE serial = ?",
                  serial) == [(0,)]
    st, _, doc = c.api("POST", f"/api/v1/orders/{oid}/revoke",
                       token=rig.token("b"), body='{"reason": 4}')
    assert st == 404
    st, _, doc = c.api("POST", f"/api/v1/orders/{oid}/revoke", token=ta,
                       body='{"reason": "superseded"}')
    assert st == 200 and doc["state"] == "revoked"
    assert doc["certificate"]["revoked"] is True
    entry = crl_entry(rig, serial)
    assert entry is not None
    assert entry.extensions.get_extension_for_class(
        x509.CRLReason).value.reason == x509.ReasonFlags.superseded


def test_overview_and_api_list_by_pages(tmp_path):
    """Thousands of orders (an ACME client renews every few weeks) once
    made one overview page too large to answer: the overview shows 50 at
    a time, newest first, with a link to the older ones; the API's order
    list takes "before" and "limit" and gives the next page's URL. Bad
    values are refused; another customer sees none of them."""
    r = Rig(tmp_path)
    try:
        r.cli("admin", "domain", "add", "--contract",
              r.ids["a"]["contract"], "--name", "pages.test")
        r.server.start()
        c = r.login("a")
        _, csr = make_csr(["pages.test", "www.pages.test"])
        st, _, body = placed(c, post_setup(c, r.ids["a"]["starter0"], {
            "domain": "pages.test", "purpose": "hosting", "terms": "1",
            "key_source": "browser", "csr": csr}))
        # 120 more orders like it, straight into the store
        con = sqlite3.connect(r.data / "certdesk.db")
        cols = [row[1] for row in con.execute("PRAGMA table_info(orders)")
                if row[1] != "id"]
        first = con.execute("SELECT max(id) FROM orders").fetchone()[0]
        for _ in range(120):
            con.execute(f"INSERT INTO orders ({','.join(cols)}) SELECT "
                        f"{','.join(cols)} FROM orders WHERE id = ?",
                        (first,))
        con.commit()
        ids = [row[0] for row in con.execute(
            "SELECT id FROM orders ORDER BY id DESC")]
        con.close()
        assert len(ids) == 121
        seen, path, pages = [], "/portal/overview", 0
        while path:
            st, _, body = c.get(path)
            assert st == 200, body[:500]
            text = body.decode()
            rows = [int(x) for x in re.findall(r'<tr data-order="(\d+)"',
                                               text)]
            assert len(rows) == (50 if pages < 2 else 21), (pages, rows)
            seen += rows
            m = re.search(r'<a href="(/portal/overview\?before=\d+)" '
                          r'id="older"', text)
            path = m.group(1) if m else None
            assert ('id="newest"' in text) == (pages > 0)
            pages += 1
        assert pages == 3 and seen == ids
        st, _, body = c.get(f"/portal/overview?before={ids[-1]}")
        assert st == 200 and b"No older certificates." in body
        for bad in ("abc", "-5", "0", "1e9", ""):
            st, _, body = c.get("/portal/overview?before=" + bad)
            assert st == 400, (bad, st)
        # the API: pages of "limit", "next" until the end
        token = r.token("a")
        got, path = [], "/api/v1/orders?limit=40"
        while path:
            st, _, j = c.api("GET", path, token=token)
            assert st == 200, j
            assert len(j["orders"]) <= 40
            got += [o["id"] for o in j["orders"]]
            path = j.get("next")
        assert got == ids
        st, _, j = c.api("GET", "/api/v1/orders", token=token)
        assert len(j["orders"]) == 100 and j["next"] == \
            f"/api/v1/orders?before={ids[99]}&limit=100"
        for q in ("limit=0", "limit=501", "limit=x", "before=-1",
                  "before=abc"):
            st, _, j = c.api("GET", "/api/v1/orders?" + q, token=token)
            assert st == 400, (q, st)
            assert j["type"].endswith("malformed"), j
        # another customer: none of them
        b = r.login("b")
        st, _, body = b.get("/portal/overview")
        assert st == 200 and b'data-order="' not in body
        st, _, j = b.api("GET", "/api/v1/orders", token=r.token("b"))
        assert j == {"orders": []}
    finally:
        if r.server.proc is not None:
            r.server.stop()


def test_reissue_for_another_domain_revokes_the_old(rig):
    """Renew or reissue with a new key for another domain: the slot must
    not hold two valid certificates for two domains, so the one replaced
    is revoked (superseded) 72 hours after the new one is issued, by the
    DV worker; the confirmation, overview and order page say when."""
    c = rig.login("a")
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "starter")

    def order(domain):
        _, csr = make_csr([domain, "www." + domain])
        st, _, body = placed(c, post_setup(c, slot, {
            "domain": domain, "purpose": "hosting", "terms": "1",
            "key_source": "browser", "csr": csr}))
        oid = rig.db("SELECT max(id) FROM orders WHERE slot_id = ?",
                     int(slot))[0][0]
        return oid, body

    first, _ = order(DOMAIN)
    if rig.db("SELECT status FROM orders WHERE id = ?", first)[0][0] != \
            "valid":
        assert rig.cli("admin", "validate", "--order", str(first)) == \
            "issued"
    old = rig.db("SELECT cert_serial FROM orders WHERE id = ?", first)[0][0]
    # the same names again: a renewal, nothing to revoke
    renewal, body = order(DOMAIN)
    assert b"it replaces will be revoked" not in body
    assert rig.db("SELECT status FROM orders WHERE id = ?", renewal) == \
        [("valid",)]
    old = rig.db("SELECT cert_serial FROM orders WHERE id = ?",
                 renewal)[0][0]
    # another domain: the customer is told before it is issued
    oid, body = order("reissue-" + DOMAIN)
    assert b"The certificate for " + DOMAIN.encode() in body
    assert b"it replaces will be revoked 72 hours after this one is " \
        b"issued" in body
    assert rig.cli("admin", "validate", "--order", str(oid)) == "issued"
    new, created = rig.db("SELECT c.serial, c.created_at FROM "
                          "certificates c JOIN orders o ON o.cert_serial = "
                          "c.serial WHERE o.id = ?", oid)[0]
    (serial, by, after), = rig.db("SELECT serial, by_serial, revoke_at - ? "
                                  "FROM superseded_certs", created)
    # (from when the slot took the new one: the same second or the next)
    assert (serial, by) == (old, new) and \
        72 * 3600 <= after <= 72 * 3600 + 5
    assert rig.db("SELECT count(*) FROM revocations WHERE serial = ?",
                  old) == [(0,)]
    when = page_time(rig.db("SELECT revoke_at FROM superseded_certs")[0][0])
    for path in ("/portal/overview", f"/portal/orders/{oid}"):
        st, _, body = c.get(path)
        assert st == 200
        assert (f"it replaces will be revoked on {when}.").encode() in \
            body, path
    # the API says the same; a renewal replaces nothing
    st, _, doc = c.api("GET", f"/api/v1/orders/{oid}",
                       token=rig.token("a"))
    iso = rig.db("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', revoke_at, "
                 "'unixepoch') FROM superseded_certs")[0][0]
    assert st == 200 and doc["replaces"] == {
        "names": [DOMAIN, "www." + DOMAIN], "revoke_at": iso}, doc
    st, _, doc = c.api("GET", f"/api/v1/orders/{renewal}",
                       token=rig.token("a"))
    assert st == 200 and doc["replaces"] is None, doc


def order_row(body, oid):
    """The overview's row of order oid (HTML text)."""
    m = re.search(rf'<tr data-order="{oid}" [^>]*>(.*?)</tr>',
                  body.decode(), re.S)
    assert m, body[:3000]
    return m.group(1)


def test_renewal_replaces_the_old(rig):
    """After a renewal for the same names the old certificate's page and
    row say that the renewal replaced it (a link), until when it stays
    valid, and to install the new one: not "Ready to install", no
    installation, no second renewal from there. The API says renewed_by."""
    c = rig.login("a")
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "starter")
    ids = []
    for _ in range(2):
        _, csr = make_csr([DOMAIN, "www." + DOMAIN])
        st, _, body = placed(c, post_setup(c, slot, {
            "domain": DOMAIN, "purpose": "hosting", "terms": "1",
            "key_source": "browser", "csr": csr}))
        oid = rig.db("SELECT max(id) FROM orders WHERE slot_id = ?",
                     int(slot))[0][0]
        if rig.db("SELECT status FROM orders WHERE id = ?", oid)[0][0] != \
                "valid":
            assert rig.cli("admin", "validate", "--order", str(oid)) == \
                "issued"
        ids.append(oid)
    old, new = ids
    until = page_time(rig.db("SELECT c.not_after FROM certificates c JOIN "
                             "orders o ON o.cert_serial = c.serial WHERE "
                             "o.id = ?", old)[0][0])
    st, _, body = c.get(f"/portal/orders/{old}")
    assert st == 200
    text = body.decode()
    assert ('<span class="state state-replaced" data-order="'
            f'{old}" data-state="issued">Replaced</span>') in text
    assert (f'Replaced by <a href="/portal/orders/{new}">its renewal</a>: '
            'install the new certificate. This one is not revoked and '
            f'stays valid until {until}.') in text
    assert "Ready to install" not in text
    assert "Installing the certificate" not in text
    assert "Renew or reissue with a new key" not in text
    # still its own files, and it can still be revoked
    assert f"/portal/orders/{old}/download/fullchain.pem" in text
    assert f'action="/portal/orders/{old}/revoke"' in text
    # the renewal's page is the one to install, and to renew from
    st, _, body = c.get(f"/portal/orders/{new}")
    text = body.decode()
    assert "Ready to install." in text and "state-replaced" not in text
    assert "Installing the certificate" in text
    assert "Renew or reissue with a new key" in text
    # the overview: two different rows
    st, _, body = c.get("/portal/overview")
    row_old, row_new = order_row(body, old), order_row(body, new)
    assert "Replaced" in row_old and "Ready to install" not in row_old
    assert f'href="/portal/orders/{new}">its renewal</a>' in row_old
    assert "Ready to install." in row_new
    # the portfolio links the certificate the slot holds: the renewal
    st, _, body = c.get("/portal/")
    assert f'<a href="/portal/orders/{new}">View certificate</a>' in \
        slot_row(body, slot)
    # the API
    st, _, doc = c.api("GET", f"/api/v1/orders/{old}", token=rig.token("a"))
    assert st == 200 and doc["renewed_by"] == new
    assert doc["state"] == "issued" and "renewal" in doc["state_help"]
    st, _, doc = c.api("GET", f"/api/v1/orders/{new}", token=rig.token("a"))
    assert st == 200 and doc["renewed_by"] is None
