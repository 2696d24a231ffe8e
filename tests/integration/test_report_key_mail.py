# SPDX-License-Identifier: Apache-2.0
"""The preliminary report of a key compromise report (BR 4.9.5), against a
real SMTP server (aiosmtpd on loopback, smtp_rig) and real ACME issuance
(Knot DNS and an http-01 responder, acme_rig): one key has a certificate
of a portal order and one of an ACME order; it is reported on
/report-key, and the reporter, the portal customer's user and the ACME
account's contact each get their mail. The reporter learns the key, the
serials and that the key is blocked, not whose certificates they were;
each subscriber learns of its own certificate only. A hostile contact (a
line break with a header after it, an overlong one, one that is no
address) is refused on the form with why, the input kept, and nothing is
done; an https:// contact or none gets no mail, and the page says so.
One address gets at most five reports a day, however its letters are
cased or tagged: the sixth report is acted on without a mail, and the
page and the audit log say why. Every message is parsed with Python's
email module."""
import hashlib
import json
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from acme_client import Client, issue
from acme_client import store_rows as db
from conftest import ok
from portal_rig import PASSWORD, page_time
from portal_rig import Client as Browser
from smtp_rig import acme_with_mail
from test_portal_orders import make_csr

REPORTER = "finder@research.example"
OWNER = "alice@shop-owner.example"
ACME_OPS = "ops@acme-sub.example"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    def add_records(cli, ids):
        cust = cli("admin", "customer", "add", "--name", "Shop Owner Ltd")
        contract = cli("admin", "contract", "add", "--customer", cust,
                       "--number", "S-0001")
        ids["slot"] = cli("admin", "slot", "add", "--contract", contract,
                          "--product", "starter")
        cli("admin", "domain", "add", "--contract", contract, "--name",
            "shop.test")
        user = cli("admin", "user", "add", "--customer", cust, "--email",
                   OWNER, "--name", "Alice Owner", "--role", "customer",
                   "--password-stdin", input=PASSWORD + "\n")
        ids["token"] = cli("admin", "token", "add", "--user", user,
                           "--label", "test")

    with acme_with_mail(tmp_path_factory, "reportmail", add_records) as e:
        yield e


