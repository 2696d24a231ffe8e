# SPDX-License-Identifier: Apache-2.0
"""The setup form over HTTPS, the server's side of what the browser does:
the typed domain read as the browser reads it (case, one trailing dot,
U-labels), country codes trimmed and folded; a refused form offers the
customer's CSR again (verified again when it comes back: a CSR whose
signature does not hold is not kept, nor taken), or, when the CA refuses
its names, the fingerprint of its key for the saved file to sign a new
one; a form sent after the session ended says so; a form from before the
last login comes back as sent, only to our own pages; the renew form starts
from the certificate's order; the form's POST redirects to the
confirmation (POST-redirect-GET: a reload orders nothing), which tells
which key the certificate is for, and an order issued at once says so; the
files of a long name are named as the browser names the key file; the
certificate's page shows its public key's fingerprint as openssl computes
it."""
import base64
import hashlib
import html
import json
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from portal_rig import Rig, fp_html
from test_portal_orders import make_csr

DOMAIN = "setup.test"


def spki_fp(key):
    """What `openssl pkey -pubout -outform DER | openssl dgst -sha256`
    prints for the key file."""
    return hashlib.sha256(key.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()


def field_errors(body):
    return {m.group(1).decode(): html.unescape(m.group(2).decode())
            for m in re.finditer(rb'<p class="field-error" id="e-([a-z_]+)">'
                                 rb'([^<]*)</p>', body)}


def kept_box(body):
    """The key-kept box's attributes: None when it is hidden."""
    m = re.search(rb'<div id="key-kept" class="notice key-kept" '
                  rb'data-names="([^"]*)" data-fp="([^"]*)"( hidden)?>', body)
    assert m, "no key-kept box"
    if m.group(3):
        return None
    return m.group(1).decode(), m.group(2).decode()


def hidden_csr(body):
    m = re.search(rb'name="csr" id="csr" value="([^"]*)"', body)
    assert m
    return html.unescape(m.group(1).decode())


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    r = Rig(tmp_path_factory.mktemp("portal-setup"))
    contract = r.ids["a"]["contract"]
    for name in (DOMAIN, "xn--bcher-kva.test", "other.test"):
        r.cli("admin", "domain", "add", "--contract", contract, "--name",
              name)
    r.slots = {k: r.cli("admin", "slot", "add", "--contract", contract,
                        "--product", p)
               for k, p in (("s1", "starter"), ("s2", "starter"),
                            ("s3", "starter"), ("s4", "starter"),
                            ("w1", "business_wildcard"),
                            ("b1", "business"))}
    # the organisation, validated before: OV orders reuse it
    r.cli("admin", "org", "add", "--customer", r.ids["a"]["customer"],
          "--legal-name", "Setup GmbH", "--country", "DE", "--locality",
          "Karlsruhe", "--validated-by", "test", "--evidence", "register")
    r.server.start()
    yield r
    r.server.stop()


def setup_path(slot):
    return f"/portal/slots/{slot}/setup"


def post_setup(c, slot, fields):
    st, _, body = c.get(setup_path(slot))
    assert st == 200, body[:300]
    f = {"csrf": c.csrf_from(body), "purpose": "hosting",
         "key_source": "browser"}
    f.update(fields)
    return c.post_form(setup_path(slot), f)


def placed(c, reply):
    """The confirmation of an order the setup form placed: the POST
    redirects to it (POST-redirect-GET); its GET."""
    st, h, body = reply
    assert st == 303, field_errors(body) or body[:2000]
    assert re.fullmatch(r"/portal/orders/[1-9][0-9]*/placed(\?key=own)?",
                        h["Location"]), h["Location"]
    st, h, body = c.get(h["Location"])
    assert st == 200, body[:2000]
    return st, h, body


def orders(rig):
    return rig.db("SELECT id, names, details FROM orders ORDER BY id")


def test_names_and_codes_read_as_the_browser_does(rig):
    c = rig.login("a")
    # the form the browser sees: the domain field does not cut a long
    # name silently
    st, _, body = c.get(setup_path(rig.slots["s1"]))
    assert b'id="f-domain" name="domain"' in body
    assert b'maxlength="1024"' in body and b'maxlength="253"' not in body
    n = len(orders(rig))
    _, csr = make_csr(["xn--bcher-kva.test", "www.xn--bcher-kva.test"])
    st, _, body = placed(c, post_setup(c, rig.slots["s1"], {
        "domain": " WWW.B\u00fccher.TEST. ", "terms": "1", "csr": csr}))
    assert orders(rig)[n][1] == "xn--bcher-kva.test www.xn--bcher-kva.test"
    # OV: country codes as typed
    _, csr = make_csr([DOMAIN])
    st, _, body = placed(c, post_setup(c, rig.slots["b1"], {
        "domain": DOMAIN + ".", "terms": "1", "csr": csr,
        "purpose": "server", "admin_name": "Ada Admin",
        "admin_email": " ada@setup.test ", "admin_phone": "+49 721 1234",
        "tech_name": "Tom Tech", "tech_email": "tom@setup.test",
        "tech_phone": "+49 721 4321", "org_legal_name": "Setup GmbH ",
        "org_street": "Hauptstr. 1", "org_postal_code": "76131",
        "org_locality": "Karlsruhe", "org_country": "de "}))
    details = json.loads(orders(rig)[n + 1][2])
    assert details["org"]["country"] == "DE"
    assert details["org"]["legal_name"] == "Setup GmbH"
    assert details["admin"]["email"] == "ada@setup.test"


def test_hostile_names_refused_with_what_was_typed(rig):
    c = rig.login("a")
    n = len(orders(rig))
    cases = {
        "": "Please enter the domain the certificate is for.",
        "exa..mple.test": '"exa..mple.test" has an empty label',
        "www.*.setup.test": '"www.*.setup.test" has a "*": wildcard names',
        "xn--zz.test": '"xn--zz.test" has an invalid A-label',
        "b\u00fc\u2603.test": "is not a valid internationalised domain",
        "d" * 296 + ".com": "This domain is too long: \"" + "d" * 60 +
        "\u2026" + "d" * 26 + '.com" has 300 characters, at most 253 are '
        "allowed.",
        "a\tb.test": "it contains a control character.",
    }
    for typed, want in cases.items():
        st, _, body = post_setup(c, rig.slots["s2"], {"domain": typed,
                                                      "terms": "1"})
        assert st == 422
        assert want in field_errors(body)["domain"], typed
        # the title says so; the summary is there to take the focus
        assert re.search(rb"<title>Error: ", body), typed
        assert b'id="error-summary" tabindex="-1"' in body
    assert len(orders(rig)) == n


def test_refused_form_offers_the_csr_again(rig):
    c = rig.login("a")
    slot = rig.slots["s2"]
    key, csr = make_csr([DOMAIN, "www." + DOMAIN])
    n = len(orders(rig))
    # refused for the terms: the same CSR comes back, with its key's
    # fingerprint and names, and the page says the key is still valid
    st, _, body = post_setup(c, slot, {"domain": DOMAIN, "csr": csr})
    assert st == 422
    assert "terms" in field_errors(body)
    assert kept_box(body) == (f"{DOMAIN} www.{DOMAIN}", spki_fp(key))
    assert b"Your private key is still valid: no need to download a new " \
        b"one." in body
    kept = hidden_csr(body)
    assert x509.load_pem_x509_csr(kept.encode()).public_bytes(
        serialization.Encoding.DER) == x509.load_pem_x509_csr(
        csr.encode()).public_bytes(serialization.Encoding.DER)
    # its signature broken: not offered again, and not taken
    der = bytearray(x509.load_pem_x509_csr(csr.encode()).public_bytes(
        serialization.Encoding.DER))
    der[-5] ^= 0x01
    bad = ("-----BEGIN CERTIFICATE REQUEST-----\n" +
           base64.encodebytes(bytes(der)).decode() +
           "-----END CERTIFICATE REQUEST-----\n")
    st, _, body = post_setup(c, slot, {"domain": DOMAIN, "csr": bad})
    assert st == 422 and kept_box(body) is None
    assert hidden_csr(body) == ""
    assert b"A new key is made for the corrected form" in body
    st, _, body = post_setup(c, slot, {"domain": DOMAIN, "csr": bad,
                                       "terms": "1"})
    assert st == 422 and "csr" in field_errors(body)
    # another customer's CSR, however it is got, is a CSR like any other:
    # it names its own key; the kept one goes through as it came
    st, _, body = placed(c, post_setup(c, slot, {
        "domain": DOMAIN, "csr": kept, "terms": "1"}))
    assert len(orders(rig)) == n + 1
    assert fp_html(spki_fp(key)).encode() in body


def test_names_refused_by_the_ca_keep_the_key(rig):
    """A wildcard on a public suffix: the CA refuses the CSR's names, but
    the key it proves is fine: its fingerprint for the saved file, no CSR
    to send again."""
    c = rig.login("a")
    key, csr = make_csr(["*.co.uk", "co.uk"])
    st, _, body = post_setup(c, rig.slots["w1"], {
        "domain": "co.uk", "csr": csr, "terms": "1"})
    assert st == 422
    errs = field_errors(body)
    assert "No wildcard certificate can be issued" in errs["domain"]
    assert "csr" not in errs      # said once, at the domain
    assert kept_box(body) == ("", spki_fp(key))
    assert hidden_csr(body) == ""
    assert re.search(rb'<div id="key-load" class="key-load">', body)
    assert b"choose the key file you saved" in body
    # with the customer's own CSR nothing is kept
    st, _, body = post_setup(c, rig.slots["w1"], {
        "domain": "co.uk", "csr_pem": csr, "key_source": "own",
        "terms": "1"})
    assert st == 422 and kept_box(body) is None


def test_confirmation_says_which_key(rig):
    c = rig.login("a")
    key, csr = make_csr(["other.test", "www.other.test"])
    st, _, body = placed(c, post_setup(c, rig.slots["s3"], {
        "domain": "other.test", "csr_pem": csr, "key_source": "own",
        "terms": "1"}))
    assert b"being set up" in body
    assert b"The certificate is for the key of the CSR you sent" in body
    assert b"private key you downloaded" not in body
    assert f'id="key-fp">{fp_html(spki_fp(key))}<'.encode() in body
    assert b"openssl pkey -in other.test.key -pubout" in body


def file_base(first):
    """The key file's name the browser gives (web/src/setup.js
    fileBase()), without ".key"."""
    n = "wildcard." + first[2:] if first.startswith("*.") else first
    return n[:200].rstrip(".-") if len(n) > 200 else n


def test_file_names_of_a_long_name(rig):
    """A name of up to 253 characters: its files' names are cut to 200
    characters (no trailing dot, which would make "x..cert.pem"), as the
    browser names the key file, so that every file system takes them
    and the pages' openssl command names the file the customer saved."""
    c = rig.login("a")
    # the 200th character is a dot: cut before it
    name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 7, DOMAIN])
    base = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 7])
    assert len(name) == 210 and file_base(name) == base
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product", "starter")
    key, csr = make_csr([name, "www." + name])
    st, _, body = placed(c, post_setup(c, slot, {
        "domain": name, "terms": "1", "csr": csr}))
    assert f"openssl pkey -in {base}.key -pubout".encode() in body
    oid = rig.db("SELECT id FROM orders WHERE slot_id = ?", int(slot))[0][0]
    assert rig.cli("admin", "validate", "--order", str(oid)) == "issued"
    st, _, page = c.get(f"/portal/orders/{oid}")
    text = page.decode()
    assert f"openssl pkey -in {base}.key -pubout" in text
    assert f">{base}.fullchain.pem</a>" in text
    assert f"ssl_certificate_key /etc/ssl/private/{base}.key;" in text
    assert f"{base}..".encode() not in page
    for f in ("cert.pem", "fullchain.p7b"):
        st, h, _ = c.get(f"/portal/orders/{oid}/download/{f}")
        assert st == 200
        assert h["Content-Disposition"] == \
            f'attachment; filename="{base}.{f}"'
        assert len(f"{base}.{f}") <= 255
    # a wildcard: "wildcard." counts too; a hyphen at the cut goes
    name = ".".join(["e" * 63, "f" * 63, "g" * 60, "h-i", DOMAIN])
    want = "wildcard." + ".".join(["e" * 63, "f" * 63, "g" * 60, "h"])
    assert file_base("*." + name) == want
    slot = rig.cli("admin", "slot", "add", "--contract",
                   rig.ids["a"]["contract"], "--product",
                   "business_wildcard")
    key, csr = make_csr(["*." + name, name])
    st, _, body = placed(c, post_setup(c, slot, {
        "domain": name, "terms": "1", "csr_pem": csr, "key_source": "own",
        "purpose": "server", "admin_name": "Ada Admin",
        "admin_email": "ada@setup.test", "admin_phone": "+49 721 1234",
        "tech_name": "Tom Tech", "tech_email": "tom@setup.test",
        "tech_phone": "+49 721 4321", "org_legal_name": "Setup GmbH",
        "org_street": "Hauptstr. 1", "org_postal_code": "76131",
        "org_locality": "Karlsruhe", "org_country": "DE"}))
    assert f"openssl pkey -in {want}.key -pubout".encode() in body


