# SPDX-License-Identifier: Apache-2.0
"""The subscribers of certificates revoked because their key is
compromised are told by mail, whichever path found the key compromised,
against a real SMTP server (aiosmtpd on loopback, smtp_rig) and real ACME
issuance (Knot DNS and an http-01 responder, acme_rig); and the portal's
certificate slot follows its certificate on each of these paths.

Each test gives one key a certificate of a portal order (the customer's
user hears of it) and one of an ACME order (the account's mailto:
contact), then revokes:
- with an ACME revokeCert signed by the certificate's key: whoever signed
  holds the key and may not be the subscriber, so every subscriber is
  told, the requested certificate's too;
- with the portal API, reason keyCompromise, a second portal certificate
  of the key going along: the customer hears of that one, not of the one
  it revoked itself; the ACME subscriber hears of its own;
- with the operator's `certdesk ca block-key`: every subscriber is told.
Each mail names its subscriber's certificates only; every message is
parsed with Python's email module. The slots (GET /api/v1/slots/{id})
and order overviews say revoked."""
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from acme_client import Client, Key, b64u, issue
from acme_client import store_rows as db
from conftest import ok
from portal_rig import PASSWORD
from portal_rig import Client as Browser
from smtp_rig import acme_with_mail
from test_portal_orders import make_csr

OWNER = "alice@shop-owner.example"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    def add_records(cli, ids):
        cust = cli("admin", "customer", "add", "--name", "Shop Owner Ltd")
        ids["contract"] = cli("admin", "contract", "add", "--customer",
                              cust, "--number", "S-0001")
        user = cli("admin", "user", "add", "--customer", cust, "--email",
                   OWNER, "--name", "Alice Owner", "--role", "customer",
                   "--password-stdin", input=PASSWORD + "\n")
        ids["token"] = cli("admin", "token", "add", "--user", user,
                           "--label", "test")

    with acme_with_mail(tmp_path_factory, "keyrevoke", add_records) as e:
        yield e


def cli(env, *args):
    return ok(list(args) + ["--data", env.data]).strip()


def browser(env):
    return Browser(env.server.https_port, env.root)


def body_of(m):
    return m.get_body(preferencelist=("plain",)).get_content().replace(
        "\r\n", "\n")


def portal_cert(env, domain, key):
    """A certificate of key for domain and www.domain, from a portal order
    in a new starter slot, issued by operator validation: (slot, order,
    serial)."""
    slot = cli(env, "admin", "slot", "add", "--contract",
               env.ids["contract"], "--product", "starter")
    cli(env, "admin", "domain", "add", "--contract", env.ids["contract"],
        "--name", domain)
    _, csr = make_csr([domain, "www." + domain], key)
    st, _, doc = browser(env).api(
        "POST", f"/api/v1/slots/{slot}/orders", token=env.ids["token"],
        body=json.dumps({"domain": domain, "purpose": "hosting",
                         "terms_accepted": True, "csr": csr}))
    assert st == 201, doc
    oid = doc["id"]
    assert cli(env, "admin", "validate", "--order", oid) == "issued"
    serial = db(env, "SELECT cert_serial FROM orders WHERE id = ?",
                oid)[0][0]
    return slot, oid, serial


def acme_cert(env, contact, name, key):
    """A certificate of key for name to a new ACME account with the
    contact: (client, serial, DER)."""
    c = Client(env.dir_url, env.root)
    r = c.new_account(contact=["mailto:" + contact])
    assert r.status == 201, r
    _, _, pem, _ = issue(env, c, [name], key=key)
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(
        serialization.Encoding.DER)
    serial = db(env, "SELECT serial FROM certificates WHERE names = ? "
                     "AND profile = 'dv'", name)[0][0]
    return c, serial, der


def slot_state(env, slot):
    st, _, doc = browser(env).api("GET", f"/api/v1/slots/{slot}",
                                  token=env.ids["token"])
    assert st == 200, doc
    return doc["state"]


def order_state(env, oid):
    st, _, doc = browser(env).api("GET", f"/api/v1/orders/{oid}",
                                  token=env.ids["token"])
    assert st == 200, doc
    return doc["state"]


def revoked_mail(env, to, name):
    """The mail to `to` about the revoked certificate for name."""
    return env.inbox.wait(
        lambda r, m: r == [to] and m["Subject"] ==
        f"Revoked: your SSL certificate for {name} (key compromised)")


def queued_about(env, to, name):
    """How many revocation mails to `to` name `name` in the subject (the
    outbox: queued with the revocations, whether sent yet or not)."""
    return db(env, "SELECT count(*) FROM mail_outbox WHERE kind = "
                   "'key.revoked' AND to_addr = ? AND subject LIKE ?",
              to, f"% {name} %")[0][0]