def proof_of(key):
    """A proof of possession of key (PEM text)."""
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME,
                            "Proof of key compromise")])).sign(
        key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def fingerprint(key):
    return hashlib.sha256(key.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()


def body_of(m):
    return m.get_body(preferencelist=("plain",)).get_content().replace(
        "\r\n", "\n")


def browser(env):
    return Browser(env.server.https_port, env.root)


def test_hostile_contact_refused(env):
    """Refused with why, the form filled in again, nothing done, no mail
    to the address a header injection would have added."""
    key = ec.generate_private_key(ec.SECP256R1())
    proof = proof_of(key)
    c = browser(env)
    for contact, why in (
            (REPORTER + "\r\nBcc: evil@attacker.example", b"line break"),
            (REPORTER + "\nBcc: evil@attacker.example", b"line break"),
            ("x" * 300 + "@research.example", b"too long"),
            ("not-an-address", b"is not an email address"),
            ("Finder <finder@research.example>", b"has a space"),
            ("finder@research.example,evil@attacker.example",
             b"has &#39;,&#39;: give one plain email address"),
            ("finder@localhost", b"not a domain name")):
        st, _, body = c.post_form("/report-key", {"proof": proof,
                                                  "contact": contact})
        assert st == 422, (contact, body[:300])
        assert b'id="report-error"' in body and why in body, contact
        # the title says so first, the focus is on why (WCAG 3.3.1)
        assert b"<title>Error: Report a compromised key" in body
        assert b'id="report-error" tabindex="-1" autofocus>' in body
        # the input comes back for correction
        assert proof.splitlines()[1].encode() in body
        assert b'value="' + contact.split("\r")[0].split("\n")[0].encode() \
            .replace(b"<", b"&lt;").replace(b">", b"&gt;") in body
    assert db(env, "SELECT count(*) FROM blocked_keys")[0][0] == 0
    assert db(env, "SELECT count(*) FROM mail_outbox WHERE to_addr LIKE "
                   "'%attacker%' OR kind LIKE 'key.%'")[0][0] == 0
    assert "evil@attacker.example" not in env.inbox.rcpts


def test_reporter_and_subscribers_told(env):
    key = ec.generate_private_key(ec.SECP256R1())
    # a portal order for the key, issued by staff validation
    _, csr = make_csr(["shop.test", "www.shop.test"], key)
    c = Browser(env.server.https_port, env.root)
    st, _, doc = c.api("POST", f"/api/v1/slots/{env.ids['slot']}/orders",
                       token=env.ids["token"], body=json.dumps({
                           "domain": "shop.test", "purpose": "hosting",
                           "terms_accepted": True, "csr": csr}))
    assert st == 201, doc
    oid = doc["id"]
    assert ok(["admin", "validate", "--order", oid, "--data",
               env.data]).strip() == "issued"
    portal_serial = db(env, "SELECT cert_serial FROM orders WHERE id = ?",
                       oid)[0][0]
    # an ACME order for the same key, by an account with a contact
    acme = Client(env.dir_url, env.root)
    r = acme.new_account(contact=["mailto:" + ACME_OPS])
    assert r.status == 201, r
    issue(env, acme, ["api.test"], key=key)
    acme_serial = db(env, "SELECT serial FROM certificates WHERE names = "
                          "'api.test' AND profile = 'dv'")[0][0]
    # the portal's own mails ("action needed", "ready") out of the way
    env.inbox.wait(lambda r, m: r == [OWNER] and
                   m["Subject"].endswith("is ready"))

    st, _, body = c.post_form("/report-key", {"proof": proof_of(key),
                                              "contact": REPORTER})
    assert st == 200, body[body.find(b"<main"):][:800]
    assert b"2 certificates of it have been revoked" in body
    assert b"on its way to <strong>" + REPORTER.encode() + b"</strong>" \
        in body
    assert b"We tell the owners of the revoked certificates ourselves" \
        in body
    fp = fingerprint(key)

    m = env.inbox.wait(lambda r, m: r == [REPORTER])
    assert m["To"] == REPORTER and m["Bcc"] is None
    assert m["From"] == "certdesk CA <ca@certdesk.test>"
    assert m["Subject"] == ("Your key compromise report: key blocked, "
                            "2 certificates revoked")
    text = body_of(m)
    assert text.startswith("Hello,\n")
    assert fp in text and "verified" in text
    assert "we will issue no certificate for it again" in text
    assert portal_serial in text and acme_serial in text
    # the revocation's time as the pages show a time
    at = page_time(db(env, "SELECT revoked_at FROM revocations WHERE "
                           "serial = ?", portal_serial)[0][0])
    assert f"for keyCompromise on {at}. Relying parties" in text, text
    for other in ("shop.test", "api.test", OWNER, ACME_OPS, "Shop Owner",
                  "Alice"):
        assert other not in text, other

    m = env.inbox.wait(lambda r, m: r == [OWNER] and
                       m["Subject"].startswith("Revoked:"))
    assert m["To"] == OWNER
    assert m["Subject"] == ("Revoked: your SSL certificate for shop.test "
                            "(key compromised)")
    text = body_of(m)
    assert text.startswith("Hello Alice Owner,\n")
    assert portal_serial in text and fp in text
    assert "Names: shop.test, www.shop.test" in text
    assert f"Revoked: {at}, reason keyCompromise\n" in text, text
    assert f"/portal/orders/{oid}\n" in text
    assert "Make a new private key" in text
    for other in (acme_serial, "api.test", REPORTER, ACME_OPS):
        assert other not in text, other

    m = env.inbox.wait(lambda r, m: r == [ACME_OPS])
    assert m["Subject"] == ("Revoked: your SSL certificate for api.test "
                            "(key compromised)")
    text = body_of(m)
    assert acme_serial in text and "Names: api.test" in text
    assert "ACME client" in text and fp in text
    for other in (portal_serial, "shop.test", REPORTER, OWNER):
        assert other not in text, other

    # one mail each, each sent; who was told about what is audited
    rows = db(env, "SELECT kind, to_addr, sent_at IS NOT NULL FROM "
                   "mail_outbox WHERE kind LIKE 'key.%' ORDER BY to_addr")
    assert rows == [("key.revoked", OWNER, 1),
                    ("key.report", REPORTER, 1),
                    ("key.revoked", ACME_OPS, 1)], rows
    audit = ok(["audit", "list", "--data", env.data])
    line = [x for x in audit.splitlines() if "key.report.mail" in x]
    assert len(line) == 1 and REPORTER in line[0] and OWNER in line[0] \
        and ACME_OPS in line[0], audit[-2000:]
    assert "audit log intact" in ok(["audit", "verify", "--data",
                                     env.data])


def test_no_mail_without_an_address(env):
    """An https:// contact or none: the key is blocked, no mail goes
    out, and the page says why."""
    c = browser(env)
    before = db(env, "SELECT count(*) FROM mail_outbox")[0][0]
    for contact, says in (
            ("https://research.example/advisories/7",
             b"You gave a web address"),
            ("", b"You gave no email address")):
        key = ec.generate_private_key(ec.SECP256R1())
        st, _, body = c.post_form("/report-key", {"proof": proof_of(key),
                                                  "contact": contact})
        assert st == 200, body[:300]
        assert b"0 certificates of it have been revoked" in body
        assert says in body
        assert b"owners of the revoked" not in body
    assert db(env, "SELECT count(*) FROM mail_outbox")[0][0] == before
    assert "research.example/advisories/7" in ok(
        ["audit", "list", "--data", env.data])


MAILS_PER_DAY = 5      # RA_KEY_REPORT_MAILS_PER_DAY


def test_reporter_mails_per_address_limited(env):
    """Anyone can make up keys and proofs: one address gets at most
    MAILS_PER_DAY reports a day, its case and a +tag not counting. The
    report past that still blocks the key and revokes its certificate,
    whose subscriber is told; only the reporter's mail is left out."""
    c = browser(env)
    victim = ("victim@target.example", "Victim@Target.Example",
              "victim+1@target.example", "VICTIM+x@TARGET.example",
              "victim@target.EXAMPLE")
    assert len(victim) == MAILS_PER_DAY
    for to in victim:
        key = ec.generate_private_key(ec.SECP256R1())
        st, _, body = c.post_form("/report-key", {"proof": proof_of(key),
                                                  "contact": to})
        assert st == 200, body[:300]
        assert b"on its way to <strong>" + to.encode() in body

    # one more, of a key with a certificate of an ACME order
    key = ec.generate_private_key(ec.SECP256R1())
    acme = Client(env.dir_url, env.root)
    r = acme.new_account(contact=["mailto:ops@limit-sub.example"])
    assert r.status == 201, r
    issue(env, acme, ["limit.test"], key=key)
    serial = db(env, "SELECT serial FROM certificates WHERE names = "
                     "'limit.test'")[0][0]
    st, _, body = c.post_form("/report-key", {
        "proof": proof_of(key), "contact": "victim+again@target.example"})
    assert st == 200, body[:300]
    assert b"1 certificate of it has been revoked" in body
    assert b"We do not mail our report on what we found to <strong>" \
        b"victim+again@target.example</strong>: that address has " \
        b"received several of our reports today" in body, body[-1500:]
    assert b"We tell the owners of the revoked certificates ourselves" \
        in body
    assert db(env, "SELECT count(*) FROM blocked_keys WHERE "
                   "lower(hex(spki_sha256)) = ?",
              fingerprint(key))[0][0] == 1
    assert db(env, "SELECT reason FROM revocations WHERE serial = ?",
              serial) == [(1,)]
    m = env.inbox.wait(lambda r, m: r == ["ops@limit-sub.example"])
    assert serial in body_of(m)

    # the five went out; no sixth was queued or sent
    for to in victim:
        env.inbox.wait(lambda r, m, to=to: r == [to])
    deadline = time.monotonic() + 15
    while db(env, "SELECT count(*) FROM mail_outbox WHERE kind = "
                  "'key.report' AND sent_at IS NULL")[0][0] and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    rows = db(env, "SELECT to_addr, sent_at IS NOT NULL FROM mail_outbox "
                   "WHERE kind = 'key.report' AND lower(to_addr) LIKE "
                   "'%target.example'")
    assert sorted(rows) == sorted((to, 1) for to in victim), rows
    assert "victim+again@target.example" not in env.inbox.rcpts
    audit = ok(["audit", "list", "--data", env.data])
    line = [x for x in audit.splitlines() if "key.report.mail" in x and
            fingerprint(key) in x]
    assert len(line) == 1 and "not sent: the address had its 5 " \
        "reports of the day" in line[0], audit[-2000:]

    # another address is mailed as before
    key = ec.generate_private_key(ec.SECP256R1())
    st, _, body = c.post_form("/report-key", {
        "proof": proof_of(key), "contact": "someone@target.example"})
    assert st == 200 and b"on its way to" in body, body[:300]
    env.inbox.wait(lambda r, m: r == ["someone@target.example"])