def test_session_ended(rig):
    c = rig.client()
    st, _, body = c.post_form(setup_path(rig.slots["s4"]), {
        "csrf": "0" * 64, "domain": DOMAIN})
    assert st == 403
    text = body.decode()
    assert "<title>Error: Your session has ended" in text
    assert "after 30 minutes without activity" in text
    assert "nothing was ordered" in text
    assert "What you entered is kept in this browser tab" in text
    # the login leads back to the form, which the draft fills in again
    assert (f'href="/portal/login?next=/portal/slots/{rig.slots["s4"]}'
            '/setup">Log in again') in text
    assert "did not come from this site" not in text
    # another form: the same, without the setup form's draft
    st, _, body = c.post_form(f"/portal/slots/{rig.slots['s4']}/activate",
                              {"csrf": "0" * 64})
    assert st == 403 and b"Your session has ended" in body
    assert b"What you entered is kept" not in body


def test_form_from_before_the_last_login(rig):
    c = rig.login("a")
    slot = rig.slots["s4"]
    st, _, body = c.get(setup_path(slot))
    old = c.csrf_from(body)
    key, csr = make_csr([DOMAIN, "www." + DOMAIN])
    # logged out and in again (another tab): a new session, a new CSRF
    # secret
    st, _, _ = c.post_form("/portal/logout", {"csrf": c.page_csrf()})
    assert st == 303
    st, _, _ = c.login(rig.emails["a"], "correct horse battery staple")
    assert st == 303
    fields = {"csrf": old, "domain": "Setup.TEST", "purpose": "server",
              "key_source": "browser", "terms": "1", "csr": csr}
    n = len(orders(rig))
    st, _, body = c.post_form(setup_path(slot), fields)
    assert st == 403
    assert b"opened before you last logged in" in body
    assert b'value="Setup.TEST"' in body
    assert kept_box(body) == (f"{DOMAIN} www.{DOMAIN}", spki_fp(key))
    assert c.csrf_from(body) != old
    assert len(orders(rig)) == n
    kept = hidden_csr(body)
    # not for another site's page
    st, _, body = c.post_form(setup_path(slot), fields,
                              headers={"Origin": "https://evil.example"})
    assert st == 403 and b"Setup.TEST" not in body
    # sent again from the page it came back in: ordered
    fields["csrf"] = c.csrf_from(c.get(setup_path(slot))[2])
    fields["csr"] = kept
    st, _, body = placed(c, c.post_form(setup_path(slot), fields))
    assert len(orders(rig)) == n + 1