def test_acme_revocation_by_key(env):
    """RFC 8555 7.6 revokeCert signed by the certificate's key."""
    holder = "ops@holder-sub.example"
    key = ec.generate_private_key(ec.SECP256R1())
    slot, oid, pserial = portal_cert(env, "holder-shop.test", key)
    assert slot_state(env, slot) == "issued"
    c, aserial, der = acme_cert(env, holder, "holder-api.test", key)
    k = Key()
    k.priv = key
    r = c.post(c.dir["revokeCert"], {"certificate": b64u(der)}, key=k,
               use_jwk=True)
    assert r.status == 200, r
    # the slot follows its certificate, as the overview does
    assert order_state(env, oid) == "revoked"
    assert slot_state(env, slot) == "revoked"

    m = revoked_mail(env, OWNER, "holder-shop.test")
    assert m["To"] == OWNER and m["Bcc"] is None
    text = body_of(m)
    assert text.startswith("Hello Alice Owner,\n")
    assert pserial in text and f"/portal/orders/{oid}\n" in text
    assert "proved that they hold the key" in text
    assert "reason keyCompromise" in text
    assert aserial not in text and holder not in text
    # the requested certificate's subscriber is told too
    m = revoked_mail(env, holder, "holder-api.test")
    text = body_of(m)
    assert aserial in text and "ACME client" in text
    assert pserial not in text and OWNER not in text
    audit = cli(env, "audit", "list")
    line = [x for x in audit.splitlines() if "key.revoke.mail" in x and
            pserial in x]
    assert len(line) == 1 and "acme:certkey" in line[0] and \
        holder in line[0], audit[-2000:]


def test_portal_revocation_key_compromise(env):
    """The customer revokes one of its certificates for keyCompromise
    through the API: its other one of the key goes along."""
    other = "ops@other-sub.example"
    key = ec.generate_private_key(ec.SECP256R1())
    slot1, oid1, p1 = portal_cert(env, "pk-one.test", key)
    slot2, oid2, p2 = portal_cert(env, "pk-two.test", key)
    _, aserial, _ = acme_cert(env, other, "pk-api.test", key)
    st, _, doc = browser(env).api(
        "POST", f"/api/v1/orders/{oid1}/revoke", token=env.ids["token"],
        body=json.dumps({"reason": "keyCompromise"}))
    assert st == 200, doc
    assert doc["state"] == "revoked"

    m = revoked_mail(env, OWNER, "pk-two.test")
    text = body_of(m)
    assert p2 in text and f"/portal/orders/{oid2}\n" in text
    assert f"you revoked your certificate {p1}" in text
    assert f"Serial number: {p1}" not in text
    assert aserial not in text and other not in text
    m = revoked_mail(env, other, "pk-api.test")
    text = body_of(m)
    assert aserial in text
    assert "the holder of another certificate of the same key" in text
    for x in (p1, p2, "pk-one", "pk-two", OWNER):
        assert x not in text, x
    # not told about the certificate it revoked itself (queued in the
    # same transaction as the others: none is coming)
    assert queued_about(env, OWNER, "pk-one.test") == 0
    assert queued_about(env, OWNER, "pk-two.test") == 1
    # both slots follow their certificates, the one revoked along too
    assert slot_state(env, slot1) == "revoked"
    assert slot_state(env, slot2) == "revoked"
    assert order_state(env, oid2) == "revoked"


def test_operator_block_key(env, tmp_path):
    """certdesk ca block-key --csr: every subscriber told; the slot
    follows."""
    zed = "zed@block-sub.example"
    key = ec.generate_private_key(ec.SECP256R1())
    slot, oid, pserial = portal_cert(env, "blk-shop.test", key)
    _, aserial, _ = acme_cert(env, zed, "blk-api.test", key)
    proof = tmp_path / "proof.pem"
    proof.write_bytes(x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                      "leaked key")])).sign(
        key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    out = cli(env, "ca", "block-key", "--csr", proof, "--evidence",
              "posted on a paste site, ticket 4711")
    assert order_state(env, oid) == "revoked"
    assert slot_state(env, slot) == "revoked"
    assert out == ("key blocked; 2 certificates revoked; 2 mails to "
                   "subscribers queued"), out

    m = revoked_mail(env, OWNER, "blk-shop.test")
    text = body_of(m)
    assert pserial in text and "we found that the key is compromised" in text
    assert "paste site" not in text and aserial not in text
    m = revoked_mail(env, zed, "blk-api.test")
    text = body_of(m)
    assert aserial in text and pserial not in text
    rows = db(env, "SELECT sent_at IS NOT NULL FROM mail_outbox WHERE kind "
                   "= 'key.revoked' AND to_addr = ?", zed)
    assert rows == [(1,)], rows
    assert "audit log intact" in cli(env, "audit", "verify")