def test_renew_starts_from_the_certificate(rig):
    c = rig.login("a")
    # the OV order of the first test (its organisation on file), its
    # domain validated
    oid = rig.db("SELECT id FROM orders WHERE slot_id = ?",
                 int(rig.slots["b1"]))[0][0]
    assert rig.cli("admin", "validate", "--order", str(oid)) == "issued"
    st, _, body = c.get(setup_path(rig.slots["b1"]))
    assert st == 200
    assert b"Renew or reissue with a new key" in body
    for name, value in (("domain", DOMAIN), ("admin_name", "Ada Admin"),
                        ("admin_email", "ada@setup.test"),
                        ("tech_phone", "+49 721 4321"),
                        ("org_legal_name", "Setup GmbH"),
                        ("org_country", "DE"), ("org_locality", "Karlsruhe")):
        assert re.search(f'name="{name}"[^>]*value="{re.escape(value)}"'
                         .encode(), body), name
    assert b'value="server" checked' in body
    assert b'name="terms" value="1">' in body        # accepted anew
    assert f'data-current="{DOMAIN}"'.encode() in body
    assert b'id="renew-hint"' in body and b"revoked 72 hours" in body
    # the certificate's page: its key's fingerprint, as openssl has it
    st, _, page = c.get(f"/portal/orders/{oid}")
    der = rig.db("SELECT der FROM certificates WHERE order_id = ?", oid)
    cert = x509.load_der_x509_certificate(der[0][0])
    fp = hashlib.sha256(cert.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()
    assert f'id="key-fp">{fp_html(fp)}<'.encode() in page
    assert f"openssl pkey -in {DOMAIN}.key -pubout -outform DER | openssl " \
        "dgst -sha256".encode() in page


def main_of(body):
    """The page's content, without what changes from one request to the
    next (the CSRF token of the header's logout form)."""
    return re.search(rb"<main.*</main>", body, re.S).group(0)


def test_confirmation_after_a_redirect(rig):
    """POST-redirect-GET: the setup form's POST redirects to the
    confirmation of the order it placed, so that a reload shows it again
    and orders nothing. Before, a reload sent the form again: a 409 while
    the order waited, and for names confirmed before a second order and
    a second certificate. The page is the customer's own: another
    customer's order, or an ACME one, is not found."""
    c = rig.login("a")
    contract = rig.ids["a"]["contract"]
    rig.cli("admin", "domain", "add", "--contract", contract, "--name",
            "prg.test")
    first, second = (rig.cli("admin", "slot", "add", "--contract",
                             contract, "--product", "starter")
                     for _ in range(2))
    key, csr = make_csr(["prg.test", "www.prg.test"])
    st, h, body = post_setup(c, first, {"domain": "prg.test", "terms": "1",
                                        "csr": csr})
    assert st == 303, field_errors(body)
    oid = rig.db("SELECT id FROM orders WHERE slot_id = ?", int(first))[0][0]
    assert h["Location"] == f"/portal/orders/{oid}/placed"
    n = len(orders(rig))
    st, _, page = c.get(h["Location"])
    assert st == 200
    # the tab says which certificate (one of many)
    assert b"<title>SSL certificate ordered for prg.test, www.prg.test " \
        in page
    assert b"Your SSL certificate is being set up" in page
    assert f'data-placed-slot="{first}"'.encode() in page
    assert b"private key you downloaded" in page
    assert f'id="key-fp">{fp_html(spki_fp(key))}<'.encode() in page
    assert b"openssl pkey -in prg.test.key -pubout" in page
    # a reload: the same page, nothing ordered
    st, _, again = c.get(h["Location"])
    assert st == 200 and main_of(again) == main_of(page)
    assert len(orders(rig)) == n
    # issued later: the page says so, not that it was issued at once
    assert rig.cli("admin", "validate", "--order", str(oid)) == "issued"
    st, _, page = c.get(h["Location"])
    assert b"Your SSL certificate is issued" in page
    assert b"confirmed before" not in page
    assert f'href="/portal/orders/{oid}">View and download'.encode() in page
    # names confirmed before: issued at once, and a reload issues no
    # second certificate
    certs = rig.db("SELECT count(*) FROM certificates")[0][0]
    key, csr = make_csr(["prg.test", "www.prg.test"])
    st, h, body = post_setup(c, second, {
        "domain": "prg.test", "terms": "1", "csr_pem": csr,
        "key_source": "own"})
    assert st == 303, field_errors(body)
    oid2 = rig.db("SELECT id FROM orders WHERE slot_id = ?",
                  int(second))[0][0]
    assert h["Location"] == f"/portal/orders/{oid2}/placed?key=own"
    for _ in range(2):
        st, _, page = c.get(h["Location"])
        assert st == 200
        assert b"<title>SSL certificate issued for prg.test, " in page
        assert b"Your domain was confirmed before, so the certificate was " \
            b"issued right away" in page
        assert b"The certificate is for the key of the CSR you sent" in page
        assert b"private key you downloaded" not in page
        assert f'id="key-fp">{fp_html(spki_fp(key))}<'.encode() in page
    assert rig.db("SELECT count(*) FROM certificates")[0][0] == certs + 1
    assert len(orders(rig)) == n + 1
    # only a GET; another customer's order, an unknown one: not found
    st, _, _ = c.post_form(f"/portal/orders/{oid2}/placed",
                           {"csrf": c.page_csrf()})
    assert st == 405
    b = rig.login("b")
    for path in (f"/portal/orders/{oid2}/placed",
                 f"/portal/orders/{oid2}/placed?key=own",
                 "/portal/orders/999999/placed"):
        st, _, body = b.get(path)
        assert st == 404, path
        assert b"prg.test" not in body
    # logged out: the login leads back to it
    st, h, _ = rig.client().get(f"/portal/orders/{oid2}/placed?key=own")
    assert st == 303 and h["Location"] == \
        f"/portal/login?next=/portal/orders/{oid2}/placed%3Fkey%3Down"
